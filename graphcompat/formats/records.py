"""TFRecord files: ``uint64 len | masked_crc(len) | payload | masked_crc(payload)``.

Compression follows ``tf.io.TFRecordOptions``: the whole file is one compressed stream,
``"ZLIB"`` a zlib stream (RFC 1950), ``"GZIP"`` a gzip stream (RFC 1952); ``""`` / ``None`` none.
Event files use the same framing, uncompressed.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from typing import BinaryIO, Iterable, Iterator

from .crc import crc32c, mask, masked_crc
from .errors import data_loss, invalid_argument, io_error

_HEADER = struct.Struct("<QI")  # length, masked crc of the 8 length bytes
_FOOTER = struct.Struct("<I")   # masked crc of the payload
_READ_CHUNK = 1 << 16

# TFRecordCompressionType's integer values are accepted as well as the strings.
_COMPRESSION = {None: "", "": "", 0: "", "ZLIB": "ZLIB", 1: "ZLIB", "GZIP": "GZIP", 2: "GZIP"}
_WBITS = {"ZLIB": zlib.MAX_WBITS, "GZIP": zlib.MAX_WBITS | 16}  # zlib's window bits for each container


def normalize_compression(compression_type) -> str:
    """``""``, ``"ZLIB"`` or ``"GZIP"`` for any spelling TF accepts (None, 0/1/2, any case)."""
    key = compression_type.upper() if isinstance(compression_type, str) else compression_type
    try:
        return _COMPRESSION[key]
    except (KeyError, TypeError):
        raise invalid_argument(f"Unsupported compression type: {compression_type!r}") from None


def frame_header(length: int) -> bytes:
    """The 12 bytes that precede a payload of ``length`` bytes."""
    length_bytes = struct.pack("<Q", length)
    return length_bytes + struct.pack("<I", masked_crc(length_bytes))


def encode_record(payload) -> bytes:
    """One framed record as bytes (convenient for small payloads and tests)."""
    payload = bytes(payload)
    return frame_header(len(payload)) + payload + _FOOTER.pack(masked_crc(payload))


class RecordWriter:
    """Writes framed records to ``path`` (truncating it), optionally compressed.

    ``flush()`` makes everything written so far readable (a zlib sync flush when compressed).
    """

    def __init__(self, path: str, compression_type: str | int | None = "",
                 compression_level: int = zlib.Z_DEFAULT_COMPRESSION) -> None:
        self.path = path
        kind = normalize_compression(compression_type)
        try:
            self._file: BinaryIO | None = open(path, "wb")
        except OSError as exc:
            raise io_error(path, exc) from None
        self._deflate = zlib.compressobj(compression_level, zlib.DEFLATED, _WBITS[kind]) if kind else None

    def _put(self, data) -> None:
        if self._deflate is None:
            self._file.write(data)
        else:
            self._file.write(self._deflate.compress(data))

    def write(self, record) -> None:
        """Appends one record (any bytes-like object; large buffers are not copied)."""
        if self._file is None:
            raise ValueError(f"write to closed RecordWriter for {self.path}")
        view = memoryview(record).cast("B")
        self._put(frame_header(view.nbytes))
        self._put(view)
        self._put(_FOOTER.pack(mask(crc32c(view))))

    def flush(self) -> None:
        if self._file is None:
            return
        if self._deflate is not None:
            self._file.write(self._deflate.flush(zlib.Z_SYNC_FLUSH))
        self._file.flush()

    def close(self) -> None:
        if self._file is None:
            return
        if self._deflate is not None:
            self._file.write(self._deflate.flush(zlib.Z_FINISH))
        self._file.close()
        self._file = None

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def write_records(path: str, records: Iterable, compression_type: str | int | None = "") -> None:
    """Writes all ``records`` to a new TFRecord file."""
    with RecordWriter(path, compression_type) as writer:
        for record in records:
            writer.write(record)


class _ZlibStream(io.RawIOBase):
    """Inflates a zlib (RFC 1950) or gzip (RFC 1952) stream, or several concatenated ones, read from ``raw``.

    A stream cut short simply ends (TF's ZlibInputStream reports "EOF reached"); damaged
    compressed data raises ``zlib.error``.
    """

    def __init__(self, raw: BinaryIO, wbits: int) -> None:
        self._raw = raw
        self._wbits = wbits
        self._inflate = zlib.decompressobj(wbits)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            if self._inflate.eof:
                rest = self._inflate.unused_data
                self._inflate = zlib.decompressobj(self._wbits)
                if rest:
                    self._pending = self._inflate.decompress(rest)
                    continue
            chunk = self._raw.read(_READ_CHUNK)
            if not chunk:
                return 0
            self._pending = self._inflate.decompress(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


# What TF's input streams say when a read comes up short (the text ends TF's "truncated record" message).
_SHORT_READ = {"": "Read less bytes than requested", "ZLIB": "EOF reached", "GZIP": "EOF reached"}
_ZLIB_MESSAGE = re.compile(r"Error (-?\d+) while \w+ data: (.*)")


def _checksum_suffix(offset: int) -> str:
    # TF reminds the reader of the format only when the very first record is bad.
    return " (Is this even a TFRecord file?)" if offset == 0 else ""


def read_records(path: str, compression_type: str | int | None = "", *,
                 check_crc: bool = True) -> Iterator[bytes]:
    """Yields each record's payload, failing exactly as TF's RecordReader does.

    A missing or unreadable file raises TF's I/O error (``NotFoundError``, ``FailedPreconditionError``
    for a directory ...); a bad length checksum ``DataLossError("corrupted record at <offset>")``, a bad
    payload checksum the same at the payload's offset, a record cut short ``DataLossError("truncated
    record at <offset>' failed with ...")``; a partial header at the end of the file is the end of the
    data, as in TF. Offsets are in the uncompressed stream.
    """
    kind = normalize_compression(compression_type)
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise io_error(path, exc) from None
    stream: BinaryIO = raw if not kind else io.BufferedReader(_ZlibStream(raw, _WBITS[kind]),
                                                                  buffer_size=_READ_CHUNK)
    offset = 0
    try:
        with raw, stream:
            while True:
                # read(n) on these streams loops until n bytes or the end of the data.
                header = stream.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    return
                length, length_crc = _HEADER.unpack(header)
                if check_crc and masked_crc(header[:8]) != length_crc:
                    raise data_loss(f"corrupted record at {offset}{_checksum_suffix(offset)}")
                body = stream.read(length + _FOOTER.size)
                if len(body) < length + _FOOTER.size:
                    raise data_loss(f"truncated record at {offset}' failed with {_SHORT_READ[kind]}")
                payload = body[:length]
                if check_crc and masked_crc(payload) != _FOOTER.unpack_from(body, length)[0]:
                    raise data_loss(f"corrupted record at {offset + _HEADER.size}")
                yield payload
                offset += _HEADER.size + length + _FOOTER.size
    except zlib.error as exc:
        match = _ZLIB_MESSAGE.match(str(exc))
        detail = f"error {match.group(1)}: {match.group(2)}" if match else str(exc)
        raise data_loss(f"inflate() failed with {detail}") from None
    except OSError as exc:
        raise io_error(path, exc) from None
