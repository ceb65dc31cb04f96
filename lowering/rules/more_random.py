"""Lowerings of graphcompat/ops/more_random_ops.py, TF's numbers bit for bit.

- RandomPoisson (TF 1.x) is RandomPoissonV2's kernel with the rate in the output's dtype.
- StatelessRandomGetKeyCounterAlg is StatelessRandomGetKeyCounter plus the algorithm TF's CPU kernels pick
  (Philox, 1), which is also what StatelessRandomGetAlg returns there.
- StatelessShuffle is RandomShuffle's Fisher-Yates on a Philox generator made of the given key and counter.
- The stateful-RNG ops (tf.random.Generator) keep Philox's state in a resource variable, int64 [counter low,
  counter high, key, ...]. A draw of n values fills exactly as the stateless V2 ops do from that key and
  counter, then moves the counter on by n * 256 calls (TF's UpdateMemWithPhiloxRandom); RngSkip moves it by
  delta * 256 and RngReadAndSkip returns the state before doing so. The move is PhiloxRandom::Skip's 32-bit
  word arithmetic, which loses the carry of a count whose high word overflows, as TF's does.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering import philox, philox_sampling
from lowering.registry import RULES, lowers
from lowering.rules.checks import shape_vector

_PHILOX, _THREEFRY, _AUTO_SELECT = 1, 2, 3  # TF's Algorithm enum
_STEP = 256  # calls a stateful draw reserves per output (TF's multiplier in UpdateMemWithPhiloxRandom)
_M32 = 0xFFFFFFFF


def _rule(op_type: str):
    return RULES[op_type].fn


@lowers("RandomPoisson", context=True)
def random_poisson_v1(ctx, op, shape, rate):
    return _rule("RandomPoissonV2")(ctx, op, shape, rate)


@lowers("StatelessRandomGetKeyCounterAlg")
def get_key_counter_alg(seed, **attrs):
    key, counter = _rule("StatelessRandomGetKeyCounter")(seed, **attrs)
    return key, counter, np.int32(_PHILOX)


@lowers("StatelessRandomGetAlg")
def get_alg(**_):
    """The algorithm TF's CPU kernels choose (Philox; XLA devices would say ThreeFry)."""
    return np.int32(_PHILOX)


def _check_alg(alg) -> None:
    """GetAlg's checks for a concrete algorithm id."""
    alg = int(np.asarray(alg))
    if alg == _THREEFRY:
        raise errors.UnimplementedError(None, None, "Non-XLA devices don't support the ThreeFry algorithm.")
    if alg not in (_PHILOX, _AUTO_SELECT):
        raise errors.InvalidArgumentError(None, None, f"Unsupported algorithm id: {alg}")


@lowers("StatelessShuffle")
def stateless_shuffle(value, key, counter, alg, **_):
    """StatelessShuffleOp: RandomShuffle's permutation of the first axis, drawn from Philox(key, counter)."""
    if np.shape(key) != (1,):
        raise errors.InvalidArgumentError(None, None, f"key must have shape [1], not "
                                          f"[{','.join(str(d) for d in np.shape(key))}]. (Note that batched keys "
                                          "are not supported yet.)")
    _check_alg(alg)
    if np.size(counter) < 2:
        raise errors.InvalidArgumentError(None, None, "For the Philox algorithm, the size of state must be at "
                                          f"least 2; got {np.size(counter)}")
    size = int(np.shape(value)[0]) if np.ndim(value) else 0
    if np.ndim(value) == 0 or size <= 1 or int(np.prod(np.shape(value))) <= 1:
        return value  # the kernel forwards its input and draws nothing
    if isinstance(key, jax.core.Tracer) or isinstance(counter, jax.core.Tracer):
        raise NotImplementedError("tf.raw_ops.StatelessShuffle with a key or counter computed from fed values "
                                  "in a compiled plan")
    k = int(np.asarray(key, np.uint64)[0])
    c = [int(v) for v in np.asarray(counter, np.uint64).reshape(-1)[:2]]
    perm = philox_sampling.shuffle_permutation((k & _M32, k >> 32), (c[0] & _M32, c[0] >> 32, c[1] & _M32,
                                                                     c[1] >> 32), size)
    if isinstance(value, jax.core.Tracer):
        return jnp.take(value, perm, axis=0)
    return np.asarray(value)[perm]


# ------------------------------------------------------------------------------------------------
# Stateful RNG: a resource variable's Philox state
# ------------------------------------------------------------------------------------------------
def _state(ctx, op, handle, alg):
    """The RNG state variable's value after TF's checks (UpdateVariableAndFill / RngSkip's)."""
    from lowering.rules.resource import _handle
    handle = _handle(handle, op)
    if not ctx.has(handle.key):
        raise errors.NotFoundError(None, op, f"Resource localhost/{handle.name}/N10tensorflow3VarE does not exist.")
    state = ctx.read(handle.key, op)
    if np.dtype(state.dtype) != np.int64:
        raise errors.InvalidArgumentError(None, op, f"dtype of RNG state variable must be int64, not "
                                          f"{_dtype_name(state.dtype)}")
    if jnp.ndim(state) != 1:
        raise errors.InvalidArgumentError(None, op, "RNG state must have one and only one dimension, not "
                                          f"{jnp.ndim(state)}")
    if isinstance(alg, jax.core.Tracer):
        raise NotImplementedError(f"tf.raw_ops.{op.type} with an algorithm computed from fed values in a "
                                  "compiled plan")
    _check_alg(alg)
    if jnp.shape(state)[0] < 3:
        raise errors.InvalidArgumentError(None, op, "For the Philox algorithm, the size of state must be at least "
                                          f"3; got {jnp.shape(state)[0]}")
    return handle, state


def _dtype_name(dtype) -> str:
    from graphcompat.framework import dtypes as _dt
    return _dt.as_dtype(np.dtype(dtype)).name


def _words(xp, state):
    """(key words, counter words) of the state [counter low, counter high, key]: uint64 32-bit words."""
    s = xp.asarray(state[:3]).astype(xp.uint64)
    mask, s32 = xp.uint64(_M32), xp.uint64(32)
    return (s[2] & mask, s[2] >> s32), (s[0] & mask, s[0] >> s32, s[1] & mask, s[1] >> s32)


def _skip(xp, counter, count: int):
    """PhiloxRandom::Skip(count) on the counter words: 32-bit adds whose carries are TF's (a carry out of
    the count's high word is lost, as TF's uint32 arithmetic loses it)."""
    c0, c1, c2, c3 = counter
    mask = xp.uint64(_M32)
    count &= 0xFFFFFFFFFFFFFFFF
    count_lo, count_hi = xp.uint64(count & _M32), xp.uint64(count >> 32)
    c0 = (c0 + count_lo) & mask
    count_hi = (count_hi + xp.where(c0 < count_lo, xp.uint64(1), xp.uint64(0))) & mask
    c1 = (c1 + count_hi) & mask
    carry = c1 < count_hi
    c2_next = (c2 + xp.uint64(1)) & mask
    c3 = xp.where(carry & (c2_next == 0), (c3 + xp.uint64(1)) & mask, c3)
    c2 = xp.where(carry, c2_next, c2)
    return c0, c1, c2, c3


def _write_counter(ctx, handle, xp, state, counter) -> None:
    s32 = xp.uint64(32)
    low = (counter[0] | (counter[1] << s32)).astype(xp.int64)
    high = (counter[2] | (counter[3] << s32)).astype(xp.int64)
    new = xp.concatenate([xp.stack([low, high]), xp.asarray(state[2:])])
    ctx.write(handle.key, new)


def _xp(ctx):
    return jnp if ctx.traced else np


def _stateful_draw(ctx, op, handle, alg, shape, draw, *args):
    handle, state = _state(ctx, op, handle, alg)
    if isinstance(shape, jax.core.Tracer):
        raise NotImplementedError(f"graphcompat needs a static shape for {op.type} '{op.name}'")
    out_shape = shape_vector(shape)
    xp = _xp(ctx)
    state = state if ctx.traced else np.asarray(state)
    key, counter = _words(xp, state)
    n = int(np.prod(out_shape, dtype=np.int64))
    out = draw(xp, key, counter, n, *args).reshape(out_shape)
    _write_counter(ctx, handle, xp, state, _skip(xp, counter, n * _STEP))
    return out


def _dtype(op) -> np.dtype:
    return np.dtype(op.attrs["dtype"].as_numpy_dtype)


@lowers("StatefulUniform", context=True)
def stateful_uniform(ctx, op, handle, alg, shape):
    return _stateful_draw(ctx, op, handle, alg, shape, philox.uniform, _dtype(op))


@lowers("StatefulStandardNormalV2", context=True)
def stateful_standard_normal(ctx, op, handle, alg, shape):
    return _stateful_draw(ctx, op, handle, alg, shape, philox.normal, _dtype(op))


@lowers("StatefulTruncatedNormal", context=True)
def stateful_truncated_normal(ctx, op, handle, alg, shape):
    return _stateful_draw(ctx, op, handle, alg, shape, philox.truncated_normal, _dtype(op))


@lowers("StatefulUniformFullInt", context=True)
def stateful_uniform_full_int(ctx, op, handle, alg, shape):
    return _stateful_draw(ctx, op, handle, alg, shape, philox.uniform_full_int, _dtype(op))


@lowers("StatefulUniformInt", context=True)
def stateful_uniform_int(ctx, op, handle, alg, shape, minval, maxval):
    """StatefulUniformIntOp: scalar bounds with minval < maxval (checked when there is something to draw)."""
    from lowering.interpreter import require
    for name, v in (("minval", minval), ("maxval", maxval)):
        if np.ndim(v) != 0:
            raise errors.InvalidArgumentError(None, op, f"{name} must be 0-D, got shape "
                                              f"[{','.join(str(d) for d in np.shape(v))}]")
    if int(np.prod(shape_vector(shape), dtype=np.int64)) if not isinstance(shape, jax.core.Tracer) else True:
        require(jnp.asarray(minval) < jnp.asarray(maxval), errors.InvalidArgumentError,
                lambda: f"Need minval < maxval, got {np.asarray(minval)} >= {np.asarray(maxval)}")
    if not isinstance(minval, jax.core.Tracer) and not isinstance(maxval, jax.core.Tracer):
        minval, maxval = np.asarray(minval), np.asarray(maxval)
    return _stateful_draw(ctx, op, handle, alg, shape, philox.uniform_int, minval, maxval, _dtype(op))


@lowers("RngSkip", context=True)
def rng_skip(ctx, op, handle, alg, delta):
    _rng_skip(ctx, op, handle, alg, delta)
    return None


@lowers("RngReadAndSkip", context=True)
def rng_read_and_skip(ctx, op, handle, alg, delta):
    """The state before the skip, its first three elements (TF's counter and key)."""
    return _rng_skip(ctx, op, handle, alg, delta)


def _rng_skip(ctx, op, handle, alg, delta):
    handle, state = _state(ctx, op, handle, alg)
    if isinstance(delta, jax.core.Tracer):
        raise NotImplementedError(f"tf.raw_ops.{op.type} with a delta computed from fed values in a compiled plan")
    xp = _xp(ctx)
    state = state if ctx.traced else np.asarray(state)
    _, counter = _words(xp, state)
    count = (int(np.asarray(delta).astype(np.uint64)) * _STEP) & 0xFFFFFFFFFFFFFFFF  # uint64 arithmetic, as TF's
    _write_counter(ctx, handle, xp, state, _skip(xp, counter, count))
    return state[:3]


# ------------------------------------------------------------------------------------------------
# Binomial samples (random_binomial_op.cc): per output a copy of the generator skipped to its own position
# ------------------------------------------------------------------------------------------------
class _Doubles:
    """A PhiloxRandom copy's UniformDistribution<double> as the kernels' UNIFORM macro reads it: each call
    gives two doubles, taken last first."""

    def __init__(self, key, counter, skip: int):
        self.key, self.counter = key, philox._advance(counter, skip)
        self.pending: list = []
        self.buffer: list = []

    def __call__(self) -> float:
        if not self.pending:
            if not self.buffer:
                w = philox.words(np, self.key, self.counter, 16).astype(np.uint64)
                self.counter = philox._advance(self.counter, 16)
                self.buffer = philox._uniform_from_words(np, w, np.dtype(np.float64)).reshape(-1).tolist()
            self.pending = self.buffer[:2]
            self.buffer = self.buffer[2:]
        return self.pending.pop()


_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                  0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                  0.00925546218271273, 0.00833056343336287)


def _stirling_approx_tail(k: float) -> float:
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _binomial_inversion(count: float, prob: float, uniform) -> float:
    """Sums of geometric variables until they pass count: their number (mean at most 10)."""
    import math
    geom_sum, num_geom = 0.0, 0
    log_q = math.log1p(-prob)
    while True:
        geom = math.ceil(math.log(uniform()) / log_q)
        geom_sum += geom
        if geom_sum > count:
            return float(num_geom)
        num_geom += 1


def _btrs(count: float, prob: float, uniform) -> float:
    """Hormann's transformed rejection with squeeze (BTRS), as TF's kernel writes it."""
    import math
    stddev = math.sqrt(count * prob * (1 - prob))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = count * prob + 0.5
    v_r = 0.92 - 4.2 / b
    r = prob / (1 - prob)
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor((count + 1) * prob)
    while True:
        u = uniform()
        v = uniform()
        u = u - 0.5
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + c)
        if us >= 0.07 and v <= v_r:
            return float(k)
        if k < 0 or k > count:
            continue
        v = math.log(v * alpha / (a / (us * us) + b))
        upperbound = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                      + (count + 1) * math.log((count - m + 1) / (count - k + 1))
                      + (k + 0.5) * math.log(r * (count - k + 1) / (k + 1))
                      + _stirling_approx_tail(m) + _stirling_approx_tail(count - m)
                      - _stirling_approx_tail(k) - _stirling_approx_tail(count - k))
        if v <= upperbound:
            return float(k)


def _binomial(key, counter, shape, counts, probs, out_dtype) -> np.ndarray:
    """RandomBinomialFunctor: output [samples..., batch...] where batch is counts and probs broadcast;
    sample s of batch member b (output index b * samples + s) uses the generator skipped by 256 calls per
    index (BTRS) or 42 (inversion, when count * p < 10), with p = min(prob, 1 - prob)."""
    counts, probs = np.asarray(counts), np.asarray(probs)
    try:
        batch_shape = np.broadcast_shapes(counts.shape, probs.shape)
    except ValueError:
        raise errors.InvalidArgumentError(None, None, "counts and probs must have compatible batch dimensions: "
                                          f"{_shape(counts.shape)} vs. {_shape(probs.shape)}") from None
    if np.ndim(shape) != 1:
        raise errors.InvalidArgumentError(None, None, "Input shape should be a vector, got shape: "
                                          f"{_shape(np.shape(shape))}")
    out_shape = shape_vector(shape)
    if len(out_shape) < len(batch_shape) or tuple(out_shape[len(out_shape) - len(batch_shape):]) != batch_shape:
        raise errors.InvalidArgumentError(None, None, "Shape passed in must end with broadcasted shape.")
    sample_dims = len(out_shape) - len(batch_shape)
    samples = int(np.prod(out_shape[:sample_dims], dtype=np.int64))
    batches = int(np.prod(out_shape[sample_dims:], dtype=np.int64))
    t = counts.dtype
    counts_b = np.broadcast_to(counts, batch_shape).reshape(-1)
    probs_b = np.broadcast_to(probs, batch_shape).reshape(-1)
    out = np.empty(samples * batches, np.float64)
    for b in range(batches):
        count, prob = counts_b[b], probs_b[b]
        dcount = float(count)
        for s in range(samples):
            index = b * samples + s
            if dcount <= 0.0 or prob <= t.type(0.0):
                value = 0.0
            elif prob >= t.type(1.0):
                value = dcount
            elif prob <= t.type(0.5) or prob > t.type(0.5):
                flip = not prob <= t.type(0.5)
                p = (t.type(1) - prob) if flip else prob
                with np.errstate(over="ignore"):
                    wide = count * p >= t.type(10)  # computed in T, as the kernel does
                uniform = _Doubles(key, counter, (256 if wide else 42) * index)
                value = (_btrs if wide else _binomial_inversion)(dcount, float(p), uniform)
                value = dcount - value if flip else value
            else:  # NaN prob
                value = float("nan")
            out[s * batches + b] = value
    with np.errstate(invalid="ignore"):
        return out.astype(out_dtype).reshape(out_shape)


def _shape(dims) -> str:
    return "[" + ",".join(str(int(d)) for d in dims) + "]"


def _concrete(op, *values) -> None:
    if any(isinstance(v, jax.core.Tracer) for v in values):
        raise NotImplementedError(f"tf.raw_ops.{op.type} draws on the host: its inputs must not be computed from "
                                  "fed values in a compiled plan")


@lowers("StatelessRandomBinomial", context=True, host=True)
def stateless_random_binomial(ctx, op, shape, seed, counts, probs):
    """tf.random.stateless_binomial: the samples of TF's kernel from GenerateKey(seed)."""
    _concrete(op, shape, seed, counts, probs)
    if np.shape(seed) != (2,):
        raise errors.InvalidArgumentError(None, op, f"seed must have shape [2], not {_shape(np.shape(seed))}")
    seed = np.asarray(seed)
    key, counter = philox.stateless_key_counter(np, seed[0], seed[1])
    key, counter = tuple(int(w) for w in key), tuple(int(w) for w in counter)
    return _binomial(key, counter, shape, counts, probs, _dtype(op))


@lowers("StatefulRandomBinomial", context=True, host=True)
def stateful_random_binomial(ctx, op, handle, alg, shape, counts, probs):
    """tf.random.Generator.binomial: the state's generator draws the samples, then moves on by the kernel's
    reservation, batches * 2 * 100 * (samples + 3) / 4 (in C++'s left-to-right integer arithmetic), times
    256. (TF 2.21's kernel leaves the state unchanged on the first run after the variable is initialized,
    apparently writing a copy-on-write buffer; from the second run on it moves as here.)"""
    _concrete(op, alg, shape, counts, probs)
    handle, state = _state(ctx, op, handle, alg)
    state = np.asarray(state)
    key, counter = _words(np, state)
    key, counter = tuple(int(w) for w in key), tuple(int(w) for w in counter)
    out = _binomial(key, counter, shape, counts, probs, _dtype(op))
    out_shape = shape_vector(shape)
    batch_dims = len(np.broadcast_shapes(np.shape(counts), np.shape(probs)))
    samples = int(np.prod(out_shape[:len(out_shape) - batch_dims], dtype=np.int64))
    batches = int(np.prod(out_shape[len(out_shape) - batch_dims:], dtype=np.int64))
    reserved = batches * 2 * 100 * (samples + 3) // 4
    new_counter = _skip(np, tuple(np.uint64(w) for w in counter), reserved * _STEP)
    _write_counter(ctx, handle, np, state, new_counter)
    return out
