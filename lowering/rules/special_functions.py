"""Lowerings of TF's special functions without a jax.scipy counterpart of the same accuracy (graphcompat/ops/
special_functions_ops.py): the Bessel functions J0, J1, Y0, Y1, K0, K1 (and exp(x)·K), and Dawson's integral,
Ei, the Fresnel integrals and Spence's function (jax.scipy.special, with TF's domain conventions).

The Bessel functions are computed in float64 from their classical representations, each where it converges
fast: power series near 0, quadrature of an integral representation in the middle, Hankel's asymptotic
expansion beyond x = 25. (jax.scipy.special.bessel_jn loses all accuracy past x ≈ 30.) Every branch is
evaluated at a safe argument, so the unused ones put no NaN into values or gradients.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from lowering.registry import lowers
from lowering.rules.math import with_tf_slope

_EULER = 0.57721566490153286061
_LARGE = 25.0        # Hankel's expansions from here on (their smallest term is below 1e-17)
_SERIES_Y = 8.0      # Y's power series up to here (cancellation costs at most ~4 of float64's digits)
_SERIES_K = 2.0      # K's power series up to here
_TERMS = 32          # power-series terms: (x²/4)^k / k!² < 1e-25 at k = 32 for x = 8
_ASYMPTOTIC_TERMS = 20

# Quadrature rules computed once (numpy's Gauss–Legendre nodes; equally spaced nodes for the trapezoid rule,
# spectrally accurate for the periodic and the even integrands below).
_PERIODIC_NODES = 2 * np.pi * np.arange(64) / 64
_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)
_TRAPEZOID_STEP = 0.05
_TRAPEZOID_T = np.arange(0, 6.0 + 1e-9, _TRAPEZOID_STEP)
_TRAPEZOID_W = np.full(_TRAPEZOID_T.shape, _TRAPEZOID_STEP)
_TRAPEZOID_W[0] /= 2

_K = np.arange(_TERMS, dtype=np.float64)
_FACTORIAL = np.array([math.factorial(int(k)) for k in _K], np.float64)
_HARMONIC = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, _TERMS))])  # H_k
_PSI = -_EULER + _HARMONIC  # ψ(k + 1)


def _power_terms(x, scale):
    """(x²/4)^k · scale[k] for k < _TERMS, along a new last axis."""
    q = (x * x / 4)[..., None]
    return q ** _K * scale


def _hankel_terms(x, order: int):
    """a_k = Π_{j≤k} (4n² − (2j−1)²) / (k! (8x)^k), k < _ASYMPTOTIC_TERMS, along a new last axis."""
    mu = 4.0 * order * order
    coefficients = [1.0]
    for k in range(1, _ASYMPTOTIC_TERMS):
        coefficients.append(coefficients[-1] * (mu - (2 * k - 1) ** 2) / k)
    k = np.arange(_ASYMPTOTIC_TERMS)
    return np.asarray(coefficients) / (8 * x[..., None]) ** k


def _hankel_pq(x, order: int):
    terms = _hankel_terms(x, order)
    signs_p = np.array([(-1) ** (k // 2) if k % 2 == 0 else 0 for k in range(_ASYMPTOTIC_TERMS)], np.float64)
    signs_q = np.array([(-1) ** (k // 2) if k % 2 == 1 else 0 for k in range(_ASYMPTOTIC_TERMS)], np.float64)
    return jnp.sum(terms * signs_p, -1), jnp.sum(terms * signs_q, -1)


def _hankel_jy(x, order: int):
    """J_n(x), Y_n(x) for large x > 0: sqrt(2/(πx)) (P cos χ − Q sin χ), sqrt(2/(πx)) (P sin χ + Q cos χ)."""
    p, q = _hankel_pq(x, order)
    chi = x - (order / 2 + 0.25) * np.pi
    amplitude = jnp.sqrt(2 / (np.pi * x))
    c, s = jnp.cos(chi), jnp.sin(chi)
    return amplitude * (p * c - q * s), amplitude * (p * s + q * c)


def _j_periodic(x, order: int):
    """J_n(x) = (1/2π) ∫_0^{2π} cos(nθ − x sin θ) dθ: the trapezoid rule on 64 nodes (exact to ~1e-17 for
    |x| <= 25: its error is J_{64−n}(x))."""
    theta = _PERIODIC_NODES
    return jnp.mean(jnp.cos(order * theta - x[..., None] * np.sin(theta)), -1)


def _j_series(x, order: int):
    """J_n(x) = (x/2)^n Σ (−x²/4)^k / (k! (k+n)!), for |x| <= 2 (where the quadrature's result, a difference
    of terms of size 1, would lose J1's relative accuracy near 0)."""
    scale = (-1.0) ** _K / (_FACTORIAL * _FACTORIAL * (_K + 1) ** order)
    return (x / 2) ** order * jnp.sum(_power_terms(x, scale), -1)


def _bessel_j(x, order: int):
    ax = jnp.abs(x)
    large, small = ax > _LARGE, ax <= 2
    series = _j_series(jnp.where(small, x, 0.0), order)
    near = jnp.where(small, series, _j_periodic(jnp.where(large, 0.0, x), order))
    far = _hankel_jy(jnp.where(large, ax, _LARGE + 1), order)[0]
    if order == 1:
        far = jnp.sign(x) * far  # J1 is odd
    return jnp.where(jnp.isinf(x), jnp.nan, jnp.where(large, far, near))  # TF: NaN at ±inf


def _y_series(x, order: int):
    j = _j_periodic(x, order)
    log = jnp.log(x / 2)
    if order == 0:
        series = jnp.sum(_power_terms(x, (-1.0) ** (_K + 1) * _HARMONIC / _FACTORIAL ** 2), -1)
        return 2 / np.pi * ((log + _EULER) * j + series)
    psi_sum = 2 * _PSI + 1 / (_K + 1)  # ψ(k+1) + ψ(k+2)
    series = jnp.sum(_power_terms(x, (-1.0) ** _K * psi_sum / (_FACTORIAL * _FACTORIAL * (_K + 1))), -1)
    return -2 / (np.pi * x) + 2 / np.pi * log * j - x / (2 * np.pi) * series


def _y_integral(x, order: int):
    """Y_n(x) = (1/π)∫_0^π sin(x sin θ − nθ) dθ − (1/π)∫_0^∞ (e^{nt} + (−1)^n e^{−nt}) e^{−x sinh t} dt, both by
    64-point Gauss–Legendre (the second on [0, 3], where e^{−x sinh t} < 1e-19 beyond for x >= 8)."""
    theta = (_GL_X + 1) * np.pi / 2
    first = jnp.sum(_GL_W * np.pi / 2 * jnp.sin(x[..., None] * np.sin(theta) - order * theta), -1)
    t = (_GL_X + 1) * 1.5
    weight = np.exp(order * t) + (-1) ** order * np.exp(-order * t)
    second = jnp.sum(_GL_W * 1.5 * weight * jnp.exp(-x[..., None] * np.sinh(t)), -1)
    return (first - second) / np.pi


def _bessel_y(x, order: int):
    small, large = x <= _SERIES_Y, x > _LARGE
    near = _y_series(jnp.where(small & (x > 0), x, 1.0), order)
    middle = _y_integral(jnp.where(~small & ~large, x, 10.0), order)
    far = _hankel_jy(jnp.where(large, x, _LARGE + 1), order)[1]
    out = jnp.where(small, near, jnp.where(large, far, middle))
    # TF's domain: -inf for x <= 0, NaN at +inf
    return jnp.where(x <= 0, -jnp.inf, jnp.where(jnp.isposinf(x), jnp.nan, out))


def _k_series(x, order: int):
    """exp(x)·K_n(x) from the power series (n = 0, 1), with jax's I0, I1."""
    log = jnp.log(x / 2)
    if order == 0:
        series = jnp.sum(_power_terms(x, _HARMONIC / _FACTORIAL ** 2), -1)
        k = -(log + _EULER) * jax.scipy.special.i0(x) + series
    else:
        psi_sum = 2 * _PSI + 1 / (_K + 1)
        series = jnp.sum(_power_terms(x, psi_sum / (_FACTORIAL * _FACTORIAL * (_K + 1))), -1)
        k = 1 / x + log * jax.scipy.special.i1(x) - x / 4 * series
    return k * jnp.exp(x)


def _k_integral(x, order: int):
    """exp(x)·K_n(x) = ∫_0^∞ exp(−x (cosh t − 1)) cosh(n t) dt: the trapezoid rule with step 0.05 on [0, 6]
    (an even entire integrand: spectrally accurate; beyond 6 it is below e^-180 for x > 2)."""
    t = _TRAPEZOID_T
    return jnp.sum(_TRAPEZOID_W * np.cosh(order * t) * jnp.exp(-x[..., None] * (np.cosh(t) - 1)), -1)


def _k_asymptotic(x, order: int):
    return jnp.sqrt(np.pi / (2 * x)) * jnp.sum(_hankel_terms(x, order), -1)


def _bessel_ke(x, order: int):
    small, large = x <= _SERIES_K, x > _LARGE
    near = _k_series(jnp.where(small & (x > 0), x, 1.0), order)
    middle = _k_integral(jnp.where(~small & ~large, x, 10.0), order)
    far = _k_asymptotic(jnp.where(large, x, _LARGE + 1), order)
    out = jnp.where(small, near, jnp.where(large, far, middle))
    # TF's domain: inf for x <= 0, 0 at +inf
    return jnp.where(x <= 0, jnp.inf, jnp.where(jnp.isposinf(x), 0.0, out))


def _in_float64(fn):
    """A rule computing `fn` in float64 and rounding once to the input's type (TF's half and bfloat16 kernels
    compute in float32; this is at least as accurate)."""
    def rule(x, **_):
        x = jnp.asarray(x)
        return fn(x.astype(jnp.float64)).astype(x.dtype)
    return rule


def _bessel_y1(x):
    """Y1 with TF's float32 kernel's value at ±0 (NaN; its float64 kernel gives -inf, as for every x <= 0)."""
    x = jnp.asarray(x)
    out = _in_float64(lambda v: _bessel_y(v, 1))(x)
    return out if x.dtype == jnp.float64 else jnp.where(x == 0, jnp.nan, out).astype(x.dtype)


def _bessel_j0(x):
    # TF's BesselJ0Grad: -j1(x) (jax's derivative of the series is NaN at 0)
    return with_tf_slope(lambda v: _bessel_j(v, 0), lambda v, y: -_bessel_j(v, 1))(x)


def _bessel_j1(x):
    # TF's BesselJ1Grad: j0(x) - y / x, set to 0.5 at x = 0
    return with_tf_slope(lambda v: _bessel_j(v, 1), lambda v, y: jnp.where(
        v == 0, jnp.asarray(0.5, v.dtype), _bessel_j(v, 0) - y / jnp.where(v == 0, 1, v)))(x)


lowers("BesselJ0")(_in_float64(_bessel_j0))
lowers("BesselJ1")(_in_float64(_bessel_j1))
lowers("BesselY0")(_in_float64(lambda x: _bessel_y(x, 0)))
lowers("BesselY1")(lambda x, **_: _bessel_y1(x))
lowers("BesselK0e")(_in_float64(lambda x: _bessel_ke(x, 0)))
lowers("BesselK1e")(_in_float64(lambda x: _bessel_ke(x, 1)))
# K = exp(−x)·Ke, except where Ke is inf (x <= 0)
lowers("BesselK0")(_in_float64(lambda x: jnp.where(x <= 0, jnp.inf, _bessel_ke(x, 0) * jnp.exp(-x))))
lowers("BesselK1")(_in_float64(lambda x: jnp.where(x <= 0, jnp.inf, _bessel_ke(x, 1) * jnp.exp(-x))))


def _expint(x):
    """TF's Expint: Ei on x >= 0 (-inf at 0), NaN for negative x and at +inf."""
    ei = jax.scipy.special.expi(jnp.where(x > 0, x, 1.0))
    return jnp.where((x < 0) | jnp.isposinf(x) | jnp.isnan(x), jnp.nan, jnp.where(x == 0, -jnp.inf, ei))


lowers("Dawsn")(_in_float64(jax.scipy.special.dawsn))
@lowers("Expint")
def expint(x, **_):
    x = jnp.asarray(x)
    out = _in_float64(_expint)(x)
    if x.dtype == jnp.float64:
        return out
    # TF's float32 kernel forms exp(x) on the way: inf once that overflows, though Ei(x) itself would not yet
    overflow = (x > np.log(np.finfo(np.float32).max)) & jnp.isfinite(x)
    return jnp.where(overflow, jnp.inf, out).astype(x.dtype)
lowers("FresnelSin")(_in_float64(lambda x: jax.scipy.special.fresnel(x)[0]))
lowers("FresnelCos")(_in_float64(lambda x: jax.scipy.special.fresnel(x)[1]))
@jax.custom_jvp
def _spence(x):
    return jax.scipy.special.spence(x)


@_spence.defjvp
def _spence_jvp(primals, tangents):
    """TF's gradient of Spence: log(x) / (1 − x), whose limit −1 at x = 1 jax's own derivative misses."""
    (x,), (dx,) = primals, tangents
    at_one = x == 1
    slope = jnp.where(at_one, -1.0, jnp.log(x) / jnp.where(at_one, 0.5, 1 - x))
    return _spence(x), slope * dx


lowers("Spence")(_in_float64(_spence))
