"""Lowerings of graphcompat/image_extra.py: colour-space kernels as jax.numpy (TF's colorspace_op.h and
adjust_hue/saturation kernels), patches via lax.conv_general_dilated_patches reordered to TF's (row,
column, depth) layout, and non-max suppression as a host rule (its output length depends on values),
greedy in score order as TF's non_max_suppression_op.cc.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import errors
from lowering.interpreter import require
from lowering.rules.checks import shape_str
from lowering.registry import lowers

_INVALID = errors.InvalidArgumentError


def _rgb_to_hsv(rgb):
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    value = jnp.maximum(jnp.maximum(r, g), b)
    spread = value - jnp.minimum(jnp.minimum(r, g), b)
    saturation = jnp.where(value > 0, spread / jnp.where(value > 0, value, 1), 0)
    norm = 1.0 / (6.0 * jnp.where(spread > 0, spread, 1))
    hue = jnp.where(r == value, norm * (g - b),
                    jnp.where(g == value, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0))
    hue = jnp.where(spread > 0, hue, 0)
    hue = jnp.where(hue < 0, hue + 1, hue)
    return jnp.stack([hue, saturation, value], axis=-1).astype(rgb.dtype)


def _hsv_to_rgb(hsv):
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    c = s * v
    m = v - c
    dh = h * 6
    category = jnp.floor(dh).astype(jnp.int32)
    x = c * (1 - jnp.abs(jnp.mod(dh, 2) - 1))
    zero = jnp.zeros_like(c)
    choices = [(c, x, zero), (x, c, zero), (zero, c, x), (zero, x, c), (x, zero, c), (c, zero, x)]
    rgb = [jnp.select([category == i for i in range(6)], [ch[k] for ch in choices], zero) for k in range(3)]
    return (jnp.stack(rgb, axis=-1) + m[..., None]).astype(hsv.dtype)


def _check_rgb(images) -> None:
    require(np.ndim(images) >= 1 and np.shape(images)[-1] == 3, _INVALID,
            lambda: f"input must have 3 channels but input only has {np.shape(images)[-1]} channels.")


@lowers("RGBToHSV")
def rgb_to_hsv(images, **_):
    return _rgb_to_hsv(jnp.asarray(images))


@lowers("HSVToRGB")
def hsv_to_rgb(images, **_):
    return _hsv_to_rgb(jnp.asarray(images))


@lowers("AdjustHue")
def adjust_hue(images, delta, **_):
    _check_rgb(images)
    images = jnp.asarray(images)
    hsv = _rgb_to_hsv(images.astype(jnp.float32))
    hue = jnp.mod(hsv[..., 0] + jnp.asarray(delta, jnp.float32), 1.0)
    return _hsv_to_rgb(hsv.at[..., 0].set(hue)).astype(images.dtype)


@lowers("AdjustSaturation")
def adjust_saturation(images, scale, **_):
    _check_rgb(images)
    images = jnp.asarray(images)
    hsv = _rgb_to_hsv(images.astype(jnp.float32))
    saturation = jnp.clip(hsv[..., 1] * jnp.asarray(scale, jnp.float32), 0.0, 1.0)
    return _hsv_to_rgb(hsv.at[..., 1].set(saturation)).astype(images.dtype)


@lowers("ExtractImagePatches")
def extract_image_patches(images, *, ksizes, strides, rates, padding, **_):
    images = jnp.asarray(images)
    depth = images.shape[-1]
    kh, kw = ksizes[1], ksizes[2]
    patches = lax.conv_general_dilated_patches(images, (kh, kw), tuple(strides[1:3]), padding,
                                               rhs_dilation=tuple(rates[1:3]),
                                               dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                               precision=lax.Precision.HIGHEST)
    n, oh, ow, _ = patches.shape
    # lax orders the patch as (depth, row, column); TF as (row, column, depth)
    patches = patches.reshape(n, oh, ow, depth, kh * kw).transpose(0, 1, 2, 4, 3)
    return patches.reshape(n, oh, ow, kh * kw * depth).astype(images.dtype)


@lowers("ExtractVolumePatches")
def extract_volume_patches(volume, *, ksizes, strides, padding, **_):
    # TF's kernel checks these when it is constructed: patches never span batch or depth
    require(ksizes[0] == 1 and ksizes[4] == 1, errors.UnimplementedError, "Only support ksizes across space.")
    require(strides[0] == 1 and strides[4] == 1, errors.UnimplementedError, "Only support strides across space.")
    require(all(k > 0 for k in ksizes[1:4]), errors.OutOfRangeError, "ksizes is out of range.")
    volume = jnp.asarray(volume)
    depth = volume.shape[-1]
    window = tuple(ksizes[1:4])
    patches = lax.conv_general_dilated_patches(volume, window, tuple(strides[1:4]), padding,
                                               dimension_numbers=("NDHWC", "DHWIO", "NDHWC"),
                                               precision=lax.Precision.HIGHEST)
    n, op, oh, ow, _ = patches.shape
    # lax orders the patch as (depth, plane, row, column); TF as (plane, row, column, depth)
    size = window[0] * window[1] * window[2]
    patches = patches.reshape(n, op, oh, ow, depth, size).transpose(0, 1, 2, 3, 5, 4)
    return patches.reshape(n, op, oh, ow, size * depth).astype(volume.dtype)


def _iou(boxes: np.ndarray, i: int, j: int) -> float:
    """TF's IOU: corners may come in either order."""
    a, b = boxes[i], boxes[j]
    ymin_a, xmin_a, ymax_a, xmax_a = min(a[0], a[2]), min(a[1], a[3]), max(a[0], a[2]), max(a[1], a[3])
    ymin_b, xmin_b, ymax_b, xmax_b = min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3])
    area_a = (ymax_a - ymin_a) * (xmax_a - xmin_a)
    area_b = (ymax_b - ymin_b) * (xmax_b - xmin_b)
    if area_a <= 0 or area_b <= 0:
        return 0.0
    inter = max(min(ymax_a, ymax_b) - max(ymin_a, ymin_b), 0.0) * max(min(xmax_a, xmax_b) - max(xmin_a, xmin_b), 0.0)
    return inter / (area_a + area_b - inter)


def _greedy(scores: np.ndarray, max_output: int, score_threshold: float, overlap, threshold: float):
    require(max_output >= 0, _INVALID, "output size must be non-negative")
    order = sorted((i for i in range(len(scores)) if scores[i] > score_threshold), key=lambda i: (-scores[i], i))
    selected = []
    for i in order:
        if len(selected) >= max_output:
            break
        if all(overlap(i, j) <= threshold for j in selected):
            selected.append(i)
    return np.asarray(selected, np.int32)


def _check_boxes(boxes, scores) -> None:
    require(np.ndim(boxes) == 2 and np.shape(boxes)[1] == 4, _INVALID,
            lambda: f"boxes must have 4 columns, but got shape: {list(np.shape(boxes))}")
    require(np.ndim(scores) == 1 and np.shape(scores)[0] == np.shape(boxes)[0], _INVALID,
            lambda: f"scores has incompatible shape")


@lowers("NonMaxSuppressionV3", host=True)
def non_max_suppression_v3(boxes, scores, max_output_size, iou_threshold, score_threshold, **_):
    boxes, scores = np.asarray(boxes, np.float64), np.asarray(scores)
    _check_boxes(boxes, scores)
    require(0 <= float(iou_threshold) <= 1, _INVALID, "iou_threshold must be in [0, 1]")
    return _greedy(scores, int(max_output_size), float(score_threshold), lambda i, j: _iou(boxes, i, j),
                   float(iou_threshold))


@lowers("NonMaxSuppressionV5", host=True)
def non_max_suppression_v5(boxes, scores, max_output_size, iou_threshold, score_threshold, soft_nms_sigma, *,
                           pad_to_max_output_size=False, **_):
    boxes, scores = np.asarray(boxes, np.float64), np.asarray(scores)
    _check_boxes(boxes, scores)
    require(0 <= float(iou_threshold) <= 1, _INVALID, "iou_threshold must be in [0, 1]")
    require(float(soft_nms_sigma) >= 0, _INVALID, "soft_nms_sigma must be non-negative")
    if float(soft_nms_sigma) > 0:
        raise NotImplementedError("tf.image.non_max_suppression_with_scores with soft_nms_sigma > 0 (Soft-NMS)")
    selected = _greedy(scores, int(max_output_size), float(score_threshold), lambda i, j: _iou(boxes, i, j),
                       float(iou_threshold))
    valid = np.int32(len(selected))
    chosen_scores = scores[selected].astype(scores.dtype)
    if pad_to_max_output_size:
        pad = int(max_output_size) - len(selected)
        selected = np.pad(selected, (0, pad))
        chosen_scores = np.pad(chosen_scores, (0, pad))
    return selected, chosen_scores, valid


@lowers("NonMaxSuppressionWithOverlaps", host=True)
def non_max_suppression_with_overlaps(overlaps, scores, max_output_size, overlap_threshold, score_threshold, **_):
    overlaps, scores = np.asarray(overlaps), np.asarray(scores)
    require(overlaps.ndim == 2 and overlaps.shape[0] == overlaps.shape[1], _INVALID,
            lambda: f"overlaps must be square, but got shape: {list(overlaps.shape)}")
    return _greedy(scores, int(max_output_size), float(score_threshold), lambda i, j: overlaps[i, j],
                   float(overlap_threshold))


def _iou_float32(a: np.ndarray, b: np.ndarray) -> np.float32:
    """TF's float IOU of two boxes (corners in either order), in float32 arithmetic as its kernel."""
    ymin_a, ymax_a = min(a[0], a[2]), max(a[0], a[2])
    xmin_a, xmax_a = min(a[1], a[3]), max(a[1], a[3])
    ymin_b, ymax_b = min(b[0], b[2]), max(b[0], b[2])
    xmin_b, xmax_b = min(b[1], b[3]), max(b[1], b[3])
    area_a = (ymax_a - ymin_a) * (xmax_a - xmin_a)
    area_b = (ymax_b - ymin_b) * (xmax_b - xmin_b)
    if area_a <= 0 or area_b <= 0:
        return np.float32(0)
    inter = max(min(ymax_a, ymax_b) - max(ymin_a, ymin_b), np.float32(0)) * \
        max(min(xmax_a, xmax_b) - max(xmin_a, xmin_b), np.float32(0))
    return inter / (area_a + area_b - inter)


def _scalar(value, what: str):
    require(np.ndim(value) == 0, _INVALID, lambda: f"{what} must be 0-D, got shape {shape_str(np.shape(value))}")
    return np.asarray(value).item()


@lowers("CombinedNonMaxSuppression", host=True)
def combined_non_max_suppression(boxes, scores, max_output_size_per_class, max_total_size, iou_threshold,
                                 score_threshold, *, pad_per_class=False, clip_boxes=True, **_):
    """TF's CombinedNonMaxSuppressionOp: per batch and class, the boxes scoring above the threshold best
    first, each kept unless its IOU with one kept before exceeds the threshold (at most
    min(max_output_size_per_class, anchors) per class); then per batch every class's survivors in one list
    sorted by score (TF's empty slots, score -1, take part in that sort), the first valid_detections of it
    copied out (clipped to [0, 1] with clip_boxes) and the rest zero."""
    boxes, scores = np.asarray(boxes, np.float32), np.asarray(scores, np.float32)
    require(np.ndim(boxes) < 1 or np.ndim(scores) < 1 or boxes.shape[0] == scores.shape[0], _INVALID,
            "boxes and scores must have same batch size")
    per_class = int(_scalar(max_output_size_per_class, "max_size_per_class"))
    require(per_class > 0, _INVALID, "max_size_per_class must be positive")
    total = int(_scalar(max_total_size, "max_total_size"))
    require(total > 0, _INVALID, "max_total_size must be > 0")
    iou_limit = np.float32(_scalar(iou_threshold, "iou_threshold"))
    score_limit = np.float32(_scalar(score_threshold, "score_threshold"))
    require(0 <= iou_limit <= 1, _INVALID, "iou_threshold must be in [0, 1]")
    require(boxes.ndim == 4, _INVALID, lambda: f"boxes must be 4-D{shape_str(boxes.shape)}")
    num_classes = scores.shape[2] if scores.ndim == 3 else 0
    require(boxes.shape[2] in (1, num_classes), _INVALID, "third dimension of boxes must be either 1 or num classes")
    require(boxes.shape[3] == 4, _INVALID, "boxes must have 4 columns")
    require(scores.ndim == 3, _INVALID, lambda: f"scores must be 3-D{shape_str(scores.shape)}")
    batch, anchors, q = boxes.shape[:3]
    require(scores.shape[1] == anchors, _INVALID, "scores has incompatible shape")
    size_per_class = min(per_class, anchors)
    out_size = min(total, per_class * num_classes) if pad_per_class else total
    out_boxes = np.zeros((batch, out_size, 4), np.float32)
    out_scores = np.zeros((batch, out_size), np.float32)
    out_classes = np.zeros((batch, out_size), np.float32)
    valid = np.zeros(batch, np.int32)
    empty = (-1, np.float32(-1), -1, np.zeros(4, np.float32))  # TF's unused result slot
    for b in range(batch):
        slots = []
        for c in range(num_classes):
            own = boxes[b, :, c if q > 1 else 0]
            order = sorted((i for i in range(anchors) if scores[b, i, c] > score_limit),
                           key=lambda i: (-scores[b, i, c], i))
            kept = []
            for i in order:
                if len(kept) == size_per_class:
                    break
                if all(_iou_float32(own[i], own[j]) <= iou_limit for j in reversed(kept)):
                    kept.append(i)
            slots += [(i, scores[b, i, c], c, own[i]) for i in kept] + [empty] * (size_per_class - len(kept))
        slots.sort(key=lambda slot: -slot[1])  # stable; TF's std::sort leaves equal scores in no fixed order
        found = sum(slot[0] > -1 for slot in slots)
        valid[b] = min(found, out_size if pad_per_class else total)
        for k, (_, score, c, corners) in enumerate(slots[:valid[b]]):
            out_boxes[b, k] = np.clip(corners, 0, 1) if clip_boxes else corners
            out_scores[b, k], out_classes[b, k] = score, c
    return out_boxes, out_scores, out_classes, valid


@lowers("CropAndResize")
def crop_and_resize(image, boxes, box_ind, crop_size, *, method="bilinear", extrapolation_value=0.0, **_):
    image = jnp.asarray(image).astype(jnp.float32)
    boxes, box_ind = jnp.asarray(boxes, jnp.float32), jnp.asarray(box_ind)
    batch, height, width, _ = image.shape
    crop_h, crop_w = (int(v) for v in np.asarray(crop_size).reshape(-1))  # static, or the plan runs op by op
    require(crop_h > 0 and crop_w > 0, _INVALID, "crop dimensions must be positive")
    require(boxes.shape[0] == box_ind.shape[0], _INVALID,
            lambda: f"box_index has incompatible shape")
    require(jnp.all((box_ind >= 0) & (box_ind < batch)), errors.OutOfRangeError,
            "box_index has values outside [0, batch_size)")

    def positions(lo, hi, size, count):
        if count > 1:
            scale = (hi - lo) * (size - 1) / (count - 1)
            return lo[:, None] * (size - 1) + jnp.arange(count, dtype=jnp.float32)[None, :] * scale[:, None]
        return jnp.broadcast_to((0.5 * (lo + hi) * (size - 1))[:, None], (lo.shape[0], 1))
    in_y = positions(boxes[:, 0], boxes[:, 2], height, crop_h)
    in_x = positions(boxes[:, 1], boxes[:, 3], width, crop_w)
    valid = ((in_y >= 0) & (in_y <= height - 1))[:, :, None] & ((in_x >= 0) & (in_x <= width - 1))[:, None, :]
    b = box_ind[:, None, None]

    def at(y, x):
        return image[b, jnp.clip(y, 0, height - 1)[:, :, None], jnp.clip(x, 0, width - 1)[:, None, :]]
    if method == "nearest":
        # C's roundf (halves away from zero; in-image positions are >= 0), not numpy's half-to-even
        out = at(jnp.floor(in_y + 0.5).astype(jnp.int32), jnp.floor(in_x + 0.5).astype(jnp.int32))
    else:
        top, left = jnp.floor(in_y), jnp.floor(in_x)
        y_lerp, x_lerp = (in_y - top)[:, :, None, None], (in_x - left)[:, None, :, None]
        top, left = top.astype(jnp.int32), left.astype(jnp.int32)
        bottom, right = jnp.ceil(in_y).astype(jnp.int32), jnp.ceil(in_x).astype(jnp.int32)
        upper = at(top, left) + (at(top, right) - at(top, left)) * x_lerp
        lower = at(bottom, left) + (at(bottom, right) - at(bottom, left)) * x_lerp
        out = upper + (lower - upper) * y_lerp
    return jnp.where(valid[..., None], out, jnp.float32(extrapolation_value))


# The kernel's colors when none are given (RGBA; a one-channel image gets 1 in the first channel).
_DEFAULT_BOX_COLORS = np.array([[1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 1], [0.5, 0, 0.5, 1],
                                [0.5, 0.5, 0, 1], [0.5, 0, 0, 1], [0, 0, 0.5, 1], [0, 1, 1, 1], [1, 0, 1, 1]],
                               np.float32)


@lowers("DrawBoundingBoxes", host=True)
def draw_bounding_boxes(images, boxes, **_):
    return draw_bounding_boxes_v2(images, boxes, None)


@lowers("DrawBoundingBoxesV2", host=True)
def draw_bounding_boxes_v2(images, boxes, colors, **_):
    """TF's DrawBoundingBoxesOp: checks in its order, then one-pixel outlines clipped to the image."""
    images, boxes = np.array(images), np.asarray(boxes, np.float32)
    require(images.ndim == 4, _INVALID, "The rank of the images should be 4")
    require(boxes.ndim == 3, _INVALID, "The rank of the boxes tensor should be 3")
    require(images.shape[0] == boxes.shape[0], _INVALID, "The batch sizes should be the same")
    batch, height, width, depth = images.shape
    require(depth in (1, 3, 4), _INVALID, "Channel depth should be either 1 (GRY), 3 (RGB), or 4 (RGBA)")
    require(boxes.shape[2] == 4, _INVALID,
            lambda: f"The size of the third dimension of the box must be 4. Received: {boxes.shape[2]}")
    table = None
    if colors is not None:
        colors = np.asarray(colors, np.float32)
        require(colors.ndim == 2, _INVALID, lambda: f"colors must be a 2-D matrix{shape_str(colors.shape)}")
        require(colors.shape[1] >= depth, _INVALID, lambda: "colors must have equal or more channels than the "
                f"image provided: {shape_str(colors.shape)}")
        table = colors[:, :depth] if colors.size else None
    if table is None:
        table = _DEFAULT_BOX_COLORS.copy()
        if depth == 1:
            table[:, 0] = 1
        table = table[:, :depth]
    for b in range(batch):
        for i, box in enumerate(boxes[b]):
            paint = table[i % len(table)].astype(images.dtype)
            # float32 products truncated toward zero, as the kernel's static_cast<int64>.
            y0, x0, y1, x1 = (int(np.float32(v) * np.float32(n - 1)) for v, n in
                              ((box[0], height), (box[1], width), (box[2], height), (box[3], width)))
            if y0 > y1 or x0 > x1 or y0 >= height or y1 < 0 or x0 >= width or x1 < 0:
                continue  # inverted or wholly outside: TF logs a warning and skips it
            ya, yb = max(y0, 0), min(y1, height - 1)
            xa, xb = max(x0, 0), min(x1, width - 1)
            for y in (y0, y1):
                if 0 <= y < height:
                    images[b, y, xa:xb + 1] = paint
            for x in (x0, x1):
                if 0 <= x < width:
                    images[b, ya:yb + 1, x] = paint
    return images

