"""tf.nn.dynamic_rnn records TF's `_dynamic_rnn_loop`: a While over input/output TensorArrays. TF's names
and variables, TF's numbers and gradients (with sequence_length, bidirectional), graphs TF runs."""
import numpy as np
import pytest

import graphcompat as gc
from tests import oracle

pytestmark = pytest.mark.oracle
XV = np.random.RandomState(0).randn(3, 5, 2).astype(np.float32)
LENGTHS = np.array([5, 2, 4], np.int32)


def _set_weights(tf):
    """Deterministic weights in both libraries (their initializers draw different numbers)."""
    for v in tf.global_variables():
        size = int(np.prod(v.shape.as_list()))
        v._initializer_op = v.assign(np.linspace(-1, 1, size).reshape(v.shape.as_list()).astype(np.float32)).op


def _gru(tf):
    x = tf.placeholder(tf.float32, [None, None, 2], name="x")
    out, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(3), x, dtype=tf.float32)
    return x, [out, state]


def _lstm_lengths(tf):
    x = tf.placeholder(tf.float32, [None, 5, 2], name="x")
    out, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.LSTMCell(3), x, sequence_length=LENGTHS, dtype=tf.float32)
    return x, [out, state.c, state.h]


def _bidirectional(tf):
    x = tf.placeholder(tf.float32, [None, 5, 2], name="x")
    (fw, bw), (sfw, sbw) = tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.GRUCell(3), tf.nn.rnn_cell.GRUCell(3), x, sequence_length=LENGTHS, dtype=tf.float32)
    return x, [fw, bw, sfw, sbw]


def _time_major(tf):
    x = tf.placeholder(tf.float32, [5, None, 2], name="x")
    out, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(3), x, time_major=True, dtype=tf.float32)
    return x, [out, state]


CASES = [_gru, _lstm_lengths, _bidirectional, _time_major]


@pytest.mark.parametrize("case", CASES, ids=lambda f: f.__name__.strip("_"))
def test_values_and_gradients_match_tensorflow(case):
    def build(tf):
        x, outs = case(tf)
        _set_weights(tf)
        loss = tf.add_n([tf.reduce_sum(tf.square(o)) for o in outs])
        return outs + [loss] + tf.gradients(loss, [x] + tf.trainable_variables())

    xv = XV.transpose(1, 0, 2) if case is _time_major else XV
    feed = lambda tf, g: {g.get_tensor_by_name("x:0"): xv}  # noqa: E731
    want = oracle.run(oracle.tf1(), build, feed, init_variables=True)
    got = oracle.run(gc, build, feed, init_variables=True)
    oracle.assert_same_values(got, want, rtol=1e-5, atol=1e-5, label=case.__name__)


def test_names_and_variables_match_tensorflow():
    """Outside the loop TF 1.x's ops (TensorArrays as TensorArrayV3, control flow v1's names); the loop
    is one While, `rnn/while`; variables have TF's names, so checkpoints interoperate."""
    v1 = oracle.tf1()

    def build(tf):
        x, outs = _lstm_lengths(tf)
        return outs

    # The ops this loop is built from (the cell's zero state, concat's list constants and Assert's data
    # constants are named by other builders, which differ from TF's in a few helper nodes).
    structural = ("TensorArray", "Range", "Transpose", "Minimum", "Maximum", "Shape", "StridedSlice", "Max",
                  "Min", "Identity", "While", "StatelessWhile", "Rank", "Placeholder", "Cast", "Assert")

    def outside(ops):
        return [o for o in ops if "/while" not in o[0] and o[1].startswith(structural)
                and "_cell/" not in o[0]]
    got = oracle.op_names(gc, build)
    want = oracle.op_names(v1, build, control_flow_v2=False)
    assert outside(got) == outside(want)
    assert ("rnn/while", "StatelessWhile") in got
    for lib in (gc, v1):
        with lib.Graph().as_default():
            _bidirectional(lib)
            names = [v.op.name for v in lib.global_variables()]
        if lib is gc:
            got_vars = names
    assert got_vars == names


def test_meta_graph_runs_in_tensorflow(tmp_path):
    """graphcompat's dynamic_rnn meta graph (While over TensorArrays, sequence_length's Assert) imports
    into real TF, restores graphcompat's checkpoint and gives graphcompat's numbers."""
    v1 = oracle.tf1()
    g = gc.Graph()
    with g.as_default():
        x, outs = _lstm_lengths(gc)
        fetches = [gc.identity(o, name=f"out{k}").name for k, o in enumerate(outs)]
        saver = gc.train.Saver()
        with gc.Session() as sess:
            sess.run(gc.global_variables_initializer())
            want = sess.run(fetches, {x: XV})
            prefix = saver.save(sess, str(tmp_path / "m"))
        types = {n.op for n in g.as_graph_def().node}
    assert "RnnScan" not in types and {"TensorArrayV3", "TensorArrayScatterV3"} <= types
    with v1.Graph().as_default():
        restorer = v1.train.import_meta_graph(prefix + ".meta")
        with v1.Session() as sess:
            restorer.restore(sess, prefix)
            got = sess.run(fetches, {"x:0": XV})
    oracle.assert_same_values(got, want, rtol=1e-6, atol=1e-6, label="TF runs graphcompat's dynamic_rnn")
