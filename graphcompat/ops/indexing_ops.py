"""Padding, gathering, one-hot, reversing, broadcasting, sequence masks and meshgrid.

Lowerings live in lowering/rules/array.py under the same TF op type names.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.framework.registry import (InferenceContext, apply_op, defop, format_shape, merge_shapes,
                                            register_folders)
from graphcompat.ops.array_ops import (INDEX, _fold_inputs, _norm_axis, _rank_error, expand_dims, ones, reshape,
                                       size, stack)

__all__ = ["pad", "gather", "gather_nd", "one_hot", "reverse", "reverse_v2", "sequence_mask", "broadcast_to",
           "meshgrid", "scatter_nd", "tensor_scatter_nd_update", "tensor_scatter_nd_add", "tensor_scatter_nd_sub",
           "tensor_scatter_nd_max", "tensor_scatter_nd_min", "reverse_sequence", "roll", "identity_n",
           "space_to_depth", "depth_to_space"]


# ------------------------------------------------------------------------------------------------
# Shape functions
# ------------------------------------------------------------------------------------------------
def _pad_shape(ctx: InferenceContext):
    shape, paddings = ctx.shape(0), ctx.value(1)
    p_shape = ctx.shape(1)
    if p_shape.ndims not in (None, 2):
        raise _rank_error(ctx, 2, p_shape.ndims)
    if p_shape.ndims == 2 and p_shape.as_list()[1] not in (None, 2):
        raise ctx.error(f"Dimension must be 2 but is {p_shape.as_list()[1]}")
    if shape.ndims is not None and p_shape.ndims == 2 and p_shape.as_list()[0] not in (None, shape.ndims):
        raise _rank_error(ctx, p_shape.as_list()[0], shape.ndims)
    rank = shape.ndims if shape.ndims is not None else (p_shape.as_list()[0] if p_shape.ndims == 2 else None)
    if paddings is None:
        return [_ts.unknown_shape(rank)]
    paddings = np.reshape(paddings, [-1, 2])
    if (paddings < 0).any():
        raise ctx.error(f"The first dimension of paddings must be the rank of inputs"
                        if paddings.shape[0] != rank else "Paddings must be non-negative")
    dims = shape.as_list() if shape.ndims is not None else [None] * len(paddings)
    return [_ts.TensorShape([None if d is None else d + int(lo) + int(hi) for d, (lo, hi) in zip(dims, paddings)])]


def _gather_shape(ctx: InferenceContext):
    params, indices, axis = ctx.shape(0), ctx.shape(1), ctx.value(2)
    batch_dims = ctx.attrs["batch_dims"]
    if params.ndims is None or indices.ndims is None or axis is None:
        return [_ts.unknown_shape()]
    axis = int(axis)
    if axis < 0:
        axis += params.ndims
    if batch_dims < 0:
        batch_dims += indices.ndims
    if not 0 <= axis < params.ndims:
        raise ctx.error(f"Shape must be at least rank {axis + 1} but is rank {params.ndims}")
    if batch_dims > axis:
        raise ctx.error(f"batch_dims ({batch_dims}) must be less than or equal to axis ({axis}).")
    p, i = params.as_list(), indices.as_list()
    return [_ts.TensorShape(p[:axis] + i[batch_dims:] + p[axis + 1:])]


def _gather_nd_shape(ctx: InferenceContext):
    params, indices = ctx.shape(0), ctx.shape(1)
    if params.ndims is None or indices.ndims is None or indices.as_list()[-1] is None:
        return [_ts.unknown_shape()]
    i = indices.as_list()
    depth = i[-1]
    if depth > params.ndims:
        raise ctx.error(f"indices.shape[-1] must be <= params.rank, but saw indices shape: "
                        f"{format_shape(indices)} and params shape: {format_shape(params)}")
    return [_ts.TensorShape(i[:-1] + params.as_list()[depth:])]


def _one_hot_shape(ctx: InferenceContext):
    indices, depth = ctx.shape(0), ctx.value(1)
    axis = ctx.attrs["axis"]
    if axis < -1:
        raise ctx.error(f"axis must be >= -1")
    if indices.ndims is None:
        return [_ts.unknown_shape()]
    dims = indices.as_list()
    d = None if depth is None else int(depth)
    if d is not None and d < 0:
        raise ctx.error(f"Dimension size, given by scalar input 1, must be non-negative but is {d}")
    pos = len(dims) if axis == -1 else axis
    if pos > len(dims):
        raise ctx.error(f"Expected axis to be -1 or between [0, {len(dims) + 1}).  But received: {axis}")
    return [_ts.TensorShape(dims[:pos] + [d] + dims[pos:])]


def _broadcast_to_shape(ctx: InferenceContext):
    target = ctx.value_as_shape(1)
    shape = ctx.shape(0)
    if target.ndims is None or shape.ndims is None:
        return [target]
    if shape.ndims > target.ndims:
        raise ctx.error(f"Rank of input ({shape.ndims}) must be no greater than rank of output shape "
                        f"({target.ndims}).")
    t = target.as_list()
    for d, o in zip(reversed(shape.as_list()), reversed(t)):
        if d is not None and o is not None and d != 1 and d != o:
            raise ctx.error(f"Dimensions must be equal, but are {d} and {o}")
    return [target]


def _reverse_shape(ctx: InferenceContext):
    shape, axes = ctx.shape(0), ctx.value(1)
    if shape.ndims is not None and axes is not None:
        seen = set()
        for i, a in enumerate(np.reshape(axes, [-1])):
            if not -shape.ndims <= int(a) < shape.ndims:
                raise ctx.error(f"'axis'[{i}] = {int(a)} is out of valid range [0, {shape.ndims - 1}")
            canonical = int(a) % shape.ndims
            if canonical in seen:
                raise ctx.error(f"axis {canonical} specified more than once.")
            seen.add(canonical)
    return [shape]


def _scatter_nd_shape(ctx: InferenceContext):
    indices, updates = ctx.shape(0), ctx.shape(1)
    shape = ctx.value_as_shape(2)
    _check_scatter(ctx, indices, updates, shape)
    return [shape]


def _tensor_scatter_shape(ctx: InferenceContext):
    _check_scatter(ctx, ctx.shape(1), ctx.shape(2), ctx.shape(0))
    return [ctx.shape(0)]


def _check_scatter(ctx: InferenceContext, indices, updates, shape):
    if indices.ndims is None or updates.ndims is None or shape.ndims is None:
        return
    i, u, s = indices.as_list(), updates.as_list(), shape.as_list()
    depth = i[-1] if i else None
    if depth is None:
        return
    expected = i[:-1] + s[depth:]
    if len(expected) != len(u) or any(a is not None and b is not None and a != b for a, b in zip(expected, u)):
        raise ctx.error(f"Dimensions [{len(i) - 1},{len(u)}) of updates[shape={format_shape(updates)}] = "
                        f"{format_shape(_ts.TensorShape(u[len(i) - 1:]))} must match dimensions [{depth},{len(s)}) "
                        f"of input[shape={format_shape(shape)}] = {format_shape(_ts.TensorShape(s[depth:]))}"
                        if len(expected) == len(u) or len(u) >= len(i) - 1 else
                        f"The outer {len(i) - 1} dimensions of indices.shape={format_shape(indices)} must match "
                        f"the outer {len(i) - 1} dimensions of updates.shape={format_shape(updates)}")


def _depth_shape(ctx: InferenceContext):
    """TF's SpaceToDepth/DepthToSpace shape function in each layout: NHWC, NCHW, or NCHW_VECT_C (rank 5,
    [N, C, H, W, 4]: the outer channel dim is the depth it checks and rewrites, the inner 4 stays)."""
    s, b, fmt = ctx.shape(0), ctx.attrs["block_size"], ctx.attrs.get("data_format", "NHWC")
    rank = 5 if fmt == "NCHW_VECT_C" else 4
    if s.ndims is None:
        return [_ts.TensorShape([None] * 4 + [4]) if rank == 5 else _ts.unknown_shape(4)]
    if s.ndims != rank:
        raise _rank_error(ctx, rank, s.ndims)
    dims = s.as_list()
    n, c, h, w = (dims[0], dims[3], dims[1], dims[2]) if fmt == "NHWC" else dims[:4]
    if ctx.op_type == "SpaceToDepth":
        for d in (h, w):
            if d is not None and d % b:
                raise ctx.error(f"Dimension size must be evenly divisible by {b} but is {d}")
        h, w, c = h and h // b, w and w // b, c and c * b * b
    else:
        if c is not None and c % (b * b):
            raise ctx.error(f"Dimension size must be evenly divisible by {b * b} but is {c}")
        h, w, c = h and h * b, w and w * b, c and c // (b * b)
    if fmt == "NHWC":
        return [_ts.TensorShape([n, h, w, c])]
    return [_ts.TensorShape([n, c, h, w] + ([4] if rank == 5 else []))]


# ------------------------------------------------------------------------------------------------
# Op definitions
# ------------------------------------------------------------------------------------------------
defop("Pad", "input: T, paddings: Tpaddings -> output: T", types={"Tpaddings": INDEX}, shape=_pad_shape)
defop("PadV2", "input: T, paddings: Tpaddings, constant_values: T -> output: T", types={"Tpaddings": INDEX},
      shape=_pad_shape)
defop("MirrorPad", "input: T, paddings: Tpaddings -> output: T", types={"Tpaddings": INDEX}, shape=_pad_shape)
defop("GatherV2", "params: Tparams, indices: Tindices, axis: Taxis -> output: Tparams", attrs={"batch_dims": 0},
      types={"Tindices": (_dt.int16, _dt.int32, _dt.int64), "Taxis": INDEX}, shape=_gather_shape)
defop("GatherNd", "params: Tparams, indices: Tindices -> output: Tparams", attrs={"bad_indices_policy": ""},
      types={"Tindices": (_dt.int16, _dt.int32, _dt.int64)}, shape=_gather_nd_shape)
defop("OneHot", "indices: TI, depth: int32, on_value: T, off_value: T -> output: T", attrs={"axis": -1},
      types={"TI": (_dt.uint8, _dt.int8, _dt.int32, _dt.int64)}, shape=_one_hot_shape)
defop("ReverseV2", "tensor: T, axis: Tidx -> output: T", types={"Tidx": INDEX}, shape=_reverse_shape)
defop("BroadcastTo", "input: T, shape: Tidx -> output: T", types={"Tidx": INDEX}, shape=_broadcast_to_shape)
_SCATTER_INDEX = (_dt.int16, _dt.int32, _dt.int64)
defop("ScatterNd", "indices: Tindices, updates: T, shape: Tindices -> output: T", attrs={"bad_indices_policy": ""},
      types={"Tindices": _SCATTER_INDEX}, shape=_scatter_nd_shape)
for _op in ("TensorScatterUpdate", "TensorScatterAdd", "TensorScatterSub", "TensorScatterMax", "TensorScatterMin"):
    defop(_op, "tensor: T, indices: Tindices, updates: T -> output: T", attrs={"bad_indices_policy": ""},
          types={"Tindices": _SCATTER_INDEX}, shape=_tensor_scatter_shape)
defop("ReverseSequence", "input: T, seq_lengths: Tlen -> output: T", attrs={"batch_dim": 0},
      types={"Tlen": INDEX}, shape=lambda ctx: [ctx.shape(0)])
def _roll_shape(ctx: InferenceContext) -> list:
    """TF's Roll shape function: input of rank >= 1, shift and axis scalars or vectors that Merge (the same
    static size), with TF's texts."""
    rank = ctx.shape(0).ndims
    if rank is not None and rank < 1:
        raise ctx.error(f"Shape must be at least rank 1 but is rank {rank}")
    for k in (1, 2):
        rank = ctx.shape(k).ndims
        if rank is not None and rank > 1:
            raise ctx.error(f"Shape must be at most rank 1 but is rank {rank}")
    merge_shapes(ctx, ctx.shape(1), ctx.shape(2))
    return [ctx.shape(0)]


defop("Roll", "input: T, shift: Tshift, axis: Taxis -> output: T", types={"Tshift": INDEX, "Taxis": INDEX},
      shape=_roll_shape)
defop("IdentityN", "input: *T -> output: *T", shape=lambda ctx: [t.shape for t in ctx.inputs])
for _op in ("SpaceToDepth", "DepthToSpace"):
    defop(_op, "input: T -> output: T", attrs={"data_format": "NHWC"}, shape=_depth_shape)


# ------------------------------------------------------------------------------------------------
# Builders
# ------------------------------------------------------------------------------------------------
def pad(tensor, paddings, mode: str = "CONSTANT", name: Optional[str] = None, constant_values=0) -> _ops.Tensor:
    """`tf.pad`: Pad, PadV2 (non-zero constant_values), or MirrorPad (REFLECT/SYMMETRIC); mode any case."""
    mode = mode.upper()
    if mode == "CONSTANT":
        if not isinstance(constant_values, _ops.Tensor) and np.ndim(constant_values) == 0 and \
                constant_values == np.zeros_like(constant_values):
            return apply_op("Pad", [tensor, paddings], name=name)
        return apply_op("PadV2", [tensor, paddings, constant_values], name=name)
    if mode in ("REFLECT", "SYMMETRIC"):
        return apply_op("MirrorPad", [tensor, paddings], {"mode": mode}, name=name)
    raise ValueError(f'Value of argument `mode` expected to be one of "CONSTANT", "REFLECT", or "SYMMETRIC". '
                     f"Received `mode` = {mode}")


def gather(params, indices, validate_indices=None, name: Optional[str] = None, axis=None,
           batch_dims: int = 0) -> _ops.Tensor:
    """`tf.gather` (GatherV2 with an `axis` input and `batch_dims` attr)."""
    if axis is None:
        axis = batch_dims
    params = convert_to_tensor(params, name="params") if not isinstance(params, _ops.Tensor) else params
    return apply_op("GatherV2", [params, indices, axis], {"batch_dims": int(batch_dims)}, name=name)


def gather_nd(params, indices, name: Optional[str] = None, batch_dims: int = 0,
              bad_indices_policy: str = "") -> _ops.Tensor:
    """`tf.gather_nd`: GatherNd; with `batch_dims` (an int, or a tensor of constant value) other than 0,
    TF's Python composition under `BatchGatherND` (index grid of the batch coordinates, one GatherNd)."""
    from graphcompat.framework.constant_op import constant_value
    value = constant_value(batch_dims) if isinstance(batch_dims, _ops.Tensor) else batch_dims
    if value is not None:
        batch_dims = int(value)
    if isinstance(batch_dims, int) and batch_dims == 0:
        return apply_op("GatherNd", [params, indices], {"bad_indices_policy": bad_indices_policy}, name=name)
    return _batch_gather_nd(params, indices, batch_dims, name, bad_indices_policy)


def _batch_gather_nd(params, indices, batch_dims, name, bad_indices_policy) -> _ops.Tensor:
    """params [b1..bM, g1..gN], indices [b1..bM, i1..iK, C]: the batch coordinates of every index row
    (a meshgrid over the batch dims, tiled over i1..iK) are prepended to its C coordinates, so one
    GatherNd over the whole of `params` gives [B, i1..iK, ...], reshaped back to [b1..bM, ...]."""
    from graphcompat.ops.array_ops import concat, rank, shape, tile, transpose, unstack
    with _ops.name_scope(name, "BatchGatherND", [params, indices]):
        indices = convert_to_tensor(indices, name="indices")
        params = convert_to_tensor(params, name="params")
        if not isinstance(batch_dims, int):
            raise TypeError(f"Argument `batch_dims` must be an int; got {batch_dims}")
        if batch_dims < 0:
            raise ValueError("tf.gather_nd does not allow negative batch_dims.")
        for arg, ndims in (("indices", indices.shape.ndims), ("params", params.shape.ndims)):
            if ndims is not None and batch_dims >= ndims:
                raise ValueError(f"Argument `batch_dims` = {batch_dims} must be less than rank(`{arg}`) = {ndims}")
        params_shape = shape(params)
        indices_shape = shape(indices)
        batch_shape = params_shape[:batch_dims]
        batch_size = apply_op("Prod", [batch_shape, [0]], {"keep_dims": False})
        index_internal_ndims = rank(indices) - batch_dims - 1
        indices_internal_shape = indices_shape[batch_dims:-1]
        def cast(x, dtype):  # TF's gen_math_ops.cast: a Cast op even to the same dtype
            return apply_op("Cast", [x], {"DstT": dtype, "Truncate": False})
        ranges = [cast(apply_op("Range", [0, cast(d, _dt.int32), 1]), indices.dtype.base_dtype)
                  for d in unstack(batch_shape, axis=0)]
        grid = [reshape(m, (-1,)) for m in meshgrid(*ranges, indexing="ij")]
        index_grid = transpose(stack(grid, axis=0))          # [B, M]: the batch coordinates of each batch row
        grid_shape = shape(index_grid)
        index_grid = reshape(index_grid, concat([grid_shape[:1], ones(index_internal_ndims, dtype=grid_shape.dtype),
                                                 grid_shape[1:]], axis=0))
        index_grid = tile(index_grid, concat(((1,), indices_internal_shape, (1,)), axis=0))
        flat_indices = reshape(indices, concat(([batch_size], indices_shape[batch_dims:]), axis=0))
        full = concat((index_grid, flat_indices), axis=-1)   # [B, i1..iK, M + C]
        out = apply_op("GatherNd", [params, full], {"bad_indices_policy": bad_indices_policy})
        return reshape(out, concat((batch_shape, shape(out)[1:]), axis=0))


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None,
            name: Optional[str] = None) -> _ops.Tensor:
    """`tf.one_hot`: dtype from on/off values when given, float32 otherwise."""
    with _ops.name_scope(name, "one_hot", [indices, depth, on_value, off_value, axis, dtype]) as name:
        dtype = _dt.as_dtype(dtype).base_dtype if dtype is not None else None
        on_exists, off_exists = on_value is not None, off_value is not None
        if on_exists:
            on_value = convert_to_tensor(on_value, dtype_hint=dtype)
        if off_exists:
            off_value = convert_to_tensor(off_value, dtype_hint=dtype)
        on_dtype = on_value.dtype.base_dtype if on_exists else None
        off_dtype = off_value.dtype.base_dtype if off_exists else None
        if on_exists or off_exists:
            if dtype is not None:
                if on_exists and on_dtype != dtype:
                    raise TypeError(f"dtype {on_dtype} of on_value does not match dtype parameter {dtype}")
                if off_exists and off_dtype != dtype:
                    raise TypeError(f"dtype {off_dtype} of off_value does not match dtype parameter {dtype}")
            else:
                dtype = on_dtype if on_exists else off_dtype
            if on_exists and off_exists and on_dtype != off_dtype:
                raise TypeError(f"dtype {on_dtype} of on_value does not match dtype {off_dtype} of off_value")
        else:
            dtype = dtype or _dt.float32
        if not on_exists:
            on_value = convert_to_tensor(1, dtype, name="on_value")
        if not off_exists:
            off_value = convert_to_tensor(0, dtype, name="off_value")
        return apply_op("OneHot", [indices, depth, on_value, off_value], {"axis": -1 if axis is None else axis},
                        name=name)


def reverse_v2(tensor, axis, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("ReverseV2", [tensor, axis], name=name)


reverse = reverse_v2


def broadcast_to(input, shape, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("BroadcastTo", [input, shape], name=name)


def sequence_mask(lengths, maxlen=None, dtype=_dt.bool_, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.sequence_mask`: Range(maxlen) < ExpandDims(lengths, -1), as TF composes it."""
    from graphcompat.ops import math_ops
    with _ops.name_scope(name, "SequenceMask", [lengths, maxlen]):
        lengths = convert_to_tensor(lengths)
        if maxlen is None:
            maxlen = apply_op("Max", [lengths, math_ops._reduction_dims(lengths, None)], {"keep_dims": False})
            maxlen = math_ops.maximum(constant(0, maxlen.dtype), maxlen)
        else:
            maxlen = convert_to_tensor(maxlen)
        if maxlen.shape.ndims is not None and maxlen.shape.ndims != 0:
            raise ValueError(f"Argument `maxlen` must be scalar for sequence_mask, received `maxlen` = {maxlen} "
                             f"with shape '{maxlen.shape}' instead")
        row_vector = apply_op("Range", [constant(0, maxlen.dtype), maxlen, constant(1, maxlen.dtype)])
        matrix = apply_op("Cast", [expand_dims(lengths, -1)], {"DstT": maxlen.dtype.base_dtype, "Truncate": False})
        result = math_ops.less(row_vector, matrix)
        dtype = _dt.as_dtype(dtype) if dtype is not None else None
        if dtype is None or dtype == _dt.bool_:
            return result
        return apply_op("Cast", [result], {"DstT": dtype, "Truncate": False})


def meshgrid(*args, **kwargs) -> list:
    """`tf.meshgrid` (indexing 'xy' or 'ij'): reshaped inputs times a `ones` of the full shape."""
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        key = list(kwargs.keys())[0]
        raise TypeError(f"'{key}' is an invalid keyword argument for this function")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Argument `indexing` parameter must be either 'xy' or 'ij', got '{indexing}'")
    with _ops.name_scope(name, "meshgrid", args):
        ndim = len(args)
        s0 = (1,) * ndim
        if not ndim:
            return []
        output = [reshape(stack(x), s0[:i] + (-1,) + s0[i + 1:]) for i, x in enumerate(args)]
        shapes = [size(x) for x in args]
        output_dtype = convert_to_tensor(args[0]).dtype.base_dtype
        if indexing == "xy" and ndim > 1:
            output[0] = reshape(output[0], (1, -1) + (1,) * (ndim - 2))
            output[1] = reshape(output[1], (-1, 1) + (1,) * (ndim - 2))
            shapes[0], shapes[1] = shapes[1], shapes[0]
        mult_fact = ones(shapes, output_dtype)
        return [x * mult_fact for x in output]


def scatter_nd(indices, updates, shape, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.scatter_nd`: zeros of `shape` with `updates` added at `indices` (duplicates sum)."""
    return apply_op("ScatterNd", [indices, updates, shape], name=name)


def _tensor_scatter(op_type: str, tf_name: str):
    def build(tensor, indices, updates, name: Optional[str] = None) -> _ops.Tensor:
        return apply_op(op_type, [tensor, indices, updates], name=name)
    build.__name__ = tf_name
    build.__doc__ = f"`tf.{tf_name}` ({op_type})."
    return build


tensor_scatter_nd_update = _tensor_scatter("TensorScatterUpdate", "tensor_scatter_nd_update")
tensor_scatter_nd_add = _tensor_scatter("TensorScatterAdd", "tensor_scatter_nd_add")
tensor_scatter_nd_sub = _tensor_scatter("TensorScatterSub", "tensor_scatter_nd_sub")
tensor_scatter_nd_max = _tensor_scatter("TensorScatterMax", "tensor_scatter_nd_max")
tensor_scatter_nd_min = _tensor_scatter("TensorScatterMin", "tensor_scatter_nd_min")


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name: Optional[str] = None,
                     seq_dim=None, batch_dim=None) -> _ops.Tensor:
    """`tf.reverse_sequence`: reverses the first `seq_lengths[b]` entries along `seq_axis` of each batch row."""
    from graphcompat.ops.math_ops import _lookup
    seq_axis = _lookup("seq_axis", seq_axis, "seq_dim", seq_dim)
    batch_axis = _lookup("batch_axis", batch_axis, "batch_dim", batch_dim)
    return apply_op("ReverseSequence", [input, seq_lengths],
                    {"seq_dim": int(seq_axis), "batch_dim": int(batch_axis or 0)}, name=name)


def roll(input, shift, axis, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("Roll", [input, shift, axis], name=name)


def identity_n(input, name: Optional[str] = None) -> list:
    return apply_op("IdentityN", [list(input)], name=name)


def _depth_op(op_type: str, tf_name: str):
    def build(input, block_size: int, name: Optional[str] = None, data_format: str = "NHWC") -> _ops.Tensor:
        if int(block_size) < 2:
            raise ValueError(f"Attr 'block_size' of '{op_type}' Op passed {int(block_size)} less than minimum 2.")
        if data_format not in ("NHWC", "NCHW", "NCHW_VECT_C"):
            raise ValueError(f"Attr 'data_format' of '{op_type}' Op passed string '{data_format}' not in: "
                             '"NHWC", "NCHW", "NCHW_VECT_C".')
        return apply_op(op_type, [input], {"block_size": int(block_size), "data_format": data_format}, name=name)
    build.__name__ = tf_name
    build.__doc__ = (f"`tf.{tf_name}` ({op_type}). NCHW and NCHW_VECT_C build with TF's shapes; running them "
                     "fails as on TF's CPU build, which registers only NHWC kernels.")
    return build


space_to_depth = _depth_op("SpaceToDepth", "space_to_depth")
depth_to_space = _depth_op("DepthToSpace", "depth_to_space")


def _fold_gather(t):
    v = _fold_inputs(t)
    if v is None or t.op.attrs["batch_dims"]:
        return None
    return np.take(v[0], v[1], axis=int(v[2]))


register_folders({"GatherV2": _fold_gather})
