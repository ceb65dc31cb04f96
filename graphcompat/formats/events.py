"""Event files for TensorBoard: ``events.out.tfevents.<%010d seconds>.<hostname><suffix>``.

Each file is a TFRecord stream of serialized ``Event`` protos whose first record is
``Event(wall_time, file_version="brain.Event:2")``. Like TF's writer, events are queued and
written when ``max_queue`` of them are pending, and flushed to disk every ``flush_secs`` by a
daemon thread, on ``flush()`` and on ``close()``; open writers are also flushed at interpreter exit.
"""

from __future__ import annotations

import atexit
import itertools
import os
import socket
import threading
import time
import weakref

from .errors import io_error
from .localfs import recursively_create_dir
from .records import encode_record

FILE_VERSION = "brain.Event:2"
_open_writers: "weakref.WeakSet[EventFileWriter]" = weakref.WeakSet()


def _event_pb2():
    from tensorboard.compat.proto import event_pb2  # first use only: keeps import light
    return event_pb2


class EventFileWriter:
    """Writes ``Event`` protos (or their serialized bytes) to a new event file in ``logdir``."""

    # TF's Python writer flushes every `flush_secs` from a thread; TF's C++ one (SummaryFileWriter) does not
    _periodic_flush = True

    def __init__(self, logdir: str, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "") -> None:
        self._logdir = str(logdir)
        self._max_queue = max(1, int(max_queue))
        self._flush_secs = flush_secs
        self._suffix = filename_suffix or ""
        self._lock = threading.RLock()
        self._pending: list[bytes] = []
        self._file = None
        self._path = ""
        self._closed = True
        self.reopen()

    # -- public API ------------------------------------------------------------------------------

    def get_logdir(self) -> str:
        return self._logdir

    @property
    def path(self) -> str:
        """The current event file."""
        return self._path

    def add_event(self, event) -> None:
        """Queues an ``Event`` (or serialized bytes); ignored after ``close()``, as in TF."""
        data = event if isinstance(event, (bytes, bytearray)) else event.SerializeToString()
        with self._lock:
            if self._closed:
                return
            self._pending.append(bytes(data))
            if len(self._pending) >= self._max_queue:
                self._write_pending()

    def flush(self) -> None:
        """Writes every queued event and flushes the file to the operating system."""
        with self._lock:
            if self._closed:
                return
            if not os.path.exists(self._path):
                # The file was deleted under us: start a new one, as TF's EventsWriter does.
                self._file.close()
                self._open_new_file()
            self._write_pending()
            self._file.flush()

    def close(self) -> None:
        """Flushes and closes the file; ``reopen()`` starts a new file in the same logdir."""
        with self._lock:
            if self._closed:
                return
            self.flush()
            self._file.close()
            self._file = None
            self._closed = True
            self._stop.set()
        _open_writers.discard(self)

    def reopen(self) -> None:
        """After ``close()``: opens a new event file and resumes periodic flushing."""
        with self._lock:
            if not self._closed:
                return
            recursively_create_dir(self._logdir)  # TF's errors: "<path> is not a directory"
            self._open_new_file()
            self._closed = False
            self._stop = threading.Event()
            if self._periodic_flush:
                thread = threading.Thread(target=_flush_periodically,
                                          args=(weakref.ref(self), self._stop, self._flush_secs),
                                          name="EventFileWriterFlush", daemon=True)
                thread.start()
        _open_writers.add(self)

    def __enter__(self) -> "EventFileWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------

    def _open_new_file(self) -> None:
        now = time.time()
        base = os.path.join(self._logdir, f"events.out.tfevents.{int(now):010d}.{socket.gethostname()}{self._suffix}")
        # TF would truncate a same-second file of the same name (e.g. after reopen()); number it instead.
        path, n = base, 0
        while os.path.exists(path):
            n += 1
            path = f"{base}.{n}"
        self._path = path
        try:
            self._file = open(path, "wb")
        except OSError as exc:
            raise io_error(path, exc) from None
        self._file.write(encode_record(self._version_event(now).SerializeToString()))
        self._file.flush()

    def _version_event(self, now: float):
        """The first record of every file (TF's Python EventFileWriter's)."""
        return _event_pb2().Event(wall_time=now, file_version=FILE_VERSION)

    def _write_pending(self) -> None:
        if self._pending:
            self._file.write(b"".join(encode_record(data) for data in self._pending))
            self._pending.clear()


class SummaryFileWriter(EventFileWriter):
    """TF's C++ SummaryFileWriter (core/summary/summary_file_writer.cc, util/events_writer.cc): the event file of
    a `CreateSummaryFileWriter` resource.

    The file is ``events.out.tfevents.<seconds>.<hostname>.<pid>.<n>[.]<suffix>`` (`n` counts the writers this
    process made), its version event carries integer seconds and the writer's name. Events wait in a queue
    that is written and flushed when an event arrives and finds more than `max_queue` queued, or the last
    flush more than `flush_millis` ago (there is no timer: an idle writer flushes on `flush()` / `close()`).
    """

    _periodic_flush = False
    _file_ids = itertools.count()

    def __init__(self, logdir: str, max_queue: int, flush_millis: int, filename_suffix: str) -> None:
        self._queue_limit = int(max_queue)
        self._flush_millis = int(flush_millis)
        separator = "" if filename_suffix.startswith(".") else "."
        unique = f".{os.getpid()}.{next(SummaryFileWriter._file_ids)}{separator}{filename_suffix}"
        self._last_flush = time.time()
        super().__init__(logdir, max_queue=2 ** 31 - 1, flush_secs=0, filename_suffix=unique)

    def _version_event(self, now: float):
        event = _event_pb2().Event(wall_time=float(int(now)), file_version=FILE_VERSION)
        event.source_metadata.writer = "tensorflow.core.util.events_writer"
        return event

    def write_event(self, data: bytes) -> None:
        """Queues one serialized Event; writes and flushes the queue when TF's writer would."""
        with self._lock:
            if self._closed:
                return
            self._pending.append(bytes(data))
            if len(self._pending) > self._queue_limit or \
                    (time.time() - self._last_flush) * 1000.0 > self._flush_millis:
                self.flush()

    def flush(self) -> None:
        with self._lock:
            super().flush()
            self._last_flush = time.time()


def _flush_periodically(writer_ref, stop: threading.Event, interval: float) -> None:
    # Holds only a weak reference, so an abandoned writer can still be collected.
    while not stop.wait(interval):
        writer = writer_ref()
        if writer is None:
            return
        writer.flush()
        del writer


@atexit.register
def _flush_all_at_exit() -> None:
    for writer in list(_open_writers):
        try:
            writer.flush()
        except Exception:  # never let a logging flush break interpreter shutdown
            pass
