"""`tf.io.serialize_sparse`, `serialize_many_sparse`, `deserialize_many_sparse` (SerializeSparse,
SerializeManySparse, DeserializeManySparse): SparseTensors as [3] / [N, 3] string tensors of serialized
TensorProtos (indices, values, shape) byte-identical to TF's. Host lowerings in
lowering/rules/sparse_serialize.py."""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop


def _many_shape(ctx: InferenceContext):
    return [_ts.TensorShape([None, 3])]


def _deserialize_shape(ctx: InferenceContext):
    return [_ts.TensorShape([None, None]), _ts.TensorShape([None]), _ts.TensorShape([None])]


defop("SerializeSparse", "sparse_indices: int64, sparse_values: T, sparse_shape: int64 -> serialized_sparse: out_type",
      attrs={"out_type": _dt.string}, types={"out_type": (_dt.string,)}, shape=lambda ctx: [_ts.TensorShape([3])])
defop("SerializeManySparse", "sparse_indices: int64, sparse_values: T, sparse_shape: int64 -> "
      "serialized_sparse: out_type", attrs={"out_type": _dt.string}, types={"out_type": (_dt.string,)},
      shape=_many_shape)
defop("DeserializeSparse", "serialized_sparse: Tserialized -> sparse_indices: int64, sparse_values: dtype, "
      "sparse_shape: int64", attrs={"Tserialized": _dt.string}, types={"Tserialized": (_dt.string, _dt.variant)},
      shape=_deserialize_shape)
defop("DeserializeManySparse", "serialized_sparse: string -> sparse_indices: int64, sparse_values: dtype, "
      "sparse_shape: int64", shape=_deserialize_shape)


def _sparse(sp_input):
    from graphcompat.ops.sparse_tensor import SparseTensor, SparseTensorValue
    if isinstance(sp_input, SparseTensorValue):
        return SparseTensor.from_value(sp_input)
    if not isinstance(sp_input, SparseTensor):
        raise TypeError(f"Input must be a SparseTensor.")
    return sp_input


def _out_type(out_type) -> _dt.DType:
    out_type = _dt.as_dtype(out_type)
    if out_type != _dt.string:
        raise NotImplementedError("tf.io.serialize_sparse with out_type=tf.variant is not supported by graphcompat "
                                  "(use the default tf.string)")
    return out_type


def serialize_sparse(sp_input, name: Optional[str] = None, out_type=_dt.string):
    """`tf.io.serialize_sparse`: a [3] string tensor (indices, values, shape as serialized TensorProtos)."""
    sp = _sparse(sp_input)
    return apply_op("SerializeSparse", [sp.indices, sp.values, sp.dense_shape], {"out_type": _out_type(out_type)},
                    name=name)


def serialize_many_sparse(sp_input, name: Optional[str] = None, out_type=_dt.string):
    """`tf.io.serialize_many_sparse`: one serialized [3] row per entry of the first dimension ([N, 3])."""
    sp = _sparse(sp_input)
    return apply_op("SerializeManySparse", [sp.indices, sp.values, sp.dense_shape],
                    {"out_type": _out_type(out_type)}, name=name)


def deserialize_many_sparse(serialized_sparse, dtype, rank=None, name: Optional[str] = None):
    """`tf.io.deserialize_many_sparse`: the [N, 3] rows back into one SparseTensor of rank + 1."""
    from graphcompat.ops.sparse_tensor import SparseTensor
    indices, values, shape = apply_op("DeserializeManySparse", [serialized_sparse], {"dtype": _dt.as_dtype(dtype)},
                                      name=name)
    if rank is not None:
        indices.set_shape([None, int(rank)])
        shape.set_shape([int(rank)])
    return SparseTensor(indices, values, shape)


__all__ = ["serialize_sparse", "serialize_many_sparse", "deserialize_many_sparse"]
