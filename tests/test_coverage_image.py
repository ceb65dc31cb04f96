"""Coverage (issue 13 #7): tf.image.sample_distorted_bounding_box — TF's crop search (area, aspect ratio and
object coverage constraints, whole-image fallback), seeded reproducibility, TF's graph and errors."""
import numpy as np
import pytest

import graphcompat as tf
from graphcompat.framework import errors as E
from tests import oracle


def _draws(n, **kwargs):
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        begin, size, bbox = tf.image.sample_distorted_bounding_box(tf.constant([100, 80, 3]), **kwargs)
        image = tf.zeros([100, 80, 3])
        crop = tf.slice(image, begin, size)
        with tf.Session() as sess:
            return [sess.run([begin, size, bbox, tf.shape(crop)]) for _ in range(n)]


def test_constraints_hold():
    box = [[[0.1, 0.1, 0.9, 0.9]]]
    for begin, size, bbox, crop_shape in _draws(40, bounding_boxes=box, min_object_covered=0.5,
                                                area_range=(0.2, 0.9), aspect_ratio_range=(0.5, 2.0)):
        y, x, _ = begin
        h, w, c = size
        assert c == -1 and 0 <= y and y + h <= 100 and 0 <= x and x + w <= 80
        area = h * w / 8000
        assert 0.2 - 1e-6 <= area <= 0.9 + 1e-6
        assert 0.5 - 0.02 <= w / h <= 2.0 + 0.05
        inter = max(0, min(y + h, 90) - max(y, 10)) * max(0, min(x + w, 72) - max(x, 8))
        assert inter / (80 * 64) >= 0.5 - 1e-6
        np.testing.assert_allclose(bbox[0, 0], [y / 100, x / 80, (y + h) / 100, (x + w) / 80], rtol=1e-6)
        assert list(crop_shape) == [h, w, 3]


def test_seeded_runs_repeat_and_fallback():
    box = [[[0.0, 0.0, 1.0, 1.0]]]
    a = _draws(3, bounding_boxes=box, seed=5)
    b = _draws(3, bounding_boxes=box, seed=5)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x[0], y[0])
    # unsatisfiable: the whole image comes back
    whole = _draws(1, bounding_boxes=box, min_object_covered=1.0, area_range=(0.05, 0.06))[0]
    np.testing.assert_array_equal(whole[0], [0, 0, 0])
    np.testing.assert_array_equal(whole[1], [100, 80, -1])
    no_boxes = _draws(1, bounding_boxes=np.zeros([1, 0, 4], np.float32), use_image_if_no_bounding_boxes=True)[0]
    assert no_boxes[1][2] == -1


def test_errors():
    with tf.Graph().as_default():
        out = tf.image.sample_distorted_bounding_box([100, 80, 3], tf.zeros([1, 0, 4]))
        with tf.Session() as sess:
            with pytest.raises(E.InvalidArgumentError, match="No bounding boxes provided as input"):
                sess.run(out)
        with pytest.raises(ValueError, match="Dimension must be 3 but is 2"):
            tf.image.sample_distorted_bounding_box([100, 80], [[[0.0, 0.0, 1.0, 1.0]]])


@pytest.mark.oracle
def test_graph_matches_tensorflow():
    v1 = oracle.tf1()

    def ops(lib):
        g = lib.Graph()
        with g.as_default():
            out = lib.image.sample_distorted_bounding_box([100, 80, 3], [[[0.1, 0.1, 0.9, 0.9]]], seed=3,
                                                          min_object_covered=0.5)
        return [t.name for t in out], [t.shape.as_list() for t in out], [(o.name, o.type) for o in g.get_operations()]
    assert ops(tf) == ops(v1)
