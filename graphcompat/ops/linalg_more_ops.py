"""More of `tf.linalg`: cholesky_solve, lstsq (matrix_solve_ls), LU (lu, lu_solve, lu_reconstruct,
lu_matrix_inverse), matrix_rank, pinv, normalize, expm, sqrtm, tridiagonal solve/matmul.

Composites are built as TF 2.21 builds them (tensorflow/python/ops/linalg_ops.py, linalg/linalg_impl.py:
scopes, op types, the least-squares composite/kernel choice); Lu, MatrixSolveLs, MatrixSquareRoot,
MatrixExponential, TridiagonalSolve and TridiagonalMatMul are one op each, lowered in
lowering/rules/linalg_more.py. `expm` is TF's Padé composite in TF; here it is one MatrixExponential op
(the value agrees to float rounding; the graph has one node instead of TF's ~100).
"""
from __future__ import annotations

import collections
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop

_LINALG = (_dt.float64, _dt.float32, _dt.float16, _dt.complex64, _dt.complex128)
_TRIDIAG = (_dt.float64, _dt.float32, _dt.complex64, _dt.complex128)

Lu = collections.namedtuple("Lu", ["lu", "p"])


def _square(ctx: InferenceContext, i: int = 0) -> list:
    s = ctx.shape(i)
    if s.ndims is None:
        return None
    if s.ndims < 2:
        raise ctx.error(f"Shape must be at least rank 2 but is rank {s.ndims}")
    d = s.as_list()
    if d[-1] is not None and d[-2] is not None and d[-1] != d[-2]:
        raise ctx.error(f"Dimensions must be equal, but are {d[-2]} and {d[-1]}")
    return d


def _lu_shape(ctx: InferenceContext):
    d = _square(ctx)
    if d is None:
        return [_ts.unknown_shape(), _ts.unknown_shape()]
    return [_ts.TensorShape(d), _ts.TensorShape(d[:-1])]


def _same_square_shape(ctx: InferenceContext):
    d = _square(ctx)
    return [_ts.unknown_shape() if d is None else _ts.TensorShape(d)]


def _solve_ls_shape(ctx: InferenceContext):
    a, b = ctx.shape(0), ctx.shape(1)
    if a.ndims is None or b.ndims is None:
        return [_ts.unknown_shape()]
    if a.ndims < 2 or b.ndims < 2:
        raise ctx.error(f"Shape must be at least rank 2 but is rank {min(a.ndims, b.ndims)}")
    if a.ndims != b.ndims:
        raise ctx.error(f"Shape must be rank {a.ndims} but is rank {b.ndims}")
    da, db = a.as_list(), b.as_list()
    if da[-2] is not None and db[-2] is not None and da[-2] != db[-2]:
        raise ctx.error(f"Dimensions must be equal, but are {da[-2]} and {db[-2]}")
    batch = _ts.TensorShape(da[:-2]).merge_with(_ts.TensorShape(db[:-2]))
    return [batch.concatenate([da[-1], db[-1]])]


defop("Lu", "input: T -> lu: T, p: output_idx_type", attrs={"output_idx_type": _dt.int32},
      types={"T": (_dt.float64, _dt.float32, _dt.float16, _dt.complex64, _dt.complex128),
             "output_idx_type": (_dt.int32, _dt.int64)}, shape=_lu_shape)
defop("MatrixSolveLs", "matrix: T, rhs: T, l2_regularizer: float64 -> output: T", attrs={"fast": True},
      types={"T": _LINALG}, shape=_solve_ls_shape)
defop("MatrixSquareRoot", "input: T -> output: T", types={"T": _LINALG}, shape=_same_square_shape)
defop("MatrixExponential", "input: T -> output: T", types={"T": _LINALG}, shape=_same_square_shape)
defop("MatrixLogarithm", "input: T -> output: T", shape=_same_square_shape)  # T: complex only, as TF
defop("TridiagonalSolve", "diagonals: T, rhs: T -> output: T", attrs={"partial_pivoting": True,
                                                                     "perturb_singular": False},
      types={"T": _TRIDIAG})
defop("TridiagonalMatMul", "superdiag: T, maindiag: T, subdiag: T, rhs: T -> output: T", types={"T": _TRIDIAG})


def cholesky_solve(chol, rhs, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.linalg.cholesky_solve`: solves A X = rhs given A's Cholesky factor (two triangular solves)."""
    with _ops.name_scope(name, "cholesky_solve", [chol, rhs]):
        y = apply_op("MatrixTriangularSolve", [chol, rhs], {"adjoint": False, "lower": True})
        return apply_op("MatrixTriangularSolve", [chol, y], {"adjoint": True, "lower": True})


def _regularized_gramian_cholesky(matrix, l2_regularizer, first_kind: bool):
    from graphcompat.ops import array_ops
    from graphcompat.ops.linalg_ops import cholesky, eye, matmul
    gramian = matmul(matrix, matrix, adjoint_a=first_kind, adjoint_b=not first_kind)
    if isinstance(l2_regularizer, _ops.Tensor) or l2_regularizer != 0:
        shape = array_ops.shape(matrix)
        small_dim = shape[-1] if first_kind else shape[-2]
        identity = eye(small_dim, batch_shape=shape[:-2], dtype=matrix.dtype)
        static = matrix.shape[-1 if first_kind else -2]
        identity.set_shape(matrix.shape[:-2].concatenate([static, static]))
        gramian += l2_regularizer * identity
    return cholesky(gramian)


def lstsq(matrix, rhs, l2_regularizer=0.0, fast: bool = True, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.linalg.lstsq` / `tf.matrix_solve_ls`: least squares (regularized normal equations when `fast`,
    the minimum-norm solution otherwise). Like TF, small fast problems are a Cholesky composite and large
    batched ones (or fast=False) the MatrixSolveLs kernel."""
    from graphcompat.ops.linalg_ops import matmul
    matrix = convert_to_tensor(matrix, name="matrix")
    if matrix.dtype.base_dtype == _dt.complex128 and l2_regularizer != 0:
        raise NotImplementedError("matrix_solve_ls is currently disabled for complex128 and l2_regularizer != 0 "
                                  "due to poor accuracy.")
    shape = matrix.shape
    composite = bool(fast)
    if composite and shape.is_fully_defined():
        size = shape.num_elements() * np.dtype(matrix.dtype.base_dtype.as_numpy_dtype).itemsize
        io_bound = _ts.TensorShape(shape[:-2]).num_elements() > np.min(shape.as_list()[-2:])
        composite = not (size > 256000 and io_bound)
    matrix_shape = shape[-2:] if shape.ndims is not None else _ts.unknown_shape()
    if composite and matrix_shape.is_fully_defined():
        with _ops.name_scope(name, "matrix_solve_ls", [matrix, rhs, l2_regularizer]):
            if matrix_shape[-2] >= matrix_shape[-1]:
                chol = _regularized_gramian_cholesky(matrix, l2_regularizer, first_kind=True)
                return cholesky_solve(chol, matmul(matrix, rhs, adjoint_a=True))
            chol = _regularized_gramian_cholesky(matrix, l2_regularizer, first_kind=False)
            return matmul(matrix, cholesky_solve(chol, rhs), adjoint_a=True)
    # TF picks the branch with a tf.cond when the matrix dims are unknown; the kernel computes the same.
    with _ops.name_scope(name, "MatrixSolveLs", [matrix, rhs, l2_regularizer]) as scope:
        l2 = convert_to_tensor(l2_regularizer, dtype=_dt.float64, name="l2_regularizer")
        return apply_op("MatrixSolveLs", [matrix, rhs, l2], {"fast": bool(fast)}, name=scope)


def lu(input, output_idx_type=_dt.int32, name: Optional[str] = None) -> Lu:  # noqa: A002
    """`tf.linalg.lu`: packed L\\U factors and the row permutation p with input[p] = L @ U."""
    out = apply_op("Lu", [input], {"output_idx_type": _dt.as_dtype(output_idx_type)}, name=name)
    return Lu(*out)


def _unit_lower(lower_upper):
    from graphcompat.ops import array_ops
    from graphcompat.ops.linalg_extra_ops import band_part
    from graphcompat.ops.linalg_ops import matrix_set_diag
    return matrix_set_diag(band_part(lower_upper, -1, 0),
                           array_ops.ones(array_ops.shape(lower_upper)[:-1], dtype=lower_upper.dtype))


def _permute_rows(x, perm):
    """x[..., perm, :] for equal batch shapes (TF broadcasts batch shapes; here they must match)."""
    from graphcompat.ops.indexing_ops import gather
    rank = x.shape.ndims
    if rank is None:
        raise NotImplementedError("tf.linalg.lu_solve/lu_reconstruct of inputs of unknown rank")
    return gather(x, perm, axis=rank - 2, batch_dims=rank - 2)


def lu_solve(lower_upper, perm, rhs, validate_args: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.linalg.lu_solve`: solves A X = rhs from `tf.linalg.lu(A)`'s factors."""
    from graphcompat.ops.linalg_extra_ops import triangular_solve
    with _ops.name_scope(name or "lu_solve"):
        lower_upper = convert_to_tensor(lower_upper, dtype_hint=_dt.float32, name="lower_upper")
        perm = convert_to_tensor(perm, dtype_hint=_dt.int32, name="perm")
        rhs = convert_to_tensor(rhs, dtype_hint=lower_upper.dtype, name="rhs")
        if rhs.shape.ndims is not None and perm.shape.ndims is not None and \
                rhs.shape.ndims != perm.shape.ndims + 1:
            raise NotImplementedError("tf.linalg.lu_solve with rhs and perm of different batch shapes")
        permuted_rhs = _permute_rows(rhs, perm)
        lower = _unit_lower(lower_upper)
        return triangular_solve(lower_upper, triangular_solve(lower, permuted_rhs), lower=False)


def lu_reconstruct(lower_upper, perm, validate_args: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.linalg.lu_reconstruct`: the matrix A whose `tf.linalg.lu` factors are given."""
    from graphcompat.ops.linalg_extra_ops import band_part
    from graphcompat.ops.linalg_ops import matmul
    from graphcompat.ops.special_math_ops import invert_permutation
    with _ops.name_scope(name or "lu_reconstruct"):
        lower_upper = convert_to_tensor(lower_upper, dtype_hint=_dt.float32, name="lower_upper")
        perm = convert_to_tensor(perm, dtype_hint=_dt.int32, name="perm")
        x = matmul(_unit_lower(lower_upper), band_part(lower_upper, 0, -1))
        if perm.shape.ndims == 1:
            from graphcompat.ops.indexing_ops import gather
            x = gather(x, invert_permutation(perm))
        else:
            # TF maps invert_permutation over the batch; the argsort of a permutation is its inverse.
            from graphcompat.ops.sort_ops import argsort
            x = _permute_rows(x, argsort(perm, axis=-1))
        x.set_shape(lower_upper.shape)
        return x


def lu_matrix_inverse(lower_upper, perm, validate_args: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.linalg.lu_matrix_inverse`: inv(A) from `tf.linalg.lu(A)`'s factors."""
    from graphcompat.ops import array_ops
    from graphcompat.ops.linalg_ops import eye
    with _ops.name_scope(name or "lu_matrix_inverse"):
        lower_upper = convert_to_tensor(lower_upper, dtype_hint=_dt.float32, name="lower_upper")
        perm = convert_to_tensor(perm, dtype_hint=_dt.int32, name="perm")
        shape = array_ops.shape(lower_upper)
        return lu_solve(lower_upper, perm, rhs=eye(shape[-1], batch_shape=shape[:-2], dtype=lower_upper.dtype))


def matrix_rank(a, tol=None, validate_args: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.linalg.matrix_rank`: the number of singular values above tol (default eps * max(m, n) * s_max)."""
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ops.linalg_extra_ops import svd
    with _ops.name_scope(name or "matrix_rank"):
        a = convert_to_tensor(a, dtype_hint=_dt.float32, name="a")
        s = svd(a, compute_uv=False)
        if tol is None:
            if a.shape[-2:].is_fully_defined():
                m = np.max(a.shape[-2:].as_list())
            else:
                m = math_ops.reduce_max(array_ops.shape(a)[-2:])
            eps = np.finfo(a.dtype.as_numpy_dtype).eps
            tol = eps * math_ops.cast(m, a.dtype) * math_ops.reduce_max(s, axis=-1, keepdims=True)
        return math_ops.reduce_sum(math_ops.cast(s > tol, _dt.int32), axis=-1)


def pinv(a, rcond=None, validate_args: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.linalg.pinv`: the Moore-Penrose pseudo-inverse through the SVD (TF's cutoff rule)."""
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ops.linalg_extra_ops import svd
    from graphcompat.ops.linalg_ops import matmul
    with _ops.name_scope(name or "pinv"):
        a = convert_to_tensor(a, name="a")
        dtype = a.dtype.as_numpy_dtype
        if rcond is None:
            rows, cols = a.shape[-2], a.shape[-1]
            rows = rows if rows is not None else array_ops.shape(a)[-2]
            cols = cols if cols is not None else array_ops.shape(a)[-1]
            if isinstance(rows, int) and isinstance(cols, int):
                max_rows_cols = float(max(rows, cols))
            else:
                max_rows_cols = math_ops.cast(math_ops.maximum(rows, cols), dtype)
            rcond = 10. * max_rows_cols * np.finfo(dtype).eps
        rcond = convert_to_tensor(rcond, dtype=dtype, name="rcond")
        s, u, v = svd(a, full_matrices=False, compute_uv=True)
        cutoff = rcond * math_ops.reduce_max(s, axis=-1)
        s = math_ops.where_v2(s > array_ops.expand_dims(cutoff, -1), s, np.array(np.inf, dtype))
        a_pinv = matmul(v / array_ops.expand_dims(s, -2), u, adjoint_b=True)
        if a.shape.ndims is not None:
            a_pinv.set_shape(a.shape[:-2].concatenate([a.shape[-1], a.shape[-2]]))
        return a_pinv


def normalize(tensor, ord="euclidean", axis=None, name: Optional[str] = None):
    """`tf.linalg.normalize`: (tensor / norm, norm), the norm kept with its reduced dims."""
    from graphcompat.ops import math_ops
    from graphcompat.ops.linalg_extra_ops import norm as _norm
    with _ops.name_scope(name, "normalize", [tensor]):
        tensor = convert_to_tensor(tensor)
        n = math_ops.cast(_norm(tensor, ord, axis, keepdims=True), tensor.dtype)
        return tensor / n, n


def expm(input, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.linalg.expm`: the matrix exponential (one MatrixExponential op; see the module note)."""
    with _ops.name_scope(name, "matrix_exponential", [input]):
        x = convert_to_tensor(input, name="input")
        return apply_op("MatrixExponential", [x])


def sqrtm(input, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.linalg.sqrtm` / `tf.matrix_square_root`: the principal matrix square root."""
    return apply_op("MatrixSquareRoot", [input], name=name)


def logm(input, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.linalg.logm`: the principal matrix logarithm of complex matrices (TF's raw MatrixLogarithm op)."""
    return apply_op("MatrixLogarithm", [input], name=name)


def _compact_from_matrix(m):
    """[..., 3, M]: superdiag[i] = A[i, i+1] (last entry 0), main, subdiag[i] = A[i, i-1] (first entry 0):
    one band MatrixDiagPartV3, as TF reads a 'matrix' format."""
    from graphcompat.ops.linalg_ops import matrix_diag_part
    m1, m2 = _ts.dimension_value(m.shape[-1]) if m.shape.ndims else None, \
        _ts.dimension_value(m.shape[-2]) if m.shape.ndims else None
    if m1 and m2 and m1 != m2:
        raise ValueError(f"Expected last two dimensions of diagonals to be same, got {m1} and {m2}")
    return matrix_diag_part(m, k=(-1, 1), padding_value=0., align="LEFT_RIGHT")


def tridiagonal_solve(diagonals, rhs, diagonals_format: str = "compact", transpose_rhs: bool = False,
                      conjugate_rhs: bool = False, name: Optional[str] = None, partial_pivoting: bool = True,
                      perturb_singular: bool = False) -> _ops.Tensor:
    """`tf.linalg.tridiagonal_solve` in its three diagonal formats ('compact', 'sequence', 'matrix')."""
    from graphcompat.ops import array_ops
    from graphcompat.ops.linalg_ops import matrix_transpose
    from graphcompat.ops.math_ops import conj
    rhs = convert_to_tensor(rhs)
    if diagonals_format == "compact":
        diagonals = convert_to_tensor(diagonals)
        batch_rank = None if diagonals.shape.ndims is None else diagonals.shape.ndims - 1
    elif diagonals_format == "sequence":
        if not isinstance(diagonals, (list, tuple)) or len(diagonals) != 3:
            raise ValueError("Expected diagonals to be a sequence of length 3.")
        superdiag, maindiag, subdiag = [convert_to_tensor(d) for d in diagonals]
        batch_rank = maindiag.shape.ndims
        diagonals = array_ops.stack([superdiag, maindiag, subdiag], axis=-2)
    elif diagonals_format == "matrix":
        diagonals = convert_to_tensor(diagonals)
        batch_rank = None if diagonals.shape.ndims is None else diagonals.shape.ndims - 1
        diagonals = _compact_from_matrix(diagonals)
    else:
        raise ValueError(f"Unrecognized diagonals_format: {diagonals_format}")
    if transpose_rhs:
        rhs = matrix_transpose(rhs)
    if conjugate_rhs:
        rhs = conj(rhs)
    vector = rhs.shape.ndims is not None and rhs.shape.ndims == batch_rank
    if vector:
        rhs = array_ops.expand_dims(rhs, -1)
    if diagonals.shape.ndims is not None and diagonals.shape.ndims < 2:
        raise ValueError(f"Expected diagonals to have rank at least 2, got {diagonals.shape.ndims}")
    if diagonals.shape.ndims is not None and diagonals.shape[-2] is not None and diagonals.shape[-2] != 3:
        raise ValueError(f"Expected 3 diagonals got {diagonals.shape[-2]}")
    out = apply_op("TridiagonalSolve", [diagonals, rhs], {"partial_pivoting": bool(partial_pivoting),
                                                          "perturb_singular": bool(perturb_singular)}, name=name)
    return array_ops.squeeze(out, -1) if vector else out


def tridiagonal_matmul(diagonals, rhs, diagonals_format: str = "compact",
                       name: Optional[str] = None) -> _ops.Tensor:
    """`tf.linalg.tridiagonal_matmul`: A @ rhs for tridiagonal A given by its diagonals."""
    from graphcompat.ops import array_ops
    if diagonals_format == "compact":
        diagonals = convert_to_tensor(diagonals)
        superdiag, maindiag, subdiag = diagonals[..., 0, :], diagonals[..., 1, :], diagonals[..., 2, :]
    elif diagonals_format == "sequence":
        superdiag, maindiag, subdiag = [convert_to_tensor(d) for d in diagonals]
    elif diagonals_format == "matrix":
        d = _compact_from_matrix(convert_to_tensor(diagonals))
        superdiag, maindiag, subdiag = d[..., 0, :], d[..., 1, :], d[..., 2, :]
    else:
        raise ValueError(f"Unrecognized diagonals_format: {diagonals_format}")
    superdiag = array_ops.expand_dims(superdiag, -2)
    maindiag = array_ops.expand_dims(maindiag, -2)
    subdiag = array_ops.expand_dims(subdiag, -2)
    return apply_op("TridiagonalMatMul", [superdiag, maindiag, subdiag, convert_to_tensor(rhs)], name=name)


__all__ = ["cholesky_solve", "lstsq", "lu", "lu_solve", "lu_reconstruct", "lu_matrix_inverse", "matrix_rank", "pinv",
           "normalize", "expm", "sqrtm", "tridiagonal_solve", "tridiagonal_matmul"]
