"""`tf.RaggedTensor` and `tf.ragged.RaggedTensorValue` (TF's python/ops/ragged/ragged_tensor.py,
row_partition.py and ragged_tensor_value.py, graph mode).

A RaggedTensor is a composite: `values` (a Tensor, or a RaggedTensor for ragged_rank > 1) cut into rows by
an int64 (or int32) `row_splits` vector. It records no op of its own: the factories build what TF's
Python builds (cumsum, bincount, asserts when `validate=True`) and the conversions use TF's kernels
(RaggedTensorToTensor, RaggedTensorToSparse, graphcompat/ops/ragged_ops.py). A Session fetches one as a
RaggedTensorValue (`_fetch_components`) and feeds one from a RaggedTensorValue (`_feed_components`).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import (constant_value, convert_to_tensor,
                                              register_tensor_conversion_function)
from graphcompat.framework.registry import apply_op

_SPLITS_DTYPES = (_dt.int32, _dt.int64)


def _tf():
    # The public builders (tf.concat, tf.cumsum, the asserts ...): graphcompat/ragged loads after them.
    import graphcompat
    return graphcompat


# ------------------------------------------------------------------------------------------------
# RaggedTensorValue
# ------------------------------------------------------------------------------------------------
class RaggedTensorValue:
    """The value of a RaggedTensor fetched by `Session.run`: numpy `values` (or a nested
    RaggedTensorValue) and a numpy `row_splits` vector."""

    def __init__(self, values, row_splits):
        if not (isinstance(row_splits, (np.ndarray, np.generic)) and row_splits.dtype in (np.int64, np.int32)
                and row_splits.ndim == 1):
            raise TypeError("row_splits must be a 1D int32 or int64 numpy array")
        if not isinstance(values, (np.ndarray, np.generic, RaggedTensorValue)):
            raise TypeError("values must be a numpy array or a RaggedTensorValue")
        if isinstance(values, RaggedTensorValue) and row_splits.dtype != values.row_splits.dtype:
            raise ValueError("row_splits and values.row_splits must have the same dtype")
        self._values = values
        self._row_splits = row_splits

    @property
    def values(self):
        return self._values

    @property
    def row_splits(self) -> np.ndarray:
        return self._row_splits

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def flat_values(self) -> np.ndarray:
        values = self._values
        while isinstance(values, RaggedTensorValue):
            values = values.values
        return values

    @property
    def nested_row_splits(self) -> tuple:
        out, values = [self._row_splits], self._values
        while isinstance(values, RaggedTensorValue):
            out.append(values.row_splits)
            values = values.values
        return tuple(out)

    @property
    def ragged_rank(self) -> int:
        return self._values.ragged_rank + 1 if isinstance(self._values, RaggedTensorValue) else 1

    @property
    def shape(self) -> tuple:
        return (self._row_splits.shape[0] - 1,) + (None,) + self._values.shape[1:]

    def to_list(self) -> list:
        inner = self._values.to_list() if isinstance(self._values, RaggedTensorValue) else self._values.tolist()
        s = self._row_splits
        return [inner[s[i]:s[i + 1]] for i in range(len(s) - 1)]

    def __str__(self) -> str:
        return f"<tf.RaggedTensorValue {self.to_list()}>"

    def __repr__(self) -> str:
        return f"tf.RaggedTensorValue(values={self._values!r}, row_splits={self._row_splits!r})"


# ------------------------------------------------------------------------------------------------
# Conversions and checks shared by the factories
# ------------------------------------------------------------------------------------------------
def _convert_partition(partition, name: str, dtype=None, dtype_hint=_dt.int64) -> _ops.Tensor:
    """TF's `_convert_row_partition`: int64 unless the input is already int32 (or `dtype` says)."""
    if dtype is not None:
        t = convert_to_tensor(partition, _dt.as_dtype(dtype), name=name)
    elif isinstance(partition, _ops.Tensor) or (isinstance(partition, np.ndarray) and partition.dtype == np.int32):
        t = convert_to_tensor(partition, name=name)
    else:
        try:
            t = convert_to_tensor(partition, dtype_hint, name=name)
        except (TypeError, ValueError):
            t = convert_to_tensor(partition, name=name)
    if t.dtype not in _SPLITS_DTYPES:
        raise ValueError(f"{name} must have dtype int32 or int64")
    return t


def _convert_values(values, name: str = "values"):
    if isinstance(values, (RaggedTensor, RaggedTensorValue)):
        return RaggedTensor._from_value(values) if isinstance(values, RaggedTensorValue) else values
    return convert_to_tensor(values, name=name)


def _check_validate(validate) -> None:
    if not isinstance(validate, bool):
        raise TypeError(f"Argument `validate` must have type bool. Received {validate}.")


def _monotonic(t, message: str):
    tf = _tf()
    return tf.debugging.assert_non_negative(t[1:] - t[:-1], message=message)


def _outer_size(values, dtype: _dt.DType) -> _ops.Tensor:
    """The number of rows of `values` (a Tensor or RaggedTensor) as a `dtype` scalar."""
    if isinstance(values, RaggedTensor):
        return values.nrows(out_type=dtype)
    return _tf().shape(values, out_type=dtype)[0]


def _cast(t, dtype):
    return t if t.dtype == dtype else _tf().cast(t, dtype)


# ------------------------------------------------------------------------------------------------
# RaggedTensor
# ------------------------------------------------------------------------------------------------
class RaggedTensor:
    """`tf.RaggedTensor`: rows of different lengths, as `values` cut by `row_splits`."""

    def __init__(self, values=None, row_splits=None, internal: bool = False, *, _row_lengths=None,
                 _value_rowids=None, _uniform_row_length=None):
        if not internal:
            raise ValueError("RaggedTensor constructor is private; please use one of the factory methods "
                             "instead (e.g., RaggedTensor.from_row_lengths())")
        if isinstance(values, RaggedTensor) and values.row_splits.dtype != row_splits.dtype:
            raise ValueError("dtype mismatch: row_splits and values.row_splits must have the same dtype "
                             f"({row_splits.dtype.name} vs {values.row_splits.dtype.name})")
        self._values = values
        self._row_splits = row_splits
        self._row_lengths = _row_lengths            # cached encodings, as TF's RowPartition keeps them
        self._value_rowids = _value_rowids
        self._uniform_row_length = _uniform_row_length

    # ---- the factories ------------------------------------------------------------------------
    @classmethod
    def _from_row_splits_tensor(cls, values, row_splits, validate: bool, **cached) -> "RaggedTensor":
        """TF's `_from_row_partition`: `values`' outer size must equal the last split (checked when
        `validate`)."""
        values = _convert_values(values)
        if isinstance(values, _ops.Tensor) and values.shape.ndims == 0:
            raise ValueError(f"Shape {values.shape} must have rank at least 1")
        if isinstance(values, RaggedTensor) and values.row_splits.dtype != row_splits.dtype:
            raise ValueError("dtype mismatch: row_splits and values.row_splits must have the same dtype "
                             f"({row_splits.dtype.name} vs {values.row_splits.dtype.name}). Use "
                             "RaggedTensor.with_row_splits_dtype() to convert them to compatible dtypes.")
        if validate:
            tf = _tf()
            msg = "Arguments to _from_row_partition do not form a valid RaggedTensor"
            nvals = _outer_size(values, row_splits.dtype)
            checks = [tf.debugging.assert_equal(row_splits[-1], nvals, message=msg)]
            if isinstance(values, _ops.Tensor):
                checks.append(tf.debugging.assert_rank_at_least(values, 1))
            row_splits = _with_dependencies(checks, row_splits)
        return cls(values, row_splits, internal=True, **cached)

    @classmethod
    def from_row_splits(cls, values, row_splits, name: Optional[str] = None, validate: bool = True) -> "RaggedTensor":
        """Rows `values[row_splits[i]:row_splits[i + 1]]`."""
        _check_validate(validate)
        if isinstance(row_splits, (list, tuple)) and not row_splits:
            raise ValueError("row_splits tensor may not be empty.")
        with _ops.name_scope(name, "RaggedFromRowSplits", [values, row_splits]):
            with _ops.name_scope(None, "RowPartitionFromRowSplits", [row_splits]):
                row_splits = _convert_partition(row_splits, "row_splits")
                row_splits.shape.assert_has_rank(1)
                if validate:
                    tf = _tf()
                    msg = "Arguments to from_row_splits do not form a valid RaggedTensor:"
                    checks = [tf.debugging.assert_rank(row_splits, 1, message=msg + "rank"),
                              tf.debugging.assert_equal(row_splits[0], tf.constant(0, row_splits.dtype),
                                                        message=msg + "zero"),
                              _monotonic(row_splits, msg + "monotonic")]
                    row_splits = _with_dependencies(checks, row_splits)
            return cls._from_row_splits_tensor(values, row_splits, validate)

    @classmethod
    def from_row_lengths(cls, values, row_lengths, name: Optional[str] = None,
                         validate: bool = True) -> "RaggedTensor":
        """Rows of the given lengths, taken from `values` in order."""
        _check_validate(validate)
        with _ops.name_scope(name, "RaggedFromRowLengths", [values, row_lengths]):
            with _ops.name_scope(None, "RowPartitionFromRowLengths", [row_lengths]):
                row_lengths = _convert_partition(row_lengths, "row_lengths")
                row_lengths.shape.assert_has_rank(1)
                tf = _tf()
                if validate:
                    msg = "Arguments to from_row_lengths do not form a valid RowPartition"
                    checks = [tf.debugging.assert_rank(row_lengths, 1, message=msg),
                              tf.debugging.assert_non_negative(row_lengths, message=msg)]
                    row_lengths = _with_dependencies(checks, row_lengths)
                row_splits = tf.concat([[0], tf.cumsum(row_lengths)], axis=0)
            return cls._from_row_splits_tensor(values, row_splits, validate, _row_lengths=row_lengths)

    @classmethod
    def from_value_rowids(cls, values, value_rowids, nrows=None, name: Optional[str] = None,
                          validate: bool = True) -> "RaggedTensor":
        """Row `value_rowids[i]` holds `values[i]`; `nrows` defaults to the last row id + 1."""
        _check_validate(validate)
        with _ops.name_scope(name, "RaggedFromValueRowIds", [values, value_rowids, nrows]):
            with _ops.name_scope(None, "RowPartitionFromValueRowIds", [value_rowids, nrows]):
                value_rowids, nrows = _rowids_and_nrows(value_rowids, nrows, validate)
                tf = _tf()
                row_lengths = tf.math.bincount(tf.cast(value_rowids, _dt.int32),
                                               minlength=tf.cast(nrows, _dt.int32),
                                               maxlength=tf.cast(nrows, _dt.int32), dtype=value_rowids.dtype)
                row_splits = tf.concat([[0], tf.cumsum(row_lengths)], axis=0)
                static = constant_value(nrows)
                if static is not None:
                    row_splits.set_shape([int(static) + 1])
            return cls._from_row_splits_tensor(values, row_splits, validate, _value_rowids=value_rowids)

    @classmethod
    def from_row_starts(cls, values, row_starts, name: Optional[str] = None,
                        validate: bool = True) -> "RaggedTensor":
        """Rows that start at `row_starts[i]`; the last one ends at the end of `values`."""
        _check_validate(validate)
        with _ops.name_scope(name, "RaggedFromRowStarts", [values, row_starts]):
            values = _convert_values(values)
            nvals = _outer_size(values, _dt.int64)
            with _ops.name_scope(None, "RowPartitionFromRowStarts", [row_starts]):
                row_starts = _convert_partition(row_starts, "row_starts")
                row_starts.shape.assert_has_rank(1)
                tf = _tf()
                nvals = _cast(nvals, row_starts.dtype)
                if validate:
                    msg = "Arguments to from_row_starts do not form a valid RaggedTensor"
                    checks = [tf.debugging.assert_rank(row_starts, 1, message=msg),
                              tf.debugging.assert_equal(row_starts[:1], tf.constant(0, row_starts.dtype),
                                                        message=msg),
                              _monotonic(row_starts, msg),
                              tf.debugging.assert_less_equal(row_starts[-1:], nvals, message=msg)]
                    row_starts = _with_dependencies(checks, row_starts)
                row_splits = tf.concat([row_starts, tf.reshape(nvals, [1])], axis=0)
            return cls._from_row_splits_tensor(values, row_splits, validate)

    @classmethod
    def from_row_limits(cls, values, row_limits, name: Optional[str] = None,
                        validate: bool = True) -> "RaggedTensor":
        """Rows that end at `row_limits[i]`; the first one starts at 0."""
        _check_validate(validate)
        with _ops.name_scope(name, "RaggedFromRowLimits", [values, row_limits]):
            with _ops.name_scope(None, "RowPartitionFromRowLimits", [row_limits]):
                row_limits = _convert_partition(row_limits, "row_limits")
                row_limits.shape.assert_has_rank(1)
                tf = _tf()
                if validate:
                    msg = "Arguments to from_row_limits do not form a valid RaggedTensor"
                    checks = [tf.debugging.assert_rank(row_limits, 1, message=msg),
                              tf.debugging.assert_non_negative(row_limits[:1], message=msg),
                              _monotonic(row_limits, msg)]
                    row_limits = _with_dependencies(checks, row_limits)
                row_splits = tf.concat([tf.zeros([1], row_limits.dtype), row_limits], axis=0)
            return cls._from_row_splits_tensor(values, row_splits, validate)

    @classmethod
    def from_uniform_row_length(cls, values, uniform_row_length, nrows=None, validate: bool = True,
                                name: Optional[str] = None) -> "RaggedTensor":
        """Rows of one length each (`uniform_row_length`); `shape[1]` is that length when it is static."""
        _check_validate(validate)
        with _ops.name_scope(name, "RaggedFromUniformRowLength", [values, uniform_row_length, nrows]):
            values = _convert_values(values)
            tf = _tf()
            with _ops.name_scope(None, "RowPartitionFromUniformRowLength", [uniform_row_length, nrows]):
                length = _convert_partition(uniform_row_length, "uniform_row_length",
                                            dtype=values.row_splits.dtype if isinstance(values, RaggedTensor) else None)
                length.shape.assert_has_rank(0)
                nvals = _outer_size(values, length.dtype)
                if nrows is None:
                    const_length, const_nvals = constant_value(length), constant_value(nvals)
                    if const_length is not None and const_nvals is not None:
                        nrows = 0 if const_length == 0 else int(const_nvals) // int(const_length)
                        nrows = convert_to_tensor(nrows, length.dtype, name="nrows")
                    else:
                        nrows = tf.where(tf.equal(length, 0), tf.zeros([], length.dtype),
                                         tf.math.floordiv(nvals, tf.maximum(length, 1)))
                else:
                    nrows = _cast(convert_to_tensor(nrows, name="nrows"), length.dtype)
                const_length, const_nrows = constant_value(length), constant_value(nrows)
                if const_length is not None and const_nrows is not None:
                    row_splits = tf.constant(np.arange(int(const_nrows) + 1) * int(const_length), length.dtype)
                else:
                    row_splits = tf.range(nrows + 1, dtype=length.dtype) * length
                if validate:
                    checks = [tf.debugging.assert_equal(nrows * length, nvals, message=(
                        "uniform_row_length" + " must evenly divide the outer dimension of values"))]
                    row_splits = _with_dependencies(checks, row_splits)
            return cls._from_row_splits_tensor(values, row_splits, False, _uniform_row_length=length)

    @classmethod
    def from_nested_row_splits(cls, flat_values, nested_row_splits, name: Optional[str] = None,
                               validate: bool = True) -> "RaggedTensor":
        """`from_row_splits` applied for each splits vector, innermost last."""
        _check_validate(validate)
        if isinstance(nested_row_splits, _ops.Tensor):
            raise TypeError("nested_row_splits must be a list of Tensors")
        with _ops.name_scope(name, "RaggedFromNestedRowSplits", [flat_values] + list(nested_row_splits)):
            result = flat_values
            for splits in reversed(nested_row_splits):
                result = cls.from_row_splits(result, splits, validate=validate)
            return result

    @classmethod
    def from_nested_row_lengths(cls, flat_values, nested_row_lengths, name: Optional[str] = None,
                                validate: bool = True) -> "RaggedTensor":
        _check_validate(validate)
        with _ops.name_scope(name, "RaggedFromNestedRowlengths", [flat_values] + list(nested_row_lengths)):
            result = flat_values
            for lengths in reversed(nested_row_lengths):
                result = cls.from_row_lengths(result, lengths, validate=validate)
            return result

    @classmethod
    def from_nested_value_rowids(cls, flat_values, nested_value_rowids, nested_nrows=None,
                                 name: Optional[str] = None, validate: bool = True) -> "RaggedTensor":
        _check_validate(validate)
        if nested_nrows is None:
            nested_nrows = [None] * len(nested_value_rowids)
        elif len(nested_nrows) != len(nested_value_rowids):
            raise ValueError("Argument `nested_nrows` must have the same length as argument "
                             f"`nested_value_rowids`. len(nested_nrows) = {len(nested_nrows)} vs. "
                             f"len(nested_values_rowids) = {len(nested_value_rowids)}.")
        with _ops.name_scope(name, "RaggedFromNestedValueRowIds", [flat_values] + list(nested_value_rowids)):
            result = flat_values
            for rowids, nrows in reversed(list(zip(nested_value_rowids, nested_nrows))):
                result = cls.from_value_rowids(result, rowids, nrows, validate=validate)
            return result

    @classmethod
    def from_tensor(cls, tensor, lengths=None, padding=None, ragged_rank: int = 1, name: Optional[str] = None,
                    row_splits_dtype=_dt.int64) -> "RaggedTensor":
        """Rows of a dense tensor: all of each row, the first `lengths[i]` entries, or up to the trailing
        `padding` values."""
        row_splits_dtype = _dt.as_dtype(row_splits_dtype)
        if lengths is not None and padding is not None:
            raise ValueError("Specify argument `lengths` or `padding`, but not both.")
        if not isinstance(ragged_rank, int):
            raise TypeError(f"Argument `ragged_rank` must be an int. Received {ragged_rank}.")
        if ragged_rank <= 0:
            raise ValueError(f"Argument `ragged_rank` must be greater than 0. Received {ragged_rank}.")
        with _ops.name_scope(name, "RaggedFromTensor", [tensor, lengths, padding]):
            tf = _tf()
            tensor = convert_to_tensor(tensor, name="tensor")
            if tensor.shape.ndims is not None and tensor.shape.ndims < ragged_rank + 1:
                raise ValueError(f"ragged_rank must be less than the rank of tensor; ragged_rank={ragged_rank}, "
                                 f"rank={tensor.shape.ndims}")
            if ragged_rank > 1:
                if lengths is not None:
                    raise NotImplementedError("tf.RaggedTensor.from_tensor with lengths and ragged_rank > 1 is not "
                                              "supported by graphcompat")
                # The outer ragged_rank - 1 dimensions are uniform; the innermost one is cut as for rank 1.
                dims = tf.shape(tensor, out_type=row_splits_dtype)
                flat = tf.reshape(tensor, tf.concat([[-1], dims[ragged_rank:]], axis=0))
                result = cls.from_tensor(flat, padding=padding, row_splits_dtype=row_splits_dtype)
                for axis in range(ragged_rank - 1, 0, -1):
                    result = cls.from_uniform_row_length(result, dims[axis], validate=False)
                return result
            if lengths is None and padding is None:
                dims = tf.shape(tensor, out_type=row_splits_dtype)
                static = tensor.shape
                ncols = static.dims[1].value if static.ndims and static.dims[1].value is not None else dims[1]
                values = tf.reshape(tensor, tf.concat([[-1], dims[2:]], axis=0)) if static.ndims != 2 else \
                    tf.reshape(tensor, [-1])
                nrows = static.dims[0].value if static.ndims and static.dims[0].value is not None else dims[0]
                return cls.from_uniform_row_length(values, convert_to_tensor(ncols, row_splits_dtype) if
                                                   isinstance(ncols, int) else ncols, nrows=nrows, validate=False)
            ncols = tf.shape(tensor, out_type=row_splits_dtype)[1]
            if padding is not None:
                padding = convert_to_tensor(padding, tensor.dtype, name="padding")
                padding.shape.assert_is_compatible_with(tensor.shape[2:])
                has_default = tf.equal(padding, tensor)
                if tensor.shape.ndims is not None and tensor.shape.ndims > 2:
                    has_default = tf.reduce_all(has_default, axis=list(range(2, tensor.shape.ndims)))
                # A row's length is the position after its last non-padding value.
                has_value = tf.cast(tf.logical_not(has_default), row_splits_dtype)
                position = tf.expand_dims(tf.range(1, ncols + 1, dtype=row_splits_dtype), 0)
                lengths = tf.reduce_max(has_value * position, axis=1)
            else:
                lengths = _convert_partition(lengths, "lengths", dtype=row_splits_dtype)
                lengths.shape.assert_has_rank(1)
                lengths = tf.minimum(lengths, ncols)
                lengths = tf.maximum(lengths, 0)
            mask = tf.sequence_mask(lengths, ncols)
            values = tf.boolean_mask(tensor, mask)
            row_splits = tf.concat([tf.zeros([1], row_splits_dtype), tf.cumsum(lengths)], axis=0)
            if tensor.shape.ndims is not None and tensor.shape.dims[0].value is not None:
                row_splits.set_shape([tensor.shape.dims[0].value + 1])
            return cls._from_row_splits_tensor(values, row_splits, False, _row_lengths=lengths)

    @classmethod
    def from_sparse(cls, st_input, name: Optional[str] = None, row_splits_dtype=_dt.int64) -> "RaggedTensor":
        """The rows of a 2-D SparseTensor whose entries fill each row from column 0 without gaps."""
        from graphcompat.ops.sparse_tensor import SparseTensor, SparseTensorValue
        row_splits_dtype = _dt.as_dtype(row_splits_dtype)
        if isinstance(st_input, SparseTensorValue):
            st_input = SparseTensor.from_value(st_input)
        if not isinstance(st_input, SparseTensor):
            raise TypeError(f"Argument `st_input` must be of type SparseTensor, but is {type(st_input).__name__}.")
        with _ops.name_scope(name, "RaggedFromSparse", [st_input]):
            tf = _tf()
            from_indices = st_input.indices.shape.dims[1].value if st_input.indices.shape.ndims == 2 else None
            from_shape = st_input.dense_shape.shape.dims[0].value if st_input.dense_shape.shape.ndims == 1 else None
            if from_shape != 2 and from_indices != 2:
                raise ValueError("rank(st_input) must be 2.")
            indices, values, dense_shape = st_input.indices, st_input.values, st_input.dense_shape
            # Right-ragged: an entry that starts a row is at column 0, one that continues a row is right
            # after the entry before it (TF's _assert_sparse_indices_are_ragged_right).
            rows, cols = indices[:, 0], indices[:, -1]
            new_row = tf.not_equal(rows[1:], rows[:-1])
            ok = tf.where(new_row, tf.equal(cols[1:], 0), tf.equal(cols[1:], cols[:-1] + 1))
            right_ragged = tf.logical_and(tf.reduce_all(tf.equal(cols[:1], 0)), tf.reduce_all(ok))
            check = tf.Assert(right_ragged, ["SparseTensor is not right-ragged", "SparseTensor.indices =", indices])
            with _ops.control_dependencies([check]):
                rows = tf.identity(rows)
            return cls.from_value_rowids(values, _cast(rows, row_splits_dtype),
                                         _cast(dense_shape[0], row_splits_dtype), validate=False)

    @classmethod
    def _from_value(cls, value: RaggedTensorValue) -> "RaggedTensor":
        values = value.values
        values = cls._from_value(values) if isinstance(values, RaggedTensorValue) else convert_to_tensor(values)
        return cls._from_row_splits_tensor(values, convert_to_tensor(value.row_splits), False)

    # ---- properties ---------------------------------------------------------------------------
    @property
    def values(self):
        return self._values

    @property
    def row_splits(self) -> _ops.Tensor:
        return self._row_splits

    @property
    def flat_values(self) -> _ops.Tensor:
        values = self._values
        while isinstance(values, RaggedTensor):
            values = values.values
        return values

    @property
    def nested_row_splits(self) -> tuple:
        out, values = [self._row_splits], self._values
        while isinstance(values, RaggedTensor):
            out.append(values.row_splits)
            values = values.values
        return tuple(out)

    @property
    def ragged_rank(self) -> int:
        return self._values.ragged_rank + 1 if isinstance(self._values, RaggedTensor) else 1

    @property
    def dtype(self) -> _dt.DType:
        return self.flat_values.dtype

    @property
    def row_splits_dtype(self) -> _dt.DType:
        return self._row_splits.dtype

    @property
    def uniform_row_length(self) -> Optional[_ops.Tensor]:
        return self._uniform_row_length

    @property
    def graph(self) -> _ops.Graph:
        return self._row_splits.graph

    @property
    def shape(self) -> _ts.TensorShape:
        """[nrows, row length (when uniform, else None), values' other dims...], as TF's static shape."""
        nrows = self._row_splits.shape.dims[0].value if self._row_splits.shape.ndims == 1 else None
        nrows = None if nrows is None else nrows - 1
        length = None
        if self._uniform_row_length is not None:
            static = constant_value(self._uniform_row_length)
            length = None if static is None else int(static)
        values_shape = self._values.shape
        if values_shape.ndims is None:
            return _ts.TensorShape([nrows, length]).concatenate(_ts.unknown_shape())
        return _ts.TensorShape([nrows, length]).concatenate(values_shape[1:])

    def get_shape(self) -> _ts.TensorShape:
        return self.shape

    # ---- row encodings ------------------------------------------------------------------------
    def nrows(self, out_type=None, name: Optional[str] = None) -> _ops.Tensor:
        """The number of rows (a scalar of `out_type`, default the row splits' dtype)."""
        out_type = self._row_splits.dtype if out_type is None else _dt.as_dtype(out_type)
        with _ops.name_scope(name, "RaggedNRows", [self]):
            static = self._row_splits.shape.dims[0].value if self._row_splits.shape.ndims == 1 else None
            if static is not None:
                return _tf().constant(static - 1, dtype=out_type)
            return _tf().shape(self._row_splits, out_type=out_type)[0] - 1

    def row_lengths(self, axis: int = 1, name: Optional[str] = None):
        """The length of each row (axis 1), or a RaggedTensor of the lengths at a deeper axis."""
        if axis == 0:
            return self.nrows(name=name)
        if axis == 1:
            if self._row_lengths is not None:
                return self._row_lengths
            return self._row_splits[1:] - self._row_splits[:-1]
        with _ops.name_scope(name, "RaggedRowLengths", [self]):
            rank = self.shape.ndims
            if axis < 0:
                if rank is None:
                    raise ValueError(f"axis={axis} may only be negative if ndims is statically known.")
                if axis < -rank:
                    raise ValueError(f"axis={axis} out of bounds: expected -{rank}<=axis<{rank}")
                return self.row_lengths(axis + rank)
            if not isinstance(self._values, RaggedTensor):
                rank = self.shape.ndims
                if rank is not None and axis >= rank:
                    raise ValueError(f"axis={axis} out of bounds: expected -{rank}<=axis<{rank}")
                # a uniform dimension: every entry's length is that dimension's size
                dims = _tf().shape(self._values, out_type=self._row_splits.dtype)
                return self.with_values(_tf().fill(dims[:axis - 1], dims[axis - 1]))
            return self.with_values(self._values.row_lengths(axis - 1))

    def nested_row_lengths(self, name: Optional[str] = None) -> tuple:
        with _ops.name_scope(name, "RaggedNestedRowLengths", [self]):
            out, rt = [], self
            while isinstance(rt, RaggedTensor):
                out.append(rt.row_lengths())
                rt = rt.values
            return tuple(out)

    def row_starts(self, name: Optional[str] = None) -> _ops.Tensor:
        with _ops.name_scope(name, "RaggedRowStarts", [self]):
            return self._row_splits[:-1]

    def row_limits(self, name: Optional[str] = None) -> _ops.Tensor:
        with _ops.name_scope(name, "RaggedRowLimits", [self]):
            return self._row_splits[1:]

    def value_rowids(self, name: Optional[str] = None) -> _ops.Tensor:
        """The row of each value (TF's segment ids)."""
        if self._value_rowids is not None:
            return self._value_rowids
        with _ops.name_scope(name, "RaggedValueRowIds", [self]):
            from graphcompat.ragged.ragged_ops import row_splits_to_segment_ids
            return row_splits_to_segment_ids(self._row_splits)

    def nested_value_rowids(self, name: Optional[str] = None) -> tuple:
        with _ops.name_scope(name, "RaggedNestedValueRowIds", [self]):
            out, rt = [], self
            while isinstance(rt, RaggedTensor):
                out.append(rt.value_rowids())
                rt = rt.values
            return tuple(out)

    def bounding_shape(self, axis=None, name: Optional[str] = None, out_type=None) -> _ops.Tensor:
        """[nrows, longest row, values' other dims...] (or its `axis` entries)."""
        out_type = self._row_splits.dtype if out_type is None else _dt.as_dtype(out_type)
        with _ops.name_scope(name, "RaggedBoundingBox", [self, axis]):
            tf = _tf()
            sizes = [tf.reshape(self.nrows(out_type=out_type), [1])]
            rt = self
            while isinstance(rt, RaggedTensor):
                lengths = _cast(rt.row_splits[1:] - rt.row_splits[:-1], out_type)
                sizes.append(tf.reshape(tf.reduce_max(tf.concat([tf.zeros([1], out_type), lengths], 0)), [1]))
                rt = rt.values
            sizes.append(tf.shape(rt, out_type=out_type)[1:])
            shape = tf.concat(sizes, axis=0)
            return shape if axis is None else tf.gather(shape, axis)

    # ---- rebuilding ---------------------------------------------------------------------------
    def with_values(self, new_values) -> "RaggedTensor":
        """The same row splits over `new_values` (whose outer size must be `self.values`')."""
        new_values = _convert_values(new_values)
        if isinstance(new_values, _ops.Tensor):
            new_values.shape.with_rank_at_least(1)
        self._values.shape[:1].assert_is_compatible_with(new_values.shape[:1])
        if isinstance(new_values, RaggedTensor) and new_values.row_splits.dtype != self._row_splits.dtype:
            raise ValueError("self.row_splits.dtype and new_values.row_splits.dtype must match")
        return RaggedTensor(new_values, self._row_splits, internal=True, _row_lengths=self._row_lengths,
                            _value_rowids=self._value_rowids, _uniform_row_length=self._uniform_row_length)

    def with_flat_values(self, new_values) -> "RaggedTensor":
        """The same nested row splits over new flat values."""
        if isinstance(self._values, RaggedTensor):
            return self.with_values(self._values.with_flat_values(new_values))
        new_values = _convert_values(new_values)  # may itself be ragged (tf.strings.split of a RaggedTensor)
        return self.with_values(new_values)

    def with_row_splits_dtype(self, dtype) -> "RaggedTensor":
        dtype = _dt.as_dtype(dtype)
        if dtype not in _SPLITS_DTYPES:
            raise ValueError(f"Argument `row_splits` dtype must be int32 or int64. Received {dtype}.")
        if self._row_splits.dtype == dtype:
            return self
        values = self._values.with_row_splits_dtype(dtype) if isinstance(self._values, RaggedTensor) else self._values
        cached = {k: (None if v is None else _cast(v, dtype)) for k, v in
                  (("_row_lengths", self._row_lengths), ("_value_rowids", self._value_rowids),
                   ("_uniform_row_length", self._uniform_row_length))}
        return RaggedTensor(values, _cast(self._row_splits, dtype), internal=True, **cached)

    # ---- conversions --------------------------------------------------------------------------
    def to_tensor(self, default_value=None, name: Optional[str] = None, shape=None) -> _ops.Tensor:
        """A dense tensor: rows padded with `default_value` (0) to the longest row, or cut/padded to `shape`."""
        with _ops.name_scope(name, "RaggedToTensor", [self.flat_values, default_value, shape]):
            tf = _tf()
            if default_value is not None:
                default_value = convert_to_tensor(default_value, self.dtype, name="default_value")
            else:
                default_value = tf.zeros((), self.dtype)
            splits = list(self.nested_row_splits)
            if isinstance(shape, (list, tuple)) and any(isinstance(v, _ops.Tensor) for v in shape) and \
                    all(isinstance(v, (int, _ops.Tensor)) for v in shape):
                shape = tf.stack(shape)
            shape_tensor = _shape_as_tensor(shape, splits[0].dtype)
            result = apply_op("RaggedTensorToTensor", [shape_tensor, self.flat_values, default_value, splits],
                              {"row_partition_types": ["ROW_SPLITS"] * len(splits)}, name="RaggedTensorToTensor")
            ragged_shape = self.shape
            if ragged_shape.ndims is not None and not isinstance(shape, _ops.Tensor):
                requested = _ts.as_shape(shape)
                if requested.ndims is None:
                    result.set_shape(ragged_shape)
                else:
                    result.set_shape([a if a is not None else b for a, b in
                                      zip(requested.as_list(), ragged_shape.as_list())])
            return result

    def to_sparse(self, name: Optional[str] = None):
        """A SparseTensor with one entry per scalar of the flat values."""
        from graphcompat.ops.sparse_tensor import SparseTensor
        with _ops.name_scope(name, "RaggedToSparse", [self]):
            indices, values, dense_shape = apply_op("RaggedTensorToSparse",
                                                    [list(self.nested_row_splits), self.flat_values], {},
                                                    name="RaggedTensorToSparse")
            return SparseTensor(indices, values, dense_shape)

    def to_list(self):
        raise ValueError("to_list can only be used in eager mode.")

    def numpy(self):
        raise ValueError("RaggedTensor.numpy() is only supported in eager mode.")

    def eval(self, feed_dict=None, session=None) -> RaggedTensorValue:
        from graphcompat.client.session import get_default_session
        session = session or get_default_session()
        if session is None:
            raise ValueError("Cannot evaluate tensor using `eval()`: No default session is registered. Use "
                             "`with sess.as_default()` or pass an explicit session to `eval(session=sess)`")
        return session.run(self, feed_dict)

    # ---- indexing -----------------------------------------------------------------------------
    def __getitem__(self, key):
        """`rt[i]` (one row) and `rt[a:b]` (rows); deeper indexing is not supported yet."""
        if isinstance(key, tuple) and len(key) == 1:
            key = key[0]
        with _ops.name_scope(None, "RaggedGetItem", [self, key]):
            tf = _tf()
            starts, limits = self._row_splits[:-1], self._row_splits[1:]
            if isinstance(key, (int, np.integer)) or (isinstance(key, _ops.Tensor) and key.shape.ndims == 0):
                return self._values[starts[key]:limits[key]]
            if isinstance(key, slice) and key.step is None:
                # A slice without a step selects contiguous rows, so their values are one contiguous range.
                new_starts, new_limits = starts[key], limits[key]
                lengths = new_limits - new_starts
                splits = tf.concat([tf.zeros([1], lengths.dtype), tf.cumsum(lengths)], axis=0)
                begin = tf.concat([new_starts, tf.zeros([1], lengths.dtype)], axis=0)[0]
                values = self._values[begin:begin + splits[-1]]
                return RaggedTensor._from_row_splits_tensor(values, splits, False)
        if isinstance(key, tuple) and len(key) > 1 and key[0] == slice(None) and \
                isinstance(key[1], (int, np.integer)):
            raise ValueError("Cannot index into an inner ragged dimension.")
        raise NotImplementedError(f"tf.RaggedTensor.__getitem__ with key {key!r}: graphcompat supports an integer "
                                  f"row or a slice of rows")

    @property
    def _type_spec(self) -> "RaggedTensorSpec":
        return RaggedTensorSpec.from_value(self)

    # ---- Session composite protocol -----------------------------------------------------------
    def _fetch_components(self):
        return [self._values, self._row_splits], RaggedTensorValue

    def _flat_tensors(self) -> list:
        """[flat_values, row_splits (outermost first) ...]: the order a fed value is split in."""
        return [self.flat_values] + list(self.nested_row_splits)

    def _feed_components(self, value):
        return list(zip(self._flat_tensors(), value))

    def _feed_values(self, value) -> tuple:
        """A fed RaggedTensorValue as the values of `_flat_tensors`."""
        if isinstance(value, RaggedTensorValue):
            if value.ragged_rank != self.ragged_rank:
                raise ValueError(f"The fed RaggedTensorValue has ragged_rank {value.ragged_rank}, but the fed "
                                 f"RaggedTensor has ragged_rank {self.ragged_rank}")
            return (value.flat_values,) + tuple(value.nested_row_splits)
        return value

    def consumers(self) -> list:
        seen, out = set(), []
        for t in self._flat_tensors():
            for op in t.consumers():
                if op not in seen:
                    seen.add(op)
                    out.append(op)
        return out

    def __repr__(self) -> str:
        return f"tf.RaggedTensor(values={self._values!r}, row_splits={self._row_splits!r})"

    __str__ = __repr__

    # ---- element-wise operators (TF's ragged_operators), for the cases that need no broadcasting ----
    def _elementwise(self, other, fn_name: str, reverse: bool = False):
        """`fn(self, other)` on the flat values when `other` is a scalar or a RaggedTensor with the same row
        splits; TF's ragged broadcasting against dense tensors is not built."""
        from graphcompat.ragged.ragged_ops import map_flat_values
        fn = getattr(_tf(), fn_name)
        scalar = isinstance(other, (int, float, bool, np.number, np.bool_)) or \
            (isinstance(other, (_ops.Tensor, np.ndarray)) and other.shape == ())
        if not (scalar or isinstance(other, (RaggedTensor, RaggedTensorValue))):
            raise NotImplementedError(f"tf.RaggedTensor operator with a dense operand ({fn_name}, ragged "
                                      f"broadcasting) is not supported by graphcompat: use rt.to_tensor() or "
                                      f"tf.ragged.map_flat_values")
        if scalar and not isinstance(other, _ops.Tensor):
            other = convert_to_tensor(other, self.dtype)
        return map_flat_values(fn, other, self) if reverse else map_flat_values(fn, self, other)

    def __add__(self, other):
        return self._elementwise(other, "add")

    def __radd__(self, other):
        return self._elementwise(other, "add", reverse=True)

    def __sub__(self, other):
        return self._elementwise(other, "subtract")

    def __rsub__(self, other):
        return self._elementwise(other, "subtract", reverse=True)

    def __mul__(self, other):
        return self._elementwise(other, "multiply")

    def __rmul__(self, other):
        return self._elementwise(other, "multiply", reverse=True)

    def __truediv__(self, other):
        return self._elementwise(other, "truediv")

    def __rtruediv__(self, other):
        return self._elementwise(other, "truediv", reverse=True)

    def __floordiv__(self, other):
        return self._elementwise(other, "floordiv")

    def __neg__(self):
        return self.with_flat_values(_tf().negative(self.flat_values))

    def __abs__(self):
        return self.with_flat_values(_tf().abs(self.flat_values))


class RaggedTensorSpec:
    """`tf.RaggedTensorSpec`: the static type of a RaggedTensor (shape, dtype, ragged_rank, row splits dtype)."""

    def __init__(self, shape=None, dtype=_dt.float32, ragged_rank: Optional[int] = None,
                 row_splits_dtype=_dt.int64, flat_values_spec=None):
        if flat_values_spec is not None:
            raise NotImplementedError("tf.RaggedTensorSpec(flat_values_spec=...) is not supported by graphcompat")
        self._shape = _ts.as_shape(shape)
        self._dtype = _dt.as_dtype(dtype)
        self._row_splits_dtype = _dt.as_dtype(row_splits_dtype)
        rank = self._shape.ndims
        if ragged_rank is None:
            if rank is None:
                raise ValueError("Must specify ragged_rank or a shape with a known rank.")
            ragged_rank = rank - 1
        if not isinstance(ragged_rank, int):
            raise TypeError(f"Argument `ragged_rank` must be an int. Received {ragged_rank}.")
        if rank is not None and ragged_rank >= rank:
            raise ValueError(f"Argument `ragged_rank` ({ragged_rank}) must be less than rank ({rank}).")
        self._ragged_rank = ragged_rank

    @property
    def shape(self) -> _ts.TensorShape:
        return self._shape

    @property
    def dtype(self) -> _dt.DType:
        return self._dtype

    @property
    def ragged_rank(self) -> int:
        return self._ragged_rank

    @property
    def row_splits_dtype(self) -> _dt.DType:
        return self._row_splits_dtype

    @property
    def flat_values_spec(self):
        return None

    @property
    def value_type(self):
        return RaggedTensor

    @classmethod
    def from_value(cls, value) -> "RaggedTensorSpec":
        """The spec of a RaggedTensor (its static shape, dtype, ragged_rank and row splits dtype)."""
        return cls(shape=value.shape, dtype=value.dtype, ragged_rank=value.ragged_rank,
                   row_splits_dtype=value.row_splits.dtype)

    def _key(self) -> tuple:
        # TF compares shapes by their dimension lists (None == None), not TensorShape's TF1 equality
        dims = None if self._shape.ndims is None else tuple(self._shape.as_list())
        return (dims, self._dtype, self._ragged_rank, self._row_splits_dtype)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self._key() == other._key()

    def __ne__(self, other) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._key())

    def is_compatible_with(self, spec_or_value) -> bool:
        """Same dtype, row splits dtype and ragged_rank, and compatible shapes (a RaggedTensor is compared by
        its spec; anything else is not compatible)."""
        if isinstance(spec_or_value, RaggedTensor):
            spec_or_value = RaggedTensorSpec.from_value(spec_or_value)
        if type(spec_or_value) is not type(self):
            return False
        other = spec_or_value
        return (self._dtype == other._dtype and self._row_splits_dtype == other._row_splits_dtype
                and self._ragged_rank == other._ragged_rank and self._shape.is_compatible_with(other._shape))

    def __repr__(self) -> str:
        shape = "TensorShape(None)" if self._shape.ndims is None else f"TensorShape({self._shape.as_list()})"
        return f"RaggedTensorSpec({shape}, {self._dtype!r}, {self._ragged_rank}, {self._row_splits_dtype!r})"

    __str__ = __repr__


def _refuse_conversion(value, dtype=None, name=None, as_ref=False):
    # TF dispatches most ops to ragged kernels when given a RaggedTensor; graphcompat dispatches only the
    # reductions, tf.concat and tf.stack, so any other op that receives one says so instead of failing to
    # convert it.
    raise NotImplementedError("tf.RaggedTensor as the argument of a dense op (TF's ragged dispatch, e.g. "
                              "tf.math.square(rt)) is not supported by graphcompat: use rt.to_tensor(), "
                              "rt.flat_values or tf.ragged.map_flat_values (tf.reduce_*, tf.concat and tf.stack "
                              "do dispatch)")


register_tensor_conversion_function(RaggedTensor, _refuse_conversion)


def _with_dependencies(checks, tensor):
    from graphcompat.ops.control_ops import with_dependencies
    return with_dependencies(checks, tensor)


def _rowids_and_nrows(value_rowids, nrows, validate: bool):
    """TF's checks of `from_value_rowids`' arguments: static ones at build time, the rest as asserts."""
    tf = _tf()
    value_rowids = _convert_partition(value_rowids, "value_rowids")
    if nrows is None:
        const_rowids = constant_value(value_rowids)
        if const_rowids is None:
            nrows = tf.concat([value_rowids[-1:], tf.constant([-1], value_rowids.dtype)], axis=0)[0] + 1
        else:
            const_nrows = int(const_rowids[-1]) + 1 if const_rowids.size > 0 else 0
            nrows = convert_to_tensor(const_nrows, value_rowids.dtype, name="nrows")
    else:
        nrows = convert_to_tensor(nrows, value_rowids.dtype, name="nrows")
        const_nrows = constant_value(nrows)
        if const_nrows is not None:
            if const_nrows < 0:
                raise ValueError(f"Expected nrows >= 0; got {int(const_nrows)}")
            const_rowids = constant_value(value_rowids)
            if const_rowids is not None and const_rowids.size > 0 and not const_nrows >= const_rowids[-1] + 1:
                raise ValueError(f"Expected nrows >= value_rowids[-1] + 1; got nrows={int(const_nrows)}, "
                                 f"value_rowids[-1]={int(const_rowids[-1])}")
    value_rowids.shape.assert_has_rank(1)
    nrows.shape.assert_has_rank(0)
    if validate:
        msg = "Arguments to from_value_rowids do not form a valid RowPartition"
        checks = [tf.debugging.assert_rank(value_rowids, 1, message=msg),
                  tf.debugging.assert_rank(nrows, 0, message=msg),
                  tf.debugging.assert_non_negative(value_rowids[:1], message=msg),
                  _monotonic(value_rowids, msg),
                  tf.debugging.assert_less(value_rowids[-1:], nrows, message=msg)]
        value_rowids = _with_dependencies(checks, value_rowids)
    return value_rowids, nrows


def _shape_as_tensor(shape, dtype: _dt.DType) -> _ops.Tensor:
    """TF's encoding of a requested shape for RaggedTensorToTensor: -1 for unknown rank or dimension."""
    tf = _tf()
    if isinstance(shape, _ops.Tensor):
        return shape if shape.dtype in _SPLITS_DTYPES else tf.cast(shape, dtype)
    shape = _ts.as_shape(shape)
    if shape.ndims is None:
        return tf.constant(-1, dtype=dtype)
    return tf.constant([-1 if d is None else d for d in shape.as_list()], dtype=dtype)


def is_ragged(value) -> bool:
    """TF's `ragged_tensor.is_ragged`: a RaggedTensor or RaggedTensorValue."""
    return isinstance(value, (RaggedTensor, RaggedTensorValue))
