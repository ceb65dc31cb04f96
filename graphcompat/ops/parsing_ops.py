"""Parsing ops: `tf.parse_single_example`, `tf.parse_example` (FixedLenFeature / VarLenFeature /
FixedLenSequenceFeature), `tf.parse_single_sequence_example`, `tf.io.parse_sequence_example`,
`tf.decode_raw`. Host ops (strings): lowerings in lowering/rules/data.py.
"""
from __future__ import annotations

import collections
import re
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop, unchanged_shape



class FixedLenFeature(collections.namedtuple("FixedLenFeature", ["shape", "dtype", "default_value"])):
    """A dense feature of fixed shape (`tf.FixedLenFeature`)."""

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A variable-length feature, parsed into a SparseTensor (`tf.VarLenFeature`)."""


class SparseFeature(collections.namedtuple("SparseFeature",
                                           ["index_key", "value_key", "dtype", "size", "already_sorted"])):
    """A SparseTensor built from an index list (or several) and a value list of the same Example
    (`tf.io.SparseFeature`): `parse_example` merges them with `sparse_merge`."""

    def __new__(cls, index_key, value_key, dtype, size, already_sorted: bool = False):
        return super().__new__(cls, index_key, value_key, dtype, size, already_sorted)


class FixedLenSequenceFeature(collections.namedtuple(
        "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])):
    """A feature of `[None] + shape` (`tf.io.FixedLenSequenceFeature`): a SequenceExample's feature list, or in
    `parse_example` (with `allow_missing=True`) a flat list cut into rows of `shape`, the batch padded with
    `default_value`."""

    def __new__(cls, shape, dtype, allow_missing: bool = False, default_value=None):
        return super().__new__(cls, shape, dtype, allow_missing, default_value)


class RaggedFeature(collections.namedtuple("RaggedFeature",
                                           ["dtype", "value_key", "partitions", "row_splits_dtype", "validate"])):
    """A feature parsed into a RaggedTensor (`tf.io.RaggedFeature`): the list under `value_key` (the feature's own
    key by default), cut into rows by the `partitions` (outermost first), each naming another feature of the same
    Example (or a UniformRowLength). A batch adds the batch dimension as the outermost ragged one."""

    RowSplits = collections.namedtuple("RowSplits", ["key"])
    RowLengths = collections.namedtuple("RowLengths", ["key"])
    RowStarts = collections.namedtuple("RowStarts", ["key"])
    RowLimits = collections.namedtuple("RowLimits", ["key"])
    ValueRowIds = collections.namedtuple("ValueRowIds", ["key"])
    UniformRowLength = collections.namedtuple("UniformRowLength", ["length"])
    _PARTITION_TYPES = (RowSplits, RowLengths, RowStarts, RowLimits, ValueRowIds, UniformRowLength)

    def __new__(cls, dtype, value_key: Optional[str] = None, partitions=(), row_splits_dtype=_dt.int32,
                validate: bool = False):
        # TF's checks and texts, in its order (parsing_config.RaggedFeature.__new__)
        if value_key is not None:
            if not isinstance(value_key, str):
                raise ValueError(f"Argument `value_key` must be a string; got {value_key}")
            if not value_key:
                raise ValueError("Argument `value_key` must not be empty")
        dtype = _dt.as_dtype(dtype)
        if dtype not in (_dt.int64, _dt.float32, _dt.string):
            raise ValueError(f"Argument `dtype` must be int64, float32, or bytes; got {dtype!r}")
        row_splits_dtype = _dt.as_dtype(row_splits_dtype)
        if row_splits_dtype not in (_dt.int32, _dt.int64):
            raise ValueError(f"Argument `row_splits_dtype` must be int32 or int64; got{row_splits_dtype!r}")
        if not isinstance(partitions, (list, tuple)):
            raise TypeError(f"Argument `partitions` must be a list or tuple. Received"
                            f"partitions={partitions} of type {type(partitions).__name__}.")
        for partition in partitions:
            if not isinstance(partition, cls._PARTITION_TYPES):
                raise TypeError(f"Argument `partitions` cannot be cast to any of the partition types in "
                                f"{cls._PARTITION_TYPES}; got: {partition!r} with type {type(partition)}")
        if not isinstance(validate, bool):
            raise TypeError(f"Argument `validate` must be a bool; got {validate!r}")
        return super().__new__(cls, dtype, value_key, tuple(partitions), row_splits_dtype, validate)


# SparseTensor lives with the sparse family; parse_example builds them.
from graphcompat.ops.sparse_tensor import SparseTensor, SparseTensorValue  # noqa: E402


# ------------------------------------------------------------------------------------------------
# Ops
# ------------------------------------------------------------------------------------------------
def _parse_shape(batched: bool):
    def shape(ctx: InferenceContext):
        lead = [] if not batched else [ctx.shape(0)[0].value if ctx.shape(0).ndims else None]
        n = ctx.attrs["num_sparse"] if "num_sparse" in ctx.attrs else ctx.attrs["Nsparse"]
        rank = 2 if batched else 1
        return ([_ts.TensorShape([None, rank])] * n + [_ts.TensorShape([None])] * n + [_ts.TensorShape([rank])] * n
                + [_ts.TensorShape(lead).concatenate(s) for s in ctx.attrs["dense_shapes"]])
    return shape


# The parsers TF 1.x's Python recorded (graphs it wrote import and run); the builders record ParseExampleV2.
defop("ParseSingleExample", "serialized: string, dense_defaults: *Tdense -> sparse_indices: num_sparse * int64, "
      "sparse_values: *sparse_types, sparse_shapes: num_sparse * int64, dense_values: *Tdense",
      attrs={"sparse_keys": [], "dense_keys": [], "sparse_types": [], "dense_shapes": [], "num_sparse": 0},
      shape=_parse_shape(False))
defop("ParseExample", "serialized: string, names: string, sparse_keys: Nsparse * string, "
      "dense_keys: Ndense * string, dense_defaults: *Tdense -> sparse_indices: Nsparse * int64, "
      "sparse_values: *sparse_types, sparse_shapes: Nsparse * int64, dense_values: *Tdense",
      attrs={"sparse_types": [], "dense_shapes": [], "Nsparse": 0, "Ndense": 0}, shape=_parse_shape(True))


def _decode_raw_shape(ctx: InferenceContext):
    return [ctx.shape(0).concatenate([None])]


defop("DecodeRaw", "bytes: string -> output: out_type", attrs={"little_endian": True}, shape=_decode_raw_shape)
# JSON-encoded tf.train.Example protos -> their binary encoding, element by element (rule: lowering/rules/media.py).
defop("DecodeJSONExample", "json_examples: string -> binary_examples: string", shape=unchanged_shape)


def _prepend_none_dimension(features: dict) -> dict:
    """TF's _prepend_none_dimension: in an Example a FixedLenSequenceFeature is a flat list cut into rows of its
    shape, so its dense shape gets an unknown leading dimension (only with allow_missing)."""
    modified = dict(features)
    for key, feature in features.items():
        if isinstance(feature, FixedLenSequenceFeature):
            if not feature.allow_missing:
                raise ValueError("Unsupported: FixedLenSequenceFeature requires allow_missing to be True.")
            modified[key] = FixedLenSequenceFeature([None] + list(feature.shape), feature.dtype,
                                                    feature.allow_missing, feature.default_value)
    return modified


_EXAMPLE_FEATURES = (VarLenFeature, SparseFeature, FixedLenFeature, FixedLenSequenceFeature, RaggedFeature)


def parse_example(serialized, features, name=None, example_names=None) -> dict:
    """`tf.parse_example` / `tf.io.parse_example`: a vector of serialized Examples → batched
    {key: Tensor | SparseTensor | RaggedTensor}, recorded as TF 2's compat.v1 records it: one `ParseExampleV2`
    (keys as string inputs) in a `ParseExample` scope, SparseFeatures merged after it."""
    return _parse_example_v2(serialized, features, example_names, name)


def _parse_example_v2(serialized, features, example_names, name) -> dict:
    if not features:
        raise ValueError(f"Argument `features` cannot be None or falsy. Got {features}")
    features = _prepend_none_dimension(features)
    params = _ParseParams(features, _EXAMPLE_FEATURES)
    outputs = _parse_example_raw(serialized, example_names, params, name)
    return _construct_composite_features(features, outputs)


def _parse_example_raw(serialized, names, params: "_ParseParams", name: Optional[str]) -> dict:
    from graphcompat.framework import ops as _ops
    if params.num_features == 0:
        raise ValueError("Must provide at least one feature key.")
    with _ops.name_scope(name, "ParseExample", [serialized, names]):
        names = [] if names is None else names
        serialized = convert_to_tensor(serialized, name="serialized")
        if params.ragged_keys and serialized.shape.ndims is None:
            raise ValueError("serialized must have statically-known rank to parse ragged features.")
        outs = apply_op("ParseExampleV2", [serialized, names, params.sparse_keys, params.dense_keys,
                                           params.ragged_keys, params.dense_defaults_vec()],
                        {"num_sparse": len(params.sparse_keys), "sparse_types": params.sparse_types,
                         "ragged_value_types": params.ragged_value_types,
                         "ragged_split_types": params.ragged_split_types, "dense_shapes": params.dense_shapes},
                        name=name or "ParseExampleV2")
        sparse_indices, sparse_values, sparse_shapes, dense_values, ragged_values, ragged_splits = outs
        if serialized.shape.ndims == 0:   # a single Example's ragged feature is its values
            ragged = list(ragged_values)
        else:
            from graphcompat.ragged.ragged_tensor import RaggedTensor
            ragged = [RaggedTensor.from_row_splits(v, sp, validate=False)
                      for v, sp in zip(ragged_values, ragged_splits)]
        sparse = [SparseTensor(i, v, sh) for i, v, sh in zip(sparse_indices, sparse_values, sparse_shapes)]
        return dict(zip(params.sparse_keys + params.dense_keys + params.ragged_keys,
                        sparse + list(dense_values) + ragged))


def _construct_composite_features(features: dict, parsed: dict) -> dict:
    """TF's _construct_tensors_for_composite_features: each SparseFeature becomes `sparse_merge` of its index
    and value lists, each RaggedFeature its values cut by its partitions; keys parsed only for them are dropped."""
    from graphcompat.ops.sparse_ops import sparse_merge
    from graphcompat.ragged.ragged_tensor import RaggedTensor
    updates = {}
    for key in sorted(features):
        f = features[key]
        if isinstance(f, SparseFeature):
            ids = parsed[f.index_key] if isinstance(f.index_key, str) else [parsed[k] for k in f.index_key]
            updates[key] = sparse_merge(ids, parsed[f.value_key], vocab_size=f.size, already_sorted=f.already_sorted)
        elif isinstance(f, RaggedFeature):
            rt = parsed[key if f.value_key is None else f.value_key]
            if isinstance(rt, RaggedTensor):
                for partition in reversed(f.partitions):
                    rt = _add_batched_ragged_partition(rt, partition, parsed, f.validate)
            else:
                for partition in reversed(f.partitions):
                    rt = _add_ragged_partition(rt, partition, parsed, f.row_splits_dtype, f.validate)
            updates[key] = rt
    parsed = dict(parsed)
    parsed.update(updates)
    return {k: v for k, v in parsed.items() if k in features}


def _add_ragged_partition(values, partition, parsed: dict, row_splits_dtype, validate: bool):
    """TF's _add_ragged_partition: one single Example's partition feature cuts the values into rows."""
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ragged.ragged_tensor import RaggedTensor
    if isinstance(partition, RaggedFeature.UniformRowLength):
        if isinstance(values, RaggedTensor):
            length = convert_to_tensor(partition.length, dtype=row_splits_dtype)
            return RaggedTensor.from_uniform_row_length(values, length, validate=validate)
        return array_ops.reshape(values, array_ops.concat([[-1, partition.length], array_ops.shape(values)[1:]],
                                                          axis=0))
    partition_t = math_ops.cast(parsed[partition.key], row_splits_dtype)
    build = {RaggedFeature.RowSplits: RaggedTensor.from_row_splits,
             RaggedFeature.RowLengths: RaggedTensor.from_row_lengths,
             RaggedFeature.RowStarts: RaggedTensor.from_row_starts,
             RaggedFeature.RowLimits: RaggedTensor.from_row_limits,
             RaggedFeature.ValueRowIds: RaggedTensor.from_value_rowids}.get(type(partition))
    if build is None:
        raise ValueError(f"Unhandled partition type {partition!r}")
    return build(values, partition_t, validate=validate)


def _add_batched_ragged_partition(rt, partition, parsed: dict, validate: bool):
    """TF's _add_batched_ragged_partition: each example's partition feature (a row of the ragged `parsed`
    partition, offsets within that example) cuts that example's values into rows; the batch stays the outer
    dimension."""
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ragged import ragged_math_ops
    from graphcompat.ragged.ragged_tensor import RaggedTensor
    from graphcompat.ops.segment_ops import repeat
    if isinstance(partition, RaggedFeature.UniformRowLength):
        if rt.ragged_rank > 1:
            length = convert_to_tensor(partition.length, rt.row_splits.dtype)
            return RaggedTensor.from_row_splits(
                RaggedTensor.from_uniform_row_length(rt.values, length, validate=validate),
                rt.row_splits // length, validate=validate)
        values = array_ops.reshape(rt.values, array_ops.concat(
            [[-1, partition.length], array_ops.shape(rt.values)[1:]], axis=0))
        return RaggedTensor.from_row_splits(values, rt.row_splits // partition.length, validate=validate)
    partition_t = parsed[partition.key]
    if partition_t.values.dtype != rt.row_splits.dtype:
        partition_t = partition_t.with_values(math_ops.cast(partition_t.values, rt.row_splits.dtype))
    if isinstance(partition, (RaggedFeature.RowSplits, RaggedFeature.RowLimits)):
        if isinstance(partition, RaggedFeature.RowSplits):
            partition_t = _drop_first_of_each_row(partition_t)   # TF's partition_t[:, 1:]
        limits = partition_t.values + repeat(rt.row_starts(), partition_t.row_lengths())
        return partition_t.with_values(RaggedTensor.from_row_limits(rt.values, limits, validate=validate))
    if isinstance(partition, RaggedFeature.RowStarts):
        starts = partition_t.values + repeat(rt.row_starts(), partition_t.row_lengths())
        return partition_t.with_values(RaggedTensor.from_row_starts(rt.values, starts, validate=validate))
    if isinstance(partition, RaggedFeature.RowLengths):
        return partition_t.with_values(RaggedTensor.from_row_lengths(rt.values, partition_t.values,
                                                                     validate=validate))
    if isinstance(partition, RaggedFeature.ValueRowIds):
        nrows = math_ops.maximum(ragged_math_ops.reduce_max(partition_t + 1, axis=1), 0)
        rowids = partition_t.values + repeat(math_ops.cumsum(nrows, exclusive=True), partition_t.row_lengths())
        return RaggedTensor.from_row_lengths(RaggedTensor.from_value_rowids(rt.values, rowids, validate=validate),
                                             nrows, validate=validate)
    raise ValueError(f"Unhandled partition type {partition!r}")


def _drop_first_of_each_row(rt):
    """`rt[:, 1:]` of a ragged-rank-1 RaggedTensor: each row without its first value (an empty row stays)."""
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ops.data_dependent_ops import boolean_mask
    from graphcompat.ops.indexing_ops import gather
    from graphcompat.ragged.ragged_tensor import RaggedTensor
    rowids = rt.value_rowids()
    position = math_ops.range(array_ops.shape(rt.values, out_type=rt.row_splits.dtype)[0],
                              dtype=rt.row_splits.dtype) - gather(rt.row_splits, rowids)
    lengths = math_ops.maximum(rt.row_lengths() - 1, 0)
    return RaggedTensor.from_row_lengths(boolean_mask(rt.values, position > 0), lengths, validate=False)


def parse_single_example(serialized, features, name=None, example_names=None) -> dict:
    """`tf.parse_single_example`: one serialized `tf.train.Example` → {key: Tensor | SparseTensor | Tensor of a
    RaggedFeature's values}: TF's ParseExampleV2 over the scalar, in `ParseSingleExample/ParseExample`."""
    from graphcompat.framework import ops as _ops
    if features is None:
        raise ValueError("Invalid argument: features cannot be None.")
    if not features:
        raise ValueError("Invalid argument: features cannot be empty.")
    with _ops.name_scope(name, "ParseSingleExample", [serialized, example_names]):
        serialized = convert_to_tensor(serialized, name="serialized")
        serialized = _assert_scalar(serialized, "serialized")
        return _parse_example_v2(serialized, features, example_names, name)


def decode_json_example(json_examples, name: Optional[str] = None):
    """`tf.io.decode_json_example`: JSON `tf.train.Example`s (protobuf's JSON mapping) -> serialized Examples,
    same shape."""
    return apply_op("DecodeJSONExample", [json_examples], name=name)


def decode_raw(input_bytes=None, out_type=None, little_endian=True, name=None, bytes=None):  # noqa: A002
    """`tf.decode_raw`: each string's bytes reinterpreted as a vector of `out_type`."""
    input_bytes = bytes if input_bytes is None else input_bytes
    t = convert_to_tensor(input_bytes, _dt.string)
    return apply_op("DecodeRaw", [t], {"out_type": _dt.as_dtype(out_type), "little_endian": bool(little_endian)},
                    name=name or "DecodeRaw")


__all__ = ["FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature", "SparseFeature", "RaggedFeature",
           "SparseTensor",
           "SparseTensorValue", "parse_single_example",
           "parse_example", "decode_raw"]


# ------------------------------------------------------------------------------------------------
# SequenceExample: one op type, ParseSequenceExampleV2, for a scalar (single) or a vector (batch)
# ------------------------------------------------------------------------------------------------
_SEQ_SIG = ("serialized: string, debug_name: string, context_sparse_keys: string, context_dense_keys: string, "
            "context_ragged_keys: string, feature_list_sparse_keys: string, feature_list_dense_keys: string, "
            "feature_list_ragged_keys: string, feature_list_dense_missing_assumed_empty: bool, "
            "context_dense_defaults: *Tcontext_dense -> "
            "context_sparse_indices: Ncontext_sparse * int64, context_sparse_values: *context_sparse_types, "
            "context_sparse_shapes: Ncontext_sparse * int64, context_dense_values: *Tcontext_dense, "
            "context_ragged_values: *context_ragged_value_types, "
            "context_ragged_row_splits: *context_ragged_split_types, "
            "feature_list_sparse_indices: Nfeature_list_sparse * int64, "
            "feature_list_sparse_values: *feature_list_sparse_types, "
            "feature_list_sparse_shapes: Nfeature_list_sparse * int64, "
            "feature_list_dense_values: *feature_list_dense_types, "
            "feature_list_dense_lengths: Nfeature_list_dense * int64, "
            "feature_list_ragged_values: *feature_list_ragged_value_types, "
            "feature_list_ragged_outer_splits: *feature_list_ragged_split_types, "
            "feature_list_ragged_inner_splits: *feature_list_ragged_split_types")
_SEQ_ATTRS = {"Ncontext_sparse": 0, "Nfeature_list_sparse": 0, "Nfeature_list_dense": 0,
              "context_sparse_types": [], "context_ragged_value_types": [], "context_ragged_split_types": [],
              "context_dense_shapes": [], "feature_list_dense_types": [], "feature_list_sparse_types": [],
              "feature_list_ragged_value_types": [], "feature_list_ragged_split_types": [],
              "feature_list_dense_shapes": []}


def _sequence_shape(ctx: InferenceContext):
    """TF's shape function: a vector input adds a leading batch dimension to every output."""
    rank = ctx.shape(0).ndims
    if rank is None:
        lead, extra = None, None
    else:
        lead = _ts.TensorShape([ctx.shape(0)[0].value] if rank == 1 else [])
        extra = rank
    a = ctx.attrs

    def sparse(n: int, base: int):
        if extra is None:
            return [_ts.TensorShape([None, None])] * n + [_ts.TensorShape([None])] * n + [_ts.TensorShape([None])] * n
        return ([_ts.TensorShape([None, base + extra])] * n + [_ts.TensorShape([None])] * n
                + [_ts.TensorShape([base + extra])] * n)

    def batched(shape):
        return _ts.TensorShape(None) if lead is None else lead.concatenate(shape)

    n_ctx, n_fl = a["Ncontext_sparse"], a["Nfeature_list_sparse"]
    ctx_sparse = sparse(n_ctx, 1)
    fl_sparse = sparse(n_fl, 2)
    return (ctx_sparse[:2 * n_ctx] + ctx_sparse[2 * n_ctx:]
            + [batched(_ts.as_shape(s)) for s in a["context_dense_shapes"]]
            + fl_sparse[:2 * n_fl] + fl_sparse[2 * n_fl:]
            + [batched(_ts.TensorShape([None]).concatenate(_ts.as_shape(s))) for s in a["feature_list_dense_shapes"]]
            + [batched([])] * a["Nfeature_list_dense"])


defop("ParseSequenceExampleV2", _SEQ_SIG, attrs=_SEQ_ATTRS, shape=_sequence_shape)


class _ParseParams:
    """The op's view of one feature dict (TF's _ParseOpParams.from_features): keys sorted; sparse (VarLen and
    SparseFeature's index/value lists, each key once), dense (FixedLen, FixedLenSequence) and ragged (RaggedFeature's
    values and partition lists) split, with TF's checks and texts."""

    def __init__(self, features: Optional[dict], allowed: tuple):
        self.sparse_keys, self.sparse_types = [], []
        self.dense_keys, self.dense_types, self.dense_shapes, self.dense_defaults = [], [], [], {}
        self.ragged_keys, self.ragged_value_types, self.ragged_split_types = [], [], []
        for key in sorted(features or {}):
            feature = features[key]
            if not isinstance(feature, allowed):
                raise ValueError(f"Unsupported {type(feature).__name__} {feature} for key '{key}'")
            if isinstance(feature, VarLenFeature):
                if not feature.dtype:
                    raise ValueError(f"Missing type for feature {key}. Received feature={feature}")
                self._add_sparse_key(key, feature.dtype)
            elif isinstance(feature, SparseFeature):
                self._add_sparse_feature(key, feature)
            elif isinstance(feature, RaggedFeature):
                self._add_ragged_key(key if feature.value_key is None else feature.value_key, feature.dtype,
                                     feature.row_splits_dtype)
                for partition in feature.partitions:
                    if not isinstance(partition, RaggedFeature.UniformRowLength):
                        self._add_ragged_key(partition.key, _dt.int64, feature.row_splits_dtype)
            else:
                self._add_dense_feature(key, feature)
        dense, sparse, ragged = set(self.dense_keys), set(self.sparse_keys), set(self.ragged_keys)
        if dense & sparse:
            raise ValueError(f"Dense and sparse keys must not intersect; dense_keys: {self.dense_keys}, "
                             f"sparse_keys: {self.sparse_keys}, intersection: {dense & sparse}")
        if dense & ragged:
            # TF builds this ValueError with a tuple of two strings (a stray comma in parsing_config.py)
            raise ValueError("Dense and ragged keys must not intersect; dense_keys: ",
                             f"{self.dense_keys}, ragged_keys: {self.ragged_keys}, intersection: {dense & ragged}")
        if ragged & sparse:
            raise ValueError(f"Ragged and sparse keys must not intersect; ragged_keys: {self.ragged_keys}, "
                             f"sparse_keys: {self.sparse_keys}, intersection: {ragged & sparse}")

    @property
    def num_features(self) -> int:
        return len(self.dense_keys) + len(self.sparse_keys) + len(self.ragged_keys)

    def _add_sparse_key(self, key: str, dtype) -> None:
        # a key read by several features (SparseFeatures sharing an index list) is parsed once
        dtype = _dt.as_dtype(dtype)
        if key in self.sparse_keys:
            original = self.sparse_types[self.sparse_keys.index(key)]
            if original != dtype:
                raise ValueError(f"Conflicting type {original} vs {dtype} for feature {key}.")
            return
        self.sparse_keys.append(key)
        self.sparse_types.append(dtype)

    def _add_sparse_feature(self, key: str, feature: SparseFeature) -> None:
        if not feature.index_key:
            raise ValueError(f"Missing index_key for SparseFeature {feature}.")
        if not feature.value_key:
            raise ValueError(f"Missing value_key for SparseFeature {feature}.")
        if not feature.dtype:
            raise ValueError(f"Missing type for feature {key}. Received feature={feature}.")
        index_keys = [feature.index_key] if isinstance(feature.index_key, str) else feature.index_key
        for index_key in sorted(index_keys):
            self._add_sparse_key(index_key, _dt.int64)
        self._add_sparse_key(feature.value_key, feature.dtype)

    def _add_ragged_key(self, key: str, value_type, split_type) -> None:
        if key in self.ragged_keys:
            at = self.ragged_keys.index(key)
            if self.ragged_value_types[at] != value_type:
                raise ValueError(f"Conflicting type {self.ragged_value_types[at]} vs {value_type} for feature {key}.")
            if self.ragged_split_types[at] != split_type:
                raise ValueError(f"Conflicting partition type {self.ragged_split_types[at]} vs {split_type} for "
                                 f"feature {key}.")
            return
        self.ragged_keys.append(key)
        self.ragged_value_types.append(_dt.as_dtype(value_type))
        self.ragged_split_types.append(_dt.as_dtype(split_type))

    def _add_dense_feature(self, key: str, feature) -> None:
        if not feature.dtype:
            raise ValueError(f"Missing type for feature {key}. Received feature={feature}.")
        if feature.shape is None:
            raise ValueError(f"Missing shape for feature {key}. Received feature={feature}.")
        shape = _ts.as_shape(feature.shape)
        if isinstance(feature, FixedLenFeature):
            if feature.shape and shape.ndims and shape.dims[0].value is None:
                raise ValueError(f"First dimension of shape for feature {key} unknown. Consider using "
                                 f"FixedLenSequenceFeature. Received feature={feature}.")
            if not shape.is_fully_defined():
                raise ValueError(f"All dimensions of shape for feature {key} need to be known but received "
                                 f"{feature.shape!s}.")
        elif feature.allow_missing:  # FixedLenSequenceFeature: allow_missing is recorded as a None default
            self.dense_defaults[key] = None
        if feature.default_value is not None:
            self.dense_defaults[key] = feature.default_value
        self.dense_keys.append(key)
        self.dense_types.append(_dt.as_dtype(feature.dtype))
        self.dense_shapes.append(shape)

    def dense_defaults_vec(self) -> list:
        """TF's _make_dense_default per dense key: a padded (unknown first dimension) feature's scalar default
        (`padding_<key>` reshaped to [], or a 0 / "" Const); a fixed one's `key_<key>` reshaped to its shape, or
        an empty `Const` (the feature is then required)."""
        from graphcompat.framework import ops as _ops
        from graphcompat.ops.array_ops import reshape
        out = []
        for key, shape, dtype in zip(self.dense_keys, self.dense_shapes, self.dense_types):
            value = self.dense_defaults.get(key)
            safe_key = re.sub(r"[^A-Za-z0-9_.\-/]", "_", key)
            if shape.ndims is not None and shape.ndims > 0 and shape.dims[0].value is None:
                if value is None:
                    out.append(convert_to_tensor("" if dtype == _dt.string else 0, dtype=dtype))
                else:
                    value = convert_to_tensor(value, dtype=dtype, name="padding_" + safe_key)
                    # TF converts the [] shape twice (a float32 Const it leaves unused, then int32): so does this
                    out.append(reshape(value, []))
            elif value is None:
                out.append(constant(np.zeros([0], dtype.as_numpy_dtype) if dtype != _dt.string
                                    else np.array([], dtype=object), dtype=dtype))
            elif isinstance(value, _ops.Tensor):
                out.append(value)
            else:
                value = convert_to_tensor(value, dtype=dtype, name="key_" + safe_key)
                out.append(reshape(value, np.asarray(shape.as_list(), np.int32)))
        return out

    dense_default_tensors = dense_defaults_vec


def _parse_sequence_raw(serialized, debug_name, context: _ParseParams, feature_list: _ParseParams,
                        name: Optional[str]) -> tuple:
    from graphcompat.framework import ops as _ops
    if not (context.sparse_keys or context.dense_keys or feature_list.sparse_keys or feature_list.dense_keys):
        raise ValueError("Must provide at least one feature key.")
    with _ops.name_scope(name, "ParseSequenceExample", [serialized]):
        for key, value in feature_list.dense_defaults.items():
            if value is not None:
                raise ValueError(f"Value feature_list.dense_defaults[{key}] must be None")
        serialized = convert_to_tensor(serialized, _dt.string, name="serialized")
        assumed_empty = [key in feature_list.dense_defaults for key in feature_list.dense_keys]
        outs = apply_op("ParseSequenceExampleV2", [
            serialized, [] if debug_name is None else debug_name, context.sparse_keys, context.dense_keys, [],
            feature_list.sparse_keys, feature_list.dense_keys, [], assumed_empty, context.dense_default_tensors()],
            {"Ncontext_sparse": len(context.sparse_keys), "Nfeature_list_sparse": len(feature_list.sparse_keys),
             "Nfeature_list_dense": len(feature_list.dense_keys), "context_sparse_types": context.sparse_types,
             "context_ragged_value_types": [], "context_ragged_split_types": [],
             "context_dense_shapes": context.dense_shapes, "feature_list_dense_types": feature_list.dense_types,
             "feature_list_sparse_types": feature_list.sparse_types, "feature_list_ragged_value_types": [],
             "feature_list_ragged_split_types": [], "feature_list_dense_shapes": feature_list.dense_shapes},
            name=name or "ParseSequenceExampleV2")
        (c_idx, c_val, c_shape, c_dense, _, _, f_idx, f_val, f_shape, f_dense, f_len, _, _, _) = outs
        ctx_out = {k: SparseTensor(i, v, s) for k, i, v, s in zip(context.sparse_keys, c_idx, c_val, c_shape)}
        ctx_out.update(zip(context.dense_keys, c_dense))
        fl_out = {k: SparseTensor(i, v, s) for k, i, v, s in zip(feature_list.sparse_keys, f_idx, f_val, f_shape)}
        fl_out.update(zip(feature_list.dense_keys, f_dense))
        return ctx_out, fl_out, dict(zip(feature_list.dense_keys, f_len))


def parse_single_sequence_example(serialized, context_features=None, sequence_features=None, example_name=None,
                                  name=None) -> tuple:
    """`tf.io.parse_single_sequence_example`: one serialized `tf.train.SequenceExample` → (context dict,
    feature-list dict). TF records one `ParseSequenceExampleV2` over the scalar."""
    from graphcompat.framework import ops as _ops
    if not (context_features or sequence_features):
        raise ValueError("Both context_features and sequence_features are None, but at least one should have "
                         "values.")
    _refuse_ragged_sequence_features(context_features, sequence_features)
    context = _ParseParams(context_features, (VarLenFeature, FixedLenFeature))
    feature_list = _ParseParams(sequence_features, (VarLenFeature, FixedLenSequenceFeature))
    with _ops.name_scope(name, "ParseSingleSequenceExample", [serialized, example_name]):
        with _ops.name_scope(name, "ParseSingleExample", [serialized, example_name]):
            serialized = convert_to_tensor(serialized, _dt.string, name="serialized")
            serialized = _assert_scalar(serialized, "serialized")
        return _parse_sequence_raw(serialized, example_name, context, feature_list, name)[:2]


def parse_sequence_example(serialized, context_features=None, sequence_features=None, example_names=None,
                           name=None) -> tuple:
    """`tf.io.parse_sequence_example`: a vector of serialized SequenceExamples → (context dict, feature-list
    dict, lengths of the dense feature lists), every value with a leading batch dimension."""
    from graphcompat.framework import ops as _ops
    if not (context_features or sequence_features):
        raise ValueError("Both `context_features` and `sequence_features` argument are None, but at least one "
                         "should have values.")
    _refuse_ragged_sequence_features(context_features, sequence_features)
    context = _ParseParams(context_features, (VarLenFeature, FixedLenFeature))
    feature_list = _ParseParams(sequence_features, (VarLenFeature, FixedLenSequenceFeature))
    with _ops.name_scope(name, "ParseSequenceExample", [serialized, example_names]):
        return _parse_sequence_raw(serialized, example_names, context, feature_list, name)


def _refuse_ragged_sequence_features(context_features, sequence_features) -> None:
    for features in (context_features, sequence_features):
        for key in sorted(features or {}):
            if isinstance(features[key], RaggedFeature):
                raise NotImplementedError(f"tf.io.RaggedFeature in tf.io.parse_sequence_example (feature '{key}'): "
                                          "graphcompat parses ragged features of tf.train.Example only")


def _assert_scalar(value, name: str):
    """TF's parsing_ops._assert_scalar: a static check, or a run-time Assert when the rank is unknown."""
    rank = value.shape.ndims
    if rank == 0:
        return value
    if rank is not None:
        raise ValueError(f"Input {name} must be a scalar")
    from graphcompat.ops.array_ops import rank as _rank
    from graphcompat.ops.control_ops import with_dependencies
    from graphcompat.ops.data_dependent_ops import Assert
    from graphcompat.ops.math_ops import equal
    check = Assert(equal(_rank(value), 0), [f"Input {name} must be a scalar"],
                   name=f"{name.capitalize()}IsScalar")
    result = with_dependencies([check], value, name=f"{name}Dependencies")
    result.set_shape([])
    return result


__all__ += ["parse_single_sequence_example", "parse_sequence_example"]
