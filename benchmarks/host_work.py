"""Host-side work of training loops, graphcompat vs TensorFlow: summaries every step, host tf.data pipelines.

    python benchmarks/host_work.py [--rounds 3] [--tf] [WORKLOAD ...]
    python benchmarks/host_work.py --run graphcompat|tf WORKLOAD      # one measurement (used by the above)

Workloads (each prints µs per step; ratios are what to quote on these noisy machines):
- summaries: the lecture's word2vec NCE step (vocab 5000, batch 128) fetched plain, with
  `merge_all()` of scalar(loss) + histogram(loss) written by `FileWriter.add_summary` every step, and with a
  histogram of the 320k NCE weights as well. Prints each variant's ratio to the plain step.
- pipeline: a `from_generator` (Python-side uint8 images) → map (cast, scale, reshape, one_hot) → shuffle(1000)
  → batch(64) → prefetch(1) pipeline feeding a 784-128-10 MLP step (Adam), per step over a whole epoch.
- pipeline_csv: TextLineDataset → map(decode_csv) → shuffle → batch → prefetch, drained (host ops only).
- serving_examples: a serving signature of 32 serialized tf.Examples → parse_example → MLP → softmax.
- vocabulary_training: 128 fed words → vocabulary table lookup → embedding → logistic loss, Adam.
- masked_loss: an MLP whose loss leaves out rows labelled -1 (tf.boolean_mask), labels fed or from tf.data.
Each backend runs in its own process, alternating, `--rounds` times; medians are kept. No timing is asserted.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _import(backend: str):
    if backend == "tf":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
        import tensorflow.compat.v1 as tf
        tf.disable_eager_execution()
        return tf
    sys.path.insert(0, ROOT)
    import graphcompat as tf
    return tf


def _best(fn, steps: int, rounds: int = 5) -> float:
    for i in range(5):
        fn(i)
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for i in range(steps):
            fn(i)
        best = min(best, (time.perf_counter() - t) / steps)
    return best * 1e6


def summaries(tf) -> dict:
    rng = np.random.RandomState(0)
    vocab, embed, batch = 5000, 64, 128
    with tf.Graph().as_default():
        center = tf.placeholder(tf.int32, [batch])
        target = tf.placeholder(tf.int32, [batch, 1])
        emb = tf.get_variable("embed_matrix", [vocab, embed], initializer=tf.random_uniform_initializer())
        w = tf.get_variable("nce_weight", [vocab, embed], initializer=tf.truncated_normal_initializer(stddev=0.1))
        b = tf.get_variable("nce_bias", initializer=tf.zeros([vocab]))
        loss = tf.reduce_mean(tf.nn.nce_loss(w, b, target, tf.nn.embedding_lookup(emb, center), 32, vocab))
        opt = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
        with tf.name_scope("summaries"):
            tf.summary.scalar("loss", loss)
            tf.summary.histogram("histogram_loss", loss)
            merged = tf.summary.merge_all()
        with_weights = tf.summary.merge([merged, tf.summary.histogram("nce_weight", w)])
        data = [(rng.randint(0, vocab, batch).astype(np.int32), rng.randint(0, vocab, (batch, 1)).astype(np.int32))
                for _ in range(50)]
        with tf.Session() as sess, tempfile.TemporaryDirectory() as logdir:
            sess.run(tf.global_variables_initializer())
            writer = tf.summary.FileWriter(logdir, sess.graph)

            def step(fetches):
                def run(i):
                    c, t = data[i % 50]
                    out = sess.run(fetches, {center: c, target: t})
                    if len(out) == 3:
                        writer.add_summary(out[2], i)
                return run
            variants = {"plain": [loss, opt], "summaries": [loss, opt, merged],
                        "weights_histogram": [loss, opt, with_weights]}
            times = {k: [] for k in variants}
            for _ in range(3):  # interleaved: the variants share the machine's noise
                for k, fetches in variants.items():
                    times[k].append(_best(step(fetches), 100, 2))
            writer.close()
    result = {f"{k}_us": min(v) for k, v in times.items()}
    result["summaries_ratio"] = result["summaries_us"] / result["plain_us"]
    result["weights_histogram_ratio"] = result["weights_histogram_us"] / result["plain_us"]
    return result


def pipeline(tf) -> dict:
    n, batch = 6000, 64
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, (n, 28, 28)).astype(np.uint8)
    labels = rng.randint(0, 10, n).astype(np.int64)

    def gen():
        for i in range(n):
            yield images[i], labels[i]
    with tf.Graph().as_default():
        ds = tf.data.Dataset.from_generator(gen, (tf.uint8, tf.int64), ([28, 28], []))
        ds = ds.map(lambda x, y: (tf.reshape(tf.cast(x, tf.float32) / 255.0, [784]), tf.one_hot(y, 10)))
        it = ds.shuffle(1000).batch(batch).prefetch(1).make_initializable_iterator()
        x, y = it.get_next()
        hidden = tf.layers.dense(x, 128, activation=tf.nn.relu)
        logits = tf.layers.dense(hidden, 10)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        opt = tf.train.AdamOptimizer(1e-3).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            per_epoch = []
            for _ in range(4):
                sess.run(it.initializer)
                t, steps = time.perf_counter(), 0
                try:
                    while True:
                        sess.run([opt, loss])
                        steps += 1
                except tf.errors.OutOfRangeError:
                    pass
                per_epoch.append((time.perf_counter() - t) / steps * 1e6)
    return {"first_epoch_us": per_epoch[0], "us_per_step": min(per_epoch[1:])}


def pipeline_csv(tf) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data.csv")
        rng = np.random.RandomState(0)
        with open(path, "w") as f:
            f.writelines(f"{rng.rand():.5f},{rng.rand():.5f},{rng.randint(10)}\n" for _ in range(20000))
        with tf.Graph().as_default():
            ds = tf.data.TextLineDataset(path).map(lambda line: tf.decode_csv(line, [[0.0], [0.0], [0]]))
            it = ds.shuffle(1000).batch(128).prefetch(1).make_initializable_iterator()
            nxt = it.get_next()
            with tf.Session() as sess:
                per_epoch = []
                for _ in range(3):
                    sess.run(it.initializer)
                    t, steps = time.perf_counter(), 0
                    try:
                        while True:
                            sess.run(nxt)
                            steps += 1
                    except tf.errors.OutOfRangeError:
                        pass
                    per_epoch.append((time.perf_counter() - t) / steps * 1e6)
    return {"us_per_step": min(per_epoch)}


def serving_examples(tf) -> dict:
    """A serving signature of serialized tf.Examples: parse_example (784 floats each) -> 784-256-10 MLP
    -> softmax, 32 Examples per request (graphcompat runs ParseExample on the host before the compiled step)."""
    rng = np.random.RandomState(0)
    with tf.Graph().as_default():
        serialized = tf.placeholder(tf.string, [None])
        x = tf.parse_example(serialized, {"x": tf.FixedLenFeature([784], tf.float32)})["x"]
        h = tf.layers.dense(x, 256, tf.nn.relu)
        probs = tf.nn.softmax(tf.layers.dense(h, 10))
        requests = [np.array([tf.train.Example(features=tf.train.Features(feature={"x": tf.train.Feature(
            float_list=tf.train.FloatList(value=rng.rand(784).astype(np.float32)))})).SerializeToString()
            for _ in range(32)], dtype=object) for _ in range(8)]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            def step(i):
                sess.run(probs, {serialized: requests[i % 8]})
            return {"us_per_step": _best(step, 50)}


def vocabulary_training(tf) -> dict:
    """Fed words looked up in a vocabulary (index_table_from_tensor) -> embedding (vocab 1000 x 64) -> mean ->
    logistic loss, Adam, 128 words a step (graphcompat runs the lookup on the host before the compiled step)."""
    rng = np.random.RandomState(0)
    vocab = [f"w{i}".encode() for i in range(1000)]
    with tf.Graph().as_default():
        words = tf.placeholder(tf.string, [128])
        labels = tf.placeholder(tf.float32, [128])
        if hasattr(tf, "contrib"):
            index_table_from_tensor = tf.contrib.lookup.index_table_from_tensor
        else:  # TF 2's compat.v1 keeps it out of the public API
            from tensorflow.python.ops.lookup_ops import index_table_from_tensor
        ids = index_table_from_tensor(tf.constant(vocab), num_oov_buckets=1).lookup(words)
        emb = tf.get_variable("emb", [1001, 64], initializer=tf.random_normal_initializer(stddev=0.1))
        logits = tf.squeeze(tf.layers.dense(tf.nn.embedding_lookup(emb, ids), 1), 1)
        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        batches = [(np.array([vocab[i] if i < 1000 else b"oov" for i in rng.randint(0, 1100, 128)], dtype=object),
                    rng.randint(0, 2, 128).astype(np.float32)) for _ in range(8)]
        with tf.Session() as sess:
            sess.run([tf.global_variables_initializer(), tf.tables_initializer()])
            def step(i):
                w, y = batches[i % 8]
                sess.run([train, loss], {words: w, labels: y})
            return {"us_per_step": _best(step, 50)}


def masked_loss(tf) -> dict:
    """A 100-64-10 MLP (Adam, batch 64) whose loss leaves out the rows labelled -1 (tf.boolean_mask of logits
    and labels): labels fed (tf.where runs before the step) and labels from a tf.data iterator (tf.where in
    the step). Each mask keeps a different number of rows."""
    rng = np.random.RandomState(0)
    xs = rng.rand(640, 100).astype(np.float32)
    ys = rng.randint(-1, 10, 640).astype(np.int32)
    out = {}
    for source in ("fed", "dataset"):
        with tf.Graph().as_default():
            if source == "fed":
                x, y = tf.placeholder(tf.float32, [None, 100]), tf.placeholder(tf.int32, [None])
            else:
                batches = tf.data.Dataset.from_tensor_slices((xs, ys)).batch(64).repeat()
                x, y = tf.data.make_one_shot_iterator(batches).get_next()
            logits = tf.layers.dense(tf.layers.dense(x, 64, tf.nn.relu), 10)
            keep = tf.not_equal(y, -1)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.boolean_mask(y, keep), logits=tf.boolean_mask(logits, keep)))
            train = tf.train.AdamOptimizer(1e-3).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                if source == "fed":
                    def step(i):
                        j = i % 10 * 64
                        sess.run([train, loss], {x: xs[j:j + 64], y: ys[j:j + 64]})
                else:
                    def step(i):
                        sess.run([train, loss])
                out[f"{source}_us_per_step"] = _best(step, 50)
    return out


WORKLOADS = {"summaries": summaries, "pipeline": pipeline, "pipeline_csv": pipeline_csv,
             "serving_examples": serving_examples, "vocabulary_training": vocabulary_training,
             "masked_loss": masked_loss}


def jax_adam(loss_fn, learning_rate: float) -> tuple:
    """(optax optimizer, jitted `update(params, opt_state, x, y) -> (params, opt_state, loss)`): a hand-written
    JAX training step with Adam, what the benchmarks hold graphcompat's training steps against."""
    import jax
    import optax
    optimizer = optax.adam(learning_rate)

    @jax.jit
    def update(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss
    return optimizer, update


def jax_mlp_adam(learning_rate: float) -> tuple:
    """jax_adam of an MLP given as [(w, b), ...]: relu between the layers, softmax cross entropy."""
    import jax
    import jax.numpy as jnp
    import optax

    def loss_fn(params, x, y):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        return jnp.mean(optax.softmax_cross_entropy(h, y))
    return jax_adam(loss_fn, learning_rate)


def measure(script: str, name: str, backends: list, rounds: int) -> dict:
    """{backend: {result key: median}} of `rounds` runs of `script --run BACKEND name`, one process each, the
    backends alternating; each backend's medians are printed."""
    rows: dict = {b: [] for b in backends}
    for _ in range(rounds):
        for backend in backends:
            proc = subprocess.run([sys.executable, script, "--run", backend, name], capture_output=True,
                                  text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
            line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            if not line:
                print(f"{name} {backend}: failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
                continue
            rows[backend].append(dict(kv.split("=") for kv in line[0].split()[1:]))
    medians = {b: {k: statistics.median(float(r[k]) for r in rs) for k in rs[0]} for b, rs in rows.items() if rs}
    for backend, values in medians.items():
        print(f"{name} {backend}: " + " ".join(f"{k}={v:.3g}" for k, v in values.items()))
    return medians


def arguments() -> argparse.Namespace:
    """WORKLOAD …, --rounds, --tf, and --run BACKEND (one measurement, in the process `measure` starts)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("workloads", nargs="*")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tf", action="store_true", help="also run TensorFlow (tensorflow-cpu and tf-keras)")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    return ap.parse_args()


def run_workloads(script: str, workloads: dict, compare, fresh_cache: bool = False) -> None:
    """The command line of a benchmark script: `--run BACKEND NAME` measures one workload in this process
    (`fresh_cache`: with an empty compile cache, so a first run's compiles count) and prints its RESULT line;
    otherwise every named workload is measured with `measure`, and `compare(name, ours, theirs)` gives the
    line comparing graphcompat's medians with TF's."""
    a = arguments()
    if a.run:
        with tempfile.TemporaryDirectory() if fresh_cache else contextlib.nullcontext() as cache:
            if cache is not None:
                os.environ["GRAPHCOMPAT_COMPILATION_CACHE"] = cache
            result = workloads[a.workloads[0]](_import(a.run))
        print("RESULT " + " ".join(f"{k}={v:.4g}" for k, v in result.items()))
        return
    backends = ["graphcompat"] + (["tf"] if a.tf else [])
    for name in a.workloads or list(workloads):
        medians = measure(script, name, backends, a.rounds)
        if "tf" in medians and "graphcompat" in medians:
            print(compare(name, medians["graphcompat"], medians["tf"]))


def _compare(name: str, ours: dict, theirs: dict) -> str:
    if name == "summaries":
        return (f"{name}: graphcompat/tf per step = {ours['plain_us'] / theirs['plain_us']:.2f}x; summary step: "
                f"{ours['summaries_us'] / theirs['summaries_us']:.2f}x, weights histogram step: "
                f"{ours['weights_histogram_us'] / theirs['weights_histogram_us']:.2f}x")
    # every per-step time the workload reports (masked_loss: fed and tf.data labels)
    return f"{name}: graphcompat/tf " + ", ".join(f"{k} {ours[k] / theirs[k]:.2f}x" for k in ours if k in theirs)


if __name__ == "__main__":
    run_workloads(__file__, WORKLOADS, _compare)
