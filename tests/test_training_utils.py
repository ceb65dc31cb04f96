"""ExponentialMovingAverage, make_template, warm_start, checkpoints_iterator and Supervisor against TF."""
import contextlib
import os
import re

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle
from tests.threads import Background


@contextlib.contextmanager
def ref_variables(tf_module):
    if tf_module is tf:
        yield
        return
    tf_module.disable_resource_variables()
    try:
        yield
    finally:
        tf_module.enable_resource_variables()


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return np.round(np.asarray(value, np.float64), 5).tolist()
    return value


# ------------------------------------------------------------------------------------------------
# ExponentialMovingAverage
# ------------------------------------------------------------------------------------------------
def ema_run(tf_module):
    with tf_module.Graph().as_default(), ref_variables(tf_module):
        gs = tf_module.train.get_or_create_global_step()
        w = tf_module.Variable([1.0, 2.0], name="w")
        b = tf_module.Variable(3.0, name="b")
        t = tf_module.reduce_sum(w) * 2.0
        ema = tf_module.train.ExponentialMovingAverage(0.9, num_updates=gs)
        before = ema.average_name(w)
        apply_op = ema.apply([w, b])
        debiased = tf_module.train.ExponentialMovingAverage(0.5, zero_debias=True, name="zd")
        apply_debiased = debiased.apply([t])
        update = tf_module.group(tf_module.assign_add(w, [1.0, -1.0]), tf_module.assign_add(gs, 1))
        graph = tf_module.get_default_graph()
        facts = [before, apply_op.name, apply_debiased.name,
                 sorted(v.name for v in tf_module.global_variables()),
                 [v.name for v in tf_module.moving_average_variables()],
                 [ema.average(w).name, ema.average_name(b), debiased.average(t).name],
                 sorted(ema.variables_to_restore().keys()),
                 sorted(o.name for o in graph.get_operations() if o.type in ("AssignSub", "Assign", "NoOp"))]
        values = []
        with tf_module.Session() as sess:
            # EMA slots start from their variable's value: initialize the variables first (in one global
            # initializer TF itself reads the uninitialized variables)
            sess.run(tf_module.variables_initializer([gs, w, b]))
            for v in tf_module.global_variables()[3:]:
                sess.run(v.initializer)
            for _ in range(4):
                sess.run(update)
                sess.run([apply_op, apply_debiased])
                values.append(_plain(sess.run([ema.average(w), ema.average(b), debiased.average(t)])))
    return facts, values


@pytest.mark.oracle
def test_exponential_moving_average_matches_tf():
    v1 = oracle.tf1()
    assert ema_run(tf) == ema_run(v1)


def test_ema_errors_and_restore_map():
    v = tf.Variable(1, name="int_var")
    with pytest.raises(TypeError, match="The variables must be half, float, or double: int_var:0"):
        tf.train.ExponentialMovingAverage(0.9).apply([v])
    w = tf.Variable(2.0, name="w")
    ema = tf.train.ExponentialMovingAverage(0.5)
    # (a ref int variable is trainable, so it maps to its average's name too, as in TF)
    assert ema.variables_to_restore() == {"w/ExponentialMovingAverage": w, "int_var/ExponentialMovingAverage": v}
    assert ema.average(w) is None


def test_ema_shadow_is_saved_and_restored_into_the_variable(tmp_path):
    w = tf.Variable(0.0, name="w")
    ema = tf.train.ExponentialMovingAverage(0.5)
    with tf.control_dependencies([tf.assign_add(w, 4.0)]):
        train = ema.apply([w])
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(ema.average(w).initializer)
        sess.run(train)
        sess.run(train)  # w: 8, average: 0.5 * (0.5 * 0 + 0.5 * 4) + 0.5 * 8 = 5
        assert sess.run(ema.average(w)) == 5.0
        tf.train.Saver().save(sess, str(tmp_path / "m"))
    tf.reset_default_graph()
    w = tf.Variable(0.0, name="w")
    restore = tf.train.Saver(tf.train.ExponentialMovingAverage(0.5).variables_to_restore())
    with tf.Session() as sess:
        restore.restore(sess, str(tmp_path / "m"))
        assert sess.run(w) == 5.0


# ------------------------------------------------------------------------------------------------
# make_template, warm_start
# ------------------------------------------------------------------------------------------------
def template_run(tf_module, tmp):
    out = []
    with tf_module.Graph().as_default(), ref_variables(tf_module):
        def scale(x, k=2.0):
            w = tf_module.get_variable("w", [], initializer=tf_module.constant_initializer(k))
            return x * w
        t = tf_module.make_template("scale", scale, k=3.0)
        a, b = t(tf_module.constant(1.0)), t(tf_module.constant(2.0))
        c = tf_module.make_template("scale", scale)(tf_module.constant(1.0))
        early = tf_module.make_template("early", scale, create_scope_now_=True)
        with tf_module.name_scope("outer"):
            d, e = early(tf_module.constant(1.0)), early(tf_module.constant(1.0))
        f = tf_module.make_template("x", scale, unique_name_="fixed")(tf_module.constant(1.0))
        out.append([v.name for v in tf_module.global_variables()])
        out.append([t.variable_scope_name, early.variable_scope_name, [v.name for v in t.trainable_variables],
                    t.non_trainable_variables, t.local_variables])
        out.append([x.name for x in (a, b, c, d, e, f)])
        bad = tf_module.make_template("bad", lambda x: x * tf_module.Variable(1.0))
        bad(tf_module.constant(1.0))
        with pytest.raises(ValueError) as info:
            bad(tf_module.constant(1.0))
        out.append(str(info.value).split(":")[0])
        with tf_module.Session() as sess:
            sess.run(tf_module.global_variables_initializer())
            out.append(_plain(sess.run([a, b, c, d, e, f])))
            tf_module.train.Saver().save(sess, os.path.join(tmp, "m"))
    with tf_module.Graph().as_default(), ref_variables(tf_module):
        with tf_module.variable_scope("scale"):
            w_new = tf_module.get_variable("w", [], initializer=tf_module.zeros_initializer())
        w_renamed = tf_module.get_variable("renamed", [], initializer=tf_module.zeros_initializer())
        other = tf_module.get_variable("other", [], initializer=tf_module.ones_initializer(), trainable=False)
        tf_module.train.warm_start(tmp, vars_to_warm_start=[".*w", "renamed"],
                                   var_name_to_prev_var_name={"renamed": "early/w"})
        with tf_module.Session() as sess:
            sess.run(tf_module.global_variables_initializer())
            out.append(_plain(sess.run([w_new, w_renamed, other])))
        with pytest.raises(ValueError) as info:
            tf_module.train.warm_start(tmp, vars_to_warm_start=["other"], var_name_to_prev_var_name={"nope": "x"})
        out.append(re.sub(r" in .*", "", str(info.value)))
    return out


@pytest.mark.oracle
def test_make_template_and_warm_start_match_tf(tmp_path):
    v1 = oracle.tf1()
    (tmp_path / "gc").mkdir()
    (tmp_path / "tf").mkdir()
    assert template_run(tf, str(tmp_path / "gc")) == template_run(v1, str(tmp_path / "tf"))


def test_warm_start_vocab_info_names_the_missing_feature(tmp_path):
    info = tf.train.VocabInfo("new.txt", 10, 1, "old.txt")
    assert info.old_vocab_size == -1 and info.axis == 0
    with pytest.raises(NotImplementedError, match="tf.train.VocabInfo"):
        tf.train.warm_start(str(tmp_path), var_name_to_vocab_info={"w": info})


# ------------------------------------------------------------------------------------------------
# checkpoints_iterator
# ------------------------------------------------------------------------------------------------
def test_checkpoints_iterator_yields_new_checkpoints_and_times_out(tmp_path):
    w = tf.Variable(1.0)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(w.initializer)
        saver.save(sess, str(tmp_path / "m"), global_step=1)
        seen = []
        iterator = tf.train.checkpoints_iterator(str(tmp_path), timeout=0.5)
        seen.append(next(iterator))
        writer = Background(lambda: saver.save(sess, str(tmp_path / "m"), global_step=2))
        writer.join()
        seen.extend(iterator)  # the second checkpoint, then a timeout ends the iteration
    assert [os.path.basename(p) for p in seen] == ["m-1", "m-2"]


def test_checkpoints_iterator_timeout_fn_decides_when_to_stop(tmp_path):
    calls = []

    def timeout_fn():
        calls.append(1)
        return len(calls) >= 2
    assert list(tf.train.checkpoints_iterator(str(tmp_path), timeout=0.01, timeout_fn=timeout_fn)) == []
    assert len(calls) == 2


# ------------------------------------------------------------------------------------------------
# Supervisor
# ------------------------------------------------------------------------------------------------
def _sv_model():
    gs = tf.train.get_or_create_global_step()
    w = tf.Variable(tf.zeros([4]), name="w")
    loss = tf.reduce_sum(tf.square(w - 1.0))
    tf.summary.scalar("loss", loss)
    return gs, w, loss, tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=gs)


def test_supervisor_managed_session_initializes_saves_and_restores(tmp_path):
    gs, w, loss, train = _sv_model()
    sv = tf.train.Supervisor(logdir=str(tmp_path), save_summaries_secs=0.01, save_model_secs=0.01)
    assert tf.get_default_graph().finalized
    with sv.managed_session() as sess:
        for _ in range(200):  # the service threads save and summarize concurrently with the steps
            sess.run(train)
        sv.summary_computed(sess, sess.run(sv.summary_op))
        last = sess.run(gs)
    assert sv.should_stop() and last == 200
    assert tf.train.latest_checkpoint(str(tmp_path)) is not None
    assert os.path.exists(tmp_path / "graph.pbtxt")
    events = [e for n in os.listdir(tmp_path) if n.startswith("events")
              for e in tf.train.summary_iterator(str(tmp_path / n))]
    statuses = [e.session_log.status for e in events if e.HasField("session_log")]
    assert statuses[0] == tf.SessionLog.START and statuses[-1] == tf.SessionLog.STOP
    assert tf.SessionLog.CHECKPOINT in statuses
    assert any(v.tag == "global_step/sec" for e in events for v in e.summary.value)
    assert any(e.step == 200 and v.tag == "loss" for e in events for v in e.summary.value)

    # a new Supervisor on the same logdir restores the last checkpoint instead of initializing
    tf.reset_default_graph()
    gs, w, loss, train = _sv_model()
    sv = tf.train.Supervisor(logdir=str(tmp_path), save_summaries_secs=0, save_model_secs=0)
    with sv.managed_session() as sess:
        restored = sess.run(gs)
    assert restored >= 1


def test_supervisor_reports_errors_from_the_loop_and_threads(tmp_path):
    gs, w, loss, train = _sv_model()
    sv = tf.train.Supervisor(logdir=None, save_summaries_secs=0, save_model_secs=0)
    with pytest.raises(ValueError, match="boom"):
        with sv.managed_session() as sess:
            sess.run(train)
            raise ValueError("boom")
    tf.reset_default_graph()
    gs, w, loss, train = _sv_model()
    sv = tf.train.Supervisor(logdir=None, save_summaries_secs=0, save_model_secs=0)
    with sv.managed_session() as sess:  # an OutOfRangeError ends the loop cleanly
        raise tf.errors.OutOfRangeError(None, None, "done")
    assert sv.should_stop()

    tf.reset_default_graph()
    _sv_model()
    sv = tf.train.Supervisor(logdir=None, save_summaries_secs=0, save_model_secs=0)
    ticks = []

    def tick():
        ticks.append(1)
        if len(ticks) == 3:
            raise RuntimeError("looper failed")
    with pytest.raises(RuntimeError, match="looper failed"):
        with sv.managed_session():
            sv.loop(0.001, tick)
            sv.wait_for_stop()


def test_supervisor_defaults_come_from_collections():
    gs, w, loss, train = _sv_model()
    sv = tf.train.Supervisor(logdir=None)
    assert sv.global_step is gs and sv.saver is tf.get_collection(tf.GraphKeys.SAVERS)[0]
    assert sv.init_op is tf.get_collection(tf.GraphKeys.INIT_OP)[0]
    assert sv.summary_op is tf.get_collection(tf.GraphKeys.SUMMARY_OP)[0]
    assert sv.PrepareSession == sv.prepare_or_wait_for_session
    with pytest.raises(RuntimeError, match="Writing a summary requires a summary writer."):
        sv.summary_computed(None, b"")
    assert sv.is_chief and sv.summary_writer is None  # no logdir: no writer, no services
