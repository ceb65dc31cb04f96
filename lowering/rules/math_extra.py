"""Lowerings of graphcompat/ops/math_extra_ops.py: bit shifts, complex/angle, special functions, bitcast,
unravel_index, fixed-width histograms, BroadcastArgs. Dtypes explicit (rules run with x64 enabled).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np
from jax import lax

from graphcompat.framework import errors
from lowering.interpreter import require
from lowering.registry import lowers
from lowering.rules.math import check_broadcast, is_static, with_tf_slope


def _np_dtype(dtype) -> np.dtype:
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype))


def _shift(left: bool):
    # TF's kernels clamp the shift amount to [0, bits - 1] (cwise_ops.h left_shift_op/right_shift_op), so a
    # shift by the width or more, or by a negative amount, is well defined; C/JAX leave it undefined.
    def rule(x, y, **_):
        check_broadcast(x, y)
        x, y = jnp.asarray(x), jnp.asarray(y)
        bits = x.dtype.itemsize * 8
        x, y = jnp.broadcast_arrays(x, jnp.clip(y, 0, bits - 1).astype(x.dtype))
        if left:
            return lax.shift_left(x, y)
        if jnp.issubdtype(x.dtype, jnp.signedinteger):
            return lax.shift_right_arithmetic(x, y)
        return lax.shift_right_logical(x, y)
    return rule


lowers("LeftShift")(_shift(True))
lowers("RightShift")(_shift(False))


@lowers("Complex")
def complex_(real, imag, *, Tout, **_):
    check_broadcast(real, imag)
    real, imag = jnp.broadcast_arrays(jnp.asarray(real), jnp.asarray(imag))
    return lax.complex(real, imag).astype(_np_dtype(Tout))


@lowers("Angle")
def angle(x, *, Tout, **_):
    return jnp.angle(x).astype(_np_dtype(Tout))


def _binary(fn):
    def rule(x, y, **_):
        check_broadcast(x, y)
        dtype = jnp.result_type(x)
        # jax.scipy's special functions compute in float32/float64 only; half types go through float32
        # (TF's kernels do the same for Eigen::half).
        work = dtype if dtype in (jnp.float32, jnp.float64) else jnp.float32
        return fn(jnp.asarray(x, work), jnp.asarray(y, work)).astype(dtype)
    return rule


def _unary(fn):
    def rule(x, **_):
        dtype = jnp.result_type(x)
        work = dtype if dtype in (jnp.float32, jnp.float64) else jnp.float32
        return fn(jnp.asarray(x, work)).astype(dtype)
    return rule


# Eigen's special functions (TF's kernels) decide their domain edges before computing; XLA's differ there
# (igamma(0, 1) is NaN in TF, 1 in XLA; zeta(x, inf) is 0 in TF, NaN in XLA). Each function below is XLA's
# value inside the domain with Eigen's answers at the edges, in Eigen's order of checks.
def _igamma(a, x):
    """Eigen's igamma_impl: 0 where x == 0 (any a, even NaN); NaN where x < 0, a <= 0 or either is NaN; an
    infinite a gives 0 (the series' factor underflows)."""
    out = jnp.where(a == jnp.inf, jnp.zeros((), a.dtype), jss.gammainc(a, x))
    out = jnp.where((x < 0) | (a <= 0) | jnp.isnan(a) | jnp.isnan(x), jnp.nan, out)
    return jnp.where(x == 0, jnp.zeros((), a.dtype), out)


def _igammac(a, x):
    """Eigen's igammac_impl: NaN where x < 0, a <= 0 or either is NaN (no x == 0 shortcut); an infinite a
    and a finite x give 1."""
    out = jnp.where((a == jnp.inf) & jnp.isfinite(x), jnp.ones((), a.dtype), jss.gammaincc(a, x))
    return jnp.where((x < 0) | (a <= 0) | jnp.isnan(a) | jnp.isnan(x), jnp.nan, out)


def _zeta(x, q):
    """Eigen's zeta_impl: inf at x == 1, NaN for x < 1; q <= 0: an integer q gives inf for an even x and
    NaN otherwise, a non-integer q needs an integer x; x == inf sums q**-x alone (inf for q < 1, 1 for
    q == 1, 0 beyond); an infinite q gives 0."""
    inf = jnp.asarray(jnp.inf, x.dtype)
    out = jnp.where((q == jnp.inf) & ~jnp.isnan(x), jnp.zeros((), x.dtype), jss.zeta(x, q))
    out = jnp.where(x == jnp.inf, jnp.where(jnp.isnan(q), jnp.nan, jnp.where(q < 1, inf, (q == 1).astype(x.dtype))),
                    out)
    q_int = q == jnp.floor(q)
    out = jnp.where((q <= 0) & ~q_int & (x != jnp.floor(x)), jnp.nan, out)
    out = jnp.where((q <= 0) & q_int, jnp.where(jnp.round(x / 2) == x / 2, inf, jnp.nan), out)
    out = jnp.where(x < 1, jnp.nan, out)
    return jnp.where(x == 1, inf, out)


def polygamma_tf(a, x):
    """TF's Polygamma (Eigen's edges), also the slope of TF's Digamma gradient."""
    return _polygamma(a, x)


def _polygamma(a, x):
    """Eigen's polygamma_impl: NaN unless the order is an integer >= 0; digamma for order 0; else
    (-1)**(n+1) * exp(lgamma(n+1)) * zeta(n+1, x), with zeta's edges above (polygamma(1, inf) is 0)."""
    n1 = a + 1
    value = jnp.power(-jnp.ones((), a.dtype), n1) * jnp.exp(jss.gammaln(n1)) * _zeta(n1, x)
    value = jnp.where(a == 0, jss.digamma(x), value)
    return jnp.where((jnp.floor(a) != a) | (a < 0), jnp.nan, value)


@jax.custom_jvp
def _polygamma_tf_gradient(a, x):
    return _polygamma(a, x)


# TF's PolygammaGrad: polygamma(n + 1, x) for x, None for the order (jax's derivative of the digamma branch
# that n = 0 selects is NaN through the branch not taken)
_polygamma_tf_gradient.defjvps(None, lambda t, y, a, x: _polygamma(a + 1, x) * t)


@jax.custom_jvp
def _nextafter(x1, x2):
    return jnp.nextafter(x1, x2)


# TF's NextAfterGrad: ones for x1, zeros for x2 (jax has no derivative of nextafter)
_nextafter.defjvps(lambda t, y, x1, x2: t, None)


def _xlog1py(x, y):
    # as _xlogy (lowering/rules/math.py): 0 and zero gradients where x == 0, finite in the branch not taken
    safe_y = jnp.where(x == 0, jnp.zeros((), jnp.result_type(y)), y)
    return jnp.where(x == 0, jnp.zeros((), jnp.result_type(x)), x * jnp.log1p(safe_y))


# TF registers no gradient for zeta's x and polygamma's order (None): they carry none here either.
for _op, _fn in {"Igamma": _igamma, "Igammac": _igammac, "Zeta": lambda x, q: _zeta(lax.stop_gradient(x), q),
                 "Polygamma": lambda a, x: _polygamma_tf_gradient(lax.stop_gradient(a), x),
                 "NextAfter": lambda x1, x2: _nextafter(*jnp.broadcast_arrays(x1, x2))}.items():
    lowers(_op)(_binary(_fn))

def _ndtri(x):
    # TF's NdtriGrad from the output, sqrt(2 pi) * exp(y^2 / 2): inf at x = 0 and 1 (jax's: 0)
    return with_tf_slope(jss.ndtri, lambda x, y: np.sqrt(2 * np.pi).astype(y.dtype) * jnp.exp(y * y / 2))(x)


# TF's Bessel gradients (math_grad.py), copied where they differ from jax's: jax differentiates i0 to 1 at
# x = 0 (it is i1(0) = 0); TF sets i1's slope at 0 to 1.0 (its comment calls it correct; the true one is 0.5)
# and i1e's to 0.5, and keeps NaN at NaN.
def _bessel_i0(x):
    return with_tf_slope(jss.i0, lambda x, y: jss.i1(x))(x)


def _bessel_i1(x):
    return with_tf_slope(jss.i1, lambda x, y: jnp.where(x == 0, jnp.ones((), x.dtype),
                                                        jss.i0(x) - y / jnp.where(x == 0, 1, x)))(x)


def _bessel_i1e(x):
    def slope(x, y):
        safe = jnp.where(x == 0, jnp.ones((), x.dtype), x)
        return jnp.where(x == 0, jnp.asarray(0.5, x.dtype), jss.i0e(x) - y * (jnp.sign(x) + 1 / safe))
    return with_tf_slope(jss.i1e, slope)(x)


for _op, _fn in {"Erfinv": jss.erfinv, "Ndtri": _ndtri, "BesselI0": _bessel_i0, "BesselI0e": jss.i0e,
                 "BesselI1": _bessel_i1, "BesselI1e": _bessel_i1e}.items():
    lowers(_op)(_unary(_fn))


@lowers("Xlog1py")
def xlog1py(x, y, **_):
    check_broadcast(x, y)
    return _xlog1py(jnp.asarray(x), jnp.asarray(y))


@lowers("Betainc")
def betainc(a, b, x, **_):
    shapes = [np.shape(v) for v in (a, b, x)]
    full = [s for s in shapes if s != ()]
    if any(s != full[0] for s in full):
        raise errors.InvalidArgumentError(
            None, None, "Shapes of a, b, and x must be consistent: " + " vs. ".join(
                "[" + ",".join(str(d) for d in s) + "]" for s in shapes))
    dtype = jnp.result_type(x)
    a, b, x = jnp.broadcast_arrays(jnp.asarray(a, dtype), jnp.asarray(b, dtype), jnp.asarray(x, dtype))
    a, b = lax.stop_gradient(a), lax.stop_gradient(b)  # TF's gradient is None for a and b
    # Eigen's betainc_impl decides first: NaN for a <= 0 or b <= 0; then x == 0 is 0 and x == 1 is 1 (even
    # for a NaN or infinite a or b); then NaN outside [0, 1] and for NaN or infinite a or b.
    out = jss.betainc(a, b, x).astype(dtype)
    out = jnp.where(~jnp.isfinite(a) | ~jnp.isfinite(b) | jnp.isnan(x) | (x < 0) | (x > 1), jnp.nan, out)
    out = jnp.where(x == 0, jnp.zeros((), dtype), jnp.where(x == 1, jnp.ones((), dtype), out))
    return jnp.where((a <= 0) | (b <= 0), jnp.nan, out)


@lowers("Bitcast")
def bitcast(x, *, type, **_):  # noqa: A002 (TF's attr name)
    dst = _np_dtype(type)
    src = np.dtype(jnp.result_type(x))
    if src.itemsize < dst.itemsize:
        ratio = dst.itemsize // src.itemsize
        if np.ndim(x) == 0 or np.shape(x)[-1] != ratio:
            raise errors.InvalidArgumentError(None, None, "Cannot bitcast due to shape. "
                                              f"{np.shape(x)[-1] if np.ndim(x) else 0} does not match {ratio}")
    if src.kind == "c" or dst.kind == "c":
        # XLA has no complex bitcast: go through the float parts.
        raise NotImplementedError("tf.bitcast from or to a complex type is not supported by graphcompat "
                                  "(cast the real and imaginary parts with tf.math.real/tf.math.imag)")
    return lax.bitcast_convert_type(jnp.asarray(x), dst)


@lowers("UnravelIndex")
def unravel_index(indices, dims, **_):
    if np.ndim(indices) > 1:
        raise errors.InvalidArgumentError(None, None, "The indices can only be scalar or vector, got \"["
                                          + ",".join(str(d) for d in np.shape(indices)) + "]\"")
    if np.ndim(dims) != 1:
        raise errors.InvalidArgumentError(None, None, "The indices can only be 1-D, got \"["
                                          + ",".join(str(d) for d in np.shape(dims)) + "]\"")
    dtype = jnp.result_type(indices)
    idx, dims_a = jnp.asarray(indices), jnp.asarray(dims, dtype)
    if is_static(dims) and np.any(np.asarray(dims) == 0):
        zero = int(np.flatnonzero(np.asarray(dims) == 0)[0])
        raise errors.InvalidArgumentError(None, None, "Input dims cannot contain a dim of zero, but dims contains "
                                          f"zero at index {zero}")
    require(jnp.all(dims_a != 0), errors.InvalidArgumentError, "Input dims cannot contain a dim of zero")
    require(jnp.all((idx >= 0) & (idx < jnp.prod(dims_a))), errors.InvalidArgumentError,
            "index is out of bound as with dims")
    n = int(np.shape(dims)[0])
    # row-major strides computed in the graph, so dims may be a fed tensor
    out, rem = [], idx
    for i in range(n):
        stride = jnp.prod(dims_a[i + 1:]) if i + 1 < n else jnp.asarray(1, dtype)
        out.append((rem // stride).astype(dtype))
        rem = rem % stride
    return jnp.stack(out, axis=0) if out else jnp.zeros((0,) + np.shape(indices), dtype)


@lowers("HistogramFixedWidth")
def histogram_fixed_width(values, value_range, nbins, *, dtype, **_):
    if not is_static(nbins):
        raise errors.InvalidArgumentError(
            None, None, "HistogramFixedWidth: nbins must be a constant under graphcompat (the output length "
                        "is static on XLA)")
    n = int(np.asarray(nbins))
    require(n > 0, errors.InvalidArgumentError, lambda: f"nbins should be a positive number, but got '{n}'")
    vr = jnp.asarray(value_range)
    require(vr[0] < vr[1], errors.InvalidArgumentError,
            lambda: f"value_range should satisfy value_range[0] < value_range[1], but got "
                    f"'[{', '.join(f'{v:g}' for v in np.asarray(value_range).tolist())}]'")
    if jnp.issubdtype(jnp.result_type(values), jnp.floating):  # TF checks after the range
        require(~jnp.any(jnp.isnan(jnp.asarray(values))), errors.InvalidArgumentError,
                "Histogram values must not contain NaN")
    v = jnp.ravel(jnp.asarray(values)).astype(jnp.float64)
    lo, hi = vr[0].astype(jnp.float64), vr[1].astype(jnp.float64)
    step = (hi - lo) / n
    idx = jnp.clip(jnp.floor((jnp.maximum(v, lo) - lo) / step), 0, n - 1).astype(jnp.int32)
    return jnp.bincount(idx, length=n).astype(_np_dtype(dtype))


@lowers("BroadcastArgs")
def broadcast_args(s0, s1, **_):
    if np.ndim(s0) != 1 or np.ndim(s1) != 1:
        raise errors.InvalidArgumentError(None, None, "In[0] and In[1] must be vectors.")
    if is_static(s0, s1):
        try:
            return np.asarray(np.broadcast_shapes(tuple(np.asarray(s0)), tuple(np.asarray(s1))),
                              dtype=np.asarray(s0).dtype)
        except ValueError:
            raise errors.InvalidArgumentError(
                None, None, f"Incompatible shapes: [{','.join(map(str, np.asarray(s0)))}] vs. "
                            f"[{','.join(map(str, np.asarray(s1)))}]") from None
    n = max(np.shape(s0)[0], np.shape(s1)[0])
    dtype = jnp.result_type(s0)
    a = jnp.concatenate([jnp.ones(n - np.shape(s0)[0], dtype), jnp.asarray(s0, dtype)])
    b = jnp.concatenate([jnp.ones(n - np.shape(s1)[0], dtype), jnp.asarray(s1, dtype)])
    require(jnp.all((a == b) | (a == 1) | (b == 1)), errors.InvalidArgumentError, "Incompatible shapes")
    return jnp.where(a == 1, b, a)
