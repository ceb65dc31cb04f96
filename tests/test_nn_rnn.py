"""dynamic_rnn / static_rnn / bidirectional_dynamic_rnn against numpy references and each other."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

rng = np.random.RandomState(5)
SEQ = rng.randn(3, 4, 2).astype(np.float32)
LENS = np.array([4, 1, 3], np.int32)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_lstm(x, kernel, bias, lens, units):
    b = x.shape[0]
    c, h = np.zeros((b, units), np.float32), np.zeros((b, units), np.float32)
    outs = []
    for t in range(x.shape[1]):
        z = np.concatenate([x[:, t], h], 1) @ kernel + bias
        i, j, f, o = np.split(z, 4, 1)
        nc = c * sigmoid(f + 1.0) + sigmoid(i) * np.tanh(j)
        nh = np.tanh(nc) * sigmoid(o)
        alive = (t < lens)[:, None]
        c, h = np.where(alive, nc, c), np.where(alive, nh, h)
        outs.append(np.where(alive, nh, 0))
    return np.stack(outs, 1), c, h


def test_basic_lstm_matches_numpy_with_sequence_length():
    x = tf.placeholder(tf.float32, [None, 4, 2])
    out, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(3), x, sequence_length=LENS, dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()] == ["rnn/basic_lstm_cell/kernel", "rnn/basic_lstm_cell/bias"]
    assert out.shape.as_list() == [None, 4, 3] and state.c.shape.as_list() == [None, 3]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kernel, bias = sess.run(tf.global_variables())
        got = sess.run([out, state.c, state.h], {x: SEQ})
        again = sess.run([out, state.c, state.h], {x: SEQ})  # compiled plan
    want = np_lstm(SEQ, kernel, bias, LENS, 3)
    for g, a, w in zip(got, again, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a, w, rtol=1e-5, atol=1e-6)


def test_dynamic_equals_static_values_and_gradients():
    x = tf.constant(SEQ)
    init = tf.constant_initializer(0.1)
    with tf.variable_scope("m", initializer=init):
        d_out, d_state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(3), x, sequence_length=LENS, dtype=tf.float32)
    with tf.variable_scope("m", reuse=True):
        s_out, s_state = tf.nn.static_rnn(tf.nn.rnn_cell.GRUCell(3), tf.unstack(x, axis=1), sequence_length=LENS,
                                          dtype=tf.float32)
    assert len(tf.global_variables()) == 4  # shared by reuse: rnn/gru_cell/{gates,candidate}/{kernel,bias}
    s_out = tf.stack(s_out, 1)
    loss_d = tf.reduce_sum(d_out * d_out) + tf.reduce_sum(d_state)
    loss_s = tf.reduce_sum(s_out * s_out) + tf.reduce_sum(s_state)
    gd = tf.gradients(loss_d, tf.trainable_variables())
    gs = tf.gradients(loss_s, tf.trainable_variables())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b, ga, gb = sess.run([d_out, s_out, gd, gs])
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for u, v in zip(ga, gb):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-6)


def test_bidirectional_backward_reads_reversed_within_length():
    x = tf.constant(SEQ)
    cell = tf.nn.rnn_cell.BasicRNNCell(2, activation=tf.identity)
    (fw, bw), (sfw, sbw) = tf.nn.bidirectional_dynamic_rnn(cell, tf.nn.rnn_cell.BasicRNNCell(2), x,
                                                           sequence_length=LENS, dtype=tf.float32)
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["bidirectional_rnn/fw/basic_rnn_cell/kernel", "bidirectional_rnn/fw/basic_rnn_cell/bias",
                     "bidirectional_rnn/bw/basic_rnn_cell/kernel", "bidirectional_rnn/bw/basic_rnn_cell/bias"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kb, bb = sess.run(tf.global_variables()[2:])
        got_bw, got_sbw = sess.run([bw, sbw])
    for row, n in enumerate(LENS):
        h = np.zeros(2, np.float32)
        want = np.zeros((4, 2), np.float32)
        for t in reversed(range(n)):
            h = np.tanh(np.concatenate([SEQ[row, t], h]) @ kb + bb)
            want[t] = h
        np.testing.assert_allclose(got_bw[row], want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got_sbw[row], h, rtol=1e-5, atol=1e-6)


def test_dropout_wrapper_and_multi_cell_train():
    x = tf.placeholder(tf.float32, [None, 4, 2])
    cells = [tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.LSTMCell(4), output_keep_prob=0.8),
             tf.nn.rnn_cell.GRUCell(2)]
    out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell(cells), x, dtype=tf.float32)
    names = [v.op.name for v in tf.global_variables()]
    assert names[0] == "rnn/multi_rnn_cell/cell_0/lstm_cell/kernel"
    assert names[2] == "rnn/multi_rnn_cell/cell_1/gru_cell/gates/kernel"
    loss = tf.reduce_mean(tf.square(out[:, -1] - 1.0))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: SEQ})
        a = sess.run(out, {x: SEQ})
        b = sess.run(out, {x: SEQ})
        assert not np.allclose(a, b)  # a fresh dropout mask each run (and each time step)
        for _ in range(30):
            sess.run(train, {x: SEQ})
        assert sess.run(loss, {x: SEQ}) < first


def _dropout_wrapper_step(tf, visitor=None):
    """One step of a seeded DropoutWrapper around an LSTM: inputs, state and output dropped out."""
    tf.set_random_seed(0)
    x = tf.constant(np.arange(1, 13, dtype=np.float32).reshape(4, 3) / 6)
    lstm = tf.nn.rnn_cell.LSTMCell(5, initializer=tf.constant_initializer(0.2))
    kwargs = {} if visitor is None else {"dropout_state_filter_visitor": visitor}
    cell = tf.nn.rnn_cell.DropoutWrapper(lstm, input_keep_prob=0.6, state_keep_prob=0.5, output_keep_prob=0.7,
                                         seed=11, **kwargs)
    state = lstm.zero_state(4, tf.float32)
    state = tf.nn.rnn_cell.LSTMStateTuple(state.c + 1.0, state.h + 0.5)
    output, new_state = cell(x, state)
    return [output, new_state.c, new_state.h]


@pytest.mark.oracle
@pytest.mark.parametrize("visitor", [None, lambda s: True], ids=["default_filter", "drop_everything"])
def test_dropout_wrapper_draws_tfs_masks(visitor):
    # TF's seeds (an md5 of the wrapper's seed, "input_0", "state_1" …) and its default state filter (an LSTM's
    # memory c is not dropped out)
    v1 = oracle.tf1()
    with v1.Graph().as_default():
        fetches = _dropout_wrapper_step(v1, visitor)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            want = sess.run(fetches)
    with tf.Graph().as_default():
        fetches = _dropout_wrapper_step(tf, visitor)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = sess.run(fetches)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
