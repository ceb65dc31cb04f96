"""`tf.make_tensor_proto` / `tf.make_ndarray`: numpy values ↔ TensorFlow's TensorProto, as TF writes them.

The encoding rules are tensorflow/python/framework/tensor_util.py's: an array of more than one element of
a fixed-size type goes into `tensor_content` (raw little-endian bytes); scalars, broadcast values and
strings go into the typed repeated fields (`float_val`, `half_val` holding float16/bfloat16 bit patterns,
`scomplex_val` as interleaved real/imaginary parts …). Reading accepts both forms and repeats the last
value up to the shape (TF's "a single value broadcast to the shape").
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dtypes
from graphcompat.framework import tensor_shape as _ts

# dtypes TF writes as raw bytes when the array has more than one element (TF's _TENSOR_CONTENT_TYPES).
_TENSOR_CONTENT_TYPES = frozenset([_dtypes.float16, _dtypes.float32, _dtypes.float64, _dtypes.int32,
                                   _dtypes.uint8, _dtypes.int16, _dtypes.int8, _dtypes.int64, _dtypes.uint32,
                                   _dtypes.uint64, _dtypes.bfloat16, _dtypes.qint8, _dtypes.quint8,
                                   _dtypes.qint16, _dtypes.quint16, _dtypes.qint32])

# dtype → the TensorProto field holding its values one by one.
_FIELD = {
    _dtypes.float32: "float_val", _dtypes.float64: "double_val", _dtypes.int32: "int_val",
    _dtypes.uint8: "int_val", _dtypes.uint16: "int_val", _dtypes.int16: "int_val", _dtypes.int8: "int_val",
    _dtypes.int64: "int64_val", _dtypes.uint32: "uint32_val", _dtypes.uint64: "uint64_val",
    _dtypes.bool_: "bool_val", _dtypes.float16: "half_val", _dtypes.bfloat16: "half_val",
    _dtypes.complex64: "scomplex_val", _dtypes.complex128: "dcomplex_val", _dtypes.string: "string_val",
    _dtypes.qint8: "int_val", _dtypes.quint8: "int_val", _dtypes.qint16: "int_val", _dtypes.quint16: "int_val",
    _dtypes.qint32: "int_val",
}


def storage_view(arr: np.ndarray) -> np.ndarray:
    """An array of a quantized type's numpy structured dtype as its plain integers (what graphcompat holds,
    see dtypes.storage_numpy_dtype); other arrays unchanged."""
    return arr.view(arr.dtype[0]) if arr.dtype.names else arr


def quantized_view(arr: np.ndarray, dtype: _dtypes.DType) -> np.ndarray:
    """The plain integer storage of a quantized `dtype` as TF's numpy structured dtype."""
    return np.asarray(arr).view(np.dtype(dtype.as_numpy_dtype)) if dtype.is_quantized else arr


def _tensor_pb2():
    from tensorboard.compat.proto import tensor_pb2
    return tensor_pb2


def _flatten_strings(values) -> list:
    if isinstance(values, (list, tuple)):
        return [s for v in values for s in _flatten_strings(v)]
    return [values]


def _as_bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, np.bytes_):
        return bytes(value)
    if isinstance(value, np.str_):
        return str(value).encode("utf-8")
    raise TypeError(f"Expected binary or unicode string, got {value!r}")


def _to_numpy(values, dtype: Optional[_dtypes.DType], shape) -> np.ndarray:
    """TF's value -> ndarray step (constant_op.to_numpy: its checks, wrap-around and dtype preferences)."""
    from graphcompat.framework.constant_op import to_numpy
    return to_numpy(values, dtype, shape)


def make_tensor_proto(values, dtype=None, shape=None, verify_shape: bool = False,
                      allow_broadcast: bool = False):
    """`tf.make_tensor_proto`: a TensorProto holding `values` (optionally cast to `dtype`, shaped `shape`)."""
    tensor_pb2 = _tensor_pb2()
    if isinstance(values, tensor_pb2.TensorProto):
        return values
    if type(values).__name__ == "TensorProto":  # real TensorFlow's message: same wire format
        return tensor_pb2.TensorProto.FromString(values.SerializeToString())
    if dtype is not None:
        dtype = _dtypes.as_dtype(dtype).base_dtype
    arr = _to_numpy(values, dtype, shape)
    if arr.dtype.kind in "SUO":
        numpy_dtype = _dtypes.string
    else:
        try:
            numpy_dtype = _dtypes.as_dtype(arr.dtype)
        except TypeError:
            raise TypeError(f"Unrecognized data type: {arr.dtype}.") from None
    if dtype is not None and dtype != numpy_dtype:
        raise TypeError(f"`dtype` {dtype!r} is not compatible with {values} of dtype {arr.dtype}.")
    if shape is None:
        shape, is_same_size, shape_size = arr.shape, True, arr.size
    else:
        shape = [int(_ts.dimension_value(d)) for d in _ts.as_shape(shape)]
        shape_size = int(np.prod(shape, dtype=np.int64))
        is_same_size = shape_size == arr.size
        if allow_broadcast:
            if arr.shape not in ((1,), ()) and arr.size != shape_size:
                raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, but got {arr.shape}.")
        else:
            if verify_shape and arr.shape != tuple(shape):
                raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, but got {arr.shape}.")
            if arr.size > shape_size:
                raise ValueError(f"Too many elements provided. Takes at most {shape_size:d}, but got "
                                 f"{arr.size:d}.")
    proto = tensor_pb2.TensorProto(dtype=numpy_dtype.as_datatype_enum,
                                   tensor_shape=_ts.TensorShape(list(shape)).as_proto())
    if is_same_size and numpy_dtype in _TENSOR_CONTENT_TYPES and shape_size > 1:
        if arr.size * arr.itemsize >= (1 << 31):
            raise ValueError("Cannot create a tensor proto whose content is larger than 2GB.")
        little = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        proto.tensor_content = np.ascontiguousarray(little).tobytes()
        return proto
    if numpy_dtype == _dtypes.string:
        flat = _flatten_strings(values) if not isinstance(values, np.ndarray) else list(arr.reshape(-1))
        try:
            proto.string_val.extend(_as_bytes(v) for v in flat)
        except TypeError:
            raise TypeError(f"Failed to convert elements of {values} to Tensor. Consider casting elements to a "
                            "supported type.") from None
        return proto
    append_values(proto, numpy_dtype, storage_view(arr).reshape(-1))
    return proto


def append_values(proto, dtype: _dtypes.DType, flat: np.ndarray) -> None:
    """Appends a flat array to `proto`'s typed field for `dtype`."""
    field = _FIELD.get(dtype)
    if field is None:
        raise TypeError(f"Element type not supported in TensorProto: {dtype.name}.")
    target = getattr(proto, field)
    if dtype in (_dtypes.float16, _dtypes.bfloat16):
        target.extend(flat.astype(dtype.as_numpy_dtype).view(np.uint16).tolist())
    elif dtype.is_complex:
        target.extend(np.stack([flat.real, flat.imag], axis=-1).reshape(-1).tolist())
    elif dtype == _dtypes.string:
        target.extend(_as_bytes(v) for v in flat)
    else:
        target.extend(flat.tolist())


def make_ndarray(tensor) -> np.ndarray:
    """`tf.make_ndarray`: the numpy value of a TensorProto (strings as an object array of bytes)."""
    shape = [d.size for d in tensor.tensor_shape.dim]
    plain = _PLAIN.get(tensor.dtype)
    if plain is not None:  # the general path below, for the types most constants have, with less work each
        np_dtype, little, field = plain
        content = tensor.tensor_content
        if content:
            return np.frombuffer(content, dtype=little).astype(np_dtype).reshape(shape)
        raw = getattr(tensor, field)
        return _fill(np.fromiter(raw, dtype=np_dtype, count=len(raw)), shape, math.prod(shape), np_dtype)
    num_elements = int(np.prod(shape, dtype=np.int64))
    dtype = _dtypes.as_dtype(tensor.dtype)
    if dtype in (_dtypes.resource, _dtypes.variant):
        raise TypeError(f"Unsupported tensor type: {tensor.dtype}. graphcompat cannot hold a {dtype.name} "
                        "value in a constant.")
    if dtype.is_quantized:  # read as its integers, returned in TF's structured dtype
        plain = tensor_pb2_like(tensor, _dtypes.as_dtype(_dtypes.storage_numpy_dtype(dtype)))
        return quantized_view(make_ndarray(plain), dtype)
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    if tensor.tensor_content:
        return np.frombuffer(tensor.tensor_content, dtype=np_dtype.newbyteorder("<")).astype(np_dtype) \
            .reshape(shape)
    field = _FIELD.get(dtype)
    if field is None:
        raise TypeError(f"Unsupported tensor type: {tensor.dtype}.")
    raw = getattr(tensor, field)
    if dtype == _dtypes.string:
        values = np.empty(len(raw), dtype=object)
        values[:] = list(raw)
    elif dtype in (_dtypes.float16, _dtypes.bfloat16):
        values = np.fromiter(raw, dtype=np.uint16, count=len(raw)).view(np_dtype)
    elif dtype.is_complex:
        parts = np.fromiter(raw, dtype=np_dtype.type(0).real.dtype, count=len(raw))
        values = (parts[0::2] + 1j * parts[1::2]).astype(np_dtype)
    else:
        values = np.fromiter(raw, dtype=np_dtype, count=len(raw))
    if values.size == 0 and dtype == _dtypes.string:
        return np.full(shape, b"", dtype=object)
    return _fill(values, shape, num_elements, np_dtype)


def _fill(values: np.ndarray, shape: list, num_elements: int, np_dtype) -> np.ndarray:
    """A TensorProto's typed values as an array of `shape`: zeros if none, the last repeated if too few."""
    if values.size == 0:
        return np.zeros(shape, np_dtype)
    if values.size < num_elements:  # TF broadcasts the last value
        values = np.concatenate([values, np.repeat(values[-1:], num_elements - values.size)])
    elif values.size > num_elements:
        raise ValueError(f"TensorProto of shape {shape} holds {values.size} values; at most {num_elements} fit.")
    return values.reshape(shape)


# DataType enum → (numpy dtype, its little-endian form, TensorProto field) for the plain numeric types and
# bool: their values need none of make_ndarray's special cases (quantized, half, complex, string).
_PLAIN = {dt.as_datatype_enum: (np.dtype(dt.as_numpy_dtype), np.dtype(dt.as_numpy_dtype).newbyteorder("<"),
                                _FIELD[dt])
          for dt in (_dtypes.float32, _dtypes.float64, _dtypes.int32, _dtypes.int64, _dtypes.uint8, _dtypes.int8,
                     _dtypes.int16, _dtypes.uint16, _dtypes.uint32, _dtypes.uint64, _dtypes.bool_)}


def tensor_pb2_like(tensor, dtype: _dtypes.DType):
    """A copy of a TensorProto that claims `dtype` (same fields, same bytes)."""
    copy = _tensor_pb2().TensorProto.FromString(tensor.SerializeToString())  # TF's own message class too
    copy.dtype = dtype.as_datatype_enum
    return copy


__all__ = ["make_tensor_proto", "make_ndarray"]
