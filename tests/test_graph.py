"""Graph API: lookup, collections, finalize, feeding rules, dtypes and shapes."""
import numpy as np
import pytest

import graphcompat as tf


def test_lookup_by_name_and_errors():
    c = tf.constant(1.0, name="c")
    g = tf.get_default_graph()
    assert g.get_operation_by_name("c") is c.op
    assert g.get_tensor_by_name("c:0") is c
    assert g.as_graph_element("c:0") is c and g.as_graph_element(c.op) is c.op
    with pytest.raises(KeyError, match=r"The name 'd' refers to an Operation not in the graph\."):
        g.get_operation_by_name("d")
    with pytest.raises(KeyError, match=r"The operation, 'd', does not exist in the graph\."):
        g.get_tensor_by_name("d:0")
    with pytest.raises(KeyError, match=r"exists but only has 1 outputs"):
        g.get_tensor_by_name("c:1")
    with pytest.raises(ValueError, match="refers to an Operation, not a Tensor"):
        g.get_tensor_by_name("c")
    other = tf.Graph()
    with other.as_default():
        d = tf.constant(2.0)
    with pytest.raises(ValueError, match="is not an element of this graph"):
        g.as_graph_element(d)


def test_default_graph_stack_and_reset():
    g = tf.Graph()
    with g.as_default():
        assert tf.get_default_graph() is g
        with pytest.raises(AssertionError, match="Do not use tf.reset_default_graph"):
            tf.reset_default_graph()
    assert tf.get_default_graph() is not g


def test_collections():
    a, b = tf.constant(1, name="s/a"), tf.constant(2, name="b")
    tf.add_to_collection("mine", a)
    tf.add_to_collections(["mine", "yours"], b)
    assert tf.get_collection("mine") == [a, b]
    assert tf.get_collection("mine", scope="s") == [a]
    ref = tf.get_collection_ref("yours")
    ref.append(a)
    assert tf.get_collection("yours") == [b, a]
    assert set(tf.get_default_graph().get_all_collection_keys()) >= {"mine", "yours"}


def test_finalize_refuses_new_ops():
    tf.constant(1)
    tf.get_default_graph().finalize()
    with pytest.raises(RuntimeError, match="Graph is finalized and cannot be modified."):
        tf.constant(2)


def test_prevent_feeding():
    c = tf.constant(1.0)
    tf.get_default_graph().prevent_feeding(c)
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="may not be fed"):
            sess.run(c * 2.0, {c: 3.0})


def test_control_dependencies_recorded():
    a = tf.constant(1.0)
    with tf.control_dependencies([a]):
        b = tf.constant(2.0)
        with tf.control_dependencies(None):
            c = tf.constant(3.0)
    assert b.op.control_inputs == [a.op] and c.op.control_inputs == []


@pytest.mark.parametrize("spec,expected", [
    (tf.float32, tf.float32), (np.float32, tf.float32), ("float32", tf.float32), (float, tf.float32),
    (int, tf.int32), (np.int64, tf.int64), (bool, tf.bool), ("string", tf.string), (9, tf.int64),
])
def test_dtype_conversion(spec, expected):
    assert tf.as_dtype(spec) is expected
    assert tf.float32 == np.float32 and tf.int32 != tf.int64
    assert str(tf.float32) == "<dtype: 'float32'>" and tf.float32.is_floating and not tf.int8.is_floating


@pytest.mark.parametrize("value,dtype,shape", [
    (1, tf.int32, ()), (1.5, tf.float32, ()), (True, tf.bool, ()), ([1, 2.5], tf.float32, (2,)),
    (np.float64(2), tf.float64, ()), (2 ** 40, tf.int64, ()), ("ab", tf.string, ()),
    (np.zeros((2, 3), np.int16), tf.int16, (2, 3)), ([[1, 2], [3, 4]], tf.int32, (2, 2)),
])
def test_constant_inference(value, dtype, shape):
    c = tf.constant(value)
    assert c.dtype == dtype and tuple(c.shape.as_list()) == shape


def test_constant_shape_padding_and_errors():
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(tf.constant([1, 2], shape=[4])), [1, 2, 2, 2])
        np.testing.assert_array_equal(sess.run(tf.constant(7.0, shape=[2, 2])), np.full((2, 2), 7.0))
    with pytest.raises(ValueError, match="Too many elements provided. Needed at most 2, but received 3"):
        tf.constant([1, 2, 3], shape=[2])
    with pytest.raises(TypeError, match="Expected int32"):
        tf.constant(1.5, dtype=tf.int32)


def test_tensor_shape_api():
    s = tf.TensorShape([None, 10])
    assert str(s) == "(?, 10)" and s.ndims == 2 and s.as_list() == [None, 10]
    assert repr(s) == "TensorShape([Dimension(None), Dimension(10)])"
    assert str(s[0]) == "?" and s[1].value == 10 and not s.is_fully_defined()
    assert s.merge_with([3, 10]).as_list() == [3, 10]
    assert str(tf.TensorShape(None)) == "<unknown>" and str(tf.TensorShape([3])) == "(3,)"
    with pytest.raises(ValueError):
        tf.TensorShape(None).as_list()
    x = tf.placeholder(tf.float32, [None, 3])
    x.set_shape([5, 3])
    assert x.shape.as_list() == [5, 3]
    with pytest.raises(ValueError):
        x.set_shape([4, 3])


# build two values -> whether they are one object. Dimensions and TensorShapes are immutable: a known size
# and a fully known (or unknown-rank) shape are shared, so a big graph holds fewer objects; an unknown
# Dimension stays a new object (TF1 compares unknown dimensions as None, so containers of them differ).
SHARED = [
    ("known_dimension", lambda: (tf.Dimension(3), tf.Dimension(3)), True),
    ("dimension_of_numpy_int", lambda: (tf.Dimension(np.int64(7)), tf.Dimension(7)), True),
    ("dimension_of_dimension", lambda: (tf.Dimension(tf.Dimension(5)), tf.Dimension(5)), True),
    ("dimension_arithmetic", lambda: (tf.Dimension(2) * 3, tf.Dimension(6)), True),
    ("unknown_dimension", lambda: (tf.Dimension(None), tf.Dimension(None)), False),
    ("known_shape", lambda: (tf.TensorShape([2, 3]), tf.TensorShape((2, 3))), True),
    ("scalar_shape", lambda: (tf.TensorShape([]), tf.TensorShape(())), True),
    ("unknown_rank", lambda: (tf.TensorShape(None), tf.TensorShape(None)), True),
    ("partial_shape", lambda: (tf.TensorShape([None, 3]), tf.TensorShape([None, 3])), False),
    ("shape_of_dimensions", lambda: (tf.TensorShape([tf.Dimension(2)]), tf.TensorShape([2])), False),
]


@pytest.mark.parametrize("name,build,shared", SHARED, ids=[c[0] for c in SHARED])
def test_dimensions_and_shapes_shared_where_immutable(name, build, shared):
    import copy
    import pickle
    a, b = build()
    assert (a is b) == shared and repr(a) == repr(b)
    for twin in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
        assert repr(twin) == repr(a) and (twin is a) == shared


def test_shared_dimensions_keep_tf1_semantics():
    assert tf.Dimension(None) not in [tf.Dimension(None)] and (tf.Dimension(None) == tf.Dimension(None)) is None
    assert tf.Dimension(3) in [tf.Dimension(3)] and tf.TensorShape([2, 3]) == tf.TensorShape([2, 3])
    assert tf.Dimension(True).value is True and tf.TensorShape(3).as_list() == [3]
    for bad, error in [(-1, ValueError), (2.5, TypeError), (4.0, TypeError), ("3", TypeError), (object(), TypeError)]:
        with pytest.raises(error):
            tf.Dimension(bad)
        with pytest.raises(error):
            tf.TensorShape([2, bad])


# What TF's Dimension takes: an int (a bool kept as it is), None, a Dimension, or anything with __index__;
# a float or a string, even "3" or 3.0, is a TypeError, and a non-scalar array's own __index__ error
# passes through.
DIMENSION_VALUES = [3, True, None, np.int64(7), np.array(2), -1, np.int32(-2), "3", b"3", 3.0, 2.5,
                    np.float32(3), [3], np.array([3])]


@pytest.mark.oracle
@pytest.mark.parametrize("value", DIMENSION_VALUES, ids=[repr(v) for v in DIMENSION_VALUES])
def test_dimension_takes_what_tensorflow_takes(value):
    from tests import oracle

    def outcome(lib):
        try:
            dim = lib.Dimension(value)
        except (TypeError, ValueError) as err:
            return type(err).__name__, str(err)
        return repr(dim), dim.value, type(dim.value).__name__
    assert outcome(tf) == outcome(oracle.tf1())


def test_control_inputs_outputs_and_consumers_grow_as_ops_are_added():
    a, b = tf.constant(1.0), tf.constant(2.0)
    assert a.consumers() == [] and a.op.control_inputs == [] and list(a.op._control_outputs) == []
    with tf.control_dependencies([a]):
        c = tf.identity(b)
    d = tf.add(b, b)
    c.op._add_control_input(b.op)
    c.op._add_control_inputs([a.op, b.op, d.op])
    assert c.op.control_inputs == [a.op, b.op, d.op]
    assert list(a.op._control_outputs) == [c.op] and list(d.op._control_outputs) == [c.op]
    assert b.consumers() == [c.op, d.op, d.op] and list(b.op._control_outputs) == [c.op]


def test_int64_and_float64_are_exact():
    big = tf.constant(2 ** 40 + 1, dtype=tf.int64)
    f = tf.constant(1.0 + 1e-12, dtype=tf.float64)
    with tf.Session() as sess:
        for _ in range(2):  # eager run, then compiled run
            v, w = sess.run([big + 1, f * 1.0])
            assert v == 2 ** 40 + 2 and v.dtype == np.int64
            assert w == 1.0 + 1e-12 and w.dtype == np.float64
