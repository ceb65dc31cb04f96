"""A while loop that `jax.vjp` can differentiate and that runs only its real iterations.

Reverse mode cannot transpose `lax.while_loop` (its trip count is data), so a differentiated loop used
to become a `lax.scan` of its static bound, each step a `lax.cond` that does nothing once the loop is
done. That runs every padded step forward and backward: a `dynamic_rnn` over 25 of 64 bucketed time
steps paid for 64 (the skipped steps still stack their residuals and transpose their conds).

TF's while_v2 gradient does what we do here: the forward loop runs its real iterations and saves what
the backward pass needs per iteration (its accumulators), the backward loop runs as many iterations in
reverse. In JAX terms the loop is a `jax.custom_vjp`:

- forward: `lax.while_loop` whose body takes `jax.vjp` of one step and writes the pullback's residual
  arrays into buffers of `length` rows, row `i` for iteration `i` (residuals that are the loop's
  invariant inputs are not copied per iteration: they are read from the inputs);
- backward: `lax.while_loop` from the last real iteration down to 0, rebuilding each iteration's
  pullback from its buffer rows and accumulating the cotangents of the loop-invariant inputs.

Values the step closes over (a loop body's captured weights, being differentiated) become explicit
inputs (closure conversion), so their gradients flow. Integer and boolean parts of the carry
(counters, check flags, the `go` flag) carry no cotangent.
"""
from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def _dtype(leaf):
    return leaf.dtype if isinstance(leaf, jax.ShapeDtypeStruct) else jnp.result_type(leaf)


def _inexact(leaf) -> bool:
    return jnp.issubdtype(_dtype(leaf), jnp.inexact)


def _zero_cotangent(leaf):
    """The cotangent jax expects for a primal leaf: zeros, or float0 zeros for ints and bools."""
    return jnp.zeros(jnp.shape(leaf), _dtype(leaf) if _inexact(leaf) else jax.dtypes.float0)


def _without_tangent(leaf):
    """An int or bool output of the custom VJP, as a value jax knows has no tangent. jax gives every
    output of a custom_vjp function a tangent (float0 for these), and ops without derivative rules
    (`jnp.all` of the loop's check flags: reduce_and) then refuse them; a round trip through another
    integer type of the same or wider range is lossless, and a conversion's tangent to an integer type
    is a known zero."""
    if _inexact(leaf):
        return leaf
    dtype = jnp.result_type(leaf)
    via = jnp.int8 if dtype == jnp.bool_ else jnp.uint64 if dtype == jnp.int64 else jnp.int64
    return lax.convert_element_type(lax.convert_element_type(leaf, via), dtype)


def _closure_convert(fn: Callable[[Any], Any], example: Any):
    """`fn` as `closed(x, *consts)` with every tracer it closes over hoisted into `consts`.

    Unlike `jax.closure_convert`, which leaves integer tracers closed over (they carry no tangent), this
    hoists them too: a loop nested in another loop's step is converted while that step is traced, and an
    integer it closes over (the outer loop's counter) belongs to that trace, which is gone by the time
    the custom VJP's rules run. Concrete constants stay embedded."""
    jaxpr, out_shape = jax.make_jaxpr(fn, return_shape=True)(example)
    out_tree = jax.tree_util.tree_structure(out_shape)
    tracer_at = [i for i, c in enumerate(jaxpr.consts) if isinstance(c, jax.core.Tracer)]
    fixed = list(jaxpr.consts)

    def closed(x, *hoisted):
        consts = list(fixed)
        for i, c in zip(tracer_at, hoisted):
            consts[i] = c
        out = jax.core.eval_jaxpr(jaxpr.jaxpr, consts, *jax.tree_util.tree_leaves(x))
        return jax.tree_util.tree_unflatten(out_tree, out)
    return closed, [jaxpr.consts[i] for i in tracer_at]


class _RowLayout:
    """How one iteration's stored residuals share buffers: all residuals of one dtype are flattened into one
    row of one `[length, total]` buffer. One buffer per dtype instead of one per residual: a padded loop's
    buffers are sized by its bucket, and each buffer costs a fill (and a copy when XLA shares the fill
    between buffers) per run, whatever the true trip count; one write and one read per iteration too."""

    def __init__(self, shapes: list):
        self.shapes = [(tuple(s.shape), jnp.dtype(s.dtype)) for s in shapes]
        self.dtypes = sorted({dtype for _, dtype in self.shapes}, key=str)
        self.where = []   # per residual: (buffer index, offset, size)
        totals = [0] * len(self.dtypes)
        for shape, dtype in self.shapes:
            b = self.dtypes.index(dtype)
            size = int(np.prod(shape, dtype=np.int64))
            self.where.append((b, totals[b], size))
            totals[b] += size
        self.totals = totals

    def buffers(self, length: int) -> list:
        return [jnp.zeros((length, total), dtype) for total, dtype in zip(self.totals, self.dtypes)]

    def pack(self, residuals: list) -> list:
        parts: list = [[] for _ in self.dtypes]
        for r, (b, _, _), (_, dtype) in zip(residuals, self.where, self.shapes):
            parts[b].append(jnp.ravel(jnp.asarray(r, dtype)))
        return [jnp.concatenate(p) if len(p) > 1 else p[0] for p in parts]

    def unpack(self, rows: list) -> list:
        return [lax.reshape(lax.slice_in_dim(rows[b], offset, offset + size), shape) if size else
                jnp.zeros(shape, dtype) for (b, offset, size), (shape, dtype) in zip(self.where, self.shapes)]


def differentiable_while(step: Callable[[Any], Any], go: Callable[[Any], Any], carry0: Any, length: int) -> Any:
    """`lax.while_loop(go, step, carry0)` that reverse mode can differentiate, given a static bound
    `length` on its iterations (a constant `maximum_iterations`, or a padded run's bucket size).

    `step` may close over values that are being differentiated; `go(carry)` must be a boolean scalar
    read from the carry (no computation of its own)."""
    closed, consts = _closure_convert(step, carry0)

    @jax.custom_vjp
    def loop(carry, consts):
        return lax.while_loop(lambda c: go(c), lambda c: closed(c, *consts), carry)

    def pullback_of(carry, consts):
        """One iteration under jax.vjp with respect to the float leaves of the carry and of the invariant
        inputs (ints and bools are not differentiated: jax has no derivative rules for their ops): its
        output, the pullback's residual arrays, their structure, and for each residual the index of the
        invariant input it is (None: computed per iteration, stored)."""
        carry_leaves, carry_tree = jax.tree_util.tree_flatten(carry)
        float_carry = [i for i, leaf in enumerate(carry_leaves) if _inexact(leaf)]
        float_consts = [j for j, k in enumerate(consts) if _inexact(k)]

        def one(carry_floats, const_floats):
            leaves, ks = list(carry_leaves), list(consts)
            for i, v in zip(float_carry, carry_floats):
                leaves[i] = v
            for j, v in zip(float_consts, const_floats):
                ks[j] = v
            return closed(jax.tree_util.tree_unflatten(carry_tree, leaves), *ks)

        out, pullback = jax.vjp(one, [carry_leaves[i] for i in float_carry], [consts[j] for j in float_consts])
        leaves, treedef = jax.tree_util.tree_flatten(pullback)
        invariant = {id(k): i for i, k in enumerate(consts)}
        return out, leaves, treedef, tuple(invariant.get(id(leaf)) for leaf in leaves)

    # the pullback's structure, found while tracing the forward loop and read by the backward pass
    found: dict = {}

    def forward(carry, consts):
        def stored_shapes(c, k):
            _, leaves, treedef, sources = pullback_of(c, k)
            found.update(treedef=treedef, sources=sources)
            return [leaf for leaf, src in zip(leaves, sources) if src is None]
        rows = _RowLayout(jax.eval_shape(stored_shapes, carry, consts))
        found["rows"] = rows
        buffers = rows.buffers(length)

        def body(state):
            # the invariant inputs ride in the carry so that, inside the body, residuals that are those
            # inputs are the very tracers passed in (and are recognised as such, not stored per row)
            i, c, k, bufs = state
            out, leaves, _, sources = pullback_of(c, k)
            if sources != found["sources"]:
                raise AssertionError("differentiable_while: the pullback's residuals changed between traces")
            packed = rows.pack([leaf for leaf, src in zip(leaves, sources) if src is None])
            bufs = [lax.dynamic_update_index_in_dim(b, r, i, 0) for b, r in zip(bufs, packed)]
            return i + 1, out, k, bufs

        n, final, _, buffers = lax.while_loop(lambda s: jnp.logical_and(go(s[1]), s[0] < length), body,
                                              (jnp.int32(0), carry, consts, buffers))
        # the carry's structure, not its values: a constant initial carry as a residual would be a
        # constant of the backward pass that jit's fast path does not pass to the executable
        found["carry"] = jax.tree_util.tree_flatten(jax.tree_util.tree_map(
            lambda leaf: jax.ShapeDtypeStruct(jnp.shape(leaf), jnp.result_type(leaf)), carry))
        return final, (n, buffers, consts)

    def backward(residuals, ct_final):
        n, buffers, consts = residuals
        treedef, sources = found["treedef"], found["sources"]
        carry_leaves, carry_tree = found["carry"]
        # the backward loop carries float cotangents only (a float0 array cannot be a loop carry)
        carry_floats = [i for i, leaf in enumerate(carry_leaves) if _inexact(leaf)]
        const_floats = [j for j, k in enumerate(consts) if _inexact(k)]

        def expand(floats, where, like):
            full = [_zero_cotangent(leaf) for leaf in like]
            for i, f in zip(where, floats):
                full[i] = f
            return full

        def body(state):
            i, ct_carry, ct_consts = state
            i = i - 1
            rows = iter(found["rows"].unpack([lax.dynamic_index_in_dim(b, i, 0, keepdims=False) for b in buffers]))
            pullback = jax.tree_util.tree_unflatten(
                treedef, [next(rows) if src is None else consts[src] for src in sources])
            # the pullback takes the output's cotangent: float0 zeros where the output leaf is an int
            d_carry, d_consts = pullback(jax.tree_util.tree_unflatten(carry_tree, expand(ct_carry, carry_floats,
                                                                                         carry_leaves)))
            return i, list(d_carry), [acc + d for acc, d in zip(ct_consts, d_consts)]

        ct_leaves = jax.tree_util.tree_leaves(ct_final)
        _, ct_carry, ct_consts = lax.while_loop(
            lambda s: s[0] > 0, body,
            (n, [ct_leaves[j] for j in carry_floats], [_zero_cotangent(consts[j]) for j in const_floats]))
        return (jax.tree_util.tree_unflatten(carry_tree, expand(ct_carry, carry_floats, carry_leaves)),
                expand(ct_consts, const_floats, consts))

    loop.defvjp(forward, backward)
    return jax.tree_util.tree_map(_without_tangent, loop(carry0, consts))
