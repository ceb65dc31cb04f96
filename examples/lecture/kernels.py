"""3x3 image filters for 07_run_kernels.py, shaped as conv2d kernels: [height, width, in, out]."""
import numpy as np
import tensorflow as tf


def _grey(k):
    return tf.constant(np.asarray(k, np.float32).reshape(3, 3, 1, 1))


def _rgb(k):
    """The filter applied to each channel separately (a diagonal in the in/out channel axes)."""
    k = np.asarray(k, np.float32)
    return tf.constant(np.einsum('hw,io->hwio', k, np.eye(3, dtype=np.float32)))


_BLUR = np.full((3, 3), 1 / 9)
_SHARPEN = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
_EDGE = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
_TOP_SOBEL = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]
_EMBOSS = [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]

BLUR_FILTER, SHARPEN_FILTER, EDGE_FILTER, TOP_SOBEL, EMBOSS_FILTER = (
    _grey(k) for k in (_BLUR, _SHARPEN, _EDGE, _TOP_SOBEL, _EMBOSS))
BLUR_FILTER_RGB, SHARPEN_FILTER_RGB, EDGE_FILTER_RGB, TOP_SOBEL_RGB, EMBOSS_FILTER_RGB = (
    _rgb(k) for k in (_BLUR, _SHARPEN, _EDGE, _TOP_SOBEL, _EMBOSS))
