"""TF1's optimizers: GradientDescent, Momentum, Adagrad, Adam, RMSProp, Ftrl, Adadelta, ProximalGradientDescent.

Each builds TF's apply ops (graphcompat/train/training_ops.py) with TF's slot names and hyper-parameter
tensors (`<Name>/learning_rate` …). The update math lives in lowering/rules/train.py.
"""
from __future__ import annotations

from graphcompat import init_ops
from graphcompat.framework import constant_op as _const
from graphcompat.framework import ops as _ops
from graphcompat.gradients import IndexedSlices
from graphcompat.ops import control_ops
from graphcompat.ops import resource_variable_ops as _rv
from graphcompat.ops import state_ops as _state  # tf.assign & co. for ref and resource variables
from graphcompat.train import training_ops
from graphcompat.train.optimizer import Optimizer


def _tensor(value, name):
    return _const.convert_to_tensor(Optimizer._call_if_callable(value), name=name)


class GradientDescentOptimizer(Optimizer):
    """`var -= learning_rate * grad` (sparse gradients: a ScatterSub of the touched rows)."""

    def __init__(self, learning_rate, use_locking: bool = False, name: str = "GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor = None

    def _prepare(self):
        self._learning_rate_tensor = _tensor(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var):
        return training_ops.apply("ApplyGradientDescent", [var._ref(), self._cast(self._learning_rate_tensor, var),
                                                           grad], use_locking=self._use_locking)

    def _apply_sparse_duplicate_indices(self, grad, var):
        delta = grad.values * self._cast(self._learning_rate_tensor, var)
        if _rv.is_resource_variable(var):  # TF: resource_scatter_add of the negated step
            return _rv.resource_scatter("ResourceScatterAdd", var.handle, grad.indices, -delta, var.dtype)
        return _state.scatter_sub(var, grad.indices, delta, use_locking=self._use_locking)


class ProximalGradientDescentOptimizer(Optimizer):
    def __init__(self, learning_rate, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, use_locking: bool = False,
                 name: str = "ProximalGradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._l1 = l1_regularization_strength
        self._l2 = l2_regularization_strength

    def _prepare(self):
        self._learning_rate_tensor = _tensor(self._learning_rate, "learning_rate")
        self._l1_tensor = _tensor(self._l1, "l1_regularization_strength")
        self._l2_tensor = _tensor(self._l2, "l2_regularization_strength")

    def _hyper(self, var):
        return [self._cast(self._learning_rate_tensor, var), self._cast(self._l1_tensor, var),
                self._cast(self._l2_tensor, var)]

    def _apply_dense(self, grad, var):
        return training_ops.apply("ApplyProximalGradientDescent", [var._ref()] + self._hyper(var) + [grad],
                                  use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        return training_ops.apply("SparseApplyProximalGradientDescent",
                                  [var._ref()] + self._hyper(var) + [grad.values, grad.indices],
                                  use_locking=self._use_locking)


class MomentumOptimizer(Optimizer):
    def __init__(self, learning_rate, momentum, use_locking: bool = False, name: str = "Momentum",
                 use_nesterov: bool = False):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = _tensor(self._learning_rate, "learning_rate")
        self._momentum_tensor = _tensor(self._momentum, "momentum")

    def _apply_dense(self, grad, var):
        mom = self.get_slot(var, "momentum")
        return training_ops.apply("ApplyMomentum", [var._ref(), mom._ref(), self._cast(self._learning_rate_tensor, var),
                                                    grad, self._cast(self._momentum_tensor, var)],
                                  use_locking=self._use_locking, use_nesterov=self._use_nesterov)

    def _apply_sparse(self, grad, var):
        mom = self.get_slot(var, "momentum")
        return training_ops.apply("SparseApplyMomentum",
                                  [var._ref(), mom._ref(), self._cast(self._learning_rate_tensor, var), grad.values,
                                   grad.indices, self._cast(self._momentum_tensor, var)],
                                  use_locking=self._use_locking, use_nesterov=self._use_nesterov)


class AdagradOptimizer(Optimizer):
    """TF's Adagrad: the accumulator starts at `initial_accumulator_value` (0.1)."""

    _ZERO_ROW_GRADIENT_IS_NOOP = True  # accumulator += 0, step 0 / sqrt(accumulator > 0)

    def __init__(self, learning_rate, initial_accumulator_value: float = 0.1, use_locking: bool = False,
                 name: str = "Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            dtype = v.dtype.base_dtype
            init = init_ops.constant_initializer(self._initial_accumulator_value, dtype=dtype)
            self._get_or_make_slot_with_initializer(v, init, v.get_shape(), dtype, "accumulator", self._name)

    def _prepare(self):
        self._learning_rate_tensor = _tensor(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return training_ops.apply("ApplyAdagrad", [var._ref(), acc._ref(), self._cast(self._learning_rate_tensor, var),
                                                   grad], use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return training_ops.apply("SparseApplyAdagrad",
                                  [var._ref(), acc._ref(), self._cast(self._learning_rate_tensor, var), grad.values,
                                   grad.indices], use_locking=self._use_locking)


class ProximalAdagradOptimizer(AdagradOptimizer):
    """TF's ProximalAdagrad: Adagrad's step, then the proximal map of l1/l2 regularization (FOBOS)."""

    _ZERO_ROW_GRADIENT_IS_NOOP = False  # the proximal map shrinks a touched row

    def __init__(self, learning_rate, initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0, l2_regularization_strength: float = 0.0,
                 use_locking: bool = False, name: str = "ProximalAdagrad"):
        super().__init__(learning_rate, initial_accumulator_value, use_locking, name)
        self._l1, self._l2 = l1_regularization_strength, l2_regularization_strength

    def _prepare(self):
        super()._prepare()
        self._l1_tensor = _tensor(self._l1, "l1_regularization_strength")
        self._l2_tensor = _tensor(self._l2, "l2_regularization_strength")

    def _hyper(self, var) -> list:
        return [self._cast(t, var) for t in (self._learning_rate_tensor, self._l1_tensor, self._l2_tensor)]

    def _apply_dense(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return training_ops.apply("ApplyProximalAdagrad", [var._ref(), acc._ref()] + self._hyper(var) + [grad],
                                  use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return training_ops.apply("SparseApplyProximalAdagrad",
                                  [var._ref(), acc._ref()] + self._hyper(var) + [grad.values, grad.indices],
                                  use_locking=self._use_locking)


class AdamOptimizer(Optimizer):
    """TF's Adam: `lr_t = lr*sqrt(1-b2^t)/(1-b1^t)`, `var -= lr_t*m/(sqrt(v)+epsilon)` (epsilon-hat)."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, use_locking: bool = False,
                 name: str = "Adam"):
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon

    def _get_beta_accumulators(self):
        graph = _ops.get_default_graph()
        return self._get_non_slot_variable("beta1_power", graph), self._get_non_slot_variable("beta2_power", graph)

    def _create_slots(self, var_list):
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(self._beta1, "beta1_power", first_var)
        self._create_non_slot_variable(self._beta2, "beta2_power", first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name + "_1")

    def _prepare(self):
        self._lr_t = _tensor(self._lr, "learning_rate")
        self._beta1_t = _tensor(self._beta1, "beta1")
        self._beta2_t = _tensor(self._beta2, "beta2")
        self._epsilon_t = _tensor(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        b1p, b2p = self._get_beta_accumulators()
        c = lambda t: self._cast(t, var)  # noqa: E731
        return training_ops.apply("ApplyAdam", [var._ref(), m._ref(), v._ref(), c(b1p), c(b2p), c(self._lr_t),
                                                c(self._beta1_t), c(self._beta2_t), c(self._epsilon_t), grad],
                                  use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        """TF's _apply_sparse_shared: m and v decay everywhere, the scaled gradient is scatter-added."""
        from graphcompat.ops import math_ops
        b1p, b2p = self._get_beta_accumulators()
        c = lambda t: self._cast(t, var)  # noqa: E731
        b1p, b2p, lr_t, beta1_t, beta2_t, eps_t = (c(b1p), c(b2p), c(self._lr_t), c(self._beta1_t),
                                                   c(self._beta2_t), c(self._epsilon_t))
        lr = lr_t * math_ops.sqrt(1 - b2p) / (1 - b1p)
        m = self.get_slot(var, "m")
        m_scaled = grad.values * (1 - beta1_t)
        m_t = _state.assign(m, m * beta1_t, use_locking=self._use_locking)
        with _ops.control_dependencies([m_t]):
            m_t = _state.scatter_add(m, grad.indices, m_scaled, use_locking=self._use_locking)
        v = self.get_slot(var, "v")
        v_scaled = (grad.values * grad.values) * (1 - beta2_t)
        v_t = _state.assign(v, v * beta2_t, use_locking=self._use_locking)
        with _ops.control_dependencies([v_t]):
            v_t = _state.scatter_add(v, grad.indices, v_scaled, use_locking=self._use_locking)
        v_sqrt = math_ops.sqrt(v_t)
        var_update = _state.assign_sub(var, lr * m_t / (v_sqrt + eps_t), use_locking=self._use_locking)
        return control_ops.group(*[var_update, m_t, v_t])

    def _apply_sparse_duplicate_indices(self, grad, var):
        values, indices = training_ops.deduplicate_indexed_slices(grad.values, grad.indices)
        return self._apply_sparse(IndexedSlices(values, indices, grad.dense_shape), var)

    def _finish(self, update_ops, name_scope):
        with _ops.control_dependencies(update_ops):
            b1p, b2p = self._get_beta_accumulators()
            with _ops.colocate_with(b1p.op):
                update_beta1 = b1p.assign(b1p * self._beta1_t, use_locking=self._use_locking)
                update_beta2 = b2p.assign(b2p * self._beta2_t, use_locking=self._use_locking)
        return control_ops.group(*update_ops + [update_beta1, update_beta2], name=name_scope)


class RMSPropOptimizer(Optimizer):
    """TF's RMSProp: `ms` starts at 1.0 and epsilon sits inside the square root."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking: bool = False,
                 centered: bool = False, name: str = "RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate, self._decay, self._momentum, self._epsilon = learning_rate, decay, momentum, epsilon
        self._centered = centered

    def _create_slots(self, var_list):
        for v in var_list:
            dtype = v.dtype.base_dtype
            self._get_or_make_slot_with_initializer(v, init_ops.ones_initializer(dtype=dtype), v.get_shape(), dtype,
                                                    "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = _tensor(self._learning_rate, "learning_rate")
        self._decay_tensor = _tensor(self._decay, "decay")
        self._momentum_tensor = _tensor(self._momentum, "momentum")
        self._epsilon_tensor = _tensor(self._epsilon, "epsilon")

    def _args(self, var):
        c = lambda t: self._cast(t, var)  # noqa: E731
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        refs = [var._ref()] + ([self.get_slot(var, "mg")._ref()] if self._centered else []) + [rms._ref(), mom._ref()]
        return refs + [c(self._learning_rate_tensor), c(self._decay_tensor), c(self._momentum_tensor),
                       c(self._epsilon_tensor)]

    def _apply_dense(self, grad, var):
        op = "ApplyCenteredRMSProp" if self._centered else "ApplyRMSProp"
        return training_ops.apply(op, self._args(var) + [grad], use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        op = "SparseApplyCenteredRMSProp" if self._centered else "SparseApplyRMSProp"
        return training_ops.apply(op, self._args(var) + [grad.values, grad.indices],
                                  use_locking=self._use_locking)


class FtrlOptimizer(Optimizer):
    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0, use_locking: bool = False,
                 name: str = "Ftrl", accum_name=None, linear_name=None, l2_shrinkage_regularization_strength=0.0,
                 beta=None):
        super().__init__(use_locking, name)
        if initial_accumulator_value < 0.0:
            raise ValueError(f"initial_accumulator_value {initial_accumulator_value:f} needs to be positive or zero")
        if learning_rate_power > 0.0:
            raise ValueError(f"learning_rate_power {learning_rate_power:f} needs to be negative or zero")
        if l1_regularization_strength < 0.0:
            raise ValueError(f"l1_regularization_strength {l1_regularization_strength:f} needs to be positive or zero")
        if l2_regularization_strength < 0.0:
            raise ValueError(f"l2_regularization_strength {l2_regularization_strength:f} needs to be positive or zero")
        if l2_shrinkage_regularization_strength < 0.0:
            raise ValueError(f"l2_shrinkage_regularization_strength {l2_shrinkage_regularization_strength:f} needs "
                             "to be positive or zero")
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1 = l1_regularization_strength
        self._l2 = l2_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._l2_shrinkage = l2_shrinkage_regularization_strength
        self._accum_name = accum_name
        self._linear_name = linear_name

    def _create_slots(self, var_list):
        for v in var_list:
            dtype = v.dtype.base_dtype
            init = init_ops.constant_initializer(self._initial_accumulator_value, dtype=dtype)
            self._get_or_make_slot_with_initializer(v, init, v.get_shape(), dtype, "accum",
                                                    self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _prepare(self):
        self._learning_rate_tensor = _tensor(self._learning_rate, "learning_rate")
        self._l1_tensor = _tensor(self._l1, "l1_regularization_strength")
        # TF folds beta into l2: l2 + beta / (2 * lr)
        adjusted_l2 = self._l2 + self._beta / (2. * self._learning_rate) if self._beta else self._l2
        self._adjusted_l2_tensor = _tensor(adjusted_l2, "adjusted_l2_regularization_strength")
        self._l2_shrinkage_tensor = _tensor(self._l2_shrinkage, "l2_shrinkage_regularization_strength")
        self._learning_rate_power_tensor = _tensor(self._learning_rate_power, "learning_rate_power")

    def _apply(self, var, grad_inputs, sparse: bool):
        c = lambda t: self._cast(t, var)  # noqa: E731
        accum, linear = self.get_slot(var, "accum"), self.get_slot(var, "linear")
        head = [var._ref(), accum._ref(), linear._ref()] + grad_inputs + [
            c(self._learning_rate_tensor), c(self._l1_tensor), c(self._adjusted_l2_tensor)]
        if self._l2_shrinkage <= 0.0:
            op = "SparseApplyFtrl" if sparse else "ApplyFtrl"
            return training_ops.apply(op, head + [c(self._learning_rate_power_tensor)],
                                      use_locking=self._use_locking)
        op = "SparseApplyFtrlV2" if sparse else "ApplyFtrlV2"
        return training_ops.apply(op, head + [c(self._l2_shrinkage_tensor), c(self._learning_rate_power_tensor)],
                                  use_locking=self._use_locking)

    def _apply_dense(self, grad, var):
        return self._apply(var, [grad], sparse=False)

    def _apply_sparse(self, grad, var):
        return self._apply(var, [grad.values, grad.indices], sparse=True)


class AdadeltaOptimizer(Optimizer):
    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking: bool = False,
                 name: str = "Adadelta"):
        super().__init__(use_locking, name)
        self._lr, self._rho, self._epsilon = learning_rate, rho, epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self):
        self._lr_t = _tensor(self._lr, "lr")
        self._rho_t = _tensor(self._rho, "rho")
        self._epsilon_t = _tensor(self._epsilon, "epsilon")

    def _args(self, var):
        c = lambda t: self._cast(t, var)  # noqa: E731
        return [var._ref(), self.get_slot(var, "accum")._ref(), self.get_slot(var, "accum_update")._ref(),
                c(self._lr_t), c(self._rho_t), c(self._epsilon_t)]

    def _apply_dense(self, grad, var):
        return training_ops.apply("ApplyAdadelta", self._args(var) + [grad], use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        return training_ops.apply("SparseApplyAdadelta", self._args(var) + [grad.values, grad.indices],
                                  use_locking=self._use_locking)


class AdagradDAOptimizer(Optimizer):
    """TF's Adagrad dual averaging: each step recomputes the variable from the sums of gradients and of
    their squares, with l1/l2 scaled by the step count (`global_step + 1`), so a feature that a sparse
    batch skips catches up on its regularization when it is next seen."""

    def __init__(self, learning_rate, global_step, initial_gradient_squared_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0, l2_regularization_strength: float = 0.0,
                 use_locking: bool = False, name: str = "AdagradDA"):
        if initial_gradient_squared_accumulator_value <= 0.0:
            raise ValueError("initial_gradient_squared_accumulator_value must be positive: "
                             f"{initial_gradient_squared_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_gradient_squared_accumulator_value = initial_gradient_squared_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._global_step = global_step
        self._global_step_on_worker = None

    def _create_slots(self, var_list):
        for v in var_list:
            # TF's initial values are Const tensors (created colocated with the variable), not initializers
            with _ops.colocate_with(v.op):
                g_val = _const.constant(0.0, shape=v.get_shape(), dtype=v.dtype.base_dtype)
                gg_val = _const.constant(self._initial_gradient_squared_accumulator_value, shape=v.get_shape(),
                                         dtype=v.dtype.base_dtype)
            self._get_or_make_slot(v, g_val, "gradient_accumulator", self._name)
            self._get_or_make_slot(v, gg_val, "gradient_squared_accumulator", self._name)

    def _prepare(self):
        from graphcompat.ops import array_ops
        self._learning_rate_tensor = _tensor(self._learning_rate, "learning_rate")
        # TF reads the step once per apply (`identity(global_step) + 1`): the kernels see the step being taken
        with _ops.colocate_with(self._learning_rate_tensor.op):
            self._global_step_on_worker = array_ops.identity(self._global_step) + 1

    def _apply(self, var, grad_inputs: list, sparse: bool):
        from graphcompat.ops import array_ops
        c = lambda t: self._cast(t, var)  # noqa: E731
        g_acc = self.get_slot(var, "gradient_accumulator")
        gg_acc = self.get_slot(var, "gradient_squared_accumulator")
        with _ops.device(var.device):
            global_step = array_ops.identity(self._global_step_on_worker)
        return training_ops.apply("SparseApplyAdagradDA" if sparse else "ApplyAdagradDA",
                                  [var._ref(), g_acc._ref(), gg_acc._ref()] + grad_inputs + [
                                      c(self._learning_rate_tensor), c(self._l1_regularization_strength),
                                      c(self._l2_regularization_strength), global_step],
                                  use_locking=self._use_locking)

    def _apply_dense(self, grad, var):
        return self._apply(var, [grad], sparse=False)

    def _apply_sparse(self, grad, var):
        return self._apply(var, [grad.values, grad.indices], sparse=True)


__all__ = ["GradientDescentOptimizer", "ProximalGradientDescentOptimizer", "MomentumOptimizer", "AdagradOptimizer",
           "AdamOptimizer", "RMSPropOptimizer", "FtrlOptimizer", "AdadeltaOptimizer", "ProximalAdagradOptimizer",
           "AdagradDAOptimizer",
           "IndexedSlices"]
