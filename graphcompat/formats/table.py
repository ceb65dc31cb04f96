"""LevelDB-format sorted tables, as TensorFlow writes checkpoint ``.index`` files.

Layout (tsl/lib/io/table_builder.cc, block_builder.cc, format.cc):
data blocks, an empty metaindex block, an index block, a 48-byte footer. Each block on disk is
``contents | type byte (0 = raw) | masked crc32c(contents + type)``. Block entries are
``varint32 shared | varint32 non_shared | varint32 value_len | key[shared:] | value`` with a
restart point (shared = 0) every ``restart_interval`` entries, then the restart offsets and
their count as uint32s. TF uses 256 KiB blocks and never compresses.
"""

from __future__ import annotations

import bisect
import struct
from typing import BinaryIO, Iterator

from .crc import crc32c, mask, unmask
from .errors import UnimplementedError, data_loss, io_error

BLOCK_SIZE = 262144        # TF's table::Options default (LevelDB's is 4096)
RESTART_INTERVAL = 16
MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48           # two BlockHandles padded to 2 * 20 bytes, then the 8-byte magic
_TRAILER_SIZE = 5          # type byte + masked crc
_NO_COMPRESSION, _SNAPPY = 0, 1
_U32 = struct.Struct("<I")


def put_varint(out: bytearray, value: int) -> None:
    """Appends ``value`` as a little-endian base-128 varint."""
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def get_varint(data: bytes, pos: int) -> tuple[int, int]:
    """Decodes a varint at ``pos``; returns (value, position after it)."""
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise data_loss("bad block handle")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def shortest_separator(start: bytes, limit: bytes) -> bytes:
    """A short key k with start <= k < limit (TF's FindShortestSeparator)."""
    common = 0
    for a, b in zip(start, limit):
        if a != b:
            break
        common += 1
    if common >= min(len(start), len(limit)):
        return start  # one is a prefix of the other: no shortening
    byte = start[common]
    if byte < 0xFF and byte + 1 < limit[common]:
        return start[:common] + bytes([byte + 1])
    return start


def short_successor(key: bytes) -> bytes:
    """A short key >= ``key`` (TF's FindShortSuccessor): bump the first non-0xff byte."""
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


class _BlockBuilder:
    def __init__(self, restart_interval: int) -> None:
        self.restart_interval = restart_interval
        self.reset()

    def reset(self) -> None:
        self.buffer = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last_key = b""

    def empty(self) -> bool:
        return not self.buffer

    def size_estimate(self) -> int:
        return len(self.buffer) + 4 * len(self.restarts) + 4

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.counter < self.restart_interval:
            limit = min(len(key), len(self.last_key))
            while shared < limit and key[shared] == self.last_key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buffer))
            self.counter = 0
        put_varint(self.buffer, shared)
        put_varint(self.buffer, len(key) - shared)
        put_varint(self.buffer, len(value))
        self.buffer += key[shared:]
        self.buffer += value
        self.last_key = key
        self.counter += 1

    def finish(self) -> bytes:
        out = self.buffer
        for offset in self.restarts:
            out += _U32.pack(offset)
        out += _U32.pack(len(self.restarts))
        return bytes(out)


def _encode_handle(offset: int, size: int) -> bytes:
    out = bytearray()
    put_varint(out, offset)
    put_varint(out, size)
    return bytes(out)


class TableWriter:
    """Streams a table to a binary file object; keys must be added in strictly increasing order."""

    def __init__(self, file: BinaryIO, block_size: int = BLOCK_SIZE,
                 restart_interval: int = RESTART_INTERVAL) -> None:
        self._file = file
        self._block_size = block_size
        self._data = _BlockBuilder(restart_interval)
        self._index = _BlockBuilder(1)
        self._offset = 0
        self._last_key: bytes | None = None
        # The index entry for a finished block waits for the next key so that it can be a
        # short separator rather than the block's full last key.
        self._pending_handle: tuple[int, int] | None = None

    def add(self, key: bytes, value: bytes) -> None:
        if self._last_key is not None:
            if key <= self._last_key:
                raise ValueError(f"table keys must increase: {key!r} after {self._last_key!r}")
            if len(key) + len(value) >= 2 * self._block_size:
                self._flush()  # an overly large entry gets a block of its own
        if self._pending_handle is not None:
            separator = shortest_separator(self._last_key, key)
            self._index.add(separator, _encode_handle(*self._pending_handle))
            self._pending_handle = None
        self._last_key = key
        self._data.add(key, value)
        if self._data.size_estimate() >= self._block_size:
            self._flush()

    def _flush(self) -> None:
        if self._data.empty():
            return
        self._pending_handle = self._write_block(self._data)

    def _write_block(self, block: _BlockBuilder) -> tuple[int, int]:
        contents = block.finish()
        block.reset()
        trailer = bytes([_NO_COMPRESSION])
        crc = mask(crc32c(trailer, crc32c(contents)))
        self._file.write(contents)
        self._file.write(trailer + _U32.pack(crc))
        handle = (self._offset, len(contents))
        self._offset += len(contents) + _TRAILER_SIZE
        return handle

    def finish(self) -> None:
        """Writes the last data block, the metaindex and index blocks and the footer."""
        self._flush()
        metaindex = self._write_block(_BlockBuilder(RESTART_INTERVAL))
        if self._pending_handle is not None:
            self._index.add(short_successor(self._last_key), _encode_handle(*self._pending_handle))
            self._pending_handle = None
        index = self._write_block(self._index)
        footer = bytearray(_encode_handle(*metaindex) + _encode_handle(*index))
        footer += bytes(FOOTER_SIZE - 8 - len(footer))
        footer += struct.pack("<Q", MAGIC)
        self._file.write(footer)
        self._offset += FOOTER_SIZE


def write_table(path: str, items) -> None:
    """Writes (key, value) pairs, already sorted by key, as a table file."""
    with open(path, "wb") as file:
        writer = TableWriter(file)
        for key, value in items:
            writer.add(key, value)
        writer.finish()


def _block_entries(contents: bytes) -> Iterator[tuple[bytes, bytes]]:
    if len(contents) < 4:
        raise data_loss("bad block contents")
    num_restarts = _U32.unpack_from(contents, len(contents) - 4)[0]
    end = len(contents) - 4 * (num_restarts + 1)
    if end < 0:
        raise data_loss("bad block contents")
    pos, key = 0, b""
    while pos < end:
        shared, pos = get_varint(contents, pos)
        non_shared, pos = get_varint(contents, pos)
        value_len, pos = get_varint(contents, pos)
        if shared > len(key) or pos + non_shared + value_len > end:
            raise data_loss("bad entry in block")
        key = key[:shared] + contents[pos:pos + non_shared]
        pos += non_shared
        yield key, contents[pos:pos + value_len]
        pos += value_len


class TableReader:
    """Reads a whole table file into memory (checkpoint indexes are small) and checks every CRC.

    Failures are TF's (tsl/lib/io/table.cc, format.cc): ``DataLossError`` with TF's texts
    ("file is too short to be an sstable", "block checksum mismatch", ...), TF's I/O errors on open.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            with open(path, "rb") as file:
                self._data = file.read()
        except OSError as exc:
            raise io_error(path, exc) from None
        if len(self._data) < FOOTER_SIZE:
            raise data_loss("file is too short to be an sstable")
        footer = self._data[-FOOTER_SIZE:]
        if struct.unpack_from("<Q", footer, FOOTER_SIZE - 8)[0] != MAGIC:
            raise data_loss("not an sstable (bad magic number)")
        _, pos = get_varint(footer, 0)
        _, pos = get_varint(footer, pos)  # skip the (empty) metaindex handle
        index_offset, pos = get_varint(footer, pos)
        index_size, _ = get_varint(footer, pos)
        index = list(_block_entries(self._read_block(index_offset, index_size)))
        self._index_keys = [key for key, _ in index]
        self._handles = []
        for _, handle in index:
            offset, pos = get_varint(handle, 0)
            size, _ = get_varint(handle, pos)
            self._handles.append((offset, size))

    def _read_block(self, offset: int, size: int) -> bytes:
        end = offset + size
        if end + _TRAILER_SIZE > len(self._data):
            raise data_loss("truncated block read")
        contents = self._data[offset:end]
        block_type = self._data[end]
        stored = _U32.unpack_from(self._data, end + 1)[0]
        if crc32c(self._data[end:end + 1], crc32c(contents)) != unmask(stored):
            raise data_loss("block checksum mismatch")
        if block_type == _SNAPPY:
            raise UnimplementedError(None, None, f"{self.path} uses snappy-compressed blocks (checkpoints from "
                                     f"TensorFlow before 1.1), which graphcompat does not read")
        if block_type != _NO_COMPRESSION:
            raise data_loss("bad block type")
        return contents

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        """All (key, value) pairs in key order."""
        for offset, size in self._handles:
            yield from _block_entries(self._read_block(offset, size))

    def get(self, key: bytes) -> bytes | None:
        """The value stored under ``key``, or None."""
        # Index keys are upper bounds of their blocks: the first index key >= key names the block.
        i = bisect.bisect_left(self._index_keys, key)
        if i == len(self._handles):
            return None
        for k, value in _block_entries(self._read_block(*self._handles[i])):
            if k == key:
                return value
            if k > key:
                break
        return None
