"""Differences a differential sweep against TF found (session of 2026-12-07), one line each, compared with
real TF under every tier (op by op, then compiled)."""
import numpy as np
import pytest

from tests import _op_oracle

pytestmark = pytest.mark.oracle

IMG = np.random.RandomState(0).randn(2, 7, 6, 3).astype(np.float32)
A = np.arange(24, dtype=np.float32).reshape(2, 3, 4)

VALUES = [
    # ResizeBicubic with half_pixel_centers: Keys' coefficients also come from the 1024-entry table
    ("bicubic_half_pixel_down", lambda tf: tf.image.resize_bicubic(tf.constant(IMG), [10, 4], half_pixel_centers=True)),
    ("bicubic_half_pixel_up", lambda tf: tf.image.resize_bicubic(tf.constant(IMG), [14, 12], half_pixel_centers=True)),
    ("bicubic_align_corners", lambda tf: tf.image.resize_bicubic(tf.constant(IMG), [10, 4], align_corners=True)),
    ("bicubic_legacy", lambda tf: tf.image.resize_bicubic(tf.constant(IMG), [5, 9])),
    ("reshape_empty_minus_one", lambda tf: tf.reshape(tf.zeros([0, 3]), [0, -1])),
    # StringSplit: an empty string has no tokens even when empty tokens are kept
    # tf.random.stateless_binomial (StatelessRandomBinomial): TF's samples
    ("stateless_binomial", lambda tf: tf.random.stateless_binomial([3, 2], [1, 2], [10., 20.], [0.8])),
    ("stateless_binomial_float64", lambda tf: tf.random.stateless_binomial(
        [2, 3], [5, 2], tf.constant([[5.], [9.]], tf.float64), tf.constant([0.1, 0.5, 0.9], tf.float64),
        output_dtype=tf.float32)),
    ("string_split_keep_empty", lambda tf: tf.string_split(tf.constant(["", "a,,b", ",", "x"]), delimiter=",",
                                                           skip_empty=False)),
]


@pytest.mark.parametrize("name,build", VALUES, ids=[v[0] for v in VALUES])
def test_values(name, build):
    _op_oracle.compare(build, tol=1e-5)


ERRORS = [
    ("reshape_not_divisible", lambda tf: tf.reshape(tf.constant(A), [5, -1])),
    ("reshape_zero_product", lambda tf: tf.reshape(tf.constant(A), [0, -1])),
    ("reshape_wrong_count", lambda tf: tf.reshape(tf.constant(A), [5, 4])),
]


@pytest.mark.parametrize("name,build", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name, build):
    _op_oracle.compare_error(build)


def _attrs_under_container(tf):
    with tf.Graph().as_default():
        with tf.container("experiment"):
            v = tf.Variable(1.0, name="v")
            q = tf.FIFOQueue(3, tf.float32, name="q")
            c = tf.constant(1.0, name="c")
        w = tf.Variable(2.0, name="w")
        x = tf.nn.conv2d(tf.zeros([1, 4, 4, 1]), tf.zeros([2, 2, 1, 1]), [1, 1, 1, 1], "SAME")
        return (v.op.get_attr("container"), q.queue_ref.op.get_attr("container"), w.op.get_attr("container"),
                "container" in c.op.node_def.attr, x.op.get_attr("padding"), x.op.get_attr("data_format"))


def test_container_and_string_attrs_are_tfs():
    """`tf.container` names the container of the stateful ops created inside; `get_attr` gives string attrs
    as bytes, as TF's Operation.get_attr does."""
    import graphcompat
    from tests import oracle
    assert _attrs_under_container(graphcompat) == _attrs_under_container(oracle.tf1()) == (
        b"experiment", b"experiment", b"", False, b"SAME", b"NHWC")
