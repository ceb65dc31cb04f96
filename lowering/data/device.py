"""The device walk's plan and its pseudo-random orders.

`device_plan` decides whether an iterator's pipeline is walked on the device (inside the jitted step) and
what the host must tell each step; `tf_buffered_shuffle` is TF's ShuffleDataset iterator (its buffer, its
Philox draws and its per-repetition seeds), which the host walk runs on elements and `buffered_order` on
indices (one epoch's order, computed by the host for a device-walked seeded shuffle); `permute` is the keyed
O(1) permutation of an unseeded shuffle whose buffer holds its whole input (no order to match there).
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, Tuple

import numpy as np

from lowering import philox
from lowering.data.pipeline import Failed


class DevicePlan:
    """How an iterator walks `ds` on the device (see `device_plan`)."""

    __slots__ = ("ok", "ragged", "shuffle", "batch", "nodes")

    def __init__(self, ok: bool, ragged=None, shuffle=None, batch=None, nodes=()):
        self.ok, self.ragged, self.shuffle, self.batch = ok, ragged, shuffle, batch
        self.nodes = list(nodes)  # the pipeline's nodes in walk order (per-node seeds use the index)

    def epochs_of_step(self, c: int) -> tuple:
        """The epochs of the host-ordered shuffle that GetNext call `c` reads (at most two)."""
        from lowering.data.pipeline import INF
        n = self.shuffle._epoch_card()
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
    options, a take with no repeat above it): a batch whose epochs end with a smaller batch (the host passes each step's batch size), and a
    host-ordered shuffle: a seeded one, or one whose buffer is smaller than its input (the host computes
    TF's order per epoch; one batch, ragged or not, may sit above it).
    """
    plan = ds.__dict__.get("_device_plan")
    if plan is None:
        plan = ds.__dict__["_device_plan"] = _device_plan(ds)
    return plan


def _device_plan(ds) -> DevicePlan:
    from lowering.data.transformations import (BatchNode, MapNode, OptionsNode, PrefetchNode, RepeatNode,
                                               ShuffleNode, TakeNode)
    if not ds._dev_ok():
        return DevicePlan(False)
    ragged = [n for n in ds._nodes() if isinstance(n, BatchNode) and n._ragged()]
    ordered = [n for n in ds._nodes() if isinstance(n, ShuffleNode) and n._host_ordered()]
    if len(ragged) > 1 or len(ordered) > 1:
        return DevicePlan(False)
    pending = {id(n) for n in ragged + ordered}
    node, batch, repeated = ds, None, False
    while pending:
        if id(node) in pending:
            pending.discard(id(node))
            if not pending:
                break
        if isinstance(node, BatchNode):  # the one batch allowed above a host-ordered shuffle
            if not ordered or batch is not None or node._b > ordered[0]._epoch_card():
                return DevicePlan(False)
            batch = node
        elif isinstance(node, TakeNode):  # index-preserving unless a repeat above reads past its end
            if repeated:
                return DevicePlan(False)
        elif not isinstance(node, (MapNode, PrefetchNode, RepeatNode, OptionsNode)):
            return DevicePlan(False)
        repeated = repeated or isinstance(node, RepeatNode)
        node = node._children[0]
    return DevicePlan(True, ragged=(ragged or [None])[0], shuffle=(ordered or [None])[0], batch=batch,
                      nodes=ds._nodes())


Seeds = Tuple[int, int]


def random_shuffle_seeds(entropy: int, index: int) -> Seeds:
    """The (seed, seed2) an unseeded shuffle draws for one initialization (TF: random::New64 twice, in
    MakeDataset): from the walk's entropy and the node's place in the pipeline."""
    a, b = np.random.default_rng([entropy & 0xFFFFFFFF, index]).integers(0, 1 << 63, size=2, dtype=np.int64)
    return int(a), int(b)


def epoch_seeds(seeds: Seeds, epoch: int, reshuffle: bool) -> Seeds:
    """The (seed, seed2) of the shuffle iterator that repetition `epoch` creates.

    With reshuffle_each_iteration, TF's ShuffleDataset seeds a RandomSeedGenerator with the dataset's
    (seed, seed2) (random_seed_ops.cc): a Philox stream read one 32-bit word at a time
    (SingleSampleAdapter), two words per iterator created. It lives in the iterator resource, so each
    (re)initialization starts it over and every repetition under a `repeat` draws the next two words.
    Without reshuffling every iterator uses the dataset's seeds.
    """
    if not reshuffle:
        return seeds
    key, counter = philox.key_counter_from_seeds(*seeds)
    call = np.asarray(philox.words(np, key, philox._advance(counter, epoch // 2), 1))[0]
    j = 2 * (epoch % 2)  # four words a Philox call: two epochs' seeds
    return int(call[j]), int(call[j + 1])


def shuffle_words(seeds: Seeds) -> Callable[[], int]:
    """The iterator's `Random()`: PhiloxRandom(seed, seed2) read one uint32 word at a time."""
    from lowering.philox_sampling import WordStream
    return WordStream(*philox.key_counter_from_seeds(*seeds)).rand32


def tf_buffered_shuffle(source: Iterable, size: int, random: Callable[[], int]) -> Iterator:
    """TF's ShuffleDataset iterator (shuffle_dataset_op.cc) over `source`, drawing words from `random`.

    Each GetNext first tops the buffer up to `size` elements from the input (lazily: an input error
    surfaces at that GetNext), then takes the element at offset `Random() % count` of the buffered
    elements in arrival order, moves the oldest element into its slot and drops the oldest place. An input's
    Failed element is yielded as it arrives (TF's fill returns its error; the next GetNext fills on). The
    buffer is a ring of `size` slots (allocated as elements arrive, so a huge buffer costs nothing).
    """
    source = iter(source)
    ring: list = []
    start = end = 0  # absolute positions: the buffered elements are start .. end-1, slot = position % size
    exhausted = False
    while True:
        while not exhausted and end - start < size:
            try:
                elem = next(source)
            except StopIteration:
                exhausted = True
                break
            if isinstance(elem, Failed):  # TF returns the input's error from this GetNext; the buffer stays
                yield elem
                continue
            slot = end % size
            if slot == len(ring):
                ring.append(elem)
            else:
                ring[slot] = elem
            end += 1
        if end == start:
            return
        index = (start + random() % (end - start)) % size
        first = start % size
        out = ring[index]
        ring[index], ring[first] = ring[first], None
        start += 1
        yield out


def buffered_order(n: int, size: int, seeds: Seeds) -> np.ndarray:
    """The order in which a shuffle iterator seeded (seed, seed2) = `seeds` (see `epoch_seeds`) with a
    `size` buffer emits range(n): one epoch, computed on the host for the device walk.

    `tf_buffered_shuffle` on indices, flattened: input element p arrives at buffer position p, so with the
    positions as one array the t-th output is position t + Random() % (elements buffered at t), whose
    element then trades places with position t's. Only that swap is sequential.
    """
    key, counter = philox.key_counter_from_seeds(*seeds)
    words = np.asarray(philox.words(np, key, counter, -(-n // 4))).reshape(-1)[:n].astype(np.int64)
    t = np.arange(n, dtype=np.int64)
    picks = (t + words % (np.minimum(t + min(size, n), n) - t)).tolist()
    slots = list(range(n))
    out = []
    for position, pick in enumerate(picks):
        out.append(slots[pick])
        slots[pick] = slots[position]
    return np.asarray(out, np.int64)


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
