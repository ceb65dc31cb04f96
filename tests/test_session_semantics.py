"""Session.run fetch/feed rules and their errors (tf1-semantics.md, "Session.run")."""
import collections

import numpy as np
import pytest

import graphcompat as tf
from lowering.executor import executable_counts


def test_names_and_printing():
    a = tf.constant(2)
    b = tf.constant(3)
    s = tf.add(a, b)
    t = a + b
    assert (s.name, t.name) == ("Add:0", "add_1:0")
    assert str(s) == 'Tensor("Add:0", shape=(), dtype=int32)'
    assert repr(s) == "<tf.Tensor 'Add:0' shape=() dtype=int32>"
    assert repr(s.op) == "<tf.Operation 'Add' type=AddV2>"
    x = tf.placeholder(tf.float32, [None, 10])
    assert str(x.shape) == "(?, 10)" and x.name == "Placeholder:0"
    y = x + 1.0
    assert y.op.inputs[1].op.name == "add_2/y"


def test_explicit_name_collision_and_scopes():
    tf.constant(1, name="add_1")
    c = tf.constant(1, name="add_1")
    assert c.op.name == "add_1_1"
    with tf.name_scope("foo"):
        f1 = tf.constant(1, name="c")
    with tf.name_scope("foo"):
        f2 = tf.constant(1, name="c")
    with tf.name_scope("foo/"):
        f3 = tf.constant(1, name="c")
    assert [f1.op.name, f2.op.name, f3.op.name] == ["foo/c", "foo_1/c", "foo/c_1"]
    with pytest.raises(ValueError, match="not a valid scope name"):
        with tf.name_scope("bad name!"):
            pass


def test_tensor_is_not_iterable_or_bool():
    t = tf.constant([1, 2])
    with pytest.raises(TypeError, match="only iterable"):
        iter(t)
    with pytest.raises(TypeError, match="as a Python `bool`"):
        bool(t)


def test_dtype_mismatch_is_typeerror_and_consumes_name():
    a = tf.constant(1)
    b = tf.constant(1.0)
    with pytest.raises(TypeError, match=r"Input 'y' of 'AddV2' Op has type float32 that does not match "
                                        r"type int32 of argument 'x'\."):
        tf.add(a, b)
    n_ops = len(tf.get_default_graph().get_operations())
    assert tf.add(a, a).op.name == "Add_1"
    assert len(tf.get_default_graph().get_operations()) == n_ops + 1


Pair = collections.namedtuple("Pair", "x y")


def test_fetch_structures():
    a = tf.constant(1.0)
    b = tf.constant([1, 2])
    with tf.Session() as sess:
        out = sess.run({"a": a, "nested": [b, (a, Pair(a, b))], "op": a.op})
        assert out["a"] == 1.0 and isinstance(out["a"], np.float32)
        assert isinstance(out["nested"], list) and isinstance(out["nested"][1], tuple)
        assert isinstance(out["nested"][1][1], Pair)
        assert out["op"] is None
        assert list(out.keys()) == ["a", "nested", "op"]
        assert sess.run([]) == []
        assert sess.run("Const:0") == 1.0
        assert sess.run("Const") is None
        od = sess.run(collections.OrderedDict([("z", a), ("y", b)]))
        assert isinstance(od, collections.OrderedDict) and list(od) == ["z", "y"]


def test_fetch_errors():
    tf.constant(1.0)
    with tf.Session() as sess:
        with pytest.raises(TypeError, match=r"Fetch argument None has invalid type <class 'NoneType'>"):
            sess.run(None)
        with pytest.raises(ValueError, match="cannot be interpreted as a Tensor"):
            sess.run("nope:0")
        with pytest.raises(TypeError, match="has invalid type"):
            sess.run(3)


def test_feeds_and_feed_errors():
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.reduce_sum(x * 2.0)
    c = tf.constant(3.0)
    d = c * 2.0
    with tf.Session() as sess:
        assert sess.run(y, {x: [[1, 2], [3, 4]]}) == 20.0
        assert sess.run(y, {"Placeholder:0": np.ones((1, 2))}) == 4.0
        assert sess.run(d, {c: 10.0}) == 20.0  # any tensor can be fed
        assert sess.run(c, {c: 7.0}) == 7.0
        with pytest.raises(ValueError, match=r"Cannot feed value of shape \(2,\) for Tensor 'Placeholder:0', "
                                             r"which has shape '\(\?, 2\)'"):
            sess.run(y, {x: [1, 2]})
        with pytest.raises(TypeError, match="The value of a feed cannot be a tf.Tensor object"):
            sess.run(y, {x: c})
        with pytest.raises(TypeError, match=r"Cannot interpret feed_dict key as Tensor: The name 'Placeholder' "
                                            r"refers to an Operation, not a Tensor\."):
            sess.run(y, {"Placeholder": [[1, 2]]})
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"You must feed a value for placeholder tensor 'Placeholder' with dtype "
                                 r"float and shape \[\?,2\]"):
            sess.run(y)


def test_int_feed_out_of_range_is_typeerror():
    x = tf.placeholder(tf.int32, [])
    with tf.Session() as sess:
        with pytest.raises(TypeError):
            sess.run(x + 1, {x: 2 ** 40})


def test_pruning_ignores_unfed_placeholders_off_path():
    tf.placeholder(tf.float32)
    a = tf.constant(2.0) * 3.0
    with tf.Session() as sess:
        assert sess.run(a) == 6.0


def test_closed_and_empty_sessions():
    sess = tf.Session()
    with pytest.raises(RuntimeError, match=r"The Session graph is empty\.  Add operations"):
        sess.run([])  # TF checks the graph before anything else
    t = tf.constant(1)
    sess.close()
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session."):
        sess.run(t)


def test_eval_and_default_session():
    t = tf.constant(4) * 2
    with pytest.raises(ValueError, match="No default session is registered"):
        t.eval()
    with tf.Session():
        assert t.eval() == 8
    sess = tf.InteractiveSession()
    assert t.eval() == 8
    sess.close()


def test_make_callable():
    x = tf.placeholder(tf.float32, [])
    y = x * x
    with tf.Session() as sess:
        f = sess.make_callable([y], [x])
        assert f(3.0) == [9.0]


def test_second_run_uses_compiled_plan_without_retrace():
    from lowering import stats
    x = tf.placeholder(tf.float32, [3])
    y = tf.reduce_sum(x * x)
    with tf.Session() as sess:
        before = stats.current.compilations
        vals = [sess.run(y, {x: np.full(3, i, np.float32)}) for i in range(5)]
        assert vals == [3.0 * i * i for i in range(5)]
        assert stats.current.compilations - before == 1
        assert executable_counts(sess) == [1]
