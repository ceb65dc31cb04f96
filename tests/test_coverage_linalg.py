"""Coverage (issue 13 #7): the rest of tf.linalg — cholesky_solve, lstsq, LU family, matrix_rank, pinv,
normalize, expm, sqrtm, tridiagonal solve/matmul — conformance tables and oracle comparisons."""
import numpy as np
import pytest
import scipy.linalg as sl

import graphcompat as tf
from graphcompat.framework import errors as E
from tests import oracle
from tests._conformance import Case, check

rng = np.random.RandomState(5)
SPD = np.array([[4., 1, 0], [1, 3, 1], [0, 1, 2]], np.float32)
B = rng.randn(3, 2).astype(np.float32)
TALL = rng.randn(5, 3)
WIDE = rng.randn(2, 4)
RHS5 = rng.randn(5, 2)
RHS2 = rng.randn(2, 1)
GEN = rng.randn(2, 4, 4)                     # a batch of general matrices (pivoting happens)
GRHS = rng.randn(2, 4, 3)
LOWRANK = (rng.randn(4, 2) @ rng.randn(2, 5)).astype(np.float64)
COMPACT = np.array([[1., 2., 0.], [4., 5., 6.], [0., 7., 8.]], np.float32)
TRIMAT = np.diag([4., 5., 6.]) + np.diag([1., 2.], 1) + np.diag([7., 8.], -1)


TABLE = [
    Case("cholesky_solve", lambda tf, a, b: tf.linalg.cholesky_solve(tf.linalg.cholesky(a), b),
         lambda a, b: np.linalg.solve(a, b).astype(np.float32), [SPD, B], 1e-5),
    Case("lstsq_tall", lambda tf, a, b: tf.linalg.lstsq(a, b), lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0],
         [TALL, RHS5], 1e-8),
    Case("lstsq_wide_min_norm", lambda tf, a, b: tf.matrix_solve_ls(a, b),
         lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], [WIDE, RHS2], 1e-8),
    Case("lstsq_l2", lambda tf, a, b: tf.linalg.lstsq(a, b, l2_regularizer=0.5),
         lambda a, b: np.linalg.solve(a.T @ a + 0.5 * np.eye(3), a.T @ b), [TALL, RHS5], 1e-8),
    Case("lstsq_kernel", lambda tf, a, b: tf.linalg.lstsq(a, b, fast=False),
         lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], [TALL, RHS5], 1e-8),
    Case("lu_solve_batch", lambda tf, a, b: tf.linalg.lu_solve(*tf.linalg.lu(a), b), np.linalg.solve, [GEN, GRHS],
         1e-8),
    Case("lu_reconstruct_batch", lambda tf, a: tf.linalg.lu_reconstruct(*tf.linalg.lu(a)), lambda a: a, [GEN], 1e-10),
    Case("lu_reconstruct", lambda tf, a: tf.linalg.lu_reconstruct(*tf.linalg.lu(a)), lambda a: a, [GEN[0]], 1e-10),
    Case("lu_matrix_inverse", lambda tf, a: tf.linalg.lu_matrix_inverse(*tf.linalg.lu(a)), np.linalg.inv, [GEN[1]],
         1e-8),
    Case("matrix_rank", lambda tf, a: tf.linalg.matrix_rank(a), lambda a: np.int32(np.linalg.matrix_rank(a)),
         [LOWRANK]),
    Case("pinv", lambda tf, a: tf.linalg.pinv(a), np.linalg.pinv, [LOWRANK], 1e-8),
    Case("normalize", lambda tf, a: list(tf.linalg.normalize(a, axis=1)),
         lambda a: [a / np.linalg.norm(a, axis=1, keepdims=True), np.linalg.norm(a, axis=1, keepdims=True)],
         [TALL], 1e-10),
    Case("expm", lambda tf, a: tf.linalg.expm(a), sl.expm, [GEN], 1e-8),
    Case("sqrtm", lambda tf, a: tf.linalg.sqrtm(a), lambda a: np.real(sl.sqrtm(a)), [SPD.astype(np.float64)], 1e-8),
    Case("matrix_square_root", lambda tf, a: tf.matrix_square_root(a), lambda a: np.real(sl.sqrtm(a)),
         [SPD.astype(np.float64)], 1e-8),
    Case("tridiagonal_solve", lambda tf, d, b: tf.linalg.tridiagonal_solve(d, b),
         lambda d, b: np.linalg.solve(TRIMAT, b).astype(np.float32), [COMPACT, B], 1e-5),
    Case("tridiagonal_solve_matrix_vector", lambda tf, m, b: tf.linalg.tridiagonal_solve(m, b, diagonals_format="matrix"),
         lambda m, b: np.linalg.solve(m, b), [TRIMAT, np.array([1., 2., 3.])], 1e-10),
    Case("tridiagonal_matmul", lambda tf, d, b: tf.linalg.tridiagonal_matmul(d, b),
         lambda d, b: (TRIMAT @ b).astype(np.float32), [COMPACT, B], 1e-5),
    Case("tridiagonal_matmul_sequence", lambda tf, d, b: tf.linalg.tridiagonal_matmul(
        [d[0], d[1], d[2]], b, diagonals_format="sequence"), lambda d, b: (TRIMAT @ b).astype(np.float32),
        [COMPACT, B], 1e-5),
    Case("aliases", lambda tf, a: [tf.linalg.l2_normalize(a, 1), tf.linalg.global_norm([a, a])],
         lambda a: [a / np.linalg.norm(a, axis=1, keepdims=True), np.sqrt(2 * np.sum(a * a))], [TALL], 1e-10),
]


@pytest.mark.parametrize("case", TABLE, ids=str)
def test_conformance(case):
    check(case)


def test_lu_permutation_definition():
    with tf.Graph().as_default():
        a = tf.constant(GEN[0])
        lu, p = tf.linalg.lu(a, output_idx_type=tf.int64)
        assert p.dtype == tf.int64 and p.shape.as_list() == [4] and lu.name == "Lu:0"
        with tf.Session() as sess:
            lu_v, p_v = sess.run([lu, p])
    lower = np.tril(lu_v, -1) + np.eye(4)
    np.testing.assert_allclose(GEN[0][p_v], lower @ np.triu(lu_v), atol=1e-12)


def test_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
            tf.linalg.lu(tf.zeros([2, 3]))
        with pytest.raises(ValueError, match="Shape must be at least rank 2 but is rank 1"):
            tf.linalg.sqrtm(tf.zeros([3]))
        with pytest.raises(NotImplementedError, match="complex128 and l2_regularizer != 0"):
            tf.linalg.lstsq(tf.zeros([2, 2], tf.complex128), tf.zeros([2, 1], tf.complex128), l2_regularizer=0.1)
        with pytest.raises(ValueError, match="Unrecognized diagonals_format: banded"):
            tf.linalg.tridiagonal_solve(tf.zeros([3, 3]), tf.zeros([3]), diagonals_format="banded")
        x = tf.placeholder(tf.float32, [None, None])
        lu = tf.linalg.lu(x)
        with tf.Session() as sess:
            with pytest.raises(E.InvalidArgumentError, match="must be a square matrix"):
                sess.run(lu, {x: np.zeros([2, 3])})


ORACLE = {
    "solves": lambda tf: [tf.linalg.cholesky_solve(tf.linalg.cholesky(tf.constant(SPD)), tf.constant(B)),
                          tf.linalg.lstsq(tf.constant(TALL), tf.constant(RHS5)),
                          tf.linalg.lstsq(tf.constant(WIDE), tf.constant(RHS2), l2_regularizer=0.25),
                          tf.linalg.lstsq(tf.constant(TALL), tf.constant(RHS5), fast=False),
                          tf.linalg.tridiagonal_solve(tf.constant(COMPACT), tf.constant(B)),
                          tf.linalg.tridiagonal_matmul(tf.constant(COMPACT), tf.constant(B))],
    "lu": lambda tf: list(tf.linalg.lu(tf.constant(GEN[0]))) + [
        tf.linalg.lu_solve(*tf.linalg.lu(tf.constant(GEN[1])), tf.constant(GRHS[1])),
        tf.linalg.lu_reconstruct(*tf.linalg.lu(tf.constant(GEN[0]))),
        tf.linalg.lu_matrix_inverse(*tf.linalg.lu(tf.constant(GEN[0])))],
    "svd_based": lambda tf: [tf.linalg.matrix_rank(tf.constant(LOWRANK)), tf.linalg.pinv(tf.constant(LOWRANK)),
                             tf.linalg.normalize(tf.constant(TALL), axis=1)[0]],
    "sqrtm": lambda tf: [tf.linalg.sqrtm(tf.constant(SPD))],
}



@pytest.mark.oracle
@pytest.mark.parametrize("program", sorted(ORACLE))
def test_oracle(program):
    v1 = oracle.tf1()
    got, want = oracle.run(tf, ORACLE[program]), oracle.run(v1, ORACLE[program])
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, (program, k)
        tol = 1e-4 if w.dtype == np.float32 else 1e-9
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=f"{program}[{k}]")
    assert oracle.names(tf, ORACLE[program]) == oracle.names(v1, ORACLE[program])


@pytest.mark.oracle
def test_oracle_expm_value():
    v1 = oracle.tf1()
    build = lambda tf: tf.linalg.expm(tf.constant(GEN))  # noqa: E731
    np.testing.assert_allclose(oracle.run(tf, build), oracle.run(v1, build), rtol=1e-9, atol=1e-9)
