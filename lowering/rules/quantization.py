"""Lowering of TF's fake-quantization ops (graphcompat/ops/quantization_ops.py), bitwise TF's CPU kernels
(core/kernels/fake_quant_ops_functor.h).

The range [min, max] is nudged so that 0.0 is a grid point: scale = (max - min) / (quant_max - quant_min),
the zero point min / scale is rounded half away from zero into [quant_min, quant_max], and the nudged
range is (quant_min - zero_point) * scale .. (quant_max - zero_point) * scale. Inputs are clamped to it and
rounded to the grid: floor(shifted * (1 / scale) - quant_zero + 0.5) * scale, where the Vars kernel divides
by the scale instead of multiplying by its inverse, and the inverse is (quant_max - quant_min) / (max - min),
not 1 / scale. Every step is one float32 operation, rounded, in TF's order. Two things XLA would change:

- its algebraic simplifier rewrites divisions (`a / (b / c)` → `a * c / b`, a division by a broadcast
  scalar → a multiplication by its reciprocal): the operands are kept behind optimization barriers;
- its CPU and GPU code generators contract a multiplication feeding an addition into one fused
  multiply-add (rounded once, not twice), which moves values at the grid's half-way points to the next
  step. `_mul_f32` multiplies in float64 (exact for float32 operands) and rounds to float32 precision with
  reduce_precision, which no compiler fuses into the next operation.

Gradients (the *Gradient ops, and the VJPs of the forward ops for uses `tf.gradients` does not see, such
as a forward op inside a while loop's body) pass the incoming gradient where the input lies inside the
nudged range; the Vars variants sum the gradient below the range into min's and above it into max's.
A range with min == max == 0 (Vars variants) quantizes to 0 and passes every gradient to the input.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import errors
from lowering.interpreter import require
from lowering.registry import lowers
from lowering.rules.math import true_divide

_F32 = np.float32


def _c_float(value) -> str:
    """A float32 as TF's StrCat prints it: the shortest of %.6g / %.9g that reads back the same."""
    value = _F32(value)
    text = "%.6g" % value
    return text if _F32(text) == value else "%.9g" % value


def _valid(ok: bool, message) -> bool:
    """A kernel check on attrs or static shapes (always a Python bool here): TF's InvalidArgumentError for
    this run when it fails; the rule then returns zeros of its output shapes instead of computing."""
    require(ok, errors.InvalidArgumentError, message)
    return bool(ok)


def _quant_range(num_bits: int, narrow_range: bool) -> tuple:
    """(quant_min, quant_max), and whether num_bits is valid (TF's kernel constructor rejects the node)."""
    ok = _valid(2 <= num_bits <= 16, "num_bits must be between 2 and 16, inclusive")
    return (1 if narrow_range else 0), (1 << (num_bits if ok else 8)) - 1, ok


def _is_static(*values) -> bool:
    return all(isinstance(v, (np.ndarray, np.generic)) for v in values)


def _mul_f32(a, b):
    """a * b rounded once to float32, in a form no compiler fuses into a following addition."""
    if _is_static(a, b):
        with np.errstate(all="ignore"):
            return np.multiply(a, b, dtype=_F32)
    product = jnp.asarray(a, jnp.float64) * jnp.asarray(b, jnp.float64)  # exact: 24 + 24 bits < 53
    return lax.reduce_precision(product, exponent_bits=8, mantissa_bits=23).astype(jnp.float32)


def _round_half_away(x, xp):
    """std::round: halves away from zero (jnp.round and np.round round them to even)."""
    whole = xp.trunc(x)
    return xp.where(xp.abs(x - whole) >= _F32(0.5), whole + xp.sign(x), whole)


def _nudge(min_value, max_value, quant_min: int, quant_max: int):
    """TF's Nudge: (nudged_min, nudged_max, scale, inv_scale), in float32. With static (numpy) bounds the
    arithmetic is numpy's float32, else traced behind optimization barriers (see the module text)."""
    if _is_static(min_value, max_value):
        with np.errstate(all="ignore"):  # an empty range divides by zero, as TF's kernel does
            return _nudge_in(np, lambda v: v, np.asarray(min_value, _F32), np.asarray(max_value, _F32),
                             quant_min, quant_max)
    return _nudge_in(jnp, lax.optimization_barrier, jnp.asarray(min_value, jnp.float32),
                     jnp.asarray(max_value, jnp.float32), quant_min, quant_max)


def _nudge_in(xp, keep, min_value, max_value, quant_min: int, quant_max: int):
    quant_min_f, quant_max_f = _F32(quant_min), _F32(quant_max)
    steps = keep(xp.asarray(quant_max_f - quant_min_f, _F32))  # a constant divisor: XLA would use 1 / steps
    width = keep(max_value - min_value)
    scale = keep(width / steps)
    inv_scale = keep(steps / width)
    zero_point_from_min = quant_min_f - min_value / scale
    # TF stores the zero point in a uint16 after clamping it into [quant_min, quant_max].
    zero_point = xp.where(zero_point_from_min < quant_min_f, quant_min_f,
                          xp.where(zero_point_from_min > quant_max_f, quant_max_f,
                                   _round_half_away(zero_point_from_min, xp)))
    nudged_min = (quant_min_f - zero_point) * scale
    nudged_max = (quant_max_f - zero_point) * scale
    if xp is np:
        return tuple(np.asarray(v, _F32) for v in (nudged_min, nudged_max, scale, inv_scale))
    return nudged_min, nudged_max, scale, inv_scale


def _quantize(inputs, min_value, max_value, quant_min: int, quant_max: int, divide: bool, nudged=None):
    """TF's functor: clamp to the nudged range, round to the grid. `divide`: the Vars kernel's
    `shifted / scale` (others multiply by the inverse scale). Both-zero ranges give 0, as TF's."""
    inputs = jnp.asarray(inputs, jnp.float32)
    nudged_min, nudged_max, scale, inv_scale = nudged or _nudge(min_value, max_value, quant_min, quant_max)
    quant_zero = jnp.floor(_mul_f32(-nudged_min, inv_scale) + _F32(0.5))
    # Behind a barrier XLA cannot fold constant bounds into the element-wise arithmetic: it would
    # reassociate `steps - quant_zero + 0.5` into `steps + (0.5 - quant_zero)`, exact where TF rounds twice.
    nudged_min, nudged_max, scale, inv_scale, quant_zero = lax.optimization_barrier(tuple(
        jnp.asarray(v, jnp.float32) for v in (nudged_min, nudged_max, scale, inv_scale, quant_zero)))
    shifted = jnp.maximum(jnp.minimum(inputs, nudged_max), nudged_min) - nudged_min
    steps = true_divide(shifted, scale) if divide else _mul_f32(shifted, inv_scale)
    outputs = jnp.floor(steps - quant_zero + _F32(0.5)) * scale
    both_zero = (jnp.asarray(min_value) == 0) & (jnp.asarray(max_value) == 0)
    return jnp.where(both_zero, _F32(0), outputs).astype(jnp.float32)


def _backprop(gradients, inputs, min_value, max_value, quant_min: int, quant_max: int, reduce_axes, nudged=None):
    """TF's gradient functors: (wrt input, wrt min, wrt max); `reduce_axes` sums the min/max gradients
    (all axes for a scalar range, all but the last for a per-channel one)."""
    gradients = jnp.asarray(gradients, jnp.float32)
    inputs = jnp.asarray(inputs, jnp.float32)
    nudged_min, nudged_max, _, _ = nudged or _nudge(min_value, max_value, quant_min, quant_max)
    one, zero = _F32(1), _F32(0)
    # TF multiplies by a 0/1 mask (a NaN gradient outside the range stays NaN), it does not select.
    inside = gradients * jnp.where((inputs >= nudged_min) & (inputs <= nudged_max), one, zero)
    below = jnp.sum(gradients * jnp.where(inputs < nudged_min, one, zero), axis=reduce_axes)
    above = jnp.sum(gradients * jnp.where(inputs > nudged_max, one, zero), axis=reduce_axes)
    both_zero = (jnp.asarray(min_value) == 0) & (jnp.asarray(max_value) == 0)
    return (jnp.where(both_zero, gradients, inside), jnp.where(both_zero, zero, below).astype(jnp.float32),
            jnp.where(both_zero, zero, above).astype(jnp.float32))


def _per_channel_axes(inputs) -> tuple:
    return tuple(range(jnp.ndim(inputs) - 1))


# --- the kernels' input checks (each returns whether it holds) --------------------------------------
def _args_range_ok(min_value: float, max_value: float) -> bool:
    return _valid(min_value < max_value,
                  lambda: f"min has to be smaller than max, was: {_c_float(min_value)} >= {_c_float(max_value)}")


def _shape_text(x) -> str:
    return "[" + ",".join(str(d) for d in jnp.shape(x)) + "]"


def _same_size_ok(op, gradients, inputs) -> bool:
    same = jnp.shape(gradients) == jnp.shape(inputs)
    if op is not None:  # FakeQuantWithMinMaxArgsGradient is a BinaryElementWiseOp: its text names the node
        return _valid(same, lambda: f"Inputs to operation {op.name} of type {op.type} must have the same size and "
                                    f"shape.  Input 0: {_shape_text(gradients)} != input 1: {_shape_text(inputs)}")
    return _valid(same, "gradient and input must be the same size")


def _rank_ok(value, rank: int, arg: str) -> bool:
    return _valid(jnp.ndim(value) == rank, lambda: f"`{arg}` must be rank {rank} but is rank {jnp.ndim(value)}")


def _scalar_range_ok(min_value, max_value) -> bool:
    return _rank_ok(min_value, 0, "min") and _rank_ok(max_value, 0, "max")


def _per_channel_ok(inputs, min_value, max_value) -> bool:
    # A scalar input aborts TF's process (a failed CHECK in dim_size); graphcompat raises the shape
    # function's text instead.
    if not _valid(jnp.ndim(inputs) >= 1, lambda: f"Shape must be at least rank 1 but is rank {jnp.ndim(inputs)}"):
        return False
    depth = jnp.shape(inputs)[-1]
    for value, arg in ((min_value, "min"), (max_value, "max")):
        if not (_rank_ok(value, 1, arg) and _valid(
                jnp.shape(value)[0] == depth,
                lambda value=value, arg=arg: f"{arg} has incorrect size, expected {depth} was {jnp.shape(value)[0]}")):
            return False
    return True


def _zeros(*likes):
    """What a rule returns for a run its checks failed (the run raises; the values are never seen)."""
    outs = tuple(jnp.zeros(jnp.shape(x), jnp.float32) for x in likes)
    return outs[0] if len(outs) == 1 else outs


# --- the forward ops: TF's values, TF's gradients under jax.vjp --------------------------------------
@lowers("FakeQuantWithMinMaxArgs")
def fake_quant_with_min_max_args(inputs, *, min, max, num_bits, narrow_range, **_):  # noqa: A002
    quant_min, quant_max, ok = _quant_range(num_bits, narrow_range)
    if not (ok and _args_range_ok(min, max)):
        return _zeros(inputs)
    low, high = _F32(min), _F32(max)

    @jax.custom_vjp
    def fake_quant(x):
        return _quantize(x, low, high, quant_min, quant_max, divide=False)

    def forward(x):
        return fake_quant(x), x

    def backward(x, gradient):
        # TF's FakeQuantWithMinMaxArgsGradient is NotDifferentiable: a gradient of this gradient gets nothing
        x, gradient = lax.stop_gradient((x, gradient))
        return (_backprop(gradient, x, low, high, quant_min, quant_max, ())[0],)

    fake_quant.defvjp(forward, backward)
    return fake_quant(jnp.asarray(inputs, jnp.float32))


def _vars_rule(per_channel: bool):
    # The Vars kernel divides by the scale; the per-channel one multiplies by the inverse, as Args.
    def rule(inputs, min_value, max_value, *, num_bits, narrow_range, **_):
        quant_min, quant_max, ok = _quant_range(num_bits, narrow_range)
        if not (ok and (_per_channel_ok(inputs, min_value, max_value) if per_channel
                        else _scalar_range_ok(min_value, max_value))):
            return _zeros(inputs)
        # Constant bounds (a frozen graph's) are nudged here in numpy: inside a compiled step XLA would fold
        # the constant arithmetic with its own rewrites (a division by 3 as a multiplication by 1/3).
        nudged = _nudge(min_value, max_value, quant_min, quant_max) if _is_static(min_value, max_value) else None

        @jax.custom_vjp
        def fake_quant(x, low, high):
            return _quantize(x, low, high, quant_min, quant_max, not per_channel, nudged)

        def forward(x, low, high):
            return fake_quant(x, low, high), (x, low, high)

        def backward(saved, gradient):
            # TF's FakeQuantWithMinMaxVars*Gradient is NotDifferentiable: a gradient of this gradient gets nothing
            (x, low, high), gradient = lax.stop_gradient((saved, gradient))
            axes = _per_channel_axes(x) if per_channel else None
            return _backprop(gradient, x, low, high, quant_min, quant_max, axes, nudged)

        fake_quant.defvjp(forward, backward)
        return fake_quant(jnp.asarray(inputs, jnp.float32), jnp.asarray(min_value, jnp.float32),
                          jnp.asarray(max_value, jnp.float32))
    return rule


lowers("FakeQuantWithMinMaxVars")(_vars_rule(per_channel=False))
lowers("FakeQuantWithMinMaxVarsPerChannel")(_vars_rule(per_channel=True))


# --- the gradient ops ----------------------------------------------------------------------------------
# TF registers them NotDifferentiable: where JAX differentiates one (a gradient of the forward op's gradient,
# whose recorded kernel runs inside the first gradient's VJP), its inputs are constants.
def _constants(*values) -> tuple:
    """The traced values among `values` behind stop_gradient (host values stay numpy: a static range is
    nudged in numpy, as the forward rules do)."""
    return tuple(lax.stop_gradient(v) if isinstance(v, jax.core.Tracer) else v for v in values)


@lowers("FakeQuantWithMinMaxArgsGradient", context=True)
def fake_quant_with_min_max_args_gradient(ctx, op, gradients, inputs):
    gradients, inputs = _constants(gradients, inputs)
    attrs = op.attrs
    quant_min, quant_max, ok = _quant_range(attrs["num_bits"], attrs["narrow_range"])
    if not (ok and _args_range_ok(attrs["min"], attrs["max"]) and _same_size_ok(op, gradients, inputs)):
        return _zeros(gradients)
    return _backprop(gradients, inputs, _F32(attrs["min"]), _F32(attrs["max"]), quant_min, quant_max, ())[0]


@lowers("FakeQuantWithMinMaxVarsGradient")
def fake_quant_with_min_max_vars_gradient(gradients, inputs, min_value, max_value, *, num_bits, narrow_range, **_):
    gradients, inputs, min_value, max_value = _constants(gradients, inputs, min_value, max_value)
    quant_min, quant_max, ok = _quant_range(num_bits, narrow_range)
    if not (ok and _same_size_ok(None, gradients, inputs) and _scalar_range_ok(min_value, max_value)):
        return _zeros(gradients, min_value, max_value)
    return _backprop(gradients, inputs, min_value, max_value, quant_min, quant_max, None)


@lowers("FakeQuantWithMinMaxVarsPerChannelGradient")
def fake_quant_with_min_max_vars_per_channel_gradient(gradients, inputs, min_value, max_value, *, num_bits,
                                                      narrow_range, **_):
    gradients, inputs, min_value, max_value = _constants(gradients, inputs, min_value, max_value)
    quant_min, quant_max, ok = _quant_range(num_bits, narrow_range)
    if not (ok and _same_size_ok(None, gradients, inputs) and _per_channel_ok(inputs, min_value, max_value)):
        return _zeros(gradients, min_value, max_value)
    return _backprop(gradients, inputs, min_value, max_value, quant_min, quant_max, _per_channel_axes(inputs))
