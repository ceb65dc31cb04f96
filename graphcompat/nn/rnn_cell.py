"""`tf.nn.rnn_cell`: RNN cells with TF1's variable names (legacy_cells.py semantics).

A cell is a layer: on first call it takes a variable scope (`basic_lstm_cell`, `gru_cell`, …) inside
the caller's (`rnn/`), so variables are `rnn/basic_lstm_cell/kernel`, `rnn/basic_lstm_cell/bias`,
`rnn/gru_cell/gates/kernel`, `rnn/gru_cell/candidate/kernel` as in TF.
"""
from __future__ import annotations

import collections
import hashlib
import sys
from typing import Optional

import graphcompat.variable_scope  # noqa: F401
from graphcompat import init_ops as _init
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant
from graphcompat.layers.base import Layer
from graphcompat.nn import _deps
from graphcompat.nn import nn_ops as _nn
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math

_vs = sys.modules["graphcompat.variable_scope"]


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """(c, h): the LSTM's cell state and output."""
    __slots__ = ()

    @property
    def dtype(self):
        return self.c.dtype


def _flatten(structure) -> list:
    if isinstance(structure, (list, tuple)):
        return [leaf for s in structure for leaf in _flatten(s)]
    return [structure]


def _rebuild(like, items: list):
    """A list, tuple or namedtuple of `like`'s type holding `items`."""
    return type(like)(*items) if hasattr(like, "_fields") else type(like)(items)


def _pack_as(structure, flat: list):
    it = iter(flat)

    def pack(s):
        if isinstance(s, (list, tuple)):
            return _rebuild(s, [pack(x) for x in s])
        return next(it)
    return pack(structure)


def _zeros(batch_size, size, dtype):
    dims = _flatten(size) if isinstance(size, (list, tuple)) else [size]
    if isinstance(batch_size, _ops.Tensor):
        return _array.zeros(_array.stack([batch_size] + [int(d) for d in dims]), dtype=dtype)
    return _array.zeros([int(batch_size)] + [int(d) for d in dims], dtype=dtype)


class RNNCell(Layer):
    """Abstract cell: `state_size`, `output_size`, `zero_state`, and `__call__(inputs, state)`."""

    def __init__(self, trainable: bool = True, name: Optional[str] = None, dtype=None, **kwargs):
        super().__init__(trainable=trainable, name=name, dtype=dtype, **kwargs)

    @property
    def state_size(self):
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self):
        raise NotImplementedError("Abstract method")

    def zero_state(self, batch_size, dtype):
        """Zero-filled state(s) of shape [batch_size, state_size]."""
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            size = self.state_size
            if isinstance(size, (list, tuple)):
                return _pack_as(size, [_zeros(batch_size, s, dtype) for s in _flatten(size)])
            return _zeros(batch_size, size, dtype)

    def __call__(self, inputs, state, scope=None):
        if scope is not None:
            with _vs.variable_scope(scope) as captured:
                return super().__call__(inputs, state, scope=captured)
        return super().__call__(inputs, state)

    def _input_depth(self, input_shape) -> int:
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        depth = _ts.dimension_value(_ts.as_shape(shapes[0])[-1])
        if depth is None:
            raise ValueError(f"Expected inputs.shape[-1] to be known, saw shape: {shapes[0]}")
        return depth


LayerRNNCell = RNNCell


def _activation(activation):
    from graphcompat.layers.core import get_activation
    return get_activation(activation) or _math.tanh


class BasicRNNCell(RNNCell):
    """output = new_state = act(W [inputs, state] + b); variables `kernel`, `bias`."""

    def __init__(self, num_units: int, activation=None, reuse=None, name: Optional[str] = None, dtype=None,
                 **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units = int(num_units)
        self._activation = _activation(activation)

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape) -> None:
        depth = self._input_depth(inputs_shape)
        self._kernel = self.add_weight("kernel", [depth + self._num_units, self._num_units])
        self._bias = self.add_weight("bias", [self._num_units], initializer=_init.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        gate_inputs = _deps.matmul(_array.concat([inputs, state], 1), self._kernel)
        output = self._activation(_nn.bias_add(gate_inputs, self._bias))
        return output, output


class GRUCell(RNNCell):
    """GRU (Cho et al.): variables `gates/kernel`, `gates/bias` (init 1.0), `candidate/kernel`, `candidate/bias`."""

    def __init__(self, num_units: int, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name: Optional[str] = None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units = int(num_units)
        self._activation = _activation(activation)
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape) -> None:
        depth = self._input_depth(inputs_shape)
        n = self._num_units
        self._gate_kernel = self.add_weight("gates/kernel", [depth + n, 2 * n], initializer=self._kernel_initializer)
        self._gate_bias = self.add_weight("gates/bias", [2 * n], initializer=self._bias_initializer
                                          if self._bias_initializer is not None else _init.constant_initializer(1.0))
        self._candidate_kernel = self.add_weight("candidate/kernel", [depth + n, n],
                                                 initializer=self._kernel_initializer)
        self._candidate_bias = self.add_weight("candidate/bias", [n], initializer=self._bias_initializer
                                               if self._bias_initializer is not None else _init.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        gate_inputs = _deps.matmul(_array.concat([inputs, state], 1), self._gate_kernel)
        gate_inputs = _nn.bias_add(gate_inputs, self._gate_bias)
        value = _math.sigmoid(gate_inputs)
        r, u = _array.split(value=value, num_or_size_splits=2, axis=1)
        r_state = r * state
        candidate = _deps.matmul(_array.concat([inputs, r_state], 1), self._candidate_kernel)
        candidate = _nn.bias_add(candidate, self._candidate_bias)
        c = self._activation(candidate)
        new_h = u * state + (1 - u) * c
        return new_h, new_h


class BasicLSTMCell(RNNCell):
    """LSTM without peepholes: variables `kernel` [in + units, 4 units], `bias`; state (c, h)."""

    def __init__(self, num_units: int, forget_bias: float = 1.0, state_is_tuple: bool = True, activation=None,
                 reuse=None, name: Optional[str] = None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units = int(num_units)
        self._forget_bias = float(forget_bias)
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation)

    @property
    def state_size(self):
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape) -> None:
        depth = self._input_depth(inputs_shape)
        n = self._num_units
        self._kernel = self.add_weight("kernel", [depth + n, 4 * n])
        self._bias = self.add_weight("bias", [4 * n], initializer=_init.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        if self._state_is_tuple:
            c, h = state
        else:
            c, h = _array.split(value=state, num_or_size_splits=2, axis=1)
        gate_inputs = _deps.matmul(_array.concat([inputs, h], 1), self._kernel)
        gate_inputs = _nn.bias_add(gate_inputs, self._bias)
        i, j, f, o = _array.split(value=gate_inputs, num_or_size_splits=4, axis=1)
        forget_bias = constant(self._forget_bias, dtype=f.dtype.base_dtype)
        new_c = _math.add(_math.multiply(c, _math.sigmoid(_math.add(f, forget_bias))),
                          _math.multiply(_math.sigmoid(i), self._activation(j)))
        new_h = _math.multiply(self._activation(new_c), _math.sigmoid(o))
        new_state = LSTMStateTuple(new_c, new_h) if self._state_is_tuple else _array.concat([new_c, new_h], 1)
        return new_h, new_state


class LSTMCell(RNNCell):
    """LSTM with optional peepholes (`w_f_diag` …), cell clipping and a projection (`projection/kernel`)."""

    def __init__(self, num_units: int, use_peepholes: bool = False, cell_clip=None, initializer=None,
                 num_proj=None, proj_clip=None, num_unit_shards=None, num_proj_shards=None,
                 forget_bias: float = 1.0, state_is_tuple: bool = True, activation=None, reuse=None,
                 name: Optional[str] = None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units = int(num_units)
        self._use_peepholes = use_peepholes
        self._cell_clip, self._proj_clip = cell_clip, proj_clip
        self._initializer = initializer
        self._num_proj = num_proj
        self._forget_bias = float(forget_bias)
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation)

    @property
    def state_size(self):
        n, m = self._num_units, self._num_proj or self._num_units
        return LSTMStateTuple(n, m) if self._state_is_tuple else n + m

    output_size = property(lambda self: self._num_proj or self._num_units)

    def build(self, inputs_shape) -> None:
        depth = self._input_depth(inputs_shape)
        n = self._num_units
        h_depth = self._num_proj or n
        self._kernel = self.add_weight("kernel", [depth + h_depth, 4 * n], initializer=self._initializer)
        self._bias = self.add_weight("bias", [4 * n], initializer=_init.zeros_initializer())
        if self._use_peepholes:
            self._w_f_diag = self.add_weight("w_f_diag", [n], initializer=self._initializer)
            self._w_i_diag = self.add_weight("w_i_diag", [n], initializer=self._initializer)
            self._w_o_diag = self.add_weight("w_o_diag", [n], initializer=self._initializer)
        if self._num_proj is not None:
            self._proj_kernel = self.add_weight("projection/kernel", [n, self._num_proj],
                                                initializer=self._initializer)
        self.built = True

    def call(self, inputs, state):
        n = self._num_units
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev = _deps.slice(state, [0, 0], [-1, n])
            m_prev = _deps.slice(state, [0, n], [-1, self._num_proj or n])
        lstm_matrix = _nn.bias_add(_deps.matmul(_array.concat([inputs, m_prev], 1), self._kernel), self._bias)
        i, j, f, o = _array.split(value=lstm_matrix, num_or_size_splits=4, axis=1)
        sig = _math.sigmoid
        if self._use_peepholes:
            c = sig(f + self._forget_bias + self._w_f_diag * c_prev) * c_prev + \
                sig(i + self._w_i_diag * c_prev) * self._activation(j)
        else:
            c = sig(f + self._forget_bias) * c_prev + sig(i) * self._activation(j)
        if self._cell_clip is not None:
            c = _math.clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            m = sig(o + self._w_o_diag * c) * self._activation(c)
        else:
            m = sig(o) * self._activation(c)
        if self._num_proj is not None:
            m = _deps.matmul(m, self._proj_kernel)
            if self._proj_clip is not None:
                m = _math.clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = LSTMStateTuple(c, m) if self._state_is_tuple else _array.concat([c, m], 1)
        return m, new_state


class MultiRNNCell(RNNCell):
    """A stack of cells; layer i's variables live under `cell_<i>/`."""

    def __init__(self, cells, state_is_tuple: bool = True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not isinstance(cells, (list, tuple)):
            raise TypeError(f"cells must be a list or tuple, but saw: {cells}.")
        if len(set(id(c) for c in cells)) < len(cells):
            import warnings
            warnings.warn("At least two cells provided to MultiRNNCell are the same object and will share "
                          "weights.")
        self._cells = list(cells)
        self._state_is_tuple = state_is_tuple

    @property
    def state_size(self):
        sizes = tuple(c.state_size for c in self._cells)
        return sizes if self._state_is_tuple else sum(_flatten(sizes))

    output_size = property(lambda self: self._cells[-1].output_size)

    def zero_state(self, batch_size, dtype):
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            return tuple(c.zero_state(batch_size, dtype) for c in self._cells)

    def build(self, input_shape) -> None:
        self.built = True

    def call(self, inputs, state):
        cur_inp, new_states = inputs, []
        for i, cell in enumerate(self._cells):
            with _vs.variable_scope(f"cell_{i}"):
                cur_state = state[i]
                cur_inp, new_state = cell(cur_inp, cur_state)
                new_states.append(new_state)
        return cur_inp, tuple(new_states)


def _default_dropout_state_filter_visitor(substate):
    """TF's default: an LSTM's memory c is not dropped out, its output h is; a TensorArray is not."""
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    from graphcompat.ops.tensor_array_ops import TensorArray
    return not isinstance(substate, TensorArray)


class DropoutWrapper(RNNCell):
    """Dropout on a cell's inputs, outputs and/or state (`*_keep_prob`); not variational."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent: bool = False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None):
        super().__init__()
        if variational_recurrent:
            raise NotImplementedError("tf.nn.rnn_cell.DropoutWrapper(variational_recurrent=True)")
        for name, p in (("input_keep_prob", input_keep_prob), ("output_keep_prob", output_keep_prob),
                        ("state_keep_prob", state_keep_prob)):
            if isinstance(p, (int, float)) and not 0.0 < p <= 1.0:
                raise ValueError(f"Parameter {name} must be between 0 and 1: {p}")
        self._cell = cell
        self._input_keep_prob, self._output_keep_prob = input_keep_prob, output_keep_prob
        self._state_keep_prob = state_keep_prob
        self._seed = seed
        self._state_filter = dropout_state_filter_visitor or _default_dropout_state_filter_visitor

    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._cell.output_size)
    wrapped_cell = property(lambda self: self._cell)

    def zero_state(self, batch_size, dtype):
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            return self._cell.zero_state(batch_size, dtype)

    def _gen_seed(self, salt_prefix: str, index: int) -> Optional[int]:
        """TF's seed of the index-th dropout of the inputs, state or output: an md5 of the wrapper's seed."""
        if self._seed is None:
            return None
        digest = hashlib.md5((str(self._seed) + f"{salt_prefix}_{index}").encode("utf-8")).hexdigest()
        return int(digest[:8], 16) & 0x7FFFFFFF

    @staticmethod
    def _should_dropout(keep_prob) -> bool:
        """TF's test: a Python float of 1 means no dropout (and no random op); anything else drops out."""
        return not isinstance(keep_prob, float) or keep_prob < 1

    def _dropout(self, values, keep_prob, salt_prefix: str, shallow=None):
        """TF's `_dropout`: each leaf of `shallow` (default: every leaf of `values`) that is not False is
        dropped out with the seed of its position among those leaves; a False leaf keeps its whole subtree."""
        index = [0]

        def visit(mask, value):
            if isinstance(mask, (list, tuple)):
                return _rebuild(value, [visit(m, v) for m, v in zip(mask, value)])
            i, index[0] = index[0], index[0] + 1
            if mask is False:
                return value
            return _nn.dropout(value, rate=1.0 - keep_prob, seed=self._gen_seed(salt_prefix, i))
        return visit(values if shallow is None else shallow, values)

    def _state_shallow(self, state):
        """TF's get_traverse_shallow_structure(filter, state): where the filter says False, no dropout."""
        visitor = self._state_filter

        def shallow(value):
            verdict = visitor(value)
            if isinstance(verdict, bool):
                if verdict and isinstance(value, (list, tuple)):
                    return [shallow(v) for v in value]
                return verdict
            return [shallow(v) if keep else False for v, keep in zip(value, verdict)]
        return shallow(state)

    def __call__(self, inputs, state, scope=None):
        # A wrapper takes no variable scope of its own: the wrapped cell's variables keep their names.
        if self._should_dropout(self._input_keep_prob):
            inputs = self._dropout(inputs, self._input_keep_prob, "input")
        output, new_state = self._cell(inputs, state, scope=scope)
        if self._should_dropout(self._state_keep_prob):
            new_state = self._dropout(new_state, self._state_keep_prob, "state", self._state_shallow(new_state))
        if self._should_dropout(self._output_keep_prob):
            output = self._dropout(output, self._output_keep_prob, "output")
        return output, new_state


class ResidualWrapper(RNNCell):
    """output = cell(inputs) + inputs."""

    def __init__(self, cell, residual_fn=None):
        super().__init__()
        self._cell, self._residual_fn = cell, residual_fn

    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._cell.output_size)

    def zero_state(self, batch_size, dtype):
        return self._cell.zero_state(batch_size, dtype)

    def __call__(self, inputs, state, scope=None):
        output, new_state = self._cell(inputs, state, scope=scope)
        fn = self._residual_fn or (lambda i, o: i + o)
        return _pack_as(output, [fn(i, o) for i, o in zip(_flatten(inputs), _flatten(output))]), new_state




from graphcompat.nn.rnn_cell_device import DeviceWrapper  # noqa: F401,E402  (coverage: TF1's cell wrapper)
