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

_FEATURE_TYPES = (_dt.float32, _dt.int64, _dt.string)


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


# SparseTensor lives with the sparse family; parse_example builds them.
from graphcompat.ops.sparse_tensor import SparseTensor, SparseTensorValue  # noqa: E402


# ------------------------------------------------------------------------------------------------
# Ops
# ------------------------------------------------------------------------------------------------
def _parse_shape(batched: bool):
    def shape(ctx: InferenceContext):
        lead = [] if not batched else [ctx.shape(0)[0].value if ctx.shape(0).ndims else None]
        n = ctx.attrs["num_sparse"]
        rank = 2 if batched else 1
        return ([_ts.TensorShape([None, rank])] * n + [_ts.TensorShape([None])] * n + [_ts.TensorShape([rank])] * n
                + [_ts.TensorShape(lead).concatenate(s) for s in ctx.attrs["dense_shapes"]])
    return shape


_PARSE_SIG = ("serialized: string, dense_defaults: *Tdense -> sparse_indices: num_sparse * int64, "
              "sparse_values: *sparse_types, sparse_shapes: num_sparse * int64, dense_values: *Tdense")
_PARSE_ATTRS = {"sparse_keys": [], "dense_keys": [], "sparse_types": [], "dense_shapes": [], "num_sparse": 0}
defop("ParseSingleExample", _PARSE_SIG, attrs=_PARSE_ATTRS, shape=_parse_shape(False))
defop("ParseExample", _PARSE_SIG, attrs=_PARSE_ATTRS, shape=_parse_shape(True))


def _decode_raw_shape(ctx: InferenceContext):
    return [ctx.shape(0).concatenate([None])]


defop("DecodeRaw", "bytes: string -> output: out_type", attrs={"little_endian": True}, shape=_decode_raw_shape)
# JSON-encoded tf.train.Example protos -> their binary encoding, element by element (rule: lowering/rules/media.py).
defop("DecodeJSONExample", "json_examples: string -> binary_examples: string", shape=unchanged_shape)


def _parse(op_type: str, serialized, features: dict, name: Optional[str]):
    if not features:
        raise ValueError("Missing: features was {}.")
    sparse_keys, sparse_types, dense_keys, dense_shapes, defaults = [], [], [], [], []

    def add_sparse(key: str, dtype) -> None:
        # TF's _ParseOpParams._add_sparse_key: a key read by several features is parsed once.
        dtype = _dt.as_dtype(dtype)
        if key in sparse_keys:
            original = sparse_types[sparse_keys.index(key)]
            if original != dtype:
                raise ValueError(f"Conflicting type {original} vs {dtype} for feature {key}.")
            return
        sparse_keys.append(key)
        sparse_types.append(dtype)

    for key in sorted(features):
        f = features[key]
        if isinstance(f, VarLenFeature):
            add_sparse(key, f.dtype)
        elif isinstance(f, SparseFeature):
            if not f.index_key:
                raise ValueError(f"Missing index_key for SparseFeature {f}.")
            if not f.value_key:
                raise ValueError(f"Missing value_key for SparseFeature {f}.")
            if not f.dtype:
                raise ValueError(f"Missing type for feature {key}. Received feature={f}.")
            for index_key in ([f.index_key] if isinstance(f.index_key, str) else sorted(f.index_key)):
                add_sparse(index_key, _dt.int64)
            add_sparse(f.value_key, f.dtype)
        elif isinstance(f, FixedLenFeature):
            dtype = _dt.as_dtype(f.dtype)
            if dtype not in _FEATURE_TYPES:
                raise ValueError(f"Unsupported dtype {dtype.name}; expected float32, int64 or string.")
            shape = _ts.as_shape(f.shape)
            dense_keys.append(key)
            dense_shapes.append(shape)
            if f.default_value is None:
                defaults.append(constant(np.zeros([0], dtype.as_numpy_dtype) if dtype != _dt.string
                                         else np.array([], dtype=object), dtype=dtype,
                                         name=f"key_{key}" if _valid(key) else "Const"))
            else:
                default = np.broadcast_to(np.asarray(f.default_value, dtype=dtype.as_numpy_dtype
                                                     if dtype != _dt.string else object), shape.as_list())
                defaults.append(constant(default, dtype=dtype, name=f"key_{key}" if _valid(key) else "Const"))
        elif isinstance(f, FixedLenSequenceFeature):
            # TF records the rows dimension as unknown; the op pads each example to the batch's longest
            # with a scalar default (0 / "" when none is given), as _ParseOpParams._make_dense_default.
            dtype = _dt.as_dtype(f.dtype)
            dense_keys.append(key)
            dense_shapes.append(_ts.TensorShape([None]).concatenate(_ts.as_shape(f.shape)))
            defaults.append(_padding_default(key, dtype, f.default_value))
        else:
            raise ValueError(f"Unsupported feature type {type(f).__name__} for key {key!r}.")
    outs = apply_op(op_type, [serialized, defaults],
                    {"sparse_keys": sparse_keys, "dense_keys": dense_keys, "sparse_types": sparse_types,
                     "dense_shapes": dense_shapes, "num_sparse": len(sparse_keys)}, name=name or op_type)
    indices, values, shapes, dense = outs
    result = {k: SparseTensor(i, v, s) for k, i, v, s in zip(sparse_keys, indices, values, shapes)}
    result.update(zip(dense_keys, dense))
    return _merge_sparse_features(features, result)


def _merge_sparse_features(features: dict, parsed: dict) -> dict:
    """TF's _construct_tensors_for_composite_features: each SparseFeature becomes `sparse_merge` of its index
    and value lists; keys parsed only for them are dropped."""
    from graphcompat.ops.sparse_ops import sparse_merge
    updates = {}
    for key in sorted(features):
        f = features[key]
        if isinstance(f, SparseFeature):
            ids = parsed[f.index_key] if isinstance(f.index_key, str) else [parsed[k] for k in f.index_key]
            updates[key] = sparse_merge(ids, parsed[f.value_key], vocab_size=f.size, already_sorted=f.already_sorted)
    parsed = dict(parsed)
    parsed.update(updates)
    return {k: v for k, v in parsed.items() if k in features}


def _padding_default(key: str, dtype, default_value):
    if default_value is None:
        return convert_to_tensor("" if dtype == _dt.string else 0, dtype=dtype)
    from graphcompat.ops.array_ops import reshape
    value = convert_to_tensor(default_value, dtype=dtype, name="padding_" + re.sub(r"[^A-Za-z0-9_.\-/]", "_", key))
    return reshape(value, np.zeros([0], np.int32))  # a [] list would be recorded as two Consts


def _require_allow_missing(features: dict) -> None:
    # TF's _prepend_none_dimension: an Example has no feature lists, so a sequence feature there is only
    # meaningful as a padded flat list.
    for f in features.values():
        if isinstance(f, FixedLenSequenceFeature) and not f.allow_missing:
            raise ValueError("Unsupported: FixedLenSequenceFeature requires allow_missing to be True.")


def _valid(key: str) -> bool:
    return key.replace("_", "a").isalnum()


def parse_single_example(serialized, features, name=None, example_names=None) -> dict:
    """`tf.parse_single_example`: one serialized `tf.train.Example` → {key: Tensor | SparseTensor}."""
    _require_allow_missing(features or {})
    serialized = convert_to_tensor(serialized, _dt.string, name="serialized")
    if serialized.shape.ndims not in (None, 0):
        raise ValueError(f"Input serialized must be a scalar: got shape {serialized.shape}")
    return _parse("ParseSingleExample", serialized, features, name)


def parse_example(serialized, features, name=None, example_names=None) -> dict:
    """`tf.parse_example`: a vector of serialized Examples → batched {key: Tensor | SparseTensor}."""
    _require_allow_missing(features or {})
    serialized = convert_to_tensor(serialized, _dt.string, name="serialized")
    if serialized.shape.ndims not in (None, 1):
        raise ValueError(f"Input serialized must be a vector: got shape {serialized.shape}")
    return _parse("ParseExample", serialized, features, name)


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


__all__ = ["FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature", "SparseFeature", "SparseTensor",
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
    """The op's view of one feature dict (TF's _ParseOpParams): keys sorted, sparse and dense split."""

    def __init__(self, features: Optional[dict], allowed: tuple):
        self.sparse_keys, self.sparse_types = [], []
        self.dense_keys, self.dense_types, self.dense_shapes, self.dense_defaults = [], [], [], {}
        for key in sorted(features or {}):
            feature = features[key]
            if not isinstance(feature, allowed):
                raise ValueError(f"Unsupported {type(feature).__name__} {feature} for key '{key}'")
            if not feature.dtype:
                raise ValueError(f"Missing type for feature {key}. Received feature={feature}"
                                 + ("" if isinstance(feature, VarLenFeature) else "."))
            dtype = _dt.as_dtype(feature.dtype)
            if isinstance(feature, VarLenFeature):
                self.sparse_keys.append(key)
                self.sparse_types.append(dtype)
                continue
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
            else:  # FixedLenSequenceFeature: allow_missing is recorded as a None default
                if feature.allow_missing:
                    self.dense_defaults[key] = None
            if feature.default_value is not None:
                self.dense_defaults[key] = feature.default_value
            self.dense_keys.append(key)
            self.dense_types.append(dtype)
            self.dense_shapes.append(shape)
        overlap = set(self.dense_keys) & set(self.sparse_keys)
        if overlap:
            raise ValueError(f"Dense and sparse keys must not intersect; dense_keys: {self.dense_keys}, "
                             f"sparse_keys: {self.sparse_keys}, intersection: {overlap}")

    def dense_default_tensors(self) -> list:
        """Context defaults as TF makes them: `key_<key>` reshaped to the shape, or an empty `Const`."""
        from graphcompat.ops.array_ops import reshape
        out = []
        for key, shape, dtype in zip(self.dense_keys, self.dense_shapes, self.dense_types):
            value = self.dense_defaults.get(key)
            if value is None:
                out.append(constant(np.zeros([0], dtype.as_numpy_dtype) if dtype != _dt.string
                                    else np.array([], dtype=object), dtype=dtype))
            else:
                value = convert_to_tensor(value, dtype=dtype, name="key_" + re.sub(r"[^A-Za-z0-9_.\-/]", "_", key))
                out.append(reshape(value, np.asarray(shape.as_list(), np.int32)))
        return out


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
    context = _ParseParams(context_features, (VarLenFeature, FixedLenFeature))
    feature_list = _ParseParams(sequence_features, (VarLenFeature, FixedLenSequenceFeature))
    with _ops.name_scope(name, "ParseSequenceExample", [serialized, example_names]):
        return _parse_sequence_raw(serialized, example_names, context, feature_list, name)


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
