"""Lowerings of linear-algebra ops (graphcompat/ops/linalg_ops.py)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.interpreter import require
from lowering.registry import lowers
from lowering.rules.checks import datatype_name, invalid, no_kernel, shape_str


def _check_matmul(a, b, adj_a: bool, adj_b: bool, batch: bool = True) -> None:
    """TF's MatMul/BatchMatMul kernel checks (BatchMatMul's message ends with its adjoint flags)."""
    for i, x in enumerate((a, b)):
        if np.ndim(x) < 2:
            raise invalid(f"In[{i}] ndims must be >= 2: {np.ndim(x)}")
    sa, sb = np.shape(a), np.shape(b)
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise invalid(f"In[0] and In[1] must have compatible batch dimensions: {shape_str(sa)} vs. "
                      f"{shape_str(sb)}") from None
    if sa[-2 if adj_a else -1] != sb[-1 if adj_b else -2]:
        flags = f" {int(adj_a)} {int(adj_b)}" if batch else ""
        raise invalid(f"Matrix size-incompatible: In[0]: {shape_str(sa)}, In[1]: {shape_str(sb)}{flags}")


def _square_matrices(x, what: str = "Input matrix must be square.") -> None:
    """TF's LinearAlgebraOp checks: rank >= 2 and square inner matrices."""
    if np.ndim(x) < 2:
        raise invalid(f"Input tensor 0 must have rank >= 2, got {np.ndim(x)}")
    if np.shape(x)[-1] != np.shape(x)[-2]:
        raise invalid(what)


def _lu(x):
    """LU with partial pivoting, and TF's invertibility test on it: no exactly-zero pivot (as Eigen's
    PartialPivLU in TF's MatrixInverse/MatrixSolve kernels)."""
    lu, pivots, _ = jax.lax.linalg.lu(jnp.asarray(x))
    invertible = jnp.all(jnp.abs(jnp.diagonal(lu, axis1=-2, axis2=-1)) > 0)
    return lu, pivots, invertible


def _adjoint(x):
    return jnp.conj(jnp.swapaxes(x, -1, -2))


# The types TF's CPU build registers MatMul and BatchMatMulV2 kernels for, in the order its "No OpKernel was
# registered" error lists them. Both OpDefs also allow uint8/16/32/64 (and BatchMatMulV2 int16 too, MatMul
# not): such a graph builds in TF, and its run fails with that error.
_MATMUL_CPU = ("INT64", "INT32", "INT16", "DOUBLE", "FLOAT", "BFLOAT16", "HALF", "COMPLEX128", "COMPLEX64")
_MATMUL_GPU = ("DOUBLE", "FLOAT", "BFLOAT16", "HALF", "COMPLEX128", "COMPLEX64")


def _require_matmul_kernel(op) -> None:
    if datatype_name(op.attrs["T"]) in _MATMUL_CPU:
        return
    cpu = [f"device='CPU'; T in [DT_{t}]" for t in _MATMUL_CPU]
    gpu = [f"device='GPU'; T in [DT_{t}]" for t in _MATMUL_GPU]
    # MatMul's registrations list the CPU kernels first, BatchMatMulV2's the GPU ones
    raise no_kernel(op, cpu + gpu if op.type == "MatMul" else gpu + cpu)


@lowers("MatMul", context=True)
def mat_mul(ctx, op, a, b):
    _require_matmul_kernel(op)
    transpose_a, transpose_b = op.attrs["transpose_a"], op.attrs["transpose_b"]
    _check_matmul(a, b, transpose_a, transpose_b, batch=False)
    a = a.T if transpose_a else a
    b = b.T if transpose_b else b
    return jnp.matmul(a, b, preferred_element_type=jnp.result_type(a))


@lowers("BatchMatMulV2", context=True)
def batch_mat_mul(ctx, op, x, y):
    _require_matmul_kernel(op)
    adj_x, adj_y = op.attrs["adj_x"], op.attrs["adj_y"]
    _check_matmul(x, y, adj_x, adj_y)
    x = _adjoint(x) if adj_x else x
    y = _adjoint(y) if adj_y else y
    return jnp.matmul(x, y, preferred_element_type=jnp.result_type(x))


# TF's CPU kernels of BatchMatMulV3 (Ta, Tb, Tout), in the order its "No OpKernel" error lists them.
_V3_CPU = [("UINT8", "BFLOAT16", "BFLOAT16"), ("INT8", "BFLOAT16", "BFLOAT16"), ("BFLOAT16", "UINT8", "BFLOAT16"),
           ("BFLOAT16", "INT8", "BFLOAT16"), ("UINT8", "UINT8", "INT32"), ("INT8", "UINT8", "INT32"),
           ("UINT8", "INT8", "INT32"), ("INT8", "INT8", "INT32")] + \
    [(t, t, t) for t in ("INT64", "INT32", "INT16", "DOUBLE", "FLOAT", "BFLOAT16", "COMPLEX128", "COMPLEX64")]
_V3_GPU = [(t, t, t) for t in ("BFLOAT16", "DOUBLE", "FLOAT", "HALF", "COMPLEX128", "COMPLEX64")]


@lowers("BatchMatMulV3", context=True)
def batch_mat_mul_v3(ctx, op, x, y):
    """x (Ta) @ y (Tb) -> Tout, for the type triples TF's CPU build has kernels for (mixed int8/uint8
    products accumulate in int32; bfloat16 with int8/uint8 in float32); others fail as TF's CPU build."""
    ta, tb, tout = (op.inputs[0].dtype, op.inputs[1].dtype, op.attrs["Tout"])
    adj_x, adj_y = op.attrs["adj_x"], op.attrs["adj_y"]
    if (datatype_name(ta), datatype_name(tb), datatype_name(tout)) not in _V3_CPU:
        raise no_kernel(op, [f"device='CPU'; Ta in [DT_{a}]; Tb in [DT_{b}]; Tout in [DT_{o}]" for a, b, o in _V3_CPU]
                        + [f"device='GPU'; Ta in [DT_{a}]; Tb in [DT_{b}]; Tout in [DT_{o}]" for a, b, o in _V3_GPU])
    _check_matmul(x, y, adj_x, adj_y, batch=False)  # TF's V3 kernels name no adjoint flags
    out_dtype = np.dtype(tout.as_numpy_dtype)
    x = _adjoint(x) if adj_x else x
    y = _adjoint(y) if adj_y else y
    if ta != tb and datatype_name(tout) == "BFLOAT16":
        # bfloat16 with int8/uint8: a float32 accumulation, rounded once; TF's kernel may round sums
        # beyond bfloat16's 8 bits differently (one unit in the last place)
        x, y = jnp.asarray(x).astype(out_dtype), jnp.asarray(y).astype(out_dtype)
        return jnp.matmul(x, y, preferred_element_type=jnp.float32).astype(out_dtype)
    # the same types, or int8/uint8 pairs accumulated (and returned) in int32
    return jnp.matmul(jnp.asarray(x).astype(out_dtype), jnp.asarray(y).astype(out_dtype),
                      preferred_element_type=out_dtype)


@lowers("Diag")
def diag(d, **_):
    d = jnp.asarray(d)
    n = d.size
    return jnp.diag(d.reshape(-1)).reshape(d.shape * 2) if n else jnp.zeros(d.shape * 2, d.dtype)


@lowers("DiagPart")
def diag_part(x, **_):
    rank, shape = np.ndim(x), np.shape(x)
    if rank == 0 or rank % 2:
        raise invalid("The rank of the tensor should be" + " " * 42 + f"even and positive, got shape {shape_str(shape)}")
    for i in range(rank // 2):
        if shape[i] != shape[i + rank // 2]:
            raise invalid(f"Invalid shape {shape_str(shape)}: dimensions {i} and {i + rank // 2} do not match.")
    x = jnp.asarray(x)
    half = x.ndim // 2
    shape = x.shape[:half]
    n = int(np.prod(shape, dtype=np.int64))
    return jnp.diagonal(x.reshape(n, n)).reshape(shape)


def _diag_index(rows, cols, k):
    """Row/column indices of diagonal k (TF's RIGHT_LEFT alignment for a single diagonal is trivial)."""
    length = min(rows + min(k, 0), cols - max(k, 0))
    i = np.arange(max(length, 0))
    return i - min(k, 0), i + max(k, 0)


def _matrix_diag_band(diagonal, lower: int, upper: int, num_rows: int, num_cols: int, padding_value, align: str):
    """MatrixDiagV3 of a band k=(lower, upper): `diagonal[..., i, :]` holds diagonal `upper - i`, each
    shorter one padded at its end (left-aligned) or start (right-aligned) as `align` says for super- and
    subdiagonals; the main diagonal is left-aligned if either side is."""
    if lower > upper:
        raise invalid(f"lower_diag_index must not be larger than upper_diag_index: {lower} > {upper}")
    num_diags = upper - lower + 1
    if diagonal.ndim < 2 or diagonal.shape[-2] != num_diags:
        raise invalid("The number of diagonals provided in the input does not match the lower_diag_index and "
                      "upper_diag_index range.")
    max_len = diagonal.shape[-1]
    # the smallest matrix holding the band where a size is -1 (square when both are), as TF's kernel
    rows, cols = num_rows, num_cols
    min_rows, min_cols = max_len - min(upper, 0), max_len + max(lower, 0)
    if rows == -1 and cols == -1:
        rows = cols = max(min_rows, min_cols)
    elif rows == -1:
        rows = min_rows
    elif cols == -1:
        cols = min_cols
    if rows != min_rows and cols != min_cols:
        raise invalid("The number of rows or columns is not consistent with the specified d_lower, d_upper, and "
                      "diagonal.")
    out = jnp.full(diagonal.shape[:-2] + (rows, cols), padding_value, diagonal.dtype)
    return _write_band(out, diagonal, lower, upper, align)


def _write_band(out, diagonal, lower: int, upper: int, align: str):
    """`out` with the band k = (lower, upper) set from `diagonal`, whose row i is diagonal `upper - i`,
    each aligned as MatrixDiagV3/MatrixSetDiagV3 `align` says (LEFT: its first element first; RIGHT: padded
    at the start to the longest diagonal's length)."""
    rows, cols, max_len = out.shape[-2], out.shape[-1], diagonal.shape[-1]
    left_super = align in ("LEFT_LEFT", "LEFT_RIGHT")
    left_sub = align in ("LEFT_LEFT", "RIGHT_LEFT")
    for i, d in enumerate(range(upper, lower - 1, -1)):
        r, c = _diag_index(rows, cols, d)
        left = (d >= 0 and left_super) or (d <= 0 and left_sub)
        offset = 0 if left else max_len - len(r)
        out = out.at[..., r, c].set(diagonal[..., i, offset:offset + len(r)])
    return out


@lowers("MatrixDiagV3")
def matrix_diag(diagonal, k, num_rows, num_cols, padding_value, align="RIGHT_LEFT", **_):
    diagonal = jnp.asarray(diagonal)
    lower, upper = (np.reshape(np.asarray(k), [-1]).tolist() * 2)[:2]
    if lower != upper:
        return _matrix_diag_band(diagonal, int(lower), int(upper), int(num_rows), int(num_cols), padding_value,
                                 align)
    k = int(lower)
    n = diagonal.shape[-1] + abs(k)
    rows = int(num_rows) if int(num_rows) != -1 else n
    cols = int(num_cols) if int(num_cols) != -1 else n
    out = jnp.full(diagonal.shape[:-1] + (rows, cols), padding_value, diagonal.dtype)
    r, c = _diag_index(rows, cols, k)
    return out.at[..., r, c].set(diagonal[..., :len(r)])


def _at_least_matrix(x) -> None:
    if np.ndim(x) < 2:
        raise invalid(f"input must be at least 2-dim, received shape: {shape_str(np.shape(x))}")


def _matrix_diag_part_band(x, lower: int, upper: int, padding_value, align: str):
    """MatrixDiagPartV3 of a band k=(lower, upper): row i is diagonal `upper - i`, shorter ones padded
    with `padding_value` after (left-aligned) or before (right-aligned) it, as MatrixDiagV3 reads them."""
    if lower > upper:
        raise invalid(f"lower_diag_index must not be larger than upper_diag_index: {lower} > {upper}")
    rows, cols = x.shape[-2], x.shape[-1]
    for which, index in (("lower", lower), ("upper", upper)):
        if index != 0 and not -rows < index < cols:
            raise invalid(f"{which}_diag_index is out of bound: {index}. It must be between {-rows} and {cols}")
    max_len = min(rows + min(upper, 0), cols - max(lower, 0))
    left_super = align in ("LEFT_LEFT", "LEFT_RIGHT")
    left_sub = align in ("LEFT_LEFT", "RIGHT_LEFT")
    out = []
    for d in range(upper, lower - 1, -1):
        r, c = _diag_index(rows, cols, d)
        pad = max_len - len(r)
        left = (d >= 0 and left_super) or (d <= 0 and left_sub)
        widths = [(0, 0)] * (x.ndim - 2) + [(0, pad) if left else (pad, 0)]
        out.append(jnp.pad(x[..., r, c], widths, constant_values=padding_value))
    return jnp.stack(out, axis=-2)


@lowers("MatrixDiagPartV3")
def matrix_diag_part(x, k, padding_value, align="RIGHT_LEFT", **_):
    _at_least_matrix(x)
    lower, upper = (np.reshape(np.asarray(k), [-1]).tolist() * 2)[:2]
    if lower != upper:
        return _matrix_diag_part_band(jnp.asarray(x), int(lower), int(upper), padding_value, align)
    k = int(lower)
    r, c = _diag_index(x.shape[-2], x.shape[-1], k)
    return jnp.asarray(x)[..., r, c]


@lowers("MatrixSetDiagV3")
def matrix_set_diag(x, diagonal, k, *, align="RIGHT_LEFT", **_):
    """Diagonal k, or the band k = (lower, upper) whose row i of `diagonal` is diagonal `upper - i`, aligned
    as MatrixDiagV3 reads them."""
    _at_least_matrix(x)
    lower, upper = (np.reshape(np.asarray(k), [-1]).tolist() * 2)[:2]
    lower, upper = int(lower), int(upper)
    rows, cols = np.shape(x)[-2], np.shape(x)[-1]
    if lower != upper:
        if lower > upper:
            raise invalid(f"lower_diag_index must not be larger than upper_diag_index: {lower} > {upper}")
        max_len = min(rows + min(upper, 0), cols - max(lower, 0))
        expected = np.shape(x)[:-2] + (upper - lower + 1, max_len)
    else:
        expected = np.shape(x)[:-2] + (len(_diag_index(rows, cols, lower)[0]),)
    if np.shape(diagonal) != expected:
        raise invalid("Either first dimensions of diagonal don't match input.shape[:-2], or diagonal.shape[:-1] is "
                      "not equal to the longests diagonal in range [lower_diag_index:upper_diag_index].\nInput "
                      f"shape: {shape_str(np.shape(x))}\nDiagonal shape: {shape_str(np.shape(diagonal))}\nExpected "
                      f"diagonal shape: {shape_str(expected)}")
    out = jnp.asarray(x)
    if lower == upper:
        r, c = _diag_index(rows, cols, lower)
        return out.at[..., r, c].set(diagonal)
    return _write_band(out, jnp.asarray(diagonal), lower, upper, align)


@lowers("MatrixDeterminant")
def det(x, **_):
    _square_matrices(x)
    return jnp.linalg.det(x)


@lowers("MatrixInverse")
def inv(x, *, adjoint=False, **_):
    _square_matrices(x)
    x = _adjoint(x) if adjoint else jnp.asarray(x)
    if x.shape[-1] == 0:
        return x
    lu, pivots, invertible = _lu(x)
    require(invertible, errors.InvalidArgumentError, "Input is not invertible.")
    eye = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=x.dtype), x.shape)
    return jax.scipy.linalg.lu_solve((lu, pivots), eye)


@lowers("Cholesky")
def cholesky(x, **_):
    # TF 2.x's CPU kernel does not report a failed decomposition (non-positive-definite input gives NaNs).
    _square_matrices(x)
    return jnp.linalg.cholesky(x)


@lowers("MatrixSolve")
def solve(matrix, rhs, *, adjoint=False, **_):
    if np.ndim(matrix) < 2:
        raise invalid(f"Input tensor 0 must have rank >= 2, got {np.ndim(matrix)}")
    if np.ndim(rhs) < 2:
        raise invalid(f"Input tensor 1 must have rank >= 2, got {np.ndim(rhs)}")
    if np.shape(matrix)[:-2] != np.shape(rhs)[:-2]:
        raise invalid("All input tensors must have the same outer dimensions.")
    _square_matrices(matrix, "First input (lhs) must be a square matrix.")
    if np.shape(rhs)[-2] != np.shape(matrix)[-1]:
        raise invalid("Input matrix and rhs are incompatible.")
    matrix = _adjoint(matrix) if adjoint else jnp.asarray(matrix)
    if matrix.shape[-1] == 0:
        return jnp.asarray(rhs)
    lu, pivots, invertible = _lu(matrix)
    require(invertible, errors.InvalidArgumentError, "Input matrix is not invertible.")
    return jax.scipy.linalg.lu_solve((lu, pivots), rhs)


# --- linalg_extra_ops ------------------------------------------------------------------------------
@lowers("MatrixBandPart")
def band_part(x, num_lower, num_upper, **_):
    x = jnp.asarray(x)
    if x.ndim < 2:
        raise invalid(f"input must be at least 2-dim, received shape: {shape_str(x.shape)}")
    m, n = x.shape[-2:]
    lower, upper = int(np.asarray(num_lower)), int(np.asarray(num_upper))
    if lower > m:
        raise invalid(f"num_lower must be negative or less or equal to number of rows ({m}) got: {lower}")
    if upper > n:
        raise invalid(f"num_upper must be negative or less or equal to number of columns ({n}) got: {upper}")
    i, j = np.arange(m)[:, None], np.arange(n)[None, :]
    keep = ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))
    return jnp.where(keep, x, jnp.zeros((), x.dtype))


def _check_einsum_sizes(equation: str, inputs) -> None:
    """TF's EinsumOp: every label has one size across the operands (ellipsis dims broadcast)."""
    sizes: dict = {}
    for subscripts, x in zip(equation.split("->")[0].split(","), inputs):
        shape = np.shape(x)
        head, _, tail = subscripts.strip().partition("...")
        axes = list(enumerate(head)) + [(len(shape) - len(tail) + i, c) for i, c in enumerate(tail)]
        for axis, label in axes:
            if label in sizes and sizes[label] != shape[axis]:
                raise invalid(f"Expected dimension {sizes[label]} at axis {axis} of the input shaped "
                              f"{shape_str(shape)} but got dimension {shape[axis]}")
            sizes.setdefault(label, shape[axis])


@lowers("Einsum")
def einsum(*inputs, equation, **_):
    _check_einsum_sizes(equation, inputs)
    return jnp.einsum(equation, *inputs, preferred_element_type=jnp.result_type(inputs[0]))


@lowers("LogMatrixDeterminant")
def slogdet(x, **_):
    _square_matrices(x)
    sign, log_abs = jnp.linalg.slogdet(x)
    return sign.astype(jnp.result_type(x)), log_abs.astype(jnp.result_type(x))


@lowers("Qr")
def qr(x, *, full_matrices=False, **_):
    if np.ndim(x) < 2:
        raise invalid(f"Input tensor 0 must have rank >= 2, got {np.ndim(x)}")
    return tuple(jnp.linalg.qr(x, mode="complete" if full_matrices else "reduced"))


@lowers("Svd")
def svd(x, *, compute_uv=True, full_matrices=False, **_):
    if np.ndim(x) < 2:
        raise invalid(f"Input tensor 0 must have rank >= 2, got {np.ndim(x)}")
    x = jnp.asarray(x)
    if not compute_uv:
        empty = jnp.zeros((0,), x.dtype)
        return jnp.linalg.svd(x, compute_uv=False).astype(x.dtype), empty, empty
    u, s, vh = jnp.linalg.svd(x, full_matrices=full_matrices)
    return s.astype(x.dtype), u, _adjoint(vh)  # TF returns v, not v^H


@lowers("SelfAdjointEigV2")
def eigh(x, *, compute_v=True, **_):
    _square_matrices(x)
    # TF's kernel reads the lower triangle only, and its gradient is lower-triangular (tril(G + G^H) with the
    # diagonal halved): both follow from eigh of the Hermitian matrix the lower triangle defines.
    x = jnp.asarray(x)
    x = jnp.tril(x) + _adjoint(jnp.tril(x, -1))
    e, v = jnp.linalg.eigh(x, symmetrize_input=False)
    e = e.astype(jnp.result_type(x))
    return (e, v) if compute_v else (e, jnp.zeros((0,), jnp.result_type(x)))


@lowers("MatrixTriangularSolve")
def triangular_solve(matrix, rhs, *, lower=True, adjoint=False, **_):
    from jax.scipy.linalg import solve_triangular
    for i, x in enumerate((matrix, rhs)):
        if np.ndim(x) < 2:
            raise invalid(f"In[{i}] ndims must be >= 2: {np.ndim(x)}")
    sm, sr = np.shape(matrix), np.shape(rhs)
    if sm[-1] != sm[-2]:
        raise invalid(f"In[0] matrices in the last dimensions must be square ({sm[-1]} =/= {sm[-2]})")
    if sm[-1] != sr[-2]:
        raise invalid(f"In[0] mismatch In[1] shape: {sm[-1]} vs. {sr[-2]}: {shape_str(sm)} {shape_str(sr)} "
                      f"{int(lower)} {int(adjoint)}")
    return solve_triangular(matrix, rhs, lower=lower, trans="C" if adjoint else 0)


@lowers("Cross")
def cross(a, b, **_):
    if np.shape(a) != np.shape(b):
        raise invalid(f"Both inputs must be of same shape: {shape_str(np.shape(a))} vs. {shape_str(np.shape(b))}")
    if np.ndim(a) < 1 or np.shape(a)[-1] != 3:
        raise errors.FailedPreconditionError(None, None, "Cross-products are only defined for 3-element vectors.")
    return jnp.cross(a, b)
