"""`tf.SparseTensor` / `tf.SparseTensorValue` (TF's python/framework/sparse_tensor.py).

A SparseTensor is three dense tensors: `indices` (int64 [N, rank]), `values` ([N]) and `dense_shape`
(int64 [rank]); its static `shape` is what TF can read from `dense_shape` at build time. Sessions
fetch it as a `SparseTensorValue` and feed it from one (or from an (indices, values, shape) tuple)
through `_fetch_components` / `_feed_components`.
"""
from __future__ import annotations

import collections
from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value_as_shape, convert_to_tensor

SparseTensorValue = collections.namedtuple("SparseTensorValue", ["indices", "values", "dense_shape"])


class SparseTensor:
    """`tf.SparseTensor(indices, values, dense_shape)`: fetches as a `SparseTensorValue`."""

    def __init__(self, indices, values, dense_shape):
        with _ops.name_scope(None, "SparseTensor", [indices, values, dense_shape]):
            self._indices = convert_to_tensor(indices, _dt.int64, name="indices")
            self._values = convert_to_tensor(values, name="values")
            self._dense_shape = convert_to_tensor(dense_shape, _dt.int64, name="dense_shape")
        self._dense_shape_default = constant_value_as_shape(self._dense_shape)
        indices_shape = self._indices.shape.with_rank(2)
        values_shape = self._values.shape.with_rank(1)
        dense_shape_shape = self._dense_shape.shape.with_rank(1)
        indices_shape.dims[0].assert_is_compatible_with(values_shape.dims[0])
        indices_shape.dims[1].assert_is_compatible_with(dense_shape_shape.dims[0])

    @classmethod
    def from_value(cls, sparse_tensor_value) -> "SparseTensor":
        if not is_sparse(sparse_tensor_value):
            raise TypeError(f"Argument sparse_tensor_value={sparse_tensor_value} is neither a SparseTensor nor "
                            f"SparseTensorValue.")
        return cls(sparse_tensor_value.indices, sparse_tensor_value.values, sparse_tensor_value.dense_shape)

    @property
    def indices(self) -> _ops.Tensor:
        return self._indices

    @property
    def values(self) -> _ops.Tensor:
        return self._values

    @property
    def dense_shape(self) -> _ops.Tensor:
        return self._dense_shape

    @property
    def dtype(self) -> _dt.DType:
        return self._values.dtype

    @property
    def op(self) -> _ops.Operation:
        return self._values.op

    @property
    def graph(self) -> _ops.Graph:
        return self._indices.graph

    def get_shape(self) -> _ts.TensorShape:
        return self._dense_shape_default

    @property
    def shape(self) -> _ts.TensorShape:
        return self._dense_shape_default

    def set_shape(self, shape) -> None:
        """Merges `shape` into the static shape (no run-time check, as TF)."""
        self._dense_shape_default = self._dense_shape_default.merge_with(_ts.as_shape(shape))

    def with_values(self, new_values) -> "SparseTensor":
        return SparseTensor(self._indices, new_values, self._dense_shape)

    def eval(self, feed_dict=None, session=None) -> SparseTensorValue:
        from graphcompat.client.session import get_default_session
        session = session or get_default_session()
        if session is None:
            raise ValueError("Cannot evaluate tensor using `eval()`: No default session is registered. Use "
                             "`with sess.as_default()` or pass an explicit session to `eval(session=sess)`")
        return session.run(self, feed_dict)

    def consumers(self) -> list:
        seen, out = set(), []
        for t in (self._indices, self._values, self._dense_shape):
            for op in t.consumers():
                if op not in seen:
                    seen.add(op)
                    out.append(op)
        return out

    def _fetch_components(self):
        return [self._indices, self._values, self._dense_shape], SparseTensorValue

    def _feed_components(self, value):
        return list(zip([self._indices, self._values, self._dense_shape], value))

    def __repr__(self) -> str:
        return f"SparseTensor(indices={self._indices}, values={self._values}, dense_shape={self._dense_shape})"


def is_sparse(x) -> bool:
    """`tf.sparse` helper: a SparseTensor or SparseTensorValue."""
    return isinstance(x, (SparseTensor, SparseTensorValue))


def convert_to_sparse_tensor(sp_input, what: Optional[str] = None) -> SparseTensor:
    """A SparseTensor from a SparseTensor or SparseTensorValue (TF's `_convert_to_sparse_tensor`)."""
    if isinstance(sp_input, SparseTensorValue):
        return SparseTensor.from_value(sp_input)
    if not isinstance(sp_input, SparseTensor):
        raise TypeError("Input must be a SparseTensor.")
    return sp_input
