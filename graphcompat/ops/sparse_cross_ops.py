"""`tf.sparse.cross` and `tf.sparse.cross_hashed`: per batch row, the cartesian product of the features of
several sparse and dense inputs, as TF's Python records it: SparseCrossV2 (joined strings) for `cross`,
SparseCross with `hashed_output=True` (TF's FingerprintCat64 chain over Fingerprint64 of strings and the
int64 values themselves) for `cross_hashed`. Lowerings (host): lowering/rules/sparse_cross.py.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import apply_op, defop
from graphcompat.ops.sparse_tensor import SparseTensor

_FEATURE_TYPES = (_dt.int64, _dt.string)
# TF's `_DEFAULT_HASH_KEY` for cross_hashed
DEFAULT_HASH_KEY = 0xDECAFCAFFE


def _cross_shape(ctx):
    return [_ts.TensorShape([None, 2]), _ts.TensorShape([None]), _ts.TensorShape([2])]


_CROSS_INPUTS = "indices: N * int64, values: *sparse_types, shapes: N * int64, dense_inputs: *dense_types"
defop("SparseCross", f"{_CROSS_INPUTS} -> output_indices: int64, output_values: out_type, output_shape: int64",
      attrs={"hashed_output": False, "num_buckets": 0, "hash_key": 0},
      types={"sparse_types": _FEATURE_TYPES, "dense_types": _FEATURE_TYPES, "out_type": _FEATURE_TYPES,
             "internal_type": _FEATURE_TYPES}, shape=_cross_shape)
defop("SparseCrossV2", f"{_CROSS_INPUTS}, sep: string -> output_indices: int64, output_values: string, "
      "output_shape: int64", types={"sparse_types": _FEATURE_TYPES, "dense_types": _FEATURE_TYPES},
      shape=_cross_shape)

# tf.sparse.cross_hashed's TF 2 kernel (Keras' preprocessing layers record it): keyed column hashes chained
# from the first feature; `strong_hash` (SipHash keyed by `salt`) is not implemented by the lowering.
defop("SparseCrossHashed", f"{_CROSS_INPUTS}, num_buckets: int64, strong_hash: bool, salt: int64 -> "
      "output_indices: int64, output_values: int64, output_shape: int64",
      types={"sparse_types": _FEATURE_TYPES, "dense_types": _FEATURE_TYPES}, shape=_cross_shape)


def _split_inputs(inputs, what: str):
    """TF's _sparse_cross_internal(_v2): sparse inputs' parts and dense inputs, non-strings cast to int64.
    Returns (indices, values, shapes, dense, saw_int64)."""
    from graphcompat.ops import math_ops
    if not isinstance(inputs, (tuple, list)):
        raise TypeError("Inputs must be a list")
    if not all(isinstance(i, (SparseTensor, _ops.Tensor)) for i in inputs):
        raise TypeError(what)
    sparse = [i for i in inputs if isinstance(i, SparseTensor)]
    dense = [i for i in inputs if not isinstance(i, SparseTensor)]
    values = [sp.values for sp in sparse]
    saw_int64 = False
    for group in (values, dense):
        for k, t in enumerate(group):
            if t.dtype.base_dtype != _dt.string:
                group[k] = math_ops.cast(t, _dt.int64)
                saw_int64 = True
    return [sp.indices for sp in sparse], values, [sp.dense_shape for sp in sparse], dense, saw_int64


def _attrs(indices, values, dense) -> dict:
    return {"N": len(indices), "sparse_types": [v.dtype.base_dtype for v in values],
            "dense_types": [d.dtype.base_dtype for d in dense]}


def sparse_cross(inputs, name: Optional[str] = None, separator: Optional[str] = None) -> SparseTensor:
    """`tf.sparse.cross`: the crosses of each row's features, joined by `separator` ("_X_")."""
    if separator is None:
        separator = "_X_"
    separator = convert_to_tensor(separator, _dt.string)
    indices, values, shapes, dense, _ = _split_inputs(inputs, "All inputs must be Tensor or SparseTensor.")
    out = apply_op("SparseCrossV2", [indices, values, shapes, dense, separator], _attrs(indices, values, dense),
                   name=name)
    return SparseTensor(*out)


def sparse_cross_hashed(inputs, num_buckets: int = 0, hash_key: Optional[int] = None,
                        name: Optional[str] = None) -> SparseTensor:
    """`tf.sparse.cross_hashed`: the crosses of each row's features as int64 hashes (mod `num_buckets`)."""
    indices, values, shapes, dense, saw_int64 = _split_inputs(inputs, "All inputs must be SparseTensors")
    attrs = dict(_attrs(indices, values, dense), hashed_output=True, num_buckets=num_buckets,
                 hash_key=hash_key or DEFAULT_HASH_KEY, out_type=_dt.int64,
                 internal_type=_dt.int64 if saw_int64 else _dt.string)
    out = apply_op("SparseCross", [indices, values, shapes, dense], attrs, name=name)
    return SparseTensor(*out)
