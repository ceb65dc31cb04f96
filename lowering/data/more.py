"""Pipeline nodes of window, shard, take_while, scan, group_by_window, group_by_reducer and choose_from_datasets
(WindowDataset, ShardDataset, TakeWhileDataset, ScanDataset, GroupByWindowDataset, GroupByReducerDataset,
RewriteDataset, DirectedInterleaveDataset; walk protocol: lowering/data/pipeline.py). Host walks only.

A window (WindowDataset's components, group_by_window's groups) is a dataset value: a `Bound` of
`Elements`, which walks the elements it holds. The functions that receive one run the dataset ops they
built on their `_Arg` over it (pipeline.ArgumentNode gives those ops their input's static facts).
"""
from __future__ import annotations

import numpy as np

from graphcompat.framework import errors
from lowering.data.context import dataset_name
from lowering.data.pipeline import INF, Bound, Failed, Function, Node, pipeline_node, static_int
from lowering.data.transformations import _PassThroughNode, failed_or_raise, inner_walk


class Elements:
    """A dataset of elements already computed (a window): walked from the list its Bound holds."""

    _sparse = ()
    passes_failures = False

    def _iter(self, b: Bound, rt):
        return iter(b.vals["elements"])

    def _card(self):
        return None

    def _dev_ok(self) -> bool:
        return False


_ELEMENTS = Elements()


def elements_dataset(elements: list) -> Bound:
    """A dataset value (what a dataset op's variant holds at run time) yielding `elements`."""
    # a dataset TF makes too (a window, a group): it takes a number of TF's counter
    return Bound(_ELEMENTS, {"elements": elements}, [], dataset_name())


def _captures(node: Node, start: int, count: int) -> list:
    return node._tensors[start:start + count]


def _n(op, attr: str) -> int:
    return len(op.attrs.get(attr) or ())


@pipeline_node("WindowDataset")
class WindowNode(Node):
    """TF's WindowDataset: a window every `shift` input elements, holding `size` elements `stride` apart; at
    the end of the input the windows get shorter (dropped with drop_remainder), until one would be empty.
    A window holding a failed input element is that element's error (TF keeps each buffered element's status;
    the elements a stride skips do not count)."""
    passes_failures = True

    def _validate(self, b):
        size, shift, stride, _ = (int(b.vals[t]) for t in self._tensors)
        for what, value in (("size", size), ("shift", shift), ("stride", stride)):
            if value <= 0:
                raise errors.InvalidArgumentError(None, self._op, f"Window {what} must be greater than zero.")

    def _card(self):
        """TF's: full windows after the first one's span with drop_remainder, else one per started shift."""
        n = self._children[0]._card()
        if n is None or n == INF:
            return n
        args = [static_int(t) for t in self._tensors]
        if None in args or min(args[:3]) <= 0:
            return None
        size, shift, stride, drop = args
        if drop:
            rest = n - ((size - 1) * stride + 1)
            return 0 if rest < 0 else rest // shift + 1
        return -(-n // shift)

    def _iter(self, b, rt):
        size, shift, stride, drop = (int(b.vals[t]) for t in self._tensors)
        source = b.children[0].ds._iter(b.children[0], rt)
        for window in windows(source, size, shift, stride, bool(drop)):
            failed = next((e for e in window if isinstance(e, Failed)), None)
            if failed is not None:
                yield failed
                continue
            # each component its own dataset, as TF's (a window of tuples is a tuple of windows)
            yield [elements_dataset([[elem[c]] for elem in window]) for c in range(len(self._specs))]


def windows(source, size: int, shift: int, stride: int, drop: bool):
    """The input elements of each window TF's WindowDataset / SlidingWindowDataset makes: `size` elements
    `stride` apart, windows starting `shift` elements apart; a shorter last window unless `drop`."""
    span = (size - 1) * stride + 1  # input elements one full window covers
    buf: list = []
    ended = False
    while True:
        while not ended and len(buf) < span:
            try:
                buf.append(next(source))
            except StopIteration:
                ended = True
        if not buf or (drop and len(buf) < span):
            return
        yield buf[:span:stride]
        if shift <= len(buf):
            del buf[:shift]
        else:  # the next window starts past what is buffered: skip input elements
            skip = shift - len(buf)
            buf = []
            for _ in range(skip):
                if ended:
                    break
                try:
                    next(source)
                except StopIteration:
                    ended = True


@pipeline_node("ShardDataset")
class ShardNode(Node):
    """TF's ShardDataset: input elements `index`, `index + num`, ... Its iterator counts the elements it
    consumed (`next_index`): each GetNext skips to the next one of its shard, then takes it. A failed element
    is returned without counting, whether skipped or taken (TF's Skip stops at it, and the elements it
    skipped before are not counted either), so the next GetNext starts again from the same count."""
    passes_failures = True

    def _setup(self):
        self._num, self._index = (static_int(t) for t in self._tensors)

    def _validate(self, b):
        num, index = (int(b.vals[t]) for t in self._tensors)
        if num <= 0:
            raise errors.InvalidArgumentError(
                None, self._op, f"Number of shards must be greater than zero (currently num_shards = {num}).")
        if not 0 <= index < num:
            raise errors.InvalidArgumentError(
                None, self._op, f"Index must be between 0 and {num - 1} (currently index = {index}).")

    def _iter(self, b, rt):
        num, index = (int(b.vals[t]) for t in self._tensors)
        source = b.children[0].ds._iter(b.children[0], rt)
        count = 0  # TF's next_index_
        while True:
            skipped, failed = 0, None
            for _ in range((index - count) % num):
                elem = next(source, None)
                if elem is None:
                    return
                if isinstance(elem, Failed):
                    failed = elem
                    break
                skipped += 1
            if failed is not None:
                yield failed
                continue
            count += skipped
            elem = next(source, None)
            if elem is None:
                return
            if isinstance(elem, Failed):
                yield elem
                continue
            count += 1
            yield elem

    def _card(self):
        n = self._children[0]._card()
        if n is None or self._num is None or self._index is None or self._num <= 0:
            return None
        return INF if n == INF else n // self._num + (1 if self._index < n % self._num else 0)


@pipeline_node("TakeWhileDataset")
class TakeWhileNode(Node):
    """TF's TakeWhileDataset: the input's elements until the predicate is false. A failed input element, or
    the predicate's error, is returned and the walk goes on."""
    passes_failures = True

    def _setup(self):
        self._fn = Function(self._op, "predicate", self._tensors, sparse=False)

    def _iter(self, b, rt):
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if isinstance(elem, Failed):
                yield elem
                continue
            try:
                keep = bool(np.asarray(self._fn.call(elem, b.vals, rt.ctx)[0]))
            except errors.OpError as e:  # TF returns the predicate's error; that element is consumed
                yield failed_or_raise(e, b, rt)
                continue
            if not keep:
                return
            yield elem


@pipeline_node("ScanDataset")
class ScanNode(Node):
    """TF's ScanDataset: f(state..., element...) -> (new state..., output...), the state threaded through.
    A failed input element, or the function's error, is returned and the state stays as it was."""
    passes_failures = True

    def _setup(self):
        k = _n(self._op, "Tstate")
        self._state = self._tensors[:k]
        self._fn = Function(self._op, "f", _captures(self, k, _n(self._op, "Targuments")), sparse=False)

    def _iter(self, b, rt):
        state = [b.vals[t] for t in self._state]
        k = len(state)
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if isinstance(elem, Failed):
                yield elem
                continue
            try:
                out = self._fn.call(list(state) + list(elem), b.vals, rt.ctx)
            except errors.OpError as e:
                yield failed_or_raise(e, b, rt)
                continue
            state = [np.asarray(v) for v in out[:k]]
            yield [np.asarray(v) for v in out[k:]]

    def _card(self):
        return self._children[0]._card()


@pipeline_node("GroupByWindowDataset")
class GroupByWindowNode(Node):
    """TF's GroupByWindowDataset: elements are grouped by key_func's int64 key; a group that reaches its
    window size (window_size_func of its key, computed once per key) is flushed through reduce_func, whose
    dataset's elements are yielded; at the end of the input the remaining groups flush in key order. A failed
    input element, a key_func / window_size_func / reduce_func error (that element is consumed) and a
    reduce_func dataset's failed element are returned, and the walk goes on."""
    passes_failures = True

    def _setup(self):
        op = self._op
        nk, nr, nw = (_n(op, a) for a in ("Tkey_func_other_arguments", "Treduce_func_other_arguments",
                                            "Twindow_size_func_other_arguments"))
        self._key = Function(op, "key_func", _captures(self, 0, nk), sparse=False)
        self._reduce = Function(op, "reduce_func", _captures(self, nk, nr), sparse=False)
        self._size = Function(op, "window_size_func", _captures(self, nk + nr, nw), sparse=False)

    def _flush(self, key: int, group: list, b, rt):
        try:
            inner = self._reduce.call([np.int64(key), elements_dataset(group)], b.vals, rt.ctx)[0]
        except errors.OpError as e:
            return iter([failed_or_raise(e, b, rt)])
        return inner_walk(inner, b, rt)

    def _key_of(self, elem, sizes: dict, b, rt) -> int:
        """The element's key, its window size computed once (TF's errors raised: the element is consumed)."""
        key = np.asarray(self._key.call(elem, b.vals, rt.ctx)[0])
        if key.shape != () or key.dtype != np.int64:
            raise errors.InvalidArgumentError(None, self._op, "`key_func` must return a scalar int64.")
        key = int(key)
        if key not in sizes:
            size = np.asarray(self._size.call([np.int64(key)], b.vals, rt.ctx)[0])
            if size.shape != () or size.dtype != np.int64:
                raise errors.InvalidArgumentError(None, self._op,
                                                  "`window_size_func` must return a scalar int64.")
            if int(size) <= 0:
                raise errors.InvalidArgumentError(
                    None, self._op, f"Window size must be greater than zero, but got {int(size)}.")
            sizes[key] = int(size)
        return key

    def _iter(self, b, rt):
        groups: dict = {}
        sizes: dict = {}
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if isinstance(elem, Failed):
                yield elem
                continue
            try:
                key = self._key_of(elem, sizes, b, rt)
            except errors.OpError as e:
                yield failed_or_raise(e, b, rt)
                continue
            group = groups.setdefault(key, [])
            group.append(elem)
            if len(group) == sizes[key]:
                del groups[key]
                yield from self._flush(key, group, b, rt)
        for key in sorted(groups):  # TF's std::map: the smallest key first
            yield from self._flush(key, groups[key], b, rt)

    def _card(self):
        """TF's: infinite over an infinite input, else unknown."""
        return INF if self._children[0]._card() == INF else None


@pipeline_node("ExperimentalGroupByReducerDataset", "GroupByReducerDataset")
class GroupByReducerNode(Node):
    """TF's GroupByReducerDataset (group_by_reducer_dataset_op.cc): its first GetNext reads the whole input,
    each element's key_func key starting a state with init_func (once per key) that reduce_func updates; at the
    input's end each key's state (in key order) is finalized, one element per GetNext. A failed input element
    and a key_func / init_func / reduce_func error are returned as that GetNext's error (that element consumed,
    the states as they were: a state init_func made stays) and the next GetNext reads on; a finalize_func error
    is that key's element."""
    passes_failures = True

    def _setup(self):
        op = self._op
        names = ("key_func", "init_func", "reduce_func", "finalize_func")
        k, fns = 0, []
        for name in names:
            n = _n(op, f"T{name}_other_arguments")
            fns.append(Function(op, name, _captures(self, k, n), sparse=False))
            k += n
        self._key, self._init, self._reduce, self._finalize = fns

    def _iter(self, b, rt):
        states: dict = {}
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if isinstance(elem, Failed):
                yield elem
                continue
            try:
                key_out = [np.asarray(v) for v in self._key.call(elem, b.vals, rt.ctx)]
                if len(key_out) != 1 or key_out[0].dtype != np.int64 or key_out[0].size != 1:
                    raise errors.InvalidArgumentError(None, self._op, "`key_func` must return a scalar int64.")
                key = int(key_out[0].reshape(-1)[0])
                if key not in states:
                    states[key] = [np.asarray(v) for v in self._init.call(key_out, b.vals, rt.ctx)]
                states[key] = [np.asarray(v) for v in self._reduce.call(states[key] + list(elem), b.vals, rt.ctx)]
            except errors.OpError as e:
                yield failed_or_raise(e, b, rt)
        for key in sorted(states):  # TF's std::map: ascending keys
            try:
                yield [np.asarray(v) for v in self._finalize.call(states[key], b.vals, rt.ctx)]
            except errors.OpError as e:
                yield failed_or_raise(e, b, rt)

    def _card(self):
        return None


@pipeline_node("RandomDataset")
class RandomNode(Node):
    """TF's RandomDataset: PhiloxRandom(seed, seed2)'s 32-bit words one by one (SingleSampleAdapter), as
    int64; seeds (0, 0) ask for random ones."""

    n_children = 0

    def _iter(self, b, rt):
        from lowering import philox
        seed, seed2 = (int(b.vals[t]) for t in self._tensors[:2])  # RandomDatasetV2's seed generator follows
        if (seed, seed2) == (0, 0):
            seed, seed2 = (int(x) for x in np.random.SeedSequence().generate_state(2, np.uint64))
        key, counter = philox.key_counter_from_seeds(seed, seed2)
        block = 256  # Philox calls drawn at once
        for start in range(0, 1 << 62, block):
            words = philox.philox(np, key, philox._counters(np, counter, np.arange(start, start + block,
                                                                                   dtype=np.uint64)))
            for value in np.stack([np.asarray(w, np.int64) for w in words], 1).reshape(-1):
                yield [np.int64(value)]

    def _card(self):
        return INF


@pipeline_node("RewriteDataset")
class RewriteNode(_PassThroughNode):
    """A rewrite TF's runtime applies to the graph (`replicate_on_split`): the elements are the input's."""


@pipeline_node("DirectedInterleaveDataset")
class DirectedInterleaveNode(Node):
    """TF's DirectedInterleaveDataset: each selector element picks the input the next element comes from;
    an exhausted input's picks are skipped (or, with stop_on_empty_dataset, end the dataset); the dataset
    ends when the selector or every input does. A failed selector element (or an index out of range) and a
    picked input's failed element are returned, that pick consumed, and the walk goes on."""
    passes_failures = True

    @classmethod
    def children_of(cls, op) -> int:
        return 1 + int(op.attrs["N"])

    def _iter(self, b, rt):
        selector, inputs = b.children[0], b.children[1:]
        stop = bool(self._op.attrs.get("stop_on_empty_dataset", False))
        walks = [c.ds._iter(c, rt) for c in inputs]
        live = [True] * len(walks)
        for choice in selector.ds._iter(selector, rt):
            if isinstance(choice, Failed):
                yield choice
                continue
            k = int(np.asarray(choice[0]))
            if not 0 <= k < len(walks):
                yield failed_or_raise(errors.InvalidArgumentError(
                    None, self._op, f"Selector index out of range: {k} >= {len(walks)}"), b, rt)
                continue
            if not live[k]:
                continue
            try:
                yield next(walks[k])
            except StopIteration:
                live[k] = False
                if stop or not any(live):
                    return

    def _card(self):
        """TF's: infinite when an input is, else unknown."""
        return INF if any(c._card() == INF for c in self._children[1:]) else None
