"""Lowerings of random ops (graphcompat/ops/random_ops.py): a key per op execution from ctx.random_key.

Exact TF bit patterns are not reproduced; TF's seed relations are (see RunContext.random_key).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_dtypes
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


# Op by op (a plan's first run: initializers, a notebook's one-off sample) the common distributions are
# drawn on the host with numpy (`ctx.host_random`): no XLA kernel to compile per shape, which made a small
# model's initializer cost most of a second. Compiled plans draw with JAX.
def _host_dtype(dtype: np.dtype) -> np.dtype:
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float32)


def _host_truncated_normal(rng: np.random.Generator, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Standard normal values redrawn until within two standard deviations (TF's TruncatedNormal)."""
    out = rng.standard_normal(shape, dtype=_host_dtype(dtype))
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()), dtype=out.dtype)
        bad = np.abs(out) > 2.0
    return out


@lowers("RandomStandardNormal", context=True)
def random_standard_normal(ctx, op, shape):
    if not ctx.traced:
        dtype = _dtype(op)
        out_shape = _static_shape(shape, op)
        return ctx.host_random(op).standard_normal(out_shape, dtype=_host_dtype(dtype)).astype(dtype)
    return jax.random.normal(ctx.random_key(op), _static_shape(shape, op), _dtype(op))


@lowers("TruncatedNormal", context=True)
def truncated_normal(ctx, op, shape):
    if not ctx.traced:
        dtype = _dtype(op)
        return _host_truncated_normal(ctx.host_random(op), _static_shape(shape, op), dtype).astype(dtype)
    return jax.random.truncated_normal(ctx.random_key(op), -2.0, 2.0, _static_shape(shape, op), _dtype(op))


@lowers("RandomUniform", context=True)
def random_uniform(ctx, op, shape):
    if not ctx.traced:
        dtype = _dtype(op)
        out = ctx.host_random(op).random(_static_shape(shape, op), dtype=_host_dtype(dtype)).astype(dtype)
        if dtype != _host_dtype(dtype):  # rounding to a narrow float may reach 1.0: TF's range is [0, 1)
            below_one = np.asarray(1.0 - float(ml_dtypes.finfo(dtype).epsneg), dtype)
            out = np.minimum(out, below_one)
        return out
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
    if not ctx.traced and int(np.prod(out_shape, dtype=np.int64)):
        return ctx.host_random(op).integers(int(np.asarray(minval)), int(np.asarray(maxval)), out_shape,
                                            dtype=dtype)
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
    # JAX's poisson sampler needs a threefry key: derive one from this op's key (its first two words)
    key = jax.random.wrap_key_data(jax.random.key_data(ctx.random_key(op))[..., :2], impl="threefry2x32")
    sample = jax.random.poisson(key, jnp.asarray(rate, jnp.float32 if jnp.asarray(rate).dtype
                                                                   != jnp.float64 else jnp.float64), out_shape)
    return sample.astype(_dtype(op))
