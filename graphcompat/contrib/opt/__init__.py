"""`tf.contrib.opt` (TF 1.15): the optimizers whose updates are TF kernels of their own — AddSignOptimizer
(ApplyAddSign), PowerSignOptimizer (ApplyPowerSign), AdaMaxOptimizer (ApplyAdaMax) and their
ResourceApply* twins for resource variables — with TF's slots and hyper-parameter tensors.

Sparse gradients (TF's _apply_sparse: gathers and scatters of the slots) are not implemented: they raise
NotImplementedError naming the optimizer. Other tf.contrib.opt symbols raise NotImplementedError too.
"""
from __future__ import annotations

import math

from graphcompat.framework import constant_op as _const
from graphcompat.train import training_ops
from graphcompat.train.optimizer import Optimizer
from graphcompat.train.optimizers import AdamOptimizer


def _sparse_not_implemented(optimizer: Optimizer):
    raise NotImplementedError(f"tf.contrib.opt.{type(optimizer).__name__} with a sparse gradient (IndexedSlices, "
                              "its _apply_sparse) is not implemented by graphcompat")


class _SignOptimizer(Optimizer):
    """AddSign / PowerSign: one slot `m`; `sign_decay_fn(global_step)` scales the sign term."""

    _KERNEL = ""

    def __init__(self, learning_rate, beta, sign_decay_fn, use_locking: bool, name: str):
        super().__init__(use_locking, name)
        self._lr, self._beta, self._sign_decay_fn = learning_rate, beta, sign_decay_fn
        self._sign_decay_t = None

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        if self._sign_decay_fn is not None:
            self._sign_decay_t = _const.convert_to_tensor(self._sign_decay_fn(global_step), name="sign_decay")
        return super().apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "m", self._name)

    def _prepare(self):
        self._lr_t = _const.convert_to_tensor(self._lr, name="learning_rate")
        self._beta_t = _const.convert_to_tensor(self._beta, name="beta")
        self._prepare_shape()
        if self._sign_decay_fn is None:
            self._sign_decay_t = _const.convert_to_tensor(1.0, name="sign_decay")

    def _apply_dense(self, grad, var):
        m = self.get_slot(var, "m")
        c = lambda t: self._cast(t, var)  # noqa: E731
        return training_ops.apply(self._KERNEL, [var._ref(), m._ref(), c(self._lr_t), c(self._shape_t),
                                                 c(self._sign_decay_t), c(self._beta_t), grad],
                                  use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        _sparse_not_implemented(self)


class AddSignOptimizer(_SignOptimizer):
    """`var -= lr * (alpha + sign_decay * sign(g) * sign(m)) * g`, `m = beta * m + (1 - beta) * g`."""

    _KERNEL = "ApplyAddSign"

    def __init__(self, learning_rate=0.1, alpha=1.0, beta=0.9, sign_decay_fn=None, use_locking: bool = False,
                 name: str = "AddSignOptimizer"):
        super().__init__(learning_rate, beta, sign_decay_fn, use_locking, name)
        self._alpha = alpha

    def _prepare_shape(self):
        self._shape_t = _const.convert_to_tensor(self._alpha, name="alpha")


class PowerSignOptimizer(_SignOptimizer):
    """`var -= lr * exp(logbase * sign_decay * sign(g) * sign(m)) * g`, logbase = log(base)."""

    _KERNEL = "ApplyPowerSign"

    def __init__(self, learning_rate=0.1, base=math.e, beta=0.9, sign_decay_fn=None, use_locking: bool = False,
                 name: str = "PowerSignOptimizer"):
        super().__init__(learning_rate, beta, sign_decay_fn, use_locking, name)
        self._base = base

    def _prepare_shape(self):
        self._shape_t = _const.convert_to_tensor(math.log(self._base), name="logbase")


class AdaMaxOptimizer(AdamOptimizer):
    """Adam's infinity-norm variant (ApplyAdaMax): slots `m` and `v`, one accumulator `beta1_power`."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, use_locking: bool = False,
                 name: str = "AdaMax"):
        super().__init__(learning_rate, beta1, beta2, epsilon, use_locking, name)

    def _get_beta_accumulators(self):
        from graphcompat.framework import ops as _ops
        return self._get_non_slot_variable("beta1_power", _ops.get_default_graph())

    def _create_slots(self, var_list):
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(self._beta1, "beta1_power", first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name + "_1")

    def _apply_dense(self, grad, var):
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        c = lambda t: self._cast(t, var)  # noqa: E731
        return training_ops.apply("ApplyAdaMax", [var._ref(), m._ref(), v._ref(), c(self._get_beta_accumulators()),
                                                  c(self._lr_t), c(self._beta1_t), c(self._beta2_t),
                                                  c(self._epsilon_t), grad], use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        _sparse_not_implemented(self)

    def _apply_sparse_duplicate_indices(self, grad, var):
        _sparse_not_implemented(self)

    def _finish(self, update_ops, name_scope):
        from graphcompat.framework import ops as _ops
        from graphcompat.ops import control_ops
        with _ops.control_dependencies(update_ops):
            beta1_power = self._get_beta_accumulators()
            with _ops.colocate_with(beta1_power.op):
                update_beta1 = beta1_power.assign(beta1_power * self._beta1_t, use_locking=self._use_locking)
        return control_ops.group(*update_ops + [update_beta1], name=name_scope)


def __getattr__(name: str):
    raise NotImplementedError(f"tf.contrib.opt.{name} is not implemented in graphcompat")
