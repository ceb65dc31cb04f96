"""The tf.data op types TF-written graphs hold (graphcompat/data/more_ops.py, lowering/data/imported.py,
lowering/rules/data_more.py), against real TF:

- oracle round trips: a pipeline built in real TF (tf.compat.v1 graph mode; an op type TF 2.21's Python no
  longer writes is made by renaming TF's node in the GraphDef to the older op type and giving it that op's
  inputs), imported into graphcompat and drained: the elements of TF's own drain, in TF's order;
- graphcompat's builders (map_and_batch, shuffle_and_repeat, ignore_errors, unique, dense_to_sparse_batch,
  assert_cardinality, reduce, get_single_element, cardinality, Optionals) record TF's op types, in the
  graph and in its function library;
- bad input: TF's error classes and texts.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

pytestmark = pytest.mark.oracle


# ------------------------------------------------------------------------------------------------
# GraphDef surgery: an older op type in the place of TF's newer node
# ------------------------------------------------------------------------------------------------
def _const(graph_def, name: str, value, dtype) -> str:
    import tensorflow as real
    node = graph_def.node.add()
    node.name, node.op = name, "Const"
    node.attr["dtype"].type = real.as_dtype(dtype).as_datatype_enum
    node.attr["value"].tensor.CopyFrom(real.make_tensor_proto(value, dtype=dtype))
    return name


def _retype(graph_def, old: str, new: str, inputs=None):
    """Every `old` node (also in the library's functions) becomes a `new` node: `inputs(node_inputs, graph_def)`
    gives its data inputs; attrs the new op type lacks are dropped."""
    from tensorflow.python.framework import op_def_registry
    allowed = {a.name for a in op_def_registry.get(new).attr}
    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    for node in nodes:
        if node.op != old:
            continue
        node.op = new
        for key in [k for k in node.attr if k not in allowed and not k.startswith("_")]:
            del node.attr[key]
        if inputs is not None:
            data = [i for i in node.input if not i.startswith("^")]
            control = [i for i in node.input if i.startswith("^")]
            del node.input[:]
            node.input.extend(inputs(data, graph_def) + control)
    return graph_def


def _drop_last(data, graph_def):
    return data[:-1]


def _int32_parallel_calls(data, graph_def):
    return data[:-1] + [_const(graph_def, "num_parallel_calls_int32", 2, "int32")]


def _with_sloppy(data, graph_def):  # LegacyParallelInterleaveDatasetV2 -> ParallelInterleaveDataset
    return data[:-2] + [_const(graph_def, "sloppy", False, "bool")] + data[-2:]


def _num_parallel_calls(data, graph_def):  # ... -> ParallelInterleaveDatasetV2/V3: no buffering inputs
    return data[:-3] + data[-1:]


def _filter_parallel(data, graph_def):
    return data + [_const(graph_def, "filter_parallel_calls", 2, "int64")]


# ------------------------------------------------------------------------------------------------
# state functions are defs: TF's autograph reads a lambda's source line and may take another lambda there
# ------------------------------------------------------------------------------------------------
def _add(s, x):
    return s + x


def _add_square(s, x):
    return s + x * x


def _product_and_sum(s, x):
    return s[0] * (x[0] + 1), s[1] + x[1]


def _pair_sums(s, e):
    return s[0] + e[0], s[1] + e[1]


def _replace(s, x):
    return x


def _scan_step(s, x):
    return s + x, s * 10


def _appender(lib):
    def append(s, x):
        return lib.concat([s, [x]], 0)
    return append


def _float_sum(lib):
    def float_sum(s, x):
        return lib.cast(s + x, lib.float32)
    return float_sum


# ------------------------------------------------------------------------------------------------
# pipelines built in TF
# ------------------------------------------------------------------------------------------------
def _raw(v1, op: str, ds, **args):
    """A TF dataset op from tf.raw_ops over `ds`, as a dataset of `ds`'s structure."""
    import tensorflow as real
    fn = getattr(real.raw_ops, op)
    spec = ds.element_spec
    flat = real.nest.flatten(spec)
    variant = fn(input_dataset=ds._variant_tensor, output_types=[s.dtype for s in flat],
                 output_shapes=[s.shape for s in flat], **args)
    return real.data.experimental.from_variant(variant, spec)


def _source(v1, op: str, **args):
    """A TF reader op from tf.raw_ops: a dataset of scalar strings."""
    import tensorflow as real
    return real.data.experimental.from_variant(getattr(real.raw_ops, op)(**args), real.TensorSpec([], real.string))


def _range(v1, n=10):
    return v1.data.Dataset.range(n)


def _files(tmp) -> dict:
    csv = tmp / "data.csv"
    csv.write_bytes(b"a,b\n1,x\n2,\"y,z\"\n,w\n")
    fixed = tmp / "fixed.bin"
    fixed.write_bytes(b"HHaabbccF")
    records = tmp / "data.tfrecord"
    with tf.io.TFRecordWriter(str(records)) as w:
        for r in (b"r0", b"record-1", b""):
            w.write(r)
    return {"csv": str(csv), "fixed": str(fixed), "records": str(records)}


def _thread_pool(v1, p):
    import tensorflow as real
    pool = real.raw_ops.ThreadPoolHandle(num_threads=2, display_name="pool")
    return _raw(v1, "ThreadPoolDataset", _range(v1, 5), thread_pool=pool)


def _sliding(v1, p, drop):
    import tensorflow as real
    ds = _range(v1, 7)
    variant = real.raw_ops.SlidingWindowDataset(input_dataset=ds._variant_tensor, window_size=3, window_shift=2,
                                                window_stride=1, drop_remainder=drop, output_types=[real.int64],
                                                output_shapes=[[None]])
    return real.data.experimental.from_variant(variant, real.TensorSpec([None], real.int64))


# name -> (build(v1, paths) -> Dataset, GraphDef rewrite or None)
ROUND_TRIPS = {
    "map_and_batch": (lambda v1, p: _range(v1).apply(v1.data.experimental.map_and_batch(lambda x: x * 2, 3)), None),
    "map_and_batch_capture_drop": (lambda v1, p: _range(v1, 11).apply(v1.data.experimental.map_and_batch(
        lambda x: (x * v1.constant(3, v1.int64), v1.cast(x, v1.float32) / 2), 4, drop_remainder=True)), None),
    "experimental_map_and_batch": (lambda v1, p: _range(v1, 7).apply(v1.data.experimental.map_and_batch(
        lambda x: x + 1, 2)), lambda g: _retype(g, "MapAndBatchDataset", "ExperimentalMapAndBatchDataset")),
    "shuffle_and_repeat": (lambda v1, p: _range(v1).apply(v1.data.experimental.shuffle_and_repeat(4, 3, seed=3)),
                           None),
    "shuffle_and_repeat_forever": (lambda v1, p: _range(v1, 6).apply(
        v1.data.experimental.shuffle_and_repeat(5, seed=7)).take(40), None),
    "shuffle_and_repeat_big_buffer": (lambda v1, p: _range(v1, 5).apply(
        v1.data.experimental.shuffle_and_repeat(100, 6, seed=1)), None),
    "shuffle_and_repeat_fixed": (lambda v1, p: _raw(v1, "ShuffleAndRepeatDataset", _range(v1, 8), buffer_size=3, seed=5,
                                                    seed2=6, count=3, reshuffle_each_iteration=False), None),
    "parallel_map_v1": (lambda v1, p: _range(v1, 6).map(lambda x: x * x, num_parallel_calls=2),
                        lambda g: _retype(g, "ParallelMapDatasetV2", "ParallelMapDataset", _int32_parallel_calls)),
    "parallel_filter": (lambda v1, p: _range(v1, 12).filter(lambda x: x % 3 > 0),
                        lambda g: _retype(g, "FilterDataset", "ParallelFilterDataset", _filter_parallel)),
    "batch_v1": (lambda v1, p: _range(v1, 7).batch(3), lambda g: _retype(g, "BatchDatasetV2", "BatchDataset",
                                                                         _drop_last)),
    "padded_batch_v1": (lambda v1, p: _range(v1, 1, ).concatenate(_range(v1, 4)).map(
        lambda x: v1.fill([x + 1], x)).padded_batch(2, padded_shapes=[None]),
        lambda g: _retype(g, "PaddedBatchDatasetV2", "PaddedBatchDataset", _drop_last)),
    "parallel_interleave_v1": (lambda v1, p: v1.data.Dataset.range(1, 4).apply(
        v1.data.experimental.parallel_interleave(lambda x: v1.data.Dataset.range(x).map(lambda y: y + 10 * x), 2)),
        lambda g: _retype(g, "LegacyParallelInterleaveDatasetV2", "ParallelInterleaveDataset", _with_sloppy)),
    "experimental_parallel_interleave": (lambda v1, p: v1.data.Dataset.range(1, 4).apply(
        v1.data.experimental.parallel_interleave(lambda x: v1.data.Dataset.range(x), 2, block_length=2)),
        lambda g: _retype(g, "LegacyParallelInterleaveDatasetV2", "ExperimentalParallelInterleaveDataset",
                          _with_sloppy)),
    "parallel_interleave_v3": (lambda v1, p: v1.data.Dataset.range(1, 4).interleave(
        lambda x: v1.data.Dataset.range(x), cycle_length=2, num_parallel_calls=2),
        lambda g: _retype(g, "ParallelInterleaveDatasetV4", "ParallelInterleaveDatasetV3", _num_parallel_calls)),
    "parallel_interleave_v2": (lambda v1, p: v1.data.Dataset.range(1, 4).interleave(
        lambda x: v1.data.Dataset.range(x), cycle_length=2, num_parallel_calls=2),
        lambda g: _retype(g, "ParallelInterleaveDatasetV4", "ParallelInterleaveDatasetV2", _num_parallel_calls)),
    "fixed_length_v1": (lambda v1, p: v1.data.FixedLengthRecordDataset(p["fixed"], 2, header_bytes=2, footer_bytes=1),
                        lambda g: _retype(g, "FixedLengthRecordDatasetV2", "FixedLengthRecordDataset", _drop_last)),
    "tfrecord_v2": (lambda v1, p: _source(v1, "TFRecordDataset", filenames=[p["records"]], compression_type="",
                                          buffer_size=0), lambda g: _retype(
        g, "TFRecordDataset", "TFRecordDatasetV2",
        lambda data, gd: data + [_const(gd, "byte_offsets", np.zeros([1], np.int64), "int64")])),
    "unique": (lambda v1, p: v1.data.Dataset.from_tensor_slices([3, 1, 3, 2, 1, 5]).apply(
        v1.data.experimental.unique()), None),
    "experimental_unique": (lambda v1, p: v1.data.Dataset.from_tensor_slices([b"a", b"b", b"a"]).apply(
        v1.data.experimental.unique()), lambda g: _retype(g, "UniqueDataset", "ExperimentalUniqueDataset")),
    "ignore_errors": (lambda v1, p: v1.data.Dataset.from_tensor_slices([1., 2., 0., 4.]).map(
        lambda x: v1.check_numerics(1. / x, "bad")).apply(v1.data.experimental.ignore_errors()), None),
    "experimental_ignore_errors": (lambda v1, p: v1.data.Dataset.from_tensor_slices([1., 0., 0., 4.]).map(
        lambda x: v1.check_numerics(1. / x, "bad")).apply(v1.data.experimental.ignore_errors()),
        lambda g: _retype(g, "IgnoreErrorsDataset", "ExperimentalIgnoreErrorsDataset")),
    "assert_cardinality": (lambda v1, p: _range(v1, 4).apply(v1.data.experimental.assert_cardinality(4)), None),
    "dense_to_sparse_batch": (lambda v1, p: _range(v1, 1, ).concatenate(_range(v1, 5)).map(
        lambda x: v1.fill([x % 3 + 1], v1.cast(x, v1.float32))).apply(
        v1.data.experimental.dense_to_sparse_batch(2, [None])), None),
    "experimental_dense_to_sparse_batch": (lambda v1, p: _range(v1, 5).map(lambda x: v1.fill([2, x % 2 + 1], x)).apply(
        v1.data.experimental.dense_to_sparse_batch(3, [2, 4])),
        lambda g: _retype(g, "DenseToSparseBatchDataset", "ExperimentalDenseToSparseBatchDataset")),
    "sliding_window": (lambda v1, p: _sliding(v1, p, True), None),
    "sliding_window_partial": (lambda v1, p: _sliding(v1, p, False), None),
    "experimental_scan": (lambda v1, p: _range(v1, 5).apply(v1.data.experimental.scan(
        v1.constant(0, v1.int64), _scan_step)),
        lambda g: _retype(g, "ScanDataset", "ExperimentalScanDataset")),
    "experimental_take_while": (lambda v1, p: _range(v1).apply(v1.data.experimental.take_while(lambda x: x < 4)),
                                lambda g: _retype(g, "TakeWhileDataset", "ExperimentalTakeWhileDataset")),
    "experimental_group_by_window": (lambda v1, p: _range(v1, 9).apply(v1.data.experimental.group_by_window(
        lambda x: x % 2, lambda k, w: w.batch(2), 2)),
        lambda g: _retype(g, "GroupByWindowDataset", "ExperimentalGroupByWindowDataset")),
    "rebatch": (lambda v1, p: _range(v1, 11).batch(4).rebatch([3, 2], drop_remainder=True), None),
    "group_by_reducer": (lambda v1, p: _range(v1, 9).apply(v1.data.experimental.group_by_reducer(
        lambda x: x % 3, v1.data.experimental.Reducer(lambda k: (k * 10, v1.constant(0., v1.float32)),
                                                      lambda s, x: (s[0] + x, s[1] + 0.5),
                                                      lambda a, b: (a, b * 2.0)))), None),
    "experimental_unbatch": (lambda v1, p: v1.data.Dataset.from_tensor_slices(np.arange(8).reshape(2, 2, 2)).unbatch(),
                             lambda g: _retype(g, "UnbatchDataset", "ExperimentalUnbatchDataset")),
    "experimental_random": (lambda v1, p: v1.data.experimental.RandomDataset(4).take(6),
                            lambda g: _retype(g, "RandomDataset", "ExperimentalRandomDataset")),
    "model": (lambda v1, p: _raw(v1, "ModelDataset", _range(v1, 4)), None),
    "optimize": (lambda v1, p: _raw(v1, "OptimizeDataset", _range(v1, 4), optimizations=[]), None),
    "max_intra_op": (lambda v1, p: _raw(v1, "MaxIntraOpParallelismDataset", _range(v1, 4),
                                                      max_intra_op_parallelism=1), None),
    "private_thread_pool": (lambda v1, p: _raw(v1, "PrivateThreadPoolDataset", _range(v1, 4), num_threads=2), None),
    "thread_pool": (_thread_pool, None),
    "latency_stats": (lambda v1, p: _raw(v1, "LatencyStatsDataset", _range(v1, 4), tag="tag"), None),
    "bytes_produced_stats": (lambda v1, p: _raw(v1, "BytesProducedStatsDataset", _range(v1, 4), tag="tag"), None),
    "shuffle_v3_dummy_generator": (lambda v1, p: _raw(
        v1, "ShuffleDatasetV3", _range(v1, 9), buffer_size=4, seed=3, seed2=5,
        seed_generator=__import__("tensorflow").raw_ops.DummySeedGenerator()).repeat(3), None),
    "shuffle_v3_anonymous_generator": (lambda v1, p: _raw(
        v1, "ShuffleDatasetV3", _range(v1, 9), buffer_size=9, seed=1, seed2=2, reshuffle_each_iteration=False,
        seed_generator=__import__("tensorflow").raw_ops.AnonymousSeedGenerator(seed=1, seed2=2, reshuffle=False)[0]
    ).repeat(2), None),
    "shuffle_v2": (lambda v1, p: _raw(
        v1, "ShuffleDatasetV2", _range(v1, 8), buffer_size=3,
        seed_generator=__import__("tensorflow").raw_ops.AnonymousSeedGenerator(seed=4, seed2=6, reshuffle=True)[0]
    ).repeat(3), None),
    "shuffle_and_repeat_v2": (lambda v1, p: _raw(
        v1, "ShuffleAndRepeatDatasetV2", _range(v1, 7), buffer_size=3, seed=2, seed2=9, count=3,
        seed_generator=__import__("tensorflow").raw_ops.DummySeedGenerator()), None),
    "cache_v2": (lambda v1, p: _raw(
        v1, "CacheDatasetV2", _range(v1, 4), filename="",
        cache=__import__("tensorflow").raw_ops.AnonymousMemoryCache()[0]).repeat(2), None),
    "sparse_tensor_slices": (lambda v1, p: v1.data.Dataset.from_sparse_tensor_slices(v1.SparseTensor(
        [[0, 1, 0], [1, 0, 2], [1, 1, 1]], [b"a", b"b", b"c"], [3, 2, 3])), None),
    "random_v2": (lambda v1, p: __import__("tensorflow").data.experimental.from_variant(
        __import__("tensorflow").raw_ops.RandomDatasetV2(
            seed=5, seed2=7, seed_generator=__import__("tensorflow").raw_ops.DummySeedGenerator(),
            output_types=[v1.int64], output_shapes=[[]]), v1.TensorSpec([], v1.int64)).take(5), None),
    "assert_next": (lambda v1, p: _raw(v1, "AssertNextDataset", _range(v1, 4), transformations=[]), None),
    "set_stats_aggregator": (lambda v1, p: _raw(
        v1, "SetStatsAggregatorDataset", _range(v1, 4), tag="t", counter_prefix="c",
        stats_aggregator=__import__("tensorflow").raw_ops.StatsAggregatorHandleV2()), None),
    "optimize_v2": (lambda v1, p: _raw(v1, "OptimizeDatasetV2", _range(v1, 4), optimizations_enabled=[],
                                       optimizations_disabled=[], optimizations_default=[]), None),
    "csv": (lambda v1, p: v1.data.experimental.CsvDataset(p["csv"], [v1.constant([0], v1.int32), v1.string],
                                                          header=True), None),
}


def _tf_graph(name: str, paths: dict):
    """The pipeline's GraphDef as TF writes it (rewritten to older op types where the table says), the names
    of its initializer and get_next outputs, and TF's drain of the original graph."""
    v1 = oracle.tf1()
    build, rewrite = ROUND_TRIPS[name]
    graph = v1.Graph()
    with graph.as_default():
        it = v1.data.make_initializable_iterator(build(v1, paths))
        nxt = [t for t in __import__("tensorflow").nest.flatten(it.get_next(), expand_composites=True)]
        with v1.Session(graph=graph) as sess:
            sess.run(it.initializer)
            want = _drain(sess, nxt)
    graph_def = graph.as_graph_def()
    if rewrite is not None:
        graph_def = rewrite(graph_def)
    return graph_def.SerializeToString(), it.initializer.name, [t.name for t in nxt], want


def _components(values: list) -> list:
    """Fetched values as arrays; a SparseTensorValue as its (indices, values, dense_shape)."""
    out = []
    for v in values:
        out += [np.asarray(v.indices), np.asarray(v.values), np.asarray(v.dense_shape)] if hasattr(v, "indices") \
            else [np.asarray(v)]
    return out


def _drain(sess, fetches, limit: int = 200) -> list:
    out = []
    for _ in range(limit):
        try:
            out.append(_components(sess.run(fetches)))
        except Exception as e:  # both libraries' OutOfRangeError
            assert type(e).__name__ == "OutOfRangeError", e
            return out
    raise AssertionError("the dataset did not end")


@pytest.mark.parametrize("name", list(ROUND_TRIPS))
def test_imported_tf_pipeline_yields_tfs_elements(name, tmp_path):
    serialized, init, nxt, want = _tf_graph(name, _files(tmp_path))
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(tf.GraphDef.FromString(serialized), name="")
        with tf.Session(graph=graph) as sess:
            sess.run(graph.get_operation_by_name(init))
            got = _drain(sess, [graph.get_tensor_by_name(n) for n in nxt])
    assert len(got) == len(want), (name, len(got), len(want))
    for g, w in zip(got, want):
        oracle.assert_same_values(g, w, 1e-6, 0, name)


# ------------------------------------------------------------------------------------------------
# ops that are not datasets: reduce, single element, cardinality, Optionals, v1 iterators
# ------------------------------------------------------------------------------------------------
def _fetch_imported(build):
    """`build(v1)` -> fetches in TF; the same GraphDef imported into graphcompat: (graphcompat's, TF's) values."""
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        fetches = build(v1)
        names = [t.name for t in fetches]
        init = [op.name for op in graph.get_operations() if op.type == "MakeIterator"]
        with v1.Session(graph=graph) as sess:
            sess.run(init)
            want = [sess.run(names) for _ in range(3)]
    target = tf.Graph()
    with target.as_default():
        tf.import_graph_def(tf.GraphDef.FromString(graph.as_graph_def().SerializeToString()), name="")
        with tf.Session(graph=target) as sess:
            sess.run(init)
            got = [sess.run(names) for _ in range(3)]
    return got, want


def _optional_pipeline(v1):
    it = v1.data.make_initializable_iterator(v1.data.Dataset.range(2))
    opt = it.get_next_as_optional()
    return [opt.has_value()]


def _v1_iterator(v1):
    import tensorflow as real
    ds = v1.data.Dataset.range(3).map(lambda x: x * 7)
    handle = real.raw_ops.Iterator(shared_name="it", container="", output_types=[real.int64], output_shapes=[[]])
    real.raw_ops.MakeIterator(dataset=ds._variant_tensor, iterator=handle, name="MakeIterator")
    return [real.raw_ops.IteratorGetNextSync(iterator=handle, output_types=[real.int64], output_shapes=[[]])[0]]


def _string_handle_v1(v1):
    import tensorflow as real
    it = v1.data.make_initializable_iterator(v1.data.Dataset.range(5, 8))
    handle = real.raw_ops.IteratorFromStringHandle(string_handle=it.string_handle(), output_types=[real.int64],
                                                   output_shapes=[[]])
    return [real.raw_ops.IteratorGetNext(iterator=handle, output_types=[real.int64], output_shapes=[[]])[0]]


def _anonymous_iterator(v1):
    """TF 2's anonymous iterator: a new iterator each run, made, read and deleted in that run."""
    import tensorflow as real
    ds = v1.data.Dataset.range(4, 9)
    handle, deleter = real.raw_ops.AnonymousIteratorV2(output_types=[real.int64], output_shapes=[[]])
    make = real.raw_ops.MakeIterator(dataset=ds._variant_tensor, iterator=handle)
    with v1.control_dependencies([make]):
        first = real.raw_ops.IteratorGetNext(iterator=handle, output_types=[real.int64], output_shapes=[[]])[0]
    with v1.control_dependencies([first]):
        done = real.raw_ops.DeleteIterator(handle=handle, deleter=deleter)
    with v1.control_dependencies([done]):
        return [v1.identity(first)]


TENSOR_OPS = {
    "anonymous_iterator": _anonymous_iterator,
    "reduce": lambda v1: [v1.data.Dataset.range(10).reduce(np.int64(0), _add)],
    "reduce_structure": lambda v1: list(v1.data.Dataset.range(5).map(lambda x: (x, v1.cast(x, v1.float32))).reduce(
        (np.int64(1), np.float32(0)), _product_and_sum)),
    "reduce_growing_state": lambda v1: [v1.data.Dataset.range(4).reduce(
        v1.constant([], v1.int64), _appender(v1))],
    "single_element": lambda v1: list(v1.data.experimental.get_single_element(
        v1.data.Dataset.from_tensors((np.int32(3), b"s")))),
    "cardinality": lambda v1: [v1.data.experimental.cardinality(v1.data.Dataset.range(10).batch(3)),
                               v1.data.experimental.cardinality(v1.data.Dataset.range(3).repeat()),
                               v1.data.experimental.cardinality(v1.data.Dataset.range(3).filter(lambda x: x > 0))],
    "optional_from_value": lambda v1: [v1.data.experimental.Optional.from_value(np.float32(2.5)).get_value(),
                                       v1.data.experimental.Optional.from_value(1).has_value()],
    "get_next_as_optional": _optional_pipeline,
    "iterator_v1_get_next_sync": _v1_iterator,
    "iterator_from_string_handle_v1": _string_handle_v1,
}


@pytest.mark.parametrize("name", list(TENSOR_OPS))
def test_imported_tensor_ops_compute_tfs_values(name):
    try:
        got, want = _fetch_imported(TENSOR_OPS[name])
    except Exception as e:  # the run's end: both must end at the same fetch
        assert type(e).__name__ == "OutOfRangeError", e
        return
    for g, w in zip(got, want):
        oracle.assert_same_values(g, w, 1e-6, 0, name)


def test_get_next_as_optional_ends_without_error():
    """get_next_as_optional past the end: has_value False (no OutOfRangeError), as TF's."""
    for lib in (oracle.tf1(), tf):
        with lib.Graph().as_default():
            it = lib.data.make_initializable_iterator(lib.data.Dataset.range(2))
            opt = it.get_next_as_optional()
            has, value = opt.has_value(), opt.get_value()
            with lib.Session() as sess:
                sess.run(it.initializer)
                assert [int(v) for v in (sess.run(value), sess.run(value))] == [0, 1]
                assert [bool(sess.run(has)) for _ in range(2)] == [False, False]
                with pytest.raises(lib.errors.InvalidArgumentError, match="does not have a value"):
                    sess.run(value)


# ------------------------------------------------------------------------------------------------
# graphcompat's builders record TF's op types
# ------------------------------------------------------------------------------------------------
# group_by_reducer's functions, named: the library's functions are compared by name
def _parity(x):
    return x % 2


def _start(t):
    def start(k):
        return k, t.constant(1, t.int64)
    return start


def _step(s, x):
    return s[0] + x, s[1] * 2


def _product(a, b):
    return a * b


BUILDERS = {
    "map_and_batch": lambda t: t.data.Dataset.range(10).apply(t.data.experimental.map_and_batch(lambda x: x * 2, 3)),
    "map_and_batch_parallel_batches": lambda t: t.data.Dataset.range(10).apply(t.data.experimental.map_and_batch(
        lambda x: (x, x + 1), 4, num_parallel_batches=2, drop_remainder=True)),
    "map_and_batch_over_shuffle": lambda t: t.data.Dataset.range(10).shuffle(4, seed=2).apply(
        t.data.experimental.map_and_batch(lambda x: x * 3, 4)).repeat(2),
    "shuffle_and_repeat": lambda t: t.data.Dataset.range(10).apply(t.data.experimental.shuffle_and_repeat(4, 2,
                                                                                                          seed=5)),
    "shuffle_and_repeat_forever_batch": lambda t: t.data.Dataset.range(7).apply(
        t.data.experimental.shuffle_and_repeat(3, seed=2)).batch(4).take(9),
    "shuffle_and_repeat_fixed_seed_map": lambda t: t.data.Dataset.range(6).map(lambda x: x * 3).apply(
        t.data.experimental.shuffle_and_repeat(6, 3, seed=8)),
    "ignore_errors": lambda t: t.data.Dataset.range(4).apply(t.data.experimental.ignore_errors()),
    "rebatch": lambda t: t.data.Dataset.range(9).batch(4).rebatch([3, 2]),
    "group_by_reducer": lambda t: t.data.Dataset.range(7).apply(t.data.experimental.group_by_reducer(
        _parity, t.data.experimental.Reducer(_start(t), _step, _product))),
    "unique": lambda t: t.data.Dataset.from_tensor_slices([1, 1, 2]).apply(t.data.experimental.unique()),
    "dense_to_sparse_batch": lambda t: t.data.Dataset.range(1, 5).map(lambda x: t.fill([x], x)).apply(
        t.data.experimental.dense_to_sparse_batch(2, [None])),
    "assert_cardinality": lambda t: t.data.Dataset.range(3).apply(t.data.experimental.assert_cardinality(3)),
    "sparse_tensor_slices": lambda t: t.data.Dataset.from_sparse_tensor_slices(t.SparseTensor(
        [[0, 0], [2, 2], [2, 3]], [1., 2., 3.], [4, 5])),
    "sparse_tensor_slices_batch": lambda t: t.data.Dataset.from_sparse_tensor_slices(t.SparseTensor(
        [[0], [2]], [3, 4], [3])).map(lambda i, v, s: v).padded_batch(2, [None]),
    "csv": lambda t: t.data.experimental.CsvDataset(_PATHS["csv"], [t.constant([0], t.int32), t.string, t.float32],
                                                    header=True, select_cols=[0, 1, 3]),
}
_PATHS: dict = {}  # set by the test (tmp_path files)


def _op_types(graph_def) -> tuple:
    top = {n.op for n in graph_def.node}
    # graphcompat's dataset functions return their outputs without TF's Identity nodes (as before this file)
    library = {re.sub(r"_\d+$", "", f.signature.name): sorted(n.op for n in f.node_def if n.op != "Identity")
               for f in graph_def.library.function if not f.signature.name.startswith("_make_dataset")}
    return top, library


@pytest.mark.parametrize("name", list(BUILDERS))
def test_builders_record_tfs_op_types(name, tmp_path):
    v1 = oracle.tf1()
    csv = tmp_path / "b.csv"
    csv.write_bytes(b"i,s,skip,f\n1,a,x,0.5\n,\"b,c\",y,2\n")
    _PATHS["csv"] = str(csv)
    results = []
    for lib in (tf, v1):
        graph = lib.Graph()
        with graph.as_default():
            it = lib.data.make_initializable_iterator(BUILDERS[name](lib))
            nxt = [t for t in __import__("tensorflow").nest.flatten(it.get_next())]
            with lib.Session(graph=graph) as sess:
                sess.run(it.initializer)
                elements = _drain(sess, nxt)
        results.append((_op_types(graph.as_graph_def()), elements))
    (got_types, got), (want_types, want) = results
    # graphcompat's SparseTensor element is three components where TF's is a variant it deserializes
    want_types[0].discard("DeserializeSparse")
    assert got_types == want_types
    assert len(got) == len(want)
    for g, w in zip(got, want):
        oracle.assert_same_values(g, w, 1e-6, 0, name)


TENSOR_BUILDERS = {
    "reduce": lambda t: [t.data.Dataset.range(6).reduce(np.int64(0), _add_square)],
    "reduce_tuple_element": lambda t: list(t.data.Dataset.range(4).map(lambda x: (x, x * 2)).reduce(
        (np.int64(0), np.int64(0)), _pair_sums)),
    "reduce_growing_state": lambda t: [t.data.Dataset.range(4).reduce(
        t.constant([], t.int64), _appender(t))],
    "get_single_element": lambda t: [t.data.experimental.get_single_element(t.data.Dataset.from_tensors(
        np.arange(3.0, dtype=np.float32)))],
    "cardinality": lambda t: [t.data.experimental.cardinality(t.data.Dataset.range(7).batch(2))],
    "optional": lambda t: [t.data.experimental.Optional.from_value(np.int32(4)).get_value()],
}


@pytest.mark.parametrize("name", list(TENSOR_BUILDERS))
def test_tensor_builders_record_tfs_op_types(name):
    v1 = oracle.tf1()
    results = []
    for lib in (tf, v1):
        graph = lib.Graph()
        with graph.as_default():
            fetches = TENSOR_BUILDERS[name](lib)
            with lib.Session(graph=graph) as sess:
                values = sess.run(fetches)
        results.append((_op_types(graph.as_graph_def()), values, [t.shape.as_list() for t in fetches]))
    assert results[0][0] == results[1][0]
    assert results[0][2] == results[1][2]
    oracle.assert_same_values(results[0][1], results[1][1], 1e-6, 0, name)


@pytest.mark.parametrize("name", ["map_and_batch", "map_and_batch_over_shuffle", "shuffle_and_repeat",
                                  "shuffle_and_repeat_forever_batch",
                                  "shuffle_and_repeat_fixed_seed_map"])
def test_in_memory_builders_walk_on_the_device(name):
    """map_and_batch and shuffle_and_repeat over in-memory inputs keep the device walk of map + batch and
    shuffle + repeat (the elements are TF's: test_builders_record_tfs_op_types), and the host walk agrees."""
    from lowering.data import device_plan, node_of
    runs = []
    with tf.Graph().as_default():
        ds = BUILDERS[name](tf)
        assert device_plan(node_of(ds._variant.op)).ok
        for it in (ds.make_initializable_iterator(), tf.data.Iterator.from_structure(ds.output_types,
                                                                                     ds.output_shapes)):
            init = it.initializer if it._initializer is not None else it.make_initializer(ds)
            nxt = it.get_next()
            with tf.Session() as sess:
                sess.run(init)
                runs.append([[v.tolist() for v in e] for e in _drain(sess, [nxt])])
    assert runs[0] == runs[1]


def test_map_and_batch_walks_on_the_device():
    from lowering.data import device_plan, node_of
    with tf.Graph().as_default():
        ds = tf.data.Dataset.range(10).apply(tf.data.experimental.map_and_batch(lambda x: x * 2, 3))
        assert device_plan(node_of(ds._variant.op)).ok
        it = ds.make_initializable_iterator()
        nxt = it.get_next()
        with tf.Session() as sess:
            sess.run(it.initializer)
            got = _drain(sess, [nxt])
    assert [g[0].tolist() for g in got] == [[0, 2, 4], [6, 8, 10], [12, 14, 16], [18]]


# ------------------------------------------------------------------------------------------------
# bad input: TF's errors
# ------------------------------------------------------------------------------------------------
def _run_error(lib, build, init: bool = True):
    with lib.Graph().as_default():
        fetch = build(lib)
        with lib.Session() as sess:
            try:
                if init:
                    sess.run([op for op in lib.get_default_graph().get_operations() if op.type == "MakeIterator"])
                for _ in range(20):
                    sess.run(fetch)
            except Exception as e:  # noqa: BLE001
                return type(e).__name__, _message(e)
    return None


def _message(e) -> str:
    """The error's own text: TF's graph errors end with it, before the `[[{{node ...}}]]` line."""
    text = getattr(e, "message", None) or str(e)
    lines = [line for line in re.split(r"\s*\[\[\{\{node", text)[0].split("\n") if line.strip()]
    return lines[-1].strip()


def _first(lib, ds):
    return lib.data.make_initializable_iterator(ds).get_next()


RUN_ERRORS = {
    "single_element_of_two": lambda t: t.data.experimental.get_single_element(t.data.Dataset.range(2)),
    "single_element_of_none": lambda t: t.data.experimental.get_single_element(t.data.Dataset.range(0)),
    "map_and_batch_zero": lambda t: _first(t, t.data.Dataset.range(3).apply(t.data.experimental.map_and_batch(
        lambda x: x, t.placeholder_with_default(np.int64(0), [])))),
    "shuffle_and_repeat_count": lambda t: _first(t, t.data.Dataset.range(3).apply(
        t.data.experimental.shuffle_and_repeat(2, t.placeholder_with_default(np.int64(-3), [])))),
    "optional_none": lambda t: t.data.experimental.Optional.empty(t.TensorSpec([], t.int32)).get_value(),
    "assert_cardinality_more": lambda t: _first(t, t.data.Dataset.range(5).apply(
        t.data.experimental.assert_cardinality(3))),
    "assert_cardinality_fewer": lambda t: _first(t, t.data.Dataset.range(2).apply(
        t.data.experimental.assert_cardinality(3))),
    "dense_to_sparse_rank": lambda t: _first(t, t.data.Dataset.range(3).map(lambda x: t.fill([2, 2], x)).apply(
        t.data.experimental.dense_to_sparse_batch(2, [3]))),
    "dense_to_sparse_larger": lambda t: _first(t, t.data.Dataset.range(3).map(lambda x: t.fill([x + 2], x)).apply(
        t.data.experimental.dense_to_sparse_batch(2, [3]))),
}


@pytest.mark.parametrize("name", list(RUN_ERRORS))
def test_run_errors_are_tfs(name):
    want = _run_error(oracle.tf1(), RUN_ERRORS[name])
    got = _run_error(tf, RUN_ERRORS[name])
    assert want is not None
    assert got == want


def _words(v1, words):
    return v1.data.Dataset.from_tensor_slices(words).map(v1.strings.to_number)


def _sliding_over(v1, ds, size, shift, stride=1, drop=True):
    import tensorflow as real
    spec = ds.element_spec
    variant = real.raw_ops.SlidingWindowDataset(input_dataset=ds._variant_tensor, window_size=size,
                                                window_shift=shift, window_stride=stride, drop_remainder=drop,
                                                output_types=[spec.dtype],
                                                output_shapes=[[None] + spec.shape.as_list()])
    return real.data.experimental.from_variant(variant, real.TensorSpec([None] + spec.shape.as_list(), spec.dtype))


# imported pipelines with elements that fail: TF's iterator returns the error and goes on with the next element
FAILING_IMPORTED = {
    # a failed element while the buffer fills is not buffered: the next GetNext fills on
    "sliding_window_fill": lambda v1: _sliding_over(v1, _words(v1, ["1", "x", "2", "3", "y", "4", "5"]), 3, 2),
    "sliding_window_stride": lambda v1: _sliding_over(v1, _words(v1, ["1", "2", "x", "3", "4", "5", "6"]), 2, 1, 2),
    "sliding_window_partial": lambda v1: _sliding_over(v1, _words(v1, ["1", "2", "3", "x", "4"]), 3, 2, drop=False),
    # one while the elements between windows are skipped loses the window; the next GetNext builds it again
    "sliding_window_skip": lambda v1: _sliding_over(
        v1, _words(v1, ["1", "2", "x", "3", "4", "5", "y", "6", "7", "8", "9"]), 2, 4),
    "sliding_window_skip_end": lambda v1: _sliding_over(v1, _words(v1, ["1", "2", "3", "x"]), 2, 4, drop=False),
    # a window of differently shaped elements is an element's error too
    "sliding_window_shapes": lambda v1: _sliding_over(v1, v1.data.Dataset.range(5).map(
        lambda x: v1.fill(v1.stack([1 + x // 2]), x)), 2, 1),
    "sliding_window_ignore_errors": lambda v1: _sliding_over(
        v1, _words(v1, ["1", "x", "2", "3", "4", "y", "5"]), 2, 3).apply(v1.data.experimental.ignore_errors()),
}


def _outcomes(lib, graph, init: str, nxt: list, runs: int = 12) -> list:
    from tests._bad_input_sweep import kernel_text
    out = []
    with lib.Session(graph=graph) as sess:
        sess.run(graph.get_operation_by_name(init) if isinstance(init, str) else init)
        for _ in range(runs):
            try:
                out.append(("values", [np.asarray(v).tolist() for v in sess.run(nxt)]))
            except lib.errors.OpError as e:
                out.append((type(e).__name__, kernel_text(e.message)))
                if isinstance(e, lib.errors.OutOfRangeError):
                    break
    return out


@pytest.mark.parametrize("name", list(FAILING_IMPORTED))
def test_imported_pipeline_goes_on_after_a_failed_element_as_tf(name):
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        it = v1.data.make_initializable_iterator(FAILING_IMPORTED[name](v1))
        nxt = [it.get_next()]
    want = _outcomes(v1, graph, it.initializer.name, [t.name for t in nxt])
    assert want[-1][0] == "OutOfRangeError"
    assert "ignore_errors" in name or any(w[0] == "InvalidArgumentError" for w in want)
    mine = tf.Graph()
    with mine.as_default():
        tf.import_graph_def(tf.GraphDef.FromString(graph.as_graph_def().SerializeToString()), name="")
    assert _outcomes(tf, mine, it.initializer.name, [t.name for t in nxt]) == want


BUILD_ERRORS = {
    "reduce_state_type": lambda t: t.data.Dataset.range(3).reduce(np.int32(0), _replace),
    "reduce_state_float_for_int": lambda t: t.data.Dataset.range(3).reduce(np.int64(0), _float_sum(t)),
    "unique_float": lambda t: t.data.Dataset.range(3).map(lambda x: t.cast(x, t.float32)).apply(
        t.data.experimental.unique()),
    "rebatch_scalars": lambda t: t.data.Dataset.range(3).rebatch(2),
    "rebatch_scalars_drop": lambda t: t.data.Dataset.range(3).rebatch(2, drop_remainder=True),
    "rebatch_sizes_rank": lambda t: t.data.Dataset.range(3).batch(2).rebatch([[1, 2]]),
    "group_by_reducer_key_type": lambda t: t.data.Dataset.range(3).apply(t.data.experimental.group_by_reducer(
        lambda x: t.cast(x, t.int32), t.data.experimental.Reducer(lambda k: k, lambda s, x: s, lambda s: s))),
    "group_by_reducer_state_type": lambda t: t.data.Dataset.range(3).apply(t.data.experimental.group_by_reducer(
        lambda x: x, t.data.experimental.Reducer(lambda k: k, lambda s, x: t.cast(s, t.int32), lambda s: s))),
    "map_and_batch_both_parallel_args": lambda t: t.data.Dataset.range(3).apply(t.data.experimental.map_and_batch(
        lambda x: x, 2, num_parallel_batches=1, num_parallel_calls=2)),
}


@pytest.mark.parametrize("name", list(BUILD_ERRORS))
def test_build_errors_are_tfs(name):
    results = []
    for lib in (oracle.tf1(), tf):
        with lib.Graph().as_default():
            with pytest.raises(Exception) as info:
                BUILD_ERRORS[name](lib)
        results.append((type(info.value).__name__, _message(info.value)))
    assert results[0][0] == results[1][0], results
    assert results[0][1] == results[1][1], results


def test_ignore_errors_refuses_errors_it_cannot_skip(tmp_path):
    """A host walk's input ends when it raises: ignore_errors skips the failed elements of the nodes that pass
    them on (tests/test_data_oracle.py), and raises NotImplementedError (never ends early) for an error from
    a node whose walk ends at one (here a file reader's missing file)."""
    path = tmp_path / "a.txt"
    path.write_text("1\n")
    with tf.Graph().as_default():
        ds = tf.data.TextLineDataset([str(path), str(tmp_path / "missing.txt"), str(path)]).apply(
            tf.data.experimental.ignore_errors())
        nxt = ds.make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            assert sess.run(nxt) == b"1"
            with pytest.raises(NotImplementedError, match="ignore_errors"):
                sess.run(nxt)


def test_ignore_errors_skips_a_scan_functions_error():
    """A scan passes its function's error on as a failed element (the state unchanged): ignore_errors drops it."""
    with tf.Graph().as_default():
        ds = tf.data.Dataset.from_tensor_slices([1., 0., 2.]).apply(tf.data.experimental.scan(
            tf.constant(0.), lambda s, x: (s, tf.check_numerics(1. / x, "bad")))).apply(
            tf.data.experimental.ignore_errors())
        nxt = ds.make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            assert [sess.run(nxt) for _ in range(2)] == [1., .5]
            with pytest.raises(tf.errors.OutOfRangeError):
                sess.run(nxt)


def test_sloppy_parallel_interleave_is_refused():
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        ds = v1.data.Dataset.range(3).apply(v1.data.experimental.parallel_interleave(
            lambda x: v1.data.Dataset.from_tensors(x), 2, sloppy=True))
        it = v1.data.make_initializable_iterator(ds)
        it.get_next()
    graph_def = _retype(graph.as_graph_def(), "LegacyParallelInterleaveDatasetV2", "ParallelInterleaveDataset",
                        lambda data, gd: data[:-2] + [_const(gd, "sloppy", True, "bool")] + data[-2:])
    target = tf.Graph()
    with target.as_default():
        tf.import_graph_def(tf.GraphDef.FromString(graph_def.SerializeToString()), name="")
        with tf.Session() as sess, pytest.raises(NotImplementedError, match="sloppy"):
            sess.run(target.get_operation_by_name(it.initializer.name))


NODE_BUILDERS = {
    "map_and_batch": lambda t: t.data.make_initializable_iterator(t.data.Dataset.range(10).apply(
        t.data.experimental.map_and_batch(lambda x: x * 2, 3))).get_next(),
    "shuffle_and_repeat": lambda t: t.data.make_initializable_iterator(t.data.Dataset.range(10).apply(
        t.data.experimental.shuffle_and_repeat(4, 2, seed=5))).get_next(),
    "ignore_errors": lambda t: t.data.make_initializable_iterator(t.data.Dataset.range(3).apply(
        t.data.experimental.ignore_errors())).get_next(),
    "unique": lambda t: t.data.make_initializable_iterator(t.data.Dataset.range(3).apply(
        t.data.experimental.unique())).get_next(),
    "assert_cardinality": lambda t: t.data.make_initializable_iterator(t.data.Dataset.range(3).apply(
        t.data.experimental.assert_cardinality(3))).get_next(),
    "cardinality": lambda t: t.data.experimental.cardinality(t.data.Dataset.range(10)),
    "sparse_tensor_slices": lambda t: t.data.make_initializable_iterator(t.data.Dataset.from_sparse_tensor_slices(
        t.SparseTensor([[0, 0], [1, 2]], [1., 2.], [3, 4]))).get_next(),
    "get_single_element": lambda t: t.data.experimental.get_single_element(t.data.Dataset.from_tensors(1)),
    "reduce": lambda t: t.data.Dataset.range(10).reduce(np.int64(0), _add),
    "get_next_as_optional": lambda t: t.data.make_initializable_iterator(
        t.data.Dataset.range(3)).get_next_as_optional().get_value(),
    "optional_from_value": lambda t: t.data.experimental.Optional.from_value(3).has_value(),
    "csv": lambda t: t.data.make_initializable_iterator(t.data.experimental.CsvDataset(
        "x.csv", [t.int32, t.constant(["a"])])).get_next(),
}


@pytest.mark.parametrize("name", list(NODE_BUILDERS))
def test_builder_nodes_match_tf(name):
    """The top-level nodes graphcompat's builders record are TF's: names, op types, inputs, attrs."""
    from tests.test_data_graphdef import _nodes
    v1 = oracle.tf1()
    defs = []
    for lib in (tf, v1):
        graph = lib.Graph()
        with graph.as_default():
            NODE_BUILDERS[name](lib)
        defs.append(_nodes(v1.GraphDef.FromString(graph.as_graph_def().SerializeToString())))
    assert defs[0] == defs[1]


def test_checkpointable_iterator_ops_are_named_on_import():
    """SerializeIterator (make_saveable_from_iterator) is not supported: the import names it."""
    import tensorflow as real
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        it = v1.data.make_initializable_iterator(v1.data.Dataset.range(3))
        real.raw_ops.SerializeIterator(resource_handle=it._iterator_resource, name="serialized")
    target = tf.Graph()
    with target.as_default():
        with pytest.raises(tf.errors.NotFoundError, match="SerializeIterator"):
            tf.import_graph_def(tf.GraphDef.FromString(graph.as_graph_def().SerializeToString()), name="")


CARDINALITIES = {
    "unique_infinite": lambda t: t.data.Dataset.range(3).repeat().apply(t.data.experimental.unique()),
    "unique": lambda t: t.data.Dataset.range(3).apply(t.data.experimental.unique()),
    "ignore_errors_infinite": lambda t: t.data.Dataset.range(3).repeat().apply(t.data.experimental.ignore_errors()),
    "dense_to_sparse_batch": lambda t: t.data.Dataset.range(3).map(lambda x: t.fill([x], x)).apply(
        t.data.experimental.dense_to_sparse_batch(2, [None])),
    "map_and_batch": lambda t: t.data.Dataset.range(3).apply(t.data.experimental.map_and_batch(lambda x: x, 2)),
    "shuffle_and_repeat": lambda t: t.data.Dataset.range(3).apply(t.data.experimental.shuffle_and_repeat(2, 3)),
    "shuffle_and_repeat_forever": lambda t: t.data.Dataset.range(3).apply(t.data.experimental.shuffle_and_repeat(2)),
    "assert_cardinality": lambda t: t.data.Dataset.range(3).apply(t.data.experimental.assert_cardinality(3)),
    "sparse_tensor_slices": lambda t: t.data.Dataset.from_sparse_tensor_slices(t.SparseTensor([[0, 0]], [1.], [4, 5])),
    "map": lambda t: t.data.Dataset.range(5).map(lambda x: x + 1),
    "map_parallel": lambda t: t.data.Dataset.range(5).map(lambda x: x + 1, num_parallel_calls=2),
    "map_repeat_forever": lambda t: t.data.Dataset.range(5).map(lambda x: x + 1).repeat(),
    "filter_repeat_forever": lambda t: t.data.Dataset.range(5).filter(lambda x: x > 1).repeat(),
    "filter_repeat_twice": lambda t: t.data.Dataset.range(5).filter(lambda x: x > 1).repeat(2),
    "padded_batch_no_map": lambda t: t.data.Dataset.range(5).padded_batch(2, []),
    "padded_batch": lambda t: t.data.Dataset.range(5).map(lambda x: t.fill([x], x)).padded_batch(2, [None]),
    "padded_batch_drop": lambda t: t.data.Dataset.range(5).map(lambda x: t.fill([x], x)).padded_batch(
        2, [None], drop_remainder=True),
}


@pytest.mark.parametrize("name", list(CARDINALITIES))
def test_cardinality_like_tf(name):
    values = []
    for lib in (oracle.tf1(), tf):
        with lib.Graph().as_default():
            cardinality = lib.data.experimental.cardinality(CARDINALITIES[name](lib))
            with lib.Session() as sess:
                values.append(int(sess.run(cardinality)))
    assert values[1] == values[0]
