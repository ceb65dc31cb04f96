"""TF 1.x `tf.contrib.cudnn_rnn.python.ops.cudnn_rnn_ops`: the cuDNN-compatible cells (CPU inference over a
cuDNN model's weights), the conversions between cuDNN's opaque parameter buffer and TF's canonical weights
(CudnnParamsFormatConverter*), the saveables that write an opaque buffer to checkpoints as canonical weights
(CudnnOpaqueParamsSaveable and its LSTM / GRU / RNN subclasses, so checkpoints TF 1.x wrote on GPUs load, and
what graphcompat writes loads into the compatible cells), and the functional API (cudnn_lstm, cudnn_gru,
cudnn_rnn_relu / tanh, the opaque params size and conversions, the parameter-buffer model classes).

Left out (NotImplementedError): LSTM projections (num_proj) and object-based (tf.train.Checkpoint) saving of
the layers, which TF 1.x's layer refuses too.
"""
from __future__ import annotations

from graphcompat import init_ops as _init
from graphcompat.contrib.rnn.block_cells import LSTMBlockCell
from graphcompat.framework import dtypes as _dt
from graphcompat.framework.constant_op import constant
from graphcompat.layers.base import _to_snake_case
from graphcompat.nn import _deps
from graphcompat.nn import nn_ops as _nn
from graphcompat.nn.rnn_cell import GRUCell
from graphcompat.ops import array_ops as _array
from graphcompat.ops import cudnn_rnn_ops as _gen
from graphcompat.ops import math_ops as _math
from graphcompat.ops import random_ops as _random
from graphcompat.ops import state_ops as _state
from graphcompat.training.saver import BaseSaverBuilder

CUDNN_RNN_UNIDIRECTION = "unidirectional"
CUDNN_RNN_BIDIRECTION = "bidirectional"
CUDNN_LSTM = "lstm"
CUDNN_GRU = "gru"
CUDNN_RNN_RELU = "rnn_relu"
CUDNN_RNN_TANH = "rnn_tanh"

# Half for cell input, half for hidden states.
CUDNN_LSTM_PARAMS_PER_LAYER = 8
CUDNN_GRU_PARAMS_PER_LAYER = 6
CUDNN_RNN_TANH_PARAMS_PER_LAYER = 2
CUDNN_RNN_RELU_PARAMS_PER_LAYER = 2

CUDNN_INPUT_LINEAR_MODE = "linear_input"
CUDNN_INPUT_SKIP_MODE = "skip_input"
CUDNN_INPUT_AUTO_MODE = "auto_select"

_BIAS_VARIABLE_NAME = "bias"
_WEIGHTS_VARIABLE_NAME = "kernel"


def _no_projection(num_proj) -> None:
    if num_proj:
        raise NotImplementedError("tf.contrib.cudnn_rnn with num_proj (LSTM projections) is not implemented in "
                                  "graphcompat")


# --- the cuDNN-compatible cells ---------------------------------------------------------------------------------
class CudnnCompatibleLSTMCell(LSTMBlockCell):
    """`tf.contrib.cudnn_rnn.CudnnCompatibleLSTMCell`: LSTMBlockCell without forget bias, clip or peepholes,
    named `cudnn_compatible_lstm_cell`, whose `kernel` and `bias` are what CudnnLSTMSaveable writes."""

    def __init__(self, num_units: int, reuse=None):
        super().__init__(num_units, forget_bias=0, cell_clip=None, use_peephole=False, reuse=reuse,
                         name="cudnn_compatible_lstm_cell")


class CudnnCompatibleGRUCell(GRUCell):
    """`tf.contrib.cudnn_rnn.CudnnCompatibleGRUCell`: cuDNN's GRU, whose candidate applies the reset gate after
    the recurrent matmul and has a recurrent bias:
    h~ = tanh(x W_h + b_Wh + r * (h R_h + b_Rh)); h' = (1 - u) * h~ + u * h. Variables `gates/kernel`,
    `gates/bias` (init 1), `candidate/input_projection/{kernel,bias}`, `candidate/hidden_projection/{kernel,bias}`."""

    def __init__(self, num_units: int, reuse=None, kernel_initializer=None):
        super().__init__(num_units, activation=None, reuse=reuse, kernel_initializer=kernel_initializer)

    def build(self, inputs_shape) -> None:
        depth = self._input_depth(inputs_shape)
        n = self._num_units
        self._gate_kernel = self.add_weight(f"gates/{_WEIGHTS_VARIABLE_NAME}", [depth + n, 2 * n],
                                            initializer=self._kernel_initializer)
        self._gate_bias = self.add_weight(f"gates/{_BIAS_VARIABLE_NAME}", [2 * n],
                                          initializer=self._bias_initializer if self._bias_initializer is not None
                                          else _init.constant_initializer(1.0, dtype=self.dtype))
        self._candidate_input_kernel = self.add_weight(f"candidate/input_projection/{_WEIGHTS_VARIABLE_NAME}",
                                                       [depth, n], initializer=self._kernel_initializer)
        self._candidate_hidden_kernel = self.add_weight(f"candidate/hidden_projection/{_WEIGHTS_VARIABLE_NAME}",
                                                        [n, n], initializer=self._kernel_initializer)
        zeros = self._bias_initializer if self._bias_initializer is not None else _init.zeros_initializer(
            dtype=self.dtype)
        self._candidate_input_bias = self.add_weight(f"candidate/input_projection/{_BIAS_VARIABLE_NAME}", [n],
                                                     initializer=zeros)
        self._candidate_hidden_bias = self.add_weight(f"candidate/hidden_projection/{_BIAS_VARIABLE_NAME}", [n],
                                                      initializer=zeros)
        self.built = True

    def call(self, inputs, state):
        gate_inputs = _nn.bias_add(_deps.matmul(_array.concat([inputs, state], 1), self._gate_kernel),
                                   self._gate_bias)
        r, u = _array.split(value=_math.sigmoid(gate_inputs), num_or_size_splits=2, axis=1)
        candidate = _nn.bias_add(_deps.matmul(inputs, self._candidate_input_kernel), self._candidate_input_bias)
        candidate += r * _nn.bias_add(_deps.matmul(state, self._candidate_hidden_kernel),
                                      self._candidate_hidden_bias)
        candidate = self._activation(candidate)
        new_h = (1 - u) * candidate + u * state
        return new_h, new_h


# --- canonical <-> opaque -------------------------------------------------------------------------------------
class CudnnParamsFormatConverter:
    """Converts between cuDNN's opaque buffer, cuDNN's canonical weights and biases (CudnnRNNParamsToCanonical:
    per layer and direction, the gates' input then recurrent matrices [units, width] and biases [units]) and
    TF's canonical ones (what the compatible cells hold: transposed, gates stitched, biases summed)."""
    _rnn_mode: str = ""
    _num_params_per_layer: int = 0

    def __init__(self, num_layers: int, num_units: int, input_size: int, num_proj=None,
                 input_mode: str = CUDNN_INPUT_LINEAR_MODE, direction: str = CUDNN_RNN_UNIDIRECTION):
        _no_projection(num_proj)
        self._num_layers = num_layers
        self._input_size = input_size
        self._num_units = num_units
        self._input_mode = input_mode
        self._num_proj = num_proj
        self._direction = direction
        self._num_dirs = 1 if direction == CUDNN_RNN_UNIDIRECTION else 2
        self._num_params = self._num_params_per_layer * num_layers * self._num_dirs

    def tf_canonical_to_opaque(self, tf_canonicals, weights_proj=None):
        cu_weights, cu_biases = self._tf_canonical_to_cu_canonical(tf_canonicals, weights_proj)
        cu_weights = [_array.reshape(w, [-1]) for w in cu_weights]
        return self._cu_canonical_to_opaque(cu_weights, cu_biases)

    def opaque_to_tf_canonical(self, opaque_param):
        cu_weights, cu_biases = self._opaque_to_cu_canonical(opaque_param)
        return self._cu_canonical_to_tf_canonical(cu_weights, cu_biases)

    def _opaque_to_cu_canonical(self, opaque_param):
        weights, biases = _gen.cudnn_rnn_params_to_canonical(
            num_layers=self._num_layers, num_units=self._num_units, input_size=self._input_size,
            params=opaque_param, num_params=self._num_params, rnn_mode=self._rnn_mode, input_mode=self._input_mode,
            direction=self._direction)
        return weights, biases

    def _cu_canonical_to_opaque(self, cu_weights, cu_biases):
        return _gen.cudnn_rnn_canonical_to_params(
            num_layers=self._num_layers, num_units=self._num_units, input_size=self._input_size, weights=cu_weights,
            biases=cu_biases, rnn_mode=self._rnn_mode, input_mode=self._input_mode, direction=self._direction)

    def _cu_canonical_to_tf_canonical(self, cu_weights, cu_biases):
        tf_weights, tf_biases = [], []
        per_layer = self._num_params_per_layer * self._num_dirs
        for i in range(self._num_layers):
            layer_weights = cu_weights[i * per_layer:(i + 1) * per_layer]
            layer_biases = cu_biases[i * per_layer:(i + 1) * per_layer]
            half = len(layer_weights) // self._num_dirs
            for d in range(self._num_dirs):
                self._cu_canonical_to_tf_canonical_single_layer(layer_weights[d * half:(d + 1) * half],
                                                                layer_biases[d * half:(d + 1) * half],
                                                                tf_weights, tf_biases)
        return tf_weights, tf_biases

    def _cu_canonical_to_tf_canonical_single_layer(self, cu_weights, cu_biases, tf_weights, tf_biases):
        (w,) = self._cudnn_to_tf_weights(*cu_weights)
        (b,) = self._cudnn_to_tf_biases(*cu_biases)
        tf_weights.append(w)
        tf_biases.append(b)

    def _tf_canonical_to_cu_canonical(self, tf_canonicals, weights_proj):
        weights = tf_canonicals[:len(tf_canonicals) // 2]
        biases = tf_canonicals[len(tf_canonicals) // 2:]
        cu_weights, cu_biases = [], []
        layer_weights_num = len(weights) // self._num_layers
        layer_biases_num = len(biases) // self._num_layers
        for i in range(self._num_layers):
            layer_weights = weights[i * layer_weights_num:(i + 1) * layer_weights_num]
            layer_biases = biases[i * layer_biases_num:(i + 1) * layer_biases_num]
            w_half, b_half = len(layer_weights) // self._num_dirs, len(layer_biases) // self._num_dirs
            for d in range(self._num_dirs):
                cu_weights.extend(self._tf_to_cudnn_weights(i, *layer_weights[d * w_half:(d + 1) * w_half]))
                cu_biases.extend(self._tf_to_cudnn_biases(*layer_biases[d * b_half:(d + 1) * b_half]))
        return cu_weights, cu_biases

    def _input_weight_width(self, layer: int) -> int:
        if layer == 0:
            return self._input_size
        return self._num_units * self._num_dirs

    def _cudnn_to_tf_weights(self, *cu_weights):
        raise NotImplementedError("Abstract method")

    def _tf_to_cudnn_weights(self, layer, *tf_weights):
        raise NotImplementedError("Abstract method")

    def _cudnn_to_tf_biases(self, *biases):
        raise NotImplementedError("Abstract method")

    def _tf_to_cudnn_biases(self, *tf_biases):
        raise NotImplementedError("Abstract method")


class CudnnParamsFormatConverterLSTM(CudnnParamsFormatConverter):
    """LSTM: cuDNN's gates i, f, c, o; TF's kernel [input + units, 4 units] in i, c, f, o order; one bias, the
    sum of cuDNN's two (split back in halves)."""
    _rnn_mode = CUDNN_LSTM
    _num_params_per_layer = CUDNN_LSTM_PARAMS_PER_LAYER

    def _cudnn_to_tf_gate_params(self, *cu_gate_order):
        i_g, f_g, c_g, o_g = cu_gate_order
        return [i_g, c_g, f_g, o_g]

    def _tf_to_cudnn_gate_params(self, *tf_gate_order):
        i_g, c_g, f_g, o_g = tf_gate_order
        return [i_g, f_g, c_g, o_g]

    def _cudnn_to_tf_weights(self, *cu_weights):
        w_i, w_f, w_c, w_o, r_i, r_f, r_c, r_o = cu_weights
        stitched = [_array.concat([w, r], axis=1) for w, r in ((w_i, r_i), (w_f, r_f), (w_c, r_c), (w_o, r_o))]
        return (_array.transpose(_array.concat(self._cudnn_to_tf_gate_params(*stitched), axis=0)),)

    def _tf_to_cudnn_weights(self, layer, *tf_weights):
        (tf_weight,) = tf_weights
        w = _array.transpose(tf_weight)
        w_i, w_f, w_c, w_o = self._tf_to_cudnn_gate_params(*_array.split(w, 4, axis=0))
        sizes = [self._input_weight_width(layer), self._num_units]
        (w_i, r_i), (w_c, r_c), (w_f, r_f), (w_o, r_o) = (_array.split(g, sizes, axis=1) for g in (w_i, w_c, w_f, w_o))
        return w_i, w_f, w_c, w_o, r_i, r_f, r_c, r_o

    def _cudnn_to_tf_biases(self, *cu_biases):
        b_wi, b_wf, b_wc, b_wo, b_ri, b_rf, b_rc, b_ro = cu_biases
        summed = [b_wi + b_ri, b_wf + b_rf, b_wc + b_rc, b_wo + b_ro]
        return (_array.concat(self._cudnn_to_tf_gate_params(*summed), axis=0),)

    def _tf_to_cudnn_biases(self, *tf_biases):
        (tf_bias,) = tf_biases
        b_i, b_f, b_c, b_o = self._tf_to_cudnn_gate_params(*_array.split(tf_bias, 4, axis=0))
        halves = [b * 0.5 for b in (b_i, b_f, b_c, b_o)]
        return tuple(halves + halves)


class CudnnParamsFormatConverterGRU(CudnnParamsFormatConverter):
    """GRU: cuDNN's gates r, z (TF's u), h; TF's gates kernel [input + units, 2 units] and bias (summed), the
    candidate's input and hidden projection kernels and their separate biases."""
    _rnn_mode = CUDNN_GRU
    _num_params_per_layer = CUDNN_GRU_PARAMS_PER_LAYER
    _rnn_cell_name = _to_snake_case(CudnnCompatibleGRUCell.__name__)

    def _cudnn_to_tf_weights(self, *cu_weights):
        w_i, w_r, w_h, r_i, r_r, r_h = cu_weights
        gates = _array.concat([_array.concat([w_i, r_i], axis=1), _array.concat([w_r, r_r], axis=1)], axis=0)
        return _array.transpose(gates), _array.transpose(w_h), _array.transpose(r_h)

    def _tf_to_cudnn_weights(self, layer, *tf_weights):
        w_ir, w_h, r_h = (_array.transpose(w) for w in tf_weights)
        w_i, w_r = _array.split(w_ir, 2, axis=0)
        sizes = [self._input_weight_width(layer), self._num_units]
        w_i, r_i = _array.split(w_i, sizes, axis=1)
        w_r, r_r = _array.split(w_r, sizes, axis=1)
        return w_i, w_r, w_h, r_i, r_r, r_h

    def _cudnn_to_tf_biases(self, *biases):
        b_wi, b_wr, b_wh, b_ri, b_rr, b_rh = biases
        return _array.concat([b_wi, b_wr], axis=0) + _array.concat([b_ri, b_rr], axis=0), b_wh, b_rh

    def _tf_to_cudnn_biases(self, *tf_biases):
        b_ir, b_wh, b_rh = tf_biases
        b_wi, b_wr = _array.split(b_ir * 0.5, 2, axis=0)
        b_ri, b_rr = _array.split(b_ir * 0.5, 2, axis=0)
        return b_wi, b_wr, b_wh, b_ri, b_rr, b_rh

    def _cu_canonical_to_tf_canonical_single_layer(self, cu_weights, cu_biases, tf_weights, tf_biases):
        tf_weights.extend(self._cudnn_to_tf_weights(*cu_weights))
        tf_biases.extend(self._cudnn_to_tf_biases(*cu_biases))


class CudnnParamsFormatConverterBasic(CudnnParamsFormatConverterLSTM):
    """RNN tanh / relu: one kernel [input + units, units], one bias (summed)."""

    def _cudnn_to_tf_weights(self, *cu_weights):
        w_i, w_h = cu_weights
        return (_array.transpose(_array.concat([w_i, w_h], axis=1)),)

    def _tf_to_cudnn_weights(self, layer, *tf_weights):
        (tf_weight,) = tf_weights
        return tuple(_array.split(_array.transpose(tf_weight), [self._input_weight_width(layer), self._num_units],
                                  axis=1))

    def _cudnn_to_tf_biases(self, *cu_biases):
        b_wi, b_wh = cu_biases
        return (b_wi + b_wh,)

    def _tf_to_cudnn_biases(self, *tf_biases):
        (tf_bias,) = tf_biases
        return tf_bias * 0.5, tf_bias * 0.5


class CudnnParamsFormatConverterTanh(CudnnParamsFormatConverterBasic):
    _rnn_mode = CUDNN_RNN_TANH
    _num_params_per_layer = CUDNN_RNN_TANH_PARAMS_PER_LAYER


class CudnnParamsFormatConverterRelu(CudnnParamsFormatConverterBasic):
    _rnn_mode = CUDNN_RNN_RELU
    _num_params_per_layer = CUDNN_RNN_RELU_PARAMS_PER_LAYER


# --- checkpoints: the opaque buffer saved as TF canonical weights -----------------------------------------------
class CudnnOpaqueParamsSaveable(BaseSaverBuilder.SaveableObject):
    """Saves a cuDNN opaque parameter variable as TF canonical weights and biases under the names the
    compatible cells' variables have (`<scope>/rnn/multi_rnn_cell/cell_<i>/<cell name>/...`, bidirectional:
    `<scope>/stack_bidirectional_rnn/cell_<i>/bidirectional_rnn/{fw,bw}/<cell name>/...`), and restores them
    into the buffer through the inverse conversion."""
    _format_converter_cls = CudnnParamsFormatConverter
    _rnn_cell_name = ""

    def __init__(self, opaque_params, num_layers: int, num_units: int, input_size: int,
                 input_mode: str = CUDNN_INPUT_LINEAR_MODE, direction: str = CUDNN_RNN_UNIDIRECTION, scope=None,
                 name: str = "cudnn_rnn_saveable"):
        self._num_layers = num_layers
        self._input_size = input_size
        self._num_units = num_units
        self._input_mode = input_mode
        self._direction = direction
        if scope is not None:
            scope_name = scope.name if hasattr(scope, "name") else scope
            self._scope = scope_name or None
        else:
            self._scope = None
        self._variables = opaque_params
        self._num_dirs = 1 if direction == CUDNN_RNN_UNIDIRECTION else 2
        self._format_converter = None
        tf_weights, tf_biases = self.format_converter.opaque_to_tf_canonical(self._variables)
        weight_names, bias_names = self._tf_canonical_names()
        self._weight_names, self._bias_names = weight_names, bias_names
        self._param_names = weight_names + bias_names
        prefixed = [f"{self._scope}/{n}" if self._scope else n for n in self._param_names]
        specs = [BaseSaverBuilder.SaveSpec(param, "", param_name)
                 for param, param_name in zip(tf_weights + tf_biases, prefixed)]
        super().__init__(_array.identity(self._variables), specs, name)

    @property
    def format_converter(self) -> CudnnParamsFormatConverter:
        if self._format_converter is None:
            self._format_converter = self._format_converter_cls(
                self._num_layers, self._num_units, self._input_size, input_mode=self._input_mode,
                direction=self._direction)
        return self._format_converter

    def restore(self, restored_tensors, restored_shapes):
        opaque_params = self.format_converter.tf_canonical_to_opaque(restored_tensors)
        return _state.assign(self._variables, opaque_params, validate_shape=False)

    def _tf_canonical_names(self):
        weights, biases = [], []
        for i in range(self._num_layers):
            if self._direction == CUDNN_RNN_UNIDIRECTION:
                self._tf_canonical_names_single_layer(self._tf_canonical_name_prefix(i), weights, biases)
            else:
                for is_fwd in (True, False):
                    self._tf_canonical_names_single_layer(self._tf_canonical_name_prefix(i, is_fwd), weights,
                                                          biases)
        return weights, biases

    def _tf_canonical_name_prefix(self, layer: int, is_fwd: bool = True) -> str:
        if self._direction == CUDNN_RNN_UNIDIRECTION:
            return f"rnn/multi_rnn_cell/cell_{layer}/{self._rnn_cell_name}"
        side = "fw" if is_fwd else "bw"
        return f"stack_bidirectional_rnn/cell_{layer}/bidirectional_rnn/{side}/{self._rnn_cell_name}"

    def _tf_canonical_names_single_layer(self, prefix: str, weights: list, biases: list) -> None:
        raise NotImplementedError("Abstract method")


class CudnnLSTMSaveable(CudnnOpaqueParamsSaveable):
    _format_converter_cls = CudnnParamsFormatConverterLSTM
    _rnn_cell_name = _to_snake_case(CudnnCompatibleLSTMCell.__name__)

    def _tf_canonical_names_single_layer(self, prefix, weights, biases):
        weights.append(f"{prefix}/kernel")
        biases.append(f"{prefix}/bias")


class CudnnGRUSaveable(CudnnOpaqueParamsSaveable):
    _format_converter_cls = CudnnParamsFormatConverterGRU
    _rnn_cell_name = _to_snake_case(CudnnCompatibleGRUCell.__name__)

    def _tf_canonical_names_single_layer(self, prefix, weights, biases):
        weights.extend([f"{prefix}/gates/kernel", f"{prefix}/candidate/input_projection/kernel",
                        f"{prefix}/candidate/hidden_projection/kernel"])
        biases.extend([f"{prefix}/gates/bias", f"{prefix}/candidate/input_projection/bias",
                       f"{prefix}/candidate/hidden_projection/bias"])


class CudnnRNNTanhSaveable(CudnnLSTMSaveable):
    _format_converter_cls = CudnnParamsFormatConverterTanh
    _rnn_cell_name = "basic_rnn_cell"


class CudnnRNNReluSaveable(CudnnLSTMSaveable):
    _format_converter_cls = CudnnParamsFormatConverterRelu
    _rnn_cell_name = "basic_rnn_cell"


# --- the functional API -----------------------------------------------------------------------------------------
def _check_rnn_mode(rnn_mode: str) -> None:
    if rnn_mode not in (CUDNN_LSTM, CUDNN_GRU, CUDNN_RNN_TANH, CUDNN_RNN_RELU):
        raise ValueError(f"Invalid rnn_mode: {rnn_mode}, expect one of ({CUDNN_LSTM}, {CUDNN_GRU}, "
                         f"{CUDNN_RNN_TANH}, {CUDNN_RNN_RELU})")


def check_direction(direction: str) -> None:
    if direction not in (CUDNN_RNN_UNIDIRECTION, CUDNN_RNN_BIDIRECTION):
        raise ValueError(f"Invalid direction: {direction}, expecting {CUDNN_RNN_UNIDIRECTION} or "
                         f"{CUDNN_RNN_BIDIRECTION}")


def check_input_mode(input_mode: str) -> None:
    if input_mode not in (CUDNN_INPUT_LINEAR_MODE, CUDNN_INPUT_SKIP_MODE, CUDNN_INPUT_AUTO_MODE):
        raise ValueError(f"Invalid input_mode: {input_mode}, expect one of ({CUDNN_INPUT_LINEAR_MODE}, "
                         f"{CUDNN_INPUT_SKIP_MODE}, {CUDNN_INPUT_AUTO_MODE})")


def _get_num_params(rnn_mode: str, num_layers: int, direction: str) -> int:
    per_layer = {CUDNN_LSTM: CUDNN_LSTM_PARAMS_PER_LAYER, CUDNN_GRU: CUDNN_GRU_PARAMS_PER_LAYER,
                 CUDNN_RNN_RELU: CUDNN_RNN_RELU_PARAMS_PER_LAYER, CUDNN_RNN_TANH: CUDNN_RNN_TANH_PARAMS_PER_LAYER}
    if rnn_mode not in per_layer:
        raise ValueError("Invalid 'rnn_mode': %s" % rnn_mode)
    return num_layers * per_layer[rnn_mode] * (1 if direction == CUDNN_RNN_UNIDIRECTION else 2)


def _cudnn_rnn(inputs, input_h, input_c, params, is_training, rnn_mode, sequence_lengths=None, time_major=True,
               input_mode=CUDNN_INPUT_LINEAR_MODE, direction=CUDNN_RNN_UNIDIRECTION, dropout=0., seed=0,
               num_proj=None, name=None):
    """contrib's `_cudnn_rnn`: CudnnRNN, or CudnnRNNV3 with sequence lengths or batch-major data; (outputs,
    output_h, output_c). (TF's TF_CUDNN_RNN_USE_V2=1 switch to CudnnRNNV2 is not read.)"""
    _check_rnn_mode(rnn_mode)
    check_direction(direction)
    check_input_mode(input_mode)
    _no_projection(num_proj)
    seed, seed2 = _random.get_seed(seed)
    args = {"input": inputs, "input_h": input_h, "input_c": input_c, "params": params, "is_training": is_training,
            "rnn_mode": rnn_mode, "input_mode": input_mode, "direction": direction, "dropout": dropout,
            "seed": seed, "seed2": seed2, "name": name}
    if sequence_lengths is not None or time_major is False:
        if sequence_lengths is None:
            batch_id, time_id = (1, 0) if time_major else (0, 1)
            batch_size = _array.shape(inputs)[batch_id]
            max_time = _array.shape(inputs)[time_id]
            sequence_lengths = _array.fill([batch_size], max_time)
        outputs, output_h, output_c, _, _ = _gen.cudnn_rnnv3(sequence_lengths=sequence_lengths,
                                                             time_major=time_major, num_proj=0, **args)
    else:
        outputs, output_h, output_c, _ = _gen.cudnn_rnn(**args)
    return outputs, output_h, output_c


def cudnn_lstm(inputs, input_h, input_c, params, is_training, sequence_lengths=None, time_major=True,
               input_mode=CUDNN_INPUT_LINEAR_MODE, direction=CUDNN_RNN_UNIDIRECTION, dropout=0., seed=0,
               num_proj=None, name=None):
    """contrib's `cudnn_lstm`: (outputs, output_h, output_c)."""
    return _cudnn_rnn(inputs, input_h, input_c, params, is_training, CUDNN_LSTM, sequence_lengths, time_major,
                      input_mode, direction, dropout, seed, num_proj, name)


def _cudnn_rnn_no_input_c(inputs, input_h, params, is_training, rnn_mode, sequence_lengths=None, time_major=True,
                          input_mode=CUDNN_INPUT_LINEAR_MODE, direction=CUDNN_RNN_UNIDIRECTION, dropout=0., seed=0,
                          name=None):
    input_c = constant([], dtype=input_h.dtype)
    outputs, output_h, _ = _cudnn_rnn(inputs, input_h, input_c, params, is_training, rnn_mode, sequence_lengths,
                                      time_major, input_mode, direction, dropout, seed, None, name)
    return outputs, output_h


def cudnn_gru(inputs, input_h, params, is_training, sequence_lengths=None, time_major=True,
              input_mode=CUDNN_INPUT_LINEAR_MODE, direction=CUDNN_RNN_UNIDIRECTION, dropout=0., seed=0, name=None):
    """contrib's `cudnn_gru`: (outputs, output_h)."""
    return _cudnn_rnn_no_input_c(inputs, input_h, params, is_training, CUDNN_GRU, sequence_lengths, time_major,
                                 input_mode, direction, dropout, seed, name)


def cudnn_rnn_relu(inputs, input_h, params, is_training, input_mode=CUDNN_INPUT_LINEAR_MODE,
                   direction=CUDNN_RNN_UNIDIRECTION, dropout=0., seed=0, sequence_lengths=None, time_major=True,
                   name=None):
    """contrib's `cudnn_rnn_relu`: (outputs, output_h)."""
    return _cudnn_rnn_no_input_c(inputs, input_h, params, is_training, CUDNN_RNN_RELU, sequence_lengths,
                                 time_major, input_mode, direction, dropout, seed, name)


def cudnn_rnn_tanh(inputs, input_h, params, is_training, sequence_lengths=None, time_major=True,
                   input_mode=CUDNN_INPUT_LINEAR_MODE, direction=CUDNN_RNN_UNIDIRECTION, dropout=0., seed=0,
                   name=None):
    """contrib's `cudnn_rnn_tanh`: (outputs, output_h)."""
    return _cudnn_rnn_no_input_c(inputs, input_h, params, is_training, CUDNN_RNN_TANH, sequence_lengths,
                                 time_major, input_mode, direction, dropout, seed, name)


def cudnn_rnn_opaque_params_to_canonical(rnn_mode, num_layers, num_units, input_size, params,
                                         input_mode=CUDNN_INPUT_LINEAR_MODE, direction=CUDNN_RNN_UNIDIRECTION,
                                         dropout=0, seed=0, num_proj=None, name=None):
    """contrib's: (weights, biases), cuDNN's canonical lists (CudnnRNNParamsToCanonical)."""
    _check_rnn_mode(rnn_mode)
    check_direction(direction)
    check_input_mode(input_mode)
    _no_projection(num_proj)
    num_params = _get_num_params(rnn_mode, num_layers, direction)
    seed, seed2 = _random.get_seed(seed)
    return tuple(_gen.cudnn_rnn_params_to_canonical(
        num_layers=num_layers, num_units=num_units, input_size=input_size, params=params, num_params=num_params,
        rnn_mode=rnn_mode, input_mode=input_mode, direction=direction, dropout=dropout, seed=seed, seed2=seed2,
        name=name))


def cudnn_rnn_canonical_to_opaque_params(rnn_mode, num_layers, num_units, input_size, weights, biases,
                                         input_mode=CUDNN_INPUT_LINEAR_MODE, direction=CUDNN_RNN_UNIDIRECTION,
                                         dropout=0, seed=0, num_proj=None, name=None):
    """contrib's: the opaque buffer of cuDNN's canonical weights and biases (CudnnRNNCanonicalToParams)."""
    _check_rnn_mode(rnn_mode)
    check_direction(direction)
    check_input_mode(input_mode)
    _no_projection(num_proj)
    seed, seed2 = _random.get_seed(seed)
    return _gen.cudnn_rnn_canonical_to_params(
        num_layers=num_layers, num_units=num_units, input_size=input_size, weights=weights, biases=biases,
        rnn_mode=rnn_mode, input_mode=input_mode, direction=direction, dropout=dropout, seed=seed, seed2=seed2,
        name=name)


def cudnn_rnn_opaque_params_size(rnn_mode, num_layers, num_units, input_size, input_mode=CUDNN_INPUT_LINEAR_MODE,
                                 direction=CUDNN_RNN_UNIDIRECTION, dtype=_dt.float32, dropout=0, seed=0,
                                 num_proj=None, name=None):
    """contrib's: the opaque buffer's size, an int32 scalar tensor (CudnnRNNParamsSize's element 0)."""
    _check_rnn_mode(rnn_mode)
    check_direction(direction)
    check_input_mode(input_mode)
    _no_projection(num_proj)
    seed, seed2 = _random.get_seed(seed)
    return _gen.cudnn_rnn_params_size(num_layers=num_layers, num_units=num_units, input_size=input_size, T=dtype,
                                      S=_dt.int32, rnn_mode=rnn_mode, input_mode=input_mode, direction=direction,
                                      dropout=dropout, seed=seed, seed2=seed2, name=name)[0]


class _CudnnRNN:
    """contrib's parameter-buffer model (not a layer): `params_size()`, `__call__` on a buffer the caller
    owns, `params_to_canonical` / `canonical_to_params`."""

    def __init__(self, rnn_mode, num_layers, num_units, input_size, input_mode=CUDNN_INPUT_LINEAR_MODE,
                 direction=CUDNN_RNN_UNIDIRECTION, dtype=_dt.float32, dropout=0., seed=0, num_proj=None):
        _no_projection(num_proj)
        self._num_layers = num_layers
        self._num_units = num_units
        self._input_size = input_size
        self._rnn_mode = rnn_mode
        self._input_mode = input_mode
        self._direction = direction
        self._dtype = dtype
        self._dropout = dropout
        self._seed = seed
        self._num_proj = num_proj

    input_mode = property(lambda self: self._input_mode)
    input_size = property(lambda self: self._input_size)
    num_units = property(lambda self: self._num_units)
    num_layers = property(lambda self: self._num_layers)
    rnn_mode = property(lambda self: self._rnn_mode)
    direction = property(lambda self: self._direction)
    num_proj = property(lambda self: self._num_proj)

    def params_size(self):
        return cudnn_rnn_opaque_params_size(
            rnn_mode=self._rnn_mode, num_layers=self._num_layers, num_units=self._num_units,
            input_size=self._input_size, num_proj=self._num_proj, dtype=self._dtype, dropout=self._dropout,
            seed=self._seed, input_mode=self._input_mode, direction=self._direction)

    def __call__(self, input_data, input_h, input_c, params, is_training=True, sequence_lengths=None,
                 time_major=True):
        return _cudnn_rnn(input_data, input_h, input_c, params, is_training, self._rnn_mode,
                          sequence_lengths=sequence_lengths, time_major=time_major, input_mode=self._input_mode,
                          direction=self._direction, dropout=self._dropout, seed=self._seed, num_proj=self._num_proj)

    def params_to_canonical(self, params):
        return cudnn_rnn_opaque_params_to_canonical(
            rnn_mode=self._rnn_mode, num_layers=self._num_layers, num_units=self._num_units,
            input_size=self._input_size, params=params, input_mode=self._input_mode, direction=self._direction,
            dropout=self._dropout, seed=self._seed, num_proj=self._num_proj)

    def canonical_to_params(self, weights, biases):
        return cudnn_rnn_canonical_to_opaque_params(
            rnn_mode=self._rnn_mode, num_layers=self._num_layers, num_units=self._num_units,
            input_size=self._input_size, weights=weights, biases=biases, input_mode=self._input_mode,
            direction=self._direction, dropout=self._dropout, seed=self._seed, num_proj=self._num_proj)


class CudnnLSTM(_CudnnRNN):
    """contrib's `cudnn_rnn_ops.CudnnLSTM` (the buffer model; tf.contrib.cudnn_rnn.CudnnLSTM is the layer)."""
    _NUM_PARAMS_PER_LAYER = CUDNN_LSTM_PARAMS_PER_LAYER

    def __init__(self, num_layers, num_units, input_size, input_mode=CUDNN_INPUT_LINEAR_MODE,
                 direction=CUDNN_RNN_UNIDIRECTION, dtype=_dt.float32, dropout=0., seed=0, num_proj=None):
        super().__init__(CUDNN_LSTM, num_layers, num_units, input_size, input_mode=input_mode, direction=direction,
                         dtype=dtype, dropout=dropout, seed=seed, num_proj=num_proj)

    def __call__(self, input_data, input_h, input_c, params, sequence_lengths=None, time_major=True,
                 is_training=True):
        output, output_h, output_c = super().__call__(input_data, input_h, input_c, params, is_training=is_training,
                                                      sequence_lengths=sequence_lengths, time_major=time_major)
        return output, output_h, output_c


class _CudnnRNNNoInputC(_CudnnRNN):
    _rnn_mode_of_class = ""

    def __init__(self, num_layers, num_units, input_size, input_mode=CUDNN_INPUT_LINEAR_MODE,
                 direction=CUDNN_RNN_UNIDIRECTION, dtype=_dt.float32, dropout=0., seed=0):
        super().__init__(self._rnn_mode_of_class, num_layers, num_units, input_size, input_mode=input_mode,
                         direction=direction, dtype=dtype, dropout=dropout, seed=seed)

    def __call__(self, input_data, input_h, params, sequence_lengths=None, time_major=True, is_training=True):
        input_c = constant([], dtype=input_h.dtype)
        output, output_h, _ = super().__call__(input_data, input_h, input_c, params, is_training=is_training,
                                               sequence_lengths=sequence_lengths, time_major=time_major)
        return output, output_h


class CudnnGRU(_CudnnRNNNoInputC):
    _rnn_mode_of_class = CUDNN_GRU
    _NUM_PARAMS_PER_LAYER = CUDNN_GRU_PARAMS_PER_LAYER


class CudnnRNNTanh(_CudnnRNNNoInputC):
    _rnn_mode_of_class = CUDNN_RNN_TANH
    _NUM_PARAMS_PER_LAYER = CUDNN_RNN_TANH_PARAMS_PER_LAYER


class CudnnRNNRelu(_CudnnRNNNoInputC):
    _rnn_mode_of_class = CUDNN_RNN_RELU
    _NUM_PARAMS_PER_LAYER = CUDNN_RNN_RELU_PARAMS_PER_LAYER

