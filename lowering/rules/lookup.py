"""Lowerings of graphcompat/ops/lookup_ops.py: a table's contents are session state under
("table", <table op name>), a `HostTable` written by the initializer and read by lookups (host rules:
keys are often strings). Writes replace the table object, so a run that fails changes nothing.
Messages and classes follow TF's lookup kernels (lookup_table_op.cc, lookup_util.cc).
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from lowering.interpreter import require
from lowering.registry import kernel_type, lowers, runs_before_the_step
from lowering.rules.checks import invalid, shape_str
from lowering.rules.dense_table import DenseTable


@dataclasses.dataclass(frozen=True)
class TableHandle:
    """What a table op outputs: the state key of its contents and the dtypes its kernel checks inputs
    against (TF's `LookupInterface::key_dtype` / `value_dtype`)."""
    key: tuple
    mutable: bool
    key_dtype: _dt.DType
    value_dtype: _dt.DType
    value_shape: tuple = ()   # a MutableHashTableOfTensors' values are tensors of this shape
    # an anonymous table's contents live with its handle, for the run that made it (TF's anonymous
    # resources die with their last handle); the others' are session state under `key`
    scratch: Optional[dict] = dataclasses.field(default=None, compare=False)

    def initialized(self, ctx) -> bool:
        return "table" in self.scratch if self.scratch is not None else ctx.has(self.key)

    def contents(self, ctx, op):
        return self.scratch["table"] if self.scratch is not None else ctx.read(self.key, op)

    def store(self, ctx, table) -> None:
        if self.scratch is not None:
            self.scratch["table"] = table
        else:
            ctx.write(self.key, table)


@dataclasses.dataclass
class HostTable:
    entries: dict
    value_dtype: np.dtype
    key_shape = ()   # every table but a MutableDenseHashTable (lowering/rules/dense_table.py) has scalar keys


def _key(v):
    """A hashable Python key for one element (bytes for strings, Python numbers otherwise)."""
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v)
    return v.item() if isinstance(v, np.generic) else v


def _key_text(k) -> str:
    return k.decode("utf-8", "backslashreplace") if isinstance(k, bytes) else str(k)


def _value_text(v) -> str:
    v = np.asarray(v)
    if v.ndim:
        return str(v)
    if v.dtype.kind == "f":
        # StrCat's shortest round-trip form: 6 (float) or 15 (double) significant digits, else 9 or 17
        short, full = (6, 9) if v.dtype == np.float32 else (15, 17)
        text = f"{float(v):.{short}g}"
        return text if v.dtype.type(text) == v else f"{float(v):.{full}g}"
    return _key_text(_key(v[()]))


_MUTABLE = ("MutableHashTableV2", "MutableHashTableOfTensorsV2")


def _handle(op, mutable: bool) -> TableHandle:
    value_shape = op.attrs.get("value_shape")
    shared = op.attrs.get("shared_name", "")
    # ops naming one shared table (V1 or V2 types alike) hold one table, as in TF's resource manager
    key = ("table", op.attrs.get("container", ""), shared) if shared else ("table", op.name)
    return TableHandle(key, mutable, op.attrs["key_dtype"], op.attrs["value_dtype"],
                       tuple(value_shape.as_list()) if value_shape is not None else ())


@lowers("HashTableV2", *_MUTABLE, context=True, host=True)
def hash_table(ctx, op):
    return _handle(op, kernel_type(op.type) in _MUTABLE)


@lowers("MutableDenseHashTableV2", context=True, host=True)
def dense_hash_table(ctx, op, empty_key, deleted_key):
    """TF's kernel makes the table (checking its attrs and keys) when the op first runs."""
    handle = _handle(op, mutable=True)
    if not handle.initialized(ctx):
        handle.store(ctx, DenseTable.create(op, empty_key, deleted_key))
    return handle


_ANONYMOUS = {"AnonymousHashTable": False, "AnonymousMutableHashTable": True,
              "AnonymousMutableHashTableOfTensors": True}  # op type -> mutable


@lowers(*_ANONYMOUS, context=True, host=True)
def anonymous_table(ctx, op):
    """A new, empty table every run: its contents live with the handle (`scratch`), not in the session."""
    return dataclasses.replace(_handle(op, _ANONYMOUS[op.type]), key=("anonymous table", op.name), scratch={})


@lowers("AnonymousMutableDenseHashTable", context=True, host=True)
def anonymous_dense_hash_table(ctx, op, empty_key, deleted_key):
    handle = dataclasses.replace(_handle(op, mutable=True), key=("anonymous table", op.name), scratch={})
    handle.store(ctx, DenseTable.create(op, empty_key, deleted_key))
    return handle


def _type_list(dtypes) -> str:
    return ", ".join(_dt.cpp_name(d) + ("_ref" if d.is_ref_dtype else "") for d in dtypes)


def _match_signature(op, handle: TableHandle, with_values: bool = True) -> None:
    """TF's OpKernelContext::MatchSignature as the lookup kernels call it: the keys (and values or default)
    must have the table's dtypes."""
    have = [t.dtype for t in op.inputs]
    want = [have[0], handle.key_dtype] + ([handle.value_dtype] if with_values else [])
    out_have = [t.dtype for t in op.outputs]
    out_want = [handle.value_dtype] if out_have else []
    if [d.base_dtype for d in have[1:]] != want[1:] or [d.base_dtype for d in out_have] != out_want:
        raise errors.InvalidArgumentError(
            None, op, f"Signature mismatch, have: {_type_list(have)}->{_type_list(out_have)} expected: "
                      f"{_type_list(want)}->{_type_list(out_want)}")


def _check_key_shape(keys: np.ndarray, key_shape: tuple) -> None:
    if keys.ndim < len(key_shape) or tuple(keys.shape[keys.ndim - len(key_shape):]) != tuple(key_shape):
        raise invalid(f"Input key shape {shape_str(keys.shape)} must end with the table's key shape "
                      f"{shape_str(key_shape)}")


def _per_key_shape(keys: np.ndarray, key_shape: tuple, value_shape: tuple) -> tuple:
    """The shape of one value per key: the keys' shape less the key's own dimensions, then a value's."""
    return tuple(keys.shape[:keys.ndim - len(key_shape)]) + tuple(value_shape)


def _check_find_arguments(table, handle: TableHandle, keys: np.ndarray, default: np.ndarray) -> None:
    """TF's LookupInterface::CheckFindArguments: a default of one value, or one per key."""
    key_shape = HostTable.key_shape if table is None else table.key_shape
    _check_key_shape(keys, key_shape)
    full = _per_key_shape(keys, key_shape, handle.value_shape)
    if default.shape != handle.value_shape and default.shape != full:
        raise invalid(f"Expected shape {shape_str(handle.value_shape)} or {shape_str(full)} for default value, got "
                      f"{shape_str(default.shape)}")


def _check_insert_arguments(table, handle: TableHandle, keys: np.ndarray, values: np.ndarray) -> None:
    """TF's LookupInterface::CheckKeyAndValueTensorsForInsert."""
    key_shape = HostTable.key_shape if table is None else table.key_shape
    _check_key_shape(keys, key_shape)
    expected = _per_key_shape(keys, key_shape, handle.value_shape)
    if values.shape != expected:
        raise invalid(f"Expected shape {shape_str(expected)} for value, got {shape_str(values.shape)}")


def _require_mutable(op, handle: TableHandle, what: str) -> None:
    if not handle.mutable:
        raise errors.UnimplementedError(None, op, f"{what} not supported by InitializableLookupTable "
                                                  "implementations")


def _table(ctx, op, handle, what: str = "find") -> HostTable:
    if handle.initialized(ctx):
        return handle.contents(ctx, op)
    if handle.mutable:
        return HostTable({}, np.dtype(handle.value_dtype.as_numpy_dtype))
    if what in ("size", "insert"):  # an uninitialized HashTable has size 0 and refuses inserts anyway
        return None
    raise errors.FailedPreconditionError(None, op, "Table not initialized.")


def _insert(entries: dict, keys, values, check_duplicates: bool) -> None:
    keys, values = np.asarray(keys), np.asarray(values)
    values = values.reshape((keys.size,) + values.shape[keys.ndim:])
    for k, v in zip(keys.reshape(-1), values):
        k = _key(k)
        if check_duplicates and k in entries and not np.array_equal(entries[k], v):
            raise errors.FailedPreconditionError(
                None, None, f"HashTable has different value for same key. Key {_key_text(k)} has "
                            f"{_value_text(entries[k])} and trying to add value {_value_text(v)}")
        entries[k] = v


@lowers("InitializeTableV2", "LookupTableImportV2", context=True, host=True)
def initialize_table(ctx, op, handle, keys, values):
    _match_signature(op, handle)
    current = handle.contents(ctx, op) if handle.initialized(ctx) else None
    if isinstance(current, DenseTable):  # LookupTableImport of a dense table: its buckets
        handle.store(ctx, current.imported(keys, values))
        return None
    require(np.size(keys) == np.shape(values)[0] if np.ndim(values) else np.size(keys) == np.size(values),
            errors.InvalidArgumentError,
            lambda: f"Keys and values must have the same size {np.size(keys)} vs {np.shape(values)[0]}")
    if handle.mutable:  # a mutable table's import: cleared, then the pairs inserted (the last of equal keys wins)
        _check_insert_arguments(current, handle, np.asarray(keys), np.asarray(values))
        entries = {}
        _insert(entries, keys, values, check_duplicates=False)
        handle.store(ctx, HostTable(entries, np.dtype(handle.value_dtype.as_numpy_dtype)))
        return None
    if current is not None:
        # TF's InitializableLookupTable::Initialize: an initialized table stays as it is (a re-run of
        # tables_initializer is harmless) when given as many pairs as it holds; it compares only the sizes
        require(np.size(keys) == len(current.entries), errors.FailedPreconditionError,
                "Table was already initialized with different data.")
        return None
    entries = {}
    _insert(entries, keys, values, check_duplicates=True)
    handle.store(ctx, HostTable(entries, np.asarray(values).dtype))
    return None


def _text_column(fields, index: int, line_number: int, offset: int):
    if index == -1:
        return line_number + offset
    return fields[index]


def _convert(field, dtype: np.dtype, line, line_number: int):
    if dtype == object:
        return field if isinstance(field, bytes) else str(field).encode()
    if isinstance(field, int):
        return dtype.type(field)
    text = field.decode("utf-8", "backslashreplace")
    try:
        return dtype.type(int(text, 10)) if dtype.kind in "iu" else dtype.type(float(text))
    except ValueError:
        kind = "int64" if dtype == np.int64 else "int32" if dtype == np.int32 else "float" if \
            dtype == np.float32 else "double"
        raise errors.InvalidArgumentError(None, None, f"Field {text} in line {line_number} is not a valid "
                                                      f"{kind}.") from None


@lowers("InitializeTableFromTextFileV2", context=True, host=True)
def initialize_table_from_text_file(ctx, op, handle, filename):
    if handle.initialized(ctx):
        return None
    key_dtype = np.dtype(handle.key_dtype.as_numpy_dtype)
    value_dtype = np.dtype(handle.value_dtype.as_numpy_dtype)
    key_index, value_index = op.attrs["key_index"], op.attrs["value_index"]
    vocab_size, delimiter, offset = op.attrs["vocab_size"], op.attrs["delimiter"].encode(), op.attrs["offset"]
    name = np.asarray(filename, dtype=object)[()]
    name = name.decode() if isinstance(name, bytes) else str(name)
    try:
        with open(name, "rb") as f:
            lines = f.read().split(b"\n")
    except FileNotFoundError:
        raise errors.NotFoundError(None, op, f"{name}; No such file or directory") from None
    if lines and lines[-1] == b"":
        lines.pop()
    lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    if vocab_size != -1:
        require(len(lines) >= vocab_size, errors.InvalidArgumentError,
                lambda: f"Invalid vocab_size in {name}: expected {vocab_size} but got {len(lines)}")
        lines = lines[:vocab_size]
    need = max(key_index, value_index) + 1
    entries = {}
    for n, line in enumerate(lines):
        fields = line.split(delimiter) if need > 0 else [line]
        require(len(fields) >= need, errors.InvalidArgumentError,
                lambda: f"Invalid number of columns in {name} line {n} ({line.decode('utf-8', 'replace')}) : "
                        f"expected at least {need} got {len(fields)}")
        k = line if key_index == -2 else _text_column(fields, key_index, n, 0)
        v = line if value_index == -2 else _text_column(fields, value_index, n, offset)
        key = np.empty(1, dtype=key_dtype)
        key[0] = _convert(k, key_dtype, line, n)
        value = np.empty(1, dtype=value_dtype)
        value[0] = _convert(v, value_dtype, line, n)
        _insert(entries, key, value, True)
    handle.store(ctx, HostTable(entries, value_dtype))
    return None


@lowers("LookupTableFindV2", context=True, host=True, host_input=runs_before_the_step)
def lookup_table_find(ctx, op, handle, keys, default_value):
    _match_signature(op, handle)
    table = _table(ctx, op, handle)
    keys = np.asarray(keys)
    default = np.asarray(default_value, dtype=table.value_dtype)
    _check_find_arguments(table, handle, keys, default)
    if isinstance(table, DenseTable):
        return table.find(keys, default)
    flat = keys.reshape(-1)
    value_shape = handle.value_shape
    out = np.empty((flat.size,) + value_shape, dtype=table.value_dtype)
    # a default per key (TF's "full size" default) or one for all
    defaults = default.reshape((flat.size,) + value_shape) if default.shape != value_shape or not flat.size \
        else np.broadcast_to(default, (flat.size,) + value_shape)
    for i, k in enumerate(flat):
        found = table.entries.get(_key(k))
        out[i] = defaults[i] if found is None else found
    return out.reshape(keys.shape + value_shape)


@lowers("LookupTableSizeV2", context=True, host=True, host_input=runs_before_the_step)
def lookup_table_size(ctx, op, handle):
    table = _table(ctx, op, handle, "size")
    if isinstance(table, DenseTable):
        return np.int64(table.num_entries)
    return np.int64(0 if table is None else len(table.entries))


@lowers("LookupTableInsertV2", context=True, host=True)
def lookup_table_insert(ctx, op, handle, keys, values):
    _match_signature(op, handle)
    table = _table(ctx, op, handle, "insert")
    _check_insert_arguments(table, handle, np.asarray(keys), np.asarray(values))
    _require_mutable(op, handle, "Insert")
    if isinstance(table, DenseTable):
        handle.store(ctx, table.inserted(keys, values))
        return None
    entries = dict(table.entries)
    _insert(entries, keys, values, check_duplicates=False)
    handle.store(ctx, HostTable(entries, table.value_dtype))
    return None


@lowers("LookupTableRemoveV2", context=True, host=True)
def lookup_table_remove(ctx, op, handle, keys):
    _match_signature(op, handle, with_values=False)
    _require_mutable(op, handle, "Remove")
    table = _table(ctx, op, handle)
    if isinstance(table, DenseTable):
        handle.store(ctx, table.removed(keys))
        return None
    entries = dict(table.entries)
    for k in np.asarray(keys).reshape(-1):
        entries.pop(_key(k), None)
    handle.store(ctx, HostTable(entries, table.value_dtype))
    return None


@lowers("LookupTableExportV2", context=True, host=True)
def lookup_table_export(ctx, op, handle):
    table = _table(ctx, op, handle)
    if isinstance(table, DenseTable):  # the buckets, free ones included
        return table.keys.copy(), table.values.copy()
    key_dtype = np.dtype(op.attrs["Tkeys"].as_numpy_dtype)
    keys = np.array(list(table.entries), dtype=key_dtype)
    shape = handle.value_shape
    values = np.array(list(table.entries.values()), dtype=table.value_dtype).reshape((len(keys),) + shape)
    return keys, values
