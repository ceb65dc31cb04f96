"""tf.data against real TensorFlow: element order, values, dtypes and static shapes per transformation."""

import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests._bad_input_sweep import kernel_text

pytestmark = pytest.mark.oracle

X = np.arange(7, dtype=np.float32)


def gen3():
    for i in range(3):
        yield [i] * (i + 1)


CASES = {
    "slices": lambda tf: tf.data.Dataset.from_tensor_slices(X),
    "slices_tuple_dict": lambda tf: tf.data.Dataset.from_tensor_slices(({"k": X, "j": X * 2}, X.astype(np.int32))),
    "from_tensors": lambda tf: tf.data.Dataset.from_tensors((X, 3)),
    "range": lambda tf: tf.data.Dataset.range(2, 11, 3),
    "map": lambda tf: tf.data.Dataset.from_tensor_slices((X, X)).map(lambda a, b: (a * b, a - 1.0)),
    "map_dict": lambda tf: tf.data.Dataset.from_tensor_slices({"a": X}).map(lambda d: {"b": d["a"] * 2.0}),
    "filter": lambda tf: tf.data.Dataset.range(8).filter(lambda x: tf.cast(tf.maximum(x - 4, 0), tf.bool)),
    "batch": lambda tf: tf.data.Dataset.from_tensor_slices(X).batch(3),
    "batch_drop": lambda tf: tf.data.Dataset.from_tensor_slices(X).batch(3, drop_remainder=True),
    "repeat_batch": lambda tf: tf.data.Dataset.range(3).repeat(3).batch(4),
    "take_skip": lambda tf: tf.data.Dataset.range(10).skip(2).take(5).repeat(2),
    "cache": lambda tf: tf.data.Dataset.range(3).cache().repeat(2),
    "prefetch": lambda tf: tf.data.Dataset.range(3).prefetch(1),
    "zip": lambda tf: tf.data.Dataset.zip((tf.data.Dataset.range(3), tf.data.Dataset.from_tensor_slices(X))),
    "concatenate": lambda tf: tf.data.Dataset.range(3).concatenate(tf.data.Dataset.range(7, 9)),
    "enumerate": lambda tf: tf.data.Dataset.from_tensor_slices(X[:3]).enumerate(start=5),
    "unbatch": lambda tf: tf.data.Dataset.from_tensor_slices(X[:6].reshape(3, 2)).unbatch(),
    "flat_map": lambda tf: tf.data.Dataset.range(3).flat_map(lambda x: tf.data.Dataset.from_tensors(x).repeat(2)),
    "interleave": lambda tf: tf.data.Dataset.range(1, 5).interleave(
        lambda x: tf.data.Dataset.from_tensors(x).repeat(3), cycle_length=2, block_length=2),
    "interleave_uneven": lambda tf: tf.data.Dataset.range(1, 6).interleave(
        lambda x: tf.data.Dataset.from_tensors(x).repeat(x), cycle_length=3, block_length=2),
    "shuffle_buffer_1": lambda tf: tf.data.Dataset.range(6).shuffle(1).batch(4),
    "padded_batch": lambda tf: tf.data.Dataset.from_generator(gen3, tf.int64, [None]).padded_batch(2, [None]),
    "generator_tuple": lambda tf: tf.data.Dataset.from_generator(lambda: iter([(1, 2.5), (3, 4.5)]),
                                                                 (tf.int32, tf.float32), ([], [])),
    "group_by_reducer": lambda tf: tf.data.Dataset.zip((tf.data.Dataset.range(9), tf.data.Dataset.from_tensor_slices(
        np.arange(9, dtype=np.float32)))).apply(tf.data.experimental.group_by_reducer(
            lambda i, x: i % 3, tf.data.experimental.Reducer(lambda k: (k, np.float32(0)),
                                                            lambda s, e: (s[0] + e[0], s[1] + e[1] * 2.0),
                                                            lambda a, b: {"a": a, "b": b}))),
    "rebatch": lambda tf: tf.data.Dataset.range(10).batch(4).rebatch(3),
    "rebatch_sizes": lambda tf: tf.data.Dataset.range(10).batch(4).rebatch([2, 1, 3]),
    "rebatch_drop": lambda tf: tf.data.Dataset.range(10).batch(4).rebatch(3, drop_remainder=True),
    "rebatch_tuple_zero": lambda tf: tf.data.Dataset.zip((tf.data.Dataset.range(7), tf.data.Dataset.from_tensor_slices(
        X))).batch(3).rebatch([0, 2]).take(6),
    "apply_map_and_batch": lambda tf: tf.data.Dataset.range(5).apply(
        tf.data.experimental.map_and_batch(lambda x: x * 2, 2)),
}


def drain(tf, build):
    graph = tf.Graph()
    with graph.as_default():
        nxt = tf.data.make_one_shot_iterator(build(tf)) if hasattr(tf.data, "make_one_shot_iterator") \
            else build(tf).make_one_shot_iterator()
        nxt = nxt.get_next()
        flat = tf.nest.flatten(nxt) if hasattr(tf, "nest") else None
        static = [(t.dtype.name, t.shape.as_list() if t.shape.ndims is not None else None)
                  for t in (flat if flat is not None else graphcompat.data.structure.flatten(nxt))]
        out = []
        with tf.Session(graph=graph) as sess:
            while True:
                try:
                    out.append(sess.run(nxt))
                except tf.errors.OutOfRangeError:
                    return out, static


def flat(x):
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in flat(x[k])]
    if isinstance(x, tuple):
        return [v for e in x for v in flat(e)]
    return [x]


@pytest.mark.parametrize("name", list(CASES))
def test_against_tf(name):
    v1 = oracle.tf1()
    want, want_static = drain(v1, CASES[name])
    got, got_static = drain(graphcompat, CASES[name])
    assert got_static == want_static
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert type(g) is type(w)
        for a, b in zip(flat(g), flat(w)):
            assert np.asarray(a).dtype == np.asarray(b).dtype
            np.testing.assert_allclose(a, b)


_WORDS = ["x", "1", "2", "3"]
_LONG = ["1", "2", "x", "3", "4", "5", "y", "6", "7"]


def _to_number(tf, words):
    return tf.data.Dataset.from_tensor_slices(words).map(tf.strings.to_number)


def _sum_reducer(tf):
    return tf.data.experimental.Reducer(lambda k: np.int64(0), lambda s, x: s + x, lambda s: s)


def _mean_reducer(tf):
    return tf.data.experimental.Reducer(lambda k: (np.float32(0), np.int64(0)), lambda s, v: (s[0] + v, s[1] + 1),
                                        lambda total, n: total / tf.cast(n, tf.float32))


# pipelines with an element that fails: TF's iterator returns its error and goes on with the next element
FAILING = {
    "map_batch": lambda tf: tf.data.Dataset.from_tensor_slices(["1", "x", "2", "3", "4"]).map(
        tf.strings.to_number).batch(2),  # the failed batch's elements are consumed
    # TF runs map then batch as one MapAndBatch (map_and_batch_fusion): a failed element fails its whole
    # batch, whose elements are consumed (a batch with num_parallel_calls is not fused)
    "map_batch_fused": lambda tf: _to_number(tf, _LONG).batch(2),
    "map_map_batch_fused": lambda tf: _to_number(tf, _LONG).map(lambda v: v + 1).batch(2),
    "map_batch_fused_in_flat_map": lambda tf: tf.data.Dataset.range(1).flat_map(
        lambda i: _to_number(tf, _LONG).batch(2)),
    "map_parallel_batch": lambda tf: _to_number(tf, _LONG).batch(2, num_parallel_calls=2),
    # rebatch: a failed input batch is that GetNext's error (the slices gathered lost, the size kept)
    "map_batch_rebatch": lambda tf: _to_number(tf, _LONG).batch(2).rebatch(3),
    "rebatch_map": lambda tf: tf.data.Dataset.from_tensor_slices(np.arange(12).reshape(6, 2)).map(
        lambda x: tf.check_numerics(tf.cast(12 // (x - 5), tf.float32), "c")).rebatch([3, 1]),
    "rebatch_components": lambda tf: tf.data.Dataset.from_generator(
        lambda: iter([(np.zeros(2), np.zeros(2)), (np.zeros(2), np.zeros(3)), (np.ones(1), np.ones(1))]),
        (tf.float64, tf.float64), ([None], [None])).rebatch(2),
    "map_take": lambda tf: tf.data.Dataset.from_tensor_slices(_WORDS).map(tf.strings.to_number).take(2),
    "map_skip": lambda tf: tf.data.Dataset.from_tensor_slices(_WORDS).map(tf.strings.to_number).skip(2),
    "map_repeat": lambda tf: tf.data.Dataset.from_tensor_slices(["1", "x"]).map(tf.strings.to_number).repeat(2),
    # an epoch of failed elements only ends a repeat forever (not a finite one)
    "map_repeat_forever_failed_only": lambda tf: _to_number(tf, ["x", "y"]).repeat(),
    "map_repeat_failed_only": lambda tf: _to_number(tf, ["x"]).repeat(3),
    "map_prefetch": lambda tf: tf.data.Dataset.from_tensor_slices(_WORDS).map(tf.strings.to_number).prefetch(2),
    "map_filter_batch": lambda tf: tf.data.Dataset.from_tensor_slices(["1", "x", "2", "3", "4"]).map(
        tf.strings.to_number).filter(lambda v: v > 1).batch(2),
    "filter": lambda tf: tf.data.Dataset.range(5).filter(lambda i: tf.equal(tf.floormod(i, i - 2), 0)),
    "batch_shapes": lambda tf: tf.data.Dataset.from_generator(
        lambda: iter([np.zeros(2), np.zeros(3), np.ones(2)]), tf.float64, tf.TensorShape([None])).batch(2),
    "device_map": lambda tf: tf.data.Dataset.from_tensor_slices(np.array([4, 3, 2], np.int32)).map(
        lambda x: 12 // (x - 3)),
    # batched on the device: the map's check is made inside batch's vmap (it escaped as a tracer)
    "device_map_batch": lambda tf: tf.data.Dataset.from_tensor_slices(np.array([4, 3, 2, 3, 5], np.int32)).map(
        lambda x: 12 // (x - 3)).batch(2),
    "device_map_batch_first": lambda tf: tf.data.Dataset.from_tensor_slices(np.array([3, 4, 2], np.int32)).map(
        lambda x: 12 // (x - 3)).batch(2),
    # the buffer keeps what it holds; a fill's input error is that GetNext's
    "map_shuffle": lambda tf: _to_number(tf, _WORDS).shuffle(1),
    "map_shuffle_seeded": lambda tf: _to_number(tf, ["1", "x", "2", "y", "3", "4"]).shuffle(3, seed=5),
    "map_shuffle_and_repeat": lambda tf: _to_number(tf, ["x", "1"]).apply(
        tf.data.experimental.shuffle_and_repeat(1, 2)),
    # every input is asked (the first error wins); an input's end ends the zip
    "map_zip": lambda tf: tf.data.Dataset.zip((_to_number(tf, _WORDS), tf.data.Dataset.range(10))),
    "map_zip_second": lambda tf: tf.data.Dataset.zip((tf.data.Dataset.range(10), _to_number(tf, _WORDS))),
    "map_zip_both": lambda tf: tf.data.Dataset.zip((_to_number(tf, ["x", "1", "2"]), _to_number(tf, ["3", "y", "4"]))),
    "map_zip_error_then_end": lambda tf: tf.data.Dataset.zip((_to_number(tf, ["1", "x"]), _to_number(tf, ["3"]))),
    "map_enumerate": lambda tf: _to_number(tf, _WORDS).enumerate(),
    "map_concatenate": lambda tf: _to_number(tf, _WORDS).concatenate(_to_number(tf, ["5", "y"])),
    # a batch with a failed element is its first error (a short last one too, with drop_remainder)
    "map_and_batch": lambda tf: tf.data.Dataset.from_tensor_slices(["1", "x", "2", "3", "4", "5", "y"]).apply(
        tf.data.experimental.map_and_batch(tf.strings.to_number, 2)),
    "map_and_batch_two": lambda tf: tf.data.Dataset.from_tensor_slices(["1", "2", "y", "x", "3"]).apply(
        tf.data.experimental.map_and_batch(tf.strings.to_number, 2, drop_remainder=True)),
    "map_and_batch_short": lambda tf: tf.data.Dataset.from_tensor_slices(["1", "2", "x"]).apply(
        tf.data.experimental.map_and_batch(tf.strings.to_number, 2, drop_remainder=True)),
    "map_flat_map": lambda tf: _to_number(tf, ["x", "1", "2"]).flat_map(
        lambda v: tf.data.Dataset.from_tensors(v).repeat(2)),
    "flat_map_function": lambda tf: tf.data.Dataset.from_tensor_slices(["x", "1", "2"]).flat_map(
        lambda s: tf.data.Dataset.from_tensors(tf.strings.to_number(s)).repeat(2)),
    "flat_map_inner": lambda tf: tf.data.Dataset.range(2).flat_map(lambda i: _to_number(tf, ["1", "x", "2"])),
    # a failed element does not move the cycle
    "map_interleave": lambda tf: _to_number(tf, ["1", "x", "2"]).interleave(
        lambda v: tf.data.Dataset.from_tensors(v).repeat(2), cycle_length=2, block_length=2),
    "interleave_inner": lambda tf: tf.data.Dataset.range(2).interleave(
        lambda i: _to_number(tf, ["1", "x", "2"]), cycle_length=2, block_length=2),
    "interleave_function": lambda tf: tf.data.Dataset.from_tensor_slices(["1", "x", "2"]).interleave(
        lambda s: tf.data.Dataset.from_tensors(tf.strings.to_number(s)).repeat(2), cycle_length=2, block_length=1),
    # ParallelInterleaveDatasetV4: a failed element counts in the block; a failed input is a slot's element
    "map_interleave_parallel": lambda tf: _to_number(tf, ["1", "x", "2"]).interleave(
        lambda v: tf.data.Dataset.from_tensors(v).repeat(2), cycle_length=2, block_length=2, num_parallel_calls=2),
    "interleave_parallel_inner": lambda tf: tf.data.Dataset.range(2).interleave(
        lambda i: _to_number(tf, ["1", "x", "2"]), cycle_length=2, block_length=2, num_parallel_calls=2),
    "interleave_parallel_function": lambda tf: tf.data.Dataset.from_tensor_slices(["1", "x", "2"]).interleave(
        lambda s: tf.data.Dataset.from_tensors(tf.strings.to_number(s)).repeat(2), cycle_length=2, block_length=1,
        num_parallel_calls=2),
    # a complete cache replays the elements without the errors; an incomplete one reads its input again
    "map_cache": lambda tf: _to_number(tf, ["x", "1", "2"]).cache().repeat(2),
    "map_cache_take": lambda tf: _to_number(tf, _WORDS).cache().take(2).repeat(2),
    # a window holding a failed element is its error (a stride skips elements)
    "map_window": lambda tf: _to_number(tf, ["1", "x", "2", "3", "4", "5"]).window(2).flat_map(lambda w: w.batch(2)),
    "map_window_shift": lambda tf: _to_number(tf, ["1", "x", "2", "3", "4"]).window(3, shift=1).flat_map(
        lambda w: w.batch(3)),
    "map_window_stride": lambda tf: _to_number(tf, ["1", "x", "2", "3", "4", "y", "6"]).window(
        2, shift=3, stride=2).flat_map(lambda w: w.batch(3)),
    "map_unbatch": lambda tf: _to_number(tf, ["1", "x", "2", "3", "4"]).batch(2).unbatch(),
    # a failed element (or the function's error) leaves the state as it was
    "map_scan": lambda tf: _to_number(tf, ["1", "x", "2", "3", "4"]).scan(np.float32(0), lambda s, v: (s + v, s + v)),
    "scan_function": lambda tf: tf.data.Dataset.from_tensor_slices(["1", "x", "2", "3", "4"]).scan(
        np.float32(0), lambda s, w: (s + 1, s + tf.strings.to_number(w))),
    "map_take_while": lambda tf: _to_number(tf, ["1", "x", "2", "3", "4"]).take_while(lambda v: v < 4),
    "take_while_predicate": lambda tf: tf.data.Dataset.from_tensor_slices(["1", "x", "2", "3", "4"]).take_while(
        lambda w: tf.strings.to_number(w) < 4),
    # a failed element is not counted, skipped or taken (the elements skipped before it are not counted either)
    "map_shard": lambda tf: _to_number(tf, ["1", "x", "2", "y", "3", "4", "5"]).shard(2, 1),
    "map_shard_skipped": lambda tf: _to_number(tf, ["1", "x", "2", "3", "4", "5", "6", "7", "8"]).shard(3, 2),
    "map_unique": lambda tf: _to_number(tf, ["1", "x", "1", "2", "x", "2", "3"]).map(
        lambda v: tf.cast(v, tf.int64)).apply(tf.data.experimental.unique()),
    "map_group_by_window": lambda tf: _to_number(tf, ["1", "x", "2", "3", "4", "5"]).map(
        lambda v: tf.cast(v, tf.int64)).apply(tf.data.experimental.group_by_window(
            lambda v: v % 2, lambda k, d: d.batch(2), 2)),
    "group_by_window_key": lambda tf: tf.data.Dataset.range(6).apply(tf.data.experimental.group_by_window(
        lambda v: 6 // (v - 2), lambda k, d: d.batch(2), 2)),
    # group_by_reducer: an error while the input is read is that GetNext's (the element consumed, the states
    # kept: one init_func made stays); a finalize_func error is its key's element
    "map_group_by_reducer": lambda tf: _to_number(tf, ["1", "x", "3", "y", "5", "6"]).apply(
        tf.data.experimental.group_by_reducer(lambda v: tf.cast(v, tf.int64) % 2, _mean_reducer(tf))),
    "group_by_reducer_key": lambda tf: tf.data.Dataset.range(5).apply(tf.data.experimental.group_by_reducer(
        lambda x: 12 // (x - 3), _sum_reducer(tf))),
    "group_by_reducer_init": lambda tf: tf.data.Dataset.range(8).apply(tf.data.experimental.group_by_reducer(
        lambda x: x % 3, tf.data.experimental.Reducer(lambda k: 12 // (k - 1), lambda s, x: s + x, lambda s: s))),
    "group_by_reducer_reduce": lambda tf: tf.data.Dataset.range(8).apply(tf.data.experimental.group_by_reducer(
        lambda x: x % 3, tf.data.experimental.Reducer(lambda k: np.int64(0), lambda s, x: s + 12 // (x - 4),
                                                      lambda s: s))),
    "group_by_reducer_finalize": lambda tf: tf.data.Dataset.range(8).apply(tf.data.experimental.group_by_reducer(
        lambda x: x % 3, tf.data.experimental.Reducer(lambda k: k, lambda s, x: s + x, lambda s: 12 // (s - 13)))),
    # directed interleave: the pick is consumed
    "choose_from_datasets_input": lambda tf: tf.data.experimental.choose_from_datasets(
        [_to_number(tf, ["1", "x", "2"]), tf.data.Dataset.from_tensor_slices(np.float32([7, 8, 9]))],
        tf.data.Dataset.from_tensor_slices(np.int64([0, 1, 0, 1, 0]))),
    "choose_from_datasets_selector": lambda tf: tf.data.experimental.choose_from_datasets(
        [tf.data.Dataset.from_tensor_slices(np.float32([1, 2, 3])),
         tf.data.Dataset.from_tensor_slices(np.float32([7, 8, 9]))],
        _to_number(tf, ["0", "x", "1", "0"]).map(lambda v: tf.cast(v, tf.int64))),
    "sample_from_datasets": lambda tf: tf.data.experimental.sample_from_datasets(
        [_to_number(tf, ["1", "x", "2"]), tf.data.Dataset.from_tensor_slices(np.float32([7, 8, 9]))], [0.5, 0.5],
        seed=3),
    # the batch's elements taken are lost
    "map_dense_to_sparse_batch": lambda tf: _to_number(tf, ["1", "x", "2", "3", "4"]).map(
        lambda v: tf.fill([2], v)).apply(tf.data.experimental.dense_to_sparse_batch(2, [3])).map(lambda s: s.values),
    "map_assert_cardinality": lambda tf: _to_number(tf, ["1", "x", "2", "3", "4"]).apply(
        tf.data.experimental.assert_cardinality(4)),  # a failed element does not count
    # the legacy parallel interleave: a failed element counts in the block; a failed input is a slot's one
    # element, that slot found ended on the next visit (the cycle moves on)
    "map_parallel_interleave_legacy": lambda tf: _to_number(tf, ["x", "1", "2"]).apply(
        tf.data.experimental.parallel_interleave(lambda v: tf.data.Dataset.from_tensors(v).repeat(2), cycle_length=2)),
    "parallel_interleave_legacy_inner": lambda tf: tf.data.Dataset.range(2).apply(
        tf.data.experimental.parallel_interleave(lambda i: _to_number(tf, ["1", "x", "2"]), cycle_length=2)),
    "parallel_interleave_legacy_function": lambda tf: tf.data.Dataset.from_tensor_slices(["x", "1", "2"]).apply(
        tf.data.experimental.parallel_interleave(
            lambda s: tf.data.Dataset.from_tensors(tf.strings.to_number(s)).repeat(2), cycle_length=2)),
}


def _outcomes(tf, build, runs: int = 7) -> list:
    graph = tf.Graph()
    with graph.as_default():
        nxt = tf.data.make_one_shot_iterator(build(tf)).get_next()
        out = []
        with tf.Session(graph=graph) as sess:
            for _ in range(runs):
                try:
                    out.append(("values", np.asarray(sess.run(nxt)).tolist()))
                except tf.errors.OpError as e:
                    out.append((type(e).__name__, kernel_text(e.message)))  # N of a dataset's name masked
        return out


@pytest.mark.parametrize("name", list(FAILING))
def test_iterator_goes_on_after_a_failed_element_as_tf(name):
    want = _outcomes(oracle.tf1(), FAILING[name])
    assert any(w[0] == "InvalidArgumentError" for w in want) and want[-1][0] == "OutOfRangeError"
    assert _outcomes(graphcompat, FAILING[name]) == want


# ignore_errors drops the failed elements of any node that passes them on
IGNORED = {
    "group_by_reducer": lambda tf: _to_number(tf, _LONG).apply(
        tf.data.experimental.group_by_reducer(lambda v: tf.cast(v, tf.int64) % 2, _mean_reducer(tf))),
    "rebatch": lambda tf: _to_number(tf, _LONG).batch(2).rebatch(3),
    "batch": lambda tf: _to_number(tf, ["1", "x", "2", "3", "4"]).batch(2),
    "filter": lambda tf: tf.data.Dataset.range(5).filter(lambda i: tf.equal(tf.floormod(i, i - 2), 0)),
    "zip": lambda tf: tf.data.Dataset.zip((_to_number(tf, _WORDS), tf.data.Dataset.range(10))),
    "interleave": lambda tf: tf.data.Dataset.range(2).interleave(lambda i: _to_number(tf, ["1", "x", "2"]),
                                                                 cycle_length=2),
}


@pytest.mark.parametrize("name", list(IGNORED))
def test_ignore_errors_drops_failed_elements_as_tf(name):
    def build(tf):
        return IGNORED[name](tf).apply(tf.data.experimental.ignore_errors())
    want = _outcomes(oracle.tf1(), build)
    assert want[-1][0] == "OutOfRangeError" and all(w[0] != "InvalidArgumentError" for w in want)
    assert _outcomes(graphcompat, build) == want


def test_errors_like_tf():
    v1 = oracle.tf1()
    for tf in (v1, graphcompat):
        with pytest.raises(ValueError, match="Dimensions 3 and 2 are not compatible"):
            tf.data.Dataset.from_tensor_slices((np.zeros(3), np.zeros(2)))
        with tf.Graph().as_default():
            p = tf.placeholder(tf.float32, [None])
            with pytest.raises(ValueError, match="Cannot capture a placeholder"):
                tf.data.Dataset.from_tensor_slices(p).make_one_shot_iterator()


def test_training_over_dataset_matches_tf():
    """The lecture's loop (initializable iterator re-run per epoch) gives TF's weights."""
    v1 = oracle.tf1()
    rng = np.random.RandomState(0)
    xs = rng.uniform(1, 7, 30).astype(np.float32)
    ys = (80 - 6 * xs + rng.normal(0, 2, 30)).astype(np.float32)

    def train(tf):
        with tf.Graph().as_default():
            it = tf.data.Dataset.from_tensor_slices((xs, ys)).batch(5).make_initializable_iterator()
            x, y = it.get_next()
            w = tf.get_variable("w", initializer=tf.constant(0.0))
            b = tf.get_variable("b", initializer=tf.constant(0.0))
            loss = tf.reduce_mean(tf.square(y - (w * x + b)))
            step = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                for _ in range(3):
                    sess.run(it.initializer)
                    while True:
                        try:
                            sess.run(step)
                        except tf.errors.OutOfRangeError:
                            break
                return sess.run([w, b])

    np.testing.assert_allclose(train(graphcompat), train(v1), rtol=1e-5)


# A generator's element is converted as TF's py_func converts it (numpy's rules for numeric types).
GENERATOR_CONVERSIONS = [
    ("float_to_int32", "int32", [1.7, -2.5], [2]),
    ("float64_column_to_int32", "int32", np.array([[3.0], [4.9]]), [2, 1]),   # the lecture's word2vec targets
    ("int_wraps", "int32", 2 ** 40, []),
    ("float_to_int8_wraps", "int8", 300.0, []),
    ("negative_to_uint8", "uint8", -1, []),
    ("none_to_float", "float32", None, []),
    ("float_to_bool", "bool", 0.5, []),
    ("str_to_string", "string", ["ab", "c"], [2]),
    ("bytes_to_string", "string", b"xy", []),
    ("str_to_int", "int32", "abc", []),
    ("ragged_to_int", "int32", [[1, 2], [3]], [2, None]),
    ("int_to_string", "string", 5, []),
    ("beyond_int64", "int32", 2 ** 70, []),
    ("wrong_shape", "float32", [1.0, 2.0, 3.0], [2]),
]


def first_element_or_error(tf, dtype: str, value, shape):
    with tf.Graph().as_default():
        ds = tf.data.Dataset.from_generator(lambda: iter([value]), getattr(tf, dtype), tf.TensorShape(shape))
        nxt = ds.make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            try:
                return sess.run(nxt), None
            except tf.errors.OpError as e:
                text = str(e)
                start = text.find("`generator`")
                message = text[start:].split("\n")[0] if start >= 0 else \
                    next(line for line in text.splitlines() if line.strip() and "Graph execution" not in line)
                return None, (type(e).__name__, message)


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("name,dtype,value,shape", GENERATOR_CONVERSIONS, ids=[c[0] for c in GENERATOR_CONVERSIONS])
def test_generator_conversion_like_tf(name, dtype, value, shape):
    v1 = oracle.tf1()
    want, want_error = first_element_or_error(v1, dtype, value, shape)
    got, got_error = first_element_or_error(graphcompat, dtype, value, shape)
    assert got_error == want_error
    if want_error is None:
        assert np.asarray(got).dtype == np.asarray(want).dtype
        np.testing.assert_array_equal(got, want)
