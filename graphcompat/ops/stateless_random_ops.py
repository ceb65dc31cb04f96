"""`tf.random.stateless_*`: random values that are a pure function of (shape, seed).

The graph is TF 2.21's: StatelessRandomGetKeyCounter turns the [2] seed into a key and counter, then
StatelessRandom{Uniform,Normal,UniformInt,UniformFullInt}V2 / StatelessTruncatedNormalV2 draw, and the
builder scales/shifts with TF's op names; categorical/multinomial use StatelessMultinomial.

Uniform, normal, truncated normal, integer, categorical, gamma and poisson draws are TF's values for the
seed (Philox, as TF's CPU kernels: lowering/rules/stateless_random.py, lowering/philox_sampling.py).
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop
from graphcompat.ops.random_ops import _set_static_shape, _shape_tensor

_INDEX = (_dt.int32, _dt.int64)
_FLOATS = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)
_AUTO_SELECT = 3   # TF's Algorithm.AUTO_SELECT


def _key_counter_shape(ctx: InferenceContext):
    s = ctx.shape(0)
    if s.ndims is not None:
        if s.ndims != 1:
            raise ctx.error(f"Shape must be rank 1 but is rank {s.ndims}")
        if s[0].value is not None and s[0].value != 2:
            raise ctx.error(f"Dimension must be 2 but is {s[0].value}")
    return [_ts.TensorShape([1]), _ts.TensorShape([2])]


def _draw_shape(ctx: InferenceContext):
    from graphcompat.framework.constant_op import constant_value_as_shape
    return [constant_value_as_shape(ctx.inputs[0])]


def _multinomial_shape(ctx: InferenceContext):
    logits, n = ctx.shape(0), ctx.value(1)
    if logits.ndims is not None and logits.ndims != 2:
        raise ctx.error(f"Shape must be rank 2 but is rank {logits.ndims}")
    s = ctx.shape(2)
    if s.ndims is not None and s.ndims == 1 and s[0].value not in (None, 2):
        raise ctx.error(f"Dimension must be 2 but is {s[0].value}")
    batch = logits[0].value if logits.ndims == 2 else None
    return [_ts.TensorShape([batch, None if n is None else int(n)])]


defop("StatelessRandomGetKeyCounter", "seed: Tseed -> key: uint64, counter: uint64", attrs={"Tseed": _dt.int64},
      types={"Tseed": _INDEX}, shape=_key_counter_shape)
for _op in ("StatelessRandomUniformV2", "StatelessRandomNormalV2", "StatelessTruncatedNormalV2"):
    defop(_op, "shape: Tshape, key: uint64, counter: uint64, alg: int32 -> output: dtype",
          attrs={"dtype": _dt.float32, "Tshape": _dt.int32}, types={"dtype": _FLOATS, "Tshape": _INDEX},
          shape=_draw_shape)
defop("StatelessRandomUniformIntV2",
      "shape: Tshape, key: uint64, counter: uint64, alg: int32, minval: dtype, maxval: dtype -> output: dtype",
      attrs={"Tshape": _dt.int32}, types={"dtype": (_dt.int32, _dt.int64, _dt.uint32, _dt.uint64), "Tshape": _INDEX},
      shape=_draw_shape)
defop("StatelessRandomUniformFullIntV2", "shape: Tshape, key: uint64, counter: uint64, alg: int32 -> output: dtype",
      attrs={"dtype": _dt.uint64, "Tshape": _dt.int32},
      types={"dtype": (_dt.int32, _dt.int64, _dt.uint32, _dt.uint64), "Tshape": _INDEX}, shape=_draw_shape)
# The V1 ops (seed in, no key/counter): TF 2.21's builders emit the V2 family, imported graphs may hold these
for _op in ("StatelessRandomUniform", "StatelessRandomNormal", "StatelessTruncatedNormal"):
    defop(_op, "shape: T, seed: Tseed -> output: dtype", attrs={"dtype": _dt.float32, "T": _dt.int32,
                                                              "Tseed": _dt.int64},
          types={"dtype": _FLOATS, "T": _INDEX, "Tseed": _INDEX}, shape=_draw_shape)
defop("StatelessRandomUniformInt", "shape: T, seed: Tseed, minval: dtype, maxval: dtype -> output: dtype",
      attrs={"Tseed": _dt.int64}, types={"dtype": _INDEX, "T": _INDEX, "Tseed": _INDEX}, shape=_draw_shape)
defop("StatelessRandomUniformFullInt", "shape: T, seed: Tseed -> output: dtype",
      attrs={"dtype": _dt.uint64, "T": _dt.int32, "Tseed": _dt.int64},
      types={"dtype": (_dt.int32, _dt.int64, _dt.uint32, _dt.uint64), "T": _INDEX,
             "Tseed": (_dt.int32, _dt.int64, _dt.uint32, _dt.uint64)}, shape=_draw_shape)
defop("StatelessMultinomial", "logits: T, num_samples: int32, seed: Tseed -> output: output_dtype",
      attrs={"Tseed": _dt.int64, "output_dtype": _dt.int64},
      types={"T": (_dt.float32, _dt.float64, _dt.int32, _dt.uint8, _dt.int16, _dt.int8, _dt.int64, _dt.bfloat16,
                   _dt.uint16, _dt.float16, _dt.uint32, _dt.uint64),
             "Tseed": _INDEX, "output_dtype": _INDEX}, shape=_multinomial_shape)

_GAMMA_DTYPES = (_dt.float16, _dt.float32, _dt.float64)
_POISSON_DTYPES = (_dt.float16, _dt.float32, _dt.float64, _dt.int32, _dt.int64)
defop("StatelessRandomGammaV2", "shape: T, seed: Tseed, alpha: dtype -> output: dtype", attrs={"Tseed": _dt.int64},
      types={"dtype": _GAMMA_DTYPES, "T": _INDEX, "Tseed": _INDEX}, shape=_draw_shape)
defop("StatelessRandomGammaV3", "shape: shape_dtype, key: uint64, counter: uint64, alg: int32, alpha: dtype -> "
      "output: dtype", attrs={"shape_dtype": _dt.int32}, types={"dtype": _GAMMA_DTYPES, "shape_dtype": _INDEX},
      shape=_draw_shape)
defop("StatelessRandomPoisson", "shape: T, seed: Tseed, lam: Rtype -> output: dtype", attrs={"Tseed": _dt.int64},
      types={"Rtype": _POISSON_DTYPES, "dtype": _POISSON_DTYPES, "T": _INDEX, "Tseed": _INDEX}, shape=_draw_shape)
defop("StatelessParameterizedTruncatedNormal", "shape: S, seed: Tseed, means: dtype, stddevs: dtype, minvals: dtype, "
      "maxvals: dtype -> output: dtype", attrs={"Tseed": _dt.int64},
      types={"dtype": _GAMMA_DTYPES, "S": _INDEX, "Tseed": _INDEX}, shape=_draw_shape)

_UNIFORM_DTYPES = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64, _dt.int32, _dt.int64, _dt.uint32,
                   _dt.uint64)


def _key_counter(seed):
    key, counter = apply_op("StatelessRandomGetKeyCounter", [seed])
    return key, counter


def _check_alg(alg) -> None:
    if alg not in ("auto_select", _AUTO_SELECT, None, "philox", 1, "threefry", 2):
        raise ValueError(f"Argument `alg` got unsupported value {alg}. Supported values are auto_select, philox "
                         f"and threefry.")


def stateless_random_uniform(shape, seed, minval=0, maxval=None, dtype=_dt.float32, name: Optional[str] = None,
                             alg="auto_select") -> _ops.Tensor:
    """`tf.random.stateless_uniform`: uniform in [minval, maxval) (floats: default [0, 1)), fixed by `seed`."""
    dtype = _dt.as_dtype(dtype)
    _check_alg(alg)
    if dtype not in _UNIFORM_DTYPES:
        raise ValueError(f"Argument `dtype` got invalid value {dtype}. Accepted dtypes are "
                         f"{_UNIFORM_DTYPES}.")
    if dtype.is_integer:
        if (minval is None) != (maxval is None):
            raise ValueError(f"For integer `dtype` argument {dtype}, argument `minval` and `maxval` must be both "
                             f"None or not None. Got `minval`={minval} and `maxval`={maxval}.")
        if minval is not None and dtype in (_dt.uint32, _dt.uint64):
            raise ValueError(f"Argument `dtype` got invalid value {dtype} when argument `minval` is not None. "
                             f"Please don't use unsigned integers in this case.")
    elif maxval is None:
        maxval = 1
    with _ops.name_scope(name, "stateless_random_uniform", [shape, seed, minval, maxval]) as scope:
        shape_t = _shape_tensor(shape)
        if dtype.is_integer and minval is None:
            key, counter = _key_counter(seed)
            result = apply_op("StatelessRandomUniformFullIntV2", [shape_t, key, counter, _AUTO_SELECT],
                              {"dtype": dtype}, name=scope)
        else:
            minval_t = convert_to_tensor(minval, dtype=dtype, name="min")
            maxval_t = convert_to_tensor(maxval, dtype=dtype, name="max")
            key, counter = _key_counter(seed)
            if dtype.is_integer:
                result = apply_op("StatelessRandomUniformIntV2", [shape_t, key, counter, _AUTO_SELECT, minval_t,
                                                                  maxval_t], name=scope)
            else:
                from graphcompat.ops import math_ops
                rnd = apply_op("StatelessRandomUniformV2", [shape_t, key, counter, _AUTO_SELECT], {"dtype": dtype})
                result = math_ops.add(rnd * (maxval_t - minval_t), minval_t, name=scope)
        _set_static_shape(result, shape_t)
        return result


def _scaled(op_type: str, scope_name: str, shape, seed, mean, stddev, dtype, name, alg) -> _ops.Tensor:
    dtype = _dt.as_dtype(dtype)
    _check_alg(alg)
    with _ops.name_scope(name, scope_name, [shape, seed, mean, stddev]) as scope:
        shape_t = _shape_tensor(shape)
        mean_t = convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev_t = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        key, counter = _key_counter(seed)
        rnd = apply_op(op_type, [shape_t, key, counter, _AUTO_SELECT], {"dtype": dtype})
        from graphcompat.ops import math_ops
        result = math_ops.add(rnd * stddev_t, mean_t, name=scope)
        _set_static_shape(result, shape_t)
        return result


def stateless_random_normal(shape, seed, mean=0.0, stddev=1.0, dtype=_dt.float32, name: Optional[str] = None,
                            alg="auto_select") -> _ops.Tensor:
    """`tf.random.stateless_normal`: normal(mean, stddev) values fixed by `seed`."""
    return _scaled("StatelessRandomNormalV2", "stateless_random_normal", shape, seed, mean, stddev, dtype, name,
                   alg)


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=_dt.float32, name: Optional[str] = None,
                               alg="auto_select") -> _ops.Tensor:
    """`tf.random.stateless_truncated_normal`: normal values within two stddevs of the mean, fixed by `seed`."""
    return _scaled("StatelessTruncatedNormalV2", "stateless_truncated_normal", shape, seed, mean, stddev, dtype,
                   name, alg)


def _multinomial(scope_name: str, logits, num_samples, seed, output_dtype, name) -> _ops.Tensor:
    with _ops.name_scope(name, scope_name, [logits, seed]):
        logits = convert_to_tensor(logits, name="logits")
        dtype = _dt.as_dtype(output_dtype) if output_dtype is not None else _dt.int64
        return apply_op("StatelessMultinomial", [logits, num_samples, seed], {"output_dtype": dtype})


def stateless_categorical(logits, num_samples, seed, dtype=_dt.int64, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.random.stateless_categorical`: `num_samples` class indices per row of `logits`, fixed by `seed`."""
    return _multinomial("stateless_categorical", logits, num_samples, seed, dtype, name)


def stateless_multinomial(logits, num_samples, seed, output_dtype=_dt.int64,
                          name: Optional[str] = None) -> _ops.Tensor:
    """`tf.random.stateless_multinomial` (deprecated alias of stateless_categorical)."""
    return _multinomial("stateless_multinomial", logits, num_samples, seed, output_dtype, name)


def stateless_random_gamma(shape, seed, alpha, beta=None, dtype=_dt.float32,
                           name: Optional[str] = None) -> _ops.Tensor:
    """`tf.random.stateless_gamma`: gamma(alpha, beta) samples of `shape` (which ends with the broadcast shape
    of alpha and beta), fixed by `seed`; at least the dtype's smallest normal number, as TF."""
    import numpy as np

    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ops.indexing_ops import broadcast_to
    from graphcompat.ops.math_extra_ops import broadcast_dynamic_shape
    dtype = _dt.as_dtype(dtype)
    with _ops.name_scope(name, "stateless_random_gamma", [shape, seed, alpha, beta]):
        shape_t = _shape_tensor(shape)
        alpha_t = convert_to_tensor(alpha, dtype=dtype, name="alpha")
        beta_t = convert_to_tensor(beta if beta is not None else 1, name="beta", dtype=dtype)
        broadcast = broadcast_dynamic_shape(array_ops.shape(alpha_t), array_ops.shape(beta_t))
        alpha_b = broadcast_to(alpha_t, broadcast)
        key, counter = _key_counter(seed)
        sample = apply_op("StatelessRandomGammaV3", [shape_t, key, counter, _AUTO_SELECT, alpha_b])
        result = math_ops.maximum(np.finfo(dtype.as_numpy_dtype).tiny, sample / beta_t)
        _set_static_shape(result, shape_t)
        return result


def stateless_random_poisson(shape, seed, lam, dtype=_dt.int32, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.random.stateless_poisson`: Poisson(lam) samples of `shape` (which ends with lam's shape), fixed by
    `seed`."""
    with _ops.name_scope(name, "stateless_random_poisson", [shape, seed, lam]):
        shape_t = _shape_tensor(shape)
        result = apply_op("StatelessRandomPoisson", [shape_t, seed, lam], {"dtype": _dt.as_dtype(dtype)})
        _set_static_shape(result, shape_t)
        return result


def stateless_random_binomial(shape, seed, counts, probs, output_dtype=_dt.int32,
                              name: Optional[str] = None) -> _ops.Tensor:
    """`tf.random.stateless_binomial`: Binomial(counts, probs) samples of `shape` (the parameters broadcast to
    its trailing dimensions), fixed by `seed`; probs default to float32 and counts to probs' type, as TF's."""
    with _ops.name_scope(name, "stateless_random_binomial", [shape, seed, counts, probs]):
        shape_t = _shape_tensor(shape)
        probs = convert_to_tensor(probs, dtype_hint=_dt.float32, name="probs")
        counts = convert_to_tensor(counts, dtype_hint=probs.dtype, name="counts")
        result = apply_op("StatelessRandomBinomial", [shape_t, seed, counts, probs],
                          {"dtype": _dt.as_dtype(output_dtype)})
        _set_static_shape(result, shape_t)
        return result


def stateless_parameterized_truncated_normal(shape, seed, means=0.0, stddevs=1.0, minvals=-2.0, maxvals=2.0,
                                             name: Optional[str] = None) -> _ops.Tensor:
    """`tf.random.stateless_parameterized_truncated_normal`: normal(means, stddevs) samples within
    [minvals, maxvals], the parameters broadcast to the tail of `shape`, fixed by `seed`."""
    with _ops.name_scope(name, "stateless_parameterized_truncated_normal",
                         [shape, means, stddevs, minvals, maxvals]):
        shape_t = _shape_tensor(shape)
        params = [convert_to_tensor(v, name=n) for v, n in ((means, "means"), (stddevs, "stddevs"),
                                                           (minvals, "minvals"), (maxvals, "maxvals"))]
        result = apply_op("StatelessParameterizedTruncatedNormal", [shape_t, seed] + params)
        _set_static_shape(result, shape_t)
        return result


__all__ = ["stateless_parameterized_truncated_normal", "stateless_random_gamma", "stateless_random_poisson",
           "stateless_random_uniform", "stateless_random_normal", "stateless_truncated_normal",
           "stateless_categorical", "stateless_multinomial"]
