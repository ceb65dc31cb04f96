"""Coverage (issue 13 #7): tf.sets (intersection / union / difference / size) on dense and sparse inputs —
SparseTensor results, graph and errors compared with TensorFlow."""
import numpy as np
import pytest

import graphcompat as tf
from graphcompat.framework import errors as E
from tests import oracle

A = [[1, 2, 3, 3], [4, 5, 6, 7]]
B = [[3, 1, 9, 9], [5, 5, 5, 5]]
A3 = [[[1, 2], [3, 3]], [[5, 6], [7, 8]]]
B3 = [[[2, 2], [1, 3]], [[9, 9], [8, 7]]]

PROGRAMS = {
    "dense_dense": lambda tf: [tf.sets.intersection(A, B), tf.sets.union(A, B), tf.sets.difference(A, B),
                               tf.sets.set_difference(A, B, aminusb=False)],
    "rank3": lambda tf: [tf.sets.set_union(A3, B3), tf.sets.set_intersection(A3, B3)],
    "dense_sparse": lambda tf: [
        tf.sets.intersection(tf.constant(A), tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [3, 7, 5], [2, 2])),
        tf.sets.difference(tf.SparseTensor([[0, 0], [1, 1]], [2, 6], [2, 2]), tf.constant(A))],
    "sparse_sparse": lambda tf: [tf.sets.union(tf.SparseTensor([[0, 0], [1, 1]], [2, 6], [2, 2]),
                                               tf.SparseTensor([[0, 1], [1, 0]], [1, 6], [2, 3]))],
    "size": lambda tf: [tf.sets.size(tf.sparse.from_dense(tf.constant(A))), tf.sets.set_size(
        tf.SparseTensor([[0, 0, 0], [0, 0, 1], [1, 1, 0]], [4, 4, 2], [2, 2, 3]))],
    "strings": lambda tf: [tf.sets.union(tf.constant([["a", "b"], ["c", "a"]]), tf.constant([["b", "z"],
                                                                                            ["a", "a"]]))],
    "empty_result": lambda tf: [tf.sets.intersection([[1, 2]], [[3, 4]])],
}


def _flatten(values):
    out = []
    for v in values:
        if hasattr(v, "indices"):
            out += [np.asarray(v.indices), np.asarray(v.values), np.asarray(v.dense_shape)]
        else:
            out.append(np.asarray(v))
    return out


@pytest.mark.oracle
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_matches_tensorflow(program):
    v1 = oracle.tf1()
    got, want = _flatten(oracle.run(tf, PROGRAMS[program])), _flatten(oracle.run(v1, PROGRAMS[program]))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, (g, w)
        np.testing.assert_array_equal(g, w)

    assert oracle.op_names(tf, PROGRAMS[program]) == oracle.op_names(v1, PROGRAMS[program])


def test_results_without_tensorflow():
    with tf.Graph().as_default():
        u = tf.sets.union(A, B)
        assert isinstance(u, tf.SparseTensor) and u.indices.shape.as_list() == [None, 2]
        with tf.Session() as sess:
            r = sess.run(u)
    np.testing.assert_array_equal(r.values, [1, 2, 3, 9, 4, 5, 6, 7])
    np.testing.assert_array_equal(r.dense_shape, [2, 4])


def test_errors():
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match=r"Types don't match, <dtype: 'int32'> vs <dtype: 'float32'>\."):
            tf.sets.intersection(tf.constant(A), tf.constant([[1.0]]))
        with pytest.raises(TypeError, match="'a' has invalid dtype `<dtype: 'float32'>` not in supported dtypes"):
            tf.sets.intersection(tf.constant([[1.0]]), tf.constant([[1.0]]))
        with pytest.raises(ValueError, match="Shape must be at least rank 2 but is rank 1"):
            tf.sets.union([1, 2], [1])
        with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal, but are 1 and 2"):
            tf.sets.union([[1, 2]], [[1], [2]])
        with pytest.raises(TypeError, match="Expected `SparseTensor`"):
            tf.sets.size(tf.constant(A))
        x = tf.placeholder(tf.int32, [None, None])
        y = tf.placeholder(tf.int32, [None, None])
        u = tf.sets.union(x, y)
        bad = tf.sets.size(tf.SparseTensor([[1, 0], [0, 0]], [1, 2], [2, 2]))
        with tf.Session() as sess:
            with pytest.raises(E.InvalidArgumentError, match=r"Shapes \[1\] and \[2\] mismatch"):
                sess.run(u, {x: [[1, 2]], y: [[1], [2]]})
            with pytest.raises(E.InvalidArgumentError, match="out of order"):
                sess.run(bad)
