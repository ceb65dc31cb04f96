"""Lowerings of array and slicing ops (graphcompat/ops/array_ops.py, slicing_ops.py).

Shape plumbing (Shape, Pack, Reshape of constants, StridedSlice of a shape …) computes with numpy
when its inputs are host values, so values that must be static (shapes, axes, sizes) stay static
under `jax.jit`.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import errors
from graphcompat.framework.strided_slice import canonical_strided_slice, index_from_spec
from lowering.interpreter import require
from lowering.registry import lowers
from lowering.rules.checks import (axis_in_range, first_failure, invalid, require_in_range, shape_str,
                                   shape_vector, slice_debug)
from lowering.rules.math import STATIC_RESULT_LIMIT, is_static, outside_traces, static_ints
from lowering.rules.state import SCATTER_UPDATES
from lowering.rules.list_ops import TensorList


def _ints(value) -> list:
    return static_ints(value, "shape/axis")


def _host_result_ok(x, size: int) -> bool:
    """Build a host result when small (shape plumbing), a string array (strings never reach XLA), or in
    an op-by-op run (no trace: numpy costs no compile)."""
    return size <= STATIC_RESULT_LIMIT or np.asarray(x).dtype == object or outside_traces()


_invalid = invalid


@lowers("Const")
def const(*, value, dtype, **_):
    return value  # numpy: becomes a constant in the traced function


@lowers("Placeholder")
def placeholder(**_):  # a Plan refuses unfed placeholders before running; never reached
    raise AssertionError("unfed placeholder reached the interpreter")


@lowers("PlaceholderWithDefault", "Identity")
def identity(x, **_):
    return x


@lowers("Pack")
def pack(*values, axis=0, **_):
    # a vector of lists (what TensorListPushBackBatch takes): a tuple of TensorLists
    if values and all(isinstance(v, TensorList) for v in values):
        return tuple(values)
    for k, v in enumerate(values[1:], 1):  # TF's PackOp check (shapes are static, also under jit)
        if np.shape(v) != np.shape(values[0]):
            raise _invalid(f"Shapes of all inputs must match: values[0].shape = {shape_str(np.shape(values[0]))} "
                           f"!= values[{k}].shape = {shape_str(np.shape(v))}")
    if is_static(*values):
        return np.stack(values, axis=axis)
    return jnp.stack(values, axis=axis)


@lowers("Unpack")
def unpack(value, *, num, axis=0, **_):
    if isinstance(value, tuple) and all(isinstance(v, TensorList) for v in value):  # a vector of lists (Pack)
        return value
    rank = np.ndim(value)
    if not -rank <= axis < rank:
        raise _invalid(f"axis = {axis} not in [{-rank}, {rank})")
    if np.shape(value)[axis] != num:  # TF's UnpackOp check
        raise _invalid(f"Input shape axis {axis % rank} must equal {num}, got shape {shape_str(np.shape(value))}")
    xp = np if is_static(value) else jnp
    return tuple(xp.squeeze(p, axis) for p in xp.split(value, num, axis=axis))


def _reshape_dims(in_shape, shape) -> tuple:
    """TF's ReshapeOp::ValidateSizes: the output dims, with a single -1 inferred."""
    if np.ndim(shape) > 1:
        raise _invalid(f"sizes input must be 1-D, not {shape_str(np.shape(shape))}")
    dims = _ints(shape)
    unknown, product, has_zero = -1, 1, False
    for d, size in enumerate(dims):
        if size == -1:
            if unknown != -1:
                raise _invalid(f"Only one input size may be -1, not both {unknown} and {d}")
            unknown = d
        elif size < 0:
            raise _invalid(f"Size {d} must be non-negative, not {size}")
        elif size == 0:
            has_zero = True  # zero sizes are left out of the product (and zero input dims of the count)
        else:
            product *= size
    n = int(np.prod(in_shape, dtype=np.int64))
    if unknown != -1:
        counted = int(np.prod([d for d in in_shape if d > 0 or not has_zero], dtype=np.int64))
        missing = counted // product
        if not any(d == 0 for d in in_shape if has_zero) and product * missing != counted:
            raise _invalid(f"Input to reshape is a tensor with {counted} values, but the requested shape requires "
                           f"a multiple of {product}")
        dims[unknown] = missing
    requested = int(np.prod(dims, dtype=np.int64))
    if requested != n:
        raise _invalid(f"Input to reshape is a tensor with {n} values, but the requested shape has {requested}")
    return tuple(dims)


@lowers("Reshape")
def reshape(tensor, shape, **_):
    dims = _reshape_dims(np.shape(tensor), shape)
    if is_static(tensor):
        return np.reshape(tensor, dims)
    return jnp.reshape(tensor, dims)


@lowers("Fill")
def fill(dims, value, **_):
    if np.ndim(dims) != 1:
        raise _invalid(f"dims must represent a vector, got shape {shape_str(np.shape(dims))}")
    if np.ndim(value) != 0:
        raise _invalid(f"value must represent a scalar, got shape {shape_str(np.shape(value))}")
    dims = shape_vector(dims)
    if is_static(value) and _host_result_ok(value, np.prod(dims, dtype=np.int64)):
        return np.full(dims, value)
    return jnp.full(dims, value, dtype=jnp.result_type(value))


@lowers("Empty")
def empty(shape, *, dtype, **_):
    return jnp.zeros(shape_vector(shape), dtype=dtype)  # attrs arrive as numpy dtypes


@lowers("ZerosLike")
def zeros_like(x, **_):
    if isinstance(x, TensorList):  # TF's ZEROS_LIKE variant op: a list of zero elements (list gradients)
        return x.zeros_like()
    from lowering.rules.data_more import OptionalValue
    if isinstance(x, OptionalValue):  # OptionalZerosLike: cond_v2's gradients of its optional intermediates
        return x.zeros_like()
    if isinstance(x, np.ndarray) and x.dtype == object:  # strings: TF's zero is b""
        return np.full(x.shape, b"", dtype=object)
    return jnp.zeros(jnp.shape(x), jnp.result_type(x))


@lowers("OnesLike")
def ones_like(x, **_):
    return jnp.ones(jnp.shape(x), jnp.result_type(x))


@lowers("Shape")
def shape(x, *, out_type, **_):
    return np.asarray(np.shape(x), dtype=out_type)  # shapes are static in JAX


@lowers("ShapeN")
def shape_n(*xs, out_type, **_):
    return tuple(np.asarray(np.shape(x), dtype=out_type) for x in xs)


@lowers("Size")
def size(x, *, out_type, **_):
    return np.asarray(np.size(x), dtype=out_type)


@lowers("Rank")
def rank(x, **_):
    return np.asarray(np.ndim(x), dtype=np.int32)


def _permutation(x, perm) -> list:
    """TF's TransposeOp checks: a full permutation of the input's dims."""
    if np.ndim(perm) != 1:
        raise _invalid(f"perm must be rank 1, got shape {shape_str(np.shape(perm))}")
    perm, rank = _ints(perm), np.ndim(x)
    if len(perm) != rank:
        raise _invalid(f"transpose expects a vector of size {rank}. But input(1) is a vector of size {len(perm)}")
    for d in perm:
        if not 0 <= d < rank:
            raise _invalid(f"{d} is out of range [0 .. {rank})")
    for i in range(rank):
        if i not in perm:
            raise _invalid(f"{i} is missing from {{{','.join(map(str, perm))}}}.")
    return perm


@lowers("Transpose")
def transpose(x, perm, **_):
    perm = _permutation(x, perm)
    return np.transpose(x, perm) if is_static(x) else jnp.transpose(x, perm)


@lowers("ConjugateTranspose")
def conjugate_transpose(x, perm, **_):
    return jnp.conj(jnp.transpose(x, _permutation(x, perm)))


@lowers("ConcatV2")
def concat(*args, **_):
    *values, axis = args
    rank = np.ndim(values[0])
    axis = axis_in_range(_ints(axis)[0], rank, lambda a, r: (
        f"ConcatOp : Expected concatenating dimensions in the range [{-r}, {r}), but got {a}"))
    text = shape_str
    a = np.shape(values[0])
    for i, v in enumerate(values[1:], 1):
        b = np.shape(v)
        if len(a) != len(b):
            raise _invalid(f"ConcatOp : Ranks of all input tensors should match: shape[0] = {text(a)} vs. "
                           f"shape[{i}] = {text(b)}")
        bad = [k for k, (x, y) in enumerate(zip(a, b)) if k != axis and x != y]
        if bad:
            raise _invalid(f"ConcatOp : Dimension {bad[0]} in both shapes must be equal: shape[0] = {text(a)} vs. "
                           f"shape[{i}] = {text(b)}")
    if is_static(*values):
        return np.concatenate(values, axis=axis)
    return jnp.concatenate(values, axis=axis)


def _xp(*args):
    """numpy for host values (constants, strings), jax.numpy otherwise."""
    return np if is_static(*args) else jnp


def _split_axis(value, axis) -> int:
    rank = np.ndim(value)
    return axis_in_range(_ints(axis)[0], rank, lambda a, r: f"-input rank(-{r}) <= split_dim < input rank ({r}), "
                                                            f"but got {a}")


@lowers("Split")
def split(axis, value, *, num_split, **_):
    axis = _split_axis(value, axis)
    size = np.shape(value)[axis]
    if num_split <= 0 or size % num_split:
        raise _invalid(f"Number of ways to split should evenly divide the split dimension, but got split_dim {axis} "
                       f"(size = {size}) and num_split {num_split}")
    return tuple(_xp(value).split(value, num_split, axis=axis))


@lowers("SplitV")
def split_v(value, size_splits, axis, *, num_split, **_):
    axis = _split_axis(value, axis)
    sizes = _ints(size_splits)
    size = np.shape(value)[axis]
    if len(sizes) != num_split:
        raise _invalid(f"Number of ways to split should match the size of size_splits: {num_split} vs "
                       f"{len(sizes)}")
    if sizes.count(-1) > 1:
        raise _invalid("There can only be one -1 in the input.")
    known = sum(s for s in sizes if s != -1)
    if (-1 not in sizes and known != size) or (-1 in sizes and known > size):
        raise _invalid("Determined shape must either match input shape along split_dim exactly if fully specified, "
                       f"or be less than the size of the input along split_dim if not fully specified.  Got: {known}")
    if -1 in sizes:
        sizes[sizes.index(-1)] = size - known
    for s in sizes:
        if s < 0:
            raise _invalid(f"Split size at index {sizes.index(s)} must be >= 0. Got: {s}")
    return tuple(_xp(value).split(value, np.cumsum(sizes)[:-1].tolist(), axis=axis))


@lowers("Squeeze")
def squeeze(x, *, squeeze_dims=(), **_):
    shape, rank = np.shape(x), np.ndim(x)
    axes = []
    for a in squeeze_dims or ():
        if not -rank <= a < rank:
            raise _invalid(f"Tried to squeeze dim index {a} for tensor with {rank} dimensions.")
        a %= rank
        if shape[a] != 1:
            raise _invalid(f"Can not squeeze dim[{a}], expected a dimension of 1, got {shape[a]}")
        axes.append(a)
    axes = tuple(axes) if squeeze_dims else tuple(i for i, d in enumerate(shape) if d == 1)
    return np.squeeze(x, axes) if is_static(x) else jnp.squeeze(x, axes)


@lowers("ExpandDims")
def expand_dims(x, dim, **_):
    if np.size(dim) != 1:
        raise _invalid("'dim' must be a tensor with a single value")
    axis, rank = _ints(dim)[0], np.ndim(x)
    if not -1 - rank <= axis <= rank:
        raise _invalid(f"Tried to expand dim index {axis} for tensor with {rank} dimensions.")
    return np.expand_dims(x, axis) if is_static(x) else jnp.expand_dims(x, axis)


@lowers("Tile")
def tile(x, multiples, **_):
    if np.ndim(multiples) != 1:
        raise _invalid(f"Expected multiples argument to be a vector of length {np.ndim(x)} but got shape "
                       f"{shape_str(np.shape(multiples))}")
    reps = _ints(multiples)
    if len(reps) != np.ndim(x):
        raise _invalid(f"Expected multiples argument to be a vector of length {np.ndim(x)} but got length "
                       f"{len(reps)}")
    for i, m in enumerate(reps):
        if m < 0:
            raise _invalid(f"Expected multiples[{i}] >= 0, but got {m}")
    if is_static(x) and _host_result_ok(x, np.size(x) * np.prod(reps, dtype=np.int64)):
        return np.tile(x, reps)
    return jnp.tile(x, reps)


def _paddings(x, paddings, mirror: bool = False) -> list:
    """TF's PadOp (MirrorPadOp) checks: an [rank, 2] matrix of non-negative paddings, in their texts."""
    if np.ndim(paddings) != 2 or np.shape(paddings)[1] != 2:
        raise _invalid(f"paddings must be a matrix with 2 columns: {shape_str(np.shape(paddings))}")
    if np.shape(paddings)[0] != np.ndim(x):
        raise _invalid(f"The first dimension of paddings must be the rank of inputs{shape_str(np.shape(paddings))}"
                       f"{',' if mirror else ''} {shape_str(np.shape(x))}")
    pads = [tuple(p) for p in np.reshape(_ints(paddings), [-1, 2]).tolist()]
    for lo, hi in pads:
        if lo < 0 or hi < 0:
            raise _invalid(f"{'p' if mirror else 'P'}addings must be non-negative: {lo} {hi}")
    return pads


@lowers("Pad")
def pad(x, paddings, **_):
    pads = _paddings(x, paddings)
    # shape arithmetic pads static vectors (ssim_multiscale's paddings are a padded remainder): stay static
    if is_static(x) and _host_result_ok(x, np.prod([d + lo + hi for d, (lo, hi) in zip(np.shape(x), pads)],
                                                   dtype=np.int64)):
        return np.pad(x, pads)
    return jnp.pad(x, pads)


@lowers("PadV2")
def pad_v2(x, paddings, constant_values, **_):
    if np.ndim(constant_values) != 0:
        raise _invalid(f"constant_values must be a scalar. Found: {shape_str(np.shape(constant_values))}")
    return jnp.pad(x, _paddings(x, paddings), constant_values=constant_values)


@lowers("MirrorPad")
def mirror_pad(x, paddings, *, mode, **_):
    pads, offset = _paddings(x, paddings, mirror=True), 0 if mode == "REFLECT" else 1
    for d, (lo, hi) in zip(np.shape(x), pads):
        if lo > d - 1 + offset or hi > d - 1 + offset:
            raise _invalid(f"paddings must be less than the dimension size: {lo}, {hi} not less than {d}"
                           if offset == 0 else
                           f"paddings must be no greater than the dimension size: {lo}, {hi} greater than {d}")
    if not pads:  # a scalar is itself (jnp.pad refuses an empty pad list)
        return x
    return jnp.pad(x, pads, mode="reflect" if mode == "REFLECT" else "symmetric")


def _gather_message(limit: int):
    return lambda pos, value: f"indices{pos} = {value} is not in [0, {limit})"


@lowers("GatherV2")
def gather(params, indices, axis, *, batch_dims=0, **_):
    rank = np.ndim(params)
    axis = _ints(axis)[0]
    if not -rank <= axis < rank:  # TF reports this through GatherV2's shape function
        raise _invalid(f"Shape must be at least rank {axis + 1 if axis >= 0 else -axis} but is rank {rank}")
    axis %= max(rank, 1)
    limit = np.shape(params)[axis]
    require_in_range(indices, limit, _gather_message(limit))
    if is_static(params, indices) or getattr(params, "dtype", None) == object:  # strings stay on the host
        if not batch_dims:
            return np.take(params, np.asarray(indices), axis=axis)
    if batch_dims < 0:
        batch_dims += np.ndim(indices)
    # mode="clip" only shapes the code XLA emits: the check above has already refused bad indices.
    fn = lambda p, i, a=axis - batch_dims: jnp.take(p, i, axis=a, mode="clip")  # noqa: E731
    for _ in range(batch_dims):
        fn = jax.vmap(fn)
    return fn(params, indices)


def _require_nd_indices(indices, shape, describe, last: bool = False) -> None:
    """TF's GatherNd/ScatterNd index check: every index vector (last axis of `indices`) lies inside `shape`.
    ScatterNd reports the first bad vector; GatherNd's CPU kernel the last (each bad one overwrites its
    error location), so `last`."""
    depth = np.shape(indices)[-1]
    if np.size(indices) == 0 or depth == 0:
        return
    limits = np.asarray(shape[:depth], dtype=np.int64)
    ok = jnp.all((jnp.asarray(indices) >= 0) & (jnp.asarray(indices) < limits), axis=-1) \
        if not is_static(indices) else np.all((indices >= 0) & (indices < limits), axis=-1)

    def message():
        pos = first_failure(ok) if not last else \
            tuple(int(i) for i in np.argwhere(~np.asarray(ok, dtype=bool))[-1])
        vector = np.asarray(indices)[pos]
        return describe(slice_debug(np.shape(ok), pos), "[" + ", ".join(str(int(v)) for v in vector) + "]")
    require(ok, errors.InvalidArgumentError, message)


@lowers("GatherNd", context=True)
def gather_nd(ctx, op, params, indices):
    depth, rank = np.shape(indices)[-1], np.ndim(params)
    if depth > rank:
        raise _invalid(f"index innermost dimension length must be <= params rank; saw: {depth} vs. {rank}")
    param_shape = shape_str(np.shape(params))
    _require_nd_indices(indices, np.shape(params), lambda pos, vector: (
        f"indices{pos} = {vector} does not index into param shape {param_shape}, node name: {op.name}"), last=True)
    indices = jnp.asarray(indices) if not is_static(indices) else indices
    xp = _xp(params, indices)
    return xp.asarray(params)[tuple(xp.moveaxis(xp.asarray(indices), -1, 0))]


@lowers("OneHot")
def one_hot(indices, depth, on_value, off_value, *, axis=-1, **_):
    rank = np.ndim(indices)
    if not (axis == -1 or 0 <= axis <= rank):
        raise _invalid(f"Expected axis to be -1 or between [0, {rank + 1}).  But received: {axis}")
    if np.ndim(depth) != 0:
        raise _invalid(f"depth must be a scalar, but got: {shape_str(np.shape(depth))}")
    depth = _ints(depth)[0]
    if depth < 0:
        raise _invalid(f"depth must be non-negative, got: {depth}")
    indices = jnp.asarray(indices)
    axis = indices.ndim if axis == -1 else axis
    hot = jnp.expand_dims(indices, axis) == jnp.arange(depth, dtype=indices.dtype).reshape(
        (depth,) + (1,) * (indices.ndim - axis))
    return jnp.where(hot, on_value, off_value)


@lowers("ReverseV2")
def reverse(x, axis, **_):
    rank, axes = np.ndim(x), []
    for i, a in enumerate(_ints(axis)):
        if not -rank <= a < rank:
            raise _invalid(f"'axis'[{i}] = {a} is out of valid range [0, {rank - 1}")
        if a % rank in axes:
            raise _invalid(f"axis {a % rank} specified more than once.")
        axes.append(a % rank)
    return _xp(x).flip(x, tuple(axes)) if axes else x


@lowers("BroadcastTo")
def broadcast_to(x, shape, **_):
    shape = shape_vector(shape)
    in_shape = np.shape(x)
    if len(in_shape) > len(shape):
        raise _invalid(f"Rank of input ({len(in_shape)}) must be no greater than rank of output shape ({len(shape)}).")
    try:
        result = np.broadcast_shapes(in_shape, shape)
    except ValueError:
        raise _invalid(f"Incompatible shapes: {shape_str(in_shape)} vs. {shape_str(shape)}") from None
    if tuple(result) != shape:
        raise _invalid(f"Unable to broadcast tensor of shape {shape_str(in_shape)} to tensor of shape "
                       f"{shape_str(shape)}")
    if is_static(x) and _host_result_ok(x, np.prod(shape, dtype=np.int64)):
        return np.broadcast_to(x, shape)
    return jnp.broadcast_to(x, shape)


def _scatter_index(indices):
    indices = jnp.asarray(indices)
    return tuple(jnp.moveaxis(indices, -1, 0))


def _validate_scatter_nd(indices, updates, shape) -> None:
    """TF's scatter_nd_op.cc checks: update shapes (ValidateUpdateShape), then every index inside `shape`."""
    i_shape, u_shape = np.shape(indices), np.shape(updates)
    if len(i_shape) < 1:
        raise _invalid(f"Indices shape must have rank at least one. Found:{shape_str(i_shape)}")
    slice_dim = i_shape[-1] if len(i_shape) > 1 else 1
    batch_dim = len(i_shape) - 1 if len(i_shape) > 1 else 1
    prefix = (f"Dimensions [0,{batch_dim}) of indices[shape={shape_str(i_shape)}] must match dimensions "
              f"[0,{batch_dim}) of updates[shape={shape_str(u_shape)}]")
    suffix = (f"Dimensions [{slice_dim},{len(shape)}) of input[shape={shape_str(shape)}] must match dimensions "
              f"[{batch_dim},{len(u_shape)}) of updates[shape={shape_str(u_shape)}]")
    if len(u_shape) < batch_dim or u_shape[:batch_dim] != i_shape[:batch_dim]:
        raise _invalid(prefix)
    if len(u_shape) - batch_dim != len(shape) - slice_dim or u_shape[batch_dim:] != tuple(shape[slice_dim:]):
        raise _invalid(suffix)
    _require_scatter_indices(indices, shape)


def _require_scatter_indices(indices, shape) -> None:
    text = shape_str(shape)
    _require_nd_indices(indices, tuple(shape), lambda pos, vector: (
        f"indices{pos} = {vector} does not index into shape {text}"))


def _validate_tensor_scatter(indices, updates, shape) -> None:
    """TF's TensorScatterOp checks (their texts differ from ScatterNd's)."""
    i_shape, u_shape = np.shape(indices), np.shape(updates)
    if len(shape) < 1:
        raise _invalid("Input must have rank at least 1")
    outer = len(i_shape) - 1
    if u_shape[:outer] != i_shape[:outer]:
        raise _invalid(f"Outer dimensions of indices and update must match. Indices shape: {shape_str(i_shape)}, "
                       f"updates shape:{shape_str(u_shape)}")
    depth = i_shape[-1]
    if len(u_shape) - outer != len(shape) - depth:
        raise _invalid(f"Inner dimensions of output shape must match inner dimensions of updates shape. Output: "
                       f"{shape_str(shape)} updates: {shape_str(u_shape)}")
    if u_shape[outer:] != tuple(shape[depth:]):
        raise _invalid(f"The inner {len(shape) - depth} dimensions of output.shape={shape_str(shape)} must match the "
                       f"inner {len(u_shape) - outer} dimensions of updates.shape={shape_str(u_shape)}")
    _require_scatter_indices(indices, shape)


@lowers("ScatterNd")
def scatter_nd(indices, updates, shape, **_):
    shape = shape_vector(shape)
    _validate_scatter_nd(indices, updates, shape)
    out = jnp.zeros(shape, jnp.result_type(updates))
    if out.dtype == jnp.bool_:  # TF sums bools as `a + b` in bool, i.e. logical or; jax has no bool add
        return out.at[_scatter_index(indices)].max(updates, mode="drop")
    return out.at[_scatter_index(indices)].add(updates, mode="drop")


for _kind in ("Update", "Add", "Sub", "Max", "Min"):  # TF's scatter functors (Max/Min: std::max/min)
    def _rule(tensor, indices, updates, _kind=_kind, **_):
        _validate_tensor_scatter(indices, updates, np.shape(tensor))
        tensor = jnp.asarray(tensor)
        updates = jnp.asarray(updates, tensor.dtype)
        if _kind in _TF_SCATTER_GRADIENTS and jnp.issubdtype(tensor.dtype, jnp.inexact):
            return _tensor_scatter_with_tf_gradient(tensor, jnp.asarray(indices), updates, _kind)
        return SCATTER_UPDATES[_kind](tensor, _scatter_index(indices), updates)
    lowers("TensorScatter" + _kind)(_rule)


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def _tensor_scatter_with_tf_gradient(tensor, indices, updates, kind: str):
    return SCATTER_UPDATES[kind](tensor, _scatter_index(indices), updates)


def _tensor_scatter_forward(tensor, indices, updates, kind):
    out = _tensor_scatter_with_tf_gradient(tensor, indices, updates, kind)
    return out, (tensor, indices, updates, out)


def _tensor_scatter_update_gradient(tensor, index, updates, out, grad):
    # TF's _TensorScatterUpdateGrad: every update (duplicates too) gets the gradient at its index
    return grad.at[index].set(jnp.zeros((), grad.dtype), mode="drop"), grad.at[index].get(mode="fill", fill_value=0)


def _tensor_scatter_extreme_gradient(tensor, index, updates, out, grad):
    # TF's _TensorScatterMinOrMaxGrad: the gradient is divided among the input and updates equal to the result
    x_hit = (tensor == out).astype(grad.dtype)
    y_hit = (updates == out.at[index].get(mode="fill", fill_value=0)).astype(grad.dtype)
    count = x_hit + jnp.zeros_like(grad).at[index].add(y_hit, mode="drop")
    share = grad / jnp.where(count == 0, jnp.ones((), grad.dtype), count)
    return share * x_hit, share.at[index].get(mode="fill", fill_value=0) * y_hit


_TF_SCATTER_GRADIENTS = {"Update": _tensor_scatter_update_gradient, "Max": _tensor_scatter_extreme_gradient,
                         "Min": _tensor_scatter_extreme_gradient}


def _tensor_scatter_backward(kind, residuals, grad):
    tensor, indices, updates, out = residuals
    tensor_grad, updates_grad = _TF_SCATTER_GRADIENTS[kind](tensor, _scatter_index(indices), updates, out, grad)
    return tensor_grad, None, updates_grad


_tensor_scatter_with_tf_gradient.defvjp(_tensor_scatter_forward, _tensor_scatter_backward)


@lowers("ReverseSequence")
def reverse_sequence(x, seq_lengths, *, seq_dim, batch_dim=0, **_):
    shape = np.shape(x)
    if np.ndim(seq_lengths) != 1:
        raise _invalid(f"seq_lengths must be 1-dim, not {np.ndim(seq_lengths)}")
    if np.shape(seq_lengths)[0] != shape[batch_dim]:
        raise _invalid(f"Length of seq_lengths != input.dims({batch_dim}), ({np.shape(seq_lengths)[0]} vs. "
                       f"{shape[batch_dim]})")
    lengths = seq_lengths

    def message():
        values = np.asarray(lengths)
        for i, v in enumerate(values):
            if v < 0:
                return f"seq_lens({i}) < 0"
            if v > shape[seq_dim]:
                return f"seq_lens({i}) > input.dims({seq_dim})"
        return ""
    require((seq_lengths >= 0) & (seq_lengths <= shape[seq_dim]), errors.InvalidArgumentError, message)
    x = jnp.asarray(x)
    n = x.shape[seq_dim]
    pos = jnp.arange(n)
    lengths = jnp.asarray(seq_lengths).astype(jnp.int32)
    # For row b: position p < len[b] reads len[b] - 1 - p, the rest stays.
    src = jnp.where(pos[None, :] < lengths[:, None], lengths[:, None] - 1 - pos[None, :], pos[None, :])
    shape = [1] * x.ndim
    shape[batch_dim], shape[seq_dim] = src.shape[0], n
    src = src if batch_dim < seq_dim else src.T  # row-major order of the two axes in x
    src = jnp.broadcast_to(src.reshape([shape[d] for d in range(x.ndim)]), x.shape)
    return jnp.take_along_axis(x, src, axis=seq_dim)


@lowers("Roll")
def roll(x, shift, axis, **_):
    if np.ndim(shift) > 1:
        raise _invalid(f"shift must be a scalar or a 1-D vector. Found: {shape_str(np.shape(shift))}")
    if np.ndim(axis) > 1:
        raise _invalid(f"axis must be a scalar or a 1-D vector. Found: {shape_str(np.shape(axis))}")
    shifts, axes = _ints(shift), _ints(axis)
    if len(shifts) != len(axes):
        raise _invalid("shift and axis must have the same size")
    rank = np.ndim(x)
    for a in axes:
        if not -rank <= a < rank:
            raise _invalid(f"axis {a} is out of range")
    return _xp(x).roll(x, tuple(shifts), tuple(axes))


# TF's CPU build registers SpaceToDepth/DepthToSpace for NHWC only (its GPU kernels do NCHW): the kernels
# its "No OpKernel was registered" error lists, in its order.
_DEPTH_CPU_TYPES = ["QINT8", "VARIANT", "RESOURCE", "STRING", "BOOL", "COMPLEX128", "COMPLEX64", "DOUBLE", "FLOAT",
                    "BFLOAT16", "HALF", "INT32", "INT8", "UINT8", "INT16", "UINT16", "UINT32", "INT64", "UINT64"]
_DEPTH_KERNELS = {
    "SpaceToDepth": (["UINT8", "QINT8", "BFLOAT16", "HALF", "FLOAT"], _DEPTH_CPU_TYPES),
    "DepthToSpace": (["QINT8", "BFLOAT16", "HALF", "FLOAT"], _DEPTH_CPU_TYPES[1:]),
}


def _require_nhwc_kernel(op, data_format: str) -> None:
    if data_format == "NHWC":
        return
    from tensorboard.compat.proto import types_pb2
    gpu, cpu = _DEPTH_KERNELS[op.type]
    dtype = types_pb2.DataType.Name(op.inputs[0].dtype.base_dtype.as_datatype_enum)
    kernels = [f"  device='GPU'; T in [DT_{t}]" for t in gpu] + \
        [f"  device='CPU'; T in [DT_{t}]; data_format in [\"NHWC\"]" for t in cpu]
    raise errors.InvalidArgumentError(None, None, "\n".join(
        [f"No OpKernel was registered to support Op '{op.type}' used by {{{{node {op.name}}}}} with these attrs: "
         f"[T={dtype}, data_format=\"{data_format}\", block_size={op.attrs['block_size']}]",
         "Registered devices: [CPU]", "Registered kernels:"] + kernels))


@lowers("SpaceToDepth", context=True)
def space_to_depth(ctx, op, x):
    block_size = op.attrs["block_size"]
    _require_nhwc_kernel(op, op.attrs.get("data_format", "NHWC"))
    if np.ndim(x) != 4:
        raise _invalid(f"Input rank should be 4 instead of {np.ndim(x)}")
    n, h, w, c = x.shape
    b = block_size
    if h % b or w % b:
        raise _invalid(f"Image width {w} and height {h} should be divisible by block_size: {b}")
    x = jnp.reshape(x, (n, h // b, b, w // b, b, c))
    return jnp.reshape(jnp.transpose(x, (0, 1, 3, 2, 4, 5)), (n, h // b, w // b, b * b * c))


@lowers("DepthToSpace", context=True)
def depth_to_space(ctx, op, x):
    block_size = op.attrs["block_size"]
    _require_nhwc_kernel(op, op.attrs.get("data_format", "NHWC"))
    if np.ndim(x) != 4:
        raise _invalid(f"Input rank should be: 4 instead of: {np.ndim(x)}")
    n, h, w, c = x.shape
    b = block_size
    if c % (b * b):
        raise _invalid(f"Input depth dimension {c} should be divisible by: {b * b}")
    x = jnp.reshape(x, (n, h, w, b, b, c // (b * b)))
    return jnp.reshape(jnp.transpose(x, (0, 1, 3, 2, 4, 5)), (n, h * b, w * b, c // (b * b)))


@lowers("IdentityN")
def identity_n(*xs, **_):
    return tuple(xs)


# ------------------------------------------------------------------------------------------------
# Slicing
# ------------------------------------------------------------------------------------------------
def _slice_bounds_message(starts, sizes, dims) -> str:
    """TF's SliceOp message for the first out-of-range begin or size (empty when all are in range)."""
    for i, (b, s, d) in enumerate(zip(starts, sizes, dims)):
        if not 0 <= b <= d:
            return f"Expected begin[{i}] in [0, {d}], but got {b}"
        if s != -1 and not 0 <= b + s <= d:
            return f"Expected size[{i}] in [0, {d - b}], but got {s}"
    return ""


@lowers("Slice")
def slice_(x, begin, size, **_):
    dims = np.shape(x)
    if np.ndim(begin) != 1 or np.ndim(size) != 1 or np.size(begin) != len(dims) or np.size(size) != len(dims):
        raise _invalid(f"Expected begin and size arguments to be 1-D tensors of size {len(dims)}, but got shapes "
                       f"{shape_str(np.shape(begin))} and {shape_str(np.shape(size))} instead.")
    sizes = _ints(size)
    try:
        starts = _ints(begin)
    except NotImplementedError:
        if -1 in sizes:
            raise
        # A run-time begin with static sizes: XLA's dynamic_slice would clamp it, TF refuses it.
        begin = jnp.asarray(begin)
        limits = np.asarray(dims, np.int64) - np.asarray(sizes, np.int64)
        require((begin >= 0) & (begin <= limits) & (limits >= 0), errors.InvalidArgumentError,
                lambda: _slice_bounds_message(_ints(np.asarray(begin)), sizes, dims))
        return lax.dynamic_slice(x, tuple(begin), tuple(sizes))
    message = _slice_bounds_message(starts, sizes, dims)
    if message:
        raise _invalid(message)
    index = tuple(slice(b, d if s == -1 else b + s) for b, s, d in zip(starts, sizes, dims))
    return x[index]


@lowers("StridedSlice")
def strided_slice(x, begin, end, strides, *, begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0,
                  shrink_axis_mask=0, **_):
    masks = (begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask)
    stride_values = _ints(strides)
    try:
        b, e = _ints(begin), _ints(end)
    except NotImplementedError:
        return _dynamic_strided_slice(x, begin, stride_values, masks)
    spec = canonical_strided_slice(list(np.shape(x)), b, e, stride_values, *masks, error=_invalid)
    out = x[index_from_spec(spec)]
    return np.asarray(out, dtype=x.dtype) if isinstance(x, np.ndarray) else out  # keep host scalars arrays


def strided_slice_update(x, begin, end, strides, value, attrs: dict):
    """`x` with its strided slice replaced by `value` (TF's StridedSliceAssign kernel family): the slice
    of an array of element positions names the elements it covers (every mask as StridedSlice has it),
    and `value`, broadcast into the slice's shape, is scattered there."""
    masks = {k: attrs.get(k, 0) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                          "shrink_axis_mask")}
    shape = tuple(np.shape(x))
    positions = strided_slice(np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape), begin, end,
                              strides, **masks)
    target, given = tuple(np.shape(positions)), tuple(np.shape(value))
    try:
        value = jnp.broadcast_to(jnp.asarray(value, x.dtype), target)
    except ValueError:
        # TF broadcasts into the slice before its shrunk and new axes are applied: size-1 axes may differ
        squeezed = tuple(d for d in given if d != 1)
        if squeezed != tuple(d for d in target if d != 1):
            raise _invalid(f"Cannot broadcast input shape {shape_str(given)} into final shape "
                           f"{shape_str(target)}") from None
        value = jnp.reshape(jnp.asarray(value, x.dtype), target)
    flat = jnp.reshape(jnp.asarray(x), (-1,))
    return jnp.reshape(flat.at[jnp.reshape(positions, (-1,))].set(jnp.reshape(value, (-1,))), shape)


@lowers("TensorStridedSliceUpdate", context=True)
def tensor_strided_slice_update(ctx, op, x, begin, end, strides, value):
    return strided_slice_update(x, begin, end, strides, value, op.attrs)


@lowers("StridedSliceAssign", context=True)
def strided_slice_assign(ctx, op, ref, begin, end, strides, value):
    new = strided_slice_update(ctx.read(ref.key, ref.op), begin, end, strides, ctx.deref(value), op.attrs)
    ctx.write(ref.key, new)
    return new


def _slice_index_message(index: int, dense: int, dim: int) -> str:
    return f"slice index {index + dim if index < 0 else index} of dimension {dense} out of bounds."  # as TF


def _dynamic_strided_slice(x, begin, strides, masks):
    """`x[i]` with a run-time `i`: only shrinking (single-index) dims may have run-time bounds.

    XLA would clamp an out-of-range index; TF refuses it, so each index is checked (`require`)."""
    begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask = masks
    begin, shape = jnp.asarray(begin), np.shape(x)
    consumed = sum(1 for i in range(len(strides)) if not (ellipsis_mask | new_axis_mask) & (1 << i))
    index, dense = [], 0
    for i, stride in enumerate(strides):
        bit = 1 << i
        if ellipsis_mask & bit:
            index.append(Ellipsis)
            dense += len(shape) - consumed
        elif new_axis_mask & bit:
            index.append(None)
        elif shrink_axis_mask & bit:
            dim, value = shape[dense], begin[i]
            require((value >= -dim) & (value < dim), errors.InvalidArgumentError,
                    lambda value=value, dense=dense, dim=dim: _slice_index_message(int(np.asarray(value)), dense, dim))
            index.append(value)
            dense += 1
        elif begin_mask & bit and end_mask & bit:
            index.append(slice(None, None, stride))
            dense += 1
        else:
            raise NotImplementedError("a strided slice whose bounds are known only at run time has a "
                                      "data-dependent shape; graphcompat supports run-time single indices only")
    return jnp.asarray(x)[tuple(index)]
