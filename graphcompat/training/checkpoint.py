"""Object-based checkpoints in graph mode: `tf.train.Checkpoint` (TF 1.x's `CheckpointV1`), its load
statuses, `tf.train.CheckpointManager` and `tf.train.CheckpointOptions`
(TF's `tensorflow/python/checkpoint/{checkpoint,checkpoint_management,checkpoint_options}.py`).

The object graph and its keys are graphcompat/training/tracking.py's. Saving records TF's graph: the
object graph proto and the file prefix are `Const`s fed at run time, the values go through one `SaveV2`
into `<prefix>_temp/part-00000-of-00001` and `MergeV2Checkpoints` moves them under the prefix (its rule
writes with formats.write_bundle, so the bundle is TF's, byte for byte, and durable). The save op is
cached until the object graph changes. Restoring builds `RestoreV2` + assign ops once per (key, variable)
and feeds the path; the status objects check the match with TF's texts.
"""
from __future__ import annotations

import collections
import copy
import os
import time
from typing import Callable, Optional

from graphcompat.formats import checkpoint_state as _state
from graphcompat.framework import constant_op as _const
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.registry import apply_op
from graphcompat.training import tracking


class CheckpointOptions:
    """`tf.train.CheckpointOptions`: options for saving and restoring checkpoints.

    In graph mode with one device only `experimental_write_callbacks` (run with the saved path after each
    write) changes what happens; the rest are recorded (TF 1.x's Checkpoint.restore takes no options)."""

    __slots__ = ("experimental_io_device", "experimental_enable_async_checkpoint", "experimental_write_callbacks",
                 "enable_async", "experimental_sharding_callback", "experimental_skip_slot_variables")

    def __init__(self, experimental_io_device: Optional[str] = None, experimental_enable_async_checkpoint: bool = False,
                 experimental_write_callbacks: Optional[list] = None, enable_async: bool = False,
                 experimental_skip_slot_variables: bool = False, experimental_sharding_callback=None):
        self.experimental_io_device = experimental_io_device
        self.enable_async = experimental_enable_async_checkpoint or enable_async
        self.experimental_enable_async_checkpoint = self.enable_async
        if experimental_write_callbacks is not None:
            for callback in experimental_write_callbacks:  # TF asserts each takes no argument or the path
                assert len(_parameters(callback)) <= 1
        self.experimental_write_callbacks = experimental_write_callbacks
        if experimental_sharding_callback is not None:
            raise NotImplementedError("tf.train.CheckpointOptions(experimental_sharding_callback=...)")
        self.experimental_sharding_callback = None
        self.experimental_skip_slot_variables = experimental_skip_slot_variables

    def __copy__(self) -> "CheckpointOptions":
        result = CheckpointOptions.__new__(CheckpointOptions)
        for name in self.__slots__:
            setattr(result, name, getattr(self, name))
        if self.experimental_write_callbacks is not None:
            result.experimental_write_callbacks = list(self.experimental_write_callbacks)
        return result


def _parameters(callback: Callable) -> list:
    import inspect
    return list(inspect.signature(callback).parameters)


def _run_callbacks(callbacks, save_path: str) -> None:
    """TF's `_execute_callbacks`: a callback with one parameter gets the saved path."""
    for callback in callbacks:
        count = len(_parameters(callback))
        if count == 0:
            callback()
        elif count == 1:
            callback(save_path)


def _get_session():
    """TF's `checkpoint.get_session`: the default session (graph mode has no other)."""
    from graphcompat.client.session import get_default_session
    return get_default_session()


def _no_session_error(file_prefix: str) -> RuntimeError:
    return RuntimeError(f"Unable to save checkpoint to \"{file_prefix}\" in graph mode without a default session. "
                        "Please use `with tf.Session():` to create a session.")


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# ------------------------------------------------------------------------------------------------
# The saver of one object graph (TF's TrackableSaver)
# ------------------------------------------------------------------------------------------------
class _TrackableSaver:
    def __init__(self, root):
        self._root = root
        self._graph: Optional[_ops.Graph] = None
        self._object_graph_feed_tensor = None
        self._file_prefix_feed_tensor = None
        self._file_prefix_placeholder = None
        self._last_save_object_graph: Optional[bytes] = None
        self._cached_save_operation = None
        self._restore_op_cache: dict = {}

    def _check_graph(self, graph: Optional[_ops.Graph] = None) -> _ops.Graph:
        graph = graph or _ops.get_default_graph()
        if self._graph is None:
            self._graph = graph
        elif graph is not self._graph:
            raise NotImplementedError("tf.train.Checkpoint used in a second graph: graphcompat builds one "
                                      "Checkpoint's save and restore ops in one graph")
        return graph

    def save(self, file_prefix: str, session=None, options: Optional[CheckpointOptions] = None) -> str:
        if session is None:
            session = _get_session()
        if session is None:
            raise _no_session_error(file_prefix)
        graph = self._check_graph(session.graph)
        with graph.as_default():
            return self._save(graph, file_prefix, session, options)

    def _save(self, graph: _ops.Graph, file_prefix: str, session, options: Optional[CheckpointOptions]) -> str:
        if self._object_graph_feed_tensor is None:
            with graph.as_default(), _ops.control_dependencies(None), _ops.device("/cpu:0"):
                self._object_graph_feed_tensor = _const.constant("", dtype=_dt.string)
                self._file_prefix_feed_tensor = _const.constant("", dtype=_dt.string)
        proto, saved = tracking.serialize_object_graph(self._root)
        serialized = proto.SerializeToString()
        if self._last_save_object_graph != serialized or self._cached_save_operation is None:
            with graph.as_default(), _ops.control_dependencies(None):
                self._cached_save_operation = _build_save(self._file_prefix_feed_tensor,
                                                          self._object_graph_feed_tensor, saved)
            self._last_save_object_graph = serialized
        directory = os.path.dirname(file_prefix)
        if directory:
            os.makedirs(directory, exist_ok=True)  # TF's file_io.recursive_create_dir
        result = session.run(self._cached_save_operation, {self._file_prefix_feed_tensor: file_prefix,
                                                           self._object_graph_feed_tensor: serialized})
        return _text(result)

    def restore(self, save_path: Optional[str], options: Optional[CheckpointOptions] = None):
        if save_path is None:
            return InitializationOnlyStatus(self._root, next(tracking._restore_uids))
        save_path = os.fspath(save_path)
        from graphcompat.training.checkpoint_utils import NewCheckpointReader
        reader = NewCheckpointReader(save_path)
        if not reader.has_tensor(tracking.OBJECT_GRAPH_PROTO_KEY):
            return NameBasedSaverStatus(self._root, save_path, next(tracking._restore_uids))
        graph = self._check_graph(self._graph or _graph_of_objects(self._root))
        if self._file_prefix_placeholder is None:
            with graph.as_default(), _ops.control_dependencies(None), _ops.device("/cpu:0"):
                self._file_prefix_placeholder = _const.constant("model")
        proto = tracking.object_graph_pb2().TrackableObjectGraph()
        serialized = reader.get_tensor(tracking.OBJECT_GRAPH_PROTO_KEY)
        proto.ParseFromString(serialized if isinstance(serialized, bytes) else serialized.item())
        coordinator = tracking.RestoreCoordinator(proto, save_path, self._file_prefix_placeholder, reader,
                                                  self._restore_op_cache)
        with graph.as_default():
            coordinator.restore(0, self._root)
        return CheckpointLoadStatus(coordinator, {self._file_prefix_placeholder: save_path}, self._root,
                                    options or CheckpointOptions())


def _graph_of_objects(root) -> Optional[_ops.Graph]:
    """The graph of the object graph's variables (where its restore ops belong), or None."""
    for obj in tracking.list_objects(root):
        if tracking.is_variable(obj):
            return obj.graph
    return None


def _saved_value(variable) -> _ops.Tensor:
    """The tensor SaveV2 writes for a variable, as TF 2's graph-mode Checkpoint records it: a ref
    variable's snapshot `v/read`; a resource variable's value read under `Read` (DisableCopyOnRead,
    ReadVariableOp), an Identity, and an Identity on the save device (`/device:CPU:0`)."""
    if not getattr(variable, "_is_resource_variable", False):
        return variable.value()
    from graphcompat.ops import array_ops
    from graphcompat.ops import resource_variable_ops as rv
    with _ops.device(variable.device):
        with _ops.name_scope("Read"):
            apply_op("DisableCopyOnRead", [variable.handle])
            value = rv.read_variable_op(variable.handle, variable.dtype.base_dtype)
        value = array_ops.identity(value)
    with _ops.device("/device:CPU:0"):
        return array_ops.identity(value)


def _build_save(file_prefix: _ops.Tensor, object_graph: _ops.Tensor, saved: list) -> _ops.Tensor:
    """TF's MultiDeviceSaver.save for one device: SaveV2 into a temporary shard, MergeV2Checkpoints to the
    prefix, and the prefix as the value to fetch once both ran (ops in TF's order, names and devices)."""
    from graphcompat.ops import array_ops, checkpoint_ops
    from graphcompat.ops import sharded_save_ops  # noqa: F401  (ShardedFilename, MergeV2Checkpoints)
    with _ops.device("CPU"):
        is_s3 = apply_op("StaticRegexFullMatch", [file_prefix], {"pattern": "^s3://.*"})
        suffix = apply_op("Select", [is_s3, _const.constant(".part"), _const.constant("_temp/part")])
        tmp_prefix = apply_op("StringJoin", [[file_prefix, suffix]], {"separator": ""})
    entries = [(s.key, _saved_value(s.variable)) for s in saved]  # object-graph order, as TF's data file
    entries.append((tracking.OBJECT_GRAPH_PROTO_KEY, object_graph))
    num_shards = _const.constant(1, name="num_shards")
    with _ops.device("/device:CPU:0"):
        with _ops.name_scope(None, "ShardedFilename") as scope:
            shard = _const.constant(0, name="shard")
            shard_prefix = apply_op("ShardedFilename", [tmp_prefix, shard, num_shards], name=scope)
        save = checkpoint_ops.save_v2(shard_prefix, [k for k, _ in entries], [""] * len(entries),
                                      [t for _, t in entries])
        with _ops.control_dependencies([save]):
            prefixes = apply_op("Pack", [[shard_prefix]], {"axis": 0},
                                name="MergeV2Checkpoints/checkpoint_prefixes")
            merge = apply_op("MergeV2Checkpoints", [prefixes, file_prefix], {"delete_old_dirs": True},
                             name="MergeV2Checkpoints")
        with _ops.control_dependencies([merge]):
            return array_ops.identity(file_prefix)


# ------------------------------------------------------------------------------------------------
# tf.train.Checkpoint
# ------------------------------------------------------------------------------------------------
class Checkpoint:
    """`tf.train.Checkpoint(**kwargs)` of TF 1.x (`CheckpointV1`): groups trackable objects (variables,
    optimizers, layers, other Checkpoints, lists and dicts of them) for object-based saving.

    `save(file_prefix, session=None)` → `<file_prefix>-<save_counter>`, `write(file_prefix)`,
    `restore(save_path)` → a load status. Attributes set after construction are tracked too."""

    def __init__(self, **kwargs):
        object.__setattr__(self, "_gc_dependencies", collections.OrderedDict())
        for key, value in sorted(kwargs.items(), key=lambda item: item[0]):
            setattr(self, key, value)
            if not tracking.is_trackable(getattr(self, key)):
                raise ValueError("`Checkpoint` was expecting a trackable object (an object derived from "
                                 f"`Trackable`), got {value}. If you believe this object should be trackable "
                                 "(i.e. it is part of the TensorFlow Python API and manages state), please "
                                 "open an issue.")
        self._save_counter = None  # created lazily, so that a restore() before it restores it on creation
        self._save_assign_op = None
        self._saver = _TrackableSaver(self)

    # --- tracking (TF's AutoTrackable: public attributes that hold trackable values) ---------------
    def __setattr__(self, name: str, value) -> None:
        value = tracking.wrap_or_unwrap(value)
        object.__setattr__(self, name, value)
        if name.startswith("_"):
            return
        dependencies = self.__dict__["_gc_dependencies"]
        if tracking.is_trackable(value):
            dependencies[name] = value
            tracking.dependency_added(self, name, value)
        else:
            dependencies.pop(name, None)

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        self.__dict__["_gc_dependencies"].pop(name, None)

    def _gc_trackable_children(self) -> list:
        out = list(self.__dict__["_gc_dependencies"].items())
        if self.__dict__.get("_save_counter") is not None:
            out.append(("save_counter", self._save_counter))
        return out

    # --- the save counter ---------------------------------------------------------------------------
    def _maybe_create_save_counter(self) -> None:
        if self._save_counter is not None:
            return
        from graphcompat.variables import ResourceVariable
        with _ops.control_dependencies(None), _ops.device("/cpu:0"):
            counter = ResourceVariable(0, name="save_counter", trainable=False, dtype=_dt.int64)
        object.__setattr__(self, "_save_counter", counter)
        tracking.dependency_added(self, "save_counter", counter)

    @property
    def save_counter(self):
        """The int64 variable counting `save()` calls (numbers the checkpoints)."""
        self._maybe_create_save_counter()
        return self._save_counter

    # --- save / write / restore ---------------------------------------------------------------------
    def write(self, file_prefix: str, session=None, options: Optional[CheckpointOptions] = None) -> str:
        """Writes a checkpoint at exactly `file_prefix`, without touching `save_counter` or the
        `checkpoint` state file."""
        return self._write(os.fspath(file_prefix), session, options)

    def _write(self, file_prefix: str, session=None, options: Optional[CheckpointOptions] = None) -> str:
        output = self._saver.save(file_prefix, session=session, options=options)
        if options is not None and options.experimental_write_callbacks is not None:
            _run_callbacks(options.experimental_write_callbacks, output)
        return output

    def save(self, file_prefix: str, session=None, options: Optional[CheckpointOptions] = None) -> str:
        """Increments `save_counter`, writes `<file_prefix>-<save_counter>` and records it in the
        directory's `checkpoint` file; returns the path."""
        file_prefix = os.fspath(file_prefix)
        if session is None:
            session = _get_session()
        if session is None:
            raise _no_session_error(file_prefix)
        with session.graph.as_default():
            if self._save_counter is None:
                session.run(self.save_counter.initializer)
            if self._save_assign_op is None:
                with _ops.colocate_with(self.save_counter.op):
                    self._save_assign_op = self.save_counter.assign_add(1, read_value=True)
        checkpoint_number = session.run(self._save_assign_op)
        file_path = self.write(f"{file_prefix}-{int(checkpoint_number)}", session=session, options=options)
        _state.update_checkpoint_state(os.path.dirname(file_prefix), file_path, [file_path],
                                       save_relative_paths=True)
        return file_path

    def restore(self, save_path: Optional[str]):
        """Binds the checkpoint's values to this object graph; returns a status whose `run_restore_ops`
        or `initialize_or_restore` assigns them. Objects created later restore when they are tracked."""
        status = self._saver.restore(save_path)
        with (self._saver._graph or _ops.get_default_graph()).as_default():
            self._maybe_create_save_counter()  # restored on creation (a deferred dependency of the root)
        if isinstance(status, NameBasedSaverStatus):
            status.add_to_optionally_restored(self.save_counter)
        return status

    def sync(self) -> None:
        """Nothing to wait for: graph-mode saves finish inside `Session.run`."""


# ------------------------------------------------------------------------------------------------
# Load statuses
# ------------------------------------------------------------------------------------------------
def _run_session(session):
    if session is None:
        session = _get_session()
    if session is None:
        raise ValueError("Cannot run the restore ops in graph mode without a session: pass `session=` or use "
                         "`with tf.Session().as_default():`")
    return session


def _update_uid(obj, default: int) -> int:
    return obj.__dict__.get("_gc_update_uid", default) if hasattr(obj, "__dict__") else default


class CheckpointLoadStatus:
    """What `Checkpoint.restore(path)` returns for an object-based checkpoint."""

    def __init__(self, coordinator: tracking.RestoreCoordinator, feed_dict: dict, root, options: CheckpointOptions):
        self._checkpoint = coordinator
        self._feed_dict = feed_dict
        self._root = root
        self._options = options

    def _list_objects(self) -> list:
        return tracking.list_objects(self._root)

    def assert_consumed(self) -> "CheckpointLoadStatus":
        """Every checkpointed value has an object and every object a value."""
        names = tracking.node_names(self._checkpoint.object_graph_proto)
        self.assert_existing_objects_matched()
        for node_id, node in enumerate(self._checkpoint.object_graph_proto.nodes):
            if not node.attributes:
                continue
            if self._checkpoint.object_by_proto_id.get(node_id) is None:
                raise AssertionError(f"Unresolved object in checkpoint {names.get(node_id)}: {node}")
        if self._checkpoint.slot_restorations:
            raise AssertionError(f"Unresolved slot restorations: {self._checkpoint.slot_restorations}")
        if self._checkpoint.unused_attributes:
            messages = "\n".join(f"{names.get(node_id)} ({self._checkpoint.object_by_proto_id[node_id]}): {attr}"
                                 for node_id, attr in self._checkpoint.unused_attributes.items())
            raise AssertionError("Unused attributes in these objects (the attributes exist in the checkpoint "
                                 f"but were not restored):\n{messages}")
        return self

    def assert_existing_objects_matched(self) -> "CheckpointLoadStatus":
        """Every object of the Python graph that holds values was matched in the checkpoint."""
        for node_id, node in enumerate(self._checkpoint.object_graph_proto.nodes):
            obj = self._checkpoint.object_by_proto_id.get(node_id)
            if obj is not None and _update_uid(obj, 0) < self._checkpoint.restore_uid:
                raise AssertionError(f"Object {node} not assigned a value from checkpoint.")
        for obj in self._list_objects():
            if isinstance(obj, (tracking.ListWrapper, tracking._TupleWrapper, tracking._DictWrapper)) \
                    and not tracking.children(obj):
                continue
            if all(o is not obj for o in self._checkpoint.all_python_objects):
                self._checkpoint.all_python_objects.append(obj)
        unused = self._unused_python_objects()
        if unused:
            shown = min(10, len(unused))
            raise AssertionError(
                f"Found {len(unused)} Python objects that were not bound to checkpointed values, likely due to "
                f"changes in the Python program. Showing {shown} of {len(unused)} unmatched objects: "
                f"{unused[:shown]}")
        return self

    def _unused_python_objects(self) -> list:
        bound = {id(o) for o in self._checkpoint.object_by_proto_id.values()}
        return [o for o in tracking.objects_with_attributes(self._checkpoint.all_python_objects) if id(o) not in bound]

    def assert_nontrivial_match(self) -> "CheckpointLoadStatus":
        """Something besides the root matched."""
        for obj in self._list_objects():
            if all(o is not obj for o in self._checkpoint.all_python_objects):
                self._checkpoint.all_python_objects.append(obj)
        if len(self._checkpoint.object_by_proto_id) <= 1:
            unused = self._unused_python_objects()
            if unused:
                raise AssertionError(
                    "Nothing except the root object matched a checkpointed value. Typically this means that the "
                    "checkpoint does not match the Python program. The following objects have no matching "
                    f"checkpointed value: {unused}")
            raise AssertionError(f"Nothing to load. No dependencies have been added to {self._root} yet.")
        return self

    def run_restore_ops(self, session=None) -> None:
        """Runs the restore ops built so far (deferred ones included) with the checkpoint path fed."""
        _run_session(session).run(list(self._checkpoint.restore_ops), feed_dict=self._feed_dict)

    def initialize_or_restore(self, session=None) -> None:
        """Restores what the checkpoint holds and runs the initializers of the other variables."""
        session = _run_session(session)
        bound = {id(o) for o in self._checkpoint.object_by_proto_id.values()}
        initializers = [o.initializer for o in self._list_objects()
                        if tracking.is_variable(o) and id(o) not in bound
                        and _update_uid(o, self._checkpoint.restore_uid - 1) < self._checkpoint.restore_uid]
        self.run_restore_ops(session=session)
        session.run(initializers)

    def expect_partial(self) -> "CheckpointLoadStatus":
        """Silences the warnings about values left unrestored (graphcompat prints none)."""
        self._checkpoint.expect_partial = True
        return self


class InitializationOnlyStatus:
    """What `Checkpoint.restore(None)` returns: nothing to restore, `initialize_or_restore` initializes."""

    _NOTHING = "No checkpoint specified (save_path=None); nothing is being restored."

    def __init__(self, root, restore_uid: int):
        self._root = root
        self._restore_uid = restore_uid

    def assert_consumed(self):
        raise AssertionError(self._NOTHING)

    def assert_existing_objects_matched(self):
        raise AssertionError(self._NOTHING)

    def assert_nontrivial_match(self):
        raise AssertionError(self._NOTHING)

    def run_restore_ops(self, session=None):
        raise AssertionError("No checkpoint specified, so no restore ops are available (save_path=None to "
                             "Saver.restore).")

    def initialize_or_restore(self, session=None) -> None:
        session = _run_session(session)
        session.run([o.initializer for o in tracking.list_objects(self._root)
                     if tracking.is_variable(o) and _update_uid(o, self._restore_uid - 1) < self._restore_uid])

    def expect_partial(self):
        return self


class NameBasedSaverStatus:
    """What `Checkpoint.restore` returns for a checkpoint without an object graph (written by
    `tf.train.Saver`): variables are restored by their graph names, as `Saver` would."""

    def __init__(self, root, save_path: str, restore_uid: int):
        self._root = root
        self._save_path = save_path
        self._restore_uid = restore_uid
        self._optionally_restored: list = []

    def add_to_optionally_restored(self, var) -> None:
        self._optionally_restored.append(var)

    def _variables(self) -> list:
        return [o for o in tracking.list_objects(self._root) if tracking.is_variable(o)]

    def assert_consumed(self):
        from graphcompat.training.checkpoint_utils import NewCheckpointReader
        reader = NewCheckpointReader(self._save_path)
        for var in self._variables():
            if any(var is o for o in self._optionally_restored):
                continue
            if not reader.has_tensor(var._shared_name()):
                raise AssertionError(f"Object not restored: {var}")
        return self

    def assert_existing_objects_matched(self):
        return self.assert_consumed()

    def assert_nontrivial_match(self):
        return self.assert_consumed()

    def run_restore_ops(self, session=None) -> None:
        """A `tf.train.Saver` over every variable of the object graph, by graph name. As TF's, it
        includes `save_counter`, which a Saver-written checkpoint lacks: TF's graph-mode restore then
        fails with the Saver's NotFoundError, and so does this one."""
        from graphcompat.training.saver import Saver
        session = _run_session(session)
        with session.graph.as_default(), _ops.device("/cpu:0"):
            Saver({v._shared_name(): v for v in self._variables()}).restore(session, self._save_path)

    def initialize_or_restore(self, session=None) -> None:
        self.run_restore_ops(session=session)

    def expect_partial(self):
        return self


# ------------------------------------------------------------------------------------------------
# tf.train.CheckpointManager
# ------------------------------------------------------------------------------------------------
def _delete_files(prefix: str, wildcard_suffix: str = "") -> None:
    """TF's `_delete_file_if_exists`: deletes `prefix` + `wildcard_suffix` (a glob pattern) matches."""
    import glob
    for path in glob.glob(glob.escape(prefix) + wildcard_suffix):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


class CheckpointManager:
    """`tf.train.CheckpointManager(checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None,
    checkpoint_name="ckpt", step_counter=None, checkpoint_interval=None, init_fn=None)`: numbers, records
    and deletes checkpoints of one `tf.train.Checkpoint` in `directory`, keeping its state in the
    directory's `checkpoint` file (so a new manager picks up where an old one stopped)."""

    def __init__(self, checkpoint, directory, max_to_keep: Optional[int], keep_checkpoint_every_n_hours=None,
                 checkpoint_name: str = "ckpt", step_counter=None, checkpoint_interval: Optional[int] = None,
                 init_fn: Optional[Callable] = None, last_checkpoint_step: Optional[int] = None):
        self._checkpoint = checkpoint
        self._save_counter_assign = None
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep}.")
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        directory = os.fspath(directory)
        self._directory = directory
        self._checkpoint_prefix = os.path.join(directory, checkpoint_name)
        self._init_fn = init_fn
        if checkpoint_interval is not None:
            if step_counter is None:
                raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not None.")
            self._last_checkpoint_step = last_checkpoint_step
            self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        recovered = _state.get_checkpoint_state(directory)
        now = time.time()
        self._maybe_delete: "collections.OrderedDict[str, float]" = collections.OrderedDict()
        if recovered is None:
            self._latest_checkpoint = None
            self._last_preserved_timestamp = now - 1.0  # so a checkpoint saved at once is not "preserved"
        else:
            self._latest_checkpoint = recovered.model_checkpoint_path
            self._last_preserved_timestamp = min(recovered.last_preserved_timestamp, now)
            paths = list(recovered.all_model_checkpoint_paths)
            stamps = list(recovered.all_model_checkpoint_timestamps) or [self._last_preserved_timestamp] * len(paths)
            for path, stamp in zip(paths, stamps):
                stamp = min(stamp, now)
                if stamp > self._last_preserved_timestamp:
                    self._maybe_delete[path] = stamp

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint_interval(self) -> Optional[int]:
        return self._checkpoint_interval

    @property
    def latest_checkpoint(self) -> Optional[str]:
        """The newest checkpoint's prefix, or None."""
        return self._latest_checkpoint

    @property
    def checkpoints(self) -> list:
        """The managed checkpoints, oldest first (those kept by keep_checkpoint_every_n_hours excluded)."""
        return list(self._maybe_delete.keys())

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def _prefix(self) -> str:
        return self._checkpoint_prefix

    def _sweep(self) -> None:
        if not self._max_to_keep:
            return
        while len(self._maybe_delete) > self._max_to_keep:
            filename, stamp = self._maybe_delete.popitem(last=False)
            if (self._keep_checkpoint_every_n_hours
                    and stamp - self._keep_checkpoint_every_n_hours * 3600.0 >= self._last_preserved_timestamp):
                self._last_preserved_timestamp = stamp
                continue
            _delete_files(filename + ".index")
            _delete_files(filename, ".data-?????-of-?????")

    def _record_state(self) -> None:
        filenames, stamps = zip(*self._maybe_delete.items())
        _state.update_checkpoint_state(self._directory, self._latest_checkpoint, list(filenames),
                                       all_model_checkpoint_timestamps=list(stamps),
                                       last_preserved_timestamp=self._last_preserved_timestamp,
                                       save_relative_paths=True)

    def _evaluate_step(self, session) -> int:
        value = self._step_counter
        if isinstance(value, (int,)) and not isinstance(value, bool):
            return value
        session = session or _get_session()
        if session is None:
            raise ValueError("CheckpointManager: evaluating `step_counter` in graph mode needs a default session")
        return int(session.run(value))

    def save(self, checkpoint_number=None, check_interval: bool = True,
             options: Optional[CheckpointOptions] = None) -> Optional[str]:
        """Saves `<directory>/<checkpoint_name>-<number>` (number: `checkpoint_number`, else the
        incremented `save_counter`), records it and deletes the oldest beyond `max_to_keep`. In graph
        mode the default session runs it; returns None when `checkpoint_interval` says not yet."""
        session = _get_session()
        if self._checkpoint_interval is not None:
            current_step = self._evaluate_step(session)
            if self._last_checkpoint_step is not None:
                if current_step == self._last_checkpoint_step:
                    return None
                if check_interval and current_step < self._last_checkpoint_step + self._checkpoint_interval:
                    return None
            self._last_checkpoint_step = current_step
        if session is None:
            raise _no_session_error(self._prefix)
        with session.graph.as_default():
            if self._checkpoint._save_counter is None:
                save_counter = self._checkpoint.save_counter
                session.run(save_counter.initializer)  # TF's _initializing_creator: a new counter starts at 0
            save_counter = self._checkpoint.save_counter
            if self._save_counter_assign is None:
                self._save_counter_assign = save_counter.assign_add(1, read_value=False)
        session.run(self._save_counter_assign)
        if checkpoint_number is None:
            checkpoint_number = save_counter
        if not isinstance(checkpoint_number, int) or isinstance(checkpoint_number, bool):
            import numpy as np
            if isinstance(checkpoint_number, np.integer):
                checkpoint_number = int(checkpoint_number)
            else:
                checkpoint_number = int(session.run(checkpoint_number))
        prefix = "%s-%d" % (self._prefix, checkpoint_number)

        def record_and_sweep(save_path: str) -> None:
            stamp = time.time()
            self._maybe_delete.pop(save_path, None)
            self._maybe_delete[save_path] = stamp
            self._latest_checkpoint = save_path
            self._record_state()  # the new checkpoint is named before any old one is deleted
            self._sweep()
            self._record_state()

        options = copy.copy(options) if options is not None else CheckpointOptions()
        options.experimental_write_callbacks = list(options.experimental_write_callbacks or []) + [record_and_sweep]
        return self._checkpoint._write(prefix, session=session, options=options)

    def restore_or_initialize(self) -> Optional[str]:
        """Restores the latest checkpoint if there is one (returns its path), else calls `init_fn`."""
        if self._latest_checkpoint is not None:
            self._checkpoint.restore(self._latest_checkpoint)
            if self._checkpoint_interval is not None:
                self._last_checkpoint_step = self._evaluate_step(None)
            return self._latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None

    def sync(self) -> None:
        self._checkpoint.sync()
