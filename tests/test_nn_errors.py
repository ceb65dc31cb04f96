"""Bad input to tf.nn / tf.layers / tf.losses: TF's error classes and texts, at build time or at run time."""
import numpy as np
import pytest

import graphcompat as tf

F = tf.float32

# (id, builder, error class, message fragment) — raised while building the graph
BUILD_ERRORS = [
    ("conv2d_rank3", lambda: tf.nn.conv2d(tf.placeholder(F, [None, 28, 28]), np.zeros((5, 5, 1, 32), np.float32),
                                          [1, 1, 1, 1], "SAME"),
     ValueError, "Shape must be rank 4 but is rank 3 for 'Conv2D' (op: 'Conv2D')"),
    ("conv2d_filter_rank", lambda: tf.nn.conv2d(tf.placeholder(F, [None, 28, 28, 1]), np.zeros((5, 5, 1), np.float32),
                                                [1, 1, 1, 1], "SAME"),
     ValueError, "Shape must be rank 4 but is rank 3"),
    ("conv2d_groups", lambda: tf.nn.conv2d(tf.placeholder(F, [None, 28, 28, 3]), np.zeros((5, 5, 1, 32), np.float32),
                                           [1, 1, 1, 1], "SAME"),
     ValueError, "Depth of output (32) is not a multiple of the number of groups (3)"),
    ("conv2d_padding", lambda: tf.nn.conv2d(tf.placeholder(F, [1, 4, 4, 1]), np.zeros((2, 2, 1, 1), np.float32),
                                            [1, 1, 1, 1], "FOO"),
     ValueError, "Attr 'padding' of 'Conv2D' Op passed string 'FOO' not in: \"SAME\", \"VALID\", \"EXPLICIT\"."),
    ("conv2d_strides", lambda: tf.nn.conv2d(tf.placeholder(F, [1, 4, 4, 1]), np.zeros((2, 2, 1, 1), np.float32),
                                            [1, 1, 1], "SAME"),
     ValueError, "strides should be of length 1, 2 or 4"),
    ("max_pool_rank3", lambda: tf.nn.max_pool(tf.placeholder(F, [None, 28, 28]), [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
     ValueError, "Shape must be rank 4 but is rank 3 for 'MaxPool' (op: 'MaxPool')"),
    ("avg_pool_rank5", lambda: tf.nn.avg_pool(tf.placeholder(F, [1, 2, 28, 28, 1]), [1, 2, 2, 1], [1, 2, 2, 1],
                                              "VALID"),
     ValueError, "Shape must be rank 4 but is rank 5 for 'AvgPool'"),
    ("softmax_scalar", lambda: tf.nn.softmax(tf.constant(1.0)), ValueError, "Shape must be at least rank 1 but is rank 0"),
    ("bias_add_dims", lambda: tf.nn.bias_add(tf.zeros([4, 9]), tf.zeros([10])), ValueError,
     "Dimensions must be equal, but are 9 and 10"),
    ("bias_add_format", lambda: tf.nn.bias_add(tf.zeros([4, 9]), tf.zeros([9]), data_format="HWC"), ValueError,
     "`data_format` must be of the form `N...C` or `NC...`"),
    ("sparse_xent_rank", lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.zeros([4, 1], tf.int32), logits=tf.zeros([4, 10])), ValueError,
     "`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: labels.shape=(4, 1) of rank 2 and "
     "logits.shape=(4, 10) of rank 2"),
    ("sparse_xent_dtype", lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.zeros([4], F), logits=tf.zeros([4, 10])), TypeError,
     "Value passed to parameter 'labels' has DataType float32 not in list of allowed values: int32, int64"),
    ("sparse_xent_shape", lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.zeros([5], tf.int32), logits=tf.zeros([4, 10])), ValueError,
     "`labels.shape` must equal `logits.shape` except for the last dimension. Received: labels.shape=(5,) and "
     "logits.shape=(4, 10)"),
    ("sparse_xent_positional", lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        tf.zeros([4], tf.int32), tf.zeros([4, 10])), ValueError,
     "Only call `sparse_softmax_cross_entropy_with_logits` with named arguments"),
    ("xent_shape", lambda: tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.zeros([4, 9]), logits=tf.zeros([4, 10])),
     ValueError, "Dimensions must be equal, but are 10 and 9"),
    ("sigmoid_xent_shape", lambda: tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros([4, 9]),
                                                                           logits=tf.zeros([4, 10])),
     ValueError, "`logits` and `labels` must have the same shape, received ((4, 10) vs (4, 9))."),
    ("losses_mse_shape", lambda: tf.losses.mean_squared_error(tf.zeros([4, 9]), tf.zeros([4, 10])), ValueError,
     "Shapes (4, 10) and (4, 9) are incompatible"),
    ("losses_sparse_labels_dtype", lambda: tf.losses.sparse_softmax_cross_entropy(tf.zeros([4]), tf.zeros([4, 3])),
     TypeError, "Value passed to parameter 'labels' has DataType float32 not in list of allowed values: int32, int64"),
    ("losses_softmax_shape", lambda: tf.losses.softmax_cross_entropy(tf.zeros([4, 2]), tf.zeros([4, 3])),
     ValueError, "Shapes (4, 3) and (4, 2) are incompatible"),
    ("losses_weights_shape", lambda: tf.losses.mean_squared_error(tf.zeros([4, 3]), tf.zeros([4, 3]),
                                                                   weights=tf.ones([2, 3])),
     ValueError, "weights can not be broadcast to values. Mismatch at dim 0. values.shape=[4 3], weights.shape=[2 3]."),
    ("losses_weights_rank", lambda: tf.losses.mean_squared_error(tf.zeros([4, 3]), tf.zeros([4, 3]),
                                                                  weights=tf.ones([4])),
     ValueError, "weights can not be broadcast to values. values.rank=2. weights.rank=1. values.shape=(4, 3). "
                 "weights.shape=(4,)."),
    ("losses_none_labels", lambda: tf.losses.mean_squared_error(None, tf.zeros([4])), ValueError,
     "Argument `labels` must not be None."),
    ("losses_bad_reduction", lambda: tf.losses.mean_squared_error(tf.zeros([4]), tf.zeros([4]), reduction="avg"),
     ValueError, "Invalid Reduction Key avg."),
    ("dropout_both", lambda: tf.nn.dropout(tf.zeros([3]), keep_prob=0.5, rate=0.5), ValueError,
     "Cannot specify both 'keep_prob' and 'rate'."),
    ("dropout_rate1", lambda: tf.nn.dropout(tf.zeros([3]), rate=1.0), ValueError,
     "`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate=1.0"),
    ("dropout_keep0", lambda: tf.nn.dropout(tf.zeros([3]), keep_prob=0.0), ValueError,
     "`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate=1.0"),
    ("dropout_int", lambda: tf.nn.dropout(tf.zeros([3], tf.int32), rate=0.5), ValueError,
     "`x.dtype` must be a floating point tensor as `x` will be scaled."),
    ("layers_activation", lambda: tf.layers.dense(tf.zeros([4, 9]), 3, activation="foo"), ValueError,
     "Unknown activation function: 'foo'."),
    ("layers_dense_undefined", lambda: tf.layers.dense(tf.placeholder(F, [4, None]), 3), ValueError,
     "The last dimension of the inputs to a Dense layer should be defined. Found None."),
    ("layers_conv_rank", lambda: tf.layers.conv2d(tf.zeros([4, 9, 9]), 3, 3), ValueError,
     "expected ndim=4, found ndim=3"),
    ("embedding_empty", lambda: tf.nn.embedding_lookup([], [0]), ValueError,
     "Length of params is currently 0. Need at least one param."),
    ("embedding_strategy", lambda: tf.nn.embedding_lookup([tf.zeros([2, 2]), tf.zeros([2, 2])], [0],
                                                          partition_strategy="foo"), ValueError,
     "Unrecognized partition strategy: foo."),
    ("dynamic_rnn_no_dtype", lambda: tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(2), tf.zeros([2, 3, 4])), ValueError,
     "If no initial_state is provided, argument `dtype` must be specified"),  # TF 2.x rnn.py's text
    ("l2_regularizer_int", lambda: tf.contrib.layers.l2_regularizer(1), ValueError, "scale cannot be an integer: 1"),
    ("fused_bn_inference", lambda: tf.nn.fused_batch_norm(tf.zeros([1, 2, 2, 3]), tf.ones([3]), tf.zeros([3]),
                                                          is_training=False), ValueError,
     "Both `mean` and `variance` must be a 1D tensor"),
]


@pytest.mark.parametrize("case", BUILD_ERRORS, ids=[c[0] for c in BUILD_ERRORS])
def test_build_errors(case):
    _, build, error, fragment = case
    with pytest.raises(error) as info:
        build()
    assert fragment in str(info.value)


def _run_twice_raises(fetch, feeds_bad, feeds_good=None, fragment=""):
    """Bad data fails both eagerly (first run) and through the compiled plan, and state is untouched."""
    with tf.Session() as sess:
        if feeds_good is not None:
            sess.run(fetch, feeds_good)
            sess.run(fetch, feeds_good)  # compiled from here on
        for _ in range(2):
            with pytest.raises(tf.errors.InvalidArgumentError) as info:
                sess.run(fetch, feeds_bad)
            assert fragment in str(info.value)


def test_embedding_lookup_out_of_range_ids_raise():
    ids = tf.placeholder(tf.int32, [None])
    emb = tf.nn.embedding_lookup(tf.constant(np.zeros((5, 3), np.float32)), ids)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 7 is not in \[0, 5\)"):
            sess.run(emb, {ids: [1, 7]})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = -1 is not in \[0, 5\)"):
            sess.run(emb, {ids: [-1]})


def test_embedding_lookup_out_of_range_ids_raise_in_compiled_runs():
    ids = tf.placeholder(tf.int32, [None])
    emb = tf.nn.embedding_lookup(tf.constant(np.zeros((5, 3), np.float32)), ids)
    _run_twice_raises(emb, {ids: [1, 7]}, {ids: [1, 2]}, "indices[1] = 7 is not in [0, 5)")


def test_embedding_lookup_out_of_range_ids_in_training_leave_variables_unchanged():
    ids = tf.placeholder(tf.int32, [None])
    var = tf.get_variable("emb", initializer=np.ones((5, 2), np.float32))
    loss = tf.reduce_sum(tf.nn.embedding_lookup(var, ids))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(2):
            sess.run(train, {ids: [0]})
        before = sess.run(var)
        for _ in range(2):
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(train, {ids: [0, 9]})
        np.testing.assert_array_equal(sess.run(var), before)


def test_sparse_xent_out_of_range_labels_raise():
    labels = tf.placeholder(tf.int32, [None])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=tf.zeros([2, 10]))
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(loss, {labels: [1, 12]})
        assert "Received a label value of 12 which is outside the valid range of [0, 10)." in str(info.value)
    _run_twice_raises(loss, {labels: [1, -1]}, {labels: [1, 2]}, "outside the valid range of [0, 10)")
