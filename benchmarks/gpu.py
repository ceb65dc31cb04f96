"""One accelerator check: graphcompat against hand-written JAX floors on whatever JAX's default device is.

    python benchmarks/gpu.py            # on the GPU machine: shared workloads + convnet + 4096-wide MLP
    python benchmarks/gpu.py --quick    # a short run that works anywhere (CPU included): smaller models
    python benchmarks/gpu.py --precision default   # let XLA pick (TF32 on Ampere+), not float32

Float32 matmul precision is set for both sides (`jax.config.update("jax_default_matmul_precision",
"float32")`): TF1 computed float32 matmuls and convolutions in full float32 on GPUs (TF32 arrived with TF
2.4), and JAX's default on recent NVIDIA GPUs is TF32. `--precision default` measures JAX's default.

Printed, one line per figure: `<workload> graphcompat=<us/step> jax=<us/step> ratio=<x>` for
- the shared workloads (../shared/bench: linreg_feed with its loss fetched vs the JAX loop that fetches its
  loss, linreg `run(train_op)` vs the asynchronous JAX loop, mlp_adam, word2vec_nce vs the sparse floor),
  each side in its own process, best of `--rounds`;
- convnet (benchmarks/convnet.py's model, Adam) and a 4096-wide MLP (3 hidden layers, Adam), in-process,
  each step fetching the loss, both sides;
- with more than one local device, the MLP data parallel over all of them (`graphcompat.config.
  data_parallel()`), rows per second relative to one device.
Benchmarks are not tests: nothing here asserts timings.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

# workload -> (floor workload in jax_workloads.py, figure)
SHARED = {"linreg_feed": "linreg_feed_sync", "mlp_adam": "mlp_adam", "word2vec_nce": "word2vec_nce_sparse"}


def _bench_dir() -> str | None:
    for candidate in (os.path.join(ROOT, "shared", "bench"), os.path.join(ROOT, "..", "shared", "bench"),
                      os.path.join(ROOT, "..", "..", "shared", "bench")):
        if os.path.exists(os.path.join(candidate, "tf1_workloads.py")):
            return os.path.abspath(candidate)
    return None


def _subprocess_us(cmd: list, precision: str) -> float | None:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               JAX_DEFAULT_MATMUL_PRECISION=precision if precision != "default" else "")
    if precision == "default":
        env.pop("JAX_DEFAULT_MATMUL_PRECISION")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        print(f"  failed: {' '.join(cmd[-2:])}: {(out.stderr.strip().splitlines() or ['?'])[-1]}", flush=True)
        return None
    fields = dict(kv.split("=") for kv in lines[-1].split()[2:] if "=" in kv)
    return float(fields["us_per_step"])


def shared_workloads(rounds: int, precision: str, names) -> None:
    bench = _bench_dir()
    if bench is None:
        print("shared workloads: ../shared/bench not found, skipped", flush=True)
        return
    py = sys.executable
    for name in names:
        floor = SHARED[name]
        ours = [_subprocess_us([py, os.path.join(bench, "tf1_workloads.py"), "graphcompat", name], precision)
                for _ in range(rounds)]
        theirs = [_subprocess_us([py, os.path.join(bench, "jax_workloads.py"), floor], precision)
                  for _ in range(rounds)]
        _report(name, _best(ours), _best(theirs), f"floor={floor}")


def _best(values):
    values = [v for v in values if v is not None]
    return min(values) if values else None


def _report(name: str, ours, theirs, note: str = "") -> None:
    ratio = f"{ours / theirs:.2f}" if ours and theirs else "n/a"
    fmt = (lambda v: f"{v:.1f}" if v is not None else "n/a")
    print(f"{name} graphcompat={fmt(ours)} jax={fmt(theirs)} ratio={ratio} {note}".rstrip(), flush=True)


def _timed(step, steps: int) -> float:
    """Microseconds per step of `step()` after two warm-up calls (compiles excluded)."""
    step()
    step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t) / steps * 1e6


# ------------------------------------------------------------------------------------------------
# A wide MLP, both ways
# ------------------------------------------------------------------------------------------------
def _mlp_data(batch: int, width: int, seed: int = 0):
    rng = np.random.RandomState(seed)
    xs = rng.rand(4, batch, width).astype(np.float32)
    ys = np.eye(10, dtype=np.float32)[rng.randint(0, 10, (4, batch))]
    return xs, ys


def mlp_graphcompat(steps: int, batch: int, width: int, fetch_loss: bool = True) -> float:
    import graphcompat as tf
    xs, ys = _mlp_data(batch, width)
    graph = tf.Graph()
    with graph.as_default():
        X = tf.placeholder(tf.float32, [None, width])
        Y = tf.placeholder(tf.float32, [None, 10])
        h = X
        for i in range(3):
            h = tf.layers.dense(h, width, activation=tf.nn.relu, name=f"hidden{i}")
        logits = tf.layers.dense(h, 10, name="logits")
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=Y, logits=logits))
        train = tf.train.AdamOptimizer(1e-4).minimize(loss)
        fetches = [train, loss] if fetch_loss else train
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            i = [0]

            def step():
                k = i[0] % 4
                i[0] += 1
                return sess.run(fetches, {X: xs[k], Y: ys[k]})
            us = _timed(step, steps)
            sess.run(loss, {X: xs[0], Y: ys[0]})   # the last step has finished
            return us


def mlp_jax(steps: int, batch: int, width: int) -> float:
    import jax
    import jax.numpy as jnp
    from host_work import jax_mlp_adam
    xs, ys = _mlp_data(batch, width)
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    glorot = jax.nn.initializers.glorot_uniform()
    sizes = [(width, width)] * 3 + [(width, 10)]
    params = [(glorot(k, s), jnp.zeros(s[1])) for k, s in zip(keys, sizes)]
    opt, update = jax_mlp_adam(1e-4)
    state = opt.init(params)
    box = [params, state, 0]

    def step():
        k = box[2] % 4
        box[2] += 1
        box[0], box[1], l = update(box[0], box[1], xs[k], ys[k])
        return float(l)   # graphcompat's run([train, loss]) brings the loss to the host every step
    return _timed(step, steps)


def mlp_data_parallel(steps: int, batch: int, width: int) -> None:
    """Rows per second of the MLP data parallel over every local device, relative to one device."""
    import jax

    import graphcompat as tf
    devices = jax.local_devices()
    if len(devices) < 2:
        print(f"data_parallel skipped: {len(devices)} local device", flush=True)
        return
    one = mlp_graphcompat(steps, batch, width)
    tf.config.data_parallel()
    try:
        many = mlp_graphcompat(steps, batch * len(devices), width)
    finally:
        tf.config.data_parallel(False)
    print(f"mlp_data_parallel devices={len(devices)} rows_per_s_one={batch / one * 1e6:.0f} "
          f"rows_per_s_all={batch * len(devices) / many * 1e6:.0f} scaling={one * len(devices) / many:.2f}",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short run, small models (works on a CPU)")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--precision", choices=("float32", "default"), default="float32")
    a = ap.parse_args()
    import jax
    if a.precision == "float32":
        jax.config.update("jax_default_matmul_precision", "float32")
    rounds = a.rounds or (1 if a.quick else 3)
    print(f"device={jax.devices()[0].device_kind} backend={jax.default_backend()} "
          f"local_devices={len(jax.local_devices())} precision={a.precision} jax={jax.__version__}", flush=True)
    shared_workloads(rounds, a.precision, ["linreg_feed"] if a.quick else list(SHARED))

    import convnet
    steps = 5 if a.quick else 100
    batch = 64 if a.quick else 128   # a multiple of the shape bucket (64): no padded rows
    ours = min(convnet.run_graphcompat(steps, batch) for _ in range(rounds)) * 1e6
    theirs = min(convnet.run_jax(steps, batch) for _ in range(rounds)) * 1e6
    _report("convnet", ours, theirs, f"batch={batch} loss fetched each step")

    width, mbatch, msteps = (256, 64, 10) if a.quick else (4096, 512, 100)
    ours = min(mlp_graphcompat(msteps, mbatch, width) for _ in range(rounds))
    theirs = min(mlp_jax(msteps, mbatch, width) for _ in range(rounds))
    _report(f"mlp{width}", ours, theirs, f"batch={mbatch} loss fetched each step")
    mlp_data_parallel(msteps, mbatch, width)


if __name__ == "__main__":
    main()
