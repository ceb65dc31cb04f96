"""tf.data: element order and values per transformation (hand-computed), iterators, shuffle, errors."""
import numpy as np
import pytest

import graphcompat as tf
from lowering.executor import runner_for

F32 = np.float32


def drain(ds, kind="initializable", limit=1000):
    """All elements of `ds` (as nested numpy) through an iterator of `kind`, until OutOfRangeError."""
    if kind == "initializable":
        it = ds.make_initializable_iterator()
        init = it.initializer
    elif kind == "one_shot":
        it, init = ds.make_one_shot_iterator(), None
    else:  # from_structure: always the host walk
        it = tf.data.Iterator.from_structure(ds.output_types, ds.output_shapes)
        init = it.make_initializer(ds)
    nxt = it.get_next()
    out = []
    with tf.Session() as sess:
        if init is not None:
            sess.run(init)
        for _ in range(limit):
            try:
                out.append(sess.run(nxt))
            except tf.errors.OutOfRangeError:
                return out
    raise AssertionError("no OutOfRangeError")


def same(got, want):
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want):
        if isinstance(w, dict):
            assert sorted(g) == sorted(w)
            for k in w:
                np.testing.assert_allclose(g[k], w[k])
        elif isinstance(w, tuple):
            assert isinstance(g, tuple) and len(g) == len(w)
            for a, b in zip(g, w):
                if np.asarray(b).dtype == object:
                    assert np.asarray(a).tolist() == np.asarray(b).tolist()
                else:
                    np.testing.assert_allclose(a, b)
        else:
            np.testing.assert_allclose(g, w)


X = np.arange(6, dtype=F32)
CASES = [
    ("slices", lambda: tf.data.Dataset.from_tensor_slices(X), list(X)),
    ("slices_tuple", lambda: tf.data.Dataset.from_tensor_slices((X, X * 10)), [(x, x * 10) for x in X]),
    ("slices_dict", lambda: tf.data.Dataset.from_tensor_slices({"b": X, "a": X.astype(np.int64)}),
     [{"a": int(x), "b": x} for x in X]),
    ("slices_2d", lambda: tf.data.Dataset.from_tensor_slices(X.reshape(3, 2)), list(X.reshape(3, 2))),
    ("from_tensors", lambda: tf.data.Dataset.from_tensors(X), [X]),
    ("range", lambda: tf.data.Dataset.range(4), [0, 1, 2, 3]),
    ("range_step", lambda: tf.data.Dataset.range(2, 10, 3), [2, 5, 8]),
    ("range_neg", lambda: tf.data.Dataset.range(5, 0, -2), [5, 3, 1]),
    ("map", lambda: tf.data.Dataset.from_tensor_slices(X).map(lambda x: x * 2.0 + 1.0), list(X * 2 + 1)),
    ("map_tuple", lambda: tf.data.Dataset.from_tensor_slices((X, X)).map(lambda a, b: (a + b, a * b)),
     [(2 * x, x * x) for x in X]),
    ("map_capture", lambda: tf.data.Dataset.from_tensor_slices(X).map(lambda x: x * tf.constant(3.0)),
     list(X * 3)),
    ("map_parallel", lambda: tf.data.Dataset.range(3).map(lambda x: x + 1, num_parallel_calls=2), [1, 2, 3]),
    ("filter", lambda: tf.data.Dataset.range(6).filter(lambda x: tf.cast(tf.maximum(x - 2, 0), tf.bool)),
     [3, 4, 5]),
    ("batch", lambda: tf.data.Dataset.from_tensor_slices(X).batch(2), [X[0:2], X[2:4], X[4:6]]),
    ("batch_rem", lambda: tf.data.Dataset.range(5).batch(2), [[0, 1], [2, 3], [4]]),
    ("batch_rem_repeat_map", lambda: tf.data.Dataset.range(5).batch(2).repeat(2).map(lambda x: x * 10),
     [[0, 10], [20, 30], [40], [0, 10], [20, 30], [40]]),
    ("batch_rem_zip", lambda: tf.data.Dataset.zip((tf.data.Dataset.range(3).batch(2), tf.data.Dataset.range(3))),
     [([0, 1], 0), ([2], 1)]),
    ("batch_drop", lambda: tf.data.Dataset.range(5).batch(2, drop_remainder=True), [[0, 1], [2, 3]]),
    ("batch_tuple", lambda: tf.data.Dataset.from_tensor_slices((X, X)).batch(3),
     [(X[:3], X[:3]), (X[3:], X[3:])]),
    ("repeat", lambda: tf.data.Dataset.range(3).repeat(2), [0, 1, 2, 0, 1, 2]),
    ("repeat_take", lambda: tf.data.Dataset.range(3).repeat().take(7), [0, 1, 2, 0, 1, 2, 0]),
    ("repeat_batch", lambda: tf.data.Dataset.range(3).repeat(3).batch(4), [[0, 1, 2, 0], [1, 2, 0, 1], [2]]),
    ("repeat_inf_batch", lambda: tf.data.Dataset.range(3).repeat().batch(2).take(3), [[0, 1], [2, 0], [1, 2]]),
    ("take", lambda: tf.data.Dataset.range(10).take(3), [0, 1, 2]),
    ("take_all", lambda: tf.data.Dataset.range(3).take(-1), [0, 1, 2]),
    ("skip", lambda: tf.data.Dataset.range(5).skip(3), [3, 4]),
    ("skip_repeat", lambda: tf.data.Dataset.range(4).skip(2).repeat(2), [2, 3, 2, 3]),
    ("take_repeat", lambda: tf.data.Dataset.range(4).take(2).repeat(2), [0, 1, 0, 1]),
    ("cache", lambda: tf.data.Dataset.range(3).cache().repeat(2), [0, 1, 2, 0, 1, 2]),
    ("prefetch", lambda: tf.data.Dataset.range(3).prefetch(2), [0, 1, 2]),
    ("zip", lambda: tf.data.Dataset.zip((tf.data.Dataset.range(3), tf.data.Dataset.range(10, 20))),
     [(0, 10), (1, 11), (2, 12)]),
    ("zip_dict", lambda: tf.data.Dataset.zip({"x": tf.data.Dataset.range(2), "y": tf.data.Dataset.range(5, 7)}),
     [{"x": 0, "y": 5}, {"x": 1, "y": 6}]),
    ("concatenate", lambda: tf.data.Dataset.range(2).concatenate(tf.data.Dataset.range(5, 7)), [0, 1, 5, 6]),
    ("concatenate_repeat", lambda: tf.data.Dataset.range(2).concatenate(tf.data.Dataset.range(5, 6)).repeat(2),
     [0, 1, 5, 0, 1, 5]),
    ("enumerate", lambda: tf.data.Dataset.from_tensor_slices(X[:3]).enumerate(),
     [(0, 0.0), (1, 1.0), (2, 2.0)]),
    ("unbatch", lambda: tf.data.Dataset.from_tensor_slices(X.reshape(3, 2)).unbatch(), list(X)),
    ("flat_map", lambda: tf.data.Dataset.range(3).flat_map(lambda x: tf.data.Dataset.from_tensors(x).repeat(2)),
     [0, 0, 1, 1, 2, 2]),
    ("interleave", lambda: tf.data.Dataset.range(1, 4).interleave(
        lambda x: tf.data.Dataset.from_tensors(x).repeat(3), cycle_length=2, block_length=2),
     [1, 1, 2, 2, 1, 2, 3, 3, 3]),
    ("padded_batch", lambda: tf.data.Dataset.from_generator(lambda: iter([[1], [2, 2], [3, 3, 3]]), tf.int64,
                                                            [None]).padded_batch(2, [None]),
     [np.array([[1, 0], [2, 2]]), np.array([[3, 3, 3]])]),
    ("padded_batch_fixed", lambda: tf.data.Dataset.from_generator(lambda: iter([[1], [2, 2]]), tf.int64, [None])
     .padded_batch(2, [3], padding_values=np.int64(-1)), [np.array([[1, -1, -1], [2, 2, -1]])]),
    ("padded_batch_tuple_str", lambda: tf.data.Dataset.from_generator(
        lambda: iter([([1], "a"), ([2, 2], "bb")]), (tf.int64, tf.string), ([None], []))
     .padded_batch(2, padded_shapes=((3,), ()), padding_values=(np.int64(-1), b"?")),
     [(np.array([[1, -1, -1], [2, 2, -1]]), np.array([b"a", b"bb"], dtype=object))]),
    ("apply", lambda: tf.data.Dataset.range(4).apply(lambda d: d.skip(1).take(2)), [1, 2]),
    ("map_and_batch", lambda: tf.data.Dataset.range(4).apply(
        tf.data.experimental.map_and_batch(lambda x: x * 2, 2)), [[0, 2], [4, 6]]),
]


@pytest.mark.parametrize("name,build,want", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("kind", ["initializable", "from_structure"])
def test_transformation(name, build, want, kind):
    ds = build()
    same(drain(ds, kind), want)


def test_one_shot_and_properties():
    ds = tf.data.Dataset.from_tensor_slices({"a": np.zeros((4, 2), F32), "b": np.arange(4)}).batch(2)
    assert ds.output_types == {"a": tf.float32, "b": tf.int64}
    assert ds.output_shapes["a"].as_list() == [None, 2]
    assert ds.output_classes == {"a": tf.Tensor, "b": tf.Tensor}
    nxt = ds.make_one_shot_iterator().get_next()
    assert nxt["a"].shape.as_list() == [None, 2] and nxt["b"].dtype == tf.int64
    assert nxt["a"].op.type == "IteratorGetNext" and nxt["a"].op is nxt["b"].op
    with tf.Session() as sess:
        assert list(sess.run(nxt)["b"]) == [0, 1]
        assert list(sess.run(nxt)["b"]) == [2, 3]
        with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
            sess.run(nxt)


def test_op_names_like_tf():
    ds = tf.data.Dataset.from_tensor_slices(np.arange(3)).batch(2)
    it = ds.make_initializable_iterator()
    it.get_next()
    types = [(op.name, op.type) for op in tf.get_default_graph().get_operations()]
    assert ("TensorSliceDataset", "TensorSliceDataset") in types
    assert ("BatchDatasetV2", "BatchDatasetV2") in types
    assert ("IteratorV2", "IteratorV2") in types and ("MakeIterator", "MakeIterator") in types
    assert ("IteratorGetNext", "IteratorGetNext") in types


@pytest.mark.parametrize("kind", ["initializable", "from_structure"])
def test_end_of_sequence_and_reinitialize(kind):
    ds = tf.data.Dataset.from_tensor_slices((X, X * 2))
    if kind == "initializable":
        it = ds.make_initializable_iterator()
        init = it.initializer
    else:
        it = tf.data.Iterator.from_structure(ds.output_types, ds.output_shapes)
        init = it.make_initializer(ds)
    a, b = it.get_next()
    c = a + b
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="has not been initialized"):
            sess.run(a)
        for epoch in range(3):
            sess.run(init)
            got = []
            for _ in range(6):
                va, vb, vc = sess.run([a, b, c])  # one element per run, shared by every output
                assert vb == 2 * va and vc == 3 * va
                got.append(va)
            assert got == list(X)
            for _ in range(2):  # stays at the end
                with pytest.raises(tf.errors.OutOfRangeError):
                    sess.run(c)


def test_device_path_is_compiled_without_runtime_checks():
    ds = tf.data.Dataset.from_tensor_slices((X, X)).shuffle(10, seed=1).repeat(2).batch(3)
    it = ds.make_initializable_iterator()
    a, b = it.get_next()
    loss = tf.reduce_sum(a * b)
    with tf.Session() as sess:
        sess.run(it.initializer)
        for _ in range(4):
            sess.run(loss)
        runner = runner_for(sess, loss)
        assert runner.compiled is not None and not runner.compiled.check_meta and not runner.plan.input_steps
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(loss)


def test_ragged_batches_stay_on_the_device():
    ds = tf.data.Dataset.from_tensor_slices(np.arange(7, dtype=F32)).shuffle(7, seed=2).batch(3).repeat(2)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    total = tf.reduce_sum(nxt)
    with tf.Session() as sess:
        sess.run(it.initializer)
        sizes, sums = [], []
        for _ in range(6):
            v, t = sess.run([nxt, total])
            sizes.append(len(v))
            sums.append(t)
        assert sizes == [3, 3, 1, 3, 3, 1] and sum(sums) == 2 * 21
        runner = runner_for(sess, nxt, total)
        assert runner.compiled is not None and not runner.plan.input_steps and not runner.compiled.check_meta
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run([nxt, total])


def test_host_walk_runs_ahead_of_a_compiled_step():
    def gen():
        for i in range(4):
            yield np.full(2, i, F32)
    nxt = tf.data.Dataset.from_generator(gen, tf.float32, [2]).make_one_shot_iterator().get_next()
    out = tf.reduce_sum(nxt * 2.0)
    with tf.Session() as sess:
        assert [sess.run(out) for _ in range(4)] == [0.0, 4.0, 8.0, 12.0]
        runner = runner_for(sess, out)
        assert runner.compiled is not None and runner.plan.input_steps
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(out)


@pytest.mark.parametrize("buffer", [100, 3])  # device permutation / host buffered shuffle
def test_shuffle(buffer):
    n = 20
    ds = tf.data.Dataset.range(n).shuffle(buffer, seed=7).repeat(2)
    first = [int(v) for v in drain(ds)]
    epochs = first[:n], first[n:]
    assert sorted(epochs[0]) == list(range(n)) and sorted(epochs[1]) == list(range(n))
    assert epochs[0] != list(range(n)) and epochs[0] != epochs[1]  # shuffled, reshuffled each epoch
    tf.reset_default_graph()
    again = [int(v) for v in drain(tf.data.Dataset.range(n).shuffle(buffer, seed=7).repeat(2))]
    assert again == first  # reproducible with a seed
    tf.reset_default_graph()
    fixed = [int(v) for v in drain(tf.data.Dataset.range(n).shuffle(buffer, seed=7, reshuffle_each_iteration=False)
                                   .repeat(2))]
    assert fixed[:n] == fixed[n:] and sorted(fixed[:n]) == list(range(n))


def test_shuffle_unseeded_differs_between_initializations():
    ds = tf.data.Dataset.range(50).shuffle(50)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    orders = []
    with tf.Session() as sess:
        for _ in range(2):
            sess.run(it.initializer)
            orders.append([int(sess.run(nxt)) for _ in range(50)])
    assert sorted(orders[0]) == list(range(50)) and orders[0] != orders[1]


def test_shuffle_batch_device_matches_permutation():
    ds = tf.data.Dataset.from_tensor_slices(np.arange(12)).shuffle(12, seed=3).batch(4)
    got = np.concatenate(drain(ds))
    assert sorted(got) == list(range(12)) and list(got) != list(range(12))


def test_shuffle_and_repeat():
    got = [int(v) for v in drain(tf.data.Dataset.range(5).apply(tf.data.experimental.shuffle_and_repeat(5, 2, 1)))]
    assert sorted(got) == sorted(list(range(5)) * 2)


def test_placeholder_fed_initializer():
    for shape in ([None], [4]):
        tf.reset_default_graph()
        x = tf.placeholder(tf.float32, shape)
        it = tf.data.Dataset.from_tensor_slices(x).map(lambda v: v * 2.0).make_initializable_iterator()
        nxt = it.get_next()
        with tf.Session() as sess:
            for data in (np.arange(4, dtype=F32), np.arange(4, dtype=F32) + 10):
                sess.run(it.initializer, {x: data})
                assert [float(sess.run(nxt)) for _ in range(4)] == list(data * 2)
                with pytest.raises(tf.errors.OutOfRangeError):
                    sess.run(nxt)


def test_from_structure_switches_datasets():
    train = tf.data.Dataset.range(3)
    val = tf.data.Dataset.range(10, 12)
    it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
    nxt = it.get_next()
    t_init, v_init = it.make_initializer(train), it.make_initializer(val)
    with tf.Session() as sess:
        sess.run(t_init)
        assert [sess.run(nxt) for _ in range(2)] == [0, 1]
        sess.run(v_init)
        assert [sess.run(nxt) for _ in range(2)] == [10, 11]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)
    with pytest.raises(TypeError, match="Expected output types"):
        it.make_initializer(tf.data.Dataset.from_tensor_slices(np.zeros(2, F32)))


def test_feedable_iterator():
    train = tf.data.Dataset.range(100).repeat()
    val = tf.data.Dataset.range(50, 53)
    handle = tf.placeholder(tf.string, shape=[])
    it = tf.data.Iterator.from_string_handle(handle, train.output_types, train.output_shapes)
    nxt = it.get_next()
    train_it = train.make_one_shot_iterator()
    val_it = val.make_initializable_iterator()
    with tf.Session() as sess:
        th, vh = sess.run(train_it.string_handle()), sess.run(val_it.string_handle())
        assert [sess.run(nxt, {handle: th}) for _ in range(3)] == [0, 1, 2]
        sess.run(val_it.initializer)
        assert [sess.run(nxt, {handle: vh}) for _ in range(3)] == [50, 51, 52]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt, {handle: vh})
        assert sess.run(nxt, {handle: th}) == 3


# --- bad input ----------------------------------------------------------------------------------
def test_mismatched_slices_static():
    with pytest.raises(ValueError, match="Dimensions 3 and 2 are not compatible"):
        tf.data.Dataset.from_tensor_slices((np.zeros(3), np.zeros(2)))


def test_mismatched_slices_fed():
    p, q = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [None])
    it = tf.data.Dataset.from_tensor_slices((p, q)).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="same size in the 0th dimension"):
            sess.run(it.initializer, {p: np.zeros(3), q: np.zeros(2)})
        sess.run(it.initializer, {p: np.ones(2), q: np.ones(2)})  # the session is unaffected
        assert sess.run(nxt) == (1.0, 1.0)


def test_generator_raises():
    def gen():
        yield 1
        raise ValueError("boom in generator")
    nxt = tf.data.Dataset.from_generator(gen, tf.int64).make_one_shot_iterator().get_next()
    other = tf.constant(5.0) * 2.0
    with tf.Session() as sess:
        assert sess.run(nxt) == 1
        with pytest.raises(tf.errors.InvalidArgumentError, match="ValueError: boom in generator"):
            sess.run(nxt)
        assert sess.run(other) == 10.0


@pytest.mark.parametrize("value,types,shapes,match", [
    (["a"], tf.int64, [], "could not be converted to the expected type. The expected type was int64"),
    ([[1, 2, 3]], tf.int64, [2], r"yielded an element of shape \(3,\) where an element of shape \(2,\)"),
    ([1], (tf.int64, tf.int64), ([], []), "did not match the expected structure"),
])
def test_generator_bad_yield(value, types, shapes, match):
    nxt = tf.data.Dataset.from_generator(lambda: iter(value), types, shapes).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=match):
            sess.run(nxt)


@pytest.mark.parametrize("value,types,want", [
    ((np.arange(3, dtype=np.int32), np.array([[1.0], [2.9], [-3.5]])), (tf.int32, tf.int32),
     (np.arange(3, dtype=np.int32), np.array([[1], [2], [-3]], np.int32))),  # the lecture's word2vec batches
    (2 ** 40, tf.int32, np.int32(0)),                                       # numpy's astype wraps
    (["ab", b"c"], tf.string, np.array([b"ab", b"c"], dtype=object)),
])
def test_generator_converts_with_numpy_rules(value, types, want):
    nxt = tf.data.Dataset.from_generator(lambda: iter([value]), types).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        got = sess.run(nxt)
    for g, w in zip(got if isinstance(got, tuple) else [got], want if isinstance(want, tuple) else [want]):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_array_equal(g, w)


def test_generator_string_of_int_is_internal_error():
    nxt = tf.data.Dataset.from_generator(lambda: iter([5]), tf.string).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InternalError, match="Unsupported object type int"):
            sess.run(nxt)


def test_one_shot_rejects_placeholder():
    p = tf.placeholder(tf.float32, [None])
    with pytest.raises(ValueError, match="Cannot capture a placeholder"):
        tf.data.Dataset.from_tensor_slices(p).make_one_shot_iterator()


def test_filter_predicate_must_be_bool():
    with pytest.raises(ValueError, match="scalar boolean"):
        tf.data.Dataset.range(3).filter(lambda x: x)


def test_batch_mismatched_shapes():
    def gen():
        yield [1, 2]
        yield [1, 2, 3]
    nxt = tf.data.Dataset.from_generator(gen, tf.int64, [None]).batch(2).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot batch tensors with different shapes"):
            sess.run(nxt)


def test_generator_args_and_captured_variable():
    w = tf.Variable(2.0, name="w")
    mapped = tf.data.Dataset.from_tensor_slices(X[:3]).map(lambda x: x * w)
    it = mapped.make_initializable_iterator()
    gen = tf.data.Dataset.from_generator(lambda a, b: iter(range(a, b)), tf.int64, [], args=(2, 5))
    git = gen.make_initializable_iterator()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run([it.initializer, git.initializer])
        assert [float(sess.run(it.get_next())) for _ in range(1)] == [0.0]
        assert [int(sess.run(git.get_next())) for _ in range(3)] == [2, 3, 4]
    with pytest.raises(ValueError, match="does not support datasets that capture stateful objects"):
        mapped.make_one_shot_iterator()


def test_host_threads_stop_with_their_session():
    import gc
    import threading
    import time
    before = threading.active_count()
    for _ in range(3):
        nxt = tf.data.Dataset.range(100).filter(lambda x: tf.cast(x, tf.bool)).make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            sess.run(nxt)
    gc.collect()
    for _ in range(50):
        if threading.active_count() <= before:
            break
        time.sleep(0.05)
    assert threading.active_count() <= before


@pytest.mark.parametrize("build", [
    lambda: tf.data.Dataset.range(10).shuffle(4, seed=1).repeat(2).batch(4, drop_remainder=True),
    lambda: tf.data.Dataset.range(10).shuffle(4, seed=1, reshuffle_each_iteration=False).repeat(2),
    lambda: tf.data.Dataset.range(9).map(lambda x: x * 2).shuffle(2, seed=5).batch(3, drop_remainder=True).repeat(2),
    lambda: tf.data.Dataset.range(11).shuffle(4, seed=3).batch(3).repeat(2),
    lambda: tf.data.Dataset.range(11).shuffle(4, seed=3).repeat(2).batch(3),
], ids=["batch_across_epochs", "no_reshuffle", "map_drop", "ragged_batch", "ragged_across_epochs"])
def test_small_buffer_shuffle_device_equals_host(build):
    """A shuffle buffer smaller than the data: TF's buffered order, computed by the host per epoch, is the
    same whether the pipeline is walked on the device (initializable) or on the host (from_structure)."""
    ds = build()
    from lowering.data import device_plan, node_of
    plan = device_plan(node_of(ds._variant.op))
    assert plan.ok and plan.shuffle is not None
    device = drain(ds, "initializable")
    host = drain(ds, "from_structure")
    assert len(device) == len(host)
    for d, h in zip(device, host):
        np.testing.assert_array_equal(d, h)
    flat = np.concatenate([np.atleast_1d(v) for v in device])
    values = np.unique(flat)
    if len(flat) % len(values) == 0:  # whole epochs: each a permutation
        assert all(np.sum(flat == v) == len(flat) // len(values) for v in values)


# --- host walks: a Python-free map runs compiled over chunks of elements -------------------------------
def _drain(nxt, sess):
    out = []
    while True:
        try:
            out.append(sess.run(nxt))
        except tf.errors.OutOfRangeError:
            return out


def test_host_map_runs_compiled_over_chunks():
    images = np.arange(300 * 6, dtype=np.uint8).reshape(300, 2, 3)
    labels = np.arange(300) % 7
    ds = tf.data.Dataset.from_generator(lambda: ((images[i], labels[i]) for i in range(300)),
                                        (tf.uint8, tf.int64), ([2, 3], []))
    mapped = ds.map(lambda x, y: (tf.reshape(tf.cast(x, tf.float32) / 255.0, [6]), tf.one_hot(y, 7)))
    nxt = mapped.batch(50).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        batches = _drain(nxt, sess)
    np.testing.assert_allclose(np.concatenate([b[0] for b in batches]),
                               images.reshape(300, 6).astype(np.float32) / np.float32(255.0), rtol=1e-6)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), np.eye(7, dtype=np.float32)[labels])
    assert batches[0][0].dtype == np.float32 and len(batches) == 6
    from lowering.data import node_of
    assert len(node_of(mapped._variant.op)._fn._host_compiled._compiled) == 1  # one element signature, compiled once


def test_host_map_ragged_elements_and_few_reads_ahead():
    reads = []

    def gen():
        for n in range(1, 12):
            reads.append(n)
            yield np.arange(n, dtype=np.int32)
    mapped = tf.data.Dataset.from_generator(gen, tf.int32, [None]).map(lambda x: tf.reduce_sum(x * 2))
    nxt = mapped.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert sess.run(nxt) == 0
        assert len(reads) <= 4  # the host walk reads ahead a little, not the whole input
        rest = _drain(nxt, sess)
    assert [int(v) for v in rest] == [n * (n - 1) for n in range(2, 12)]


def test_host_map_error_surfaces_at_its_element():
    table = tf.constant([10.0, 20.0, 30.0])
    ids = [0, 1, 2, 1, 7, 0]
    nxt = tf.data.Dataset.from_generator(lambda: iter(ids), tf.int32, []).map(
        lambda i: tf.gather(table, i)).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert [float(sess.run(nxt)) for _ in range(4)] == [10.0, 20.0, 30.0, 20.0]
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\b7\b"):  # the bad index, as the op reports it
            sess.run(nxt)


def test_parallel_map_of_py_func_keeps_order():
    import threading
    threads = set()

    def slow_square(x):
        threads.add(threading.get_ident())
        return np.int64(x * x)
    ds = tf.data.Dataset.range(40).map(lambda x: tf.py_func(slow_square, [x], tf.int64), num_parallel_calls=4)
    assert ds._variant.op.type == "ParallelMapDatasetV2"
    assert ds._variant.op.inputs[-1].op.name == "num_parallel_calls"
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert [int(v) for v in _drain(nxt, sess)] == [i * i for i in range(40)]
    assert len(threads) > 1


def test_parallel_map_validates_num_parallel_calls():
    it = tf.data.Dataset.range(3).map(lambda x: x, num_parallel_calls=0).make_initializable_iterator()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="num_parallel_calls must be greater than zero"):
            sess.run(it.initializer)


@pytest.mark.parametrize("buffer,expected", [(None, 2), (5, 5), (tf.data.experimental.AUTOTUNE, 8)])
def test_host_walk_keeps_prefetch_buffer_elements_ready(buffer, expected):
    from lowering.rules.data import HostIterator
    ds = tf.data.Dataset.from_generator(lambda: iter(range(20)), tf.int64, [])
    ds = ds if buffer is None else ds.prefetch(buffer)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert [int(sess.run(nxt)) for _ in range(3)] == [0, 1, 2]
        walks = [v for v in sess._state.values() if isinstance(v, HostIterator)]
    assert [w._queue.maxsize for w in walks] == [expected]
