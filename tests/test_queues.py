"""TF1 queues (FIFO, padding, random-shuffle, priority): graph, values, errors, blocking and sessions.

Oracle cases replay the same sequence of runs under real TensorFlow and compare every outcome (values,
error classes, error texts); thread cases check TF's blocking semantics with bounded joins.
"""
import re

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle
from tests.threads import Background, wait_until


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _normalize(message: str) -> str:
    return re.sub(r"'_\d+_", "'_N_", message)


def play(tf_module, build):
    """Builds `build(tf)` → (steps, graph facts) in a fresh graph, runs the steps in one session and
    returns [(label, value or (error class, message))] and the op (name, type) list."""
    graph = tf_module.Graph()
    log = []
    with graph.as_default():
        steps = build(tf_module)
        ops = [(op.name, op.type) for op in graph.get_operations()]
        with tf_module.Session(graph=graph) as sess:
            for label, fetch, *feed in steps:
                try:
                    value = _plain(sess.run(fetch, feed[0] if feed else None))
                except tf_module.errors.OpError as e:
                    value = (type(e).__name__, _normalize(e.message))
                log.append((label, value))
    return log, ops


def _same(got, want):
    assert len(got) == len(want)
    for (label, g), (_, w) in zip(got, want):
        if isinstance(w, tuple) and len(w) == 2 and isinstance(w[0], str) and w[0].endswith("Error"):
            assert isinstance(g, tuple), f"{label}: got {g!r}, TF raised {w[0]}"
            assert g[0] == w[0], f"{label}: {g[0]} vs TF's {w[0]}"
            assert g[1] in w[1], f"{label}: message {g[1]!r} not in TF's {w[1]!r}"
        else:
            assert g == w, f"{label}: {g!r} != TF's {w!r}"


def fifo_basics(tf):
    q = tf.FIFOQueue(3, [tf.float32, tf.int32], shapes=[[2], []])
    enq = q.enqueue([[1.0, 2.0], 3])
    pa = tf.placeholder(tf.float32)
    bad = q.enqueue([pa, 1])
    many = q.enqueue_many([[[1.0, 2.0], [3.0, 4.0]], [5, 6]])
    return [("enqueue", enq), ("enqueue_many", many), ("size", q.size()),
            ("shape mismatch", bad, {pa: [1.0, 2.0, 3.0]}), ("dequeue_many", q.dequeue_many(2)),
            ("dequeue", q.dequeue()), ("size0", q.size()), ("closed?", q.is_closed()), ("close", q.close()),
            ("closed!", q.is_closed()), ("enqueue closed", enq), ("dequeue closed", q.dequeue()),
            ("dequeue_many closed", q.dequeue_many(2)), ("dequeue_up_to closed", q.dequeue_up_to(2)),
            ("close twice", q.close()), ("close cancel twice", q.close(cancel_pending_enqueues=True))]


def fifo_up_to(tf):
    q = tf.FIFOQueue(10, tf.int32, shapes=[[]])
    return [("fill", q.enqueue_many([[1, 2, 3]])), ("close", q.close()), ("up_to 2", q.dequeue_up_to(2)),
            ("up_to 2 again", q.dequeue_up_to(2)), ("up_to empty", q.dequeue_up_to(2)),
            ("dequeue_many(0)", q.dequeue_many(0))]


def no_shapes(tf):
    q = tf.FIFOQueue(5, [tf.float32, tf.int32])
    pa, pb = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.int32, [None])
    return [("batch mismatch", q.enqueue_many([pa, pb]), {pa: [1.0, 2.0], pb: [1, 2, 3]}),
            ("ok", q.enqueue_many([pa, pb]), {pa: [1.0, 2.0], pb: [1, 2]}),
            ("dequeue_many", q.dequeue_many(1)), ("dequeue", q.dequeue())]


def padding(tf):
    q = tf.PaddingFIFOQueue(5, [tf.int32, tf.string], shapes=[[None], []])
    p = tf.placeholder(tf.int32)
    return [("e1", q.enqueue([[1, 2], "a"])), ("e2", q.enqueue([[3], "b"])), ("e3", q.enqueue([[4, 5, 6], "c"])),
            ("rank mismatch", q.enqueue([p, "x"]), {p: [[1]]}),
            ("many", q.dequeue_many(3)), ("e4", q.enqueue([[7], "d"])), ("close", q.close()),
            ("up_to", q.dequeue_up_to(4)), ("empty many(0)", q.dequeue_many(0))]


def priority(tf):
    q = tf.PriorityQueue(10, [tf.string, tf.float32], shapes=[[], [2]])
    return [("fill", q.enqueue_many([[5, 1, 3], ["a", "b", "c"], np.ones([3, 2], np.float32)])),
            ("one", q.enqueue((2, "d", [0.5, 1.5]))), ("size", q.size()), ("many", q.dequeue_many(3)),
            ("one", q.dequeue())]


def named(tf):
    q = tf.FIFOQueue(4, [tf.int32, tf.float32], shapes=[[], []], names=["i", "f"])
    return [("enqueue", q.enqueue({"i": 1, "f": 2.5})), ("many", q.enqueue_many({"i": [2, 3], "f": [0.5, 1.0]})),
            ("dequeue", q.dequeue()), ("dequeue_many", q.dequeue_many(2))]


def shuffle_drain(tf):
    q = tf.RandomShuffleQueue(10, 3, tf.int32, shapes=[[]], seed=7)
    out = q.dequeue_up_to(10)
    return [("fill", q.enqueue_many([list(range(6))])), ("size", q.size()), ("close", q.close()),
            ("drain", tf.sort(out)), ("empty", q.dequeue())]


SCENARIOS = {"fifo_basics": fifo_basics, "fifo_up_to": fifo_up_to, "no_shapes": no_shapes, "padding": padding,
             "priority": priority, "named": named, "shuffle_drain": shuffle_drain}


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_queue_scenarios_match_tf(name):
    v1 = oracle.tf1()
    got, got_ops = play(tf, SCENARIOS[name])
    want, want_ops = play(v1, SCENARIOS[name])
    assert got_ops == want_ops
    _same(got, want)


@pytest.mark.oracle
def test_queue_node_defs_match_tf():
    """Attrs (and the CPU device of FIFOQueue) as TF records them, so GraphDefs interoperate."""
    v1 = oracle.tf1()

    def build(tf):
        tf.FIFOQueue(3, [tf.float32, tf.int32], shapes=[[2], []], shared_name="shared")
        tf.PaddingFIFOQueue(3, [tf.int32], shapes=[[None, 2]])
        tf.set_random_seed(5)
        q = tf.RandomShuffleQueue(9, 2, [tf.int64], seed=11)
        tf.PriorityQueue(4, [tf.string], shapes=[[]])
        q.close(cancel_pending_enqueues=True)
        q.dequeue_many(3)
        q.enqueue_many([[1, 2]])

    def defs(tf_module):
        graph = tf_module.Graph()
        with graph.as_default():
            build(tf_module)
        out = {}
        for node in graph.as_graph_def().node:
            attrs = {k: node.attr[k].SerializeToString(deterministic=True) for k in node.attr
                     if not k.startswith("_")}
            out[node.name] = (node.op, node.device, list(node.input), attrs)
        return out
    got, want = defs(tf), defs(v1)
    assert got.keys() == want.keys()
    for name in want:
        assert got[name][:3] == want[name][:3], name
        assert got[name][3] == want[name][3], name


BUILD_ERRORS = {
    "shapes vs dtypes": lambda tf: tf.FIFOQueue(3, [tf.float32], shapes=[[1], [2]]),
    "names vs dtypes": lambda tf: tf.FIFOQueue(3, [tf.float32], names=["a", "b"]),
    "partial shape": lambda tf: tf.FIFOQueue(3, [tf.float32], shapes=[[None]]),
    "padding unknown rank": lambda tf: tf.PaddingFIFOQueue(3, [tf.float32], shapes=[None]),
    "enqueue shape": lambda tf: tf.FIFOQueue(3, [tf.float32, tf.int32], shapes=[[2], []]).enqueue(1.0),
    "enqueue_many scalar": lambda tf: tf.FIFOQueue(3, tf.float32).enqueue_many(1.0),
    "enqueue_many batch": lambda tf: tf.FIFOQueue(3, [tf.float32, tf.float32]).enqueue_many(
        [[1.0, 2.0], [1.0, 2.0, 3.0]]),
    "dict without names": lambda tf: tf.FIFOQueue(3, tf.float32).enqueue({"a": 1.0}),
    "names need dict": lambda tf: tf.FIFOQueue(3, tf.float32, names="a").enqueue(1.0),
    "dict keys": lambda tf: tf.FIFOQueue(3, tf.float32, names="a").enqueue({"b": 1.0}),
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(BUILD_ERRORS))
def test_build_errors_match_tf(name):
    v1 = oracle.tf1()

    def outcome(tf_module):
        with tf_module.Graph().as_default():
            with pytest.raises((ValueError, TypeError)) as info:
                BUILD_ERRORS[name](tf_module)
        # graphcompat prints TF1's TensorShape repr (`Dimension(2)`), TF 2 prints `2`
        return type(info.value).__name__, re.sub(r"Dimension\((\w+)\)", r"\1", str(info.value))
    got, want = outcome(tf), outcome(v1)
    assert got[0] == want[0]
    assert got[1] == want[1]


def test_zip_semantics_of_extra_components():
    """Like TF, extra enqueue values are ignored; too few fail at run time with TF's signature text."""
    q = tf.FIFOQueue(3, [tf.float32, tf.int32])
    extra = q.enqueue([1.0, 2, "ignored"])
    assert len(extra.inputs) == 3
    short = tf.FIFOQueue(3, [tf.float32, tf.int32]).enqueue([1.0])
    with tf.Session() as sess:
        sess.run(extra)
        assert sess.run(q.size()) == 1
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="Signature mismatch, have: resource, float expected: resource, float, int32"):
            sess.run(short)


# ------------------------------------------------------------------------------------------------
# Blocking and threads (every thread is joined with a timeout)
# ------------------------------------------------------------------------------------------------
def test_dequeue_many_larger_than_capacity_takes_elements_as_they_arrive():
    q = tf.FIFOQueue(2, tf.int32, shapes=[[]])
    x = tf.placeholder(tf.int32, [])
    enq, batch = q.enqueue(x), q.dequeue_many(5)
    with tf.Session() as sess:
        consumer = Background(lambda: sess.run(batch))
        for i in range(5):
            sess.run(enq, {x: i})
        np.testing.assert_array_equal(consumer.join(), np.arange(5))
        assert sess.run(q.size()) == 0


def test_close_wakes_blocked_dequeue_with_out_of_range():
    q = tf.FIFOQueue(2, tf.float32, shapes=[[]])
    out, close = q.dequeue(), q.close()
    with tf.Session() as sess:
        consumer = Background(lambda: sess.run(out))
        assert consumer.is_blocked()
        sess.run(close)
        with pytest.raises(tf.errors.OutOfRangeError, match="is closed and has insufficient elements"):
            consumer.join()


def test_partial_dequeue_many_is_returned_to_the_queue_when_closed():
    q = tf.FIFOQueue(5, tf.int32, shapes=[[]])
    x = tf.placeholder(tf.int32, [None])
    enq, batch, rest, close = q.enqueue_many(x), q.dequeue_many(4), q.dequeue_up_to(10), q.close()
    with tf.Session() as sess:
        consumer = Background(lambda: sess.run(batch))
        sess.run(enq, {x: [1, 2]})
        wait_until(lambda: sess.run(q.size()) == 0)  # the blocked dequeue_many holds both elements
        sess.run(close)
        with pytest.raises(tf.errors.OutOfRangeError, match=r"requested 2, current size 0"):
            consumer.join()
        np.testing.assert_array_equal(sess.run(rest), [1, 2])  # put back, in order


def test_cancel_pending_enqueues():
    q = tf.FIFOQueue(1, tf.int32, shapes=[[]])
    enq = q.enqueue(1)
    with tf.Session() as sess:
        sess.run(enq)
        producer = Background(lambda: sess.run(enq))
        assert producer.is_blocked()
        sess.run(q.close(cancel_pending_enqueues=True))
        with pytest.raises(tf.errors.CancelledError, match="Enqueue operation was cancelled"):
            producer.join()
        assert sess.run(q.dequeue()) == 1


def test_close_waits_behind_pending_enqueues():
    """A non-cancelling close is queued after the enqueues already waiting (TF's QueueBase::Close)."""
    q = tf.FIFOQueue(1, tf.int32, shapes=[[]])
    x = tf.placeholder(tf.int32, [])
    enq, deq, close = q.enqueue(x), q.dequeue(), q.close()
    with tf.Session() as sess:
        sess.run(enq, {x: 1})
        producer = Background(lambda: sess.run(enq, {x: 2}))
        assert producer.is_blocked()
        closer = Background(lambda: sess.run(close))
        assert closer.is_blocked()
        assert sess.run(deq) == 1
        producer.join()
        closer.join()
        assert sess.run(q.is_closed())
        assert sess.run(deq) == 2
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(deq)


def test_session_close_cancels_blocked_ops():
    q = tf.FIFOQueue(1, tf.float32, shapes=[[]])
    out = q.dequeue()
    sess = tf.Session()
    consumer = Background(lambda: sess.run(out))
    assert consumer.is_blocked()
    sess.close()
    with pytest.raises(tf.errors.CancelledError, match="Dequeue operation was cancelled"):
        consumer.join()


def test_random_shuffle_queue_keeps_min_after_dequeue_until_closed():
    q = tf.RandomShuffleQueue(10, 3, tf.int32, shapes=[[]], seed=1)
    x = tf.placeholder(tf.int32, [None])
    enq, deq, close = q.enqueue_many(x), q.dequeue(), q.close()
    with tf.Session() as sess:
        sess.run(enq, {x: [0, 1, 2]})
        consumer = Background(lambda: sess.run(deq))
        assert consumer.is_blocked()  # 3 elements, min_after_dequeue 3: nothing may leave yet
        sess.run(enq, {x: [3]})
        first = consumer.join()
        sess.run(close)
        rest = [sess.run(deq) for _ in range(3)]
        assert sorted([first] + rest) == [0, 1, 2, 3]
        with pytest.raises(tf.errors.OutOfRangeError, match="RandomShuffleQueue"):
            sess.run(deq)


def test_random_shuffle_queue_seeded_order_repeats_per_session():
    tf.set_random_seed(3)
    q = tf.RandomShuffleQueue(20, 0, tf.int32, shapes=[[]])
    enq, batch = q.enqueue_many([list(range(20))]), q.dequeue_many(20)

    def order():
        with tf.Session() as sess:
            sess.run(enq)
            return sess.run(batch)
    first, second = order(), order()
    np.testing.assert_array_equal(first, second)
    assert sorted(first) == list(range(20)) and list(first) != list(range(20))


def test_shared_name_queues_share_elements_and_check_attrs():
    a = tf.FIFOQueue(5, tf.int32, shapes=[[]], shared_name="common")
    b = tf.FIFOQueue(5, tf.int32, shapes=[[]], shared_name="common")
    c = tf.FIFOQueue(6, tf.int32, shapes=[[]], shared_name="common")
    with tf.Session() as sess:
        sess.run(a.enqueue(7))
        assert sess.run(b.dequeue()) == 7
        with pytest.raises(tf.errors.InvalidArgumentError, match="Shared queue 'common' has capacity 5 but "
                                                                   "requested capacity was 6"):
            sess.run(c.size())


def test_queues_of_two_sessions_are_independent():
    q = tf.FIFOQueue(5, tf.int32, shapes=[[]])
    enq, size = q.enqueue(1), q.size()
    with tf.Session() as s1, tf.Session() as s2:
        s1.run(enq)
        assert (s1.run(size), s2.run(size)) == (1, 0)


def test_training_step_fed_by_dequeue_runs_compiled():
    """The dequeue runs on the host ahead of the step; the step itself compiles once."""
    q = tf.FIFOQueue(16, [tf.float32, tf.float32], shapes=[[2], [1]])
    x, y = tf.placeholder(tf.float32, [None, 2]), tf.placeholder(tf.float32, [None, 1])
    enq = q.enqueue_many([x, y])
    bx, by = q.dequeue_many(4)
    w = tf.Variable(tf.zeros([2, 1]))
    loss = tf.reduce_mean(tf.square(tf.matmul(bx, w) - by))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    data = np.random.RandomState(0).rand(8, 2).astype(np.float32)
    target = data @ np.array([[1.0], [-2.0]], np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.reset_stats()
        losses = []
        for _ in range(120):
            sess.run(enq, {x: data[:4], y: target[:4]})
            losses.append(sess.run([train, loss])[1])
        stats = tf.stats()
        assert stats["compilations"] == 1 and stats["compiled_runs"] >= 119
        assert losses[-1] < 0.05 * losses[0]
