"""`tf.train.Optimizer`: TF1's base class (minimize = compute_gradients + apply_gradients), slots.

Names follow tensorflow/python/training/optimizer.py and slot_creator.py exactly: apply ops live in
`<Name>/update_<var>/`, slot variables are `<var>/<Name>` (`<var>/<Name>_1` …), non-slot variables
(Adam's `beta1_power`) are created in the name scope active when the optimizer builds its slots.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.gradients import IndexedSlices, gradients as _gradients_fn
from graphcompat import init_ops
import graphcompat.variable_scope  # noqa: F401  (the module; `graphcompat.variable_scope` is the class)
import sys as _sys
_vs = _sys.modules["graphcompat.variable_scope"]
from graphcompat import variables as _variables
from graphcompat.framework import constant_op as _const
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.ops import control_ops
from graphcompat.ops import resource_variable_ops as _rv
from graphcompat.ops import state_ops as _state


def _var_key(var) -> str:
    return var.op.name


def slot_use_resource(primary) -> Optional[bool]:
    """slot_creator's choice: a resource variable's slots are resource variables, a ref variable's are ref
    variables, and a tensor's follow the default (`tf.enable_resource_variables()`)."""
    if _rv.is_resource_variable(primary):
        return True
    return False if isinstance(primary, _variables.Variable) else None


def _create_slot(primary, initializer, shape, dtype, name: str):
    """slot_creator.create_slot_with_initializer: a variable `<primary>/<name>` (uniquified). A tensor
    `initializer` with `shape=None` is slot_creator.create_slot's initial value."""
    prefix = primary.op.name
    with _ops.control_dependencies(None), _vs.variable_scope(None, prefix + "/" + name):
        scope = _vs.get_variable_scope()
        saved = scope.partitioner
        scope.set_partitioner(None)
        try:
            validate = (shape if shape is not None else initializer.get_shape()).is_fully_defined()
            slot = _vs.get_variable("", shape=shape, dtype=dtype, initializer=initializer, trainable=False,
                                    validate_shape=validate,
                                    use_resource=slot_use_resource(primary))
        finally:
            scope.set_partitioner(saved)
    return slot


class Optimizer:
    """Base class: subclasses implement `_create_slots`, `_prepare`, `_apply_dense`, `_apply_sparse`."""

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking: bool, name: str):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots: dict = {}
        self._non_slot_dict: dict = {}

    def get_name(self) -> str:
        return self._name

    # --- the three public steps ---------------------------------------------------------------
    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                 colocate_gradients_with_ops=False, name: Optional[str] = None, grad_loss=None):
        """Adds ops computing and applying gradients of `loss`; returns the train op."""
        grads_and_vars = self.compute_gradients(loss, var_list=var_list, gate_gradients=gate_gradients,
                                                aggregation_method=aggregation_method,
                                                colocate_gradients_with_ops=colocate_gradients_with_ops,
                                                grad_loss=grad_loss)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError("No gradients provided for any variable, check your graph for ops that do not "
                             f"support gradients, between variables {[str(v) for _, v in grads_and_vars]} "
                             f"and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                          colocate_gradients_with_ops=False, grad_loss=None) -> list:
        """[(gradient or None, variable)] for `var_list` (default: trainable variables)."""
        if callable(loss):
            raise NotImplementedError("Optimizer.compute_gradients with a callable loss (eager mode only)")
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP, Optimizer.GATE_GRAPH):
            raise ValueError("gate_gradients must be one of: Optimizer.GATE_NONE, Optimizer.GATE_OP, "
                             f"Optimizer.GATE_GRAPH.  Not {gate_gradients}")
        loss = _const.convert_to_tensor(loss) if not isinstance(loss, _ops.Tensor) else loss
        self._assert_valid_dtypes([loss])
        if grad_loss is not None:
            self._assert_valid_dtypes([grad_loss])
        if var_list is None:
            var_list = _variables.trainable_variables() + \
                _ops.get_collection(_ops.GraphKeys.TRAINABLE_RESOURCE_VARIABLES)
        else:
            var_list = list(_flatten(var_list))
        var_list = var_list + _ops.get_collection(_ops.GraphKeys._STREAMING_MODEL_PORTS)
        for v in var_list:
            if not isinstance(v, _variables.Variable):
                raise NotImplementedError("Trying to optimize unsupported type ", v)
        if not var_list:
            raise ValueError("No variables to optimize.")
        # Ref variables are differentiated through their ref tensor, resource variables through their
        # reads (resource_variable_ops.gradients sums those, as TF's gradient of ReadVariableOp does).
        grads = _rv.gradients(loss, [v if _rv.is_resource_variable(v) else v._ref() for v in var_list],
                              grad_ys=grad_loss, gate_gradients=gate_gradients == Optimizer.GATE_OP,
                              aggregation_method=aggregation_method,
                              colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == Optimizer.GATE_GRAPH:
            present = [g for g in grads if g is not None]
            gated = iter(control_ops.tuple(present)) if present else iter(())
            grads = [next(gated) if g is not None else None for g in grads]
        grads_and_vars = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return grads_and_vars

    def apply_gradients(self, grads_and_vars, global_step=None, name: Optional[str] = None):
        """Adds the update ops (one per variable with a gradient) and returns the grouped train op."""
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        converted = []
        for g, v in grads_and_vars:
            if g is not None:
                if not isinstance(g, (_ops.Tensor, IndexedSlices)):
                    try:
                        g = _const.convert_to_tensor(g)
                    except (TypeError, ValueError):
                        raise TypeError(f"Gradient must be convertible to a Tensor or IndexedSlices, or None: "
                                        f"{g}") from None
            if not isinstance(v, _variables.Variable):
                raise NotImplementedError("Trying to optimize unsupported type ", v)
            converted.append((g, v))
        var_list = [v for g, v in converted if g is not None]
        if not var_list:
            raise ValueError(f"No gradients provided for any variable: {[str(v) for _, v in converted]}.")
        with _ops.control_dependencies(None):
            self._create_slots(var_list)
        update_ops = []
        with _ops.name_scope(name, self._name) as scope:
            self._prepare()
            for grad, var in converted:
                if grad is None:
                    continue
                with _ops.name_scope("update_" + var.op.name), _ops.colocate_with(var.op):
                    update_ops.append(self._update_op(grad, var))
            if global_step is None:
                apply_updates = self._finish(update_ops, scope)
            else:
                with _ops.control_dependencies([self._finish(update_ops, "update")]):
                    with _ops.colocate_with(global_step.op):
                        apply_updates = _state.assign_add(global_step, 1, name=scope)
            if isinstance(apply_updates, _ops.Tensor):
                apply_updates = apply_updates.op
            train_ops = _ops.get_collection_ref(_ops.GraphKeys.TRAIN_OP)
            if apply_updates not in train_ops:
                train_ops.append(apply_updates)
            return apply_updates

    def _update_op(self, grad, var):
        if isinstance(grad, _ops.Tensor):
            update = self._apply_dense(grad, var)
            if var.constraint is not None:
                with _ops.control_dependencies([update]):
                    return var.assign(var.constraint(var))
            return update
        if var.constraint is not None:
            raise RuntimeError("Cannot use a constraint function on a sparse variable.")
        return self._apply_sparse_duplicate_indices(grad, var)

    # --- slots ----------------------------------------------------------------------------------
    def get_slot(self, var, name: str):
        named = self._slots.get(name)
        if not named:
            return None
        return named.get(_var_key(var))

    def get_slot_names(self) -> list:
        return sorted(self._slots.keys())

    def variables(self) -> list:
        """The optimizer's own variables (slots and non-slot accumulators) in this graph, by name."""
        graph = _ops.get_default_graph()
        current = [v for (name, g), v in self._non_slot_dict.items() if g is graph]
        for named in self._slots.values():
            current.extend(v for v in named.values() if v.graph is graph)
        return sorted(current, key=lambda v: v.name)

    def _slot_dict(self, slot_name: str) -> dict:
        return self._slots.setdefault(slot_name, {})

    def _get_or_make_slot_with_initializer(self, var, initializer, shape, dtype, slot_name: str, op_name: str):
        named = self._slot_dict(slot_name)
        if _var_key(var) not in named:
            named[_var_key(var)] = _create_slot(var, initializer, shape, dtype, op_name)
            self._restore_slot_variable(slot_name, var, named[_var_key(var)])
        return named[_var_key(var)]

    def _get_or_make_slot(self, var, val, slot_name: str, op_name: str):
        """A slot whose initial value is the tensor `val` (slot_creator.create_slot)."""
        named = self._slot_dict(slot_name)
        if _var_key(var) not in named:
            named[_var_key(var)] = _create_slot(var, val, None, None, op_name)
            self._restore_slot_variable(slot_name, var, named[_var_key(var)])
        return named[_var_key(var)]

    def _zeros_slot(self, var, slot_name: str, op_name: str):
        if _var_key(var) not in self._slot_dict(slot_name) and not var.get_shape().is_fully_defined():
            # slot_creator.create_zeros_slot: a variable of unknown shape (tf.contrib.cudnn_rnn's opaque buffer)
            # gets zeros shaped like its value (its initial value while uninitialized)
            from graphcompat.ops import array_ops
            source = var.initialized_value() if isinstance(var, _variables.Variable) else var
            val = array_ops.zeros(array_ops.shape(source), dtype=var.dtype.base_dtype)
            return self._get_or_make_slot(var, val, slot_name, op_name)
        return self._get_or_make_slot_with_initializer(var, init_ops.zeros_initializer(), var.get_shape(),
                                                       var.dtype.base_dtype, slot_name, op_name)

    def _create_non_slot_variable(self, initial_value, name: str, colocate_with):
        key = (name, colocate_with.graph)
        v = self._non_slot_dict.get(key)
        if v is None:
            with _ops.colocate_with(colocate_with.op):
                v = _variables.Variable(initial_value, name=name, trainable=False,
                                        use_resource=_rv.is_resource_variable(colocate_with))
            self._non_slot_dict[key] = v
            if self.__dict__.get("_gc_deferred_dependencies"):  # a tf.train.Checkpoint restore waits for it
                from graphcompat.training import tracking
                tracking.dependency_added(self, name, v)
        return v

    def _restore_slot_variable(self, slot_name: str, var, slot) -> None:
        """TF's Optimizer._restore_slot_variable: a slot created after `tf.train.Checkpoint.restore`
        gets its checkpointed value (graphcompat/training/tracking.py)."""
        if self.__dict__.get("_gc_deferred_slot_restorations"):
            from graphcompat.training import tracking
            tracking.slot_created(self, slot_name, var, slot)

    def _get_non_slot_variable(self, name: str, graph=None):
        return self._non_slot_dict.get((name, graph or _ops.get_default_graph()))

    # --- hooks ------------------------------------------------------------------------------------
    def _valid_dtypes(self) -> set:
        return {_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64}

    def _assert_valid_dtypes(self, tensors) -> None:
        valid = self._valid_dtypes()
        for t in tensors:
            dtype = t.dtype.base_dtype
            if dtype not in valid:
                # TF prints its set of DTypes, whose iteration order follows the dtype enums' hashes
                order = sorted(valid, key=lambda d: (d.as_datatype_enum % 8, d.as_datatype_enum))
                raise ValueError(f"Invalid type {dtype!r} for {t.name}, expected: {order}.")

    def _create_slots(self, var_list) -> None:
        pass

    def _prepare(self) -> None:
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError()

    def _apply_sparse(self, grad, var):
        raise NotImplementedError()

    # Sparse updates that leave a row unchanged when its summed gradient is zero (SGD and Adam override
    # `_apply_sparse_duplicate_indices` and are such updates too).
    _ZERO_ROW_GRADIENT_IS_NOOP = False

    def _apply_sparse_duplicate_indices(self, grad, var):
        # Duplicate indices are summed inside the Sparse* kernels' lowering (TF does it here with
        # Unique + UnsortedSegmentSum before calling the kernel); the result is the same.
        from graphcompat.nn.embedding_ops import from_masked_partition_ids
        if not self._ZERO_ROW_GRADIENT_IS_NOOP and from_masked_partition_ids(grad.indices):
            raise NotImplementedError(
                f"tf.train.{type(self).__name__} on the gradient of tf.nn.embedding_lookup over partitioned "
                "params: graphcompat's lookup gives each part a zero-gradient row for the ids of other parts, "
                "which this optimizer's sparse update would apply (TF's gives each part only its own ids); "
                "GradientDescentOptimizer, AdagradOptimizer and AdamOptimizer are supported")
        return self._apply_sparse(grad, var)

    def _finish(self, update_ops, name_scope: str):
        return control_ops.group(*update_ops, name=name_scope)

    @staticmethod
    def _call_if_callable(param):
        return param() if callable(param) else param

    def _cast(self, t, var):
        from graphcompat.ops import math_ops
        return math_ops.cast(t, var.dtype.base_dtype)


def _flatten(values):
    if isinstance(values, (list, tuple)):
        for v in values:
            yield from _flatten(v)
    elif isinstance(values, dict):
        for v in values.values():
            yield from _flatten(v)
    else:
        yield values
