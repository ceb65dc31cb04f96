"""`tf.sets`: set operations along the last dimension of dense or sparse tensors (TF's set_ops.py).

Each op type is one `defop`; the kernels (lowering/rules/sets.py) run on the host, since the result's size
depends on the values. Results are SparseTensors whose rows hold the sorted result sets, as in TF.
"""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop, format_shape
from graphcompat.ops.sparse_tensor import SparseTensor

_VALID = (_dt.int8, _dt.int16, _dt.int32, _dt.int64, _dt.uint8, _dt.uint16, _dt.string)
_VALID_TEXT = "frozenset({tf.int32, tf.uint8, tf.int16, tf.int8, tf.string, tf.int64, tf.uint16})"


def _rank_of_output(ctx: InferenceContext, first: _ts.TensorShape) -> list:
    rank = first.ndims
    shape_dim = None if rank is None else rank
    return [_ts.TensorShape([None, shape_dim]), _ts.TensorShape([None]), _ts.TensorShape([shape_dim])]


def _dense_dense_shape(ctx: InferenceContext):
    a, b = ctx.shape(0), ctx.shape(1)
    for s in (a, b):
        if s.ndims is not None and s.ndims < 2:
            raise ctx.error(f"Shape must be at least rank 2 but is rank {s.ndims}")
    if a.ndims is not None and b.ndims is not None:
        if a.ndims != b.ndims:
            raise ctx.error(f"Shape must be rank {a.ndims} but is rank {b.ndims}")
        ga, gb = a.as_list()[:-1], b.as_list()[:-1]
        for k, (x, y) in enumerate(zip(ga, gb)):
            if x is not None and y is not None and x != y:
                raise ctx.error(f"Dimension {k} in both shapes must be equal, but are {x} and {y}. Shapes are "
                                f"{format_shape(_ts.TensorShape(ga))} and {format_shape(_ts.TensorShape(gb))}.")
    return _rank_of_output(ctx, a)


def _dense_sparse_shape(ctx: InferenceContext):
    a = ctx.shape(0)
    if a.ndims is not None and a.ndims < 2:
        raise ctx.error(f"Shape must be at least rank 2 but is rank {a.ndims}")
    return _rank_of_output(ctx, a)


def _sparse_sparse_shape(ctx: InferenceContext):
    rank = ctx.shape(2)[0].value if ctx.shape(2).ndims == 1 else None
    return [_ts.TensorShape([None, rank]), _ts.TensorShape([None]), _ts.TensorShape([rank])]


def _set_size_shape(ctx: InferenceContext):
    return [_ts.unknown_shape()]


_ATTRS = {"set_operation": "", "validate_indices": True}
defop("DenseToDenseSetOperation", "set1: T, set2: T -> result_indices: int64, result_values: T, result_shape: int64",
      attrs=dict(_ATTRS), types={"T": _VALID}, shape=_dense_dense_shape)
defop("DenseToSparseSetOperation", "set1: T, set2_indices: int64, set2_values: T, set2_shape: int64 -> "
      "result_indices: int64, result_values: T, result_shape: int64", attrs=dict(_ATTRS), types={"T": _VALID},
      shape=_dense_sparse_shape)
defop("SparseToSparseSetOperation", "set1_indices: int64, set1_values: T, set1_shape: int64, set2_indices: int64, "
      "set2_values: T, set2_shape: int64 -> result_indices: int64, result_values: T, result_shape: int64",
      attrs=dict(_ATTRS), types={"T": _VALID}, shape=_sparse_sparse_shape)
defop("SetSize", "set_indices: int64, set_values: T, set_shape: int64 -> size: int32",
      attrs={"validate_indices": True}, types={"T": _VALID}, shape=_set_size_shape)


def _convert(value, name: str):
    from graphcompat.tf1_misc import convert_to_tensor_or_sparse_tensor
    return convert_to_tensor_or_sparse_tensor(value, name=name)


def _pair(a, b):
    a = _convert(a, "a")
    if a.dtype.base_dtype not in _VALID:
        raise TypeError(f"'a' has invalid dtype `{a.dtype}` not in supported dtypes: `{_VALID_TEXT}`.")
    b = _convert(b, "b")
    if b.dtype.base_dtype != a.dtype.base_dtype:
        raise TypeError(f"Types don't match, {a.dtype} vs {b.dtype}.")
    if isinstance(a, SparseTensor) and not isinstance(b, SparseTensor):
        return b, a, True
    return a, b, False


def _set_operation(a, b, operation: str, validate_indices: bool) -> SparseTensor:
    attrs = {"set_operation": operation, "validate_indices": bool(validate_indices)}
    if isinstance(a, SparseTensor):
        if not isinstance(b, SparseTensor):
            raise ValueError("Sparse,Dense is not supported, but Dense,Sparse is. Please flip the order of your "
                             "inputs.")
        out = apply_op("SparseToSparseSetOperation", [a.indices, a.values, a.dense_shape, b.indices, b.values,
                                                      b.dense_shape], attrs)
    elif isinstance(b, SparseTensor):
        out = apply_op("DenseToSparseSetOperation", [a, b.indices, b.values, b.dense_shape], attrs)
    else:
        out = apply_op("DenseToDenseSetOperation", [a, b], attrs)
    return SparseTensor(*out)


def set_size(a, validate_indices: bool = True) -> _ops.Tensor:
    """`tf.sets.size`: the number of unique elements in each set (last dimension) of a SparseTensor."""
    a = _convert(a, "a")
    if not isinstance(a, SparseTensor):
        raise TypeError(f"Expected `SparseTensor`, got {a}.")
    if a.values.dtype.base_dtype not in _VALID:
        raise TypeError(f"Invalid dtype `{a.values.dtype}` not in supported dtypes: `{_VALID_TEXT}`.")
    return apply_op("SetSize", [a.indices, a.values, a.dense_shape], {"validate_indices": bool(validate_indices)})


def set_intersection(a, b, validate_indices: bool = True) -> SparseTensor:
    """`tf.sets.intersection`: per set (last dimension), the sorted elements in both a and b."""
    a, b, _ = _pair(a, b)
    return _set_operation(a, b, "intersection", validate_indices)


def set_union(a, b, validate_indices: bool = True) -> SparseTensor:
    """`tf.sets.union`: per set (last dimension), the sorted elements in a or b."""
    a, b, _ = _pair(a, b)
    return _set_operation(a, b, "union", validate_indices)


def set_difference(a, b, aminusb: bool = True, validate_indices: bool = True) -> SparseTensor:
    """`tf.sets.difference`: per set, the sorted elements of a not in b (b not in a when not `aminusb`)."""
    a, b, flipped = _pair(a, b)
    if flipped:
        aminusb = not aminusb
    return _set_operation(a, b, "a-b" if aminusb else "b-a", validate_indices)


__all__ = ["set_size", "set_intersection", "set_union", "set_difference"]
