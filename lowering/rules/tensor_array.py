"""Lowerings of the TensorArray ops (graphcompat/ops/tensor_array_ops.py).

A TensorArray's elements are one run-state buffer `[size, *element_shape]` under the key
`("TensorArray", op name)`: `TensorArrayV3` starts it each run (zeros when the element shape is known,
else an empty placeholder that the first write sizes), writes update it, reads index it. The flow tensor
only orders the ops. Keeping the buffer as state is what lets a `While` carry it (the loop lowering
threads every state key its body writes, sizing a buffer its first iteration allocates) and lets
`jax.vjp` differentiate through writes and reads: the gradient's re-trace writes into its own scope.

`true_size` (a padded run, lowering/padding.py): the array's size is padded; indices are checked against
its true size.

As in TF: out-of-range indices, a wrong dtype, an element of another shape, reading from an array whose
element shape nothing has fixed raise InvalidArgumentError; unwritten elements read as zeros once the
element shape is known. TF 1's arrays are write-once: a second write to an index (a write, scatter, unstack
or split) is TF's "already been written to" error. Which elements were written is run state of its own
(`written_key`, a bool per element, started by `TensorArrayV3` and carried by loops like the buffer); the
check is a run-time check, so a compiled step stays compiled (a failed run re-runs op by op for TF's text).
Reads are tracked the same way (`read_key`, TF's `read` flags, set by a read, gather, stack or concat of an
element, written or not): writing an element that was read is TF's "already been read" error (whatever
`clear_after_read`), and with `clear_after_read` (TF's default) a read clears the element, so reading it
again (a gather's repeated index included) is TF's "Could not read index ... twice" error.

TF 1's gradients of TensorArray ops (GraphDefs TF wrote) use `TensorArrayGradV3`: the gradient array of
a forward array and a `source`, made by its first call in a run and the same array on later calls (a
backward loop's iterations); it starts at zeros and its writes add up, as TF's gradient arrays'.
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

_ids = itertools.count()


class TensorArrayHandle:
    """A TensorArray's handle while a graph runs: its state key and the facts its ops check."""

    __slots__ = ("key", "name", "size", "dtype", "dynamic", "element_shape", "aggregate", "grads", "written_by",
                 "clear_after_read", "read_by")

    def __init__(self, key, name: str, size: int, dtype: np.dtype, dynamic: bool, element_shape,
                 aggregate: bool = False, clear_after_read: bool = True):
        self.key, self.name, self.size, self.dtype = key, name, size, dtype
        self.dynamic, self.element_shape = dynamic, element_shape
        self.aggregate = aggregate  # a gradient array: writes to one index add up (TF's multiple_writes_aggregate)
        # TensorArrayGradV3's arrays of this run, by source: a handle is made anew by each run (and trace)
        # of its TensorArrayV3, so a gradient array starts at zero in every run
        self.grads: dict = {}
        # the write ops the step's forward pass ran on this array (not a gradient's re-trace of them)
        self.written_by: set = set()
        # a read clears the element: a second read fails (TF's TensorArray attr clear_after_read)
        self.clear_after_read = clear_after_read
        # the read ops the step's forward pass ran on this array (not a gradient's re-trace of them)
        self.read_by: set = set()

    def __repr__(self):
        return f"TensorArrayHandle({self.name!r})"


def _handle(value, op) -> TensorArrayHandle:
    if not isinstance(value, TensorArrayHandle):
        raise errors.InvalidArgumentError(None, op, f"{op.type} expects a TensorArray handle, got "
                                          f"{type(value).__name__}")
    return value


def _concrete_int(value, op, what: str) -> int:
    try:
        return int(np.asarray(value))
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerIntegerConversionError,
            jax.errors.TracerArrayConversionError) as err:
        raise NeedsConcreteValues(f"{op.type} '{op.name}': its {what} must be known to size the TensorArray") \
            from err


def _shape_text(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def written_key(handle: TensorArrayHandle) -> tuple:
    """The state key of the array's written mask (bool per element): TF's TensorAndState `written` flags."""
    return handle.key + ("written",)


def read_key(handle: TensorArrayHandle) -> tuple:
    """The state key of the array's read mask (bool per element): TF's TensorAndState `read` flags, which
    are its `cleared` flags too when the array clears after a read."""
    return handle.key + ("read",)


def _replaying(ctx) -> bool:
    """Whether `ctx` is (inside) a gradient's re-trace of the forward pass (gradients.py `_ReTraceContext`).

    The re-trace writes the elements the step's forward pass wrote once more; its state reads see the mask
    the step left (every written element marked), and the forward pass has checked those writes already, so
    a re-traced write that the step ran neither checks nor marks. One the step did not run (only the
    gradient was fetched: the forward ops were pruned) finds the mask as it was and checks it."""
    from lowering.rules.gradients import _ReTraceContext
    while ctx is not None:
        if isinstance(ctx, _ReTraceContext):
            return True
        ctx = vars(ctx).get("parent")  # a loop body's or branch's SubContext
    return False


def _replayed(ctx, op, ran: set) -> bool:
    """Whether `op` runs here as a gradient's re-trace of an op the step's forward pass ran (`ran`: the
    handle's written_by or read_by), which checked and marked its elements already; a forward run of `op`
    is recorded in `ran`."""
    if _replaying(ctx):
        return op in ran
    ran.add(op)
    return False


@lowers("TensorArrayV3", context=True)
def tensor_array_v3(ctx, op, size):
    n = _concrete_int(size, op, "size")
    if n < 0:
        raise errors.InvalidArgumentError(None, op, f"Size should be >= 0, got: {n}")
    dtype = np.dtype(op.attrs["dtype"].as_numpy_dtype)
    element = op.attrs["element_shape"].as_tuple_or_none()
    known = element is not None and all(d is not None for d in element)
    name = op.attrs.get("tensor_array_name") or f"{op.name}_{next(_ids)}"
    handle = TensorArrayHandle(("TensorArray", op.name), name, n, dtype, bool(op.attrs["dynamic_size"]),
                               tuple(element) if known else None,
                               clear_after_read=bool(op.attrs.get("clear_after_read", True)))
    buffer = jnp.zeros((n,) + tuple(element), dtype) if known else _unsized(dtype)
    ctx.write(handle.key, buffer, gated=True, scratch=True)  # this run's only: nothing to roll back or keep
    ctx.write(written_key(handle), jnp.zeros((n,), jnp.bool_), gated=True, scratch=True)
    ctx.write(read_key(handle), jnp.zeros((n,), jnp.bool_), gated=True, scratch=True)
    return handle, np.float32(0.0)


def _unsized(dtype):
    # A zero-length vector marks "no element shape yet"; the array's size lives in the handle.
    return jnp.zeros((0,), dtype)


def _is_unsized(handle: TensorArrayHandle, buffer) -> bool:
    return handle.element_shape is None and jnp.shape(buffer) == (0,) and (handle.size > 0 or handle.dynamic)


def _buffer_for(ctx, op, handle: TensorArrayHandle, element_shape: tuple, index_hint=None):
    """The array's buffer, sized on the first write of an element of `element_shape`."""
    buffer = ctx.read(handle.key)
    if _is_unsized(handle, buffer) and element_shape != ():
        return jnp.zeros((handle.size,) + element_shape, handle.dtype)
    if _is_unsized(handle, buffer):
        return jnp.zeros((handle.size,), handle.dtype)
    have = tuple(jnp.shape(buffer)[1:])
    if have != tuple(element_shape):
        where = f"index {index_hint}" if index_hint is not None else "its elements"
        raise errors.InvalidArgumentError(
            None, op, f"TensorArray {handle.name}: Could not write to TensorArray {where} because the value shape "
            f"is {_shape_text(element_shape)} which is incompatible with the TensorArray's inferred element shape: "
            f"{_shape_text(have)} (consider setting infer_shape=False).")
    return buffer


def _check_dtype(op, handle: TensorArrayHandle, value) -> None:
    got = np.dtype(jnp.result_type(value))
    if got != handle.dtype:
        raise errors.InvalidArgumentError(
            None, op, f"TensorArray dtype is {_dt.cpp_name(_dt.as_dtype(handle.dtype))} but Op is trying to write "
            f"dtype {_dt.cpp_name(_dt.as_dtype(got))}.")


def _grow(op, handle: TensorArrayHandle, buffer, indices):
    """A dynamic_size array grows to hold the largest index (indices must be known: op by op)."""
    top = max([_concrete_int(i, op, "index") for i in np.ravel(np.asarray(indices))] + [-1]) + 1
    if top > buffer.shape[0]:
        buffer = jnp.concatenate([buffer, jnp.zeros((top - buffer.shape[0],) + buffer.shape[1:], buffer.dtype)])
    return buffer


def _check_indices(ctx, op, indices, n, message) -> None:
    """TF's range check of a read's or write's indices; `message(bad index)` is TF's text."""
    indices = jnp.asarray(indices)
    ok = jnp.all((indices >= 0) & (indices < n))

    def text():
        flat = np.ravel(np.asarray(indices))
        return message(int(next(i for i in flat if i < 0 or i >= n)))
    ctx.check(ok, errors.InvalidArgumentError, text, op)


def _check_write_indices(ctx, op, handle, indices, n) -> None:
    _check_indices(ctx, op, indices, n, lambda bad: f"TensorArray {handle.name}: Tried to write to index {bad} "
                                                    f"but array is not resizeable and size is: {n}")


def _check_read_indices(ctx, op, handle, indices, n) -> None:
    _check_indices(ctx, op, indices, n, lambda bad: f"Tried to read from index {bad} but array size is: {n}")


def _mask(ctx, key, n: int):
    """An element mask of the run's state, grown to `n` elements (a dynamic_size array grew)."""
    mask = ctx.read(key)
    if jnp.shape(mask)[0] < n:
        mask = jnp.concatenate([mask, jnp.zeros((n - jnp.shape(mask)[0],), jnp.bool_)])
    return mask


def _check_write_once(ctx, op, handle: TensorArrayHandle, indices, n: int) -> None:
    """TF's TensorArray::WriteOrAggregate: an element that was read cannot be written, and an element is
    written once (`indices` in order: a scatter's repeated index fails at its second occurrence) unless the
    array aggregates (a gradient array: writes add up, no written mask); the mask of written elements is
    updated."""
    once = not handle.aggregate
    key = written_key(handle)
    mask = _mask(ctx, key, n) if once else jnp.zeros((n,), jnp.bool_)
    read = _mask(ctx, read_key(handle), n)
    if not n or not jnp.size(indices):
        if once:
            ctx.write(key, mask, gated=True)
        return
    safe = jnp.clip(jnp.asarray(indices), 0, n - 1)
    if jnp.ndim(safe) == 0:  # a loop's per-step write: no scatter to trace
        ok = jnp.logical_not(jax.lax.dynamic_index_in_dim(mask | read, safe, 0, keepdims=False))
        updated = jax.lax.dynamic_update_index_in_dim(mask, jnp.asarray(True), safe, 0)
    else:
        ok = jnp.logical_not(jnp.any(read[jnp.ravel(safe)]))
        if once:
            ok = ok & jnp.all(mask.astype(jnp.int32).at[jnp.ravel(safe)].add(1) <= 1)
        updated = mask.at[jnp.ravel(safe)].set(True)

    def text():
        seen = set(np.flatnonzero(np.asarray(mask)).tolist())
        was_read = set(np.flatnonzero(np.asarray(read)).tolist())
        for i in np.ravel(np.asarray(indices)).tolist():
            if i in was_read:  # TF checks this first
                return (f"TensorArray {handle.name}: Could not write to TensorArray index {i} because it has "
                        "already been read.")
            if i in seen and once:
                return (f"TensorArray {handle.name}: Could not write to TensorArray index {i} because it has "
                        "already been written to.")
            seen.add(i)
        return f"TensorArray {handle.name}: Could not write to TensorArray"  # not reached: ok was false
    ctx.check(ok, errors.InvalidArgumentError, text, op)
    if once:
        ctx.write(key, updated, gated=True)


def _mark_read(ctx, op, handle: TensorArrayHandle, indices, n: int, real=None) -> None:
    """TF's TensorArray::LockedRead of each of `indices` (in order): the element is marked read, and with
    clear_after_read an element read before (or earlier in the same gather) fails TF's "twice" check.
    `real`: a padded run's stack() (lowering/padding.py "edge_gather") reads its first `real` indices; the
    rest are padded slots, edge copies of the last real element that TF never reads.
    A gradient's re-trace of a read the step ran neither checks nor marks (the mask it sees is the one the
    step left, with that read's own elements marked), as for writes (`_replaying`)."""
    if _replayed(ctx, op, handle.read_by):
        return
    key = read_key(handle)
    mask = _mask(ctx, key, n)
    if not n or not jnp.size(indices):
        ctx.write(key, mask, gated=True)
        return
    safe = jnp.clip(jnp.asarray(indices), 0, n - 1)
    if jnp.ndim(safe) == 0:  # a loop's per-step read: no scatter to trace
        ok = jnp.logical_not(jax.lax.dynamic_index_in_dim(mask, safe, 0, keepdims=False))
        updated = jax.lax.dynamic_update_index_in_dim(mask, jnp.asarray(True), safe, 0)
    else:
        flat = jnp.ravel(safe)
        reads = jnp.ones(flat.shape, jnp.int32) if real is None else \
            (jnp.arange(flat.shape[0]) < real).astype(jnp.int32)
        ok = jnp.all(mask.astype(jnp.int32).at[flat].add(reads) <= 1)
        updated = mask.at[flat].max(reads.astype(jnp.bool_))
    if handle.clear_after_read:
        def text():
            seen = set(np.flatnonzero(np.asarray(mask)).tolist())
            flat = np.ravel(np.asarray(indices))
            for i in (flat if real is None else flat[:int(real)]).tolist():
                if i in seen:
                    return (f"TensorArray {handle.name}: Could not read index {i} twice because it was cleared "
                            "after a previous read (perhaps try setting clear_after_read = false?).")
                seen.add(i)
            return f"TensorArray {handle.name}: Could not read index"  # not reached: ok was false
        ctx.check(ok, errors.InvalidArgumentError, text, op)
    ctx.write(key, updated, gated=True)


def _write(ctx, op, handle, indices, values, element_shape, index_hint=None, true_size=None, scatter=False):
    handle = _handle(handle, op)
    _check_dtype(op, handle, values)
    buffer = _buffer_for(ctx, op, handle, element_shape, index_hint)
    if handle.dynamic:
        buffer = _grow(op, handle, buffer, indices)
    n = buffer.shape[0]
    if scatter and not handle.dynamic and jnp.size(indices):
        # TF's TensorArrayScatterOp checks the largest index first, with its own text
        limit = n if true_size is None else true_size
        top = jnp.max(jnp.asarray(indices))
        ctx.check(top < limit, errors.InvalidArgumentError,
                  lambda: f"Max scatter index must be < array size ({int(top)} vs. {int(limit)})", op)
    _check_write_indices(ctx, op, handle, indices, n if true_size is None else true_size)
    if not _replayed(ctx, op, handle.written_by):
        _check_write_once(ctx, op, handle, indices, n)
    safe = jnp.clip(jnp.asarray(indices), 0, max(n - 1, 0))
    if not n:
        updated = buffer
    elif jnp.ndim(safe) == 0:
        # one element (a loop's per-step write): a dynamic_update_slice, whose derivative is cheap to
        # trace inside a differentiated loop, unlike a scatter's
        values = jnp.asarray(values, buffer.dtype)
        if handle.aggregate:
            values = values + jax.lax.dynamic_index_in_dim(buffer, safe, 0, keepdims=False)
        updated = jax.lax.dynamic_update_index_in_dim(buffer, values, safe, 0)
    elif handle.aggregate:
        updated = buffer.at[safe].add(values)
    else:
        updated = buffer.at[safe].set(values)
    ctx.write(handle.key, updated, gated=True)


@lowers("TensorArrayWriteV3", context=True)
def tensor_array_write_v3(ctx, op, handle, index, value, flow_in, true_size=None):
    hint = None if isinstance(index, jax.core.Tracer) else int(np.asarray(index))
    _write(ctx, op, handle, index, value, tuple(jnp.shape(value)), hint, true_size)
    return flow_in


@lowers("TensorArrayScatterV3", context=True)
def tensor_array_scatter_v3(ctx, op, handle, indices, value, flow_in, true_size=None):
    if jnp.ndim(indices) != 1 or jnp.ndim(value) < 1 or jnp.shape(indices)[0] != jnp.shape(value)[0]:
        raise errors.InvalidArgumentError(
            None, op, f"Expected len(indices) == values.shape[0], but saw: {jnp.size(indices)} vs. "
            f"{jnp.shape(value)[0] if jnp.ndim(value) else 0}")
    _write(ctx, op, handle, indices, value, tuple(jnp.shape(value)[1:]), true_size=true_size, scatter=True)
    return flow_in


def _readable(ctx, op, handle: TensorArrayHandle, index_text: str):
    buffer = ctx.read(handle.key)
    if _is_unsized(handle, buffer):
        raise errors.InvalidArgumentError(
            None, op, f"TensorArray {handle.name}: Could not read from TensorArray index {index_text}.  Furthermore, "
            "the element shape is not fully defined: <unknown>.  It is possible you are working with a resizeable "
            "TensorArray and stop_gradients is not allowing the gradients to be written.  If you set the full "
            "element_shape property on the forward TensorArray, the proper all-zeros tensor will be returned "
            "instead of incurring this error.")
    want = np.dtype(op.attrs["dtype"].as_numpy_dtype)
    if want != handle.dtype:
        raise errors.InvalidArgumentError(
            None, op, f"TensorArray dtype is {_dt.cpp_name(_dt.as_dtype(handle.dtype))} but Op requested dtype "
            f"{_dt.cpp_name(_dt.as_dtype(want))}.")
    return buffer


def _index_text(index) -> str:
    return "?" if isinstance(index, jax.core.Tracer) else str(int(np.ravel(np.asarray(index))[0])) \
        if np.size(np.asarray(index)) else "0"


@lowers("TensorArrayReadV3", context=True)
def tensor_array_read_v3(ctx, op, handle, index, flow_in, true_size=None):
    handle = _handle(handle, op)
    buffer = _readable(ctx, op, handle, _index_text(index))
    n = buffer.shape[0]
    _check_read_indices(ctx, op, handle, index, n if true_size is None else true_size)
    _mark_read(ctx, op, handle, index, n)
    if not n:
        return jnp.zeros(buffer.shape[1:], buffer.dtype)
    return jax.lax.dynamic_index_in_dim(buffer, jnp.clip(jnp.asarray(index), 0, n - 1), 0, keepdims=False)


@lowers("TensorArrayGatherV3", context=True)
def tensor_array_gather_v3(ctx, op, handle, indices, flow_in, true_size=None, real=None):
    handle = _handle(handle, op)
    if jnp.size(indices) == 0:
        element = op.attrs["element_shape"].as_tuple_or_none()
        if element is None or any(d is None for d in element):
            buffer = _readable(ctx, op, handle, "0")
            element = tuple(buffer.shape[1:])
        return jnp.zeros((0,) + tuple(element), handle.dtype)
    buffer = _readable(ctx, op, handle, _index_text(indices))
    n = buffer.shape[0]
    _check_read_indices(ctx, op, handle, indices, n if true_size is None else true_size)
    _mark_read(ctx, op, handle, indices, n, real)
    return buffer[jnp.clip(jnp.asarray(indices), 0, max(n - 1, 0))]


@lowers("TensorArraySizeV3", context=True)
def tensor_array_size_v3(ctx, op, handle, flow_in):
    handle = _handle(handle, op)
    buffer = ctx.read(handle.key)
    if _is_unsized(handle, buffer):
        return np.int32(handle.size)
    return np.int32(buffer.shape[0])


@lowers("TensorArrayConcatV3", context=True)
def tensor_array_concat_v3(ctx, op, handle, flow_in):
    handle = _handle(handle, op)
    buffer = _readable(ctx, op, handle, "0")
    n = buffer.shape[0]
    if buffer.ndim < 2:
        raise errors.InvalidArgumentError(
            None, op, "Concat saw a scalar shape at index 0 but requires at least vectors.  Did you mean to call "
            "TensorArray::Pack?")
    _mark_read(ctx, op, handle, np.arange(n, dtype=np.int32), n)  # TF's concat reads every element in order
    value = buffer.reshape((n * buffer.shape[1],) + buffer.shape[2:])
    return value, jnp.full((n,), buffer.shape[1], jnp.int64)


@lowers("TensorArraySplitV3", context=True)
def tensor_array_split_v3(ctx, op, handle, value, lengths, flow_in):
    handle = _handle(handle, op)
    try:
        lengths = np.asarray(lengths).astype(np.int64)
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError) as err:
        raise NeedsConcreteValues(f"{op.type} '{op.name}': split lengths must be known") from err
    rows = jnp.shape(value)[0] if jnp.ndim(value) else 0
    if jnp.ndim(value) < 1:
        raise errors.InvalidArgumentError(None, op, f"Expected value to be at least a vector, but received shape: "
                                                    f"{_shape_text(jnp.shape(value))}")
    if int(lengths.sum()) != rows:
        raise errors.InvalidArgumentError(
            None, op, f"Expected sum of lengths to be equal to values.shape[0], but sum of lengths is "
            f"{int(lengths.sum())} and value's shape is: {_shape_text(jnp.shape(value))}")
    if not handle.dynamic and len(lengths) > handle.size:
        raise errors.InvalidArgumentError(
            None, op, f"TensorArray's size is not equal to the size of lengths ({len(lengths)} vs. {handle.size}), "
            "and the TensorArray is not marked as dynamically resizeable")
    if len(lengths) and lengths.min() != lengths.max():
        raise NotImplementedError("tf.TensorArray.split into pieces of different lengths: graphcompat keeps a "
                                  "TensorArray's elements in one buffer of identical element shapes")
    k = int(lengths[0]) if len(lengths) else 0
    pieces = jnp.reshape(value, (len(lengths), k) + tuple(jnp.shape(value)[1:]))
    _write(ctx, op, handle, np.arange(len(lengths), dtype=np.int32), pieces, tuple(pieces.shape[1:]))
    return flow_in


@lowers("TensorArrayGradV3", context=True)
def tensor_array_grad_v3(ctx, op, handle, flow_in, prepend: tuple = ()):
    """TF 1's gradient of TensorArray ops: the array of gradients of `handle`'s elements for `source`, made
    by its first call in a run (zeros, the forward array's size and element shape, writes that add up)
    and the same array on every later call in the run (one per backward loop iteration). `prepend`:
    TensorArrayGradWithShape's shape_to_prepend, dimensions put before the forward element shape."""
    handle = _handle(handle, op)
    source = op.attrs.get("source", "")
    grad = handle.grads.get(source)
    if grad is None:
        buffer = ctx.read(handle.key)
        unsized = _is_unsized(handle, buffer)
        size = handle.size if unsized else int(buffer.shape[0])
        element = handle.element_shape if unsized else tuple(buffer.shape[1:])
        if prepend:
            element = None if element is None else tuple(prepend) + tuple(element)
        grad = TensorArrayHandle(handle.key + ("grad", source), f"{handle.name}@{source}", size, handle.dtype,
                                 False, element, aggregate=True)
        with jax.ensure_compile_time_eval():  # a concrete array even inside a loop body's trace
            start = jnp.zeros((0,) if element is None else (size,) + tuple(element), handle.dtype)
        # scratch of this run, like the forward array's buffer. Made by a backward loop's body, it still
        # lives for the run: started in the outermost context (a constant, so no trace leaks out), which
        # every later iteration and trace of the loop reads through and the loop carries
        outermost = ctx
        while getattr(outermost, "parent", None) is not None:
            outermost = outermost.parent
        outermost.write(grad.key, start, gated=True)
        # TF's gradient arrays clear after a read too (TensorArrayGradOp): the read mask, no written mask
        with jax.ensure_compile_time_eval():
            outermost.write(read_key(grad), jnp.zeros((size,), jnp.bool_), gated=True)
        handle.grads[source] = grad
    return grad, flow_in


@lowers("TensorArrayCloseV3", context=True)
def tensor_array_close_v3(ctx, op, handle):
    _handle(handle, op)
    return None


# ------------------------------------------------------------------------------------------------
# TF 1.0–1.2's TensorArray ops (V1: a Ref(string) handle, V2: a string handle): the V3 rules, the array
# itself without a flow output; Pack / Unpack read / write every element in order
# ------------------------------------------------------------------------------------------------
def _first_output(rule):
    def legacy(ctx, op, *args):
        return rule(ctx, op, *args)[0]
    return legacy


for _suffix in ("", "V2"):
    lowers("TensorArray" + _suffix, context=True)(_first_output(tensor_array_v3))
    lowers("TensorArrayGrad" + _suffix, context=True)(_first_output(tensor_array_grad_v3))
    for _name, _rule in (("Write", tensor_array_write_v3), ("Read", tensor_array_read_v3),
                         ("Gather", tensor_array_gather_v3), ("Scatter", tensor_array_scatter_v3),
                         ("Concat", tensor_array_concat_v3), ("Split", tensor_array_split_v3),
                         ("Size", tensor_array_size_v3), ("Close", tensor_array_close_v3)):
        lowers(f"TensorArray{_name}{_suffix}", context=True)(lambda ctx, op, *args, _rule=_rule: _rule(ctx, op, *args))


@lowers("TensorArrayPack", context=True)
def tensor_array_pack(ctx, op, handle, flow_in):
    handle = _handle(handle, op)
    buffer = ctx.read(handle.key)
    n = handle.size if _is_unsized(handle, buffer) else int(buffer.shape[0])
    return tensor_array_gather_v3(ctx, op, handle, np.arange(n, dtype=np.int32), flow_in)


@lowers("TensorArrayUnpack", context=True)
def tensor_array_unpack(ctx, op, handle, value, flow_in):
    rows = jnp.shape(value)[0] if jnp.ndim(value) else 0
    return tensor_array_scatter_v3(ctx, op, handle, np.arange(rows, dtype=np.int32), value, flow_in)
