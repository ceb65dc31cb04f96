"""tf.function and tf.Module in graph mode (graphcompat/def_function.py) against TF 2's compat.v1 graph mode."""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat as gc
from tests import oracle

pytestmark = pytest.mark.oracle

_CALLS = ("PartitionedCall", "StatefulPartitionedCall")


def _var(tf, value, name):
    return tf.Variable(np.asarray(value, np.float32), name=name, use_resource=True)


def _build_calls(tf):
    v = _var(tf, 2.0, "v")

    @tf.function
    def f(x, y):
        return x * y + 1.0, x - y

    @tf.function
    def h(x):
        return tf.sin(x) * v

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def k(x):
        return tf.reduce_sum(x * x)

    a, b = tf.constant(3.0), tf.constant(4.0)
    r1 = f(a, b)
    r2 = f(a, 2.0)                          # a Python argument: a new trace with the constant in it
    r3 = f(b, a)                            # the same signature as r1: no new trace
    r4 = h(a)
    r5 = k(tf.constant([1.0, 2.0]))
    r6 = k(tf.constant([1.0, 2.0, 3.0]))    # another length, one input_signature: no new trace
    r7 = f(tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0]))  # another shape: a new trace
    return [*r1, *r2, *r3, r4, r5, r6, *r7]


def _run(lib, build):
    graph = lib.Graph()
    with graph.as_default():
        fetches = build(lib)
        with lib.Session(graph=graph) as sess:
            sess.run(lib.global_variables_initializer())
            values = sess.run(fetches)
    return graph, values


def test_calls_values_op_types_and_attrs():
    v1 = oracle.tf1()
    g_gc, got = _run(gc, _build_calls)
    g_tf, want = _run(v1, _build_calls)
    oracle.assert_same_values(got, want, 1e-6, 1e-6, "calls")

    def calls(graph):
        nodes = [n for n in graph.as_graph_def().node if n.op in _CALLS]
        functions = {}
        out = []
        for n in nodes:
            fname = functions.setdefault(n.attr["f"].func.name, len(functions))  # traces in order of first use
            out.append((n.name, n.op, len(n.input), fname, list(n.attr["Tin"].list.type),
                        list(n.attr["Tout"].list.type), n.attr["config_proto"].s, n.attr["executor_type"].s,
                        n.attr["config"].s))
        return out
    assert calls(g_gc) == calls(g_tf)
    # the body ops are not top-level nodes: one library function per trace
    gd = g_gc.as_graph_def()
    assert {f.signature.name for f in gd.library.function} == {n.attr["f"].func.name for n in gd.node if n.op in _CALLS}


def test_gradients_through_calls_and_tf_runs_the_exported_graph():
    v1 = oracle.tf1()

    def build(tf):
        v = _var(tf, [1.5, -0.5], "v")

        @tf.function
        def model(x):
            return tf.reduce_sum(tf.tanh(x * v) * v)

        x = tf.constant([0.3, 0.7])
        model(x)  # traced before the tape: a call inside it still reads (watches) v
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = model(x) + model(x * 2.0)
        dx, dv = tape.gradient(loss, [x, v])
        gx, gv = tf.gradients(loss, [x, v])
        return [loss, dx, dv, gx, gv]
    graph, got = _run(gc, build)
    _, want = _run(v1, build)
    oracle.assert_same_values(got, want, 1e-5, 1e-6, "gradients")
    # TF runs graphcompat's GraphDef, gradients through the calls included
    gd = v1.GraphDef()
    gd.ParseFromString(graph.as_graph_def().SerializeToString())
    names = [f"{op.name}:{i}" for op in graph.get_operations() if op.type == "SymbolicGradient"
             for i in range(len(op.outputs))]
    with graph.as_default(), gc.Session(graph=graph) as sess:
        sess.run(gc.global_variables_initializer())
        mine = sess.run(names)
    with v1.Graph().as_default():
        v1.import_graph_def(gd, name="")
        with v1.Session() as sess:
            sess.run("v/Assign")
            theirs = sess.run(names)
    oracle.assert_same_values(mine, theirs, 1e-5, 1e-6, "exported")


def test_training_step_with_a_tf_function_model():
    """model is a tf.function method of a tf.Module; one step built once, run 4 times."""
    def run(tf):
        graph = tf.Graph()
        with graph.as_default():
            class Dense(tf.Module):
                def __init__(self):
                    super().__init__(name="dense")
                    self.w = _var(tf, [[0.2], [-0.3]], "w")
                    self.b = _var(tf, [0.1], "b")

                @tf.function
                def __call__(self, x):
                    return tf.matmul(x, self.w) + self.b

            model = Dense()
            xs = tf.constant(np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2))
            ys = tf.constant(np.array([[0.5], [1.0], [-0.5], [0.0]], np.float32))
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(model(xs) - ys))
            variables = model.trainable_variables
            grads = tape.gradient(loss, variables)
            step = tf.train.GradientDescentOptimizer(0.3).apply_gradients(zip(grads, variables))
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                losses = [sess.run([loss, step])[0] for _ in range(4)]
                return losses + sess.run(list(variables)), [v.name for v in variables]
    got, got_names = run(gc)
    want, want_names = run(oracle.tf1())
    assert got_names == want_names
    oracle.assert_same_values(got, want, 1e-5, 1e-6, "training")


def test_input_signature_mismatches_raise_tfs_type_error():
    texts = []
    for lib in (gc, oracle.tf1()):
        with lib.Graph().as_default():
            @lib.function(input_signature=[lib.TensorSpec([None], lib.float32)])
            def k(x):
                return x + 1.0
            k(lib.constant([1.0]))
            for bad in (lib.constant([[1.0]]), lib.constant([1])):
                with pytest.raises(TypeError) as err:
                    k(bad)
                texts.append(str(err.value))
    assert texts[:2] == texts[2:]


def test_python_control_flow_on_tensors():
    v1 = oracle.tf1()
    texts = []
    for lib in (gc, v1):
        with lib.Graph().as_default():
            @lib.function(autograph=False)
            def relu(x):
                return x if x > 0 else -x
            with pytest.raises(TypeError) as err:  # (TF's class is not in tf.compat.v1.errors)
                relu(lib.constant(1.0))
            texts.append((type(err.value).__name__, str(err.value)))
    assert texts[0] == texts[1]
    with gc.Graph().as_default():
        @gc.function
        def relu(x):
            return x if x > 0 else -x
        x = gc.constant(1.0)
        before = len(gc.get_default_graph().get_operations())
        with pytest.raises(NotImplementedError, match="tf.autograph"):
            relu(x)
        assert len(gc.get_default_graph().get_operations()) == before


def test_stateless_random_and_assigning_functions():
    """A function that assigns a variable runs its assign once per call (StatefulPartitionedCall)."""
    def build(tf):
        counter = _var(tf, 0.0, "counter")

        @tf.function
        def bump(step):
            counter.assign_add(step)
            return counter.read_value()

        with tf.control_dependencies([bump(tf.constant(2.0))]):
            second = bump(tf.constant(3.0))
        return [second]
    types = []
    for lib in (gc, oracle.tf1()):
        graph, values = _run(lib, build)
        types.append([n.op for n in graph.as_graph_def().node if n.op in _CALLS])
        assert values == [5.0]
    assert types[0] == types[1] == ["StatefulPartitionedCall"] * 2


def test_module_names_variables_and_submodules():
    def build(tf):
        class Inner(tf.Module):
            def __init__(self):
                super().__init__()
                with self.name_scope:
                    self.k = _var(tf, 1.0, "k")
                    self.frozen = tf.Variable(2.0, trainable=False, name="frozen", use_resource=True)

        class Outer(tf.Module):
            def __init__(self, name=None):
                super().__init__(name=name)
                with self.name_scope:
                    self.inner = Inner()
                    self.b_list = [Inner(), _var(tf, 4.0, "in_list")]
                    self.a = _var(tf, 3.0, "a")
        outer = Outer(name="outer")
        return (outer.name, Inner().name, [v.name for v in outer.variables],
                [v.name for v in outer.trainable_variables], [m.name for m in outer.submodules])
    with gc.Graph().as_default():
        got = build(gc)
    v1 = oracle.tf1()
    with v1.Graph().as_default():
        want = build(v1)
    assert got == want
    with pytest.raises(ValueError, match="is not a valid module name"):
        gc.Module(name="not valid")


def test_nested_calls_calls_in_cond_branches_and_reimport():
    def build(tf):
        v = _var(tf, 1.5, "v")
        c = tf.constant(2.0)

        @tf.function
        def inner(x):
            return x * v + c

        @tf.function
        def outer(x):
            return inner(x) * inner(x + 1.0)

        @tf.function
        def nothing():
            return None

        a = tf.constant(3.0)
        r = outer(a)
        r2 = tf.cond(a > 1.0, lambda: inner(a), lambda: a)
        assert nothing() is None
        return [r, r2] + tf.gradients(r, [a, v, c])
    graph, got = _run(gc, build)
    _, want = _run(oracle.tf1(), build)
    oracle.assert_same_values(got, want, 1e-6, 1e-6, "nested")
    # graphcompat's GraphDef re-imports (the importer inlines the calls) and runs the same
    with gc.Graph().as_default():
        gc.import_graph_def(graph.as_graph_def(), name="")
        with gc.Session() as sess:
            sess.run("v/Assign")
            again = sess.run(["StatefulPartitionedCall:0"])
    assert again[0] == got[0]


def test_methods_trace_per_instance_and_retrace_counts():
    with gc.Graph().as_default():
        class Scale:
            def __init__(self, k):
                self.k = k

            @gc.function
            def __call__(self, x):
                return x * self.k

        two, three = Scale(2.0), Scale(3.0)
        x = gc.constant([1.0, 2.0])
        outs = [two(x), three(x), two(x * 2.0), two(gc.constant([[1.0]]))]
        assert two.__call__.experimental_get_tracing_count() == 2  # one per shape
        assert three.__call__.experimental_get_tracing_count() == 1
        with gc.Session() as sess:
            values = sess.run(outs)
    np.testing.assert_allclose(values[0], [2.0, 4.0])
    np.testing.assert_allclose(values[1], [3.0, 6.0])
    np.testing.assert_allclose(values[2], [4.0, 8.0])
    np.testing.assert_allclose(values[3], [[2.0]])


def test_train_step_tf_function_with_tape_and_slot_creating_optimizer():
    """TF 2's training step: tape.gradient and a Momentum optimizer (slot variables created in the trace)
    inside one tf.function, run 4 times; TF runs graphcompat's GraphDef the same."""
    def build(tf):
        w = _var(tf, [[0.2], [-0.3]], "w")
        b = _var(tf, [0.1], "b")
        opt = tf.train.MomentumOptimizer(0.1, 0.9)

        @tf.function
        def train_step(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
            grads = tape.gradient(loss, [w, b])
            opt.apply_gradients(zip(grads, [w, b]))
            return loss
        xs = tf.constant(np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2))
        ys = tf.constant(np.array([[0.5], [1.0], [-0.5], [0.0]], np.float32))
        return train_step(xs, ys), w

    def run(lib):
        graph = lib.Graph()
        with graph.as_default():
            step, w = build(lib)
            init = lib.global_variables_initializer()
            with lib.Session(graph=graph) as sess:
                sess.run(init)
                values = [sess.run(step) for _ in range(4)] + [sess.run(w)]
        return graph, step.name, init.name, values
    v1 = oracle.tf1()
    graph, step_name, init_name, got = run(gc)
    _, _, _, want = run(v1)
    oracle.assert_same_values(got, want, 1e-5, 1e-6, "train_step")
    gd = v1.GraphDef()
    gd.ParseFromString(graph.as_graph_def().SerializeToString())
    with v1.Graph().as_default():
        v1.import_graph_def(gd, name="")
        with v1.Session() as sess:
            sess.run(init_name)
            theirs = [sess.run(step_name) for _ in range(4)]
    oracle.assert_same_values(got[:4], theirs, 1e-5, 1e-6, "exported train_step")
