"""`tf.saved_model.loader` (TF1's loader_impl): reads a SavedModel directory written by TF or graphcompat.

`load(sess, tags, export_dir)` imports the MetaGraphDef whose tag set equals `tags` into `sess.graph`
(tf.train.import_meta_graph: functional and TF1 control flow, resource variables …), restores
`variables/variables` with the meta graph's own Saver, and runs its init op (main op / legacy init op /
`__saved_model_init_op` signature) with the asset paths fed. Returns the MetaGraphDef.
"""
from __future__ import annotations

import os
from typing import Optional

from graphcompat.framework import ops as _ops
from graphcompat.saved_model import constants, signature_def_utils
from graphcompat.saved_model._proto import SavedModel


def parse_saved_model(export_dir):
    """The SavedModel proto of `export_dir` (`saved_model.pb`, else `saved_model.pbtxt`), with TF's errors."""
    from google.protobuf import message, text_format
    export_dir = os.fsdecode(os.fspath(export_dir))
    path_pb = os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PB)
    path_pbtxt = os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PBTXT)
    saved_model = SavedModel()
    if os.path.exists(path_pb):
        with open(path_pb, "rb") as f:
            data = f.read()
        try:
            saved_model.ParseFromString(data)
        except message.DecodeError as exc:
            raise IOError(f"Cannot parse file {os.fsencode(path_pb)}: {exc}.") from exc
    elif os.path.exists(path_pbtxt):
        with open(path_pbtxt, "rb") as f:
            data = f.read()
        try:
            text_format.Parse(data.decode("utf-8"), saved_model)
        except text_format.ParseError as exc:
            raise IOError(f"Cannot parse file {os.fsencode(path_pbtxt)}: {exc}.") from exc
    else:
        raise IOError(f"SavedModel file does not exist at: {export_dir}{os.path.sep}"
                      f"{{{constants.SAVED_MODEL_FILENAME_PBTXT}|{constants.SAVED_MODEL_FILENAME_PB}}}")
    return saved_model


def maybe_saved_model_directory(export_dir) -> bool:
    """`tf.saved_model.maybe_saved_model_directory`: whether the directory holds a saved_model.pb(txt)."""
    export_dir = os.fsdecode(os.fspath(export_dir))
    return any(os.path.exists(os.path.join(export_dir, name)) for name in (
        constants.SAVED_MODEL_FILENAME_PBTXT, constants.SAVED_MODEL_FILENAME_PB, constants.SAVED_MODEL_FILENAME_CPB))


contains_saved_model = maybe_saved_model_directory


def get_asset_tensors(export_dir, meta_graph_def, import_scope: Optional[str] = None) -> dict:
    """{asset tensor name: path of the asset in `export_dir/assets`} — the feed for the init op."""
    from tensorboard.compat.proto import meta_graph_pb2
    protos = list(meta_graph_def.asset_file_def)
    if not protos and constants.ASSETS_KEY in meta_graph_def.collection_def:
        for packed in meta_graph_def.collection_def[constants.ASSETS_KEY].any_list.value:
            if not packed.type_url.endswith(".AssetFileDef"):
                continue
            # by bytes: TF packs `tensorflow.AssetFileDef`, whose copy here is `tensorboard.AssetFileDef`
            protos.append(meta_graph_pb2.AssetFileDef.FromString(packed.value))
    assets_dir = os.path.join(os.fsdecode(os.fspath(export_dir)), constants.ASSETS_DIRECTORY)
    out = {}
    for proto in protos:
        name = proto.tensor_info.name
        if import_scope:
            name = f"{import_scope}/{name}"
        out[name] = os.path.join(assets_dir, proto.filename)
    return out


def _op_from_collection(meta_graph_def, key: str):
    collection_def = meta_graph_def.collection_def
    if key not in collection_def:
        return None
    names = collection_def[key].node_list.value
    if len(names) != 1:
        raise RuntimeError(f"Expected exactly one SavedModel init op. Found {len(names)}: {names}.")
    return _ops.get_collection(key)[0]


def _op_from_signature_def(meta_graph_def, key: str, import_scope):
    if key in meta_graph_def.signature_def:
        return signature_def_utils.load_op_from_signature_def(meta_graph_def.signature_def[key], key, import_scope)
    return None


def get_init_op(meta_graph_def, import_scope=None):
    return (_op_from_signature_def(meta_graph_def, constants.INIT_OP_SIGNATURE_KEY, import_scope)
            or _op_from_collection(meta_graph_def, constants.MAIN_OP_KEY)
            or _op_from_collection(meta_graph_def, constants.LEGACY_INIT_OP_KEY))


def get_train_op(meta_graph_def, import_scope=None):
    op = _op_from_signature_def(meta_graph_def, constants.TRAIN_OP_SIGNATURE_KEY, import_scope)
    return op if op is not None else _op_from_collection(meta_graph_def, constants.TRAIN_OP_KEY)


class SavedModelLoader:
    """Loads graphs and restores variable values from a SavedModel (TF's loader_impl.SavedModelLoader)."""

    def __init__(self, export_dir):
        self._export_dir = os.fsdecode(os.fspath(export_dir))
        self._variables_path = os.path.join(self._export_dir, constants.VARIABLES_DIRECTORY,
                                            constants.VARIABLES_FILENAME)
        self._saved_model = parse_saved_model(self._export_dir)

    export_dir = property(lambda self: self._export_dir)
    variables_path = property(lambda self: self._variables_path)
    saved_model = property(lambda self: self._saved_model)

    def get_meta_graph_def_from_tags(self, tags):
        available = []
        for meta_graph_def in self._saved_model.meta_graphs:
            available.append(set(meta_graph_def.meta_info_def.tags))
            if set(meta_graph_def.meta_info_def.tags) == set(tags):
                return meta_graph_def
        raise RuntimeError(f"MetaGraphDef associated with tags {str(tags).strip('[]')} could not be found in "
                           f"SavedModel, with available tags '{available}'. To inspect available tag-sets in the "
                           "SavedModel, please use the SavedModel CLI: `saved_model_cli`.")

    def load_graph(self, graph, tags, import_scope=None, **saver_kwargs):
        from graphcompat.training.meta_graph import _import_meta_graph_with_return_elements
        meta_graph_def = self.get_meta_graph_def_from_tags(tags)
        with graph.as_default():
            return _import_meta_graph_with_return_elements(meta_graph_def, import_scope=import_scope,
                                                           **saver_kwargs)

    def restore_variables(self, sess, saver, import_scope=None) -> None:
        from graphcompat.training.saver import Saver
        with sess.graph.as_default():
            if saver is None and not sess.graph.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES):
                return
            if isinstance(saver, Saver):
                saver.restore(sess, self._variables_path)
            else:
                raise ValueError("No tf.train.Saver object was passed to the function "
                                 "`SavedModelLoader.restore_variables`. Since there are variables in the graph, a "
                                 "saver is required.")

    def run_init_ops(self, sess, tags, import_scope=None) -> None:
        meta_graph_def = self.get_meta_graph_def_from_tags(tags)
        with sess.graph.as_default():
            assets = get_asset_tensors(self._export_dir, meta_graph_def, import_scope=import_scope)
            init_op = get_init_op(meta_graph_def, import_scope)
            if init_op is not None:
                sess.run(fetches=[init_op], feed_dict=assets)

    def load(self, sess, tags, import_scope=None, **saver_kwargs):
        with sess.graph.as_default():
            saver, _ = self.load_graph(sess.graph, tags, import_scope, **saver_kwargs)
            self.restore_variables(sess, saver, import_scope)
            self.run_init_ops(sess, tags, import_scope)
        return self.get_meta_graph_def_from_tags(tags)


def load(sess, tags, export_dir, import_scope=None, **saver_kwargs):
    """`tf.saved_model.loader.load`: the MetaGraphDef for `tags`, imported into `sess.graph` and restored."""
    return SavedModelLoader(export_dir).load(sess, tags, import_scope, **saver_kwargs)


__all__ = ["load", "maybe_saved_model_directory"]
