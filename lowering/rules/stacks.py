"""Lowerings of TF's stacks (graphcompat/ops/stack_ops.py): `StackV2`, `StackPushV2`, `StackPopV2`,
`StackCloseV2`.

A stack is scratch of one run, as in TF (its resource lives in the step's container): each execution of
`StackV2` makes a new `StackHandle`, the op's output value, so a failed run leaves nothing behind, the
next run starts with new, empty stacks. A stack has two forms:

- Op by op (concrete values, the loops iterating in Python), its elements are a Python list on the
  handle: pushes and pops happen in the order TF's executor runs them, elements may differ in shape
  (TF allows it), and a `StackV2` that runs twice in one run (in a loop) makes two stacks, as TF's.
- Compiled (traced), its elements are run state under the StackV2's name, as a TensorArray's
  (lowering/rules/tensor_array.py): a buffer `("Stack", name, "items")` of rows `[capacity, *element]`
  and a count `("Stack", name, "count")`. A While carries both like any state its body writes, so TF 1's
  gradient, whose forward loop pushes and whose backward loop (another While) pops, compiles. A push
  outside a loop adds a row; a While whose body pushes sizes the buffer before it runs to the rows its
  iterations can push: rows before the loop + its static trip bound x the rows one iteration adds
  (`size_stacks`, called by lowering/rules/control_flow.py `while_`), and inside it pushes write at the
  count without growing (the key is then in the context's `fixed_stacks`). A loop that pushes with no
  static bound (a TF 1 `tf.while_loop` without `maximum_iterations`) is sized for the capacity its plan's
  op-by-op runs observed (`LoopHints`, lowering/interpreter.py) and checks it after running; without
  hints it raises NotImplementedError. A stack made inside a branch or loop, elements of different shapes
  and `StackCloseV2` raise NotImplementedError while tracing: that plan runs op by op.

Errors are TF's kernels' (stack.cc), InvalidArgumentError: popping an empty stack, pushing past
`max_size`, pushing an element of another dtype than `elem_type`, using a closed stack; a pop whose
`elem_type` differs from what was pushed is TF's executor's InternalError. Compiled, the run-time ones
(empty, overflow) are checks: a failed compiled run is re-run op by op, which raises TF's text.
"""
from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from lowering.interpreter import NeedsConcreteValues
from lowering.registry import lowers

# TF's Stack::stack_counter: the number a stack's name gets, unique in the process
_ids = itertools.count()
_NOTHING = ("nothing pushed yet",)


class StackHandle:
    """One stack while a graph runs: its elements (last pushed last; op by op) or its state key (compiled),
    and the facts its ops check."""

    __slots__ = ("name", "elem_type", "max_size", "elements", "closed", "key", "same")

    def __init__(self, name: str, elem_type: np.dtype, max_size: int | None, key=None):
        self.name, self.elem_type, self.max_size = name, elem_type, max_size
        self.elements: list = []
        self.closed = False
        self.key = key  # ("Stack", StackV2 op name) when its elements are run state (traced)
        # traced: the one build-time value every push pushed (None: not one constant). TF 1's gradient
        # pushes shapes (BroadcastGradientArgs' inputs, a Reshape's shape) and pops them in the backward
        # loop as shapes: static under jit, so they stay static through the stack
        self.same = _NOTHING

    def __repr__(self):
        return f"StackHandle({self.name!r}, {len(self.elements)} elements)"


def items_key(key) -> tuple:
    return key + ("items",)


def count_key(key) -> tuple:
    return key + ("count",)


def is_stack_items(key) -> bool:
    return isinstance(key, tuple) and len(key) == 3 and key[0] == "Stack" and key[2] == "items"


def _unsized(items) -> bool:
    # a zero-length vector marks "nothing pushed yet": the first push fixes the element shape
    return jnp.ndim(items) == 1 and jnp.shape(items)[0] == 0


def with_rows(items, rows: int, element: tuple, dtype) -> jax.Array:
    """`items` with `rows` rows of `element` shape (the elements it holds kept, new rows zeros)."""
    if _unsized(items):
        return jnp.zeros((rows,) + tuple(element), dtype)
    have = jnp.shape(items)[0]
    if have >= rows:
        return items
    return jnp.concatenate([items, jnp.zeros((rows - have,) + tuple(jnp.shape(items)[1:]), items.dtype)])


def size_stacks(ctx, before: dict, after: dict, bound: int | None, op) -> dict:
    """The buffers a While's stacks need before it runs: `before` maps the stack buffers its body writes to
    their values before the loop, `after` to their avals after one traced iteration (whose pushes added a
    row each). Returns the buffers padded to rows before + bound x rows per iteration; `bound` is the loop's
    static trip bound or the capacity its plan's LoopHints give it (None: neither, which raises)."""
    sized = {}
    for key, value in before.items():
        aval = after[key]
        rows0 = 0 if _unsized(value) else jnp.shape(value)[0]
        growth = aval.shape[0] - rows0 if len(aval.shape) else 0
        if growth <= 0:
            continue
        if bound is None:
            raise NotImplementedError(
                f"tf.while_loop '{op.name}': its body pushes on the stack of '{key[1]}' and the loop's trip count "
                "has no static bound (a TF 1 tf.while_loop without maximum_iterations): graphcompat compiles a "
                "stack with a fixed number of rows, so the loop runs op by op")
        sized[key] = with_rows(value, rows0 + bound * growth, tuple(aval.shape[1:]), aval.dtype)
    return sized


def _stack(value, op, closed_ok: bool = False) -> StackHandle:
    if not isinstance(value, StackHandle):
        raise errors.InvalidArgumentError(None, op, f"{op.type} expects a stack handle (a StackV2's output), got "
                                                    f"{type(value).__name__}")
    if value.closed and not closed_ok:
        raise errors.InvalidArgumentError(None, op, f"Stack[{value.name}] has already been closed.")
    return value


def _shape_text(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _traced(ctx, *values) -> bool:
    return ctx.traced or any(isinstance(v, jax.core.Tracer) for v in values)


@lowers("StackV2", context=True)
def stack_v2(ctx, op, max_size):
    if isinstance(max_size, jax.core.Tracer):
        raise NeedsConcreteValues(f"StackV2 '{op.name}': its max_size must be known to make the stack")
    size = np.asarray(max_size)
    if size.ndim != 0:
        raise errors.InvalidArgumentError(None, op, f"Stack size must be a scalar, but had shape: "
                                                    f"{_shape_text(size.shape)}")
    # a negative max_size means no limit (TF: INT32_MAX)
    limit = int(size) if int(size) >= 0 else None
    name = f"{op.attrs.get('stack_name') or op.name}_{next(_ids)}"
    elem_type = np.dtype(op.attrs["elem_type"].as_numpy_dtype)
    if not ctx.traced:
        return StackHandle(name, elem_type, limit)
    from lowering.rules.control_flow import SubContext
    if isinstance(ctx, SubContext):
        # one state key per StackV2: the stacks of a loop's iterations (or a branch's) would share it
        raise NotImplementedError(f"StackV2 '{op.name}' inside a branch or loop body: each run of it makes a "
                                  "new stack, which graphcompat keeps only op by op")
    handle = StackHandle(name, elem_type, limit, key=("Stack", op.name))
    ctx.write(items_key(handle.key), jnp.zeros((0,), elem_type), gated=True)  # scratch: nothing to roll back
    ctx.write(count_key(handle.key), jnp.zeros((), jnp.int32), gated=True)
    return handle


def _check_push_type(op, stack: StackHandle) -> None:
    pushed = _dt.as_dtype(op.attrs["T"])
    if np.dtype(pushed.as_numpy_dtype) != stack.elem_type:
        # TF's kernel prints both DataType enums as numbers
        raise errors.InvalidArgumentError(None, op, f"Must have type {_dt.as_dtype(stack.elem_type).as_datatype_enum} "
                                                    f"but got {pushed.as_datatype_enum}")


def _check_pop_type(op, stack: StackHandle) -> None:
    want = _dt.as_dtype(op.attrs["elem_type"])
    if np.dtype(want.as_numpy_dtype) != stack.elem_type:
        # the kernel hands out what was pushed; TF's executor then rejects the output's dtype
        raise errors.InternalError(None, op, f"Output 0 of type {_dt.cpp_name(_dt.as_dtype(stack.elem_type))} does "
                                             f"not match declared output type {_dt.cpp_name(want)} for node "
                                             f"{{{{node {op.name}}}}}")


def _state_stack(stack: StackHandle, op) -> StackHandle:
    if stack.key is None:  # a handle made op by op, reached by an abstract trace (_record): nothing to trace
        raise NotImplementedError(f"{op.type} '{op.name}': its stack was made op by op")
    return stack


@lowers("StackPushV2", context=True)
def stack_push_v2(ctx, op, handle, elem):
    stack = _stack(handle, op)
    _check_push_type(op, stack)
    elem = ctx.deref(elem)  # a variable's value at the push, not a reference to it
    if not _traced(ctx, elem):
        if stack.max_size is not None and len(stack.elements) >= stack.max_size:
            raise errors.InvalidArgumentError(None, op, f"Stack[{stack.name}] overflowed its max_size "
                                                        f"({stack.max_size})")
        stack.elements.append(elem)
        return elem
    key = _state_stack(stack, op).key
    items, count = ctx.read(items_key(key)), ctx.read(count_key(key))
    element = tuple(jnp.shape(elem))
    if not _unsized(items) and tuple(jnp.shape(items)[1:]) != element:
        raise NotImplementedError(f"StackPushV2 '{op.name}' pushes an element of shape {element} on a stack of "
                                  f"{tuple(jnp.shape(items)[1:])} elements: graphcompat keeps the elements of one "
                                  "stack in one array when it compiles, so this plan runs op by op")
    if items_key(key) not in getattr(ctx, "fixed_stacks", ()):
        # outside a loop that sized it: one more row, so the buffer always has a row for the count
        items = with_rows(items, (0 if _unsized(items) else jnp.shape(items)[0]) + 1, element, stack.elem_type)
    if stack.max_size is not None:
        ctx.check(count < stack.max_size, errors.InvalidArgumentError,
                  f"Stack[{stack.name}] overflowed its max_size ({stack.max_size})", op)
    if isinstance(elem, jax.core.Tracer):
        stack.same = None
    elif stack.same is _NOTHING:
        stack.same = np.asarray(elem)
    elif stack.same is not None and not (np.shape(elem) == np.shape(stack.same)
                                         and np.array_equal(np.asarray(elem), stack.same)):
        stack.same = None
    rows = jnp.shape(items)[0]
    row = jnp.clip(count, 0, rows - 1)
    items = jax.lax.dynamic_update_index_in_dim(items, jnp.asarray(elem, items.dtype), row, 0)
    ctx.write(items_key(key), items, gated=True)
    ctx.write(count_key(key), jnp.minimum(count + 1, rows).astype(jnp.int32), gated=True)
    return elem


@lowers("StackPopV2", context=True)
def stack_pop_v2(ctx, op, handle):
    stack = _stack(handle, op)
    if not ctx.traced and stack.key is None:
        if not stack.elements:
            raise errors.InvalidArgumentError(None, op, f"Stack[{stack.name}] is empty when calling Pop().")
        _check_pop_type(op, stack)
        return stack.elements.pop()
    key = _state_stack(stack, op).key
    _check_pop_type(op, stack)
    items, count = ctx.read(items_key(key)), ctx.read(count_key(key))
    if _unsized(items):  # nothing was ever pushed in this trace: op by op raises TF's error
        raise NotImplementedError(f"StackPopV2 '{op.name}' pops a stack nothing pushed on")
    ctx.check(count > 0, errors.InvalidArgumentError, f"Stack[{stack.name}] is empty when calling Pop().", op)
    row = jnp.maximum(count - 1, 0)
    ctx.write(count_key(key), row.astype(jnp.int32), gated=True)
    if stack.same is not None and stack.same is not _NOTHING:
        return stack.same.astype(stack.elem_type)  # every element is this constant
    return jax.lax.dynamic_index_in_dim(items, row, 0, keepdims=False)


@lowers("StackCloseV2", context=True)
def stack_close_v2(ctx, op, handle):
    stack = _stack(handle, op, closed_ok=True)  # TF's Close does not check: closing twice is fine
    if stack.key is not None:
        raise NotImplementedError(f"StackCloseV2 '{op.name}': graphcompat closes stacks only op by op")
    stack.elements.clear()
    stack.closed = True
    return None
