"""`tf.Variable`: TF1's RefVariable (`v` VariableV2, `v/initial_value`, `v/Assign`, `v/read`) and its
ResourceVariable (`v` VarHandleOp, `v/Initializer/…`, `v/IsInitialized/VarIsInitializedOp`, `v/Assign`
AssignVariableOp, `v/Read/ReadVariableOp`), chosen as TF1 chooses: `use_resource=True`, a variable scope
with `use_resource=True`, or `tf.enable_resource_variables()`.

The value lives in the Session (lowering/rules/state.py, resource.py); these classes only record graph
nodes and the collections TF1 programs query.
"""
from __future__ import annotations

import os
from typing import Optional

from graphcompat.framework import constant_op as _const
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.ops import state_ops
from graphcompat.ops import control_ops


class VariableSynchronization:
    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregation:
    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3
    ONLY_FIRST_TOWER = 3


# TF1's default for `use_resource=None` (tf.enable_resource_variables() turns it on).
_DEFAULT_USE_RESOURCE = False


def enable_resource_variables() -> None:
    """`tf.enable_resource_variables`: variables created from now on are ResourceVariables."""
    global _DEFAULT_USE_RESOURCE
    _DEFAULT_USE_RESOURCE = True


def disable_resource_variables() -> None:
    """`tf.disable_resource_variables`: back to TF1's RefVariables by default."""
    global _DEFAULT_USE_RESOURCE
    _DEFAULT_USE_RESOURCE = False


def resource_variables_enabled() -> bool:
    """`tf.compat.v1.resource_variables_enabled`."""
    return _DEFAULT_USE_RESOURCE


def _collections_for(collections, trainable: bool) -> list:
    if collections is None:
        collections = [_ops.GraphKeys.GLOBAL_VARIABLES]
    if not isinstance(collections, (list, tuple, set)):
        raise ValueError(f"collections argument to Variable constructor must be a list, tuple, or set. "
                         f"Got {collections} of type {type(collections)}")
    collections = list(collections)
    if trainable and _ops.GraphKeys.TRAINABLE_VARIABLES not in collections:
        collections.append(_ops.GraphKeys.TRAINABLE_VARIABLES)
    return collections


class Variable:
    """`tf.Variable(initial_value, trainable=True, collections=None, validate_shape=True, name=None, dtype=None)`.

    A RefVariable, or a ResourceVariable when `use_resource=True` (or resource variables are enabled).
    """

    _is_resource_variable = False

    def __new__(cls, *args, **kwargs):
        if cls is Variable:
            use_resource = kwargs.get("use_resource")
            proto = kwargs.get("variable_def")
            if proto is not None:
                use_resource = proto.is_resource
            elif use_resource is None:  # the enclosing variable_scope(use_resource=…), else the default
                import importlib  # `graphcompat.variable_scope` is also the name of the class tf exports
                scope = importlib.import_module("graphcompat.variable_scope").get_variable_scope()
                use_resource = scope.use_resource if scope.use_resource is not None else _DEFAULT_USE_RESOURCE
            if use_resource:
                return object.__new__(ResourceVariable)
        return object.__new__(cls)

    def __init__(self, initial_value=None, trainable: Optional[bool] = None, collections=None,
                 validate_shape: bool = True, caching_device=None, name: Optional[str] = None,
                 variable_def=None, dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None, synchronization=VariableSynchronization.AUTO,
                 aggregation=VariableAggregation.NONE, shape=None):
        if variable_def is not None:
            if initial_value is not None:
                raise ValueError("variable_def and initial_value are mutually exclusive.")
            self._init_from_proto(variable_def, import_scope)
            return
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        init_from_fn = callable(initial_value)
        if constraint is not None and not callable(constraint):
            raise ValueError("The `constraint` argument must be a callable.")
        if trainable is None:
            trainable = synchronization != VariableSynchronization.ON_READ
        collections = _collections_for(collections, trainable)
        graph = _ops.get_default_graph()
        values = [] if init_from_fn else [initial_value]
        # TF builds a variable in `init_scope`: none of the open control_dependencies blocks apply
        with _ops.control_dependencies(None), _ops.name_scope(name, "Variable", values) as scope:
            if init_from_fn:
                with _ops.name_scope("Initializer"):
                    initial_value = initial_value()
                    if hasattr(initial_value, "_as_graph_element") and not isinstance(initial_value, _ops.Tensor):
                        initial_value = initial_value.value() if hasattr(initial_value, "value") else initial_value
                initial_value = _const.convert_to_tensor(initial_value, dtype=dtype, name="initial_value")
            else:
                initial_value = _const.convert_to_tensor(initial_value, dtype=dtype, name="initial_value")
            if initial_value.dtype.is_ref_dtype:
                initial_value = _const.convert_to_tensor(initial_value)
            graph = initial_value.graph
            shape = initial_value.shape if validate_shape else _ts.unknown_shape()
            if shape is not None and shape.ndims is not None and expected_shape is not None:
                shape.assert_is_compatible_with(_ts.as_shape(expected_shape))
            if shape is not None and validate_shape and not initial_value.shape.is_fully_defined():
                raise ValueError(f"initial_value must have a shape specified: {initial_value}")
            self._variable = state_ops.variable_op_v2(shape, initial_value.dtype.base_dtype, name=scope)
            self._initial_value = initial_value
            with graph.colocate_with(self._variable.op):
                self._initializer_op = state_ops.assign(self._variable, initial_value,
                                                        validate_shape=validate_shape).op
                self._snapshot = _read(self._variable, "read")
        self._trainable = trainable
        self._constraint = constraint
        self._caching_device = caching_device
        self._save_slice_info = None
        graph._extras.setdefault("ref_to_variable", {})[self._variable] = self
        graph.add_to_collections(collections, self)

    def _init_from_proto(self, proto, import_scope: Optional[str] = None) -> None:
        """A Variable over already-imported ops, from its VariableDef (TF's `variable_def=`)."""
        graph = _ops.get_default_graph()
        prefix = f"{import_scope}/" if import_scope else ""

        def element(name):
            return graph.as_graph_element(prefix + name) if name else None
        self._variable = element(proto.variable_name)
        self._initializer_op = element(proto.initializer_name)
        self._initial_value = element(proto.initial_value_name)
        self._snapshot = element(proto.snapshot_name)
        self._trainable = proto.trainable
        self._constraint = None
        self._caching_device = None
        self._save_slice_info = _slice_info_from_proto(proto, import_scope)
        graph._extras.setdefault("ref_to_variable", {})[self._variable] = self

    @staticmethod
    def from_proto(variable_def, import_scope: Optional[str] = None) -> "Variable":
        """`Variable.from_proto`: a Ref- or ResourceVariable over the ops a VariableDef names."""
        return Variable(variable_def=variable_def, import_scope=import_scope)

    def to_proto(self, export_scope: Optional[str] = None):
        """`Variable.to_proto`: TF's VariableDef (names of the variable's ops), or None outside `export_scope`."""
        from tensorboard.compat.proto import variable_pb2

        def strip(name):
            if not export_scope:
                return name
            return name[len(export_scope) + 1:] if name.startswith(export_scope + "/") else None
        if export_scope and strip(self.name) is None:
            return None
        proto = variable_pb2.VariableDef(
            variable_name=strip(self.name), initializer_name=strip(self.initializer.name),
            snapshot_name=strip(self._snapshot.name),
            initial_value_name=strip(self._initial_value.name) if self._initial_value is not None else "",
            trainable=bool(self.trainable), is_resource=self._is_resource_variable)
        if self._save_slice_info:
            slice_def = self._save_slice_info.to_proto(export_scope=export_scope)
            if slice_def is not None:
                proto.save_slice_info_def.MergeFrom(slice_def)
        return proto

    # --- partitioned variables: the slice of a larger (partitioned) variable this one saves as ----
    def _set_save_slice_info(self, save_slice_info) -> None:
        self._save_slice_info = save_slice_info

    def _get_save_slice_info(self):
        return self._save_slice_info

    # --- identity -----------------------------------------------------------------------------
    def _as_graph_element(self) -> _ops.Tensor:
        return self._variable

    def _ref(self) -> _ops.Tensor:
        return self._variable

    @property
    def name(self) -> str:
        return self._variable.name

    @property
    def op(self) -> _ops.Operation:
        return self._variable.op

    @property
    def graph(self) -> _ops.Graph:
        return self._variable.graph

    @property
    def dtype(self) -> _dt.DType:
        return self._variable.dtype

    @property
    def shape(self) -> _ts.TensorShape:
        return self._variable.shape

    def get_shape(self) -> _ts.TensorShape:
        return self._variable.shape

    @property
    def device(self) -> str:
        return self._variable.device

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def constraint(self):
        return self._constraint

    @property
    def initializer(self) -> _ops.Operation:
        return self._initializer_op

    @property
    def initial_value(self) -> _ops.Tensor:
        return self._initial_value

    def _shared_name(self) -> str:
        return self.name[:-2]

    # --- reads --------------------------------------------------------------------------------
    def value(self) -> _ops.Tensor:
        """The snapshot `v/read` (every conversion of the variable to a tensor uses it)."""
        return self._snapshot

    def read_value(self) -> _ops.Tensor:
        """A new `read` Identity of the variable in the current name scope."""
        return _read(self._variable, "read")

    def eval(self, session=None):
        return self._variable.eval(session=session)

    def initialized_value(self) -> _ops.Tensor:
        """The value, or the initial value while uninitialized (to initialize other variables from it):
        TF's `cond(is_variable_initialized(self), self.read_value, lambda: self.initial_value)`, outside
        any control dependencies (TF's init_scope)."""
        from graphcompat.ops.control_flow_ops import cond
        with _ops.control_dependencies(None):
            return cond(is_variable_initialized(self), self.read_value, lambda: self._initial_value)

    # --- writes -------------------------------------------------------------------------------
    def _strided_slice_assign(self, begin, end, strides, value, name, **masks):
        """`self[...].assign(value)`: TF's StridedSliceAssign on the ref, which it returns."""
        from graphcompat.framework.registry import apply_op
        return apply_op("StridedSliceAssign", [self._ref(), begin, end, strides, value], masks, name=name)

    def assign(self, value, use_locking: bool = False, name: Optional[str] = None, read_value: bool = True):
        op = state_ops.assign(self._variable, value, use_locking=use_locking, name=name)
        return op if read_value else op.op

    def assign_add(self, delta, use_locking: bool = False, name: Optional[str] = None, read_value: bool = True):
        op = state_ops.assign_add(self._variable, delta, use_locking=use_locking, name=name)
        return op if read_value else op.op

    def assign_sub(self, delta, use_locking: bool = False, name: Optional[str] = None, read_value: bool = True):
        op = state_ops.assign_sub(self._variable, delta, use_locking=use_locking, name=name)
        return op if read_value else op.op

    def scatter_update(self, sparse_delta, use_locking: bool = False, name: Optional[str] = None):
        return state_ops.scatter_update(self._variable, sparse_delta.indices, sparse_delta.values,
                                        use_locking=use_locking, name=name)

    def scatter_add(self, sparse_delta, use_locking: bool = False, name: Optional[str] = None):
        return state_ops.scatter_add(self._variable, sparse_delta.indices, sparse_delta.values,
                                     use_locking=use_locking, name=name)

    def scatter_sub(self, sparse_delta, use_locking: bool = False, name: Optional[str] = None):
        return state_ops.scatter_sub(self._variable, sparse_delta.indices, sparse_delta.values,
                                     use_locking=use_locking, name=name)

    def count_up_to(self, limit):
        return state_ops.count_up_to(self._variable, limit)

    def load(self, value, session=None) -> None:
        """Writes `value` into the variable in `session` by feeding its initial value (as TF)."""
        if session is None:
            from graphcompat.client.session import get_default_session
            session = get_default_session()
            if session is None:
                raise ValueError("Either session argument should be provided or default session should be "
                                 "established")
        session.run(self._initializer_op, {self._initializer_op.inputs[1]: value})

    # --- python protocol ----------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"

    def _repr_html_(self):
        """Jupyter: a picture of the variable's graph (initializer and read), like a Tensor's."""
        return _ops._render_html(self)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other) -> bool:
        return self is other

    def __ne__(self, other) -> bool:
        return self is not other

    def __iter__(self):
        raise TypeError("'Variable' object is not iterable.")

    def __bool__(self):
        raise TypeError("Using a `tf.Variable` as a Python `bool` is not allowed.")

    def __array__(self, dtype=None, copy=None):
        raise NotImplementedError(f"Cannot convert a symbolic Variable ({self.name}) to a numpy array.")

    def _dense_var_to_tensor(self, dtype=None, name=None, as_ref: bool = False) -> _ops.Tensor:
        return self._ref() if as_ref else self.value()

    __array_priority__ = 100


def _read(ref: _ops.Tensor, name: str) -> _ops.Tensor:
    """An Identity of the raw ref (built directly: converting a ref tensor would snapshot it first)."""
    graph = ref.graph
    with graph.name_scope(name) as scope:
        base = ref.dtype.base_dtype
        op = graph._create_op_internal("Identity", [ref], [base], [ref.shape], scope[:-1], {"T": base})
    return op._outputs[0]


# Operators: a Variable behaves as its `v/read` snapshot (looked up on Tensor at call time, so
# operators other modules add to Tensor later work on Variables too).
_OPERATORS = ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__",
              "__matmul__", "__rmatmul__", "__neg__", "__abs__", "__invert__", "__and__", "__rand__",
              "__or__", "__ror__", "__xor__", "__rxor__", "__lt__", "__le__", "__gt__", "__ge__",
              "__getitem__", "__div__", "__rdiv__"]


def _make_operator(name: str):
    def operator(self, *args):
        method = getattr(_ops.Tensor, name, None)
        if method is None:
            return NotImplemented
        return method(self.value(), *args)
    operator.__name__ = name
    return operator


for _name in _OPERATORS:
    setattr(Variable, _name, _make_operator(_name))


def _slice_variable(self, slice_spec):
    """TF's `_SliceHelperVar`: the slice of the variable's value, whose `.assign` writes the slice."""
    from graphcompat.ops.slicing_ops import slice_helper
    return slice_helper(self.value(), slice_spec, var=self)


Variable.__getitem__ = _slice_variable

class SaveSliceInfo:
    """`Variable.SaveSliceInfo`: where a variable sits in the larger variable it is a slice of
    (`full_name`, `full_shape`, `var_offset`, `var_shape`); `spec` is the checkpoint's shape_and_slice."""

    def __init__(self, full_name=None, full_shape=None, var_offset=None, var_shape=None,
                 save_slice_info_def=None, import_scope=None):
        if save_slice_info_def:
            self.full_name = (f"{import_scope}/{save_slice_info_def.full_name}" if import_scope
                              else save_slice_info_def.full_name)
            self.full_shape = list(save_slice_info_def.full_shape)
            self.var_offset = list(save_slice_info_def.var_offset)
            self.var_shape = list(save_slice_info_def.var_shape)
        else:
            self.full_name = full_name
            self.full_shape = full_shape
            self.var_offset = var_offset
            self.var_shape = var_shape

    @property
    def spec(self) -> str:
        """"<full dims> <offset>,<length>:…", e.g. "7 3 3,2:0,3" (TF's slice spec)."""
        full = " ".join("%d" % d for d in self.full_shape) + " "
        return full + ":".join("%d,%d" % (o, n) for o, n in zip(self.var_offset, self.var_shape))

    @classmethod
    def from_spec(cls, spec: str) -> "SaveSliceInfo":
        if not spec:
            return cls()
        try:
            full_shape_str, slice_str = spec.rsplit(" ", 1)
        except ValueError as exc:
            raise ValueError("Spec string must contain space-separated full_shape info.") from exc
        full_shape = []
        for dim in full_shape_str.split():
            try:
                full_shape.append(int(dim))
            except ValueError as exc:
                raise ValueError("Spec string full_shape must be a sequence of integers. "
                                 f"Found '{dim}', which is not an integer.") from exc
        var_offset, var_shape = [], []
        for dim_spec in slice_str.split(":"):
            try:
                offset, length = dim_spec.split(",")
            except ValueError as exc:
                raise ValueError("Spec string must contain comma-separated pairs of offsets and shapes.") \
                    from exc
            try:
                var_offset.append(int(offset))
            except ValueError as exc:
                raise ValueError("Spec string var_offset must be an integer. "
                                 f"Found '{offset}', which is not an integer.") from exc
            try:
                var_shape.append(int(length))
            except ValueError as exc:
                raise ValueError("Spec string var_shape must be an integer. "
                                 f"Found '{length}', which is not an integer.") from exc
        return cls(full_shape=full_shape, var_offset=var_offset, var_shape=var_shape)

    def to_proto(self, export_scope: Optional[str] = None):
        """TF's SaveSliceInfoDef, or None when `full_name` is outside `export_scope`."""
        from tensorboard.compat.proto import variable_pb2
        if export_scope is not None and not self.full_name.startswith(export_scope):
            return None
        full_name = self.full_name
        if export_scope and full_name.startswith(export_scope + "/"):
            full_name = full_name[len(export_scope) + 1:]
        return variable_pb2.SaveSliceInfoDef(full_name=full_name, full_shape=list(self.full_shape),
                                             var_offset=list(self.var_offset),
                                             var_shape=list(self.var_shape))


def _slice_info_from_proto(proto, import_scope: Optional[str]):
    if proto.HasField("save_slice_info_def"):
        return SaveSliceInfo(save_slice_info_def=proto.save_slice_info_def, import_scope=import_scope)
    return None


Variable.SaveSliceInfo = SaveSliceInfo
RefVariable = Variable
VariableV1 = Variable


class ResourceVariable(Variable):
    """TF's ResourceVariable in graph mode: a VarHandleOp and separate read/assign ops on its handle.

    Every conversion to a tensor (`value()`, using the variable in an op) records a new ReadVariableOp,
    as TF does, so a read placed after an assign (by control dependencies) sees the assigned value.
    """

    _is_resource_variable = True

    def __init__(self, initial_value=None, trainable: Optional[bool] = None, collections=None,
                 validate_shape: bool = True, caching_device=None, name: Optional[str] = None, dtype=None,
                 variable_def=None, import_scope=None, constraint=None, distribute_strategy=None,
                 synchronization=VariableSynchronization.AUTO, aggregation=VariableAggregation.NONE,
                 shape=None, expected_shape=None, use_resource=None):
        from graphcompat.ops import resource_variable_ops as rv
        if variable_def is not None:
            if initial_value is not None:
                raise ValueError("variable_def and initial_value are mutually exclusive.")
            self._init_from_proto(variable_def, import_scope)
            return
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        init_from_fn = callable(initial_value)
        if constraint is not None and not callable(constraint):
            raise ValueError(f"The `constraint` argument must be a callable. Got: {constraint}")
        if trainable is None:
            trainable = synchronization != VariableSynchronization.ON_READ
        collections = _collections_for(collections, trainable)
        with _ops.control_dependencies(None), _ops.name_scope(name, "Variable",
                                                              [] if init_from_fn else [initial_value]) as scope:
            handle_name = scope[:-1]
            with _ops.name_scope("Initializer"):
                if init_from_fn:
                    initial_value = initial_value()
                initial_value = _const.convert_to_tensor(initial_value, dtype=dtype, name="initial_value")
            if shape is not None:
                shape = _ts.as_shape(shape)
                if not shape.is_compatible_with(initial_value.shape):
                    raise ValueError(f"The initial value's shape ({initial_value.shape}) is not compatible with "
                                     f"the explicitly supplied `shape` argument ({shape}).")
            else:
                shape = initial_value.shape if validate_shape else _ts.unknown_shape()
            dtype = initial_value.dtype.base_dtype
            self._handle = rv.var_handle_op(dtype, shape, shared_name=handle_name, debug_name=scope,
                                            name=handle_name + "/")
            with _ops.name_scope("IsInitialized"):
                self._is_initialized_op = rv.var_is_initialized_op(self._handle)
            with _ops.name_scope("Assign") as assign_scope:
                self._initializer_op = rv.assign_variable_op(self._handle, initial_value, dtype,
                                                             validate_shape=validate_shape,
                                                             name=assign_scope)
            with _ops.name_scope("Read"):
                self._snapshot = rv.read_variable_op(self._handle, dtype)
        self._variable = self._handle
        self._dtype = dtype
        self._initial_value = initial_value
        self._trainable = trainable
        self._constraint = constraint
        self._caching_device = caching_device
        self._save_slice_info = None
        self._handle.graph.add_to_collections(collections, self)

    def _init_from_proto(self, proto, import_scope: Optional[str] = None) -> None:
        graph = _ops.get_default_graph()
        prefix = f"{import_scope}/" if import_scope else ""
        self._handle = graph.as_graph_element(prefix + proto.variable_name)
        self._variable = self._handle
        self._initializer_op = graph.as_graph_element(prefix + proto.initializer_name)
        self._snapshot = graph.as_graph_element(prefix + proto.snapshot_name) if proto.snapshot_name else None
        self._initial_value = (graph.as_graph_element(prefix + proto.initial_value_name)
                               if proto.initial_value_name else None)
        self._is_initialized_op = None
        from graphcompat.ops.resource_variable_ops import handle_data
        self._dtype = handle_data(self._handle)[0] or (self._snapshot.dtype if self._snapshot is not None
                                                       else _dt.float32)
        self._trainable = proto.trainable
        self._constraint = None
        self._caching_device = None
        self._save_slice_info = _slice_info_from_proto(proto, import_scope)

    # --- identity -----------------------------------------------------------------------------
    @property
    def handle(self) -> _ops.Tensor:
        """The `resource` tensor the variable's ops take."""
        return self._handle

    @property
    def create(self) -> _ops.Operation:
        return self._initializer_op

    @property
    def dtype(self) -> _dt.DType:
        return self._dtype

    @property
    def shape(self) -> _ts.TensorShape:
        from graphcompat.ops.resource_variable_ops import handle_data
        return handle_data(self._handle)[1]

    def get_shape(self) -> _ts.TensorShape:
        return self.shape

    def _as_graph_element(self) -> _ops.Tensor:
        """What `sess.run(v)` fetches: the `v/Read/ReadVariableOp` snapshot."""
        return self._snapshot

    def _ref(self) -> _ops.Tensor:
        """The handle: what TF's optimizers pass to the ResourceApply* kernels."""
        return self._handle

    def _dense_var_to_tensor(self, dtype=None, name=None, as_ref: bool = False) -> _ops.Tensor:
        return self._handle if as_ref else self.value()

    # --- reads --------------------------------------------------------------------------------
    def value(self) -> _ops.Tensor:
        """A new ReadVariableOp of the variable in the current name scope (a recording GradientTape
        watches the variable)."""
        from graphcompat.ops import resource_variable_ops as rv
        from graphcompat.backprop import variable_accessed
        variable_accessed(self)
        return rv.read_variable_op(self._handle, self._dtype)

    def read_value(self) -> _ops.Tensor:
        """`Read/ReadVariableOp` then an Identity of it, as TF's `read_value`."""
        from graphcompat.ops import array_ops
        with _ops.name_scope("Read"):
            value = self.value()
        return array_ops.identity(value)

    def sparse_read(self, indices, name: Optional[str] = None) -> _ops.Tensor:
        """Rows `indices` of the variable: one ResourceGather (its gradient is an IndexedSlices)."""
        from graphcompat.ops import resource_variable_ops as rv
        from graphcompat.backprop import variable_accessed
        variable_accessed(self)
        with _ops.name_scope("Gather" if name is None else name) as scope:
            return rv.resource_gather(self._handle, indices, self._dtype, name=scope)

    def eval(self, session=None):
        from graphcompat.client.session import _run_using_default_session
        return _run_using_default_session(self._snapshot, None, self.graph, session)

    def is_initialized(self, name: Optional[str] = None) -> _ops.Tensor:
        from graphcompat.ops import resource_variable_ops as rv
        return rv.var_is_initialized_op(self._handle, name=name)

    def initialized_value(self) -> _ops.Tensor:
        """The value once initialized, else the initial value (a tf.cond on VarIsInitializedOp, as TF)."""
        from graphcompat.ops.control_flow_ops import cond
        with _ops.control_dependencies(None):
            return cond(self.is_initialized(), self.read_value, lambda: self._initial_value)

    # --- writes -------------------------------------------------------------------------------
    def _check_assign_shape(self, value: _ops.Tensor) -> None:
        shape = self.shape
        if not shape.is_compatible_with(value.shape):
            raise ValueError(f"Cannot assign value to variable ' {self.name}': Shape mismatch.The variable shape "
                             f"{shape}, and the assigned value shape {value.shape} are incompatible.")

    def _read_after(self, op: _ops.Operation, read_value: bool):
        """TF returns the variable read after the update (an `_UnreadVariable`); here: that read."""
        if not read_value:
            return op
        from graphcompat.ops import resource_variable_ops as rv
        with _ops.control_dependencies([op]):
            return rv.read_variable_op(self._handle, self._dtype)

    def assign(self, value, use_locking=None, name: Optional[str] = None, read_value: bool = True):
        from graphcompat.ops import resource_variable_ops as rv
        value = _const.convert_to_tensor(value, dtype=self._dtype)
        self._check_assign_shape(value)
        op = rv.assign_variable_op(self._handle, value, self._dtype, validate_shape=True, name=name)
        return self._read_after(op, read_value)

    def _update(self, builder, delta, name, read_value):
        delta = _const.convert_to_tensor(delta, dtype=self._dtype)
        return self._read_after(builder(self._handle, delta, self._dtype, name=name), read_value)

    def assign_add(self, delta, use_locking=None, name: Optional[str] = None, read_value: bool = True):
        from graphcompat.ops import resource_variable_ops as rv
        return self._update(rv.assign_add_variable_op, delta, name, read_value)

    def assign_sub(self, delta, use_locking=None, name: Optional[str] = None, read_value: bool = True):
        from graphcompat.ops import resource_variable_ops as rv
        return self._update(rv.assign_sub_variable_op, delta, name, read_value)

    def _strided_slice_assign(self, begin, end, strides, value, name, **masks):
        """`self[...].assign(value)`: TF's ResourceStridedSliceAssign, then the variable read after it."""
        from graphcompat.framework.registry import apply_op
        value = _const.convert_to_tensor(value, dtype=self._dtype)
        op = apply_op("ResourceStridedSliceAssign", [self._handle, begin, end, strides, value], masks, name=name)
        return self._read_after(op, True)

    def _scatter(self, op_type: str, indices, values, name):
        """One Resource{Scatter*,ScatterNd*} op, then the variable read after it (TF's `_lazy_read`)."""
        from graphcompat.ops import resource_variable_ops as rv
        updates = _const.convert_to_tensor(values, dtype=self._dtype)
        op = rv.resource_scatter(op_type, self._handle, indices, updates, self._dtype, name=name)
        return self._read_after(op, True)

    def scatter_update(self, sparse_delta, use_locking=False, name=None):
        return self._scatter("ResourceScatterUpdate", sparse_delta.indices, sparse_delta.values, name)

    def scatter_add(self, sparse_delta, use_locking=False, name=None):
        return self._scatter("ResourceScatterAdd", sparse_delta.indices, sparse_delta.values, name)

    def scatter_sub(self, sparse_delta, use_locking=False, name=None):
        return self._scatter("ResourceScatterSub", sparse_delta.indices, sparse_delta.values, name)

    def scatter_mul(self, sparse_delta, use_locking=False, name=None):
        return self._scatter("ResourceScatterMul", sparse_delta.indices, sparse_delta.values, name)

    def scatter_div(self, sparse_delta, use_locking=False, name=None):
        return self._scatter("ResourceScatterDiv", sparse_delta.indices, sparse_delta.values, name)

    def scatter_min(self, sparse_delta, use_locking=False, name=None):
        return self._scatter("ResourceScatterMin", sparse_delta.indices, sparse_delta.values, name)

    def scatter_max(self, sparse_delta, use_locking=False, name=None):
        return self._scatter("ResourceScatterMax", sparse_delta.indices, sparse_delta.values, name)

    def count_up_to(self, limit):
        from graphcompat.framework.registry import apply_op
        return apply_op("ResourceCountUpTo", [self._handle], {"limit": int(limit), "T": self._dtype})

    def load(self, value, session=None) -> None:
        """Writes `value` into the variable in `session` by feeding its initial value (as TF)."""
        if session is None:
            from graphcompat.client.session import get_default_session
            session = get_default_session()
            if session is None:
                raise ValueError("Either session argument should be provided or default session should be "
                                 "established")
        session.run(self._initializer_op, {self._initializer_op.inputs[1]: value})


def _to_tensor(v: Variable, dtype=None, name=None, as_ref: bool = False) -> _ops.Tensor:
    if dtype is not None and not dtype.is_compatible_with(v.dtype):
        raise ValueError(f"Incompatible type conversion requested to type '{dtype.name}' for variable "
                         f"of type '{v.dtype.name}'")
    return v._dense_var_to_tensor(dtype, name, as_ref)


_const.register_tensor_conversion_function(Variable, _to_tensor)


# ------------------------------------------------------------------------------------------------
# Partitioned variables
# ------------------------------------------------------------------------------------------------
class PartitionedVariable:
    """TF's `PartitionedVariable`: the parts `get_variable(..., partitioner=...)` created, one variable
    per slice along one axis. Used as a tensor it is the concatenation of its parts (`<name>/
    ConcatPartitions/concat` then an Identity named `<name>`); iterating gives the parts, sorted by offset."""

    def __init__(self, name, shape, dtype, variable_list, partitions):
        if not isinstance(variable_list, (list, tuple)):
            raise TypeError("variable_list is not a list or tuple: %s" % (variable_list,))
        if not isinstance(partitions, (list, tuple)):
            raise TypeError("partitions is not a list or tuple: %s" % (partitions,))
        if not all(p >= 1 for p in partitions):
            raise ValueError("partition values must be positive: %s" % (partitions,))
        if not variable_list:
            raise ValueError("variable_list may not be empty")
        for v in variable_list:
            if not all(v._get_save_slice_info() is not None for v in variable_list):
                raise ValueError("All variables must have a save_slice_info available: %s"
                                 % [v.name for v in variable_list])
            if len(shape) != len(partitions):
                raise ValueError("len(shape) != len(partitions): %s vs. %s" % (shape, partitions))
            if _ts.as_shape(v._get_save_slice_info().full_shape) != _ts.as_shape(shape):
                raise ValueError("All variables' full shapes must match shape: %s; but full shapes were: %s"
                                 % (shape, str([v._get_save_slice_info().full_shape])))
        self._variable_list = sorted(variable_list, key=lambda v: v._get_save_slice_info().var_offset)
        self._name = name
        self._shape = shape
        self._dtype = dtype
        self._partitions = partitions
        self._as_tensor = None

    def __iter__(self):
        return iter(self._variable_list)

    def __len__(self) -> int:
        axes = self._partition_axes()
        if len(axes) > 1:
            raise ValueError("Cannot get a length for %d > 1 partition axes" % len(axes))
        return len(self._variable_list)

    def __repr__(self) -> str:
        return f"<graphcompat PartitionedVariable '{self._name}' shape={self.get_shape()} dtype={self._dtype.name}>"

    def _partition_axes(self) -> list:
        if all(p == 1 for p in self._partitions):
            return [0]
        return [i for i, p in enumerate(self._partitions) if p > 1]

    def _concat(self) -> _ops.Tensor:
        """The full value: ConcatV2 of the parts along the partition axis (keeps the scope's control deps)."""
        from graphcompat.ops import array_ops
        if len(self._variable_list) == 1:
            with _ops.name_scope(None):
                return array_ops.identity(self._variable_list[0], name=self._name)
        axes = self._partition_axes()
        if len(axes) > 1:
            raise NotImplementedError("Cannot concatenate along more than one dimension: %s.  Multi-axis "
                                      "partition concat is not supported" % str(axes))
        with _ops.name_scope(self._name + "/ConcatPartitions/"):
            concatenated = array_ops.concat(self._variable_list, axes[0])
        with _ops.name_scope(None):
            return array_ops.identity(concatenated, name=self._name)

    def as_tensor(self) -> _ops.Tensor:
        """The full value, without the control dependencies of the scope it is used in."""
        with _ops.control_dependencies(None):
            return self._concat()

    @staticmethod
    def _TensorConversionFunction(v, dtype=None, name=None, as_ref=False):  # noqa: N802 (TF's name)
        if dtype is not None and not dtype.is_compatible_with(v.dtype):
            raise ValueError("Incompatible type conversion requested to type '%s' for variable of type '%s'"
                             % (dtype.name, v.dtype.name))
        if as_ref:
            raise NotImplementedError("PartitionedVariable doesn't support being used as a reference.")
        return v.as_tensor()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self) -> _dt.DType:
        return self._dtype

    @property
    def shape(self) -> _ts.TensorShape:
        return self.get_shape()

    @property
    def _distribute_strategy(self):
        return None

    def get_shape(self) -> _ts.TensorShape:
        return self._shape

    def _get_variable_list(self) -> list:
        return self._variable_list

    def _get_partitions(self):
        return self._partitions

    def _apply_assign_fn(self, assign_fn, value) -> list:
        axes = self._partition_axes()
        if len(axes) > 1:
            raise NotImplementedError("Cannot do assign action along more than one dimension: %s.  Multi-axis "
                                      "partition assign action is not supported " % str(axes))
        if isinstance(value, list):
            assert len(value) == len(self._variable_list)
            value_list = value
        elif isinstance(value, PartitionedVariable):
            value_list = list(value)
        else:
            from graphcompat.ops import array_ops
            sizes = [_ts.dimension_value(var.shape[axes[0]]) for var in self._variable_list]
            value_list = array_ops.split(value, sizes, axis=axes[0])
        return [assign_fn(var, value_list[i]) for i, var in enumerate(self._variable_list)]

    def _assign_with(self, method: str, value, use_locking, name, read_value):
        def assign_fn(var, part):
            return getattr(var, method)(part, use_locking=use_locking, name=name, read_value=read_value)
        assigns = self._apply_assign_fn(assign_fn, value)
        if read_value:
            return assigns
        return [a if isinstance(a, _ops.Operation) else a.op for a in assigns]

    def assign(self, value, use_locking=False, name=None, read_value=True):
        return self._assign_with("assign", value, use_locking, name, read_value)

    def assign_add(self, value, use_locking=False, name=None, read_value=True):
        return self._assign_with("assign_add", value, use_locking, name, read_value)

    def assign_sub(self, value, use_locking=False, name=None, read_value=True):
        return self._assign_with("assign_sub", value, use_locking, name, read_value)


_const.register_tensor_conversion_function(PartitionedVariable, PartitionedVariable._TensorConversionFunction)


# ------------------------------------------------------------------------------------------------
# Collections and initializers
# ------------------------------------------------------------------------------------------------
def global_variables(scope: Optional[str] = None) -> list:
    return _ops.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES, scope)


def all_variables() -> list:
    return global_variables()


def trainable_variables(scope: Optional[str] = None) -> list:
    return _ops.get_collection(_ops.GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope: Optional[str] = None) -> list:
    return _ops.get_collection(_ops.GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope: Optional[str] = None) -> list:
    return _ops.get_collection(_ops.GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope: Optional[str] = None) -> list:
    return _ops.get_collection(_ops.GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


def variables_initializer(var_list, name: str = "init") -> _ops.Operation:
    """One NoOp that runs every listed variable's initializer."""
    if var_list:
        return control_ops.group(*[v.initializer for v in var_list], name=name)
    return control_ops.no_op(name=name)


def initialize_variables(var_list, name: str = "init") -> _ops.Operation:
    return variables_initializer(var_list, name)


def global_variables_initializer() -> _ops.Operation:
    return variables_initializer(global_variables())


def initialize_all_variables() -> _ops.Operation:
    return global_variables_initializer()


def local_variables_initializer() -> _ops.Operation:
    return variables_initializer(local_variables())


def initialize_local_variables() -> _ops.Operation:
    return local_variables_initializer()


def is_variable_initialized(variable) -> _ops.Tensor:
    """`tf.is_variable_initialized`: VarIsInitializedOp (resource) or IsVariableInitialized (ref)."""
    from graphcompat.ops import state_ops
    return state_ops.is_variable_initialized(variable)


def assert_variables_initialized(var_list=None):
    """`tf.assert_variables_initialized`: an op whose run fails (FailedPreconditionError) while any of the
    variables (default: all global and local variables) is uninitialized; None when there are none."""
    from graphcompat.tf1_misc import assert_variables_initialized as _impl
    return _impl(var_list)


def report_uninitialized_variables(var_list=None, name: str = "report_uninitialized_variables") -> _ops.Tensor:
    """A 1-D string tensor: the op names of the variables in `var_list` that hold no value yet.

    TF's composition: one is-initialized op per variable, stacked, negated, and a boolean_mask of the
    names (on the CPU, as TF places it)."""
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ops.data_dependent_ops import boolean_mask
    if var_list is None:
        var_list = global_variables() + local_variables()
        if not var_list:
            var_list = [op.outputs[0] for op in _ops.get_default_graph().get_operations()
                        if op.type in ("Variable", "VariableV2", "AutoReloadVariable")]
    with _ops.name_scope(name):
        init_vars = [is_variable_initialized(v) for v in var_list]
        # TF's placement, with TF's environment override of it.
        with _ops.device(os.environ.get("TF_DEVICE_FOR_UNINITIALIZED_VARIABLE_REPORTING", "/cpu:0")):
            if not var_list:
                return _const.constant([], dtype=_dt.string)
            mask = math_ops.logical_not(array_ops.stack(init_vars))
            names = _const.constant([v.op.name for v in var_list])
            return boolean_mask(names, mask)
