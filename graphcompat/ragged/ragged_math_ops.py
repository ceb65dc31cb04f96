"""TF's ragged dispatch targets, graph mode: the reductions of ragged_math_ops (`tf.reduce_sum(rt, axis)` & co.),
`tf.ragged.boolean_mask` (ragged_array_ops) and `tf.ragged.stack` / `tf.concat` / `tf.stack` of RaggedTensors
(ragged_concat_ops).

Like TF's Python these compose ordinary ops: reductions over a ragged axis are unsorted segment ops keyed by
row ids, masks are boolean_mask of the flat values plus recounted row lengths, and concatenation along axis 0
concatenates flat values and offsets row splits. The public dense functions (graphcompat/ops/reduction_ops.py,
array_ops.py, data_dependent_ops.py) hand a RaggedTensor argument to these, as TF's dispatch does.
"""
from __future__ import annotations

import builtins
from typing import Callable, Optional, Sequence

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.framework.registry import apply_op
from graphcompat.ragged.ragged_tensor import RaggedTensor, RaggedTensorValue, _tf, is_ragged


# ------------------------------------------------------------------------------------------------
# Shared helpers (TF's ragged_tensor / ragged_util / array_ops helpers)
# ------------------------------------------------------------------------------------------------
def _to_tensor_or_ragged(value, dtype=None, name: Optional[str] = None):
    """TF's `convert_to_tensor_or_ragged_tensor`."""
    if isinstance(value, RaggedTensorValue):
        value = RaggedTensor._from_value(value)
    if isinstance(value, RaggedTensor):
        if dtype is not None and value.dtype != _dt.as_dtype(dtype):
            raise ValueError(f"Tensor conversion requested dtype {_dt.as_dtype(dtype).name} for RaggedTensor with "
                             f"dtype {value.dtype.name}: {value!r}")
        return value
    return convert_to_tensor(value, dtype, name=name)


def _match_row_splits_dtypes(*tensors):
    """(row splits dtype, tensors): int32 if every RaggedTensor has int32 splits, int64 otherwise; mixed
    dtypes are refused, as TF does unless its auto-cast config is on."""
    kinds = {t.row_splits.dtype for t in tensors if isinstance(t, RaggedTensor)}
    if len(kinds) > 1:
        raise ValueError("Input RaggedTensors have mismatched row_splits dtypes; use "
                         "RaggedTensor.with_row_splits_dtype() to convert them to compatible dtypes.")
    return (kinds.pop() if kinds else _dt.int64), tensors


def _positive_axis(axis, ndims: Optional[int], axis_name: str = "axis", ndims_name: str = "ndims") -> int:
    """TF's `array_ops.get_positive_axis`."""
    if not isinstance(axis, int):
        raise TypeError(f"{axis_name} must be an int; got {type(axis).__name__}")
    if ndims is not None:
        if 0 <= axis < ndims:
            return axis
        if -ndims <= axis < 0:
            return axis + ndims
        raise ValueError(f"{axis_name}={axis} out of bounds: expected {-ndims}<={axis_name}<{ndims}")
    if axis < 0:
        raise ValueError(f"{axis_name}={axis} may only be negative if {ndims_name} is statically known.")
    return axis


def _lengths_to_splits(lengths) -> _ops.Tensor:
    tf = _tf()
    return tf.concat([[0], tf.cumsum(lengths)], axis=0)


def _assert_splits_match(nested_splits_lists: list) -> list:
    """TF's `ragged_util.assert_splits_match`: equal ragged_rank now, equal splits at run time."""
    msg = "Inputs must have identical ragged splits"
    for splits_list in nested_splits_lists:
        if len(splits_list) != len(nested_splits_lists[0]):
            raise ValueError(msg)
    tf = _tf()
    return [tf.debugging.assert_equal(a, b, message=msg) for splits_list in nested_splits_lists[1:]
            for a, b in zip(nested_splits_lists[0], splits_list)]


def _ragged_row_ids(starts, limits) -> _ops.Tensor:
    """The concatenated ranges [starts[i], limits[i]) (TF's `ragged_math_ops.range(starts, limits).values`)."""
    from graphcompat.ragged.ragged_ops import range as ragged_range
    return ragged_range(starts, limits).values


# ------------------------------------------------------------------------------------------------
# Reductions (TF's ragged_math_ops.ragged_reduce_aggregate)
# ------------------------------------------------------------------------------------------------
def _segment_aggregate(segment_op: Callable, data, segment_ids, num_segments):
    """TF's `_ragged_segment_aggregate`: rows of `data` combined by `segment_ids` (a ragged `data` row i is
    combined element-wise into output row segment_ids[i], whose length is the longest such row)."""
    if not is_ragged(data):
        return segment_op(data, segment_ids, num_segments)
    tf = _tf()
    with _ops.name_scope(None, "RaggedSegment", [data, segment_ids, num_segments]):
        data = _to_tensor_or_ragged(data, name="data")
        segment_ids = _to_tensor_or_ragged(segment_ids, name="segment_ids")
        if segment_ids.dtype not in (_dt.int32, _dt.int64):
            raise ValueError("segment_ids must have dtype int32 or int64.")
        lengths = data.row_splits[1:] - data.row_splits[:-1]
        out_lengths = tf.maximum(tf.math.unsorted_segment_max(lengths, segment_ids, num_segments), 0)
        out_splits = tf.concat([tf.zeros([1], out_lengths.dtype), tf.cumsum(out_lengths)], axis=0)
        starts = tf.gather(out_splits, segment_ids)
        target = _ragged_row_ids(starts, starts + lengths)
        values = _segment_aggregate(segment_op, data.values, target, out_splits[-1])
        return RaggedTensor.from_row_splits(values, out_splits, validate=False)


def _reduce_aggregate(reduce_op: Callable, segment_op: Callable, rt_input, axis, keepdims, name=None):
    """Reduce a RaggedTensor over `axis` (an int, a list of ints, or None for all axes)."""
    tf = _tf()
    if not is_ragged(rt_input):
        return reduce_op(rt_input, axis, keepdims=keepdims, name=name)
    if isinstance(axis, _ops.Tensor):
        value = constant_value(axis)
        if value is None:
            raise ValueError("axis must be known at graph construction time.")
        axis = value
    if isinstance(axis, np.ndarray):
        axis = axis.tolist()
    if isinstance(axis, np.integer):
        axis = int(axis)
    if axis is None:
        result = reduce_op(rt_input.flat_values, None, keepdims=keepdims, name=name)
        if keepdims:
            for _ in builtins.range(rt_input.shape.ndims - 1):
                result = tf.expand_dims(result, axis=0)
        return result
    with _ops.name_scope(name, "RaggedReduce", [rt_input, axis]):
        if isinstance(axis, (tuple, list)):
            if not axis:
                return rt_input
            if len(axis) == 1:
                axis = axis[0]
            else:
                # One axis at a time, innermost first (positive first: the order must not depend on signs).
                axes = sorted(_positive_axis(a, rt_input.shape.ndims, f"axis[{i}]", "rank(input_tensor)")
                              for i, a in enumerate(axis))
                inner = _reduce_aggregate(reduce_op, segment_op, rt_input, axes[-1], keepdims)
                return _reduce_aggregate(reduce_op, segment_op, inner, axes[:-1], keepdims)
        rt_input = _to_tensor_or_ragged(rt_input, name="rt_input")
        axis = _positive_axis(axis, rt_input.shape.ndims, ndims_name="rank(input_tensor)")
        if axis == 0:
            # out[j...] combines rt[i, j...] over the rows i that are long enough
            lengths = rt_input.row_splits[1:] - rt_input.row_splits[:-1]
            num_segments = tf.maximum(tf.reduce_max(lengths), 0)
            from graphcompat.ragged.ragged_ops import range as ragged_range
            segment_ids = ragged_range(lengths).values
            result = _segment_aggregate(segment_op, rt_input.values, segment_ids, num_segments)
            if keepdims:
                result = _expand_dims(result, 0)
            return result
        if axis == 1:
            from graphcompat.ragged.ragged_ops import row_splits_to_segment_ids
            num_segments = tf.shape(rt_input.row_splits)[0] - 1
            segment_ids = row_splits_to_segment_ids(rt_input.row_splits)
            result = _segment_aggregate(segment_op, rt_input.values, segment_ids, num_segments)
            if keepdims:
                result = _expand_dims(result, 1)
            return result
        return rt_input.with_values(_reduce_aggregate(reduce_op, segment_op, rt_input.values, axis - 1, keepdims))


def _expand_dims(value, axis: int):
    """`expand_dims` for keepdims: dense results only (TF's ragged expand_dims is not built here)."""
    if is_ragged(value):
        raise NotImplementedError("tf.reduce_*(RaggedTensor, keepdims=True) with a ragged result "
                                  "(tf.expand_dims of a RaggedTensor) is not supported by graphcompat")
    return _tf().expand_dims(value, axis=axis)


def _dense(name: str) -> Callable:
    from graphcompat.ops import reduction_ops
    return getattr(reduction_ops, name)


def _segment(name: str) -> Callable:
    return getattr(_tf().math, name)


def reduce_sum(input_tensor, axis=None, keepdims=None, name: Optional[str] = None):
    """`tf.reduce_sum` of a RaggedTensor."""
    return _reduce_aggregate(_dense("reduce_sum"), _segment("unsorted_segment_sum"), input_tensor, axis, keepdims,
                             name or "RaggedReduceSum")


def reduce_prod(input_tensor, axis=None, keepdims=None, name: Optional[str] = None):
    """`tf.reduce_prod` of a RaggedTensor."""
    return _reduce_aggregate(_dense("reduce_prod"), _segment("unsorted_segment_prod"), input_tensor, axis,
                             keepdims, name or "RaggedReduceProd")


def reduce_min(input_tensor, axis=None, keepdims=None, name: Optional[str] = None):
    """`tf.reduce_min` of a RaggedTensor (an empty row gives the dtype's largest value, as TF's segment op)."""
    return _reduce_aggregate(_dense("reduce_min"), _segment("unsorted_segment_min"), input_tensor, axis, keepdims,
                             name or "RaggedReduceMin")


def reduce_max(input_tensor, axis=None, keepdims=None, name: Optional[str] = None):
    """`tf.reduce_max` of a RaggedTensor (an empty row gives the dtype's lowest value, as TF's segment op)."""
    return _reduce_aggregate(_dense("reduce_max"), _segment("unsorted_segment_max"), input_tensor, axis, keepdims,
                             name or "RaggedReduceMax")


def reduce_mean(input_tensor, axis=None, keepdims=None, name: Optional[str] = None):
    """`tf.reduce_mean` of a RaggedTensor: the sum over the count of present values (NaN for an empty row)."""
    tf = _tf()
    with _ops.name_scope(name, "RaggedReduceMean", [input_tensor, axis]):
        total = reduce_sum(input_tensor, axis, keepdims)
        if is_ragged(input_tensor):
            ones = RaggedTensor.from_nested_row_splits(tf.ones_like(input_tensor.flat_values),
                                                       input_tensor.nested_row_splits, validate=False)
        else:
            ones = tf.ones_like(input_tensor)
        count = reduce_sum(ones, axis, keepdims)
        if is_ragged(total):
            return RaggedTensor.from_nested_row_splits(total.flat_values / count.flat_values,
                                                       total.nested_row_splits, validate=False)
        return total / count


def _cast(value, dtype):
    from graphcompat.ragged.ragged_ops import map_flat_values
    return map_flat_values(_tf().cast, value, dtype)


def reduce_all(input_tensor, axis=None, keepdims=None, name: Optional[str] = None):
    """`tf.reduce_all` of a RaggedTensor: the product of the values as int32, cast back to bool."""
    with _ops.name_scope(name, "RaggedReduceAll", [input_tensor, axis]):
        return _cast(reduce_prod(_cast(input_tensor, _dt.int32), axis, keepdims), _dt.bool_)


def reduce_any(input_tensor, axis=None, keepdims=None, name: Optional[str] = None):
    """`tf.reduce_any` of a RaggedTensor: the sum of the values as int32, cast back to bool."""
    with _ops.name_scope(name, "RaggedReduceAny", [input_tensor, axis]):
        return _cast(reduce_sum(_cast(input_tensor, _dt.int32), axis, keepdims), _dt.bool_)


REDUCTIONS = {"reduce_sum": reduce_sum, "reduce_prod": reduce_prod, "reduce_min": reduce_min,
              "reduce_max": reduce_max, "reduce_mean": reduce_mean, "reduce_all": reduce_all,
              "reduce_any": reduce_any}


# ------------------------------------------------------------------------------------------------
# boolean_mask (TF's ragged_array_ops.boolean_mask)
# ------------------------------------------------------------------------------------------------
def boolean_mask(data, mask, name: Optional[str] = None):
    """`tf.ragged.boolean_mask`: the items of `data` where `mask` is True, keeping the rows of every masked
    dimension but the last (the result is ragged where the mask is 2-D or more)."""
    tf = _tf()
    with _ops.name_scope(name, "RaggedMask", [data, mask]):
        data = _to_tensor_or_ragged(data, name="data")
        mask = _to_tensor_or_ragged(mask, _dt.bool_, name="mask")
        splits_dtype, (data, mask) = _match_row_splits_dtypes(data, mask)
        if mask.shape.ndims is None:
            raise ValueError("mask.shape.ndims must be known statically.")
        if mask.shape.ndims == 0:
            raise ValueError("mask cannot be scalar.")
        if is_ragged(mask):
            if not is_ragged(data):
                data = RaggedTensor.from_tensor(data, ragged_rank=mask.ragged_rank,
                                                row_splits_dtype=mask.row_splits.dtype)
            checks = _assert_splits_match([mask.nested_row_splits, data.nested_row_splits[:mask.ragged_rank]])
            with _ops.control_dependencies(checks):
                splits = []
                while is_ragged(mask):
                    if mask.shape.ndims > 2:
                        splits.append(mask.row_splits)
                    else:
                        # the innermost ragged level: its rows keep their True entries only
                        counts = reduce_sum(_cast(mask, splits_dtype), axis=1)
                        splits.append(_lengths_to_splits(counts))
                    mask = mask.values
                    data = data.values
                masked = boolean_mask(data, mask)
                return RaggedTensor.from_nested_row_splits(masked, splits, validate=False)
        if is_ragged(data) and mask.shape.ndims == 1:
            # whole rows are kept or dropped: their lengths and values go together
            from graphcompat.ragged.ragged_ops import row_splits_to_segment_ids
            lengths = data.row_lengths()
            masked_splits = _lengths_to_splits(tf.boolean_mask(lengths, mask))
            segment_ids = row_splits_to_segment_ids(data.row_splits)
            masked_values = boolean_mask(data.values, tf.gather(mask, segment_ids))
            return RaggedTensor.from_row_splits(masked_values, masked_splits, validate=False)
        if is_ragged(data):
            mask = RaggedTensor.from_tensor(mask, ragged_rank=min(data.ragged_rank, mask.shape.ndims - 1),
                                            row_splits_dtype=data.row_splits.dtype)
            return boolean_mask(data, mask)
        masked = tf.boolean_mask(data, mask)
        if mask.shape.ndims >= 2:
            lengths = tf.math.count_nonzero(mask, axis=-1, dtype=splits_dtype)
            masked = RaggedTensor.from_row_lengths(masked, tf.reshape(lengths, [-1]), validate=False)
            if mask.shape.ndims > 2:
                # the outer dimensions are uniform: splits at multiples of the inner sizes
                mask_shape = tf.shape(mask, out_type=splits_dtype)
                split_size = tf.math.cumprod(mask_shape) + 1
                for dim in builtins.range(mask.shape.ndims - 3, -1, -1):
                    masked = RaggedTensor.from_row_splits(masked, tf.range(split_size[dim]) * mask_shape[dim + 1],
                                                          validate=False)
        return masked


# ------------------------------------------------------------------------------------------------
# stack / concat (TF's ragged_concat_ops)
# ------------------------------------------------------------------------------------------------
def concat(values, axis, name: Optional[str] = None):
    """`tf.concat` of RaggedTensors (and Tensors): result[i0...i_axis] joins each input's rows there."""
    if not isinstance(values, (list, tuple)):
        values = [values]
    with _ops.name_scope(name, "RaggedConcat", values):
        return _stack_concat(list(values), axis, stack_values=False)


def stack(values, axis: int = 0, name: Optional[str] = None):
    """`tf.ragged.stack` (and `tf.stack` of RaggedTensors): rank R inputs → a rank R + 1 RaggedTensor."""
    if not isinstance(values, (list, tuple)):
        values = [values]
    with _ops.name_scope(name, "RaggedConcat", values):
        return _stack_concat(list(values), axis, stack_values=True)


def _stack_concat(inputs: list, axis, stack_values: bool):
    tf = _tf()
    if not inputs:
        raise ValueError("rt_inputs may not be empty.")
    inputs = [_to_tensor_or_ragged(v, name="rt_input") for v in inputs]
    splits_dtype, inputs = _match_row_splits_dtypes(*inputs)
    inputs = list(inputs)
    if len(inputs) == 1 and not stack_values:
        return inputs[0]
    ndims = None
    for rt in inputs:
        if ndims is None:
            ndims = rt.shape.ndims
        elif rt.shape.ndims is not None and ndims is not None and rt.shape.ndims != ndims:
            dims = [d.value for d in rt.shape.dims]
            text = "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"
            raise ValueError(f"Shape {text} must have rank {ndims}")
    out_ndims = ndims if (ndims is None or not stack_values) else ndims + 1
    axis = _positive_axis(axis, out_ndims)
    if stack_values and ndims == 1 and axis == 0:
        return RaggedTensor.from_row_lengths(values=tf.concat(inputs, axis=0),
                                             row_lengths=tf.concat([tf.shape(r) for r in inputs], axis=0))
    if all(not is_ragged(rt) for rt in inputs) and ndims is not None and axis in (out_ndims - 1, ndims - 1):
        return tf.stack(inputs, axis) if stack_values else tf.concat(inputs, axis)
    inputs = [rt if is_ragged(rt) else RaggedTensor.from_tensor(rt, ragged_rank=1, row_splits_dtype=splits_dtype)
              for rt in inputs]
    ragged_rank = max(max(rt.ragged_rank for rt in inputs), 1)
    inputs = [_increase_ragged_rank(rt, ragged_rank, splits_dtype) for rt in inputs]
    if axis == 0:
        return _stack_concat_axis_0(inputs, stack_values)
    if axis == 1:
        return _stack_concat_axis_1(inputs, stack_values)
    splits = [[rt.row_splits] for rt in inputs]
    with _ops.control_dependencies(_assert_splits_match(splits)):
        inner = _stack_concat([rt.values for rt in inputs], axis - 1, stack_values)
        return RaggedTensor.from_row_splits(inner, splits[0][0], validate=False)


def _increase_ragged_rank(rt, ragged_rank: int, splits_dtype):
    if ragged_rank > 0:
        if not is_ragged(rt):
            rt = RaggedTensor.from_tensor(rt, row_splits_dtype=splits_dtype)
        if rt.ragged_rank < ragged_rank:
            rt = rt.with_values(_increase_ragged_rank(rt.values, ragged_rank - 1, splits_dtype))
    return rt


def _concat_splits(splits_list: Sequence) -> _ops.Tensor:
    """One row splits vector for the rows of every input in turn (each offset by the values before it)."""
    pieces, offset = [splits_list[0]], splits_list[0][-1]
    for splits in splits_list[1:]:
        pieces.append(splits[1:] + offset)
        offset += splits[-1]
    return _tf().concat(pieces, axis=0)


def _stack_concat_axis_0(inputs: list, stack_values: bool):
    tf = _tf()
    flat = tf.concat([rt.flat_values for rt in inputs], axis=0)
    nested = [rt.nested_row_splits for rt in inputs]
    splits = [_concat_splits([ns[dim] for ns in nested]) for dim in builtins.range(inputs[0].ragged_rank)]
    if stack_values:
        splits.insert(0, _lengths_to_splits(tf.stack([rt.nrows() for rt in inputs])))
    return RaggedTensor.from_nested_row_splits(flat, splits, validate=False)


def _stack_concat_axis_1(inputs: list, stack_values: bool):
    tf = _tf()
    n = len(inputs)
    nrows = inputs[0].nrows()
    checks = [tf.debugging.assert_equal(nrows, rt.nrows(), message=f"Input tensors at index 0 (=x) and {i + 1} "
                                        f"(=y) have incompatible shapes.") for i, rt in enumerate(inputs[1:])]
    with _ops.control_dependencies(checks):
        joined = _stack_concat_axis_0(inputs, stack_values=False)
        # row r of input k sits at k * nrows + r: interleave so that the inputs' rows r are adjacent
        order = tf.reshape(tf.transpose(tf.reshape(tf.range(nrows * n), [n, -1])), [-1])
        permuted = _gather_rows(joined, order)
        if stack_values:
            splits = tf.range(0, nrows * n + 1, n)
            _copy_row_shape(inputs, splits)
            return RaggedTensor.from_row_splits(permuted, splits, validate=False)
        splits = permuted.row_splits[::n]
        _copy_row_shape(inputs, splits)
        return RaggedTensor.from_row_splits(permuted.values, splits, validate=False)


def _copy_row_shape(inputs: list, splits) -> None:
    for rt in inputs:
        if rt.shape[0] is not None and rt.shape.dims[0].value is not None:
            splits.set_shape([rt.shape.dims[0].value + 1])


def _gather_rows(rt: RaggedTensor, indices) -> RaggedTensor:
    """The rows `indices` (a vector) of `rt`: TF's ragged gather, one RaggedGather kernel."""
    with _ops.name_scope(None, "RaggedGather", [rt, indices]):
        indices = convert_to_tensor(indices, name="indices")
        nested = list(rt.nested_row_splits)
        splits, values = apply_op("RaggedGather", [nested, rt.flat_values, indices],
                        {"OUTPUT_RAGGED_RANK": len(nested) + indices.shape.ndims - 1,
                         "Tsplits": nested[0].dtype})
        return RaggedTensor.from_nested_row_splits(values, list(splits), validate=False)
