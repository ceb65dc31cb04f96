"""Dimension, TensorShape and numpy scalars wherever TF1 accepts them (shapes, sizes, axes, perm, multiples, depth…).

In TF1 `x.shape[i]` is a `Dimension`, so programs write `tf.reshape(x, [-1, x.shape[1] * x.shape[2]])`,
`tf.zeros(x.shape)`, `tf.one_hot(ids, logits.shape[-1])`. TF converts a Dimension or a fully known TensorShape
with its registered conversion functions (int32, or int64 when asked), and a list mixing ints and Dimensions
with the op's preferred index dtype. Each case is checked against numpy, and against real TF (oracle).
"""
import numpy as np
import pytest

import graphcompat
from tests import oracle


def _x(tf):
    return tf.reshape(tf.range(24.0), [2, 3, 4])


X = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)

# name, build(tf, D, TS) -> tensor, expected value
CASES = [
    ("reshape_mixed_list", lambda tf, D, TS: tf.reshape(_x(tf), [-1, D(12)]), X.reshape(-1, 12)),
    ("reshape_dimension_product", lambda tf, D, TS: tf.reshape(_x(tf), [-1, D(3) * D(4)]), X.reshape(-1, 12)),
    ("reshape_tensor_shape", lambda tf, D, TS: tf.reshape(_x(tf), TS([6, 4])), X.reshape(6, 4)),
    ("reshape_numpy_ints", lambda tf, D, TS: tf.reshape(_x(tf), [np.int64(4), -1]), X.reshape(4, -1)),
    ("reshape_numpy_array", lambda tf, D, TS: tf.reshape(_x(tf), np.array([4, 6])), X.reshape(4, 6)),
    ("convert_dimension", lambda tf, D, TS: tf.convert_to_tensor(D(3)), np.int32(3)),
    ("convert_dimension_int64", lambda tf, D, TS: tf.convert_to_tensor(D(3), tf.int64), np.int64(3)),
    ("convert_tensor_shape", lambda tf, D, TS: tf.convert_to_tensor(TS([2, 3])), np.array([2, 3], np.int32)),
    ("convert_list_int64", lambda tf, D, TS: tf.convert_to_tensor([D(2), 5], dtype=tf.int64),
     np.array([2, 5], np.int64)),
    ("constant_dimension_int32", lambda tf, D, TS: tf.constant(D(3), tf.int32), np.int32(3)),
    ("zeros_dimensions", lambda tf, D, TS: tf.zeros([D(2), 3]), np.zeros([2, 3], np.float32)),
    ("zeros_tensor_shape", lambda tf, D, TS: tf.zeros(TS([2, 1])), np.zeros([2, 1], np.float32)),
    ("ones_tensor_shape_int", lambda tf, D, TS: tf.ones(TS([2, 2]), tf.int32), np.ones([2, 2], np.int32)),
    ("fill_dimensions", lambda tf, D, TS: tf.fill([D(2), 2], 7.0), np.full([2, 2], 7.0, np.float32)),
    ("random_shape", lambda tf, D, TS: tf.shape(tf.random_normal(TS([2, D(5)]))), np.array([2, 5], np.int32)),
    ("random_uniform_dims", lambda tf, D, TS: tf.shape(tf.random_uniform([D(2), np.int64(5)])),
     np.array([2, 5], np.int32)),
    ("placeholder_shape", lambda tf, D, TS: tf.shape(tf.placeholder_with_default(tf.zeros([2, 3]), [None, D(3)])),
     np.array([2, 3], np.int32)),
    ("reduce_axis_dimension", lambda tf, D, TS: tf.reduce_sum(_x(tf), axis=D(1)), X.sum(1)),
    ("reduce_axis_numpy", lambda tf, D, TS: tf.reduce_mean(_x(tf), axis=np.int64(2)), X.mean(2)),
    ("reduce_axis_list_mixed", lambda tf, D, TS: tf.reduce_max(_x(tf), axis=[np.int32(0), D(2)]), X.max((0, 2))),
    ("transpose_perm_mixed", lambda tf, D, TS: tf.transpose(_x(tf), [D(2), 0, np.int64(1)]), X.transpose(2, 0, 1)),
    ("tile_multiples_mixed", lambda tf, D, TS: tf.tile(_x(tf), [D(1), 2, np.int32(1)]), np.tile(X, [1, 2, 1])),
    ("one_hot_depth_dimension", lambda tf, D, TS: tf.one_hot([0, 2], D(3)), np.eye(3, dtype=np.float32)[[0, 2]]),
    ("one_hot_depth_numpy", lambda tf, D, TS: tf.one_hot([0, 2], np.int64(3)), np.eye(3, dtype=np.float32)[[0, 2]]),
    ("range_dimension", lambda tf, D, TS: tf.range(D(4)), np.arange(4, dtype=np.int32)),
    ("expand_dims_dimension", lambda tf, D, TS: tf.expand_dims(_x(tf), D(0)), X[None]),
    ("squeeze_numpy_axis", lambda tf, D, TS: tf.squeeze(tf.zeros([1, 2, 1]), [np.int64(0)]), np.zeros([2, 1], np.float32)),
    ("concat_axis_dimension", lambda tf, D, TS: tf.concat([_x(tf), _x(tf)], D(1)), np.concatenate([X, X], 1)),
    ("stack_axis_numpy", lambda tf, D, TS: tf.stack([_x(tf), _x(tf)], axis=np.int64(1)), np.stack([X, X], 1)),
    ("unstack_num_dimension", lambda tf, D, TS: tf.unstack(_x(tf), num=D(2))[1], X[1]),
    ("split_num_dimension", lambda tf, D, TS: tf.split(_x(tf), D(2), axis=0)[1], X[1:]),
    ("split_numpy", lambda tf, D, TS: tf.split(_x(tf), np.int64(2), axis=np.int64(2))[1], X[:, :, 2:]),
    ("gather_axis_numpy", lambda tf, D, TS: tf.gather(_x(tf), [0, 2], axis=np.int64(1)), X[:, [0, 2]]),
    ("pad_dimensions", lambda tf, D, TS: tf.pad(tf.ones([2, 2]), [[1, D(1)], [0, 1]]),
     np.pad(np.ones([2, 2], np.float32), [[1, 1], [0, 1]])),
    ("pad_object_array", lambda tf, D, TS: tf.pad(tf.ones([2, 2]), np.array([[1, 1], [0, D(1)]], dtype=object)),
     np.pad(np.ones([2, 2], np.float32), [[1, 1], [0, 1]])),
    ("top_k_dimension", lambda tf, D, TS: tf.nn.top_k([1.0, 3.0, 2.0], k=D(2)).values, np.float32([3, 2])),
    ("cumsum_axis_numpy", lambda tf, D, TS: tf.cumsum(_x(tf), axis=np.int64(1)), X.cumsum(1)),
    ("matrix_band_part_dimension", lambda tf, D, TS: tf.matrix_band_part(tf.ones([3, 3]), np.int64(0), D(1)),
     np.triu(np.tril(np.ones([3, 3], np.float32), 1))),
    ("sequence_mask_dimension", lambda tf, D, TS: tf.sequence_mask([1, 2], D(3)),
     np.array([[True, False, False], [True, True, False]])),
    ("broadcast_to_tensor_shape", lambda tf, D, TS: tf.broadcast_to(1.0, TS([2, 3])), np.ones([2, 3], np.float32)),
    ("scatter_nd_tensor_shape", lambda tf, D, TS: tf.scatter_nd([[0]], [1.0], TS([3])), np.float32([1, 0, 0])),
    ("resize_numpy_and_dimension", lambda tf, D, TS: tf.image.resize_images(tf.ones([1, 4, 4, 1]), [np.int64(2), D(2)]),
     np.ones([1, 2, 2, 1], np.float32)),
    ("multinomial_numpy_samples", lambda tf, D, TS: tf.shape(tf.multinomial([[0.0, 1.0]], np.int64(3))),
     np.array([1, 3], np.int32)),
    ("conv2d_numpy_strides", lambda tf, D, TS: tf.shape(tf.nn.conv2d(tf.zeros([1, 4, 4, 1]), tf.zeros([2, 2, 1, 1]),
                                                                    [1, np.int64(2), 2, 1], "SAME")),
     np.array([1, 2, 2, 1], np.int32)),
    ("max_pool_mixed_ksize", lambda tf, D, TS: tf.shape(tf.nn.max_pool(tf.zeros([1, 4, 4, 1]), [1, np.int64(2), 2, 1],
                                                                     [1, 2, D(2), 1], "VALID")),
     np.array([1, 2, 2, 1], np.int32)),
    ("dense_units_dimension", lambda tf, D, TS: tf.shape(tf.layers.dense(tf.zeros([2, 3]), D(4))),
     np.array([2, 4], np.int32)),
    ("conv2d_layer_dimensions", lambda tf, D, TS: tf.shape(tf.layers.conv2d(tf.zeros([1, 5, 5, 2]), D(3), [D(3), 3])),
     np.array([1, 3, 3, 3], np.int32)),
    ("gru_units_dimension", lambda tf, D, TS: tf.nn.rnn_cell.GRUCell(D(4)).zero_state(2, tf.float32),
     np.zeros([2, 4], np.float32)),
]

# name, build, error class, message
ERRORS = [
    ("partial_tensor_shape", lambda tf, D, TS: tf.convert_to_tensor(TS([2, None])), ValueError,
     "Cannot convert a partially known TensorShape (2, ?) to a Tensor."),
    ("unknown_dimension", lambda tf, D, TS: tf.convert_to_tensor(D(None)), ValueError,
     "Cannot convert unknown Dimension ? to a Tensor."),
    ("dimension_as_float", lambda tf, D, TS: tf.convert_to_tensor(D(2), tf.float32), TypeError,
     "Cannot convert Dimension 2 to dtype"),
    ("list_of_dimension_as_float", lambda tf, D, TS: tf.convert_to_tensor([D(2), 5], tf.float32), TypeError,
     "Expected float32, but got"),
    ("eye_takes_python_ints_only", lambda tf, D, TS: tf.eye(D(2)), TypeError,
     "Arguments `num_rows` and `num_columns` must be positive integer values."),
    ("constant_of_mixed_list", lambda tf, D, TS: tf.constant([-1, D(3)]), TypeError, "Failed to convert"),
]


def _run(tf, build):
    with tf.Graph().as_default():
        t = build(tf, tf.Dimension, tf.TensorShape)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run(t), t.dtype.name


@pytest.mark.parametrize("name,build,want", CASES, ids=[c[0] for c in CASES])
def test_conversion(name, build, want):
    got, dtype = _run(graphcompat, build)
    assert np.asarray(got).dtype == np.asarray(want).dtype, dtype
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("name,build,error,message", ERRORS, ids=[c[0] for c in ERRORS])
def test_conversion_error(name, build, error, message):
    with graphcompat.Graph().as_default():
        with pytest.raises(error) as info:
            build(graphcompat, graphcompat.Dimension, graphcompat.TensorShape)
    assert str(info.value).startswith(message)


def test_shape_arithmetic_from_a_tensor():
    """The lecture's convnet: `feature_dim = pool2.shape[1] * pool2.shape[2] * pool2.shape[3]`."""
    tf = graphcompat
    pool2 = tf.zeros([5, 7, 7, 64])
    feature_dim = pool2.shape[1] * pool2.shape[2] * pool2.shape[3]
    assert isinstance(feature_dim, tf.Dimension)
    flat = tf.reshape(pool2, [-1, feature_dim])
    assert flat.shape.as_list() == [5, 3136]
    assert flat.op.inputs[1].dtype == tf.int32


@pytest.mark.oracle
@pytest.mark.parametrize("name,build,want", CASES, ids=[c[0] for c in CASES])
def test_conversion_like_tf(name, build, want):
    v1 = oracle.tf1()
    expected, expected_dtype = _run(v1, build)
    got, dtype = _run(graphcompat, build)
    assert dtype == expected_dtype
    np.testing.assert_allclose(got, expected)


@pytest.mark.oracle
@pytest.mark.parametrize("name,build,error,message", ERRORS, ids=[c[0] for c in ERRORS])
def test_conversion_error_like_tf(name, build, error, message):
    v1 = oracle.tf1()
    with v1.Graph().as_default():
        with pytest.raises(error):
            build(v1, v1.Dimension, v1.TensorShape)
