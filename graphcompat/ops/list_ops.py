"""TensorList ops (TF's list_ops): the `variant` tensors that TF 2's control flow v2 threads through
functional `While` loops — `tf.map_fn`, `tf.scan`, `dynamic_rnn` and `tf.TensorArray` inside a while_v2
loop all write them, and the gradients of such loops accumulate intermediates with
`EmptyTensorList`/`TensorListPushBack` and read them back with `TensorListPopBack`.

graphcompat does not build TensorLists itself (its TensorArray is TF1's resource kind); these op types
exist so that GraphDefs written by TF 2 import and run. A list is one `variant` scalar in the graph, as in
TF; lowering/rules/list_ops.py represents its value while a graph runs (elements stacked in one array).

Shapes as TF's shape functions infer them from the op's inputs: a list is a scalar; an element read back
has the `element_shape` input's (partial) shape when that is a build-time constant.
"""
from __future__ import annotations

import numpy as np

from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value
from graphcompat.framework.registry import InferenceContext, defop, scalar_shape


def _shape_input(ctx: InferenceContext, i: int) -> _ts.TensorShape:
    """A shape given as an int tensor, TF's way: -1 (a scalar) is an unknown rank, -1 a dimension unknown."""
    value = constant_value(ctx.inputs[i])
    if value is None:
        shape = ctx.shape(i)
        if shape.ndims == 1 and shape[0].value is not None:
            return _ts.unknown_shape(shape[0].value)
        return _ts.unknown_shape()
    value = np.asarray(value)
    if value.ndim == 0:
        return _ts.unknown_shape()
    return _ts.TensorShape([None if int(d) < 0 else int(d) for d in value.reshape(-1)])


def _scalar_input(ctx: InferenceContext, i: int):
    value = constant_value(ctx.inputs[i])
    return None if value is None or np.ndim(value) else int(value)


def _element(ctx: InferenceContext):
    return [_shape_input(ctx, 2)]


def _stack(ctx: InferenceContext):
    n = int(ctx.attrs.get("num_elements", -1))
    return [_ts.TensorShape([n if n >= 0 else None]).concatenate(_shape_input(ctx, 1))]


def _pop_back(ctx: InferenceContext):
    return [_ts.TensorShape([]), _shape_input(ctx, 1)]


def _gather(ctx: InferenceContext):
    indices = ctx.shape(1)
    n = indices[0].value if indices.ndims == 1 else None
    return [_ts.TensorShape([n]).concatenate(_shape_input(ctx, 2))]


def _element_shape(ctx: InferenceContext):
    return [_ts.TensorShape([None])]  # a vector, or -1 (a scalar) for an unknown rank: TF says [?]


def _concat(element: _ts.TensorShape) -> list:
    rest = element[1:] if element.ndims else _ts.unknown_shape()
    return [_ts.TensorShape([None]).concatenate(rest) if element.ndims is not None else _ts.unknown_shape(),
            _ts.TensorShape([None])]


def _concat_v2(ctx: InferenceContext):
    return _concat(_shape_input(ctx, 1))


def _concat_v1(ctx: InferenceContext):
    return _concat(_ts.as_shape(ctx.attrs.get("element_shape", _ts.unknown_shape())))


def _push_back_batch(ctx: InferenceContext):
    """TF's shape function: a vector of lists, one row of `tensor` for each (MergePrefix's check)."""
    handles, tensor = ctx.shape(0), ctx.shape(1)
    if handles.ndims is not None and handles.ndims != 1:
        raise ctx.error(f"Shape must be rank 1 but is rank {handles.ndims}")
    if tensor.ndims is not None and tensor.ndims < 1:
        raise ctx.error(f"Shape must be at least rank 1 but is rank {tensor.ndims}")
    n = handles[0].value if handles.ndims else None
    rows = tensor[0].value if tensor.ndims else None
    if n is not None and rows is not None and n != rows:
        raise ctx.error(f"Dimensions must be equal, but are {rows} and {n}")
    return [_ts.TensorShape([n if n is not None else rows])]


_SHAPE_TYPES = {"shape_type": None}

defop("EmptyTensorList", "element_shape: shape_type, max_num_elements: int32 -> handle: variant",
      attrs={"element_dtype": None, **_SHAPE_TYPES}, shape=scalar_shape)
defop("TensorListReserve", "element_shape: shape_type, num_elements: int32 -> handle: variant",
      attrs={"element_dtype": None, **_SHAPE_TYPES}, shape=scalar_shape)
defop("TensorListFromTensor", "tensor: element_dtype, element_shape: shape_type -> output_handle: variant",
      attrs=dict(_SHAPE_TYPES), shape=scalar_shape)
defop("TensorListSetItem", "input_handle: variant, index: int32, item: element_dtype -> output_handle: variant",
      attrs={"resize_if_index_out_of_bounds": False}, shape=scalar_shape)
defop("TensorListGetItem", "input_handle: variant, index: int32, element_shape: Tshape -> item: element_dtype",
      attrs={"element_dtype": None}, shape=_element)
defop("TensorListStack", "input_handle: variant, element_shape: int32 -> tensor: element_dtype",
      attrs={"element_dtype": None, "num_elements": -1}, shape=_stack)
defop("TensorListLength", "input_handle: variant -> length: int32", shape=scalar_shape)
defop("TensorListElementShape", "input_handle: variant -> element_shape: shape_type",
      attrs=dict(_SHAPE_TYPES), shape=_element_shape)
defop("TensorListPushBack", "input_handle: variant, tensor: element_dtype -> output_handle: variant",
      shape=scalar_shape)
defop("TensorListPushBackBatch", "input_handles: variant, tensor: element_dtype -> output_handles: variant",
      shape=_push_back_batch)
defop("TensorListPopBack", "input_handle: variant, element_shape: int32 -> output_handle: variant, "
      "tensor: element_dtype", attrs={"element_dtype": None}, shape=_pop_back)
defop("TensorListGather", "input_handle: variant, indices: int32, element_shape: int32 -> values: element_dtype",
      attrs={"element_dtype": None}, shape=_gather)
defop("TensorListScatterIntoExistingList",
      "input_handle: variant, tensor: element_dtype, indices: int32 -> output_handle: variant", shape=scalar_shape)
defop("TensorListScatter",
      "tensor: element_dtype, indices: int32, element_shape: shape_type -> output_handle: variant",
      attrs=dict(_SHAPE_TYPES), shape=scalar_shape)
defop("TensorListScatterV2", "tensor: element_dtype, indices: int32, element_shape: shape_type, "
      "num_elements: int32 -> output_handle: variant", attrs=dict(_SHAPE_TYPES), shape=scalar_shape)
defop("TensorListConcat", "input_handle: variant -> tensor: element_dtype, lengths: int64",
      attrs={"element_dtype": None, "element_shape": _ts.unknown_shape()}, shape=_concat_v1)
defop("TensorListConcatV2", "input_handle: variant, element_shape: shape_type, leading_dims: int64 -> "
      "tensor: element_dtype, lengths: int64", attrs={"element_dtype": None, **_SHAPE_TYPES}, shape=_concat_v2)
defop("TensorListConcatLists", "input_a: variant, input_b: variant -> output: variant",
      attrs={"element_dtype": None}, shape=scalar_shape)
defop("TensorListSplit", "tensor: element_dtype, element_shape: shape_type, lengths: int64 -> "
      "output_handle: variant", attrs=dict(_SHAPE_TYPES), shape=scalar_shape)
defop("TensorListResize", "input_handle: variant, size: int32 -> output_handle: variant", shape=scalar_shape)

LIST_OP_TYPES = ("EmptyTensorList", "TensorListReserve", "TensorListFromTensor", "TensorListSetItem",
                 "TensorListGetItem", "TensorListStack", "TensorListLength", "TensorListElementShape",
                 "TensorListPushBack", "TensorListPushBackBatch", "TensorListPopBack", "TensorListGather",
                 "TensorListScatterIntoExistingList", "TensorListScatter", "TensorListScatterV2",
                 "TensorListConcat", "TensorListConcatV2", "TensorListConcatLists", "TensorListSplit",
                 "TensorListResize")
