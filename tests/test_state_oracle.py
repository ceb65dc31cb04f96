"""Oracle tests: variables, scopes, seeds, gradients and optimizers against real tf.compat.v1.

TF 2.x creates resource variables by default even in graph mode; TF1 programs got RefVariables, so
every snippet asks for `use_resource=False` (graphcompat accepts and ignores it).
"""
import numpy as np
import pytest

import graphcompat
from tests import oracle

pytestmark = pytest.mark.oracle

RNG = np.random.RandomState(7)
X = RNG.randn(5, 3).astype(np.float32)
Y = RNG.randn(5, 2).astype(np.float32)
W0 = RNG.randn(3, 2).astype(np.float32)
B0 = RNG.randn(2).astype(np.float32)
TABLE0 = RNG.randn(8, 3).astype(np.float32)
IDS = np.array([1, 6, 1, 4], np.int32)
TARGET = RNG.randn(4, 3).astype(np.float32)


def _both(build, **kw):
    v1 = oracle.tf1()
    return oracle.run(graphcompat, build, **kw), oracle.run(v1, build, **kw)


OPTIMIZERS = [
    ("sgd", lambda tf: tf.train.GradientDescentOptimizer(0.1)),
    ("momentum", lambda tf: tf.train.MomentumOptimizer(0.05, 0.9)),
    ("nesterov", lambda tf: tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True)),
    ("adagrad", lambda tf: tf.train.AdagradOptimizer(0.2)),
    ("adam", lambda tf: tf.train.AdamOptimizer(0.1)),
    ("rmsprop", lambda tf: tf.train.RMSPropOptimizer(0.05, momentum=0.3)),
    ("rmsprop_centered", lambda tf: tf.train.RMSPropOptimizer(0.05, momentum=0.3, centered=True)),
    ("ftrl", lambda tf: tf.train.FtrlOptimizer(0.2, l1_regularization_strength=0.01,
                                               l2_regularization_strength=0.01)),
    ("ftrl_v2", lambda tf: tf.train.FtrlOptimizer(0.2, learning_rate_power=-0.7, l1_regularization_strength=0.01,
                                                  l2_shrinkage_regularization_strength=0.02)),
    ("adadelta", lambda tf: tf.train.AdadeltaOptimizer(1.0)),
    ("proximal", lambda tf: tf.train.ProximalGradientDescentOptimizer(0.1, 0.05, 0.05)),
    ("proximal_adagrad", lambda tf: tf.train.ProximalAdagradOptimizer(0.2, l1_regularization_strength=0.05,
                                                                      l2_regularization_strength=0.05)),
    ("proximal_adagrad_l2", lambda tf: tf.train.ProximalAdagradOptimizer(0.2, 0.3, l2_regularization_strength=0.1)),
]


def _dense_program(make):
    def build(tf):
        w = tf.get_variable("w", initializer=tf.constant(W0), use_resource=False)
        b = tf.get_variable("b", initializer=tf.constant(B0), use_resource=False)
        loss = tf.reduce_sum(tf.square(tf.matmul(tf.constant(X), w) + b - tf.constant(Y)))
        opt = make(tf)
        train = opt.minimize(loss)
        names = sorted(v.op.name for v in tf.global_variables())
        ops = [op.name for op in tf.get_default_graph().get_operations() if "/update_" in op.name]
        return {"names": names, "update_ops": sorted(set(o.split("/")[1] for o in ops)), "train": train,
                "w": w, "b": b}
    return build


@pytest.mark.parametrize("name,make", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_values_and_names_match_tf(name, make):
    results = []
    for tf in (graphcompat, oracle.tf1()):
        graph = tf.Graph()
        with graph.as_default():
            d = _dense_program(make)(tf)
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                for _ in range(4):
                    sess.run(d["train"])
                results.append((d["names"], d["update_ops"], sess.run([d["w"], d["b"]])))
    (n1, u1, v1), (n2, u2, v2) = results
    assert n1 == n2 and u1 == u2
    np.testing.assert_allclose(v1[0], v2[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v1[1], v2[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,make", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_sparse_optimizer_values_match_tf(name, make):
    results = []
    for tf in (graphcompat, oracle.tf1()):
        graph = tf.Graph()
        with graph.as_default():
            emb = tf.get_variable("emb", initializer=tf.constant(TABLE0), use_resource=False)
            rows = tf.gather(emb, tf.constant(IDS)) if hasattr(tf, "gather") else \
                graphcompat.framework.registry.apply_op("GatherV2", [emb, tf.constant(IDS), tf.constant(0)])
            loss = tf.reduce_sum(tf.square(rows - tf.constant(TARGET)))
            train = make(tf).minimize(loss)
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                for _ in range(3):
                    sess.run(train)
                results.append(sess.run(emb))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)


def test_variable_and_scope_graph_names_match_tf():
    def build(tf):
        v = tf.Variable(1.0, name="v")
        tf.Variable([1, 2], name="v")
        with tf.variable_scope("layer", use_resource=False):
            tf.get_variable("w", [3, 4])
            tf.get_variable("b", [4], initializer=tf.zeros_initializer())
            tf.get_variable("k", [2, 2], initializer=tf.truncated_normal_initializer(stddev=0.1))
        with tf.variable_scope("layer", reuse=True, use_resource=False):
            tf.get_variable("w")
            tf.constant(1.0, name="c")
        with tf.name_scope("ns"):
            tf.get_variable("g", [2], initializer=tf.random_normal_initializer(), use_resource=False)
        v.assign(2.0)
        v.assign_add(1.0)
        tf.train.get_or_create_global_step()
        tf.global_variables_initializer()
        return tf.no_op()
    got, want = [], []
    for tf, out in ((graphcompat, got), (oracle.tf1(), want)):
        g = tf.Graph()
        with g.as_default():
            with tf.variable_scope(tf.get_variable_scope(), use_resource=False):
                build(tf)
            out.extend((op.name, op.type) for op in g.get_operations())
    assert got == want


def test_scope_errors_match_tf():
    def messages(tf):
        out = []
        g = tf.Graph()
        with g.as_default():
            with tf.variable_scope("h1", use_resource=False):
                tf.get_variable("weights", [2])
            for fn in (lambda: tf.get_variable("h1/weights", [2], use_resource=False),
                       lambda: _in_scope(tf, "bar", True, lambda: tf.get_variable("v", [1])),
                       lambda: _in_scope(tf, "h1", True, lambda: tf.get_variable("weights", [3])),
                       lambda: tf.get_variable("c", [2], initializer=tf.constant([1.0, 2.0])),
                       lambda: tf.Variable([1.0, 2.0], name="a", use_resource=False).assign([1.0, 2.0, 3.0]),
                       lambda: tf.Variable([1.0, 2.0], name="r", use_resource=False).assign([[1.0, 2.0]])):
                try:
                    fn()
                    out.append(None)
                except ValueError as e:
                    # TF 2.x prints the node def after " for '" where TF1 printed the op name
                    out.append(str(e).split(" Originally defined at")[0].split(" for '")[0])
        return out
    got, want = messages(graphcompat), messages(oracle.tf1())
    assert got == want


def _in_scope(tf, name, reuse, fn):
    with tf.variable_scope(name, reuse=reuse, use_resource=False):
        return fn()


def test_seed_attrs_match_tf():
    def build(tf):
        tf.set_random_seed(123)
        a = tf.random_normal([2, 3])
        b = tf.random_uniform([4], seed=5)
        c = tf.truncated_normal([1])
        d = tf.random_uniform([3], maxval=7, dtype=tf.int32)
        return a, b, c, d

    def seeds(tf):
        g = tf.Graph()
        with g.as_default():
            build(tf)
            return [(op.name, op.get_attr("seed"), op.get_attr("seed2")) for op in g.get_operations()
                    if op.type in ("RandomStandardNormal", "RandomUniform", "TruncatedNormal", "RandomUniformInt")]
    assert seeds(graphcompat) == seeds(oracle.tf1())


GRADIENT_CASES = [
    ("poly", lambda tf, x: tf.reduce_sum(x * x * 3.0 - x)),
    ("matmul", lambda tf, x: tf.reduce_sum(tf.tanh(tf.matmul(x, tf.constant(W0.T))))),
    ("reductions", lambda tf, x: tf.reduce_mean(tf.reduce_max(x, axis=1) + tf.reduce_sum(tf.exp(x), axis=1))),
    ("sigmoid_div", lambda tf, x: tf.reduce_sum(tf.sigmoid(x) / (tf.square(x) + 1.0))),
]


@pytest.mark.parametrize("name,fn", GRADIENT_CASES, ids=[c[0] for c in GRADIENT_CASES])
def test_gradients_match_tf(name, fn):
    xv = RNG.randn(4, 2).astype(np.float32)

    def build(tf):
        x = tf.constant(xv)
        return tf.gradients(fn(tf, x), [x])[0]
    got, want = _both(build)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_learning_rate_decays_match_tf():
    def build(tf):
        step = tf.constant(13, tf.int64)
        return [tf.train.exponential_decay(0.1, step, 5, 0.7, staircase=True),
                tf.train.exponential_decay(0.1, step, 5, 0.7),
                tf.train.inverse_time_decay(0.1, step, 5, 0.7),
                tf.train.natural_exp_decay(0.1, step, 5, 0.7, staircase=True),
                tf.train.polynomial_decay(0.1, step, 10, 0.01, power=0.5),
                tf.train.polynomial_decay(0.1, step, 10, 0.01, cycle=True),
                tf.train.cosine_decay(0.1, step, 20, alpha=0.2),
                tf.train.piecewise_constant(tf.constant(13), [5, 13], [0.3, 0.2, 0.1])]
    got, want = _both(build)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_global_step_and_adam_finish_match_tf():
    def build(tf):
        with tf.variable_scope(tf.get_variable_scope(), use_resource=False):
            gs = tf.train.get_or_create_global_step()
        w = tf.get_variable("w", initializer=tf.constant([1.0, -2.0]), use_resource=False)
        train = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_sum(w * w), global_step=gs)
        return gs, w, train
    results = []
    for tf in (graphcompat, oracle.tf1()):
        g = tf.Graph()
        with g.as_default():
            gs, w, train = build(tf)
            with tf.Session(graph=g) as sess:
                sess.run(tf.global_variables_initializer())
                for _ in range(3):
                    sess.run(train)
                results.append((train.name, train.type, sess.run([gs, w])))
    assert results[0][:2] == results[1][:2]
    assert results[0][2][0] == results[1][2][0] == 3
    np.testing.assert_allclose(results[0][2][1], results[1][2][1], rtol=1e-6)


def test_reads_follow_control_dependencies_as_tf():
    def run(tf):
        g = tf.Graph()
        with g.as_default():
            x = tf.Variable(0, name="x", use_resource=False)
            inc = tf.assign_add(x, 1)
            with tf.control_dependencies([inc]):
                y = tf.identity(x)
                z = x + 10
            # (a read and an assign with no dependency between them are racy in TF: not compared)
            with tf.Session(graph=g) as sess:
                sess.run(tf.global_variables_initializer())
                return [sess.run(y) for _ in range(3)] + [sess.run(z), sess.run(x)]
    assert run(graphcompat) == run(oracle.tf1())
