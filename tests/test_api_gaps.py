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


# ------------------------------------------------------------------------------------------------
# 2. tf.norm of matrices: 'fro' and 'euclidean' (Frobenius), 1, inf, 2 (the largest singular value)
# ------------------------------------------------------------------------------------------------
M3 = rng.randn(2, 3, 4)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("ord", ["fro", "euclidean", 1, np.inf, 2])
def test_matrix_norm_values(dtype, ord):
    values = (M3 + 1j * M3[::-1]).astype(dtype) if dtype.startswith("complex") else M3.astype(dtype)

    def build(tf):
        x = tf.constant(values)
        return [tf.norm(x, ord=ord, axis=axis, keepdims=keep) for axis in ((1, 2), (-1, 0), [2, 1])
                for keep in (False, True)] + [tf.norm(values[0], ord=2.0 if ord == 2 else ord, axis=(0, 1))]
    compare(build, tol=1e-5 if dtype in ("float32", "complex64") else 1e-10)


@pytest.mark.parametrize("ord", ["fro", 1, np.inf, 2])
def test_matrix_norm_gradient_and_fed_shapes(ord):
    def build(tf):
        x = tf.placeholder(tf.float64, [None, 3, None], name="x")
        n = tf.norm(x, ord=ord, axis=(-2, -1))
        return n, tf.gradients(tf.reduce_sum(n * n), x)[0]

    def feed(tf, graph):
        return {graph.get_tensor_by_name("x:0"): M3}
    compare(build, feed, tol=1e-10)


def test_matrix_norm_op_names():
    for ord in ("fro", "euclidean", 1, np.inf):
        _same_graph(lambda tf: [tf.norm(tf.zeros([2, 3, 4]), ord=ord, axis=(2, 0), name="n")])


@pytest.mark.parametrize("kwargs", [
    dict(ord="nuc", axis=(0, 1)), dict(ord=3, axis=(0, 1)), dict(ord=-np.inf, axis=[0, 1]), dict(ord=-2, axis=(0, 1)),
    dict(ord=2, axis=(1, 1)), dict(ord=2, axis=(1.0, 2)), dict(ord=2, axis=(0, 1, 2)), dict(ord="fro"),
    dict(ord="fro", axis=0), dict(ord=-1), dict(ord=0), dict(ord=1j), dict(ord="euclid"),
    dict(ord=1, axis=(0, 5)), dict(ord=2, axis=(0, 5)), dict(ord=1, axis=np.int64(0)),
], ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_norm_errors(kwargs):
    compare_error(lambda tf: tf.norm(tf.zeros([2, 3, 4]), **kwargs))
