"""MonitoredTrainingSession, MonitoredSession and hooks against real TensorFlow, step by step.

Each scenario runs the same TF1 training program under graphcompat and under TF and records: the
order of hook calls and what each hook saw, the caller's results, which checkpoints exist, which
events (kind, step, tags) the event files hold, and what LoggingTensorHook logged. They must agree.
"""
import contextlib
import logging
import os
import re

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle


@contextlib.contextmanager
def ref_variables(tf_module):
    """TF 2's compat.v1 makes resource variables; graphcompat (like TF 1) makes ref variables."""
    if tf_module is tf:
        yield
        return
    tf_module.disable_resource_variables()
    try:
        yield
    finally:
        tf_module.enable_resource_variables()


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def captured_tf_logs():
    logger = logging.getLogger("tensorflow")
    handler, level = _Capture(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _round(value):
    if isinstance(value, dict):
        return {str(k): _round(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_round(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic, float)):
        return np.round(np.asarray(value, dtype=np.float64), 4).tolist()
    return value


class Recorder:
    """A SessionRunHook (built on the module's base class) logging every call and what it saw."""

    @staticmethod
    def make(tf_module, log, fetch=None):
        class _Recorder(tf_module.train.SessionRunHook):
            def begin(self):
                from_graph = tf_module.train.get_global_step()
                self.step = from_graph
                log.append(("begin",))

            def after_create_session(self, session, coord):
                log.append(("after_create_session", int(session.run(self.step))))

            def before_run(self, run_context):
                log.append(("before_run", _round(run_context.original_args.fetches is not None)))
                return tf_module.train.SessionRunArgs(fetch) if fetch is not None else None

            def after_run(self, run_context, run_values):
                log.append(("after_run", _round(run_values.results)))

            def end(self, session):
                log.append(("end", int(session.run(self.step))))
        return _Recorder()


def events_of(logdir):
    out = []
    for name in sorted(os.listdir(logdir)):
        if not name.startswith("events.out.tfevents"):
            continue
        for event in tf.train.summary_iterator(os.path.join(logdir, name)):
            kind = event.WhichOneof("what")
            if kind == "summary":
                out.append((event.step, kind, sorted(v.tag for v in event.summary.value)))
            elif kind == "session_log":
                out.append((event.step, kind, int(event.session_log.status)))
            elif kind != "file_version":
                out.append((event.step, kind))
    return out


def _flush_writers(tf_module):
    tf_module.summary.FileWriterCache.clear()


def _files(logdir):
    """The checkpoint files by prefix: a re-save to the same prefix (TF's hook saves the last step again at
    end()) may use two data shards here, by design (graphcompat/formats/bundle.py: crash-proof re-saves)."""
    names = (re.sub(r"\.data-\d{5}-of-\d{5}$", ".data", n) for n in os.listdir(logdir))
    return sorted({n for n in names if not n.startswith("events.")})


def _training_util(tf_module):
    if tf_module is tf:
        from graphcompat.train import training_util
    else:
        from tensorflow.python.training import training_util
    return training_util


def _model(tf_module, ordered_step=False):
    """A tiny model; with `ordered_step` the new global step is computed from the hooks' step snapshot and
    the update waits for the loss: TF then deterministically reports the pre-update step and loss to the
    hooks, instead of whichever value its executor's thread race gives (graphcompat always gives the
    pre-update values)."""
    gs = tf_module.train.get_or_create_global_step()
    w = tf_module.Variable([1.0, -2.0], name="w")
    loss = tf_module.reduce_sum(tf_module.square(w), name="loss")
    tf_module.summary.scalar("loss", loss)
    optimizer = tf_module.train.GradientDescentOptimizer(0.1)
    if ordered_step:
        # TF reads a ref variable whenever its executor gets to the read: under load the fetched loss may be
        # read after the update. Ordering the update after the loss makes TF's answer deterministic.
        snapshot = _training_util(tf_module)._get_or_create_global_step_read()
        with tf_module.control_dependencies([loss]):
            train = tf_module.group(optimizer.minimize(loss), tf_module.assign(gs, snapshot + 1))
    else:
        train = optimizer.minimize(loss, global_step=gs)
    return gs, w, loss, train


def training_run(tf_module, logdir):
    """MonitoredTrainingSession with TF's standard hooks at step intervals, then a restart from the checkpoint."""
    log, results = [], []
    with tf_module.Graph().as_default(), ref_variables(tf_module), captured_tf_logs() as messages:
        gs, w, loss, train = _model(tf_module, ordered_step=True)
        hooks = [Recorder.make(tf_module, log, fetch={"loss": loss}),
                 tf_module.train.StopAtStepHook(last_step=7),
                 tf_module.train.LoggingTensorHook({"loss": loss, "step": gs}, every_n_iter=3, at_end=True)]
        with tf_module.train.MonitoredTrainingSession(checkpoint_dir=logdir, hooks=hooks, save_summaries_steps=3,
                                                      save_checkpoint_steps=4, log_step_count_steps=2) as sess:
            while not sess.should_stop():
                results.append(_round(sess.run([train, loss])[1]))
    logged = [re.sub(r" \(\d+\.\d+ sec\)", "", m) for m in messages if " = " in m]
    with tf_module.Graph().as_default(), ref_variables(tf_module):
        gs, w, loss, train = _model(tf_module, ordered_step=True)
        with tf_module.train.MonitoredTrainingSession(
                checkpoint_dir=logdir, hooks=[tf_module.train.StopAtStepHook(num_steps=3)],
                save_summaries_steps=None, save_summaries_secs=None, save_checkpoint_steps=2) as sess:
            restored = _round(sess.run([gs, w]))
            while not sess.should_stop():
                sess.run(train)
    _flush_writers(tf_module)
    return log, results, logged, restored, _files(logdir), events_of(logdir)


@pytest.mark.oracle
def test_monitored_training_session_matches_tf(tmp_path):
    v1 = oracle.tf1()
    got = training_run(tf, str(tmp_path / "gc"))
    want = training_run(v1, str(tmp_path / "tf"))
    for name, g, w in zip(["hook calls", "results", "logged", "restored", "files", "events"], got, want):
        assert g == w, name


def queue_fed_run(tf_module, logdir):
    """A queue-fed loop that ends with OutOfRangeError: the `with` block ends quietly, hooks' end() runs."""
    log = []
    with tf_module.Graph().as_default(), ref_variables(tf_module):
        gs = tf_module.train.get_or_create_global_step()
        x = tf_module.train.range_input_producer(10, num_epochs=1, shuffle=False).dequeue_many(3)
        total = tf_module.Variable(0, name="total")
        add = tf_module.assign_add(total, tf_module.reduce_sum(x))
        with tf_module.control_dependencies([add]):  # (without it TF may count the failed last run)
            step = tf_module.assign_add(gs, 1)
        final = tf_module.train.FinalOpsHook([total, gs])
        hooks = [Recorder.make(tf_module, log), final]
        steps = 0
        with tf_module.train.MonitoredTrainingSession(checkpoint_dir=logdir, hooks=hooks,
                                                      save_checkpoint_secs=None, log_step_count_steps=None,
                                                      save_summaries_steps=None) as sess:
            while not sess.should_stop():
                sess.run(step)
                steps += 1
        closed = sess.should_stop()
    return log, steps, _round(final.final_ops_values), closed


@pytest.mark.oracle
def test_queue_fed_monitored_loop_ends_like_tf(tmp_path):
    v1 = oracle.tf1()
    assert queue_fed_run(tf, str(tmp_path / "gc")) == queue_fed_run(v1, str(tmp_path / "tf"))


def hook_features_run(tf_module):
    """Feeds from hooks, NaN handling, run_step_fn, SingularMonitoredSession."""
    out = []
    with tf_module.Graph().as_default(), ref_variables(tf_module):
        gs = tf_module.train.get_or_create_global_step()
        x = tf_module.placeholder(tf_module.float32, [])
        y = tf_module.log(x)
        inc = tf_module.assign_add(gs, 1)
        counter = iter([4.0, 1.0, 0.5, -1.0, 2.0])
        feed = tf_module.train.FeedFnHook(lambda: {x: next(counter)})
        nan = tf_module.train.NanTensorHook(y, fail_on_nan_loss=False)
        with tf_module.train.SingularMonitoredSession(hooks=[feed, nan]) as sess:
            while not sess.should_stop():
                out.append(_round(sess.run([y, inc])))
            out.append(type(sess.raw_session()).__name__.endswith("Session"))
        strict = tf_module.train.NanTensorHook(y)
        with pytest.raises(tf_module.train.NanLossDuringTrainingError, match="NaN loss during training."):
            with tf_module.train.MonitoredSession(hooks=[strict]) as sess:
                sess.run(y, {x: -1.0})

        def step_fn(step_context):
            value = step_context.run_with_hooks(inc)
            if value >= 3:
                step_context.request_stop()
            return value
        with tf_module.train.MonitoredSession() as sess:
            while not sess.should_stop():
                out.append(int(sess.run_step_fn(step_fn)))
        with pytest.raises(ValueError, match="`step_fn` may either have one `step_context` argument"):
            with tf_module.train.MonitoredSession() as sess:
                sess.run_step_fn(lambda ctx, extra: None)
    return out


@pytest.mark.oracle
def test_hook_features_match_tf():
    v1 = oracle.tf1()
    assert repr(hook_features_run(tf)) == repr(hook_features_run(v1))  # repr: nan == nan


BUILD_ERRORS = {
    "stop hook args": lambda tf: tf.train.StopAtStepHook(),
    "stop hook both": lambda tf: tf.train.StopAtStepHook(num_steps=1, last_step=2),
    "logging hook no trigger": lambda tf: tf.train.LoggingTensorHook(["a"]),
    "logging hook bad n": lambda tf: tf.train.LoggingTensorHook(["a"], every_n_iter=0),
    "timer neither": lambda tf: tf.train.SecondOrStepTimer(),
    "timer both": lambda tf: tf.train.SecondOrStepTimer(every_secs=1, every_steps=1),
    "summary hook": lambda tf: tf.train.SummarySaverHook(save_steps=1),
    "step counter": lambda tf: tf.train.StepCounterHook(every_n_steps=None),
    "checkpoint hook": lambda tf: tf.train.CheckpointSaverHook("/tmp/x", save_steps=1, saver=object(),
                                                               scaffold=object()),
    "session manager": lambda tf: tf.train.SessionManager(ready_for_local_init_op=tf.constant(1)),
    "scaffold copy": lambda tf: tf.train.Scaffold(copy_from_scaffold=object()),
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(BUILD_ERRORS))
def test_argument_errors_match_tf(name):
    v1 = oracle.tf1()

    def outcome(tf_module):
        with tf_module.Graph().as_default():
            with pytest.raises((ValueError, TypeError)) as info:
                BUILD_ERRORS[name](tf_module)
        return type(info.value).__name__, re.sub(r"Tensor\(.*\)", "Tensor", str(info.value))
    assert outcome(tf) == outcome(v1)


# ------------------------------------------------------------------------------------------------
# graphcompat-only checks
# ------------------------------------------------------------------------------------------------
def test_hooks_need_a_global_step():
    with pytest.raises(RuntimeError, match="Global step should be created to use StopAtStepHook."):
        tf.train.MonitoredSession(hooks=[tf.train.StopAtStepHook(num_steps=1)])


def test_run_after_stop_and_feed_conflicts():
    gs = tf.train.get_or_create_global_step()
    x = tf.placeholder(tf.float32, [])
    inc = tf.assign_add(gs, 1)
    hook = tf.train.FeedFnHook(lambda: {x: 1.0})
    with tf.train.MonitoredSession(hooks=[hook, tf.train.StopAtStepHook(last_step=1)]) as sess:
        with pytest.raises(RuntimeError, match="Same tensor is fed by a SessionRunHook and user."):
            sess.run(inc, {x: 2.0})
        sess.run(inc)
        assert sess.should_stop()
        with pytest.raises(RuntimeError, match="Run called even after should_stop requested."):
            sess.run(inc)
    assert not tf.get_default_graph().finalized  # the MonitoredSession un-finalizes what it finalized


def test_scaffold_defaults_and_collections():
    gs = tf.train.get_or_create_global_step()
    tf.Variable(1.0, name="w")
    tf.Variable(0, name="local", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    scaffold = tf.train.Scaffold().finalize()
    assert tf.get_default_graph().finalized
    assert scaffold.init_op.name == "group_deps" and scaffold.ready_op.name == "concat:0"
    assert scaffold.local_init_op.name == "group_deps_1" and scaffold.summary_op is None
    assert tf.get_collection(tf.GraphKeys.SAVERS) == [scaffold.saver]
    tf.get_default_graph()._unsafe_unfinalize()
    with tf.train.MonitoredSession(session_creator=tf.train.ChiefSessionCreator(scaffold=scaffold)) as sess:
        assert sess.run(gs) == 0
        assert sess.run(scaffold.ready_op).size == 0


def test_worker_session_waits_for_readiness_with_a_deadline():
    tf.Variable(1.0, name="w")
    manager = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables(), recovery_wait_secs=0.01)
    with pytest.raises(tf.errors.DeadlineExceededError, match="Session was not ready after waiting"):
        manager.wait_for_session("", max_wait_secs=0.05)


def test_session_manager_prepare_and_recover(tmp_path):
    w = tf.Variable(3.0, name="w")
    saver = tf.train.Saver()
    manager = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables())
    with pytest.raises(RuntimeError, match="Model is not initialized and no init_op or init_fn"):
        manager.prepare_session("")
    with pytest.raises(RuntimeError, match="Init operations did not make model ready.*Variables not "
                                           "initialized: w"):
        manager.prepare_session("", init_fn=lambda sess: None)
    sess, restored = manager.recover_session("", saver=saver, checkpoint_dir=str(tmp_path))
    assert not restored
    sess = manager.prepare_session("", init_op=tf.global_variables_initializer())
    sess.run(w.assign(5.0))
    saver.save(sess, str(tmp_path / "model"), global_step=1)
    sess, restored = manager.recover_session("", saver=saver, checkpoint_dir=str(tmp_path))
    assert restored and sess.run(w) == 5.0
    assert saver.last_checkpoints == [str(tmp_path / "model-1")]


def test_monitored_loop_stays_on_the_compiled_path(tmp_path):
    """Hooks' fetches are merged into one flat run: the training step compiles once."""
    gs, w, loss, train = _model(tf)
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), save_summaries_steps=50,
                                           save_checkpoint_secs=None, log_step_count_steps=50,
                                           hooks=[tf.train.StopAtStepHook(last_step=300)]) as sess:
        tf.reset_stats()
        while not sess.should_stop():
            sess.run(train)
        stats = tf.stats()
    assert stats["compiled_runs"] >= 290
    assert stats["compilations"] <= 6  # the step, and the step with its summaries (and their snapshot reads)


def test_recoverable_session_recreates_the_session_after_aborted():
    gs = tf.train.get_or_create_global_step()
    inc = tf.assign_add(gs, 1)

    class AbortOnce(tf.train.SessionRunHook):
        failed = False

        def after_create_session(self, session, coord):
            self.sessions = getattr(self, "sessions", 0) + 1

        def before_run(self, run_context):
            if not AbortOnce.failed:
                AbortOnce.failed = True
                raise tf.errors.AbortedError(None, None, "preempted")
    hook = AbortOnce()
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        assert sess.run(inc) == 1  # the new session re-initialized the global step
        assert hook.sessions == 2


def test_profiler_hook_names_the_missing_feature():
    with pytest.raises(NotImplementedError, match="tf.train.ProfilerHook"):
        tf.train.ProfilerHook(save_steps=1)


def test_hooks_see_the_step_before_the_update_with_minimize_global_step(tmp_path):
    """`minimize(global_step=gs)` (the common TF1 form): hooks see the pre-update step, as TF's hooks assume
    (`results + 1`) and as TF's multi-threaded executor usually computes it."""
    gs, w, loss, train = _model(tf)
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), save_summaries_steps=3,
                                           save_checkpoint_steps=4, log_step_count_steps=None,
                                           hooks=[tf.train.StopAtStepHook(last_step=7)]) as sess:
        while not sess.should_stop():
            sess.run(train)
    tf.summary.FileWriterCache.clear()
    events = events_of(str(tmp_path))
    assert [step for step, kind, *rest in events if kind == "summary"] == [1, 4, 7]
    assert [step for step, kind, *rest in events if kind == "session_log" and rest == [3]] == [0, 4, 7]
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith(".index")) == \
        ["model.ckpt-0.index", "model.ckpt-4.index", "model.ckpt-7.index"]


def test_group_of_a_train_op_and_a_host_op_runs_the_train_op():
    """TF1 programs group a train op with summaries or prints; the train op must still run."""
    w = tf.Variable(1.0)
    step = tf.group(tf.assign_add(w, 1.0), tf.summary.scalar("x", w * 2.0))
    with tf.Session() as sess:
        sess.run(w.initializer)
        for _ in range(3):
            sess.run(step)
        assert sess.run(w) == 4.0


def test_scaffold_init_fn_feed_dict_and_local_init(tmp_path):
    """init_fn runs after init_op (with its feed), local_init_op after both, on a fresh model only."""
    start = tf.placeholder(tf.float32, [])
    w = tf.Variable(start, name="w")
    local = tf.Variable(0.0, name="local", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    calls = []
    scaffold = tf.train.Scaffold(init_feed_dict={start: 2.0},
                                 init_fn=lambda scaffold, sess: calls.append(sess.run(w)),
                                 local_init_op=tf.group(local.initializer, name="my_local_init"))
    gs = tf.train.get_or_create_global_step()
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), scaffold=scaffold,
                                           save_checkpoint_steps=1, save_summaries_steps=None,
                                           log_step_count_steps=None) as sess:
        assert sess.run([w, local, gs]) == [2.0, 0.0, 0]
    assert calls == [2.0]
    # the second session restores from the checkpoint: no init_op, no init_fn (TF's ChiefSessionCreator)
    scaffold = tf.train.Scaffold(copy_from_scaffold=scaffold)
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), scaffold=scaffold,
                                           save_summaries_steps=None, log_step_count_steps=None) as sess:
        assert sess.run(w) == 2.0
    assert calls == [2.0]
