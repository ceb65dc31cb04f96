"""tf.import_graph_def: names, input_map, return_elements, devices, colocation, Const dtypes, TF's errors,
atomicity; tf.make_tensor_proto / tf.make_ndarray. Oracle tests compare with real TensorFlow."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle


def _base_graph_def():
    """x (placeholder) → y = x + 1 → z = identity(y), written by graphcompat."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        y = tf.add(x, 1.0, name="y")
        tf.identity(y, name="z")
    return g.as_graph_def()


def _names():
    return [op.name for op in tf.get_default_graph().get_operations()]


# --- names, input_map, return_elements ------------------------------------------------------------
def test_prefixes_and_uniquified_scopes():
    gd = _base_graph_def()
    assert tf.import_graph_def(gd) is None
    tf.import_graph_def(gd)
    tf.import_graph_def(gd, name="foo")
    with tf.name_scope("outer"):
        z, y = tf.import_graph_def(gd, return_elements=["z:0", "y"])
    assert z.name == "outer/import/z:0" and y.name == "outer/import/y" and y.type == "AddV2"
    assert _names()[:4] == ["import/x", "import/y/y", "import/y", "import/z"]
    assert "import_1/z" in _names() and "foo/z" in _names()


def test_empty_name_uniquifies_clashing_nodes():
    tf.constant(1.0, name="x")
    tf.import_graph_def(_base_graph_def(), name="")
    assert _names() == ["x", "x_1", "y/y", "y", "z"]
    assert tf.get_default_graph().get_operation_by_name("y").inputs[0].name == "x_1:0"


@pytest.mark.parametrize("order,expected", [
    ([0, 1, 2, 3], ["x", "y/y", "y", "z"]),   # GraphDef order is topological: kept
    ([3, 2, 1, 0], ["y/y", "x", "y", "z"]),   # consumers first: each node once its inputs are built
    ([1, 3, 0, 2], ["y/y", "x", "y", "z"]),
])
def test_nodes_are_created_in_graph_def_order_where_inputs_allow(order, expected):
    gd = _base_graph_def()
    assert [n.name for n in gd.node] == ["x", "y/y", "y", "z"]
    shuffled = tf.GraphDef()
    shuffled.node.extend([gd.node[i] for i in order])
    tf.import_graph_def(shuffled, name="")
    assert _names() == expected
    assert [op._id for op in tf.get_default_graph().get_operations()] == [0, 1, 2, 3]


def test_input_map_replaces_tensors_and_runs():
    feed = tf.constant([[1.0, 2.0]], name="feed")
    z, = tf.import_graph_def(_base_graph_def(), input_map={"x:0": feed}, return_elements=["z:0"])
    assert z.op.inputs[0].op.inputs[0] is feed
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(z), [[2.0, 3.0]])


def test_input_map_plain_values_become_constants_in_inputs_scope():
    z, = tf.import_graph_def(_base_graph_def(), input_map={"x": [[1.0, 2.0]]}, return_elements=["z:0"])
    assert "import/_inputs/Const" in _names()
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(z), [[2.0, 3.0]])


def test_input_map_control_dependency():
    marker = tf.no_op(name="marker")
    gd = tf.GraphDef()
    gd.node.add(name="n", op="NoOp")
    gd.node.add(name="m", op="NoOp", input=["^n"])
    m, = tf.import_graph_def(gd, input_map={"^n": tf.constant(0.0)}, return_elements=["m"])
    assert m.control_inputs[0].type == "Const"
    del marker


def test_control_dependencies_and_devices_of_the_context_apply():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        with tf.device("/cpu:0"):
            y = tf.add(x, 1.0, name="y")
        with tf.colocate_with(y.op):
            tf.identity(y, name="z")
    gd = g.as_graph_def()
    gate = tf.no_op(name="gate")
    with tf.control_dependencies([gate]), tf.device("/job:w/task:1"):
        tf.import_graph_def(gd, name="")
    graph = tf.get_default_graph()
    assert graph.get_operation_by_name("x").device == "/job:w/task:1"
    assert graph.get_operation_by_name("y").device == "/job:w/task:1/device:CPU:0"
    z = graph.get_operation_by_name("z")
    assert z.device == "/job:w/task:1/device:CPU:0" and z.get_attr("_class") == [b"loc:@y"]
    assert all(graph.get_operation_by_name(n).control_inputs == [gate] for n in ("x", "y", "z"))


def test_colocation_attrs_get_the_prefix():
    g = tf.Graph()
    with g.as_default():
        y = tf.constant(1.0, name="y")
        with tf.colocate_with(y.op):
            tf.identity(y, name="z")
    tf.import_graph_def(g.as_graph_def(), name="p")
    assert tf.get_default_graph().get_operation_by_name("p/z").get_attr("_class") == [b"loc:@p/y"]


def test_shapes_reinferred_and_output_shapes_ignored():
    gd = _base_graph_def()
    for node in gd.node:
        node.attr["_output_shapes"].list.shape.add().dim.add(size=99)
    y, = tf.import_graph_def(gd, return_elements=["y:0"])
    assert y.shape.as_list() == [None, 2]
    assert "_output_shapes" not in y.op.attrs


def test_default_attrs_are_filled():
    gd = tf.GraphDef()
    gd.node.add(name="p", op="Placeholder").attr["dtype"].type = tf.float32.as_datatype_enum
    s = gd.node.add(name="s", op="Sum", input=["p", "axis"])
    s.attr["T"].type = tf.float32.as_datatype_enum
    s.attr["Tidx"].type = tf.int32.as_datatype_enum
    axis = gd.node.add(name="axis", op="Const")
    axis.attr["dtype"].type = tf.int32.as_datatype_enum
    axis.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(0))
    p, s = tf.import_graph_def(gd, return_elements=["p:0", "s"])
    assert p.shape.ndims is None and s.get_attr("keep_dims") is False
    with tf.Session() as sess:
        assert sess.run(s.outputs[0], {p: [1.0, 2.0]}) == 3.0


# --- Const nodes of every dtype ---------------------------------------------------------------------
CONST_VALUES = [
    np.array([[1.5, -2.0], [3.25, 4.0]], np.float32), np.array([1.0, 2.5], np.float64),
    np.array([1.5, -2.25, 65504.0], np.float16), np.array([7, -8], np.int8), np.array([300, -2], np.int16),
    np.array([2 ** 31 - 1, -5], np.int32), np.array([2 ** 40, -3], np.int64), np.array([255, 7], np.uint8),
    np.array([65535, 1], np.uint16), np.array([2 ** 32 - 1, 3], np.uint32), np.array([2 ** 64 - 1, 3], np.uint64),
    np.array([True, False, True]), np.array([1 + 2j, -3.5j], np.complex64), np.array([1 - 2j, 4.5], np.complex128),
    np.array([b"a", b"", b"\xff\x00"], object), np.float32(3.5), np.int64(-7), np.array(b"s", object),
    np.array([1.5, -2.0], tf.bfloat16.as_numpy_dtype),
]


@pytest.mark.parametrize("value", CONST_VALUES, ids=lambda v: str(np.asarray(v).dtype) + str(np.shape(v)))
@pytest.mark.parametrize("form", ["content", "typed"])
def test_const_of_every_dtype(value, form):
    value = np.asarray(value)
    dtype = tf.string if value.dtype == object else tf.as_dtype(value.dtype)
    proto = tf.make_tensor_proto(value)
    if form == "typed":  # the same values in the typed repeated fields (as old writers and scalars use)
        typed = tf.TensorProto(dtype=proto.dtype, tensor_shape=proto.tensor_shape)
        from graphcompat.framework.tensor_util import append_values
        append_values(typed, dtype, value.reshape(-1))
        proto = typed
    np.testing.assert_array_equal(tf.make_ndarray(proto), value)
    gd = tf.GraphDef()
    node = gd.node.add(name="c", op="Const")
    node.attr["dtype"].type = dtype.as_datatype_enum
    node.attr["value"].tensor.CopyFrom(proto)
    c, = tf.import_graph_def(gd, return_elements=["c:0"])
    assert c.dtype == dtype and c.shape.as_list() == list(value.shape)
    with tf.Session() as sess:
        got = sess.run(c)
    np.testing.assert_array_equal(np.asarray(got), value)


def test_const_single_value_broadcast_to_shape():
    for dtype, field, v in [(tf.float32, "float_val", 2.5), (tf.int32, "int_val", 7), (tf.bool, "bool_val", True),
                            (tf.string, "string_val", b"ab"), (tf.float16, "half_val", 15360)]:
        proto = tf.TensorProto(dtype=dtype.as_datatype_enum)
        proto.tensor_shape.dim.add(size=2)
        proto.tensor_shape.dim.add(size=3)
        getattr(proto, field).append(v)
        value = tf.make_ndarray(proto)
        assert value.shape == (2, 3)
        expected = np.float16(1.0) if dtype == tf.float16 else v
        assert all(x == expected for x in value.reshape(-1))
    empty = tf.TensorProto(dtype=tf.float32.as_datatype_enum)
    empty.tensor_shape.dim.add(size=4)
    np.testing.assert_array_equal(tf.make_ndarray(empty), np.zeros(4, np.float32))


def test_make_tensor_proto_shapes_and_errors():
    assert tf.make_ndarray(tf.make_tensor_proto(1.0, shape=[2, 2])).tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert tf.make_tensor_proto([1, 2]).dtype == tf.int32.as_datatype_enum
    assert tf.make_tensor_proto(np.array([1, 2], np.int64)).dtype == tf.int64.as_datatype_enum
    assert tf.make_tensor_proto([1.0]).dtype == tf.float32.as_datatype_enum
    with pytest.raises(ValueError, match="Too many elements provided. Takes at most 1, but got 2."):
        tf.make_tensor_proto([1, 2], shape=[1])
    with pytest.raises(TypeError, match="Expected Tensor's shape"):
        tf.make_tensor_proto([1, 2], shape=[3], verify_shape=True)


# --- errors (TF's classes and texts), before the graph changes ---------------------------------------
def _bad(mutate):
    gd = _base_graph_def()
    mutate(gd)
    return gd


def _node(gd, name):
    return next(n for n in gd.node if n.name == name)


ERRORS = [
    ("not a GraphDef", lambda: tf.import_graph_def("abc"), TypeError, "Argument `graph_def` must be a GraphDef proto."),
    ("input_map list", lambda: tf.import_graph_def(_base_graph_def(), input_map=[1]), TypeError,
     "Argument `input_map` must be a dictionary. Obtained list"),
    ("input_map keys", lambda: tf.import_graph_def(_base_graph_def(), input_map={1: 2}), TypeError,
     r"All keys for argument `input_map` must be strings. Obtained keys: \[1\]"),
    ("return_elements", lambda: tf.import_graph_def(_base_graph_def(), return_elements=[1]), TypeError,
     r"Argument `return_elements` must be a list of strings. Obtained \[1\]."),
    ("unmapped", lambda: tf.import_graph_def(_base_graph_def(), input_map={"nope:0": tf.constant(1.0)}),
     ValueError, r"Attempted to map inputs that were not found in graph_def: \[nope:0\]"),
    ("return tensor", lambda: tf.import_graph_def(_base_graph_def(), return_elements=["nope:0"]), ValueError,
     "Requested return tensor 'nope:0' not found in graph def"),
    ("return node", lambda: tf.import_graph_def(_base_graph_def(), return_elements=["nope"]), ValueError,
     "Requested return node 'nope' not found in graph def"),
    ("return index", lambda: tf.import_graph_def(_base_graph_def(), return_elements=["y:3"]), ValueError,
     r"Invalid return output 3 of node 'y', which has 1 output\(s\)"),
    ("tensor name", lambda: tf.import_graph_def(_base_graph_def(), return_elements=["y:a:b"]), ValueError,
     "Cannot convert 'y:a:b' to a tensor name."),
    ("mapped dtype", lambda: tf.import_graph_def(_base_graph_def(), input_map={"x:0": tf.constant([[1, 2]])}),
     ValueError, "Input 0 of node import/y was passed int32 from Const:0 incompatible with expected float."),
    ("empty name", lambda: tf.import_graph_def(_base_graph_def(), input_map={"x:0": 1.0}, name=""), ValueError,
     r"tf.import_graph_def\(\) requires a non-empty `name` if `input_map` contains non-Tensor values."),
    ("unknown input", lambda: tf.import_graph_def(_bad(lambda g: _node(g, "y").input.__setitem__(0, "no:0"))),
     ValueError, "Node 'y': Unknown input node 'no:0'"),
    ("bad output", lambda: tf.import_graph_def(_bad(lambda g: _node(g, "y").input.__setitem__(0, "x:5"))),
     ValueError, "Node 'y': Connecting to invalid output 5 of source node x which has 1 outputs."),
    ("too many inputs", lambda: tf.import_graph_def(_bad(lambda g: _node(g, "y").input.append("x"))), ValueError,
     r"NodeDef expected inputs 'float, float' do not match 3 inputs specified; Op<name=AddV2"),
    ("duplicate", lambda: tf.import_graph_def(_bad(lambda g: setattr(_node(g, "z"), "name", "y"))), ValueError,
     "Node 'y' is not unique"),
    ("missing attr", lambda: tf.import_graph_def(_bad(lambda g: _node(g, "x").attr.pop("dtype"))), ValueError,
     "NodeDef missing attr 'dtype' from Op<name=Placeholder"),
    ("cycle", lambda: tf.import_graph_def(_bad(lambda g: _node(g, "y").input.__setitem__(0, "z"))), ValueError,
     "2 nodes in a cycle"),
    ("dtype mismatch", lambda: tf.import_graph_def(
        _bad(lambda g: _node(g, "y").attr["T"].__setattr__("type", tf.int32.as_datatype_enum))), ValueError,
     "Input 0 of node import/y was passed float from import/x:0 incompatible with expected int32."),
    ("bad node name", lambda: tf.import_graph_def(_bad(lambda g: setattr(_node(g, "x"), "name", "bad name!"))),
     ValueError, "Node 'bad name!': Node name contains invalid characters"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_leave_the_graph_unchanged(case):
    _, call, cls, pattern = case
    tf.constant(0.0, name="before")
    before = _names()
    graph = tf.get_default_graph()
    with pytest.raises(cls, match=pattern):
        call()
    after = [n for n in _names() if n not in ("Const",)]  # the input_map values the test itself built
    assert after == [n for n in before if n != "Const"]
    tf.import_graph_def(_base_graph_def())  # the scope name was not used up
    assert "import/x" in _names()
    del graph


def test_unknown_op_types_named_in_one_error():
    gd = _base_graph_def()
    gd.node.add(name="q", op="FooBarOp")
    gd.node.add(name="q2", op="BazOp")
    gd.node.add(name="q3", op="FooBarOp")
    with pytest.raises(tf.errors.NotFoundError, match="Op type not registered 'BazOp', 'FooBarOp' in binary") as info:
        tf.import_graph_def(gd)
    assert isinstance(info.value, NotImplementedError)
    assert _names() == []


def test_failure_while_building_rolls_back():
    gd = _base_graph_def()
    bad = gd.node.add(name="mm", op="MatMul", input=["y", "y"])  # a shape error while building (after x, y, z exist)
    bad.attr["T"].type = tf.float32.as_datatype_enum
    gd.node.add(name="w", op="Placeholder").attr["dtype"].type = tf.float32.as_datatype_enum
    gd.node[-1].attr["shape"].shape.dim.add(size=3)
    gd.node[-2].input[1] = "w"
    tf.constant(1.0, name="keep")
    graph = tf.get_default_graph()
    consumers_before = len(graph.get_operation_by_name("keep").outputs[0].consumers())
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 0 for .import/mm."):
        tf.import_graph_def(gd, input_map={"x:0": graph.get_tensor_by_name("keep:0")})
    assert _names() == ["keep"]
    assert len(graph.get_operation_by_name("keep").outputs[0].consumers()) == consumers_before


def test_rollback_restores_consumers_and_control_outputs_of_existing_ops():
    gd = _base_graph_def()
    gd.node.add(name="mm", op="MatMul", input=["y", "w"]).attr["T"].type = tf.float32.as_datatype_enum
    w = gd.node.add(name="w", op="Placeholder")
    w.attr["dtype"].type = tf.float32.as_datatype_enum
    w.attr["shape"].shape.dim.add(size=3)
    keep = tf.constant([[1.0, 2.0]], name="keep")
    marker = tf.no_op(name="marker")
    with tf.control_dependencies([marker]), pytest.raises(ValueError, match="Shape must be rank 2"):
        tf.import_graph_def(gd, input_map={"x:0": keep})
    assert _names() == ["keep", "marker"]
    assert keep.consumers() == [] and list(marker._control_outputs) == []
    z, = tf.import_graph_def(_base_graph_def(), input_map={"x:0": keep}, return_elements=["z:0"])
    assert keep.consumers() == [z.op.inputs[0].op] and z.op.inputs[0].consumers() == [z.op]


@pytest.mark.parametrize("fixture", ["mlp_v1", "control_flow_v1", "control_flow_v2"])
def test_importer_is_freed_when_the_import_returns(fixture, monkeypatch):
    """No reference cycle through the importer: its parsed nodes (several objects per node) are freed by
    reference counting when the import returns, not left for Python's cyclic collector to find."""
    import gc
    import os
    import weakref
    from graphcompat.framework import importer
    from tests.fixtures.importer import make_fixtures
    with open(os.path.join(os.path.dirname(make_fixtures.__file__), f"{fixture}.pb"), "rb") as f:
        gd = tf.GraphDef.FromString(f.read())
    made = []
    init = importer._Importer.__init__
    monkeypatch.setattr(importer._Importer, "__init__",
                        lambda self, *a, **k: (made.append(weakref.ref(self)), init(self, *a, **k))[1])
    enabled = gc.isenabled()
    gc.disable()
    try:
        tf.import_graph_def(gd)
        assert made and all(ref() is None for ref in made)
    finally:
        if enabled:
            gc.enable()


def test_corrupt_pb_is_protobufs_decode_error():
    from google.protobuf.message import DecodeError
    with pytest.raises(DecodeError, match="Error parsing message"):
        tf.GraphDef.FromString(b"\xff\xff\xff")


def test_accepts_real_tensorflow_graph_def():
    v1 = oracle.tf1()
    g = v1.Graph()
    with g.as_default():
        x = v1.placeholder(v1.float32, [None, 3], name="x")
        v1.reduce_sum(v1.nn.relu(x - 1.0), axis=1, name="s")
    s, = tf.import_graph_def(g.as_graph_def(), return_elements=["s:0"])
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(s, {"import/x:0": [[0.0, 2.0, 3.0]]}), [3.0])


# --- oracle: the same calls in real TensorFlow --------------------------------------------------------
@pytest.mark.oracle
@pytest.mark.parametrize("value", CONST_VALUES[:-1] + [[1.0, 2.0], 3, [b"a", b"b"], "s", True, [[1, 2], [3, 4]]],
                         ids=lambda v: repr(v)[:30])
def test_make_tensor_proto_bytes_equal_tensorflow(value):
    v1 = oracle.tf1()
    ours = tf.make_tensor_proto(value).SerializeToString()
    theirs = v1.make_tensor_proto(value).SerializeToString()
    assert ours == theirs
    np.testing.assert_array_equal(np.asarray(tf.make_ndarray(tf.TensorProto.FromString(theirs))),
                                  np.asarray(v1.make_ndarray(v1.make_tensor_proto(value))))


@pytest.mark.oracle
@pytest.mark.parametrize("case", ERRORS[1:], ids=[c[0] for c in ERRORS[1:]])
def test_error_texts_match_tensorflow(case, monkeypatch):
    """Runs each bad call against real TF (graph def re-parsed as TF's message) and compares."""
    v1 = oracle.tf1()
    import tensorflow as real_tf
    _, call, cls, pattern = case
    monkeypatch.setattr(tf, "import_graph_def", lambda gd, **kw: v1.import_graph_def(
        real_tf.compat.v1.GraphDef.FromString(gd.SerializeToString()) if hasattr(gd, "SerializeToString") else gd,
        **{k: ({key: real_tf.constant(_value_of(v)) if isinstance(v, tf.Tensor) else v for key, v in val.items()}
               if k == "input_map" and isinstance(val, dict) else val) for k, val in kw.items()}))
    with real_tf.Graph().as_default():
        with pytest.raises(Exception) as info:
            call()
    err = info.value
    assert isinstance(err, cls) or (cls is ValueError and isinstance(err, ValueError))
    import re
    assert re.search(pattern.replace("import/y was passed int32 from Const:0", "import/y was passed int32 from "
                                     "Const(_[0-9]+)?:0"), str(err)), str(err)


def _value_of(v):
    if isinstance(v, tf.Tensor):
        with tf.Session(graph=v.graph) as sess:
            return sess.run(v)
    return v
