"""The trackable object graph of object-based checkpoints (TF's `tensorflow/python/trackable` and
`checkpoint/{graph_view,save_util,restore}.py`, graph mode only).

TF's objects inherit from `Trackable`; graphcompat's objects do not, so this module is the one place that
says what each kind of object tracks as children, by type:

| object | children (local names) | saved attribute |
|---|---|---|
| tf.Variable, ResourceVariable | none | `VARIABLE_VALUE` (the variable's value) |
| `tf.train.Checkpoint` | its keyword arguments (sorted), later attributes, `save_counter` | |
| `tf.train.Optimizer` | its non-slot variables of the current graph, by name (`beta1_power`) | |
| tf.layers layers | their weights, by `add_weight` name, in creation order (`kernel`, `bias`) | |
| lists / tuples / dicts (wrapped as TF's `ListWrapper` / `_TupleWrapper` / `_DictWrapper`) | `"0"` … / keys | |

and optimizers' slot variables hang off the object graph as TF's `slot_variables` references.

Checkpoint keys are TF's: each object's path from the root (local names escaped: `.` → `..`, `/` → `.S`),
then `/.ATTRIBUTES/VARIABLE_VALUE`; a slot variable's path is `<variable path>/.OPTIMIZER_SLOT/<optimizer
path>/<slot name>`. The `_CHECKPOINTABLE_OBJECT_GRAPH` entry is a `TrackableObjectGraph` proto with the
nodes in breadth-first order, slot variables last, as TF numbers them.

Restoring binds checkpoint nodes to Python objects by walking both graphs from the root. A node whose
object does not exist yet is *deferred* on its parent: when the parent gets that child (a Checkpoint
attribute set later, `save_counter`, an optimizer's `beta1_power`, a slot variable an optimizer creates
after `restore()`), its restore ops are built then and join the status's `run_restore_ops`.
"""
from __future__ import annotations

import collections
import itertools

from graphcompat.framework import ops as _ops

OBJECT_GRAPH_PROTO_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
VARIABLE_VALUE_KEY = "VARIABLE_VALUE"
_OBJECT_ATTRIBUTES_NAME = ".ATTRIBUTES"
_OPTIMIZER_SLOTS_NAME = ".OPTIMIZER_SLOT"
_ESCAPE_CHAR = "."

_restore_uids = itertools.count(1)


def object_graph_pb2():
    from tensorboard.compat.proto import trackable_object_graph_pb2
    return trackable_object_graph_pb2


def escape_local_name(name: str) -> str:
    """TF's `trackable_utils.escape_local_name`: `.` → `..`, `/` → `.S`, so paths split unambiguously."""
    return name.replace(_ESCAPE_CHAR, _ESCAPE_CHAR + _ESCAPE_CHAR).replace("/", _ESCAPE_CHAR + "S")


def object_path_to_string(names) -> str:
    return "/".join(escape_local_name(n) for n in names)


def checkpoint_key(object_path: str, attribute: str) -> str:
    return f"{object_path}/{_OBJECT_ATTRIBUTES_NAME}/{escape_local_name(attribute)}"


def slot_variable_path(variable_path: str, optimizer_path: str, slot_name: str) -> str:
    return f"{variable_path}/{_OPTIMIZER_SLOTS_NAME}/{optimizer_path}/{escape_local_name(slot_name)}"


# ------------------------------------------------------------------------------------------------
# TF's data structures: containers assigned to a trackable object are wrapped so their contents track
# ------------------------------------------------------------------------------------------------
class ListWrapper(list):
    """TF's `data_structures.ListWrapper`: a list whose trackable elements are children `"0"`, `"1"` …
    Elements added later are wrapped and restored from a checkpoint waiting for them, as TF's."""

    def __repr__(self) -> str:
        return f"ListWrapper({list.__repr__(self)})"

    def append(self, value) -> None:
        value = wrap_or_unwrap(value)
        super().append(value)
        if is_trackable(value):
            dependency_added(self, str(len(self) - 1), value)

    def extend(self, values) -> None:
        for value in values:
            self.append(value)

    def __iadd__(self, values):
        self.extend(values)
        return self

    def __setitem__(self, index, value) -> None:
        if isinstance(index, slice):
            super().__setitem__(index, [wrap_or_unwrap(v) for v in value])
            return
        value = wrap_or_unwrap(value)
        super().__setitem__(index, value)
        if is_trackable(value):
            dependency_added(self, str(index % len(self)), value)


class _DictWrapper(dict):
    """TF's `data_structures._DictWrapper`: a dict whose trackable values are children named by their keys."""

    def __repr__(self) -> str:
        return f"DictWrapper({dict.__repr__(self)})"

    def __setitem__(self, key, value) -> None:
        value = wrap_or_unwrap(value)
        super().__setitem__(key, value)
        if isinstance(key, str) and is_trackable(value):
            dependency_added(self, key, value)

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]


class _TupleWrapper(tuple):
    """TF's `data_structures._TupleWrapper` for plain tuples: children `"0"`, `"1"` …, as a list's."""


def wrap_or_unwrap(value):
    """TF's `data_structures.wrap_or_unwrap` for what an attribute assignment stores: lists become
    ListWrapper, tuples _TupleWrapper, dicts _DictWrapper, recursively; anything else is stored as it is."""
    if isinstance(value, (ListWrapper, _DictWrapper, _TupleWrapper)):
        return value
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        if any(is_trackable(wrap_or_unwrap(v)) for v in value):
            raise NotImplementedError("tf.train.Checkpoint: tracking the contents of a namedtuple (TF's "
                                      "_TupleWrapper for namedtuples)")
        return value
    if isinstance(value, list):
        return ListWrapper(wrap_or_unwrap(v) for v in value)
    if isinstance(value, tuple):
        return _TupleWrapper(wrap_or_unwrap(v) for v in value)
    if isinstance(value, dict):
        return _DictWrapper((k, wrap_or_unwrap(v)) for k, v in value.items())
    return value


def _check_saveable_dict(value: "_DictWrapper") -> None:
    """TF's `_DictWrapper._trackable_children` on save: a non-string key to a trackable cannot be saved."""
    if any(not isinstance(k, str) and is_trackable(v) for k, v in value.items()):
        raise ValueError(
            f"Unable to save the object {value} (a dictionary wrapper constructed automatically on attribute "
            "assignment). The wrapped dictionary contains a non-string key which maps to a trackable object or "
            "mutable data structure.\n\nIf you don't need this dictionary checkpointed, wrap it in a "
            "non-trackable object; it will be subsequently ignored.")


# ------------------------------------------------------------------------------------------------
# What each object tracks
# ------------------------------------------------------------------------------------------------
def is_variable(obj) -> bool:
    from graphcompat.variables import Variable
    return isinstance(obj, Variable)


def _is_optimizer(obj) -> bool:
    from graphcompat.train.optimizer import Optimizer
    return isinstance(obj, Optimizer)


def _is_layer(obj) -> bool:
    from graphcompat.layers.base import Layer
    return isinstance(obj, Layer)


def is_trackable(obj) -> bool:
    """Whether TF's counterpart of `obj` is a `Trackable` (what `tf.train.Checkpoint` accepts)."""
    return (is_variable(obj) or _is_optimizer(obj) or _is_layer(obj)
            or isinstance(obj, (ListWrapper, _TupleWrapper, _DictWrapper))
            or hasattr(obj, "_gc_trackable_children"))


def children(obj) -> list:
    """(local name, child) pairs in TF's order: the edges of the object graph out of `obj`."""
    if hasattr(obj, "_gc_trackable_children"):
        return list(obj._gc_trackable_children())
    if is_variable(obj):
        return []
    if isinstance(obj, (ListWrapper, _TupleWrapper)):
        return [(str(i), v) for i, v in enumerate(obj) if is_trackable(v)]
    if isinstance(obj, _DictWrapper):
        return [(k, v) for k, v in obj.items() if isinstance(k, str) and is_trackable(v)]
    if _is_optimizer(obj):
        graph = _ops.get_default_graph()
        return [(name, v) for (name, g), v in sorted(obj._non_slot_dict.items(), key=lambda item: item[0][0])
                if g is graph]
    if _is_layer(obj):
        return _layer_children(obj)
    return []


def _layer_children(layer) -> list:
    """A layer's children as TF's legacy layers track them: the cells a cell wraps or stacks (tracked in
    their constructors: MultiRNNCell's `cell-<i>`, a wrapper's `cell`), then the weights in creation order
    under their `add_weight` names (`kernel`, GRUCell's `gates/kernel`)."""
    out = []
    from graphcompat.nn import rnn_cell
    if isinstance(layer, rnn_cell.MultiRNNCell):
        out += [(f"cell-{i}", cell) for i, cell in enumerate(layer._cells) if is_trackable(cell)]
    elif isinstance(getattr(layer, "_cell", None), rnn_cell.RNNCell):
        out.append(("cell", layer._cell))
    names = layer.__dict__.get("_gc_weight_names", {})
    weights = {id(v): v for v in list(layer._trainable_weights) + list(layer._non_trainable_weights)}
    for var in sorted(weights.values(), key=lambda v: v.op._id):
        out.append((names.get(id(var), var.op.name.rsplit("/", 1)[-1]), var))
    return out


def child_named(obj, name: str):
    for local, child in children(obj):
        if local == name:
            return child
    return None


def breadth_first(root) -> tuple:
    """TF's `ObjectGraphView.breadth_first_traversal`: the objects reachable from `root` in BFS order
    (each once, at its shortest path) and each object's path of local names."""
    order, paths = [root], {id(root): ()}
    queue = collections.deque([root])
    while queue:
        current = queue.popleft()
        for name, child in children(current):
            if id(child) not in paths:
                paths[id(child)] = paths[id(current)] + (name,)
                order.append(child)
                queue.append(child)
    return order, paths


def list_objects(root) -> list:
    """TF's `util.list_objects`: every object of the graph, slot variables included."""
    order, paths = breadth_first(root)
    objects = list(order)
    seen = {id(o) for o in objects}
    for optimizer in [o for o in order if _is_optimizer(o)]:
        for slot_name in optimizer.get_slot_names():
            for var in order:
                if is_variable(var):
                    slot = optimizer.get_slot(var, slot_name)
                    if slot is not None and id(slot) not in seen:
                        seen.add(id(slot))
                        objects.append(slot)
    return objects


# ------------------------------------------------------------------------------------------------
# Saving: the object graph proto and the tensors to save
# ------------------------------------------------------------------------------------------------
class SavedVariable(collections.namedtuple("SavedVariable", "key variable")):
    """One checkpoint entry: its key and the variable whose value it holds."""


def serialize_object_graph(root) -> tuple:
    """(TrackableObjectGraph proto, [SavedVariable] in node order) for the objects reachable from `root`."""
    pb2 = object_graph_pb2()
    order, paths = breadth_first(root)
    node_ids = {id(o): i for i, o in enumerate(order)}
    names = {id(o): object_path_to_string(paths[id(o)]) for o in order}
    objects = list(order)
    slot_refs: dict = {}
    for optimizer in order:
        if not _is_optimizer(optimizer):
            continue
        for slot_name in optimizer.get_slot_names():
            for original_id, original in enumerate(order):
                if not is_variable(original):
                    continue
                slot = optimizer.get_slot(original, slot_name)
                if slot is None:
                    continue
                if id(slot) in node_ids:
                    raise NotImplementedError(
                        f"A slot variable was re-used as a dependency of a Trackable object: {slot}. This is not "
                        "currently allowed. File a feature request if this limitation bothers you.")
                names[id(slot)] = slot_variable_path(names[id(original)], names[id(optimizer)], slot_name)
                node_ids[id(slot)] = len(objects)
                objects.append(slot)
                slot_refs.setdefault(id(optimizer), []).append(
                    pb2.TrackableObjectGraph.TrackableObject.SlotVariableReference(
                        slot_name=slot_name, original_variable_node_id=original_id,
                        slot_variable_node_id=node_ids[id(slot)]))
    proto = pb2.TrackableObjectGraph()
    saved = []
    for obj in objects:
        if isinstance(obj, _DictWrapper):
            _check_saveable_dict(obj)
        node = proto.nodes.add()
        for name, child in children(obj):
            node.children.add(node_id=node_ids[id(child)], local_name=name)
        node.slot_variables.extend(slot_refs.get(id(obj), []))
        if is_variable(obj):
            key = checkpoint_key(names[id(obj)], VARIABLE_VALUE_KEY)
            node.attributes.add(name=VARIABLE_VALUE_KEY, full_name=obj._shared_name(), checkpoint_key=key)
            saved.append(SavedVariable(key, obj))
    _add_checkpoint_values_check(proto)
    return proto, saved


def _add_checkpoint_values_check(proto) -> None:
    """TF's `util.add_checkpoint_values_check`: `has_checkpoint_values` is true for nodes that hold values
    (attributes or slot variables) and for every node above one."""
    parents: dict = {}
    has_values = set()
    for node_id, node in enumerate(proto.nodes):
        if node.attributes or node.slot_variables:
            has_values.add(node_id)
        for child in node.children:
            parents.setdefault(child.node_id, set()).add(node_id)
    to_visit = set(has_values)
    while to_visit:
        current = to_visit.pop()
        for parent in parents.pop(current, ()):
            if parent not in has_values:
                has_values.add(parent)
                to_visit.add(parent)
    for node_id, node in enumerate(proto.nodes):
        node.has_checkpoint_values.value = node_id in has_values


def node_names(proto) -> dict:
    """TF's `ObjectGraphProtoPrettyPrinter.node_names`: `(root).model.kernel`, and for slot variables
    `<optimizer>'s state 'm' for <variable>`."""
    paths = {0: ("(root)",)}
    queue = collections.deque([0])
    while queue:
        node_id = queue.popleft()
        for child in proto.nodes[node_id].children:
            if child.node_id not in paths:
                paths[child.node_id] = paths[node_id] + (child.local_name,)
                queue.append(child.node_id)
    out = {node_id: ".".join(path) for node_id, path in paths.items()}
    for node_id, node in enumerate(proto.nodes):
        for ref in node.slot_variables:
            out[ref.slot_variable_node_id] = (f"{out.get(node_id)}'s state '{ref.slot_name}' for "
                                              f"{out.get(ref.original_variable_node_id)}")
    return out


# ------------------------------------------------------------------------------------------------
# Restoring: binding checkpoint nodes to objects, now or when they are created
# ------------------------------------------------------------------------------------------------
class RestoreCoordinator:
    """TF's `_CheckpointRestoreCoordinator` in graph mode: the checkpoint's object graph, which node is
    bound to which object, the restore ops built so far (fed the checkpoint path at run time) and what
    is still pending."""

    def __init__(self, proto, save_path: str, save_path_tensor: _ops.Tensor, reader, restore_op_cache: dict):
        self.object_graph_proto = proto
        self.save_path = save_path
        self.save_path_tensor = save_path_tensor
        self.reader = reader
        self.restore_uid = next(_restore_uids)
        self.object_by_proto_id: dict = {}
        self.restore_ops: list = []
        self.unused_attributes: dict = {}
        self.slot_restorations: dict = {}  # original variable's node id → [(optimizer node id, slot ref)]
        self.all_python_objects: list = []
        self.expect_partial = False
        self._restore_op_cache = restore_op_cache

    # --- binding --------------------------------------------------------------------------------
    def restore(self, proto_id: int, obj) -> None:
        """Binds node `proto_id` to `obj` and everything below it that exists; defers the rest."""
        pending: list = []
        self._bind_tree(proto_id, obj, pending)
        self._build_restore_ops(pending)

    def _bind_tree(self, proto_id: int, obj, pending: list) -> None:
        queue = collections.deque([(proto_id, obj)])
        while queue:
            node_id, current = queue.popleft()
            if not self._bind(node_id, current, pending):
                continue
            node = self.object_graph_proto.nodes[node_id]
            for ref in node.slot_variables:
                self._restore_slot(node_id, ref, pending)
            for ref in self.slot_restorations.pop(node_id, []):
                self._restore_slot(ref[0], ref[1], pending)
            for child_ref in node.children:
                child = child_named(current, child_ref.local_name)
                if child is not None:
                    queue.append((child_ref.node_id, child))
                else:
                    _deferred(current).setdefault(child_ref.local_name, []).append((self, child_ref.node_id))

    def _bind(self, node_id: int, obj, pending: list) -> bool:
        bound = self.object_by_proto_id.get(node_id)
        if bound is not None:
            return False  # TF keeps the first binding of a node (a second path to it adds nothing)
        self.object_by_proto_id[node_id] = obj
        if getattr(obj, "_gc_update_uid", 0) < self.restore_uid:
            obj._gc_update_uid = self.restore_uid
        node = self.object_graph_proto.nodes[node_id]
        unused = []
        for attribute in node.attributes:
            if is_variable(obj) and attribute.name == VARIABLE_VALUE_KEY:
                pending.append((attribute.checkpoint_key, obj))
            else:
                unused.append(attribute)
        if unused:
            self.unused_attributes[node_id] = unused
        return True

    def _restore_slot(self, optimizer_id: int, ref, pending: list) -> None:
        optimizer = self.object_by_proto_id.get(optimizer_id)
        variable = self.object_by_proto_id.get(ref.original_variable_node_id)
        if optimizer is None or not _is_optimizer(optimizer):
            return
        if variable is None:
            self.slot_restorations.setdefault(ref.original_variable_node_id, []).append((optimizer_id, ref))
            return
        slot = optimizer.get_slot(variable, ref.slot_name) if is_variable(variable) else None
        if slot is not None:
            self._bind_tree(ref.slot_variable_node_id, slot, pending)
            return
        # TF's Optimizer._create_or_restore_slot_variable in graph mode: restored when the slot is created.
        deferred = optimizer.__dict__.setdefault("_gc_deferred_slot_restorations", {})
        deferred.setdefault(ref.slot_name, {}).setdefault(variable.op.name, []).append(
            (self, ref.slot_variable_node_id))

    # --- restore ops ------------------------------------------------------------------------------
    def _build_restore_ops(self, pending: list) -> None:
        """One RestoreV2 for the variables bound in this pass (a cached one where this saver restored the
        same key into the same variable before), then an assign per variable."""
        fresh = []
        for key, variable in pending:
            cached = self._restore_op_cache.get((key, id(variable)))
            if cached is not None:
                self.restore_ops.append(cached)
            else:
                fresh.append((key, variable))
        if not fresh:
            return
        from graphcompat.ops import checkpoint_ops, state_ops
        from graphcompat.training import saver as _saver
        fresh.sort(key=lambda item: item[0])  # TF's restore reads its keys in sorted order
        graph = self.save_path_tensor.graph
        with graph.as_default(), _ops.control_dependencies(None):
            with _ops.device("/device:CPU:0"):
                restored = checkpoint_ops.restore_v2(self.save_path_tensor, [k for k, _ in fresh], [""] * len(fresh),
                                                     [v.dtype.base_dtype for _, v in fresh])
            for (key, variable), value in zip(fresh, restored):
                if getattr(variable, "_is_resource_variable", False):
                    with _ops.device("/device:CPU:0"):  # TF restores resource variables on the save device
                        op = _saver._assign_handle(variable.handle, value)
                else:
                    with _ops.device(variable.device):
                        op = state_ops.assign(variable._ref(), value,
                                              validate_shape=variable.shape.is_fully_defined()).op
                self._restore_op_cache[(key, id(variable))] = op
                self.restore_ops.append(op)


def _deferred(obj) -> dict:
    """The deferred restorations waiting on `obj`'s children: local name → [(coordinator, node id)]."""
    return obj.__dict__.setdefault("_gc_deferred_dependencies", {})


def dependency_added(owner, name: str, child) -> None:
    """`owner` now tracks `child` as `name`: restores it from any checkpoint that is waiting for it
    (TF's `Trackable._handle_deferred_dependencies`), newest restore last so its values win."""
    waiting = owner.__dict__.get("_gc_deferred_dependencies", {}).pop(name, [])
    for coordinator, node_id in sorted(waiting, key=lambda item: item[0].restore_uid):
        coordinator.restore(node_id, child)


def slot_created(optimizer, slot_name: str, variable, slot) -> None:
    """An optimizer created `slot` for `variable`: restores it from checkpoints that saved it
    (TF's `Optimizer._restore_slot_variable`)."""
    deferred = optimizer.__dict__.get("_gc_deferred_slot_restorations", {})
    waiting = deferred.get(slot_name, {}).pop(variable.op.name, [])
    for coordinator, node_id in sorted(waiting, key=lambda item: item[0].restore_uid):
        coordinator.restore(node_id, slot)


def objects_with_attributes(objects) -> list:
    """TF's `_objects_with_attributes`: the objects that save values themselves (variables here)."""
    return [o for o in objects if is_variable(o)]
