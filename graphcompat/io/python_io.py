"""`tf.python_io` / `tf.io`: `TFRecordWriter`, `tf_record_iterator`, `TFRecordOptions`."""
from __future__ import annotations

import gzip
import zlib
from typing import Iterator

from graphcompat.formats import _tfrecord
from graphcompat.formats.errors import io_error
from graphcompat.formats.records import read_records
from graphcompat.framework import errors


class TFRecordCompressionType:
    NONE = 0
    ZLIB = 1
    GZIP = 2


_NAMES = {TFRecordCompressionType.NONE: "", TFRecordCompressionType.ZLIB: "ZLIB",
          TFRecordCompressionType.GZIP: "GZIP", None: ""}


class TFRecordOptions:
    """`tf.io.TFRecordOptions(compression_type)`: "", "ZLIB", "GZIP" or a TFRecordCompressionType."""

    def __init__(self, compression_type=None, flush_mode=None, input_buffer_size=None, output_buffer_size=None,
                 window_bits=None, compression_level=None, compression_method=None, mem_level=None,
                 compression_strategy=None):
        name = _NAMES.get(compression_type, compression_type)
        self.compression_type = _tfrecord._compression(name)
        self.compression_level = compression_level

    @classmethod
    def get_compression_type_string(cls, options) -> str:
        if options is None:
            return ""
        if isinstance(options, TFRecordOptions):
            return options.compression_type
        return TFRecordOptions(options).compression_type


class TFRecordWriter:
    """Writes records to a TFRecord file (masked-CRC32C framing, optional GZIP/ZLIB compression)."""

    def __init__(self, path: str, options=None):
        self._path = str(path)
        self._compression = TFRecordOptions.get_compression_type_string(options)
        try:
            raw = open(self._path, "wb")
        except OSError as exc:  # TF's I/O status: "<path>; <strerror>" with TF's class for the errno
            raise io_error(self._path, exc) from None
        if self._compression == "GZIP":
            self._file = gzip.GzipFile(fileobj=raw, mode="wb")
            self._raw = raw
        else:
            self._file, self._raw = raw, None
        self._zlib = zlib.compressobj() if self._compression == "ZLIB" else None
        self._closed = False

    def write(self, record) -> None:
        if self._closed:
            raise errors.FailedPreconditionError(None, None, "Writer is closed.")
        if isinstance(record, str):
            record = record.encode()
        data = _tfrecord.frame(bytes(record))
        self._file.write(self._zlib.compress(data) if self._zlib else data)

    def flush(self) -> None:
        if self._zlib:
            self._file.write(self._zlib.flush(zlib.Z_SYNC_FLUSH))
        self._file.flush()

    def close(self) -> None:
        if self._closed:
            return
        if self._zlib:
            self._file.write(self._zlib.flush())
        self._file.close()
        if self._raw is not None:
            self._raw.close()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def tf_record_iterator(path: str, options=None) -> Iterator[bytes]:
    """Yields the records of a TFRecord file (`tf.python_io.tf_record_iterator`), failing as TF's reader
    does (graphcompat.formats.records: same classes, offsets and texts)."""
    return read_records(str(path), TFRecordOptions.get_compression_type_string(options))
