"""Lowerings of graphcompat/ops/sparse_map_ops.py: host rules over one session resource per map name
(`shared_name`, else the node's name, as TF's ContainerInfo with the node name as default), holding
handle → (indices, values, shape) and TF's handle counter."""
from __future__ import annotations

import threading

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from lowering.registry import lowers

_lock = threading.Lock()


class _SparseTensorsMap:
    def __init__(self, name: str):
        self.name = name
        self.tensors: dict = {}
        self.counter = 0

    def add(self, indices, values, shape) -> int:
        with _lock:
            handle, self.counter = self.counter, self.counter + 1
            self.tensors[handle] = (indices, values, shape)
        return handle


def _map(ctx, op) -> _SparseTensorsMap:
    name = op.attrs.get("shared_name") or op.name
    key = ("SparseTensorsMap", op.attrs.get("container", ""), name)
    store = ctx._state_in  # the session's resources (as lowering/rules/queues.py keeps its queues)
    with _lock:
        found = store.get(key)
        if found is None:
            found = store[key] = _SparseTensorsMap(name)
    return found


def _dims(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _validate(op, indices, values, shape) -> None:
    if indices.ndim != 2:
        raise errors.InvalidArgumentError(None, op, f"Input indices should be a matrix but received shape "
                                          f"{_dims(indices.shape)}")
    if values.ndim != 1:
        raise errors.InvalidArgumentError(None, op, f"Input values should be a vector but received shape "
                                          f"{_dims(values.shape)}")
    if shape.ndim != 1:
        raise errors.InvalidArgumentError(None, op, f"Input shape should be a vector but received shape "
                                          f"{_dims(shape.shape)}")


@lowers("AddSparseToTensorsMap", context=True, host=True)
def add_sparse_to_tensors_map(ctx, op, indices, values, shape):
    indices, values, shape = np.asarray(indices), np.asarray(values), np.asarray(shape)
    _validate(op, indices, values, shape)
    return np.int64(_map(ctx, op).add(indices.copy(), values.copy(), shape.copy()))


@lowers("AddManySparseToTensorsMap", context=True, host=True)
def add_many_sparse_to_tensors_map(ctx, op, indices, values, shape):
    """Each row of the batch (first dimension) becomes a SparseTensor of the other dimensions. TF hands out
    the handles to the rows that hold entries first (in row order), then to the empty rows."""
    indices, values, shape = np.asarray(indices), np.asarray(values), np.asarray(shape)
    _validate(op, indices, values, shape)
    if shape.shape[0] <= 1:
        raise errors.InvalidArgumentError(None, op, f"Rank of input SparseTensor should be > 1, but saw rank: "
                                          f"{shape.shape[0]}")
    rows = int(shape[0])
    table = _map(ctx, op)
    handles = np.zeros((rows,), np.int64)
    owners = indices[:, 0]
    filled = sorted(set(int(r) for r in owners))
    for r in filled:
        if not 0 <= r < rows:
            raise errors.InvalidArgumentError(None, op, f"Indices are inconsistent: index {r} is out of range "
                                              f"[0, {rows})")
        pick = owners == r
        handles[r] = table.add(indices[pick, 1:].copy(), values[pick].copy(), shape[1:].copy())
    empty = np.zeros((0, shape.shape[0] - 1), np.int64)
    for r in range(rows):
        if r not in filled:
            handles[r] = table.add(empty, values[:0].copy(), shape[1:].copy())
    return handles


@lowers("TakeManySparseFromTensorsMap", context=True, host=True)
def take_many_sparse_from_tensors_map(ctx, op, handles):
    handles = np.asarray(handles)
    if handles.ndim != 1:
        raise errors.InvalidArgumentError(None, op, f"sparse_handles should be a vector but received shape "
                                          f"{_dims(handles.shape)}")
    table = _map(ctx, op)
    want = _dt.as_dtype(op.attrs["dtype"])
    with _lock:
        missing = [int(h) for h in handles if int(h) not in table.tensors]
        if missing:
            raise errors.InvalidArgumentError(None, op, f"Unable to find SparseTensor: {missing[0]} in map: "
                                              f"{table.name}")
        taken = [table.tensors.pop(int(h)) for h in handles]
    all_indices, all_values, batch_shape = [], [], None
    for b, (indices, values, shape) in enumerate(taken):
        got = _dt.as_dtype(values.dtype)
        if got != want:
            raise errors.InvalidArgumentError(None, op, f"Requested SparseTensor of type {_dt.cpp_name(want)} but "
                                              f"SparseTensor[{b}].values.dtype() == {_dt.cpp_name(got)}")
        if batch_shape is None:
            batch_shape = shape.copy()
        elif batch_shape.shape != shape.shape:
            raise errors.InvalidArgumentError(None, op, f"Inconsistent rank across SparseTensors: rank prior to "
                                              f"SparseTensor[{b}] was: {batch_shape.shape[0]} but rank of "
                                              f"SparseTensor[{b}] is: {shape.shape[0]}")
        else:
            batch_shape = np.maximum(batch_shape, shape)
        all_indices.append(np.concatenate([np.full((indices.shape[0], 1), b, np.int64), indices], axis=1))
        all_values.append(values)
    if batch_shape is None:
        raise errors.InvalidArgumentError(None, op, "Must have at least 1 serialized SparseTensor, but has a "
                                          "zero dimension 0")
    return (np.concatenate(all_indices).astype(np.int64), np.concatenate(all_values),
            np.concatenate([[len(taken)], batch_shape]).astype(np.int64))
