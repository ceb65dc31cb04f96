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
from graphcompat.framework.registry import InferenceContext, apply_op, defop

_FEATURE_TYPES = (_dt.float32, _dt.int64, _dt.string)


class FixedLenFeature(collections.namedtuple("FixedLenFeature", ["shape", "dtype", "default_value"])):
    """A dense feature of fixed shape (`tf.FixedLenFeature`)."""

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A variable-length feature, parsed into a SparseTensor (`tf.VarLenFeature`)."""


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


def _parse(op_type: str, serialized, features: dict, name: Optional[str]):
    if not features:
        raise ValueError("Missing: features was {}.")
    sparse_keys, sparse_types, dense_keys, dense_shapes, defaults = [], [], [], [], []
    for key in sorted(features):
        f = features[key]
        if isinstance(f, VarLenFeature):
            sparse_keys.append(key)
            sparse_types.append(_dt.as_dtype(f.dtype))
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
    return result


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


def decode_raw(input_bytes=None, out_type=None, little_endian=True, name=None, bytes=None):  # noqa: A002
    """`tf.decode_raw`: each string's bytes reinterpreted as a vector of `out_type`."""
    input_bytes = bytes if input_bytes is None else input_bytes
    t = convert_to_tensor(input_bytes, _dt.string)
    return apply_op("DecodeRaw", [t], {"out_type": _dt.as_dtype(out_type), "little_endian": bool(little_endian)},
                    name=name or "DecodeRaw")


__all__ = ["FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature", "SparseTensor", "SparseTensorValue", "parse_single_example",
           "parse_example", "decode_raw"]
