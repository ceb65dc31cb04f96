"""Builders that record the fused and experimental tf.data ops TF records (more_ops.py defines them):
`map_and_batch` (MapAndBatchDataset), `shuffle_and_repeat` (ShuffleAndRepeatDataset), `ignore_errors`,
`parallel_interleave` (LegacyParallelInterleaveDatasetV2), `unique`, `dense_to_sparse_batch`,
`assert_cardinality`, `Dataset.reduce` (ReduceDataset),
`get_single_element` (DatasetToSingleElement), `cardinality` (DatasetCardinality) and Optionals
(`get_next_as_optional`, tf.data.experimental.Optional). lowering/data/imported.py and
lowering/rules/data_more.py run them.
"""
from __future__ import annotations

from typing import Callable, Optional as _Opt

import numpy as np

from graphcompat.data import structure as nest
from graphcompat.data.dataset_ops import (Dataset, Function, Spec, _get_seed, _sparse_tensor, _static_int,
                                          pack_specs)
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.framework.registry import apply_op


class MapAndBatchDataset(Dataset):
    """`tf.data.experimental.map_and_batch`: TF's fused MapAndBatchDataset (the same elements as map then batch)."""
    _op_type = "MapAndBatchDataset"

    def __init__(self, input_ds: Dataset, map_func: Callable, batch_size, num_parallel_calls, drop_remainder):
        fn = Function(map_func, input_ds._template, input_ds._specs, "map_fn", "tf.data.experimental.map_and_batch()")
        if fn.dataset is not None:
            raise TypeError("The map function must return a (nested) structure of tensors, not a Dataset.")
        if nest.has_sparse(fn.template):
            raise NotImplementedError("tf.data.experimental.map_and_batch of a function that returns a SparseTensor "
                                      "is not supported by graphcompat.")
        bs = convert_to_tensor(batch_size, _dt.int64, name="batch_size")
        calls = convert_to_tensor(num_parallel_calls, _dt.int64, name="num_parallel_calls")
        dr = convert_to_tensor(drop_remainder, _dt.bool_, name="drop_remainder")
        self._b = _static_int(bs)
        drop = constant_value(dr)
        self._drop = None if drop is None else bool(drop)
        lead = self._b if self._drop else None
        specs = [Spec(s.dtype, _ts.TensorShape([lead]).concatenate(s.shape)) for s in fn.specs]
        self._record([input_ds], fn.captures + [bs, calls, dr], fn.template, specs,
                     attrs={"f": fn.func_attr, "Targuments": fn.capture_types, "preserve_cardinality": True})


def map_and_batch(map_func: Callable, batch_size, num_parallel_batches=None, drop_remainder=False,
                  num_parallel_calls=None) -> Callable:
    """`tf.data.experimental.map_and_batch` (num_parallel_calls: batch_size x num_parallel_batches, as TF's)."""
    if num_parallel_batches is None and num_parallel_calls is None:
        num_parallel_calls = batch_size
    elif num_parallel_batches is not None and num_parallel_calls is None:
        num_parallel_calls = batch_size * num_parallel_batches
    elif num_parallel_batches is not None and num_parallel_calls is not None:
        raise ValueError(f"`map_and_batch` allows only one of `num_parallel_batches` and `num_parallel_calls` to be "
                         f"set, but `num_parallel_batches` was set to {num_parallel_batches} and `num_parallel_calls` "
                         f"as set to {num_parallel_calls}.")
    return lambda ds: MapAndBatchDataset(ds, map_func, batch_size, num_parallel_calls, drop_remainder)


class ShuffleAndRepeatDataset(Dataset):
    """`tf.data.experimental.shuffle_and_repeat`: TF's ShuffleAndRepeatDataset (one shuffle buffer across the
    repetitions; TF's order for a seed, lowering/data/imported.py)."""
    _op_type = "ShuffleAndRepeatDataset"

    def __init__(self, input_ds: Dataset, buffer_size, count=None, seed=None):
        from graphcompat.data.transformations import _seed_tensors
        buffer = convert_to_tensor(buffer_size, _dt.int64, name="buffer_size")
        count_t = convert_to_tensor(-1 if count is None else count, _dt.int64, name="count")
        seed_t, seed2_t = _seed_tensors(_get_seed(seed))
        self._record([input_ds], [buffer, seed_t, seed2_t, count_t], input_ds._template, input_ds._specs)


def shuffle_and_repeat(buffer_size, count=None, seed=None) -> Callable:
    return lambda ds: ShuffleAndRepeatDataset(ds, buffer_size, count, seed)


def parallel_interleave(map_func: Callable, cycle_length, block_length=1, sloppy=False, buffer_output_elements=None,
                        prefetch_input_elements=None) -> Callable:
    """`tf.data.experimental.parallel_interleave`: TF's LegacyParallelInterleaveDatasetV2 (`sloppy` its
    `deterministic` attr: None "default", True "false", False "true"; a sloppy one is refused when run). The
    buffering defaults are TF's: two blocks per input, two inputs per slot."""
    def apply(ds: Dataset) -> Dataset:
        from graphcompat.data.transformations import InterleaveDataset
        buffered = convert_to_tensor(2 * block_length if buffer_output_elements is None else buffer_output_elements,
                                     _dt.int64, name="buffer_output_elements")
        prefetched = convert_to_tensor(2 * cycle_length if prefetch_input_elements is None
                                       else prefetch_input_elements, _dt.int64, name="prefetch_input_elements")
        deterministic = "default" if sloppy is None else "false" if sloppy else "true"
        return InterleaveDataset(ds, map_func, cycle_length, block_length, legacy_parallel=True,
                                 buffering=(buffered, prefetched), legacy_deterministic=deterministic)
    return apply


class _UnaryDataset(Dataset):
    """A dataset op over one input with no arguments of its own, its element unchanged."""

    def __init__(self, input_ds: Dataset, attrs: _Opt[dict] = None):
        self._record([input_ds], [], input_ds._template, input_ds._specs, attrs=attrs)


class IgnoreErrorsDataset(_UnaryDataset):
    _op_type = "IgnoreErrorsDataset"

    def __init__(self, input_ds: Dataset, log_warning: bool = False):
        super().__init__(input_ds, {"log_warning": bool(log_warning)})


def ignore_errors(log_warning: bool = False) -> Callable:
    """`tf.data.experimental.ignore_errors`: elements whose computation fails are dropped."""
    return lambda ds: IgnoreErrorsDataset(ds, log_warning)


class UniqueDataset(_UnaryDataset):
    _op_type = "UniqueDataset"

    def __init__(self, input_ds: Dataset):
        for spec in input_ds._specs:  # TF checks each type here; the kernel refuses several components
            if spec.dtype not in (_dt.int32, _dt.int64, _dt.string):
                raise TypeError(f"`tf.data.Dataset.unique` does not support type {spec.dtype} -- only `tf.int32`, "
                                "`tf.int64`, and `tf.string` are supported.")
        super().__init__(input_ds)


def unique() -> Callable:
    return UniqueDataset


class DenseToSparseBatchDataset(Dataset):
    """`tf.data.experimental.dense_to_sparse_batch`: batches as one SparseTensor (graphcompat's three
    components, `_sparse_components`)."""
    _op_type = "DenseToSparseBatchDataset"

    def __init__(self, input_ds: Dataset, batch_size, row_shape):
        if len(input_ds._specs) != 1 or nest.has_sparse(input_ds._template):
            raise TypeError("DenseToSparseDataset requires an input whose elements have a single component, but the "
                            f"given dataset has {input_ds.output_types}.")
        shape = _ts.as_shape(row_shape)
        row = convert_to_tensor(np.asarray([-1 if d is None else d for d in shape.as_list()], np.int64), _dt.int64)
        rank = shape.ndims + 1
        dtype = input_ds._specs[0].dtype
        self._record([input_ds], [batch_size, row], nest.SPARSE,
                     [Spec(_dt.int64, [None, rank]), Spec(dtype, [None]), Spec(_dt.int64, [rank])])


def dense_to_sparse_batch(batch_size, row_shape) -> Callable:
    return lambda ds: DenseToSparseBatchDataset(ds, batch_size, row_shape)


class AssertCardinalityDataset(Dataset):
    _op_type = "AssertCardinalityDataset"

    def __init__(self, input_ds: Dataset, expected_cardinality):
        t = convert_to_tensor(expected_cardinality, _dt.int64, name="expected_cardinality")
        self._record([input_ds], [t], input_ds._template, input_ds._specs)


def assert_cardinality(expected_cardinality) -> Callable:
    return lambda ds: AssertCardinalityDataset(ds, expected_cardinality)


_CSV_TYPES = (_dt.float32, _dt.float64, _dt.int32, _dt.int64, _dt.string)
_READER_BUFFER_BYTES = 4 * 1024 * 1024  # TF's _DEFAULT_READER_BUFFER_SIZE_BYTES


class CsvDataset(Dataset):
    """`tf.data.experimental.CsvDataset`: TF's CSVDatasetV2, one tuple of scalars per record (a dtype in
    `record_defaults` makes its field required, a tensor gives the field's default)."""
    _op_type = "CSVDatasetV2"

    def __init__(self, filenames, record_defaults, compression_type=None, buffer_size=None, header=False,
                 field_delim=",", use_quote_delim=True, na_value="", select_cols=None, exclude_cols=None):
        def optional(name, value, default, dtype):
            return convert_to_tensor(default if value is None else value, dtype, name=name)

        names = convert_to_tensor(filenames, _dt.string, name="filenames")
        compression = optional("compression_type", compression_type, "", _dt.string)
        defaults = []
        for k, x in enumerate(record_defaults):
            if not isinstance(x, _ops.Tensor) and _is_csv_dtype(x):
                defaults.append(convert_to_tensor(np.zeros([0], _dt.as_dtype(x).as_numpy_dtype)
                                                  if _dt.as_dtype(x) != _dt.string else np.zeros([0], object),
                                                  _dt.as_dtype(x), name="Const"))
            else:
                defaults.append(convert_to_tensor(x, name="record_defaults" if k == 0 else f"record_defaults_{k}"))
        buffer = optional("buffer_size", buffer_size, _READER_BUFFER_BYTES, _dt.int64)
        header_t = convert_to_tensor(header, _dt.bool_, name="header")
        delim = convert_to_tensor(field_delim, _dt.string, name="field_delim")
        quotes = convert_to_tensor(use_quote_delim, _dt.bool_, name="use_quote_delim")
        na = convert_to_tensor(na_value, _dt.string, name="na_value")
        select = optional("select_cols", select_cols, np.zeros([0], np.int64), _dt.int64)
        exclude = optional("exclude_cols", exclude_cols, np.zeros([0], np.int64), _dt.int64)
        specs = [Spec(t.dtype, []) for t in defaults]
        self._record([], [names, compression, buffer, header_t, delim, quotes, na, select] + defaults + [exclude],
                     tuple([None] * len(specs)), specs, groups=[1] * 8 + [len(defaults), 1])


def _is_csv_dtype(x) -> bool:
    try:
        return _dt.as_dtype(x) in _CSV_TYPES
    except (TypeError, ValueError, KeyError):
        return False


class SparseTensorSliceDataset(Dataset):
    """`Dataset.from_sparse_tensor_slices`: TF 1's tuple of three dense components per row (indices, values,
    dense_shape of the row's SparseTensor)."""
    _op_type = "SparseTensorSliceDataset"

    def __init__(self, sparse_tensor):
        from graphcompat.ops.parsing_ops import SparseTensor
        if not isinstance(sparse_tensor, SparseTensor):
            raise TypeError(f"`sparse_tensor` must be a `tf.sparse.SparseTensor` object. Received {sparse_tensor}.")
        shape = sparse_tensor.dense_shape.shape
        rank = shape[0].value if shape.ndims == 1 else None
        rest = None if rank is None else rank - 1
        values = sparse_tensor.values
        self._record([], [sparse_tensor.indices, values, sparse_tensor.dense_shape], (None, None, None),
                     [Spec(_dt.int64, [None, rest]), Spec(values.dtype, [None]), Spec(_dt.int64, [rest])],
                     attrs={"Tvalues": values.dtype})


# ------------------------------------------------------------------------------------------------
# datasets reduced to tensors
# ------------------------------------------------------------------------------------------------
def cardinality(dataset: Dataset) -> _ops.Tensor:
    """`tf.data.experimental.cardinality`: TF's DatasetCardinality op (INFINITE = -1, UNKNOWN = -2)."""
    return apply_op("DatasetCardinality", [dataset._variant], name="DatasetCardinality")


def _structure_of(template, outs: list):
    return nest.pack(template, outs, sparse=_sparse_tensor)


def get_single_element(dataset: Dataset):
    """`tf.data.experimental.get_single_element`: the one element (TF's errors for none or several)."""
    if not isinstance(dataset, Dataset):
        raise TypeError(f"Invalid `dataset`. Expected a `tf.data.Dataset` object but got {type(dataset)}.")
    if nest.has_sparse(dataset._template):
        raise NotImplementedError("tf.data.experimental.get_single_element of SparseTensor components is not "
                                  "supported by graphcompat.")
    outs = apply_op("DatasetToSingleElement", [dataset._variant],
                    {"output_types": [s.dtype for s in dataset._specs],
                     "output_shapes": [s.shape for s in dataset._specs]}, name="DatasetToSingleElement")
    return _structure_of(dataset._template, outs if isinstance(outs, list) else [outs])


def _types_repr(template, specs: list):
    return pack_specs(template, specs, lambda sp: sp.dtype, lambda i, v, s: v.dtype)


def reduce(dataset: Dataset, initial_state, reduce_func: Callable):
    """`Dataset.reduce`: TF's ReduceDataset. The state's shapes are relaxed until reduce_func keeps them (TF's
    fixed point); its structure and dtypes must stay the initial state's (TF's errors)."""
    if nest.has_sparse(dataset._template) or nest.has_sparse(nest.template_of(initial_state)):
        raise NotImplementedError("tf.data.Dataset.reduce with SparseTensor components is not supported by "
                                  "graphcompat.")
    with _ops.name_scope("initial_state"), _ops.name_scope("normalize_element"):
        state_template = nest.template_of(initial_state)
        state = [convert_to_tensor(x, name=f"component_{i}") for i, x in enumerate(nest.flatten(initial_state))]
    state_specs = [Spec(t.dtype, t.shape) for t in state]
    template = (state_template, dataset._template)
    while True:
        fn = Function(reduce_func, template, state_specs + dataset._specs, "reduce_fn", "reduce()")
        try:
            nest.assert_same_structure(state_template, fn.template)
        except (ValueError, TypeError) as e:
            raise TypeError(f"The structure of the new state must match the structure of the initial state. {e}") \
                from None
        if [s.dtype for s in fn.specs] != [s.dtype for s in state_specs]:
            raise TypeError(f"The element types for the new state must match the initial state. Expected "
                            f"{_types_repr(state_template, state_specs)} but got "
                            f"{_types_repr(fn.template, fn.specs)}.")
        relaxed = [Spec(s.dtype, s.shape.most_specific_compatible_shape(n.shape)) for s, n in zip(state_specs, fn.specs)]
        if all(r.shape.as_list() == s.shape.as_list() if s.shape.ndims is not None else r.shape.ndims is None
               for r, s in zip(relaxed, state_specs)):
            break
        state_specs = relaxed  # trace again with the relaxed state (TF's fixed point)
    outs = apply_op("ReduceDataset", [dataset._variant, state, fn.captures],
                    {"f": fn.func_attr, "Tstate": [t.dtype for t in state], "Targuments": fn.capture_types,
                     "output_types": [s.dtype for s in state_specs], "output_shapes": [s.shape for s in state_specs]},
                    name="ReduceDataset")
    return _structure_of(state_template, outs if isinstance(outs, list) else [outs])


# ------------------------------------------------------------------------------------------------
# Optionals
# ------------------------------------------------------------------------------------------------
class Optional:
    """`tf.data.experimental.Optional`: a value of an element structure, or none (TF's OptionalVariant)."""

    def __init__(self, variant: _ops.Tensor, template, specs: list):
        self._variant_tensor = variant
        self._template = template
        self._specs = list(specs)

    @staticmethod
    def from_value(value) -> "Optional":
        with _ops.name_scope("optional") as scope:
            with _ops.name_scope("value"):
                template = nest.template_of(value)
                if nest.has_sparse(template):
                    raise NotImplementedError("tf.data.experimental.Optional of a SparseTensor is not supported by "
                                              "graphcompat.")
                # TF converts the value twice (its type spec, then its tensor list): two constants, one unused
                [convert_to_tensor(x) for x in nest.flatten(value)]
                flat = [convert_to_tensor(x) for x in nest.flatten(value)]
            variant = apply_op("OptionalFromValue", [flat], name=scope)
        return Optional(variant, template, [Spec(t.dtype, t.shape) for t in flat])

    @staticmethod
    def empty(element_spec) -> "Optional":
        template = nest.template_of(element_spec)
        specs = [Spec(s.dtype, s.shape) for s in nest.flatten(element_spec)]
        return Optional(apply_op("OptionalNone", [], name="OptionalNone"), template, specs)

    none = empty

    def has_value(self, name=None) -> _ops.Tensor:
        with _ops.name_scope(name, "OptionalHasValue") as scope, _ops.colocate_with(self._group()):
            return apply_op("OptionalHasValue", [self._variant_tensor], name=scope)

    def get_value(self, name=None):
        with _ops.name_scope(name, "OptionalGetValue") as scope, _ops.colocate_with(self._group()):
            outs = apply_op("OptionalGetValue", [self._variant_tensor],
                            {"output_types": [s.dtype for s in self._specs],
                             "output_shapes": [s.shape for s in self._specs]}, name=scope)
        return _structure_of(self._template, outs if isinstance(outs, list) else [outs])

    def _group(self) -> _ops.Operation:
        """The variant's colocation group (an iterator's Optional sits in its dataset's, as TF's)."""
        return _ops.colocation_group(self._variant_tensor.op)

    @property
    def element_spec(self):
        return pack_specs(self._template, self._specs, lambda sp: sp, lambda i, v, s: v)


def get_next_as_optional(iterator) -> Optional:
    """`tf.data.experimental.get_next_as_optional(iterator)` == `iterator.get_next_as_optional()`."""
    return iterator.get_next_as_optional()
