"""Linear algebra: matmul (MatMul / BatchMatMulV2), tensordot, diagonals, eye, trace, determinants,
inverses, Cholesky, solves. Lowerings live in lowering/rules/linalg.py.
"""
from __future__ import annotations

import builtins
import sys
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, broadcast_shapes, defop

NUMBER = _dt.NUMBER_TYPES
FLOAT_COMPLEX = _dt.FLOAT_AND_COMPLEX_TYPES
LINALG = (_dt.float64, _dt.float32, _dt.float16, _dt.complex64, _dt.complex128)

__all__ = ["matmul", "tensordot", "diag", "diag_part", "eye", "matrix_diag", "matrix_diag_part",
           "matrix_set_diag", "matrix_transpose", "trace", "matrix_determinant", "matrix_inverse", "cholesky",
           "matrix_solve"]


def _linear_operator_dispatch():
    """TF dispatches matmul, det, inv, solve, trace, cholesky, diag_part, logdet and adjoint to the
    methods of a `tf.linalg.LinearOperator` argument: the module that implements that, when some
    operator exists (its module is loaded then), else None."""
    return sys.modules.get("graphcompat.ops.linear_operator")


def _is_linear_operator(*values) -> bool:
    module = _linear_operator_dispatch()
    return module is not None and any(isinstance(v, module.LinearOperator) for v in values)


def _dispatching(name: Optional[str], default: str) -> None:
    """TF runs the plain function first and dispatches when it fails on the operator: the name scope it
    had opened by then stays used (a later `tf.matmul` is `MatMul_1`)."""
    with _ops.name_scope(name, default):
        pass


# ------------------------------------------------------------------------------------------------
# Shape functions
# ------------------------------------------------------------------------------------------------
def _matmul_shape(ctx: InferenceContext):
    a, b = ctx.shape(0), ctx.shape(1)
    for s in (a, b):
        if s.ndims is not None and s.ndims != 2:
            raise ctx.error(f"Shape must be rank 2 but is rank {s.ndims}")
    a = a if a.ndims is not None else _ts.unknown_shape(2)
    b = b if b.ndims is not None else _ts.unknown_shape(2)
    ta, tb = ctx.attrs["transpose_a"], ctx.attrs["transpose_b"]
    (m, ka), (kb, n) = (a.as_list()[::-1] if ta else a.as_list()), (b.as_list()[::-1] if tb else b.as_list())
    if ka is not None and kb is not None and ka != kb:
        raise ctx.error(f"Dimensions must be equal, but are {ka} and {kb}")
    return [_ts.TensorShape([m, n])]


def _batch_matmul_shape(ctx: InferenceContext):
    a, b = ctx.shape(0), ctx.shape(1)
    for s in (a, b):
        if s.ndims is not None and s.ndims < 2:
            raise ctx.error(f"Shape must be at least rank 2 but is rank {s.ndims}")
    if a.ndims is None or b.ndims is None:
        return [_ts.unknown_shape()]
    ax, ay = ctx.attrs["adj_x"], ctx.attrs["adj_y"]
    da, db = a.as_list(), b.as_list()
    m, ka = (da[-1], da[-2]) if ax else (da[-2], da[-1])
    kb, n = (db[-1], db[-2]) if ay else (db[-2], db[-1])
    if ka is not None and kb is not None and ka != kb:
        raise ctx.error(f"Dimensions must be equal, but are {ka} and {kb}")
    batch = broadcast_shapes(ctx, _ts.TensorShape(da[:-2]), _ts.TensorShape(db[:-2]))
    return [_ts.TensorShape(batch.as_list() + [m, n])]


def _square_shape(ctx: InferenceContext, drop: int = 0):
    s = ctx.shape(0)
    if s.ndims is None:
        return _ts.unknown_shape()
    if s.ndims < 2:
        raise ctx.error(f"Shape must be at least rank 2 but is rank {s.ndims}")
    d = s.as_list()
    if d[-1] is not None and d[-2] is not None and d[-1] != d[-2]:
        raise ctx.error(f"Dimensions must be equal, but are {d[-2]} and {d[-1]}")
    return _ts.TensorShape(d[:len(d) - drop])


def _solve_shape(ctx: InferenceContext):
    m = _square_shape(ctx)
    rhs = ctx.shape(1)
    if m.ndims is None or rhs.ndims is None:
        return [_ts.unknown_shape()]
    if rhs.ndims < 2:
        raise ctx.error(f"Shape must be at least rank 2 but is rank {rhs.ndims}")
    dm, dr = m.as_list(), rhs.as_list()
    if dm[-1] is not None and dr[-2] is not None and dm[-1] != dr[-2]:
        raise ctx.error(f"Dimensions must be equal, but are {dm[-1]} and {dr[-2]}")
    return [_ts.TensorShape(dr)]


def _diag_shape(ctx: InferenceContext):
    s = ctx.shape(0)
    if s.ndims is None:
        return [_ts.unknown_shape()]
    if s.ndims < 1:
        raise ctx.error(f"Shape must be at least rank 1 but is rank {s.ndims}")
    return [_ts.TensorShape(s.as_list() * 2)]


def _diag_part_shape(ctx: InferenceContext):
    s = ctx.shape(0)
    if s.ndims is None:
        return [_ts.unknown_shape()]
    if s.ndims % 2 or s.ndims == 0:
        raise ctx.error(f"Input must have even rank <= 6, input rank is {s.ndims}")
    d = s.as_list()
    half = s.ndims // 2
    out = []
    for x, y in zip(d[:half], d[half:]):
        if x is not None and y is not None and x != y:
            raise ctx.error(f"Dimensions must be equal, but are {x} and {y}")
        out.append(x if x is not None else y)
    return [_ts.TensorShape(out)]


def matrix_diag_band_size(max_diag_len: int, lower: int, upper: int, rows: int, cols: int) -> tuple:
    """TF's output size of MatrixDiagV3 for the band k=(lower, upper): the smallest matrix holding the
    diagonals where num_rows/num_cols are -1 (square when both are)."""
    min_rows = max_diag_len - min(upper, 0)
    min_cols = max_diag_len + max(lower, 0)
    if rows == -1 and cols == -1:
        rows = cols = max(min_rows, min_cols)
    elif rows == -1:
        rows = min_rows
    elif cols == -1:
        cols = min_cols
    if rows != min_rows and cols != min_cols:
        raise ValueError(f"num_rows and num_cols are not consistent with lower_diag_index, upper_diag_index, and the "
                         f"length of the given diagonals.\nnum_rows = {rows} != min_num_rows = {min_rows}, num_cols = "
                         f"{cols} != min_num_cols = {min_cols}")
    return rows, cols


def _matrix_diag_band_shape(s: _ts.TensorShape, lower: int, upper: int, rows, cols) -> _ts.TensorShape:
    if s.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {s.ndims}")
    d = s.as_list()
    if d[-1] is None or rows is None or cols is None:
        return _ts.TensorShape(d[:-2] + [None, None])
    return _ts.TensorShape(d[:-2] + list(matrix_diag_band_size(d[-1], lower, upper, int(rows), int(cols))))


def _matrix_diag_v3_shape(ctx: InferenceContext):
    s = ctx.shape(0)
    k = ctx.value(1)
    rows, cols = ctx.value(2), ctx.value(3)
    if s.ndims is None or k is None:
        return [_ts.unknown_shape()]
    k = np.reshape(k, [-1]).tolist()
    if len(k) == 2 and k[0] != k[1]:
        return [_matrix_diag_band_shape(s, k[0], k[1], rows, cols)]
    k = int(k[0])
    d = s.as_list()
    n = None if d[-1] is None else d[-1] + builtins.abs(k)
    rows = int(rows) if rows is not None and int(rows) != -1 else n
    cols = int(cols) if cols is not None and int(cols) != -1 else n
    return [_ts.TensorShape(d[:-1] + [rows, cols])]


def _matrix_diag_part_v3_shape(ctx: InferenceContext):
    s, k = ctx.shape(0), ctx.value(1)
    if s.ndims is None or k is None:
        return [_ts.unknown_shape()]
    if s.ndims < 2:
        raise ctx.error(f"Shape must be at least rank 2 but is rank {s.ndims}")
    k = np.reshape(k, [-1]).tolist()
    d = s.as_list()
    rows, cols = d[-2], d[-1]
    if len(k) == 2 and k[0] != k[1]:
        # a band: [..., number of diagonals, the longest one's length]
        if rows is not None and cols is not None:
            for which, index in (("lower", k[0]), ("upper", k[1])):
                if index != 0 and not -rows < index < cols:
                    raise ctx.error(f"{which}_diag_index is out of bound.")
        length = None if rows is None or cols is None else min(rows + min(k[1], 0), cols - max(k[0], 0))
        return [_ts.TensorShape(d[:-2] + [k[1] - k[0] + 1, length])]
    k = int(k[0])
    if rows is None or cols is None:
        return [_ts.TensorShape(d[:-2] + [None])]
    length = min(rows + min(k, 0), cols - max(k, 0))
    return [_ts.TensorShape(d[:-2] + [length])]


def _set_diag_shape(ctx: InferenceContext):
    return [ctx.shape(0)]


defop("MatMul", "a: T, b: T -> product: T",
      attrs={"transpose_a": False, "transpose_b": False, "grad_a": False, "grad_b": False},
      types={"T": NUMBER}, shape=_matmul_shape)
defop("BatchMatMulV2", "x: T, y: T -> output: T", attrs={"adj_x": False, "adj_y": False, "grad_x": False,
                                                          "grad_y": False},
      types={"T": NUMBER}, shape=_batch_matmul_shape)
# BatchMatMulV3 (tf.matmul with an output_type other than its inputs' dtype): TF's allowed types, in its order.
_V3_IN = (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64, _dt.uint8, _dt.int8, _dt.int16, _dt.int32, _dt.int64,
          _dt.complex64, _dt.complex128)
_V3_OUT = (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64, _dt.int16, _dt.int32, _dt.int64, _dt.complex64,
           _dt.complex128)
defop("BatchMatMulV3", "x: Ta, y: Tb -> output: Tout",
      attrs={"adj_x": False, "adj_y": False, "grad_x": False, "grad_y": False},
      types={"Ta": _V3_IN, "Tb": _V3_IN, "Tout": _V3_OUT}, shape=_batch_matmul_shape)
defop("Diag", "diagonal: T -> output: T", types={"T": NUMBER}, shape=_diag_shape)
defop("DiagPart", "input: T -> diagonal: T", types={"T": NUMBER}, shape=_diag_part_shape)
defop("MatrixDiagV3", "diagonal: T, k: int32, num_rows: int32, num_cols: int32, padding_value: T -> output: T",
      attrs={"align": "RIGHT_LEFT"}, shape=_matrix_diag_v3_shape)
defop("MatrixDiagPartV3", "input: T, k: int32, padding_value: T -> diagonal: T", attrs={"align": "RIGHT_LEFT"},
      shape=_matrix_diag_part_v3_shape)
defop("MatrixSetDiagV3", "input: T, diagonal: T, k: int32 -> output: T", attrs={"align": "RIGHT_LEFT"},
      shape=_set_diag_shape)
defop("MatrixDeterminant", "input: T -> output: T", types={"T": LINALG},
      shape=lambda ctx: [_square_shape(ctx, drop=2)])
defop("MatrixInverse", "input: T -> output: T", attrs={"adjoint": False}, types={"T": LINALG},
      shape=lambda ctx: [_square_shape(ctx)])
defop("Cholesky", "input: T -> output: T", types={"T": LINALG}, shape=lambda ctx: [_square_shape(ctx)])
defop("MatrixSolve", "matrix: T, rhs: T -> output: T", attrs={"adjoint": False}, types={"T": LINALG},
      shape=_solve_shape)


# ------------------------------------------------------------------------------------------------
# Builders
# ------------------------------------------------------------------------------------------------
def matmul(a, b, transpose_a: bool = False, transpose_b: bool = False, adjoint_a: bool = False,
           adjoint_b: bool = False, a_is_sparse: bool = False, b_is_sparse: bool = False, output_type=None,
           grad_a: bool = False, grad_b: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.matmul`: MatMul for rank-2 inputs, BatchMatMulV2 (adj_x/adj_y) when either may be batched, and
    BatchMatMulV3 (Ta, Tb -> Tout) when `output_type` differs from either input's dtype."""
    from graphcompat.ops.math_ops import conj
    if _is_linear_operator(a, b):
        _dispatching(name, "MatMul")
        return _linear_operator_dispatch().dispatch_matmul(a, b, transpose_a, transpose_b, adjoint_a, adjoint_b,
                                                           a_is_sparse, b_is_sparse, name)
    with _ops.name_scope(name, "MatMul", [a, b]) as name:
        if transpose_a and adjoint_a:
            raise ValueError(f"Only one of `transpose_a` and `adjoint_a` can be True. Received "
                             f"`transpose_a`={transpose_a}, `adjoint_a`={adjoint_a}.")
        if transpose_b and adjoint_b:
            raise ValueError(f"Only one of `transpose_b` and `adjoint_b` can be True. Received "
                             f"`transpose_b`={transpose_b}, `adjoint_b`={adjoint_b}.")
        a = convert_to_tensor(a, name="a")
        b = convert_to_tensor(b, dtype_hint=a.dtype.base_dtype, name="b")
        ra, rb = a.shape.ndims, b.shape.ndims
        v3 = bool(output_type) and (_dt.as_dtype(output_type) != a.dtype or _dt.as_dtype(output_type) != b.dtype)

        def v3_op(adj_x, adj_y):
            # TF's op_def checks: the inputs' types first (apply_op's), then Tout's
            tout = _dt.as_dtype(output_type).base_dtype
            if a.dtype.base_dtype in _V3_IN and b.dtype.base_dtype in _V3_IN and tout not in _V3_OUT:
                raise TypeError(f"Value passed to parameter 'Tout' has DataType {tout.name} not in list of allowed "
                                f"values: {', '.join(t.name for t in _V3_OUT)}")
            return apply_op("BatchMatMulV3", [a, b], {"Tout": _dt.as_dtype(output_type).base_dtype,
                                                      "adj_x": bool(adj_x), "adj_y": bool(adj_y),
                                                      "grad_x": bool(grad_a), "grad_y": bool(grad_b)}, name=name)
        if ra is None or ra > 2 or rb is None or rb > 2:
            if transpose_a:
                a, adjoint_a = conj(a), True
            if transpose_b:
                b, adjoint_b = conj(b), True
            if v3:
                return v3_op(adjoint_a, adjoint_b)
            return apply_op("BatchMatMulV2", [a, b], {"adj_x": bool(adjoint_a), "adj_y": bool(adjoint_b),
                                                      "grad_x": bool(grad_a), "grad_y": bool(grad_b)}, name=name)
        if adjoint_a:
            a, transpose_a = conj(a), True
        if adjoint_b:
            b, transpose_b = conj(b), True
        if v3:  # TF passes adj = adjoint or transpose (a transposed complex input is conjugated here, as TF)
            return v3_op(adjoint_a or transpose_a, adjoint_b or transpose_b)
        return apply_op("MatMul", [a, b], {"transpose_a": bool(transpose_a), "transpose_b": bool(transpose_b),
                                           "grad_a": bool(grad_a), "grad_b": bool(grad_b)}, name=name)


def _tensordot_axes(a: _ops.Tensor, axes):
    rank = a.shape.ndims
    if isinstance(axes, (int, np.integer)):
        if axes < 0:
            raise ValueError(f"`axes` must be at least 0. Received: {axes}.")
        if rank is None:
            raise NotImplementedError("tf.tensordot with an integer `axes` on a tensor of unknown rank")
        if axes > rank:
            raise ValueError(f"`axes` must not be larger than the number of dimensions of tensor {a}.  "
                             f"Received {axes}, vs tensor dimensions {rank}.")
        return list(builtins.range(rank - axes, rank)), list(builtins.range(axes))
    if isinstance(axes, (list, tuple)):
        if len(axes) != 2:
            raise ValueError(f"`axes` must be an integer or have length 2. Received {axes}.")
        a_axes, b_axes = axes
        if isinstance(a_axes, (int, np.integer)) and isinstance(b_axes, (int, np.integer)):
            a_axes, b_axes = [a_axes], [b_axes]
        a_axes, b_axes = list(a_axes), list(b_axes)
        if len(a_axes) != len(b_axes):
            raise ValueError(f"Different number of contraction axes `a` and `b`, {len(a_axes)} != {len(b_axes)}.")
        return a_axes, b_axes
    raise NotImplementedError("tf.tensordot with a Tensor `axes`")


def _tensordot_reshape(a: _ops.Tensor, axes, flipped: bool = False):
    from graphcompat.ops.array_ops import reshape, shape, stack, transpose
    from graphcompat.ops.indexing_ops import gather
    from graphcompat.ops.math_ops import reduce_prod
    if a.shape.ndims is None:
        raise NotImplementedError("tf.tensordot of a tensor of unknown rank")
    shape_a = a.shape.as_list()
    axes = [i if i >= 0 else i + len(shape_a) for i in axes]
    free = [i for i in builtins.range(len(shape_a)) if i not in axes]
    free_dims = [shape_a[i] for i in free]
    perm = axes + free if flipped else free + axes
    if a.shape.is_fully_defined():
        prod_free = int(np.prod(free_dims, dtype=np.int64))
        prod_axes = int(np.prod([shape_a[i] for i in axes], dtype=np.int64))
        new_shape = [prod_axes, prod_free] if flipped else [prod_free, prod_axes]
        a_trans = transpose(a, perm) if perm != list(builtins.range(len(shape_a))) else a
        reshaped = reshape(a_trans, new_shape) if a_trans.shape.as_list() != new_shape else a_trans
        return reshaped, free_dims, free_dims
    axes_t = convert_to_tensor(axes, dtype=_dt.int32, name="axes")
    free_t = convert_to_tensor(free, dtype=_dt.int32, name="free")
    dims = shape(a)
    free_dims_t = gather(dims, free_t)
    prod_free = reduce_prod(free_dims_t)
    prod_axes = reduce_prod(gather(dims, axes_t))
    from graphcompat.ops.array_ops import concat
    if flipped:
        perm_t, new_shape = concat([axes_t, free_t], 0), stack([prod_axes, prod_free])
    else:
        perm_t, new_shape = concat([free_t, axes_t], 0), stack([prod_free, prod_axes])
    return reshape(transpose(a, perm_t), new_shape), free_dims_t, free_dims


def tensordot(a, b, axes, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.tensordot`: Transpose/Reshape to a MatMul and back, as TF composes it."""
    from graphcompat.ops.array_ops import concat, reshape
    with _ops.name_scope(name, "Tensordot", [a, b, axes]) as name:
        a = convert_to_tensor(a, name="a")
        b = convert_to_tensor(b, name="b")
        a_axes, b_axes = _tensordot_axes(a, axes)
        a_reshape, a_free, a_free_static = _tensordot_reshape(a, a_axes)
        b_reshape, b_free, b_free_static = _tensordot_reshape(b, b_axes, True)
        product = matmul(a_reshape, b_reshape)
        if isinstance(a_free, list) and isinstance(b_free, list):
            if product.shape.is_fully_defined() and product.shape.as_list() == a_free + b_free:
                return product
            return reshape(product, a_free + b_free, name=name)
        a_free = convert_to_tensor(a_free, dtype=_dt.int32)
        b_free = convert_to_tensor(b_free, dtype=_dt.int32)
        result = reshape(product, concat([a_free, b_free], 0), name=name)
        result.set_shape(a_free_static + b_free_static)
        return result


def diag(diagonal, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("Diag", [diagonal], name=name)


def diag_part(input, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("DiagPart", [input], name=name)


def matrix_diag(diagonal, name: str = "diag", k=0, num_rows=-1, num_cols=-1, padding_value=0,
                align: str = "RIGHT_LEFT") -> _ops.Tensor:
    return apply_op("MatrixDiagV3", [diagonal, k, num_rows, num_cols, padding_value], {"align": align},
                    name=name)


def matrix_diag_part(input, name: str = "diag_part", k=0, padding_value=0,
                     align: str = "RIGHT_LEFT") -> _ops.Tensor:
    if _is_linear_operator(input):
        _dispatching(name, "MatrixDiagPartV3")
        return input.diag_part(name)
    return apply_op("MatrixDiagPartV3", [input, k, padding_value], {"align": align}, name=name)


def matrix_set_diag(input, diagonal, name: str = "set_diag", k=0, align: str = "RIGHT_LEFT") -> _ops.Tensor:
    return apply_op("MatrixSetDiagV3", [input, diagonal, k], {"align": align}, name=name)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=_dt.float32, name: Optional[str] = None):
    """`tf.eye`: MatrixDiagV3 of ones (square) or MatrixSetDiagV3 on zeros, under scope `eye`."""
    from graphcompat.ops.array_ops import concat, ones, zeros
    from graphcompat.ops.math_ops import minimum
    with _ops.name_scope(name, "eye", [num_rows, num_columns, batch_shape]):
        is_square = num_columns is None
        batch_shape = [] if batch_shape is None else batch_shape
        num_columns = num_rows if num_columns is None else num_columns
        if isinstance(num_rows, _ops.Tensor) or isinstance(num_columns, _ops.Tensor):
            diag_size = minimum(num_rows, num_columns)
        else:
            if not isinstance(num_rows, (int, np.integer)) or not isinstance(num_columns, (int, np.integer)):
                raise TypeError("Arguments `num_rows` and `num_columns` must be positive integer values. "
                                f"Received: num_rows={num_rows}, num_columns={num_columns}")
            is_square = num_rows == num_columns
            diag_size = min(num_rows, num_columns)
        if isinstance(batch_shape, _ops.Tensor) or isinstance(diag_size, _ops.Tensor):
            batch_shape = convert_to_tensor(batch_shape, name="shape", dtype=_dt.int32)
            diag_shape = concat((batch_shape, [diag_size]), axis=0)
            if not is_square:
                shape = concat((batch_shape, [num_rows, num_columns]), axis=0)
        else:
            batch_shape = _ts.as_shape(batch_shape).as_list()
            diag_shape = batch_shape + [diag_size]
            if not is_square:
                shape = batch_shape + [num_rows, num_columns]
        diag_ones = ones(diag_shape, dtype=dtype)
        if is_square:
            return matrix_diag(diag_ones)
        return matrix_set_diag(zeros(shape, dtype=dtype), diag_ones)


def matrix_transpose(a, name: str = "matrix_transpose", conjugate: bool = False) -> _ops.Tensor:
    """`tf.linalg.matrix_transpose`: Transpose (ConjugateTranspose) swapping the last two axes; of a tensor
    of unknown rank, the perm is built at run time from its Rank, as TF: concat(range(r - 2), [r - 1, r - 2])."""
    from graphcompat.framework.registry import apply_op
    from graphcompat.ops.array_ops import concat, rank, transpose
    with _ops.name_scope(name, values=[a]):
        a = convert_to_tensor(a, name="a")
        ndims = a.shape.ndims
        if ndims is None:
            r = rank(a)
            perm = concat((apply_op("Range", [0, r - 2, 1]), [r - 1, r - 2]), 0)
            return transpose(a, perm=perm, conjugate=conjugate)
        if ndims < 2:
            raise ValueError(f"Argument `a` should be a (batch) matrix with rank >= 2.  Received `a` = {a} "
                             f"with shape: {a.shape}")
        perm = list(builtins.range(ndims - 2)) + [ndims - 1, ndims - 2]
        return transpose(a, perm=perm, conjugate=conjugate)


def trace(x, name: Optional[str] = None) -> _ops.Tensor:
    from graphcompat.ops.math_ops import reduce_sum
    if _is_linear_operator(x):
        _dispatching(name, "Trace")
        return x.trace(name)
    with _ops.name_scope(name, "Trace", [x]) as name:
        x = convert_to_tensor(x, name="x")
        return reduce_sum(matrix_diag_part(x), [-1], name=name)


def matrix_determinant(input, name: Optional[str] = None) -> _ops.Tensor:
    if _is_linear_operator(input):
        _dispatching(name, "MatrixDeterminant")
        return input.determinant(name)
    return apply_op("MatrixDeterminant", [input], name=name)


def matrix_inverse(input, adjoint: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    if _is_linear_operator(input):
        _dispatching(name, "MatrixInverse")
        inverse = input.inverse(name)
        return inverse.adjoint() if adjoint else inverse
    return apply_op("MatrixInverse", [input], {"adjoint": bool(adjoint)}, name=name)


def cholesky(input, name: Optional[str] = None) -> _ops.Tensor:
    if _is_linear_operator(input):
        _dispatching(name, "Cholesky")
        return input.cholesky(name)
    return apply_op("Cholesky", [input], name=name)


def matrix_solve(matrix, rhs, adjoint: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    if _is_linear_operator(matrix, rhs):
        _dispatching(name, "MatrixSolve")
        if not _is_linear_operator(matrix):
            raise ValueError("Passing in `matrix` as a Tensor and `rhs` as a LinearOperator is not supported.")
        return matrix.solve(rhs, adjoint=adjoint, name=name)
    return apply_op("MatrixSolve", [matrix, rhs], {"adjoint": bool(adjoint)}, name=name)


def _matmul_operator(x, y):
    with _ops.name_scope(None, "matmul", [x, y]) as name:
        return matmul(x, y, name=name)


def _rmatmul_operator(y, x):
    with _ops.name_scope(None, "matmul", [x, y]) as name:
        x = convert_to_tensor(x, dtype=y.dtype.base_dtype, name="x")
        return matmul(x, y, name=name)


_ops.Tensor._override_operator("__matmul__", _matmul_operator)
_ops.Tensor._override_operator("__rmatmul__", _rmatmul_operator)
