"""Host lowerings of graphcompat/ops/sparse_serialize_ops.py (TF's serialize_sparse_op.cc semantics)."""
from __future__ import annotations

import numpy as np
from google.protobuf.message import DecodeError

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from lowering.registry import lowers
from lowering.rules.misc_extra import tensor_proto_bytes


def _values_dtype(values):
    arr = np.asarray(values)
    return _dt.string if arr.dtype == object else _dt.as_dtype(arr.dtype)


@lowers("SerializeSparse", host=True)
def serialize_sparse(indices, values, shape, **_):
    return np.array([tensor_proto_bytes(np.asarray(indices, np.int64), _dt.int64),
                     tensor_proto_bytes(values, _values_dtype(values), string_content=True),
                     tensor_proto_bytes(np.asarray(shape, np.int64), _dt.int64)], dtype=object)


@lowers("SerializeManySparse", host=True)
def serialize_many_sparse(indices, values, shape, **_):
    indices, shape = np.asarray(indices, np.int64), np.asarray(shape, np.int64)
    values = np.asarray(values)
    if shape.shape[0] < 2:
        raise errors.InvalidArgumentError(None, None, "Rank of input SparseTensor should be > 1, but saw rank: "
                                          f"{shape.shape[0]}")
    dtype = _values_dtype(values)
    n = int(shape[0])
    out = np.empty((n, 3), dtype=object)
    for b in range(n):
        rows = indices[:, 0] == b
        out[b, 0] = tensor_proto_bytes(indices[rows][:, 1:].reshape(-1, shape.shape[0] - 1), _dt.int64)
        out[b, 1] = tensor_proto_bytes(values[rows], dtype, string_content=True)
        out[b, 2] = tensor_proto_bytes(shape[1:], _dt.int64)
    return out


def _parse(data: bytes):
    from tensorboard.compat.proto.tensor_pb2 import TensorProto

    from graphcompat.framework.tensor_util import make_ndarray
    proto = TensorProto()
    try:
        proto.ParseFromString(data)
    except DecodeError:
        raise errors.InvalidArgumentError(None, None, "Could not parse serialized_sparse") from None
    if proto.dtype == _dt.string.as_datatype_enum and proto.tensor_content:
        # TF's string tensor_content: all varint lengths first, then the bytes
        content, pos, lengths = proto.tensor_content, 0, []
        n = int(np.prod([d.size for d in proto.tensor_shape.dim], dtype=np.int64))
        for _ in range(n):
            value, shift = 0, 0
            while True:
                byte = content[pos]
                pos += 1
                value |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
            lengths.append(value)
        items = []
        for length in lengths:
            items.append(content[pos:pos + length])
            pos += length
        shape = [d.size for d in proto.tensor_shape.dim]
        return proto, np.array(items, dtype=object).reshape(shape)
    return proto, make_ndarray(proto)


@lowers("DeserializeManySparse", host=True)
def deserialize_many_sparse(serialized, *, dtype, **_):
    rows = np.asarray(serialized, dtype=object)
    if rows.ndim != 2 or rows.shape[1] != 3:
        raise errors.InvalidArgumentError(None, None, "Serialized sparse should be a matrix with 3 columns, got "
                                          f"shape [{','.join(map(str, rows.shape))}]")
    want = _dt.as_dtype(dtype)
    all_idx, all_val, shape = [], [], None
    for b, (si, sv, ss) in enumerate(rows):
        _, idx = _parse(si)
        proto, val = _parse(sv)
        _, shp = _parse(ss)
        if _dt.as_dtype(proto.dtype) != want:
            raise errors.InvalidArgumentError(
                None, None, f"Requested SparseTensor of type {_dt.cpp_name(want)} but SparseTensor[{b}].values.dtype() "
                            f"== {_dt.cpp_name(_dt.as_dtype(proto.dtype))}")
        shp = np.asarray(shp, np.int64)
        if shape is None:
            shape = shp.copy()
        elif shape.shape != shp.shape:
            raise errors.InvalidArgumentError(None, None, f"Inconsistent shape across SparseTensors: rank prior to "
                                              f"SparseTensor[{b}] was: {shape.shape[0]} but rank of SparseTensor[{b}] "
                                              f"is: {shp.shape[0]}")
        else:
            shape = np.maximum(shape, shp)
        idx = np.asarray(idx, np.int64).reshape(-1, shp.shape[0])
        all_idx.append(np.concatenate([np.full((idx.shape[0], 1), b, np.int64), idx], axis=1))
        all_val.append(np.asarray(val))
    if shape is None:
        raise errors.InvalidArgumentError(None, None, "Must have at least 1 serialized SparseTensor, but has a "
                                          "zero dimension 0")
    indices = np.concatenate(all_idx, axis=0)
    values = np.concatenate(all_val, axis=0) if all_val else np.zeros([0], np.dtype(want.as_numpy_dtype))
    return indices, values, np.concatenate([[rows.shape[0]], shape]).astype(np.int64)


@lowers("DeserializeSparse", context=True, host=True)
def deserialize_sparse(ctx, op, serialized):
    """TF's DeserializeSparseOp: `[..., 3]` serialized SparseTensors; a single one comes back as it was,
    a batch of them (any leading shape) as one SparseTensor whose first dimensions are the batch's."""
    # A variant-encoded SparseTensor (SerializeSparse's out_type=variant, a tf.data element such as
    # dense_to_sparse_batch's) holds the same three serialized TensorProtos in graphcompat.
    rows = np.asarray(serialized, dtype=object)
    if rows.ndim < 1 or rows.shape[-1] != 3:
        raise errors.InvalidArgumentError(None, op, "Serialized sparse should have 3 as the last dimension "
                                          f"[{','.join(map(str, rows.shape))}]")
    dtype = op.attrs["dtype"]
    if rows.ndim == 1:
        indices, values, shape = deserialize_many_sparse(rows.reshape(1, 3), dtype=dtype)
        return indices[:, 1:], values, shape[1:]
    batch = rows.shape[:-1]
    indices, values, shape = deserialize_many_sparse(rows.reshape(-1, 3), dtype=dtype)
    lead = np.stack(np.unravel_index(indices[:, 0], batch), axis=1).astype(np.int64)
    return (np.concatenate([lead, indices[:, 1:]], axis=1), values,
            np.concatenate([np.asarray(batch, np.int64), shape[1:]]))
