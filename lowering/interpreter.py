"""The interpreter: one loop over a pruned, ordered list of ops, calling each op's rule.

The same loop runs eagerly (first run of a plan, host plans) and under `jax.jit` (every later run).
State (variables, RNG counters, iterator positions) is explicit: `RunContext` starts from the
session's values, records reads and writes, and hands the written values back.
"""
from __future__ import annotations

import contextvars
import os
import zlib
from typing import Any, Callable, Mapping, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors


class NeedsConcreteValues(NotImplementedError):
    """A rule met a traced value where it needs a concrete one (a fed bound used as a static shape).

    Under `jax.jit` this means "run this plan op by op instead", as TF's executor would run it.
    """


class NeedsObservedRun(NeedsConcreteValues):
    """A compiled step needs a capacity that only an op-by-op run can observe (the trip count of a loop
    whose body pushes on a stack, with no static bound): the executor runs this step op by op, which
    records it in the plan's `LoopHints`, and compiles on a later run (not "op by op for good")."""


class CapacityExceeded(errors.InternalError):
    """The error class of a compiled step's check that a capacity taken from `LoopHints` sufficed (or that
    a padded tf.where selected a row to pad with, lowering/padding.py `row_ids`). When it fails, the step's
    writes are gated off like any failed check's; the executor re-runs the step op by op (exact), returns
    that result and rebuilds the compiled step with the larger capacity observed, if any."""


class LoopHints:
    """What a plan's op-by-op runs observed about its loops without a static bound, used as capacity hints
    when it compiles: per While op, the most iterations one execution of it ran. A compiled step sizes the
    stacks such a loop pushes on to `capacity(op)` iterations and checks at run time that it was enough
    (CapacityExceeded)."""

    MINIMUM = 16   # capacity of a loop seen running few (or no) iterations: small loops never recompile

    def __init__(self):
        self.trips: dict = {}     # While op -> most iterations observed in one execution
        self.observed = False     # an op-by-op run of the plan completed (loops it did not reach: MINIMUM)
        self.version = 0          # bumped whenever a capacity grows (so a rebuilt step would differ)

    def observe(self, op, trips: int) -> None:
        before = self.capacity_of(self.trips.get(op, 0))
        self.trips[op] = max(self.trips.get(op, 0), int(trips))
        if self.capacity_of(self.trips[op]) > before:
            self.version += 1

    @classmethod
    def capacity_of(cls, trips: int) -> int:
        # the next power of two: a loop whose trip count creeps up recompiles log2(n) times, not n times
        return max(cls.MINIMUM, 1 << max(int(trips) - 1, 0).bit_length())

    def capacity(self, op) -> int:
        if op not in self.trips and not self.observed:
            raise NeedsObservedRun(f"tf.while_loop '{op.name}': its stacks are sized from the trip count an "
                                   "op-by-op run observes")
        return self.capacity_of(self.trips.get(op, 0))

    def observing(self) -> "ObservingHints":
        """The hints as an op-by-op run of the plan sees them (see ObservingHints)."""
        return ObservingHints(self)


class ObservingHints:
    """The LoopHints of an op-by-op run: it records trip counts in them, and never raises NeedsObservedRun
    (the op-by-op run is the observer). Its loops count their iterations on the host before they are traced
    (a gradient's re-trace), so a capacity asked for here is one this run observed; a loop it never ran
    (a branch not taken) gets the minimum, which it cannot outgrow in a run that does not run it."""

    __slots__ = ("hints",)

    def __init__(self, hints: LoopHints):
        self.hints = hints

    def observe(self, op, trips: int) -> None:
        self.hints.observe(op, trips)

    def capacity(self, op) -> int:
        return self.hints.capacity_of(self.hints.trips.get(op, 0))


# The evaluation in progress on this thread/task: (RunContext, current op). Lets plain rules declare
# run-time validations with `require` without becoming context rules.
_active_run: contextvars.ContextVar = contextvars.ContextVar("graphcompat_active_run", default=None)


def require(ok, error_class, message: Union[str, Callable[[], str]]) -> None:
    """TF kernels' `OP_REQUIRES` for lowering rules: fail this run with `error_class(message)` unless `ok`.

    `ok` is a bool or boolean array (all elements must hold). Eagerly it raises at once; under `jax.jit`
    it becomes a run-time check that gates every state write of the run (a failed run changes nothing)
    and is raised, with the same message, when the run's results are read. `message` may be a callable
    so that formatting with run-time values costs nothing when the check passes; it is only called with
    concrete values. Outside a run (abstract shape inference, build-time folding) a concrete failure
    raises and a traced one is ignored.
    """
    active = _active_run.get()
    if active is None:
        if isinstance(ok, jax.core.Tracer) or bool(np.all(np.asarray(ok))):
            return
        raise error_class(None, None, message() if callable(message) else message)
    ctx, op = active[0], active[0].current_op
    ctx.check(ok, error_class, message, op)


def current_op():
    """The op whose rule is running in this thread's evaluation, None outside one (shape inference)."""
    active = _active_run.get()
    return None if active is None else active[0].current_op


class Ref:
    """A variable reference flowing along a `*_ref` edge: resolved against the RunContext's state."""

    __slots__ = ("key", "op")

    def __init__(self, key, op):
        self.key = key
        self.op = op

    def __repr__(self):
        return f"Ref({self.key!r})"


class LazyRead(Ref):
    """An Identity of a ref (`v/read`): read when a consumer runs, not when the Identity does.

    TF1's `v/read` aliases the variable's buffer, so an op gated on an assign sees the new value.
    Every rule (plain or context) receives the value; only VariableV2's own output stays a Ref.
    """

    __slots__ = ()


# The PRNG behind TF's random ops. TF's own bits (Philox) cannot be reproduced anyway (docs/migration.md);
# "rbg" draws bits with XLA's RngBitGenerator and compiles about twice as fast as JAX's default threefry
# (0.4 s instead of 0.8 s for the three initializers of a small MLP): initializer plans and first training
# steps are compiles that users wait for. Key splitting and folding stay threefry-based (sound streams).
PRNG_IMPL = "rbg"


class RunContext:
    """Threaded state for one run: reads fall through to the session's values, writes stay local."""

    def __init__(self, state_in: Mapping, traced: bool, session_seed: int = 0):
        self._state_in = state_in
        self.traced = traced
        self.state: dict = {}
        self.reads: list = []
        self.writes: list = []
        # state of this run only (a TensorArray's buffer, which its TensorArrayV3 op starts afresh every run):
        # written and read within the run, never part of what a run writes back (`writes`), so a compiled step
        # neither returns it nor keeps alive the computations that only fed it
        self.scratch: set = set()
        self.inits: dict = {}        # hidden-state key → its init function (read_or_init of an absent key)
        self.checks: list = []       # (ok array, error class, message, op) collected while tracing
        self.num_checks = 0
        self.gated: dict = {}  # keys whose last write a rule gated on all_ok() itself
        # In-place effects (scatters) a top-level compiled run applies at its end, gated on ALL its checks
        # (see write_effect); elsewhere they apply at once.
        self.defer_effects = False
        self.effects: dict = {}
        self.stacked_effects: set = set()
        self.env: Optional[dict] = None  # tensor → value map of the evaluation in progress
        self.current_op = None           # the op whose rule is running (for `require`)
        self.rule_overrides: dict = {}   # op → Rule used instead of its own (padded runs' masked ops)
        # True in the executor's abstract trace that only finds the state a plan reads and writes
        self.state_access_only = False
        # op by op with tf.device placement (lowering/placement.py): {op: JAX device}; state read by an
        # op is copied to its device (`device`: the running op's)
        self.placement: Optional[dict] = None
        self.device = None

    # --- state --------------------------------------------------------------------------------
    def has(self, key) -> bool:
        return key in self.state or key in self._state_in

    def read(self, key, op=None):
        if key in self.state:
            value = self.state[key]
            return value if self.device is None else _placement_move(value, self.device)
        if key in self.effects:  # a later op reads what a deferred effect wrote: apply it now
            return self._apply_effect(key)
        if key not in self._state_in:
            name = key if isinstance(key, str) else key[-1]
            raise errors.FailedPreconditionError(
                None, op, f"Attempting to use uninitialized value {name}")
        value = self._state_in[key]
        self.reads.append(key)
        self.state[key] = value
        return value if self.device is None else _placement_move(value, self.device)

    def read_or_init(self, key, init):
        """Reads hidden state (RNG counters, iterator positions) that starts at `init()` when absent.

        Recorded as a read either way, so the compiled plan takes it as an input on later runs.
        """
        if key in self.state:
            return self.state[key]
        if key in self._state_in:
            value = self._state_in[key]
        else:
            value = init()
            self.inits[key] = init
        self.reads.append(key)
        self.state[key] = value
        return value

    def random_key(self, op, per_run: bool = False, first: bool = False):
        """A fresh PRNG key for this execution of random op `op`.

        The key is (seed, seed2) from the op's attrs (TF's graph/op seed rules), folded with a per-op
        counter carried as state: every run advances the op's own stream, a new Session restarts it,
        and two ops with equal seeds produce equal streams. Unseeded ops (seed = seed2 = 0) draw from
        a per-session random base.
        """
        seed, seed2 = int(op.attrs.get("seed", 0)), int(op.attrs.get("seed2", 0))
        counter = self.read_or_init(("rng", op.name), lambda: np.uint32(0))
        if first:
            # `first`: the key of the op's first execution on every run (a TF kernel that draws once and
            # keeps its draw, e.g. FractionalMaxPool with deterministic=True)
            counter = np.uint32(0)
        elif per_run:
            # `per_run`: the key of this run however often the rule runs in it (a gradient's re-trace of
            # the forward pass must draw what the forward drew): the counter as the run found it.
            counter = self._state_in.get(("rng", op.name), np.uint32(0))
        self.write(("rng", op.name), counter + np.uint32(1))
        if seed == 0 and seed2 == 0:
            base = self.read_or_init(("rng_session",), _session_entropy)
            key = jax.random.fold_in(jax.random.key(base, impl=PRNG_IMPL), _stable_hash(op.name))
        else:
            key = jax.random.fold_in(jax.random.key(seed, impl=PRNG_IMPL), seed2)
        return jax.random.fold_in(key, counter)

    def philox_stream(self, op, reserve: int):
        """TF's generator for this run of a stateful Philox op (RandomUniform, RandomStandardNormal, ...).

        TF's kernel holds GuardedPhiloxRandom(seed, seed2) for the session and each run reserves `reserve`
        Philox calls (ReserveRandomOutputs(n, 256)): run k starts at counter k * reserve. The position is
        this op's ("rng", name) state, so a new Session restarts the stream and both tiers continue it.
        Unseeded ops (seed = seed2 = 0: TF seeds them from entropy) take a per-session key.

        Returns (key, counter) words for lowering/philox.py: python ints op by op, traced when compiled.
        """
        from lowering import philox

        seed, seed2 = int(op.attrs.get("seed", 0)), int(op.attrs.get("seed2", 0))
        pos = self.read_or_init(("rng", op.name), lambda: np.uint64(0))
        if self.traced:
            pos = jnp.asarray(pos).astype(jnp.uint64)
            self.write(("rng", op.name), pos + jnp.asarray(reserve).astype(jnp.uint64))  # (traced when padded)
        else:
            pos = int(np.asarray(pos))
            self.write(("rng", op.name), np.uint64((pos + reserve) & 0xFFFFFFFFFFFFFFFF))
        if seed == 0 and seed2 == 0:
            base = self.read_or_init(("rng_session",), _session_entropy)
            key = (_stable_hash(op.name), base if self.traced else int(np.asarray(base)))
            upper = (0x5EED, 0x5EED)
        else:
            key, counter = philox.key_counter_from_seeds(seed, seed2)
            upper = counter[2:]
        if self.traced:
            mask = jnp.uint64(0xFFFFFFFF)
            return key, (pos & mask, pos >> jnp.uint64(32)) + upper
        return key, (pos & 0xFFFFFFFF, pos >> 32) + upper

    def all_ok(self):
        """While tracing: the conjunction of the runtime checks so far (None when there are none).

        Rules with in-place effects (scatter updates) gate them on it, e.g. by dropping every index
        when it is false, and then write with `gated=True`.
        """
        if not self.traced or not self.checks:
            return None
        ok = self.checks[0][0]
        for check in self.checks[1:]:
            ok = jnp.logical_and(ok, check[0])
        return ok

    def write(self, key, value, gated: bool = False, scratch: bool = False) -> None:
        """Records `value` as the new state of `key`; `gated=True` when the rule already applied
        `all_ok()` to its effect (prefer `write_effect`); `scratch=True` makes `key` state of this run only
        (see `self.scratch`)."""
        if scratch:
            self.scratch.add(key)
        if gated:
            self.gated[key] = True
        else:
            self.gated.pop(key, None)
        self.effects.pop(key, None)
        if key not in self.writes and key not in self.scratch:
            self.writes.append(key)
        self.state[key] = value

    def write_effect(self, key, apply: Callable) -> None:
        """Records an in-place effect on state `key` (a scatter update): `apply(ok)` returns the new value,
        where `ok` is None (nothing to gate) or a traced bool, and when `ok` is false the effect must
        change nothing (e.g. drop every index) — cheaper than selecting between two copies of a table.

        A top-level compiled run applies it at its end with the conjunction of ALL the run's checks, so a
        check that comes later in the run still undoes it (a failed run changes no state); elsewhere (op
        by op, loop bodies) it applies at once with the checks made so far.
        """
        if not self.defer_effects:
            ok = self.all_ok()
            self.write(key, apply(ok), gated=ok is not None)
            return
        if key in self.writes and key not in self.effects:
            # the effect builds on a value this run wrote (sparse Adam: m.assign(m * beta1) then a scatter):
            # dropping the scatter's indices would keep that write, so this one is gated by a select
            self.stacked_effects.add(key)
        self.state.pop(key, None)
        self.gated.pop(key, None)
        self.effects[key] = apply
        if key not in self.writes:
            self.writes.append(key)

    def _apply_effect(self, key):
        # read within the run: the value with the effect applied; the run's end then gates it by a select
        value = self.effects.pop(key)(None)
        self.state[key] = value
        self.gated.pop(key, None)
        return value

    def final_writes(self, state_in: Mapping) -> list:
        """The values a compiled run writes for `self.writes`: the new values when every check passed,
        else the old ones (a select for plain writes, the effect's own gate for deferred effects)."""
        ok = self.all_ok()
        out = []
        for key in self.writes:
            if key in self.effects:
                if key in self.stacked_effects and ok is not None and key in state_in:
                    out.append(jnp.where(ok, self.effects[key](None), state_in[key]))
                else:
                    out.append(self.effects[key](ok))
                continue
            value = self.state[key]
            if ok is not None and key in state_in and key not in self.gated:
                old = state_in[key]
                if jnp.shape(value) == jnp.shape(old):  # a validate_shape=False assign cannot be gated
                    value = jnp.where(ok, value, old)
            out.append(value)
        return out

    def deref(self, value):
        return self.read(value.key, value.op) if isinstance(value, Ref) else value

    # --- runtime checks -----------------------------------------------------------------------
    def check(self, ok, error_class, message: Union[str, Callable[[], str]], op=None) -> None:
        """Raise `error_class(message)` for this run if `ok` is false (deferred when traced).

        A callable `message` is only called when the check fails on concrete values.
        """
        self.num_checks += 1
        if isinstance(ok, jax.core.Tracer):
            if callable(message):
                message = f"{op.type if op is not None else 'op'} failed a run-time check"
            self.checks.append((jnp.all(ok), error_class, message, op))
        elif not bool(np.all(np.asarray(ok))):
            message = message() if callable(message) else message
            if self.checks:  # an earlier check is only known when the step runs: it may fail first, as in TF
                self.checks.append((jnp.asarray(False), error_class, message, op))
                return
            raise error_class(None, op, message)


def _session_entropy():
    return np.uint32(int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF)


def _stable_hash(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def evaluate(steps, feeds: Mapping, fetch_tensors, ctx: RunContext, deref: bool = True):
    """Runs `steps` [(op, rule, attrs)] with `feeds` bound; returns the fetched values (`deref=False`:
    variable references as they flow, for a caller that runs the graph in parts).

    `ctx.env` exposes the tensor → value map to context rules (gradients re-trace from it). Every rule
    runs inside one guard: whatever it raises reaches the caller as a `tf.errors` class naming the op.
    """
    env: dict[Any, Any] = dict(feeds)
    outer_env, outer_op = ctx.env, ctx.current_op
    ctx.env = env
    token = _active_run.set((ctx,))
    # per-op devices at the top level only: a nested evaluation (a gradient's re-traced forward ops, a
    # loop body) runs inside its op's device scope
    placement = ctx.placement if outer_env is None else None
    device_scope = None
    try:
        for op, rule, attrs in steps:
            ctx.current_op = op
            args = [env[t] for t in op._inputs]
            if placement is not None:  # op by op, each op on its tf.device: inputs are copied there
                device = placement.get(op) or ctx.device or next(iter(placement.values()))
                if device is not ctx.device or device_scope is None:
                    if device_scope is not None:
                        device_scope.__exit__(None, None, None)
                    device_scope = jax.default_device(device)
                    device_scope.__enter__()
                    ctx.device = device
                args = [_placement_move(a, device) for a in args]
            try:
                if op._type == "Identity" and isinstance(args[0], Ref):
                    # TF1's Identity of a ref (`v/read`) aliases the variable's buffer: consumers see the
                    # value at *their* turn, so `with control_dependencies([inc]): tf.identity(v)` reads
                    # the update.
                    ref = args[0]
                    out = ref if type(ref) is LazyRead else LazyRead(ref.key, ref.op)
                elif rule.context:
                    if any(type(a) is LazyRead for a in args):
                        args = [ctx.deref(a) if type(a) is LazyRead else a for a in args]
                    out = rule.fn(ctx, op, *args)
                else:
                    if any(isinstance(a, Ref) for a in args):
                        args = [ctx.deref(a) for a in args]
                    if rule.host is True:
                        args = [_to_host(a) for a in args]
                    out = rule.fn(*args, **attrs)
            except (errors.OpError, NotImplementedError):
                raise
            except Exception as err:  # noqa: BLE001 (the guard: nothing raw reaches the user)
                raise as_op_error(err, op) from err
            outputs = op._outputs
            if len(outputs) == 1:
                if outputs[0] not in env:
                    if type(out) in (list, tuple) and len(out) == 1 and _list_output(op._type):
                        out = out[0]   # a list output of one element (tf.split(x, 1), unstack of one row)
                    env[outputs[0]] = out
            elif outputs:
                for t, v in zip(outputs, out):
                    if t not in env:
                        env[t] = v
        if device_scope is not None:
            device_scope.__exit__(None, None, None)
            device_scope = None
            ctx.device = None
        result = [ctx.deref(env[t]) for t in fetch_tensors] if deref else [env[t] for t in fetch_tensors]
    finally:
        if device_scope is not None:
            device_scope.__exit__(None, None, None)
            ctx.device = None
        _active_run.reset(token)
        ctx.env, ctx.current_op = outer_env, outer_op
    return result


_CONCRETIZATION_ERRORS = (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
                          jax.errors.TracerIntegerConversionError, jax.errors.TracerArrayConversionError)


def as_op_error(err: BaseException, op) -> BaseException:
    """The `tf.errors` class a raw exception from `op`'s rule becomes (TF's kernels report bad input as
    InvalidArgumentError; resource exhaustion and missing features keep their TF classes)."""
    if isinstance(err, _CONCRETIZATION_ERRORS):
        return NeedsConcreteValues(f"{op.type} '{op.name}' needs a concrete value at trace time")
    if isinstance(err, MemoryError):
        return errors.ResourceExhaustedError(None, op, f"OOM when running {op.type} '{op.name}'")
    if isinstance(err, (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError, OverflowError,
                        ArithmeticError)):
        return errors.InvalidArgumentError(None, op, _first_line(err))
    if type(err).__module__.startswith(("jaxlib", "jax")):
        return errors.InvalidArgumentError(None, op, _first_line(err))
    return errors.InternalError(None, op, f"{type(err).__name__}: {_first_line(err)}")


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


_LIST_OUTPUT: dict = {}


def _list_output(op_type: str) -> bool:
    """Whether the op type's outputs are one list argument (Split's `num_split` outputs …): its rule
    returns a list, also when the list has one element."""
    flag = _LIST_OUTPUT.get(op_type)
    if flag is None:
        from graphcompat.framework.registry import get_op_def
        outputs = get_op_def(op_type).outputs
        flag = _LIST_OUTPUT[op_type] = len(outputs) == 1 and bool(outputs[0].number_attr or
                                                                   outputs[0].type_list_attr)
    return flag


def _placement_move(value, device):
    from lowering.placement import move
    return move(value, device)


def _to_host(value):
    if isinstance(value, jax.Array):
        return np.asarray(value)
    return value
