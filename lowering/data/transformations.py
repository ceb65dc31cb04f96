"""Pipeline nodes of tf.data's transformations: map, filter, flat_map, interleave, shuffle, repeat, batch,
padded_batch, prefetch, options, take, skip, cache, unbatch (walk protocol: lowering/data/pipeline.py)."""
from __future__ import annotations

import os

import numpy as np

from graphcompat.framework import errors
from graphcompat.framework.constant_op import constant_value
from lowering.data.context import device_function_error, function_error
from lowering.data.device import permute, shuffle_words, tf_buffered_shuffle
from lowering.data.pipeline import (AUTOTUNE, INF, Bound, Failed, Function, Node, pipeline_node,
                                    reporting_tf_cardinality, static_int, tolerant_bounds)
from lowering.data.sources import child_index


def _function(node: Node, attr: str, n_captures: int) -> Function:
    """The node's function; the op's inputs after its input dataset start with the captures."""
    return Function(node._op, attr, node._tensors[:n_captures],
                    sparse=bool(node._sparse or node._children[0]._sparse))


def _n_captures(op) -> int:
    return len(op.attrs.get("Targuments") or ())


def failed_or_raise(error: Exception, b, rt) -> Failed:
    """The Failed element of a tolerant bound `b` (the walk goes on past it, as TF's iterator); elsewhere
    the error ends the walk. A cancellation always ends it."""
    if id(b) in getattr(rt, "tolerant", ()) and not isinstance(error, errors.CancelledError):
        return Failed(error)
    raise error


def inner_walk(inner, b, rt, index=None):
    """The walk of dataset value `inner` that node bound `b` made (flat_map's function, group_by_window's
    reduce_func; `index`: the one TF's iterator prefix gives it, lowering/data/context.py). Under a tolerant
    `b` the inner pipeline is tolerant too while it is walked (its failed elements are `b`'s: TF returns an
    inner iterator's error and asks it again on the next GetNext)."""
    if type(inner) is Bound:  # where its iterator sits: TF's prefix (lowering/data/context.py)
        inner.up = (b, index, True)
    tolerant = getattr(rt, "tolerant", None)
    if tolerant is None or id(b) not in tolerant:
        return inner.ds._iter(inner, rt)
    ids = tolerant_bounds(inner) - tolerant

    def walk():
        tolerant.update(ids)
        try:
            yield from inner.ds._iter(inner, rt)
        finally:  # ids of bounds that are gone: another bound may reuse one
            tolerant.difference_update(ids)
    return walk()


@pipeline_node("MapDataset", "ParallelMapDatasetV2")
class MapNode(Node):
    passes_failures = True  # TF's map returns its input's error, and its function's, per element

    def _setup(self):
        self._fn = _function(self, "f", _n_captures(self._op))
        self._parallel_calls = self._tensors[-1] if self._op.type == "ParallelMapDatasetV2" else None

    def _validate(self, b):
        if self._parallel_calls is not None:
            n = int(b.vals[self._parallel_calls])
            if n <= 0 and n != AUTOTUNE:
                raise errors.InvalidArgumentError(None, self._op, "num_parallel_calls must be greater than zero.")

    def _iter(self, b, rt):
        """Op by op per element, or compiled over chunks of elements (see lowering/rules/data.py)."""
        parallel = 0 if self._parallel_calls is None else int(b.vals[self._parallel_calls])
        return rt.map(self._fn, b.children[0].ds._iter(b.children[0], rt), b.vals, parallel,
                      tolerant=id(b) in getattr(rt, "tolerant", ()), context=lambda e: function_error(e, b, rt))

    def _card(self):
        if reporting_tf_cardinality() and not self._op.attrs.get("preserve_cardinality", False):
            return None  # TF's map without preserve_cardinality reports UNKNOWN
        return self._children[0]._card()

    def _dev_ok(self):
        return self._fn.dev_ok and self._children[0]._dev_ok()

    def _dev_tensors(self):
        out = super()._dev_tensors()
        return out + [t for t in self._fn.capture_inputs if t not in out]

    def _dev_elem(self, i, dv, rt):
        elem = self._children[0]._dev_elem(i, dv, rt)
        try:
            return self._fn.call(elem, dv, rt.ctx)
        except errors.OpError as e:  # op by op (a compiled step's failed check re-runs so): TF's context
            error = device_function_error(e, self, rt, getattr(rt, "names", {}).get(id(self)))
            if error is e:
                raise
            raise error from e


@pipeline_node("FilterDataset")
class FilterNode(Node):
    passes_failures = True  # TF's filter returns its input's error, and its predicate's, per element

    def _setup(self):
        self._fn = _function(self, "predicate", _n_captures(self._op))

    def _iter(self, b, rt):
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if isinstance(elem, Failed):
                yield elem
                continue
            try:
                keep = bool(np.asarray(self._fn.call(elem, b.vals, rt.ctx)[0]))
            except errors.OpError as e:
                yield failed_or_raise(function_error(e, b, rt), b, rt)
                continue
            if keep:
                yield elem


@pipeline_node("FlatMapDataset")
class FlatMapNode(Node):
    # TF returns its input's error, its function's (that input element is consumed) and its inner datasets'
    # (the inner iterator goes on), each as one element
    passes_failures = True

    def _setup(self):
        self._fn = _function(self, "f", _n_captures(self._op))

    def _inner(self, elem, b, rt, index=None):
        """The walk of the dataset `f` makes of `elem`, or the Failed element of the function's error. Under a
        tolerant node the inner pipeline is tolerant too while it is walked (its failed elements are this
        node's). `index`: the inner iterator's in TF's prefix (lowering/data/context.py)."""
        try:
            inner = self._fn.call(elem, b.vals, rt.ctx)[0]
        except errors.OpError as e:
            return failed_or_raise(function_error(e, b, rt), b, rt)
        return inner_walk(inner, b, rt, index)

    def _iter(self, b, rt):
        count = 0  # TF's element_index_: the input elements given to the function (its inner iterators' index)
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if isinstance(elem, Failed):
                inner = elem
            else:
                inner, count = self._inner(elem, b, rt, count), count + 1
            if isinstance(inner, Failed):
                yield inner
                continue
            yield from inner


@pipeline_node("InterleaveDataset", "ParallelInterleaveDatasetV4", "LegacyParallelInterleaveDatasetV2")
class InterleaveNode(FlatMapNode):
    """TF's interleave ops, one deterministic walk (the parallel ops' buffering arguments and
    num_parallel_calls change nothing graphcompat yields)."""

    def _setup(self):
        super()._setup()
        k = _n_captures(self._op)
        self._cycle, self._block = self._tensors[k], self._tensors[k + 1]
        # TF's InterleaveDataset goes on after a failed element without moving the cycle; the parallel
        # interleaves (ParallelInterleaveDatasetV4, and the legacy ones: a worker's outputs hold its errors)
        # count a failed element in the block, and a failed input element (or function) fills the slot with a
        # dataset of that one error
        self._failure_is_element = self._op.type != "InterleaveDataset"
        # the legacy kernel's worker holds a failed input's (or function's) error as its one output: the slot
        # yields it, then is found ended on the cycle's next visit (which moves the cycle on, as any ended
        # slot); ParallelInterleaveDatasetV4 yields it at once and leaves the slot empty for the next visit
        self._failure_fills_slot = self._op.type in (
            "ParallelInterleaveDataset", "ExperimentalParallelInterleaveDataset", "LegacyParallelInterleaveDatasetV2")
        if self._op.type == "LegacyParallelInterleaveDatasetV2" and \
                self._op.attrs.get("deterministic") in ("false", b"false"):
            raise NotImplementedError(f"LegacyParallelInterleaveDatasetV2 '{self._op.name}': sloppy "
                                      "(nondeterministic) interleave is not supported by graphcompat")

    def _iter(self, b, rt):
        """TF's deterministic interleave: round robin over `cycle_length` slots, `block_length` elements each.
        As TF's iterator, a slot takes its input element when the cycle reaches it empty, an ended inner
        dataset moves the cycle on, and a failed element (input, function or inner) is yielded without
        moving it: the next GetNext asks the same slot again (the parallel interleaves: see `_setup`)."""
        cycle = int(b.vals[self._cycle])
        cycle = os.cpu_count() or 1 if cycle == AUTOTUNE else cycle
        block = int(b.vals[self._block])
        source = b.children[0].ds._iter(b.children[0], rt)
        slots: list = [None] * cycle
        k = given = 0  # the cycle's slot, and the elements its current block gave
        count = 0  # input elements given to the function
        # the index of an inner iterator in TF's prefix: its cycle slot (InterleaveDataset), its input
        # element's (the parallel interleaves)
        by_slot = self._op.type == "InterleaveDataset"
        n_open, ended = 0, False
        while not ended or n_open > 0:
            it = slots[k]
            if it is not None:
                elem = next(it, None)
                if elem is None:  # the slot's dataset ended
                    slots[k] = None
                    n_open -= 1
                    k, given = (k + 1) % cycle, 0
                    continue
                if self._failure_is_element or not isinstance(elem, Failed):
                    given += 1
                    if given == block:
                        k, given = (k + 1) % cycle, 0
                yield elem
            elif not ended:
                elem = next(source, None)
                if elem is None:
                    ended = True
                    continue
                if isinstance(elem, Failed):
                    inner = elem
                else:
                    inner, count = self._inner(elem, b, rt, k if by_slot else count), count + 1
                if isinstance(inner, Failed) and self._failure_fills_slot:
                    inner = iter([inner])
                if isinstance(inner, Failed):
                    if self._failure_is_element:  # the slot's one element: the cycle moves on
                        k, given = (k + 1) % cycle, 0
                    yield inner
                    continue
                slots[k] = inner
                n_open += 1
            else:
                k, given = (k + 1) % cycle, 0


_UNKNOWN_CARDINALITY = -2  # a shuffle buffer_size that buffers the whole input (tf.data.UNKNOWN_CARDINALITY)
_WHOLE_INPUT = 1 << 62     # the buffer size it stands for: never reached, so the ring never wraps


def _shuffle_buffer(size: int) -> int:
    return _WHOLE_INPUT if size == _UNKNOWN_CARDINALITY else size


@pipeline_node("ShuffleDataset")
class ShuffleNode(Node):
    passes_failures = True  # TF's buffer fill returns the input's error; the next GetNext fills on

    def _setup(self):
        from lowering.data.static import computed_int
        buffer, seed, seed2 = self._tensors[:3]  # ShuffleAndRepeatDataset's count follows
        seeds = (computed_int(seed), computed_int(seed2))
        # Seeds that only the run knows (a fed or variable seed): the host walk reads them when it starts.
        self._seeds = None if None in seeds else seeds
        self._random = seeds == (0, 0)
        self._reshuffle = bool(self._op.attrs.get("reshuffle_each_iteration", True))
        size = static_int(buffer)
        self._buffer = None if size is None else _shuffle_buffer(size)

    def _validate(self, b):
        size = int(b.vals[self._tensors[0]])
        if size <= 0 and size != _UNKNOWN_CARDINALITY:
            raise errors.InvalidArgumentError(None, self._op,
                                              "buffer_size must be greater than zero or UNKNOWN_CARDINALITY")

    def seeds_of(self, b) -> tuple:
        """(seed, seed2) of this run; (0, 0) asks for random seeds."""
        if self._seeds is not None:
            return self._seeds
        return int(b.vals[self._tensors[1]]), int(b.vals[self._tensors[2]])

    def _iter(self, b, rt):
        """TF's shuffle iterator, seeded per repetition (`HostRT.shuffle_seeds`)."""
        seeds = rt.shuffle_seeds(b, self.seeds_of(b), self._reshuffle)
        source = b.children[0].ds._iter(b.children[0], rt)
        size = _shuffle_buffer(int(b.vals[self._tensors[0]]))
        yield from tf_buffered_shuffle(source, size, shuffle_words(seeds))

    def _card(self):
        return self._children[0]._card()

    def _epoch_card(self):
        """The elements of one shuffled epoch (shuffle_and_repeat's node repeats them)."""
        return self._children[0]._card()

    def _host_ordered(self) -> bool:
        """Walked on the device through orders the host computes per epoch: a seeded shuffle (TF's order is
        sequential, see `tf_buffered_shuffle`), or an unseeded one whose buffer does not hold its whole
        input (an unseeded full buffer is any uniform permutation: `permute`, on the device)."""
        return not self._random or self._buffer < self._epoch_card()

    def _dev_ok(self):
        n = self._epoch_card()
        return n is not None and n != INF and self._buffer is not None and self._buffer > 0 and \
            self._seeds is not None and self._children[0]._dev_ok()

    def _dev_elem(self, i, dv, rt):
        n = self._epoch_card()
        e, p = i // n, i % n
        if self._host_ordered():  # rows of rt.perms: this epoch's and the next one's order
            row = (e - rt.perm_base) if self._reshuffle else 0 * e
            j = rt.perms[row, p]
        else:
            j = permute(p, n, rt.shuffle_key(self, e if self._reshuffle else 0 * e))
        return self._children[0]._dev_elem(e * n + j, dv, rt)


@pipeline_node("RepeatDataset")
class RepeatNode(Node):
    passes_failures = True  # TF's repeat returns its input's errors and goes on with the same input iterator

    def _setup(self):
        self._count = static_int(self._tensors[0])

    def _iter(self, b, rt):
        count = int(b.vals[self._tensors[0]])
        child = b.children[0]
        e = 0
        forever = count < 0
        while forever or e < count:
            child.up = (b, e, False)  # TF's prefix names the repetition of the input's iterator (data/context.py)
            produced = False
            for elem in child.ds._iter(child, rt):
                # repeated forever, an input that gave only failed elements counts as empty (TF's ForeverIterator:
                # an error leaves first_call_ set, and the end of sequence that follows ends the repetition)
                if not produced and not (forever and isinstance(elem, Failed)):
                    produced = True
                yield elem
            if not produced:  # an empty input repeated is empty (as TF)
                return
            e += 1

    def _card(self):
        n = self._children[0]._card()
        if n is None and self._count is not None and self._count < 0 and reporting_tf_cardinality():
            return INF  # TF reports a repeat forever of an unknown input as infinite
        if n is None or self._count is None:
            return None
        if n == 0 or self._count == 0:
            return 0
        return INF if self._count < 0 or n == INF else n * self._count

    def _dev_ok(self):
        return self._card() is not None and self._children[0]._dev_ok()

    def _dev_elem(self, i, dv, rt):
        n = self._children[0]._card()
        epochs = getattr(rt, "epochs", None)
        if epochs is not None and n not in (None, 0, INF):
            try:  # op by op, the position is concrete: the repetition TF's prefix names (lowering/data/context.py)
                epochs[id(self)] = int(i) // n
            except Exception:  # noqa: BLE001 (traced: a compiled step's errors re-run op by op)
                epochs.pop(id(self), None)
        return self._children[0]._dev_elem(i, dv, rt)


def _batches(b, rt, tensors, combine):
    """Groups the input's elements by the batch size (`tensors[0]`), keeping a short last group unless
    drop_remainder (`tensors[1]`); `combine` turns a group into one element (stack or pad)."""
    size = int(b.vals[tensors[0]])
    drop = tensors[1] is not None and bool(b.vals[tensors[1]])  # TF 1's ops have no drop_remainder (None)

    def combined(buf):
        try:
            return combine(buf)
        except errors.OpError as e:  # TF's CopyBatch fails after the batch's elements were taken
            return failed_or_raise(e, b, rt)
    buf: list = []
    for elem in b.children[0].ds._iter(b.children[0], rt):
        if isinstance(elem, Failed):  # TF's batch returns the input's error: the elements taken are lost
            buf = []
            yield elem
            continue
        buf.append(elem)
        if len(buf) == size:
            yield combined(buf)
            buf = []
    if buf and not drop:
        yield combined(buf)


@pipeline_node("BatchDatasetV2", "ParallelBatchDataset")
class BatchNode(Node):
    """TF's BatchDatasetV2; ParallelBatchDataset makes the same batches."""
    passes_failures = True

    def _setup(self):
        self._b = static_int(self._tensors[0])
        drop = constant_value(self._tensors[-1])
        self._drop = None if drop is None else bool(drop)
        # (first flat component, width) per element leaf: a SparseTensor's three components batch together
        sparse, width = set(self._children[0]._sparse), len(self._children[0]._specs)
        self._groups, k = [], 0
        while k < width:
            self._groups.append((k, 3 if k in sparse else 1))
            k += 3 if k in sparse else 1

    def _validate(self, b):
        if int(b.vals[self._tensors[0]]) <= 0:
            raise errors.InvalidArgumentError(None, self._op, "Batch size must be greater than zero.")

    def _iter(self, b, rt):
        if self._fused():
            return self._fused_batches(b, rt, int(b.vals[self._tensors[0]]), bool(b.vals[self._tensors[-1]]))
        return _batches(b, rt, [self._tensors[0], self._tensors[-1]], self._stack)

    def _fused(self) -> bool:
        """Whether TF runs this batch and the map it reads as one MapAndBatch (map_and_batch_fusion, a default
        rewrite, in functions too): a failed element then fails its whole batch, whose elements are consumed."""
        from lowering.data.context import fused_map_and_batch
        return fused_map_and_batch(self)

    def _fused_batches(self, b, rt, size: int, drop: bool):
        """MapAndBatch's batches of the map's elements (failed ones included: TF's MapAndBatch)."""
        yield from self._batches_of(b.children[0].ds._iter(b.children[0], rt), b, rt, size, drop)

    def _batches_of(self, elements, b, rt, size: int, drop: bool):
        """Batches of `size` elements as TF's MapAndBatch makes them: a failed element fails its batch, and a
        short last batch with a failed element is returned even under drop_remainder."""
        buf: list = []
        for elem in elements:
            buf.append(elem)
            if len(buf) == size:
                yield self._batch_of(buf, b, rt)
                buf = []
        if buf and (not drop or any(isinstance(e, Failed) for e in buf)):
            yield self._batch_of(buf, b, rt)

    def _batch_of(self, buf: list, b, rt):
        """A MapAndBatch batch's element: its first failed element's error, else the stacked results."""
        failed = next((e for e in buf if isinstance(e, Failed)), None)
        if failed is not None:
            return failed
        try:
            return self._stack(buf)
        except errors.OpError as e:
            return failed_or_raise(e, b, rt)

    def _stack(self, buf):
        out = []
        for k, width in self._groups:
            if width == 3:
                out += _batch_sparse([e[k:k + 3] for e in buf])
                continue
            first = np.shape(buf[0][k])
            for j, elem in enumerate(buf[1:], 1):
                if np.shape(elem[k]) != first:
                    raise errors.InvalidArgumentError(
                        None, self._op,
                        f"Cannot batch tensors with different shapes in component {k}. First element had shape "
                        f"[{','.join(map(str, first))}] and element {j} had shape "
                        f"[{','.join(map(str, np.shape(elem[k])))}].")
            out.append(np.stack([np.asarray(e[k]) for e in buf]))
        return out

    def _card(self):
        if reporting_tf_cardinality() and self._op.type in ("MapAndBatchDataset", "ExperimentalMapAndBatchDataset") \
                and not self._op.attrs.get("preserve_cardinality", False):
            return None  # as a map without preserve_cardinality
        n = self._children[0]._card()
        if n is None or self._b is None or self._drop is None:
            return None
        if n == INF:
            return INF
        return n // self._b if self._drop else -(-n // self._b)

    def _ragged(self) -> bool:
        """Whether each epoch ends with a smaller batch (its size then comes from `rt.batch_size`)."""
        n = self._children[0]._card()
        return not self._drop and n not in (None, INF) and n % self._b != 0

    def _dev_ok(self):
        return self._card() is not None and self._children[0]._dev_ok() and not self._sparse

    def batch_size_of(self, j: int) -> int:
        """The size of batch `j` (periodic index) of a ragged batch."""
        n, b = self._children[0]._card(), self._b
        nb = -(-n // b)
        return n - (nb - 1) * b if j % nb == nb - 1 else b

    def _dev_elem(self, j, dv, rt):
        import jax
        import jax.numpy as jnp
        n, b = self._children[0]._card(), self._b
        if n == INF:
            idx = j * b + jnp.arange(b, dtype=j.dtype)
        else:
            nb = n // b if self._drop else -(-n // b)
            k = rt.batch_size if self._ragged() else b  # static: a tail batch is its own compiled shape
            idx = (j // nb) * n + (j % nb) * b + jnp.arange(k, dtype=j.dtype)
        ctx = rt.ctx
        checks: list = []  # (error class, message, op) of the checks the element's ops make, in order

        def element(k):
            # a check made inside the vmap is a batched flag: it must leave the vmap as an output (kept in
            # the context, it would escape the transformation), and holds for the batch when it holds for
            # every element; a failed run is re-run op by op, which raises the failing element's error
            mark = len(ctx.checks)
            out = self._input_elem(k, dv, rt)
            made = ctx.checks[mark:]
            del ctx.checks[mark:]
            checks[:] = [(cls, message, op) for _, cls, message, op in made]
            return out, [ok for ok, _, _, _ in made]
        out, oks = jax.vmap(element)(idx)
        if not ctx.traced and oks:  # op by op: the first element that failed a check raises its own error,
            failed = ~np.logical_and.reduce([np.asarray(ok).reshape(len(idx), -1).all(axis=1) for ok in oks])
            if failed.any():  # computed alone, as TF's iterator computes it (with its context)
                self._input_elem(idx[int(np.argmax(failed))], dv, rt)
        for ok, (cls, message, op) in zip(oks, checks):
            ctx.check(jnp.all(ok), cls, message, op)
        return out

    def _input_elem(self, k, dv, rt):
        """Element `k` of what is batched (map_and_batch maps the input's element here)."""
        return self._children[0]._dev_elem(k, dv, rt)


@pipeline_node("PaddedBatchDatasetV2")
class PaddedBatchNode(Node):
    passes_failures = True

    def _setup(self):
        n = int(self._op.attrs["N"])
        self._shape_ts = self._tensors[1:1 + n]
        self._value_ts = self._tensors[1 + n:1 + 2 * n]
        self._shapes = []
        for t in self._shape_ts:  # -1: pad to the longest; the builder (or importer) made them constant
            value = constant_value(t)
            if value is None:
                raise NotImplementedError(f"PaddedBatchDatasetV2 '{self._op.name}': graphcompat needs constant "
                                          "padded shapes")
            self._shapes.append([None if int(d) == -1 else int(d) for d in np.asarray(value).reshape(-1)])
        self._b = static_int(self._tensors[0])
        drop = constant_value(self._tensors[-1])
        self._drop = None if drop is None else bool(drop)

    def _card(self):
        return BatchNode._card(self)  # batch's count: TF's padded_batch cardinality

    def _iter(self, b, rt):
        pads = [np.asarray(b.vals[t]).item() for t in self._value_ts]  # the padding values' run-time values
        return _batches(b, rt, [self._tensors[0], self._tensors[-1]], lambda buf: self._pad(buf, pads))

    def _pad(self, buf, pads):
        out = []
        for c, (shape, spec, pad) in enumerate(zip(self._shapes, self._specs, pads)):
            vals = [np.asarray(e[c]) for e in buf]
            dims = []
            for k, d in enumerate(shape if shape else [None] * vals[0].ndim):
                longest = max(v.shape[k] for v in vals)
                if d is not None and longest > d:
                    raise errors.DataLossError(None, self._op,
                                               "Attempted to pad to a smaller size than the input element.")
                dims.append(longest if d is None else d)
            arr = np.full([len(vals)] + dims, pad, dtype=spec.dtype.as_numpy_dtype)
            for k, v in enumerate(vals):
                arr[(k,) + tuple(slice(0, s) for s in v.shape)] = v if v.ndim else v.item()
            out.append(arr)
        return out


def _batch_sparse(parts: list) -> list:
    """SparseTensors (indices, values, dense_shape) → one with a leading batch dimension."""
    rank = len(np.asarray(parts[0][2]))
    indices = [np.concatenate([np.full((len(i), 1), b, np.int64), np.asarray(i, np.int64).reshape(len(i), rank)], 1)
               for b, (i, _, _) in enumerate(parts)]
    shape = np.max(np.stack([np.asarray(s, np.int64) for _, _, s in parts]), axis=0)
    return [np.concatenate(indices).astype(np.int64), np.concatenate([np.asarray(v) for _, v, _ in parts]),
            np.concatenate([[len(parts)], shape]).astype(np.int64)]


class _PassThroughNode(Node):
    """A node whose elements are its input's, unchanged (prefetch, options): every walk delegates to it."""
    passes_failures = True

    def _iter(self, b, rt):
        return b.children[0].ds._iter(b.children[0], rt)

    def _card(self):
        return self._children[0]._card()

    def _dev_ok(self):
        return self._children[0]._dev_ok()

    def _dev_elem(self, i, dv, rt):
        return self._children[0]._dev_elem(i, dv, rt)


@pipeline_node("PrefetchDataset")
class PrefetchNode(_PassThroughNode):
    pass


@pipeline_node("OptionsDataset")
class OptionsNode(_PassThroughNode):
    """`with_options`: none of the options changes the elements graphcompat yields."""


@pipeline_node("TakeDataset")
class TakeNode(Node):
    passes_failures = True  # TF's take returns its input's errors without counting them

    def _setup(self):
        self._count = static_int(self._tensors[0])

    def _iter(self, b, rt):
        count = int(b.vals[self._tensors[0]])
        if count == 0:
            return
        k = 0
        for elem in b.children[0].ds._iter(b.children[0], rt):
            yield elem
            if isinstance(elem, Failed):
                continue
            k += 1
            if k == count:
                return

    def _card(self):
        n = self._children[0]._card()
        if n is None or self._count is None:
            return None
        return n if self._count < 0 else min(n, self._count)

    def _dev_ok(self):
        return self._card() is not None and self._children[0]._dev_ok()

    def _dev_elem(self, i, dv, rt):
        n, nc = self._card(), self._children[0]._card()
        if n == INF:
            return self._children[0]._dev_elem(i, dv, rt)
        return self._children[0]._dev_elem(child_index(nc, i // n, i % n), dv, rt)


@pipeline_node("SkipDataset")
class SkipNode(Node):
    passes_failures = True  # TF's skip returns its input's errors (skipping too) without counting them

    def _setup(self):
        self._count = static_int(self._tensors[0])

    def _iter(self, b, rt):
        count = int(b.vals[self._tensors[0]])
        k = 0
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if isinstance(elem, Failed):
                yield elem
                continue
            if count >= 0 and k >= count:
                yield elem
            k += 1

    def _card(self):
        n = self._children[0]._card()
        if n is None or self._count is None:
            return None
        if n == INF:
            return INF if self._count >= 0 else 0
        return 0 if self._count < 0 else max(n - self._count, 0)

    def _dev_ok(self):
        return self._card() not in (None, 0) and self._children[0]._dev_ok()

    def _dev_elem(self, i, dv, rt):
        n, nc = self._card(), self._children[0]._card()
        if n == INF:
            return self._children[0]._dev_elem(i + self._count, dv, rt)
        return self._children[0]._dev_elem((i // n) * nc + self._count + i % n, dv, rt)


@pipeline_node("CacheDataset")
class CacheNode(Node):
    """TF 1 graph mode's CacheDataset: cached in memory (a filename is accepted, not written)."""
    # TF's cache writer returns the input's error and caches only the elements: a complete cache replays
    # the input without its failed elements
    passes_failures = True

    def _iter(self, b, rt):
        cached = rt.cache.get(id(self))
        if cached is not None:
            yield from cached
            return
        out = []
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if not isinstance(elem, Failed):
                out.append(elem)
            yield elem
        rt.cache[id(self)] = out  # complete only once the input was read to its end (as TF)

    def _card(self):
        return self._children[0]._card()

    def _dev_ok(self):
        return self._card() not in (None, INF, 0) and self._children[0]._dev_ok()

    def _dev_elem(self, i, dv, rt):
        return self._children[0]._dev_elem(i % self._card(), dv, rt)  # every epoch replays the first


@pipeline_node("RebatchDatasetV2")
class RebatchNode(Node):
    """TF's RebatchDatasetV2 (rebatch_dataset_op.cc): the input's batches sliced and joined into batches of
    `batch_sizes[i]`, the sizes taken in turn; at the input's end a short last batch (dropped with
    drop_remainder). A failed input element (or one whose components are scalars or of different batch sizes)
    is that GetNext's error: the slices the batch had gathered are lost, the batch size stays for the next
    GetNext, which starts on the next input element."""
    passes_failures = True

    def _validate(self, b):
        if np.ndim(b.vals[self._tensors[0]]) > 1:
            raise errors.InvalidArgumentError(None, self._op, "`batch_sizes` must be a scalar or a vector.")

    def _invalid(self, elem):
        for i, x in enumerate(elem):
            if np.ndim(x) == 0:
                return errors.InvalidArgumentError(None, self._op, "Input element must have a non-scalar value in "
                                                                   "each component.")
            if np.shape(x)[0] != np.shape(elem[0])[0]:
                return errors.InvalidArgumentError(
                    None, self._op, f"Input element must have the same batch size in each component. Component 0 had "
                    f"size {np.shape(elem[0])[0]} but component {i} had size, {np.shape(x)[0]}.")
        return None

    def _empty(self) -> list:
        """A batch of size 0 (a batch size of 0): the output shapes with their unknown dimensions 0."""
        out = []
        for spec in self._specs:
            dims = [0] if spec.shape.ndims is None else [0] + [d or 0 for d in spec.shape.as_list()[1:]]
            out.append(np.zeros(dims if spec.shape.ndims is not None else [0], spec.dtype.as_numpy_dtype))
        return out

    def _iter(self, b, rt):
        sizes = [int(x) for x in np.asarray(b.vals[self._tensors[0]]).reshape(-1)]
        drop = bool(b.vals[self._tensors[1]])
        source = b.children[0].ds._iter(b.children[0], rt)
        tensors: list = []
        offset, index, ended = -1, 0, False  # TF's offset_ (-1: no input batch), batch_sizes_index_
        while not ended:
            desired, size, slices, failed = sizes[index], 0, [], None
            while size < desired:
                if offset == -1:
                    elem = next(source, None)
                    if elem is None:
                        ended = True
                        break
                    if isinstance(elem, Failed):
                        failed = elem
                        break
                    error = self._invalid(elem)
                    if error is not None:
                        failed = failed_or_raise(error, b, rt)
                        break
                    tensors, offset = [np.asarray(x) for x in elem], 0
                end = min(offset + desired - size, tensors[0].shape[0])
                slices.append([t[offset:end] for t in tensors])
                size += end - offset
                offset = -1 if end == tensors[0].shape[0] else end
            if failed is not None:
                yield failed
                continue
            index = (index + 1) % len(sizes)
            if (size == 0 and desired > 0) or (drop and size < desired):
                return
            if desired == 0:
                yield self._empty()
                continue
            yield [np.concatenate([s[c] for s in slices]) for c in range(len(tensors))]


@pipeline_node("UnbatchDataset")
class UnbatchNode(Node):
    passes_failures = True  # TF's unbatch returns its input's error and asks it for the next element

    def _iter(self, b, rt):
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if isinstance(elem, Failed):
                yield elem
                continue
            n = {np.shape(x)[0] for x in elem}
            if len(n) != 1:
                yield failed_or_raise(errors.InvalidArgumentError(
                    None, self._op, "Input element must have the same batch size in each component."), b, rt)
                continue
            for k in range(n.pop()):
                yield [np.asarray(x)[k] for x in elem]
