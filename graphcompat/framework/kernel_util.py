"""Small pieces of TF's kernel semantics that an op's shape function (front end) and its lowering rule
(back end) both need, kept here so that `lowering/` imports only `graphcompat.framework`.

Each says which part of TensorFlow it mirrors; the op families' modules import them from here.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt


def next_power_of_two(n: int) -> int:
    """TF's `NextPowerOfTwo` (core/lib/core/bits.h): the smallest power of two >= n (n itself when it is one)."""
    return 1 if n <= 1 else 1 << (int(n) - 1).bit_length()


def spectrogram_length(samples: int, window_size: int, stride: int) -> int:
    """How many windows of `window_size` samples, `stride` apart, fit in `samples` (AudioSpectrogram's
    output height)."""
    return 0 if samples < window_size else 1 + (samples - window_size) // stride


def pooled_size(size: int, ratio: float) -> int:
    """FractionalMaxPool/AvgPool's output size: floor(size / ratio) with the ratio a float32 attr, divided
    in float32 (as TF's kernel)."""
    return int(np.floor(np.float32(size) / np.float32(ratio)))


def parse_shape_and_slice(spec: str):
    """A checkpoint slice spec (TF's TensorSlice::ParseShapeAndSlice): "10 5 0,5:-" → ([10, 5],
    [(0, 5), (0, 5)]), the full shape and (start, length) per dim."""
    parts = spec.strip().split(" ")
    full = [int(d) for d in parts[:-1]]
    extents = parts[-1].split(":")
    if len(extents) != len(full):
        raise ValueError(f"Invalid shape_and_slice spec {spec!r}: rank of slice does not match shape")
    slices = []
    for dim, extent in zip(full, extents):
        if extent == "-":
            slices.append((0, dim))
        else:
            start, length = (int(x) for x in extent.split(","))
            slices.append((start, length))
    return full, slices


def canonical_encoding(name: str) -> Optional[str]:
    """The encoding graphcompat implements that ICU would open for `name` (ICU compares converter names
    ignoring case and '-', '_', ' '), or None."""
    key = "".join(ch for ch in name.lower() if ch not in "-_ ")
    return {"utf8": "UTF-8", "utf16be": "UTF-16-BE", "utf32be": "UTF-32-BE"}.get(key)


# ConditionalAccumulator: TF's OpDefs allow every number type; its CPU kernels exist for these (checked when
# the op runs)
ACCUMULATOR_KERNEL_TYPES = (_dt.float16, _dt.float32, _dt.float64)
