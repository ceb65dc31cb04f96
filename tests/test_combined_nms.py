"""tf.image.combined_non_max_suppression (CombinedNonMaxSuppression) against real TF 2.21: values, static
shapes, the recorded graph, and TF's errors at build time (shape function) and at run time (kernel)."""
import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests._op_oracle import compare, compare_error

pytestmark = pytest.mark.oracle

rng = np.random.RandomState(5)


def _boxes(batch, anchors, q, spread=1.2):
    """Corners in [-0.1, 1.1] (so clipping matters), some given max-corner first."""
    corners = rng.uniform(-0.1, 1.1, size=(batch, anchors, q, 4)).astype(np.float32) * spread / 1.2
    return corners


def _scores(batch, anchors, classes):
    return rng.permutation(batch * anchors * classes).reshape(batch, anchors, classes).astype(np.float32) / \
        np.float32(batch * anchors * classes)  # distinct scores: TF orders ties in no fixed way


B1, S3 = _boxes(2, 12, 1), _scores(2, 12, 3)
B3 = _boxes(2, 12, 3)


@pytest.mark.parametrize("boxes,per_class,total,kwargs", [
    (B1, 4, 6, {}),
    (B1, 4, 20, {}),                                       # fewer survivors than max_total_size: zero rows
    (B1, 3, 20, {"pad_per_class": True}),                  # output size min(20, 3 * 3)
    (B1, 5, 4, {"pad_per_class": True}),
    (B1, 4, 8, {"clip_boxes": False}),
    (B1, 30, 50, {"iou_threshold": 0.2}),                  # per class capped at the anchor count
    (B1, 4, 8, {"score_threshold": 0.5}),
    (B1, 6, 10, {"iou_threshold": 1.0, "score_threshold": -2.0}),
    (B3, 4, 6, {"iou_threshold": 0.3}),                    # one box per class (q = num_classes)
])
def test_combined_nms_values(boxes, per_class, total, kwargs):
    def build(tf):
        return tf.image.combined_non_max_suppression(tf.constant(boxes), tf.constant(S3), per_class, total, **kwargs)
    compare(build, exact=True)


def test_combined_nms_fed_sizes_and_unknown_shapes():
    def build(tf):
        boxes = tf.placeholder(tf.float32, [None, None, 1, 4], name="boxes")
        scores = tf.placeholder(tf.float32, [None, None, None], name="scores")
        per_class = tf.placeholder(tf.int32, [], name="per_class")
        return tf.image.combined_non_max_suppression(boxes, scores, per_class, 7, iou_threshold=0.4,
                                                     pad_per_class=True)

    def feed(tf, graph):
        return {graph.get_tensor_by_name("boxes:0"): B1, graph.get_tensor_by_name("scores:0"): S3,
                graph.get_tensor_by_name("per_class:0"): np.int32(2)}
    compare(build, feed, exact=True)


def test_combined_nms_graph():
    def build(tf):
        out = tf.image.combined_non_max_suppression(tf.constant(B1), tf.constant(S3), 4, 6, name="nms")
        assert type(out).__name__ == "CombinedNonMaxSuppression"
        assert out._fields == ("nmsed_boxes", "nmsed_scores", "nmsed_classes", "valid_detections")
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


@pytest.mark.parametrize("build", [
    lambda tf: tf.image.combined_non_max_suppression(tf.zeros([2, 5, 4]), tf.zeros([2, 5, 3]), 2, 4),
    lambda tf: tf.image.combined_non_max_suppression(tf.zeros([2, 5, 1, 4]), tf.zeros([2, 5]), 2, 4),
    lambda tf: tf.image.combined_non_max_suppression(tf.zeros([2, 5, 1, 4]), tf.zeros([3, 5, 3]), 2, 4),
    lambda tf: tf.image.combined_non_max_suppression(tf.zeros([2, 5, 1, 4]), tf.zeros([2, 6, 3]), 2, 4),
    lambda tf: tf.image.combined_non_max_suppression(tf.zeros([2, 5, 1, 3]), tf.zeros([2, 5, 3]), 2, 4),
    lambda tf: tf.image.combined_non_max_suppression(tf.zeros([2, 5, 2, 4]), tf.zeros([2, 5, 3]), 2, 4),
    lambda tf: tf.image.combined_non_max_suppression(tf.zeros([2, 5, 1, 4]), tf.zeros([2, 5, 3]), 2, 0),
    lambda tf: tf.image.combined_non_max_suppression(tf.zeros([2, 5, 1, 4]), tf.zeros([2, 5, 3]), 2, -3),
    lambda tf: tf.image.combined_non_max_suppression(tf.zeros([2, 5, 1, 4]), tf.zeros([2, 5, 3]), 0, 4,
                                                     pad_per_class=True),
    lambda tf: tf.image.combined_non_max_suppression(tf.zeros([2, 5, 1, 4]), tf.zeros([2, 5, 3]), [2], 4),
    lambda tf: tf.image.combined_non_max_suppression(tf.zeros([2, 5, 1, 4]), tf.zeros([2, 5, 3]), 2, 2 ** 31),
], ids=["boxes_rank", "scores_rank", "batch", "anchors", "columns", "q", "total_zero", "total_negative",
        "per_class_zero_padded", "per_class_vector", "total_int64"])
def test_combined_nms_build_errors(build):
    compare_error(build)


@pytest.mark.parametrize("values", [
    {"per_class": 0}, {"total": 0}, {"iou": 1.5}, {"iou": -0.1},
])
def test_combined_nms_run_time_errors(values):
    def build(tf):
        per_class = tf.placeholder(tf.int32, [], name="per_class")
        total = tf.placeholder(tf.int32, [], name="total")
        iou = tf.placeholder(tf.float32, [], name="iou")
        return tf.image.combined_non_max_suppression(tf.constant(B1), tf.constant(S3), per_class, total,
                                                     iou_threshold=iou)

    def feed(tf, graph):
        given = {"per_class": np.int32(2), "total": np.int32(4), "iou": np.float32(0.5), **values}
        return {graph.get_tensor_by_name(f"{k}:0"): v for k, v in given.items()}
    compare_error(build, feed)
