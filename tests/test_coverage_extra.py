"""Coverage (issue 13 #7): tf.edit_distance, tf.math/nn approx_max_k/min_k, tf.guarantee_const,
tf.add_check_numerics_ops, tf.assert_variables_initialized, tf.losses.cosine_distance /
mean_pairwise_squared_error, and the enums, constants and protos TF1 programs reference."""
import numpy as np
import pytest

import graphcompat as tf
from graphcompat.framework import errors as E
from tests import oracle

PROGRAMS = {
    "edit_distance": lambda tf: [
        tf.edit_distance(tf.SparseTensor([[0, 0], [0, 1], [1, 0], [2, 0]], ["a", "b", "c", "x"], [3, 2]),
                         tf.SparseTensor([[0, 0], [1, 0], [1, 1]], ["a", "c", "d"], [3, 2])),
        tf.edit_distance(tf.SparseTensor([[0, 0, 0], [1, 0, 1]], [1, 2], [2, 1, 2]),
                         tf.SparseTensor([[0, 0, 0], [0, 0, 1], [1, 0, 0]], [1, 3, 2], [2, 1, 2]),
                         normalize=False)],
    # TF's CPU kernel: max over the last dimension only (graphcompat computes every case exactly)
    "approx_top_k": lambda tf: [*tf.math.approx_max_k(tf.constant([[1., 5, 3], [9, 2, 4]]), 2),
                                *tf.nn.approx_max_k(tf.constant([[7., 5, 3, 8]]), 3)],
    "losses": lambda tf: [
        tf.losses.cosine_distance(tf.constant([[0.6, 0.8], [0.0, 1.0]]), tf.constant([[1.0, 0.0], [0.0, 1.0]]),
                                  axis=1),
        tf.losses.cosine_distance(tf.constant([[0.6, 0.8]]), tf.constant([[1.0, 0.0]]), axis=1, weights=2.0,
                                  reduction=tf.losses.Reduction.NONE),
        tf.losses.mean_pairwise_squared_error(tf.constant([[1., 2, 3], [0, 1, 5]]),
                                              tf.constant([[1., 3, 2], [2, 2, 2]])),
        tf.losses.mean_pairwise_squared_error(tf.constant([[1., 2, 3], [0, 1, 5]]),
                                              tf.constant([[1., 3, 2], [2, 2, 2]]), weights=[[1.0], [0.0]])],
    "guarantee_const": lambda tf: [tf.guarantee_const(tf.constant([1.0, 2.0]))],
}



@pytest.mark.oracle
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_matches_tensorflow(program):
    v1 = oracle.tf1()
    got, want = oracle.run(tf, PROGRAMS[program]), oracle.run(v1, PROGRAMS[program])
    oracle.assert_same_values(got, want, 1e-6, 1e-6, program)
    assert oracle.names(tf, PROGRAMS[program]) == oracle.names(v1, PROGRAMS[program])


def test_check_numerics_and_initialized_asserts():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2])
        y = tf.log(x) * 2.0
        check = tf.add_check_numerics_ops()
        v = tf.Variable(1.0)
        w = tf.Variable([1, 2])
        ready = tf.assert_variables_initialized()
        with tf.Session() as sess:
            sess.run([y, check], {x: [1.0, 2.0]})
            with pytest.raises(E.InvalidArgumentError, match="Log:0 : Tensor had NaN values"):
                sess.run(check, {x: [-1.0, 2.0]})
            with pytest.raises(E.FailedPreconditionError, match="Attempting to use uninitialized value"):
                sess.run(ready)
            sess.run([v.initializer, w.initializer])
            np.testing.assert_array_equal(sess.run(ready), [0, 1])
    with tf.Graph().as_default():
        assert tf.assert_variables_initialized() is None


def test_approx_min_k_and_other_axes():
    with tf.Graph().as_default():
        x = tf.constant([[1., 5, 3], [9, 2, 4]])
        v, i = tf.math.approx_min_k(x, 1, reduction_dimension=0)
        v2, i2 = tf.nn.approx_max_k(x, 1, reduction_dimension=0)
        with tf.Session() as sess:
            out = sess.run([v, i, v2, i2])
    np.testing.assert_array_equal(out[0], [[1, 2, 3]])
    np.testing.assert_array_equal(out[1], [[0, 1, 0]])
    np.testing.assert_array_equal(out[2], [[9, 5, 4]])
    np.testing.assert_array_equal(out[3], [[1, 0, 1]])


def test_edit_distance_edge_cases():
    with tf.Graph().as_default():
        hyp = tf.SparseTensor([[0, 0]], ["a"], [2, 1])
        truth = tf.SparseTensor(np.zeros([0, 2], np.int64), tf.constant([], tf.string), [2, 1])
        d = tf.edit_distance(hyp, truth)
        with pytest.raises(TypeError, match="Hypothesis must be a SparseTensor"):
            tf.edit_distance(tf.constant([1]), truth)
        with tf.Session() as sess:
            out = sess.run(d)
    assert np.isinf(out[0]) and np.isnan(out[1])   # TF: x/0 = inf, 0/0 = nan


def test_enums_constants_protos():
    assert tf.AggregationMethod.ADD_N == tf.AggregationMethod.DEFAULT == 0
    assert tf.UnconnectedGradients.ZERO.value == "zero"
    with tf.Graph().as_default():
        x = tf.constant(1.0)
        y = tf.constant(2.0) * 3.0
        grads = tf.gradients(y, [x], unconnected_gradients=tf.UnconnectedGradients.ZERO,
                             aggregation_method=tf.AggregationMethod.EXPERIMENTAL_TREE)
        with tf.Session() as sess:
            assert sess.run(grads) == [0.0]
        assert tf.get_default_graph().as_graph_def().versions.producer == tf.GRAPH_DEF_VERSION
    assert tf.HistogramProto(min=1.0).min == 1.0 and tf.SummaryMetadata().plugin_data is not None
    assert tf.LogMessage(message="m").message == "m" and tf.OptimizerOptions(do_common_subexpression_elimination=True)
    assert issubclass(tf.errors.InvalidArgumentError, tf.OpError)
    assert tf.data.INFINITE_CARDINALITY == -1 and tf.data.UNKNOWN_CARDINALITY == -2
    assert tf.image.random_crop is tf.random_crop


@pytest.mark.oracle
def test_resize_image_with_pad_and_approx_top_k_match_tensorflow():
    v1 = oracle.tf1()
    img = np.arange(2 * 5 * 3 * 2, dtype=np.float32).reshape(2, 5, 3, 2)

    def build(lib):
        return [lib.image.resize_image_with_pad(img, 8, 8), lib.image.resize_image_with_pad(img[0], 4, 10),
                lib.image.resize_image_with_pad(img, 5, 3, method=lib.image.ResizeMethod.NEAREST_NEIGHBOR),
                *lib.approx_top_k(lib.constant([[3.0, 1.0, 2.0]]), 2)]
    for g, w in zip(oracle.run(tf, build), oracle.run(v1, build)):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    assert tf.random.uniform_candidate_sampler is tf.nn.uniform_candidate_sampler
