"""`tf.nn.rnn_cell.DeviceWrapper`: runs a cell (and its zero state) under a device scope, as TF's does."""
from __future__ import annotations

from graphcompat.framework import ops as _ops
from graphcompat.nn.rnn_cell import RNNCell


class DeviceWrapper(RNNCell):
    """Operator adding a device placement to the given cell's ops."""

    def __init__(self, cell, device):
        super().__init__()
        self._cell = cell
        self._device = device

    cell = property(lambda self: self._cell)
    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._cell.output_size)

    def zero_state(self, batch_size, dtype):
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            with _ops.get_default_graph().device(self._device):
                return self._cell.zero_state(batch_size, dtype)

    def __call__(self, inputs, state, scope=None):
        with _ops.get_default_graph().device(self._device):
            return self._cell(inputs, state, scope=scope)
