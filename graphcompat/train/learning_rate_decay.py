"""Learning-rate schedules of TF1 (`tf.train.exponential_decay` …), recorded as TF records them.

Each schedule is the chain of math ops TF's `learning_rate_schedule` classes build in graph mode
(Cast, RealDiv, Floor, Pow, Mul …, with TF's node names), so a graph that uses one exports to TF
unchanged; the compiled training step fuses the chain into a few scalar instructions.
"""
from __future__ import annotations

import math
from typing import Optional

from graphcompat.framework import constant_op as _const
from graphcompat.framework import ops as _ops


def _m():
    from graphcompat.ops import math_ops
    return math_ops


def _check_step(global_step, fn: str) -> None:
    if global_step is None:
        raise ValueError(f"global_step is required for {fn}.")


def _exponential(learning_rate, global_step, decay_steps, decay_rate, staircase: bool, name, default: str):
    """TF's ExponentialDecay.__call__: `lr * decay_rate ** (step / decay_steps)` (floored if staircase)."""
    m = _m()
    with _ops.name_scope(name, default, [learning_rate, global_step]) as scope:
        lr, rate, p = _progress(learning_rate, global_step, decay_steps, decay_rate, staircase)
        return m.multiply(lr, m.pow(rate, p), name=scope)


def _progress(learning_rate, global_step, decay_steps, decay_rate, staircase: bool):
    """The ops TF's exponential and inverse-time schedules share, in TF's order: (lr, rate, step / decay_steps
    (floored when `staircase`))."""
    m = _m()
    lr = _const.convert_to_tensor(learning_rate, name="initial_learning_rate")
    dtype = lr.dtype.base_dtype
    steps = m.cast(decay_steps, dtype)
    rate = m.cast(decay_rate, dtype)
    step = m.cast(global_step, dtype)
    p = step / steps
    if staircase:
        p = m.floor(p)
    return lr, rate, p


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase: bool = False, name=None):
    """`lr * decay_rate ** (step / decay_steps)` (integer division when `staircase`)."""
    _check_step(global_step, "exponential_decay")
    return _exponential(learning_rate, global_step, decay_steps, decay_rate, staircase, name, "ExponentialDecay")


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase: bool = False, name=None):
    """`lr * exp(-decay_rate * step / decay_steps)`: TF computes `exp(-decay_rate)` first (outside the
    schedule's scope) and runs ExponentialDecay with it."""
    _check_step(global_step, "natural_exp_decay")
    m = _m()
    natural_rate = m.exp(m.negative(decay_rate))
    return _exponential(learning_rate, global_step, decay_steps, natural_rate, staircase, name, "ExponentialDecay")


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase: bool = False, name=None):
    """`lr / (1 + decay_rate * step / decay_steps)`."""
    _check_step(global_step, "inverse_time_decay")
    m = _m()
    with _ops.name_scope(name, "InverseTimeDecay", [learning_rate, global_step]) as scope:
        lr, rate, p = _progress(learning_rate, global_step, decay_steps, decay_rate, staircase)
        one = m.cast(_const.constant(1), lr.dtype.base_dtype)
        denom = m.add(one, m.multiply(rate, p))
        return m.divide(lr, denom, name=scope)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                     name=None):
    """`(lr - end) * (1 - step / decay_steps) ** power + end` (decay_steps stretched when `cycle`)."""
    _check_step(global_step, "polynomial_decay")
    m = _m()
    with _ops.name_scope(name, "PolynomialDecay", [learning_rate, global_step]) as scope:
        lr = _const.convert_to_tensor(learning_rate, name="initial_learning_rate")
        dtype = lr.dtype.base_dtype
        end = m.cast(end_learning_rate, dtype)
        power_t = m.cast(power, dtype)
        step = m.cast(global_step, dtype)
        steps = m.cast(decay_steps, dtype)
        if cycle:
            # The first multiple of decay_steps above the step (1 at step 0).
            multiplier = m.where_v2(m.equal(step, 0), 1.0, m.ceil(step / decay_steps))
            steps = m.multiply(steps, multiplier)
        else:
            step = m.minimum(step, steps)
        p = m.divide(step, steps)
        return m.add(m.multiply(lr - end, m.pow(1 - p, power_t)), end, name=scope)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """`lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)`."""
    _check_step(global_step, "cosine_decay")
    m = _m()
    with _ops.name_scope(name, "CosineDecay", [learning_rate, global_step]):
        lr = _const.convert_to_tensor(learning_rate, name="initial_learning_rate")
        dtype = lr.dtype.base_dtype
        steps = m.cast(decay_steps, dtype)
        step = m.minimum(m.cast(global_step, dtype), steps)
        fraction = step / steps
        cosine = 0.5 * (1.0 + m.cos(_const.constant(math.pi) * fraction))
        decayed = (1 - alpha) * cosine + alpha
        return m.multiply(lr, decayed)


def piecewise_constant(x, boundaries, values, name: Optional[str] = None):
    """`values[i]` where `boundaries[i-1] < x <= boundaries[i]`: TF's exclusive `tf.case` over the
    intervals (boundaries converted and cast to x's dtype before the schedule's scope, as TF does)."""
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    m = _m()
    from graphcompat.ops.control_flow_ops import case
    bounds = [_const.convert_to_tensor(b) for b in boundaries]
    vals = [_const.convert_to_tensor(v) for v in values]
    dtype = vals[0].dtype.base_dtype
    for v in vals[1:]:
        if v.dtype.base_dtype != dtype:
            raise ValueError(f"Values must have elements all with the same dtype ({dtype} vs {v.dtype.base_dtype}).")
    step = _const.convert_to_tensor(x)
    bounds = [b if b.dtype.base_dtype == step.dtype.base_dtype else m.cast(b, step.dtype.base_dtype)
              for b in bounds]
    with _ops.name_scope(name, "PiecewiseConstant", [x]):
        pairs = [(m.less_equal(step, bounds[0]), lambda: vals[0]),
                 (m.greater(step, bounds[-1]), lambda: vals[-1])]
        for low, high, v in zip(bounds[:-1], bounds[1:], vals[1:-1]):
            pred = m.logical_and(m.greater(step, low), m.less_equal(step, high), name="and")
            pairs.append((pred, lambda v=v: v))
        return case(pairs, lambda: vals[0], exclusive=True)


piecewise_constant_decay = piecewise_constant
