"""V1 checkpoints (``SaverDef.V1``, TF before 0.12 and TF-slim's ``model.ckpt``): one table file per shard.

Written byte for byte like TensorFlow's ``TensorSliceWriter`` (tensor_slice_writer.cc): a LevelDB-format
table (``table.TableWriter``: TF's default options, 256 KiB blocks, restart interval 16, no compression)
whose empty key holds a ``SavedTensorSlices`` with only its ``meta`` (every tensor's name, shape, dtype and
slices, in the order they were added, plus the checkpoint versions), and one entry per (tensor, slice) under
``checkpoint::EncodeTensorNameSlice`` (the OrderedCode key V2 bundles use for slices too) holding a
``SavedTensorSlices`` whose ``data`` is the slice's name, extent and a ``TensorProto`` with the values in
its typed repeated field (``float_val``, ``int_val`` …, saved_tensor_slice_util.h's ``Fill``), never
``tensor_content``. A whole tensor is one slice whose extents are all "full" (an empty ``Extent``, key
length -1); a partitioned variable is one tensor with one slice per partition.

Reading follows ``TensorSliceReader``: the pattern is globbed (sharded V1 checkpoints are
``model.ckpt-?????-of-NNNNN``), every file's metadata is registered, and a requested region is assembled
from the slices that cover it. Failures are TF's classes and texts (see the functions below).
"""

from __future__ import annotations

import glob
import os
from typing import Mapping, Sequence

import numpy as np

from .bundle import DT_STRING, DTYPES, PartitionedTensor, slice_key
from .durable import fsync_file
from .errors import (DataLossError, InternalError, InvalidArgumentError, NotFoundError, OpError,
                     UnimplementedError, io_error)
from .protos import SavedTensorSlices, TensorSliceProto
from .table import TableReader, TableWriter

CHECKPOINT_VERSION = 1              # TF_CHECKPOINT_VERSION
CHECKPOINT_VERSION_MIN_PRODUCER = 0
CHECKPOINT_VERSION_MIN_CONSUMER = 0
_MAX_MESSAGE_BYTES = 1 << 31        # tensor_slice_writer.h kMaxMessageBytes
_TENSOR_PROTO_HEADER_BYTES = 1 << 10

# DataType -> (TensorProto field, numpy type of the field's values, most bytes one element takes on the
# wire), as saved_tensor_slice_util.h's SaveTypeTraits / Fill and tensor_slice_writer.cc's
# MaxBytesPerElement: small integers share int_val, halves are their bit patterns in half_val, complex
# numbers are (real, imaginary) pairs.
_FIELDS: dict[int, tuple[str, object, int]] = {
    1: ("float_val", np.float32, 4), 2: ("double_val", np.float64, 8), 3: ("int_val", np.int32, 10),
    4: ("int_val", np.int32, 2), 5: ("int_val", np.int32, 10), 6: ("int_val", np.int32, 10),
    17: ("int_val", np.int32, 3), 9: ("int64_val", np.int64, 10), 10: ("bool_val", np.bool_, 1),
    8: ("scomplex_val", np.float32, 8), 18: ("dcomplex_val", np.float64, 16), 19: ("half_val", np.int32, 3),
    DT_STRING: ("string_val", object, 10),
}
# Types TF's SaveSlices kernel dispatches on (TF_CALL_ALL_TYPES) but whose Fill TF never wrote: its
# writer refuses them with InvalidArgument, other types with Unimplemented.
_NOT_SERIALIZABLE = {22, 23}        # uint32, uint64
_TYPE_NAMES = {1: "float", 2: "double", 3: "int32", 4: "uint8", 5: "int16", 6: "int8", 7: "string",
               8: "complex64", 9: "int64", 10: "bool", 11: "qint8", 12: "quint8", 13: "qint32", 14: "bfloat16",
               15: "qint16", 16: "quint16", 17: "uint16", 18: "complex128", 19: "half", 22: "uint32",
               23: "uint64"}
_STATUS_NAMES = {3: "INVALID_ARGUMENT", 5: "NOT_FOUND", 7: "PERMISSION_DENIED", 9: "FAILED_PRECONDITION",
                 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL", 15: "DATA_LOSS", 2: "UNKNOWN"}

Extents = Sequence[tuple[int, int]]  # (start, length) per dimension; length -1 is the whole dimension


def type_name(enum: int) -> str:
    """TF's DataTypeString for a DataType number."""
    return _TYPE_NAMES.get(enum, f"<unknown type {enum}>")


def _shape_string(shape: Sequence[int]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _slice_string(extents: Extents) -> str:
    """TF's TensorSlice::DebugString ("-" for a whole dimension)."""
    return ":".join("-" if n < 0 else f"{s},{n}" for s, n in extents)


def _region(shape: Sequence[int], extents: Extents) -> tuple[slice, ...]:
    return tuple(slice(0, d) if n < 0 else slice(s, s + n) for d, (s, n) in zip(shape, extents))


def _region_shape(shape: Sequence[int], extents: Extents) -> tuple[int, ...]:
    return tuple(d if n < 0 else n for d, (_, n) in zip(shape, extents))


def _overlaps(a: Extents, b: Extents, shape: Sequence[int]) -> bool:
    for (sa, na), (sb, nb), d in zip(a, b, shape):
        ea, eb = (d if na < 0 else sa + na), (d if nb < 0 else sb + nb)
        sa, sb = (0 if na < 0 else sa), (0 if nb < 0 else sb)
        if max(sa, sb) >= min(ea, eb):
            return False
    return True


def _slice_proto(extents: Extents):
    proto = TensorSliceProto()
    for start, length in extents:
        extent = proto.extent.add()
        if length >= 0:  # a whole dimension is an empty Extent, as TensorSlice::AsProto writes it
            extent.start = start
            extent.length = length
    return proto


def _proto_extents(proto) -> list[tuple[int, int]]:
    return [(e.start, e.length) if e.HasField("length") else (0, -1) for e in proto.extent]


def parse_slice_spec(spec: str) -> tuple[list[int], list[tuple[int, int]]]:
    """A SaveSlices / RestoreSlice spec ("10 5 0,5:-") as (full shape, extents), "-" kept as length -1
    (TF's ParseShapeAndSlice). A malformed spec raises InvalidArgumentError, a slice outside the shape
    InternalError (TF's codes: its kernels report both as InvalidArgument, its shape functions keep them)."""
    parts = spec.split(" ")
    if len(parts) < 2:
        raise InvalidArgumentError(None, None, f"Need least two elements in shape_and_slice specification: {spec}")
    try:
        shape = [int(d) for d in parts[:-1]]
    except ValueError:
        raise InvalidArgumentError(None, None, f"Non numerical dimension in shape_and_slice: {spec}") from None
    extents: list[tuple[int, int]] = []
    for item in parts[-1].split(":"):
        if item == "-":
            extents.append((0, -1))
            continue
        try:
            start, length = (int(x) for x in item.split(","))
        except ValueError:
            raise InvalidArgumentError(None, None, f"Expected a pair of numbers or '-' but got '{item}': "
                                       f"string = {parts[-1]}") from None
        if start < 0 or length < 0:
            raise InvalidArgumentError(None, None, f"Expected non-negative start and positive length but got "
                                       f"start = {start}, length = {length}: string = {parts[-1]}")
        extents.append((start, length))
    if len(extents) != len(shape):
        raise InternalError(None, None, f"Mismatching ranks: shape = {_shape_string(shape)}, slice = "
                            f"{_slice_string(extents)}")
    for d, (dim, (start, length)) in enumerate(zip(shape, extents)):
        if length >= 0 and start + length > dim:
            raise InternalError(None, None, f"Extent in dimension {d} out of bounds: shape = "
                                f"{_shape_string(shape)}, slice = {parts[-1]}")
    return shape, extents


# ---- writing ---------------------------------------------------------------------------------

def datatype_of_array(array: np.ndarray) -> int:
    from .bundle import datatype_enum
    return datatype_enum(array.dtype)


class TensorSliceWriter:
    """TF's ``checkpoint::TensorSliceWriter``: ``add`` slices, then ``finish`` writes the file.

    The file is written under a temporary name and renamed into place (as TF's writer does), so a reader
    never sees half a checkpoint. Errors are TF's (class and text). Like TF's, the writer does not check
    that slices of a tensor are disjoint: overlapping ones are written, and refused by the reader.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._meta = SavedTensorSlices()
        versions = self._meta.meta.versions
        versions.producer = CHECKPOINT_VERSION
        versions.min_consumer = CHECKPOINT_VERSION_MIN_CONSUMER
        self._data: dict[bytes, bytes] = {}

    def add(self, name: str, shape: Sequence[int], extents: Extents, value: np.ndarray, dtype: int) -> None:
        """One slice of tensor ``name`` (full ``shape``); ``value`` holds exactly the slice's elements."""
        shape = [int(d) for d in shape]
        if len(shape) != len(extents):
            raise InternalError(None, None, f"Incompatible tensor shape and slice: shape = "
                                f"{_shape_string(shape)}, slice = {_slice_string(extents)}")
        if dtype not in _FIELDS:
            if dtype in _NOT_SERIALIZABLE:
                raise InvalidArgumentError(None, None, f"Tensor slice serialization not implemented for "
                                           f"dtype {dtype}")
            raise UnimplementedError(None, None, f"Saving data type {type_name(dtype)} not yet supported")
        meta = next((m for m in self._meta.meta.tensor if m.name == name), None)
        if meta is None:
            meta = self._meta.meta.tensor.add(name=name, type=dtype)
            meta.shape.SetInParent()
            for d in shape:
                meta.shape.dim.add(size=d)
        else:
            existing = [d.size for d in meta.shape.dim]
            if existing != shape:
                raise InternalError(None, None, f"Mismatching shapes: existing tensor = "
                                    f"{_shape_string(existing)}, trying to add name {name}, shape = "
                                    f"{_shape_string(shape)}")
            if meta.type != dtype:
                raise InternalError(None, None, f"Mismatching types: existing type = {type_name(meta.type)}, "
                                    f"trying to add name {name}, type = {type_name(dtype)}")
        meta.slice.append(_slice_proto(extents))
        entry = SavedTensorSlices()
        saved = entry.data
        saved.name = name
        saved.slice.CopyFrom(_slice_proto(extents))
        field, field_type, max_bytes = _FIELDS[dtype]
        flat = np.asarray(value).reshape(-1)
        bound = saved.ByteSize() + _TENSOR_PROTO_HEADER_BYTES + max_bytes * flat.size
        if dtype == DT_STRING:
            flat = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in flat]
            bound += sum(len(s) for s in flat)
        if bound > _MAX_MESSAGE_BYTES:
            raise InvalidArgumentError(None, None, f"Tensor slice is too large to serialize (conservative "
                                       f"estimate: {bound} bytes)")
        key = slice_key(name, extents)
        if dtype in _PACKED_RAW:
            self._data[key] = _packed_raw_entry(saved, flat, dtype)
            return
        getattr(saved.data, field).extend(_field_values(flat, dtype, field_type))
        self._data[key] = entry.SerializeToString(deterministic=True)

    def finish(self) -> None:
        """Writes the table (metadata first, then the slices in key order) and renames it into place."""
        temp = f"{self.path}_temp_{os.urandom(16).hex()}"
        try:
            with open(temp, "wb") as file:
                writer = TableWriter(file)
                writer.add(b"", self._meta.SerializeToString(deterministic=True))
                for key in sorted(self._data):
                    writer.add(key, self._data[key])
                writer.finish()
                fsync_file(file)
            os.replace(temp, self.path)
        except OSError as exc:
            try:
                os.remove(temp)
            except OSError:
                pass
            raise io_error(exc.filename or self.path, exc) from None


# float_val, double_val, scomplex_val, dcomplex_val: packed fixed-width fields, whose payload is the array's
# little-endian bytes. Encoded directly (protobuf would copy every element through a Python list); the bytes
# are protobuf's deterministic encoding, fields in number order.
_PACKED_RAW = {1: (5, "<f4"), 2: (6, "<f8"), 8: (9, "<f4"), 18: (12, "<f8")}


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _packed_raw_entry(saved, flat: np.ndarray, dtype: int) -> bytes:
    """SavedTensorSlices{data: SavedSlice{name, slice, data: TensorProto{<field>: packed values}}} as bytes."""
    number, wire_type = _PACKED_RAW[dtype]
    raw = np.ascontiguousarray(flat).view(flat.real.dtype if flat.dtype.kind == "c" else flat.dtype)
    raw = raw.astype(wire_type, copy=False).tobytes()
    tensor = _length_delimited(number, raw) if raw else b""  # an empty repeated field is left out
    saved_bytes = saved.SerializeToString(deterministic=True) + _length_delimited(3, tensor)
    return _length_delimited(2, saved_bytes)


def _field_values(flat, dtype: int, field_type):
    if dtype == DT_STRING:
        return flat
    if dtype == 19:  # half: the IEEE bit pattern
        return np.asarray(flat, np.float16).view(np.uint16).astype(np.int32).tolist()
    if dtype in (8, 18):
        return np.asarray(flat).view(field_type).tolist()
    return np.asarray(flat).astype(field_type).tolist()


def write_checkpoint_v1(path: str, tensors: Mapping[str, "np.ndarray | PartitionedTensor"],
                        dtypes: Mapping[str, int] | None = None) -> None:
    """Writes ``tensors`` (arrays, or :class:`PartitionedTensor` for partitioned variables) as one V1 file,
    in the mapping's order, as TF's Save op would."""
    writer = TensorSliceWriter(path)
    for name, value in tensors.items():
        if isinstance(value, PartitionedTensor):
            for starts, part in value.parts:
                part = np.asarray(part)
                dtype = dtypes[name] if dtypes else datatype_of_array(part)
                writer.add(name, value.full_shape, list(zip(starts, part.shape)), part, dtype)
            continue
        array = np.asarray(value)
        dtype = dtypes[name] if dtypes else datatype_of_array(array)
        writer.add(name, array.shape, [(0, -1)] * array.ndim, array, dtype)
    writer.finish()


# ---- reading ---------------------------------------------------------------------------------

class _Tensor:
    def __init__(self, shape: tuple[int, ...], dtype: int) -> None:
        self.shape, self.dtype = shape, dtype
        self.slices: list[tuple[list[tuple[int, int]], int]] = []  # (extents, file index)


def _open_error(fname: str, exc: OpError) -> DataLossError:
    status = _STATUS_NAMES.get(exc.error_code, "UNKNOWN")
    return DataLossError(None, None, f"Unable to open table file {fname}: {status}: {exc.message}: perhaps "
                         f"your file is in a different file format and you need to use a different restore "
                         f"operator?")


def _check_versions(versions) -> None:
    """TF's CheckVersions for a checkpoint's VersionDef."""
    if versions.producer < CHECKPOINT_VERSION_MIN_PRODUCER:
        raise InvalidArgumentError(None, None, f"Checkpoint producer version {versions.producer} below min "
                                   f"producer {CHECKPOINT_VERSION_MIN_PRODUCER} supported by TensorFlow.  "
                                   f"Please regenerate your checkpoint.")
    if versions.min_consumer > CHECKPOINT_VERSION:
        raise InvalidArgumentError(None, None, f"Checkpoint min consumer version {versions.min_consumer} above "
                                   f"current version {CHECKPOINT_VERSION} for TensorFlow.  Please upgrade "
                                   f"TensorFlow.")
    if CHECKPOINT_VERSION in versions.bad_consumers:
        raise InvalidArgumentError(None, None, f"Checkpoint disallows consumer version {CHECKPOINT_VERSION}.  "
                                   f"Please upgrade TensorFlow: this version is likely buggy.")


def matching_files(pattern: str) -> list[str]:
    """TF's GetMatchingPaths for a checkpoint pattern (sorted; a plain existing path matches itself)."""
    if glob.has_magic(pattern):
        return sorted(glob.glob(pattern))
    return [pattern] if os.path.exists(pattern) else []


class TensorSliceReader:
    """TF's ``checkpoint::TensorSliceReader`` over every file ``pattern`` matches.

    The same interface as :class:`bundle.BundleReader` (``keys``, ``has_tensor``, ``datatype_of``,
    ``shape_of``, ``get_tensor``) plus ``get_slice`` and ``num_slices``. Opening fails as TF's does:
    ``NotFoundError`` without a matching file, ``DataLossError("Unable to open table file …")`` for a file
    that is not a table, ``InternalError`` when the metadata entry is missing or damaged.
    """

    format_version = 1

    def __init__(self, pattern: str) -> None:
        self.prefix = pattern
        self._files = matching_files(pattern)
        if not self._files:
            raise NotFoundError(None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any "
                                f"matching files for {pattern}")
        self._tables: list[TableReader] = []
        self._tensors: dict[str, _Tensor] = {}
        for index, fname in enumerate(self._files):
            try:
                table = TableReader(fname)
            except OpError as exc:
                raise _open_error(fname, exc) from None
            self._tables.append(table)
            try:
                value = table.get(b"")
                meta = SavedTensorSlices.FromString(value).meta if value is not None else None
            except Exception:  # a damaged block or an unparsable message: TF's Get fails the same way
                meta = None
            if meta is None:
                raise InternalError(None, None, f"Failed to find the saved tensor slices at the beginning of "
                                    f"the checkpoint file: {fname}")
            _check_versions(meta.versions)
            for saved in meta.tensor:
                self._register(saved, index)

    def _register(self, saved, index: int) -> None:
        shape = tuple(d.size for d in saved.shape.dim)
        tensor = self._tensors.get(saved.name)
        if tensor is None:
            tensor = self._tensors[saved.name] = _Tensor(shape, saved.type)
        elif tensor.shape != shape:
            raise InternalError(None, None, f"Incompatible tensor shapes detected for tensor {saved.name}: "
                                f"existing = {_shape_string(tensor.shape)}, new = {_shape_string(shape)}")
        elif tensor.dtype != saved.type:
            raise InternalError(None, None, f"Incompatible tensor types detected for tensor {saved.name}: "
                                f"existing = {type_name(tensor.dtype)}, new = {type_name(saved.type)}")
        for proto in saved.slice:
            extents = _proto_extents(proto)
            for other, _ in tensor.slices:
                if _overlaps(other, extents, shape):
                    raise InternalError(None, None, f"Overlapping slices: existing slice = "
                                        f"{_slice_string(other)}, new slice = {_slice_string(extents)}")
            tensor.slices.append((extents, index))

    def close(self) -> None:
        """Nothing to release: tables are read into memory when opened."""

    def __enter__(self) -> "TensorSliceReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def keys(self) -> list[str]:
        return sorted(self._tensors)

    def has_tensor(self, name: str) -> bool:
        return name in self._tensors

    def _tensor(self, name: str) -> _Tensor:
        tensor = self._tensors.get(name)
        if tensor is None:
            raise NotFoundError(None, None, f"{name} not found in checkpoint file")
        return tensor

    def datatype_of(self, name: str) -> int:
        return self._tensor(name).dtype

    def dtype_of(self, name: str) -> np.dtype:
        enum = self.datatype_of(name)
        if enum not in DTYPES:
            raise UnimplementedError(None, None, f"Restoring data type {type_name(enum)} not yet supported")
        return DTYPES[enum]

    def shape_of(self, name: str) -> tuple[int, ...]:
        return self._tensor(name).shape

    def num_slices(self, name: str) -> int:
        return len(self._tensor(name).slices)

    def variable_to_shape_map(self) -> dict[str, tuple[int, ...]]:
        return {name: t.shape for name, t in sorted(self._tensors.items())}

    def variable_to_dtype_map(self) -> dict[str, np.dtype]:
        return {name: self.dtype_of(name) for name in self.keys()}

    def debug_string(self) -> str:
        """TF's TensorSliceReader::DebugString: `name (DT_TYPE) [dims]` per tensor, `, N slices` for a
        partitioned one (TF lists them in its hash map's order, this in name order)."""
        from tensorboard.compat.proto import types_pb2
        lines = []
        for name in self.keys():
            tensor = self._tensors[name]
            line = f"{name} ({types_pb2.DataType.Name(tensor.dtype)}) {_shape_string(tensor.shape)}"
            if len(tensor.slices) > 1:
                line += f", {len(tensor.slices)} slices"
            lines.append(line + "\n")
        return "".join(lines)

    def get_tensor(self, name: str) -> np.ndarray:
        """The whole tensor, assembled from its slices."""
        tensor = self._tensor(name)
        return self.get_slice(name, [(0, -1)] * len(tensor.shape))

    def get_slice(self, name: str, extents: Extents) -> np.ndarray:
        """The region ``extents`` of tensor ``name`` (TF's CopySliceData): every element must be covered by
        a stored slice, else ``InvalidArgumentError("Error copying slice data")`` as TF's restore kernel."""
        tensor = self._tensor(name)
        dtype = self.dtype_of(name)
        want = [(0, d) if n < 0 else (s, n) for d, (s, n) in zip(tensor.shape, extents)]
        out = np.empty(tuple(n for _, n in want), dtype=dtype)
        if not out.size:
            return out
        covered = np.zeros(out.shape, dtype=bool)
        for stored, index in tensor.slices:
            have = [(0, d) if n < 0 else (s, n) for d, (s, n) in zip(tensor.shape, stored)]
            lo = [max(a, b) for (a, _), (b, _) in zip(want, have)]
            hi = [min(a + m, b + n) for (a, m), (b, n) in zip(want, have)]
            if any(l >= h for l, h in zip(lo, hi)):
                continue  # this stored slice holds nothing of the region
            part = self._read_slice(name, tensor, stored, index, have)
            dst = tuple(slice(l - a, h - a) for l, h, (a, _) in zip(lo, hi, want))
            src = tuple(slice(l - b, h - b) for l, h, (b, _) in zip(lo, hi, have))
            out[dst] = part[src]
            covered[dst] = True
        if not covered.all():
            raise InvalidArgumentError(None, None, "Error copying slice data")
        return out

    def _read_slice(self, name: str, tensor: _Tensor, stored: Extents, index: int,
                    have: Sequence[tuple[int, int]]) -> np.ndarray:
        key = slice_key(name, stored)
        fname = self._files[index]
        try:
            value = self._tables[index].get(key)
        except OpError as exc:
            raise DataLossError(None, None, f"{exc.message} in checkpoint file {fname}") from None
        if value is None:
            raise NotFoundError(None, None, f"Slice {_slice_string(stored)} of {name} not found in checkpoint "
                                f"file {fname}")
        try:
            proto = SavedTensorSlices.FromString(value).data.data
        except Exception:
            raise DataLossError(None, None, f"Unable to parse the data of slice {_slice_string(stored)} of "
                                f"{name} in checkpoint file {fname}") from None
        shape = tuple(n for _, n in have)
        count = int(np.prod(shape, dtype=np.int64))
        field, field_type, _ = _FIELDS[tensor.dtype]
        values = getattr(proto, field)
        expected = 2 * count if tensor.dtype in (8, 18) else count
        if len(values) != expected:
            raise InvalidArgumentError(None, None, "Error copying slice data")
        dtype = DTYPES[tensor.dtype]
        if tensor.dtype == DT_STRING:
            array = np.empty(count, dtype=object)
            array[:] = list(values)
        elif tensor.dtype == 19:
            array = np.asarray(values, np.int32).astype(np.uint16).view(np.float16)
        elif tensor.dtype in (8, 18):
            array = np.asarray(values, field_type).view(dtype)
        else:
            array = np.asarray(values, field_type).astype(dtype)
        return array.reshape(shape)


def check_restorable(reader: TensorSliceReader, pattern: str, name: str, dtype: int) -> None:
    """TF's RestoreTensor checks of one requested tensor (its texts), before anything is read."""
    if not reader.has_tensor(name):
        raise NotFoundError(None, None, f'Tensor name "{name}" not found in checkpoint files {pattern}')
    stored = reader.datatype_of(name)
    if stored != dtype:
        raise InvalidArgumentError(None, None, f"Expected to restore a tensor of type {type_name(dtype)}, got a "
                                   f"tensor of type {type_name(stored)} instead: tensor_name = {name}")


def is_v2(prefix: str) -> bool:
    """Whether ``prefix`` names a V2 bundle (TF's RestoreV2: ``<prefix>.index`` matches), else V1 is read."""
    return bool(matching_files(prefix + ".index"))


def open_checkpoint(prefix: str, op=None):
    """The reader RestoreV2 uses for ``prefix``: a BundleReader where ``<prefix>.index`` exists, else the V1
    TensorSliceReader of the pattern (TF's fallback for old checkpoints); errors attributed to ``op``."""
    from .bundle import open_bundle
    if is_v2(prefix):
        return open_bundle(prefix, op)
    try:
        return TensorSliceReader(prefix)
    except OpError as exc:
        raise type(exc)(None, op, exc.message) from None
