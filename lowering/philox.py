"""TensorFlow's CPU random numbers: Philox4x32-10 and TF's distributions, bit for bit.

One implementation, written against an array module `xp`: numpy on the host (op-by-op runs, initializers:
vectorized, no kernel to compile) and jax.numpy in compiled plans (traced seeds and counters allowed).
Both give identical bits, and the bits are TF's (tensorflow/core/lib/random/philox_random.h,
random_distributions.h; the kernels' fill loop in kernels/random_op_cpu.h):

- a generator is a 64-bit key (two words) and a 128-bit counter (four words); one call returns the four
  words of Philox4x32-10(counter, key) and adds one to the counter;
- a distribution turns one call's four words into a *group* of outputs (4 floats, 2 doubles, ...); output
  group g of a fill comes from the call at counter + g, a last partial group keeps its first elements;
- distributions that reject samples (truncated normal) read a variable number of words: group g reads,
  word by word, from counter + g * (group size * 256 / 4), TF's reservation per group.

Box-Muller's transcendental steps are computed in float64 and rounded to the precision TF computes them in
(float32 for half/bfloat16/float) after every step, so both tiers round the same way. TF calls glibc's
logf/sincosf, which round about 1% of results the other way; their float32 inputs here are one of 2^23
values each (a word's 23 mantissa bits), so philox_libm.npz (tools/make_philox_libm_table.py) lists every
input where glibc differs and by which ulp: float32/half/bfloat16 normals are then TF's bits (with glibc
2.28 or later, whose implementations the table records). float64 normals call glibc's double log/sincos,
which round like numpy/XLA's float64 functions for all but about 1 in 1000 samples (1 ulp apart).
Everything else (uniforms, ints, stream positions) is exact.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import functools
import os

import ml_dtypes
import numpy as np

_MASK32 = 0xFFFFFFFF
_M0, _M1 = 0xD2511F53, 0xCD9E8D57     # Philox multipliers
_W0, _W1 = 0x9E3779B9, 0xBB67AE85     # key schedule (Weyl) increments

# Samples TF reserves per output element for a stateful op's run (GuardedPhiloxRandom::ReserveRandomOutputs
# (n, 256) in random_op.cc): the k-th run of an op with n outputs starts at counter k * n * 256.
RESERVED_PER_OUTPUT = 256

Words = Tuple  # (w0, w1[, w2, w3]) 32-bit words: python ints, or uint32/uint64 scalars (traced in jnp)


def key_counter_from_seeds(seed: int, seed2: int) -> Tuple[Words, Words]:
    """PhiloxRandom(seed, seed2): the key is `seed`, the counter's upper 64 bits are `seed2`."""
    seed &= 0xFFFFFFFFFFFFFFFF
    seed2 &= 0xFFFFFFFFFFFFFFFF
    return (seed & _MASK32, seed >> 32), (0, 0, seed2 & _MASK32, seed2 >> 32)


def _is_np(xp) -> bool:
    return xp is np


def _host_roundings_in_compiled_plans() -> bool:
    """Whether a compiled plan may call back to the host for glibc's roundings of Box-Muller's log/sin/cos.
    On one CPU device the callback is an in-process call, and compiled normals are TF's bits. On GPU/TPU
    it would be a device-host round trip on every draw, and in a step sharded over several devices a
    gather to one of them; there the values stay correctly rounded instead (about 1.5% of float32 normals
    1-3 ulp from TF's, 0.15% of float64 ones 1-2 ulp), computed where they are used."""
    import jax
    return jax.default_backend() == "cpu" and jax.device_count() == 1


def _u64(xp, x):
    """A 32-bit word (python int or array) as a uint64 array/scalar of module xp."""
    if isinstance(x, int):
        return xp.uint64(x)
    return xp.asarray(x).astype(xp.uint64)


def philox(xp, key: Words, counter: Sequence) -> list:
    """Philox4x32-10 of counter words (uint64 arrays holding 32-bit values, broadcastable) under `key`.

    Words are kept in uint64 so that a 32x32 product needs no widening (numpy: about half the passes).
    """
    c0, c1, c2, c3 = counter
    k0, k1 = key
    concrete = isinstance(k0, int) and isinstance(k1, int)
    if concrete and _is_np(xp):
        return _philox_np(k0, k1, counter)
    if not concrete:
        k0, k1 = _u64(xp, k0), _u64(xp, k1)
    m0, m1, mask = xp.uint64(_M0), xp.uint64(_M1), xp.uint64(_MASK32)
    for r in range(10):
        if concrete:
            rk0, rk1 = xp.uint64((k0 + r * _W0) & _MASK32), xp.uint64((k1 + r * _W1) & _MASK32)
        else:
            rk0 = (k0 + xp.uint64(r * _W0)) & mask
            rk1 = (k1 + xp.uint64(r * _W1)) & mask
        p0 = c0 * m0
        p1 = c2 * m1
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ rk0, p1 & mask, (p0 >> 32) ^ c3 ^ rk1, p0 & mask)
    return [c0, c1, c2, c3]


def _philox_np(k0: int, k1: int, counter: Sequence) -> list:
    """`philox` for numpy with a concrete key, in 6 passes a round instead of 10: words are uint32, the two
    products go to uint64 buffers whose halves are read in place as strided uint32 views (little-endian:
    low word first), and the buffers alternate so that last round's low halves stay readable."""
    shape = np.broadcast_shapes(*(np.shape(c) for c in counter))
    c0, c1, c2, c3 = (np.array(np.broadcast_to(c, shape), np.uint32).reshape(-1) for c in counter)
    size = c0.size
    buffers = [(np.empty(size, np.uint64), np.empty(size, np.uint64)) for _ in range(2)]
    m0, m1 = np.uint64(_M0), np.uint64(_M1)
    for r in range(10):
        rk0, rk1 = np.uint32((k0 + r * _W0) & _MASK32), np.uint32((k1 + r * _W1) & _MASK32)
        p0, p1 = buffers[r % 2]
        np.multiply(c0, m0, out=p0, dtype=np.uint64)
        np.multiply(c2, m1, out=p1, dtype=np.uint64)
        h0, h1 = p0.view(np.uint32)[1::2], p1.view(np.uint32)[1::2]
        np.bitwise_xor(h1, c1, out=c0)   # c0' = hi(c2 * M1) ^ c1 ^ k0
        c0 ^= rk0
        np.bitwise_xor(h0, c3, out=c2)   # c2' = hi(c0 * M0) ^ c3 ^ k1
        c2 ^= rk1
        c1, c3 = p1.view(np.uint32)[0::2], p0.view(np.uint32)[0::2]   # lo(c2 * M1), lo(c0 * M0)
    return [c.reshape(shape) for c in (c0, c1, c2, c3)]


def _counters(xp, counter: Words, offsets):
    """The four counter words of `counter` + `offsets` (a uint64 array of 128-bit-unit skips), TF's Skip."""
    c = [_u64(xp, w) for w in counter]
    lo = c[0] | (c[1] << xp.uint64(32))
    hi = c[2] | (c[3] << xp.uint64(32))
    new_lo = lo + offsets
    new_hi = hi + (new_lo < offsets).astype(xp.uint64)   # carry into the upper 64 bits
    mask, s32 = xp.uint64(_MASK32), xp.uint64(32)
    return [new_lo & mask, new_lo >> s32, new_hi & mask, new_hi >> s32]


def _arange64(xp, n: int):
    return xp.arange(n, dtype=xp.uint64)


def words(xp, key: Words, counter: Words, groups: int, stride: int = 1, calls: int = 1):
    """Words [groups, calls * 4] of calls counter + g*stride + j (row g, j < calls): uint32 on numpy with a
    concrete key, else uint64."""
    base = _arange64(xp, groups)[:, None] * xp.uint64(stride) + _arange64(xp, calls)[None, :]
    out = philox(xp, key, _counters(xp, counter, base))
    return xp.stack(out, axis=-1).reshape(groups, calls * 4)


# --- distributions -------------------------------------------------------------------------------------

def _group_size(kind: str, dtype: np.dtype) -> int:
    """Distribution::kResultElementCount: 64-bit results use two words each."""
    wide = dtype.itemsize == 8
    if kind == "truncated":
        return 2 if wide else 4
    return 2 if wide else 4


def _bitcast(xp, x, dtype):
    if _is_np(xp):
        return x.view(dtype)
    import jax
    return jax.lax.bitcast_convert_type(x, dtype)


def _uniform_from_words(xp, w, dtype: np.dtype):
    """TF's Uint32ToFloat / Uint64ToDouble / Uint16ToHalf / Uint16ToGfloat16: mantissa bits under exponent 0,
    minus one (exact). `w`: uint64 array [..., 4]."""
    if dtype == np.float64:
        hi = w[..., 0::2] & xp.uint64(0xFFFFF)
        bits = (xp.uint64(1023 << 52)) | (hi << xp.uint64(32)) | w[..., 1::2]
        return _bitcast(xp, bits, xp.float64) - 1.0
    if dtype == np.float16:
        bits = ((w & 0x3FF) | (15 << 10)).astype(xp.uint16)
        return _bitcast(xp, bits, xp.float16) - xp.float16(1.0)
    if dtype == ml_dtypes.bfloat16:
        bits = ((w & 0x7F) | (127 << 7)).astype(xp.uint16)
        return (_bitcast(xp, bits, ml_dtypes.bfloat16).astype(xp.float32) - xp.float32(1.0)).astype(
            ml_dtypes.bfloat16)
    bits = ((w & 0x7FFFFF) | (127 << 23)).astype(xp.uint32)
    return _bitcast(xp, bits, xp.float32) - xp.float32(1.0)


def _f32(xp, x):
    """Round float64 values to float32 (one TF float32 operation's rounding), kept as float64."""
    return x.astype(xp.float32).astype(xp.float64)


_LIBM_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "philox_libm.npz")
_MANTISSAS = 1 << 23


@functools.lru_cache(maxsize=None)
def _libm_sparse(name: str):
    """(sorted mantissas where glibc's `name` rounds the other way, +1/-1 bit steps), or None without the
    table (then results are correctly rounded: at most 1 ulp from TF's for ~1% of samples)."""
    try:
        with np.load(_LIBM_TABLE) as table:
            where = np.cumsum(table[f"{name}_gaps"].astype(np.int64)).astype(np.uint32)
            up = np.unpackbits(table[f"{name}_up"], count=where.size).astype(np.int32)
    except (OSError, KeyError):
        return None
    return where, up * 2 - 1


@functools.lru_cache(maxsize=None)
def _libm_dense(name: str):
    """The table as 2 bits per mantissa (1: one bit up, 2: one bit down), 2 MB: one gather per value."""
    sparse = _libm_sparse(name)
    if sparse is None:
        return None
    where, step = sparse
    codes = np.zeros(_MANTISSAS, np.uint8)
    codes[where] = np.where(step > 0, 1, 2)
    c = codes.reshape(-1, 4)
    return (c[:, 0] | (c[:, 1] << 2) | (c[:, 2] << 4) | (c[:, 3] << 6)).astype(np.uint8)


def _glibc_steps(name: str, mantissa: np.ndarray) -> np.ndarray:
    """int32 bit steps (-1, 0, +1) from the correctly rounded float32 f(x) to glibc's, x given by its 23-bit
    `mantissa` (numpy: two passes over a 2 MB table)."""
    dense = _libm_dense(name)
    if dense is None:
        return np.zeros(np.shape(mantissa), np.int32)
    m = np.asarray(mantissa).astype(np.int32)
    code = (dense[m >> 2] >> ((m & 3) << 1).astype(np.uint8)) & 3
    return (code & 1).astype(np.int32) - (code >> 1).astype(np.int32)


@functools.lru_cache(maxsize=None)
def _libm_sincos() -> "np.ndarray | None":
    """sinf's and cosf's codes for the same mantissa in one byte (sin: bits 0-1, cos: bits 2-3), 8 MB: both
    steps of a value from one gather."""
    sin, cos = _libm_sparse("sinf"), _libm_sparse("cosf")
    if sin is None or cos is None:
        return None
    codes = np.zeros(_MANTISSAS, np.uint8)
    codes[sin[0]] = np.where(sin[1] > 0, 1, 2)
    codes[cos[0]] |= np.where(cos[1] > 0, 1, 2).astype(np.uint8) << 2
    return codes


def _glibc_sincos_steps(mantissa: np.ndarray):
    codes = _libm_sincos()
    if codes is None:
        zeros = np.zeros(np.shape(mantissa), np.int32)
        return zeros, zeros
    code = codes[np.asarray(mantissa).astype(np.int32)]
    sin = (code & 1).astype(np.int32) - ((code >> 1) & 1).astype(np.int32)
    cos = ((code >> 2) & 1).astype(np.int32) - (code >> 3).astype(np.int32)
    return sin, cos


def _glibc_roundings(xp, m0, m1, log_u1, sin_v1, cos_v1):
    """logf(u1), sinf(v1), cosf(v1) (float32, correctly rounded) moved to glibc's roundings.

    Compiled plans ask the host for the steps (a callback with one byte per value back): the table as a
    constant of every executable that draws normals made XLA compile each such op for a second or more."""
    if _is_np(xp):
        sin_step, cos_step = _glibc_sincos_steps(m1)
        return [(v.view(np.int32) + step).view(np.float32)
                for v, step in ((log_u1, _glibc_steps("logf", m0)), (sin_v1, sin_step), (cos_v1, cos_step))]
    if _libm_dense("logf") is None or not _host_roundings_in_compiled_plans():
        return [log_u1, sin_v1, cos_v1]
    import jax

    def host(a, b):
        return np.stack([_glibc_steps("logf", a), *_glibc_sincos_steps(b)]).astype(np.int8)

    shape = tuple(m0.shape)
    steps = jax.pure_callback(host, jax.ShapeDtypeStruct((3,) + shape, np.int8), m0.astype(xp.uint32),
                              m1.astype(xp.uint32), vmap_method="sequential").astype(xp.int32)
    return [jax.lax.bitcast_convert_type(jax.lax.bitcast_convert_type(v, xp.int32) + steps[i], xp.float32)
            for i, v in enumerate((log_u1, sin_v1, cos_v1))]


def _box_muller_float(xp, x0, x1):
    """TF's BoxMullerFloat on word arrays x0, x1: two float32 normals per pair. Each float32 operation is
    computed in float64 and rounded; logf, sinf and cosf then take glibc's rounding from the table."""
    if _is_np(xp):
        return _box_muller_float_np(x0, x1)
    u1 = _uniform_from_words(xp, x0, np.dtype(np.float32)).astype(xp.float64)
    u1 = xp.maximum(u1, float(np.float32(1.0e-7)))
    # v1 = 2.0f * M_PI * u: M_PI is a double, so the product is a double rounded once to float
    v1 = _f32(xp, (2.0 * np.pi) * _uniform_from_words(xp, x1, np.dtype(np.float32)).astype(xp.float64))
    m0, m1 = x0 & 0x7FFFFF, x1 & 0x7FFFFF
    log_u1, sin_v1, cos_v1 = _glibc_roundings(xp, m0, m1, xp.log(u1).astype(xp.float32),
                                              xp.sin(v1).astype(xp.float32), xp.cos(v1).astype(xp.float32))
    u2 = _f32(xp, xp.sqrt(-2.0 * log_u1.astype(xp.float64)))
    f0 = (sin_v1.astype(xp.float64) * u2).astype(xp.float32)
    f1 = (cos_v1.astype(xp.float64) * u2).astype(xp.float32)
    return f0, f1


def _box_muller_float_np(x0: np.ndarray, x1: np.ndarray):
    """`_box_muller_float` in fewer numpy passes: float32 sqrt and products are correctly rounded as they
    are (the same bits as rounding the float64 results), and the transcendental ufuncs cast in their loops."""
    f32, f64 = np.float32, np.float64
    u1 = np.maximum(_uniform_from_words(np, x0, np.dtype(f32)), f32(1.0e-7))
    v1 = ((2.0 * np.pi) * _uniform_from_words(np, x1, np.dtype(f32)).astype(f64)).astype(f32)
    log_u1, sin_v1, cos_v1 = _glibc_roundings(np, x0 & 0x7FFFFF, x1 & 0x7FFFFF,
                                              np.log(u1, dtype=f64).astype(f32), np.sin(v1, dtype=f64).astype(f32),
                                              np.cos(v1, dtype=f64).astype(f32))
    log_u1 *= f32(-2.0)
    u2 = np.sqrt(log_u1)
    sin_v1 *= u2
    cos_v1 *= u2
    return sin_v1, cos_v1


def _box_muller_double_host(w: np.ndarray):
    """BoxMullerDouble with the C library's log/sin/cos (Python's math module calls them): TF's kernel calls
    glibc's log and sincos, which numpy's and XLA's float64 functions miss by 1 ulp for ~0.1% of samples;
    these are glibc's own results. About 0.13 s per million samples."""
    import math
    d = _uniform_from_words(np, np.asarray(w, np.uint64), np.dtype(np.float64))
    u1 = np.maximum(d[..., 0], 1.0e-7).ravel()
    v1 = ((2.0 * np.pi) * d[..., 1]).ravel()
    log_u1 = np.fromiter(map(math.log, u1.tolist()), np.float64, count=u1.size)
    u2 = np.sqrt(-2.0 * log_u1)
    sin_v1 = np.fromiter(map(math.sin, v1.tolist()), np.float64, count=v1.size)
    cos_v1 = np.fromiter(map(math.cos, v1.tolist()), np.float64, count=v1.size)
    shape = d.shape[:-1]
    return (sin_v1 * u2).reshape(shape), (cos_v1 * u2).reshape(shape)


def _box_muller_double(xp, w):
    """TF's BoxMullerDouble on words [..., 4]: two float64 normals. Compiled plans call back to the host
    for the C library's log/sin/cos (the same bits as op by op); float64 normals are rare in models."""
    if _is_np(xp):
        return _box_muller_double_host(np.asarray(w))
    if not _host_roundings_in_compiled_plans():  # XLA's float64 log/sin/cos (see the function above)
        d = _uniform_from_words(xp, w.astype(xp.uint64), np.dtype(np.float64))
        u2 = xp.sqrt(-2.0 * xp.log(xp.maximum(d[..., 0], 1.0e-7)))
        v1 = (2.0 * np.pi) * d[..., 1]
        return xp.sin(v1) * u2, xp.cos(v1) * u2
    import jax

    def host(words):
        # returned as uint32 halves: the callback's thread may run without JAX's 64-bit mode, where a
        # float64 result would be converted to float32
        d0, d1 = _box_muller_double_host(words)
        return np.stack([d0, d1], axis=-1).view(np.uint32)

    out = jax.ShapeDtypeStruct(tuple(w.shape[:-1]) + (4,), np.uint32)
    halves = jax.pure_callback(host, out, w.astype(xp.uint32), vmap_method="sequential")
    pairs = halves.reshape(tuple(w.shape[:-1]) + (2, 2)).astype(xp.uint64)
    bits = pairs[..., 0] | (pairs[..., 1] << xp.uint64(32))   # little-endian halves of each float64
    d = jax.lax.bitcast_convert_type(bits, xp.float64)
    return d[..., 0], d[..., 1]


# Op by op, a large fill runs in chunks of groups: each chunk's arrays stay in the CPU caches, and chunks run
# on a thread pool (numpy releases the GIL in its loops), as TF's kernel shards its groups over threads.
_CHUNK_GROUPS = 1 << 14
_POOL = None


def _advance(counter: Words, count: int) -> Words:
    """Concrete counter words advanced by `count` calls (TF's Skip), as python ints."""
    w = [int(x) for x in counter]
    lo = (w[0] | (w[1] << 32)) + count
    hi = ((w[2] | (w[3] << 32)) + (lo >> 64)) & 0xFFFFFFFFFFFFFFFF
    lo &= 0xFFFFFFFFFFFFFFFF
    return (lo & _MASK32, lo >> 32, hi & _MASK32, hi >> 32)


def _host_chunked(kind: str):
    def wrap(fn):
        @functools.wraps(fn)
        def run(xp, key, counter, n, *args):
            dtype = np.dtype(args[-1])
            k = _group_size(kind, dtype)
            groups = -(-n // k)
            if not _is_np(xp) or groups <= _CHUNK_GROUPS or not all(isinstance(w, int) for w in key):
                return fn(xp, key, counter, n, *args)
            global _POOL
            if _POOL is None:
                import concurrent.futures
                _POOL = concurrent.futures.ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1)),
                                                              thread_name_prefix="graphcompat-philox")
            stride = k * RESERVED_PER_OUTPUT // 4 if kind == "truncated" else 1
            starts = range(0, groups, _CHUNK_GROUPS)
            parts = _POOL.map(lambda g: fn(np, key, _advance(counter, g * stride),
                                           min(n, (g + _CHUNK_GROUPS) * k) - g * k, *args), starts)
            return np.concatenate(list(parts))
        return run
    return wrap


def _cast_out(xp, x, dtype: np.dtype):
    return x if x.dtype == dtype else x.astype(dtype)


@_host_chunked("uniform")
def uniform(xp, key: Words, counter: Words, n: int, dtype) -> "array":
    """n values of TF's UniformDistribution<dtype> in [0, 1), flat."""
    dtype = np.dtype(dtype)
    k = _group_size("uniform", dtype)
    w = words(xp, key, counter, -(-n // k))
    return _uniform_from_words(xp, w, dtype).reshape(-1)[:n]


@_host_chunked("normal")
def normal(xp, key: Words, counter: Words, n: int, dtype) -> "array":
    """n values of TF's NormalDistribution<dtype>, flat."""
    dtype = np.dtype(dtype)
    k = _group_size("normal", dtype)
    w = words(xp, key, counter, -(-n // k))
    if dtype == np.float64:
        d0, d1 = _box_muller_double(xp, w)
        return xp.stack([d0, d1], axis=-1).reshape(-1)[:n]
    f0, f1 = _box_muller_float(xp, w[:, 0::2], w[:, 1::2])    # pairs (w0, w1), (w2, w3)
    out = xp.stack([f0, f1], axis=-1).reshape(-1)[:n]         # order r0, r1, r2, r3
    return _cast_out(xp, out, dtype)


def _truncated_candidates(xp, key, counter, groups, stride, calls, dtype):
    """Candidates [groups, c] in the order TF's TruncatedNormalDistribution makes them, per group."""
    w = words(xp, key, counter, groups, stride, calls)
    if dtype == np.float64:
        d0, d1 = _box_muller_double(xp, w.reshape(groups, calls, 4))
        return xp.stack([d0, d1], axis=-1).reshape(groups, -1)
    f0, f1 = _box_muller_float(xp, w[:, 0::2], w[:, 1::2])
    return xp.stack([f0, f1], axis=-1).reshape(groups, -1)


def _first_accepted(xp, cand, k: int):
    """Per row: the first k candidates with |x| < 2 (TF's kTruncateValue), and whether k were found."""
    ok = xp.abs(cand) < 2.0
    rank = xp.cumsum(ok, axis=1, dtype=xp.int32) - 1
    found = rank[:, -1] >= k - 1
    picks = []
    for i in range(k):
        idx = xp.argmax(ok & (rank == i), axis=1)   # first candidate of rank i
        picks.append(xp.take_along_axis(cand, idx[:, None], axis=1)[:, 0])
    return xp.stack(picks, axis=1), found


# Truncated normal. Op by op: one call per group (float: 4 candidates, double: 2), one more for the groups
# still short, then RETRY_CALLS (running out: probability below 1e-300) for the rare rest. Compiled (static
# shapes): FIRST_CALLS calls for every group, where a group falls short with probability ~2e-10, and then
# the host computes the fill.
_FIRST_CALLS, _RETRY_CALLS = 3, 64


@_host_chunked("truncated")
def truncated_normal(xp, key: Words, counter: Words, n: int, dtype) -> "array":
    """n values of TF's TruncatedNormalDistribution<dtype> (normals redrawn until |x| < 2), flat."""
    dtype = np.dtype(dtype)
    k = _group_size("truncated", dtype)
    groups = -(-n // k)
    stride = k * RESERVED_PER_OUTPUT // 4
    # op by op: one call's k candidates first (all accepted for 83% of float groups, 91% of double), then
    # one more call for the rest; compiled: FIRST_CALLS calls (double: twice as many, for 2 values a call)
    first = 1 if _is_np(xp) else _FIRST_CALLS * (2 if dtype == np.float64 else 1)
    if not groups:
        return xp.zeros((0,), dtype)
    cand = _truncated_candidates(xp, key, counter, groups, stride, first, dtype)
    if _is_np(xp):  # one call's k candidates: a group is done when all are accepted, and then they are it
        vals, found = cand, (np.abs(cand) < 2.0).all(axis=1)
    else:
        vals, found = _first_accepted(xp, cand, k)

    def candidates(rows, start: int, calls: int):
        """Candidates of groups `rows` (an int array) from their calls start .. start + calls - 1."""
        offsets = rows.astype(xp.uint64)[:, None] * xp.uint64(stride) + \
            (_arange64(xp, calls) + xp.uint64(start))[None, :]
        w = xp.stack(philox(xp, key, _counters(xp, counter, offsets)), axis=-1).reshape(rows.shape[0], -1)
        if dtype == np.float64:
            d0, d1 = _box_muller_double(xp, w.reshape(rows.shape[0], -1, 4))
            return xp.stack([d0, d1], axis=-1).reshape(rows.shape[0], -1)
        f0, f1 = _box_muller_float(xp, w[:, 0::2], w[:, 1::2])
        return xp.stack([f0, f1], axis=-1).reshape(rows.shape[0], -1)

    def redraw(rows):
        """The k values of groups `rows` from RETRY_CALLS calls each, and whether k were found."""
        return _first_accepted(np, candidates(rows, 0, _RETRY_CALLS), k)

    if _is_np(xp):
        rows = np.nonzero(~found)[0]
        if rows.size:  # the next calls of the groups that lack values, after the candidates they have
            more = np.concatenate([cand[rows], candidates(rows, first, 1)], axis=1)
            vals[rows], found[rows] = _first_accepted(np, more, k)
            rows = np.nonzero(~found)[0]
            if rows.size:
                vals[rows], found[rows] = redraw(rows)
    else:
        import jax

        def host(words):
            # the whole fill op by op (exact; with TF's own retries), as bytes: no 64-bit mode needed here
            w = [int(x) for x in words]
            return np.ascontiguousarray(truncated_normal(np, tuple(w[:2]), tuple(w[2:]), n, dtype)).view(np.uint8)

        def on_host(_):
            words = xp.stack([xp.asarray(w).astype(xp.uint32) for w in tuple(key) + tuple(counter)])
            raw = jax.pure_callback(host, jax.ShapeDtypeStruct((n * dtype.itemsize,), np.uint8), words,
                                    vmap_method="sequential")
            out = jax.lax.bitcast_convert_type(raw.reshape(n, dtype.itemsize), dtype)
            return xp.pad(out, (0, groups * k - n)).reshape(groups, k).astype(vals.dtype)

        def on_device(_):
            # the same redraw on the device, for every group (no host round trip on accelerators)
            more, _ = _first_accepted(xp, candidates(xp.arange(groups), 0, _RETRY_CALLS), k)
            return more.astype(vals.dtype)

        # rare (a group short of values after FIRST_CALLS calls): the fill is redrawn with RETRY_CALLS calls
        # a group, by the host (exact glibc roundings) where compiled plans may call back to it
        vals = jax.lax.cond(xp.all(found), lambda _: vals,
                            on_host if _host_roundings_in_compiled_plans() else on_device, None)
    return _cast_out(xp, vals.reshape(-1)[:n], dtype)


@_host_chunked("uniform")
def uniform_int(xp, key: Words, counter: Words, n: int, lo, hi, dtype) -> "array":
    """n values of TF's UniformDistribution<int32/int64>(lo, hi): lo + (bits % (hi - lo)), flat."""
    dtype = np.dtype(dtype)
    k = _group_size("uniform", dtype)
    w = words(xp, key, counter, -(-n // k))
    if dtype.itemsize == 8:
        bits = (w[:, 0::2] | (w[:, 1::2] << xp.uint64(32))).reshape(-1)[:n]
        lo64 = xp.asarray(lo).astype(xp.int64).astype(xp.uint64)
        rng = xp.asarray(hi).astype(xp.int64).astype(xp.uint64) - lo64
        return (lo64 + bits % rng).astype(xp.int64).astype(dtype)   # wrapping signed add
    bits = w.reshape(-1)[:n]
    lo32 = xp.asarray(lo).astype(xp.int64).astype(xp.uint64) & xp.uint64(_MASK32)
    rng = (xp.asarray(hi).astype(xp.int64).astype(xp.uint64) - lo32) & xp.uint64(_MASK32)
    return ((lo32 + bits % rng) & xp.uint64(_MASK32)).astype(xp.uint32).astype(dtype)


@_host_chunked("uniform")
def uniform_full_int(xp, key: Words, counter: Words, n: int, dtype) -> "array":
    """n values of TF's UniformFullIntDistribution: the raw words (64-bit: two words, low first)."""
    dtype = np.dtype(dtype)
    k = _group_size("uniform", dtype)
    w = words(xp, key, counter, -(-n // k))
    if dtype.itemsize == 8:
        bits = (w[:, 0::2] | (w[:, 1::2] << xp.uint64(32))).reshape(-1)[:n]
        return _bitcast(xp, bits, dtype) if dtype != np.uint64 else bits
    bits = w.reshape(-1)[:n].astype(xp.uint32)
    return _bitcast(xp, bits, dtype) if dtype != np.uint32 else bits


def stateless_key_counter(xp, seed0, seed1) -> Tuple[Words, Words]:
    """TF's GenerateKey (stateless_random_ops.cc): the seeds as a counter under a fixed key, scrambled by
    one Philox call; seed0/seed1 are int64 (int32 seeds are sign-extended, as TF's conversion does)."""
    s0 = xp.asarray(seed0).astype(xp.int64).astype(xp.uint64)
    s1 = xp.asarray(seed1).astype(xp.int64).astype(xp.uint64)
    mask, s32 = xp.uint64(_MASK32), xp.uint64(32)
    mix = philox(xp, (0x3EC8F720, 0x02461E29), [s0 & mask, s0 >> s32, s1 & mask, s1 >> s32])
    return (mix[0], mix[1]), (xp.uint64(0), xp.uint64(0), mix[2], mix[3])
