"""Lowerings of tf.sparse.bincount's ops (graphcompat/ops/count_ops.py), on the host: how many values the
result has depends on the data. TF's count_ops.cc: per batch row, a map value -> count (or summed weight,
or 1 for binary output) over the values below maxlength (a negative value is an error); rows listed in
order, values sorted in each; the dense width is `maxlength` when given, else max(largest counted value + 1,
minlength) (the largest starts at 0, so an empty input still has width 1).
"""
from __future__ import annotations

import numpy as np

from graphcompat.framework import errors
from lowering.registry import lowers


def _shape_text(shape) -> str:
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


def _invalid(message: str):
    raise errors.InvalidArgumentError(None, None, message)


def _counts(batches: np.ndarray, values: np.ndarray, weights: np.ndarray, num_batches: int, is_1d: bool,
            attrs: dict, out_dtype):
    minlength, maxlength = int(attrs.get("minlength", -1)), int(attrs.get("maxlength", -1))
    binary = bool(attrs.get("binary_output", False))
    use_weights = weights.size > 0
    per_batch = [dict() for _ in range(num_batches)]
    max_value = 0
    for k, (b, value) in enumerate(zip(batches, values)):
        value = int(value)
        if value < 0:
            _invalid("Input values must all be non-negative")
        if (maxlength <= 0 or value < maxlength):
            counts = per_batch[int(b)]
            if binary:
                counts[value] = 1
            elif use_weights:
                counts[value] = counts.get(value, 0) + weights[k]
            else:
                counts[value] = counts.get(value, 0) + 1
            max_value = max(max_value, value)
    width = maxlength if maxlength > 0 else max(max_value + 1, minlength)
    rows, out = [], []
    for b, counts in enumerate(per_batch):
        for value in sorted(counts):
            rows.append([value] if is_1d else [b, value])
            out.append(counts[value])
    indices = np.array(rows, np.int64).reshape(-1, 1 if is_1d else 2)
    dense_shape = np.array([width] if is_1d else [num_batches, width], np.int64)
    return indices, np.array(out, out_dtype).reshape(-1), dense_shape


@lowers("DenseCountSparseOutput", context=True, host=True)
def dense_count(ctx, op, values, weights):
    values, weights = np.asarray(values), np.asarray(weights)
    if values.ndim not in (1, 2):
        _invalid(f"Input must be a 1 or 2-dimensional tensor. Got: {_shape_text(values.shape)}")
    if weights.size > 0 and weights.shape != values.shape:
        _invalid(f"Weights and data must have the same shape. Weight shape: {_shape_text(weights.shape)}; "
                 f"data shape: {_shape_text(values.shape)}")
    is_1d = values.ndim == 1
    if not is_1d and values.shape[0] == 0:
        _invalid("Invalid input: Shapes dimension cannot be 0.")
    num_batches = 1 if is_1d else values.shape[0]
    width = values.shape[-1]
    batches = np.repeat(np.arange(num_batches), width)
    return _counts(batches, values.reshape(-1), weights.reshape(-1), num_batches, is_1d, op.attrs,
                   np.dtype(op.attrs["output_type"].as_numpy_dtype))


@lowers("SparseCountSparseOutput", context=True, host=True)
def sparse_count(ctx, op, indices, values, dense_shape, weights):
    indices, values = np.asarray(indices), np.asarray(values)
    dense_shape, weights = np.asarray(dense_shape), np.asarray(weights)
    if indices.ndim != 2:
        _invalid(f"Input indices must be a 2-dimensional tensor. Got: {_shape_text(indices.shape)}")
    if values.ndim != 1:
        _invalid(f"Input values must be a vector. Got: {_shape_text(values.shape)}")
    if dense_shape.ndim != 1:
        _invalid(f"Input shape must be a vector. Got: {_shape_text(dense_shape.shape)}")
    if values.shape[0] != indices.shape[0]:
        _invalid(f"Number of values must match first dimension of indices.Got {values.shape[0]} values, "
                 f"indices shape: {_shape_text(indices.shape)}")
    if dense_shape.shape[0] != indices.shape[1]:
        _invalid(f"Number of dimensions must match second dimension of indices.Got {dense_shape.shape[0]} "
                 f"dimensions, indices shape: {_shape_text(indices.shape)}")
    if dense_shape.size == 0:
        _invalid("The shape argument requires at least one element.")
    for i in range(indices.shape[0]):
        for j in range(indices.shape[1]):
            if not 0 <= indices[i, j] < dense_shape[j]:
                _invalid(f"Invalid index value at {i}: dimension {j} has value {indices[i, j]} which is not in "
                         f"[0, {dense_shape[j]}) (as given by dense shape {_tensor_text(dense_shape)}")
    if weights.size > 0 and weights.shape != values.shape:
        _invalid(f"Weights and values must have the same shape. Weight shape: {_shape_text(weights.shape)}; "
                 f"values shape: {_shape_text(values.shape)}")
    is_1d = dense_shape.size == 1
    num_batches = 1 if is_1d else int(dense_shape[0])
    if not 0 < num_batches:
        _invalid(f"Cannot allocate {num_batches} batches, is the dense shape too wide?")
    batches = np.zeros(len(values), np.int64) if is_1d else indices[:, 0]
    return _counts(batches, values, weights, num_batches, is_1d, op.attrs,
                   np.dtype(op.attrs["output_type"].as_numpy_dtype))


def _tensor_text(t: np.ndarray) -> str:
    """TF's Tensor::DebugString of an int64 vector."""
    return f"Tensor<type: int64 shape: {_shape_text(t.shape)} values: {' '.join(str(int(v)) for v in t)}>"
