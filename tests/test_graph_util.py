"""tf.graph_util: extract_sub_graph, remove_training_nodes, must_run_on_cpu, tensor_shape_from_node_def_name,
convert_variables_to_constants (ref and resource variables, gathers, TF1 and functional control flow),
and frozen graphs crossing to TF (oracle)."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

X = np.array([[1.0, 2.0], [3.0, -1.0]], np.float32)


def _program(tf_):
    x = tf_.placeholder(tf_.float32, [None, 2], name="x")
    w = tf_.get_variable("w", initializer=np.ones((2, 2), np.float32) * 2, use_resource=True)
    r = tf_.get_variable("r", initializer=np.ones((2, 2), np.float32), use_resource=False)
    e = tf_.get_variable("e", initializer=np.arange(6, dtype=np.float32).reshape(3, 2), use_resource=True)
    y = tf_.matmul(x, w) + tf_.matmul(x, r) + tf_.reduce_sum(tf_.gather(e, [0, 2]))
    tf_.assign_add(r, tf_.ones([2, 2]), name="unused_update")
    return tf_.identity(y, name="out")


def test_extract_sub_graph_keeps_what_the_outputs_need_in_order():
    a = tf.constant(1.0, name="a")
    b = tf.constant(2.0, name="b")
    with tf.control_dependencies([b]):
        c = tf.identity(a, name="c")
    tf.add(a, 5.0, name="unrelated")
    gd = tf.graph_util.extract_sub_graph(tf.get_default_graph().as_graph_def(), ["c"])
    assert [n.name for n in gd.node] == ["a", "b", "c"]
    with pytest.raises(TypeError, match="dest_nodes must be an iterable of strings"):
        tf.graph_util.extract_sub_graph(gd, "c")
    with pytest.raises(AssertionError, match="nope is not in graph"):
        tf.graph_util.extract_sub_graph(gd, ["nope"])
    del c


def _training_nodes(tf_):
    x = tf_.placeholder(tf_.float32, name="x")
    i = tf_.identity(x, name="i")
    checked = tf_.check_numerics(i, "bad", name="check")
    doubled = checked * 2.0
    with tf_.control_dependencies([i]):
        kept = tf_.identity(doubled, name="kept")  # has a control input: not spliced
    tf_.identity(kept, name="y")
    return tf_.get_default_graph().as_graph_def()


def _summary(graph_def):
    return [(n.name, n.op, list(n.input)) for n in graph_def.node]


def test_remove_training_nodes_splices_identities_and_drops_check_numerics():
    gd = tf.graph_util.remove_training_nodes(_training_nodes(tf), protected_nodes=["y"])
    names = [n.name for n in gd.node]
    assert "check" not in names and "i" in names and "kept" in names and "y" in names
    mul = next(n for n in gd.node if n.op == "Mul")
    assert list(mul.input) == ["mul/y"]  # TF drops inputs that came from a removed CheckNumerics


@pytest.mark.oracle
def test_remove_training_nodes_equals_tensorflow():
    v1 = oracle.tf1()
    with v1.Graph().as_default():
        theirs = v1.graph_util.remove_training_nodes(_training_nodes(v1), protected_nodes=["y"])
    ours = tf.graph_util.remove_training_nodes(_training_nodes(tf), protected_nodes=["y"])
    assert _summary(ours) == _summary(theirs)


def test_must_run_on_cpu_and_shape_lookup():
    s = tf.constant("a", name="s")
    f = tf.constant(1.0, name="f")
    assert tf.graph_util.must_run_on_cpu(s.op) and not tf.graph_util.must_run_on_cpu(f.op.node_def)
    v = tf.Variable(1.0, name="v")
    assert tf.graph_util.must_run_on_cpu(v.op, pin_variables_on_cpu=True)
    tf.placeholder(tf.float32, [None, 3], name="p")
    graph = tf.get_default_graph()
    assert tf.graph_util.tensor_shape_from_node_def_name(graph, "p").as_list() == [None, 3]
    assert tf.compat.v1.graph_util is tf.graph_util


def test_freezing_replaces_variables_and_reads():
    out = _program(tf)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        want = sess.run(out, {"x:0": X})
        frozen = tf.graph_util.convert_variables_to_constants(sess, tf.get_default_graph().as_graph_def(), ["out"])
    ops = {n.name: n.op for n in frozen.node}
    assert ops["w"] == ops["r"] == ops["e"] == "Const"
    assert ops["MatMul/ReadVariableOp"] == "Identity" and ops["Gather"] == "GatherV2" and ops["Gather/axis"] == "Const"
    assert "unused_update" not in ops and not {"VarHandleOp", "VariableV2", "ReadVariableOp"} & set(ops.values())
    with tf.Graph().as_default():
        y, = tf.import_graph_def(frozen, return_elements=["out:0"], name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(y, {"x:0": X}), want)


def test_freezing_honours_allow_and_deny_lists():
    _program(tf)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        gd = tf.get_default_graph().as_graph_def()
        kept = tf.graph_util.convert_variables_to_constants(sess, gd, ["out"], variable_names_whitelist=["w"])
        denied = tf.graph_util.convert_variables_to_constants(sess, gd, ["out"], variable_names_blacklist=["w"])
    assert {n.name: n.op for n in kept.node}["r"] == "VariableV2"
    assert {n.name: n.op for n in denied.node}["w"] == "VarHandleOp"


# --- oracle ----------------------------------------------------------------------------------------
@pytest.mark.oracle
def test_graphcompats_frozen_graph_equals_tensorflows_and_runs_there():
    v1 = oracle.tf1()
    from tensorflow.core.framework import graph_pb2
    graph = v1.Graph()
    with graph.as_default():
        out = _program(v1)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            want = sess.run(out, {"x:0": X})
            theirs = v1.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["out"])
    _program(tf)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        ours = tf.graph_util.convert_variables_to_constants(sess, tf.get_default_graph().as_graph_def(), ["out"])
    assert sorted((n.name, n.op) for n in ours.node) == sorted((n.name, n.op) for n in theirs.node)
    with v1.Graph().as_default():
        y, = v1.import_graph_def(graph_pb2.GraphDef.FromString(ours.SerializeToString()), return_elements=["out:0"],
                                 name="")
        with v1.Session() as sess:
            np.testing.assert_allclose(sess.run(y, {"x:0": X}), want)


@pytest.mark.oracle
@pytest.mark.parametrize("flavour", ["v1", "v2"])
def test_freezing_through_control_flow(flavour):
    """TF writes cond/while reading a resource variable; graphcompat imports, runs, freezes it (handles
    followed through Enter/Switch, or into frozen copies of the branch/body functions); both run it."""
    v1 = oracle.tf1()
    from tensorflow.core.framework import graph_pb2
    with oracle.control_flow_v2(flavour == "v2"):
        graph = v1.Graph()
        with graph.as_default():
            x = v1.placeholder(v1.float32, [None, 2], name="x")
            w = v1.get_variable("w", initializer=np.ones((2, 2), np.float32) * 2, use_resource=True)
            c = v1.cond(v1.reduce_sum(x) > 0, lambda: v1.matmul(x, w) + w, lambda: x - 1.0)
            _, looped = v1.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a + v1.reduce_sum(w)), [0, c])
            v1.identity(looped, name="out")
            init = v1.global_variables_initializer()
            with v1.Session(graph=graph) as sess:
                sess.run(init)
                want = sess.run("out:0", {"x:0": X})
            graph_def = graph.as_graph_def()
    tf.import_graph_def(graph_def, name="")
    with tf.Session() as sess:
        sess.run(init.name)
        np.testing.assert_allclose(sess.run("out:0", {"x:0": X}), want)
        frozen = tf.graph_util.convert_variables_to_constants(sess, graph_def, ["out"])
    assert not {"VarHandleOp", "ReadVariableOp"} & {n.op for n in frozen.node}
    if flavour == "v2":
        assert all(f.signature.name.endswith(tuple(f"_frozen_{i}" for i in range(8)))
                   for f in frozen.library.function)
    with tf.Graph().as_default():
        y, = tf.import_graph_def(frozen, return_elements=["out:0"], name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(y, {"x:0": X}), want)
    with v1.Graph().as_default():
        y, = v1.import_graph_def(graph_pb2.GraphDef.FromString(frozen.SerializeToString()), return_elements=["out:0"],
                                 name="")
        with v1.Session() as sess:
            np.testing.assert_allclose(sess.run(y, {"x:0": X}), want)
