"""Minimal TFRecord framing: [len u64][masked crc32c(len) u32][data][masked crc32c(data) u32], optionally
gzip/zlib-compressed as a whole. Interface kept tiny (`write_records`, `read_records`) so the project's
graphcompat/formats package can replace it (tf.data's TFRecordDataset walk and tf.io.tf_record_iterator
read through it).
"""
from __future__ import annotations

import gzip
import struct
import zlib
from typing import Iterable, Iterator

from graphcompat.framework import errors

try:
    import google_crc32c as _crc

    def _crc32c(data: bytes) -> int:
        return _crc.value(data)
except ImportError:  # pragma: no cover - slow pure-Python fallback
    _TABLE = []
    for _i in range(256):
        _c = _i
        for _ in range(8):
            _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
        _TABLE.append(_c)

    def _crc32c(data: bytes) -> int:
        crc = 0xFFFFFFFF
        for b in data:
            crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _compression(compression) -> str:
    c = (compression or "").upper() if isinstance(compression, str) else (compression or b"").decode().upper()
    if c not in ("", "GZIP", "ZLIB"):
        raise errors.InvalidArgumentError(None, None, f"Unsupported compression_type: {c}.")
    return c


def frame(record: bytes) -> bytes:
    header = struct.pack("<Q", len(record))
    return header + struct.pack("<I", masked_crc(header)) + record + struct.pack("<I", masked_crc(record))


def write_records(path: str, records: Iterable[bytes], compression: str = "") -> None:
    data = b"".join(frame(bytes(r)) for r in records)
    c = _compression(compression)
    data = gzip.compress(data) if c == "GZIP" else zlib.compress(data) if c == "ZLIB" else data
    with open(path, "wb") as f:
        f.write(data)


def read_records(path: str, compression: str = "") -> Iterator[bytes]:
    """Yields each record's bytes; DataLossError on a bad CRC or a truncated file, NotFoundError if absent."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory") from None
    c = _compression(compression)
    try:
        data = gzip.decompress(data) if c == "GZIP" else zlib.decompress(data) if c == "ZLIB" else data
    except (OSError, EOFError, zlib.error) as e:
        raise errors.DataLossError(None, None, f"corrupted {c} stream in {path}: {e}") from None
    pos = 0
    while pos < len(data):
        if len(data) - pos < 12:
            raise errors.DataLossError(None, None, f"truncated record at {pos} in {path}")
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        if struct.unpack("<I", data[pos + 8:pos + 12])[0] != masked_crc(header):
            raise errors.DataLossError(None, None, f"corrupted record at {pos} in {path}")
        end = pos + 12 + length
        if end + 4 > len(data):
            raise errors.DataLossError(None, None, f"truncated record at {pos} in {path}")
        record = data[pos + 12:end]
        if struct.unpack("<I", data[end:end + 4])[0] != masked_crc(record):
            raise errors.DataLossError(None, None, f"corrupted record at {pos} in {path}")
        yield record
        pos = end + 4
