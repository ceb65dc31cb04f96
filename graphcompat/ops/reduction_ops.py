"""Reductions (Sum, Mean, Max, Any …, logsumexp, argmax, count_nonzero), scans (cumsum/cumprod),
clip_by_value and ranges (Range, LinSpace). Lowerings live in lowering/rules/math.py.
"""
from __future__ import annotations

import builtins
import sys

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, constant_value, convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop, register_folders
from graphcompat.ops.math_ops import (FLOAT, INDEX, NUMBER, REAL, _lookup, cast, exp, is_finite, log, minimum,
                                      not_equal, subtract, where_v2)

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any", "reduce_all",
           "reduce_logsumexp", "argmax", "argmin", "count_nonzero", "cumsum", "cumprod", "clip_by_value", "range",
           "lin_space", "linspace"]


# ------------------------------------------------------------------------------------------------
# Shape functions
# ------------------------------------------------------------------------------------------------
def _axes_value(ctx: InferenceContext, i: int):
    value = ctx.value(i)
    return None if value is None else [int(a) for a in np.asarray(value).reshape(-1).tolist()]


def _reduction_shape(ctx: InferenceContext):
    shape = ctx.shape(0)
    keep = ctx.attrs["keep_dims"]
    if shape.ndims is None:
        return [_ts.unknown_shape()]
    axes = _axes_value(ctx, 1)
    if axes is None:
        return [_ts.unknown_shape(shape.ndims) if keep else _ts.unknown_shape()]
    rank = shape.ndims
    norm = set()
    for a in axes:
        if not -max(rank, 1) <= a < max(rank, 1):
            raise ctx.error(f"Invalid reduction dimension {a} for input with {rank} dimensions.")
        norm.add(a % max(rank, 1))
    dims = shape.as_list()
    if keep:
        return [_ts.TensorShape([1 if i in norm else d for i, d in enumerate(dims)])]
    return [_ts.TensorShape([d for i, d in enumerate(dims) if i not in norm])]


def _arg_reduce_shape(ctx: InferenceContext):
    if ctx.shape(1).ndims not in (None, 0):  # TF's ArgOp shape function: the dimension is a scalar
        raise ctx.error(f"Shape must be rank 0 but is rank {ctx.shape(1).ndims}")
    shape = ctx.shape(0)
    axis = _axes_value(ctx, 1)
    if shape.ndims is None or axis is None:
        return [_ts.unknown_shape() if shape.ndims is None else _ts.unknown_shape(max(shape.ndims - 1, 0))]
    rank = shape.ndims
    a = axis[0]
    if not -rank <= a < rank:
        raise ctx.error(f"Dimension ({a}) must be in the range [{-rank}, {rank}), where {rank} is the number of "
                        f"dimensions in the input.")
    dims = shape.as_list()
    del dims[a % rank]
    return [_ts.TensorShape(dims)]


def _range_shape(ctx: InferenceContext):
    start, limit, delta = (ctx.value(i) for i in builtins.range(3))
    for i, name in enumerate(("start", "limit", "delta")):
        if ctx.shape(i).ndims not in (None, 0):
            raise ctx.error(f"Shape must be rank 0 but is rank {ctx.shape(i).ndims}")
    if start is None or limit is None or delta is None:
        return [_ts.unknown_shape(1)]
    start, limit, delta = start.item(), limit.item(), delta.item()
    if delta == 0:
        raise ctx.error("Requires delta != 0")
    if delta > 0 and start > limit:
        raise ctx.error(f"Requires start <= limit when delta > 0: {start}/{limit}")
    if delta < 0 and start < limit:
        raise ctx.error(f"Requires start >= limit when delta < 0: {start}/{limit}")
    if isinstance(start, int) and isinstance(limit, int) and isinstance(delta, int):
        size = (builtins.abs(limit - start) + builtins.abs(delta) - 1) // builtins.abs(delta)
    else:
        size = int(np.ceil(builtins.abs((limit - start) / delta)))
    return [_ts.TensorShape([size])]


def _linspace_shape(ctx: InferenceContext):
    num = ctx.value(2)
    return [_ts.TensorShape([None if num is None else int(num)])]


def _scan_shape(ctx: InferenceContext):
    return [ctx.shape(0)]  # TF checks the axis only when running


# ------------------------------------------------------------------------------------------------
# Op definitions
# ------------------------------------------------------------------------------------------------
for _op, _types in [("Sum", NUMBER), ("Mean", NUMBER), ("Prod", NUMBER), ("Max", REAL), ("Min", REAL)]:
    defop(_op, "input: T, reduction_indices: Tidx -> output: T", attrs={"keep_dims": False},
          types={"T": _types, "Tidx": INDEX}, shape=_reduction_shape)
for _op in ("Any", "All"):
    defop(_op, "input: bool, reduction_indices: Tidx -> output: bool", attrs={"keep_dims": False},
          types={"Tidx": INDEX}, shape=_reduction_shape)
for _op in ("ArgMax", "ArgMin"):
    defop(_op, "input: T, dimension: Tidx -> output: output_type", attrs={"output_type": _dt.int64},
          types={"T": REAL + (_dt.bool_,), "Tidx": INDEX + (_dt.int16, _dt.uint16)}, shape=_arg_reduce_shape)
for _op in ("Cumsum", "Cumprod"):
    defop(_op, "x: T, axis: Tidx -> out: T", attrs={"exclusive": False, "reverse": False},
          types={"T": NUMBER, "Tidx": INDEX}, shape=_scan_shape)

defop("Range", "start: Tidx, limit: Tidx, delta: Tidx -> output: Tidx",
      types={"Tidx": (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64, _dt.int8, _dt.int16, _dt.int32,
                      _dt.int64, _dt.uint16, _dt.uint32)}, shape=_range_shape)
defop("LinSpace", "start: T, stop: T, num: Tidx -> output: T",
      types={"T": FLOAT, "Tidx": INDEX}, shape=_linspace_shape)


# ------------------------------------------------------------------------------------------------
# Reductions
# ------------------------------------------------------------------------------------------------
def _reduction_dims(x, axis):
    """TF's _ReductionDims: `axis` as given; else every axis of a tensor of known non-zero rank as a
    constant, else `range(0, rank(x))` (which converts a Python/numpy `x` once more, as TF does)."""
    if axis is not None:
        return axis
    rank = x.shape.ndims if isinstance(x, _ops.Tensor) else None
    if rank:
        return constant(np.arange(rank, dtype=np.int32))
    from graphcompat.ops.array_ops import rank as _rank
    return range(0, _rank(x), 1)


def _reducer(op_type: str, tf_name: str, bool_input: bool = False):
    def reduce(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
        axis = _lookup("axis", axis, "reduction_indices", reduction_indices)
        keepdims = _lookup("keepdims", keepdims, "keep_dims", keep_dims)
        ragged = sys.modules.get("graphcompat.ragged.ragged_tensor")  # loaded before any RaggedTensor exists
        if ragged is not None and isinstance(input_tensor, ragged.RaggedTensor):
            # TF's ragged dispatch: segment ops over the row ids (graphcompat/ragged/ragged_math_ops.py)
            from graphcompat.ragged.ragged_math_ops import REDUCTIONS
            return REDUCTIONS[tf_name](input_tensor, axis, keepdims, name)
        keep = bool(keepdims)
        # A Python/numpy input is converted by the op itself (its Const is `Sum/input`, as in TF).
        out = apply_op(op_type, [input_tensor, _reduction_dims(input_tensor, axis)], {"keep_dims": keep},
                       name=name or op_type)
        if axis is None and not keep:  # TF's _may_reduce_to_scalar
            out.set_shape([])
        return out
    reduce.__name__ = tf_name
    reduce.__doc__ = f"`tf.{tf_name}`: the {op_type} reduction over `axis` (all axes when None)."
    return reduce


reduce_sum = _reducer("Sum", "reduce_sum")
reduce_mean = _reducer("Mean", "reduce_mean")
reduce_prod = _reducer("Prod", "reduce_prod")
reduce_max = _reducer("Max", "reduce_max")
reduce_min = _reducer("Min", "reduce_min")
reduce_any = _reducer("Any", "reduce_any")
reduce_all = _reducer("All", "reduce_all")


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                     keep_dims=None) -> _ops.Tensor:
    """`tf.reduce_logsumexp`: TF's stable composition (max shift, non-finite max replaced by 0)."""
    axis = _lookup("axis", axis, "reduction_indices", reduction_indices)
    keep = bool(_lookup("keepdims", keepdims, "keep_dims", keep_dims))
    with _ops.name_scope(name, "ReduceLogSumExp", [input_tensor]) as name:
        x = convert_to_tensor(input_tensor)
        raw_max = reduce_max(x, axis=axis, keepdims=True)
        my_max = where_v2(is_finite(raw_max), raw_max, 0)
        from graphcompat.framework.registry import OP_DEFS
        if "StopGradient" in OP_DEFS:  # defined by the gradients family; the value is the same either way
            my_max = apply_op("StopGradient", [my_max])
        result = log(reduce_sum(exp(subtract(x, my_max)), axis=axis, keepdims=keep))
        if not keep:
            from graphcompat.ops.array_ops import reshape
            my_max = reshape(my_max, apply_op("Shape", [result], {"out_type": _dt.int32}))
        return apply_op("AddV2", [result, my_max], name=name)


# TF's argmax checks its axis in Python (argmin does not). Its membership test compares DTypes by hash, so
# a numpy integer axis (np.int64(0)) is refused too, as in TF.
_ARGMAX_AXIS_DTYPES = {_dt.int8, _dt.uint8, _dt.int16, _dt.uint16, _dt.int32, _dt.int64}


def _arg_reduce(op_type: str, tf_name: str):
    def arg(input, axis=None, name=None, dimension=None, output_type=_dt.int64):
        axis = _lookup("axis", axis, "dimension", dimension)
        if axis is None:
            axis = 0
        if op_type == "ArgMax":
            if hasattr(axis, "dtype"):
                if axis.dtype not in _ARGMAX_AXIS_DTYPES:
                    raise TypeError(f"axis tensor dtypes {axis.dtype} is not supported")
                if axis.dtype in (_dt.int8, _dt.int16, _dt.uint8, _dt.uint16):
                    axis = cast(axis, _dt.int32)
            elif not isinstance(axis, int):
                raise TypeError("axis must be int or Tensor with integer datatype")
        return apply_op(op_type, [input, axis], {"output_type": _dt.as_dtype(output_type)}, name=name)
    arg.__name__ = tf_name
    arg.__doc__ = f"`tf.{tf_name}` ({op_type}; int64 indices by default)."
    return arg


argmax = _arg_reduce("ArgMax", "argmax")
argmin = _arg_reduce("ArgMin", "argmin")


def arg_max(input, dimension, output_type=_dt.int64, name=None) -> _ops.Tensor:
    """`tf.arg_max`: TF1's raw ArgMax (`dimension` required; `tf.argmax` is the newer spelling)."""
    return apply_op("ArgMax", [input, dimension], {"output_type": _dt.as_dtype(output_type)}, name=name)


def arg_min(input, dimension, output_type=_dt.int64, name=None) -> _ops.Tensor:
    """`tf.arg_min`: TF1's raw ArgMin (`dimension` required; `tf.argmin` is the newer spelling)."""
    return apply_op("ArgMin", [input, dimension], {"output_type": _dt.as_dtype(output_type)}, name=name)


def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=_dt.int64, name=None,
                  reduction_indices=None, keep_dims=None, input=None) -> _ops.Tensor:
    """`tf.count_nonzero`: Sum(Cast(NotEqual(x, 0), int64)), cast to `dtype`."""
    input_tensor = _lookup("input", input, "input_tensor", input_tensor)
    axis = _lookup("axis", axis, "reduction_indices", reduction_indices)
    keep = _lookup("keepdims", keepdims, "keep_dims", keep_dims)
    with _ops.name_scope(name, "count_nonzero", [input_tensor]):
        x = convert_to_tensor(input_tensor, name="input")
        zero = constant(np.zeros([], x.dtype.as_numpy_dtype) if x.dtype != _dt.string else b"", name="zeros")
        nonzero = cast(not_equal(x, zero), _dt.int64)
        return cast(reduce_sum(nonzero, axis=axis, keepdims=keep), dtype=dtype)


def _scan(op_type: str, tf_name: str):
    def scan(x, axis=0, exclusive=False, reverse=False, name=None):
        with _ops.name_scope(name, op_type, [x]) as name:
            x = convert_to_tensor(x, name="x")
            return apply_op(op_type, [x, axis], {"exclusive": bool(exclusive), "reverse": bool(reverse)},
                            name=name)
    scan.__name__ = tf_name
    scan.__doc__ = f"`tf.{tf_name}` along `axis` (`exclusive`, `reverse` as TF)."
    return scan


cumsum = _scan("Cumsum", "cumsum")
cumprod = _scan("Cumprod", "cumprod")


def clip_by_value(t, clip_value_min, clip_value_max, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.clip_by_value`: Minimum then Maximum, the latter named after the scope (as TF)."""
    with _ops.name_scope(name, "clip_by_value", [t, clip_value_min, clip_value_max]) as name:
        values = convert_to_tensor(t, name="t")
        t_min = minimum(values, clip_value_max)
        if not values.shape.is_compatible_with(t_min.shape):
            raise ValueError(f"Shapes {values.shape} and {t_min.shape} are incompatible")
        t_max = apply_op("Maximum", [t_min, clip_value_min], name=name)
        if not values.shape.is_compatible_with(t_max.shape):
            raise ValueError(f"Shapes {values.shape} and {t_max.shape} are incompatible")
        return t_max


# ------------------------------------------------------------------------------------------------
# Ranges
# ------------------------------------------------------------------------------------------------
_RANGE_HIERARCHY = [_dt.int32, _dt.int64, _dt.float16, _dt.bfloat16, _dt.float32, _dt.float64]


def range(start, limit=None, delta=1, dtype=None, name: str = "range") -> _ops.Tensor:  # noqa: A001
    """`tf.range`: dtype inferred as the widest of start/limit/delta (int32 < int64 < … < float64)."""
    if limit is None:
        start, limit = 0, start
    with _ops.name_scope(name, "Range", [start, limit, delta]) as name:
        args = []
        for value, arg_name in ((start, "start"), (limit, "limit"), (delta, "delta")):
            if not isinstance(value, _ops.Tensor):
                value = convert_to_tensor(value, dtype=dtype, name=arg_name)
            args.append(value)
        if dtype is None:
            # TF asserts (a bare AssertionError) that every dtype is in its hierarchy: int16 or uint8 are not.
            assert all(a.dtype.base_dtype in _RANGE_HIERARCHY for a in args)
            inferred = max((a.dtype.base_dtype for a in args), key=_RANGE_HIERARCHY.index)
        else:
            inferred = _dt.as_dtype(dtype)
        args = [cast(a, inferred) for a in args]
        return apply_op("Range", args, name=name)


def lin_space(start, stop, num, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.lin_space` / `tf.linspace`: the LinSpace op (TF 2.21 composes an N-d version; same values)."""
    with _ops.name_scope(name, "LinSpace", [start, stop, num]) as name:
        start = convert_to_tensor(start, name="start")
        stop = convert_to_tensor(stop, dtype=start.dtype.base_dtype, name="stop")
        if start.dtype.is_integer:  # TF's composition divides with `/`: integer ends give truediv's float dtype
            from graphcompat.ops.math_ops import _TRUEDIV_TABLE
            start, stop = (cast(v, _TRUEDIV_TABLE[start.dtype.base_dtype]) for v in (start, stop))
        return apply_op("LinSpace", [start, stop, num], name=name)


linspace = lin_space


# ------------------------------------------------------------------------------------------------
# Build-time folding of reductions over constants (shape arithmetic)
# ------------------------------------------------------------------------------------------------
def _fold_reduce(fn):
    def fold(t):
        x, axes = (constant_value(i) for i in t.op.inputs)
        if x is None or axes is None:
            return None
        axes = tuple(int(a) % max(x.ndim, 1) for a in np.reshape(axes, [-1]))
        return np.asarray(fn(x, axis=axes, keepdims=t.op.attrs["keep_dims"])).astype(t.dtype.as_numpy_dtype)
    return fold


register_folders({"Sum": _fold_reduce(np.sum), "Prod": _fold_reduce(np.prod), "Max": _fold_reduce(np.max),
                         "Min": _fold_reduce(np.min)})
