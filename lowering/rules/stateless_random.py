"""Lowerings of graphcompat/ops/stateless_random_ops.py: values are a pure function of the seed.

StatelessRandomGetKeyCounter packs the [2] seed into TF's (key, counter) tensors; each draw builds a JAX
threefry key from them (traced values allowed: a fed seed works in compiled plans). TF's Philox bits are
not reproduced (docs/migration.md): the distributions are, and equal seeds give equal values everywhere.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.interpreter import require
from lowering.registry import lowers
from lowering.rules.checks import shape_vector


def _np_dtype(dtype) -> np.dtype:
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype))


def _check_seed(seed) -> None:
    if np.shape(seed) != (2,):
        raise errors.InvalidArgumentError(None, None, "seed must have shape [2], not "
                                          f"[{','.join(str(d) for d in np.shape(seed))}]")


def _split64(x):
    x = jnp.asarray(x).astype(jnp.uint64)
    return (x & jnp.uint64(0xFFFFFFFF)).astype(jnp.uint32), (x >> jnp.uint64(32)).astype(jnp.uint32)


@lowers("StatelessRandomGetKeyCounter")
def get_key_counter(seed, **_):
    _check_seed(seed)
    s = jnp.asarray(seed).astype(jnp.int64).astype(jnp.uint64)
    return s[:1], jnp.stack([s[1], jnp.zeros((), jnp.uint64)])


def _jax_key(key, counter):
    k_lo, k_hi = _split64(jnp.asarray(key)[0])
    c_lo, c_hi = _split64(jnp.asarray(counter)[0])
    k = jax.random.wrap_key_data(jnp.stack([k_lo ^ c_hi, k_hi]), impl="threefry2x32")
    return jax.random.fold_in(k, c_lo)


def _shape(shape) -> tuple:
    if isinstance(shape, jax.core.Tracer):
        raise NotImplementedError("graphcompat needs a static shape for tf.random.stateless_* ops; the shape here "
                                  "is computed inside the graph from fed values")
    return shape_vector(shape)


@lowers("StatelessRandomUniformV2")
def uniform(shape, key, counter, alg, *, dtype, **_):
    return jax.random.uniform(_jax_key(key, counter), _shape(shape), _np_dtype(dtype))


@lowers("StatelessRandomNormalV2")
def normal(shape, key, counter, alg, *, dtype, **_):
    return jax.random.normal(_jax_key(key, counter), _shape(shape), _np_dtype(dtype))


@lowers("StatelessTruncatedNormalV2")
def truncated_normal(shape, key, counter, alg, *, dtype, **_):
    return jax.random.truncated_normal(_jax_key(key, counter), -2.0, 2.0, _shape(shape), _np_dtype(dtype))


@lowers("StatelessRandomUniformIntV2")
def uniform_int(shape, key, counter, alg, minval, maxval, **_):
    if np.ndim(minval) != 0 or np.ndim(maxval) != 0:
        raise errors.InvalidArgumentError(None, None, "minval must be 0-D, got shape "
                                          f"[{','.join(str(d) for d in np.shape(minval))}]" if np.ndim(minval)
                                          else "maxval must be 0-D, got shape "
                                          f"[{','.join(str(d) for d in np.shape(maxval))}]")
    out_shape = _shape(shape)
    if int(np.prod(out_shape)):
        require(jnp.asarray(minval) < jnp.asarray(maxval), errors.InvalidArgumentError,
                lambda: f"Need minval < maxval: {np.asarray(minval)} >= {np.asarray(maxval)}")
    dtype = jnp.result_type(minval)
    return jax.random.randint(_jax_key(key, counter), out_shape, minval, maxval, dtype)


@lowers("StatelessRandomUniformFullIntV2")
def uniform_full_int(shape, key, counter, alg, *, dtype, **_):
    dt = _np_dtype(dtype)
    bits = jax.random.bits(_jax_key(key, counter), _shape(shape), jnp.dtype(f"uint{dt.itemsize * 8}"))
    return jax.lax.bitcast_convert_type(bits, dt)


@lowers("StatelessMultinomial")
def multinomial(logits, num_samples, seed, *, output_dtype, **_):
    _check_seed(seed)
    if np.ndim(logits) != 2:
        raise errors.InvalidArgumentError(None, None, "logits should be a matrix, got shape "
                                          f"[{','.join(str(d) for d in np.shape(logits))}]")
    n = int(np.asarray(num_samples)) if not isinstance(num_samples, jax.core.Tracer) else None
    if n is None:
        raise NotImplementedError("graphcompat needs a constant num_samples for tf.random.stateless_categorical")
    if n < 0:
        raise errors.InvalidArgumentError(None, None, f"num_samples should be nonnegative, got {n}")
    key, counter = get_key_counter(seed)
    batch = np.shape(logits)[0]
    lg = jnp.asarray(logits).astype(jnp.float32 if jnp.result_type(logits) != jnp.float64 else jnp.float64)
    out = jax.random.categorical(_jax_key(key, counter), lg[:, None, :], axis=-1, shape=(batch, n))
    return out.astype(_np_dtype(output_dtype))
