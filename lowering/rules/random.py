"""Lowerings of random ops (graphcompat/ops/random_ops.py): a key per op execution from ctx.random_key.

Exact TF bit patterns are not reproduced; TF's seed relations are (see RunContext.random_key).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
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


@lowers("RandomStandardNormal", context=True)
def random_standard_normal(ctx, op, shape):
    return jax.random.normal(ctx.random_key(op), _static_shape(shape, op), _dtype(op))


@lowers("TruncatedNormal", context=True)
def truncated_normal(ctx, op, shape):
    return jax.random.truncated_normal(ctx.random_key(op), -2.0, 2.0, _static_shape(shape, op), _dtype(op))


@lowers("RandomUniform", context=True)
def random_uniform(ctx, op, shape):
    return jax.random.uniform(ctx.random_key(op), _static_shape(shape, op), _dtype(op))


@lowers("RandomUniformInt", context=True)
def random_uniform_int(ctx, op, shape, minval, maxval):
    for name, value in (("minval", minval), ("maxval", maxval)):
        if np.ndim(value) != 0:
            raise invalid(f"{name} must be 0-D, got shape {shape_str(np.shape(value))}")
    out_shape = _static_shape(shape, op)
    if int(np.prod(out_shape, dtype=np.int64)):  # TF: "zero impossible things are fine"
        require(jnp.asarray(minval) < jnp.asarray(maxval), errors.InvalidArgumentError,
                lambda: f"Need minval < maxval, got {int(np.asarray(minval))} >= {int(np.asarray(maxval))}")
    dtype = _dtype(op, "Tout")
    return jax.random.randint(ctx.random_key(op), out_shape, minval, maxval, dtype)


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
    sample = jax.random.poisson(ctx.random_key(op), jnp.asarray(rate, jnp.float32 if jnp.asarray(rate).dtype
                                                                   != jnp.float64 else jnp.float64), out_shape)
    return sample.astype(_dtype(op))


@lowers("RandomCropSlice")
def random_crop_slice(value, offset, *, limit, size, **_):
    start = jnp.mod(offset, jnp.asarray(limit, jnp.int32))
    return jax.lax.dynamic_slice(value, tuple(start[i] for i in range(len(size))), tuple(size))
