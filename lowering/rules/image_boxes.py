"""Lowering of `SampleDistortedBoundingBoxV2` (graphcompat/image_boxes.py).

TF's kernel (sample_distorted_bounding_box_op.cc) tries up to `max_attempts` crops one after another: an
aspect ratio, a height between the smallest and largest that fit the area range (rounded as lrintf does),
a position; the first crop whose area is at least 1 pixel and that covers `min_object_covered` of some box
wins, else the whole image. Here every attempt is drawn at once and the first acceptable one is taken,
which is the same distribution with no data-dependent loop.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.registry import lowers


def _round(x):
    return jnp.round(x).astype(jnp.int32)  # lrintf: round half to even


@lowers("SampleDistortedBoundingBoxV2", context=True)
def sample_distorted_bounding_box(ctx, op, image_size, boxes, min_object_covered, key=None):
    """`key`: the draws' JAX key (StatelessSampleDistortedBoundingBox's, from its seed); else the op's stream."""
    attrs = op.attrs
    out_dtype = np.dtype(attrs["T"].as_numpy_dtype)
    if jnp.ndim(image_size) != 1 or jnp.shape(image_size)[0] != 3:
        raise errors.InvalidArgumentError(None, op, f"image_size must contain 3 values{list(jnp.shape(image_size))}")
    if jnp.ndim(boxes) != 3:
        raise errors.InvalidArgumentError(
            None, op, f"input boxes must be 3-dimensional [batch, num_boxes, coords]: {list(jnp.shape(boxes))}")
    boxes = jnp.reshape(jnp.asarray(boxes, jnp.float32), (-1, 4))
    size = jnp.asarray(image_size).astype(jnp.int32)
    height, width = size[0], size[1]
    ctx.check(jnp.all((boxes >= 0.0) & (boxes <= 1.0)), errors.InvalidArgumentError,
              lambda: "All bounding box coordinates must be in [0.0, 1.0]: "
                      f"{float(np.asarray(boxes)[(np.asarray(boxes) < 0) | (np.asarray(boxes) > 1)][0])}", op)
    ctx.check(jnp.asarray(min_object_covered) >= 0, errors.InvalidArgumentError,
              lambda: f"Min object covered must be non-negative: {float(np.asarray(min_object_covered))}", op)
    use_image = bool(attrs["use_image_if_no_bounding_boxes"])
    if boxes.shape[0] == 0:
        if not use_image:
            raise errors.InvalidArgumentError(
                None, op, "No bounding boxes provided as input. One must enable use_image_if_no_bounding_boxes "
                "if you wish to not provide any bounding boxes.")
        rects = jnp.stack([jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32), width, height])[None]
    else:  # [x_min, y_min, x_max, y_max] in pixels, truncated as the kernel's int32 casts
        w, h = width.astype(jnp.float32), height.astype(jnp.float32)
        rects = jnp.stack([boxes[:, 1] * w, boxes[:, 0] * h, boxes[:, 3] * w, boxes[:, 2] * h], 1).astype(jnp.int32)

    attempts = int(attrs["max_attempts"])
    min_ratio, max_ratio = (float(v) for v in attrs["aspect_ratio_range"])
    min_area_frac, max_area_frac = (float(v) for v in attrs["area_range"])
    k_ratio, k_height, k_y, k_x = jax.random.split(ctx.random_key(op) if key is None else key, 4)
    ratio = jax.random.uniform(k_ratio, (attempts,), jnp.float32) * (max_ratio - min_ratio) + min_ratio
    wf, hf = width.astype(jnp.float32), height.astype(jnp.float32)
    min_area = min_area_frac * wf * hf
    max_area = max_area_frac * wf * hf
    crop_h = _round(jnp.sqrt(min_area / ratio))
    max_h = _round(jnp.sqrt(max_area / ratio))
    too_wide = _round(max_h * ratio) > width
    fitted = ((wf + 0.5 - 0.0000001) / ratio).astype(jnp.int32)
    fitted = jnp.where(_round(fitted * ratio) > width, fitted - 1, fitted)
    max_h = jnp.where(too_wide, fitted, max_h)
    max_h = jnp.minimum(max_h, height)
    crop_h = jnp.minimum(crop_h, max_h)
    extra = jnp.floor(jax.random.uniform(k_height, (attempts,)) * (max_h - crop_h + 1)).astype(jnp.int32)
    crop_h = crop_h + jnp.where(crop_h < max_h, jnp.minimum(extra, max_h - crop_h), 0)
    crop_w = _round(crop_h * ratio)
    area = (crop_w * crop_h).astype(jnp.float32)
    grow = area < min_area
    crop_h = jnp.where(grow, crop_h + 1, crop_h)
    crop_w = jnp.where(grow, _round(crop_h * ratio), crop_w)
    area = (crop_w * crop_h).astype(jnp.float32)
    shrink = area > max_area
    crop_h = jnp.where(shrink, crop_h - 1, crop_h)
    crop_w = jnp.where(shrink, _round(crop_h * ratio), crop_w)
    area = (crop_w * crop_h).astype(jnp.float32)
    valid = ~((area < min_area) | (area > max_area) | (crop_w > width) | (crop_h > height)
              | (crop_w <= 0) | (crop_h <= 0))
    y = jnp.where(crop_h < height, jnp.floor(jax.random.uniform(k_y, (attempts,)) * (height - crop_h)), 0)
    x = jnp.where(crop_w < width, jnp.floor(jax.random.uniform(k_x, (attempts,)) * (width - crop_w)), 0)
    y, x = y.astype(jnp.int32), x.astype(jnp.int32)

    # SatisfiesOverlapConstraints: the crop covers enough of at least one box of at least one pixel.
    ix = jnp.maximum(0, jnp.minimum(x[:, None] + crop_w[:, None], rects[None, :, 2])
                     - jnp.maximum(x[:, None], rects[None, :, 0]))
    iy = jnp.maximum(0, jnp.minimum(y[:, None] + crop_h[:, None], rects[None, :, 3])
                     - jnp.maximum(y[:, None], rects[None, :, 1]))
    box_area = ((rects[:, 2] - rects[:, 0]) * (rects[:, 3] - rects[:, 1])).astype(jnp.float32)
    covered = (ix * iy).astype(jnp.float32) / jnp.where(box_area > 0, box_area, 1.0)
    ok_box = (box_area[None, :] >= 1.0) & (covered >= jnp.asarray(min_object_covered, jnp.float32))
    accepted = valid & (area >= 1.0) & jnp.any(ok_box, axis=1)
    first = jnp.argmax(accepted)
    found = jnp.any(accepted)
    off_y = jnp.where(found, y[first], 0)
    off_x = jnp.where(found, x[first], 0)
    tgt_h = jnp.where(found, crop_h[first], height)
    tgt_w = jnp.where(found, crop_w[first], width)
    begin = jnp.stack([off_y, off_x, jnp.zeros((), jnp.int32)]).astype(out_dtype)
    size_out = jnp.stack([tgt_h, tgt_w, -jnp.ones((), jnp.int32)]).astype(out_dtype)
    bbox = jnp.stack([off_y / hf, off_x / wf, (off_y + tgt_h) / hf, (off_x + tgt_w) / wf]).astype(jnp.float32)
    return begin, size_out, bbox.reshape(1, 1, 4)
