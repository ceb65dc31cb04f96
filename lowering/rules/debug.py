"""Lowerings of graphcompat/ops/debug_ops.py: refs passed on, tfdbg's watch ops as the values they watch."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.registry import lowers


@lowers("RefIdentity", context=True)
def ref_identity(ctx, op, ref):
    return ref  # the same variable reference, so a write through it writes the variable


@lowers("RefSelect", context=True)
def ref_select(ctx, op, index, *refs):
    # which variable is picked decides which state is read: a run-time index runs the plan op by op
    index = np.asarray(index)
    if index.ndim != 0:
        raise errors.InvalidArgumentError(None, op, f"Index must be a scalar, but it is a tensor with rank "
                                          f"{index.ndim}")
    i = int(index)
    if not 0 <= i < len(refs):
        raise errors.InvalidArgumentError(None, op, f"Index must be in the range [0, {len(refs)}) but got {i}")
    return refs[i]


def _no_dump(op, attr: str) -> None:
    if op.attrs.get(attr):
        raise NotImplementedError(f"{op.type} with {attr} (tfdbg writing watched tensors out) is not implemented "
                                  f"by graphcompat")


def _check_tensor_name(op) -> None:
    """TF's BaseDebugOp (DebugIdentity, DebugNanCount): `tensor_name` is `node` or `node:slot`."""
    name = op.attrs.get("tensor_name", "")
    items = name.split(":") if name else []
    if len(items) not in (1, 2):
        raise errors.InvalidArgumentError(None, op, f'Failed to parse tensor name: "{name}"')
    if len(items) == 2 and not items[1].lstrip("-").isdigit():
        raise errors.InvalidArgumentError(None, op, f'Invalid string value for output_slot: "{items[1]}"')


def _watch(attr: str):
    def rule(ctx, op, x):
        if op.type == "DebugIdentity":
            _check_tensor_name(op)
        _no_dump(op, attr)
        return ctx.deref(x)
    return rule


for _op_type, _attr in (("Copy", "debug_ops_spec"), ("CopyHost", "debug_ops_spec"), ("DebugIdentity", "debug_urls"),
                        ("DebugIdentityV2", "debug_urls"), ("DebugGradientIdentity", "debug_urls")):
    lowers(_op_type, context=True)(_watch(_attr))


@lowers("DebugNanCount", context=True)
def debug_nan_count(ctx, op, x):
    _check_tensor_name(op)
    _no_dump(op, "debug_urls")
    x = jnp.asarray(ctx.deref(x))
    if not (jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.complexfloating)):
        return jnp.int64(0)
    return jnp.sum(jnp.isnan(x)).astype(jnp.int64)


@lowers("Abort", context=True, host=True)
def abort(ctx, op):
    # TF's kernel ends the process (LOG(FATAL), or exit(0) with exit_without_error); graphcompat raises instead,
    # so the caller sees the op's message and can end the process itself.
    if op.attrs.get("exit_without_error"):
        raise SystemExit(0)
    raise errors.AbortedError(None, op, "Abort_op intentional failure; " + op.attrs.get("error_msg", ""))
