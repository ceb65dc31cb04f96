"""tf.GradientTape in graph mode (graphcompat/backprop.py) against TF 2's compat.v1 graph mode."""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat as gc
from tests import oracle

pytestmark = pytest.mark.oracle


def _compare(build, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """`build(tf)` returns a flat list of gradients (None allowed): the same None-ness and values in
    graphcompat and TF, with resource variables as TF 2 creates them."""
    v1 = oracle.tf1()
    results = {}
    for label, lib in (("graphcompat", gc), ("tf", v1)):
        graph = lib.Graph()
        with graph.as_default():
            grads = build(lib)
            mask = [g is None for g in grads]
            fetches = [lib.convert_to_tensor(g) for g in grads if g is not None]
            with lib.Session(graph=graph) as sess:
                sess.run(lib.global_variables_initializer())
                results[label] = (mask, sess.run(fetches))
    (got_mask, got), (want_mask, want) = results["graphcompat"], results["tf"]
    assert got_mask == want_mask
    oracle.assert_same_values(got, want, rtol, atol, "tape")


def _var(tf, value, name, **kwargs):
    return tf.Variable(np.asarray(value, np.float32), name=name, use_resource=True, **kwargs)


def test_watched_tensors_and_accessed_variables():
    def build(tf):
        x = tf.constant([1.0, 2.0, 3.0])
        v = _var(tf, [0.5, -1.0, 2.0], "v")
        frozen = _var(tf, [1.0, 1.0, 1.0], "frozen", trainable=False)
        unwatched = tf.constant([4.0, 5.0, 6.0])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(x * x * v + frozen * unwatched + tf.sin(x))
        return tape.gradient(y, [x, v, frozen, unwatched])
    _compare(build)


def test_intermediate_sources_nested_structures_and_output_gradients():
    def build(tf):
        x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
        with tf.GradientTape() as tape:
            tape.watch(x)
            h = tf.tanh(x)
            y = {"a": h * 3.0, "b": tf.matmul(h, h)}
        grads = tape.gradient(y, {"x": x, "pair": (h, x)},
                              output_gradients={"a": tf.ones([2, 2]) * 2.0, "b": tf.constant([[1.0, 0.0], [0.5, 1.0]])})
        return [grads["x"], grads["pair"][0], grads["pair"][1]]
    _compare(build)


def test_stop_recording_reads_before_the_tape_and_unconnected_zero():
    def build(tf):
        x = tf.constant(3.0)
        r = _var(tf, [[1.0, 2.0], [3.0, 4.0]], "r")
        before = r * 1.0  # read before the tape: not recorded
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = x * 2.0
            with tape.stop_recording():
                z = y * 3.0
            u = z + y + tf.reduce_sum(before) + tf.reduce_sum(tf.gather(r, [0, 0])) * x
        after = y * 5.0  # computed after the tape: not a recorded target
        zero = tf.UnconnectedGradients.ZERO
        return [tape.gradient(u, x), tape.gradient(z, x), tape.gradient(z, x, unconnected_gradients=zero),
                tape.gradient(after, x), tape.gradient(u, r), tape.gradient(y, r, unconnected_gradients="zero")]
    _compare(build)


def test_reset_and_watch_accessed_variables_false():
    def build(tf):
        x = tf.constant(2.0)
        v = _var(tf, 3.0, "v")
        w = _var(tf, 4.0, "w")
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch([x, w])
            y = x * x + v * w
            tape.reset()
            tape.watch(w)
            y2 = x * x * x + v * w * w
        return tape.gradient([y, y2], [x, v, w])
    _compare(build)


def test_nested_tapes_give_second_order_gradients():
    def build(tf):
        x = tf.constant([0.5, 1.5])
        v = _var(tf, 2.0, "v")
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.reduce_sum(x * x * x * v)
            dx, dv = inner.gradient(y, [x, v])
        d2x, d2xv = outer.gradient(dx, [x, v])
        return [dx, dv, d2x, d2xv]
    _compare(build)


def test_jacobian_and_batch_jacobian():
    def build(tf):
        x = tf.constant([1.0, 2.0, 3.0])
        v = _var(tf, [[1.0, 2.0], [3.0, 4.0]], "v")
        xb = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([x, xb])
            y = x * x
            m = tf.matmul(v, v)
            yb = tf.concat([xb * xb, tf.reduce_sum(xb, axis=1, keepdims=True)], axis=1)
        jx = tape.jacobian(y, x, experimental_use_pfor=False)
        jv = tape.jacobian(m, {"v": v, "x": x}, experimental_use_pfor=False)
        jb = tape.batch_jacobian(yb, xb, experimental_use_pfor=False)
        return [jx, jv["v"], jv["x"], jb]
    _compare(build)


def test_non_persistent_tape_refuses_a_second_gradient():
    v1 = oracle.tf1()
    texts = []
    for lib in (gc, v1):
        with lib.Graph().as_default():
            x = lib.constant(1.0)
            with lib.GradientTape() as tape:
                tape.watch(x)
                y = x * x
            tape.gradient(y, x)
            with pytest.raises(RuntimeError) as err:
                tape.gradient(y, x)
            texts.append(str(err.value))
            with lib.GradientTape() as fresh:
                pass
            with pytest.raises(TypeError) as err:
                fresh.gradient(None, x)
            texts.append(str(err.value))
            tape = lib.GradientTape()
            with pytest.raises(RuntimeError) as err:
                with tape.stop_recording():
                    pass
            texts.append(str(err.value))
    assert texts[:3] == texts[3:]


def test_gradient_inside_a_non_persistent_tape_stops_recording():
    def build(tf):
        x = tf.constant(3.0)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x * x
            g = tape.gradient(y, x)
        return [g]
    _compare(build)


def test_watched_variables_in_order_of_construction():
    names = []
    for lib in (gc, oracle.tf1()):
        with lib.Graph().as_default():
            a = _var(lib, 1.0, "a")
            b = _var(lib, 2.0, "b")
            c = _var(lib, 3.0, "c", trainable=False)
            with lib.GradientTape() as tape:
                _ = b * c
                tape.watch(c)
                _ = a * 2.0
            names.append([v.name for v in tape.watched_variables()])
    assert names[0] == names[1] == ["a:0", "b:0", "c:0"]


def test_ref_variables_are_refused_as_tf_does():
    with gc.Graph().as_default():
        v = gc.Variable(1.0)
        with gc.GradientTape() as tape:
            y = v * 2.0
        with pytest.raises(AttributeError, match="'RefVariable' object has no attribute '_id'"):
            tape.gradient(y, v)


def test_training_loop_with_tape_and_apply_gradients():
    """A step built once (tape.gradient + apply_gradients) run 5 times: the same losses and weights."""
    def run(tf):
        graph = tf.Graph()
        with graph.as_default():
            xs = tf.constant(np.linspace(-1, 1, 12, dtype=np.float32).reshape(6, 2))
            ys = tf.constant(np.array([[1.0], [0.0], [1.0], [1.0], [0.0], [1.0]], np.float32))
            w = _var(tf, [[0.1], [-0.2]], "w")
            b = _var(tf, [0.05], "b")
            opt = tf.train.MomentumOptimizer(0.5, 0.9)
            with tf.GradientTape() as tape:
                logits = tf.matmul(xs, w) + b
                loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=ys, logits=logits))
            grads = tape.gradient(loss, tape.watched_variables())
            step = opt.apply_gradients(zip(grads, tape.watched_variables()))
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                losses = [sess.run([loss, step])[0] for _ in range(5)]
                return losses + sess.run([w, b])
    oracle.assert_same_values(run(gc), run(oracle.tf1()), 1e-5, 1e-6, "training")


def test_persistent_tape_records_its_own_gradient_and_non_persistent_jacobian():
    def build(tf):
        x = tf.constant([0.5, 2.0])
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = tf.reduce_sum(x * x * x)
            dy = tape.gradient(y, x)  # recorded: a second-order gradient follows
        d2 = tape.gradient(dy, x)
        with tf.GradientTape() as once:
            once.watch(x)
            z = tf.exp(x) * x
        jac = once.jacobian(z, x, experimental_use_pfor=False)
        return [dy, d2, jac]
    _compare(build)


def test_control_flow_and_tf_functions_inside_the_tape():
    def build(tf):
        x = tf.constant(1.5)
        v = _var(tf, [0.5, 2.0], "v")

        @tf.function
        def scale(t):
            return t * v

        with tf.GradientTape() as tape:
            tape.watch(x)
            _, y = tf.while_loop(lambda i, acc: i < 3, lambda i, acc: (i + 1, acc * x + 1.0),
                                 [tf.constant(0), tf.constant(1.0)])
            z = tf.cond(x > 1.0, lambda: y * y, lambda: y)
            out = tf.reduce_sum(scale(z))
        return tape.gradient(out, [x, v])
    _compare(build)
