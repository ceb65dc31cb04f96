"""`tf.image.sample_distorted_bounding_box` (TF1): SampleDistortedBoundingBoxV2, one `defop`; the random crop
search (TF's kernel algorithm, drawn with graphcompat's seeded host generator) is in
lowering/rules/image_sample.py. Like every random op (docs/migration.md), the distribution is TF's, not
its bits."""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop


def _shape(ctx: InferenceContext):
    s, b = ctx.shape(0), ctx.shape(1)
    if s.ndims is not None and s.ndims != 1:
        raise ctx.error(f"Shape must be rank 1 but is rank {s.ndims}")
    if s.ndims == 1 and s[0].value not in (None, 3):
        raise ctx.error(f"Dimension must be 3 but is {s[0].value}")
    if b.ndims is not None and b.ndims != 3:
        raise ctx.error(f"Shape must be rank 3 but is rank {b.ndims}")
    return [_ts.TensorShape([3]), _ts.TensorShape([3]), _ts.TensorShape([1, 1, 4])]


defop("SampleDistortedBoundingBoxV2", "image_size: T, bounding_boxes: float32, min_object_covered: float32 -> "
      "begin: T, size: T, bboxes: float32",
      attrs={"seed": 0, "seed2": 0, "aspect_ratio_range": [0.75, 1.33], "area_range": [0.05, 1.0],
             "max_attempts": 100, "use_image_if_no_bounding_boxes": False},
      types={"T": (_dt.uint8, _dt.int8, _dt.int16, _dt.int32, _dt.int64)}, shape=_shape, stateful=True)


def sample_distorted_bounding_box(image_size, bounding_boxes, seed=None, seed2=None, min_object_covered=0.1,
                                  aspect_ratio_range=None, area_range=None, max_attempts=None,
                                  use_image_if_no_bounding_boxes=None, name: Optional[str] = None):
    """`tf.image.sample_distorted_bounding_box` (TF1): a random crop (begin, size, bbox) of an image that covers
    at least `min_object_covered` of one of `bounding_boxes`, with an aspect ratio and area in range."""
    from graphcompat.framework import ops as _ops
    from graphcompat.ops.random_ops import get_seed
    s1, s2 = get_seed(seed) if seed2 is None else (seed or 0, seed2)
    attrs = {"seed": int(s1 or 0), "seed2": int(s2 or 0)}
    if aspect_ratio_range is not None:
        attrs["aspect_ratio_range"] = [float(v) for v in aspect_ratio_range]
    if area_range is not None:
        attrs["area_range"] = [float(v) for v in area_range]
    if max_attempts is not None:
        attrs["max_attempts"] = int(max_attempts)
    if use_image_if_no_bounding_boxes is not None:
        attrs["use_image_if_no_bounding_boxes"] = bool(use_image_if_no_bounding_boxes)
    with _ops.name_scope(name, "sample_distorted_bounding_box"):
        out = apply_op("SampleDistortedBoundingBoxV2", [image_size, bounding_boxes, min_object_covered], attrs)
        return tuple(out)


__all__ = ["sample_distorted_bounding_box"]
