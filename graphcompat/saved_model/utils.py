"""`tf.saved_model.utils`: TensorInfo protos for tensors (and ops), and back."""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts


def _meta_graph_pb2():
    from tensorboard.compat.proto import meta_graph_pb2
    return meta_graph_pb2


def _prepend_name_scope(name: str, import_scope: Optional[str]) -> str:
    if not import_scope:
        return name
    return f"^{import_scope}/{name[1:]}" if name.startswith("^") else f"{import_scope}/{name}"


def build_tensor_info(tensor):
    """`tf.saved_model.utils.build_tensor_info`: a TensorInfo (name, dtype, shape); SparseTensors as coo_sparse."""
    meta_graph_pb2 = _meta_graph_pb2()
    if hasattr(tensor, "_as_graph_element") and not isinstance(tensor, _ops.Tensor) and hasattr(tensor, "value") \
            and not hasattr(tensor, "indices"):
        tensor = tensor._as_graph_element()  # a variable: its value tensor
    sparse = hasattr(tensor, "indices") and hasattr(tensor, "dense_shape") and hasattr(tensor, "values")
    if sparse:
        from graphcompat.framework.constant_op import constant_value_as_shape
        shape = constant_value_as_shape(tensor.dense_shape)
    else:
        shape = tensor.get_shape()
    info = meta_graph_pb2.TensorInfo(dtype=tensor.dtype.base_dtype.as_datatype_enum, tensor_shape=shape.as_proto())
    if sparse:
        info.coo_sparse.values_tensor_name = tensor.values.name
        info.coo_sparse.indices_tensor_name = tensor.indices.name
        info.coo_sparse.dense_shape_tensor_name = tensor.dense_shape.name
    else:
        info.name = tensor.name
    return info


def build_tensor_info_from_op(op):
    """A TensorInfo naming an op (dtype DT_INVALID), as TF stores init and train ops in signatures."""
    return _meta_graph_pb2().TensorInfo(dtype=0, tensor_shape=_ts.unknown_shape().as_proto(), name=op.name)


def get_tensor_from_tensor_info(tensor_info, graph=None, import_scope: Optional[str] = None):
    """`tf.saved_model.utils.get_tensor_from_tensor_info`: the Tensor (or SparseTensor) a TensorInfo names."""
    graph = graph or _ops.get_default_graph()

    def tensor(name):
        return graph.get_tensor_by_name(_prepend_name_scope(name, import_scope))
    encoding = tensor_info.WhichOneof("encoding")
    if encoding == "name":
        return tensor(tensor_info.name)
    if encoding == "coo_sparse":
        from graphcompat.ops.parsing_ops import SparseTensor
        sparse = tensor_info.coo_sparse
        return SparseTensor(tensor(sparse.indices_tensor_name), tensor(sparse.values_tensor_name),
                            tensor(sparse.dense_shape_tensor_name))
    if encoding == "composite_tensor":
        raise NotImplementedError("tf.saved_model.utils.get_tensor_from_tensor_info of a composite_tensor "
                                  "TensorInfo (TF2 composite tensors) is not implemented by graphcompat")
    raise ValueError(f"Invalid TensorInfo.encoding: {encoding}. Expected `coo_sparse`, `composite_tensor`, or "
                     "`name` for a dense tensor.")


def get_element_from_tensor_info(tensor_info, graph=None, import_scope: Optional[str] = None):
    """The Tensor or Operation a TensorInfo names."""
    graph = graph or _ops.get_default_graph()
    return graph.as_graph_element(_prepend_name_scope(tensor_info.name, import_scope))
