"""Lowerings of state ops (graphcompat/ops/state_ops.py): reads and writes go through the RunContext.

A variable's state key is its VariableV2 op name. Ops that TF defines as returning the ref return the
new value here (fetching a ref fetches the value anyway).
"""
from __future__ import annotations

import threading

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.interpreter import LazyRead, Ref
from lowering.registry import lowers
from lowering.rules.checks import invalid, require_in_range, shape_str


@lowers("VariableV2", context=True)
def variable_v2(ctx, op):
    return Ref(op.name, op)


def _value(ctx, x):
    return ctx.deref(x) if isinstance(x, Ref) else x


def _variable(ctx, op, ref) -> Ref:
    """The variable a ref input names. TF's ref outputs (an Assign's `output_ref`, a scatter's) alias their
    own ref input, and TF 1 graphs chain them (`assign_add(assign(v, 0), x)`, accumulate_n's temporary
    variable): such an input arrives here as the value its op returned, so follow input 0 back to a Ref."""
    tensor = op._inputs[0]
    while not isinstance(ref, Ref):
        source = tensor.op
        if not source._inputs or not source._inputs[0].dtype.is_ref_dtype:
            raise errors.InvalidArgumentError(None, op, f"{op.type} needs a variable's ref as its first input")
        tensor = source._inputs[0]
        ref = ctx.env.get(tensor)
    return ref


def _is_state_buffer(ctx, value) -> bool:
    if not isinstance(value, jnp.ndarray):
        return False
    return any(value is v for v in ctx.state.values()) or any(value is v for v in ctx._state_in.values())


@lowers("Assign", context=True)
def assign(ctx, op, ref, value):
    ref = _variable(ctx, op, ref)
    value = _value(ctx, value)
    dtype = np.dtype(op.attrs["T"].as_numpy_dtype)
    # string variables (e.g. match_filenames_once) hold numpy object arrays: such plans run on the host
    value = np.asarray(value, dtype=object) if dtype == object else jnp.asarray(value, dtype=dtype)
    if not ctx.traced and _is_state_buffer(ctx, value):
        # TF's Assign copies: a value read from another variable must not alias its buffer, or a compiled
        # step that donates one variable's buffer would delete the other's (tf.Variable(v.initialized_value())).
        value = jnp.copy(value)
    shape = op.inputs[0].shape
    if op.attrs.get("validate_shape", True) and shape.is_fully_defined() \
            and tuple(shape.as_list()) != tuple(jnp.shape(value)):
        # Only reachable with values of unknown static shape (fed placeholders).
        raise errors.InvalidArgumentError(
            None, op, f"Assign requires shapes of both tensors to match. lhs shape= "
            f"{list(shape.as_list())} rhs shape= {list(jnp.shape(value))}")
    ctx.write(ref.key, value)
    return value


@lowers("AssignAdd", context=True)
def assign_add(ctx, op, ref, value):
    ref = _variable(ctx, op, ref)
    new = ctx.read(ref.key, ref.op) + _value(ctx, value)
    ctx.write(ref.key, new)
    return new


@lowers("AssignSub", context=True)
def assign_sub(ctx, op, ref, value):
    ref = _variable(ctx, op, ref)
    new = ctx.read(ref.key, ref.op) - _value(ctx, value)
    ctx.write(ref.key, new)
    return new


def _check_scatter_shapes(var_shape, indices_shape, updates_shape) -> None:
    """TF's Scatter* shape checks: updates.shape = indices.shape + params.shape[1:], or a scalar update."""
    if len(var_shape) < 1:
        raise invalid(f"params must be at least 1-D, got shape {shape_str(var_shape)}")
    if len(updates_shape) == 0:
        return
    if tuple(updates_shape[:len(indices_shape)]) != tuple(indices_shape):
        raise invalid(f"The shape of indices ({shape_str(indices_shape)}) must be a prefix of the shape of updates "
                      f"({shape_str(updates_shape)})")
    if tuple(updates_shape) != tuple(indices_shape) + tuple(var_shape[1:]):
        raise invalid(f"Must have updates.shape = indices.shape + params.shape[1:] or updates.shape = [], got "
                      f"updates.shape {shape_str(updates_shape)}, indices.shape {shape_str(indices_shape)}, "
                      f"params.shape {shape_str(var_shape)}")


def _scatter_rule(update):
    def rule(ctx, op, ref, indices, updates):
        ref = _variable(ctx, op, ref)
        var = ctx.read(ref.key, ref.op)
        indices = _value(ctx, indices)
        updates = jnp.asarray(_value(ctx, updates), dtype=var.dtype)
        _check_scatter_shapes(var.shape, np.shape(indices), np.shape(updates))
        n = var.shape[0]
        require_in_range(indices, n, lambda pos, v: f"indices{pos} = {v} is not in [0, {n})")
        if jnp.ndim(updates) == 0:
            updates = jnp.broadcast_to(updates, jnp.shape(indices) + var.shape[1:])

        def apply(ok):  # a failed check anywhere in the run: every index out of range, all dropped
            return update(var, indices if ok is None else jnp.where(ok, indices, n), updates).astype(var.dtype)
        ctx.write_effect(ref.key, apply)
        return LazyRead(ref.key, ref.op)  # read (and the effect applied early) only if a consumer needs it
    return rule


# The updates of TF's scatter functors, shared by the ref (Scatter*) and resource (ResourceScatter*) ops:
# update(var, indices, updates) -> var; an index equal to len(var) is dropped.
def _scatter_div(var, idx, u):
    """TF divides in turn by each update of a row; integers truncate toward zero (C++'s `/`), and
    trunc(trunc(a/b)/c) == trunc(a/(b*c)), so one division by the product of a row's divisors does it."""
    if jnp.issubdtype(var.dtype, jnp.integer):
        divisors = jnp.ones_like(var).at[idx].multiply(u, mode="drop")
        return jax.lax.div(var, divisors)
    return var.at[idx].divide(u, mode="drop")


def _scatter_extreme(highest: bool):
    """TF applies std::max (std::min) update by update: the variable keeps its value on a tie (-0.0 stays
    -0.0 against 0.0) and against a NaN update, and a NaN in the variable stays. So: the best non-NaN
    update of each row, taken only where it strictly beats the variable."""
    def update(var, idx, u):
        if not jnp.issubdtype(var.dtype, jnp.floating):
            return var.at[idx].max(u, mode="drop") if highest else var.at[idx].min(u, mode="drop")
        worst = jnp.asarray(-jnp.inf if highest else jnp.inf, var.dtype)
        u = jnp.where(jnp.isnan(u), worst, u)
        base = jnp.full_like(var, worst)
        best = base.at[idx].max(u, mode="drop") if highest else base.at[idx].min(u, mode="drop")
        return jnp.where((var < best) if highest else (best < var), best, var)
    return update


SCATTER_UPDATES = {
    "Update": lambda var, idx, u: var.at[idx].set(u, mode="drop"),
    "Add": lambda var, idx, u: var.at[idx].add(u, mode="drop"),
    "Sub": lambda var, idx, u: var.at[idx].add(-u, mode="drop"),
    "Mul": lambda var, idx, u: var.at[idx].multiply(u, mode="drop"),
    "Div": _scatter_div, "Max": _scatter_extreme(highest=True), "Min": _scatter_extreme(highest=False),
}

for _kind, _update in SCATTER_UPDATES.items():
    lowers("Scatter" + _kind, context=True)(_scatter_rule(_update))


# A host rule: whether a variable holds a value is a fact about the session, never baked into a trace.
@lowers("IsVariableInitialized", context=True, host=True)
def is_variable_initialized(ctx, op, ref):
    return np.bool_(ctx.has(ref.key))


# A host counter, as in TF (CountUpTo has only a CPU kernel): input pipelines end their epochs with it
# (limit_epochs), usually next to host ops (string file names) that only depend on it by a control edge.
# Like TF's kernel it is atomic: several QueueRunner threads may run it at once, so it updates the
# session's state in place under a lock instead of at the end of its run (an op that ran is never undone).
_COUNT_UP_TO_LOCK = threading.Lock()


@lowers("CountUpTo", context=True, host=True)
def count_up_to(ctx, op, ref):
    limit = op.attrs["limit"]
    if ctx.traced:
        old = ctx.read(ref.key, ref.op)
        ctx.check(old < limit, errors.OutOfRangeError, f"Reached limit of {limit}", op)
        ctx.write(ref.key, jnp.minimum(old + 1, limit).astype(old.dtype))
        return old
    with _COUNT_UP_TO_LOCK:
        old = np.asarray(ctx.state[ref.key] if ref.key in ctx.state else ctx.read(ref.key, ref.op))
        if old >= limit:
            raise errors.OutOfRangeError(None, op, f"Reached limit of {limit}")
        new = (old + 1).astype(old.dtype)
        ctx._state_in[ref.key] = new
        if ref.key in ctx.state:
            ctx.state[ref.key] = new
    return old


@lowers("NoOp", "ControlTrigger")
def no_op(**_):
    return None
