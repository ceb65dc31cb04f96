"""TF's CPU kernels that draw with rejections: candidate samplers, Multinomial, RandomShuffle, RandomGamma,
RandomPoisson(V2), ParameterizedTruncatedNormal and their stateless variants, bit for bit.

These kernels read Philox words or calls one at a time (random::SingleSampleAdapter / SimplePhilox: a call's
four words in order; UniformDistribution / NormalDistribution: a call's values, often taken last first), and
how many a sample takes depends on the values themselves (ExactUniformInt's rejection, a unique sampler's
rejected duplicates, Marsaglia-Tsang, Hormann, truncated-normal rejection): sequential by nature. So the draw
is computed on the host with numpy and python scalars as the kernel does (candidate_sampler_ops.cc,
range_sampler.cc, lib/random/{simple_philox,exact_uniform_int,weighted_picker,distribution_sampler}.*,
multinomial_op.cc, random_shuffle_op.cc, random_gamma_op.cc, random_poisson_op.cc,
parameterized_truncated_normal_op.cc, stateless_random_*), op by op directly and in compiled plans through
one host callback per draw (`host_draw`, as lowering/philox.py does for glibc's roundings); the LogUniform,
Uniform and FixedUnigram candidate samplers' compiled draws are computed in the plan instead (lowering/sampler_device.py,
the same bits, checked against `sample_batch`). Where compiled
plans may not call back to the host (GPU/TPU, steps sharded over devices:
`philox._host_roundings_in_compiled_plans`), the rules draw from a JAX key derived from the same Philox key
and counter instead: TF's distributions, not TF's numbers.

Stream positions are TF's: what each run reserves (ReserveSamples32/128, ReserveRandomOutputs(n, 256)), the
per-output skips, and where a kernel's Shard() over TF's intra-op pool gives each shard its own skip
(Multinomial, ParameterizedTruncatedNormal), the shards of Eigen's parallelFor for TF's pool: as large as
the first Session's intra_op_parallelism_threads, else one thread per CPU this process may use. Values computed with libm functions take glibc's own results (the
C library through `math` and ctypes), as TF's kernels call glibc. Multinomial's exp is Eigen's vectorized
double exp, which may differ from the correctly rounded one by an ulp: a sample moves only when a uniform
falls within that ulp of a class boundary.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
import os
from typing import Callable, Optional, Sequence, Tuple

import ml_dtypes
import numpy as np

from lowering import philox

_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF
KINT32MAX = 2 ** 31 - 1


# --- the word stream ------------------------------------------------------------------------------------

class WordStream:
    """random::SimplePhilox over a PhiloxRandom(key, counter): words in order, fetched in numpy blocks."""

    _BLOCK_CALLS = 64   # 256 words: a typical draw (tens of samples) needs one block

    def __init__(self, key: Sequence[int], counter: Sequence[int], skip_calls: int = 0):
        self.key = tuple(int(k) for k in key)
        self.counter = philox._advance(tuple(int(c) for c in counter), skip_calls)
        self.buffer: list = []
        self.pos = 0

    def _refill(self) -> None:
        w = philox.words(np, self.key, self.counter, self._BLOCK_CALLS)
        self.buffer = np.asarray(w, np.uint32).reshape(-1).tolist()
        self.counter = philox._advance(self.counter, self._BLOCK_CALLS)
        self.pos = 0

    def rand32(self) -> int:
        if self.pos == len(self.buffer):
            self._refill()
        x = self.buffer[self.pos]
        self.pos += 1
        return x

    def rand64(self) -> int:
        lo = self.rand32()
        return lo | (self.rand32() << 32)

    def rand_float(self) -> float:
        """Uint32ToFloat: the low 23 bits as the mantissa of [1, 2), minus one (exact: m / 2^23)."""
        return (self.rand32() & 0x7FFFFF) * (1.0 / (1 << 23))

    def rand_double(self) -> float:
        """Uint64ToDouble(x0, x1): x0's low 20 bits over x1 as the mantissa (exact: m / 2^52)."""
        x0 = self.rand32()
        x1 = self.rand32()
        return (((x0 & 0xFFFFF) << 32) | x1) * (1.0 / (1 << 52))

    def uniform(self, n: int) -> int:
        return exact_uniform_int(n, self.rand32, 32)

    def uniform64(self, n: int) -> int:
        return exact_uniform_int(n, self.rand64, 64)


def exact_uniform_int(n: int, random: Callable[[], int], bits: int) -> int:
    """TF's ExactUniformInt: masks for powers of two, else rejects words below (2^bits - 1) % n + 1."""
    if n == 0:
        random()  # the kernel consumes a value anyway
        return 0
    if n & (n - 1) == 0:
        return random() & (n - 1)
    rem = ((1 << bits) - 1) % n + 1
    while True:
        r = random()
        if r >= rem:
            return r % n


# --- glibc's float functions (TF's kernels call them) ----------------------------------------------------

@functools.lru_cache(maxsize=None)
def _libm():
    """The C library's math functions through ctypes, or None (then numpy's float32 functions, which differ
    from glibc's by an ulp for a small fraction of inputs)."""
    name = ctypes.util.find_library("m")
    if not name:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    for fn in ("log1pf", "expm1f"):
        getattr(lib, fn).restype = ctypes.c_float
        getattr(lib, fn).argtypes = [ctypes.c_float]
    lib.powf.restype = ctypes.c_float
    lib.powf.argtypes = [ctypes.c_float, ctypes.c_float]
    for fn in ("expf", "logf"):
        getattr(lib, fn).restype = ctypes.c_float
        getattr(lib, fn).argtypes = [ctypes.c_float]
    return lib


def powf(x: np.ndarray, y: np.float32) -> np.ndarray:
    """std::pow(float, float) elementwise: glibc's powf (numpy's float32 power rounds ~10% of a
    vocabulary's distorted unigrams the other way)."""
    x = np.asarray(x, np.float32)
    lib = _libm()
    if lib is None:
        return np.power(x, np.float32(y), dtype=np.float32)
    y = float(np.float32(y))
    return np.array([lib.powf(float(v), y) for v in x.reshape(-1).tolist()], np.float32).reshape(x.shape)


def _log1pf(x: np.float32) -> np.float32:
    lib = _libm()
    return np.float32(lib.log1pf(float(x))) if lib else np.log1p(np.float32(x))


def _expm1f(x: np.float32) -> np.float32:
    lib = _libm()
    return np.float32(lib.expm1f(float(x))) if lib else np.expm1(np.float32(x))


def expected_count(p: np.float32, batch_size: int, num_tries: int) -> np.float32:
    """range_sampler.cc's ExpectedCountHelper in float32: p * batch_size when no draw was rejected, else
    -expm1f(num_tries * log1pf(-p)) (the probability of being drawn at least once in num_tries draws)."""
    p = np.float32(p)
    if num_tries == batch_size:
        return np.float32(p * np.float32(batch_size))
    return np.float32(-_expm1f(np.float32(np.float32(num_tries) * _log1pf(np.float32(-p)))))


# --- range samplers -------------------------------------------------------------------------------------

class UniformSampler:
    def __init__(self, range_max: int):
        self.range = range_max
        self.inv_range = np.float32(1.0 / range_max)   # float(1.0 / range): a double rounded to float

    def sample(self, rnd: WordStream) -> int:
        return rnd.uniform64(self.range)

    def probability(self, value: int) -> np.float32:
        return self.inv_range


class LogUniformSampler:
    def __init__(self, range_max: int):
        self.range = range_max
        self.log_range = math.log1p(range_max)

    def sample(self, rnd: WordStream) -> int:
        # static_cast<int64>(exp(RandDouble() * log_range)) - 1, mod range; math.exp is the C library's
        return (int(math.exp(rnd.rand_double() * self.log_range)) - 1) % self.range

    def probability(self, value: int) -> np.float32:
        return np.float32(math.log((value + 2.0) / (value + 1.0)) / self.log_range)


class UnigramSampler:
    """TF's (Learned) UnigramSampler: a WeightedPicker over integer weights (each class starts at 1), picked
    with UnbiasedUniform(total weight); a pick is the class whose cumulative weight range holds it."""

    def __init__(self, weights: np.ndarray):
        self.weights = np.asarray(weights, np.int64)
        self.cumulative = np.cumsum(self.weights)
        self.total = int(self.cumulative[-1]) if self.weights.size else 0
        self.range = self.weights.size

    def sample(self, rnd: WordStream) -> int:
        if self.total == 0:
            return -1
        position = exact_uniform_int(self.total, rnd.rand32, 32)
        return int(np.searchsorted(self.cumulative, position, side="right"))

    def probability(self, value: int) -> np.float32:
        return np.float32(np.float32(self.weights[value]) / np.float32(self.total))

    def updated(self, values: np.ndarray) -> np.ndarray:
        """The weights after Update(true classes): +1 per occurrence, at most up to kint32max in total."""
        values = np.asarray(values, np.int64).reshape(-1)
        count = max(0, min(values.size, KINT32MAX - self.total))
        out = self.weights.copy()
        np.add.at(out, values[:count], 1)
        return out


class FixedUnigramSampler:
    """TF's FixedUnigramSampler: DistributionSampler's alias table (built in double as the kernel does) and
    Probability = weight / (float running sum of the weights)."""

    def __init__(self, weights: np.ndarray):
        self.weights = np.asarray(weights, np.float32)
        total = np.float32(0)
        for w in self.weights:
            total = np.float32(total + w)
        self.total = total
        self.range = self.weights.size
        self.prob, self.alt = _alias_table(self.weights.tobytes())

    def sample(self, rnd: WordStream) -> int:
        r = rnd.rand_float()
        idx = rnd.uniform(self.range)
        return idx if r < self.prob[idx] else self.alt[idx]

    def probability(self, value: int) -> np.float32:
        if value < 0 or value >= self.range:
            return np.float32(0)
        return np.float32(self.weights[value] / self.total)


@functools.lru_cache(maxsize=16)
def _alias_table(weight_bytes: bytes) -> Tuple[list, list]:
    """random::DistributionSampler's (prob as float, alt) lists for float32 weights, step for step."""
    weights = np.frombuffer(weight_bytes, np.float32).astype(np.float64).tolist()
    n = len(weights)
    total = 0.0
    for w in weights:
        total += w
    alt = [-1] * n
    pr = [(w * n) / total for w in weights]
    low = [i for i in range(n) if pr[i] < 1.0]
    high = [i for i in range(n) if pr[i] >= 1.0]
    while high and low:
        lo, hi = low.pop(), high.pop()
        alt[lo] = hi
        remaining = pr[hi] - (1.0 - pr[lo])
        pr[hi] = remaining
        (low if remaining < 1.0 else high).append(hi)
    prob = [float(np.float32(p)) for p in pr]
    for idx in high + low:   # rounding leftovers: certain, and their own alternative
        prob[idx] = 1.0
        alt[idx] = idx
    return prob, alt


def sample_batch(sampler, rnd: WordStream, num_sampled: int, unique: bool, true_classes: np.ndarray):
    """RangeSampler::SampleBatchGetExpectedCount: (sampled int64, true expected float32, sampled expected
    float32); unique draws reject values already drawn, counting every draw in num_tries."""
    if unique:
        used, batch, tries = set(), [], 0
        while len(batch) < num_sampled:
            tries += 1
            value = sampler.sample(rnd)
            if value not in used:
                used.add(value)
                batch.append(value)
    else:
        batch = [sampler.sample(rnd) for _ in range(num_sampled)]
        tries = num_sampled
    true_classes = np.asarray(true_classes, np.int64)
    sampled = np.array(batch, np.int64)
    values, where = np.unique(np.concatenate([true_classes.reshape(-1), sampled]), return_inverse=True)
    if isinstance(sampler, LogUniformSampler) and sampler.range <= _LOG_UNIFORM_TABLE_MAX:
        # the word2vec case: a cached table, not a call per value
        p = _log_uniform_probabilities(sampler.range)[values]
    else:
        p = np.array([sampler.probability(int(v)) for v in values.tolist()], np.float32)
    expected = expected_counts(p, num_sampled, tries)[where.reshape(-1)]
    return sampled, expected[:true_classes.size].reshape(true_classes.shape), expected[true_classes.size:]


_LOG_UNIFORM_TABLE_MAX = 1 << 22   # 16 MiB of float32 at most; larger ranges compute their few values


@functools.lru_cache(maxsize=8)
def _log_uniform_probabilities(range_max: int) -> np.ndarray:
    """LogUniformSampler.probability of every class, computed once per range as the sampler does (a double
    log divided in double, rounded to float32)."""
    sampler = LogUniformSampler(range_max)
    table = np.array([math.log((v + 2.0) / (v + 1.0)) for v in range(range_max)], np.float64) / sampler.log_range
    return table.astype(np.float32)


def expected_counts(p: np.ndarray, batch_size: int, num_tries: int) -> np.ndarray:
    """expected_count for an array of probabilities: the float32 products vectorized (IEEE: the same
    roundings as one at a time), glibc's log1pf/expm1f per element."""
    p = np.asarray(p, np.float32)
    if num_tries == batch_size:
        return (p * np.float32(batch_size)).astype(np.float32)
    lib = _libm()
    if lib is None:
        return np.array([expected_count(v, batch_size, num_tries) for v in p.tolist()], np.float32)
    log1p = np.array([lib.log1pf(-v) for v in p.tolist()], np.float32)   # -v: exact in float32
    x = (np.float32(num_tries) * log1p).astype(np.float32)
    return -np.array([lib.expm1f(v) for v in x.tolist()], np.float32)


def candidate_sampler_calls(num_sampled: int) -> int:
    """Philox calls a candidate sampler's run reserves: ReserveSamples32(2048 * num_sampled)."""
    return (2048 * num_sampled + 3) // 4


# --- RandomShuffle --------------------------------------------------------------------------------------

def shuffle_calls(size: int) -> int:
    """Philox calls RandomShuffle reserves per run: ReserveSamples32(size - 1)."""
    return (size - 1 + 3) // 4 if size > 1 else 0


def shuffle_permutation(key: Sequence[int], counter: Sequence[int], size: int) -> np.ndarray:
    """random_shuffle_op.cc's permutation of range(size): for i < size - 1, swap i with i + word_i % (size - i)."""
    if size >= KINT32MAX:
        raise NotImplementedError("tf.random_shuffle of 2**31 - 1 or more rows (TF's 64-bit sample path)")
    perm = list(range(size))
    if size <= 1:
        return np.asarray(perm, np.int64)
    w = np.asarray(philox.words(np, tuple(int(k) for k in key), tuple(int(c) for c in counter),
                                shuffle_calls(size)), np.uint32).reshape(-1)[:size - 1]
    j = (np.arange(size - 1, dtype=np.int64) + w.astype(np.int64) % (size - np.arange(size - 1, dtype=np.int64)))
    for i, k in enumerate(j.tolist()):
        perm[i], perm[k] = perm[k], perm[i]
    return np.asarray(perm, np.int64)


# --- Multinomial ----------------------------------------------------------------------------------------

def multinomial_calls(batch: int, num_samples: int) -> int:
    """Philox calls Multinomial reserves per run: ReserveRandomOutputs(batch * 2 * ceil4(num_samples), 256)."""
    return batch * ((num_samples + 3) // 4 * 4) * 2 * philox.RESERVED_PER_OUTPUT


# TF's CPU device and its intra-op pool are made once per process, by its first Session: that Session's
# ConfigProto.intra_op_parallelism_threads (0: one thread per CPU) sizes the pool every later Session uses.
_FIRST_SESSION_THREADS: Optional[int] = None


def note_session_threads(intra_op_parallelism_threads: int) -> None:
    """Called by every new Session: the first one of the process fixes the pool size, as in TF."""
    global _FIRST_SESSION_THREADS
    if _FIRST_SESSION_THREADS is None:
        _FIRST_SESSION_THREADS = max(0, int(intra_op_parallelism_threads))


def tf_intra_op_threads() -> int:
    """The size of TF's intra-op pool in this process: the first Session's intra_op_parallelism_threads, else
    port::MaxParallelism (the CPUs this process may use)."""
    if _FIRST_SESSION_THREADS:
        return _FIRST_SESSION_THREADS
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _divup(a: int, b: int) -> int:
    return -(-a // b)


def eigen_parallel_for_blocks(n: int, cost_per_unit: int, threads: int) -> int:
    """The block size of Shard() -> Eigen ThreadPoolDevice::parallelFor(n, TensorOpCost(0, 0, cost)): n when
    it runs inline, else CalculateParallelForBlock's choice (the rows a worker's Philox copy skips to)."""
    if n <= 1 or threads <= 1:
        return n
    total = float(n) * cost_per_unit
    if min(threads, max(1, int((total - 100000.0) / 100000.0 + 0.9))) == 1:   # CostModel::numThreads
        return n
    block_size_f = 1.0 / (cost_per_unit / 40000.0)                         # 1 / taskSize(1, cost)
    block_size = min(n, max(_divup(n, 4 * threads), int(block_size_f)))
    max_block_size = min(n, 2 * block_size)
    block_count = _divup(n, block_size)
    max_efficiency = block_count / (_divup(block_count, threads) * threads)
    prev = block_count
    while max_efficiency < 1.0 and prev > 1:
        coarser = _divup(n, prev - 1)
        if coarser > max_block_size:
            break
        coarser_count = _divup(n, coarser)
        prev = coarser_count
        efficiency = coarser_count / (_divup(coarser_count, threads) * threads)
        if efficiency + 0.01 >= max_efficiency:
            block_size, block_count = coarser, coarser_count
            max_efficiency = max(max_efficiency, efficiency)
    return block_size


def multinomial_row_offsets(batch: int, num_classes: int, num_samples: int,
                            threads: Optional[int] = None) -> np.ndarray:
    """The first word of each row's samples: a shard of rows [start, limit) skips (start * (num_samples + 3))
    / 4 calls and its rows then read 2 * num_samples words each, one after the other."""
    threads = tf_intra_op_threads() if threads is None else threads
    cost = int(50 * (num_samples * math.log(num_classes) / math.log(2) + num_classes))
    block = eigen_parallel_for_blocks(batch, cost, threads) if batch else 1
    rows = np.arange(batch, dtype=np.int64)
    start = rows // block * block
    return 4 * (start * (num_samples + 3) // 4) + (rows - start) * 2 * num_samples


def multinomial(key: Sequence[int], counter: Sequence[int], logits: np.ndarray, num_samples: int,
                out_dtype, threads: Optional[int] = None) -> np.ndarray:
    """multinomial_op.cc's CPU functor: per row an unnormalized cdf in double over the finite logits
    (exp(logit - max finite logit)), and each sample the upper bound of RandDouble() * total in it."""
    logits = np.asarray(logits)
    batch, num_classes = logits.shape
    out = np.zeros((batch, num_samples), out_dtype)
    if not out.size:
        return out
    lg = logits.astype(np.float64)
    finite = np.isfinite(lg)
    top = np.where(finite, lg, -np.inf).max(axis=1)
    lowest = float(ml_dtypes.finfo(logits.dtype).min)
    top = np.where(np.isfinite(top), top, lowest)   # no finite logit: numeric_limits<T>::lowest()
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(lg - top[:, None])
    cdf = np.cumsum(np.where(finite, e, 0.0), axis=1)   # sequential double sums, the kernel's order
    offsets = multinomial_row_offsets(batch, num_classes, num_samples, threads)
    word_pos = offsets[:, None] + 2 * np.arange(num_samples, dtype=np.int64)[None, :]
    hi, lo = words_at(key, counter, word_pos), words_at(key, counter, word_pos + 1)
    u = (((hi & 0xFFFFF) << np.uint64(32)) | lo).astype(np.float64) * (1.0 / (1 << 52))
    to_find = u * cdf[:, -1:]
    for b in range(batch):
        out[b] = np.searchsorted(cdf[b], to_find[b], side="right")
    return out


def words_at(key: Sequence[int], counter: Sequence[int], positions: np.ndarray) -> np.ndarray:
    """The words at stream positions `positions` (word i: call counter + i // 4, its word i % 4), uint64."""
    positions = np.asarray(positions, np.int64)
    calls = (positions // 4).astype(np.uint64)
    w = philox.philox(np, tuple(int(k) for k in key), philox._counters(np, tuple(int(c) for c in counter), calls))
    stacked = np.stack([np.asarray(x, np.uint64) for x in w], axis=-1)
    return np.take_along_axis(stacked, (positions % 4)[..., None], axis=-1)[..., 0]


# --- running a host draw from a compiled plan ------------------------------------------------------------

def host_draw(fn: Callable, out_specs: Sequence[Tuple[tuple, np.dtype]], key, counter, *arrays):
    """`fn(key ints, counter ints, *numpy arrays)` -> arrays shaped/typed as `out_specs`.

    Op by op (python-int key and counter, concrete arrays) it runs directly. In a compiled plan it runs as
    one host callback; its results come back as bytes (the callback's thread may run without JAX's 64-bit
    mode, where int64/float64 results would be narrowed). Callers check
    `philox._host_roundings_in_compiled_plans()` first: no callbacks on GPU/TPU or sharded steps."""
    import jax
    concrete = all(isinstance(w, (int, np.integer)) for w in tuple(key) + tuple(counter)) and \
        not any(isinstance(a, jax.core.Tracer) for a in arrays)
    if concrete:
        return fn(tuple(int(k) for k in key), tuple(int(c) for c in counter), *(np.asarray(a) for a in arrays))
    import jax.numpy as jnp
    specs = [(tuple(int(d) for d in shape), np.dtype(dtype)) for shape, dtype in out_specs]
    sizes = [int(np.prod(shape, dtype=np.int64)) * dtype.itemsize for shape, dtype in specs]
    words = jnp.stack([jnp.asarray(w, jnp.uint32) if isinstance(w, (int, np.integer)) else
                       jnp.asarray(w).astype(jnp.uint32) for w in tuple(key) + tuple(counter)])

    # arguments travel as bytes too: a callback's thread without 64-bit mode would narrow int64/float64
    arg_specs = [(tuple(jnp.shape(a)), np.dtype(jnp.result_type(a))) for a in arrays]
    raw_args = [_to_bytes(jnp.asarray(a)) for a in arrays]

    def host(words, *host_arrays):
        w = [int(x) for x in np.asarray(words)]
        args = [_from_bytes(np.asarray(a), shape, dtype) for a, (shape, dtype) in zip(host_arrays, arg_specs)]
        outs = fn(tuple(w[:2]), tuple(w[2:]), *args)
        parts = [np.ascontiguousarray(np.asarray(o, dtype).reshape(shape)).view(np.uint8).reshape(-1)
                 for o, (shape, dtype) in zip(outs, specs)]
        return np.concatenate(parts) if parts else np.zeros((0,), np.uint8)

    raw = jax.pure_callback(host, jax.ShapeDtypeStruct((sum(sizes),), np.uint8), words, *raw_args,
                            vmap_method="sequential")
    out, offset = [], 0
    for (shape, dtype), size in zip(specs, sizes):
        chunk = raw[offset:offset + size]
        offset += size
        if dtype.itemsize == 1:
            value = jax.lax.bitcast_convert_type(chunk, dtype)
        else:
            value = jax.lax.bitcast_convert_type(chunk.reshape(-1, dtype.itemsize), dtype)
        out.append(value.reshape(shape))
    return tuple(out)


def _to_bytes(x):
    """An array's bytes as uint8 (shape + (itemsize,) for wider types), for `_from_bytes` on the host."""
    import jax
    import jax.numpy as jnp
    if x.dtype == jnp.bool_:
        return x.astype(jnp.uint8)
    return jax.lax.bitcast_convert_type(x, jnp.uint8)


def _from_bytes(b: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
    b = np.ascontiguousarray(b, np.uint8)
    if dtype == np.bool_:
        return b.astype(bool).reshape(shape)
    return b.view(dtype).reshape(shape)


def jax_key_from_philox(key, counter):
    """A JAX key from a Philox key and counter, for the draws that may not call back to the host: TF's
    distributions from a stream that is a function of TF's, as lowering/rules/stateless_random.py does."""
    import jax
    import jax.numpy as jnp
    k = [jnp.asarray(w).astype(jnp.uint32) for w in key]
    c = [jnp.asarray(w).astype(jnp.uint32) for w in counter]
    base = jax.random.wrap_key_data(jnp.stack([k[0] ^ c[2], k[1] ^ c[3]]), impl="threefry2x32")
    return jax.random.fold_in(jax.random.fold_in(base, c[0]), c[1])


# --- RandomGamma, RandomPoisson: per-output streams with rejection -----------------------------------------

@functools.lru_cache(maxsize=None)
def _libm_double(name: str):
    """A double -> double function of the C library (std::lgamma: CPython's math.lgamma is its own)."""
    lib = _libm()
    if lib is None:
        return None
    fn = getattr(lib, name)
    fn.restype = ctypes.c_double
    fn.argtypes = [ctypes.c_double]
    return fn


def _lgamma(x: float) -> float:
    fn = _libm_double("lgamma")
    if fn is not None:
        return fn(x)
    try:
        return math.lgamma(x)
    except (ValueError, OverflowError):
        return math.inf


def _log(x: float) -> float:
    """std::log for any double (math.log raises outside its domain)."""
    if x > 0.0:
        return math.log(x)
    return -math.inf if x == 0.0 else math.nan


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else math.nan


class _OutputCalls:
    """The Philox calls of each output of a kernel that skips kReservedSamplesPerOutput (256) calls per
    output (random_gamma_op.cc, random_poisson_op.cc): the first `first` calls of every output computed
    at once, later ones (rare rejections) one at a time."""

    def __init__(self, key, counter, outputs: int, first: int):
        self.key, self.counter, self.first = tuple(key), tuple(counter), first
        w = philox.words(np, self.key, self.counter, outputs, philox.RESERVED_PER_OUTPUT, first)
        self.words = np.asarray(w, np.uint64).reshape(outputs, first, 4)
        self._uniform = philox._uniform_from_words(np, self.words, np.dtype(np.float64)).tolist()
        self._normal = None

    def _words(self, output: int, call: int) -> np.ndarray:
        if call < self.first:
            return self.words[output, call]
        offset = np.uint64(output * philox.RESERVED_PER_OUTPUT + call)
        w = philox.philox(np, self.key, philox._counters(np, self.counter, np.array([offset], np.uint64)))
        return np.array([int(x[0]) for x in w], np.uint64)

    def uniform(self, output: int, call: int) -> list:
        """UniformDistribution<double> of the call: two doubles."""
        if call < self.first:
            return self._uniform[output][call]
        return philox._uniform_from_words(np, self._words(output, call), np.dtype(np.float64)).tolist()

    def normal(self, output: int, call: int) -> list:
        """NormalDistribution<double> of the call: two doubles (BoxMullerDouble with glibc's log/sin/cos)."""
        if call < self.first:
            if self._normal is None:
                d0, d1 = philox._box_muller_double_host(self.words)
                self._normal = np.stack([d0, d1], axis=-1).tolist()
            return self._normal[output][call]
        d0, d1 = philox._box_muller_double_host(self._words(output, call)[None])
        return [float(d0[0]), float(d1[0])]


def gamma_calls(num_samples: int, num_alphas: int) -> int:
    return num_samples * num_alphas * philox.RESERVED_PER_OUTPUT


def gamma(key, counter, alphas: np.ndarray, num_samples: int, dtype) -> np.ndarray:
    """random_gamma_op.cc on the CPU: output (alpha i, sample j) is number i * num_samples + j, with its own
    stream 256 calls apart; in double: an exponential (-log1p(-u)) for alpha == 1, else Marsaglia-Tsang with
    d = alpha - 1/3 (alpha + 2/3 and a factor u^(1/alpha) below 1), taking a call's two normals and two
    uniforms last first. Returns [num_samples, num_alphas]."""
    alphas = np.asarray(alphas).astype(np.float64).reshape(-1).tolist()
    count = len(alphas) * num_samples
    out = np.empty((num_samples, len(alphas)), np.float64)
    if not count:
        return out.astype(dtype)
    calls = _OutputCalls(key, counter, count, 2)
    for output in range(count):
        alpha_idx, sample_idx = divmod(output, num_samples)
        alpha = alphas[alpha_idx]
        call = 0
        if alpha == 1.0:
            u = calls.uniform(output, 0)[1]
            out[sample_idx, alpha_idx] = -math.log1p(-u)
            continue
        less = alpha < 1.0
        d = alpha + (2.0 / 3 if less else -1.0 / 3)
        c = 1.0 / 3 / _sqrt(d)
        normals, uniforms = [], []
        while True:
            if not normals:
                normals = calls.normal(output, call)
                call += 1
            x = normals.pop()
            v = 1 + c * x
            if v <= 0:
                continue
            v = v * v * v
            if not uniforms:
                uniforms = calls.uniform(output, call)
                call += 1
            u = uniforms.pop()
            if u < 1 - 0.0331 * (x * x) * (x * x) or _log(u) < 0.5 * x * x + d * (1 - v + _log(v)):
                res = d * v
                if less:
                    if not uniforms:
                        uniforms = calls.uniform(output, call)
                        call += 1
                    res *= math.pow(uniforms.pop(), 1 / alpha)
                out[sample_idx, alpha_idx] = res
                break
    return _to(out, dtype)


def poisson(key, counter, rates: np.ndarray, num_samples: int, dtype) -> np.ndarray:
    """random_poisson_op.cc on the CPU, in double: Knuth's product of uniforms below exp(-rate) for rate < 10,
    Hormann's transformed rejection above; each output's stream 256 calls apart, a call's two uniforms taken
    last first. Returns [num_samples, num_rates]."""
    rates = np.asarray(rates).astype(np.float64).reshape(-1).tolist()
    count = len(rates) * num_samples
    out = np.empty((num_samples, len(rates)), np.float64)
    if not count:
        return out.astype(dtype)
    calls = _OutputCalls(key, counter, count, 4)
    for output in range(count):
        rate_idx, sample_idx = divmod(output, num_samples)
        rate = rates[rate_idx]
        state = {"call": 0, "uniforms": []}

        def uniform() -> float:
            if not state["uniforms"]:
                state["uniforms"] = calls.uniform(output, state["call"])
                state["call"] += 1
            return state["uniforms"].pop()
        if rate < 10:
            exp_neg_rate = math.exp(-rate)
            prod, x = 1.0, 0.0
            while True:
                prod = prod * uniform()
                if prod <= exp_neg_rate:
                    out[sample_idx, rate_idx] = x
                    break
                x += 1
            continue
        out[sample_idx, rate_idx] = _hormann(rate, uniform)
    return _to(out, dtype)


def _to(x: np.ndarray, dtype) -> np.ndarray:
    """static_cast<T>(double): Eigen's half converts through float (two roundings); an integer output of
    an infinite or NaN sample is numeric_limits<int>::infinity() / quiet_NaN(), both 0."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return np.where(np.isfinite(x), x, 0.0).astype(dtype)
    if dtype == np.float16 or dtype == ml_dtypes.bfloat16:
        return x.astype(np.float32).astype(dtype)
    return x.astype(dtype)


def _hormann(rate: float, uniform: Callable[[], float]) -> float:
    if math.isnan(rate) or math.isinf(rate):
        return rate
    log_rate = math.log(rate)
    b = 0.931 + 2.53 * math.sqrt(rate)
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    while True:
        u = uniform() - 0.5
        v = uniform()
        u_shifted = 0.5 - abs(u)
        k = math.floor((2 * a / u_shifted + b) * u + rate + 0.43)
        if u_shifted >= 0.07 and v <= 0.9277 - 3.6224 / (b - 2):
            return float(k)
        if k < 0 or (u_shifted < 0.013 and v > u_shifted):
            continue
        s = _log(v * inv_alpha / (a / (u_shifted * u_shifted) + b))
        t = -rate + k * log_rate - _lgamma(k + 1)
        if s <= t:
            return float(k)


# --- ParameterizedTruncatedNormal ------------------------------------------------------------------------

PTN_MAX_ITERATIONS = 1000            # kMaxIterations of parameterized_truncated_normal_op.cc
_PTN_DESIRED_BATCH = 100             # kDesiredBatchSize: equal parameters are redrawn in batches of 100


class CallStream:
    """A PhiloxRandom used one call at a time by UniformDistribution / NormalDistribution<T> (4 floats or 2
    doubles a call), computed in blocks of calls."""

    _BLOCK = 64

    def __init__(self, key, counter, dtype):
        self.key, self.counter, self.dtype = tuple(key), tuple(counter), np.dtype(dtype)
        self.k = 2 if self.dtype == np.float64 else 4
        self.base, self.index, self.blocks = 0, 0, {}

    def _next(self, kind: str) -> list:
        block, row = divmod(self.index, self._BLOCK)
        if (kind, block) not in self.blocks:
            start = philox._advance(self.counter, block * self._BLOCK)
            fn = philox.uniform if kind == "uniform" else philox.normal
            values = fn(np, self.key, start, self._BLOCK * self.k, self.dtype).reshape(self._BLOCK, self.k)
            self.blocks[(kind, block)] = values
        self.index += 1
        return [self.dtype.type(v) for v in self.blocks[(kind, block)][row]]

    def uniform(self) -> list:
        return self._next("uniform")

    def normal(self) -> list:
        return self._next("normal")


def _exp_log(dtype: np.dtype):
    """The kernel's Eigen::numext::exp/log for T: glibc's expf/logf for float (and for half, through float:
    Eigen's half functions), exp/log for double."""
    if dtype == np.float16:
        exp32, log32 = _exp_log(np.dtype(np.float32))

        def to_half(x: np.float32) -> np.float16:
            with np.errstate(over="ignore"):   # beyond half's range: inf, as Eigen's conversion
                return np.float16(x)
        return (lambda x: to_half(exp32(np.float32(x)))), (lambda x: to_half(log32(np.float32(x))))
    if dtype == np.float64:
        return (lambda x: np.float64(math.exp(x)) if x < 709.78 else np.float64(math.inf)), \
            (lambda x: np.float64(_log(float(x))))
    lib = _libm()
    if lib is None:
        return (lambda x: np.exp(np.float32(x))), (lambda x: np.log(np.float32(x)))
    return (lambda x: np.float32(lib.expf(float(x)))), (lambda x: np.float32(lib.logf(float(x))) if x >= 0
                                                         else np.float32(math.nan))


def _eigen_costs(dtype: np.dtype) -> Tuple[int, int]:
    """(batch init cost, uniform rejection round cost) of the kernel's Shard call: Eigen's cost model for T
    (add/mul 1, sqrt 8 / 28, exp 34 / 51 without FMA) and Philox's (10 a call, 3 / 4 a uniform)."""
    if dtype == np.float16:   # NumTraits<half>: add/mul 3; sqrt and exp as for a non-float Scalar
        add, sqrt_cost, exp_cost, uniform_cost = 3, 28, 23 * 3 + 12 * 3 + 16, 3
    elif dtype == np.float64:
        add, sqrt_cost, exp_cost, uniform_cost = 1, 28, 51, 4
    else:
        add, sqrt_cost, exp_cost, uniform_cost = 1, 8, 34, 3
    init = (add + add) * 2 + add + add + sqrt_cost + add * 4 + exp_cost + add
    sample = 10 + uniform_cost
    return init, sample + add + add + add * 2 + add + sample + exp_cost + add + add


def ptn_layout(shape: Sequence[int], param_sizes: Sequence[Optional[int]]) -> Tuple[int, int, int]:
    """(num_batches, samples_per_batch, num_elements) as the kernel computes them: equal parameters for
    every batch (all scalars or length 1, minvals/maxvals scalars) regroup the output in batches of 100."""
    num_batches = int(shape[0]) if len(shape) else 1
    samples_per_batch = int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1
    num_elements = num_batches * samples_per_batch
    means, stddevs, minvals, maxvals = param_sizes   # None: a scalar, else a vector's length
    if means in (None, 1) and stddevs in (None, 1) and minvals is None and maxvals is None:
        return _divup(num_elements, _PTN_DESIRED_BATCH), _PTN_DESIRED_BATCH, num_elements
    return num_batches, samples_per_batch, num_elements


def ptn_calls(num_batches: int, samples_per_batch: int) -> int:
    """ReserveSamples128(num_batches * 2 * kMaxIterations * (samples_per_batch + 3) / 4)."""
    return num_batches * 2 * PTN_MAX_ITERATIONS * (samples_per_batch + 3) // 4


def ptn_dtype(dtype) -> np.dtype:
    """T of a ParameterizedTruncatedNormal kernel: TF's CPU kernels take half, float and double."""
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)):
        raise NotImplementedError(f"tf.raw_ops.ParameterizedTruncatedNormal with dtype {dtype}")
    return dtype


def _ptn_valid(stddev, minval, maxval) -> bool:
    return bool(stddev > 0 and minval < maxval and (np.isfinite(minval) or np.isfinite(maxval)))


def _ptn_values(stream: CallStream, mean, stddev, minval, maxval, exp, log):
    """The samples of one batch, in T, as the kernel accepts them: a consumer that stops after the values it
    needs leaves the rest of the current call's group unused, as the kernel's `break` does."""
    T = stream.dtype.type
    inside = T(1.3)
    if (np.isinf(minval) and minval < 0) or maxval < mean:
        minval, maxval, stddev = maxval, minval, -stddev
    norm_min = T((minval - mean) / stddev)
    norm_max = T((maxval - mean) / stddev)
    sqrt_factor = np.sqrt(T(norm_min * norm_min + T(4)))
    cutoff = T(T(2) * exp(T(0.5) + T(norm_min * T(norm_min - sqrt_factor)) / T(4))) / T(norm_min + sqrt_factor)
    diff = T(norm_max - norm_min)
    if (norm_min < -inside and norm_max >= 0) or (norm_max > inside and norm_min <= 0):
        while True:
            for r in stream.normal():
                if norm_min <= r <= norm_max:
                    yield T(r * stddev) + mean
    elif diff < cutoff:
        plus = T(0) if norm_min < 0 else T(norm_min * norm_min)
        iterations = 0
        while True:
            z = [T(T(r * diff) + norm_min) for r in stream.uniform()]
            g = [T(T(plus - T(zi * zi)) / T(2)) for zi in z]
            for zi, gi, ui in zip(z, g, stream.uniform()):
                # the kernel accepts the 1000th candidate in a row anyway (and then fails the run)
                if ui <= exp(gi) or iterations + 1 >= PTN_MAX_ITERATIONS:
                    iterations = 0
                    yield T(zi * stddev) + mean
                else:
                    iterations += 1
    else:
        alpha = T(T(norm_min + np.sqrt(T(norm_min * norm_min + T(4)))) / T(2))
        while True:
            rand = stream.uniform()
            for i in range(0, len(rand), 2):
                z = T(T(-log(rand[i])) / alpha) + norm_min
                x = T(alpha - z) if norm_min < alpha else T(norm_min - alpha)
                if rand[i + 1] <= exp(T(T(-x * x) / T(2))) and z < norm_max:
                    yield T(z * stddev) + mean


def parameterized_truncated_normal(key, counter, shape: Sequence[int], means, stddevs, minvals, maxvals, dtype,
                                   threads: Optional[int] = None) -> np.ndarray:
    """parameterized_truncated_normal_op.cc's CPU functor in T: per batch, a normal rejection sampler when
    the mean lies 1.3 standard deviations inside a bound, a uniform one for narrow intervals, else an
    exponential one; batches of a shard of TF's thread pool continue one generator from the shard's skip.
    A batch with invalid parameters (the rule raises TF's error) is left NaN."""
    dtype = ptn_dtype(dtype)
    params = [np.asarray(p, dtype) for p in (means, stddevs, minvals, maxvals)]
    sizes = [None if p.ndim == 0 else p.shape[0] for p in params]
    flat = [p.reshape(-1) for p in params]
    num_batches, per_batch, num_elements = ptn_layout(shape, sizes)
    out = np.full(num_elements, np.nan, dtype)
    if not num_elements:
        return out.reshape(tuple(shape))
    init_cost, round_cost = _eigen_costs(dtype)
    threads = tf_intra_op_threads() if threads is None else threads
    block = eigen_parallel_for_blocks(num_batches, init_cost + round_cost * 2 * per_batch, threads)
    exp, log = _exp_log(dtype)
    stream = None
    for b in range(num_batches):
        if b % block == 0:   # a shard's first batch: its copy of the generator skips to its start
            stream = CallStream(key, philox._advance(tuple(counter), b * 2 * PTN_MAX_ITERATIONS * (per_batch + 3)
                                                     // 4), dtype)
        mean, stddev, minval, maxval = (f[0 if f.size == 1 else b] for f in flat)
        start, limit = b * per_batch, min((b + 1) * per_batch, num_elements)
        if not _ptn_valid(stddev, minval, maxval):
            continue
        values = _ptn_values(stream, mean, stddev, minval, maxval, exp, log)
        for i in range(start, limit):
            out[i] = next(values)
    return out.reshape(tuple(shape))


def stateless_parameterized_truncated_normal(key, counter, shape: Sequence[int], means, stddevs, minvals,
                                             maxvals, dtype, threads: Optional[int] = None) -> np.ndarray:
    """TruncatedNormalFunctorV2 (StatelessParameterizedTruncatedNormal): the parameters broadcast to the
    batch shape (the output shape's tail), output [samples_per_batch, batches]; shards of TF's pool split
    the outputs, each skipping (start * 2 * kMaxIterations + k - 1) / k calls (k values a call) and
    continuing its generator over the batches it covers."""
    dtype = ptn_dtype(dtype)
    params = [np.asarray(p, dtype) for p in (means, stddevs, minvals, maxvals)]
    batch_shape = np.broadcast_shapes(*(p.shape for p in params))
    flat = [np.broadcast_to(p, batch_shape).reshape(-1) for p in params]
    num_batches = int(np.prod(batch_shape, dtype=np.int64))
    num_elements = int(np.prod(shape, dtype=np.int64))
    out = np.full(num_elements, np.nan, dtype)
    if not num_elements:
        return out.reshape(tuple(shape))
    per_batch = num_elements // num_batches
    init_cost, round_cost = _eigen_costs(dtype)
    threads = tf_intra_op_threads() if threads is None else threads
    block = eigen_parallel_for_blocks(num_elements, init_cost + round_cost * 2, threads)
    k = 2 if dtype == np.float64 else 4
    exp, log = _exp_log(dtype)
    for start in range(0, num_elements, block):
        limit = min(start + block, num_elements)
        stream = CallStream(key, philox._advance(tuple(counter), (start * 2 * PTN_MAX_ITERATIONS + k - 1) // k),
                            dtype)
        output = start
        while output < limit:
            b, sample = divmod(output, per_batch)
            mean, stddev, minval, maxval = (f[b] for f in flat)
            count = min(per_batch - sample, limit - output)
            if _ptn_valid(stddev, minval, maxval):
                values = _ptn_values(stream, mean, stddev, minval, maxval, exp, log)
                for j in range(sample, sample + count):
                    out[j * num_batches + b] = next(values)
            output += count
    return out.reshape(tuple(shape))
