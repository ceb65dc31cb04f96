"""`tf.train.SessionManager`: creating a session that is initialized or restored from a checkpoint
(TF's session_manager.py). `prepare_session` restores the latest checkpoint of `checkpoint_dir` when
there is one, else runs `init_op`/`init_fn`; then the local init op; then checks `ready_op` (the names
of uninitialized variables) and raises TF's RuntimeError when the model is not ready.
"""
from __future__ import annotations

import time
from typing import Optional

from graphcompat import tf_logging as logging
from graphcompat.framework import errors
from graphcompat.framework import ops as _ops


def _maybe_name(obj) -> str:
    if obj is None:
        return "None"
    return getattr(obj, "name", f"<no name for {type(obj)}>")


def _ready(op, sess, msg: str):
    """(ready, message): ready when `op` is None or reports no uninitialized variables."""
    if op is None:
        return True, None
    try:
        ready_value = sess.run(op)
        if ready_value is None or ready_value.dtype == "int32" or ready_value.size == 0:
            return True, None
        names = ", ".join(v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in ready_value)
        return False, "Variables not initialized: " + names
    except errors.FailedPreconditionError as e:
        if "uninitialized" not in str(e):
            logging.warning("%s : error [%s]", msg, e)
            raise
        return False, str(e)


class _CountDownTimer:
    __slots__ = ("_start", "_duration")

    def __init__(self, duration_secs: float):
        self._start = time.time()
        self._duration = duration_secs

    def secs_remaining(self) -> float:
        return max(0, self._duration - (time.time() - self._start))


class SessionManager:
    """`tf.train.SessionManager(local_init_op=None, ready_op=None, ready_for_local_init_op=None, graph=None,
    recovery_wait_secs=30, local_init_run_options=None, local_init_feed_dict=None)`."""

    def __init__(self, local_init_op=None, ready_op=None, ready_for_local_init_op=None, graph=None,
                 recovery_wait_secs=30, local_init_run_options=None, local_init_feed_dict=None):
        if graph is None:
            graph = _ops.get_default_graph()
        self._local_init_op = local_init_op
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._graph = graph
        self._recovery_wait_secs = recovery_wait_secs
        self._target = None
        self._local_init_run_options = local_init_run_options
        self._local_init_feed_dict = local_init_feed_dict
        if ready_for_local_init_op is not None and local_init_op is None:
            raise ValueError(f"If you pass a ready_for_local_init_op you must also pass a local_init_op , "
                             f"ready_for_local_init_op [{ready_for_local_init_op}]")

    def _new_session(self, master: str, config):
        from graphcompat.client.session import Session
        return Session(master, graph=self._graph, config=config)

    def _restore_checkpoint(self, master: str, saver=None, checkpoint_dir: Optional[str] = None,
                            checkpoint_filename_with_path: Optional[str] = None, wait_for_checkpoint: bool = False,
                            max_wait_secs: float = 7200, config=None):
        from graphcompat.training.saver import get_checkpoint_state
        self._target = master
        sess = self._new_session(master, config)
        if checkpoint_dir and checkpoint_filename_with_path:
            raise ValueError("Can not provide both checkpoint_dir and checkpoint_filename_with_path.")
        if not saver or not (checkpoint_dir or checkpoint_filename_with_path):
            return sess, False
        if checkpoint_filename_with_path:
            self._restore(sess, saver, checkpoint_filename_with_path)
            return sess, True
        wait_time = 0
        ckpt = get_checkpoint_state(checkpoint_dir)
        while not ckpt or not ckpt.model_checkpoint_path:
            if wait_for_checkpoint and wait_time < max_wait_secs:
                logging.info("Waiting for checkpoint to be available.")
                time.sleep(self._recovery_wait_secs)
                wait_time += self._recovery_wait_secs
                ckpt = get_checkpoint_state(checkpoint_dir)
            else:
                return sess, False
        self._restore(sess, saver, ckpt.model_checkpoint_path)
        saver.recover_last_checkpoints(list(ckpt.all_model_checkpoint_paths))
        return sess, True

    def _restore(self, sess, saver, path: str) -> None:
        initializers = self._graph.get_collection("saved_model_initializers")
        if initializers:
            sess.run(initializers)
        saver.restore(sess, path)

    def prepare_session(self, master: str, init_op=None, saver=None, checkpoint_dir=None,
                        checkpoint_filename_with_path=None, wait_for_checkpoint=False, max_wait_secs=7200,
                        config=None, init_feed_dict=None, init_fn=None):
        """A session restored from the latest checkpoint, or initialized by `init_op`/`init_fn`; ready."""
        sess, loaded = self._restore_checkpoint(master, saver, checkpoint_dir=checkpoint_dir,
                                                checkpoint_filename_with_path=checkpoint_filename_with_path,
                                                wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs,
                                                config=config)
        if not loaded:
            if init_op is None and not init_fn and self._local_init_op is None:
                raise RuntimeError("Model is not initialized and no init_op or init_fn or local_init_op was given")
            if init_op is not None:
                sess.run(init_op, feed_dict=init_feed_dict)
            if init_fn:
                init_fn(sess)
        local_init_success, msg = self._try_run_local_init_op(sess)
        if not local_init_success:
            raise RuntimeError(f"Init operations did not make model ready for local_init.  Init op: "
                               f"{_maybe_name(init_op)}, init fn: {init_fn}, error: {msg}")
        is_ready, msg = self._model_ready(sess)
        if not is_ready:
            raise RuntimeError(f"Init operations did not make model ready.  Init op: {_maybe_name(init_op)}, init fn: "
                               f"{init_fn}, local_init_op: {self._local_init_op}, error: {msg}")
        return sess

    def recover_session(self, master: str, saver=None, checkpoint_dir=None, checkpoint_filename_with_path=None,
                        wait_for_checkpoint=False, max_wait_secs=7200, config=None):
        """(session, True) when it was restored from a checkpoint and is ready, else (session, False)."""
        sess, loaded = self._restore_checkpoint(master, saver, checkpoint_dir=checkpoint_dir,
                                                checkpoint_filename_with_path=checkpoint_filename_with_path,
                                                wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs,
                                                config=config)
        local_init_success, msg = self._try_run_local_init_op(sess)
        if not loaded:
            return sess, False
        restoring_file = checkpoint_dir or checkpoint_filename_with_path
        if not local_init_success:
            logging.info("Restoring model from %s did not make model ready for local init: %s", restoring_file, msg)
            return sess, False
        is_ready, msg = self._model_ready(sess)
        if not is_ready:
            logging.info("Restoring model from %s did not make model ready: %s", restoring_file, msg)
            return sess, False
        logging.info("Restored model from %s", restoring_file)
        return sess, loaded

    def wait_for_session(self, master: str, config=None, max_wait_secs=float("Inf")):
        """Creates sessions until one is ready (another process initializes the model); DeadlineExceededError
        after `max_wait_secs`."""
        self._target = master
        if max_wait_secs is None:
            max_wait_secs = float("Inf")
        timer = _CountDownTimer(max_wait_secs)
        while True:
            sess = self._new_session(master, config)
            not_ready_msg = None
            local_init_success, not_ready_local_msg = self._try_run_local_init_op(sess)
            if local_init_success:
                is_ready, not_ready_msg = self._model_ready(sess)
                if is_ready:
                    return sess
            self._safe_close(sess)
            if timer.secs_remaining() - self._recovery_wait_secs < 0:
                raise errors.DeadlineExceededError(None, None, f"Session was not ready after waiting "
                                                               f"{int(max_wait_secs) if max_wait_secs != float('inf') else max_wait_secs} secs.")
            logging.info("Waiting for model to be ready.  Ready_for_local_init_op:  %s, ready: %s",
                         not_ready_local_msg, not_ready_msg)
            time.sleep(self._recovery_wait_secs)

    @staticmethod
    def _safe_close(sess) -> None:
        try:
            sess.close()
        except Exception:  # noqa: BLE001  (TF ignores errors while discarding a session)
            pass

    def _model_ready(self, sess):
        return _ready(self._ready_op, sess, "Model not ready")

    def _model_ready_for_local_init(self, sess):
        return _ready(self._ready_for_local_init_op, sess, "Model not ready for local init")

    def _try_run_local_init_op(self, sess):
        if self._local_init_op is not None:
            is_ready_for_local_init, msg = self._model_ready_for_local_init(sess)
            if is_ready_for_local_init:
                logging.info("Running local_init_op.")
                sess.run(self._local_init_op, feed_dict=self._local_init_feed_dict,
                         options=self._local_init_run_options)
                logging.info("Done running local_init_op.")
                return True, None
            return False, msg
        return True, None
