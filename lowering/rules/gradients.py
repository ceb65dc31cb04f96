"""Lowering of `SymbolicGradient` (graphcompat/gradients.py): jax.vjp over the re-traced forward subgraph.

The node's inputs are, in order: the leaves (per x: the x itself, or for a sparse x the rows its
gathers produced), the boundary tensors the re-trace reads but does not recompute, the given grad_ys,
and the sparse xs' gather indices. Differentiating with respect to gathered rows (not the table) is
what keeps embedding gradients sparse: no [V, E] array is ever formed.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from lowering.interpreter import Ref
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


def _steps(plan):
    steps = plan.normalized.get("steps")
    if steps is None:
        steps = [(op, get_rule(op.type), normalize_attrs(op.attrs)) for op in plan.forward]
        plan.normalized["steps"] = steps
    return steps


@lowers("SymbolicGradient", context=True)
def symbolic_gradient(ctx, op, *inputs):
    plan = op.attrs["_graphcompat_grad"]
    inputs = [ctx.deref(v) if isinstance(v, Ref) else v for v in inputs]
    n_leaves = sum(len(ls) for ls in plan.leaves)
    leaf_tensors = [t for ls in plan.leaves for t in ls]
    leaf_vals = inputs[:n_leaves]
    pos = n_leaves
    boundary = dict(zip(plan.boundary, inputs[pos:pos + len(plan.boundary)]))
    pos += len(plan.boundary)
    n_given = sum(plan.grad_y_mask)
    given = iter(inputs[pos:pos + n_given])
    pos += n_given
    index_vals = inputs[pos:]
    steps = _steps(plan)

    diff_idx = [i for i, t in enumerate(leaf_tensors) if _owner_kind(plan, i) != "zero"]

    perturbed = plan.perturbed
    user_gradients = getattr(plan, "overrides", {})
    backward_steps = plan.normalized.get("backward_steps")
    if backward_steps is None:  # the ops each registered gradient function recorded, ready to run
        backward_steps = {fop: [(s, get_rule(s.type), normalize_attrs(s.attrs)) for s in chosen.steps]
                          for fop, chosen in user_gradients.items() if chosen.kind == "function"}
        plan.normalized["backward_steps"] = backward_steps

    def forward(*diff_vals):
        ctx = _ReTraceContext(outer_ctx)
        local = dict(boundary)
        deltas = {}
        for i, v in zip(diff_idx, diff_vals):
            t = leaf_tensors[i]
            if t in perturbed:
                deltas[t] = v
            else:
                local[t] = v
        overrides = ctx.rule_overrides
        for fop, rule, attrs in steps:
            args = [local[t] for t in fop._inputs]
            outs = fop._outputs
            chosen = user_gradients.get(fop)
            if chosen is not None:
                # The step computed the op's outputs; attach the gradient the user chose to them.
                values = _with_user_gradient(ctx, fop, chosen, attrs, backward_steps.get(fop), args,
                                             [local[t] for t in outs],
                                             [local[t] for t in getattr(chosen, "extra", ())])
                for t, v in zip(outs, values):
                    local[t] = v + deltas[t] if t in deltas else v
                continue
            rule = overrides.get(fop, rule)  # a padded run masks some forward ops (lowering/padding.py)
            out = rule.fn(ctx, fop, *args) if rule.context else rule.fn(*args, **attrs)
            for t, v in ([(outs[0], out)] if len(outs) == 1 else zip(outs, out)):
                if t in deltas:
                    v = v + deltas[t]
                local.setdefault(t, v)
        return [local[y] for y in plan.ys]

    outer_ctx = ctx
    diff_vals = [jnp.zeros_like(jnp.asarray(leaf_vals[i])) if leaf_tensors[i] in perturbed
                 else jnp.asarray(leaf_vals[i]) for i in diff_idx]
    primals, vjp = jax.vjp(forward, *diff_vals)
    cotangents = []
    for y_val, has in zip(primals, plan.grad_y_mask):
        cotangents.append(jnp.asarray(next(given), y_val.dtype) if has else jnp.ones_like(y_val))
    grads = list(vjp(cotangents)) if diff_vals else []
    by_leaf = dict(zip(diff_idx, grads))

    outputs, li, si = [], 0, 0
    for x, kind, ls in zip(plan.xs, plan.kinds, plan.leaves):
        dtype = np.dtype(x.dtype.base_dtype.as_numpy_dtype)
        if kind == "zero":
            outputs.append(jnp.zeros_like(jnp.asarray(leaf_vals[li]), dtype=dtype))
        elif kind == "dense":
            outputs.append(by_leaf[li].astype(dtype))
        else:
            row_shape = tuple(x.shape.as_list()[1:])
            vals = [by_leaf[li + k].reshape((-1,) + row_shape) for k in range(len(ls))]
            idx = [jnp.reshape(index_vals[si + k], (-1,)) for k in range(len(ls))]
            si += len(ls)
            index_dtype = np.dtype(op.attrs["Tout"][len(outputs) + 1].as_numpy_dtype)
            outputs.append(jnp.concatenate(vals, axis=0).astype(dtype) if len(vals) > 1 else vals[0].astype(dtype))
            outputs.append(jnp.concatenate([i.astype(index_dtype) for i in idx]) if len(idx) > 1
                           else idx[0].astype(index_dtype))
        li += len(ls)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


class _ReTraceContext:
    """The run context seen by the gradient's re-traced forward pass: state reads see what the step left
    (a TensorArray's elements), writes (re-traced TensorArray writes) stay inside the trace, so the
    differentiated values never leak into the run's state."""

    def __init__(self, parent):
        self._parent = parent
        self._local: dict = {}

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
        else:
            env = dict(zip(fop._inputs, args))
            env.update(zip(fop._outputs, outs))
            env.update(zip(chosen.extra, extras))
            env.update(zip(chosen.standins, cotangents))
            for step, rule, step_attrs in backward_steps:
                values = [env[t] for t in step._inputs]
                out = rule.fn(ctx, step, *values) if rule.context else rule.fn(*values, **step_attrs)
                step_outs = step._outputs
                env.update([(step_outs[0], out)] if len(step_outs) == 1 else zip(step_outs, out))
            grads = [None if g is None else env[g] for g in chosen.results]
        grads = [None if g is None or not _is_float(a) else jnp.asarray(g, jnp.result_type(a)).reshape(jnp.shape(a))
                 for g, a in zip(grads, args)]
        return grads, [None] * len(outs), [None] * len(extras)

    through.defvjp(forward, backward)
    return through(list(args), list(outs), list(extras))


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


def _owner_kind(plan, leaf_index: int) -> str:
    i = 0
    for kind, ls in zip(plan.kinds, plan.leaves):
        if leaf_index < i + len(ls):
            return kind
        i += len(ls)
    raise IndexError(leaf_index)
