"""Checkpoints survive a crash at any instant of `Saver.save`.

Two save patterns: (a) the same prefix every time, (b) a new prefix per step (`global_step=`) with
`max_to_keep` deleting old ones. After a crash the `checkpoint` state file names only checkpoints that
exist and read back completely (graphcompat's reader and real TF's, with no recovery step), the
prefix holds the previous or the new values, and the next completed save leaves no debris.

- Deterministic: a hook at every step of the save protocol (`formats.durable.crash_point`) copies the
  directory, which is what a kill at that instant leaves on disk.
- Random: a subprocess saving in a loop is SIGKILLed at random instants, 30 times.
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import graphcompat as tf
from graphcompat.formats import BundleReader
from graphcompat.formats.durable import TEMPORARY_NAME, crash_hook

SIZE = 64
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _real_tf():
    """Real TensorFlow when installed (its reader must read our files as they are), else None."""
    try:
        from tests import oracle
        return oracle.tf1()
    except BaseException:  # pytest's Skipped when TensorFlow is absent
        return None


def _values(prefix: str) -> int:
    """The step a checkpoint holds, after checking that all of its tensors agree."""
    with BundleReader(prefix) as reader:
        step, v = int(reader.get_tensor("step")), reader.get_tensor("v")
    assert v.dtype == np.float32 and v.size and np.all(v == step), prefix
    return step


def check_directory(directory: str, allowed, real_tf=None) -> int:
    """Every checkpoint the state file names is complete; the newest holds one of `allowed` steps."""
    state = tf.train.get_checkpoint_state(directory)
    assert state is not None, os.listdir(directory)
    for path in set(state.all_model_checkpoint_paths) | {state.model_checkpoint_path}:
        assert tf.train.checkpoint_exists(path), (path, os.listdir(directory))
        _values(path)
    latest = tf.train.latest_checkpoint(directory)
    step = _values(latest)
    assert step in allowed, (step, allowed)
    if real_tf is not None:
        reader = real_tf.train.load_checkpoint(latest)
        assert reader.get_tensor("step") == step
        assert np.all(reader.get_tensor("v") == step)
    return step


def check_no_debris(directory: str) -> None:
    """No temporary files; every data file belongs to an index that uses its shard count."""
    names = os.listdir(directory)
    assert not [n for n in names if TEMPORARY_NAME.search(n)], names
    for name in names:
        match = re.search(r"\.data-\d{5}-of-(\d{5})$", name)
        if match:
            prefix = os.path.join(directory, name[:match.start()])
            with BundleReader(prefix) as reader:
                assert reader.num_shards == int(match.group(1)), names


class Trainer:
    """A graph with a variable `v` and a `step`, both set to k before the k-th save."""

    def __init__(self):
        self.v = tf.Variable(np.zeros(SIZE, np.float32), name="v")
        self.step = tf.Variable(np.int64(0), name="step")
        self.saver = tf.train.Saver(max_to_keep=2)
        self.sess = tf.Session()
        self.sess.run(tf.global_variables_initializer())

    def save(self, prefix: str, k: int, per_step: bool, saver=None) -> str:
        self.v.load(np.full(SIZE, k, np.float32), self.sess)
        self.step.load(k, self.sess)
        return (saver or self.saver).save(self.sess, prefix, global_step=k if per_step else None)


EXPECTED_STEPS = {"bundle: data files written", "bundle: data files renamed", "bundle: index written",
                  "bundle: index committed", "bundle: previous data files removed", "saver: meta graph written",
                  "saver: checkpoint state written"}


@pytest.mark.parametrize("per_step", [False, True], ids=["same prefix", "prefix per step"])
def test_a_crash_at_every_step_of_a_save_leaves_a_readable_checkpoint(tmp_path, monkeypatch, per_step):
    monkeypatch.chdir(tmp_path)  # relative paths: the `checkpoint` file stays valid in a copied directory
    os.mkdir("run")
    trainer = Trainer()
    for k in (1, 2, 3):
        trainer.save("run/model", k, per_step)
    snapshots = []

    def snapshot(step: str) -> None:
        snapshots.append(step)
        shutil.copytree("run", f"crash{len(snapshots)}")

    with crash_hook(snapshot):
        trainer.save("run/model", 4, per_step)  # pattern (b) also deletes model-2 here (max_to_keep=2)
    assert EXPECTED_STEPS <= set(snapshots)
    assert per_step == any(step.startswith("remove_checkpoint") for step in snapshots)
    real_tf = _real_tf()
    for i, step in enumerate(snapshots, 1):
        directory = f"crash{i}"
        check_directory(directory, {3, 4}, real_tf)
        # The process restarts and saves again: that save completes and clears the crash's debris.
        saver = tf.train.Saver(max_to_keep=2)
        trainer.save(f"{directory}/model", 5, per_step, saver)
        assert check_directory(directory, {5}) == 5, step
        check_no_debris(directory)
    check_directory("run", {4}, real_tf)
    check_no_debris("run")


WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    import graphcompat as tf
    directory, per_step, saves = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])  # saves: 0 = forever
    v = tf.Variable(np.zeros({size}, np.float32), name="v")
    step = tf.Variable(np.int64(0), name="step")
    saver = tf.train.Saver(max_to_keep=3)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    latest = tf.train.latest_checkpoint(directory)
    k = 1
    if latest:  # resume like a restarted training job
        saver.restore(sess, latest)
        k = int(sess.run(step)) + 1
    print("ready", flush=True)
    for _ in iter(int, 1) if not saves else range(saves):
        v.load(np.full({size}, k, np.float32), sess)
        step.load(k, sess)
        saver.save(sess, directory + "/model", global_step=k if per_step else None)
        print("saved", k, flush=True)
        k += 1
""").format(size=1 << 18)  # 1 MiB of data per save, so that kills land in every phase of a save


def _run_writer(directory: str, per_step: bool, kill_after: float | None) -> int:
    """Runs the writer: SIGKILLed `kill_after` seconds after it is ready, or (None) until it has saved
    once and exited. Returns its last completed step."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    saves = "0" if kill_after is not None else "1"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, directory, "1" if per_step else "0", saves],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        assert proc.stdout.readline().strip() == "ready"
        if kill_after is not None:
            time.sleep(kill_after)
            proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == (-signal.SIGKILL if kill_after is not None else 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Only complete lines count: a kill may cut the last one short ("saved" of "saved 12").
    saved = [int(line.split()[1]) for line in out.split("\n")[:-1] if line.startswith("saved ")]
    return saved[-1] if saved else 0


@pytest.mark.slow
@pytest.mark.parametrize("per_step", [False, True], ids=["same prefix", "prefix per step"])
def test_random_sigkills_never_lose_a_checkpoint(tmp_path, per_step):
    """8 kills per pattern (16 in all; each starts a process), each at a random instant of a loop of saves;
    TF loses about a third of such kills (new data file paired with the old index)."""
    rng = random.Random(1234 + per_step)
    real_tf = _real_tf()
    directory = str(tmp_path)
    last = 0
    for _ in range(8):
        completed = _run_writer(directory, per_step, kill_after=rng.uniform(0.0, 0.4))
        if not completed and not last:
            continue  # killed before its first save completed: nothing to check yet
        last = max(last, completed)
        # The kill may have come after a save committed but before it printed "saved".
        last = check_directory(directory, {last, last + 1}, real_tf)
    assert last > 0
    # A restarted writer completes one save: then nothing of the interrupted saves is left over.
    completed = _run_writer(directory, per_step, kill_after=None)
    assert completed == last + 1
    check_directory(directory, {completed}, real_tf)
    check_no_debris(directory)


@pytest.mark.oracle
def test_tensorflow_restores_a_resaved_two_shard_checkpoint(tmp_path):
    v1 = pytest.importorskip("tests.oracle").tf1()
    import tensorflow as real_tf
    trainer = Trainer()
    prefix = str(tmp_path / "model")
    trainer.save(prefix, 1, per_step=False)
    trainer.save(prefix, 2, per_step=False)  # the re-save: two data shards
    assert BundleReader(prefix).num_shards == 2
    graph = real_tf.Graph()
    with graph.as_default():
        with v1.variable_scope("", use_resource=False):
            v = v1.Variable(np.zeros(SIZE, np.float32), name="v")
            step = v1.Variable(np.int64(0), name="step")
        with v1.Session(graph=graph) as sess:
            v1.train.Saver().restore(sess, prefix)
            assert sess.run(step) == 2 and np.all(sess.run(v) == 2)
