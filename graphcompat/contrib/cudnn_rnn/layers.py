"""TF 1.x `tf.contrib.cudnn_rnn.CudnnLSTM / CudnnGRU / CudnnRNNTanh / CudnnRNNRelu` (contrib/cudnn_rnn/python/
layers/cudnn_rnn.py): tf.layers layers over one opaque parameter variable `<scope>/opaque_kernel` (initialized
from canonical weights and biases through CudnnRNNCanonicalToParams) and one CudnnRNN (CudnnRNNV3 with
sequence lengths or batch-major input) per call. Building one also registers its saveable in
SAVEABLE_OBJECTS, so a tf.train.Saver writes the canonical weights under the compatible cells' names (and
restores them into the buffer), as TF 1.x does.

One difference from TF: TF pins the canonical-to-opaque conversion to "/gpu:0" (its kernel is GPU only);
graphcompat's runs anywhere, so the node carries no device.
"""
from __future__ import annotations

import sys as _sys
from typing import Optional

import graphcompat.variable_scope  # noqa: F401  (the module; `graphcompat.variable_scope` is the class)
from graphcompat import init_ops as _init
from graphcompat.contrib.cudnn_rnn import cudnn_rnn_ops
from graphcompat.contrib.cudnn_rnn.cudnn_rnn_ops import (CUDNN_GRU, CUDNN_GRU_PARAMS_PER_LAYER,
                                                        CUDNN_INPUT_LINEAR_MODE, CUDNN_LSTM,
                                                        CUDNN_LSTM_PARAMS_PER_LAYER, CUDNN_RNN_BIDIRECTION,
                                                        CUDNN_RNN_RELU, CUDNN_RNN_RELU_PARAMS_PER_LAYER,
                                                        CUDNN_RNN_TANH, CUDNN_RNN_TANH_PARAMS_PER_LAYER,
                                                        CUDNN_RNN_UNIDIRECTION)
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.layers.base import InputSpec, Layer
from graphcompat.ops import array_ops as _array

_vs = _sys.modules["graphcompat.variable_scope"]


class _CudnnRNN(Layer):
    """The common part of the four layers: `build` makes the opaque variable, `call(inputs, initial_state=None,
    sequence_lengths=None, time_major=True, training=True)` returns (outputs, states tuple)."""
    _rnn_mode: Optional[str] = None
    _num_params_per_layer: Optional[int] = None
    _saveable_cls = None

    def __init__(self, num_layers: int, num_units: int, input_mode: str = CUDNN_INPUT_LINEAR_MODE,
                 direction: str = CUDNN_RNN_UNIDIRECTION, dropout: float = 0., seed: Optional[int] = None,
                 dtype=_dt.float32, kernel_initializer=None, bias_initializer=None, name: Optional[str] = None):
        super().__init__(dtype=dtype, name=name)
        cudnn_rnn_ops.check_direction(direction)
        cudnn_rnn_ops.check_input_mode(input_mode)
        if dtype not in (_dt.float16, _dt.float32, _dt.float64):
            raise ValueError(f"Only support float16, float32, float64, provided {dtype}")
        self._plain_dtype = _dt.as_dtype(dtype)
        self._num_layers = num_layers
        self._num_units = num_units
        self._input_mode = input_mode
        self._direction = direction
        self._dropout = dropout
        self._seed = seed
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer
        self._input_size = None
        self._saveable = None

    num_layers = property(lambda self: self._num_layers)
    num_units = property(lambda self: self._num_units)
    input_mode = property(lambda self: self._input_mode)
    rnn_mode = property(lambda self: self._rnn_mode)
    direction = property(lambda self: self._direction)
    saveable = property(lambda self: self._saveable)

    @property
    def input_size(self) -> int:
        if not self._input_size:
            raise ValueError("'input_size' is unknown since layer has not been built.")
        return self._input_size

    @property
    def num_dirs(self) -> int:
        return 1 if self._direction == CUDNN_RNN_UNIDIRECTION else 2

    @property
    def canonical_weight_shapes(self) -> list:
        if not self._input_size:
            raise RuntimeError(f"{type(self).__name__}.canonical_weight_shapes invoked before input shape is known")
        shapes = []
        for i in range(self._num_layers):
            shapes.extend(self._canonical_weight_shape(i))
        return shapes

    @property
    def canonical_bias_shapes(self) -> list:
        return self._canonical_bias_shape(0) * self._num_layers

    def _update_trainable_weights(self, getter, *args, **kwargs):
        variable = getter(*args, **kwargs)
        trainable = kwargs.get("trainable", True)
        if trainable and variable not in self._trainable_weights:
            self._trainable_weights.append(variable)
        elif not trainable and variable not in self._non_trainable_weights:
            self._non_trainable_weights.append(variable)
        return variable

    def build(self, input_shape) -> None:
        if self.built:
            return
        input_shape = _ts.as_shape(input_shape)
        if input_shape.ndims != 3:
            raise ValueError("Expecting input_shape with 3 dims, got %d" % input_shape.ndims)
        if _ts.dimension_value(input_shape[-1]) is None:
            raise ValueError("The last dimension of the inputs to `CudnnRNN` should be defined. Found `None`.")
        self._input_size = _ts.dimension_value(input_shape[-1])
        self.input_spec = InputSpec(ndim=3, axes={-1: self._input_size})
        self._set_scope(None)
        with _vs.variable_scope(self._scope, reuse=self.built, custom_getter=self._update_trainable_weights):
            if self._kernel_initializer is None:
                self._kernel_initializer = _init.glorot_uniform_initializer(seed=self._seed, dtype=self._plain_dtype)
            if self._bias_initializer is None:
                self._bias_initializer = _init.constant_initializer(0.0, dtype=self._plain_dtype)
            weights = [self._kernel_initializer(sp, dtype=self._plain_dtype) for sp in self.canonical_weight_shapes]
            biases = [self._bias_initializer(sp, dtype=self._plain_dtype) for sp in self.canonical_bias_shapes]
            opaque_params_t = self._canonical_to_opaque(weights, biases)
            self.kernel = _vs.get_variable("opaque_kernel", dtype=self._plain_dtype, initializer=opaque_params_t,
                                           validate_shape=False)
        # The saveable lives in the layer's outer scope, so a graph of the compatible cells can load the
        # checkpoint directly.
        if not (self.built or _vs.get_variable_scope().reuse is True):
            self._create_saveable()
        self.built = True

    def _gather_saveables_for_checkpoint(self):
        raise NotImplementedError("This cell does not yet support object-based saving. File a feature request if "
                                  "this limitation bothers you.")

    def call(self, inputs, initial_state=None, sequence_lengths=None, time_major=True, training=True):
        if initial_state is not None and not isinstance(initial_state, tuple):
            raise TypeError(f"Invalid initial_state type: {initial_state}, expecting tuple.")
        dtype = self._plain_dtype
        inputs = convert_to_tensor(inputs, dtype=dtype)
        batch_size = _array.shape(inputs)[1]  # TF's: dimension 1 whatever the layout
        if initial_state is None:
            initial_state = self._zero_state(batch_size)
        if self._rnn_mode == CUDNN_LSTM:
            h, c = initial_state
        else:
            h, = initial_state
        h = convert_to_tensor(h, dtype=dtype)
        if self._rnn_mode == CUDNN_LSTM:
            c = convert_to_tensor(c, dtype=dtype)
        else:
            c = constant([], dtype=dtype)  # models without input_c get a dummy tensor
        outputs, (output_h, output_c) = self._forward(inputs, h, c, self.kernel, sequence_lengths, time_major,
                                                      training)
        if self._rnn_mode == CUDNN_LSTM:
            return outputs, (output_h, output_c)
        return outputs, (output_h,)

    def state_shape(self, batch_size):
        raise NotImplementedError

    def _zero_state(self, batch_size) -> tuple:
        return tuple(_array.zeros(sp, dtype=self._plain_dtype) for sp in self.state_shape(batch_size))

    def _canonical_weight_shape(self, layer: int) -> list:
        if layer < 0 or layer >= self._num_layers:
            raise ValueError("'layer' is not valid, got %s, expecting [%d, %d]" % (layer, 0, self._num_layers - 1))
        if not self._input_size:
            raise RuntimeError(f"{type(self).__name__}._canonical_weight_shape invoked before input shape is known")
        num_gates = self._num_params_per_layer // 2
        is_bidi = self._direction == CUDNN_RNN_BIDIRECTION
        if layer == 0:
            on_inputs = [(self._num_units, self._input_size)] * num_gates
        elif is_bidi:
            on_inputs = [(self._num_units, 2 * self._num_units)] * num_gates
        else:
            on_inputs = [(self._num_units, self._num_units)] * num_gates
        tf_wts = on_inputs + [(self._num_units, self._num_units)] * num_gates
        return tf_wts if not is_bidi else tf_wts * 2

    def _canonical_bias_shape(self, unused_layer: int) -> list:
        return [[self._num_units]] * self.num_dirs * self._num_params_per_layer

    def _canonical_to_opaque(self, cu_weights, cu_biases):
        if not self._input_size:
            raise RuntimeError(f"{type(self).__name__}._canonical_to_opaque invoked before input shape is known")
        return cudnn_rnn_ops.cudnn_rnn_canonical_to_opaque_params(
            rnn_mode=self._rnn_mode, num_layers=self._num_layers, num_units=self._num_units,
            input_size=self._input_size, weights=cu_weights, biases=cu_biases, input_mode=self._input_mode,
            seed=self._seed, dropout=self._dropout, direction=self._direction)

    def _forward(self, inputs, h, c, opaque_params, sequence_lengths, time_major, training):
        output, output_h, output_c = cudnn_rnn_ops._cudnn_rnn(
            inputs, h, c, opaque_params, training, self._rnn_mode, sequence_lengths=sequence_lengths,
            time_major=time_major, input_mode=self._input_mode, direction=self._direction, dropout=self._dropout,
            seed=self._seed)
        return output, (output_h, output_c)

    def _create_saveable(self) -> None:
        if self._saveable is not None:
            raise RuntimeError("Cudnn saveable already created.")
        variable = self.trainable_variables[0]
        self._saveable = self._saveable_cls(
            opaque_params=variable, num_layers=self.num_layers, num_units=self.num_units,
            input_size=self.input_size, input_mode=self.input_mode, direction=self.direction,
            scope=_vs.get_variable_scope(), name=f"{variable.name.split(':')[0]}_saveable")
        _ops.add_to_collection(_ops.GraphKeys.SAVEABLE_OBJECTS, self._saveable)


class CudnnLSTM(_CudnnRNN):
    """`tf.contrib.cudnn_rnn.CudnnLSTM`: states (h, c), each [num_layers * num_dirs, batch, num_units]."""
    _rnn_mode = CUDNN_LSTM
    _num_params_per_layer = CUDNN_LSTM_PARAMS_PER_LAYER
    _saveable_cls = cudnn_rnn_ops.CudnnLSTMSaveable

    def state_shape(self, batch_size):
        shape = [self.num_layers * self.num_dirs, batch_size, self.num_units]
        return shape, shape


class _CudnnRNNNoInputC(_CudnnRNN):
    def state_shape(self, batch_size):
        return [self.num_layers * self.num_dirs, batch_size, self.num_units],


class CudnnGRU(_CudnnRNNNoInputC):
    """`tf.contrib.cudnn_rnn.CudnnGRU`: state (h,)."""
    _rnn_mode = CUDNN_GRU
    _num_params_per_layer = CUDNN_GRU_PARAMS_PER_LAYER
    _saveable_cls = cudnn_rnn_ops.CudnnGRUSaveable


class CudnnRNNTanh(_CudnnRNNNoInputC):
    """`tf.contrib.cudnn_rnn.CudnnRNNTanh`: state (h,)."""
    _rnn_mode = CUDNN_RNN_TANH
    _num_params_per_layer = CUDNN_RNN_TANH_PARAMS_PER_LAYER
    _saveable_cls = cudnn_rnn_ops.CudnnRNNTanhSaveable


class CudnnRNNRelu(_CudnnRNNNoInputC):
    """`tf.contrib.cudnn_rnn.CudnnRNNRelu`: state (h,)."""
    _rnn_mode = CUDNN_RNN_RELU
    _num_params_per_layer = CUDNN_RNN_RELU_PARAMS_PER_LAYER
    _saveable_cls = cudnn_rnn_ops.CudnnRNNReluSaveable
