"""Coverage (issue 13 #7): tf.metrics.mean_per_class_accuracy — streamed over batches side by side with
TensorFlow (values, update ops, variable names)."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

BATCHES = [([0, 1, 2, 2], [0, 2, 2, 1], [1.0, 1.0, 0.5, 1.0]), ([1, 1, 0, 2], [1, 0, 0, 2], [1.0, 2.0, 1.0, 0.0]),
           ([3, 3], [3, 0], [1.0, 1.0])]


def _stream(lib, weighted):
    g = lib.Graph()
    with g.as_default():
        labels = lib.placeholder(lib.int32, [None])
        preds = lib.placeholder(lib.int32, [None])
        w = lib.placeholder(lib.float32, [None])
        value, update = lib.metrics.mean_per_class_accuracy(labels, preds, 4, weights=w if weighted else None)
        names = sorted(v.op.name for v in lib.local_variables())
        out = []
        with lib.Session() as sess:
            sess.run(lib.local_variables_initializer())
            for l, p, ww in BATCHES:
                feed = {labels: l, preds: p, w: ww}
                out.append(sess.run(update, feed))
                out.append(sess.run(value))
        return names, value.name, update.name, out


@pytest.mark.oracle
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_tensorflow(weighted):
    v1 = oracle.tf1()
    names, value, update, out = _stream(tf, weighted)
    t_names, t_value, t_update, t_out = _stream(v1, weighted)
    assert (names, value, update) == (t_names, t_value, t_update)
    for g, w in zip(out, t_out):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_without_tensorflow():
    names, value, update, out = _stream(tf, False)
    assert names == ["mean_accuracy/count", "mean_accuracy/total"] and update == "mean_accuracy/update_op:0"
    # after batch 1: class 0: 1/1, class 1: 0/1, class 2: 1/2, class 3: no samples -> 0
    np.testing.assert_allclose(out[1], (1 + 0 + 0.5 + 0) / 4)


def test_rank2_inputs_are_flattened():
    with tf.Graph().as_default():
        value, update = tf.metrics.mean_per_class_accuracy(tf.constant([[0], [1]]), tf.constant([[0], [0]]), 2)
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            sess.run(update)
            assert sess.run(value) == 0.5
