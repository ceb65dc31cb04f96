"""Lowerings of graphcompat/ops/misc_extra_ops.py. Strings, files and the clock run on the host (numpy
object arrays of bytes), as TF's CPU kernels do; EnsureShape and ParallelConcat are device ops.
"""
from __future__ import annotations

import base64
import binascii
import os
import time

import jax.numpy as jnp
import numpy as np
from google.protobuf.message import DecodeError

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework import tensor_shape as _ts
from lowering.registry import lowers


def _strings(x) -> np.ndarray:
    return np.asarray(x, dtype=object)


def _map_bytes(fn, x) -> np.ndarray:
    arr = _strings(x)
    out = np.empty(arr.shape, dtype=object)
    for idx, v in np.ndenumerate(arr):
        out[idx] = fn(v if isinstance(v, bytes) else str(v).encode())
    return out


@lowers("EncodeBase64", host=True)
def encode_base64(x, *, pad=False, **_):
    def enc(b: bytes) -> bytes:
        out = base64.urlsafe_b64encode(b)
        return out if pad else out.rstrip(b"=")
    return _map_bytes(enc, x)


@lowers("DecodeBase64", host=True)
def decode_base64(x, **_):
    def dec(b: bytes) -> bytes:
        body = b.rstrip(b"=")
        # TF accepts input with or without '=' padding, but only the web-safe alphabet.
        if any(c not in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in body) \
                or len(body) % 4 == 1:
            raise errors.InvalidArgumentError(None, None, "Invalid character found in base64.")
        try:
            return base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise errors.InvalidArgumentError(None, None, "Invalid character found in base64.") from None
    return _map_bytes(dec, x)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def tensor_proto_bytes(x, dtype, string_content: bool = False) -> bytes:
    """A serialized TensorProto as TF writes it: numbers as raw little-endian tensor_content; strings as
    string_val (SerializeTensor, Tensor::AsProtoField) or, with `string_content`, as tensor_content — varint
    lengths then the bytes (SerializeSparse, Tensor::AsProtoTensorContent). Byte-identical to TF's."""
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    dtype = _dt.as_dtype(dtype)
    arr = np.asarray(x)
    proto = TensorProto(dtype=dtype.as_datatype_enum)
    proto.tensor_shape.SetInParent()   # a scalar's empty shape is still written, as TF does
    for d in arr.shape:
        proto.tensor_shape.dim.add(size=d)
    if dtype == _dt.string:
        items = [v if isinstance(v, bytes) else str(v).encode() for v in arr.ravel()]
        if string_content:
            if items:
                proto.tensor_content = b"".join(_varint(len(v)) for v in items) + b"".join(items)
        else:
            proto.string_val.extend(items)
    elif arr.size:
        np_dtype = np.dtype(dtype.as_numpy_dtype)
        proto.tensor_content = np.ascontiguousarray(arr.astype(np_dtype).astype(np_dtype.newbyteorder("<"))).tobytes()
    return proto.SerializeToString()


@lowers("SerializeTensor", host=True)
def serialize_tensor(x, *, T, **_):
    return np.array(tensor_proto_bytes(x, T), dtype=object)


@lowers("ParseTensor", host=True)
def parse_tensor(serialized, *, out_type, **_):
    from tensorboard.compat.proto.tensor_pb2 import TensorProto

    from graphcompat.framework.tensor_util import make_ndarray
    data = np.asarray(serialized, dtype=object).item()
    proto = TensorProto()
    try:
        proto.ParseFromString(data if isinstance(data, bytes) else str(data).encode())
    except DecodeError:
        import base64  # TF prints the bytes it could not parse in base64
        raw = data if isinstance(data, bytes) else str(data).encode()
        raise errors.InvalidArgumentError(None, None, "Could not parse `serialized` as TensorProto, base64: "
                                          f"{base64.b64encode(raw).decode()}") from None
    want = _dt.as_dtype(out_type)
    got = _dt.as_dtype(proto.dtype) if proto.dtype else None
    if got is None or got != want:
        raise errors.InvalidArgumentError(
            None, None, f"Type mismatch between parsed tensor ({_dt.cpp_name(got) if got else 'invalid'}) and "
                        f"dtype ({_dt.cpp_name(want)})")
    return make_ndarray(proto)


@lowers("WriteFile", host=True)
def write_file(filename, contents, **_):
    path = np.asarray(filename, dtype=object).item()
    path = path.decode() if isinstance(path, bytes) else str(path)
    data = np.asarray(contents, dtype=object).item()
    data = data if isinstance(data, bytes) else str(data).encode()
    from graphcompat.formats import io_error
    try:
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)   # TF's WriteFile creates the directory
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise io_error(path, e) from None
    return None


@lowers("Timestamp", host=True)
def timestamp(**_):
    return np.asarray(time.time(), dtype=np.float64)


@lowers("EnsureShape")
def ensure_shape(x, *, shape, **_):
    want = _ts.as_shape(shape)
    have = np.shape(x)
    if not want.is_compatible_with(_ts.TensorShape(list(have))):
        dims = lambda s: "[" + ",".join("?" if d is None else str(d) for d in s) + "]"  # noqa: E731
        raise errors.InvalidArgumentError(
            None, None, f"Shape of tensor {dims(have)} is not compatible with expected shape "
                        f"{dims(want.as_list()) if want.ndims is not None else '<unknown>'}.")
    return x


@lowers("ParallelConcat")
def parallel_concat(*values, shape, **_):
    if all(isinstance(v, np.ndarray) and v.dtype == object for v in values):   # strings stay on the host
        return np.concatenate(values, axis=0)
    return jnp.concatenate([jnp.asarray(v) for v in values], axis=0)
