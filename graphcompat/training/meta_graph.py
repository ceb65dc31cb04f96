"""MetaGraphDef export/import (`tf.train.export_meta_graph`, `import_meta_graph`, `write_graph`).

Export writes TF's own MetaGraphDef: the GraphDef (TF op types and attrs), the SaverDef, and the
collections (variables as VariableDef bytes, tensors/ops as node names). Import is `tf.import_graph_def`
(graphcompat/framework/importer.py: TF1 and functional control flow rebuilt, shapes re-inferred) followed
by the collections, re-creating ref and resource Variables from their VariableDefs and Savers from
SaverDefs, as TF's meta_graph.import_scoped_meta_graph does. Meta graphs written by TF 1.x, by
tf.compat.v1 in TF 2.x and by graphcompat import the same way, training ops included.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

from graphcompat.formats.checkpoint_state import atomic_write
from graphcompat.framework import ops as _ops

# Collections whose members are variables (serialized as VariableDef, as TF's proto registry does).
VARIABLE_COLLECTIONS = ("variables", "trainable_variables", "local_variables", "model_variables",
                        "moving_average_variables", "metric_variables", "global_step",
                        "trainable_resource_variables")


def _pb2():
    from tensorboard.compat.proto import graph_pb2, meta_graph_pb2, saver_pb2, variable_pb2
    return graph_pb2, meta_graph_pb2, saver_pb2, variable_pb2


# ------------------------------------------------------------------------------------------------
# Export
# ------------------------------------------------------------------------------------------------
def variable_def(var, export_scope: Optional[str] = None):
    """A variable as TF's VariableDef (names of its variable op, initial value, initializer, snapshot)."""
    return var.to_proto(export_scope)  # None outside export_scope: TF leaves such variables out


def _is_variable(value) -> bool:
    return hasattr(value, "_initializer_op") and hasattr(value, "_snapshot")


def _add_collection_def(meta_graph_def, key: str, graph: _ops.Graph, export_scope=None) -> None:
    items = graph.get_collection(key)
    if not items:
        return
    col = meta_graph_def.collection_def[key]
    try:
        if all(_is_variable(v) for v in items):
            protos = [variable_def(v, export_scope) for v in items]
            col.bytes_list.value.extend(p.SerializeToString() for p in protos if p is not None)
        elif all(isinstance(v, (_ops.Tensor, _ops.Operation)) for v in items):
            names = [v.name for v in items]
            if export_scope:
                names = [n[len(export_scope) + 1:] if n.startswith(export_scope + "/") else n for n in names]
            col.node_list.value.extend(names)
        elif all(hasattr(v, "enqueue_ops") and hasattr(v, "to_proto") for v in items):  # QueueRunners
            protos = [v.to_proto(export_scope) for v in items]
            col.bytes_list.value.extend(p.SerializeToString() for p in protos if p is not None)
        elif all(isinstance(v, (bytes, str)) for v in items):
            col.bytes_list.value.extend(v.encode() if isinstance(v, str) else v for v in items)
        elif all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
            col.int64_list.value.extend(int(v) for v in items)
        elif all(isinstance(v, (float, np.floating)) for v in items):
            col.float_list.value.extend(float(v) for v in items)
        elif all(type(v).__name__ == "Any" and hasattr(v, "type_url") for v in items):
            col.any_list.value.extend(items)  # e.g. a SavedModel's AssetFileDefs
        else:  # TF skips (with a warning) collections it cannot serialize
            del meta_graph_def.collection_def[key]
    except AttributeError:
        del meta_graph_def.collection_def[key]


def create_meta_graph_def(meta_info_def=None, graph_def=None, saver_def=None, collection_list=None,
                          graph: Optional[_ops.Graph] = None, export_scope: Optional[str] = None,
                          clear_devices: bool = False, **unused):
    """A MetaGraphDef of `graph` (default graph) or of a given GraphDef, with saver and collections."""
    _, meta_graph_pb2, _, _ = _pb2()
    graph = graph or _ops.get_default_graph()
    meta = meta_graph_pb2.MetaGraphDef()
    if meta_info_def is not None:
        meta.meta_info_def.CopyFrom(meta_info_def)
    meta.meta_info_def.tensorflow_version = meta.meta_info_def.tensorflow_version or "2.21.0"
    meta.meta_info_def.tensorflow_git_version = meta.meta_info_def.tensorflow_git_version or "graphcompat"
    if graph_def is None:
        graph_def = graph.as_graph_def(add_shapes=True)
    meta.graph_def.CopyFrom(graph_def)
    if export_scope:
        _strip_scope(meta.graph_def, export_scope)
    if clear_devices:
        for node in meta.graph_def.node:
            node.device = ""
        for function in meta.graph_def.library.function:  # TF clears the bodies' devices too
            for node in function.node_def:
                node.device = ""
    if saver_def is not None:
        meta.saver_def.CopyFrom(saver_def)
    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    for key in sorted(keys):
        _add_collection_def(meta, key, graph, export_scope)
    return meta


def _strip_scope(graph_def, scope: str) -> None:
    prefix = scope + "/"
    kept = [n for n in graph_def.node if n.name.startswith(prefix)]
    del graph_def.node[:]
    for node in kept:
        node.name = node.name[len(prefix):]
        for i, name in enumerate(node.input):
            ctrl = name.startswith("^")
            bare = name[1:] if ctrl else name
            if bare.startswith(prefix):
                node.input[i] = ("^" if ctrl else "") + bare[len(prefix):]
        graph_def.node.add().CopyFrom(node)


def _write_proto(filename: str, proto, as_text: bool) -> None:
    from google.protobuf import text_format
    directory = os.path.dirname(filename)
    if directory:
        os.makedirs(directory, exist_ok=True)
    data = text_format.MessageToString(proto) if as_text else proto.SerializeToString()
    atomic_write(filename, data)


def export_meta_graph(filename: Optional[str] = None, meta_info_def=None, graph_def=None, saver_def=None,
                      collection_list=None, as_text: bool = False, graph: Optional[_ops.Graph] = None,
                      export_scope: Optional[str] = None, clear_devices: bool = False,
                      clear_extraneous_savers: bool = False, strip_default_attrs: bool = False,
                      save_debug_info: bool = False, **kwargs):
    """`tf.train.export_meta_graph`: returns the MetaGraphDef and writes it to `filename` if given."""
    meta = create_meta_graph_def(meta_info_def, graph_def, saver_def, collection_list, graph, export_scope,
                                 clear_devices)
    if filename:
        _write_proto(filename, meta, as_text)
    return meta


def write_graph(graph_or_graph_def, logdir: str, name: str, as_text: bool = True) -> str:
    """`tf.train.write_graph`: the GraphDef as text (default) or binary; returns the file path."""
    if isinstance(graph_or_graph_def, _ops.Graph):
        graph_def = graph_or_graph_def.as_graph_def()
    else:
        graph_def = graph_or_graph_def
    path = os.path.join(logdir, name)
    _write_proto(path, graph_def, as_text)
    return path


# ------------------------------------------------------------------------------------------------
# Import
# ------------------------------------------------------------------------------------------------
def __getattr__(name: str):
    # `attr_from_proto` stays importable from here; the importer (a large module) loads on first use.
    if name == "attr_from_proto":
        from graphcompat.framework.importer import attr_from_proto
        return attr_from_proto
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _prepend_name_scope(name: str, scope: str) -> str:
    """TF's ops.prepend_name_scope: `scope/name` (control inputs `^scope/name`)."""
    if not scope:
        return name
    if name.startswith("^"):
        return f"^{scope}/{name[1:]}"
    return f"{scope}/{name}"


def restore_collections(graph: _ops.Graph, meta_graph_def, import_scope: Optional[str] = None) -> dict:
    """Adds the MetaGraphDef's collections to `graph` (TF's import_scoped_meta_graph): variables from their
    VariableDefs (ref or resource), savers from their SaverDefs, graph elements by name (entries naming
    nodes the import rebuilt away, such as TF1 Switch nodes, are skipped), numbers and bytes as they are.
    Returns the variables, by their VariableDef bytes."""
    from graphcompat.variables import Variable
    _, _, saver_pb2, variable_pb2 = _pb2()
    scope = import_scope or ""
    variables: dict = {}
    for key in sorted(meta_graph_def.collection_def):
        col = meta_graph_def.collection_def[key]
        kind = col.WhichOneof("kind")
        if key == "unbound_inputs" or kind is None:
            continue
        if kind == "node_list":
            for name in col.node_list.value:
                try:
                    graph.add_to_collection(key, graph.as_graph_element(_prepend_name_scope(name, scope)))
                except (KeyError, ValueError):
                    continue
        elif kind == "bytes_list":
            if key in VARIABLE_COLLECTIONS:
                for blob in col.bytes_list.value:
                    var = variables.get(blob)
                    if var is None:
                        proto = variable_pb2.VariableDef.FromString(blob)
                        var = variables[blob] = Variable.from_proto(proto, import_scope=scope or None)
                    graph.add_to_collection(key, var)
            elif key == _ops.GraphKeys.SAVERS:
                from graphcompat.training.saver import Saver
                for blob in col.bytes_list.value:
                    saver_def = _scoped_saver_def(saver_pb2.SaverDef.FromString(blob), scope)
                    graph.add_to_collection(key, Saver(saver_def=saver_def, name=scope or None))
            elif key == _ops.GraphKeys.QUEUE_RUNNERS:
                from graphcompat.formats.protos import QueueRunnerDef
                from graphcompat.train.queue_runner import QueueRunner
                for blob in col.bytes_list.value:
                    graph.add_to_collection(key, QueueRunner.from_proto(QueueRunnerDef.FromString(blob),
                                                                        import_scope=scope or None))
            elif key in ("cond_context", "while_context"):
                continue  # TF1 control-flow contexts: the import rebuilt their structures as tf.cond/while_loop
            else:
                for blob in col.bytes_list.value:
                    graph.add_to_collection(key, blob)
        elif kind == "int64_list":
            for v in col.int64_list.value:
                graph.add_to_collection(key, int(v))
        elif kind == "float_list":
            for v in col.float_list.value:
                graph.add_to_collection(key, float(v))
        elif kind == "any_list":
            for v in col.any_list.value:
                graph.add_to_collection(key, v)
    return variables


def _scoped_saver_def(saver_def, scope: str):
    if not scope:
        return saver_def
    scoped = type(saver_def)()
    scoped.CopyFrom(saver_def)
    for field in ("filename_tensor_name", "save_tensor_name", "restore_op_name"):
        setattr(scoped, field, _prepend_name_scope(getattr(saver_def, field), scope))
    return scoped


def read_meta_graph_file(filename: str):
    """A MetaGraphDef from a binary or text file (TF's read_meta_graph_file, with its errors)."""
    from google.protobuf import text_format
    _, meta_graph_pb2, _, _ = _pb2()
    if not os.path.exists(filename):
        raise IOError(f"File does not exist. Received: {filename}.")
    with open(filename, "rb") as f:
        data = f.read()
    meta = meta_graph_pb2.MetaGraphDef()
    try:
        meta.ParseFromString(data)
        return meta
    except Exception:
        pass
    try:
        text_format.Merge(data.decode("utf-8"), meta)
    except text_format.ParseError as exc:
        raise IOError(f"Cannot parse file {filename}: {exc}.") from None
    return meta


def import_scoped_meta_graph_with_return_elements(meta_graph_or_file, clear_devices: bool = False,
                                                  graph: Optional[_ops.Graph] = None,
                                                  import_scope: Optional[str] = None, input_map=None,
                                                  return_elements=None):
    """TF's meta_graph.import_scoped_meta_graph_with_return_elements: (variables by name, elements)."""
    from graphcompat.framework import importer
    if isinstance(meta_graph_or_file, (str, bytes, os.PathLike)):
        meta = read_meta_graph_file(os.fsdecode(meta_graph_or_file))
    else:
        meta = meta_graph_or_file
    graph = graph or _ops.get_default_graph()
    with graph.as_default():
        graph_def = meta.graph_def
        if clear_devices:
            graph_def = type(graph_def)()
            graph_def.CopyFrom(meta.graph_def)
            for node in graph_def.node:
                node.device = ""
        scope = graph.unique_name(import_scope or "", mark_as_used=False) if import_scope else ""
        with importer.atomic(graph):
            elements = importer.import_graph_def(graph_def, name=import_scope or scope, input_map=input_map,
                                                 return_elements=return_elements)
            variables = restore_collections(graph, meta, scope)
    by_name = {v.name[len(scope) + 1:] if scope else v.name: v for v in variables.values()}
    return by_name, elements


def import_meta_graph(meta_graph_or_file, clear_devices: bool = False, import_scope: Optional[str] = None,
                      **kwargs):
    """`tf.train.import_meta_graph`: rebuilds the graph (TF1 or functional control flow included) and its
    collections; returns a Saver for the meta graph's SaverDef (or for its variables), or None."""
    return _import_meta_graph_with_return_elements(meta_graph_or_file, clear_devices, import_scope, **kwargs)[0]


def _import_meta_graph_with_return_elements(meta_graph_or_file, clear_devices=False, import_scope=None,
                                            return_elements=None, **kwargs):
    from graphcompat.training.saver import Saver
    if isinstance(meta_graph_or_file, (str, bytes, os.PathLike)):
        meta = read_meta_graph_file(os.fsdecode(meta_graph_or_file))
    else:
        meta = meta_graph_or_file
    imported, elements = import_scoped_meta_graph_with_return_elements(
        meta, clear_devices=clear_devices, import_scope=import_scope, return_elements=return_elements, **kwargs)
    graph = _ops.get_default_graph()
    if meta.HasField("saver_def"):
        scope = import_scope
        if imported:  # the scope the import really used (uniquified)
            key, var = next(iter(imported.items()))
            scope = var.name[:-len(key)].rstrip("/") or None
        return Saver(saver_def=_scoped_saver_def(meta.saver_def, scope or ""), name=scope), elements
    if graph.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES) or graph.get_collection(
            _ops.GraphKeys.SAVEABLE_OBJECTS):
        return Saver(), elements
    return None, elements
