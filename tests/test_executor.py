"""The executor's contract: feeds checked on every run, atomic failed runs, async dispatch, tiers."""
import sys

import numpy as np
import pytest

import graphcompat as tf
from lowering import executor


@pytest.fixture
def async_dispatch():
    executor.set_async_dispatch(True)
    yield
    executor.set_async_dispatch(None)


def test_every_feed_is_converted_and_checked_on_every_run():
    x = tf.placeholder(tf.float32, [3])
    y = x * 2.0
    good = np.arange(3, dtype=np.float64)
    bad = [np.ones(2), np.ones((3, 3)), np.ones(5), np.ones(2, np.float32)]
    with tf.Session() as sess:
        for i in range(5):  # op by op first, compiled later: the same checks each time
            got = sess.run(y, {x: good})
            assert got.dtype == np.float32 and got.tolist() == [0.0, 2.0, 4.0]
            value = bad[i % len(bad)]
            with pytest.raises(ValueError, match=rf"Cannot feed value of shape \({value.shape[0]},"):
                sess.run(y, {x: value})
            assert sess.run([y], {x: [1, 1, 1]})[0].dtype == np.float32


def test_fetching_a_fed_tensor_returns_the_fed_value_as_an_ndarray():
    s = tf.placeholder(tf.float32, [])
    with tf.Session() as sess:
        for value in (3.0, np.float64(3.0), np.array(3.0)):
            fed = sess.run(s, {s: value})
            assert type(fed) is np.ndarray and fed.shape == () and fed.dtype == np.float32
        computed = sess.run(s * 1.0, {s: 3.0})
        assert type(computed) is np.float32


def _assert_after_update():
    v = tf.Variable(1.0, name="v")
    x = tf.placeholder(tf.float32, [])
    with tf.control_dependencies([tf.assign_add(v, 1.0)]):
        with tf.control_dependencies([tf.Assert(x > 0, [x])]):
            out = tf.identity(v)
    return out, {x: -1.0}, {x: 1.0}


def _sparse_adam_bad_index():
    table = tf.Variable(np.ones((4, 2), np.float32), name="table")
    ids = tf.placeholder(tf.int32, [None])
    train = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_sum(tf.gather(table, ids)))
    return train, {ids: [0, 7]}, {ids: [0, 1]}


def _nan_histogram_after_update():
    w = tf.Variable(1.0, name="w")
    x = tf.placeholder(tf.float32, [None])
    with tf.control_dependencies([tf.assign_add(w, 1.0)]):
        summary = tf.summary.histogram("h", x * w)
    return summary, {x: [1.0, np.nan]}, {x: [1.0, 2.0]}


def _scatter_then_failing_gather():
    table = tf.Variable(np.zeros((3, 2), np.float32), name="table")
    ids = tf.placeholder(tf.int32, [None])
    update = tf.scatter_add(table, [0], [[1.0, 1.0]])
    with tf.control_dependencies([update]):
        out = tf.gather(tf.constant(np.ones((3, 2), np.float32)), ids)
    return out, {ids: [5]}, {ids: [1]}


def _assign_beside_a_failing_gather():
    # the assign never reads v: the compiled step must still take v's old value in, to keep it on failure
    v = tf.Variable(1.0, name="v")
    x = tf.placeholder(tf.float32, [])
    ids = tf.placeholder(tf.int32, [])
    return [tf.assign(v, x).op, tf.gather(tf.constant([1.0, 2.0]), ids)], {x: 100.0, ids: 7}, {x: 5.0, ids: 1}


def _scatter_update_beside_a_failing_gather():
    table = tf.Variable(np.zeros((3, 2), np.float32), name="table")
    ids = tf.placeholder(tf.int32, [])
    update = tf.scatter_update(table, [1], [[7.0, 7.0]])
    return [update.op, tf.gather(tf.constant([1.0, 2.0]), ids)], {ids: 7}, {ids: 1}


@pytest.mark.parametrize("build", [_assert_after_update, _sparse_adam_bad_index, _nan_histogram_after_update,
                                   _scatter_then_failing_gather, _assign_beside_a_failing_gather,
                                   _scatter_update_beside_a_failing_gather])
def test_a_failed_run_changes_no_variable(build):
    fetch, bad_feed, good_feed = build()
    variables = tf.global_variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(fetch, good_feed)
        for _ in range(4):  # op by op and compiled runs alike
            before = sess.run(variables)
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(fetch, bad_feed)
            for old, new in zip(before, sess.run(variables)):
                np.testing.assert_array_equal(old, new)
            sess.run(fetch, good_feed)


def test_an_iterator_advances_past_a_failed_run_as_in_tf():
    """Hidden state (iterator positions, RNG streams) advances as far as TF's ops ran: a bad element is
    skipped by a program that catches the error, not served again."""
    value = tf.data.Dataset.from_tensor_slices(np.array([1.0, -1.0, 2.0, -3.0, 4.0], np.float32)) \
        .make_one_shot_iterator().get_next()
    with tf.control_dependencies([tf.Assert(value > 0, [value])]):
        out = tf.identity(value)
    got = []
    with tf.Session() as sess:
        for _ in range(5):
            try:
                got.append(float(sess.run(out)))
            except tf.errors.InvalidArgumentError:
                got.append(None)
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(out)
    assert got == [1.0, None, 2.0, None, 4.0]


def test_async_runs_report_a_failed_check_at_the_next_run_that_reads_values(async_dispatch):
    table = tf.Variable(np.ones((4, 2), np.float32), name="table")
    ids = tf.placeholder(tf.int32, [None])
    train = tf.train.GradientDescentOptimizer(1.0).minimize(tf.reduce_sum(tf.gather(table, ids)))
    with tf.Session() as sess:
        sess.run(table.initializer)
        sess.run(train, {ids: [0]})
        sess.run(train, {ids: [0]})                # compiled from now on
        assert sess.run(train, {ids: [9]}) is None  # dispatched; its check is read later
        sess.run(train, {ids: [1]})                # an op-only run does not wait either
        with pytest.raises(tf.errors.InvalidArgumentError, match="earlier asynchronous run"):
            sess.run(table)
        expected = np.ones((4, 2), np.float32)
        expected[0] -= 2.0
        expected[1] -= 1.0                         # the bad step changed nothing; the next one ran
        np.testing.assert_array_equal(sess.run(table), expected)


def test_deterministic_mode_compiles_one_off_fetches(monkeypatch):
    monkeypatch.setattr(executor.config, "deterministic", True)
    tf.reset_stats()
    x = tf.constant([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(x * 3.0)
    s = tf.stats()
    assert s["eager_runs"] == 0 and s["compilations"] == 1


def test_shape_recompiles_are_counted_per_signature(monkeypatch):
    monkeypatch.setattr(executor.config, "buckets", None)  # exact shapes: one compile per size
    tf.reset_stats()
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.reduce_sum(x * 2.0, name="total")
    with tf.Session() as sess:
        for n in (1, 2, 3, 2, 1):
            assert sess.run(y, {x: np.ones((n, 2))}) == 4.0 * n
    s = tf.stats()
    assert s["signatures"]["total:0"] == {"shapes": 3, "compiles": 3, "padded": 0}
    assert s["compilations"] == 3 and s["shape_recompiles"] == 2


def test_a_training_loop_that_changes_shape_leaves_its_steady_step_for_the_general_path(monkeypatch):
    # the steady step (one closure per signature) does not check feed shapes itself: jax finds that it has
    # no executable for a new one, and that run takes the general path, which compiles and counts it
    monkeypatch.setattr(executor.config, "buckets", None)
    tf.reset_stats()
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable(np.ones((2, 1), np.float32))
    loss = tf.reduce_sum(tf.matmul(x, w), name="loss")
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    expected_w = np.ones((2, 1), np.float32)
    with tf.Session() as sess:
        sess.run(w.initializer)
        for n in (2, 2, 2, 3, 3, 2, 3):
            feed = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
            _, value = sess.run([train, loss], {x: feed})
            assert value == pytest.approx(float((feed @ expected_w).sum()))
            expected_w -= 0.5 * feed.sum(axis=0, keepdims=True).T
        np.testing.assert_allclose(sess.run(w), expected_w)
    s = tf.stats()
    assert s["signatures"]["loss:0"] == {"shapes": 2, "compiles": 2, "padded": 0}


def test_a_graph_built_again_is_not_a_new_shape(monkeypatch, capsys):
    # a notebook cell run again: a new graph and Session with the same names and shapes compiles again,
    # which is counted, but it is not a shape recompile and never triggers the "keeps recompiling" notice
    from lowering import stats
    monkeypatch.setattr(stats, "recompile_warning_after", 3)
    monkeypatch.setattr(stats, "notice_stream", sys.stdout)
    tf.reset_stats()
    for _ in range(4):
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, [2], name="x")
            total = tf.reduce_sum(x * 2.0, name="total")
            with tf.Session() as sess:
                for _ in range(2):
                    assert sess.run(total, {x: np.ones(2)}) == 4.0
    s = tf.stats()
    assert s["signatures"]["total:0"]["shapes"] == 1 and s["shape_recompiles"] == 0
    assert "different feed shapes" not in capsys.readouterr().out


_CACHED_PROGRAM = """
import json, numpy as np, graphcompat as tf
x = tf.placeholder(tf.float32, [None, 3])
w = tf.Variable(np.ones((3, 2), np.float32))
loss = tf.reduce_mean(tf.square(tf.matmul(x, w)))
train = tf.train.AdamOptimizer(0.1).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(3):
        sess.run([train, loss], {x: np.ones((4, 3))})
from lowering import compile_cache
print(json.dumps({"stats": tf.stats(), "dir": compile_cache.directory}))
"""


def _run_program(env_dir):
    import json
    import os
    import subprocess
    import sys
    env = dict(os.environ, GRAPHCOMPAT_COMPILATION_CACHE=str(env_dir))
    out = subprocess.run([sys.executable, "-c", _CACHED_PROGRAM], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


@pytest.mark.slow
def test_a_second_process_loads_what_the_first_compiled(tmp_path):
    cache = tmp_path / "xla"
    first, _ = _run_program(cache)
    second, _ = _run_program(cache)
    assert first["dir"] == str(cache) and oct(cache.stat().st_mode & 0o777) == "0o700"
    assert first["stats"]["compilations"] >= 1 and first["stats"]["disk_cache_hits"] == 0
    assert second["stats"]["disk_cache_hits"] == second["stats"]["compilations"] == first["stats"]["compilations"]


@pytest.mark.slow
def test_a_cache_directory_others_can_write_is_refused(tmp_path):
    cache = tmp_path / "shared"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    result, stderr = _run_program(cache)
    assert result["dir"] is None and "not private to this user" in stderr
    off, _ = _run_program("0")
    assert off["dir"] is None


def test_hidden_state_and_scalar_feeds_do_not_retrace():
    x = tf.placeholder(tf.float32, [3])
    y = x + tf.random_normal([3])
    s = tf.placeholder(tf.float32, [])
    doubled = s * 2.0
    with tf.Session() as sess:
        for _ in range(4):  # the RNG counter starts on the host and comes back from the device
            sess.run(y, {x: np.ones(3, np.float32)})
        for value in (np.float32(1), 2.0, np.array(3, np.float32), np.float64(4), 5):
            sess.run(doubled, {s: value})
        assert executor.executable_counts(sess) == [1, 1]


def test_iterator_steps_do_not_retrace_after_initialization():
    # an iterator's position and seed start as the step leaves them (device scalars): one executable for
    # a one-shot iterator's steps and for every epoch of an initializable one
    batches = tf.data.Dataset.from_tensor_slices(np.arange(40, dtype=np.float32)).batch(4)
    one_shot = tf.reduce_sum(batches.make_one_shot_iterator().get_next())
    iterator = batches.make_initializable_iterator()
    epoch = tf.reduce_sum(iterator.get_next())
    with tf.Session() as sess:
        for _ in range(3):
            sess.run(one_shot)
        for _ in range(2):
            sess.run(iterator.initializer)
            for _ in range(3):
                sess.run(epoch)
        assert executor.executable_counts(sess)[-2:] == [1, 1]


def test_reinitializing_an_iterator_compiles_nothing_and_keeps_its_device_data():
    # the initializer's device part is constants and a handle: op by op, the same arrays every epoch, so the
    # iterator's device copies of them are kept (no compiled copy of the constants, no new transfer)
    rows = np.arange(12, dtype=np.float32)
    iterator = tf.data.Dataset.from_tensor_slices((rows, rows * 2)).batch(4).make_initializable_iterator()
    x, y = iterator.get_next()
    total = tf.reduce_sum(x + y)
    with tf.Session() as sess:
        sess.run(iterator.initializer)
        key = ("iterator_data", iterator.initializer.inputs[1].op.name)
        data = sess._session_state.values[key]
        before = tf.stats()
        for _ in range(3):
            sess.run(iterator.initializer)
            assert [sess.run(total) for _ in range(3)] == [18.0, 66.0, 114.0]
            with pytest.raises(tf.errors.OutOfRangeError):
                sess.run(total)
        after = tf.stats()
        assert all(a is b for a, b in zip(sess._session_state.values[key], data)) and len(data) == 2
        assert after["compilations"] - before["compilations"] <= 1  # the epoch's step, nothing per epoch
        assert after["eager_runs"] - before["eager_runs"] >= 3      # the initializer, op by op, each epoch
