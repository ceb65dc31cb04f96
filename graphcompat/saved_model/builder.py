"""`tf.saved_model.builder.SavedModelBuilder` (TF1's, tensorflow/python/saved_model/builder_impl.py).

Writes TF's on-disk format: `saved_model.pb` (or `.pbtxt`) holding one MetaGraphDef per tag set,
`variables/variables.{index,data-*}` (a V2 checkpoint of the first meta graph's session) and
`assets/` (files named by the ASSET_FILEPATHS collection, copied). TF loads what this writes.
"""
from __future__ import annotations

import os
import shutil

from graphcompat.framework import ops as _ops
from graphcompat.saved_model import constants, signature_def_utils
from graphcompat.saved_model._proto import SavedModel


def _variables_path(export_dir: str) -> str:
    return os.path.join(export_dir, constants.VARIABLES_DIRECTORY, constants.VARIABLES_FILENAME)


class SavedModelBuilder:
    """Builds a SavedModel: `add_meta_graph_and_variables` once, then `add_meta_graph` per extra tag set,
    then `save`."""

    def __init__(self, export_dir):
        export_dir = os.fspath(export_dir)
        self._saved_model = SavedModel(saved_model_schema_version=constants.SAVED_MODEL_SCHEMA_VERSION)
        self._export_dir = export_dir
        if os.path.exists(export_dir):
            if os.listdir(export_dir):
                raise AssertionError(f"Export directory {export_dir} already exists, and isn't empty. Please choose a "
                                     "different export directory, or delete all the contents of the specified "
                                     "directory.")
        else:
            os.makedirs(export_dir)
        self._has_saved_variables = False
        self._saved_asset_files: set = set()

    # --- validation ---------------------------------------------------------------------------
    def _validate_tensor_info(self, tensor_info) -> None:
        if tensor_info is None:
            raise AssertionError("All TensorInfo protos used in the SignatureDefs must have the name and dtype "
                                 "fields set.")
        encoding = tensor_info.WhichOneof("encoding")
        if encoding is None:
            raise AssertionError(f"Invalid `tensor_info`: {tensor_info}. All TensorInfo protos used in the "
                                 "SignatureDefs must have one of the 'encoding' fields (e.g., name or coo_sparse) set.")
        if encoding == "composite_tensor":
            for component in tensor_info.composite_tensor.components:
                self._validate_tensor_info(component)
        elif tensor_info.dtype == 0:
            raise AssertionError(f"Invalid `tensor_info`: {tensor_info}. All TensorInfo protos used in the "
                                 "SignatureDefs must have the dtype field set.")

    def _validate_signature_def_map(self, signature_def_map: dict) -> None:
        for signature_def in signature_def_map.values():
            for info in signature_def.inputs.values():
                self._validate_tensor_info(info)
            for info in signature_def.outputs.values():
                self._validate_tensor_info(info)
        if constants.INIT_OP_SIGNATURE_KEY in signature_def_map:
            raise KeyError(f'SignatureDef map key "{constants.INIT_OP_SIGNATURE_KEY}" is reserved for '
                           "initialization. Please use a different key.")
        if constants.TRAIN_OP_SIGNATURE_KEY in signature_def_map:
            raise KeyError(f'SignatureDef map key "{constants.TRAIN_OP_SIGNATURE_KEY}" is reserved for the train '
                           "op. Please use a different key.")

    # --- collections: assets, main op ------------------------------------------------------------
    def _save_and_write_assets(self, assets_collection) -> None:
        names: dict = {}
        for tensor in assets_collection or []:
            source = _asset_path_from_tensor(tensor)
            if not source:
                raise ValueError(f"Asset filepath tensor {tensor} in is invalid.")
            filename = _asset_filename(source, names)
            _add_asset_to_collection(filename, tensor)
            names[filename] = source
        if not names:
            return
        assets_dir = os.path.join(self._export_dir, constants.ASSETS_DIRECTORY)
        os.makedirs(assets_dir, exist_ok=True)
        for filename, source in names.items():
            destination = os.path.join(assets_dir, filename)
            if os.path.exists(source) and source != destination and destination not in self._saved_asset_files:
                shutil.copyfile(source, destination)
                self._saved_asset_files.add(destination)

    @staticmethod
    def _maybe_add_main_op(main_op) -> None:
        if main_op is None:
            return
        if not isinstance(main_op, _ops.Operation):
            raise TypeError(f"Expected {main_op} to be an Operation but got type {type(main_op)} instead.")
        for key in (constants.MAIN_OP_KEY, constants.LEGACY_INIT_OP_KEY):
            if _ops.get_collection(key):
                raise ValueError(f"Graph already contains one or more main ops under the collection {key}.")
        _ops.add_to_collection(constants.MAIN_OP_KEY, main_op)

    def _tag_and_add_meta_graph(self, meta_graph_def, tags, signature_def_map) -> None:
        meta_graph_def.meta_info_def.tags.extend(tags)
        for key, signature_def in (signature_def_map or {}).items():
            meta_graph_def.signature_def[key].CopyFrom(signature_def)
        self._saved_model.meta_graphs.add().CopyFrom(meta_graph_def)

    @staticmethod
    def _maybe_create_saver(saver=None):
        if saver:
            return saver
        from graphcompat.training.saver import Saver
        from graphcompat import variables
        graph = _ops.get_default_graph()
        saveable = variables.global_variables() + graph.get_collection(_ops.GraphKeys.SAVEABLE_OBJECTS)
        return Saver(saveable, sharded=True, allow_empty=True)

    # --- public API -------------------------------------------------------------------------------
    def add_meta_graph(self, tags, signature_def_map=None, assets_collection=None, legacy_init_op=None,
                       clear_devices: bool = False, main_op=None, strip_default_attrs: bool = False, saver=None):
        """Adds the current graph as another MetaGraphDef (variables come from the first one)."""
        if not self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has not been saved yet. Please "
                                 "invoke `add_meta_graph_and_variables()` first.")
        signature_def_map = signature_def_map or {}
        self._validate_signature_def_map(signature_def_map)
        self._save_and_write_assets(assets_collection)
        self._maybe_add_main_op(main_op if main_op is not None else legacy_init_op)
        saver = self._maybe_create_saver(saver)
        meta_graph_def = saver.export_meta_graph(clear_devices=clear_devices, strip_default_attrs=strip_default_attrs)
        self._tag_and_add_meta_graph(meta_graph_def, tags, signature_def_map)

    def add_meta_graph_and_variables(self, sess, tags, signature_def_map=None, assets_collection=None,
                                     legacy_init_op=None, clear_devices: bool = False, main_op=None,
                                     strip_default_attrs: bool = False, saver=None):
        """Saves `sess`'s variables to `variables/` and adds its graph as the first MetaGraphDef."""
        if self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has already been saved. Please "
                                 "invoke `add_meta_graph()` instead.")
        signature_def_map = signature_def_map or {}
        self._validate_signature_def_map(signature_def_map)
        self._save_and_write_assets(assets_collection)
        self._maybe_add_main_op(main_op or legacy_init_op)
        os.makedirs(os.path.join(self._export_dir, constants.VARIABLES_DIRECTORY), exist_ok=True)
        saver = self._maybe_create_saver(saver)
        saver.save(sess, _variables_path(self._export_dir), write_meta_graph=False, write_state=False)
        meta_graph_def = saver.export_meta_graph(clear_devices=clear_devices, strip_default_attrs=strip_default_attrs)
        self._tag_and_add_meta_graph(meta_graph_def, tags, signature_def_map)
        self._has_saved_variables = True

    def save(self, as_text: bool = False) -> bytes:
        """Writes `saved_model.pb` (or `saved_model.pbtxt`); returns its path (bytes, as TF)."""
        from google.protobuf import text_format
        from graphcompat.formats.checkpoint_state import atomic_write
        os.makedirs(self._export_dir, exist_ok=True)
        if as_text:
            path = os.path.join(self._export_dir, constants.SAVED_MODEL_FILENAME_PBTXT)
            atomic_write(path, text_format.MessageToString(self._saved_model))
        else:
            path = os.path.join(self._export_dir, constants.SAVED_MODEL_FILENAME_PB)
            atomic_write(path, self._saved_model.SerializeToString(deterministic=True))
        return os.fsencode(path)


Builder = SavedModelBuilder


def _asset_path_from_tensor(path_tensor):
    if not isinstance(path_tensor, _ops.Tensor):
        raise TypeError(f"Asset path tensor {path_tensor} must be a Tensor.")
    if path_tensor.op.type != "Const":
        raise TypeError(f"Asset path tensor {path_tensor} must be of type constant.Has type {path_tensor.op.type} "
                        "instead.")
    from graphcompat.framework import dtypes as _dt
    if path_tensor.dtype != _dt.string:
        raise TypeError(f"Asset path tensor {path_tensor}` must be of dtype string.Has type {path_tensor.dtype} "
                        "instead.")
    values = path_tensor.op.get_attr("value").string_val
    if len(values) != 1:
        raise TypeError(f"Asset path tensor {path_tensor} must be a scalar.")
    return os.fsdecode(values[0])


def _asset_filename(source: str, names: dict) -> str:
    """The asset's file name in `assets/`: its base name, suffixed `_1`, `_2` … when another file holds it."""
    import filecmp
    filename = os.path.basename(source)
    if filename not in names or names[filename] == source or filecmp.cmp(source, names[filename], shallow=False):
        return filename
    i, unique = 1, filename
    while unique in names:
        unique = f"{filename}_{i}"
        i += 1
    return unique


def _add_asset_to_collection(filename: str, tensor) -> None:
    from google.protobuf.any_pb2 import Any
    from tensorboard.compat.proto import meta_graph_pb2
    asset = meta_graph_pb2.AssetFileDef(filename=filename)
    asset.tensor_info.name = tensor.name
    # TF's type URL (tensorboard's copy of the message lives in package `tensorboard`): TF unpacks it.
    packed = Any(type_url="type.googleapis.com/tensorflow.AssetFileDef", value=asset.SerializeToString())
    _ops.add_to_collection(constants.ASSETS_KEY, packed)


def _add_op_to_signature_def_map(signature_def_map: dict, op, key: str) -> None:
    if op is not None:
        signature_def_map[key] = signature_def_utils.op_signature_def(op, key)
