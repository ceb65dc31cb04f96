"""Lowerings of SparseCross / SparseCrossV2 (graphcompat/ops/sparse_cross_ops.py), on the host.

TF's sparse_cross_op.cc: the columns are the sparse inputs, then the dense ones; row b of a sparse column
holds its values whose index starts with b (in order), row b of a dense column its whole row; the crosses
of a row run through the cartesian product with the last column varying fastest. A string cross joins the
features (int64 ones printed in decimal); a hashed cross chains FingerprintCat64 from `hash_key` over each
feature's Fingerprint64 (strings) or value (int64), then takes it modulo `num_buckets` (or INT64_MAX).
"""
from __future__ import annotations

import itertools

import numpy as np

from graphcompat.framework import errors
from lowering.hashing import fingerprint64
from lowering.registry import lowers

_MASK = (1 << 64) - 1
_K_MUL = 0xC6A4A7935BD1E995
_INT64_MAX = (1 << 63) - 1


def _shift_mix(v: int) -> int:
    return v ^ (v >> 47)


def fingerprint_cat64(fp1: int, fp2: int) -> int:
    """TF's FingerprintCat64 on uint64 values."""
    result = fp1 ^ _K_MUL
    result ^= (_shift_mix((fp2 * _K_MUL) & _MASK) * _K_MUL) & _MASK
    result = (result * _K_MUL) & _MASK
    result = (_shift_mix(result) * _K_MUL) & _MASK
    return _shift_mix(result)


def _as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _columns(n: int, inputs: tuple):
    """Per column, a function batch -> its list of features (bytes or int)."""
    indices, values, shapes, dense = inputs[:n], inputs[n:2 * n], inputs[2 * n:3 * n], inputs[3 * n:]
    columns = []
    for idx, vals in zip(indices, values):
        idx, vals = np.asarray(idx).reshape(-1, 2) if np.size(idx) else np.zeros((0, 2), np.int64), np.asarray(vals)
        if idx.ndim != 2:
            raise errors.InvalidArgumentError(None, None, "Input indices should be a matrix")
        columns.append(lambda b, idx=idx, vals=vals: [v for r, v in zip(idx[:, 0], vals.reshape(-1)) if r == b])
    for d in dense:
        d = np.asarray(d)
        if d.ndim != 2:
            raise errors.InvalidArgumentError(None, None, f"Dense inputs should be a matrix but received shape: "
                                              f"[{','.join(str(s) for s in d.shape)}]")
        columns.append(lambda b, d=d: list(d[b]))
    batch = int(np.asarray(shapes[0]).reshape(-1)[0]) if n else (np.asarray(dense[0]).shape[0] if dense else 0)
    return columns, batch


def _cross(columns, batch: int, make):
    rows, out = [], []
    width = 0
    for b in range(batch):
        features = [column(b) for column in columns]
        count = 0
        for combo in itertools.product(*features):
            rows.append([b, count])
            out.append(make(combo))
            count += 1
        width = max(width, count)
    return np.array(rows, np.int64).reshape(-1, 2), out, np.array([batch, width], np.int64)


@lowers("SparseCrossV2", context=True, host=True)
def sparse_cross_v2(ctx, op, *inputs):
    columns, batch = _columns(op.attrs["N"], inputs[:-1])
    sep = _as_bytes(np.asarray(inputs[-1]).reshape(-1)[0])
    indices, values, shape = _cross(columns, batch, lambda combo: sep.join(_as_bytes(f) for f in combo))
    return indices, np.array(values, dtype=object).reshape(-1), shape


@lowers("SparseCross", context=True, host=True)
def sparse_cross(ctx, op, *inputs):
    attrs = op.attrs
    columns, batch = _columns(attrs["N"], inputs)
    if not attrs.get("hashed_output"):
        indices, values, shape = _cross(columns, batch, lambda combo: b"_X_".join(_as_bytes(f) for f in combo))
        return indices, np.array(values, dtype=object).reshape(-1), shape
    key, buckets = int(attrs.get("hash_key", 0)) & _MASK, int(attrs.get("num_buckets", 0))

    def feature_hash(f) -> int:
        return fingerprint64(f) if isinstance(f, bytes) else int(f) & _MASK

    def make(combo) -> int:
        h = key
        for f in combo:
            h = fingerprint_cat64(h, feature_hash(f))
        return h % buckets if buckets > 0 else h % _INT64_MAX
    indices, values, shape = _cross(columns, batch, make)
    return indices, np.array(values, np.int64).reshape(-1), shape


@lowers("SparseCrossHashed", context=True, host=True)
def sparse_cross_hashed(ctx, op, *inputs):
    """TF's SparseCrossHashedOp (HashCrosserV2 over keyed columns): a sparse int64 feature hashes as the
    Fingerprint64 of its first 4 bytes (TF hashes `sizeof(dtype())` bytes of it), a dense one is its value,
    a string its Fingerprint64; the chain starts at the first feature's hash."""
    n = op.attrs["N"]
    num_buckets, strong_hash = int(np.asarray(inputs[-3])), bool(np.asarray(inputs[-2]))
    if strong_hash:
        raise NotImplementedError("SparseCrossHashed with strong_hash=True (SipHash keyed by salt) is not "
                                  "implemented by graphcompat")
    columns, batch = _columns(n, inputs[:-3])

    def feature_hash(f, sparse: bool) -> int:
        if isinstance(f, bytes):
            return fingerprint64(f)
        if sparse:
            return fingerprint64(int(f).to_bytes(8, "little", signed=True)[:4])
        return int(f) & _MASK

    def make(combo) -> int:
        h = feature_hash(combo[0], n > 0)
        for i, f in enumerate(combo[1:], start=1):
            h = fingerprint_cat64(h, feature_hash(f, i < n))
        return h % num_buckets if num_buckets > 0 else h % _INT64_MAX
    indices, values, shape = _cross(columns, batch, make)
    return indices, np.array(values, np.int64).reshape(-1), shape
