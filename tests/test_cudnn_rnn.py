"""TF's cuDNN RNN ops (graphcompat/ops/cudnn_rnn_ops.py, lowering/rules/cudnn_rnn.py) and tf.contrib.cudnn_rnn.

TF registers these kernels for GPUs only, so TF's CPU build cannot run them: the oracle is TF's own CPU RNNs
over the same canonical weights (cut out of the same opaque buffer with TF ops): LSTMCell (forget_bias 0),
BasicRNNCell (tanh / relu) and cuDNN's GRU written with TF ops (TF 1's CudnnCompatibleGRUCell's math), run by
dynamic_rnn / bidirectional_dynamic_rnn layer by layer. Values and gradients (w.r.t. the input, the initial
states and the whole parameter buffer) agree to 1e-5. Static shapes and build-time errors are TF's own (TF
runs the ops' shape functions without a kernel); ParamsSize is checked against the size formula of TF's
kernel (cuDNN's regions), and the canonical conversions against the buffer's layout.
"""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat
from graphcompat.framework import errors
from graphcompat.ops import cudnn_rnn_ops
from lowering.rules.cudnn_rnn import GATES, Model
from tests import oracle

_RNG = np.random.RandomState(7)
T, B, I, U = 5, 3, 4, 6


def _size(mode: str, layers: int, units: int, input_size: int, dirs: int) -> int:
    """TF's kernel's regions (cudnn_rnn_ops.cc, ParamsToCanonical): per layer and direction, g input matrices
    [units, width], g recurrent [units, units] and 2g biases [units]."""
    g = GATES[mode]
    total = 0
    for layer in range(layers):
        width = input_size if layer == 0 else units * dirs
        total += dirs * (g * units * width + g * units * units + 2 * g * units)
    return total


# --- the oracle: TF's CPU RNNs over the canonical weights cut out of the buffer --------------------------------
def _pieces(tf, params, model: Model, layer: int, direction: int):
    """(input matrices, recurrent matrices, input biases, recurrent biases) of one layer and direction, each
    a list over the gates, cut out of the opaque buffer with TF ops."""
    weights, biases, _ = model.regions()
    g = model.gates
    first = (layer * model.num_dirs + direction) * 2 * g
    mats = [tf.reshape(params[o:o + r * c], [r, c]) for o, (r, c) in weights[first:first + 2 * g]]
    vecs = [params[o:o + n] for o, n in biases[first:first + 2 * g]]
    return mats[:g], mats[g:], vecs[:g], vecs[g:]


def _tf_cell(v1, mode: str, pieces, scope: str):
    w, r, bw, br = pieces
    joined = [v1.concat([wi, ri], axis=1) for wi, ri in zip(w, r)]  # [units, width + units] per gate
    if mode == "lstm":  # cuDNN's i, f, c, o; LSTMCell's i, j (= c), f, o
        kernel = v1.transpose(v1.concat([joined[0], joined[2], joined[1], joined[3]], axis=0))
        bias = v1.concat([bw[0] + br[0], bw[2] + br[2], bw[1] + br[1], bw[3] + br[3]], axis=0)
        cell = v1.nn.rnn_cell.LSTMCell(U, forget_bias=0.0, name=scope)
    elif mode == "gru":
        return _CudnnGRU(v1, pieces)
    else:
        kernel, bias = v1.transpose(joined[0]), bw[0] + br[0]
        cell = v1.nn.rnn_cell.BasicRNNCell(U, activation=v1.nn.tanh if mode == "rnn_tanh" else v1.nn.relu,
                                           name=scope)

    def getter(*args, **kwargs):  # tf_keras calls it with keywords: (getter=..., name=..., ...)
        name = kwargs["name"] if "name" in kwargs else args[1]
        return kernel if name.endswith("kernel") else bias
    return cell, getter


class _CudnnGRU:
    """TF 1's CudnnCompatibleGRUCell math written with TF ops: h~ = tanh(W_h x + b_Wh + r * (R_h h + b_Rh))."""

    def __init__(self, v1, pieces):
        self.v1, self.pieces = v1, pieces

    def cell(self):
        v1 = self.v1
        (w_r, w_z, w_h), (r_r, r_z, r_h), (b_wr, b_wz, b_wh), (b_rr, b_rz, b_rh) = self.pieces

        class Cell(v1.nn.rnn_cell.RNNCell):
            state_size = U
            output_size = U

            def call(self, x, h):
                def lin(w, b, v):
                    return v1.matmul(v, w, transpose_b=True) + b
                reset = v1.sigmoid(lin(w_r, b_wr, x) + lin(r_r, b_rr, h))
                update = v1.sigmoid(lin(w_z, b_wz, x) + lin(r_z, b_rz, h))
                candidate = v1.tanh(lin(w_h, b_wh, x) + reset * lin(r_h, b_rh, h))
                new_h = (1 - update) * candidate + update * h
                return new_h, new_h
        return Cell()


def _tf_reference(v1, mode, model: Model, x, h0, c0, params, lengths):
    """(output, h, c) of the stacked RNN, time-major, with TF's dynamic_rnn / bidirectional_dynamic_rnn."""
    layer_input, hs, cs = x, [], []
    for layer in range(model.num_layers):
        cells, states = [], []
        for d in range(model.num_dirs):
            index = layer * model.num_dirs + d
            made = _tf_cell(v1, mode, _pieces(v1, params, model, layer, d), f"cell_{layer}_{d}")
            if isinstance(made, _CudnnGRU):
                cells.append((made.cell(), None))
            else:
                cells.append(made)
            states.append(v1.nn.rnn_cell.LSTMStateTuple(c0[index], h0[index]) if mode == "lstm" else h0[index])
        with v1.variable_scope(f"layer_{layer}", custom_getter=cells[0][1]):
            if model.num_dirs == 1:
                out, state = v1.nn.dynamic_rnn(cells[0][0], layer_input, sequence_length=lengths,
                                               initial_state=states[0], time_major=True)
                finals = [state]
            else:
                (fw_getter, bw_getter) = cells[0][1], cells[1][1]
                with v1.variable_scope("fw", custom_getter=fw_getter):
                    fw, fw_state = v1.nn.dynamic_rnn(cells[0][0], layer_input, sequence_length=lengths,
                                                     initial_state=states[0], time_major=True)
                with v1.variable_scope("bw", custom_getter=bw_getter):
                    reversed_input = (v1.reverse(layer_input, [0]) if lengths is None else
                                      v1.reverse_sequence(layer_input, lengths, seq_axis=0, batch_axis=1))
                    bw, bw_state = v1.nn.dynamic_rnn(cells[1][0], reversed_input, sequence_length=lengths,
                                                     initial_state=states[1], time_major=True)
                    bw = (v1.reverse(bw, [0]) if lengths is None else
                          v1.reverse_sequence(bw, lengths, seq_axis=0, batch_axis=1))
                out, finals = v1.concat([fw, bw], axis=2), [fw_state, bw_state]
        for state in finals:
            if mode == "lstm":
                hs.append(state.h)
                cs.append(state.c)
            else:
                hs.append(state)
        layer_input = out
    return layer_input, v1.stack(hs), (v1.stack(cs) if mode == "lstm" else None)


def _loss_weights(model: Model, mode: str, dtype):
    dirs, layers = model.num_dirs, model.num_layers
    return (_RNG.randn(T, B, dirs * U).astype(dtype), _RNG.randn(layers * dirs, B, U).astype(dtype),
            _RNG.randn(layers * dirs, B, U).astype(dtype))


def _case_values(mode: str, model: Model, dtype):
    dirs, layers = model.num_dirs, model.num_layers
    return {"x": _RNG.randn(T, B, I).astype(dtype), "h0": (_RNG.randn(layers * dirs, B, U) * 0.5).astype(dtype),
            "c0": (_RNG.randn(layers * dirs, B, U) * 0.5).astype(dtype),
            "params": (_RNG.randn(model.size) * 0.3).astype(dtype), "weights": _loss_weights(model, mode, dtype)}


def _graphcompat_run(mode, direction, model, values, version: int, lengths=None, time_major=True):
    tf = graphcompat
    dtype = values["x"].dtype
    graph = tf.Graph()
    with graph.as_default():
        x, h0, c0, params = (tf.constant(values[k]) for k in ("x", "h0", "c0", "params"))
        xi, hi, ci = x, h0, c0
        if not time_major:
            xi, hi, ci = (tf.transpose(t, [1, 0, 2]) for t in (x, h0, c0))
        c_arg = ci if mode == "lstm" else tf.constant([], dtype=dtype)
        kwargs = {"rnn_mode": mode, "direction": direction}
        if version == 1:
            out = cudnn_rnn_ops.cudnn_rnn(xi, hi, c_arg, params, **kwargs)
        elif version == 2:
            out = cudnn_rnn_ops.cudnn_rnnv2(xi, hi, c_arg, params, **kwargs)
        else:
            seq = tf.constant(lengths if lengths is not None else np.full([B], T, np.int32))
            out = cudnn_rnn_ops.cudnn_rnnv3(xi, hi, c_arg, params, seq, time_major=time_major, **kwargs)
        output, h, c = out.output, out.output_h, out.output_c
        if not time_major:
            output, h = tf.transpose(output, [1, 0, 2]), tf.transpose(h, [1, 0, 2])
            if mode == "lstm":
                c = tf.transpose(c, [1, 0, 2])
        wo, wh, wc = values["weights"]
        loss = tf.reduce_sum(output * wo) + tf.reduce_sum(h * wh)
        if mode == "lstm":
            loss += tf.reduce_sum(c * wc)
        xs = [x, h0, c0, params] if mode == "lstm" else [x, h0, params]
        grads = tf.gradients(loss, xs)
        fetches = [output, h] + ([c] if mode == "lstm" else []) + grads
        with tf.Session() as sess:
            first = sess.run(fetches)
            second = sess.run(fetches)  # compiled
    for a, b in zip(first, second):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    return first


def _tf_run(mode, model, values, lengths=None):
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        x, h0, c0, params = (v1.constant(values[k]) for k in ("x", "h0", "c0", "params"))
        seq = None if lengths is None else v1.constant(lengths)
        output, h, c = _tf_reference(v1, mode, model, x, h0, c0, params, seq)
        wo, wh, wc = values["weights"]
        loss = v1.reduce_sum(output * wo) + v1.reduce_sum(h * wh)
        if mode == "lstm":
            loss += v1.reduce_sum(c * wc)
        xs = [x, h0, c0, params] if mode == "lstm" else [x, h0, params]
        grads = v1.gradients(loss, xs)
        fetches = [output, h] + ([c] if mode == "lstm" else []) + grads
        with v1.Session(graph=graph) as sess:
            return sess.run(fetches)


# A few cases run by default; the rest of the table (each compiles its scans and their VJPs) is marked slow.
_FAST = {("lstm", "bidirectional", 2), ("gru", "unidirectional", 1), ("rnn_relu", "unidirectional", 2)}
_CASES = [pytest.param(mode, direction, layers, marks=() if (mode, direction, layers) in _FAST else pytest.mark.slow)
          for mode in ("lstm", "gru", "rnn_tanh", "rnn_relu")
          for direction, layers in (("unidirectional", 1), ("unidirectional", 2), ("bidirectional", 2))]
_V3_FAST = {("lstm", "bidirectional", True), ("gru", "unidirectional", False)}
_V3_CASES = [pytest.param(mode, direction, time_major,
                          marks=() if (mode, direction, time_major) in _V3_FAST else pytest.mark.slow)
             for mode, direction in (("lstm", "bidirectional"), ("gru", "unidirectional"),
                                     ("rnn_relu", "bidirectional"), ("gru", "bidirectional"))
             for time_major in (True, False)]


@pytest.mark.oracle
@pytest.mark.parametrize("mode,direction,layers", _CASES)
def test_forward_and_gradients_match_tf_cells(mode, direction, layers):
    dirs = 2 if direction == "bidirectional" else 1
    model = Model(mode, layers, U, I, dirs)
    values = _case_values(mode, model, np.float64)
    want = _tf_run(mode, model, values)
    version = 1 + (layers + dirs) % 2  # both CudnnRNN and CudnnRNNV2 across the table
    got = _graphcompat_run(mode, direction, model, values, version)
    oracle.assert_same_values(got, want, rtol=1e-5, atol=1e-5, label=f"{mode}/{direction}/{layers}")


@pytest.mark.oracle
@pytest.mark.parametrize("mode,direction,time_major", _V3_CASES)
def test_v3_sequence_lengths_match_tf(mode, direction, time_major):
    """CudnnRNNV3: each entry stops at its length (zeros after it, its last state kept), the backward
    direction starts at its last step: TF's dynamic_rnn with sequence_length and reverse_sequence."""
    dirs = 2 if direction == "bidirectional" else 1
    model = Model(mode, 2, U, I, dirs)
    values = _case_values(mode, model, np.float64)
    lengths = np.array([5, 2, 4], np.int32)
    want = _tf_run(mode, model, values, lengths)
    got = _graphcompat_run(mode, direction, model, values, 3, lengths, time_major)
    oracle.assert_same_values(got, want, rtol=1e-5, atol=1e-5, label=f"v3/{mode}/{direction}")


@pytest.mark.oracle
@pytest.mark.slow
def test_float32_matches_tf_cells():
    model = Model("lstm", 2, U, I, 2)
    values = _case_values("lstm", model, np.float32)
    want = _tf_run("lstm", model, values)
    got = _graphcompat_run("lstm", "bidirectional", model, values, 1)
    oracle.assert_same_values(got, want, rtol=1e-5, atol=1e-5, label="float32")


def test_half_computes_in_float32():
    model = Model("gru", 1, U, I, 1)
    values = _case_values("gru", model, np.float32)
    want = _graphcompat_run("gru", "unidirectional", model, values, 1)
    half = {k: (v.astype(np.float16) if isinstance(v, np.ndarray) else tuple(w.astype(np.float16) for w in v))
            for k, v in values.items()}
    got = _graphcompat_run("gru", "unidirectional", model, half, 1)
    for g, w in zip(got, want):
        assert g.dtype == np.float16
        np.testing.assert_allclose(g.astype(np.float32), w, rtol=2e-2, atol=2e-2)


# --- params size and canonical conversions --------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("direction", ["unidirectional", "bidirectional"])
@pytest.mark.parametrize("layers,units,input_size", [(1, 6, 4), (3, 5, 7), (2, 8, 8)])
def test_params_size_is_the_kernels_formula(mode, direction, layers, units, input_size):
    tf = graphcompat
    dirs = 2 if direction == "bidirectional" else 1
    with tf.Graph().as_default():
        sizes = [cudnn_rnn_ops.cudnn_rnn_params_size(layers, units, input_size, T=tf.float32, S=s, rnn_mode=mode,
                                                     direction=direction) for s in (tf.int32, tf.int64)]
        assert [t.dtype for t in sizes] == [tf.int32, tf.int64] and sizes[0].shape.as_list() == [1]
        with tf.Session() as sess:
            got = sess.run(sizes)
    want = _size(mode, layers, units, input_size, dirs)
    assert got[0].tolist() == [want] and got[1].tolist() == [want] and got[1].dtype == np.int64


@pytest.mark.parametrize("mode,direction", [("lstm", "bidirectional"), ("gru", "unidirectional"),
                                            ("rnn_tanh", "bidirectional")])
def test_canonical_conversions_round_trip(mode, direction):
    """ParamsToCanonical gives [units, width] weights and [units] biases in the buffer's order (layer,
    direction, gate: inputs then recurrent); CanonicalToParams puts them back."""
    tf = graphcompat
    dirs = 2 if direction == "bidirectional" else 1
    model = Model(mode, 2, U, I, dirs)
    buffer = np.arange(model.size, dtype=np.float32)
    n = len(model.regions()[0])
    with tf.Graph().as_default():
        params = tf.constant(buffer)
        weights, biases = cudnn_rnn_ops.cudnn_rnn_params_to_canonical(2, U, I, params, num_params=n, rnn_mode=mode,
                                                                      direction=direction)
        v2 = cudnn_rnn_ops.cudnn_rnn_params_to_canonical_v2(2, U, I, params, num_params_weights=n,
                                                            num_params_biases=n, rnn_mode=mode, direction=direction)
        back = cudnn_rnn_ops.cudnn_rnn_canonical_to_params(2, U, I, weights, biases, rnn_mode=mode,
                                                           direction=direction)
        back2 = cudnn_rnn_ops.cudnn_rnn_canonical_to_params_v2(2, U, I, v2.weights, v2.biases, rnn_mode=mode,
                                                               direction=direction)
        assert all(w.shape.as_list() == [None, None] for w in weights)
        assert all(b.shape.as_list() == [None] for b in biases) and back.shape.as_list() == [None]
        with tf.Session() as sess:
            w, b, flat, flat2 = sess.run([weights, biases, back, back2])
    regions, bias_regions, _ = model.regions()
    for (offset, shape), got in zip(regions, w):
        np.testing.assert_array_equal(got, buffer[offset:offset + shape[0] * shape[1]].reshape(shape))
    assert w[0].shape == (U, I) and w[model.gates].shape == (U, U)
    if model.num_layers > 1:
        assert w[2 * model.gates * dirs].shape == (U, U * dirs)
    for (offset, size), got in zip(bias_regions, b):
        np.testing.assert_array_equal(got, buffer[offset:offset + size])
    np.testing.assert_array_equal(flat, buffer)
    np.testing.assert_array_equal(flat2, buffer)


def test_canonical_count_errors_are_the_kernels():
    tf = graphcompat
    with tf.Graph().as_default():
        params = tf.zeros([_size("lstm", 1, U, I, 1)])
        bad = cudnn_rnn_ops.cudnn_rnn_params_to_canonical(1, U, I, params, num_params=6)
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="C Number of params mismatch. Expected 6, got 8"):
                sess.run(bad.weights[0])


# --- static shapes and build-time errors: TF's shape functions ---------------------------------------------------
def _shapes(tf, op_type, x_shape, h_shape, c_shape, p_shape, **attrs):
    graph = tf.Graph()
    with graph.as_default():
        x, h, c, p = (tf.placeholder(tf.float32, s) for s in (x_shape, h_shape, c_shape, p_shape))
        if op_type == "CudnnRNNV3":
            out = tf.raw_ops.CudnnRNNV3 if tf is not graphcompat else cudnn_rnn_ops.cudnn_rnnv3
            res = out(input=x, input_h=h, input_c=c, params=p, sequence_lengths=tf.placeholder(tf.int32, [None]),
                      **attrs)
        else:
            out = getattr(tf.raw_ops, op_type) if tf is not graphcompat else {
                "CudnnRNN": cudnn_rnn_ops.cudnn_rnn, "CudnnRNNV2": cudnn_rnn_ops.cudnn_rnnv2}[op_type]
            res = out(input=x, input_h=h, input_c=c, params=p, **attrs)
        return [t.shape.as_list() if t.shape.ndims is not None else None for t in res], [t.dtype for t in res], \
            res[0].op.name


_SHAPE_CASES = [
    ("CudnnRNN", [5, 3, 4], [2, 3, 6], [2, 3, 6], [None], {}),
    ("CudnnRNN", [None, None, 4], [2, None, 6], [2, None, 6], [None], {"direction": "bidirectional"}),
    ("CudnnRNNV2", [5, 3, 4], [2, 3, 6], [0], [100], {"rnn_mode": "gru"}),
    ("CudnnRNNV3", [5, 3, 4], [2, 3, 6], [2, 3, 6], [None], {"time_major": False}),
    ("CudnnRNNV3", [5, 3, 4], [2, 3, 6], [2, 3, 6], [None], {"rnn_mode": "rnn_tanh"}),
    ("CudnnRNN", None, None, None, None, {}),
]


@pytest.mark.oracle
@pytest.mark.parametrize("case", _SHAPE_CASES)
def test_static_shapes_and_dtypes_are_tfs(case):
    v1 = oracle.tf1()
    op_type, *shapes, attrs = case
    got = _shapes(graphcompat, op_type, *shapes, **attrs)
    want = _shapes(v1, op_type, *shapes, **attrs)
    assert got[0] == want[0] and [d.name for d in got[1]] == [d.name for d in want[1]] and got[2] == want[2]


_BAD_SHAPES = [
    ("CudnnRNN", [5, 3], [2, 3, 6], [2, 3, 6], [None], "Shape must be rank 3 but is rank 2"),
    ("CudnnRNN", [5, 3, 4], [2, 3], [2, 3, 6], [None], "Shape must be rank 3 but is rank 2"),
    ("CudnnRNNV2", [5, 3, 4], [2, 3, 6], [2, 3, 6], [4, 4], "Shape must be rank 1 but is rank 2"),
    ("CudnnRNNV3", [5, 3, 4], [2, 3, 6], [5], [None], "Shape must be rank 3 but is rank 1"),
]


@pytest.mark.oracle
@pytest.mark.parametrize("case", _BAD_SHAPES)
def test_bad_ranks_raise_tfs_error(case):
    v1 = oracle.tf1()
    op_type, *shapes, text = case
    for lib in (v1, graphcompat):
        with pytest.raises(ValueError, match=text):
            _shapes(lib, op_type, *shapes)


@pytest.mark.oracle
def test_bad_attrs_raise_tfs_error():
    v1 = oracle.tf1()
    for lib in (v1, graphcompat):
        with pytest.raises(ValueError, match="Attr 'rnn_mode' of 'CudnnRNN' Op passed string 'foo' not in: "
                                             '"rnn_relu", "rnn_tanh", "lstm", "gru".'):
            _shapes(lib, "CudnnRNN", [5, 3, 4], [1, 3, 6], [1, 3, 6], [None], rnn_mode="foo")
    with graphcompat.Graph().as_default():
        with pytest.raises(TypeError, match="Value passed to parameter 'input' has DataType int32 not in list"):
            cudnn_rnn_ops.cudnn_rnn(np.zeros([5, 3, 4], np.int32), np.zeros([1, 3, 6], np.int32),
                                    np.zeros([1, 3, 6], np.int32), np.zeros([10], np.int32))


# --- run-time errors: the kernel's checks -------------------------------------------------------------------------
def _run_forward(x_shape, h_shape, c_shape, p_size, **attrs):
    tf = graphcompat
    with tf.Graph().as_default():
        out = cudnn_rnn_ops.cudnn_rnn(tf.zeros(x_shape), tf.zeros(h_shape), tf.zeros(c_shape), tf.zeros([p_size]),
                                      **attrs)
        with tf.Session() as sess:
            return sess.run(out.output)


def test_kernel_checks_raise_tfs_errors():
    size = _size("lstm", 1, U, I, 1)
    with pytest.raises(errors.InvalidArgumentError, match=r"Invalid input_h shape: \[1,4,6\] \[1,3,6\]"):
        _run_forward([T, 3, I], [1, 4, U], [1, 4, U], size)
    with pytest.raises(errors.InvalidArgumentError, match=r"input_h and input_c must have the same shape w/o "
                                                          r"projection: \[1,3,6\] \[1,3,5\]"):
        _run_forward([T, 3, I], [1, 3, U], [1, 3, 5], size)
    with pytest.raises(errors.InvalidArgumentError, match=f"params must be a vector of {size} elements"):
        _run_forward([T, 3, I], [1, 3, U], [1, 3, U], size - 1)
    with pytest.raises(NotImplementedError, match="skip_input"):
        _run_forward([T, 3, U], [1, 3, U], [1, 3, U], _size("lstm", 1, U, U, 1), input_mode="skip_input")


def test_gradient_of_inference_op_is_tfs_error():
    tf = graphcompat
    with tf.Graph().as_default():
        x = tf.zeros([T, B, I])
        out = cudnn_rnn_ops.cudnn_rnn(x, tf.zeros([1, B, U]), tf.zeros([1, B, U]),
                                      tf.zeros([_size("lstm", 1, U, I, 1)]), is_training=False)
        with pytest.raises(ValueError, match="To use CudnnRNN in gradients, is_training must be set to True."):
            tf.gradients(out.output, x)


def test_gradient_records_tfs_backprop_ops():
    tf = graphcompat
    size = _size("gru", 1, U, I, 1)
    for builder, backprop in ((cudnn_rnn_ops.cudnn_rnn, "CudnnRNNBackprop"),
                              (cudnn_rnn_ops.cudnn_rnnv2, "CudnnRNNBackpropV2")):
        graph = tf.Graph()
        with graph.as_default():
            x = tf.zeros([T, B, I])
            out = builder(x, tf.zeros([1, B, U]), tf.constant([], tf.float32), tf.zeros([size]), rnn_mode="gru")
            tf.gradients(out.output, x)
            names = {op.name: op.type for op in graph.get_operations()}
        assert names.get(f"gradients/{out.output.op.name}_grad/{backprop}") == backprop
        assert out.output_c.shape.as_list() == []


def test_dropout_masks_travel_in_reserve_space():
    """Training with dropout: masks between layers from the op's seeds; the gradient uses the forward pass's
    masks (read from reserve_space): it equals the gradient of the same RNN with those masks applied."""
    tf = graphcompat
    model = Model("lstm", 2, U, I, 1)
    values = _case_values("lstm", model, np.float64)
    with tf.Graph().as_default():
        x, h0, c0, params = (tf.constant(values[k]) for k in ("x", "h0", "c0", "params"))
        out = cudnn_rnn_ops.cudnn_rnn(x, h0, c0, params, dropout=0.5, seed=3, seed2=4)
        grads = tf.gradients(tf.reduce_sum(out.output * values["weights"][0]), [x, params])
        with tf.Session() as sess:
            reserve, output, *dgot = sess.run([out.reserve_space, out.output] + grads)
    masks = reserve.reshape(1, T, B, U)
    assert set(np.unique(masks)) <= {0.0, 2.0} and 0 < (masks == 0).sum() < masks.size

    import jax
    import jax.numpy as jnp
    from lowering.rules.cudnn_rnn import forward
    with jax.enable_x64(True):
        def f(x, params):
            return jnp.sum(forward(x, values["h0"], values["c0"], params, model, None, masks)[0] * values["weights"][0])
        want = jax.grad(f, argnums=(0, 1))(values["x"], values["params"])
        np.testing.assert_allclose(output, forward(values["x"], values["h0"], values["c0"], values["params"], model,
                                                   None, masks)[0], rtol=1e-12)
    for g, w in zip(dgot, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)


# --- tf.contrib.cudnn_rnn: layers, compatible cells, checkpoints ------------------------------------------------
def _layer_graph(layer_cls, layers, direction="unidirectional", time_major=True, seed=1):
    tf = graphcompat
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, [None, None, I])
        layer = layer_cls(layers, U, direction=direction)
        outputs, states = layer(x, time_major=time_major)
    return graph, x, layer, outputs, states


def _checkpoint_keys(path: str) -> dict:
    return dict(graphcompat.train.list_variables(path))


def test_layer_builds_tfs_variable_ops_and_checkpoint_names(tmp_path):
    tf = graphcompat
    graph, x, layer, outputs, (h, c) = _layer_graph(tf.contrib.cudnn_rnn.CudnnLSTM, 2)
    with graph.as_default():
        assert [v.name for v in tf.global_variables()] == ["cudnn_lstm/opaque_kernel:0"]
        assert layer.trainable_variables == [layer.kernel] and layer.kernel.shape.ndims is None
        assert outputs.op.type == "CudnnRNN" and outputs.op.name == "cudnn_lstm/CudnnRNN"
        assert outputs.shape.as_list() == [None, None, U] and h.shape.as_list() == [2, None, U]
        assert layer.canonical_weight_shapes == [(U, I)] * 4 + [(U, U)] * 4 + [(U, U)] * 8
        assert layer.canonical_bias_shapes == [[U]] * 16
        saveables = tf.get_collection(tf.GraphKeys.SAVEABLE_OBJECTS)
        assert len(saveables) == 1 and saveables[0].name == "cudnn_lstm/opaque_kernel_saveable"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(layer.kernel).shape == (_size("lstm", 2, U, I, 1),)
            path = tf.train.Saver().save(sess, str(tmp_path / "model"))
    prefix = "cudnn_lstm/rnn/multi_rnn_cell/cell_{}/cudnn_compatible_lstm_cell/"
    assert _checkpoint_keys(path) == {"cudnn_lstm/opaque_kernel": [_size("lstm", 2, U, I, 1)],
                                      prefix.format(0) + "kernel": [I + U, 4 * U], prefix.format(0) + "bias": [4 * U],
                                      prefix.format(1) + "kernel": [2 * U, 4 * U], prefix.format(1) + "bias": [4 * U]}


def test_bidirectional_gru_checkpoint_names(tmp_path):
    tf = graphcompat
    graph, _, layer, _, _ = _layer_graph(tf.contrib.cudnn_rnn.CudnnGRU, 1, "bidirectional")
    with graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "model"))
    keys = _checkpoint_keys(path)
    fw = "cudnn_gru/stack_bidirectional_rnn/cell_0/bidirectional_rnn/fw/cudnn_compatible_gru_cell/"
    bw = fw.replace("/fw/", "/bw/")
    for side in (fw, bw):
        assert keys[side + "gates/kernel"] == [I + U, 2 * U] and keys[side + "gates/bias"] == [2 * U]
        assert keys[side + "candidate/input_projection/kernel"] == [I, U]
        assert keys[side + "candidate/hidden_projection/kernel"] == [U, U]
        assert keys[side + "candidate/input_projection/bias"] == [U]
        assert keys[side + "candidate/hidden_projection/bias"] == [U]


@pytest.mark.parametrize("layer_name,cell_name", [("CudnnLSTM", "CudnnCompatibleLSTMCell"),
                                                  ("CudnnGRU", "CudnnCompatibleGRUCell")])
def test_compatible_cells_load_the_layers_checkpoint(tmp_path, layer_name, cell_name):
    """What a CudnnLSTM / CudnnGRU trained and saved runs on the compatible cells (MultiRNNCell in dynamic_rnn
    under the layer's scope), with the same numbers; and reloads into a new layer."""
    tf = graphcompat
    xv = _RNG.randn(T, B, I).astype(np.float32)
    graph, x, layer, outputs, states = _layer_graph(getattr(tf.contrib.cudnn_rnn, layer_name), 2)
    with graph.as_default():
        train = tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(outputs * outputs))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run(outputs, {x: xv})
            sess.run(train, {x: xv})
            want, want_h = sess.run([outputs, states[0]], {x: xv})
            path = tf.train.Saver().save(sess, str(tmp_path / "model"))
    assert np.abs(before - want).max() > 1e-3  # the training step moved the opaque buffer
    with tf.Graph().as_default():
        xs = tf.placeholder(tf.float32, [T, B, I])
        with tf.variable_scope(layer.name):
            cells = [getattr(tf.contrib.cudnn_rnn, cell_name)(U) for _ in range(2)]
            got, final = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell(cells), xs, dtype=tf.float32, time_major=True)
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, path)
            got, final = sess.run([got, final], {xs: xv})
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    last_h = [s.h if hasattr(s, "h") else s for s in final]
    np.testing.assert_allclose(np.stack(last_h), want_h, rtol=1e-5, atol=1e-5)
    graph, x, _, outputs, _ = _layer_graph(getattr(tf.contrib.cudnn_rnn, layer_name), 2, seed=5)
    with graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.train.Saver().restore(sess, path)
        np.testing.assert_allclose(sess.run(outputs, {x: xv}), want, rtol=1e-5, atol=1e-5)


@pytest.mark.oracle
def test_tf_written_canonical_checkpoint_loads_into_the_layer(tmp_path):
    """A checkpoint of canonical weights written by TF (the names CudnnLSTMSaveable writes, plus a stale
    opaque buffer that the canonical weights override on restore) loads into CudnnLSTM, whose outputs are TF's
    LSTMCell (forget_bias 0) over those weights."""
    v1 = oracle.tf1()
    xv = _RNG.randn(T, B, I).astype(np.float32)
    graph = v1.Graph()
    prefix = "cudnn_lstm/rnn/multi_rnn_cell/cell_{}/cudnn_compatible_lstm_cell/"
    with graph.as_default():
        kernels = [v1.get_variable(prefix.format(i) + "kernel", initializer=(_RNG.randn(w + U, 4 * U) * 0.3)
                                   .astype(np.float32)) for i, w in enumerate((I, U))]
        biases = [v1.get_variable(prefix.format(i) + "bias", initializer=(_RNG.randn(4 * U) * 0.3).astype(np.float32))
                  for i in range(2)]
        v1.get_variable("cudnn_lstm/opaque_kernel", initializer=np.full([_size("lstm", 2, U, I, 1)], 9.0, np.float32))
        tensors = {prefix.format(i) + name: t for i in range(2) for name, t in (("kernel", kernels[i]),
                                                                              ("bias", biases[i]))}

        def getter(*args, **kwargs):
            name = kwargs["name"] if "name" in kwargs else args[1]
            layer = int(name.split("/cell_")[1][0])
            return tensors[prefix.format(layer) + ("kernel" if name.endswith("kernel") else "bias")]
        with v1.variable_scope("reference", custom_getter=getter):
            cells = [v1.nn.rnn_cell.LSTMCell(U, forget_bias=0.0) for _ in range(2)]
            want, _ = v1.nn.dynamic_rnn(v1.nn.rnn_cell.MultiRNNCell(cells), v1.constant(xv), dtype=v1.float32,
                                        time_major=True)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            want = sess.run(want)
            path = v1.train.Saver().save(sess, str(tmp_path / "tf_model"))
    tf = graphcompat
    graph, x, _, outputs, _ = _layer_graph(tf.contrib.cudnn_rnn.CudnnLSTM, 2)
    with graph.as_default(), tf.Session() as sess:
        tf.train.Saver().restore(sess, path)
        np.testing.assert_allclose(sess.run(outputs, {x: xv}), want, rtol=1e-5, atol=1e-5)


def test_batch_major_layer_uses_v3():
    """time_major=False runs CudnnRNNV3 with Fill'ed lengths; states are batch-major too. (TF's layer sizes its
    zero state from the input's dimension 1 whatever the layout, so without an initial state the kernel
    refuses it: TF's error.)"""
    tf = graphcompat
    xv = _RNG.randn(B, T, I).astype(np.float32)
    graph, x, layer, outputs, states = _layer_graph(tf.contrib.cudnn_rnn.CudnnRNNTanh, 1, time_major=False)
    with graph.as_default():
        assert outputs.op.type == "CudnnRNNV3" and not outputs.op.get_attr("time_major")
        assert [i.op.type for i in outputs.op.inputs][4] == "Fill"
        batch_major, _ = layer(x, initial_state=(tf.zeros([B, 1, U]),), time_major=False)
        time_major, _ = layer(tf.transpose(x, [1, 0, 2]))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got, want = sess.run([batch_major, time_major], {x: xv})
            with pytest.raises(errors.InvalidArgumentError, match=r"Invalid input_h shape: \[1,5,6\] \[3,5,6\]"):
                sess.run(outputs, {x: xv})
    np.testing.assert_allclose(got, np.transpose(want, [1, 0, 2]), rtol=1e-6, atol=1e-6)


def test_functional_helpers():
    tf = graphcompat
    ops = tf.contrib.cudnn_rnn.cudnn_rnn_ops
    with tf.Graph().as_default():
        size = ops.cudnn_rnn_opaque_params_size("gru", 2, U, I, direction="bidirectional")
        assert size.dtype == tf.int32 and size.shape.ndims == 0
        model = ops.CudnnGRU(2, U, I, direction="bidirectional")
        params = tf.random_normal([_size("gru", 2, U, I, 2)])
        weights, biases = model.params_to_canonical(params)
        back = model.canonical_to_params(weights, biases)
        out, h = model(tf.zeros([T, B, I]), tf.zeros([4, B, U]), params)
        with tf.Session() as sess:
            n, p, b, (o, hv) = sess.run([size, params, back, (out, h)])
    assert n == _size("gru", 2, U, I, 2)
    np.testing.assert_array_equal(p, b)
    assert o.shape == (T, B, 2 * U) and hv.shape == (4, B, U)
    with pytest.raises(ValueError, match="Invalid direction: sideways"):
        ops.cudnn_rnn_opaque_params_size("gru", 1, U, I, direction="sideways")
    with pytest.raises(NotImplementedError, match="num_proj"):
        ops.CudnnLSTM(1, U, I, num_proj=3)


@pytest.mark.oracle
def test_graph_def_tf_wrote_runs():
    """TF builds (without running: no CPU kernel) a CudnnRNNV2 GRU and its gradient, which TF's registry
    records as CudnnRNNBackpropV2; the GraphDef imports and runs in graphcompat with the numbers of
    graphcompat's own graph."""
    v1 = oracle.tf1()
    model = Model("gru", 2, U, I, 2)
    values = _case_values("gru", model, np.float32)

    def build(tf, raw):
        x, h0, params = (tf.constant(values[k], name=k) for k in ("x", "h0", "params"))
        out = raw(input=x, input_h=h0, input_c=tf.constant([], tf.float32), params=params, rnn_mode="gru",
                  direction="bidirectional")
        loss = tf.reduce_sum(out[0] * values["weights"][0])
        return [out[0], out[1]] + tf.gradients(loss, [x, h0, params])

    graph = v1.Graph()
    with graph.as_default():
        fetches = build(v1, v1.raw_ops.CudnnRNNV2)
        assert "CudnnRNNBackpropV2" in {op.type for op in graph.get_operations()}
        graph_def = graph.as_graph_def()
        names = [t.name for t in fetches]
    tf = graphcompat
    with tf.Graph().as_default():
        imported = tf.import_graph_def(graph_def, return_elements=names, name="")
        with tf.Session() as sess:
            got = sess.run(imported)
    with tf.Graph().as_default():
        want_fetches = build(tf, cudnn_rnn_ops.cudnn_rnnv2)
        with tf.Session() as sess:
            want = sess.run(want_fetches)
    oracle.assert_same_values(got, want, rtol=1e-6, atol=1e-6, label="imported")


@pytest.mark.oracle
def test_conversion_ops_static_shapes_names_and_errors_are_tfs():
    v1 = oracle.tf1()

    def build(tf, gen):
        p = tf.placeholder(tf.float32, [None])
        size = gen["size"](num_layers=2, num_units=U, input_size=I, T=tf.float32, S=tf.int64)
        weights, biases = gen["to_canonical"](num_layers=2, num_units=U, input_size=I, params=p, num_params=8)
        back = gen["to_params"](num_layers=2, num_units=U, input_size=I, weights=weights, biases=biases)
        return [(t.name, t.dtype.name, t.shape.as_list()) for t in [size] + list(weights) + list(biases) + [back]]

    ours = {"size": cudnn_rnn_ops.cudnn_rnn_params_size, "to_canonical": cudnn_rnn_ops.cudnn_rnn_params_to_canonical,
            "to_params": cudnn_rnn_ops.cudnn_rnn_canonical_to_params}
    tfs = {"size": v1.raw_ops.CudnnRNNParamsSize, "to_canonical": v1.raw_ops.CudnnRNNParamsToCanonical,
           "to_params": v1.raw_ops.CudnnRNNCanonicalToParams}
    with graphcompat.Graph().as_default():
        got = build(graphcompat, ours)
    with v1.Graph().as_default():
        want = build(v1, tfs)
    assert got == want
    for lib, gen in ((v1, tfs), (graphcompat, ours)):
        with lib.Graph().as_default():
            with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
                gen["size"](num_layers=[2], num_units=U, input_size=I, T=lib.float32, S=lib.int32)
            with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
                gen["to_canonical"](num_layers=2, num_units=U, input_size=I, params=lib.zeros([2, 2]), num_params=8)


def test_adam_slots_of_the_opaque_buffer():
    """The opaque variable's shape is unknown: slot_creator gives its Adam slots zeros shaped like its value."""
    tf = graphcompat
    graph, x, layer, outputs, _ = _layer_graph(tf.contrib.cudnn_rnn.CudnnGRU, 1)
    with graph.as_default():
        optimizer = tf.train.AdamOptimizer(0.01)
        loss = tf.reduce_mean(outputs * outputs)
        train = optimizer.minimize(loss)
        m = optimizer.get_slot(layer.kernel, "m")
        assert m.name == "cudnn_gru/opaque_kernel/Adam:0" and m.shape.ndims is None
        xv = _RNG.randn(T, B, I).astype(np.float32)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            first = sess.run(loss, {x: xv})
            for _ in range(3):
                sess.run(train, {x: xv})
            assert sess.run(m).shape == (_size("gru", 1, U, I, 1),)
            assert sess.run(loss, {x: xv}) < first
