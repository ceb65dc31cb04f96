"""Plans: eager first run, compile on recurrence, compile notice, stats, device placement."""
import io

import numpy as np
import pytest

import graphcompat as tf
from lowering import plan as plan_module
from lowering.executor import runner_for
from lowering import stats


class FakeTimer:
    """Stands in for threading.Timer: fires only when the test says the clock has passed."""
    instances = []

    def __init__(self, seconds, fn):
        self.seconds, self.fn, self.cancelled, self.daemon = seconds, fn, False, False
        FakeTimer.instances.append(self)

    def start(self):
        pass

    def cancel(self):
        self.cancelled = True


@pytest.fixture
def fake_timer(monkeypatch):
    FakeTimer.instances = []
    out = io.StringIO()
    monkeypatch.setattr(stats, "_timer_factory", FakeTimer)
    monkeypatch.setattr(stats, "notice_stream", out)
    return out


def test_one_off_fetch_runs_eagerly_and_recurring_fetch_compiles_once():
    tf.reset_stats()
    x = tf.placeholder(tf.float32, [2])
    y = x * 3.0
    with tf.Session() as sess:
        sess.run(y, {x: [1, 2]})
        s = tf.stats()
        assert (s["eager_runs"], s["compilations"]) == (1, 0)
        for _ in range(4):
            sess.run(y, {x: [1, 2]})
        s = tf.stats()
        assert (s["eager_runs"], s["compilations"], s["compiled_runs"]) == (1, 1, 3)
        assert s["plans_built"] == 1


def test_compile_notice_printed_only_when_the_timer_fires(fake_timer):
    x = tf.placeholder(tf.float32, [2])
    y = tf.reduce_sum(x * x)
    with tf.Session() as sess:
        sess.run(y, {x: [1, 2]})
        sess.run(y, {x: [1, 2]})  # compiles: a timer is armed, then cancelled
    assert len(FakeTimer.instances) == 1
    timer = FakeTimer.instances[0]
    assert timer.seconds == stats.notice_after_seconds and timer.cancelled
    assert fake_timer.getvalue() == ""
    timer.fn()  # as if the compile had outlived the threshold
    assert "graphcompat: compiling" in fake_timer.getvalue() and "Sum:0" in fake_timer.getvalue()


def test_compile_notice_can_be_turned_off(fake_timer, monkeypatch):
    monkeypatch.setattr(stats, "notice_after_seconds", None)
    x = tf.placeholder(tf.float32, [2])
    y = x + 1.0
    with tf.Session() as sess:
        sess.run(y, {x: [1, 2]})
        sess.run(y, {x: [1, 2]})
    assert FakeTimer.instances == []


def test_first_runs_of_plans_with_open_feeds(monkeypatch):
    """A small plan with an open feed compiles at once (its padded executable serves the next sizes);
    a large one runs op by op first, which costs a fraction of its compile, and compiles on its second."""
    monkeypatch.setattr(plan_module, "EAGER_FIRST_RUN_OPS", 10)
    x = tf.placeholder(tf.float32, [None])
    small = x * 1.5
    large = x
    for _ in range(10):
        large = large * 1.5 + 1.0
    with tf.Session() as sess:
        tf.reset_stats()
        sess.run(small, {x: np.ones(4)})
        assert tf.stats()["eager_runs"] == 0 and tf.stats()["compilations"] == 1
        tf.reset_stats()
        first = sess.run(large, {x: np.ones(4)})
        assert tf.stats()["eager_runs"] == 1 and tf.stats()["compilations"] == 0
        np.testing.assert_allclose(sess.run(large, {x: np.ones(4)}), first, rtol=1e-6)
        assert tf.stats()["compilations"] == 1


def test_device_recorded_and_soft_placed(capsys):
    with tf.device("/gpu:2"):
        a = tf.constant(1.0) * 2.0
    with tf.device("/cpu:0"):
        b = tf.constant(3.0)
    assert a.op.device == "/device:GPU:2" and b.op.device == "/device:CPU:0"
    with tf.device("/job:worker/task:1"):
        with tf.device("/device:GPU:0"):
            c = tf.constant(1.0)
    assert c.op.device == "/job:worker/task:1/device:GPU:0"
    config = tf.ConfigProto(log_device_placement=True, allow_soft_placement=True,
                            gpu_options=tf.GPUOptions(allow_growth=True))
    with tf.Session(config=config) as sess:
        assert sess.run(a) == 2.0  # no GPU 2 here: soft placement on the default device
        assert sess.run(b) == 3.0
    out = capsys.readouterr().out
    assert "mul: (Mul): /job:localhost/replica:0/task:0/device:" in out


def test_big_constants_are_passed_as_device_arguments():
    big = np.arange(5000, dtype=np.float32)
    c = tf.constant(big)
    y = tf.reduce_sum(c * 2.0)
    with tf.Session() as sess:
        for _ in range(3):
            assert sess.run(y) == pytest.approx(2 * big.sum())
        assert c in runner_for(sess, y).plan.hoisted


def test_out_of_range_gather_raises_in_compiled_runs_and_changes_nothing():
    table = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3), name="table")
    ids = tf.placeholder(tf.int32, [None])
    rows = tf.gather(table, ids)
    train = tf.train.GradientDescentOptimizer(0.5).minimize(tf.reduce_sum(rows))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):  # first run and compiled runs alike
            sess.run(train, {ids: [0, 1]})
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 4 is not in \[0, 4\)"):
                sess.run(train, {ids: [0, 4]})
        expected = np.arange(12, dtype=np.float32).reshape(4, 3)
        expected[:2] -= 1.5
        np.testing.assert_allclose(sess.run(table), expected)


def test_cache_hits_count_runs_served_by_an_existing_plan():
    x = tf.placeholder(tf.float32, [])
    y = x * 2.0
    tf.reset_stats()
    with tf.Session() as sess:
        for i in range(5):
            sess.run(y, {x: float(i)})
        sess.run([y], {x: 1.0})
    s = tf.stats()
    # `[y]` prunes to the same ops as `y`: served by the first plan (no second compile)
    assert s["plans_built"] == 1 and s["cache_hits"] == 5


def test_training_loop_signature_takes_the_hot_path():
    x = tf.placeholder(tf.float32, [])
    w = tf.Variable(1.0)
    loss = tf.square(w * x)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.reset_stats()
        for i in range(4):
            sess.run([train, loss], {x: np.float32(i)})
        s = tf.stats()
        # one signature, one plan, compiled on its first run (a training step), then one lookup per run
        assert (s["plans_built"], s["cache_hits"], s["compilations"], s["compiled_runs"]) == (1, 3, 1, 3)


@pytest.mark.oracle
@pytest.mark.parametrize("use_resource", [False, True], ids=["ref", "resource"])
def test_control_dependency_on_a_fed_placeholder_is_satisfied_by_the_feed(use_resource):
    """TF moves a fed Placeholder's control edges to the feed: `tf.metrics.mean(x)` of a float32
    placeholder (its count update waits on `x`) runs with `x` fed on every run, compiled or not, and
    still asks for `x` when it is not fed (was: "You must feed a value for placeholder" although fed)."""
    from tests import oracle
    v1 = oracle.tf1()
    results = {}
    for lib in (tf, v1):
        graph = lib.Graph()
        with graph.as_default(), lib.variable_scope("", use_resource=use_resource):
            x = lib.placeholder(lib.float32, [None])
            with lib.control_dependencies([x]):
                one = lib.identity(lib.constant(1.0))
            value, update = lib.metrics.mean(x)
            with lib.Session(graph=graph) as sess:
                sess.run(lib.local_variables_initializer())
                got = [sess.run([one, update], {x: [1.0, 2.0 * k]}) for k in range(3)] + [sess.run(value)]
                with pytest.raises(lib.errors.InvalidArgumentError, match="must feed a value for placeholder"):
                    sess.run(one)
        results[lib] = got
    for got, want in zip(results[tf], results[v1]):
        np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64), rtol=1e-6)
