"""Lowerings of graphcompat/ops/linalg_more_ops.py: Lu, MatrixSolveLs, MatrixSquareRoot, MatrixExponential,
TridiagonalSolve, TridiagonalMatMul. Dtypes explicit (rules run with x64 enabled).
"""
from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
from jax import lax, vmap

from graphcompat.framework import errors
from lowering.registry import lowers


def _np_dtype(dtype) -> np.dtype:
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype))


def _check_square(x, what: str = "Input") -> None:
    if np.ndim(x) < 2 or np.shape(x)[-1] != np.shape(x)[-2]:
        raise errors.InvalidArgumentError(None, None, f"{what} must be a square matrix.")


@lowers("Lu")
def lu(x, *, output_idx_type, **_):
    # LAPACK getrf (partial pivoting), as TF's kernel: x[p] = L @ U with L unit lower triangular.
    _check_square(x, "input")
    lu_, _, perm = lax.linalg.lu(jnp.asarray(x))
    return lu_, perm.astype(_np_dtype(output_idx_type))


@lowers("MatrixSolveLs")
def matrix_solve_ls(a, b, l2, *, fast=True, **_):
    a, b = jnp.asarray(a), jnp.asarray(b)
    if np.shape(a)[-2] != np.shape(b)[-2]:
        raise errors.InvalidArgumentError(None, None, "Input matrix and right-hand side must have the same number "
                                          "of rows.")
    dtype = a.dtype
    if not fast:
        # TF's fast=False path: the minimum-norm least-squares solution (complete orthogonal decomposition);
        # l2_regularizer is ignored there. The pseudo-inverse gives the same solution.
        return jnp.matmul(jnp.linalg.pinv(a), b).astype(dtype)
    m, n = np.shape(a)[-2:]
    ah = jnp.conj(jnp.swapaxes(a, -1, -2))
    reg = jnp.asarray(l2).astype(dtype)
    if m >= n:
        gram = ah @ a + reg * jnp.eye(n, dtype=dtype)
        c = jnp.linalg.cholesky(gram)
        return jsl.cho_solve((c, True), ah @ b).astype(dtype)
    gram = a @ ah + reg * jnp.eye(m, dtype=dtype)
    c = jnp.linalg.cholesky(gram)
    return (ah @ jsl.cho_solve((c, True), b)).astype(dtype)


@lowers("MatrixSquareRoot")
def matrix_square_root(x, **_):
    # The principal square root through the Schur form (TF's kernel uses Eigen's real Schur method).
    _check_square(x)
    x = jnp.asarray(x)
    dtype = x.dtype
    if np.shape(x)[-1] == 0:
        return x
    fn = jsl.sqrtm
    for _ in range(x.ndim - 2):
        fn = vmap(fn)
    out = fn(x)
    return (out if jnp.iscomplexobj(x) else jnp.real(out)).astype(dtype)


@lowers("MatrixExponential")
def matrix_exponential(x, **_):
    _check_square(x)
    x = jnp.asarray(x)
    if np.shape(x)[-1] == 0:
        return x
    return jsl.expm(x).astype(x.dtype)


# Gauss-Legendre nodes and weights on [0, 1]: log(I + X) = integral_0^1 X (I + t X)^-1 dt, the [8/8] Padé
# approximant of log(1 + x), exact to double precision for ||X||_1 <= 0.25 (Higham's theta_8 > 0.25)
_LOG_NODES, _LOG_WEIGHTS = np.polynomial.legendre.leggauss(8)
_LOG_NODES, _LOG_WEIGHTS = (_LOG_NODES + 1) / 2, _LOG_WEIGHTS / 2
_MAX_SQUARE_ROOTS = 64


def _logm(a):
    """Inverse scaling and squaring: square roots (Schur) until ||A^(1/2^k) - I||_1 <= 1/4, then the
    quadrature above, times 2^k. A matrix with no principal logarithm (a zero eigenvalue: the roots never
    approach I, or become NaN) gives NaN, as TF's kernel (Eigen's MatrixLogarithm) does."""
    eye = jnp.eye(a.shape[-1], dtype=a.dtype)

    def distance(x):
        return jnp.max(jnp.sum(jnp.abs(x - eye), axis=0))

    def more(state):
        k, x = state
        return (k < _MAX_SQUARE_ROOTS) & (distance(x) > 0.25)

    k, x = lax.while_loop(more, lambda s: (s[0] + 1, jsl.sqrtm(s[1]).astype(a.dtype)), (jnp.int32(0), a))
    d = x - eye
    log = sum(w * jnp.linalg.solve(eye + t * d, d) for t, w in zip(_LOG_NODES, _LOG_WEIGHTS))
    log = log * jnp.exp2(k.astype(jnp.float64)).astype(a.dtype)
    return jnp.where(distance(x) <= 0.25, log, jnp.full_like(log, complex(np.nan, np.nan)))


@lowers("MatrixLogarithm")
def matrix_logarithm(x, **_):
    _check_square(x)
    x = jnp.asarray(x)
    if np.shape(x)[-1] == 0:
        return x
    fn = _logm
    for _ in range(x.ndim - 2):
        fn = vmap(fn)
    # in complex128 whatever T is: TF's complex64 kernel is accurate to complex64's precision
    return fn(x.astype(jnp.complex128)).astype(x.dtype)


@lowers("TridiagonalSolve")
def tridiagonal_solve(diagonals, rhs, *, partial_pivoting=True, perturb_singular=False, **_):
    d = jnp.asarray(diagonals)
    b = jnp.asarray(rhs)
    if np.shape(d)[-2] != 3:
        raise errors.InvalidArgumentError(None, None, f"Expected 3 diagonals got {np.shape(d)[-2]}")
    if np.shape(d)[-1] != np.shape(b)[-2]:
        raise errors.InvalidArgumentError(None, None, "Expected number of equations to match the number of rows "
                                          f"of rhs, got {np.shape(d)[-1]} and {np.shape(b)[-2]}")
    m = np.shape(d)[-1]
    if m == 0:
        return b
    # compact layout: superdiag (last entry unused), main, subdiag (first entry unused)
    zero = jnp.zeros(np.shape(d)[:-2] + (1,), d.dtype)
    du = jnp.concatenate([d[..., 0, :-1], zero], axis=-1)
    dm = d[..., 1, :]
    dl = jnp.concatenate([zero, d[..., 2, 1:]], axis=-1)
    # XLA's tridiagonal solver is the Thomas algorithm (no pivoting): TF's partial pivoting gives the same
    # solution for diagonally dominant / well-conditioned systems.
    return lax.linalg.tridiagonal_solve(dl, dm, du, b.astype(d.dtype))


@lowers("TridiagonalMatMul")
def tridiagonal_matmul(superdiag, maindiag, subdiag, rhs, **_):
    sup, main, sub = (jnp.asarray(v)[..., 0, :, None] for v in (superdiag, maindiag, subdiag))
    b = jnp.asarray(rhs)
    if np.shape(b)[-2] != np.shape(main)[-2]:
        raise errors.InvalidArgumentError(None, None, "Expected the number of rows of rhs to match the length of "
                                          "the diagonals")
    out = main * b
    if np.shape(b)[-2] > 1:
        zero = jnp.zeros_like(b[..., :1, :])
        below = jnp.concatenate([b[..., 1:, :], zero], axis=-2)   # b[i + 1]
        above = jnp.concatenate([zero, b[..., :-1, :]], axis=-2)  # b[i - 1]
        out = out + sup * below + sub * above
    return out
