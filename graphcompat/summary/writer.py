"""`tf.summary.FileWriter` and `FileWriterCache`: TF's event-writing front end over formats.events.

Events are TensorFlow's own `Event` protos (tensorboard.compat.proto), written by graphcompat's small
queued writer (formats.events.EventFileWriter), so TensorBoard reads them like TF's.

As in TF, a FileWriter hands each event to a writer thread: `add_summary` parses and checks the summary
(bad bytes fail in the caller, as TF's) and returns; the thread serializes, frames and writes the records
in order, so a training loop that writes summaries every step does not wait for the file. `flush()`
returns once every event added before it is written and flushed to the operating system; `close()`
drains the queue, closes the file and ends the thread (pending events are also drained at exit).

`FileWriter(logdir, session=sess)` is TF's other writer (EventFileWriterV2): it records a tf.contrib.summary file
writer in the session's graph (ops under `filewriter/`) and writes each event by running its ImportEvent op in
the caller's thread, into the resource writer's file (graphcompat/summary/summary_ops_v2.py).
"""
from __future__ import annotations

import atexit
import queue
import threading
import time
import warnings
import weakref
from typing import Callable, Optional, Union

from graphcompat.formats.events import EventFileWriter
from graphcompat.framework import ops as _ops


def _pb2():
    from tensorboard.compat.proto import event_pb2, graph_pb2, meta_graph_pb2, summary_pb2
    return event_pb2, graph_pb2, meta_graph_pb2, summary_pb2


_STOP = object()
_live_queues: "weakref.WeakSet[_EventQueue]" = weakref.WeakSet()


class _EventQueue:
    """One writer thread per FileWriter: event records (bytes, or callables making them) written in order.

    The thread holds the EventFileWriter and the queue, never the FileWriter; a FileWriter dropped without
    `close()` still gets its queued events written (its finalizer stops the thread after them).
    """

    def __init__(self, event_writer: EventFileWriter, max_queue: int):
        self._queue: queue.Queue = queue.Queue(max(1, int(max_queue)))  # a full queue blocks, as TF's
        self._errors: list = []
        self._thread = threading.Thread(target=_write_events, args=(self._queue, event_writer, self._errors),
                                        name="graphcompat-FileWriter", daemon=True)
        self._thread.start()
        _live_queues.add(self)

    def put(self, record: Union[bytes, Callable[[], bytes]]) -> None:
        self._raise_error()
        self._queue.put(record)

    def drain(self) -> None:
        """Returns when every record put before this call is with the EventFileWriter."""
        self._queue.join()
        self._raise_error()

    def stop(self) -> None:
        """Ends the thread after the records already queued (waits for it)."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        _live_queues.discard(self)

    def stop_later(self) -> None:
        """The finalizer's stop: never waits (it may run in any thread, the writer thread included)."""
        try:
            self._queue.put_nowait(_STOP)
        except queue.Full:
            threading.Thread(target=self._queue.put, args=(_STOP,), daemon=True).start()

    def _raise_error(self) -> None:
        if self._errors:
            raise self._errors.pop(0)


def _write_events(q: queue.Queue, event_writer: EventFileWriter, errors: list) -> None:
    while True:
        record = q.get()
        try:
            if record is _STOP:
                return
            event_writer.add_event(record() if callable(record) else record)
        except BaseException as e:  # surfaces in the caller's next add/flush
            errors.append(e)
        finally:
            q.task_done()


class _InCaller:
    """The _EventQueue interface without a thread: a session's writer runs its ops in the caller, as TF's."""

    def __init__(self, event_writer):
        self._event_writer = event_writer

    def put(self, record: Union[bytes, Callable[[], bytes]]) -> None:
        self._event_writer.add_event(record() if callable(record) else record)

    def drain(self) -> None:
        pass

    def stop(self) -> None:
        pass


class _SessionEventWriter:
    """TF's EventFileWriterV2: a `tf.contrib.summary` file writer in the session's graph (ops under `filewriter/`),
    each event written by running its ImportEvent op; the resource is shared by logdir, so its arguments only
    count when it is created."""

    def __init__(self, session, logdir: str, max_queue: int, flush_secs: float, filename_suffix: Optional[str]):
        from graphcompat.framework import dtypes as _dt
        from graphcompat.framework.constant_op import constant
        from graphcompat.io.gfile import makedirs
        from graphcompat.ops.array_ops import placeholder_with_default
        from graphcompat.summary import summary_ops_v2
        self._session = session
        self._logdir = logdir
        self._closed = False
        makedirs(logdir)
        with session.graph.as_default():
            with _ops.name_scope("filewriter"):
                writer = summary_ops_v2.create_file_writer(logdir=logdir, max_queue=max_queue,
                                                           flush_millis=flush_secs * 1000,
                                                           filename_suffix=filename_suffix)
                with summary_ops_v2.always_record_summaries(), writer.as_default():
                    self._event_placeholder = placeholder_with_default(constant("unused", _dt.string), shape=[])
                    self._add_event_op = summary_ops_v2.import_event(self._event_placeholder)
                self._init_op = writer.init()
                self._flush_op = writer.flush()
                self._close_op = writer.close()
            session.run(self._init_op)

    def get_logdir(self) -> str:
        return self._logdir

    def add_event(self, event) -> None:
        if not self._closed:
            data = event if isinstance(event, (bytes, bytearray)) else event.SerializeToString()
            self._session.run(self._add_event_op, feed_dict={self._event_placeholder: bytes(data)})

    def flush(self) -> None:
        self._session.run(self._flush_op)

    def close(self) -> None:
        if not self._closed:
            self.flush()
            self._session.run(self._close_op)
            self._closed = True

    def reopen(self) -> None:
        if self._closed:
            self._closed = False
            self._session.run(self._init_op)


@atexit.register
def _drain_all_at_exit() -> None:
    # Registered after formats.events' own exit flush, so it runs first (atexit is last in, first out).
    for q in list(_live_queues):
        try:
            q.drain()
        except Exception:  # never let a logging flush break interpreter shutdown
            pass


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _summary_event(serialized_summary: bytes, wall_time: float, step: Optional[int]) -> bytes:
    """`Event(wall_time, step, summary)` serialized, around the summary's own bytes (no re-encoding):
    field 5 follows fields 1 and 2, so this is the canonical encoding."""
    event = _pb2()[0].Event(wall_time=wall_time)
    if step is not None:
        event.step = int(step)
    return event.SerializeToString() + b"\x2a" + _varint(len(serialized_summary)) + serialized_summary


class FileWriter:
    """`tf.summary.FileWriter(logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
    filename_suffix=None, session=None)`: writes events to a new file in `logdir`."""

    def __init__(self, logdir, graph=None, max_queue: int = 10, flush_secs: float = 120, graph_def=None,
                 filename_suffix: Optional[str] = None, session=None):
        # `session` selects TF's resource-based writer (EventFileWriterV2): ops of that session's graph write
        # the events, in the caller's thread
        self._session = session
        if session is not None:
            self.event_writer = _SessionEventWriter(session, str(logdir), max_queue, flush_secs, filename_suffix)
        else:
            self.event_writer = EventFileWriter(str(logdir), max_queue, flush_secs, filename_suffix or "")
        self._max_queue = max_queue
        self._events = self._new_queue()
        self._closed = False
        self._session_run_tags: dict = {}
        self._seen_summary_tags: set = set()
        if graph is not None or graph_def is not None:
            self.add_graph(graph=graph, graph_def=graph_def)
            # TF also records the meta graph when given a graph.
            from graphcompat.training import meta_graph
            as_def = graph.as_graph_def(add_shapes=True) if isinstance(graph, _ops.Graph) else graph
            self.add_meta_graph(meta_graph.create_meta_graph_def(graph_def=graph_def or as_def))

    def _new_queue(self):
        if self._session is not None:
            return _InCaller(self.event_writer)
        events = _EventQueue(self.event_writer, self._max_queue)
        weakref.finalize(self, events.stop_later)
        return events

    # --- context manager ----------------------------------------------------------------------
    def __enter__(self) -> "FileWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get_logdir(self) -> str:
        return self.event_writer.get_logdir()

    # --- events -------------------------------------------------------------------------------
    def add_summary(self, summary, global_step=None) -> None:
        """Adds a `Summary` (or its serialized bytes, as `sess.run` of a summary op returns)."""
        summary_pb2 = _pb2()[3]
        serialized = None
        if isinstance(summary, (bytes, bytearray)):
            serialized = bytes(summary)
        elif hasattr(summary, "item") and getattr(summary, "dtype", None) == object:
            serialized = summary.item()
        if serialized is not None:
            summary = summary_pb2.Summary.FromString(serialized)  # bad bytes fail here, as in TF
        elif not isinstance(summary, summary_pb2.Summary):
            # A Summary from another protobuf module (real TF's) has the same wire format.
            summary = summary_pb2.Summary.FromString(summary.SerializeToString())
        # TF keeps plugin metadata only the first time it sees a tag.
        for value in summary.value:
            if not value.HasField("metadata"):
                continue
            if value.tag in self._seen_summary_tags:
                value.ClearField("metadata")
                serialized = None
                continue
            self._seen_summary_tags.add(value.tag)
        if serialized is None:
            serialized = summary.SerializeToString()
        if self._warn_if_closed():
            return
        wall_time, step = time.time(), None if global_step is None else int(global_step)
        self._events.put(lambda: _summary_event(serialized, wall_time, step))

    def add_session_log(self, session_log, global_step=None) -> None:
        event_pb2 = _pb2()[0]
        if not isinstance(session_log, event_pb2.SessionLog):
            session_log = event_pb2.SessionLog.FromString(session_log.SerializeToString())
        self._add_event(event_pb2.Event(session_log=session_log), global_step)

    def add_graph(self, graph, global_step=None, graph_def=None) -> None:
        """Adds the graph (`sess.graph`) as a GraphDef with `_output_shapes` for TensorBoard."""
        event_pb2, graph_pb2, _, _ = _pb2()
        if graph is not None and graph_def is not None:
            raise ValueError("Please pass only graph, or graph_def (deprecated), but not both.")
        if isinstance(graph, _ops.Graph) or isinstance(graph_def, _ops.Graph):
            graph = graph if isinstance(graph, _ops.Graph) else graph_def
            true_graph_def = graph.as_graph_def(add_shapes=True)
        elif graph is not None and type(graph).__name__ == "GraphDef" or \
                graph_def is not None and type(graph_def).__name__ == "GraphDef":
            true_graph_def = graph if graph is not None else graph_def
        else:
            raise TypeError("The passed graph must be an instance of `Graph` or the deprecated `GraphDef`")
        event = event_pb2.Event(graph_def=true_graph_def.SerializeToString())
        self._add_event(event, global_step)

    def add_meta_graph(self, meta_graph_def, global_step=None) -> None:
        event_pb2, _, meta_graph_pb2, _ = _pb2()
        if type(meta_graph_def).__name__ != "MetaGraphDef":
            raise TypeError(f"meta_graph_def must be type MetaGraphDef, saw type: {type(meta_graph_def)}")
        event = event_pb2.Event(meta_graph_def=meta_graph_def.SerializeToString())
        self._add_event(event, global_step)

    def add_run_metadata(self, run_metadata, tag: str, global_step=None) -> None:
        event_pb2 = _pb2()[0]
        if tag in self._session_run_tags:
            raise ValueError("The provided tag was already used for this event type")
        self._session_run_tags[tag] = True
        tagged = event_pb2.TaggedRunMetadata(tag=tag, run_metadata=run_metadata.SerializeToString())
        self._add_event(event_pb2.Event(tagged_run_metadata=tagged), global_step)

    def add_event(self, event) -> None:
        """Adds an `Event` as given (its wall_time and step are the caller's)."""
        if not self._warn_if_closed():
            self._events.put(event.SerializeToString())

    def _add_event(self, event, step) -> None:
        if self._warn_if_closed():
            return
        event.wall_time = time.time()
        if step is not None:
            event.step = int(step)
        self._events.put(event.SerializeToString())

    def _warn_if_closed(self) -> bool:
        if self._closed:
            warnings.warn("Attempting to use a closed FileWriter. The operation will be a noop unless the "
                          "FileWriter is explicitly reopened.")
        return self._closed

    # --- lifecycle ----------------------------------------------------------------------------
    def flush(self) -> None:
        """Returns once every event added so far is written and flushed to the operating system."""
        if self._warn_if_closed():
            return
        self._events.drain()
        self.event_writer.flush()

    def close(self) -> None:
        """Writes every pending event, closes the file and ends the writer thread."""
        if self._closed:
            return
        self._events.drain()
        self._events.stop()
        self.event_writer.close()
        self._closed = True

    def reopen(self) -> None:
        """After close(): further events go to a new file in the same logdir."""
        if not self._closed:
            return
        self.event_writer.reopen()
        self._events = self._new_queue()
        self._closed = False


class FileWriterCache:
    """One FileWriter per logdir (`tf.summary.FileWriterCache`)."""

    _cache: dict = {}
    _lock = threading.RLock()

    @staticmethod
    def clear() -> None:
        with FileWriterCache._lock:
            for writer in FileWriterCache._cache.values():
                writer.close()
            FileWriterCache._cache = {}

    @staticmethod
    def get(logdir) -> FileWriter:
        with FileWriterCache._lock:
            if logdir not in FileWriterCache._cache:
                FileWriterCache._cache[logdir] = FileWriter(logdir, graph=_ops.get_default_graph())
            return FileWriterCache._cache[logdir]
