"""tf.TensorArray: the ops TF1 records, their values and errors, inside while_loop and cond, with gradients.

Every oracle case runs three times under graphcompat (op by op first, compiled after) and once under TF1
(control flow v1, as TF 1.x graphs record it).
"""
import numpy as np
import pytest

import graphcompat as gc
from tests import oracle

pytestmark = pytest.mark.oracle
X = (np.arange(12, dtype=np.float32).reshape(4, 3) - 5.0) / 7.0


@pytest.fixture(autouse=True)
def _tf1_control_flow():
    """TF 1.x's own control flow (Switch/Merge/Enter/Exit around TensorArrayV3) while a test runs; TF's
    process-wide default (control flow v2) is restored afterwards for the other oracle tests."""
    yield
    if oracle._TF is not None:
        oracle._TF.enable_control_flow_v2()


def _tf1():
    tf = oracle.tf1()
    tf.disable_control_flow_v2()
    return tf


def _run(tf, build, feed=None, runs=3):
    graph = tf.Graph()
    with graph.as_default():
        fetches = build(tf)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            return [sess.run(fetches, feed(graph) if feed else None) for _ in range(runs)]


def _read_write(tf):
    ta = tf.TensorArray(tf.float32, 3).write(0, [1.0, 2.0]).write(2, [5.0, 6.0])
    known = tf.TensorArray(tf.float32, 2, element_shape=[2]).write(1, [3.0, 4.0])
    return [ta.read(2), known.read(0), tf.TensorArray(tf.float32, 3).write(0, [7.0, 8.0]).write(1, [1., 1.]).stack()]


def _dynamic(tf):
    ta = tf.TensorArray(tf.float32, 1, dynamic_size=True).write(0, [1.0, 2.0]).write(3, [3.0, 4.0])
    return [ta.size(), ta.stack()]


def _scatter_gather_split(tf):
    values = tf.constant(X)
    scattered = tf.TensorArray(tf.float32, 5).scatter([4, 0, 2], values[:3])
    split = tf.TensorArray(tf.float32, 2).split(tf.reshape(values, [-1]), [6, 6])
    unstacked = tf.TensorArray(tf.int32, 4).unstack(tf.constant([[1, 2], [3, 4], [5, 6], [7, 8]]))
    return [scattered.gather([0, 4]), split.concat(), unstacked.read(3), unstacked.size()]


def _rnn_with_gradients(tf):
    x = tf.constant(X)
    w = tf.constant([[0.5, -0.2, 0.1], [0.3, 0.8, -0.4], [0.0, 0.2, 0.6]])
    inputs = tf.TensorArray(tf.float32, 4).unstack(x)
    outputs = tf.TensorArray(tf.float32, 4)

    def body(i, h, out):
        h = tf.tanh(tf.matmul(h[None], w)[0] + inputs.read(i))
        return [i + 1, h, out.write(i, h)]

    _, h, out = tf.while_loop(lambda i, *_: i < 4, body, [0, tf.zeros([3]), outputs], maximum_iterations=4)
    y = tf.reduce_sum(out.stack() ** 2) + tf.reduce_sum(h)
    return [y] + tf.gradients(y, [x, w])


def _in_cond(tf):
    ta = tf.TensorArray(tf.float32, 2)
    pred = tf.constant(True)
    ta = tf.cond(pred, lambda: ta.write(0, [1.0]).write(1, [2.0]), lambda: ta.write(0, [3.0]).write(1, [4.0]))
    return ta.stack()


def _training(tf):
    w = tf.Variable([[0.3, -0.1], [0.2, 0.4]])
    x = tf.constant([[1.0, 0.5], [0.2, -1.0], [0.7, 0.3]])
    ta = tf.TensorArray(tf.float32, 3)

    def body(i, h, ta):
        h = tf.tanh(tf.matmul(h[None], w)[0] + x[i])
        return [i + 1, h, ta.write(i, h)]

    _, _, ta = tf.while_loop(lambda i, *_: i < 3, body, [0, tf.zeros([2]), ta], maximum_iterations=3)
    loss = tf.reduce_sum((ta.stack() - 0.5) ** 2)
    train = tf.train.GradientDescentOptimizer(0.2).minimize(loss)
    with tf.control_dependencies([train]):
        return tf.identity(loss)


CASES = [_read_write, _dynamic, _scatter_gather_split, _rnn_with_gradients, _in_cond]


@pytest.mark.parametrize("build", CASES, ids=lambda f: f.__name__.strip("_"))
def test_values_match_tf(build):
    want = _run(_tf1(), build, runs=1)[0]
    for got in _run(gc, build):
        for g, w in zip(got if isinstance(got, list) else [got], want if isinstance(want, list) else [want]):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
            assert np.asarray(g).dtype == np.asarray(w).dtype


def test_training_through_a_tensor_array_loop_matches_tf():
    want = _run(_tf1(), _training, runs=4)
    got = _run(gc, _training, runs=4)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_loop_over_a_fed_length_runs_every_size():
    def build(tf):
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        n = tf.shape(x)[0]

        def body(i, ta):
            return [i + 1, ta.write(i, x[i] * tf.cast(i, tf.float32))]

        _, ta = tf.while_loop(lambda i, ta: i < n, body, [0, tf.TensorArray(tf.float32, n)])
        return ta.stack()

    for rows in (3, 5, 3, 1):
        feed = lambda g: {g.get_tensor_by_name("x:0"): np.full((rows, 2), 2.0, np.float32)}  # noqa: E731
        got = _run(gc, build, feed, runs=2)
        np.testing.assert_allclose(got[-1], 2.0 * np.arange(rows)[:, None] * np.ones((rows, 2)))


def test_names_types_and_shapes_match_tf():
    def build(tf):
        ta = tf.TensorArray(tf.float32, 3, name="foo")
        w = ta.write(0, tf.zeros([2, 5]))
        outs = [w.read(0), w.stack(), w.concat(), ta.flow, ta.handle]
        outs.append(tf.TensorArray(tf.float32, 0, dynamic_size=True).unstack(tf.ones([4, 2])).flow)
        ops = [(o.name, o.type) for o in tf.get_default_graph().get_operations()]
        return ops, [(t.name, t.dtype.name, t.shape.as_list() if t.shape.ndims is not None else None)
                     for t in outs], w.element_shape.as_list()

    tf1 = _tf1()
    results = []
    for tf in (gc, tf1):
        with tf.Graph().as_default():
            results.append(build(tf))
    assert results[0] == results[1]


ERRORS = [
    ("write past the end", lambda tf: tf.TensorArray(tf.float32, 3).write(5, [1.0]).flow,
     "Tried to write to index 5 but array is not resizeable and size is: 3"),
    ("read past the end", lambda tf: tf.TensorArray(tf.float32, 3).write(0, [1.0]).read(4),
     "Tried to read from index 4 but array size is: 3"),
    ("nothing written, shape unknown", lambda tf: tf.TensorArray(tf.float32, 3).stack(),
     "the element shape is not fully defined"),
    ("wrong dtype", lambda tf: tf.TensorArray(tf.float32, 3).write(0, tf.constant([1, 2])).flow,
     "TensorArray dtype is float but Op is trying to write dtype int32"),
    ("split lengths", lambda tf: tf.TensorArray(tf.float32, 3).split(tf.zeros([6]), [2, 2, 3]).flow,
     "Expected sum of lengths to be equal to values.shape\\[0\\], but sum of lengths is 7"),
]


@pytest.mark.parametrize("build,message", [(b, m) for _, b, m in ERRORS], ids=[e[0] for e in ERRORS])
def test_run_time_errors_match_tf(build, message):
    for tf in (gc, _tf1()):
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            _run(tf, build, runs=1)


def test_build_time_errors_match_tf():
    for tf in (gc, _tf1()):
        with tf.Graph().as_default():
            ta = tf.TensorArray(tf.float32, 3).write(0, tf.zeros([2, 5]))
            with pytest.raises(ValueError, match=r"Inconsistent shapes: saw \(3,\) but expected \(2, 5\)"):
                ta.write(1, tf.zeros([3]))
            with pytest.raises(ValueError, match="Argument `size` must be provided if handle is not provided"):
                tf.TensorArray(tf.float32)
            with pytest.raises(ValueError, match="Cannot provide both a `handle` and `size` arguments"):
                tf.TensorArray(tf.float32, 3, handle=ta.handle, flow=ta.flow)


def test_a_frozen_tf1_dynamic_rnn_imports_and_runs():
    """TF 1.x's dynamic_rnn records TF1 control flow (Enter/Merge/Switch/Exit) around TensorArrays: the
    frozen graph imports into graphcompat and gives TF's numbers."""
    tf1 = _tf1()
    xv = np.random.RandomState(0).randn(2, 5, 3).astype(np.float32)
    graph = tf1.Graph()
    with graph.as_default():
        x = tf1.placeholder(tf1.float32, [None, 5, 3], name="x")
        out, _ = tf1.nn.dynamic_rnn(tf1.nn.rnn_cell.GRUCell(4), x, dtype=tf1.float32)
        tf1.identity(tf1.reduce_sum(out, axis=1), name="y")
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            want = sess.run("y:0", {x: xv})
            frozen = tf1.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["y"])
    assert {"TensorArrayV3", "TensorArrayScatterV3", "Enter", "Merge"} <= {n.op for n in frozen.node}
    graph_def = gc.GraphDef()
    graph_def.ParseFromString(frozen.SerializeToString())
    with gc.Graph().as_default():
        gc.import_graph_def(graph_def, name="")
        with gc.Session() as sess:
            for _ in range(2):
                np.testing.assert_allclose(sess.run("y:0", {"x:0": xv}), want, rtol=1e-5, atol=1e-6)


def test_tf1_tensor_array_gradients_import_and_aggregate():
    """TF 1's gradients of TensorArray ops (control flow v1) write into `TensorArrayGradV3` arrays: one per
    forward array and source, zeros where nothing was written, and two gradients written to one index add
    up (an element read twice). The GraphDef TF wrote imports and runs with TF's gradients (compiled from
    the second run on)."""
    tf1 = _tf1()
    xv = np.random.RandomState(0).randn(3, 2).astype(np.float32)
    with oracle.control_flow_v2(False):
        graph = tf1.Graph()
        with graph.as_default():
            x = tf1.placeholder(tf1.float32, [3, 2], name="x")
            ta = tf1.TensorArray(tf1.float32, 3, clear_after_read=False).unstack(x)
            y = ta.read(0) * ta.read(0) + tf1.sin(ta.read(1))
            tf1.identity(tf1.gradients(tf1.reduce_sum(y), x)[0], name="dx")
            with tf1.Session() as sess:
                want = sess.run("dx:0", {x: xv})
    assert "TensorArrayGradV3" in {n.op for n in graph.as_graph_def().node}
    with gc.Graph().as_default():
        gc.import_graph_def(graph.as_graph_def(), name="")
        with gc.Session() as sess:
            for _ in range(3):
                np.testing.assert_allclose(sess.run("dx:0", {"x:0": xv}), want, rtol=1e-6, atol=1e-6)


def test_raw_rnn_matches_tf():
    """tf.nn.raw_rnn with a loop_fn that stops rows at their lengths (TF's documented use)."""
    steps, batch, depth, units = 5, 3, 2, 4
    xv = np.random.RandomState(0).randn(steps, batch, depth).astype(np.float32)

    def build(tf):
        inputs = tf.TensorArray(tf.float32, steps).unstack(tf.constant(xv))
        lengths = tf.constant([5, 2, 3])
        cell = tf.nn.rnn_cell.BasicRNNCell(units)

        def loop_fn(time, cell_output, cell_state, loop_state):
            state = cell.zero_state(batch, tf.float32) if cell_output is None else cell_state
            finished = time >= lengths
            next_input = tf.cond(tf.reduce_all(finished), lambda: tf.zeros([batch, depth]),
                                 lambda: inputs.read(tf.minimum(time, steps - 1)))
            return finished, next_input, state, cell_output, None

        emitted, final, loop_state = tf.nn.raw_rnn(cell, loop_fn)
        assert loop_state is None
        for v in tf.global_variables():
            size = int(np.prod(v.shape.as_list()))
            v._initializer_op = v.assign(np.linspace(-1, 1, size).reshape(v.shape.as_list()).astype(np.float32)).op
        return [emitted.stack(), final]

    want = _run(_tf1(), build, runs=1)[0]
    for got in _run(gc, build, runs=2):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
