"""`tf.train.Saver`: V2 checkpoints in TensorFlow's own format, with TF's graph and TF's semantics.

The graph gets TF's save/restore subgraph (`save/Const`, `save/SaveV2`, `save/control_dependency`,
`save/RestoreV2`, `save/Assign*`, `save/restore_all`) so GraphDefs and meta graphs match TF's; running
them is done by host rules (lowering/rules/saver.py) that move the variables' bytes straight between the
session's device arrays and the bundle files. A restore checks every key, dtype and shape before any
variable changes.

Saves survive a crash or a kill at any instant (see `formats.bundle.write_bundle`): the bundle, then the
meta graph, then the `checkpoint` state file are each replaced atomically and fsynced, in that order, and
old checkpoints are deleted only once the state file no longer names them. So `checkpoint` only names
complete checkpoints, and a prefix saved again holds its previous or its new checkpoint. The next
completed save removes what an interrupted one left (temporary files, data files without an index).
"""
from __future__ import annotations

import glob
import os
import time
from typing import Optional

import numpy as np

from graphcompat import formats
from graphcompat.formats import bundle as _bundle
from graphcompat.formats import checkpoint_state as _state
from graphcompat.formats import checkpoint_v1 as _v1
from graphcompat.formats import durable as _durable
from graphcompat.framework import constant_op as _const
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework import ops as _ops
from graphcompat.framework.registry import apply_op, format_shape
from graphcompat.ops import checkpoint_ops, state_ops
from graphcompat.ops.control_ops import no_op, with_dependencies


def _saver_pb2():
    from tensorboard.compat.proto import saver_pb2
    return saver_pb2


# ------------------------------------------------------------------------------------------------
# Variables to save
# ------------------------------------------------------------------------------------------------
class SaveSpec:
    """TF's `BaseSaverBuilder.SaveSpec`: one tensor a SaveableObject writes, under the checkpoint key `name`
    (`tensor` may be a callable, called when the save graph is built)."""

    def __init__(self, tensor, slice_spec: str, name: str, dtype=None, device=None):
        self._tensor = tensor
        self.slice_spec = slice_spec
        self.name = name
        self.dtype = dtype if dtype is not None or callable(tensor) else tensor.dtype
        self.device = device

    @property
    def tensor(self) -> _ops.Tensor:
        return self._tensor() if callable(self._tensor) else self._tensor


class SaveableObject:
    """TF's `BaseSaverBuilder.SaveableObject`: something saved as several tensors (its `specs`) and restored
    by its own `restore(restored_tensors, restored_shapes)`, which returns the op that writes them back
    (tf.contrib.cudnn_rnn's opaque parameter buffer saves canonical weights this way). The Saver keys it by
    `name` among the variables and saves each spec under the spec's name."""

    def __init__(self, op, specs, name: str):
        self.op = op
        self.specs = list(specs)
        self.name = name

    @property
    def optional_restore(self) -> bool:
        return False

    @property
    def device(self):
        return getattr(self.op, "device", None)

    def restore(self, restored_tensors, restored_shapes):
        raise NotImplementedError("SaveableObject.restore: implemented by subclasses")


class BaseSaverBuilder:
    """The part of TF's `BaseSaverBuilder` that code outside the Saver names: its SaveSpec and SaveableObject."""
    SaveSpec = SaveSpec
    SaveableObject = SaveableObject


class _SaveableSlot:
    """Where the restored value of spec `index` of `saveable` goes (instead of a variable ref)."""

    def __init__(self, saveable: SaveableObject, index: int):
        self.saveable = saveable
        self.index = index


def _ref_and_name(value):
    """(tensor to save, its graph element for assignment or None, default checkpoint key).

    A resource variable (or a bare `resource` handle) has no ref to save or assign: its value is saved
    through its `Read/ReadVariableOp` snapshot (a new ReadVariableOp, made when the save graph is built,
    for a handle without one: the tensor is None here) and restored with an AssignVariableOp on the handle,
    as TF's ResourceVariableSaveable."""
    if getattr(value, "_is_resource_variable", False):
        return value._snapshot, value.handle, value.op.name
    if hasattr(value, "_ref") and hasattr(value, "_initializer_op"):  # a Variable
        return value._ref(), value._ref(), value.op.name
    if isinstance(value, _ops.Tensor):
        if value.dtype.is_ref_dtype:
            return value, value, value.op.name
        if value.dtype.base_dtype == _dt.resource:
            return None, value, value.op.name
        return value, None, value.op.name
    raise TypeError(f"Variable to save is not a Variable: {value}")


def _is_variable(value) -> bool:
    return hasattr(value, "_ref") and hasattr(value, "_initializer_op")


def _flatten(values) -> list:
    out = []
    for v in values:
        if isinstance(v, (list, tuple)):
            out.extend(_flatten(v))
        else:
            out.append(v)
    return out


def _is_partitioned(value) -> bool:
    from graphcompat.variables import PartitionedVariable
    return isinstance(value, PartitionedVariable)


def op_list_to_dict(var_list) -> dict:
    """TF's `saveable_object_util.op_list_to_dict`: checkpoint key → variable (or tensor).

    A PartitionedVariable is saved under its name; variables that are slices of one (they carry a
    SaveSliceInfo) are grouped into a list under the full variable's name, in name order as TF."""
    if isinstance(var_list, dict):
        return dict(var_list)
    if not isinstance(var_list, (list, tuple, set)):
        raise TypeError(f"Variables to save should be passed in a dict or a list: {var_list}")
    var_list = sorted(_flatten(list(var_list)), key=lambda x: getattr(x, "name", ""))
    names: dict = {}
    for var in var_list:
        if isinstance(var, SaveableObject):
            if var.name in names:
                raise ValueError(f"At least two variables have the same name: {var.name}")
            names[var.name] = var
            continue
        if _is_partitioned(var):
            if var.name in names:
                raise ValueError(f"At least two variables have the same name: {var.name}")
            names[var.name] = var
            continue
        if _is_variable(var) and getattr(var, "_save_slice_info", None):
            name = var._save_slice_info.full_name
            if name in names:
                if not isinstance(names[name], list):
                    raise ValueError(f"Mixing slices and non-slices with the same name: {name}")
                if not any(v is var for v in names[name]):
                    names[name].append(var)
            else:
                names[name] = [var]
            continue
        name = _ref_and_name(var)[2]
        if name in names:
            if names[name] is var or (not isinstance(names[name], list) and not _is_partitioned(names[name])
                                      and _ref_and_name(names[name])[0] is _ref_and_name(var)[0]):
                continue
            raise ValueError(f"At least two variables have the same name: {name}")
        names[name] = var
    return names


def _saveable_entries(names_to_vars: dict) -> list:
    """TF's `validate_and_slice_inputs`: (key, shape_and_slice, tensor to save, graph element to restore
    into) per saved tensor, keys in sorted order; a partitioned variable (or a list of slices) gives one
    entry per part, under its key, with the part's SaveSliceInfo spec."""
    entries, seen = [], set()
    for key in sorted(names_to_vars):
        if not isinstance(key, str):
            raise TypeError("names_to_saveables must be a dict mapping string names to trackable operations. "
                            f"Name is not a string: {key}")
        value = names_to_vars[key]
        if isinstance(value, SaveableObject):
            if value in seen:
                raise ValueError(f"The same saveable will be restored with two names: {key}")
            seen.add(value)
            entries.extend((spec.name, spec.slice_spec, spec.tensor, _SaveableSlot(value, i))
                           for i, spec in enumerate(value.specs))
            continue
        if _is_partitioned(value) or isinstance(value, (list, tuple)):
            slice_name = None
            parts = []
            for variable in value:
                if not _is_variable(variable):
                    raise ValueError(f"Slices must all be Variables: {variable}")
                info = variable._save_slice_info
                if not info:
                    raise ValueError(f"Slices must all be slices: {variable}")
                if slice_name is None:
                    slice_name = info.full_name
                elif slice_name != info.full_name:
                    raise ValueError(f"Slices must all be from the same tensor: {slice_name} != {info.full_name}")
                ref = variable.handle if getattr(variable, "_is_resource_variable", False) else variable._ref()
                parts.append((key, info.spec, variable._snapshot, ref))  # TF saves a part's read value
        else:
            tensor, ref, _ = _ref_and_name(value)
            parts = [(key, "", tensor, ref)]
        for part in parts:
            owner = part[3] if part[3] is not None else part[2]
            if owner in seen:
                raise ValueError(f"The same saveable will be restored with two names: {key}")
            seen.add(owner)
            entries.append(part)
    return entries


def _read_handle(handle: _ops.Tensor) -> _ops.Tensor:
    """The value to save of a bare resource handle: a ReadVariableOp made in the save scope."""
    from graphcompat.ops import resource_variable_ops as rv
    dtype, _ = rv.handle_data(handle)
    if dtype is None:
        raise ValueError(f"Cannot save the resource handle {handle.name}: the variable it names is not a "
                         "VarHandleOp of this graph")
    with _ops.name_scope("Read"):
        return rv.read_variable_op(handle, dtype)


def _assign_handle(handle: _ops.Tensor, restored: _ops.Tensor) -> _ops.Operation:
    """TF's `shape_safe_assign_variable_handle`: an Identity of the restored tensor, then AssignVariableOp
    (`save/Identity`, `save/AssignVariableOp`); a statically known shape must be compatible."""
    from graphcompat.ops import array_ops
    from graphcompat.ops import resource_variable_ops as rv
    dtype, shape = rv.handle_data(handle)
    restored = array_ops.identity(restored)
    shape.assert_is_compatible_with(restored.shape)
    return rv.assign_variable_op(handle, restored, dtype or restored.dtype)


# ------------------------------------------------------------------------------------------------
# Saver
# ------------------------------------------------------------------------------------------------
class Saver:
    """`tf.train.Saver(var_list=None, reshape=False, sharded=False, max_to_keep=5,
    keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False, saver_def=None,
    builder=None, defer_build=False, allow_empty=False, write_version=V2, pad_step_number=False,
    save_relative_paths=False, filename=None)`."""

    def __init__(self, var_list=None, reshape: bool = False, sharded: bool = False, max_to_keep: int = 5,
                 keep_checkpoint_every_n_hours: float = 10000.0, name: Optional[str] = None,
                 restore_sequentially: bool = False, saver_def=None, builder=None, defer_build: bool = False,
                 allow_empty: bool = False, write_version: int = 2, pad_step_number: bool = False,
                 save_relative_paths: bool = False, filename: Optional[str] = None):
        if defer_build and var_list:
            raise ValueError("If `var_list` is provided then build cannot be deferred. Either set "
                             "defer_build=False or var_list=None.")
        if reshape:
            raise NotImplementedError("tf.train.Saver(reshape=True)")
        if builder is not None:
            raise NotImplementedError("tf.train.Saver(builder=...): custom saver builders")
        self._var_list = var_list
        self._reshape = reshape
        self._sharded = sharded
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._name = name
        self._restore_sequentially = restore_sequentially
        self.saver_def = saver_def
        self._allow_empty = allow_empty
        self._is_built = False
        self._is_empty = False
        self._pad_step_number = pad_step_number
        self._filename = filename
        self._write_version = write_version
        self._save_relative_paths = save_relative_paths
        self._last_checkpoints: list = []
        self._checkpoints_to_be_deleted: list = []
        self._next_checkpoint_time = time.time() + keep_checkpoint_every_n_hours * 3600
        self._graph = _ops.get_default_graph()
        if not defer_build:
            self.build()
        if self.saver_def is not None:
            self._check_saver_def()

    # --- building -----------------------------------------------------------------------------
    def build(self) -> None:
        if self._is_built:
            return
        self._is_built = True
        if self.saver_def is not None:
            return
        var_list = self._var_list
        if var_list is None:
            var_list = list(self._graph.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES)) + \
                list(self._graph.get_collection(_ops.GraphKeys.SAVEABLE_OBJECTS))
        if not var_list:
            if self._allow_empty:
                self._is_empty = True
                return
            raise ValueError("No variables to save")
        names = op_list_to_dict(var_list)
        with self._graph.as_default():
            self.saver_def = self._build_graph(names)

    def _build_graph(self, names_to_vars: dict):
        entries = _saveable_entries(names_to_vars)
        for key, _, tensor, ref in entries:
            if (tensor if tensor is not None else ref).graph is not self._graph:
                raise ValueError(f"Variable {key} is not an element of the Saver's graph")
        with _ops.name_scope(self._name, "save", [t if t is not None else r for _, _, t, r in entries]) as scope:
            entries = [(key, spec, tensor if tensor is not None else _read_handle(ref), ref)
                       for key, spec, tensor, ref in entries]
            keys = [key for key, _, _, _ in entries]
            specs = [spec for _, spec, _, _ in entries]
            default = self._filename or "model"
            filename_input = _const.constant(default, dtype=_dt.string, name="filename/input")
            filename = apply_op("PlaceholderWithDefault", [filename_input],
                                {"dtype": _dt.string, "shape": filename_input.shape}, name="filename")
            filename_tensor = apply_op("PlaceholderWithDefault", [filename],
                                       {"dtype": _dt.string, "shape": filename_input.shape}, name="Const")
            tensors = [t for _, _, t, _ in entries]
            v1_sharded = self._write_version == _saver_pb2().SaverDef.V1 and self._sharded
            if v1_sharded:
                # TF's _AddShardedSaveOps for V1 (one device, one shard): SaveSlices into
                # `<prefix>-00000-of-00001`, and the save tensor is the shards' pattern `<prefix>-?????-of-00001`
                from graphcompat.ops import sharded_save_ops  # noqa: F401  (ShardedFilename, ShardedFilespec)
                num_shards = _const.constant(1, dtype=_dt.int32, name="num_shards")
                shard_file = apply_op("ShardedFilename", [filename_tensor, 0, num_shards], name="ShardedFilename")
                save_op = checkpoint_ops.save_slices(shard_file, keys, specs, tensors, name="save")
                saved = with_dependencies([save_op], shard_file, name="control_dependency")
                with _ops.control_dependencies([saved]):
                    save_tensor = apply_op("ShardedFilespec", [filename_tensor, num_shards], name="ShardedFilespec")
            else:
                if self._write_version == _saver_pb2().SaverDef.V1:
                    # TF's BaseSaverBuilder.save_op: io_ops._save with slices, i.e. SaveSlices named `save`
                    save_op = checkpoint_ops.save_slices(filename_tensor, keys, specs, tensors, name="save")
                else:
                    save_op = checkpoint_ops.save_v2(filename_tensor, keys, specs, tensors)
                save_tensor = with_dependencies([save_op], filename_tensor, name="control_dependency")
            restored = checkpoint_ops.restore_v2(filename_tensor, keys, specs,
                                                 [t.dtype.base_dtype for _, _, t, _ in entries])
            assigns = []
            saveables: dict = {}
            for (key, _, tensor, ref), value in zip(entries, restored):
                if ref is None:
                    continue  # a plain tensor is saved but has nothing to restore into
                if isinstance(ref, _SaveableSlot):
                    saveables.setdefault(ref.saveable, []).append(value)
                    if len(saveables[ref.saveable]) == len(ref.saveable.specs):  # TF: in the saveable's order
                        restore = ref.saveable.restore(saveables[ref.saveable], None)
                        assigns.append(restore.op if isinstance(restore, _ops.Tensor) else restore)
                    continue
                with _ops.colocate_with(ref.op):
                    if ref.dtype.base_dtype == _dt.resource:
                        assigns.append(_assign_handle(ref, value))
                    else:
                        assigns.append(state_ops.assign(ref, value, validate_shape=True, use_locking=True,
                                                        name="Assign").op)
            if v1_sharded:  # TF's _AddShardedRestoreOps: one `restore_shard` per device under `restore_all`
                with _ops.control_dependencies(assigns):
                    assigns = [no_op(name="restore_shard")]
            with _ops.control_dependencies(assigns):
                restore_op = no_op(name="restore_all")
        saver_pb2 = _saver_pb2()
        return saver_pb2.SaverDef(filename_tensor_name=filename_tensor.name,
                                  save_tensor_name=save_tensor.name, restore_op_name=restore_op.name,
                                  max_to_keep=self._max_to_keep, sharded=self._sharded,
                                  keep_checkpoint_every_n_hours=self._keep_checkpoint_every_n_hours,
                                  version=self._write_version)

    def _check_saver_def(self) -> None:
        if not self.saver_def.save_tensor_name or not self.saver_def.restore_op_name:
            raise ValueError(f"saver_def must specify the save_tensor_name and restore_op_name: "
                             f"{self.saver_def}")
        self._max_to_keep = self.saver_def.max_to_keep
        self._keep_checkpoint_every_n_hours = self.saver_def.keep_checkpoint_every_n_hours
        self._sharded = self.saver_def.sharded
        self._write_version = self.saver_def.version

    def as_saver_def(self):
        return self.saver_def

    def to_proto(self, export_scope=None):
        return self.saver_def

    @staticmethod
    def from_proto(saver_def, import_scope=None) -> "Saver":
        return Saver(saver_def=saver_def, name=import_scope)

    # --- bookkeeping of recent checkpoints ------------------------------------------------------
    @property
    def last_checkpoints(self) -> list:
        """Checkpoint prefixes not yet deleted, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints) -> None:
        if not isinstance(last_checkpoints, list):
            raise AssertionError(f"last_checkpoints must be a list: {last_checkpoints}")
        self._last_checkpoints = [(s, np.inf) for s in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time) -> None:
        if not isinstance(last_checkpoints_with_time, list):
            raise AssertionError(f"last_checkpoints_with_time must be a list: {last_checkpoints_with_time}")
        self._last_checkpoints = list(last_checkpoints_with_time)

    def recover_last_checkpoints(self, checkpoint_paths) -> None:
        """Adopts existing checkpoints (e.g. `get_checkpoint_state(d).all_model_checkpoint_paths`)."""
        with_times = []
        for path in checkpoint_paths:
            mtimes = get_checkpoint_mtimes([path])
            if mtimes:
                with_times.append((path, mtimes[0]))
        self.set_last_checkpoints_with_time(with_times)

    def _record_last_checkpoint(self, path: str) -> None:
        if not self._max_to_keep:
            return
        self._last_checkpoints = [p for p in self._last_checkpoints if p[0] != path]
        self._last_checkpoints.append((path, time.time()))
        if len(self._last_checkpoints) > self._max_to_keep:
            self._checkpoints_to_be_deleted.append(self._last_checkpoints.pop(0))

    def _maybe_delete_old_checkpoints(self, meta_graph_suffix: str = "meta") -> None:
        if not self._checkpoints_to_be_deleted:
            return
        path, stamp = self._checkpoints_to_be_deleted.pop(0)
        if stamp > self._next_checkpoint_time:  # keep one every keep_checkpoint_every_n_hours
            self._next_checkpoint_time += self._keep_checkpoint_every_n_hours * 3600
            return
        remove_checkpoint(path, checkpoint_format_version=self._write_version, meta_graph_suffix=meta_graph_suffix)

    # --- save / restore -----------------------------------------------------------------------
    def save(self, sess, save_path: str, global_step=None, latest_filename: Optional[str] = None,
             meta_graph_suffix: str = "meta", write_meta_graph: bool = True, write_state: bool = True,
             strip_default_attrs: bool = False, save_debug_info: bool = False) -> Optional[str]:
        """Writes a checkpoint; returns its prefix (`save_path-<global_step>`)."""
        if not self._is_built:
            self.build()
        latest_filename = latest_filename or "checkpoint"
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        save_path = os.fspath(save_path)
        if global_step is not None:
            if not isinstance(global_step, (int, np.integer)):
                global_step = int(sess.run(global_step))
            checkpoint_file = (f"{save_path}-{int(global_step):08d}" if self._pad_step_number
                               else f"{save_path}-{int(global_step)}")
        else:
            checkpoint_file = save_path
            if os.path.basename(save_path) == latest_filename and not self._sharded:
                raise ValueError(f"'latest_filename' collides with 'save_path': '{latest_filename}' and "
                                 f"'{save_path}'")
        if not hasattr(sess, "run") or not hasattr(sess, "graph"):
            raise TypeError(f"'sess' must be a Session; {sess}")
        save_path_parent = os.path.dirname(save_path)
        model_checkpoint_path = None
        if not self._is_empty:
            try:
                model_checkpoint_path = sess.run(self.saver_def.save_tensor_name,
                                                 {self.saver_def.filename_tensor_name: checkpoint_file})
            except (errors.FailedPreconditionError, errors.NotFoundError) as exc:
                if save_path_parent and not os.path.isdir(save_path_parent):
                    raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.") from None
                raise exc
            if isinstance(model_checkpoint_path, bytes):
                model_checkpoint_path = model_checkpoint_path.decode()
        # The meta graph goes before the state file, so `checkpoint` only ever names complete checkpoints.
        if write_meta_graph:
            with sess.graph.as_default():
                self.export_meta_graph(f"{checkpoint_file}.{meta_graph_suffix}")
            _durable.crash_point("saver: meta graph written")
        if not self._is_empty and write_state:
            self._record_last_checkpoint(model_checkpoint_path)
            _state.update_checkpoint_state(save_path_parent, model_checkpoint_path, self.last_checkpoints,
                                           latest_filename, save_relative_paths=self._save_relative_paths)
            _durable.crash_point("saver: checkpoint state written")
            self._maybe_delete_old_checkpoints(meta_graph_suffix)
        if not self._is_empty:
            _remove_debris(save_path, latest_filename)
        return model_checkpoint_path

    def export_meta_graph(self, filename: Optional[str] = None, collection_list=None, as_text: bool = False,
                          export_scope: Optional[str] = None, clear_devices: bool = False,
                          clear_extraneous_savers: bool = False, strip_default_attrs: bool = False,
                          save_debug_info: bool = False):
        from graphcompat.training import meta_graph
        return meta_graph.export_meta_graph(filename=filename, graph=self._graph, saver_def=self.saver_def,
                                            collection_list=collection_list, as_text=as_text,
                                            export_scope=export_scope, clear_devices=clear_devices)

    def restore(self, sess, save_path: Optional[str]) -> None:
        """Restores every variable from the checkpoint `save_path`, or none of them on error."""
        if self._is_empty:
            return
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        save_path = os.fspath(save_path)
        if not checkpoint_exists(save_path):
            raise ValueError("The passed save_path is not a valid checkpoint: " + save_path)
        try:
            self._validate_restore(sess.graph, save_path)
            sess.run(self.saver_def.restore_op_name, {self.saver_def.filename_tensor_name: save_path})
        except errors.NotFoundError as err:
            raise _wrap_restore_error(err, "a Variable name or other graph key that is missing") from None
        except errors.InvalidArgumentError as err:
            raise _wrap_restore_error(err, "a mismatch between the current graph and the graph") from None

    def _validate_restore(self, graph: _ops.Graph, save_path: str) -> None:
        """Every key present with the right dtype and shape, before anything is assigned (TF's texts)."""
        restore_all = graph.as_graph_element(self.saver_def.restore_op_name, allow_tensor=False)
        # a sharded Saver's `restore_all` waits on one `restore_shard` NoOp per device, which wait on the Assigns
        assigns, pending = [], list(restore_all.control_inputs)
        while pending:
            op = pending.pop(0)
            if op.type == "NoOp":
                pending.extend(op.control_inputs)
            elif op.type == "Assign":
                assigns.append(op)
        restore_ops = {}
        for assign in assigns:
            source = assign.inputs[1]
            if source.op.type != "RestoreV2":
                continue
            restore_ops.setdefault(source.op, []).append((assign, source.value_index))
        for restore_op, targets in restore_ops.items():
            with _v1.open_checkpoint(save_path, restore_op) as reader:
                self._validate_restore_op(restore_op, targets, reader)

    @staticmethod
    def _validate_restore_op(restore_op, targets, reader) -> None:
        """One RestoreV2 op and the Assigns it feeds: keys, dtypes and shapes (TF's texts)."""
        names = restore_op.inputs[1].op.attrs.get("value") if restore_op.inputs[1].op.type == "Const" \
            else None
        specs = restore_op.inputs[2].op.attrs.get("value") if restore_op.inputs[2].op.type == "Const" \
            else None
        if names is None or specs is None:
            return
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in np.asarray(names).reshape(-1)]
        specs = [s.decode() if isinstance(s, bytes) else str(s) for s in np.asarray(specs).reshape(-1)]
        dtypes = restore_op.attrs["dtypes"]
        v1 = getattr(reader, "format_version", 2) == 1
        for name, dtype in zip(names, dtypes):
            if v1:  # TF's RestoreTensor texts (RestoreV2 reading a V1 checkpoint)
                try:
                    _v1.check_restorable(reader, reader.prefix, name, dtype.as_datatype_enum)
                except errors.OpError as exc:
                    raise type(exc)(None, restore_op, exc.message) from None
                continue
            if not reader.has_tensor(name):
                raise errors.NotFoundError(None, restore_op, f"Key {name} not found in checkpoint")
            stored = reader.datatype_of(name)
            if stored != dtype.as_datatype_enum:
                stored_name = _dt.cpp_name(_dt.as_dtype(stored)) if stored in formats.bundle.DTYPES \
                    else str(stored)
                raise errors.InvalidArgumentError(
                    None, restore_op, f"tensor_name = {name}; expected dtype {_dt.cpp_name(dtype)} does "
                    f"not equal original dtype {stored_name}")
        for assign, index in targets:
            if not specs[index] and assign.attrs.get("validate_shape", True):
                lhs = assign.inputs[0].shape
                rhs = reader.shape_of(names[index])
                if lhs.is_fully_defined() and tuple(lhs.as_list()) != tuple(rhs):
                    raise errors.InvalidArgumentError(
                        None, assign, f"Assign requires shapes of both tensors to match. lhs shape= "
                        f"{format_shape(lhs)} rhs shape= [{','.join(str(d) for d in rhs)}]")


def _wrap_restore_error(err: errors.OpError, verbiage: str) -> errors.OpError:
    message = (f"Restoring from checkpoint failed. This is most likely due to {verbiage} from the "
               f"checkpoint. Please ensure that you have not altered the graph expected based on the "
               f"checkpoint. Original error:\n\n{err.message}")
    return type(err)(err.node_def, err.op, message)


# ------------------------------------------------------------------------------------------------
# Checkpoint files (checkpoint_management)
# ------------------------------------------------------------------------------------------------
def checkpoint_exists(checkpoint_prefix: str) -> bool:
    """`tf.train.checkpoint_exists`: a V2 `.index` (or a V1 file) exists for the prefix."""
    prefix = os.fspath(checkpoint_prefix)
    # V1: the file itself, or a sharded V1 checkpoint's pattern (`model.ckpt-?????-of-00002`)
    return bool(_v1.matching_files(prefix + ".index") or _v1.matching_files(prefix))


def get_checkpoint_mtimes(checkpoint_prefixes) -> list:
    """Modification times of the checkpoints' `.index` files, or of a V1 checkpoint's (first) file: a sharded
    V1 checkpoint is a pattern (missing ones are skipped)."""
    out = []
    for prefix in checkpoint_prefixes:
        for pattern in (prefix + ".index", prefix):
            paths = [p for p in _v1.matching_files(pattern) if os.path.isfile(p)]
            if paths:
                out.append(os.stat(paths[0]).st_mtime)
                break
    return out


def remove_checkpoint(checkpoint_prefix: str, checkpoint_format_version: int = 2,
                      meta_graph_suffix: str = "meta") -> None:
    """Deletes a checkpoint's `.meta`, `.index` and `.data-*` files.

    In that order, so that an interruption leaves either a readable checkpoint (without its meta
    graph) or data files without an index, which the next save removes.
    """
    paths = [f"{checkpoint_prefix}.{meta_graph_suffix}", checkpoint_prefix + ".index"]
    paths += sorted(glob.glob(glob.escape(checkpoint_prefix) + ".data-?????-of-?????"))
    if checkpoint_format_version == 1:  # a V1 checkpoint is the file (or files) its pattern names
        paths = [paths[0]] + _v1.matching_files(checkpoint_prefix)
    for path in paths:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        _durable.crash_point(f"remove_checkpoint: {os.path.basename(path)} removed")


def _remove_debris(save_path: str, latest_filename: str) -> None:
    """After a completed save: deletes what interrupted saves of `save_path*` checkpoints left behind."""
    directory, stem = os.path.split(save_path)
    _durable.remove_temporaries(directory, stem)
    _durable.remove_temporaries(directory, latest_filename)
    _bundle.remove_orphan_data_files(directory, stem)


def get_checkpoint_state(checkpoint_dir: str, latest_filename: Optional[str] = None):
    """`tf.train.get_checkpoint_state`: the CheckpointState (paths made absolute-ish), or None."""
    return _state.get_checkpoint_state(os.fspath(checkpoint_dir), latest_filename)


def latest_checkpoint(checkpoint_dir: str, latest_filename: Optional[str] = None) -> Optional[str]:
    """`tf.train.latest_checkpoint`: the newest complete checkpoint prefix, or None."""
    return _state.latest_checkpoint(os.fspath(checkpoint_dir), latest_filename)


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None) -> None:
    _state.update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths,
                                   latest_filename, all_model_checkpoint_timestamps,
                                   last_preserved_timestamp)


def generate_checkpoint_state_proto(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                                    all_model_checkpoint_timestamps=None, last_preserved_timestamp=None):
    return _state.checkpoint_state_proto(save_dir, model_checkpoint_path, all_model_checkpoint_paths,
                                         all_model_checkpoint_timestamps, last_preserved_timestamp)
