"""Lowerings of graphcompat/ops/stateless_random_ops.py: values are a pure function of the seed.

StatelessRandomGetKeyCounter scrambles the [2] seed into TF's Philox (key, counter) tensors (GenerateKey)
and the V2 draws fill from them with TF's distributions (lowering/philox.py): TF's exact values, with numpy
for concrete inputs and jax.numpy for traced ones (a fed seed works in compiled plans). Only the Philox
algorithm is drawn (alg 1, or 3 = auto, which TF's CPU kernels resolve to Philox). StatelessMultinomial
draws TF's samples as the stateful Multinomial does (lowering/rules/random.py), from GenerateKey's stream.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering import philox, philox_sampling
from lowering.interpreter import require
from lowering.registry import lowers
from lowering.rules.checks import shape_vector


_PHILOX, _AUTO_SELECT = 1, 3  # TF's Algorithm enum (RNG_ALG_PHILOX, RNG_ALG_AUTO_SELECT)


def _np_dtype(dtype) -> np.dtype:
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype))


def _check_seed(seed) -> None:
    if np.shape(seed) != (2,):
        raise errors.InvalidArgumentError(None, None, "seed must have shape [2], not "
                                          f"[{','.join(str(d) for d in np.shape(seed))}]")


@lowers("StatelessRandomGetKeyCounter")
def get_key_counter(seed, **_):
    _check_seed(seed)
    xp = _xp(seed)
    seed = xp.asarray(seed)
    (k0, k1), (_, _, c2, c3) = philox.stateless_key_counter(xp, seed[0], seed[1])
    s32 = xp.uint64(32)
    key = (k0 | (k1 << s32)).reshape(1)
    counter = xp.stack([xp.zeros((), xp.uint64), c2 | (c3 << s32)])
    return key, counter


def _xp(*values):
    """numpy for concrete inputs (op by op: no kernel to compile), jax.numpy when any is traced."""
    return jnp if any(isinstance(v, jax.core.Tracer) for v in values) else np


def _philox_args(op_type: str, key, counter, alg):
    """(xp, key words, counter words) of a V2 draw: key[0] and counter[0..1] split into 32-bit words."""
    if not isinstance(alg, jax.core.Tracer) and int(np.asarray(alg)) not in (_PHILOX, _AUTO_SELECT):
        raise NotImplementedError(f"tf.raw_ops.{op_type} with alg={int(np.asarray(alg))} (graphcompat draws "
                                  "TF's Philox numbers only: alg 1 or 3)")
    xp = _xp(key, counter)
    key, counter = xp.asarray(key).astype(xp.uint64), xp.asarray(counter).astype(xp.uint64)
    mask, s32 = xp.uint64(0xFFFFFFFF), xp.uint64(32)
    k, c0, c1 = key[0], counter[0], counter[1]
    return xp, (k & mask, k >> s32), (c0 & mask, c0 >> s32, c1 & mask, c1 >> s32)


def _draw(op_type, shape, key, counter, alg, draw, *args):
    out_shape = _shape(shape)
    xp, kw, cw = _philox_args(op_type, key, counter, alg)
    n = int(np.prod(out_shape, dtype=np.int64))
    return draw(xp, kw, cw, n, *args).reshape(out_shape)


def _shape(shape) -> tuple:
    if isinstance(shape, jax.core.Tracer):
        raise NotImplementedError("graphcompat needs a static shape for tf.random.stateless_* ops; the shape here "
                                  "is computed inside the graph from fed values")
    return shape_vector(shape)


@lowers("StatelessRandomUniformV2")
def uniform(shape, key, counter, alg, *, dtype, **_):
    return _draw("StatelessRandomUniformV2", shape, key, counter, alg, philox.uniform, _np_dtype(dtype))


@lowers("StatelessRandomNormalV2")
def normal(shape, key, counter, alg, *, dtype, **_):
    return _draw("StatelessRandomNormalV2", shape, key, counter, alg, philox.normal, _np_dtype(dtype))


@lowers("StatelessTruncatedNormalV2")
def truncated_normal(shape, key, counter, alg, *, dtype, **_):
    return _draw("StatelessTruncatedNormalV2", shape, key, counter, alg, philox.truncated_normal,
                 _np_dtype(dtype))


def _uniform_int(op_type, shape, words, minval, maxval):
    """`words()` -> (xp, key, counter) of the draw; minval/maxval checked as TF's kernels do first."""
    if np.ndim(minval) != 0 or np.ndim(maxval) != 0:
        raise errors.InvalidArgumentError(None, None, "minval must be 0-D, got shape "
                                          f"[{','.join(str(d) for d in np.shape(minval))}]" if np.ndim(minval)
                                          else "maxval must be 0-D, got shape "
                                          f"[{','.join(str(d) for d in np.shape(maxval))}]")
    out_shape = _shape(shape)
    if int(np.prod(out_shape)):
        require(jnp.asarray(minval) < jnp.asarray(maxval), errors.InvalidArgumentError,
                lambda: f"Need minval < maxval: {np.asarray(minval)} >= {np.asarray(maxval)}")
    dtype = np.dtype(jnp.result_type(minval))
    if not isinstance(minval, jax.core.Tracer) and not isinstance(maxval, jax.core.Tracer):
        minval, maxval = np.asarray(minval), np.asarray(maxval)
    xp, kw, cw = words()
    n = int(np.prod(out_shape, dtype=np.int64))
    return philox.uniform_int(xp, kw, cw, n, minval, maxval, dtype).reshape(out_shape)


@lowers("StatelessRandomUniformIntV2")
def uniform_int(shape, key, counter, alg, minval, maxval, **_):
    return _uniform_int("StatelessRandomUniformIntV2", shape,
                        lambda: _philox_args("StatelessRandomUniformIntV2", key, counter, alg), minval, maxval)


@lowers("StatelessRandomUniformFullIntV2")
def uniform_full_int(shape, key, counter, alg, *, dtype, **_):
    return _draw("StatelessRandomUniformFullIntV2", shape, key, counter, alg, philox.uniform_full_int,
                 _np_dtype(dtype))


# --- V1: the seed goes through TF's GenerateKey inside each op ----------------------------------------
def _seed_args(seed):
    _check_seed(seed)
    xp = _xp(seed)
    seed = xp.asarray(seed)
    key, counter = philox.stateless_key_counter(xp, seed[0], seed[1])
    return xp, key, counter


def _draw_v1(shape, seed, draw, *args):
    out_shape = _shape(shape)
    xp, kw, cw = _seed_args(seed)
    return draw(xp, kw, cw, int(np.prod(out_shape, dtype=np.int64)), *args).reshape(out_shape)


@lowers("StatelessRandomUniform")
def uniform_v1(shape, seed, *, dtype, **_):
    return _draw_v1(shape, seed, philox.uniform, _np_dtype(dtype))


@lowers("StatelessRandomNormal")
def normal_v1(shape, seed, *, dtype, **_):
    return _draw_v1(shape, seed, philox.normal, _np_dtype(dtype))


@lowers("StatelessTruncatedNormal")
def truncated_normal_v1(shape, seed, *, dtype, **_):
    return _draw_v1(shape, seed, philox.truncated_normal, _np_dtype(dtype))


@lowers("StatelessRandomUniformInt")
def uniform_int_v1(shape, seed, minval, maxval, **_):
    return _uniform_int("StatelessRandomUniformInt", shape, lambda: _seed_args(seed), minval, maxval)


@lowers("StatelessRandomUniformFullInt")
def uniform_full_int_v1(shape, seed, *, dtype, **_):
    return _draw_v1(shape, seed, philox.uniform_full_int, _np_dtype(dtype))


@lowers("StatelessMultinomial")
def multinomial(logits, num_samples, seed, *, output_dtype, **_):
    from lowering.rules.random import multinomial_draw

    _check_seed(seed)
    if np.ndim(logits) != 2:
        raise errors.InvalidArgumentError(None, None, "logits should be a matrix, got shape "
                                          f"[{','.join(str(d) for d in np.shape(logits))}]")
    if np.ndim(num_samples) != 0:
        raise errors.InvalidArgumentError(None, None, "num_samples should be a scalar, got shape "
                                          f"[{','.join(str(d) for d in np.shape(num_samples))}]")
    n = int(np.asarray(num_samples)) if not isinstance(num_samples, jax.core.Tracer) else None
    if n is None:
        raise NotImplementedError("graphcompat needs a constant num_samples for tf.random.stateless_categorical")
    if n < 0:
        raise errors.InvalidArgumentError(None, None, f"num_samples should be non-negative, got {n}")
    batch, classes = np.shape(logits)
    if classes == 0:
        raise errors.InvalidArgumentError(None, None, "num_classes should be positive, got 0")
    dtype = np.dtype(jnp.result_type(logits))
    if dtype.kind != "f" and dtype.name != "bfloat16":
        raise errors.InvalidArgumentError(None, None, "No OpKernel was registered to support Op "
                                          f"'StatelessMultinomial' with logits of type {dtype.name} (TF's CPU "
                                          "kernels take half, bfloat16, float and double)")
    out_dtype = _np_dtype(output_dtype)
    xp, key, counter = _seed_args(seed)
    if batch * n == 0:
        return xp.zeros((batch, n), out_dtype)
    traced = xp is jnp or isinstance(logits, jax.core.Tracer)
    return multinomial_draw(traced, key, counter, logits, n, out_dtype)


# --- gamma and poisson: TF's per-output streams (lowering/philox_sampling.py) from the seed's generator --------
def _per_output_draw(shape, param, xp, key, counter, kernel, out_dtype):
    """StatelessRandomGamma / StatelessRandomPoisson: the output shape ends with the parameter's shape, and
    output (parameter i, sample j) draws from its own stream as the stateful kernels do."""
    out_shape = _shape(shape)
    param_shape = tuple(np.shape(param))
    if len(param_shape) > len(out_shape) or tuple(out_shape[len(out_shape) - len(param_shape):]) != param_shape:
        raise errors.InvalidArgumentError(None, None, "Shape passed in must end with broadcasted shape.")
    out_dtype = np.dtype(out_dtype)
    num_samples = int(np.prod(out_shape, dtype=np.int64))
    if not num_samples:   # StatelessRandomOpBase returns the empty output before Fill
        return xp.zeros(out_shape, out_dtype)
    num_params = int(np.prod(param_shape, dtype=np.int64))
    per_param = num_samples // num_params
    traced = xp is jnp or isinstance(param, jax.core.Tracer)
    if traced and not philox._host_roundings_in_compiled_plans():
        jax_key = philox_sampling.jax_key_from_philox(key, counter)
        p = jnp.asarray(param)
        p = p.astype(jnp.float64 if p.dtype == jnp.float64 else jnp.float32)
        if kernel is philox_sampling.gamma:
            return jax.random.gamma(jax_key, p, out_shape).astype(out_dtype)
        return jax.random.poisson(jax_key, p, out_shape).astype(out_dtype)
    out, = philox_sampling.host_draw(lambda k, c, p: (kernel(k, c, p, per_param, out_dtype),),
                                     [((per_param, num_params), out_dtype)], key, counter, param)
    return out.reshape(out_shape)


@lowers("StatelessRandomGammaV2")
def gamma_v2(shape, seed, alpha, *, dtype, **_):
    xp, key, counter = _seed_args(seed)
    return _per_output_draw(shape, alpha, xp, key, counter, philox_sampling.gamma, _np_dtype(dtype))


@lowers("StatelessRandomGammaV3")
def gamma_v3(shape, key, counter, alg, alpha, *, dtype, **_):
    xp, kw, cw = _philox_args("StatelessRandomGammaV3", key, counter, alg)
    return _per_output_draw(shape, alpha, xp, kw, cw, philox_sampling.gamma, _np_dtype(dtype))


@lowers("StatelessRandomPoisson")
def poisson(shape, seed, lam, *, dtype, **_):
    xp, key, counter = _seed_args(seed)
    return _per_output_draw(shape, lam, xp, key, counter, philox_sampling.poisson, _np_dtype(dtype))


@lowers("StatelessParameterizedTruncatedNormal")
def parameterized_truncated_normal(shape, seed, means, stddevs, minvals, maxvals, *, dtype, **_):
    """TF's numbers (philox_sampling.stateless_parameterized_truncated_normal), after the
    kernel's checks; without host callbacks, jax.random.truncated_normal with the same parameters."""
    _check_seed(seed)
    params = (means, stddevs, minvals, maxvals)
    shapes = [tuple(np.shape(p)) for p in params]
    try:
        batch_shape = tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise errors.InvalidArgumentError(None, None, "means, stddevs, minvals, maxvals must have compatible batch "
                                          "dimensions: " + " vs. ".join(f"[{','.join(map(str, s))}]" for s in shapes))
    out_shape = _shape(shape)
    if len(batch_shape) > len(out_shape) or tuple(out_shape[len(out_shape) - len(batch_shape):]) != batch_shape:
        raise errors.InvalidArgumentError(None, None, "Shape passed in must end with broadcasted shape.")
    dtype = philox_sampling.ptn_dtype(_np_dtype(dtype))
    xp, key, counter = _seed_args(seed)
    traced = xp is jnp or any(isinstance(p, jax.core.Tracer) for p in params)
    pxp = jnp if traced else np
    if int(np.prod(out_shape, dtype=np.int64)):
        mean, stddev, lo, hi = (pxp.broadcast_to(pxp.asarray(p), batch_shape) for p in params)
        require(pxp.all((stddev > 0) & (lo < hi) & (pxp.isfinite(lo) | pxp.isfinite(hi))),
                errors.InvalidArgumentError, lambda: "Invalid parameters")
    if traced and not philox._host_roundings_in_compiled_plans():
        mean, stddev, lo, hi = (jnp.asarray(p, dtype) for p in params)
        z = jax.random.truncated_normal(philox_sampling.jax_key_from_philox(key, counter), (lo - mean) / stddev,
                                        (hi - mean) / stddev, out_shape, dtype)
        return z * stddev + mean
    out, = philox_sampling.host_draw(
        lambda k, c, *p: (philox_sampling.stateless_parameterized_truncated_normal(k, c, out_shape, *p, dtype),),
        [(out_shape, dtype)], key, counter, *params)
    return out
