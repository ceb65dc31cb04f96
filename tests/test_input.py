"""Queue-based input pipelines (tf.train.*_input_producer, batch, shuffle_batch …) against real TensorFlow.

Non-shuffled single-thread pipelines must give TF's batches in TF's order, end with TF's OutOfRangeError,
and build TF's graph (op names and types, summaries, queue runners). Shuffled and multi-threaded ones
must give the same multiset. Every pipeline runs with QueueRunner threads joined under a time bound.
"""
import contextlib
import re

import numpy as np
import pytest

import graphcompat as tf
from lowering.executor import runner_for
from tests import oracle


@pytest.fixture(scope="module")
def text_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("input")
    paths = []
    for i in range(3):
        path = d / f"f{i}.txt"
        path.write_text("".join(f"{i}-{j}\n" for j in range(4)))
        paths.append(str(path))
    return paths


@contextlib.contextmanager
def ref_variables(tf_module):
    """TF 2's compat.v1 makes resource variables; graphcompat (like TF 1) makes ref variables."""
    if tf_module is tf:
        yield
        return
    tf_module.disable_resource_variables()
    try:
        yield
    finally:
        tf_module.enable_resource_variables()


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def drain(tf_module, build, sort_rows=False, max_runs=200):
    """Builds `build(tf)` (→ fetches), starts the queue runners and runs until OutOfRangeError.

    Returns (batches, error message, op (name, type) list, summary names, queue runner names, fetch kind).
    """
    graph = tf_module.Graph()
    with graph.as_default(), ref_variables(tf_module):
        fetches = build(tf_module)
        kind = "Tensor" if type(fetches).__name__.endswith("Tensor") else type(fetches).__name__
        ops = [(op.name, op.type) for op in graph.get_operations()]
        summaries = [s.op.name for s in graph.get_collection(tf_module.GraphKeys.SUMMARIES)]
        runners = [qr.name for qr in graph.get_collection(tf_module.GraphKeys.QUEUE_RUNNERS)]
        batches, error = [], None
        with tf_module.Session(graph=graph) as sess:
            sess.run([tf_module.global_variables_initializer(), tf_module.local_variables_initializer()])
            coord = tf_module.train.Coordinator()
            threads = tf_module.train.start_queue_runners(sess, coord)
            try:
                for _ in range(max_runs):
                    batches.append(_plain(sess.run(fetches)))
            except tf_module.errors.OutOfRangeError as e:
                error = re.sub(r"'_\d+_", "'_N_", e.message)
            finally:
                coord.request_stop()
                coord.join(threads, stop_grace_period_secs=30)
    if sort_rows:  # order is up to the threads and the shuffle: compare the multiset of values
        batches = sorted(repr(v) for v in _leaves(batches))
    return batches, error, ops, summaries, runners, kind


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _compare(got, want, *, same_order=True):
    g_batches, g_error, g_ops, g_summaries, g_runners, g_kind = got
    w_batches, w_error, w_ops, w_summaries, w_runners, w_kind = want
    assert g_batches == w_batches
    assert (g_error is None) == (w_error is None)
    if w_error is not None:
        # how many elements a final dequeue_many had taken when its queue closed is up to the threads
        numbers = re.compile(r"requested \d+, current size \d+")
        assert numbers.sub("N", g_error) in numbers.sub("N", w_error)
    assert g_ops == w_ops
    assert g_summaries == w_summaries and g_runners == w_runners and g_kind == w_kind


def text_batches(allow_smaller):
    def build(tf, files):
        names = tf.train.string_input_producer(files, num_epochs=2, shuffle=False)
        _, line = tf.TextLineReader().read(names)
        return tf.train.batch([line], 5, allow_smaller_final_batch=allow_smaller)
    return build


PIPELINES = {
    "text allow_smaller": (text_batches(True), False),
    "text full batches": (text_batches(False), False),
    "range": (lambda tf, files: tf.train.range_input_producer(7, num_epochs=1, shuffle=False).dequeue_many(3), False),
    "slice + batch": (lambda tf, files: tf.train.batch(
        tf.train.slice_input_producer([tf.constant(np.arange(10).reshape(5, 2)), tf.constant(list("abcde"))],
                                      num_epochs=1, shuffle=False), 2, allow_smaller_final_batch=True), False),
    "input_producer dict enqueue_many": (lambda tf, files: tf.train.batch(
        {"x": tf.train.input_producer(tf.constant([[1, 2], [3, 4], [5, 6]]), num_epochs=2,
                                      shuffle=False).dequeue_many(2),
         "y": tf.constant([7, 8])}, 3, enqueue_many=True, allow_smaller_final_batch=True), False),
    "dynamic pad": (lambda tf, files: tf.train.batch(
        [tf.range(tf.train.range_input_producer(5, num_epochs=1, shuffle=False).dequeue())], 2,
        dynamic_pad=True, allow_smaller_final_batch=True), False),
    "batch_join": (lambda tf, files: tf.train.batch_join(
        [[tf.train.range_input_producer(4, num_epochs=1, shuffle=False).dequeue(), tf.constant("a")],
         [tf.train.range_input_producer(3, num_epochs=1, shuffle=False).dequeue() + 10, tf.constant("b")]],
        3, allow_smaller_final_batch=True), True),
    "shuffle_batch": (lambda tf, files: tf.train.shuffle_batch(
        [tf.train.range_input_producer(20, num_epochs=2, shuffle=True, seed=3).dequeue()], 6, capacity=10,
        min_after_dequeue=4, num_threads=2, seed=5, allow_smaller_final_batch=True), True),
    "shuffle_batch_join": (lambda tf, files: tf.train.shuffle_batch_join(
        [[tf.train.range_input_producer(5, num_epochs=1).dequeue()],
         [tf.train.range_input_producer(5, num_epochs=1).dequeue() * 10]], 4, capacity=8, min_after_dequeue=2,
        allow_smaller_final_batch=True), True),
    "maybe_batch vector": (lambda tf, files: tf.train.maybe_batch(
        [tf.train.range_input_producer(6, num_epochs=1, shuffle=False).dequeue_many(3)],
        keep_input=tf.constant([True, False, True]), batch_size=2, enqueue_many=True,
        allow_smaller_final_batch=True), False),
    "maybe_shuffle_batch constant": (lambda tf, files: tf.train.maybe_shuffle_batch(
        [tf.train.range_input_producer(6, num_epochs=1).dequeue()], 4, 10, 1, keep_input=True,
        allow_smaller_final_batch=True), True),
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_pipeline_matches_tf(name, text_files):
    v1 = oracle.tf1()
    build, unordered = PIPELINES[name]
    got = drain(tf, lambda t: build(t, text_files), sort_rows=unordered)
    want = drain(v1, lambda t: build(t, text_files), sort_rows=unordered)
    _compare(got, want)


BUILD_ERRORS = {
    "empty file list": lambda tf: tf.train.string_input_producer([]),
    "zero epochs": lambda tf: tf.train.limit_epochs(tf.constant([1]), num_epochs=0),
    "unknown element shape": lambda tf: tf.train.input_producer(tf.placeholder(tf.float32, [None, None])),
    "capacity vs min_after_dequeue": lambda tf: tf.train.shuffle_batch([tf.constant(1)], 2, 5, 5),
    "vector keep_input": lambda tf: tf.train.maybe_batch([tf.constant(1)], tf.constant([True]), 2),
    "matrix keep_input": lambda tf: tf.train.maybe_batch([tf.constant([1])], tf.constant([[True]]), 2,
                                                          enqueue_many=True),
    "join types": lambda tf: tf.train.batch_join([[tf.constant(1)], [tf.constant(1.0)]], 2),
    "join dict keys": lambda tf: tf.train.batch_join([{"a": tf.constant(1)}, {"b": tf.constant(1)}], 2),
    "unknown rank": lambda tf: tf.train.batch([tf.placeholder(tf.float32)], 2),
    "empty batch": lambda tf: tf.train.batch([], 2),
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(BUILD_ERRORS))
def test_build_errors_match_tf(name):
    v1 = oracle.tf1()

    def outcome(tf_module):
        with tf_module.Graph().as_default():
            with pytest.raises((ValueError, TypeError)) as info:
                BUILD_ERRORS[name](tf_module)
        text = re.sub(r"Tensor\(\"(\w+):0\"[^)]*\)", r"Tensor(\1)", str(info.value))  # Tensor.__str__ varies
        return type(info.value).__name__, text
    assert outcome(tf) == outcome(v1)


def test_maybe_batch_with_a_scalar_tensor_names_the_missing_feature():
    with pytest.raises(NotImplementedError, match="tf.train.maybe_batch/maybe_shuffle_batch with a scalar"):
        tf.train.maybe_batch([tf.constant(1)], tf.placeholder(tf.bool, []), 2)


def test_sparse_inputs_name_the_missing_feature():
    st = tf.SparseTensor(indices=[[0]], values=[1.0], dense_shape=[3])
    with pytest.raises(NotImplementedError, match="SparseTensor inputs"):
        tf.train.batch([st], 2)


def test_shuffle_batch_seeded_graph_repeats_its_batches_single_threaded():
    def run():
        with tf.Graph().as_default():
            tf.set_random_seed(1)
            x = tf.train.range_input_producer(30, num_epochs=1, shuffle=True).dequeue()
            batch = tf.train.shuffle_batch([x], 5, capacity=12, min_after_dequeue=6, allow_smaller_final_batch=True)
            out = []
            with tf.Session() as sess:
                sess.run(tf.local_variables_initializer())
                coord = tf.train.Coordinator()
                threads = tf.train.start_queue_runners(sess, coord)
                # let the producer finish first, so the shuffle queue sees the same sequence of states
                while True:
                    try:
                        out.append(sess.run(batch).tolist())
                    except tf.errors.OutOfRangeError:
                        break
                coord.request_stop()
                coord.join(threads, stop_grace_period_secs=30)
            return out
    first = run()
    assert sorted(v for b in first for v in b) == list(range(30))
    assert first != [list(range(i, min(i + 5, 30))) for i in range(0, 30, 5)]


def test_file_pipeline_trains_compiled_with_monitored_loop_shape(text_files, tmp_path):
    """A TF1 file pipeline feeding a model: batches are dequeued on the host, the step runs compiled."""
    rows = np.random.RandomState(0).rand(40, 3).astype(np.float32)
    path = tmp_path / "data.csv"
    path.write_text("".join(",".join(f"{v:.6f}" for v in r) + "\n" for r in rows))
    names = tf.train.string_input_producer([str(path)], num_epochs=5, shuffle=False)
    _, line = tf.TextLineReader().read(names)
    a, b, c = tf.decode_csv(line, [[0.0], [0.0], [0.0]])
    features, target = tf.train.batch([tf.stack([a, b]), c], 8)
    w = tf.Variable(tf.zeros([2, 1]))
    loss = tf.reduce_mean(tf.square(tf.squeeze(tf.matmul(features, w), 1) - target))
    train = tf.train.GradientDescentOptimizer(0.2).minimize(loss)
    steps = 0
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        try:
            while not coord.should_stop():
                sess.run(train)
                steps += 1
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=30)
        runner = runner_for(sess, train)
        assert runner.compiled is not None and not runner.eager_only
        assert runner.compiled.jitted._cache_size() == 1  # one compile for the whole loop
    assert steps == 40 * 5 // 8
