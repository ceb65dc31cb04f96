"""Slicing: `tf.slice` (Slice), `tf.strided_slice` (StridedSlice) and `Tensor.__getitem__`.

The spec's semantics (TF's ValidateStridedSliceOp) live in graphcompat/framework/strided_slice.py, shared
with the lowering rules.
"""
from __future__ import annotations

import builtins
import numbers
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, constant_value
from graphcompat.framework.registry import InferenceContext, apply_op, defop, register_folders

__all__ = ["slice", "strided_slice"]

_SLICE_TYPE_ERROR = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
                     "tf.int32/tf.int64 tensors are valid indices")
from graphcompat.framework.strided_slice import NEW_AXIS, canonical_strided_slice, numpy_strided_slice


def _strided_slice_shape(ctx: InferenceContext):
    shape = ctx.shape(0)
    for i in (1, 2, 3):
        s = ctx.shape(i)
        if s.ndims not in (None, 1):
            raise ctx.error(f"Shape must be rank 1 but is rank {s.ndims}")
    begin, end, strides = ctx.value(1), ctx.value(2), ctx.value(3)
    if strides is None or shape.ndims is None:
        return [_ts.unknown_shape()]
    a = ctx.attrs
    spec = canonical_strided_slice(shape.as_list(), None if begin is None else np.reshape(begin, [-1]),
                                   None if end is None else np.reshape(end, [-1]), np.reshape(strides, [-1]),
                                   a["begin_mask"], a["end_mask"], a["ellipsis_mask"], a["new_axis_mask"],
                                   a["shrink_axis_mask"], error=lambda m: ctx.error(m))
    dims = []
    for entry in spec:
        if entry[0] == NEW_AXIS:
            dims.append(1)
        elif entry[0] == "slice":
            dims.append(entry[5])
    return [_ts.TensorShape(dims)]


def _slice_shape(ctx: InferenceContext):
    shape, begin, size = ctx.shape(0), ctx.value(1), ctx.value(2)
    for i in (1, 2):
        if ctx.shape(i).ndims not in (None, 1):
            raise ctx.error(f"Shape must be rank 1 but is rank {ctx.shape(i).ndims}")
    rank = shape.ndims
    n = ctx.shape(1).as_list()[0] if ctx.shape(1).ndims == 1 else None
    if rank is not None and n is not None and n != rank:
        raise ctx.error(f"Length of begin ({n}) must equal rank of input ({rank})")
    if size is None:
        return [_ts.unknown_shape(rank if rank is not None else n)]
    size = [int(s) for s in np.reshape(size, [-1])]
    dims = shape.as_list() if rank is not None else [None] * len(size)
    if len(size) != len(dims):
        raise ctx.error(f"Length of size ({len(size)}) must equal rank of input ({len(dims)})")
    begin = None if begin is None else [int(b) for b in np.reshape(begin, [-1])]
    out = []
    for i, (s, d) in enumerate(zip(size, dims)):  # bounds are checked when running, as TF
        b = None if begin is None else begin[i]
        if s == -1:
            out.append(None if b is None or d is None else d - b)
        else:
            out.append(s)
    return [_ts.TensorShape(out)]


_INDEX = (_dt.int16, _dt.int32, _dt.int64)
defop("StridedSlice", "input: T, begin: Index, end: Index, strides: Index -> output: T",
      attrs={"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0, "shrink_axis_mask": 0},
      types={"Index": _INDEX}, shape=_strided_slice_shape)
# `var[...].assign(value)` (ref variables) and tf.tensor_strided_slice_update: the strided slice of the
# input replaced by `value` (broadcast to the slice's shape); the resource form is in resource_variable_ops.
defop("StridedSliceAssign", "ref: Ref(T), begin: Index, end: Index, strides: Index, value: T -> output_ref: Ref(T)",
      attrs={"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0, "shrink_axis_mask": 0},
      types={"Index": (_dt.int32, _dt.int64)}, shape=lambda ctx: [ctx.shape(0)], loop=True)
defop("TensorStridedSliceUpdate", "input: T, begin: Index, end: Index, strides: Index, value: T -> output: T",
      attrs={"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0, "shrink_axis_mask": 0},
      types={"Index": (_dt.int32, _dt.int64)}, shape=lambda ctx: [ctx.shape(0)])
defop("Slice", "input: T, begin: Index, size: Index -> output: T", types={"Index": (_dt.int32, _dt.int64)},
      shape=_slice_shape)


def slice(input_, begin, size, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A001 (TF's name)
    """`tf.slice`: `size[i] = -1` takes everything from `begin[i]` on."""
    return apply_op("Slice", [input_, begin, size], name=name)


def strided_slice(input_, begin, end, strides=None, begin_mask: int = 0, end_mask: int = 0,
                  ellipsis_mask: int = 0, new_axis_mask: int = 0, shrink_axis_mask: int = 0, var=None,
                  name: Optional[str] = None) -> _ops.Tensor:
    if strides is None:
        from graphcompat.ops.array_ops import ones_like
        strides = ones_like(begin)
    return apply_op("StridedSlice", [input_, begin, end, strides],
                    {"begin_mask": begin_mask, "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
                     "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_axis_mask}, name=name)


# ------------------------------------------------------------------------------------------------
# tensor[...]
# ------------------------------------------------------------------------------------------------
def _check_index(idx) -> None:
    if isinstance(idx, (numbers.Integral, _ts.Dimension)) and not isinstance(idx, bool):
        return
    dtype = getattr(idx, "dtype", None)
    try:
        ok = dtype is not None and _dt.as_dtype(dtype).base_dtype in _INDEX
    except TypeError:
        ok = False
    if not ok or getattr(getattr(idx, "shape", None), "ndims", None) == 1:
        raise TypeError(_SLICE_TYPE_ERROR + f", got {idx!r}")


def _undefined(d) -> bool:
    return isinstance(d, _ts.Dimension) and d.value is None


class SlicedVariable(_ops.Tensor):
    """`variable[...]`: the strided slice of the variable's value, with TF's `.assign(value)` that writes
    the slice back (StridedSliceAssign, ResourceStridedSliceAssign for a resource variable). The class of
    the StridedSlice's output tensor is switched to this one; what `.assign` needs is kept aside."""

    __slots__ = ()
    _ASSIGNS: "weakref.WeakKeyDictionary" = None

    def assign(self, value, name: Optional[str] = None):
        return SlicedVariable._ASSIGNS[self](value, name)


def _attach_slice_assign(out: _ops.Tensor, var, parent_name: str) -> _ops.Tensor:
    """TF's strided_slice(var=…): `out.assign(val, name=parent_name + "_assign")` writes the slice."""
    import weakref
    if SlicedVariable._ASSIGNS is None:
        SlicedVariable._ASSIGNS = weakref.WeakKeyDictionary()
    op = out.op
    begin, end, strides = op.inputs[1], op.inputs[2], op.inputs[3]
    masks = {k: op.get_attr(k) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                          "shrink_axis_mask")}

    def assign(value, name=None):
        return var._strided_slice_assign(begin, end, strides, value, name or parent_name + "_assign", **masks)
    out.__class__ = SlicedVariable
    SlicedVariable._ASSIGNS[out] = assign
    return out


def slice_helper(tensor: _ops.Tensor, slice_spec, var=None) -> _ops.Tensor:
    """`tensor[slice_spec]` with TF's strided_slice semantics and op names; `var`: the variable whose
    value `tensor` is, so the slice gets TF's `.assign`."""
    from graphcompat.ops.array_ops import stack
    if isinstance(slice_spec, bool) or (isinstance(slice_spec, _ops.Tensor) and slice_spec.dtype == _dt.bool_) \
            or (isinstance(slice_spec, np.ndarray) and slice_spec.dtype == bool):
        import graphcompat  # tf.boolean_mask belongs to the data-dependent ops family, when present
        boolean_mask = getattr(graphcompat, "boolean_mask", None)
        if boolean_mask is None:
            raise NotImplementedError("tensor[boolean mask] needs tf.boolean_mask, which graphcompat lacks")
        return boolean_mask(tensor=tensor, mask=slice_spec)
    if not isinstance(slice_spec, (list, tuple)):
        slice_spec = [slice_spec]
    begin, end, strides = [], [], []
    begin_mask = end_mask = ellipsis_mask = new_axis_mask = shrink_axis_mask = 0
    for index, s in enumerate(slice_spec):
        bit = 1 << index
        if isinstance(s, builtins.slice):
            # Masked bounds take the dtype of tensor bounds in the same slice (TF packs them together).
            dtype = None
            for t in (s.start, s.stop, s.step):
                if isinstance(t, _ops.Tensor):
                    if t.dtype == _dt.int64:
                        dtype = _dt.int64
                    elif t.dtype == _dt.int32 and dtype != _dt.int64:
                        dtype = _dt.int32
                    elif t.dtype == _dt.int16 and dtype is None:
                        dtype = _dt.int16
            fill = (lambda v: constant(v, dtype=dtype)) if dtype is not None else (lambda v: v)
            if s.start is not None and not _undefined(s.start):
                _check_index(s.start)
                begin.append(s.start)
            else:
                begin.append(fill(0))
                begin_mask |= bit
            if s.stop is not None and not _undefined(s.stop):
                _check_index(s.stop)
                end.append(s.stop)
            else:
                end.append(fill(0))
                end_mask |= bit
            if s.step is not None and not _undefined(s.step):
                _check_index(s.step)
                strides.append(s.step)
            else:
                strides.append(fill(1))
        elif s is Ellipsis:
            begin.append(0), end.append(0), strides.append(1)
            ellipsis_mask |= bit
        elif s is None:
            begin.append(0), end.append(0), strides.append(1)
            new_axis_mask |= bit
        else:
            _check_index(s)
            begin.append(s)
            end.append(s + 1)
            if isinstance(s, _ops.Tensor) and s.dtype in (_dt.int16, _dt.int64):
                strides.append(constant(1, dtype=s.dtype))
            else:
                strides.append(1)
            shrink_axis_mask |= bit
    with _ops.name_scope(None, "strided_slice", [tensor]) as name:
        if begin:
            packed = [stack(v) for v in (begin, end, strides)]
            if any(p.dtype == _dt.int64 for p in packed):
                from graphcompat.ops.math_ops import cast
                packed = [cast(p, _dt.int64) for p in packed]
        else:
            empty = constant([], dtype=_dt.int32)
            packed = [empty, empty, empty]
        out = strided_slice(tensor, *packed, begin_mask=begin_mask, end_mask=end_mask,
                            ellipsis_mask=ellipsis_mask, new_axis_mask=new_axis_mask,
                            shrink_axis_mask=shrink_axis_mask, name=name)
        return out if var is None else _attach_slice_assign(out, var, name)


def tensor_strided_slice_update(input_, begin, end, strides, value, begin_mask: int = 0, end_mask: int = 0,
                                ellipsis_mask: int = 0, new_axis_mask: int = 0, shrink_axis_mask: int = 0,
                                name: Optional[str] = None) -> _ops.Tensor:
    """`tf.raw_ops.TensorStridedSliceUpdate`: `input_` with its strided slice replaced by `value`."""
    return apply_op("TensorStridedSliceUpdate", [input_, begin, end, strides, value],
                    {"begin_mask": begin_mask, "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
                     "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_axis_mask}, name=name)


_ops.Tensor._override_operator("__getitem__", slice_helper)


# ------------------------------------------------------------------------------------------------
# Build-time folding: `tf.shape(x)[0]` of a static shape is a known value.
# ------------------------------------------------------------------------------------------------
def _fold_strided_slice(t):
    values = [constant_value(x) for x in t.op.inputs]
    source = t.op.inputs[0]
    if values[0] is None and source.op.type == "Shape" and source.op.inputs[0].shape.ndims is not None:
        # `tf.shape(x)[-1]` is known when that dim is, even if others are not (as TF's shape inference).
        values[0] = np.array(source.op.inputs[0].shape.as_list(), dtype=object)
    if any(v is None for v in values):
        return None
    x, b, e, s = values
    out = np.asarray(x[numpy_strided_slice(x, np.reshape(b, [-1]), np.reshape(e, [-1]), np.reshape(s, [-1]),
                                           t.op.attrs)])
    if out.dtype == object:
        if any(v is None for v in out.reshape(-1)):
            return None
        out = out.astype(t.dtype.as_numpy_dtype)
    return out


register_folders({"StridedSlice": _fold_strided_slice})
