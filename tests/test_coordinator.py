"""tf.train.Coordinator, LooperThread and QueueRunner: TF's stop/join/exception semantics, bounded in time."""
import threading

import numpy as np
import pytest

import graphcompat as tf
from tests.threads import join_all, wait_until


# ------------------------------------------------------------------------------------------------
# Coordinator
# ------------------------------------------------------------------------------------------------
def test_request_stop_and_join_reraise_the_first_reported_exception():
    coord = tf.train.Coordinator()

    def worker(message):
        with coord.stop_on_exception():
            raise RuntimeError(message)
    threads = [threading.Thread(target=worker, args=(m,)) for m in ("first", "second")]
    threads[0].start()
    threads[0].join(10)
    threads[1].start()
    assert coord.should_stop()
    with pytest.raises(RuntimeError, match="first"):
        coord.join(threads, stop_grace_period_secs=10)
    assert coord.joined
    with pytest.raises(RuntimeError, match="first"):
        coord.raise_requested_exception()


def test_clean_stop_exceptions_are_not_reraised():
    coord = tf.train.Coordinator()
    try:
        raise tf.errors.OutOfRangeError(None, None, "done")
    except tf.errors.OutOfRangeError as e:
        coord.request_stop(e)
    coord.join([], stop_grace_period_secs=1)
    custom = tf.train.Coordinator(clean_stop_exception_types=[ValueError])
    try:
        raise ValueError("fine")
    except ValueError as e:
        custom.request_stop(e)
    custom.join([], stop_grace_period_secs=1)


def test_request_stop_outside_except_block_reports_value_error_like_tf():
    coord = tf.train.Coordinator()
    coord.request_stop(RuntimeError("not being handled"))
    with pytest.raises(ValueError, match="ex must be a tuple or sys.exc_info must return the current exception"):
        coord.join([], stop_grace_period_secs=1)


def test_join_reports_stragglers_after_the_grace_period():
    coord = tf.train.Coordinator()
    release = threading.Event()
    straggler = threading.Thread(target=lambda: release.wait(30), name="slowpoke", daemon=True)
    straggler.start()
    coord.register_thread(straggler)
    coord.request_stop()
    with pytest.raises(RuntimeError, match="Coordinator stopped with threads still running: slowpoke"):
        coord.join(stop_grace_period_secs=0.05)
    coord.clear_stop()
    coord.register_thread(straggler)
    coord.request_stop()
    coord.join(stop_grace_period_secs=0.05, ignore_live_threads=True)  # only logged
    release.set()
    join_all([straggler])


def test_request_stop_after_join_raises_the_new_exception():
    coord = tf.train.Coordinator()
    coord.request_stop()
    coord.join([])
    try:
        raise KeyError("late")
    except KeyError as e:
        with pytest.raises(KeyError, match="late"):
            coord.request_stop(e)


def test_clear_stop_allows_reuse_and_wait_for_stop_times_out():
    coord = tf.train.Coordinator()
    assert not coord.wait_for_stop(0.01)
    coord.request_stop()
    assert coord.wait_for_stop(0.01)
    coord.clear_stop()
    assert not coord.should_stop()


def test_looper_thread_runs_target_until_stop():
    coord = tf.train.Coordinator()
    calls = []
    looper = tf.train.LooperThread.loop(coord, 0.01, target=calls.append, args=(1,))
    wait_until(lambda: len(calls) >= 3)
    coord.request_stop()
    coord.join([looper], stop_grace_period_secs=10)
    with pytest.raises(ValueError, match="'coord' argument must be a Coordinator"):
        tf.train.LooperThread(object(), 1)
    with pytest.raises(ValueError, match="'args' and 'kwargs' argument require that you also pass 'target'"):
        tf.train.LooperThread(coord, 1, args=(1,))


def test_looper_thread_exception_requests_stop():
    coord = tf.train.Coordinator()

    def boom():
        raise ValueError("looper failed")
    looper = tf.train.LooperThread.loop(coord, None, target=boom)
    with pytest.raises(ValueError, match="looper failed"):
        coord.join([looper], stop_grace_period_secs=10)


# ------------------------------------------------------------------------------------------------
# QueueRunner
# ------------------------------------------------------------------------------------------------
def _counting_runner(limit, num_threads=1, capacity=4):
    """A queue fed by threads that enqueue 0, 1, … until a counter variable hits `limit`."""
    counter = tf.Variable(0, dtype=tf.int64, trainable=False, collections=[tf.GraphKeys.LOCAL_VARIABLES])
    q = tf.FIFOQueue(capacity, tf.int64, shapes=[[]])
    enq = q.enqueue(counter.count_up_to(limit))
    qr = tf.train.QueueRunner(q, [enq] * num_threads)
    tf.train.add_queue_runner(qr)
    return q, qr


def test_queue_runner_threads_close_the_queue_when_input_ends():
    q, qr = _counting_runner(5)
    out = q.dequeue()
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        assert [t.name for t in threads] == ["QueueRunnerThread-fifo_queue-fifo_queue_enqueue",
                                             "QueueRunnerThread-fifo_queue-close_on_stop"]
        assert [sess.run(out) for _ in range(5)] == [0, 1, 2, 3, 4]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(out)  # the runner hit OutOfRange (Reached limit), closed the queue, and it drained
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)


def test_queue_runner_with_several_threads_enqueues_every_value_once():
    q, qr = _counting_runner(40, num_threads=3)
    out = q.dequeue_up_to(100)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = qr.create_threads(sess, coord=coord, start=True)
        assert len(threads) == 4
        assert qr.create_threads(sess, coord=coord) == []  # already running for this session
        values = []
        while True:
            try:
                values.extend(sess.run(out).tolist())
            except tf.errors.OutOfRangeError:
                break
        assert sorted(values) == list(range(40))
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)


def test_stop_request_cancels_blocked_enqueues():
    q, qr = _counting_runner(10 ** 6, capacity=2)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = qr.create_threads(sess, coord=coord, daemon=True, start=True)
        wait_until(lambda: sess.run(q.size()) == 2)  # the enqueue thread now blocks on a full queue
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)  # the close_on_stop thread cancelled the enqueue


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_queue_runner_errors_without_coordinator_are_recorded():
    q = tf.FIFOQueue(2, tf.float32, shapes=[[]])
    x = tf.placeholder(tf.float32, [])
    qr = tf.train.QueueRunner(q, [q.enqueue(x)])
    with tf.Session() as sess:
        # the placeholder is never fed: the runner's run fails at once (and, as in TF, the thread re-raises)
        threads = qr.create_threads(sess, start=True, daemon=True)
        join_all(threads)
        assert len(qr.exceptions_raised) == 1
        assert isinstance(qr.exceptions_raised[0], tf.errors.InvalidArgumentError)


def test_queue_runner_errors_with_coordinator_request_stop():
    q = tf.FIFOQueue(2, tf.float32, shapes=[[]])
    x = tf.placeholder(tf.float32, [])
    qr = tf.train.QueueRunner(q, [q.enqueue(x)])
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = qr.create_threads(sess, coord=coord, start=True, daemon=True)
        with pytest.raises(tf.errors.InvalidArgumentError, match="You must feed a value for placeholder"):
            coord.join(threads, stop_grace_period_secs=10)


def test_queue_runner_arguments():
    q = tf.FIFOQueue(2, tf.float32, shapes=[[]])
    enq = q.enqueue(1.0)
    with pytest.raises(ValueError, match="Must provide queue and enqueue_ops."):
        tf.train.QueueRunner(q, [])
    with pytest.raises(TypeError, match="queue_closed_exception_types, when provided, must be a tuple"):
        tf.train.QueueRunner(q, [enq], queue_closed_exception_types=[tf.errors.OutOfRangeError])
    qr = tf.train.QueueRunner(q, [enq], queue_closed_exception_types=(tf.errors.OutOfRangeError,
                                                                      tf.errors.CancelledError))
    assert qr.queue is q and qr.enqueue_ops == [enq] and qr.name == "fifo_queue"
    assert qr.close_op.name == "fifo_queue_Close" and qr.cancel_op.name == "fifo_queue_Close_1"
    assert qr.cancel_op.get_attr("cancel_pending_enqueues") is True
    assert qr.queue_closed_exception_types == (tf.errors.OutOfRangeError, tf.errors.CancelledError)


def test_start_queue_runners_needs_a_session():
    with pytest.raises(ValueError, match="Cannot start queue runners: No default session is registered"):
        tf.train.start_queue_runners()
    with pytest.raises(TypeError, match="sess must be a `tf.Session` object"):
        tf.train.start_queue_runners(sess=object())
    with tf.Session() as sess:
        assert tf.train.start_queue_runners(sess) == []  # nothing to start (TF logs a warning)


def test_queue_runner_fed_training_loop_stays_compiled():
    """Producer threads and a compiled training step run concurrently."""
    data = np.random.RandomState(1).rand(32, 3).astype(np.float32)
    x = tf.constant(data)
    y = tf.constant(data @ np.array([[1.0], [2.0], [-1.0]], np.float32))
    q = tf.FIFOQueue(8, [tf.float32, tf.float32], shapes=[[3], [1]])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue_many([x, y])] * 2))
    bx, by = q.dequeue_many(8)
    w = tf.Variable(tf.zeros([3, 1]))
    loss = tf.reduce_mean(tf.square(tf.matmul(bx, w) - by))
    train = tf.train.GradientDescentOptimizer(0.3).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        tf.reset_stats()
        first = sess.run(loss)
        for _ in range(150):
            sess.run(train)
        last = sess.run(loss)
        stats = tf.stats()
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)
    assert last < 0.05 * first
    assert stats["compilations"] <= 2 and stats["compiled_runs"] >= 149
