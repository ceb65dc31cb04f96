"""Lowerings of graphcompat/ops/extra_ops.py: GuaranteeConst, EditDistance (host), ApproxTopK."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import errors
from lowering.registry import lowers


@lowers("GuaranteeConst")
def guarantee_const(x, **_):
    return x


def _levenshtein(a: list, b: list) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


def _sequences(indices, values, shape) -> dict:
    out = {}
    for row, v in zip(np.asarray(indices), np.asarray(values, dtype=object) if np.asarray(values).dtype == object
                      else np.asarray(values)):
        out.setdefault(tuple(int(i) for i in row[:-1]), []).append(v.item() if isinstance(v, np.generic) else v)
    return out


@lowers("EditDistance", host=True)
def edit_distance(h_idx, h_val, h_shape, t_idx, t_val, t_shape, *, normalize=True, **_):
    h_shape, t_shape = np.asarray(h_shape), np.asarray(t_shape)
    if h_shape.shape != t_shape.shape:
        raise errors.InvalidArgumentError(None, None, "hypothesis_shape and truth_shape must have the same rank: "
                                          f"{h_shape.shape[0]} vs. {t_shape.shape[0]}")
    out_shape = tuple(int(max(a, b)) for a, b in zip(h_shape[:-1], t_shape[:-1]))
    hyp, truth = _sequences(h_idx, h_val, h_shape), _sequences(t_idx, t_val, t_shape)
    out = np.zeros(out_shape, np.float32)
    for idx in np.ndindex(*out_shape):
        a, b = hyp.get(idx, []), truth.get(idx, [])
        d = float(_levenshtein(a, b))
        if normalize:
            d = d / len(b) if b else (np.inf if a else np.nan)   # TF: x/0 is inf, 0/0 is nan
        out[idx] = d
    return out


@lowers("ApproxTopK")
def approx_top_k(x, *, k, reduction_dimension=-1, is_max_k=True, **_):
    x = jnp.asarray(x)
    axis = reduction_dimension % x.ndim
    if k > x.shape[axis]:
        raise errors.InvalidArgumentError(None, None, f"k ({k}) must be <= the size of the reduction dimension "
                                          f"({x.shape[axis]})")
    moved = jnp.moveaxis(x, axis, -1)
    vals, idx = lax.top_k(moved if is_max_k else -moved, k)
    vals = vals if is_max_k else -vals
    return jnp.moveaxis(vals, -1, axis), jnp.moveaxis(idx.astype(jnp.int32), -1, axis)
