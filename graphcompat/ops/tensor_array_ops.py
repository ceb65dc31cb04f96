"""`tf.TensorArray` as TF1's graph mode records it: `TensorArrayV3` and its read/write/gather/scatter/
concat/split/size/close ops, a resource handle plus a float `flow` tensor that orders the operations.

Through `tf.while_loop` and `tf.cond` a TensorArray travels as its flow tensor and comes back rebuilt
around the new flow, as in TF. The lowering (lowering/rules/tensor_array.py) keeps the elements as run
state keyed by the array's op; see there for what is and is not checked.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop, no_outputs, scalar_shape


def _array_shape(ctx: InferenceContext):
    size = ctx.shape(0)
    if size.ndims not in (None, 0):
        raise ctx.error(f"Shape must be rank 0 but is rank {size.ndims}")
    return [_ts.TensorShape([2]), _ts.TensorShape([])]


def _read_shape(ctx: InferenceContext):
    # TF's OpDef has no element_shape attr: the shape comes from the array (`TensorArray.read` sets it)
    return [_ts.unknown_shape()]


def _gather_shape(ctx: InferenceContext):
    indices = ctx.shape(1)
    n = indices[0].value if indices.ndims == 1 else None
    return [_ts.TensorShape([n]).concatenate(_ts.as_shape(ctx.attrs["element_shape"]))]


def _concat_shape(ctx: InferenceContext):
    rest = _ts.as_shape(ctx.attrs["element_shape_except0"])
    return [_ts.TensorShape([None]).concatenate(rest) if rest.ndims is not None else _ts.unknown_shape(),
            _ts.TensorShape([None])]


defop("TensorArrayV3", "size: int32 -> handle: resource, flow: float32",
      attrs={"dtype": None, "element_shape": _ts.unknown_shape(), "dynamic_size": False,
             "clear_after_read": True, "identical_element_shapes": False, "tensor_array_name": ""},
      shape=_array_shape, stateful=True)
defop("TensorArrayWriteV3", "handle: resource, index: int32, value: T, flow_in: float32 -> flow_out: float32",
      shape=scalar_shape)
# (TF's OpDef has no element_shape: the Python wrapper sets the array's element shape on the result)
defop("TensorArrayReadV3", "handle: resource, index: int32, flow_in: float32 -> value: dtype",
      attrs={"dtype": None}, shape=_read_shape)
defop("TensorArrayGatherV3", "handle: resource, indices: int32, flow_in: float32 -> value: dtype",
      attrs={"dtype": None, "element_shape": _ts.unknown_shape()}, shape=_gather_shape)
defop("TensorArrayScatterV3",
      "handle: resource, indices: int32, value: T, flow_in: float32 -> flow_out: float32", shape=scalar_shape)
defop("TensorArrayConcatV3", "handle: resource, flow_in: float32 -> value: dtype, lengths: int64",
      attrs={"dtype": None, "element_shape_except0": _ts.unknown_shape()}, shape=_concat_shape)
defop("TensorArraySplitV3",
      "handle: resource, value: T, lengths: int64, flow_in: float32 -> flow_out: float32", shape=scalar_shape)
defop("TensorArraySizeV3", "handle: resource, flow_in: float32 -> size: int32", shape=scalar_shape)
defop("TensorArrayCloseV3", "handle: resource ->", shape=no_outputs, stateful=True)
# TF 1's gradients of TensorArray ops (written into GraphDefs; graphcompat's own gradients re-trace instead)
defop("TensorArrayGradV3", "handle: resource, flow_in: float32 -> grad_handle: resource, flow_out: float32",
      attrs={"source": None}, shape=lambda ctx: [_ts.TensorShape([2]), _ts.TensorShape([])], stateful=True)

# TF 1.0–1.2's TensorArray ops, in GraphDefs written then: the V3 ops' kernels behind a string handle (a
# Ref(string) in V1, a string in V2) and no flow output from the array itself (old TF's Python started the
# flow at a Const 0). Pack/Unpack are V1's names for gathering / scattering every element in order.
_LEGACY_CREATE_ATTRS = {"dtype": None, "element_shape": _ts.unknown_shape(), "dynamic_size": False,
                        "clear_after_read": True, "tensor_array_name": ""}
for _suffix, _handle_type in (("", "Ref(string)"), ("V2", "string")):
    defop("TensorArray" + _suffix, f"size: int32 -> handle: {_handle_type}", attrs=dict(_LEGACY_CREATE_ATTRS),
          shape=lambda ctx: [_array_shape(ctx)[0]], stateful=True)
    defop("TensorArrayWrite" + _suffix,
          f"handle: {_handle_type}, index: int32, value: T, flow_in: float32 -> flow_out: float32", shape=scalar_shape)
    defop("TensorArrayRead" + _suffix, f"handle: {_handle_type}, index: int32, flow_in: float32 -> value: dtype",
          attrs={"dtype": None}, shape=lambda ctx: [_ts.unknown_shape()])
    defop("TensorArrayGather" + _suffix, f"handle: {_handle_type}, indices: int32, flow_in: float32 -> value: dtype",
          attrs={"dtype": None, "element_shape": _ts.unknown_shape()}, shape=_gather_shape)
    defop("TensorArrayScatter" + _suffix,
          f"handle: {_handle_type}, indices: int32, value: T, flow_in: float32 -> flow_out: float32",
          shape=scalar_shape)
    defop("TensorArrayConcat" + _suffix, f"handle: {_handle_type}, flow_in: float32 -> value: dtype, lengths: int64",
          attrs={"dtype": None, "element_shape_except0": _ts.unknown_shape()}, shape=_concat_shape)
    defop("TensorArraySplit" + _suffix,
          f"handle: {_handle_type}, value: T, lengths: int64, flow_in: float32 -> flow_out: float32",
          shape=scalar_shape)
    defop("TensorArraySize" + _suffix, f"handle: {_handle_type}, flow_in: float32 -> size: int32",
          shape=scalar_shape)
    defop("TensorArrayClose" + _suffix, f"handle: {_handle_type} ->", shape=no_outputs, stateful=True)
    defop("TensorArrayGrad" + _suffix, f"handle: string, flow_in: float32 -> grad_handle: {_handle_type}",
          attrs={"source": None}, shape=lambda ctx: [_ts.TensorShape([2])], stateful=True)
defop("TensorArrayPack", "handle: Ref(string), flow_in: float32 -> value: dtype",
      attrs={"dtype": None, "element_shape": _ts.unknown_shape()},
      shape=lambda ctx: [_ts.TensorShape([None]).concatenate(_ts.as_shape(ctx.attrs["element_shape"]))])
defop("TensorArrayUnpack", "handle: Ref(string), value: T, flow_in: float32 -> flow_out: float32",
      shape=scalar_shape)


class TensorArray:
    """`tf.TensorArray` (TF1 graph mode): a list of same-dtype tensors written and read by index."""

    def __init__(self, dtype, size=None, dynamic_size: Optional[bool] = None,
                 clear_after_read: Optional[bool] = None, tensor_array_name: Optional[str] = None,
                 handle=None, flow=None, infer_shape: bool = True, element_shape=None,
                 colocate_with_first_write_call: bool = True, name: Optional[str] = None):
        if handle is not None and tensor_array_name:
            raise ValueError("Cannot provide both `handle` and `tensor_array_name` arguments at the same time.")
        if handle is not None and not isinstance(handle, _ops.Tensor):
            raise TypeError(f"Expected `handle` to be a Tensor, but got `{handle}` of type `{type(handle)}` instead.")
        if handle is None and size is None:
            raise ValueError("Argument `size` must be provided if handle is not provided.")
        for arg, value in (("size", size), ("element_shape", element_shape), ("dynamic_size", dynamic_size),
                           ("clear_after_read", clear_after_read)):
            if handle is not None and value is not None:
                raise ValueError(f"Cannot provide both `handle` and `{arg}` arguments at the same time."
                                 if arg != "size" else
                                 "Cannot provide both a `handle` and `size` arguments at the same time.")
        if handle is not None and flow is None:
            raise ValueError("flow must not be None if handle is not None.")
        self._dtype = _dt.as_dtype(dtype).base_dtype
        self._dynamic_size = bool(dynamic_size)
        self._infer_shape = infer_shape
        # Shared by every TensorArray rebuilt from this one (new flows): shapes learnt by writes count for all.
        self._element_shape = [_ts.as_shape(element_shape) if element_shape is not None else _ts.unknown_shape()]
        self._size = size
        with _ops.name_scope(name, "TensorArray", [handle, size, flow]) as scope:
            if handle is not None:
                self._handle, self._flow = handle, flow
            else:
                self._handle, self._flow = apply_op("TensorArrayV3", [convert_to_tensor(size, _dt.int32, name="size")], {
                    "dtype": self._dtype, "element_shape": self._element_shape[0],
                    "dynamic_size": self._dynamic_size,
                    "clear_after_read": True if clear_after_read is None else bool(clear_after_read),
                    "identical_element_shapes": bool(infer_shape),
                    "tensor_array_name": tensor_array_name or ""}, name=scope)

    # --- properties ---------------------------------------------------------------------------
    flow = property(lambda self: self._flow, doc="The flow tensor: orders this array's operations.")
    dtype = property(lambda self: self._dtype)
    handle = property(lambda self: self._handle)
    dynamic_size = property(lambda self: self._dynamic_size)

    @property
    def element_shape(self) -> _ts.TensorShape:
        return self._element_shape[0]

    def _with_flow(self, flow: _ops.Tensor) -> "TensorArray":
        """The same array after an operation (or a loop iteration) produced `flow`."""
        new = object.__new__(TensorArray)
        new.__dict__.update(self.__dict__)
        new._flow = flow
        return new

    # Control flow (graphcompat/ops/control_flow_ops.py) carries a TensorArray as its flow tensor.
    _control_flow_tensor = property(lambda self: self._flow)
    _rebuild_with = _with_flow

    def _check_element_shape(self, shape: _ts.TensorShape) -> None:
        if not shape.is_compatible_with(self.element_shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected {self.element_shape} ")
        if self._infer_shape:
            self._element_shape[0] = self.element_shape.merge_with(shape)

    def _value(self, value, name: str = "value") -> _ops.Tensor:
        value = convert_to_tensor(value, preferred_dtype=self._dtype, name=name)
        return value

    # --- operations ---------------------------------------------------------------------------
    def identity(self) -> "TensorArray":
        from graphcompat.ops.array_ops import identity
        return self._with_flow(identity(self._flow))

    def grad(self, source, flow=None, name=None):
        raise NotImplementedError(
            "tf.TensorArray.grad: graphcompat differentiates TensorArrays with tf.gradients (jax.vjp) and has no "
            "gradient TensorArrays")

    def read(self, index, name: Optional[str] = None) -> _ops.Tensor:
        value = apply_op("TensorArrayReadV3", [self._handle, index, self._flow], {"dtype": self._dtype}, name=name)
        if self.element_shape.ndims is not None:
            value.set_shape(self.element_shape)
        return value

    def write(self, index, value, name: Optional[str] = None) -> "TensorArray":
        with _ops.name_scope(name, "TensorArrayWrite", [self._handle, index, value]):
            value = self._value(value)
            self._check_element_shape(value.shape)
            flow = apply_op("TensorArrayWriteV3", [self._handle, index, value, self._flow], name=name)
        return self._with_flow(flow)

    def stack(self, name: Optional[str] = None) -> _ops.Tensor:
        from graphcompat.ops.reduction_ops import range as _range
        with _ops.name_scope(name, "TensorArrayStack", [self._handle]):
            return self.gather(_range(0, self.size()), name=name)

    def gather(self, indices, name: Optional[str] = None) -> _ops.Tensor:
        value = apply_op("TensorArrayGatherV3", [self._handle, indices, self._flow],
                         {"dtype": self._dtype, "element_shape": self.element_shape}, name=name)
        if self.element_shape.ndims is not None:
            value.set_shape(_ts.TensorShape([None]).concatenate(self.element_shape).merge_with(value.shape))
        return value

    def concat(self, name: Optional[str] = None) -> _ops.Tensor:
        rest = self.element_shape[1:] if self.element_shape.ndims else _ts.unknown_shape()
        value, _ = apply_op("TensorArrayConcatV3", [self._handle, self._flow],
                            {"dtype": self._dtype, "element_shape_except0": rest}, name=name)
        if self.element_shape.ndims:
            dim0 = None
            if self._infer_shape:  # n equal pieces of a known first dimension, as TF infers
                size = constant_value(self.size())
                if size is not None and self.element_shape[0].value is not None:
                    dim0 = int(size) * self.element_shape[0].value
            value.set_shape(_ts.TensorShape([dim0]).concatenate(self.element_shape[1:]))
        return value

    def unstack(self, value, name: Optional[str] = None) -> "TensorArray":
        from graphcompat.ops.array_ops import shape
        from graphcompat.ops.reduction_ops import range as _range
        with _ops.name_scope(name, "TensorArrayUnstack", [self._handle, value]):
            num_elements = shape(value)[0]
            return self.scatter(indices=_range(0, num_elements), value=value, name=name)

    def scatter(self, indices, value, name: Optional[str] = None) -> "TensorArray":
        with _ops.name_scope(name, "TensorArrayScatter", [self._handle, value, indices]):
            value = self._value(value)
            if value.shape.ndims is not None:
                self._check_element_shape(value.shape[1:])
            flow = apply_op("TensorArrayScatterV3", [self._handle, indices, value, self._flow], name=name)
        return self._with_flow(flow)

    def split(self, value, lengths, name: Optional[str] = None) -> "TensorArray":
        from graphcompat.ops.math_ops import cast
        with _ops.name_scope(name, "TensorArraySplit", [self._handle, value, lengths]):
            value = self._value(value)
            lengths_64 = cast(lengths, _dt.int64)
            known = constant_value(lengths_64)
            if value.shape.ndims is not None and known is not None and np.ndim(known) == 1 and len(known) \
                    and known.max() == known.min():
                self._check_element_shape(_ts.TensorShape([int(known[0])]).concatenate(value.shape[1:]))
            flow = apply_op("TensorArraySplitV3", [self._handle, value, lengths_64, self._flow], name=name)
        return self._with_flow(flow)

    def size(self, name: Optional[str] = None) -> _ops.Tensor:
        if not self._dynamic_size and self._size is not None:
            return convert_to_tensor(self._size, dtype=_dt.int32)
        return apply_op("TensorArraySizeV3", [self._handle, self._flow], name=name)

    def close(self, name: Optional[str] = None) -> _ops.Operation:
        return apply_op("TensorArrayCloseV3", [self._handle], name=name)
