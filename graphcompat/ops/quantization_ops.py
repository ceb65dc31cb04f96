"""TF's fake-quantization ops, as quantization-aware training graphs and frozen .pb files hold them:
FakeQuantWithMinMaxArgs (range in attrs), FakeQuantWithMinMaxVars (range in scalar tensors),
FakeQuantWithMinMaxVarsPerChannel (one range per last-axis channel) and their *Gradient ops.

Each op nudges its range so that 0.0 is exactly representable, clamps to the nudged range and rounds to
the grid of 2^num_bits - 1 steps (one fewer with narrow_range); lowering/rules/quantization.py is the
arithmetic, bitwise TF's kernels'. Gradients are TF's: `tf.gradients` records the *Gradient op, as TF's
registered gradient functions do (straight-through inside the nudged range; the Vars variants also sum
what falls below / above it into min's and max's gradients). The *Gradient ops themselves are
NotDifferentiable, as in TF.
"""
from __future__ import annotations

import collections
import numbers
from typing import Optional

import numpy as np

from graphcompat.custom_gradient import builtin_gradient
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop, merge_shapes, unchanged_shape

# --- shape functions: TF's (core/ops/array_ops.cc), with its error texts -----------------------------


def _with_rank(ctx: InferenceContext, shape: _ts.TensorShape, rank: int) -> _ts.TensorShape:
    if shape.ndims is not None and shape.ndims != rank:
        raise ctx.error(f"Shape must be rank {rank} but is rank {shape.ndims}")
    return shape if shape.ndims is not None else _ts.TensorShape([None] * rank)


def _merge_dim(ctx: InferenceContext, x: Optional[int], y: Optional[int]) -> None:
    if x is not None and y is not None and x != y:
        raise ctx.error(f"Dimensions must be equal, but are {x} and {y}")


def _last_dim(shape: _ts.TensorShape) -> Optional[int]:
    return shape.as_list()[-1] if shape.ndims else None


def _vars_shape(ctx: InferenceContext):
    _with_rank(ctx, ctx.shape(1), 0)
    _with_rank(ctx, ctx.shape(2), 0)
    return [ctx.shape(0)]


def _vars_gradient_shape(ctx: InferenceContext):
    _with_rank(ctx, ctx.shape(2), 0)
    _with_rank(ctx, ctx.shape(3), 0)
    inputs = merge_shapes(ctx, ctx.shape(0), ctx.shape(1))
    return [inputs, _ts.TensorShape([]), _ts.TensorShape([])]


def _per_channel_shape(ctx: InferenceContext):
    inputs = ctx.shape(0)
    if inputs.ndims is not None and inputs.ndims < 1:
        raise ctx.error(f"Shape must be at least rank 1 but is rank {inputs.ndims}")
    depth_min = _with_rank(ctx, ctx.shape(1), 1).as_list()[0]
    depth_max = _with_rank(ctx, ctx.shape(2), 1).as_list()[0]
    _merge_dim(ctx, _last_dim(inputs), depth_min)
    _merge_dim(ctx, _last_dim(inputs), depth_max)
    _merge_dim(ctx, depth_min, depth_max)
    return [inputs]


def _per_channel_gradient_shape(ctx: InferenceContext):
    inputs = ctx.shape(0)
    if inputs.ndims is not None and inputs.ndims < 1:
        raise ctx.error(f"Shape must be at least rank 1 but is rank {inputs.ndims}")
    if inputs.ndims is not None and inputs.ndims > 4:
        raise ctx.error(f"Shape must be at most rank 4 but is rank {inputs.ndims}")
    inputs = merge_shapes(ctx, inputs, ctx.shape(1))
    min_max = merge_shapes(ctx, _with_rank(ctx, ctx.shape(2), 1), _ts.TensorShape([_last_dim(inputs)]))
    min_max = merge_shapes(ctx, ctx.shape(3), min_max)
    return [inputs, min_max, min_max]


_BITS_ATTRS = {"num_bits": 8, "narrow_range": False}
defop("FakeQuantWithMinMaxArgs", "inputs: float32 -> outputs: float32",
      attrs={"min": -6.0, "max": 6.0, **_BITS_ATTRS}, shape=unchanged_shape)
defop("FakeQuantWithMinMaxArgsGradient", "gradients: float32, inputs: float32 -> backprops: float32",
      attrs={"min": -6.0, "max": 6.0, **_BITS_ATTRS}, shape=unchanged_shape)
defop("FakeQuantWithMinMaxVars", "inputs: float32, min: float32, max: float32 -> outputs: float32",
      attrs=dict(_BITS_ATTRS), shape=_vars_shape)
defop("FakeQuantWithMinMaxVarsGradient",
      "gradients: float32, inputs: float32, min: float32, max: float32 -> backprops_wrt_input: float32, "
      "backprop_wrt_min: float32, backprop_wrt_max: float32", attrs=dict(_BITS_ATTRS), shape=_vars_gradient_shape)
defop("FakeQuantWithMinMaxVarsPerChannel", "inputs: float32, min: float32, max: float32 -> outputs: float32",
      attrs=dict(_BITS_ATTRS), shape=_per_channel_shape)
defop("FakeQuantWithMinMaxVarsPerChannelGradient",
      "gradients: float32, inputs: float32, min: float32, max: float32 -> backprops_wrt_input: float32, "
      "backprop_wrt_min: float32, backprop_wrt_max: float32", attrs=dict(_BITS_ATTRS),
      shape=_per_channel_gradient_shape)

# TF's generated wrappers return namedtuples named after the op type.
FakeQuantWithMinMaxVarsGradient = collections.namedtuple(
    "FakeQuantWithMinMaxVarsGradient", ["backprops_wrt_input", "backprop_wrt_min", "backprop_wrt_max"])
FakeQuantWithMinMaxVarsPerChannelGradient = collections.namedtuple(
    "FakeQuantWithMinMaxVarsPerChannelGradient", ["backprops_wrt_input", "backprop_wrt_min", "backprop_wrt_max"])


# --- attr conversion: TF's eager/execute.py make_float / make_int / make_bool ------------------------
def _make_float(value, arg: str) -> float:
    if not isinstance(value, (numbers.Real, np.integer, np.floating)):  # TF's compat.real_types
        raise TypeError(f"Expected float for argument '{arg}' not {value!r}.")
    # The NodeDef holds a float32: get_attr returns the rounded value, and the kernel computes with it.
    return float(np.float32(value))


def _make_int(value, arg: str) -> int:
    if isinstance(value, str):
        raise TypeError(f"Expected int for argument '{arg}' not {value!r}.")
    try:
        return int(value)
    except (ValueError, TypeError):
        raise TypeError(f"Expected int for argument '{arg}' not {value!r}.") from None


def _make_bool(value, arg: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"Expected bool for argument '{arg}' not {value!r}.")
    return value


def _bits(num_bits, narrow_range) -> dict:
    # num_bits outside [2, 16] is the kernel's InvalidArgumentError at run time, as in TF.
    return {"num_bits": _make_int(num_bits, "num_bits"), "narrow_range": _make_bool(narrow_range, "narrow_range")}


def _args_attrs(min, max, num_bits, narrow_range) -> dict:  # noqa: A002 (TF's names)
    return {"min": _make_float(min, "min"), "max": _make_float(max, "max"), **_bits(num_bits, narrow_range)}


# --- builders -----------------------------------------------------------------------------------------
def fake_quant_with_min_max_args(inputs, min: float = -6, max: float = 6, num_bits: int = 8,  # noqa: A002
                                 narrow_range: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.quantization.fake_quant_with_min_max_args`: quantize-dequantize float32 `inputs` over
    [min, max] (nudged so that 0.0 is on the grid) with `num_bits` bits."""
    return apply_op("FakeQuantWithMinMaxArgs", [inputs], _args_attrs(min, max, num_bits, narrow_range), name=name)


def fake_quant_with_min_max_args_gradient(gradients, inputs, min: float = -6, max: float = 6,  # noqa: A002
                                          num_bits: int = 8, narrow_range: bool = False,
                                          name: Optional[str] = None) -> _ops.Tensor:
    """`tf.quantization.fake_quant_with_min_max_args_gradient`: `gradients` where `inputs` lies in
    the nudged range, 0 elsewhere."""
    return apply_op("FakeQuantWithMinMaxArgsGradient", [gradients, inputs],
                    _args_attrs(min, max, num_bits, narrow_range), name=name)


def fake_quant_with_min_max_vars(inputs, min, max, num_bits: int = 8, narrow_range: bool = False,  # noqa: A002
                                 name: Optional[str] = None) -> _ops.Tensor:
    """`tf.quantization.fake_quant_with_min_max_vars`: as `..._args`, the range given by the scalar
    float32 tensors `min` and `max` (variables in QAT graphs)."""
    return apply_op("FakeQuantWithMinMaxVars", [inputs, min, max], _bits(num_bits, narrow_range), name=name)


def fake_quant_with_min_max_vars_gradient(gradients, inputs, min, max, num_bits: int = 8,  # noqa: A002
                                          narrow_range: bool = False, name: Optional[str] = None):
    """`tf.quantization.fake_quant_with_min_max_vars_gradient`: (backprops_wrt_input,
    backprop_wrt_min, backprop_wrt_max)."""
    return FakeQuantWithMinMaxVarsGradient(*apply_op("FakeQuantWithMinMaxVarsGradient", [gradients, inputs, min, max],
                                                     _bits(num_bits, narrow_range), name=name))


def fake_quant_with_min_max_vars_per_channel(inputs, min, max, num_bits: int = 8,  # noqa: A002
                                             narrow_range: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.quantization.fake_quant_with_min_max_vars_per_channel`: one range per channel of the last
    axis (`min` and `max` of shape [d])."""
    return apply_op("FakeQuantWithMinMaxVarsPerChannel", [inputs, min, max], _bits(num_bits, narrow_range),
                    name=name)


def fake_quant_with_min_max_vars_per_channel_gradient(gradients, inputs, min, max, num_bits: int = 8,  # noqa: A002
                                                      narrow_range: bool = False, name: Optional[str] = None):
    """`tf.quantization.fake_quant_with_min_max_vars_per_channel_gradient`: (backprops_wrt_input,
    backprop_wrt_min, backprop_wrt_max), the last two of shape [d]."""
    return FakeQuantWithMinMaxVarsPerChannelGradient(*apply_op(
        "FakeQuantWithMinMaxVarsPerChannelGradient", [gradients, inputs, min, max], _bits(num_bits, narrow_range),
        name=name))


# --- gradients: TF's registrations (python/ops/array_ops.py, array_grad.py) ---------------------------
@builtin_gradient("FakeQuantWithMinMaxArgs")
def _fake_quant_args_grad(op: _ops.Operation, grad):
    return fake_quant_with_min_max_args_gradient(grad, op.inputs[0], min=op.get_attr("min"), max=op.get_attr("max"),
                                                 num_bits=op.get_attr("num_bits"),
                                                 narrow_range=op.get_attr("narrow_range"))


@builtin_gradient("FakeQuantWithMinMaxVars")
def _fake_quant_vars_grad(op: _ops.Operation, grad):
    return fake_quant_with_min_max_vars_gradient(grad, op.inputs[0], op.inputs[1], op.inputs[2],
                                                 num_bits=op.get_attr("num_bits"),
                                                 narrow_range=op.get_attr("narrow_range"))


@builtin_gradient("FakeQuantWithMinMaxVarsPerChannel")
def _fake_quant_per_channel_grad(op: _ops.Operation, grad):
    return fake_quant_with_min_max_vars_per_channel_gradient(grad, op.inputs[0], op.inputs[1], op.inputs[2],
                                                             num_bits=op.get_attr("num_bits"),
                                                             narrow_range=op.get_attr("narrow_range"))


for _op_type in ("FakeQuantWithMinMaxArgsGradient", "FakeQuantWithMinMaxVarsGradient",
                 "FakeQuantWithMinMaxVarsPerChannelGradient"):
    builtin_gradient(_op_type)(None)  # TF: ops.NotDifferentiable


__all__ = ["fake_quant_with_min_max_args", "fake_quant_with_min_max_args_gradient", "fake_quant_with_min_max_vars",
           "fake_quant_with_min_max_vars_gradient", "fake_quant_with_min_max_vars_per_channel",
           "fake_quant_with_min_max_vars_per_channel_gradient"]
