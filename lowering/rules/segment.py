"""Lowerings of graphcompat/ops/segment_ops.py: segment reductions, scatter_nd on variables, bounds,
unique_with_counts, setdiff1d, bincount.

Sorted segment ops (SegmentSum, SparseSegmentSum …) have as many output rows as the last segment id
plus one: a value known only at run time, so they read their ids concretely (under `jax.jit` that is
a `NeedsConcreteValues`, and the plan runs op by op, as TF's executor would). With `num_segments`
given, the output shape is static and the rule compiles; its checks are run-time `require`s. Messages
reproduce TF's kernels (segment_reduction_ops_impl.h, scatter_nd_op.cc, bincount_op.cc), including
which error a walk over the segments meets first.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.interpreter import Ref, require
from lowering.rules.checks import slice_debug
from lowering.registry import lowers

_INVALID = errors.InvalidArgumentError


# ------------------------------------------------------------------------------------------------
# Segment reductions
# ------------------------------------------------------------------------------------------------
def _first_segment_error(ids: np.ndarray, output_rows: int, indices=None, num_rows: int = 0):
    """The error TF's kernel meets first walking the runs of equal ids in order, or None.

    For each run: its id must be below the next run's id ("not increasing"), inside [0, output_rows),
    and (sparse variants) every index of the run inside [0, num_rows).
    """
    if ids.size == 0:
        return None
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    run_ids = ids[starts]
    ends = np.r_[starts[1:], ids.size]
    for k, (start, end, out_index) in enumerate(zip(starts, ends, run_ids)):
        if k + 1 < len(run_ids) and out_index > run_ids[k + 1]:
            return "segment ids are not increasing"
        if not 0 <= out_index < output_rows:
            return (f"Segment id {int(out_index)} out of range [0, {output_rows}), possibly because "
                    f"'segment_ids' input is not sorted.")
        if indices is not None:
            run = indices[start:end]
            bad = np.flatnonzero((run < 0) | (run >= num_rows))
            if bad.size:
                i = int(start + bad[0])
                return f"Bad: indices[{i}] == {int(indices[i])} out of range [0, {num_rows})"
    return None


def _concrete_ids(segment_ids) -> np.ndarray:
    # A tracer here raises a JAX concretization error: the plan then runs op by op.
    return np.asarray(segment_ids).reshape(-1)


def _segment_reduce(kind: str, rows, ids, num_segments: int, dtype):
    """jax.ops segment reduction of `rows` by `ids` into `num_segments` rows, empty segments as TF's
    sorted kernels fill them (0, or 1 for prod); mean/sqrt_n divide by the segment size."""
    rows = jnp.asarray(rows)
    if kind == "prod":
        return segment_prod(rows, jnp.asarray(ids), num_segments).astype(dtype)
    count = jax.ops.segment_sum(jnp.ones(rows.shape[:1], dtype), ids, num_segments=num_segments)
    count = count.reshape(count.shape + (1,) * (rows.ndim - 1))
    if kind in ("max", "min"):
        out = getattr(jax.ops, f"segment_{kind}")(rows, ids, num_segments=num_segments)
        return jnp.where(count > 0, out, jnp.zeros((), dtype)).astype(dtype)
    total = jax.ops.segment_sum(rows, ids, num_segments=num_segments).astype(dtype)
    if kind == "sum":
        return total
    divisor = jnp.sqrt(count) if kind == "sqrt_n" else count
    safe = jnp.where(count > 0, divisor, jnp.ones((), dtype))
    if jnp.issubdtype(dtype, jnp.integer):
        return jax.lax.div(total, safe.astype(dtype))  # C++ integer division truncates toward zero
    return jnp.where(count > 0, total / safe, jnp.zeros((), dtype)).astype(dtype)


def segment_prod(rows, ids, num_segments: int):
    """Per-segment products of `rows` (ids equal to `num_segments` are dropped), with TF's gradient for
    floating types (_SegmentProdGrad / _UnsortedSegmentProdGrad; jax has no gradient for a scatter-multiply
    with repeated indices)."""
    if not jnp.issubdtype(rows.dtype, jnp.inexact):
        return jax.ops.segment_prod(rows, ids, num_segments=num_segments + 1)[:num_segments]
    return _segment_prod_tf(rows, ids, num_segments)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _segment_prod_tf(rows, ids, num_segments: int):
    return jax.ops.segment_prod(rows, ids, num_segments=num_segments + 1)[:num_segments]


def _segment_prod_forward(rows, ids, num_segments):
    out = _segment_prod_tf(rows, ids, num_segments)
    return out, (rows, ids, out)


def _segment_prod_backward(num_segments, residuals, grad):
    # TF's gradient: a segment without zeros gives prod / x; with exactly one zero, the zero gets the
    # product of the others and the rest 0; with two or more zeros, every element 0
    rows, ids, out = residuals
    n = num_segments
    is_zero = rows == 0
    zeros = jax.ops.segment_sum(is_zero.astype(jnp.int32), ids, num_segments=n + 1)[:n]
    grad = jnp.where(zeros > 1, jnp.zeros((), grad.dtype), grad)
    non_zero = jnp.where(is_zero, jnp.ones((), rows.dtype), rows)
    non_zero_prod = jax.ops.segment_prod(non_zero, ids, num_segments=n + 1)[:n]
    valid = (ids < n).reshape((-1,) + (1,) * (rows.ndim - 1))
    at = jnp.where(ids < n, ids, 0)
    partial = jnp.where(is_zero, non_zero_prod[at], out[at] / non_zero)
    return jnp.where(valid, grad[at] * partial, jnp.zeros((), grad.dtype)), None


_segment_prod_tf.defvjp(_segment_prod_forward, _segment_prod_backward)


def _sorted_segment_rule(kind: str):
    def rule(data, segment_ids, **_):
        ids = _concrete_ids(segment_ids)
        require(ids.size == np.shape(data)[0], _INVALID,
                "segment_ids should be the same size as dimension 0 of input.")
        output_rows = int(ids[-1]) + 1 if ids.size else 0
        require(output_rows >= 0, _INVALID, "segment ids must be >= 0")
        error = _first_segment_error(ids, output_rows)
        require(error is None, _INVALID, lambda: error)
        return _segment_reduce(kind, data, ids, output_rows, jnp.result_type(data))
    return rule


for _op_type, _kind in (("SegmentSum", "sum"), ("SegmentMean", "mean"), ("SegmentMax", "max"),
                        ("SegmentMin", "min"), ("SegmentProd", "prod")):
    lowers(_op_type)(_sorted_segment_rule(_kind))


def _sparse_segment_message(ids, indices, output_rows: int, num_rows: int, has_num_segments: bool):
    """TF's SparseSegmentReductionOpBase checks, in its order, on concrete values."""
    ids, indices = np.asarray(ids).reshape(-1), np.asarray(indices).reshape(-1)
    if ids.size != indices.size:
        return "segment_ids and indices should have same size."
    last_plus_one = int(ids[-1]) + 1 if ids.size else 0
    if has_num_segments:
        if output_rows < last_plus_one:
            return "segment ids must be < num_segments"
    else:
        output_rows = last_plus_one
    if output_rows < 0 or (ids.size and output_rows == 0):
        return "segment ids must be >= 0"
    return _first_segment_error(ids, output_rows, indices, num_rows)


def _sparse_segment_rule(kind: str, has_num_segments: bool):
    def rule(data, indices, segment_ids, num_segments=None, **_):
        num_rows = np.shape(data)[0]
        if has_num_segments:
            require(np.ndim(num_segments) == 0, _INVALID,
                    lambda: f"num_segments should be a scalar, not shape {list(np.shape(num_segments))}")
            output_rows = int(np.asarray(num_segments))  # static (a constant) or the plan runs op by op
            require(output_rows >= 0, _INVALID, "segment ids must be >= 0")
            ids, idx = jnp.asarray(segment_ids).reshape(-1), jnp.asarray(indices).reshape(-1)
            require(ids.shape == idx.shape, _INVALID, "segment_ids and indices should have same size.")
            if ids.size:
                ok = jnp.all(ids[1:] >= ids[:-1]) & (ids[0] >= 0) & (ids[-1] < output_rows)
                ok = ok & jnp.all((idx >= 0) & (idx < num_rows))
                require(ok, _INVALID, lambda: _sparse_segment_message(segment_ids, indices, output_rows,
                                                                       num_rows, True))
        else:
            ids, idx = _concrete_ids(segment_ids), np.asarray(indices).reshape(-1)
            error = _sparse_segment_message(ids, idx, 0, num_rows, False)
            require(error is None, _INVALID, lambda: error)
            output_rows = int(ids[-1]) + 1 if ids.size else 0
        dtype = jnp.result_type(data)
        rows = jnp.take(jnp.asarray(data), idx, axis=0, mode="clip")  # bad indices were refused above
        return _segment_reduce(kind, rows, ids, output_rows, dtype)
    return rule


for _op_type, _kind in (("SparseSegmentSum", "sum"), ("SparseSegmentMean", "mean"),
                        ("SparseSegmentSqrtN", "sqrt_n")):
    lowers(_op_type)(_sparse_segment_rule(_kind, False))
    lowers(_op_type + "WithNumSegments")(_sparse_segment_rule(_kind, True))


# ------------------------------------------------------------------------------------------------
# scatter_nd on variables
# ------------------------------------------------------------------------------------------------
def _scatter_nd_message(indices, shape) -> str:
    idx = np.asarray(indices)
    depth = idx.shape[-1]
    flat = idx.reshape(-1, depth)
    bad = np.flatnonzero(np.any((flat < 0) | (flat >= np.asarray(shape[:depth])), axis=1))
    i = int(bad[0])
    # TF names the index by its position in the indices' batch dimensions (SliceDebugString): `[2,0]`
    position = slice_debug(idx.shape[:-1], np.unravel_index(i, idx.shape[:-1])) if idx.ndim > 1 else "[0]"
    return (f"indices{position} = [{', '.join(str(int(v)) for v in flat[i])}] does not index into shape "
            f"[{','.join(str(d) for d in shape)}]")


def _scatter_nd_rule(update):
    def rule(ctx, op, ref, indices, updates):
        var = ctx.read(ref.key, ref.op)
        indices = jnp.asarray(ctx.deref(indices) if isinstance(indices, Ref) else indices)
        updates = jnp.asarray(ctx.deref(updates) if isinstance(updates, Ref) else updates, dtype=var.dtype)
        depth = indices.shape[-1]
        limits = jnp.asarray(var.shape[:depth], indices.dtype)
        concrete = indices
        ctx.check(jnp.all((indices >= 0) & (indices < limits)), _INVALID,
                  lambda: _scatter_nd_message(concrete, var.shape), op)
        ok = ctx.all_ok()
        if ok is not None:  # a failed check anywhere in the run: every index out of range, all dropped
            indices = jnp.where(ok, indices, limits)
        new = update(var.at[tuple(jnp.moveaxis(indices, -1, 0))], updates)
        ctx.write(ref.key, new, gated=ok is not None)
        return new
    return rule


for _op_type, _update in {"ScatterNdUpdate": lambda at, u: at.set(u, mode="drop"),
                          "ScatterNdAdd": lambda at, u: at.add(u, mode="drop"),
                          "ScatterNdSub": lambda at, u: at.add(-u, mode="drop"),
                          "ScatterNdMax": lambda at, u: at.max(u, mode="drop"),
                          "ScatterNdMin": lambda at, u: at.min(u, mode="drop")}.items():
    lowers(_op_type, context=True)(_scatter_nd_rule(_update))


# ------------------------------------------------------------------------------------------------
# searchsorted, unique_with_counts, setdiff1d, bincount
# ------------------------------------------------------------------------------------------------
def _bound_rule(side: str):
    def rule(sorted_inputs, values, *, out_type=np.int32, **_):
        require(np.shape(sorted_inputs)[0] == np.shape(values)[0], _INVALID,
                "Leading dim_size of both tensors must match.")
        search = jax.vmap(lambda row, v: jnp.searchsorted(row, v, side=side))
        return search(jnp.asarray(sorted_inputs), jnp.asarray(values)).astype(out_type)
    return rule


lowers("LowerBound")(_bound_rule("left"))
lowers("UpperBound")(_bound_rule("right"))


def unique_first_occurrence(x: np.ndarray):
    """TF's hash-map Unique: (first index of each unique value, in first-occurrence order; each element's
    position among them; counts). Values are equal as `==` says: -0.0 is 0.0 (the first one is kept) and
    every NaN is a value of its own."""
    x = np.asarray(x).reshape(-1)
    group = np.arange(x.size)  # for each element, the index where its value first occurs
    if x.dtype.kind in "fc":
        keyed = np.flatnonzero(~np.isnan(x))
        keys = x[keyed] + x.dtype.type(0)  # -0.0 + 0.0 is 0.0
    else:
        keyed, keys = group, x
    if keyed.size:
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        group[keyed] = keyed[first][inverse.reshape(-1)]
    firsts, position, counts = np.unique(group, return_inverse=True, return_counts=True)
    return firsts, position.reshape(-1), counts


@lowers("UniqueWithCounts", host=True)
def unique_with_counts(x, *, out_idx=np.int32, **_):
    x = np.asarray(x)
    firsts, position, counts = unique_first_occurrence(x)
    return x[firsts], position.astype(out_idx), counts.astype(out_idx)


@lowers("ListDiff", host=True)
def list_diff(x, y, *, out_idx=np.int32, **_):
    x, y = np.asarray(x), np.asarray(y)
    keep = np.flatnonzero(~np.isin(x, y))
    return x[keep], keep.astype(out_idx)


@lowers("SparseBincount")
def sparse_bincount(indices, values, dense_shape, size, weights, *, binary_output=False, **_):
    """TF's SparseBincountOp: a rank-1 SparseTensor's values counted into [size]; rank 2: per row
    (indices[:, 0]) into [rows, size]. Weights are per value, or empty."""
    shape = np.asarray(dense_shape)  # the output's row count: static, or the plan runs op by op
    n = int(np.asarray(size))
    require(n >= 0, _INVALID, lambda: f"size ({n}) must be non-negative")
    values, weights, indices = jnp.asarray(values), jnp.asarray(weights), jnp.asarray(indices)
    has_weights = weights.size > 0
    if has_weights:
        require(weights.shape == values.shape, _INVALID, "Input indices and weights must have the same size.")
    require(jnp.all(values >= 0), _INVALID, "Input arr must be non-negative!")
    dtype = weights.dtype
    counts = weights if has_weights and not binary_output else jnp.ones(values.shape, dtype)
    ids = jnp.where(values < n, values, n)  # values >= size are ignored
    if shape.shape[0] == 1:
        out = jax.ops.segment_sum(counts, ids, num_segments=n + 1)[:n]
    else:
        rows = int(shape[0])
        flat = jnp.asarray(indices[:, 0], ids.dtype) * (n + 1) + ids
        out = jax.ops.segment_sum(counts, flat, num_segments=rows * (n + 1)).reshape(rows, n + 1)[:, :n]
    if binary_output:
        out = (out > 0).astype(dtype)
    return out.astype(dtype)


@lowers("DenseBincount")
def dense_bincount(arr, size, weights, *, binary_output=False, **_):
    n = int(np.asarray(size))  # the output length: static, or the plan runs op by op
    require(n >= 0, _INVALID, lambda: f"size ({n}) must be non-negative")
    arr = jnp.asarray(arr)
    weights = jnp.asarray(weights)
    dtype = weights.dtype
    has_weights = weights.size > 0
    if has_weights:
        require(weights.shape == arr.shape, _INVALID,
                lambda: f"Input arr and weights must have the same shape (or weights must be empty). "
                        f"arr shape: [{','.join(map(str, arr.shape))}], weights shape: "
                        f"[{','.join(map(str, weights.shape))}]")
    require(jnp.all(arr >= 0), _INVALID, "Input arr must be non-negative!")
    values = weights if has_weights and not binary_output else jnp.ones(arr.shape, dtype)
    ids = jnp.where(arr < n, arr, n)  # values >= size are ignored, as TF's kernel does
    if arr.ndim == 2:
        out = jax.vmap(lambda i, v: jax.ops.segment_sum(v, i, num_segments=n + 1)[:n])(ids, values)
    else:
        out = jax.ops.segment_sum(values.reshape(-1), ids.reshape(-1), num_segments=n + 1)[:n]
    if binary_output:
        out = (out > 0).astype(dtype)
    return out.astype(dtype)
