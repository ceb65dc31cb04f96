"""Lowering of TF's quantized-tensor ops (graphcompat/ops/quantized_ops.py), step for step TF's CPU kernels
(core/kernels/quantize_op.cc, dequantize_op.cc, requantize.cc, requantization_range_op.cc,
quantize_down_and_shrink_range.cc, quantized_matmul_op.cc and quantization_utils.h).

Quantized values arrive and leave as their integer storage (int8 for qint8, uint8 for quint8 …: the
rules' `T` attrs are those numpy dtypes, lowering/plan.py). The kernels mix float32 and float64 steps;
each is reproduced in its own precision, in TF's order, so integer results are bitwise TF's:

- the scalar range arithmetic (scale factors, nudged ranges) runs in numpy when the ranges are
  build-time constants (a frozen graph's), else traced with its divisors behind optimization barriers
  (XLA rewrites a division by a constant into a multiplication by its reciprocal);
- a product that feeds an addition is rounded on its own (`_mul_f32`, as the fake-quant rules):
  XLA's CPU code generator would fuse them into one multiply-add, TF's x86 kernels do not;
- rounding is TF's: std::round (halves away from zero) unless a round_mode says HALF_TO_EVEN.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import errors
from lowering.interpreter import require
from lowering.registry import lowers
from lowering.rules.checks import no_kernel
from lowering.rules.quantization import _is_static, _mul_f32, _round_half_away

_F32, _F64 = np.float32, np.float64
_FLT_MAX = np.finfo(np.float32).max
# numpy storage dtype → TF's name, for the kernels' error texts
_TF_NAMES = {np.dtype(np.int8): "QINT8", np.dtype(np.uint8): "QUINT8", np.dtype(np.int32): "QINT32",
             np.dtype(np.int16): "QINT16", np.dtype(np.uint16): "QUINT16"}


def _limits(dtype) -> tuple:
    info = np.iinfo(np.dtype(dtype))
    return int(info.min), int(info.max)


def _concrete(value):
    """A range that is a concrete value (a Const's, or an earlier rule's computed from constants) as numpy:
    its arithmetic then runs in numpy. XLA would fold it as a compile-time constant with its own rewrites."""
    if isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer):
        return np.asarray(value)
    return value


def _xp(*values):
    """numpy for build-time constant ranges (exact C++ float semantics), jax.numpy for traced ones."""
    return np if _is_static(*values) else jnp


def _div(xp, numerator, denominator, dtype=_F32):
    """numerator / denominator rounded once in `dtype`. Traced, the divisor is broadcast to the result's
    shape behind an optimization barrier: XLA turns a division by a constant or by a broadcast scalar into
    a multiplication by its reciprocal, which rounds twice."""
    if xp is np:
        with np.errstate(all="ignore"):  # a zero range divides by zero, as TF's kernels do
            return np.divide(np.asarray(numerator, dtype), np.asarray(denominator, dtype), dtype=dtype)
    numerator, denominator = jnp.asarray(numerator, dtype), jnp.asarray(denominator, dtype)
    shape = jnp.broadcast_shapes(jnp.shape(numerator), jnp.shape(denominator))
    return jnp.broadcast_to(numerator, shape) / lax.optimization_barrier(jnp.broadcast_to(denominator, shape))


def _f32(xp, value):
    return xp.asarray(value, _F32) if xp is np else jnp.asarray(value, jnp.float32)


def _f64(xp, value):
    return xp.asarray(value, _F64) if xp is np else jnp.asarray(value, jnp.float64)


def _fail(ok: bool, error, message) -> bool:
    """A kernel check on attrs or shapes (a Python bool): TF's error for this run when it fails."""
    require(ok, error, message)
    return not ok


def _invalid(ok: bool, message) -> bool:
    return _fail(ok, errors.InvalidArgumentError, message)


def _scalar(value):
    """The first element, as the kernels read a range: `input(1).flat<float>()(0)`."""
    return jnp.reshape(value, (-1,))[0] if not _is_static(value) else np.asarray(value, _F32).reshape(-1)[0]


def _ftz(xp, value):
    """TF's CPU threads flush denormal floats to zero (a SCALED range of 1 / FLT_MAX is 0 there)."""
    value = _f32(xp, value)
    return xp.where(xp.abs(value) < np.finfo(np.float32).tiny, _F32(0) * value, value).astype(_F32)


def _to_storage(values, dtype):
    """Rounded floats to T as TF's casts do: an int32 out of range (2^31 from a full qint32 range) is the
    x86 conversion's INT_MIN, smaller types are in range already."""
    dtype = np.dtype(dtype)
    if dtype == np.int32:
        out_of_range = (values >= _F32(2.0 ** 31)) | (values < _F32(-2.0 ** 31)) | jnp.isnan(values)
        return jnp.where(out_of_range, _F32(-2.0 ** 31), values).astype(jnp.int32)
    return values.astype(jnp.int32).astype(dtype)


def _zeros(shape, dtype):
    return jnp.zeros(shape, dtype)


# --- QuantizeV2 --------------------------------------------------------------------------------------------
def _adjusted_range(xp, in_min, in_max, ensure_minimum_range: float):
    """QuantizeV2's range: min pulled down to 0, max at least min + epsilon and at least 0."""
    in_min, in_max = _f32(xp, in_min), _f32(xp, in_max)
    min_range = xp.minimum(_F32(0), in_min)
    epsilon = _mul_f32(xp.maximum(_F32(1), xp.maximum(xp.abs(in_min), xp.abs(in_max))), _F32(ensure_minimum_range))
    max_range = xp.maximum(_F32(0), xp.maximum(in_max, (min_range + epsilon).astype(_F32)))
    return min_range.astype(_F32), max_range.astype(_F32)


def _clamp(x, low, high):
    return jnp.maximum(jnp.minimum(x, high), low)


def _quantize_min_combined(x, min_range, max_range, lowest: int, highest: int, xp):
    # scale in double, stored as float: (double(max_T) - double(min_T)) / (max_range - min_range)
    scale = _f32(xp, _f64(xp, float(highest) - float(lowest)) / _f64(xp, (max_range - min_range).astype(_F32)))
    min_range, scale = (jnp.asarray(v, jnp.float32) for v in lax.optimization_barrier((min_range, scale)))
    scaled = _mul_f32(_clamp(x, jnp.asarray(min_range), jnp.asarray(max_range)) - min_range, scale)
    if lowest < 0:
        half_range = _F32((float(highest) - float(lowest) + 1) / 2.0)
        return _round_half_away(scaled - half_range, jnp)
    return jnp.trunc(scaled + _F32(0.5))


def _quantize_scaled(x, min_range, max_range, lowest: int, highest: int, narrow_range: bool, half_to_even: bool,
                     xp):
    min_out, max_out = _F32(lowest + (1 if narrow_range else 0)), _F32(highest)
    from_min = xp.where(min_out * min_range > 0, _div(xp, min_out, min_range), _FLT_MAX).astype(_F32)
    from_max = xp.where(max_out * max_range > 0, _div(xp, max_out, max_range), _FLT_MAX).astype(_F32)
    scale = xp.minimum(from_min, from_max)
    min_range = _ftz(xp, _div(xp, min_out, scale))  # 1 / FLT_MAX is a denormal: 0 in TF's threads
    max_range = _ftz(xp, _div(xp, max_out, scale))
    scaled = _clamp(x, jnp.asarray(min_range), jnp.asarray(max_range)) * jnp.asarray(scale, jnp.float32)
    return (jnp.round(scaled) if half_to_even else _round_half_away(scaled, jnp)), min_range, max_range


def _quantize_min_first(x, min_range, max_range, lowest: int, highest: int, bits: int, xp):
    """FloatToQuantizedStruct + QUANTIZE_WITH_EIGEN: no clamping to the range, saturation to T's limits."""
    steps = float(2 ** bits)
    width = (max_range - min_range).astype(_F32)
    range_scale = xp.where(max_range == min_range, _F32(0),
                           _f32(xp, _div(xp, _F64(steps - 1.0), _f64(xp, width), _F64)))
    range_min_scaled = _round_half_away((min_range * range_scale).astype(_F32), xp).astype(_F32)
    offset = (range_min_scaled - _F32(lowest)).astype(_F32)
    range_scale, offset = lax.optimization_barrier((jnp.asarray(range_scale, jnp.float32),
                                                    jnp.asarray(offset, jnp.float32)))
    low = max(_F32(lowest), _F32(-2.147483648e09))
    high = min(_F32(highest), _F32(2.147483520e09))
    return _clamp(_round_half_away(x * range_scale, jnp) - offset, low, high)


def _slices(x, axis: int, *values):
    """Per-slice ranges broadcast along `axis` of x (or scalars when axis is -1)."""
    if axis < 0:
        return values
    shape = [1] * jnp.ndim(x)
    shape[axis] = -1
    return tuple(v.reshape(shape) if isinstance(v, np.ndarray) else jnp.reshape(v, shape) for v in values)


@lowers("QuantizeV2")
def quantize_v2(x, min_range, max_range, *, T, mode, round_mode, narrow_range, axis, ensure_minimum_range, **_):
    min_range, max_range = _concrete(min_range), _concrete(max_range)
    lowest, highest = _limits(T)
    x = jnp.asarray(x, jnp.float32)
    ok = not (_invalid(mode in ("MIN_COMBINED", "MIN_FIRST", "SCALED"),
                       f"Mode string must be 'MIN_COMBINED', 'MIN_FIRST', or 'SCALED', is '{mode}'")
              or _invalid(round_mode in ("HALF_AWAY_FROM_ZERO", "HALF_TO_EVEN"),
                          f"Round mode string must be 'HALF_AWAY_FROM_ZERO' or 'HALF_TO_EVEN', is '{round_mode}'")
              or _invalid(round_mode != "HALF_TO_EVEN" or mode == "SCALED",
                          f"Round mode 'HALF_TO_EVEN' only supported for mode 'SCALED', but mode is '{mode}'."))
    num_slices = jnp.shape(x)[axis] if axis > -1 and ok else 1
    per_slice = num_slices != 1
    if per_slice and _fail(mode != "MIN_FIRST", errors.UnimplementedError,
                           "MIN_FIRST mode is not implemented for Quantize with axis != -1."):
        ok = False
    range_shape = jnp.shape(min_range) if per_slice else ()
    if not ok:
        return _zeros(jnp.shape(x), T), _zeros(range_shape, jnp.float32), _zeros(range_shape, jnp.float32)
    xp = _xp(min_range, max_range)
    if per_slice:
        in_min, in_max = _f32(xp, min_range), _f32(xp, max_range)
    else:
        in_min, in_max = _f32(xp, _scalar(min_range)), _f32(xp, _scalar(max_range))
    require(~xp.any(in_max < in_min), errors.InvalidArgumentError,
            "input_max_range must be larger than input_min_range.")
    low, high = _adjusted_range(xp, in_min, in_max, ensure_minimum_range)
    if mode == "MIN_FIRST":
        out = _quantize_min_first(x, low, high, lowest, highest, 8 * np.dtype(T).itemsize, xp)
    else:
        low_b, high_b = _slices(x, axis if per_slice else -1, low, high)
        if mode == "MIN_COMBINED":
            out = _quantize_min_combined(x, low_b, high_b, lowest, highest, xp)
        else:
            out, low_b, high_b = _quantize_scaled(x, low_b, high_b, lowest, highest, narrow_range,
                                                  round_mode == "HALF_TO_EVEN", xp)
            low, high = (jnp.reshape(v, jnp.shape(low)) if not isinstance(v, np.ndarray) else v.reshape(np.shape(low))
                         for v in (low_b, high_b))
    # static ranges stay numpy: the next op's range arithmetic (a Dequantize's) then runs in numpy too
    return _to_storage(out, T), _ftz(xp, low), _ftz(xp, high)


# --- Dequantize --------------------------------------------------------------------------------------------
def _half_range(lowest: int, highest: int) -> np.float32:
    if lowest >= 0:
        return _F32(0)
    return _F32((_F32(highest) - _F32(lowest) + _F32(1)) / _F32(2))


def _dequantize_min_combined(q, min_range, max_range, lowest: int, highest: int, xp):
    denominator = _F32(_F32(highest) - _F32(lowest))
    scale = _div(xp, (max_range - min_range).astype(_F32), denominator)
    min_range, scale = (jnp.asarray(v, jnp.float32) for v in lax.optimization_barrier((min_range, scale)))
    return _mul_f32(q.astype(jnp.float32) + _half_range(lowest, highest), scale) + min_range


def _dequantize_min_first(q, min_range, max_range, lowest: int, xp, bits: int):
    """QuantizedToFloatStruct + DEQUANTIZE_WITH_EIGEN."""
    range_scale = _f32(xp, _div(xp, _f64(xp, (max_range - min_range).astype(_F32)), _F64(2.0 ** bits - 1.0), _F64))
    rounded = (_round_half_away(_div(xp, min_range, range_scale), xp) * range_scale).astype(_F32)
    range_min_rounded = xp.where(max_range == min_range, min_range, rounded).astype(_F32)
    base = (range_min_rounded - _mul_f32(_F32(lowest), range_scale)).astype(_F32)
    base, range_scale = (jnp.asarray(v, jnp.float32) for v in lax.optimization_barrier((base, range_scale)))
    return base + _mul_f32(q.astype(jnp.float32), range_scale)


def _dequantize_scaled(q, min_range, max_range, lowest: int, highest: int, narrow_range: bool, xp):
    if lowest == 0:
        scale = _div(xp, max_range, _F32(highest))
    else:
        min_out = _F32(lowest + (1 if narrow_range else 0))
        scale = xp.maximum(_div(xp, min_range, min_out),
                           _div(xp, max_range, _F32(highest)))
    return q.astype(jnp.float32) * jnp.asarray(scale, jnp.float32)


@lowers("Dequantize")
def dequantize(q, min_range, max_range, *, T, mode, narrow_range, axis, dtype, **_):
    min_range, max_range = _concrete(min_range), _concrete(max_range)
    lowest, highest = _limits(T)
    out_dtype = np.dtype(dtype)
    bfloat16 = out_dtype != np.float32
    ok = not (_invalid(bfloat16 or mode in ("MIN_COMBINED", "MIN_FIRST", "SCALED"),
                       f"Mode string must be 'MIN_COMBINED', 'MIN_FIRST', or 'SCALED', is '{mode}'")
              or _invalid(not bfloat16 or mode == "MIN_COMBINED",
                          f"When output type is bfloat16, Mode string must be 'MIN_COMBINED', is '{mode}'")
              or _invalid(axis < jnp.ndim(q), f"Axis must be less than input dimension({jnp.ndim(q)}), got {axis}"))
    num_slices = jnp.shape(q)[axis] if axis > -1 and ok else 1
    for value, label in ((min_range, "input_min_tensor"), (max_range, "input_max_tensor")):
        ok = ok and not _invalid(
            np.size(value) == num_slices,
            f"{label} must have as many elements as input on the dequantization axis ({axis}), got "
            f"{np.size(value)}, expected {num_slices}")
    per_slice = num_slices != 1
    if ok and per_slice and _fail(mode != "MIN_FIRST", errors.UnimplementedError,
                                  "MIN_FIRST mode is not implemented for Dequantize with axis != -1."):
        ok = False
    if not ok:
        return _zeros(jnp.shape(q), out_dtype)
    xp = _xp(min_range, max_range)
    if per_slice:
        low, high = _slices(q, axis, _f32(xp, min_range), _f32(xp, max_range))
    else:
        low, high = _f32(xp, _scalar(min_range)), _f32(xp, _scalar(max_range))
    q = jnp.asarray(q)
    if mode == "MIN_COMBINED":
        out = _dequantize_min_combined(q, low, high, lowest, highest, xp)
    elif mode == "MIN_FIRST":
        out = _dequantize_min_first(q, low, high, lowest, xp, 8 * np.dtype(T).itemsize)
    else:
        out = _dequantize_scaled(q, low, high, lowest, highest, narrow_range, xp)
    return jnp.asarray(out, jnp.float32).astype(out_dtype)


# --- quantization_utils.h's scalar helpers (double arithmetic) ---------------------------------------------
def _quantized_to_float(value, range_min, range_max, lowest: int, bits: int, xp):
    """QuantizedToFloat: one quantized value (an integer) to float32 through TF's double arithmetic."""
    steps = float(2 ** bits)
    range_adjust = steps / (steps - 1.0)
    width = (range_max - range_min).astype(_F32)
    range_scale = _div(xp, _f64(xp, width) * range_adjust, _F64(steps), _F64)
    range_scale_f = _f32(xp, range_scale)
    rounded = (_round_half_away(_div(xp, range_min, range_scale_f), xp) * range_scale_f) \
        .astype(_F32)
    offset = _f64(xp, value) - _F64(lowest)
    product = offset * range_scale
    if xp is not np:
        product = lax.optimization_barrier(product)  # no fused multiply-add: TF rounds the product
    result = _f32(xp, _f64(xp, rounded) + product)
    return xp.where(range_min == range_max, range_min, result).astype(_F32)


def _float_to_quantized_unclamped(value: float, range_min, range_max, lowest: int, bits: int, xp):
    """FloatToQuantizedUnclamped (an int64): round(value * scale) - round(range_min * scale) + lowest."""
    steps = float(2 ** bits)
    range_adjust = steps / (steps - 1.0)
    width = _f64(xp, (range_max - range_min).astype(_F32)) * range_adjust
    range_scale = _div(xp, _F64(steps), width, _F64)
    quantized = _round_half_away(_F64(value) * range_scale, xp) - _round_half_away(_f64(xp, range_min) * range_scale,
                                                                                  xp)
    quantized = quantized + _F64(lowest)
    return xp.where(range_min == range_max, _F64(lowest), quantized).astype(np.int64)


# --- RequantizationRange, Requantize, QuantizeDownAndShrinkRange (qint32 -> quint8 kernels only) -----------
def _qint32_only(op, attr: str) -> bool:
    if np.dtype(op.attrs[attr].as_numpy_dtype)[0] != np.int32:
        raise no_kernel(op, [f"device='CPU'; {attr} in [DT_QINT32]"])
    return True


def _used_range(q, input_min, input_max, xp_of):
    """The float range the qint32 values actually use (min pulled down to 0), as RequantizationRange."""
    lowest, highest = _limits(np.int32)
    actual_min = jnp.min(q, initial=highest)
    actual_max = jnp.max(q, initial=lowest)
    low = _quantized_to_float(actual_min, input_min, input_max, lowest, 32, jnp)
    high = _quantized_to_float(actual_max, input_min, input_max, lowest, 32, jnp)
    return jnp.minimum(_F32(0), low).astype(jnp.float32), jnp.asarray(high, jnp.float32)


@lowers("RequantizationRange", context=True)
def requantization_range(ctx, op, q, input_min, input_max):
    _qint32_only(op, "Tinput")
    return _used_range(jnp.asarray(q), _f32(jnp, _scalar(input_min)), _f32(jnp, _scalar(input_max)), jnp)


def _requantize_qint32_to_quint8(q, min_input, max_input, min_output, max_output, xp):
    """RequantizeManyInNewRangeUsingEigen<qint32, quint8>: TF's 16.16 fixed-point path, int64 arithmetic."""
    fp_shift = 16
    input_range = (max_input - min_input).astype(_F32)
    output_range = (max_output - min_output).astype(_F32)
    zero_range = output_range == 0
    safe_range = xp.where(zero_range, _F32(1), output_range)
    recip_output_range = xp.where(zero_range, _F32(0), _f32(xp, _div(xp, _F64(255.0), _f64(xp, safe_range), _F64)))
    input_rezero = _f32(xp, _div(xp, _f64(xp, (min_input + max_input).astype(_F32)), _F64(2.0), _F64))
    range_scale_fp = xp.where(zero_range, 0, _div(xp, _F64(255.0 * (1 << fp_shift)) * _f64(xp, input_range),
                                                  _f64(xp, safe_range), _F64).astype(np.int64))
    input_offset_fp = ((input_rezero * recip_output_range).astype(_F32) * _F32(1 << fp_shift)).astype(_F32) \
        .astype(np.int64)
    output_offset_fp = xp.where(zero_range, 0, _div(xp, _F64(1 << fp_shift) * (_f64(xp, min_output) * _F64(255.0)),
                                                    _f64(xp, safe_range), _F64).astype(np.int64))
    offset = jnp.asarray(input_offset_fp - output_offset_fp + (1 << (fp_shift - 1)), jnp.int64)
    fp_value = jnp.right_shift(jnp.asarray(q, jnp.int64) * jnp.asarray(range_scale_fp, jnp.int64), 32) + offset
    return jnp.clip(jnp.right_shift(fp_value, fp_shift), 0, 255).astype(jnp.uint8)


_REQUANTIZE_KERNELS = ["device='CPU'; Tinput in [DT_QINT32]; out_type in [DT_QINT8]",
                       "device='CPU'; Tinput in [DT_QINT32]; out_type in [DT_QUINT8]"]


def _requantize_generic(q, min_input, max_input, min_output, max_output, out_dtype, xp):
    """RequantizeManyInNewRangeUsingEigen: DEQUANTIZE_WITH_EIGEN (qint32) then QUANTIZE_WITH_EIGEN."""
    values = _dequantize_min_first(q, min_input, max_input, _limits(np.int32)[0], xp, 32)
    lowest, highest = _limits(out_dtype)
    return _to_storage(_quantize_min_first(values, min_output, max_output, lowest, highest,
                                           8 * np.dtype(out_dtype).itemsize, xp), out_dtype)


@lowers("Requantize", context=True)
def requantize(ctx, op, q, input_min, input_max, requested_min, requested_max):
    input_min, input_max, requested_min, requested_max = map(_concrete, (input_min, input_max, requested_min,
                                                                         requested_max))
    out_dtype = np.dtype(op.attrs["out_type"].as_numpy_dtype)[0]
    if np.dtype(op.attrs["Tinput"].as_numpy_dtype)[0] != np.int32 or out_dtype not in (np.uint8, np.int8):
        raise no_kernel(op, _REQUANTIZE_KERNELS)
    xp = _xp(input_min, input_max, requested_min, requested_max)
    values = [_f32(xp, _scalar(v)) for v in (input_min, input_max, requested_min, requested_max)]
    require(values[2] <= 0, errors.InvalidArgumentError,
            lambda: f"requested_output_min must be <= 0, but got {_c_float(values[2])}")
    require(values[3] >= 0, errors.InvalidArgumentError,
            lambda: f"requested_output_max must be <= 0, but got {_c_float(values[3])}")
    if out_dtype == np.uint8:
        out = _requantize_qint32_to_quint8(jnp.asarray(q), *values, xp)
    else:
        out = _requantize_generic(jnp.asarray(q), *values, out_dtype, xp)
    return out, jnp.asarray(values[2], jnp.float32), jnp.asarray(values[3], jnp.float32)


@lowers("QuantizeDownAndShrinkRange", context=True)
def quantize_down_and_shrink_range(ctx, op, q, input_min, input_max):
    if np.dtype(op.attrs["Tinput"].as_numpy_dtype)[0] != np.int32 or \
            np.dtype(op.attrs["out_type"].as_numpy_dtype)[0] != np.uint8:
        raise no_kernel(op, ["device='CPU'; Tinput in [DT_QINT32]; out_type in [DT_QUINT8]"])
    q = jnp.asarray(q)
    input_min, input_max = _f32(jnp, _scalar(input_min)), _f32(jnp, _scalar(input_max))
    low, high = _used_range(q, input_min, input_max, jnp)
    if jnp.size(q) == 0:
        return jnp.zeros(jnp.shape(q), jnp.uint8), low, high
    return _requantize_qint32_to_quint8(q, input_min, input_max, low, high, jnp), low, high


# --- QuantizedMatMul ---------------------------------------------------------------------------------------
def _float_for_one_level(range_min, range_max, lowest: int, highest: int, xp):
    return _div(xp, (range_max - range_min).astype(_F32), _F32(highest - lowest))


def _shape_text(x) -> str:
    return "[" + ",".join(str(d) for d in jnp.shape(x)) + "]"


@lowers("QuantizedMatMul", context=True)
def quantized_mat_mul(ctx, op, a, b, min_a, max_a, min_b, max_b):
    min_a, max_a, min_b, max_b = map(_concrete, (min_a, max_a, min_b, max_b))
    attrs = op.attrs
    if any(np.dtype(attrs[k].as_numpy_dtype)[0] != want for k, want in
           (("T1", np.uint8), ("T2", np.uint8), ("Toutput", np.int32))):
        raise no_kernel(op, ["device='CPU'; T1 in [DT_QUINT8]; T2 in [DT_QUINT8]; Toutput in [DT_QINT32]"])
    xp = _xp(min_a, max_a, min_b, max_b)
    min_a, max_a, min_b, max_b = (_f32(xp, _scalar(v)) for v in (min_a, max_a, min_b, max_b))
    require(max_a > min_a, errors.InvalidArgumentError, "max_a must be larger than min_a.")
    require(max_b > min_b, errors.InvalidArgumentError, "max_b must be larger than min_b.")
    out_dtype = np.int32
    if _invalid(jnp.ndim(a) == 2, "In[0] is not a matrix") or _invalid(jnp.ndim(b) == 2, "In[1] is not a matrix"):
        return _zeros((0, 0), out_dtype), _zeros((), jnp.float32), _zeros((), jnp.float32)
    shape_a, shape_b = _shape_text(a), _shape_text(b)  # as the op received them, for TF's text
    a = jnp.asarray(a).T if attrs["transpose_a"] else jnp.asarray(a)
    b = jnp.asarray(b).T if attrs["transpose_b"] else jnp.asarray(b)
    if _invalid(jnp.shape(a)[1] == jnp.shape(b)[0], f"Matrix size-incompatible: In[0]: {shape_a}, In[1]: {shape_b}"):
        return _zeros((jnp.shape(a)[0], jnp.shape(b)[1]), out_dtype), _zeros((), jnp.float32), \
            _zeros((), jnp.float32)
    offset_a = _float_to_quantized_unclamped(0.0, min_a, max_a, 0, 8, xp)
    offset_b = _float_to_quantized_unclamped(0.0, min_b, max_b, 0, 8, xp)
    # gemmlowp: sum_k (a - offset_a) * (b - offset_b), exact in int32 for 8-bit inputs
    lhs = jnp.asarray(a, jnp.int32) - jnp.asarray(offset_a, jnp.int32)
    rhs = jnp.asarray(b, jnp.int32) - jnp.asarray(offset_b, jnp.int32)
    out = jnp.matmul(lhs, rhs, preferred_element_type=jnp.int32)
    level = (_float_for_one_level(min_a, max_a, 0, 255, xp) * _float_for_one_level(min_b, max_b, 0, 255, xp)) \
        .astype(_F32)
    low, high = _limits(np.int32)
    return out.astype(jnp.int32), jnp.asarray(level * _F32(low), jnp.float32), \
        jnp.asarray(level * _F32(high), jnp.float32)


def _c_float(value) -> str:
    from lowering.rules.quantization import _c_float as c_float
    return c_float(value)


# --- QuantizedReshape, QuantizedConcat ----------------------------------------------------------------------
@lowers("QuantizedReshape", context=True)
def quantized_reshape(ctx, op, tensor, shape, input_min, input_max):
    from lowering.rules.array import reshape
    return reshape(tensor, shape), jnp.asarray(input_min, jnp.float32), jnp.asarray(input_max, jnp.float32)


@lowers("QuantizedConcat", context=True)
def quantized_concat(ctx, op, concat_dim, *inputs):
    dtype = np.dtype(op.attrs["T"].as_numpy_dtype)[0]
    if dtype not in (np.uint8, np.int32):
        raise no_kernel(op, ["device='CPU'; T in [DT_QINT32]", "device='CPU'; T in [DT_QUINT8]"])
    n = op.attrs["N"]
    values, mins, maxes = inputs[:n], inputs[n:2 * n], inputs[2 * n:]
    if _invalid(np.ndim(concat_dim) == 0, lambda: "Concat dim tensor should be a scalar integer, but got shape "
                                                  f"{_shape_text(concat_dim)}"):
        return jnp.zeros((0,), dtype), jnp.float32(0), jnp.float32(0)
    from lowering.rules.array import _ints
    axis = _ints(concat_dim)[0]  # host memory in TF: a value the rule needs concretely
    rank = jnp.ndim(values[0])
    if _invalid(0 <= axis < rank, f"ConcatOp : Expected concatenating dimensions in the range [0, {rank}), but got "
                                  f"{axis}"):
        return jnp.zeros((0,), dtype), jnp.float32(0), jnp.float32(0)
    first = tuple(jnp.shape(values[0]))
    for i, value in enumerate(values):
        shape = tuple(jnp.shape(value))
        same = len(shape) == rank and all(a == b for j, (a, b) in enumerate(zip(shape, first)) if j != axis)
        kind = "Ranks of all input tensors should match" if len(shape) != rank else \
            "Dimensions of inputs should match"
        if _invalid(same, f"ConcatOp : {kind}: shape[0] = [{','.join(map(str, first))}] vs. shape[{i}] = "
                          f"[{','.join(map(str, shape))}]"):
            return jnp.zeros((0,), dtype), jnp.float32(0), jnp.float32(0)
    mins = [_concrete(m) for m in mins]
    maxes = [_concrete(m) for m in maxes]
    xp = _xp(*mins, *maxes)
    mins = [_f32(xp, _scalar(m)) for m in mins]
    maxes = [_f32(xp, _scalar(m)) for m in maxes]
    overall_min, overall_max = mins[0], maxes[0]
    for low, high in zip(mins[1:], maxes[1:]):
        overall_min, overall_max = xp.minimum(overall_min, low), xp.maximum(overall_max, high)
    if dtype == np.int32:  # signed: a range symmetric around zero
        largest = xp.maximum(xp.abs(overall_min), xp.abs(overall_max))
        overall_min, overall_max = -largest, largest
    lowest, highest = _limits(dtype)
    bits = 8 * dtype.itemsize
    parts = []
    for value, low, high in zip(values, mins, maxes):
        value = jnp.asarray(value)
        requantized = _to_storage(_quantize_min_first(_dequantize_min_first(value, low, high, lowest, xp, bits),
                                                      overall_min, overall_max, lowest, highest, bits, xp), dtype)
        same = (low == overall_min) & (high == overall_max)  # TF copies such an input unchanged
        parts.append(jnp.where(same, value, requantized))
    return jnp.concatenate(parts, axis=axis), _f32(xp, overall_min), _f32(xp, overall_max)


# --- QuantizeAndDequantizeV2 / V3 / V4 (float in, float out) and V4Grad ------------------------------------
def _exact_mul(a, b, dtype):
    """a * b rounded once in `dtype`, never fused into a following addition (float32: `_mul_f32`)."""
    if _is_static(a, b):
        with np.errstate(all="ignore"):
            return np.multiply(a, b, dtype=dtype)
    if np.dtype(dtype) == np.float32:
        return _mul_f32(a, b)
    if np.dtype(dtype) == np.float64:
        return lax.optimization_barrier(jnp.asarray(a, dtype) * jnp.asarray(b, dtype))
    return (jnp.asarray(a, jnp.float32) * jnp.asarray(b, jnp.float32)).astype(dtype)  # half: Eigen's float step


def _qdq_range(signed_input: bool, num_bits: int, narrow_range: bool, min_range, max_range, dtype, xp):
    """ComputeQuantizationRange: (min_range, max_range, scale, inverse_scale) in the input's type, the side
    of the range that sets the scale kept, the other moved onto the grid."""
    half = 1 << (num_bits - 1)
    min_q = (-half + 1 if narrow_range else -half) if signed_input else 0
    max_q = half - 1 if signed_input else (1 << num_bits) - 1
    cast = (lambda v: np.asarray(v, dtype)) if xp is np else (lambda v: jnp.asarray(v, dtype))
    min_qf, max_qf, big = cast(min_q), cast(max_q), cast(np.finfo(dtype).max)
    min_range, max_range = cast(min_range), cast(max_range)
    with np.errstate(all="ignore"):
        from_min = xp.where(cast(min_qf * min_range) > 0, _div(xp, min_qf, min_range, dtype), big)
        from_max = xp.where(cast(max_qf * max_range) > 0, _div(xp, max_qf, max_range, dtype), big)
        use_min = from_min < from_max
        scale = xp.where(use_min, from_min, from_max)
        inverse = xp.where(use_min, _div(xp, min_range, min_qf, dtype), _div(xp, max_range, max_qf, dtype))
        new_min = xp.where(use_min, min_range, cast(min_qf * inverse))
        new_max = xp.where(use_min, cast(max_qf * inverse), max_range)
    return cast(new_min), cast(new_max), cast(scale), cast(inverse)


def _qdq_values(x, signed_input, num_bits, range_given, round_mode, narrow_range, axis, min_range, max_range):
    dtype = np.dtype(x.dtype)
    reduce_axes = tuple(i for i in range(jnp.ndim(x)) if i != axis) if axis > -1 else None
    if not range_given:  # the data's own range (per slice along axis)
        min_range, max_range = jnp.min(x, axis=reduce_axes), jnp.max(x, axis=reduce_axes)
    min_range, max_range = _concrete(min_range), _concrete(max_range)
    xp = _xp(min_range, max_range)
    low, high, scale, inverse = _qdq_range(signed_input, num_bits, narrow_range, min_range, max_range, dtype, xp)
    low, high, scale, inverse = _slices(x, axis, *(v if xp is np else jnp.asarray(v) for v in
                                                   (low, high, scale, inverse)))
    if range_given:
        x = _clamp(x, jnp.asarray(low, dtype), jnp.asarray(high, dtype))
    scaled = _exact_mul(x, jnp.asarray(scale, dtype), dtype)
    if round_mode == "HALF_UP":
        rounded = jnp.floor((scaled + jnp.asarray(0.5, dtype)).astype(dtype))
    else:
        rounded = jnp.round(scaled)
    return (jnp.asarray(rounded, dtype) * jnp.asarray(inverse, dtype)).astype(dtype)


def _qdq_checks(x, min_range, max_range, *, num_bits, signed_input, range_given, axis, round_mode,
                num_bits_text: str) -> bool:
    """The kernels' checks; True when the run may compute."""
    limit = 62 if signed_input else 63
    if _invalid(0 < num_bits < limit,
                f"num_bits is out of range: {num_bits} with {num_bits_text} {1 if signed_input else 0}"):
        return False
    if _invalid(round_mode in ("HALF_TO_EVEN", "HALF_UP"),
                f"Round mode string must be 'HALF_UP' or 'HALF_TO_EVEN', is '{round_mode}'"):
        return False
    if _invalid(axis == -1 or axis < jnp.ndim(x), f"Shape must be at least rank {axis + 1} but is rank {jnp.ndim(x)}"):
        return False
    if not range_given:
        return True
    # TF 2.21's kernels take a given range as scalars only, per-axis too (its per-channel range_given path
    # is unreachable)
    if _invalid(jnp.ndim(min_range) == 0, "input_min must be a scalar.") or \
            _invalid(jnp.ndim(max_range) == 0, "input_max must be a scalar."):
        return False
    if axis == -1:
        low, high = _scalar(min_range), _scalar(max_range)
        require(low <= high, errors.InvalidArgumentError,
                lambda: f"Invalid range: input_min {_c_float(low)} > input_max {_c_float(high)}")
    return True


# TF's CPU build registers the QuantizeAndDequantize kernels for float and double only (its error lists these)
_QDQ_KERNELS = ["device='XLA_GPU_JIT'; T in [DT_FLOAT, DT_DOUBLE, DT_BFLOAT16, DT_HALF]",
                "device='GPU'; T in [DT_DOUBLE]", "device='GPU'; T in [DT_FLOAT]", "device='CPU'; T in [DT_DOUBLE]", "device='CPU'; T in [DT_FLOAT]",
                "device='XLA_CPU_JIT'; T in [DT_FLOAT, DT_DOUBLE, DT_BFLOAT16, DT_HALF]"]


def _qdq_kernel(op) -> None:
    if np.dtype(op.attrs["T"].as_numpy_dtype) not in (np.float32, np.float64):
        raise no_kernel(op, _QDQ_KERNELS)


def _qdq_rule(straight_through: bool):
    def rule(ctx, op, x, min_range, max_range, num_bits=None, *, num_bits_text="signed_input_"):
        _qdq_kernel(op)
        attrs = op.attrs
        return _qdq_compute(x, min_range, max_range, signed_input=attrs["signed_input"],
                            num_bits=attrs["num_bits"] if num_bits is None else num_bits,
                            range_given=attrs["range_given"], round_mode=attrs.get("round_mode", "HALF_TO_EVEN"),
                            narrow_range=attrs["narrow_range"], axis=attrs["axis"], num_bits_text=num_bits_text,
                            straight_through=straight_through)
    return rule


def _qdq_compute(x, min_range, max_range, *, signed_input, num_bits, range_given, round_mode, narrow_range, axis,
                 num_bits_text, straight_through):
    """V2/V3/V4's values; V2 and V3 pass the gradient straight through (TF's Python gradients), V4's is
    TF's QuantizeAndDequantizeV4Grad op, recorded by tf.gradients."""
    x = jnp.asarray(x)
    num_bits = int(num_bits)
    if not _qdq_checks(x, min_range, max_range, num_bits=num_bits, signed_input=signed_input,
                       range_given=range_given, axis=axis, round_mode=round_mode, num_bits_text=num_bits_text):
        return jnp.zeros(jnp.shape(x), x.dtype)

    def compute(values, low, high):
        return _qdq_values(values, signed_input, num_bits, range_given, round_mode, narrow_range, axis, low, high)
    if not straight_through:
        return compute(x, min_range, max_range)

    @jax.custom_vjp
    def qdq(values, low, high):
        return compute(values, low, high)

    def backward(ranges, gradient):  # straight through to the input, none to the range
        return gradient, jnp.zeros_like(ranges[0]), jnp.zeros_like(ranges[1])
    qdq.defvjp(lambda values, low, high: (qdq(values, low, high), (low, high)), backward)
    return qdq(x, jnp.asarray(min_range, x.dtype), jnp.asarray(max_range, x.dtype))


lowers("QuantizeAndDequantizeV2", context=True)(_qdq_rule(straight_through=True))
lowers("QuantizeAndDequantizeV4", context=True)(_qdq_rule(straight_through=False))


@lowers("QuantizeAndDequantizeV3", context=True)
def quantize_and_dequantize_v3(ctx, op, x, min_range, max_range, num_bits):
    from lowering.rules.array import _ints
    return _qdq_rule(straight_through=True)(ctx, op, x, min_range, max_range, num_bits=_ints(num_bits)[0],
                                            num_bits_text="`signed_input_`")


@lowers("QuantizeAndDequantizeV4Grad", context=True)
def quantize_and_dequantize_v4_grad(ctx, op, gradients, x, min_range, max_range):
    _qdq_kernel(op)
    axis = op.attrs["axis"]
    gradients, x = jnp.asarray(gradients), jnp.asarray(x)
    low, high = _slices(x, axis, jnp.asarray(min_range), jnp.asarray(max_range))
    one, zero = jnp.asarray(1, x.dtype), jnp.asarray(0, x.dtype)
    inside = jnp.where((x >= low) & (x <= high), one, zero)  # TF multiplies by the mask (NaN stays NaN)
    return (gradients * inside, jnp.zeros(jnp.shape(min_range), x.dtype),
            jnp.zeros(jnp.shape(max_range), x.dtype))


# --- the quantize_nodes ops: QuantizedRelu / Relu6 / ReluX, QuantizedMaxPool / AvgPool, QuantizedConv2D ------
def _float_to_quantized(value, range_min, range_max, dtype, xp):
    """FloatToQuantized: FloatToQuantizedUnclamped clamped to T's limits."""
    lowest, highest = _limits(dtype)
    unclamped = _float_to_quantized_unclamped(value, range_min, range_max, lowest, 8 * np.dtype(dtype).itemsize, xp)
    return xp.clip(unclamped, lowest, highest)


def _same_types_kernel(op, kernel_types: tuple) -> np.dtype:
    dtype = np.dtype(op.attrs["Tinput"].as_numpy_dtype)[0]
    out = np.dtype(op.attrs["out_type"].as_numpy_dtype)[0]
    if dtype != out or dtype not in kernel_types:
        raise no_kernel(op, [f"device='CPU'; Tinput in [DT_{_TF_NAMES[t]}]; out_type in [DT_{_TF_NAMES[t]}]"
                             for t in map(np.dtype, kernel_types)])
    return dtype


def _relu_rule(upper):
    """QuantizedRelu (upper None) and Relu6 (6.0): a clamp in quantized space, the range unchanged."""
    def rule(ctx, op, features, min_input, max_input):
        dtype = _same_types_kernel(op, (np.int32, np.uint8))
        min_input, max_input = _concrete(_scalar(min_input)), _concrete(_scalar(max_input))
        xp = _xp(min_input, max_input)
        min_input, max_input = _f32(xp, min_input), _f32(xp, max_input)
        out = jnp.maximum(jnp.asarray(features), jnp.asarray(_float_to_quantized(0.0, min_input, max_input, dtype, xp),
                                                             dtype))
        if upper is not None:
            out = jnp.minimum(out, jnp.asarray(_float_to_quantized(upper, min_input, max_input, dtype, xp), dtype))
        return out.astype(dtype), jnp.asarray(min_input, jnp.float32), jnp.asarray(max_input, jnp.float32)
    return rule


lowers("QuantizedRelu", context=True)(_relu_rule(None))
lowers("QuantizedRelu6", context=True)(_relu_rule(6.0))


@lowers("QuantizedReluX", context=True)
def quantized_relu_x(ctx, op, features, max_value, min_input, max_input):
    # TF 2.21's CPU build registers no QuantizedReluX kernel at all
    raise no_kernel(op, ["<no registered kernels>"])


def _quint8_only(op) -> None:
    if np.dtype(op.attrs["T"].as_numpy_dtype)[0] != np.uint8:
        raise no_kernel(op, ["device='CPU'; T in [DT_QUINT8]"])


def _pool_checks(x, ksize, strides) -> bool:
    if _invalid(len(ksize) == 4, "Sliding window ksize field must specify 4 dimensions") or \
            _invalid(len(strides) == 4, "Sliding window strides field must specify 4 dimensions"):
        return False
    if _fail(ksize[0] == 1 and strides[0] == 1, errors.UnimplementedError,
             "Pooling is not yet supported on the batch dimension."):
        return False
    return not _invalid(jnp.ndim(x) == 4, "tensor_in must be 4-dimensional")


@lowers("QuantizedMaxPool", context=True)
def quantized_max_pool(ctx, op, x, min_input, max_input):
    _quint8_only(op)
    ksize, strides, padding = list(op.attrs["ksize"]), list(op.attrs["strides"]), op.attrs["padding"]
    if not _pool_checks(x, ksize, strides):
        return jnp.zeros((0,), jnp.uint8), jnp.float32(0), jnp.float32(0)
    out = lax.reduce_window(jnp.asarray(x), np.uint8(0), lax.max, tuple(ksize), tuple(strides), padding)
    return out, jnp.asarray(_scalar(min_input), jnp.float32), jnp.asarray(_scalar(max_input), jnp.float32)


@lowers("QuantizedAvgPool", context=True)
def quantized_avg_pool(ctx, op, x, min_input, max_input):
    """TF's reference kernel: SpatialAvgPool on int32, the window's sum divided by its count of real
    elements, truncating (TF's oneDNN kernel rounds halves to even instead)."""
    _quint8_only(op)
    ksize, strides, padding = list(op.attrs["ksize"]), list(op.attrs["strides"]), op.attrs["padding"]
    if not _pool_checks(x, ksize, strides):
        return jnp.zeros((0,), jnp.uint8), jnp.float32(0), jnp.float32(0)
    x = jnp.asarray(x, jnp.int32)
    total = lax.reduce_window(x, np.int32(0), lax.add, tuple(ksize), tuple(strides), padding)
    counts = lax.reduce_window(jnp.ones(jnp.shape(x), jnp.int32), np.int32(0), lax.add, tuple(ksize), tuple(strides),
                               padding)
    out = jnp.clip(lax.div(total, counts), 0, 255).astype(jnp.uint8)
    return out, jnp.asarray(_scalar(min_input), jnp.float32), jnp.asarray(_scalar(max_input), jnp.float32)


@lowers("QuantizedConv2D", context=True)
def quantized_conv2d(ctx, op, x, w, min_input, max_input, min_filter, max_filter):
    """im2col + gemmlowp with TF's offsets: sum((x - offset_input) * (w - offset_filter)) in int32, the
    padding contributing zero; one int32 step is the product of the inputs' steps."""
    attrs = op.attrs
    if (np.dtype(attrs["Tinput"].as_numpy_dtype)[0], np.dtype(attrs["Tfilter"].as_numpy_dtype)[0],
            np.dtype(attrs["out_type"].as_numpy_dtype)[0]) != (np.uint8, np.uint8, np.int32):
        raise no_kernel(op, ["device='CPU'; Tinput in [DT_QUINT8]; Tfilter in [DT_QUINT8]; out_type in [DT_QINT32]"])
    strides, padding, dilations = list(attrs["strides"]), attrs["padding"], list(attrs.get("dilations", [1] * 4))
    if _invalid(len(strides) == 4, "Sliding window strides field must specify 4 dimensions") or \
            _fail(strides[0] == 1 and strides[3] == 1, errors.UnimplementedError,
                  "Current implementation does not yet support strides in the batch and depth dimensions.") or \
            _invalid(strides[1] == strides[2], "Current implementation only supports equal length strides in the "
                                               "row and column dimensions.") or \
            _fail(all(d == 1 for d in dilations), errors.UnimplementedError,
                  "Current implementation does not yet support dilations.") or \
            _invalid(jnp.ndim(x) == 4, f"input must be 4-dimensional{_shape_text(x)}") or \
            _invalid(jnp.ndim(w) == 4, f"filter must be 4-dimensional: {_shape_text(w)}") or \
            _invalid(jnp.shape(x)[3] == jnp.shape(w)[2],
                     f"input and filter must have the same depth: {jnp.shape(x)[3]} vs {jnp.shape(w)[2]}"):
        return jnp.zeros((0,), jnp.int32), jnp.float32(0), jnp.float32(0)
    min_input, max_input, min_filter, max_filter = (_concrete(_scalar(v)) for v in
                                                    (min_input, max_input, min_filter, max_filter))
    xp = _xp(min_input, max_input, min_filter, max_filter)
    min_input, max_input, min_filter, max_filter = (_f32(xp, v) for v in (min_input, max_input, min_filter,
                                                                          max_filter))
    if xp is np and max_input < 0:
        # an input range entirely below zero puts TF's input offset past 255, where its gemmlowp path gives
        # other sums than the offset arithmetic; not reproduced
        raise NotImplementedError("QuantizedConv2D with an input range entirely below zero (max_input < 0)")
    offset_input = _float_to_quantized_unclamped(0.0, min_input, max_input, 0, 8, xp)
    offset_filter = _float_to_quantized_unclamped(0.0, min_filter, max_filter, 0, 8, xp)
    lhs = jnp.asarray(x, jnp.int32) - jnp.asarray(offset_input, jnp.int32)
    rhs = jnp.asarray(w, jnp.int32) - jnp.asarray(offset_filter, jnp.int32)
    out = lax.conv_general_dilated(lhs, rhs, window_strides=tuple(strides[1:3]), padding=padding,
                                   dimension_numbers=("NHWC", "HWIO", "NHWC"), preferred_element_type=jnp.int32)
    level = (_float_for_one_level(min_input, max_input, 0, 255, xp) *
             _float_for_one_level(min_filter, max_filter, 0, 255, xp)).astype(_F32)
    low, high = _limits(np.int32)
    return out.astype(jnp.int32), jnp.asarray(level * _F32(low), jnp.float32), \
        jnp.asarray(level * _F32(high), jnp.float32)


@lowers("QuantizedBiasAdd", context=True)
def quantized_bias_add(ctx, op, x, bias, min_input, max_input, min_bias, max_bias):
    """QuantizedAddUsingEigen: both operands requantized into a symmetric qint32 range 2^17 times the
    larger input range, then added with the zero point of that range."""
    attrs = op.attrs
    if (np.dtype(attrs["T1"].as_numpy_dtype)[0], np.dtype(attrs["T2"].as_numpy_dtype)[0],
            np.dtype(attrs["out_type"].as_numpy_dtype)[0]) != (np.uint8, np.uint8, np.int32):
        raise no_kernel(op, ["device='CPU'; T1 in [DT_QUINT8]; T2 in [DT_QUINT8]; out_type in [DT_QINT32]"])
    x, bias = jnp.asarray(x), jnp.asarray(bias)
    if _invalid(jnp.ndim(x) >= 2, f"Input tensor must be at least 2D: {_shape_text(x)}") or \
            _invalid(jnp.ndim(bias) == 1, f"Biases must be 1D: {_shape_text(bias)}") or \
            _invalid(jnp.shape(bias)[0] == jnp.shape(x)[-1],
                     f"Must provide as many biases as the last dimension of the input tensor: {_shape_text(bias)} vs. "
                     f"{_shape_text(x)}"):
        return jnp.zeros((0,), jnp.int32), jnp.float32(0), jnp.float32(0)
    ranges = [_concrete(_scalar(v)) for v in (min_input, max_input, min_bias, max_bias)]
    xp = _xp(*ranges)
    min_input, max_input, min_bias, max_bias = (_f32(xp, v) for v in ranges)
    # GetOutputMinAndMaxForQuantizedAdd
    out_max = (xp.maximum(max_input, xp.maximum(-min_input, xp.maximum(max_bias, -min_bias))) *
               _F32(1 << 17)).astype(_F32)
    out_min = (-out_max).astype(_F32)
    lowest, highest = _limits(np.int32)
    zero = jnp.asarray(_float_to_quantized(0.0, out_min, out_max, np.int32, xp), jnp.int32)

    def in_total_space(q, low, high):
        values = _dequantize_min_first(q, low, high, 0, xp, 8)
        return _to_storage(_quantize_min_first(values, out_min, out_max, lowest, highest, 32, xp), np.int32)
    out = in_total_space(x, min_input, max_input) + (in_total_space(bias, min_bias, max_bias) + zero)
    return out.astype(jnp.int32), jnp.asarray(out_min, jnp.float32), jnp.asarray(out_max, jnp.float32)


def _bcast_groups(x_shape, y_shape):
    """TF's BCast: the number of groups of adjacent dimensions with one broadcast pattern (dimensions of
    size 1 in both dropped), or None when the shapes do not broadcast."""
    rank = max(len(x_shape), len(y_shape))
    x_shape = (1,) * (rank - len(x_shape)) + tuple(x_shape)
    y_shape = (1,) * (rank - len(y_shape)) + tuple(y_shape)
    groups, previous = 0, None
    for a, b in zip(x_shape, y_shape):
        if a == 1 and b == 1:
            continue
        if a == b:
            state = "same"
        elif a == 1:
            state = "x"
        elif b == 1:
            state = "y"
        else:
            return None
        if state != previous:
            groups, previous = groups + 1, state
    return max(groups, 1)


@lowers("QuantizedMul", context=True)
def quantized_mul(ctx, op, x, y, min_x, max_x, min_y, max_y):
    """(x - offset_x) * (y - offset_y) in int32; the range of one step the product of the inputs' steps."""
    attrs = op.attrs
    if (np.dtype(attrs["T1"].as_numpy_dtype)[0], np.dtype(attrs["T2"].as_numpy_dtype)[0],
            np.dtype(attrs["Toutput"].as_numpy_dtype)[0]) != (np.uint8, np.uint8, np.int32):
        raise no_kernel(op, ["device='CPU'; T1 in [DT_QUINT8]; T2 in [DT_QUINT8]; Toutput in [DT_QINT32]"])
    empty = jnp.zeros((0,), jnp.int32), jnp.float32(0), jnp.float32(0)
    for value, label in ((min_x, "min_x"), (max_x, "max_x"), (min_y, "min_y"), (max_y, "max_y")):
        if _invalid(jnp.ndim(value) == 0, f"{label} must be a scalar"):
            return empty
    x, y = jnp.asarray(x), jnp.asarray(y)
    x_shape, y_shape = tuple(jnp.shape(x)), tuple(jnp.shape(y))
    groups = _bcast_groups(x_shape, y_shape)
    if _invalid(groups is not None, f"Incompatible shapes: {_shape_text(x)} vs. {_shape_text(y)}"):
        return empty
    ranges = [_concrete(v) for v in (min_x, max_x, min_y, max_y)]
    xp = _xp(*ranges)
    min_x, max_x, min_y, max_y = (_f32(xp, v) for v in ranges)
    require(max_x > min_x, errors.InvalidArgumentError, "max_x must be larger than min_a.")
    require(max_y > min_y, errors.InvalidArgumentError, "max_x must be larger than min_b.")
    if groups > 2 and _fail(False, errors.UnimplementedError,
                            f"Broadcast between {_shape_text(x)} and {_shape_text(y)} is not supported yet."):
        return empty
    if groups == 2:
        # TF's VectorTensorMultiply tiles the smaller operand over the larger one's elements: numpy's
        # broadcast only when the smaller is the larger's trailing dimensions
        small, large = (x_shape, y_shape) if np.prod(x_shape) < np.prod(y_shape) else (y_shape, x_shape)
        trimmed = tuple(small[next((i for i, d in enumerate(small) if d != 1), len(small)):])
        if trimmed and trimmed != tuple(large[len(large) - len(trimmed):]):
            raise NotImplementedError(f"QuantizedMul broadcasting {_shape_text(x)} and {_shape_text(y)} (TF tiles "
                                      "the smaller operand's elements over the larger's)")
    offset_x = jnp.asarray(_float_to_quantized_unclamped(0.0, min_x, max_x, 0, 8, xp), jnp.int32)
    offset_y = jnp.asarray(_float_to_quantized_unclamped(0.0, min_y, max_y, 0, 8, xp), jnp.int32)
    out = (x.astype(jnp.int32) - offset_x) * (y.astype(jnp.int32) - offset_y)
    level = (_float_for_one_level(min_x, max_x, 0, 255, xp) * _float_for_one_level(min_y, max_y, 0, 255, xp)) \
        .astype(_F32)
    low, high = _limits(np.int32)
    return out.astype(jnp.int32), jnp.asarray(level * _F32(low), jnp.float32), \
        jnp.asarray(level * _F32(high), jnp.float32)
