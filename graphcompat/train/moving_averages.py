"""`tf.train.ExponentialMovingAverage`, `assign_moving_average`, `weighted_moving_average` (TF's
moving_averages.py): shadow variables `<var>/ExponentialMovingAverage` updated by
`shadow -= (1 - decay) * (shadow - var)`, with TF's names, collections and checkpoint keys.
"""
from __future__ import annotations

from typing import Optional

from graphcompat import init_ops
from graphcompat import variables as _variables
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import convert_to_tensor


def _vs():
    import sys
    import graphcompat.variable_scope  # noqa: F401  (the module; the package attribute is the function)
    return sys.modules["graphcompat.variable_scope"]


def assign_moving_average(variable, value, decay, zero_debias: bool = True, name: Optional[str] = None):
    """`tf.train.assign_moving_average` (moving_averages.assign_moving_average): updates `variable` to
    `variable - (1 - decay) * (variable - value)`; with `zero_debias`, from TF's biased/local_step pair."""
    from graphcompat.ops import state_ops
    from graphcompat.ops.math_ops import cast
    with _ops.name_scope(name, "AssignMovingAvg", [variable, value, decay]) as scope:
        decay = convert_to_tensor(1.0 - decay, name="decay")
        if decay.dtype != variable.dtype.base_dtype:
            decay = cast(decay, variable.dtype.base_dtype)
        if zero_debias:
            return _zero_debias(variable, value, decay)
        return state_ops.assign_sub(variable, (variable - value) * decay, name=scope)


def weighted_moving_average(value, decay, weight, truediv: bool = True, collections=None,
                            name: Optional[str] = None):
    """`weighted_moving_average`: the moving average of `value * weight` over that of `weight`."""
    from graphcompat.ops.math_ops import divide, truediv as true_divide
    vs = _vs()
    if collections is None:
        collections = [_ops.GraphKeys.GLOBAL_VARIABLES]
    with vs.variable_scope(name, "WeightedMovingAvg", [value, weight, decay]) as scope:
        value_x_weight_var = vs.get_variable("value_x_weight", shape=value.get_shape(), dtype=value.dtype,
                                             initializer=init_ops.zeros_initializer(), trainable=False,
                                             collections=collections)
        weight_var = vs.get_variable("weight", shape=weight.get_shape(), dtype=weight.dtype,
                                     initializer=init_ops.zeros_initializer(), trainable=False,
                                     collections=collections)
        numerator = assign_moving_average(value_x_weight_var, value * weight, decay, zero_debias=False)
        denominator = assign_moving_average(weight_var, weight, decay, zero_debias=False)
        if truediv:
            return true_divide(numerator, denominator, name=scope.name)
        return divide(numerator, denominator, name=scope.name)


def _zero_debias(unbiased_var, value, decay):
    """TF's zero-debiased update: a `biased` accumulator and a `local_step` counter next to the average."""
    from graphcompat.ops import state_ops
    from graphcompat.ops.math_ops import pow as pow_
    vs = _vs()
    with vs.variable_scope(unbiased_var.name[:-len(":0")], values=[unbiased_var, value, decay]):
        def maybe_get_unique(name):
            scope = vs.get_variable_scope()
            if scope.reuse:
                return name
            existing = [x.op.name for x in _variables.global_variables()]
            full_name = scope.name + "/" + name
            if full_name not in existing:
                return name
            idx = 1
            while full_name + f"_{idx}" in existing:
                idx += 1
            return name + f"_{idx}"
        with _ops.control_dependencies(None):
            biased_var = vs.get_variable(maybe_get_unique("biased"), initializer=init_ops.zeros_initializer(),
                                         shape=unbiased_var.get_shape(), dtype=unbiased_var.dtype.base_dtype,
                                         trainable=False)
            local_step = vs.get_variable(maybe_get_unique("local_step"), shape=[],
                                         dtype=unbiased_var.dtype.base_dtype,
                                         initializer=init_ops.zeros_initializer(), trainable=False)
    update_biased = state_ops.assign_sub(biased_var, (biased_var - value) * decay)
    update_local_step = local_step.assign_add(1)
    bias_factor = 1 - pow_(1.0 - decay, update_local_step)
    return state_ops.assign(unbiased_var, update_biased / bias_factor, name=_ops.get_name_scope() + "/")


def _create_slot(primary, val, name: str):
    """slot_creator.create_slot: a variable `<primary>/<name>` initialized from `val` (a tensor)."""
    from graphcompat.train.optimizer import slot_use_resource
    vs = _vs()
    prefix = primary.op.name
    with vs.variable_scope(None, prefix + "/" + name):
        return vs.get_variable("", initializer=val, trainable=False, validate_shape=val.get_shape().is_fully_defined(),
                               use_resource=slot_use_resource(primary))


def _create_zeros_slot(primary, name: str):
    """slot_creator.create_zeros_slot for a tensor of known shape."""
    from graphcompat.train.optimizer import slot_use_resource
    vs = _vs()
    shape = primary.get_shape()
    if not shape.is_fully_defined():
        raise NotImplementedError("tf.train.ExponentialMovingAverage.apply of a tensor whose shape is not fully "
                                  "defined is not supported by graphcompat")
    with vs.variable_scope(None, primary.op.name + "/" + name):
        return vs.get_variable("", shape=shape, dtype=primary.dtype.base_dtype,
                               initializer=init_ops.zeros_initializer(), trainable=False,
                               use_resource=slot_use_resource(primary))


class ExponentialMovingAverage:
    """`tf.train.ExponentialMovingAverage(decay, num_updates=None, zero_debias=False,
    name='ExponentialMovingAverage')`."""

    def __init__(self, decay, num_updates=None, zero_debias: bool = False, name: str = "ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages: dict = {}

    @property
    def name(self) -> str:
        return self._name

    def apply(self, var_list=None):
        """Creates the shadow variables (first call per variable) and returns the op that updates them."""
        from graphcompat.ops.control_flow_ops import cond
        from graphcompat.ops.control_ops import group
        from graphcompat.ops.math_ops import cast, minimum
        if var_list is None:
            var_list = _variables.trainable_variables()
        zero_debias_true = set()
        for var in var_list:
            if var.dtype.base_dtype not in (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64):
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if var in self._averages:
                continue
            with _ops.control_dependencies(None):
                if isinstance(var, _variables.Variable):
                    with _ops.device(var.device):
                        initialized_value = cond(_variables.is_variable_initialized(var), var.read_value,
                                                 lambda v=var: v.initial_value)
                    avg = _create_slot(var, initialized_value, self.name)
                    _ops.add_to_collection(_ops.GraphKeys.MOVING_AVERAGE_VARIABLES, var)
                else:
                    avg = _create_zeros_slot(var, self.name)
                    if self._zero_debias:
                        zero_debias_true.add(avg)
            self._averages[var] = avg
        with _ops.name_scope(self.name) as scope:
            decay = convert_to_tensor(self._decay, dtype=_dt.float32, name="decay")
            if self._num_updates is not None:
                num_updates = cast(self._num_updates, _dt.float32, name="num_updates")
                decay = minimum(decay, (1.0 + num_updates) / (10.0 + num_updates))
            updates = [assign_moving_average(self._averages[var], var, decay, self._averages[var] in zero_debias_true)
                       for var in var_list]
            return group(*updates, name=scope)

    def average(self, var):
        """The shadow variable of `var`, or None."""
        return self._averages.get(var)

    def average_name(self, var) -> str:
        """The shadow variable's name (its checkpoint key), also before `apply`."""
        if var in self._averages:
            return self._averages[var].name[:-len(":0")]
        return _ops.get_default_graph().unique_name(var.name[:-len(":0")] + "/" + self.name, mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables=None) -> dict:
        """A Saver var_list that restores each average's checkpoint value into its variable (for eval)."""
        name_map = {}
        if moving_avg_variables is None:
            moving_avg_variables = _variables.trainable_variables() + _variables.moving_average_variables()
        moving = list(dict.fromkeys(moving_avg_variables))
        for v in moving:
            name_map[self.average_name(v)] = v
        moving_names = {v.name for v in moving}
        for v in list(dict.fromkeys(_variables.global_variables())):
            if v.name not in moving_names and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map
