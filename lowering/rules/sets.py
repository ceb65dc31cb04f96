"""Lowerings of graphcompat/ops/set_ops.py (host kernels: the result size depends on the values).

Sets are the last dimension; the other dimensions index the groups (row-major). Each result row holds
the group's result set sorted ascending; result_shape = group dims + [largest result set].
"""
from __future__ import annotations

import numpy as np

from graphcompat.framework import errors
from lowering.registry import lowers


def _shape_text(shape) -> str:
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


def _key(v):
    return v if not isinstance(v, np.generic) else v.item()


def _dense_groups(x) -> dict:
    arr = np.asarray(x)
    if arr.ndim < 2:
        raise errors.InvalidArgumentError(None, None, f"Invalid rank {arr.ndim}.")
    groups = {}
    for idx in np.ndindex(*arr.shape[:-1]):
        groups[idx] = {_key(v) for v in arr[idx]}
    return groups


def _sparse_groups(indices, values, shape, validate: bool) -> tuple:
    indices, values, shape = np.asarray(indices), np.asarray(values), np.asarray(shape)
    if shape.ndim != 1 or shape.shape[0] < 2:
        raise errors.InvalidArgumentError(None, None, f"Invalid rank {shape.shape[0] if shape.ndim else 0}.")
    group_shape = tuple(int(d) for d in shape[:-1])
    groups = {idx: set() for idx in np.ndindex(*group_shape)}
    prev = None
    for row, v in zip(indices, values):
        row = tuple(int(i) for i in row)
        if validate:
            if any(i < 0 or i >= int(d) for i, d in zip(row, shape)):
                raise errors.InvalidArgumentError(None, None, f"Invalid indices {_shape_text(row)}, shape "
                                                  f"{_shape_text(shape)}.")
            if prev is not None and row <= prev:
                raise errors.InvalidArgumentError(None, None, f"indices {_shape_text(row)} out of order after "
                                                  f"{_shape_text(prev)}")
            prev = row
        groups.setdefault(row[:-1], set()).add(_key(v))
    return group_shape, groups


def _combine(op: str, a: set, b: set) -> list:
    if op == "a-b":
        out = a - b
    elif op == "b-a":
        out = b - a
    elif op == "intersection":
        out = a & b
    elif op == "union":
        out = a | b
    else:
        raise errors.InvalidArgumentError(None, None, f"Invalid set_operation {op}.")
    return sorted(out)


def _result(group_shape: tuple, groups_a: dict, groups_b: dict, op: str, dtype):
    rows, vals, width = [], [], 0
    for idx in np.ndindex(*group_shape):
        result = _combine(op, groups_a.get(idx, set()), groups_b.get(idx, set()))
        width = max(width, len(result))
        for k, v in enumerate(result):
            rows.append(list(idx) + [k])
            vals.append(v)
    rank = len(group_shape) + 1
    indices = np.asarray(rows, np.int64).reshape(len(rows), rank)
    values = np.asarray(vals, dtype=dtype) if dtype != object else np.asarray(vals, dtype=object)
    if dtype == object and not vals:
        values = np.zeros([0], dtype=object)
    return indices, values.reshape(len(vals)), np.asarray(list(group_shape) + [width], np.int64)


def _check_groups(a_shape: tuple, b_shape: tuple) -> None:
    if a_shape != b_shape:
        raise errors.InvalidArgumentError(None, None, f"Shapes {_shape_text(a_shape)} and {_shape_text(b_shape)} "
                                          "mismatch in the group dimensions.")


def _dtype(x):
    return np.asarray(x).dtype


@lowers("DenseToDenseSetOperation", host=True)
def dense_dense(set1, set2, *, set_operation, **_):
    a, b = np.asarray(set1), np.asarray(set2)
    if a.ndim != b.ndim:
        raise errors.InvalidArgumentError(None, None, f"Mismatched ranks {a.ndim} vs {b.ndim}.")
    _check_groups(a.shape[:-1], b.shape[:-1])
    return _result(a.shape[:-1], _dense_groups(a), _dense_groups(b), set_operation, _dtype(a))


@lowers("DenseToSparseSetOperation", host=True)
def dense_sparse(set1, indices, values, shape, *, set_operation, validate_indices=True, **_):
    a = np.asarray(set1)
    group_shape, groups_b = _sparse_groups(indices, values, shape, validate_indices)
    if a.ndim != len(group_shape) + 1:
        raise errors.InvalidArgumentError(None, None, f"Mismatched ranks {a.ndim} vs {len(group_shape) + 1}.")
    _check_groups(a.shape[:-1], group_shape)
    return _result(a.shape[:-1], _dense_groups(a), groups_b, set_operation, _dtype(a))


@lowers("SparseToSparseSetOperation", host=True)
def sparse_sparse(i1, v1, s1, i2, v2, s2, *, set_operation, validate_indices=True, **_):
    shape_a, groups_a = _sparse_groups(i1, v1, s1, validate_indices)
    shape_b, groups_b = _sparse_groups(i2, v2, s2, validate_indices)
    if len(shape_a) != len(shape_b):
        raise errors.InvalidArgumentError(None, None, f"Mismatched ranks {len(shape_a) + 1} vs {len(shape_b) + 1}.")
    _check_groups(shape_a, shape_b)
    return _result(shape_a, groups_a, groups_b, set_operation, _dtype(v1))


@lowers("SetSize", host=True)
def set_size(indices, values, shape, *, validate_indices=True, **_):
    group_shape, groups = _sparse_groups(indices, values, shape, validate_indices)
    out = np.zeros(group_shape, np.int32)
    for idx, members in groups.items():
        out[idx] = len(members)
    return out
