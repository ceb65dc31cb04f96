"""A Plan: the pruned, ordered slice of a graph that one fetch/feed signature needs, and its compiled form.

prune → order (creation order is a topological order: inputs and control inputs always exist first)
→ first run op by op (cheap for one-off notebook fetches; records which state it reads and writes)
→ later runs through one `jax.jit`-compiled function `(state, feeds) -> (fetches, state')` with the
written state buffers donated.
"""
from __future__ import annotations

import time
from typing import Optional, Sequence

import jax
import numpy as np

from graphcompat.framework import dtypes as _dtypes
from graphcompat.framework import errors
from graphcompat.framework import tensor_shape as _ts
from lowering import stats
from lowering.interpreter import RunContext, evaluate
from lowering.registry import get_rule, runs_on_host

# Plans at least this large compile on their first run (after an abstract trace that discovers which
# state they touch); smaller ones run op by op first and compile when the signature recurs. Compiling
# a big graph costs about what TF's executor spends on its own first run; running it op by op again on
# the second run would not.
COMPILE_FIRST_RUN_OPS = 256

# Ops that mark a plan as a loop body (a training step, an input pipeline step): such plans are run
# many times, so they compile on their first run too instead of paying a compile on their second.
_LOOP_OP_TYPES = {"SymbolicGradient", "IteratorGetNext", "AssignAdd", "AssignSub"}
_LOOP_OP_PREFIXES = ("Apply", "SparseApply", "ResourceApply", "ResourceSparseApply", "Scatter")


def _compile_on_first_run(steps) -> bool:
    if len(steps) >= COMPILE_FIRST_RUN_OPS:
        return True
    return any(op.type in _LOOP_OP_TYPES or op.type.startswith(_LOOP_OP_PREFIXES) for op, _, _ in steps)

# Constants at least this large are passed to the compiled function as device-resident arguments
# instead of being baked into the executable (faster compiles, no duplicate copy).
_HOIST_CONST_ELEMENTS = 1024


def normalize_attrs(attrs: dict) -> dict:
    """TF attr values → what rules take: numpy dtypes for DTypes, tuples for TensorShapes."""
    out = {}
    for key, value in attrs.items():
        if key.startswith("_"):
            continue
        out[key] = _normalize(value)
    return out


def _normalize(value):
    if isinstance(value, _dtypes.DType):
        return np.dtype(value.as_numpy_dtype)
    if isinstance(value, _ts.TensorShape):
        return value.as_tuple_or_none()
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    return value


def prune(fetch_tensors: Sequence, target_ops: Sequence, fed: set) -> list:
    """The ops the fetches need, in creation order; fed tensors cut the graph."""
    needed: set = set()
    stack = [t.op for t in fetch_tensors if t not in fed] + list(target_ops)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        for t in op._inputs:
            if t not in fed:
                stack.append(t.op)
        stack.extend(op._control_inputs)
    return sorted(needed, key=lambda op: op._id)


def _placeholder_error(op) -> errors.InvalidArgumentError:
    dtype = _dtypes.cpp_name(op.outputs[0].dtype)
    shape = op.attrs.get("shape")
    msg = f"You must feed a value for placeholder tensor '{op.name}' with dtype {dtype}"
    if shape is not None and shape.ndims:
        dims = ",".join("?" if d is None else str(d) for d in shape.as_list())
        msg += f" and shape [{dims}]"
    return errors.InvalidArgumentError(None, op, msg)


class Plan:
    """Everything needed to run one signature; built once per (fetches, feeds, feed shapes/dtypes)."""

    def __init__(self, fetch_tensors: Sequence, target_ops: Sequence, feed_tensors: Sequence,
                 device: Optional[str] = None, lock=None):
        import contextlib
        self.lock = lock if lock is not None else contextlib.nullcontext()
        self.fetch_tensors = list(fetch_tensors)
        self.feed_tensors = list(feed_tensors)
        fed = set(self.feed_tensors)
        ops = prune(self.fetch_tensors, target_ops, fed)
        # Host inputs (e.g. a generator pipeline's next element) run on the host before the jitted
        # part; their outputs become extra feeds of it, so the rest of the step still compiles.
        input_ops = [op for op in ops if _is_host_input(op, fed)]
        self.input_tensors = [t for op in input_ops for t in op._outputs]
        self.input_steps = [(op, get_rule(op.type), normalize_attrs(op.attrs))
                            for op in (prune(self.input_tensors, input_ops, fed) if input_ops else ())]
        if input_ops:
            skip = set(input_ops)
            ops = [op for op in prune(self.fetch_tensors, target_ops, fed | set(self.input_tensors))
                   if op not in skip]
        self.pre_runs = [(get_rule(op.type).pre_run, op)
                         for op in sorted(set(ops) | {s[0] for s in self.input_steps}, key=lambda o: o._id)
                         if get_rule(op.type).pre_run is not None]
        self.steps = []
        self.hoisted: dict = {}
        host = False
        for op in ops:
            if op.type == "Placeholder":
                raise _placeholder_error(op)
            rule = get_rule(op.type)
            host = host or _runs_on_host(op, rule)
            if op.type == "Const" and op.attrs["value"].size >= _HOIST_CONST_ELEMENTS \
                    and op.attrs["value"].dtype != object:
                self.hoisted[op._outputs[0]] = op.attrs["value"]
                continue
            self.steps.append((op, rule, normalize_attrs(op.attrs)))
        self.host = host or any(t.dtype == _dtypes.string for t in self.feed_tensors + self.input_tensors)
        self.ops = ops
        self.device = _jax_device(device)
        # A host tail (summaries of a training step) need not make the whole plan eager: the device
        # part compiles as its own plan and the host ops run afterwards on its results.
        self._split = _split_host_tail(self, ops, fed, target_ops, device) if self.host else None
        self.runs = 0
        self.reads: list = []
        self.writes: list = []
        self._inits: dict = {}  # hidden state (RNG counters …) the first run found absent, with its init
        self.num_checks = 0
        self._compiled = None
        self._hoisted_device = None
        self._check_meta: list = []
        self._compile_pending = False
        self._fast = None

    # --- running ------------------------------------------------------------------------------
    def run(self, store: dict, feed_values: Sequence) -> list:
        """Runs once against the session's `store` (updated in place only on success)."""
        fast = self._fast
        if fast is not None:
            fetched = fast(store, feed_values)
            if fetched is not None:
                return fetched
        with jax.enable_x64(True):
            if self.device is not None:
                with jax.default_device(self.device):
                    return self._run(store, feed_values)
            return self._run(store, feed_values)

    def _run(self, store: dict, feed_values: Sequence) -> list:
        if self._split is not None:  # the device part (with its own host inputs) runs as its own plan
            return self._run_split(store, feed_values)
        for pre_run, op in self.pre_runs:
            pre_run(store, op)
        if self.input_steps:
            feed_values = list(feed_values) + self._run_inputs(store, feed_values)
        if self._compiled is not None:
            return self._run_compiled(store, feed_values)
        if self.host:
            return self._run_eager(store, feed_values)
        if self.runs == 0:
            if not _compile_on_first_run(self.steps):
                return self._run_eager(store, feed_values)
            self._discover_state_access(store, feed_values)
        self._compile()
        try:
            return self._run_compiled(store, feed_values)
        except NotImplementedError:
            # A rule needs a run-time value as a static shape (tf.range(n_fed), x[i:j] with fed bounds):
            # JAX cannot compile that, but the op-by-op run can, as TF does. Stay eager for this plan.
            self._compiled, self._fast, self.host = None, None, True
            return self._run_eager(store, feed_values)

    def _run_split(self, store: dict, feed_values: Sequence) -> list:
        device_plan, device_feed_index, bridges, host_steps = self._split
        device_values = device_plan._run(store, [feed_values[i] for i in device_feed_index])
        env = dict(zip(self.feed_tensors, feed_values))
        env.update(zip(device_plan.fetch_tensors, device_values))
        env.update(self.hoisted)
        ctx = RunContext(store, traced=False)
        fetched = evaluate(host_steps, env, self.fetch_tensors, ctx)
        for key in ctx.writes:
            store[key] = ctx.state[key]
        self.runs += 1
        return fetched

    def _discover_state_access(self, store: dict, feed_values: Sequence) -> None:
        """An abstract trace (no compile, no execution) recording which state the plan reads and writes."""
        if not any(rule.context for _, rule, _ in self.steps):
            return  # only context rules touch state or add runtime checks
        # Host-side state (dataset objects, host iterators) is closed over; arrays are traced abstractly.
        keys = [k for k, v in store.items() if _is_array_tree(v)]
        static = {k: v for k, v in store.items() if not _is_array_tree(v)}
        feed_tensors = self.feed_tensors + self.input_tensors + list(self.hoisted)

        def probe(state_values, feeds):
            state_in = dict(static)
            state_in.update(zip(keys, state_values))
            ctx = RunContext(state_in, traced=True)
            evaluate(self.steps, dict(zip(feed_tensors, feeds)), self.fetch_tensors, ctx)
            self.reads, self.writes, self.num_checks = list(ctx.reads), list(ctx.writes), ctx.num_checks
            self._inits = dict(ctx.inits)
        jax.eval_shape(probe, [store[k] for k in keys], list(feed_values) + list(self.hoisted.values()))

    def _run_inputs(self, store: dict, feed_values: Sequence) -> list:
        """Evaluates the host inputs (and the host ops they read) eagerly; commits their state."""
        ctx = RunContext(store, traced=False)
        values = evaluate(self.input_steps, dict(zip(self.feed_tensors, feed_values)), self.input_tensors, ctx)
        for key in ctx.writes:
            store[key] = ctx.state[key]
        return values

    def _run_eager(self, store: dict, feed_values: Sequence) -> list:
        t0 = time.perf_counter()
        ctx = RunContext(store, traced=False)
        feeds = dict(zip(self.feed_tensors + self.input_tensors, feed_values))
        feeds.update(self.hoisted)
        fetched = evaluate(self.steps, feeds, self.fetch_tensors, ctx)
        for key in ctx.writes:
            store[key] = ctx.state[key]
        if self.runs == 0:
            self.reads, self.writes = list(ctx.reads), list(ctx.writes)
            self.num_checks = ctx.num_checks
            self._inits = dict(ctx.inits)
        self.runs += 1
        stats.record_eager(time.perf_counter() - t0)
        return fetched

    def _compile(self) -> None:
        steps, fetch_tensors = self.steps, self.fetch_tensors
        feed_tensors = self.feed_tensors + self.input_tensors + list(self.hoisted)
        writes = list(self.writes)
        donated_keys = [k for k in self.reads if k in writes]
        kept_keys = [k for k in self.reads if k not in writes]
        check_meta = self._check_meta

        def fn(donated, kept, feeds):
            state_in = dict(zip(donated_keys, donated))
            state_in.update(zip(kept_keys, kept))
            ctx = RunContext(state_in, traced=True)
            fetched = evaluate(steps, dict(zip(feed_tensors, feeds)), fetch_tensors, ctx)
            check_meta[:] = [(cls, msg, op) for _, cls, msg, op in ctx.checks]
            ok = ctx.all_ok()
            return fetched, [ctx.gated_value(k, ok, state_in) for k in writes], ([] if ok is None else [ok])

        self._donated_keys, self._kept_keys = donated_keys, kept_keys
        self._read_writes = frozenset(donated_keys)
        self._compiled = jax.jit(fn, donate_argnums=(0,))
        self._hoisted_device = [jax.device_put(v) for v in self.hoisted.values()]
        self._compile_pending = True

    def _commit(self, store: dict, written, oks) -> bool:
        """Stores a compiled run's writes. A failed runtime check gated every write to its old value
        (see RunContext.gated_value): those are stored (the donated buffers are gone), new state is not."""
        if oks and not bool(oks[0]):
            for key, value in zip(self.writes, written):
                if key in self._read_writes:
                    store[key] = value
            return False
        for key, value in zip(self.writes, written):
            store[key] = value
        return True

    def _raise_failed_check(self, store: dict, feed_values: Sequence) -> list:
        """Nothing changed: re-run op by op, which raises with the runtime values in the message
        (tf.Assert data, the bad index …) exactly as a first run would."""
        return self._run_eager(store, feed_values)

    def _run_compiled(self, store: dict, feed_values: Sequence) -> list:
        with self.lock:
            return self._run_compiled_locked(store, feed_values)

    def _run_compiled_locked(self, store: dict, feed_values: Sequence) -> list:
        for key, init in self._inits.items():
            if key not in store:  # hidden state not created yet (a random op's first run): its start
                store[key] = init()
        try:
            donated = [store[k] for k in self._donated_keys]
            kept = [store[k] for k in self._kept_keys]
        except KeyError as e:  # a variable was re-created/uninitialized since: fall back to eager
            self._compiled = self._fast = None
            self.runs = 0
            return self._run_eager(store, feed_values)
        feeds = list(feed_values) + self._hoisted_device if self._hoisted_device else feed_values
        t0 = time.perf_counter()
        if self._compile_pending:  # this call traces and compiles: make a long compile visible
            self._compile_pending = False
            with stats.compile_notice(len(self.steps), self.fetch_tensors):
                fetched, written, oks = self._compiled(donated, kept, feeds)
            stats.record_compile(time.perf_counter() - t0, len(self.steps))
        else:
            fetched, written, oks = self._compiled(donated, kept, feeds)
            stats.record_compiled(time.perf_counter() - t0)
        if not self._commit(store, written, oks):
            return self._raise_failed_check(store, feed_values)
        self.runs += 1
        if self._fast is None and self._split is None and not self.input_steps and self.device is None:
            self._fast = self._make_fast()
        return fetched

    def _make_fast(self):
        """The steady-state run of a compiled plan with nothing around it (no host inputs or device
        scope) as one closure: the Session.run hot path of a training loop."""
        compiled, hoisted, pre_runs, lock = self._compiled, self._hoisted_device, tuple(self.pre_runs), self.lock
        donated_keys, kept_keys, writes = tuple(self._donated_keys), tuple(self._kept_keys), tuple(self.writes)
        enable_x64, clock, commit = jax.enable_x64, time.perf_counter, self._commit

        def fast(store: dict, feed_values: Sequence):
            for pre_run, op in pre_runs:  # host-side facts (e.g. end of an iterator) before dispatch
                pre_run(store, op)
            t0 = clock()
            with lock, enable_x64(True):
                try:
                    donated = [store[k] for k in donated_keys]
                    kept = [store[k] for k in kept_keys]
                except KeyError:  # state re-created since: the general path handles it
                    return None
                fetched, written, oks = compiled(donated, kept, list(feed_values) + hoisted if hoisted else feed_values)
                if oks:
                    if not commit(store, written, oks):
                        return self._raise_failed_check(store, feed_values)
                else:
                    for key, value in zip(writes, written):
                        store[key] = value
            current = stats.current
            current.compiled_runs += 1
            current.run_seconds += clock() - t0
            return fetched
        return fast


def _split_host_tail(plan: "Plan", ops: list, fed: set, target_ops: Sequence, device: Optional[str]):
    """(device Plan, its feed positions, bridge tensors, host steps) when the host ops form a tail.

    Host ops are those with host rules or string values, and everything downstream of them (data or
    control). The rest forms a device plan whose fetches are the device-side fetches plus the tensors
    host ops read ("bridges"). Variable refs read by host ops are re-derived on the host (their
    VariableV2 op is pure). Returns None when nothing would compile (all host) or a bridge is unusual.
    """
    host_ops: set = set()
    for op in ops:
        if _runs_on_host(op, get_rule(op.type)) \
                or any(t.dtype == _dtypes.string or (t not in fed and t.op in host_ops) for t in op._inputs) \
                or any(c in host_ops for c in op._control_inputs):
            host_ops.add(op)
    device_ops = [op for op in ops if op not in host_ops and op.type != "Const"]
    if not device_ops:
        return None
    bridges, extra_host = [], []
    for op in ops:
        if op not in host_ops:
            continue
        for t in op._inputs:
            if t in fed or t.op in host_ops or t in bridges:
                continue
            if t.dtype.is_ref_dtype or t.dtype.base_dtype in (_dtypes.resource, _dtypes.variant):
                # handles are host values: re-derive them on the host from their (input-less) source op
                if t.op._inputs:
                    return None
                if t.op not in extra_host:
                    extra_host.append(t.op)
                continue
            bridges.append(t)
    device_fetches = [t for t in plan.fetch_tensors if t.op not in host_ops and t not in fed]
    device_targets = [op for op in target_ops if op not in host_ops]
    fetches = device_fetches + [t for t in bridges if t not in device_fetches]
    if not fetches and not device_targets:
        return None
    feed_index = [i for i, t in enumerate(plan.feed_tensors) if t.dtype != _dtypes.string]
    device_plan = Plan(fetches, device_targets, [plan.feed_tensors[i] for i in feed_index], device, plan.lock)
    if device_plan.host:
        return None
    host_set = host_ops.union(extra_host)
    host_steps = [step for step in plan.steps if step[0] in host_set]
    for op in extra_host:
        if all(step[0] is not op for step in host_steps):
            host_steps.append((op, get_rule(op.type), normalize_attrs(op.attrs)))
    host_steps.sort(key=lambda step: step[0]._id)
    return device_plan, feed_index, bridges, host_steps

def _runs_on_host(op, rule) -> bool:
    """Host rules, string values, host inputs that stayed in the step, and If/While whose subgraph needs
    the host (`_graphcompat_host`) keep an op out of jitted code."""
    return (runs_on_host(rule, op) or any(t.dtype == _dtypes.string for t in op._outputs) or _wants_host_input(op)
            or bool(op._attrs.get("_graphcompat_host")))


def _wants_host_input(op) -> bool:
    flag = get_rule(op.type).host_input
    return bool(flag(op) if callable(flag) else flag)


def _is_host_input(op, fed: set) -> bool:
    """Whether `op` runs before the jitted part: its rule says so and it reads only plain host ops."""
    if not _wants_host_input(op) or op._control_inputs:
        return False
    for t in op._inputs:
        if t in fed:
            continue
        for dep in prune([t], [], fed):
            rule = get_rule(dep.type)
            # source ops (handles, variable refs) may be context rules; anything else with state is not
            # safe to run twice (once here, once in the step)
            if (rule.context and dep._inputs) or dep.type == "Placeholder" or _wants_host_input(dep):
                return False
    return True


def _is_array_tree(value) -> bool:
    return all(isinstance(leaf, (jax.Array, np.ndarray, np.generic)) for leaf in jax.tree_util.tree_leaves(value))


def _jax_device(spec: Optional[str]):
    """The JAX device for a TF device string, or None (soft placement: missing devices fall back)."""
    if not spec:
        return None
    kind, _, index = spec.rpartition("device:")[2].partition(":")
    platform = {"CPU": "cpu", "GPU": "gpu", "TPU": "tpu"}.get(kind.upper())
    if platform is None:
        return None
    try:
        devices = jax.devices(platform)
    except RuntimeError:
        return None
    i = int(index) if index.isdigit() else 0
    return devices[i] if i < len(devices) else None
