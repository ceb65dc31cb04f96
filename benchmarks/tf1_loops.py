"""Training steps of a TF 1 while loop with no maximum_iterations (its gradient keeps forward values on stacks),
written by TensorFlow, imported and run by graphcompat; steps per second of each, and of TF itself.

    python benchmarks/tf1_loops.py [--steps 200] [--time-steps 20]

The model is an RNN written as a plain `tf.while_loop` over the time steps of a fed batch (batch 16, 8
inputs, 32 units, Adam): the loop's trip count is `tf.shape(x)[1]`, which only its condition knows, so TF 1
records no bound. graphcompat sizes the loop's stacks from the trip count its first (op-by-op) run saw.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import graphcompat as gc  # noqa: E402


def write_graph(v1, prefix: str, units: int):
    """TF 1 (control flow v1) builds the training graph and saves it (meta graph + checkpoint)."""
    from tensorflow.python.ops import control_flow_util
    control_flow_util.ENABLE_CONTROL_FLOW_V2 = False  # TF 1's loops (Enter/Exit …) and their stack gradients
    graph = v1.Graph()
    with graph.as_default():
        v1.set_random_seed(1)
        x = v1.placeholder(v1.float32, [None, None, 8], name="x")
        w = v1.get_variable("w", [8, units])
        u = v1.get_variable("u", [units, units])
        b = v1.get_variable("b", [units], initializer=v1.zeros_initializer())

        def body(t, h):
            return t + 1, v1.tanh(v1.matmul(x[:, t], w) + v1.matmul(h, u) + b)
        _, h = v1.while_loop(lambda t, h: t < v1.shape(x)[1], body, [0, v1.zeros([v1.shape(x)[0], units])])
        loss = v1.reduce_mean(v1.square(h - 0.5))
        train = v1.train.AdamOptimizer(0.01).minimize(loss)
        v1.add_to_collection("train_op", train)
        v1.add_to_collection("loss", loss)
        saver = v1.train.Saver()
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            saver.save(sess, prefix)
    assert any(n.op == "StackPushV2" for n in graph.as_graph_def().node)
    return graph, train, loss


def steps_per_second(sess, train, loss, feed, steps: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        sess.run([train, loss], feed)
    start = time.perf_counter()
    for _ in range(steps):
        sess.run([train, loss], feed)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--time-steps", type=int, default=20)
    parser.add_argument("--units", type=int, default=32)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow.compat.v1 as v1
    v1.disable_eager_execution()
    feed = {"x:0": np.random.RandomState(0).rand(16, args.time_steps, 8).astype(np.float32)}
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "model")
        tf_graph, tf_train, tf_loss = write_graph(v1, prefix, args.units)
        with v1.Session(graph=tf_graph) as sess:
            v1.train.Saver().restore(sess, prefix)
            tf_rate = steps_per_second(sess, tf_train, tf_loss, feed, args.steps)
        graph = gc.Graph()
        with graph.as_default():
            saver = gc.train.import_meta_graph(prefix + ".meta")
            train, loss = gc.get_collection("train_op")[0], gc.get_collection("loss")[0]
            with gc.Session(graph=graph) as sess:
                saver.restore(sess, prefix)
                before = gc.stats()
                rate = steps_per_second(sess, train, loss, feed, args.steps)
                after = gc.stats()
    print(f"TF 1 while loop without a bound, {args.time_steps} time steps, batch 16, {args.units} units, Adam")
    print(f"graphcompat: {rate:9.1f} steps/s  ({after['compiled_runs'] - before['compiled_runs']} compiled runs, "
          f"{after['eager_runs'] - before['eager_runs']} op by op, "
          f"{after['compilations'] - before['compilations']} compilations)")
    print(f"TensorFlow:  {tf_rate:9.1f} steps/s   ratio graphcompat/TF {rate / tf_rate:.2f}")


if __name__ == "__main__":
    main()
