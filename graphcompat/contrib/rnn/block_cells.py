"""tf.contrib.rnn's cells over TF's fused RNN kernels (TF 1.x contrib/rnn/python/ops/lstm_ops.py and gru_ops.py):
LSTMBlockCell (one LSTMBlockCell op per step), LSTMBlockFusedCell (one BlockLSTM op for a whole time-major
sequence), GRUBlockCell / GRUBlockCellV2 (one GRUBlockCell op per step; V2 names its variables as
tf.nn.rnn_cell.GRUCell). Variable names, shapes and initializers are contrib's, so checkpoints written by TF
1.x models restore into them; the ops are graphcompat/ops/rnn_ops.py's, whose gradients are TF's.
"""
from __future__ import annotations

from typing import Optional

from graphcompat import init_ops as _init
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.layers.base import InputSpec, Layer
from graphcompat.nn.rnn_cell import LSTMStateTuple, RNNCell
from graphcompat.ops import array_ops as _array
from graphcompat.ops import indexing_ops as _indexing
from graphcompat.ops import math_ops as _math
from graphcompat.ops import rnn_ops


class LSTMBlockCell(RNNCell):
    """`tf.contrib.rnn.LSTMBlockCell`: an LSTM cell computed by one LSTMBlockCell op (gates i, ci, f, o in one
    `kernel` [input + units, 4 * units], `bias` [4 * units]; peepholes `w_i_diag`, `w_f_diag`, `w_o_diag`).
    The variables are tf.nn.rnn_cell.LSTMCell's (scope `lstm_cell`)."""

    def __init__(self, num_units: int, forget_bias: float = 1.0, cell_clip: Optional[float] = None,
                 use_peephole: bool = False, dtype=None, reuse=None, name: str = "lstm_cell"):
        super().__init__(_reuse=reuse, dtype=dtype, name=name)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._use_peephole = use_peephole
        self._cell_clip = cell_clip if cell_clip is not None else -1
        self.input_spec = InputSpec(ndim=2)

    @property
    def state_size(self):
        return LSTMStateTuple(self._num_units, self._num_units)

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape) -> None:
        input_size = _ts.dimension_value(_ts.as_shape(inputs_shape)[1])
        if not input_size:
            raise ValueError(f"Expecting inputs_shape[1] to be set: {inputs_shape}")
        self._kernel = self.add_weight("kernel", [input_size + self._num_units, self._num_units * 4])
        self._bias = self.add_weight("bias", [self._num_units * 4], initializer=_init.constant_initializer(0.0))
        if self._use_peephole:
            self._w_i_diag = self.add_weight("w_i_diag", [self._num_units])
            self._w_f_diag = self.add_weight("w_f_diag", [self._num_units])
            self._w_o_diag = self.add_weight("w_o_diag", [self._num_units])
        self.built = True

    def call(self, inputs, state):
        if len(state) != 2:
            raise ValueError("Expecting state to be a tuple with length 2.")
        if self._use_peephole:
            wci, wcf, wco = self._w_i_diag, self._w_f_diag, self._w_o_diag
        else:
            wci = wcf = wco = _array.zeros([self._num_units], dtype=self.dtype or inputs.dtype)
        cs_prev, h_prev = state
        out = rnn_ops.lstm_block_cell(inputs, cs_prev, h_prev, self._kernel, wci, wcf, wco, self._bias,
                                      forget_bias=self._forget_bias, cell_clip=self._cell_clip,
                                      use_peephole=self._use_peephole)
        return out.h, LSTMStateTuple(out.cs, out.h)


class LSTMBlockWrapper(Layer):
    """contrib's base of the fused LSTMs: `__call__(inputs, initial_state=None, dtype=None,
    sequence_length=None)` over a time-major `inputs` [time, batch, input] (or a list of [batch, input]),
    returning (outputs, LSTMStateTuple(final cell state, final output)); outputs past a sequence's length are
    zeros and its final state is the one at its length. Subclasses implement `_call_cell` and `num_units`."""

    @property
    def num_units(self) -> int:
        raise NotImplementedError("Abstract method")

    def _call_cell(self, inputs, initial_cell_state, initial_output, dtype, sequence_length):
        raise NotImplementedError("Abstract method")

    def call(self, inputs, initial_state=None, dtype=None, sequence_length=None):
        is_list = isinstance(inputs, list)
        if is_list:
            inputs = _array.stack(inputs)
        inputs_shape = inputs.shape.with_rank(3)
        if not inputs_shape.as_list()[2]:
            raise ValueError(f"Expecting inputs_shape[2] to be set: {inputs_shape}")
        time_len, batch_size = inputs_shape.as_list()[:2]
        if batch_size is None:
            batch_size = _array.shape(inputs)[1]
        if time_len is None:
            time_len = _array.shape(inputs)[0]
        if initial_state is None:
            if dtype is None:
                raise ValueError("Either initial_state or dtype needs to be specified")
            z = _array.zeros(_array.stack([batch_size, self.num_units]), dtype=dtype)
            initial_state = z, z
        else:
            if len(initial_state) != 2:
                raise ValueError("Expecting initial_state to be a tuple with length 2 or None")
            if dtype is None:
                dtype = initial_state[0].dtype
        if sequence_length is not None:
            sequence_length = convert_to_tensor(sequence_length)
        initial_cell_state, initial_output = initial_state
        cell_states, outputs = self._call_cell(inputs, initial_cell_state, initial_output, dtype, sequence_length)
        if sequence_length is not None:
            # zero the outputs past each sequence's length; the final state is the one at its length (the
            # initial state, prepended, for a length of 0)
            mask = _array.transpose(_indexing.sequence_mask(sequence_length, time_len, dtype=dtype), [1, 0])
            mask = _array.tile(_array.expand_dims(mask, [-1]), [1, 1, self.num_units])
            outputs *= mask
            mod_cell_states = _array.concat([_array.expand_dims(initial_cell_state, [0]), cell_states], 0)
            mod_outputs = _array.concat([_array.expand_dims(initial_output, [0]), outputs], 0)
            final_cell_state = self._gather_states(mod_cell_states, sequence_length, batch_size)
            final_output = self._gather_states(mod_outputs, sequence_length, batch_size)
        else:
            final_cell_state = cell_states[-1]
            final_output = outputs[-1]
        if is_list:
            outputs = _array.unstack(outputs)
        return outputs, LSTMStateTuple(final_cell_state, final_output)

    @staticmethod
    def _gather_states(data, indices, batch_size):
        """out[i, j] = data[indices[i], i, j]."""
        return _indexing.gather_nd(data, _array.stack([indices, _math.range(batch_size)], axis=1))


class LSTMBlockFusedCell(LSTMBlockWrapper):
    """`tf.contrib.rnn.LSTMBlockFusedCell`: the whole sequence in one BlockLSTM op, run for the longest
    `sequence_length` (variables `kernel`, `bias` and the peepholes, as LSTMCell's)."""

    def __init__(self, num_units: int, forget_bias: float = 1.0, cell_clip: Optional[float] = None,
                 use_peephole: bool = False, reuse=None, dtype=None, name: str = "lstm_fused_cell"):
        super().__init__(_reuse=reuse, name=name, dtype=dtype)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._cell_clip = cell_clip if cell_clip is not None else -1
        self._use_peephole = use_peephole
        self.input_spec = InputSpec(ndim=3)

    @property
    def num_units(self) -> int:
        return self._num_units

    def build(self, input_shape) -> None:
        input_size = _ts.dimension_value(_ts.as_shape(input_shape)[2])
        self._kernel = self.add_weight("kernel", [input_size + self._num_units, self._num_units * 4])
        self._bias = self.add_weight("bias", [self._num_units * 4], initializer=_init.constant_initializer(0.0))
        if self._use_peephole:
            self._w_i_diag = self.add_weight("w_i_diag", [self._num_units])
            self._w_f_diag = self.add_weight("w_f_diag", [self._num_units])
            self._w_o_diag = self.add_weight("w_o_diag", [self._num_units])
        self.built = True

    def _call_cell(self, inputs, initial_cell_state=None, initial_output=None, dtype=None, sequence_length=None):
        time_len = inputs.shape.with_rank(3).as_list()[0]
        if time_len is None:
            time_len = _array.shape(inputs)[0]
        if self._use_peephole:
            wci, wco, wcf = self._w_i_diag, self._w_o_diag, self._w_f_diag
        else:
            wci = wcf = wco = _array.zeros([self._num_units], dtype=dtype)
        if sequence_length is None:
            max_seq_len = _math.cast(time_len, _dt.int64)
        else:
            max_seq_len = _math.cast(_math.reduce_max(sequence_length), _dt.int64)
        out = rnn_ops.block_lstm(max_seq_len, inputs, initial_cell_state, initial_output, self._kernel, wci, wcf, wco,
                                 self._bias, forget_bias=self._forget_bias, cell_clip=self._cell_clip,
                                 use_peephole=self._use_peephole)
        return out.cs, out.h


class GRUBlockCell(RNNCell):
    """`tf.contrib.rnn.GRUBlockCell`: a GRU cell computed by one GRUBlockCell op (variables `w_ru`, `b_ru`
    (initialized to 1), `w_c`, `b_c`)."""

    _NAMES = {"w_ru": "w_ru", "b_ru": "b_ru", "w_c": "w_c", "b_c": "b_c"}

    def __init__(self, num_units: Optional[int] = None, cell_size: Optional[int] = None, reuse=None,
                 name: str = "gru_cell"):
        super().__init__(_reuse=reuse, name=name)
        if (cell_size is None) == (num_units is None):
            raise ValueError("Exactly one of num_units or cell_size must be provided.")
        self._cell_size = num_units if num_units is not None else cell_size
        self.input_spec = InputSpec(ndim=2)

    @property
    def state_size(self):
        return self._cell_size

    @property
    def output_size(self):
        return self._cell_size

    def build(self, input_shape) -> None:
        input_size = _ts.dimension_value(_ts.as_shape(input_shape)[1])
        if input_size is None:
            raise ValueError("Expecting input_size to be set.")
        n = self._cell_size
        self._gate_kernel = self.add_weight(self._NAMES["w_ru"], [input_size + n, n * 2])
        self._gate_bias = self.add_weight(self._NAMES["b_ru"], [n * 2], initializer=_init.constant_initializer(1.0))
        self._candidate_kernel = self.add_weight(self._NAMES["w_c"], [input_size + n, n])
        self._candidate_bias = self.add_weight(self._NAMES["b_c"], [n], initializer=_init.constant_initializer(0.0))
        self.built = True

    def call(self, inputs, h_prev):
        cell_size = h_prev.shape.with_rank(2).as_list()[1]
        if cell_size != self._cell_size:
            raise ValueError(f"Shape of h_prev[1] incorrect: cell_size {self._cell_size} vs {cell_size}")
        new_h = rnn_ops.gru_block_cell(inputs, h_prev, self._gate_kernel, self._candidate_kernel, self._gate_bias,
                                       self._candidate_bias).h
        return new_h, new_h


class GRUBlockCellV2(GRUBlockCell):
    """`tf.contrib.rnn.GRUBlockCellV2`: GRUBlockCell with tf.nn.rnn_cell.GRUCell's variable names
    (`gates/kernel`, `gates/bias`, `candidate/kernel`, `candidate/bias`)."""

    _NAMES = {"w_ru": "gates/kernel", "b_ru": "gates/bias", "w_c": "candidate/kernel", "b_c": "candidate/bias"}


__all__ = ["GRUBlockCell", "GRUBlockCellV2", "LSTMBlockCell", "LSTMBlockFusedCell", "LSTMBlockWrapper"]
