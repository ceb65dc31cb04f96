"""glibc's float32 log1pf and expm1f, operation for operation, for numpy and for compiled JAX plans.

TF's candidate samplers compute expected counts as -expm1f(num_tries * log1pf(-p)) in float32 with the C
library's functions (range_sampler.cc). glibc (2.28 to 2.40 at least) implements both with SunPro's float
algorithms (sysdeps/ieee754/flt-32/s_log1pf.c, s_expm1f.c), which are not correctly rounded: about 1% of
results differ from the correctly rounded float by an ulp, so neither a float64 evaluation nor a table of
exceptions (millions of them) reproduces them. Their algorithms use only float32 additions,
subtractions, multiplications and divisions, integer operations on the float's bits, and comparisons, each
of which IEEE 754 defines exactly: repeating the same operations in the same order gives the same bits.

One hazard: compilers. XLA's simplifier rewrites float expressions with constants ((1 + x) - 1 becomes
x) and XLA's CPU backend lets LLVM contract a product feeding a sum into one fused multiply-add (one
rounding instead of two). So compiled code here keeps every float32 result behind an integer operation the
compiler cannot see through (`Float32Ops`); numpy (op by op) never rewrites nor fuses.

glibc 2.36's results were compared with these for every negative float32 down to -1 (log1pf: the
samplers' log1pf(-p)) and every negative float32 (expm1f: float(num_tries) * log1pf(-p) <= 0), numpy and
compiled: no difference (see tests/test_sampler_device.py). `matches_libm` compares them with the running
process's C library on a sample (another glibc may implement them otherwise, e.g. correctly rounded):
callers use them only where it holds.
"""
from __future__ import annotations

import functools

import numpy as np

_F32 = np.float32


def _is_np(xp) -> bool:
    return xp is np


def _bits(xp, x):
    """A float32 array's bits as int32."""
    if _is_np(xp):
        return np.asarray(x, np.float32).view(np.int32)
    import jax
    return jax.lax.bitcast_convert_type(x.astype(xp.float32), xp.int32)


def _float(xp, bits):
    if _is_np(xp):
        return np.asarray(bits, np.int32).view(np.float32)
    import jax
    return jax.lax.bitcast_convert_type(bits.astype(xp.int32), xp.float32)


class Float32Ops:
    """float32 +, -, *, / that each round once, as IEEE 754 and the C code do, and stay as written.

    numpy: plain float32 arithmetic. Compiled (jax.numpy): every result passes through an integer XOR with
    `zero`, a traced int32 that is 0 at run time but that the compiler cannot prove 0 (the caller derives
    it from a loop's result), and so does every constant operand. So XLA cannot rewrite across operations
    (its simplifier folds (1 + x) - 1 to x, and divides by a constant as a multiplication by its
    reciprocal), and LLVM cannot contract a product into a following sum (a fused multiply-add, which XLA's CPU
    backend allows everywhere): the bits are the C code's."""

    def __init__(self, xp, zero=None):
        if not _is_np(xp) and zero is None:
            raise ValueError("compiled glibc_float functions need a traced zero the compiler cannot see")
        self.xp, self.zero = xp, zero

    def _op(self, name: str, a, b):
        xp = self.xp
        if _is_np(xp):
            with np.errstate(all="ignore"):   # log1pf(-1) divides by zero on the way to -inf, as C does
                return getattr(np, name)(np.asarray(a, np.float32), np.asarray(b, np.float32)).astype(np.float32)
        out = getattr(xp, name)(self._operand(a), self._operand(b))
        return _float(xp, _bits(xp, out) ^ self.zero)

    def _operand(self, x):
        """A traced operand as it is; a constant hidden behind the zero too: XLA rewrites x / c as
        x * (1 / c), which rounds twice."""
        xp = self.xp
        if isinstance(x, (np.ndarray, np.generic, float, int)):
            return _float(xp, _bits(xp, xp.asarray(x, xp.float32)) ^ self.zero)
        return xp.asarray(x, xp.float32)

    def add(self, a, b):
        return self._op("add", a, b)

    def sub(self, a, b):
        return self._op("subtract", a, b)

    def mul(self, a, b):
        return self._op("multiply", a, b)

    def div(self, a, b):
        return self._op("divide", a, b)

    def const(self, value: float):
        """A float constant as the C source writes it (a literal rounded to float)."""
        return _F32(value) if _is_np(self.xp) else self.xp.float32(_F32(value))


def multiply(xp, a, b, zero=None):
    """The float32 product a * b, kept from fusing with what consumes it (see `Float32Ops`)."""
    return Float32Ops(xp, zero).mul(a, b)


def log1pf(xp, x, zero=None):
    """glibc's __log1pf (SunPro): float32 in, float32 out, elementwise over an array. Compiled (xp is
    jax.numpy), `zero` is a traced int32 zero the compiler cannot see through (see `Opaque`)."""
    return _log1pf(Float32Ops(xp, zero), x)


def _log1pf(ops: Float32Ops, x):
    xp = ops.xp
    x = xp.asarray(x, xp.float32)
    c = ops.const
    mul, add, sub, div = ops.mul, ops.add, ops.sub, ops.div
    one, zero, half = c(1.0), c(0.0), c(0.5)
    ln2_hi, ln2_lo = c(6.9313812256e-01), c(9.0580006145e-06)
    lp = [c(v) for v in (6.6666668653e-01, 4.0000000596e-01, 2.8571429849e-01, 2.2222198546e-01,
                         1.8183572590e-01, 1.5313838422e-01, 1.4798198640e-01)]
    hx = _bits(xp, x)
    ax = hx & 0x7FFFFFFF
    small = hx < 0x3ED413D7                      # x < 0.41422
    at_most_minus_one = small & (ax >= 0x3F800000)
    tiny = small & ~at_most_minus_one & (ax < 0x31000000)   # |x| < 2**-29
    tiny_value = xp.where(ax < 0x24800000, x, sub(x, mul(mul(x, x), half)))
    k0 = small & ((hx > 0) | (hx <= np.int32(np.uint32(0xBE95F61F).view(np.int32))))  # -0.2929 < x < 0.41422
    # k != 0: u = 1 + x (or x itself when huge) normalized to [sqrt(2)/2, sqrt(2)), k its exponent
    u1 = add(one, x)
    plain = hx < 0x5A000000
    hu = xp.where(plain, _bits(xp, u1), hx)
    k = (hu >> 23) - 127
    corr = xp.where(k > 0, sub(one, sub(u1, x)), sub(x, sub(u1, one)))
    corr = xp.where(plain, div(corr, xp.where(plain, u1, one)), zero)
    hu = hu & 0x007FFFFF
    low = hu < 0x3504F7
    u = _float(xp, xp.where(low, hu | 0x3F800000, hu | 0x3F000000))
    k = xp.where(low, k, k + 1)
    hu = xp.where(low, hu, (0x00800000 - hu) >> 2)
    f = xp.where(k0, x, sub(u, one))
    k = xp.where(k0, 0, k)
    hu = xp.where(k0, 1, hu)
    corr = xp.where(k0, zero, corr)
    kf = k.astype(xp.float32)
    hfsq = mul(mul(half, f), f)
    # |f| < 2**-20
    exact_power = xp.where(k == 0, zero, add(mul(kf, ln2_hi), add(corr, mul(kf, ln2_lo))))
    r_small = mul(hfsq, sub(one, mul(c(0.66666666666666666), f)))
    near_power = xp.where(k == 0, sub(f, r_small),
                          sub(mul(kf, ln2_hi), sub(sub(r_small, add(mul(kf, ln2_lo), corr)), f)))
    flat = xp.where(f == zero, exact_power, near_power)
    s = div(f, add(c(2.0), f))
    z = mul(s, s)
    poly = lp[6]
    for coeff in reversed(lp[:6]):
        poly = add(coeff, mul(z, poly))
    r = mul(z, poly)
    general = xp.where(k == 0, sub(f, sub(hfsq, mul(s, add(hfsq, r)))),
                       sub(mul(kf, ln2_hi),
                           sub(sub(hfsq, add(mul(s, add(hfsq, r)), add(mul(kf, ln2_lo), corr))), f)))
    out = xp.where(hu == 0, flat, general)
    out = xp.where(hx >= 0x7F800000, x + x, out)
    out = xp.where(tiny, tiny_value, out)
    out = xp.where(at_most_minus_one, xp.where(x == c(-1.0), c(-np.inf), c(np.nan)), out)
    return out


def expm1f(xp, x, zero=None):
    """glibc's __expm1f (SunPro): float32 in, float32 out, elementwise over an array (`zero`: as
    log1pf's)."""
    return _expm1f(Float32Ops(xp, zero), x)


def _expm1f(ops: Float32Ops, x):
    xp = ops.xp
    x = xp.asarray(x, xp.float32)
    c = ops.const
    mul, add, sub, div = ops.mul, ops.add, ops.sub, ops.div
    one, zero, half = c(1.0), c(0.0), c(0.5)
    ln2_hi, ln2_lo, invln2 = c(6.9313812256e-01), c(9.0580006145e-06), c(1.4426950216e+00)
    q = [c(v) for v in (-3.3333335072e-02, 1.5873016091e-03, -7.9365076090e-05, 4.0082177293e-06,
                        -2.0109921195e-07)]
    bits = _bits(xp, x)
    negative = bits < 0
    hx = bits & 0x7FFFFFFF
    # argument reduction: x = hi - lo + k ln2 for |x| > ln2 / 2
    reduced = hx > 0x3EB17218
    near = hx < 0x3F851592                        # |x| < 1.5 ln2: k = +-1
    hi_near = xp.where(negative, add(x, ln2_hi), sub(x, ln2_hi))
    lo_near = xp.where(negative, -ln2_lo, ln2_lo)
    k_near = xp.where(negative, -1, 1)
    # k = (int)(invln2 * x +- 0.5): C's conversion truncates; huge |x| (results fixed below) stay bounded
    kx = add(mul(invln2, x), xp.where(negative, -half, half))
    k_far = xp.trunc(xp.clip(kx, c(-200.0), c(200.0))).astype(xp.int32)
    t_far = k_far.astype(xp.float32)
    hi_far = sub(x, mul(t_far, ln2_hi))
    lo_far = mul(t_far, ln2_lo)
    hi = xp.where(near, hi_near, hi_far)
    lo = xp.where(near, lo_near, lo_far)
    k = xp.where(reduced, xp.where(near, k_near, k_far), 0)
    xr = sub(hi, lo)
    corr = xp.where(reduced, sub(sub(hi, xr), lo), zero)
    xr = xp.where(reduced, xr, x)
    # x now in the primary range
    hfx = mul(half, xr)
    hxs = mul(xr, hfx)
    poly = q[4]
    for coeff in reversed(q[:4]):
        poly = add(coeff, mul(hxs, poly))
    r1 = add(one, mul(hxs, poly))
    t = sub(c(3.0), mul(r1, hfx))
    e = mul(hxs, div(sub(r1, t), sub(c(6.0), mul(xr, t))))
    res_k0 = sub(xr, sub(mul(xr, e), hxs))
    e = sub(mul(xr, sub(e, corr)), corr)
    e = sub(e, hxs)
    res_km1 = sub(mul(half, sub(xr, e)), half)
    res_k1 = xp.where(xr < c(-0.25), mul(c(-2.0), sub(e, add(xr, half))), add(one, mul(c(2.0), sub(xr, e))))
    shift = k << 23                                # adds k to a float's exponent through its bits
    y_far = sub(_float(xp, _bits(xp, sub(one, sub(e, xr))) + shift), one)
    kk = xp.clip(k, 0, 31)
    t_mid = _float(xp, 0x3F800000 - (0x1000000 >> kk))   # 1 - 2**-k
    y_mid = _float(xp, _bits(xp, sub(t_mid, sub(e, xr))) + shift)
    t_big = _float(xp, (0x7F - kk) << 23)                 # 2**-k
    y_big = _float(xp, _bits(xp, add(sub(xr, add(e, t_big)), one)) + shift)
    out = xp.where(k == 0, res_k0,
                   xp.where(k == -1, res_km1,
                            xp.where(k == 1, res_k1,
                                     xp.where((k <= -2) | (k > 56), y_far,
                                              xp.where(k < 23, y_mid, y_big)))))
    out = xp.where(~reduced & (hx < 0x33000000), x, out)    # |x| < 2**-25: x
    # |x| >= 27 ln2: -1 for negative x; overflow, inf and NaN
    big = hx >= 0x4195B844
    out = xp.where(big & negative, -one, out)
    out = xp.where(big & ~negative & (x > c(8.8721679688e+01)), c(np.inf), out)
    out = xp.where(hx == 0x7F800000, xp.where(negative, -one, x), out)
    out = xp.where(hx > 0x7F800000, x + x, out)
    return out


_CHECK_INPUTS = 1 << 14


@functools.lru_cache(maxsize=None)
def matches_libm() -> bool:
    """Whether this process's C library computes log1pf and expm1f as these do, on a sample of the
    samplers' domain: log1pf on (-1, 0), expm1f on (-inf, 0] (spread evenly over the float32 bit patterns,
    so every binade is represented). No C library (ctypes cannot find one): False."""
    from lowering import philox_sampling
    lib = philox_sampling._libm()
    if lib is None:
        return False
    rng = np.random.default_rng(0x5A3D)
    domains = ((log1pf, lib.log1pf, 0x3F800000), (expm1f, lib.expm1f, 0x42000000))
    for ours, theirs, top in domains:
        x = (rng.integers(0, top, _CHECK_INPUTS).astype(np.uint32) | np.uint32(0x80000000)).view(np.float32)
        with np.errstate(all="ignore"):
            mine = ours(np, x)
        libm = np.array([theirs(float(v)) for v in x.tolist()], np.float32)
        if mine.tobytes() != libm.tobytes():
            return False
    return True
