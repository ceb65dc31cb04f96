"""Lowerings of math ops (graphcompat/ops/math_ops.py): one small JAX function per TF op type.

Rules run under `jax.enable_x64(True)`: every dtype is explicit, results keep the input dtype.
"""
from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import dtypes, errors
from lowering import grappler
from lowering.interpreter import current_op, require
from lowering.registry import lowers
from lowering.rules.checks import axis_in_range, invalid, require_in_range, shape_str


def _shape_text(x) -> str:
    return "[" + ",".join(str(d) for d in np.shape(x)) + "]"


def broadcast_error(x, y):
    """TF's run-time error for operands whose (fed) shapes do not broadcast, naming them in the order of
    TF's optimized graph (grappler sorts a commutative op's inputs by name: lowering/grappler.py)."""
    op = current_op()
    if op is not None and grappler.swaps_operands(op):
        x, y = y, x
    return errors.InvalidArgumentError(None, None, f"Incompatible shapes: {_shape_text(x)} vs. {_shape_text(y)}")


def _binary_rule(fn):
    def rule(*args, **_):
        if len(args) == 2:
            check_broadcast(*args)
        return fn(*args)
    return rule


def check_broadcast(x, y) -> tuple:
    """TF's BCast check of two (fed) operand shapes; returns the result shape."""
    try:
        return np.broadcast_shapes(np.shape(x), np.shape(y))
    except ValueError:
        raise broadcast_error(x, y) from None


def _is_integer(x) -> bool:
    return bool(jnp.issubdtype(jnp.result_type(x), jnp.integer))


# TF's BinaryOpShared::SetComputeError: integer FloorDiv/FloorMod (and Div/Mod) by zero is an
# InvalidArgumentError; TruncateDiv/TruncateMod fail the same way but report it as an InternalError.
_DIVISION_BY_ZERO = {
    "FloorDiv": (errors.InvalidArgumentError, "Integer division by zero"),
    "FloorMod": (errors.InvalidArgumentError, "Integer division by zero"),
    "TruncateDiv": (errors.InternalError,
                    "Unexpected error in binary operator (only integer div and mod should have errors)"),
    "TruncateMod": (errors.InternalError,
                    "Unexpected error in binary operator (only integer div and mod should have errors)"),
}


def _checked_division(op_type: str, fn):
    """`fn` after TF's check that no integer divisor is zero (skipped for an empty result, as TF)."""
    error_class, message = _DIVISION_BY_ZERO[op_type]

    def rule(x, y):
        if _is_integer(x) and int(np.prod(check_broadcast(x, y), dtype=np.int64)):
            require(y != 0, error_class, message)
        return fn(x, y)
    return rule


def _truncate_div(x, y):
    if jnp.issubdtype(jnp.result_type(x), jnp.integer):
        return lax.div(*jnp.broadcast_arrays(x, y))  # C-style: rounds toward zero
    return jnp.trunc(x / y)


def _floor_div(x, y):
    if jnp.issubdtype(jnp.result_type(x), jnp.inexact):
        return jnp.floor(x / y)  # TF's FloorDiv on floats is floor(x / y)
    return jnp.floor_divide(x, y)


def _round(x):
    if jnp.issubdtype(jnp.result_type(x), jnp.integer):
        return x
    return jnp.round(x)  # half to even, as TF


def _reciprocal(x):
    return (jnp.ones((), jnp.result_type(x)) / x).astype(jnp.result_type(x))


def _rsqrt_primal(x):
    return lax.rsqrt(jnp.asarray(x))


def _rsqrt(x):
    # TF's RsqrtGrad from the output, -0.5 * y^3: -inf * dy at x = -0.0 (jax's -0.5 * x^-1.5 is +inf there)
    return with_tf_slope(_rsqrt_primal, lambda x, y: np.asarray(-0.5, y.dtype) * (y * y) * y)(jnp.asarray(x))


def _pow(x, y):
    if _is_integer(x) and jnp.issubdtype(jnp.result_type(y), jnp.signedinteger) \
            and int(np.prod(check_broadcast(x, y), dtype=np.int64)):
        require(y >= 0, errors.InvalidArgumentError, "Integers to negative integer powers are not allowed")
    if jnp.issubdtype(jnp.result_type(x), jnp.inexact):
        return differentiable(_pow_inexact)(jnp.asarray(x), jnp.asarray(y)).astype(jnp.result_type(x))
    return jnp.power(x, y).astype(jnp.result_type(x))


@jax.custom_jvp
def _pow_inexact(x, y):
    return jnp.power(x, y)


@_pow_inexact.defjvp
def _pow_jvp(primals, tangents):
    # TF's PowGrad: d/dy is z * log(x) where x > 0 (x != 0 for complex) and 0 elsewhere, not NaN (jax's)
    (x, y), (tx, ty) = primals, tangents
    z = _pow_inexact(x, y)
    mask = x != 0 if jnp.iscomplexobj(x) else x > 0
    log_x = jnp.where(mask, jnp.log(jnp.where(mask, x, jnp.ones((), x.dtype))), jnp.zeros((), x.dtype))
    return z, tx * y * jnp.power(x, y - jnp.ones((), y.dtype)) + ty * z * log_x


_HALF_TYPES = (jnp.float16, jnp.bfloat16)


def _is_half(x) -> bool:
    return jnp.result_type(x) in _HALF_TYPES


def _in_float32_for_halves(fn):
    """`fn`, computed in float32 and rounded once for float16/bfloat16 inputs: TF's kernels evaluate these
    functions on Eigen::half/bfloat16 through float (numext converts, calls the float function, rounds);
    XLA's own 16-bit expansions round their intermediate steps and land an ulp or more away."""
    def rule(x):
        if _is_half(x):
            return fn(jnp.asarray(x, jnp.float32)).astype(jnp.result_type(x))
        return fn(x)
    return rule


@jax.custom_jvp
def _sigmoid_half(x):
    # Eigen's scalar_logistic_op for types without a packet logistic (half, bfloat16): e = exp(x) rounded
    # to the type, 1 where it overflows, else e / (1 + e) with each step rounded. jax.nn.sigmoid's
    # 1 / (1 + exp(-x)) instead underflows to 0 for float16 x < -11 (TF: 6.1e-06 at x = -12).
    e = jnp.exp(x)
    return jnp.where(jnp.isinf(e), jnp.ones((), x.dtype), e / (1 + e))


# TF's SigmoidGrad from the output, y * (1 - y) * dy (the formula's own derivative is NaN where e = inf)
_sigmoid_half.defjvps(lambda t, y, x: t * y * (1 - y))


def _sigmoid(x):
    return differentiable(_sigmoid_half)(x) if _is_half(x) else jax.nn.sigmoid(x)


def _sign(x):
    if jnp.issubdtype(jnp.result_type(x), jnp.floating):
        return jnp.where(x == 0, jnp.zeros((), jnp.result_type(x)), jnp.sign(x))  # TF's sign(-0.0) is 0.0
    return jnp.sign(x)


@jax.custom_jvp
def _abs_real(x):
    return jnp.abs(x)


# TF's Abs gradient is sign(x) * dy: 0 at x = 0 (jax's is 1 there)
_abs_real.defjvps(lambda t, ans, x: jnp.sign(x) * t)


def _abs(x):
    return differentiable(_abs_real)(x) if jnp.issubdtype(jnp.result_type(x), jnp.floating) else jnp.abs(x)


@jax.custom_jvp
def _complex_abs(re, im):
    return jnp.hypot(re, im)  # |inf + nan j| is inf, as TF's


@_complex_abs.defjvp
def _complex_abs_jvp(primals, tangents):
    # TF's ComplexAbsGrad divides by |z| with div_no_nan: 0 at z = 0 (jax's hypot gives 1 there)
    (re, im), (tre, tim) = primals, tangents
    r = _complex_abs(re, im)
    safe = jnp.where(r == 0, jnp.ones((), r.dtype), r)
    return r, jnp.where(r == 0, jnp.zeros((), r.dtype), (re * tre + im * tim) / safe)


def _maximum(x, y):
    # TF's gradient goes to x where x >= y (jnp.maximum splits ties 50/50); NaNs propagate as in TF.
    if not jnp.issubdtype(jnp.result_type(x), jnp.inexact):
        return jnp.maximum(x, y)
    return differentiable(_maximum_inexact)(*jnp.broadcast_arrays(jnp.asarray(x), jnp.asarray(y)))


def _minimum(x, y):
    if not jnp.issubdtype(jnp.result_type(x), jnp.inexact):
        return jnp.minimum(x, y)
    return differentiable(_minimum_inexact)(*jnp.broadcast_arrays(jnp.asarray(x), jnp.asarray(y)))


@jax.custom_jvp
def _maximum_inexact(x, y):
    return jnp.where((x >= y) | jnp.isnan(x), x, y)


@jax.custom_jvp
def _minimum_inexact(x, y):
    return jnp.where((x <= y) | jnp.isnan(x), x, y)


# TF's _MaximumGrad/_MinimumGrad route dz by the mask x >= y (x <= y): a NaN x, which the forward passes
# through, gets no gradient (it goes to y), as clip_by_value(NaN) gives none to its input.
_maximum_inexact.defjvp(lambda primals, tangents: (
    _maximum_inexact(*primals), jnp.where(primals[0] >= primals[1], tangents[0], tangents[1])))
_minimum_inexact.defjvp(lambda primals, tangents: (
    _minimum_inexact(*primals), jnp.where(primals[0] <= primals[1], tangents[0], tangents[1])))


def _floor_mod(xp):
    """TF's FloorMod: integers as Python's %; floats fmod(x, y) moved into y's sign when both are non-zero,
    so a zero result keeps x's sign (floormod(-2.5, 2.5) is -0.0; xp.mod gives y's)."""
    def fn(x, y):
        if not xp.issubdtype(xp.result_type(x), xp.floating):
            return xp.mod(x, y)
        r = xp.fmod(x, y)
        return xp.where((r != 0) & ((y < 0) != (r < 0)), r + y, r)
    return fn


# Element-wise ops whose JAX function is the whole rule (dtype preserved by jnp for equal dtypes). The
# arithmetic and comparisons that shape computations use are below (`_static_aware`: numpy on constants).
for _op_type, _fn in {
    "TruncateDiv": _checked_division("TruncateDiv", _truncate_div),
    "TruncateMod": _checked_division("TruncateMod", jnp.fmod), "Pow": _pow, "Atan2": jnp.arctan2,
    "SquaredDifference": lambda x, y: jnp.square(x - y) if not jnp.iscomplexobj(x)
    else (x - y) * jnp.conj(x - y),
    "LessEqual": jnp.less_equal, "GreaterEqual": jnp.greater_equal,
    "LogicalAnd": jnp.logical_and, "LogicalOr": jnp.logical_or, "LogicalNot": jnp.logical_not,
    "BitwiseAnd": jnp.bitwise_and, "BitwiseOr": jnp.bitwise_or, "BitwiseXor": jnp.bitwise_xor,
    "Invert": jnp.invert,
    "Abs": _abs, "Sign": _sign, "Square": jnp.square, "Sqrt": jnp.sqrt,
    "Rsqrt": _rsqrt, "Exp": jnp.exp, "Expm1": _in_float32_for_halves(jnp.expm1), "Log": jnp.log, "Log1p": jnp.log1p,
    "Sin": jnp.sin, "Cos": jnp.cos, "Tan": jnp.tan, "Asin": jnp.arcsin, "Acos": jnp.arccos,
    "Atan": jnp.arctan, "Sinh": jnp.sinh, "Cosh": jnp.cosh, "Tanh": jnp.tanh, "Sigmoid": _sigmoid,
    "Erf": jax.scipy.special.erf, "Round": _round, "Floor": jnp.floor, "Ceil": jnp.ceil, "Rint": jnp.rint,
    "Reciprocal": _reciprocal, "IsFinite": jnp.isfinite, "IsNan": jnp.isnan, "IsInf": jnp.isinf,
    "Conj": jnp.conj, "ComplexAbs": lambda z: _complex_abs(jnp.real(z), jnp.imag(z)),
    "Real": jnp.real, "Imag": jnp.imag,
}.items():
    lowers(_op_type)(_binary_rule(_fn))


# Host (numpy) results above this many elements would be baked into compiled executables as constants;
# shape plumbing never needs them, so larger results are computed by XLA instead.
STATIC_RESULT_LIMIT = 1024

try:  # jax has no public "is anything tracing" question; without it, host results stay small
    from jax._src.core import trace_state_clean as _trace_state_clean
except ImportError:  # pragma: no cover (an older or newer jax)
    def _trace_state_clean() -> bool:
        return False


def outside_traces() -> bool:
    """True when no jax transformation is tracing (an op-by-op run): a constant-valued result of any size
    may then stay a numpy array, which costs no XLA compile (a variable initializer's `Fill` of zeros
    would compile one kernel per shape) and is never baked into an executable as a literal."""
    return _trace_state_clean()


def differentiable(fn: "jax.custom_jvp") -> Callable:
    """`fn` (a custom_jvp carrying TF's gradient) where a trace may differentiate it, its plain primal op by
    op: no trace means nothing differentiates it, and an eager custom_jvp call re-traces its body on every
    call (~2 ms a `tf.pow` in a notebook's first runs)."""
    primal = fn.fun

    def call(*args):
        return primal(*args) if outside_traces() else fn(*args)
    return call


def constant_cotangent(fn: Callable) -> Callable:
    """`fn(x, *operands)` differentiated by JAX with respect to x, its VJP a constant to any further
    differentiation: TF's gradient function of the op records a kernel TF registers as NotDifferentiable
    (ResizeBilinearGrad), so a gradient of that gradient gets nothing along this path (graphcompat/gradients.py
    SECOND_ORDER_CONSTANT). First-order gradients are JAX's own. The operands (interpolation weights) are
    passed, not closed over: a custom_vjp inside a loop or branch body must not capture the body's values."""
    @jax.custom_vjp
    def wrapped(x, *operands):
        return fn(x, *operands)

    def forward(x, *operands):
        return fn(x, *operands), (x, operands)

    def backward(saved, cotangent):
        (x, operands), cotangent = lax.stop_gradient((saved, cotangent))
        grad, = jax.vjp(lambda v: fn(v, *operands), x)[1](cotangent)
        return (grad,) + (None,) * len(operands)

    wrapped.defvjp(forward, backward)
    return differentiable(wrapped)


def with_tf_slope(fn: Callable, slope: Callable) -> Callable:
    """`fn` (one input) differentiated as TF's registered gradient `grad * slope(x, y)` (y = fn(x)) rather
    than by JAX: TF's gradient functions define values at points where the true derivative is undefined or
    where JAX's differentiation of the forward formula meets inf * 0 (relu of NaN, elu of inf, bessel_j1 at 0).
    The slope multiplies the tangent, so a `where` inside it cannot leak NaN from the branch not taken."""
    wrapped = jax.custom_jvp(fn)
    wrapped.defjvps(lambda t, y, x: slope(x, y) * t)
    return differentiable(wrapped)


def is_static(*args) -> bool:
    """True when every input is a host numpy value (a constant, or shape arithmetic on constants).

    Shape-arithmetic rules then compute with numpy so the result stays static under `jax.jit`
    (an in-graph `tf.shape(x)[0] * 2` feeding a Reshape or Range must not become a tracer).
    """
    return all(isinstance(a, (np.ndarray, np.generic)) for a in args)


def _static_aware(np_fn, jnp_fn):
    def rule(*args, **_):
        if is_static(*args):
            try:
                return np.asarray(np_fn(*args))  # equal input dtypes: numpy keeps the dtype
            except ValueError:
                raise broadcast_error(*args) from None
        return jnp_fn(*args)
    return _binary_rule(rule)


def _np_floor_div(x, y):
    if np.issubdtype(np.result_type(x), np.inexact):
        return np.floor(x / y)
    return np.floor_divide(x, y)


for _op_type, _np_fn, _jnp_fn in [
        ("AddV2", np.add, jnp.add), ("Add", np.add, jnp.add), ("Sub", np.subtract, jnp.subtract),
        ("Mul", np.multiply, jnp.multiply),
        ("Maximum", np.maximum, _maximum), ("Minimum", np.minimum, _minimum),
        ("FloorDiv", _checked_division("FloorDiv", _np_floor_div), _checked_division("FloorDiv", _floor_div)),
        ("FloorMod", _checked_division("FloorMod", _floor_mod(np)), _checked_division("FloorMod", _floor_mod(jnp))),
        ("Neg", np.negative, jnp.negative),
        ("Less", np.less, jnp.less), ("Greater", np.greater, jnp.greater), ("Equal", np.equal, jnp.equal),
        ("NotEqual", np.not_equal, jnp.not_equal)]:
    lowers(_op_type)(_static_aware(_np_fn, _jnp_fn))


def true_divide(x, y):
    """x / y as TF's kernels divide: correctly rounded. XLA's algebraic simplifier turns a division by a
    constant or by a broadcast value into a multiplication by the reciprocal (`A / Broadcast(b)` →
    `A * Broadcast(1 / b)`), one ulp off for many quotients; such a floating denominator is therefore
    broadcast behind an optimization barrier, where XLA sees neither. (The division TF's grappler does
    rewrite, by a constant, is `real_div_by_constant`, see lowering/grappler.py.)"""
    static = isinstance(y, (np.ndarray, np.generic))
    x, y = jnp.asarray(x), jnp.asarray(y)
    shape = jnp.broadcast_shapes(x.shape, y.shape)
    if (static or y.shape != shape) and jnp.issubdtype(y.dtype, jnp.inexact):
        y = lax.optimization_barrier(jnp.broadcast_to(y, shape))
    return jnp.divide(x, y)


@lowers("RealDiv")
@_binary_rule
def real_div(x, y):
    return true_divide(x, y).astype(jnp.result_type(x))


def _reciprocal(y):
    """1 / y rounded once in y's type, as the Reciprocal grappler folds into a constant. A folded
    denominator usually arrives as a numpy value (constants stay static under jit): numpy divides."""
    if isinstance(y, (np.ndarray, np.generic)):
        with np.errstate(divide="ignore", invalid="ignore"):  # 1 / 0 is inf, as TF's kernel gives
            return np.asarray(np.ones((), y.dtype) / y, dtype=y.dtype)
    y = jnp.asarray(y)
    return true_divide(jnp.ones((), y.dtype), y).astype(y.dtype)


@grappler.rewrites("RealDiv")
@_binary_rule
def real_div_by_constant(x, y):
    """RealDiv(x, c) as TF's default session runs it: `Mul(x, Reciprocal(c))` (lowering/grappler.py)."""
    x = jnp.asarray(x)
    return (x * _reciprocal(y)).astype(x.dtype)


@grappler.rewrites("Xdivy")
@_binary_rule
def xdivy_by_constant(x, y):
    """Xdivy(x, c) as TF's default session runs it: `MulNoNan(Reciprocal(c), x)`, zero where x is zero."""
    x = jnp.asarray(x)
    return jnp.where(x == 0, jnp.zeros((), x.dtype), (_reciprocal(y) * x).astype(x.dtype))


@lowers("DivNoNan")
@_binary_rule
def div_no_nan(x, y):
    xp = np if isinstance(y, (np.ndarray, np.generic)) else jnp  # a constant y stays one (see true_divide)
    safe = xp.where(y == 0, xp.ones((), y.dtype), y)
    return jnp.where(y == 0, jnp.zeros((), jnp.result_type(x)), true_divide(x, safe))


@lowers("AddN")
def add_n(*inputs, **_):
    total = inputs[0]
    for x in inputs[1:]:
        total = total + x
    return total


@lowers("Cast")
def cast(x, *, DstT, Truncate=False, **_):
    dst = np.dtype(DstT)
    src = np.asarray(x).dtype if is_static(x) else np.dtype(jnp.result_type(x))
    if (src == object) != (dst == object):  # TF's CastOp has no string <-> number kernels
        raise errors.UnimplementedError(
            None, None, f"Cast {_cpp_dtype(src)} to {_cpp_dtype(dst)} is not supported")
    if src == object:
        return x
    if is_static(x) and not np.iscomplexobj(x):
        x = np.asarray(x)
        if dst == np.bool_:
            return np.asarray(x != 0)
        return _float_to_int(x, dst, np) if _is_float(x.dtype) and dst.kind in "iu" else x.astype(dst)
    x = jnp.asarray(x)
    if dst == np.bool_:
        return x != 0
    if jnp.issubdtype(x.dtype, jnp.complexfloating) and not jnp.issubdtype(dst, jnp.complexfloating):
        x = jnp.real(x)
    return _float_to_int(x, dst, jnp) if _is_float(x.dtype) and dst.kind in "iu" else x.astype(dst)


def _is_float(dtype) -> bool:
    return np.dtype(dtype).kind == "f" or np.dtype(dtype) == jnp.bfloat16


def _float_to_int(x, dst: np.dtype, xp):
    """Cast of floating values to an integer type as TF's CPU kernels on x86-64 compute it, the same in
    both tiers (numpy's cast is whatever C cast its loop takes; XLA's saturates and maps NaN to 0).

    In range, every path truncates toward zero. Out of range (NaN, ±inf, too large) C++ leaves the value
    undefined and TF's Eigen kernels return the x86 conversion's "integer indefinite": INT_MIN for int32,
    saturated into int8/int16/uint8/uint16 (its vectorized kernels convert through int32 and pack with
    saturation, so in-range values outside a narrow type saturate too), INT64_MIN for int64, 2^31 for
    uint32 and 2^63 for uint64, where negative values in range wrap as their int64 conversion does.
    (TF's scalar tail loop wraps narrow types instead of saturating them: the vectorized rule is chosen
    because it is what most elements of a tensor get.)"""
    work = np.float64 if np.dtype(x.dtype).itemsize > 4 else np.float32  # the bounds below are exact in both
    t = xp.trunc(x.astype(work))

    def convert(lo: float, hi: float, indefinite: int, via):  # t in [lo, hi) as `via`, else `indefinite`
        ok = (t >= lo) & (t < hi)  # False for NaN
        return xp.where(ok, xp.where(ok, t, work(0)).astype(via), np.array(indefinite, via))
    if dst.kind == "i" and dst.itemsize <= 4 or dst.kind == "u" and dst.itemsize <= 2:
        i = convert(-2.0 ** 31, 2.0 ** 31, -2 ** 31, np.int32)
        if dst.itemsize < 4:
            info = np.iinfo(dst)
            i = xp.clip(i, np.int32(info.min), np.int32(info.max))
        return i.astype(dst)
    if dst == np.int64:
        return convert(-2.0 ** 63, 2.0 ** 63, -2 ** 63, np.int64)
    if dst == np.uint32:
        return convert(-2.0 ** 31, 2.0 ** 32, 2 ** 31, np.int64).astype(np.uint32)
    # uint64: in int64's range through int64 (negative values wrap), [2^63, 2^64) offset by 2^63
    small = convert(-2.0 ** 63, 2.0 ** 63, -2 ** 63, np.int64).astype(np.uint64)
    big = (t >= 2.0 ** 63) & (t < 2.0 ** 64)
    high = xp.where(big, t - work(2.0 ** 63), work(0)).astype(np.int64).astype(np.uint64) + np.uint64(2 ** 63)
    return xp.where(big, high, small)


def _cpp_dtype(dtype) -> str:
    return "string" if dtype == object else dtypes.cpp_name(dtypes.as_dtype(dtype))


@lowers("ClipByValue")
def clip_by_value(t, lo, hi, **_):
    """TF's kernel: `t.cwiseMin(hi).cwiseMax(lo)` with std::min/max, so a NaN in `t` stays NaN and a value
    equal to a bound keeps its own sign (-0.0 clipped to [0, 1] is -0.0); complex numbers are clipped
    part by part."""
    if jnp.iscomplexobj(t):
        return jax.lax.complex(clip_by_value(jnp.real(t), jnp.real(lo), jnp.real(hi)),
                               clip_by_value(jnp.imag(t), jnp.imag(lo), jnp.imag(hi)))
    below_hi = jnp.where(hi < t, hi, t)
    return jnp.where(below_hi < lo, lo, below_hi)


@lowers("Select", context=True)  # a context rule only for the op's name, which TF's message shows
def select(ctx, op, cond, t, e):
    t_shape, c_shape = np.shape(t), np.shape(cond)
    if len(c_shape) == 1 and len(t_shape) > 1:  # TF1: a vector condition picks whole rows
        if t_shape[0] != c_shape[0]:
            raise invalid(f"Number of batches of 'then' must match size of 'cond', but saw: {t_shape[0]} vs. "
                          f"{c_shape[0]}")
        if t_shape != np.shape(e):
            raise invalid(f"'then' and 'else' must have the same size.  but received: {shape_str(t_shape)} vs. "
                          f"{shape_str(np.shape(e))}")
    elif len(c_shape) == 0:
        if t_shape != np.shape(e):
            raise invalid(f"'then' and 'else' must have the same size.  but received: {shape_str(t_shape)} vs. "
                          f"{shape_str(np.shape(e))}")
    else:  # OpKernelContext::ValidateInputsAreSameShape
        for i, shape in ((1, t_shape), (2, np.shape(e))):
            if shape != c_shape:
                raise invalid(f"Inputs to operation {op.name} of type Select must have the same size and shape.  "
                              f"Input 0: {shape_str(c_shape)} != input {i}: {shape_str(shape)}")
    xp = np if is_static(cond, t, e) else jnp  # host values (strings) stay numpy
    cond = xp.asarray(cond)
    if cond.ndim == 1 and np.ndim(t) > 1:
        cond = cond.reshape(cond.shape + (1,) * (np.ndim(t) - 1))
    return xp.where(cond, t, e)


@lowers("SelectV2")
def select_v2(cond, t, e, **_):
    try:
        np.broadcast_shapes(np.shape(cond), np.shape(t), np.shape(e))
    except ValueError:
        raise invalid(f"condition {shape_str(np.shape(cond))}, then {shape_str(np.shape(t))}, and else "
                      f"{shape_str(np.shape(e))} must be broadcastable") from None
    return (np if is_static(cond, t, e) else jnp).where(cond, t, e)


def static_ints(value, what: str = "axis") -> list:
    """A shape/axis argument as Python ints; it must be static (a constant or built from constants)."""
    try:
        return [int(v) for v in np.reshape(np.asarray(value), [-1])]
    except TypeError:  # a tracer: the value is only known at run time
        raise NotImplementedError(
            f"graphcompat needs this op's {what} argument as a constant (or computed from constants and static "
            f"shapes); it depends on values known only at run time, which JAX cannot compile") from None


def _axes(x, reduction_indices):
    """TF's ReductionHelper::Simplify: the axes in order, each in [-rank, rank) and none twice (`[0, -2]`
    on a matrix names axis 0 twice)."""
    axes = static_ints(reduction_indices)
    rank = jnp.ndim(x)
    seen = set()
    for a in axes:
        if not -rank <= a < rank:
            raise invalid(f"Invalid reduction dimension ({a} for input with {rank} dimension(s)")
        if a % rank in seen:
            raise invalid(f"Invalid reduction arguments: Axes contains duplicate dimension: {a % rank}")
        seen.add(a % rank)
    return tuple(sorted(seen))


def _lowest(dtype, highest: bool = False):
    """The identity of Max (Min with `highest`) as TF's kernels return it for an empty reduction."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.floating):
        return dtype.type(np.inf if highest else -np.inf)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return dtype.type(info.max if highest else info.min)
    return dtype.type(highest)


def _reduce(np_fn, jnp_fn, identity=None):
    def rule(x, idx, *, keep_dims=False, **_):
        extra = {} if identity is None else {"initial": identity(np.result_type(x))}
        if is_static(x):
            x = np.asarray(x)
            # float16/bfloat16 sums accumulate in float32, as TF's and XLA's reductions do (numpy's loop
            # over ml_dtypes' bfloat16 adds in bfloat16: a sum of 4096 values near 5 stopped at 4096)
            wide = x.astype(np.float32) if x.dtype.kind == "f" and x.dtype.itemsize < 4 or \
                x.dtype == jnp.bfloat16 else x
            return np.asarray(np_fn(wide, axis=_axes(x, idx), keepdims=keep_dims, **extra)).astype(x.dtype)
        if jnp_fn in (jnp.max, jnp.min) and jnp.issubdtype(jnp.result_type(x), jnp.floating):
            return differentiable(_extreme)(jnp.asarray(x), jnp_fn, _axes(x, idx), keep_dims, extra["initial"])
        if jnp_fn is jnp.prod and jnp.issubdtype(jnp.result_type(x), jnp.floating):
            return _prod_tf_gradient(jnp.asarray(x), tuple(_axes(x, idx)), keep_dims)
        return jnp_fn(x, axis=_axes(x, idx), keepdims=keep_dims, **extra).astype(jnp.result_type(x))
    return rule


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2))
def _prod_tf_gradient(x, axes: tuple, keep_dims: bool):
    return jnp.prod(x, axis=axes, keepdims=keep_dims)


def _prod_forward(x, axes, keep_dims):
    return _prod_tf_gradient(x, axes, keep_dims), x


def _prod_backward(axes, keep_dims, x, grad):
    """TF's ProdGrad: the product of the others as exclusive cumprods from both ends of the reduced axes
    (exact with zeros), through TF's CumprodGrad, so a second-order gradient is TF's (0 at zeros, where
    TF's div_no_nan stands in for the derivative)."""
    rank = x.ndim
    reduced = [a % rank for a in axes]
    other = [a for a in range(rank) if a not in reduced]
    perm = reduced + other
    permuted = jnp.transpose(x, perm)
    reduced_num = int(np.prod([x.shape[a] for a in reduced], dtype=np.int64))
    other_num = int(np.prod([x.shape[a] for a in other], dtype=np.int64))
    flat = permuted.reshape(reduced_num, other_num)
    others = _cumprod_tf_gradient(flat, 0, True, False) * _cumprod_tf_gradient(flat, 0, True, True)
    others = jnp.transpose(others.reshape(permuted.shape), np.argsort(perm))
    grad = grad if keep_dims else jnp.expand_dims(grad, reduced)
    return (jnp.broadcast_to(grad, x.shape) * others,)


_prod_tf_gradient.defvjp(_prod_forward, _prod_backward)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2, 3, 4))
def _extreme(x, fn, axes, keep_dims, initial):
    return fn(x, axis=axes, keepdims=keep_dims, initial=initial)


@_extreme.defjvp
def _extreme_jvp(fn, axes, keep_dims, initial, primals, tangents):
    # TF's _MinOrMaxGrad: the gradient is split evenly among the elements equal to the result; where none
    # is (a NaN result), 0 / 0 makes it NaN for the whole reduced slice (jax's gives 0 there).
    (x,), (t,) = primals, tangents
    y = _extreme(x, fn, axes, keep_dims, initial)
    y_kept = y if keep_dims else jnp.expand_dims(y, axes)
    indicators = (x == y_kept).astype(x.dtype)
    count = jnp.sum(indicators, axis=axes, keepdims=True)
    # NaN spelled out: XLA turns `convert(mask) * v` into a select, which would make 0 / 0 a 0 under jit
    share = jnp.where(count > 0, indicators / jnp.maximum(count, 1), jnp.asarray(jnp.nan, x.dtype))
    return y, jnp.sum(t * share, axis=axes, keepdims=keep_dims)


for _op_type, _np_fn, _jnp_fn, _identity in [
        ("Sum", np.sum, jnp.sum, None), ("Prod", np.prod, jnp.prod, None), ("Any", np.any, jnp.any, None),
        ("All", np.all, jnp.all, None), ("Max", np.max, jnp.max, _lowest),
        ("Min", np.min, jnp.min, lambda dtype: _lowest(dtype, highest=True))]:
    lowers(_op_type)(_reduce(_np_fn, _jnp_fn, _identity))


@lowers("Mean")
def mean(x, idx, *, keep_dims=False, **_):
    axes = _axes(x, idx)
    if jnp.issubdtype(jnp.result_type(x), jnp.integer):  # TF's integer mean truncates toward zero
        count = int(np.prod([jnp.shape(x)[a] for a in axes], dtype=np.int64))
        total = jnp.sum(x, axis=axes, keepdims=keep_dims)
        return lax.div(total, jnp.asarray(max(count, 1), total.dtype)).astype(jnp.result_type(x))
    return jnp.mean(x, axis=axes, keepdims=keep_dims).astype(jnp.result_type(x))


def _arg_reduce(fn, highest: bool):
    """Eigen's ArgMax/ArgMinTupleReducer: it starts at (index 0, lowest value) and takes an element only
    when strictly greater (ArgMin: smaller), or equal at a lower index. A NaN is never taken and neither is
    the type's extreme itself, so `argmax([nan, 2, 2])` is 1 and a row of NaNs gives 0: the same as the first
    maximum of the values with every NaN or value past the extreme replaced by the extreme."""
    def rule(x, dimension, *, output_type, **_):
        rank = max(jnp.ndim(x), 1)
        axis = axis_in_range(static_ints(dimension)[0], rank, lambda a, r: (
            f"Expected dimension in the range [{-r}, {r}), but got {a}"))
        if jnp.shape(x)[axis] == 0:
            raise invalid(f"Reduction axis {axis} is empty in shape {shape_str(jnp.shape(x))}")
        x = jnp.asarray(x)
        if jnp.issubdtype(x.dtype, jnp.floating):
            extreme = jnp.asarray(jnp.finfo(x.dtype).max if highest else jnp.finfo(x.dtype).min, x.dtype)
            x = jnp.where((x < extreme) if highest else (x > extreme), x, extreme)
        return fn(x, axis=axis).astype(output_type)
    return rule


lowers("ArgMax")(_arg_reduce(jnp.argmax, highest=False))
lowers("ArgMin")(_arg_reduce(jnp.argmin, highest=True))


def _scan_axis(x, axis) -> int:
    rank, axis = jnp.ndim(x), static_ints(axis)[0]
    axis = axis + rank if axis < 0 else axis  # TF reports the axis after adding the rank
    if not 0 <= axis < rank:
        raise invalid(f"ScanOp: Expected scan axis in the range [{-rank}, {rank}), but got {axis}")
    return axis


def _scan(fn, identity):
    def rule(x, axis, *, exclusive=False, reverse=False, **_):
        x = jnp.asarray(x)
        axis = _scan_axis(x, axis)
        if reverse:
            x = jnp.flip(x, axis)
        out = fn(x, axis=axis, dtype=x.dtype)
        if exclusive:  # shift by one along `axis`, starting from the identity
            pad = [(0, 0)] * x.ndim
            pad[axis] = (1, 0)
            out = jnp.pad(out, pad, constant_values=identity)
            out = lax.slice_in_dim(out, 0, x.shape[axis], axis=axis)
        if reverse:
            out = jnp.flip(out, axis)
        return out
    return rule


lowers("Cumsum")(_scan(jnp.cumsum, 0))
_cumprod_rule = _scan(jnp.cumprod, 1)


@lowers("Cumprod")
def cumprod(x, axis, *, exclusive=False, reverse=False, **_):
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):  # complex: jax's derivative (TF's is not conjugated)
        return _cumprod_rule(x, axis, exclusive=exclusive, reverse=reverse)
    axis = _scan_axis(x, axis)
    return _cumprod_tf_gradient(x, axis, bool(exclusive), bool(reverse))


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3))
def _cumprod_tf_gradient(x, axis: int, exclusive: bool, reverse: bool):
    return _cumprod_rule(x, axis, exclusive=exclusive, reverse=reverse)


def _cumprod_forward(x, axis, exclusive, reverse):
    return _cumprod_tf_gradient(x, axis, exclusive, reverse), x


def _cumprod_backward(axis, exclusive, reverse, x, grad):
    # TF's CumprodGrad: cumsum(cumprod(x) * grad) in the other direction, divided by x with div_no_nan (so
    # the gradient is 0 where x is 0, which is TF's answer, not the exact derivative)
    prod = _cumprod_rule(x, axis, exclusive=exclusive, reverse=reverse)
    out = _scan(jnp.cumsum, 0)(prod * grad, axis, exclusive=exclusive, reverse=not reverse)
    safe = jnp.where(x == 0, jnp.ones((), x.dtype), x)
    return (jnp.where(x == 0, jnp.zeros((), x.dtype), out / safe),)


_cumprod_tf_gradient.defvjp(_cumprod_forward, _cumprod_backward)


@lowers("Range")
def range_(start, limit, delta, *, Tidx, **_):
    # The length must be static: start/limit/delta come from constants (or the first, eager run).
    if not is_static(start, limit, delta):
        try:
            start, limit, delta = (np.asarray(v) for v in (start, limit, delta))
        except TypeError:  # a tracer: the value is only known at run time
            raise NotImplementedError("tf.range with limits computed from fed or variable values has a "
                                      "data-dependent length, which graphcompat cannot compile") from None
    for name, v in (("start", start), ("limit", limit), ("delta", delta)):
        if np.ndim(v) != 0:
            raise invalid(f"{name} must be a scalar, not shape {shape_str(np.shape(v))}")
    start, limit, delta = (np.asarray(v).item() for v in (start, limit, delta))
    text = _number_text
    if delta == 0:
        raise invalid(f"Requires delta != 0: {text(delta)}")
    if delta > 0 and start > limit:
        raise invalid(f"Requires start <= limit when delta > 0: {text(start)}/{text(limit)}")
    if delta < 0 and start < limit:
        raise invalid(f"Requires start >= limit when delta < 0: {text(start)}/{text(limit)}")
    out = np.arange(start, limit, delta, dtype=Tidx)
    return out if out.size <= STATIC_RESULT_LIMIT else jnp.asarray(out)


def _number_text(v) -> str:
    """A number as TF's StrCat prints it (`5`, `0.5`)."""
    return str(int(v)) if float(v).is_integer() else f"{float(v):g}"


@lowers("LinSpace")
def lin_space(start, stop, num, *, T, **_):
    """TF's kernel (and its linspace composition): start + step * i with step = (stop - start) / (num - 1)
    in the input dtype, the last value `stop` itself (jnp.linspace interpolates: other last bits)."""
    n = static_ints(num, "num")[0]
    if n <= 0:
        raise invalid(f"Requires num > 0: {n}")
    start, stop = jnp.asarray(start, T), jnp.asarray(stop, T)
    if n == 1:
        return start[None]
    step = (stop - start) / jnp.asarray(n - 1, T)
    return jnp.concatenate([start + step * jnp.arange(n - 1, dtype=T), stop[None]])


# --- special_math_ops ------------------------------------------------------------------------------
# Where x == 0 the result is 0 and so are TF's gradients (XlogyGrad: xlogy(x != 0, y), xdivy(x, y)); y is
# replaced by 1 there so the branch not taken has finite gradients (0 * log(0) would make them NaN).
def _xlogy(x, y):
    safe_y = jnp.where(x == 0, jnp.ones((), jnp.result_type(y)), y)
    return jnp.where(x == 0, jnp.zeros((), jnp.result_type(x)), x * jnp.log(safe_y))


def _xdivy(x, y):
    safe_y = jnp.where(x == 0, jnp.ones((), jnp.result_type(y)), y)
    return jnp.where(x == 0, jnp.zeros((), jnp.result_type(x)), true_divide(x, safe_y))


@jax.custom_jvp
def _mul_no_nan_real(x, y):
    return jnp.where(y == 0, jnp.zeros((), jnp.result_type(x)), x * y)


@_mul_no_nan_real.defjvp
def _mul_no_nan_jvp(primals, tangents):
    # TF's MulNoNan gradient: dx = mul_no_nan(dz, y) (0 where y == 0), dy = x * dz (also where y == 0)
    (x, y), (tx, ty) = primals, tangents
    return _mul_no_nan_real(x, y), jnp.where(y == 0, jnp.zeros((), jnp.result_type(x)), tx * y) + x * ty


def _mul_no_nan(x, y):
    if jnp.issubdtype(jnp.result_type(x), jnp.inexact):
        return _mul_no_nan_real(x, y)
    return jnp.where(y == 0, jnp.zeros((), jnp.result_type(x)), x * y)


def _digamma(x):
    # TF's DigammaGrad is polygamma(1, x): 0 at +inf (jax's derivative of digamma is NaN there)
    from lowering.rules.math_extra import polygamma_tf
    return with_tf_slope(jax.scipy.special.digamma,
                         lambda x, y: polygamma_tf(jnp.ones((), x.dtype), x))(jnp.asarray(x))


@jax.custom_jvp
def _acosh(x):
    return _in_float32_for_halves(jnp.arccosh)(x)


@jax.custom_jvp
def _asinh(x):
    return _in_float32_for_halves(jnp.arcsinh)(x)


# TF's gradients from the output: dy / sinh(y) for Acosh (NaN below 1, where y is NaN: jax's 1/sqrt(x^2-1)
# is finite there), dy / cosh(y) for Asinh
_acosh.defjvps(lambda t, y, x: t * jnp.reciprocal(jnp.sinh(y)))
_asinh.defjvps(lambda t, y, x: t * jnp.reciprocal(jnp.cosh(y)))


for _op_type, _fn in {"Acosh": differentiable(_acosh), "Asinh": differentiable(_asinh), "Atanh": _in_float32_for_halves(jnp.arctanh),
                      "Erfc": jax.scipy.special.erfc, "Lgamma": jax.scipy.special.gammaln,
                      "Digamma": _digamma, "Xlogy": _xlogy, "Xdivy": _xdivy,
                      "MulNoNan": _mul_no_nan}.items():
    lowers(_op_type)(_binary_rule(_fn))


@lowers("EuclideanNorm")
def euclidean_norm(x, idx, *, keep_dims=False, **_):
    x = jnp.asarray(x)
    sq = jnp.real(x * jnp.conj(x)) if jnp.iscomplexobj(x) else x * x
    return jnp.sqrt(jnp.sum(sq, axis=_axes(x, idx), keepdims=keep_dims)).astype(x.dtype)


def _segment(fn_name: str):
    def rule(data, segment_ids, num_segments, **_):
        n = static_ints(num_segments, "num_segments")[0]
        if n < 0:
            raise invalid(f"Input num_segments == {n} must not be negative.")
        data_shape, ids_shape = np.shape(data), np.shape(segment_ids)
        if data_shape[:len(ids_shape)] != ids_shape:
            raise invalid(f"data.shape = {shape_str(data_shape)} does not start with segment_ids.shape = "
                          f"{shape_str(ids_shape)}")
        # TF's CPU kernel skips negative ids and fails on ids >= num_segments.
        require_in_range(segment_ids, n, lambda pos, v: f"segment_ids{pos} = {v} is out of range [0, {n})",
                         lower=None)
        data, ids = jnp.asarray(data), jnp.asarray(segment_ids)
        flat = data.reshape((-1,) + data.shape[ids.ndim:])
        ids = ids.reshape(-1)
        # Negative ids are dropped: send them to an extra segment that is cut off.
        ids = jnp.where((ids < 0) | (ids >= n), n, ids)
        if fn_name in ("segment_max", "segment_min") and jnp.issubdtype(data.dtype, jnp.floating):
            return _segment_extreme(flat, ids, n, fn_name == "segment_max")
        if fn_name == "segment_prod":
            from lowering.rules.segment import segment_prod
            return segment_prod(flat, ids, n).astype(data.dtype)
        out = getattr(jax.ops, fn_name)(flat, ids, num_segments=n + 1)[:n]
        return out.astype(data.dtype)
    return rule


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _segment_extreme(data, ids, n: int, highest: bool):
    return _sequential_extreme(data, ids, n, highest)


def _segment_extreme_forward(data, ids, n, highest):
    out = _sequential_extreme(data, ids, n, highest)
    return out, (data, ids, out)


def _segment_extreme_backward(n, highest, residuals, grad):
    # TF's _UnsortedSegmentMinOrMaxGrad: a segment's gradient is divided evenly among the elements equal
    # to its result (jax's would follow the one element the forward pass picked)
    data, ids, out = residuals
    valid = (ids < n).reshape((-1,) + (1,) * (data.ndim - 1))
    at = jnp.where(ids < n, ids, 0)
    selected = (data == out[at]) & valid
    count = jax.ops.segment_sum(selected.astype(grad.dtype), ids, num_segments=n + 1)[:n]
    share = grad / jnp.where(count == 0, jnp.ones((), grad.dtype), count)
    return jnp.where(selected, share[at], jnp.zeros((), grad.dtype)), None


_segment_extreme.defvjp(_segment_extreme_forward, _segment_extreme_backward)


def _sequential_extreme(data, ids, n: int, highest: bool):
    """TF's UnsortedSegmentMax (Min) on floats: per segment, element by element from the dtype's lowest
    (highest) value, acc = (x < acc) ? acc : x (Min: (acc < x) ? acc : x). So a NaN replaces the
    accumulator and the next number replaces a NaN, and on a tie the later element wins (its zero's sign).
    Equivalently: NaN if the segment's last element is NaN; else the extreme of the elements after its last
    NaN (the latest one of equal values); with no NaN, no less than the initial value (-inf becomes the
    lowest finite value, as for an empty segment)."""
    dtype = data.dtype
    info = jnp.finfo(dtype)
    worst, initial = (-jnp.inf, info.min) if highest else (jnp.inf, info.max)
    reduce = jax.ops.segment_max if highest else jax.ops.segment_min
    pos = jnp.broadcast_to(jnp.arange(data.shape[0]).reshape((-1,) + (1,) * (data.ndim - 1)), data.shape)
    seg = jnp.broadcast_to(ids.reshape((-1,) + (1,) * (data.ndim - 1)), data.shape)

    def latest_position(where):  # per segment, the position of the last element where `where` holds (or -1)
        return jax.ops.segment_max(jnp.where(where, pos, -1), ids, num_segments=n + 1)[:n]

    def gather(table, fill):  # table[n, ...] read back at each element's segment (fill for dropped ids)
        padded = jnp.concatenate([table, jnp.full((1,) + table.shape[1:], fill, table.dtype)])
        return jnp.take_along_axis(padded, seg, axis=0)

    last_nan = latest_position(jnp.isnan(data))
    last = latest_position(seg < n)
    after = pos > gather(last_nan, data.shape[0])
    best = reduce(jnp.where(after, data, worst), ids, num_segments=n + 1)[:n]
    latest = latest_position(after & (data == gather(best, 0)))
    picked = jnp.take_along_axis(data, jnp.maximum(latest, 0), axis=0)
    beyond = (best < initial) if highest else (best > initial)
    no_nan = jnp.where(beyond | (latest < 0), jnp.asarray(initial, dtype), picked)
    with_nan = jnp.where(last_nan == last, jnp.asarray(jnp.nan, dtype), picked)
    return jnp.where(last_nan >= 0, with_nan, no_nan).astype(dtype)


lowers("UnsortedSegmentSum")(_segment("segment_sum"))
lowers("UnsortedSegmentMax")(_segment("segment_max"))
lowers("UnsortedSegmentMin")(_segment("segment_min"))
lowers("UnsortedSegmentProd")(_segment("segment_prod"))


def _permutation_error(values) -> str:
    """TF's InvertPermutationOp message for the first bad entry, in input order."""
    seen = set()
    for v in (int(v) for v in values):
        if not 0 <= v < len(values):
            return f"{v} is not between 0 and {len(values)}"
        if v in seen:
            return f"{v} is duplicated in the input."
        seen.add(v)
    return ""


@lowers("InvertPermutation")
def invert_permutation(x, **_):
    if np.ndim(x) != 1:
        raise invalid("invert_permutation expects a 1D vector.")
    n = np.shape(x)[0]
    if is_static(x):  # shape arithmetic (a transpose's gradient inverts its constant perm): stay static
        message = _permutation_error(x)
        require(not message, errors.InvalidArgumentError, message)
        out = np.zeros_like(x)
        out[x] = np.arange(n, dtype=x.dtype)
        return out
    x = jnp.asarray(x)
    counts = jnp.zeros((n,), jnp.int32).at[x].add(1, mode="drop")
    require(jnp.all((x >= 0) & (x < n)) & jnp.all(counts <= 1), errors.InvalidArgumentError,
            lambda: _permutation_error(np.asarray(x)))
    return jnp.zeros_like(x).at[x].set(jnp.arange(n, dtype=x.dtype))


@lowers("CumulativeLogsumexp")
def cumulative_logsumexp(x, axis, *, exclusive=False, reverse=False, **_):
    x = jnp.asarray(x)
    axis = _scan_axis(x, axis)
    if reverse:
        x = jnp.flip(x, axis)
    out = lax.cumlogsumexp(x, axis=axis)
    if exclusive:
        pad = [(0, 0)] * x.ndim
        pad[axis] = (1, 0)
        out = lax.slice_in_dim(jnp.pad(out, pad, constant_values=-jnp.inf), 0, x.shape[axis], axis=axis)
    if reverse:
        out = jnp.flip(out, axis)
    return out
