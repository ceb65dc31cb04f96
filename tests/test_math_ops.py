"""Conformance tables for math, linalg and sort ops, plus names, dtype rules and TF's error texts."""
import numpy as np
import pytest

import graphcompat as tf
from tests._conformance import Bad, Case, bad_cases, broadcast_cases, check, check_bad, check_broadcast

rng = np.random.RandomState(0)
F = rng.randn(3, 4).astype(np.float32)
G = rng.randn(3, 4).astype(np.float32)
P = (rng.rand(3, 4) + 0.5).astype(np.float32)          # positive
D = rng.randn(2, 3).astype(np.float64)
I = np.array([[7, -7, 5, -5], [3, -3, 0, 9], [1, 2, -8, 4]], np.int32)
J = np.array([[2, 2, -3, -3], [2, -2, 5, 4], [1, 1, 3, -3]], np.int32)
L = np.array([5, -5, 9, 2 ** 40], np.int64)
HALF = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6], np.float32)
B1 = np.array([[True, False, True, False]] * 3)
B2 = np.array([[True, True, False, False]] * 3)
SQ = (rng.randn(3, 3) + 3 * np.eye(3)).astype(np.float32)
SPD = (SQ @ SQ.T + np.eye(3, dtype=np.float32)).astype(np.float32)
BATCH = rng.randn(2, 3, 4).astype(np.float32)
BATCH2 = rng.randn(2, 4, 5).astype(np.float32)
C = (rng.randn(4) + 1j * rng.randn(4)).astype(np.complex64)


def sigmoid(x):
    return (1 / (1 + np.exp(-x))).astype(x.dtype)


def trunc_div(x, y):
    return (np.sign(x) * np.sign(y) * (np.abs(x) // np.abs(y))).astype(x.dtype)


def exclusive_cumsum(x, axis):
    c = np.cumsum(x, axis=axis)
    return (c - x).astype(x.dtype)


ELEMENTWISE = [
    Case("add", lambda tf, x, y: tf.add(x, y), np.add, [F, G]),
    Case("add_broadcast", lambda tf, x, y: x + y, lambda x, y: x + y, [F, G[0]]),
    Case("subtract", lambda tf, x, y: tf.subtract(x, y), np.subtract, [I, J]),
    Case("multiply", lambda tf, x, y: tf.multiply(x, y), np.multiply, [F, G]),
    Case("multiply_int64", lambda tf, x: x * 3, lambda x: x * np.int64(3), [L]),
    Case("div_int_floor", lambda tf, x, y: tf.div(x, y), np.floor_divide, [I, J]),
    Case("div_float", lambda tf, x, y: tf.div(x, y), np.divide, [F, P]),
    Case("divide_int32_float64", lambda tf, x, y: tf.divide(x, y), lambda x, y: x / y, [I, J]),
    Case("truediv_op", lambda tf, x, y: x / y, lambda x, y: x / y, [F, P]),
    Case("realdiv", lambda tf, x, y: tf.realdiv(x, y), np.divide, [D, D + 3]),
    Case("floordiv_float", lambda tf, x, y: tf.floordiv(x, y), lambda x, y: np.floor(x / y), [F, P]),
    Case("floordiv_op_int", lambda tf, x, y: x // y, np.floor_divide, [I, J]),
    Case("floor_div", lambda tf, x, y: tf.floor_div(x, y), np.floor_divide, [I, J]),
    Case("truncatediv", lambda tf, x, y: tf.truncatediv(x, y), trunc_div, [I, J]),
    Case("mod_python_sign", lambda tf, x, y: tf.mod(x, y), np.mod, [I, J]),
    Case("mod_op_float", lambda tf, x, y: x % y, np.mod, [F, P]),
    Case("truncatemod", lambda tf, x, y: tf.truncatemod(x, y), np.fmod, [I, J]),
    Case("pow", lambda tf, x, y: tf.pow(x, y), np.power, [P, G], 1e-5),
    Case("pow_op_int", lambda tf, x: x ** 2, lambda x: x ** 2, [I]),
    Case("rpow", lambda tf, x: 2.0 ** x, lambda x: np.float32(2.0) ** x, [G], 1e-5),
    Case("rsub", lambda tf, x: 1.0 - x, lambda x: np.float32(1) - x, [F]),
    Case("rtruediv", lambda tf, x: 1.0 / x, lambda x: np.float32(1) / x, [P]),
    Case("negative", lambda tf, x: -x, np.negative, [I]),
    Case("abs", lambda tf, x: abs(x), np.abs, [F]),
    Case("abs_complex", lambda tf, x: tf.abs(x), np.abs, [C]),
    Case("sign", lambda tf, x: tf.sign(x), np.sign, [I]),
    Case("square", lambda tf, x: tf.square(x), np.square, [F]),
    Case("sqrt", lambda tf, x: tf.sqrt(x), np.sqrt, [P]),
    Case("rsqrt", lambda tf, x: tf.rsqrt(x), lambda x: (1 / np.sqrt(x)).astype(np.float32), [P], 1e-5),
    Case("exp", lambda tf, x: tf.exp(x), np.exp, [F], 1e-5),
    Case("log", lambda tf, x: tf.log(x), np.log, [P], 1e-6),
    Case("log1p", lambda tf, x: tf.log1p(x), np.log1p, [P]),
    Case("sin", lambda tf, x: tf.sin(x), np.sin, [F]),
    Case("cos", lambda tf, x: tf.cos(x), np.cos, [D]),
    Case("tan", lambda tf, x: tf.tan(x), np.tan, [F], 1e-5),
    Case("tanh", lambda tf, x: tf.tanh(x), np.tanh, [F]),
    Case("sigmoid", lambda tf, x: tf.sigmoid(x), sigmoid, [F]),
    Case("round_half_even", lambda tf, x: tf.round(x), np.round, [HALF]),
    Case("round_int_passthrough", lambda tf, x: tf.round(x), lambda x: x, [I]),
    Case("floor", lambda tf, x: tf.floor(x), np.floor, [F]),
    Case("ceil", lambda tf, x: tf.ceil(x), np.ceil, [F]),
    Case("reciprocal", lambda tf, x: tf.reciprocal(x), lambda x: (1 / x).astype(np.float32), [P]),
    Case("maximum", lambda tf, x, y: tf.maximum(x, y), np.maximum, [F, G]),
    Case("minimum_int64", lambda tf, x: tf.minimum(x, np.int64(3)), lambda x: np.minimum(x, np.int64(3)), [L]),
    Case("squared_difference", lambda tf, x, y: tf.squared_difference(x, y), lambda x, y: (x - y) ** 2, [F, G]),
    Case("add_n", lambda tf, x, y: tf.add_n([x, y, x]), lambda x, y: x + y + x, [F, G]),
    Case("add_n_single", lambda tf, x: tf.add_n([x]), lambda x: x, [F]),
    Case("is_finite", lambda tf, x: tf.is_finite(tf.log(x)), lambda x: np.isfinite(np.log(np.abs(x) * np.sign(x) + (x == 0))), [F]),
]

COMPARISON_LOGIC = [
    Case("equal", lambda tf, x, y: tf.equal(x, y), np.equal, [I, J]),
    Case("not_equal_broadcast", lambda tf, x: tf.not_equal(x, 2), lambda x: x != 2, [I]),
    Case("less", lambda tf, x, y: x < y, np.less, [F, G]),
    Case("less_equal", lambda tf, x, y: x <= y, np.less_equal, [I, J]),
    Case("greater", lambda tf, x: x > 0.0, lambda x: x > 0, [F]),
    Case("greater_equal", lambda tf, x, y: tf.greater_equal(x, y), np.greater_equal, [I, J]),
    Case("logical_and", lambda tf, x, y: x & y, np.logical_and, [B1, B2]),
    Case("logical_or", lambda tf, x, y: tf.logical_or(x, y), np.logical_or, [B1, B2]),
    Case("logical_xor", lambda tf, x, y: x ^ y, np.logical_xor, [B1, B2]),
    Case("logical_not", lambda tf, x: ~x, np.logical_not, [B1]),
    Case("bitwise_and_int", lambda tf, x, y: x & y, np.bitwise_and, [I, J]),
    Case("where_v1_same_shape", lambda tf, x, y: tf.where(x > y, x, y), lambda x, y: np.where(x > y, x, y), [F, G]),
    Case("where_v1_vector_cond", lambda tf, x, y: tf.where(x[:, 0] > 0, x, y),
         lambda x, y: np.where((x[:, 0] > 0)[:, None], x, y), [F, G]),
    Case("where_v2_broadcast", lambda tf, x: tf.where_v2(x > 0, x, 0.0), lambda x: np.where(x > 0, x, 0).astype(
        np.float32), [F]),
]

CASTS = [
    Case("cast", lambda tf, x: tf.cast(x, tf.int32), lambda x: x.astype(np.int32), [F]),
    Case("cast_bool", lambda tf, x: tf.cast(x, tf.bool), lambda x: x != 0, [I]),
    Case("to_float", lambda tf, x: tf.to_float(x), lambda x: x.astype(np.float32), [I]),
    Case("to_int64", lambda tf, x: tf.to_int64(x), lambda x: x.astype(np.int64), [I]),
    Case("to_double", lambda tf, x: tf.to_double(x), lambda x: x.astype(np.float64), [F]),
    Case("saturate_cast", lambda tf, x: tf.saturate_cast(x * 100.0, tf.uint8),
         lambda x: np.clip(x * 100, 0, 255).astype(np.uint8), [F]),
]

REDUCTIONS = [
    Case("reduce_sum_all", lambda tf, x: tf.reduce_sum(x), lambda x: np.sum(x, dtype=np.float32), [F], 1e-5),
    Case("reduce_sum_axis_keep", lambda tf, x: tf.reduce_sum(x, 1, keepdims=True),
         lambda x: x.sum(1, keepdims=True), [F], 1e-5),
    Case("reduce_sum_keep_dims_old", lambda tf, x: tf.reduce_sum(x, reduction_indices=[0], keep_dims=True),
         lambda x: x.sum(0, keepdims=True, dtype=np.int32), [I]),
    Case("reduce_mean_int_truncates", lambda tf, x: tf.reduce_mean(x, 1),
         lambda x: np.trunc(x.sum(1) / 4).astype(np.int32), [I]),
    Case("reduce_mean", lambda tf, x: tf.reduce_mean(x, -1), lambda x: x.mean(-1), [F], 1e-6),
    Case("reduce_max", lambda tf, x: tf.reduce_max(x, 0), lambda x: x.max(0), [F]),
    Case("reduce_min", lambda tf, x: tf.reduce_min(x, [0, 1]), lambda x: x.min(), [I]),
    Case("reduce_prod", lambda tf, x: tf.reduce_prod(x, 1), lambda x: x.prod(1), [P], 1e-5),
    Case("reduce_any", lambda tf, x: tf.reduce_any(x, 1), lambda x: x.any(1), [B1]),
    Case("reduce_all", lambda tf, x: tf.reduce_all(x), lambda x: x.all(), [B1]),
    Case("reduce_logsumexp", lambda tf, x: tf.reduce_logsumexp(x, 1),
         lambda x: np.log(np.exp(x).sum(1)).astype(np.float32), [F], 1e-5),
    Case("reduce_logsumexp_keep", lambda tf, x: tf.reduce_logsumexp(x, keepdims=True),
         lambda x: np.log(np.exp(x).sum(keepdims=True)).astype(np.float32), [F], 1e-5),
    Case("argmax", lambda tf, x: tf.argmax(x, 1), lambda x: x.argmax(1), [F]),
    Case("argmin_dimension_int32", lambda tf, x: tf.argmin(x, dimension=0, output_type=tf.int32),
         lambda x: x.argmin(0).astype(np.int32), [I]),
    Case("arg_max_tf1_alias", lambda tf, x: tf.arg_max(x, 1), lambda x: x.argmax(1), [F]),
    Case("arg_min_tf1_alias_int32", lambda tf, x: tf.arg_min(x, dimension=0, output_type=tf.int32),
         lambda x: x.argmin(0).astype(np.int32), [I]),
    Case("count_nonzero", lambda tf, x: tf.count_nonzero(x), lambda x: np.int64(np.count_nonzero(x)), [I]),
    Case("count_nonzero_axis", lambda tf, x: tf.count_nonzero(x, 1, keepdims=True, dtype=tf.int32),
         lambda x: np.count_nonzero(x, 1, keepdims=True).astype(np.int32), [I]),
    Case("cumsum", lambda tf, x: tf.cumsum(x, 1), lambda x: np.cumsum(x, 1, dtype=np.int32), [I]),
    Case("cumsum_exclusive_reverse", lambda tf, x: tf.cumsum(x, 1, exclusive=True, reverse=True),
         lambda x: exclusive_cumsum(x[:, ::-1], 1)[:, ::-1], [I]),
    Case("cumprod", lambda tf, x: tf.cumprod(x, 0), lambda x: np.cumprod(x, 0), [P], 1e-5),
    Case("clip_by_value", lambda tf, x: tf.clip_by_value(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), [F]),
]

RANGES = [
    Case("range", lambda tf: tf.range(5), lambda: np.arange(5, dtype=np.int32)),
    Case("range_float_inferred", lambda tf: tf.range(1, 5.0, 2), lambda: np.arange(1, 5, 2, dtype=np.float32)),
    Case("range_negative_delta", lambda tf: tf.range(10, 2, -3), lambda: np.arange(10, 2, -3, dtype=np.int32)),
    Case("range_int64", lambda tf: tf.range(np.int64(3)), lambda: np.arange(3, dtype=np.int64)),
    Case("range_dtype", lambda tf: tf.range(4, dtype=tf.float64), lambda: np.arange(4, dtype=np.float64)),
    Case("linspace", lambda tf: tf.linspace(0.0, 1.0, 5), lambda: np.linspace(0, 1, 5, dtype=np.float32)),
    Case("lin_space", lambda tf: tf.lin_space(-1.0, 1.0, 3), lambda: np.linspace(-1, 1, 3, dtype=np.float32)),
]

LINALG = [
    Case("matmul", lambda tf, a, b: tf.matmul(a, b, transpose_b=True), lambda a, b: a @ b.T, [F, G], 1e-5),
    Case("matmul_op", lambda tf, a, b: a @ b, lambda a, b: a @ b, [F, G.T.copy()], 1e-5),
    Case("matmul_transpose_a", lambda tf, a, b: tf.matmul(a, b, transpose_a=True), lambda a, b: a.T @ b,
         [F, G], 1e-5),
    Case("batch_matmul", lambda tf, a, b: tf.matmul(a, b), np.matmul, [BATCH, BATCH2], 1e-5),
    Case("batch_matmul_adjoint", lambda tf, a, b: tf.matmul(a, b, adjoint_a=True),
         lambda a, b: np.swapaxes(a, 1, 2) @ b, [BATCH, BATCH], 1e-5),
    Case("batch_matmul_broadcast", lambda tf, a, b: tf.matmul(a, b), np.matmul, [BATCH, G.T.copy()], 1e-5),
    Case("tensordot_1", lambda tf, a, b: tf.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1),
         [F, G.T.copy()], 1e-5),
    Case("tensordot_axes", lambda tf, a, b: tf.tensordot(a, b, [[1, 2], [1, 0]]),
         lambda a, b: np.tensordot(a, b, [[1, 2], [1, 0]]), [BATCH, np.transpose(BATCH, (2, 1, 0)).copy()], 1e-5),
    Case("tensordot_0_outer", lambda tf, a, b: tf.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0),
         [F[0], G[1]], 1e-6),
    Case("diag", lambda tf, x: tf.diag(x), np.diag, [F[0]]),
    Case("diag_part", lambda tf, x: tf.diag_part(x), np.diag, [SQ]),
    Case("eye", lambda tf: tf.eye(3), lambda: np.eye(3, dtype=np.float32)),
    Case("eye_rect_batch", lambda tf: tf.eye(2, 3, batch_shape=[2], dtype=tf.int32),
         lambda: np.broadcast_to(np.eye(2, 3, dtype=np.int32), (2, 2, 3))),
    Case("matrix_diag", lambda tf, x: tf.matrix_diag(x), lambda x: np.stack([np.diag(r) for r in x]), [F]),
    Case("linalg_diag_part", lambda tf, x: tf.linalg.diag_part(x), lambda x: np.diagonal(x, axis1=-2, axis2=-1),
         [BATCH]),
    Case("matrix_transpose", lambda tf, x: tf.matrix_transpose(x), lambda x: np.swapaxes(x, 1, 2), [BATCH]),
    Case("trace", lambda tf, x: tf.trace(x), lambda x: np.float32(np.trace(x)), [SQ], 1e-5),
    Case("matrix_determinant", lambda tf, x: tf.matrix_determinant(x), lambda x: np.float32(np.linalg.det(x)),
         [SQ], 1e-4),
    Case("matrix_inverse", lambda tf, x: tf.matrix_inverse(x), np.linalg.inv, [SQ], 1e-4),
    Case("linalg_inv_det", lambda tf, x: [tf.linalg.inv(x), tf.linalg.det(x)],
         lambda x: [np.linalg.inv(x), np.linalg.det(x)], [D[:, :2].T @ D[:, :2] + np.eye(2)], 1e-10),
    Case("cholesky", lambda tf, x: tf.cholesky(x), np.linalg.cholesky, [SPD], 1e-4),
    Case("matrix_solve", lambda tf, a, b: tf.matrix_solve(a, b), np.linalg.solve, [SQ, F[:, :3].copy()], 1e-4),
]

SORTS = [
    Case("top_k", lambda tf, x: list(tf.math.top_k(x, 2)),
         lambda x: [-np.sort(-x, 1)[:, :2], np.argsort(-x, 1, kind="stable")[:, :2].astype(np.int32)], [F]),
    Case("sort", lambda tf, x: tf.sort(x), lambda x: np.sort(x, -1), [F]),
    Case("sort_descending_axis0", lambda tf, x: tf.sort(x, axis=0, direction="DESCENDING"),
         lambda x: -np.sort(-x, 0), [I]),
    Case("sort_int_ascending", lambda tf, x: tf.sort(x), lambda x: np.sort(x, -1), [I]),
    Case("argsort_stable", lambda tf, x: tf.argsort(x),
         lambda x: np.argsort(x, -1, kind="stable").astype(np.int32), [np.array([3, 1, 2, 1, 3], np.int32)]),
    Case("argsort_axis0", lambda tf, x: tf.argsort(x, axis=0), lambda x: np.argsort(x, 0).astype(np.int32), [F]),
]


def seg_sum(x, ids, n):
    out = np.zeros((n,) + x.shape[1:], x.dtype)
    for row, k in zip(x, ids):
        if 0 <= k < n:
            out[k] += row
    return out


def lgamma(x):
    import math
    return np.vectorize(math.lgamma)(x).astype(x.dtype)


SPECIAL = [
    Case("acosh", lambda tf, x: tf.math.acosh(x + 1.0), lambda x: np.arccosh(x + 1), [P]),
    Case("asinh", lambda tf, x: tf.math.asinh(x), np.arcsinh, [F]),
    Case("atanh", lambda tf, x: tf.math.atanh(x * 0.1), lambda x: np.arctanh(x * np.float32(0.1)), [F]),
    Case("lgamma", lambda tf, x: tf.math.lgamma(x), lgamma, [P], 1e-5),
    Case("xlogy_zero", lambda tf, x: tf.math.xlogy(x * 0.0, x), lambda x: np.zeros_like(x), [F]),
    Case("divide_no_nan", lambda tf, x: tf.math.divide_no_nan(x, x * 0.0), lambda x: np.zeros_like(x), [F]),
    Case("reduce_variance", lambda tf, x: tf.math.reduce_variance(x, 0), lambda x: x.var(0), [F], 1e-5),
    Case("reduce_std", lambda tf, x: tf.math.reduce_std(x), lambda x: np.float32(x.std()), [F], 1e-5),
    Case("reduce_euclidean_norm", lambda tf, x: tf.math.reduce_euclidean_norm(x, 1),
         lambda x: np.sqrt((x * x).sum(1)), [F], 1e-5),
    Case("unsorted_segment_sum", lambda tf, x: tf.math.unsorted_segment_sum(x, [2, 0, 2], 4),
         lambda x: seg_sum(x, [2, 0, 2], 4), [F], 1e-6),
    Case("unsorted_segment_sum_drops_negative", lambda tf, x: tf.math.unsorted_segment_sum(x, [1, -1, 0], 2),
         lambda x: seg_sum(x, [1, -1, 0], 2), [I]),
    Case("invert_permutation", lambda tf, p: tf.invert_permutation(p), lambda p: np.argsort(p).astype(np.int32),
         [np.array([3, 0, 2, 1], np.int32)]),
    Case("einsum", lambda tf, a, b: tf.einsum("ij,kj->ik", a, b), lambda a, b: a @ b.T, [F, G], 1e-5),
    Case("einsum_ellipsis_implicit", lambda tf, a, b: [tf.einsum("...ij,...jk", a, b), tf.einsum("bij->bji", a)],
         lambda a, b: [a @ b, np.swapaxes(a, 1, 2)], [BATCH, BATCH2], 1e-5),
    Case("norm", lambda tf, x: tf.norm(x, axis=1), lambda x: np.linalg.norm(x, axis=1), [F], 1e-5),
    Case("band_part", lambda tf, x: tf.linalg.band_part(x, 1, 0), lambda x: np.tril(np.triu(x, -1)), [F]),
    Case("slogdet", lambda tf, x: list(tf.linalg.slogdet(x)),
         lambda x: [np.float32(v) for v in np.linalg.slogdet(x)], [SQ], 1e-5),
    Case("svd_values", lambda tf, x: tf.linalg.svd(x, compute_uv=False), lambda x: np.linalg.svd(x, compute_uv=False),
         [F], 1e-5),
    Case("eigvalsh", lambda tf, x: tf.linalg.eigvalsh(x), np.linalg.eigvalsh, [SPD], 1e-4),
    Case("triangular_solve", lambda tf, a, b: tf.linalg.triangular_solve(a, b),
         lambda a, b: np.linalg.solve(np.tril(a), b), [np.tril(SQ), F[:, :3].copy()], 1e-4),
    Case("cross", lambda tf, a, b: tf.linalg.cross(a, b), np.cross, [F[:, :3].copy(), G[:, :3].copy()], 1e-6),
]


# ------------------------------------------------------------------------------------------------
# Every binary op: values, broadcasting (check_broadcast) and, where TF's kernel validates, bad inputs.
# ------------------------------------------------------------------------------------------------
E = tf.errors
JZ = J.copy()
JZ[1, 2] = 0                          # one zero divisor
LZ = np.array([5, -5, 0, 2], np.int64)
GZ = G.copy()
GZ[0, 1] = GZ[2, 3] = 0
DIV0 = "Integer division by zero"
TRUNC0 = "Unexpected error in binary operator (only integer div and mod should have errors)"


def where_zero(cond, value):
    return np.where(cond, np.zeros((), value.dtype), value).astype(value.dtype)


BINARY = [
    Case("b_add", lambda tf, x, y: tf.add(x, y), np.add, [F, G], broadcast=True),
    Case("b_sub", lambda tf, x, y: tf.subtract(x, y), np.subtract, [I, J], broadcast=True),
    Case("b_mul", lambda tf, x, y: tf.multiply(x, y), np.multiply, [F, G], broadcast=True),
    Case("b_realdiv", lambda tf, x, y: tf.realdiv(x, y), np.divide, [F, P], broadcast=True),
    Case("b_truediv_int", lambda tf, x, y: tf.truediv(x, y), lambda x, y: x / y, [I, J], broadcast=True),
    Case("b_floordiv_int", lambda tf, x, y: tf.floordiv(x, y), np.floor_divide, [I, J], broadcast=True,
         bad=[Bad([I, JZ], E.InvalidArgumentError, DIV0), Bad([I, np.int32(0)], E.InvalidArgumentError, DIV0)]),
    Case("b_floordiv_int64", lambda tf, x, y: x // y, np.floor_divide, [L, L[::-1].copy()], broadcast=True,
         bad=[Bad([L, LZ], E.InvalidArgumentError, DIV0)]),
    Case("b_div_int", lambda tf, x, y: tf.div(x, y), np.floor_divide, [I, J], broadcast=True,
         bad=[Bad([I, JZ], E.InvalidArgumentError, DIV0)]),
    Case("b_floordiv_float", lambda tf, x, y: x // y, lambda x, y: np.floor(x / y), [F, P], broadcast=True),
    Case("b_floormod_int", lambda tf, x, y: tf.floormod(x, y), np.mod, [I, J], broadcast=True,
         bad=[Bad([I, JZ], E.InvalidArgumentError, DIV0), Bad([L, LZ], E.InvalidArgumentError, DIV0)]),
    Case("b_floormod_float", lambda tf, x, y: x % y, np.mod, [F, P], 1e-5, broadcast=True),
    Case("b_truncatediv_int", lambda tf, x, y: tf.truncatediv(x, y), trunc_div, [I, J], broadcast=True,
         bad=[Bad([I, JZ], E.InternalError, TRUNC0)]),
    Case("b_truncatemod_int", lambda tf, x, y: tf.truncatemod(x, y), np.fmod, [I, J], broadcast=True,
         bad=[Bad([I, JZ], E.InternalError, TRUNC0)]),
    Case("b_pow_float", lambda tf, x, y: tf.pow(x, y), np.power, [P, G], 1e-5, broadcast=True),
    Case("b_pow_int", lambda tf, x, y: tf.pow(x, y), np.power, [I, np.abs(J) % 4], broadcast=True,
         bad=[Bad([I, J], E.InvalidArgumentError, "Integers to negative integer powers are not allowed")]),
    Case("b_atan2", lambda tf, x, y: tf.atan2(x, y), np.arctan2, [F, G], 1e-6, broadcast=True),
    Case("b_squared_difference", lambda tf, x, y: tf.squared_difference(x, y), lambda x, y: (x - y) ** 2,
         [F, G], 1e-5, broadcast=True),
    Case("b_maximum", lambda tf, x, y: tf.maximum(x, y), np.maximum, [F, G], broadcast=True),
    Case("b_minimum", lambda tf, x, y: tf.minimum(x, y), np.minimum, [I, J], broadcast=True),
    Case("b_less", lambda tf, x, y: x < y, np.less, [F, G], broadcast=True),
    Case("b_less_equal", lambda tf, x, y: x <= y, np.less_equal, [I, J], broadcast=True),
    Case("b_greater", lambda tf, x, y: tf.greater(x, y), np.greater, [F, G], broadcast=True),
    Case("b_greater_equal", lambda tf, x, y: x >= y, np.greater_equal, [I, J], broadcast=True),
    Case("b_equal", lambda tf, x, y: tf.equal(x, y), np.equal, [I, J], broadcast=True),
    Case("b_not_equal", lambda tf, x, y: tf.not_equal(x, y), np.not_equal, [F, G], broadcast=True),
    Case("b_logical_and", lambda tf, x, y: tf.logical_and(x, y), np.logical_and, [B1, B2], broadcast=True),
    Case("b_logical_or", lambda tf, x, y: x | y, np.logical_or, [B1, B2], broadcast=True),
    Case("b_bitwise_and", lambda tf, x, y: x & y, np.bitwise_and, [I, J], broadcast=True),
    Case("b_bitwise_or", lambda tf, x, y: x | y, np.bitwise_or, [I, J], broadcast=True),
    Case("b_bitwise_xor", lambda tf, x, y: x ^ y, np.bitwise_xor, [I, J], broadcast=True),
    Case("b_div_no_nan", lambda tf, x, y: tf.math.divide_no_nan(x, y),
         lambda x, y: where_zero(y == 0, x / np.where(y == 0, 1, y)), [F, GZ], broadcast=True),
    Case("b_xlogy", lambda tf, x, y: tf.math.xlogy(x, y), lambda x, y: where_zero(x == 0, x * np.log(y)),
         [F * (F > 0), P], 1e-6, broadcast=True),
    Case("b_xdivy", lambda tf, x, y: tf.math.xdivy(x, y), lambda x, y: where_zero(x == 0, x / y),
         [F * (F > 0), P], 1e-6, broadcast=True),
]

SINGULAR = np.zeros((3, 3), np.float32)

# Ops whose TF kernels validate run-time values or shapes: one good line (values) + TF's errors.
VALIDATING = [
    Case("range_fed_delta", lambda tf, d: tf.range(0, 5, d), lambda d: np.arange(0, 5, d, dtype=np.int32),
         [np.int32(2)], static=False,
         bad=[Bad([np.int32(0)], E.InvalidArgumentError, "Requires delta != 0: 0"),
              Bad([np.int32(-1)], E.InvalidArgumentError, "Requires start >= limit when delta < 0: 0/5")]),
    Case("range_fed_limit", lambda tf, n: tf.range(5, n), lambda n: np.arange(5, n, dtype=np.int32),
         [np.int32(7)], static=False,
         bad=[Bad([np.int32(1)], E.InvalidArgumentError, "Requires start <= limit when delta > 0: 5/1"),
              Bad([np.array([1, 2], np.int32)], ValueError, "Shape must be rank 0 but is rank 1", at="build")]),
    Case("cast_int_to_float", lambda tf, x: tf.cast(x, tf.float32), lambda x: x.astype(np.float32), [I],
         bad=[Bad([np.array([b"1.5"], object)], E.UnimplementedError, "Cast string to float is not supported")]),
    Case("cast_float_to_int64", lambda tf, x: tf.cast(x, tf.int64), lambda x: x.astype(np.int64), [F],
         bad=[Bad([np.array([b"1"], object)], E.UnimplementedError, "Cast string to int64 is not supported")]),
    Case("reduce_sum_fed_axis", lambda tf, x, a: tf.reduce_sum(x, a), lambda x, a: x.sum(int(a)), [F, np.int32(1)],
         1e-5, static=False,
         bad=[Bad([F, np.int32(2)], E.InvalidArgumentError, "Invalid reduction dimension (2 for input with 2 "
                                                             "dimension(s)"),
              Bad([F, np.int32(-3)], E.InvalidArgumentError, "Invalid reduction dimension (-3 for input with 2")]),
    Case("reduce_max_fed_axis", lambda tf, x, a: tf.reduce_max(x, a), lambda x, a: x.max(int(a)), [I, np.int32(0)],
         static=False, bad=[Bad([I, np.int32(5)], E.InvalidArgumentError, "Invalid reduction dimension (5")]),
    Case("argmax_fed_axis", lambda tf, x, a: tf.argmax(x, a), lambda x, a: x.argmax(int(a)), [F, np.int32(1)],
         static=False,
         bad=[Bad([F, np.int32(2)], E.InvalidArgumentError, "Expected dimension in the range [-2, 2), but got 2"),
              Bad([np.zeros((0, 3), np.float32), np.int32(0)], E.InvalidArgumentError,
                  "Reduction axis 0 is empty in shape [0,3]")]),
    Case("cumsum_fed_axis", lambda tf, x, a: tf.cumsum(x, a), lambda x, a: np.cumsum(x, int(a), dtype=np.int32), [I, np.int32(1)],
         static=False,
         bad=[Bad([I, np.int32(2)], E.InvalidArgumentError, "ScanOp: Expected scan axis in the range [-2, 2), but "
                                                             "got 2"),
              Bad([I, np.int32(-3)], E.InvalidArgumentError, "ScanOp: Expected scan axis in the range [-2, 2), but "
                                                              "got -1")]),
    Case("unsorted_segment_sum_fed_ids", lambda tf, x, i: tf.math.unsorted_segment_sum(x, i, 4),
         lambda x, i: seg_sum(x, i, 4), [F, np.array([2, 0, 3], np.int32)],
         bad=[Bad([F, np.array([2, 0, 4], np.int32)], E.InvalidArgumentError, "segment_ids[2] = 4 is out of range "
                                                                             "[0, 4)"),
              Bad([F, np.array([0, 1], np.int32)], E.InvalidArgumentError,
                  "data.shape = [3,4] does not start with segment_ids.shape = [2]")]),
    Case("unsorted_segment_max_fed_ids", lambda tf, x, i: tf.math.unsorted_segment_max(x, i, 3),
         lambda x, i: np.stack([x[i == k].max(0) for k in range(3)]), [F, np.array([2, 0, 1], np.int32)],
         bad=[Bad([F, np.array([2, 7, 1], np.int32)], E.InvalidArgumentError, "segment_ids[1] = 7 is out of range "
                                                                             "[0, 3)")]),
    Case("unsorted_segment_num_segments", lambda tf, x, n: tf.math.unsorted_segment_sum(x, [0, 0, 1], n),
         lambda x, n: seg_sum(x, [0, 0, 1], int(n)), [F, np.int32(2)], static=False,
         bad=[Bad([F, np.int32(-1)], E.InvalidArgumentError, "Input num_segments == -1 must not be negative.")]),
    Case("invert_permutation_fed", lambda tf, p: tf.invert_permutation(p), lambda p: np.argsort(p).astype(np.int32),
         [np.array([3, 0, 2, 1], np.int32)],
         bad=[Bad([np.array([3, 0, 3, 1], np.int32)], E.InvalidArgumentError, "3 is duplicated in the input."),
              Bad([np.array([3, 0, 4, 1], np.int32)], E.InvalidArgumentError, "4 is not between 0 and 4")]),
    Case("matmul_fed", lambda tf, a, b: tf.matmul(a, b), lambda a, b: a @ b, [F, G.T.copy()], 1e-5,
         bad=[Bad([F, G], E.InvalidArgumentError, "Matrix size-incompatible: In[0]: [3,4], In[1]: [3,4]"),
              Bad([F, G[0]], ValueError, "Shape must be rank 2 but is rank 1", at="build")]),
    Case("batch_matmul_fed", lambda tf, a, b: tf.matmul(a, b), np.matmul, [BATCH, BATCH2], 1e-5,
         bad=[Bad([BATCH, np.ones((3, 4, 5), np.float32)], E.InvalidArgumentError,
                  "In[0] and In[1] must have compatible batch dimensions: [2,3,4] vs. [3,4,5]"),
              Bad([BATCH, BATCH], E.InvalidArgumentError,
                  "Matrix size-incompatible: In[0]: [2,3,4], In[1]: [2,3,4] 0 0")]),
    Case("matrix_inverse_fed", lambda tf, x: tf.matrix_inverse(x), np.linalg.inv, [SQ], 1e-4,
         bad=[Bad([SINGULAR], E.InvalidArgumentError, "Input is not invertible."),
              Bad([F], E.InvalidArgumentError, "Input matrix must be square."),
              Bad([F[0]], ValueError, "Shape must be at least rank 2 but is rank 1", at="build")]),
    Case("matrix_solve_fed", lambda tf, a, b: tf.matrix_solve(a, b), np.linalg.solve, [SQ, F[:, :3].copy()], 1e-4,
         bad=[Bad([SINGULAR, F[:, :3].copy()], E.InvalidArgumentError, "Input matrix is not invertible."),
              Bad([SQ, F.T.copy()], E.InvalidArgumentError, "Input matrix and rhs are incompatible."),
              Bad([F, F], E.InvalidArgumentError, "First input (lhs) must be a square matrix.")]),
    Case("matrix_determinant_fed", lambda tf, x: tf.matrix_determinant(x), lambda x: np.float32(np.linalg.det(x)),
         [SQ], 1e-4, bad=[Bad([F], E.InvalidArgumentError, "Input matrix must be square.")]),
    Case("cholesky_fed", lambda tf, x: tf.cholesky(x), np.linalg.cholesky, [SPD], 1e-4,
         bad=[Bad([F], E.InvalidArgumentError, "Input matrix must be square.")]),
    Case("triangular_solve_fed", lambda tf, a, b: tf.linalg.triangular_solve(a, b),
         lambda a, b: np.linalg.solve(np.tril(a), b), [np.tril(SQ), F[:, :3].copy()], 1e-4,
         bad=[Bad([np.tril(SQ), F.T.copy()], E.InvalidArgumentError,
                  "In[0] mismatch In[1] shape: 3 vs. 4: [3,3] [4,3] 1 0"),
              Bad([F, F], E.InvalidArgumentError, "In[0] matrices in the last dimensions must be square (4 =/= 3)")]),
    Case("band_part_fed", lambda tf, x, n: tf.linalg.band_part(x, n, 0), lambda x, n: np.tril(np.triu(x, -int(n))),
         [F, np.int64(1)], static=False,
         bad=[Bad([F, np.int64(5)], E.InvalidArgumentError, "num_lower must be negative or less or equal to number "
                                                             "of rows (3) got: 5")]),
    Case("cross_fed", lambda tf, a, b: tf.linalg.cross(a, b), np.cross, [F[:, :3].copy(), G[:, :3].copy()], 1e-6,
         bad=[Bad([F, G], E.FailedPreconditionError, "Cross-products are only defined for 3-element vectors."),
              Bad([F[:, :3].copy(), G[:2, :3].copy()], E.InvalidArgumentError,
                  "Both inputs must be of same shape: [3,3] vs. [2,3]")]),
    Case("einsum_fed", lambda tf, a, b: tf.einsum("ij,jk->ik", a, b), lambda a, b: a @ b, [F, G.T.copy()], 1e-5,
         bad=[Bad([F, G], E.InvalidArgumentError, "Expected dimension 4 at axis 0 of the input shaped [3,4] but got "
                                                  "dimension 3")]),
    Case("top_k_fed_k", lambda tf, x, k: tf.nn.top_k(x, k).values, lambda x, k: -np.sort(-x, 1)[:, :int(k)],
         [F, np.int32(2)], static=False,
         bad=[Bad([F, np.int32(5)], E.InvalidArgumentError, "input must have at least k columns. Had 4, needed 5"),
              Bad([F, np.int32(-1)], E.InvalidArgumentError, "Need k >= 0, got -1")]),
    Case("select_fed", lambda tf, c, x, y: tf.where(c, x, y), np.where, [B1, F, G],
         bad=[Bad([B1[:2], F, G], E.InvalidArgumentError, "Inputs to operation Select of type Select must have the "
                                                          "same size and shape.  Input 0: [2,4] != input 1: [3,4]"),
              Bad([B1[:, 0], F[:2], G[:2]], E.InvalidArgumentError,
                  "Number of batches of 'then' must match size of 'cond', but saw: 2 vs. 3")]),
]


@pytest.mark.parametrize("case", BINARY + VALIDATING, ids=str)
def test_binary_and_validating_ops(case):
    check(case)


ALL_TABLES = ELEMENTWISE + COMPARISON_LOGIC + CASTS + REDUCTIONS + RANGES + LINALG + SORTS + SPECIAL + BINARY + VALIDATING


@pytest.mark.parametrize("case", broadcast_cases(ALL_TABLES), ids=str)
def test_broadcasting(case):
    check_broadcast(case)


@pytest.mark.parametrize("case, bad", bad_cases(ALL_TABLES))
def test_bad_inputs(case, bad):
    check_bad(case, bad)


@pytest.mark.parametrize("case", SPECIAL, ids=str)
def test_special_math_and_more_linalg(case):
    check(case)


@pytest.mark.parametrize("case", ELEMENTWISE + COMPARISON_LOGIC + CASTS, ids=str)
def test_elementwise(case):
    check(case)


@pytest.mark.parametrize("case", REDUCTIONS + RANGES, ids=str)
def test_reductions_scans_ranges(case):
    check(case)


@pytest.mark.parametrize("case", LINALG + SORTS, ids=str)
def test_linalg_and_sort(case):
    check(case)


# ------------------------------------------------------------------------------------------------
# Names, dtype rules, errors
# ------------------------------------------------------------------------------------------------
def _ops(graph=None):
    return [(op.name, op.type) for op in (graph or tf.get_default_graph()).get_operations()]


def test_operator_and_builder_names():
    x = tf.placeholder(tf.float32, [2], name="x")
    b = x > 0.0
    outs = [x + 1.0, x - x, x * 2.0, x / 2.0, x // 2.0, x % 2.0, x ** 2.0, -x, abs(x), x < 1.0, x <= 1.0,
            x >= 1.0, ~b, b & b, b | b, tf.div(x, x), tf.floordiv(x, x), tf.mod(x, x), tf.pow(x, x)]
    assert [t.op.name for t in outs] == [
        "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "Neg", "Abs", "Less", "LessEqual",
        "GreaterEqual", "LogicalNot", "and", "or", "div", "floordiv_1", "FloorMod", "Pow_1"]  # names are case-insensitive
    assert [t.op.type for t in outs[:9]] == ["AddV2", "Sub", "Mul", "RealDiv", "FloorDiv", "FloorMod", "Pow",
                                             "Neg", "Abs"]
    assert outs[0].op.inputs[1].op.name == "add/y"
    assert (x == x) is True and (x != x) is False  # identity comparisons, as TF1


def test_python_scalars_take_the_tensor_dtype():
    x = tf.placeholder(tf.int64, [])
    assert (x + 1).dtype == tf.int64 and (2 * x).dtype == tf.int64
    d = tf.placeholder(tf.float64, [])
    assert (d * 0.5).dtype == tf.float64 and (1 - d).dtype == tf.float64
    # TF's `+` converts 1.5 with x's dtype as a hint only: AddV2's type check then refuses the float32.
    with pytest.raises(TypeError, match="Input 'y' of 'AddV2' Op has type float32 that does not match type int64"):
        x + 1.5


def test_no_implicit_promotion():
    a, b = tf.constant(1), tf.constant(1.0)
    with pytest.raises(TypeError, match=r"Input 'y' of 'Mul' Op has type float32 that does not match type "
                                        r"int32 of argument 'x'\."):
        a * b
    with pytest.raises(TypeError, match="has DataType bool not in list of allowed values"):
        tf.sqrt(tf.constant(True))


def test_matmul_dimension_error_text():
    a = tf.placeholder(tf.float32, [2, 3])
    b = tf.placeholder(tf.float32, [4, 5])
    with pytest.raises(ValueError) as e:
        tf.matmul(a, b)
    assert str(e.value) == ("Dimensions must be equal, but are 3 and 4 for 'MatMul' (op: 'MatMul') with input "
                            "shapes: [2,3], [4,5].")
    with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 3 and 5 for 'MatMul_1' \(op: "
                                         r"'BatchMatMulV2'\)"):
        tf.matmul(tf.zeros([2, 2, 3]), tf.zeros([2, 5, 2]))


def test_shape_errors():
    with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 3 and 4 for 'add' \(op: 'AddV2'\)"):
        tf.zeros([3]) + tf.zeros([4])
    with pytest.raises(ValueError, match="Invalid reduction dimension 2 for input with 2 dimensions"):
        tf.reduce_sum(tf.zeros([2, 3]), 2)
    with pytest.raises(ValueError, match="Requires start <= limit when delta > 0: 5/1"):
        tf.range(5, 1)
    with pytest.raises(ValueError, match=r"Shapes must be equal rank, but are 2 and 1"):
        tf.add_n([tf.zeros([2, 3]), tf.zeros([3])])
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
        tf.matrix_inverse(tf.zeros([2, 3]))
    with pytest.raises(ValueError, match="Cannot specify both 'axis' and 'reduction_indices'"):
        tf.reduce_sum(tf.zeros([2]), axis=0, reduction_indices=0)


def test_cast_is_noop_for_same_dtype_and_truediv_int_table():
    x = tf.placeholder(tf.float32, [2])
    assert tf.cast(x, tf.float32) is x
    i = tf.constant([1, 2], dtype=tf.int16)
    assert (i / i).dtype == tf.float32
    assert tf.divide(tf.constant(1), tf.constant(2)).dtype == tf.float64


def test_reduction_over_unknown_rank_and_shapes():
    x = tf.placeholder(tf.float32)
    s = tf.reduce_sum(x)
    assert s.op.inputs[1].op.type == "Range"
    y = tf.placeholder(tf.float32, [None, 3])
    assert tf.reduce_max(y, 0).shape.as_list() == [3]
    assert tf.argmax(y, 1).shape.as_list() == [None]
    with tf.Session() as sess:
        assert sess.run(s, {x: np.ones((2, 2, 2))}) == 8.0


def test_namespaces():
    assert tf.math.reduce_sum is tf.reduce_sum and tf.math.add is tf.add
    assert tf.linalg.matmul is tf.matmul
    a = tf.constant([[2.0, 0.0], [0.0, 4.0]])
    with tf.Session() as sess:
        inv, det, dg, tr = sess.run([tf.linalg.inv(a), tf.linalg.det(a), tf.linalg.diag([1.0, 2.0]),
                                     tf.linalg.trace(a)])
    np.testing.assert_allclose(inv, [[0.5, 0], [0, 0.25]])
    assert det == pytest.approx(8.0) and tr == 6.0
    np.testing.assert_array_equal(dg, [[1, 0], [0, 2]])


def test_shape_arithmetic_stays_static_under_jit():
    """A Range/Reshape size computed in-graph from a static shape must not become a tracer."""
    x = tf.placeholder(tf.float32, [4, 3])
    n = tf.shape(x)[0] * 2
    r = tf.range(n)
    y = tf.reshape(x, tf.stack([tf.shape(x)[1], -1]))
    with tf.Session() as sess:
        for _ in range(3):
            rv, yv = sess.run([r, y], {x: np.zeros((4, 3), np.float32)})
        np.testing.assert_array_equal(rv, np.arange(8))
        assert yv.shape == (3, 4)


def test_ops_without_shape_function_use_abstract_evaluation():
    """lowering/abstract.py: an op without `shape=` gets its static shape from jax.eval_shape of its rule."""
    import jax.numpy as jnp
    from graphcompat.framework.registry import apply_op, defop, unregister
    from lowering.registry import lowers
    for name in ("GcTestTileRows", "GcTestDot"):
        unregister(name)  # the registry is process-wide and refuses a second definition
    defop("GcTestTileRows", "x: T, n: int32 -> y: T")
    lowers("GcTestTileRows")(lambda x, n, **_: jnp.tile(x, (int(n), 1)))
    defop("GcTestDot", "x: T, y: T -> z: T")
    lowers("GcTestDot")(lambda x, y, **_: jnp.matmul(x, y))
    a = tf.placeholder(tf.float32, [None, 3])
    assert apply_op("GcTestTileRows", [a, 2]).shape.as_list() == [None, 3]   # unknown dims stay unknown
    assert apply_op("GcTestTileRows", [tf.zeros([2, 3]), 3]).shape.as_list() == [6, 3]  # static value used
    assert apply_op("GcTestDot", [a, tf.zeros([3, 2])]).shape.as_list() == [None, 2]
    assert apply_op("GcTestDot", [tf.placeholder(tf.float32), a]).shape.ndims is None
    with pytest.raises(ValueError, match=r"for 'GcTestDot_\d' \(op: 'GcTestDot'\) with input shapes: \[2,3\], \[4,2\]"):
        apply_op("GcTestDot", [tf.zeros([2, 3]), tf.zeros([4, 2])])


def test_maximum_minimum_tie_gradients_and_nans_as_tf():
    """TF routes the gradient of Maximum/Minimum at ties to x (jnp splits it); NaNs propagate."""
    import jax
    import jax.numpy as jnp
    from lowering.registry import get_rule
    maximum, minimum = get_rule("Maximum").fn, get_rule("Minimum").fn
    x = jnp.array([1.0, 2.0, 3.0], jnp.float32)
    two = jnp.float32(2.0)
    np.testing.assert_array_equal(jax.grad(lambda v: jnp.sum(maximum(v, two)))(x), [0, 1, 1])
    np.testing.assert_array_equal(jax.grad(lambda v: jnp.sum(minimum(v, two)))(x), [1, 1, 0])
    nan = np.float32("nan")
    assert np.isnan(np.asarray(maximum(jnp.array([nan, 1.0]), jnp.array([1.0, nan])))).all()
    assert np.isnan(np.asarray(minimum(jnp.array([nan, 1.0]), jnp.array([1.0, nan])))).all()


def test_empty_shapes_and_empty_reductions_as_tf():
    assert tf.zeros([0]).shape.as_list() == [0] and tf.ones([2, 0]).shape.as_list() == [2, 0]
    with tf.Session() as sess:
        got = sess.run([tf.reduce_max(tf.zeros([0])), tf.reduce_min(tf.zeros([0], tf.int32)),
                        tf.reduce_max(tf.zeros([2, 0]), 1)])
    assert got[0] == -np.inf and got[1] == np.iinfo(np.int32).max and got[2].tolist() == [-np.inf, -np.inf]


# NaN, infinities and values past every integer type's range, cast from each float type: graphcompat's one
# definition (TF's x86 vectorized kernel: through int32's "integer indefinite" INT_MIN, saturated into the
# narrow types) gives the same bits op by op (the first run), compiled (later runs) and folded at build time.
_OUT_OF_RANGE = [np.nan, np.inf, -np.inf, 1e30, -1e30, 3e9, -3e9, 70000.5, -70000.5, 255.7, 256.0, -1.5, 127.5,
                 -128.9, 32767.9, -32768.9, 65535.5, 2.5]
_INDEFINITE = {  # what each entry above becomes, per destination type (float32 source)
    "int8": [-128, -128, -128, -128, -128, -128, -128, 127, -128, 127, 127, -1, 127, -128, 127, -128, 127, 2],
    "uint8": [0, 0, 0, 0, 0, 0, 0, 255, 0, 255, 255, 0, 127, 0, 255, 0, 255, 2],
    "int16": [-32768, -32768, -32768, -32768, -32768, -32768, -32768, 32767, -32768, 255, 256, -1, 127, -128, 32767,
              -32768, 32767, 2],
    "uint16": [0, 0, 0, 0, 0, 0, 0, 65535, 0, 255, 256, 0, 127, 0, 32767, 0, 65535, 2],
}


@pytest.mark.parametrize("src", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("dst", ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"])
def test_out_of_range_float_to_int_casts_agree_across_tiers(src, dst):
    with np.errstate(over="ignore"):  # float16 has no 3e9: inf, as TF's would
        values = np.array(_OUT_OF_RANGE, np.float64).astype(src)
    with tf.Graph().as_default():
        fed = tf.placeholder(tf.as_dtype(src), [len(values)])
        cast = tf.cast(fed, getattr(tf, dst))
        folded = tf.cast(tf.constant(values), getattr(tf, dst))
        with tf.Session() as sess:
            runs = [sess.run(cast, {fed: values}) for _ in range(3)]  # op by op, then compiled
            constant = sess.run(folded)
    for got in runs[1:] + [constant]:
        np.testing.assert_array_equal(got, runs[0])
    assert runs[0].dtype == np.dtype(dst)
    if src is np.float32 and dst in _INDEFINITE:
        np.testing.assert_array_equal(runs[0], np.array(_INDEFINITE[dst], dst))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_sums_accumulate_in_float32_in_every_tier(dtype):
    """4096 values near 5: a sum accumulated in bfloat16 sticks at 4096 (its spacing there is 32); TF's and
    XLA's reductions accumulate in float32 (~20,450), and so must the op-by-op first run."""
    values = (np.random.RandomState(0).rand(4096) * 10).astype(tf.as_dtype(dtype).as_numpy_dtype)
    want = np.float32(values.astype(np.float32).sum())
    with tf.Graph().as_default():
        x = tf.placeholder(tf.as_dtype(dtype), [4096])
        total = tf.reduce_sum(x)
        with tf.Session() as sess:
            runs = [sess.run(total, {x: values}) for _ in range(3)]  # op by op, then compiled
    for got in runs:
        assert abs(float(got) - float(want)) <= 0.01 * float(want)
