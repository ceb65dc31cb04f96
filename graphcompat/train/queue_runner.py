"""`tf.train.QueueRunner`, `add_queue_runner`, `start_queue_runners` (TF's queue_runner_impl.py).

A QueueRunner runs each of its enqueue ops in a loop, one thread per op, against a Session. Queue
ops are host rules that block outside the Session's lock (lowering/rules/queues.py), so these
threads and the training loop's compiled steps run concurrently. When an enqueue raises one of the
"queue closed" errors (OutOfRangeError: its input ran dry) the thread ends, and the last thread of a
session closes the queue so its consumers see OutOfRangeError once it is drained. With a Coordinator,
any other error requests a stop, and an extra thread cancels pending enqueues once a stop is requested.
"""
from __future__ import annotations

import threading
import weakref
from graphcompat import tf_logging as logging
from graphcompat.framework import errors
from graphcompat.framework import ops as _ops


def _prepend_scope(name: str, scope) -> str:
    """TF's ops.prepend_name_scope for a node name."""
    return f"{scope}/{name}" if scope else name


def _strip_scope(name: str, scope) -> str:
    """TF's ops.strip_name_scope for a node name."""
    return name[len(scope) + 1:] if scope and name.startswith(scope + "/") else name


class QueueRunner:
    """`tf.train.QueueRunner(queue=None, enqueue_ops=None, close_op=None, cancel_op=None,
    queue_closed_exception_types=None, queue_runner_def=None, import_scope=None)`."""

    def __init__(self, queue=None, enqueue_ops=None, close_op=None, cancel_op=None,
                 queue_closed_exception_types=None, queue_runner_def=None, import_scope=None):
        self._lock = threading.Lock()
        self._runs_per_session: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
        self._exceptions_raised: list = []
        if queue_runner_def is not None:
            if queue or enqueue_ops:
                raise ValueError("queue_runner_def and queue are mutually exclusive.")
            self._init_from_proto(queue_runner_def, import_scope)
            return
        if not queue or not enqueue_ops:
            raise ValueError("Must provide queue and enqueue_ops.")
        self._queue = queue
        self._enqueue_ops = enqueue_ops
        self._close_op = close_op
        self._cancel_op = cancel_op
        if queue_closed_exception_types is not None:
            if not isinstance(queue_closed_exception_types, tuple) or not queue_closed_exception_types or \
                    not all(isinstance(t, type) and issubclass(t, errors.OpError)
                            for t in queue_closed_exception_types):
                raise TypeError(f"queue_closed_exception_types, when provided, must be a tuple of tf.error types, "
                                f"but saw: {queue_closed_exception_types}")
        if self._close_op is None:
            self._close_op = self._queue.close()
        if self._cancel_op is None:
            self._cancel_op = self._queue.close(cancel_pending_enqueues=True)
        self._queue_closed_exception_types = tuple(queue_closed_exception_types or (errors.OutOfRangeError,))

    def _init_from_proto(self, queue_runner_def, import_scope=None) -> None:
        """TF's: the queue, enqueue, close and cancel ops by name (the queue is its op, as in TF)."""
        graph = _ops.get_default_graph()

        def element(name: str):
            return graph.as_graph_element(_prepend_scope(name, import_scope))
        self._queue = element(queue_runner_def.queue_name)
        self._enqueue_ops = [element(name) for name in queue_runner_def.enqueue_op_name]
        self._close_op = element(queue_runner_def.close_op_name)
        self._cancel_op = element(queue_runner_def.cancel_op_name)
        # QueueRunnerDefs older than the field name none: OutOfRangeError, as TF's legacy support
        self._queue_closed_exception_types = tuple(
            errors.exception_type_from_error_code(code) for code in queue_runner_def.queue_closed_exception_types) \
            or (errors.OutOfRangeError,)

    @property
    def queue(self):
        return self._queue

    @property
    def enqueue_ops(self) -> list:
        return self._enqueue_ops

    @property
    def close_op(self):
        return self._close_op

    @property
    def cancel_op(self):
        return self._cancel_op

    @property
    def queue_closed_exception_types(self) -> tuple:
        return self._queue_closed_exception_types

    @property
    def exceptions_raised(self) -> list:
        """Exceptions the threads raised (when they ran without a Coordinator)."""
        return self._exceptions_raised

    @property
    def name(self) -> str:
        return self._queue.name

    def _run(self, sess, enqueue_op, coord=None) -> None:
        decremented = False
        try:
            enqueue = sess.make_callable(enqueue_op)
            while True:
                if coord and coord.should_stop():
                    break
                try:
                    enqueue()
                except self._queue_closed_exception_types:
                    with self._lock:
                        self._runs_per_session[sess] -= 1
                        decremented = True
                        if self._runs_per_session[sess] == 0:
                            try:
                                sess.run(self._close_op)
                            except Exception as e:  # noqa: BLE001  (TF ignores errors of the close op)
                                logging.debug("Ignored exception: %s", e)
                        return
        except Exception as e:  # noqa: BLE001
            if coord:
                coord.request_stop(e)
            else:
                logging.error("Exception in QueueRunner: %s", e)
                with self._lock:
                    self._exceptions_raised.append(e)
                raise
        finally:
            if not decremented:
                with self._lock:
                    self._runs_per_session[sess] -= 1

    def _close_on_stop(self, sess, cancel_op, coord) -> None:
        coord.wait_for_stop()
        try:
            sess.run(cancel_op)
        except Exception as e:  # noqa: BLE001  (the session may be closed already)
            logging.debug("Ignored exception: %s", e)

    def create_threads(self, sess, coord=None, daemon: bool = False, start: bool = False) -> list:
        """One thread per enqueue op (plus, with `coord`, one that cancels pending enqueues on stop).

        Returns [] when threads of this runner are still running for `sess`.
        """
        with self._lock:
            if self._runs_per_session.get(sess, 0) > 0:
                return []
            self._runs_per_session[sess] = len(self._enqueue_ops)
            self._exceptions_raised = []
        threads = [threading.Thread(target=self._run, args=(sess, op, coord),
                                    name=f"QueueRunnerThread-{self.name}-{op.name}")
                   for op in self._enqueue_ops]
        if coord:
            threads.append(threading.Thread(target=self._close_on_stop, args=(sess, self._cancel_op, coord),
                                            name=f"QueueRunnerThread-{self.name}-close_on_stop"))
        for t in threads:
            if coord:
                coord.register_thread(t)
            if daemon:
                t.daemon = True
            if start:
                t.start()
        return threads

    def to_proto(self, export_scope=None):
        """TF's QueueRunnerDef of this runner (None when its queue is outside `export_scope`)."""
        from graphcompat.formats.protos import QueueRunnerDef
        if export_scope is not None and not self.queue.name.startswith(export_scope):
            return None
        proto = QueueRunnerDef(queue_name=_strip_scope(self.queue.name, export_scope))
        proto.enqueue_op_name.extend(_strip_scope(op.name, export_scope) for op in self.enqueue_ops)
        proto.close_op_name = _strip_scope(self.close_op.name, export_scope)
        proto.cancel_op_name = _strip_scope(self.cancel_op.name, export_scope)
        proto.queue_closed_exception_types.extend(
            errors.error_code_from_exception_type(cls) for cls in self._queue_closed_exception_types)
        return proto

    @staticmethod
    def from_proto(queue_runner_def, import_scope=None) -> "QueueRunner":
        return QueueRunner(queue_runner_def=queue_runner_def, import_scope=import_scope)


def add_queue_runner(qr: QueueRunner, collection: str = _ops.GraphKeys.QUEUE_RUNNERS) -> None:
    """`tf.train.add_queue_runner`: adds `qr` to the graph's QUEUE_RUNNERS collection."""
    _ops.add_to_collection(collection, qr)


def start_queue_runners(sess=None, coord=None, daemon: bool = True, start: bool = True,
                        collection: str = _ops.GraphKeys.QUEUE_RUNNERS) -> list:
    """`tf.train.start_queue_runners`: starts the threads of every QueueRunner in `collection`."""
    from graphcompat.client.session import BaseSession, get_default_session
    if sess is None:
        sess = get_default_session()
        if not sess:
            raise ValueError("Cannot start queue runners: No default session is registered. Use `with "
                             "sess.as_default()` or pass an explicit session to tf.start_queue_runners(sess=sess)")
    if not isinstance(sess, BaseSession):
        if type(sess).__name__ in ("MonitoredSession", "SingularMonitoredSession"):
            return []  # a MonitoredSession starts its queue runners itself
        raise TypeError(f"sess must be a `tf.Session` object. Given class: {sess.__class__}")
    if not sess.graph.get_collection(collection):
        logging.warning("`tf.train.start_queue_runners()` was called when no queue runners were defined. You "
                        "can safely remove the call to this deprecated function.")
    with sess.graph.as_default():
        threads: list = []
        for qr in sess.graph.get_collection(collection):
            threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads

