"""User-chosen gradients inside control-flow bodies (tf.custom_gradient, tf.RegisterGradient +
gradient_override_map, a gradient mapped to another op type, NotDifferentiable) are TF's gradients.

TF 2's compat.v1 graph mode builds while_v2/cond_v2, whose gradients differentiate the body function with the
registry's gradient functions, so a user's gradient inside a while_loop / cond / map_fn / scan / foldl /
dynamic_rnn cell applies per iteration. graphcompat's tf.gradients records the user's function once for each
such op (graphcompat/gradients.py `_record_body_gradients`) and the body's lowering wraps the op in a
jax.custom_vjp (lowering/rules/gradients.py `with_user_gradient_rule`). Each model is built in graphcompat and
in real TF: tf.gradients values, then the loss and weights after each of 3 optimizer steps (the first run is
op by op, later runs compiled).
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import graphcompat as gc
from tests import oracle

pytestmark = pytest.mark.oracle

X = np.linspace(-1.5, 1.5, 12, dtype=np.float32).reshape(3, 4)
W0 = np.array([[0.3, -0.1], [-0.2, 0.4], [0.5, 0.2], [0.1, -0.3]], np.float32)
STEPS = 3
_NAMES = itertools.count()


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_NAMES)}"  # TF's gradient registry is process-wide: one name per registration


def _clip(t):
    @t.custom_gradient
    def clip(v):
        return t.identity(v), lambda dy: t.clip_by_value(dy, -0.05, 0.05)
    return clip


def _reversed_identity(t, scale: float = -0.5):
    """gradient_override_map({"Identity": <registered>}): the gradient reversed and scaled."""
    name = _unique("ReverseInLoop")

    @t.RegisterGradient(name)
    def _reverse(op, dy):
        return [scale * dy]

    def apply(v):
        with t.get_default_graph().gradient_override_map({"Identity": name}):
            return t.identity(v)
    return apply


# ---- the models: h = model(t, x @ w) -> a tensor the loss squares -------------------------------------------
def _while_custom_gradient(t, h):
    clip = _clip(t)
    _, out = t.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a + clip(t.tanh(a + h))),
                          [t.constant(0), t.zeros_like(h)])
    return out


def _while_registered_gradient(t, h):
    rev = _reversed_identity(t)
    _, out = t.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, 0.5 * a + rev(a * h)),
                          [t.constant(0), t.ones_like(h)])
    return out


def _while_mapped_to_identity(t, h):
    """The straight-through estimator inside a loop: sign's value, identity's gradient."""
    def body(i, a):
        with t.get_default_graph().gradient_override_map({"Sign": "Identity"}):
            return i + 1, a + t.sign(h + 0.1 * a) * h
    _, out = t.while_loop(lambda i, a: i < 2, body, [t.constant(0), t.zeros_like(h)])
    return out


def _while_not_differentiable(t, h):
    """An op whose gradient is NotDifferentiable inside a loop: only the other path carries a gradient."""
    name = _unique("NoGradInLoop")
    t.NotDifferentiable(name)

    def body(i, a):
        with t.get_default_graph().gradient_override_map({"Square": name}):
            return i + 1, a + t.square(h) + h
    _, out = t.while_loop(lambda i, a: i < 2, body, [t.constant(0), t.zeros_like(h)])
    return out


def _cond(pred_value: bool):
    def model(t, h):
        clip = _clip(t)
        rev = _reversed_identity(t, 0.25)
        pred = t.placeholder_with_default(pred_value, [], name="pred")
        return t.cond(pred, lambda: clip(h * h), lambda: rev(h * 0.5) * 3.0)
    model.__name__ = f"_cond_{'true' if pred_value else 'false'}_branch"
    return model


def _map_fn(t, h):
    clip = _clip(t)
    return t.map_fn(lambda row: clip(row * row), h)


def _scan(t, h):
    clip = _clip(t)
    return t.scan(lambda acc, row: acc + clip(acc * row + row), h, initializer=t.zeros([2]))


def _foldl(t, h):
    rev = _reversed_identity(t)
    return t.foldl(lambda acc, row: acc * 0.5 + rev(row * row), h, initializer=t.zeros([2]))[None, :]


def _dynamic_rnn(t, h):
    """A custom RNN cell whose step clips its gradient (tf.nn.dynamic_rnn's loop over time)."""
    clip = _clip(t)

    class ClippedCell(t.nn.rnn_cell.RNNCell):
        state_size = 2
        output_size = 2

        def call(self, inputs, state):
            out = clip(t.tanh(inputs + 0.5 * state))
            return out, out

    outputs, _ = t.nn.dynamic_rnn(ClippedCell(), h[None, :, :], dtype=t.float32)
    return outputs[0]


def _nested_while(t, h):
    clip = _clip(t)

    def outer(i, a):
        _, inner = t.while_loop(lambda j, b: j < 2, lambda j, b: (j + 1, b + clip(b * h + h)), [t.constant(0), a],
                                maximum_iterations=2)
        return i + 1, inner
    # (maximum_iterations: without it, graphcompat's op-by-op run of a nested loop's gradient cannot size the
    # inner loop's residuals yet, with or without user gradients)
    _, out = t.while_loop(lambda i, a: i < 2, outer, [t.constant(0), t.zeros_like(h)], maximum_iterations=2)
    return out


def _second_use_outside_the_loop(t, h):
    """The same custom_gradient function inside a loop body and at the top level."""
    clip = _clip(t)
    _, out = t.while_loop(lambda i, a: i < 2, lambda i, a: (i + 1, a + clip(a * h + h)), [t.constant(0), h])
    return out + clip(h * 3.0)


MODELS = {f.__name__.lstrip("_"): f for f in (
    _while_custom_gradient, _while_registered_gradient, _while_mapped_to_identity, _while_not_differentiable,
    _cond(True), _cond(False), _map_fn, _scan, _foldl, _dynamic_rnn, _nested_while,
    _second_use_outside_the_loop)}


def _build(t, model):
    x = t.placeholder(t.float32, [3, 4], name="x")
    w = t.get_variable("w", initializer=W0)
    h = model(t, t.matmul(x, w))
    loss = t.reduce_sum(t.square(h - 0.3), name="loss")
    grad = t.gradients(loss, [w])[0]
    train = t.train.GradientDescentOptimizer(0.5).minimize(loss)
    return x, w, loss, grad, train


def _train(t, model) -> list:
    graph = t.Graph()
    with graph.as_default():
        x, w, loss, grad, train = _build(t, model)
        with t.Session(graph=graph) as sess:
            sess.run(t.global_variables_initializer())
            out = [sess.run([loss, grad], {x: X}), sess.run([loss, grad], {x: X})]  # op by op, then compiled
            for _ in range(STEPS):
                sess.run(train, {x: X})
                out.append(sess.run([loss, w], {x: X}))
    return out


def _assert_same(got: list, want: list) -> None:
    for k, (g, w) in enumerate(zip(got, want)):
        for a, b in zip(g, w):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6, err_msg=f"run {k}")


# marked slow: the same mechanism as a fast case (the suite's fast run keeps one of each construct)
SLOW_TABLE = {"while_mapped_to_identity", "while_not_differentiable", "second_use_outside_the_loop", "foldl"}


@pytest.mark.parametrize("model", [pytest.param(m, marks=pytest.mark.slow if m in SLOW_TABLE else ())
                                   for m in sorted(MODELS)])
def test_user_gradients_in_control_flow_match_tf(model):
    tf1 = oracle.tf1()
    want = _train(tf1, MODELS[model])
    got = _train(gc, MODELS[model])
    _assert_same(got, want)
    plain = _train(gc, lambda t, h: MODELS[model](_WithoutUserGradients(t), h))
    # the user's gradient changed the numbers (a plain jax gradient would not reach these values)
    assert not all(np.allclose(a, b, atol=1e-6) for p, g in zip(plain, got) for a, b in zip(p, g))


class _WithoutUserGradients:
    """The graphcompat module with custom_gradient / gradient_override_map made no-ops: the plain gradient."""

    def __init__(self, t):
        self._t = t

    def __getattr__(self, name):
        return getattr(self._t, name)

    @staticmethod
    def custom_gradient(f):
        return lambda *a: f(*a)[0]

    def get_default_graph(self):
        graph = self._t.get_default_graph()

        class _Plain:
            def __getattr__(self, name):
                return getattr(graph, name)

            @staticmethod
            def gradient_override_map(_):
                import contextlib
                return contextlib.nullcontext()
        return _Plain()


def test_the_repro_of_the_issue():
    """while_loop of a custom_gradient that clips: TF's 0.18, not the plain gradient's 18."""
    def build(t):
        @t.custom_gradient
        def clip_grad(x):
            return t.identity(x), lambda dy: t.clip_by_value(dy, -0.01, 0.01)
        w = t.constant(3.0)
        _, out = t.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a + clip_grad(w * w)),
                              [t.constant(0), t.constant(0.0)])
        return t.gradients(out, w)
    got, want = oracle.run(gc, build), oracle.run(oracle.tf1(), build)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(got, [0.18], rtol=1e-6)



def test_a_gradient_of_the_gradient_through_a_body_user_gradient():
    """tf.gradients of a tf.gradients through a loop whose custom gradient reads the op's input."""
    def build(t):
        @t.custom_gradient
        def scaled(x):
            return t.identity(x), lambda dy: dy * x * 0.5
        w = t.constant(3.0)
        _, out = t.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a + scaled(w * w)),
                              [t.constant(0), t.constant(0.0)], maximum_iterations=3)
        first = t.gradients(out, w)[0]
        return [first, t.gradients(first, w)[0]]
    got, want = oracle.run(gc, build), oracle.run(oracle.tf1(), build)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def _while_gradient_reads_an_outer_tensor(t, h):
    """A registered gradient inside a loop body reads a top-level tensor the body does not use (a gradient
    reversal's schedule): TF's gradient body captures it, graphcompat passes it through the SymbolicGradient."""
    scale = t.placeholder_with_default(np.float32(-0.25), [], name="scale")
    name = _unique("ScheduledReverse")

    @t.RegisterGradient(name)
    def _scaled(op, dy):
        return [dy * scale]

    def body(i, a):
        with t.get_default_graph().gradient_override_map({"Identity": name}):
            return i + 1, a + t.identity(h * a + h)
    _, out = t.while_loop(lambda i, a: i < 2, body, [t.constant(0), t.zeros_like(h)])
    return out


MODELS["while_gradient_reads_an_outer_tensor"] = _while_gradient_reads_an_outer_tensor


def test_a_body_gradient_reading_an_outer_tensor_trains_as_tf_and_is_refused_at_export():
    test_user_gradients_in_control_flow_match_tf("while_gradient_reads_an_outer_tensor")
    graph = gc.Graph()
    with graph.as_default():
        _build(gc, _while_gradient_reads_an_outer_tensor)
        with pytest.raises(NotImplementedError, match="reads scale:0, which the body does not use"):
            graph.as_graph_def()


def test_the_outer_tensor_a_body_gradient_reads_is_fed_not_baked_in():
    def build(t):
        x = t.constant(X[:, :2])
        scale = t.placeholder_with_default(np.float32(-0.25), [], name="scale")
        name = _unique("FedScale")

        @t.RegisterGradient(name)
        def _scaled(op, dy):
            return [dy * scale]

        def body(i, a):
            with t.get_default_graph().gradient_override_map({"Identity": name}):
                return i + 1, a + t.identity(a * x + x)
        _, out = t.while_loop(lambda i, a: i < 2, body, [t.constant(0), t.zeros_like(x)])
        return t.gradients(out, x)

    def feed(t, graph):
        return {graph.get_tensor_by_name("scale:0"): np.float32(3.0)}
    got, want = oracle.run(gc, build, feed), oracle.run(oracle.tf1(), build, feed)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def _missing_gradient_in(construct: str):
    def build(t):
        w = t.constant(2.0)

        def body(i, a):
            with t.get_default_graph().gradient_override_map({"Identity": "NoSuchGradientAnywhere"}):
                return i + 1, a + t.identity(a * w)
        if construct == "while":
            _, out = t.while_loop(lambda i, a: i < 2, body, [t.constant(0), t.constant(1.0)])
        else:
            out = t.cond(w > 1.0, lambda: body(0, w)[1], lambda: w)
        return out, w
    return build


@pytest.mark.parametrize("construct", ["while", "cond"])
def test_a_missing_gradient_inside_a_body_raises_tfs_lookup_error(construct):
    messages = []
    for lib in (gc, oracle.tf1()):
        with lib.Graph().as_default() as graph:
            out, w = _missing_gradient_in(construct)(lib)
            n = len(graph.get_operations())
            with pytest.raises(LookupError) as info:
                lib.gradients(out, w)
            messages.append(str(info.value))
            if lib is gc:
                assert len(graph.get_operations()) == n  # refused before the graph changes
    assert messages[0] == messages[1]
    assert "No gradient defined for operation'Identity' (op type: Identity)" in messages[0]


def test_an_unused_missing_gradient_inside_a_body_is_not_an_error():
    with gc.Graph().as_default():
        w = gc.constant(2.0)

        def body(i, a):
            with gc.get_default_graph().gradient_override_map({"Identity": "NoSuchGradientAnywhere"}):
                gc.identity(a * w)  # not on the path to the loop's outputs
            return i + 1, a * w
        _, out = gc.while_loop(lambda i, a: i < 2, body, [gc.constant(0), gc.constant(1.0)])
        with gc.Session() as sess:
            assert sess.run(gc.gradients(out, w)[0]) == pytest.approx(4.0)


def test_a_py_func_with_a_gradient_inside_a_loop_is_refused_at_tf_gradients():
    """graphcompat cannot yet differentiate a loop whose body runs Python: a clear error, not a wrong value."""
    with gc.Graph().as_default() as graph:
        name = _unique("PySquareInLoop")

        @gc.RegisterGradient(name)
        def _grad(op, dy):
            return dy * 2.0 * op.inputs[0]
        w = gc.constant([0.5, -1.0])

        def body(i, a):
            with graph.gradient_override_map({"PyFunc": name}):
                p = gc.py_func(lambda v: (v * v).astype(np.float32), [a * w], gc.float32)
            p.set_shape([2])
            return i + 1, a + p
        _, out = gc.while_loop(lambda i, a: i < 2, body, [gc.constant(0), gc.ones([2])])
        with pytest.raises(NotImplementedError, match="tf.gradients through PyFunc 'while/PyFunc' inside the "
                                                      "tf.while_loop body"):
            gc.gradients(out, w)
        with gc.Session() as sess:  # the forward loop still runs
            np.testing.assert_allclose(sess.run(out), [1.640625, 6.0])  # TF's values


def test_user_gradient_ops_of_a_body_stay_out_of_the_top_level_graph_def():
    with gc.Graph().as_default() as graph:
        _build(gc, _while_custom_gradient)
        nodes = {n.name for n in graph.as_graph_def().node}
    recorded = [op.name for op in graph.get_operations() if "IdentityN_grad" in op.name]
    assert recorded and not nodes.intersection(recorded)


def _resource_variable_in_the_body(t, h):
    """The user's gradient sits on a path only a resource variable's read feeds (dynamic_rnn's kernels under
    use_resource=True reach the loop through the captured handle)."""
    clip = _clip(t)
    with t.variable_scope("inner", use_resource=True):
        v = t.get_variable("v", initializer=np.float32([0.4, -0.7]))
    _, out = t.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a + t.reduce_sum(clip(v * 3.0) * [1.0, 0.5]) * h),
                          [t.constant(0), t.zeros_like(h)])
    return out


def _stop_gradient_mapped_to_identity(t, h):
    """A tf.stop_gradient whose gradient is mapped to Identity's inside a loop: the gradient flows."""
    def body(i, a):
        with t.get_default_graph().gradient_override_map({"StopGradient": "Identity"}):
            return i + 1, a + t.stop_gradient(t.tanh(h + a))
    _, out = t.while_loop(lambda i, a: i < 2, body, [t.constant(0), t.zeros_like(h)])
    return out


def _switch_case(t, h):
    clip, rev = _clip(t), _reversed_identity(t, 2.0)
    index = t.placeholder_with_default(1, [], name="index")
    return t.switch_case(index, [lambda: h, lambda: clip(h * h) + rev(h), lambda: 2.0 * h])


def _cond_in_while(t, h):
    """A cond nested in a loop body, its taken branch holding a registered gradient."""
    rev = _reversed_identity(t, -2.0)

    def body(i, a):
        return i + 1, t.cond(t.reduce_sum(a) < 10.0, lambda: rev(a * h + h), lambda: a * 2.0)
    _, out = t.while_loop(lambda i, a: i < 3, body, [t.constant(0), t.ones_like(h)], maximum_iterations=3)
    return out


for _model in (_resource_variable_in_the_body, _stop_gradient_mapped_to_identity, _switch_case, _cond_in_while):
    MODELS[_model.__name__.lstrip("_")] = _model


@pytest.mark.parametrize("model", ["resource_variable_in_the_body",
                                   pytest.param("stop_gradient_mapped_to_identity", marks=pytest.mark.slow),
                                   "switch_case", "cond_in_while"])
def test_more_user_gradients_in_control_flow_match_tf(model):
    test_user_gradients_in_control_flow_match_tf(model)


def test_user_gradient_in_a_dynamic_rnn_cell_with_fed_batch_sizes():
    """Fed batch sizes that change between runs (padded runs of a bucket, lowering/padding.py) keep the cell's
    user gradient."""
    rng = np.random.RandomState(0)
    batches = [rng.randn(n, 4, 2).astype(np.float32) for n in (3, 5, 2, 7)]
    lengths = [rng.randint(1, 5, size=len(b)).astype(np.int32) for b in batches]

    def run(t):
        graph = t.Graph()
        with graph.as_default():
            clip = _clip(t)

            class ClippedCell(t.nn.rnn_cell.RNNCell):
                state_size = 2
                output_size = 2

                def call(self, inputs, state):
                    out = clip(t.tanh(t.matmul(inputs, w) + 0.5 * state))
                    return out, out
            x = t.placeholder(t.float32, [None, 4, 2], name="x")
            n = t.placeholder(t.int32, [None], name="n")
            w = t.get_variable("w", initializer=W0[:2])
            outputs, _ = t.nn.dynamic_rnn(ClippedCell(), x, sequence_length=n, dtype=t.float32)
            grad = t.gradients(t.reduce_sum(t.square(outputs - 0.3)), w)[0]
            with t.Session(graph=graph) as sess:
                sess.run(t.global_variables_initializer())
                return [sess.run(grad, {x: b, n: k}) for b, k in zip(batches, lengths)]
    got, want = run(gc), run(oracle.tf1())
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6, err_msg=f"batch {k}")

# ---- export: TF trains graphcompat's meta graph with the users' gradients in the bodies ---------------------
# (the export writes each such body op as a call of a wrapper whose GradientDef is the recorded gradient,
# graphcompat/framework/user_gradient_export.py; TF's gradient of the loop or cond differentiates the body
# with it). The other models' exports are marked slow.
FAST_EXPORT = {"while_custom_gradient", "dynamic_rnn"}


@pytest.mark.parametrize("model", [pytest.param(m, marks=() if m in FAST_EXPORT else pytest.mark.slow)
                                   for m in sorted(MODELS) if m != "while_gradient_reads_an_outer_tensor"])
def test_tf_trains_the_export_of_a_body_with_a_user_gradient(model, tmp_path):
    from tests import test_export_custom_gradient as export
    v1 = oracle.tf1()
    prefix, got = export._train(gc, MODELS[model], False, str(tmp_path / "gc"))
    _, native = export._train(v1, MODELS[model], False, str(tmp_path / "tf"))
    export._assert_same(got, native)                              # graphcompat's training is TF's
    export._assert_same(export._import_and_train(v1, prefix), got)  # and TF trains the export the same way


@pytest.mark.parametrize("model", ["while_custom_gradient",
                                   pytest.param("while_mapped_to_identity", marks=pytest.mark.slow)])
def test_graphcompat_reimports_the_export_of_a_body_with_a_user_gradient(model, tmp_path):
    from tests import test_export_custom_gradient as export
    prefix, got = export._train(gc, MODELS[model], False, str(tmp_path))
    export._assert_same(export._import_and_train(gc, prefix), got)
