"""API gaps closed against real TF 2.21 `tensorflow.compat.v1`: gather_nd(batch_dims), matrix norms,
switch_case, depth_to_space/space_to_depth NCHW, matrix_transpose of unknown rank, complex variance,
matmul(output_type). Values, dtypes, static shapes, op names, gradients and errors (class and text)."""
import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests._op_oracle import compare, compare_error

pytestmark = pytest.mark.oracle

rng = np.random.RandomState(11)


def _same_graph(build):
    """graphcompat records TF's ops: the same (name, type) list, node for node."""
    v1 = oracle.tf1()
    assert oracle.op_names(graphcompat, build) == oracle.op_names(v1, build)


# ------------------------------------------------------------------------------------------------
# 1. tf.gather_nd(batch_dims > 0)
# ------------------------------------------------------------------------------------------------
P3 = rng.randn(2, 3, 4)
P4 = rng.randn(2, 3, 4, 5)
I_B1 = np.array([[[2], [0], [1], [2], [0]], [[1], [1], [0], [2], [2]]])          # [2, 5, 1]
I_B1_PAIRS = np.array([[[2, 3], [0, 1]], [[1, 0], [2, 2]]])                      # [2, 2, 2]
I_B2 = rng.randint(0, 4, size=(2, 3, 2, 2))                                       # [2, 3, 2, 2]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "complex64"])
@pytest.mark.parametrize("params,indices,batch_dims,index_dtype", [
    (P3, I_B1, 1, "int32"), (P3, I_B1_PAIRS, 1, "int64"), (P4, I_B2, 2, "int32"), (P4, I_B2[:, :, 0], 2, "int64"),
])
def test_gather_nd_batch_dims_values(dtype, params, indices, batch_dims, index_dtype):
    values = (params * 10).astype(dtype)

    def build(tf):
        return tf.gather_nd(tf.constant(values), tf.constant(indices.astype(index_dtype)), batch_dims=batch_dims)
    compare(build)


def test_gather_nd_batch_dims_fed_shapes_and_names():
    def build(tf):
        p = tf.placeholder(tf.float32, [None, 3, None], name="p")
        i = tf.placeholder(tf.int32, [None, None, 1], name="i")
        return tf.gather_nd(p, i, batch_dims=1, name="g")

    def feed(tf, graph):
        return {graph.get_tensor_by_name("p:0"): P3.astype(np.float32),
                graph.get_tensor_by_name("i:0"): I_B1.astype(np.int32)}
    compare(build, feed)
    _same_graph(build)
    _same_graph(lambda tf: tf.gather_nd(tf.zeros([2, 3, 4]), I_B1_PAIRS, batch_dims=1))
    # batch_dims given as a constant tensor folds to its value, as TF's constant_value
    _same_graph(lambda tf: tf.gather_nd(tf.zeros([2, 3, 4]), I_B1, batch_dims=tf.constant(1)))


def test_gather_nd_batch_dims_gradient():
    def build(tf):
        p = tf.constant(P4.astype(np.float32))
        out = tf.gather_nd(p, tf.constant(I_B2), batch_dims=2)
        return out, tf.gradients(tf.reduce_sum(out * out), p)[0]
    compare(build)


@pytest.mark.parametrize("build", [
    lambda tf: tf.gather_nd(tf.zeros([2, 3]), [[0], [1]], batch_dims=-1),
    lambda tf: tf.gather_nd(tf.zeros([2, 3]), [0, 1], batch_dims=1),
    lambda tf: tf.gather_nd(tf.zeros([2]), [[0], [1]], batch_dims=1),
    lambda tf: tf.gather_nd(tf.zeros([2, 3]), [[0], [1]], batch_dims=tf.placeholder(tf.int32, [])),
    lambda tf: tf.gather_nd(tf.zeros([2, 3]), [[0], [1]], batch_dims=None),
    lambda tf: tf.gather_nd(tf.zeros([2, 3, 4]), I_B1_PAIRS + 3, batch_dims=1),   # out of range: at run time
    lambda tf: tf.gather_nd(tf.zeros([2, 3]), tf.zeros([3, 2, 1], tf.int32), batch_dims=1),  # batch 3 vs 2
    lambda tf: tf.gather_nd(tf.zeros([3, 3]), [[5, 0], [0, 0], [7, 1]]),   # TF's kernel names the last bad row
], ids=["negative", "rank_indices", "rank_params", "tensor", "none", "out_of_range", "batch_mismatch",
        "last_bad_index"])
def test_gather_nd_batch_dims_errors(build):
    compare_error(build)
