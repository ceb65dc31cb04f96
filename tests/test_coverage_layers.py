"""Coverage (issue 13 #7): tf.layers 1-D / 3-D / separable convolutions and poolings — compared with
TensorFlow's tf.compat.v1.layers on the same inputs and weights: values, output names, variable names and
shapes, and the op types recorded."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

rng = np.random.RandomState(11)
X1 = rng.randn(2, 10, 3).astype(np.float32)
X2 = rng.randn(2, 8, 8, 3).astype(np.float32)
X3 = rng.randn(2, 6, 6, 6, 3).astype(np.float32)


def _init(shape_seed):
    """A deterministic initializer usable by both libraries (values fixed by the variable's shape)."""
    def make(tf):
        class Init:
            def __call__(self, shape, dtype=None, partition_info=None):
                shape = [int(d) for d in shape]
                values = np.random.RandomState(shape_seed + sum(shape)).randn(*shape).astype(np.float32) * 0.3
                return tf.constant(values)
        return Init()
    return make


def _kw(tf, *names):
    return {n: _init(7)(tf) for n in names}


LAYERS = {
    "conv1d_same_relu": lambda tf, x: tf.layers.conv1d(x(X1), 4, 3, padding="same", activation=tf.nn.relu,
                                                       **_kw(tf, "kernel_initializer", "bias_initializer")),
    "conv1d_causal_dilated": lambda tf, x: tf.layers.conv1d(x(X1), 4, 3, padding="causal", dilation_rate=2,
                                                            **_kw(tf, "kernel_initializer")),
    "conv1d_strided": lambda tf, x: tf.layers.Conv1D(5, 2, strides=2, name="c1",
                                                     **_kw(tf, "kernel_initializer"))(x(X1)),
    "conv1d_channels_first": lambda tf, x: tf.layers.conv1d(x(X1), 4, 2, data_format="channels_first",
                                                            **_kw(tf, "kernel_initializer", "bias_initializer")),
    "conv3d": lambda tf, x: tf.layers.conv3d(x(X3), 4, 3, strides=2, **_kw(tf, "kernel_initializer",
                                                                             "bias_initializer")),
    "conv3d_same": lambda tf, x: tf.layers.Conv3D(2, (1, 2, 3), padding="same",
                                                  **_kw(tf, "kernel_initializer"))(x(X3)),
    "conv3d_transpose_same": lambda tf, x: tf.layers.conv3d_transpose(x(X3), 4, 3, strides=2, padding="same",
                                                                      **_kw(tf, "kernel_initializer")),
    "conv3d_transpose_valid": lambda tf, x: tf.layers.Conv3DTranspose(2, 2, strides=(1, 2, 1),
                                                                      **_kw(tf, "kernel_initializer"))(x(X3)),
    "separable_conv1d": lambda tf, x: tf.layers.separable_conv1d(x(X1), 4, 3, depth_multiplier=2,
                                                                 **_kw(tf, "depthwise_initializer",
                                                                       "pointwise_initializer")),
    "separable_conv2d": lambda tf, x: tf.layers.separable_conv2d(x(X2), 4, 3, depth_multiplier=2, strides=2,
                                                                 padding="same",
                                                                 **_kw(tf, "depthwise_initializer",
                                                                       "pointwise_initializer", "bias_initializer")),
    "separable_conv2d_class": lambda tf, x: tf.layers.SeparableConv2D(3, 2, name="sep",
                                                                      **_kw(tf, "depthwise_initializer",
                                                                            "pointwise_initializer"))(x(X2)),
    "max_pooling1d": lambda tf, x: tf.layers.max_pooling1d(x(X1), 2, 2),
    "average_pooling1d_same": lambda tf, x: tf.layers.average_pooling1d(x(X1), 3, 2, padding="same"),
    "max_pooling3d": lambda tf, x: tf.layers.max_pooling3d(x(X3), 2, 2),
    "average_pooling3d_class": lambda tf, x: tf.layers.AveragePooling3D(3, 1, padding="same")(x(X3)),
    "max_pooling1d_channels_first": lambda tf, x: tf.layers.MaxPooling1D(2, 1, data_format="channels_first")(x(X1)),
}


def _build(lib, program):
    graph = lib.Graph()
    with graph.as_default():
        feeds = {}

        def x(value):
            ph = lib.placeholder(lib.float32, value.shape, name="x")
            feeds[ph] = value
            return ph

        out = LAYERS[program](lib, x)
        variables = [(v.name, v.shape.as_list()) for v in lib.global_variables()]
        types = sorted(op.type for op in graph.get_operations()
                       if op.type in ("Conv2D", "Conv3D", "Conv3DBackpropInputV2", "DepthwiseConv2dNative",
                                      "MaxPool", "AvgPool", "MaxPool3D", "AvgPool3D", "BiasAdd", "Pad", "Squeeze",
                                      "ExpandDims", "Transpose", "Relu"))
        with lib.Session(graph=graph) as sess:
            sess.run(lib.global_variables_initializer())
            value = sess.run(out, feeds)
    return out.name, out.shape.as_list(), variables, types, value


@pytest.mark.oracle
@pytest.mark.parametrize("program", sorted(LAYERS))
def test_layer_matches_tensorflow(program):
    v1 = oracle.tf1()
    name, shape, variables, types, value = _build(tf, program)
    t_name, t_shape, t_variables, t_types, t_value = _build(v1, program)
    assert (name, shape, variables) == (t_name, t_shape, t_variables)
    if program not in ("conv1d_causal_dilated",):   # TF's dilated conv1d goes through SpaceToBatchND
        assert types == t_types
    np.testing.assert_allclose(value, t_value, rtol=1e-4, atol=1e-4)


def test_layers_without_tensorflow():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 10, 3])
        y = tf.layers.conv1d(x, 4, 3, padding="causal")
        assert y.shape.as_list() == [None, 10, 4]
        z = tf.layers.max_pooling1d(y, 2, 2)
        assert z.shape.as_list() == [None, 5, 4]
        v = tf.placeholder(tf.float32, [None, 4, 4, 4, 2])
        t = tf.layers.conv3d_transpose(v, 3, 2, strides=2)
        assert t.shape.as_list() == [None, 8, 8, 8, 3]
        with pytest.raises(ValueError, match="The `padding` argument must be"):
            tf.layers.conv3d(v, 2, 2, padding="causal")
        with pytest.raises(ValueError, match="kernel_size"):
            tf.layers.Conv3D(2, (1, 2))
        loss = tf.reduce_sum(t) + tf.reduce_sum(z)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {x: np.ones([2, 10, 3]), v: np.ones([3, 4, 4, 4, 2])})
            assert sess.run(t, {v: np.ones([1, 4, 4, 4, 2])}).shape == (1, 8, 8, 8, 3)
