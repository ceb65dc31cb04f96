"""Lowering of `SymbolicGradient` (graphcompat/gradients.py): jax.vjp over the re-traced forward function.

As TF's op: the `f` attr names a library function; the node's inputs are f's arguments, then one dy per
f output; its outputs are the gradients of the arguments. graphcompat's f takes the differentiated
tensors (an x, or for a sparse x the rows its gathers produced) and the boundary tensors the forward
pass reads; differentiating with respect to gathered rows (not the table) is what keeps embedding
gradients sparse: no [V, E] array is ever formed. An argument that f's own ops also compute (an
intermediate x) is differentiated as an additive zero at that point, so paths from other arguments
through it still count (total derivatives, as tf.gradients).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.interpreter import Ref, require
from lowering.plan import normalize_attrs
from lowering.registry import RULES, get_rule, lowers


@lowers("StopGradient")
def stop_gradient(x, **_):
    return jax.lax.stop_gradient(x)


@lowers("PreventGradient")
def prevent_gradient(x, **_):
    return x


if "UnsortedSegmentSum" not in RULES:
    @lowers("UnsortedSegmentSum")
    def unsorted_segment_sum(data, segment_ids, num_segments, **_):
        n = int(np.asarray(num_segments))
        return jax.ops.segment_sum(data, segment_ids.reshape(-1) if jnp.ndim(segment_ids) == 1 else segment_ids,
                                   num_segments=n)


if "GatherV2" not in RULES:
    @lowers("GatherV2")
    def gather_v2(params, indices, axis, *, batch_dims=0, **_):
        return jnp.take(params, indices, axis=int(np.asarray(axis)), mode="clip")


def _function(op):
    f = op.attrs.get("f")
    fn = op.graph._get_function(f.name) if f is not None else None
    if fn is None:
        raise NotImplementedError(
            f"tf.train.import_meta_graph: the gradient op '{op.name}' (tf.gradients / Optimizer.minimize) "
            "names no forward function in the graph's library, so graphcompat cannot rebuild it (a meta graph "
            "written by an older graphcompat); build the model in Python and use Saver.restore to continue "
            "training (inference and restore work after import).")
    return fn


def _steps(fn):
    steps = fn.lowering_cache.get("steps")
    if steps is None:
        steps = fn.lowering_cache["steps"] = [(op, get_rule(op.type), normalize_attrs(op.attrs)) for op in fn.ops]
        produced = {t for fop in fn.ops for t in fop._outputs}
        fn.lowering_cache["perturbed"] = {t for t in fn.captures if t in produced}
    return steps


def _differentiable(t) -> bool:
    return _differentiable_dtype(t.dtype)


def _variable_args(op, args) -> dict:
    """{argument index: its Tout dtype} for the resource variables' handles among f's arguments whose
    gradient is the variable value's (graphcompat/gradients.py gives those a float output): a
    while_loop/cond body reads the variable, so every read in the re-traced forward pass returns the
    differentiated value."""
    tout = op.attrs.get("Tout") or []
    return {i: tout[i] for i, t in enumerate(args)
            if t.dtype.base_dtype.name == "resource" and i < len(tout) and _differentiable_dtype(tout[i])}


def _differentiable_dtype(dtype) -> bool:
    base = dtype.base_dtype
    return base.is_floating or base.is_complex


@lowers("SymbolicGradient", context=True)
def symbolic_gradient(ctx, op, *inputs):
    fn = _function(op)
    args = fn.captures
    inputs = [ctx.deref(v) if isinstance(v, Ref) else v for v in inputs]
    arg_vals, dys = inputs[:len(args)], inputs[len(args):]
    steps = _steps(fn)
    perturbed = fn.lowering_cache["perturbed"]
    variables = _variable_args(op, args)
    diff_idx = [i for i, t in enumerate(args) if _differentiable(t) or i in variables]
    diff_set = set(diff_idx) - set(variables)  # a handle stays f's argument; its variable's value is traced
    fixed = {t: v for i, (t, v) in enumerate(zip(args, arg_vals)) if i not in diff_set}
    # a variable's value (what the step's reads saw): the primal its gradient is taken at
    variable_values = {i: _variable_value(ctx, op, arg_vals[i]) for i in variables}
    user_gradients = fn.gradient_overrides
    backward_steps = fn.lowering_cache.get("backward_steps")
    if backward_steps is None:  # the ops each registered gradient function recorded, ready to run
        backward_steps = fn.lowering_cache["backward_steps"] = {
            fop: [(s, get_rule(s.type), normalize_attrs(s.attrs)) for s in chosen.steps]
            for fop, chosen in user_gradients.items() if chosen.kind == "function"}
    step_values = dict(zip(args, arg_vals)) if user_gradients else {}
    recomputed = fn.lowering_cache.get("recomputed")
    if recomputed is None:  # the tensors of the forward pass the re-trace computes again (not f's arguments)
        arg_set = set(args)
        recomputed = fn.lowering_cache["recomputed"] = tuple(
            t for fop, _, _ in steps for t in fop._outputs if t not in arg_set)
    outer_ctx = ctx

    def forward(*diff_vals):
        ctx = _ReTraceContext(outer_ctx)
        local = dict(fixed)
        # what the user gradients inside loop/cond bodies read besides their bodies' tensors (f's arguments)
        ctx.outer_values = {**getattr(outer_ctx, "outer_values", {}), **local}
        deltas = {}
        for i, v in zip(diff_idx, diff_vals):
            t = args[i]
            if i in variables:
                ctx._local[arg_vals[i].key] = v
                ctx.differentiated_keys |= {arg_vals[i].key}
            elif t in perturbed:
                deltas[t] = v
            else:
                local[t] = v
                ctx.outer_values[t] = v
        overrides = ctx.rule_overrides
        for fop, rule, attrs in steps:
            fargs = [local[t] for t in fop._inputs]
            outs = fop._outputs
            chosen = user_gradients.get(fop)
            if chosen is not None:
                # The step computed the op's outputs (arguments of f); attach the chosen gradient to them.
                values = _with_user_gradient(ctx, fop, chosen, attrs, backward_steps.get(fop), fargs,
                                             [step_values[t] for t in outs],
                                             [local.get(t, step_values.get(t)) for t in getattr(chosen, "extra", ())])
                for t, v in zip(outs, values):
                    local[t] = v + deltas[t] if t in deltas else v
                continue
            rule = overrides.get(fop, rule)  # a padded run masks some forward ops (lowering/padding.py)
            out = rule.fn(ctx, fop, *fargs) if rule.context else rule.fn(*fargs, **attrs)
            for t, v in ([(outs[0], out)] if len(outs) == 1 else zip(outs, out)):
                if t in deltas:
                    v = v + deltas[t]
                local.setdefault(t, v)
        return [local[y] for y in fn.outputs], [local[t] for t in recomputed]

    diff_vals = [variable_values[i] if i in variables else
                 jnp.zeros_like(jnp.asarray(arg_vals[i])) if args[i] in perturbed else jnp.asarray(arg_vals[i])
                 for i in diff_idx]
    if getattr(ctx, "state_access_only", False) and not user_gradients:
        # Only the state this op touches is asked for: the forward pass reads it; a backward pass of
        # jax.vjp is pure (no registered gradient function runs ops), so skip tracing it.
        forward(*diff_vals)
        outputs = [jnp.zeros(jnp.shape(variable_values[i]), np.dtype(variables[i].as_numpy_dtype)) if i in variables
                   else arg_vals[i] if np.dtype(t.dtype.base_dtype.as_numpy_dtype) == np.dtype(object) else
                   jnp.zeros(jnp.shape(arg_vals[i]), np.dtype(t.dtype.base_dtype.as_numpy_dtype))
                   for i, t in enumerate(args)]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)
    checks_before = len(ctx.checks)
    primals, vjp, values = jax.vjp(forward, *diff_vals, has_aux=True)
    _reuse_forward(ctx, recomputed, values, checks_before)
    for dy, y, t in zip(dys, primals, fn.outputs):
        # TF feeds grad_ys as given to each op's gradient function, which raises (or, for some ops, returns
        # a gradient of the wrong shape) when its shape is not y's; a scalar broadcasts as in TF's
        # element-wise gradients. Any other shape would be a silently broadcast wrong gradient here.
        require(jnp.ndim(dy) == 0 or jnp.shape(dy) == jnp.shape(y), errors.InvalidArgumentError,
                f"Incompatible shapes: the gradient given for {t.name} (grad_ys) has shape "
                f"[{','.join(str(d) for d in jnp.shape(dy))}] but {t.name} has shape "
                f"[{','.join(str(d) for d in jnp.shape(y))}]")
    cotangents = [_flip_convention(jnp.broadcast_to(jnp.asarray(dy, y.dtype), jnp.shape(y)))
                  for dy, y in zip(dys, primals)]
    grads = dict(zip(diff_idx, [_flip_convention(g) for g in vjp(cotangents)] if diff_vals else []))
    outputs = []
    for i, t in enumerate(args):
        dtype = np.dtype((variables[i] if i in variables else t.dtype.base_dtype).as_numpy_dtype)
        g = grads.get(i)
        if g is None and dtype == np.dtype(object):  # a resource (a TensorArray's handle): no gradient
            outputs.append(arg_vals[i])
            continue
        outputs.append(g.astype(dtype) if g is not None else jnp.zeros(jnp.shape(arg_vals[i]), dtype))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _reuse_forward(ctx, recomputed, values, checks_before: int) -> None:
    """The re-trace computed the forward pass again: the same ops on the same values, so the same numbers
    and the same run-time checks. Later readers (the fetched loss, an optimizer's inputs) take its values and
    its checks stand for the forward pass's identical ones, so a compiled step that needs nothing else of
    the first forward pass drops it as dead code instead of running it twice (XLA merges the two copies of
    plain ops, not of loops: an RNN's loop ran forward once for the loss and again under jax.vjp)."""
    env = ctx.env
    if env is not None:
        for t, v in zip(recomputed, values):
            if t in env and not _inner_tracer(v):
                env[t] = v
    checks = ctx.checks
    if len(checks) <= checks_before:
        return
    position = {}
    for i, (_, cls, msg, op) in enumerate(checks[:checks_before]):
        position.setdefault((cls, msg, op), i)
    kept = []
    for check in checks[checks_before:]:
        i = None if _inner_tracer(check[0]) else position.pop((check[1], check[2], check[3]), None)
        if i is None:
            kept.append(check)
        else:
            checks[i] = check
    checks[checks_before:] = kept


def _inner_tracer(value) -> bool:
    """A value of a differentiation (jax.vjp's linearization) in progress, not of the step being run: it
    must not replace a value of the step (a gradient of a gradient re-traces inside an outer re-trace)."""
    return any(type(leaf).__name__ in ("LinearizeTracer", "JVPTracer") for leaf in jax.tree_util.tree_leaves(value))


def _variable_value(ctx, op, handle):
    """The value of the variable a handle names, read as the forward pass's reads read it."""
    from lowering.rules.resource import _read
    return jnp.asarray(_read(ctx, op, handle))


def _flip_convention(value):
    """TF's gradient of a complex tensor is the conjugate of jax's cotangent (TF's Mul gradient is
    dz * conj(y), jax's vjp gives dz * y): complex values are conjugated going into jax.vjp and coming out,
    and around a user's gradient function inside it. Real values are their own conjugates."""
    if value is None or not jnp.iscomplexobj(value):
        return value
    return jnp.conj(value)


class _ReTraceContext:
    """The run context seen by the gradient's re-traced forward pass: state reads see what the step left
    (a TensorArray's elements), writes (re-traced TensorArray writes) stay inside the trace, so the
    differentiated values never leak into the run's state."""

    def __init__(self, parent):
        self._parent = parent
        self._local: dict = {}
        # the state keys of resource variables whose value this re-trace differentiates (loops that read
        # them are differentiated loops, lowering/rules/control_flow.py)
        self.differentiated_keys = frozenset(getattr(parent, "differentiated_keys", ()))

    def __getattr__(self, name):
        return getattr(self._parent, name)

    def has(self, key) -> bool:
        return key in self._local or self._parent.has(key)

    def read(self, key, op=None):
        return self._local[key] if key in self._local else self._parent.read(key, op)

    def write(self, key, value, gated: bool = False) -> None:
        self._local[key] = value


def _is_float(value) -> bool:
    dtype = jnp.result_type(value)
    return jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.complexfloating)


def _with_user_gradient(ctx, fop, chosen, attrs, backward_steps, args, outs, extras) -> list:
    """`outs` unchanged, with a VJP that runs the user's gradient (graphcompat/custom_gradient.py):
    a registered function's recorded ops, or the gradient of another TF op type (`{"Sign": "Identity"}`)."""

    # A resource variable's handle the gradient reads is no JAX value: it stays out of the custom VJP's
    # arguments, and the gradient's reads of it run now, in the step, their values passed in as extras
    # (closing over the step's traced state inside the VJP would leak tracers).
    handles = {t: v for t, v in zip(getattr(chosen, "extra", ()), extras) if not _is_jax_value(v)}
    if handles:
        pairs = [(t, v) for t, v in zip(chosen.extra, extras) if t not in handles]
        kept_steps = []
        for step, rule, step_attrs in backward_steps:
            if step._inputs and all(t in handles for t in step._inputs):
                values = [handles[t] for t in step._inputs]
                out = rule.fn(ctx, step, *values) if rule.context else rule.fn(*values, **step_attrs)
                pairs += [(step._outputs[0], out)] if len(step._outputs) == 1 else list(zip(step._outputs, out))
            else:
                kept_steps.append((step, rule, step_attrs))
        backward_steps = kept_steps
        chosen = chosen._replace(extra=[t for t, _ in pairs])
        extras = [v for _, v in pairs]

    @jax.custom_vjp
    def through(args, outs, extras):
        return list(outs)

    def forward(args, outs, extras):
        return list(outs), (args, outs, extras)

    def backward(saved, cotangents):
        args, outs, extras = saved
        cotangents = [jnp.zeros(jnp.shape(o), jnp.result_type(o)) if ct.dtype == jax.dtypes.float0 else ct
                      for ct, o in zip(cotangents, outs)]
        if chosen.kind == "as_type":
            grads = _gradient_as_type(chosen.name, fop, attrs, args, cotangents)
        else:  # the user's gradient ops speak TF's convention
            env = dict(zip(fop._inputs, args))
            env.update(zip(fop._outputs, outs))
            env.update(zip(chosen.extra, extras))
            env.update(zip(chosen.standins, [_flip_convention(ct) for ct in cotangents]))
            for step, rule, step_attrs in backward_steps:
                values = [env[t] for t in step._inputs]
                out = rule.fn(ctx, step, *values) if rule.context else rule.fn(*values, **step_attrs)
                step_outs = step._outputs
                env.update([(step_outs[0], out)] if len(step_outs) == 1 else zip(step_outs, out))
            grads = [None if g is None else _flip_convention(env[g]) for g in chosen.results]
        grads = [None if g is None or not _is_float(a) else jnp.asarray(g, jnp.result_type(a)).reshape(jnp.shape(a))
                 for g, a in zip(grads, args)]
        return grads, [None] * len(outs), [None] * len(extras)

    through.defvjp(forward, backward)
    return through(list(args), list(outs), list(extras))


def with_user_gradient_rule(fop, rule, attrs, chosen):
    """The Rule evaluating `fop`, an op inside a control-flow body whose gradient the user chose, in that
    body (lowering/rules/control_flow.py): the op's own values, with the recorded gradient as their VJP
    (`chosen`: a `BackwardGraph`, an "as_type" or a "none" Override; graphcompat/gradients.py
    `_record_body_gradients`). TF's while_v2/cond_v2 differentiate the body with the same function."""
    from lowering.interpreter import _to_host
    from lowering.registry import Rule
    backward_steps = [(s, get_rule(s.type), normalize_attrs(s.attrs)) for s in getattr(chosen, "steps", ())]
    single = len(fop._outputs) == 1

    def run(ctx, op, *args):
        if rule.context:
            out = rule.fn(ctx, op, *args)
        else:
            args = [ctx.deref(a) if isinstance(a, Ref) else a for a in args]
            if rule.host is True:
                args = [_to_host(a) for a in args]
            out = rule.fn(*args, **attrs)
        outs = [out] if single else list(out)
        if chosen.kind == "none":
            values = [jax.lax.stop_gradient(v) if _is_jax_value(v) else v for v in outs]
        else:
            env, outer = ctx.env or {}, getattr(ctx, "outer_values", {})
            extras = []
            for t in getattr(chosen, "extra", ()):
                if t not in env and t not in outer:
                    # a top-level tensor the gradient reads: only a SymbolicGradient differentiating this body
                    # passes it (graphcompat/gradients.py `outer_reads`); any other run takes no gradient here
                    return out
                value = env[t] if t in env else outer[t]
                extras.append(ctx.deref(value) if isinstance(value, Ref) else value)
            values = _with_user_gradient(ctx, op, chosen, attrs, backward_steps,
                                         [ctx.deref(a) if isinstance(a, Ref) else a for a in args], outs, extras)
        return values[0] if single else tuple(values)

    return Rule(run, context=True, host=rule.host, host_input=rule.host_input, pre_run=rule.pre_run)


def _is_jax_value(v) -> bool:
    return isinstance(v, (jax.Array, np.ndarray, np.generic, int, float, bool, complex)) or isinstance(
        v, jax.core.Tracer)


def _gradient_as_type(op_type: str, fop, attrs, args, cotangents) -> list:
    rule = get_rule(op_type)
    if rule.context:
        raise NotImplementedError(f"gradient_override_map({{{fop.type!r}: {op_type!r}}}): graphcompat can borrow "
                                  f"the gradient of {op_type} only for ops without state or randomness")
    floats = [i for i, a in enumerate(args) if _is_float(a)]

    def as_other(*diff):
        values = list(args)
        for i, v in zip(floats, diff):
            values[i] = v
        out = rule.fn(*values, **attrs)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    _, vjp = jax.vjp(as_other, *[args[i] for i in floats])
    by_input = dict(zip(floats, vjp(cotangents)))
    return [by_input.get(i) for i in range(len(args))]
