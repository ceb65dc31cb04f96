"""TF's fused RNN kernels (graphcompat/ops/rnn_ops.py, lowering/rules/rnn.py) against real TensorFlow.

Each snippet is built with graphcompat's builders and with `tf.raw_ops` (same keyword arguments) and compared
on values (op by op, then compiled), dtypes and static shapes: forward outputs over a table of configurations
(peepholes, cell clip, forget bias, seq_len_max, float32 / float16), gradients of a loss through each op (TF's
registered ones: BlockLSTMGrad for BlockLSTM and BlockLSTMV2; for LSTMBlockCell and GRUBlockCell, which TF 2
no longer registers, tf.contrib.rnn's functions are registered in TF below), a cell in a differentiated while
loop, GraphDefs round-tripping both ways, and TF's errors for bad shapes and types.
"""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat
from graphcompat.ops import rnn_ops
from tests import _op_oracle, oracle

pytestmark = pytest.mark.oracle
B, I, C, T = 3, 4, 5, 6
_RNG = np.random.RandomState(11)


def _values(dtype=np.float32, scale=1.0) -> dict:
    rng = _RNG
    return {"x": rng.randn(B, I), "cs_prev": rng.randn(B, C) * scale, "h_prev": rng.randn(B, C) * 0.5,
            "w": rng.randn(I + C, 4 * C) * 0.4, "wci": rng.randn(C) * 0.5, "wcf": rng.randn(C) * 0.5,
            "wco": rng.randn(C) * 0.5, "b": rng.randn(4 * C) * 0.3, "xs": rng.randn(T, B, I),
            "w_ru": rng.randn(I + C, 2 * C) * 0.4, "w_c": rng.randn(I + C, C) * 0.4, "b_ru": rng.randn(2 * C) * 0.3,
            "b_c": rng.randn(C) * 0.3, "dtype": dtype}


VALUES = _values()
LSTM_INPUTS = ("x", "cs_prev", "h_prev", "w", "wci", "wcf", "wco", "b")
GRU_INPUTS = ("x", "h_prev", "w_ru", "w_c", "b_ru", "b_c")
_BUILDERS = {"LSTMBlockCell": rnn_ops.lstm_block_cell, "BlockLSTM": rnn_ops.block_lstm,
             "BlockLSTMV2": rnn_ops.block_lstmv2, "GRUBlockCell": rnn_ops.gru_block_cell,
             "LSTMBlockCellGrad": rnn_ops.lstm_block_cell_grad, "BlockLSTMGrad": rnn_ops.block_lstm_grad,
             "BlockLSTMGradV2": rnn_ops.block_lstm_grad_v2, "GRUBlockCellGrad": rnn_ops.gru_block_cell_grad}


def raw(tf, op_type: str):
    """`tf.raw_ops.<op_type>` under TF, graphcompat's builder of the same keyword arguments; positional inputs
    are passed by their OpDef names (raw ops take keywords only)."""
    fn = _BUILDERS[op_type] if tf is graphcompat else getattr(tf.raw_ops, op_type)
    names = [arg.name for arg in graphcompat.framework.registry.get_op_def(op_type).inputs]

    def call(*args, **kwargs):
        return fn(**dict(zip(names, args)), **kwargs)
    return call


_TF_GRADIENTS = []


def _register_contrib_gradients(v1) -> None:
    """tf.contrib.rnn's gradients of LSTMBlockCell and GRUBlockCell (TF 2 dropped them with contrib), in TF."""
    if _TF_GRADIENTS:
        return
    from tensorflow.python.ops import array_ops, gen_rnn_ops, math_ops, nn_ops

    def lstm_block_cell_grad(op, *grads):
        x, cs_prev, h_prev, w, wci, wcf, wco, b = op.inputs
        i, cs, f, o, ci, co, _ = op.outputs
        batch, input_size, cell = x.shape[0] if x.shape[0] is not None else -1, x.shape[1], cs_prev.shape[1]
        cs_prev_grad, dicfo, wci_grad, wcf_grad, wco_grad = gen_rnn_ops.lstm_block_cell_grad(
            x=x, cs_prev=cs_prev, h_prev=h_prev, w=w, wci=wci, wcf=wcf, wco=wco, b=b, i=i, cs=cs, f=f, o=o, ci=ci,
            co=co, cs_grad=grads[1], h_grad=grads[6], use_peephole=op.get_attr("use_peephole"))
        xh_grad = math_ops.matmul(dicfo, w, transpose_b=True)
        return (array_ops.slice(xh_grad, (0, 0), (batch, input_size)), cs_prev_grad,
                array_ops.slice(xh_grad, (0, input_size), (batch, cell)),
                math_ops.matmul(array_ops.concat([x, h_prev], 1), dicfo, transpose_a=True), wci_grad, wcf_grad,
                wco_grad, nn_ops.bias_add_grad(dicfo))

    def gru_block_cell_grad(op, *grads):
        x, h_prev, w_ru, w_c, b_ru, b_c = op.inputs
        r, u, c, _ = op.outputs
        d_x, d_h_prev, d_c_bar, d_r_bar_u_bar = gen_rnn_ops.gru_block_cell_grad(
            x=x, h_prev=h_prev, w_ru=w_ru, w_c=w_c, b_ru=b_ru, b_c=b_c, r=r, u=u, c=c, d_h=grads[3])
        d_w_ru = math_ops.matmul(array_ops.concat([x, h_prev], 1), d_r_bar_u_bar, transpose_a=True)
        d_w_c = math_ops.matmul(array_ops.concat([x, h_prev * r], 1), d_c_bar, transpose_a=True)
        return (d_x, d_h_prev, d_w_ru, d_w_c, nn_ops.bias_add_grad(d_r_bar_u_bar), nn_ops.bias_add_grad(d_c_bar))

    for op_type, fn in (("LSTMBlockCell", lstm_block_cell_grad), ("GRUBlockCell", gru_block_cell_grad)):
        try:
            v1.RegisterGradient(op_type)(fn)
        except KeyError:  # registered by an earlier import of this module
            pass
    _TF_GRADIENTS.append(True)


@pytest.fixture(autouse=True, scope="module")
def _unregister_contrib_gradients():
    """Leaves TF's gradient registry as TF 2.21 has it once this module is done (tools/gen_op_types.py,
    which tests/test_registry.py runs, reads which op types have no gradient from it)."""
    yield
    if _TF_GRADIENTS:
        from tensorflow.python.framework import ops as tf_ops
        for op_type in ("LSTMBlockCell", "GRUBlockCell"):
            tf_ops._gradient_registry._registry.pop(op_type, None)
        _TF_GRADIENTS.clear()


def _placeholders(tf, names, values) -> dict:
    dtype = tf.as_dtype(values["dtype"])
    return {n: tf.placeholder(dtype, np.shape(values[n]), name=n) for n in names}


def _feed(names, values):
    def feed(tf, graph):
        return {graph.get_tensor_by_name(f"{n}:0"): np.asarray(values[n], values["dtype"]) for n in names}
    return feed


def _lstm_args(tf, values, sequence: bool, seq_len_max=None) -> tuple:
    ph = _placeholders(tf, LSTM_INPUTS if not sequence else ("xs",) + LSTM_INPUTS[1:], values)
    args = {n: ph[n] for n in LSTM_INPUTS[1:]}
    if sequence:
        args["x"] = ph["xs"]
        args["seq_len_max"] = tf.constant(np.int64(seq_len_max))
    else:
        args["x"] = ph["x"]
    return ph, args


# --- forward values ---------------------------------------------------------------------------------------------
# (forget_bias, cell_clip, use_peephole, dtype, tolerance); cs_prev scaled so that the clip bites.
CELL_CASES = [(1.0, 3.0, False, np.float32, 1e-5), (0.3, 0.5, False, np.float32, 1e-5),
              (1.0, 0.5, True, np.float32, 1e-5), (0.0, -1.0, True, np.float32, 1e-5),
              (1.0, 3.0, False, np.float16, 1e-2), (0.5, 0.7, True, np.float16, 1e-2)]


@pytest.mark.parametrize("forget_bias,cell_clip,use_peephole,dtype,tol", CELL_CASES)
def test_lstm_block_cell(forget_bias, cell_clip, use_peephole, dtype, tol):
    values = dict(VALUES, dtype=dtype, cs_prev=VALUES["cs_prev"] * 2)

    def build(tf):
        _, args = _lstm_args(tf, values, sequence=False)
        return list(raw(tf, "LSTMBlockCell")(**args, forget_bias=forget_bias, cell_clip=cell_clip,
                                             use_peephole=use_peephole))
    _op_oracle.compare(build, _feed(LSTM_INPUTS, values), tol=tol, runs=2)


# (op type, seq_len_max, cell_clip, use_peephole, dtype, tolerance)
BLOCK_CASES = [("BlockLSTM", T, 3.0, False, np.float32, 1e-5), ("BlockLSTM", 4, 0.6, True, np.float32, 1e-5),
               ("BlockLSTM", 0, 3.0, True, np.float32, 1e-5), ("BlockLSTMV2", T, 0.0, False, np.float32, 1e-5),
               ("BlockLSTMV2", 2, 0.6, True, np.float32, 1e-5), ("BlockLSTM", 5, 3.0, True, np.float16, 1e-2),
               ("BlockLSTMV2", T, 0.0, True, np.float16, 1e-2)]


@pytest.mark.parametrize("op_type,seq_len_max,cell_clip,use_peephole,dtype,tol", BLOCK_CASES)
def test_block_lstm(op_type, seq_len_max, cell_clip, use_peephole, dtype, tol):
    values = dict(VALUES, dtype=dtype)
    attrs = {"cell_clip": cell_clip, "use_peephole": use_peephole}
    if op_type == "BlockLSTM":
        attrs["forget_bias"] = 0.8

    def build(tf):
        _, args = _lstm_args(tf, values, sequence=True, seq_len_max=seq_len_max)
        i, cs, f, o, ci, co, h = raw(tf, op_type)(**args, **attrs)
        # past seq_len_max TF's kernel zeroes cs and h and leaves the gates' buffers uninitialized
        return [cs, h] + [g[:seq_len_max] for g in (i, f, o, ci, co)]
    _op_oracle.compare(build, _feed(("xs",) + LSTM_INPUTS[1:], values), tol=tol, runs=2)


def test_gru_block_cell():
    def build(tf):
        ph = _placeholders(tf, GRU_INPUTS, VALUES)
        return list(raw(tf, "GRUBlockCell")(**ph))
    _op_oracle.compare(build, _feed(GRU_INPUTS, VALUES), tol=1e-5, runs=2)


@pytest.mark.parametrize("op_type", sorted(_BUILDERS))
def test_op_defs_are_tf(op_type):
    """Argument names and types, attr defaults and type constraints, as TF's OpDef."""
    from tensorflow.python.framework import op_def_registry
    oracle.tf1()
    tf_def = op_def_registry.get(op_type)
    ours = graphcompat.framework.registry.get_op_def(op_type)
    assert [(a.name, a.type_attr or None) for a in ours.inputs] == \
        [(a.name, a.type_attr or None) for a in tf_def.input_arg]
    assert [a.name for a in ours.outputs] == [a.name for a in tf_def.output_arg]
    int64_inputs = [a.name for a in tf_def.input_arg if not a.type_attr]
    assert [a.name for a in ours.inputs if a.fixed_dtype is not None] == int64_inputs
    defaults = {a.name: getattr(a.default_value, a.default_value.WhichOneof("value"))
                for a in tf_def.attr if a.HasField("default_value")}
    assert ours.attrs == defaults
    allowed = [a for a in tf_def.attr if a.name == "T"][0].allowed_values.list.type
    assert [t.as_datatype_enum for t in ours.types["T"]] == list(allowed)


def test_static_shapes_and_attrs():
    with graphcompat.Graph().as_default() as g:
        x = graphcompat.placeholder(graphcompat.float32, [None, I])
        cs = graphcompat.placeholder(graphcompat.float32, [None, C])
        w = graphcompat.zeros([I + C, 4 * C])
        vec = graphcompat.zeros([C])
        cell = rnn_ops.lstm_block_cell(x, cs, cs, w, vec, vec, vec, graphcompat.zeros([4 * C]))
        assert [t.shape.as_list() for t in cell] == [[None, C]] * 7
        op = cell.h.op
        assert (op.type, op.name, op.get_attr("forget_bias"), op.get_attr("cell_clip"),
                op.get_attr("use_peephole")) == ("LSTMBlockCell", "LSTMBlockCell", 1.0, 3.0, False)
        xs = graphcompat.placeholder(graphcompat.float32, [None, 2, I])
        block = rnn_ops.block_lstmv2(np.int64(3), xs, cs, cs, w, vec, vec, vec, graphcompat.zeros([4 * C]))
        assert [t.shape.as_list() for t in block] == [[None, 2, C]] * 7
        assert block.h.op.get_attr("cell_clip") == 0.0 and "forget_bias" not in block.h.op.node_def.attr
        assert g.get_operation_by_name("BlockLSTMV2").inputs[0].dtype == graphcompat.int64


# --- gradients ----------------------------------------------------------------------------------------------------
def _loss(tf, outputs):
    """Every output weighted differently: TF's gradient kernels read only cs's and h's gradients."""
    return tf.add_n([tf.reduce_sum(out * (k + 1.5)) for k, out in enumerate(outputs)])


@pytest.mark.parametrize("cell_clip,use_peephole,dtype,tol", [(0.5, False, np.float32, 1e-4),
                                                              (0.7, True, np.float32, 1e-4),
                                                              (3.0, True, np.float16, 3e-2)])
def test_lstm_block_cell_gradients(cell_clip, use_peephole, dtype, tol):
    values = dict(VALUES, dtype=dtype, cs_prev=VALUES["cs_prev"] * 2)
    _register_contrib_gradients(oracle.tf1())

    def build(tf):
        ph, args = _lstm_args(tf, values, sequence=False)
        out = raw(tf, "LSTMBlockCell")(**args, forget_bias=0.5, cell_clip=cell_clip, use_peephole=use_peephole)
        return tf.gradients(_loss(tf, out), [ph[n] for n in LSTM_INPUTS])
    _op_oracle.compare(build, _feed(LSTM_INPUTS, values), tol=tol, runs=2)


def test_lstm_block_cell_gradient_records_tf_ops():
    """tf.gradients records contrib's gradient: the Grad kernel, matmuls, slices, a concat and BiasAddGrad."""
    with graphcompat.Graph().as_default() as g:
        _, args = _lstm_args(graphcompat, VALUES, sequence=False)
        out = rnn_ops.lstm_block_cell(**args)
        graphcompat.gradients(out.h, [args["w"]])
        types = [op.type for op in g.get_operations() if op.name.startswith("gradients/LSTMBlockCell_grad/")]
    for op_type in ("LSTMBlockCellGrad", "MatMul", "Slice", "ConcatV2", "BiasAddGrad"):
        assert op_type in types, (op_type, types)


@pytest.mark.parametrize("op_type,seq_len_max,use_peephole,dtype,tol", [
    ("BlockLSTM", T, True, np.float32, 1e-4), ("BlockLSTM", 3, False, np.float32, 1e-4),
    ("BlockLSTMV2", T, True, np.float32, 1e-4), ("BlockLSTMV2", 4, False, np.float32, 1e-4),
    ("BlockLSTM", 0, True, np.float32, 1e-4), ("BlockLSTM", 5, True, np.float16, 3e-2)])
def test_block_lstm_gradients(op_type, seq_len_max, use_peephole, dtype, tol):
    """TF registers BlockLSTMGrad for BlockLSTMV2 as well (BlockLSTM's gate order): the same numbers here."""
    values = dict(VALUES, dtype=dtype)

    def build(tf):
        ph, args = _lstm_args(tf, values, sequence=True, seq_len_max=seq_len_max)
        out = raw(tf, op_type)(**args, cell_clip=0.8, use_peephole=use_peephole)
        return tf.gradients(_loss(tf, out), [ph[n] for n in ("xs",) + LSTM_INPUTS[1:]])
    _op_oracle.compare(build, _feed(("xs",) + LSTM_INPUTS[1:], values), tol=tol, runs=2)
    with graphcompat.Graph().as_default() as g:
        build(graphcompat)
        assert "BlockLSTMGrad" in [op.type for op in g.get_operations()]


def test_block_lstm_empty_sequence():
    """No time steps: empty outputs, zero gradients for the weights and the initial state."""
    def build(tf):
        ph = {n: tf.constant(np.asarray(VALUES[n], np.float32)) for n in LSTM_INPUTS[1:]}
        x = tf.constant(np.zeros((0, B, I), np.float32))
        out = raw(tf, "BlockLSTM")(tf.constant(np.int64(0)), x, **ph)
        loss = tf.reduce_sum(out.h) + tf.reduce_sum(out.cs)
        return [out.h, out.cs] + tf.gradients(loss, [x, ph["w"], ph["cs_prev"], ph["b"]])
    _op_oracle.compare(build, runs=2)


def test_gru_block_cell_gradients():
    _register_contrib_gradients(oracle.tf1())

    def build(tf):
        ph = _placeholders(tf, GRU_INPUTS, VALUES)
        return tf.gradients(_loss(tf, raw(tf, "GRUBlockCell")(**ph)), [ph[n] for n in GRU_INPUTS])
    _op_oracle.compare(build, _feed(GRU_INPUTS, VALUES), tol=1e-4, runs=2)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_cell_in_differentiated_while_loop(kind):
    """A cell in a while loop's body (dynamic_rnn's shape) is differentiated by the loop's VJP: the cell rule's
    custom VJP is TF's gradient, so a clipped cell state gives TF's (not the exact) derivative."""
    _register_contrib_gradients(oracle.tf1())
    names = ("xs", "cs_prev", "h_prev", "w", "wci", "wcf", "wco", "b") if kind == "lstm" else \
        ("xs", "h_prev", "w_ru", "w_c", "b_ru", "b_c")

    def build(tf):
        ph = _placeholders(tf, names, VALUES)

        def body(t, cs, h):
            x = ph["xs"][t]
            if kind == "lstm":
                out = raw(tf, "LSTMBlockCell")(x, cs, h, ph["w"], ph["wci"], ph["wcf"], ph["wco"], ph["b"],
                                               cell_clip=0.6, use_peephole=True)
                return t + 1, out.cs, out.h
            out = raw(tf, "GRUBlockCell")(x, h, ph["w_ru"], ph["w_c"], ph["b_ru"], ph["b_c"])
            return t + 1, cs, out.h
        cs0 = ph["cs_prev"] if kind == "lstm" else tf.zeros([B, C])
        _, cs, h = tf.while_loop(lambda t, cs, h: t < T, body, [tf.constant(0), cs0, ph["h_prev"]])
        loss = tf.reduce_sum(h * h) + tf.reduce_sum(cs)
        return [loss] + tf.gradients(loss, [ph[n] for n in names])
    _op_oracle.compare(build, _feed(names, VALUES), tol=1e-4, runs=2)


# --- GraphDefs both ways --------------------------------------------------------------------------------------
def test_tf_graph_def_imports():
    """A graph TF built (cells, a BlockLSTM with its BlockLSTMGrad, explicit Grad kernels) imports and runs."""
    v1 = oracle.tf1()
    feed_names = ("xs",) + LSTM_INPUTS + ("w_ru", "w_c", "b_ru", "b_c")
    graph = v1.Graph()
    with graph.as_default():
        ph = _placeholders(v1, feed_names, VALUES)
        cell = v1.raw_ops.LSTMBlockCell(**{n: ph[n] for n in LSTM_INPUTS}, cell_clip=0.5, use_peephole=True)
        cell_grad = v1.raw_ops.LSTMBlockCellGrad(**{n: ph[n] for n in LSTM_INPUTS}, i=cell.i, cs=cell.cs, f=cell.f,
                                                 o=cell.o, ci=cell.ci, co=cell.co, cs_grad=cell.h, h_grad=cell.cs,
                                                 use_peephole=True)
        gru = v1.raw_ops.GRUBlockCell(**{n: ph[n] for n in GRU_INPUTS})
        gru_grad = v1.raw_ops.GRUBlockCellGrad(**{n: ph[n] for n in GRU_INPUTS}, r=gru.r, u=gru.u, c=gru.c,
                                               d_h=gru.h)
        args = {n: ph[n] for n in LSTM_INPUTS[1:]}
        block = v1.raw_ops.BlockLSTM(seq_len_max=v1.constant(np.int64(4)), x=ph["xs"], **args, use_peephole=True)
        block_v2 = v1.raw_ops.BlockLSTMV2(seq_len_max=v1.constant(np.int64(T)), x=ph["xs"], **args)
        loss = v1.reduce_sum(block.h) + v1.reduce_sum(block_v2.cs * block_v2.h)
        grads = v1.gradients(loss, [ph["xs"], ph["w"], ph["b"], ph["wci"], ph["cs_prev"]])
        fetches = [cell.h, cell.cs, *cell_grad, *gru, *gru_grad, block.h, block.cs, block_v2.h, *grads]
        names = [t.name for t in fetches]
        assert {"BlockLSTMGrad"} <= {op.type for op in graph.get_operations()}
        feed = {f"{n}:0": np.asarray(VALUES[n], np.float32) for n in feed_names}
        with v1.Session(graph=graph) as sess:
            want = sess.run(names, feed)
    with graphcompat.Graph().as_default() as g:
        graphcompat.import_graph_def(graph.as_graph_def(), name="")
        with graphcompat.Session(graph=g) as sess:
            for _ in range(2):
                got = sess.run(names, feed)
                for name, a, b in zip(names, got, want):
                    _op_oracle.assert_close(a, b, 1e-4, name)


def test_tf1_training_graph_with_block_cell_in_a_while_loop_imports():
    """The graph a TF 1.x model saved: dynamic_rnn over an LSTMBlockCell (TF 1 control flow: Enter/Exit loops),
    trained with contrib's gradient, whose backward loop pops the forward values off stacks into
    LSTMBlockCellGrad. Imported and trained for three steps, it gives TF's losses."""
    v1 = oracle.tf1()
    _register_contrib_gradients(v1)

    class Cell(v1.nn.rnn_cell.RNNCell):
        state_size = v1.nn.rnn_cell.LSTMStateTuple(C, C)
        output_size = C

        def build(self, _):
            self.w = self.add_weight("kernel", [I + C, 4 * C], initializer=v1.constant_initializer(VALUES["w"]))
            self.b = self.add_weight("bias", [4 * C], initializer=v1.constant_initializer(VALUES["b"]))
            self.built = True

        def call(self, inputs, state):
            zeros = v1.zeros([C])
            out = v1.raw_ops.LSTMBlockCell(x=inputs, cs_prev=state[0], h_prev=state[1], w=self.w, wci=zeros,
                                           wcf=zeros, wco=zeros, b=self.b, cell_clip=0.5)
            return out.h, v1.nn.rnn_cell.LSTMStateTuple(out.cs, out.h)

    graph = v1.Graph()
    with oracle.control_flow_v2(False), graph.as_default():
        x = v1.placeholder(v1.float32, [None, T, I], name="x")
        outputs, state = v1.nn.dynamic_rnn(Cell(), x, dtype=v1.float32)
        loss = v1.reduce_sum(state.h * state.h) + v1.reduce_sum(outputs)
        train = v1.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = v1.global_variables_initializer()
        assert {"Enter", "StackPushV2", "LSTMBlockCellGrad"} <= {op.type for op in graph.get_operations()}
        feed = {"x:0": np.asarray(VALUES["xs"], np.float32).transpose(1, 0, 2)}
        with v1.Session(graph=graph) as sess:
            sess.run(init)
            want = [sess.run([loss.name, train.name], feed)[0] for _ in range(3)]
    with graphcompat.Graph().as_default() as g:
        graphcompat.import_graph_def(graph.as_graph_def(), name="")
        with graphcompat.Session(graph=g) as sess:
            sess.run(init.name)
            got = [sess.run([loss.name, train.name], feed)[0] for _ in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_graph_def_exports_to_tf():
    """graphcompat's GraphDef of these ops (forward kernels and Grad kernels) runs in TF with the same values."""
    v1 = oracle.tf1()
    feed_names = ("xs",) + LSTM_INPUTS + ("w_ru", "w_c", "b_ru", "b_c")
    with graphcompat.Graph().as_default() as g:
        ph = _placeholders(graphcompat, feed_names, VALUES)
        cell = rnn_ops.lstm_block_cell(**{n: ph[n] for n in LSTM_INPUTS}, forget_bias=0.25, cell_clip=0.5)
        gru = rnn_ops.gru_block_cell(**{n: ph[n] for n in GRU_INPUTS})
        args = {n: ph[n] for n in LSTM_INPUTS[1:]}
        block = rnn_ops.block_lstm(np.int64(5), ph["xs"], **args, use_peephole=True)
        grad = rnn_ops.block_lstm_grad(np.int64(5), ph["xs"], **args, i=block.i, cs=block.cs, f=block.f, o=block.o,
                                       ci=block.ci, co=block.co, h=block.h, cs_grad=block.h, h_grad=block.cs,
                                       use_peephole=True)
        block_v2 = rnn_ops.block_lstmv2(np.int64(T), ph["xs"], **args, cell_clip=0.4)
        fetches = [cell.h, cell.cs, gru.h, block.h, block.cs, block_v2.h, *grad]
        names = [t.name for t in fetches]
        feed = {f"{n}:0": np.asarray(VALUES[n], np.float32) for n in feed_names}
        with graphcompat.Session(graph=g) as sess:
            got = sess.run(names, feed)
        graph_def = g.as_graph_def()
    tf_graph = v1.Graph()
    with tf_graph.as_default():
        v1.import_graph_def(v1.GraphDef.FromString(graph_def.SerializeToString()), name="")
        with v1.Session(graph=tf_graph) as sess:
            want = sess.run(names, feed)
    for name, a, b in zip(names, got, want):
        _op_oracle.assert_close(a, b, 1e-4, name)


# --- bad input: TF's errors ----------------------------------------------------------------------------------
def _bad_cell(tf, **override):
    values = dict({n: np.asarray(VALUES[n], np.float32) for n in LSTM_INPUTS}, **override)
    return list(raw(tf, "LSTMBlockCell")(**{n: tf.constant(v) for n, v in values.items()}))


def _fed(op_type: str, names, shapes: dict, extra=None):
    """A snippet whose inputs are placeholders of unknown shape, fed `shapes` (the kernel's checks run)."""
    def build(tf):
        ph = {n: tf.placeholder(tf.float32, None, name=n) for n in names}
        args = dict(ph)
        if "xs" in args:
            args["x"] = args.pop("xs")
        args.update(extra(tf) if extra else {})
        return list(raw(tf, op_type)(**args))

    def feed(tf, graph):
        return {graph.get_tensor_by_name(f"{n}:0"): np.ones(shapes.get(n, np.shape(VALUES[n])), np.float32)
                for n in names}
    return build, feed


def _ones(tf, names) -> list:
    return [tf.constant(np.ones(np.shape(VALUES[n]), np.float32)) for n in names]


BUILD_ERRORS = [
    ("cell_x_rank", lambda tf: _bad_cell(tf, x=np.ones((1, B, I), np.float32))),
    ("cell_cs_rank", lambda tf: _bad_cell(tf, cs_prev=np.ones(C, np.float32))),
    ("cell_int32", lambda tf: _bad_cell(tf, x=np.ones((B, I), np.int32))),
    ("cell_mixed", lambda tf: _bad_cell(tf, w=np.ones((I + C, 4 * C), np.float64))),
    ("cell_float64", lambda tf: list(raw(tf, "LSTMBlockCell")(*[tf.constant(np.asarray(VALUES[n], np.float64))
                                                                 for n in LSTM_INPUTS]))),
    ("cell_attr", lambda tf: list(raw(tf, "LSTMBlockCell")(*[tf.constant(np.asarray(VALUES[n], np.float32))
                                                              for n in LSTM_INPUTS], use_peephole=1))),
    ("block_b_not_4", lambda tf: list(raw(tf, "BlockLSTM")(
        np.int64(2), tf.constant(np.ones((T, B, I), np.float32)), *_ones(tf, LSTM_INPUTS[1:-1]),
        tf.constant(np.ones(10, np.float32))))),
    ("block_x_rank", lambda tf: list(raw(tf, "BlockLSTMV2")(
        np.int64(2), tf.constant(np.ones((B, I), np.float32)), *_ones(tf, LSTM_INPUTS[1:])))),
    ("gru_half", lambda tf: list(raw(tf, "GRUBlockCell")(*[tf.constant(np.asarray(VALUES[n], np.float16))
                                                            for n in GRU_INPUTS]))),
    ("gru_h_rank", lambda tf: list(raw(tf, "GRUBlockCell")(*[tf.constant(np.ones((B, C, 1) if n == "h_prev" else
                                                                                 np.shape(VALUES[n]), np.float32))
                                                              for n in GRU_INPUTS]))),
]


@pytest.mark.parametrize("build", [c[1] for c in BUILD_ERRORS], ids=[c[0] for c in BUILD_ERRORS])
def test_build_errors(build):
    _op_oracle.compare_error(build)


_SEQ = ("xs",) + LSTM_INPUTS[1:]
RUN_ERRORS = [
    ("cell_w_rows", _fed("LSTMBlockCell", LSTM_INPUTS, {"w": (I + C + 1, 4 * C)})),
    ("cell_w_cols", _fed("LSTMBlockCell", LSTM_INPUTS, {"w": (I + C, 4 * C + 4)})),
    ("cell_b", _fed("LSTMBlockCell", LSTM_INPUTS, {"b": (4 * C - 1,)})),
    ("cell_h_batch", _fed("LSTMBlockCell", LSTM_INPUTS, {"h_prev": (B + 1, C)})),
    ("cell_empty", _fed("LSTMBlockCell", LSTM_INPUTS, {"x": (0, I), "cs_prev": (0, C), "h_prev": (0, C)})),
    ("cell_w_rank", _fed("LSTMBlockCell", LSTM_INPUTS, {"wci": (C, 1)})),
    ("block_wcf", _fed("BlockLSTM", _SEQ, {"wcf": (C + 2,)}, lambda tf: {"seq_len_max": tf.constant(np.int64(2))})),
    ("block_h_cell", _fed("BlockLSTM", _SEQ, {"h_prev": (B, C - 1)},
                          lambda tf: {"seq_len_max": tf.constant(np.int64(2))})),
    ("gru_w_c", _fed("GRUBlockCell", GRU_INPUTS, {"w_c": (I + C, C + 1)})),
    ("gru_b_ru", _fed("GRUBlockCell", GRU_INPUTS, {"b_ru": (C,)})),
]


@pytest.mark.parametrize("build,feed", [c[1] for c in RUN_ERRORS], ids=[c[0] for c in RUN_ERRORS])
def test_run_errors(build, feed):
    err = _op_oracle.compare_error(build, feed)
    assert isinstance(err, graphcompat.errors.InvalidArgumentError)


def test_grad_kernels_have_no_gradient():
    """TF registers no gradient for the gradient kernels: tf.gradients through one raises LookupError."""
    import importlib
    if "LSTMBlockCellGrad" not in importlib.import_module("graphcompat.gradients").NO_GRADIENT:
        pytest.skip("framework/tf_op_types.py not regenerated yet (tools/gen_op_types.py)")
    with graphcompat.Graph().as_default():
        ph = _placeholders(graphcompat, LSTM_INPUTS, VALUES)
        cell = rnn_ops.lstm_block_cell(**ph)
        grad = rnn_ops.lstm_block_cell_grad(**ph, i=cell.i, cs=cell.cs, f=cell.f, o=cell.o, ci=cell.ci, co=cell.co,
                                            cs_grad=cell.cs, h_grad=cell.h, use_peephole=False)
        with pytest.raises(LookupError, match="LSTMBlockCellGrad"):
            graphcompat.gradients(grad.dicfo, [ph["w"]])


@pytest.mark.parametrize("op_type,seq_len_max", [("BlockLSTM", T + 1), ("BlockLSTMV2", -1), ("BlockLSTMGrad", T + 2)])
def test_seq_len_max_out_of_range(op_type, seq_len_max):
    """TF 2.21's kernel aborts the process on these (a failed CHECK slicing its outputs); newer kernels check
    the range first: graphcompat raises their InvalidArgumentError, before the run changes anything."""
    with graphcompat.Graph().as_default():
        ph = _placeholders(graphcompat, _SEQ, VALUES)
        args = {n: ph[n] for n in LSTM_INPUTS[1:]}
        length = graphcompat.placeholder(graphcompat.int64, [])
        if op_type == "BlockLSTMGrad":
            out = rnn_ops.block_lstm(np.int64(T), ph["xs"], **args)
            fetch = rnn_ops.block_lstm_grad(length, ph["xs"], **args, **out._asdict(), cs_grad=out.cs, h_grad=out.h,
                                            use_peephole=False).x_grad
        else:
            fetch = raw(graphcompat, op_type)(length, ph["xs"], **args).h
        feed = {ph[n]: np.asarray(VALUES[n], np.float32) for n in _SEQ}
        with graphcompat.Session() as sess:
            assert sess.run(fetch, {**feed, length: np.int64(T)}).shape[0] == T
            for _ in range(2):  # compiled, then op by op: the same error
                with pytest.raises(graphcompat.errors.InvalidArgumentError,
                                   match=f"seq_len_max must be between 0 and {T} but is {seq_len_max}"):
                    sess.run(fetch, {**feed, length: np.int64(seq_len_max)})


# --- tf.contrib.rnn's cells (TF 2 has no contrib: compared with tf.nn.rnn_cell's cells of the same math) ------
def _weight_assignments(tf, weights: dict) -> tuple:
    """({suffix: variable}, the ops loading `weights` into them): a trainable variable is known by the last
    component of its name (`gates/kernel` for a GRU's)."""
    variables, assigns = {}, []
    for var in tf.trainable_variables():
        parts = var.op.name.split("/")
        suffix = "/".join(parts[-2:]) if len(parts) > 1 and parts[-2] in ("gates", "candidate") else parts[-1]
        variables[suffix] = var
        assigns.append(tf.assign(var, weights[suffix]))
    return variables, assigns


def _rnn_case(tf, make_cell, fused: bool, weights: dict, lengths):
    """(outputs, final state, gradients of a loss by variable suffix and for the inputs) of a time-major RNN."""
    graph = tf.Graph()
    with graph.as_default():
        xs = tf.constant(np.asarray(VALUES["xs"], np.float32))
        state0 = (tf.constant(np.asarray(VALUES["cs_prev"], np.float32)),
                  tf.constant(np.asarray(VALUES["h_prev"], np.float32)))
        cell = make_cell(tf)
        if fused:
            outputs, state = cell(xs, initial_state=state0, sequence_length=lengths)
        else:
            initial = tf.nn.rnn_cell.LSTMStateTuple(*state0) if isinstance(cell.state_size, tuple) else state0[1]
            outputs, state = tf.nn.dynamic_rnn(cell, xs, sequence_length=lengths, initial_state=initial,
                                               time_major=True)
        flat_state = list(state) if isinstance(state, tuple) else [state]
        loss = tf.reduce_sum(outputs * outputs) + tf.add_n([tf.reduce_sum(s) for s in flat_state])
        variables, assigns = _weight_assignments(tf, weights)
        names = sorted(variables)
        grads = tf.gradients(loss, [variables[n] for n in names] + [xs])
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(assigns)
            values = sess.run([outputs] + flat_state + grads)
    return values, names


_LSTM_WEIGHTS = {"kernel": VALUES["w"], "bias": VALUES["b"], "w_i_diag": VALUES["wci"], "w_f_diag": VALUES["wcf"],
                 "w_o_diag": VALUES["wco"]}
_GRU_WEIGHTS = {"gates/kernel": VALUES["w_ru"], "gates/bias": VALUES["b_ru"], "candidate/kernel": VALUES["w_c"],
                "candidate/bias": VALUES["b_c"]}


def _compare_rnn(make_block, make_reference, fused: bool, weights: dict, lengths):
    v1 = oracle.tf1()
    weights = {k: np.asarray(v, np.float32) for k, v in weights.items()}
    got, got_names = _rnn_case(graphcompat, make_block, fused, weights, lengths)
    want, want_names = _rnn_case(v1, make_reference, False, weights, lengths)
    assert got_names == want_names, (got_names, want_names)
    for k, (a, b) in enumerate(zip(got, want)):
        _op_oracle.assert_close(a, b, 2e-4, f"fetch {k}")


@pytest.mark.parametrize("use_peephole", [False, True])
def test_contrib_lstm_block_cell(use_peephole):
    """contrib's LSTMBlockCell in dynamic_rnn: LSTMCell's variables, values and gradients (no clip: TF's clipped
    LSTMCell differentiates clip_by_value, LSTMBlockCellGrad ignores the clip)."""
    _compare_rnn(lambda tf: tf.contrib.rnn.LSTMBlockCell(C, forget_bias=0.5, use_peephole=use_peephole),
                 lambda tf: tf.nn.rnn_cell.LSTMCell(C, forget_bias=0.5, use_peepholes=use_peephole),
                 False, _LSTM_WEIGHTS if use_peephole else {k: _LSTM_WEIGHTS[k] for k in ("kernel", "bias")},
                 [T, 2, 4])


def test_contrib_gru_block_cell_v2():
    _compare_rnn(lambda tf: tf.contrib.rnn.GRUBlockCellV2(C), lambda tf: tf.nn.rnn_cell.GRUCell(C), False,
                 _GRU_WEIGHTS, None)


@pytest.mark.parametrize("lengths", [None, [T, 3, 0]])
def test_contrib_lstm_block_fused_cell(lengths):
    """LSTMBlockFusedCell (one BlockLSTM, run to the longest sequence, outputs masked, final states gathered)
    equals dynamic_rnn over LSTMCell: outputs, final state, gradients."""
    _compare_rnn(lambda tf: tf.contrib.rnn.LSTMBlockFusedCell(C, use_peephole=True),
                 lambda tf: tf.nn.rnn_cell.LSTMCell(C, use_peepholes=True), True, _LSTM_WEIGHTS, lengths)


def test_contrib_cell_variable_names():
    with graphcompat.Graph().as_default():
        x = graphcompat.zeros([B, I])
        graphcompat.contrib.rnn.LSTMBlockCell(C, use_peephole=True)(x, (graphcompat.zeros([B, C]),) * 2)
        graphcompat.contrib.rnn.GRUBlockCell(C)(x, graphcompat.zeros([B, C]))
        fused = graphcompat.contrib.rnn.LSTMBlockFusedCell(C)
        fused(graphcompat.zeros([T, B, I]), dtype=graphcompat.float32)
        names = [(v.op.name, v.shape.as_list()) for v in graphcompat.trainable_variables()]
    assert names == [("lstm_cell/kernel", [I + C, 4 * C]), ("lstm_cell/bias", [4 * C]), ("lstm_cell/w_i_diag", [C]),
                     ("lstm_cell/w_f_diag", [C]), ("lstm_cell/w_o_diag", [C]), ("gru_cell/w_ru", [I + C, 2 * C]),
                     ("gru_cell/b_ru", [2 * C]), ("gru_cell/w_c", [I + C, C]), ("gru_cell/b_c", [C]),
                     ("lstm_fused_cell/kernel", [I + C, 4 * C]), ("lstm_fused_cell/bias", [4 * C])]


# --- shape buckets (lowering/padding.py): padded batches and time steps change nothing -----------------------
def _padding_case(kind: str):
    def case():
        tf = graphcompat
        x = tf.placeholder(tf.float32, [None, None, I])
        y = tf.placeholder(tf.float32, [None, 1])
        if kind == "fused":
            # inference, time-major, the outputs only (x[-1] of a padded time axis would run exact; a gradient
            # through a top-level BlockLSTM records TF's BlockLSTMGrad, which the analysis does not read)
            cell = tf.contrib.rnn.LSTMBlockFusedCell(C, use_peephole=True)
            outputs, _ = cell(x, dtype=tf.float32)
            return [outputs, tf.reduce_sum(outputs, [0, 2])], lambda n, r: {x: r.randn(n + 1, n, I)}
        cell = tf.contrib.rnn.LSTMBlockCell(C, cell_clip=0.5) if kind == "lstm" else tf.contrib.rnn.GRUBlockCellV2(C)
        outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        h = state.h if kind == "lstm" else state
        w = tf.Variable(np.full((C, 1), 0.5, np.float32), name="w")
        loss = tf.reduce_mean(tf.square(tf.matmul(h, w) - y)) + tf.reduce_mean(outputs)
        train = tf.train.AdamOptimizer(0.05).minimize(loss)
        return [train, loss, outputs, h], lambda n, r: {x: r.randn(n, n + 1, I), y: r.randn(n, 1)}
    case.__name__ = f"{kind}_varying_batch_and_time"
    return case


@pytest.mark.parametrize("kind", [pytest.param("lstm", marks=pytest.mark.slow),
                                  pytest.param("gru", marks=pytest.mark.slow), "fused"])
def test_padded_runs_equal_exact_runs(kind):
    """dynamic_rnn over contrib's block cells (training with Adam: TF's gradients through the While loop) and
    LSTMBlockFusedCell's BlockLSTM (its seq_len_max is the padded time length: the rule reads the true one),
    over batches of their own (batch, time): two executables for three sizes, the exact runs' values."""
    from tests import test_padding
    case = _padding_case(kind)
    sizes = (3, 5, 2)  # buckets of 4 and 8
    padded, padded_vars, padded_stats = test_padding._run(case, 4, sizes)
    exact, exact_vars, _ = test_padding._run(case, None, sizes)
    test_padding._assert_same(padded, exact, case.__name__, rtol=1e-4, atol=1e-5)
    test_padding._assert_same(padded_vars, exact_vars, case.__name__ + " variables", rtol=1e-4, atol=1e-5)
    assert test_padding._padded_compiles(padded_stats) >= 1
    assert max(e["compiles"] for e in padded_stats["signatures"].values()) <= 2
