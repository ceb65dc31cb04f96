"""Partitioners (`tf.fixed_size_partitioner`, `tf.variable_axis_size_partitioner`,
`tf.min_max_variable_partitioner`) and `tf.create_partitioned_variables`, as in TF's
python/ops/partitioned_variables.py.

A partitioner is `fn(shape: TensorShape, dtype) -> list` of how many parts to cut each axis into (one
axis at most); `tf.get_variable(..., partitioner=fn)` and `tf.variable_scope(partitioner=fn)` use it
(graphcompat/variable_scope.py creates the parts).
"""
from __future__ import annotations

import math

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts


def variable_axis_size_partitioner(max_shard_bytes, axis=0, bytes_per_string_element=16, max_shards=None):
    """Parts of at most `max_shard_bytes` each along `axis` (at most `max_shards` of them)."""
    if max_shard_bytes < 1 or bytes_per_string_element < 1:
        raise ValueError("Both max_shard_bytes and bytes_per_string_element must be positive. "
                         f"Currently, max_shard_bytes is {max_shard_bytes} and"
                         f"bytes_per_string_element is {bytes_per_string_element}")
    if max_shards and max_shards < 1:
        raise ValueError("max_shards must be positive.")

    def _partitioner(shape, dtype):
        if not isinstance(shape, _ts.TensorShape):
            raise ValueError(f"shape is not a TensorShape: {shape}")
        if not shape.is_fully_defined():
            raise ValueError(f"shape is not fully defined: {shape}")
        dtype = _dt.as_dtype(dtype)
        element_size = bytes_per_string_element if dtype.base_dtype == _dt.string else dtype.size
        partitions = [1] * shape.ndims
        axis_dim = _ts.dimension_value(shape.dims[axis])
        bytes_per_slice = 1.0 * (shape.num_elements() / axis_dim) * element_size
        slices_per_shard = max(1, math.floor(max_shard_bytes / bytes_per_slice))
        axis_shards = int(math.ceil(1.0 * axis_dim / slices_per_shard))
        if max_shards:
            axis_shards = min(max_shards, axis_shards)
        partitions[axis] = axis_shards
        return partitions

    return _partitioner


def min_max_variable_partitioner(max_partitions=1, axis=0, min_slice_size=256 << 10, bytes_per_string_element=16):
    """Parts of at least `min_slice_size` bytes along `axis`, at most `max_partitions` of them."""

    def _partitioner(shape, dtype):
        if axis >= len(shape):
            raise ValueError(f"Cannot partition variable along axis {axis} when shape is only {shape}")
        dtype = _dt.as_dtype(dtype)
        bytes_per_element = bytes_per_string_element if dtype.base_dtype == _dt.string else dtype.size
        total_size_bytes = shape.num_elements() * bytes_per_element
        partitions = total_size_bytes / min_slice_size
        partitions_list = [1] * len(shape)
        partitions_list[axis] = max(1, min(_ts.dimension_value(shape.dims[axis]), max_partitions,
                                           int(math.ceil(partitions))))
        return partitions_list

    return _partitioner


def fixed_size_partitioner(num_shards, axis=0):
    """`num_shards` parts along `axis` (fewer when the axis is shorter)."""

    def _partitioner(shape, **unused_args):
        partitions_list = [1] * len(shape)
        partitions_list[axis] = min(num_shards, _ts.dimension_value(shape.dims[axis]))
        return partitions_list

    return _partitioner


def create_partitioned_variables(shape, slicing, initializer, dtype=_dt.float32, trainable=True, collections=None,
                                 name=None, reuse=None):
    """The list of parts of a variable of `shape` cut as `slicing` says (deprecated in TF: use
    `tf.get_variable` with a partitioner)."""
    import importlib  # `graphcompat.variable_scope` is also the name of the class tf exports
    vs = importlib.import_module("graphcompat.variable_scope")
    if len(shape) != len(slicing):
        raise ValueError("The 'shape' and 'slicing' of a partitioned Variable "
                         f"must have the length: shape: {shape}, slicing: {slicing}")
    if len(shape) < 1:
        raise ValueError(f"A partitioned Variable must have rank at least 1: shape: {shape}")

    def partitioner(**unused_kwargs):
        return slicing

    with vs.variable_scope(name, "PartitionedVariable", reuse=reuse):
        partitioned = vs._get_partitioned_variable(name=None, shape=shape, dtype=dtype, initializer=initializer,
                                                   trainable=trainable, partitioner=partitioner,
                                                   collections=collections)
        return list(partitioned)
