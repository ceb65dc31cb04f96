"""User-chosen gradients: gradient_override_map, RegisterGradient, NotDifferentiable, custom_gradient, hessians.

Each oracle case builds the same program under graphcompat and TF1 and compares values and gradients over
three runs (the first runs op by op, later ones compiled).
"""
import itertools

import numpy as np
import pytest

import graphcompat as gc
from tests import oracle

_NAMES = itertools.count()
X = np.array([0.7, -1.3, 0.2, 2.5], np.float32)


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_NAMES)}"  # TF's gradient registry is process-wide: one name per registration


def _straight_through(tf):
    x = tf.placeholder(tf.float32, [4], name="x")
    with tf.get_default_graph().gradient_override_map({"Sign": "Identity", "Round": "Identity"}):
        y = tf.reduce_sum(tf.sign(x) * x + tf.round(x * 3.0))
    return x, [y, tf.gradients(y, x)[0]]


def _gradient_reversal(tf):
    name = _unique("Reverse")

    @tf.RegisterGradient(name)
    def _reverse(op, grad):
        return [-0.5 * grad]

    x = tf.placeholder(tf.float32, [4], name="x")
    with tf.get_default_graph().gradient_override_map({"Identity": name}):
        r = tf.identity(x * x)
    y = tf.reduce_sum(r * 2.0 + x)
    return x, [y, tf.gradients(y, x)[0]]


def _py_func_with_gradient(tf):
    name = _unique("PySquare")

    @tf.RegisterGradient(name)
    def _square_grad(op, grad):  # reads the forward op's input, as TF recipes do
        return grad * 2.0 * op.inputs[0]

    x = tf.placeholder(tf.float32, [4], name="x")
    with tf.get_default_graph().gradient_override_map({"PyFunc": name}):
        p = tf.py_func(lambda a: (a * a).astype(np.float32), [x], tf.float32)
    p.set_shape([4])
    y = tf.reduce_sum(tf.sin(p))
    return x, [y, tf.gradients(y, x)[0]]


def _custom_gradient_two_args(tf):
    @tf.custom_gradient
    def scaled_product(a, b):
        def grad(dy):
            return tf.clip_by_value(dy * b, -0.5, 0.5), dy * a * 10.0
        return a * b, grad

    x = tf.placeholder(tf.float32, [4], name="x")
    b = tf.constant([1.0, 2.0, 3.0, 4.0])
    y = tf.reduce_sum(scaled_product(tf.exp(x), b) ** 2)
    return x, [y] + tf.gradients(y, [x, b])


def _custom_gradient_log1pexp(tf):
    # TF's documented example: a numerically stable gradient of log(1 + e^x).
    @tf.custom_gradient
    def log1pexp(v):
        e = tf.exp(v)
        return tf.log(1 + e), lambda dy: dy * (1 - 1 / (1 + e))

    x = tf.placeholder(tf.float32, [4], name="x")
    y = tf.reduce_sum(log1pexp(x * 3.0))
    return x, [y, tf.gradients(y, x)[0]]


def _hessian(tf):
    x = tf.placeholder(tf.float32, [4], name="x")
    y = tf.reduce_sum(x ** 3) + x[0] * x[2] + tf.reduce_sum(tf.sin(x)) * x[1]
    return x, tf.hessians(y, x)


def _hessian_of_a_matrix(tf):
    w = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3) / 5.0)
    y = tf.reduce_sum(tf.tanh(tf.matmul(w, tf.transpose(w))))
    x = tf.placeholder(tf.float32, [4], name="x")
    return x, [tf.hessians(y, w)[0], tf.reduce_sum(x)]


CASES = [_straight_through, _gradient_reversal, _py_func_with_gradient, _custom_gradient_two_args,
         _custom_gradient_log1pexp, _hessian, _hessian_of_a_matrix]


def _run(tf, build, runs: int = 3):
    graph = tf.Graph()
    with graph.as_default():
        x, fetches = build(tf)
        with tf.Session(graph=graph) as sess:
            return [sess.run(fetches, {x: X}) for _ in range(runs)]


@pytest.mark.oracle
@pytest.mark.parametrize("build", CASES, ids=lambda f: f.__name__.strip("_"))
def test_user_gradients_match_tf(build):
    tf1 = oracle.tf1()
    want = _run(tf1, build, runs=1)[0]
    for got in _run(gc, build):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6)


def test_gradient_override_sets_tf_attr_and_restores_the_map():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32)
        with g.gradient_override_map({"Sign": "Identity"}):
            with g.gradient_override_map({"Sign": "Other"}):
                inner = gc.sign(x)
            outer = gc.sign(x)
        after = gc.sign(x)
    assert inner.op.get_attr("_gradient_op_type") == b"Other"
    assert outer.op.get_attr("_gradient_op_type") == b"Identity"
    with pytest.raises(ValueError, match="no attr named '_gradient_op_type'"):
        after.op.get_attr("_gradient_op_type")
    node = {n.name: n for n in g.as_graph_def().node}[outer.op.name]
    assert node.attr["_gradient_op_type"].s == b"Identity"


def test_custom_gradient_trains_a_variable():
    """GradientDescent through a custom gradient: the update uses the chosen gradient."""
    @gc.custom_gradient
    def double_grad(v):
        return tf_identity(v), lambda dy: 2.0 * dy

    tf_identity = gc.identity
    with gc.Graph().as_default():
        w = gc.Variable([1.0, 2.0])
        loss = gc.reduce_sum(double_grad(w) * gc.constant([3.0, 5.0]))
        train = gc.train.GradientDescentOptimizer(0.1).minimize(loss)
        with gc.Session() as sess:
            sess.run(gc.global_variables_initializer())
            for _ in range(3):
                sess.run(train)
            np.testing.assert_allclose(sess.run(w), [1.0 - 3 * 0.6, 2.0 - 3 * 1.0], rtol=1e-6)


def test_not_differentiable_stops_the_gradient():
    name = _unique("Stop")
    gc.NotDifferentiable(name)
    with gc.Graph().as_default() as g:
        x = gc.placeholder(gc.float32, [2])
        with g.gradient_override_map({"Square": name}):
            s = gc.square(x)
        assert gc.gradients(gc.reduce_sum(s), x) == [None]
        y = gc.reduce_sum(s + 3.0 * x)
        with gc.Session() as sess:
            np.testing.assert_allclose(sess.run(gc.gradients(y, x)[0], {x: [1.0, 2.0]}), [3.0, 3.0])


@pytest.mark.oracle
def test_registration_and_lookup_errors_match_tf():
    tf1 = oracle.tf1()
    for tf in (gc, tf1):
        with pytest.raises(TypeError, match="op_type must be a string"):
            tf.RegisterGradient(3)
        with pytest.raises(KeyError, match="Registering two gradient with name 'Square'"):
            tf.RegisterGradient("Square")(lambda op, g: g)
        name = _unique("Twice")
        tf.RegisterGradient(name)(lambda op, g: g)
        with pytest.raises(KeyError, match=f"Registering two gradient with name '{name}'"):
            tf.RegisterGradient(name)(lambda op, g: g)
        graph = tf.Graph()
        with graph.as_default():
            with pytest.raises(TypeError, match="op_type_map must be a dictionary mapping strings to strings"):
                with graph.gradient_override_map({"Sign": 1}):
                    pass
            x = tf.placeholder(tf.float32, [2])
            with graph.gradient_override_map({"Sign": _unique("Unregistered")}):
                s = tf.sign(x)
            with pytest.raises(LookupError, match="No gradient defined for operation"):
                tf.gradients(tf.reduce_sum(s), x)


def test_gradient_function_with_wrong_arity_is_rejected():
    name = _unique("Arity")
    gc.RegisterGradient(name)(lambda op, grad: [grad, grad])
    with gc.Graph().as_default() as g:
        x = gc.placeholder(gc.float32, [2])
        with g.gradient_override_map({"Identity": name}):
            y = gc.identity(x)
        with pytest.raises(ValueError, match="Num gradients 2 generated for op"):
            gc.gradients(y, x)


def test_hessians_need_a_static_shape():
    with gc.Graph().as_default():
        x = gc.placeholder(gc.float32, [None])
        with pytest.raises(NotImplementedError, match="tf.hessians"):
            gc.hessians(gc.reduce_sum(x ** 3), x)
