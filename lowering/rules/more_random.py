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


@lowers("StatelessRandomBinomial")
def stateless_random_binomial(*_, **__):
    raise NotImplementedError("tf.raw_ops.StatelessRandomBinomial (tf.random.stateless_binomial): TF's binomial "
                              "sampler is not reproduced yet")


@lowers("StatefulRandomBinomial", context=True)
def stateful_random_binomial(ctx, op, *_):
    raise NotImplementedError("tf.raw_ops.StatefulRandomBinomial (tf.random.Generator.binomial): TF's binomial "
                              "sampler is not reproduced yet")
