"""Pipeline nodes of the tf.data op types TF-written graphs hold (graphcompat/data/more_ops.py): map_and_batch,
shuffle_and_repeat, the TF 1.x parallel interleave, the v1 map / batch / padded_batch / readers, unique,
ignore_errors, dense_to_sparse_batch, sliding windows, assert_cardinality, the `Experimental*` names of ops
graphcompat has, and the pass-through ops of tf.data's optimizer, threading and stats (walk protocol:
lowering/data/pipeline.py). Where an op is an older spelling of one graphcompat has, its node is that op's
node with the older op's inputs read in their places.
"""
from __future__ import annotations

import collections

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework.constant_op import constant_value
from lowering.data.device import shuffle_words
from lowering.data.more import DirectedInterleaveNode, GroupByWindowNode, RandomNode, ScanNode, TakeWhileNode
from lowering.data.pipeline import AUTOTUNE, INF, Failed, Node, Spec, pipeline_node, static_int
from lowering.data.readers import FixedLengthRecordNode, TFRecordNode, _compression, _FileReader, _str
from lowering.data.transformations import (BatchNode, CacheNode, FilterNode, InterleaveNode, MapNode, PaddedBatchNode,
                                           ShuffleNode, UnbatchNode, _batches, _function, _n_captures, failed_or_raise,
                                           _PassThroughNode, _shuffle_buffer)

# The Experimental* names of ops whose nodes exist (the same kernels under the older name).
for _node, _op_type in ((UnbatchNode, "ExperimentalUnbatchDataset"), (CacheNode, "CacheDatasetV2"), (ScanNode, "ExperimentalScanDataset"),
                        (TakeWhileNode, "ExperimentalTakeWhileDataset"),
                        (GroupByWindowNode, "ExperimentalGroupByWindowDataset"),
                        (DirectedInterleaveNode, "ExperimentalDirectedInterleaveDataset"),
                        (RandomNode, "ExperimentalRandomDataset")):
    pipeline_node(_op_type)(_node)


def _check_parallel_calls(node: Node, b, t) -> None:
    n = int(b.vals[t])
    if n <= 0 and n != AUTOTUNE:
        raise errors.InvalidArgumentError(None, node._op, "num_parallel_calls must be greater than zero.")


# ------------------------------------------------------------------------------------------------
# map_and_batch
# ------------------------------------------------------------------------------------------------
@pipeline_node("MapAndBatchDataset", "ExperimentalMapAndBatchDataset")
class MapAndBatchNode(BatchNode):
    """TF's MapAndBatchDataset: `f` over each input element, then batches of `batch_size` (the short last one
    kept unless drop_remainder). Inputs: captures, batch_size, num_parallel_calls, drop_remainder. Its device
    walk is batch's, with the function applied to each batched element inside the vmap."""
    # TF's batch of results records the first failed element's error (its input's, or its function's) and
    # returns it for the whole batch, whose elements are consumed
    passes_failures = True

    def _setup(self):
        k = _n_captures(self._op)
        self._fn = _function(self, "f", k)
        self._batch_t, self._parallel_t, self._drop_t = self._tensors[k:k + 3]
        self._b = static_int(self._batch_t)
        drop = constant_value(self._drop_t)
        self._drop = None if drop is None else bool(drop)
        self._groups = [(c, 1) for c in range(len(self._specs))]

    def _validate(self, b):
        if int(b.vals[self._batch_t]) <= 0:
            raise errors.InvalidArgumentError(None, self._op, "batch_size must be greater than zero.")
        _check_parallel_calls(self, b, self._parallel_t)

    def _iter(self, b, rt):
        size, drop = int(b.vals[self._batch_t]), bool(b.vals[self._drop_t])
        parallel = int(b.vals[self._parallel_t])
        tolerant = id(b) in getattr(rt, "tolerant", ())
        elements = rt.map(self._fn, b.children[0].ds._iter(b.children[0], rt), b.vals, parallel, tolerant=tolerant)
        yield from self._batches_of(elements, b, rt, size, drop)

    def _dev_ok(self):
        return self._fn.dev_ok and super()._dev_ok()

    def _dev_tensors(self):
        out = super()._dev_tensors()
        return out + [t for t in self._fn.capture_inputs if t not in out]

    def _input_elem(self, k, dv, rt):
        return self._fn.call(self._children[0]._dev_elem(k, dv, rt), dv, rt.ctx)


# ------------------------------------------------------------------------------------------------
# shuffle_and_repeat
# ------------------------------------------------------------------------------------------------
def tf_shuffle_and_repeat(make_input, size: int, count: int, next_seeds):
    """TF's ShuffleAndRepeatDataset iterator (ShuffleDatasetBase with a count, shuffle_dataset_op.cc).

    One buffer of `size` elements spans the repetitions: each repetition's elements form a slice, and an
    element is drawn only from the oldest slice (`Random() % its size`, swapped with that slice's first
    element). When a slice empties, the next repetition's (seed, seed2) come from the dataset's seed
    generator (`next_seeds`) and the Philox stream starts over. Filling stops at the buffer size, or once the
    buffer holds more than three repetitions; an empty input repeated forever ends at once."""
    buffer: dict = {}
    slices: collections.deque = collections.deque()  # [start, end] absolute positions per repetition
    random = shuffle_words(next_seeds())
    source, epoch, held, produced = None, 0, 0, False

    def should_fill() -> bool:
        if source is None and count != -1 and epoch >= count:
            return False
        if len(slices) > 3 and held > 0:
            return False
        return held < size

    while True:
        while should_fill():
            if source is None:
                start = slices[-1][1] if slices else 0
                slices.append([start, start])
                source = iter(make_input())
                epoch += 1
            try:
                elem = next(source)
            except StopIteration:
                source = None
                if not produced and count == -1:
                    break
                continue
            if isinstance(elem, Failed):  # TF's fill returns the input's error; the next GetNext fills on
                yield elem
                continue
            produced = True
            buffer[slices[-1][1] % size] = elem
            slices[-1][1] += 1
            held += 1
        if held == 0:
            return
        while slices[0][0] == slices[0][1]:  # a repetition fully emitted: the next one's seeds
            slices.popleft()
            random = shuffle_words(next_seeds())
        front = slices[0]
        index = (front[0] + random() % (front[1] - front[0])) % size
        first = front[0] % size
        out = buffer[index]
        buffer[index] = buffer[first]
        del buffer[first]
        front[0] += 1
        held -= 1
        yield out


@pipeline_node("ShuffleAndRepeatDataset", "ShuffleAndRepeatDatasetV2")
class ShuffleAndRepeatNode(ShuffleNode):
    """`tf.data.experimental.shuffle_and_repeat`: TF's order for a seed. The host walk is TF's iterator
    (`tf_shuffle_and_repeat`). Each repetition's elements are drawn from their own slice of the buffer, whose
    size at the t-th draw of a repetition is min(n - t, buffer) as in a shuffle of that repetition alone, and
    each repetition's seeds are the seed generator's next, as a `shuffle().repeat()`'s iterators get them: so
    the device walk is the shuffle's, one epoch per repetition."""

    def _setup(self):
        super()._setup()
        self._count = static_int(self._tensors[3])

    def _validate(self, b):
        super()._validate(b)
        count = int(b.vals[self._tensors[3]])
        if count <= 0 and count != -1:
            raise errors.InvalidArgumentError(None, self._op, "count must be greater than zero or equal to -1.")

    def _iter(self, b, rt):
        size = _shuffle_buffer(int(b.vals[self._tensors[0]]))
        seeds = self.seeds_of(b)
        child = b.children[0]
        return tf_shuffle_and_repeat(lambda: child.ds._iter(child, rt), size, int(b.vals[self._tensors[3]]),
                                     lambda: rt.shuffle_seeds(b, seeds, self._reshuffle))

    def _card(self):
        n = self._children[0]._card()
        if n is None or self._count is None:
            return None
        if n == 0:
            return 0
        return INF if self._count == -1 or n == INF else n * self._count

    def _dev_ok(self):
        return self._count is not None and (self._count > 0 or self._count == -1) and super()._dev_ok()


# ------------------------------------------------------------------------------------------------
# TF 2's shuffle and random ops over a seed generator resource
# ------------------------------------------------------------------------------------------------
@pipeline_node("ShuffleDatasetV3")
class ShuffleV3Node(ShuffleNode):
    """ShuffleDatasetV3: ShuffleDataset's inputs and a seed generator resource. The generator (an
    AnonymousSeedGenerator of the same seeds, or a dummy that makes the dataset own one) is created by the run
    that makes the dataset, so each initialization starts it over, as ShuffleDataset's."""


def _producer(t):
    op = t.op
    while op.type == "Identity":
        op = op.inputs[0].op
    return op


@pipeline_node("ShuffleDatasetV2")
class ShuffleV2Node(ShuffleNode):
    """ShuffleDatasetV2: the seeds and reshuffling come from its AnonymousSeedGenerator's inputs."""

    def _setup(self):
        from lowering.data.static import computed_int
        generator = _producer(self._tensors[1])
        values = [computed_int(t) for t in generator.inputs] if generator.type == "AnonymousSeedGenerator" else None
        if values is None or None in values:
            raise NotImplementedError(f"ShuffleDatasetV2 '{self._op.name}': graphcompat reads its seeds from an "
                                      "AnonymousSeedGenerator of constant seeds")
        self._seeds = (values[0], values[1])
        self._random = self._seeds == (0, 0)
        self._reshuffle = bool(values[2])
        size = static_int(self._tensors[0])
        self._buffer = None if size is None else _shuffle_buffer(size)


@pipeline_node("RandomDatasetV2")
class RandomV2Node(RandomNode):

    def _setup(self):
        if self._op.attrs.get("rerandomize_each_iteration", False):
            raise NotImplementedError(f"RandomDatasetV2 '{self._op.name}' with rerandomize_each_iteration is not "
                                      "supported by graphcompat")


# ------------------------------------------------------------------------------------------------
# older spellings of map, filter, interleave, batch, padded_batch and the readers
# ------------------------------------------------------------------------------------------------
@pipeline_node("ParallelMapDataset")
class ParallelMapV1Node(MapNode):
    """TF 1.x's Dataset.map(num_parallel_calls=...): num_parallel_calls an int32 after the captures."""

    def _setup(self):
        self._fn = _function(self, "f", _n_captures(self._op))
        self._parallel_calls = self._tensors[-1]


@pipeline_node("ParallelFilterDataset")
class ParallelFilterNode(FilterNode):

    def _validate(self, b):
        _check_parallel_calls(self, b, self._tensors[-1])


@pipeline_node("ParallelInterleaveDataset", "ExperimentalParallelInterleaveDataset", "ParallelInterleaveDatasetV2",
               "ParallelInterleaveDatasetV3")
class ParallelInterleaveV1Node(InterleaveNode):
    """tf.data.experimental.parallel_interleave as TF 1.x wrote it (`sloppy` an input) and TF 2.0-2.2's
    parallel interleaves: the deterministic interleave walk. A sloppy one (which may yield in any order) is
    refused, as LegacyParallelInterleaveDatasetV2's is."""

    def _validate(self, b):
        if self._op.type in ("ParallelInterleaveDataset", "ExperimentalParallelInterleaveDataset"):
            sloppy = bool(b.vals[self._tensors[_n_captures(self._op) + 2]])
        else:
            sloppy = bool(self._op.attrs.get("sloppy", False)) or \
                self._op.attrs.get("deterministic") in ("false", b"false")
        if sloppy:
            raise NotImplementedError(f"{self._op.type} '{self._op.name}': sloppy (nondeterministic) interleave "
                                      "is not supported by graphcompat")


@pipeline_node("BatchDataset")
class BatchV1Node(BatchNode):
    """TF 1.x's BatchDataset: batch_size only, the short last batch kept."""

    def _setup(self):
        super()._setup()
        self._drop = False

    def _iter(self, b, rt):
        if self._fused():
            return self._fused_batches(b, rt, int(b.vals[self._tensors[0]]), False)
        return _batches(b, rt, [self._tensors[0], None], self._stack)


@pipeline_node("PaddedBatchDataset")
class PaddedBatchV1Node(PaddedBatchNode):
    """TF 1.x's PaddedBatchDataset: no drop_remainder input, the short last batch kept."""

    def _setup(self):
        super()._setup()
        self._drop = False

    def _iter(self, b, rt):
        pads = [np.asarray(b.vals[t]).item() for t in self._value_ts]
        return _batches(b, rt, [self._tensors[0], None], lambda buf: self._pad(buf, pads))


@pipeline_node("FixedLengthRecordDataset")
class FixedLengthRecordV1Node(FixedLengthRecordNode):
    """TF 1.x's FixedLengthRecordDataset: V2's inputs without compression_type."""

    def _arg(self, b, k):
        return "" if k == 4 else super()._arg(b, k)


@pipeline_node("TFRecordDatasetV2")
class TFRecordV2Node(TFRecordNode):
    """TFRecordDatasetV2: V1's inputs and `byte_offsets` (bytes skipped at the start of each file)."""

    def _validate(self, b):
        offsets = np.asarray(b.vals[self._tensors[3]]).reshape(-1)
        if np.any(offsets != 0):
            raise NotImplementedError(f"TFRecordDatasetV2 '{self._op.name}': nonzero byte_offsets are not supported "
                                      "by graphcompat")


# ------------------------------------------------------------------------------------------------
# tf.data.experimental transformations
# ------------------------------------------------------------------------------------------------
def _element_key(elem: list) -> tuple:
    return tuple((np.asarray(v).dtype.str, np.shape(v), np.asarray(v).tobytes() if np.asarray(v).dtype != object
                  else tuple(np.asarray(v).reshape(-1).tolist())) for v in elem)


@pipeline_node("UniqueDataset", "ExperimentalUniqueDataset")
class UniqueNode(Node):
    """tf.data.experimental.unique: each distinct element once, at its first occurrence (a failed element is
    returned, not remembered)."""
    passes_failures = True

    def _validate(self, b):
        if len(self._specs) != 1:
            raise errors.InvalidArgumentError(None, self._op, "UniqueDataset only supports inputs with a single "
                                              "component.")

    def _iter(self, b, rt):
        seen = set()
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if isinstance(elem, Failed):
                yield elem
                continue
            key = _element_key(elem)
            if key not in seen:
                seen.add(key)
                yield elem


@pipeline_node("IgnoreErrorsDataset", "ExperimentalIgnoreErrorsDataset")
class IgnoreErrorsNode(Node):
    """tf.data.experimental.ignore_errors: an element whose computation fails is dropped (TF's kernel asks its
    input for the next one after any error but a cancellation).

    Its input walk is tolerant (pipeline.py `Failed`): the failed elements of the nodes that pass failures on
    (map, filter, batch, zip, interleave, sliding window …) arrive as Failed elements, which it drops. An error
    its input raises instead (a node whose walk ends at an error: a file reader …) ends a Python generator, so
    it raises NotImplementedError rather than end the dataset early."""
    passes_failures = True

    def _iter(self, b, rt):
        for elem in self._skipping(b.children[0].ds._iter(b.children[0], rt)):
            if not isinstance(elem, Failed):
                yield elem

    def _skipping(self, source):
        try:
            yield from source
        except errors.OpError as e:
            if isinstance(e, errors.CancelledError):
                raise
            raise NotImplementedError(
                f"tf.data.experimental.ignore_errors ('{self._op.name}'): graphcompat skips the failing elements of "
                f"a map directly below it, not this error from its input: {e.message}") from e

    def _card(self):
        return None


def _shape_text(shape) -> str:
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


@pipeline_node("DenseToSparseBatchDataset", "ExperimentalDenseToSparseBatchDataset")
class DenseToSparseBatchNode(Node):
    """tf.data.experimental.dense_to_sparse_batch: batches of `batch_size` elements as one SparseTensor of
    dense shape [batch, row_shape...] (a -1 in row_shape: the batch's largest size in that dimension). The
    element is graphcompat's three components (indices, values, dense_shape; see `_sparse_components`). A
    failed input element, or one that does not fit the row shape, is the batch's error: the elements it took
    are lost, the next batch starts at the next element."""
    passes_failures = True

    def _setup(self):
        # a graph TF wrote: the element is one variant (TF's encoded SparseTensor, which DeserializeSparse
        # decodes after get_next); graphcompat's builder records the three components
        self._variant = len(self._specs) == 1

    def _validate(self, b):
        if int(b.vals[self._tensors[0]]) <= 0:
            raise errors.InvalidArgumentError(None, self._op, "Batch size must be greater than zero.")

    def _iter(self, b, rt):
        size = int(b.vals[self._tensors[0]])
        row_shape = [int(d) for d in np.asarray(b.vals[self._tensors[1]]).reshape(-1)]
        buf: list = []
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if isinstance(elem, Failed):
                buf = []
                yield elem
                continue
            value = np.asarray(elem[0])
            error = self._row_error(value, row_shape)
            if error is not None:
                buf = []
                yield failed_or_raise(error, b, rt)
                continue
            buf.append(value)
            if len(buf) == size:
                yield self._sparse_batch(buf, row_shape)
                buf = []
        if buf:
            yield self._sparse_batch(buf, row_shape)

    def _row_error(self, value, row_shape: list):
        """TF's error for an element that does not fit `row_shape`, or None."""
        if value.ndim != len(row_shape):
            return errors.InvalidArgumentError(
                None, self._op, f"Input element had shape ({_shape_text(value.shape)}) that is incompatible "
                f"with the row shape ({_shape_text(row_shape)}).")
        for got, want in zip(value.shape, row_shape):
            if want != -1 and got > want:
                return errors.DataLossError(
                    None, self._op, f"Input element had shape ({_shape_text(value.shape)}) that is larger than "
                    f"the row shape ({_shape_text(row_shape)}).")
        return None

    def _sparse_batch(self, values: list, row_shape: list) -> list:
        dims = [max([0] + [v.shape[j] for v in values]) if d == -1 else d for j, d in enumerate(row_shape)]
        rank = len(row_shape)
        indices = [np.concatenate([np.full((v.size, 1), i, np.int64),
                                   np.stack(np.unravel_index(np.arange(v.size), v.shape), 1).astype(np.int64)
                                   if rank else np.zeros((v.size, 0), np.int64)], 1) for i, v in enumerate(values)]
        flat = np.concatenate([v.reshape(-1) for v in values])
        out = [np.concatenate(indices).reshape(-1, rank + 1), flat if self._variant else
               flat.astype(self._specs[1].dtype.as_numpy_dtype), np.asarray([len(values)] + dims, np.int64)]
        if self._variant:  # TF's encoding as graphcompat's SerializeSparse(out_type=variant) writes it
            from lowering.rules.sparse_serialize import serialize_sparse
            return [serialize_sparse(*out)]
        return out



@pipeline_node("SlidingWindowDataset", "ExperimentalSlidingWindowDataset")
class SlidingWindowNode(Node):
    """TF's SlidingWindowDataset (tf.contrib.data / tf.data.experimental.sliding_window_batch): every
    `window_shift` input elements a batch of `window_size` elements `window_stride` apart; at the end of the
    input a shorter window is dropped (drop_remainder, the attr's default) or yielded while it is not empty.

    A failed input element is returned as TF's iterator returns it (sliding_window_dataset_op.cc): while the
    buffer fills, the elements buffered before it stay (the failed one is not buffered, the next GetNext fills
    on); while the elements between windows (shift > buffer) are skipped, the window built is lost and the
    buffer kept, so the next GetNext builds the same window again and skips `shift - buffered` elements anew."""
    passes_failures = True

    def _validate(self, b):
        size, shift, stride = (int(b.vals[t]) for t in self._tensors)
        for what, value in (("Window size", size), ("Window shift", shift), ("Window stride", stride)):
            if value <= 0:
                raise errors.InvalidArgumentError(None, self._op, f"{what} must be greater than zero, but got "
                                                  f"{value}.")

    def _iter(self, b, rt):
        size, shift, stride = (int(b.vals[t]) for t in self._tensors)
        drop = bool(self._op.attrs.get("drop_remainder", True))
        target = (size - 1) * stride + 1  # the input elements a full window spans
        source = b.children[0].ds._iter(b.children[0], rt)
        buf: list = []
        live = True  # TF's input_impl_: reset at the input's end
        while True:
            failed = None
            while live and len(buf) < target:
                elem = next(source, None)
                if elem is None:
                    live = False
                elif isinstance(elem, Failed):
                    failed = elem
                    break
                else:
                    buf.append(elem)
            if failed is not None:
                yield failed
                continue
            if not buf or (len(buf) < target and drop):
                return
            window = buf[::stride]
            if shift >= len(buf):
                skipped = len(buf)
                while skipped < shift and live:
                    elem = next(source, None)
                    if elem is None:
                        live = False
                    elif isinstance(elem, Failed):
                        failed = elem
                        break
                    skipped += 1
                if failed is not None:  # the window is lost, the buffer kept
                    yield failed
                    continue
                buf = []
            else:
                del buf[:shift]
            try:
                yield self._stack(window)
            except errors.OpError as e:
                yield failed_or_raise(e, b, rt)

    def _stack(self, window: list) -> list:
        out = []
        for c in range(len(window[0])):
            first = np.shape(window[0][c])
            for i, elem in enumerate(window):
                if np.shape(elem[c]) != first:
                    raise errors.InvalidArgumentError(
                        None, self._op, f"Cannot batch tensors with different shapes in component {c}. First element "
                        f"had shape {_shape_text(first)} and element {i} had shape {_shape_text(np.shape(elem[c]))}.")
            out.append(np.stack([np.asarray(e[c]) for e in window]))
        return out


@pipeline_node("AssertCardinalityDataset")
class AssertCardinalityNode(Node):
    """tf.data.experimental.assert_cardinality: the input's elements, and TF's error where their number is
    not `cardinality` (INFINITE = -1). A failed input element is returned without counting."""
    passes_failures = True

    def _iter(self, b, rt):
        want = int(b.vals[self._tensors[0]])
        n = 0
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if isinstance(elem, Failed):
                yield elem
                continue
            n += 1
            if want != -1 and n > want:
                raise errors.FailedPreconditionError(
                    None, self._op, f"Input dataset was expected to contain {_elements(want)} but contained at least "
                    f"{_elements(want + 1)}.")
            yield elem
        if want == -1 or n < want:
            expected = "an infinite number of elements" if want == -1 else _elements(want)
            raise errors.FailedPreconditionError(
                None, self._op, f"Input dataset was expected to contain {expected} but contained only "
                f"{_elements(n)}.")

    def _card(self):
        n = static_int(self._tensors[0])
        return None if n is None else INF if n == -1 else n


def _elements(n: int) -> str:
    return f"{n} element" + ("" if n == 1 else "s")


# ------------------------------------------------------------------------------------------------
# pass-through ops: the elements are the input's
# ------------------------------------------------------------------------------------------------
@pipeline_node("ModelDataset", "OptimizeDataset", "OptimizeDatasetV2", "MaxIntraOpParallelismDataset",
               "ExperimentalMaxIntraOpParallelismDataset", "PrivateThreadPoolDataset",
               "ExperimentalPrivateThreadPoolDataset", "ThreadPoolDataset", "ExperimentalThreadPoolDataset",
               "AssertNextDataset", "ExperimentalAssertNextDataset", "LatencyStatsDataset",
               "ExperimentalLatencyStatsDataset", "BytesProducedStatsDataset", "ExperimentalBytesProducedStatsDataset",
               "SetStatsAggregatorDataset", "ExperimentalSetStatsAggregatorDataset")
class PassThroughNode(_PassThroughNode):
    """tf.data's optimizer (`ModelDataset`, `OptimizeDataset`), threading and stats ops: graphcompat's walks
    are its own, so they change nothing it yields."""


# ------------------------------------------------------------------------------------------------
# sources
# ------------------------------------------------------------------------------------------------
@pipeline_node("SparseTensorSliceDataset")
class SparseTensorSliceNode(Node):
    """`Dataset.from_sparse_tensor_slices`: one element per row of the first dimension, the three dense
    components of that row's SparseTensor (its entries' other indices, their values, the other dimensions),
    empty rows included."""
    n_children = 0

    def _setup(self):
        indices, values, dense_shape = self._tensors
        rank = dense_shape.shape[0].value if dense_shape.shape.ndims == 1 else None
        rest = None if rank is None else rank - 1
        self._specs = [Spec(_dt.int64, [None, rest]), Spec(values.dtype, [None]), Spec(_dt.int64, [rest])]

    def _validate(self, b):
        indices, values, shape = (np.asarray(b.vals[t]) for t in self._tensors)
        if indices.ndim != 2:
            raise errors.InvalidArgumentError(None, self._op, "Input indices must be a matrix. Got: "
                                              f"{_shape_text(indices.shape)}")
        if values.ndim != 1:
            raise errors.InvalidArgumentError(None, self._op, "Input values must be a vector. Got: "
                                              f"{_shape_text(values.shape)}")
        if shape.ndim != 1:
            raise errors.InvalidArgumentError(None, self._op, "Input shape must be a vector. Got: "
                                              f"{_shape_text(shape.shape)}")

    def _iter(self, b, rt):
        indices, values, shape = (np.asarray(b.vals[t]) for t in self._tensors)
        rows = indices[:, 0] if indices.shape[1] else np.zeros([len(indices)], np.int64)
        for i in range(int(shape[0]) if shape.size else 0):
            hit = rows == i
            yield [indices[hit][:, 1:].astype(np.int64), values[hit], shape[1:].astype(np.int64)]

    def _card(self):
        shape = constant_value(self._tensors[2])
        return None if shape is None or np.size(shape) == 0 else int(np.asarray(shape).reshape(-1)[0])


@pipeline_node("CSVDataset", "ExperimentalCSVDataset", "CSVDatasetV2")
class CSVNode(_FileReader):
    """tf.data.experimental.CsvDataset: one element per record of each file, its fields parsed by
    `record_defaults` (TF's CSV reader: a header line skipped, quoted fields, na_value, select_cols)."""

    def _setup(self):
        n = len(self._op.attrs["output_types"])
        self._defaults = self._tensors[8:8 + n]

    def _records(self, path, b):
        from lowering.rules.data import _csv_fields
        compression, header, delim, quotes, na_value, select = (b.vals[self._tensors[k]] for k in (1, 3, 4, 5, 6, 7))
        if self._op.type == "CSVDatasetV2" and np.size(b.vals[self._tensors[-1]]):
            raise NotImplementedError(f"CSVDatasetV2 '{self._op.name}': exclude_cols is not supported by graphcompat")
        data = self._read(path, _compression(compression)).decode()
        lines = data.split("\n")
        if data.endswith("\n") or not data:
            lines.pop()
        if bool(header):
            lines = lines[1:]
        select = [int(c) for c in np.asarray(select).reshape(-1)]
        delim, na_value = _str(delim), _str(na_value)
        defaults = [np.asarray(b.vals[t]) for t in self._defaults]
        for k, line in enumerate(lines):
            line = line[:-1] if line.endswith("\r") else line
            fields = _csv_fields(line, delim, bool(quotes), k)
            if select:
                fields = [fields[c] for c in select if c < len(fields)]
            if len(fields) != len(defaults):
                raise errors.InvalidArgumentError(None, self._op, f"Expect {len(defaults)} fields but have "
                                                  f"{len(fields)} in record")
            out = []
            for c, (field, default, spec) in enumerate(zip(fields, defaults, self._specs)):
                out.append(self._parse(field, default, spec.dtype, na_value, c))
            yield out

    def _parse(self, field: str, default, dtype, na_value: str, c: int):
        if field == "" or field == na_value:
            if default.size == 0:
                raise errors.InvalidArgumentError(None, self._op, f"Field {c} is required but missing in record!")
            return np.asarray(default.reshape(-1)[0], dtype=object if dtype == _dt.string else dtype.as_numpy_dtype)
        try:
            if dtype == _dt.string:
                return np.array(field.encode(), dtype=object)
            if dtype.is_integer:
                return np.asarray(int(field), dtype.as_numpy_dtype)
            return np.asarray(float(field), dtype.as_numpy_dtype)
        except ValueError:
            kind = "int" if dtype.is_integer else "float"
            raise errors.InvalidArgumentError(None, self._op, f"Field {c} in record is not a valid {kind}: "
                                              f"{field}") from None
