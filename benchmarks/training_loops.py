"""Per-step cost of TF1 training-loop styles vs a plain `Session.run(train_op)` loop, same model, same run.

    python benchmarks/training_loops.py [--steps 2000] [--width 256]

Every loop fetches the loss each step (`sess.run([train, loss])`, as TF1 loops do), so each step waits for
its result. Loops: plain Session with a feed_dict; MonitoredTrainingSession with TF's default hooks (step counter,
summaries every 100 steps) and a StopAtStepHook; a QueueRunner-fed loop (FIFOQueue, 2 enqueue threads,
dequeue_many feeding the compiled step). Prints microseconds per step and the ratio to the plain loop.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import graphcompat as tf  # noqa: E402


def _model(x, y, width: int):
    """(loss, [train, loss]): the fetches of one step."""
    w1 = tf.get_variable("w1", [x.shape[1], width])
    w2 = tf.get_variable("w2", [width, 1])
    loss = tf.reduce_mean(tf.square(tf.matmul(tf.nn.relu(tf.matmul(x, w1)), w2) - y))
    tf.summary.scalar("loss", loss)
    gs = tf.train.get_or_create_global_step()
    return loss, [tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step=gs), loss]


def plain(steps: int, width: int, data) -> float:
    tf.reset_default_graph()
    x, y = tf.placeholder(tf.float32, [None, 32]), tf.placeholder(tf.float32, [None, 1])
    _, train = _model(x, y, width)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {x: data[0], y: data[1]}
        for _ in range(20):
            sess.run(train, feed)
        t0 = time.perf_counter()
        for _ in range(steps):
            sess.run(train, feed)
        return (time.perf_counter() - t0) / steps


def monitored(steps: int, width: int, data) -> float:
    tf.reset_default_graph()
    x, y = tf.placeholder(tf.float32, [None, 32]), tf.placeholder(tf.float32, [None, 1])
    _, train = _model(x, y, width)
    feed = {x: data[0], y: data[1]}
    with tempfile.TemporaryDirectory() as logdir:
        with tf.train.MonitoredTrainingSession(checkpoint_dir=logdir, save_checkpoint_secs=None,
                                               hooks=[tf.train.StopAtStepHook(last_step=steps + 220)]) as sess:
            for _ in range(220):  # past the first summary steps (0, 100, 200): every signature has compiled
                sess.run(train, feed)
            t0 = time.perf_counter()
            n = 0
            while not sess.should_stop():
                sess.run(train, feed)
                n += 1
            return (time.perf_counter() - t0) / n


def queue_fed(steps: int, width: int, data) -> float:
    tf.reset_default_graph()
    q = tf.FIFOQueue(64, [tf.float32, tf.float32], shapes=[[32], [1]])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue_many([tf.constant(data[0]),
                                                                        tf.constant(data[1])])] * 2))
    x, y = q.dequeue_many(len(data[0]))
    _, train = _model(x, y, width)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        for _ in range(20):
            sess.run(train)
        t0 = time.perf_counter()
        for _ in range(steps):
            sess.run(train)
        elapsed = (time.perf_counter() - t0) / steps
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=30)
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--width", type=int, default=256)
    args = parser.parse_args()
    rng = np.random.RandomState(0)
    data = rng.rand(64, 32).astype(np.float32), rng.rand(64, 1).astype(np.float32)
    base = plain(args.steps, args.width, data)
    print(f"plain Session loop          {base * 1e6:8.1f} us/step")
    for name, fn in (("MonitoredTrainingSession", monitored), ("QueueRunner-fed", queue_fed)):
        t = fn(args.steps, args.width, data)
        print(f"{name:27s} {t * 1e6:8.1f} us/step   ratio {t / base:5.2f}")


if __name__ == "__main__":
    main()
