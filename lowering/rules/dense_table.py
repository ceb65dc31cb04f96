"""TF's MutableDenseHashTable (lookup_table_op.cc), bucket for bucket: an open-addressing table of
power-of-two size with quadratic probing, the empty key marking free buckets and the deleted key marking
removed ones, grown (doubled) before an insert would pass `max_load_factor`. Its export is the bucket
arrays themselves, so the bucket a key lands in is observable: keys hash as TF's do (an integer is its own
hash, a string TF's Hash64, a vector key folds its elements with Hash64Combine).

A `DenseTable` is a value: every write returns a new one (the rules in lookup.py store it as session state),
so a run that fails changes nothing.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from graphcompat.framework import errors
from lowering.hashing import hash64
from lowering.rules.checks import invalid, shape_str

_MASK = (1 << 64) - 1


def _hash_scalar(value) -> int:
    if isinstance(value, (bytes, str)):
        return hash64(value.encode() if isinstance(value, str) else value)
    return int(value) & _MASK  # static_cast<uint64>: two's complement for negative integers


def _hash64_combine(a: int, b: int) -> int:
    return (a ^ ((b + 0x9E3779B97F4A7800 + (a << 10) + (a >> 4)) & _MASK)) & _MASK


def _hash_key(row) -> int:
    if len(row) == 1:
        return _hash_scalar(row[0])
    result = 0
    for element in row:
        result = _hash64_combine(result, _hash_scalar(element))
    return result


def _float_text(value: float) -> str:
    """A float attr as TF's StrCat prints it (the shortest of 6 or 9 significant digits that round-trips)."""
    text = f"{value:.6g}"
    return text if np.float32(text) == np.float32(value) else f"{value:.9g}"


def _row(row: np.ndarray) -> tuple:
    """One key as a tuple (strings as bytes) to compare and hash."""
    if row.dtype == object:
        return tuple(v.encode() if isinstance(v, str) else bytes(v) for v in row)
    return tuple(row.tolist())


def _rows(array: np.ndarray, n: int, size: int) -> list:
    """`array` as n keys of `size` elements."""
    return [_row(row) for row in array.reshape(n, size)]


@dataclasses.dataclass
class DenseTable:
    keys: np.ndarray              # [num_buckets, key_size]: the empty key in free buckets
    values: np.ndarray            # [num_buckets, value_size]: zeros in free buckets
    num_entries: int
    empty: tuple                  # the empty key, as a row
    deleted: Optional[tuple]      # the deleted key (None for TF 1's MutableDenseHashTable, which has none)
    key_shape: tuple
    value_shape: tuple
    max_load_factor: float
    value_dtype: np.dtype

    # --- construction (TF's MutableDenseHashTable constructor) ------------------------------------
    @classmethod
    def create(cls, op, empty_key, deleted_key) -> "DenseTable":
        attrs = op.attrs
        key_dtype = np.dtype(attrs["key_dtype"].as_numpy_dtype)
        if key_dtype.kind not in "iuO":
            raise NotImplementedError(f"{op.type} '{op.name}': graphcompat hashes integer and string keys only, "
                                      f"not {attrs['key_dtype'].name}")
        max_load_factor = float(np.float32(attrs.get("max_load_factor", 0.8)))
        if not 0 < max_load_factor < 1:
            raise invalid(f"max_load_factor must be between 0 and 1, got: {_float_text(max_load_factor)}")
        value_shape = tuple(attrs["value_shape"].as_list()) if attrs.get("value_shape") is not None else ()
        if len(value_shape) > 1:
            raise invalid(f"Empty value must be a scalar or a vector, got shape {shape_str(value_shape)}")
        empty_key = np.asarray(empty_key)
        key_shape = empty_key.shape
        if len(key_shape) > 1:
            raise invalid(f"Empty key must be a scalar or a vector, got shape {shape_str(key_shape)}")
        key_size = int(np.prod(key_shape, dtype=np.int64))
        empty = _rows(empty_key, 1, key_size)[0]
        deleted = None
        if deleted_key is not None:
            deleted_key = np.asarray(deleted_key)
            if deleted_key.shape != key_shape:
                raise invalid(f"Empty and deleted keys must have same shape, got shapes: {shape_str(key_shape)} "
                              f"and {shape_str(deleted_key.shape)}")
            deleted = _rows(deleted_key, 1, key_size)[0]
            if deleted == empty:
                raise invalid("Empty and deleted keys cannot be equal")
        table = cls(np.empty((0, key_size), key_dtype), np.empty((0, 0)), 0, empty, deleted, key_shape,
                    value_shape, max_load_factor, np.dtype(attrs["value_dtype"].as_numpy_dtype))
        return table._allocated(int(attrs.get("initial_num_buckets", 131072)))

    def _allocated(self, num_buckets: int) -> "DenseTable":
        if num_buckets < 4 or num_buckets & (num_buckets - 1):
            raise invalid(f"Number of buckets must be at least 4 and a power of 2, got: {num_buckets}")
        keys = np.empty((num_buckets, len(self.empty)), self.keys.dtype)
        keys[:] = self.empty
        value_size = int(np.prod(self.value_shape, dtype=np.int64))
        values = np.full((num_buckets, value_size), b"" if self.value_dtype == object else 0, self.value_dtype)
        return dataclasses.replace(self, keys=keys, values=values, num_entries=0)

    # --- the kernel's operations ----------------------------------------------------------------
    def _batch(self, keys: np.ndarray, leading: int) -> list:
        key_size = len(self.empty)
        if keys.size != leading * key_size:
            raise invalid(f"Expected key shape {shape_str((leading,) + self.key_shape)} got {shape_str(keys.shape)}")
        return _rows(keys, leading, key_size)

    def _check_key(self, key: tuple, allow_reserved: bool = False) -> bool:
        """False for the empty/deleted key when allowed (a rebucket skips them); TF's error otherwise."""
        for reserved, name in ((self.empty, "empty_key"), (self.deleted, "deleted_key")):
            if reserved is not None and key == reserved:
                if allow_reserved:
                    return False
                raise invalid(f"Using the {name} as a table key is not allowed")
        return True

    def _probe(self, key: tuple, what: str):
        """(bucket, the key in it) for the buckets TF's quadratic probing visits for `key`, in order (only
        those: a table has 131072 buckets by default)."""
        num_buckets = len(self.keys)
        bucket, probes = _hash_key(key) & (num_buckets - 1), 0
        while True:
            yield bucket, _row(self.keys[bucket])
            probes += 1
            bucket = (bucket + probes) & (num_buckets - 1)
            if probes >= num_buckets:
                raise errors.InternalError(None, None, f"Internal error in MutableDenseHashTable {what}")

    def find(self, keys, default) -> np.ndarray:
        keys = np.asarray(keys)
        n = 1 if keys.ndim == 0 else keys.shape[0]
        wanted = self._batch(keys, n)
        default_row = np.asarray(default, self.value_dtype).reshape(-1)[:self.values.shape[1]]
        out = np.empty((n, self.values.shape[1]), self.value_dtype)
        for i, key in enumerate(wanted):
            self._check_key(key)
            for bucket, there in self._probe(key, "lookup"):
                if there == key:
                    out[i] = self.values[bucket]
                    break
                if there == self.empty:
                    out[i] = default_row
                    break
        return out.reshape(keys.shape[:keys.ndim - len(self.key_shape)] + self.value_shape)

    def inserted(self, keys, values) -> "DenseTable":
        keys = np.asarray(keys)
        n = 1 if keys.ndim == 0 else keys.shape[0]
        self._batch(keys, n)
        table = self
        # TF grows as if every key were new
        pending = np.float32(self.num_entries + n)
        if pending > np.float32(len(self.keys)) * np.float32(self.max_load_factor):
            num_buckets = len(self.keys)
            while True:
                num_buckets <<= 1
                if not pending > np.float32(num_buckets) * np.float32(self.max_load_factor):
                    break
            table = self._allocated(num_buckets)._with(self.keys, self.values, allow_reserved=True)
        else:
            table = dataclasses.replace(self, keys=self.keys.copy(), values=self.values.copy())
        return table._with(keys, np.asarray(values, self.value_dtype), allow_reserved=False)

    def _with(self, keys: np.ndarray, values: np.ndarray, allow_reserved: bool) -> "DenseTable":
        """TF's DoInsert, in place on this (fresh) table."""
        n = 1 if keys.ndim == 0 else keys.shape[0]
        new_rows = _rows(keys, n, len(self.empty))
        new_values = values.reshape(n, self.values.shape[1])
        for i, key in enumerate(new_rows):
            if not self._check_key(key, allow_reserved):
                continue
            for bucket, there in self._probe(key, "insert"):
                if there == key:
                    self.values[bucket] = new_values[i]
                    break
                if there == self.empty or there == self.deleted:
                    self.num_entries += 1
                    self.keys[bucket] = key
                    self.values[bucket] = new_values[i]
                    break
        return self

    def removed(self, keys) -> "DenseTable":
        keys = np.asarray(keys)
        wanted = self._batch(keys, keys.shape[0] if keys.ndim else 1)
        table = dataclasses.replace(self, keys=self.keys.copy())
        for key in wanted:
            table._check_key(key)
            for bucket, there in table._probe(key, "remove"):
                if there == key:
                    table.num_entries -= 1
                    table.keys[bucket] = table.deleted
                    break
                if there == table.empty:
                    break
        return table

    def imported(self, keys, values) -> "DenseTable":
        """TF's ImportValues: the arrays become the buckets (an export read back)."""
        keys, values = np.asarray(keys), np.asarray(values, self.value_dtype)
        key_shape = self.key_shape or (1,)
        value_shape = self.value_shape or (1,)
        if keys.ndim < len(key_shape) or tuple(keys.shape[keys.ndim - len(key_shape):]) != key_shape:
            raise invalid(f"Input key shape {shape_str(keys.shape)} must end with the table's key shape "
                          f"{shape_str(self.key_shape)}")
        expected = keys.shape[:keys.ndim - len(key_shape)] + value_shape
        if values.shape != expected:
            raise invalid(f"Expected shape {shape_str(expected)} for value, got {shape_str(values.shape)}")
        n = keys.shape[0]
        rows = _rows(keys, n, len(self.empty))
        entries = sum(1 for row in rows if row != self.empty and row != self.deleted)
        return dataclasses.replace(self, keys=keys.reshape(n, len(self.empty)).copy(),
                                   values=values.reshape(n, -1).copy(), num_entries=entries)
