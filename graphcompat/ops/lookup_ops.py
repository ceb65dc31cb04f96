"""Lookup tables (TF's python/ops/lookup_ops.py as TF1 graphs build them): `HashTable` /
`StaticHashTable`, `StaticVocabularyTable`, `IdTableWithHashBuckets`, `MutableHashTable`, the
initializers (`KeyValueTensorInitializer`, `TextFileInitializer`, `TextFileIdTableInitializer`,
`TextFileStringTableInitializer`), `index_table_from_file/tensor`, `index_to_string_table_from_file/
tensor` and `tables_initializer`.

A table is a resource op (HashTableV2, MutableHashTableV2); its contents live in the Session, set by
InitializeTableV2 / InitializeTableFromTextFileV2 (collected in TABLE_INITIALIZERS) and read by
LookupTableFindV2. Lowerings (host rules): lowering/rules/lookup.py.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop, no_outputs, scalar_shape
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math

_SCALAR = _ts.TensorShape([])


def _table_op(handle: _ops.Tensor):
    """The table op a resource handle comes from (through Identity ops, as TF's handle data), else None."""
    op = handle.op
    while op.type == "Identity":
        op = op.inputs[0].op
    return op if op.type in _TABLE_TYPES else None


def _table_shapes(handle: _ops.Tensor):
    """(key shape, value shape) of the table a resource handle names, as TF's handle data carries them (None
    when the handle does not come from a table op)."""
    op = _table_op(handle)
    if op is None:
        return None
    key_shape = op.inputs[0].shape if op.type in _DENSE_TYPES else _SCALAR
    return key_shape, _ts.as_shape(op.attrs.get("value_shape", _SCALAR))


def _find_shape(ctx: InferenceContext):
    """TF's ValidateTableResourceHandle: the keys less the key's own dimensions, then a value's shape."""
    shapes = _table_shapes(ctx.inputs[0])
    keys = ctx.shape(1)
    if shapes is None or keys.ndims is None or shapes[0].ndims is None:
        return [_ts.unknown_shape()]
    key_shape, value_shape = shapes
    return [_ts.TensorShape(keys.as_list()[:keys.ndims - key_shape.ndims]).concatenate(value_shape)]


def _table_attrs(stateful=True):
    return {"container": "", "shared_name": "", "use_node_name_sharing": False}


# the table ops whose handle carries its key and value shapes (TF's handle data: the mutable tables' only)
_TABLE_TYPES = ("MutableHashTableV2", "MutableHashTableOfTensorsV2", "MutableDenseHashTableV2",
                "AnonymousMutableHashTable", "AnonymousMutableHashTableOfTensors", "AnonymousMutableDenseHashTable")
_DENSE_TYPES = ("MutableDenseHashTableV2", "AnonymousMutableDenseHashTable")  # keys shaped like their empty key
defop("HashTableV2", "-> table_handle: resource", attrs=_table_attrs(), shape=scalar_shape, stateful=True)
defop("MutableHashTableV2", "-> table_handle: resource", attrs=_table_attrs(), shape=scalar_shape, stateful=True)
defop("MutableHashTableOfTensorsV2", "-> table_handle: resource",
      attrs=dict(_table_attrs(), value_shape=_ts.TensorShape([])), shape=scalar_shape, stateful=True)
defop("MutableDenseHashTableV2", "empty_key: key_dtype, deleted_key: key_dtype -> table_handle: resource",
      attrs=dict(_table_attrs(), value_shape=_ts.TensorShape([]), initial_num_buckets=131072, max_load_factor=0.8),
      shape=scalar_shape, stateful=True)
# TF 2's anonymous tables: a new table each time the op runs (it lives as long as its handle: one run here)
defop("AnonymousHashTable", "-> table_handle: resource", shape=scalar_shape, stateful=True)
defop("AnonymousMutableHashTable", "-> table_handle: resource", shape=scalar_shape, stateful=True)
defop("AnonymousMutableHashTableOfTensors", "-> table_handle: resource", attrs={"value_shape": _ts.TensorShape([])},
      shape=scalar_shape, stateful=True)
defop("AnonymousMutableDenseHashTable", "empty_key: key_dtype, deleted_key: key_dtype -> table_handle: resource",
      attrs={"value_shape": _ts.TensorShape([]), "initial_num_buckets": 131072, "max_load_factor": 0.8},
      shape=scalar_shape, stateful=True)
defop("InitializeTableV2", "table_handle: resource, keys: Tkey, values: Tval ->", shape=no_outputs, stateful=True)
defop("InitializeTableFromTextFileV2", "table_handle: resource, filename: string ->",
      attrs={"vocab_size": -1, "delimiter": "\t", "offset": 0}, shape=no_outputs, stateful=True)
defop("LookupTableFindV2", "table_handle: resource, keys: Tin, default_value: Tout -> values: Tout",
      shape=_find_shape, stateful=True)
defop("LookupTableSizeV2", "table_handle: resource -> size: int64", shape=scalar_shape, stateful=True)
defop("LookupTableInsertV2", "table_handle: resource, keys: Tin, values: Tout ->", shape=no_outputs, stateful=True)
defop("LookupTableRemoveV2", "table_handle: resource, keys: Tin ->", shape=no_outputs, stateful=True)
defop("LookupTableImportV2", "table_handle: resource, keys: Tin, values: Tout ->", shape=no_outputs, stateful=True)
defop("LookupTableExportV2", "table_handle: resource -> keys: Tkeys, values: Tvalues",
      shape=lambda ctx: [_ts.unknown_shape()] * 2, stateful=True)  # TF: "different tables, different shapes"


class TextFileIndex:
    """`tf.lookup.TextFileIndex`: the whole line, or the line number, as a key or value column."""
    WHOLE_LINE = -2
    LINE_NUMBER = -1


# ------------------------------------------------------------------------------------------------
# Initializers
# ------------------------------------------------------------------------------------------------
class TableInitializerBase:
    def __init__(self, key_dtype, value_dtype):
        self._key_dtype = _dt.as_dtype(key_dtype)
        self._value_dtype = _dt.as_dtype(value_dtype)

    @property
    def key_dtype(self) -> _dt.DType:
        return self._key_dtype

    @property
    def value_dtype(self) -> _dt.DType:
        return self._value_dtype

    def _check_table_dtypes(self, table) -> None:
        if table.key_dtype != self._key_dtype:
            raise TypeError(f"Invalid key dtype for table, expected {self._key_dtype} but got {table.key_dtype}.")
        if table.value_dtype != self._value_dtype:
            raise TypeError(f"Invalid value dtype for table, expected {self._value_dtype} but got "
                            f"{table.value_dtype}.")


class KeyValueTensorInitializer(TableInitializerBase):
    """`tf.lookup.KeyValueTensorInitializer`: a table from a keys tensor and a values tensor."""

    def __init__(self, keys, values, key_dtype=None, value_dtype=None, name: Optional[str] = None):
        with _ops.name_scope(name, "key_value_init", (keys, values)) as scope:
            self._keys = convert_to_tensor(keys, dtype=key_dtype, name="keys")
            self._values = convert_to_tensor(values, dtype=value_dtype, name="values")
            self._name = scope
        super().__init__(self._keys.dtype, self._values.dtype)

    def initialize(self, table) -> _ops.Operation:
        """The InitializeTableV2 op filling `table` with the keys and values."""
        self._check_table_dtypes(table)
        with _ops.name_scope(self._name, values=(table.resource_handle, self._keys, self._values)) as scope:
            init_op = apply_op("InitializeTableV2", [table.resource_handle, self._keys, self._values], name=scope)
        _ops.add_to_collection(_ops.GraphKeys.TABLE_INITIALIZERS, init_op)
        return init_op


class TextFileInitializer(TableInitializerBase):
    """`tf.lookup.TextFileInitializer`: a table from a text file, one entry per line (columns split by
    `delimiter`; TextFileIndex.WHOLE_LINE / LINE_NUMBER select the whole line or its number)."""

    def __init__(self, filename, key_dtype, key_index, value_dtype, value_index, vocab_size=None,
                 delimiter: str = "\t", name: Optional[str] = None, value_index_offset: int = 0):
        if not isinstance(filename, _ops.Tensor) and not filename:
            raise ValueError("Filename required for TextFileInitializer.")
        key_dtype, value_dtype = _dt.as_dtype(key_dtype), _dt.as_dtype(value_dtype)
        if key_index < -2:
            raise ValueError(f"Invalid key index {key_index}.")
        if key_index == TextFileIndex.LINE_NUMBER and key_dtype != _dt.int64:
            raise ValueError(f"Signature mismatch. Keys must be dtype {_dt.int64}, got {key_dtype}.")
        if key_index == TextFileIndex.WHOLE_LINE and not key_dtype.is_integer and key_dtype != _dt.string:
            raise ValueError(f"Signature mismatch. Keys must be integer or string, got {key_dtype}.")
        if value_index < -2:
            raise ValueError(f"Invalid value index {value_index}.")
        if value_index == TextFileIndex.LINE_NUMBER and value_dtype != _dt.int64:
            raise ValueError(f"Signature mismatch. Values must be dtype {_dt.int64}, got {value_dtype}.")
        if value_index == TextFileIndex.WHOLE_LINE and value_dtype != _dt.string:
            raise ValueError(f"Signature mismatch. Values must be dtype {_dt.string}, got {value_dtype}.")
        if vocab_size is not None and vocab_size <= 0:
            raise ValueError(f"Invalid vocab_size {vocab_size}.")
        self._filename = filename
        self._key_index, self._value_index = key_index, value_index
        self._vocab_size, self._delimiter = vocab_size, delimiter
        self._name, self._offset = name, value_index_offset
        super().__init__(key_dtype, value_dtype)

    def initialize(self, table) -> _ops.Operation:
        """The InitializeTableFromTextFileV2 op filling `table` from the file."""
        self._check_table_dtypes(table)
        with _ops.name_scope(self._name, "text_file_init", (table.resource_handle,)) as scope:
            filename = convert_to_tensor(self._filename, _dt.string, name="asset_filepath")
            init_op = apply_op("InitializeTableFromTextFileV2", [table.resource_handle, filename],
                               {"key_index": self._key_index, "value_index": self._value_index,
                                "vocab_size": -1 if self._vocab_size is None else int(self._vocab_size),
                                "delimiter": self._delimiter, "offset": int(self._offset)},
                               name=scope)
        _ops.add_to_collection(_ops.GraphKeys.TABLE_INITIALIZERS, init_op)
        if constant_value(filename) is not None:
            _ops.add_to_collection(_ops.GraphKeys.ASSET_FILEPATHS, filename)
        return init_op


class TextFileStringTableInitializer(TextFileInitializer):
    """Line number (int64) → whole line (string), by default."""

    def __init__(self, filename, key_column_index=TextFileIndex.LINE_NUMBER,
                 value_column_index=TextFileIndex.WHOLE_LINE, vocab_size=None, delimiter: str = "\t",
                 name: str = "text_file_string_table_init"):
        super().__init__(filename, _dt.int64, key_column_index, _dt.string, value_column_index, vocab_size,
                         delimiter, name)


class TextFileIdTableInitializer(TextFileInitializer):
    """Whole line (string) → line number (int64), by default."""

    def __init__(self, filename, key_column_index=TextFileIndex.WHOLE_LINE,
                 value_column_index=TextFileIndex.LINE_NUMBER, vocab_size=None, delimiter: str = "\t",
                 name: str = "text_file_id_table_init", key_dtype=_dt.string):
        super().__init__(filename, key_dtype, key_column_index, _dt.int64, value_column_index, vocab_size,
                         delimiter, name)


# ------------------------------------------------------------------------------------------------
# Tables
# ------------------------------------------------------------------------------------------------
class LookupInterface:
    """What every table offers: dtypes, its resource handle, `lookup`, `size`."""

    def __init__(self, key_dtype, value_dtype):
        self._key_dtype = _dt.as_dtype(key_dtype)
        self._value_dtype = _dt.as_dtype(value_dtype)

    @property
    def key_dtype(self) -> _dt.DType:
        return self._key_dtype

    @property
    def value_dtype(self) -> _dt.DType:
        return self._value_dtype

    @property
    def name(self) -> str:
        return self._table_name

    @property
    def resource_handle(self) -> _ops.Tensor:
        return self._resource_handle

    def _check_keys(self, keys) -> _ops.Tensor:
        keys = convert_to_tensor(keys, dtype=self._key_dtype if not isinstance(keys, _ops.Tensor) else None,
                                 name="keys")
        if keys.dtype.base_dtype != self._key_dtype:
            raise TypeError(f"Dtype of argument `keys` must be {self._key_dtype}, received: {keys.dtype}")
        return keys

    def size(self, name: Optional[str] = None) -> _ops.Tensor:
        """The number of entries (int64)."""
        with _ops.name_scope(name, f"{self.name}_Size", [self.resource_handle]):
            return apply_op("LookupTableSizeV2", [self.resource_handle])


class StaticHashTable(LookupInterface):
    """`tf.lookup.StaticHashTable` (TF1's `HashTable`): an immutable table filled once by its initializer
    (run by `tf.tables_initializer()`); lookups of absent keys give `default_value`."""

    def __init__(self, initializer, default_value, name: Optional[str] = None):
        super().__init__(initializer.key_dtype, initializer.value_dtype)
        self._initializer = initializer
        self._default_value = convert_to_tensor(default_value, dtype=self._value_dtype)
        self._default_value.shape.with_rank_at_most(1)
        with _ops.name_scope(name, "hash_table", (initializer,)) as scope:
            self._resource_handle = apply_op("HashTableV2", [], {"key_dtype": self._key_dtype,
                                                                 "value_dtype": self._value_dtype},
                                             name=scope)
        self._table_name = self._resource_handle.op.name.split("/")[-1]
        self._init_op = initializer.initialize(self)

    @property
    def initializer(self) -> _ops.Operation:
        return self._init_op

    @property
    def default_value(self) -> _ops.Tensor:
        return self._default_value

    def lookup(self, keys, name: Optional[str] = None) -> _ops.Tensor:
        """Values of `keys` (`default_value` where absent); FailedPreconditionError before initialization."""
        from graphcompat.ops.sparse_tensor import SparseTensor
        if isinstance(keys, SparseTensor):
            return SparseTensor(keys.indices, self.lookup(keys.values, name), keys.dense_shape)
        keys = self._check_keys(keys)
        with _ops.name_scope(name, f"{self.name}_Lookup", (self.resource_handle, keys, self._default_value)):
            values = apply_op("LookupTableFindV2", [self.resource_handle, keys, self._default_value])
        values.set_shape(keys.shape.concatenate(self._default_value.shape))
        return values


HashTable = StaticHashTable


class FastHashSpec:
    """TF's `FastHashSpec`: out-of-vocabulary buckets by StringToHashBucketFast (Fingerprint64)."""
    hasher = "fasthash"
    key = None


class StrongHashSpec:
    """TF's `StrongHashSpec(key)`: out-of-vocabulary buckets by keyed SipHash (StringToHashBucketStrong)."""
    hasher = "stronghash"

    def __init__(self, key):
        if len(key) != 2:
            raise ValueError(f"key must have size 2, got {len(key)}.")
        self.key = list(key)


class IdTableWithHashBuckets(LookupInterface):
    """`IdTableWithHashBuckets`: ids from `table`, and for keys it lacks, a hash bucket after them."""

    def __init__(self, table, num_oov_buckets: int, hasher_spec=FastHashSpec, name: Optional[str] = None,
                 key_dtype=None):
        if table is None and key_dtype is None:
            raise ValueError("Must specify either table or key_dtype.")
        if num_oov_buckets <= 0:
            raise ValueError("oov_buckets must be > 0.")
        key_dtype = _dt.as_dtype(key_dtype) if key_dtype is not None else table.key_dtype
        if table is not None and not (key_dtype == table.key_dtype or
                                      (key_dtype.is_integer and table.key_dtype == _dt.int64)):
            raise TypeError(f"Invalid key dtype, expected one of {table.key_dtype}, but got {key_dtype}.")
        super().__init__(key_dtype, _dt.int64)
        self._table = table
        self._num_oov_buckets = int(num_oov_buckets)
        self._hasher_spec = hasher_spec
        self._table_name = name.split("/")[-1] if name else (table.name if table is not None else "hash_bucket")
        self._resource_handle = table.resource_handle if table is not None else None

    @property
    def initializer(self):
        return self._table.initializer if self._table is not None else None

    def size(self, name: Optional[str] = None) -> _ops.Tensor:
        with _ops.name_scope(name, f"{self.name}_Size", [self.resource_handle]):
            base = self._table.size() if self._table is not None else convert_to_tensor(0, _dt.int64)
            return base + self._num_oov_buckets

    def _buckets(self, keys: _ops.Tensor) -> _ops.Tensor:
        from graphcompat.ops import string_ops
        values = keys if keys.dtype == _dt.string else string_ops.as_string(keys)
        if isinstance(self._hasher_spec, StrongHashSpec):
            return string_ops.string_to_hash_bucket_strong(values, self._num_oov_buckets, self._hasher_spec.key,
                                                           name="hash_bucket")
        return string_ops.string_to_hash_bucket_fast(values, self._num_oov_buckets, name="hash_bucket")

    def lookup(self, keys, name: Optional[str] = None) -> _ops.Tensor:
        from graphcompat.ops.data_dependent_ops import where_v2
        from graphcompat.ops.sparse_tensor import SparseTensor
        if isinstance(keys, SparseTensor):
            return SparseTensor(keys.indices, self.lookup(keys.values, name), keys.dense_shape)
        keys = self._check_keys(keys)
        with _ops.name_scope(name, f"{self.name}_Lookup", [keys]):
            buckets = self._buckets(keys)
            if self._table is None:
                return buckets
            table_keys = keys if keys.dtype == self._table.key_dtype else _math.cast(keys, self._table.key_dtype)
            ids = self._table.lookup(table_keys)
            with_oov = _math.add(buckets, self._table.size())
            is_id_non_default = _math.not_equal(ids, self._table.default_value)
            return where_v2(is_id_non_default, ids, with_oov)


class StaticVocabularyTable(IdTableWithHashBuckets):
    """`tf.lookup.StaticVocabularyTable`: a vocabulary (ids 0..n-1) plus `num_oov_buckets` hash buckets."""

    def __init__(self, initializer, num_oov_buckets: int, lookup_key_dtype=None, name: Optional[str] = None):
        if num_oov_buckets <= 0:
            raise ValueError("oov_buckets must be > 0.")
        if initializer.value_dtype != _dt.int64:
            raise TypeError(f"Invalid `value_dtype`, expected {_dt.int64} but got {initializer.value_dtype}.")
        table = StaticHashTable(initializer, -1)
        super().__init__(table, num_oov_buckets, FastHashSpec, name, lookup_key_dtype)


class MutableHashTable(LookupInterface):
    """`MutableHashTable` (MutableHashTableV2, or MutableHashTableOfTensorsV2 for a default that is not a
    scalar): insert, remove, lookup and export at run time."""

    def __init__(self, key_dtype, value_dtype, default_value, name: str = "MutableHashTable",
                 checkpoint: bool = True):
        super().__init__(key_dtype, value_dtype)
        self._default_value = convert_to_tensor(default_value, dtype=self._value_dtype)
        self._value_shape = self._default_value.shape
        attrs = {"key_dtype": self._key_dtype, "value_dtype": self._value_dtype}
        if self._value_shape.ndims == 0:
            self._resource_handle = apply_op("MutableHashTableV2", [], attrs, name=name)
        else:  # TF's table of vectors
            self._resource_handle = apply_op("MutableHashTableOfTensorsV2", [],
                                             dict(attrs, value_shape=self._value_shape), name=name)
        self._table_name = self._resource_handle.op.name.split("/")[-1]

    def lookup(self, keys, dynamic_default_values=None, name: Optional[str] = None) -> _ops.Tensor:
        keys = self._check_keys(keys)
        default = self._default_value if dynamic_default_values is None else dynamic_default_values
        with _ops.name_scope(name, f"{self.name}_lookup_table_find", (self.resource_handle, keys, default)):
            return apply_op("LookupTableFindV2", [self.resource_handle, keys, default])

    def insert(self, keys, values, name: Optional[str] = None) -> _ops.Operation:
        keys = self._check_keys(keys)
        values = convert_to_tensor(values, self._value_dtype, name="values")
        with _ops.name_scope(name, f"{self.name}_lookup_table_insert", [self.resource_handle, keys, values]):
            return apply_op("LookupTableInsertV2", [self.resource_handle, keys, values])

    def remove(self, keys, name: Optional[str] = None) -> _ops.Operation:
        keys = self._check_keys(keys)
        with _ops.name_scope(name, f"{self.name}_lookup_table_remove", (self.resource_handle, keys)):
            return apply_op("LookupTableRemoveV2", [self.resource_handle, keys])

    def export(self, name: Optional[str] = None):
        with _ops.name_scope(name, f"{self.name}_lookup_table_export_values", [self.resource_handle]):
            return apply_op("LookupTableExportV2", [self.resource_handle],
                            {"Tkeys": self._key_dtype, "Tvalues": self._value_dtype})


# ------------------------------------------------------------------------------------------------
# Vocabulary tables
# ------------------------------------------------------------------------------------------------
def _check_oov(num_oov_buckets: int) -> None:
    if num_oov_buckets < 0:
        raise ValueError(f"num_oov_buckets must be greater or equal than 0, got {num_oov_buckets}.")


def index_table_from_file(vocabulary_file=None, num_oov_buckets: int = 0, vocab_size=None, default_value=-1,
                          hasher_spec=FastHashSpec, key_dtype=_dt.string, name: Optional[str] = None,
                          key_column_index=TextFileIndex.WHOLE_LINE, value_column_index=TextFileIndex.LINE_NUMBER,
                          delimiter: str = "\t"):
    """`tf.contrib.lookup.index_table_from_file`: key (a line of the file) → its line number."""
    if vocabulary_file is None or (isinstance(vocabulary_file, str) and not vocabulary_file):
        raise ValueError("vocabulary_file must be specified and must not be empty.")
    _check_oov(num_oov_buckets)
    if vocab_size is not None and vocab_size < 1:
        raise ValueError(f"vocab_size must be greater than 0, got {vocab_size}. vocabulary_file: {vocabulary_file}")
    key_dtype = _dt.as_dtype(key_dtype)
    if not key_dtype.is_integer and key_dtype != _dt.string:
        raise TypeError("Only integer and string keys are supported.")
    with _ops.name_scope(name, "string_to_index"):
        with _ops.name_scope(None, "hash_table") as hash_table_scope:
            init = TextFileIdTableInitializer(vocabulary_file, vocab_size=vocab_size,
                                              key_dtype=_dt.int64 if key_dtype.is_integer else key_dtype,
                                              name="table_init", key_column_index=key_column_index,
                                              value_column_index=value_column_index, delimiter=delimiter)
            table = StaticHashTable(init, default_value, name=hash_table_scope)
        if num_oov_buckets:
            table = IdTableWithHashBuckets(table, num_oov_buckets, hasher_spec, key_dtype=key_dtype)
        return table


def index_table_from_tensor(vocabulary_list, num_oov_buckets: int = 0, default_value=-1, hasher_spec=FastHashSpec,
                            dtype=_dt.string, name: Optional[str] = None):
    """`tf.contrib.lookup.index_table_from_tensor`: key (an element of the list) → its position."""
    if vocabulary_list is None:
        raise ValueError("vocabulary_list must be specified.")
    _check_oov(num_oov_buckets)
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_integer and dtype != _dt.string:
        raise TypeError("Only integer and string keys are supported.")
    with _ops.name_scope(name, "string_to_index"):
        keys = convert_to_tensor(vocabulary_list)
        if keys.dtype.is_integer != dtype.is_integer:
            raise ValueError(f"Expected {'integer' if dtype.is_integer else 'non-integer'}, got {keys.dtype}.")
        if not dtype.is_integer and keys.dtype.base_dtype != dtype:
            raise ValueError(f"Expected {dtype}, got {keys.dtype}.")
        values = _math.cast(_math.range(_array.size(keys)), _dt.int64)
        table_keys = _math.cast(keys, _dt.int64) if keys.dtype.is_integer and keys.dtype != _dt.int64 else keys
        with _ops.name_scope(None, "hash_table") as hash_table_scope:
            init = KeyValueTensorInitializer(table_keys, values, table_keys.dtype.base_dtype, _dt.int64,
                                             name="table_init")
            table = StaticHashTable(init, default_value, name=hash_table_scope)
        if num_oov_buckets:
            table = IdTableWithHashBuckets(table, num_oov_buckets, hasher_spec, key_dtype=dtype)
        return table


def index_to_string_table_from_file(vocabulary_file, vocab_size=None, default_value="UNK",
                                    name: Optional[str] = None, key_column_index=TextFileIndex.LINE_NUMBER,
                                    value_column_index=TextFileIndex.WHOLE_LINE, delimiter: str = "\t"):
    """`tf.contrib.lookup.index_to_string_table_from_file`: line number (int64) → the line."""
    if vocabulary_file is None or (isinstance(vocabulary_file, str) and not vocabulary_file):
        raise ValueError("vocabulary_file must be specified and must not be empty.")
    if vocab_size is not None and vocab_size < 1:
        raise ValueError(f"vocab_size must be greater than 0, got {vocab_size}.")
    with _ops.name_scope(name, "index_to_string"):
        init = TextFileStringTableInitializer(vocabulary_file, vocab_size=vocab_size, name="table_init",
                                              key_column_index=key_column_index,
                                              value_column_index=value_column_index, delimiter=delimiter)
        return StaticHashTable(init, default_value)


def index_to_string_table_from_tensor(vocabulary_list, default_value="UNK", name: Optional[str] = None):
    """`tf.contrib.lookup.index_to_string_table_from_tensor`: position (int64) → the list's string."""
    if vocabulary_list is None:
        raise ValueError("vocabulary_list must be specified.")
    with _ops.name_scope(name, "index_to_string"):
        vocabulary_list = convert_to_tensor(vocabulary_list, _dt.string)
        keys = _math.cast(_math.range(_array.size(vocabulary_list)), _dt.int64)
        init = KeyValueTensorInitializer(keys, vocabulary_list, _dt.int64, _dt.string, name="table_init")
        return StaticHashTable(init, default_value)


def tables_initializer(name: str = "init_all_tables") -> _ops.Operation:
    """`tf.tables_initializer`: one op running every table initializer of the graph."""
    from graphcompat.ops.control_ops import group, no_op
    initializers = _ops.get_collection(_ops.GraphKeys.TABLE_INITIALIZERS)
    if initializers:
        return group(*initializers, name=name)
    return no_op(name=name)


initialize_all_tables = tables_initializer
