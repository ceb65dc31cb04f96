"""Lowerings of random ops (graphcompat/ops/random_ops.py).

RandomUniform, RandomStandardNormal, TruncatedNormal and RandomUniformInt give TF's numbers: TF's Philox
stream per op and session (RunContext.philox_stream, lowering/philox.py). The others (RandomShuffle,
Multinomial, RandomGamma, RandomPoissonV2) draw from JAX keys (RunContext.random_key): TF's seed relations,
not TF's bits.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

from graphcompat.framework import errors
from lowering import philox
from lowering.interpreter import require
from lowering.registry import lowers
from lowering.rules.checks import invalid, shape_str, shape_vector
from lowering.rules.math import static_ints


def _static_shape(shape, op) -> tuple:
    """The output shape as TF's `tensor::MakeShape` reads it: a vector of non-negative dims."""
    if isinstance(shape, jax.core.Tracer):
        raise NotImplementedError(
            f"graphcompat needs a static shape for random op '{op.name}' ({op.type}); its shape is computed "
            "inside the graph from fed values")
    return shape_vector(shape)


def _dtype(op, attr="dtype"):
    return np.dtype(op.attrs[attr].as_numpy_dtype)


# RandomUniform, RandomStandardNormal, TruncatedNormal and RandomUniformInt draw TF's own numbers
# (lowering/philox.py): op by op (a plan's first run: initializers, a notebook's one-off sample) with numpy
# on the host, so no XLA kernel compiles per shape; compiled plans with jax.numpy; the bits are the same.
_PHILOX_DTYPES = (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16), np.dtype(np.float32), np.dtype(np.float64))


def _philox_draw(ctx, op, shape, dtype: np.dtype, draw, *args):
    """Runs `draw(xp, key, counter, n, *args, dtype)` on this run's stream of `op`, shaped `shape`."""
    out_shape = _static_shape(shape, op)
    n = int(np.prod(out_shape, dtype=np.int64))
    key, counter = ctx.philox_stream(op, n * philox.RESERVED_PER_OUTPUT)
    xp = jnp if ctx.traced else np
    return draw(xp, key, counter, n, *args, dtype).reshape(out_shape)


def _float_dtype(op) -> np.dtype:
    dtype = _dtype(op)
    if dtype not in _PHILOX_DTYPES:  # the op's type constraint already limits dtype to these
        raise NotImplementedError(f"tf.{op.type} with dtype {dtype}")
    return dtype


@lowers("RandomStandardNormal", context=True)
def random_standard_normal(ctx, op, shape):
    return _philox_draw(ctx, op, shape, _float_dtype(op), philox.normal)


@lowers("TruncatedNormal", context=True)
def truncated_normal(ctx, op, shape):
    return _philox_draw(ctx, op, shape, _float_dtype(op), philox.truncated_normal)


@lowers("RandomUniform", context=True)
def random_uniform(ctx, op, shape):
    return _philox_draw(ctx, op, shape, _float_dtype(op), philox.uniform)


@lowers("RandomUniformInt", context=True)
def random_uniform_int(ctx, op, shape, minval, maxval):
    for name, value in (("minval", minval), ("maxval", maxval)):
        if np.ndim(value) != 0:
            raise invalid(f"{name} must be 0-D, got shape {shape_str(np.shape(value))}")
    out_shape = _static_shape(shape, op)
    if int(np.prod(out_shape, dtype=np.int64)):  # TF: "zero impossible things are fine"
        require(jnp.asarray(minval) < jnp.asarray(maxval), errors.InvalidArgumentError,
                lambda: f"Need minval < maxval, got {int(np.asarray(minval))} >= {int(np.asarray(maxval))}")
    if not ctx.traced:
        minval, maxval = np.asarray(minval), np.asarray(maxval)
    return _philox_draw(ctx, op, shape, _dtype(op, "Tout"), philox.uniform_int, minval, maxval)


@lowers("RandomShuffle", context=True)
def random_shuffle(ctx, op, value):
    key = ctx.random_key(op)
    if jnp.ndim(value) == 0 or jnp.shape(value)[0] <= 1:
        return value
    return jax.random.permutation(key, value, axis=0)


@lowers("Multinomial", context=True)
def multinomial(ctx, op, logits, num_samples):
    if np.ndim(logits) != 2:
        raise invalid(f"logits should be a matrix, got shape {shape_str(np.shape(logits))}")
    if np.ndim(num_samples) != 0:
        raise invalid(f"num_samples should be a scalar, got shape {shape_str(np.shape(num_samples))}")
    n = static_ints(num_samples, "num_samples")[0]
    if n < 0:
        raise invalid(f"num_samples should be non-negative, got {n}")
    if np.shape(logits)[1] == 0 and n:
        raise invalid("num_classes should be positive, got 0")
    key = ctx.random_key(op)
    logits = jnp.asarray(logits)
    samples = jax.random.categorical(key, logits.astype(jnp.float32 if logits.dtype != jnp.float64 else
                                                        jnp.float64), axis=-1, shape=(n, logits.shape[0]))
    return samples.T.astype(_dtype(op, "output_dtype"))


@lowers("RandomGamma", context=True)
def random_gamma(ctx, op, shape, alpha):
    out_shape = _static_shape(shape, op) + tuple(jnp.shape(alpha))
    return jax.random.gamma(ctx.random_key(op), alpha, out_shape, dtype=alpha.dtype)


@lowers("RandomPoissonV2", context=True)
def random_poisson(ctx, op, shape, rate):
    out_shape = _static_shape(shape, op) + tuple(jnp.shape(rate))
    # JAX's poisson sampler needs a threefry key: derive one from this op's key (its first two words)
    key = jax.random.wrap_key_data(jax.random.key_data(ctx.random_key(op))[..., :2], impl="threefry2x32")
    sample = jax.random.poisson(key, jnp.asarray(rate, jnp.float32 if jnp.asarray(rate).dtype
                                                                   != jnp.float64 else jnp.float64), out_shape)
    return sample.astype(_dtype(op))
