"""Lowerings of tf.data ops (graphcompat/data): dataset ops bind a pipeline, iterators walk it.

A dataset op's value is its pipeline node (lowering/data, built from the op) bound to its inputs' values.
An iterator finds its one dataset in the graph: a one-shot iterator's is its `dataset_factory`'s result,
an `IteratorV2`'s the dataset of a MakeIterator it is colocated with (`make_initializable_iterator`
creates it in the dataset's colocation group, as TF's); such iterators may walk on the device. Others
(`Iterator.from_structure`, `from_string_handle`) walk on the host.

Iterator state lives in the Session store:
- `("iterator", name)`: a `HostIterator` (host walk, prefetched by a thread) or, for in-memory
  pipelines, the int64 position (a device scalar threaded through the jitted step like a variable);
  `("iterator_data", name)` holds that pipeline's arrays on the device and `("iterator_seed", name)`
  its per-initialization uint32 seed (both read-only in the step: never copied per step).
- `("iterator_count", name)` / `("iterator_card", name)`: a host mirror of the device position, so
  "End of sequence" is raised by `pre_run` before dispatch instead of by a guard computation; for a
  ragged batch `pre_run` also swaps in `("iterator_shape", name)`, a zero-byte array whose static
  shape is the next batch's size (the tail batch is a second compiled shape), and for a seeded shuffle
  (or an unseeded one whose buffer is smaller than its input) `("iterator_perm", name)`: TF's order for
  the epochs the step reads, computed once per epoch on the host (`_step_facts`).
`IteratorGetNext` of a host walk is a host input (plan.py): it runs ahead of the jitted step and its
element is fed into it, so a generator or file pipeline does not force the step to run op by op.
"""
from __future__ import annotations

import os
import queue
import threading
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework.ops import colocation_group
from lowering.data import (AUTOTUNE, INF, NODE_TYPES, Bound, DevicePlan, buffered_order, dataset_op_of,
                           device_plan, epoch_seeds, mix32, node_of, random_shuffle_seeds)
from lowering.data.context import dataset_name, name_text
from lowering.data.pipeline import Failed, tolerant_bounds
from lowering.data.transformations import OptionsNode, PrefetchNode
from lowering.interpreter import NeedsConcreteValues, RunContext, evaluate
from lowering.placement import to_device
from lowering.registry import lowers

_NOT_INITIALIZED = ("GetNext() failed because the iterator has not been initialized. Ensure that you have run "
                    "the initializer operation for this iterator before getting the next element.")
_PREFETCH = 2


def _host(x):
    return np.asarray(x) if isinstance(x, jax.Array) else x


# ------------------------------------------------------------------------------------------------
# Runtime contexts of a walk
# ------------------------------------------------------------------------------------------------
class HostRT:
    """What a host walk threads through a pipeline: function context, seeds, epochs, caches."""

    def __init__(self, ctx: RunContext, seed_base: int, nodes: list):
        self.ctx = ctx
        self.seed_base = seed_base
        self.index = {id(n): k for k, n in enumerate(nodes)}
        self.repetitions: dict = {}  # shuffle dataset values: [value, seeds, iterators made]
        self.cache: dict = {}
        # ids of the bounds that yield a Failed element for an element's error (pipeline.py `Failed`): an
        # iterator's walk goes on after it, as TF's; every other walk ends at the error
        self.tolerant: set = set()
        # the iterator's dataset: the root of the iterator prefix its functions' errors carry (data/context.py)
        self.root = None

    def shuffle_seeds(self, bound: Bound, seeds: tuple, reshuffle: bool) -> tuple:
        """The (seed, seed2) of the next shuffle iterator this walk makes of dataset value `bound`.

        TF's seed generator belongs to the dataset value: a `repeat` makes one iterator of it per epoch
        (see `epoch_seeds`), a flat_map's inner dataset is a new value per element and starts over. An
        unseeded value draws its random (seed, seed2) once. The entry keeps `bound` alive, so its id is
        not reused within the walk."""
        entry = self.repetitions.get(id(bound))
        if entry is None:
            if tuple(seeds) == (0, 0):
                seeds = random_shuffle_seeds(self.seed_base, len(self.repetitions))
            entry = self.repetitions[id(bound)] = [bound, tuple(seeds), 0]
        entry[2] += 1
        return epoch_seeds(entry[1], entry[2] - 1, reshuffle)

    def map(self, fn, elements, captured: dict, parallel_calls: int = 0, tolerant: bool = False, context=None):
        """The outputs of dataset function `fn` over `elements`: compiled in chunks when it is Python-free,
        else op by op (on `parallel_calls` threads when it asks for them and keeps no state). `tolerant`:
        an element whose call fails becomes a Failed element (an input's Failed passes through).
        `context(error)`: the function's error as TF's iterator returns it (lowering/data/context.py)."""
        compiled = getattr(fn, "_host_compiled", None)
        if compiled is None:
            compiled = fn._host_compiled = CompiledFunction(fn)
        if compiled.usable:
            return compiled.map(elements, captured, self.ctx, tolerant, context)
        workers = (os.cpu_count() or 1) if parallel_calls == AUTOTUNE else parallel_calls
        if workers > 1 and fn.parallel_safe:
            return _map_parallel(fn, elements, captured, self.ctx, workers, tolerant, context)
        return (elem if isinstance(elem, Failed) else _call(fn, elem, captured, self.ctx, tolerant, context)
                for elem in elements)


def _call(fn, elem, captured: dict, ctx: RunContext, tolerant: bool, context=None):
    """One call of a dataset function on the host: its outputs, or (tolerant) the Failed element of its error
    (`context`: see HostRT.map)."""
    try:
        return [np.asarray(v) for v in fn.call(elem, captured, ctx)]
    except errors.OpError as e:
        error = e if context is None else context(e)
        if not tolerant or isinstance(e, errors.CancelledError):
            if error is e:
                raise
            raise error from e
        return Failed(error)


class CompiledFunction:
    """A Python-free dataset function (map) run compiled on the host walk.

    Consecutive elements of equal shapes are stacked into chunks and the function, vmapped over the
    chunk, runs as one jitted call: one dispatch per chunk instead of one per op and element. Chunks
    grow 1, 2, 4 … `CHUNK` elements (a pipeline that needs few elements reads few ahead) and are padded
    to `CHUNK`, so each element signature compiles once. A run-time check that fails (or any error) in a
    chunk re-runs that chunk op by op, which raises TF's error at the element that has it; a function that
    cannot be traced (a rule needing a concrete value) runs op by op for good.
    """

    CHUNK = 64
    MAX_SIGNATURES = 8  # distinct element shapes compiled before falling back to op by op (ragged data)

    def __init__(self, fn):
        self.fn = fn
        self.usable = fn.dev_ok
        self._compiled: dict = {}

    def _build(self):
        fn = self.fn

        def one(args, captured):
            ctx = RunContext({}, traced=True)
            feeds = dict(fn.constants)
            feeds.update(zip(fn.captures, captured))  # in the order of fn.capture_inputs
            feeds.update(zip(fn.args, args))
            outs = evaluate(fn.steps, feeds, fn.outputs, ctx)
            ok = ctx.all_ok()
            return outs, jnp.asarray(True) if ok is None else ok
        return jax.jit(jax.vmap(one, in_axes=(0, None)))

    def map(self, elements, captured: dict, ctx: RunContext, tolerant: bool = False, context=None):
        """Yields the function's outputs (lists of numpy arrays) for `elements`, in order."""
        caps = [captured[t] for t in self.fn.capture_inputs]
        size, chunk, signature = 1, [], None
        for elem in elements:
            if isinstance(elem, Failed):  # the input's error, in its place among the outputs
                if chunk:
                    yield from self._run(chunk, signature, caps, captured, ctx, tolerant, context)
                    chunk = []
                yield elem
                continue
            elem = [np.asarray(v) for v in elem]
            sig = tuple((v.shape, v.dtype) for v in elem)
            if chunk and (sig != signature or len(chunk) >= size):
                yield from self._run(chunk, signature, caps, captured, ctx, tolerant, context)
                chunk, size = [], min(size * 2, self.CHUNK)
            chunk.append(elem)
            signature = sig
        if chunk:
            yield from self._run(chunk, signature, caps, captured, ctx, tolerant, context)

    def _run(self, chunk: list, signature, caps: list, captured: dict, ctx: RunContext, tolerant: bool = False,
             context=None):
        compiled = self._compiled.get(signature) if self.usable else None
        if compiled is None and self.usable and len(self._compiled) < self.MAX_SIGNATURES:
            compiled = self._compiled[signature] = self._build()
        if compiled is not None:
            pad = self.CHUNK - len(chunk)
            stacked = [np.stack([e[k] for e in chunk] + [chunk[-1][k]] * pad) for k in range(len(signature))]
            try:
                with jax.default_device(_host_cpu()):  # input pipelines run on the host CPU, as TF's tf.data
                    outs, ok = jax.device_get(compiled(stacked, caps))
            except NeedsConcreteValues:
                self.usable, outs, ok = False, None, None
            except Exception:  # noqa: BLE001 (op by op below raises TF's error at its element)
                outs, ok = None, None
            if ok is not None and bool(np.all(ok[:len(chunk)])):
                for i in range(len(chunk)):
                    yield [o[i] for o in outs]
                return
        for elem in chunk:  # op by op: the exact values and errors of TF's per-element kernel calls
            yield _call(self.fn, elem, captured, ctx, tolerant, context)


def _host_cpu():
    return jax.devices("cpu")[0]


def _map_parallel(fn, elements, captured: dict, ctx: RunContext, workers: int, tolerant: bool = False,
                  context=None):
    """TF's parallel map with deterministic order: up to `workers` calls in flight on a thread pool,
    results yielded in input order (an error surfaces at its element)."""
    from concurrent.futures import ThreadPoolExecutor
    state = ctx._state_in

    def call(elem):
        if isinstance(elem, Failed):
            return elem
        with jax.enable_x64(True):
            return _call(fn, elem, captured, RunContext(state, traced=False), tolerant, context)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graphcompat-tf.data-map") as pool:
        pending: list = []
        for elem in elements:
            pending.append(pool.submit(call, elem))
            if len(pending) >= workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


class DevRT:
    """What a device walk threads: the traced RunContext and the iterator's per-initialization seed."""

    def __init__(self, ctx: RunContext, seed, nodes: list):
        self.ctx = ctx
        self.seed = seed
        self.index = {id(n): k for k, n in enumerate(nodes)}
        # what a function's error names (lowering/data/context.py): the pipeline's root node, the epochs
        # its repeats are in (recorded when the position is concrete), its datasets' names by node
        self.root = nodes[0] if nodes else None
        self.epochs: dict = {}
        self.names: dict = {}

    def shuffle_key(self, node, epoch):
        """The `permute` key of an unseeded full-buffer shuffle's epoch (seeded ones follow host orders)."""
        base = self.seed ^ jnp.uint32((0x9E3779B9 * (self.index[id(node)] + 1)) & 0xFFFFFFFF)
        return mix32(base ^ mix32(jnp.asarray(epoch).astype(jnp.uint32) + jnp.uint32(0x632BE5AB)))


def _entropy() -> int:
    return int.from_bytes(os.urandom(4), "little")


def _queue_size(bound: Bound) -> int:
    """Elements the walk thread keeps ready: a pipeline ending in `prefetch(n)` gets n (AUTOTUNE: a few
    more than the default), others `_PREFETCH`."""
    while isinstance(bound.ds, OptionsNode):  # with_options after prefetch keeps the prefetch's size
        bound = bound.children[0]
    if isinstance(bound.ds, PrefetchNode):
        n = int(bound.vals[bound.ds._tensors[0]])
        return 4 * _PREFETCH if n == AUTOTUNE else max(_PREFETCH, n)
    return _PREFETCH


class HostIterator:
    """A host walk of a bound pipeline; a daemon thread prefetches elements ahead of `next`.

    The thread holds no reference to this object: when the iterator is re-initialized or its Session
    goes away, the iterator is collected and the thread told to stop.
    """

    def __init__(self, bound: Bound, ctx: RunContext):
        self._bound = bound
        self._rt = HostRT(ctx, _entropy(), bound.ds._nodes())
        self._rt.tolerant = tolerant_bounds(bound)
        self._rt.root = bound
        self._queue: queue.Queue = queue.Queue(_queue_size(bound))
        self._stop = threading.Event()
        self._thread = None
        self._final = None  # the exception every later `next` raises (end of sequence or an error)
        weakref.finalize(self, self._stop.set)

    @staticmethod
    def _work(bound: Bound, rt: HostRT, q: queue.Queue, stop: threading.Event) -> None:
        def put(item):
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        with jax.enable_x64(True):
            try:
                for elem in bound.ds._iter(bound, rt):
                    if not put(("elem", elem)):
                        return
                put(("end", None))
            except BaseException as e:  # surfaces through sess.run
                put(("error", e))

    def next(self, op) -> list:
        if self._final is not None:
            raise self._final
        if self._thread is None:
            self._thread = threading.Thread(target=HostIterator._work, daemon=True, name="graphcompat-tf.data",
                                            args=(self._bound, self._rt, self._queue, self._stop))
            self._thread.start()
        kind, value = self._queue.get()
        if kind == "elem":
            if isinstance(value, Failed):  # this element's error: TF's iterator goes on after it
                raise value.error
            return value
        self._final = errors.OutOfRangeError(None, op, "End of sequence") if kind == "end" else value
        raise self._final

    def close(self) -> None:
        self._stop.set()


# ------------------------------------------------------------------------------------------------
# Dataset ops and iterator initialization
# ------------------------------------------------------------------------------------------------
@lowers(*NODE_TYPES, context=True, host=True)
def dataset_op(ctx, op, *inputs):
    ds = node_of(op)
    n = len(ds._children)
    bound = Bound(ds, dict(zip(ds._tensors, (_host(x) for x in inputs[n:]))), list(inputs[:n]))
    ds._validate(bound)
    bound.name = dataset_name(ds)  # a dataset TF made (its kernel's checks passed) takes a number
    return bound


@lowers("_Arg")
def function_arg(**_):  # always fed by Function.call
    raise AssertionError("a dataset function argument was evaluated outside its function")




def _find_iterator_dataset(it_op):
    if it_op.type == "OneShotIterator":  # TF builds the pipeline from its dataset_factory function
        factory = it_op.graph._get_function(it_op.attrs["dataset_factory"].name)
        return node_of(dataset_op_of(factory.outputs[0]))
    group = colocation_group(it_op)
    if group is it_op:
        return None
    for consumer in it_op.outputs[0].consumers():
        if consumer.type == "MakeIterator":
            try:
                dataset = dataset_op_of(consumer.inputs[0])
            except NotImplementedError:  # not a dataset op: running that MakeIterator says so
                continue
            if colocation_group(dataset) is group:
                return node_of(dataset)
    return None


def iterator_dataset(it_op):
    """The one dataset iterator op `it_op` iterates (its pipeline node), or None."""
    cache = it_op.graph._extras.get("tf.data.iterator_datasets")
    if cache is None:
        cache = it_op.graph._extras["tf.data.iterator_datasets"] = {}
    if it_op not in cache:
        cache[it_op] = _find_iterator_dataset(it_op)
    return cache[it_op]


def _device_iterator(it_op) -> bool:
    """Whether iterator `it_op` walks on the device: its one dataset can, and no get_next_as_optional reads it
    (an Optional is a host value: that rule reads a host walk)."""
    ds = iterator_dataset(it_op)
    return ds is not None and device_plan(ds).ok and not any(
        c.type == "IteratorGetNextAsOptional" for c in it_op.outputs[0].consumers())


def _shape_token(get, write, name: str, size: int):
    """A zero-byte device array of shape (size, 0): its static shape tells the step its batch size."""
    tokens = get(("iterator_tokens", name))
    if tokens is None:
        tokens = {}
        write(("iterator_tokens", name), tokens)
    if size not in tokens:
        tokens[size] = to_device(np.zeros((size, 0), np.int8))
    write(("iterator_shape", name), tokens[size])


def _step_facts(get, write, name: str, plan: DevicePlan, count: int, fresh: bool = False) -> None:
    """What the host tells device step `count`: a ragged batch's size; a host-ordered shuffle's orders."""
    if plan.ragged is not None:
        _shape_token(get, write, name, plan.ragged.batch_size_of(count))
    node = plan.shuffle
    if node is None:
        return
    lo = plan.epochs_of_step(count)[0] if node._reshuffle else 0
    cached = None if fresh else get(("iterator_perm_host", name))
    if cached is not None and cached[0] == lo:
        return
    base = get(("iterator_seed_host", name))
    index = plan.nodes.index(node)
    seeds = random_shuffle_seeds(base, index) if node._random else node._seeds

    def order(epoch):
        return buffered_order(node._epoch_card(), node._buffer, epoch_seeds(seeds, epoch, node._reshuffle))

    first = cached[1][1] if cached is not None and cached[0] + 1 == lo else order(lo)
    rows = [first, order(lo + 1) if node._reshuffle else first]
    write(("iterator_perm_host", name), (lo, rows))
    write(("iterator_perm", name), to_device(np.stack(rows)))
    write(("iterator_perm_base", name), to_device(np.int64(lo)))


def _same_array(a, b) -> bool:
    """Whether a re-initialization sees the arrays of the last one (the epoch loop of an initializable
    iterator): comparing on the host is cheaper than another copy to the device."""
    if a is b:
        return True
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype and \
        a.shape == b.shape and a.dtype != object and bool(np.array_equal(a, b))


def _init_state(write, store, name: str, bound: Bound, device: bool) -> None:
    """(Re)initializes iterator `name` over `bound`: a host walk, or a device position and arrays."""
    old = store.get(("iterator", name))
    if isinstance(old, HostIterator):
        old.close()
    ds = bound.ds
    if not device:
        write(("iterator", name), HostIterator(bound, RunContext(store, traced=False)))
        write(("iterator_ds", name), ds)
        return
    values = bound.all_values()
    src = [values[t] for t in ds._dev_tensors()]
    cached = store.get(("iterator_src", name))
    if cached is not None and len(cached[0]) == len(src) and all(map(_same_array, cached[0], src)):
        data = cached[1]  # the same arrays as last initialization: keep their device copies
    else:
        data = [v if isinstance(v, jax.Array) else to_device(v) for v in src]
        write(("iterator_src", name), (src, data))
    seed = _entropy()
    # device scalars, as the step writes them back: a numpy start would give the step a second executable
    position, device_seed = to_device(np.int64(0)), to_device(np.uint32(seed))
    write(("iterator_seed", name), device_seed)
    write(("iterator", name), position)
    write(("iterator_seed_host", name), seed)
    write(("iterator_data", name), data)
    write(("iterator_count", name), 0)
    write(("iterator_card", name), ds._card())
    write(("iterator_ds", name), ds)
    # the datasets' names, for the errors of their functions (read op by op only: see iterator_get_next)
    write(("iterator_names", name), _dataset_names(bound))
    pending = {("iterator_seed_host", name): seed}
    _step_facts(lambda k: pending[k] if k in pending else store.get(k), write, name, device_plan(ds), 0, fresh=True)


def _dataset_names(bound: Bound) -> dict:
    names, todo = {}, [bound]
    while todo:
        b = todo.pop()
        names.setdefault(id(b.ds), name_text(b))
        todo.extend(b.children)
    return names


@lowers("MakeIterator", context=True, host=True)
def make_iterator(ctx, op, bound, handle):
    it_op = op.inputs[1].op
    device = _device_iterator(it_op) and iterator_dataset(it_op) is bound.ds
    _init_state(ctx.write, ctx._state_in, _name(handle), bound, device)


@lowers("IteratorV2", "OneShotIterator", context=True)
def iterator_handle(ctx, op):
    # A one-shot iterator initializes itself the first time its op runs (e.g. for `string_handle()`).
    if op.type == "OneShotIterator" and not ctx.traced and not ctx.has(("iterator", op.name)):
        _init_one_shot(ctx._state_in, op, ctx.write)
    return op.name


@lowers("IteratorToStringHandle", host=True)
def iterator_to_string_handle(handle, **_):
    return np.array(_name(handle).encode(), dtype=object)


@lowers("IteratorFromStringHandleV2")
def iterator_from_string_handle(string_handle, **_):
    return string_handle


def _name(handle) -> str:
    if isinstance(handle, np.ndarray):
        handle = handle.item()
    return handle.decode() if isinstance(handle, bytes) else str(handle)


# ------------------------------------------------------------------------------------------------
# get_next
# ------------------------------------------------------------------------------------------------
def _static_iterator(op):
    it_op = op.inputs[0].op
    return it_op if it_op.type in ("IteratorV2", "OneShotIterator", "Iterator") else None


def _is_host_walk(op) -> bool:
    it_op = _static_iterator(op)
    return it_op is None or not _device_iterator(it_op)


def _init_one_shot(store, it_op, write=None) -> None:
    from lowering.plan import normalize_attrs, prune
    from lowering.registry import get_rule
    variant = it_op.graph._get_function(it_op.attrs["dataset_factory"].name).outputs[0]
    steps = [(o, get_rule(o.type), normalize_attrs(o.attrs)) for o in prune([variant], [], set())]
    bound = evaluate(steps, {}, [variant], RunContext(store, traced=False))[0]
    _init_state(write or store.__setitem__, store, it_op.name, bound, _device_iterator(it_op))


def _advance(read, write, name: str, op) -> None:
    count, card = read(("iterator_count", name)), read(("iterator_card", name))
    if card != INF and count >= card:
        raise errors.OutOfRangeError(None, op, "End of sequence")
    write(("iterator_count", name), count + 1)


def get_next_pre_run(store, op) -> None:
    """Host bookkeeping before each run: one-shot initialization, and for device walks the end check.
    It runs before every step of a `tf.data` training loop, so its static facts (and the state keys it
    reads) are computed once per op."""
    extras = op._graph._extras
    cache = extras.get("tf.data.get_next")
    if cache is None:
        cache = extras["tf.data.get_next"] = {}
    info = cache.get(op)
    if info is None:
        it_op = _static_iterator(op)
        host_walk = _is_host_walk(op)
        plan = None if host_walk else device_plan(iterator_dataset(it_op))
        if plan is not None and plan.ragged is None and plan.shuffle is None:
            plan = None  # nothing to tell the step
        name = None if it_op is None else it_op._name
        info = cache[op] = (it_op, it_op is not None and it_op.type == "OneShotIterator", host_walk, plan,
                            name, ("iterator", name), ("iterator_count", name), ("iterator_card", name))
    it_op, one_shot, host_walk, plan, name, iterator_key, count_key, card_key = info
    if it_op is None:
        return
    if one_shot and iterator_key not in store:
        _init_one_shot(store, it_op)
    if host_walk:
        return
    count = store.get(count_key)
    if count is None:
        raise errors.FailedPreconditionError(None, op, _NOT_INITIALIZED)
    if count >= store[card_key]:
        raise errors.OutOfRangeError(None, op, "End of sequence")
    if plan is not None:
        _step_facts(store.get, store.__setitem__, name, plan, count)
    store[count_key] = count + 1


@lowers("IteratorGetNext", context=True, host_input=_is_host_walk, pre_run=get_next_pre_run)
def iterator_get_next(ctx, op, handle):
    name = _name(handle)
    if not ctx.has(("iterator", name)):
        raise errors.FailedPreconditionError(None, op, _NOT_INITIALIZED)
    state = ctx.read(("iterator", name), op)
    dtypes = [np.dtype(_dt.as_dtype(t).as_numpy_dtype) for t in op.attrs["output_types"]]
    if isinstance(state, HostIterator):
        values = state.next(op)
        out = [np.asarray(v, dtype=d) if d != object else np.asarray(v, dtype=object) for v, d in zip(values, dtypes)]
    else:
        if _is_host_walk(op):  # a device pipeline reached through a string handle: step it here
            ds = ctx.read(("iterator_ds", name))
            plan = device_plan(ds)
            _step_facts(lambda k: ctx.state[k] if k in ctx.state else ctx._state_in.get(k), ctx.write, name, plan,
                        ctx.read(("iterator_count", name)))
            _advance(ctx.read, ctx.write, name, op)
        else:
            ds = iterator_dataset(op.inputs[0].op)
            plan = device_plan(ds)
        data = ctx.read(("iterator_data", name))
        pos = state
        seed = ctx.read(("iterator_seed", name)) if any(getattr(n, "_random", False) for n in ds._nodes()) \
            else None
        rt = DevRT(ctx, seed, ds._nodes())
        # not a read: a compiled step has no use for it (a failed check re-runs the step op by op, where the
        # session's values are `_state_in`)
        rt.names = ctx._state_in.get(("iterator_names", name)) or {}
        if plan.ragged is not None:
            rt.batch_size = ctx.read(("iterator_shape", name)).shape[0]
        if plan.shuffle is not None:
            rt.perms = ctx.read(("iterator_perm", name))
            rt.perm_base = ctx.read(("iterator_perm_base", name))
        # the position moves on before the element is computed: an element whose computation fails is
        # consumed, as by TF's iterator (hidden state a failed run keeps), and the next get_next gives the next
        ctx.write(("iterator", name), pos + 1)
        values = ds._dev_elem(pos, dict(zip(ds._dev_tensors(), data)), rt)
        out = [jnp.asarray(v).astype(d) for v, d in zip(values, dtypes)]
    return out[0] if len(out) == 1 else tuple(out)


# ------------------------------------------------------------------------------------------------
# Parsing and string ops (graphcompat/ops/parsing_ops.py, string_ops.py): host rules
# ------------------------------------------------------------------------------------------------
_KIND_DTYPE = {"float_list": np.dtype(np.float32), "int64_list": np.dtype(np.int64), "bytes_list": np.dtype(object)}


def _dtype_name(d) -> str:
    return _dt.cpp_name(_dt.as_dtype(d if d != np.dtype(object) else _dt.string))


def _feature_values(feature, key: str, want, index: int, where: str = "Name: <unknown>, ", sparse: bool = False):
    """A Feature's values as `want`, with the fast parser's type-mismatch texts: a batch names the example
    (`where` "Name: <name>, ", with ", Index: i"), a single Example (`where` "") only the key; a dense feature says
    "Data type: X but expected type: Y", a sparse or ragged one "Expected type: Y, Actual type: X"."""
    kind = feature.WhichOneof("kind")
    if kind is None:
        return np.zeros([0], want)
    got = _KIND_DTYPE[kind]
    if got != want:
        at = f"{where}Key: {key}, Index: {index}.  " if where else f"Key: {key}.  "
        detail = (f"Expected type: {_dtype_name(want)}, Actual type: {_dtype_name(got)}" if sparse
                  else f"Data type: {_dtype_name(got)} but expected type: {_dtype_name(want)}")
        raise errors.InvalidArgumentError(None, None, f"{at}Data types don't match. {detail}")
    values = getattr(feature, kind).value
    return np.array(list(values), dtype=object) if want == object else np.asarray(values, dtype=want)


_LIST_KIND = {np.dtype(np.float32): "float", np.dtype(np.int64): "int64"}


@lowers("ParseSingleExample", host=True)
def parse_single_example_v1(serialized, *defaults, sparse_keys, dense_keys, sparse_types, dense_shapes, Tdense, **_):
    """TF 1.x's single-Example parser: the keys are attrs (TF 2's kernel: FastParseSingleExample)."""
    return _one_or_tuple(parse_examples(serialized, (), sparse_keys, dense_keys, [], defaults, sparse_types,
                                        dense_shapes, Tdense, [], []))


@lowers("ParseExample", host=True)
def parse_example_v1(serialized, names, *args, Nsparse, Ndense, sparse_types, dense_shapes, Tdense, **_):
    """TF 1.x's batched parser: the keys are Nsparse + Ndense scalar string inputs before the defaults."""
    sparse_keys = [_key_names(k)[0] for k in args[:Nsparse]]
    dense_keys = [_key_names(k)[0] for k in args[Nsparse:Nsparse + Ndense]]
    return _one_or_tuple(parse_examples(serialized, names, sparse_keys, dense_keys, [], args[Nsparse + Ndense:],
                                        sparse_types, dense_shapes, Tdense, [], []))


def _one_or_tuple(outs: list):
    # A one-output op takes its value bare (the interpreter would store a 1-tuple as an extra dimension).
    return outs[0] if len(outs) == 1 else tuple(outs)


def parse_examples(serialized, names, sparse_keys, dense_keys, ragged_keys, defaults, sparse_types, dense_shapes,
                   Tdense, ragged_value_types, ragged_split_types) -> list:
    """example_proto_fast_parsing's FastParseExample (a vector) / FastParseSingleExample (a scalar): sparse
    indices, values, shapes; dense values; ragged values and row splits (none for a scalar), with their texts."""
    from google.protobuf.message import DecodeError
    from graphcompat.formats.example_proto import Example
    batched = np.ndim(serialized) == 1
    records = list(np.asarray(serialized, dtype=object).reshape(-1))
    names = _key_names(names) if np.size(names) else []
    examples = []
    for i, s in enumerate(records):
        try:
            examples.append(Example.FromString(bytes(s)).features.feature)
        except DecodeError:
            text = bytes(s).decode("utf-8", errors="replace")  # TF prints the record's bytes as they are
            raise errors.InvalidArgumentError(None, None, f"Could not parse example input, value: '{text}'") from None

    def where(i: int) -> str:
        return f"Name: {names[i] if names else '<unknown>'}, " if batched else ""

    dense_out = []
    for key, shape, default, dtype in zip(dense_keys, dense_shapes, defaults, Tdense):
        dtype = np.dtype(dtype)
        shape = [None if d is None or d < 0 else int(d) for d in shape]
        if shape and shape[0] is None:  # a FixedLenSequenceFeature: rows of shape[1:], padded to the longest
            dense_out.append(_parse_rows(examples, key, shape[1:], default, dtype, batched))
            continue
        size = int(np.prod(shape, dtype=np.int64))
        rows = []
        for i, feats in enumerate(examples):
            if key not in feats or feats[key].WhichOneof("kind") is None and not batched:
                if np.size(default) == 0 and size != 0:
                    raise errors.InvalidArgumentError(
                        None, None, f"{where(i)}Feature: {key} (data type: {_dtype_name(dtype)}) is required "
                        f"but could not be found.")
                rows.append(np.broadcast_to(np.asarray(default, dtype=dtype), shape))
                continue
            values = _feature_values(feats[key], key, dtype, i, where(i))
            if values.size != size:
                kind = _LIST_KIND.get(dtype, "bytes")
                if not batched:
                    raise errors.InvalidArgumentError(
                        None, None, f"Key: {key}.  Can't parse serialized Example: Some {kind}_list slice was not "
                        f"parsed.")
                raise errors.InvalidArgumentError(
                    None, None, f"{where(i)}Key: {key}, Index: {i}.  Number of {kind} values != expected.  "
                    f"Values size: {values.size} but output shape: [{','.join(map(str, shape))}]")
            rows.append(values.reshape(shape))
        dense_out.append(np.stack(rows).astype(dtype) if batched else rows[0].astype(dtype))
    ind_out, val_out, shape_out = [], [], []
    for key, dtype in zip(sparse_keys, sparse_types):
        dtype = np.dtype(dtype)
        idx, vals, longest = [], [], 0
        for i, feats in enumerate(examples):
            values = (_feature_values(feats[key], key, dtype, i, where(i), sparse=True) if key in feats
                      else np.zeros([0], dtype))
            longest = max(longest, values.size)
            idx += [[i, j] if batched else [j] for j in range(values.size)]
            vals.append(values)
        ind_out.append(np.asarray(idx, np.int64).reshape(-1, 2 if batched else 1))
        val_out.append(np.concatenate(vals).astype(dtype) if vals else np.zeros([0], dtype))
        shape_out.append(np.asarray([len(examples), longest] if batched else [longest], np.int64))
    ragged_values, ragged_splits = [], []
    for key, dtype, split_dtype in zip(ragged_keys, ragged_value_types, ragged_split_types):
        dtype = np.dtype(dtype)
        per = [_feature_values(f[key], key, dtype, i, where(i), sparse=True) if key in f else np.zeros([0], dtype)
               for i, f in enumerate(examples)]
        ragged_values.append(np.concatenate(per).astype(dtype) if per else np.zeros([0], dtype))
        splits = np.concatenate([[0], np.cumsum([p.size for p in per])]) if batched else []
        ragged_splits.append(np.asarray(splits).astype(split_dtype))  # a scalar input's are empty, as TF's
    return ind_out + val_out + shape_out + dense_out + ragged_values + ragged_splits


def _parse_rows(examples: list, key: str, row_shape: list, default, dtype, batched: bool):
    """A variable-length dense feature of Examples (example_proto_fast_parsing's variable_length case):
    each example's flat list cut into rows of `row_shape`, the batch padded with the scalar default."""
    stride = int(np.prod(row_shape, dtype=np.int64))
    per_example = []
    for i, feats in enumerate(examples):
        values = np.zeros([0], dtype)
        if key in feats:
            kind = feats[key].WhichOneof("kind")
            if batched or kind is None or _KIND_DTYPE[kind] == dtype:
                values = _feature_values(feats[key], key, dtype, i)
            else:  # the single-example parser words its type error without name and index
                raise errors.InvalidArgumentError(
                    None, None, f"Key: {key}.  Data types don't match. Data type: {_dtype_name(_KIND_DTYPE[kind])} "
                    f"but expected type: {_dtype_name(dtype)}")
        if stride and values.size % stride:
            if batched:
                kind = {np.dtype(np.float32): "float", np.dtype(np.int64): "int64"}.get(dtype, "bytes")
                raise errors.InvalidArgumentError(
                    None, None, f"Name: <unknown>, Key: {key}, Index: {i}.  Number of {kind} values is not a multiple "
                    f"of stride length. Saw {values.size} values but output shape is: "
                    f"[{','.join(['?'] + [str(d) for d in row_shape])}]")
            raise errors.InvalidArgumentError(
                None, None, f"Error while parsing feature with key {key}: number of elements should be divisible "
                f"by {stride}, found {values.size} instead")
        per_example.append(values)
    rows = max((v.size // stride if stride else 0 for v in per_example), default=0)
    out = np.empty([len(examples), rows * stride], dtype=dtype)
    out[...] = np.asarray(default, dtype=dtype).reshape(())
    for i, v in enumerate(per_example):
        out[i, :v.size] = v
    out = out.reshape([len(examples), rows] + list(row_shape))
    # A single Example is not padded: its rows are its own.
    return out if batched else out[0]


def _key_names(keys) -> list:
    return [k.decode() if isinstance(k, bytes) else str(k) for k in np.asarray(keys, dtype=object).reshape(-1)]


def _typed_values(feature, want):
    """A Feature's values as `want`, or None when its list is of another kind; a Feature with no list at all
    is empty, unchecked (TF's fast parser skips an empty submessage)."""
    kind = feature.WhichOneof("kind")
    if kind is None:
        return np.zeros([0], want)
    if _KIND_DTYPE[kind] != want:
        return None
    values = getattr(feature, kind).value
    return np.array(list(values), dtype=object) if want == object else np.asarray(values, dtype=want)


def _debug_shape(dims) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


@lowers("ParseSequenceExampleV2", host=True)
def parse_sequence_example(serialized, debug_name, context_sparse_keys, context_dense_keys, context_ragged_keys,
                           feature_list_sparse_keys, feature_list_dense_keys, feature_list_ragged_keys,
                           feature_list_dense_missing_assumed_empty, *context_dense_defaults, context_sparse_types,
                           Tcontext_dense, context_dense_shapes, feature_list_sparse_types,
                           feature_list_dense_types, feature_list_dense_shapes, **_):
    """example_proto_fast_parsing's FastParseSequenceExample: its passes and checks in its order (parse all
    records; context lengths and types; feature-list lengths and types; context dense, context sparse,
    feature-list dense, feature-list sparse), with its error texts."""
    from google.protobuf.message import DecodeError
    from graphcompat.formats.example_proto import SequenceExample
    if _key_names(context_ragged_keys) or _key_names(feature_list_ragged_keys):
        raise NotImplementedError("tf.io.RaggedFeature in parse_sequence_example is not supported")
    batched = np.ndim(serialized) == 1
    names = _key_names(debug_name)
    if names and len(names) != np.size(serialized):
        raise errors.InvalidArgumentError(None, None, "example_names must be empty or have the correct number of "
                                          "elements")
    records = list(np.asarray(serialized, dtype=object).reshape(-1))
    n = len(records)

    def name_of(e: int) -> str:
        return names[e] if names else "<unknown>"

    contexts, lists = [], []
    for e, record in enumerate(records):
        try:
            proto = SequenceExample.FromString(bytes(record))
        except DecodeError:
            raise errors.InvalidArgumentError(None, None, f"Invalid protocol message input, example id: "
                                              f"{name_of(e)}") from None
        contexts.append(proto.context.feature)
        lists.append(proto.feature_lists.feature_list)
    c_sparse = list(zip(_key_names(context_sparse_keys), map(np.dtype, context_sparse_types)))
    c_dense = list(zip(_key_names(context_dense_keys), map(np.dtype, Tcontext_dense), context_dense_shapes,
                       context_dense_defaults))
    f_sparse = list(zip(_key_names(feature_list_sparse_keys), map(np.dtype, feature_list_sparse_types)))
    assumed_empty = list(np.asarray(feature_list_dense_missing_assumed_empty, dtype=bool).reshape(-1))
    f_dense = list(zip(_key_names(feature_list_dense_keys), map(np.dtype, feature_list_dense_types),
                       feature_list_dense_shapes, assumed_empty))

    # Pass 1: every requested value, type-checked; dense lengths are maxima (a context default counts).
    ctx_values = {}
    for key, dtype in c_sparse + [(k, d) for k, d, _, _ in c_dense]:
        per = []
        for e, feats in enumerate(contexts):
            if key not in feats:
                per.append(None)
                continue
            values = _typed_values(feats[key], dtype)
            if values is None:
                raise errors.InvalidArgumentError(
                    None, None, f"Name: {name_of(e)}, Context feature: {key}.  Data types don't match. Expected "
                    f"type: {_dtype_name(dtype)}")
            per.append(values)
        ctx_values[key] = per
    fl_values = {}
    for key, dtype in f_sparse + [(k, d) for k, d, _, _ in f_dense]:
        per = []
        for e, feature_lists in enumerate(lists):
            if key not in feature_lists:
                per.append(None)
                continue
            steps = []
            for row, step in enumerate(feature_lists[key].feature):
                values = _typed_values(step, dtype)
                if values is None:
                    raise errors.InvalidArgumentError(
                        None, None, f"Name: {name_of(e)}, Feature list: {key}, Index: {row}.  Data types don't "
                        f"match. Expected type: {_dtype_name(dtype)}")
                steps.append(values)
            per.append(steps)
        fl_values[key] = per

    c_dense_out = []
    for key, dtype, shape, default in c_dense:
        shape = [int(d) for d in shape]
        size = int(np.prod(shape, dtype=np.int64))
        default = np.asarray(default, dtype=dtype)
        longest = max([default.size] + [v.size for v in ctx_values[key] if v is not None])
        if longest != size:
            raise errors.InvalidArgumentError(None, None, f"Inconsistent max number of elements for feature {key}: "
                                              f"expected {size}, but found {longest}")
        rows = []
        for e, values in enumerate(ctx_values[key]):
            if values is None:
                if default.size == 0:
                    raise errors.InvalidArgumentError(None, None, f"Feature: {key} (data type: "
                                                      f"{_dtype_name(dtype)}) is required but could not be found.")
                values = default.reshape(-1)
            if values.size != longest:
                raise errors.InvalidArgumentError(None, None, f"Unexpected number of elements in example "
                                                  f"{name_of(e)}")
            rows.append(values.reshape(shape))
        out = np.stack(rows).astype(dtype) if rows else np.zeros([0] + shape, dtype)
        c_dense_out.append(out if batched else out[0])

    c_idx, c_val, c_shape = [], [], []
    for key, dtype in c_sparse:
        idx, vals, cols = [], [], 0
        for e, values in enumerate(ctx_values[key]):
            if values is None:
                continue
            cols = max(cols, values.size)
            idx += [[e, i] if batched else [i] for i in range(values.size)]
            vals.append(values)
        c_idx.append(np.asarray(idx, np.int64).reshape(-1, 2 if batched else 1))
        c_val.append(np.concatenate(vals).astype(dtype) if vals else np.zeros([0], dtype))
        c_shape.append(np.asarray([n, cols] if batched else [cols], np.int64))

    f_dense_out, f_lengths = [], []
    for key, dtype, shape, may_be_missing in f_dense:
        row_shape = [int(d) for d in shape]
        stride = int(np.prod(row_shape, dtype=np.int64))
        longest = max([sum(v.size for v in steps) for steps in fl_values[key] if steps is not None], default=0)
        if stride == 0 or longest % stride:
            raise errors.InvalidArgumentError(
                None, None, f"Feature list '{key}' has an unexpected number of values.  Total values size: "
                f"{longest} is not consistent with output shape: {_debug_shape([None] + row_shape)}")
        max_rows = longest // stride
        out = np.zeros([n, max_rows * stride], dtype) if dtype != object else np.full([n, max_rows * stride], b"",
                                                                                        dtype=object)
        lengths = np.zeros([n], np.int64)
        for e, steps in enumerate(fl_values[key]):
            if steps is None:
                if not may_be_missing:
                    raise errors.InvalidArgumentError(
                        None, None, f"Name: {name_of(e)}, Feature list '{key}' is required but could not be found.  "
                        f"Did you mean to include it in feature_list_dense_missing_assumed_empty or "
                        f"feature_list_dense_defaults?")
                continue
            for row, values in enumerate(steps):
                if values.size != stride:
                    raise errors.InvalidArgumentError(
                        None, None, f"Name: {name_of(e)}, Key: {key}, Index: {row}.  Number of values != expected.  "
                        f"values size: {values.size} but output shape: {_debug_shape(row_shape)}")
                out[e, row * stride:(row + 1) * stride] = values
            lengths[e] = len(steps)
        out = out.reshape([n, max_rows] + row_shape)
        f_dense_out.append(out if batched else out[0])
        f_lengths.append(lengths if batched else lengths[0])

    f_idx, f_val, f_shape = [], [], []
    for key, dtype in f_sparse:
        idx, vals, max_rows, max_cols = [], [], 0, 0
        for e, steps in enumerate(fl_values[key]):
            if steps is None:
                continue
            max_rows = max(max_rows, len(steps))
            for row, values in enumerate(steps):
                max_cols = max(max_cols, values.size)
                idx += [[e, row, i] if batched else [row, i] for i in range(values.size)]
                vals.append(values)
        f_idx.append(np.asarray(idx, np.int64).reshape(-1, 3 if batched else 2))
        f_val.append(np.concatenate(vals).astype(dtype) if vals else np.zeros([0], dtype))
        f_shape.append(np.asarray([n, max_rows, max_cols] if batched else [max_rows, max_cols], np.int64))

    outs = (c_idx + c_val + c_shape + c_dense_out + f_idx + f_val + f_shape + f_dense_out + f_lengths)
    return outs[0] if len(outs) == 1 else tuple(outs)


@lowers("DecodeRaw", host=True)
def decode_raw(data, *, out_type, little_endian=True, **_):
    arr = np.asarray(data, dtype=object)
    flat = [bytes(b) for b in arr.reshape(-1)]
    dtype = np.dtype(out_type).newbyteorder("<" if little_endian else ">")
    sizes = {len(b) for b in flat}
    if len(sizes) > 1:
        first = len(flat[0])
        k = next(i for i, b in enumerate(flat) if len(b) != first)
        raise errors.InvalidArgumentError(None, None, f"DecodeRaw requires input strings to all be the same size, "
                                          f"but element {k} has size {first} != {len(flat[k])}")  # TF's order
    if flat and len(flat[0]) % dtype.itemsize:
        raise errors.InvalidArgumentError(None, None, f"Input to DecodeRaw has length {len(flat[0])} that is not a "
                                          f"multiple of {dtype.itemsize}, the size of {np.dtype(out_type).name}")
    n = len(flat[0]) // dtype.itemsize if flat else 0
    out = np.stack([np.frombuffer(b, dtype=dtype) for b in flat]) if flat else np.zeros([0, 0], dtype)
    return out.astype(np.dtype(out_type)).reshape(arr.shape + (n,))


@lowers("ReadFile", host=True)
def read_file(filename, **_):
    path = _name(filename)
    try:
        with open(path, "rb") as f:
            return np.array(f.read(), dtype=object)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory") from None


def _csv_fields(line: str, delim: str, quotes: bool, k: int) -> list:
    if not quotes:
        return line.split(delim)
    fields, cur, i, quoted = [], [], 0, False
    while i <= len(line):
        c = line[i] if i < len(line) else None
        if quoted:
            if c is None:
                raise errors.InvalidArgumentError(None, None, f"Quoted field has to end with quote followed by "
                                                  f"delim or end, record {k}")
            if c == '"':
                if i + 1 < len(line) and line[i + 1] == '"':
                    cur.append('"')
                    i += 1
                else:
                    quoted = False
            else:
                cur.append(c)
        elif c is None or c == delim:
            fields.append("".join(cur))
            cur = []
        elif c == '"' and not cur:
            quoted = True
        else:
            cur.append(c)
        i += 1
    return fields


@lowers("DecodeCSV", host=True)
def decode_csv(records, *defaults, OUT_TYPE, field_delim=",", use_quote_delim=True, na_value="",
               select_cols=(), **_):
    arr = np.asarray(records, dtype=object)
    cols = [[] for _ in defaults]
    for k, rec in enumerate(arr.reshape(-1)):
        line = rec.decode() if isinstance(rec, bytes) else str(rec)
        fields = _csv_fields(line, field_delim, use_quote_delim, k)
        if select_cols:
            fields = [fields[c] for c in select_cols if c < len(fields)]
        if len(fields) != len(defaults):
            raise errors.InvalidArgumentError(None, None, f"Expect {len(defaults)} fields but have {len(fields)} "
                                              f"in record {k}")
        for c, (field, default, dtype) in enumerate(zip(fields, defaults, OUT_TYPE)):
            dtype = np.dtype(dtype)
            if field == "" or field == na_value:
                if np.size(default) == 0:
                    raise errors.InvalidArgumentError(None, None, f"Field {c} is required but missing in record "
                                                      f"{k}!")
                cols[c].append(np.asarray(default).reshape(-1)[0])
                continue
            try:
                if dtype == object:
                    cols[c].append(field.encode())
                elif dtype.kind == "i":
                    value = int(field.replace("_", "?"))  # (Python's int reads "1_0"; TF's SimpleAtoi does not)
                    if not np.iinfo(dtype).min <= value <= np.iinfo(dtype).max:  # SimpleAtoi fails on overflow
                        raise ValueError(field)
                    cols[c].append(value)
                else:
                    cols[c].append(float(field))
            except ValueError:
                # TF names the column's type: int32, int64, float or double
                kind = {"int32": "int32", "int64": "int64", "float32": "float", "float64": "double"}.get(
                    dtype.name, "string")
                raise errors.InvalidArgumentError(
                    None, None, f"Field {c} in record {k} is not a valid {kind}: {field}") from None
    out = tuple(np.array(c, dtype=np.dtype(d)).reshape(arr.shape) for c, d in zip(cols, OUT_TYPE))
    return out[0] if len(out) == 1 else out


@lowers("StringSplit", host=True)
def string_split(source, delimiter, *, skip_empty=True, **_):
    delims = _name(delimiter).encode()
    indices, values, longest = [], [], 0
    for i, s in enumerate(np.asarray(source, dtype=object).reshape(-1)):
        s = s if isinstance(s, bytes) else str(s).encode()
        if not s:  # TF's kernel splits an empty string into no tokens, even with skip_empty=False
            continue
        if delims:
            tokens, cur = [], bytearray()
            for ch in s:
                if ch in delims:
                    tokens.append(bytes(cur))
                    cur = bytearray()
                else:
                    cur.append(ch)
            tokens.append(bytes(cur))
        else:
            tokens = [bytes([ch]) for ch in s]
        if skip_empty:
            tokens = [t for t in tokens if t]
        longest = max(longest, len(tokens))
        for j, t in enumerate(tokens):
            indices.append([i, j])
            values.append(t)
    return (np.asarray(indices, np.int64).reshape(-1, 2), np.array(values, dtype=object),
            np.asarray([np.size(source), longest], np.int64))
