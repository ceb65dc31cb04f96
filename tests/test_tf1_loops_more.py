"""TF 1 while loops without a static bound (no maximum_iterations) whose gradients keep forward values on
stacks: their training steps compile, the stacks sized from the trip counts op-by-op runs observed
(lowering/interpreter.py LoopHints). A loop that later runs longer than that capacity fails a check inside
the compiled step: the step is re-run op by op (TF's values, every state update applied once) and compiled
again with the larger capacity. Values against real TF (control flow v1); compiles via graphcompat.stats()."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

pytestmark = pytest.mark.oracle


def _fed_trips(v1):
    """A plain TF 1 loop whose trip count is fed: `n` iterations of a <- 0.8 a + 0.3 tanh(a * w + 1)."""
    x = v1.placeholder(v1.float32, [None, 2], name="x")
    n = v1.placeholder(v1.int32, [], name="n")
    w = v1.get_variable("w", [2], initializer=v1.constant_initializer([0.3, -0.2]))
    _, y = v1.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, 0.8 * a + 0.3 * v1.tanh(a * w + 1.0)), [0, x])
    return v1.reduce_mean(v1.square(y - 1.0)), w


def _fed_inner_trips(v1):
    """An unbounded loop (fed trip count) inside a loop with maximum_iterations: the outer loop sizes the
    stacks for its 2 iterations x the inner loop's capacity, the inner loop checks it."""
    x = v1.placeholder(v1.float32, [None, 2], name="x")
    n = v1.placeholder(v1.int32, [], name="n")
    w = v1.get_variable("w", [2], initializer=v1.constant_initializer([0.3, -0.2]))

    def outer(i, a):
        _, b = v1.while_loop(lambda j, b: j < n, lambda j, b: [j + 1, 0.8 * b + 0.3 * v1.tanh(b * w + 1.0)], [0, a])
        return [i + 1, b * w + a]
    _, y = v1.while_loop(lambda i, a: i < 2, outer, [0, x], maximum_iterations=2)
    return v1.reduce_mean(v1.square(y - 1.0)), w


MODELS = {"fed_trips": _fed_trips, "fed_inner_trips": _fed_inner_trips}
X = np.random.RandomState(3).rand(3, 2).astype(np.float32) * 0.5
# trip counts of successive training steps: the first run observes 3 (capacity 16); 20 overflows it (re-run op
# by op, capacity 32), 40 overflows again (64); smaller counts then reuse the last compiled step
TRIPS = [3, 3, 20, 20, 40, 40, 3]


def _tf_writes(model: str):
    """TF 1 builds the training graph; returns (meta graph, losses and w after each step of TRIPS)."""
    v1 = oracle.tf1()
    with oracle.control_flow_v2(False):
        graph = v1.Graph()
        with graph.as_default():
            loss, w = MODELS[model](v1)
            step = v1.train.get_or_create_global_step()
            train = v1.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
            v1.add_to_collection("train_op", train)
            v1.add_to_collection("loss", loss)
            meta = v1.train.export_meta_graph()
            with v1.Session(graph=graph) as sess:
                sess.run(v1.global_variables_initializer())
                out = []
                for n in TRIPS:
                    got = sess.run([train, loss], {"x:0": X, "n:0": n})[1]
                    out.append((got, sess.run(w)))
    assert any(n.op == "StackPushV2" for n in meta.graph_def.node)  # TF 1's loop gradient
    return meta, out


@pytest.mark.parametrize("model", sorted(MODELS))
def test_a_loop_outgrowing_its_capacity_is_rerun_op_by_op_then_compiled_again(model):
    meta, want = _tf_writes(model)
    graph = tf.Graph()
    with graph.as_default():
        tf.train.import_meta_graph(meta)
        train, loss = tf.get_collection("train_op")[0], tf.get_collection("loss")[0]
        w = next(v for v in tf.global_variables() if v.op.name == "w")
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            tiers = []
            for i, n in enumerate(TRIPS):
                before = tf.stats()
                got = sess.run([train, loss], {"x:0": X, "n:0": n})[1]
                after = tf.stats()
                tiers.append(("eager" if after["eager_runs"] > before["eager_runs"] else "compiled",
                              after["compilations"] - before["compilations"]))
                np.testing.assert_allclose(got, want[i][0], rtol=1e-5, atol=1e-6, err_msg=f"loss of step {i}")
                # w moved once per step, as TF's: a step that overflowed did not apply its update twice
                np.testing.assert_allclose(sess.run(w), want[i][1], rtol=1e-5, atol=1e-6,
                                           err_msg=f"w after step {i}")
            assert sess.run(tf.train.get_global_step()) == len(TRIPS)
    # first run: op by op (observes 3 iterations); then compiled for 16, which 20 outgrows: that step runs op
    # by op and the next compiles for 32; 40 likewise (64); 3 fits the last one
    assert tiers == [("eager", 0), ("compiled", 1), ("eager", 0), ("compiled", 1), ("eager", 0),
                     ("compiled", 1), ("compiled", 0)]


def test_compiled_training_steps_count_one_compile():
    """Steps whose loops stay within the capacity reuse one executable: one compile for many runs."""
    meta, want = _tf_writes("fed_trips")
    graph = tf.Graph()
    with graph.as_default():
        tf.train.import_meta_graph(meta)
        train, loss = tf.get_collection("train_op")[0], tf.get_collection("loss")[0]
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run([train, loss], {"x:0": X, "n:0": 9})   # op by op: observes 9 iterations (capacity 16)
            before = tf.stats()
            for n in (1, 5, 16, 0, 12):
                sess.run([train, loss], {"x:0": X, "n:0": n})
            after = tf.stats()
    assert after["compilations"] - before["compilations"] == 1
    # the run that compiles counts as the compilation (stats.record_compile), the others as compiled runs
    assert after["compiled_runs"] - before["compiled_runs"] == 4
    assert after["eager_runs"] == before["eager_runs"]


def test_an_overflow_is_caught_when_dispatch_is_asynchronous():
    """A run that fetches no value may return before its step ends (async dispatch, GPU's default), its checks
    read later; a capacity check cannot wait (the step must be re-run now), so it is read at once."""
    from lowering import executor
    meta, want = _tf_writes("fed_trips")
    graph = tf.Graph()
    with graph.as_default():
        tf.train.import_meta_graph(meta)
        train = tf.get_collection("train_op")[0]
        w = next(v for v in tf.global_variables() if v.op.name == "w")
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            executor.set_async_dispatch(True)
            try:
                for i, n in enumerate(TRIPS):
                    sess.run(train, {"x:0": X, "n:0": n})
                    np.testing.assert_allclose(sess.run(w), want[i][1], rtol=1e-5, atol=1e-6, err_msg=f"step {i}")
            finally:
                executor.set_async_dispatch(None)


def test_an_overflow_in_a_step_with_a_host_tail_is_staged_op_by_op():
    """A step whose fetches end in host work (a summary) runs its device part staged, committed after the
    tail: an overflow there re-runs the device part op by op, uncommitted, and compiles again later."""
    meta, want = _tf_writes("fed_trips")
    graph = tf.Graph()
    with graph.as_default():
        tf.train.import_meta_graph(meta)
        train, loss = tf.get_collection("train_op")[0], tf.get_collection("loss")[0]
        summary = tf.summary.scalar("loss", loss)
        w = next(v for v in tf.global_variables() if v.op.name == "w")
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            compiles = []
            for i, n in enumerate(TRIPS):
                before = tf.stats()["compilations"]
                sess.run([train, summary], {"x:0": X, "n:0": n})
                compiles.append(tf.stats()["compilations"] - before)
                np.testing.assert_allclose(sess.run(w), want[i][1], rtol=1e-5, atol=1e-6, err_msg=f"step {i}")
            assert sess.run(tf.train.get_global_step()) == len(TRIPS)
    assert compiles == [0, 1, 0, 1, 0, 1, 0]   # the device part, for 16, 32 and 64 iterations
