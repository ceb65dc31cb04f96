"""Oracle tests: the same tf.nn / tf.layers / tf.losses / rnn snippets under real tf.compat.v1 and graphcompat,
with identical inputs and variable values; values, gradients, op types and variable names must agree."""
import numpy as np
import pytest

import graphcompat as gc
from tests import oracle

pytestmark = pytest.mark.oracle

rng = np.random.RandomState(1)
X = rng.randn(4, 6).astype(np.float32)
X4 = rng.randn(2, 6, 5, 3).astype(np.float32)
W4 = rng.randn(3, 3, 3, 4).astype(np.float32) * 0.3
LAB = np.eye(6, dtype=np.float32)[[0, 3, 5, 1]] * 0.7 + 0.05
SP = np.array([0, 3, 5, 1], np.int32)
SEQ = rng.randn(3, 5, 4).astype(np.float32)


def tf_reference(run, *args, **kwargs):
    """Runs the TensorFlow side of an oracle test. TF's own kernels are machine dependent (e.g. oneDNN
    rejects some dilated convolutions on AMD CPUs): when TF cannot run the snippet here, there is no
    reference to compare with, so the test is skipped rather than failed."""
    v1 = oracle.tf1()
    try:
        return run(v1, *args, **kwargs)
    except v1.errors.OpError as err:
        pytest.skip(f"TensorFlow itself cannot run this snippet on this machine: {type(err).__name__}: "
                    f"{err.message.strip().splitlines()[-1][:200]}")


def both(build, rtol=1e-5, atol=1e-5, init=True):
    want = tf_reference(oracle.run, build, init_variables=init)
    got = oracle.run(gc, build, init_variables=init)
    for w, g in zip(want if isinstance(want, (list, tuple)) else [want],
                    got if isinstance(got, (list, tuple)) else [got]):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol)
    return got


def run_meta(tf, build):
    """Like oracle.run, for build(tf) -> (fetches, python metadata)."""
    graph = tf.Graph()
    with graph.as_default():
        fetches, meta = build(tf)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run(fetches), meta


def with_grads(fn, *arrays):
    """build(tf): (y, dy/dx for each input x) with x as Variables initialised from `arrays`."""
    def build(tf):
        xs = [tf.Variable(a) for a in arrays]
        y = fn(tf, *xs)
        loss = tf.reduce_sum(y * tf.constant(np.linspace(0.5, 1.5, int(np.prod(y.shape.as_list())))
                                             .reshape(y.shape.as_list()).astype(np.float32)))
        return [y] + [g for g in tf.gradients(loss, xs) if g is not None]
    return build


ELEMENTWISE = [
    ("relu", lambda tf, x: tf.nn.relu(x)), ("relu6", lambda tf, x: tf.nn.relu6(x * 4)),
    ("elu", lambda tf, x: tf.nn.elu(x)), ("selu", lambda tf, x: tf.nn.selu(x)),
    ("leaky_relu", lambda tf, x: tf.nn.leaky_relu(x, 0.1)), ("softplus", lambda tf, x: tf.nn.softplus(x)),
    ("softsign", lambda tf, x: tf.nn.softsign(x)), ("softmax", lambda tf, x: tf.nn.softmax(x)),
    ("softmax_axis0", lambda tf, x: tf.nn.softmax(x, axis=0)), ("log_softmax", lambda tf, x: tf.nn.log_softmax(x)),
    ("l2_normalize", lambda tf, x: tf.nn.l2_normalize(x, 1)),
    ("bias_add", lambda tf, x: tf.nn.bias_add(x, tf.constant(np.arange(6, dtype=np.float32)))),
    ("xw_plus_b", lambda tf, x: tf.nn.xw_plus_b(x, tf.constant(np.ones((6, 2), np.float32)),
                                                tf.constant(np.ones(2, np.float32)))),
    ("l2_loss", lambda tf, x: tf.reshape(tf.nn.l2_loss(x), [1])),
    ("xent_v2", lambda tf, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=LAB, logits=x)),
    ("xent_v1", lambda tf, x: tf.nn.softmax_cross_entropy_with_logits(labels=LAB, logits=x)),
    ("sparse_xent", lambda tf, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=SP, logits=x)),
    ("sigmoid_xent", lambda tf, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=LAB, logits=x)),
    ("weighted_xent", lambda tf, x: tf.nn.weighted_cross_entropy_with_logits(labels=LAB, logits=x, pos_weight=2.0)),
    ("moments_mean", lambda tf, x: tf.nn.moments(x, [0])[0]), ("moments_var", lambda tf, x: tf.nn.moments(x, [0])[1]),
    ("batch_normalization", lambda tf, x: tf.nn.batch_normalization(x, 0.5, 2.0, 0.1, 1.5, 1e-3)),
]


@pytest.mark.parametrize("name,fn", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_values_and_gradients(name, fn):
    both(with_grads(fn, X), rtol=2e-5, atol=2e-5)


def test_xent_v2_gradient_into_labels():
    both(with_grads(lambda tf, x, l: tf.nn.softmax_cross_entropy_with_logits_v2(labels=l, logits=x), X, LAB))


CONV = [
    ("conv2d_same", lambda tf, x, w: tf.nn.conv2d(x, w, [1, 2, 2, 1], "SAME")),
    ("conv2d_valid", lambda tf, x, w: tf.nn.conv2d(x, w, [1, 1, 1, 1], "VALID")),
    ("conv2d_dilated", lambda tf, x, w: tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME", dilations=[1, 2, 2, 1])),
    ("max_pool", lambda tf, x, w: tf.nn.max_pool(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME"), [1, 2, 2, 1],
                                                 [1, 2, 2, 1], "SAME")),
    ("avg_pool", lambda tf, x, w: tf.nn.avg_pool(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME"), [1, 3, 3, 1],
                                                 [1, 2, 2, 1], "SAME")),
    ("conv2d_transpose", lambda tf, x, w: tf.nn.conv2d_transpose(x, tf.transpose(w, [0, 1, 3, 2]), [2, 11, 9, 4],
                                                                 [1, 2, 2, 1], "SAME")),
    ("depthwise", lambda tf, x, w: tf.nn.depthwise_conv2d(x, w[:, :, :, :2], [1, 1, 1, 1], "SAME")),
    ("lrn", lambda tf, x, w: tf.nn.lrn(x, 2, 1.0, 0.3, 0.6)),
    ("conv1d", lambda tf, x, w: tf.nn.conv1d(tf.reshape(x, [2, 30, 3]), w[0], 2, "SAME")),
    ("separable", lambda tf, x, w: tf.nn.separable_conv2d(x, w[:, :, :, :2], tf.reshape(w[0, 0, :2, :3], [1, 1, 6, 1]),
                                                          [1, 1, 1, 1], "VALID")),
    ("atrous", lambda tf, x, w: tf.nn.atrous_conv2d(x, w, 2, "SAME")),
    ("fused_bn", lambda tf, x, w: tf.nn.fused_batch_norm(x, tf.ones([3]), tf.zeros([3]))[0]),
]


@pytest.mark.parametrize("name,fn", CONV, ids=[c[0] for c in CONV])
def test_conv_pool_values_and_gradients(name, fn):
    both(with_grads(fn, X4, W4), rtol=1e-4, atol=1e-4)


def test_embedding_lookup_partitioned_and_max_norm():
    params = rng.randn(10, 3).astype(np.float32)
    ids = np.array([[1, 9], [4, 0], [7, 7]], np.int32)

    def build(tf):
        p = tf.constant(params)
        parts = [tf.constant(params[:4]), tf.constant(params[4:7]), tf.constant(params[7:])]
        mod_parts = [tf.constant(params[i::3]) for i in range(3)]
        return [tf.nn.embedding_lookup(p, ids), tf.nn.embedding_lookup(parts, ids, partition_strategy="div"),
                tf.nn.embedding_lookup(mod_parts, ids), tf.nn.embedding_lookup(p, ids, max_norm=0.5)]
    both(build)


def test_sampled_losses_with_given_samples():
    labels = np.array([[2], [7], [0], [7]], np.int64)
    weights = rng.randn(10, 6).astype(np.float32)
    biases = rng.randn(10).astype(np.float32)
    sampled = (np.array([7, 1, 4, 9], np.int64), np.full((4, 1), 0.3, np.float32), np.full(4, 0.2, np.float32))

    def build(tf):
        vals = tuple(tf.constant(v) for v in sampled)
        nce = tf.nn.nce_loss(weights, biases, labels, X, 4, 10, sampled_values=vals)
        nce_hits = tf.nn.nce_loss(weights, biases, labels, X, 4, 10, sampled_values=vals, remove_accidental_hits=True)
        ssl = tf.nn.sampled_softmax_loss(weights, biases, labels, X, 4, 10, sampled_values=vals)
        return [nce, nce_hits, ssl]
    both(build)


def test_layers_variable_names_and_values():
    def build(tf):
        x = tf.constant(X4)
        init = tf.constant_initializer(0.1)
        h = tf.layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu, kernel_initializer=init)
        h = tf.layers.max_pooling2d(h, 2, 2)
        h = tf.layers.conv2d_transpose(h, 2, 3, strides=2, padding="same", kernel_initializer=init)
        h = tf.layers.batch_normalization(h, training=True)
        h = tf.layers.flatten(h)
        h = tf.layers.dense(h, 5, kernel_initializer=init, activation=tf.nn.tanh)
        h = tf.layers.dropout(h, 0.5, training=False)
        out = tf.layers.dense(h, 2, kernel_initializer=init)
        names = sorted(v.op.name for v in tf.global_variables())
        trainable = sorted(v.op.name for v in tf.trainable_variables())
        updates = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
        return out, (names, trainable, updates, out.shape.as_list())
    want, want_meta = tf_reference(run_meta, build)
    got, got_meta = run_meta(gc, build)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert got_meta == want_meta


def test_rnn_cells_match_tf():
    def build(tf):
        x = tf.constant(SEQ)
        init = tf.random_uniform_initializer(-0.3, 0.3, seed=3)
        outs = []
        with tf.variable_scope("a", initializer=init):
            o, s = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(3), x, sequence_length=[5, 2, 4], dtype=tf.float32)
            outs += [o, s.c, s.h]
        with tf.variable_scope("b", initializer=init):
            o, s = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(3), x, dtype=tf.float32)
            outs += [o, s]
        with tf.variable_scope("c", initializer=init):
            cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicRNNCell(3), tf.nn.rnn_cell.LSTMCell(2, use_peepholes=True)])
            o, s = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, time_major=True)
            outs += [o, s[0], s[1].h]
        with tf.variable_scope("d", initializer=init):
            (fw, bw), _ = tf.nn.bidirectional_dynamic_rnn(tf.nn.rnn_cell.GRUCell(2), tf.nn.rnn_cell.GRUCell(2), x,
                                                          sequence_length=[5, 3, 1], dtype=tf.float32)
            outs += [fw, bw]
        with tf.variable_scope("e", initializer=init):
            o, s = tf.nn.static_rnn(tf.nn.rnn_cell.BasicLSTMCell(2), tf.unstack(x, axis=1), dtype=tf.float32)
            outs += [o[-1], s.c]
        names = [v.op.name for v in tf.global_variables()]
        return outs, (names, [o.shape.as_list() for o in outs])
    want_vals, want_meta = tf_reference(run_meta, build)
    got_vals, got_meta = run_meta(gc, build)
    assert got_meta == want_meta  # variable names and static shapes
    assert [v.shape for v in got_vals] == [v.shape for v in want_vals]


def test_rnn_values_with_tf_weights():
    """dynamic_rnn outputs equal TF's when both run on the same weights (constant initializers)."""
    kernels = {"lstm": rng.uniform(-0.3, 0.3, (4 + 3, 12)).astype(np.float32),
               "gates": rng.uniform(-0.3, 0.3, (4 + 3, 6)).astype(np.float32),
               "cand": rng.uniform(-0.3, 0.3, (4 + 3, 3)).astype(np.float32)}

    def build(tf):
        x = tf.constant(SEQ)
        with tf.variable_scope("lstm", initializer=tf.constant_initializer(kernels["lstm"])):
            o1, s1 = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(3), x, sequence_length=[5, 2, 4],
                                       dtype=tf.float32)
        gru = tf.nn.rnn_cell.GRUCell(3, kernel_initializer=tf.constant_initializer(kernels["gates"][:, :3].sum()))
        o2, s2 = tf.nn.dynamic_rnn(gru, x, dtype=tf.float32, scope="gru")
        loss = tf.reduce_sum(o1) + tf.reduce_sum(o2 * o2)
        grads = tf.gradients(loss, tf.trainable_variables())
        return [o1, s1.c, s1.h, o2, s2] + grads
    both(build, rtol=1e-4, atol=1e-5, init=True)


LOSSES = [
    ("mse", lambda tf, p: tf.losses.mean_squared_error(LAB, p)),
    ("mse_weights", lambda tf, p: tf.losses.mean_squared_error(LAB, p, weights=[[1.0], [0.0], [2.0], [1.0]])),
    ("mse_sum", lambda tf, p: tf.losses.mean_squared_error(LAB, p, reduction=tf.losses.Reduction.SUM)),
    ("mse_mean", lambda tf, p: tf.losses.mean_squared_error(LAB, p, weights=2.0, reduction=tf.losses.Reduction.MEAN)),
    ("mse_none", lambda tf, p: tf.losses.mean_squared_error(LAB, p, reduction=tf.losses.Reduction.NONE)),
    ("mse_batch", lambda tf, p: tf.losses.mean_squared_error(
        LAB, p, reduction=tf.losses.Reduction.SUM_OVER_BATCH_SIZE)),
    ("absolute", lambda tf, p: tf.losses.absolute_difference(LAB, p)),
    ("huber", lambda tf, p: tf.losses.huber_loss(LAB, p * 3, delta=0.5)),
    ("log_loss", lambda tf, p: tf.losses.log_loss(LAB, tf.sigmoid(p))),
    ("hinge", lambda tf, p: tf.losses.hinge_loss(LAB > 0.5, p)),
    ("softmax_xent", lambda tf, p: tf.losses.softmax_cross_entropy(LAB, p, label_smoothing=0.1)),
    ("sparse_xent", lambda tf, p: tf.losses.sparse_softmax_cross_entropy(SP, p, weights=[1.0, 2.0, 0.0, 1.0])),
    ("sparse_xent_2d_labels", lambda tf, p: tf.losses.sparse_softmax_cross_entropy(SP[:, None], p)),
    ("sigmoid_xent", lambda tf, p: tf.losses.sigmoid_cross_entropy(LAB > 0.5, p, label_smoothing=0.2)),
]


@pytest.mark.parametrize("name,fn", LOSSES, ids=[c[0] for c in LOSSES])
def test_losses(name, fn):
    def build(tf):
        loss = fn(tf, tf.constant(X))
        return [loss, tf.losses.get_total_loss()], len(tf.get_collection(tf.GraphKeys.LOSSES))
    want, want_meta = tf_reference(run_meta, build)
    got, got_meta = run_meta(gc, build)
    assert got_meta == want_meta
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_metrics_accuracy_and_mean():
    def build(tf):
        acc, acc_up = tf.metrics.accuracy(tf.constant([1, 2, 3, 4]), tf.constant([1, 2, 0, 4]))
        m, m_up = tf.metrics.mean(tf.constant([1.0, 2.0, 6.0]), weights=[1.0, 0.0, 1.0])
        names = sorted(v.op.name for v in tf.local_variables())
        return acc, acc_up, m, m_up, names

    def run(tf):
        graph = tf.Graph()
        with graph.as_default():
            acc, acc_up, m, m_up, names = build(tf)
            with tf.Session() as sess:
                sess.run(tf.local_variables_initializer())
                first = sess.run([acc, m])
                sess.run([acc_up, m_up])
                sess.run([acc_up, m_up])
                return first + sess.run([acc, m]), names
    (want, want_names), (got, got_names) = run(oracle.tf1()), run(gc)
    assert got_names == want_names
    np.testing.assert_allclose(got, want, rtol=1e-6)


class _Sparse:
    """A SparseTensor stand-in for graphcompat (indices, values, dense_shape as tensors)."""

    def __init__(self, tf, indices, values, dense_shape):
        self.indices = tf.constant(np.asarray(indices, np.int64))
        self.values = tf.constant(values)
        self.dense_shape = tf.constant(np.asarray(dense_shape, np.int64))


def test_embedding_lookup_sparse():
    params = rng.randn(5, 3).astype(np.float32)
    idx, ids, wts = [[0, 0], [0, 1], [2, 0], [3, 2]], np.array([1, 3, 2, 1], np.int64), np.array(
        [1.0, 2.0, 0.5, 1.5], np.float32)

    def build(tf):
        make = tf.SparseTensor if tf is not gc else (lambda i, v, s: _Sparse(gc, i, v, s))
        sp_ids, sp_w = make(idx, ids, [6, 3]), make(idx, wts, [6, 3])  # rows 1, 4, 5 empty
        p = tf.constant(params)
        return [tf.nn.embedding_lookup_sparse(p, sp_ids, None, combiner=c) for c in ("sum", "mean", "sqrtn")] + \
            [tf.nn.embedding_lookup_sparse(p, sp_ids, sp_w, combiner=c) for c in ("sum", "mean", "sqrtn")]
    both(build)


def test_top_k_in_top_k_zero_fraction():
    def build(tf):
        x = tf.constant(np.round(X * 2) / 2)  # ties
        return [tf.nn.top_k(x, 3).values, tf.nn.top_k(x, 3).indices, tf.nn.in_top_k(x, SP, 2),
                tf.nn.in_top_k(x, SP, 1), tf.nn.zero_fraction(tf.nn.relu(x))]
    both(build)


# tf.nn.depthwise_conv2d / separable_conv2d: TF's nn_impl.py builds them through with_space_to_batch, so the
# graph holds its `Shape` of the filter and `dilation_rate`, and a rate > 1 becomes SpaceToBatchND →
# DepthwiseConv2dNative (VALID) → BatchToSpaceND. The same nodes, names and order as TF's, and TF's values.
DEPTHWISE_ARGS = [
    ("plain", {}), ("rate", {"rate": [2, 2]}), ("dilations", {"dilations": [2, 1]}), ("rate_one", {"rate": [1, 1]}),
    ("valid_rate", {"rate": [2, 2], "padding": "VALID"}), ("strided", {"strides": [1, 2, 2, 1]}),
    ("nchw", {"data_format": "NCHW"}), ("nchw_rate", {"data_format": "NCHW", "rate": [2, 2]}),
    ("named", {"name": "dw"}),
]


def _depthwise_call(tf, fn, x, kwargs, unknown_spatial=False):
    kwargs = dict(kwargs)
    strides, padding = kwargs.pop("strides", [1, 1, 1, 1]), kwargs.pop("padding", "SAME")
    if kwargs.get("data_format") == "NCHW":
        x = tf.transpose(x, [0, 3, 1, 2])
    if unknown_spatial:
        x = tf.placeholder_with_default(x, [None, None, None, None])
    dw = tf.constant(W4[:, :, :, :2])
    if fn == "depthwise":
        return tf.nn.depthwise_conv2d(x, dw, strides, padding, **kwargs)
    return tf.nn.separable_conv2d(x, dw, tf.constant(W4[:1, :1, :2, :3].reshape(1, 1, 6, 1)), strides, padding,
                                  **kwargs)


@pytest.mark.parametrize("fn", ["depthwise", "separable"])
@pytest.mark.parametrize("unknown_spatial", [False, True])
@pytest.mark.parametrize("args", DEPTHWISE_ARGS, ids=[a[0] for a in DEPTHWISE_ARGS])
def test_depthwise_and_separable_graphs(fn, unknown_spatial, args):
    v1 = oracle.tf1()

    def build(tf):
        _depthwise_call(tf, fn, tf.constant(X4), args[1], unknown_spatial)
    assert oracle.op_names(gc, build) == oracle.op_names(v1, build)


@pytest.mark.parametrize("fn", ["depthwise", "separable"])
@pytest.mark.parametrize("args", [a for a in DEPTHWISE_ARGS if "NCHW" not in str(a[1])],
                         ids=[a[0] for a in DEPTHWISE_ARGS if "NCHW" not in str(a[1])])
def test_depthwise_and_separable_values(fn, args):
    """TF's CPU kernel of DepthwiseConv2dNative is NHWC only (its NCHW graphs only build here)."""
    both(with_grads(lambda tf, x: _depthwise_call(tf, fn, x, args[1]), X4), rtol=1e-4, atol=1e-4)


def test_depthwise_rate_and_dilations_together():
    v1 = oracle.tf1()
    for tf in (v1, gc):
        with tf.Graph().as_default(), pytest.raises(ValueError, match="Cannot specify both 'rate' and 'dilations'."):
            tf.nn.depthwise_conv2d(tf.constant(X4), tf.constant(W4), [1, 1, 1, 1], "SAME", rate=[2, 2],
                                   dilations=[2, 2])
