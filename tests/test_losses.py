"""tf.losses against numpy references: per-element losses, weights and every reduction; collections."""
import numpy as np
import pytest

import graphcompat as tf

rng = np.random.RandomState(7)
P = rng.rand(4, 3).astype(np.float32)
L = (rng.rand(4, 3) > 0.5).astype(np.float32)
W = np.array([[1.0], [0.0], [2.0], [0.5]], np.float32)
R = tf.losses.Reduction


def reduce(losses, weights, reduction):
    wl = losses * weights
    w = np.broadcast_to(weights, losses.shape)
    return {R.NONE: wl, R.SUM: wl.sum(), R.MEAN: wl.sum() / w.sum(),
            R.SUM_BY_NONZERO_WEIGHTS: wl.sum() / (w != 0).sum(), R.SUM_OVER_BATCH_SIZE: wl.sum() / losses.size}[reduction]


def huber(err, d):
    a = np.abs(err)
    q = np.minimum(a, d)
    return 0.5 * q * q + d * (a - q)


LOSSES = [
    ("mean_squared_error", lambda **k: tf.losses.mean_squared_error(L, P, **k), (P - L) ** 2),
    ("absolute_difference", lambda **k: tf.losses.absolute_difference(L, P, **k), np.abs(P - L)),
    ("huber_loss", lambda **k: tf.losses.huber_loss(L, 3 * P, delta=0.7, **k), huber(3 * P - L, 0.7)),
    ("log_loss", lambda **k: tf.losses.log_loss(L, P, **k),
     -L * np.log(P + 1e-7) - (1 - L) * np.log(1 - P + 1e-7)),
    ("hinge_loss", lambda **k: tf.losses.hinge_loss(L, P - 0.5, **k), np.maximum(0, 1 - (2 * L - 1) * (P - 0.5))),
    ("sigmoid_cross_entropy", lambda **k: tf.losses.sigmoid_cross_entropy(L, P, **k),
     np.maximum(P, 0) - P * L + np.log1p(np.exp(-np.abs(P)))),
]


@pytest.mark.parametrize("reduction", [R.SUM_BY_NONZERO_WEIGHTS, R.NONE, R.SUM, R.MEAN, R.SUM_OVER_BATCH_SIZE])
@pytest.mark.parametrize("case", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_reductions(case, reduction):
    name, build, per_element = case
    loss = build(weights=W, reduction=reduction)
    assert loss.dtype == tf.float32 and loss.op.name.startswith(name)
    assert tf.get_collection(tf.GraphKeys.LOSSES) == [loss]
    got = tf.Session().run(loss)
    np.testing.assert_allclose(got, reduce(per_element, W, reduction), rtol=1e-5, atol=1e-6)


def test_default_weights_and_total_loss():
    a = tf.losses.mean_squared_error(L, P)
    b = tf.losses.absolute_difference(L, P, loss_collection=None)
    v = tf.get_variable("v", initializer=np.float32(3.0))
    tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, v * v)
    assert tf.losses.get_losses() == [a]
    total = tf.losses.get_total_loss()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_a, got_b, got_total = sess.run([a, b, total])
    np.testing.assert_allclose(got_a, ((P - L) ** 2).mean(), rtol=1e-6)
    np.testing.assert_allclose(got_b, np.abs(P - L).mean(), rtol=1e-6)
    np.testing.assert_allclose(got_total, got_a + 9.0, rtol=1e-6)


def test_softmax_losses():
    logits = rng.randn(4, 5).astype(np.float32)
    onehot = np.eye(5, dtype=np.float32)[[0, 2, 4, 1]]
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    smooth = onehot * 0.9 + 0.1 / 5
    a = tf.losses.softmax_cross_entropy(onehot, logits, label_smoothing=0.1)
    b = tf.losses.sparse_softmax_cross_entropy(np.array([0, 2, 4, 1]), logits, weights=[1.0, 0.0, 1.0, 2.0])
    c = tf.losses.sparse_softmax_cross_entropy(np.array([[0], [2], [4], [1]]), logits)
    got = tf.Session().run([a, b, c])
    ce = -logp[np.arange(4), [0, 2, 4, 1]]
    np.testing.assert_allclose(got[0], -(smooth * logp).sum(1).mean(), rtol=1e-5)
    np.testing.assert_allclose(got[1], (ce * [1, 0, 1, 2]).sum() / 3, rtol=1e-5)
    np.testing.assert_allclose(got[2], ce.mean(), rtol=1e-5)


def test_no_losses_error():
    with pytest.raises(ValueError, match="No losses found to add to the total loss."):
        tf.losses.get_total_loss()


# TF 2.21's compute_weighted_loss: assert_broadcastable(weights, losses) before anything (a NoOp when the
# static shapes decide), the weights cast before num_present (whose broadcast_weights checks them again),
# and _safe_mean's DivNoNan named "value": TF's graph node for node where the shapes are static.
GRAPH_CASES = {
    "default_weights": lambda tf_: tf_.losses.mean_squared_error(tf_.constant(P), tf_.constant(L)),
    "column_weights": lambda tf_: tf_.losses.mean_squared_error(tf_.constant(P), tf_.constant(L),
                                                                weights=tf_.constant(W)),
    "scalar_weight": lambda tf_: tf_.losses.sigmoid_cross_entropy(tf_.constant(L), tf_.constant(P), weights=2.0,
                                                                  label_smoothing=0.1),
    "mean": lambda tf_: tf_.losses.absolute_difference(tf_.constant(P), tf_.constant(L), weights=tf_.constant(W),
                                                       reduction=tf_.losses.Reduction.MEAN),
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(GRAPH_CASES))
def test_weighted_loss_graph_is_tensorflows(name):
    from tests import oracle
    assert oracle.op_names(tf, GRAPH_CASES[name]) == oracle.op_names(oracle.tf1(), GRAPH_CASES[name])


@pytest.mark.oracle
def test_unbroadcastable_fed_weights_raise_tensorflows_assert():
    from tests import oracle
    from tests._op_oracle import error_of

    def build(tf_):
        return tf_.losses.mean_squared_error(tf_.constant(P), tf_.constant(L),
                                             weights=tf_.placeholder(tf_.float32, [None, 1], name="w"))

    def feed(tf_, graph):
        return {graph.get_tensor_by_name("w:0"): np.ones((3, 1), np.float32)}
    from tests._bad_input_sweep import kernel_text
    want, got = error_of(oracle.tf1(), build, feed), error_of(tf, build, feed)
    assert type(got).__name__ == type(want).__name__ == "InvalidArgumentError"
    assert kernel_text(got.message) == kernel_text(want.message)
    assert kernel_text(got.message).startswith("assertion failed: [weights can not be broadcast to values.]")
