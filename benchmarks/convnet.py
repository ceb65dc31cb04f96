"""Convnet training step on MNIST-shaped batches: graphcompat (tf.layers + Adam) vs hand-written JAX/optax.

    python benchmarks/convnet.py [--steps 50] [--batch 128] [--rounds 3]

Same model both ways: conv 5x5x32 SAME + relu, 2x2 max pool, conv 5x5x64 + relu, pool, dense 1024 + relu,
dense 10, softmax cross entropy, Adam(1e-3). Each side is warmed up on the timed fetch signature first
(compilation excluded), then `steps` steps are timed; the median over rounds is reported with the ratio.
Prints one line per side and `ratio_vs_jax=`.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from host_work import jax_adam  # noqa: E402  (the hand-written JAX step, shared by the benchmarks)


def data(batch: int, n_batches: int = 8, seed: int = 0):
    rng = np.random.RandomState(seed)
    xs = rng.rand(n_batches, batch, 28, 28, 1).astype(np.float32)
    ys = np.eye(10, dtype=np.float32)[rng.randint(0, 10, (n_batches, batch))]
    return xs, ys


def run_graphcompat(steps: int, batch: int) -> float:
    import graphcompat as tf
    xs, ys = data(batch)
    graph = tf.Graph()
    with graph.as_default():
        X = tf.placeholder(tf.float32, [None, 28, 28, 1])
        Y = tf.placeholder(tf.float32, [None, 10])
        h = tf.layers.conv2d(X, 32, 5, padding="same", activation=tf.nn.relu)
        h = tf.layers.max_pooling2d(h, 2, 2)
        h = tf.layers.conv2d(h, 64, 5, padding="same", activation=tf.nn.relu)
        h = tf.layers.max_pooling2d(h, 2, 2)
        h = tf.layers.dense(tf.layers.flatten(h), 1024, activation=tf.nn.relu)
        logits = tf.layers.dense(h, 10)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=Y, logits=logits))
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for i in range(3):  # first run op by op, second compiles, third is steady
                sess.run([train, loss], {X: xs[i], Y: ys[i]})
            t = time.perf_counter()
            for i in range(steps):
                _, l = sess.run([train, loss], {X: xs[i % 8], Y: ys[i % 8]})
            return (time.perf_counter() - t) / steps


def run_jax(steps: int, batch: int) -> float:
    import jax
    import jax.numpy as jnp
    import optax
    xs, ys = data(batch)
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    glorot = jax.nn.initializers.glorot_uniform()
    params = {"c1": (glorot(keys[0], (5, 5, 1, 32)), jnp.zeros(32)), "c2": (glorot(keys[1], (5, 5, 32, 64)), jnp.zeros(64)),
              "d1": (glorot(keys[2], (7 * 7 * 64, 1024)), jnp.zeros(1024)), "d2": (glorot(keys[3], (1024, 10)), jnp.zeros(10))}

    def conv(x, wb):
        y = jax.lax.conv_general_dilated(x, wb[0], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return jax.nn.relu(y + wb[1])

    def pool(x):
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    def loss_fn(p, x, y):
        h = pool(conv(pool(conv(x, p["c1"])), p["c2"]))
        h = jax.nn.relu(h.reshape(h.shape[0], -1) @ p["d1"][0] + p["d1"][1])
        logits = h @ p["d2"][0] + p["d2"][1]
        return jnp.mean(optax.softmax_cross_entropy(logits, y))

    opt, step = jax_adam(loss_fn, 1e-3)
    state = opt.init(params)
    for i in range(2):
        params, state, l = step(params, state, xs[i], ys[i])
    float(l)
    t = time.perf_counter()
    for i in range(steps):
        params, state, l = step(params, state, xs[i % 8], ys[i % 8])
        float(l)  # graphcompat returns the fetched loss to the host every step too
    return (time.perf_counter() - t) / steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    g, j = [], []
    for _ in range(a.rounds):
        g.append(run_graphcompat(a.steps, a.batch))
        j.append(run_jax(a.steps, a.batch))
    gm, jm = statistics.median(g), statistics.median(j)
    print(f"convnet graphcompat us_per_step={gm * 1e6:.1f}")
    print(f"convnet jax us_per_step={jm * 1e6:.1f}")
    print(f"convnet ratio_vs_jax={gm / jm:.2f}")


if __name__ == "__main__":
    main()
