"""Sparse ops (TF's gen_sparse_ops + python/ops/sparse_ops.py): `tf.sparse_placeholder`,
`tf.sparse_tensor_to_dense`, `tf.sparse_to_dense`, `tf.sparse_tensor_dense_matmul`, reductions, concat,
softmax, retain, reshape, add, transpose, fill_empty_rows, reorder, slice, maximum/minimum, split,
from_dense, to_indicator, merge, reset_shape, expand_dims, eye, mask.

Op types, attrs and the Python wrappers' names and static shapes are TF's. Lowerings:
lowering/rules/sparse.py (ops that keep the number of entries compile; the others run on the host).
"""
from __future__ import annotations

import numbers
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, constant_value, convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math
from graphcompat.ops.sparse_tensor import (SparseTensor, SparseTensorValue, convert_to_sparse_tensor,  # noqa: F401
                                           is_sparse)

REAL = _dt.REAL_NUMBER_TYPES
NUMBER = _dt.NUMBER_TYPES
FLOAT = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)
INDEX = (_dt.int32, _dt.int64)


# ------------------------------------------------------------------------------------------------
# Shape functions (TF's sparse_ops.cc)
# ------------------------------------------------------------------------------------------------
def _rank_of(ctx: InferenceContext, i: int):
    """The sparse rank: dim 0 of a dense_shape input (or dim 1 of an indices input)."""
    shape = ctx.shape(i)
    return shape.as_list()[-1] if shape.ndims else None


def _sparse_out(rank_input: int, values_input: Optional[int] = None, with_shape: bool = True):
    def shape(ctx: InferenceContext):
        rank = _rank_of(ctx, rank_input)
        out = [_ts.TensorShape([None, rank]), _ts.TensorShape([None])]
        return out + [_ts.TensorShape([rank])] if with_shape else out
    return shape


def _to_dense_shape(ctx: InferenceContext):
    return [ctx.value_as_shape(1)]


def _matmul_shape(ctx: InferenceContext):
    b = ctx.shape(3)
    if b.ndims is not None and b.ndims != 2:
        raise ctx.error(f"Shape must be rank 2 but is rank {b.ndims}")
    a_shape = ctx.value_as_shape(2)
    if a_shape.ndims is not None and a_shape.ndims != 2:
        raise ctx.error(f"Shape must be rank 2 but is rank {a_shape.ndims}")
    a = a_shape.as_list() if a_shape.ndims == 2 else [None, None]
    bd = b.as_list() if b.ndims == 2 else [None, None]
    if ctx.attrs["adjoint_a"]:
        a = a[::-1]
    if ctx.attrs["adjoint_b"]:
        bd = bd[::-1]
    if a[1] is not None and bd[0] is not None and a[1] != bd[0]:
        raise ctx.error(f"Dimensions must be equal, but are {a[1]} and {bd[0]}")
    return [_ts.TensorShape([a[0], bd[1]])]


def _matmul_dims(ctx: InferenceContext) -> _ts.TensorShape:
    a, b = ctx.shape(0), ctx.shape(1)
    for s in (a, b):
        if s.ndims is not None and s.ndims != 2:
            raise ctx.error(f"Shape must be rank 2 but is rank {s.ndims}")
    a = a.as_list() if a.ndims else [None, None]
    b = b.as_list() if b.ndims else [None, None]
    a = a[::-1] if ctx.attrs["transpose_a"] else a
    b = b[::-1] if ctx.attrs["transpose_b"] else b
    if a[1] is not None and b[0] is not None and a[1] != b[0]:
        raise ctx.error(f"Dimensions must be equal, but are {a[1]} and {b[0]}")
    return _ts.TensorShape([a[0], b[1]])


def _reduce_shape(ctx: InferenceContext):
    shape, axes = ctx.value_as_shape(2), ctx.value(3)
    if shape.ndims is None or not shape.is_fully_defined() or axes is None:
        return [_ts.unknown_shape()]
    dims = shape.as_list()
    rank = len(dims)
    reduced = {int(a) % rank for a in np.reshape(axes, [-1]) if -rank <= int(a) < rank}
    keep = ctx.attrs["keep_dims"]
    return [_ts.TensorShape([1 if i in reduced else d for i, d in enumerate(dims) if keep or i not in reduced])]


def _fill_empty_rows_shape(ctx: InferenceContext):
    rank = _rank_of(ctx, 2)
    return [_ts.TensorShape([None, rank]), _ts.TensorShape([None]), _ts.TensorShape([None]),
            _ts.TensorShape([ctx.shape(0).as_list()[0] if ctx.shape(0).ndims else None])]


def _split_shape(ctx: InferenceContext):
    n = ctx.attrs["num_split"]
    rank = _rank_of(ctx, 3)
    return ([_ts.TensorShape([None, rank])] * n + [_ts.TensorShape([None])] * n + [_ts.TensorShape([rank])] * n)


# ------------------------------------------------------------------------------------------------
# Op definitions
# ------------------------------------------------------------------------------------------------
defop("SparseToDense", "sparse_indices: Tindices, output_shape: Tindices, sparse_values: T, default_value: T "
      "-> dense: T", attrs={"validate_indices": True}, types={"Tindices": INDEX}, shape=_to_dense_shape)
defop("SparseTensorDenseMatMul", "a_indices: Tindices, a_values: T, a_shape: int64, b: T -> product: T",
      attrs={"adjoint_a": False, "adjoint_b": False}, types={"Tindices": INDEX}, shape=_matmul_shape)
for _op in ("SparseReduceSum", "SparseReduceMax"):
    _types = NUMBER if _op == "SparseReduceSum" else REAL
    defop(_op, "input_indices: int64, input_values: T, input_shape: int64, reduction_axes: int32 -> output: T",
          attrs={"keep_dims": False}, types={"T": _types}, shape=_reduce_shape)
    defop(_op + "Sparse", "input_indices: int64, input_values: T, input_shape: int64, reduction_axes: int32 -> "
          "output_indices: int64, output_values: T, output_shape: int64", attrs={"keep_dims": False},
          types={"T": _types},
          shape=lambda ctx: [_ts.TensorShape([None, None]), _ts.TensorShape([None]), _ts.TensorShape([None])])
defop("SparseConcat", "indices: N * int64, values: N * T, shapes: N * int64 -> output_indices: int64, "
      "output_values: T, output_shape: int64", attrs={"concat_dim": 0},
      shape=lambda ctx: _sparse_out(2 * ctx.attrs["N"])(ctx))
defop("SparseSoftmax", "sp_indices: int64, sp_values: T, sp_shape: int64 -> output: T", types={"T": FLOAT},
      shape=lambda ctx: [ctx.shape(1)])
defop("SparseReshape", "input_indices: int64, input_shape: int64, new_shape: int64 -> output_indices: int64, "
      "output_shape: int64", shape=lambda ctx: [_ts.TensorShape([ctx.shape(0).as_list()[0] if ctx.shape(0).ndims
                                                                 else None, _rank_of(ctx, 2)]),
                                                _ts.TensorShape([_rank_of(ctx, 2)])])
defop("SparseAdd", "a_indices: int64, a_values: T, a_shape: int64, b_indices: int64, b_values: T, b_shape: int64, "
      "thresh: Treal -> sum_indices: int64, sum_values: T, sum_shape: int64", types={"T": NUMBER, "Treal": REAL},
      shape=_sparse_out(2))
defop("SparseTensorDenseAdd", "a_indices: Tindices, a_values: T, a_shape: Tindices, b: T -> output: T",
      types={"Tindices": INDEX}, shape=lambda ctx: [ctx.shape(3)])
def _cwise_shape(ctx: InferenceContext):
    """SparseDenseCwise*: a vector with one value per sparse entry (TF's shape function: [N])."""
    indices = ctx.shape(0)
    return [_ts.TensorShape([indices[0].value if indices.ndims == 2 else None])]


for _op in ("SparseDenseCwiseAdd", "SparseDenseCwiseMul", "SparseDenseCwiseDiv"):
    defop(_op, "sp_indices: int64, sp_values: T, sp_shape: int64, dense: T -> output: T", types={"T": NUMBER},
          shape=_cwise_shape)
defop("SparseReorder", "input_indices: int64, input_values: T, input_shape: int64 -> output_indices: int64, "
      "output_values: T", shape=lambda ctx: [ctx.shape(0), ctx.shape(1)])
defop("SparseFillEmptyRows", "indices: int64, values: T, dense_shape: int64, default_value: T -> "
      "output_indices: int64, output_values: T, empty_row_indicator: bool, reverse_index_map: int64",
      shape=_fill_empty_rows_shape)
defop("SparseSlice", "indices: int64, values: T, shape: int64, start: int64, size: int64 -> "
      "output_indices: int64, output_values: T, output_shape: int64", shape=_sparse_out(2))
for _op in ("SparseSparseMaximum", "SparseSparseMinimum"):
    defop(_op, "a_indices: int64, a_values: T, a_shape: int64, b_indices: int64, b_values: T, b_shape: int64 -> "
          "output_indices: int64, output_values: T", types={"T": REAL}, shape=_sparse_out(2, with_shape=False))
defop("SparseMatMul", "a: Ta, b: Tb -> product: float32", attrs={"transpose_a": False, "transpose_b": False,
                                                                "a_is_sparse": False, "b_is_sparse": False},
      types={"Ta": (_dt.float32, _dt.bfloat16), "Tb": (_dt.float32, _dt.bfloat16)},
      shape=lambda ctx: [_matmul_dims(ctx)])
defop("SparseSplit", "split_dim: int64, indices: int64, values: T, shape: int64 -> output_indices: num_split * "
      "int64, output_values: num_split * T, output_shape: num_split * int64", shape=_split_shape)


# ------------------------------------------------------------------------------------------------
# Placeholders and conversions
# ------------------------------------------------------------------------------------------------
def sparse_placeholder(dtype, shape=None, name: Optional[str] = None) -> SparseTensor:
    """`tf.sparse_placeholder`: placeholders for indices/values, and for dense_shape unless `shape` is
    given (then a feedable PlaceholderWithDefault of it; -1/None dims stay unknown statically)."""
    shape_name = name + "/shape" if name is not None else None
    default_shape_name = name + "/shape_default" if name is not None else None
    if shape is None:
        rank = None
        dense_shape = _array.placeholder(_dt.int64, shape=[rank], name=shape_name)
        static = _ts.unknown_shape()
    else:
        if isinstance(shape, _ops.Tensor):
            rank = shape.shape.as_list()[0] if shape.shape.ndims else None
            static = _ts.unknown_shape(rank) if rank is not None else _ts.unknown_shape()
        else:
            rank = len(shape)
            dims = [None if d is None or _ts.Dimension(d).value in (None, -1) else _ts.Dimension(d).value
                    for d in shape]
            static = _ts.TensorShape(dims)
            shape = convert_to_tensor(np.array([-1 if d is None else d for d in dims], np.int64), _dt.int64,
                                      name=default_shape_name)
        dense_shape = _array.placeholder_with_default(shape, shape=shape.shape, name=shape_name)
    result = SparseTensor(
        values=_array.placeholder(dtype, shape=[None], name=name + "/values" if name is not None else None),
        indices=_array.placeholder(_dt.int64, shape=[None, rank],
                                   name=name + "/indices" if name is not None else None),
        dense_shape=dense_shape)
    result._dense_shape_default = static
    return result


def sparse_matmul(a, b, transpose_a: bool = False, transpose_b: bool = False, a_is_sparse: bool = False,
                  b_is_sparse: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.sparse_matmul`: a dense float32 matmul (SparseMatMul; the sparsity flags are hints only)."""
    return apply_op("SparseMatMul", [a, b], {"transpose_a": bool(transpose_a), "transpose_b": bool(transpose_b),
                                            "a_is_sparse": bool(a_is_sparse), "b_is_sparse": bool(b_is_sparse)},
                    name=name)


def from_dense(tensor, name: Optional[str] = None) -> SparseTensor:
    """`tf.sparse.from_dense`: the non-zero entries of a dense tensor."""
    from graphcompat.ops.data_dependent_ops import where_v2
    from graphcompat.ops.indexing_ops import gather_nd
    with _ops.name_scope(name, "dense_to_sparse"):
        tensor = convert_to_tensor(tensor)
        indices = where_v2(_math.not_equal(tensor, _array.zeros_like(tensor)))
        values = gather_nd(tensor, indices)
        shape = _array.shape(tensor, out_type=_dt.int64)
        return SparseTensor(indices, values, shape)


def _reduction_axes(sp_input: SparseTensor, axis):
    if axis is not None:
        return axis
    rank = sp_input.shape.ndims
    if rank:
        return constant(np.arange(rank, dtype=np.int32))
    return _math.range(0, _array.size(sp_input.dense_shape))  # rank known only at run time


def _argument(new, old, new_name: str, old_name: str):
    if new is not None and old is not None:
        raise ValueError(f"Cannot specify both '{new_name}' and '{old_name}'.")
    return new if new is not None else old


# ------------------------------------------------------------------------------------------------
# To dense, matmul, reductions, softmax
# ------------------------------------------------------------------------------------------------
def sparse_to_dense(sparse_indices, output_shape, sparse_values, default_value=0, validate_indices: bool = True,
                    name: Optional[str] = None) -> _ops.Tensor:
    """`tf.sparse_to_dense`: a dense tensor with `sparse_values` at `sparse_indices`."""
    return apply_op("SparseToDense", [sparse_indices, output_shape, sparse_values, default_value],
                    {"validate_indices": bool(validate_indices)}, name=name)


def sparse_tensor_to_dense(sp_input, default_value=None, validate_indices: bool = True,
                           name: Optional[str] = None) -> _ops.Tensor:
    """`tf.sparse.to_dense`: SparseToDense of the three components (indices must be ordered and unique)."""
    sp_input = convert_to_sparse_tensor(sp_input)
    if default_value is None:
        default_value = _array.zeros([], dtype=sp_input.dtype)
    return apply_op("SparseToDense", [sp_input.indices, sp_input.dense_shape, sp_input.values, default_value],
                    {"validate_indices": bool(validate_indices)}, name=name)


def sparse_tensor_dense_matmul(sp_a, b, adjoint_a: bool = False, adjoint_b: bool = False,
                               name: Optional[str] = None) -> _ops.Tensor:
    """`tf.sparse.sparse_dense_matmul`: SparseTensor (or, transposing, a dense-times-sparse) products."""
    if is_sparse(b):
        if adjoint_a != adjoint_b:
            return _array.transpose(sparse_tensor_dense_matmul(b, sp_a, adjoint_a, adjoint_b))
        return _array.transpose(sparse_tensor_dense_matmul(b, sp_a, adjoint_a=not adjoint_a,
                                                           adjoint_b=not adjoint_b))
    sp_a = convert_to_sparse_tensor(sp_a)
    with _ops.name_scope(name, "SparseTensorDenseMatMul", [sp_a.indices, sp_a.values, b]) as name:
        b = convert_to_tensor(b, name="b")
        return apply_op("SparseTensorDenseMatMul", [sp_a.indices, sp_a.values, sp_a.dense_shape, b],
                        {"adjoint_a": bool(adjoint_a), "adjoint_b": bool(adjoint_b)})


def _sparse_reduce(op_type: str, tf_name: str, sparse_output: bool):
    def reduce(sp_input, axis=None, keepdims=None, reduction_axes=None, keep_dims=None):
        keepdims = bool(_argument(keepdims, keep_dims, "keepdims", "keep_dims") or False)
        axis = _argument(axis, reduction_axes, "axis", "reduction_axes")
        sp_input = convert_to_sparse_tensor(sp_input)
        inputs = [sp_input.indices, sp_input.values, sp_input.dense_shape,
                  convert_to_tensor(_reduction_axes(sp_input, axis), _dt.int32, name="reduction_axes")]
        out = apply_op(op_type, inputs, {"keep_dims": keepdims})
        return SparseTensor(*out) if sparse_output else out
    reduce.__name__ = tf_name
    reduce.__doc__ = (f"`tf.{tf_name}` ({op_type}): reduces the entries of a SparseTensor along `axis` "
                      f"(implicit zeros are not reduced){'; a SparseTensor result' if sparse_output else ''}.")
    return reduce


sparse_reduce_sum = _sparse_reduce("SparseReduceSum", "sparse_reduce_sum", False)
sparse_reduce_max = _sparse_reduce("SparseReduceMax", "sparse_reduce_max", False)
sparse_reduce_sum_sparse = _sparse_reduce("SparseReduceSumSparse", "sparse_reduce_sum_sparse", True)
sparse_reduce_max_sparse = _sparse_reduce("SparseReduceMaxSparse", "sparse_reduce_max_sparse", True)


def sparse_softmax(sp_input, name: Optional[str] = None) -> SparseTensor:
    """`tf.sparse.softmax`: softmax over the entries of each innermost row (values in sorted order)."""
    with _ops.name_scope(name, "SparseSoftmax", [sp_input.indices, sp_input.values]):
        out_vals = apply_op("SparseSoftmax", [sp_input.indices, sp_input.values, sp_input.dense_shape])
        return SparseTensor(sp_input.indices, out_vals, sp_input.dense_shape)


# ------------------------------------------------------------------------------------------------
# Structure: concat, reorder, reshape, transpose, retain, slice, split, fill, reset_shape, expand_dims
# ------------------------------------------------------------------------------------------------
def sparse_concat(axis, sp_inputs, name: Optional[str] = None, expand_nonconcat_dim: bool = False,
                  concat_dim=None, expand_nonconcat_dims=None) -> SparseTensor:
    """`tf.sparse.concat`: SparseConcat along `axis`; the result is ordered."""
    expand = bool(_argument(expand_nonconcat_dims, expand_nonconcat_dim or None, "expand_nonconcat_dims",
                            "expand_nonconcat_dim") or False)
    axis = _argument(axis, concat_dim, "axis", "concat_dim")
    sp_inputs = [convert_to_sparse_tensor(s) for s in sp_inputs]
    if len(sp_inputs) == 1:
        return sp_inputs[0]
    shapes = [s.dense_shape for s in sp_inputs]
    if expand:
        max_shape = _math.reduce_max(_array.concat([_array.reshape(s, [1, -1]) for s in shapes], 0), 0)
        shapes = [_array.concat([max_shape[:axis], s[-1:] if axis == -1 else s[axis:axis + 1],
                                 np.zeros([0], np.int64) if axis == -1 else max_shape[axis + 1:]], 0)
                  for s in shapes]
    output_ind, output_val, output_shape = apply_op(
        "SparseConcat", [[s.indices for s in sp_inputs], [s.values for s in sp_inputs], shapes],
        {"concat_dim": int(axis)}, name=name)
    input_shapes = [s.shape for s in sp_inputs]
    if all(s.ndims is not None for s in input_shapes):
        if expand:
            static = [max((s.as_list()[d] for s in input_shapes), key=lambda v: -1 if v is None else v)
                      if all(s.as_list()[d] is not None for s in input_shapes) else None
                      for d in range(input_shapes[0].ndims)]
        else:
            static = input_shapes[0].as_list()
        along = [s.as_list()[axis] for s in input_shapes]
        static[axis] = None if any(v is None for v in along) else sum(along)
        static = _ts.TensorShape(static)
    else:
        static = _ts.unknown_shape()
    if all(s.is_fully_defined() for s in input_shapes):
        return SparseTensor(output_ind, output_val, convert_to_tensor(static.as_list(), _dt.int64))
    output = SparseTensor(output_ind, output_val, output_shape)
    output.set_shape(static)
    return output


def sparse_reorder(sp_input, name: Optional[str] = None) -> SparseTensor:
    """`tf.sparse.reorder`: entries in row-major (lexicographic) order of their indices."""
    sp_input = convert_to_sparse_tensor(sp_input)
    ind, val = apply_op("SparseReorder", [sp_input.indices, sp_input.values, sp_input.dense_shape], name=name)
    if sp_input.shape.is_fully_defined():
        return SparseTensor(ind, val, sp_input.shape.as_list())
    out = SparseTensor(ind, val, _array.identity(sp_input.dense_shape))
    out.set_shape(sp_input.shape)
    return out


def sparse_reshape(sp_input, shape, name: Optional[str] = None) -> SparseTensor:
    """`tf.sparse.reshape`: same entries in a new dense shape (one dimension may be -1)."""
    sp_input = convert_to_sparse_tensor(sp_input)
    shape = _math.cast(shape, _dt.int64)
    with _ops.name_scope(name, "SparseReshape", [sp_input]) as name:
        reshaped_ind, reshaped_shape = apply_op("SparseReshape", [sp_input.indices, sp_input.dense_shape, shape],
                                                name=name)
        user = constant_value(shape)
        if user is not None and sp_input.shape.is_fully_defined():
            user = [int(d) for d in np.reshape(user, [-1])]
            if sum(d == -1 for d in user) > 1:
                raise ValueError(f"At most one dimension can be inferred (-1). Found: {np.array(user)}")
            original = [None if d == -1 else d for d in user]
            known = list(original)
            in_size = int(np.prod(sp_input.shape.as_list()))
            implied = sum(d is None for d in known)
            if implied == 1 and 0 not in known:
                i = known.index(None)
                known[i] = int(in_size // np.prod([d for d in known if d is not None]))
            if implied == 0 or (implied == 1 and 0 not in known):
                size = int(np.prod(known))
                if size != in_size:
                    raise ValueError(f"Cannot reshape a tensor with {in_size} elements to shape {original} "
                                     f"({size} elements).")
                reshaped_shape = constant(np.array(known, np.int64), _dt.int64)
        return SparseTensor(reshaped_ind, _array.identity(sp_input.values), reshaped_shape)


def sparse_transpose(sp_input, perm=None, name: Optional[str] = None) -> SparseTensor:
    """`tf.sparse.transpose`: permuted index columns (reversed by default), then reordered."""
    from graphcompat.ops.indexing_ops import gather
    with _ops.name_scope(name, "SparseTranspose", [sp_input]):
        if perm is None:
            rank = sp_input.shape.ndims
            if rank is None:
                raise NotImplementedError("tf.sparse.transpose of a SparseTensor of unknown rank without perm")
            perm = (rank - 1) - np.arange(0, rank, 1)
        transposed_indices = _array.transpose(gather(_array.transpose(sp_input.indices), perm))
        perm_ = constant_value(convert_to_tensor(perm))
        if perm_ is not None and sp_input.shape.is_fully_defined():
            old = sp_input.shape.as_list()
            dense_shape = [old[int(p)] for p in perm_]
        else:
            dense_shape = gather(sp_input.dense_shape, perm)
        return sparse_reorder(SparseTensor(transposed_indices, sp_input.values, dense_shape))


def sparse_retain(sp_input, to_retain) -> SparseTensor:
    """`tf.sparse.retain`: the entries where the boolean vector `to_retain` is true."""
    from graphcompat.ops.data_dependent_ops import where_v2
    from graphcompat.ops.indexing_ops import gather
    sp_input = convert_to_sparse_tensor(sp_input)
    to_retain = convert_to_tensor(to_retain)
    retain_shape = to_retain.shape
    retain_shape.with_rank(1)
    if sp_input.values.shape.ndims is not None:
        sp_input.values.shape.dims[0].assert_is_compatible_with(retain_shape.dims[0] if retain_shape.ndims
                                                                else None)
    where_true = _array.reshape(where_v2(to_retain), [-1])
    return SparseTensor(gather(sp_input.indices, where_true), gather(sp_input.values, where_true),
                        _array.identity(sp_input.dense_shape))


def sparse_slice(sp_input, start, size, name: Optional[str] = None) -> SparseTensor:
    """`tf.sparse.slice`: entries inside [start, start + size), re-based at `start`."""
    sp_input = convert_to_sparse_tensor(sp_input)
    start = convert_to_tensor(start, _dt.int64)
    size = convert_to_tensor(size, _dt.int64)
    with _ops.name_scope(name, "SparseSlice", [sp_input]) as name:
        out = apply_op("SparseSlice", [sp_input.indices, sp_input.values, sp_input.dense_shape, start, size],
                       name=name)
        return SparseTensor(*out)


class _KeywordRequired:
    def __repr__(self):
        return ""


def sparse_split(keyword_required=_KeywordRequired(), sp_input=None, num_split=None, axis=None,
                 name: Optional[str] = None, split_dim=None) -> list:
    """`tf.sparse.split`: `num_split` SparseTensors along `axis` (the first ones one longer if uneven)."""
    if not isinstance(keyword_required, _KeywordRequired):
        raise ValueError("Keyword arguments are required for this function.")
    if sp_input is None:
        raise ValueError("sp_input is required")
    if num_split is None:
        raise ValueError("num_split is required")
    axis = _argument(axis, split_dim, "axis", "split_dim")
    if axis is None:
        raise ValueError("axis is required")
    sp_input = convert_to_sparse_tensor(sp_input)
    inds, vals, shapes = apply_op("SparseSplit", [convert_to_tensor(axis, _dt.int64), sp_input.indices,
                                                  sp_input.values, sp_input.dense_shape],
                                  {"num_split": int(num_split)}, name=name)
    return [SparseTensor(i, v, s) for i, v, s in zip(inds, vals, shapes)]


def sparse_fill_empty_rows(sp_input, default_value, name: Optional[str] = None):
    """`tf.sparse.fill_empty_rows`: (filled SparseTensor, empty_row_indicator)."""
    sp_input = convert_to_sparse_tensor(sp_input)
    with _ops.name_scope(name, "SparseFillEmptyRows", [sp_input]):
        default_value = convert_to_tensor(default_value, dtype=sp_input.values.dtype)
        indices, values, empty_rows, _ = apply_op(
            "SparseFillEmptyRows", [sp_input.indices, sp_input.values, sp_input.dense_shape, default_value])
        return SparseTensor(indices, values, sp_input.dense_shape), empty_rows


def sparse_reset_shape(sp_input, new_shape=None) -> SparseTensor:
    """`tf.sparse.reset_shape`: a new dense_shape (default: the tightest one holding the indices)."""
    from graphcompat.ops import check_ops
    from graphcompat.ops.control_ops import with_dependencies
    sp_input = convert_to_sparse_tensor(sp_input)
    in_indices = _array.identity(sp_input.indices)
    in_values = _array.identity(sp_input.values)
    in_shape = _array.identity(sp_input.dense_shape)
    if new_shape is None:
        dim_low_bound = _math.reduce_max(in_indices, axis=0)
        output_shape = _math.maximum(constant(0, dtype=_dt.int64), _math.add(dim_low_bound,
                                                                               _array.ones_like(in_shape)))
    else:
        output_shape = convert_to_tensor(new_shape)
        output_shape.shape.with_rank(1)
        output_shape = _math.cast(output_shape, _dt.int64)
        if output_shape.shape.ndims is not None and in_shape.shape.ndims:
            output_shape.shape.dims[0].assert_is_compatible_with(in_shape.shape.dims[0])
        value = constant_value(output_shape)
        if value is not None and sp_input.shape.is_fully_defined():
            in_shape_const = np.array(sp_input.shape.as_list())
            if not np.all(in_shape_const <= value):
                raise ValueError(f"Requested new_shape should have dimension sizes >= sp_input.shape.  Found "
                                 f"new_shape ({in_shape_const}), sp_input.shape ({value}).")
            output_shape = value
        else:
            output_shape = with_dependencies([check_ops.assert_equal(_array.shape(in_shape),
                                                                     _array.shape(output_shape))], output_shape)
            output_shape = with_dependencies([check_ops.assert_less_equal(in_shape, output_shape)], output_shape)
    return SparseTensor(in_indices, in_values, output_shape)


def sparse_expand_dims(sp_input, axis=None, name: Optional[str] = None) -> SparseTensor:
    """`tf.sparse.expand_dims`: a size-1 dimension inserted at `axis` (default -1)."""
    from graphcompat.ops.data_dependent_ops import where_v2
    from graphcompat.ops.slicing_ops import slice as _slice
    rank = sp_input.dense_shape.shape.as_list()[0] if sp_input.dense_shape.shape.ndims else None
    if rank is None:
        rank = _array.shape(sp_input.dense_shape)[0]
    axis = -1 if axis is None else axis
    with _ops.name_scope(name, "expand_dims", [sp_input]):
        if isinstance(axis, numbers.Integral):
            axis = convert_to_tensor(axis, name="axis", dtype=_dt.int32)
        elif not isinstance(axis, _ops.Tensor):
            raise TypeError("axis must be an integer value in range [-rank(sp_input) - 1, rank(sp_input)]")
        axis = where_v2(axis >= 0, axis, axis + rank + 1)
        column_size = _array.shape(sp_input.indices)[0]
        new_index = _array.zeros(_array.stack([column_size, 1]), dtype=_dt.int64)
        indices_before = _slice(sp_input.indices, [0, 0], _array.stack([-1, axis]))
        indices_after = _slice(sp_input.indices, _array.stack([0, axis]), [-1, -1])
        indices = _array.concat([indices_before, new_index, indices_after], axis=1)
        shape_before = _slice(sp_input.dense_shape, [0], _array.stack([axis]))
        shape_after = _slice(sp_input.dense_shape, _array.stack([axis]), [-1])
        new_shape = convert_to_tensor([1], name="new_shape", dtype=_dt.int64)
        shape = _array.concat([shape_before, new_shape, shape_after], axis=0)
        return SparseTensor(indices=indices, values=sp_input.values, dense_shape=shape)


def sparse_eye(num_rows, num_columns=None, dtype=_dt.float32, name: Optional[str] = None) -> SparseTensor:
    """`tf.sparse.eye`: ones on the diagonal of a [num_rows, num_columns] SparseTensor."""
    with _ops.name_scope(name, "eye", [num_rows, num_columns]):
        num_rows = _math.cast(convert_to_tensor(num_rows, name="num_rows"), _dt.int64) \
            if isinstance(num_rows, _ops.Tensor) else convert_to_tensor(num_rows, _dt.int64, name="num_rows")
        num_columns = num_rows if num_columns is None else (
            _math.cast(num_columns, _dt.int64) if isinstance(num_columns, _ops.Tensor)
            else convert_to_tensor(num_columns, _dt.int64, name="num_columns"))
        diag_size = _math.minimum(num_rows, num_columns)
        diag_range = _math.range(diag_size, dtype=_dt.int64)
        return SparseTensor(indices=_array.stack([diag_range, diag_range], axis=1),
                            values=_array.ones(_array.reshape(diag_size, [1]), dtype=dtype),
                            dense_shape=_array.stack([num_rows, num_columns]))


# ------------------------------------------------------------------------------------------------
# Element-wise: add, maximum/minimum; merge/indicator; mask
# ------------------------------------------------------------------------------------------------
def sparse_add(a, b, threshold=None, thresh=None):
    """`tf.sparse.add`: SparseAdd of two SparseTensors (sums with |sum| < threshold dropped), or
    SparseTensorDenseAdd (a dense result) when one side is dense."""
    threshold = _argument(threshold, thresh, "threshold", "thresh")
    if threshold is None:
        threshold = 0
    if not (is_sparse(a) or is_sparse(b)):
        raise TypeError("At least one input should be SparseTensor; do you mean to use tf.add()?")
    if is_sparse(a) and is_sparse(b):
        a, b = convert_to_sparse_tensor(a), convert_to_sparse_tensor(b)
        threshold = convert_to_tensor(threshold, dtype=a.values.dtype.real_dtype.base_dtype
                                      if hasattr(a.values.dtype, "real_dtype") else a.values.dtype.base_dtype,
                                      name="threshold")
        ind, val, shape = apply_op("SparseAdd", [a.indices, a.values, a.dense_shape, b.indices, b.values,
                                                 b.dense_shape, threshold])
        a.shape.assert_is_compatible_with(b.shape)
        static = a.shape.merge_with(b.shape)
        if static.is_fully_defined():
            shape = static.as_list()
        return SparseTensor(ind, val, shape)
    if is_sparse(b):
        a, b = b, a
    a = convert_to_sparse_tensor(a)
    return apply_op("SparseTensorDenseAdd", [a.indices, a.values, a.dense_shape, b])


def _sparse_binary(op_type: str, tf_name: str):
    def binary(sp_a, sp_b, name: Optional[str] = None) -> SparseTensor:
        with _ops.name_scope(name, op_type, [sp_a.indices, sp_a.values, sp_b.indices, sp_b.values]) as name:
            ind, val = apply_op(op_type, [sp_a.indices, sp_a.values, sp_a.dense_shape, sp_b.indices, sp_b.values,
                                          sp_b.dense_shape], name=name)
        return SparseTensor(ind, val, sp_a.dense_shape)
    binary.__name__ = tf_name
    binary.__doc__ = f"`tf.sparse.{tf_name.split('_')[-1]}` ({op_type}): element-wise over the union of entries " \
                     f"(a missing entry counts as 0)."
    return binary


sparse_maximum = _sparse_binary("SparseSparseMaximum", "sparse_maximum")
sparse_minimum = _sparse_binary("SparseSparseMinimum", "sparse_minimum")


def sparse_merge(sp_ids, sp_values, vocab_size, name: Optional[str] = None, already_sorted: bool = False):
    """`tf.sparse_merge`: ids become the last index column of a [..., vocab_size] SparseTensor of values."""
    if is_sparse(sp_ids):
        if not isinstance(vocab_size, (_ops.Tensor, numbers.Integral)):
            raise TypeError(f"vocab_size has to be a Tensor or Python int. Found {type(vocab_size)}")
        sp_ids, vocab_size = [sp_ids], [vocab_size]
    elif len(sp_ids) != len(vocab_size):
        raise ValueError("sp_ids and vocab_size have to have equal lengths.")
    with _ops.name_scope(name, "SparseMerge", [sp_ids, sp_values]):
        sp_ids = [convert_to_sparse_tensor(s) for s in sp_ids]
        sp_values = convert_to_sparse_tensor(sp_values)
        ids = []
        for s in sp_ids:
            ids_dim = s.values if s.dtype == _dt.int64 else _math.cast(s.values, _dt.int64)
            ids.append(_array.expand_dims(ids_dim, axis=1))
        vocab_size = [_math.cast(x, _dt.int64) for x in vocab_size]
        new_indices = _array.concat([sp_ids[0].indices[:, :-1]] + ids, 1)
        new_shape = _array.concat([sp_ids[0].dense_shape[:-1], vocab_size], 0)
        result = SparseTensor(new_indices, sp_values.values, new_shape)
        if already_sorted:
            return result
        sorted_result = sparse_reorder(result)
        return SparseTensor(sorted_result.indices, sorted_result.values, new_shape)


def sparse_to_indicator(sp_input, vocab_size, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.sparse.to_indicator`: a dense bool [..., vocab_size] tensor, true at each id of a row."""
    sp_input = convert_to_sparse_tensor(sp_input)
    with _ops.name_scope(name, "SparseToIndicator", [sp_input]) as name:
        num_entries = _array.shape(sp_input.indices)[0]
        new_values = _array.fill(_array.expand_dims(num_entries, 0), True)
        sp_values = SparseTensor(sp_input.indices, new_values, sp_input.dense_shape)
        sp_new = sparse_merge(sp_input, sp_values, vocab_size, name)
        return sparse_tensor_to_dense(sp_new, default_value=False, validate_indices=False, name=name)


def sparse_mask(a, mask_indices, name: Optional[str] = None):
    """`tf.sparse_mask`: the rows of IndexedSlices `a` whose indices are not in `mask_indices`."""
    from graphcompat.gradients import IndexedSlices
    from graphcompat.ops.indexing_ops import gather
    from graphcompat.ops.segment_ops import setdiff1d
    with _ops.name_scope(name, "sparse_mask", [a, mask_indices]) as name:
        indices = a.indices
        out_indices, to_gather = setdiff1d(indices, mask_indices)
        out_values = gather(a.values, to_gather, name=name)
        return IndexedSlices(out_values, out_indices, a.dense_shape)


__all__ = ["SparseTensor", "SparseTensorValue", "sparse_placeholder", "from_dense", "sparse_to_dense",
           "sparse_tensor_to_dense", "sparse_tensor_dense_matmul", "sparse_reduce_sum", "sparse_reduce_max",
           "sparse_reduce_sum_sparse", "sparse_reduce_max_sparse", "sparse_softmax", "sparse_concat",
           "sparse_reorder", "sparse_reshape", "sparse_transpose", "sparse_retain", "sparse_slice", "sparse_split",
           "sparse_fill_empty_rows", "sparse_reset_shape", "sparse_expand_dims", "sparse_eye", "sparse_add",
           "sparse_maximum", "sparse_minimum", "sparse_merge", "sparse_to_indicator", "sparse_mask", "sparse_matmul"]


# ------------------------------------------------------------------------------------------------
# SparseTensor ⊙ dense: the SparseDenseCwise* ops (TF's math_ops binds them as SparseTensor operators)
# ------------------------------------------------------------------------------------------------
def _sparse_dense_cwise(op_type: str, sp_indices, sp_values, sp_shape, dense, name=None) -> _ops.Tensor:
    return apply_op(op_type, [sp_indices, sp_values, sp_shape, dense], name=name)


def _sparse_dense_truediv(sp_indices, sp_values, sp_shape, y, name=None) -> _ops.Tensor:
    """TF's _sparse_dense_truediv: integer values are divided in float, as `tf.truediv` does."""
    with _ops.name_scope(name, "truediv", [sp_indices, sp_values, sp_shape, y]) as name:
        sp_values = convert_to_tensor(sp_values, name="sp_values")
        y = convert_to_tensor(y, name="y")
        x_dtype, y_dtype = sp_values.dtype.base_dtype, y.dtype.base_dtype
        if x_dtype != y_dtype:
            raise TypeError(f"x and y must have the same dtype, got {x_dtype!r} != {y_dtype!r}")
        target = _math._truediv_dtype(x_dtype, "__truediv__")
        if target is not None:
            sp_values, y = _math.cast(sp_values, target), _math.cast(y, target)
        return _sparse_dense_cwise("SparseDenseCwiseDiv", sp_indices, sp_values, sp_shape, y, name=name)


def _sparse_operator(op_name: str, func):
    """TF's binary_op_wrapper_sparse: `sp_x <op> y` keeps sp_x's indices and shape; y, converted to the
    values' dtype, broadcasts into the sparse side only (there are no reflected operators)."""
    def operator(sp_x: SparseTensor, y) -> SparseTensor:
        with _ops.name_scope(None, op_name, [sp_x, y]) as name:
            y = convert_to_tensor(y, dtype=sp_x.dtype.base_dtype, name="y")
            return SparseTensor(sp_x.indices, func(sp_x.indices, sp_x.values, sp_x.dense_shape, y, name=name),
                                sp_x.dense_shape)
    operator.__name__ = f"__{op_name}__"
    return operator


SparseTensor.__mul__ = _sparse_operator(
    "mul", lambda *args, name=None: _sparse_dense_cwise("SparseDenseCwiseMul", *args, name=name))
SparseTensor.__div__ = _sparse_operator(
    "div", lambda *args, name=None: _sparse_dense_cwise("SparseDenseCwiseDiv", *args, name=name))
SparseTensor.__truediv__ = _sparse_operator("truediv", _sparse_dense_truediv)
