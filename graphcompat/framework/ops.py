"""The deferred front end: Graph, Operation, Tensor, name scopes, control dependencies, devices.

Nothing here computes. A Graph is an append-only list of Operations, each a TF op type with TF attr
names, inputs and control inputs; `lowering/` turns a pruned slice of it into a JAX function.
"""
from __future__ import annotations

import contextlib
import re
import threading
from typing import Any, Callable, Iterable, Optional, Sequence

from graphcompat.framework import dtypes as _dtypes
from graphcompat.framework import tensor_shape as _ts

_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


class GraphKeys:
    """Standard collection names (`tf.GraphKeys`)."""
    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    SAVEABLE_OBJECTS = "saveable_objects"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    TRAIN_OP = "train_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"
    _SUMMARY_COLLECTION = "_SUMMARY_V2"
    _STREAMING_MODEL_PORTS = "streaming_model_ports"
    VARIABLES = GLOBAL_VARIABLES


# ------------------------------------------------------------------------------------------------
# Tensor
# ------------------------------------------------------------------------------------------------
class Tensor:
    """A symbolic output of an Operation: `"<op_name>:<index>"`, with a static dtype and shape."""

    __slots__ = ("_op", "_value_index", "_dtype", "_shape", "_consumers", "__weakref__")
    # Tensors are compared by identity in TF1 graph mode; `==` never builds an op.
    __array_priority__ = 100

    def __init__(self, op: "Operation", value_index: int, dtype: _dtypes.DType, shape: _ts.TensorShape):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = shape
        # the ops reading this tensor: a list from the first one on (`()` until then: a graph's unread
        # outputs need no list of their own for Python's collector to scan)
        self._consumers: Sequence[Operation] = ()

    @property
    def op(self) -> "Operation":
        return self._op

    @property
    def graph(self) -> "Graph":
        return self._op._graph

    @property
    def name(self) -> str:
        return f"{self._op._name}:{self._value_index}"

    @property
    def value_index(self) -> int:
        return self._value_index

    @property
    def dtype(self) -> _dtypes.DType:
        return self._dtype

    @property
    def device(self) -> str:
        return self._op.device

    @property
    def shape(self) -> _ts.TensorShape:
        return self._shape

    def get_shape(self) -> _ts.TensorShape:
        return self._shape

    def set_shape(self, shape) -> None:
        shape = _ts.as_shape(shape)
        if not self._shape.is_compatible_with(shape):
            raise ValueError(f"Tensor's shape {self._shape} is not compatible with supplied shape {shape}")
        self._shape = self._shape.merge_with(shape)

    def consumers(self) -> list:
        return list(self._consumers)

    def eval(self, feed_dict=None, session=None):
        """Runs this tensor's graph in `session` (or the default session) and returns its value."""
        from graphcompat.client.session import _run_using_default_session
        return _run_using_default_session(self, feed_dict, self.graph, session)

    def _as_node_def_input(self) -> str:
        return self._op._name if self._value_index == 0 else f"{self._op._name}:{self._value_index}"

    def _shape_as_list(self):
        return self._shape.as_tuple_or_none()

    # --- python protocol ----------------------------------------------------------------------
    def __str__(self) -> str:
        device = f", device={self._op.device}" if self._op.device else ""
        return f'Tensor("{self.name}", shape={self._shape}, dtype={self._dtype.name}{device})'

    def __repr__(self) -> str:
        return f"<tf.Tensor '{self.name}' shape={self._shape} dtype={self._dtype.name}>"

    # `==`, `!=` and hashing are object identity (inherited, implemented in C: Tensors are dict keys
    # on the Session.run hot path).

    def __iter__(self):
        raise TypeError("Tensor objects are only iterable when eager execution is enabled. "
                        "To iterate over this tensor use tf.map_fn.")

    def __bool__(self):
        if _FUNCTION_TRACING.autograph is not None:
            _refuse_bool_in_function()
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not None:` "
                        "instead of `if t:` to test if a tensor is defined, and use TensorFlow ops such "
                        "as tf.cond to execute subgraphs conditioned on the value of a tensor.")

    def __len__(self):
        raise TypeError(f"len is not well defined for symbolic Tensors. ({self.name}) "
                        "Please call `x.shape` rather than `len(x)` for shape information.")

    def __index__(self):
        raise TypeError("Tensor objects cannot be used as Python integers or indices in graph mode.")

    def __array__(self, dtype=None, copy=None):
        raise NotImplementedError(
            f"Cannot convert a symbolic Tensor ({self.name}) to a numpy array. This error may indicate "
            "that you're trying to pass a Tensor to a NumPy call, which is not supported")

    def __reduce__(self):
        raise TypeError("Tensors cannot be pickled; fetch their value with Session.run first.")

    def _repr_html_(self):
        """Jupyter: a picture of the subgraph that produces this tensor (graphcompat.notebook)."""
        return _render_html(self)

    @classmethod
    def _override_operator(cls, operator: str, func: Callable) -> None:
        setattr(cls, operator, func)


# ------------------------------------------------------------------------------------------------
# Operation
# ------------------------------------------------------------------------------------------------
class Operation:
    """A node: TF op type, TF attrs, inputs, control inputs, outputs, device."""

    __slots__ = ("_graph", "_name", "_type", "_inputs", "_control_inputs", "_outputs", "_attrs",
                 "_device", "_id", "_control_outputs", "_traceback", "__weakref__")

    def __init__(self, graph: "Graph", name: str, op_type: str, inputs: list, control_inputs: list,
                 attrs: dict, device: str):
        self._graph = graph
        self._name = name
        self._type = op_type
        self._inputs = tuple(inputs)
        # Tuples (most ops have no control inputs, and the empty tuple is shared), replaced when added to;
        # the ops with this one as a control input: a list from the first one on, `()` until then.
        self._control_inputs: tuple = tuple(control_inputs)
        self._attrs = attrs
        self._device = device
        self._outputs: tuple = ()
        self._id = -1
        self._control_outputs: Sequence[Operation] = ()

    # --- views --------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def type(self) -> str:
        return self._type

    @property
    def graph(self) -> "Graph":
        return self._graph

    @property
    def inputs(self) -> tuple:
        return self._inputs

    @property
    def outputs(self) -> list:
        return list(self._outputs)

    @property
    def control_inputs(self) -> list:
        return list(self._control_inputs)

    @property
    def device(self) -> str:
        return self._device

    @property
    def attrs(self) -> dict:
        """Internal: the op's attrs as Python values (the lowering reads these)."""
        return self._attrs

    @property
    def node_def(self):
        from graphcompat.framework import graph_def
        return graph_def.node_def(self)

    @property
    def op_def(self):
        return None

    @property
    def traceback(self):
        return []

    def values(self) -> tuple:
        return self._outputs

    def get_attr(self, name: str):
        if name not in self._attrs:
            raise ValueError(f"Operation '{self._name}' has no attr named '{name}'.")
        value = self._attrs[name]
        if name == "value" and self._type == "Const":
            from graphcompat.framework import graph_def
            return graph_def.tensor_proto(graph_def.const_value_for_export(self))
        # TF's get_attr gives a `string` attr (and each element of a `list(string)`) as bytes
        if isinstance(value, str):
            return value.encode()
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            return [v.encode() for v in value]
        return value

    def _set_device(self, device) -> None:
        self._device = canonical_device(device)

    def _set_attr(self, name: str, value) -> None:
        self._attrs[name] = value

    def _add_control_input(self, op: "Operation") -> None:
        self._add_control_inputs((op,))

    def _add_control_inputs(self, ops: Iterable["Operation"]) -> None:
        added = list(self._control_inputs)
        for op in ops:
            if op not in added:
                added.append(op)
                _add_control_output(op, self)
        self._control_inputs = tuple(added)

    def run(self, feed_dict=None, session=None) -> None:
        """Runs this operation in `session` (or the default session)."""
        from graphcompat.client.session import _run_using_default_session
        _run_using_default_session(self, feed_dict, self._graph, session)

    # --- python protocol ----------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<tf.Operation '{self._name}' type={self._type}>"

    def _repr_html_(self):
        """Jupyter: a picture of the subgraph this op depends on (graphcompat.notebook)."""
        return _render_html(self)

    def __str__(self) -> str:
        return str(self.node_def)



def _add_control_output(op: Operation, user: Operation) -> None:
    if op._control_outputs:
        op._control_outputs.append(user)
    else:
        op._control_outputs = [user]


# ------------------------------------------------------------------------------------------------
# Devices
# ------------------------------------------------------------------------------------------------
_DEVICE_FIELD = re.compile(r"^(job|replica|task|device):(.*)$", re.IGNORECASE)


def canonical_device(spec) -> str:
    """Parses `/gpu:2`, `/device:GPU:0`, `/job:w/task:1/cpu:0`, `GPU:1` into TF's canonical string, with
    TF's DeviceSpec errors for strings it rejects (`/foo:0`, `/gpu:a`, two device types)."""
    if spec is None:
        return ""
    if hasattr(spec, "to_string"):
        spec = spec.to_string()
    spec = str(spec)
    if not spec:
        return ""
    fields: dict[str, str] = {}
    for part in (p for p in spec.split("/") if p):
        pieces = part.split(":")
        key = pieces[0].lower()
        if key in ("job", "replica", "task") and len(pieces) == 2:
            # TF parses replica and task as integers (and reports int()'s own message)
            fields[key] = pieces[1] if key == "job" else str(int(pieces[1]))
            continue
        if key == "device" and len(pieces) in (2, 3):
            kind = pieces[1].upper() if pieces[1].lower() in ("cpu", "gpu") else pieces[1]
            index = pieces[2] if len(pieces) == 3 else "*"
        elif key in ("cpu", "gpu", "tpu") and len(pieces) in (1, 2):
            kind, index = key.upper(), pieces[1] if len(pieces) == 2 else "*"
        else:
            raise ValueError(f"Unknown attribute '{pieces[0]}' is encountered while parsing the device spec: "
                             f"'{spec}'.")
        if "type" in fields:
            raise ValueError(f"Multiple device types are not allowed while parsing the device spec: {spec}.")
        fields["type"] = kind
        fields["index"] = index if index == "*" else str(int(index))
    out = ""
    for key in ("job", "replica", "task"):
        if key in fields:
            out += f"/{key}:{fields[key]}"
    if "type" in fields:
        out += f"/device:{fields['type']}:{fields['index']}"
    return out


def merge_device(outer: str, inner: str) -> str:
    """Inner device fields override outer ones (TF's nested `tf.device` semantics)."""
    if not outer:
        return inner
    if not inner:
        return outer

    def split(d):
        fields = {}
        for part in d.split("/"):
            if part.startswith("device:"):
                fields["device"] = part
            elif ":" in part:
                fields[part.split(":")[0]] = part
        return fields
    merged = split(outer)
    merged.update(split(inner))
    return "".join("/" + merged[k] for k in ("job", "replica", "task", "device") if k in merged)


# ------------------------------------------------------------------------------------------------
# Graph
# ------------------------------------------------------------------------------------------------
class _ControlDependenciesController:
    """One `with tf.control_dependencies(...)` block: its control inputs and the ops created inside it.

    TF prunes with the second set: an op whose data input was created inside the block already runs
    after the block's control inputs, so it gets none of them (it is "dominated")."""

    def __init__(self, graph: "Graph", control_inputs: Optional[list]):
        self._graph = graph
        if control_inputs is None:
            self._control_inputs: list = []
            self._new_stack = True
        else:
            self._control_inputs = control_inputs
            self._new_stack = False
        # Operations hash by identity; holding them (not their ids) keeps an id from being reused by a
        # later op after an import rolls back.
        self._seen: set = set()
        self._old_stack = None

    @property
    def control_inputs(self) -> list:
        return self._control_inputs

    def add_op(self, op: "Operation") -> None:
        self._seen.add(op)

    def op_in_group(self, op: "Operation") -> bool:
        return op in self._seen

    def __enter__(self):
        if self._new_stack:
            self._old_stack = self._graph._control_dependencies_stack
            self._graph._control_dependencies_stack = []
        self._graph._control_dependencies_stack.append(self)

    def __exit__(self, *exc):
        self._graph._control_dependencies_stack.pop()
        if self._new_stack:
            self._graph._control_dependencies_stack = self._old_stack


class Graph:
    """A TensorFlow computation graph: an append-only list of Operations plus collections."""

    def __init__(self):
        self._ops: list[Operation] = []
        self._nodes_by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._name_stack = ""
        self._control_dependencies_stack: list[_ControlDependenciesController] = []
        # The blocks a running `tf.import_graph_def` sits in: TF gives every imported node all of their
        # control inputs, unpruned (framework/importer.py sets and restores this).
        self._unpruned_controllers: tuple = ()
        self._device_stack: list = []
        self._colocation_stack: list = []
        self._collections: dict[str, list] = {}
        self._finalized = False
        self._unfeedable: set = set()
        self._unfetchable: set = set()
        self._seed: Optional[int] = None
        self._random_op_count = 0  # for TF's graph-seed-only rule: op seed = ops created so far
        self._version = 0
        # GraphDef versions (TF's VersionDef): an import of an older GraphDef lowers the producer, so the
        # graph's own GraphDef keeps the op types that version allows (TF 1's deprecated readers)
        self._producer, self._min_consumer = 1205, 12
        self._lock = threading.RLock()
        self._attr_scope: dict = {}
        self._gradient_override_map: dict = {}
        self._container = ""  # `Graph.container`: the resource container stateful ops get
        self._kernel_label_map: dict = {}
        # Per-graph state owned by other modules (variable scope store, dataset registry …).
        self._extras: dict[str, Any] = {}
        # The function library (framework/function_library.py): name -> GraphFunction, as TF's
        # `Graph._functions`; control-flow ops name their bodies with func attrs.
        self._functions: dict[str, Any] = {}

    # --- default graph -----------------------------------------------------------------------
    @contextlib.contextmanager
    def as_default(self):
        """Makes this the default graph inside the `with` block."""
        stack = _default_graph_stack()
        stack.append(self)
        try:
            yield self
        finally:
            # Pop exactly this graph, even if nested contexts misbehaved.
            if stack and stack[-1] is self:
                stack.pop()
            elif self in stack:
                stack.remove(self)

    # --- properties ---------------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self._version

    @property
    def finalized(self) -> bool:
        return self._finalized

    @property
    def seed(self) -> Optional[int]:
        return self._seed

    @seed.setter
    def seed(self, seed: Optional[int]) -> None:
        self._seed = seed

    @property
    def graph_def_versions(self):
        from tensorboard.compat.proto import versions_pb2
        return versions_pb2.VersionDef(producer=self._producer, min_consumer=self._min_consumer)

    @property
    def building_function(self) -> bool:
        return False

    def finalize(self) -> None:
        self._finalized = True

    def _unsafe_unfinalize(self) -> None:
        self._finalized = False

    def _check_not_finalized(self) -> None:
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")

    # --- naming -------------------------------------------------------------------------------
    def get_name_scope(self) -> str:
        return self._name_stack

    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """TF's uniquification: case-insensitive, first use bare, then `_1`, `_2` … skipping taken names."""
        if self._name_stack:
            name = self._name_stack + "/" + name
        name_key = name.lower()
        i = self._names_in_use.get(name_key, 0)
        if mark_as_used:
            self._names_in_use[name_key] = i + 1
        if i > 0:
            base_name_key = name_key
            while name_key in self._names_in_use:
                name_key = f"{base_name_key}_{i}"
                i += 1
            if mark_as_used:
                self._names_in_use[name_key] = 1
            name = f"{name}_{i - 1}"
        return name

    @contextlib.contextmanager
    def name_scope(self, name: Optional[str]):
        """`foo/…`; re-entering gives `foo_1/…`; a trailing `/` re-enters exactly; None resets."""
        if name:
            if isinstance(name, bytes):
                name = name.decode()
            pattern = _VALID_SCOPE_NAME if self._name_stack else _VALID_OP_NAME
            if not pattern.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
        old_stack = self._name_stack
        if not name:
            new_stack, returned = "", ""
        elif name[-1] == "/":
            new_stack, returned = name[:-1], name
        else:
            new_stack = self.unique_name(name)
            returned = new_stack + "/"
        self._name_stack = new_stack
        try:
            yield returned
        finally:
            self._name_stack = old_stack

    # --- control dependencies & devices -----------------------------------------------------
    def control_dependencies(self, control_inputs: Optional[Iterable]) -> _ControlDependenciesController:
        """Ops created inside depend on `control_inputs`; None clears the enclosing blocks' inputs.

        Each input may be an Operation, a Tensor, an IndexedSlices or a variable (its op: the variable
        itself, never a read of it) or a name (`graph.as_graph_element`). Inputs an enclosing block
        already has, and repeats, are dropped, as in TF."""
        if control_inputs is None:
            return _ControlDependenciesController(self, None)
        from graphcompat.gradients import IndexedSlices  # gradients imports this module
        control_ops: list = []
        current = set(self._current_control_dependencies())
        for c in control_inputs:
            # TF's test for a resource variable (`_handle` and `op`): its op is the handle's VarHandleOp,
            # so depending on the variable reads nothing
            if isinstance(c, IndexedSlices) or (hasattr(c, "_handle") and hasattr(c, "op")):
                c = c.op
            c = self.as_graph_element(c)
            if isinstance(c, Tensor):
                c = c.op
            elif not isinstance(c, Operation):
                raise TypeError(f"Control input must be Operation or Tensor: {c}")
            if c not in current:
                control_ops.append(c)
                current.add(c)
                # TF marks every op used as a manual control dependency; the mark is in its GraphDef
                c._set_attr("_has_manual_control_dependencies", True)
        return _ControlDependenciesController(self, control_ops)

    def _current_control_dependencies(self) -> list:
        """The control inputs of every open block, outermost first, each once."""
        ops, seen = [], set()
        for controller in self._control_dependencies_stack:
            for op in controller.control_inputs:
                if op not in seen:
                    seen.add(op)
                    ops.append(op)
        return ops

    def _control_dependencies_for_inputs(self, input_ops: set) -> list:
        """The control inputs a new op whose data inputs come from `input_ops` gets (TF's pruning).

        A block adds nothing when one of the op's data inputs was created inside it (that input already
        waits for the block's inputs), and never one of the op's own data-input ops. Blocks around a
        running import are not pruned: TF adds them to imported nodes without looking at their inputs."""
        ret: list = []
        for controller in self._control_dependencies_stack:
            if any(controller is c for c in self._unpruned_controllers):
                ret.extend(c for c in controller.control_inputs if c not in ret)
                continue
            if any(controller.op_in_group(op) for op in input_ops):
                continue
            ret.extend(c for c in controller.control_inputs if c not in input_ops and c not in ret)
        return ret

    @contextlib.contextmanager
    def device(self, device_name_or_function):
        """Records a device on ops created inside; functions get the op and return a device."""
        if device_name_or_function is not None and not (callable(device_name_or_function)
                                                        and not hasattr(device_name_or_function, "to_string")):
            canonical_device(device_name_or_function)  # TF rejects a bad string here, before any op
        self._device_stack.append(device_name_or_function)
        try:
            yield
        finally:
            self._device_stack.pop()

    def _apply_device(self, op: Operation) -> None:
        device = ""
        for spec in self._device_stack:
            if spec is None:
                device = ""
            elif callable(spec) and not hasattr(spec, "to_string"):
                op._device = device  # a device function sees the device the outer scopes chose (TF)
                device = merge_device(device, canonical_device(spec(op)))
            else:
                device = merge_device(device, canonical_device(spec))
        op._device = device

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing: bool = False):
        if op is not None and not isinstance(op, Operation):
            op = getattr(op, "op", op)
        self._colocation_stack.append(op)
        try:
            yield
        finally:
            self._colocation_stack.pop()

    @contextlib.contextmanager
    def container(self, container_name: str):
        """`Graph.container` / `tf.container`: stateful ops created inside whose `container` attr is empty get
        `container_name` (variables, queues, tables, readers: the resource container a Session.reset clears)."""
        original, self._container = self._container, container_name
        try:
            yield self._container
        finally:
            self._container = original

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map: dict):
        """Ops of a mapped type created inside get `_gradient_op_type`: `tf.gradients` then uses the
        gradient registered under the mapped name (`tf.RegisterGradient`) or, for a TF op type such as
        "Identity", that op's gradient."""
        if not isinstance(op_type_map, dict):
            raise TypeError("op_type_map must be a dictionary mapping strings to strings")
        saved = {}
        for op_type, mapped in op_type_map.items():
            if not (isinstance(op_type, str) and isinstance(mapped, str)):
                raise TypeError("op_type_map must be a dictionary mapping strings to strings")
            if op_type in self._gradient_override_map:
                saved[op_type] = self._gradient_override_map[op_type]
            self._gradient_override_map[op_type] = mapped
        try:
            yield
        finally:
            for op_type in op_type_map:
                if op_type in saved:
                    self._gradient_override_map[op_type] = saved[op_type]
                else:
                    self._gradient_override_map.pop(op_type, None)

    # --- op creation --------------------------------------------------------------------------
    def _create_op_internal(self, op_type: str, inputs: list, out_dtypes: list, out_shapes: list,
                            name: str, attrs: dict, control_inputs: Iterable = ()) -> Operation:
        """Adds a node. `name` is final (already uniquified); inference has already run."""
        self._check_not_finalized()
        if not _VALID_OP_NAME.match(name):
            raise ValueError(f"'{name}' is not a valid node name")
        with self._lock:
            stack = self._control_dependencies_stack
            # (the common case, no control_dependencies block open, skips the per-input work)
            deps = self._control_dependencies_for_inputs({t.op for t in inputs}) if stack else []
            for c in control_inputs:
                if c not in deps:
                    deps.append(c)
            op = Operation(self, name, op_type, inputs, deps, attrs, "")
            if len(out_dtypes) == 1 == len(out_shapes):
                op._outputs = (Tensor(op, 0, out_dtypes[0], out_shapes[0]),)
            else:
                op._outputs = tuple(Tensor(op, i, dt, sh) for i, (dt, sh) in enumerate(zip(out_dtypes, out_shapes)))
            colocation = self._colocation_stack[-1] if self._colocation_stack else None
            if colocation is not None:
                # TF's colocate_with sets the device functions aside: the op goes where its peer is
                # (a variable's Assign and read stay on its parameter server under replica_device_setter)
                op._device = colocation.device
                attrs.setdefault("_class", [f"loc:@{colocation.name}"])
            elif self._device_stack:
                self._apply_device(op)
            if self._gradient_override_map and op_type in self._gradient_override_map:
                attrs["_gradient_op_type"] = self._gradient_override_map[op_type].encode()
            if self._container and attrs.get("container") == "" and _is_stateful(op_type):
                attrs["container"] = self._container
            for t in inputs:
                if t._consumers:
                    t._consumers.append(op)
                else:
                    t._consumers = [op]
            for c in deps:
                _add_control_output(c, op)
            for controller in stack:
                controller.add_op(op)
            op._id = len(self._ops)
            self._ops.append(op)
            self._nodes_by_name[name] = op
            self._names_in_use.setdefault(name.lower(), 1)
            self._version += 1
        return op

    # --- function library ---------------------------------------------------------------------
    def _add_function(self, function) -> None:
        """Registers a body (`GraphFunction`) in this graph's library under its name."""
        self._check_not_finalized()
        if function.name in self._functions and self._functions[function.name] is not function:
            raise ValueError(f"Cannot add function '{function.name}' because a different function with the same "
                             "name already exists.")
        self._functions[function.name] = function

    def _get_function(self, name: str):
        """The library function `name` (what a func attr names), or None."""
        return self._functions.get(name)

    def _is_function(self, name: str) -> bool:
        return name in self._functions

    # --- lookup -------------------------------------------------------------------------------
    def get_operations(self) -> list:
        return list(self._ops)

    def _get_operation_by_id(self, op_id: int) -> Operation:
        return self._ops[op_id]

    def get_operation_by_name(self, name: str) -> Operation:
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name: str) -> Tensor:
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def as_graph_element(self, obj, allow_tensor: bool = True, allow_operation: bool = True):
        """Resolves a Tensor, Operation, Variable or name to an element of this graph (TF's rules)."""
        if allow_tensor and allow_operation:
            types_str = "Tensor or Operation"
        elif allow_tensor:
            types_str = "Tensor"
        elif allow_operation:
            types_str = "Operation"
        else:
            raise ValueError("allow_tensor and allow_operation can't both be False.")
        conv = getattr(obj, "_as_graph_element", None)
        if conv is not None and not isinstance(obj, (Tensor, Operation)):
            obj = conv()
        if isinstance(obj, bytes):
            obj = obj.decode()
        if isinstance(obj, str):
            name = obj
            if ":" in name and allow_tensor:
                try:
                    op_name, out_n = name.split(":")
                    out_n = int(out_n)
                except ValueError:
                    raise ValueError(f"The name {name!r} looks a like a Tensor name, but is not a valid one. "
                                     'Tensor names must be of the form "<op_name>:<output_index>".') from None
                if op_name not in self._nodes_by_name:
                    raise KeyError(f"The name {name!r} refers to a Tensor which does not exist. "
                                   f"The operation, {op_name!r}, does not exist in the graph.")
                op = self._nodes_by_name[op_name]
                if not 0 <= out_n < len(op._outputs):
                    raise KeyError(f"The name {name!r} refers to a Tensor which does not exist. "
                                   f"The operation, {op_name!r}, exists but only has {len(op._outputs)} outputs.")
                return op._outputs[out_n]
            if ":" in name:
                raise ValueError(f"Name {name!r} appears to refer to a Tensor, not a {types_str}.")
            if allow_operation:
                if name not in self._nodes_by_name:
                    raise KeyError(f"The name {name!r} refers to an Operation not in the graph.")
                return self._nodes_by_name[name]
            if name in self._nodes_by_name:
                msg = f"The name {name!r} refers to an Operation, not a {types_str}."
            else:
                msg = f"The name {name!r} looks like an (invalid) Operation name, not a {types_str}."
            raise ValueError(msg + ' Tensor names must be of the form "<op_name>:<output_index>".')
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError(f"Tensor {obj} is not an element of this graph.")
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError(f"Operation {obj} is not an element of this graph.")
            return obj
        raise TypeError(f"Can not convert a {type(obj).__name__} into a {types_str}.")

    # --- collections --------------------------------------------------------------------------
    def add_to_collection(self, name: str, value) -> None:
        self._check_not_finalized()
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value) -> None:
        names = (names,) if isinstance(names, str) else set(names)
        for name in names:
            self.add_to_collection(name, value)

    def get_collection_ref(self, name: str) -> list:
        return self._collections.setdefault(name, [])

    def get_collection(self, name: str, scope: Optional[str] = None) -> list:
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        regex = re.compile(scope)
        return [item for item in items if getattr(item, "name", None) is not None and regex.match(item.name)]

    def get_all_collection_keys(self) -> list:
        return [k for k, v in self._collections.items() if isinstance(k, str)]

    def clear_collection(self, name: str) -> None:
        self._check_not_finalized()
        self._collections.pop(name, None)

    # --- feeding / fetching -------------------------------------------------------------------
    def prevent_feeding(self, tensor: Tensor) -> None:
        self._unfeedable.add(tensor)

    def is_feedable(self, tensor: Tensor) -> bool:
        return tensor not in self._unfeedable

    def prevent_fetching(self, op: Operation) -> None:
        self._unfetchable.add(op)

    def is_fetchable(self, tensor_or_op) -> bool:
        op = tensor_or_op.op if isinstance(tensor_or_op, Tensor) else tensor_or_op
        return op not in self._unfetchable

    # --- serialization ------------------------------------------------------------------------
    def as_graph_def(self, from_version: Optional[int] = None, add_shapes: bool = False):
        """A real `GraphDef` protobuf with TF op types, attr names and constants' values."""
        from graphcompat.framework import graph_def
        return graph_def.graph_def(self, from_version, add_shapes)

    def _repr_html_(self):
        return _render_html(self)


def _render_html(element):
    """HTML picture of a Graph/Tensor/Operation for Jupyter; None (plain repr) if rendering is unavailable."""
    try:
        from graphcompat.notebook import render_graph_html
    except ImportError:
        return None
    return render_graph_html(element)


# ------------------------------------------------------------------------------------------------
# Default graph stack (thread-local, as TF's)
# ------------------------------------------------------------------------------------------------
class _FunctionTracing(threading.local):
    """Whether a tf.function body is being traced (graphcompat/def_function.py): None outside one, else its
    `autograph` argument, which decides what a Python `bool` of a tensor raises."""
    autograph: Optional[bool] = None


_FUNCTION_TRACING = _FunctionTracing()


def _refuse_bool_in_function():
    if _FUNCTION_TRACING.autograph:
        raise NotImplementedError(
            "tf.autograph: a tf.function that uses a tensor as a Python bool (Python control flow on tensors) "
            "needs AutoGraph's conversion to tf.cond / tf.while_loop, which graphcompat does not do; use tf.cond / "
            "tf.while_loop in the function")
    from graphcompat.framework.errors import OperatorNotAllowedInGraphError
    raise OperatorNotAllowedInGraphError(
        "Using a symbolic `tf.Tensor` as a Python `bool` is not allowed. You can attempt the following resolutions "
        "to the problem: If you are running in Graph mode, use Eager execution mode or decorate this function with "
        "@tf.function. If you are using AutoGraph, you can try decorating this function with @tf.function. If that "
        "does not work, then you may be using an unsupported feature or your source code may not be visible to "
        "AutoGraph. See https://github.com/tensorflow/tensorflow/blob/master/tensorflow/python/autograph/g3doc/"
        "reference/limitations.md#access-to-source-code for more information.")


class _DefaultStacks(threading.local):
    def __init__(self):
        self.graphs: list[Graph] = []


_stacks = _DefaultStacks()
_global_default_graph: Optional[Graph] = None


def _default_graph_stack() -> list:
    return _stacks.graphs


def get_default_graph() -> Graph:
    global _global_default_graph
    if _stacks.graphs:
        return _stacks.graphs[-1]
    if _global_default_graph is None:
        _global_default_graph = Graph()
    return _global_default_graph


def reset_default_graph() -> None:
    """Clears the global default graph (not allowed inside a `with g.as_default()` block)."""
    global _global_default_graph
    from graphcompat.client import session as _session
    if _stacks.graphs:
        message = ("Do not use tf.reset_default_graph() to clear nested graphs. If you need a "
                   "cleared graph, exit the nesting and create a new graph.")
        if any(isinstance(s, _session.InteractiveSession) for s in _session._default_sessions.stack):
            # The usual notebook case: a cell created an InteractiveSession, which keeps its graph default.
            message += "\nAn open tf.InteractiveSession keeps its graph as the default: call its close() first."
        raise AssertionError(message)
    _session._reset_default_session_for_new_graph()
    _global_default_graph = Graph()


# ------------------------------------------------------------------------------------------------
# Module-level conveniences (`tf.name_scope`, `tf.control_dependencies`, `tf.device`, collections)
# ------------------------------------------------------------------------------------------------
class name_scope:  # noqa: N801  (TF's public spelling)
    """`tf.name_scope(name, default_name=None, values=None)` (TF1 signature)."""

    def __init__(self, name, default_name=None, values=None):
        self._name = default_name if name is None else name
        self._default_name = default_name
        self._values = values
        self._ctx = None

    def __enter__(self) -> str:
        if self._name is None and self._values is not None:
            raise ValueError(f"At least one of name ({self._name}) and default_name "
                             f"({self._default_name}) must be provided.")
        graph = _graph_from_values(self._values) if self._values else get_default_graph()
        self._graph_ctx = None
        if graph is not get_default_graph():
            self._graph_ctx = graph.as_default()
            self._graph_ctx.__enter__()
        self._ctx = graph.name_scope(self._name)
        return self._ctx.__enter__()

    def __exit__(self, *exc):
        result = self._ctx.__exit__(*exc)
        if self._graph_ctx is not None:
            self._graph_ctx.__exit__(*exc)
        return result


def _graph_from_values(values) -> Graph:
    for v in values or ():
        g = getattr(v, "graph", None)
        if isinstance(g, Graph):
            return g
    return get_default_graph()


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)


def colocation_group(op: Operation) -> Operation:
    """The op whose colocation group `op` is in (its `_class` attr's `loc:@name`, as TF's `colocate_with`
    records it; else op itself)."""
    for spec in op.attrs.get("_class", ()) or ():
        spec = spec.decode() if isinstance(spec, bytes) else spec
        if isinstance(spec, str) and spec.startswith("loc:@"):
            target = op.graph._nodes_by_name.get(spec[len("loc:@"):])
            if target is not None:
                return target
    return op


def _is_stateful(op_type: str) -> bool:
    from graphcompat.framework.registry import OP_DEFS
    op_def = OP_DEFS.get(op_type)
    return op_def is not None and op_def.stateful


def container(container_name: str):
    """`tf.container`: `get_default_graph().container(container_name)`."""
    return get_default_graph().container(container_name)


def colocate_with(op, ignore_existing: bool = False):
    return get_default_graph().colocate_with(op, ignore_existing)


def add_to_collection(name, value) -> None:
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value) -> None:
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None) -> list:
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key) -> list:
    return get_default_graph().get_collection_ref(key)


def get_name_scope() -> str:
    return get_default_graph().get_name_scope()
