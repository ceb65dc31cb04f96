"""TF's fused RNN kernels (core/ops/rnn_ops.cc), as graphs written with tf.contrib.rnn's LSTMBlockCell,
LSTMBlockFusedCell, GRUBlockCell / GRUBlockCellV2 and Keras' fused LSTM hold them: LSTMBlockCell (one LSTM
step), BlockLSTM / BlockLSTMV2 (a time-major sequence, stopped at `seq_len_max`), GRUBlockCell (one GRU step)
and the gradient kernels LSTMBlockCellGrad, BlockLSTMGrad / BlockLSTMGradV2, GRUBlockCellGrad.

The LSTM kernels compute `xh = [x, h_prev]`, `gates = xh * w + b` with the gate columns in the order i, ci, f,
o (BlockLSTMV2: i, f, ci, o, Keras' layout, and no forget_bias), optional peepholes and a cell clip; the math
is in lowering/rules/rnn.py. The builders take gen_rnn_ops' keyword arguments (what `tf.raw_ops.LSTMBlockCell`
and friends take), so a snippet written for TF's raw ops builds the same nodes.

Gradients are TF's: BlockLSTM and BlockLSTMV2 both record BlockLSTMGrad (python/ops/rnn_grad.py registers
one function for both, so BlockLSTMV2's gradient uses BlockLSTM's gate order: TF's numbers, kept here);
LSTMBlockCell and GRUBlockCell record their Grad kernel and the matmuls around it, as tf.contrib.rnn's
registered gradient functions did (TF 2 dropped those with contrib, so its tf.gradients through these two
raises LookupError; TF 1 graphs that trained them hold what is recorded here). The gradient kernels ignore the
gradients of the gate outputs (only cs and h carry one) and the cell clip: the forward rules carry the same
VJP for the uses tf.gradients does not see (a cell inside a while loop's body, such as dynamic_rnn's).
The gradient kernels themselves have no gradient in TF.
"""
from __future__ import annotations

import collections
import numbers
from typing import Optional

import numpy as np

from graphcompat.custom_gradient import builtin_gradient
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop
from graphcompat.ops import array_ops, linalg_ops, slicing_ops

# TF's order: `T: {half, float}` (GRU: float only). tools/gen_op_types.py writes the same into tf_op_types.py.
_LSTM_TYPES = {"T": (_dt.float16, _dt.float32)}
_GRU_TYPES = {"T": (_dt.float32,)}


# --- shape functions: core/ops/rnn_ops.cc, with TF's error texts ---------------------------------------
def _with_rank(ctx: InferenceContext, i: int, rank: int) -> list:
    shape = ctx.shape(i)
    if shape.ndims is None:
        return [None] * rank
    if shape.ndims != rank:
        raise ctx.error(f"Shape must be rank {rank} but is rank {shape.ndims}")
    return shape.as_list()


def _cell_shape(state_input: int, outputs: int):
    """LSTMBlockCell / GRUBlockCell: every output is [batch (x's dim 0), cell (the state's dim 1)]."""
    def shape(ctx: InferenceContext):
        batch = _with_rank(ctx, 0, 2)[0]
        cell = _with_rank(ctx, state_input, 2)[1]
        return [_ts.TensorShape([batch, cell])] * outputs
    return shape


def _lstm_cell_grad_shape(ctx: InferenceContext):
    batch = _with_rank(ctx, 0, 2)[0]
    cell = _with_rank(ctx, 1, 2)[1]
    vector = _ts.TensorShape([cell])
    return [_ts.TensorShape([batch, cell]), _ts.TensorShape([batch, None if cell is None else cell * 4]),
            vector, vector, vector]


def _gru_cell_grad_shape(ctx: InferenceContext):
    x = _with_rank(ctx, 0, 2)
    cell = _with_rank(ctx, 1, 2)[1]
    twice_cell = _with_rank(ctx, 2, 2)[1]
    return [_ts.TensorShape(x), _ts.TensorShape([x[0], cell]), _ts.TensorShape([x[0], cell]),
            _ts.TensorShape([x[0], twice_cell])]


def _block_lstm_shape(ctx: InferenceContext):
    time_len, batch, _ = _with_rank(ctx, 1, 3)
    gates = _with_rank(ctx, len(ctx.inputs) - 1, 1)[0]
    if gates is not None and gates % 4:
        raise ctx.error(f"Dimension size must be evenly divisible by 4 but is {gates}")
    return [_ts.TensorShape([time_len, batch, None if gates is None else gates // 4])] * 7


def _block_lstm_grad_shape(ctx: InferenceContext):
    # Each gradient has its input's shape (x, cs_prev, h_prev, w, wci, wcf, wco, b), after TF's rank checks.
    ranks = (3, 2, 2, 2, 1, 1, 1, 1)
    return [_ts.TensorShape(_with_rank(ctx, i, rank)) for i, rank in enumerate(ranks, start=1)]


_LSTM_IN = "x: T, cs_prev: T, h_prev: T, w: T, wci: T, wcf: T, wco: T, b: T"
_LSTM_OUT = "i: T, cs: T, f: T, o: T, ci: T, co: T, h: T"
_BLOCK_LSTM_GRAD_OUT = ("x_grad: T, cs_prev_grad: T, h_prev_grad: T, w_grad: T, wci_grad: T, wcf_grad: T, "
                        "wco_grad: T, b_grad: T")

defop("LSTMBlockCell", f"{_LSTM_IN} -> {_LSTM_OUT}",
      attrs={"forget_bias": 1.0, "cell_clip": 3.0, "use_peephole": False}, types=_LSTM_TYPES,
      shape=_cell_shape(1, 7))
defop("LSTMBlockCellGrad", f"{_LSTM_IN}, {_LSTM_OUT.replace(', h: T', '')}, cs_grad: T, h_grad: T -> "
      "cs_prev_grad: T, dicfo: T, wci_grad: T, wcf_grad: T, wco_grad: T", types=_LSTM_TYPES,
      shape=_lstm_cell_grad_shape)
defop("BlockLSTM", f"seq_len_max: int64, {_LSTM_IN} -> {_LSTM_OUT}",
      attrs={"forget_bias": 1.0, "cell_clip": 3.0, "use_peephole": False}, types=_LSTM_TYPES,
      shape=_block_lstm_shape)
defop("BlockLSTMV2", f"seq_len_max: int64, {_LSTM_IN} -> {_LSTM_OUT}",
      attrs={"cell_clip": 0.0, "use_peephole": False}, types=_LSTM_TYPES, shape=_block_lstm_shape)
for _grad_type in ("BlockLSTMGrad", "BlockLSTMGradV2"):
    defop(_grad_type, f"seq_len_max: int64, {_LSTM_IN}, {_LSTM_OUT}, cs_grad: T, h_grad: T -> "
          f"{_BLOCK_LSTM_GRAD_OUT}", types=_LSTM_TYPES, shape=_block_lstm_grad_shape)
defop("GRUBlockCell", "x: T, h_prev: T, w_ru: T, w_c: T, b_ru: T, b_c: T -> r: T, u: T, c: T, h: T",
      types=_GRU_TYPES, shape=_cell_shape(1, 4))
defop("GRUBlockCellGrad", "x: T, h_prev: T, w_ru: T, w_c: T, b_ru: T, b_c: T, r: T, u: T, c: T, d_h: T -> "
      "d_x: T, d_h_prev: T, d_c_bar: T, d_r_bar_u_bar: T", types=_GRU_TYPES, shape=_gru_cell_grad_shape)

# TF's generated wrappers return namedtuples named after the op type.
LSTMBlockCell = collections.namedtuple("LSTMBlockCell", ["i", "cs", "f", "o", "ci", "co", "h"])
LSTMBlockCellGrad = collections.namedtuple("LSTMBlockCellGrad",
                                           ["cs_prev_grad", "dicfo", "wci_grad", "wcf_grad", "wco_grad"])
BlockLSTM = collections.namedtuple("BlockLSTM", ["i", "cs", "f", "o", "ci", "co", "h"])
BlockLSTMV2 = collections.namedtuple("BlockLSTMV2", ["i", "cs", "f", "o", "ci", "co", "h"])
_GRAD_FIELDS = ["x_grad", "cs_prev_grad", "h_prev_grad", "w_grad", "wci_grad", "wcf_grad", "wco_grad", "b_grad"]
BlockLSTMGrad = collections.namedtuple("BlockLSTMGrad", _GRAD_FIELDS)
BlockLSTMGradV2 = collections.namedtuple("BlockLSTMGradV2", _GRAD_FIELDS)
GRUBlockCell = collections.namedtuple("GRUBlockCell", ["r", "u", "c", "h"])
GRUBlockCellGrad = collections.namedtuple("GRUBlockCellGrad", ["d_x", "d_h_prev", "d_c_bar", "d_r_bar_u_bar"])


# --- attr conversion: TF's eager/execute.py make_float / make_bool -------------------------------------
def _make_float(value, arg: str) -> float:
    if not isinstance(value, (numbers.Real, np.integer, np.floating)):  # TF's compat.real_types
        raise TypeError(f"Expected float for argument '{arg}' not {value!r}.")
    # The NodeDef holds a float32: get_attr returns the rounded value, and the kernel computes with it.
    return float(np.float32(value))


def _make_bool(value, arg: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"Expected bool for argument '{arg}' not {value!r}.")
    return value


def _lstm_attrs(forget_bias, cell_clip, use_peephole) -> dict:
    attrs = {"cell_clip": _make_float(cell_clip, "cell_clip"), "use_peephole": _make_bool(use_peephole, "use_peephole")}
    if forget_bias is not None:
        attrs["forget_bias"] = _make_float(forget_bias, "forget_bias")
    return attrs


# --- builders: gen_rnn_ops' signatures ------------------------------------------------------------------
def lstm_block_cell(x, cs_prev, h_prev, w, wci, wcf, wco, b, forget_bias: float = 1, cell_clip: float = 3,
                    use_peephole: bool = False, name: Optional[str] = None) -> LSTMBlockCell:
    """`tf.raw_ops.LSTMBlockCell`: one LSTM step; (i, cs, f, o, ci, co, h), each [batch, cell]."""
    return LSTMBlockCell(*apply_op("LSTMBlockCell", [x, cs_prev, h_prev, w, wci, wcf, wco, b],
                                   _lstm_attrs(forget_bias, cell_clip, use_peephole), name=name))


def lstm_block_cell_grad(x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, cs_grad, h_grad,
                         use_peephole: bool, name: Optional[str] = None) -> LSTMBlockCellGrad:
    """`tf.raw_ops.LSTMBlockCellGrad`: (cs_prev_grad, dicfo, wci_grad, wcf_grad, wco_grad) of one step."""
    return LSTMBlockCellGrad(*apply_op(
        "LSTMBlockCellGrad", [x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, cs_grad, h_grad],
        {"use_peephole": _make_bool(use_peephole, "use_peephole")}, name=name))


def block_lstm(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b, forget_bias: float = 1, cell_clip: float = 3,
               use_peephole: bool = False, name: Optional[str] = None) -> BlockLSTM:
    """`tf.raw_ops.BlockLSTM`: LSTMBlockCell over the time-major `x` [time, batch, input] for `seq_len_max`
    steps; (i, cs, f, o, ci, co, h), each [time, batch, cell], cs and h zero past `seq_len_max`."""
    return BlockLSTM(*apply_op("BlockLSTM", [seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b],
                               _lstm_attrs(forget_bias, cell_clip, use_peephole), name=name))


def block_lstmv2(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b, cell_clip: float = 0,
                 use_peephole: bool = False, name: Optional[str] = None) -> BlockLSTMV2:
    """`tf.raw_ops.BlockLSTMV2`: BlockLSTM with the gate columns in Keras' order i, f, ci, o and no
    forget_bias."""
    return BlockLSTMV2(*apply_op("BlockLSTMV2", [seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b],
                                 _lstm_attrs(None, cell_clip, use_peephole), name=name))


def _block_lstm_grad(op_type: str, result, inputs, use_peephole, name):
    return result(*apply_op(op_type, inputs, {"use_peephole": _make_bool(use_peephole, "use_peephole")}, name=name))


def block_lstm_grad(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, h, cs_grad, h_grad,
                    use_peephole: bool, name: Optional[str] = None) -> BlockLSTMGrad:
    """`tf.raw_ops.BlockLSTMGrad`: the gradients of BlockLSTM's inputs from those of its cs and h."""
    return _block_lstm_grad("BlockLSTMGrad", BlockLSTMGrad, [seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b,
                                                             i, cs, f, o, ci, co, h, cs_grad, h_grad],
                            use_peephole, name)


def block_lstm_grad_v2(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, h, cs_grad,
                       h_grad, use_peephole: bool, name: Optional[str] = None) -> BlockLSTMGradV2:
    """`tf.raw_ops.BlockLSTMGradV2`: BlockLSTMGrad for BlockLSTMV2's gate layout."""
    return _block_lstm_grad("BlockLSTMGradV2", BlockLSTMGradV2, [seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco,
                                                                 b, i, cs, f, o, ci, co, h, cs_grad, h_grad],
                            use_peephole, name)


def gru_block_cell(x, h_prev, w_ru, w_c, b_ru, b_c, name: Optional[str] = None) -> GRUBlockCell:
    """`tf.raw_ops.GRUBlockCell`: one GRU step; (r, u, c, h), each [batch, cell]."""
    return GRUBlockCell(*apply_op("GRUBlockCell", [x, h_prev, w_ru, w_c, b_ru, b_c], name=name))


def gru_block_cell_grad(x, h_prev, w_ru, w_c, b_ru, b_c, r, u, c, d_h, name: Optional[str] = None) -> GRUBlockCellGrad:
    """`tf.raw_ops.GRUBlockCellGrad`: (d_x, d_h_prev, d_c_bar, d_r_bar_u_bar) of one step."""
    return GRUBlockCellGrad(*apply_op("GRUBlockCellGrad", [x, h_prev, w_ru, w_c, b_ru, b_c, r, u, c, d_h], name=name))


# --- gradients: TF's registrations -----------------------------------------------------------------------
@builtin_gradient("LSTMBlockCell")
def _lstm_block_cell_grad(op: _ops.Operation, *grads):
    """tf.contrib.rnn's `_LSTMBlockCellGrad`: the Grad kernel gives the gates' gradient (dicfo); x, h_prev, w
    and b get theirs from it with a matmul, slices, a concat and BiasAddGrad."""
    x, cs_prev, h_prev, w, wci, wcf, wco, b = op.inputs
    i, cs, f, o, ci, co, _ = op.outputs
    _, cs_grad, _, _, _, _, h_grad = grads
    batch_size = x.shape.with_rank(2).as_list()[0]
    batch_size = -1 if batch_size is None else batch_size
    input_size = x.shape.with_rank(2).as_list()[1]
    if input_size is None:
        raise ValueError("input_size from `x` should not be None.")
    cell_size = cs_prev.shape.with_rank(2).as_list()[1]
    if cell_size is None:
        raise ValueError("cell_size from `cs_prev` should not be None.")
    cs_prev_grad, dicfo, wci_grad, wcf_grad, wco_grad = lstm_block_cell_grad(
        x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, cs_grad, h_grad,
        use_peephole=op.get_attr("use_peephole"))
    xh_grad = linalg_ops.matmul(dicfo, w, transpose_b=True)
    x_grad = slicing_ops.slice(xh_grad, (0, 0), (batch_size, input_size))
    h_prev_grad = slicing_ops.slice(xh_grad, (0, input_size), (batch_size, cell_size))
    xh = array_ops.concat([x, h_prev], 1)
    w_grad = linalg_ops.matmul(xh, dicfo, transpose_a=True)
    b_grad = _bias_add_grad(dicfo)
    return x_grad, cs_prev_grad, h_prev_grad, w_grad, wci_grad, wcf_grad, wco_grad, b_grad


def _bias_add_grad(out_backprop: _ops.Tensor) -> _ops.Tensor:
    """`nn_ops.bias_add_grad` (NHWC): the sum over every axis but the last."""
    return apply_op("BiasAddGrad", [out_backprop], {"data_format": "NHWC"})


def _block_lstm_gradient(grad_type: str, builder):
    def gradient(op: _ops.Operation, *grads):
        """python/ops/rnn_grad.py's `_block_lstm_grad`: only cs and h carry a gradient; none for seq_len_max."""
        seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b = op.inputs
        i, cs, f, o, ci, co, h = op.outputs
        _, cs_grad, _, _, _, _, h_grad = grads
        return (None,) + tuple(builder(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, h,
                                       cs_grad, h_grad, use_peephole=op.get_attr("use_peephole")))
    gradient.__name__ = f"_{grad_type}"
    return gradient


builtin_gradient("BlockLSTM")(_block_lstm_gradient("BlockLSTMGrad", block_lstm_grad))
# TF registers the same function for BlockLSTMV2: its gradient is BlockLSTMGrad, whose kernel places the gate
# gradients in BlockLSTM's i, ci, f, o order although BlockLSTMV2's w and b hold them as i, f, ci, o. The
# numbers TF's tf.gradients gives for BlockLSTMV2 are those, and so are graphcompat's.
builtin_gradient("BlockLSTMV2")(_block_lstm_gradient("BlockLSTMGrad", block_lstm_grad))


@builtin_gradient("GRUBlockCell")
def _gru_block_cell_grad(op: _ops.Operation, *grads):
    """tf.contrib.rnn's `_GRUBlockCellGrad`: the Grad kernel gives d_x, d_h_prev and the gates' gradients;
    the weights' and biases' come from matmuls with the concatenated inputs and BiasAddGrad."""
    x, h_prev, w_ru, w_c, b_ru, b_c = op.inputs
    r, u, c, _ = op.outputs
    d_h = grads[3]
    d_x, d_h_prev, d_c_bar, d_r_bar_u_bar = gru_block_cell_grad(x, h_prev, w_ru, w_c, b_ru, b_c, r, u, c, d_h)
    x_h_prev = array_ops.concat([x, h_prev], 1)
    d_w_ru = linalg_ops.matmul(x_h_prev, d_r_bar_u_bar, transpose_a=True)
    d_b_ru = _bias_add_grad(d_r_bar_u_bar)
    x_h_prevr = array_ops.concat([x, h_prev * r], 1)
    d_w_c = linalg_ops.matmul(x_h_prevr, d_c_bar, transpose_a=True)
    d_b_c = _bias_add_grad(d_c_bar)
    return d_x, d_h_prev, d_w_ru, d_w_c, d_b_ru, d_b_c


__all__ = ["block_lstm", "block_lstm_grad", "block_lstm_grad_v2", "block_lstmv2", "gru_block_cell",
           "gru_block_cell_grad", "lstm_block_cell", "lstm_block_cell_grad"]
