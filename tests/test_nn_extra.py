"""tf.nn extras: 3-D convolution/pooling, 1-D pooling, pool, space/batch/depth rearrangements,
max_pool_with_argmax, CTC loss/decoders, swish, crelu, relu_layer, moments: values and gradients
against real TensorFlow, compiled runs, and TF's errors."""
import numpy as np
import pytest

import graphcompat as tf
from tests import _op_oracle
from tests._conformance import Case

RS = np.random.RandomState(0)
X5 = RS.randn(2, 4, 5, 6, 3).astype(np.float32)
W5 = RS.randn(2, 3, 2, 3, 4).astype(np.float32)
X4 = RS.randn(2, 6, 6, 3).astype(np.float32)
X3 = RS.randn(2, 7, 3).astype(np.float32)
LOGITS = RS.randn(6, 3, 5).astype(np.float32)  # time, batch, classes (blank = 4)
WT = RS.randn(2, 2, 2, 4, 3).astype(np.float32)  # conv3d_transpose filter
W2 = RS.randn(3, 2).astype(np.float32)


def _labels(tf_):
    return tf_.SparseTensor([[0, 0], [0, 1], [1, 0], [1, 1], [1, 2], [2, 0]], np.array([1, 2, 3, 3, 0, 2], np.int32),
                            [3, 3])


def _s2b_ref(x, block, pads):
    x = np.pad(x, [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)])
    n, h, w, c = x.shape
    x = x.reshape(n, h // block[0], block[0], w // block[1], block[1], c).transpose(2, 4, 0, 1, 3, 5)
    return x.reshape(n * block[0] * block[1], h // block[0], w // block[1], c)


CASES = [
    (Case("conv3d", lambda tf, x: tf.nn.conv3d(x, W5[:, :, :, :, :], [1, 1, 2, 1, 1], "SAME"),
          lambda x: _np_conv3d(x, W5, (1, 2, 1)), [X5], tol=1e-4), True),
    (Case("max_pool3d", lambda tf, x: tf.nn.max_pool3d(x, 2, 2, "VALID"),
          lambda x: x[:, :4, :4, :6].reshape(2, 2, 2, 2, 2, 3, 2, 3).max(axis=(2, 4, 6)), [X5]), True),
    (Case("avg_pool1d", lambda tf, x: tf.nn.avg_pool1d(x, 2, 2, "VALID"),
          lambda x: x[:, :6].reshape(2, 3, 2, 3).mean(axis=2), [X3]), True),
    (Case("space_to_batch_nd", lambda tf, x: tf.space_to_batch_nd(x, [2, 3], [[0, 2], [1, 2]]),
          lambda x: _s2b_ref(x, (2, 3), [(0, 2), (1, 2)]), [X4]), True),
    (Case("batch_to_space_roundtrip", lambda tf, x: tf.batch_to_space_nd(tf.space_to_batch_nd(
        x, [2, 3], [[0, 2], [1, 2]]), [2, 3], [[0, 2], [1, 2]]), lambda x: x, [X4]), True),
    (Case("swish_crelu", lambda tf, x: [tf.nn.swish(x), tf.nn.crelu(x)],
          lambda x: [x / (1 + np.exp(-x)), np.maximum(np.concatenate([x, -x], -1), 0)], [X3], tol=1e-5), True),
    (Case("ctc_loss", lambda tf, x: tf.nn.ctc_loss(_labels(tf), x, [6, 5, 3]),
          lambda x: np.array([_np_ctc(x[:6, 0], [1, 2]), _np_ctc(x[:5, 1], [3, 3, 0]), _np_ctc(x[:3, 2], [2])],
                             np.float32), [LOGITS], tol=1e-4), True),
]


def _np_conv3d(x, w, strides):
    import jax
    with jax.enable_x64(False):
        out = jax.lax.conv_general_dilated(x, w, strides, "SAME", dimension_numbers=("NDHWC", "DHWIO", "NDHWC"),
                                           precision="highest")
    return np.asarray(out)


def _np_ctc(logits, labels):
    shifted = logits - logits.max(-1, keepdims=True)
    lp = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    blank = logits.shape[-1] - 1
    ext = [blank]
    for label in labels:
        ext += [label, blank]
    alpha = np.full(len(ext), -np.inf)
    alpha[:2] = lp[0, ext[:2]]
    for t in range(1, len(lp)):
        new = np.full(len(ext), -np.inf)
        for s in range(len(ext)):
            terms = [alpha[s]] + ([alpha[s - 1]] if s else [])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[s - 2])
            new[s] = np.logaddexp.reduce(terms) + lp[t, ext[s]]
        alpha = new
    return -np.logaddexp(alpha[-1], alpha[-2])


@pytest.mark.parametrize("case, compiles", CASES, ids=[c.id for c, _ in CASES])
def test_conformance(case, compiles):
    _op_oracle.check_case(case, compiles)


def test_space_to_batch_runtime_errors_compiled():
    x = tf.placeholder(tf.float32, [None, None, None, 1])
    out = tf.space_to_batch_nd(x, [2, 2], [[0, 0], [0, 0]])
    with tf.Session() as sess:
        for _ in range(2):
            sess.run(out, {x: np.zeros([1, 4, 4, 1], np.float32)})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"padded_shape\[0\]=5 is not divisible by "
                                                                 r"block_shape\[0\]=2"):
            sess.run(out, {x: np.zeros([1, 5, 4, 1], np.float32)})


def test_ctc_loss_errors_compiled():
    seq = tf.placeholder(tf.int32, [3])
    loss = tf.nn.ctc_loss(_labels(tf), tf.constant(LOGITS), seq)
    with tf.Session() as sess:
        for _ in range(2):
            sess.run(loss, {seq: [6, 5, 3]})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"sequence_length\(1\) <= 6"):
            sess.run(loss, {seq: [6, 7, 3]})


# ------------------------------------------------------------------------------------------------
# Oracle
# ------------------------------------------------------------------------------------------------
ORACLE = [
    ("conv3d", lambda tf: [tf.nn.conv3d(X5, W5, [1, 1, 2, 1, 1], "SAME"), tf.nn.conv3d(X5, W5, [1] * 5, "VALID"),
                           tf.nn.conv3d(X5, W5, [1] * 5, "VALID", dilations=[1, 2, 1, 2, 1])]),
    ("conv3d_transpose", lambda tf: tf.nn.conv3d_transpose(X5[..., :3], WT,
                                                           [2, 8, 10, 12, 4], [1, 2, 2, 2, 1], "SAME")),
    ("pool3d", lambda tf: [tf.nn.max_pool3d(X5, 2, 2, "VALID"), tf.nn.avg_pool3d(X5, [2, 3, 2], [1, 2, 2], "SAME"),
                           tf.nn.max_pool3d(X5, 3, 1, "SAME")]),
    ("pool1d_pool", lambda tf: [tf.nn.max_pool1d(X3, 2, 2, "VALID"), tf.nn.avg_pool1d(X3, 3, 2, "SAME"),
                                tf.nn.pool(X4, [2, 2], "MAX", "SAME"), tf.nn.pool(X3, [3], "AVG", "VALID", strides=[2]),
                                tf.nn.pool(X5, [2, 2, 2], "AVG", "VALID", strides=[2, 2, 2])]),
    ("space_batch_depth", lambda tf: [tf.space_to_batch_nd(X4, [2, 3], [[0, 2], [1, 2]]),
                                      tf.batch_to_space_nd(X4[:, :2, :3], [1, 2], [[0, 0], [1, 1]]),
                                      tf.space_to_batch(X4, [[1, 1], [0, 2]], 2),
                                      tf.nn.space_to_batch(X4, [[1, 1], [0, 2]], 2),
                                      tf.batch_to_space(np.arange(32, dtype=np.float32).reshape(8, 2, 2, 1),
                                                        [[0, 1], [1, 0]], 2),
                                      tf.nn.space_to_depth(X4, 2), tf.nn.depth_to_space(X4[..., :1].repeat(4, -1), 2)]),
    ("argmax_pool", lambda tf: list(tf.nn.max_pool_with_argmax(X4, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")) + list(
        tf.nn.max_pool_with_argmax(X4, [1, 3, 3, 1], [1, 2, 2, 1], "SAME", include_batch_in_index=True))),
    ("activations_moments", lambda tf: [tf.nn.swish(X3), tf.nn.swish(X3, beta=2.0), tf.nn.silu(X3),
                                        tf.nn.crelu(X3), tf.nn.crelu(X3, axis=1),
                                        tf.nn.relu_layer(X3[0], W2, [0.5, -0.5]),
                                        list(tf.nn.weighted_moments(X3, [0, 1], X3[..., :1] ** 2)),
                                        list(tf.nn.weighted_moments(X3, [1], np.ones([2, 1, 3], np.float32),
                                                                    keep_dims=True)),
                                        list(tf.nn.normalize_moments(4.0, [2.0, 3.0], [5.0, 6.0], 1.0)),
                                        list(tf.nn.normalize_moments(4.0, [2.0, 3.0], [5.0, 6.0], None))]),
    ("ctc_loss", lambda tf: [tf.nn.ctc_loss(_labels(tf), LOGITS, [6, 5, 3]),
                             tf.nn.ctc_loss(_labels(tf), LOGITS, [6, 5, 3], preprocess_collapse_repeated=True),
                             tf.nn.ctc_loss(_labels(tf), LOGITS, [6, 5, 3], ctc_merge_repeated=False),
                             tf.nn.ctc_loss(_labels(tf), LOGITS.transpose(1, 0, 2), [6, 5, 3], time_major=False),
                             tf.nn.ctc_loss(_labels(tf), LOGITS, [6, 2, 3], ignore_longer_outputs_than_inputs=True),
                             tf.nn.ctc_loss(tf.SparseTensor([[0, 0], [0, 1], [0, 2], [1, 0], [2, 0]],
                                                            np.array([1, 1, 1, 2, 3], np.int32), [3, 3]),
                                            LOGITS, [3, 5, 3])]),
    ("ctc_gradient", lambda tf: _ctc_grad(tf)),
    ("ctc_decoders", lambda tf: [tf.nn.ctc_greedy_decoder(LOGITS, [6, 5, 3]),
                                 tf.nn.ctc_greedy_decoder(LOGITS, [6, 5, 3], merge_repeated=False),
                                 tf.nn.ctc_beam_search_decoder(LOGITS, [6, 5, 3], beam_width=4, top_paths=3),
                                 tf.nn.ctc_beam_search_decoder(LOGITS, [6, 4, 3], beam_width=10, top_paths=2,
                                                               merge_repeated=False)]),
    ("pool_gradients", lambda tf: _pool_grads(tf)),
]


def _ctc_grad(tf):
    x = tf.constant(LOGITS)
    return tf.gradients(tf.reduce_sum(tf.nn.ctc_loss(_labels(tf), x, [6, 5, 3])), [x])


def _pool_grads(tf):
    x5, x4 = tf.constant(X5), tf.constant(X4)
    y = (tf.reduce_sum(tf.nn.max_pool3d(x5, 2, 2, "VALID") ** 2) + tf.reduce_sum(tf.nn.avg_pool3d(x5, 2, 1, "SAME"))
         + tf.reduce_sum(tf.nn.conv3d(x5, W5, [1] * 5, "SAME") ** 2) + tf.reduce_sum(tf.space_to_batch_nd(
             x4, [2, 2], [[0, 0], [1, 1]]) ** 2) + tf.reduce_sum(tf.nn.swish(x4) ** 2))
    return tf.gradients(y, [x5, x4])


_SLOW = {"conv3d", "ctc_loss"}  # one large graph each: several seconds of compiling


@pytest.mark.oracle
@pytest.mark.parametrize("name, build", [pytest.param(*o, marks=pytest.mark.slow) if o[0] in _SLOW else o
                                         for o in ORACLE], ids=[o[0] for o in ORACLE])
def test_oracle(name, build):
    _op_oracle.compare(build, tol=2e-4, runs=2)


ORACLE_ERRORS = [
    ("conv3d_depth", lambda tf: tf.nn.conv3d(X5, W5[:, :, :, :2], [1] * 5, "SAME")),
    ("conv3d_strides", lambda tf: tf.nn.conv3d(X5, W5, [2, 1, 1, 1, 1], "SAME")),
    ("s2b_static", lambda tf: tf.space_to_batch_nd(np.zeros([1, 5, 4, 1], np.float32), [2, 2], [[0, 0], [0, 0]])),
    ("s2b_runtime", lambda tf: tf.space_to_batch_nd(tf.placeholder_with_default(
        np.zeros([1, 5, 4, 1], np.float32), [None, None, None, 1]), [2, 2], [[0, 0], [0, 0]])),
    ("b2s_batch", lambda tf: tf.batch_to_space_nd(tf.placeholder_with_default(
        np.zeros([3, 2, 2, 1], np.float32), [None, None, None, 1]), [2, 2], [[0, 0], [0, 0]])),
    ("b2s_crop", lambda tf: tf.batch_to_space_nd(tf.placeholder_with_default(
        np.zeros([4, 2, 2, 1], np.float32), [None, None, None, 1]), [2, 2], [[0, 5], [0, 0]])),
    ("s2b_negative_pad", lambda tf: tf.space_to_batch_nd(tf.placeholder_with_default(
        np.zeros([1, 4, 4, 1], np.float32), [None, None, None, 1]), [2, 2], tf.placeholder_with_default(
        np.array([[0, -1], [0, 0]], np.int32), [2, 2]))),
    ("argmax_ksize", lambda tf: tf.nn.max_pool_with_argmax(X4, 2, 2, "VALID")),
    ("ctc_sequence_length", lambda tf: tf.nn.ctc_loss(_labels(tf), LOGITS, [7, 5, 3])),
    ("ctc_not_enough_time", lambda tf: tf.nn.ctc_loss(_labels(tf), LOGITS, [6, 2, 3])),
    ("ctc_batch", lambda tf: tf.nn.ctc_loss(_labels(tf), LOGITS, [6, 5])),
    ("ctc_empty_label", lambda tf: tf.nn.ctc_loss(tf.SparseTensor([[0, 0]], np.array([1], np.int32), [3, 1]), LOGITS,
                                                  [6, 5, 3])),
    ("beam_paths", lambda tf: tf.nn.ctc_beam_search_decoder(LOGITS, [6, 5, 3], beam_width=2, top_paths=3)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name, build", ORACLE_ERRORS, ids=[o[0] for o in ORACLE_ERRORS])
def test_oracle_errors(name, build):
    _op_oracle.compare_error(build)
