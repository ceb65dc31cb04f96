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
    base = t.dtype.base_dtype
    return base.is_floating or base.is_complex


@lowers("SymbolicGradient", context=True)
def symbolic_gradient(ctx, op, *inputs):
    fn = _function(op)
    args = fn.captures
    inputs = [ctx.deref(v) if isinstance(v, Ref) else v for v in inputs]
    arg_vals, dys = inputs[:len(args)], inputs[len(args):]
    steps = _steps(fn)
    perturbed = fn.lowering_cache["perturbed"]
    diff_idx = [i for i, t in enumerate(args) if _differentiable(t)]
    diff_set = set(diff_idx)
    fixed = {t: v for i, (t, v) in enumerate(zip(args, arg_vals)) if i not in diff_set}

    def forward(*diff_vals):
        local = dict(fixed)
        deltas = {}
        for i, v in zip(diff_idx, diff_vals):
            t = args[i]
            if t in perturbed:
                deltas[t] = v
            else:
                local[t] = v
        overrides = ctx.rule_overrides
        for fop, rule, attrs in steps:
            rule = overrides.get(fop, rule)  # a padded run masks some forward ops (lowering/padding.py)
            fargs = [local[t] for t in fop._inputs]
            out = rule.fn(ctx, fop, *fargs) if rule.context else rule.fn(*fargs, **attrs)
            outs = fop._outputs
            for t, v in ([(outs[0], out)] if len(outs) == 1 else zip(outs, out)):
                if t in deltas:
                    v = v + deltas[t]
                local.setdefault(t, v)
        return [local[y] for y in fn.outputs]

    diff_vals = [jnp.zeros_like(jnp.asarray(arg_vals[i])) if args[i] in perturbed else jnp.asarray(arg_vals[i])
                 for i in diff_idx]
    primals, vjp = jax.vjp(forward, *diff_vals)
    cotangents = [jnp.broadcast_to(jnp.asarray(dy, y.dtype), jnp.shape(y)) for dy, y in zip(dys, primals)]
    grads = dict(zip(diff_idx, vjp(cotangents) if diff_vals else []))
    outputs = []
    for i, t in enumerate(args):
        dtype = np.dtype(t.dtype.base_dtype.as_numpy_dtype)
        g = grads.get(i)
        outputs.append(g.astype(dtype) if g is not None else jnp.zeros(jnp.shape(arg_vals[i]), dtype))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)
