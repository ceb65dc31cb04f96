"""Training graphs whose gradient crosses a While or an If, exported by graphcompat, run in real TF with
graphcompat's numbers (issue 12 item 5).

graphcompat records `tf.gradients` as one SymbolicGradient; TF's C++ function gradients have no rule for
While/If, so the exported library gives each loop and cond a GradientDef written in TF ops
(graphcompat/framework/control_flow_gradients.py). Each model trains a few steps in graphcompat from a
checkpoint; TF (and graphcompat itself) import the meta graph, restore the same checkpoint and must
reproduce the losses and the variables.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import graphcompat as tf
from tests import _export_roundtrip as roundtrip
from tests import oracle

W0 = np.array([[0.5, -0.2, 0.1], [0.3, 0.2, -0.4], [0.1, 0.1, 0.3]], np.float32)
X = (np.arange(6, dtype=np.float32).reshape(2, 3) - 2.0) * 0.2


def _matmul_loop(t, x, w):
    """A loop-carried matmul with a constant maximum_iterations."""
    _, h = t.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, t.tanh(t.matmul(h, w))), [t.constant(0), x],
                        maximum_iterations=3, name="loop")
    return h


def _early_exit_loop(t, x, w):
    """The condition stops the loop before its maximum (data-dependent trip count)."""
    _, h = t.while_loop(lambda i, h: t.reduce_sum(t.abs(h)) < 4.0,
                        lambda i, h: (i + 1, h * 1.25 + t.matmul(h, w)), [t.constant(0), x + 0.5],
                        maximum_iterations=10, name="loop")
    return h


def _two_loop_variables(t, x, w):
    """Two float loop variables and a loop-invariant capture read by the body."""
    b = t.constant([0.1, -0.1, 0.2])
    _, h, c = t.while_loop(lambda i, h, c: i < 4,
                           lambda i, h, c: (i + 1, t.sigmoid(t.matmul(h, w) + c), c * 0.9 + h + b),
                           [t.constant(0), x, t.zeros([2, 3])], maximum_iterations=4, name="loop")
    return h + c


def _nested_loops(t, x, w):
    def outer(i, h):
        _, h2 = t.while_loop(lambda j, g: j < 2, lambda j, g: (j + 1, t.tanh(t.matmul(g, w)) + h),
                             [t.constant(0), h], maximum_iterations=2, name="inner")
        return i + 1, h2 * 0.5
    _, h = t.while_loop(lambda i, h: i < 3, outer, [t.constant(0), x], maximum_iterations=3, name="outer")
    return h


def _cond_in_loop(t, x, w):
    """Integer bookkeeping (`i % 2`, which has no C++ gradient) decides a cond in the body."""
    def body(i, h):
        return i + 1, t.cond(i % 2 < 1, lambda: t.tanh(t.matmul(h, w)), lambda: h * w[0])
    _, h = t.while_loop(lambda i, h: i < 4, body, [t.constant(0), x], maximum_iterations=4, name="loop")
    return h


def _loop_in_cond(t, x, w):
    p = t.placeholder_with_default(True, [], name="p")
    return t.cond(p, lambda: t.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, t.sigmoid(t.matmul(h, w))),
                                          [0, x], maximum_iterations=3)[1],
                  lambda: x * 2.0, name="branch")


def _plain_cond(t, x, w):
    p = t.placeholder_with_default(False, [], name="p")
    return t.cond(p, lambda: t.tanh(t.matmul(x, w)), lambda: t.matmul(x * 2.0, w), name="branch")


def _switch_case_with_a_loop(t, x, w):
    k = t.placeholder_with_default(2, [], name="k")
    return t.switch_case(k, [lambda: x * 2.0, lambda: t.tanh(t.matmul(x, w)),
                             lambda: t.while_loop(lambda i, h: i < 2, lambda i, h: (i + 1, t.tanh(t.matmul(h, w))),
                                                  [0, x], maximum_iterations=2)[1]], name="case")


def _gather_in_loop(t, x, w):
    """A hand-written LSTM-like loop: the counter indexes a captured sequence (GatherV2, which has no C++
    gradient), two state variables."""
    seq = t.stack([x * 0.5, x, x * -1.0, x * 2.0])

    def body(i, h, c):
        c2 = t.sigmoid(t.matmul(t.gather(seq, i), w)) * c + t.tanh(t.matmul(h, w))
        return i + 1, t.tanh(c2) * 0.9, c2
    _, h, c = t.while_loop(lambda i, h, c: i < 4, body, [0, t.zeros([2, 3]), t.ones([2, 3])],
                           maximum_iterations=4, name="loop")
    return h + t.reduce_mean(c)


def _gather_of_an_intermediate(t, x, w):
    """A gather outside any loop whose axis is an argument of the gradient's forward function."""
    return t.gather(t.tanh(t.matmul(x, w)), [1, 0]) + t.gather(w, [2, 0])[0, 0]


MODELS = {
    "matmul_loop": _matmul_loop,
    "early_exit_loop": _early_exit_loop,
    "two_loop_variables": _two_loop_variables,
    "nested_loops": _nested_loops,
    "cond_in_loop": _cond_in_loop,
    "loop_in_cond": _loop_in_cond,
    "plain_cond": _plain_cond,
    "switch_case_with_a_loop": _switch_case_with_a_loop,
    "gather_in_loop": _gather_in_loop,
    "gather_of_an_intermediate": _gather_of_an_intermediate,
}
OPTIMIZERS = {
    "sgd": lambda t: t.train.GradientDescentOptimizer(0.1),
    "adam": lambda t: t.train.AdamOptimizer(0.05),
    "momentum": lambda t: t.train.MomentumOptimizer(0.05, 0.9),
}
STEPS = 3


def _build(t, model, optimizer):
    x = t.placeholder(t.float32, [2, 3], name="x")
    w = t.Variable(W0, name="w")
    h = model(t, x, w)
    loss = t.reduce_sum(t.square(h - 1.0), name="loss")
    grad = t.gradients(loss, [w], name="loss_gradients")[0]
    train = OPTIMIZERS[optimizer](t).minimize(loss, name="train")
    for key, value in (("loss", loss), ("train", train), ("w", t.identity(w, name="w_value")), ("grad", grad)):
        t.add_to_collection(key, value)
    return loss, train, w, grad


def _steps(sess, graph, steps: int = STEPS) -> list:
    """(loss, dloss/dw) before the steps, then (loss, w) after each training step, in separate runs (TF
    orders nothing between a fetch and a train op of one run)."""
    feed = {"x:0": X}
    get = lambda key: graph.get_collection(key)[0]  # noqa: E731
    out = [sess.run([get("loss"), get("grad")], feed)]
    for _ in range(steps):
        sess.run(get("train"), feed)
        out.append(sess.run([get("loss"), get("w")], feed))
    return out


def _train_and_export(tmp_path, model, optimizer="sgd"):
    return roundtrip.train_and_export(tmp_path, lambda: _build(tf, model, optimizer), _steps)


def _import_and_train(lib, prefix: str) -> list:
    return roundtrip.import_and_train(lib, prefix, _steps)


def _assert_same(got: list, want: list) -> None:
    roundtrip.assert_same(got, want, atol=1e-6)


@pytest.mark.oracle
@pytest.mark.parametrize("model", sorted(MODELS))
def test_tf_trains_the_exported_meta_graph(model, tmp_path):
    v1 = oracle.tf1()
    _, prefix, want = _train_and_export(tmp_path, MODELS[model])
    _assert_same(_import_and_train(v1, prefix), want)


@pytest.mark.oracle
@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_tf_trains_with_slot_optimizers(optimizer, tmp_path):
    v1 = oracle.tf1()
    _, prefix, want = _train_and_export(tmp_path, _matmul_loop, optimizer)
    _assert_same(_import_and_train(v1, prefix), want)


@pytest.mark.parametrize("model", ["matmul_loop", "cond_in_loop", "gather_in_loop"])
def test_graphcompat_reimports_its_export(model, tmp_path):
    """The GradientDefs and wrapper calls are for TF only: graphcompat re-imports the library (calls are
    inlined, GradientDefs ignored) and keeps training with the same numbers."""
    _, prefix, want = _train_and_export(tmp_path, MODELS[model])
    _assert_same(_import_and_train(tf, prefix), want)


def test_graph_itself_is_unchanged():
    """Only the exported library changes: the Graph keeps its While ops and no wrapper functions, and the
    top-level GraphDef nodes are the While ops themselves."""
    g = tf.Graph()
    with g.as_default():
        _build(tf, _nested_loops, "sgd")
    names_before = set(g._functions)
    gd = g.as_graph_def()
    assert set(g._functions) == names_before
    assert [n.op for n in gd.node if n.name == "outer"] == ["StatelessWhile"]
    lib = {f.signature.name: f for f in gd.library.function}
    grads = {e.function_name: e.gradient_func for e in gd.library.gradient}
    assert grads and all(a in lib and b in lib for a, b in grads.items())
    forward = [lib[name] for name, fn in g._functions.items() if fn.kind == "function"]
    assert forward
    for f in forward:  # the forward functions call wrappers with GradientDefs instead of While
        ops = {n.op for n in f.node_def}
        assert not ops & {"While", "StatelessWhile"}
        assert any(op in grads for op in ops)
    # A wrapper holds the loop itself and is never inlined before TF differentiates it.
    for name in grads:
        assert lib[name].attr["_noinline"].b


@pytest.mark.oracle
def test_exported_gradient_functions_are_tfs_vocabulary(tmp_path):
    """Every node of the generated functions is a TF op or a call of a library function."""
    v1 = oracle.tf1()
    from tensorflow.python.framework import op_def_registry
    g, _, _ = _train_and_export(tmp_path, _cond_in_loop)
    gd = g.as_graph_def()
    lib = {f.signature.name for f in gd.library.function}
    for f in gd.library.function:
        for n in f.node_def:
            assert n.op in lib or op_def_registry.get(n.op) is not None, (f.signature.name, n.op)
    assert v1 is not None


@pytest.mark.oracle
def test_gather_along_another_axis_fails_in_tf_not_silently(tmp_path):
    """The exported GatherV2 gradient handles axis 0; another axis that only the run knows (a gradient's
    forward function takes constants as arguments) fails TF's run with an assertion, never a wrong value."""
    v1 = oracle.tf1()
    _, prefix, _ = _train_and_export(tmp_path, lambda t, x, w: t.gather(t.tanh(t.matmul(x, w)), [2, 0], axis=1))
    with pytest.raises(v1.errors.InvalidArgumentError, match="handles axis 0 only"):
        _import_and_train(v1, prefix)


def _dropout_loop(t, x, w):
    return t.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, t.nn.dropout(t.tanh(t.matmul(h, w)), rate=0.3)),
                        [0, x], maximum_iterations=3, name="loop")[1]


@pytest.mark.oracle
@pytest.mark.parametrize("model, op_type", [(_dropout_loop, "RandomUniform")])
def test_a_loop_with_effects_refuses_its_tf_gradient(model, op_type, tmp_path):
    """TF's SymbolicGradient runs a body again to differentiate it: a dropout in the loop would draw a new
    mask (a wrong gradient), an assign would count twice. The exported gradient fails TF's run instead,
    naming the op; the forward pass runs. (A loop that assigns is not here: graphcompat's own gradient
    through it fails, `LinearizeTracer has no attribute key` in AssignAdd's rule.)"""
    v1 = oracle.tf1()
    _, prefix, _ = _train_and_export(tmp_path, model)
    with v1.Graph().as_default() as tg:
        saver = v1.train.import_meta_graph(prefix + ".meta")
        with v1.Session(graph=tg) as sess:
            saver.restore(sess, prefix)
            assert np.isfinite(sess.run("loss:0", {"x:0": X}))
            with pytest.raises(v1.errors.InvalidArgumentError, match=f"whose body has a {op_type} op"):
                sess.run("train", {"x:0": X})


@pytest.mark.oracle
def test_tf_gradient_of_a_graph_without_a_trained_loop(tmp_path):
    """A gradient that does not cross the loop leaves the loop's library untouched."""
    v1 = oracle.tf1()
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        w = tf.Variable(W0, name="w")
        _, h = tf.while_loop(lambda i, h: i < 2, lambda i, h: (i + 1, h * 2.0), [0, x], maximum_iterations=2)
        loss = tf.reduce_sum(tf.matmul(x, w) * 3.0, name="loss")
        grad = tf.gradients(loss, w)[0]
        gd = g.as_graph_def()
        assert not gd.library.gradient
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            want = sess.run([h, grad], {x: X})
    with v1.Graph().as_default() as tg:
        v1.import_graph_def(v1.GraphDef.FromString(gd.SerializeToString()), name="")
        with v1.Session(graph=tg) as sess:
            sess.run("init" if "init" in {n.name for n in gd.node} else "w/Assign")
            got = sess.run([h.name, grad.name], {"x:0": X})
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.oracle
@pytest.mark.slow
def test_tf_runs_the_exported_saved_model_training_step(tmp_path):
    """A SavedModel of a loop model: TF loads it (variables from the SavedModel's checkpoint), runs the
    training op the graph holds and gets graphcompat's losses and weights."""
    v1 = oracle.tf1()
    export_dir = os.path.join(str(tmp_path), "sm")
    g = tf.Graph()
    with g.as_default():
        loss, train, w, _ = _build(tf, _nested_loops, "adam")
        x = g.get_tensor_by_name("x:0")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.saved_model.simple_save(sess, export_dir, {"x": x}, {"loss": loss})
            want = _steps(sess, g)
    for lib in (v1, tf):
        with lib.Graph().as_default() as tg:
            with lib.Session(graph=tg) as sess:
                lib.saved_model.loader.load(sess, ["serve"], export_dir)
                got = _steps(sess, tg)
        _assert_same(got, want)


@pytest.mark.oracle
def test_tf_imports_a_dynamic_rnn_training_meta_graph_and_trains_it(tmp_path):
    """dynamic_rnn's loop reads and writes TensorArrays. The meta graph imports into TF (the gradient node's
    arguments claim no output shape of their own), TF computes graphcompat's loss and trains it: the
    gradient's forward function is exported with TensorLists (forward_values.py; the models are in
    tests/test_export_rnn_training.py)."""
    v1 = oracle.tf1()
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        xs = tf.reshape(tf.tile(x, [1, 4]), [2, 4, 3])
        out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(3), xs, dtype=tf.float32)
        loss = tf.reduce_sum(tf.square(out[:, -1] - 1.0), name="loss")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, os.path.join(str(tmp_path), "rnn"))
            want = [sess.run(loss, {x: X})]
            sess.run(train, {x: X})
            want.append(sess.run(loss, {x: X}))
    with v1.Graph().as_default() as tg:
        saver = v1.train.import_meta_graph(prefix + ".meta")
        with v1.Session(graph=tg) as sess:
            saver.restore(sess, prefix)
            got = [sess.run("loss:0", {"x:0": X})]
            sess.run("train", {"x:0": X})
            got.append(sess.run("loss:0", {"x:0": X}))
    np.testing.assert_allclose(got, want, rtol=1e-5)
