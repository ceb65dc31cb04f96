"""Random op types real TF graphs contain that graphcompat's builders do not record: TF 1.x's RandomPoisson,
TF 2's stateless plumbing (StatelessRandomGetKeyCounterAlg, StatelessRandomGetAlg, StatelessShuffle,
StatelessRandomBinomial) and the stateful-RNG family tf.random.Generator writes (RngSkip, RngReadAndSkip,
StatefulUniform & co.), whose state is a resource variable holding a Philox counter (two int64) and key.

TF's REGISTER_OP signatures, attr defaults and shape functions; lowerings in lowering/rules/more_random.py
give TF's numbers bit for bit (lowering/philox.py).
"""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, defop, unchanged_shape
from graphcompat.ops.random_ops import _batched_shape, _shape_from_input
from graphcompat.ops.stateless_random_ops import _key_counter_shape

_INDEX = (_dt.int32, _dt.int64)
_SEED_ATTRS = {"seed": 0, "seed2": 0}


def _stateful_shape(ctx: InferenceContext, scalars: tuple = ()):
    """StatefulRandomShape: the output's shape is the value of the `shape` input (input 2); `scalars` are
    the inputs that must be scalars (minval, maxval)."""
    for i, name in scalars:
        s = ctx.shape(i)
        if s.ndims is not None and s.ndims != 0:
            raise ctx.error(f"{name} must be a scalar; got a tensor of shape {_shape_text(s)}")
    return [_shape_from_input(ctx, 2)]


def _shape_text(s: _ts.TensorShape) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in s.as_list()) + "]"


def _binomial_shape(ctx: InferenceContext, shape_input: int):
    return [_shape_from_input(ctx, shape_input)]


def _rng_read_and_skip_shape(ctx: InferenceContext):
    for i in (1, 2):
        if ctx.shape(i).ndims not in (None, 0):
            raise ctx.error(f"Shape must be rank 0 but is rank {ctx.shape(i).ndims}")
    return [_ts.TensorShape([3])]  # RNG_MAX_COUNTER_SIZE + RNG_KEY_SIZE


defop("RandomPoisson", "shape: S, rate: dtype -> output: dtype", attrs=dict(_SEED_ATTRS),
      types={"S": _INDEX, "dtype": (_dt.float16, _dt.float32, _dt.float64)}, shape=_batched_shape, stateful=True)
defop("StatelessRandomGetKeyCounterAlg", "seed: Tseed -> key: uint64, counter: uint64, alg: int32",
      attrs={"Tseed": _dt.int64}, types={"Tseed": _INDEX},
      shape=lambda ctx: _key_counter_shape(ctx) + [_ts.TensorShape([])])
defop("StatelessRandomGetAlg", " -> alg: int32", shape=lambda ctx: [_ts.TensorShape([])], stateful=True)
defop("StatelessShuffle", "value: T, key: uint64, counter: uint64, alg: int32 -> output: T", shape=unchanged_shape)
defop("StatelessRandomBinomial", "shape: S, seed: Tseed, counts: T, probs: T -> output: dtype",
      attrs={"Tseed": _dt.int64, "T": _dt.float64, "dtype": _dt.int64},
      types={"S": _INDEX, "Tseed": _INDEX}, shape=lambda ctx: _binomial_shape(ctx, 0))
defop("RngSkip", "resource: resource, algorithm: int64, delta: int64 -> ", shape=lambda ctx: [], stateful=True)
defop("RngReadAndSkip", "resource: resource, alg: int32, delta: uint64 -> value: int64",
      shape=_rng_read_and_skip_shape, stateful=True)
for _op, _dtype in (("StatefulStandardNormalV2", _dt.float32), ("StatefulUniform", _dt.float32),
                    ("StatefulUniformFullInt", _dt.uint64), ("StatefulTruncatedNormal", _dt.float32)):
    defop(_op, "resource: resource, algorithm: int64, shape: shape_dtype -> output: dtype",
          attrs={"dtype": _dtype, "shape_dtype": _dt.int64}, shape=_stateful_shape, stateful=True)
defop("StatefulUniformInt",
      "resource: resource, algorithm: int64, shape: shape_dtype, minval: dtype, maxval: dtype -> output: dtype",
      attrs={"dtype": _dt.int64, "shape_dtype": _dt.int64},
      shape=lambda ctx: _stateful_shape(ctx, ((3, "minval"), (4, "maxval"))), stateful=True)
defop("StatefulRandomBinomial", "resource: resource, algorithm: int64, shape: S, counts: T, probs: T -> output: dtype",
      attrs={"T": _dt.float64, "dtype": _dt.int64}, types={"S": _INDEX}, shape=lambda ctx: _binomial_shape(ctx, 2),
      stateful=True)
