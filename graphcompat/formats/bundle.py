"""V2 checkpoints ("tensor bundles"): ``<prefix>.index`` plus ``<prefix>.data-0000i-of-0000N``.

Written byte for byte like TensorFlow's ``Saver`` (tensor_bundle.cc): tensors are appended to the
data file in sorted key order as raw little-endian C-order bytes; the index is a table mapping
``""`` to a ``BundleHeaderProto`` and each key to a ``BundleEntryProto`` (dtype, shape, shard,
offset, size, masked crc32c). A partitioned variable has a full entry listing its
``TensorSliceProto`` slices and one ordinary entry per slice under an OrderedCode-encoded key.
A re-save of a prefix differs from TF's only in its shard count (see ``write_bundle``): that is what
makes it survive a crash at any instant.
"""

from __future__ import annotations

import glob
import os
import re
import struct
from typing import Mapping, NamedTuple, Sequence

import ml_dtypes
import numpy as np
from google.protobuf import text_format

from .crc import crc32c, mask, unmask
from .durable import bundle_temp_name, crash_point, fsync_directory, fsync_file, remove_temporaries
from .errors import (InternalError, InvalidArgumentError, OpError, OutOfRangeError, UnimplementedError,
                     data_loss, io_error, not_found)
from .protos import BundleEntryProto, BundleHeaderProto
from .table import TableReader, TableWriter, put_varint

DT_STRING = 7
# DataType enum -> numpy dtype, for every type TF copies with memcpy, plus strings.
DTYPES: dict[int, np.dtype] = {
    1: np.dtype(np.float32), 2: np.dtype(np.float64), 3: np.dtype(np.int32),
    4: np.dtype(np.uint8), 5: np.dtype(np.int16), 6: np.dtype(np.int8),
    7: np.dtype(object), 8: np.dtype(np.complex64), 9: np.dtype(np.int64),
    10: np.dtype(np.bool_), 14: np.dtype(ml_dtypes.bfloat16), 17: np.dtype(np.uint16),
    18: np.dtype(np.complex128), 19: np.dtype(np.float16), 22: np.dtype(np.uint32),
    23: np.dtype(np.uint64), 24: np.dtype(ml_dtypes.float8_e5m2),
    25: np.dtype(ml_dtypes.float8_e4m3fn), 26: np.dtype(ml_dtypes.float8_e4m3fnuz),
    27: np.dtype(ml_dtypes.float8_e4m3b11fnuz), 28: np.dtype(ml_dtypes.float8_e5m2fnuz),
}
_ENUM_OF = {dtype: enum for enum, dtype in DTYPES.items() if enum != DT_STRING}
_READ_CHUNK = 1 << 26  # readinto() in 64 MiB pieces


def datatype_enum(dtype) -> int:
    """TF's DataType number for a numpy dtype (object / str / bytes arrays are DT_STRING)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OSU":
        return DT_STRING
    try:
        return _ENUM_OF[dtype.newbyteorder("=")]
    except KeyError:
        raise TypeError(f"dtype {dtype} cannot be stored in a checkpoint") from None


def data_filename(prefix: str, shard: int, num_shards: int) -> str:
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def index_filename(prefix: str) -> str:
    return f"{prefix}.index"


# ---- partitioned variables: slice keys -------------------------------------------------------

_SPECIAL_BYTE = re.compile(b"[\\x00\\xff]")
_ESCAPES = {b"\x00": b"\x00\xff", b"\xff": b"\xff\x00"}


def _ordered_string(out: bytearray, s: bytes) -> None:
    # OrderedCode::WriteString: escape 0x00 -> 00 ff and 0xff -> ff 00, terminate with 00 01.
    out += _SPECIAL_BYTE.sub(lambda m: _ESCAPES[m.group()], s)
    out += b"\x00\x01"


def _ordered_unsigned(out: bytearray, value: int) -> None:
    # OrderedCode::WriteNumIncreasing: a length byte, then the big-endian bytes without leading zeros.
    body = value.to_bytes((value.bit_length() + 7) // 8, "big")
    out.append(len(body))
    out += body


def _ordered_signed(out: bytearray, value: int) -> None:
    # OrderedCode::WriteSignedNumIncreasing: sign-extended big-endian bytes whose leading bits
    # (as many 1s as the encoding has bytes, for a non-negative value) are flipped as a header.
    magnitude = ~value if value < 0 else value
    length = magnitude.bit_length() // 7 + 1
    if length == 1:
        out.append((0x80 ^ value) & 0xFF)
        return
    raw = bytearray((value & ((1 << 80) - 1)).to_bytes(10, "big")[10 - length:])
    header = ((1 << length) - 1) << (16 - length)  # `length` ones at the top of 16 bits
    raw[0] ^= header >> 8
    raw[1] ^= header & 0xFF
    out += raw


def slice_key(name: str | bytes, extents: Sequence[tuple[int, int]]) -> bytes:
    """The table key of one stored slice (checkpoint::EncodeTensorNameSlice).

    ``extents`` holds (start, length) per dimension; (0, -1) means the whole dimension.
    """
    out = bytearray()
    _ordered_unsigned(out, 0)
    _ordered_string(out, name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name)
    _ordered_unsigned(out, len(extents))
    for start, length in extents:
        _ordered_signed(out, start)
        _ordered_signed(out, length)
    return bytes(out)


def _slice_extents(proto) -> list[tuple[int, int]]:
    return [(e.start, e.length) if e.HasField("length") else (0, -1) for e in proto.extent]


class PartitionedTensor(NamedTuple):
    """A variable saved as slices: ``parts`` holds (start offsets, array) per slice."""

    full_shape: tuple[int, ...]
    parts: Sequence[tuple[Sequence[int], np.ndarray]]


# ---- writing ---------------------------------------------------------------------------------

def _string_payload(array: np.ndarray) -> tuple[list[bytes], int]:
    """String tensor on disk: varint64 lengths, masked crc of the lengths, then the bytes.

    The entry checksum covers the lengths as uint32 (uint64 beyond 4 GiB), the masked length
    checksum and the bytes, exactly as TF computes it; returns (pieces, unmasked crc).
    """
    items = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in array.reshape(-1)]
    lengths = bytearray()
    crc = 0
    for item in items:
        put_varint(lengths, len(item))
        crc = crc32c(struct.pack("<I" if len(item) <= 0xFFFFFFFF else "<Q", len(item)), crc)
    length_checksum = struct.pack("<I", mask(crc))
    crc = crc32c(length_checksum, crc)
    for item in items:
        crc = crc32c(item, crc)
    return [bytes(lengths), length_checksum, *items], crc


def _little_endian_bytes(array: np.ndarray) -> np.ndarray:
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


class _DataWriter:
    def __init__(self, file) -> None:
        self.file = file
        self.offset = 0

    def add(self, array: np.ndarray) -> BundleEntryProto:
        entry = BundleEntryProto(dtype=datatype_enum(array.dtype), offset=self.offset)
        entry.shape.SetInParent()  # a scalar still carries an (empty) shape
        for size in array.shape:
            entry.shape.dim.add(size=size)
        if entry.dtype == DT_STRING:
            pieces, crc = _string_payload(array)
            size = 0
            for piece in pieces:
                self.file.write(piece)
                size += len(piece)
        else:
            raw = _little_endian_bytes(array)
            self.file.write(raw)  # one write of the whole buffer, no copy
            size, crc = raw.size, crc32c(raw)
        entry.size = size
        entry.crc32c = mask(crc)
        self.offset += size
        return entry


def _as_array(value) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind in "SU":
        array = array.astype(object)
    return array


def write_bundle(prefix: str, tensors: Mapping[str, "np.ndarray | PartitionedTensor"],
                 keep_order: bool = False) -> None:
    """Writes ``prefix.index`` and its data files like TF's Saver, so that a crash at any instant
    leaves ``prefix`` holding either its previous checkpoint or the new one, both readable.

    Values are arrays (strings as object arrays of bytes/str) or :class:`PartitionedTensor`. The data file
    holds them in key order, or with ``keep_order`` in the mapping's order, as TF's SaveV2 kernel adds its
    inputs (tf.train.Checkpoint saves in object-graph order); the index is always sorted by key.
    A first save writes ``prefix.data-00000-of-00001`` and is byte-identical to TF's. A re-save
    alternates between one and two data shards (the second one empty), so new data files never
    overwrite the ones the current index points at: renaming the new index into place is the single
    commit point, after which the previous data files are deleted. (TF renames its data file, then
    its index, and a crash between the two pairs new data with the old index.) Files are fsynced
    before the renames that publish them. Like TF's BundleWriter, the parent directory is created if
    its own parent exists. Raises TF's I/O error classes.
    """
    directory = os.path.dirname(prefix)
    try:
        _make_parent_directory(directory)
        remove_temporaries(directory, os.path.basename(prefix) + ".")
        num_shards = 2 if _shard_count(prefix) == 1 else 1
        _write_files(prefix, tensors if keep_order else {k: tensors[k] for k in sorted(tensors)}, num_shards)
    except OSError as exc:
        raise io_error(exc.filename or prefix, exc) from None
    _remove_other_data_files(prefix, num_shards)
    crash_point("bundle: previous data files removed")


def _make_parent_directory(directory: str) -> None:
    # TF's BundleWriter: Env::CreateDir(Dirname(prefix)), tolerating AlreadyExists (one level only).
    if directory and not os.path.isdir(directory):
        try:
            os.mkdir(directory)
        except FileExistsError:
            pass
        except OSError as exc:
            raise io_error(directory, exc) from None


def _shard_count(prefix: str) -> int | None:
    """The shard count the current index of ``prefix`` points at, or None without a readable index."""
    try:
        header = TableReader(index_filename(prefix)).get(b"")
        return BundleHeaderProto.FromString(header).num_shards if header is not None else None
    except Exception:  # a missing or damaged index: no data file of it is worth keeping
        return None


def _write_files(prefix: str, tensors, num_shards: int) -> None:
    """Data files, then the index, each under a temporary name, fsynced, then renamed into place."""
    staged: list[tuple[str, str]] = []  # (temporary, final)
    try:
        for shard in range(num_shards):
            final = data_filename(prefix, shard, num_shards)
            staged.append((bundle_temp_name(final), final))
        entries: dict[bytes, BundleEntryProto] = {}
        for shard, (temp, _) in enumerate(staged):
            with open(temp, "wb") as file:
                if shard == 0:  # every tensor goes to shard 0; a second shard stays empty
                    data = _DataWriter(file)
                    for name in tensors:  # in the order write_bundle chose
                        key = name.encode("utf-8", "surrogateescape")
                        value = tensors[name]
                        if isinstance(value, PartitionedTensor):
                            entries.update(_add_partitioned(data, key, value))
                        else:
                            entries[key] = data.add(_as_array(value))
                    fsync_file(file)  # (the empty second shard has nothing to flush)
        crash_point("bundle: data files written")
        for temp, final in staged:
            os.replace(temp, final)  # names the current index does not use (other shard count)
        crash_point("bundle: data files renamed")
        index_path = index_filename(prefix)
        staged.append((bundle_temp_name(index_path), index_path))
        header = BundleHeaderProto(num_shards=num_shards, endianness=BundleHeaderProto.LITTLE)
        header.version.producer = 1
        with open(staged[-1][0], "wb") as file:
            table = TableWriter(file)
            table.add(b"", header.SerializeToString())
            for key in sorted(entries):
                table.add(key, entries[key].SerializeToString())
            table.finish()
            fsync_file(file)
        crash_point("bundle: index written")
        directory = os.path.dirname(prefix)
        fsync_directory(directory)  # the data files' renames reach the disk before the commit
        os.replace(staged[-1][0], index_path)  # the commit point
        fsync_directory(directory)
        crash_point("bundle: index committed")
    except Exception:
        for temp, _ in staged:
            if os.path.exists(temp):
                os.remove(temp)
        raise


def _remove_other_data_files(prefix: str, num_shards: int) -> None:
    keep = {data_filename(prefix, shard, num_shards) for shard in range(num_shards)}
    for path in glob.glob(glob.escape(prefix) + ".data-?????-of-?????"):
        if path not in keep:
            try:
                os.remove(path)
            except OSError:
                pass  # best effort, as TF's cleanups: the next save retries


def remove_orphan_data_files(directory: str, stem: str) -> None:
    """Deletes data files an interrupted save or deletion left for checkpoints ``<directory>/<stem>*``:
    those without an index, and those of a shard count their index does not use."""
    by_prefix: dict[str, list[tuple[str, int]]] = {}
    for path in glob.glob(os.path.join(glob.escape(directory), glob.escape(stem) + "*.data-?????-of-?????")):
        match = _DATA_FILE.search(path)
        if match:
            by_prefix.setdefault(path[:match.start()], []).append((path, int(match.group(1))))
    for prefix, files in by_prefix.items():
        if os.path.exists(index_filename(prefix)):
            if len({n for _, n in files}) == 1:
                continue  # the common case: nothing left over (the index is not even read)
            used = _shard_count(prefix)
            if used is None:
                continue  # a damaged index: leave its files for the user to inspect
            files = [(path, n) for path, n in files if n != used]
        for path, _ in files:
            try:
                os.remove(path)
            except OSError:
                pass


_DATA_FILE = re.compile(r"\.data-\d{5}-of-(\d{5})$")


def _add_partitioned(data: _DataWriter, key: bytes, value: PartitionedTensor) -> dict[bytes, BundleEntryProto]:
    full_shape = tuple(int(d) for d in value.full_shape)
    full = BundleEntryProto()
    full.shape.SetInParent()
    for size in full_shape:
        full.shape.dim.add(size=size)
    entries = {key: full}
    if not value.parts:
        raise ValueError(f"partitioned tensor {key!r} has no parts")
    for start, part in value.parts:
        part = _as_array(part)
        if len(start) != len(full_shape) or part.ndim != len(full_shape):
            raise ValueError(f"slice of {key!r}: rank does not match full shape {full_shape}")
        extents = list(zip((int(s) for s in start), part.shape))
        if all(s == 0 and n == d for (s, n), d in zip(extents, full_shape)):
            # TF stores a slice that covers the whole tensor as a plain tensor.
            return {key: data.add(part)}
        full.dtype = datatype_enum(part.dtype)
        proto = full.slices.add()
        for s, n in extents:
            proto.extent.add(start=s, length=n)
        entries[slice_key(key, extents)] = data.add(part)
    return entries


# ---- reading ---------------------------------------------------------------------------------

def _corrupt_file_error(cause: OpError | None, path: str, detail: str) -> OpError:
    """TF's CorruptFileError: the cause's class (Internal without one) and TF's wording."""
    text = (f"Unable to read file ({path}). Perhaps the file is corrupt or was produced by a newer "
            f"version of TensorFlow with format changes ({detail})")
    if cause is None:
        return InternalError(None, None, text)
    return type(cause)(None, None, f"{text}: {cause.message}")


def _short_read() -> OutOfRangeError:
    return OutOfRangeError(None, None, "Read less bytes than requested")


def open_bundle(prefix: str, op=None) -> "BundleReader":
    """A BundleReader for ``prefix``; its errors (TF's classes and texts) are attributed to ``op``, the
    RestoreV2 op that reads it (used by that op's lowering and by Saver.restore's checks before it runs)."""
    try:
        return BundleReader(prefix)
    except OpError as exc:
        raise type(exc)(None, op, exc.message) from None


class BundleReader:
    """Reads a V2 checkpoint: the index eagerly, tensors on demand with checksums verified.

    Partitioned variables are listed and returned whole (as TF's CheckpointReader does); their
    slice entries are hidden. Failures are TF's BundleReader statuses (class and text): a missing
    index ``NotFoundError``, a damaged one ``DataLossError``, a data file cut short
    ``OutOfRangeError("Read less bytes than requested")``, a bad checksum ``DataLossError``.
    A data file is opened on first use and kept open, so a concurrent save that replaces the
    checkpoint cannot pull it away mid-restore; ``close()`` (or ``with``) releases them.
    """

    def __init__(self, prefix: str) -> None:
        self._files: dict[int, object] = {}
        self.prefix = prefix
        path = index_filename(prefix)
        if not os.path.exists(path):
            raise not_found(f"Unsuccessful TensorSliceReader constructor: Failed to find any "
                            f"matching files for {prefix}")
        self._entries: dict[bytes, BundleEntryProto] = {}
        items = iter(TableReader(path))
        try:  # the header is the table's first entry (key "")
            key, value = next(items)
        except StopIteration:
            raise _corrupt_file_error(None, path, "failed to seek to header entry") from None
        except OpError as exc:
            raise _corrupt_file_error(exc, path, "failed to seek to header entry") from None
        try:
            header = BundleHeaderProto.FromString(value)
        except Exception:  # protobuf's DecodeError
            raise _corrupt_file_error(data_loss(f"Entry for key {key.decode('latin-1')} not parseable."),
                                      path, "unable to parse header") from None
        version = header.version
        if version.min_consumer > 1:
            raise InvalidArgumentError(None, None, f"Checkpoint min consumer version {version.min_consumer} "
                                       f"above current version 1 for TensorFlow.  Please upgrade TensorFlow.")
        if 1 in version.bad_consumers:
            raise InvalidArgumentError(None, None, "Checkpoint disallows consumer version 1.  Please upgrade "
                                       "TensorFlow: this version is likely buggy.")
        for key, value in items:
            try:
                self._entries[key] = BundleEntryProto.FromString(value)
            except Exception:
                raise data_loss(f"Entry for key {key.decode('utf-8', 'replace')} not parseable.") from None
        self.num_shards = header.num_shards
        self._byteorder = ">" if header.endianness == BundleHeaderProto.BIG else "<"
        hidden = {slice_key(key, _slice_extents(s)) for key, e in self._entries.items() for s in e.slices}
        self._names = sorted(k.decode("utf-8", "surrogateescape") for k in self._entries if k not in hidden)

    def close(self) -> None:
        """Closes the data files opened so far."""
        for file in self._files.values():
            file.close()
        self._files.clear()

    def __enter__(self) -> "BundleReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def keys(self) -> list[str]:
        """Tensor names in sorted order (slice entries of partitioned variables excluded)."""
        return list(self._names)

    def _entry(self, name: str) -> BundleEntryProto:
        entry = self._entries.get(name.encode("utf-8", "surrogateescape"))
        if entry is None:
            raise not_found(f"Key {name} not found in checkpoint")
        return entry

    def has_tensor(self, name: str) -> bool:
        return name.encode("utf-8", "surrogateescape") in self._entries

    def datatype_of(self, name: str) -> int:
        """The tensor's TF DataType number."""
        return self._entry(name).dtype

    def dtype_of(self, name: str) -> np.dtype:
        """The tensor's numpy dtype (object for strings)."""
        enum = self.datatype_of(name)
        if enum not in DTYPES:
            raise _unsupported_dtype(enum)
        return DTYPES[enum]

    def shape_of(self, name: str) -> tuple[int, ...]:
        return tuple(d.size for d in self._entry(name).shape.dim)

    def variable_to_shape_map(self) -> dict[str, tuple[int, ...]]:
        return {name: self.shape_of(name) for name in self._names}

    def variable_to_dtype_map(self) -> dict[str, np.dtype]:
        return {name: self.dtype_of(name) for name in self._names}

    def get_tensor(self, name: str) -> np.ndarray:
        """The tensor's value, with TF's errors for damaged data."""
        entry = self._entry(name)
        if not entry.slices:
            return self._read(name, entry)
        shape = self.shape_of(name)
        out = np.empty(shape, dtype=self.dtype_of(name))
        covered = 0
        for proto in entry.slices:
            extents = _slice_extents(proto)
            stored = self._entries.get(slice_key(name, extents))
            if stored is None:
                raise not_found(f"Key {slice_key(name, extents)!r} not found in checkpoint (slice "
                                f"{proto.extent} of partitioned tensor {name})")
            part = self._read(name, stored)
            index = tuple(slice(None) if n < 0 else slice(s, s + n) for s, n in extents)
            if out[index].shape != part.shape:
                raise data_loss(f"slice {proto.extent} of {name} has shape {part.shape} in {self.prefix}")
            out[index] = part
            covered += part.size
        if covered != out.size:
            raise InvalidArgumentError(None, None, f"Does not have sufficient slices for partitioned tensor "
                                       f"{name}: the slices cover {covered} of {out.size} elements")
        return out

    def _data_file(self, shard: int):
        file = self._files.get(shard)
        if file is None:
            path = data_filename(self.prefix, shard, self.num_shards)
            try:
                file = open(path, "rb", buffering=0)
            except OSError as exc:
                raise io_error(path, exc) from None
            self._files[shard] = file
        return file

    def _read(self, name: str, entry: BundleEntryProto) -> np.ndarray:
        shape = tuple(d.size for d in entry.shape.dim)
        if any(d < 0 for d in shape):
            raise data_loss(f"Invalid tensor shape: {name} {text_format.MessageToString(entry.shape, as_one_line=True)}")
        dtype = DTYPES.get(entry.dtype)
        if dtype is None:
            raise _unsupported_dtype(entry.dtype)
        count = int(np.prod(shape, dtype=np.int64))
        if entry.dtype != DT_STRING and entry.size != count * dtype.itemsize:
            raise data_loss(f"Invalid size in bundle entry: key {name}; stored size {entry.size}; "
                            f"expected size {count * dtype.itemsize}")
        if entry.dtype == DT_STRING and entry.size < count:
            raise data_loss(f"Invalid size in bundle entry: key {name}; stored size {entry.size}; "
                            f"expected size is at least {count}")
        file = self._data_file(entry.shard_id)
        buffer = _aligned_empty(entry.size)
        file.seek(entry.offset)
        view, filled = memoryview(buffer), 0
        while filled < entry.size:
            n = file.readinto(view[filled:filled + _READ_CHUNK])
            if not n:
                raise _short_read()
            filled += n
        if entry.dtype == DT_STRING:
            values, crc = _parse_strings(buffer.tobytes(), count, entry.offset)
            result = np.empty(count, dtype=object)
            result[:] = values
            result = result.reshape(shape)
        else:
            crc = crc32c(buffer)
            result = buffer.view(dtype.newbyteorder(self._byteorder)).reshape(shape)
            if self._byteorder == ">":
                result = result.astype(dtype)
        if crc != unmask(entry.crc32c):
            raise data_loss(f"TensorBundle at {self.prefix} shard {entry.shard_id} ({entry.size} bytes): "
                            f"Checksum does not match: stored {unmask(entry.crc32c):08d} vs. calculated "
                            f"on the restored bytes {crc}")
        return result


def _unsupported_dtype(enum: int) -> OpError:
    return UnimplementedError(None, None, f"Data type {enum} not supported by graphcompat's checkpoint reader")


def _aligned_empty(size: int, alignment: int = 64) -> np.ndarray:
    """An uninitialised byte buffer whose start is `alignment`-aligned.

    JAX adopts aligned host buffers without copying (`jnp.asarray(x, dtype)` on CPU), so a restored
    variable becomes a device array without a second pass over its bytes.
    """
    raw = np.empty(size + alignment, dtype=np.uint8)
    offset = (-raw.ctypes.data) % alignment
    return raw[offset:offset + size]


def _parse_strings(data: bytes, count: int, offset: int) -> tuple[list[bytes], int]:
    """A string tensor's lengths, checksum and bytes (TF's ReadStringTensor, with its errors)."""
    lengths, pos, crc = [], 0, 0
    for _ in range(count):
        length = shift = 0
        while True:
            if pos >= len(data):
                raise _short_read()
            byte = data[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        lengths.append(length)
        crc = crc32c(struct.pack("<I" if length <= 0xFFFFFFFF else "<Q", length), crc)
    if pos + 4 > len(data):
        raise data_loss(f"String lengths longer than expected offset {offset + len(data)}")
    stored = unmask(struct.unpack_from("<I", data, pos)[0])
    if stored != crc:
        raise data_loss(f"The length checksum does not match: expected {stored:08d} but actual is {crc:08d}")
    crc = crc32c(data[pos:pos + 4], crc)
    pos += 4
    if pos + sum(lengths) > len(data):
        raise _short_read()
    crc = crc32c(data[pos:pos + sum(lengths)], crc)
    values = []
    for length in lengths:
        values.append(data[pos:pos + length])
        pos += length
    return values, crc
