"""Coverage (issue 13 #7): tf.io.serialize_sparse / serialize_many_sparse / deserialize_many_sparse —
byte-identical serialized protos and round trips, compared with TensorFlow."""
import numpy as np
import pytest

import graphcompat as tf
from graphcompat.framework import errors as E
from tests import oracle

def _parts(sp):
    return [sp.indices, sp.values, sp.dense_shape]


PROGRAMS = {
    "serialize": lambda tf: [tf.io.serialize_sparse(tf.SparseTensor([[0, 1], [2, 0]], [1.5, 2.5], [3, 4])),
                             tf.serialize_sparse(tf.SparseTensor([[0], [3]], ["a", "bc"], [5])),
                             tf.io.serialize_many_sparse(tf.SparseTensor([[0, 1], [2, 0]], [1, 2], [3, 4]))],
    "round_trip": lambda tf: _parts(tf.io.deserialize_many_sparse(
        tf.io.serialize_many_sparse(tf.SparseTensor([[0, 1, 1], [2, 0, 3], [2, 1, 0]], [1, 2, 3], [3, 2, 4])),
        tf.int32)) + _parts(tf.io.deserialize_many_sparse(
            tf.io.serialize_many_sparse(tf.SparseTensor([[0, 1], [1, 0]], ["x", "yz"], [2, 2])), tf.string)),
}


@pytest.mark.oracle
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_matches_tensorflow(program):
    v1 = oracle.tf1()
    got, want = oracle.run(tf, PROGRAMS[program]), oracle.run(v1, PROGRAMS[program])
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.tolist() == w.tolist()

    assert oracle.op_names(tf, PROGRAMS[program]) == oracle.op_names(v1, PROGRAMS[program])


def test_batching_sparse_rows_and_errors():
    with tf.Graph().as_default():
        rows = tf.stack([tf.io.serialize_sparse(tf.SparseTensor([[0], [2]], [1, 2], [3])),
                         tf.io.serialize_sparse(tf.SparseTensor([[4]], [7], [5]))])
        sp = tf.io.deserialize_many_sparse(rows, tf.int32, rank=2)
        bad = tf.io.deserialize_many_sparse(rows, tf.float32)
        with pytest.raises(NotImplementedError, match="out_type=tf.variant"):
            tf.io.serialize_sparse(tf.SparseTensor([[0]], [1], [1]), out_type=tf.variant)
        with tf.Session() as sess:
            v = sess.run(sp)
            with pytest.raises(E.InvalidArgumentError, match="Requested SparseTensor of type float"):
                sess.run(bad)
    np.testing.assert_array_equal(v.indices, [[0, 0], [0, 2], [1, 4]])
    np.testing.assert_array_equal(v.values, [1, 2, 7])
    np.testing.assert_array_equal(v.dense_shape, [2, 5])
