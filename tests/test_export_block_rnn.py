"""Training graphs whose gradient crosses TF's fused RNN kernels (LSTMBlockCell, GRUBlockCell, BlockLSTM,
BlockLSTMV2) or fake quantization (FakeQuantWithMinMaxArgs / Vars / VarsPerChannel, QuantizeAndDequantizeV4),
exported by graphcompat, train in real TF with graphcompat's numbers (issue 12 item 5).

TF registers these kernels' gradients in Python only, so the SymbolicGradient graphcompat exports needs them
as GradientDefs in TF ops (control_flow_gradients.py's `_OP_GRADIENTS`): without them TF fails in a loop body
("No gradient defined for op: LSTMBlockCell") and finds zero gradients at the top level, where the forward
function read the kernel's outputs as arguments (function_library.py's `_differentiated_by_gradient_def`).
The pattern of tests/test_export_rnn_training.py: graphcompat trains from a checkpoint, TF imports the meta
graph, restores the checkpoint and must reproduce the losses, gradients and variables.
"""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat as tf
from graphcompat.ops import rnn_ops
from tests import oracle
from tests.test_export_rnn_training import _assert_same, _import_and_train, _train_and_export


def _lstm_block_cell_in_dynamic_rnn(t, x):
    """The cell inside dynamic_rnn's loop body, with peepholes (wci/wcf/wco get gradients) and a cell clip."""
    cell = t.contrib.rnn.LSTMBlockCell(4, use_peephole=True, cell_clip=1.5)
    out, state = t.nn.dynamic_rnn(cell, x, dtype=t.float32)
    return out[:, -1] + state.c


def _gru_block_cell_in_dynamic_rnn(t, x):
    _, state = t.nn.dynamic_rnn(t.contrib.rnn.GRUBlockCell(4), x, sequence_length=[4, 3], dtype=t.float32)
    return state


def _lstm_block_fused_cell(t, x):
    """BlockLSTM at the top level (the forward function holds the kernel itself), sequences of two lengths."""
    cell = t.contrib.rnn.LSTMBlockFusedCell(4, forget_bias=0.5)
    out, state = cell(t.transpose(x, [1, 0, 2]), dtype=t.float32, sequence_length=[4, 2])
    return out[-1] + state.c


def _lstm_block_cell_unrolled(t, x):
    """LSTMBlockCell at the top level, two steps sharing the weights (and the gradient of cs as well)."""
    cell = t.contrib.rnn.LSTMBlockCell(4)
    state = cell.zero_state(2, t.float32)
    for step in range(2):
        out, state = cell(x[:, step], state)
    return out * state.c


def _gru_block_cell_unrolled(t, x):
    cell = t.contrib.rnn.GRUBlockCell(4)
    h = t.zeros([2, 4])
    for step in range(3):
        h, _ = cell(x[:, step], h)
    return h


def _block_lstmv2(t, x):
    """BlockLSTMV2 (Keras' gate order; TF differentiates it with BlockLSTMGrad, which graphcompat keeps)."""
    w = t.get_variable("w", initializer=np.linspace(-0.4, 0.4, 7 * 16, dtype=np.float32).reshape(7, 16))
    b = t.get_variable("b", initializer=np.linspace(-0.1, 0.1, 16, dtype=np.float32))
    peep = t.get_variable("peep", initializer=np.linspace(0.1, 0.3, 4, dtype=np.float32))
    zeros = t.zeros([2, 4])
    block = rnn_ops.block_lstmv2(np.int64(4), t.transpose(x, [1, 0, 2]), zeros, zeros, w, peep, peep * 0.5,
                                 peep * 2.0, b, use_peephole=True)
    return block.h[-1] + block.cs[-1]


def _fake_quant_vars(t, x):
    """FakeQuantWithMinMaxVars (also a TF gradient registered in Python only): min and max are trained too."""
    w = t.get_variable("w", initializer=np.linspace(-0.8, 0.8, 12, dtype=np.float32).reshape(3, 4))
    low = t.get_variable("low", initializer=np.float32(-0.5))
    high = t.get_variable("high", initializer=np.float32(0.6))
    q = t.quantization.fake_quant_with_min_max_vars(t.reshape(x, [8, 3]), low, high, num_bits=4)
    return t.reshape(t.matmul(q, w), [2, 4, 4])[:, :, 0]


def _fake_quant_args_in_dynamic_rnn(t, x):
    """FakeQuantWithMinMaxArgs in a loop body, next to a GRUBlockCell."""
    class Cell(t.nn.rnn_cell.RNNCell):
        def __init__(self):
            super().__init__()
            self._cell = t.contrib.rnn.GRUBlockCell(4)
        state_size = output_size = 4

        def call(self, inputs, state):
            return self._cell(t.quantization.fake_quant_with_min_max_args(inputs, -0.7, 0.9, num_bits=5), state)
    _, state = t.nn.dynamic_rnn(Cell(), x, dtype=t.float32)
    return state


def _fake_quant_per_channel(t, x):
    w = t.get_variable("w", initializer=np.linspace(-0.8, 0.8, 12, dtype=np.float32).reshape(3, 4))
    low = t.get_variable("low", initializer=np.float32([-0.5, -0.6, -0.4]))
    high = t.get_variable("high", initializer=np.float32([0.6, 0.5, 0.7]))
    q = t.quantization.fake_quant_with_min_max_vars_per_channel(t.reshape(x, [8, 3]), low, high, num_bits=6)
    return t.reshape(t.matmul(q, w), [2, 4, 4])[:, :, 0]


def _quantize_and_dequantize(t, x):
    w = t.get_variable("w", initializer=np.linspace(-0.8, 0.8, 12, dtype=np.float32).reshape(3, 4))
    low = t.get_variable("low", initializer=np.float32(-0.5))
    high = t.get_variable("high", initializer=np.float32(0.6))
    q = t.quantization.quantize_and_dequantize_v2(t.reshape(x, [8, 3]), low, high, range_given=True)
    return t.reshape(t.matmul(q, w), [2, 4, 4])[:, :, 0]


MODELS = {
    "fake_quant_vars": _fake_quant_vars,
    "fake_quant_args_in_dynamic_rnn": _fake_quant_args_in_dynamic_rnn,
    "fake_quant_per_channel": _fake_quant_per_channel,
    "quantize_and_dequantize": _quantize_and_dequantize,
    "lstm_block_cell_in_dynamic_rnn": _lstm_block_cell_in_dynamic_rnn,
    "gru_block_cell_in_dynamic_rnn": _gru_block_cell_in_dynamic_rnn,
    "lstm_block_fused_cell": _lstm_block_fused_cell,
    "lstm_block_cell_unrolled": _lstm_block_cell_unrolled,
    "gru_block_cell_unrolled": _gru_block_cell_unrolled,
    "block_lstmv2": _block_lstmv2,
}
# Each model with ref variables; with resource variables the pairs not in FAST are slow (about 2 s each).
FAST = {("lstm_block_cell_in_dynamic_rnn", True), ("lstm_block_fused_cell", True)}
CASES = [pytest.param(model, resource, id=f"{model}-{'resource' if resource else 'ref'}",
                      marks=() if not resource or (model, resource) in FAST else pytest.mark.slow)
         for model in sorted(MODELS) for resource in (False, True)]


@pytest.mark.oracle
@pytest.mark.parametrize("model, resource", CASES)
def test_tf_trains_the_exported_meta_graph(model, resource, tmp_path):
    v1 = oracle.tf1()
    _, prefix, want = _train_and_export(tmp_path, MODELS[model], resource)
    assert _attrs_tf_lacks(prefix + ".meta") == []
    _assert_same(_import_and_train(v1, prefix), want)


def _two_layers(t, x):
    """No special kernel: the second layer's weight is read by the first layer's gradient."""
    w1 = t.get_variable("w1", initializer=np.linspace(-0.8, 0.8, 12, dtype=np.float32).reshape(3, 4))
    w2 = t.get_variable("w2", initializer=np.linspace(-0.5, 0.7, 16, dtype=np.float32).reshape(4, 4))
    h = t.tanh(t.matmul(t.reshape(x, [8, 3]), w1))
    return t.reshape(t.matmul(h, w2), [2, 4, 4])[:, :, 0]


@pytest.mark.oracle
def test_tf_applies_ref_variables_gradients_computed_before_the_update(tmp_path):
    """TF inlines the SymbolicGradient: without the Snapshots of the ref variables it reads
    (forward_values.py's `snapshot_ref_variables`) TF updated w2 in place before w1's gradient read it."""
    v1 = oracle.tf1()
    _, prefix, want = _train_and_export(tmp_path, _two_layers, False)
    _assert_same(_import_and_train(v1, prefix), want)


def _attrs_tf_lacks(meta_path: str) -> list:
    """(node, attr) of the exported nodes (functions' included) whose attr is not in TF's OpDef: TF warns
    "Unknown attributes will be ignored" (dynamic_rnn's TensorArrayReadV3 carried an element_shape)."""
    from tensorflow.core.protobuf import meta_graph_pb2
    from tensorflow.python.framework import op_def_registry
    meta = meta_graph_pb2.MetaGraphDef()
    with open(meta_path, "rb") as f:
        meta.ParseFromString(f.read())
    gd = meta.graph_def
    nodes = list(gd.node) + [nd for fdef in gd.library.function for nd in fdef.node_def]
    unknown = []
    for nd in nodes:
        op_def = op_def_registry.get(nd.op)
        if op_def is None:  # a library function's call
            continue
        known = {a.name for a in op_def.attr}
        unknown += [(nd.name, key) for key in nd.attr if key not in known and not key.startswith("_")]
    return unknown


# graphcompat op types whose signature is its own rather than TF's (TF's ParseExample takes the keys as
# inputs; graphcompat's as attrs), and _Arg, a placeholder inside tf.data functions that never is exported.
_OWN_SIGNATURES = {"ParseExample", "ParseSingleExample", "_Arg"}


@pytest.mark.oracle
def test_every_declared_attr_is_in_tfs_op_def():
    """No op type declares an attr TF's OpDef lacks (it would be exported, and TF warns and ignores it)."""
    oracle.tf1()
    from tensorflow.python.framework import op_def_registry

    from graphcompat.framework import registry
    extra = {}
    for op_type, op_def in sorted(registry.OP_DEFS.items()):
        tf_op_def = op_def_registry.get(op_type)
        if tf_op_def is None or op_type in _OWN_SIGNATURES:
            continue
        known = {a.name for a in tf_op_def.attr}
        unknown = sorted(key for key in op_def.attrs if key not in known and not key.startswith("_"))
        if unknown:
            extra[op_type] = unknown
    assert extra == {}


@pytest.mark.oracle
def test_resize_area_exports_tfs_attrs():
    oracle.tf1()
    from tensorflow.python.framework import op_def_registry
    g = tf.Graph()
    with g.as_default():
        images = tf.placeholder(tf.float32, [1, 4, 4, 1])
        tf.image.resize_images(images, [2, 2], method=tf.image.ResizeMethod.AREA)
        tf.image.resize_area(images, [3, 3])
    known = {a.name for a in op_def_registry.get("ResizeArea").attr}
    nodes = [nd for nd in g.as_graph_def().node if nd.op == "ResizeArea"]
    assert len(nodes) == 2 and all(set(nd.attr) <= known for nd in nodes)


@pytest.mark.parametrize("model", [pytest.param("lstm_block_cell_in_dynamic_rnn", marks=pytest.mark.slow),
                                   "lstm_block_cell_unrolled"])
def test_graphcompat_reimports_its_export(model, tmp_path):
    """The GradientDefs are for TF only: graphcompat re-imports the meta graph (it inlines the wrappers and
    differentiates the kernels itself) and trains with the same numbers."""
    _, prefix, want = _train_and_export(tmp_path, MODELS[model], False)
    _assert_same(_import_and_train(tf, prefix), want)


def _forward_function(gd):
    [sg] = [nd for nd in gd.node if nd.op == "SymbolicGradient"]
    return next(f for f in gd.library.function if f.signature.name == sg.attr["f"].func.name)


def test_export_differentiates_the_kernel_with_a_gradient_def():
    """At the top level the forward function reads the kernel's copy (a call of a wrapper whose GradientDef
    is TF's gradient: LSTMBlockCellGrad and the matmuls around it), not the kernel's outputs as arguments."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        cell = tf.contrib.rnn.LSTMBlockCell(4)
        out, state = cell(x, cell.zero_state(2, tf.float32))
        tf.gradients(tf.reduce_sum(out + state.c), tf.trainable_variables() + [x])
    gd = g.as_graph_def()
    forward = _forward_function(gd)
    by_name = {f.signature.name: f for f in gd.library.function}
    [call] = [nd for nd in forward.node_def if nd.name == "lstm_cell/LSTMBlockCell"]
    wrapper = by_name[call.op]
    assert [nd.op for nd in wrapper.node_def] == ["LSTMBlockCell"]
    gradient = {e.function_name: e.gradient_func for e in gd.library.gradient}[call.op]
    grad_ops = sorted(nd.op for nd in by_name[gradient].node_def)
    for op_type in ("LSTMBlockCell", "LSTMBlockCellGrad", "MatMul", "BiasAddGrad", "Slice"):
        assert op_type in grad_ops
    # the result reads the call's outputs (cs and h), not arguments
    [add] = [nd for nd in forward.node_def if nd.op == "AddV2"]
    assert all(text.startswith("lstm_cell/LSTMBlockCell:") for text in add.input)
    # graphcompat's own Graph keeps its kernel, not a call
    assert g.get_operation_by_name("lstm_cell/LSTMBlockCell").type == "LSTMBlockCell"


def test_user_gradient_override_is_not_replaced():
    """A user's gradient_override_map on the kernel is not TF's gradient: the export calls the op through a
    wrapper whose GradientDef is the user's recorded gradient (graphcompat/framework/user_gradient_export.py),
    not TF's GRUBlockCellGrad."""
    g = tf.Graph()
    with g.as_default():
        @tf.RegisterGradient("BlockExportTestGRUGrad")
        def _grad(op, *grads):
            return [tf.zeros_like(t) for t in op.inputs]
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        with g.gradient_override_map({"GRUBlockCell": "BlockExportTestGRUGrad"}):
            h, _ = tf.contrib.rnn.GRUBlockCell(4)(x, tf.zeros([2, 4]))
        tf.gradients(tf.reduce_sum(h), [x])
    graph_def = g.as_graph_def()
    forward = _forward_function(graph_def)
    [total] = [nd for nd in forward.node_def if nd.op == "Sum"]
    [call] = [nd for nd in forward.node_def if nd.name == total.input[0].split(":")[0]]
    assert call.op.endswith("_user_gradient_call")
    gradient = {e.function_name: e.gradient_func for e in graph_def.library.gradient}[call.op]
    [grad_fn] = [f for f in graph_def.library.function if f.signature.name == gradient]
    assert "GRUBlockCellGrad" not in {nd.op for nd in grad_fn.node_def}
    assert {nd.op for nd in grad_fn.node_def} == {"Const"}  # the user's zeros_like of static shapes
