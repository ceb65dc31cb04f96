"""TF's cuDNN RNN ops (core/ops/cudnn_rnn_ops.cc), as graphs written with tf.contrib.cudnn_rnn's CudnnLSTM /
CudnnGRU / CudnnRNNTanh / CudnnRNNRelu and Keras' cuDNN layers hold them: CudnnRNN, CudnnRNNV2, CudnnRNNV3 (a
multi-layer, optionally bidirectional RNN over a whole sequence with one opaque parameter buffer), their
gradient kernels CudnnRNNBackprop(V2, V3), CudnnRNNParamsSize and the conversions between the opaque buffer
and its canonical weights and biases, CudnnRNNParamsToCanonical(V2) / CudnnRNNCanonicalToParams(V2).

TF registers these kernels for GPUs only; graphcompat runs them anywhere (lowering/rules/cudnn_rnn.py: one
`lax.scan` per layer and direction over cuDNN's buffer layout, which that module documents). The builders take
gen_cudnn_rnn_ops' keyword arguments. Gradients are TF's (python/ops/cudnn_rnn_grad.py): tf.gradients of a
forward op records its Backprop op of the same version. What graphcompat leaves out raises NotImplementedError
naming the op: LSTM projections (num_proj), `skip_input` (and `auto_select` where it means skip_input).
"""
from __future__ import annotations

import collections
import numbers
from typing import Optional, Sequence

import numpy as np

from graphcompat.custom_gradient import builtin_gradient
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop

# TF's order: `T: {bfloat16, half, float, double}`, `S: {int32, int64}`.
_TYPES = {"T": (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64)}
_SIZE_TYPES = {**_TYPES, "S": (_dt.int32, _dt.int64)}

RNN_MODES = ("rnn_relu", "rnn_tanh", "lstm", "gru")
INPUT_MODES = ("linear_input", "skip_input", "auto_select")
DIRECTIONS = ("unidirectional", "bidirectional")
_COMMON_ATTRS = {"rnn_mode": "lstm", "input_mode": "linear_input", "direction": "unidirectional", "dropout": 0.0,
                 "seed": 0, "seed2": 0}


# --- shape functions: TF 2.21's, with its texts -----------------------------------------------------------
def _with_rank(ctx: InferenceContext, i: int, rank: int) -> _ts.TensorShape:
    shape = ctx.shape(i)
    if shape.ndims is not None and shape.ndims != rank:
        raise ctx.error(f"Shape must be rank {rank} but is rank {shape.ndims}")
    return shape if shape.ndims is not None else _ts.TensorShape([None] * rank)


def _forward_shape(v3: bool):
    def shape(ctx: InferenceContext):
        x = _with_rank(ctx, 0, 3).as_list()
        units = _with_rank(ctx, 1, 3).as_list()[2]
        h = ctx.shape(1)  # output_h is input_h's shape as given (unknown rank stays unknown)
        # TF 2.21's V3 also requires a rank-3 input_c of GRU and RNN models, which read none; TF 1.x (whose
        # tf.contrib.cudnn_rnn layers pass `constant([])` there) did not: graphcompat checks it for LSTM only.
        c = _with_rank(ctx, 2, 3) if v3 and ctx.attrs["rnn_mode"] == "lstm" else ctx.shape(2)
        _with_rank(ctx, 3, 1)
        if v3:
            _with_rank(ctx, 4, 1)
        dirs = 2 if ctx.attrs["direction"] == "bidirectional" else 1
        outputs = [_ts.TensorShape([x[0], x[1], None if units is None else units * dirs]), h,
                   (c if v3 else h) if ctx.attrs["rnn_mode"] == "lstm" else _ts.TensorShape([]),
                   _ts.TensorShape(None)]
        return outputs + ([_ts.TensorShape(None)] if len(ctx.output_dtypes) == 5 else [])
    return shape


def _backprop_shape(ctx: InferenceContext):
    return [ctx.shape(0), ctx.shape(1), ctx.shape(2), ctx.shape(3)]


def _params_size_shape(ctx: InferenceContext):
    for i in range(3):
        _with_rank(ctx, i, 0)
    return [_ts.TensorShape([1])]


def _to_canonical_shape(ctx: InferenceContext):
    _with_rank(ctx, 3, 1)
    weights = ctx.attrs.get("num_params", ctx.attrs.get("num_params_weights"))
    biases = ctx.attrs.get("num_params", ctx.attrs.get("num_params_biases"))
    return [_ts.TensorShape([None, None])] * weights + [_ts.TensorShape([None])] * biases


def _to_params_shape(ctx: InferenceContext):
    return [_ts.TensorShape([None])]


_FORWARD_IN = "input: T, input_h: T, input_c: T, params: T"
_FORWARD_OUT = "output: T, output_h: T, output_c: T, reserve_space: T"
_BACKPROP_IN = ("output: T, output_h: T, output_c: T, output_backprop: T, output_h_backprop: T, "
                "output_c_backprop: T, reserve_space: T")
_BACKPROP_OUT = "input_backprop: T, input_h_backprop: T, input_c_backprop: T, params_backprop: T"
_V3_ATTRS = {**_COMMON_ATTRS, "num_proj": 0}

defop("CudnnRNN", f"{_FORWARD_IN} -> {_FORWARD_OUT}", attrs={**_COMMON_ATTRS, "is_training": True}, types=_TYPES,
      shape=_forward_shape(False), stateful=True)
defop("CudnnRNNV2", f"{_FORWARD_IN} -> {_FORWARD_OUT}, host_reserved: int8",
      attrs={**_COMMON_ATTRS, "is_training": True}, types=_TYPES, shape=_forward_shape(False), stateful=True)
defop("CudnnRNNV3", f"{_FORWARD_IN}, sequence_lengths: int32 -> {_FORWARD_OUT}, host_reserved: int8",
      attrs={**_V3_ATTRS, "is_training": True, "time_major": True}, types=_TYPES, shape=_forward_shape(True),
      stateful=True)
defop("CudnnRNNBackprop", f"{_FORWARD_IN}, {_BACKPROP_IN} -> {_BACKPROP_OUT}", attrs=dict(_COMMON_ATTRS),
      types=_TYPES, shape=_backprop_shape, stateful=True)
defop("CudnnRNNBackpropV2", f"{_FORWARD_IN}, {_BACKPROP_IN}, host_reserved: int8 -> {_BACKPROP_OUT}",
      attrs=dict(_COMMON_ATTRS), types=_TYPES, shape=_backprop_shape, stateful=True)
defop("CudnnRNNBackpropV3", f"{_FORWARD_IN}, sequence_lengths: int32, {_BACKPROP_IN}, host_reserved: int8 -> "
      f"{_BACKPROP_OUT}", attrs={**_V3_ATTRS, "time_major": True}, types=_TYPES, shape=_backprop_shape,
      stateful=True)
defop("CudnnRNNParamsSize", "num_layers: int32, num_units: int32, input_size: int32 -> params_size: S",
      attrs=dict(_V3_ATTRS), types=_SIZE_TYPES, shape=_params_size_shape)
defop("CudnnRNNParamsToCanonical", "num_layers: int32, num_units: int32, input_size: int32, params: T -> "
      "weights: num_params * T, biases: num_params * T", attrs=dict(_COMMON_ATTRS), types=_TYPES,
      shape=_to_canonical_shape)
defop("CudnnRNNParamsToCanonicalV2", "num_layers: int32, num_units: int32, input_size: int32, params: T -> "
      "weights: num_params_weights * T, biases: num_params_biases * T", attrs=dict(_V3_ATTRS), types=_TYPES,
      shape=_to_canonical_shape)
defop("CudnnRNNCanonicalToParams", "num_layers: int32, num_units: int32, input_size: int32, "
      "weights: num_params * T, biases: num_params * T -> params: T", attrs=dict(_COMMON_ATTRS), types=_TYPES,
      shape=_to_params_shape)
defop("CudnnRNNCanonicalToParamsV2", "num_layers: int32, num_units: int32, input_size: int32, "
      "weights: num_params_weights * T, biases: num_params_biases * T -> params: T", attrs=dict(_V3_ATTRS),
      types=_TYPES, shape=_to_params_shape)

# TF's generated wrappers return namedtuples named after the op type.
CudnnRNN = collections.namedtuple("CudnnRNN", ["output", "output_h", "output_c", "reserve_space"])
_V2_FIELDS = ["output", "output_h", "output_c", "reserve_space", "host_reserved"]
CudnnRNNV2 = collections.namedtuple("CudnnRNNV2", _V2_FIELDS)
CudnnRNNV3 = collections.namedtuple("CudnnRNNV3", _V2_FIELDS)
_BACKPROP_FIELDS = ["input_backprop", "input_h_backprop", "input_c_backprop", "params_backprop"]
CudnnRNNBackprop = collections.namedtuple("CudnnRNNBackprop", _BACKPROP_FIELDS)
CudnnRNNBackpropV2 = collections.namedtuple("CudnnRNNBackpropV2", _BACKPROP_FIELDS)
CudnnRNNBackpropV3 = collections.namedtuple("CudnnRNNBackpropV3", _BACKPROP_FIELDS)
CudnnRNNParamsToCanonical = collections.namedtuple("CudnnRNNParamsToCanonical", ["weights", "biases"])
CudnnRNNParamsToCanonicalV2 = collections.namedtuple("CudnnRNNParamsToCanonicalV2", ["weights", "biases"])


# --- attr conversion: op_def_library's checks and texts ---------------------------------------------------
def _make_string(op_type: str, attr: str, value, allowed: Sequence[str]) -> str:
    if isinstance(value, bytes):
        value = value.decode()
    if not isinstance(value, str):
        raise TypeError(f"Expected string for argument '{attr}' not {value!r}.")
    if value not in allowed:
        listed = ", ".join(f'"{v}"' for v in allowed)
        raise ValueError(f"Attr '{attr}' of '{op_type}' Op passed string '{value}' not in: {listed}.")
    return value


def _make_float(value, attr: str) -> float:
    if not isinstance(value, (numbers.Real, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError(f"Expected float for argument '{attr}' not {value!r}.")
    return float(np.float32(value))  # the NodeDef holds a float32


def _make_int(value, attr: str) -> int:
    if value is None:
        return 0  # gen_cudnn_rnn_ops' `if seed is None: seed = 0`
    if not isinstance(value, (numbers.Integral, np.integer)) or isinstance(value, bool):
        raise TypeError(f"Expected int for argument '{attr}' not {value!r}.")
    return int(value)


def _make_bool(value, attr: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"Expected bool for argument '{attr}' not {value!r}.")
    return value


def _attrs(op_type: str, rnn_mode, input_mode, direction, dropout, seed, seed2, **extra) -> dict:
    attrs = {"rnn_mode": _make_string(op_type, "rnn_mode", rnn_mode, RNN_MODES),
             "input_mode": _make_string(op_type, "input_mode", input_mode, INPUT_MODES),
             "direction": _make_string(op_type, "direction", direction, DIRECTIONS),
             "dropout": _make_float(dropout, "dropout"), "seed": _make_int(seed, "seed"),
             "seed2": _make_int(seed2, "seed2")}
    for name, value in extra.items():
        attrs[name] = _make_bool(value, name) if name in ("is_training", "time_major") else _make_int(value, name)
    return attrs


# --- builders: gen_cudnn_rnn_ops' signatures ---------------------------------------------------------------
def cudnn_rnn(input, input_h, input_c, params, rnn_mode: str = "lstm", input_mode: str = "linear_input",  # noqa: A002
              direction: str = "unidirectional", dropout: float = 0, seed: int = 0, seed2: int = 0,
              is_training: bool = True, name: Optional[str] = None) -> CudnnRNN:
    """`tf.raw_ops.CudnnRNN`: (output, output_h, output_c, reserve_space) of the time-major `input`."""
    attrs = _attrs("CudnnRNN", rnn_mode, input_mode, direction, dropout, seed, seed2, is_training=is_training)
    return CudnnRNN(*apply_op("CudnnRNN", [input, input_h, input_c, params], attrs, name=name))


def cudnn_rnnv2(input, input_h, input_c, params, rnn_mode: str = "lstm", input_mode: str = "linear_input",  # noqa: A002
                direction: str = "unidirectional", dropout: float = 0, seed: int = 0, seed2: int = 0,
                is_training: bool = True, name: Optional[str] = None) -> CudnnRNNV2:
    """`tf.raw_ops.CudnnRNNV2`: CudnnRNN plus a `host_reserved` output its gradient reads."""
    attrs = _attrs("CudnnRNNV2", rnn_mode, input_mode, direction, dropout, seed, seed2, is_training=is_training)
    return CudnnRNNV2(*apply_op("CudnnRNNV2", [input, input_h, input_c, params], attrs, name=name))


def cudnn_rnnv3(input, input_h, input_c, params, sequence_lengths, rnn_mode: str = "lstm",  # noqa: A002
                input_mode: str = "linear_input", direction: str = "unidirectional", dropout: float = 0,
                seed: int = 0, seed2: int = 0, num_proj: int = 0, is_training: bool = True,
                time_major: bool = True, name: Optional[str] = None) -> CudnnRNNV3:
    """`tf.raw_ops.CudnnRNNV3`: each batch entry runs for its own `sequence_lengths` steps (outputs past
    it are zeros, the backward direction starts at its last step); `time_major=False` takes batch-major
    input, output and states."""
    attrs = _attrs("CudnnRNNV3", rnn_mode, input_mode, direction, dropout, seed, seed2, num_proj=num_proj,
                   is_training=is_training, time_major=time_major)
    return CudnnRNNV3(*apply_op("CudnnRNNV3", [input, input_h, input_c, params, sequence_lengths], attrs,
                                name=name))


def cudnn_rnn_backprop(input, input_h, input_c, params, output, output_h, output_c, output_backprop,  # noqa: A002
                       output_h_backprop, output_c_backprop, reserve_space, rnn_mode: str = "lstm",
                       input_mode: str = "linear_input", direction: str = "unidirectional", dropout: float = 0,
                       seed: int = 0, seed2: int = 0, name: Optional[str] = None) -> CudnnRNNBackprop:
    """`tf.raw_ops.CudnnRNNBackprop`: the gradients of CudnnRNN's input, states and params."""
    attrs = _attrs("CudnnRNNBackprop", rnn_mode, input_mode, direction, dropout, seed, seed2)
    return CudnnRNNBackprop(*apply_op("CudnnRNNBackprop", [
        input, input_h, input_c, params, output, output_h, output_c, output_backprop, output_h_backprop,
        output_c_backprop, reserve_space], attrs, name=name))


def cudnn_rnn_backprop_v2(input, input_h, input_c, params, output, output_h, output_c, output_backprop,  # noqa: A002
                          output_h_backprop, output_c_backprop, reserve_space, host_reserved, rnn_mode: str = "lstm",
                          input_mode: str = "linear_input", direction: str = "unidirectional", dropout: float = 0,
                          seed: int = 0, seed2: int = 0, name: Optional[str] = None) -> CudnnRNNBackpropV2:
    """`tf.raw_ops.CudnnRNNBackpropV2`: CudnnRNNV2's gradient."""
    attrs = _attrs("CudnnRNNBackpropV2", rnn_mode, input_mode, direction, dropout, seed, seed2)
    return CudnnRNNBackpropV2(*apply_op("CudnnRNNBackpropV2", [
        input, input_h, input_c, params, output, output_h, output_c, output_backprop, output_h_backprop,
        output_c_backprop, reserve_space, host_reserved], attrs, name=name))


def cudnn_rnn_backprop_v3(input, input_h, input_c, params, sequence_lengths, output, output_h, output_c,  # noqa: A002
                          output_backprop, output_h_backprop, output_c_backprop, reserve_space, host_reserved,
                          rnn_mode: str = "lstm", input_mode: str = "linear_input",
                          direction: str = "unidirectional", dropout: float = 0, seed: int = 0, seed2: int = 0,
                          num_proj: int = 0, time_major: bool = True,
                          name: Optional[str] = None) -> CudnnRNNBackpropV3:
    """`tf.raw_ops.CudnnRNNBackpropV3`: CudnnRNNV3's gradient."""
    attrs = _attrs("CudnnRNNBackpropV3", rnn_mode, input_mode, direction, dropout, seed, seed2, num_proj=num_proj,
                   time_major=time_major)
    return CudnnRNNBackpropV3(*apply_op("CudnnRNNBackpropV3", [
        input, input_h, input_c, params, sequence_lengths, output, output_h, output_c, output_backprop,
        output_h_backprop, output_c_backprop, reserve_space, host_reserved], attrs, name=name))


def cudnn_rnn_params_size(num_layers, num_units, input_size, T, S, rnn_mode: str = "lstm",  # noqa: N803
                          input_mode: str = "linear_input", direction: str = "unidirectional", dropout: float = 0,
                          seed: int = 0, seed2: int = 0, num_proj: int = 0, name: Optional[str] = None):
    """`tf.raw_ops.CudnnRNNParamsSize`: the opaque buffer's element count, as a [1] vector of dtype S."""
    attrs = _attrs("CudnnRNNParamsSize", rnn_mode, input_mode, direction, dropout, seed, seed2, num_proj=num_proj)
    attrs.update(T=_dt.as_dtype(T), S=_dt.as_dtype(S))
    return apply_op("CudnnRNNParamsSize", [num_layers, num_units, input_size], attrs, name=name)


def cudnn_rnn_params_to_canonical(num_layers, num_units, input_size, params, num_params: int,
                                  rnn_mode: str = "lstm", input_mode: str = "linear_input",
                                  direction: str = "unidirectional", dropout: float = 0, seed: int = 0,
                                  seed2: int = 0, name: Optional[str] = None) -> CudnnRNNParamsToCanonical:
    """`tf.raw_ops.CudnnRNNParamsToCanonical`: (weights, biases) of the opaque buffer, layer by layer and
    direction by direction, cuDNN's gate order; weights shaped [num_units, width]."""
    attrs = _attrs("CudnnRNNParamsToCanonical", rnn_mode, input_mode, direction, dropout, seed, seed2,
                   num_params=num_params)
    weights, biases = apply_op("CudnnRNNParamsToCanonical", [num_layers, num_units, input_size, params], attrs,
                               name=name)
    return CudnnRNNParamsToCanonical(list(weights), list(biases))


def cudnn_rnn_params_to_canonical_v2(num_layers, num_units, input_size, params, num_params_weights: int,
                                     num_params_biases: int, rnn_mode: str = "lstm",
                                     input_mode: str = "linear_input", direction: str = "unidirectional",
                                     dropout: float = 0, seed: int = 0, seed2: int = 0, num_proj: int = 0,
                                     name: Optional[str] = None) -> CudnnRNNParamsToCanonicalV2:
    """`tf.raw_ops.CudnnRNNParamsToCanonicalV2`: ParamsToCanonical with separate weight and bias counts."""
    attrs = _attrs("CudnnRNNParamsToCanonicalV2", rnn_mode, input_mode, direction, dropout, seed, seed2,
                   num_params_weights=num_params_weights, num_params_biases=num_params_biases, num_proj=num_proj)
    weights, biases = apply_op("CudnnRNNParamsToCanonicalV2", [num_layers, num_units, input_size, params], attrs,
                               name=name)
    return CudnnRNNParamsToCanonicalV2(list(weights), list(biases))


def cudnn_rnn_canonical_to_params(num_layers, num_units, input_size, weights, biases, rnn_mode: str = "lstm",
                                  input_mode: str = "linear_input", direction: str = "unidirectional",
                                  dropout: float = 0, seed: int = 0, seed2: int = 0,
                                  name: Optional[str] = None) -> _ops.Tensor:
    """`tf.raw_ops.CudnnRNNCanonicalToParams`: the opaque buffer holding `weights` and `biases`."""
    attrs = _attrs("CudnnRNNCanonicalToParams", rnn_mode, input_mode, direction, dropout, seed, seed2)
    return apply_op("CudnnRNNCanonicalToParams", [num_layers, num_units, input_size, list(weights), list(biases)],
                    attrs, name=name)


def cudnn_rnn_canonical_to_params_v2(num_layers, num_units, input_size, weights, biases, rnn_mode: str = "lstm",
                                     input_mode: str = "linear_input", direction: str = "unidirectional",
                                     dropout: float = 0, seed: int = 0, seed2: int = 0, num_proj: int = 0,
                                     name: Optional[str] = None) -> _ops.Tensor:
    """`tf.raw_ops.CudnnRNNCanonicalToParamsV2`: CanonicalToParams with separate weight and bias counts."""
    attrs = _attrs("CudnnRNNCanonicalToParamsV2", rnn_mode, input_mode, direction, dropout, seed, seed2,
                   num_proj=num_proj)
    return apply_op("CudnnRNNCanonicalToParamsV2", [num_layers, num_units, input_size, list(weights),
                                                    list(biases)], attrs, name=name)


# --- gradients: python/ops/cudnn_rnn_grad.py -----------------------------------------------------------------
def _forward_attrs(op: _ops.Operation) -> dict:
    return {name: op.get_attr(name) for name in ("rnn_mode", "input_mode", "direction", "dropout", "seed", "seed2")}


def _require_training(op: _ops.Operation) -> None:
    if not op.get_attr("is_training"):
        raise ValueError("To use CudnnRNN in gradients, is_training must be set to True.")


@builtin_gradient("CudnnRNN")
def _cudnn_rnn_backward(op: _ops.Operation, *grads):
    _require_training(op)
    return cudnn_rnn_backprop(*op.inputs, *op.outputs[:3], grads[0], grads[1], grads[2], op.outputs[3],
                              **_forward_attrs(op))


@builtin_gradient("CudnnRNNV2")
def _cudnn_rnn_backward_v2(op: _ops.Operation, *grads):
    _require_training(op)
    return cudnn_rnn_backprop_v2(*op.inputs, *op.outputs[:3], grads[0], grads[1], grads[2], op.outputs[3],
                                 op.outputs[4], **_forward_attrs(op))


@builtin_gradient("CudnnRNNV3")
def _cudnn_rnn_backward_v3(op: _ops.Operation, *grads):
    _require_training(op)
    return tuple(cudnn_rnn_backprop_v3(*op.inputs, *op.outputs[:3], grads[0], grads[1], grads[2], op.outputs[3],
                                       op.outputs[4], num_proj=op.get_attr("num_proj"),
                                       time_major=op.get_attr("time_major"), **_forward_attrs(op))) + (None,)


__all__ = ["cudnn_rnn", "cudnn_rnn_backprop", "cudnn_rnn_backprop_v2", "cudnn_rnn_backprop_v3",
           "cudnn_rnn_canonical_to_params", "cudnn_rnn_canonical_to_params_v2", "cudnn_rnn_params_size",
           "cudnn_rnn_params_to_canonical", "cudnn_rnn_params_to_canonical_v2", "cudnn_rnnv2", "cudnn_rnnv3"]
