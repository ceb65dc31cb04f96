"""tf.nn functions that expose TF's kernels and composites directly: conv backprops, depthwise native,
sufficient_statistics, log_poisson_loss, batch_norm_with_global_normalization — compared with TF1."""
import numpy as np
import pytest

import graphcompat as gc
from tests import oracle

pytestmark = pytest.mark.oracle
RNG = np.random.RandomState(3)
X = RNG.randn(2, 7, 6, 3).astype(np.float32)
W = RNG.randn(3, 3, 3, 4).astype(np.float32)
DW = RNG.randn(3, 3, 3, 2).astype(np.float32)


def _conv_backprops(tf):
    dy = tf.constant(RNG_DY)
    return [tf.nn.conv2d_backprop_input([2, 7, 6, 3], tf.constant(W), dy, [1, 2, 2, 1], "SAME"),
            tf.nn.conv2d_backprop_filter(tf.constant(X), [3, 3, 3, 4], dy, [1, 2, 2, 1], "SAME")]


RNG_DY = RNG.randn(2, 4, 3, 4).astype(np.float32)
RNG_DDY = RNG.randn(2, 3, 2, 6).astype(np.float32)


def _depthwise(tf):
    x, w, dy = tf.constant(X), tf.constant(DW), tf.constant(RNG_DDY)
    return [tf.nn.depthwise_conv2d_native(x, w, [1, 2, 2, 1], "VALID"),
            tf.nn.depthwise_conv2d_native_backprop_input([2, 7, 6, 3], w, dy, [1, 2, 2, 1], "VALID"),
            tf.nn.depthwise_conv2d_backprop_filter(x, [3, 3, 3, 2], dy, [1, 2, 2, 1], "VALID")]


def _statistics(tf):
    x = tf.constant(X)
    counts, m_ss, v_ss, _ = tf.nn.sufficient_statistics(x, [0, 1, 2])
    shifted = tf.nn.sufficient_statistics(x, [1], shift=0.5, keep_dims=True)[:3]
    return [counts, m_ss, v_ss, *shifted]


def _poisson(tf):
    z = tf.constant([0.0, 0.5, 1.0, 2.0, 7.0])
    c = tf.constant([0.3, -1.0, 0.2, 1.5, 2.0])
    return [tf.nn.log_poisson_loss(z, c), tf.nn.log_poisson_loss(z, c, compute_full_loss=True)]


def _global_norm(tf):
    x = tf.constant(X)
    m, v = tf.constant([0.1, 0.2, -0.3]), tf.constant([1.0, 2.0, 0.5])
    beta, gamma = tf.constant([0.0, 1.0, 2.0]), tf.constant([3.0, 1.0, 0.5])
    return [tf.nn.batch_norm_with_global_normalization(x, m, v, beta, gamma, 1e-3, True),
            tf.nn.batch_norm_with_global_normalization(x, m, v, beta, gamma, 1e-3, False)]


@pytest.mark.parametrize("build", [_conv_backprops, _depthwise, _statistics, _poisson, _global_norm],
                         ids=lambda f: f.__name__.strip("_"))
def test_matches_tf(build):
    tf1 = oracle.tf1()
    want = oracle.run(tf1, build)
    got = oracle.run(gc, build)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)
        assert np.shape(g) == np.shape(w)


def test_names_and_static_shapes_match_tf():
    tf1 = oracle.tf1()

    def build(tf):
        counts, m_ss, v_ss, _ = tf.nn.sufficient_statistics(tf.placeholder(tf.float32, [None, 4]), [0])
        loss = tf.nn.log_poisson_loss(tf.placeholder(tf.float32, [3]), tf.placeholder(tf.float32, [3]))
        return [(t.op.type, t.name, t.shape.as_list()) for t in (counts, m_ss, v_ss, loss)]

    graphs = []
    for tf in (gc, tf1):
        with tf.Graph().as_default():
            graphs.append(build(tf))
    assert graphs[0] == graphs[1]


def test_poisson_shapes_must_agree():
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match="`log_input` and `targets` must have the same shape"):
            gc.nn.log_poisson_loss(gc.zeros([3]), gc.zeros([4]))
