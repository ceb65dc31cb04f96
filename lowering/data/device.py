"""The device walk's plan and its pseudo-random orders.

`device_plan` decides whether an iterator's pipeline is walked on the device (inside the jitted step) and
what the host must tell each step; `buffered_order` is TF's buffered shuffle order of one epoch (the host
computes it for a shuffle whose buffer is smaller than its input); `permute` is the keyed O(1) permutation
of a shuffle whose buffer holds its whole input.
"""
from __future__ import annotations

import numpy as np


class DevicePlan:
    """How an iterator walks `ds` on the device (see `device_plan`)."""

    __slots__ = ("ok", "ragged", "shuffle", "batch", "nodes")

    def __init__(self, ok: bool, ragged=None, shuffle=None, batch=None, nodes=()):
        self.ok, self.ragged, self.shuffle, self.batch = ok, ragged, shuffle, batch
        self.nodes = list(nodes)  # the pipeline's nodes in walk order (per-node seeds use the index)

    def epochs_of_step(self, c: int) -> tuple:
        """The epochs of the small-buffer shuffle that GetNext call `c` reads (at most two)."""
        from lowering.data.pipeline import INF
        n = self.shuffle._card()
        if self.batch is None:
            return c // n, c // n
        nb_in, b = self.batch._children[0]._card(), self.batch._b
        if nb_in == INF:
            lo, size = c * b, b
        else:
            nb = nb_in // b if self.batch._drop else -(-nb_in // b)
            lo = (c // nb) * nb_in + (c % nb) * b
            size = self.batch.batch_size_of(c) if self.batch._ragged() else b
        return lo // n, (lo + size - 1) // n


def device_plan(ds) -> DevicePlan:
    """Whether an iterator's pipeline (its top node `ds`) is walked on the device, and what the host must
    tell each step. Computed once per node.

    Allowed once each, reached from the top through index-preserving nodes (map, prefetch, repeat,
    options): a batch whose epochs end with a smaller batch (the host passes each step's batch size), and a
    shuffle whose buffer is smaller than its input (the host computes TF's buffered order per epoch; one
    batch, ragged or not, may sit above it).
    """
    plan = ds.__dict__.get("_device_plan")
    if plan is None:
        plan = ds.__dict__["_device_plan"] = _device_plan(ds)
    return plan


def _device_plan(ds) -> DevicePlan:
    from lowering.data.transformations import (BatchNode, MapNode, OptionsNode, PrefetchNode, RepeatNode,
                                               ShuffleNode)
    if not ds._dev_ok():
        return DevicePlan(False)
    ragged = [n for n in ds._nodes() if isinstance(n, BatchNode) and n._ragged()]
    small = [n for n in ds._nodes() if isinstance(n, ShuffleNode) and n._small_buffer()]
    if len(ragged) > 1 or len(small) > 1:
        return DevicePlan(False)
    pending = {id(n) for n in ragged + small}
    node, batch = ds, None
    while pending:
        if id(node) in pending:
            pending.discard(id(node))
            if not pending:
                break
        if isinstance(node, BatchNode):  # the one batch allowed above a small-buffer shuffle
            if not small or batch is not None or node._b > small[0]._card():
                return DevicePlan(False)
            batch = node
        elif not isinstance(node, (MapNode, PrefetchNode, RepeatNode, OptionsNode)):
            return DevicePlan(False)
        node = node._children[0]
    return DevicePlan(True, ragged=(ragged or [None])[0], shuffle=(small or [None])[0], batch=batch,
                      nodes=ds._nodes())


def buffered_order(n: int, size: int, seed: list) -> np.ndarray:
    """The order in which TF's buffered shuffle emits range(n) with a `size` buffer (one epoch)."""
    u = np.random.default_rng(seed).random(n)
    buf = list(range(min(size, n)))
    nxt = len(buf)
    out = np.empty(n, np.int64)
    for t in range(n):
        k = int(u[t] * len(buf))
        out[t] = buf[k]
        if nxt < n:
            buf[k] = nxt
            nxt += 1
        else:
            buf[k] = buf[-1]
            buf.pop()
    return out


def mix32(x):
    """murmur3's 32-bit finalizer (a bijection of uint32 with good avalanche)."""
    import jax.numpy as jnp
    x = x ^ (x >> jnp.uint32(16))
    x = x * jnp.uint32(0x85EBCA6B)
    x = x ^ (x >> jnp.uint32(13))
    x = x * jnp.uint32(0xC2B2AE35)
    return x ^ (x >> jnp.uint32(16))


def permute(p, n: int, key):
    """Position `p` of a pseudo-random permutation of range(n) chosen by `key` (uint32), in O(1) state.

    A 4-round Feistel network over the smallest even-bit power of two ≥ n is a bijection; indices that
    land outside [0, n) are walked again until they land inside (cycle walking keeps it a bijection).
    """
    import jax
    import jax.numpy as jnp
    if n <= 1:
        return p
    half = max(1, ((n - 1).bit_length() + 1) // 2)
    mask = jnp.uint32((1 << half) - 1)
    keys = [mix32(key ^ jnp.uint32((0x9E3779B9 * (r + 1)) & 0xFFFFFFFF)) for r in range(4)]

    def feistel(x):
        left, right = x >> jnp.uint32(half), x & mask
        for k in keys:
            left, right = right, left ^ (mix32(right ^ k) & mask)
        return (left << jnp.uint32(half)) | right

    x = feistel(p.astype(jnp.uint32))
    x = jax.lax.while_loop(lambda v: v >= jnp.uint32(n), feistel, x)
    return x.astype(p.dtype)
