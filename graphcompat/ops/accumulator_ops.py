"""TF 1's conditional accumulators: `tf.ConditionalAccumulator` and `tf.SparseConditionalAccumulator`.

An accumulator is a stateful host resource like a queue (its object lives in the Session, created when its
op first runs): `apply_grad` adds a gradient unless it is stale (its `local_step` is below the accumulator's
global step), `take_grad(n)` blocks until `n` gradients were added, then returns their average (or sum),
resets the count and advances the global step. As TF's Python does, the dense accumulator records the
`Resource*` ops on a resource handle, the sparse one the ref-handle ops. The ref-handle dense ops
(`ConditionalAccumulator`, `AccumulatorApplyGradient`, `AccumulatorTakeGradient`) are registered too, so
imported graphs that use them run. Lowerings: lowering/rules/accumulators.py.
"""
from __future__ import annotations

import collections
from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import apply_op, defop, no_outputs, scalar_shape


def _handle_shape(ctx):
    # TF's shape function gives every accumulator handle the shape [2] (a (container, name) pair)
    return [_ts.TensorShape([2])]


def _unknown_outputs(ctx):
    return [_ts.unknown_shape()] * len(ctx.output_dtypes)


_ACCUMULATOR_ATTRS = {"shape": None, "container": "", "shared_name": "", "reduction_type": "MEAN"}

for _prefix, _handle in (("", "Ref(string)"), ("Resource", "resource")):
    defop(f"{_prefix}ConditionalAccumulator", f"-> handle: {_handle}", attrs=dict(_ACCUMULATOR_ATTRS),
          shape=_handle_shape, stateful=True)
    defop(f"{_prefix}AccumulatorApplyGradient", f"handle: {_handle}, local_step: int64, gradient: dtype ->",
          shape=no_outputs, stateful=True)
    defop(f"{_prefix}AccumulatorTakeGradient", f"handle: {_handle}, num_required: int32 -> average: dtype",
          shape=_unknown_outputs, stateful=True)
    defop(f"{_prefix}AccumulatorNumAccumulated", f"handle: {_handle} -> num_accumulated: int32",
          shape=scalar_shape, stateful=True)
    defop(f"{_prefix}AccumulatorSetGlobalStep", f"handle: {_handle}, new_global_step: int64 ->",
          shape=no_outputs, stateful=True)
defop("SparseConditionalAccumulator", "-> handle: Ref(string)", attrs=dict(_ACCUMULATOR_ATTRS),
      shape=_handle_shape, stateful=True)
defop("SparseAccumulatorApplyGradient", "handle: Ref(string), local_step: int64, gradient_indices: int64, "
      "gradient_values: dtype, gradient_shape: int64 ->", attrs={"has_known_shape": False}, shape=no_outputs,
      stateful=True)
defop("SparseAccumulatorTakeGradient", "handle: Ref(string), num_required: int32 -> indices: int64, "
      "values: dtype, shape: int64", shape=_unknown_outputs, stateful=True)


def _accumulator_op(op_type: str, dtype, shape, shared_name, name: str, reduction_type: str) -> _ops.Tensor:
    dtype = _dt.as_dtype(dtype)
    if reduction_type not in ("MEAN", "SUM"):
        raise ValueError(f"Attr 'reduction_type' of '{op_type}' Op passed string '{reduction_type}' not in: "
                         '"MEAN", "SUM".')
    attrs = {"dtype": dtype, "shape": _ts.as_shape(shape) if shape is not None else _ts.unknown_shape(),
             "container": "", "shared_name": shared_name or "", "reduction_type": reduction_type}
    return apply_op(op_type, [], attrs, name=name)


def _as_int64(value) -> _ops.Tensor:
    """TF's `math_ops.cast(ops.convert_to_tensor(value), int64)`: a Python int becomes an int32 Const and a
    Cast; an int64 tensor passes as it is."""
    from graphcompat.ops import math_ops
    return math_ops.cast(convert_to_tensor(value), _dt.int64)


class ConditionalAccumulatorBase:
    """`tf.ConditionalAccumulatorBase`: what every accumulator has (name, dtype, count, global step)."""

    # The op types of this accumulator's handle: "Resource" for a resource handle, "" for a ref handle
    _PREFIX = "Resource"

    def __init__(self, dtype, shape, accumulator_ref: _ops.Tensor):
        self._dtype = dtype
        self._shape = _ts.TensorShape(shape) if shape is not None else _ts.unknown_shape()
        self._accumulator_ref = accumulator_ref
        self._name = accumulator_ref.op.name.split("/")[-1]

    @property
    def accumulator_ref(self) -> _ops.Tensor:
        return self._accumulator_ref

    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self):
        return self._dtype

    def num_accumulated(self, name: Optional[str] = None) -> _ops.Tensor:
        """The number of gradients added since the last take."""
        if name is None:
            name = f"{self._name}_NumAccumulated"
        return apply_op(f"{self._PREFIX}AccumulatorNumAccumulated", [self._accumulator_ref], {}, name=name)

    def set_global_step(self, new_global_step, name: Optional[str] = None) -> _ops.Operation:
        """Sets the accumulator's step (gradients with a smaller local step are dropped from then on)."""
        return apply_op(f"{self._PREFIX}AccumulatorSetGlobalStep",
                        [self._accumulator_ref, _as_int64(new_global_step)], {}, name=name)


class ConditionalAccumulator(ConditionalAccumulatorBase):
    """`tf.ConditionalAccumulator`: averages (or sums) dense gradients of one shape."""

    def __init__(self, dtype, shape=None, shared_name: Optional[str] = None,
                 name: str = "conditional_accumulator", reduction_type: str = "MEAN"):
        ref = _accumulator_op("ResourceConditionalAccumulator", dtype, shape, shared_name, name, reduction_type)
        super().__init__(dtype, shape, ref)

    def apply_grad(self, grad, local_step=0, name: Optional[str] = None) -> _ops.Operation:
        """Adds `grad` unless `local_step` is below the accumulator's global step (then it is dropped)."""
        grad = convert_to_tensor(grad, self._dtype)
        grad.get_shape().assert_is_compatible_with(self._shape)
        local_step = _as_int64(local_step)
        return apply_op("ResourceAccumulatorApplyGradient", [self._accumulator_ref, local_step, grad], {},
                        name=name)

    def take_grad(self, num_required, name: Optional[str] = None) -> _ops.Tensor:
        """Blocks until `num_required` gradients were added, then returns their average (or sum)."""
        out = apply_op("ResourceAccumulatorTakeGradient", [self._accumulator_ref, num_required],
                       {"dtype": _dt.as_dtype(self._dtype)}, name=name)
        out.set_shape(self._shape)
        return out


class SparseConditionalAccumulator(ConditionalAccumulatorBase):
    """`tf.SparseConditionalAccumulator`: averages IndexedSlices gradients row by row (each row by the
    number of gradients that had it)."""

    _PREFIX = ""

    def __init__(self, dtype, shape=None, shared_name: Optional[str] = None,
                 name: str = "sparse_conditional_accumulator", reduction_type: str = "MEAN"):
        ref = _accumulator_op("SparseConditionalAccumulator", dtype, shape, shared_name, name, reduction_type)
        super().__init__(dtype, shape, ref)

    def apply_indexed_slices_grad(self, grad, local_step=0, name: Optional[str] = None) -> _ops.Operation:
        return self.apply_grad(grad_indices=grad.indices, grad_values=grad.values, grad_shape=grad.dense_shape,
                               local_step=local_step, name=name)

    def apply_grad(self, grad_indices, grad_values, grad_shape=None, local_step=0,
                   name: Optional[str] = None) -> _ops.Operation:
        """Adds the sparse gradient (rows `grad_indices` of a tensor of shape `grad_shape`) unless stale."""
        from graphcompat.ops import math_ops
        local_step = _as_int64(local_step)
        indices = math_ops.cast(grad_indices, _dt.int64)
        shape = math_ops.cast([] if grad_shape is None else grad_shape, _dt.int64)
        # the values keep their own dtype (the op's `dtype` attr): a mismatch is the kernel's run-time error
        return apply_op("SparseAccumulatorApplyGradient",
                        [self._accumulator_ref, local_step, indices, grad_values, shape],
                        {"has_known_shape": grad_shape is not None}, name=name)

    def take_grad(self, num_required, name: Optional[str] = None):
        """(indices, values, shape) of the average gradient, once `num_required` were added."""
        return _SparseTake(*apply_op("SparseAccumulatorTakeGradient", [self._accumulator_ref, num_required],
                                     {"dtype": _dt.as_dtype(self._dtype)}, name=name))

    def take_indexed_slices_grad(self, num_required, name: Optional[str] = None):
        from graphcompat.gradients import IndexedSlices
        indices, values, shape = self.take_grad(num_required, name=name)
        return IndexedSlices(indices=indices, values=values, dense_shape=shape)


# TF's generated wrapper returns this namedtuple
_SparseTake = collections.namedtuple("SparseAccumulatorTakeGradient", ["indices", "values", "shape"])

__all__ = ["ConditionalAccumulatorBase", "ConditionalAccumulator", "SparseConditionalAccumulator"]
