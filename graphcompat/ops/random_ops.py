"""Random ops with TF1's graph/op seed rules (`tf.set_random_seed`), op types and name scopes.

Seeds land in each op's `seed`/`seed2` attrs at build time; the lowering (lowering/rules/random.py)
derives a key from them and a per-op counter carried as session state, so every run advances the
op's stream, a new Session restarts it, and equal seeds give equal streams.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, constant_value_as_shape, convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop, unchanged_shape

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2 ** 31 - 1
_SEED_ATTRS = {"seed": 0, "seed2": 0}
_INDEX = (_dt.int32, _dt.int64)
FLOAT = _dt.FLOAT_TYPES


# ------------------------------------------------------------------------------------------------
# Seeds (tensorflow/python/framework/random_seed.py)
# ------------------------------------------------------------------------------------------------
def set_random_seed(seed: Optional[int]) -> None:
    """`tf.set_random_seed`: the graph-level seed, read by random ops created afterwards."""
    _ops.get_default_graph().seed = seed


def _truncate_seed(seed: int) -> int:
    return int(seed) % _MAXINT32


def get_seed(op_seed: Optional[int]) -> tuple:
    """TF's (seed, seed2) for a new random op: graph seed and op seed combined as TF does."""
    graph = _ops.get_default_graph()
    global_seed = graph.seed
    if global_seed is not None:
        if op_seed is None:  # TF 2.x: a per-graph count of the ops that drew on the graph seed
            op_seed = graph._random_op_count
            graph._random_op_count += 1
        seeds = _truncate_seed(global_seed), _truncate_seed(op_seed)
    elif op_seed is not None:
        seeds = DEFAULT_GRAPH_SEED, _truncate_seed(op_seed)
    else:
        seeds = None, None
    if seeds == (0, 0):  # (0, 0) means "nondeterministic" to the kernels
        return 0, _MAXINT32
    return seeds


def _seed_attrs(seed: Optional[int]) -> dict:
    s1, s2 = get_seed(seed)
    return {"seed": s1 or 0, "seed2": s2 or 0}


# ------------------------------------------------------------------------------------------------
# Op definitions
# ------------------------------------------------------------------------------------------------
def _shape_from_input(ctx: InferenceContext, i: int = 0) -> _ts.TensorShape:
    """TF's MakeShapeFromShapeTensor: a 1-D shape tensor (its known values, else its length)."""
    rank = ctx.shape(i).ndims
    if rank is not None and rank > 1:
        raise ctx.error(f"Shape must be rank 1 but is rank {rank}")
    return ctx.value_as_shape(i)


def _random_shape(ctx: InferenceContext):
    return [_shape_from_input(ctx)]


def _batched_shape(ctx: InferenceContext):
    """shape + param.shape (RandomGamma, RandomPoissonV2)."""
    return [_shape_from_input(ctx).concatenate(ctx.shape(1))]


def _multinomial_shape(ctx: InferenceContext):
    logits = ctx.shape(0)
    if logits.ndims is not None and logits.ndims != 2:
        raise ctx.error(f"Shape must be rank 2 but is rank {logits.ndims}")
    n = ctx.value(1)
    batch = logits[0] if logits.ndims is not None else None
    return [_ts.TensorShape([batch, None if n is None else int(n)])]


for _op in ("RandomStandardNormal", "TruncatedNormal", "RandomUniform"):
    defop(_op, "shape: T -> output: dtype", attrs=dict(_SEED_ATTRS),
          types={"T": _INDEX, "dtype": FLOAT}, shape=_random_shape, stateful=True)
defop("RandomUniformInt", "shape: T, minval: Tout, maxval: Tout -> output: Tout", attrs=dict(_SEED_ATTRS),
      types={"T": _INDEX, "Tout": _INDEX}, shape=_random_shape, stateful=True)
defop("RandomShuffle", "value: T -> output: T", attrs=dict(_SEED_ATTRS), shape=unchanged_shape, stateful=True)
defop("Multinomial", "logits: T, num_samples: int32 -> output: output_dtype",
      attrs=dict(_SEED_ATTRS, output_dtype=_dt.int64), types={"T": _dt.REAL_NUMBER_TYPES},
      shape=_multinomial_shape, stateful=True)
defop("RandomGamma", "shape: S, alpha: T -> output: T", attrs=dict(_SEED_ATTRS),
      types={"S": _INDEX, "T": (_dt.float16, _dt.float32, _dt.float64)}, shape=_batched_shape,
      stateful=True)
def _parameterized_truncated_normal_shape(ctx: InferenceContext):
    for i in range(1, 5):   # means, stdevs, minvals, maxvals: scalars or vectors
        rank = ctx.shape(i).ndims
        if rank is not None and rank > 1:
            raise ctx.error(f"Shape must be at most rank 1 but is rank {rank}")
    return [_shape_from_input(ctx)]


defop("ParameterizedTruncatedNormal", "shape: T, means: dtype, stdevs: dtype, minvals: dtype, maxvals: dtype -> "
      "output: dtype", attrs=dict(_SEED_ATTRS), types={"T": _INDEX, "dtype": FLOAT},
      shape=_parameterized_truncated_normal_shape, stateful=True)
defop("RandomPoissonV2", "shape: S, rate: R -> output: dtype", attrs=dict(_SEED_ATTRS),
      types={"S": _INDEX, "R": (_dt.float16, _dt.float32, _dt.float64, _dt.int32, _dt.int64)},
      shape=_batched_shape, stateful=True)


# ------------------------------------------------------------------------------------------------
# Builders
# ------------------------------------------------------------------------------------------------
def _shape_tensor(shape) -> _ops.Tensor:
    """TF's tensor_util.shape_tensor: a TensorShape/list becomes an int32 `shape` const."""
    if isinstance(shape, _ts.TensorShape):
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and not any(isinstance(d, _ops.Tensor) for d in shape):
        shape = [int(_ts.dimension_value(d)) for d in shape]
        if not shape:
            return convert_to_tensor(np.zeros([0], np.int32), name="shape")
    return convert_to_tensor(shape, dtype=_dt.int32 if not isinstance(shape, _ops.Tensor) else None, name="shape")


def _set_static_shape(t: _ops.Tensor, shape) -> None:
    if isinstance(shape, _ops.Tensor):
        shape = constant_value_as_shape(shape)
    try:
        t.set_shape(_ts.as_shape(shape))
    except (TypeError, ValueError):
        pass


def _scaled_normal(op_type: str, scope: str, shape, mean, stddev, dtype, seed, name) -> _ops.Tensor:
    """`op_type` (a standard-normal draw) × stddev + mean, with TF's op and scope names."""
    dtype = _dt.as_dtype(dtype)
    with _ops.name_scope(name, scope, [shape, mean, stddev]) as name:
        shape_t = _shape_tensor(shape)
        mean_t = convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev_t = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        rnd = apply_op(op_type, [shape_t], dict(_seed_attrs(seed), dtype=dtype))
        from graphcompat.ops import math_ops
        value = math_ops.add(rnd * stddev_t, mean_t, name=name)
        _set_static_shape(value, shape_t)
        return value


def random_normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None) -> _ops.Tensor:
    """`tf.random_normal`: RandomStandardNormal × stddev + mean."""
    return _scaled_normal("RandomStandardNormal", "random_normal", shape, mean, stddev, dtype, seed, name)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None) -> _ops.Tensor:
    """`tf.truncated_normal`: normal values re-drawn outside 2 standard deviations."""
    return _scaled_normal("TruncatedNormal", "truncated_normal", shape, mean, stddev, dtype, seed, name)


def random_uniform(shape, minval=0, maxval=None, dtype=_dt.float32, seed=None, name=None) -> _ops.Tensor:
    """`tf.random_uniform`: floats in [minval, maxval) (default [0, 1)) or ints (maxval required)."""
    dtype = _dt.as_dtype(dtype)
    if dtype not in (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64, _dt.int32, _dt.int64):
        raise ValueError(f"Invalid dtype {dtype!r}")
    if maxval is None:
        if dtype.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
        maxval = 1
    with _ops.name_scope(name, "random_uniform", [shape, minval, maxval]) as name:
        shape_t = _shape_tensor(shape)
        minval_is_zero = isinstance(minval, int) and minval == 0
        maxval_is_one = isinstance(maxval, int) and maxval == 1
        if not minval_is_zero or not maxval_is_one or dtype.is_integer:
            minval = convert_to_tensor(minval, dtype=dtype, name="min")
            maxval = convert_to_tensor(maxval, dtype=dtype, name="max")
        seeds = _seed_attrs(seed)
        if dtype.is_integer:
            result = apply_op("RandomUniformInt", [shape_t, minval, maxval], seeds, name=name)
        else:
            from graphcompat.ops import math_ops
            result = apply_op("RandomUniform", [shape_t], dict(seeds, dtype=dtype))
            if minval_is_zero:
                if not maxval_is_one:
                    result = math_ops.multiply(result, maxval)
            else:
                result = math_ops.add(result * (maxval - minval), minval, name=name)
        _set_static_shape(result, shape_t)
        return result


def random_shuffle(value, seed=None, name=None) -> _ops.Tensor:
    """`tf.random_shuffle`: permutes along the first dimension."""
    seeds = _seed_attrs(seed)
    return apply_op("RandomShuffle", [value], seeds, name=name)


def _multinomial_impl(logits, num_samples, dtype, seed) -> _ops.Tensor:
    logits = convert_to_tensor(logits, name="logits")
    dtype = _dt.as_dtype(dtype) if dtype else _dt.int64
    if dtype not in (_dt.int32, _dt.int64):
        raise TypeError(f"Value passed to parameter 'output_dtype' has DataType {dtype.name} not in list of "
                        "allowed values: int32, int64")
    seeds = _seed_attrs(seed)
    return apply_op("Multinomial", [logits, num_samples], dict(seeds, output_dtype=dtype))


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None) -> _ops.Tensor:
    """`tf.multinomial`: `num_samples` class indices per row of unnormalized log-probabilities."""
    with _ops.name_scope(name, "multinomial", [logits]):
        return _multinomial_impl(logits, num_samples, output_dtype, seed)


def categorical(logits, num_samples, dtype=None, seed=None, name=None) -> _ops.Tensor:
    """`tf.random.categorical`."""
    with _ops.name_scope(name, "categorical", [logits]):
        return _multinomial_impl(logits, num_samples, dtype, seed)


def random_gamma(shape, alpha, beta=None, dtype=_dt.float32, seed=None, name=None) -> _ops.Tensor:
    """`tf.random_gamma`: samples of shape `shape + alpha.shape`, divided by `beta`."""
    dtype = _dt.as_dtype(dtype)
    with _ops.name_scope(name, "random_gamma", [shape, alpha, beta]):
        from graphcompat.ops import math_ops
        shape_t = convert_to_tensor(shape, name="shape", dtype=_dt.int32)
        alpha_t = convert_to_tensor(alpha, name="alpha", dtype=dtype)
        beta_t = convert_to_tensor(beta if beta is not None else 1, name="beta", dtype=dtype)
        seeds = _seed_attrs(seed)
        sample = apply_op("RandomGamma", [shape_t, alpha_t], seeds)
        tiny = convert_to_tensor(np.finfo(dtype.as_numpy_dtype).tiny, dtype=dtype)
        return math_ops.maximum(tiny, math_ops.realdiv(sample, beta_t))


def random_poisson(lam, shape, dtype=_dt.float32, seed=None, name=None) -> _ops.Tensor:
    """`tf.random_poisson` (TF1 argument order: lam, shape)."""
    with _ops.name_scope(name, "random_poisson", [lam, shape]):
        shape_t = convert_to_tensor(shape, name="shape", dtype=_dt.int32)
        seeds = _seed_attrs(seed)
        return apply_op("RandomPoissonV2", [shape_t, lam], dict(seeds, dtype=_dt.as_dtype(dtype)))


def random_crop(value, size, seed=None, name=None) -> _ops.Tensor:
    """`tf.random_crop`: a `size` slice at a uniformly random offset, recorded as TF 1.x records it: a
    runtime Assert that size <= shape (TF checks at run time, also when both are static), the offset
    `random_uniform(..., maxval=int32 max) % (shape - size + 1)` and a `Slice` named by the scope."""
    # Imported here: the array, math and assert families import this module's seed helpers.
    from graphcompat.ops import array_ops, control_ops, math_ops, slicing_ops
    from graphcompat.ops.data_dependent_ops import Assert
    with _ops.name_scope(name, "random_crop", [value, size]) as name:
        value = convert_to_tensor(value, name="value")
        size = convert_to_tensor(size, dtype=_dt.int32, name="size")
        shape = array_ops.shape(value)
        check = Assert(math_ops.reduce_all(shape >= size), ["Need value.shape >= size, got ", shape, size],
                       summarize=1000)
        shape = control_ops.with_dependencies([check], shape)
        limit = shape - size + 1
        offset = random_uniform(array_ops.shape(shape), dtype=size.dtype, maxval=size.dtype.max,
                                seed=seed) % limit
        return slicing_ops.slice(value, offset, size, name=name)
