"""tf.nn.ctc_loss_v2 (dense labels: TF's forward-backward composition; sparse labels: the CTCLoss op),
tf.nn.ctc_unique_labels and tf.nn.ctc_beam_search_decoder_v2: losses and gradients w.r.t. the logits,
decoded paths, the op types TF records, TF's errors."""
import collections

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

RNG = np.random.RandomState(0)
LOGITS = RNG.randn(6, 2, 5).astype(np.float32)  # [time, batch, classes]
DENSE = np.array([[1, 2, 2], [3, 4, 0]], np.int32)
LABEL_LENGTH = np.array([3, 2], np.int32)
LOGIT_LENGTH = np.array([6, 5], np.int32)


def _loss_and_grad(lib, blank_index=None, time_major=True, sparse=False, unique=False):
    g = lib.Graph()
    with g.as_default():
        logits = lib.constant(LOGITS if time_major else LOGITS.transpose(1, 0, 2))
        if sparse:
            labels = lib.SparseTensor([[0, 0], [0, 1], [0, 2], [1, 0]], lib.constant([1, 2, 2, 3]), [2, 3])
        else:
            labels = lib.constant(DENSE)
        u = lib.nn.ctc_unique_labels(labels) if unique else None
        loss = lib.nn.ctc_loss_v2(labels, logits, lib.constant(LABEL_LENGTH), lib.constant(LOGIT_LENGTH),
                                  logits_time_major=time_major, unique=u, blank_index=blank_index)
        grad, = lib.gradients(lib.reduce_sum(loss * [1.0, 2.0]), logits)
        op_types = collections.Counter(op.type for op in g.get_operations())
        with lib.Session() as sess:
            return sess.run([loss, grad] + (list(u) if unique else [])), loss.op.name, op_types


CASES = [dict(), dict(blank_index=2), dict(blank_index=-1, time_major=False), dict(unique=True),
         dict(unique=True, blank_index=3), dict(sparse=True, blank_index=-1), dict(sparse=True, blank_index=0),
         dict(sparse=True, blank_index=2, time_major=False)]


@pytest.mark.oracle
@pytest.mark.parametrize("kwargs", CASES, ids=[",".join(f"{k}={v}" for k, v in c.items()) or "default"
                                               for c in CASES])
def test_matches_tensorflow(kwargs):
    got, name, op_types = _loss_and_grad(tf, **kwargs)
    want, t_name, t_op_types = _loss_and_grad(oracle.tf1(), **kwargs)
    assert name == t_name
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)
    # TF's choice of implementation: CTCLoss for sparse labels, the dense While loops otherwise
    for op in ("CTCLoss", "While", "IdentityN", "Empty", "TensorScatterAdd", "ScatterNd", "OneHot"):
        assert op_types[op] == t_op_types[op], op


def test_dense_loss_agrees_with_ctc_loss_op():
    # blank last (-1) on dense labels must give the CTCLoss op's loss and gradient for the same sequences
    def run(dense):
        g = tf.Graph()
        with g.as_default():
            logits = tf.constant(LOGITS)
            if dense:
                loss = tf.nn.ctc_loss_v2(tf.constant([[1, 2, 2], [3, 1, 0]]), logits, tf.constant([3, 2]),
                                         tf.constant(LOGIT_LENGTH), blank_index=-1)
            else:
                labels = tf.SparseTensor([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1]], tf.constant([1, 2, 2, 3, 1]),
                                         [2, 3])
                loss = tf.nn.ctc_loss(labels, logits, LOGIT_LENGTH)
            grad, = tf.gradients(tf.reduce_sum(loss * [1.0, 2.0]), logits)
            types = {op.type for op in g.get_operations()}
            with tf.Session() as sess:
                return sess.run([loss, grad]), types
    (dense_loss, dense_grad), types = run(True)
    assert "CTCLoss" not in types and "While" in types
    (want_loss, want_grad), _ = run(False)
    np.testing.assert_allclose(dense_loss, want_loss, rtol=1e-5)
    np.testing.assert_allclose(dense_grad, want_grad, rtol=1e-4, atol=1e-6)


def test_unique_labels():
    with tf.Graph().as_default():
        y, idx = tf.nn.ctc_unique_labels(tf.constant([[3, 4, 4, 3], [7, 7, 7, 1]]))
        with tf.Session() as sess:
            y, idx = sess.run([y, idx])
    np.testing.assert_array_equal(y, [[3, 4, 0, 0], [7, 1, 0, 0]])
    np.testing.assert_array_equal(idx, [[0, 1, 1, 0], [0, 0, 0, 1]])
    assert (y.dtype, idx.dtype) == (np.int64, np.int32)


def test_sparse_labels_need_blank_index():
    with tf.Graph().as_default():
        labels = tf.SparseTensor([[0, 0]], tf.constant([1]), [1, 1])
        with pytest.raises(ValueError, match="Argument `blank_index` must be provided when labels is a "
                                             "SparseTensor."):
            tf.nn.ctc_loss_v2(labels, tf.constant(LOGITS[:, :1]), None, tf.constant([6]))


def _decode(lib):
    with lib.Graph().as_default():
        decoded, log_probs = lib.nn.ctc_beam_search_decoder_v2(lib.constant(LOGITS), lib.constant(LOGIT_LENGTH),
                                                               beam_width=4, top_paths=2)
        with lib.Session() as sess:
            out = sess.run([(d.indices, d.values, d.dense_shape) for d in decoded] + [log_probs])
        return out, decoded[0].indices.op.get_attr("merge_repeated")


@pytest.mark.oracle
def test_beam_search_decoder_v2_matches_tensorflow():
    got, merge = _decode(tf)
    want, t_merge = _decode(oracle.tf1())
    assert merge is t_merge is False
    for (gi, gv, gs), (wi, wv, ws) in zip(got[:2], want[:2]):
        np.testing.assert_array_equal(gi, wi)
        np.testing.assert_array_equal(gv, wv)
        np.testing.assert_array_equal(gs, ws)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-5)


def test_empty_op_static_shape_and_zeros():
    # the scan's buffers: `Empty` with init=True is zeros, its shape inferred from the constant shape
    from graphcompat.framework.registry import apply_op
    with tf.Graph().as_default():
        buf = apply_op("Empty", [tf.constant([2, 3])], {"dtype": tf.float32, "init": True})
        open_rows = apply_op("Empty", [tf.concat([tf.shape(tf.placeholder_with_default([1, 2], [None])), [3]], 0)],
                             {"dtype": tf.int64, "init": True})
        assert (buf.op.type, buf.shape.as_list(), open_rows.shape.as_list()) == ("Empty", [2, 3], [None, 3])
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(buf), np.zeros((2, 3), np.float32))
            assert sess.run(open_rows).shape == (2, 3)
