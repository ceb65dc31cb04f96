"""A short program's first training step, compiles included: graphcompat vs the same step in hand-written
JAX (jax.jit of value_and_grad + optax.adam) vs TensorFlow 1.

    python benchmarks/first_step.py [--rounds 3] [--tf]
    python benchmarks/first_step.py --run graphcompat|jax|tf first_step     # one measurement

The workload is ../shared/bench's short_train: a 784-256-256-10 MLP, softmax cross entropy, Adam, batch 64.
Each round is a fresh process per backend with an empty compile cache, so it measures what a student's
first run pays: `first_step_s` (the first `run([train, loss])`, its trace and XLA compile included, after
the initializer) and `later_step_ms` (a step after it). graphcompat's first step costs what hand-written
JAX's does: that is XLA's CPU compile of the step, the floor of short_train's first process. TF 1 compiles
nothing. No timing is asserted.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time

import numpy as np

from host_work import _import, arguments, jax_mlp_adam, measure

SIZES = [(784, 256), (256, 256), (256, 10)]
BATCH = 64


def _data():
    rng = np.random.RandomState(0)
    xs = rng.rand(4 * BATCH, 784).astype(np.float32)
    ys = np.eye(10, dtype=np.float32)[rng.randint(0, 10, 4 * BATCH)]
    return [(xs[i * BATCH:(i + 1) * BATCH], ys[i * BATCH:(i + 1) * BATCH]) for i in range(4)]


def _graph_first_step(tf) -> dict:
    x = tf.placeholder(tf.float32, [None, 784])
    y = tf.placeholder(tf.float32, [None, 10])
    h = x
    for i, (_, n) in enumerate(SIZES[:-1]):
        h = tf.layers.dense(h, n, tf.nn.relu, name=f"h{i}")
    logits = tf.layers.dense(h, SIZES[-1][1], name="out")
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    batches = _data()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        t = time.perf_counter()
        sess.run([train, loss], {x: batches[0][0], y: batches[0][1]})
        first = time.perf_counter() - t
        t = time.perf_counter()
        for bx, by in batches[1:]:
            sess.run([train, loss], {x: bx, y: by})
        later = (time.perf_counter() - t) / (len(batches) - 1)
    return {"first_step_s": first, "later_step_ms": later * 1e3}


def _jax_first_step() -> dict:
    import jax
    import jax.numpy as jnp
    jax.jit(lambda v: v * 2 + 1).lower(np.float32(1.0))  # backend and MLIR start, as graphcompat's Session
    rng = np.random.RandomState(1)
    params = [(jnp.asarray(rng.normal(0, 0.05, s).astype(np.float32)), jnp.zeros(s[1], jnp.float32)) for s in SIZES]
    optimizer, step = jax_mlp_adam(1e-3)
    state = optimizer.init(params)
    batches = _data()
    t = time.perf_counter()
    params, state, value = step(params, state, *batches[0])
    np.asarray(value)
    first = time.perf_counter() - t
    t = time.perf_counter()
    for bx, by in batches[1:]:
        params, state, value = step(params, state, bx, by)
        np.asarray(value)
    later = (time.perf_counter() - t) / (len(batches) - 1)
    return {"first_step_s": first, "later_step_ms": later * 1e3}


def main() -> None:
    a = arguments()
    if a.run:
        with tempfile.TemporaryDirectory() as cache:  # a first process: nothing compiled before
            os.environ["GRAPHCOMPAT_COMPILATION_CACHE"] = cache
            with contextlib.suppress(KeyError):
                del os.environ["JAX_COMPILATION_CACHE_DIR"]
            result = _jax_first_step() if a.run == "jax" else _graph_first_step(_import(a.run))
        print("RESULT " + " ".join(f"{k}={v:.4g}" for k, v in result.items()))
        return
    medians = measure(__file__, "first_step", ["graphcompat", "jax"] + (["tf"] if a.tf else []), a.rounds)
    if "graphcompat" in medians and "jax" in medians:
        ours = medians["graphcompat"]
        print("first_step: graphcompat/jax first step = "
              f"{ours['first_step_s'] / medians['jax']['first_step_s']:.2f}x, later steps = "
              f"{ours['later_step_ms'] / medians['jax']['later_step_ms']:.2f}x"
              + (f"; graphcompat/tf first step = {ours['first_step_s'] / medians['tf']['first_step_s']:.1f}x"
                 if "tf" in medians else ""))


if __name__ == "__main__":
    main()
