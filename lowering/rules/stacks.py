"""Lowerings of TF's stacks (graphcompat/ops/stack_ops.py): `StackV2`, `StackPushV2`, `StackPopV2`,
`StackCloseV2`.

A stack is scratch of one run, as in TF (its resource lives in the step's container): each execution of
`StackV2` makes a new `StackHandle`, the op's output value, and the elements live on that handle, not in
the Session's state. So a failed run leaves nothing behind, the next run starts with new, empty stacks,
and a `StackV2` that runs twice in one run (in a loop) makes two stacks, as TF's does.

A stack grows while a loop runs, so it cannot be a fixed-shape carry of a compiled loop: the rules are
host rules. A plan (and a `While` whose body) holding one runs op by op, the loop iterating in Python
(lowering/rules/control_flow.py), where pushes and pops happen in the order TF's executor runs them.

Errors are TF's kernels' (stack.cc), InvalidArgumentError: popping an empty stack, pushing past
`max_size`, pushing an element of another dtype than `elem_type`, using a closed stack; a pop whose
`elem_type` differs from what was pushed is TF's executor's InternalError.
"""
from __future__ import annotations

import itertools

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from lowering.registry import lowers

# TF's Stack::stack_counter: the number a stack's name gets, unique in the process
_ids = itertools.count()


class StackHandle:
    """One stack while a graph runs: its elements (last pushed last) and the facts its ops check."""

    __slots__ = ("name", "elem_type", "max_size", "elements", "closed")

    def __init__(self, name: str, elem_type: np.dtype, max_size: int):
        self.name, self.elem_type, self.max_size = name, elem_type, max_size
        self.elements: list = []
        self.closed = False

    def __repr__(self):
        return f"StackHandle({self.name!r}, {len(self.elements)} elements)"


def _stack(value, op, closed_ok: bool = False) -> StackHandle:
    if not isinstance(value, StackHandle):
        raise errors.InvalidArgumentError(None, op, f"{op.type} expects a stack handle (a StackV2's output), got "
                                                    f"{type(value).__name__}")
    if value.closed and not closed_ok:
        raise errors.InvalidArgumentError(None, op, f"Stack[{value.name}] has already been closed.")
    return value


def _shape_text(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


@lowers("StackV2", context=True, host=True)
def stack_v2(ctx, op, max_size):
    size = np.asarray(max_size)
    if size.ndim != 0:
        raise errors.InvalidArgumentError(None, op, f"Stack size must be a scalar, but had shape: "
                                                    f"{_shape_text(size.shape)}")
    # a negative max_size means no limit (TF: INT32_MAX)
    limit = int(size) if int(size) >= 0 else None
    name = f"{op.attrs.get('stack_name') or op.name}_{next(_ids)}"
    return StackHandle(name, np.dtype(op.attrs["elem_type"].as_numpy_dtype), limit)


@lowers("StackPushV2", context=True, host=True)
def stack_push_v2(ctx, op, handle, elem):
    stack = _stack(handle, op)
    pushed = _dt.as_dtype(op.attrs["T"])
    if np.dtype(pushed.as_numpy_dtype) != stack.elem_type:
        # TF's kernel prints both DataType enums as numbers
        raise errors.InvalidArgumentError(None, op, f"Must have type {_dt.as_dtype(stack.elem_type).as_datatype_enum} "
                                                    f"but got {pushed.as_datatype_enum}")
    if stack.max_size is not None and len(stack.elements) >= stack.max_size:
        raise errors.InvalidArgumentError(None, op, f"Stack[{stack.name}] overflowed its max_size ({stack.max_size})")
    elem = ctx.deref(elem)  # a variable's value at the push, not a reference to it
    stack.elements.append(elem)
    return elem


@lowers("StackPopV2", context=True, host=True)
def stack_pop_v2(ctx, op, handle):
    stack = _stack(handle, op)
    if not stack.elements:
        raise errors.InvalidArgumentError(None, op, f"Stack[{stack.name}] is empty when calling Pop().")
    want = _dt.as_dtype(op.attrs["elem_type"])
    if np.dtype(want.as_numpy_dtype) != stack.elem_type:
        # the kernel hands out what was pushed; TF's executor then rejects the output's dtype
        raise errors.InternalError(None, op, f"Output 0 of type {_dt.cpp_name(_dt.as_dtype(stack.elem_type))} does "
                                             f"not match declared output type {_dt.cpp_name(want)} for node "
                                             f"{{{{node {op.name}}}}}")
    return stack.elements.pop()


@lowers("StackCloseV2", context=True, host=True)
def stack_close_v2(ctx, op, handle):
    stack = _stack(handle, op, closed_ok=True)  # TF's Close does not check: closing twice is fine
    stack.elements.clear()
    stack.closed = True
    return None
