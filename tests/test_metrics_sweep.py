"""Differential sweep of tf.metrics (all 33 of TF 1.x's, plus their variants): each metric streamed over three
weighted batches in ONE graph, its update op and value tensor fetched after each batch, then a reset through
local_variables_initializer and one more batch; against real TF: values, dtypes, the tensors' names, the local
variables' names, and the metrics/updates collections."""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat
from tests import _op_oracle, oracle

pytestmark = pytest.mark.oracle

RNG = np.random.RandomState(7)
B, C = 6, 4


def _batch(k):
    rng = np.random.RandomState(100 + k)
    probs = rng.uniform(0, 1, B).astype(np.float32)
    probs[:2] = [0.5, 0.1]  # exactly at a threshold; a tie with the list below
    logits = rng.uniform(-1, 1, (B, C)).astype(np.float32)
    logits[0, 1] = logits[0, 2]  # a tie among the top k
    vec = rng.normal(size=(B, 3)).astype(np.float32)
    return {
        "bin_labels": rng.randint(0, 2, B).astype(np.int64),
        "probs": probs,
        "weights": np.array([1.0, 0.0, 2.0, 0.5, 1.0, 3.0], np.float32)[np.roll(np.arange(B), k)],
        "cls_labels": rng.randint(0, C, B).astype(np.int64),
        "cls_preds": rng.randint(0, C, B).astype(np.int64),
        "reg_labels": rng.normal(size=(B, 2)).astype(np.float32),
        "reg_preds": rng.normal(size=(B, 2)).astype(np.float32),
        "col_weights": rng.uniform(0, 2, (B, 1)).astype(np.float32),
        "unit_labels": vec / np.linalg.norm(vec, axis=1, keepdims=True),
        "unit_preds": np.roll(vec, 1, axis=1) / np.linalg.norm(vec, axis=1, keepdims=True),
        "logits": logits,
        "multi_labels": np.stack([rng.randint(0, C, B), rng.randint(0, C, B)], 1).astype(np.int64),
        "top_idx": np.argsort(-logits, axis=1)[:, :2].astype(np.int64),
        "normalizer": rng.uniform(0.5, 2.0, (B, 2)).astype(np.float32),
    }


BATCHES = [_batch(k) for k in range(3)]
THRESHOLDS = [0.1, 0.5, 0.9]


def _metrics(tf, p):
    """{name: (value, update)} of every metric over the placeholders `p`."""
    m, lab, pr, w = tf.metrics, tf.cast(p["bin_labels"], tf.bool), p["probs"], p["weights"]
    kw = {"metrics_collections": ["sweep_values"], "updates_collections": ["sweep_updates"]}
    out = {
        "accuracy": m.accuracy(p["cls_labels"], p["cls_preds"], w, name="accuracy", **kw),
        "mean": m.mean(pr, w, name="mean", **kw),
        "mean_unweighted": m.mean(pr, name="mean_unweighted"),
        "mean_tensor": m.mean_tensor(p["reg_preds"], p["col_weights"], name="mean_tensor", **kw),
        "mean_absolute_error": m.mean_absolute_error(p["reg_labels"], p["reg_preds"], p["col_weights"],
                                                     name="mae", **kw),
        "mean_squared_error": m.mean_squared_error(p["reg_labels"], p["reg_preds"], p["col_weights"], name="mse"),
        "root_mean_squared_error": m.root_mean_squared_error(p["reg_labels"], p["reg_preds"], p["col_weights"],
                                                             name="rmse"),
        "mean_relative_error": m.mean_relative_error(p["reg_labels"], p["reg_preds"], p["normalizer"],
                                                     p["col_weights"], name="mre"),
        "mean_cosine_distance": m.mean_cosine_distance(p["unit_labels"], p["unit_preds"], 1, p["col_weights"],
                                                       name="cosine"),
        "mean_iou": m.mean_iou(p["cls_labels"], p["cls_preds"], C, w, name="mean_iou", **kw),
        "mean_per_class_accuracy": m.mean_per_class_accuracy(p["cls_labels"], p["cls_preds"], C, w,
                                                             name="per_class"),
        "percentage_below": m.percentage_below(pr, 0.5, w, name="below"),
        "true_positives": m.true_positives(lab, pr > 0.5, w, name="tp", **kw),
        "false_positives": m.false_positives(lab, pr > 0.5, w, name="fp"),
        "true_negatives": m.true_negatives(lab, pr > 0.5, w, name="tn"),
        "false_negatives": m.false_negatives(lab, pr > 0.5, w, name="fn"),
        "precision": m.precision(lab, pr > 0.5, w, name="precision", **kw),
        "recall": m.recall(lab, pr > 0.5, w, name="recall"),
        "true_positives_at_thresholds": m.true_positives_at_thresholds(lab, pr, THRESHOLDS, w, name="tp_t"),
        "false_positives_at_thresholds": m.false_positives_at_thresholds(lab, pr, THRESHOLDS, w, name="fp_t"),
        "true_negatives_at_thresholds": m.true_negatives_at_thresholds(lab, pr, THRESHOLDS, w, name="tn_t"),
        "false_negatives_at_thresholds": m.false_negatives_at_thresholds(lab, pr, THRESHOLDS, w, name="fn_t"),
        "precision_at_thresholds": m.precision_at_thresholds(lab, pr, THRESHOLDS, w, name="p_t", **kw),
        "recall_at_thresholds": m.recall_at_thresholds(lab, pr, THRESHOLDS, w, name="r_t"),
        "sensitivity_at_specificity": m.sensitivity_at_specificity(lab, pr, 0.5, w, num_thresholds=20,
                                                                   name="sens", **kw),
        "specificity_at_sensitivity": m.specificity_at_sensitivity(lab, pr, 0.7, w, num_thresholds=20,
                                                                   name="spec"),
        "precision_at_k": m.precision_at_k(p["cls_labels"], p["logits"], 2, weights=w, name="p_at_k", **kw),
        "precision_at_k__class1": m.precision_at_k(p["multi_labels"], p["logits"], 2, class_id=1, weights=w,
                                                 name="p_at_k_class"),
        "sparse_precision_at_k": m.sparse_precision_at_k(p["multi_labels"], p["logits"], 3, weights=w,
                                                         name="sparse_p_at_k"),
        "recall_at_k": m.recall_at_k(p["multi_labels"], p["logits"], 2, weights=w, name="r_at_k"),
        "recall_at_k__class2": m.recall_at_k(p["cls_labels"], p["logits"], 1, class_id=2, name="r_at_k_class"),
        "precision_at_top_k": m.precision_at_top_k(p["multi_labels"], p["top_idx"], 2, weights=w, name="p_top_k"),
        "recall_at_top_k": m.recall_at_top_k(p["cls_labels"], p["top_idx"], weights=w, name="r_top_k"),
        "average_precision_at_k": m.average_precision_at_k(p["multi_labels"], p["logits"], 3, weights=w,
                                                           name="ap_at_k", **kw),
        "sparse_average_precision_at_k": m.sparse_average_precision_at_k(p["cls_labels"], p["logits"], 2,
                                                                         name="sparse_ap_at_k"),
    }
    for curve in ("ROC", "PR"):
        for method in ("trapezoidal", "careful_interpolation", "minoring", "majoring"):
            out[f"auc_{curve}_{method}"] = m.auc(lab, pr, w, num_thresholds=20, curve=curve,
                                                 summation_method=method, name=f"auc_{curve}_{method}")
    out["auc_collections"] = m.auc(lab, pr, w, name="auc_collections", **kw)
    return out


def _placeholders(tf):
    # full static shapes: mean_tensor's accumulator takes the values' static shape (TF's too)
    return {k: tf.placeholder(tf.as_dtype(v.dtype), v.shape, name=k) for k, v in BATCHES[0].items()}


def _stream(tf):
    graph = tf.Graph()
    with graph.as_default():
        p = _placeholders(tf)
        metrics = _metrics(tf, p)
        names = {k: (v.name, u.name) for k, (v, u) in metrics.items()}
        dtypes = {k: (v.dtype.base_dtype.name, u.dtype.base_dtype.name) for k, (v, u) in metrics.items()}
        local = sorted(v.op.name for v in tf.local_variables())
        collections = [sorted(t.name for t in tf.get_collection(c)) for c in ("sweep_values", "sweep_updates")]
        values = {k: v for k, (v, _) in metrics.items()}
        updates = {k: u for k, (_, u) in metrics.items()}
        runs = []
        with tf.Session(graph=graph) as sess:
            sess.run(tf.local_variables_initializer())
            for batch in BATCHES + ["reset", BATCHES[2]]:
                if isinstance(batch, str):
                    sess.run(tf.local_variables_initializer())
                    runs.append(sess.run(values))  # the value of the empty streams
                    continue
                feed = {p[k]: v for k, v in batch.items()}
                runs.append(sess.run(updates, feed))
                runs.append(sess.run(values))
    return names, dtypes, local, collections, runs


def test_every_metric_streams_as_tfs():
    v1 = oracle.tf1()
    assert len([n for n in dir(v1.metrics) if not n.startswith("_")]) == 33
    v1.disable_resource_variables()  # TF 1.x's ref variables (TF 2's compat.v1 defaults to resource ones)
    try:
        got, want = _stream(graphcompat), _stream(v1)
    finally:
        v1.enable_resource_variables()
    assert got[0] == want[0], "tensor names"
    assert got[1] == want[1], "dtypes"
    assert got[2] == want[2], "local variables"
    assert got[3] == want[3], "collections"
    failures = []
    for step, (g, w) in enumerate(zip(got[4], want[4])):
        for name in w:
            try:
                _op_oracle.assert_close(g[name], w[name], 1e-5, f"{name} step {step}")
            except AssertionError as err:
                failures.append(str(err).splitlines()[0] + " " + str(err).replace("\n", " ")[:300])
    assert not failures, "\n".join(failures)


def test_every_tf_metric_is_covered():
    v1 = oracle.tf1()
    graph = graphcompat.Graph()
    with graph.as_default():
        covered = {k.split("__")[0] for k in _metrics(graphcompat, _placeholders(graphcompat))}
    assert {n for n in dir(v1.metrics) if not n.startswith("_")} - covered - {"auc"} == set()
