"""Lowerings of `If`, `Case` and `While` (graphcompat/ops/control_flow_ops.py).

A branch or loop body is a function of the graph's library (graphcompat/framework/function_library.py),
found by the name in the op's func attr (`then_branch`, `body` …) through `op.graph`: its ops are
evaluated with `interpreter.evaluate` over an env that binds the outer tensors it captures (the
If/While op's inputs) and its parameters (loop variables). The facts the lowering needs are derived
from the graph: whether a body needs the host (its ops), the static trip bound of a loop (a constant
`maximum_iterations` input), the number of loop variables (the body's parameters). A loop is lowered to
`lax.while_loop`, or, while `jax.vjp` differentiates it and its maximum is static, to a while loop with
a custom VJP that saves each iteration's residuals (lowering/reverse_loop.py: reverse mode cannot
transpose `lax.while_loop`). A TensorList loop variable whose size the body changes (while_v2's
gradient accumulators) is carried bounded, with rows for as many elements as the trip bound allows
(`_ListCarry`, lowering/rules/list_ops.py). A stack the body pushes on (TF 1's loop gradients) is state
whose buffer is sized before the loop to the rows its iterations can push (lowering/rules/stacks.py).

State (variables, RNG counters) inside a subgraph: a `SubContext` reads through to the enclosing
RunContext (outer values are closed over by the lax branch/body) and keeps its writes local. Each
subgraph is first traced abstractly (`jax.eval_shape`) to learn which state keys it writes and which
runtime checks it makes; the real `lax.cond`/`lax.while_loop`/`lax.scan` then carries those keys
explicitly (a branch that does not write a key passes the current value through), and the results are
written to the enclosing context afterwards. So an assign in a cond branch acts only when that branch
is taken, and a loop body's assigns accumulate across iterations. Runtime checks made inside
(tf.Assert, check_numerics) come out as boolean outputs and are re-issued on the enclosing context.

Op-by-op runs (a plan's first run, host plans) evaluate subgraphs in Python: only the taken branch,
the loop iteration by iteration; the subgraph that did not run is traced abstractly once so that its
state keys and checks are known when the plan compiles. Bodies that need the host (py_func,
data-dependent shapes, branches of different static shapes) make their plans host, so they always run
this way. Captured variable reads stay lazy (Refs), so a read after an assign in the same branch sees
the assigned value, as TF1's `v/read`.
"""
from __future__ import annotations


import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from lowering.interpreter import CapacityExceeded, Ref, RunContext, evaluate
from lowering.registry import get_rule, kernel_type, lowers, runs_on_host
from lowering.reverse_loop import differentiable_while
from lowering.rules.list_ops import VariantRows, is_list
from lowering.rules.stacks import is_stack_items, size_stacks, with_rows


class SubContext(RunContext):
    """The RunContext of a subgraph: reads fall through to `parent`, writes and checks stay here.

    `seed` pre-binds state keys (the loop-carried values of keys the body writes).
    """

    def __init__(self, parent: RunContext, seed: dict | None = None):
        self.parent = parent
        super().__init__({}, traced=True)
        # a padded run's masked ops (lowering/padding.py) include ops of loop bodies and branches
        self.rule_overrides = parent.rule_overrides
        if seed:
            self.state.update(seed)

    def __getattr__(self, name):  # anything other helpers hang on the context (datasets, sessions …)
        if name == "parent":
            raise AttributeError(name)
        return getattr(self.parent, name)

    def has(self, key) -> bool:
        return key in self.state or self.parent.has(key)

    def read(self, key, op=None):
        if key in self.state:
            return self.state[key]
        value = self.parent.read(key, op)
        self.state[key] = value
        return value

    def read_or_init(self, key, init):
        if key in self.state:
            return self.state[key]
        value = self.parent.read_or_init(key, init)
        self.state[key] = value
        return value


def _function(op, attr: str):
    """The library function an op's func attr names (looked up through the op's graph)."""
    name = op.attrs[attr].name
    fn = op.graph._get_function(name)
    if fn is None:
        raise ValueError(f"{op.type} '{op.name}': function '{name}' is not in the graph's function library")
    return fn


def _steps(sub) -> list:
    steps = sub.lowering_cache.get("steps")
    if steps is None:
        from lowering.plan import normalize_attrs
        steps = [(op, get_rule(op.type), normalize_attrs(op.attrs)) for op in sub.ops]
        if sub.gradient_overrides:
            # ops whose gradient the user chose (tf.gradients recorded it on the body): their values, with
            # the user's gradient as their VJP when jax differentiates the loop or branch
            from lowering.rules.gradients import with_user_gradient_rule
            steps = [(op, with_user_gradient_rule(op, rule, attrs, sub.gradient_overrides[op]), attrs)
                     if op in sub.gradient_overrides else (op, rule, attrs) for op, rule, attrs in steps]
        sub.lowering_cache["steps"] = steps
    return steps


def _op_needs_host(op) -> bool:
    if op.type == "StringFormat":  # tf.print's: formatted on the host by its PrintV2 (strings.py)
        return runs_on_host(get_rule(op.type), op)
    if any(t.dtype.base_dtype.name == "string" for t in op._outputs):
        return True
    return runs_on_host(get_rule(op.type), op)


def _body_needs_host(fn) -> bool:
    """Whether a body's ops need concrete host values (py_func, strings, data-dependent shapes …)."""
    host = fn.lowering_cache.get("host")
    if host is None:
        host = fn.lowering_cache["host"] = any(_op_needs_host(op) for op in fn.ops)
    return host


def _static(shape) -> tuple | None:
    return shape.as_tuple_or_none()


def _branches(op) -> list:
    """An If's then/else functions, or a Case's branch functions, in order."""
    if op.type in ("If", "StatelessIf"):
        return [_function(op, "then_branch"), _function(op, "else_branch")]
    return [op.graph._get_function(f.name) for f in op.attrs["branches"]]


def needs_host(op) -> bool:
    """Whether an If/While must run op by op on the host: a body needs it, or (lax needs fixed shapes)
    cond branches return different static shapes / a loop variable changes its shape."""
    if op.type in ("If", "StatelessIf", "Case", "StatelessCase"):
        branches = _branches(op)
        # only shapes that certainly differ: a dimension the graph leaves unknown (TF 1's gradient of a cond
        # in a loop computes one side from popped stack values) is checked when the cond is traced
        return any(_body_needs_host(g) for g in branches) or any(
            not all(t.shape.is_compatible_with(u.shape) for t in by_branch for u in by_branch)
            for by_branch in zip(*(g.outputs for g in branches)))
    cond_g, body_g = _function(op, "cond"), _function(op, "body")
    n = len(body_g.params)
    # only shapes that certainly differ: a dimension the graph leaves unknown (a while_v2 gradient loop's
    # variables, whose shapes come from popped TensorList elements) is checked when the loop is traced
    return _body_needs_host(cond_g) or _body_needs_host(body_g) or any(
        not t0.shape.is_compatible_with(t1.shape) for t0, t1 in zip(op._inputs[2:2 + n], body_g.outputs))


def _static_max(op):
    """A While's maximum_iterations when it is a build-time constant >= 0, else None."""
    from graphcompat.framework.constant_op import constant_value
    value = constant_value(op._inputs[1])
    return None if value is None or int(value) < 0 else int(value)


def _normalized_attrs(op) -> dict:
    from lowering.plan import normalize_attrs
    return normalize_attrs(op.attrs)


def _run(sub, ctx: RunContext, env: dict, params=()) -> list:
    env = dict(env)
    env.update(zip(sub.params, params))
    steps = _steps(sub)
    overrides = ctx.rule_overrides
    if overrides:  # a padded run: the body's masked ops run masked (lowering/padding.py)
        chosen = sub.gradient_overrides
        if chosen and any(op in overrides for op in chosen):
            # a masked op whose gradient the user chose keeps that gradient around its masked rule
            from lowering.rules.gradients import with_user_gradient_rule
            overrides = {**overrides, **{
                op: with_user_gradient_rule(op, overrides[op], _normalized_attrs(op), chosen[op])
                for op in chosen if op in overrides}}
        steps = [(op, overrides.get(op, rule), attrs) for op, rule, attrs in steps]
    return evaluate(steps, env, sub.outputs, ctx)


def _probe(fn, *args):
    """Traces `fn(made, *args)` abstractly; returns (output avals, the SubContexts it created)."""
    made: list = []
    out = jax.eval_shape(lambda *a: fn(made, *a), *args)
    return out, made


def _current(ctx: RunContext, key, aval):
    """The enclosing value of a state key a subgraph may write (zeros if it has none yet, or if it holds
    a value of another shape: a TensorArray whose first write in the loop sizes it)."""
    if ctx.has(key):
        value = ctx.read(key)
        if tuple(jnp.shape(value)) == tuple(aval.shape):
            return value
        if is_stack_items(key) and len(aval.shape) and (jnp.ndim(value) == 1 and jnp.shape(value)[0] == 0
                                                          or tuple(jnp.shape(value)[1:]) == tuple(aval.shape[1:])):
            # a stack's buffer that a push elsewhere (the other branch) gave more rows: its elements stay
            return with_rows(value, aval.shape[0], tuple(aval.shape[1:]), aval.dtype)
    return jnp.zeros(aval.shape, aval.dtype)


def _captured_env(ctx: RunContext, tensors, values) -> dict:
    """Binds a subgraph's captured outer tensors. Variable reads stay lazy (the Ref the enclosing
    evaluation holds), so an op in the subgraph that runs after an assign in the subgraph reads the
    assigned value, as TF1's `v/read` does; values being differentiated are kept as given."""
    raw_env = getattr(ctx, "env", None) or {}
    env = {}
    for t, v in zip(tensors, values):
        raw = raw_env.get(t)
        if isinstance(raw, Ref) and not isinstance(v, Ref) and not _differentiated(v):
            v = raw
        env[t] = v
    return env


def _concrete(ctx: RunContext, *values) -> bool:
    """True when this run is op by op with concrete values (no jit trace, no gradient re-trace)."""
    if ctx.traced:
        return False
    return not any(isinstance(v, jax.core.Tracer) for v in jax.tree_util.tree_leaves(values))


def _primal_selector(ctx: RunContext, selector):
    """The concrete value of a cond/case selector in an op-by-op run whose captured values a gradient's eager
    linearization traces (the selector itself is concrete, or a tracer with a concrete primal); None under jit."""
    if ctx.traced:
        return None
    primal = jax.lax.stop_gradient(selector) if isinstance(selector, jax.core.Tracer) else selector
    return None if isinstance(primal, jax.core.Tracer) else np.asarray(primal)


def _record(ctx: RunContext, fn) -> None:
    """Registers the state keys and checks of a subgraph that did not run in this op-by-op run (the
    untaken branch, a body that ran zero times), so the plan compiled later carries and checks them."""
    child = SubContext(ctx)
    try:
        jax.eval_shape(lambda: [child.deref(v) for v in fn(child)])
    except Exception:  # it cannot be traced (needs run-time values): nor can it compile; the plan stays eager
        return
    for key in child.writes:
        if key not in ctx.writes and ctx.has(key):
            ctx.write(key, ctx.read(key))
    for _, cls, msg, check_op in child.checks:
        ctx.check(True, cls, msg, check_op)


def _cast_like(values, dtypes):
    return [jnp.asarray(v).astype(d) if d is not None else v for v, d in zip(values, dtypes)]


def _value_dtypes(dtypes) -> list:
    """The numpy dtypes loop variables / branch outputs are cast to; None for a `variant` (a TensorList,
    lowering/rules/list_ops.py: a pytree that keeps its own dtype)."""
    return [None if d.base_dtype == _dt.variant else np.dtype(d.as_numpy_dtype) for d in dtypes]


def _shape_of(value):
    """A value's static shape, comparable across a branch or an iteration: an array's shape; for a
    TensorList, its pytree structure (size, declared element shape) and its array's shape."""
    leaves, treedef = jax.tree_util.tree_flatten(value)
    if treedef == jax.tree_util.tree_structure(0):
        return tuple(jnp.shape(value))
    return treedef, tuple(tuple(jnp.shape(x)) for x in leaves)


def _element_of(lst):
    """What a While's carry of list `lst` needs to make rows like its elements: their shape, or for variant
    elements (lists of lists: while_v2's gradient of nested loops) the rows themselves (VariantRows)."""
    if lst.items is None:
        return None
    return lst.items if isinstance(lst.items, VariantRows) else lst.items.shape[1:]


def _describe(value) -> str:
    return repr(value) if is_list(value) else str(tuple(jnp.shape(value)))


_ANY = ("any constant",)


class _ListCarry:
    """How a While carries a TensorList loop variable whose body changes it (lowering/rules/list_ops.py).

    A list the body grows or shrinks is carried bounded: `capacity` rows and a traced count. Its static
    bound `size` must be the same on every iteration for lax to carry it: the body is traced with the bound
    `entry` (the most elements the list can hold when an iteration starts: its first size plus the growth
    of all iterations but one) and leaves it at most `entry + growth`, which is relabelled `entry` for the
    next iteration; the loop's result holds at most `final` = first size + trip bound x growth, the
    capacity. A list whose element shape the first iteration sets starts as zeros of that shape; one whose
    elements stop being one build-time constant (`same`) forgets it."""

    def __init__(self, first):
        self.first = first          # the loop variable's value before the loop
        self.growth = 0             # the most elements one iteration adds
        self.entry = self.final = first.size
        self.capacity = first.capacity
        # an empty list's elements are all any constant: the first iteration's pushes decide
        self.same = first.same if first.size or first.bounded else _ANY
        self.bounded = first.bounded
        self.hinted = False

    def carry(self, element):
        if not self.bounded:
            first = self.first
            if isinstance(element, VariantRows) and not isinstance(first.items, VariantRows):
                first = first.replace(element.zeros_rows(first.size))
            elif first.items is None and element is not None:
                first = first.replace(jnp.zeros((first.size,) + tuple(element), first.dtype))
            return first.with_items(first.items, size=first.size, same=self.same)
        return self.first.bounded_to(self.capacity, self.entry, self.same, element)

    def settle(self, out, bound: int | None, op, index: int, hint=None) -> None:
        """Widens the carry by one traced iteration's result `out` (raises when no bound is provable).
        `hint()`: the trip count op-by-op runs saw (LoopHints), the bound of a loop without a static one
        (`hinted` says it was used: the loop then checks that it ran no more iterations)."""
        if self.same is _ANY:
            self.same = out.same
        elif out.same != self.same:
            self.same = None
        if out.size == self.first.size and not out.bounded and not self.bounded:
            return  # the size is unchanged: an exact carry (element shape / constants settled above)
        growth = out.size - self.entry
        self.growth = max(self.growth, growth)
        self.bounded = True
        if self.growth > 0:
            maximum = self.first.max_elements
            if bound is None and maximum == -1 and hint is not None:
                bound = hint()
                self.hinted = True
            if bound is None and maximum == -1:
                raise NotImplementedError(
                    f"tf.while_loop '{op.name}': loop variable {index} is a TensorList that grows by {self.growth} "
                    "element(s) per iteration (TensorListPushBack in the body, as the gradient of a while_v2 loop "
                    "accumulates) in a loop whose trip count has no static bound (no constant maximum_iterations, "
                    "no max_num_elements): graphcompat compiles loops with fixed shapes, so it runs op by op")
            final = self.first.size + bound * self.growth if bound is not None else maximum
            if maximum != -1:  # a push past max_num_elements fails TF's check: no row is needed for it
                final = min(final, maximum)
            self.final = max(final, self.first.size)
            self.entry = self.first.size if bound == 0 else max(self.first.size, self.final - self.growth)
        self.capacity = max(self.capacity, self.final, out.capacity)

    def fits(self, out, carried) -> bool:
        if not self.bounded:
            return _shape_of(out) == _shape_of(carried)
        return out.bounded and out.size <= self.final and \
            _shape_of(out.relabel(self.entry)) == _shape_of(carried)


# ------------------------------------------------------------------------------------------------
# If
# ------------------------------------------------------------------------------------------------
_NEEDS_VALUES = (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError,
                 jax.errors.TracerIntegerConversionError, jax.errors.TracerBoolConversionError)


def _static_shapes_required(rule):
    """A subgraph op whose ops need run-time values as static shapes cannot be compiled: say so with
    NotImplementedError, which makes the plan fall back to op-by-op runs (as for any such op)."""
    def wrapped(ctx, op, *args, **kwargs):
        try:
            return rule(ctx, op, *args, **kwargs)
        except _NEEDS_VALUES as err:
            raise NotImplementedError(f"{op.type} '{op.name}': its subgraph needs run-time values as static "
                                      f"shapes, so it runs op by op ({type(err).__name__})") from err
    wrapped.__name__ = rule.__name__
    wrapped.__doc__ = rule.__doc__
    return wrapped


@lowers("If", "StatelessIf", context=True, host=needs_host)
@_static_shapes_required
def if_(ctx: RunContext, op, pred, *captured):
    return _branch(ctx, op, _branches(op), pred, captured, "tf.cond", "lax.cond",
                   taken=lambda p: 0 if bool(np.asarray(p)) else 1,
                   select=lambda p, fns: lax.cond(jnp.asarray(p).astype(bool).reshape(()), *fns))


def _case_index(index):
    """TF's Case (lowered to _SwitchN) takes a scalar index (one outside the branches selects the last)."""
    if np.ndim(index) != 0:
        raise errors.InvalidArgumentError(
            None, None, f"The second input must be a scalar, but it has shape [{','.join(map(str, np.shape(index)))}]")
    return index


@lowers("Case", "StatelessCase", context=True, host=needs_host)
@_static_shapes_required
def case(ctx: RunContext, op, branch_index, *captured):
    branches = _branches(op)
    n = len(branches)
    branch_index = _case_index(branch_index)

    def taken(i):
        i = int(np.asarray(i))
        return i if 0 <= i < n else n - 1

    def select(i, fns):
        i = jnp.asarray(i).astype(jnp.int32)
        return lax.switch(jnp.where((i < 0) | (i >= n), n - 1, i), fns)
    return _branch(ctx, op, branches, branch_index, captured, "tf.switch_case", "lax.switch", taken, select)


def _branch(ctx: RunContext, op, branches, selector, captured, what: str, how: str, taken, select):
    """If/Case: op by op (or on the host) only the taken branch runs; compiled, every branch is traced
    and `select(selector, fns)` (lax.cond / lax.switch) picks the results, the state writes and checks."""
    host = needs_host(op)
    env = _captured_env(ctx, op._inputs[1:], captured)
    if host or _concrete(ctx, selector, captured):
        # Op by op in Python: only the taken branch runs (no XLA compile for one-off and host runs).
        k = taken(selector)
        outs = _result([ctx.deref(v) for v in _run(branches[k], ctx, env)])
        if not host:
            for j, other in enumerate(branches):
                if j != k:
                    _record(ctx, lambda child, g=other: _run(g, child, env))
        return outs
    known = _primal_selector(ctx, selector)
    if known is not None:
        # A gradient's re-trace in an op-by-op run (jax.vjp linearizes eagerly, the selector's primal is
        # concrete): TF's gradient goes through the taken branch only, and running it eagerly lets a loop in
        # it count its iterations (a while_loop without maximum_iterations needs that count to be reversed).
        return _result([ctx.deref(v) for v in _run(branches[taken(known)], ctx, env)])
    out_dtypes = _value_dtypes(op.attrs["Tout"])

    lists: dict = {}   # output index -> (capacity, size bound, same): lists the branches leave different
    optionals: dict = {}  # output index -> an optional with a value: optionals that are none in some branch

    def branch(sub):
        def fn(made):
            child = SubContext(ctx)
            made.append(child)
            outs = _common_lists([child.deref(v) for v in _run(sub, child, env)], lists)
            for k, templates in optionals.items():
                outs[k] = outs[k].union(templates)
            return outs
        return fn

    probes = [_probe(branch(g)) for g in branches]
    avals = [p[0] for p in probes]
    for k, by_branch in enumerate(zip(*avals)):
        common = _list_union(by_branch)
        if common is not None:
            lists[k] = common
        templates = _optional_union(by_branch)
        if templates is not None:
            optionals[k] = templates
    if lists or optionals:  # trace again, each branch's list carried with the rows and bound of the largest
        probes = [_probe(branch(g)) for g in branches]
        avals = [p[0] for p in probes]
    contexts = [p[1][0] for p in probes]
    for j in range(1, len(branches)):
        for a, b, t in zip(avals[0], avals[j], op._outputs):
            if _shape_of(a) != _shape_of(b):
                if isinstance(selector, (np.ndarray, np.generic)):
                    # A static selector (numpy: from constants and static shapes, so fixed for this plan)
                    # picks its branch while tracing, whose shapes then need not match the others'
                    # (ssim_multiscale pads odd sizes in a cond). The probes above wrote to sub-contexts only.
                    return _result([ctx.deref(v) for v in _run(branches[taken(selector)], ctx, env)])
                raise NotImplementedError(
                    f"{what} '{op.name}': the branches return shapes {_describe(a)} and {_describe(b)} for output "
                    f"{t.value_index}; graphcompat compiles {what[3:]} with {how}, which needs equal shapes")
    keys = list(dict.fromkeys(k for c in contexts for k in c.writes))
    aval_of = {}
    for c in contexts:
        for k in c.writes:
            aval_of.setdefault(k, jax.ShapeDtypeStruct(jnp.shape(c.state[k]), jnp.result_type(c.state[k])))
    current = {k: _current(ctx, k, aval_of[k]) for k in keys}
    key_dtypes = [aval_of[k].dtype for k in keys]
    counts = [len(c.checks) for c in contexts]
    checks_meta = [check[1:] for c in contexts for check in c.checks]

    def make(sub, j: int):
        def fn():
            child = SubContext(ctx)
            outs = _common_lists([child.deref(v) for v in _run(sub, child, env)], lists)
            for k, templates in optionals.items():
                outs[k] = outs[k].union(templates)
            state = [child.state[k] if k in child.writes else current[k] for k in keys]
            true = jnp.asarray(True)
            oks = [true] * sum(counts[:j]) + [jnp.asarray(ok) for ok, *_ in child.checks] + \
                [true] * sum(counts[j + 1:])
            return _cast_like(outs, out_dtypes), _cast_like(state, key_dtypes), oks
        return fn

    outs, state, oks = select(selector, [make(g, j) for j, g in enumerate(branches)])
    for k, v in zip(keys, state):
        ctx.write(k, v)
    for ok, (cls, msg, check_op) in zip(oks, checks_meta):
        ctx.check(ok, cls, msg, check_op)
    return _result(outs)


def _list_union(values):
    """(capacity, size bound, same) that lets every branch return its list as one structure — the lists are
    alike but for their sizes (a push in one branch only) — or None (equal lists, or not unifiable)."""
    if not all(is_list(v) for v in values) or len({_shape_of(v) for v in values}) == 1:
        return None
    first = values[0]
    if any((v.dtype, v.element_shape, v.max_elements) != (first.dtype, first.element_shape, first.max_elements)
           or (v.items is None) != (first.items is None)
           or (v.items is not None and tuple(v.items.shape[1:]) != tuple(first.items.shape[1:])) for v in values):
        return None
    same = first.same if all(v.same == first.same for v in values) else None
    return max(v.capacity for v in values), max(v.size for v in values), same


def _optional_union(values):
    """When a cond's branches return optionals of different structures for one output (cond_v2 wraps each
    branch's intermediates in optionals: its own on its side, none or the other side's on the other), one
    optional with a value of each structure (the branches then return all of them as slots, with run-time
    flags: OptionalValue.union); None when nothing needs unifying."""
    from lowering.rules.data_more import OptionalValue
    from lowering.rules.list_ops import _signature
    if not all(isinstance(v, OptionalValue) and v.slots is None for v in values) or \
            len({_signature(v) for v in values}) == 1:
        return None
    templates = {}   # by structure, shapes and dtypes: a slot's values must be alike in every branch
    for v in values:
        if v.values is not None:
            templates.setdefault(_signature(list(v.values)), v)
    return list(templates.values())


def _common_lists(outs: list, lists: dict) -> list:
    """A branch's outputs with the lists in `lists` carried bounded, in the structure all branches share."""
    for k, (capacity, size, same) in lists.items():
        outs[k] = outs[k].bounded_to(capacity, size, same)
    return outs


def _result(outs):
    """The interpreter binds a single-output op's value directly, a multi-output op's as a sequence."""
    if not outs:
        return None
    return outs[0] if len(outs) == 1 else tuple(outs)


# ------------------------------------------------------------------------------------------------
# While
# ------------------------------------------------------------------------------------------------
_SETTLE_PASSES = 6   # traced iterations to settle the carried lists (nested loops take one more each)

@lowers("While", "StatelessWhile", context=True, host=needs_host)
@_static_shapes_required
def while_(ctx: RunContext, op, counter0, max_iter, *inputs, scan_length=None):
    """`scan_length` (a padded run, lowering/padding.py): `max_iter` is the true trip bound of a loop
    whose maximum is a padded size, `scan_length` that padded size, the static length of the scan."""
    cond_g, body_g = _function(op, "cond"), _function(op, "body")
    n = len(body_g.params)
    vars0, captured = list(inputs[:n]), inputs[n:]
    host = needs_host(op)
    env = _captured_env(ctx, op._inputs[2 + n:], captured)
    # what the loop depends on: its captures, and the values of the variables it reads that a gradient
    # differentiates (their handles are the captures; the body reads the traced value through ctx)
    inputs_seen = (captured, _differentiated_reads(ctx, captured))
    if host or _concrete(ctx, vars0, inputs_seen, max_iter):
        out = _while_host(ctx, cond_g, body_g, env, counter0, max_iter, vars0) + tuple(captured)
        hints = getattr(ctx, "loop_hints", None)
        if hints is not None:  # an op-by-op run of a plan: its compiled form sizes this loop's stacks by it
            hints.observe(op, int(out[0]) - int(np.asarray(counter0)))
        if not host:
            def one_iteration(child):
                _run(cond_g, child, env, vars0)
                return _run(body_g, child, env, vars0)
            _record(ctx, one_iteration)
        return out
    var_dtypes = _value_dtypes(op.attrs["T"][2:2 + n])
    vars0 = _cast_like(vars0, var_dtypes)

    def step_with(child, vs):
        new = [child.deref(v) for v in _run(body_g, child, env, vs)]
        new = _cast_like(new, var_dtypes)
        go = _run(cond_g, child, env, new)[0]
        return new, go

    # stacks whose buffer this loop (or an enclosing one) sized: pushes in the body write at the count
    fixed = set(getattr(ctx, "fixed_stacks", ()))

    def sub(seed=None):
        child = SubContext(ctx, seed)
        child.fixed_stacks = frozenset(fixed)
        if differentiated:
            # the step of a differentiated loop is traced once, before jax differentiates it (reverse_loop.py's
            # closure conversion): a loop in it sees no LinearizeTracer, yet it is differentiated through this
            # loop's carry, so it must be built reversible too (else: "Reverse-mode differentiation does not
            # work for lax.while_loop")
            child.differentiating = True
        return child

    def probe(made, vs):
        child = sub()
        made.append(child)
        return step_with(child, vs)

    # A maximum known while tracing (a constant, or a shape-derived value: shapes are static under jit)
    # bounds the differentiable scan (a traced one cannot) and the lists the body grows.
    static_max = _static_max(op) if scan_length is None else int(scan_length)
    if static_max is None and not isinstance(max_iter, jax.core.Tracer) and np.ndim(max_iter) == 0 \
            and int(np.asarray(max_iter)) >= 0:
        static_max = int(np.asarray(max_iter))
    hinted = None  # a loop differentiated without a static bound: the iterations op-by-op runs saw (rounded up)
    differentiated = _differentiated(vars0, inputs_seen) or (
        getattr(ctx, "differentiating", False) and _has_floats(vars0, inputs_seen))
    if differentiated and getattr(ctx, "loop_hints", None) is not None and \
            (static_max is None or _unbounded_inside(op)):
        # An op-by-op run counts this run's iterations before tracing the loop, of this loop and of every loop
        # its body runs (their gradients are traced inside this one's, where nothing is concrete to count)
        _count_trips(ctx, op, cond_g, body_g, counter0, max_iter, vars0, captured)
    if static_max is None and differentiated and getattr(ctx, "loop_hints", None) is not None:
        # tf.gradients through `while i < n` (no maximum_iterations): the forward loop ran before, op by op
        # (its trip count is in the plan's LoopHints), so reverse mode runs as a loop of that bound; a later
        # run that needs more iterations fails the check below and the executor re-runs it op by op
        hinted = static_max = ctx.loop_hints.capacity(op)
    # a loop without a static bound that grows lists (while_v2's forward loop pushing its gradient's
    # accumulators): their rows come from the iterations op-by-op runs saw, as a TF 1 loop's stacks'
    list_hint = (lambda: ctx.loop_hints.capacity(op)) if getattr(ctx, "loop_hints", None) is not None else None
    lists: dict = {}     # loop variable index -> _ListCarry, for the lists the body changes
    capacity = None      # no static bound: the iterations its stacks have rows for (the plan's LoopHints)
    for _ in range(_SETTLE_PASSES):
        (new_avals, _), (p_ctx,) = _probe(probe, vars0)
        settled = True
        for i, (a, v, t) in enumerate(zip(new_avals, vars0, op._outputs[2:])):
            if is_list(v) and is_list(a):
                if i in lists and lists[i].fits(a, v):
                    continue
                if i not in lists and _shape_of(a) == _shape_of(v):
                    continue
                if v.items is not None and a.items is not None and v.items.shape[1:] != a.items.shape[1:]:
                    raise NotImplementedError(
                        f"tf.while_loop '{op.name}': loop variable {i} is a TensorList whose elements change "
                        f"shape from {tuple(v.items.shape[1:])} to {tuple(a.items.shape[1:])}; graphcompat keeps "
                        "a TensorList's elements stacked in one array")
                plan = lists.setdefault(i, _ListCarry(v))
                plan.settle(a, static_max, op, i, list_hint)
                vars0[i] = plan.carry(_element_of(a))
                settled = False
            elif _shape_of(a) != _shape_of(v):
                raise NotImplementedError(
                    f"tf.while_loop '{op.name}': loop variable {t.value_index - 2} changes shape from "
                    f"{_describe(v)} to {_describe(a)}; graphcompat compiles loops with fixed shapes "
                    "(declare the varying dimension as unknown in the graph with shape_invariants)")
        # stacks the body pushes on (TF 1's loop gradients): sized for every iteration, then fixed
        grown = {k: jax.ShapeDtypeStruct(jnp.shape(p_ctx.state[k]), jnp.result_type(p_ctx.state[k]))
                 for k in p_ctx.writes if is_stack_items(k) and k not in fixed and ctx.has(k)}
        if grown:
            bound = static_max
            if bound is None and getattr(ctx, "loop_hints", None) is not None:
                # no static bound: size the stacks for the iterations op-by-op runs saw (rounded up); the
                # loop checks below that it ran no more (else the executor re-runs the step op by op)
                bound = ctx.loop_hints.capacity(op)
            for k, v in size_stacks(ctx, {k: ctx.read(k) for k in grown}, grown, bound, op).items():
                ctx.write(k, v, gated=True)
                fixed.add(k)
                settled = False
        if settled:
            break
    else:
        raise NotImplementedError(f"tf.while_loop '{op.name}': the TensorLists it carries do not settle to fixed "
                                  f"shapes in {_SETTLE_PASSES} traced iterations, so it runs op by op")
    if static_max is None and getattr(ctx, "loop_hints", None) is not None and \
            (any(is_stack_items(k) for k in p_ctx.writes) or any(plan.hinted for plan in lists.values())):
        # the body pushes, and the rows for its pushes (this loop's, or an enclosing loop's that traced this
        # one sizing them) were counted for `capacity` iterations of it: more would overflow them
        capacity = ctx.loop_hints.capacity(op)
    keys = list(p_ctx.writes)
    avals = {k: jax.ShapeDtypeStruct(jnp.shape(p_ctx.state[k]), jnp.result_type(p_ctx.state[k])) for k in keys}
    key_dtypes = [avals[k].dtype for k in keys]
    state0 = _cast_like([_current(ctx, k, avals[k]) for k in keys], key_dtypes)
    checks_meta = [c[1:] for c in p_ctx.checks]
    max_iter = jnp.asarray(max_iter, jnp.int32)
    counter0 = jnp.asarray(counter0, jnp.int32)

    def limit_ok(counter):
        return jnp.logical_or(max_iter < 0, counter < max_iter)

    # Initial condition (its state effects, if any, are part of the carry).
    child0 = sub(dict(zip(keys, state0)))
    go0 = jnp.logical_and(jnp.asarray(_run(cond_g, child0, env, vars0)[0]).astype(bool), limit_ok(counter0))
    state0 = _cast_like([child0.state[k] for k in keys], key_dtypes)
    oks0 = [jnp.asarray(True) for _ in checks_meta]
    init_oks = [jnp.asarray(ok) for ok, *_ in child0.checks]

    def step(carry):
        counter, vs, state, oks, _ = carry
        child = sub(dict(zip(keys, state)))
        new, go = step_with(child, vs)
        for i, plan in lists.items():  # proven by the trip bound (_ListCarry); the probe checked it fits
            if plan.bounded:
                new[i] = new[i].relabel(plan.entry)
        new_state = _cast_like([child.state[k] for k in keys], key_dtypes)
        new_oks = [jnp.logical_and(a, jnp.asarray(b)) for a, (b, *_) in zip(oks, child.checks)]
        counter = counter + 1
        go = jnp.logical_and(jnp.asarray(go).astype(bool), limit_ok(counter))
        return counter, new, new_state, new_oks, go

    carry0 = (counter0, vars0, state0, oks0, go0)
    if static_max is not None and differentiated and not _twice_differentiated(vars0, inputs_seen):
        # Reverse-mode differentiable: only the real iterations run, forward and backward (a custom VJP
        # that saves each iteration's residuals, as TF's while_v2 accumulators; lowering/reverse_loop.py)
        final = differentiable_while(step, lambda c: c[4], carry0, static_max)
    elif static_max is not None and _differentiated(vars0, inputs_seen):
        # A second derivative (the gradient of a gradient through the loop) differentiates the custom VJP's
        # own while loops, which reverse mode cannot: then the loop is a scan of its static bound, each step
        # a no-op once the loop is done. Float carries that start as constants (a TensorArray's zero
        # buffer, an RNN's zero state) would first be linearized as non-differentiable and then again once
        # a step writes differentiated values into them: carrying them as differentiated from the start
        # (plus an exact zero that depends on a differentiated input: a select, so even an inf there adds
        # nothing) saves that second pass.
        seed = next(v for v in jax.tree_util.tree_leaves((vars0, inputs_seen)) if type(v).__name__ == "LinearizeTracer")
        seed = jnp.ravel(jnp.asarray(seed))[0]

        def as_differentiated(x):
            if is_list(x):
                return jax.tree_util.tree_map(as_differentiated, x)
            if not jnp.issubdtype(jnp.result_type(x), jnp.floating) or not jnp.issubdtype(seed.dtype, jnp.floating) \
                    or type(x).__name__ == "LinearizeTracer":
                return x
            zero = jnp.where(jnp.asarray(True), jnp.zeros((), jnp.result_type(x)), seed.astype(jnp.result_type(x)))
            return x + zero
        carry0 = (counter0, [as_differentiated(v) for v in vars0], [as_differentiated(v) for v in state0], oks0, go0)

        def scan_step(carry, _):
            return lax.cond(carry[4], step, lambda c: c, carry), None
        final, _ = lax.scan(scan_step, carry0, None, length=static_max)
    else:
        if differentiated:
            raise NotImplementedError(
                f"Gradients through tf.while_loop '{op.name}' need a constant maximum_iterations: graphcompat "
                "differentiates a loop only up to a static bound on its iterations")
        final = lax.while_loop(lambda c: c[4], step, carry0)
    counter, vs, state, oks, _ = final
    vs = list(vs)
    for i, plan in lists.items():  # after the last iteration a list holds at most `final` elements
        if plan.bounded:
            vs[i] = vs[i].relabel(plan.final)
    for k, v in zip(keys, state):
        ctx.write(k, v)
    for ok, (cls, msg, check_op) in zip(init_oks, [c[1:] for c in child0.checks]):
        ctx.check(ok, cls, msg, check_op)
    for ok, (cls, msg, check_op) in zip(oks, checks_meta):
        ctx.check(ok, cls, msg, check_op)
    if capacity is not None:
        ctx.check(counter - counter0 <= capacity, CapacityExceeded,
                  f"tf.while_loop '{op.name}' ran more than the {capacity} iterations its stacks were sized for", op)
    if hinted is not None:
        ctx.check(jnp.logical_not(jnp.asarray(final[4]).astype(bool)), CapacityExceeded,
                  f"tf.while_loop '{op.name}' needs more than the {hinted} iterations its gradient was sized for", op)
    return (counter, max_iter, *vs, *captured)


def _count_trips(ctx, op, cond_g, body_g, counter0, max_iter, vars0, captured) -> None:
    """Records in the plan's LoopHints how many iterations this loop runs, by running it once on the host
    on the primal values (an op-by-op run differentiates eagerly: stop_gradient gives concrete arrays).
    The loops its body runs run on the host too (a concrete context), each recording its own count, so an
    inner loop whose bound depends on the outer counter records the most any of its executions ran.
    Under jit nothing is concrete: the capacity then comes from an op-by-op run (NeedsObservedRun)."""
    vars_, captured_ = _primal((list(vars0), list(captured)))
    if any(isinstance(v, jax.core.Tracer) for v in jax.tree_util.tree_leaves((vars_, captured_, counter0, max_iter))):
        return
    child = _CountingContext(ctx)
    env = _captured_env(child, op._inputs[2 + len(body_g.params):], captured_)
    out = _while_host(child, cond_g, body_g, env, counter0, max_iter, vars_)
    ctx.loop_hints.observe(op, int(out[0]) - int(np.asarray(counter0)))


def _primal(values):
    """`values` without their differentiation (concrete arrays in an op-by-op run's eager linearization)."""
    def plain(v):
        return jax.lax.stop_gradient(v) if isinstance(v, (jax.Array, jax.core.Tracer)) else v
    return jax.tree_util.tree_map(plain, values)


class _CountingContext(SubContext):
    """The context of `_count_trips`' host run: concrete (the loops and conds inside run their op-by-op
    paths, so nested loops count their own iterations), reading the primal values of the state a gradient
    differentiates; its writes stay here (the real run traces the loop afterwards)."""

    def __init__(self, parent: RunContext):
        super().__init__(parent)
        self.traced = False

    def read(self, key, op=None):
        if key not in self.state:
            self.state[key] = _primal(self.parent.read(key, op))
        return self.state[key]

    def read_or_init(self, key, init):
        if key not in self.state:
            self.state[key] = _primal(self.parent.read_or_init(key, init))
        return self.state[key]


def _unbounded_inside(op) -> bool:
    """Whether a While's body or condition runs a loop without a static maximum_iterations (at any depth,
    through conds and function calls): an op-by-op run must count those loops' trips before tracing it."""
    fn = _function(op, "body")
    cached = fn.lowering_cache.get("unbounded_inside")
    if cached is None:
        cached = fn.lowering_cache["unbounded_inside"] = any(
            _unbounded_loops(_function(op, attr), set()) for attr in ("cond", "body"))
    return cached


def _unbounded_loops(fn, seen: set) -> bool:
    if id(fn) in seen:
        return False
    seen.add(id(fn))
    for inner in fn.ops:
        if kernel_type(inner.type) in ("While", "StatelessWhile") and _static_max(inner) is None:
            return True
        for value in inner.attrs.values():  # the functions it runs: a cond's branches, a call's body …
            for ref in value if isinstance(value, list) else (value,):
                name = getattr(ref, "name", None)
                sub = inner.graph._get_function(name) if isinstance(name, str) else None
                if sub is not None and _unbounded_loops(sub, seen):
                    return True
    return False


def _differentiated_reads(ctx: RunContext, captured) -> list:
    """The values a gradient's re-traced forward pass differentiates of the resource variables whose
    handles a loop captures (lowering/rules/gradients.py: `differentiated_keys`)."""
    keys = getattr(ctx, "differentiated_keys", ())
    if not keys:
        return []
    from lowering.rules.resource import ResourceHandle
    return [ctx.read(h.key) for h in captured if isinstance(h, ResourceHandle) and h.key in keys]


def _twice_differentiated(*values) -> bool:
    """True while jax.vjp linearizes us inside another linearization (a gradient of a gradient)."""
    return any(type(v).__name__ == "LinearizeTracer" and type(v.primal).__name__ in ("LinearizeTracer", "JVPTracer")
               for v in jax.tree_util.tree_leaves(values))


def _has_floats(*values) -> bool:
    """Whether any array among `values` is inexact (what a gradient can flow through)."""
    return any(jnp.issubdtype(jnp.result_type(v), jnp.inexact) for v in jax.tree_util.tree_leaves(values)
               if isinstance(v, (jax.Array, jax.core.Tracer, np.ndarray, np.generic, float, complex)))


def _differentiated(*values) -> bool:
    """True while jax.vjp linearizes us: lax.while_loop cannot be transposed, so say why up front."""
    return any(type(v).__name__ == "LinearizeTracer" for v in jax.tree_util.tree_leaves(values))


def _while_host(ctx, cond_g, body_g, env, counter, max_iter, vs):
    """The loop in Python (host plans): each iteration evaluated op by op."""
    counter, max_iter = int(np.asarray(counter)), int(np.asarray(max_iter))
    while (max_iter < 0 or counter < max_iter) and bool(np.asarray(_run(cond_g, ctx, env, vs)[0])):
        vs = [ctx.deref(v) for v in _run(body_g, ctx, env, vs)]
        counter += 1
    return (np.int32(counter), np.int32(max_iter), *vs)


@lowers("_LoopVar")
def _loop_var(**_):  # bound through the env by the While lowering; never run as a step
    raise AssertionError("a loop variable was evaluated outside its While op")


# ------------------------------------------------------------------------------------------------
# Function calls (tf.function)
# ------------------------------------------------------------------------------------------------
def _call_needs_host(op) -> bool:
    return _body_needs_host(_function(op, "f"))


@lowers("PartitionedCall", "StatefulPartitionedCall", context=True, host=_call_needs_host)
@_static_shapes_required
def partitioned_call(ctx: RunContext, op, *inputs):
    """A tf.function call (graphcompat/def_function.py): its body runs inline in the caller's context, as TF's
    runtime inlines the call, so the body's variable writes and checks are the caller's; its inputs are
    the body's parameters, then the outer tensors it captures."""
    fn = _function(op, "f")
    n = len(fn.params)
    env = _captured_env(ctx, op._inputs[n:], inputs[n:])
    return _result([ctx.deref(v) for v in _run(fn, ctx, env, inputs[:n])])
