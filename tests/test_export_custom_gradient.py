"""Training graphs whose gradient crosses an op with a user-chosen gradient, exported by graphcompat, train in
real TF with the user's gradient (issue 12).

graphcompat applies a user's gradient (tf.custom_gradient, tf.RegisterGradient + gradient_override_map) inside
its one SymbolicGradient; TF differentiates the exported forward function with its C++ gradients, which know
nothing of Python's gradient registry. The export writes each such op as a call of a wrapper whose GradientDef
is the recorded gradient (graphcompat/framework/user_gradient_export.py). Each model trains 3 steps in
graphcompat from a checkpoint; real TF imports the meta graph, restores the checkpoint and must reach the same
losses, gradients and variables, and so must the same model built natively in TF."""
from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle
from tests._export_roundtrip import assert_same, import_and_train

pytestmark = pytest.mark.oracle

X = np.linspace(-1.5, 1.5, 16, dtype=np.float32).reshape(4, 4)
Y = np.array([[1.], [-1.], [0.5], [2.]], np.float32)
W0 = np.array([[0.3], [-0.2], [0.5], [0.1]], np.float32)
STEPS = 3
_NAMES = itertools.count()


def _clip_gradient(t, h):
    """tf.custom_gradient: the forward value unchanged, the gradient clipped."""
    @t.custom_gradient
    def clip(v):
        return t.identity(v), lambda dy: t.clip_by_value(dy, -0.05, 0.05)
    return clip(h)


def _straight_through_sign(t, h):
    """The straight-through estimator: sign's value, identity's gradient (gradient_override_map to a type)."""
    with t.get_default_graph().gradient_override_map({"Sign": "Identity"}):
        return t.sign(h) + 0.1 * h


def _straight_through_round(t, h):
    """A straight-through estimator as a custom_gradient around a non-differentiable op (Round)."""
    @t.custom_gradient
    def round_ste(v):
        return t.round(v * 4.0) / 4.0, lambda dy: dy
    return round_ste(h)


def _registered_gradient_with_capture(t, h):
    """tf.RegisterGradient + gradient_override_map: the gradient reads a tensor built outside it."""
    scale = t.placeholder_with_default(np.float32(0.25), [], name="scale")
    name = f"ScaledIdentityGrad_{next(_NAMES)}"

    @t.RegisterGradient(name)
    def _scaled(op, dy):
        return dy * scale

    with t.get_default_graph().gradient_override_map({"Identity": name}):
        return t.identity(h) * 2.0


def _registered_gradient_reading_outputs(t, h):
    """A registered gradient that reads the op's output (tanh's derivative from y), doubled."""
    name = f"DoubledTanhGrad_{next(_NAMES)}"

    @t.RegisterGradient(name)
    def _doubled(op, dy):
        y = op.outputs[0]
        return 2.0 * dy * (1.0 - y * y)

    with t.get_default_graph().gradient_override_map({"Tanh": name}):
        return t.tanh(h)


def _two_inputs_one_without_gradient(t, h):
    """custom_gradient over two arguments; the second's gradient is None (TF: zeros)."""
    b = t.get_variable("b", initializer=np.float32(0.3))

    @t.custom_gradient
    def shifted(v, shift):
        def grad(dy):
            return dy * 0.5, None
        return v + shift, grad
    return shifted(h, b)


def _gradient_reads_a_variable(t, h):
    """The user's gradient reads a (non-trainable) variable: a ref variable's read is an extra input of the
    wrapper, a resource variable's value is read by the call."""
    s = t.get_variable("s", initializer=np.float32(0.5), trainable=False)

    @t.custom_gradient
    def scaled(v):
        return t.identity(v), lambda dy: dy * s
    return scaled(h)


def _recompute_grad(t, h):
    """tf.recompute_grad: its gradient function re-runs the function and holds a tf.gradients of its own."""
    return t.recompute_grad(lambda v: t.tanh(v) * 1.5)(h)


def _grad_pass_through(t, h):
    return t.grad_pass_through(lambda v: t.round(v * 2.0) / 2.0)(h)


MODELS = {f.__name__.lstrip("_"): f for f in (_clip_gradient, _straight_through_sign, _straight_through_round,
                                                _registered_gradient_with_capture,
                                                _registered_gradient_reading_outputs,
                                                _two_inputs_one_without_gradient, _recompute_grad,
                                                _gradient_reads_a_variable,
                                                _grad_pass_through)}


def _build(t, model, resource: bool):
    x = t.placeholder(t.float32, [None, 4], name="x")
    y = t.placeholder(t.float32, [None, 1], name="y")
    with t.variable_scope("model", use_resource=resource):
        w = t.get_variable("w", initializer=W0)
        h = model(t, t.matmul(x, w))
    loss = t.reduce_mean(t.square(h - y), name="loss")
    variables = t.trainable_variables()
    grads = t.gradients(loss, variables, name="loss_gradients")
    train = t.train.GradientDescentOptimizer(0.5).minimize(loss, name="train")
    t.add_to_collection("loss", loss)
    t.add_to_collection("train", train)
    for g in grads:
        t.add_to_collection("grads", t.zeros_like(variables[0]) if g is None else g)
    for v in variables:
        t.add_to_collection("weights", t.identity(v.value() if resource else v))


def _steps(sess, graph) -> list:
    """(loss, gradients) before the steps, then (loss, weights) after each step."""
    feed = {"x:0": X, "y:0": Y}
    get = graph.get_collection
    out = [[sess.run(get("loss")[0], feed)] + sess.run(get("grads"), feed)]
    for _ in range(STEPS):
        sess.run(get("train")[0], feed)
        out.append([sess.run(get("loss")[0], feed)] + sess.run(get("weights")))
    return out


def _train(lib, model, resource: bool, directory: str):
    graph = lib.Graph()
    with graph.as_default():
        _build(lib, model, resource)
        saver = lib.train.Saver()
        with lib.Session(graph=graph) as sess:
            sess.run(lib.global_variables_initializer())
            prefix = saver.save(sess, os.path.join(directory, "model"))
            return prefix, _steps(sess, graph)


def _import_and_train(lib, prefix: str) -> list:
    return import_and_train(lib, prefix, _steps)


def _assert_same(got: list, want: list) -> None:
    assert_same(got, want, atol=2e-6)


# the resource-variable variants and the other re-imports of the models below are marked slow
FAST_RESOURCE = {"clip_gradient", "registered_gradient_with_capture", "gradient_reads_a_variable"}
FAST_REIMPORT = {"clip_gradient", "straight_through_sign", "registered_gradient_reading_outputs"}
CASES = [pytest.param(model, resource, id=f"{model}-{'resource' if resource else 'ref'}",
                      marks=() if not resource or model in FAST_RESOURCE else pytest.mark.slow)
         for model in sorted(MODELS) for resource in (False, True)]


@pytest.mark.parametrize("model, resource", CASES)
def test_tf_trains_the_export_with_the_users_gradient(model, resource, tmp_path):
    v1 = oracle.tf1()
    prefix, got = _train(tf, MODELS[model], resource, str(tmp_path / "gc"))
    _, native = _train(v1, MODELS[model], resource, str(tmp_path / "tf"))
    _assert_same(got, native)                         # graphcompat's training is TF's
    _assert_same(_import_and_train(v1, prefix), got)  # and TF runs graphcompat's export the same way
    # the user's gradient changed the numbers: a zero or plain gradient would not reach these weights
    assert not np.allclose(got[-1][1], W0)


def test_export_leaves_the_graph_and_its_runs_alone(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        _build(tf, _clip_gradient, False)
        before = [(op.name, op.type) for op in graph.get_operations()]
        graph_def = graph.as_graph_def()
        assert [(op.name, op.type) for op in graph.get_operations()] == before
    names = {f.signature.name for f in graph_def.library.function}
    pairs = {g.function_name: g.gradient_func for g in graph_def.library.gradient}
    wrappers = [n for n in names if n.endswith("_user_gradient_call")]
    assert wrappers and all(pairs.get(n, "").endswith("_user_gradient") for n in wrappers)
    assert all(pairs[n] in names for n in wrappers)


@pytest.mark.parametrize("model", [pytest.param(m, marks=() if m in FAST_REIMPORT else pytest.mark.slow)
                                   for m in sorted(MODELS)])
def test_graphcompat_reimports_its_export_with_the_users_gradient(model, tmp_path):
    """graphcompat's importer honours the wrappers' GradientDefs (a custom_gradient whose gradient function
    imports the GradientDef's body), so its re-import trains as the original did."""
    prefix, got = _train(tf, MODELS[model], False, str(tmp_path))
    _assert_same(_import_and_train(tf, prefix), got)


def test_a_gradient_using_a_resource_variable_otherwise_is_refused_at_export():
    """A user's gradient that does more with a resource variable's handle than read it cannot be written for
    TF's value-semantics forward function: the export says so (never a graph that trains differently)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        with tf.variable_scope("model", use_resource=True):
            w = tf.get_variable("w", initializer=W0)
            s = tf.get_variable("s", initializer=np.float32(0.5), trainable=False)

        @tf.custom_gradient
        def scaled(v):
            return tf.identity(v), lambda dy: dy * s.read_value() * s.read_value()
        tf.gradients(tf.reduce_sum(scaled(tf.matmul(x, w))), [w])
        with pytest.raises(NotImplementedError, match="uses the resource variable model/s:0 other than by one read"):
            graph.as_graph_def()
