"""tf.image.sample_distorted_bounding_box: TF's crop distribution, its constraints and errors (the bits are
TF's too: tests/test_more_tf_ops.py compares them)."""
import numpy as np
import pytest

import graphcompat as gc
from tests import oracle

BOX = [[[0.1, 0.2, 0.5, 0.9]]]


def _samples(tf, n=200, **kwargs):
    graph = tf.Graph()
    with graph.as_default():
        begin, size, bboxes = tf.image.sample_distorted_bounding_box([120, 200, 3], tf.constant(BOX), seed=3,
                                                                     **kwargs)
        with tf.Session(graph=graph) as sess:
            return [sess.run([begin, size, bboxes]) for _ in range(n)]


def _stats(samples, min_covered):
    x0, y0, x1, y1 = int(0.2 * 200), int(0.1 * 120), int(0.9 * 200), int(0.5 * 120)
    areas, ratios = [], []
    for begin, size, bboxes in samples:
        (y, x, _), (h, w, minus_one) = begin, size
        assert minus_one == -1 and 0 <= y and y + h <= 120 and 0 <= x and x + w <= 200
        np.testing.assert_allclose(bboxes[0, 0], [y / 120, x / 200, (y + h) / 120, (x + w) / 200], rtol=1e-6)
        covered = max(0, min(x + w, x1) - max(x, x0)) * max(0, min(y + h, y1) - max(y, y0)) / ((x1 - x0) * (y1 - y0))
        assert covered >= min_covered or (h, w) == (120, 200)
        areas.append(h * w / (120 * 200))
        ratios.append(w / h)
    return np.mean(areas), np.mean(ratios)


@pytest.mark.oracle
def test_crops_follow_tfs_distribution_and_constraints():
    kwargs = dict(min_object_covered=0.5, area_range=[0.1, 1.0])
    got = _stats(_samples(gc, **kwargs), 0.5)
    want = _stats(_samples(oracle.tf1(), **kwargs), 0.5)
    assert abs(got[0] - want[0]) < 0.05 and abs(got[1] - want[1]) < 0.08, (got, want)


def test_names_shapes_and_dtypes():
    with gc.Graph().as_default():
        begin, size, bboxes = gc.image.sample_distorted_bounding_box(gc.constant([10, 20, 3], gc.int64),
                                                                     gc.constant(BOX))
        assert begin.op.name == "sample_distorted_bounding_box/SampleDistortedBoundingBoxV2"
        assert (begin.dtype, size.dtype, bboxes.dtype) == (gc.int64, gc.int64, gc.float32)
        assert bboxes.shape.as_list() == [1, 1, 4] and begin.shape.as_list() == [3]


def test_no_boxes_needs_use_image_if_no_bounding_boxes():
    empty = np.zeros((1, 0, 4), np.float32)
    with gc.Graph().as_default():
        _, size, _ = gc.image.sample_distorted_bounding_box([30, 40, 3], empty, use_image_if_no_bounding_boxes=True,
                                                            min_object_covered=0.0)
        with gc.Session() as sess:
            h, w, _ = sess.run(size)
            assert 0 < h <= 30 and 0 < w <= 40
    with gc.Graph().as_default():
        _, size, _ = gc.image.sample_distorted_bounding_box([30, 40, 3], empty)
        with gc.Session() as sess, pytest.raises(gc.errors.InvalidArgumentError, match="No bounding boxes provided"):
            sess.run(size)


def test_bad_boxes_and_ranges_raise_tfs_errors():
    with gc.Graph().as_default():
        _, size, _ = gc.image.sample_distorted_bounding_box([30, 40, 3], [[[0.1, 0.2, 1.5, 0.9]]])
        with gc.Session() as sess, pytest.raises(gc.errors.InvalidArgumentError,
                                                 match=r"All bounding box coordinates must be in \[0.0, 1.0\]: 1.5"):
            sess.run(size)
        with pytest.raises(ValueError, match="Area range field"):
            gc.image.sample_distorted_bounding_box([30, 40, 3], BOX, area_range=[0.0, 1.0])
        with pytest.raises(ValueError, match="Shape must be rank 3"):
            gc.image.sample_distorted_bounding_box([30, 40, 3], [[0.1, 0.2, 0.5, 0.9]])
