"""Lowerings of the optimizer kernels (graphcompat/train/training_ops.py).

Each kernel is one pure function `(slots, inputs, attrs) -> new slots` whose math equals
tensorflow/core/kernels/training_ops.cc (optax's transformation where its math is TF's: momentum;
TF's own where optax differs: Adam's epsilon-hat, Adagrad's and RMSProp's initial accumulators); the dense op applies it to whole variables, the sparse op
to the rows named by `indices` (summed per unique index first, as TF's optimizer does) and scatters
the rows back, so untouched rows are never read or rewritten.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from graphcompat.framework import errors
from graphcompat.framework.registry import get_op_def
from lowering.interpreter import LazyRead
from lowering.registry import lowers


def _gd(s, x, a):
    return {"var": s["var"] - x["alpha"] * x["grad"]}


def _proximal_gd(s, x, a):
    alpha, l1, l2 = x["alpha"], x["l1"], x["l2"]
    prox = s["var"] - alpha * x["grad"]
    shrunk = jnp.sign(prox) * jnp.maximum(jnp.abs(prox) - alpha * l1, 0) / (1 + alpha * l2)
    return {"var": jnp.where(l1 > 0, shrunk, prox / (1 + alpha * l2))}


def _momentum(s, x, a):
    # TF's ApplyMomentum is optax's trace (accum = mu * accum + g; Nesterov: g + mu * accum) times -lr.
    import optax  # here, not at the top: optax (and the jax.scipy.stats it loads) costs ~80 ms of every import
    trace = optax.trace(decay=x["momentum"], nesterov=bool(a.get("use_nesterov")))
    update, state = trace.update(x["grad"], optax.TraceState(trace=s["accum"]))
    return {"var": s["var"] - x["lr"] * update, "accum": state.trace}


def _adagrad(s, x, a):
    g = x["grad"]
    accum = s["accum"] + g * g if a.get("update_slots", True) else s["accum"]
    return {"var": s["var"] - x["lr"] * g * jax.lax.rsqrt(accum), "accum": accum}


def _proximal_adagrad(s, x, a):
    g, l1, l2 = x["grad"], x["l1"], x["l2"]
    accum = s["accum"] + g * g
    lr = x["lr"] * jax.lax.rsqrt(accum)
    prox = s["var"] - lr * g
    shrunk = jnp.sign(prox) * jnp.maximum(jnp.abs(prox) - lr * l1, 0) / (1 + lr * l2)
    return {"var": jnp.where(l1 > 0, shrunk, prox / (1 + lr * l2)), "accum": accum}


def _adam(s, x, a):
    g = x["grad"]
    b1, b2, eps = x["beta1"], x["beta2"], x["epsilon"]
    lr = x["lr"] * jnp.sqrt(1 - x["beta2_power"]) / (1 - x["beta1_power"])
    m = s["m"] + (g - s["m"]) * (1 - b1)
    v = s["v"] + (g * g - s["v"]) * (1 - b2)
    if a.get("use_nesterov"):
        var = s["var"] - lr * (m * b1 + (1 - b1) * g) / (jnp.sqrt(v) + eps)
    else:
        var = s["var"] - lr * m / (jnp.sqrt(v) + eps)
    return {"var": var, "m": m, "v": v}


def _rmsprop(s, x, a):
    g, rho = x["grad"], x["rho"]
    ms = s["ms"] + (g * g - s["ms"]) * (1 - rho)
    mom = s["mom"] * x["momentum"] + x["lr"] * g / jnp.sqrt(ms + x["epsilon"])
    return {"var": s["var"] - mom, "ms": ms, "mom": mom}


def _centered_rmsprop(s, x, a):
    g, rho = x["grad"], x["rho"]
    ms = s["ms"] + (g * g - s["ms"]) * (1 - rho)
    mg = s["mg"] + (g - s["mg"]) * (1 - rho)
    denom = ms - mg * mg + x["epsilon"]
    mom = s["mom"] * x["momentum"] + x["lr"] * g * jax.lax.rsqrt(denom)
    return {"var": s["var"] - mom, "mg": mg, "ms": ms, "mom": mom}


def _ftrl(s, x, a):
    var, accum, linear = s["var"], s["accum"], s["linear"]
    g, lr, l1, l2, power = x["grad"], x["lr"], x["l1"], x["l2"], x["lr_power"]
    g_shrunk = g + 2 * x["l2_shrinkage"] * var if "l2_shrinkage" in x else g
    new_accum = accum + g * g
    half = power == -0.5
    new_pow = jnp.where(half, jnp.sqrt(new_accum), jnp.power(new_accum, -power))
    old_pow = jnp.where(half, jnp.sqrt(accum), jnp.power(accum, -power))
    if a.get("multiply_linear_by_lr"):
        linear = linear + g_shrunk * lr - (new_pow - old_pow) * var
        quadratic = new_pow + 2 * l2 * lr
        l1_eff = l1 * lr
    else:
        linear = linear + g_shrunk - (new_pow - old_pow) / lr * var
        quadratic = new_pow / lr + 2 * l2
        l1_eff = l1
    pre_shrink = (jnp.clip(linear, -l1_eff, l1_eff) - linear) / quadratic
    var = jnp.where(jnp.abs(linear) > l1_eff, pre_shrink, jnp.zeros_like(var))
    return {"var": var, "accum": new_accum, "linear": linear}


def _adadelta(s, x, a):
    g, rho, eps = x["grad"], x["rho"], x["epsilon"]
    accum = s["accum"] * rho + g * g * (1 - rho)
    update = jnp.sqrt(s["accum_update"] + eps) * jax.lax.rsqrt(accum + eps) * g
    accum_update = s["accum_update"] * rho + update * update * (1 - rho)
    return {"var": s["var"] - update * x["lr"], "accum": accum, "accum_update": accum_update}


def _adagrad_da(s, x, a):
    # TF's ApplyAdagradDA: dual averaging, the variable is recomputed from the two accumulators (it never
    # reads its old value), with the step count T = global_step scaling l1 and l2.
    g, lr, l1, l2, step = x["grad"], x["lr"], x["l1"], x["l2"], x["global_step"]
    g_acc = s["gradient_accumulator"] + g
    gg_acc = s["gradient_squared_accumulator"] + g * g
    denom = l2 * (step * lr) + jnp.sqrt(gg_acc)
    shrunk = -lr * jnp.sign(g_acc) * jnp.maximum(jnp.abs(g_acc) - step * l1, 0) / denom
    var = jnp.where(l1 > 0, shrunk, -lr * g_acc / denom)
    return {"var": var, "gradient_accumulator": g_acc, "gradient_squared_accumulator": gg_acc}


def _adagrad_v2(s, x, a):
    g = x["grad"]
    accum = s["accum"] + g * g if a.get("update_slots", True) else s["accum"]
    return {"var": s["var"] - g * x["lr"] / (jnp.sqrt(accum) + x["epsilon"]), "accum": accum}


def _ada_max(s, x, a):
    # TF's ApplyAdaMax (Adam's infinity-norm variant): v is the decayed max of |g|, no bias-corrected v.
    g = x["grad"]
    m = s["m"] + (g - s["m"]) * (1 - x["beta1"])
    v = jnp.maximum(x["beta2"] * s["v"], jnp.abs(g))
    var = s["var"] - x["lr"] / (1 - x["beta1_power"]) * (m / (v + x["epsilon"]))
    return {"var": var, "m": m, "v": v}


def _add_sign(s, x, a):
    g = x["grad"]
    m = s["m"] * x["beta"] + g * (1 - x["beta"])
    return {"var": s["var"] - x["lr"] * (x["alpha"] + x["sign_decay"] * jnp.sign(g) * jnp.sign(m)) * g, "m": m}


def _power_sign(s, x, a):
    g = x["grad"]
    m = s["m"] * x["beta"] + g * (1 - x["beta"])
    scale = jnp.exp(x["logbase"] * x["sign_decay"] * jnp.sign(g) * jnp.sign(m))
    return {"var": s["var"] - x["lr"] * scale * g, "m": m}


def _keras_momentum(s, x, a):
    # Keras' SGD momentum: the accumulator holds the (negative) step itself, lr folded in.
    g, lr, mu = x["grad"], x["lr"], x["momentum"]
    accum = s["accum"] * mu - g * lr
    step = accum * mu - g * lr if a.get("use_nesterov") else accum
    return {"var": s["var"] + step, "accum": accum}


def _adam_with_amsgrad(s, x, a):
    g = x["grad"]
    alpha = x["lr"] * jnp.sqrt(1 - x["beta2_power"]) / (1 - x["beta1_power"])
    m = s["m"] + (g - s["m"]) * (1 - x["beta1"])
    v = s["v"] + (g * g - s["v"]) * (1 - x["beta2"])
    vhat = jnp.maximum(s["vhat"], v)
    return {"var": s["var"] - m * alpha / (jnp.sqrt(vhat) + x["epsilon"]), "m": m, "v": v, "vhat": vhat}


MATH = {"GradientDescent": _gd, "ProximalGradientDescent": _proximal_gd, "Momentum": _momentum,
        "Adagrad": _adagrad, "ProximalAdagrad": _proximal_adagrad, "Adam": _adam, "RMSProp": _rmsprop, "CenteredRMSProp": _centered_rmsprop,
        "Ftrl": _ftrl, "FtrlV2": _ftrl, "Adadelta": _adadelta, "AdagradDA": _adagrad_da,
        "AdagradV2": _adagrad_v2, "AdaMax": _ada_max, "AddSign": _add_sign, "PowerSign": _power_sign,
        "KerasMomentum": _keras_momentum, "AdamWithAmsgrad": _adam_with_amsgrad}


def _hyper(name: str, value, dtype):
    """A scalar input in the variable's dtype; TF's AdagradDA kernels take `global_step` as a float first."""
    if name == "global_step":
        value = jnp.asarray(value, jnp.float32)
    return jnp.asarray(value, dtype)


def _kernel(op_type: str):
    return MATH[op_type.replace("SparseApply", "").replace("Apply", "")]


def _dense_rule(op_type: str, refs: list, others: list):
    math = _kernel(op_type)

    def rule(ctx, op, *inputs):
        ref_vals = inputs[:len(refs)]
        slots = {name: ctx.read(r.key, r.op) for name, r in zip(refs, ref_vals)}
        dtype = slots["var"].dtype
        x = {("grad" if n == "delta" else n): _hyper(n, ctx.deref(v), dtype)
             for n, v in zip(others, inputs[len(refs):])}
        new = math(slots, x, op.attrs)
        for name, r in zip(refs, ref_vals):
            ctx.write(r.key, new[name].astype(dtype))
        return new["var"].astype(dtype)
    return rule


def _sparse_inputs(ctx, refs: list, others: list, inputs) -> tuple:
    """A SparseApply* op's inputs: (the refs, the slots' values by name, the variable's dtype, the other
    inputs by name, the flat row indices, the gradient rows in the variable's dtype)."""
    ref_vals = inputs[:len(refs)]
    full = {name: ctx.read(r.key, r.op) for name, r in zip(refs, ref_vals)}
    dtype = full["var"].dtype
    raw = dict(zip(others, (ctx.deref(v) for v in inputs[len(refs):])))
    indices = jnp.reshape(jnp.asarray(raw.pop("indices")), (-1,))
    grad = jnp.asarray(raw.pop("grad"), dtype)
    return ref_vals, full, dtype, raw, indices, grad


def _sparse_rule(op_type: str, refs: list, others: list):
    math = _kernel(op_type)

    def rule(ctx, op, *inputs):
        ref_vals, full, dtype, raw, indices, grad = _sparse_inputs(ctx, refs, others, inputs)
        n, rows = indices.shape[0], full["var"].shape[0]
        # Sum duplicate indices first (TF's _apply_sparse_duplicate_indices); padding slots get index
        # `rows`, out of range, so the scatter below drops them.
        uniq, inverse = jnp.unique(indices, size=n, fill_value=rows, return_inverse=True)
        grad = jax.ops.segment_sum(grad, inverse.reshape(-1), num_segments=n)
        slots = {k: v.at[uniq].get(mode="fill", fill_value=0) for k, v in full.items()}
        x = {k: _hyper(k, v, dtype) for k, v in raw.items()}
        x["grad"] = grad
        new = math(slots, x, op.attrs)
        for name, r in zip(refs, ref_vals):
            def apply(ok, table=full[name], rows_new=new[name].astype(dtype)):
                # a failed check anywhere in the run: drop every row (no state changes)
                return table.at[uniq if ok is None else jnp.where(ok, uniq, rows)].set(rows_new, mode="drop")
            ctx.write_effect(r.key, apply)
        return LazyRead(ref_vals[0].key, ref_vals[0].op)
    return rule


def _occurrence_rounds(indices):
    """(round of each index, number of rounds): the k-th occurrence of a row id is in round k, so each
    round names every row at most once and rounds in order replay TF's loop over the indices. A stable
    sort groups equal ids in their order; an id's round is its distance from its group's start."""
    n = indices.shape[0]
    if n == 0:
        return jnp.zeros((0,), jnp.int32), jnp.int32(0)
    order = jnp.argsort(indices, stable=True)
    ids = indices[order]
    position = jnp.arange(n, dtype=jnp.int32)
    starts = jnp.concatenate([jnp.ones((1,), bool), ids[1:] != ids[:-1]])
    group_start = jax.lax.cummax(jnp.where(starts, position, 0))
    rounds = jnp.zeros((n,), jnp.int32).at[order].set(position - group_start)
    return rounds, jnp.max(rounds) + 1


def _sequential_sparse_rule(op_type: str, refs: list, others: list):
    """TF's SparseApply* kernel loop (`for i in 0..N: row = indices[i]; update row with grad[i]`): a
    duplicate row is updated again from the slots its earlier occurrence wrote. Distinct rows do not
    interact, so the updates run in rounds of distinct rows (one round when no row repeats)."""
    math = _kernel(op_type)

    def rule(ctx, op, *inputs):
        ref_vals, full, dtype, raw, indices, grad = _sparse_inputs(ctx, refs, others, inputs)
        rows = full["var"].shape[0]
        _check_rows(ctx, op, indices, rows)
        x = {k: _hyper(k, v, dtype) for k, v in raw.items()}
        rounds, n_rounds = _occurrence_rounds(indices)

        def one_round(k, tables):
            ids = jnp.where(rounds == k, indices, rows)  # rows outside this round: out of range, dropped
            slots = {name: t.at[ids].get(mode="fill", fill_value=0) for name, t in tables.items()}
            new = math(slots, dict(x, grad=grad), op.attrs)
            return {name: t.at[ids].set(new[name].astype(dtype), mode="drop") for name, t in tables.items()}

        final = jax.lax.fori_loop(0, n_rounds, one_round, full)
        for name, r in zip(refs, ref_vals):
            ctx.write(r.key, final[name])
        return LazyRead(ref_vals[0].key, ref_vals[0].op)
    return rule


def _check_rows(ctx, op, indices, rows: int) -> None:
    """TF's SparseApply* index check: the first offending offset, as the kernel's loop meets it (the
    functor-based kernels, SparseApplyKerasMomentum's, report it in the slice-debug form)."""
    def message():
        import numpy as np
        idx = np.asarray(indices)
        bad = int(np.argwhere((idx < 0) | (idx >= rows))[0][0])
        if "KerasMomentum" in op.type:
            return f"indices[{bad}] = {int(idx[bad])} is not in [0, {rows})"
        return f"Index {int(idx[bad])} at offset {bad} in indices is out of range"
    ctx.check(jnp.all((indices >= 0) & (indices < rows)), errors.InvalidArgumentError, message, op)


# The kernels TF has a sparse form of (`SparseApply<K>`), and those it registers only for resource
# variables (the Keras optimizers' own: no `Apply<K>` ref-variable op type).
SPARSE_KERNELS = frozenset({"ProximalGradientDescent", "Momentum", "Adagrad", "ProximalAdagrad", "RMSProp",
                            "CenteredRMSProp", "Ftrl", "FtrlV2", "Adadelta", "AdagradDA", "AdagradV2",
                            "KerasMomentum"})
RESOURCE_ONLY = frozenset({"KerasMomentum", "AdamWithAmsgrad"})
# Sparse kernels whose duplicate indices are applied one after another, as TF's kernel loops over them
# (each occurrence sees the slots the previous one wrote). The older sparse kernels instead sum duplicates
# first: graphcompat's tf.train optimizers record them without TF's Unique/UnsortedSegmentSum dedup and
# rely on that sum; nothing in graphcompat records these two without deduplicating first, so they follow
# TF's kernel exactly.
SEQUENTIAL_DUPLICATES = frozenset({"SparseApplyAdagradV2", "SparseApplyKerasMomentum"})


def kernel_op_types() -> list:
    """(op type, ref form's op type) of every Apply* / SparseApply* kernel and its Resource twin."""
    out = []
    for kernel in MATH:
        for form in ("Apply" + kernel,) + (("SparseApply" + kernel,) if kernel in SPARSE_KERNELS else ()):
            if kernel not in RESOURCE_ONLY:
                out.append((form, form))
            out.append(("Resource" + form, form))
    return out


@functools.lru_cache(maxsize=None)
def kernel_signature(op_type: str) -> tuple:
    """(slot input names, other input names in TF's order) read from the op's TF signature: the slots are
    the `Ref(T)` or `resource` inputs, the rest (hyper-parameters, gradient, indices) follow them."""
    inputs = get_op_def(op_type).inputs
    slots = [a.name for a in inputs if a.is_ref or getattr(a.fixed_dtype, "name", None) == "resource"]
    return tuple(slots), tuple(a.name for a in inputs[len(slots):])


def kernel_rule(op_type: str, form: str):
    """The context rule of the kernel `op_type` whose ref form is `form` (the Resource twin's wrapper in
    lowering/rules/resource.py adds TF's "variable exists" check). The slot and input names are read from
    the OpDef on first use: the op types are defined by the front end, possibly after this module loads."""
    build = (_sequential_sparse_rule if form in SEQUENTIAL_DUPLICATES
             else _sparse_rule if form.startswith("SparseApply") else _dense_rule)
    rules: list = []

    def rule(ctx, op, *inputs):
        if not rules:
            rules.append(build(form, *kernel_signature(op_type)))
        return rules[0](ctx, op, *inputs)
    return rule


for _op, _form in kernel_op_types():
    if _op == _form:
        lowers(_op, context=True)(kernel_rule(_op, _form))
