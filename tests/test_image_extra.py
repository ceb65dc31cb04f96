"""More tf.image: colour spaces, hue/saturation/gamma, rot90/transpose, total_variation, psnr, ssim,
image_gradients, sobel_edges, extract_image_patches, non_max_suppression: values (and gradients)
against real TensorFlow, compiled runs, TF's errors."""
import numpy as np
import pytest

import graphcompat as tf
from tests import _op_oracle
from tests._conformance import Case

RS = np.random.RandomState(0)
IMG = RS.rand(2, 6, 7, 3).astype(np.float32)
IMG2 = np.clip(IMG + RS.randn(2, 6, 7, 3).astype(np.float32) * 0.1, 0, 1)
BIG = RS.rand(2, 16, 16, 3).astype(np.float32)
BIG2 = np.clip(BIG + RS.randn(2, 16, 16, 3).astype(np.float32) * 0.1, 0, 1)
U8 = (IMG * 255).astype(np.uint8)
BOXES = np.array([[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, -0.1, 1, 0.9], [0, 10, 1, 11], [0, 10.1, 1, 11.1],
                  [0, 100, 1, 101]], np.float32)
SCORES = np.array([0.9, 0.75, 0.6, 0.95, 0.5, 0.3], np.float32)

CASES = [
    Case("hsv_roundtrip", lambda tf, x: tf.image.hsv_to_rgb(tf.image.rgb_to_hsv(x)), lambda x: x, [IMG], tol=1e-5),
    Case("yiq_roundtrip", lambda tf, x: tf.image.yiq_to_rgb(tf.image.rgb_to_yiq(x)), lambda x: x, [IMG], tol=1e-4),
    Case("rot90", lambda tf, x: [tf.image.rot90(x), tf.image.rot90(x, 2), tf.image.rot90(x[0], 3)],
         lambda x: [np.rot90(x, 1, (1, 2)), np.rot90(x, 2, (1, 2)), np.rot90(x[0], 3)], [IMG]),
    Case("transpose", lambda tf, x: tf.image.transpose(x), lambda x: x.transpose(0, 2, 1, 3), [IMG]),
    Case("total_variation", lambda tf, x: tf.image.total_variation(x),
         lambda x: (np.abs(np.diff(x, axis=1)).sum((1, 2, 3)) + np.abs(np.diff(x, axis=2)).sum((1, 2, 3))),
         [IMG], tol=1e-4),
    Case("extract_patches", lambda tf, x: tf.image.extract_patches(x, [1, 2, 3, 1], [1, 2, 2, 1], [1, 1, 1, 1],
                                                                   "VALID"),
         lambda x: np.stack([np.stack([x[:, i:i + 2, j:j + 3, :].reshape(2, -1) for j in range(0, 5, 2)], 1)
                             for i in range(0, 5, 2)], 1), [IMG]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conformance(case):
    _op_oracle.check_case(case)


def test_non_max_suppression_values():
    out = tf.image.non_max_suppression(BOXES, SCORES, 3, iou_threshold=0.5)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out), [3, 0, 5])


ORACLE = [
    ("colour_spaces", lambda tf: [tf.image.rgb_to_hsv(IMG), tf.image.hsv_to_rgb(IMG), tf.image.rgb_to_yiq(IMG),
                                  tf.image.yiq_to_rgb(IMG), tf.image.rgb_to_yuv(IMG), tf.image.yuv_to_rgb(IMG),
                                  tf.image.rgb_to_hsv(IMG.astype(np.float64))]),
    ("adjustments", lambda tf: [tf.image.adjust_hue(IMG, 0.2), tf.image.adjust_hue(U8, -0.3),
                                tf.image.adjust_saturation(IMG, 1.7), tf.image.adjust_saturation(U8, 0.4),
                                tf.image.adjust_gamma(IMG, 2.0, 0.5), tf.image.adjust_gamma(U8, 0.5)]),
    ("geometry", lambda tf: [tf.image.rot90(IMG), tf.image.rot90(IMG[0], 2), tf.image.rot90(IMG, -1),
                             tf.image.transpose(IMG[0]), tf.image.transpose_image(IMG)]),
    ("quality", lambda tf: [tf.image.total_variation(tf.constant(IMG)), tf.image.total_variation(tf.constant(IMG[0])),
                            tf.image.psnr(IMG, IMG2, 1.0), tf.image.psnr(U8, (IMG2 * 255).astype(np.uint8), 255),
                            tf.image.ssim(BIG, BIG2, 1.0), tf.image.ssim(BIG[0], BIG2[0], 1.0, filter_size=5)]),
    ("gradients_edges", lambda tf: list(tf.image.image_gradients(tf.constant(IMG)))
     + [tf.image.sobel_edges(tf.constant(IMG))]),
    ("patches", lambda tf: [tf.image.extract_image_patches(IMG, [1, 3, 3, 1], [1, 2, 1, 1], [1, 1, 1, 1], "SAME"),
                            tf.extract_image_patches(IMG, [1, 2, 2, 1], [1, 1, 2, 1], [1, 2, 2, 1], "VALID")]),
    ("nms", lambda tf: [tf.image.non_max_suppression(BOXES, SCORES, 3),
                        tf.image.non_max_suppression(BOXES, SCORES, 6, iou_threshold=0.05, score_threshold=0.4),
                        list(tf.image.non_max_suppression_with_scores(BOXES, SCORES, 4, 0.5)),
                        tf.image.non_max_suppression_overlaps(np.eye(6, dtype=np.float32) + 0.2, SCORES, 4, 0.5)]),
    ("colour_gradients", lambda tf: _grads(tf)),
    ("crop_and_resize", lambda tf: [tf.image.crop_and_resize(IMG, CROP_BOXES, [0, 1, 1, 0], [4, 5]),
                                    tf.image.crop_and_resize(U8, CROP_BOXES, [1, 0, 0, 1], [3, 1], method="nearest",
                                                             extrapolation_value=-1.0),
                                    tf.image.crop_and_resize(IMG, CROP_BOXES[:2], [0, 1], [1, 2])]),
    ("crop_and_resize_gradient", lambda tf: _crop_grad(tf)),
    ("draw_bounding_boxes", lambda tf: [tf.image.draw_bounding_boxes(IMG, np.stack([CROP_BOXES,
                                                                                     CROP_BOXES[::-1]])[:, :3]),
                                        tf.image.draw_bounding_boxes(IMG[..., :1], CROP_BOXES[None, :2].repeat(2, 0),
                                                                     colors=np.array([[0.5, 0.2, 0.1, 1.0]],
                                                                                     np.float32)),
                                        # the kernel's default table: no colors, empty colors, one channel
                                        tf.image.draw_bounding_boxes(IMG[..., :1], _FOUR_BOXES),
                                        tf.image.draw_bounding_boxes(IMG, _FOUR_BOXES,
                                                                     colors=np.zeros((0, 4), np.float32))]),
]

_FOUR_BOXES = np.array([[[0.0, 0.0, 0.5, 0.5], [0.2, 0.2, 1.0, 1.0], [0.1, 0.0, 0.9, 0.6], [0.4, 0.4, 0.6, 0.9]]] * 2,
                       np.float32)
CROP_BOXES = np.array([[0.1, 0.2, 0.8, 0.9], [0.0, 0.0, 1.0, 1.0], [-0.2, 0.3, 0.6, 1.3], [0.5, 0.9, 0.2, 0.1]],
                      np.float32)


def _crop_grad(tf):
    x = tf.constant(IMG)
    return tf.gradients(tf.reduce_sum(tf.image.crop_and_resize(x, CROP_BOXES, [0, 1, 1, 0], [4, 5]) ** 2), [x])


def _grads(tf):
    x = tf.constant(IMG)
    y = (tf.reduce_sum(tf.image.rgb_to_yuv(x) ** 2) + tf.reduce_sum(tf.image.sobel_edges(x) ** 2)
         + tf.reduce_sum(tf.image.extract_patches(x, [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME") ** 2)
         + tf.reduce_sum(tf.image.total_variation(x)))
    return tf.gradients(y, [x])


@pytest.mark.oracle
@pytest.mark.parametrize("name, build", ORACLE, ids=[o[0] for o in ORACLE])
def test_oracle(name, build):
    _op_oracle.compare(build, tol=2e-4, runs=2)


@pytest.mark.oracle
@pytest.mark.parametrize("build", [
    lambda tf: tf.image.rgb_to_hsv(IMG[..., :2]),
    lambda tf: tf.image.non_max_suppression(BOXES, SCORES, -1),
    lambda tf: tf.image.extract_image_patches(IMG, [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "FOO"),
    lambda tf: tf.image.crop_and_resize(IMG, CROP_BOXES, [0, 1, 2, 0], [4, 5]),
    lambda tf: tf.image.draw_bounding_boxes(IMG, _FOUR_BOXES[:, :, :3]),
    lambda tf: tf.image.draw_bounding_boxes(IMG, _FOUR_BOXES, colors=np.ones((3, 2), np.float32)),
], ids=["hsv_channels", "nms_max_output", "patches_padding", "crop_box_index", "boxes_not_4", "colors_channels"])
def test_oracle_errors(build):
    _op_oracle.compare_error(build)
