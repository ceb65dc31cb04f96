"""`tf.variable_scope`, `tf.get_variable`, `tf.AUTO_REUSE`: TF1's variable store and scope stack.

Names and ValueError texts follow tensorflow/python/ops/variable_scope.py: variables are named by the
variable scope only (`name_scope` does not prefix them); a variable scope also opens a (uniquified)
name scope for the ops created inside it.
"""
from __future__ import annotations

import inspect
from typing import Optional

from graphcompat import variables as _variables
from graphcompat.framework import constant_op as _const
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts


class _ReuseMode:
    AUTO_REUSE = 1

    def __repr__(self) -> str:
        return "_ReuseMode.AUTO_REUSE"


AUTO_REUSE = _ReuseMode()


# Notebook cells are re-run: the usual cause of "already exists" gets one line saying what to do.
REUSE_HINT = ("Re-running a notebook cell? Call tf.reset_default_graph() first, or create the variable "
              "under tf.variable_scope(..., reuse=tf.AUTO_REUSE).")


class VariableScope:
    """Defaults (`reuse`, `initializer`, `dtype` …) that `get_variable` applies inside a scope."""

    def __init__(self, reuse, name: str = "", initializer=None, regularizer=None, caching_device=None,
                 partitioner=None, custom_getter=None, name_scope: str = "", dtype=_dt.float32,
                 use_resource=None, constraint=None):
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._reuse = reuse
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint

    name = property(lambda self: self._name)
    original_name_scope = property(lambda self: self._name_scope)
    reuse = property(lambda self: self._reuse)
    initializer = property(lambda self: self._initializer)
    dtype = property(lambda self: self._dtype)
    use_resource = property(lambda self: self._use_resource)
    regularizer = property(lambda self: self._regularizer)
    caching_device = property(lambda self: self._caching_device)
    partitioner = property(lambda self: self._partitioner)
    custom_getter = property(lambda self: self._custom_getter)
    constraint = property(lambda self: self._constraint)

    def reuse_variables(self) -> None:
        self._reuse = True

    def set_initializer(self, initializer) -> None:
        self._initializer = initializer

    def set_dtype(self, dtype) -> None:
        self._dtype = dtype

    def set_use_resource(self, use_resource) -> None:
        self._use_resource = use_resource

    def set_regularizer(self, regularizer) -> None:
        self._regularizer = regularizer

    def set_caching_device(self, caching_device) -> None:
        self._caching_device = caching_device

    def set_partitioner(self, partitioner) -> None:
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter) -> None:
        self._custom_getter = custom_getter

    def get_collection(self, name: str) -> list:
        scope = self._name + "/" if self._name else ""
        return _ops.get_collection(name, scope)

    def trainable_variables(self) -> list:
        return self.get_collection(_ops.GraphKeys.TRAINABLE_VARIABLES)

    def global_variables(self) -> list:
        return self.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self) -> list:
        return self.get_collection(_ops.GraphKeys.LOCAL_VARIABLES)

    def get_variable(self, var_store, name, shape=None, dtype=None, initializer=None, regularizer=None,
                     reuse=None, trainable=None, collections=None, caching_device=None, partitioner=None,
                     validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                     synchronization=_variables.VariableSynchronization.AUTO,
                     aggregation=_variables.VariableAggregation.NONE):
        regularizer = self._regularizer if regularizer is None else regularizer
        caching_device = self._caching_device if caching_device is None else caching_device
        partitioner = self._partitioner if partitioner is None else partitioner
        custom_getter = self._custom_getter if custom_getter is None else custom_getter
        reuse = self._reuse if reuse is None else reuse
        if use_resource is None:
            use_resource = self._use_resource if self._use_resource is not None \
                else _variables.resource_variables_enabled()
        full_name = self.name + "/" + name if self.name else name
        # Variable names depend only on the variable scope: reset the name scope while creating.
        with _ops.name_scope(None):
            if dtype is not None and initializer is not None and not callable(initializer):
                init_dtype = _const.convert_to_tensor(initializer).dtype.base_dtype
                if init_dtype != _dt.as_dtype(dtype):
                    raise ValueError(f"Initializer type '{init_dtype}' and explicit dtype "
                                     f"'{_dt.as_dtype(dtype)}' don't match.")
            initializer = self._initializer if initializer is None else initializer
            constraint = self._constraint if constraint is None else constraint
            dtype = self._dtype if dtype is None else dtype
            return var_store.get_variable(full_name, shape=shape, dtype=dtype, initializer=initializer,
                                          regularizer=regularizer, reuse=reuse, trainable=trainable,
                                          collections=collections, caching_device=caching_device,
                                          partitioner=partitioner, validate_shape=validate_shape,
                                          use_resource=use_resource, custom_getter=custom_getter,
                                          constraint=constraint, synchronization=synchronization,
                                          aggregation=aggregation)


def _takes_no_arguments(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not inspect.Parameter.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in params)


class _VariableStore:
    """All variables created with `get_variable` in one graph, by full name."""

    def __init__(self):
        self._vars: dict = {}
        self._partitioned_vars: dict = {}

    def get_variable(self, name, shape=None, dtype=_dt.float32, initializer=None, regularizer=None,
                     reuse=None, trainable=None, collections=None, caching_device=None, partitioner=None,
                     validate_shape=True, custom_getter=None, constraint=None,
                     synchronization=_variables.VariableSynchronization.AUTO,
                     aggregation=_variables.VariableAggregation.NONE, use_resource=None):
        if dtype is not None:
            dtype = _dt.as_dtype(dtype).base_dtype
        if trainable is None:
            trainable = synchronization != _variables.VariableSynchronization.ON_READ

        def true_getter(name, shape=None, dtype=_dt.float32, initializer=None, regularizer=None, reuse=None,
                        trainable=None, collections=None, caching_device=None, partitioner=None,
                        validate_shape=True, use_resource=None, constraint=None, synchronization=None,
                        aggregation=None):
            is_scalar = shape is not None and isinstance(shape, (list, tuple)) and not shape
            if partitioner is not None and not is_scalar:
                if not callable(partitioner):
                    raise ValueError("Partitioner must be callable, but received: %s" % (partitioner,))
                with _ops.name_scope(None):
                    return self._get_partitioned_variable(
                        name, partitioner, shape=shape, dtype=dtype, initializer=initializer,
                        regularizer=regularizer, reuse=reuse, trainable=trainable, collections=collections,
                        caching_device=caching_device, validate_shape=validate_shape,
                        use_resource=use_resource, constraint=constraint)
            # A partitioned variable can be reused without naming its partitioner again.
            if reuse is True and partitioner is None and name in self._partitioned_vars:
                return self._get_partitioned_variable(
                    name, None, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                    reuse=reuse, trainable=trainable, collections=collections, caching_device=caching_device,
                    validate_shape=validate_shape, use_resource=use_resource, constraint=constraint)
            if f"{name}/part_0" in self._vars:
                raise ValueError(f"No partitioner was provided, but a partitioned version of the variable was "
                                 f"found: {name}/part_0. Perhaps a variable of the same name was already "
                                 "created with partitioning?")
            return self._get_single_variable(name, shape, dtype, initializer, regularizer, reuse, trainable,
                                             collections, caching_device, validate_shape, constraint,
                                             use_resource)

        if custom_getter is not None:
            kwargs = dict(getter=true_getter, name=name, shape=shape, dtype=dtype, initializer=initializer,
                          regularizer=regularizer, reuse=reuse, trainable=trainable, collections=collections,
                          caching_device=caching_device, partitioner=partitioner,
                          validate_shape=validate_shape, use_resource=use_resource,
                          synchronization=synchronization, aggregation=aggregation)
            try:
                params = inspect.signature(custom_getter).parameters
                if "constraint" in params or any(p.kind == p.VAR_KEYWORD for p in params.values()):
                    kwargs["constraint"] = constraint
            except (TypeError, ValueError):
                pass
            return custom_getter(**kwargs)
        return true_getter(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                           reuse=reuse, trainable=trainable, collections=collections,
                           caching_device=caching_device, partitioner=partitioner,
                           validate_shape=validate_shape, use_resource=use_resource, constraint=constraint)

    def _get_partitioned_variable(self, name, partitioner, shape=None, dtype=_dt.float32, initializer=None,
                                  regularizer=None, reuse=None, trainable=None, collections=None,
                                  caching_device=None, validate_shape=True, use_resource=None, constraint=None):
        """TF's `_VariableStore._get_partitioned_variable`: the parts `name/part_<i>` (one slice each along
        the one axis the partitioner splits; the first `dim % n` parts one row longer), each with its
        SaveSliceInfo, wrapped in a PartitionedVariable that reuse returns again."""
        dtype = _dt.as_dtype(dtype)
        initializing_from_value = initializer is not None and isinstance(initializer, _ops.Tensor)
        if name in self._vars:
            raise ValueError("A partitioner was provided, but an unpartitioned version of the variable was "
                             "found: %s.  Perhaps a variable of the same name was already created without "
                             "partitioning?" % name)
        shape = _ts.as_shape(shape)
        if initializing_from_value:
            shape = shape.merge_with(initializer.get_shape())
        partitions = None
        if not reuse or partitioner:
            partitions = _call_partitioner(partitioner, shape, dtype)
        if name in self._partitioned_vars:
            if reuse is False:
                raise ValueError("Partitioned variable with name %s already exists. Did you mean to set "
                                 "reuse=True or reuse=tf.AUTO_REUSE in VarScope?" % name)
            existing = self._partitioned_vars[name]
            if not shape.is_compatible_with(existing.get_shape()):
                raise ValueError("Trying to reuse partitioned variable %s, but specified shape %s and found "
                                 "shape %s." % (name, shape, existing.get_shape()))
            if not dtype.is_compatible_with(existing.dtype):
                raise ValueError("Trying to reuse partitioned variable %s, but specified dtype %s and found "
                                 "dtype %s." % (name, dtype.name, existing.dtype.name))
            if partitions is not None and existing._get_partitions() != partitions:
                raise ValueError("Trying to reuse partitioned variable %s, but specified partitions %s and "
                                 "found partitions %s." % (name, partitions, existing._get_partitions()))
            return existing
        if reuse is True:
            raise ValueError("PartitionedVariable %s does not exist, or was not created with tf.get_variable(). "
                             "Did you mean to set reuse=False or reuse=tf.AUTO_REUSE in VarScope?" % name)
        slice_dim, num_slices = _get_slice_dim_and_num_slices(partitions)
        if "%s/part_0" % name in self._vars:
            if "%s/part_%d" % (name, num_slices - 1) not in self._vars:
                raise ValueError("Partitioner returned a different partitioning than what was already found.  "
                                 "Partitioner returned %d shards, and shard %s/part_0 was found, but %s/part_%d "
                                 "was not." % (num_slices, name, name, num_slices - 1))
            if "%s/part_%d" % (name, num_slices) in self._vars:
                raise ValueError("Partitioner returned a different partitioning than what was already found.  "
                                 "Partitioner returned %d shards, and shard %s/part_0 was found, but so was the "
                                 "extra shard %s/part_%d." % (num_slices, name, name, num_slices))
        from graphcompat.ops import slicing_ops
        parts = []
        for i, (var_offset, var_shape) in enumerate(_iter_slices(shape.as_list(), num_slices, slice_dim)):
            partition_info = _PartitionInfo(full_shape=shape.as_list(), var_offset=var_offset)
            var_full_name = "%s/part_%d" % (name, i)
            with _ops.name_scope(var_full_name + "/PartitionedInitializer"):
                if initializer is None:
                    init = _default_initializer(name, dtype)
                    init_shape = var_shape
                elif callable(initializer):
                    init, init_shape = initializer, var_shape
                elif isinstance(initializer, _ops.Tensor):
                    init = slicing_ops.slice(initializer, var_offset, var_shape)
                    dtype = init.dtype.base_dtype
                    init_shape = None
                else:
                    init = _const.convert_to_tensor(initializer, dtype=dtype)
                    init = slicing_ops.slice(init, var_offset, var_shape)
                    init_shape = None
            with _ops.name_scope(None):
                var = self._get_single_variable(var_full_name, init_shape, dtype, init, regularizer, reuse,
                                                trainable, collections, caching_device, validate_shape,
                                                constraint, use_resource, partition_info=partition_info)
            var._set_save_slice_info(_variables.SaveSliceInfo(name, shape.as_list(), var_offset, var_shape))
            parts.append(var)
        partitioned = _variables.PartitionedVariable(name=name, shape=shape, dtype=dtype, variable_list=parts,
                                                     partitions=partitions)
        self._partitioned_vars[name] = partitioned
        return partitioned

    def _get_single_variable(self, name, shape, dtype, initializer, regularizer, reuse, trainable,
                             collections, caching_device, validate_shape, constraint, use_resource=None,
                             partition_info=None):
        initializing_from_value = initializer is not None and not callable(initializer)
        if shape is not None and initializing_from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        dtype = _dt.as_dtype(dtype)
        shape = _ts.as_shape(shape) if shape is not None else _ts.unknown_shape()
        if name in self._vars:
            if reuse is False:
                raise ValueError(f"Variable {name} already exists, disallowed. Did you mean to set reuse=True "
                                 "or reuse=tf.AUTO_REUSE in VarScope? Originally defined at:\n\n"
                                 f"{REUSE_HINT}")
            found = self._vars[name]
            if not shape.is_compatible_with(found.get_shape()):
                raise ValueError(f"Trying to share variable {name}, but specified shape {shape} and found "
                                 f"shape {found.get_shape()}.")
            if not dtype.is_compatible_with(found.dtype):
                raise ValueError(f"Trying to share variable {name}, but specified dtype {dtype.name} and "
                                 f"found dtype {found.dtype.name}.")
            return found
        if reuse is True:
            raise ValueError(f"Variable {name} does not exist, or was not created with tf.get_variable(). "
                             "Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")
        if initializer is None:
            initializing_from_value = False
            if dtype.is_floating:
                from graphcompat import init_ops
                initializer = init_ops.glorot_uniform_initializer()
            elif dtype.is_integer or dtype.is_bool or dtype == _dt.string:
                from graphcompat import init_ops
                initializer = init_ops.zeros_initializer()
            else:
                raise ValueError(f"An initializer for variable {name} of {dtype.base_dtype} is required")
        if initializing_from_value:
            init_val, variable_dtype = initializer, None
        else:
            if inspect.isclass(initializer):
                initializer = initializer()
            if shape.is_fully_defined():
                dims = shape.as_list()
                init_val = lambda: _call_initializer(initializer, dims, dtype, partition_info)  # noqa: E731
                variable_dtype = dtype.base_dtype
            elif _takes_no_arguments(initializer):
                init_val, variable_dtype = initializer, None
            else:
                raise ValueError("The initializer passed is not valid. It should be a callable with no "
                                 "arguments and the shape should not be provided or an instance of "
                                 "`tf.keras.initializers.*' and `shape` should be fully defined.")
        v = _variables.Variable(initial_value=init_val, name=name, trainable=trainable, collections=collections,
                                caching_device=caching_device, dtype=variable_dtype,
                                validate_shape=validate_shape, constraint=constraint,
                                use_resource=bool(use_resource))
        self._vars[name] = v
        if regularizer:
            with _ops.colocate_with(v.op):
                with _ops.name_scope(name + "/Regularizer/"):
                    loss = regularizer(v)
            if loss is not None:
                _ops.add_to_collection(_ops.GraphKeys.REGULARIZATION_LOSSES, loss)
        return v


def _call_initializer(initializer, shape, dtype, partition_info=None):
    try:
        params = inspect.signature(initializer).parameters
    except (TypeError, ValueError):
        params = {}
    if "partition_info" in params or any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return initializer(shape, dtype=dtype, partition_info=partition_info)
    return initializer(shape, dtype=dtype)


def _default_initializer(name, dtype):
    """TF's `_get_default_initializer`: glorot_uniform for floats, zeros for integers, bools and strings."""
    from graphcompat import init_ops
    if dtype.is_floating:
        return init_ops.glorot_uniform_initializer()
    if dtype.is_integer or dtype.is_bool or dtype == _dt.string:
        return init_ops.zeros_initializer()
    raise ValueError(f"An initializer for variable {name} of {dtype.base_dtype} is required")


class _PartitionInfo:
    """What an initializer learns about the part it initializes: the full shape and the part's offset."""

    __slots__ = ["_full_shape", "_var_offset"]

    def __init__(self, full_shape, var_offset):
        if not isinstance(full_shape, (list, tuple)):
            raise TypeError("`full_shape` must be a sequence (like tuple or list) instead of "
                            + type(full_shape).__name__)
        if not isinstance(var_offset, (list, tuple)):
            raise TypeError("`var_offset` must be a sequence (like tuple or list) instead of "
                            + type(var_offset).__name__)
        if len(var_offset) != len(full_shape):
            raise ValueError("Expected equal length, but `var_offset` is of length {} while full_shape is of "
                             "length {}.".format(len(var_offset), len(full_shape)))
        for offset, dim in zip(var_offset, full_shape):
            if offset < 0 or offset >= dim:
                raise ValueError("Expected 0 <= offset < shape but found offset={}, shape={} for var_offset={}, "
                                 "full_shape={}".format(offset, dim, var_offset, full_shape))
        self._full_shape = full_shape
        self._var_offset = var_offset

    full_shape = property(lambda self: self._full_shape)
    var_offset = property(lambda self: self._var_offset)

    def single_offset(self, shape) -> int:
        dim = self.single_slice_dim(shape)
        return 0 if dim is None else self.var_offset[dim]

    def single_slice_dim(self, shape):
        if not isinstance(shape, (tuple, list)):
            raise TypeError("`shape` must be a sequence (like tuple or list) instead of " + type(shape).__name__)
        if len(shape) != len(self.full_shape):
            raise ValueError("Expected equal length, but received shape={} of length {} while "
                             "self.full_shape={} is of length {}.".format(shape, len(shape), self.full_shape,
                                                                          len(self.full_shape)))
        for i in range(len(shape)):
            if self.var_offset[i] + shape[i] > self.full_shape[i]:
                raise ValueError("With self.var_offset={}, a partition of shape={} would exceed "
                                 "self.full_shape={} in dimension {}.".format(self.var_offset, shape,
                                                                               self.full_shape, i))
        slice_dim = None
        for i in range(len(shape)):
            if shape[i] == self.full_shape[i]:
                continue
            if slice_dim is not None:
                raise ValueError("Cannot use single_slice_dim() with shape={} and self.full_shape={} since slice "
                                 "dim could be either dimension {} or {}.".format(shape, self.full_shape, i,
                                                                                  slice_dim))
            slice_dim = i
        return slice_dim


def _call_partitioner(partitioner, shape, dtype) -> list:
    """The partitioner's answer for a new partitioned variable, checked as TF checks it."""
    if not shape.is_fully_defined():
        raise ValueError("Shape of a new partitioned variable must be fully defined, but instead was %s."
                         % (shape,))
    if shape.ndims < 1:
        raise ValueError("A partitioned Variable must have rank at least 1, shape: %s" % shape)
    slicing = partitioner(shape=shape, dtype=dtype)
    if not isinstance(slicing, (list, tuple)):
        raise ValueError("Partitioner must return a sequence, but saw: %s" % (slicing,))
    if len(slicing) != shape.ndims:
        raise ValueError("Partitioner returned a partition list that does not match the Variable's rank: "
                         "%s vs. %s" % (slicing, shape))
    if any(p < 1 for p in slicing):
        raise ValueError("Partitioner returned zero partitions for some axes: %s" % (slicing,))
    if sum(p > 1 for p in slicing) > 1:
        raise ValueError("Can only slice a variable along one dimension: shape: %s, partitioning: %s"
                         % (shape, slicing))
    return slicing


def _get_slice_dim_and_num_slices(slicing):
    for slice_dim, num_slices in enumerate(slicing):
        if num_slices > 1:
            return slice_dim, num_slices
    return 0, 1


def _iter_slices(full_shape, num_slices, slice_dim):
    """(offset, shape) of each part: `full_shape[slice_dim] // n` rows, one more for the first `% n`."""
    with_excess = full_shape[slice_dim] % num_slices
    offset = [0] * len(full_shape)
    min_len = full_shape[slice_dim] // num_slices
    for i in range(num_slices):
        shape = full_shape[:]
        shape[slice_dim] = min_len + bool(i < with_excess)
        yield offset[:], shape
        offset[slice_dim] += shape[slice_dim]


def _get_partitioned_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=True,
                              collections=None, caching_device=None, partitioner=None, validate_shape=True,
                              use_resource=None, constraint=None):
    """TF's private `variable_scope._get_partitioned_variable`: always a PartitionedVariable (no scalar or
    partitioner-less shortcut), under the current variable scope."""
    scope = get_variable_scope()
    if scope.custom_getter is not None:
        raise ValueError("Private access to _get_partitioned_variable is not allowed when a custom getter is "
                         "set.  Current custom getter: %s.  It is likely that you're using create_partitioned_"
                         "variables.  If so, consider instead using get_variable with a non-empty partitioner "
                         "parameter instead." % scope.custom_getter)
    partitioner = scope.partitioner if partitioner is None else partitioner
    if partitioner is None:
        raise ValueError("No partitioner was specified")
    initializer = scope.initializer if initializer is None else initializer
    regularizer = scope.regularizer if regularizer is None else regularizer
    caching_device = scope.caching_device if caching_device is None else caching_device
    constraint = scope.constraint if constraint is None else constraint
    dtype = scope.dtype if dtype is None else dtype
    if use_resource is None:
        use_resource = scope.use_resource if scope.use_resource is not None \
            else _variables.resource_variables_enabled()
    full_name = scope.name + "/" + name if name else scope.name
    with _ops.name_scope(None):
        return _get_default_variable_store()._get_partitioned_variable(
            full_name, partitioner, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
            reuse=scope.reuse, trainable=trainable, collections=collections, caching_device=caching_device,
            validate_shape=validate_shape, use_resource=use_resource, constraint=constraint)


class _VariableScopeStore:
    """The current VariableScope and how often each scope name was opened (for default names)."""

    def __init__(self):
        self.current_scope = VariableScope(False)
        self.variable_scopes_count: dict = {}

    def open_variable_scope(self, scope_name: str) -> None:
        self.variable_scopes_count[scope_name] = self.variable_scopes_count.get(scope_name, 0) + 1

    def close_variable_subscopes(self, scope_name: Optional[str]) -> None:
        for k in list(self.variable_scopes_count):
            if scope_name is None or k.startswith(scope_name + "/"):
                self.variable_scopes_count[k] = 0

    def variable_scope_count(self, scope_name: str) -> int:
        return self.variable_scopes_count.get(scope_name, 0)


def _scope_store() -> _VariableScopeStore:
    extras = _ops.get_default_graph()._extras
    store = extras.get("variable_scope_store")
    if store is None:
        store = extras["variable_scope_store"] = _VariableScopeStore()
    return store


def _get_default_variable_store() -> _VariableStore:
    extras = _ops.get_default_graph()._extras
    store = extras.get("variable_store")
    if store is None:
        store = extras["variable_store"] = _VariableStore()
    return store


def get_variable_scope() -> VariableScope:
    """The current VariableScope."""
    return _scope_store().current_scope


def get_variable_scope_store() -> _VariableScopeStore:
    return _scope_store()


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=None,
                 collections=None, caching_device=None, partitioner=None, validate_shape=True,
                 use_resource=None, custom_getter=None, constraint=None,
                 synchronization=_variables.VariableSynchronization.AUTO,
                 aggregation=_variables.VariableAggregation.NONE):
    """`tf.get_variable`: the variable `<scope>/<name>`, created or reused per the scope's `reuse`."""
    return get_variable_scope().get_variable(
        _get_default_variable_store(), name, shape=shape, dtype=dtype, initializer=initializer,
        regularizer=regularizer, trainable=trainable, collections=collections, caching_device=caching_device,
        partitioner=partitioner, validate_shape=validate_shape, use_resource=use_resource,
        custom_getter=custom_getter, constraint=constraint, synchronization=synchronization,
        aggregation=aggregation)


def get_local_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=False,
                       collections=None, caching_device=None, partitioner=None, validate_shape=True,
                       use_resource=None, custom_getter=None, constraint=None, **kwargs):
    collections = list(collections or []) + [_ops.GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape, dtype, initializer, regularizer, False, collections, caching_device,
                        partitioner, validate_shape, use_resource, custom_getter, constraint, **kwargs)


class _pure_variable_scope:  # noqa: N801
    """Switches the current VariableScope (no name scope); see `variable_scope`."""

    def __init__(self, name_or_scope, reuse=None, initializer=None, regularizer=None, caching_device=None,
                 partitioner=None, custom_getter=None, old_name_scope=None, dtype=_dt.float32,
                 use_resource=None, constraint=None):
        self._name_or_scope = name_or_scope
        self._reuse = reuse
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._old_name_scope = old_name_scope
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint
        self._store = _scope_store()
        if isinstance(name_or_scope, VariableScope):
            self._new_name = name_or_scope.name
            scope = VariableScope(name_or_scope.reuse if not reuse else reuse, name=self._new_name,
                                  initializer=name_or_scope.initializer, regularizer=name_or_scope.regularizer,
                                  caching_device=name_or_scope.caching_device,
                                  partitioner=name_or_scope.partitioner, custom_getter=name_or_scope.custom_getter,
                                  name_scope=name_or_scope.original_name_scope, dtype=name_or_scope.dtype,
                                  use_resource=name_or_scope.use_resource, constraint=name_or_scope.constraint)
            self._apply_overrides(scope)
            self._cached = scope

    def _apply_overrides(self, scope: VariableScope) -> None:
        if self._initializer is not None:
            scope.set_initializer(self._initializer)
        if self._regularizer is not None:
            scope.set_regularizer(self._regularizer)
        if self._caching_device is not None:
            scope.set_caching_device(self._caching_device)
        if self._partitioner is not None:
            scope.set_partitioner(self._partitioner)
        if self._custom_getter is not None:
            scope.set_custom_getter(_maybe_wrap_custom_getter(self._custom_getter, scope.custom_getter))
        if self._dtype is not None:
            scope.set_dtype(self._dtype)
        if self._use_resource is not None:
            scope.set_use_resource(self._use_resource)

    def __enter__(self) -> VariableScope:
        self._old = self._store.current_scope
        if isinstance(self._name_or_scope, VariableScope):
            self._store.open_variable_scope(self._new_name)
            self._old_subscopes = dict(self._store.variable_scopes_count)
            scope = self._cached
        else:
            old = self._old
            self._new_name = old.name + "/" + self._name_or_scope if old.name else self._name_or_scope
            self._reuse = self._reuse or old.reuse
            name_scope = self._name_or_scope if self._old_name_scope is None else self._old_name_scope
            scope = VariableScope(self._reuse, name=self._new_name, initializer=old.initializer,
                                  regularizer=old.regularizer, caching_device=old.caching_device,
                                  partitioner=old.partitioner, dtype=old.dtype, use_resource=old.use_resource,
                                  custom_getter=old.custom_getter, name_scope=name_scope,
                                  constraint=old.constraint)
            self._apply_overrides(scope)
            self._store.open_variable_scope(self._new_name)
        self._store.current_scope = scope
        return scope

    def __exit__(self, *exc):
        if isinstance(self._name_or_scope, VariableScope):
            self._store.variable_scopes_count = self._old_subscopes
        else:
            self._store.close_variable_subscopes(self._new_name)
        self._store.current_scope = self._old
        return False


def _maybe_wrap_custom_getter(custom_getter, old_getter):
    if old_getter is None:
        return custom_getter

    def wrapped(getter, *args, **kwargs):
        return custom_getter(lambda *a, **k: old_getter(getter, *a, **k), *args, **kwargs)
    return wrapped


def _get_unique_variable_scope(prefix: str) -> str:
    store = _scope_store()
    current = store.current_scope
    name = current.name + "/" + prefix if current.name else prefix
    if store.variable_scope_count(name) == 0:
        return prefix
    idx = 1
    while store.variable_scope_count(name + f"_{idx}") > 0:
        idx += 1
    return prefix + f"_{idx}"


class variable_scope:  # noqa: N801  (TF's public spelling)
    """`tf.variable_scope(name_or_scope, default_name=None, values=None, initializer=None, reuse=None, …)`."""

    def __init__(self, name_or_scope, default_name=None, values=None, initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None, reuse=None, dtype=None,
                 use_resource=None, constraint=None, auxiliary_name_scope=True):
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._values = values
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._reuse = reuse
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint
        self._auxiliary_name_scope = auxiliary_name_scope
        if self._default_name is None and self._name_or_scope is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if self._reuse is False:
            self._reuse = None  # non-inheriting scopes are not allowed: False means None here
        if not (self._reuse is True or self._reuse is None or self._reuse is AUTO_REUSE):
            raise ValueError("The reuse parameter must be True or False or None.")
        if self._values is None:
            self._values = []
        self._current_name_scope = None
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError(f"The auxiliary_name_scope must be `True` or `False`, while get "
                            f"{auxiliary_name_scope}")

    def __enter__(self) -> VariableScope:
        graph = _ops._graph_from_values(self._values) if self._values else _ops.get_default_graph()
        self._graph_ctx = None
        if graph is not _ops.get_default_graph():
            self._graph_ctx = graph.as_default()
            self._graph_ctx.__enter__()
        try:
            return self._enter_scope_uncached()
        except Exception:
            if self._graph_ctx is not None:
                self._graph_ctx.__exit__(None, None, None)
            raise

    def _enter_scope_uncached(self) -> VariableScope:
        if self._auxiliary_name_scope:
            current_name_scope = None
        else:
            name_scope = _ops.get_name_scope()
            current_name_scope = _ops.name_scope(name_scope + "/" if name_scope else None)
        if self._name_or_scope is not None:
            if not isinstance(self._name_or_scope, (VariableScope, str)):
                raise TypeError("VariableScope: name_or_scope must be a string or VariableScope.")
            if isinstance(self._name_or_scope, str):
                name_scope = self._name_or_scope
            else:
                name_scope = self._name_or_scope.name.split("/")[-1]
            if name_scope or current_name_scope:
                current_name_scope = current_name_scope or _ops.name_scope(name_scope)
                current_name_scope_name = current_name_scope.__enter__()
                self._current_name_scope = current_name_scope
                if isinstance(self._name_or_scope, str):
                    old_name_scope = current_name_scope_name
                else:
                    old_name_scope = self._name_or_scope.original_name_scope
                pure = _pure_variable_scope(self._name_or_scope, reuse=self._reuse,
                                            initializer=self._initializer, regularizer=self._regularizer,
                                            caching_device=self._caching_device, partitioner=self._partitioner,
                                            custom_getter=self._custom_getter, old_name_scope=old_name_scope,
                                            dtype=self._dtype, use_resource=self._use_resource,
                                            constraint=self._constraint)
            else:
                pure = _pure_variable_scope(self._name_or_scope, reuse=self._reuse,
                                            initializer=self._initializer, regularizer=self._regularizer,
                                            caching_device=self._caching_device, partitioner=self._partitioner,
                                            custom_getter=self._custom_getter, dtype=self._dtype,
                                            use_resource=self._use_resource, constraint=self._constraint)
        else:
            if self._reuse:
                raise ValueError("reuse=True cannot be used without a name_or_scope")
            current_name_scope = current_name_scope or _ops.name_scope(self._default_name)
            current_name_scope_name = current_name_scope.__enter__()
            self._current_name_scope = current_name_scope
            unique_default_name = _get_unique_variable_scope(self._default_name)
            pure = _pure_variable_scope(unique_default_name, initializer=self._initializer,
                                        regularizer=self._regularizer, caching_device=self._caching_device,
                                        partitioner=self._partitioner, custom_getter=self._custom_getter,
                                        old_name_scope=current_name_scope_name, dtype=self._dtype,
                                        use_resource=self._use_resource, constraint=self._constraint)
        self._pure = pure
        try:
            return pure.__enter__()
        except Exception:
            if self._current_name_scope is not None:
                self._current_name_scope.__exit__(None, None, None)
            raise

    def __exit__(self, *exc):
        self._pure.__exit__(*exc)
        if self._current_name_scope is not None:
            self._current_name_scope.__exit__(*exc)
        if self._graph_ctx is not None:
            self._graph_ctx.__exit__(*exc)
        return False


def variable_op_scope(values, name_or_scope, default_name=None, **kwargs):
    return variable_scope(name_or_scope, default_name=default_name, values=values, **kwargs)
