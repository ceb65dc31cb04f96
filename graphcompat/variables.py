"""`tf.Variable` as TF1's RefVariable: ops `v` (VariableV2), `v/initial_value`, `v/Assign`, `v/read`.

The value lives in the Session (see lowering/rules/state.py); this class only records graph nodes and
the collections TF1 programs query.
"""
from __future__ import annotations

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


class Variable:
    """`tf.Variable(initial_value, trainable=True, collections=None, validate_shape=True, name=None, dtype=None)`."""

    def __init__(self, initial_value=None, trainable: Optional[bool] = None, collections=None,
                 validate_shape: bool = True, caching_device=None, name: Optional[str] = None,
                 variable_def=None, dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None, synchronization=VariableSynchronization.AUTO,
                 aggregation=VariableAggregation.NONE, shape=None):
        if variable_def is not None:
            raise NotImplementedError("tf.Variable(variable_def=...) (restoring from a VariableDef proto)")
        if use_resource:
            raise NotImplementedError("tf.Variable(use_resource=True): graphcompat builds TF1 RefVariables")
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        init_from_fn = callable(initial_value)
        if constraint is not None and not callable(constraint):
            raise ValueError("The `constraint` argument must be a callable.")
        if trainable is None:
            trainable = synchronization != VariableSynchronization.ON_READ
        if collections is None:
            collections = [_ops.GraphKeys.GLOBAL_VARIABLES]
        if not isinstance(collections, (list, tuple, set)):
            raise ValueError(f"collections argument to Variable constructor must be a list, tuple, or set. "
                             f"Got {collections} of type {type(collections)}")
        collections = list(collections)
        if trainable and _ops.GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(_ops.GraphKeys.TRAINABLE_VARIABLES)
        graph = _ops.get_default_graph()
        values = [] if init_from_fn else [initial_value]
        with _ops.name_scope(name, "Variable", values) as scope:
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
        """The value, or the initial value while uninitialized (to initialize other variables from it)."""
        with _ops.control_dependencies(None):
            return state_ops.initialized_value(self._variable, self._initial_value)

    # --- writes -------------------------------------------------------------------------------
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

    def to_proto(self, export_scope=None):
        raise NotImplementedError("tf.Variable.to_proto (VariableDef protos)")

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

RefVariable = Variable
VariableV1 = Variable


def _to_tensor(v: Variable, dtype=None, name=None, as_ref: bool = False) -> _ops.Tensor:
    if dtype is not None and not dtype.is_compatible_with(v.dtype):
        raise ValueError(f"Incompatible type conversion requested to type '{dtype.name}' for variable "
                         f"of type '{v.dtype.name}'")
    return v._ref() if as_ref else v.value()


_const.register_tensor_conversion_function(Variable, _to_tensor)


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
    return state_ops.is_variable_initialized(variable)


def assert_variables_initialized(var_list=None):
    raise NotImplementedError("tf.assert_variables_initialized")


def report_uninitialized_variables(var_list=None, name: str = "report_uninitialized_variables") -> _ops.Tensor:
    """A 1-D string tensor: the op names of the variables in `var_list` that hold no value yet."""
    from graphcompat.framework.registry import apply_op
    if var_list is None:
        var_list = global_variables() + local_variables()
    with _ops.name_scope(name) as scope:
        refs = [v._ref() if isinstance(v, Variable) else v for v in var_list]
        names = [r.op.name for r in refs]
        return apply_op("ReportUninitializedVariables", [refs],
                        {"names": names, "dtypes": [r.dtype.base_dtype for r in refs]}, name=scope)
