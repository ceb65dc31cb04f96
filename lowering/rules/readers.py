"""Lowerings of TF1 readers (graphcompat/ops/io_ops.py) and `MatchingFiles`: host rules.

A reader op creates its `HostReader` in the Session's state on first use (lowering/rules/queues.py
`get_or_create`). `read` follows TF's ReaderBase: when no work item is in progress it dequeues a file
name from the queue (blocking; a closed, empty queue raises the queue's OutOfRangeError), opens it
("work started"; a file that cannot be opened is skipped by the next read), and produces records
until the file ends ("work finished"). A failure while reading keeps the work item, so the next read
retries it, as in TF. One lock per reader: several QueueRunner threads may share it.
"""
from __future__ import annotations

import glob
import gzip
import os
import threading
import zlib

import numpy as np

from graphcompat.formats import records as _records
from graphcompat.formats.errors import FormatError
from graphcompat.framework import errors
from lowering.registry import kernel_type, lowers
from lowering.rules.queues import get_or_create

_ERROR_CLASSES = {"DATA_LOSS": errors.DataLossError, "NOT_FOUND": errors.NotFoundError,
                  "INVALID_ARGUMENT": errors.InvalidArgumentError}


def _os_error(path: str, exc: OSError, op):
    if isinstance(exc, FileNotFoundError):
        return errors.NotFoundError(None, op, f"{path}; No such file or directory")
    if isinstance(exc, IsADirectoryError):
        return errors.FailedPreconditionError(None, op, f"{path}; Is a directory")
    return errors.UnknownError(None, op, f"{path}; {exc.strerror or exc}")


def _open(path: str, op):
    try:
        return open(path, "rb")
    except OSError as exc:
        raise _os_error(path, exc, op) from None


# ------------------------------------------------------------------------------------------------
# Record sources: `start(work, attrs, op)` opens a work item ("work started"; raising skips it) and
# returns an iterator of its (key, value, last) records; `last` ends the work item with its record
# (TF's readers that produce one record per item), otherwise the item ends when the iterator does
# ------------------------------------------------------------------------------------------------
def _whole_file(work: bytes, attrs: dict, op):
    def records():  # TF reads the file when the record is read: a failure keeps the work item
        with _open(work.decode(), op) as f:
            yield work, f.read(), True
    return records()


def _identity(work: bytes, attrs: dict, op):
    return iter([(work, work, True)])


def _text_lines(work: bytes, attrs: dict, op):
    f = _open(work.decode(), op)
    line_number = 0
    for _ in range(int(attrs.get("skip_header_lines", 0))):
        if not f.readline():
            break  # TF skips a file shorter than its header
        line_number += 1

    def records():
        nonlocal line_number
        with f:
            while True:
                line = f.readline()
                if not line:
                    return
                line_number += 1
                if line.endswith(b"\n"):
                    line = line[:-1]
                if line.endswith(b"\r"):
                    line = line[:-1]
                yield work + b":" + str(line_number).encode(), line, False
    return records()


def _tf_records(work: bytes, attrs: dict, op):
    path = work.decode()
    _open(path, op).close()

    def records():
        offset = 0
        try:
            for payload in _records.read_records(path, attrs.get("compression_type", "")):
                yield work + b":" + str(offset).encode(), payload, False
                offset += 16 + len(payload)  # 12-byte header + payload + 4-byte footer
        except FormatError as exc:
            raise _ERROR_CLASSES.get(exc.kind, errors.UnknownError)(None, op, exc.message) from None
    return records()


def _fixed_length(work: bytes, attrs: dict, op):
    with _open(work.decode(), op) as f:
        data = f.read()
    encoding = (attrs.get("encoding") or "").upper()
    try:
        if encoding == "GZIP":
            data = gzip.decompress(data)
        elif encoding == "ZLIB":
            data = zlib.decompress(data)
    except (OSError, zlib.error, EOFError) as exc:
        raise errors.DataLossError(None, op, f"{work.decode()}: {exc}") from None
    header, footer = int(attrs.get("header_bytes", 0)), int(attrs.get("footer_bytes", 0))
    size, hop = int(attrs["record_bytes"]), int(attrs.get("hop_bytes", 0)) or int(attrs["record_bytes"])
    body = data[header:len(data) - footer]

    def records():
        index, start = 0, 0
        while start + size <= len(body):
            yield work + b":" + str(index).encode(), body[start:start + size], False
            index += 1
            start += hop
    return records()


_SOURCES = {"WholeFileReaderV2": _whole_file, "IdentityReaderV2": _identity, "TextLineReaderV2": _text_lines,
            "TFRecordReaderV2": _tf_records, "FixedLengthRecordReaderV2": _fixed_length}


class _Work:
    """The work item in progress. A record that failed to read is retried by the next read (TF keeps the
    work item): the source is reopened and advanced past the records already produced."""

    def __init__(self, start, work: bytes, attrs: dict, op):
        self.work = work
        self._start, self._attrs = start, attrs
        self._records = start(work, attrs, op)
        self.produced = 0

    def next(self, op):
        """The next (key, value, last), or None at the end of the work item."""
        if self._records is None:
            self._records = self._start(self.work, self._attrs, op)
            for _ in range(self.produced):
                next(self._records, None)
        try:
            record = next(self._records)
        except StopIteration:
            return None
        except errors.OpError:
            self._records = None
            raise
        self.produced += 1
        return record


class HostReader:
    """TF's ReaderBase state: counters, the current work item, and one lock."""

    def __init__(self, op, name: str):
        self.name = name
        self.kind = kernel_type(op.type)
        self.tf_name = f"{self.kind[:-2]} '{op.name}'"  # ReaderBase::name(), as TF's errors print it
        self._source = _SOURCES[self.kind]
        self._attrs = dict(op.attrs)
        self._lock = threading.Lock()
        self.work_started = 0
        self.work_finished = 0
        self.num_records_produced = 0
        self._work = None

    def _in_progress(self) -> bool:
        return self.work_finished < self.work_started

    def _next_work(self, op, queue) -> None:
        element = queue.dequeue(op)
        if len(element) != 1:
            raise errors.InvalidArgumentError(None, op, "Expected single component queue")
        if queue.dtypes[0] != np.dtype(object):
            raise errors.InvalidArgumentError(None, op, "Expected queue with single string component")
        value = np.asarray(element[0], dtype=object)
        if value.size != 1:
            raise errors.InvalidArgumentError(None, op, "Expected to dequeue a one-element string tensor")
        work = value.reshape(-1)[0]
        work = work.encode() if isinstance(work, str) else bytes(work)
        self._work = _Work(self._source, work, self._attrs, op)  # raises (and skips the item) if unopenable
        self.work_started += 1

    def _next_record(self, op, queue):
        """The next (key, value) of the current work item, starting a new one if needed; None at its end."""
        if not self._in_progress():
            self._next_work(op, queue)
        record = self._work.next(op)
        if record is None or record[2]:
            self.work_finished = self.work_started
        return None if record is None else record[:2]

    def read(self, op, queue):
        with self._lock:
            while True:
                record = self._next_record(op, queue)
                if record is not None:
                    self.num_records_produced += 1
                    return record

    def read_up_to(self, op, queue, n: int):
        """Up to `n` records; like TF, it stops at the end of a work item once it has produced some."""
        keys, values = [], []
        with self._lock:
            while len(keys) < n:
                record = self._next_record(op, queue)
                if record is not None:
                    keys.append(record[0])
                    values.append(record[1])
                    self.num_records_produced += 1
                if keys and not self._in_progress():
                    break  # TF stops at the end of a work item once this call produced records
        return np.array(keys, dtype=object), np.array(values, dtype=object)

    def reset(self) -> None:
        with self._lock:
            self.work_started = self.work_finished = self.num_records_produced = 0
            self._work = None

    # --- state (TF's ReaderBaseState proto, for the readers that support it) -------------------
    def serialize_state(self, op) -> bytes:
        if self.kind not in ("WholeFileReaderV2", "IdentityReaderV2"):
            raise errors.UnimplementedError(None, op, "Reader SerializeState")
        with self._lock:
            work = self._work.work if self._work is not None else b""  # TF keeps the last work item
            return _encode_state(self.work_started, self.work_finished, self.num_records_produced, work)

    def restore_state(self, op, state: bytes) -> None:
        if self.kind not in ("WholeFileReaderV2", "IdentityReaderV2"):
            raise errors.UnimplementedError(None, op, "Reader RestoreState")
        with self._lock:
            try:
                started, finished, produced, work = _decode_state(state)
            except ValueError:
                message = f"Could not parse state for {self.tf_name}: {_c_escape(state)}"
            else:
                if started < 0 or finished < 0 or produced < 0:
                    message = f"Unexpected negative value when restoring in {self.tf_name}: "
                elif started > finished:
                    message = f"Inconsistent work started vs. finished when restoring in {self.tf_name}: "
                else:
                    self.work_started, self.work_finished, self.num_records_produced = started, finished, produced
                    self._work = _Work(self._source, work, self._attrs, op) if work else None
                    return
                message += _state_text(started, finished, produced, work)
            # TF's ReaderBase::RestoreState resets the reader when a state is rejected
            self.work_started = self.work_finished = self.num_records_produced = 0
            self._work = None
            raise errors.InvalidArgumentError(None, op, message)


_ESCAPES = {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord('"'): '\\"', ord("'"): "\\'",
            ord("\\"): "\\\\"}


def _c_escape(data: bytes) -> str:
    """absl::CEscape (protobuf's text format escapes bytes the same way)."""
    return "".join(_ESCAPES.get(b) or (chr(b) if 32 <= b < 127 else f"\\{b:03o}") for b in data)


def _state_text(started: int, finished: int, produced: int, work: bytes) -> str:
    """ReaderBaseState's DebugString (protobuf's text format; fields at their default are left out)."""
    fields = [f"{field}: {value}\n" for field, value in (("work_started", started), ("work_finished", finished),
                                                        ("num_records_produced", produced)) if value]
    if work:
        fields.append(f'current_work: "{_c_escape(work)}"\n')
    return "".join(fields)


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _encode_state(started: int, finished: int, produced: int, work: bytes) -> bytes:
    out = b""
    for field, value in ((1, started), (2, finished), (3, produced)):
        if value:
            out += bytes([field << 3]) + _varint(value)
    if work:
        out += bytes([(4 << 3) | 2]) + _varint(len(work)) + work
    return out


def _decode_state(data: bytes):
    values, work, i = {1: 0, 2: 0, 3: 0}, b"", 0

    def varint():
        nonlocal i
        shift = result = 0
        while True:
            if i >= len(data):
                raise ValueError("truncated varint")
            byte = data[i]
            i += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result
    while i < len(data):
        tag = varint()
        field, wire = tag >> 3, tag & 7
        if wire == 0 and field in values:
            value = varint()
            values[field] = value - (1 << 64) if value >= 1 << 63 else value  # int64 fields
        elif wire == 2 and field == 4:
            n = varint()
            work, i = data[i:i + n], i + n
        else:
            raise ValueError(f"unexpected field {field}")
    return values[1], values[2], values[3], work


# ------------------------------------------------------------------------------------------------
# Rules
# ------------------------------------------------------------------------------------------------
@lowers("WholeFileReaderV2", "IdentityReaderV2", "TextLineReaderV2", "TFRecordReaderV2", "FixedLengthRecordReaderV2",
        context=True, host=True)
def reader_resource(ctx, op):
    return get_or_create(ctx, op, lambda store, key, name: HostReader(op, name))


@lowers("ReaderReadV2", context=True, host=True)
def reader_read(ctx, op, reader, queue):
    key, value = reader.read(op, queue)
    return np.array(key, dtype=object), np.array(value, dtype=object)


@lowers("ReaderReadUpToV2", context=True, host=True)
def reader_read_up_to(ctx, op, reader, queue, num_records):
    n = int(np.asarray(num_records))
    if n < 0:
        raise errors.InvalidArgumentError(None, op, f"num_records ({n}) must be >= 0")
    return reader.read_up_to(op, queue, n)


@lowers("ReaderNumRecordsProducedV2", context=True, host=True)
def reader_num_records_produced(ctx, op, reader):
    return np.int64(reader.num_records_produced)


@lowers("ReaderNumWorkUnitsCompletedV2", context=True, host=True)
def reader_num_work_units_completed(ctx, op, reader):
    return np.int64(reader.work_finished)


@lowers("ReaderSerializeStateV2", context=True, host=True)
def reader_serialize_state(ctx, op, reader):
    return np.array(reader.serialize_state(op), dtype=object)


@lowers("ReaderRestoreStateV2", context=True, host=True)
def reader_restore_state(ctx, op, reader, state):
    state = np.asarray(state, dtype=object).reshape(-1)[0]
    reader.restore_state(op, state.encode() if isinstance(state, str) else bytes(state))


@lowers("ReaderResetV2", context=True, host=True)
def reader_reset(ctx, op, reader):
    reader.reset()


@lowers("MatchingFiles", host=True)
def matching_files(pattern, **_):
    patterns = np.asarray(pattern, dtype=object).reshape(-1)
    names: list = []
    for p in patterns:
        p = p.decode() if isinstance(p, bytes) else str(p)
        names.extend(sorted(glob.glob(p)))
    return np.array([os.fsencode(n) for n in names], dtype=object)
