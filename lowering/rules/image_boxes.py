"""Lowering of `SampleDistortedBoundingBoxV2` (graphcompat/image_boxes.py), TF's bits.

TF's kernel (sample_distorted_bounding_box_op.cc) tries up to `max_attempts` crops one after another on a
SimplePhilox stream: an aspect ratio (RandFloat), a height between the smallest and largest that fit the area
range (rounded as lrintf does, then Uniform), a position (Uniform); the first crop whose area is at least
1 pixel and that covers `min_object_covered` of some box wins, else the whole image. This is that loop on the
host, in the kernel's float32 / double arithmetic, on the op's Philox stream (it reserves 4 * max_attempts
samples a run) or, for StatelessSampleDistortedBoundingBox, on the generator its seed makes.
"""
from __future__ import annotations

import numpy as np

from graphcompat.framework import errors
from lowering import philox_sampling
from lowering.registry import lowers
from lowering.rules.checks import shape_str

_F32 = np.float32


def _lrintf(x) -> int:
    return int(np.rint(_F32(x)))  # the default rounding mode: halves to even


def _area(rect) -> _F32:
    return _F32((rect[2] - rect[0]) * (rect[3] - rect[1]))


def _covers(crop, min_covered: _F32, boxes: list) -> bool:
    """SatisfiesOverlapConstraints: a crop of at least one pixel covering enough of a box of at least one."""
    if _area(crop) < _F32(1.0):
        return False
    for box in boxes:
        box_area = _area(box)
        if box_area < _F32(1.0):
            continue
        lo_x, lo_y = max(crop[0], box[0]), max(crop[1], box[1])
        hi_x, hi_y = min(crop[2], box[2]), min(crop[3], box[3])
        inter = (lo_x, lo_y, hi_x, hi_y) if lo_x <= hi_x and lo_y <= hi_y else (0, 0, 0, 0)
        if _F32(_area(inter) / box_area) >= min_covered:
            return True
    return False


def _random_crop(width: int, height: int, min_frac: _F32, max_frac: _F32, ratio: _F32, stream):
    """GenerateRandomCrop: (x_min, y_min, x_max, y_max) or None."""
    if max_frac <= 0 or ratio <= 0 or width <= 0 or height <= 0 or min_frac > max_frac:
        return None
    min_area = _F32(_F32(min_frac * _F32(width)) * _F32(height))
    max_area = _F32(_F32(max_frac * _F32(width)) * _F32(height))
    crop_h = _lrintf(np.sqrt(_F32(min_area / ratio), dtype=_F32))
    max_h = _lrintf(np.sqrt(_F32(max_area / ratio), dtype=_F32))
    if _lrintf(_F32(max_h) * ratio) > width:
        max_h = int((width + 0.5 - float(_F32(0.0000001))) / float(ratio))  # in double, as the kernel
        if _lrintf(_F32(max_h) * ratio) > width:
            max_h -= 1
    max_h = min(max_h, height)
    crop_h = min(crop_h, max_h)
    if crop_h < max_h:
        crop_h += stream.uniform(max_h - crop_h + 1)
    crop_w = _lrintf(_F32(crop_h) * ratio)
    area = _F32(crop_w * crop_h)
    if area < min_area:
        crop_h += 1
        crop_w = _lrintf(_F32(crop_h) * ratio)
        area = _F32(crop_w * crop_h)
    if area > max_area:
        crop_h -= 1
        crop_w = _lrintf(_F32(crop_h) * ratio)
        area = _F32(crop_w * crop_h)
    if area < min_area or area > max_area or crop_w > width or crop_h > height or crop_w <= 0 or crop_h <= 0:
        return None
    y = stream.uniform(height - crop_h) if crop_h < height else 0
    x = stream.uniform(width - crop_w) if crop_w < width else 0
    return (x, y, x + crop_w, y + crop_h)


def sample_box(op, image_size, boxes, min_object_covered, stream):
    """SampleDistortedBoundingBoxBaseOp::DoCompute: its checks, then the attempts on `stream` (a
    philox_sampling.WordStream)."""
    attrs = op.attrs
    out_dtype = np.dtype(attrs["T"].as_numpy_dtype)
    image_size, boxes = np.asarray(image_size), np.asarray(boxes, np.float32)
    if image_size.ndim != 1:
        raise errors.InvalidArgumentError(None, op, f"image_size must be 1-dimensional{shape_str(image_size.shape)}")
    if image_size.shape[0] != 3:
        raise errors.InvalidArgumentError(None, op, f"image_size must contain 3 elements{shape_str(image_size.shape)}")
    height, width = int(image_size[0]), int(image_size[1])
    if boxes.ndim != 3:
        raise errors.InvalidArgumentError(
            None, op, f"input boxes must be 3-dimensional [batch, num_boxes, coords]: {shape_str(boxes.shape)}")
    if boxes.shape[-1] != 4:
        raise errors.InvalidArgumentError(
            None, op, f"bounding boxes must have shape [4] or [*, 4], got {shape_str(boxes.shape)}")
    if np.ndim(min_object_covered) != 0:
        raise errors.InvalidArgumentError(None, op, "min_object_covered must be 0-D, got shape "
                                          f"{shape_str(np.shape(min_object_covered))}")
    min_covered = _F32(min_object_covered)
    if min_covered < 0:
        raise errors.InvalidArgumentError(None, op, f"Min object covered must be non-negative: {float(min_covered):g}")
    rects = []
    for box in boxes.reshape(-1, 4):
        for v in box:
            if not 0.0 <= v <= 1.0:
                raise errors.InvalidArgumentError(
                    None, op, f"All bounding box coordinates must be in [0.0, 1.0]: {float(v):g}")
        rects.append((int(box[1] * _F32(width)), int(box[0] * _F32(height)), int(box[3] * _F32(width)),
                      int(box[2] * _F32(height))))
    image_rect = (0, 0, width, height)
    if not rects:
        if not attrs["use_image_if_no_bounding_boxes"]:
            raise errors.InvalidArgumentError(
                None, op, "No bounding boxes provided as input. One must enable use_image_if_no_bounding_boxes "
                "if you wish to not provide any bounding boxes.")
        rects.append(image_rect)
    min_frac, max_frac = (_F32(v) for v in attrs["area_range"])
    min_ratio, max_ratio = (_F32(v) for v in attrs["aspect_ratio_range"])
    crop = None
    for _ in range(int(attrs["max_attempts"])):
        ratio = _F32(_F32(_F32(stream.rand_float()) * _F32(max_ratio - min_ratio)) + min_ratio)
        candidate = _random_crop(width, height, min_frac, max_frac, ratio, stream)
        if candidate is not None and _covers(candidate, min_covered, rects):
            crop = candidate
            break
    x0, y0, x1, y1 = crop if crop is not None else image_rect
    begin = np.array([y0, x0, 0], np.int64).astype(out_dtype)
    size = np.array([y1 - y0, x1 - x0, -1], np.int64).astype(out_dtype)  # T(-1): 255 for uint8, as C++
    bbox = np.array([_F32(y0) / _F32(height), _F32(x0) / _F32(width), _F32(y1) / _F32(height),
                     _F32(x1) / _F32(width)], np.float32).reshape(1, 1, 4)
    return begin, size, bbox


@lowers("SampleDistortedBoundingBoxV2", context=True, host=True)
def sample_distorted_bounding_box(ctx, op, image_size, boxes, min_object_covered, key=None):
    """The op's Philox stream: each run reserves 4 * max_attempts samples (max_attempts calls); `key`: a
    (key, counter) pair instead (StatelessSampleDistortedBoundingBox's, from its seed)."""
    if key is None:
        key = ctx.philox_stream(op, int(op.attrs["max_attempts"]))
    stream = philox_sampling.WordStream(*key)
    return sample_box(op, image_size, boxes, min_object_covered, stream)
