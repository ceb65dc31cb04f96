"""Lowering of SampleDistortedBoundingBoxV2 (graphcompat/ops/image_sample_ops.py): TF's crop search
(image/sample_distorted_bounding_box_op.cc) on the host with the op's seeded generator."""
from __future__ import annotations

import math

import numpy as np

from graphcompat.framework import errors
from lowering.registry import lowers


def _random_crop(rng, height: int, width: int, aspect: float, area_range) -> tuple:
    """TF's GenerateRandomCrop: a crop of the given aspect ratio whose area is within area_range (or None)."""
    min_area, max_area = area_range[0] * height * width, area_range[1] * height * width
    min_h = int(round(math.sqrt(min_area / aspect)))
    max_h = int(round(math.sqrt(max_area / aspect)))
    if round(max_h * aspect) > width:
        max_h = int((width + 0.5 - 1e-7) / aspect)
    max_h = min(max_h, height)
    min_h = min(min_h, max_h)
    h = min_h + int(rng.integers(0, max_h - min_h + 1)) if min_h < max_h else min_h
    w = int(round(h * aspect))
    if w * h < min_area:
        h += 1
        w = int(round(h * aspect))
    if w * h < min_area or w * h > max_area or w > width or h > height or w <= 0 or h <= 0:
        return None
    y = int(rng.integers(0, height - h + 1))
    x = int(rng.integers(0, width - w + 1))
    return y, x, h, w


def _coverage(crop: tuple, box: np.ndarray, height: int, width: int) -> float:
    y, x, h, w = crop
    ymin, xmin, ymax, xmax = box[0] * height, box[1] * width, box[2] * height, box[3] * width
    inter_h = max(0.0, min(y + h, ymax) - max(y, ymin))
    inter_w = max(0.0, min(x + w, xmax) - max(x, xmin))
    area = (ymax - ymin) * (xmax - xmin)
    return inter_h * inter_w / area if area > 0 else 0.0


@lowers("SampleDistortedBoundingBoxV2", context=True, host=True)
def sample_distorted_bounding_box(ctx, op, image_size, boxes, min_object_covered):
    size = np.asarray(image_size)
    if size.shape != (3,):
        raise errors.InvalidArgumentError(None, None, "image_size must be 1-dimensional with 3 elements, got "
                                          f"shape [{','.join(map(str, size.shape))}]")
    height, width = int(size[0]), int(size[1])
    if height <= 0 or width <= 0:
        raise errors.InvalidArgumentError(None, None, f"image height and width must be positive, got {height}, "
                                          f"{width}")
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    covered = float(np.asarray(min_object_covered))
    if covered < 0:
        raise errors.InvalidArgumentError(None, None, f"min_object_covered must be non-negative: {covered}")
    attrs = op.attrs
    if boxes.shape[0] == 0:
        if not attrs.get("use_image_if_no_bounding_boxes", False):
            raise errors.InvalidArgumentError(
                None, None, "No bounding boxes provided as input. One must enable use_image_if_no_bounding_boxes if "
                            "you wish to not provide any bounding boxes.")
        boxes = np.array([[0.0, 0.0, 1.0, 1.0]], np.float32)
    for b in boxes:
        if not (0 <= b[0] <= b[2] <= 1 and 0 <= b[1] <= b[3] <= 1):
            raise errors.InvalidArgumentError(None, None, "All bounding box coordinates must be in [0.0, 1.0] and "
                                              "ymin <= ymax, xmin <= xmax")
    lo, hi = (float(v) for v in attrs.get("aspect_ratio_range", [0.75, 1.33]))
    area_range = [float(v) for v in attrs.get("area_range", [0.05, 1.0])]
    rng = ctx.host_random(op)
    crop = None
    for _ in range(int(attrs.get("max_attempts", 100))):
        box = boxes[int(rng.integers(0, len(boxes)))]
        aspect = lo + (hi - lo) * float(rng.random())
        candidate = _random_crop(rng, height, width, aspect, area_range)
        if candidate is not None and _coverage(candidate, box, height, width) >= covered:
            crop = candidate
            break
    if crop is None:   # TF falls back to the whole image
        crop = (0, 0, height, width)
    y, x, h, w = crop
    dtype = size.dtype
    begin = np.array([y, x, 0], dtype)
    out_size = np.array([h, w, -1], dtype)
    bbox = np.array([[[y / height, x / width, (y + h) / height, (x + w) / width]]], np.float32)
    return begin, out_size, bbox
