"""Training graphs whose gradient crosses a loop over TensorArrays (dynamic_rnn, map_fn, scan, a
while_loop writing a TensorArray) or a loop reading resource variables, exported by graphcompat, train in
real TF with graphcompat's numbers (issue 12 item 5).

TF's SymbolicGradient runs its forward function again and differentiates it with C++ gradients: the
exported copy of that function carries TensorLists instead of TensorArrays and variables' values instead
of their handles (graphcompat/framework/forward_values.py), and the TensorList ops get GradientDefs
(control_flow_gradients.py). Each model trains a few steps in graphcompat from a checkpoint; TF imports the
meta graph, restores the same checkpoint and must reproduce the losses, gradients and variables.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import graphcompat as tf
from tests import _export_roundtrip as roundtrip
from tests import oracle

X = np.random.RandomState(0).randn(2, 4, 3).astype(np.float32)
Y = np.linspace(-0.5, 0.5, 8, dtype=np.float32).reshape(2, 4)
STEPS = 2


def _gru(t, x):
    _, state = t.nn.dynamic_rnn(t.nn.rnn_cell.GRUCell(4), x, dtype=t.float32)
    return state


def _lstm(t, x):
    out, state = t.nn.dynamic_rnn(t.nn.rnn_cell.LSTMCell(4), x, dtype=t.float32)
    return out[:, -1] + state.c


def _gru_outputs_with_lengths(t, x):
    """Every step's output is differentiated (the output TensorArray's stack), sequences of two lengths."""
    out, _ = t.nn.dynamic_rnn(t.nn.rnn_cell.GRUCell(4), x, sequence_length=[4, 2], dtype=t.float32)
    return t.reduce_mean(out, axis=1)


def _bidirectional(t, x):
    """Two loops, the backward one over ReverseSequence'd inputs (which has no C++ gradient either)."""
    (fw, bw), _ = t.nn.bidirectional_dynamic_rnn(t.nn.rnn_cell.GRUCell(2), t.nn.rnn_cell.GRUCell(2), x,
                                                 sequence_length=[4, 3], dtype=t.float32)
    return t.concat([fw[:, -1], bw[:, 0]], axis=1)


def _stacked_cells(t, x):
    cell = t.nn.rnn_cell.MultiRNNCell([t.nn.rnn_cell.LSTMCell(4), t.nn.rnn_cell.GRUCell(4)])
    out, _ = t.nn.dynamic_rnn(cell, x, dtype=t.float32)
    return out[:, -1]


def _embedding_in_map_fn(t, x):
    """An embedding lookup in the body (a resource variable's ResourceGather becomes a GatherV2 of its value)."""
    emb = t.get_variable("emb", initializer=np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4))
    ids = t.constant([[0, 3, 1, 4], [2, 2, 0, 1]])
    rows = t.map_fn(lambda i: t.reduce_sum(t.nn.embedding_lookup(emb, i), axis=0), ids, dtype=t.float32)
    return rows + t.reduce_sum(x, axis=2)


def _nested_map_fn(t, x):
    """A TensorArray created inside a loop body."""
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 3, dtype=np.float32))
    return t.map_fn(lambda row: t.map_fn(lambda e: t.reduce_sum(t.tanh(e * w)), row), x)


def _foldl(t, x):
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 12, dtype=np.float32).reshape(3, 4))
    return t.foldl(lambda acc, step: t.tanh(acc + t.matmul(step, w)), t.transpose(x, [1, 0, 2]),
                   initializer=t.zeros([2, 4]))


def _map_fn(t, x):
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 12, dtype=np.float32).reshape(3, 4))
    rows = t.map_fn(lambda step: t.tanh(t.matmul(step, w)), x)  # over the batch
    return t.reduce_sum(rows, axis=1)


def _scan(t, x):
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 12, dtype=np.float32).reshape(3, 4))
    u = t.get_variable("u", initializer=np.eye(4, dtype=np.float32) * 0.5)
    steps = t.transpose(x, [1, 0, 2])  # time major
    states = t.scan(lambda h, step: t.tanh(t.matmul(step, w) + t.matmul(h, u)), steps,
                    initializer=t.zeros([2, 4]))
    return states[-1] + states[1]


def _array_written_before_the_loop(t, x):
    """Writes at the top level (copied into the gradient's forward function as TensorListSetItems)."""
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 12, dtype=np.float32).reshape(3, 4))
    ta = t.TensorArray(t.float32, size=3).write(0, x[:, 0]).write(1, x[:, 1] * 2.0).write(2, t.ones([2, 3]))
    return t.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, t.tanh(t.matmul(ta.read(i), w) + h)),
                        [0, t.zeros([2, 4])])[1]


def _cond_reading_an_array_in_a_loop(t, x):
    """A cond in the body reads the TensorArray (its branches are copied with the array as a list)."""
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 12, dtype=np.float32).reshape(3, 4))
    ta = t.TensorArray(t.float32, size=4).unstack(t.transpose(x, [1, 0, 2]))

    def body(i, h, out):
        v = t.cond(i % 2 < 1, lambda: t.tanh(t.matmul(ta.read(i), w)), lambda: h * 0.5)
        return i + 1, v, out.write(i, v)
    _, h, out = t.while_loop(lambda i, h, out: i < 4, body, [0, t.zeros([2, 4]), t.TensorArray(t.float32, size=4)])
    return h + out.stack()[1]


def _split_array(t, x):
    """TensorArray.split (TensorListSplit) of the input, read in the loop."""
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 12, dtype=np.float32).reshape(3, 4))
    ta = t.TensorArray(t.float32, size=2).split(t.reshape(x, [8, 3]), [4, 4])
    return t.while_loop(lambda i, h: i < 2, lambda i, h: (i + 1, h + t.matmul(ta.read(i), w)),
                        [0, t.zeros([4, 4])])[1][:2]


def _concatenated_outputs(t, x):
    """TensorArray.concat (TensorListConcatV2) of what the loop wrote."""
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 12, dtype=np.float32).reshape(3, 4))
    steps = t.transpose(x, [1, 0, 2])
    out = t.while_loop(lambda i, ta: i < 4, lambda i, ta: (i + 1, ta.write(i, t.tanh(t.matmul(steps[i], w)))),
                       [0, t.TensorArray(t.float32, size=4)])[1]
    return t.reduce_mean(t.reshape(out.concat(), [4, 2, 4]), axis=0)


def _while_reading_a_variable(t, x):
    """No TensorArray: a plain loop whose body reads the variable (a resource one reaches the gradient only
    through its handle)."""
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 16, dtype=np.float32).reshape(4, 4))
    h0 = t.reduce_sum(x, axis=2)  # [batch, 4]
    return t.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, t.tanh(t.matmul(h, w))), [0, h0])[1]


def _while_with_tensor_array(t, x):
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 12, dtype=np.float32).reshape(3, 4))
    steps = t.transpose(x, [1, 0, 2])
    inputs = t.TensorArray(t.float32, size=4).unstack(steps)
    outputs = t.TensorArray(t.float32, size=4)

    def body(i, h, ta):
        h = t.sigmoid(t.matmul(inputs.read(i), w) + h)
        return i + 1, h, ta.write(i, h * 2.0)
    _, h, ta = t.while_loop(lambda i, h, ta: i < 4, body, [0, t.zeros([2, 4]), outputs])
    return h + t.reduce_sum(ta.stack(), axis=0)


def _array_filled_by_a_loop_reading_a_variable(t, x):
    """The loop the gradient does not cross reads a variable that is not trained (its value is read next to
    the gradient and passed in)."""
    scale = t.get_variable("scale", initializer=np.float32(1.5), trainable=False)
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 12, dtype=np.float32).reshape(3, 4))
    steps = t.stop_gradient(t.transpose(x, [1, 0, 2]))
    filled = t.while_loop(lambda i, ta: i < 4, lambda i, ta: (i + 1, ta.write(i, steps[i] * scale)),
                          [0, t.TensorArray(t.float32, size=4)])[1]
    h = t.while_loop(lambda i, h: i < 4, lambda i, h: (i + 1, t.tanh(t.matmul(filled.read(i), w) + h)),
                     [0, t.zeros([2, 4])])[1]
    return h + t.reduce_mean(x, axis=1)[:, :1]


def _array_filled_by_another_loop(t, x):
    """A first loop fills a dynamic_size TensorArray from the input alone (the gradient does not cross it:
    graphcompat differentiates no write to a growing array); the trained loop reads it."""
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 12, dtype=np.float32).reshape(3, 4))
    steps = t.stop_gradient(t.transpose(x, [1, 0, 2]))
    filled = t.while_loop(lambda i, ta: i < 4, lambda i, ta: (i + 1, ta.write(i, steps[i] * 2.0)),
                          [0, t.TensorArray(t.float32, size=0, dynamic_size=True)])[1]

    def body(i, h):
        return i + 1, t.tanh(t.matmul(filled.read(i), w) + h)
    return t.while_loop(lambda i, h: i < 4, body, [0, t.zeros([2, 4])])[1] + t.reduce_mean(x, axis=1)[:, :1]


MODELS = {
    "gru": _gru,
    "lstm": _lstm,
    "gru_outputs_with_lengths": _gru_outputs_with_lengths,
    "map_fn": _map_fn,
    "scan": _scan,
    "while_with_tensor_array": _while_with_tensor_array,
    "array_filled_by_another_loop": _array_filled_by_another_loop,
    "array_filled_by_a_loop_reading_a_variable": _array_filled_by_a_loop_reading_a_variable,
    "while_reading_a_variable": _while_reading_a_variable,
    "bidirectional": _bidirectional,
    "stacked_cells": _stacked_cells,
    "embedding_in_map_fn": _embedding_in_map_fn,
    "nested_map_fn": _nested_map_fn,
    "foldl": _foldl,
    "array_written_before_the_loop": _array_written_before_the_loop,
    "cond_reading_an_array_in_a_loop": _cond_reading_an_array_in_a_loop,
    "split_array": _split_array,
    "concatenated_outputs": _concatenated_outputs,
}
# Each model with ref and resource variables; the pairs not in FAST are marked slow (about 4 s each).
FAST = {("gru", False), ("lstm", True), ("embedding_in_map_fn", True), ("array_filled_by_another_loop", False)}
CASES = [pytest.param(model, resource, id=f"{model}-{'resource' if resource else 'ref'}",
                      marks=() if (model, resource) in FAST else pytest.mark.slow)
         for model in sorted(MODELS) for resource in (False, True)]


def _build(t, model, resource: bool):
    t.set_random_seed(3)
    x = t.placeholder(t.float32, [None, 4, 3], name="x")
    y = t.placeholder(t.float32, [None, 4], name="y")
    with t.variable_scope("model", use_resource=resource):
        h = model(t, x)
    loss = t.reduce_mean(t.square(h - y), name="loss")
    variables = t.trainable_variables()
    # the input's gradient as well: it flows back into the TensorArray the sequence was unstacked into
    grads = t.gradients(loss, variables + [x], name="loss_gradients")
    train = t.train.GradientDescentOptimizer(0.2).minimize(loss, name="train")
    t.add_to_collection("loss", loss)
    t.add_to_collection("train", train)
    for g in grads:
        t.add_to_collection("grads", g)
    for v in variables:
        t.add_to_collection("weights", t.identity(v.value() if resource else v))


def _steps(sess, graph, steps: int = STEPS) -> list:
    """(loss, gradients) before the steps, then (loss, weights) after each step, in separate runs."""
    feed = {"x:0": X, "y:0": Y}
    get = graph.get_collection
    out = [[sess.run(get("loss")[0], feed)] + sess.run(get("grads"), feed)]
    for _ in range(steps):
        sess.run(get("train")[0], feed)
        out.append([sess.run(get("loss")[0], feed)] + sess.run(get("weights")))
    return out


def _train_and_export(tmp_path, model, resource: bool):
    return roundtrip.train_and_export(tmp_path, lambda: _build(tf, model, resource), _steps)


def _import_and_train(lib, prefix: str) -> list:
    return roundtrip.import_and_train(lib, prefix, _steps)


def _assert_same(got: list, want: list) -> None:
    roundtrip.assert_same(got, want, atol=2e-6)


@pytest.mark.oracle
@pytest.mark.parametrize("model, resource", CASES)
def test_tf_trains_the_exported_meta_graph(model, resource, tmp_path):
    v1 = oracle.tf1()
    _, prefix, want = _train_and_export(tmp_path, MODELS[model], resource)
    _assert_same(_import_and_train(v1, prefix), want)



@pytest.mark.parametrize("model, resource", [pytest.param("gru", True, marks=pytest.mark.slow), ("scan", False)])
def test_graphcompat_reimports_its_export(model, resource, tmp_path):
    """The TensorList copies are for TF only: graphcompat re-imports the meta graph (the SymbolicGradient's
    forward function now carries TensorLists and the variables' values) and trains with the same numbers."""
    _, prefix, want = _train_and_export(tmp_path, MODELS[model], resource)
    _assert_same(_import_and_train(tf, prefix), want)


def test_graph_itself_is_unchanged():
    """Only the exported GraphDef changes: the Graph keeps its TensorArray loop and its forward function;
    the export's gradient differentiates a copy with TensorLists, whose other users keep the original."""
    g = tf.Graph()
    with g.as_default():
        _build(tf, _gru, True)
    functions_before = dict(g._functions)
    ops_before = len(g.get_operations())
    gd = g.as_graph_def()
    assert dict(g._functions) == functions_before and len(g.get_operations()) == ops_before
    lib = {f.signature.name: f for f in gd.library.function}
    top = {n.name: n for n in gd.node}
    assert top["model/rnn/TensorArray"].op == "TensorArrayV3"  # the forward pass keeps its TensorArrays
    sgs = [n for n in gd.node if n.op == "SymbolicGradient"]
    assert sgs and all(n.attr["f"].func.name.endswith("_values") for n in sgs)

    def reached(name, seen):
        if name in seen or name not in lib:
            return
        seen.add(name)
        for nd in lib[name].node_def:
            reached(nd.op, seen)
            for av in nd.attr.values():
                if av.HasField("func"):
                    reached(av.func.name, seen)
    for sg in sgs:
        seen = set()
        reached(sg.attr["f"].func.name, seen)
        ops = {nd.op for name in seen for nd in lib[name].node_def}
        assert not {op for op in ops if op.startswith("TensorArray") or op == "ReadVariableOp"}
        assert "TensorListGetItem" in ops and "TensorListSetItem" in ops
        # the variables' values are read at the top level, next to the gradient
        reads = [top[t] for t in sg.input if t in top and top[t].op == "ReadVariableOp"]
        assert len(reads) == 4
        assert len(sg.attr["Tin"].list.type) == len(sg.input)


def _array_from_a_cond(t, x):
    """A tf.cond the gradient does not cross returns the TensorArray the trained loop reads."""
    w = t.get_variable("w", initializer=np.linspace(-0.3, 0.3, 12, dtype=np.float32).reshape(3, 4))
    ta = t.TensorArray(t.float32, size=2)
    p = t.placeholder_with_default(True, [], name="p")
    ta = t.cond(p, lambda: ta.write(0, t.ones([2, 3])).write(1, t.ones([2, 3])),
                lambda: ta.write(0, t.zeros([2, 3])).write(1, t.ones([2, 3])))
    h = t.while_loop(lambda i, h: i < 2, lambda i, h: (i + 1, h + t.matmul(ta.read(i), w)), [0, t.zeros([2, 4])])[1]
    return h + t.reduce_mean(x, axis=1)[:, :1]


def test_unsupported_tensor_array_use_fails_at_export():
    """A TensorArray that the export cannot follow to its TensorArrayV3 (a cond outside the gradient returns
    it) refuses the export, naming the op that reads it, rather than writing a gradient TF would fail to run;
    graphcompat itself trains the graph."""
    g = tf.Graph()
    with g.as_default():
        _build(tf, _array_from_a_cond, False)
        with pytest.raises(NotImplementedError, match="TensorArrayReadV3 .* does not come from a TensorArrayV3"):
            g.as_graph_def()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            feed = {"x:0": X, "y:0": Y}
            before = sess.run("loss:0", feed)
            sess.run(g.get_collection("train")[0], feed)
            assert sess.run("loss:0", feed) < before


@pytest.mark.oracle
def test_tf_trains_a_saved_model_and_runs_a_frozen_graph(tmp_path):
    """A SavedModel of an LSTM with resource variables: TF loads it and trains with graphcompat's numbers; a
    frozen copy of the same graph (the variables as constants) computes the loss in TF."""
    v1 = oracle.tf1()
    export_dir = os.path.join(str(tmp_path), "sm")
    g = tf.Graph()
    with g.as_default():
        _build(tf, _lstm, True)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.saved_model.simple_save(sess, export_dir, {"x": g.get_tensor_by_name("x:0")},
                                       {"loss": g.get_tensor_by_name("loss:0")})
            frozen = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["loss"])
            want = _steps(sess, g)
    with v1.Graph().as_default() as tg:
        with v1.Session(graph=tg) as sess:
            v1.saved_model.loader.load(sess, ["serve"], export_dir)
            _assert_same(_steps(sess, tg), want)
    with v1.Graph().as_default() as tg:
        v1.import_graph_def(v1.GraphDef.FromString(frozen.SerializeToString()), name="")
        with v1.Session(graph=tg) as sess:
            np.testing.assert_allclose(sess.run("loss:0", {"x:0": X, "y:0": Y}), want[0][0], rtol=2e-5)


def _loop_models():
    from tests import test_export_while_grad as loops
    return loops


@pytest.mark.oracle
@pytest.mark.parametrize("model", [pytest.param(name, marks=() if name in ("cond_in_loop", "loop_in_cond")
                                                else pytest.mark.slow)
                                   for name in ("cond_in_loop", "early_exit_loop", "gather_in_loop", "loop_in_cond",
                                                "matmul_loop", "nested_loops", "switch_case_with_a_loop",
                                                "two_loop_variables")])
def test_tf_trains_loops_and_conds_reading_a_resource_variable(model, tmp_path):
    """tests/test_export_while_grad.py's loops and conds with a resource variable (read inside the bodies
    through its captured handle) and Adam: TF trains the export with graphcompat's numbers."""
    v1 = oracle.tf1()
    loops = _loop_models()
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        w = tf.Variable(loops.W0, name="w", use_resource=True)
        loss = tf.reduce_sum(tf.square(loops.MODELS[model](tf, x, w) - 1.0), name="loss")
        grad = tf.gradients(loss, [w], name="loss_gradients")[0]
        train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
        for key, value in (("loss", loss), ("train", train), ("w", tf.identity(w.value(), name="w_value")),
                           ("grad", grad)):
            tf.add_to_collection(key, value)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, os.path.join(str(tmp_path), "model"))
            want = loops._steps(sess, g)
    loops._assert_same(loops._import_and_train(v1, prefix), want)
