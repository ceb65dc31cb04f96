"""tf.metrics' @k family (precision/recall at k and at top k, average precision at k): streamed over
several batches side by side with TensorFlow — update results, values, the local variables' names and
collections, and the op types TF records (top_k + set operations)."""
import collections

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

SCORES = [np.array([[0.1, 0.5, 0.4, 0.0], [0.2, 0.3, 0.5, 0.9], [0.7, 0.1, 0.15, 0.05]], np.float32),
          np.array([[0.6, 0.1, 0.2, 0.1], [0.05, 0.15, 0.7, 0.1], [0.3, 0.3, 0.2, 0.2]], np.float32)]
LABELS_1 = [np.array([2, 3, 1], np.int64), np.array([0, 1, 3], np.int64)]
LABELS_2 = [np.array([[2, 1], [0, 5], [0, -1]], np.int64), np.array([[1, 0], [2, 2], [3, 1]], np.int64)]
WEIGHTS = [np.array([1.0, 0.5, 2.0], np.float32), np.array([0.0, 1.0, 3.0], np.float32)]
# labels of batch i as a SparseTensorValue: rows of different lengths
SPARSE = [([[0, 0], [0, 1], [1, 0], [2, 0], [2, 1], [2, 2]], [2, 1, 3, 0, 1, 2], [3, 3]),
          ([[0, 0], [1, 0], [1, 1], [2, 0]], [0, 2, 3, 3], [3, 2])]


def _labels(lib, kind):
    if kind == "sparse":
        return lib.sparse_placeholder(lib.int64), [lib.SparseTensorValue(*s) for s in SPARSE]
    rank = 1 if kind == "rank1" else 2
    return lib.placeholder(lib.int64, [None] * rank), LABELS_1 if rank == 1 else LABELS_2


# (id, label kind, builder(tf, labels, scores, weights) -> (value, update_op))
CASES = [
    ("precision_at_top_k", "rank2", lambda t, l, s, w: t.metrics.precision_at_top_k(l, t.nn.top_k(s, 2)[1], k=2)),
    ("precision_at_top_k_class", "rank1", lambda t, l, s, w: t.metrics.precision_at_top_k(
        l, t.nn.top_k(s, 2)[1], class_id=3)),
    ("recall_at_top_k_weights", "rank2", lambda t, l, s, w: t.metrics.recall_at_top_k(
        l, t.nn.top_k(s, 2)[1], k=2, weights=w)),
    ("recall_at_top_k_sparse_class", "sparse", lambda t, l, s, w: t.metrics.recall_at_top_k(
        l, t.nn.top_k(s, 3)[1], k=3, class_id=1)),
    ("precision_at_k_rank1_weights", "rank1", lambda t, l, s, w: t.metrics.precision_at_k(l, s, 2, weights=w)),
    ("precision_at_k_class", "rank2", lambda t, l, s, w: t.metrics.precision_at_k(l, s, 2, class_id=2)),
    ("recall_at_k_sparse", "sparse", lambda t, l, s, w: t.metrics.recall_at_k(l, s, 1)),
    ("recall_at_k_class_rank2", "rank2", lambda t, l, s, w: t.metrics.recall_at_k(l, s, 2, class_id=0)),
    ("sparse_precision_at_k_sparse", "sparse", lambda t, l, s, w: t.metrics.sparse_precision_at_k(
        l, s, 2, name="spk")),
    ("average_precision_at_k_rank1", "rank1", lambda t, l, s, w: t.metrics.average_precision_at_k(l, s, 3)),
    ("average_precision_at_k_rank2_weights", "rank2", lambda t, l, s, w: t.metrics.average_precision_at_k(
        l, s, 2, weights=w)),
    ("average_precision_at_k_sparse", "sparse", lambda t, l, s, w: t.metrics.average_precision_at_k(l, s, 3)),
    ("sparse_average_precision_at_k", "rank2", lambda t, l, s, w: t.metrics.sparse_average_precision_at_k(
        l, s, 4, weights=w)),
]


def _stream(lib, kind, build):
    g = lib.Graph()
    with g.as_default():
        labels, label_batches = _labels(lib, kind)
        scores = lib.placeholder(lib.float32, [None, 4])
        weights = lib.placeholder(lib.float32, [3])
        value, update = build(lib, labels, scores, weights)
        names = [v.op.name for v in lib.local_variables()]
        assert names == [v.op.name for v in lib.get_collection(lib.GraphKeys.METRIC_VARIABLES)]
        assert not lib.trainable_variables()
        op_types = collections.Counter(op.type for op in g.get_operations())
        out = []
        with lib.Session() as sess:
            sess.run(lib.local_variables_initializer())
            for lab, sc, w in zip(label_batches * 2, SCORES * 2, WEIGHTS * 2):
                out.append(sess.run(update, {labels: lab, scores: sc, weights: w}))
                out.append(sess.run(value))
        return names, value.name, update.name, out, op_types


@pytest.mark.oracle
@pytest.mark.parametrize("kind, build", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_matches_tensorflow(kind, build):
    v1 = oracle.tf1()
    names, value, update, out, op_types = _stream(tf, kind, build)
    t_names, t_value, t_update, t_out, t_op_types = _stream(v1, kind, build)
    assert (names, value, update) == (t_names, t_value, t_update)
    np.testing.assert_allclose(out, t_out, rtol=1e-12, equal_nan=True)
    # the same ops: TF's top_k and set operations, not an equivalent formula
    for op in ("TopKV2", "DenseToDenseSetOperation", "DenseToSparseSetOperation", "SetSize", "Cumsum", "SparseRetain"):
        assert op_types[op] == t_op_types[op], op


def test_precision_at_k_against_numpy():
    # batch 0, k=2: top-2 rows {1,2}, {3,2}, {0,2}; labels {2,1}, {0,5}, {0}: tp = 2 + 0 + 1, fp = 0 + 2 + 1
    names, value, update, out, _ = _stream(tf, "rank2", CASES[0][2])
    assert names == ["precision_at_2/true_positive_at_2", "precision_at_2/false_positive_at_2"]
    assert (value, update) == ("precision_at_2:0", "precision_at_2/update:0")
    assert out[0] == pytest.approx(3 / 6)


def test_average_precision_against_numpy():
    # batch 0, k=3, rank-1 labels: row 0 ranks (1, 2, 0), label 2 at rank 2 -> 1/2; row 1 ranks (3, 2, 1),
    # label 3 at rank 1 -> 1; row 2 ranks (0, 2, 1), label 1 at rank 3 -> 1/3
    names, _, _, out, _ = _stream(tf, "rank1", CASES[9][2])
    # TF's `Max` of the out-of-range check takes the scope name first (names are case-insensitive): `max_1`
    assert names == ["average_precision_at_3/max_1", "average_precision_at_3/total"]
    assert out[0] == pytest.approx((1 / 2 + 1 + 1 / 3) / 3)


def test_errors():
    with tf.Graph().as_default():
        scores = tf.constant(SCORES[0])
        with pytest.raises(ValueError, match="Invalid k=0. `k` should be >= 1."):
            tf.metrics.average_precision_at_k(tf.constant(LABELS_1[0]), scores, 0)
        with pytest.raises(ValueError, match="Unexpected labels shape \\(1, 1, 3\\) for predictions shape"):
            tf.metrics.precision_at_k(tf.constant(LABELS_1[0][None, None]), scores, 2)
        # SetSize's rank is unknown while building, so TF checks the weights when the graph runs
        _, update = tf.metrics.recall_at_k(tf.constant(LABELS_1[0]), scores, 2, weights=tf.ones([3, 2]))
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            with pytest.raises(tf.errors.InvalidArgumentError, match="weights can not be broadcast to values"):
                sess.run(update)
