"""Lowerings of the conditional accumulator ops (graphcompat/ops/accumulator_ops.py): host objects in the
Session, shared by the threads that run steps, like the queues (lowering/rules/queues.py).

TF's ConditionalAccumulatorBase: a gradient is added only when its `local_step` is at least the
accumulator's global step (a stale one is dropped before it is even validated); take attempts are served
in arrival order, each once `num_required` gradients were added; a take averages (MEAN: the dense sum by
the count, the sparse rows each by the number of gradients that had the row) or sums, resets the count and
advances the global step. The sparse sum is TF's merge of sorted index lists (SparseAdd's walk), kept
as TF's kernel does it, so unsorted indices give TF's (unsorted) result too.
"""
from __future__ import annotations

import collections
import threading
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework.kernel_util import ACCUMULATOR_KERNEL_TYPES
from lowering.registry import lowers
from lowering.rules.checks import no_kernel
from lowering.rules.queues import get_or_create, shape_text

# A blocked take re-checks that its Session is still open this often (seconds).
_POLL_SECONDS = 0.1


def _debug(shape) -> str:
    """TF's TensorShape::DebugString of a concrete shape: `[2,3]`, `[]`."""
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


class HostAccumulator:
    """One accumulator's state: the count, the global step, the running sum, the blocked takes."""

    def __init__(self, op, store: dict, key, sparse: bool):
        attrs = op.attrs
        self.tf_dtype = _dt.as_dtype(attrs["dtype"])
        self.dtype = np.dtype(self.tf_dtype.as_numpy_dtype)
        shape = attrs.get("shape")
        # TF's PartialTensorShape: None for an unknown rank, -1 for an unknown dimension
        self.shape = None if shape is None or shape.ndims is None else \
            tuple(-1 if d is None else int(d) for d in shape.as_list())
        self.mean = attrs.get("reduction_type", "MEAN") == "MEAN"
        self.sparse = sparse
        self.counter = 0
        self.global_step = 0
        self.sum: Optional[np.ndarray] = None      # dense: the sum; sparse: the rows' values
        self.indices: list = []                   # sparse: row ids of `sum`, in TF's merge order
        self.counts: list = []                    # sparse: how many gradients had each row
        self._store, self._key = store, key
        self._cond = threading.Condition()
        self._takes: collections.deque = collections.deque()

    @property
    def rank(self) -> int:
        """PartialTensorShape::dims(): -1 for an unknown rank."""
        return -1 if self.shape is None else len(self.shape)

    # --- TF's MatchSignature ------------------------------------------------------------------
    def check_signature(self, op, inputs: list, outputs: list) -> None:
        """The op's `dtype` must be the accumulator's (TF: "Signature mismatch")."""
        op_dtype = _dt.as_dtype(op.attrs["dtype"])
        if op_dtype == self.tf_dtype:
            return

        def text(types: list, dtype) -> str:  # "T" is the gradients' type: the op's, or the accumulator's
            return ", ".join(_dt.cpp_name(dtype) if t == "T" else t for t in types)
        raise errors.InvalidArgumentError(
            None, op, f"Signature mismatch, have: {text(inputs, op_dtype)}->{text(outputs, op_dtype)} "
            f"expected: {text(inputs, self.tf_dtype)}->{text(outputs, self.tf_dtype)}")

    # --- apply -------------------------------------------------------------------------------
    def apply(self, op, local_step: int, grad) -> None:
        with self._cond:
            if local_step >= self.global_step:  # TF drops a stale gradient before validating it
                if self.sparse:
                    self._add_sparse(op, *grad)
                else:
                    self._add_dense(op, grad)
                self.counter += 1
            self._flush()

    def _add_dense(self, op, grad: np.ndarray) -> None:
        if self.counter > 0 and self.sum.shape != grad.shape:
            raise errors.InvalidArgumentError(None, op, f"Shape mismatch: expected {_debug(self.sum.shape)}, "
                                              f"got {_debug(grad.shape)}")
        if self.shape is not None and (len(self.shape) != grad.ndim or any(
                s != -1 and s != g for s, g in zip(self.shape, grad.shape))):
            raise errors.InvalidArgumentError(None, op, f"Shape mismatch: expected {shape_text(self.shape)}, "
                                              f"got {_debug(grad.shape)}")
        self.sum = grad.copy() if self.counter == 0 else self.sum + grad

    def _validate_sparse(self, op, indices: np.ndarray, values: np.ndarray, shape: Optional[np.ndarray]) -> None:
        def fail(message: str):
            raise errors.InvalidArgumentError(None, op, message)
        if indices.ndim != 1:
            fail(f"Input indices should be vector but received shape: {_debug(indices.shape)}")
        if values.ndim == 0:
            fail("Values cannot be 0-dimensional.")
        if values.shape[0] != indices.shape[0]:
            fail(f"Expected {indices.shape[0]} non-empty input values, got {values.shape[0]}")
        rank = self.rank
        if shape is not None:
            if rank > shape.size:
                fail(f"Shape mismatch: expected shape rank at least {rank}, got {shape.size}")
            for i in range(max(rank, 0)):
                if self.shape[i] != -1 and self.shape[i] != shape[i]:
                    fail(f"Shape mismatch: expected shape dim {i} to be {self.shape[i]}, got {shape[i]}")
        if rank > 0 and self.shape[0] != -1:
            for i, index in enumerate(indices):
                if index >= self.shape[0]:
                    fail(f"Shape mismatch: index of slice {i} exceeded limits of shape; index is {index} "
                         f"exceeded {self.shape[0]}")
        if self.counter > 0:
            if self.sum.ndim != values.ndim:
                fail(f"Shape mismatch: expected values rank {self.sum.ndim}, got {values.ndim}")
            for i in range(1, values.ndim):
                if self.sum.shape[i] != values.shape[i]:
                    fail(f"Shape mismatch: expected values dim {i} to be {self.sum.shape[i]}, got {values.shape[i]}")
        else:
            if rank > values.ndim:
                fail(f"Shape mismatch: expected values rank at least {rank}, got {values.ndim}")
            for i in range(1, max(rank, 0)):
                if self.shape[i] != -1 and self.shape[i] != values.shape[i]:
                    fail(f"Shape mismatch: expected values dim {i} to be {self.shape[i]}, got {values.shape[i]}")

    def _add_sparse(self, op, indices: np.ndarray, values: np.ndarray, shape: Optional[np.ndarray]) -> None:
        self._validate_sparse(op, indices, values, shape)
        if self.counter == 0:
            self.indices, self.sum, self.counts = [int(i) for i in indices], values.copy(), [1] * len(indices)
            return
        # TF's merge of two index lists assumed sorted: the smaller id first, equal ids summed
        rows, ids, counts = [], [], []
        i = j = 0
        while i < len(self.indices) or j < len(indices):
            a = self.indices[i] if i < len(self.indices) else None
            b = int(indices[j]) if j < len(indices) else None
            if b is None or (a is not None and a < b):
                ids.append(a), rows.append(self.sum[i]), counts.append(self.counts[i])
                i += 1
            elif a is None or a > b:
                ids.append(b), rows.append(values[j]), counts.append(1)
                j += 1
            else:
                ids.append(a), rows.append(self.sum[i] + values[j]), counts.append(self.counts[i] + 1)
                i += 1
                j += 1
        self.indices, self.counts = ids, counts
        self.sum = np.stack(rows).astype(self.dtype) if rows else np.zeros((0,) + values.shape[1:], self.dtype)

    # --- take --------------------------------------------------------------------------------
    def _result(self):
        """TF's TakeGradLockedHelper: advance the step, average, hand out the sum, reset the count."""
        self.global_step += 1
        if self.sparse:
            values = self.sum
            if self.mean:
                counts = np.asarray(self.counts, self.dtype).reshape((-1,) + (1,) * (values.ndim - 1))
                values = (values / counts).astype(self.dtype)
            shape = [self.shape[0] if self.rank > 0 else -1] + list(values.shape[1:])
            result = (np.asarray(self.indices, np.int64), values, np.asarray(shape, np.int64))
        else:
            result = (self.sum / np.asarray(self.counter, self.dtype)).astype(self.dtype) if self.mean else self.sum
        self.counter = 0
        return result

    def _flush(self) -> None:
        while self._takes and self.counter >= self._takes[0]["required"]:
            attempt = self._takes.popleft()
            attempt["result"], attempt["done"] = self._result(), True
        self._cond.notify_all()

    def _alive(self) -> bool:
        return self._store.get(self._key) is self

    def take(self, op, num_required: int):
        if num_required <= 0:
            raise errors.InvalidArgumentError(None, op, f"Argument num_required must be positive, but was "
                                              f"{num_required}")
        attempt = {"required": num_required, "done": False, "result": None}
        with self._cond:
            if not self._alive():
                raise errors.CancelledError(None, op, "TakeGrad operation was cancelled")
            self._takes.append(attempt)
            self._flush()
            while not attempt["done"]:
                self._cond.wait(_POLL_SECONDS)
                if not attempt["done"] and not self._alive():  # the Session was closed: TF cancels the take
                    self._takes.remove(attempt)
                    raise errors.CancelledError(None, op, "TakeGrad operation was cancelled")
        return attempt["result"]

    def set_global_step(self, step: int) -> None:
        with self._cond:
            # TF only logs a warning when the step goes back
            self.global_step = step


# ------------------------------------------------------------------------------------------------
# Rules
# ------------------------------------------------------------------------------------------------
# TF's CPU kernels of the accumulator ops, in the order its "No OpKernel" error lists them
_KERNEL_LINES = [f"device='CPU'; dtype in [DT_{name}]" for name in ("DOUBLE", "FLOAT", "HALF")]


def _scalar(value) -> int:
    return int(np.asarray(value).reshape(-1)[0]) if np.size(value) else 0


@lowers("ConditionalAccumulator", "ResourceConditionalAccumulator", "SparseConditionalAccumulator",
        context=True, host=True)
def accumulator_resource(ctx, op):
    if _dt.as_dtype(op.attrs["dtype"]) not in ACCUMULATOR_KERNEL_TYPES:
        raise no_kernel(op, _KERNEL_LINES)
    sparse = op.type == "SparseConditionalAccumulator"
    return get_or_create(ctx, op, lambda store, key, name: HostAccumulator(op, store, key, sparse))


@lowers("AccumulatorApplyGradient", "ResourceAccumulatorApplyGradient", context=True, host=True)
def accumulator_apply(ctx, op, acc, local_step, gradient):
    handle = "resource" if op.type.startswith("Resource") else "string_ref"
    acc.check_signature(op, [handle, "int64", "T"], [])
    acc.apply(op, _scalar(local_step), np.asarray(gradient, acc.dtype))


@lowers("SparseAccumulatorApplyGradient", context=True, host=True)
def sparse_accumulator_apply(ctx, op, acc, local_step, indices, values, shape):
    acc.check_signature(op, ["string_ref", "int64", "int64", "T", "int64"], [])
    shape = np.asarray(shape, np.int64).reshape(-1) if op.attrs.get("has_known_shape") else None
    acc.apply(op, _scalar(local_step), (np.asarray(indices, np.int64), np.asarray(values, acc.dtype), shape))


# Takes are host inputs (as a queue's dequeue): they run ahead of a compiled step and feed it their result.
@lowers("AccumulatorTakeGradient", "ResourceAccumulatorTakeGradient", context=True, host_input=True)
def accumulator_take(ctx, op, acc, num_required):
    handle = "resource" if op.type.startswith("Resource") else "string_ref"
    acc.check_signature(op, [handle, "int32"], ["T"])
    return acc.take(op, _scalar(num_required))


@lowers("SparseAccumulatorTakeGradient", context=True, host_input=True)
def sparse_accumulator_take(ctx, op, acc, num_required):
    acc.check_signature(op, ["string_ref", "int32"], ["int64", "T", "int64"])
    return acc.take(op, _scalar(num_required))


@lowers("AccumulatorNumAccumulated", "ResourceAccumulatorNumAccumulated", context=True, host=True)
def accumulator_num_accumulated(ctx, op, acc):
    return np.int32(acc.counter)


@lowers("AccumulatorSetGlobalStep", "ResourceAccumulatorSetGlobalStep", context=True, host=True)
def accumulator_set_global_step(ctx, op, acc, new_global_step):
    acc.set_global_step(_scalar(new_global_step))
