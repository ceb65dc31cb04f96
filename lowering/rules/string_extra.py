"""Host lowerings of graphcompat/ops/string_extra_ops.py: UnsortedSegmentJoin, DecodeCompressed."""
from __future__ import annotations

import gzip
import zlib

import numpy as np

from graphcompat.framework import errors
from lowering.registry import lowers


def _b(v) -> bytes:
    return v if isinstance(v, bytes) else str(v).encode()


@lowers("UnsortedSegmentJoin", host=True)
def unsorted_segment_join(inputs, segment_ids, num_segments, *, separator="", **_):
    data = np.asarray(inputs, dtype=object)
    ids = np.asarray(segment_ids)
    n = int(np.asarray(num_segments))
    if data.shape[:ids.ndim] != ids.shape:
        raise errors.InvalidArgumentError(None, None, "segment_ids.shape = [" + ",".join(map(str, ids.shape))
                                          + "] is not a prefix of input.shape = ["
                                          + ",".join(map(str, data.shape)) + "]")
    if n < 0:
        raise errors.InvalidArgumentError(None, None, f"Number of segments cannot be negative, got {n}")
    inner = data.shape[ids.ndim:]
    parts = [[[] for _ in range(int(np.prod(inner, dtype=np.int64)))] for _ in range(n)]
    flat = data.reshape((-1,) + inner).reshape(ids.size, -1)
    for row, seg in zip(flat, ids.reshape(-1)):
        seg = int(seg)
        if seg >= n or seg < 0:
            raise errors.InvalidArgumentError(None, None, "segment_ids are not allowed to exceed num_segments or to "
                                              "have negative values.")
        for k, v in enumerate(row):
            parts[seg][k].append(_b(v))
    sep = _b(separator)
    out = np.empty((n, int(np.prod(inner, dtype=np.int64))), dtype=object)
    for s in range(n):
        for k in range(out.shape[1]):
            out[s, k] = sep.join(parts[s][k])
    return out.reshape((n,) + inner)


@lowers("DecodeCompressed", host=True)
def decode_compressed(data, *, compression_type="", **_):
    arr = np.asarray(data, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    for idx, v in np.ndenumerate(arr):
        v = _b(v)
        try:
            if compression_type == "ZLIB":
                out[idx] = zlib.decompress(v)
            elif compression_type == "GZIP":
                out[idx] = gzip.decompress(v)
            else:
                out[idx] = v
        except (zlib.error, OSError, EOFError) as e:
            # TF reads through zlib's inflate(): its errors are DataLoss "inflate() failed with error -3: …"
            code = -3 if "header" in str(e) or "invalid" in str(e) else -5
            raise errors.DataLossError(None, None, f"inflate() failed with error {code}: "
                                       f"{str(e).split(': ', 1)[-1]}") from None
    return out
