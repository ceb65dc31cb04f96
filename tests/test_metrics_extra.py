"""The rest of tf.metrics: values after several update runs against numpy and real TensorFlow,
local variables in TF's collections with TF's names, TF's errors."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

L = np.array([1, 0, 1, 1, 0, 1], np.int64)
P = np.array([0.9, 0.2, 0.4, 0.7, 0.6, 0.1], np.float32)
W = np.array([1.0, 2.0, 1.0, 0.5, 1.0, 1.0], np.float32)
R = np.array([0.5, 2.0, -1.0, 3.0, 0.0, 1.0], np.float32)
SCORES = np.array([[0.1, 0.5, 0.4], [0.2, 0.3, 0.5]], np.float32)

# (id, builder(tf) -> (value, update_op))
METRICS = [
    ("precision", lambda tf: tf.metrics.precision(L, P > 0.5)),
    ("recall_weighted", lambda tf: tf.metrics.recall(L, P > 0.5, weights=W)),
    ("true_positives", lambda tf: tf.metrics.true_positives(L, P > 0.5)),
    ("false_negatives", lambda tf: tf.metrics.false_negatives(L, P > 0.5)),
    ("true_negatives_weighted", lambda tf: tf.metrics.true_negatives(L, P > 0.5, weights=W)),
    ("false_positives", lambda tf: tf.metrics.false_positives(L, P > 0.5)),
    ("auc_roc", lambda tf: tf.metrics.auc(L, P)),
    ("auc_pr", lambda tf: tf.metrics.auc(L, P, curve="PR", num_thresholds=50)),
    ("auc_minoring_weighted", lambda tf: tf.metrics.auc(L, P, weights=W, summation_method="minoring")),
    ("auc_thresholds", lambda tf: tf.metrics.auc(L, P, thresholds=[0.3, 0.5, 0.65])),
    ("precision_at_thresholds", lambda tf: tf.metrics.precision_at_thresholds(L, P, [0.3, 0.5, 0.8])),
    ("recall_at_thresholds", lambda tf: tf.metrics.recall_at_thresholds(L, P, [0.3, 0.5, 0.8], weights=W)),
    ("false_positives_at_thresholds", lambda tf: tf.metrics.false_positives_at_thresholds(L, P, [0.3, 0.5])),
    ("true_negatives_at_thresholds", lambda tf: tf.metrics.true_negatives_at_thresholds(L, P, [0.3, 0.5])),
    ("true_positives_at_thresholds", lambda tf: tf.metrics.true_positives_at_thresholds(L, P, [0.3, 0.5])),
    ("false_negatives_at_thresholds", lambda tf: tf.metrics.false_negatives_at_thresholds(L, P, [0.3, 0.5])),
    ("mean_absolute_error", lambda tf: tf.metrics.mean_absolute_error(R, P)),
    ("mean_squared_error", lambda tf: tf.metrics.mean_squared_error(R, P, weights=W)),
    ("root_mean_squared_error", lambda tf: tf.metrics.root_mean_squared_error(R, P)),
    ("mean_relative_error", lambda tf: tf.metrics.mean_relative_error(R, P, normalizer=R)),
    ("mean_cosine_distance", lambda tf: tf.metrics.mean_cosine_distance(np.eye(3, dtype=np.float32),
                                                                        np.ones((3, 3), np.float32) / 3, dim=1)),
    ("percentage_below", lambda tf: tf.metrics.percentage_below(R, 0.5)),
    ("mean_iou", lambda tf: tf.metrics.mean_iou(tf.constant(L), tf.constant((P > 0.5).astype(np.int64)), 2)),
    ("mean_iou_absent_class", lambda tf: tf.metrics.mean_iou(tf.constant([0, 1, 2, 2]), tf.constant([0, 2, 2, 1]),
                                                             4, weights=tf.constant([1.0, 2.0, 1.0, 1.0]))),
    ("sensitivity_at_specificity", lambda tf: tf.metrics.sensitivity_at_specificity(L, P, 0.5)),
    ("specificity_at_sensitivity", lambda tf: tf.metrics.specificity_at_sensitivity(L, P, 0.7)),
    ("mean_tensor", lambda tf: tf.metrics.mean_tensor(np.arange(6, dtype=np.float32).reshape(2, 3),
                                                      weights=[[1.0], [3.0]])),
    ("recall_at_k", lambda tf: tf.metrics.recall_at_k(tf.constant(np.array([2, 0])), SCORES, 2)),
    ("precision_at_k", lambda tf: tf.metrics.precision_at_k(tf.constant(np.array([[2, 1], [0, 5]])), SCORES, 2)),
]


def _run(tf_, build, runs=3):
    graph = tf_.Graph()
    with graph.as_default():
        value, update = build(tf_)
        with tf_.Session() as sess:
            sess.run(tf_.local_variables_initializer())
            updates = [sess.run(update) for _ in range(runs)]
            return updates, sess.run(value)


def test_local_variables_and_names():
    value, update = tf.metrics.auc(L, P, num_thresholds=5)
    names = [v.op.name for v in tf.local_variables()]
    assert names == ["auc/true_positives", "auc/false_negatives", "auc/true_negatives", "auc/false_positives"]
    assert [v.op.name for v in tf.get_collection(tf.GraphKeys.METRIC_VARIABLES)] == names
    assert not tf.trainable_variables()
    assert (value.op.name, update.op.name) == ("auc/value", "auc/update_op")
    p, p_update = tf.metrics.precision(L, P > 0.5, metrics_collections=["m"], updates_collections=["u"])
    assert tf.get_collection("m") == [p] and tf.get_collection("u") == [p_update]
    assert [v.op.name for v in tf.local_variables()[4:]] == ["precision/true_positives/count",
                                                             "precision/false_positives/count"]


def test_values_accumulate_against_numpy():
    pred = P > 0.5
    tp, fp = np.sum(pred & (L == 1)), np.sum(pred & (L == 0))
    updates, value = _run(tf, lambda tf: tf.metrics.precision(L, pred))
    np.testing.assert_allclose(updates, [tp / (tp + fp)] * 3)
    updates, value = _run(tf, lambda tf: tf.metrics.true_positives_at_thresholds(L, P, [0.3, 0.5]))
    np.testing.assert_allclose(value, 3 * np.array([np.sum((P > t) & (L == 1)) for t in (0.3, 0.5)]))
    _, value = _run(tf, lambda tf: tf.metrics.root_mean_squared_error(R, P))
    np.testing.assert_allclose(value, np.sqrt(np.mean((R - P) ** 2)), rtol=1e-6)


def test_auc_rejects_predictions_outside_unit_interval():
    with pytest.raises(tf.errors.InvalidArgumentError, match="predictions must be in \\[0, 1\\]"):
        _run(tf, lambda tf: tf.metrics.auc(L, P * 2.0), runs=1)
    with pytest.raises(ValueError, match="`specificity` must be in the range \\[0, 1\\]"):
        tf.metrics.sensitivity_at_specificity(L, P, 1.5)


@pytest.mark.oracle
@pytest.mark.parametrize("name, build", METRICS, ids=[m[0] for m in METRICS])
def test_oracle(name, build):
    v1 = oracle.tf1()
    got_updates, got_value = _run(tf, build)
    want_updates, want_value = _run(v1, build)
    np.testing.assert_allclose(got_updates, want_updates, rtol=1e-5, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(got_value, want_value, rtol=1e-5, atol=1e-6, equal_nan=True)
