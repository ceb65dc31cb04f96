"""The graph's function library: cond/while/scan bodies as named functions, exported as TF FunctionDefs.

graphcompat writes GraphDefs and meta graphs whose control flow TF imports and runs (oracle), and
re-imports its own.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import graphcompat as tf
from graphcompat.framework import function_library
from tests import oracle

X = np.array([1.0, -2.0, 3.0], np.float32)


def _cond_model():
    x = tf.placeholder(tf.float32, [3], name="x")
    y = tf.cond(tf.reduce_sum(x) > 0, lambda: x * 2.0, lambda: x - 1.0, name="c")
    return tf.identity(y, name="out")


def _nested_model():
    x = tf.placeholder(tf.float32, [3], name="x")

    def body(i, acc):
        acc = tf.cond(tf.equal(i % 2, 0), lambda: acc + x, lambda: acc * 1.5)
        return i + 1, acc
    _, r = tf.while_loop(lambda i, a: i < 5, body, [tf.constant(0), tf.zeros([3])], name="w")
    return tf.identity(r, name="out")


def _bounded_model():
    x = tf.placeholder(tf.float32, [3], name="x")
    _, r = tf.while_loop(lambda i, a: tf.reduce_sum(a) < 100.0, lambda i, a: (i + 1, a * 2.0 + x),
                         [tf.constant(0), tf.ones([3])], maximum_iterations=4, name="w")
    return tf.identity(r, name="out")


def _build(model):
    g = tf.Graph()
    with g.as_default():
        out = model()
        with tf.Session() as sess:
            want = sess.run(out, {"x:0": X})
    return g, out, want


def _top_level_names(gd) -> set:
    return {n.name for n in gd.node}


def test_cond_records_two_library_functions_named_by_func_attrs():
    g, out, _ = _build(_cond_model)
    op = g.get_operation_by_name("c")
    assert op.type == "StatelessIf"
    names = {op.get_attr("then_branch").name, op.get_attr("else_branch").name}
    assert names == set(g._functions)
    assert all(n.startswith(("cond_true_", "cond_false_")) for n in names)
    assert not [k for k in op.attrs if k.startswith("_graphcompat")]


def test_graph_def_writes_bodies_in_library_not_top_level():
    g, out, _ = _build(_nested_model)
    gd = g.as_graph_def()
    top = _top_level_names(gd)
    assert "w" in top and "out" in top
    assert not any(n.startswith("w/") and n not in ("w/loop_counter", "w/maximum_iterations")
                   and not n.startswith("w/Identity") for n in top)
    lib = {f.signature.name: f for f in gd.library.function}
    assert len(lib) == 4
    w = next(n for n in gd.node if n.name == "w")
    assert w.op == "StatelessWhile" and {w.attr["cond"].func.name, w.attr["body"].func.name} <= set(lib)
    # TF's while_v2 signature: (loop_counter, maximum_iterations, *loop vars, *captures)
    body = lib[w.attr["body"].func.name]
    assert [a.name for a in body.signature.input_arg][:2] == ["loop_counter", "maximum_iterations"]
    assert len(body.signature.input_arg) == len(body.signature.output_arg) == len(w.attr["T"].list.type)
    for f in lib.values():
        nodes = {n.name for n in f.node_def}
        args = {a.name for a in f.signature.input_arg}
        for n in f.node_def:
            for text in n.input:
                src = text.lstrip("^").split(":")[0]
                assert src in nodes or src in args, (f.signature.name, n.name, text)
            assert not [k for k in n.attr if k.startswith("_graphcompat")]


@pytest.mark.oracle
@pytest.mark.parametrize("model", [_cond_model, _nested_model, _bounded_model])
def test_tf_runs_graph_def_with_library(model):
    v1 = oracle.tf1()
    g, out, want = _build(model)
    data = g.as_graph_def().SerializeToString()
    tg = v1.Graph()
    with tg.as_default():
        v1.import_graph_def(v1.GraphDef.FromString(data), name="")
        with v1.Session(graph=tg) as sess:
            got = sess.run("out:0", {"x:0": X})
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.fixture
def tf_v2_control_flow():
    """TF with functional control flow (what graphcompat records), restored afterwards."""
    v1 = oracle.tf1()
    was = v1.control_flow_v2_enabled()
    v1.enable_control_flow_v2()
    yield v1
    if not was:
        v1.disable_control_flow_v2()


@pytest.mark.oracle
def test_stateless_and_stateful_op_types_as_tf(tf_v2_control_flow):
    """TF records StatelessIf/StatelessWhile unless a body holds a stateful op (a resource read, a
    random op, nested stateful control flow)."""
    v1 = tf_v2_control_flow

    def build(t):
        x = t.placeholder(t.float32, [], name="x")
        t.cond(x > 0, lambda: x * 2, lambda: x - 1)
        t.while_loop(lambda i: i < 3, lambda i: i + 1, [0])
        v = t.get_variable("v", [], use_resource=True)
        t.cond(x > 0, lambda: v.read_value(), lambda: x)
        t.cond(x > 0, lambda: t.random_uniform([]), lambda: x)
        t.while_loop(lambda i: i < 3, lambda i: i + t.random_uniform([]), [0.0])
        t.while_loop(lambda i: i < 3, lambda i: t.cond(i > 1.0, lambda: i + t.random_uniform([]), lambda: i + 1),
                     [0.0])
        g = t.get_default_graph()
        # TF's get_operations() lists top-level ops only; graphcompat's also lists the bodies' ops
        inner = function_library.body_ops(g) if t is tf else set()
        return [(op.name, op.type) for op in g.get_operations()
                if op.type.endswith(("If", "While")) and op not in inner]
    assert build_in(tf, build) == build_in(v1, build)


@pytest.mark.oracle
def test_same_numbers_as_tf_built_model(tf_v2_control_flow):
    v1 = tf_v2_control_flow

    def build(t):
        x = t.constant(X)

        def body(i, acc):
            acc = t.cond(t.equal(i % 2, 0), lambda: acc + x, lambda: acc * 1.5)
            return i + 1, acc
        return t.while_loop(lambda i, a: i < 5, body, [t.constant(0), t.zeros([3])])[1]
    np.testing.assert_allclose(oracle.run(tf, build), oracle.run(v1, build), rtol=1e-6)


def _variable_model():
    x = tf.placeholder(tf.float32, [3], name="x")
    v = tf.Variable(np.array([0.5, 1.0, 2.0], np.float32), name="v")
    _, r = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, tf.cond(i > 0, lambda: a * v, lambda: a + x)),
                         [tf.constant(0), tf.ones([3])], name="w")
    out = tf.identity(r, name="out")
    tf.add_to_collection("outputs", out)
    return out


def _save_meta(tmp_path):
    g = tf.Graph()
    with g.as_default():
        out = _variable_model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            want = sess.run(out, {"x:0": X})
            prefix = saver.save(sess, os.path.join(str(tmp_path), "model"))
    return prefix, want


def test_graphcompat_reimports_its_meta_graph(tmp_path):
    prefix, want = _save_meta(tmp_path)
    g = tf.Graph()
    with g.as_default():
        saver = tf.train.import_meta_graph(prefix + ".meta")
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            got = sess.run(tf.get_collection("outputs")[0], {"x:0": X})
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.oracle
def test_tf_runs_graphcompat_meta_graph(tmp_path):
    v1 = oracle.tf1()
    prefix, want = _save_meta(tmp_path)
    tg = v1.Graph()
    with tg.as_default():
        saver = v1.train.import_meta_graph(prefix + ".meta")
        with v1.Session(graph=tg) as sess:
            saver.restore(sess, prefix)
            got = sess.run(tg.get_collection("outputs")[0], {"x:0": X})
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.oracle
def test_back_prop_false_stops_gradients_as_tf(tf_v2_control_flow):
    v1 = tf_v2_control_flow

    def build(t):
        x = t.constant(2.0)
        r = t.while_loop(lambda a: a < 10.0, lambda a: a * x, [x], back_prop=False)
        return [t.gradients(r, x)[0] is None, r.op.type]
    assert build_in(tf, build) == build_in(v1, build) == [True, "StopGradient"]


def build_in(t, build):
    with t.Graph().as_default():
        return build(t)


def test_lowering_derives_host_from_body_ops():
    """A branch calling py_func makes its If run on the host: derived from the body, not an attr."""
    from lowering.rules.control_flow import needs_host
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(3.0)
        host = tf.cond(x > 0, lambda: tf.py_func(lambda a: a * 2, [x], tf.float32), lambda: x)
        dev = tf.cond(x > 0, lambda: x * 2, lambda: x)
        assert needs_host(host.op.inputs[0].op) and not needs_host(dev.op.inputs[0].op)
        with tf.Session() as sess:
            assert sess.run([host, dev]) == [6.0, 6.0]


def test_py_func_is_a_token_in_a_registry():
    """py_func nodes carry TF's string `token`; the callable lives in the per-process registry (TF's
    FuncRegistry), so a re-imported GraphDef runs in this process and an unknown token fails as TF's."""
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(np.float32(3.0))
        y = tf.py_func(lambda a: a * 2, [x], tf.float32, name="double")
        assert isinstance(y.op.get_attr("token"), bytes)  # TF gives string attrs as bytes
        assert all(not callable(v) for v in y.op.attrs.values())
        gd = g.as_graph_def()
    g2 = tf.Graph()
    with g2.as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            assert sess.run("double:0") == 6.0
    for node in gd.node:
        if node.op == "PyFunc":
            node.attr["token"].s = b"pyfunc_999999"
    g3 = tf.Graph()
    with g3.as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="callback pyfunc_999999 is not found"):
                sess.run("double:0")


# --- gradients: SymbolicGradient with its forward function `f` ------------------------------------
def _loop_training_model(t):
    """GradientDescent on a loss computed through a while_loop (static bound: differentiable)."""
    x = t.placeholder(t.float32, [3], name="x")
    w = t.Variable(np.array([0.5, -0.25, 1.0], np.float32), name="w")
    _, acc = t.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * 0.5 + w * x),
                          [t.constant(0), t.zeros([3])], maximum_iterations=3, name="loop")
    loss = t.reduce_sum(t.square(acc - 1.0), name="loss")
    train = t.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
    for name, v in (("loss", loss), ("train", train), ("w", t.identity(w, name="w_value"))):
        t.add_to_collection(name, v)
    return loss, train, w


def _plain_training_model(t):
    x = t.placeholder(t.float32, [4, 3], name="x")
    w = t.Variable(np.array([[0.5], [-0.25], [1.0]], np.float32), name="w")
    b = t.Variable(np.zeros([1], np.float32), name="b")
    loss = t.reduce_mean(t.square(t.nn.relu(t.matmul(x, w) + b) - 1.0), name="loss")
    train = t.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
    for name, v in (("loss", loss), ("train", train), ("w", t.identity(w, name="w_value"))):
        t.add_to_collection(name, v)
    return loss, train, w


XS = {3: X, 4: np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0}


def _train_and_export(model, tmp_path, steps=3):
    g = tf.Graph()
    with g.as_default():
        loss, train, w = model(tf)
        feed = {"x:0": XS[3] if model is _loop_training_model else XS[4]}
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):
                sess.run(train, feed)
            prefix = saver.save(sess, os.path.join(str(tmp_path), "model"))
            for _ in range(steps):
                sess.run(train, feed)
            want = sess.run([loss, w], feed)
    return prefix, feed, want


def test_symbolic_gradient_names_its_forward_function():
    g = tf.Graph()
    with g.as_default():
        loss, train, w = _plain_training_model(tf)
        (sg,) = [op for op in g.get_operations() if op.type == "SymbolicGradient"]
        fn = g._get_function(sg.get_attr("f").name)
        assert fn.outputs == [loss]
        # TF's semantics: inputs are f's arguments then one dy per output; outputs one per argument.
        assert len(sg.inputs) == len(fn.captures) + 1 and len(sg.outputs) == len(fn.captures)
        assert not [k for k in sg.attrs if k.startswith("_graphcompat")]
        gd = g.as_graph_def()
        assert sg.get_attr("f").name in {f.signature.name for f in gd.library.function}
        assert "loss" in {n.name for n in gd.node}  # the forward pass stays top-level


@pytest.mark.parametrize("model", [_loop_training_model, _plain_training_model])
def test_graphcompat_reimports_training_meta_graph_and_continues(model, tmp_path):
    prefix, feed, want = _train_and_export(model, tmp_path)
    _continue_training(tf, prefix, feed, want)


def _continue_training(lib, prefix, feed, want):
    """Imports the exported training meta graph into `lib` (graphcompat or TF), restores it, trains three
    more steps and compares the loss and weights with graphcompat's own run."""
    graph = lib.Graph()
    with graph.as_default():
        saver = lib.train.import_meta_graph(prefix + ".meta")
        with lib.Session(graph=graph) as sess:
            saver.restore(sess, prefix)
            for _ in range(3):
                sess.run(graph.get_collection("train")[0], feed)
            got = sess.run([graph.get_collection("loss")[0], graph.get_collection("w")[0]], feed)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5)


@pytest.mark.oracle
def test_tf_trains_graphcompat_meta_graph(tmp_path):
    """TF runs graphcompat's SymbolicGradient from its `f` (TF's C++ gradients of f's ops)."""
    v1 = oracle.tf1()
    prefix, feed, want = _train_and_export(_plain_training_model, tmp_path)
    _continue_training(v1, prefix, feed, want)


@pytest.mark.oracle
def test_tf_trains_graphcompat_meta_graph_through_a_while(tmp_path):
    """TF's C++ function gradients have no rule for While: the exported library gives the loop a
    GradientDef written in TF ops (framework/control_flow_gradients.py), so TF trains through it."""
    v1 = oracle.tf1()
    prefix, feed, want = _train_and_export(_loop_training_model, tmp_path)
    _continue_training(v1, prefix, feed, want)


@pytest.mark.oracle
def test_tf_loads_graphcompat_saved_model_with_control_flow(tmp_path):
    v1 = oracle.tf1()
    export_dir = os.path.join(str(tmp_path), "sm")
    g = tf.Graph()
    with g.as_default():
        out = _variable_model()
        x = g.get_tensor_by_name("x:0")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            want = sess.run(out, {x: X})
            tf.saved_model.simple_save(sess, export_dir, {"x": x}, {"out": out})
    for t in (v1, tf):
        with t.Graph().as_default() as tg:
            with t.Session(graph=tg) as sess:
                meta = t.saved_model.loader.load(sess, ["serve"], export_dir)
                sig = meta.signature_def["serving_default"]
                got = sess.run(sig.outputs["out"].name, {sig.inputs["x"].name: X})
        np.testing.assert_allclose(got, want, rtol=1e-6)


def _layer_in_branch_model():
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    p = tf.placeholder(tf.bool, [], name="p")
    y = tf.cond(p, lambda: tf.layers.dense(x, 2, name="d", kernel_initializer=tf.ones_initializer()),
                lambda: tf.zeros([2, 2]), name="c")
    kernel = tf.get_default_graph().get_tensor_by_name("d/kernel/read:0")  # created in the branch
    reg = tf.reduce_sum(kernel, name="reg")
    return tf.identity(y, name="out"), reg


@pytest.mark.oracle
def test_variables_created_in_a_branch_stay_top_level():
    v1 = oracle.tf1()
    g = tf.Graph()
    feed = {"x:0": np.ones((2, 3), np.float32), "p:0": True}
    with g.as_default():
        out, reg = _layer_in_branch_model()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            want = sess.run([out, reg], feed)
        gd = g.as_graph_def()
    top = _top_level_names(gd)
    assert {"d/kernel", "d/kernel/Assign", "d/bias", "init", "reg", "d/kernel/read"} <= top
    with v1.Graph().as_default() as tg:
        v1.import_graph_def(v1.GraphDef.FromString(gd.SerializeToString()), name="")
        with v1.Session(graph=tg) as sess:
            sess.run("init")
            got = sess.run(["out:0", "reg:0"], feed)
    np.testing.assert_allclose(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1])


def test_graphcompat_reimports_its_dynamic_rnn_training_meta_graph(tmp_path):
    """dynamic_rnn is TF's While over TensorArrays (its body a FunctionDef in the library, no Python object):
    graphcompat's own dynamic_rnn meta graph re-imports and keeps training with the same numbers (issue 12)."""
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 5, 3], name="x")
        sl = tf.placeholder(tf.int32, [None], name="sl")
        out, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.LSTMCell(4), x, sequence_length=sl, dtype=tf.float32)
        loss = tf.reduce_sum(tf.square(out)) + tf.reduce_sum(state.h)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        tf.add_to_collection("loss", loss)
        tf.add_to_collection("train", train)
        (loop,) = [op for op in g.get_operations() if op.type in ("While", "StatelessWhile")]
        assert loop.name == "rnn/while" and loop.get_attr("body").name in g._functions
        assert not [k for k in loop.attrs if k.startswith("_graphcompat")]
        feed = {"x:0": np.random.RandomState(0).rand(2, 5, 3).astype(np.float32), "sl:0": [5, 3]}
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, feed)
            prefix = saver.save(sess, os.path.join(str(tmp_path), "m"))
            sess.run(train, feed)
            want = sess.run(loss, feed)
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(prefix + ".meta")
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            sess.run(tf.get_collection("train")[0], feed)
            got = sess.run(tf.get_collection("loss")[0], feed)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_map_fn_scan_fold_reimport():
    """map_fn/scan/foldl/foldr are While loops over TensorArrays (a cond and a body each in the library);
    a re-imported GraphDef rebuilds them and gives the same values."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 2], name="x")
        w = tf.constant(2.0)
        tf.identity(tf.map_fn(lambda r: r * w, x), name="a")
        tf.identity(tf.scan(lambda acc, r: acc + r, x), name="b")
        tf.identity(tf.foldr(lambda acc, r: acc * 0.5 + r, x, initializer=tf.zeros([2])), name="c")
        feed = {"x:0": np.arange(8, dtype=np.float32).reshape(4, 2)}
        with tf.Session() as sess:
            want = sess.run(["a:0", "b:0", "c:0"], feed)
        gd = g.as_graph_def()
    assert len(gd.library.function) == 6
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            got = sess.run(["a:0", "b:0", "c:0"], feed)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b)


@pytest.mark.oracle
def test_frozen_graph_with_control_flow_runs_in_tf_and_here():
    v1 = oracle.tf1()
    g = tf.Graph()
    with g.as_default():
        out = _variable_model()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            want = sess.run(out, {"x:0": X})
            frozen = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["out"])
    assert "VariableV2" not in {n.op for n in frozen.node} and len(frozen.library.function) == 4
    for t in (v1, tf):
        with t.Graph().as_default() as tg:
            t.import_graph_def(t.GraphDef.FromString(frozen.SerializeToString()), name="")
            with t.Session(graph=tg) as sess:
                np.testing.assert_allclose(sess.run("out:0", {"x:0": X}), want, rtol=1e-6)
