"""The executor: decides how a Plan runs, and runs it against a session's state.

Two tiers, one interpreter (lowering/interpreter.py `evaluate`):
- op by op: each rule runs eagerly on concrete values. No compile, but every new (op, shape) pays for a
  small XLA kernel, so it wins only when those kernels already exist: one-off fetches of small graphs (a
  notebook cell), plans that need host values (strings, py_func), and the host tail of a step.
- compiled: the same loop traced once into `(state, feeds) -> (fetches, state', checks)` under
  `jax.jit`, the written state buffers donated; jax caches one executable per input shape.

Policy (`PlanRunner._first_tier`): a plan that is not a loop body runs op by op on its first run, unless
it is small and has a feed of open shape (its bucketed executable will serve the next shapes too); random
ops then draw on the host with numpy, so initializers compile nothing. A loop body compiles on its first
run; every plan compiles from its second run on. `deterministic()` mode compiles every
device plan, so a fetch returns the same bits on every run whichever run it is.

Every run is atomic for variables: a run that raises changes no variable. Op by op, writes are staged
and committed at the end; compiled, every write is gated on the conjunction of the run's checks (a
select, or for scatters an effect that drops its indices, see RunContext.write_effect) and a failed run
is re-run op by op from the unchanged state to raise TF's error with its run-time values. Hidden state
(RNG counters, iterator positions) advances as far as TF's ops would have run before the failure.

A run that fetches no tensor value returns once its step is dispatched when asynchronous dispatch is on
(the default on GPU/TPU, `GRAPHCOMPAT_ASYNC=1` anywhere): its checks are then read at the next run that
brings values to the host, which raises the earlier run's error, naming it (its writes were gated).
"""
from __future__ import annotations

import concurrent.futures
import operator
import os
import threading
import time
from typing import Callable, Optional, Sequence

import jax
import numpy as np

from graphcompat.framework import errors
from lowering import stats
from lowering import padding
from lowering import parallel as _parallel
from lowering import placement as _placing
from lowering import segments as _segments
from lowering.interpreter import CapacityExceeded, LoopHints, NeedsObservedRun, RunContext, evaluate
from lowering.registry import get_rule, kernel_type
from lowering import plan as _plan
from lowering.plan import Plan


# ------------------------------------------------------------------------------------------------
# Configuration
# ------------------------------------------------------------------------------------------------
# Open dimensions are padded to powers of two, at least this: a server's requests of 1..97 rows then
# cost two compiles, not one per size; the price is computing up to this many rows for a batch of one.
DEFAULT_MINIMUM_BUCKET = 64


def _env_flag(name: str) -> Optional[bool]:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    return value.lower() not in ("0", "false", "no", "off")


class _Config:
    """Executor settings: environment variables at import, changeable with the functions below."""

    def __init__(self):
        self.deterministic = bool(_env_flag("GRAPHCOMPAT_DETERMINISTIC"))
        self.async_dispatch = _env_flag("GRAPHCOMPAT_ASYNC")   # None: on for GPU/TPU, off on CPU
        buckets = os.environ.get("GRAPHCOMPAT_SHAPE_BUCKETS", "").strip().lower()
        self.buckets = None if buckets in ("0", "off", "false", "no") else \
            padding.Buckets(int(buckets) if buckets.isdigit() else DEFAULT_MINIMUM_BUCKET)
        # lowering/parallel.py DataParallel, or "env" (GRAPHCOMPAT_DATA_PARALLEL: built at first use, so
        # importing does not pick the devices before jax.distributed connects)
        self.data_parallel = "env" if _env_flag("GRAPHCOMPAT_DATA_PARALLEL") else None
        # hot exact shapes (PlanRunner._hot_shape) compile in a background thread; off: at once, blocking
        self.background_compile = _env_flag("GRAPHCOMPAT_BACKGROUND_COMPILE") is not False


config = _Config()


def set_deterministic(enabled: bool = True) -> None:
    """Compile every device plan (never op by op), so each fetch returns identical bits on every run.

    The op-by-op tier and a compiled executable may round differently in the last bit (XLA fuses and
    reorders float math). Deterministic mode costs a compile for one-off fetches."""
    config.deterministic = bool(enabled)


def set_shape_buckets(minimum: Optional[int] = DEFAULT_MINIMUM_BUCKET) -> None:
    """Pad open feed dimensions to powers of two of at least `minimum` where that provably cannot change a
    result (lowering/padding.py), so new sizes rarely compile; `None` runs every size at its exact shape."""
    config.buckets = None if minimum is None else padding.Buckets(int(minimum))


def set_background_compile(enabled: bool = True) -> None:
    """Whether the executable for a hot exact feed shape (see `PlanRunner._hot_shape`) compiles in a
    background thread while padded runs go on (True), or at once, in the run that makes the shape hot."""
    config.background_compile = bool(enabled)


def set_async_dispatch(enabled: Optional[bool]) -> None:
    """Whether runs that fetch no tensor value return before their step finishes (None: automatic,
    on for GPU and TPU where waiting for the device costs far more than on a CPU)."""
    config.async_dispatch = enabled


def set_data_parallel(layout: Optional[_parallel.DataParallel]) -> None:
    """Compiled steps run data parallel over `layout`'s mesh (None: on one device). Plans compiled
    before the call keep their layout; call it before the first Session.run."""
    config.data_parallel = layout


def data_parallel() -> Optional[_parallel.DataParallel]:
    """The data-parallel layout in force, or None."""
    layout = config.data_parallel
    if layout == "env":
        uneven = os.environ.get("GRAPHCOMPAT_DATA_PARALLEL_UNEVEN", "replicate").strip().lower() or "replicate"
        layout = config.data_parallel = _parallel.DataParallel(uneven=uneven)
    return layout


def _multiprocess() -> bool:
    """Data parallel over several processes: every device plan compiles (an op-by-op run would see this
    process's rows only) and nothing is padded (padding is per process, the batch is global)."""
    layout = config.data_parallel
    return layout is not None and (layout == "env" or layout.multiprocess) and data_parallel().multiprocess


_default_backend: list = []


def _async_enabled() -> bool:
    if config.async_dispatch is not None:
        return config.async_dispatch
    if not _default_backend:
        _default_backend.append(jax.default_backend())
    return _default_backend[0] != "cpu"


# ------------------------------------------------------------------------------------------------
# jax.jit for plans
# ------------------------------------------------------------------------------------------------
# jax's C++ dispatch keeps one process-wide table of live jitted functions (8,192 entries, shared with
# jax's own eager-op caches); once it is full, a new jitted function gets no fast path and every call goes
# through jax's Python dispatch (5-10x slower for a small step). A long process (a notebook, a server, the
# test suite) fills it with jax's own entries, so plans get a table of their own; a closed Session's
# entries leave it at once (PlanRunner.release).
PLAN_JIT_TABLE_SIZE = 1 << 16
_plan_jit_table = None


def plan_jit(fn, **jit_kwargs):
    """`jax.jit(fn, **jit_kwargs)` whose fast-path entry lives in graphcompat's own table."""
    global _plan_jit_table
    try:  # jax's hook for the table is private: without it, plain jax.jit
        from jax._src import config as jax_config
        from jax._src import pjit as jax_pjit
        if _plan_jit_table is None:
            _plan_jit_table = jax_pjit.make_jit_cpp_cache(PLAN_JIT_TABLE_SIZE)
        use_table = jax_config.jax_jit_cpp_cache_obj(_plan_jit_table)
    except (ImportError, AttributeError, TypeError):
        return jax.jit(fn, **jit_kwargs)
    with use_table:
        return jax.jit(fn, **jit_kwargs)


# ------------------------------------------------------------------------------------------------
# Session state
# ------------------------------------------------------------------------------------------------
class SessionState:
    """What a Session's runs share: state values (variables, RNG counters, iterators), the lock held while
    a compiled step reads, dispatches and commits (its buffers are donated), and the checks of
    asynchronous runs not yet read."""

    def __init__(self):
        self.values: dict = {}
        self.lock = threading.RLock()
        self.pending: list = []   # [(ok device bool, PlanRunner, check messages)]
        # set once a run placed ops on several devices: state may then live on any of them, and other
        # runs copy what they read to their own device first (jit refuses arguments on two devices)
        self.mixed_devices = False

    def raise_pending(self, wait: bool) -> None:
        """Before a run that reads values (`wait=True`): raises the error of the oldest earlier
        asynchronous run whose checks failed. Before another asynchronous run (`wait=False`): only drops
        finished runs that passed, so a long loop that never reads values keeps no backlog."""
        if not wait:
            self.pending = [entry for entry in self.pending if not entry[0].is_ready() or not bool(entry[0])]
            return
        while self.pending:
            ok, runner, meta = self.pending.pop(0)
            if not bool(ok):
                self.pending.clear()
                cls, message, op = meta
                plan = runner.plan
                names = ", ".join([o.name for o in plan.target_ops[:3]] + [t.name for t in plan.fetch_tensors[:3]])
                raise cls(None, op, f"{message} (raised by an earlier asynchronous run of {names}, which "
                                    "changed no variable; it is reported at the first run that reads values)")


# ------------------------------------------------------------------------------------------------
# The compiled tier
# ------------------------------------------------------------------------------------------------
class RefusedWhileTracing(Exception):
    """A rule raised TF's error while a step was being traced for new shapes (a Slice past a fed image's
    edge): nothing ran. The executor then runs the step op by op, in TF's order, so that an Assert guarding
    that op raises first with TF's text (tf.image's crop checks); the plan stays compiled for other shapes.
    Errors from anything else (feeding, splitting a batch over devices, running) are not this."""

    def __init__(self, error: errors.OpError):
        super().__init__(str(error))
        self.error = error


class _tracing:
    """Turns a tf.errors.OpError raised inside the block into RefusedWhileTracing."""

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is not None and issubclass(kind, errors.OpError):
            raise RefusedWhileTracing(value) from value
        return False


def _x64_switch() -> tuple:
    """(turn_on, restore): `previous = turn_on(True)` turns jax's 64-bit mode on for this thread,
    `restore(previous)` turns it back, as `with jax.enable_x64(True)` does, without the context manager's
    two Python method calls (0.13 µs of a 20 µs step). jax's own context manager where its config lacks
    those methods or runs a hook on them."""
    try:
        from jax._src.config import enable_x64 as state
        if state._update_thread_local_hook is None:
            return state.swap_local, state.set_local
    except (ImportError, AttributeError):
        pass

    def turn_on(value):
        manager = jax.enable_x64(value)
        manager.__enter__()
        return manager

    def restore(manager):
        manager.__exit__(None, None, None)
    return turn_on, restore


class _Untraced(Exception):
    """jax began tracing a step for the steady step (PlanRunner.steady_run): it has no executable for these
    arguments, and the run takes the general path instead."""


class Compiled:
    """One plan traced into `(*donated, *kept, *feeds) -> (*fetches, *written[, ok])` under jax.jit.

    Which state the plan reads and writes is found once by an abstract trace (no compile, no run).
    jax.jit keeps one executable per feed shape signature; `shapes` counts the signatures seen.
    """

    def __init__(self, plan: Plan, store: dict, feed_values: Sequence, donate: bool, pad=None,
                 hints: Optional[LoopHints] = None):
        self.plan = plan
        self.pad = pad
        steps, fetch_tensors, feed_tensors = plan.steps, plan.fetch_tensors, plan.all_feeds
        # padded runs: the ops the analysis marked run masked, reading the true sizes from `sizes_cell`
        # [true sizes (traced), (padded sizes (static, from the feeds' shapes), Pad.flat)]
        sizes_cell: list = [None, None]
        # a masked op wraps the rule its step runs (a division grappler rewrites runs lowering/grappler.py's)
        step_rules = {op: rule for op, rule, _ in steps} if pad is not None else {}
        overrides = {op: padding.masked_rule(op, step_rules.get(op) or get_rule(op.type), kind, spec, sizes_cell)
                     for op, (kind, spec) in pad.masked.items()} if pad is not None else {}
        # the state probe traces the step this object runs: masked, with traced true sizes (a check on the
        # batch size must be a check there too, not a constant of the bucket size)
        reads, writes, inits = _state_access(plan, store, feed_values, dict(overrides), sizes_cell, pad, hints)
        self.inits = inits
        self.writes = writes
        self.donated_keys = [k for k in reads if k in writes] if donate else []
        self.kept_keys = [k for k in reads if k not in self.donated_keys]
        self.check_meta: list = []
        check_meta = self.check_meta
        # data parallel (lowering/parallel.py): which feeds are batches, split over the mesh; the batches
        # a dataset iterator produces inside the step are split too
        self.dp = data_parallel()
        dp = self.dp
        if dp is not None:
            for op, rule, _ in steps:
                if kernel_type(op.type) == "IteratorGetNext" and rule.context:  # IteratorGetNextSync too
                    overrides[op] = _parallel.sharded_batches(overrides.get(op, rule), dp)
        if overrides:
            steps = [(op, overrides.get(op, rule), attrs) for op, rule, attrs in steps]

        fed = plan.feed_tensors + plan.input_tensors
        self.batch_positions = _parallel.batch_positions(fed) if dp is not None else []
        self.feed_names = [t.name for t in fed]

        # The jitted step takes its arguments flat, `(*donated, *kept, *feeds[, sizes])`, and returns one
        # flat tuple `(*fetched, *written[, ok])`: nested lists cost jax's dispatch a pytree walk each way,
        # which is measurable in a loop of tiny steps (0.5 µs of a 20 µs linear-regression step).
        n_donated, n_state = len(self.donated_keys), len(self.donated_keys) + len(self.kept_keys)
        padded = pad is not None
        # sizes the step counts itself (tf.where's rows) come back after the fetches, to cut them
        counted = padded and bool(pad.computed)
        self.n_fetched = len(fetch_tensors) + counted
        self.n_out = self.n_fetched + len(writes)

        donated_keys, kept_keys = self.donated_keys, self.kept_keys
        # open while anything but the steady step calls `jitted`: the steady step closes it, so an argument
        # signature jax has no executable for (a new feed shape, a state array re-created with another
        # shape) raises _Untraced at the start of jax's trace, and that run takes the general path, which
        # pads, counts and compiles it. The steady step needs no shape check of its own.
        self.trace_gate = trace_gate = [True]

        # `fn` must not reference `self`: jax's process-wide table of jitted functions (8,192 of them) keeps
        # an entry per live jitted function, and once it is full a new function gets no C++ fast path (each
        # call then takes jax's Python dispatch). A Compiled <-> fn cycle would keep a closed Session's
        # executables in that table until a full garbage collection.
        def fn(*args):
            if not trace_gate[0]:
                raise _Untraced
            if padded:
                padding.bind_sizes(sizes_cell, pad, args[-1], args[n_state:-1])
            else:
                sizes_cell[0] = ()
            state_in = dict(zip(donated_keys, args[:n_donated]))
            state_in.update(zip(kept_keys, args[n_donated:n_state]))
            ctx = RunContext(state_in, traced=True)
            ctx.defer_effects = True
            ctx.rule_overrides = overrides
            ctx.loop_hints = hints
            fetched = evaluate(steps, dict(zip(feed_tensors, args[n_state:-1] if padded else args[n_state:])),
                               fetch_tensors, ctx)
            if counted:
                fetched = [*fetched, sizes_cell[0]]
            check_meta[:] = [(cls, msg, op) for _, cls, msg, op in ctx.checks]
            ok = ctx.all_ok()
            written = ctx.final_writes(state_in)
            if dp is not None:  # every device keeps the same variables
                written = dp.constrain_replicated(written)
            if len(written) != len(writes):
                raise AssertionError(f"a step wrote {len(written)} state values, its state trace found {len(writes)}")
            return (*fetched, *written) if ok is None else (*fetched, *written, ok)

        self.jitted = plan_jit(fn, donate_argnums=tuple(range(n_donated)))
        self.hoisted = [jax.device_put(v) if dp is None else jax.device_put(v, dp.replicated)
                        for v in plan.hoisted.values()]
        self.shapes: set = set()
        # executables compiled ahead of time (in the background) for some signatures: {signature: executable}
        self.aot: dict = {}
        # feeds whose shapes may change from run to run (open dimensions, host-input batches)
        self.varying = plan.open_feeds or bool(plan.input_tensors)

    def arguments(self, store: dict, feed_values: Sequence, sizes=()) -> list:
        """The jitted step's flat arguments: `(*donated, *kept, *feeds, *hoisted[, sizes])`."""
        args = [store[k] for k in self.donated_keys]
        args += [store[k] for k in self.kept_keys]
        args += _device_feeds(self.plan, feed_values)
        args += self.hoisted
        if self.pad is not None:
            args.append(np.asarray(sizes, np.int32))
        return args

    def split(self, out: tuple) -> tuple:
        """(fetched, written, oks) of the jitted step's flat result."""
        n_fetched, n_out = self.n_fetched, self.n_out
        return list(out[:n_fetched]), out[n_fetched:n_out], out[n_out:]

    def sized_by_hints(self) -> bool:
        """Whether a check of this step is a capacity taken from LoopHints (known once it was traced):
        such a failure is not an error but a step to re-run op by op, so its checks are read at once."""
        return any(cls is CapacityExceeded for cls, _, _ in self.check_meta)

    def lower(self, store: dict, feed_values: Sequence, sizes=()):
        """jax's Lowered form of this step for these feeds (tests read its HLO)."""
        with jax.enable_x64(True):
            return self.jitted.lower(*self.arguments(store, feed_values, sizes))

    def __call__(self, store: dict, feed_values: Sequence, sizes=()):
        """(fetched, written, oks) of one run of the step; the caller commits `written`."""
        for key, init in self.inits.items():
            if key not in store:  # hidden state not created yet (a random op's first run): its start
                store[key] = _stored(init())
        if self.dp is not None:
            feed_values = self.distribute(store, feed_values)
        args = self.arguments(store, feed_values, sizes)
        signature = self.signature(feed_values)
        if signature in self.shapes:
            t0 = time.perf_counter()
            out = (self.aot.get(signature) or self.jitted)(*args)
            stats.record_compiled(time.perf_counter() - t0)
            return self.split(out)
        # a new shape signature: this call traces and compiles (or loads from the persistent cache)
        with stats.compiling(self.plan, len(self.plan.steps), signature, padded=self.pad is not None), _tracing():
            out = self.jitted(*args)
        self.shapes.add(signature)
        return self.split(out)

    def distribute(self, store: dict, feed_values: Sequence) -> list:
        """Data parallel: the state this step reads replicated on the mesh (in `store`), the batch feeds
        split over it; an uneven batch runs replicated (or raises, lowering/parallel.py)."""
        dp = self.dp
        dp.replicate_state(store, self.donated_keys)
        dp.replicate_state(store, self.kept_keys)
        sharded = dp.shard_feeds(feed_values, self.batch_positions, self.feed_names)
        return dp.replicate_feeds(feed_values) if sharded is None else sharded

    def signature(self, feed_values: Sequence) -> tuple:
        """What selects an executable: the feeds' shapes (their dtypes are fixed by conversion)."""
        if not self.varying:
            return ()
        if self.plan.host_only_feeds:  # strings the step never sees: their shapes select nothing
            feed_values = _device_feeds(self.plan, feed_values)
        return tuple(np.shape(v) for v in feed_values)


def _state_access(plan: Plan, store: dict, feed_values: Sequence, overrides: Optional[dict] = None,
                  sizes_cell: Optional[list] = None, pad: Optional[padding.Pad] = None,
                  hints: Optional[LoopHints] = None):
    """(reads, writes, inits) of `plan` from an abstract trace: which state keys it reads and writes,
    and the hidden state it creates when absent (RNG counters). Only context rules touch state.

    A padded step is traced as it runs: `overrides` (its masked rules) in place of the ops' own, reading
    `pad`'s traced true sizes from `sizes_cell`. Unmasked, its shape values would be the bucket's
    constants: a check on them vanishes or fails while tracing, a loop runs to the bucket size."""
    if not plan.stateful:
        return [], [], {}
    # Host-side state (dataset objects, host iterators) is closed over; arrays are traced abstractly.
    keys = [k for k, v in store.items() if _is_array_tree(v)]
    static = {k: v for k, v in store.items() if not _is_array_tree(v)}
    found = {}
    overrides = overrides or {}
    steps = [(op, overrides.get(op, rule), attrs) for op, rule, attrs in plan.steps] if overrides else plan.steps

    def probe(state_values, feeds, sizes):
        if pad is not None:
            padding.bind_sizes(sizes_cell, pad, sizes, feeds)
        elif sizes_cell is not None:
            sizes_cell[0] = sizes
        state_in = dict(static)
        state_in.update(zip(keys, state_values))
        ctx = RunContext(state_in, traced=True)
        ctx.defer_effects = True
        ctx.state_access_only = True  # rules may skip work that touches no state (a gradient's backward pass)
        ctx.rule_overrides = overrides
        ctx.loop_hints = hints
        evaluate(steps, dict(zip(plan.all_feeds, feeds)), plan.fetch_tensors, ctx)
        reads = list(dict.fromkeys(ctx.reads))
        if ctx.all_ok() is not None:
            # writes are gated on the run's checks, and the gate keeps the old value: a key written but
            # never read (a plain assign) must come in too, or a failed run would still overwrite it
            reads += [k for k in ctx.writes if k in state_in and k not in reads and k not in static]
        found.update(reads=reads, writes=list(ctx.writes), inits=dict(ctx.inits))
    sizes = jax.ShapeDtypeStruct((len(pad.symbols),), np.int32) if pad is not None else ()
    jax.eval_shape(probe, [store[k] for k in keys], _device_feeds(plan, feed_values) + list(plan.hoisted.values()),
                   sizes)
    return found["reads"], found["writes"], found["inits"]


def _device_feeds(plan: Plan, feed_values: Sequence) -> list:
    """The feeds a compiled step takes: strings only its host inputs read (`Plan.host_only_feeds`: fed
    serialized Examples, words to look up) stay on the host, None in their place."""
    if not plan.host_only_feeds:
        return list(feed_values)
    return [None if i in plan.host_only_feeds else v for i, v in enumerate(feed_values)]


def _is_array_tree(value) -> bool:
    """Device-traceable state: arrays of numbers (a string variable's value is a host object array)."""
    return all(isinstance(leaf, (jax.Array, np.ndarray, np.generic)) and getattr(leaf, "dtype", None) != object
               for leaf in jax.tree_util.tree_leaves(value))


# ------------------------------------------------------------------------------------------------
# Hot exact shapes: an executable of their own, compiled in the background
# ------------------------------------------------------------------------------------------------
# A padded shape seen this many times gets an executable for its exact shape: a training loop feeds one
# batch size over and over, and when that size is not a bucket (32 → 64, 100 → 128) every padded step
# computes the padding too (1.5–1.7x an exact step for an MLP). Shapes seen fewer times (the varying
# lengths of an NLP batch stream, inference requests) stay on the one padded executable.
HOT_SHAPE_RUNS = 4
# An exact-shape step whose host inputs brought this many different shapes runs op by op from then on.
HOST_INPUT_SHAPES = 8

_compile_pool: Optional[concurrent.futures.ThreadPoolExecutor] = None


def _background(fn) -> concurrent.futures.Future:
    """Runs `fn` in graphcompat's compile thread (one: XLA compiles use several cores themselves); its
    thread is joined when the interpreter exits, so a pending compile finishes (and reaches the
    persistent cache) rather than being cut off."""
    global _compile_pool
    if _compile_pool is None:
        _compile_pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphcompat-compile")
    return _compile_pool.submit(fn)


def _compile_lowered(lowered, plan: Plan, signature, padded: bool = False) -> concurrent.futures.Future:
    """XLA-compiles a step traced and lowered by the caller: in graphcompat's compile thread (at once with
    `set_background_compile(False)`), counted in the stats of the period that started it."""
    label, counters = stats._label(plan), stats.current

    def build():
        hits_before, t0 = stats._disk_hits, time.perf_counter()
        executable = lowered.compile()
        stats.record_compile(time.perf_counter() - t0, label, signature, loaded=stats._disk_hits > hits_before,
                             padded=padded, into=counters)
        return executable
    if config.background_compile:
        return _background(build)
    future = concurrent.futures.Future()
    future.set_result(build())
    return future


class _HotShape:
    """The exact-shape executable of one hot feed shape of a padded plan: traced and lowered in the run
    that makes the shape hot (tracing reads the graph and the session's state), XLA-compiled in the
    background while padded runs go on, then used for that shape (`ready`)."""

    def __init__(self, runner: "PlanRunner", store: dict, feed_values: Sequence):
        plan = runner.plan
        with jax.enable_x64(True), _tracing():
            self.compiled = Compiled(plan, store, feed_values, runner.donate, hints=runner.loop_hints)
            lowered = self.compiled.lower(store, feed_values)
        self.signature = self.compiled.signature(feed_values)
        self.future = _compile_lowered(lowered, plan, self.signature)

    def ready(self) -> Optional["Compiled"]:
        """The exact Compiled once its executable is built (it then serves only this shape), else None."""
        if not self.future.done():
            return None
        compiled = self.compiled
        if self.signature not in compiled.shapes:
            compiled.jitted = _Executable(self.future.result(), compiled.jitted)
            compiled.shapes.add(self.signature)
        return compiled


class _Executable:
    """An executable compiled ahead of time for one call signature, with the jit function behind it for
    calls it was not compiled for: state whose shape changed since (a stack's or TensorArray's buffer
    that a run sized differently) gets jit's retrace, as it would without the executable."""

    __slots__ = ("compiled", "jitted")

    def __init__(self, compiled, jitted):
        self.compiled, self.jitted = compiled, jitted

    def __call__(self, *args):
        try:
            return self.compiled(*args)
        except TypeError:  # the arguments' types differ from the executable's (checked before it runs)
            return self.jitted(*args)

    def lower(self, *args):
        return self.jitted.lower(*args)


# ------------------------------------------------------------------------------------------------
# Running a plan
# ------------------------------------------------------------------------------------------------
_UNANALYZED = object()


class PlanRunner:
    """Runs one Plan against a SessionState: picks the tier, compiles once, commits atomically."""

    def __init__(self, plan: Plan, session: SessionState, donate: bool = True):
        self.plan = plan
        self.session = session
        self.donate = donate and plan.tail is None
        self.compiled: Optional[Compiled] = None     # for exact feed shapes
        self.padded: Optional[Compiled] = None       # for feeds padded to shape buckets
        self.pad = _UNANALYZED                       # the plan's padding analysis (None: not paddable)
        # several tf.device devices: op by op, each op on its device (lowering/placement.py); data
        # parallel overrides tf.device (the mesh is the placement)
        self.placed = plan.multi_device and data_parallel() is None
        # host values, placed ops, or nothing to compute (constants, handles): op by op for good
        self.eager_only = plan.host or self.placed or plan.computes_nothing
        self.runs = 0
        self.tail_runner = PlanRunner(plan.tail.device, session, donate=False) if plan.tail is not None else None
        self.steady = None    # after a compiled run where it applies: its Compiled (see steady_run)
        self.sync = True      # this run's results are read at once (see run)
        self.placement: Optional[dict] = None   # {op: device} of op-by-op runs with placement (_place)
        # exact feed shapes of padded runs: how often seen, then their _HotShape (None: it failed to build)
        self.hot: dict = {}
        # padded signatures of new buckets compiling in the background while smaller buckets serve in chunks
        self.bucket_builds: dict = {}
        self.segmented = None   # a placed plan's per-device jitted segments (False: they do not apply)
        # trip counts of loops without a static bound, seen op by op: the capacities compiled steps use
        self.loop_hints = LoopHints()

    # --- the entry point --------------------------------------------------------------------------
    def run(self, feed_values: Sequence, need_values: bool = True) -> list:
        """Runs the plan once; returns the fetched values (device arrays or numpy). A caller that reads no
        value (`need_values=False`) may get control back before the step finishes (async dispatch)."""
        self.sync = need_values or not _async_enabled()
        with jax.enable_x64(True):  # 64-bit dtypes are exact, without touching the user's JAX config
            return self._run(feed_values)

    def steady_run(self, feeds: Sequence[tuple], picks: Sequence[Optional[int]], need_values: bool,
                   to_host: Callable) -> Optional[Callable]:
        """This plan's steady step (a training loop's: compiled, at a feed shape it has run) fused with one
        Session signature into one closure, `run(feed_dict)`: convert the feeds (`feeds`: (feed key,
        converter) pairs), state in, one dispatch, state out, the fetches to the host (`picks`: per fetched
        element its output index, None for an Operation), as a list. It returns None when anything is unusual (a new feed shape, missing state, pending checks, the plan recompiled);
        the signature then takes the general path. None instead of a closure: the plan has no steady step.
        Every name it reads is bound here once, because in a loop of tiny steps (19,000 `run([train, loss])`
        of a linear regression) the Python around the dispatch is most of the time."""
        compiled = self.steady
        if compiled is None:
            return None
        session, plan, runner = self.session, self.plan, self
        store, lock, jitted, shapes = session.values, session.lock, compiled.jitted, compiled.shapes
        state_keys = tuple(compiled.donated_keys) + tuple(compiled.kept_keys)
        writes, hoisted = tuple(compiled.writes), list(compiled.hoisted)
        n_fetched, n_out = compiled.n_fetched, compiled.n_out
        pre_runs, clock, current_stats = plan.pre_runs, time.perf_counter, stats
        x64_on, x64_restore = _x64_switch()
        # A new argument signature is found by jax itself: the step closes its Compiled's trace gate, and a
        # call jax has no executable for raises _Untraced before anything runs. Not where pre-run bookkeeping
        # (an iterator's position) has already moved on by then: there the feed shapes are checked first,
        # and the gate stays open (a list of its own; state re-shaped by a pre-run, a ragged batch's shape
        # token, retraces).
        gate = [True] if pre_runs else compiled.trace_gate
        check_shapes = bool(pre_runs) and compiled.varying
        shape_of = operator.attrgetter("shape")  # feeds are converted ndarrays: .shape is np.shape

        def run(feed_dict):
            feed_values = [convert(feed_dict[key], key) for key, convert in feeds]
            if runner.steady is not compiled or session.pending or session.mixed_devices or \
                    (check_shapes and tuple(map(shape_of, feed_values)) not in shapes):
                return None
            for pre_run, op in pre_runs:  # host-side facts (e.g. the end of an iterator) first
                pre_run(store, op)
            t0 = clock()
            with lock:
                try:
                    args = [store[k] for k in state_keys]
                except KeyError:  # state re-created since (a variable re-initialized under another shape…)
                    return None
                args += feed_values
                if hoisted:
                    args += hoisted
                gate[0] = False
                previous = x64_on(True)
                try:
                    out = jitted(*args)
                except _Untraced:
                    return None
                finally:
                    x64_restore(previous)
                    gate[0] = True
                for key, value in zip(writes, out[n_fetched:n_out]):
                    store[key] = value
            if len(out) > n_out and not runner._checks_passed(out[n_out], compiled, need_values):
                with jax.enable_x64(True):
                    out = runner._raise_failed_check(feed_values, compiled)
            counters = current_stats.current  # (runner.runs, a has-run flag, was set by the general path)
            counters.compiled_runs += 1
            counters.run_seconds += clock() - t0
            return [None if i is None else to_host(out[i]) for i in picks]
        return run

    def _run(self, feed_values: Sequence) -> list:
        session, plan = self.session, self.plan
        store = session.values
        sync = self.sync
        if session.pending:
            session.raise_pending(wait=sync)
        if self.tail_runner is not None:  # its device part runs the pre-runs and host inputs itself
            with _placement(plan.device):
                return self._run_with_tail(feed_values)
        for pre_run, op in plan.pre_runs:  # host-side bookkeeping (one-shot iterator init, end checks)
            pre_run(store, op)
        if plan.input_steps:  # outside the lock: a host input may block (a queue, a generator)
            feed_values = list(feed_values) + self._run_inputs(store, feed_values)
        with _placement(plan.device):
            if self.placed and self.runs and self.segmented is not False:
                fetched = self._run_segmented(feed_values)
                if fetched is not None:
                    return fetched
            if self.eager_only or (self.compiled is None and self.padded is None
                                   and self._first_tier() == "eager"):
                return self._run_eager(feed_values)
            try:
                padded = self._padded(store, feed_values)
                hot = self._hot_shape(store, feed_values, padded) if padded is not None else None
                if hot is not None:
                    padded = None
                    compiled, run_values, sizes = hot, feed_values, ()
                elif padded is not None:
                    compiled, run_values, sizes = padded
                    chunked = self._serve_in_chunks(store, compiled, feed_values, run_values, sizes)
                    if chunked is not None:
                        return chunked
                elif plan.row_ids:  # tf.where in the step compiles only padded (TF's errors, an empty mask)
                    return self._run_eager(feed_values)
                else:
                    compiled, run_values, sizes = self.compiled or self._compile(store, feed_values), feed_values, ()
                with session.lock:
                    if session.mixed_devices and compiled.dp is None:
                        _gather_state(store, compiled, plan.device)
                    fetched, written, oks = compiled(store, run_values, sizes)
                    for key, value in zip(compiled.writes, written):
                        store[key] = value  # gated: after a failed check these are the old values
            except NeedsObservedRun:  # a loop's capacity is not known yet: this run observes it, op by op
                self.compiled = self.padded = None
                return self._run_eager(feed_values)
            except NotImplementedError:  # NeedsConcreteValues, or a rule that says so itself
                # a rule needs a run-time value as a static shape (tf.range(n_fed), x[i:j] with fed bounds):
                # JAX cannot compile that, TF's executor runs it. So do we, op by op, for good.
                self.compiled = self.padded = None
                self.eager_only = True
                return self._run_eager(feed_values)
            except RefusedWhileTracing:  # nothing ran; op by op raises TF's error in TF's order
                return self._run_eager(feed_values)
            if oks and not self._checks_passed(oks[0], compiled, sync):
                return self._raise_failed_check(feed_values, compiled)
            self.runs += 1
            if padded is not None:
                if self.pad.computed:
                    sizes = [int(n) for n in np.asarray(fetched.pop())]
                return padding.cut_fetches(self.pad, fetched, sizes)
            if not plan.input_steps and not plan.host_only_feeds and plan.device is None and compiled.dp is None:
                self.steady = compiled
            elif plan.input_steps and compiled is self.compiled and len(compiled.shapes) >= HOST_INPUT_SHAPES:
                # host inputs whose sizes keep changing (a py_func's or a dequeue's that padding cannot
                # serve): a compile per size costs more than running the step op by op, for good
                self.compiled, self.eager_only = None, True
            return fetched

    def lower(self, feed_values: Sequence):
        """jax's Lowered form of the step that runs these feeds (padded or exact; tests read its HLO)."""
        store = self.session.values
        try:
            padded = self._padded(store, feed_values)
            if padded is not None:
                compiled, values, sizes = padded
                return compiled.lower(store, values, sizes)
            return (self.compiled or self._compile(store, feed_values)).lower(store, feed_values)
        except RefusedWhileTracing as refused:
            raise refused.error from None

    def _padded(self, store: dict, feed_values: Sequence):
        """(padded Compiled, padded feeds, true sizes) when this run's open dimensions can be padded to
        shape buckets (lowering/padding.py), else None: the run then compiles for its exact shapes."""
        if not (self.plan.open_feeds or self.plan.row_ids) or config.buckets is None or config.deterministic \
                or _multiprocess():
            return None
        if self.pad is _UNANALYZED:
            self.pad = self.plan.padding()
        if self.pad is None:
            return None
        sizes = padding.true_sizes(self.pad, feed_values)
        if sizes is None:
            return None
        if self.padded is not None and self.hot and self._hot_ready(feed_values):
            return self.padded, feed_values, sizes  # `_hot_shape` serves it exactly: padding would be wasted
        buckets = self.pad.buckets(sizes, config.buckets.size)
        run_values = padding.pad_feeds(self.pad, feed_values, buckets)
        if self.padded is None:
            with _tracing():
                self.padded = Compiled(self.plan, store, run_values, self.donate, pad=self.pad,
                                       hints=self.loop_hints)
        return self.padded, run_values, sizes

    def _hot_ready(self, feed_values: Sequence) -> bool:
        """Whether this run's exact feed shape has its hot executable built (steps with host inputs, which
        have no steady step, come through `_padded` every run)."""
        entry = self.hot.get(tuple(np.shape(v) for v in feed_values))
        return isinstance(entry, _HotShape) and entry.future.done() and entry.future.exception() is None

    def _hot_shape(self, store: dict, feed_values: Sequence, padded) -> Optional["Compiled"]:
        """The exact executable of this run's feed shape, when padding it wastes work and the shape is hot
        (seen HOT_SHAPE_RUNS times) and its background compile is done; None: run padded."""
        plan = self.plan
        if plan.device is not None or padded[0].dp is not None or plan.row_ids:
            return None  # (tf.where's row ids come in a new count almost every run)
        sizes = padded[2]
        if self.pad.buckets(sizes, config.buckets.size) == list(sizes):  # the sizes are buckets: nothing wasted
            return None
        shape = tuple(np.shape(v) for v in feed_values)
        entry = self.hot.get(shape, 0)
        if isinstance(entry, int):
            if entry + 1 < HOT_SHAPE_RUNS:
                self.hot[shape] = entry + 1
                return None
            try:
                entry = _HotShape(self, store, feed_values)
            except (NotImplementedError, RefusedWhileTracing):  # the exact shape cannot compile: stay padded
                entry = None
            self.hot[shape] = entry
        if entry is None:
            return None
        try:
            return entry.ready()
        except Exception:  # noqa: BLE001 (the compile failed in the background: padded runs serve the shape)
            self.hot[shape] = None
            return None

    def _serve_in_chunks(self, store: dict, compiled: Compiled, feed_values: Sequence, run_values: Sequence,
                         sizes: list) -> Optional[list]:
        """A batch whose bucket has no executable yet, served through a smaller bucket's executable in
        chunks of its rows while the new bucket compiles in the background; None: run as usual.

        Only where chunks cannot change a result: one open size, every op row-independent along it (the
        padding analysis masked nothing: no reduction over the rows, no size read as a number), nothing
        written (an inference request; a training step's update must see the whole batch once). So an
        inference server whose requests grow past the bucket it compiled first (65 rows after 1..64) is
        not held up by a compile: those requests run as two dispatches until the larger bucket is ready."""
        signature = compiled.signature(run_values)
        if signature in compiled.shapes or not self._chunkable(compiled):
            return None
        build = self.bucket_builds.get(signature)
        if build is not None and build.done():
            del self.bucket_builds[signature]
            try:
                compiled.aot[signature] = _Executable(build.result(), compiled.jitted)
            except Exception:  # noqa: BLE001 (the background compile failed: this run compiles as usual)
                return None
            compiled.shapes.add(signature)
            return None
        pad, n = self.pad, sizes[0]
        chunk = self._ready_bucket(compiled, feed_values, config.buckets.size(n))
        if chunk is None:
            return None  # no smaller bucket is compiled: this run compiles its own, as before
        if build is None:
            self.bucket_builds[signature] = self._build_bucket(store, compiled, run_values, sizes, signature)
        pieces = []
        session = self.session
        for start in range(0, n, chunk):
            rows = min(chunk, n - start)
            values = []
            for value, axes in zip(feed_values, pad.feed_axes):
                if axes:
                    (axis, _), = axes
                    index = [slice(None)] * np.ndim(value)
                    index[axis] = slice(start, start + rows)
                    value = np.asarray(value)[tuple(index)]
                values.append(value)
            values = padding.pad_feeds(pad, values, [chunk])
            with session.lock:
                fetched, _, oks = compiled(store, values, [rows])
            if oks and not self._checks_passed(oks[0], compiled, True):
                return self._raise_failed_check(feed_values, compiled)
            pieces.append(padding.cut_fetches(pad, fetched, [rows]))
        self.runs += 1
        out = []
        for i, axes in enumerate(pad.fetch_axes):
            if axes:
                (axis, _), = axes
                out.append(np.concatenate([np.asarray(piece[i]) for piece in pieces], axis=axis))
            else:  # no padded axis: the same value in every chunk
                out.append(pieces[0][i])
        return out

    def _chunkable(self, compiled: Compiled) -> bool:
        pad = self.pad
        return (config.background_compile and pad is not None and len(pad.symbols) == 1 and not pad.masked
                and not pad.computed
                and all(v is None for v in pad.fetch_values) and all(len(a) <= 1 for a in pad.feed_axes)
                and all(len(a) <= 1 for a in pad.fetch_axes) and not compiled.writes and not compiled.inits
                and compiled.dp is None and not self.plan.input_steps and self.plan.tail is None)

    def _ready_bucket(self, compiled: Compiled, feed_values: Sequence, bucket: int) -> Optional[int]:
        """The largest bucket below `bucket` that `compiled` has an executable for, or None."""
        shapes = [list(np.shape(v)) for v in feed_values]
        size = bucket // 2
        while size >= config.buckets.minimum:
            for shape, axes in zip(shapes, self.pad.feed_axes):
                for axis, _ in axes:
                    shape[axis] = size
            if tuple(tuple(shape) for shape in shapes) in compiled.shapes:
                return size
            size //= 2
        return None

    def _build_bucket(self, store: dict, compiled: Compiled, run_values: Sequence, sizes: list,
                      signature) -> concurrent.futures.Future:
        """Traces and lowers the padded step for a new bucket here (tracing reads the graph and state) and
        XLA-compiles it in the background."""
        with _tracing():
            lowered = compiled.lower(store, run_values, sizes)
        return _compile_lowered(lowered, self.plan, signature, padded=True)

    def release(self) -> None:
        """Drops every compiled form and the steady step (which refers back to this runner): a closed
        Session's executables leave jax's table of live jitted functions at once, not at the next full
        garbage collection (see Compiled.__init__)."""
        self._drop_compiled()
        if self.tail_runner is not None:
            self.tail_runner.release()
        self.segmented = None

    def _drop_compiled(self) -> None:
        """Forget every compiled form of the plan (their capacities are too small): rebuilt on next use."""
        self.compiled = self.padded = self.steady = None
        self.hot = {}
        self.bucket_builds = {}

    def _first_tier(self) -> str:
        plan = self.plan
        if self.runs or config.deterministic or plan.loop_body or _multiprocess():
            return "compiled"
        if plan.open_feeds and len(plan.steps) < _plan.EAGER_FIRST_RUN_OPS:
            return "compiled"
        return "eager"

    def _compile(self, store: dict, feed_values: Sequence) -> Compiled:
        with jax.enable_x64(True):
            with _tracing():
                self.compiled = Compiled(self.plan, store, feed_values, self.donate, hints=self.loop_hints)
        return self.compiled

    def _checks_passed(self, ok, compiled: Compiled, sync: bool) -> bool:
        if sync or not _async_enabled() or compiled.sized_by_hints():
            # a capacity check that fails means "re-run this step op by op", which a later run cannot do
            return bool(ok)
        failing = compiled.check_meta[0] if compiled.check_meta else (errors.InvalidArgumentError, "check", None)
        self.session.pending.append((ok, self, failing))
        return True

    def _raise_failed_check(self, feed_values: Sequence, compiled: Optional[Compiled] = None) -> list:
        """Nothing changed: re-run op by op, which raises with the run-time values in the message
        (tf.Assert data, the bad index …) exactly as a first run would.

        When the failed check was a capacity from LoopHints (a loop ran more iterations than its stacks
        had rows for), the op-by-op run passes and observes the larger trip count: its result is this
        run's (its writes are the only ones: the compiled run's were gated off), and the compiled forms
        are dropped, so the next run compiles with the larger capacity. So for a padded tf.where that
        selected no rows (nothing real to pad with): the op-by-op run is this run."""
        version = self.loop_hints.version
        fetched = self._run_eager(feed_values)
        if compiled is not None and compiled.sized_by_hints():
            # (or a tf.where that selected no rows, padding/`row_ids`: the op-by-op run is this run's)
            if self.loop_hints.version != version:
                self._drop_compiled()
            return fetched
        raise errors.InternalError(None, None, "a run-time check failed in the compiled run but not when the "
                                               "step was re-run op by op (non-deterministic op?)")

    # --- op by op ---------------------------------------------------------------------------------
    def _run_eager(self, feed_values: Sequence) -> list:
        fetched, written = self._evaluate_uncommitted(feed_values)
        store = self.session.values
        for key, value in written.items():
            store[key] = _stored(value)
        if self.placed:
            self.session.mixed_devices = True
        return fetched

    def _evaluate_uncommitted(self, feed_values: Sequence) -> tuple:
        """One op-by-op run of the plan (host inputs already run: `feed_values` holds their outputs) that commits
        nothing: (fetched, {state key: new value}). A failure commits the hidden state its ops advanced
        (`_commit_hidden`) and raises. The loops' trip counts are observed (LoopHints)."""
        plan = self.plan
        store = self.session.values
        t0 = time.perf_counter()
        ctx = RunContext(store, traced=False)
        ctx.loop_hints = self.loop_hints.observing()
        self._place(ctx)
        feeds = dict(zip(plan.feed_tensors + plan.input_tensors, feed_values))
        feeds.update(plan.hoisted)
        try:
            with jax.enable_x64(True):
                fetched = evaluate(plan.steps, feeds, plan.fetch_tensors, ctx)
        except Exception:
            _commit_hidden(store, ctx)
            raise
        self.loop_hints.observed = True
        self.runs += 1
        stats.record_eager(time.perf_counter() - t0)
        return fetched, {k: ctx.state[k] for k in ctx.writes}

    def _run_inputs(self, store: dict, feed_values: Sequence) -> list:
        """Evaluates the host inputs (and the host ops they read) op by op; commits their state."""
        plan = self.plan
        ctx = RunContext(store, traced=False)
        ctx.loop_hints = self.loop_hints.observing()
        self._place(ctx)
        try:
            with jax.enable_x64(True):
                values = evaluate(plan.input_steps, dict(zip(plan.feed_tensors, feed_values)),
                                  plan.input_tensors, ctx)
        except Exception:
            _commit_hidden(store, ctx)
            raise
        for key in ctx.writes:
            store[key] = _stored(ctx.state[key])
        return values

    def _place(self, ctx: RunContext) -> None:
        """Op by op: a placed plan runs each op on its device; after placed runs (state on several
        devices) every op of another plan runs on that plan's device, its state copied there."""
        if self.placed or self.session.mixed_devices:
            ctx.placement = self._placement_map()

    def _placement_map(self) -> dict:
        if self.placement is None:
            plan = self.plan
            fallback = plan.device or _placing.default_device()
            ops = list(plan.ops) + [s[0] for s in plan.input_steps] + [s[0] for s in plan.steps]
            self.placement = {op: (plan.placement.get(op) if self.placed else None) or fallback for op in ops}
        return self.placement

    def _run_segmented(self, feed_values: Sequence):
        """A placed plan from its second run on: per-device jitted segments (lowering/segments.py),
        committed when every check passed. None when segments do not apply (then op by op)."""
        plan, session = self.plan, self.session
        store = session.values
        feeds = dict(zip(plan.feed_tensors + plan.input_tensors, feed_values))
        feeds.update(plan.hoisted)
        t0 = time.perf_counter()
        try:
            if self.segmented is None:
                self.segmented = _segments.Segmented(plan, self._placement_map())
            with session.lock, jax.enable_x64(True):
                fetched, staged, oks = self.segmented.run(store, feeds)
                passed = all(bool(ok) for ok in oks)
                if passed:
                    for key, value in staged.items():
                        store[key] = value
        except errors.OpError:
            return None    # op by op, which raises TF's error with its run-time values
        except Exception:  # noqa: BLE001 (Unsegmentable, NeedsConcreteValues …): op by op for good
            self.segmented = False
            return None
        if not passed:   # nothing was committed: op by op raises TF's error with its run-time values
            return self._raise_failed_check(feed_values)
        session.mixed_devices = True
        self.runs += 1
        stats.record_compiled(time.perf_counter() - t0)
        return fetched

    def _run_with_tail(self, feed_values: Sequence) -> list:
        """The device part runs (compiled, not donating), the host tail runs on its results, and only then
        is anything committed: a failing summary or py_func leaves the variables as they were."""
        plan, tail = self.plan, self.plan.tail
        store = self.session.values
        device_values = [feed_values[i] for i in tail.feed_index]
        device_fetched, staged = self.tail_runner.run_staged(device_values)
        env = dict(zip(plan.feed_tensors, feed_values))
        # a variable the tail updates is fetched too (`run([train, w])`): its ref is re-derived by the tail's own
        # VariableV2 step, so the tail's updates see a reference, not the device part's value of it
        tail_ops = tail.ops
        env.update((t, v) for t, v in zip(tail.device.fetch_tensors, device_fetched) if t.op not in tail_ops)
        env.update(plan.hoisted)
        overlay = _Overlay(store, staged)
        ctx = RunContext(overlay, traced=False)
        ctx.loop_hints = self.loop_hints.observing()   # a differentiated loop among the host ops
        try:
            with jax.enable_x64(True):
                fetched = evaluate(tail.steps, env, plan.fetch_tensors, ctx)
        except Exception:
            _commit_hidden(store, ctx, staged)
            raise
        store.update({k: _stored(v) for k, v in staged.items()})
        for key in ctx.writes:
            store[key] = _stored(ctx.state[key])
        self.runs += 1
        return fetched

    def run_staged(self, feed_values: Sequence):
        """Runs the plan without committing: (fetched values, {state key: new value}). Its host inputs
        advance (an iterator's position commits at once, as TF's would)."""
        plan = self.plan
        store = self.session.values
        for pre_run, op in plan.pre_runs:
            pre_run(store, op)
        if plan.input_steps:
            feed_values = list(feed_values) + self._run_inputs(store, feed_values)
        return self._run_staged_after_inputs(feed_values)

    def _run_staged_after_inputs(self, feed_values: Sequence):
        """`run_staged` once its host inputs have run (`feed_values` holds them): a fallback to the
        op-by-op tier must not run them again (a dequeue would lose an element). One pass: the compiled
        step when it can serve this run, else (also when it turns out it cannot) op by op below."""
        plan, store = self.plan, self.session.values
        compiled = self._staged_compiled(store, feed_values)
        if compiled is not None:
            try:
                with self.session.lock, jax.enable_x64(True):
                    if self.session.mixed_devices and compiled.dp is None:
                        _gather_state(store, compiled, plan.device)
                    fetched, written, oks = compiled(store, feed_values)
            except NeedsObservedRun:  # a loop's capacity is not known yet: this run observes it, op by op
                self.compiled = compiled = None
            except NotImplementedError:  # NeedsConcreteValues, or a rule that says so itself: op by op for good
                self.compiled, self.eager_only, compiled = None, True, None
            except RefusedWhileTracing:  # nothing ran; op by op raises TF's error in TF's order
                compiled = None
        if compiled is not None:
            if not (oks and not bool(oks[0])):
                self.runs += 1
                return fetched, dict(zip(compiled.writes, written))
            if not compiled.sized_by_hints():
                self._raise_failed_check(feed_values)
            # a capacity from LoopHints may have been too small: staged op by op below (which raises a real
            # error), and compiled again with what that run observes
            self._drop_compiled()
        return self._evaluate_uncommitted(feed_values)

    def _staged_compiled(self, store: dict, feed_values: Sequence) -> Optional[Compiled]:
        """The compiled step a staged run uses (compiled now where the tier says so), or None: op by op."""
        if self.plan.row_ids:  # tf.where in the step compiles only padded (`_run`)
            return None
        if self.compiled is not None or self.eager_only or self._first_tier() != "compiled":
            return self.compiled
        try:
            return self._compile(store, feed_values)
        except NeedsObservedRun:  # this run observes the loops' trip counts, op by op
            return None
        except NotImplementedError:  # NeedsConcreteValues, or a rule that says so itself
            self.eager_only = True
            return None
        except RefusedWhileTracing:  # this run goes op by op (see RefusedWhileTracing)
            return None


def _gather_state(store: dict, compiled: Compiled, device) -> None:
    """Before a compiled run once state lives on several devices: what it reads, on its device."""
    device = device or _placing.default_device()
    for key in compiled.donated_keys + compiled.kept_keys:
        store[key] = jax.tree_util.tree_map(lambda v: _placing.move(v, device), store[key])


def _stored(value):
    """State as the compiled tier keeps it: host numbers become device arrays, so the first compiled run
    after an op-by-op one sees the same argument types as every later run (no second trace). A transfer,
    not `jnp.asarray` (which compiles a small program the first time: 10-20 ms of a short script)."""
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype != object:
        return _placing.to_device(value)
    return value


class _Overlay(dict):
    """The session's state seen through a run's staged writes (read-only view for the host tail)."""

    def __init__(self, base: dict, staged: dict):
        super().__init__()
        self._base, self._staged = base, staged

    def __contains__(self, key):
        return key in self._staged or key in self._base

    def __getitem__(self, key):
        return self._staged[key] if key in self._staged else self._base[key]

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __setitem__(self, key, value):
        # Writes that bypass the run's staging are immediate by design (a queue or reader created by its
        # first op, CountUpTo's atomic counter): TF never undoes them either, so they go to the session.
        self._base[key] = value

    def pop(self, key, *default):
        # likewise a deletion (a summary writer's CloseSummaryWriter deletes its resource, as TF's)
        return self._base.pop(key, *default)

    def items(self):
        merged = dict(self._base)
        merged.update(self._staged)
        return merged.items()


def _commit_hidden(store: dict, ctx: RunContext, staged: Optional[dict] = None) -> None:
    """After a failed run: hidden state (RNG counters, iterator positions: tuple keys) advances as far as
    the ops that ran before the failure took it, as in TF; variables (string keys) stay as they were."""
    for key, value in (staged or {}).items():
        if isinstance(key, tuple):
            store[key] = value
    for key in ctx.writes:
        if isinstance(key, tuple) and key in ctx.state:
            store[key] = _stored(ctx.state[key])


class _placement:
    """`jax.default_device` for plans whose fetched ops name a device (a no-op when none)."""

    __slots__ = ("_device", "_cm")

    def __init__(self, device):
        self._device = device

    def __enter__(self):
        if self._device is not None:
            self._cm = jax.default_device(self._device)
            self._cm.__enter__()

    def __exit__(self, *exc):
        if self._device is not None:
            self._cm.__exit__(*exc)
        return False


def executable_counts(session) -> list:
    """Per compiled plan of `session` (a tf.Session), how many executables jax.jit holds for it: one per
    feed shape signature it has seen. A test of "no retrace" asserts this does not grow."""
    return [compiled.jitted._cache_size() for runner in session._runners
            for compiled in (runner.compiled, runner.padded) if compiled is not None]


def runner_for(session, *elements) -> PlanRunner:
    """The PlanRunner serving a fetch of `elements` (Tensors and Operations, as fetched) in `session`."""
    tensors = tuple(e for e in elements if not hasattr(e, "outputs"))
    targets = tuple(e for e in elements if hasattr(e, "outputs"))
    for (fetched, ops, _), (runner, _) in session._plans.items():
        if fetched == tensors and ops == targets:
            return runner
    raise KeyError(f"no plan fetches {elements}")
