"""Lowering of TF's fused RNN kernels (graphcompat/ops/rnn_ops.py): core/kernels/rnn/lstm_ops.{h,cc} and
gru_ops.{h,cc}, step by step in the kernels' order and dtype.

LSTM (LSTMBlockCell, BlockLSTM, BlockLSTMV2):

    xh = [x, h_prev];  gates = xh * w + b            gate columns i, ci, f, o (ICFO); BlockLSTMV2: i, f, ci, o
    i  = sigmoid(gates_i + cs_prev * wci)            peephole terms only with use_peephole
    ci = tanh(gates_ci)
    f  = sigmoid(gates_f + forget_bias + cs_prev * wcf)          BlockLSTMV2: forget_bias 0
    cs = clip(i * ci + f * cs_prev, -cell_clip, cell_clip)       only when cell_clip > 0
    co = tanh(cs);  o = sigmoid(gates_o + cs * wco);  h = o * co

BlockLSTM runs that cell over the time-major `x` as one `lax.scan` (one compile for every sequence length of
a shape) whose steps from `seq_len_max` on leave the state alone: their cs and h are zeros, as the kernel
writes them. The kernel leaves i, f, o, ci and co of those steps uninitialized; here they are zeros too.

The gradient kernels (LSTMBlockCellGrad, BlockLSTMGrad(V2), GRUBlockCellGrad) are the kernels' bprop
functors. They read only the gradients of cs and h (GRU: h) and ignore the cell clip, so they are not the
exact derivative jax would take: the forward rules carry them as their `jax.custom_vjp`, which is what a
cell inside a differentiated while loop (dynamic_rnn's body) needs to give TF's numbers. TF's gradient of
BlockLSTMV2 is BlockLSTMGrad, which places the gate gradients in BlockLSTM's ICFO order (not V2's IFCO):
its VJP here does the same, so both give TF's numbers.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from graphcompat.framework import errors
from lowering.interpreter import require
from lowering.registry import lowers
from lowering.rules.checks import invalid

ICFO, IFCO = "ICFO", "IFCO"  # where ci and f sit among the four gate blocks (lstm_ops.h's GateLayout)


def _gemm(a, b):
    return jnp.matmul(a, b, preferred_element_type=a.dtype)


def _gate_blocks(gates, cell: int, layout: str) -> tuple:
    """(i, ci, f, o) pre-activations from the [batch, 4 * cell] gates."""
    blocks = [gates[:, k * cell:(k + 1) * cell] for k in range(4)]
    i, second, third, o = blocks
    return (i, second, third, o) if layout == ICFO else (i, third, second, o)


def _join_gates(di, dci, df, do, layout: str):
    return jnp.concatenate([di, dci, df, do] if layout == ICFO else [di, df, dci, do], axis=1)


def _sigmoid(x):
    one = jnp.ones((), x.dtype)
    return one / (one + jnp.exp(-x))


# --- the kernels' shape checks (static: shapes are known while tracing) -----------------------------------
def _check(ok: bool, message) -> None:
    if not ok:
        raise invalid(message() if callable(message) else message)


def _check_dim(value, axis: int, expected: int, what: str) -> None:
    """A dimension check with TF's `<what>: <actual> vs. <expected>` text."""
    actual = jnp.shape(value)[axis]
    _check(actual == expected, lambda: f"{what}: {actual} vs. {expected}")


def _check_lstm_cell(x, cs_prev, h_prev, w, wci, wcf, wco, b) -> None:
    """LSTMBlockCellOp's OP_REQUIRES (ranks first: a wrong rank makes TF's dim_size checks read garbage)."""
    for value, label, rank in ((x, "x", 2), (cs_prev, "cs_prev", 2), (h_prev, "h_prev", 2), (w, "w", 2),
                               (wci, "wci", 1), (wcf, "wcf", 1), (wco, "wco", 1), (b, "b", 1)):
        _check(jnp.ndim(value) == rank, lambda: f"{label}_tensor must be rank {rank} but is rank {jnp.ndim(value)}.")
    batch, input_size = jnp.shape(x)
    cell = jnp.shape(cs_prev)[1]
    _check_dim(cs_prev, 0, batch, "cs_prev.dims(0) != batch_size")
    _check_dim(h_prev, 0, batch, "h_prev.dims(0) != batch_size")
    _check_dim(h_prev, 1, cell, "h_prev.dims(1) != cell_size")
    _check_dim(w, 0, input_size + cell, "w.dim_size(0) != input_size + cell_size")
    _check_dim(w, 1, cell * 4, "w.dim_size(1) != cell_size * 4")
    _check_dim(b, 0, cell * 4, "b.dim_size(0) != cell_size * 4")
    _check(batch > 0 and cell > 0, lambda: f"cs_prev_tensor is empty, has shape: ({batch},{cell}).")
    # The peephole vectors' lengths are not checked by TF's kernel (it reads past a short one); a mismatch
    # here would be a broadcasting error, so it is refused with the text BlockLSTM's kernel uses.
    for value, label in ((wci, "wci"), (wcf, "wcf"), (wco, "wco")):
        _check_dim(value, 0, cell, f"{label}.dim_size(0) != cell_size")


def _check_lstm_cell_grad(x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, cs_grad, h_grad) -> None:
    """LSTMBlockCellGradOp's OP_REQUIRES, in its order and with its texts (`i.dim_size(1)` for f's is TF's)."""
    _check_lstm_cell(x, cs_prev, h_prev, w, wci, wcf, wco, b)
    batch, cell = jnp.shape(x)[0], jnp.shape(cs_prev)[1]
    for value, label, label1 in ((i, "i", "i"), (cs, "cs", "cs"), (f, "f", "i"), (o, "o", "o"), (ci, "ci", "ci"),
                                 (co, "co", "co")):
        _check(jnp.ndim(value) == 2, lambda: f"{label}_tensor must be rank 2 but is rank {jnp.ndim(value)}.")
        _check_dim(value, 0, batch, f"{label}.dim_size(0) != batch_size")
        _check_dim(value, 1, cell, f"{label1}.dim_size(1) != cell_size")
    for value, label in ((cs_grad, "cs_grad_tensor"), (h_grad, "h_grad_tensor")):
        _check(jnp.ndim(value) == 2, lambda: f"{label} must be rank 2 but is rank {jnp.ndim(value)}.")
        _check_dim(value, 0, batch, f"{label}.dims(0) != batch_size")
        _check_dim(value, 1, cell, f"{label}.dims(1) != cell_size")


def _check_block_lstm(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b) -> None:
    """BlockLSTMOp's OP_REQUIRES on shapes, in its order."""
    _check(jnp.ndim(seq_len_max) == 0,
           lambda: f"`seq_len_max_tensor` must be rank 0 but is rank {jnp.ndim(seq_len_max)}")
    _check(jnp.ndim(x) == 3, "x must be 3D")
    _, batch, input_size = jnp.shape(x)
    _check(jnp.ndim(cs_prev) == 2, "cs_prev must be 2D")
    _check_dim(cs_prev, 0, batch, "cs_prev.dims(0) != batch_size")
    cell = jnp.shape(cs_prev)[1]
    _check(jnp.ndim(h_prev) == 2, "h_prev must be 2D")
    _check_dim(h_prev, 0, batch, "h_prev.dims(0) != batch_size")
    _check_dim(h_prev, 1, cell, "h_prev.dims(1) != cell_size")
    _check(jnp.ndim(w) == 2, "w must be 2D")
    _check_dim(w, 0, input_size + cell, "w.dim_size(0) != input_size + cell_size")
    _check_dim(w, 1, cell * 4, "w.dim_size(1) != cell_size * 4")
    for value, label in ((wci, "wci"), (wcf, "wcf"), (wco, "wco")):
        _check(jnp.ndim(value) == 1, f"{label} must be 1D")
        _check_dim(value, 0, cell, f"{label}.dim_size(0) != cell_size")
    _check(jnp.ndim(b) == 1, "b must be 1D")
    _check_dim(b, 0, cell * 4, "b.dim_size(0) != cell_size * 4")


def _check_block_lstm_grad(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, h,
                           cs_grad, h_grad) -> None:
    """BlockLSTMGradOp's OP_REQUIRES on shapes, in its order and with its texts. TF checks neither the forward
    outputs' nor the gradients' shapes against x's (its kernel reads out of bounds): a mismatch is refused
    here, with a text of graphcompat's."""
    _check(jnp.ndim(seq_len_max) == 0,
           lambda: f"`seq_len_max_tensor` must be rank 0 but is rank {jnp.ndim(seq_len_max)}")
    _check(jnp.ndim(x) == 3, lambda: f"x must be rank 3 but is rank {jnp.ndim(x)}")
    _, _, input_size = jnp.shape(x)
    for value, label in ((cs_prev, "cs_prev"), (h_prev, "h_prev"), (w, "w")):
        _check(jnp.ndim(value) == 2, lambda: f"{label} must be rank 2 but is rank {jnp.ndim(value)}")
    columns = jnp.shape(w)[1]
    _check(columns > 0 and columns % 4 == 0,
           lambda: f"w matrix columns must be a positive multiple of 4, but got {columns}")
    cell = columns // 4
    _check(input_size + cell == jnp.shape(w)[0],
           lambda: f"w matrix rows don't match: {input_size + cell} vs. {jnp.shape(w)[0]}")
    for value, label in ((wci, "wci"), (wcf, "wcf"), (wco, "wco"), (b, "b")):
        _check(jnp.ndim(value) == 1, lambda: f"{label} must be rank 1 but is rank {jnp.ndim(value)}")
    _check(cell == jnp.shape(b)[0] // 4, lambda: f"w and b cell_size don't match: {cell} vs. {jnp.shape(b)[0]}")
    for value, label in ((i, "i"), (cs, "cs"), (f, "f"), (o, "o"), (ci, "ci"), (co, "co"), (h, "h")):
        _check(jnp.ndim(value) == 3, lambda: f"{label} must be rank 3. Received: {jnp.ndim(value)}")
    # What TF's kernel reads without checking (it would read out of bounds): the same shapes as its forward.
    _check_block_lstm(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b)
    sequence = jnp.shape(x)[:2] + (cell,)
    for value, label in ((i, "i"), (cs, "cs"), (f, "f"), (o, "o"), (ci, "ci"), (co, "co"), (h, "h"),
                         (cs_grad, "cs_grad"), (h_grad, "h_grad")):
        _check(jnp.shape(value) == sequence, lambda: f"{label} must have shape [{','.join(map(str, sequence))}] "
                                                     f"but has shape [{','.join(map(str, jnp.shape(value)))}]")


def _require_seq_len_max(seq_len_max, time_len: int) -> None:
    require((seq_len_max >= 0) & (seq_len_max <= time_len), errors.InvalidArgumentError,
            lambda: f"seq_len_max must be between 0 and {time_len} but is {int(seq_len_max)}")


# --- the LSTM cell: LSTMBlockCellFprop / LSTMBlockCellBprop ----------------------------------------------
def _lstm_fprop(x, cs_prev, h_prev, w, wci, wcf, wco, b, forget_bias: float, cell_clip: float, use_peephole: bool,
                layout: str) -> tuple:
    """(i, cs, f, o, ci, co, h) of one step."""
    dtype = x.dtype
    cell = cs_prev.shape[1]
    gates = _gemm(jnp.concatenate([x, h_prev], axis=1), w) + b[None, :]
    gate_i, gate_ci, gate_f, gate_o = _gate_blocks(gates, cell, layout)
    i = _sigmoid(gate_i + cs_prev * wci if use_peephole else gate_i)
    ci = jnp.tanh(gate_ci)
    gate_f = gate_f + jnp.asarray(forget_bias, dtype)
    f = _sigmoid(gate_f + cs_prev * wcf if use_peephole else gate_f)
    cs = i * ci + f * cs_prev
    if cell_clip > 0.0:
        clip = jnp.asarray(cell_clip, dtype)
        cs = jnp.minimum(jnp.maximum(cs, -clip), clip)  # Eigen's scalar_clip_op
    co = jnp.tanh(cs)
    o = _sigmoid(gate_o + cs * wco if use_peephole else gate_o)
    return i, cs, f, o, ci, co, o * co


def _lstm_bprop(cs_prev, wci, wcf, wco, i, cs, f, o, ci, co, cs_grad, h_grad, use_peephole: bool,
                layout: str) -> tuple:
    """(cs_prev_grad, dgates, di, df, do): the gate gradients of one step from the gradients of its cs and h."""
    one = jnp.ones((), i.dtype)
    do = o * (one - o) * h_grad * co
    dcs = (one - co * co) * h_grad * o + cs_grad
    if use_peephole:
        dcs = dcs + do * wco
    dci = (one - ci * ci) * dcs * i
    df = f * (one - f) * dcs * cs_prev
    di = i * (one - i) * dcs * ci
    cs_prev_grad = dcs * f
    if use_peephole:
        cs_prev_grad = cs_prev_grad + di * wci + df * wcf
    return cs_prev_grad, _join_gates(di, dci, df, do, layout), di, df, do


def _peephole_grads(cs_prev, cs, di, df, do, use_peephole: bool) -> tuple:
    if not use_peephole:
        zeros = jnp.zeros(cs.shape[1:], cs.dtype)
        return zeros, zeros, zeros
    return (di * cs_prev).sum(axis=0), (df * cs_prev).sum(axis=0), (do * cs).sum(axis=0)


def _lstm_cell_grad(x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, cs_grad, h_grad, use_peephole):
    cs_prev_grad, dicfo, di, df, do = _lstm_bprop(cs_prev, wci, wcf, wco, i, cs, f, o, ci, co, cs_grad, h_grad,
                                                  use_peephole, ICFO)
    return (cs_prev_grad, dicfo) + _peephole_grads(cs_prev, cs, di, df, do, use_peephole)


@lowers("LSTMBlockCell")
def lstm_block_cell(x, cs_prev, h_prev, w, wci, wcf, wco, b, *, forget_bias, cell_clip, use_peephole, **_):
    _check_lstm_cell(x, cs_prev, h_prev, w, wci, wcf, wco, b)

    @jax.custom_vjp
    def cell(*inputs):
        return _lstm_fprop(*inputs, forget_bias, cell_clip, use_peephole, ICFO)

    def forward(*inputs):
        outputs = cell(*inputs)
        return outputs, (inputs, outputs)

    def backward(saved, cotangents):
        # tf.contrib.rnn's _LSTMBlockCellGrad: LSTMBlockCellGrad, then dicfo through the matmul.
        (x, cs_prev, h_prev, w, wci, wcf, wco, b), (i, cs, f, o, ci, co, _) = saved
        cs_prev_grad, dicfo, wci_grad, wcf_grad, wco_grad = _lstm_cell_grad(
            x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, cotangents[1], cotangents[6], use_peephole)
        xh_grad = _gemm(dicfo, w.T)
        input_size = x.shape[1]
        w_grad = _gemm(jnp.concatenate([x, h_prev], axis=1).T, dicfo)
        return (xh_grad[:, :input_size], cs_prev_grad, xh_grad[:, input_size:], w_grad, wci_grad, wcf_grad,
                wco_grad, dicfo.sum(axis=0))

    cell.defvjp(forward, backward)
    return cell(x, cs_prev, h_prev, w, wci, wcf, wco, b)


@lowers("LSTMBlockCellGrad")
def lstm_block_cell_grad(x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, cs_grad, h_grad, *,
                         use_peephole, **_):
    _check_lstm_cell_grad(x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, cs_grad, h_grad)
    return _lstm_cell_grad(x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, cs_grad, h_grad,
                           use_peephole)


# --- BlockLSTM: the cell over time --------------------------------------------------------------------------
def _block_lstm_fprop(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b, forget_bias, cell_clip, use_peephole,
                      layout):
    def step(state, inputs):
        cs_prev, h_prev = state
        t, x_t = inputs
        outputs = _lstm_fprop(x_t, cs_prev, h_prev, w, wci, wcf, wco, b, forget_bias, cell_clip, use_peephole, layout)
        running = t < seq_len_max
        outputs = tuple(jnp.where(running, out, jnp.zeros_like(out)) for out in outputs)
        cs, h = outputs[1], outputs[6]
        return (jnp.where(running, cs, cs_prev), jnp.where(running, h, h_prev)), outputs

    steps = jnp.arange(x.shape[0], dtype=jnp.int64)
    _, outputs = lax.scan(step, (cs_prev, h_prev), (steps, x))
    return outputs


def _block_lstm_bprop(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, h, cs_grad, h_grad,
                      use_peephole, layout):
    """BlockLSTMGradOp: from step seq_len_max - 1 down to 0, the step's cs/h gradients plus those flowing back
    from the step after it; (x_grad, cs_prev_grad, h_prev_grad, w_grad, wci_grad, wcf_grad, wco_grad, b_grad)."""
    time_len, input_size = x.shape[0], x.shape[2]
    # Each step's previous state: the initial one, then the sequence's own cs and h.
    cs_prevs = jnp.concatenate([cs_prev[None], cs], axis=0)[:time_len]
    h_prevs = jnp.concatenate([h_prev[None], h], axis=0)[:time_len]
    zeros = jnp.zeros(wci.shape, x.dtype)
    start = (jnp.zeros_like(cs_prev), jnp.zeros_like(h_prev), jnp.zeros_like(w), zeros, zeros, zeros,
             jnp.zeros_like(b))

    def step(carry, inputs):
        t, x_t, cs_prev_t, h_prev_t, i_t, cs_t, f_t, o_t, ci_t, co_t, cs_grad_t, h_grad_t = inputs
        cs_carry, h_carry, w_grad, wci_grad, wcf_grad, wco_grad, b_grad = carry
        cs_prev_grad, dgates, di, df, do = _lstm_bprop(cs_prev_t, wci, wcf, wco, i_t, cs_t, f_t, o_t, ci_t, co_t,
                                                       cs_carry + cs_grad_t, h_carry + h_grad_t, use_peephole,
                                                       layout)
        xh_grad = _gemm(dgates, w.T)
        xh = jnp.concatenate([x_t, h_prev_t], axis=1)
        updated = (cs_prev_grad, xh_grad[:, input_size:], w_grad + _gemm(xh.T, dgates))
        if use_peephole:
            updated += (wci_grad + (di * cs_prev_t).sum(axis=0), wcf_grad + (df * cs_prev_t).sum(axis=0),
                        wco_grad + (do * cs_t).sum(axis=0))
        else:
            updated += (wci_grad, wcf_grad, wco_grad)
        updated += (b_grad + dgates.sum(axis=0),)
        running = t < seq_len_max
        carry = tuple(jnp.where(running, new, old) for new, old in zip(updated, carry))
        x_grad = jnp.where(running, xh_grad[:, :input_size], jnp.zeros_like(x_t))
        return carry, x_grad

    steps = jnp.arange(time_len, dtype=jnp.int64)
    carry, x_grad = lax.scan(step, start, (steps, x, cs_prevs, h_prevs, i, cs, f, o, ci, co, cs_grad, h_grad),
                             reverse=True)
    cs_prev_grad, h_prev_grad, w_grad, wci_grad, wcf_grad, wco_grad, b_grad = carry
    return x_grad, cs_prev_grad, h_prev_grad, w_grad, wci_grad, wcf_grad, wco_grad, b_grad


def _block_lstm_rule(layout: str):
    def rule(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b, *, cell_clip, use_peephole, forget_bias=0.0, **_):
        _check_block_lstm(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b)
        _require_seq_len_max(seq_len_max, x.shape[0])

        @jax.custom_vjp
        def block(seq_len_max, *inputs):
            return _block_lstm_fprop(seq_len_max, *inputs, forget_bias, cell_clip, use_peephole, layout)

        def forward(seq_len_max, *inputs):
            outputs = block(seq_len_max, *inputs)
            return outputs, (seq_len_max, inputs, outputs)

        def backward(saved, cotangents):
            # python/ops/rnn_grad.py: BlockLSTMGrad from the gradients of cs and h; none for seq_len_max. TF
            # registers it for BlockLSTMV2 too, so V2's gradient places the gates in ICFO order as well.
            seq_len_max, inputs, outputs = saved
            return (None,) + _block_lstm_bprop(seq_len_max, *inputs, *outputs, cotangents[1], cotangents[6],
                                               use_peephole, ICFO)

        block.defvjp(forward, backward)
        return block(jnp.asarray(seq_len_max, jnp.int64), x, cs_prev, h_prev, w, wci, wcf, wco, b)
    return rule


def _block_lstm_grad_rule(layout: str):
    def rule(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, h, cs_grad, h_grad, *,
             use_peephole, **_):
        _check_block_lstm_grad(seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, h,
                               cs_grad, h_grad)
        _require_seq_len_max(seq_len_max, x.shape[0])
        return _block_lstm_bprop(jnp.asarray(seq_len_max, jnp.int64), x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs,
                                 f, o, ci, co, h, cs_grad, h_grad, use_peephole, layout)
    return rule


lowers("BlockLSTM")(_block_lstm_rule(ICFO))
lowers("BlockLSTMV2")(_block_lstm_rule(IFCO))
lowers("BlockLSTMGrad")(_block_lstm_grad_rule(ICFO))
lowers("BlockLSTMGradV2")(_block_lstm_grad_rule(IFCO))


# --- GRU: GRUBlockCellFprop / GRUBlockCellBprop -------------------------------------------------------------
def _check_gru(x, h_prev, w_ru, w_c, b_ru, b_c, more=()) -> None:
    """GRUCellBlockOp's (and GRUBlockCellGradOp's) OP_REQUIRES, in order, with TF's texts."""
    _check(jnp.ndim(x) == 2, lambda: f"Rank of x must be 2, got {jnp.ndim(x)}")
    batch, input_size = jnp.shape(x)
    _check(jnp.ndim(h_prev) == 2, lambda: f"Rank of h_prev must be 2, got {jnp.ndim(h_prev)}")
    _check_dim(h_prev, 0, batch, "h_prev.dims(0) != batch_size")
    cell = jnp.shape(h_prev)[1]
    _check(jnp.ndim(w_ru) == 2, lambda: f"Rank of w_ru_ must be 2, got {jnp.ndim(w_ru)}")
    _check_dim(w_ru, 0, input_size + cell, "w_ru.dim_size(0) != input_size + cell_size")
    _check_dim(w_ru, 1, cell * 2, "w_ru.dim_size(1) != cell_size * 2")
    _check(jnp.ndim(w_c) == 2, lambda: f"Rank of w_c must be 2, got {jnp.ndim(w_c)}")
    _check_dim(w_c, 0, input_size + cell, "w_c.dim_size(0) != input_size + cell_size")
    _check_dim(w_c, 1, cell, "w_c.dim_size(1) != cell_size")
    _check(jnp.ndim(b_ru) == 1, lambda: f"Rank of b_ru must be 1, got {jnp.ndim(b_ru)}")
    _check_dim(b_ru, 0, cell * 2, "b_ru.dim_size(0) != cell_size * 2")
    _check(jnp.ndim(b_c) == 1, lambda: f"Rank of b_c must be 1, got {jnp.ndim(b_c)}")
    _check_dim(b_c, 0, cell, "b_c.dim_size(0) != cell_size")
    # GRUBlockCellGradOp's checks of r, u, c and d_h (c's rank text names w_c, as TF's does)
    for value, label, rank_label in more:
        _check(jnp.ndim(value) == 2, lambda: f"Rank of {rank_label} must be 2, got {jnp.ndim(value)}")
        _check_dim(value, 0, batch, f"{label}.dims(0) != batch_size")
        _check_dim(value, 1, cell, f"{label}.dims(1) != cell_size")


def _gru_fprop(x, h_prev, w_ru, w_c, b_ru, b_c) -> tuple:
    cell = h_prev.shape[1]
    r_u_bar = _gemm(jnp.concatenate([x, h_prev], axis=1), w_ru) + b_ru[None, :]
    r = _sigmoid(r_u_bar[:, :cell])
    u = _sigmoid(r_u_bar[:, cell:])
    c = jnp.tanh(_gemm(jnp.concatenate([x, h_prev * r], axis=1), w_c) + b_c[None, :])
    return r, u, c, u * (h_prev - c) + c


def _gru_bprop(x, h_prev, w_ru, w_c, r, u, c, d_h) -> tuple:
    """(d_x, d_h_prev, d_c_bar, d_r_bar_u_bar)."""
    one = jnp.ones((), x.dtype)
    input_size = x.shape[1]
    d_c_bar = (d_h * (one - u)) * (one - c * c)
    d_u_bar = d_h * (h_prev - c) * u * (one - u)
    d_x2_h_prevr = _gemm(d_c_bar, w_c.T)
    d_hr = d_x2_h_prevr[:, input_size:]
    d_r_bar = (d_hr * h_prev * r) * (one - r)
    d_r_bar_u_bar = jnp.concatenate([d_r_bar, d_u_bar], axis=1)
    d_x1_h_prev1 = _gemm(d_r_bar_u_bar, w_ru.T)
    d_x = (d_x1_h_prev1 + d_x2_h_prevr)[:, :input_size]
    d_h_prev = d_x1_h_prev1[:, input_size:] + (d_hr * r) + (d_h * u)
    return d_x, d_h_prev, d_c_bar, d_r_bar_u_bar


@lowers("GRUBlockCell")
def gru_block_cell(x, h_prev, w_ru, w_c, b_ru, b_c, **_):
    _check_gru(x, h_prev, w_ru, w_c, b_ru, b_c)

    @jax.custom_vjp
    def cell(*inputs):
        return _gru_fprop(*inputs)

    def forward(*inputs):
        outputs = cell(*inputs)
        return outputs, (inputs, outputs)

    def backward(saved, cotangents):
        # tf.contrib.rnn's _GRUBlockCellGrad: GRUBlockCellGrad, then the weights' gradients by matmuls.
        (x, h_prev, w_ru, w_c, _, _), (r, u, c, _) = saved
        d_x, d_h_prev, d_c_bar, d_r_bar_u_bar = _gru_bprop(x, h_prev, w_ru, w_c, r, u, c, cotangents[3])
        d_w_ru = _gemm(jnp.concatenate([x, h_prev], axis=1).T, d_r_bar_u_bar)
        d_w_c = _gemm(jnp.concatenate([x, h_prev * r], axis=1).T, d_c_bar)
        return d_x, d_h_prev, d_w_ru, d_w_c, d_r_bar_u_bar.sum(axis=0), d_c_bar.sum(axis=0)

    cell.defvjp(forward, backward)
    return cell(x, h_prev, w_ru, w_c, b_ru, b_c)


@lowers("GRUBlockCellGrad")
def gru_block_cell_grad(x, h_prev, w_ru, w_c, b_ru, b_c, r, u, c, d_h, **_):
    _check_gru(x, h_prev, w_ru, w_c, b_ru, b_c,
               more=((r, "r", "r"), (u, "u", "u"), (c, "c", "w_c"), (d_h, "d_h", "d_h")))
    return _gru_bprop(x, h_prev, w_ru, w_c, r, u, c, d_h)

