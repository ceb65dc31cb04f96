"""Array ops: placeholders, identity, constants of a shape, shapes, reshaping, joining and splitting.

Padding/gathering/one-hot/reversing/broadcasting live in indexing_ops.py, slicing (`tf.slice`,
`tf.strided_slice`, `tensor[...]`) in slicing_ops.py. Lowerings live in lowering/rules/array.py under
the same TF op type names.
"""
from __future__ import annotations

import math
import numbers
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, constant_value, convert_to_tensor
from graphcompat.framework.registry import (InferenceContext, apply_op, defop, format_shape, merge_shapes,
                                            register_folders, unchanged_shape)

INDEX = (_dt.int32, _dt.int64)

__all__ = [
    "placeholder", "placeholder_with_default", "identity", "zeros", "ones", "fill", "zeros_like", "ones_like",
    "shape", "shape_n", "size", "rank", "reshape", "transpose", "concat", "stack", "unstack", "split",
    "squeeze", "expand_dims", "tile", "newaxis",
]

newaxis = None


def _rank_error(ctx: InferenceContext, expected: int, got: int) -> ValueError:
    return ctx.error(f"Shape must be rank {expected} but is rank {got}")


def _norm_axis(ctx: InferenceContext, axis: int, rank: int, what: str = "dimension") -> int:
    if not -rank <= axis < rank:
        raise ctx.error(f"Expected {what} in the range [{-rank}, {rank}), but got {axis}")
    return axis % rank


# ------------------------------------------------------------------------------------------------
# Shape functions
# ------------------------------------------------------------------------------------------------
def _pack_shape(ctx: InferenceContext):
    from graphcompat.ops.math_ops import merge_all
    shape = merge_all(ctx)
    if shape.ndims is None:
        return [_ts.unknown_shape()]
    axis = ctx.attrs["axis"]
    rank = shape.ndims + 1
    if not -rank <= axis < rank:
        raise ctx.error(f"Invalid axis: {axis}; must be in [{-rank},{rank})")
    axis = axis + rank if axis < 0 else axis
    dims = shape.as_list()
    return [_ts.TensorShape(dims[:axis] + [len(ctx.inputs)] + dims[axis:])]


def _unpack_shape(ctx: InferenceContext):
    shape, num, axis = ctx.shape(0), ctx.attrs["num"], ctx.attrs["axis"]
    if shape.ndims is None:
        return [_ts.unknown_shape()] * num
    rank = shape.ndims
    if not -rank <= axis < rank:
        raise ctx.error(f"Invalid axis: {axis}; must be in [{-rank},{rank})")
    dims = shape.as_list()
    axis %= rank
    if dims[axis] is not None and dims[axis] != num:
        raise ctx.error(f"Dimension must be {num} but is {dims[axis]}")
    return [_ts.TensorShape(dims[:axis] + dims[axis + 1:])] * num


def _reshape_shape(ctx: InferenceContext):
    value = ctx.value(1)
    if value is None:  # the shape's static part, if any (a Pack, a Shape …)
        target = ctx.value_as_shape(1)
        return [_ts.unknown_shape() if target.ndims is None else _ts.TensorShape(target.as_list())]
    dims = [int(d) for d in np.asarray(value).reshape(-1).tolist()]
    for d in dims:
        if d < -1:  # the shape read as a TensorShape (value_as_shape) refuses it, before anything else
            raise ValueError(f"Dimension {d} must be >= 0")
    if dims.count(-1) > 1:  # TF reports this when running
        return [_ts.TensorShape([None if d == -1 else d for d in dims])]
    n_in = ctx.shape(0).num_elements()
    known = math.prod(d for d in dims if d != -1)
    if -1 in dims:
        if n_in is not None and known == 0 and n_in > 0:
            shown = f"[{','.join('?' if d == -1 else str(d) for d in dims)}]"
            raise ctx.error(f"Cannot reshape a tensor with {n_in} elements to shape {shown} (0 elements)")
        if n_in is not None and known > 0:  # TF infers the -1 only from a positive product
            if n_in % known:  # TF's InferenceContext::Divide(..., evenly_divisible=true)
                raise ctx.error(f"Dimension size must be evenly divisible by {known} but is {n_in}")
            dims = [n_in // known if d == -1 else d for d in dims]
        else:
            dims = [None if d == -1 else d for d in dims]
    elif n_in is not None and n_in != known:
        text = f"[{','.join(str(d) for d in dims)}]"
        raise ctx.error(f"Cannot reshape a tensor with {n_in} elements to shape {text} ({known} elements)")
    return [_ts.TensorShape(dims)]


def _fill_shape(ctx: InferenceContext):
    if ctx.shape(0).ndims not in (None, 1):
        raise _rank_error(ctx, 1, ctx.shape(0).ndims)
    if ctx.shape(1).ndims not in (None, 0):
        raise _rank_error(ctx, 0, ctx.shape(1).ndims)
    dims = ctx.value(0)
    if dims is not None and np.any(np.asarray(dims) < 0):
        raise ctx.error("Fill dimensions must be >= 0")
    return [ctx.value_as_shape(0)]


def _shape_shape(ctx: InferenceContext):
    return [_ts.TensorShape([ctx.shape(0).ndims])]


def _shape_n_shape(ctx: InferenceContext):
    return [_ts.TensorShape([t.shape.ndims]) for t in ctx.inputs]


def _transpose_shape(ctx: InferenceContext):
    shape = ctx.shape(0)
    perm = ctx.value(1)
    perm_shape = ctx.shape(1)
    if perm_shape.ndims not in (None, 1):
        raise _rank_error(ctx, 1, perm_shape.ndims)
    rank = shape.ndims if shape.ndims is not None else (perm_shape.as_list()[0] if perm_shape.ndims else None)
    if perm is None:
        return [_ts.unknown_shape(rank)]
    perm = [int(p) for p in np.reshape(perm, [-1])]
    if rank is not None and len(perm) != rank:
        raise ctx.error(f"Dimension must be {rank} but is {len(perm)}")
    if shape.ndims is None:
        return [_ts.unknown_shape(len(perm))]
    dims = shape.as_list()
    for p in perm:
        if not -rank <= p < rank:
            raise ctx.error(f"perm dim {p} is out of range of input rank {rank}")
    return [_ts.TensorShape([dims[p % rank] for p in perm])]


def _concat_shape(ctx: InferenceContext):
    values = ctx.inputs[:-1]
    axis = ctx.value(len(ctx.inputs) - 1)
    known = [t.shape for t in values if t.shape.ndims is not None]
    if not known:
        return [_ts.unknown_shape()]
    rank = known[0].ndims
    for s in known:
        if s.ndims != rank:
            raise _rank_error(ctx, rank, s.ndims)
    if rank == 0:
        raise ctx.error("Can't concatenate scalars (use tf.stack instead)")
    if axis is None:
        return [_ts.unknown_shape(rank)]
    axis = int(axis)
    if axis >= rank or axis < -rank:
        raise ctx.error(f"Shape must be at least rank {axis + 1 if axis >= 0 else -axis} but is rank {rank}")
    axis %= rank
    out = list(known[0].as_list())
    total = 0 if len(known) == len(values) else None
    for s in known:
        dims = s.as_list()
        rest_out, rest = out[:axis] + out[axis + 1:], dims[:axis] + dims[axis + 1:]
        for i, (o, d) in enumerate(zip(rest_out, rest)):
            if o is not None and d is not None and o != d:  # TF merges the shapes without the concat axis
                raise ctx.error(f"Dimension {i} in both shapes must be equal, but are {o} and {d}. Shapes are "
                                f"{format_shape(_ts.TensorShape(rest_out))} and "
                                f"{format_shape(_ts.TensorShape(rest))}.")
        out = [o if o is not None else d for o, d in zip(out, dims)]
        if total is not None:
            total = None if dims[axis] is None else total + dims[axis]
    out[axis] = total
    return [_ts.TensorShape(out)]


def _split_shape(ctx: InferenceContext):
    axis, shape = ctx.value(0), ctx.shape(1)
    n = ctx.attrs["num_split"]
    if shape.ndims is None:
        return [_ts.unknown_shape()] * n
    if axis is None:
        return [_ts.unknown_shape(shape.ndims)] * n
    a = _norm_axis(ctx, int(axis), shape.ndims)
    dims = shape.as_list()
    if dims[a] is not None:
        if dims[a] % n:
            raise ctx.error(f"Dimension size must be evenly divisible by {n} but is {dims[a]}\n\tNumber of ways to "
                            f"split should evenly divide the split dimension")
        dims[a] //= n
    return [_ts.TensorShape(dims)] * n


def _split_v_shape(ctx: InferenceContext):
    shape, sizes, axis = ctx.shape(0), ctx.value(1), ctx.value(2)
    n = ctx.attrs["num_split"]
    if shape.ndims is None:
        return [_ts.unknown_shape()] * n
    if axis is None or sizes is None:
        return [_ts.unknown_shape(shape.ndims)] * n
    a = _norm_axis(ctx, int(axis), shape.ndims)
    sizes = [int(s) for s in np.reshape(sizes, [-1])]
    if len(sizes) != n:
        raise ctx.error(f"Dimension must be {n} but is {len(sizes)}")
    dims = shape.as_list()
    if sizes.count(-1) > 1:
        raise ctx.error("Only one dimensions can have a value of -1 in the split sizes")
    if -1 in sizes and dims[a] is not None:
        sizes[sizes.index(-1)] = dims[a] - (sum(sizes) + 1)
    if dims[a] is not None and -1 not in sizes and sum(sizes) != dims[a]:
        raise ctx.error(f"can't split axis of size {dims[a]} into pieces of size [{','.join(map(str, sizes))}]")
    return [_ts.TensorShape(dims[:a] + [None if s == -1 else s] + dims[a + 1:]) for s in sizes]


def _squeeze_shape(ctx: InferenceContext):
    shape = ctx.shape(0)
    axes = ctx.attrs["squeeze_dims"]
    if shape.ndims is None:
        return [_ts.unknown_shape()]
    rank = shape.ndims
    dims = shape.as_list()
    norm = set()
    for a in axes:
        if not -rank <= a < rank:
            raise ctx.error(f"squeeze_dims[{list(axes).index(a)}] not in [{-rank},{rank}).")
        a %= rank
        if dims[a] is not None and dims[a] != 1:
            raise ctx.error(f"Can not squeeze dim[{a}], expected a dimension of 1, got {dims[a]}")
        norm.add(a)
    if axes:
        return [_ts.TensorShape([d for i, d in enumerate(dims) if i not in norm])]
    if any(d is None for d in dims):
        return [_ts.unknown_shape()]
    return [_ts.TensorShape([d for d in dims if d != 1])]


def _expand_dims_shape(ctx: InferenceContext):
    shape, dim = ctx.shape(0), ctx.value(1)
    if dim is not None and np.size(dim) != 1:
        raise ctx.error(f"'dim' input must be a tensor with a single value")
    if shape.ndims is None or dim is None:
        return [_ts.unknown_shape(None if shape.ndims is None else shape.ndims + 1)]
    rank = shape.ndims
    d = int(np.reshape(dim, [-1])[0])
    if not -rank - 1 <= d <= rank:
        raise ctx.error(f"dim {d} not in the interval [{-rank - 1}, {rank}].")
    d = d + rank + 1 if d < 0 else d
    dims = shape.as_list()
    return [_ts.TensorShape(dims[:d] + [1] + dims[d:])]


def _tile_shape(ctx: InferenceContext):
    shape, multiples = ctx.shape(0), ctx.value(1)
    m_shape = ctx.shape(1)
    if m_shape.ndims not in (None, 1):
        raise _rank_error(ctx, 1, m_shape.ndims)
    if shape.ndims is not None and m_shape.ndims == 1 and m_shape.as_list()[0] not in (None, shape.ndims):
        raise _rank_error(ctx, shape.ndims, m_shape.as_list()[0])
    if shape.ndims is None:
        return [_ts.unknown_shape(m_shape.as_list()[0] if m_shape.ndims == 1 else None)]
    if multiples is None:
        return [_ts.unknown_shape(shape.ndims)]
    # A negative multiple is TF's run-time error ("Expected multiples[0] >= 0"), not a build-time one.
    return [_ts.TensorShape([None if d is None or m < 0 else d * int(m)
                             for d, m in zip(shape.as_list(), np.reshape(multiples, [-1]))])]


# ------------------------------------------------------------------------------------------------
# Op definitions
# ------------------------------------------------------------------------------------------------
defop("Const", "-> output: dtype")  # created directly by constant_op.constant
defop("Placeholder", "-> output: dtype", shape=lambda ctx: [ctx.attrs["shape"]])
def _placeholder_with_default_shape(ctx):
    """TF's: the input must merge with the `shape` attr (checked), the output is the attr's shape."""
    merge_shapes(ctx, ctx.shape(0), _ts.as_shape(ctx.attrs["shape"]))
    return [_ts.as_shape(ctx.attrs["shape"])]


defop("PlaceholderWithDefault", "input: dtype -> output: dtype", shape=_placeholder_with_default_shape)
defop("Identity", "input: T -> output: T", shape=unchanged_shape)
defop("Pack", "values: N * T -> output: T", attrs={"axis": 0}, shape=_pack_shape)
defop("Unpack", "value: T -> output: num * T", attrs={"axis": 0}, shape=_unpack_shape)
defop("Reshape", "tensor: T, shape: Tshape -> output: T", types={"Tshape": INDEX}, shape=_reshape_shape)
defop("Fill", "dims: index_type, value: T -> output: T", types={"index_type": INDEX}, shape=_fill_shape)
# inplace_ops.empty: a buffer of `shape` (zeros with init=True; TF leaves it uninitialized otherwise, and
# zeros are one valid such content); tf.nn.ctc_loss_v2's scan allocates its outputs with it
defop("Empty", "shape: int32 -> output: dtype", attrs={"init": False},
      shape=lambda ctx: [ctx.value_as_shape(0)])
defop("ZerosLike", "x: T -> y: T", shape=unchanged_shape)
defop("OnesLike", "x: T -> y: T", shape=unchanged_shape)
defop("Shape", "input: T -> output: out_type", attrs={"out_type": _dt.int32}, shape=_shape_shape)
defop("ShapeN", "input: N * T -> output: N * out_type", attrs={"out_type": _dt.int32}, shape=_shape_n_shape)
defop("Size", "input: T -> output: out_type", attrs={"out_type": _dt.int32}, shape=lambda ctx: [_ts.scalar()])
defop("Rank", "input: T -> output: int32", shape=lambda ctx: [_ts.scalar()])
defop("Transpose", "x: T, perm: Tperm -> y: T", types={"Tperm": INDEX}, shape=_transpose_shape)
defop("ConjugateTranspose", "x: T, perm: Tperm -> y: T", types={"Tperm": INDEX}, shape=_transpose_shape)
defop("ConcatV2", "values: N * T, axis: Tidx -> output: T", types={"Tidx": INDEX}, shape=_concat_shape)
defop("Split", "split_dim: int32, value: T -> output: num_split * T", shape=_split_shape)
defop("SplitV", "value: T, size_splits: Tlen, split_dim: int32 -> output: num_split * T",
      types={"Tlen": (_dt.int8, _dt.int32, _dt.int64)}, shape=_split_v_shape)
defop("Squeeze", "input: T -> output: T", attrs={"squeeze_dims": []}, shape=_squeeze_shape)
defop("ExpandDims", "input: T, dim: Tdim -> output: T", types={"Tdim": INDEX}, shape=_expand_dims_shape)
defop("Tile", "input: T, multiples: Tmultiples -> output: T", types={"Tmultiples": INDEX}, shape=_tile_shape)
# ------------------------------------------------------------------------------------------------
# Placeholders, identity
# ------------------------------------------------------------------------------------------------
def placeholder(dtype, shape=None, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.placeholder`: a value that must be fed (`shape=None` accepts any shape)."""
    try:
        dtype_value = _dt.as_dtype(dtype) if dtype is not None else None
    except TypeError:
        dtype_value = None
    if dtype_value is None:  # TF's make_type
        raise TypeError(f"Expected DataType for argument 'dtype' not {dtype!r}.")
    try:
        shape = _ts.as_shape(shape) if shape is not None else _ts.unknown_shape()
    except (TypeError, ValueError) as err:  # TF's make_shape
        raise type(err)(f"Error converting shape to a TensorShape: {err}.") from None
    dtype = dtype_value
    return apply_op("Placeholder", [], {"dtype": dtype, "shape": shape}, name=name)


def placeholder_with_default(input, shape, name: Optional[str] = None) -> _ops.Tensor:
    # TF calls the generated op directly: the default is converted as its `input` argument, in the op's scope
    return apply_op("PlaceholderWithDefault", [input], {"shape": _ts.as_shape(shape)}, name=name)


def identity(input, name: Optional[str] = None) -> _ops.Tensor:
    if hasattr(input, "_as_graph_element") and not isinstance(input, _ops.Tensor) and hasattr(input, "value"):
        input = input.value()
    return apply_op("Identity", [input], name=name)


# ------------------------------------------------------------------------------------------------
# Constants of a shape
# ------------------------------------------------------------------------------------------------
def _shape_tensor(shape) -> _ops.Tensor:
    """A shape argument as a 1-D int tensor (TF's `shape_as_tensor` Const, or autopacked list)."""
    if isinstance(shape, _ops.Tensor):
        return shape if shape.shape.ndims not in (None, 0) else reshape(shape, [-1])  # as TF's zeros/ones
    try:
        dims = _ts.as_shape(shape).as_list()
        if any(d is None for d in dims):
            raise ValueError(f"Cannot convert a partially known TensorShape {shape} to a Tensor.")
        big = any(d >= 2 ** 31 for d in dims)
        return constant(dims, dtype=_dt.int64 if big else _dt.int32, name="shape_as_tensor")
    except (TypeError, ValueError):
        return convert_to_tensor(shape, dtype=_dt.int32)


def _filled(value, shape, dtype: _dt.DType, name: str) -> _ops.Tensor:
    """TF's zeros/ones: a Const when the static size is below 1000 elements, else Fill."""
    if not isinstance(shape, _ops.Tensor):
        try:
            dims = [int(_ts.dimension_value(d)) for d in _ts.as_shape(shape)]
        except (TypeError, ValueError):
            dims = None
        if dims is not None and min(dims, default=0) >= 0 and int(np.prod(dims, dtype=np.int64)) < 1000:
            return constant(value, dtype=dtype, shape=dims, name=name)
    shape = _shape_tensor(shape)
    return apply_op("Fill", [shape, constant(value, dtype=dtype)], name=name)


def zeros(shape, dtype=_dt.float32, name: Optional[str] = None) -> _ops.Tensor:
    dtype = _dt.as_dtype(dtype).base_dtype
    with _ops.name_scope(name, "zeros", [shape]) as name:
        zero = False if dtype == _dt.bool_ else "" if dtype == _dt.string else 0
        return _filled(zero, shape, dtype, name)


def ones(shape, dtype=_dt.float32, name: Optional[str] = None) -> _ops.Tensor:
    dtype = _dt.as_dtype(dtype).base_dtype
    with _ops.name_scope(name, "ones", [shape]) as name:
        one = True if dtype == _dt.bool_ else 1
        return _filled(one, shape, dtype, name)


def fill(dims, value, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("Fill", [dims, value], name=name)


def zeros_like(tensor, dtype=None, name: Optional[str] = None, optimize: bool = True) -> _ops.Tensor:
    """A Const `zeros_like` for static shapes; ZerosLike (or Fill for a new dtype) otherwise."""
    with _ops.name_scope(name, "zeros_like", [tensor]) as name:
        tensor = convert_to_tensor(tensor, name="tensor")
        dtype = _dt.as_dtype(dtype).base_dtype if dtype is not None else None
        if optimize and tensor.shape.is_fully_defined():
            return zeros(tensor.shape, dtype=dtype or tensor.dtype.base_dtype, name=name)
        if dtype is not None and dtype != tensor.dtype.base_dtype:
            return zeros(_shape_internal(tensor, optimize=optimize), dtype=dtype, name=name)
        return apply_op("ZerosLike", [tensor], name=name)


def ones_like(tensor, dtype=None, name: Optional[str] = None, optimize: bool = True) -> _ops.Tensor:
    """TF: Fill(Shape(tensor), 1) named `ones_like` (its shape Const when static)."""
    with _ops.name_scope(name, "ones_like", [tensor]) as name:
        tensor = convert_to_tensor(tensor, name="tensor")
        dims = _shape_internal(tensor, optimize=optimize)
        dtype = _dt.as_dtype(dtype).base_dtype if dtype is not None else tensor.dtype.base_dtype
        result = ones(dims, dtype=dtype, name=name)
        result.set_shape(tensor.shape)
        return result


# ------------------------------------------------------------------------------------------------
# Shapes
# ------------------------------------------------------------------------------------------------
def _shape_internal(input, name=None, optimize=True, out_type=None) -> _ops.Tensor:
    with _ops.name_scope(name, "Shape", [input]) as name:
        input = convert_to_tensor(input)
        if optimize and input.shape.is_fully_defined():
            if out_type is None:  # TF converts the TensorShape: a Const `Shape/shape_as_tensor`
                return _shape_tensor(input.shape)
            return constant(input.shape.as_list(), _dt.as_dtype(out_type), name=name)
        out_type = _dt.as_dtype(out_type) if out_type is not None else _dt.int32
        return apply_op("Shape", [input], {"out_type": out_type}, name=name)


def shape(input, name: Optional[str] = None, out_type=_dt.int32) -> _ops.Tensor:
    """`tf.shape`: a Const when the static shape is fully defined (as TF's graph mode), else Shape."""
    return _shape_internal(input, name, optimize=True, out_type=out_type or _dt.int32)


def shape_n(input, out_type=_dt.int32, name: Optional[str] = None) -> list:
    return apply_op("ShapeN", [list(input)], {"out_type": _dt.as_dtype(out_type)}, name=name)


def size(input, name: Optional[str] = None, out_type=_dt.int32) -> _ops.Tensor:
    with _ops.name_scope(name, "Size", [input]) as name:
        input = convert_to_tensor(input)
        out_type = _dt.as_dtype(out_type)
        s = input.shape
        if s.is_fully_defined():
            return constant(s.num_elements(), out_type, name=name)
        if s.ndims is not None and any(d == 0 for d in s.as_list()):
            return constant(0, out_type, name=name)
        return apply_op("Size", [input], {"out_type": out_type}, name=name)


def rank(input, name: Optional[str] = None) -> _ops.Tensor:
    with _ops.name_scope(name, "Rank", [input]) as name:
        input = convert_to_tensor(input)
        if input.shape.ndims is not None:
            return constant(input.shape.ndims, _dt.int32, name=name)
        return apply_op("Rank", [input], name=name)


# ------------------------------------------------------------------------------------------------
# Reshaping, joining, splitting
# ------------------------------------------------------------------------------------------------
def reshape(tensor, shape, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("Reshape", [tensor, shape], name=name)


def transpose(a, perm=None, name: str = "transpose", conjugate: bool = False) -> _ops.Tensor:
    """`tf.transpose`: perm defaults to reversing the axes (a Const `transpose/perm`)."""
    with _ops.name_scope(name, "transpose", [a]) as name:
        a = convert_to_tensor(a, name="a")
        op_type = "ConjugateTranspose" if conjugate and a.dtype.is_complex else "Transpose"
        if perm is None:
            r = a.shape.ndims
            if r is None:
                from graphcompat.ops.math_ops import range as _range
                rk = rank(a)
                perm = _range(rk - 1, -1, -1)
            else:
                return apply_op(op_type, [a, constant(np.arange(r - 1, -1, -1, dtype=np.int32), name="perm")],
                                name=name)
        return apply_op(op_type, [a, perm], name=name)


class _DefaultName(str):
    """A default op name that can be told from the same name passed explicitly: TF's ragged dispatch passes
    only the caller's arguments, so an unnamed tf.concat of RaggedTensors is scoped `RaggedConcat`."""


_CONCAT = _DefaultName("concat")
_STACK = _DefaultName("stack")


def concat(values, axis, name: str = _CONCAT) -> _ops.Tensor:
    """`tf.concat` (ConcatV2, axis input last); a single value is an Identity `concat/concat`. RaggedTensor
    values go to TF's ragged concat (under `RaggedConcat` unless named, as TF's dispatch)."""
    if not isinstance(values, (list, tuple)):
        values = [values]
    if _any_ragged(values):
        from graphcompat.ragged.ragged_math_ops import concat as ragged_concat
        return ragged_concat(values, axis, name=None if name is _CONCAT else name)
    if len(values) == 1:
        with _ops.name_scope(name) as scope:
            axis_t = convert_to_tensor(axis, name="concat_dim", dtype=_dt.int32)
            if axis_t.shape.ndims not in (None, 0):
                raise ValueError(f"Shape {axis_t.shape} must have rank 0")
            return identity(values[0], name=name if not name.endswith("/") else scope)
    return apply_op("ConcatV2", [list(values), axis], name=name)


def stack(values, axis: int = 0, name: str = _STACK) -> _ops.Tensor:
    """`tf.stack`: a Const for constant lists (axis 0), else Pack; RaggedTensor values go to tf.ragged.stack."""
    if isinstance(values, (list, tuple)) and _any_ragged(values):
        from graphcompat.ragged.ragged_math_ops import stack as ragged_stack
        return ragged_stack(values, axis, name=None if name is _STACK else name)
    if axis == 0:
        try:
            return convert_to_tensor(values, name=name)
        except (TypeError, ValueError, NotImplementedError):
            pass
    values = list(values)
    value_shape = convert_to_tensor(values[0], name=name).shape
    if value_shape.ndims is not None:
        expanded = value_shape.ndims + 1
        if not -expanded <= axis < expanded:
            raise ValueError(f"Argument `axis` = {axis} not in range [{-expanded}, {expanded})")
    return apply_op("Pack", [values], {"axis": axis}, name=name)


def _any_ragged(values) -> bool:
    """Whether TF's ragged dispatch takes over: a RaggedTensor among `values` (none can exist before
    graphcompat.ragged loads, so the check imports nothing)."""
    import sys
    module = sys.modules.get("graphcompat.ragged.ragged_tensor")
    return module is not None and any(isinstance(v, module.RaggedTensor) for v in values)


def _nested_dtype(values):
    """The dtype of the first Tensor in nested lists (TF's `_get_dtype_from_nested_lists`), or None."""
    for v in values:
        if isinstance(v, _ops.Tensor):
            return v.dtype.base_dtype
        if isinstance(v, (list, tuple)):
            found = _nested_dtype(v)
            if found is not None:
                return found
    return None


def _autopacking(values, dtype, name: str) -> _ops.Tensor:
    """A nested list containing Tensors → Pack ops (TF's autopacking conversion): the dtype is the first
    Tensor's; a sub-list without Tensors becomes one Const, as TF's `_autopacking_helper` leaves it."""
    return _autopacking_helper(values, dtype if dtype is not None else _nested_dtype(values), name)


def _autopacking_helper(values, dtype, name: str):
    with _ops.name_scope(name) as scope:
        converted, must_pack = [], False
        for i, v in enumerate(values):
            if isinstance(v, (list, tuple)):
                v = _autopacking_helper(v, dtype, str(i))
            elif hasattr(v, "_as_graph_element") and not isinstance(v, _ops.Tensor):
                v = convert_to_tensor(v, dtype=dtype)
            if isinstance(v, _ops.Tensor):
                if dtype is not None and v.dtype.base_dtype != dtype:
                    raise TypeError(f"Cannot convert a list containing a tensor of dtype {v.dtype} to {dtype} "
                                    f"(Tensor is: {v!r})")
                must_pack = True
            converted.append(v)
        if not must_pack:
            return converted
        converted = [convert_to_tensor(v, dtype=dtype, name=str(i)) if not isinstance(v, _ops.Tensor) else v
                     for i, v in enumerate(converted)]
        return apply_op("Pack", [converted], {"axis": 0}, name=scope)


def unstack(value, num: Optional[int] = None, axis: int = 0, name: str = "unstack") -> list:
    with _ops.name_scope(name, "unstack", [value]) as scope:
        value = convert_to_tensor(value)
        if num is None:
            s = value.shape
            if s.ndims is not None:
                if axis < -s.ndims or axis >= s.ndims:
                    raise ValueError(f"Argument `axis` = {axis} not in range [{-s.ndims}, {s.ndims})")
                num = s.as_list()[axis]
            if num is None:
                raise ValueError(f"Cannot infer argument `num` from shape {s}")
        return apply_op("Unpack", [value], {"num": int(num), "axis": axis}, name=scope)


def split(value, num_or_size_splits, axis=0, num=None, name: str = "split") -> list:
    """`tf.split`: Split for an int count, SplitV for a list of sizes."""
    if isinstance(num_or_size_splits, (numbers.Integral, _ts.Dimension)) and \
            not isinstance(num_or_size_splits, bool):
        n = int(num_or_size_splits)
        return apply_op("Split", [axis, value], {"num_split": n}, name=name)
    size_splits = convert_to_tensor(num_or_size_splits)
    if size_splits.shape.ndims == 0:
        raise ValueError(f"Rank-0 tensors are not supported as the num_or_size_splits argument to split. "
                         f"Argument provided: {num_or_size_splits}")
    if num is None:
        s = size_splits.shape
        if s.ndims == 1 and s.as_list()[0] is not None:
            num = s.as_list()[0]
        if num is None:
            raise ValueError(f"Cannot infer argument `num` from shape {num_or_size_splits}")
    return apply_op("SplitV", [value, size_splits, axis], {"num_split": int(num)}, name=name)


def squeeze(input, axis=None, name: Optional[str] = None, squeeze_dims=None) -> _ops.Tensor:
    from graphcompat.ops.math_ops import _lookup
    axis = _lookup("axis", axis, "squeeze_dims", squeeze_dims)
    if np.isscalar(axis):
        axis = [axis]
    return apply_op("Squeeze", [input], {"squeeze_dims": [int(a) for a in (axis or [])]}, name=name)


def expand_dims(input, axis=None, name: Optional[str] = None, dim=None) -> _ops.Tensor:
    from graphcompat.ops.math_ops import _lookup
    axis = _lookup("axis", axis, "dim", dim)
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    return apply_op("ExpandDims", [input, axis], name=name)


def tile(input, multiples, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("Tile", [input, multiples], name=name)


# ------------------------------------------------------------------------------------------------
# Build-time folding of shape plumbing (TF's shape inference evaluates these constant subgraphs)
# ------------------------------------------------------------------------------------------------
def _fold_inputs(t):
    values = [constant_value(x) for x in t.op.inputs]
    return None if any(v is None for v in values) else values


def _fold_reshape(t):
    v = _fold_inputs(t)
    return None if v is None else np.reshape(v[0], [int(d) for d in np.reshape(v[1], [-1])])


def _fold_expand_dims(t):
    v = _fold_inputs(t)
    return None if v is None else np.expand_dims(v[0], int(np.reshape(v[1], [-1])[0]))


def _fold_squeeze(t):
    x = constant_value(t.op.inputs[0])
    axes = t.op.attrs["squeeze_dims"]
    return None if x is None else np.squeeze(x, axis=tuple(axes) if axes else None)


def _fold_transpose(t):
    v = _fold_inputs(t)
    return None if v is None else np.transpose(v[0], [int(p) for p in v[1]])


def _fold_unpack(t):
    """TF's constant_value folds an Unpack along axis 0 (not other axes)."""
    if t.op.attrs["axis"] != 0:
        return None
    v = _fold_inputs(t)
    return None if v is None else np.asarray(v[0][t.value_index])


def _fold_shape_n(t):
    shape = t.op.inputs[t.value_index].shape
    return np.array(shape.as_list(), t.dtype.as_numpy_dtype) if shape.is_fully_defined() else None


register_folders({"Reshape": _fold_reshape, "ExpandDims": _fold_expand_dims, "Squeeze": _fold_squeeze,
                         "Transpose": _fold_transpose, "ShapeN": _fold_shape_n,
                  "Unpack": _fold_unpack})
