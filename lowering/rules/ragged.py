"""Host lowerings of graphcompat/ops/ragged_ops.py (TF's ragged_range_op.cc, ragged_tensor_to_tensor_op.cc
and ragged_tensor_to_sparse_kernel.cc semantics). Their output sizes depend on values: numpy on the host.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.registry import lowers


@lowers("RaggedRange", context=True, host=True)
def ragged_range(ctx, op, starts, limits, deltas):
    starts, limits, deltas = (np.asarray(x) for x in (starts, limits, deltas))
    sizes = {x.shape[0] for x in (starts, limits, deltas) if x.ndim == 1}
    if len(sizes) > 1:
        ctx.check(False, errors.InvalidArgumentError, "starts, limits, and deltas must have the same shape", op)
    n = sizes.pop() if sizes else 1
    starts, limits, deltas = (np.broadcast_to(x.reshape(-1), (n,)) for x in (starts, limits, deltas))
    if np.any(deltas == 0):
        ctx.check(False, errors.InvalidArgumentError, "Requires delta != 0", op)
    integral = np.issubdtype(starts.dtype, np.integer)
    lengths = []
    for start, limit, delta in zip(starts.tolist(), limits.tolist(), deltas.tolist()):
        # TF's row size: the number of steps of `delta` from start that stay short of limit (0 if none)
        if (delta > 0 and limit < start) or (delta < 0 and limit > start):
            lengths.append(0)
        elif integral:
            lengths.append((abs(limit - start) + abs(delta) - 1) // abs(delta))
        else:
            lengths.append(int(np.ceil(abs((limit - start) / delta))))
    splits = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(op.attrs["Tsplits"].as_numpy_dtype)
    dtype = starts.dtype
    values = [start + np.arange(size, dtype=dtype) * dtype.type(delta) if size else np.zeros(0, dtype)
              for start, delta, size in zip(starts, deltas, lengths)]
    values = np.concatenate(values).astype(dtype) if values else np.zeros(0, dtype)
    return splits, values


def _check_splits(ctx, op, splits, nvals: int, final_text: str) -> None:
    """TF's validation of one level of row splits (the texts of ragged_tensor_to_sparse_kernel.cc)."""
    if splits.size == 0:
        ctx.check(False, errors.InvalidArgumentError, "ragged splits may not be empty.", op)
    if splits[0] != 0:
        ctx.check(False, errors.InvalidArgumentError, "First value of ragged splits must be 0.", op)
    steps = np.flatnonzero(np.diff(splits) < 0)
    if steps.size:
        i = int(steps[0])
        ctx.check(False, errors.InvalidArgumentError, f"Ragged splits should be non decreasing, but we got "
                  f"{int(splits[i])} followed by {int(splits[i + 1])}", op)
    if final_text and splits[-1] != nvals:
        ctx.check(False, errors.InvalidArgumentError, final_text, op)


def _element_index(nested_splits: list, nvals: int) -> tuple:
    """For every flat value, its index in the ragged dimensions ([row, col_1, ..., col_R] columns), and
    whether a row holds it at all (values past a level's last split belong to no row)."""
    position = np.arange(nvals, dtype=np.int64)
    held = np.ones(nvals, bool)
    columns = []
    for splits in reversed(nested_splits):
        held &= position < splits[-1]
        row = np.clip(np.searchsorted(splits, position, side="right") - 1, 0, splits.size - 1)
        columns.append(position - splits[row])
        position = row
    return [position] + columns[::-1], held


def _max_lengths(nested_splits: list) -> list:
    return [int(np.diff(s).max()) if s.size > 1 else 0 for s in nested_splits]


@lowers("RaggedTensorToSparse", context=True, host=True)
def ragged_tensor_to_sparse(ctx, op, *args):
    nested = [np.asarray(s, np.int64) for s in args[:-1]]
    values = args[-1] if isinstance(args[-1], jax.core.Tracer) else np.asarray(args[-1])  # traced under a vjp
    for k, splits in enumerate(nested):
        nvals = nested[k + 1].size - 1 if k + 1 < len(nested) else values.shape[0]
        _check_splits(ctx, op, splits, nvals,
                      "Final value of ragged splits must match the length the corresponding ragged values.")
    ragged, _ = _element_index(nested, values.shape[0])
    inner = values.shape[1:]
    dense_shape = np.array([nested[0].size - 1] + _max_lengths(nested) + list(inner), np.int64)
    if inner:  # one sparse entry per scalar of each value, in row-major order
        inner_index = np.indices(inner).reshape(len(inner), -1).T
        k = inner_index.shape[0]
        ragged_part = np.repeat(np.stack(ragged, axis=1), k, axis=0)
        indices = np.concatenate([ragged_part, np.tile(inner_index, (values.shape[0], 1))], axis=1)
    else:
        indices = np.stack(ragged, axis=1) if ragged else np.zeros((0, 1), np.int64)
    return indices.astype(np.int64).reshape(-1, dense_shape.size), values.reshape(-1), dense_shape


def _partitions_as_splits(ctx, op, types: list, partitions: list, nvals: int) -> list:
    """Row splits for each ragged dimension, from TF's ROW_SPLITS or FIRST_DIM_SIZE + VALUE_ROWIDS."""
    if types and types[0] == "FIRST_DIM_SIZE":
        nrows = int(np.asarray(partitions[0]))
        nested = []
        for k, rowids in enumerate(partitions[1:]):
            rowids = np.asarray(rowids, np.int64)
            if rowids.size and (rowids.min() < 0 or rowids.max() >= nrows or np.any(np.diff(rowids) < 0)):
                ctx.check(False, errors.InvalidArgumentError, "Invalid value_rowids", op)
            nested.append(np.concatenate([[0], np.cumsum(np.bincount(rowids, minlength=nrows))]).astype(np.int64))
            nrows = rowids.size
        return nested
    if any(t != "ROW_SPLITS" for t in types):
        raise NotImplementedError(f"RaggedTensorToTensor with row_partition_types={types}: graphcompat supports "
                                  f"ROW_SPLITS and FIRST_DIM_SIZE + VALUE_ROWIDS")
    nested = [np.asarray(s, np.int64) for s in partitions]
    for k, splits in enumerate(nested):
        nvals_k = nested[k + 1].size - 1 if k + 1 < len(nested) else nvals
        if splits.size == 0 or splits[0] != 0 or np.any(np.diff(splits) < 0) or splits[-1] > nvals_k:
            ctx.check(False, errors.InvalidArgumentError, "Invalid row split size.", op)
    return nested


@lowers("RaggedTensorToTensor", context=True, host=True)
def ragged_tensor_to_tensor(ctx, op, shape, values, default_value, *partitions):
    # The layout comes from the partitions and the shape, which are concrete; the values and the default
    # may be traced (jax.vjp of a gradient through to_tensor), so they are moved with jnp when they are.
    types = [t.decode() if isinstance(t, bytes) else t for t in op.attrs["row_partition_types"]]
    traced = isinstance(values, jax.core.Tracer) or isinstance(default_value, jax.core.Tracer)
    xp = jnp if traced else np
    values = xp.asarray(values)
    default_value = xp.asarray(default_value, dtype=values.dtype)
    nvals = values.shape[0]
    nested = _partitions_as_splits(ctx, op, types, list(partitions), nvals)
    natural = [nested[0].size - 1] + _max_lengths(nested) + list(values.shape[1:])
    shape = np.asarray(shape).reshape(-1)
    if shape.size == 1 and shape[0] == -1 and len(natural) != 1:  # a scalar -1: unknown rank
        shape = np.full(len(natural), -1)
    out_shape = [n if int(s) < 0 else int(s) for s, n in zip(shape.tolist(), natural)]
    ragged_rank = len(nested)
    if tuple(out_shape[ragged_rank + 1:]) != tuple(values.shape[1:]):
        ctx.check(False, errors.InvalidArgumentError, f"rt_input.shape and shape={out_shape} are incompatible", op)
    # A value whose row or column lies past the requested size is dropped (TF truncates).
    index, keep = _element_index(nested, nvals)
    for axis, idx in enumerate(index):
        keep &= idx < out_shape[axis]
    where = tuple(idx[keep] for idx in index)
    kept = np.flatnonzero(keep)
    if traced:
        return jnp.broadcast_to(default_value, out_shape).at[where].set(values[kept])
    out = np.array(np.broadcast_to(default_value, out_shape), dtype=values.dtype)
    if kept.size:
        out[where] = values[kept]
    return out


@lowers("RaggedGather", context=True, host=True)
def ragged_gather(ctx, op, *args):
    """Rows `indices` of a ragged params (a vector of indices: the output keeps params' ragged rank). The
    layout comes from the concrete splits and indices; the values may be traced (a gradient's vjp)."""
    n = op.attrs["PARAMS_RAGGED_RANK"]
    nested = [np.asarray(s) for s in args[:n]]
    values, indices = args[n], np.asarray(args[n + 1])
    if indices.ndim != 1:
        raise NotImplementedError("RaggedGather with indices of rank != 1 (tf.gather of a RaggedTensor by a "
                                  "matrix of indices) is not supported by graphcompat")
    nrows = nested[0].size - 1
    bad = np.flatnonzero((indices < 0) | (indices >= nrows))
    if bad.size:
        i = int(bad[0])
        ctx.check(False, errors.InvalidArgumentError,
                  f"indices[{i}] = {int(indices[i])} is not in [0, {nrows})", op)
    out_splits, rows = [], indices.astype(np.int64)
    for splits in nested:
        # each level: the chosen rows' lengths, and the positions of their items one level down
        starts, limits = splits[:-1][rows], splits[1:][rows]
        lengths = limits - starts
        out_splits.append(np.concatenate([[0], np.cumsum(lengths)]).astype(splits.dtype))
        rows = (np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
                + np.arange(int(lengths.sum()))).astype(np.int64)
    traced = isinstance(values, jax.core.Tracer)
    out_values = jnp.take(values, rows, axis=0) if traced else np.asarray(values)[rows]
    return tuple(out_splits) + (out_values,)
