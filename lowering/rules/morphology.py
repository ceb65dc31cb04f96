"""Lowering of Dilation2D (graphcompat/nn/morphology.py): the max over the (dilated) window of input + filter,
one strided slice per filter tap; the gradient is jax.vjp of this rule like every op's."""
from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import errors
from lowering.registry import lowers


def _out_and_pad(size: int, k: int, s: int, rate: int, padding: str) -> tuple:
    k_eff = k + (k - 1) * (rate - 1)
    if padding == "VALID":
        return max(0, math.ceil((size - k_eff + 1) / s)), 0, 0
    out = math.ceil(size / s)
    total = max((out - 1) * s + k_eff - size, 0)
    return out, total // 2, total - total // 2


@lowers("Dilation2D")
def dilation2d(x, f, *, strides, rates, padding, **_):
    x, f = jnp.asarray(x), jnp.asarray(f)
    if x.ndim != 4 or f.ndim != 3:
        raise errors.InvalidArgumentError(None, None, "input must be 4-dimensional and filter 3-dimensional")
    if x.shape[3] != f.shape[2]:
        raise errors.InvalidArgumentError(None, None, f"input and filter must have the same depth: {x.shape[3]} vs "
                                          f"{f.shape[2]}")
    (_, sh, sw, _), (_, rh, rw, _) = strides, rates
    out_h, top, bottom = _out_and_pad(x.shape[1], f.shape[0], sh, rh, padding)
    out_w, left, right = _out_and_pad(x.shape[2], f.shape[1], sw, rw, padding)
    dtype = x.dtype
    low = jnp.asarray(-np.inf if jnp.issubdtype(dtype, jnp.floating) else np.iinfo(dtype).min, dtype)
    xp = jnp.pad(x, [(0, 0), (top, bottom), (left, right), (0, 0)], constant_values=low)
    result = jnp.full((x.shape[0], out_h, out_w, x.shape[3]), low, dtype)
    for dy in range(f.shape[0]):
        for dx in range(f.shape[1]):
            y0, x0 = dy * rh, dx * rw
            window = lax.slice(xp, (0, y0, x0, 0),
                               (xp.shape[0], y0 + (out_h - 1) * sh + 1, x0 + (out_w - 1) * sw + 1, xp.shape[3]),
                               (1, sh, sw, 1)) if out_h and out_w else result
            result = jnp.maximum(result, window + f[dy, dx])
    return result
