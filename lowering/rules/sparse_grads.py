"""Lowerings of graphcompat/ops/sparse_grad_ops.py, with TF's kernel checks and texts
(segment_reduction_ops_impl.h, sparse_add_grad_op.cc, sparse_fill_empty_rows_op.cc, sparse_slice_grad_op.cc)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.interpreter import require
from lowering.registry import lowers

_INVALID = errors.InvalidArgumentError


def _segment_scale(kind: str, segment_ids, rows: int, dtype):
    """Each segment's weight in the forward op: 1 (sum), 1/count (mean), 1/sqrt(count) (sqrt_n)."""
    if kind == "Sum":
        return jnp.ones((rows,), dtype)
    counts = jax.ops.segment_sum(jnp.ones_like(segment_ids, dtype=dtype), segment_ids, num_segments=rows)
    counts = jnp.maximum(counts, 1)
    return 1 / counts if kind == "Mean" else jax.lax.rsqrt(counts)


def _segment_contributions(kind: str, grad, indices, segment_ids, dim0: int):
    """Checks TF's SparseSegmentGradFunctor makes, then each entry's gradient row grad[seg] * scale[seg]."""
    grad, indices, segment_ids = jnp.asarray(grad), jnp.asarray(indices), jnp.asarray(segment_ids)
    require(indices.ndim == 1, _INVALID, "indices should be a vector.")
    require(segment_ids.ndim == 1, _INVALID, "segment_ids should be a vector.")
    require(indices.shape[0] == segment_ids.shape[0], _INVALID, "segment_ids and indices should have same size.")
    rows = grad.shape[0]
    require(jnp.all((segment_ids >= 0) & (segment_ids < rows)), _INVALID, "Invalid number of segments")

    def index_message():
        idx = np.asarray(indices)
        bad = idx[(idx < 0) | (idx >= dim0)][0]
        return f"Index {int(bad)} out of range [0, {dim0})."
    require(jnp.all((indices >= 0) & (indices < dim0)), _INVALID, index_message)
    scale = _segment_scale(kind, segment_ids, rows, grad.dtype)
    picked = jnp.take(grad, segment_ids, axis=0, mode="clip")
    return picked * jnp.take(scale, segment_ids, mode="clip").reshape((-1,) + (1,) * (grad.ndim - 1))


def _segment_grad(kind: str):
    def rule(grad, indices, segment_ids, output_dim0, **_):
        dim0 = int(np.asarray(output_dim0))  # the output's row count: a static value (a plan with a
        contributions = _segment_contributions(kind, grad, indices, segment_ids, dim0)  # fed one runs op by op)
        out = jnp.zeros((dim0,) + tuple(jnp.shape(grad)[1:]), jnp.asarray(grad).dtype)
        return out.at[jnp.asarray(indices)].add(contributions, mode="drop")
    return rule


def _segment_grad_v2(kind: str):
    # The result has one row per unique index: a data-dependent size, computed on the host.
    def rule(grad, indices, segment_ids, dense_output_dim0, **_):
        dim0 = int(np.asarray(dense_output_dim0))
        contributions = np.asarray(_segment_contributions(kind, grad, indices, segment_ids, dim0))
        indices = np.asarray(indices)
        unique, inverse = np.unique(indices, return_inverse=True)
        out = np.zeros((len(unique),) + contributions.shape[1:], contributions.dtype)
        np.add.at(out, inverse.reshape(-1), contributions)
        return out, unique.astype(indices.dtype)
    return rule


for _kind in ("Sum", "Mean", "SqrtN"):
    lowers(f"SparseSegment{_kind}Grad")(_segment_grad(_kind))
    lowers(f"SparseSegment{_kind}GradV2", host=True)(_segment_grad_v2(_kind))


def _row_match(rows, table):
    """For each index row of `rows`: (position of the equal row in `table`, whether there is one)."""
    rows, table = jnp.asarray(rows), jnp.asarray(table)
    equal = jnp.all(rows[:, None, :] == table[None, :, :], axis=-1)
    return jnp.argmax(equal, axis=1), jnp.any(equal, axis=1)


@lowers("SparseAddGrad")
def sparse_add_grad(backprop_val_grad, a_indices, b_indices, sum_indices, **_):
    """TF's SparseAddGradOp: each input entry's gradient is the sum's gradient at the same index (the
    sum holds every index of a and b; entries whose sum fell under the threshold get 0)."""
    grad = jnp.asarray(backprop_val_grad)
    if isinstance(grad, jax.core.Tracer):  # TF registers the op NotDifferentiable: nothing flows back through it
        grad = jax.lax.stop_gradient(grad)
    a, b, s = jnp.asarray(a_indices), jnp.asarray(b_indices), jnp.asarray(sum_indices)
    require(a.ndim == 2 and b.ndim == 2 and s.ndim == 2, _INVALID, lambda: (
        "Input indices should be matrices but received shapes: "
        f"[{','.join(map(str, a.shape))}] and [{','.join(map(str, b.shape))}] and "
        f"[{','.join(map(str, s.shape))}]"))
    require(grad.ndim == 1, _INVALID, lambda: "Input backprop_val_grad should be a vector but received shape: "
            f"[{','.join(map(str, grad.shape))}]")
    require(a.shape[1] == b.shape[1] and b.shape[1] == s.shape[1], _INVALID, lambda: (
        f"The densified operands should have the same ndims; for A, B, sum got: {a.shape[1]}, {b.shape[1]}, "
        f"{s.shape[1]}"))
    require(grad.shape[0] == s.shape[0], _INVALID, lambda: (
        f"# elements of backprop_val_grad and sum_indices mismatch: {grad.shape[0]} vs. {s.shape[0]}"))

    def side(indices):
        where, found = _row_match(indices, s)
        return jnp.where(found, jnp.take(grad, where, mode="clip"), jnp.zeros((), grad.dtype))
    return side(a), side(b)


@lowers("SparseFillEmptyRowsGrad")
def sparse_fill_empty_rows_grad(reverse_index_map, grad_values, **_):
    """d_values[i] = grad_values[reverse_index_map[i]]; the default value collects every other entry."""
    rmap, grad = jnp.asarray(reverse_index_map), jnp.asarray(grad_values)
    require(rmap.ndim == 1, _INVALID, lambda: f"reverse_index_map must be a vector, saw: "
            f"[{','.join(map(str, rmap.shape))}]")
    require(grad.ndim == 1, _INVALID, lambda: f"grad_values must be a vector, saw: "
            f"[{','.join(map(str, grad.shape))}]")
    n = grad.shape[0]

    def message():
        r = np.asarray(rmap)
        i = int(np.flatnonzero((r < 0) | (r >= n))[0])
        return f"Elements in reverse index must be in [0, {n}) but got {int(r[i])}"
    require(jnp.all((rmap >= 0) & (rmap < n)), _INVALID, message)
    d_values = jnp.take(grad, rmap, mode="clip")
    used = jnp.zeros((n,), bool).at[rmap].set(True, mode="drop")
    d_default = jnp.sum(jnp.where(used, jnp.zeros((), grad.dtype), grad))
    return d_values, d_default


@lowers("SparseSliceGrad")
def sparse_slice_grad(backprop_val_grad, input_indices, input_start, output_indices, **_):
    """TF's SparseSliceGradOp: an input entry gets the gradient of the output entry at its index less start."""
    grad = jnp.asarray(backprop_val_grad)
    inp, start, out = jnp.asarray(input_indices), jnp.asarray(input_start), jnp.asarray(output_indices)
    require(inp.ndim == 2 and out.ndim == 2, _INVALID, lambda: (
        "input_indices and output_indices should be matrices but received shapes: "
        f"[{','.join(map(str, inp.shape))}] and [{','.join(map(str, out.shape))}]"))
    require(grad.ndim == 1, _INVALID, lambda: "backprop_val_grad should be a vector but received shape: "
            f"[{','.join(map(str, grad.shape))}]")
    require(grad.shape[0] == out.shape[0], _INVALID, lambda: (
        f"backprop_val_grad and output_indices should have the same shape but received shapes: "
        f"[{grad.shape[0]}] and [{','.join(map(str, out.shape))}]"))
    where, found = _row_match(inp - start[None, :], out)
    return jnp.where(found, jnp.take(grad, where, mode="clip"), jnp.zeros((), grad.dtype))
