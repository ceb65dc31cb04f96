"""`tf.train.cosine_decay_restarts`, `linear_cosine_decay`, `noisy_linear_cosine_decay`: TF1's wrappers of
TF's learning-rate schedules, built from TF's math ops as its schedules build them (scopes "SGDRDecay",
"LinearCosineDecay", "NoisyLinearCosineDecay"; the result op carries the scope's name).

cosine_decay_restarts: TF chooses the restart formula with a tf.cond on `t_mul == 1`; t_mul is a Python
number there, so graphcompat builds the taken branch only (same values).
"""
from __future__ import annotations

import math
from typing import Optional

from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import constant, convert_to_tensor


def _require_step(global_step, fn: str) -> None:
    if global_step is None:
        raise ValueError(f"global_step is required for {fn}.")


def cosine_decay_restarts(learning_rate, global_step, first_decay_steps, t_mul: float = 2.0, m_mul: float = 1.0,
                          alpha: float = 0.0, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.train.cosine_decay_restarts` (SGDR): cosine decay restarted every period, periods growing by
    `t_mul` and restart peaks scaled by `m_mul`."""
    from graphcompat.ops import math_ops
    _require_step(global_step, "cosine_decay_restarts")
    with _ops.name_scope(name or "SGDRDecay") as scope:
        lr = convert_to_tensor(learning_rate, name="initial_learning_rate")
        dtype = lr.dtype.base_dtype
        first = math_ops.cast(first_decay_steps, dtype)
        alpha_t = math_ops.cast(alpha, dtype)
        t_mul_t = math_ops.cast(t_mul, dtype)
        m_mul_t = math_ops.cast(m_mul, dtype)
        completed = math_ops.cast(global_step, dtype) / first
        if float(t_mul) == 1.0:
            i_restart = math_ops.floor(completed)
            completed = completed - i_restart
        else:
            i_restart = math_ops.floor(math_ops.log(1.0 - completed * (1.0 - t_mul_t)) / math_ops.log(t_mul_t))
            sum_r = (1.0 - t_mul_t ** i_restart) / (1.0 - t_mul_t)
            completed = (completed - sum_r) / t_mul_t ** i_restart
        m_fac = m_mul_t ** i_restart
        cosine = 0.5 * m_fac * (1.0 + math_ops.cos(constant(math.pi) * completed))
        decayed = (1 - alpha_t) * cosine + alpha_t
        return math_ops.multiply(lr, decayed, name=scope)


def _linear_cosine(scope_name: str, fn: str, learning_rate, global_step, decay_steps, num_periods, alpha, beta,
                   name, noise=None) -> _ops.Tensor:
    from graphcompat.ops import math_ops
    _require_step(global_step, fn)
    with _ops.name_scope(name or scope_name) as scope:
        lr = convert_to_tensor(learning_rate, name="initial_learning_rate")
        dtype = lr.dtype.base_dtype
        steps = math_ops.cast(decay_steps, dtype)
        if noise is not None:
            initial_variance = math_ops.cast(noise[0], dtype)
            variance_decay = math_ops.cast(noise[1], dtype)
        periods = math_ops.cast(num_periods, dtype)
        alpha_t = math_ops.cast(alpha, dtype)
        beta_t = math_ops.cast(beta, dtype)
        step = math_ops.minimum(math_ops.cast(global_step, dtype), steps)
        linear = (steps - step) / steps
        if noise is not None:
            from graphcompat.ops.random_ops import random_normal
            std = math_ops.sqrt(initial_variance / math_ops.pow(1.0 + step, variance_decay))
            linear = linear + random_normal(linear.shape, stddev=std, dtype=dtype)
        fraction = 2.0 * periods * (step / steps)
        cosine = 0.5 * (1.0 + math_ops.cos(constant(math.pi) * fraction))
        return math_ops.multiply(lr, (alpha_t + linear) * cosine + beta_t, name=scope)


def linear_cosine_decay(learning_rate, global_step, decay_steps, num_periods: float = 0.5, alpha: float = 0.0,
                        beta: float = 0.001, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.train.linear_cosine_decay`: lr * ((alpha + linear) * cosine + beta)."""
    return _linear_cosine("LinearCosineDecay", "linear_cosine_decay", learning_rate, global_step, decay_steps,
                          num_periods, alpha, beta, name)


def noisy_linear_cosine_decay(learning_rate, global_step, decay_steps, initial_variance: float = 1.0,
                              variance_decay: float = 0.55, num_periods: float = 0.5, alpha: float = 0.0,
                              beta: float = 0.001, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.train.noisy_linear_cosine_decay`: linear cosine decay with Gaussian noise on the linear part (its
    variance decaying as initial_variance / (1 + step) ** variance_decay)."""
    return _linear_cosine("NoisyLinearCosineDecay", "noisy_linear_cosine_decay", learning_rate, global_step,
                          decay_steps, num_periods, alpha, beta, name, noise=(initial_variance, variance_decay))


__all__ = ["cosine_decay_restarts", "linear_cosine_decay", "noisy_linear_cosine_decay"]
