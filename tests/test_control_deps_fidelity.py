"""`tf.control_dependencies` records what TF 1 records: each snippet is built in a fresh graph of graphcompat
and of real TF 2.21 `tensorflow.compat.v1`, and the GraphDefs' nodes (name, op, inputs with their `^ctrl`
inputs in order) must be the same, as must the ops TF marks `_has_manual_control_dependencies`. Errors
compare class and text. Variables name `use_resource` explicitly (TF 2's compat.v1 defaults to resource
variables unless v2 behaviour is disabled, graphcompat to TF 1's ref variables)."""
import pytest

import graphcompat
from tests import oracle

pytestmark = pytest.mark.oracle


def _graph_def(lib, build):
    graph = lib.Graph()
    with graph.as_default():
        build(lib)
    nodes = graph.as_graph_def().node
    return ([(n.name, n.op, list(n.input)) for n in nodes],
            sorted(n.name for n in nodes if "_has_manual_control_dependencies" in n.attr))


# ------------------------------------------------------------------------------------------------
# Snippets: build(tf) records ops in the default graph.
# ------------------------------------------------------------------------------------------------
def _dominated(tf):
    a, b = tf.constant(1.0, name="a"), tf.constant(2.0, name="b")
    with tf.control_dependencies([a]):
        c = tf.add(b, b, name="c")
        tf.multiply(c, b, name="d")     # c was created inside: no ^a
        tf.add(a, b, name="e")          # a is a data input: no ^a
        tf.identity(b, name="f")        # b was created outside: ^a


def _nested_domination(tf):
    a, b = tf.constant(1.0, name="a"), tf.constant(2.0, name="b")
    with tf.control_dependencies([a]):
        c = tf.identity(b, name="c")
        with tf.control_dependencies([b]):
            tf.identity(c, name="d")    # dominated for the outer block only
            e = tf.identity(a, name="e")
        tf.identity(e, name="f")        # e was created in both blocks
    tf.identity(c, name="g")


def _nested_and_none(tf):
    a, b, x = tf.constant(1.0, name="a"), tf.constant(2.0, name="b"), tf.constant(3.0, name="x")
    with tf.control_dependencies([a]):
        with tf.control_dependencies([b, a, b]):   # a comes from the outer block, b once
            tf.identity(x, name="c")
            with tf.control_dependencies(None):
                tf.identity(x, name="d")
                with tf.control_dependencies([x]):
                    tf.identity(a, name="e")
            tf.identity(x, name="f")


def _sorted_and_empty(tf):
    a, zz, b = tf.constant(1.0, name="a"), tf.constant(9.0, name="zz"), tf.constant(2.0, name="b")
    with tf.control_dependencies([zz, a, b]):
        tf.identity(a, name="c")
        with tf.control_dependencies([]):
            tf.constant(0.0, name="k")


def _multi_output(tf):
    x = tf.constant([3.0, 1.0, 2.0], name="x")
    with tf.control_dependencies([x]):
        vals, idx = tf.nn.top_k(x, 2, name="top")
    with tf.control_dependencies([idx]):
        tf.identity(vals, name="v")    # vals' op is the control op: a data input


def _strings_and_names(tf):
    a = tf.constant(1.0, name="a")
    tf.Variable(1.0, name="v", use_resource=False)
    with tf.control_dependencies(["a", "v/Assign", "a:0"]):
        tf.identity(a, name="d")
        tf.constant(5.0, name="e")


def _ref_variable_input(tf):
    a = tf.constant(1.0, name="a")
    v = tf.Variable(1.0, name="v", use_resource=False)
    with tf.control_dependencies([v]):
        tf.identity(a, name="c")
    with tf.control_dependencies([v.initializer, v.value()]):
        tf.identity(a, name="d")


def _resource_variable_and_slices(tf):
    a = tf.constant(1.0, name="a")
    v = tf.get_variable("rv", shape=[], use_resource=True, initializer=tf.zeros_initializer())
    with tf.control_dependencies([v]):        # the VarHandleOp, not a read
        tf.identity(a, name="c")
    s = tf.IndexedSlices(a, tf.constant([0], name="i"), None)
    with tf.control_dependencies([s]):
        tf.identity(a, name="d")


def _helpers_ref(tf):
    a = tf.constant(1.0, name="a")
    with tf.control_dependencies([a]):
        v = tf.Variable(1.0, name="v", use_resource=False)   # built in init_scope: no ^a
        w = tf.get_variable("w", shape=[], use_resource=False, initializer=tf.ones_initializer())
        asg = tf.assign(v, 2.0, name="asg")
        tf.assign_add(w, 1.0, name="inc")
        tf.group(asg, name="g")
        tf.no_op(name="n")
        tf.identity(v, name="idv")


def _helpers_resource(tf):
    a = tf.constant(1.0, name="a")
    with tf.control_dependencies([a]):
        v = tf.get_variable("v", shape=[], use_resource=True, initializer=tf.zeros_initializer())
        v.assign(2.0, name="asg")
        v.assign_add(1.0, read_value=False, name="inc")
        tf.identity(v.read_value(), name="r")


def _group_tuple_with_dependencies(tf):
    a, b, x = tf.constant(1.0, name="a"), tf.constant(2.0, name="b"), tf.constant(3.0, name="x")
    with tf.control_dependencies([a]):
        tf.group(tf.identity(x, name="i1"), b.op, name="g")
        tf.tuple([x, b], name="t")
        tf.tuple([x], control_inputs=[b], name="t2")
    tf.group(name="empty")


def _cond(tf):
    a, x = tf.constant(1.0, name="a"), tf.constant(2.0, name="x")
    p = tf.placeholder(tf.bool, [], name="p")
    with tf.control_dependencies([a]):
        tf.cond(x > 0, lambda: x + 1, lambda: x - 1, name="c1")
        tf.cond(p, lambda: x * 2, lambda: x, name="c2")        # predicate and capture from outside


def _while(tf):
    a, x = tf.constant(1.0, name="a"), tf.constant(2.0, name="x")
    with tf.control_dependencies([a]):
        tf.while_loop(lambda i: i < 3.0, lambda i: i + 1, [x], name="w1")
        tf.while_loop(lambda i: i < 3.0, lambda i: i + 1, [x], maximum_iterations=4, name="w2")


def _control_flow_bodies(tf):
    """control_dependencies inside bodies live in the library; the outer ops are compared."""
    a, x = tf.constant(1.0, name="a"), tf.constant(2.0, name="x")

    def body(i):
        with tf.control_dependencies([i]):
            # named: graphcompat records bodies in the outer graph's namespace, so an unnamed
            # Identity here would push the loop's own w/Identity to w/Identity_1
            return tf.identity(i + 1, name="next")
    with tf.control_dependencies([a]):
        tf.while_loop(lambda i: i < 3.0, body, [x], name="w")
    tf.identity(x, name="after")


def _source_graph(tf):
    src = tf.Graph()
    with src.as_default():
        p = tf.placeholder(tf.float32, [], name="p")
        q = tf.identity(p, name="q")
        tf.add(p, q, name="r")
        k = tf.constant(3.0, name="k")
        with tf.control_dependencies([k]):
            tf.identity(p, name="s")
    return src.as_graph_def()


def _import(tf):
    graph_def = _source_graph(tf)
    a = tf.constant(1.0, name="a")
    with tf.control_dependencies([a]):
        tf.import_graph_def(graph_def, name="imp")


def _import_nested_input_map(tf):
    graph_def = _source_graph(tf)
    a, b = tf.constant(1.0, name="a"), tf.constant(2.0, name="b")
    with tf.control_dependencies([a]):
        with tf.control_dependencies([b]):
            # every imported node gets ^a ^b, even those fed by `a` (TF does not prune imports)
            r, = tf.import_graph_def(graph_def, input_map={"p:0": a}, return_elements=["r:0"], name="imp")
        tf.identity(r, name="after")      # imported ops count as created in the block: dominated
        tf.identity(b, name="after2")
    tf.import_graph_def(graph_def, name="plain")


def _import_meta_graph(tf):
    src = tf.Graph()
    with src.as_default():
        w = tf.get_variable("w", shape=[], use_resource=False, initializer=tf.ones_initializer())
        tf.identity(w, name="out")
        tf.train.Saver()
        meta = tf.train.export_meta_graph()
    a = tf.constant(1.0, name="a")
    with tf.control_dependencies([a]):
        tf.train.import_meta_graph(meta, import_scope="m")


SNIPPETS = {
    "dominated": _dominated,
    "nested_domination": _nested_domination,
    "nested_and_none": _nested_and_none,
    "sorted_and_empty": _sorted_and_empty,
    "multi_output": _multi_output,
    "strings_and_names": _strings_and_names,
    "ref_variable_input": _ref_variable_input,
    "resource_variable_and_slices": _resource_variable_and_slices,
    "helpers_ref": _helpers_ref,
    "helpers_resource": _helpers_resource,
    "group_tuple_with_dependencies": _group_tuple_with_dependencies,
    "cond": _cond,
    "while": _while,
    "control_flow_bodies": _control_flow_bodies,
    "import": _import,
    "import_nested_input_map": _import_nested_input_map,
    "import_meta_graph": _import_meta_graph,
}


@pytest.mark.parametrize("label", list(SNIPPETS))
def test_graph_def_matches_tf(label):
    v1 = oracle.tf1()
    build = SNIPPETS[label]
    got_nodes, got_marked = _graph_def(graphcompat, build)
    want_nodes, want_marked = _graph_def(v1, build)
    assert got_nodes == want_nodes
    assert got_marked == want_marked


def test_op_control_inputs_match_tf():
    """`op.control_inputs` holds the same ops as the GraphDef's `^` inputs (TF keeps no useful order)."""
    v1 = oracle.tf1()

    def control_inputs(lib):
        graph = lib.Graph()
        with graph.as_default():
            _import_nested_input_map(lib)
            _dominated(lib)
        return {op.name: sorted(c.name for c in op.control_inputs) for op in graph.get_operations()}
    assert control_inputs(graphcompat) == control_inputs(v1)


def test_dominated_ops_still_wait_for_the_block():
    """Pruning drops only redundant edges: an op fed by a block's op still runs the block's inputs."""
    v1 = oracle.tf1()

    def build(tf):
        counter = tf.get_variable("n", shape=[], dtype=tf.int32, use_resource=False,
                                  initializer=tf.zeros_initializer())
        x = tf.constant(2, name="x")
        with tf.control_dependencies([tf.assign_add(counter, 1)]):
            y = tf.identity(x) * 3           # the Mul is dominated: no ^AssignAdd of its own
        return [y, counter]

    def run(lib):
        graph = lib.Graph()
        with graph.as_default():
            y, counter = build(lib)
            with lib.Session() as sess:
                sess.run(lib.global_variables_initializer())
                sess.run(y)
                sess.run(y)
                return sess.run(counter)
    assert run(graphcompat) == run(v1) == 2


# ------------------------------------------------------------------------------------------------
# Errors: class and text as TF's.
# ------------------------------------------------------------------------------------------------
def _other_graph_tensor(tf):
    other = tf.Graph()
    with other.as_default():
        return tf.constant(1.0, name="z")


BAD_INPUTS = {
    "int": lambda tf, a: 1,
    "float": lambda tf, a: 1.5,
    "none": lambda tf, a: None,
    "callable": lambda tf, a: (lambda: a),
    "nested_list": lambda tf, a: [a],
    "missing_op": lambda tf, a: "nope",
    "missing_output": lambda tf, a: "a:5",
    "bad_tensor_name": lambda tf, a: "a:x",
    "other_graph": lambda tf, a: _other_graph_tensor(tf),
}


@pytest.mark.parametrize("label", list(BAD_INPUTS))
def test_bad_control_input_errors_match_tf(label):
    v1 = oracle.tf1()

    def error(lib):
        graph = lib.Graph()
        with graph.as_default():
            a = lib.constant(1.0, name="a")
            bad = BAD_INPUTS[label](lib, a)
            with pytest.raises(Exception) as info:
                with lib.control_dependencies([bad]):
                    pass
        return type(info.value).__name__, str(info.value)
    assert error(graphcompat) == error(v1)


def test_failed_block_adds_nothing():
    """A bad input leaves the graph's open blocks as they were (TF raises before entering)."""
    v1 = oracle.tf1()

    def build(tf):
        a, b = tf.constant(1.0, name="a"), tf.constant(2.0, name="b")
        with tf.control_dependencies([a]):
            with pytest.raises(TypeError):
                with tf.control_dependencies([b, 3]):
                    pass
            tf.identity(b, name="c")
    assert _graph_def(graphcompat, build)[0] == _graph_def(v1, build)[0]
