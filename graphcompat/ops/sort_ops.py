"""Sorting: `tf.nn.top_k` (TopKV2) and `tf.sort` / `tf.argsort`, composed from TopKV2 as TF does."""
from __future__ import annotations

import collections
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, constant_value, convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop

__all__ = ["top_k", "sort", "argsort"]

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def _top_k_shape(ctx: InferenceContext):
    s, k = ctx.shape(0), ctx.value(1)
    if ctx.shape(1).ndims not in (None, 0):
        raise ctx.error(f"Shape must be rank 0 but is rank {ctx.shape(1).ndims}")
    if s.ndims is None:
        return [_ts.unknown_shape()] * 2
    if s.ndims < 1:
        raise ctx.error("Shape must be at least rank 1 but is rank 0")
    d = s.as_list()
    if k is not None:
        k = int(k)
        if k < 0:
            raise ctx.error(f"input must be non-negative, got {k}")
        if d[-1] is not None and d[-1] < k:
            raise ctx.error(f"input must have last dimension >= k = {k} but is {d[-1]}")
    out = _ts.TensorShape(d[:-1] + [k])
    return [out, out]


defop("TopKV2", "input: T, k: Tk -> values: T, indices: index_type",
      attrs={"sorted": True, "index_type": _dt.int32}, types={"Tk": (_dt.int16, _dt.int32, _dt.int64)},
      shape=_top_k_shape)


def top_k(input, k=1, sorted: bool = True, name: Optional[str] = None, index_type=_dt.int32) -> TopKV2:
    """`tf.nn.top_k` / `tf.math.top_k`: (values, indices) of the k largest along the last axis."""
    values, indices = apply_op("TopKV2", [input, k], {"sorted": bool(sorted),
                                                      "index_type": _dt.as_dtype(index_type)}, name=name)
    return TopKV2(values, indices)


def _descending_sort(values: _ops.Tensor, axis: int, return_argsort: bool):
    from graphcompat.ops.array_ops import rank, shape, transpose
    k = shape(values)[axis]
    rank(values)
    static_rank = values.shape.ndims
    if axis == -1 or (static_rank is not None and axis + 1 == static_rank):
        top_k_input, transposition = values, None
    else:
        if static_rank is None:
            raise NotImplementedError("tf.sort along a non-last axis of a tensor of unknown rank")
        if axis < 0:
            axis += static_rank
        transposition = constant(np.r_[np.arange(axis), [static_rank - 1], np.arange(axis + 1, static_rank - 1),
                                       [axis]], name="transposition")  # int64, as TF
        top_k_input = transpose(values, transposition)
    vals, indices = top_k(top_k_input, k)
    result = indices if return_argsort else vals
    if transposition is not None:
        result = transpose(result, transposition)
    return result


def _ascending_sort(values: _ops.Tensor, axis: int, return_argsort: bool):
    dtype = values.dtype.base_dtype
    if dtype.is_unsigned:
        offset = constant(dtype.max, dtype=dtype)
        out = _descending_sort(offset - values, axis, return_argsort)
        return out if return_argsort else offset - out
    if dtype.is_integer:  # -x - 1 maps dtype.min to dtype.max and keeps the sort stable
        out = _descending_sort(-values - 1, axis, return_argsort)
        return out if return_argsort else -out - 1
    out = _descending_sort(-values, axis, return_argsort)
    return out if return_argsort else -out


_SORT_IMPL = {"ASCENDING": _ascending_sort, "DESCENDING": _descending_sort}


def _sort_or_argsort(values, axis, direction: str, return_argsort: bool):
    if direction not in _SORT_IMPL:
        raise ValueError(f"{direction} should be one of {', '.join(sorted(_SORT_IMPL))}")
    axis = convert_to_tensor(axis, name="axis")
    axis_static = constant_value(axis)
    if axis.shape.ndims not in (None, 0) or axis_static is None:
        raise ValueError("axis must be a constant scalar")
    values = convert_to_tensor(values, name="values")
    return _SORT_IMPL[direction](values, int(axis_static), return_argsort)


def sort(values, axis=-1, direction: str = "ASCENDING", name: Optional[str] = None) -> _ops.Tensor:
    with _ops.name_scope(name, "sort"):
        return _sort_or_argsort(values, axis, direction, return_argsort=False)


def argsort(values, axis=-1, direction: str = "ASCENDING", stable: bool = False,
            name: Optional[str] = None) -> _ops.Tensor:
    """`tf.argsort` (int32 indices); TopKV2 keeps equal elements in index order, so it is stable."""
    del stable
    with _ops.name_scope(name, "argsort"):
        return _sort_or_argsort(values, axis, direction, return_argsort=True)
