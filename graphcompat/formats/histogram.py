"""TensorFlow's summary histogram (tsl/lib/histogram/histogram.cc, ``EncodeToProto(.., false)``).

Bucket limits are ``-DBL_MAX, ..., -1e-12, 0, 1e-12, 1e-12*1.1, ..., DBL_MAX`` (growing by 10% up to
1e20); a value lands in bucket ``upper_bound(limits, v)``. Runs of empty buckets collapse into one
entry carrying the run's last limit.
"""

from __future__ import annotations

import sys

import numpy as np

from .errors import invalid_argument

DBL_MAX = sys.float_info.max
_SUM_CHUNK = 1 << 20


def _default_limits() -> np.ndarray:
    positive = []
    v = 1.0e-12
    while v < 1.0e20:  # repeated multiplication, as TF does, so the limits match bit for bit
        positive.append(v)
        v *= 1.1
    positive.append(DBL_MAX)
    return np.array([-x for x in reversed(positive)] + [0.0] + positive)


BUCKET_LIMITS = _default_limits()


def _sequential_sum(values: np.ndarray) -> float:
    # TF adds values one by one in a double; numpy's sum is pairwise and rounds differently.
    # cumsum is strictly sequential, so its last element is TF's sum (chunked to bound memory).
    total = 0.0
    for start in range(0, values.size, _SUM_CHUNK):
        chunk = values[start:start + _SUM_CHUNK]
        total = float(np.cumsum(np.concatenate(([total], chunk)))[-1])
    return total


def make_histogram(values, name: str = ""):
    """A ``tensorboard.compat.proto.summary_pb2.HistogramProto`` equal to TF's for ``values``.

    Raises InvalidArgumentError (TF's message) if any value is NaN or infinite.
    """
    from tensorboard.compat.proto.summary_pb2 import HistogramProto

    flat = np.asarray(values).astype(np.float64).reshape(-1)
    if not np.isfinite(flat).all():
        raise invalid_argument(f"Nan in summary histogram for: {name}")
    proto = HistogramProto()
    if flat.size == 0:
        # TF's empty histogram: min is the last limit, max its negation.
        proto.min, proto.max = DBL_MAX, -DBL_MAX
    else:
        proto.min, proto.max = float(flat.min()), float(flat.max())
    proto.num = float(flat.size)
    with np.errstate(over="ignore"):  # huge values overflow to inf, as in TF's double arithmetic
        proto.sum = _sequential_sum(flat)
        proto.sum_squares = _sequential_sum(flat * flat)
    index = np.minimum(np.searchsorted(BUCKET_LIMITS, flat, side="right"), BUCKET_LIMITS.size - 1)
    counts = np.bincount(index, minlength=BUCKET_LIMITS.size).astype(np.float64)
    # Keep every non-empty bucket, and the last bucket of each run of empty ones.
    nonempty = counts > 0
    keep = nonempty | np.append(nonempty[1:], True)
    proto.bucket_limit.extend(BUCKET_LIMITS[keep].tolist())
    proto.bucket.extend(counts[keep].tolist())
    return proto
