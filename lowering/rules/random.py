"""Lowerings of random ops (graphcompat/ops/random_ops.py).

RandomUniform, RandomStandardNormal, TruncatedNormal and RandomUniformInt give TF's numbers: TF's Philox
stream per op and session (RunContext.philox_stream, lowering/philox.py). RandomShuffle and Multinomial too,
drawn on the host as their kernels do (lowering/philox_sampling.py; from a JAX key derived from the same
stream where compiled plans may not call back to the host), and RandomGamma and RandomPoissonV2.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

from graphcompat.framework import errors
from lowering import philox, philox_sampling
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


def _philox_draw(ctx, op, shape, dtype: np.dtype, draw, *args, count=None):
    """Runs `draw(xp, key, counter, n, *args, dtype)` on this run's stream of `op`, shaped `shape`. `count`:
    the outputs the stream moves on by where fewer are real than drawn (a draw padded along its first
    axis, traced: lowering/padding.py `_random_draw`), else all of them."""
    out_shape = _static_shape(shape, op)
    n = int(np.prod(out_shape, dtype=np.int64))
    key, counter = ctx.philox_stream(op, (n if count is None else count) * philox.RESERVED_PER_OUTPUT)
    xp = jnp if ctx.traced else np
    return draw(xp, key, counter, n, *args, dtype).reshape(out_shape)


def _float_dtype(op) -> np.dtype:
    dtype = _dtype(op)
    if dtype not in _PHILOX_DTYPES:  # the op's type constraint already limits dtype to these
        raise NotImplementedError(f"tf.{op.type} with dtype {dtype}")
    return dtype


@lowers("RandomStandardNormal", context=True)
def random_standard_normal(ctx, op, shape, count=None):
    return _philox_draw(ctx, op, shape, _float_dtype(op), philox.normal, count=count)


@lowers("TruncatedNormal", context=True)
def truncated_normal(ctx, op, shape, count=None):
    return _philox_draw(ctx, op, shape, _float_dtype(op), philox.truncated_normal, count=count)


@lowers("RandomUniform", context=True)
def random_uniform(ctx, op, shape, count=None):
    return _philox_draw(ctx, op, shape, _float_dtype(op), philox.uniform, count=count)


@lowers("RandomUniformInt", context=True)
def random_uniform_int(ctx, op, shape, minval, maxval, count=None):
    for name, value in (("minval", minval), ("maxval", maxval)):
        if np.ndim(value) != 0:
            raise invalid(f"{name} must be 0-D, got shape {shape_str(np.shape(value))}")
    out_shape = _static_shape(shape, op)
    if int(np.prod(out_shape, dtype=np.int64)):  # TF: "zero impossible things are fine"
        require(jnp.asarray(minval) < jnp.asarray(maxval), errors.InvalidArgumentError,
                lambda: f"Need minval < maxval, got {int(np.asarray(minval))} >= {int(np.asarray(maxval))}")
    if not ctx.traced:
        minval, maxval = np.asarray(minval), np.asarray(maxval)
    return _philox_draw(ctx, op, shape, _dtype(op, "Tout"), philox.uniform_int, minval, maxval, count=count)


def _host_callbacks_refused(ctx) -> bool:
    """Whether this draw must stay on the device: a compiled plan on GPU/TPU or a sharded step."""
    return ctx.traced and not philox._host_roundings_in_compiled_plans()


@lowers("RandomShuffle", context=True)
def random_shuffle(ctx, op, value):
    """TF's permutation: Fisher-Yates on the first size - 1 words of this run's stream (which reserves
    ReserveSamples32(size - 1)), computed on the host; the rows are then gathered where the value is."""
    size = int(jnp.shape(value)[0]) if jnp.ndim(value) else 0
    if jnp.ndim(value) == 0 or size <= 1 or int(np.prod(jnp.shape(value))) <= 1:
        return value   # the kernel forwards its input and draws nothing
    key, counter = ctx.philox_stream(op, philox_sampling.shuffle_calls(size))
    if _host_callbacks_refused(ctx):
        return jax.random.permutation(philox_sampling.jax_key_from_philox(key, counter), value, axis=0)
    dtype = np.int32 if size < 2 ** 31 - 1 else np.int64
    perm, = philox_sampling.host_draw(
        lambda k, c: (philox_sampling.shuffle_permutation(k, c, size),), [((size,), dtype)], key, counter)
    if not ctx.traced:
        return np.asarray(value)[np.asarray(perm)]
    return jnp.take(value, perm, axis=0)


@lowers("Multinomial", context=True)
def multinomial(ctx, op, logits, num_samples):
    """TF's samples: per row the kernel's double cdf and one RandDouble a sample, rows read from where
    their shard of the kernel's thread pool starts (lowering/philox_sampling.py), on the host."""
    if np.ndim(logits) != 2:
        raise invalid(f"logits should be a matrix, got shape {shape_str(np.shape(logits))}")
    if np.ndim(num_samples) != 0:
        raise invalid(f"num_samples should be a scalar, got shape {shape_str(np.shape(num_samples))}")
    n = static_ints(num_samples, "num_samples")[0]
    if n < 0:
        raise invalid(f"num_samples should be non-negative, got {n}")
    batch, classes = np.shape(logits)
    if classes == 0:
        raise invalid("num_classes should be positive, got 0")
    _require_float_logits(op, logits)
    out_dtype = _dtype(op, "output_dtype")
    if batch * n == 0:   # the kernel draws nothing (and reserves nothing) for an empty output
        return jnp.zeros((batch, n), out_dtype) if ctx.traced else np.zeros((batch, n), out_dtype)
    key, counter = ctx.philox_stream(op, philox_sampling.multinomial_calls(batch, n))
    return multinomial_draw(ctx.traced, key, counter, logits, n, out_dtype)


def _require_float_logits(op, logits) -> None:
    """TF registers Multinomial's CPU kernels for half, bfloat16, float and double logits only."""
    dtype = np.dtype(jnp.result_type(logits))
    if dtype.kind != "f" and dtype != ml_dtypes.bfloat16:
        raise invalid(f"No OpKernel was registered to support Op '{op.type}' used by {{{{node {op.name}}}}} with "
                      f"logits of type {dtype.name} (TF's CPU kernels take half, bfloat16, float and double)")


def multinomial_draw(traced: bool, key, counter, logits, n: int, out_dtype):
    """The samples of MultinomialFunctor<CPU> from (key, counter); shared with StatelessMultinomial."""
    if traced and not philox._host_roundings_in_compiled_plans():
        lg = jnp.asarray(logits)
        lg = lg.astype(jnp.float64 if lg.dtype == jnp.float64 else jnp.float32)
        samples = jax.random.categorical(philox_sampling.jax_key_from_philox(key, counter), lg, axis=-1,
                                         shape=(n, lg.shape[0]))
        return samples.T.astype(out_dtype)
    batch = np.shape(logits)[0]
    out, = philox_sampling.host_draw(
        lambda k, c, lg: (philox_sampling.multinomial(k, c, lg, n, out_dtype),),
        [((batch, n), out_dtype)], key, counter, logits)
    return out


def _per_output_draw(ctx, op, shape, param, kernel, out_dtype):
    """RandomGamma / RandomPoissonV2: `kernel(key, counter, params, num_samples, dtype)` -> [samples, params]
    on the host, each output's stream 256 calls after the previous one's (ReserveRandomOutputs(n, 256))."""
    samples_shape = _static_shape(shape, op)
    num_samples = int(np.prod(samples_shape, dtype=np.int64))
    param_shape = tuple(np.shape(param))
    num_params = int(np.prod(param_shape, dtype=np.int64))
    out_shape = samples_shape + param_shape
    if not num_samples * num_params:   # the kernels return the empty output before drawing
        return jnp.zeros(out_shape, out_dtype) if ctx.traced else np.zeros(out_shape, out_dtype)
    key, counter = ctx.philox_stream(op, philox_sampling.gamma_calls(num_samples, num_params))
    out, = philox_sampling.host_draw(lambda k, c, p: (kernel(k, c, p, num_samples, out_dtype),),
                                     [((num_samples, num_params), out_dtype)], key, counter, param)
    return out.reshape(out_shape)


@lowers("RandomGamma", context=True)
def random_gamma(ctx, op, shape, alpha):
    """TF's numbers (lowering/philox_sampling.gamma); without host callbacks, JAX's gamma sampler."""
    if _host_callbacks_refused(ctx):
        out_shape = _static_shape(shape, op) + tuple(jnp.shape(alpha))
        key, counter = ctx.philox_stream(op, philox_sampling.gamma_calls(
            int(np.prod(out_shape, dtype=np.int64)), 1))
        return jax.random.gamma(philox_sampling.jax_key_from_philox(key, counter), alpha, out_shape,
                                dtype=alpha.dtype)
    return _per_output_draw(ctx, op, shape, alpha, philox_sampling.gamma, np.dtype(alpha.dtype))


@lowers("RandomPoissonV2", context=True)
def random_poisson(ctx, op, shape, rate):
    """TF's numbers (lowering/philox_sampling.poisson); without host callbacks, JAX's poisson sampler."""
    if _host_callbacks_refused(ctx):
        out_shape = _static_shape(shape, op) + tuple(jnp.shape(rate))
        key, counter = ctx.philox_stream(op, philox_sampling.gamma_calls(
            int(np.prod(out_shape, dtype=np.int64)), 1))
        sample = jax.random.poisson(philox_sampling.jax_key_from_philox(key, counter),
                                    jnp.asarray(rate, jnp.float32 if jnp.asarray(rate).dtype != jnp.float64
                                                else jnp.float64), out_shape)
        return sample.astype(_dtype(op))
    return _per_output_draw(ctx, op, shape, rate, philox_sampling.poisson, _dtype(op))


_PTN_PARAMS = ("means", "stddevs", "minvals", "maxvals")


@lowers("ParameterizedTruncatedNormal", context=True)
def parameterized_truncated_normal(ctx, op, shape, means, stdevs, minvals, maxvals):
    """TF's numbers (lowering/philox_sampling.parameterized_truncated_normal): batches
    of shape[0] (or of 100 when every batch has the same parameters), the kernel's three samplers; TF's
    checks first. Without host callbacks, jax.random.truncated_normal with the same parameters."""
    out_shape = _static_shape(shape, op)
    dtype = philox_sampling.ptn_dtype(_float_dtype(op))   # TF registers no bfloat16 CPU kernel
    params = (means, stdevs, minvals, maxvals)
    for name, value in zip(_PTN_PARAMS, params):
        if np.ndim(value) > 1:
            raise invalid(f"Input {name} should be a scalar or vector, got shape: {shape_str(np.shape(value))}")
    sizes = [None if np.ndim(p) == 0 else np.shape(p)[0] for p in params]
    batches, per_batch, _ = philox_sampling.ptn_layout(out_shape, sizes)
    if not (sizes[0] in (None, 1) and sizes[1] in (None, 1) and sizes[2] is None and sizes[3] is None):
        for name, size, value in zip(_PTN_PARAMS, sizes, params):
            if size not in (None, 1, batches):
                raise invalid(f"Input {name} should have length 1 or shape[0], got shape: "
                              f"{shape_str(np.shape(value))}")
    xp = jnp if ctx.traced else np
    if batches:
        mean, stddev, lo, hi = (xp.broadcast_to(xp.reshape(xp.asarray(p), (-1,)), (batches,)) for p in params)
        require((stddev > 0) & (lo < hi) & (xp.isfinite(lo) | xp.isfinite(hi)), errors.InvalidArgumentError,
                lambda: "Invalid parameters")
    key, counter = ctx.philox_stream(op, philox_sampling.ptn_calls(batches, per_batch))
    if _host_callbacks_refused(ctx):
        lead = (-1,) + (1,) * (len(out_shape) - 1)
        mean, stddev, lo, hi = (jnp.reshape(jnp.asarray(p, dtype), lead if np.ndim(p) else ()) for p in params)
        z = jax.random.truncated_normal(philox_sampling.jax_key_from_philox(key, counter),
                                        (lo - mean) / stddev, (hi - mean) / stddev, out_shape, dtype)
        return z * stddev + mean
    out, = philox_sampling.host_draw(
        lambda k, c, *p: (philox_sampling.parameterized_truncated_normal(k, c, out_shape, *p, dtype),),
        [(out_shape, dtype)], key, counter, *params)
    return out
