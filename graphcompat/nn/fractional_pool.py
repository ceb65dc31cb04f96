"""TF1's `tf.nn.fractional_max_pool` / `tf.nn.fractional_avg_pool` (FractionalMaxPool /
FractionalAvgPool; Graham 2015): pooling over rows and columns cut into regions of k or k + 1 cells
(k = floor(ratio)) by a random pooling sequence, returned with the output.

The sequences come from graphcompat's random streams (the seed rules of RunContext.random_key), not
from TF's Philox draws: for a non-integer ratio the regions differ from TF's, and only their law is
TF's (diffs of k or k + 1, starting at 0 and ending at the input size). Integer ratios give TF's
sequences exactly (there is then only one possible sequence), and the pooling over given sequences is
TF's kernel's.
"""
from __future__ import annotations

import collections
from typing import Optional, Sequence


from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop
from graphcompat.framework.kernel_util import pooled_size

_TYPES = (_dt.float32, _dt.float64, _dt.int32, _dt.int64)


def _fractional_pool_shape(ctx: InferenceContext):
    shape = ctx.shape(0)
    if shape.ndims is not None and shape.ndims != 4:
        raise ctx.error(f"Shape must be rank 4 but is rank {shape.ndims}")
    ratios = list(ctx.attrs["pooling_ratio"])
    if len(ratios) != 4:
        raise ctx.error("pooling_ratio field must specify 4 dimensions")
    dims = shape.as_list() if shape.ndims is not None else [None] * 4
    out = []
    for size, ratio in zip(dims, ratios):
        if ratio < 1:
            raise ctx.error(f"pooling_ratio cannot be smaller than 1, got: {ratio:g}")
        out.append(None if size is None else pooled_size(size, ratio))
    # TF's shape function gives the sequences the output's length; the kernel returns one more element.
    return [_ts.TensorShape(out), _ts.TensorShape([out[1]]), _ts.TensorShape([out[2]])]


# TF's generated wrappers return namedtuples named after the op type
_RESULTS = {t: collections.namedtuple(t, ["output", "row_pooling_sequence", "col_pooling_sequence"])
            for t in ("FractionalMaxPool", "FractionalAvgPool")}
_ATTRS = {"pseudo_random": False, "overlapping": False, "deterministic": False, "seed": 0, "seed2": 0}
for _op_type in ("FractionalMaxPool", "FractionalAvgPool"):
    defop(_op_type, "value: T -> output: T, row_pooling_sequence: int64, col_pooling_sequence: int64",
          attrs=dict(_ATTRS), types={"T": _TYPES}, shape=_fractional_pool_shape)  # not stateful in TF either


def _fractional_pool(op_type: str, value, pooling_ratio: Sequence[float], pseudo_random: bool, overlapping: bool,
                     deterministic: bool, seed: int, seed2: int, name: Optional[str]):
    ratios = [float(r) for r in pooling_ratio]
    if len(ratios) < 4:
        raise ValueError(f"Attr 'pooling_ratio' of '{op_type}' Op passed list of length {len(ratios)} less than "
                         "minimum 4.")
    attrs = {"pooling_ratio": ratios, "pseudo_random": bool(pseudo_random), "overlapping": bool(overlapping),
             "deterministic": bool(deterministic), "seed": int(seed), "seed2": int(seed2)}
    return _RESULTS[op_type](*apply_op(op_type, [value], attrs, name=name))


def fractional_max_pool(value, pooling_ratio: Sequence[float], pseudo_random: bool = False, overlapping: bool = False,
                        deterministic: bool = False, seed: int = 0, seed2: int = 0, name: Optional[str] = None):
    """`tf.nn.fractional_max_pool` (TF1): (output, row_pooling_sequence, col_pooling_sequence)."""
    return _fractional_pool("FractionalMaxPool", value, pooling_ratio, pseudo_random, overlapping, deterministic,
                            seed, seed2, name)


def fractional_avg_pool(value, pooling_ratio: Sequence[float], pseudo_random: bool = False, overlapping: bool = False,
                        deterministic: bool = False, seed: int = 0, seed2: int = 0, name: Optional[str] = None):
    """`tf.nn.fractional_avg_pool` (TF1): (output, row_pooling_sequence, col_pooling_sequence)."""
    return _fractional_pool("FractionalAvgPool", value, pooling_ratio, pseudo_random, overlapping, deterministic,
                            seed, seed2, name)


__all__ = ["fractional_max_pool", "fractional_avg_pool"]
