"""Lowerings of TF1 queue ops (graphcompat/ops/data_flow_ops.py): host queues shared by threads.

A queue op (`FIFOQueueV2` …) creates its `HostQueue` in the Session's state the first time it runs
(key `("resource", name)`, or the shared name) and returns it as its handle. The queue reproduces
TF's QueueBase: enqueue and dequeue *attempts* are served strictly in arrival order, a
`dequeue_many` takes elements as they arrive (so `n` may exceed the capacity), a non-cancelling
`close` waits behind pending enqueues, and a dequeue that cannot complete on a closed queue puts
back what it took. A blocked attempt wakes on every state change; it also polls, so a Session that
closes (its state is dropped) cancels it with TF's CancelledError.

Dequeues are host inputs (lowering/plan.py): a training step that reads a batch from a queue still
runs compiled, with the batch fed into it.
"""
from __future__ import annotations

import collections
import heapq
import itertools
import threading
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from lowering.registry import kernel_type, lowers

# A blocked attempt re-checks that its Session is still open this often (seconds).
_POLL_SECONDS = 0.1
_UNBOUNDED = 2 ** 31 - 1

# TF names private resources `_<process-wide counter>_<node name>` (ContainerInfo).
_resource_ids = itertools.count()
_resource_lock = threading.Lock()

_NO_PROGRESS, _PROGRESS, _COMPLETE = range(3)


def resource_name(op) -> str:
    shared = op.attrs.get("shared_name", "")
    return shared if shared else f"_{next(_resource_ids)}_{op.name}"


def get_or_create(ctx, op, factory):
    """The session's resource for `op` (created by `factory(key, name)` on first use, atomically, since
    several threads may run ops of the same queue at once)."""
    store = ctx._state_in
    shared = op.attrs.get("shared_name", "")
    key = ("resource", op.attrs.get("container", ""), shared) if shared else ("resource", op.name)
    with _resource_lock:
        obj = store.get(key)
        if obj is None:
            obj = store[key] = factory(store, key, resource_name(op))
        elif hasattr(obj, "check_matches"):
            obj.check_matches(op)
    return obj


def shape_text(shape) -> str:
    """TF's (Partial)TensorShape::DebugString: `[2,3]`, `[?,3]`, `<unknown>`."""
    if shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None or d < 0 else str(d) for d in shape) + "]"


def _compatible(partial, shape) -> bool:
    if partial is None:
        return True
    return len(partial) == len(shape) and all(p is None or p < 0 or p == s for p, s in zip(partial, shape))


def as_component(value, dtype: np.dtype) -> np.ndarray:
    """A component value on the host, with the queue's dtype (strings as object arrays of bytes)."""
    if dtype == np.dtype(object):
        arr = np.asarray(value, dtype=object)
        return np.vectorize(lambda s: s.encode() if isinstance(s, str) else s, otypes=[object])(arr) \
            if arr.size else arr
    return np.asarray(value, dtype=dtype)


class _Attempt:
    """One blocked enqueue/dequeue/close: `run()` is tried under the queue's lock, front attempt first."""

    __slots__ = ("run", "op", "done", "cancelled", "error", "result", "taken", "requested")

    def __init__(self, run, op, requested: int = 1):
        self.run = run
        self.op = op
        self.done = False
        self.cancelled = False
        self.error: Optional[BaseException] = None
        self.result = None
        self.taken: list = []          # elements a dequeue_many holds while it waits for more
        self.requested = requested     # elements still to enqueue / dequeue


class HostQueue:
    """TF's QueueBase with FIFO, padding-FIFO, random-shuffle or priority order."""

    def __init__(self, kind: str, name: str, dtypes: list, shapes: Optional[list], capacity: int, store: dict,
                 key, min_after_dequeue: int = 0, seeds=(0, 0), node_attrs: Optional[dict] = None):
        self.kind = kind
        self.name = name
        self.dtypes = dtypes                      # numpy dtypes (object for strings)
        self.shapes = shapes                      # per component: tuple (None dims allowed), or None
        self.capacity = _UNBOUNDED if capacity < 0 else capacity
        self.min_after_dequeue = min_after_dequeue
        self.closed = False
        self._node_attrs = node_attrs or {}
        self._store, self._key = store, key
        self._cond = threading.Condition()
        self._enqueues: collections.deque = collections.deque()
        self._dequeues: collections.deque = collections.deque()
        self._counter = itertools.count()        # priority ties dequeue in insertion order
        self._items: object = [] if kind in ("RandomShuffleQueue", "PriorityQueue") else collections.deque()
        if kind == "RandomShuffleQueue":
            seed, seed2 = seeds
            self._rng = np.random.default_rng(None if seed == 0 and seed2 == 0 else [seed, seed2])

    # --- construction from an op --------------------------------------------------------------
    _KINDS = {"FIFOQueueV2": "FIFOQueue", "PaddingFIFOQueueV2": "PaddingFIFOQueue",
              "RandomShuffleQueueV2": "RandomShuffleQueue", "PriorityQueueV2": "PriorityQueue"}

    @classmethod
    def from_op(cls, op, store: dict, key, name: str) -> "HostQueue":
        attrs = op.attrs
        kind = cls._KINDS[kernel_type(op.type)]
        dtypes = [np.dtype(_dt.as_dtype(t).as_numpy_dtype) for t in attrs["component_types"]]
        shapes = [None if s.ndims is None else tuple(-1 if d is None else d for d in s.as_list())
                  for s in attrs.get("shapes") or []] or None
        if kind == "PriorityQueue":
            dtypes = [np.dtype(np.int64)] + dtypes
            shapes = [()] + shapes if shapes else None
        if kind == "PaddingFIFOQueue" and (shapes is None or len(shapes) != len(dtypes)):
            raise errors.InvalidArgumentError(
                None, op, f"Shapes must be provided for all components, but received {len(dtypes)} dtypes "
                f"and {0 if shapes is None else len(shapes)} shapes.")
        return cls(kind, name, dtypes, shapes, int(attrs.get("capacity", -1)), store, key,
                   int(attrs.get("min_after_dequeue", 0)), (int(attrs.get("seed", 0)), int(attrs.get("seed2", 0))),
                   {"capacity": attrs.get("capacity"), "component_types": list(attrs["component_types"]),
                    "type": kernel_type(op.type)})

    def check_matches(self, op) -> None:
        """A second op naming the same shared queue must agree with it (TF's MatchesNodeDef)."""
        mine = self._node_attrs
        if kernel_type(op.type) != mine["type"]:  # TF's V1 and V2 queue ops share a queue
            raise errors.InvalidArgumentError(None, op, f"Expected {self.kind}, found {op.type}")
        if int(op.attrs.get("capacity", -1)) != mine["capacity"]:
            raise errors.InvalidArgumentError(None, op, f"Shared queue '{self.name}' has capacity "
                                              f"{mine['capacity']} but requested capacity was "
                                              f"{op.attrs.get('capacity')}")
        if list(op.attrs["component_types"]) != mine["component_types"]:
            raise errors.InvalidArgumentError(
                None, op, f"Shared queue '{self.name}' has component types "
                f"{', '.join(_dt.cpp_name(t) for t in mine['component_types'])} but requested component types "
                f"were {', '.join(_dt.cpp_name(t) for t in op.attrs['component_types'])}")

    # --- the attempt machinery (TF's FlushUnlocked / TryAttemptLocked) --------------------------
    def _try(self, attempts: collections.deque) -> bool:
        progress = False
        while attempts:
            attempt = attempts[0]
            if attempt.cancelled:
                attempts.popleft()
                continue
            outcome = attempt.run(attempt)
            if outcome == _NO_PROGRESS:
                break
            progress = True
            if outcome == _PROGRESS:
                break
            attempt.done = True
            attempts.popleft()
        return progress

    def _flush(self) -> None:
        changed = True
        while changed:
            changed = self._try(self._enqueues)
            changed = self._try(self._dequeues) or changed
        self._cond.notify_all()

    def _alive(self) -> bool:
        return self._store.get(self._key) is self

    def _submit(self, attempt: _Attempt, attempts: collections.deque, what: str):
        """Queues `attempt`, serves what can be served, and blocks until it completes or is cancelled."""
        with self._cond:
            if not self._alive():
                raise errors.CancelledError(None, attempt.op, f"{what} operation was cancelled")
            attempts.append(attempt)
            self._flush()
            while not attempt.done:
                self._cond.wait(_POLL_SECONDS)
                if not attempt.done and not self._alive():  # the Session was closed: TF cancels the op
                    attempt.cancelled = True
                    attempt.done = True
                    attempt.error = errors.CancelledError(None, attempt.op, f"{what} operation was cancelled")
                    self._flush()
        if attempt.error is not None:
            raise attempt.error
        return attempt.result

    def cancel_all(self) -> None:
        """Wakes every blocked attempt (its Session went away)."""
        with self._cond:
            self._cond.notify_all()

    # --- element storage ------------------------------------------------------------------------
    def size(self) -> int:
        with self._cond:
            return len(self._items)

    def _push(self, element: tuple) -> None:
        if self.kind == "PriorityQueue":
            heapq.heappush(self._items, (int(element[0]), next(self._counter), element))
        else:
            self._items.append(element)

    def _pop(self) -> tuple:
        if self.kind == "PriorityQueue":
            return heapq.heappop(self._items)[2]
        if self.kind == "RandomShuffleQueue":
            items = self._items
            index = int(self._rng.integers(len(items)))
            element = items[index]
            items[index] = items[-1]
            items.pop()
            return element
        return self._items.popleft()

    def _put_back(self, taken: list) -> None:
        """A dequeue_many that cannot complete returns its elements (to the front, for FIFO queues)."""
        if isinstance(self._items, collections.deque):
            for element in reversed(taken):
                self._items.appendleft(element)
        else:
            for element in taken:
                self._push(element)

    # --- validation -----------------------------------------------------------------------------
    def _signature(self, op) -> None:
        """TF's MatchSignature: the enqueue's component types must be the queue's."""
        have = [np.dtype(_dt.as_dtype(t).as_numpy_dtype) for t in op.attrs["Tcomponents"]]
        if have != self.dtypes:
            def names(dtypes):
                return ", ".join(["resource"] + [_dt.cpp_name(_dt.as_dtype(_dt.string if d == object else d))
                                                 for d in dtypes])
            raise errors.InvalidArgumentError(None, op, f"Signature mismatch, have: {names(have)} expected: "
                                              f"{names(self.dtypes)}")

    def validate(self, op, components: list, many: bool) -> None:
        """TF's ValidateTuple / ValidateManyTuple."""
        if many:
            for i, c in enumerate(components):
                if c.ndim == 0:
                    raise errors.InvalidArgumentError(
                        None, op, f"Shape mismatch in tuple component {i}. Expected a batch (rank >= 1), got []")
            batch = components[0].shape[0]
        if self.kind == "PriorityQueue":
            first = components[0]
            if (first.ndim != 1) if many else (first.ndim != 0):
                raise errors.InvalidArgumentError(
                    None, op, f"Expected the priority element to be a {'vector' if many else 'scalar'}, but "
                    f"received shape: {shape_text(first.shape)}")
        if self.shapes is None:
            if many:
                for i, c in enumerate(components[1:], 1):
                    if c.shape[0] != batch:
                        raise errors.InvalidArgumentError(
                            None, op, f"All input tensors must have the same size in the 0th dimension. Component "
                            f"{i} has {c.shape[0]}, and should have {batch}")
            return
        for i, (c, shape) in enumerate(zip(components, self.shapes)):
            want = ((batch,) + tuple(shape)) if many and shape is not None else shape
            if not _compatible(want, c.shape):
                raise errors.InvalidArgumentError(None, op, f"Shape mismatch in tuple component {i}. Expected "
                                                  f"{shape_text(want)}, got {shape_text(c.shape)}")

    # --- operations -----------------------------------------------------------------------------
    def enqueue(self, op, components: list, many: bool) -> None:
        self._signature(op)
        components = [as_component(c, d) for c, d in zip(components, self.dtypes)]
        self.validate(op, components, many)
        if many:
            elements = [tuple(c[k] for c in components) for k in range(components[0].shape[0])]
            if not elements:
                return
        else:
            elements = [tuple(components)]

        def run(attempt: _Attempt):
            if self.closed:
                attempt.error = errors.CancelledError(None, op, f"{self.kind} '{self.name}' is closed.")
                return _COMPLETE
            outcome = _NO_PROGRESS
            while len(self._items) < self.capacity:
                outcome = _PROGRESS
                self._push(elements[len(elements) - attempt.requested])
                attempt.requested -= 1
                if attempt.requested == 0:
                    return _COMPLETE
            return outcome
        self._submit(_Attempt(run, op, len(elements)), self._enqueues, "Enqueue")

    def close(self, op, cancel_pending_enqueues: bool) -> None:
        if cancel_pending_enqueues:
            with self._cond:
                self.closed = True
                for attempt in self._enqueues:
                    if not attempt.cancelled:
                        attempt.cancelled = attempt.done = True
                        attempt.error = errors.CancelledError(None, attempt.op, "Enqueue operation was cancelled")
                self._flush()
            return

        def run(attempt: _Attempt):  # a close waits behind the enqueues already pending (TF)
            if self.closed:
                attempt.error = errors.CancelledError(None, op, f"Queue '{self.name}' is already closed.")
            else:
                self.closed = True
            return _COMPLETE
        self._submit(_Attempt(run, op), self._enqueues, "Enqueue")

    def dequeue(self, op) -> tuple:
        def run(attempt: _Attempt):
            size = len(self._items)
            if self.closed and size == 0:
                attempt.error = errors.OutOfRangeError(
                    None, op, f"{self.kind} '{self.name}' is closed and has insufficient elements (requested 1, "
                    f"current size 0)")
                return _COMPLETE
            if not self.closed:
                size -= self.min_after_dequeue
            if size > 0:
                attempt.result = self._pop()
                return _COMPLETE
            return _NO_PROGRESS
        return self._submit(_Attempt(run, op), self._dequeues, "Dequeue")

    def dequeue_many(self, op, n: int, allow_small_batch: bool) -> list:
        if self.shapes is None:
            raise errors.InvalidArgumentError(
                None, op, f"{self.kind}'s DequeueMany and DequeueUpTo require the components to have specified "
                f"shapes.")
        if n < 0:
            raise errors.InvalidArgumentError(None, op, f"Dequeue requested {n} elements: it must be >= 0")
        if n == 0:
            return self._batch([])

        def run(attempt: _Attempt):
            size = len(self._items)
            if self.closed and size < attempt.requested:
                if attempt.taken:  # TF's message then reports the elements still missing
                    self._put_back(attempt.taken)
                    attempt.taken = []
                if allow_small_batch and len(self._items) > 0:
                    size = len(self._items)
                    attempt.requested = size
                else:
                    if allow_small_batch and self._enqueues:
                        return _PROGRESS  # pending enqueues may still add elements
                    attempt.error = errors.OutOfRangeError(
                        None, op, f"{self.kind} '{self.name}' is closed and has insufficient elements (requested "
                        f"{attempt.requested}, current size {size})")
                    return _COMPLETE
            outcome = _NO_PROGRESS
            if not self.closed:
                size -= self.min_after_dequeue
            while size > 0:
                outcome = _PROGRESS
                attempt.taken.append(self._pop())
                attempt.requested -= 1
                size -= 1
                if attempt.requested == 0:
                    attempt.result = self._batch(attempt.taken)
                    return _COMPLETE
            return outcome
        return self._submit(_Attempt(run, op, n), self._dequeues, "Dequeue")

    def _batch(self, elements: list) -> list:
        """Stacks elements per component; a padding queue pads its unknown dims with zeros/empty strings."""
        out = []
        for i, dtype in enumerate(self.dtypes):
            shape = self.shapes[i]
            if self.kind != "PaddingFIFOQueue" or all(d >= 0 for d in shape):
                if not elements:
                    out.append(np.zeros((0,) + tuple(max(d, 0) for d in shape), dtype))
                else:
                    out.append(np.stack([e[i] for e in elements]).astype(dtype, copy=False))
                continue
            dims = [d if d >= 0 else max((e[i].shape[j] for e in elements), default=0) for j, d in enumerate(shape)]
            batch = np.full([len(elements)] + dims, b"" if dtype == object else 0, dtype=dtype)
            for k, e in enumerate(elements):
                batch[(k,) + tuple(slice(0, s) for s in e[i].shape)] = e[i]
            out.append(batch)
        return out


# ------------------------------------------------------------------------------------------------
# Rules
# ------------------------------------------------------------------------------------------------
@lowers("FIFOQueueV2", "PaddingFIFOQueueV2", "RandomShuffleQueueV2", "PriorityQueueV2", context=True, host=True)
def queue_resource(ctx, op):
    return get_or_create(ctx, op, lambda store, key, name: HostQueue.from_op(op, store, key, name))


def _one_or_tuple(values: list):
    return values[0] if len(values) == 1 else tuple(values)


@lowers("QueueEnqueueV2", context=True, host=True)
def queue_enqueue(ctx, op, queue, *components):
    queue.enqueue(op, list(components), many=False)


@lowers("QueueEnqueueManyV2", context=True, host=True)
def queue_enqueue_many(ctx, op, queue, *components):
    queue.enqueue(op, list(components), many=True)


# Dequeues are host inputs: they run on the host ahead of a compiled step and feed it their element.
@lowers("QueueDequeueV2", context=True, host_input=True)
def queue_dequeue(ctx, op, queue):
    return _one_or_tuple(list(queue.dequeue(op)))


@lowers("QueueDequeueManyV2", context=True, host_input=True)
def queue_dequeue_many(ctx, op, queue, n):
    return _one_or_tuple(queue.dequeue_many(op, int(np.asarray(n)), allow_small_batch=False))


@lowers("QueueDequeueUpToV2", context=True, host_input=True)
def queue_dequeue_up_to(ctx, op, queue, n):
    return _one_or_tuple(queue.dequeue_many(op, int(np.asarray(n)), allow_small_batch=True))


@lowers("QueueCloseV2", context=True, host=True)
def queue_close(ctx, op, queue):
    queue.close(op, bool(op.attrs.get("cancel_pending_enqueues", False)))


@lowers("QueueSizeV2", context=True, host=True)
def queue_size(ctx, op, queue):
    return np.int32(queue.size())


@lowers("QueueIsClosedV2", context=True, host=True)
def queue_is_closed(ctx, op, queue):
    return np.bool_(queue.closed)
