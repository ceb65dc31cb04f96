"""Conformance table for tf.nn ops: value, dtype, static vs runtime shape, against numpy references."""
import numpy as np
import pytest

import graphcompat as tf
from tests._conformance import Bad, Case, bad_cases, check, check_bad

rng = np.random.RandomState(0)
X = rng.randn(3, 5).astype(np.float32) * 3
X4 = rng.randn(2, 7, 6, 3).astype(np.float32)
W4 = rng.randn(3, 3, 3, 4).astype(np.float32)
LABELS = np.abs(rng.rand(3, 5)).astype(np.float32)
LABELS /= LABELS.sum(1, keepdims=True)
SPARSE = np.array([0, 4, 2], np.int32)


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def np_conv(x, w, stride, padding, dilation=1):
    """Direct NHWC convolution with TF's SAME/VALID padding."""
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    ekh, ekw = (kh - 1) * dilation + 1, (kw - 1) * dilation + 1
    if padding == "SAME":
        oh, ow = -(-h // stride), -(-wd // stride)
        ph = max((oh - 1) * stride + ekh - h, 0)
        pw = max((ow - 1) * stride + ekw - wd, 0)
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    else:
        oh, ow = (h - ekh) // stride + 1, (wd - ekw) // stride + 1
    out = np.zeros((n, oh, ow, o), np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + ekh:dilation, j * stride:j * stride + ekw:dilation, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out.astype(np.float32)


def np_pool(x, k, s, padding, fn):
    n, h, w, c = x.shape
    if padding == "SAME":
        oh, ow = -(-h // s), -(-w // s)
        ph, pw = max((oh - 1) * s + k - h, 0), max((ow - 1) * s + k - w, 0)
        top, left = ph // 2, pw // 2
    else:
        oh, ow, top, left = (h - k) // s + 1, (w - k) // s + 1, 0, 0
    out = np.zeros((n, oh, ow, c), np.float32)
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s - top, j * s - left
            win = x[:, max(r0, 0):min(r0 + k, h), max(c0, 0):min(c0 + k, w), :]
            out[:, i, j, :] = fn(win, axis=(1, 2))
    return out


def np_sigmoid_xent(z, x):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


# (id, builder(tf) -> tensor, numpy reference, rtol)
CASES = [
    ("relu", lambda: tf.nn.relu(X), np.maximum(X, 0), 0),
    ("relu6", lambda: tf.nn.relu6(X), np.clip(X, 0, 6), 0),
    ("elu", lambda: tf.nn.elu(X), np.where(X > 0, X, np.expm1(np.minimum(X, 0))), 1e-6),
    ("selu", lambda: tf.nn.selu(X), 1.0507009873554805 * np.where(X > 0, X, 1.6732632423543772 * np.expm1(
        np.minimum(X, 0))), 1e-6),
    ("leaky_relu", lambda: tf.nn.leaky_relu(X), np.where(X > 0, X, 0.2 * X), 1e-7),
    ("leaky_relu_alpha", lambda: tf.nn.leaky_relu(X, alpha=0.01), np.where(X > 0, X, 0.01 * X), 1e-7),
    ("softplus", lambda: tf.nn.softplus(X), np.log1p(np.exp(X)), 1e-6),
    ("softsign", lambda: tf.nn.softsign(X), X / (1 + np.abs(X)), 1e-6),
    ("sigmoid", lambda: tf.nn.sigmoid(X), 1 / (1 + np.exp(-X)), 1e-6),
    ("tanh", lambda: tf.nn.tanh(X), np.tanh(X), 1e-6),
    ("softmax", lambda: tf.nn.softmax(X), np_softmax(X), 1e-6),
    ("log_softmax", lambda: tf.nn.log_softmax(X), np.log(np_softmax(X)), 1e-5),
    ("bias_add", lambda: tf.nn.bias_add(X, np.arange(5, dtype=np.float32)), X + np.arange(5), 1e-7),
    ("bias_add_nchw", lambda: tf.nn.bias_add(X4, np.arange(7, dtype=np.float32), data_format="NCHW"),
     X4 + np.arange(7).reshape(1, 7, 1, 1), 1e-7),
    ("l2_loss", lambda: tf.nn.l2_loss(X), np.sum(X ** 2) / 2, 1e-6),
    ("xent_v2", lambda: tf.nn.softmax_cross_entropy_with_logits_v2(labels=LABELS, logits=X),
     -np.sum(LABELS * np.log(np_softmax(X)), 1), 1e-5),
    ("sparse_xent", lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=SPARSE, logits=X),
     -np.log(np_softmax(X))[np.arange(3), SPARSE], 1e-5),
    ("sparse_xent_int64", lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=SPARSE.astype(np.int64), logits=X), -np.log(np_softmax(X))[np.arange(3), SPARSE], 1e-5),
    ("conv2d_same", lambda: tf.nn.conv2d(X4, W4, [1, 1, 1, 1], "SAME"), np_conv(X4, W4, 1, "SAME"), 1e-4),
    ("conv2d_valid_s2", lambda: tf.nn.conv2d(X4, W4, [1, 2, 2, 1], "VALID"), np_conv(X4, W4, 2, "VALID"), 1e-4),
    ("conv2d_same_s2", lambda: tf.nn.conv2d(X4, W4, 2, "SAME"), np_conv(X4, W4, 2, "SAME"), 1e-4),
    ("conv2d_nchw", lambda: tf.nn.conv2d(X4.transpose(0, 3, 1, 2), W4, [1, 1, 1, 1], "SAME", data_format="NCHW"),
     np_conv(X4, W4, 1, "SAME").transpose(0, 3, 1, 2), 1e-4),
    ("conv2d_explicit", lambda: tf.nn.conv2d(X4, W4, 1, [[0, 0], [1, 1], [2, 0], [0, 0]]),
     np_conv(np.pad(X4, [(0, 0), (1, 1), (2, 0), (0, 0)]), W4, 1, "VALID"), 1e-4),
    ("atrous_conv2d", lambda: tf.nn.atrous_conv2d(X4, W4, 2, "VALID"), np_conv(X4, W4, 1, "VALID", 2), 1e-4),
    ("max_pool_valid", lambda: tf.nn.max_pool(X4, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
     np_pool(X4, 2, 2, "VALID", np.max), 0),
    ("max_pool_same", lambda: tf.nn.max_pool(X4, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
     np_pool(X4, 3, 2, "SAME", np.max), 0),
    ("avg_pool_valid", lambda: tf.nn.avg_pool(X4, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
     np_pool(X4, 2, 2, "VALID", np.mean), 1e-6),
    ("avg_pool_same", lambda: tf.nn.avg_pool(X4, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
     np_pool(X4, 3, 2, "SAME", np.mean), 1e-6),
    ("max_pool_nchw", lambda: tf.nn.max_pool(X4.transpose(0, 3, 1, 2), [1, 1, 2, 2], [1, 1, 2, 2], "VALID",
                                             data_format="NCHW"),
     np_pool(X4, 2, 2, "VALID", np.max).transpose(0, 3, 1, 2), 0),
    ("top_k_values", lambda: tf.nn.top_k(X, 2).values, -np.sort(-X, 1)[:, :2], 0),
    ("top_k_indices", lambda: tf.nn.top_k(X, 2).indices, np.argsort(-X, 1, kind="stable")[:, :2].astype(np.int32), 0),
    ("in_top_k", lambda: tf.nn.in_top_k(X, SPARSE, 2),
     np.array([SPARSE[i] in np.argsort(-X[i])[:2] for i in range(3)]), 0),
    ("lrn", lambda: tf.nn.lrn(X4, depth_radius=1, bias=2.0, alpha=0.5, beta=0.75),
     X4 / (2.0 + 0.5 * (np.pad(X4 ** 2, [(0, 0)] * 3 + [(1, 1)])[..., :-2]
                        + X4 ** 2 + np.pad(X4 ** 2, [(0, 0)] * 3 + [(1, 1)])[..., 2:])) ** 0.75, 1e-5),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_conformance(case):
    _, build, want, rtol = case
    t = build()
    with tf.Session() as sess:
        got = sess.run(t)
        again = sess.run(t)  # second run goes through the compiled plan
    want = np.asarray(want)
    assert got.dtype == want.dtype or (want.dtype == np.float64 and got.dtype == np.float32)
    assert t.dtype.as_numpy_dtype == got.dtype
    assert t.shape.is_compatible_with(got.shape) and t.shape.is_fully_defined()
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-5 if rtol else 0)
    np.testing.assert_allclose(again, got, rtol=1e-6, atol=1e-6)


def test_depthwise_and_separable():
    dw = rng.randn(3, 3, 3, 2).astype(np.float32)
    pw = rng.randn(1, 1, 6, 4).astype(np.float32)
    want_dw = np.concatenate([np_conv(X4[..., c:c + 1], dw[:, :, c:c + 1, :], 1, "SAME") for c in range(3)], -1)
    want_sep = np_conv(want_dw, pw, 1, "VALID")
    a = tf.nn.depthwise_conv2d(X4, dw, [1, 1, 1, 1], "SAME")
    b = tf.nn.separable_conv2d(X4, dw, pw, [1, 1, 1, 1], "SAME")
    assert a.op.type == "DepthwiseConv2dNative" and a.shape.as_list() == [2, 7, 6, 6]
    got_a, got_b = tf.Session().run([a, b])
    np.testing.assert_allclose(got_a, want_dw, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got_b, want_sep, rtol=1e-4, atol=1e-4)


def test_conv2d_transpose_is_adjoint_of_conv2d():
    y = rng.randn(2, 4, 3, 4).astype(np.float32)
    t = tf.nn.conv2d_transpose(y, W4, [2, 7, 6, 3], [1, 2, 2, 1], padding="SAME")
    assert t.op.type == "Conv2DBackpropInput" and t.shape.as_list() == [2, 7, 6, 3]
    got = tf.Session().run(t)
    # <conv(x), y> == <x, conv_transpose(y)> for every x
    x = rng.randn(2, 7, 6, 3).astype(np.float32)
    lhs = np.sum(np_conv(x, W4, 2, "SAME") * y)
    np.testing.assert_allclose(lhs, np.sum(x * got), rtol=1e-4)


def test_fused_batch_norm_training_and_inference():
    scale = rng.rand(3).astype(np.float32) + 0.5
    offset = rng.randn(3).astype(np.float32)
    y, mean, var = tf.nn.fused_batch_norm(X4, scale, offset, epsilon=0.001)
    m, v = X4.mean((0, 1, 2)), X4.var((0, 1, 2))
    n = X4.size // 3
    got_y, got_m, got_v = tf.Session().run([y, mean, var])
    np.testing.assert_allclose(got_y, (X4 - m) / np.sqrt(v + 0.001) * scale + offset, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got_m, m, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_v, v * n / (n - 1), rtol=1e-5)  # running variance is unbiased, as TF
    y2, _, _ = tf.nn.fused_batch_norm(X4, scale, offset, mean=m, variance=v, is_training=False)
    np.testing.assert_allclose(tf.Session().run(y2), (X4 - m) / np.sqrt(v + 0.001) * scale + offset,
                               rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="Both `mean` and `variance` must be a 1D tensor"):
        tf.nn.fused_batch_norm(X4, scale, offset, is_training=False)


def test_op_names_and_types():
    x = tf.placeholder(tf.float32, [None, 5])
    assert tf.nn.relu(x).op.name == "Relu"
    assert tf.nn.relu(x, name="act").op.name == "act"
    assert tf.nn.leaky_relu(x).op.name == "LeakyRelu"
    assert tf.nn.softmax(x).op.name == "Softmax"
    assert tf.nn.bias_add(x, np.zeros(5, np.float32)).op.name == "BiasAdd"
    sx = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.placeholder(tf.int32, [None]), logits=x)
    assert sx.op.name == "SparseSoftmaxCrossEntropyWithLogits/SparseSoftmaxCrossEntropyWithLogits"
    assert sx.shape.as_list() == [None]
    xe = tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.placeholder(tf.float32, [None, 5]), logits=x)
    assert xe.op.type == "SoftmaxCrossEntropyWithLogits" and xe.shape.as_list() == [None]
    c = tf.nn.conv2d(tf.placeholder(tf.float32, [None, 28, 28, 1]), np.zeros((5, 5, 1, 32), np.float32),
                     [1, 1, 1, 1], "SAME")
    assert c.op.name == "Conv2D" and c.shape.as_list() == [None, 28, 28, 32]
    assert c.op.get_attr("padding") == b"SAME" if hasattr(c.op, "get_attr") else True
    p = tf.nn.max_pool(c, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    assert p.op.name == "MaxPool" and p.shape.as_list() == [None, 14, 14, 32]


def test_sampler_expected_counts_and_uniqueness():
    labels = np.array([[0], [5], [100]], np.int64)
    s, tc, sc = tf.nn.log_uniform_candidate_sampler(labels, 1, 32, True, 1000, seed=7)
    assert s.shape.as_list() == [32] and tc.shape.as_list() == [3, 1] and s.dtype == tf.int64
    with tf.Session() as sess:
        a = sess.run([s, tc, sc])
        b = sess.run([s, tc, sc])
    for sampled, true_count, sampled_count in (a, b):
        assert len(set(sampled.tolist())) == 32 and sampled.min() >= 0 and sampled.max() < 1000
        p = np.log((sampled + 2.0) / (sampled + 1.0)) / np.log(1001.0)
        # unique sampling: expected count = 1 - (1 - p) ** tries, the same `tries` for every id
        tries = np.log1p(-sampled_count) / np.log1p(-p)
        assert np.all(np.abs(tries - tries[0]) < 1e-2 * tries[0]) and tries[0] >= 32
        pt = np.log((labels[:, 0] + 2.0) / (labels[:, 0] + 1.0)) / np.log(1001.0)
        np.testing.assert_allclose(true_count[:, 0], -np.expm1(tries[0] * np.log1p(-pt)), rtol=1e-3)
    assert not np.array_equal(a[0], b[0])  # the op's stream advances each run
    s2, _, sc2 = tf.nn.log_uniform_candidate_sampler(labels, 1, 16, False, 1000, seed=7)
    got, counts = tf.Session().run([s2, sc2])
    np.testing.assert_allclose(counts, 16 * np.log((got + 2.0) / (got + 1.0)) / np.log(1001.0), rtol=1e-5)


def test_dropout_keeps_expectation_and_scales():
    x = tf.ones([20000])
    keep = tf.placeholder(tf.float32, [])
    a = tf.nn.dropout(x, keep_prob=0.8, seed=1)
    b = tf.nn.dropout(x, rate=0.25)
    c = tf.nn.dropout(x, keep_prob=keep)
    assert a.shape.as_list() == [20000] and tf.nn.dropout(x, rate=0.0) is x
    with tf.Session() as sess:
        va, va2, vb, vc = sess.run([a, a, b, c], {keep: 0.5})
        vc1 = sess.run(c, {keep: 1.0})
    assert set(np.unique(va)) == {0.0, np.float32(1 / 0.8)} and abs(va.mean() - 1) < 0.03
    assert set(np.unique(vb)) == {0.0, np.float32(1 / 0.75)} and abs((vb == 0).mean() - 0.25) < 0.02
    assert abs((vc == 0).mean() - 0.5) < 0.02 and np.all(vc1 == 1)


def test_unique_sampler_needing_several_chunks():
    labels = np.zeros((2, 1), np.int64)
    s, _, counts = tf.nn.log_uniform_candidate_sampler(labels, 1, 30, True, 32, seed=3)
    u, _, _ = tf.nn.uniform_candidate_sampler(labels, 1, 16, True, 16, seed=4)
    with tf.Session() as sess:
        for _ in range(2):
            got, c, all16 = sess.run([s, counts, u])
            assert len(set(got.tolist())) == 30 and got.min() >= 0 and got.max() < 32
            assert sorted(all16.tolist()) == list(range(16))
            assert np.all((c > 0) & (c <= 1.0 + 1e-6))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Sampler's range is too small."):
        tf.Session().run(tf.nn.uniform_candidate_sampler(labels, 1, 17, True, 16)[0])



def test_unique_sampler_without_rejections_uses_tfs_shortcut():
    # TF's ExpectedCountHelper: when num_tries == num_sampled (no draw was rejected) the expected count is
    # p * num_sampled, not the inclusion probability 1 - (1 - p) ** num_tries.
    labels = np.array([[3]], np.int64)
    s, tc, sc = tf.nn.uniform_candidate_sampler(labels, 1, 5, True, 10 ** 6, seed=5)
    got, true_count, counts = tf.Session().run([s, tc, sc])
    assert len(set(got.tolist())) == 5
    want = np.float32(1.0 / 10 ** 6) * np.float32(5)
    assert np.all(counts == want) and np.all(true_count == want)

# ------------------------------------------------------------------------------------------------
# Ops whose TF kernels validate fed shapes or values: a good line + TF's error class and text.
# ------------------------------------------------------------------------------------------------
E = tf.errors
BIAS = np.arange(5, dtype=np.float32)

VALIDATING = [
    Case("conv2d_fed", lambda tf, x, w: tf.nn.conv2d(x, w, [1, 1, 1, 1], "VALID"),
         lambda x, w: np_conv(x, w, 1, "VALID"), [X4, W4], 1e-4,
         bad=[Bad([X4, W4[:, :, :2]], E.InvalidArgumentError, "input depth must be evenly divisible by filter depth: "
                                                              "3 vs 2"),
              Bad([X4[:, :1, :1], W4], E.InvalidArgumentError, "Computed output size would be negative: -1 "
                                                               "[input_size: 1, effective_filter_size: 3, stride: 1]"),
              Bad([np.ones((1, 4, 4, 4), np.float32), np.ones((2, 2, 2, 3), np.float32)], E.InvalidArgumentError,
                  "output depth must be evenly divisible by number of groups: 3 vs 2")]),
    Case("depthwise_conv2d_fed", lambda tf, x, w: tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME"),
         lambda x, w: np.concatenate([np_conv(x[..., i:i + 1], w[:, :, i:i + 1], 1, "SAME") for i in range(3)], -1),
         [X4, W4[:, :, :, :1].copy()], 1e-4,
         bad=[Bad([X4, W4[:, :, :2, :1].copy()], E.InvalidArgumentError,
                  "input depth must be evenly divisible by filter depth: 3 vs 2")]),
    Case("bias_add_fed", lambda tf, x, b: tf.nn.bias_add(x, b), lambda x, b: x + b, [X, BIAS],
         bad=[Bad([X, BIAS[:3]], E.InvalidArgumentError, "Must provide as many biases as the last dimension of the "
                                                         "input tensor: [3] vs. [3,5]")]),
    Case("softmax_xent_fed", lambda tf, l, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=l, logits=x),
         lambda l, x: -np.sum(l * np.log(np_softmax(x)), 1), [LABELS, X], 1e-5,
         bad=[Bad([LABELS[:, :4], X], E.InvalidArgumentError, "logits and labels must be broadcastable: "
                                                              "logits_size=[3,5] labels_size=[3,4]")]),
    Case("sparse_xent_fed", lambda tf, l, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=l, logits=x),
         lambda l, x: -np.log(np_softmax(x))[np.arange(3), l], [SPARSE, X], 1e-5,
         bad=[Bad([np.array([0, 5, 2], np.int32), X], E.InvalidArgumentError,
                  "Received a label value of 5 which is outside the valid range of [0, 5).  Label values: 0 5 2"),
              Bad([np.array([0, -1, 2], np.int32), X], E.InvalidArgumentError,
                  "Received a label value of -1 which is outside the valid range of [0, 5).  Label values: 0 -1 2")]),
    Case("max_pool_fed", lambda tf, x: tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
         lambda x: np_pool(x, 2, 2, "VALID", np.max), [X4],
         bad=[Bad([X4[0]], ValueError, "Shape must be rank 4 but is rank 3", at="build")]),
    Case("in_top_k_fed", lambda tf, x, t: tf.nn.in_top_k(x, t, 2),
         lambda x, t: np.array([t[i] in np.argsort(-x[i])[:2] for i in range(3)]), [X, SPARSE],
         bad=[Bad([X, SPARSE[:2]], E.InvalidArgumentError, "First dimension of predictions 3 must match length of "
                                                           "targets 2")]),
    Case("fused_batch_norm_fed", lambda tf, x, s: tf.nn.fused_batch_norm(x, s, tf.zeros([3]))[0],
         lambda x, s: (x - x.mean((0, 1, 2))) / np.sqrt(x.var((0, 1, 2)) + 1e-3) * s, [X4, np.ones(3, np.float32)],
         1e-4, bad=[Bad([X4, np.ones(2, np.float32)], E.InvalidArgumentError,
                        "scale must have the same number of elements as the channels of x, got 2 and 3")]),
    Case("embedding_lookup_fed", lambda tf, p, i: tf.nn.embedding_lookup(p, i), lambda p, i: p[i], [X, np.array([0, 2], np.int32)],
         bad=[Bad([X, np.array([1, 3], np.int32)], E.InvalidArgumentError, "indices[1] = 3 is not in [0, 3)")]),
]


@pytest.mark.parametrize("case", VALIDATING, ids=str)
def test_validating_ops(case):
    check(case)


@pytest.mark.parametrize("case, bad", bad_cases(VALIDATING))
def test_bad_inputs(case, bad):
    check_bad(case, bad)
