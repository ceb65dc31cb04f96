"""FractionalMaxPool / FractionalAvgPool (graphcompat/nn/fractional_pool.py): a random pooling sequence per
spatial axis, then max or mean over each row region x column region, as TF's CPU kernels."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import errors
from graphcompat.framework.kernel_util import pooled_size
from lowering.registry import lowers
from lowering.rules.checks import invalid


def pooling_sequence(key, input_size: int, output_size: int, pseudo_random: bool) -> jax.Array:
    """TF's GeneratePoolingSequence law: output_size regions of k or k + 1 cells (k = in // out) as the
    int64 cumulative sequence [0, ..., input_size]; the draws are JAX's, not TF's Philox."""
    k = input_size // output_size
    if pseudo_random:
        # a_i = ceil(alpha (i + u)) with u bounded so that the first and last gaps stay k or k + 1
        alpha = input_size / output_size
        max_u = min((k + 2) / alpha - 1, (input_size + 1 - k) / alpha - (output_size - 1))
        u = jax.random.uniform(key, (), jnp.float64) * max_u
        inner = jnp.ceil(alpha * (jnp.arange(1, output_size, dtype=jnp.float64) + u)).astype(jnp.int64)
        return jnp.concatenate([jnp.array([1], jnp.int64), inner, jnp.array([input_size + 1], jnp.int64)]) - 1
    diff = jnp.full((output_size,), k, jnp.int64).at[:input_size % output_size].add(1)
    diff = jax.random.permutation(key, diff)
    return jnp.concatenate([jnp.zeros((1,), jnp.int64), jnp.cumsum(diff)])


def _regions(seq, size: int, overlapping: bool):
    """[regions, size] membership: region i spans seq[i] .. seq[i + 1] - 1 (.. seq[i + 1] when
    overlapping), cut at the last cell."""
    end = seq[1:] if overlapping else seq[1:] - 1
    end = jnp.minimum(end, size - 1)
    cells = jnp.arange(size, dtype=seq.dtype)
    return (cells[None, :] >= seq[:-1, None]) & (cells[None, :] <= end[:, None])


def _windows(seq, size: int, overlapping: bool):
    """Each region as a window of cell indices [regions, length] (clipped) and which of them it holds. The
    length is static: the longest region when the sequence is concrete, else the law's bound (k or k + 1
    cells, k = size // regions, one more when overlapping)."""
    count = seq.shape[0] - 1
    end = jnp.minimum(seq[1:] if overlapping else seq[1:] - 1, size - 1)
    if isinstance(seq, jax.core.Tracer):
        length = min(size, size // count + 2)
    else:
        length = max(int(np.max(np.asarray(end) - np.asarray(seq[:-1]))) + 1, 1)
    cells = seq[:-1, None] + jnp.arange(length, dtype=seq.dtype)[None, :]
    return jnp.clip(cells, 0, size - 1), cells <= end[:, None]


def _first_max_gradient(value, row_seq, col_seq, overlapping: bool, dy):
    """FractionalMaxPoolGrad's routing: each region's gradient goes to its first maximum in row-major order
    (where values tie, as after a ReLU, TF picks one cell; jax's max would share it)."""
    batch, height, width, channels = value.shape
    rows, row_ok = _windows(row_seq, height, overlapping)
    cols, col_ok = _windows(col_seq, width, overlapping)
    patch = value[:, rows[:, :, None, None], cols[None, None, :, :], :]  # [b, ro, lr, co, lc, c]
    ok = (row_ok[:, :, None, None] & col_ok[None, None, :, :])[None, ..., None]
    low = jnp.asarray(-jnp.inf, value.dtype)
    patch = jnp.where(ok, patch, low).transpose(0, 1, 3, 2, 4, 5)  # [b, ro, co, lr, lc, c]
    lr, lc = rows.shape[1], cols.shape[1]
    first = jnp.argmax(patch.reshape(patch.shape[:3] + (lr * lc, channels)), axis=3)  # [b, ro, co, c]
    h = jnp.take_along_axis(rows[None, :, None, None, :], (first // lc)[..., None], axis=-1)[..., 0]
    w = jnp.take_along_axis(cols[None, None, :, None, :], (first % lc)[..., None], axis=-1)[..., 0]
    b = jnp.arange(batch)[:, None, None, None]
    c = jnp.arange(channels)[None, None, None, :]
    return jnp.zeros_like(value).at[b, h, w, c].add(dy)


def fractional_pool(value, row_seq, col_seq, overlapping: bool, kind: str):
    """Max or mean of `value` [batch, rows, cols, channels] over the regions the sequences cut."""
    value = jnp.asarray(value)
    if kind == "max" and jnp.issubdtype(value.dtype, jnp.floating):
        # TF's gradient (FractionalMaxPoolGrad) routes each region's gradient to one cell
        @jax.custom_vjp
        def pool(v, rs, cs):
            return _pool(v, rs, cs, overlapping, kind)

        def backward(saved, dy):
            v, rs, cs = saved
            return _first_max_gradient(v, rs, cs, overlapping, dy), None, None
        pool.defvjp(lambda v, rs, cs: (pool(v, rs, cs), (v, rs, cs)), backward)
        return pool(value, row_seq, col_seq)
    return _pool(value, row_seq, col_seq, overlapping, kind)


def _pool(value, row_seq, col_seq, overlapping: bool, kind: str):
    rows = _regions(row_seq, value.shape[1], overlapping)
    cols = _regions(col_seq, value.shape[2], overlapping)
    if kind == "max":
        # separable: max over each row region, then over each column region
        low = jnp.finfo(value.dtype).min if jnp.issubdtype(value.dtype, jnp.floating) else jnp.iinfo(value.dtype).min
        by_row = jnp.max(jnp.where(rows[None, :, :, None, None], value[:, None], low), axis=2)
        return jnp.max(jnp.where(cols[None, None, :, :, None], by_row[:, :, None], low), axis=3)
    sums = jnp.einsum("ih,bhwc,jw->bijc", rows.astype(value.dtype), value, cols.astype(value.dtype))
    counts = (rows.sum(1)[:, None] * cols.sum(1)[None, :]).astype(value.dtype)[None, :, :, None]
    if jnp.issubdtype(value.dtype, jnp.integer):
        return lax.div(sums, jnp.broadcast_to(counts, sums.shape))  # Eigen's integer division truncates
    return sums / counts


def _rule(kind: str):
    def rule(ctx, op, value):
        attrs = op.attrs
        ratios = list(attrs["pooling_ratio"])
        if len(ratios) != 4:
            raise invalid("pooling_ratio field must specify 4 dimensions")
        if ratios[0] != 1 and ratios[3] != 1:
            raise errors.UnimplementedError(None, op, f"Fractional {'max' if kind == 'max' else 'average'} "
                                            "pooling is not yet supported on the batch nor channel dimension.")
        if np.ndim(value) != 4:
            raise invalid("tensor_in must be 4-dimensional")
        deterministic = bool(attrs["deterministic"])
        if not deterministic and (attrs["seed"] or attrs["seed2"]):
            raise invalid("Both seed and seed2 should be 0 if deterministic is false.")
        shape = np.shape(value)
        out = [pooled_size(n, r) for n, r in zip(shape, ratios)]
        for i in (1, 2):
            if out[i] <= 0:
                raise invalid(f"{op.type} of dimension {i} with input size {shape[i]} and pooling ratio "
                              f"{ratios[i]:g} has no output")
        # deterministic: one draw kept for every run, as TF's kernel keeps its first draw; else a draw per
        # run, the same for the gradient's re-trace of this run
        key = ctx.random_key(op, first=deterministic, per_run=not deterministic)
        row_key, col_key = jax.random.split(key)
        row_seq = pooling_sequence(row_key, shape[1], out[1], bool(attrs["pseudo_random"]))
        col_seq = pooling_sequence(col_key, shape[2], out[2], bool(attrs["pseudo_random"]))
        return fractional_pool(value, row_seq, col_seq, bool(attrs["overlapping"]), kind), row_seq, col_seq
    return rule


lowers("FractionalMaxPool", context=True)(_rule("max"))
lowers("FractionalAvgPool", context=True)(_rule("avg"))
