"""tf.cond / tf.case / tf.while_loop: values, graph structure, state inside branches and loops, errors,
and agreement with real TensorFlow (oracle)."""
import collections

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle


def ne(a, b):
    """a != b with the ops every build has (comparison ops live in another family)."""
    return tf.cast(a - b, tf.bool)


def run3(fetches, feed=None):
    """Runs three times (eager first run, then compiled) and checks the runs agree."""
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = [sess.run(fetches, feed) for _ in range(3)]
    for o in out[1:]:
        np.testing.assert_equal(o, out[0])
    return out[0]


# ------------------------------------------------------------------------------------------------
# cond
# ------------------------------------------------------------------------------------------------
def test_cond_graph_structure_and_values():
    x = tf.placeholder(tf.float32, [None], name="x")
    p = tf.placeholder(tf.bool, [], name="p")
    r = tf.cond(p, lambda: x * 2.0, lambda: x + 1.0)
    assert r.name == "cond/Identity:0"
    assert r.op.inputs[0].op.type == "StatelessIf" and r.op.inputs[0].op.name == "cond"  # TF's type
    assert r.shape.as_list() == [None] and r.dtype == tf.float32
    if_op = r.op.inputs[0].op
    assert if_op.inputs[0] is p and x in if_op.inputs  # the captured outer tensor is an input
    with tf.Session() as sess:
        for _ in range(3):
            np.testing.assert_allclose(sess.run(r, {x: [1, 2], p: True}), [2, 4])
            np.testing.assert_allclose(sess.run(r, {x: [1, 2], p: False}), [2, 3])
    gd = tf.get_default_graph().as_graph_def()
    node = [n for n in gd.node if n.name == "cond"][0]
    assert node.op == "StatelessIf" and node.attr["then_branch"].func.name.startswith("cond_true")
    assert not any(k.startswith("_graphcompat") for k in node.attr)


@pytest.mark.parametrize("pred", [True, False])
def test_cond_nested_structures(pred):
    p = tf.constant(pred)
    Pair = collections.namedtuple("Pair", "a b")
    out = tf.cond(p, lambda: Pair(tf.constant(1), {"k": tf.constant([1.0, 2.0])}),
                  lambda: Pair(tf.constant(2), {"k": tf.constant([3.0, 4.0])}))
    assert isinstance(out, Pair) and set(out.b) == {"k"}
    a, k = run3([out.a, out.b["k"]])
    assert a == (1 if pred else 2)
    np.testing.assert_allclose(k, [1, 2] if pred else [3, 4])


def test_cond_singletons_unpack_unless_strict():
    p = tf.constant(True)
    loose = tf.cond(p, lambda: [tf.constant(1)], lambda: [tf.constant(2)])
    strict = tf.cond(p, lambda: [tf.constant(1)], lambda: [tf.constant(2)], strict=True)
    assert isinstance(loose, tf.Tensor) and isinstance(strict, list) and len(strict) == 1
    assert run3([loose, strict[0]]) == [1, 1]


def test_cond_python_values_and_outer_tensors():
    x = tf.constant(5)
    r = tf.cond(tf.constant(False), lambda: x, lambda: 7)
    assert run3(r) == 7
    r2 = tf.cond(tf.constant(True), lambda: x, lambda: 7)
    assert run3(r2) == 5


def test_cond_branches_of_different_shapes():
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.constant([1, 2]), lambda: tf.constant([1, 2, 3]))
    assert r.shape.as_list() == [None]
    with tf.Session() as sess:
        for _ in range(2):
            np.testing.assert_equal(sess.run(r, {p: True}), [1, 2])
            np.testing.assert_equal(sess.run(r, {p: False}), [1, 2, 3])


def test_nested_cond():
    p = tf.placeholder(tf.bool, [])
    q = tf.placeholder(tf.bool, [])
    x = tf.constant(3.0)
    r = tf.cond(p, lambda: tf.cond(q, lambda: x * 2.0, lambda: x * 3.0), lambda: x - 1.0)
    with tf.Session() as sess:
        for _ in range(2):
            got = [sess.run(r, {p: a, q: b}) for a in (True, False) for b in (True, False)]
            assert got == [6.0, 9.0, 2.0, 2.0]


def test_only_the_taken_branch_acts():
    v = tf.Variable(1.0, name="v")
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.assign_add(v, 1.0), lambda: tf.identity(v) * 10.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        seen = [(sess.run(r, {p: pv}), sess.run(v)) for pv in (True, False, True, True, False)]
    assert seen == [(2.0, 2.0), (20.0, 2.0), (3.0, 3.0), (4.0, 4.0), (40.0, 4.0)]


def test_cond_returning_ops_and_control_dependencies():
    v = tf.Variable(0, name="v")
    p = tf.placeholder(tf.bool, [])
    op = tf.cond(p, lambda: tf.assign_add(v, 5).op, lambda: tf.no_op())
    assert isinstance(op, tf.Operation)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for pv in (True, False, True):
            sess.run(op, {p: pv})
        assert sess.run(v) == 10


def test_cond_random_op_in_branch_advances_only_when_taken():
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.random_uniform([3], seed=7), lambda: tf.constant([0.0, 0.0, 0.0]))
    with tf.Session() as sess:
        a = sess.run(r, {p: True})
        sess.run(r, {p: False})
        b = sess.run(r, {p: True})
        assert not np.allclose(a, b) and np.all((a >= 0) & (a < 1))
    with tf.Session() as sess:  # a new session restarts the stream
        np.testing.assert_allclose(sess.run(r, {p: True}), a)


@pytest.mark.parametrize("build, error, match", [
    (lambda p: tf.cond(p, lambda: tf.constant(1.0), lambda: tf.constant(1)), TypeError, "same number, type"),
    (lambda p: tf.cond(p, lambda: tf.constant(1.0), lambda: (tf.constant(1.0), tf.constant(2.0))),
     ValueError, "overall structure"),
    (lambda p: tf.cond(p, 1, lambda: 1), TypeError, "true_fn must be callable"),
    (lambda p: tf.cond(p, lambda: 1, None), TypeError, "false_fn must be callable"),
    (lambda p: tf.cond(True, lambda: 1, lambda: 2), TypeError, "pred must not be a Python bool"),
    (lambda p: tf.cond(tf.constant(1), lambda: 1, lambda: 2), TypeError, "bool"),
])
def test_cond_errors(build, error, match):
    p = tf.placeholder(tf.bool, [])
    with pytest.raises(error, match=match):
        build(p)


def test_assert_inside_branch_fails_only_when_taken():
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [])

    def checked():
        with tf.control_dependencies([tf.Assert(tf.cast(x, tf.bool), ["x is zero", x])]):
            return tf.identity(x)
    r = tf.cond(p, checked, lambda: x)
    with tf.Session() as sess:
        for _ in range(3):
            assert sess.run(r, {p: True, x: 2.0}) == 2.0
            assert sess.run(r, {p: False, x: 0.0}) == 0.0
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: \[x is zero\] \[0\]"):
                sess.run(r, {p: True, x: 0.0})


# ------------------------------------------------------------------------------------------------
# case
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("a, b, want", [(True, False, 1), (False, True, 2), (True, True, 1), (False, False, 3)])
def test_case_with_default(a, b, want):
    pa, pb = tf.placeholder(tf.bool, []), tf.placeholder(tf.bool, [])
    r = tf.case([(pa, lambda: tf.constant(1)), (pb, lambda: tf.constant(2))], default=lambda: tf.constant(3))
    assert r.name.startswith("case/cond/")
    with tf.Session() as sess:
        assert sess.run(r, {pa: a, pb: b}) == want


def test_case_without_default_asserts_last_predicate():
    p = tf.placeholder(tf.bool, [])
    r = tf.case([(p, lambda: tf.constant(1))])
    with tf.Session() as sess:
        assert sess.run(r, {p: True}) == 1
        with pytest.raises(tf.errors.InvalidArgumentError, match="None of conditions evaluated as True"):
            sess.run(r, {p: False})


def test_case_argument_errors():
    with pytest.raises(TypeError, match="must be a Tensor"):
        tf.case([(True, lambda: 1)], default=lambda: 2)
    with pytest.raises(TypeError, match="2-tuple"):
        tf.case([tf.constant(True)], default=lambda: 2)


# ------------------------------------------------------------------------------------------------
# while_loop
# ------------------------------------------------------------------------------------------------
def test_while_loop_structure_and_counter():
    i = tf.constant(0)
    w = tf.while_loop(lambda i: ne(i, 10), lambda i: i + 1, [i])
    assert isinstance(w, tf.Tensor) and w.name == "while/Identity_2:0"
    loop = w.op.inputs[0].op
    assert loop.type == "StatelessWhile" and loop.name == "while"
    assert [t.op.name for t in loop.inputs[:2]] == ["while/loop_counter", "while/maximum_iterations"]
    assert run3(w) == 10
    w2 = tf.while_loop(lambda i: ne(i, 10), lambda i: i + 1, [i], return_same_structure=True)
    assert isinstance(w2, list) and run3(w2) == [10]


def test_while_loop_several_variables_and_captures():
    x = tf.placeholder(tf.float32, [None])
    scale = tf.constant(2.0)
    i, a = tf.while_loop(lambda i, a: ne(i, 4), lambda i, a: (i + 1, a * scale), [tf.constant(0), x])
    assert a.shape.as_list() == [None]
    got = run3([i, a], {x: [1.0, 3.0]})
    assert got[0] == 4
    np.testing.assert_allclose(got[1], [16.0, 48.0])


def test_while_loop_structured_loop_vars():
    State = collections.namedtuple("State", "step total")
    init = State(tf.constant(0), {"x": tf.constant(1.0), "y": tf.constant(0.0)})
    out = tf.while_loop(lambda s: ne(s.step, 3),
                        lambda s: State(s.step + 1, {"x": s.total["x"] * 2.0, "y": s.total["y"] + s.total["x"]}),
                        [init])
    assert isinstance(out, list) and isinstance(out[0], State)  # as TF: several leaves keep the list
    out = out[0]
    step, x, y = run3([out.step, out.total["x"], out.total["y"]])
    assert (step, x, y) == (3, 8.0, 7.0)


@pytest.mark.parametrize("limit, want", [(0, 0), (3, 3), (10, 10), (25, 10)])
def test_while_loop_maximum_iterations(limit, want):
    i = tf.constant(0)
    static = tf.while_loop(lambda i: ne(i, 10), lambda i: i + 1, [i], maximum_iterations=limit)
    fed = tf.placeholder(tf.int32, [])
    dynamic = tf.while_loop(lambda i: ne(i, 10), lambda i: i + 1, [i], maximum_iterations=fed)
    assert run3([static, dynamic], {fed: limit}) == [want, want]


def test_while_loop_shape_invariants_allow_growth():
    v = tf.constant([1.0])
    out_i, out_v = tf.while_loop(lambda i, v: ne(i, 3), lambda i, v: (i + 1, tf.reshape(tf.stack([v, v]), [-1])),
                                 [tf.constant(0), v],
                                 shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    assert out_v.shape.as_list() == [None]
    assert run3(out_v).shape == (8,)


def test_while_loop_shape_errors():
    v = tf.constant([1.0])
    with pytest.raises(ValueError, match=r"enters the loop with shape \(1,\), but has shape \(2,\) after one "
                                         r"iteration. To allow the shape to vary"):
        tf.while_loop(lambda v: tf.constant(True), lambda v: tf.reshape(tf.stack([v, v]), [-1]), [v])
    with pytest.raises(ValueError, match="not compatible with the initial shape"):
        tf.while_loop(lambda v: tf.constant(True), lambda v: v, [v], shape_invariants=[tf.TensorShape([2])])
    with pytest.raises(TypeError, match="cond must be callable"):
        tf.while_loop(1, lambda v: v, [v])
    with pytest.raises(ValueError, match="No loop variables provided"):
        tf.while_loop(lambda: True, lambda: 1, [])


def test_nested_while_and_cond_in_body():
    def outer_body(i, total):
        inner = tf.while_loop(lambda j, s: ne(j, i), lambda j, s: (j + 1, s + j), [tf.constant(0), tf.constant(0)])
        bonus = tf.cond(ne(i, 2), lambda: tf.constant(0), lambda: tf.constant(100))
        return i + 1, total + inner[1] + bonus
    _, total = tf.while_loop(lambda i, t: ne(i, 5), outer_body, [tf.constant(0), tf.constant(0)])
    # sum over i<5 of sum(range(i)) = 0+0+1+3+6 = 10, plus 100 when i == 2
    assert run3(total) == 110


def test_while_body_state_accumulates():
    v = tf.Variable(1.0, name="v")

    def body(k):
        with tf.control_dependencies([tf.assign_add(v, 100.0)]):
            return k + 1
    w = tf.while_loop(lambda k: ne(k, 5), body, [tf.constant(0)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = [(sess.run(w), sess.run(v)) for _ in range(3)]
    assert got == [(5, 501.0), (5, 1001.0), (5, 1501.0)]


def test_while_body_random_ops_draw_fresh_values_each_iteration():
    i, acc = tf.while_loop(lambda k, a: ne(k, 4), lambda k, a: (k + 1, a + tf.random_uniform([2], seed=3)),
                           [tf.constant(0), tf.constant([0.0, 0.0])])
    with tf.Session() as sess:
        a, b = sess.run(acc), sess.run(acc)
    assert not np.allclose(a, b) and np.all((a >= 0) & (a < 4))


def test_assert_inside_loop_body():
    x = tf.placeholder(tf.int32, [])

    def body(k):
        with tf.control_dependencies([tf.Assert(ne(k, x), ["reached", k])]):
            return k + 1
    w = tf.while_loop(lambda k: ne(k, 5), body, [tf.constant(0)])
    with tf.Session() as sess:
        for _ in range(3):
            assert sess.run(w, {x: 7}) == 5
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: \[reached\] \[2\]"):
                sess.run(w, {x: 2})


def test_py_func_inside_loop_runs_on_host():
    calls = []

    def f(v):
        calls.append(int(v))
        return np.int32(v * 2)
    w = tf.while_loop(lambda k: ne(k, 16), lambda k: tf.py_func(f, [k], tf.int32),
                      [tf.constant(1)])
    with tf.Session() as sess:
        assert sess.run(w) == 16
    assert calls == [1, 2, 4, 8]


# ------------------------------------------------------------------------------------------------
# map_fn / scan / foldl / foldr (While loops over TensorArrays; a leading dimension known only at run time)
# ------------------------------------------------------------------------------------------------
HIGHER_ORDER = [
    ("map_fn", lambda x: tf.map_fn(lambda r: r * 2.0 + tf.reduce_sum(r), x),
     lambda x: x * 2 + x.sum(1, keepdims=True)),
    ("scan", lambda x: tf.scan(lambda a, r: a + r, x), lambda x: np.cumsum(x, 0)),
    ("scan_init_reverse", lambda x: tf.scan(lambda a, r: a + r, x, initializer=tf.constant([10.0, 10.0]),
                                            reverse=True),
     lambda x: 10 + np.cumsum(x[::-1], 0)[::-1]),
    ("foldl", lambda x: tf.foldl(lambda a, r: a * 2.0 + r, x),
     lambda x: x[0] * 4 + x[1] * 2 + x[2]),
    ("foldr_init", lambda x: tf.foldr(lambda a, r: a * 2.0 + r, x, initializer=tf.constant([0.0, 0.0])),
     lambda x: x[2] * 4 + x[1] * 2 + x[0]),
]


@pytest.mark.parametrize("name, build, ref", HIGHER_ORDER, ids=[c[0] for c in HIGHER_ORDER])
def test_higher_order_functions(name, build, ref):
    x = tf.placeholder(tf.float32, [None, 2])
    out = build(x)
    xv = np.arange(6, dtype=np.float32).reshape(3, 2)
    got = run3(out, {x: xv})
    np.testing.assert_allclose(got, ref(xv))
    assert got.dtype == np.float32 and out.shape.is_compatible_with(got.shape)


def test_map_fn_structures_and_host_functions():
    a, b = tf.constant([1, 2, 3]), tf.constant([1.0, 2.0, 3.0])
    pair = tf.map_fn(lambda t: (t[0] * 2, {"b": t[1] + 1.0}), (a, b), dtype=(tf.int32, {"b": tf.float32}))
    got = run3([pair[0], pair[1]["b"]])
    np.testing.assert_equal(got, [[2, 4, 6], [2.0, 3.0, 4.0]])
    calls = []
    on_host = tf.map_fn(lambda e: tf.py_func(lambda v: (calls.append(1), v * 3)[1], [e], tf.int32), a)
    np.testing.assert_equal(run3(on_host), [3, 6, 9])
    assert len(calls) == 9  # three elements, three runs
    with pytest.raises(ValueError, match="not scalars"):
        tf.map_fn(lambda e: e, tf.constant(1.0))


def test_scan_gradients_match_finite_differences():
    x = tf.placeholder(tf.float64, [None, 2])
    w = tf.placeholder(tf.float64, [2])
    y = tf.reduce_sum(tf.scan(lambda a, r: tf.tanh(a * w + r), x)) + tf.reduce_sum(tf.map_fn(lambda r: r * r * w, x))
    gx, gw = tf.gradients(y, [x, w])
    x0, w0 = np.array([[0.1, -0.2], [0.3, 0.5], [-0.4, 0.2]]), np.array([0.7, -1.1])
    with tf.Session() as sess:
        for _ in range(2):
            got_x, got_w = sess.run([gx, gw], {x: x0, w: w0})
            np.testing.assert_allclose(got_x, _finite_difference(sess, y, x, x0, {w: w0}), rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(got_w, _finite_difference(sess, y, w, w0, {x: x0}), rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------------------------------------
# Oracle: the same programs under real tf.compat.v1
# ------------------------------------------------------------------------------------------------
def _ne(tf_, a, b):
    return tf_.cast(a - b, tf_.bool)


ORACLE_CASES = {
    "cond": lambda tf_: tf_.cond(tf_.constant(True), lambda: tf_.constant([1.0, 2.0]) * 3.0,
                                 lambda: tf_.constant([0.0, 0.0])),
    "cond_false_tuple": lambda tf_: tf_.cond(tf_.constant(False), lambda: (tf_.constant(1), tf_.constant(2.0)),
                                             lambda: (tf_.constant(3), tf_.constant(4.0))),
    "nested_cond": lambda tf_: tf_.cond(tf_.constant(False), lambda: tf_.constant(1),
                                        lambda: tf_.cond(tf_.constant(True), lambda: tf_.constant(2),
                                                         lambda: tf_.constant(3))),
    "case": lambda tf_: tf_.case([(tf_.constant(False), lambda: tf_.constant(1)),
                                  (tf_.constant(True), lambda: tf_.constant(2))], default=lambda: tf_.constant(3)),
    "while": lambda tf_: tf_.while_loop(lambda i, a: _ne(tf_, i, 6), lambda i, a: (i + 1, a * 1.5),
                                        [tf_.constant(0), tf_.constant([1.0, -2.0])]),
    "while_max_iter": lambda tf_: tf_.while_loop(lambda i: _ne(tf_, i, 100), lambda i: i + 3, [tf_.constant(0)],
                                                 maximum_iterations=7),
    "while_invariants": lambda tf_: tf_.while_loop(
        lambda i, v: _ne(tf_, i, 3), lambda i, v: (i + 1, tf_.reshape(tf_.stack([v, v * 2.0]), [-1])),
        [tf_.constant(0), tf_.constant([1.0])], shape_invariants=[tf_.TensorShape([]), tf_.TensorShape([None])]),
    "map_fn": lambda tf_: tf_.map_fn(lambda r: r * 2.0 + tf_.reduce_sum(r), tf_.constant([[1.0, 2.0], [3.0, 4.0]])),
    "scan": lambda tf_: tf_.scan(lambda a, e: a * e, tf_.constant([1, 2, 3, 4])),
    "scan_reverse_init": lambda tf_: tf_.scan(lambda a, e: a - e, tf_.constant([1.0, 2.0, 3.0]),
                                              initializer=tf_.constant(10.0), reverse=True),
    "foldl": lambda tf_: tf_.foldl(lambda a, e: a * 10 + e, tf_.constant([1, 2, 3])),
    "foldr": lambda tf_: tf_.foldr(lambda a, e: a * 10 + e, tf_.constant([1, 2, 3]), initializer=tf_.constant(0)),
    "nested_while": lambda tf_: tf_.while_loop(
        lambda i, t: _ne(tf_, i, 4),
        lambda i, t: (i + 1, t + tf_.while_loop(lambda j: _ne(tf_, j, i), lambda j: j + 1, [tf_.constant(0)])),
        [tf_.constant(0), tf_.constant(0)]),
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(ORACLE_CASES))
def test_control_flow_matches_tensorflow(name):
    v1 = oracle.tf1()
    want = oracle.run(v1, ORACLE_CASES[name])
    got = oracle.run(tf, ORACLE_CASES[name])
    for g, w in zip(tf.ops.control_flow_ops.flatten(got) if isinstance(got, (list, tuple)) else [got],
                    tf.ops.control_flow_ops.flatten(want) if isinstance(want, (list, tuple)) else [want]):
        np.testing.assert_allclose(g, w, rtol=1e-6)
        assert np.asarray(g).dtype == np.asarray(w).dtype


@pytest.mark.oracle
def test_while_shape_error_text_matches_tensorflow():
    v1 = oracle.tf1()
    msgs = []
    for tf_ in (v1, tf):
        g = tf_.Graph()
        with g.as_default():
            v = tf_.constant([1.0], name="v")
            with pytest.raises(ValueError) as err:
                tf_.while_loop(lambda v: tf_.constant(True), lambda v: tf_.reshape(tf_.stack([v, v]), [-1]), [v])
            msgs.append(str(err.value))
    assert msgs[1] in msgs[0] or msgs[0] in msgs[1], msgs


# ------------------------------------------------------------------------------------------------
# Gradients through cond and while_loop, checked by central finite differences (float64)
# ------------------------------------------------------------------------------------------------
def _finite_difference(sess, y, x, x0, feed, eps=1e-6):
    grad = np.zeros_like(x0)
    for i in np.ndindex(x0.shape):
        hi, lo = x0.copy(), x0.copy()
        hi[i] += eps
        lo[i] -= eps
        grad[i] = (sess.run(y, {**feed, x: hi}) - sess.run(y, {**feed, x: lo})) / (2 * eps)
    return grad


def _cond_loss(x, p, w):
    return tf.cond(p, lambda: tf.reduce_sum(x * x * w), lambda: tf.reduce_sum(tf.exp(x) * w + x))


def _nested_cond_loss(x, p, w):
    return tf.cond(p, lambda: tf.cond(tf.logical_not(p) if hasattr(tf, "logical_not") else p,
                                      lambda: tf.reduce_sum(x), lambda: tf.reduce_sum(tf.tanh(x * w))),
                   lambda: tf.reduce_sum(x * w))


def _while_loss(x, p, w):
    _, a = tf.while_loop(lambda i, a: ne(i, 100), lambda i, a: (i + 1, a * x + w),
                         [tf.constant(0), tf.constant(np.ones(3))], maximum_iterations=4)
    return tf.reduce_sum(a * a)


def _while_with_cond_loss(x, p, w):
    def body(i, a):
        return i + 1, tf.cond(p, lambda: a * tf.tanh(x), lambda: a + x * w)
    _, a = tf.while_loop(lambda i, a: ne(i, 3), body, [tf.constant(0), x], maximum_iterations=5)
    return tf.reduce_sum(a)


@pytest.mark.parametrize("loss", [_cond_loss, _nested_cond_loss, _while_loss, _while_with_cond_loss])
@pytest.mark.parametrize("pred", [True, False])
def test_gradients_match_finite_differences(loss, pred):
    x = tf.placeholder(tf.float64, [3])
    w = tf.placeholder(tf.float64, [3])
    p = tf.placeholder(tf.bool, [])
    y = loss(x, p, w)
    gx, gw = tf.gradients(y, [x, w])
    x0, w0 = np.array([0.3, -0.7, 0.9]), np.array([0.5, -1.5, 2.0])
    with tf.Session() as sess:
        for _ in range(2):  # eager and compiled
            got_x, got_w = sess.run([gx, gw], {x: x0, w: w0, p: pred})
            np.testing.assert_allclose(got_x, _finite_difference(sess, y, x, x0, {p: pred, w: w0}),
                                       rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(got_w, _finite_difference(sess, y, w, w0, {p: pred, x: x0}),
                                       rtol=1e-5, atol=1e-7)


def test_gradient_through_unbounded_while_loop():
    """No maximum_iterations: the reverse pass is bounded by the trip count op-by-op runs observe."""
    x = tf.placeholder(tf.float32, [])
    _, a = tf.while_loop(lambda i, a: ne(i, 3), lambda i, a: (i + 1, a * x), [tf.constant(0), tf.constant(1.0)])
    (g,) = tf.gradients(a, [x])
    with tf.Session() as sess:
        for value in (2.0, 2.0, 3.0):  # op by op, then compiled
            np.testing.assert_allclose(sess.run(g, {x: value}), 3 * value ** 2)


def test_gradient_through_while_loop_bounded_by_a_shape():
    """maximum_iterations = tf.shape(x)[0]: known while tracing (shapes are static), so the loop is
    differentiable, one compile per length."""
    x = tf.placeholder(tf.float32, [None])
    w = tf.Variable(1.5)
    n = tf.shape(x)[0]
    _, acc = tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a * w + x[i]),
                           [tf.constant(0), tf.constant(0.0)], maximum_iterations=n)
    (g,) = tf.gradients(acc, [w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for k in (3, 5, 3):
            xs = np.arange(k, dtype=np.float32) + 1
            got_acc, got_g = sess.run([acc, g], {x: xs})
            coeffs = xs[::-1]  # acc = sum_j x_j w^(k-1-j)
            np.testing.assert_allclose(got_acc, sum(c * 1.5 ** p for p, c in enumerate(coeffs)), rtol=1e-6)
            np.testing.assert_allclose(got_g, sum(p * c * 1.5 ** (p - 1) for p, c in enumerate(coeffs) if p),
                                       rtol=1e-6)


def test_training_through_cond_reduces_loss():
    w = tf.Variable(3.0)
    p = tf.placeholder(tf.bool, [])
    loss = tf.cond(p, lambda: tf.square(w - 1.0), lambda: tf.square(w + 1.0))
    train = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(12):
            sess.run(train, {p: True})
        assert abs(sess.run(w) - 1.0) < 1e-3
        for _ in range(12):
            sess.run(train, {p: False})
        assert abs(sess.run(w) + 1.0) < 1e-3


def test_compiled_plan_keeps_effects_of_subgraphs_the_first_run_skipped():
    """The first run is op by op and skips the untaken branch / a zero-trip loop body; the compiled
    plan used from the second run on must still carry their state writes and checks."""
    v = tf.Variable(0.0, name="v")
    p = tf.placeholder(tf.bool, [])
    n = tf.placeholder(tf.int32, [])
    branch = tf.cond(p, lambda: tf.assign_add(v, 1.0), lambda: tf.identity(v))

    def body(i):
        with tf.control_dependencies([tf.assign_add(v, 10.0), tf.Assert(ne(i, 7), ["i is 7"])]):
            return i + 1
    loop = tf.while_loop(lambda i: i < n, body, [tf.constant(0)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(branch, {p: False}) == 0.0      # eager: the assign branch is not taken
        assert sess.run(branch, {p: True}) == 1.0       # compiled: it is
        assert sess.run(branch, {p: True}) == 2.0
        assert sess.run(loop, {n: 0}) == 0             # eager: zero iterations
        assert sess.run(loop, {n: 3}) == 3 and sess.run(v) == 32.0
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: \[i is 7\]"):
            sess.run(loop, {n: 9})
        assert sess.run(v) == 32.0                      # a failed run changes nothing


def test_case_exclusive_checks_at_most_one_predicate():
    pa, pb = tf.placeholder(tf.bool, []), tf.placeholder(tf.bool, [])
    r = tf.case({pa: lambda: tf.constant(1), pb: lambda: tf.constant(2)}, default=lambda: tf.constant(3),
                exclusive=True)
    with tf.Session() as sess:
        for _ in range(2):
            assert sess.run(r, {pa: False, pb: True}) == 2
            assert sess.run(r, {pa: False, pb: False}) == 3
            with pytest.raises(tf.errors.InvalidArgumentError, match="more than 1 conditions evaluated as True"):
                sess.run(r, {pa: True, pb: True})


def test_variables_created_inside_a_branch_and_loop_with_comparisons():
    p = tf.placeholder(tf.bool, [])

    def branch():
        with tf.variable_scope("inner"):
            v = tf.get_variable("v", [2], initializer=tf.constant_initializer(5.0))
        return v * 2.0
    r = tf.cond(p, branch, lambda: tf.constant([0.0, 0.0]))
    i, acc = tf.while_loop(lambda i, acc: i < 4, lambda i, acc: (i + 1, acc + tf.cast(i, tf.float32)),
                           (0, 0.0))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(2):
            np.testing.assert_allclose(sess.run(r, {p: True}), [10.0, 10.0])
            np.testing.assert_allclose(sess.run(r, {p: False}), [0.0, 0.0])
            assert sess.run([i, acc]) == [4, 6.0]


def test_subgraphs_needing_run_time_shapes_run_op_by_op():
    p = tf.placeholder(tf.bool, [])
    n = tf.placeholder(tf.int32, [])
    r = tf.cond(p, lambda: tf.range(n), lambda: tf.range(n) * 2)
    w = tf.while_loop(lambda i: i < n, lambda i: i + tf.size(tf.range(n)), [0])
    with tf.Session() as sess:
        for _ in range(2):
            got = sess.run([r, w], {p: True, n: 4})
            np.testing.assert_equal(got, [[0, 1, 2, 3], 4])
            np.testing.assert_equal(sess.run(r, {p: False, n: 3}), [0, 2, 4])


@pytest.mark.parametrize("pred, want", [(True, [2.0, 3.0]), (False, [10.0, 10.0])])
def test_read_after_assign_inside_a_branch_sees_the_update(pred, want):
    v = tf.Variable(1.0, name="v")
    p = tf.placeholder(tf.bool, [])

    def bump():
        with tf.control_dependencies([tf.assign_add(v, 1.0)]):
            return tf.identity(v)
    r = tf.cond(p, bump, lambda: tf.identity(v) * 10.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert [sess.run(r, {p: pred}) for _ in range(2)] == want


@pytest.mark.oracle
def test_read_after_assign_inside_a_branch_matches_tensorflow():
    v1 = oracle.tf1()

    def build(tf_):
        v = tf_.Variable(1.0, name="v")

        def bump():
            with tf_.control_dependencies([tf_.assign_add(v, 1.0)]):
                return tf_.identity(v)
        return tf_.cond(tf_.constant(True), bump, lambda: tf_.identity(v) * 10.0)
    assert oracle.run(tf, build, init_variables=True) == oracle.run(v1, build, init_variables=True) == 2.0


@pytest.mark.oracle
@pytest.mark.parametrize("branches", [
    (lambda x: [x, x], lambda x: (x, x)),
    (lambda x: [x, (x, x)], lambda x: [x, [x, x]]),
], ids=["list_and_tuple", "nested"])
def test_cond_branches_returning_a_list_and_a_tuple_raise_tensorflows_type_error(branches):
    """TF's nest.assert_same_structure checks sequence types: a list is not a tuple (TypeError)."""
    from tests import _op_oracle
    true_fn, false_fn = branches
    _op_oracle.compare_error(lambda t: t.cond(t.constant(1.0) > 0, lambda: true_fn(t.constant(2.0)),
                                              lambda: false_fn(t.constant(3.0))))


# ------------------------------------------------------------------------------------------------
# Gradients through loops that stop before their bound (lowering/reverse_loop.py)
# ------------------------------------------------------------------------------------------------
def _loop_gradients(tf_, n_trips):
    """A loop bounded by 20 that runs `n` (fed) iterations: a float carry, an int carry, a TensorArray of
    per-step values, a nested loop and a captured weight; first and second derivatives."""
    x = tf_.placeholder(tf_.float32, [3], name="x")
    n = tf_.placeholder(tf_.int32, [], name="n")
    w = tf_.constant([0.9, -0.4, 0.3])

    def body(i, a, ta):
        inner = tf_.while_loop(lambda j, b: j < 2, lambda j, b: (j + 1, tf_.sin(b) * w + x),
                               [tf_.constant(0), a], maximum_iterations=2)[1]
        return i + 1, tf_.tanh(inner * a + w), ta.write(i, tf_.reduce_sum(a * x))

    _, last, ta = tf_.while_loop(lambda i, a, ta: i < n, body,
                                 [tf_.constant(0), x, tf_.TensorArray(tf_.float32, size=20)],
                                 maximum_iterations=20)
    y = tf_.reduce_sum(last * last) + tf_.reduce_sum(ta.stack())
    g = tf_.gradients(y, x)[0]
    h = tf_.gradients(tf_.reduce_sum(g * g), x)[0]
    feeds = [{x: np.array([0.2, -0.5, 0.7], np.float32), n: trips} for trips in n_trips]
    return [y, g, h], feeds


@pytest.mark.oracle
def test_gradients_through_loops_that_stop_early_match_tensorflow():
    trips = [0, 1, 3, 20, 3]
    results = {}
    for lib in (oracle.tf1(), tf):
        graph = lib.Graph()
        with graph.as_default():
            fetches, feeds = _loop_gradients(lib, trips)
            with lib.Session(graph=graph) as sess:
                results[lib] = [sess.run(fetches, feed) for feed in feeds]
    want, got = results.values()
    for trip, w, g in zip(trips, want, got):
        for name, a, b in zip(("y", "dy/dx", "d|g|^2/dx"), g, w):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6, err_msg=f"{name} after {trip} iterations")
    # the same feeds (3 iterations) on the same executable give the same bits
    np.testing.assert_array_equal(np.asarray(got[2][1]), np.asarray(got[4][1]))
