"""Scale-out checks that need several JAX devices or processes: run in a subprocess by tests/test_scaleout.py.

    XLA_FLAGS=--xla_force_host_platform_device_count=4 python -m tests.scaleout_worker local
    python -m tests.scaleout_worker distributed <port> <process_id>     (2 processes, 2 devices each)

Each check prints one JSON line {"check": name, ...facts}; the test asserts on the facts.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np


def emit(name: str, **facts) -> None:
    print(json.dumps({"check": name, **facts}), flush=True)


def _devices_of(value) -> list:
    return sorted(d.id for d in value.devices())


# ------------------------------------------------------------------------------------------------
# One process, 4 CPU devices
# ------------------------------------------------------------------------------------------------
def placement_checks(tf) -> None:
    from lowering import executor
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [3], name="x")
    with tf.device("/cpu:1"):
        a = tf.multiply(x, 2.0, name="a")
    with tf.device("/device:CPU:2"):
        b = tf.add(a, 1.0, name="b")
    c = tf.identity(b, name="c")   # no device: TF's default device, CPU:0
    with tf.Session() as sess:
        feed = {x: np.arange(3, dtype=np.float32)}
        got = sess.run([a, b, c], feed)
        runner = executor.runner_for(sess, a, b, c)
        values = runner.run([feed[x]])
        single = sess.run(a, feed)
        a_alone = executor.runner_for(sess, a).run([feed[x]])[0]
    emit("placement", values=[np.asarray(v).tolist() for v in got],
         devices=[_devices_of(v) for v in values], single=np.asarray(single).tolist(),
         a_alone=_devices_of(a_alone), placed=runner.placed)

    # a placed training step that fails a run-time check changes nothing, on its first (op by op) and
    # later (compiled segments) runs
    tf.reset_default_graph()
    index = tf.placeholder(tf.int32, [], name="index")
    with tf.device("/cpu:1"):
        v = tf.Variable([1.0, 2.0, 3.0], name="v")
        step = tf.assign_add(v, [1.0, 1.0, 1.0])
    with tf.device("/cpu:2"), tf.control_dependencies([step]):
        picked = tf.gather(tf.identity(v), index)
    outcomes = []
    with tf.Session() as sess:
        sess.run(v.initializer)
        for i in (0, 1, 7, 2):
            try:
                outcomes.append(float(sess.run(picked, {index: i})))
            except tf.errors.InvalidArgumentError as e:
                outcomes.append(e.message.split(" [[")[0].strip())
            outcomes.append(sess.run(v).tolist())
        runner = executor.runner_for(sess, picked)
        segments = len(runner.segmented.segments) if runner.segmented else runner.segmented
    emit("placed_check", outcomes=outcomes, segments=segments)

    # soft placement off (TF's default) with a device this process lacks: TF's error
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [], name="x")
    with tf.device("/cpu:7"):
        y = tf.identity(x, name="y")
    try:
        with tf.Session() as sess:
            sess.run(y, {x: 1.0})
        emit("hard_placement", error=None)
    except tf.errors.InvalidArgumentError as e:
        emit("hard_placement", error=e.message)
    with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:
        emit("soft_placement", value=float(sess.run(y, {x: 1.0})))


def _tower_program(tf, towers: int):
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    with tf.device("/cpu:0"):
        w = tf.Variable(np.arange(4, dtype=np.float32).reshape(4, 1) / 10, name="w")
        b = tf.Variable(0.5, name="b")
    opt = tf.train.GradientDescentOptimizer(0.1)
    xs, ys = (tf.split(x, towers), tf.split(y, towers)) if towers > 1 else ([x], [y])
    grads, losses = [], []
    for i in range(towers):   # TF1's multi-GPU tutorial: one tower per device, shared variables
        with tf.device(f"/cpu:{i + 1}" if towers > 1 else "/cpu:0"), tf.name_scope(f"tower_{i}"):
            loss = tf.reduce_mean(tf.square(tf.matmul(xs[i], w) + b - ys[i]))
            grads.append(opt.compute_gradients(loss))
            losses.append(loss)
    with tf.device("/cpu:0"):   # gradients averaged on one device
        averaged = [(tf.add_n([g[j][0] for g in grads]) / towers, grads[0][j][1]) for j in range(2)]
        train = opt.apply_gradients(averaged)
        loss = tf.add_n(losses) / towers
    return x, y, train, loss, losses


def tower_checks(tf) -> None:
    import contextlib
    import io

    from lowering import executor
    curves = {}
    for towers in (1, 2):
        x, y, train, loss, losses = _tower_program(tf, towers)
        rng = np.random.RandomState(0)
        log = io.StringIO()
        with contextlib.redirect_stdout(log), \
                tf.Session(config=tf.ConfigProto(log_device_placement=towers == 2)) as sess:
            sess.run(tf.global_variables_initializer())
            curve = []
            for _ in range(5):
                feed = {x: rng.normal(size=(8, 4)), y: rng.normal(size=(8, 1))}
                curve.append(float(sess.run([train, loss], feed)[1]))
            sess.run(losses, feed)
            tower_losses = executor.runner_for(sess, *losses).run([feed[x].astype(np.float32),
                                                                   feed[y].astype(np.float32)])
            curves[towers] = curve
            variable_device = _devices_of(sess._state["w"])
            runner = executor.runner_for(sess, train, loss)
            segments = len(runner.segmented.segments) if runner.segmented else runner.segmented
        if towers == 2:
            lines = [line for line in log.getvalue().splitlines() if ": (" in line]
            emit("towers", tower_devices=[_devices_of(v) for v in tower_losses], variable_device=variable_device,
                 segments=segments,
                 log_tower1=[line for line in lines if line.startswith("tower_1/MatMul:")],
                 log_apply=[line for line in lines if "update_w/ApplyGradientDescent:" in line])
    emit("tower_curves", one=curves[1], two=curves[2])


def _mlp(tf, seed: int = 1):
    tf.reset_default_graph()
    tf.set_random_seed(seed)
    x = tf.placeholder(tf.float32, [None, 8], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    h = tf.layers.dense(x, 16, tf.nn.relu)
    p = tf.layers.dense(h, 1)
    loss = tf.reduce_mean(tf.square(p - y))
    train = tf.train.AdamOptimizer(0.01).minimize(loss)
    return x, y, p, loss, train


def _curve(tf, sizes, layout_on: bool, uneven: str = "replicate", buckets=64):
    from lowering import executor
    tf.config.data_parallel(layout_on, uneven=uneven)
    tf.config.set_shape_buckets(buckets)
    try:
        x, y, p, loss, train = _mlp(tf)
        rng = np.random.RandomState(0)
        curve, facts = [], {}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for n in sizes:
                feed = {x: rng.normal(size=(n, 8)), y: rng.normal(size=(n, 1))}
                curve.append(float(sess.run([train, loss], feed)[1]))
            tf.config.set_shape_buckets(None)   # the exact-shape executable returns device arrays
            sess.run(p, feed)
            out = executor.runner_for(sess, p).run([feed[x].astype(np.float32), feed[y].astype(np.float32)])[0]
            facts = dict(prediction_devices=_devices_of(out), prediction_spec=str(getattr(out.sharding, "spec", "")),
                         kernel_devices=_devices_of(sess._state[[k for k in sess._state
                                                                 if isinstance(k, str) and "kernel" in k][0]]))
        return curve, facts
    finally:
        tf.config.data_parallel(False)
        tf.config.set_shape_buckets(64)


def data_parallel_checks(tf) -> None:
    sizes = [32] * 6
    one, _ = _curve(tf, sizes, False)
    four, facts = _curve(tf, sizes, True)
    emit("dp_curve", one=one, four=four, **facts)
    # exact shapes (no bucket padding), one batch of 30 rows: not divisible by 4
    uneven = [32, 32, 30, 32]
    one, _ = _curve(tf, uneven, False, buckets=None)
    replicated, _ = _curve(tf, uneven, True, buckets=None)
    emit("dp_uneven_replicate", one=one, four=replicated)
    try:
        _curve(tf, uneven, True, uneven="error", buckets=None)
        emit("dp_uneven_error", error=None)
    except tf.errors.InvalidArgumentError as e:
        emit("dp_uneven_error", error=e.message)
    # a tf.data pipeline's batches, produced inside the step, split too
    curves = {}
    for on in (False, True):
        tf.config.data_parallel(on)
        try:
            tf.reset_default_graph()
            tf.set_random_seed(3)
            rng = np.random.RandomState(1)
            data = tf.data.Dataset.from_tensor_slices((rng.normal(size=(64, 8)).astype(np.float32),
                                                       rng.normal(size=(64, 1)).astype(np.float32))).batch(16)
            xb, yb = data.make_one_shot_iterator().get_next()
            w = tf.get_variable("w", [8, 1], initializer=tf.glorot_uniform_initializer(seed=2))
            loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) - yb))
            train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                curves[on] = [float(sess.run([train, loss])[1]) for _ in range(4)]
        finally:
            tf.config.data_parallel(False)
    emit("dp_dataset", one=curves[False], four=curves[True])


def local_main() -> None:
    import graphcompat as tf
    emit("devices", logical=[d.name for d in tf.config.list_logical_devices()])
    placement_checks(tf)
    tower_checks(tf)
    data_parallel_checks(tf)


# ------------------------------------------------------------------------------------------------
# Two processes, 2 CPU devices each
# ------------------------------------------------------------------------------------------------
def distributed_main(port: int, process_id: int) -> None:
    if process_id == 1:   # the environment path: an unmodified program, connected at import
        os.environ.update(GRAPHCOMPAT_COORDINATOR=f"127.0.0.1:{port}", GRAPHCOMPAT_NUM_PROCESSES="2",
                          GRAPHCOMPAT_PROCESS_ID="1")
    import graphcompat as tf
    if process_id == 0:   # the API path, right after import
        tf.config.distributed(f"127.0.0.1:{port}", 2, 0, initialization_timeout=60)
    import jax
    rng = np.random.RandomState(0)
    batches = [(rng.normal(size=(16, 8)), rng.normal(size=(16, 1))) for _ in range(4)]

    def curve(parallel: bool):
        tf.config.data_parallel(parallel)
        x, y, p, loss, train = _mlp(tf)
        out = []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for xv, yv in batches:
                if parallel:  # this process's 8 rows of the global batch of 16
                    xv, yv = xv[8 * process_id: 8 * process_id + 8], yv[8 * process_id: 8 * process_id + 8]
                out.append(float(sess.run([train, loss], {x: xv, y: yv})[1]))
            rows = sess.run(p, {x: batches[0][0][8 * process_id: 8 * process_id + 8]}) if parallel else None
        tf.config.data_parallel(False)
        return out, rows

    # every device plan compiles in both runs (multi-process data parallel compiles everything: random
    # initializers then draw the compiled tier's bits, not the op-by-op tier's)
    tf.config.set_deterministic(True)
    reference, _ = curve(False)
    parallel, rows = curve(True)
    emit("distributed", process=jax.process_index(), processes=jax.process_count(),
         devices=len(jax.devices()), local=len(jax.local_devices()), reference=reference,
         parallel=parallel, local_rows=list(np.shape(rows)))


if __name__ == "__main__":
    if sys.argv[1] == "local":
        local_main()
    else:
        distributed_main(int(sys.argv[2]), int(sys.argv[3]))
