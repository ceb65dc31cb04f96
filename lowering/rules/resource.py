"""Lowerings of the resource variable ops (graphcompat/ops/resource_variable_ops.py).

`VarHandleOp` produces a `ResourceHandle`: the state key of the variable (its `shared_name`, or the op
name when that is empty, prefixed by a non-empty `container`) plus what the error messages need. Reads
and writes go through the RunContext as VariableV2's Refs do, so a resource variable and a ref variable
of the same name share nothing but the way they are stored. The ResourceApply* / ResourceSparseApply*
optimizer kernels reuse the Apply* rules (lowering/rules/train.py): a handle carries `key` and `op`
like a Ref, so the same math reads and writes the slots.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from lowering.registry import RULES, lowers
from lowering.rules.state import SCATTER_UPDATES
from lowering.rules.train import kernel_op_types, kernel_rule, kernel_signature


class ResourceHandle:
    """A resource variable's handle while a graph runs: which state key it names."""

    __slots__ = ("key", "op", "name")

    def __init__(self, key: str, op, name: str):
        self.key = key
        self.op = op
        self.name = name

    def __repr__(self):
        return f"ResourceHandle({self.key!r})"


def _key(op) -> str:
    name = op.attrs.get("shared_name") or op.name
    container = op.attrs.get("container") or ""
    return f"{container}/{name}" if container else name


@lowers("VarHandleOp", context=True)
def var_handle_op(ctx, op):
    return ResourceHandle(_key(op), op, op.attrs.get("shared_name") or op.name)


def _handle(value, op) -> ResourceHandle:
    if not isinstance(value, ResourceHandle):
        raise errors.InvalidArgumentError(None, op, f"{op.type} expects a resource handle (from VarHandleOp), got "
                                          f"{type(value).__name__}")
    return value


def _read(ctx, op, handle) -> jnp.ndarray:
    """The variable's value, or TF's error for a variable that holds none."""
    handle = _handle(handle, op)
    if not ctx.has(handle.key):
        raise errors.FailedPreconditionError(
            None, op, f"Could not find variable {handle.name}. This could mean that the variable has been "
            "deleted. In TF1, it can also mean the variable is uninitialized. Debug info: container=localhost, "
            f"status error message=Resource localhost/{handle.name}/N10tensorflow3VarE does not exist.")
    return ctx.read(handle.key, op)


def _check_dtype(op, value, dtype) -> None:
    if np.dtype(value.dtype) != np.dtype(dtype):
        raise errors.InvalidArgumentError(
            None, op, f"Trying to read variable with wrong dtype. Expected {_dt.cpp_name(_dt.as_dtype(value.dtype))} "
            f"got {_dt.cpp_name(_dt.as_dtype(dtype))}")


@lowers("ReadVariableOp", context=True)
def read_variable_op(ctx, op, handle):
    value = _read(ctx, op, handle)
    _check_dtype(op, value, op.attrs["dtype"].as_numpy_dtype)
    return value


@lowers("AssignVariableOp", context=True)
def assign_variable_op(ctx, op, handle, value):
    handle = _handle(handle, op)
    dtype = np.dtype(op.attrs["dtype"].as_numpy_dtype)
    value = jnp.asarray(value, dtype=dtype)
    if ctx.has(handle.key):
        old = ctx.read(handle.key, op)
        _check_dtype(op, old, dtype)
        if op.attrs.get("validate_shape", False) and jnp.shape(old) != jnp.shape(value):
            raise errors.InvalidArgumentError(
                None, op, f"Trying to assign to variable with tensor with wrong shape. Expected "
                f"{list(jnp.shape(old))} got {list(jnp.shape(value))}")
    ctx.write(handle.key, value)
    return None


def _update(sign: int):
    def rule(ctx, op, handle, value):
        old = _read(ctx, op, handle)
        _check_dtype(op, old, op.attrs["dtype"].as_numpy_dtype)
        value = jnp.asarray(value, dtype=old.dtype)
        if jnp.shape(value) != jnp.shape(old):
            raise errors.InvalidArgumentError(
                None, op, f"Cannot update variable with shape {list(jnp.shape(old))} using a Tensor with shape "
                f"{list(jnp.shape(value))}, shapes must be equal.")
        ctx.write(handle.key, old + value if sign > 0 else old - value)
        return None
    return rule


lowers("AssignAddVariableOp", context=True)(_update(+1))
lowers("AssignSubVariableOp", context=True)(_update(-1))


# A host rule: whether a variable holds a value is a fact about the session, never baked into a trace.
@lowers("VarIsInitializedOp", context=True, host=True)
def var_is_initialized_op(ctx, op, handle):
    return np.bool_(ctx.has(_handle(handle, op).key))


@lowers("VariableShape", context=True)
def variable_shape(ctx, op, handle):
    return np.asarray(jnp.shape(_read(ctx, op, handle)), dtype=op.attrs["out_type"].as_numpy_dtype)


@lowers("DisableCopyOnRead", context=True)
def disable_copy_on_read(ctx, op, handle):
    _handle(handle, op)  # checks it is a variable's handle, as TF's kernel looks the variable up
    return None


@lowers("DestroyResourceOp", context=True)
def destroy_resource_op(ctx, op, handle):
    raise NotImplementedError("DestroyResourceOp (deleting a resource variable's value from a Session) is not "
                              "implemented by graphcompat: a Session's state can only be replaced, not dropped")


def _check_indices(ctx, op, indices, limit: int) -> None:
    indices = indices if isinstance(indices, jnp.ndarray) else np.asarray(indices)

    def message():
        idx = np.asarray(indices)
        pos = np.argwhere((idx < 0) | (idx >= limit))[0]
        return f"indices[{','.join(str(int(i)) for i in pos)}] = {int(idx[tuple(pos)])} is not in [0, {limit})"
    ctx.check((indices >= 0) & (indices < limit), errors.InvalidArgumentError, message, op)


@lowers("ResourceGather", context=True)
def resource_gather(ctx, op, handle, indices):
    table = _read(ctx, op, handle)
    _check_dtype(op, table, op.attrs["dtype"].as_numpy_dtype)
    if int(op.attrs.get("batch_dims", 0)):
        raise NotImplementedError("ResourceGather with batch_dims > 0 is not implemented by graphcompat")
    _check_indices(ctx, op, indices, table.shape[0])
    # mode="clip" only shapes the code XLA emits: the check above refuses out-of-range indices.
    return jnp.take(table, jnp.asarray(indices), axis=0, mode="clip")


def _scatter_rule(update, nonzero_updates: bool = False):
    def rule(ctx, op, handle, indices, updates):
        handle = _handle(handle, op)
        var = _read(ctx, op, handle)
        n = var.shape[0]
        if nonzero_updates:
            ctx.check(jnp.all(jnp.asarray(updates) != 0), errors.InvalidArgumentError, "updates must not contain 0", op)
        _check_indices(ctx, op, indices, n)
        indices = jnp.asarray(indices)
        updates = jnp.asarray(updates, dtype=var.dtype)
        if jnp.ndim(updates) == 0:
            updates = jnp.broadcast_to(updates, jnp.shape(indices) + var.shape[1:])
        ok = ctx.all_ok()
        if ok is not None:  # a failed check anywhere in the run: every index out of range, all dropped
            indices = jnp.where(ok, indices, n)
        ctx.write(handle.key, update(var, indices, updates).astype(var.dtype), gated=ok is not None)
        return None
    return rule


for _kind, _update in SCATTER_UPDATES.items():
    # ResourceScatterDiv refuses a zero divisor before anything else (the ref op divides by it).
    lowers("ResourceScatter" + _kind, context=True)(_scatter_rule(_update, nonzero_updates=_kind == "Div"))


def _resource_scatter_nd(op_type: str):
    """Resource{ScatterNd*}: the ref op's rule (lowering/rules/segment.py; a handle carries `key` and `op`
    as a Ref does) after TF's "variable exists" check; it has no output."""
    scatter_nd = RULES[op_type].fn

    def rule(ctx, op, handle, indices, updates):
        _read(ctx, op, handle)
        scatter_nd(ctx, op, _handle(handle, op), indices, updates)
        return None
    return rule


for _op_type in ("ScatterNdUpdate", "ScatterNdAdd", "ScatterNdSub", "ScatterNdMax", "ScatterNdMin"):
    lowers("Resource" + _op_type, context=True)(_resource_scatter_nd(_op_type))


@lowers("ResourceGatherNd", context=True)
def resource_gather_nd(ctx, op, handle, indices):
    """GatherNd's rule (its index checks and texts) on the variable's value."""
    params = _read(ctx, op, handle)
    _check_dtype(op, params, op.attrs["dtype"].as_numpy_dtype)
    return RULES["GatherNd"].fn(ctx, op, params, indices)


@lowers("ResourceStridedSliceAssign", context=True)
def resource_strided_slice_assign(ctx, op, handle, begin, end, strides, value):
    from lowering.rules.array import strided_slice_update
    handle = _handle(handle, op)
    old = _read(ctx, op, handle)
    ctx.write(handle.key, strided_slice_update(old, begin, end, strides, value, op.attrs))
    return None


@lowers("ResourceCountUpTo", context=True)
def resource_count_up_to(ctx, op, handle):
    handle = _handle(handle, op)
    old = _read(ctx, op, handle)
    limit = op.attrs["limit"]
    ctx.check(old < limit, errors.OutOfRangeError, f"Reached limit of {limit}", op)
    ctx.write(handle.key, jnp.minimum(old + 1, limit).astype(old.dtype))
    return old


# ResourceApply* / ResourceSparseApply*: the Apply* rule, after TF's "variable exists" check.
def _resource_apply(op_type: str, form: str):
    apply = kernel_rule(op_type, form)

    def rule(ctx, op, *inputs):
        for h in inputs[:len(kernel_signature(op_type)[0])]:
            _read(ctx, op, h)
        apply(ctx, op, *inputs)
        return None
    return rule


for _op_type, _form in kernel_op_types():
    if _op_type != _form:
        lowers(_op_type, context=True)(_resource_apply(_op_type, _form))
