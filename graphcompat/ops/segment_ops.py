"""Segment reductions, scatter_nd on variables, and the index utilities real models use:
`tf.segment_*`, `tf.unsorted_segment_mean/sqrt_n`, `tf.sparse_segment_*` (+ num_segments),
`tf.scatter_nd_update/add/sub`, `tf.tensor_scatter_update/add/sub`, `tf.batch_gather`, `tf.repeat`,
`tf.searchsorted`, `tf.unique_with_counts`, `tf.setdiff1d`, `tf.bincount`, `tf.confusion_matrix`.

Op types, attrs and names are TF's (gen_math_ops / gen_array_ops / gen_state_ops and the Python
compositions of math_ops.py, array_ops.py, bincount_ops.py, confusion_matrix.py). Lowerings:
lowering/rules/segment.py.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.framework.registry import (InferenceContext, apply_op, defop, format_shape, merge_shapes)
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math
from graphcompat.ops.indexing_ops import _check_scatter, broadcast_to, gather, sequence_mask
from graphcompat.ops.state_ops import _ref_of

REAL = _dt.REAL_NUMBER_TYPES
FLOAT = (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64)
INDEX = (_dt.int32, _dt.int64)

__all__ = ["segment_sum", "segment_mean", "segment_max", "segment_min", "segment_prod", "unsorted_segment_mean",
           "unsorted_segment_sqrt_n", "sparse_segment_sum", "sparse_segment_mean", "sparse_segment_sqrt_n",
           "scatter_nd_update", "scatter_nd_add", "scatter_nd_sub", "batch_scatter_update", "tensor_scatter_update",
           "tensor_scatter_add",
           "tensor_scatter_sub", "batch_gather", "repeat", "searchsorted", "unique_with_counts", "setdiff1d",
           "bincount", "confusion_matrix"]


# ------------------------------------------------------------------------------------------------
# Shape functions
# ------------------------------------------------------------------------------------------------
def _with_rank(ctx: InferenceContext, shape: _ts.TensorShape, rank: int) -> _ts.TensorShape:
    if shape.ndims is not None and shape.ndims != rank:
        raise ctx.error(f"Shape must be rank {rank} but is rank {shape.ndims}")
    return shape if shape.ndims is not None else _ts.unknown_shape(rank)


def _at_least_rank(ctx: InferenceContext, shape: _ts.TensorShape, rank: int) -> None:
    if shape.ndims is not None and shape.ndims < rank:
        raise ctx.error(f"Shape must be at least rank {rank} but is rank {shape.ndims}")


def _tail(shape: _ts.TensorShape):
    return None if shape.ndims is None else shape.as_list()[1:]


def _segment_reduction_shape(ctx: InferenceContext):
    """TF's SegmentReductionShapeFn: ids a vector, output [?] + data.shape[1:]."""
    data = ctx.shape(0)
    _at_least_rank(ctx, data, 1)
    _with_rank(ctx, ctx.shape(1), 1)
    tail = _tail(data)
    return [_ts.unknown_shape() if tail is None else _ts.TensorShape([None] + tail)]


def _sparse_segment_shape(ctx: InferenceContext):
    """TF's SparseSegmentReductionShapeFn (+ WithNumSegments): indices and ids equal-length vectors."""
    data = ctx.shape(0)
    _at_least_rank(ctx, data, 1)
    merge_shapes(ctx, _with_rank(ctx, ctx.shape(1), 1), _with_rank(ctx, ctx.shape(2), 1))
    first = None
    if len(ctx.inputs) == 4:
        n = ctx.shape(3)
        if n.ndims not in (None, 0):
            raise ctx.error(f"Shape must be rank 0 but is rank {n.ndims}")
        value = ctx.value(3)
        first = None if value is None else int(value)
    tail = _tail(data)
    return [_ts.unknown_shape() if tail is None else _ts.TensorShape([first] + tail)]


def _scatter_nd_update_shape(ctx: InferenceContext):
    _check_scatter(ctx, ctx.shape(1), ctx.shape(2), ctx.shape(0))
    return [ctx.shape(0)]


def _bound_shape(ctx: InferenceContext):
    """LowerBound/UpperBound: matrices (equal leading dims are a run-time check, as TF's kernel)."""
    _with_rank(ctx, ctx.shape(0), 2)
    return [_with_rank(ctx, ctx.shape(1), 2)]


def _vector_of_unknown(ctx: InferenceContext):
    _with_rank(ctx, ctx.shape(0), 1)
    return [_ts.TensorShape([None])] * len(ctx.output_dtypes)


def _unique_with_counts_shape(ctx: InferenceContext):
    x = _with_rank(ctx, ctx.shape(0), 1)
    return [_ts.TensorShape([None]), x, _ts.TensorShape([None])]


def _dense_bincount_shape(ctx: InferenceContext):
    arr, size, weights = ctx.shape(0), ctx.shape(1), ctx.shape(2)
    if arr.ndims is not None and arr.ndims > 2:
        raise ctx.error(f"Shape must be at most rank 2 but is rank {arr.ndims}")
    if size.ndims not in (None, 0):
        raise ctx.error(f"Shape must be rank 0 but is rank {size.ndims}")
    if weights.ndims not in (None, 0) and arr.ndims is not None and weights.ndims != arr.ndims \
            and weights.num_elements() != 0:
        raise ctx.error(f"Shapes must be equal rank, but are {weights.ndims} and {arr.ndims}")
    value = ctx.value(1)
    n = None if value is None else int(value)
    if arr.ndims == 2:
        return [_ts.TensorShape([arr.as_list()[0], n])]
    return [_ts.TensorShape([n]) if arr.ndims is not None else _ts.unknown_shape()]


# ------------------------------------------------------------------------------------------------
# Op definitions
# ------------------------------------------------------------------------------------------------
_SEGMENT_TYPES = {"T": REAL, "Tindices": INDEX}
for _op in ("SegmentSum", "SegmentMean", "SegmentMax", "SegmentMin", "SegmentProd"):
    defop(_op, "data: T, segment_ids: Tindices -> output: T", types=_SEGMENT_TYPES, shape=_segment_reduction_shape)

for _op, _types in (("SparseSegmentSum", REAL), ("SparseSegmentMean", FLOAT), ("SparseSegmentSqrtN", FLOAT)):
    _sparse_types = {"T": _types, "Tidx": INDEX, "Tsegmentids": INDEX}
    defop(_op, "data: T, indices: Tidx, segment_ids: Tsegmentids -> output: T", attrs={"sparse_gradient": False},
          types=_sparse_types, shape=_sparse_segment_shape)
    defop(_op + "WithNumSegments",
          "data: T, indices: Tidx, segment_ids: Tsegmentids, num_segments: Tnumsegments -> output: T",
          attrs={"sparse_gradient": False}, types=dict(_sparse_types, Tnumsegments=INDEX),
          shape=_sparse_segment_shape)

for _op in ("ScatterNdUpdate", "ScatterNdAdd", "ScatterNdSub", "ScatterNdMax", "ScatterNdMin"):
    defop(_op, "ref: Ref(T), indices: Tindices, updates: T -> output_ref: Ref(T)",
          attrs={"use_locking": _op == "ScatterNdUpdate", "bad_indices_policy": ""},
          types={"Tindices": INDEX}, shape=_scatter_nd_update_shape, loop=True)

for _op in ("LowerBound", "UpperBound"):
    defop(_op, "sorted_inputs: T, values: T -> output: out_type", attrs={"out_type": _dt.int32},
          types={"out_type": INDEX}, shape=_bound_shape)
defop("UniqueWithCounts", "x: T -> y: T, idx: out_idx, count: out_idx", attrs={"out_idx": _dt.int32},
      types={"out_idx": INDEX}, shape=_unique_with_counts_shape)
defop("ListDiff", "x: T, y: T -> out: T, idx: out_idx", attrs={"out_idx": _dt.int32},
      types={"out_idx": INDEX}, shape=_vector_of_unknown)
defop("SparseBincount", "indices: int64, values: Tidx, dense_shape: int64, size: Tidx, weights: T -> output: T",
      attrs={"binary_output": False}, types={"Tidx": INDEX, "T": (_dt.int32, _dt.int64, _dt.float32, _dt.float64)},
      shape=lambda ctx: [_ts.unknown_shape()])
defop("DenseBincount", "input: Tidx, size: Tidx, weights: T -> output: T", attrs={"binary_output": False},
      types={"Tidx": INDEX, "T": (_dt.int32, _dt.int64, _dt.float32, _dt.float64)}, shape=_dense_bincount_shape)


# ------------------------------------------------------------------------------------------------
# Segment reductions
# ------------------------------------------------------------------------------------------------
def _sorted_segment(op_type: str, tf_name: str):
    def build(data, segment_ids, name: Optional[str] = None) -> _ops.Tensor:
        return apply_op(op_type, [data, segment_ids], name=name)
    build.__name__ = tf_name
    build.__doc__ = (f"`tf.math.{tf_name}` ({op_type}): ids sorted ascending; output rows = last id + 1, "
                     f"empty segments hold 0 (1 for prod).")
    return build


segment_sum = _sorted_segment("SegmentSum", "segment_sum")
segment_mean = _sorted_segment("SegmentMean", "segment_mean")
segment_max = _sorted_segment("SegmentMax", "segment_max")
segment_min = _sorted_segment("SegmentMin", "segment_min")
segment_prod = _sorted_segment("SegmentProd", "segment_prod")


def _unsorted_segment_n(data: _ops.Tensor, segment_ids: _ops.Tensor, num_segments) -> _ops.Tensor:
    """Per-segment counts (at least 1), shaped to broadcast against the segment sums (TF's helper)."""
    from graphcompat.ops.special_math_ops import unsorted_segment_sum
    num_segments = convert_to_tensor(num_segments)
    ones_tensor = _array.ones(_array.shape(segment_ids), dtype=data.dtype)
    n = unsorted_segment_sum(ones_tensor, segment_ids, num_segments)
    rank_diff = _array.rank(data) - _array.rank(segment_ids)
    broadcastable_shape = _array.concat([num_segments[None], _array.ones([rank_diff], dtype=num_segments.dtype)],
                                        axis=0)
    n = _array.reshape(n, broadcastable_shape)
    return _math.maximum(n, 1)


def unsorted_segment_mean(data, segment_ids, num_segments, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.unsorted_segment_mean`: segment sums over per-segment counts (empty segments are 0)."""
    from graphcompat.ops.special_math_ops import unsorted_segment_sum
    with _ops.name_scope(name, "UnsortedSegmentMean"):
        data = convert_to_tensor(data)
        segment_ids = convert_to_tensor(segment_ids)
        n = _unsorted_segment_n(data, segment_ids, num_segments)
        summed = unsorted_segment_sum(data, segment_ids, num_segments)
        return _math.truediv(summed, n)


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.unsorted_segment_sqrt_n`: segment sums over sqrt(per-segment counts)."""
    from graphcompat.ops.special_math_ops import unsorted_segment_sum
    with _ops.name_scope(name, "UnsortedSegmentSqrtN"):
        data = convert_to_tensor(data)
        segment_ids = convert_to_tensor(segment_ids)
        n = _math.sqrt(_unsorted_segment_n(data, segment_ids, num_segments))
        summed = unsorted_segment_sum(data, segment_ids, num_segments)
        return _math.truediv(summed, n)


def _sparse_segment(op_type: str, tf_name: str):
    def build(data, indices, segment_ids, name: Optional[str] = None, num_segments=None) -> _ops.Tensor:
        if num_segments is not None:
            return apply_op(op_type + "WithNumSegments", [data, indices, segment_ids, num_segments], name=name)
        return apply_op(op_type, [data, indices, segment_ids], name=name)
    build.__name__ = tf_name
    build.__doc__ = (f"`tf.{tf_name}` ({op_type}, or {op_type}WithNumSegments given num_segments): reduces "
                     f"rows `data[indices]` by sorted `segment_ids`.")
    return build


sparse_segment_sum = _sparse_segment("SparseSegmentSum", "sparse_segment_sum")
sparse_segment_mean = _sparse_segment("SparseSegmentMean", "sparse_segment_mean")
sparse_segment_sqrt_n = _sparse_segment("SparseSegmentSqrtN", "sparse_segment_sqrt_n")


def _sparse_segment_with_num_segments(tf_name: str, build):
    def with_num_segments(data, indices, segment_ids, num_segments, name: Optional[str] = None) -> _ops.Tensor:
        return build(data, indices, segment_ids, name=name, num_segments=num_segments)
    with_num_segments.__name__ = tf_name
    with_num_segments.__doc__ = f"`tf.{tf_name}` (deprecated alias taking num_segments positionally)."
    return with_num_segments


sparse_segment_sum_with_num_segments = _sparse_segment_with_num_segments("sparse_segment_sum_with_num_segments",
                                                                         sparse_segment_sum)
sparse_segment_sqrt_n_with_num_segments = _sparse_segment_with_num_segments(
    "sparse_segment_sqrt_n_with_num_segments", sparse_segment_sqrt_n)


# ------------------------------------------------------------------------------------------------
# scatter_nd on variables, tensor_scatter aliases
# ------------------------------------------------------------------------------------------------
def _scatter_nd(op_type: str, tf_name: str):
    def scatter(ref, indices, updates, use_locking=None, name: Optional[str] = None):
        if getattr(ref, "_is_resource_variable", False):  # TF: Resource{op_type}, then the variable read
            return ref._scatter("Resource" + op_type, indices, updates, name)
        attrs = {} if use_locking is None else {"use_locking": bool(use_locking)}
        return apply_op(op_type, [_ref_of(ref), indices, updates], attrs, name=name)
    scatter.__name__ = tf_name
    scatter.__doc__ = (f"`tf.{tf_name}`: the {op_type} op on the elements/slices `indices` of a variable "
                       f"(Resource{op_type} for a resource variable).")
    return scatter


scatter_nd_update = _scatter_nd("ScatterNdUpdate", "scatter_nd_update")
scatter_nd_add = _scatter_nd("ScatterNdAdd", "scatter_nd_add")
scatter_nd_sub = _scatter_nd("ScatterNdSub", "scatter_nd_sub")
scatter_nd_max = _scatter_nd("ScatterNdMax", "scatter_nd_max")
scatter_nd_min = _scatter_nd("ScatterNdMin", "scatter_nd_min")


def batch_scatter_update(ref, indices, updates, use_locking: bool = True, name: Optional[str] = None):
    """`tf.batch_scatter_update`: scatter_update within each batch of leading dims (a ScatterNdUpdate whose
    indices prepend each element's batch coordinates, as TF composes it)."""
    with _ops.name_scope(name):
        indices = convert_to_tensor(indices, name="indices")
        indices_shape = _array.shape(indices)
        ndims = indices.shape.ndims
        if ndims is None:
            raise ValueError("batch_gather does not allow indices with unknown shape.")
        nd_indices = _array.expand_dims(indices, axis=-1)
        coordinates = []
        for dimension in range(ndims - 1):
            dimension_size = indices_shape[dimension]
            shape_to_broadcast = [1] * (ndims + 1)
            shape_to_broadcast[dimension] = dimension_size
            dimension_range = _array.reshape(_math.range(0, dimension_size, 1), shape_to_broadcast)
            if dimension_range.dtype.base_dtype != nd_indices.dtype.base_dtype:
                dimension_range = _math.cast(dimension_range, nd_indices.dtype.base_dtype)
            coordinates.append(dimension_range * _array.ones_like(nd_indices))
        coordinates.append(nd_indices)
        final_indices = _array.concat(coordinates, axis=-1)
        return scatter_nd_update(ref, final_indices, updates, use_locking=use_locking)


def _tensor_scatter(op_type: str, tf_name: str):
    def scatter(tensor, indices, updates, name: Optional[str] = None) -> _ops.Tensor:
        return apply_op(op_type, [tensor, indices, updates], name=name)
    scatter.__name__ = tf_name
    scatter.__doc__ = f"`tf.{tf_name}`: the {op_type} op (a new tensor; the input is unchanged)."
    return scatter


tensor_scatter_update = _tensor_scatter("TensorScatterUpdate", "tensor_scatter_update")
tensor_scatter_add = _tensor_scatter("TensorScatterAdd", "tensor_scatter_add")
tensor_scatter_sub = _tensor_scatter("TensorScatterSub", "tensor_scatter_sub")


# ------------------------------------------------------------------------------------------------
# Index utilities composed from other ops (TF's Python compositions)
# ------------------------------------------------------------------------------------------------
def batch_gather(params, indices, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.batch_gather`: gathers within each batch: result[b..., j] = params[b..., indices[b..., j]].

    Composed as TF does: batch offsets turn `indices` into indices of the flattened leading dims, so
    an out-of-range index reports its flat position and value as TF's GatherV2 does.
    """
    with _ops.name_scope(name, "BatchGather", [params, indices]):
        indices = convert_to_tensor(indices, name="indices")
        params = convert_to_tensor(params, name="params")
        if indices.shape.ndims is None:
            raise ValueError("batch_gather does not allow indices with unknown shape.")
        batch_dims = indices.shape.ndims - 1
        if params.shape.ndims is not None and batch_dims >= params.shape.ndims:
            raise ValueError(f"Argument `batch_dims` = {batch_dims} must be less than rank(`params`) = "
                             f"{params.shape.ndims}")
        if batch_dims == 0:
            return gather(params, indices)
        params_shape = _array.shape(params)
        indices_shape = _array.shape(indices)
        casted_params_shape = _math.cast(params_shape, indices.dtype)
        batch_indices = indices
        accum_dim_value = _array.ones((), dtype=indices.dtype)
        for dim in range(batch_dims, 0, -1):
            dim_value = casted_params_shape[dim - 1]
            accum_dim_value = accum_dim_value * casted_params_shape[dim]
            dim_indices = _math.range(_array.zeros((), dtype=indices.dtype), dim_value,
                                      _array.ones((), dtype=indices.dtype))
            dim_indices = dim_indices * accum_dim_value
            dim_shape = _array.stack([1] * (dim - 1) + [dim_value] + [1] * (batch_dims + 1 - dim), axis=0)
            batch_indices = batch_indices + _array.reshape(dim_indices, dim_shape)
        flat_indices = _array.reshape(batch_indices, [-1])
        outer_shape = params_shape[batch_dims + 1:]
        flat_inner_shape = _math.reduce_prod(params_shape[:batch_dims + 1], [0], False)
        flat_params = _array.reshape(params, _array.concat([[flat_inner_shape], outer_shape], axis=0))
        flat_result = gather(flat_params, flat_indices)
        result = _array.reshape(flat_result, _array.concat([indices_shape, outer_shape], axis=0))
        if params.shape.ndims is not None:
            result.set_shape(indices.shape.concatenate(params.shape.as_list()[batch_dims + 1:]))
        return result


def _positive_axis(axis: int, ndims: Optional[int]) -> int:
    if ndims is not None:
        if 0 <= axis < ndims:
            return axis
        if -ndims <= axis < 0:
            return axis + ndims
        raise ValueError(f"axis={axis} out of bounds: expected {-ndims}<=axis<{ndims}")
    if axis < 0:
        raise ValueError("axis may only be negative if rank(data) is statically known.")
    return axis


def _tile_one_dimension(data: _ops.Tensor, axis: int, multiple) -> _ops.Tensor:
    if data.shape.ndims is not None:
        multiples = [1] * data.shape.ndims
        multiples[axis] = multiple
    else:
        ones_value = _array.ones(_array.rank(data), _dt.int32)
        multiples = _array.concat([ones_value[:axis], [multiple], ones_value[axis + 1:]], axis=0)
    return _array.tile(data, multiples)


def repeat(input, repeats, axis=None, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.repeat`: numpy.repeat. Scalar repeats tile (static shape); a vector masks a tiled copy."""
    from graphcompat.ops.data_dependent_ops import boolean_mask
    if axis is None:
        input = _array.reshape(input, [-1])
        axis = 0
    if not isinstance(axis, int):
        raise TypeError(f"Argument `axis` must be an int. Received `axis` = {axis} of type {type(axis).__name__}")
    with _ops.name_scope(name, "Repeat", [input, repeats]):
        data = convert_to_tensor(input, name="data")
        repeats = _math.cast(convert_to_tensor(repeats, name="repeats"), _dt.int32)
        if repeats.shape.ndims is not None and repeats.shape.ndims > 1:
            raise ValueError(f"Shape {repeats.shape} must have rank at most 1")
        if data.shape.ndims == 0:
            data = _array.reshape(data, [1])
        data_shape = _array.shape(data)
        axis = _positive_axis(axis, data.shape.ndims)
        if repeats.shape.num_elements() == 1:
            repeats = _array.reshape(repeats, np.zeros([0], np.int32))
            expanded = _array.expand_dims(data, axis + 1)
            tiled = _tile_one_dimension(expanded, axis + 1, repeats)
            result_shape = _array.concat([data_shape[:axis], [repeats * data_shape[axis]], data_shape[axis + 1:]],
                                         axis=0)
            return _array.reshape(tiled, result_shape)
        if repeats.shape.ndims == 1 and data.shape.ndims is not None:
            data.shape.dims[axis].assert_is_compatible_with(repeats.shape[0])
        repeats = broadcast_to(repeats, [data_shape[axis]])
        repeats_original = repeats
        if axis > 0:
            broadcast_shape = _array.concat([data_shape[:axis], _array.shape(repeats)], axis=0)
            repeats = broadcast_to(repeats, broadcast_shape)
            repeats.set_shape([None] * (axis + 1))
        max_repeat = _math.reduce_max(repeats)
        max_repeat = _math.maximum(convert_to_tensor(0, name="zero", dtype=max_repeat.dtype), max_repeat)
        mask = sequence_mask(repeats, max_repeat)
        tiled = _tile_one_dimension(_array.expand_dims(data, axis + 1), axis + 1, max_repeat)
        result = boolean_mask(tiled, mask)
        if axis != 0:
            repeated_dim_size = _math.reduce_sum(repeats_original)
            result = _array.reshape(result, _array.concat([data_shape[:axis], [repeated_dim_size],
                                                           data_shape[axis + 1:]], axis=0))
        if data.shape.ndims is not None:
            dims = data.shape.as_list()
            dims[axis] = None
            result.set_shape(dims)
        return result


def searchsorted(sorted_sequence, values, side: str = "left", out_type=_dt.int32,
                 name: Optional[str] = None) -> _ops.Tensor:
    """`tf.searchsorted`: LowerBound ('left') / UpperBound ('right') per row of the innermost dimension."""
    sorted_sequence = convert_to_tensor(sorted_sequence)
    values = convert_to_tensor(values)
    sequence_size = _array.shape(sorted_sequence)[-1]
    values_size = _array.shape(values)[-1]
    sorted_sequence_2d = _array.reshape(sorted_sequence, [-1, sequence_size])
    values_2d = _array.reshape(values, [-1, values_size])
    if side == "right":
        op_type = "UpperBound"
    elif side == "left":
        op_type = "LowerBound"
    else:
        raise ValueError("Argument `side` must be either 'right' or 'left'. Received: `side` = '{side}'.")
    output = apply_op(op_type, [sorted_sequence_2d, values_2d], {"out_type": _dt.as_dtype(out_type)}, name=name)
    result = _array.reshape(output, _array.shape(values))
    result.set_shape(values.shape)
    return result


def unique_with_counts(x, out_idx=_dt.int32, name: Optional[str] = None):
    """`tf.unique_with_counts`: (y, idx, count), y in order of first occurrence."""
    y, idx, count = apply_op("UniqueWithCounts", [x], {"out_idx": _dt.as_dtype(out_idx)}, name=name)
    return UniqueWithCounts(y, idx, count)


def setdiff1d(x, y, index_dtype=_dt.int32, name: Optional[str] = None):
    """`tf.setdiff1d` (ListDiff): the values of `x` not in `y`, in order, with their positions in `x`."""
    out, idx = apply_op("ListDiff", [x, y], {"out_idx": _dt.as_dtype(index_dtype)}, name=name)
    return ListDiff(out, idx)


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=_dt.int32,
             name: Optional[str] = None) -> _ops.Tensor:
    """`tf.bincount` (v1): counts of each value in `arr` (a DenseBincount of size max(arr) + 1, clamped
    by minlength/maxlength); `weights` sums weights instead of counting."""
    with _ops.name_scope(name, "bincount", [arr, weights, minlength, maxlength]):
        arr = convert_to_tensor(arr, name="arr", dtype=_dt.int32)
        array_is_nonempty = _array.size(arr) > 0
        output_size = _math.cast(array_is_nonempty, _dt.int32) * (_math.reduce_max(arr) + 1)
        if minlength is not None:
            minlength = convert_to_tensor(minlength, name="minlength", dtype=_dt.int32)
            output_size = _math.maximum(minlength, output_size)
        if maxlength is not None:
            maxlength = convert_to_tensor(maxlength, name="maxlength", dtype=_dt.int32)
            output_size = _math.minimum(maxlength, output_size)
        if weights is not None:
            weights = convert_to_tensor(weights, name="weights")
            dtype = weights.dtype
            weights = _array.reshape(weights, [-1])
        else:
            weights = constant([], _dt.as_dtype(dtype))
        arr = _array.reshape(arr, [-1])
        return apply_op("DenseBincount", [arr, output_size, weights], {"binary_output": False},
                        name="DenseBincount")


def remove_squeezable_dimensions(labels, predictions, expected_rank_diff: int = 0, name: Optional[str] = None):
    """TF's confusion_matrix.remove_squeezable_dimensions: squeeze the last dimension (of size 1) of the
    operand whose rank exceeds the expected difference by one; static ranks decide at build time, else a
    cond on the run-time ranks."""
    from graphcompat.ops.control_flow_ops import cond
    with _ops.name_scope(name, "remove_squeezable_dimensions", [labels, predictions]):
        predictions = convert_to_tensor(predictions)
        labels = convert_to_tensor(labels)
        p_shape, l_shape = predictions.shape, labels.shape
        p_rank, l_rank = p_shape.ndims, l_shape.ndims
        if l_rank is not None and p_rank is not None:
            diff = p_rank - l_rank
            if diff == expected_rank_diff + 1 and p_shape.dims[-1].is_compatible_with(1):
                predictions = _array.squeeze(predictions, [-1])
            elif diff == expected_rank_diff - 1 and l_shape.dims[-1].is_compatible_with(1):
                labels = _array.squeeze(labels, [-1])
            return labels, predictions
        rank_diff = _array.rank(predictions) - _array.rank(labels)
        if p_rank is None or p_shape.dims[-1].is_compatible_with(1):
            squeezable = predictions
            predictions = cond(_math.equal(expected_rank_diff + 1, rank_diff),
                               lambda: _array.squeeze(squeezable, [-1]), lambda: squeezable)
        if l_rank is None or l_shape.dims[-1].is_compatible_with(1):
            squeezable_labels = labels
            labels = cond(_math.equal(expected_rank_diff - 1, rank_diff),
                          lambda: _array.squeeze(squeezable_labels, [-1]), lambda: squeezable_labels)
        return labels, predictions


def confusion_matrix(labels, predictions, num_classes=None, dtype=_dt.int32, name: Optional[str] = None,
                     weights=None) -> _ops.Tensor:
    """`tf.confusion_matrix`: [num_classes, num_classes] counts of (label, prediction) pairs (ScatterNd)."""
    from graphcompat.ops import check_ops
    from graphcompat.ops.control_ops import with_dependencies
    from graphcompat.ops.indexing_ops import scatter_nd
    with _ops.name_scope(name, "confusion_matrix", (predictions, labels, num_classes, weights)) as name:
        labels, predictions = remove_squeezable_dimensions(convert_to_tensor(labels, name="labels"),
                                                           convert_to_tensor(predictions, name="predictions"))
        # TF casts predictions first: the Cast ops' names (and the asserts' messages naming them) follow
        predictions = _math.cast(predictions, _dt.int64)
        labels = _math.cast(labels, _dt.int64)
        labels = with_dependencies([check_ops.assert_non_negative(labels, message="`labels` contains negative "
                                                                                  "values")], labels)
        predictions = with_dependencies([check_ops.assert_non_negative(
            predictions, message="`predictions` contains negative values")], predictions)
        if num_classes is None:
            num_classes = _math.maximum(_math.reduce_max(predictions), _math.reduce_max(labels)) + 1
        else:
            num_classes_int64 = _math.cast(num_classes, _dt.int64)
            labels = with_dependencies([check_ops.assert_less(labels, num_classes_int64,
                                                              message="`labels` out of bound")], labels)
            predictions = with_dependencies([check_ops.assert_less(
                predictions, num_classes_int64, message="`predictions` out of bound")], predictions)
        if weights is not None:
            weights = convert_to_tensor(weights, name="weights")
            if not predictions.shape.is_compatible_with(weights.shape):
                raise ValueError(f"Shapes {predictions.shape} and {weights.shape} are incompatible")
            weights = _math.cast(weights, dtype)
        shape = _array.stack([num_classes, num_classes])
        indices = _array.stack([labels, predictions], axis=1)
        values = _array.ones_like(predictions, dtype) if weights is None else weights
        return scatter_nd(indices=indices, updates=values, shape=_math.cast(shape, _dt.int64))


import collections as _collections  # noqa: E402

UniqueWithCounts = _collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])
ListDiff = _collections.namedtuple("ListDiff", ["out", "idx"])
