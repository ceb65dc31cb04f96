"""More linear algebra: band parts, einsum, norms, log-determinants, QR/SVD/eigh decompositions, triangular
solves, matrix-vector products, cross products. Lowerings in lowering/rules/linalg.py.
"""
from __future__ import annotations

import collections
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, broadcast_shapes, defop, infer_by_lowering
from graphcompat.ops.linalg_ops import LINALG, _square_shape, matmul, matrix_diag_part

__all__ = ["band_part", "einsum", "norm", "slogdet", "logdet", "qr", "svd", "eigh", "eigvalsh", "triangular_solve",
           "matvec", "cross"]

LogMatrixDeterminant = collections.namedtuple("LogMatrixDeterminant", ["sign", "log_abs_determinant"])
Qr = collections.namedtuple("Qr", ["q", "r"])


def _matrix_dims(ctx: InferenceContext, i: int = 0):
    s = ctx.shape(i)
    if s.ndims is None:
        return None
    if s.ndims < 2:
        raise ctx.error(f"Shape must be at least rank 2 but is rank {s.ndims}")
    return s.as_list()


def _triangular_solve_shape(ctx: InferenceContext):
    """TF's MatrixTriangularSolveShapeFn: a square matrix, and batch dimensions that broadcast (unlike
    MatrixSolve's, which must be equal)."""
    m, rhs = _matrix_dims(ctx, 0), _matrix_dims(ctx, 1)
    if m is not None and m[-1] is not None and m[-2] is not None and m[-1] != m[-2]:
        raise ctx.error(f"Dimensions must be equal, but are {m[-2]} and {m[-1]}")
    if m is None or rhs is None:
        return [_ts.unknown_shape()]
    if m[-1] is not None and rhs[-2] is not None and m[-1] != rhs[-2]:
        raise ctx.error(f"Dimensions must be equal, but are {m[-1]} and {rhs[-2]}")
    batch = broadcast_shapes(ctx, _ts.TensorShape(m[:-2]), _ts.TensorShape(rhs[:-2]))
    return [_ts.TensorShape(batch.as_list() + rhs[-2:])]


def _qr_shape(ctx: InferenceContext):
    d = _matrix_dims(ctx)
    if d is None:
        return [_ts.unknown_shape()] * 2
    *batch, m, n = d
    full = ctx.attrs["full_matrices"]
    k = None if m is None or n is None else min(m, n)
    return [_ts.TensorShape(batch + [m, m if full else k]), _ts.TensorShape(batch + [m if full else k, n])]


def _svd_shape(ctx: InferenceContext):
    d = _matrix_dims(ctx)
    if d is None:
        return [_ts.unknown_shape()] * 3
    *batch, m, n = d
    k = None if m is None or n is None else min(m, n)
    s = _ts.TensorShape(batch + [k])
    if not ctx.attrs["compute_uv"]:
        return [s, _ts.TensorShape([0]), _ts.TensorShape([0])]
    full = ctx.attrs["full_matrices"]
    return [s, _ts.TensorShape(batch + [m, m if full else k]), _ts.TensorShape(batch + [n, n if full else k])]


def _eigh_shape(ctx: InferenceContext):
    s = _square_shape(ctx)
    if s.ndims is None:
        return [_ts.unknown_shape()] * 2
    d = s.as_list()
    return [_ts.TensorShape(d[:-1]), s if ctx.attrs["compute_v"] else _ts.TensorShape([0])]


def _einsum_shape(ctx: InferenceContext):
    equation = ctx.attrs["equation"].replace(" ", "")
    if "..." in equation or "->" not in equation:  # implicit outputs, broadcasting: let JAX work it out
        return infer_by_lowering(ctx)
    ins, out = equation.split("->")
    sizes: dict = {}
    for spec, t in zip(ins.split(","), ctx.inputs):
        if t.shape.ndims is None:
            continue
        if len(spec) != t.shape.ndims:
            raise ctx.error(f"Expected input {ins.split(',').index(spec)} to have rank {len(spec)} but got: "
                            f"{t.shape.ndims}")
        for label, dim in zip(spec, t.shape.as_list()):
            if dim is not None:
                if sizes.get(label, dim) != dim and sizes.get(label) != 1 and dim != 1:
                    raise ctx.error(f"Expected dimension {sizes[label]} at axis of the input but got {dim}")
                sizes[label] = max(dim, sizes.get(label, dim)) if label in sizes else dim
    return [_ts.TensorShape([sizes.get(label) for label in out])]


def _cross_shape(ctx: InferenceContext):
    a, b = ctx.shape(0), ctx.shape(1)
    shape = a.merge_with(b) if a.is_compatible_with(b) else None
    if shape is None:
        raise ctx.error("Dimensions must be equal")
    if shape.ndims is not None and shape.as_list()[-1] not in (None, 3):
        raise ctx.error(f"Dimension must be 3 but is {shape.as_list()[-1]}")
    return [shape]


defop("MatrixBandPart", "input: T, num_lower: Tindex, num_upper: Tindex -> band: T",
      types={"Tindex": (_dt.int32, _dt.int64)}, shape=lambda ctx: [ctx.shape(0)])
defop("Einsum", "inputs: N * T -> output: T", shape=_einsum_shape)
defop("LogMatrixDeterminant", "input: T -> sign: T, log_abs_determinant: T", types={"T": LINALG},
      shape=lambda ctx: [_square_shape(ctx, drop=2)] * 2)
defop("Qr", "input: T -> q: T, r: T", attrs={"full_matrices": False}, types={"T": LINALG}, shape=_qr_shape)
defop("Svd", "input: T -> s: T, u: T, v: T", attrs={"compute_uv": True, "full_matrices": False},
      types={"T": LINALG}, shape=_svd_shape)
defop("SelfAdjointEigV2", "input: T -> e: T, v: T", attrs={"compute_v": True}, types={"T": LINALG},
      shape=_eigh_shape)
defop("MatrixTriangularSolve", "matrix: T, rhs: T -> output: T", attrs={"lower": True, "adjoint": False},
      types={"T": LINALG}, shape=_triangular_solve_shape)
defop("Cross", "a: T, b: T -> product: T", types={"T": _dt.REAL_NUMBER_TYPES}, shape=_cross_shape)


def band_part(input, num_lower, num_upper, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("MatrixBandPart", [input, num_lower, num_upper], name=name)


def einsum(equation: str, *inputs, **kwargs) -> _ops.Tensor:
    """`tf.einsum`: one Einsum op under scope `einsum`."""
    name = kwargs.pop("name", None)
    kwargs.pop("optimize", None)
    if kwargs:
        raise TypeError(f"Invalid keyword arguments for this function: {', '.join(sorted(kwargs))}. Expected: name.")
    with _ops.name_scope(name, "einsum", [equation, inputs]) as name:
        inputs = [convert_to_tensor(t) for t in inputs]
        return apply_op("Einsum", [inputs], {"equation": equation.replace(" ", "")}, name="Einsum")


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name: Optional[str] = None, keep_dims=None):
    """`tf.norm`: vector norms (euclidean/2, 1, inf, p > 0) over one axis or all, and matrix norms over a
    pair of axes: 'fro'/'euclidean' (Frobenius), 1 (max column sum), inf (max row sum), 2 (the largest
    singular value, Svd of the tensor with the pair moved last, TF's map_fn/cond composition)."""
    from graphcompat.ops.array_ops import squeeze
    from graphcompat.ops.math_ops import _lookup, abs, conj, pow, reduce_max, reduce_sum, sqrt
    keepdims = bool(_lookup("keepdims", keepdims, "keep_dims", keep_dims))
    is_matrix = isinstance(axis, (tuple, list)) and len(axis) == 2
    if is_matrix:
        axis = tuple(axis)
        if not isinstance(axis[0], int) or not isinstance(axis[1], int) or axis[0] == axis[1]:
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
        supported = ["euclidean", "fro", 1, 2, np.inf]
        if ord not in supported:
            raise ValueError(f"'ord' must be a supported matrix norm in {supported}, got {ord}")
    else:
        if not (isinstance(axis, int) or axis is None):
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
        if ord not in ["euclidean", 1, 2, np.inf] and (isinstance(ord, str) or not np.isreal(ord) or ord <= 0):
            raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
        if axis is not None:
            axis = (axis,)
    with _ops.name_scope(name, "norm", [tensor]):
        x = convert_to_tensor(tensor)
        if ord in ["fro", "euclidean", 2, 2.0]:
            if is_matrix and ord in [2, 2.0]:
                result = _matrix_2_norm(x, axis)
            else:
                result = sqrt(reduce_sum(x * conj(x), axis, keepdims=True))
        else:
            result = abs(x)
            if ord == 1:
                result = reduce_sum(result, None if axis is None else axis[0], keepdims=True)
                if is_matrix:
                    result = reduce_max(result, axis[-1], keepdims=True)
            elif ord == np.inf:
                if is_matrix:
                    result = reduce_sum(result, axis[1], keepdims=True)
                result = reduce_max(result, None if axis is None else axis[0], keepdims=True)
            else:
                result = pow(reduce_sum(pow(result, ord), axis, keepdims=True), 1.0 / ord)
        if not keepdims:
            result = squeeze(result, axis)
        return result


def _matrix_2_norm(x, axis):
    """The spectral norm over `axis` (a pair), kept as two size-1 dims in place: the pair's positive
    indices (map_fn + cond, as TF), a perm moving them last (ListDiff + ConcatV2), Svd(compute_uv=False),
    the max singular value, and the inverse perm (map_fn over SelectV2-positions)."""
    from graphcompat.ops import math_ops
    from graphcompat.ops.array_ops import concat, expand_dims, rank, squeeze, transpose
    from graphcompat.ops.control_flow_ops import cond
    from graphcompat.ops.data_dependent_ops import where_v2
    from graphcompat.ops.functional_ops import map_fn
    from graphcompat.ops.reduction_ops import range as _range
    r = rank(x)
    positive_axis = map_fn(lambda i: cond(i >= 0, lambda: i, lambda: i + r), convert_to_tensor(axis))
    axes = _range(r)
    others = apply_op("ListDiff", [axes, positive_axis], {"out_idx": _dt.int32})[0]
    perm_before = concat([others, positive_axis], axis=0)
    perm_after = map_fn(lambda i: math_ops.cast(squeeze(where_v2(math_ops.equal(perm_before, i))), _dt.int32),
                        axes)
    permed = transpose(x, perm=perm_before)
    s = apply_op("Svd", [permed], {"compute_uv": False, "full_matrices": False})[0]
    largest = expand_dims(math_ops.reduce_max(math_ops.abs(s), axis=-1, keepdims=True), axis=-1)
    return transpose(largest, perm=perm_after)


def slogdet(input, name: Optional[str] = None) -> LogMatrixDeterminant:
    sign, log_abs = apply_op("LogMatrixDeterminant", [input], name=name)
    return LogMatrixDeterminant(sign, log_abs)


def logdet(matrix, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.linalg.logdet` of a Hermitian positive-definite matrix: 2·Σ log(diag(cholesky))."""
    from graphcompat.ops.linalg_ops import _is_linear_operator, cholesky
    from graphcompat.ops.math_ops import log, real, reduce_sum
    with _ops.name_scope(name, "logdet", [matrix]):
        try:
            chol = cholesky(matrix)  # of an operator: its Cholesky factor, an operator (TF's dispatch)
        except ValueError:
            if not _is_linear_operator(matrix):
                raise
            # TF's fallback for an operator logdet fails on: only a Hermitian p.d. one has a logdet
            raise ValueError("Expected matrix to be self-adjoint positive definite.") from None
        return 2.0 * reduce_sum(log(real(matrix_diag_part(chol))), axis=[-1])


def qr(input, full_matrices: bool = False, name: Optional[str] = None) -> Qr:
    q, r = apply_op("Qr", [input], {"full_matrices": bool(full_matrices)}, name=name)
    return Qr(q, r)


def svd(tensor, full_matrices: bool = False, compute_uv: bool = True, name: Optional[str] = None):
    """`tf.linalg.svd`: (s, u, v) — or s alone when `compute_uv=False` — as TF orders them."""
    s, u, v = apply_op("Svd", [tensor], {"compute_uv": bool(compute_uv), "full_matrices": bool(full_matrices)},
                       name=name)
    return (s, u, v) if compute_uv else s


def eigh(tensor, name: Optional[str] = None):
    e, v = apply_op("SelfAdjointEigV2", [tensor], {"compute_v": True}, name=name)
    return e, v


def eigvalsh(tensor, name: Optional[str] = None) -> _ops.Tensor:
    e, _ = apply_op("SelfAdjointEigV2", [tensor], {"compute_v": False}, name=name)
    return e


def triangular_solve(matrix, rhs, lower: bool = True, adjoint: bool = False,
                     name: Optional[str] = None) -> _ops.Tensor:
    with _ops.name_scope(name, "triangular_solve", [matrix, rhs]):
        return apply_op("MatrixTriangularSolve", [matrix, rhs], {"lower": bool(lower), "adjoint": bool(adjoint)})


def matvec(a, b, transpose_a: bool = False, adjoint_a: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.linalg.matvec`: Squeeze(MatMul(a, ExpandDims(b, -1)), -1) under scope `MatVec`."""
    from graphcompat.ops.array_ops import expand_dims, squeeze
    with _ops.name_scope(name, "MatVec", [a, b]):
        output = matmul(a, expand_dims(b, axis=-1), transpose_a=transpose_a, adjoint_a=adjoint_a)
        return squeeze(output, axis=-1)


def cross(a, b, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("Cross", [a, b], name=name)
