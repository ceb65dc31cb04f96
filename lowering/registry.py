"""Lowering rules: TF op type → a few lines of jax.numpy/lax, one assignment per op (as autodidax).

A plain rule is `fn(*input_arrays, **attrs) -> array | tuple[array, ...] | None`; attrs arrive with
DTypes as numpy dtypes and TensorShapes as tuples. A context rule (`context=True`) is
`fn(ctx, op, *inputs)` and may read or write threaded state (variables, RNG counters, iterators).
A host rule (`host=True`) needs concrete numpy values (strings, Python callbacks): plans that contain
one run op by op, never under `jax.jit`. `host` may also be a predicate `(op) -> bool` for ops that need
the host only sometimes (an If whose branch calls py_func); such a rule receives its inputs unconverted.
A host-input rule (`host_input=True`, or a predicate `(op) -> bool`) is evaluated on the host BEFORE the
jitted part of a plan (input pipelines: a generator's next element); its outputs enter the jitted
function as extra feeds, so the rest of the step still compiles. `pre_run(store, op)` is host
bookkeeping called before every run of a plan that contains the op (may raise before anything runs).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Callable, Iterator, Optional

from graphcompat.framework import registry as _framework_registry
from graphcompat.framework import tf_op_types as _tf_op_types


@dataclasses.dataclass(frozen=True)
class Rule:
    fn: Callable
    context: bool = False
    host: object = False                # bool, or a predicate (op) -> bool
    host_input: object = False          # bool, or a predicate (op) -> bool
    pre_run: Optional[Callable] = None  # (store, op) -> None, on the host before each run


class _Rules(Mapping):
    """op type -> Rule, read from the op's one record (graphcompat.framework.registry.OpDef.lowering)."""

    def __getitem__(self, op_type: str) -> Rule:
        rule = _framework_registry.lowering_of(op_type)
        if rule is None:
            raise KeyError(op_type)
        return rule

    def __iter__(self) -> Iterator[str]:
        return iter(_framework_registry.lowered_op_types())

    def __len__(self) -> int:
        return len(_framework_registry.lowered_op_types())


RULES: Mapping = _Rules()


# TF 1's control-flow ops: an op downstream of one runs in a cond branch or a loop iteration (or not at all)
_CONTROL_FLOW = frozenset({"Switch", "RefSwitch", "Merge", "RefMerge", "Enter", "RefEnter", "Exit", "RefExit",
                           "NextIteration", "RefNextIteration", "LoopCond", "ControlTrigger"})


def runs_before_the_step(op) -> bool:
    """A `host_input` predicate for host ops that may run before the compiled step, their outputs fed to it
    (lowering/plan.py), rather than making themselves and everything downstream of them run op by op: a
    preprocessing `tf.py_func(f, [x])` of fed values, a vocabulary lookup of fed words. Only when nothing
    orders the op inside the step: no control inputs on it or anything it reads, no cond branch or loop
    frame. The plan then checks that what it reads is stateless (`_is_host_input`)."""
    seen, stack = set(), [op]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node._control_inputs or node.type in _CONTROL_FLOW:
            return False
        stack.extend(t.op for t in node._inputs)
    return True


def lowers(*op_types: str, context: bool = False, host: bool = False, host_input=False,
           pre_run: Optional[Callable] = None):
    """Decorator: `@lowers("MatMul")` registers the function as the lowering of those TF op types
    (on each op's OpDef; a second lowering of the same type raises DuplicateRegistrationError)."""
    def register(fn: Callable) -> Callable:
        for op_type in op_types:
            _framework_registry.attach_lowering(op_type, Rule(fn, context, host, host_input, pre_run))
        return fn
    return register


# op type -> the op type whose kernel it runs (TF 1's ref-handle ops: `HashTable` runs `HashTableV2`'s)
_KERNEL_OF: dict = {}


def lowers_as(kernel: str, *op_types: str) -> None:
    """Op types whose TF kernel is `kernel`'s with the same inputs and attrs: TF 1's ref-handle op types
    (`FIFOQueue`, `QueueDequeue`, `HashTable`, `ReaderRead` ...) whose handle is a `Ref(string)` where the
    V2 type's is a `resource`. The handle names the same session resource either way, so they get
    `kernel`'s Rule itself (the kernel must be registered already); a rule whose behaviour depends on the
    op type that runs it asks `kernel_type(op.type)`."""
    rule = _framework_registry.lowering_of(kernel)
    if rule is None:
        raise KeyError(f"lowers_as: '{kernel}' has no lowering yet (import its rule module first)")
    for op_type in op_types:
        _framework_registry.attach_lowering(op_type, rule)
        _KERNEL_OF[op_type] = kernel


def kernel_type(op_type: str) -> str:
    """The op type whose kernel `op_type` runs (itself unless registered with `lowers_as`)."""
    return _KERNEL_OF.get(op_type, op_type)


def runs_on_host(rule: Rule, op) -> bool:
    """Whether this use of `rule` needs concrete host values (see `host` above)."""
    host = rule.host
    return bool(host(op) if callable(host) else host)


def get_rule(op_type: str) -> Rule:
    rule = _framework_registry.lowering_of(op_type)
    if rule is None:
        raise NotImplementedError(f"graphcompat cannot run TF op type '{op_type}' yet: no lowering rule.")
    return rule


def require_rules(ops) -> None:
    """Raises one NotImplementedError naming every op type among `ops` that has no lowering (sorted), so a
    user learns everything a graph is missing at once, not one op per attempt."""
    missing = sorted({op.type for op in ops if _framework_registry.lowering_of(op.type) is None})
    if missing:
        raise NotImplementedError(f"graphcompat cannot run TF op type{'s' if len(missing) > 1 else ''} "
                                  f"{', '.join(repr(t) for t in missing)} yet: no lowering rule.")


def _kernel_type_sets(op_type: str) -> tuple:
    """Each CPU kernel of `op_type` as {type attr: frozenset of dtype names} (tf_op_types.CPU_KERNELS)."""
    sets = _KERNEL_TYPE_SETS.get(op_type)
    if sets is None:
        sets = _KERNEL_TYPE_SETS[op_type] = tuple(
            {attr: frozenset(names.split()) for attr, names in kernel.items()}
            for kernel in _tf_op_types.CPU_KERNELS[op_type])
    return sets


_KERNEL_TYPE_SETS: dict = {}


def _kernel_accepts(kernel: dict, attrs: Mapping) -> bool:
    for attr, names in kernel.items():
        value = attrs.get(attr)
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else (value,)
        if any(getattr(v, "name", v) not in names for v in values):
            return False
    return True


def require_kernels(ops) -> None:
    """TF's placer refuses a node that no CPU kernel accepts, before anything runs: `tf.reciprocal` of an
    int32 tensor is a valid graph (the OpDef allows int32) that no TF build can run (its kernels are for
    floating and complex types only). Raise TF's InvalidArgumentError for the first such op instead of
    computing a value TF never gives. (TF 1's DirectSession places the whole graph, so there any run fails
    once such a node exists; here only runs that need it fail.)"""
    for op in ops:
        if op.type in _tf_op_types.CPU_KERNELS and \
                not any(_kernel_accepts(kernel, op.attrs) for kernel in _kernel_type_sets(op.type)):
            from lowering.rules.checks import no_kernel
            raise no_kernel(op, _tf_op_types.KERNEL_LINES[op.type])
