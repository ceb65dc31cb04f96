"""Lowerings of the staging areas, barriers, mutexes and session tensors (graphcompat/ops/staging_ops.py,
graphcompat/ops/mutex_ops.py, graphcompat/ops/session_ops.py): host objects in the Session, shared by the
threads that run steps, like the queues (lowering/rules/queues.py).

- `Stage` & co. reproduce TF's stage_op.cc `Buffer`: a FIFO of tuples, puts wait while the buffer holds
  `capacity` elements or the tuple would pass `memory_limit` bytes; `Unstage` waits for an element,
  `StagePeek` for the element at its index.
- `MapStage` & co. reproduce map_stage_op.cc's `StagingMap`: int64 key -> tuple of optional tensors; a
  put of fewer components than the map has waits in the incomplete map until the key is complete; gets
  may take some components, and the key leaves the map once every component was taken. Byte accounting
  is TF's own, quirks included: a put counts only its *last* value's bytes (TF's accumulate over optional
  tensors keeps the last term), a get or a peek subtracts the bytes it returns, in size_t arithmetic.
  An unordered map's `MapUnstageNoKey` takes the key TF's std::unordered_map (libstdc++) iterates first:
  `_HashOrder` keeps that iteration order (exact while the map has no more than 257 buckets' worth of keys).
- `Barrier` & co. reproduce barrier_ops.cc: incomplete tuples keyed by string, complete ones moved to a
  ready priority queue (a `HostQueue`, TF's PriorityQueue named `<barrier>_queue`) ordered by the index of
  the insert_many that first saw the key.
- `MutexV2` is a host mutex; `MutexLock` waits for it and outputs a lock value that releases it when
  `ConsumeMutexLock` runs (or when a failed run drops its values), as TF releases it with the variant.
- `GetSessionHandle` keeps its input in the session (`SessionTensors`) under TF's handle string
  `<node name>;<id>;<device>`; `GetSessionTensor` / `DeleteSessionTensor` look it up by that string.

An op that cannot complete blocks, waking on every change of its object and polling, so a Session that
closes (its state is dropped) cancels it with CancelledError (TF's staging kernels would wait forever).
Every error is raised before the op changes anything, except TF's own check of what a get took against
the op's outputs (their number, their dtypes), which comes after the take, as in TF: the element is lost.
"""
from __future__ import annotations

import collections
import threading
import weakref
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from lowering.registry import lowers
from lowering.rules.queues import HostQueue, _resource_lock, as_component, get_or_create, shape_text

_POLL_SECONDS = 0.1
_SIZE_T = 2 ** 64
_INT64_MIN = -2 ** 63


def _np_dtype(dtype) -> np.dtype:
    return np.dtype(_dt.as_dtype(dtype).as_numpy_dtype)


def _total_bytes(value: np.ndarray) -> int:
    """TF's Tensor::TotalBytes: the buffer's bytes (a string element counts as TF's tstring, 24 bytes, plus
    its characters)."""
    if value.dtype == object:
        return sum(24 + len(s) for s in value.reshape(-1))
    return int(value.nbytes)


def _check_outputs(op, values: list, first_output: int = 0) -> None:
    """TF's executor rejects an output whose dtype is not the op's declared one (an Unstage whose dtypes
    are not what was staged)."""
    for i, value in enumerate(values, first_output):
        declared = op.outputs[i].dtype.base_dtype
        have = _dt.as_dtype(_dt.string if value.dtype == object else value.dtype)
        if have != declared:
            raise errors.InternalError(None, op, f"Output {i} of type {_dt.cpp_name(have)} does not match declared "
                                       f"output type {_dt.cpp_name(declared)} for node {{{{node {op.name}}}}}")


class _Blocking:
    """A host object whose ops may wait: one condition, woken on every change, polling for its Session."""

    def __init__(self, store: dict, key):
        self._store, self._key = store, key
        self._cond = threading.Condition()

    def _alive(self) -> bool:
        return self._store.get(self._key) is self

    def _wait_until(self, ready, op, what: str) -> None:
        """Waits (holding the condition) until `ready()`; CancelledError once the Session is closed."""
        while not ready():
            if not self._alive():
                raise errors.CancelledError(None, op, f"{what} operation was cancelled")
            self._cond.wait(_POLL_SECONDS)


def _staging_resource(ctx, op, kind: str, factory):
    """TF's ContainerInfo with the node's name as default: the ops of one staging area share its
    `shared_name`; the resource manager keys a resource by its type too (a map and a buffer of one name
    are two objects)."""
    store = ctx._state_in
    name = op.attrs.get("shared_name", "") or op.name
    key = ("staging", kind, op.attrs.get("container", ""), name)
    with _resource_lock:
        obj = store.get(key)
        if obj is None:
            obj = store[key] = factory(store, key)
    return obj


def _as_values(values, dtypes: Optional[list] = None) -> list:
    return [as_component(v, np.asarray(v).dtype if dtypes is None else d) for v, d in
            zip(values, dtypes or [None] * len(values))]


# ------------------------------------------------------------------------------------------------
# StagingArea: TF's Buffer
# ------------------------------------------------------------------------------------------------
class StageBuffer(_Blocking):
    def __init__(self, op, store: dict, key):
        super().__init__(store, key)
        self.capacity = int(op.attrs.get("capacity", 0))
        self.memory_limit = int(op.attrs.get("memory_limit", 0))
        self.current_bytes = 0
        self.items: collections.deque = collections.deque()

    def _bounded(self) -> bool:
        return self.capacity > 0 or self.memory_limit > 0

    def put(self, op, values: list) -> None:
        nbytes = sum(_total_bytes(v) for v in values)
        if self.memory_limit > 0 and nbytes > self.memory_limit:
            raise errors.ResourceExhaustedError(
                None, op, f"Attempted to insert tensors with combined size of '{nbytes}' bytes into Staging Area "
                f"with a memory limit of '{self.memory_limit}'.")
        with self._cond:
            if self._bounded():
                self._wait_until(lambda: (self.memory_limit <= 0 or nbytes + self.current_bytes <= self.memory_limit)
                                 and (self.capacity <= 0 or len(self.items) < self.capacity), op, "Stage")
            self.current_bytes += nbytes
            self.items.append(tuple(values))
            self._cond.notify_all()

    def _check_arity(self, op, element: tuple, outputs: int) -> None:
        if len(element) != outputs:
            raise errors.InvalidArgumentError(None, op, f"Mismatch stage/unstage: {len(element)} vs. {outputs}")
        _check_outputs(op, list(element))

    def get(self, op) -> tuple:
        with self._cond:
            self._wait_until(lambda: bool(self.items), op, "Unstage")
            # TF's kernel takes the element, then checks it against its outputs: a mismatch loses it
            element = self.items.popleft()
            self.current_bytes -= sum(_total_bytes(v) for v in element)
            self._cond.notify_all()
        self._check_arity(op, element, len(op.outputs))
        return element

    def peek(self, op, index: int) -> tuple:
        with self._cond:
            self._wait_until(lambda: index < len(self.items), op, "StagePeek")
            element = self.items[index]
        self._check_arity(op, element, len(op.outputs))
        return element

    def size(self) -> int:
        with self._cond:
            return len(self.items)

    def clear(self) -> None:
        with self._cond:
            self.items.clear()
            self.current_bytes = 0
            self._cond.notify_all()


def _buffer(ctx, op) -> StageBuffer:
    return _staging_resource(ctx, op, "Buffer", lambda store, key: StageBuffer(op, store, key))


def _one_or_tuple(values):
    values = list(values)
    return values[0] if len(values) == 1 else tuple(values)


@lowers("Stage", context=True, host=True)
def stage(ctx, op, *values):
    _buffer(ctx, op).put(op, _as_values(values, [_np_dtype(t) for t in op.attrs["dtypes"]]))


# A get is a host input (as a queue's dequeue): it runs ahead of a compiled step and feeds it its element.
@lowers("Unstage", context=True, host_input=True)
def unstage(ctx, op):
    return _one_or_tuple(_buffer(ctx, op).get(op))


@lowers("StagePeek", context=True, host_input=True)
def stage_peek(ctx, op, index):
    index = np.asarray(index)
    if index.ndim != 0:
        raise errors.InvalidArgumentError(None, op, "index must be scalar")
    # TF reads the int32 as a size_t: a negative index waits for ever
    return _one_or_tuple(_buffer(ctx, op).peek(op, int(index) % _SIZE_T))


@lowers("StageSize", context=True, host=True)
def stage_size(ctx, op):
    return np.int32(_buffer(ctx, op).size())


@lowers("StageClear", context=True, host=True)
def stage_clear(ctx, op):
    _buffer(ctx, op).clear()


# ------------------------------------------------------------------------------------------------
# MapStagingArea: TF's StagingMap
# ------------------------------------------------------------------------------------------------
# libstdc++'s bucket counts below 14 (its __fast_bkt table)
_FAST_BUCKETS = (2, 2, 2, 3, 5, 5, 7, 7, 11, 11, 11, 11, 13, 13)


def _next_prime(n: int) -> int:
    while any(n % d == 0 for d in range(2, int(n ** 0.5) + 1)) or n < 2:
        n += 1
    return n


class _HashOrder:
    """The iteration order of libstdc++'s std::unordered_map<int64> (identity hash, max load factor 1):
    one list of nodes in which a bucket's nodes are adjacent; a new key goes first in its bucket's group,
    or first in the list when its bucket is empty; a rehash re-inserts every node in list order. Bucket
    counts follow libstdc++'s prime rehash policy (its prime table agrees with "the next prime" up to 257)."""

    def __init__(self):
        self.keys: list = []
        self._buckets = 1
        self._next_resize = 0

    def _bucket(self, key: int) -> int:
        return (key % _SIZE_T) % self._buckets

    def _place(self, key: int) -> None:
        bucket = self._bucket(key)
        for i, other in enumerate(self.keys):
            if self._bucket(other) == bucket:
                self.keys.insert(i, key)
                return
        self.keys.insert(0, key)

    def _bucket_count(self, n: int) -> int:
        count = _FAST_BUCKETS[n] if n < len(_FAST_BUCKETS) else _next_prime(n)
        self._next_resize = count
        return count

    def insert(self, key: int) -> None:
        n = len(self.keys)
        if n + 1 > self._next_resize:
            least = max(n + 1, 0 if self._next_resize else 11)
            if least >= self._buckets:
                self._buckets = self._bucket_count(max(least + 1, self._buckets * 2))
                old, self.keys = self.keys, []
                for k in old:
                    self._place(k)
            else:
                self._next_resize = self._buckets
        self._place(key)

    def remove(self, key: int) -> None:
        self.keys.remove(key)

    def clear(self) -> None:
        self.keys.clear()   # libstdc++ keeps its buckets

class StagingMap(_Blocking):
    def __init__(self, op, store: dict, key, ordered: bool):
        super().__init__(store, key)
        self.ordered = ordered
        self.num_components = len(op.attrs.get("dtypes") or [])
        self.capacity = int(op.attrs.get("capacity", 0))
        self.memory_limit = int(op.attrs.get("memory_limit", 0))
        self.current_bytes = 0                       # size_t in TF: kept modulo 2**64
        self.map: dict = {}                          # key -> list of optional values
        self.order = None if ordered else _HashOrder()  # an unordered map's iteration order (TF's hash map)
        self.incomplete: dict = {}

    # --- TF's helpers ---------------------------------------------------------------------------
    def _insert(self, key: int, tuple_: list) -> None:
        if key in self.map:
            return
        self.map[key] = tuple_
        if self.order is not None:
            self.order.insert(key)

    def _erase(self, key: int) -> None:
        del self.map[key]
        if self.order is not None:
            self.order.remove(key)

    @staticmethod
    def _put_bytes(values: list) -> int:
        """TF's get_tuple_bytes of an OptionalTuple: its accumulate keeps only the last value's bytes."""
        return _total_bytes(values[-1]) if values else 0

    def _would_exceed(self, nbytes: int) -> bool:
        return self.memory_limit > 0 and (nbytes + self.current_bytes) % _SIZE_T > self.memory_limit

    def _check_memory(self, op, nbytes: int) -> None:
        if self.memory_limit > 0 and nbytes > self.memory_limit:
            raise errors.ResourceExhaustedError(
                None, op, f"Attempted to insert tensors with combined size of '{nbytes}' bytes into Staging Area "
                f"with a memory limit of '{self.memory_limit}'.")

    def _check_index(self, op, key: int, index: int) -> None:
        if index >= self.num_components or index < 0:
            raise errors.InvalidArgumentError(None, op, f"Index '{index % _SIZE_T}' for key '{key}' was out of bounds "
                                              f"'{self.num_components}'.")

    @staticmethod
    def _check_ordering(op, indices: list) -> None:
        if any(a >= b for a, b in zip(indices, indices[1:])):
            raise errors.InvalidArgumentError(None, op, "Indices are not strictly ordered")

    # --- operations ---------------------------------------------------------------------------
    def put(self, op, key: int, indices: list, values: list) -> None:
        self._check_ordering(op, indices)
        nbytes = self._put_bytes(values)
        self._check_memory(op, nbytes)
        with self._cond:
            if len(indices) != self.num_components:
                self._put_incomplete(op, key, indices, values, nbytes)
            else:
                self._wait_until(lambda: not self._would_exceed(nbytes) and not (
                    self.capacity > 0 and len(self.map) >= self.capacity), op, "MapStage")
                # std::map::insert keeps an existing key's tuple (the bytes are counted all the same)
                self._insert(key, list(values))
                self.current_bytes = (self.current_bytes + nbytes) % _SIZE_T
            self._cond.notify_all()

    def _put_incomplete(self, op, key: int, indices: list, values: list, nbytes: int) -> None:
        self._wait_until(lambda: not self._would_exceed(nbytes), op, "MapStage")
        present = self.incomplete.get(key)
        for index in indices:  # every check before the tuple changes
            self._check_index(op, key, index)
            if present is not None and present[index] is not None:
                raise errors.InvalidArgumentError(
                    None, op, f"The tensor for index '{index}' for key '{key}' was already initialized "
                    f"'{self.num_components}'.")
        if present is None:
            present = self.incomplete[key] = [None] * self.num_components
            for index, value in zip(indices, values):
                present[index] = value
            self.current_bytes = (self.current_bytes + nbytes) % _SIZE_T
            return
        for index, value in zip(indices, values):
            present[index] = value
        self.current_bytes = (self.current_bytes + nbytes) % _SIZE_T
        if all(v is not None for v in present):
            del self.incomplete[key]
            self._insert(key, present)

    def _take(self, op, key: int, tuple_: list, indices: list, remove: bool) -> list:
        for index in indices:  # every check before anything is taken
            self._check_index(op, key, index)
            if tuple_[index] is None:
                raise errors.InvalidArgumentError(None, op, f"Tensor at index '{index}' for key '{key}' has already "
                                                  f"been removed.")
        out = [tuple_[index] for index in indices]
        if remove:
            for index in indices:
                tuple_[index] = None
            if all(v is None for v in tuple_):
                self._erase(key)
        self.current_bytes = (self.current_bytes - sum(_total_bytes(v) for v in out)) % _SIZE_T
        return out

    def get(self, op, key: int, indices: list, remove: bool) -> list:
        self._check_ordering(op, indices)
        with self._cond:
            self._wait_until(lambda: key in self.map, op, "MapUnstage" if remove else "MapPeek")
            out = self._take(op, key, self.map[key], indices, remove)
            self._cond.notify_all()
        _check_outputs(op, out, len(op.outputs) - len(indices))  # after the take, as TF's executor
        return out

    def popitem(self, op, indices: list):
        self._check_ordering(op, indices)
        with self._cond:
            self._wait_until(lambda: bool(self.map), op, "MapUnstageNoKey")
            key = min(self.map) if self.ordered else self.order.keys[0]
            out = self._take(op, key, self.map[key], indices, remove=True)
            self._cond.notify_all()
        _check_outputs(op, out, len(op.outputs) - len(indices))
        return key, out

    def size(self) -> int:
        with self._cond:
            return len(self.map)

    def incomplete_size(self) -> int:
        with self._cond:
            return len(self.incomplete)

    def clear(self) -> None:
        with self._cond:
            self.map.clear()
            if self.order is not None:
                self.order.clear()
            self.incomplete.clear()
            self.current_bytes = 0
            self._cond.notify_all()


def _map(ctx, op) -> StagingMap:
    ordered = op.type.startswith("Ordered")
    return _staging_resource(ctx, op, "OrderedMap" if ordered else "Map",
                             lambda store, key: StagingMap(op, store, key, ordered))


def _key(key) -> int:
    return int(np.asarray(key).reshape(-1)[0])


def _indices(indices) -> list:
    return [int(i) for i in np.asarray(indices).reshape(-1)]


@lowers("MapStage", "OrderedMapStage", context=True, host=True)
def map_stage(ctx, op, key, indices, *values):
    _map(ctx, op).put(op, _key(key), _indices(indices), _as_values(values))


@lowers("MapUnstage", "OrderedMapUnstage", context=True, host_input=True)
def map_unstage(ctx, op, key, indices):
    return _one_or_tuple(_map(ctx, op).get(op, _key(key), _indices(indices), remove=True))


@lowers("MapPeek", "OrderedMapPeek", context=True, host_input=True)
def map_peek(ctx, op, key, indices):
    return _one_or_tuple(_map(ctx, op).get(op, _key(key), _indices(indices), remove=False))


@lowers("MapUnstageNoKey", "OrderedMapUnstageNoKey", context=True, host_input=True)
def map_unstage_no_key(ctx, op, indices):
    key, values = _map(ctx, op).popitem(op, _indices(indices))
    return tuple([np.int64(key)] + list(values))


@lowers("MapSize", "OrderedMapSize", context=True, host=True)
def map_size(ctx, op):
    return np.int32(_map(ctx, op).size())


@lowers("MapIncompleteSize", "OrderedMapIncompleteSize", context=True, host=True)
def map_incomplete_size(ctx, op):
    return np.int32(_map(ctx, op).incomplete_size())


@lowers("MapClear", "OrderedMapClear", context=True, host=True)
def map_clear(ctx, op):
    _map(ctx, op).clear()


# ------------------------------------------------------------------------------------------------
# Barrier
# ------------------------------------------------------------------------------------------------
class _ReadyQueue(HostQueue):
    """The barrier's ready queue: TF's PriorityQueue of (index, key, *values), fed by the barrier alone."""

    def __init__(self, barrier: "HostBarrier", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._barrier = barrier

    def _signature(self, op) -> None:   # the barrier checked the component types
        return None

    def _alive(self) -> bool:
        return self._barrier._alive()


class HostBarrier(_Blocking):
    def __init__(self, op, store: dict, key, name: str):
        super().__init__(store, key)
        attrs = op.attrs
        self.name = name
        self.types = [_dt.as_dtype(t) for t in attrs["component_types"]]
        self.dtypes = [_np_dtype(t) for t in self.types]
        self.shapes = [None if s.ndims is None else tuple(-1 if d is None else d for d in s.as_list())
                       for s in attrs.get("shapes") or []]
        self.closed = False
        self.queue_closed = False
        self.queue_cancelled = False
        self.cancel_pending_enqueues = False
        self.input_index = _INT64_MIN
        self.incomplete: dict = {}      # key (bytes) -> [index, *components (None while missing)]
        self.ready = _ReadyQueue(self, "PriorityQueue", f"{name}_queue", [np.dtype(np.int64), np.dtype(object)]
                                 + self.dtypes, [(), ()] + self.shapes, -1, store, key)

    @classmethod
    def from_op(cls, op, store: dict, key, name: str) -> "HostBarrier":
        attrs = op.attrs
        if len(attrs.get("shapes") or []) != len(attrs["component_types"]):
            raise errors.InvalidArgumentError(None, op, "All of the component shapes must be specified")
        if int(attrs.get("capacity", -1)) != -1:
            raise errors.InvalidArgumentError(None, op, "Barrier only accepts capacity=-1.  Feed the inputs to your "
                                              "Barrier through a queue to enforce a limited capacity.")
        return cls(op, store, key, name)

    def check_matches(self, op) -> None:
        """TF's VerifyResource: a second op naming the same shared barrier must agree with it."""
        types = [_dt.as_dtype(t) for t in op.attrs["component_types"]]
        if types != self.types:
            def names(ts):
                return ", ".join(_dt.cpp_name(t) for t in ts)
            raise errors.InvalidArgumentError(None, op, f"Shared barrier '{self.name}' has component types "
                                              f"{names(self.types)} but requested component types were {names(types)}")

    @property
    def num_components(self) -> int:
        return len(self.types)

    # --- insert_many -----------------------------------------------------------------------------
    def insert_many(self, op, component_index: int, keys: np.ndarray, values: np.ndarray) -> None:
        n = self.num_components
        if component_index >= n:
            raise errors.InvalidArgumentError(None, op, f"The component ID is out of range {component_index} > "
                                              f"num_components (= {n})")
        have = _dt.as_dtype(op.attrs["T"])
        want = self.types[component_index]
        if have != want:
            raise errors.InvalidArgumentError(None, op, f"Signature mismatch, have: string_ref, string, "
                                              f"{_dt.cpp_name(have)}-> expected: string_ref, string, "
                                              f"{_dt.cpp_name(want)}->")
        keys = [k if isinstance(k, bytes) else str(k).encode() for k in keys.reshape(-1)]
        if keys and values.size == 0:
            raise errors.InvalidArgumentError(None, op, f"Tensors with no elements are not supported {self.name}: "
                                              f"received shape {shape_text(values.shape)}")
        if len(keys) and (values.ndim == 0 or values.shape[0] < len(keys)):
            raise errors.InvalidArgumentError(None, op, f"Expected {len(keys)} values for {len(keys)} keys in "
                                              f"barrier {self.name}, got shape {shape_text(values.shape)}")
        with self._cond:
            if self.closed and (self.cancel_pending_enqueues or (len(keys) > 0 and not self.incomplete)):
                raise errors.CancelledError(
                    None, op, f"Barrier {self.name} is closed.  Pending enqueues cancelled: "
                    f"{int(self.cancel_pending_enqueues)}.  Number of new insertions: {len(keys)}.  Number of "
                    f"incomplete keys: {len(self.incomplete)}.")
            # TF's InsertOneLocked per key, on a copy: a key that fails leaves every tuple as it was
            incomplete = {k: list(v) for k, v in self.incomplete.items()}
            ready, new_elements = [], False
            for i, key in enumerate(keys):
                element = incomplete.get(key)
                if element is None:
                    if self.closed:
                        raise errors.CancelledError(
                            None, op, f"Barrier {self.name} is closed, but attempted to insert a brand new key: "
                            f"{key.decode(errors='replace')}.  Pending enqueues cancelled: "
                            f"{int(self.cancel_pending_enqueues)}.  Insertion index: {i}.  Number of incomplete "
                            f"keys: {len(incomplete)}.")
                    element = incomplete[key] = [self.input_index] + [None] * n
                    new_elements = True
                if element[1 + component_index] is not None:
                    raise errors.InvalidArgumentError(None, op, f"Key {key.decode(errors='replace')} already has a "
                                                      f"value for component {component_index} in barrier {self.name}")
                element[1 + component_index] = as_component(values[i], self.dtypes[component_index])
                if all(v is not None for v in element[1:]):
                    del incomplete[key]
                    components = [np.asarray(element[0], np.int64), np.asarray(key, dtype=object)] + element[1:]
                    self.ready.validate(op, components, many=False)
                    ready.append(components)
            self.incomplete = incomplete
            if new_elements:
                self.input_index += 1
        if ready:
            batch = [np.stack([r[j] for r in ready]) for j in range(2 + n)]
            batch[1] = batch[1].astype(object)
            self.ready.enqueue(op, batch, many=True)

    # --- take_many ---------------------------------------------------------------------------------
    def take_many(self, op, num_elements: int, allow_small_batch: bool) -> list:
        deliver = num_elements
        with self._cond:
            if self.closed:
                available = self.ready.size()
                if allow_small_batch:
                    deliver = min(num_elements, available)
                else:
                    available += len(self.incomplete)
                if available < max(deliver, 1):
                    raise errors.OutOfRangeError(
                        None, op, f"Barrier '{self.name}' is closed and has insufficient elements (requested "
                        f"{deliver}, total size {available})")
        return self.ready.dequeue_many(op, deliver, allow_small_batch)

    # --- close ---------------------------------------------------------------------------------
    def close(self, op, cancel_pending_enqueues: bool) -> None:
        with self._cond:
            if self.closed and (self.cancel_pending_enqueues or not cancel_pending_enqueues):
                raise errors.CancelledError(None, op, f"Barrier '{self.name}' is already closed.")
            self.cancel_pending_enqueues = cancel_pending_enqueues
            self.closed = True
            if self.incomplete and not cancel_pending_enqueues:  # the pending keys may still complete
                return
            self.incomplete.clear()
            # TF's CloseQueueLocked: the ready queue closes once, and is cancelled once
            if self.queue_cancelled if cancel_pending_enqueues else self.queue_closed:
                return
            self.queue_closed = True
            if cancel_pending_enqueues:
                self.queue_cancelled = True
            if self.ready.closed:
                return
        self.ready.close(op, cancel_pending_enqueues)


def _barrier_kernel_check(op) -> None:
    """BarrierTakeMany's kernel refuses a timeout when it is built (TF: not supported yet)."""
    if int(op.attrs.get("timeout_ms", -1)) != -1:
        raise errors.InvalidArgumentError(None, op, "Timeout not supported yet.")


@lowers("Barrier", context=True, host=True)
def barrier(ctx, op):
    return get_or_create(ctx, op, lambda store, key, name: HostBarrier.from_op(op, store, key, name))


@lowers("BarrierInsertMany", context=True, host=True)
def barrier_insert_many(ctx, op, handle, keys, values):
    values = np.asarray(values, dtype=object) if _dt.as_dtype(op.attrs["T"]) == _dt.string else np.asarray(values)
    handle.insert_many(op, int(op.attrs["component_index"]), np.asarray(keys, dtype=object), values)


@lowers("BarrierTakeMany", context=True, host_input=True)
def barrier_take_many(ctx, op, handle, num_elements):
    _barrier_kernel_check(op)
    num = np.asarray(num_elements)
    if num.ndim != 0:
        raise errors.InvalidArgumentError(None, op, "num_elements must be a scalar.")
    types = [_dt.as_dtype(t) for t in op.attrs["component_types"]]
    if types != handle.types:
        def names(ts):
            return ", ".join(["int64", "string"] + [_dt.cpp_name(t) for t in ts])
        raise errors.InvalidArgumentError(None, op, f"Signature mismatch, have: string_ref, int32->{names(types)} "
                                          f"expected: string_ref, int32->{names(handle.types)}")
    return tuple(handle.take_many(op, int(num), bool(op.attrs.get("allow_small_batch", False))))


@lowers("BarrierClose", context=True, host=True)
def barrier_close(ctx, op, handle):
    handle.close(op, bool(op.attrs.get("cancel_pending_enqueues", False)))


@lowers("BarrierReadySize", context=True, host=True)
def barrier_ready_size(ctx, op, handle):
    return np.int32(handle.ready.size())


@lowers("BarrierIncompleteSize", context=True, host=True)
def barrier_incomplete_size(ctx, op, handle):
    with handle._cond:
        return np.int32(len(handle.incomplete))


# ------------------------------------------------------------------------------------------------
# Session tensors (TF's SessionState: per session, ids from 0)
# ------------------------------------------------------------------------------------------------
class SessionTensors:
    def __init__(self):
        self._lock = threading.Lock()
        self._next_id = 0
        self.tensors: dict = {}

    def add(self, name: str, device: str, value) -> str:
        with self._lock:
            handle = f"{name};{self._next_id};{device}"
            self._next_id += 1
            self.tensors[handle] = value
        return handle


def _session_tensors(ctx) -> SessionTensors:
    store = ctx._state_in
    with _resource_lock:
        obj = store.get(("session_tensors",))
        if obj is None:
            obj = store[("session_tensors",)] = SessionTensors()
    return obj


def _full_device(device: str) -> str:
    """The device TF's placer assigns a node, as its full name (TF writes it into the handle)."""
    fields = dict(_DEFAULT_FIELDS)
    for part in (p for p in (device or "").split("/") if p):
        name, _, value = part.partition(":")
        if name == "device":
            kind, _, index = value.partition(":")
            fields["device"] = f"{kind.upper()}:{index or 0}"
        elif name in fields:
            fields[name] = value
    return "/job:{job}/replica:{replica}/task:{task}/device:{device}".format(**fields)


_DEFAULT_FIELDS = {"job": "localhost", "replica": "0", "task": "0", "device": "CPU:0"}


def _handle_string(handle) -> str:
    value = np.asarray(handle).reshape(-1)
    value = value[0] if value.size else b""
    return value.decode() if isinstance(value, bytes) else str(value)


@lowers("GetSessionHandle", "GetSessionHandleV2", context=True, host=True)
def get_session_handle(ctx, op, value):
    handle = _session_tensors(ctx).add(op.name, _full_device(op.device), value)
    return np.asarray(handle.encode(), dtype=object)


@lowers("GetSessionTensor", context=True, host=True)
def get_session_tensor(ctx, op, handle):
    name = _handle_string(handle)
    value = _session_tensors(ctx).tensors.get(name)
    if value is None:
        raise errors.InvalidArgumentError(None, op, f"The tensor with handle '{name}' is not in the session store.")
    _check_outputs(op, [np.asarray(value)])
    return value


@lowers("DeleteSessionTensor", context=True, host=True)
def delete_session_tensor(ctx, op, handle):
    name = _handle_string(handle)
    if _session_tensors(ctx).tensors.pop(name, None) is None:
        raise errors.InvalidArgumentError(None, op, f"Failed to delete a tensor with handle '{name}' in the session "
                                          f"store.")


# ------------------------------------------------------------------------------------------------
# Mutexes (tf.CriticalSection): TF's Mutex resource and the lock a MutexLock holds
# ------------------------------------------------------------------------------------------------
class HostMutex(_Blocking):
    def __init__(self, store: dict, key, name: str):
        super().__init__(store, key)
        self.name = name
        self.held = False

    def acquire(self, op) -> "MutexLockValue":
        with self._cond:
            self._wait_until(lambda: not self.held, op, "MutexLock")
            self.held = True
        return MutexLockValue(self)

    def release(self) -> None:
        with self._cond:
            self.held = False
            self._cond.notify_all()


class MutexLockValue:
    """The variant a MutexLock outputs: TF releases the mutex when the last reference to it goes away, which
    ConsumeMutexLock (the lock's last reader in a CriticalSection) marks; a run that fails before it
    releases when its values are dropped."""

    def __init__(self, mutex: HostMutex):
        self._mutex = mutex
        self._finalizer = weakref.finalize(self, mutex.release)

    def release(self) -> None:
        self._finalizer()   # runs the release once


@lowers("MutexV2", context=True, host=True)
def mutex_v2(ctx, op):
    return get_or_create(ctx, op, lambda store, key, name: HostMutex(store, key, name))


@lowers("MutexLock", context=True, host=True)
def mutex_lock(ctx, op, mutex):
    return mutex.acquire(op)


@lowers("ConsumeMutexLock", context=True, host=True)
def consume_mutex_lock(ctx, op, lock):
    if not isinstance(lock, MutexLockValue):
        raise errors.InvalidArgumentError(None, op, "Expected input mutex_lock to contain a MutexLock object")
    lock.release()
