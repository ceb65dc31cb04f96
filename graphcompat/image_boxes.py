"""`tf.image.sample_distorted_bounding_box`: the random crop of Inception-style preprocessing, as TF1 records
it (`SampleDistortedBoundingBoxV2`). Lowering: lowering/rules/image_boxes.py.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop

_INDEX_TYPES = (_dt.uint8, _dt.int8, _dt.int16, _dt.int32, _dt.int64)


def _boxes_shape(ctx: InferenceContext):
    size, boxes = ctx.shape(0), ctx.shape(1)
    if size.ndims is not None and size.ndims != 1:
        raise ctx.error(f"Shape must be rank 1 but is rank {size.ndims}")
    if size.ndims == 1 and size[0].value not in (None, 3):
        raise ctx.error(f"Dimension must be 3 but is {size[0].value}")
    if boxes.ndims is not None and boxes.ndims != 3:
        raise ctx.error(f"Shape must be rank 3 but is rank {boxes.ndims}")
    if boxes.ndims == 3 and boxes[2].value not in (None, 4):
        raise ctx.error(f"Dimension must be 4 but is {boxes[2].value}")
    if ctx.shape(2).ndims not in (None, 0):
        raise ctx.error(f"Shape must be rank 0 but is rank {ctx.shape(2).ndims}")
    return [_ts.TensorShape([3]), _ts.TensorShape([3]), _ts.TensorShape([1, 1, 4])]


defop("SampleDistortedBoundingBoxV2",
      "image_size: T, bounding_boxes: float32, min_object_covered: float32 -> begin: T, size: T, bboxes: float32",
      attrs={"seed": 0, "seed2": 0, "aspect_ratio_range": [0.75, 1.33], "area_range": [0.05, 1.0],
             "max_attempts": 100, "use_image_if_no_bounding_boxes": False},
      types={"T": _INDEX_TYPES}, shape=_boxes_shape, stateful=True)


def sample_distorted_bounding_box(image_size, bounding_boxes, seed: Optional[int] = None,
                                  seed2: Optional[int] = None, min_object_covered=0.1, aspect_ratio_range=None,
                                  area_range=None, max_attempts: Optional[int] = None,
                                  use_image_if_no_bounding_boxes: Optional[bool] = None,
                                  name: Optional[str] = None):
    """`tf.image.sample_distorted_bounding_box` (v1): (begin, size, bboxes) of a random crop covering at
    least `min_object_covered` of some box, with an aspect ratio and area in the given ranges. The crop is
    drawn as TF's kernel draws it: TF's algorithm on TF's Philox stream, bit for bit."""
    attrs = {"seed": int(seed or 0), "seed2": int(seed2 or 0)}
    if aspect_ratio_range is not None:
        attrs["aspect_ratio_range"] = _pair(aspect_ratio_range, "aspect_ratio_range")
    if area_range is not None:
        attrs["area_range"] = _pair(area_range, "area_range")
    if max_attempts is not None:
        if int(max_attempts) <= 0:
            raise ValueError(f"Max attempts must be positive: {max_attempts}")
        attrs["max_attempts"] = int(max_attempts)
    if use_image_if_no_bounding_boxes is not None:
        attrs["use_image_if_no_bounding_boxes"] = bool(use_image_if_no_bounding_boxes)
    lo, hi = attrs.get("aspect_ratio_range", [0.75, 1.33])
    if lo <= 0 or hi <= 0:
        raise ValueError(f"Aspect ratio range field must specify 2 dimensions and be positive, got "
                         f"{[lo, hi]}")
    lo, hi = attrs.get("area_range", [0.05, 1.0])
    if lo <= 0 or hi <= 0 or lo > 1 or hi > 1:
        raise ValueError(f"Area range field must specify 2 dimensions, be positive and be at most 1, got "
                         f"{[lo, hi]}")
    with _ops.name_scope(name, "sample_distorted_bounding_box"):
        return tuple(apply_op("SampleDistortedBoundingBoxV2", [image_size, bounding_boxes, min_object_covered],
                              attrs, name=name))


def _pair(value, what: str) -> list:
    value = [float(v) for v in value]
    if len(value) != 2:
        raise ValueError(f"{what} must specify 2 dimensions, got {value}")
    return value
