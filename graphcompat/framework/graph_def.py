"""Graph → real `GraphDef`/`NodeDef`/`TensorProto` protobufs (TensorFlow's own messages, via tensorboard)."""
from __future__ import annotations

import numpy as np

from graphcompat.framework import dtypes as _dtypes
from graphcompat.framework import tensor_shape as _ts

# dtypes whose values go into TensorProto.tensor_content as raw little-endian bytes.
_RAW_CONTENT = {_dtypes.float16, _dtypes.float32, _dtypes.float64, _dtypes.int8, _dtypes.int16,
                _dtypes.int32, _dtypes.int64, _dtypes.uint8, _dtypes.uint16, _dtypes.uint32,
                _dtypes.uint64, _dtypes.complex64, _dtypes.complex128, _dtypes.bool_, _dtypes.bfloat16}


def tensor_proto(value: np.ndarray, dtype=None):
    """A numpy array as TF's TensorProto (raw `tensor_content` for numbers, `string_val` for strings)."""
    from tensorboard.compat.proto import tensor_pb2
    arr = np.asarray(value)
    dtype = _dtypes.as_dtype(dtype) if dtype is not None else (
        _dtypes.string if arr.dtype == object or arr.dtype.kind in "SU" else _dtypes.as_dtype(arr.dtype))
    if dtype.is_quantized:  # TF's make_tensor_proto: raw bytes, a single value in int_val
        from graphcompat.framework.tensor_util import make_tensor_proto
        structured = np.dtype(dtype.as_numpy_dtype)
        if not arr.dtype.names:
            arr = arr.astype(structured[0], copy=False).view(structured)
        return make_tensor_proto(arr)
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum,
                                   tensor_shape=_ts.TensorShape(arr.shape).as_proto())
    if dtype == _dtypes.string:
        proto.string_val.extend(v if isinstance(v, bytes) else str(v).encode() for v in arr.reshape(-1))
    elif arr.size == 1 and dtype in (_dtypes.float32, _dtypes.float64, _dtypes.int32, _dtypes.int64,
                                     _dtypes.bool_):
        # TF stores scalars in the typed repeated fields, as its make_tensor_proto does.
        v = arr.reshape(-1)[0]
        {_dtypes.float32: proto.float_val, _dtypes.float64: proto.double_val, _dtypes.int32: proto.int_val,
         _dtypes.int64: proto.int64_val, _dtypes.bool_: proto.bool_val}[dtype].append(v.item())
    elif dtype in _RAW_CONTENT:
        proto.tensor_content = np.ascontiguousarray(arr.astype(dtype.as_numpy_dtype, copy=False)) \
            .astype(np.dtype(dtype.as_numpy_dtype).newbyteorder("<"), copy=False).tobytes()
    else:
        raise TypeError(f"Cannot serialize a {dtype.name} tensor into a TensorProto")
    return proto


def tensor_proto_to_numpy(proto) -> np.ndarray:
    """TensorProto → numpy (`tf.make_ndarray`)."""
    dtype = _dtypes.as_dtype(proto.dtype)
    if dtype.is_quantized:  # TF's structured numpy dtype, as tf.make_ndarray
        from graphcompat.framework.tensor_util import make_ndarray
        return make_ndarray(proto)
    shape = [d.size for d in proto.tensor_shape.dim]
    n = int(np.prod(shape, dtype=np.int64))
    if dtype == _dtypes.string:
        vals = list(proto.string_val)
        arr = np.empty(n, dtype=object)
        for i in range(n):
            arr[i] = vals[i] if i < len(vals) else vals[-1]
        return arr.reshape(shape)
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=np_dtype.newbyteorder("<")).astype(np_dtype).reshape(shape)
    field = {_dtypes.float32: proto.float_val, _dtypes.float64: proto.double_val,
             _dtypes.int32: proto.int_val, _dtypes.int16: proto.int_val, _dtypes.int8: proto.int_val,
             _dtypes.uint8: proto.int_val, _dtypes.uint16: proto.int_val, _dtypes.int64: proto.int64_val,
             _dtypes.uint32: proto.uint32_val, _dtypes.uint64: proto.uint64_val,
             _dtypes.bool_: proto.bool_val, _dtypes.float16: proto.half_val,
             _dtypes.bfloat16: proto.half_val}.get(dtype)
    if field is None:
        raise TypeError(f"Unsupported TensorProto dtype {dtype.name}")
    vals = list(field)
    if dtype in (_dtypes.float16, _dtypes.bfloat16):
        vals = np.array(vals, np.uint16).view(np_dtype)
    if n == 0:
        return np.zeros(shape, np_dtype)
    if len(vals) < n:
        vals = list(vals) + [vals[-1]] * (n - len(vals))
    return np.asarray(vals, dtype=np_dtype).reshape(shape)


def attr_value(value):
    """A Python attr value (DType, TensorShape, ndarray, scalars, lists) → AttrValue."""
    from tensorboard.compat.proto import attr_value_pb2
    av = attr_value_pb2.AttrValue()
    if isinstance(value, _dtypes.DType):
        av.type = value.as_datatype_enum
    elif isinstance(value, _ts.TensorShape):
        av.shape.CopyFrom(value.as_proto())
    elif isinstance(value, np.ndarray):
        av.tensor.CopyFrom(tensor_proto(value))
    elif isinstance(value, bool):
        av.b = value
    elif isinstance(value, (int, np.integer)):
        av.i = int(value)
    elif isinstance(value, (float, np.floating)):
        av.f = float(value)
    elif isinstance(value, str):
        av.s = value.encode()
    elif isinstance(value, bytes):
        av.s = value
    elif isinstance(value, (list, tuple)):
        lst = av.list
        lst.SetInParent()
        for v in value:
            if isinstance(v, _dtypes.DType):
                lst.type.append(v.as_datatype_enum)
            elif isinstance(v, _ts.TensorShape):
                lst.shape.add().CopyFrom(v.as_proto())
            elif isinstance(v, bool):
                lst.b.append(v)
            elif isinstance(v, (int, np.integer)):
                lst.i.append(int(v))
            elif isinstance(v, (float, np.floating)):
                lst.f.append(float(v))
            elif isinstance(v, str):
                lst.s.append(v.encode())
            elif isinstance(v, bytes):
                lst.s.append(v)
            elif hasattr(v, "SerializeToString") and type(v).__name__ == "NameAttrList":
                lst.func.add().CopyFrom(v)   # Case's `branches`
            else:
                raise TypeError(f"unsupported list attr element {v!r}")
    elif hasattr(value, "SerializeToString") and type(value).__name__ == "NameAttrList":
        av.func.CopyFrom(value)
    elif value is None:
        pass
    else:
        raise TypeError(f"unsupported attr value {value!r}")
    return av


def const_value_for_export(op) -> np.ndarray:
    """A Const's value as TF holds it: a quantized one's integers in TF's structured numpy dtype."""
    value = op.attrs["value"]
    dtype = op.attrs.get("dtype")
    if isinstance(dtype, _dtypes.DType) and dtype.is_quantized and isinstance(value, np.ndarray):
        return np.asarray(value).view(np.dtype(dtype.as_numpy_dtype))
    return value


def exported_attrs(op):
    """(key, AttrValue) of the attrs an op's NodeDef carries, sorted by key."""
    out = []
    for key in sorted(op.attrs):
        value = op.attrs[key]
        if key.startswith("_graphcompat") or callable(value) and not isinstance(value, _dtypes.DType):
            continue  # front-end-private bookkeeping never reaches the GraphDef
        if key == "value" and op.type == "Const":
            value = const_value_for_export(op)
        try:
            out.append((key, attr_value(value)))
        except TypeError:
            continue
    return out


def node_def(op, add_shapes: bool = False):
    from tensorboard.compat.proto import node_def_pb2
    nd = node_def_pb2.NodeDef(name=op.name, op=op.type, device=op.device)
    nd.input.extend(t._as_node_def_input() for t in op.inputs)
    # TF's Graph::ToGraphDef sorts a node's control inputs by name ("for more predictable serialization")
    nd.input.extend(sorted("^" + c.name for c in op.control_inputs))
    for key, value in exported_attrs(op):
        nd.attr[key].CopyFrom(value)
    if add_shapes and op.outputs:
        nd.attr["_output_shapes"].CopyFrom(attr_value([t.shape for t in op.outputs]))
    return nd


def graph_def(graph, from_version=None, add_shapes: bool = False):
    from tensorboard.compat.proto import graph_pb2
    gd = graph_pb2.GraphDef()
    gd.versions.CopyFrom(graph.graph_def_versions)
    # Bodies of If/While/scan ops live in the library, as TF writes them, not among the top-level nodes.
    from graphcompat.framework import function_library
    inside = function_library.body_ops(graph)
    for op in graph._ops:
        if (from_version is None or op._id >= from_version) and op not in inside:
            gd.node.add().CopyFrom(node_def(op, add_shapes))
    if graph._functions:
        # (a partial GraphDef, from_version, may lack the nodes a gradient's forward function copies)
        gd.library.CopyFrom(function_library.library(graph, gd.node if from_version is None else None))
    return gd
