"""`tf.sparse.bincount`: counts of integer values as a SparseTensor, through TF's DenseCountSparseOutput /
SparseCountSparseOutput ops (what TF 2.21's compat.v1 `tf.sparse.bincount` records). Lowerings (host:
the output size depends on the values): lowering/rules/counts.py.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop, merge_shapes
from graphcompat.ops.sparse_tensor import SparseTensor

_COUNT_ATTRS = {"minlength": -1, "maxlength": -1, "binary_output": False}
_COUNT_TYPES = {"T": (_dt.int32, _dt.int64), "output_type": (_dt.int32, _dt.int64, _dt.float32, _dt.float64)}


def _count_shape(rank_of, values_at: int):
    """TF's shape function: indices [?, rank], values [?], dense_shape [rank] (rank = the batch rank + 1);
    weights that are not known to be empty must have the values' shape."""
    def shape(ctx: InferenceContext):
        weights = ctx.shape(len(ctx.inputs) - 1)
        if not (weights.is_fully_defined() and weights.num_elements() == 0):
            merge_shapes(ctx, weights, ctx.shape(values_at))
        rank = rank_of(ctx)
        return [_ts.TensorShape([None, rank]), _ts.TensorShape([None]), _ts.TensorShape([rank])]
    return shape


defop("DenseCountSparseOutput", "values: T, weights: output_type -> output_indices: int64, "
      "output_values: output_type, output_dense_shape: int64", attrs=dict(_COUNT_ATTRS), types=_COUNT_TYPES,
      shape=_count_shape(lambda ctx: ctx.shape(0).ndims, 0))
defop("SparseCountSparseOutput", "indices: int64, values: T, dense_shape: int64, weights: output_type -> "
      "output_indices: int64, output_values: output_type, output_dense_shape: int64", attrs=dict(_COUNT_ATTRS),
      types=_COUNT_TYPES, shape=_count_shape(lambda ctx: _ts.dimension_value(ctx.shape(2)[0])
                                             if ctx.shape(2).ndims == 1 else None, 1))


def _sparse_weights(values: SparseTensor, weights):
    """TF's validate_sparse_weights: the weights' values, after checks that they sit where the values do."""
    from graphcompat.ops import array_ops, check_ops
    if weights is None:
        return constant([], dtype=values.values.dtype)
    if not isinstance(weights, SparseTensor):
        raise ValueError("Argument `weights` must be a SparseTensor if `values` is a SparseTensor. Received "
                         f"weights={weights} of type: {type(weights).__name__}")
    checks = []
    if weights.dense_shape is not values.dense_shape:
        checks.append(check_ops.assert_equal(weights.dense_shape, values.dense_shape,
                                             message="'weights' and 'values' must have the same dense shape."))
    if weights.indices is not values.indices:
        checks.append(check_ops.assert_equal(weights.indices, values.indices,
                                             message="'weights' and 'values' must have the same indices."))
    if not checks:
        return weights.values
    with _ops.control_dependencies(checks):
        return array_ops.identity(weights.values)


def _dense_weights(values, weights):
    """TF's bincount_ops.validate_dense_weights: no weights are an empty tensor of the values' dtype."""
    if weights is None:
        return constant([], dtype=values.dtype)
    if not isinstance(weights, _ops.Tensor):
        raise ValueError("Argument `weights` must be a tf.Tensor if `values` is a tf.Tensor. Received "
                         f"weights={weights} of type: {type(weights).__name__}")
    return weights


def sparse_bincount(values, weights=None, axis=0, minlength=None, maxlength=None, binary_output: bool = False,
                    name: Optional[str] = None) -> SparseTensor:
    """`tf.sparse.bincount`: how often each value occurs (per row with `axis=-1`), as a SparseTensor."""
    from graphcompat.ops import array_ops
    from graphcompat.ragged.ragged_tensor import RaggedTensor
    if isinstance(values, RaggedTensor) or isinstance(weights, RaggedTensor):
        raise NotImplementedError("tf.sparse.bincount of a RaggedTensor (RaggedCountSparseOutput) is not "
                                  "supported by graphcompat")
    with _ops.name_scope(name, "count", [values, weights]):
        if not isinstance(values, SparseTensor):
            values = convert_to_tensor(values, name="values")
        if weights is not None and not isinstance(weights, SparseTensor):
            weights = convert_to_tensor(weights, name="weights")
        if weights is not None and binary_output:
            raise ValueError("Arguments `binary_output` and `weights` are mutually exclusive. Please specify "
                             "only one.")
        if axis is None:
            axis = 0
        if axis not in [0, -1]:
            raise ValueError(f"Unsupported value for argument axis={axis}. Only 0 and -1 are currently supported.")
        attrs = {"minlength": -1 if minlength is None else minlength,
                 "maxlength": -1 if maxlength is None else maxlength, "binary_output": binary_output}
        if axis == 0:
            if isinstance(values, SparseTensor):
                if weights is not None:
                    weights = _sparse_weights(values, weights)
                values = values.values
            else:
                if weights is not None:
                    weights = array_ops.reshape(weights, [-1])
                values = array_ops.reshape(values, [-1])
        if isinstance(values, SparseTensor):
            weights = _sparse_weights(values, weights)
            outputs = apply_op("SparseCountSparseOutput", [values.indices, values.values, values.dense_shape,
                                                           weights], attrs)
        else:
            weights = _dense_weights(values, weights)
            outputs = apply_op("DenseCountSparseOutput", [values, weights], attrs)
        return SparseTensor(*outputs)
