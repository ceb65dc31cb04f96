"""Lowerings of graphcompat/ops/sparse_ops.py.

Ops whose number of output entries is the number of input entries (to dense, matmul, reductions to a
dense tensor, softmax, reorder, concat, reshape, sparse+dense add) are jax.numpy rules: they compile
when the dense shape is a constant, and gradients flow through their values. Ops whose output size
depends on the index values (sparse+sparse add, maximum/minimum, fill_empty_rows, slice, split,
sparse-output reductions) are host rules in numpy, walking the entries in TF's order.

Checks and messages are TF's (sparse_to_dense_op.cc, sparse_tensor_dense_matmul_op.cc,
sparse_reduce_op.cc, reshape_util.cc, sparse_add_op.cc, sparse_fill_empty_rows_op.cc, …).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.interpreter import NeedsConcreteValues, require
from lowering.registry import lowers
from lowering.rules.math import is_static

_INVALID = errors.InvalidArgumentError


def _concrete(x) -> np.ndarray:
    """A value the rule needs on the host (a dense shape): a tracer here makes the plan run op by op."""
    return np.asarray(x)


def _dims(values) -> str:
    return ",".join(str(int(v)) for v in np.reshape(values, [-1]))


def _lex_order(indices):
    """Stable row-major (lexicographic) order of index rows."""
    indices = jnp.asarray(indices)
    if indices.shape[1] == 0:
        return jnp.arange(indices.shape[0])
    return jnp.lexsort(tuple(indices[:, d] for d in reversed(range(indices.shape[1]))))


def _np_lex_order(indices: np.ndarray) -> np.ndarray:
    if indices.shape[1] == 0:
        return np.arange(indices.shape[0])
    return np.lexsort(tuple(indices[:, d] for d in reversed(range(indices.shape[1]))))


def _compare_rows(prev, cur, xp):
    """Sign of cur - prev in lexicographic order, per row pair (-1, 0 or 1)."""
    result = xp.zeros(prev.shape[:1], prev.dtype)
    for d in reversed(range(prev.shape[1])):
        diff = cur[:, d] - prev[:, d]
        result = xp.where(diff != 0, xp.sign(diff), result)
    return result


def _first_invalid_index(indices: np.ndarray, shape) -> str | None:
    """TF's SparseTensor::IndicesValid text for the first bad index (bounds, then order)."""
    shape = np.asarray(shape)
    oob = np.any((indices < 0) | (indices >= shape), axis=1)
    order = np.r_[1, _compare_rows(indices[:-1], indices[1:], np) if len(indices) > 1 else []]
    bad = np.flatnonzero(oob | (order <= 0))
    if not bad.size:
        return None
    n = int(bad[0])
    text = f"indices[{n}] = [{_dims(indices[n])}]"
    if oob[n]:
        return f"{text} is out of bounds: need 0 <= index < [{_dims(shape)}]"
    if order[n] < 0:
        return (f"{text} is out of order. Many sparse ops require sorted indices.\n    Use `tf.sparse.reorder` to "
                f"create a correctly ordered copy.\n\n")
    return f"{text} is repeated"


def _tuple_out_of_bounds(indices: np.ndarray, shape) -> str | None:
    """The bounds check of TF's SparseTensor::IndexValid ("Sparse index tuple ...")."""
    bad = np.flatnonzero(np.any((indices < 0) | (indices >= np.asarray(shape)), axis=1))
    if not bad.size:
        return None
    n = int(bad[0])
    return f"Sparse index tuple indices[{n}, :] = [{', '.join(str(int(v)) for v in indices[n])}] is out of bounds"


# ------------------------------------------------------------------------------------------------
# SparseToDense, SparseTensorDenseMatMul, SparseTensorDenseAdd
# ------------------------------------------------------------------------------------------------
@lowers("SparseToDense")
def sparse_to_dense(indices, output_shape, values, default_value, *, validate_indices=True, **_):
    shape = tuple(int(d) for d in _concrete(output_shape).reshape(-1))
    indices = jnp.asarray(indices)
    require(indices.ndim <= 2, _INVALID,
            lambda: f"sparse_indices should be a scalar, vector, or matrix, got shape {list(indices.shape)}")
    num_elems = indices.shape[0] if indices.ndim > 0 else 1
    num_dims = indices.shape[1] if indices.ndim > 1 else 1
    idx = indices.reshape(num_elems, num_dims)
    values = jnp.asarray(values)
    require(np.ndim(output_shape) == 1, _INVALID,
            lambda: f"output_shape should be a vector, got shape {list(np.shape(output_shape))}")
    require(values.ndim == 0 or values.shape == (num_elems,), _INVALID,
            lambda: f"sparse_values has incorrect shape [{_dims(values.shape)}], should be [] or [{num_elems}]")
    require(np.ndim(default_value) == 0, _INVALID,
            lambda: f"default_value should be a scalar, got shape {list(np.shape(default_value))}")
    require(len(shape) == num_dims, _INVALID,
            lambda: f"output_shape has incorrect number of elements: {len(shape)} should be: {num_dims}")
    limits = jnp.asarray(shape, idx.dtype)
    if validate_indices:
        ok = jnp.all((idx >= 0) & (idx < limits))
        if num_elems > 1:
            ok = ok & jnp.all(_compare_rows(idx[:-1], idx[1:], jnp) > 0)
        require(ok, _INVALID, lambda: _first_invalid_index(np.asarray(idx), shape))
    else:
        require(jnp.all((idx >= 0) & (idx < limits)), _INVALID,
                lambda: _first_invalid_index(np.asarray(idx), shape))
    dense = jnp.full(shape, default_value, values.dtype)
    return dense.at[tuple(idx.T)].set(jnp.broadcast_to(values, (num_elems,)), mode="drop")


def _matmul_index_error(idx, m_col: int, k_col: int, m_limit: int, k_limit: int) -> str | None:
    idx = np.asarray(idx)
    for i in range(idx.shape[0]):
        m, k = int(idx[i, m_col]), int(idx[i, k_col])
        if not 0 <= k < k_limit:
            return f"k ({k}) from index[{i},{k_col}] out of bounds (>={k_limit})"
        if not 0 <= m < m_limit:
            return f"m ({m}) from index[{i},{m_col}] out of bounds (>={m_limit})"
    return None


@lowers("SparseTensorDenseMatMul")
def sparse_tensor_dense_matmul(a_indices, a_values, a_shape, b, *, adjoint_a=False, adjoint_b=False, **_):
    a_dims = [int(d) for d in _concrete(a_shape).reshape(-1)]
    require(len(a_dims) == 2, _INVALID, lambda: f"Tensor 'a_shape' must have 2 elements")
    b = jnp.asarray(b)
    require(b.ndim == 2, _INVALID, "Tensor 'b' is not a matrix")
    idx, values = jnp.asarray(a_indices), jnp.asarray(a_values)
    require(idx.shape[0] == values.shape[0], _INVALID,
            "Number of rows of a_indices does not match number of entries in a_values")
    m_col, k_col = (1, 0) if adjoint_a else (0, 1)
    out_rows, inner = a_dims[m_col], a_dims[k_col]
    b_eff = jnp.conj(b).T if adjoint_b else b
    require(inner == b_eff.shape[0], _INVALID,
            lambda: f"Cannot multiply A and B because inner dimension does not match: {inner} vs. {b_eff.shape[0]}.  "
                    f"Did you forget a transpose?  Dimensions of A: [{a_dims[0]}, {a_dims[1]}).  Dimensions of B: "
                    f"[{b.shape[0]},{b.shape[1]}]")
    rows, cols = idx[:, m_col], idx[:, k_col]
    require(jnp.all((cols >= 0) & (cols < b_eff.shape[0]) & (rows >= 0) & (rows < out_rows)), _INVALID,
            lambda: _matmul_index_error(idx, m_col, k_col, out_rows, b_eff.shape[0]))
    if adjoint_a:
        values = jnp.conj(values)
    products = values[:, None] * jnp.take(b_eff, cols, axis=0, mode="clip")
    return jax.ops.segment_sum(products, rows, num_segments=out_rows).astype(b.dtype)


@lowers("SparseMatMul")
def sparse_matmul(a, b, *, transpose_a=False, transpose_b=False, **_):
    a, b = jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32)
    return jnp.matmul(a.T if transpose_a else a, b.T if transpose_b else b, preferred_element_type=jnp.float32)


@lowers("SparseTensorDenseAdd")
def sparse_tensor_dense_add(a_indices, a_values, a_shape, b, **_):
    b = jnp.asarray(b)
    idx, values = jnp.asarray(a_indices), jnp.asarray(a_values)
    rank = np.shape(a_shape)[0]
    require(rank == b.ndim, _INVALID, lambda: f"Two operands have different ranks; received: {rank} and {b.ndim}")
    a_dims = jnp.asarray(a_shape)
    require(jnp.all(a_dims == jnp.asarray(b.shape, a_dims.dtype)), _INVALID, lambda: next(
        f"Dimension {d} does not equal (no broadcasting is supported): sparse side {int(s)} vs dense side {t}"
        for d, (s, t) in enumerate(zip(np.asarray(a_shape), b.shape)) if int(s) != t))
    limits = jnp.asarray(b.shape, idx.dtype)

    def message():
        bad = np.argwhere((np.asarray(idx) < 0) | (np.asarray(idx) >= np.asarray(b.shape)))[0]
        i, d = int(bad[0]), int(bad[1])
        return (f"Sparse tensor has an invalid index on dimension {d}: a_indices({i},{d}) = {int(idx[i, d])}, "
                f"dense tensor shape: {' '.join(str(s) for s in b.shape)}")
    require(jnp.all((idx >= 0) & (idx < limits)), _INVALID, message)
    return b.at[tuple(idx.T)].add(values.astype(b.dtype), mode="drop")


# ------------------------------------------------------------------------------------------------
# Reductions
# ------------------------------------------------------------------------------------------------
def _reduction_plan(indices, values, input_shape, reduction_axes, keep_dims):
    """(kept dims, output dims (keep_dims applied), linear output index per entry) with TF's checks."""
    shape = [int(d) for d in _concrete(input_shape).reshape(-1)]
    rank = len(shape)
    axes = [int(a) for a in _concrete(reduction_axes).reshape(-1)]
    for a in axes:
        require(-rank <= a < rank, _INVALID,
                lambda a=a: f"Invalid reduction dimension {a}, for input with {rank} dimensions.")
    require(np.shape(indices)[0] == np.shape(values)[0], _INVALID,
            lambda: f"indices and values rows (indexing dimension) must match. (indices = {np.shape(indices)[0]}, "
                    f"values = {np.shape(values)[0]})")
    reduced = {a % rank for a in axes}
    kept = [d for d in range(rank) if d not in reduced]
    out_dims = [1 if d in reduced else shape[d] for d in range(rank)] if keep_dims else [shape[d] for d in kept]
    kept_sizes = [shape[d] for d in kept]
    strides = np.cumprod([1] + kept_sizes[::-1])[:-1][::-1] if kept else np.zeros([0], np.int64)
    return kept, out_dims, kept_sizes, strides


def _reduce_dense(kind: str):
    def rule(indices, values, input_shape, reduction_axes, *, keep_dims=False, **_):
        kept, out_dims, kept_sizes, strides = _reduction_plan(indices, values, input_shape, reduction_axes,
                                                              keep_dims)
        idx, values = jnp.asarray(indices), jnp.asarray(values)
        size = int(np.prod(kept_sizes, dtype=np.int64))
        linear = (idx[:, kept] * jnp.asarray(strides, idx.dtype)).sum(axis=1) if kept else \
            jnp.zeros(idx.shape[:1], idx.dtype)
        def message():
            flat = np.asarray(linear)
            bad = flat[(flat < 0) | (flat >= size)][0]
            return f"Obtained a write index of {int(bad)} which is outside of bounds of [0, {size})"
        require(jnp.all((linear >= 0) & (linear < size)), errors.InternalError, message)
        if kind == "sum":
            out = jax.ops.segment_sum(values, linear, num_segments=size)
        else:
            out = jax.ops.segment_max(values, linear, num_segments=size)
            count = jax.ops.segment_sum(jnp.ones_like(linear), linear, num_segments=size)
            out = jnp.where(count > 0, out, jnp.zeros((), values.dtype))  # groups without entries hold 0
        return out.astype(values.dtype).reshape(out_dims)
    return rule


lowers("SparseReduceSum")(_reduce_dense("sum"))
lowers("SparseReduceMax")(_reduce_dense("max"))


def _reduce_sparse(kind: str):
    def rule(indices, values, input_shape, reduction_axes, *, keep_dims=False, **_):
        kept, out_dims, kept_sizes, strides = _reduction_plan(indices, values, input_shape, reduction_axes,
                                                              keep_dims)
        idx, values = np.asarray(indices), np.asarray(values)
        groups, inverse = np.unique(idx[:, kept], axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        if kind == "sum":
            out = np.zeros(len(groups), values.dtype)
            np.add.at(out, inverse, values)
        else:
            out = np.full(len(groups), values.min() if values.size else 0, values.dtype)
            np.maximum.at(out, inverse, values)
        rank = idx.shape[1]
        if keep_dims:
            out_idx = np.zeros((len(groups), rank), np.int64)
            out_idx[:, kept] = groups
        else:
            out_idx = groups.astype(np.int64).reshape(len(groups), len(kept))
        return out_idx, out, np.asarray(out_dims, np.int64)
    return rule


lowers("SparseReduceSumSparse", host=True)(_reduce_sparse("sum"))
lowers("SparseReduceMaxSparse", host=True)(_reduce_sparse("max"))


# ------------------------------------------------------------------------------------------------
# Softmax, reorder, concat, reshape
# ------------------------------------------------------------------------------------------------
@lowers("SparseSoftmax")
def sparse_softmax(sp_indices, sp_values, sp_shape, **_):
    idx, values = jnp.asarray(sp_indices), jnp.asarray(sp_values)
    require(idx.shape[1] >= 2, _INVALID,
            lambda: f"Input should have rank >= 2, but received shape: {_dims(np.asarray(sp_shape))}")
    n = idx.shape[0]
    if n == 0:
        return values
    order = _lex_order(idx)  # TF's kernel reorders; its output values follow the sorted order
    si, sv = idx[order], values[order]
    starts = jnp.concatenate([jnp.zeros([1], bool), jnp.any(si[1:, :-1] != si[:-1, :-1], axis=1)])
    group = jnp.cumsum(starts)
    shifted = sv - jax.ops.segment_max(sv, group, num_segments=n)[group]
    e = jnp.exp(shifted)
    return (e / jax.ops.segment_sum(e, group, num_segments=n)[group]).astype(values.dtype)


@lowers("SparseReorder")
def sparse_reorder(input_indices, input_values, input_shape, **_):
    idx, values = jnp.asarray(input_indices), jnp.asarray(input_values)
    require(idx.shape[0] == values.shape[0], _INVALID,
            lambda: f"Number of elements in indices ({idx.shape[0]}) and values ({values.shape[0]}) do not match")
    order = _lex_order(idx)
    return idx[order], values[order]


@lowers("SparseConcat")
def sparse_concat(*args, concat_dim, N, **_):
    indices, values, shapes = args[:N], args[N:2 * N], args[2 * N:]
    rank = np.shape(shapes[0])[0]
    for i, s in enumerate(shapes[1:], 1):
        require(np.shape(s)[0] == rank, _INVALID,
                lambda s=s, i=i: f"Ranks of all input tensors must match: expected {rank} but got "
                                 f"{np.shape(s)[0]} at position {i}")
    axis = concat_dim + rank if concat_dim < 0 else concat_dim
    require(0 <= axis < rank, _INVALID,
            lambda: f"Concat dimension must be in range [{-rank}, {rank}), got {concat_dim}")
    shapes = [jnp.asarray(s) for s in shapes]
    others = [d for d in range(rank) if d != axis]
    for i, s in enumerate(shapes[1:], 1):
        require(jnp.all(s[jnp.asarray(others, np.int32)] == shapes[0][jnp.asarray(others, np.int32)]), _INVALID,
                lambda s=s, i=i: next(f"Input shapes must match: expected {int(shapes[0][d])} for dimension {d} "
                                      f"but got {int(s[d])} at position {i}" for d in others
                                      if int(s[d]) != int(shapes[0][d])))
    offset, parts = jnp.zeros((), shapes[0].dtype), []
    for idx, s in zip(indices, shapes):
        parts.append(jnp.asarray(idx).at[:, axis].add(offset))
        offset = offset + s[axis]
    out_idx = jnp.concatenate(parts, axis=0)
    out_val = jnp.concatenate([jnp.asarray(v) for v in values])
    order = _lex_order(out_idx)
    return out_idx[order], out_val[order], shapes[0].at[axis].set(offset)


def _reshape_message(input_shape, new_shape) -> str | None:
    """TF's reshape_util.cc checks, in order, on concrete shapes."""
    in_shape, target = np.asarray(input_shape).reshape(-1), np.asarray(new_shape).reshape(-1)
    dense_size = int(np.prod(in_shape, dtype=np.int64))
    product, unknown = 1, -1
    out = [int(d) for d in target]
    for d, size in enumerate(out):
        if size == -1:
            if unknown != -1:
                return f"only one output dimension may be -1, not both {unknown} and {d}"
            unknown = d
        else:
            if size < 0:
                return f"size {d} must be non-negative, not {size}"
            product *= size
    if unknown != -1:
        if product == 0:
            return None if dense_size == 0 else (
                f"Reshape cannot infer the missing input size for an empty tensor unless all specified input "
                f"sizes are non-zero")
        missing = dense_size // product
        out[unknown] = missing
        if product * missing != dense_size:
            return (f"Input to reshape is a SparseTensor with {dense_size} dense values, but the requested shape "
                    f"requires a multiple of {product}. input_shape=[{_dims(in_shape)}] "
                    f"output_shape=[{_dims(out)}]")
    elif product != dense_size:
        return (f"Input to reshape is a tensor with {dense_size} dense values, but the requested shape has "
                f"{product}. input_shape=[{_dims(in_shape)}] output_shape=[{_dims(out)}]")
    return None


@lowers("SparseReshape")
def sparse_reshape(input_indices, input_shape, new_shape, **_):
    idx = jnp.asarray(input_indices)
    in_shape, target = jnp.asarray(input_shape), jnp.asarray(new_shape)
    dense_size = jnp.prod(in_shape)
    product = jnp.prod(jnp.where(target == -1, 1, target))
    missing = jnp.where(product == 0, 0, dense_size // jnp.where(product == 0, 1, product))
    out_shape = jnp.where(target == -1, missing, target)
    ok = (jnp.sum(target == -1) <= 1) & jnp.all(target >= -1) & (jnp.prod(out_shape) == dense_size)
    require(ok, _INVALID, lambda: _reshape_message(input_shape, new_shape))

    def strides(shape):
        strides = jnp.flip(jnp.cumprod(jnp.concatenate([jnp.ones([1], shape.dtype), jnp.flip(shape)[:-1]])))
        return jnp.where(strides == 0, 1, strides)
    # TF's walk: the linear index, then per output dim a truncating division and remainder
    remaining = (idx * strides(in_shape)).sum(axis=1)
    out_strides = strides(out_shape)
    columns = []
    for d in range(out_shape.shape[0]):
        columns.append(jax.lax.div(remaining, out_strides[d]))
        remaining = jax.lax.rem(remaining, out_strides[d])
    out_idx = jnp.stack(columns, axis=1) if columns else jnp.zeros((idx.shape[0], 0), idx.dtype)
    return out_idx.astype(idx.dtype), out_shape.astype(in_shape.dtype)


# ------------------------------------------------------------------------------------------------
# Host ops: add, maximum/minimum, fill_empty_rows, slice, split
# ------------------------------------------------------------------------------------------------
def _merge(a_idx, b_idx):
    """TF's two-pointer walk over two index lists in lexicographic order: [(i or None, j or None)]."""
    a_rows, b_rows = [tuple(r) for r in a_idx.tolist()], [tuple(r) for r in b_idx.tolist()]
    i = j = 0
    out = []
    while i < len(a_rows) and j < len(b_rows):
        if a_rows[i] < b_rows[j]:
            out.append((i, None))
            i += 1
        elif a_rows[i] > b_rows[j]:
            out.append((None, j))
            j += 1
        else:
            out.append((i, j))
            i += 1
            j += 1
    out.extend((k, None) for k in range(i, len(a_rows)))
    out.extend((None, k) for k in range(j, len(b_rows)))
    return out


def _check_same_shapes(a_shape, b_shape) -> None:
    a_shape, b_shape = np.asarray(a_shape), np.asarray(b_shape)
    require(a_shape.shape == b_shape.shape, _INVALID,
            lambda: f"Operands do not have the same ranks; got shapes: [{_dims(a_shape)}] and [{_dims(b_shape)}]")
    for d, (x, y) in enumerate(zip(a_shape, b_shape)):
        require(x == y, _INVALID, lambda x=x, y=y, d=d: f"Operands' shapes do not match: got {int(x)} and {int(y)} "
                                                         f"for dimension {d}")


@lowers("SparseAdd", host=True)
def sparse_add(a_indices, a_values, a_shape, b_indices, b_values, b_shape, thresh, **_):
    _check_same_shapes(a_shape, b_shape)
    a_idx, b_idx = np.asarray(a_indices).reshape(-1, np.size(a_shape)), np.asarray(b_indices).reshape(
        -1, np.size(b_shape))
    if not is_static(a_values, b_values):
        return _sparse_add_traced(a_idx, a_values, b_idx, b_values, a_shape, thresh)
    a_val, b_val = np.asarray(a_values), np.asarray(b_values)
    rows, vals = [], []
    for i, j in _merge(a_idx, b_idx):
        if i is not None and j is not None:
            total = a_val[i] + b_val[j]
            if thresh <= np.abs(total):
                rows.append(a_idx[i])
                vals.append(total)
        elif i is not None:
            rows.append(a_idx[i])
            vals.append(a_val[i])
        else:
            rows.append(b_idx[j])
            vals.append(b_val[j])
    out_idx = np.array(rows, np.int64).reshape(-1, a_idx.shape[1])
    return out_idx, np.array(vals, a_val.dtype).reshape(-1), np.asarray(a_shape, np.int64)


def _sparse_add_traced(a_idx, a_values, b_idx, b_values, a_shape, thresh):
    """SparseAdd of traced values (a gradient's re-trace of `tf.sparse.add`): with TF's default threshold
    (0: every sum is kept) the output's layout is the indices' alone, and its values gather from a's and b's,
    so JAX differentiates them. A positive threshold drops sums by their values: not traceable."""
    # thresh is a differentiable input, so a re-trace passes it traced; op by op its value is known
    known = np.asarray(thresh) if is_static(thresh) else getattr(thresh, "to_concrete_value", lambda: None)()
    if known is None or float(np.asarray(known)) > 0:
        raise NeedsConcreteValues("SparseAdd with a positive thresh decides its output's entries by their values")
    pairs = _merge(a_idx, b_idx)
    dtype = jnp.result_type(a_values)
    a_val, b_val = jnp.asarray(a_values, dtype).reshape(-1), jnp.asarray(b_values, dtype).reshape(-1)
    rows = [a_idx[i] if i is not None else b_idx[j] for i, j in pairs]
    out_idx = np.array(rows, np.int64).reshape(-1, a_idx.shape[1])
    if not pairs:
        return out_idx, jnp.zeros([0], dtype), np.asarray(a_shape, np.int64)
    has_a = np.array([i is not None for i, _ in pairs])
    has_b = np.array([j is not None for _, j in pairs])
    # missing operands read a stand-in row (0) that the selects below never pick; an empty operand gets one
    a_rows = (a_val if a_val.shape[0] else jnp.zeros([1], dtype))[np.array([i or 0 for i, _ in pairs])]
    b_rows = (b_val if b_val.shape[0] else jnp.zeros([1], dtype))[np.array([j or 0 for _, j in pairs])]
    values = jnp.where(has_a & has_b, a_rows + b_rows, jnp.where(has_a, a_rows, b_rows))
    return out_idx, values, np.asarray(a_shape, np.int64)


def _sparse_sparse(fn):
    def rule(a_indices, a_values, a_shape, b_indices, b_values, b_shape, **_):
        _check_same_shapes(a_shape, b_shape)
        a_idx, b_idx = np.asarray(a_indices), np.asarray(b_indices)
        for idx in (a_idx, b_idx):
            error = _tuple_out_of_bounds(idx, a_shape)
            require(error is None, _INVALID, lambda error=error: error)
        a_val, b_val = np.asarray(a_values), np.asarray(b_values)
        zero = np.zeros((), a_val.dtype)
        pairs = _merge(a_idx, b_idx)
        out_idx = np.array([a_idx[i] if i is not None else b_idx[j] for i, j in pairs], np.int64).reshape(
            -1, a_idx.shape[1])
        out = [fn(a_val[i] if i is not None else zero, b_val[j] if j is not None else zero) for i, j in pairs]
        return out_idx, np.array(out, a_val.dtype).reshape(-1)
    return rule


lowers("SparseSparseMaximum", host=True)(_sparse_sparse(np.maximum))
lowers("SparseSparseMinimum", host=True)(_sparse_sparse(np.minimum))


@lowers("SparseFillEmptyRows", host=True)
def sparse_fill_empty_rows(indices, values, dense_shape, default_value, **_):
    # the values (and the default) may be traced by a gradient's re-trace: the layout is the indices' alone
    traced = not is_static(values, default_value)
    idx, values = np.asarray(indices), (jnp.asarray(values) if traced else np.asarray(values))
    shape = np.asarray(dense_shape).reshape(-1)
    require(np.ndim(default_value) == 0, _INVALID, "default_value must be a scalar")
    require(shape.size > 0, _INVALID, "Dense shape must have at least one dimension")
    num_rows = int(shape[0])
    rows = idx[:, 0] if idx.size else np.zeros([0], np.int64)
    bad = np.flatnonzero((rows < 0) | (rows >= num_rows))
    require(not bad.size, _INVALID, lambda: f"indices({int(bad[0])}, 0) is invalid: {int(rows[bad[0]])} >= {num_rows}")
    counts = np.bincount(rows, minlength=num_rows) if rows.size else np.zeros(num_rows, np.int64)
    empty = counts == 0
    order = np.argsort(rows, kind="stable")
    # output position of every entry: entries of earlier rows plus one default entry per earlier empty row
    slots = np.cumsum(np.maximum(counts, 1)) - np.maximum(counts, 1)
    within = np.empty(len(rows), np.int64)
    within[order] = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    reverse_index_map = (slots[rows] + within).astype(np.int64) if rows.size else np.zeros([0], np.int64)
    total = int(np.maximum(counts, 1).sum())
    out_idx = np.zeros((total, idx.shape[1] if idx.ndim == 2 else shape.size), np.int64)
    out_idx[reverse_index_map] = idx
    if traced:  # the default's gradient is the sum over the rows it fills, as TF's SparseFillEmptyRowsGrad
        out_val = jnp.full(total, default_value, values.dtype).at[reverse_index_map].set(values)
    else:
        out_val = np.full(total, default_value, values.dtype)
        out_val[reverse_index_map] = values
    out_idx[slots[empty], 0] = np.flatnonzero(empty)
    return out_idx, out_val, empty, reverse_index_map


def _host_or_traced(values):
    """The values as numpy, or as traced by a gradient's re-trace: the host rules that only select entries by
    their (concrete) indices select traced values the same way, so the selection is differentiated."""
    return np.asarray(values) if is_static(values) else jnp.asarray(values)


@lowers("SparseSlice", host=True)
def sparse_slice(indices, values, shape, start, size, **_):
    idx, values = np.asarray(indices), _host_or_traced(values)
    shape, start, size = (np.asarray(x).reshape(-1) for x in (shape, start, size))
    rank = shape.size
    require(start.size == rank, _INVALID, lambda: f"Expected start to be a vector of length {rank} but got length "
                                                  f"{start.size}")
    require(size.size == rank, _INVALID, lambda: f"Expected size to be a vector of length {rank} but got length "
                                                 f"{size.size}")
    out_shape = np.where(start + size < shape, size, shape - start).astype(np.int64)
    hit = np.all((idx >= start) & (idx < start + size), axis=1) if idx.size else np.zeros(len(idx), bool)
    return (idx[hit] - start).astype(np.int64).reshape(-1, rank), values[hit], out_shape


@lowers("SparseSplit", host=True)
def sparse_split(split_dim, indices, values, shape, *, num_split, **_):
    idx, values = np.asarray(indices), _host_or_traced(values)
    shape = np.asarray(shape).reshape(-1)
    rank = shape.size
    axis = int(split_dim)
    require(-rank <= axis < rank, _INVALID, lambda: f"Input axis should be in range [{-rank}, {rank}), got {axis}")
    axis %= rank
    dim_size = int(shape[axis])
    require(1 <= num_split <= dim_size, _INVALID,
            lambda: f"Input num_split should be between 1 and the splitting dimension size ({dim_size}), got "
                    f"{num_split}")
    error = _tuple_out_of_bounds(idx, shape)
    require(error is None, _INVALID, lambda: error)
    split_size, residual = divmod(dim_size, num_split)
    # the first `residual` slices are one longer
    bounds = np.array([i * split_size + min(i, residual) for i in range(num_split + 1)])
    slice_of = np.searchsorted(bounds, idx[:, axis], side="right") - 1 if idx.size else np.zeros([0], np.int64)
    out_idx, out_val, out_shape = [], [], []
    for s in range(num_split):
        keep = slice_of == s
        part = idx[keep].copy()
        part[:, axis] -= bounds[s]
        sliced = shape.copy()
        sliced[axis] = bounds[s + 1] - bounds[s]
        out_idx.append(part.astype(np.int64).reshape(-1, rank))
        out_val.append(values[keep])
        out_shape.append(sliced.astype(np.int64))
    return tuple(out_idx) + tuple(out_val) + tuple(out_shape)


# ------------------------------------------------------------------------------------------------
# SparseDenseCwiseAdd / Mul / Div: each entry combined with the dense value it broadcasts onto
# ------------------------------------------------------------------------------------------------
def _sparse_dense_cwise(combine):
    def rule(sp_indices, sp_values, sp_shape, dense, **_):
        idx, values, dense = jnp.asarray(sp_indices), jnp.asarray(sp_values), jnp.asarray(dense)
        require(np.ndim(sp_indices) == 2, _INVALID, lambda: "Input sp_indices should be a matrix but received "
                f"shape: [{_dims(np.shape(sp_indices))}]")
        require(np.ndim(sp_values) == 1 and np.ndim(sp_shape) == 1, _INVALID, lambda: (
            "Inputs sp_values and sp_shape should be vectors but received shapes: "
            f"[{_dims(np.shape(sp_values))}] and [{_dims(np.shape(sp_shape))}]"))
        require(values.shape[0] == idx.shape[0], _INVALID, lambda: (
            f"The first dimension of values and indices should match. ({values.shape[0]} vs. {idx.shape[0]})"))
        shape = _concrete(sp_shape).astype(np.int64)
        lead = len(shape) - dense.ndim
        # TF broadcasts dense to the sparse side only: each dense dimension is 1 or the sparse one
        compatible = lead >= 0 and all(d in (1, int(s)) for d, s in zip(dense.shape, shape[max(lead, 0):]))
        require(compatible, _INVALID, lambda: (
            "SparseDenseBinaryOpShared broadcasts dense to sparse only; got incompatible shapes: "
            f"[{_dims(shape)}] vs. [{_dims(dense.shape)}]"))
        limits = jnp.asarray(shape, idx.dtype)
        require(jnp.all((idx >= 0) & (idx < limits)), _INVALID,
                "Provided indices are out-of-bounds w.r.t. dense side with broadcasted shape")
        position = tuple(idx[:, lead + j] if d != 1 else jnp.zeros(idx.shape[0], idx.dtype)
                         for j, d in enumerate(dense.shape))
        return combine(values, dense[position] if dense.ndim else jnp.broadcast_to(dense, values.shape))
    return rule


def _cwise_div(x, y):
    if jnp.issubdtype(x.dtype, jnp.integer):  # C++ integer division truncates toward zero
        q = jnp.abs(x) // jnp.abs(y)
        return jnp.where((x < 0) != (y < 0), -q, q).astype(x.dtype)
    return x / y


lowers("SparseDenseCwiseAdd")(_sparse_dense_cwise(lambda x, y: x + y))
lowers("SparseDenseCwiseMul")(_sparse_dense_cwise(lambda x, y: x * y))
lowers("SparseDenseCwiseDiv")(_sparse_dense_cwise(_cwise_div))
