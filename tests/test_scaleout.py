"""Scale-out: tf.config, tf.device placement, data parallelism, multi-process runs, TF1's distributed names.

Checks that need 4 devices or 2 processes run tests/scaleout_worker.py in subprocesses
(XLA_FLAGS=--xla_force_host_platform_device_count=N); the rest runs here, on this process's one device.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _worker(args, devices: int, timeout: int = 240, env_extra=None) -> subprocess.Popen:
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("GRAPHCOMPAT_DATA_PARALLEL", None)
    env.update(env_extra or {})
    return subprocess.Popen([sys.executable, "-m", "tests.scaleout_worker", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _checks(proc: subprocess.Popen, timeout: int = 240) -> dict:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"scale-out worker timed out\n{out}\n{err[-3000:]}")
    assert proc.returncode == 0, f"worker failed\n{out}\n{err[-3000:]}"
    return {c["check"]: c for c in (json.loads(line) for line in out.splitlines() if line.startswith("{"))}


@pytest.fixture(scope="module")
def four_devices() -> dict:
    """One subprocess with 4 CPU devices runs every local check (tests/scaleout_worker.py local)."""
    return _checks(_worker(["local"], 4))


def _close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# ------------------------------------------------------------------------------------------------
# Placement (4 devices)
# ------------------------------------------------------------------------------------------------
def test_ops_run_on_the_device_tf_device_names(four_devices):
    facts = four_devices["placement"]
    assert facts["values"] == [[0, 2, 4], [1, 3, 5], [1, 3, 5]]
    # a on CPU:1, b on CPU:2, c (no device) on the default device CPU:0; a plan of them runs placed
    assert facts["devices"] == [[1], [2], [0]] and facts["placed"]
    # a plan whose ops name one device compiles for that device
    assert facts["a_alone"] == [1] and facts["single"] == [0, 2, 4]
    assert four_devices["devices"]["logical"] == [f"/device:CPU:{i}" for i in range(4)]


def test_placed_runs_that_fail_a_check_change_nothing(four_devices):
    facts = four_devices["placed_check"]
    assert facts["outcomes"] == [2.0, [2.0, 3.0, 4.0], 4.0, [3.0, 4.0, 5.0],
                                 "indices = 7 is not in [0, 3)", [3.0, 4.0, 5.0], 6.0, [4.0, 5.0, 6.0]]
    assert facts["segments"] == 2   # from its second run the plan runs as two per-device jitted segments


def test_missing_device_without_soft_placement_raises_tfs_error(four_devices):
    message = four_devices["hard_placement"]["error"]
    available = ", ".join(f"/job:localhost/replica:0/task:0/device:CPU:{i}" for i in range(4))
    assert message == ("Cannot assign a device for operation y: {{node y}} was explicitly assigned to "
                       f"/device:CPU:7 but available devices are [ {available} ]. Make sure the device "
                       "specification refers to a valid device.")
    assert four_devices["soft_placement"]["value"] == 1.0


def test_two_towers_on_two_devices_train_as_one_device(four_devices):
    facts = four_devices["towers"]
    assert facts["tower_devices"] == [[1], [2]]     # each tower's loss computed on its own device
    assert facts["variable_device"] == [0]          # variables and their update stay on CPU:0
    # shared inputs (CPU:0), tower 0 (CPU:1), tower 1 (CPU:2), averaging and update (CPU:0), each jitted
    assert facts["segments"] == 4
    assert facts["log_tower1"] == ["tower_1/MatMul: (MatMul): /job:localhost/replica:0/task:0/device:CPU:2"]
    assert facts["log_apply"] == ["GradientDescent/update_w/ApplyGradientDescent: (ApplyGradientDescent): "
                                  "/job:localhost/replica:0/task:0/device:CPU:0"]
    curves = four_devices["tower_curves"]
    _close(curves["two"], curves["one"])
    assert curves["one"][0] != curves["one"][-1]


# ------------------------------------------------------------------------------------------------
# Data parallel (4 devices)
# ------------------------------------------------------------------------------------------------
def test_data_parallel_training_equals_one_device(four_devices):
    facts = four_devices["dp_curve"]
    _close(facts["four"], facts["one"])
    assert facts["prediction_devices"] == [0, 1, 2, 3] and facts["prediction_spec"] == "P('batch',)"
    assert facts["kernel_devices"] == [0, 1, 2, 3]     # variables replicated on every device


def test_data_parallel_dataset_batches_equal_one_device(four_devices):
    facts = four_devices["dp_dataset"]
    _close(facts["four"], facts["one"])


def test_uneven_batch_runs_replicated_or_raises(four_devices):
    facts = four_devices["dp_uneven_replicate"]
    _close(facts["four"], facts["one"])      # no row dropped: the 30-row step gives the same numbers
    message = four_devices["dp_uneven_error"]["error"]
    assert message.startswith("Data parallel: the batch of 30 rows fed to x:0 cannot be split evenly over "
                              "4 devices. Feed a multiple of 4 rows")


# ------------------------------------------------------------------------------------------------
# Two processes through jax.distributed
# ------------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_train_data_parallel_as_one():
    port = _free_port()
    procs = [_worker(["distributed", str(port), str(i)], 2) for i in range(2)]
    results = [_checks(p, timeout=180)["distributed"] for p in procs]
    for i, facts in enumerate(results):
        assert facts["process"] == i and facts["processes"] == 2
        assert facts["devices"] == 4 and facts["local"] == 2
        _close(facts["parallel"], facts["reference"])
        assert facts["local_rows"] == [8, 1]   # a batch-sharded fetch returns this process's rows
    assert results[0]["parallel"] == results[1]["parallel"]


# ------------------------------------------------------------------------------------------------
# In this process: config, device strings, TF1's distributed names
# ------------------------------------------------------------------------------------------------
def test_config_module_delegates_to_the_executor():
    from lowering import executor
    tf.config.set_deterministic(True)
    try:
        assert executor.config.deterministic
    finally:
        tf.config.set_deterministic(False)
    tf.config.set_shape_buckets(128)
    try:
        assert executor.config.buckets.size(3) == 128
    finally:
        tf.config.set_shape_buckets(64)
    tf.config.set_async_dispatch(True)
    try:
        assert executor.config.async_dispatch is True
    finally:
        tf.config.set_async_dispatch(None)
    layout = tf.config.data_parallel()
    try:
        assert tf.config.get_data_parallel() is layout and len(layout.devices) == len(__import__("jax").devices())
    finally:
        assert tf.config.data_parallel(False) is None
    assert tf.config.get_data_parallel() is None
    with pytest.raises(ValueError, match="uneven must be one of"):
        tf.config.data_parallel(uneven="drop")


def test_device_queries_answer_as_tf():
    assert tf.config.list_logical_devices("CPU")[0] == tf.config.LogicalDevice("/device:CPU:0", "CPU")
    physical = tf.config.experimental.list_physical_devices("CPU")
    assert physical[0].name == "/physical_device:CPU:0" and physical[0].device_type == "CPU"
    assert tf.config.list_physical_devices("GPU") == [] or tf.config.list_physical_devices("GPU")[0].device_type == "GPU"
    with pytest.raises(ValueError, match="Cannot set memory growth on non-GPU"):
        tf.config.experimental.set_memory_growth(physical[0], True)
    with pytest.raises(NotImplementedError, match="CUDA_VISIBLE_DEVICES"):
        tf.config.set_visible_devices([], "GPU")
    with tf.Session() as sess:
        names = [d.name for d in sess.list_devices()]
    assert names[0] == "/job:localhost/replica:0/task:0/device:CPU:0"


def test_distributed_after_the_backend_started_says_how_to_launch():
    tf.constant(1.0) + 1.0   # builds ops: JAX's backend is running
    with tf.Session():
        pass
    with pytest.raises(RuntimeError, match="GRAPHCOMPAT_COORDINATOR"):
        tf.config.distributed("127.0.0.1:1", 2, 0)


@pytest.mark.oracle
@pytest.mark.parametrize("spec", ["/foo:0", "/gpu:a", "/cpu:1:2", "cpu:x", "/device:CPU:1:2", "/job:w/task:x",
                                  "/cpu:0/gpu:1", "xla_gpu:0", "/device:CPU:1", "GPU", "/tpu:0", "/device:tpu:0",
                                  "/device:gpu:*", "/job:w/task:1/job:v", "//cpu:0", "/CPU:1"])
def test_device_strings_parse_or_fail_as_tf(spec):
    def outcome(module):
        g = module.Graph()
        try:
            with g.as_default(), module.device(spec):
                return ("ok", module.constant(1.0).op.device)
        except ValueError as e:
            return ("error", str(e))
    assert outcome(tf) == outcome(oracle.tf1())


@pytest.mark.oracle
def test_hard_placement_error_matches_tf():
    def message(module):
        g = module.Graph()
        with g.as_default():
            x = module.placeholder(module.float32, [], name="x")
            with module.device("/device:CPU:3"):
                y = module.identity(x, name="y")
            try:
                with module.Session(graph=g) as sess:
                    sess.run(y, {x: 1.0})
            except module.errors.InvalidArgumentError as e:
                return type(e).__name__, e.message.strip().splitlines()[-2 if module is not tf else -1].strip()
        return None
    ours, theirs = message(tf), message(oracle.tf1())
    assert ours == theirs


@pytest.mark.oracle
def test_cluster_spec_and_replica_device_setter_record_tfs_devices():
    def build(module):
        cluster = module.train.ClusterSpec({"ps": ["h0:1", "h1:1"], "worker": ["w0:1", "w1:1", "w2:1"]})
        facts = [cluster.as_dict(), cluster.num_tasks("worker"), cluster.task_address("ps", 1),
                 cluster.job_tasks("ps"), cluster.jobs, module.train.replica_device_setter()]
        g = module.Graph()
        with g.as_default(), module.device(module.train.replica_device_setter(
                cluster=cluster, worker_device="/job:worker/task:1")):
            a = module.Variable(1.0, name="a")
            b = module.Variable(2.0, name="b")
            c = module.Variable(3.0, name="c")
            d = a + b
            with module.device("/gpu:0"):
                e = d * c
        return facts, [v.op.device for v in (a, b, c)], d.op.device, e.op.device
    assert build(tf) == build(oracle.tf1())
    with pytest.raises(ValueError, match="No such job in cluster: 'chief'"):
        tf.train.ClusterSpec({"ps": ["h:1"]}).num_tasks("chief")


def test_server_says_what_to_use_instead():
    with pytest.raises(NotImplementedError, match=r"tf.train.Server: .*graphcompat.config.distributed"):
        tf.train.Server(tf.train.ClusterSpec({"worker": ["localhost:2222"]}), job_name="worker", task_index=0)


def test_replica_device_setter_graph_runs_with_soft_placement():
    with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
        v = tf.Variable(2.0, name="v")
        out = v * 3.0
    assert v.op.device == "/job:ps/task:0" and out.op.device == "/job:worker"
    with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(out) == 6.0
    with pytest.raises(tf.errors.InvalidArgumentError, match="was explicitly assigned to /job:(ps|worker)"):
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())


def test_one_tower_split_and_unstack_of_one_element_on_both_tiers():
    # TF1 tower code splits the batch by the GPU count: with one GPU that is tf.split(x, 1)
    x = tf.placeholder(tf.float32, [None, 2])
    w = tf.Variable([[1.0], [2.0]])
    (part,) = tf.split(x, 1)
    (sized,) = tf.split(x, [3])
    (row,) = tf.unstack(tf.ones([1, 2]))
    loss = tf.reduce_sum(tf.matmul(part, w)) + tf.reduce_sum(sized) + tf.reduce_sum(row)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    feed = {x: np.arange(6, dtype=np.float32).reshape(3, 2)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [float(sess.run([train, loss], feed)[1]) for _ in range(3)]
        assert sess.run(part, feed).shape == (3, 2) and sess.run(row).tolist() == [1.0, 1.0]
    # loss = sum(x @ w) + 15 + 2, w -= 0.1 * column sums of x (6, 9) each step
    assert losses == pytest.approx([17 + 6 * 1 + 9 * 2, 17 + 6 * 0.4 + 9 * 1.1, 17 + 6 * -0.2 + 9 * 0.2])
