"""`tf.train.MonitoredTrainingSession`, `MonitoredSession`, `SingularMonitoredSession`, `Scaffold` and the
session creators (TF's monitored_session.py).

A MonitoredSession is a stack of wrappers around a tf.Session, as in TF:
  _RecoverableSession   re-creates the session after AbortedError/UnavailableError
  _CoordinatedSession   a Coordinator (queue runner threads); joins them on close
  _HookedSession        calls the hooks around each run and merges their fetches, feeds and options
Hooks' `begin()` runs when the MonitoredSession is built, `after_create_session` once the session is
initialized (or restored from `checkpoint_dir`) and queue runners started; `end()` on a clean close
(also when OutOfRangeError or StopIteration ended the `with` block).

graphcompat specifics: a run's fetches (the caller's and the hooks') are flattened into one list, so a
training loop stays on the Session's compiled fast path; and the global-step snapshot hooks fetch is
read at the start of the run and fed, because TF's executor computes it before the step's update (see
`_HookedSession.run`).
"""
from __future__ import annotations

import abc
import inspect

import numpy as np

from graphcompat import tf_logging as logging
from graphcompat.framework import errors
from graphcompat.framework import ops as _ops
from graphcompat.train import basic_session_run_hooks as hooks_lib
from graphcompat.train import training_util
from graphcompat.train.coordinator import Coordinator
from graphcompat.train.session_manager import SessionManager
from graphcompat.train.session_run_hook import SessionRunArgs, SessionRunContext, SessionRunValues

_PREEMPTION_ERRORS = (errors.AbortedError, errors.UnavailableError)

USE_DEFAULT = object()


# ------------------------------------------------------------------------------------------------
# Scaffold
# ------------------------------------------------------------------------------------------------
class Scaffold:
    """`tf.train.Scaffold(init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
    ready_for_local_init_op=None, local_init_op=None, summary_op=None, saver=None, copy_from_scaffold=None,
    local_init_feed_dict=None)`: the ops a MonitoredSession needs; `finalize()` creates the missing ones
    (TF's defaults, shared through the graph's collections) and finalizes the graph."""

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None, ready_for_local_init_op=None,
                 local_init_op=None, summary_op=None, saver=None, copy_from_scaffold=None, local_init_feed_dict=None):
        if copy_from_scaffold is not None:
            if not isinstance(copy_from_scaffold, Scaffold):
                raise TypeError("copy_from_scaffold is not a Scaffold instance.")

            def coalesce(a, b):
                return a if a is not None else b
            init_op = coalesce(init_op, copy_from_scaffold.init_op)
            init_feed_dict = coalesce(init_feed_dict, copy_from_scaffold.init_feed_dict)
            init_fn = coalesce(init_fn, copy_from_scaffold._user_init_fn)
            ready_op = coalesce(ready_op, copy_from_scaffold.ready_op)
            ready_for_local_init_op = coalesce(ready_for_local_init_op, copy_from_scaffold.ready_for_local_init_op)
            local_init_op = coalesce(local_init_op, copy_from_scaffold.local_init_op)
            local_init_feed_dict = coalesce(local_init_feed_dict, copy_from_scaffold.local_init_feed_dict)
            summary_op = coalesce(summary_op, copy_from_scaffold.summary_op)
            saver = coalesce(saver, copy_from_scaffold.saver)
        self._user_init_fn = init_fn
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._init_op = init_op
        self._init_feed_dict = init_feed_dict
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._local_init_op = local_init_op
        self._local_init_feed_dict = local_init_feed_dict
        self._summary_op = summary_op
        self._saver = saver

    def finalize(self) -> "Scaffold":
        """Creates the default ops that were not given, builds the saver, and finalizes the default graph."""
        from graphcompat import variables
        from graphcompat.ops.array_ops import concat
        from graphcompat.ops.control_ops import group

        if self._init_op is None:
            def default_init_op():
                return group(variables.global_variables_initializer(), _initialize_resources(),
                             _ops.get_collection("saved_model_initializers"))
            self._init_op = Scaffold.get_or_default("init_op", _ops.GraphKeys.INIT_OP, default_init_op)
        if self._ready_op is None:
            def default_ready_op():
                return concat([variables.report_uninitialized_variables(), _report_uninitialized_resources()], 0)
            self._ready_op = Scaffold.get_or_default("ready_op", _ops.GraphKeys.READY_OP, default_ready_op)
        if self._ready_for_local_init_op is None:
            def default_ready_for_local_init_op():
                return concat([variables.report_uninitialized_variables(variables.global_variables()),
                               _report_uninitialized_resources()], 0)
            self._ready_for_local_init_op = Scaffold.get_or_default(
                "ready_for_local_init_op", _ops.GraphKeys.READY_FOR_LOCAL_INIT_OP, default_ready_for_local_init_op)
        if self._local_init_op is None:
            self._local_init_op = Scaffold.get_or_default("local_init_op", _ops.GraphKeys.LOCAL_INIT_OP,
                                                          Scaffold.default_local_init_op)
        if self._summary_op is None:
            from graphcompat.ops.summary_ops import merge_all
            self._summary_op = Scaffold.get_or_default("summary_op", _ops.GraphKeys.SUMMARY_OP, merge_all)
        if self._saver is None:
            self._saver = _get_saver_or_default()
        self._saver.build()
        _ops.get_default_graph().finalize()
        logging.info("Graph was finalized.")
        return self

    @property
    def init_fn(self):
        return self._init_fn

    @property
    def init_op(self):
        return self._init_op

    @property
    def ready_op(self):
        return self._ready_op

    @property
    def ready_for_local_init_op(self):
        return self._ready_for_local_init_op

    @property
    def local_init_op(self):
        return self._local_init_op

    @property
    def local_init_feed_dict(self):
        return self._local_init_feed_dict

    @property
    def summary_op(self):
        return self._summary_op

    @property
    def saver(self):
        return self._saver

    @property
    def init_feed_dict(self):
        return self._init_feed_dict

    @staticmethod
    def get_or_default(arg_name: str, collection_key: str, default_constructor):
        """The single op in `collection_key`, or a new one from `default_constructor` (then collected)."""
        elements = _ops.get_collection(collection_key)
        if elements:
            if len(elements) > 1:
                raise RuntimeError(f'More than one item in the collection "{collection_key}". Please indicate which '
                                   f"one to use by passing it to the tf.Scaffold constructor as:  "
                                   f"tf.Scaffold({arg_name}=item to use)")
            return elements[0]
        op = default_constructor()
        if op is not None:
            _ops.add_to_collection(collection_key, op)
        return op

    @staticmethod
    def default_local_init_op():
        """TF's: local variables, lookup tables and local resources initializers, grouped."""
        from graphcompat import variables
        from graphcompat.ops.control_ops import group, no_op
        return group(variables.local_variables_initializer(), no_op(name="init_all_tables"), _initialize_resources())


def _initialize_resources():
    """TF's `initialize_resources([])`: graphcompat has no separately initialized resources."""
    from graphcompat.ops.control_ops import no_op
    return no_op(name="init")


def _report_uninitialized_resources():
    """TF's `report_uninitialized_resources()` with no resources: an empty string vector."""
    from graphcompat.framework.constant_op import constant
    from graphcompat.framework import dtypes
    with _ops.name_scope(None, "report_uninitialized_resources"):
        return constant([], dtype=dtypes.string)


def _get_saver_or_default():
    """The graph's single Saver (SAVERS collection), or a new sharded one that allows an empty graph."""
    from graphcompat.training.saver import Saver
    savers = _ops.get_collection(_ops.GraphKeys.SAVERS)
    if savers:
        if len(savers) > 1:
            raise RuntimeError(f"More than one item in collection {_ops.GraphKeys.SAVERS}. Please indicate which one "
                               f"to use by passing it to the constructor.")
        return savers[0]
    saver = Saver(sharded=True, allow_empty=True)
    _ops.add_to_collection(_ops.GraphKeys.SAVERS, saver)
    return saver


# ------------------------------------------------------------------------------------------------
# Session creators
# ------------------------------------------------------------------------------------------------
class SessionCreator(metaclass=abc.ABCMeta):
    """A factory for tf.Session."""

    @abc.abstractmethod
    def create_session(self):
        raise NotImplementedError(f"create_session is not implemented for {self}.")


class ChiefSessionCreator(SessionCreator):
    """`tf.train.ChiefSessionCreator(scaffold=None, master='', config=None, checkpoint_dir=None,
    checkpoint_filename_with_path=None)`: initializes or restores the model."""

    def __init__(self, scaffold=None, master="", config=None, checkpoint_dir=None, checkpoint_filename_with_path=None):
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_filename_with_path = checkpoint_filename_with_path
        self._scaffold = scaffold or Scaffold()
        self._session_manager = None
        self._master = master
        self._config = config

    def _get_session_manager(self) -> SessionManager:
        if self._session_manager:
            return self._session_manager
        self._session_manager = SessionManager(local_init_op=self._scaffold.local_init_op,
                                               local_init_feed_dict=self._scaffold.local_init_feed_dict,
                                               ready_op=self._scaffold.ready_op,
                                               ready_for_local_init_op=self._scaffold.ready_for_local_init_op,
                                               graph=_ops.get_default_graph())
        return self._session_manager

    def create_session(self):
        self._scaffold.finalize()
        return self._get_session_manager().prepare_session(
            self._master, saver=self._scaffold.saver, checkpoint_dir=self._checkpoint_dir,
            checkpoint_filename_with_path=self._checkpoint_filename_with_path, config=self._config,
            init_op=self._scaffold.init_op, init_feed_dict=self._scaffold.init_feed_dict,
            init_fn=self._scaffold.init_fn)


class WorkerSessionCreator(SessionCreator):
    """`tf.train.WorkerSessionCreator(scaffold=None, master='', config=None, max_wait_secs=1800)`: waits for
    the chief to initialize the model (in one process: the model must already be ready)."""

    def __init__(self, scaffold=None, master="", config=None, max_wait_secs=30 * 60):
        self._scaffold = scaffold or Scaffold()
        self._session_manager = None
        self._master = master
        self._config = config
        self._max_wait_secs = max_wait_secs

    def _get_session_manager(self) -> SessionManager:
        if self._session_manager:
            return self._session_manager
        self._session_manager = SessionManager(local_init_op=self._scaffold.local_init_op,
                                               local_init_feed_dict=self._scaffold.local_init_feed_dict,
                                               ready_op=self._scaffold.ready_op,
                                               ready_for_local_init_op=self._scaffold.ready_for_local_init_op,
                                               graph=_ops.get_default_graph())
        return self._session_manager

    def create_session(self):
        self._scaffold.finalize()
        return self._get_session_manager().wait_for_session(self._master, config=self._config,
                                                            max_wait_secs=self._max_wait_secs)


# ------------------------------------------------------------------------------------------------
# MonitoredTrainingSession
# ------------------------------------------------------------------------------------------------
def MonitoredTrainingSession(master="", is_chief=True, checkpoint_dir=None, scaffold=None, hooks=None,  # noqa: N802
                             chief_only_hooks=None, save_checkpoint_secs=USE_DEFAULT,
                             save_summaries_steps=USE_DEFAULT, save_summaries_secs=USE_DEFAULT, config=None,
                             stop_grace_period_secs=120, log_step_count_steps=100, max_wait_secs=7200,
                             save_checkpoint_steps=USE_DEFAULT, summary_dir=None, save_graph_def=True):
    """`tf.train.MonitoredTrainingSession`: a MonitoredSession with TF's standard hooks for a chief
    (StepCounterHook, SummarySaverHook and CheckpointSaverHook when `summary_dir`/`checkpoint_dir` is given,
    checkpoints every 600 s and summaries every 100 steps by default), before the caller's hooks."""
    if save_summaries_steps is USE_DEFAULT and save_summaries_secs is USE_DEFAULT:
        save_summaries_steps, save_summaries_secs = 100, None
    elif save_summaries_secs is USE_DEFAULT:
        save_summaries_secs = None
    elif save_summaries_steps is USE_DEFAULT:
        save_summaries_steps = None
    if save_checkpoint_steps is USE_DEFAULT and save_checkpoint_secs is USE_DEFAULT:
        save_checkpoint_steps, save_checkpoint_secs = None, 600
    elif save_checkpoint_secs is USE_DEFAULT:
        save_checkpoint_secs = None
    elif save_checkpoint_steps is USE_DEFAULT:
        save_checkpoint_steps = None
    scaffold = scaffold or Scaffold()
    if not is_chief:
        session_creator = WorkerSessionCreator(scaffold=scaffold, master=master, config=config,
                                               max_wait_secs=max_wait_secs)
        return MonitoredSession(session_creator=session_creator, hooks=hooks or [],
                                stop_grace_period_secs=stop_grace_period_secs)
    all_hooks = list(chief_only_hooks or [])
    session_creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_dir=checkpoint_dir, master=master,
                                          config=config)
    summary_dir = summary_dir or checkpoint_dir
    if summary_dir:
        if log_step_count_steps and log_step_count_steps > 0:
            all_hooks.append(hooks_lib.StepCounterHook(output_dir=summary_dir, every_n_steps=log_step_count_steps))
        if (save_summaries_steps and save_summaries_steps > 0) or (save_summaries_secs and save_summaries_secs > 0):
            all_hooks.append(hooks_lib.SummarySaverHook(scaffold=scaffold, save_steps=save_summaries_steps,
                                                        save_secs=save_summaries_secs, output_dir=summary_dir))
    if checkpoint_dir:
        if (save_checkpoint_secs and save_checkpoint_secs > 0) or \
                (save_checkpoint_steps and save_checkpoint_steps > 0):
            all_hooks.append(hooks_lib.CheckpointSaverHook(checkpoint_dir, save_steps=save_checkpoint_steps,
                                                           save_secs=save_checkpoint_secs, scaffold=scaffold,
                                                           save_graph_def=save_graph_def))
    if hooks:
        all_hooks.extend(hooks)
    return MonitoredSession(session_creator=session_creator, hooks=all_hooks,
                            stop_grace_period_secs=stop_grace_period_secs)


# ------------------------------------------------------------------------------------------------
# MonitoredSession
# ------------------------------------------------------------------------------------------------
class _MonitoredSession:
    """The common part of MonitoredSession and SingularMonitoredSession."""

    def __init__(self, session_creator, hooks, should_recover: bool, stop_grace_period_secs=120):
        self._graph_was_finalized = _ops.get_default_graph().finalized
        self._hooks = hooks or []
        for hook in self._hooks:
            hook.begin()
        self._coordinated_creator = self._CoordinatedSessionCreator(
            session_creator=session_creator or ChiefSessionCreator(), hooks=self._hooks,
            stop_grace_period_secs=stop_grace_period_secs)
        if should_recover:
            self._sess = _RecoverableSession(self._coordinated_creator)
        else:
            self._sess = self._coordinated_creator.create_session()

    @property
    def graph(self):
        return None if self._tf_sess() is None else self._tf_sess().graph

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs like `Session.run`, with the hooks called around it."""
        return self._sess.run(fetches, feed_dict=feed_dict, options=options, run_metadata=run_metadata)

    def run_step_fn(self, step_fn):
        """Calls `step_fn(step_context)`; `step_context.run_with_hooks(...)` is a hooked run, and
        `step_context.request_stop()` ends the loop."""
        args = tuple(inspect.getfullargspec(step_fn).args)
        if args != ("step_context",) and args != ("self", "step_context"):
            raise ValueError(f"`step_fn` may either have one `step_context` argument, or `self` and `step_context` "
                             f"arguments if it's an instance method. Got {args} instead.")
        return self._sess.run_step_fn(step_fn, self._tf_sess(), run_with_hooks=None)

    class StepContext:
        """The argument of a `run_step_fn` function."""

        def __init__(self, session, run_with_hooks_fn):
            self._session = session
            self._run_with_hooks_fn = run_with_hooks_fn

        @property
        def session(self):
            return self._session

        def run_with_hooks(self, *args, **kwargs):
            return self._run_with_hooks_fn(*args, **kwargs)

        def request_stop(self):
            raise StopIteration("step_fn has requested the iterations to stop.")

    def should_stop(self) -> bool:
        return self._sess is None or self._sess.should_stop()

    def close(self) -> None:
        self._close_internal()

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception_value, traceback):
        if exception_type in (errors.OutOfRangeError, StopIteration):
            exception_type = None
        self._close_internal(exception_type)
        return exception_type is None  # OutOfRangeError/StopIteration end the loop silently

    class _CoordinatedSessionCreator(SessionCreator):
        """Creates the session, starts queue runners under a Coordinator, and calls the hooks."""

        def __init__(self, session_creator, hooks, stop_grace_period_secs):
            self._session_creator = session_creator
            self._hooks = hooks
            self.coord = None
            self.tf_sess = None
            self._stop_grace_period_secs = stop_grace_period_secs

        def create_session(self):
            from graphcompat.train.queue_runner import start_queue_runners
            self.tf_sess = self._session_creator.create_session()
            self.coord = Coordinator(clean_stop_exception_types=[])
            if _ops.get_collection(_ops.GraphKeys.QUEUE_RUNNERS):
                start_queue_runners(sess=self.tf_sess, coord=self.coord)
            for hook in self._hooks:
                hook.after_create_session(self.tf_sess, self.coord)
            return _CoordinatedSession(_HookedSession(self.tf_sess, self._hooks), self.coord,
                                       self._stop_grace_period_secs)

    def _close_internal(self, exception_type=None) -> None:
        try:
            if not exception_type:
                for hook in self._hooks:
                    hook.end(self._coordinated_creator.tf_sess)
        finally:
            try:
                if self._sess is None:
                    raise RuntimeError("Session is already closed.")
                self._sess.close()
            finally:
                self._sess = None
                self._coordinated_creator.tf_sess = None
                self._coordinated_creator.coord = None
                if not self._graph_was_finalized:
                    _ops.get_default_graph()._unsafe_unfinalize()

    def _is_closed(self) -> bool:
        return self._coordinated_creator.tf_sess is None

    def _tf_sess(self):
        return self._coordinated_creator.tf_sess


class MonitoredSession(_MonitoredSession):
    """`tf.train.MonitoredSession(session_creator=None, hooks=None, stop_grace_period_secs=120)`: a session
    that initializes or restores the model, runs hooks, and recovers from preemption errors."""

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs=120):
        super().__init__(session_creator, hooks, should_recover=True, stop_grace_period_secs=stop_grace_period_secs)


class SingularMonitoredSession(_MonitoredSession):
    """`tf.train.SingularMonitoredSession(hooks=None, scaffold=None, master='', config=None, checkpoint_dir=None,
    stop_grace_period_secs=120, checkpoint_filename_with_path=None)`: no recovery; `raw_session()` gives the
    tf.Session."""

    def __init__(self, hooks=None, scaffold=None, master="", config=None, checkpoint_dir=None,
                 stop_grace_period_secs=120, checkpoint_filename_with_path=None):
        session_creator = ChiefSessionCreator(scaffold=scaffold, master=master, config=config,
                                              checkpoint_dir=checkpoint_dir,
                                              checkpoint_filename_with_path=checkpoint_filename_with_path)
        super().__init__(session_creator, hooks, should_recover=False, stop_grace_period_secs=stop_grace_period_secs)

    def raw_session(self):
        return self._tf_sess()


# ------------------------------------------------------------------------------------------------
# The wrapper stack
# ------------------------------------------------------------------------------------------------
class _WrappedSession:
    """Forwards to a wrapped session; `should_stop()` asks the wrappers inside too."""

    def __init__(self, sess):
        self._sess = sess
        self._wrapped_is_stoppable = isinstance(self._sess, _WrappedSession)

    @property
    def graph(self):
        return self._sess.graph

    @property
    def sess_str(self):
        return self._sess.sess_str

    def should_stop(self) -> bool:
        if self._check_stop():
            return True
        if self._sess:
            return self._wrapped_is_stoppable and self._sess.should_stop()
        return True

    def _check_stop(self) -> bool:
        return False

    def close(self) -> None:
        if self._sess:
            try:
                self._sess.close()
            except _PREEMPTION_ERRORS as e:
                logging.error("An error occurred when attempting to close the session. This may be due to a "
                              "preemption in a connected worker or parameter server. Error: %s", e)
            finally:
                self._sess = None

    def run(self, *args, **kwargs):
        return self._sess.run(*args, **kwargs)

    def run_step_fn(self, step_fn, raw_session, run_with_hooks):
        run_with_hooks = run_with_hooks or self.run
        return step_fn(_MonitoredSession.StepContext(raw_session, run_with_hooks))


class _RecoverableSession(_WrappedSession):
    """Re-creates the session when a run fails with a preemption error (AbortedError, UnavailableError)."""

    def __init__(self, sess_creator):
        self._sess_creator = sess_creator
        _WrappedSession.__init__(self, self._create_session())

    def _create_session(self):
        while True:
            try:
                return self._sess_creator.create_session()
            except _PREEMPTION_ERRORS as e:
                logging.info("An error was raised while a session was being created. A new session will be "
                             "created. Error: %s", e)

    def _check_stop(self) -> bool:
        try:
            if self._sess:
                return self._sess._check_stop()
            return True
        except _PREEMPTION_ERRORS as e:
            logging.info("An error was raised while considering whether the session is complete. The current "
                         "session will be closed and a new session will be created. Error: %s", e)
            self.close()
            self._sess = self._create_session()
            return False
        except Exception:  # noqa: BLE001  (TF: any other error means "stop")
            return True

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        while True:
            try:
                if not self._sess:
                    self._sess = self._create_session()
                return self._sess.run(fetches, feed_dict=feed_dict, options=options, run_metadata=run_metadata)
            except _PREEMPTION_ERRORS as e:
                logging.info("An error was raised. The current session will be closed and a new session will be "
                             "created. Error: %s", e)
                self.close()
                self._sess = None

    def run_step_fn(self, step_fn, raw_session, run_with_hooks):
        while True:
            try:
                if not self._sess:
                    self._sess = self._create_session()
                run_with_hooks = self._sess.run
                return self._sess.run_step_fn(step_fn, raw_session, run_with_hooks)
            except _PREEMPTION_ERRORS as e:
                logging.info("An error was raised. The current session will be closed and a new session will be "
                             "created. Error: %s", e)
                self.close()
                self._sess = None


class _CoordinatedSession(_WrappedSession):
    """Stops and joins the Coordinator's threads on close; a run error defers to the Coordinator's error."""

    def __init__(self, sess, coord, stop_grace_period_secs=120):
        _WrappedSession.__init__(self, sess)
        self._coord = coord
        self._stop_grace_period_secs = stop_grace_period_secs

    def _check_stop(self) -> bool:
        self._coord.raise_requested_exception()  # an error from a queue runner thread surfaces here
        return self._coord.should_stop()

    def close(self) -> None:
        self._coord.request_stop()
        try:
            self._coord.join(stop_grace_period_secs=self._stop_grace_period_secs, ignore_live_threads=True)
        finally:
            try:
                _WrappedSession.close(self)
            except Exception:  # noqa: BLE001  (TF ignores errors while closing)
                pass

    def run(self, *args, **kwargs):
        try:
            return self._sess.run(*args, **kwargs)
        except _PREEMPTION_ERRORS:
            raise
        except Exception as original_exception:  # noqa: BLE001
            try:
                self._coord.raise_requested_exception()
            except _PREEMPTION_ERRORS:
                raise
            except Exception:  # noqa: BLE001  (the run's own error is the one to report)
                raise original_exception from None
            else:
                raise


class _HookedSession(_WrappedSession):
    """Calls the hooks around each run: merges their fetches, feeds and options into the caller's."""

    def __init__(self, sess, hooks):
        _WrappedSession.__init__(self, sess)
        self._hooks = hooks
        self._should_stop = False

    def _check_stop(self) -> bool:
        return self._should_stop

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        from graphcompat.client.session import RunMetadata, RunOptions
        if self.should_stop():
            raise RuntimeError("Run called even after should_stop requested.")
        actual_fetches = {"caller": fetches}
        run_context = SessionRunContext(original_args=SessionRunArgs(fetches, feed_dict), session=self._sess)
        options = options or RunOptions()
        feed_dict = self._call_hook_before_run(run_context, actual_fetches, feed_dict, options)
        run_metadata = run_metadata or RunMetadata()
        outputs = self._run_flat(actual_fetches, feed_dict, options, run_metadata)
        for hook in self._hooks:
            hook.after_run(run_context, SessionRunValues(results=outputs[hook] if hook in outputs else None,
                                                         options=options, run_metadata=run_metadata))
        self._should_stop = self._should_stop or run_context.stop_requested
        return outputs["caller"]

    def _run_flat(self, fetch_dict: dict, feed_dict, options, run_metadata) -> dict:
        """One Session.run of the flat list of every unique fetch (the Session's training-loop fast path).

        TF's executor computes the global-step snapshot the hooks fetch (`global_step + 0`, which depends on
        nothing the step updates) before the step's update: hooks expect the step count *before* the run.
        graphcompat runs ops in creation order, after the update, so the snapshot is read first and fed.
        """
        from graphcompat.client.session import _FetchMapper
        sess = self._sess
        mapper = _FetchMapper(sess.graph, fetch_dict)
        elements = mapper.elements
        snapshot = training_util._get_global_step_read(sess.graph)
        if snapshot is not None and snapshot in elements and not (feed_dict and snapshot in feed_dict):
            feed_dict = dict(feed_dict) if feed_dict else {}
            feed_dict[snapshot] = self._read_snapshot(snapshot)
        values = sess.run(elements, feed_dict=feed_dict, options=options, run_metadata=run_metadata)
        return mapper.build(values)

    def _read_snapshot(self, snapshot):
        """The snapshot's value now: the global step variable's (one cheap read, no cond to evaluate), or,
        while that is not initialized or not a variable, the snapshot itself (its initial value)."""
        step = training_util.get_global_step(self._sess.graph)
        if step is not None and hasattr(step, "initializer"):
            try:
                return np.asarray(self._sess.run(step), dtype=snapshot.dtype.as_numpy_dtype)
            except errors.FailedPreconditionError:
                pass
        return self._sess.run(snapshot)

    def _call_hook_before_run(self, run_context, fetch_dict, user_feed_dict, options):
        hook_feeds: dict = {}
        for hook in self._hooks:
            request = hook.before_run(run_context)
            if request is not None:
                if request.fetches is not None:
                    fetch_dict[hook] = request.fetches
                if request.feed_dict:
                    self._raise_if_feeds_intersects(hook_feeds, request.feed_dict, "Same tensor is fed by two hooks.")
                    hook_feeds.update(request.feed_dict)
                if request.options:
                    self._merge_run_options(options, request.options)
        if not hook_feeds:
            return user_feed_dict
        if not user_feed_dict:
            return hook_feeds
        self._raise_if_feeds_intersects(user_feed_dict, hook_feeds,
                                        "Same tensor is fed by a SessionRunHook and user.")
        hook_feeds.update(user_feed_dict)
        return hook_feeds

    @staticmethod
    def _raise_if_feeds_intersects(feeds1, feeds2, message: str) -> None:
        intersection = set(feeds1.keys()) & set(feeds2.keys())
        if intersection:
            raise RuntimeError(message + " Conflict(s): " + str(list(intersection)))

    @staticmethod
    def _merge_run_options(options, incoming) -> None:
        for field in ("trace_level", "timeout_in_ms", "inter_op_thread_pool", "output_partition_graphs"):
            if hasattr(incoming, field):
                setattr(options, field, max(getattr(options, field, 0) or 0, getattr(incoming, field) or 0))
        if getattr(incoming, "report_tensor_allocations_upon_oom", False):
            options.report_tensor_allocations_upon_oom = True

