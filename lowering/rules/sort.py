"""Lowerings of sort ops (graphcompat/ops/sort_ops.py)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from lowering.registry import lowers
from lowering.rules.checks import invalid, shape_str
from lowering.rules.math import static_ints


@lowers("TopKV2")
def top_k(x, k, *, index_type=np.int32, **_):
    if np.ndim(k) != 0:
        raise invalid(f"k must be 0-D, got shape {shape_str(np.shape(k))}")
    k = static_ints(k, "k")[0]
    if k < 0:
        raise invalid(f"Need k >= 0, got {k}")
    if np.ndim(x) < 1:
        raise invalid(f"input must be >= 1-D, got shape {shape_str(np.shape(x))}")
    if np.shape(x)[-1] < k:
        raise invalid(f"input must have at least k columns. Had {np.shape(x)[-1]}, needed {k}")
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.floating):
        # TF compares with `>`: -0.0 and 0.0 are equal, so they keep their index order (XLA's total order
        # puts 0.0 first). Sort on keys with every zero made +0.0, and return the elements themselves.
        _, indices = jax.lax.top_k(x + jnp.zeros((), x.dtype), k)  # ties: lower index first, as TF
        return jnp.take_along_axis(x, indices, axis=-1), indices.astype(index_type)
    values, indices = jax.lax.top_k(x, k)
    return values, indices.astype(index_type)
