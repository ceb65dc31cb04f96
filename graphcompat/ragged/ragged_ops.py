"""The functions of `tf.ragged` (TF's ragged_factory_ops.py, ragged_math_ops.range, segment_id_ops.py,
ragged_functional_ops.map_flat_values)."""
from __future__ import annotations

import builtins
from typing import Callable, Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value as _constant_value_of
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import apply_op
from graphcompat.ragged.ragged_tensor import RaggedTensor, RaggedTensorValue, _tf, is_ragged


# ------------------------------------------------------------------------------------------------
# constant / constant_value: a nested Python list cut into flat values and row splits
# ------------------------------------------------------------------------------------------------
def _is_scalar(x) -> bool:
    return not isinstance(x, (list, tuple)) and np.ndim(x) == 0


def _scalar_and_max_depth(pylist):
    """(depth of the scalars or None when there are none, depth of the deepest list)."""
    if _is_scalar(pylist):
        return 0, 0
    scalar_depth, max_depth = None, 1
    for child in pylist:
        child_scalar, child_max = _scalar_and_max_depth(child)
        if child_scalar is not None:
            if scalar_depth is not None and scalar_depth != child_scalar + 1:
                raise ValueError("all scalar values must have the same nesting depth")
            scalar_depth = child_scalar + 1
        max_depth = max(max_depth, child_max + 1)
    return scalar_depth, max_depth


def _default_inner_shape(pylist, ragged_rank: int) -> tuple:
    """The uniform shape of the items below `ragged_rank` levels of lists (checked consistent)."""
    def shape_of(item):
        if _is_scalar(item):
            return ()
        return (len(item),) + shape_of(item[0]) if len(item) else (0,)

    def check(item, shape):
        nested = not _is_scalar(item)
        if nested != bool(shape) or (nested and shape[0] != len(item)):
            raise ValueError("inner values have inconsistent shape")
        if nested:
            for child in item:
                check(child, shape[1:])

    flat = pylist
    for dim in builtins.range(ragged_rank):
        if not all(not _is_scalar(v) for v in flat):
            raise ValueError(f"pylist has scalar values depth {dim + 1}, but ragged_rank={ragged_rank} requires "
                             f"scalar value depth greater than {ragged_rank}")
        flat = [x for v in flat for x in v]
    shape = shape_of(flat)
    check(flat, shape)
    return shape[1:]


def _build(ragged_factory: Callable, inner_factory: Callable, pylist, dtype, ragged_rank, inner_shape):
    if is_ragged(pylist):
        raise TypeError("pylist may not be a RaggedTensor or RaggedTensorValue.")
    if _is_scalar(pylist):
        if ragged_rank is not None and ragged_rank != 0:
            raise ValueError(f"Invalid pylist={pylist!r}: incompatible with ragged_rank={ragged_rank}")
        if inner_shape is not None and inner_shape:
            raise ValueError(f"Invalid pylist={pylist!r}: incompatible with dim(inner_shape)={len(inner_shape)}")
        return inner_factory(pylist, dtype, ())
    if ragged_rank is not None and ragged_rank < 0:
        raise ValueError(f"Invalid ragged_rank={ragged_rank!r}: must be nonnegative")
    scalar_depth, max_depth = _scalar_and_max_depth(pylist)
    if scalar_depth is not None:
        if max_depth > scalar_depth:
            raise ValueError(f"Invalid pylist={pylist!r}: empty list nesting is greater than scalar value nesting")
        if ragged_rank is not None and max_depth < ragged_rank:
            raise ValueError(f"Invalid pylist={pylist}, max depth smaller than ragged_rank={ragged_rank}")
    if inner_shape is not None and ragged_rank is not None:
        expected = ragged_rank + len(inner_shape) + 1
        if (scalar_depth is not None and expected != scalar_depth) or (scalar_depth is None and expected < max_depth):
            raise ValueError(f"Invalid pylist={pylist!r}: incompatible with ragged_rank={ragged_rank} and "
                             f"dim(inner_shape)={len(inner_shape)}")
    if ragged_rank == 0 or (ragged_rank is None and (max_depth < 2 or (inner_shape is not None and
                                                                        max_depth - len(inner_shape) < 2))):
        return inner_factory(pylist, dtype, inner_shape)
    if inner_shape is None:
        inner_shape = () if ragged_rank is None else _default_inner_shape(pylist, ragged_rank)
    inner_shape = tuple(inner_shape)
    if ragged_rank is None:
        ragged_rank = max(1, (max_depth - 1) if scalar_depth is None else (scalar_depth - 1 - len(inner_shape)))
    nested_splits, values = [], pylist
    for _ in builtins.range(ragged_rank):
        splits, flat = [0], []
        for row in values:
            splits.append(splits[-1] + len(row))
            flat.extend(row)
        nested_splits.append(splits)
        values = flat
    result = inner_factory(values, dtype, (len(values),) + inner_shape, name="values")
    for splits in reversed(nested_splits):
        result = ragged_factory(result, splits)
    return result


def constant(pylist, dtype=None, ragged_rank: Optional[int] = None, inner_shape=None, name: Optional[str] = None,
             row_splits_dtype=_dt.int64):
    """`tf.ragged.constant`: a RaggedTensor (or, for ragged_rank 0, a Tensor) holding `pylist`."""
    tf = _tf()
    row_splits_dtype = _dt.as_dtype(row_splits_dtype)

    def ragged_factory(values, splits):
        return RaggedTensor.from_row_splits(values, tf.constant(splits, dtype=row_splits_dtype), validate=False)

    def inner_factory(pylist, dtype, shape, name=None):
        return tf.constant(pylist, dtype=dtype, shape=shape, name=name)

    with _ops.name_scope(name, "RaggedConstant"):
        return _build(ragged_factory, inner_factory, pylist, dtype, ragged_rank, inner_shape)


def constant_value(pylist, dtype=None, ragged_rank: Optional[int] = None, inner_shape=None,
                   row_splits_dtype="int64"):
    """`tf.ragged.constant_value`: the same structure as numpy (a RaggedTensorValue or an ndarray)."""
    if isinstance(dtype, _dt.DType):
        dtype = dtype.as_numpy_dtype
    splits_dtype = _dt.as_dtype(row_splits_dtype).as_numpy_dtype

    def ragged_factory(values, splits):
        return RaggedTensorValue(values, np.array(splits, dtype=splits_dtype))

    def inner_factory(pylist, dtype, shape, name=None):
        array = np.array(pylist, dtype=dtype) if dtype is object or dtype is None else \
            np.array(pylist).astype(dtype)
        if shape is None:
            return array
        if array.size == 0 and array.ndim <= 1:  # an empty list takes the inner shape as given
            return array.reshape([0 if d is None else d for d in shape])
        return array.reshape(shape)

    return _build(ragged_factory, inner_factory, pylist, dtype, ragged_rank, inner_shape)


def placeholder(dtype, ragged_rank: int, value_shape=None, name: Optional[str] = None):
    """`tf.ragged.placeholder`: placeholders for the flat values ([None] + value_shape) and each row splits."""
    tf = _tf()
    if ragged_rank == 0:
        return tf.placeholder(dtype, value_shape, name)
    with _ops.name_scope(name, "RaggedPlaceholder", []):
        flat_shape = _ts.TensorShape([None]).concatenate(_ts.as_shape(value_shape))
        result = tf.placeholder(dtype, flat_shape, "flat_values")
        for i in reversed(builtins.range(ragged_rank)):
            splits = tf.placeholder(_dt.int64, [None], f"row_splits_{i}")
            result = RaggedTensor.from_row_splits(result, splits, validate=False)
        return result


# ------------------------------------------------------------------------------------------------
# range, segment ids, map_flat_values
# ------------------------------------------------------------------------------------------------
_RANGE_ORDER = (_dt.int32, _dt.int64, _dt.bfloat16, _dt.float32, _dt.float64)


def range(starts, limits=None, deltas=1, dtype=None, name: Optional[str] = None,  # noqa: A001 (TF's name)
          row_splits_dtype=_dt.int64) -> RaggedTensor:
    """`tf.ragged.range`: row i is `range(starts[i], limits[i], deltas[i])` (scalars broadcast)."""
    row_splits_dtype = _dt.as_dtype(row_splits_dtype)
    if limits is None:
        starts, limits = 0, starts
    with _ops.name_scope(name, "RaggedRange", [starts, limits, deltas]) as scope:
        args = [starts, limits, deltas]
        names = ["starts", "limits", "deltas"]
        if dtype is not None:
            tensors = [convert_to_tensor(a, _dt.as_dtype(dtype), name=n) for a, n in zip(args, names)]
        else:
            tensors = [a if isinstance(a, _ops.Tensor) else None for a in args]
            known = [t.dtype for t in tensors if t is not None]
            if not known:  # Python values: the widest of their natural dtypes (int32 for ints, float32 for floats)
                known = [convert_to_tensor(a).dtype for a in args]
                # the conversions above are discarded; convert again under TF's names
            target = max(known, key=lambda d: _RANGE_ORDER.index(d) if d in _RANGE_ORDER else -1)
            tensors = [t if t is not None and t.dtype == target else
                       (_tf().cast(t, target) if t is not None else convert_to_tensor(a, target, name=n))
                       for t, a, n in zip(tensors, args, names)]
        splits, values = apply_op("RaggedRange", tensors, {"Tsplits": row_splits_dtype}, name=scope)
        return RaggedTensor._from_row_splits_tensor(values, splits, False)


def row_splits_to_segment_ids(splits, name: Optional[str] = None, out_type=None) -> _ops.Tensor:
    """`tf.ragged.row_splits_to_segment_ids`: `segment_ids[i] = j` where `splits[j] <= i < splits[j+1]`."""
    with _ops.name_scope(name, "RaggedSplitsToSegmentIds", [splits]):
        tf = _tf()
        if isinstance(splits, _ops.Tensor):
            pass
        else:
            try:
                splits = convert_to_tensor(splits, _dt.int64, name="splits")
            except (TypeError, ValueError):
                splits = convert_to_tensor(splits, name="splits")
        if splits.dtype not in (_dt.int32, _dt.int64):
            raise ValueError("splits must have dtype int32 or int64")
        splits.shape.assert_has_rank(1)
        if splits.shape.dims[0].value == 0:
            raise ValueError("Invalid row_splits: []")
        out_type = splits.dtype if out_type is None else _dt.as_dtype(out_type)
        row_lengths = splits[1:] - splits[:-1]
        nrows = tf.shape(splits, out_type=out_type)[-1] - 1
        return tf.repeat(tf.range(nrows), row_lengths, axis=0)


def segment_ids_to_row_splits(segment_ids, num_segments=None, out_type=None,
                              name: Optional[str] = None) -> _ops.Tensor:
    """`tf.ragged.segment_ids_to_row_splits`: `splits[i+1] = splits[i] + count(segment_ids == i)`."""
    if out_type is None:
        if isinstance(segment_ids, _ops.Tensor):
            out_type = segment_ids.dtype
        elif isinstance(num_segments, _ops.Tensor):
            out_type = num_segments.dtype
        else:
            out_type = _dt.int64
    else:
        out_type = _dt.as_dtype(out_type)
    with _ops.name_scope(name, "SegmentIdsToRaggedSplits", [segment_ids]):
        tf = _tf()
        segment_ids = _int32(segment_ids, "segment_ids")
        segment_ids.shape.assert_has_rank(1)
        if num_segments is not None:
            num_segments = _int32(num_segments, "num_segments")
            num_segments.shape.assert_has_rank(0)
        row_lengths = tf.math.bincount(segment_ids, minlength=num_segments, maxlength=num_segments, dtype=out_type)
        splits = tf.concat([[0], tf.cumsum(row_lengths)], axis=0)
        # TF's shape inference evaluates a constant bincount size: the splits' length is static then
        static = _constant_value_of(num_segments) if num_segments is not None else None
        if num_segments is None:
            ids = _constant_value_of(segment_ids)
            static = None if ids is None else (int(ids.max()) + 1 if ids.size else 0)
        if static is not None:
            splits.set_shape([int(static) + 1])
        return splits


def _int32(value, name: str) -> _ops.Tensor:
    """TF's `ragged_util.convert_to_int_tensor(..., dtype=int32)`: int64 inputs are cast."""
    t = value if isinstance(value, _ops.Tensor) else convert_to_tensor(value, name=name)
    if t.dtype not in (_dt.int32, _dt.int64):
        raise TypeError(f"{name} must be an integer tensor; dtype={t.dtype}")
    return t if t.dtype == _dt.int32 else _tf().cast(t, _dt.int32)


def map_flat_values(op: Callable, *args, **kwargs):
    """`tf.ragged.map_flat_values`: `op` applied to the flat values of the ragged arguments, the result cut
    by their (shared) nested row splits."""
    splits_lists, nrows = [], []
    inner_args = _replace_ragged(args, splits_lists, nrows)
    inner_kwargs = _replace_ragged(kwargs, splits_lists, nrows)
    if not splits_lists:
        return op(*args, **kwargs)
    if len({splits[0].dtype for splits in splits_lists}) > 1:
        raise ValueError("Input RaggedTensors have mismatched row partition dtypes; use "
                         "RaggedTensor.with_row_splits_dtype() to convert them to compatible dtypes.")
    if len(set(nrows)) > 1:
        raise ValueError(f"Input RaggedTensors' flat_values must all have the same outer-dimension size.  Got "
                         f"sizes: {set(nrows)}")
    output = op(*inner_args, **inner_kwargs)
    if nrows and not output.shape[:1].is_compatible_with([nrows[0]]):
        raise ValueError(f"tf.ragged.map_flat_values requires that the output of `op` have the same "
                         f"outer-dimension size as flat_values of any ragged inputs. (output shape: "
                         f"{output.shape}; expected outer dimension size: {nrows[0]})")
    splits = _merge_splits(splits_lists)
    result = output
    for s in reversed(splits):
        result = RaggedTensor._from_row_splits_tensor(result, s, False)
    return result


def _replace_ragged(value, splits_lists: list, nrows: list):
    if isinstance(value, RaggedTensorValue):
        value = RaggedTensor._from_value(value)
    if isinstance(value, RaggedTensor):
        splits_lists.append(value.nested_row_splits)
        n = value.flat_values.shape.dims[0].value if value.flat_values.shape.ndims else None
        if n is not None:
            nrows.append(n)
        return value.flat_values
    if isinstance(value, list):
        return [_replace_ragged(v, splits_lists, nrows) for v in value]
    if isinstance(value, tuple):
        return tuple(_replace_ragged(v, splits_lists, nrows) for v in value)
    if isinstance(value, dict):
        return {k: _replace_ragged(v, splits_lists, nrows) for k, v in value.items()}
    return value


def _merge_splits(splits_lists: list) -> list:
    """One nested splits list for all ragged inputs: the first, checked equal to the others (TF's
    `_merge_partition_lists`: the same ragged_rank, then equal splits at run time)."""
    first = list(splits_lists[0])
    for other in splits_lists[1:]:
        if len(other) != len(first):
            raise ValueError("All ragged inputs must have the same ragged_rank.")
    tf = _tf()
    merged = []
    for level, splits in enumerate(first):
        others = [s[level] for s in splits_lists[1:] if s[level] is not splits]
        msg = "RowPartition._merge_precomputed_encodings: partitions have incompatible row_splits"
        for o in others:
            if not splits.shape.is_compatible_with(o.shape):
                raise ValueError(msg)
        if others:
            checks = [tf.debugging.assert_equal(splits, o, message=msg) for o in others]
            from graphcompat.ops.control_ops import with_dependencies
            splits = with_dependencies(checks, splits)
        merged.append(splits)
    return merged

