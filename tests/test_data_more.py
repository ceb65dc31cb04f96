"""tf.data's window, shard, take_while, scan, group_by_window, bucket_by_sequence_length, choose_from_datasets
and Counter against real TensorFlow: elements, dtypes and static shapes; TF's errors; TF's op vocabulary
(a graphcompat GraphDef runs in TF with the same elements)."""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat
from tests import oracle

pytestmark = pytest.mark.oracle


def _ragged(tf):
    return tf.data.Dataset.range(1, 8).map(lambda x: tf.fill([x], x))


def _choices(tf, values):
    return tf.data.Dataset.from_tensor_slices(tf.constant(values, tf.int64))


CASES = {
    "window_drop": lambda tf: tf.data.Dataset.range(7).window(3, shift=2, drop_remainder=True).flat_map(
        lambda w: w.batch(3)),
    "window_partial": lambda tf: tf.data.Dataset.range(7).window(3, shift=2).flat_map(lambda w: w.batch(3)),
    "window_stride": lambda tf: tf.data.Dataset.range(10).window(3, shift=1, stride=2).flat_map(
        lambda w: w.batch(3)),
    "window_shift_past_size": lambda tf: tf.data.Dataset.range(10).window(2, shift=4).flat_map(
        lambda w: w.batch(2)),
    "window_tuple": lambda tf: tf.data.Dataset.from_tensor_slices(
        (np.arange(5, dtype=np.int32), np.arange(10, dtype=np.float32).reshape(5, 2))).window(2).flat_map(
        lambda a, b: tf.data.Dataset.zip((a.batch(2), b.batch(2)))),
    "window_map_inside": lambda tf: tf.data.Dataset.range(6).window(2).flat_map(lambda w: w.map(lambda x: x * 10)),
    "window_capture": lambda tf: tf.data.Dataset.range(6).window(4, 3).flat_map(
        lambda w: w.batch(tf.constant(2, tf.int64))),
    "shard": lambda tf: tf.data.Dataset.range(10).shard(3, 1),
    "shard_last": lambda tf: tf.data.Dataset.range(10).shard(3, 2).batch(2),
    "scan": lambda tf: tf.data.Dataset.range(5).apply(tf.data.experimental.scan(
        tf.constant(0, tf.int64), lambda s, x: (s + x, s * 2))),
    "scan_structured": lambda tf: tf.data.Dataset.from_tensor_slices(np.arange(4, dtype=np.float32)).apply(
        tf.data.experimental.scan((tf.constant(1.0), tf.constant(0, tf.int32)),
                                  lambda s, x: ((s[0] * 2.0 + x, s[1] + 1), {"v": x + s[0], "n": s[1]}))),
    "scan_method_capture": lambda tf: tf.data.Dataset.range(4).scan(
        tf.constant([0, 0], tf.int64), lambda s, x: (s + tf.stack([x, tf.constant(1, tf.int64)]), s)),
    "take_while": lambda tf: tf.data.Dataset.range(10).apply(tf.data.experimental.take_while(lambda x: x < 4)),
    "take_while_none": lambda tf: tf.data.Dataset.range(10).take_while(lambda x: x > 4),
    "counter": lambda tf: tf.data.experimental.Counter().take(3),
    "counter_start_step": lambda tf: tf.data.experimental.Counter(5, -2, tf.int32).take(4),
    "group_by_window": lambda tf: tf.data.Dataset.range(10).apply(tf.data.experimental.group_by_window(
        lambda x: x % 2, lambda k, w: w.batch(3), window_size=3)),
    "group_by_window_keys_sorted": lambda tf: tf.data.Dataset.range(9).apply(tf.data.experimental.group_by_window(
        lambda x: (8 - x) % 3, lambda k, w: w.batch(5).map(lambda b: (k, b)), window_size=5)),
    "group_by_window_size_func": lambda tf: tf.data.Dataset.range(12).apply(tf.data.experimental.group_by_window(
        lambda x: x % 3, lambda k, w: w.batch(4), window_size_func=lambda k: k + 1)),
    "bucket_by_sequence_length": lambda tf: _ragged(tf).apply(tf.data.experimental.bucket_by_sequence_length(
        lambda x: tf.shape(x)[0], [3, 5], [2, 2, 2])),
    "bucket_tuple": lambda tf: tf.data.Dataset.range(1, 9).map(lambda x: (tf.fill([x], x), x * 10)).apply(
        tf.data.experimental.bucket_by_sequence_length(lambda a, b: tf.shape(a)[0], [4], [2, 3])),
    "bucket_no_padding": lambda tf: tf.data.Dataset.range(10).map(lambda x: tf.fill([2], x)).apply(
        tf.data.experimental.bucket_by_sequence_length(lambda x: tf.cast(x[0] % 4, tf.int32), [2], [3, 2],
                                                       no_padding=True)),
    "bucket_padded_drop": lambda tf: _ragged(tf).apply(tf.data.experimental.bucket_by_sequence_length(
        lambda x: tf.shape(x)[0], [4], [2, 2], padded_shapes=[8], padding_values=tf.constant(-1, tf.int64),
        drop_remainder=True)),
    "choose_from_datasets": lambda tf: tf.data.experimental.choose_from_datasets(
        [tf.data.Dataset.range(3), tf.data.Dataset.range(10, 13)], _choices(tf, [0, 1, 1, 0, 0])),
    "choose_exhausted_skipped": lambda tf: tf.data.experimental.choose_from_datasets(
        [tf.data.Dataset.range(2), tf.data.Dataset.range(10, 13)], _choices(tf, [0, 0, 0, 1, 0, 1])),
    "enumerate": lambda tf: tf.data.Dataset.range(3).enumerate(5),
    "random": lambda tf: tf.data.experimental.RandomDataset(seed=3).take(9),
    "random_graph_seed": lambda tf: (tf.set_random_seed(5), tf.data.Dataset.random().take(5).batch(2))[1],
    "sample_weights": lambda tf: tf.data.experimental.sample_from_datasets(
        [tf.data.Dataset.range(5), tf.data.Dataset.range(10, 15)], [0.2, 0.8], seed=11),
    "sample_uniform": lambda tf: tf.data.experimental.sample_from_datasets(
        [tf.data.Dataset.range(5), tf.data.Dataset.range(10, 15), tf.data.Dataset.range(20, 25)], seed=7),
    "sample_zero_weight_dropped": lambda tf: tf.data.experimental.sample_from_datasets(
        [tf.data.Dataset.range(4), tf.data.Dataset.range(10, 14), tf.data.Dataset.range(20, 24)],
        [0.5, 0.0, 0.5], seed=2),
    "sample_tensor_weights_f64": lambda tf: tf.data.experimental.sample_from_datasets(
        [tf.data.Dataset.range(6), tf.data.Dataset.range(10, 16)], tf.constant([0.3, 0.7], tf.float64), seed=4),
    "sample_dataset_weights": lambda tf: tf.data.experimental.sample_from_datasets(
        [tf.data.Dataset.range(6), tf.data.Dataset.range(10, 16)],
        tf.data.Dataset.from_tensor_slices(np.array([[0.9, 0.1], [0.1, 0.9]] * 6, np.float32)), seed=9),
    "sample_stop_on_empty": lambda tf: tf.data.Dataset.sample_from_datasets(
        [tf.data.Dataset.range(2), tf.data.Dataset.range(10, 20)], seed=1, stop_on_empty_dataset=True),
}


def drain(tf, build):
    graph = tf.Graph()
    with graph.as_default():
        ds = build(tf)
        nxt = tf.data.make_one_shot_iterator(ds).get_next()
        flat = tf.nest.flatten(nxt)
        static = [(t.dtype.name, t.shape.as_list() if t.shape.ndims is not None else None) for t in flat]
        out = []
        with tf.Session(graph=graph) as sess:
            for _ in range(100):
                try:
                    out.append([np.asarray(v) for v in sess.run(flat)])
                except tf.errors.OutOfRangeError:
                    return out, static
    raise AssertionError("the dataset did not end")


@pytest.mark.parametrize("name", list(CASES))
def test_against_tf(name):
    v1 = oracle.tf1()
    want, want_static = drain(v1, CASES[name])
    got, got_static = drain(graphcompat, CASES[name])
    assert got_static == want_static
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want):
        oracle.assert_same_values(g, w, 1e-6, 0, name)


def test_window_specs_like_tf():
    """A window's components are DatasetSpecs in every legacy view, as TF's."""
    v1 = oracle.tf1()
    views = []
    for lib in (v1, graphcompat):
        with lib.Graph().as_default():
            ds = lib.data.Dataset.from_tensor_slices((lib.range(5), lib.zeros([5, 2]))).window(2)
            views.append([repr(ds.output_types), repr(ds.output_shapes), repr(ds.output_classes),
                          repr(ds.element_spec)])
    assert views[1] == views[0]


def test_window_get_next_is_a_dataset():
    """get_next() of a window dataset returns a dataset (TF's `_VariantDataset`), which cannot be fetched."""
    v1 = oracle.tf1()
    reprs = []
    for lib in (v1, graphcompat):
        with lib.Graph().as_default():
            nxt = lib.data.make_one_shot_iterator(lib.data.Dataset.range(5).window(2)).get_next()
            reprs.append(repr(nxt))
            with lib.Session() as sess:
                with pytest.raises(TypeError, match="Can not convert a _VariantDataset into a Tensor or Operation"):
                    sess.run(nxt)
    assert reprs[1] == reprs[0]


CARDINALITY = {
    "window_drop": lambda tf: tf.data.Dataset.range(7).window(3, 2, drop_remainder=True),
    "window_partial": lambda tf: tf.data.Dataset.range(7).window(3, 2),
    "window_stride": lambda tf: tf.data.Dataset.range(10).window(3, 1, 2, True),
    "window_too_short": lambda tf: tf.data.Dataset.range(2).window(3, drop_remainder=True),
    "window_infinite": lambda tf: tf.data.Dataset.range(7).repeat().window(3),
    "random": lambda tf: tf.data.experimental.RandomDataset(1),
    "shard": lambda tf: tf.data.Dataset.range(10).shard(3, 1),
    "shard_infinite": lambda tf: tf.data.Dataset.range(7).repeat().shard(2, 1),
    "scan": lambda tf: tf.data.Dataset.range(4).scan(tf.constant(0, tf.int64), lambda s, x: (s + x, s)),
    "take_while": lambda tf: tf.data.Dataset.range(7).repeat().take_while(lambda x: x < 3),
    "group_by_window_infinite": lambda tf: tf.data.Dataset.range(7).repeat().group_by_window(
        lambda x: x % 2, lambda k, w: w.batch(2), 2),
    "group_by_window": lambda tf: tf.data.Dataset.range(7).group_by_window(lambda x: x % 2, lambda k, w: w.batch(2), 2),
    "choose_infinite": lambda tf: tf.data.experimental.choose_from_datasets(
        [tf.data.Dataset.range(3).repeat()], tf.data.Dataset.range(0, 1).repeat()),
    "choose": lambda tf: tf.data.experimental.choose_from_datasets([tf.data.Dataset.range(3)],
                                                                   tf.data.Dataset.range(0, 1)),
    "counter": lambda tf: tf.data.experimental.Counter(),
}


@pytest.mark.parametrize("name", list(CARDINALITY))
def test_cardinality_like_tf(name):
    v1 = oracle.tf1()
    values = []
    for lib in (v1, graphcompat):
        with lib.Graph().as_default():
            cardinality = lib.data.experimental.cardinality(CARDINALITY[name](lib))
            with lib.Session() as sess:
                values.append(int(sess.run(cardinality)))
    assert values[1] == values[0]


# ------------------------------------------------------------------------------------------------
# graphcompat writes TF's ops: its GraphDef runs in TF
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["window_tuple", "window_capture", "shard", "scan_structured", "take_while",
                                  "counter", "group_by_window_size_func", "bucket_by_sequence_length",
                                  "choose_exhausted_skipped", "sample_weights", "sample_dataset_weights"])
def test_tf_runs_graphcompat_graph(name):
    v1 = oracle.tf1()
    graph = graphcompat.Graph()
    with graph.as_default():
        nxt = graphcompat.data.make_one_shot_iterator(CASES[name](graphcompat)).get_next()
        names = [t.name for t in graphcompat.nest.flatten(nxt)]
    graph_def = v1.GraphDef.FromString(graph.as_graph_def().SerializeToString())
    tf_graph = v1.Graph()
    with tf_graph.as_default():
        v1.import_graph_def(graph_def, name="")
        with v1.Session(graph=tf_graph) as sess:
            fetches = [tf_graph.get_tensor_by_name(n) for n in names]
            got = []
            while True:
                try:
                    got.append(sess.run(fetches))
                except v1.errors.OutOfRangeError:
                    break
    want, _ = drain(v1, CASES[name])
    assert len(got) == len(want)
    for g, w in zip(got, want):
        oracle.assert_same_values(g, w, 1e-6, 0, name)


def _node_ops(lib, build) -> list:
    graph = lib.Graph()
    with graph.as_default():
        build(lib)
    graph_def = graph.as_graph_def()
    # TF's function bodies end in Identity ops of their outputs, graphcompat's return the tensors themselves
    functions = sorted(sorted(n.op for n in f.node_def if n.op != "Identity") for f in graph_def.library.function)
    from google.protobuf import text_format
    nodes = []
    for n in graph_def.node:  # attrs as text; a function attr by its attrs only (TF numbers its names)
        attrs = {key: sorted(value.func.attr) if value.HasField("func")
                 else text_format.MessageToString(value, as_one_line=True) for key, value in n.attr.items()}
        nodes.append((n.name, n.op, list(n.input), attrs))
    return nodes, functions


@pytest.mark.parametrize("name", ["window_drop", "window_tuple", "shard", "scan", "scan_structured", "take_while",
                                  "counter", "group_by_window", "group_by_window_size_func",
                                  "bucket_by_sequence_length", "bucket_padded_drop", "choose_from_datasets",
                                  "random", "sample_weights", "sample_uniform", "sample_dataset_weights",
                                  "enumerate"])
def test_same_ops_as_tf(name):
    """The same top-level nodes (names, op types, inputs, attrs) and function bodies' op types as TF's."""
    v1 = oracle.tf1()
    assert _node_ops(graphcompat, CASES[name]) == _node_ops(v1, CASES[name])


@pytest.mark.parametrize("op_type", ["WindowDataset", "ShardDataset", "TakeWhileDataset", "ScanDataset",
                                     "RewriteDataset",
                                     "GroupByWindowDataset", "DirectedInterleaveDataset"])
def test_signature_matches_tf(op_type):
    oracle.tf1()
    from tensorflow.python.framework import op_def_registry

    from graphcompat.framework.registry import get_op_def
    want, got = op_def_registry.get(op_type), get_op_def(op_type)

    def arg(a):
        return a.name, a.number_attr or None, a.type_list_attr or a.type_attr or None
    assert [arg(a) for a in got.inputs] == [arg(a) for a in want.input_arg]
    type_attrs = {a.name for a in want.attr if a.type in ("type", "list(type)")}
    assert set(got.attrs) | type_attrs == {a.name for a in want.attr}


@pytest.mark.parametrize("name", ["take_while", "window_tuple", "scan_structured", "counter", "group_by_window",
                                  "group_by_window_size_func", "bucket_by_sequence_length", "sample_weights",
                                  "choose_exhausted_skipped"])
def test_graphcompat_runs_tf_graph(name):
    """TF's GraphDef of each pipeline runs in graphcompat with TF's elements."""
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        nxt = v1.data.make_one_shot_iterator(CASES[name](v1)).get_next()
        names = [t.name for t in v1.nest.flatten(nxt)]
    graph_def = graphcompat.GraphDef.FromString(graph.as_graph_def().SerializeToString())
    with graphcompat.Graph().as_default() as g:
        graphcompat.import_graph_def(graph_def, name="")
        with graphcompat.Session() as sess:
            got = []
            while True:
                try:
                    got.append(sess.run([g.get_tensor_by_name(n) for n in names]))
                except graphcompat.errors.OutOfRangeError:
                    break
    want, _ = drain(v1, CASES[name])
    assert len(got) == len(want)
    for a, b in zip(got, want):
        oracle.assert_same_values(a, b, 1e-6, 0, name)


@pytest.mark.parametrize("name", ["window_tuple", "scan_structured", "group_by_window_size_func",
                                  "bucket_by_sequence_length", "sample_uniform"])
def test_graphcompat_reimports_its_own_graph(name):
    """graphcompat's GraphDef imported by graphcompat runs as the program that wrote it."""
    graph = graphcompat.Graph()
    with graph.as_default():
        nxt = graphcompat.data.make_one_shot_iterator(CASES[name](graphcompat)).get_next()
        names = [t.name for t in graphcompat.nest.flatten(nxt)]
    with graphcompat.Graph().as_default() as g:
        graphcompat.import_graph_def(graph.as_graph_def(), name="")
        with graphcompat.Session() as sess:
            got = []
            while True:
                try:
                    got.append(sess.run([g.get_tensor_by_name(n) for n in names]))
                except graphcompat.errors.OutOfRangeError:
                    break
    want, _ = drain(graphcompat, CASES[name])
    assert len(got) == len(want)
    for a, b in zip(got, want):
        oracle.assert_same_values(a, b, 0, 0, name)


# ------------------------------------------------------------------------------------------------
# Bad input: TF's errors
# ------------------------------------------------------------------------------------------------
RUN_ERRORS = {
    "shard_zero": (lambda tf: tf.data.Dataset.range(10).shard(0, 0),
                   r"Number of shards must be greater than zero \(currently num_shards = 0\)\."),
    "shard_index": (lambda tf: tf.data.Dataset.range(10).shard(3, 3),
                    r"Index must be between 0 and 2 \(currently index = 3\)\."),
    "shard_negative_index": (lambda tf: tf.data.Dataset.range(10).shard(3, -1),
                             r"Index must be between 0 and 2 \(currently index = -1\)\."),
    "window_size": (lambda tf: tf.data.Dataset.range(10).window(0).flat_map(lambda w: w),
                    "Window size must be greater than zero."),
    "window_shift": (lambda tf: tf.data.Dataset.range(10).window(2, 0).flat_map(lambda w: w),
                     "Window shift must be greater than zero."),
    "window_stride": (lambda tf: tf.data.Dataset.range(10).window(2, 1, 0).flat_map(lambda w: w),
                      "Window stride must be greater than zero."),
    "group_window_size": (lambda tf: tf.data.Dataset.range(10).apply(tf.data.experimental.group_by_window(
        lambda x: x % 2, lambda k, w: w.batch(3), window_size_func=lambda k: k * 0)),
        "Window size must be greater than zero, but got 0."),
    "choose_out_of_range": (lambda tf: tf.data.experimental.choose_from_datasets(
        [tf.data.Dataset.range(3)], _choices(tf, [0, 2])), "Selector index out of range: 2 >= 1"),
}


@pytest.mark.parametrize("name", list(RUN_ERRORS))
def test_run_errors_like_tf(name):
    v1 = oracle.tf1()
    build, message = RUN_ERRORS[name]
    for lib in (v1, graphcompat):
        with pytest.raises(lib.errors.InvalidArgumentError, match=message):
            drain(lib, build)


BUILD_ERRORS = {
    "group_by_window_no_size": (lambda tf: tf.data.Dataset.range(10).apply(tf.data.experimental.group_by_window(
        lambda x: x % 2, lambda k, w: w.batch(3))), ValueError,
        "Either the `window_size` argument or the `window_size_func` argument must be specified."),
    "group_by_window_both_sizes": (lambda tf: tf.data.Dataset.range(10).apply(
        tf.data.experimental.group_by_window(lambda x: x % 2, lambda k, w: w.batch(3), 3, lambda k: 3)),
        ValueError, "Either the `window_size` argument or the `window_size_func` argument must be specified."),
    "group_by_window_int32_key": (lambda tf: tf.data.Dataset.range(10).apply(tf.data.experimental.group_by_window(
        lambda x: tf.cast(x % 2, tf.int32), lambda k, w: w.batch(3), 3)), ValueError,
        "Tensor conversion requested dtype int64 for Tensor with dtype int32"),
    "take_while_not_bool": (lambda tf: tf.data.Dataset.range(10).apply(tf.data.experimental.take_while(lambda x: x)),
                            ValueError, r"Invalid `predicate`. `predicate` must return a `tf.bool` scalar tensor but "
                            r"its return type isTensorSpec\(shape=\(\), dtype=tf.int64, name=None\)\."),
    "scan_state_type": (lambda tf: tf.data.Dataset.range(10).apply(tf.data.experimental.scan(
        tf.constant(0, tf.int64), lambda s, x: (tf.cast(s, tf.int32), s))), TypeError,
        r"Invalid `scan_func`. The element types for the new state must match the initial state. Expected "
        r"<dtype: 'int64'>, got <dtype: 'int32'>\."),
    "scan_not_pair": (lambda tf: tf.data.Dataset.range(10).apply(tf.data.experimental.scan(
        tf.constant(0, tf.int64), lambda s, x: s)), TypeError,
        r"Invalid `scan_func`. `scan_func` should return a pair consisting of new state and the output value but "
        r"its return type is TensorSpec\(shape=\(\), dtype=tf.int64, name=None\)\."),
    "choose_int32": (lambda tf: tf.data.experimental.choose_from_datasets(
        [tf.data.Dataset.range(3)], tf.data.Dataset.from_tensor_slices(tf.constant([0, 2], tf.int32))), TypeError,
        r"Invalid `choice_dataset`. Elements of `choice_dataset` must be scalar `tf.int64` tensors but are "
        r"TensorSpec\(shape=\(\), dtype=tf.int32, name=None\)\."),
    "choose_empty": (lambda tf: tf.data.experimental.choose_from_datasets([], _choices(tf, [0])), ValueError,
                     r"Invalid `datasets`. `datasets` should not be empty."),
    "sample_weights_length": (lambda tf: tf.data.experimental.sample_from_datasets(
        [tf.data.Dataset.range(3)] * 2, [0.5]), ValueError,
        r"Invalid `weights`. `weights` should have the same length as `datasets` but got `len\(weights\)=1` vs. "
        r"`len\(datasets\)=2`."),
    "sample_int_weights": (lambda tf: tf.data.experimental.sample_from_datasets(
        [tf.data.Dataset.range(3)] * 2, [1, 2]), TypeError,
        "Invalid `weights`. `weights` type must be either `tf.float32` or `tf.float64` but is"),
    "sample_empty": (lambda tf: tf.data.experimental.sample_from_datasets([]), ValueError,
                     "Invalid `datasets`. `datasets` should not be empty."),
    "bucket_sizes": (lambda tf: _ragged(tf).apply(tf.data.experimental.bucket_by_sequence_length(
        lambda x: tf.shape(x)[0], [3, 5], [2, 2])), ValueError,
        r"`len\(bucket_batch_sizes\)` must equal `len\(bucket_boundaries\) \+ 1` but `len\(bucket_batch_sizes\)=2` "
        r"and `len\(bucket_boundaries\)=2`."),
}


@pytest.mark.parametrize("name", list(BUILD_ERRORS))
def test_build_errors_like_tf(name):
    v1 = oracle.tf1()
    build, error, message = BUILD_ERRORS[name]
    for lib in (v1, graphcompat):
        with lib.Graph().as_default():
            with pytest.raises(error, match=message):
                build(lib)


def test_not_supported_says_so():
    with graphcompat.Graph().as_default():
        with pytest.raises(NotImplementedError, match="rerandomize_each_iteration"):
            graphcompat.data.Dataset.random(seed=1, rerandomize_each_iteration=True)
        with pytest.raises(NotImplementedError, match="pad_to_bucket_boundary"):
            _ragged(graphcompat).apply(graphcompat.data.experimental.bucket_by_sequence_length(
                lambda x: graphcompat.shape(x)[0], [3], [2, 2], pad_to_bucket_boundary=True))
