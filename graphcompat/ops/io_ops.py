"""TF1 readers (`tf.TFRecordReader`, `tf.TextLineReader`, `tf.WholeFileReader`, `tf.FixedLengthRecordReader`,
`tf.IdentityReader`) and `tf.io.matching_files`.

A reader is a resource op (`TFRecordReaderV2` …) whose state lives in the Session; `read(queue)` takes
file names ("work") from a queue of strings and yields one (key, value) record per run, as TF's
ReaderBase: keys are `file:offset` (TFRecord), `file:line` (text, 1-based), `file:index` (fixed length),
the file name (whole file) or the work itself (identity). Lowerings: lowering/rules/readers.py.
"""
from __future__ import annotations

import collections

from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import apply_op, defop, no_outputs, scalar_shape

_RESOURCE = {"container": "", "shared_name": ""}
defop("WholeFileReaderV2", "-> reader_handle: resource", attrs=dict(_RESOURCE), shape=scalar_shape, stateful=True)
defop("IdentityReaderV2", "-> reader_handle: resource", attrs=dict(_RESOURCE), shape=scalar_shape, stateful=True)
defop("TextLineReaderV2", "-> reader_handle: resource", attrs=dict(_RESOURCE, skip_header_lines=0),
      shape=scalar_shape, stateful=True)
defop("TFRecordReaderV2", "-> reader_handle: resource", attrs=dict(_RESOURCE, compression_type=""),
      shape=scalar_shape, stateful=True)
defop("FixedLengthRecordReaderV2", "-> reader_handle: resource",
      attrs=dict(_RESOURCE, header_bytes=0, footer_bytes=0, hop_bytes=0, encoding=""),
      shape=scalar_shape, stateful=True)
defop("ReaderReadV2", "reader_handle: resource, queue_handle: resource -> key: string, value: string",
      shape=scalar_shape, stateful=True)
defop("ReaderReadUpToV2",
      "reader_handle: resource, queue_handle: resource, num_records: int64 -> keys: string, values: string",
      shape=lambda ctx: [_ts.TensorShape([None])] * 2, stateful=True)
defop("ReaderNumRecordsProducedV2", "reader_handle: resource -> records_produced: int64", shape=scalar_shape,
      stateful=True)
defop("ReaderNumWorkUnitsCompletedV2", "reader_handle: resource -> units_completed: int64", shape=scalar_shape,
      stateful=True)
defop("ReaderSerializeStateV2", "reader_handle: resource -> state: string", shape=scalar_shape, stateful=True)
defop("ReaderRestoreStateV2", "reader_handle: resource, state: string ->", shape=no_outputs, stateful=True)
defop("ReaderResetV2", "reader_handle: resource ->", shape=no_outputs, stateful=True)
defop("MatchingFiles", "pattern: string -> filenames: string", shape=lambda ctx: [_ts.TensorShape([None])])


# TF's generated wrappers return these namedtuples (and Session.run returns the same class).
ReaderReadV2 = collections.namedtuple("ReaderReadV2", ["key", "value"])
ReaderReadUpToV2 = collections.namedtuple("ReaderReadUpToV2", ["keys", "values"])


def matching_files(pattern, name=None) -> _ops.Tensor:
    """`tf.io.matching_files`: the sorted file names matching a glob pattern (or a vector of patterns)."""
    return apply_op("MatchingFiles", [pattern], name=name or "MatchingFiles")


def _queue_ref(queue) -> _ops.Tensor:
    return queue if isinstance(queue, _ops.Tensor) else queue.queue_ref


class ReaderBase:
    """`tf.ReaderBase`: the operations every reader supports."""

    def __init__(self, reader_ref: _ops.Tensor, supports_serialize: bool = False):
        self._reader_ref = reader_ref
        self._supports_serialize = supports_serialize

    @property
    def reader_ref(self) -> _ops.Tensor:
        return self._reader_ref

    @property
    def supports_serialize(self) -> bool:
        return self._supports_serialize

    def read(self, queue, name=None):
        """The next (key, value) record; takes a new file name from `queue` when the current one is done."""
        return ReaderReadV2(*apply_op("ReaderReadV2", [self._reader_ref, _queue_ref(queue)],
                                      name=name or "ReaderReadV2"))

    def read_up_to(self, queue, num_records, name=None):
        """Up to `num_records` records (fewer at the end of a file): (keys, values) vectors."""
        return ReaderReadUpToV2(*apply_op("ReaderReadUpToV2", [self._reader_ref, _queue_ref(queue), num_records],
                                          name=name or "ReaderReadUpToV2"))

    def num_records_produced(self, name=None) -> _ops.Tensor:
        return apply_op("ReaderNumRecordsProducedV2", [self._reader_ref], name=name or "ReaderNumRecordsProducedV2")

    def num_work_units_completed(self, name=None) -> _ops.Tensor:
        return apply_op("ReaderNumWorkUnitsCompletedV2", [self._reader_ref],
                        name=name or "ReaderNumWorkUnitsCompletedV2")

    def serialize_state(self, name=None) -> _ops.Tensor:
        return apply_op("ReaderSerializeStateV2", [self._reader_ref], name=name or "ReaderSerializeStateV2")

    def restore_state(self, state, name=None) -> _ops.Operation:
        return apply_op("ReaderRestoreStateV2", [self._reader_ref, state],
                        name=name or "ReaderRestoreStateV2")

    def reset(self, name=None) -> _ops.Operation:
        return apply_op("ReaderResetV2", [self._reader_ref], name=name or "ReaderResetV2")


def _reader_op(op_type: str, attrs: dict, name) -> _ops.Tensor:
    return apply_op(op_type, [], attrs, name=name or op_type)


class WholeFileReader(ReaderBase):
    """`tf.WholeFileReader`: one record per file: (file name, contents)."""

    def __init__(self, name=None):
        super().__init__(_reader_op("WholeFileReaderV2", {}, name), supports_serialize=True)


class IdentityReader(ReaderBase):
    """`tf.IdentityReader`: one record per work item: (work, work)."""

    def __init__(self, name=None):
        super().__init__(_reader_op("IdentityReaderV2", {}, name), supports_serialize=True)


class TextLineReader(ReaderBase):
    """`tf.TextLineReader(skip_header_lines=None)`: one record per line (newline and a trailing CR removed)."""

    def __init__(self, skip_header_lines=None, name=None):
        super().__init__(_reader_op("TextLineReaderV2", {"skip_header_lines": int(skip_header_lines or 0)}, name))


class TFRecordReader(ReaderBase):
    """`tf.TFRecordReader(name=None, options=None)`: one record per TFRecord (GZIP/ZLIB via `options`)."""

    def __init__(self, name=None, options=None):
        from graphcompat.io.python_io import TFRecordOptions
        compression = TFRecordOptions.get_compression_type_string(options)
        super().__init__(_reader_op("TFRecordReaderV2", {"compression_type": compression}, name))


class FixedLengthRecordReader(ReaderBase):
    """`tf.FixedLengthRecordReader(record_bytes, header_bytes=None, footer_bytes=None, hop_bytes=None,
    name=None, encoding=None)`: records of `record_bytes` bytes between a header and a footer."""

    def __init__(self, record_bytes, header_bytes=None, footer_bytes=None, hop_bytes=None, name=None,
                 encoding=None):
        attrs = {"record_bytes": int(record_bytes), "header_bytes": int(header_bytes or 0),
                 "footer_bytes": int(footer_bytes or 0), "hop_bytes": int(hop_bytes or 0),
                 "encoding": encoding or ""}
        super().__init__(_reader_op("FixedLengthRecordReaderV2", attrs, name))


def LMDBReader(name=None, options=None):  # noqa: N802
    """`tf.LMDBReader`: LMDB files are not supported."""
    raise NotImplementedError("tf.LMDBReader is not supported by graphcompat")
