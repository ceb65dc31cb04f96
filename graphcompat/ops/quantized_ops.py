"""TF's quantized-tensor ops: float <-> quantized conversion (QuantizeV2, Dequantize), the range ops of
TF's 8-bit inference graphs (RequantizationRange, Requantize, QuantizeDownAndShrinkRange), QuantizedMatMul,
the range-preserving QuantizedReshape / QuantizedConcat, and TF's public builders `tf.quantize` &
`tf.dequantize` (`tf.quantization.*`, TF 1's `tf.quantize_v2`, `tf.quantized_concat`).

Quantized tensors (qint8, quint8, qint16, quint16, qint32) travel with their float range as two float32
tensors, as in TF. graphcompat holds their values as the plain integers (framework/dtypes.py,
`storage_numpy_dtype`); lowering/rules/quantized.py is the arithmetic, TF's CPU kernels' step for step
(integer results are bitwise TF's).
"""
from __future__ import annotations

import collections
import numbers
from typing import Optional

from graphcompat.custom_gradient import builtin_gradient
from graphcompat.framework import dtypes as _dtypes
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop, merge_shapes

_QUANTIZED = (_dtypes.qint8, _dtypes.quint8, _dtypes.qint32, _dtypes.qint16, _dtypes.quint16)  # TF's order
_MODES = ("MIN_COMBINED", "MIN_FIRST", "SCALED")
_ROUND_MODES = ("HALF_AWAY_FROM_ZERO", "HALF_TO_EVEN")


# --- shape functions: TF's (core/ops/array_ops.cc, math_ops.cc), with its error texts ---------------------
def _with_rank(ctx: InferenceContext, shape: _ts.TensorShape, rank: int) -> _ts.TensorShape:
    if shape.ndims is not None and shape.ndims != rank:
        raise ctx.error(f"Shape must be rank {rank} but is rank {shape.ndims}")
    return shape if shape.ndims is not None else _ts.TensorShape([None] * rank)


def _scalar(ctx: InferenceContext, *indices: int) -> None:
    for i in indices:
        _with_rank(ctx, ctx.shape(i), 0)


def _quantize_shape(ctx: InferenceContext):
    """TF's QuantizeV2Shape (Dequantize's too): a scalar range, or one per slice along `axis`."""
    axis = ctx.attrs.get("axis", -1)
    if axis < -1:
        raise ctx.error(f"axis should be at least -1, got {axis}")
    minmax = _with_rank(ctx, ctx.shape(1), 0 if axis == -1 else 1)
    minmax = merge_shapes(ctx, minmax, _with_rank(ctx, ctx.shape(2), 0 if axis == -1 else 1))
    inputs = ctx.shape(0)
    if axis != -1:
        if inputs.ndims is not None and inputs.ndims < axis + 1:
            raise ctx.error(f"Shape must be at least rank {axis + 1} but is rank {inputs.ndims}")
        if inputs.ndims is not None:
            depth = inputs.as_list()[axis]
            width = minmax.as_list()[0]
            if depth is not None and width is not None and depth != width:
                raise ctx.error(f"Dimensions must be equal, but are {width} and {depth}")
            minmax = _ts.TensorShape([width if width is not None else depth])
    return [inputs, minmax, minmax][:len(ctx.output_dtypes)]


def _range_shape(ctx: InferenceContext):
    _scalar(ctx, 1, 2)
    return [_ts.TensorShape([]), _ts.TensorShape([])]


def _requantize_shape(ctx: InferenceContext):
    _scalar(ctx, 1, 2, 3, 4)
    return [ctx.shape(0), _ts.TensorShape([]), _ts.TensorShape([])]


def _shrink_shape(ctx: InferenceContext):
    _scalar(ctx, 1, 2)
    return [ctx.shape(0), _ts.TensorShape([]), _ts.TensorShape([])]


def _matmul_shape(ctx: InferenceContext):
    a = _with_rank(ctx, ctx.shape(0), 2).as_list()
    b = _with_rank(ctx, ctx.shape(1), 2).as_list()
    _scalar(ctx, 2, 3, 4, 5)
    if ctx.attrs.get("transpose_a"):
        a = a[::-1]
    if ctx.attrs.get("transpose_b"):
        b = b[::-1]
    if a[1] is not None and b[0] is not None and a[1] != b[0]:
        raise ctx.error(f"Dimensions must be equal, but are {a[1]} and {b[0]}")
    return [_ts.TensorShape([a[0], b[1]]), _ts.TensorShape([]), _ts.TensorShape([])]


def _quantized_reshape_shape(ctx: InferenceContext):
    """Reshape's shape function on (tensor, shape); the range passes through as scalars."""
    from graphcompat.ops.array_ops import _reshape_shape
    _scalar(ctx, 2, 3)
    inner = InferenceContext("Reshape", ctx.name, ctx.inputs[:2], ctx.attrs, ctx.output_dtypes[:1])
    return _reshape_shape(inner) + [_ts.TensorShape([]), _ts.TensorShape([])]


def _quantized_concat_shape(ctx: InferenceContext):
    """Concat's shape function on (values..., concat_dim); every range a scalar."""
    from graphcompat.ops.array_ops import _concat_shape
    n = ctx.attrs["N"]
    _scalar(ctx, *range(1 + n, 1 + 3 * n))
    inner = InferenceContext("Concat", ctx.name, list(ctx.inputs[1:1 + n]) + [ctx.inputs[0]], ctx.attrs,
                             ctx.output_dtypes[:1])
    return _concat_shape(inner) + [_ts.TensorShape([]), _ts.TensorShape([])]


def _qdq_shape(ctx: InferenceContext):
    """TF's QuantizeAndDequantizeV2/V3/V4 shape function: scalar ranges, or one per slice along `axis`."""
    axis = ctx.attrs.get("axis", -1)
    if axis < -1:
        raise ctx.error(f"axis should be at least -1, got {axis}")
    inputs = ctx.shape(0)
    for i in (1, 2):
        if axis == -1:
            _with_rank(ctx, ctx.shape(i), 0)
        else:
            if inputs.ndims is not None and inputs.ndims < axis + 1:
                raise ctx.error(f"Shape must be at least rank {axis + 1} but is rank {inputs.ndims}")
            width = _with_rank(ctx, ctx.shape(i), 1).as_list()[0]
            depth = inputs.as_list()[axis] if inputs.ndims is not None else None
            if depth is not None and width is not None and depth != width:
                raise ctx.error(f"Dimensions must be equal, but are {width} and {depth}")
    if len(ctx.inputs) > 3:  # V3's num_bits
        _with_rank(ctx, ctx.shape(3), 0)
    return [inputs]


def _qdq_grad_shape(ctx: InferenceContext):
    axis = ctx.attrs.get("axis", -1)
    inputs = merge_shapes(ctx, ctx.shape(0), ctx.shape(1))
    minmax = _with_rank(ctx, ctx.shape(2), 0 if axis == -1 else 1)
    minmax = merge_shapes(ctx, minmax, _with_rank(ctx, ctx.shape(3), 0 if axis == -1 else 1))
    return [inputs, minmax, minmax]


_Q = {"T": _QUANTIZED}
defop("QuantizeV2", "input: float32, min_range: float32, max_range: float32 -> output: T, output_min: float32, "
      "output_max: float32", types=_Q, quantized=True, shape=_quantize_shape,
      attrs={"mode": "MIN_COMBINED", "round_mode": "HALF_AWAY_FROM_ZERO", "narrow_range": False, "axis": -1,
             "ensure_minimum_range": 0.01})
defop("Dequantize", "input: T, min_range: float32, max_range: float32 -> output: dtype",
      types={"T": _QUANTIZED, "dtype": (_dtypes.bfloat16, _dtypes.float32)}, quantized=True, shape=_quantize_shape,
      attrs={"mode": "MIN_COMBINED", "narrow_range": False, "axis": -1, "dtype": _dtypes.float32})
defop("RequantizationRange", "input: Tinput, input_min: float32, input_max: float32 -> output_min: float32, "
      "output_max: float32", types={"Tinput": _QUANTIZED}, quantized=True, shape=_range_shape)
defop("Requantize", "input: Tinput, input_min: float32, input_max: float32, requested_output_min: float32, "
      "requested_output_max: float32 -> output: out_type, output_min: float32, output_max: float32",
      types={"Tinput": _QUANTIZED, "out_type": _QUANTIZED}, quantized=True, shape=_requantize_shape)
defop("QuantizeDownAndShrinkRange", "input: Tinput, input_min: float32, input_max: float32 -> output: out_type, "
      "output_min: float32, output_max: float32", types={"Tinput": _QUANTIZED, "out_type": _QUANTIZED},
      quantized=True, shape=_shrink_shape)
defop("QuantizedMatMul", "a: T1, b: T2, min_a: float32, max_a: float32, min_b: float32, max_b: float32 -> "
      "out: Toutput, min_out: float32, max_out: float32",
      types={"T1": _QUANTIZED, "T2": _QUANTIZED, "Toutput": _QUANTIZED, "Tactivation": _QUANTIZED}, quantized=True,
      attrs={"Toutput": _dtypes.qint32, "transpose_a": False, "transpose_b": False, "Tactivation": _dtypes.quint8},
      shape=_matmul_shape)

defop("QuantizedReshape", "tensor: T, shape: Tshape, input_min: float32, input_max: float32 -> output: T, "
      "output_min: float32, output_max: float32", quantized=True, shape=_quantized_reshape_shape,
      attrs={"Tshape": _dtypes.int32}, types={"Tshape": (_dtypes.int32, _dtypes.int64)})
defop("QuantizedConcat", "concat_dim: int32, values: N * T, input_mins: N * float32, input_maxes: N * float32 -> "
      "output: T, output_min: float32, output_max: float32", quantized=True, shape=_quantized_concat_shape)

_QDQ_TYPES = {"T": (_dtypes.bfloat16, _dtypes.float16, _dtypes.float32, _dtypes.float64)}
_QDQ_ATTRS = {"signed_input": True, "num_bits": 8, "range_given": False, "round_mode": "HALF_TO_EVEN",
              "narrow_range": False, "axis": -1}
defop("QuantizeAndDequantizeV2", "input: T, input_min: T, input_max: T -> output: T", types=_QDQ_TYPES,
      attrs=dict(_QDQ_ATTRS), shape=_qdq_shape)
defop("QuantizeAndDequantizeV4", "input: T, input_min: T, input_max: T -> output: T", types=_QDQ_TYPES,
      attrs=dict(_QDQ_ATTRS), shape=_qdq_shape)
defop("QuantizeAndDequantizeV3", "input: T, input_min: T, input_max: T, num_bits: int32 -> output: T",
      types=_QDQ_TYPES, attrs={"signed_input": True, "range_given": True, "narrow_range": False, "axis": -1},
      shape=_qdq_shape)
defop("QuantizeAndDequantizeV4Grad", "gradients: T, input: T, input_min: T, input_max: T -> input_backprop: T, "
      "input_min_backprop: T, input_max_backprop: T", types=_QDQ_TYPES, attrs={"axis": -1}, shape=_qdq_grad_shape)

def _with_ranges(inner_shape, op_type: str, data: int, ranges):
    """A float op's shape function on the first `data` inputs, scalar ranges after them."""
    def shape(ctx: InferenceContext):
        _scalar(ctx, *ranges)
        attrs = {"data_format": "NHWC", "explicit_paddings": [], **ctx.attrs}  # the NHWC-only quantized kernels
        inner = InferenceContext(op_type, ctx.name, ctx.inputs[:data], attrs, ctx.output_dtypes[:1])
        return list(inner_shape(inner))[:1] + [_ts.TensorShape([]), _ts.TensorShape([])]
    return shape


def _unchanged(ctx: InferenceContext):
    return [ctx.shape(0)]


def _bias_add_shape(ctx: InferenceContext):
    x = ctx.shape(0)
    if x.ndims is not None and x.ndims < 2:
        raise ctx.error(f"Shape must be at least rank 2 but is rank {x.ndims}")
    depth = _with_rank(ctx, ctx.shape(1), 1).as_list()[0]
    last = x.as_list()[-1] if x.ndims else None
    if last is not None and depth is not None and last != depth:
        raise ctx.error(f"Dimensions must be equal, but are {last} and {depth}")
    return [x]


def _nn_shape(name: str):
    from graphcompat.ops import nn_ops
    return getattr(nn_ops, name)


_RELU = {"Tinput": _QUANTIZED, "out_type": _QUANTIZED}
defop("QuantizedRelu", "features: Tinput, min_features: float32, max_features: float32 -> activations: out_type, "
      "min_activations: float32, max_activations: float32", types=_RELU, quantized=True,
      attrs={"out_type": _dtypes.quint8}, shape=_with_ranges(_unchanged, "Relu", 1, (1, 2)))
defop("QuantizedRelu6", "features: Tinput, min_features: float32, max_features: float32 -> activations: out_type, "
      "min_activations: float32, max_activations: float32", types=_RELU, quantized=True,
      attrs={"out_type": _dtypes.quint8}, shape=_with_ranges(_unchanged, "Relu6", 1, (1, 2)))
defop("QuantizedReluX", "features: Tinput, max_value: float32, min_features: float32, max_features: float32 -> "
      "activations: out_type, min_activations: float32, max_activations: float32", types=_RELU, quantized=True,
      attrs={"out_type": _dtypes.quint8}, shape=_with_ranges(_unchanged, "Relu", 1, (1, 2, 3)))
defop("QuantizedMaxPool", "input: T, min_input: float32, max_input: float32 -> output: T, min_output: float32, "
      "max_output: float32", types=_Q, quantized=True, shape=_with_ranges(_nn_shape("_pool_shape"), "MaxPool", 1,
                                                                         (1, 2)))
defop("QuantizedAvgPool", "input: T, min_input: float32, max_input: float32 -> output: T, min_output: float32, "
      "max_output: float32", types=_Q, quantized=True, shape=_with_ranges(_nn_shape("_pool_shape"), "AvgPool", 1,
                                                                         (1, 2)))
defop("QuantizedConv2D", "input: Tinput, filter: Tfilter, min_input: float32, max_input: float32, min_filter: float32, "
      "max_filter: float32 -> output: out_type, min_output: float32, max_output: float32",
      types={"Tinput": _QUANTIZED, "Tfilter": _QUANTIZED, "out_type": _QUANTIZED}, quantized=True,
      attrs={"out_type": _dtypes.qint32, "dilations": [1, 1, 1, 1]},  # (NHWC only: TF's OpDef has no data_format)
      shape=_with_ranges(_nn_shape("_conv2d_shape"), "Conv2D", 2, (2, 3, 4, 5)))

defop("QuantizedBiasAdd", "input: T1, bias: T2, min_input: float32, max_input: float32, min_bias: float32, "
      "max_bias: float32 -> output: out_type, min_out: float32, max_out: float32",
      types={"T1": _QUANTIZED, "T2": _QUANTIZED, "out_type": _QUANTIZED}, quantized=True,
      shape=_with_ranges(_bias_add_shape, "BiasAdd", 2, (2, 3, 4, 5)))

def _binary_shape(ctx: InferenceContext):
    from graphcompat.framework.registry import broadcast_shapes
    _scalar(ctx, 2, 3, 4, 5)
    return [broadcast_shapes(ctx, ctx.shape(0), ctx.shape(1)), _ts.TensorShape([]), _ts.TensorShape([])]


defop("QuantizedMul", "x: T1, y: T2, min_x: float32, max_x: float32, min_y: float32, max_y: float32 -> z: Toutput, "
      "min_z: float32, max_z: float32", types={"T1": _QUANTIZED, "T2": _QUANTIZED, "Toutput": _QUANTIZED},
      quantized=True, attrs={"Toutput": _dtypes.qint32}, shape=_binary_shape)

# TF's generated wrappers return namedtuples named after the op type.
QuantizeV2 = collections.namedtuple("QuantizeV2", ["output", "output_min", "output_max"])
QuantizedConcat = collections.namedtuple("QuantizedConcat", ["output", "output_min", "output_max"])


# --- attr checks: TF's op_def_library texts -----------------------------------------------------------------
def _check_string(op_type: str, attr: str, value, allowed) -> str:
    if not isinstance(value, str):
        raise TypeError(f"Expected string for argument '{attr}' not {value!r}.")
    if value not in allowed:
        names = ", ".join(f'"{a}"' for a in allowed)
        raise ValueError(f"Attr '{attr}' of '{op_type}' Op passed string '{value}' not in: {names}.")
    return value


def _check_bool(value, attr: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"Expected bool for argument '{attr}' not {value!r}.")
    return value


def _check_int(value, attr: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Expected int for argument '{attr}' not {value!r}.")
    return int(value)


def _axis(input, axis) -> int:  # noqa: A002
    """TF's Python: None is -1, a negative axis counts from the end of a tensor of known rank."""
    if axis is None:
        return -1
    if axis < 0:
        if input.shape.ndims is None:
            raise ValueError("input should have known rank to use negative axis.")
        axis %= input.shape.ndims
    return _check_int(axis, "axis")


def _check_type(op_type: str, attr: str, value, allowed) -> _dtypes.DType:
    """op_def_library's check of a type attr no input binds (TF's TypeError text)."""
    dtype = _dtypes.as_dtype(value)
    if dtype not in allowed:
        names = ", ".join(t.name for t in allowed)
        raise TypeError(f"Value passed to parameter '{attr}' has DataType {dtype.name} not in list of allowed "
                        f"values: {names}")
    return dtype


def _check_float(value, attr: str) -> float:
    if not isinstance(value, numbers.Real):
        raise TypeError(f"Expected float for argument '{attr}' not {value!r}.")
    return float(value)


# --- builders ---------------------------------------------------------------------------------------------
def quantize_v2(input, min_range, max_range, T, mode: str = "MIN_COMBINED",  # noqa: A002,N803 (TF's names)
                name: Optional[str] = None, round_mode: str = "HALF_AWAY_FROM_ZERO", narrow_range: bool = False,
                axis: Optional[int] = None, ensure_minimum_range: float = 0.01):
    """TF 1's `tf.quantize_v2`: a `QuantizeV2` op quantizing float32 `input` over [min_range, max_range]
    into the quantized type `T`; returns (output, output_min, output_max), the range it used."""
    attrs = {"T": _check_type("QuantizeV2", "T", T, _QUANTIZED),
             "mode": _check_string("QuantizeV2", "mode", mode, _MODES),
             "round_mode": _check_string("QuantizeV2", "round_mode", round_mode, _ROUND_MODES),
             "narrow_range": _check_bool(narrow_range, "narrow_range"),
             "axis": _axis(input, axis),
             "ensure_minimum_range": _check_float(ensure_minimum_range, "ensure_minimum_range")}
    return QuantizeV2(*apply_op("QuantizeV2", [input, min_range, max_range], attrs, name=name))


def quantize(input, min_range, max_range, T, mode: str = "MIN_COMBINED",  # noqa: A002,N803 (TF's names)
             round_mode: str = "HALF_AWAY_FROM_ZERO", name: Optional[str] = None, narrow_range: bool = False,
             axis: Optional[int] = None, ensure_minimum_range: float = 0.01):
    """`tf.quantization.quantize` (`tf.quantize`): as `quantize_v2`; TF's Python passes
    `ensure_minimum_range` only when it differs from 0.01 (the op's default is the same)."""
    return quantize_v2(input, min_range, max_range, T, mode=mode, name=name, round_mode=round_mode,
                       narrow_range=narrow_range, axis=axis, ensure_minimum_range=ensure_minimum_range)


def dequantize(input, min_range, max_range, mode: str = "MIN_COMBINED",  # noqa: A002 (TF's name)
               name: Optional[str] = None, axis: Optional[int] = None, narrow_range: bool = False,
               dtype=_dtypes.float32) -> _ops.Tensor:
    """`tf.quantization.dequantize` (`tf.dequantize`): a `Dequantize` op mapping a quantized `input` with
    its range back to float32 (or bfloat16, MIN_COMBINED only)."""
    attrs = {"mode": _check_string("Dequantize", "mode", mode, _MODES),
             "narrow_range": _check_bool(narrow_range, "narrow_range"),
             "axis": _axis(input, axis),
             "dtype": _check_type("Dequantize", "dtype", dtype, (_dtypes.bfloat16, _dtypes.float32))}
    return apply_op("Dequantize", [input, min_range, max_range], attrs, name=name)


def _qdq_attrs(op_type: str, input, signed_input, num_bits, range_given, round_mode, narrow_range,  # noqa: A002
               axis) -> dict:
    return {"signed_input": _check_bool(signed_input, "signed_input"), "num_bits": _check_int(num_bits, "num_bits"),
            "range_given": _check_bool(range_given, "range_given"),
            "round_mode": _check_string(op_type, "round_mode", round_mode, ("HALF_TO_EVEN", "HALF_UP")),
            "narrow_range": _check_bool(narrow_range, "narrow_range"), "axis": _axis(input, axis)}


def quantize_and_dequantize(input, input_min, input_max, signed_input: bool = True,  # noqa: A002
                            num_bits: int = 8, range_given: bool = False, round_mode: str = "HALF_TO_EVEN",
                            name: Optional[str] = None, narrow_range: bool = False,
                            axis: Optional[int] = None) -> _ops.Tensor:
    """`tf.quantization.quantize_and_dequantize` (deprecated in TF): a `QuantizeAndDequantizeV2` op, float
    `input` rounded to the grid of a `num_bits` integer over [input_min, input_max] (or the data's own range
    when not `range_given`); its gradient passes straight through."""
    return apply_op("QuantizeAndDequantizeV2", [input, input_min, input_max],
                    _qdq_attrs("QuantizeAndDequantizeV2", input, signed_input, num_bits, range_given, round_mode,
                               narrow_range, axis), name=name)


def quantize_and_dequantize_v2(input, input_min, input_max, signed_input: bool = True,  # noqa: A002
                               num_bits: int = 8, range_given: bool = False, round_mode: str = "HALF_TO_EVEN",
                               name: Optional[str] = None, narrow_range: bool = False,
                               axis: Optional[int] = None) -> _ops.Tensor:
    """`tf.quantization.quantize_and_dequantize_v2`: the same values as a `QuantizeAndDequantizeV4` op,
    whose gradient (`QuantizeAndDequantizeV4Grad`) passes only inside [input_min, input_max]."""
    return apply_op("QuantizeAndDequantizeV4", [input, input_min, input_max],
                    _qdq_attrs("QuantizeAndDequantizeV4", input, signed_input, num_bits, range_given, round_mode,
                               narrow_range, axis), name=name)


QuantizeAndDequantizeV4Grad = collections.namedtuple(
    "QuantizeAndDequantizeV4Grad", ["input_backprop", "input_min_backprop", "input_max_backprop"])


@builtin_gradient("QuantizeAndDequantizeV4")
def _quantize_and_dequantize_v4_grad(op: _ops.Operation, grad):
    """TF's _QuantizeAndDequantizeV4Grad: the V4Grad op's three outputs."""
    return list(apply_op("QuantizeAndDequantizeV4Grad", [grad, op.inputs[0], op.inputs[1], op.inputs[2]],
                         {"axis": op.get_attr("axis")}))


def quantized_concat(concat_dim, values, input_mins, input_maxes, name: Optional[str] = None):
    """`tf.quantization.quantized_concat` (`tf.quantized_concat`): concatenates quantized tensors along
    `concat_dim` (0 <= concat_dim < rank), requantizing each into the joint range (symmetric around 0 for
    signed types); returns (output, output_min, output_max)."""
    for arg, value in (("values", values), ("input_mins", input_mins), ("input_maxes", input_maxes)):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"Expected list for '{arg}' argument to 'quantized_concat' Op, not {value!r}.")
    n = len(values)
    if n < 2:  # TF's OpDef: N >= 2
        raise ValueError(f"List argument 'values' to 'QuantizedConcat' Op with length {n} shorter than minimum "
                         "length 2.")
    for arg, value in (("input_mins", input_mins), ("input_maxes", input_maxes)):
        if len(value) != n:
            raise ValueError(f"List argument '{arg}' to 'quantized_concat' Op with length {len(value)} must match "
                             f"length {n} of argument 'values'.")
    return QuantizedConcat(*apply_op("QuantizedConcat", [concat_dim, list(values), list(input_mins),
                                                         list(input_maxes)], name=name))


def _ints(value, arg: str, op_type: str) -> list:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"Expected list for '{arg}' argument to '{op_type}' Op, not {value!r}.")
    return [_check_int(v, arg) for v in value]


def _padding(value, op_type: str) -> str:
    return _check_string(op_type, "padding", value, ("SAME", "VALID"))


QuantizedConv2D = collections.namedtuple("QuantizedConv2D", ["output", "min_output", "max_output"])
QuantizedAvgPool = collections.namedtuple("QuantizedAvgPool", ["output", "min_output", "max_output"])
QuantizedMaxPool = collections.namedtuple("QuantizedMaxPool", ["output", "min_output", "max_output"])
QuantizedReluX = collections.namedtuple("QuantizedReluX", ["activations", "min_activations", "max_activations"])


def quantized_conv2d(input, filter, min_input, max_input, min_filter, max_filter, strides,  # noqa: A002
                     padding: str, out_type=_dtypes.qint32, dilations=(1, 1, 1, 1), name: Optional[str] = None):
    """`tf.nn.quantized_conv2d`: a `QuantizedConv2D` op (quint8 input and filter, NHWC, qint32 output)."""
    attrs = {"strides": _ints(strides, "strides", "quantized_conv2d"), "padding": _padding(padding, "QuantizedConv2D"),
             "out_type": _check_type("QuantizedConv2D", "out_type", out_type, _QUANTIZED),
             "dilations": _ints(dilations, "dilations", "quantized_conv2d")}
    return QuantizedConv2D(*apply_op("QuantizedConv2D", [input, filter, min_input, max_input, min_filter,
                                                         max_filter], attrs, name=name))


def _pool(op_type: str, fn: str, result, input, min_input, max_input, ksize, strides, padding, name):  # noqa: A002
    attrs = {"ksize": _ints(ksize, "ksize", fn), "strides": _ints(strides, "strides", fn),
             "padding": _padding(padding, op_type)}
    return result(*apply_op(op_type, [input, min_input, max_input], attrs, name=name))


def quantized_avg_pool(input, min_input, max_input, ksize, strides, padding: str,  # noqa: A002
                       name: Optional[str] = None):
    """`tf.nn.quantized_avg_pool`: a `QuantizedAvgPool` op (quint8, NHWC); the range passes through."""
    return _pool("QuantizedAvgPool", "quantized_avg_pool", QuantizedAvgPool, input, min_input, max_input, ksize,
                 strides, padding, name)


def quantized_max_pool(input, min_input, max_input, ksize, strides, padding: str,  # noqa: A002
                       name: Optional[str] = None):
    """`tf.nn.quantized_max_pool`: a `QuantizedMaxPool` op (quint8, NHWC); the range passes through."""
    return _pool("QuantizedMaxPool", "quantized_max_pool", QuantizedMaxPool, input, min_input, max_input, ksize,
                 strides, padding, name)


def quantized_relu_x(features, max_value, min_features, max_features, out_type=_dtypes.quint8,
                     name: Optional[str] = None):
    """`tf.nn.quantized_relu_x`: a `QuantizedReluX` op (TF 2.21's CPU build registers no kernel for it,
    so running it fails as TF's run does)."""
    attrs = {"out_type": _check_type("QuantizedReluX", "out_type", out_type, _QUANTIZED)}
    return QuantizedReluX(*apply_op("QuantizedReluX", [features, max_value, min_features, max_features], attrs,
                                    name=name))


__all__ = ["quantize_v2", "quantize", "dequantize", "quantized_concat", "quantize_and_dequantize",
           "quantize_and_dequantize_v2", "quantized_conv2d", "quantized_avg_pool", "quantized_max_pool",
           "quantized_relu_x"]
