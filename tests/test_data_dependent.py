"""Data-dependent ops (where, unique, boolean_mask, dynamic_partition/stitch), py_func, Assert/Print/print,
check_numerics: values against numpy, static vs runtime shapes, TF's error texts, oracle agreement."""
import sys

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle


def run(fetches, feed=None, times=2):
    with tf.Session() as sess:
        out = [sess.run(fetches, feed) for _ in range(times)]
    for o in out[1:]:
        for a, b in zip(tf.ops.control_flow_ops.flatten(o), tf.ops.control_flow_ops.flatten(out[0])):
            np.testing.assert_equal(a, b)
    return out[0]


def check(t, value, want, dtype=None):
    """Value, dtype, and the static shape is compatible with the runtime shape."""
    np.testing.assert_array_equal(value, want)
    assert np.asarray(value).dtype == (dtype or t.dtype.as_numpy_dtype)
    assert t.shape.is_compatible_with(np.shape(value)), (t.shape, np.shape(value))


# ------------------------------------------------------------------------------------------------
# Conformance table: builder, inputs, numpy reference
# ------------------------------------------------------------------------------------------------
def _np_unique(x):
    _, first, inv = np.unique(x, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return x[np.sort(first)], rank[inv]


CASES = [
    ("where_bool_2d", lambda x: tf.where(x), np.array([[True, False], [False, True], [True, True]]),
     lambda x: np.argwhere(x)),
    ("where_numeric", lambda x: tf.where(x), np.array([0.0, 1.5, 0.0, -2.0], np.float32),
     lambda x: np.argwhere(x)),
    ("where_none", lambda x: tf.where(x), np.zeros((2, 3), bool), lambda x: np.zeros((0, 2), np.int64)),
    ("unique_y", lambda x: tf.unique(x).y, np.array([4, 1, 4, 2, 1, 9], np.int32), lambda x: _np_unique(x)[0]),
    ("unique_idx", lambda x: tf.unique(x).idx, np.array([4, 1, 4, 2, 1, 9], np.int32),
     lambda x: _np_unique(x)[1].astype(np.int32)),
    ("unique_idx64", lambda x: tf.unique(x, out_idx=tf.int64)[1], np.array([3.0, 3.0, 1.0], np.float32),
     lambda x: np.array([0, 0, 1], np.int64)),
    ("boolean_mask_1d", lambda x: tf.boolean_mask(x, x > 0 if hasattr(tf, "greater") else
                                                  tf.constant([True, False, True, False])),
     np.array([1.0, -1.0, 2.0, -3.0], np.float32), lambda x: x[x > 0]),
    ("boolean_mask_rows", lambda x: tf.boolean_mask(x, tf.constant([False, True, True])),
     np.arange(6, dtype=np.int32).reshape(3, 2), lambda x: x[[1, 2]]),
    ("boolean_mask_2d_mask", lambda x: tf.boolean_mask(x, tf.constant([[True, False], [False, True]])),
     np.arange(8, dtype=np.float32).reshape(2, 2, 2), lambda x: x[np.array([[True, False], [False, True]])]),
    ("dynamic_partition_1", lambda x: tf.dynamic_partition(x, tf.constant([0, 1, 0, 2]), 3)[0],
     np.array([10, 20, 30, 40], np.int32), lambda x: np.array([10, 30], np.int32)),
    ("dynamic_partition_2", lambda x: tf.dynamic_partition(x, tf.constant([0, 1, 0, 2]), 3)[2],
     np.array([[1, 2], [3, 4], [5, 6], [7, 8]], np.float32), lambda x: np.array([[7, 8]], np.float32)),
    ("dynamic_partition_empty", lambda x: tf.dynamic_partition(x, tf.constant([0, 0]), 2)[1],
     np.array([1.0, 2.0], np.float32), lambda x: np.zeros((0,), np.float32)),
    ("dynamic_stitch", lambda x: tf.dynamic_stitch([tf.constant([0, 2]), tf.constant([1, 3])],
                                                   [x[:2] if hasattr(tf, "strided_slice") else
                                                    tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])]),
     np.array([1.0, 2.0, 9.0], np.float32), lambda x: np.array([1.0, 3.0, 2.0, 4.0], np.float32)),
    ("select", lambda x: tf.where(tf.constant([True, False, True]), x, x * 10.0),
     np.array([1.0, 2.0, 3.0], np.float32), lambda x: np.array([1.0, 20.0, 3.0], np.float32)),
    ("select_rows", lambda x: tf.where(tf.constant([False, True]), x, x * 10),
     np.array([[1, 2], [3, 4]], np.int32), lambda x: np.array([[10, 20], [3, 4]], np.int32)),
    ("check_numerics_ok", lambda x: tf.check_numerics(x, "m"), np.array([1.0, 2.0], np.float32), lambda x: x),
]


@pytest.mark.parametrize("name, build, x, ref", CASES, ids=[c[0] for c in CASES])
def test_conformance(name, build, x, ref):
    ph = tf.placeholder(tf.as_dtype(x.dtype), [None] * x.ndim)
    out = build(ph)
    got = run(out, {ph: x})
    want = ref(x)
    check(out, got, want, np.asarray(want).dtype)


def test_static_shapes():
    x = tf.placeholder(tf.float32, [None, 3])
    assert tf.where(tf.cast(x, tf.bool)).shape.as_list() == [None, 2]
    y, idx = tf.unique(tf.placeholder(tf.int32, [5]))
    assert (y.shape.as_list(), idx.shape.as_list()) == ([None], [5])
    parts = tf.dynamic_partition(x, tf.placeholder(tf.int32, [None]), 2)
    assert len(parts) == 2 and parts[0].shape.as_list() == [None, 3]
    assert tf.boolean_mask(x, tf.placeholder(tf.bool, [None])).shape.as_list() == [None, 3]
    with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
        tf.unique(x)
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(x, tf.constant(True))
    with pytest.raises(ValueError, match="Number of mask dimensions must be specified"):
        tf.boolean_mask(x, tf.placeholder(tf.bool))


def test_dynamic_partition_out_of_range_is_invalid_argument():
    p = tf.placeholder(tf.int32, [None])
    out = tf.dynamic_partition(tf.constant([1.0, 2.0]), p, 2)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"partitions\[1\] = 5 is not in \[0, 2\)"):
            sess.run(out, {p: [0, 5]})


# ------------------------------------------------------------------------------------------------
# py_func / numpy_function
# ------------------------------------------------------------------------------------------------
def test_py_func_values_lists_and_calls():
    calls = []

    def f(a, b):
        calls.append(1)
        return a + b, (a * b).astype(np.int64)
    x = tf.placeholder(tf.int64, [None])
    s, p = tf.py_func(f, [x, tf.constant(np.int64(3))], [tf.int64, tf.int64])
    assert s.op.type == "PyFunc" and s.op.get_attr("token").startswith(b"pyfunc_")
    assert s.shape.ndims is None
    with tf.Session() as sess:
        for _ in range(3):
            got = sess.run([s, p], {x: [1, 2]})
            np.testing.assert_equal(got, [[4, 5], [3, 6]])
    assert len(calls) == 3  # runs once per Session.run, never cached or compiled away
    single = tf.numpy_function(lambda a: a * 2.0, [tf.constant([1.0, 2.0])], tf.float32)
    assert isinstance(single, tf.Tensor)
    np.testing.assert_allclose(run(single), [2.0, 4.0])
    stateless = tf.py_func(lambda: np.float32(1.0), [], tf.float32, stateful=False)
    assert stateless.op.type == "PyFuncStateless" and run(stateless) == 1.0


def _py_func_training(tf_, calls, branch=None, order=None):
    """A training graph whose input goes through a py_func (preprocessing on the host) before the model."""
    x = tf_.placeholder(tf_.float32, [None, 6], name="x")

    def prep(a):
        calls.append(a.shape[0])
        return (a * 2.0 - 1.0).astype(np.float32)
    if order is not None:  # a py_func the graph orders after an update: it must stay inside the step
        with tf_.control_dependencies([order(tf_)]):
            h = tf_.py_func(prep, [x], tf_.float32)
    elif branch is not None:  # a py_func in a cond branch: it must run only when that branch is taken
        p = tf_.placeholder(tf_.bool, [], name="p")
        h = tf_.cond(p, lambda: tf_.py_func(prep, [x], tf_.float32), lambda: x * 3.0)
    else:
        h = tf_.py_func(prep, [x], tf_.float32)
    h.set_shape([None, 6])
    w = tf_.get_variable("w", [6, 1], initializer=tf_.constant_initializer(0.2))
    loss = tf_.reduce_mean(tf_.square(tf_.matmul(h, w) - 1.0))
    train = tf_.train.AdamOptimizer(0.05).minimize(loss)
    return x, train, loss, w


def _py_func_runs(tf_, model: str):
    calls = []
    with tf_.Graph().as_default():
        x, train, loss, w = _py_func_training(tf_, calls, branch=model == "cond" or None)
        p = tf_.get_default_graph().get_tensor_by_name("p:0") if model == "cond" else None
        rng = np.random.RandomState(3)
        out = []
        with tf_.Session() as sess:
            sess.run(tf_.global_variables_initializer())
            for k in range(6):
                feed = {x: rng.rand(4 + k, 6).astype(np.float32)}
                if p is not None:
                    feed[p] = k % 2 == 0
                out.append(sess.run([train, loss], feed)[1])
            out.append(sess.run(w))
    return out, calls


@pytest.mark.oracle
@pytest.mark.parametrize("model", ["plain", "cond"])
def test_py_func_preprocessing_runs_before_a_compiled_step(model):
    """A py_func of fed values runs on the host before the step, which compiles with its result as a feed
    (it used to make the whole training step run op by op); once per run, and in a cond branch only when
    that branch is taken (there it stays in the step)."""
    tf.reset_stats()
    got, calls = _py_func_runs(tf, model)
    want, want_calls = _py_func_runs(oracle.tf1(), model)
    oracle.assert_same_values(got, want, 1e-5, 1e-6, model)
    assert calls == want_calls
    stats = tf.stats()
    if model == "plain":  # six batch sizes, one compile: the py_func's output is padded like a feed
        assert stats["signatures"]["Mean:0"]["compiles"] == 1 and stats["compiled_runs"] == 5, stats


def test_py_func_ordered_by_control_dependencies_stays_in_the_step():
    calls = []
    counter = {}

    def order(tf_):
        counter["v"] = v = tf_.Variable(0.0, name="v")
        return tf_.assign_add(v, 1.0)
    x, train, loss, w = _py_func_training(tf, calls, order=order)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for k in range(3):
            sess.run([train, loss], {x: np.ones((2, 6), np.float32)})
        assert calls == [2, 2, 2] and sess.run(counter["v"]) == 3.0


def test_failing_py_func_before_the_step_changes_nothing():
    x = tf.placeholder(tf.float32, [None, 2])

    def prep(a):
        if a.shape[0] == 3:
            raise ValueError("three rows")
        return a
    h = tf.py_func(prep, [x], tf.float32)
    h.set_shape([None, 2])
    w = tf.get_variable("w_fail", [2, 1], initializer=tf.constant_initializer(0.5))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(tf.matmul(h, w)))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {x: np.ones((2, 2), np.float32)})
        before = sess.run(w)
        for _ in range(2):
            with pytest.raises(tf.errors.InvalidArgumentError, match="ValueError: three rows"):
                sess.run(train, {x: np.ones((3, 2), np.float32)})
            np.testing.assert_array_equal(sess.run(w), before)
        sess.run(train, {x: np.ones((2, 2), np.float32)})
        assert not np.array_equal(sess.run(w), before)


def test_py_function_gets_eager_like_values():
    seen = []

    def f(a, b):
        seen.append((tuple(a.shape.as_list()), a.dtype, int(b)))
        return a * 2 + b.numpy(), a.numpy().sum()
    x = tf.placeholder(tf.float32, [None])
    y, total = tf.py_function(f, [x, tf.constant(3)], [tf.float32, tf.float64])
    assert y.op.type == "EagerPyFunc" and total.dtype == tf.float64
    got = run([y, total], {x: [1.0, 2.0]})
    np.testing.assert_allclose(got[0], [5.0, 7.0])
    assert got[0].dtype == np.float32 and got[1] == 3.0 and got[1].dtype == np.float64
    assert seen[0] == ((2,), tf.float32, 3)


def test_py_func_strings():
    out = tf.py_func(lambda s: s.upper() + b"!", [tf.constant(b"hi")], tf.string)
    assert run(out) == b"HI!"


@pytest.mark.parametrize("func, tout, match", [
    (lambda: 1.5, tf.float32, "0-th value returned by pyfunc_[0-9]+ is double, but expects float"),
    (lambda: np.float32(1.5), [tf.float32, tf.float32], "returns 1 values, but expects to see 2 values"),
])
def test_py_func_result_errors(func, tout, match):
    out = tf.py_func(func, [], tout)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=match):
            sess.run(out)


@pytest.mark.parametrize("raised, expected", [
    (RuntimeError("from python"), tf.errors.UnknownError), (ValueError("bad"), tf.errors.InvalidArgumentError),
    (TypeError("bad"), tf.errors.InvalidArgumentError), (StopIteration(), tf.errors.OutOfRangeError),
    (MemoryError("mem"), tf.errors.ResourceExhaustedError), (NotImplementedError("ni"), tf.errors.UnimplementedError),
    (KeyError("k"), tf.errors.UnknownError)])
@pytest.mark.parametrize("builder", [tf.py_func, tf.numpy_function, tf.py_function])
def test_py_func_exceptions_map_to_tf_errors(builder, raised, expected):
    def boom():
        raise raised
    out = builder(boom, [], tf.float32)
    with tf.Session() as sess:
        with pytest.raises(expected, match=type(raised).__name__) as info:
            sess.run(out)
    assert info.value.op is out.op


# ------------------------------------------------------------------------------------------------
# Assert / Print / tf.print / check_numerics
# ------------------------------------------------------------------------------------------------
def test_assert_messages_with_values_eager_and_compiled():
    x = tf.placeholder(tf.float32, [None])
    ok = tf.placeholder(tf.bool, [])
    a = tf.Assert(ok, ["x has", x, "values"], summarize=2)
    assert a.type == "Assert" and a.name == "Assert/Assert"
    with tf.control_dependencies([a]):
        y = tf.identity(x)
    with tf.Session() as sess:
        for _ in range(3):  # first run eager, then compiled: same error text with the runtime values
            np.testing.assert_allclose(sess.run(y, {x: [1, 2, 3], ok: True}), [1, 2, 3])
            with pytest.raises(tf.errors.InvalidArgumentError) as err:
                sess.run(y, {x: [1.5, 2, 3], ok: False})
            assert err.value.message == "assertion failed: [x has] [1.5 2...] [values]"
            assert err.value.op is a


def test_assert_condition_must_be_bool_scalar():
    with pytest.raises(TypeError, match="bool"):
        tf.Assert(tf.constant(1), ["x"])
    with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
        tf.Assert(tf.constant([True, False]), ["x"])


def test_print_returns_input_and_prints_to_stderr(capfd):
    x = tf.placeholder(tf.int32, [None])
    y = tf.Print(x, [x, tf.constant("tag"), tf.constant([[1, 2], [3, 4]])], "values: ", summarize=3)
    assert y.op.type == "Print" and y.dtype == tf.int32
    with tf.Session() as sess:
        for _ in range(3):
            np.testing.assert_equal(sess.run(y, {x: [5, 6, 7, 8]}), [5, 6, 7, 8])
    err = capfd.readouterr().err
    assert err.count("values: [5 6 7...][tag][[1 2][3...]...]\n") == 3


def test_print_first_n(capfd):
    x = tf.constant([1.0, 2.5])
    y = tf.Print(x, [x], "n: ", first_n=2)
    with tf.Session() as sess:
        for _ in range(4):
            sess.run(y)
    assert capfd.readouterr().err.count("n: [1 2.5]\n") == 2


def test_tf_print(capfd):
    x = tf.placeholder(tf.float32, [None])
    op = tf.print("x:", x, {"k": 1}, output_stream=sys.stdout)
    assert op.type == "PrintV2"
    m = tf.constant(np.arange(12).reshape(3, 4))
    op2 = tf.print(m, summarize=1)
    with tf.Session() as sess:
        for _ in range(2):
            sess.run(op, {x: np.arange(8.0)})
        sess.run(op2)
    out = capfd.readouterr()
    assert out.out.count("x: [0 1 2 ... 5 6 7] {'k': 1}\n") == 2
    assert out.err == "[[0 ... 3]\n ...\n [8 ... 11]]\n"


@pytest.mark.parametrize("value, what", [([1.0, np.nan], "NaN"), ([np.inf, 1.0], "Inf"),
                                         ([-np.inf, np.nan], "Inf and NaN")])
def test_check_numerics(value, what):
    x = tf.placeholder(tf.float32, [None])
    y = tf.check_numerics(x * 2.0, "bad value")
    assert y.op.type == "CheckNumerics"
    with tf.Session() as sess:
        for _ in range(3):
            np.testing.assert_allclose(sess.run(y, {x: [1.0]}), [2.0])
            with pytest.raises(tf.errors.InvalidArgumentError) as err:
                sess.run(y, {x: value})
            assert err.value.message == f"bad value : Tensor had {what} values"
    assert tf.debugging.check_numerics is tf.check_numerics


def test_data_dependent_ops_inside_cond_run_on_host():
    p = tf.placeholder(tf.bool, [])
    x = tf.constant([3, 0, 5])
    r = tf.cond(p, lambda: tf.where(x)[:, 0] if hasattr(tf, "strided_slice") else tf.reshape(tf.where(x), [-1]),
                lambda: tf.constant([7], tf.int64))
    with tf.Session() as sess:
        for _ in range(2):
            np.testing.assert_equal(sess.run(r, {p: True}), [0, 2])
            np.testing.assert_equal(sess.run(r, {p: False}), [7])


# ------------------------------------------------------------------------------------------------
# Oracle
# ------------------------------------------------------------------------------------------------
ORACLE = {
    "where": lambda tf_: tf_.where(tf_.constant([[0, 3], [2, 0]])),
    "unique": lambda tf_: tuple(tf_.unique(tf_.constant([5, 5, 2, 7, 2, 5]))),
    "boolean_mask": lambda tf_: tf_.boolean_mask(tf_.constant([[1, 2], [3, 4], [5, 6]]),
                                                 tf_.constant([True, False, True])),
    "boolean_mask_axis": lambda tf_: (tf_.boolean_mask(tf_.reshape(tf_.range(24.0), [2, 3, 4]),
                                                       [True, False, True, True], axis=2),
                                      tf_.boolean_mask(tf_.reshape(tf_.range(24.0), [2, 3, 4]),
                                                       [[True, False, True, True], [False, True, True, False],
                                                        [True, True, False, False]], axis=1)),
    "boolean_mask_gradient": lambda tf_: _mask_gradient(tf_),
    "dynamic_partition": lambda tf_: tf_.dynamic_partition(tf_.constant([[1.0], [2.0], [3.0]]),
                                                           tf_.constant([1, 0, 1]), 2),
    "dynamic_stitch": lambda tf_: tf_.dynamic_stitch([tf_.constant([[0, 4]]), tf_.constant([1, 2, 3])],
                                                     [tf_.constant([[1.0, 5.0]]), tf_.constant([2.0, 3.0, 4.0])]),
    "py_func": lambda tf_: tf_.py_func(lambda a: a[::-1].copy(), [tf_.constant([1, 2, 3])], tf_.int32),
    "select": lambda tf_: tf_.where(tf_.constant([True, False]), tf_.constant([[1, 2], [3, 4]]),
                                    tf_.constant([[5, 6], [7, 8]])),
}


def _mask_gradient(tf_):
    x = tf_.reshape(tf_.range(24.0), [2, 3, 4])
    y = tf_.boolean_mask(x, [[True, False, True], [False, True, True]])
    return tf_.gradients(tf_.reduce_sum(y * y), x)[0]


@pytest.mark.oracle
def test_boolean_mask_records_tensorflows_graph():
    """Where -> Squeeze -> GatherV2 after reshaping the masked dimensions into one, node for node as TF."""
    def build(t):
        x = t.placeholder(t.float32, [None, 3, 4], name="x")
        t.boolean_mask(x, t.placeholder(t.bool, [None, 3], name="m"))
        t.boolean_mask(x, [True, False, True, True], axis=2)
    v1 = oracle.tf1()
    assert oracle.op_names(tf, build) == oracle.op_names(v1, build)


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(ORACLE))
def test_matches_tensorflow(name):
    v1 = oracle.tf1()
    want = oracle.run(v1, ORACLE[name])
    got = oracle.run(tf, ORACLE[name])
    flat_w = want if isinstance(want, (list, tuple)) else [want]
    flat_g = got if isinstance(got, (list, tuple)) else [got]
    assert len(flat_g) == len(flat_w)
    for g, w in zip(flat_g, flat_w):
        np.testing.assert_array_equal(g, w)
        assert np.asarray(g).dtype == np.asarray(w).dtype


@pytest.mark.oracle
def test_assert_and_check_numerics_messages_match_tensorflow():
    v1 = oracle.tf1()
    msgs = []
    for tf_ in (v1, tf):
        def build(tf_=tf_):
            x = tf_.constant([1.0, 2.0, 3.0, 4.0])
            return [tf_.Assert(tf_.constant(False), ["bad:", x, tf_.constant(np.arange(6).reshape(3, 2)),
                                                     tf_.constant([True, False]), tf_.constant(np.float64(1 / 3)),
                                                     tf_.constant([0.1, 1e-7, 123456789.0])], summarize=3)]
        with pytest.raises(tf_.errors.InvalidArgumentError) as err:
            oracle.run(tf_, build)
        msgs.append(err.value.message)
        with pytest.raises(tf_.errors.InvalidArgumentError) as err:
            oracle.run(tf_, lambda tf_=tf_: tf_.check_numerics(tf_.constant([1.0, np.nan]), "chk"))
        msgs.append(err.value.message)
    # TF wraps the kernel's message ("Graph execution error: … <message> …").
    assert msgs[2] in msgs[0] and msgs[3] in msgs[1], msgs


# ------------------------------------------------------------------------------------------------
# check_ops: tf.assert_* (runtime messages with values, static failures while building)
# ------------------------------------------------------------------------------------------------
CHECKS = [  # name, builder, a passing value, the failing run's message (None: only the prefix is checked)
    ("assert_equal", lambda x: tf.assert_equal(x, tf.constant([1, 2])), [1, 2],
     "assertion failed: [Condition x == y did not hold element-wise:] [x (x:0) = ] [1 5] [y (Const:0) = ] [1 2]"),
    ("assert_less", lambda x: tf.assert_less(x, 2, message="too big"), [0, 0],
     "assertion failed: [too big] [Condition x < y did not hold element-wise:] [x (x:0) = ] [1 5] "
     "[y (assert_less/y:0) = ] [2]"),
    ("assert_none_equal", lambda x: tf.debugging.assert_none_equal(x, 5), [1, 2],
     "assertion failed: [Condition x != y did not hold element-wise:] [x (x:0) = ] [1 5] "
     "[y (assert_none_equal/y:0) = ] [5]"),
    ("assert_negative", lambda x: tf.assert_negative(x), [-1, -2],
     "assertion failed: [] [Condition x < 0 did not hold element-wise:] [x (x:0) = ] [1 5]"),
    ("assert_greater", lambda x: tf.assert_greater(x, 1), [3, 4], None),
    ("assert_positive", lambda x: tf.assert_positive(x - 1), [3, 4], None),
]


@pytest.mark.parametrize("name, build, passing, message", CHECKS, ids=[c[0] for c in CHECKS])
def test_check_ops(name, build, passing, message):
    x = tf.placeholder(tf.int32, [None], name="x")
    check_op = build(x)
    assert check_op.type == "Assert"
    with tf.Session() as sess:
        for _ in range(2):  # eager, then compiled
            sess.run(check_op, {x: passing})
            with pytest.raises(tf.errors.InvalidArgumentError) as err:
                sess.run(check_op, {x: [1, 5]})
            if message is None:
                assert "did not hold element-wise" in err.value.message
            else:
                assert err.value.message == message


def test_static_checks_fail_while_building():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^Condition x == y did not hold element-wise:\nx \(Const:0\) = \n\[1\]\n"
                             r"y \(Const_1:0\) = \n\[2\]$"):
        tf.assert_equal(tf.constant([1]), tf.constant([2]))
    with pytest.raises(ValueError, match=r"Tensor Const_2:0 must have rank 2.  Received rank 1, shape \(1,\)"):
        tf.assert_rank(tf.constant([1]), 2)
    with pytest.raises(TypeError, match="must be of type tf.float32; got tf.int32"):
        tf.assert_type(tf.constant([1]), tf.float32)
    with pytest.raises(ValueError, match="Expected scalar shape"):
        tf.assert_scalar(tf.constant([1]))
    assert tf.assert_rank(tf.constant([1]), 1).type == "NoOp"
    r = tf.placeholder(tf.float32)
    dynamic = tf.assert_rank(r, 2)
    with tf.Session() as sess:
        sess.run(dynamic, {r: np.zeros((2, 2))})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must have rank"):
            sess.run(dynamic, {r: np.zeros(3)})


@pytest.mark.oracle
def test_check_op_messages_match_tensorflow():
    v1 = oracle.tf1()
    messages = []
    for tf_ in (v1, tf):
        g = tf_.Graph()
        with g.as_default():
            x = tf_.placeholder(tf_.int32, [None], name="x")
            checks = [tf_.assert_less(x, 2, message="too big"), tf_.assert_none_equal(x, 5),
                      tf_.assert_non_positive(x), tf_.assert_positive(x - 1, message="m"),
                      tf_.assert_greater_equal(x, 3)]
            got = []
            with tf_.Session() as sess:
                for c in checks:
                    with pytest.raises(tf_.errors.InvalidArgumentError) as err:
                        sess.run(c, {x: [1, 5]})
                    got.append(err.value.message)
        messages.append(got)
    for want, mine in zip(*messages):
        assert mine in want, (mine, want)


# ------------------------------------------------------------------------------------------------
# What TF's kernels validate in these ops (fed values and shapes): TF's class and text.
# ------------------------------------------------------------------------------------------------
from tests._conformance import Bad, Case, bad_cases, check as check_case, check_bad  # noqa: E402

VALIDATING = [
    Case("unique_fed", lambda tf, x: tf.unique(x)[0], lambda x: np.array([3, 1, 2], np.int32),
         [np.array([3, 1, 3, 2], np.int32)], static=False,
         bad=[Bad([np.array([[3, 1]], np.int32)], ValueError, "Shape must be rank 1 but is rank 2", at="build")]),
    Case("dynamic_partition_fed", lambda tf, x, p: tf.dynamic_partition(x, p, 2),
         lambda x, p: [x[p == 0], x[p == 1]], [np.array([1.0, 2.0, 3.0], np.float32), np.array([1, 0, 1], np.int32)],
         static=False,
         bad=[Bad([np.array([1.0, 2.0, 3.0], np.float32), np.array([1, 2, 1], np.int32)],
                  tf.errors.InvalidArgumentError, "partitions[1] = 2 is not in [0, 2)")]),
    Case("dynamic_stitch_fed", lambda tf, i, d: tf.dynamic_stitch([i], [d]), lambda i, d: d[np.argsort(i)],
         [np.array([1, 0, 2], np.int32), np.array([1.0, 2.0, 3.0], np.float32)], static=False,
         bad=[Bad([np.array([1, 0], np.int32), np.array([1.0, 2.0, 3.0], np.float32)], tf.errors.InvalidArgumentError,
                  "data[0].shape = [3] does not start with indices[0].shape = [2]")]),
]


@pytest.mark.parametrize("case", VALIDATING, ids=str)
def test_validating_data_dependent_ops(case):
    check_case(case)


@pytest.mark.parametrize("case, bad", bad_cases(VALIDATING))
def test_data_dependent_bad_inputs(case, bad):
    check_bad(case, bad)
