"""More of `tf.image`: colour spaces (HSV, YIQ, YUV), hue/saturation/gamma adjustments, rot90 and
transpose, total_variation, psnr, ssim, image_gradients, sobel_edges, extract_image_patches and
non_max_suppression (+ with_scores, overlaps). Op types and Python compositions follow TF's
image_ops_impl.py; lowerings: lowering/rules/image_extra.py. Re-exported by graphcompat/image.py.
"""
from __future__ import annotations

import collections
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop

FLOAT = (_dt.float16, _dt.float32, _dt.float64)


def _last_dim_3(ctx: InferenceContext):
    shape = ctx.shape(0)
    if shape.ndims is not None:
        if shape.ndims < 1:
            raise ctx.error(f"Shape must be at least rank 1 but is rank {shape.ndims}")
        last = shape.as_list()[-1]
        if last is not None and last != 3:
            raise ctx.error(f"Dimension must be 3 but is {last}")
    return [shape]


def _nms_shape(ctx: InferenceContext):
    return [_ts.TensorShape([None])] + [_ts.TensorShape([None])] * (len(ctx.output_dtypes) - 2) + \
        ([_ts.TensorShape([])] if len(ctx.output_dtypes) > 1 else [])


def _patches_shape(ctx: InferenceContext):
    from graphcompat.ops.nn_ops import _spatial_out
    x = ctx.shape(0)
    if x.ndims is not None and x.ndims != 4:
        raise ctx.error(f"Shape must be rank 4 but is rank {x.ndims}")
    if x.ndims is None:
        return [_ts.unknown_shape(4)]
    n, h, w, c = x.as_list()
    k, s, r = ctx.attrs["ksizes"], ctx.attrs["strides"], ctx.attrs["rates"]
    out_h = _spatial_out(h, k[1], s[1], r[1], ctx.attrs["padding"])
    out_w = _spatial_out(w, k[2], s[2], r[2], ctx.attrs["padding"])
    return [_ts.TensorShape([n, out_h, out_w, None if c is None else k[1] * k[2] * c])]


defop("RGBToHSV", "images: T -> output: T", types={"T": FLOAT}, shape=_last_dim_3)
defop("HSVToRGB", "images: T -> output: T", types={"T": FLOAT}, shape=_last_dim_3)
defop("AdjustHue", "images: T, delta: float32 -> output: T", types={"T": (_dt.float16, _dt.float32)},
      shape=lambda ctx: [_last_dim_3(ctx)[0]])
defop("AdjustSaturation", "images: T, scale: float32 -> output: T", types={"T": (_dt.float16, _dt.float32)},
      shape=lambda ctx: [_last_dim_3(ctx)[0]])
defop("ExtractImagePatches", "images: T -> patches: T", shape=_patches_shape)


def _volume_patches_shape(ctx: InferenceContext):
    """TF's ExtractVolumePatches shape function: a rank-5 input, 5-long ksizes and strides, the windowed size
    of each spatial dimension and depth ksize_planes * ksize_rows * ksize_cols * depth. Where a spatial
    dimension is unknown TF's function returns a rank-4 shape (copied from ExtractImagePatches); the tensor
    is rank 5 at run time, so this one returns rank 5 with those dimensions unknown."""
    x = ctx.shape(0)
    if x.ndims is not None and x.ndims != 5:
        raise ctx.error(f"Shape must be rank 5 but is rank {x.ndims}")
    k, s, padding = ctx.attrs["ksizes"], ctx.attrs["strides"], ctx.attrs["padding"]
    if len(k) != 5:
        raise ctx.error(f"ExtractVolumePatches requires the ksizes attribute to contain 5 values, but got: "
                        f"{len(k)}")
    if len(s) != 5:
        raise ctx.error(f"ExtractVolumePatches requires the stride attribute to contain 5 values, but got: "
                        f"{len(s)}")
    n, *spatial, c = x.as_list() if x.ndims is not None else [None] * 5
    out = []
    for size, window, stride in zip(spatial, k[1:4], s[1:4]):
        if size is None:
            out.append(None)
        elif padding == "VALID":
            # C++ integer division truncates toward zero; only a negative size is an error (0 is allowed)
            size_out = int((size - window + stride) / stride)
            if size_out < 0:
                raise ctx.error(f"Computed output size would be negative: {size_out} "
                                f"[input_size: {size}, effective_filter_size: {window}, stride: {stride}]")
            out.append(size_out)
        else:
            out.append(-(-size // stride))
    depth = None if c is None else k[1] * k[2] * k[3] * c
    return [_ts.TensorShape([n] + out + [depth])]


defop("ExtractVolumePatches", "input: T -> patches: T", shape=_volume_patches_shape)
def _crop_and_resize_shape(ctx: InferenceContext):
    image, boxes, size = ctx.shape(0), ctx.shape(1), ctx.value(3)
    if image.ndims is not None and image.ndims != 4:
        raise ctx.error(f"Shape must be rank 4 but is rank {image.ndims}")
    if boxes.ndims is not None and boxes.ndims != 2:
        raise ctx.error(f"Shape must be rank 2 but is rank {boxes.ndims}")
    n = boxes.as_list()[0] if boxes.ndims else None
    h, w = (None, None) if size is None else (int(size[0]), int(size[1]))
    if size is not None and (h <= 0 or w <= 0):
        raise ctx.error(f"crop_size must be positive, got: [{h},{w}]")
    depth = image.as_list()[3] if image.ndims else None
    return [_ts.TensorShape([n, h, w, depth])]


defop("CropAndResize", "image: T, boxes: float32, box_ind: int32, crop_size: int32 -> crops: float32",
      attrs={"method": "bilinear", "extrapolation_value": 0.0}, shape=_crop_and_resize_shape)


def _draw_boxes_shape(ctx):
    """TF's shape function: images of rank 4 with 1, 3 or 4 channels, boxes [batch, n, 4]."""
    images, boxes = ctx.shape(0), ctx.shape(1)
    if images.ndims is not None and images.ndims != 4:
        raise ctx.error(f"Shape must be rank 4 but is rank {images.ndims}")
    if images.ndims is not None and images.as_list()[3] not in (None, 1, 3, 4):
        raise ctx.error("Channel depth should be either 1 (GRY), 3 (RGB), or 4 (RGBA)")
    if boxes.ndims is not None and boxes.ndims != 3:
        raise ctx.error(f"Shape must be rank 3 but is rank {boxes.ndims}")
    if boxes.ndims is not None and boxes.as_list()[2] not in (None, 4):
        raise ctx.error(f"Dimension must be 4 but is {boxes.as_list()[2]}")
    return [images]


defop("DrawBoundingBoxes", "images: T, boxes: float32 -> output: T",
      types={"T": (_dt.float32, _dt.float16)}, shape=_draw_boxes_shape)
defop("DrawBoundingBoxesV2", "images: T, boxes: float32, colors: float32 -> output: T",
      types={"T": (_dt.float32, _dt.float16)}, shape=_draw_boxes_shape)
defop("NonMaxSuppressionV3", "boxes: T, scores: T, max_output_size: int32, iou_threshold: T_threshold, "
      "score_threshold: T_threshold -> selected_indices: int32",
      attrs={"T": _dt.float32, "T_threshold": _dt.float32}, shape=_nms_shape)
defop("NonMaxSuppressionV5", "boxes: T, scores: T, max_output_size: int32, iou_threshold: T, score_threshold: T, "
      "soft_nms_sigma: T -> selected_indices: int32, selected_scores: T, valid_outputs: int32",
      attrs={"pad_to_max_output_size": False}, shape=_nms_shape)
defop("NonMaxSuppressionWithOverlaps", "overlaps: float32, scores: float32, max_output_size: int32, "
      "overlap_threshold: float32, score_threshold: float32 -> selected_indices: int32", shape=_nms_shape)



def _combined_nms_shape(ctx: InferenceContext):
    """TF's CombinedNMSShapeFn: ranks, batch and box counts, and the padded output size (max_total_size,
    or with pad_per_class min(max_total_size, max_output_size_per_class * num_classes))."""
    boxes, scores = ctx.shape(0), ctx.shape(1)
    for i, rank in enumerate((4, 3, 0, 0, 0, 0)):
        if ctx.shape(i).ndims is not None and ctx.shape(i).ndims != rank:
            raise ctx.error(f"Shape must be rank {rank} but is rank {ctx.shape(i).ndims}")
    boxes = boxes if boxes.ndims is not None else _ts.unknown_shape(4)
    scores = scores if scores.ndims is not None else _ts.unknown_shape(3)
    for i in (0, 1):  # batch, then anchors
        b, s = boxes[i].value, scores[i].value
        if b is not None and s is not None and b != s:
            raise ctx.error(f"Dimensions must be equal, but are {b} and {s}")
    if boxes[3].value not in (None, 4):
        raise ctx.error(f"Dimension must be 4 but is {boxes[3].value}")
    q, classes = boxes[2].value, scores[2].value
    if q is not None and classes is not None and q not in (1, classes):
        raise ctx.error("third dimension of boxes must be either 1 or equal to the third dimension of scores")

    def scalar_dim(i):  # MakeDimForScalarInput
        value = ctx.value(i)
        if value is None:
            return None
        if int(value) < 0:
            raise ctx.error(f"Dimension size, given by scalar input {i}, must be non-negative but is {int(value)}")
        return int(value)
    total = scalar_dim(3)
    if total is not None and total <= 0:
        raise ctx.error("max_total_size should be > 0 ")
    per_class = scalar_dim(2)
    size = total
    if ctx.attrs["pad_per_class"]:
        if per_class is not None and per_class <= 0:
            raise ctx.error("max_output_size_per_class must be > 0 if pad_per_class is set to true ")
        size = min(total, per_class * classes) if None not in (total, per_class, classes) else None
    batch = boxes[0].value if boxes[0].value is not None else scores[0].value
    return [_ts.TensorShape([batch, size, 4]), _ts.TensorShape([batch, size]), _ts.TensorShape([batch, size]),
            _ts.TensorShape([batch])]


defop("CombinedNonMaxSuppression", "boxes: float32, scores: float32, max_output_size_per_class: int32, "
      "max_total_size: int32, iou_threshold: float32, score_threshold: float32 -> nmsed_boxes: float32, "
      "nmsed_scores: float32, nmsed_classes: float32, valid_detections: int32",
      attrs={"pad_per_class": False, "clip_boxes": True}, shape=_combined_nms_shape)

def _float_image(image, name="image"):
    from graphcompat.image import convert_image_dtype
    image = convert_to_tensor(image, name=name)
    orig = image.dtype.base_dtype
    return image, orig, convert_image_dtype(image, _dt.float32)


def rgb_to_hsv(images, name: Optional[str] = None):
    """`tf.image.rgb_to_hsv` (RGBToHSV): float images with values in [0, 1]."""
    return apply_op("RGBToHSV", [images], name=name)


def hsv_to_rgb(images, name: Optional[str] = None):
    """`tf.image.hsv_to_rgb` (HSVToRGB)."""
    return apply_op("HSVToRGB", [images], name=name)


_RGB_TO_YIQ = [[0.299, 0.59590059, 0.2115], [0.587, -0.27455667, -0.52273617], [0.114, -0.32134392, 0.31119955]]
_YIQ_TO_RGB = [[1, 1, 1], [0.95598634, -0.27201283, -1.10674021], [0.6208248, -0.64720424, 1.70423049]]
_RGB_TO_YUV = [[0.299, -0.14714119, 0.61497538], [0.587, -0.28886916, -0.51496512], [0.114, 0.43601035, -0.10001026]]
_YUV_TO_RGB = [[1, 1, 1], [0, -0.394642334, 2.03206185], [1.13988303, -0.58062185, 0]]


def _color_matrix(kernel, tf_name: str):
    def convert(images):
        from graphcompat.ops.linalg_ops import tensordot
        images = convert_to_tensor(images, name="images")
        k = constant(np.asarray(kernel), dtype=images.dtype.base_dtype, name="kernel")
        ndims = images.shape.ndims
        return tensordot(images, k, axes=[[ndims - 1], [0]])
    convert.__name__ = tf_name
    convert.__doc__ = f"`tf.image.{tf_name}`: a 3x3 colour-space matrix applied to the last axis."
    return convert


rgb_to_yiq = _color_matrix(_RGB_TO_YIQ, "rgb_to_yiq")
yiq_to_rgb = _color_matrix(_YIQ_TO_RGB, "yiq_to_rgb")
rgb_to_yuv = _color_matrix(_RGB_TO_YUV, "rgb_to_yuv")
yuv_to_rgb = _color_matrix(_YUV_TO_RGB, "yuv_to_rgb")


def _hsv_adjust(op_type: str, scope: str, arg: str):
    def adjust(image, value, name: Optional[str] = None):
        from graphcompat.image import convert_image_dtype
        with _ops.name_scope(name, scope, [image]) as name:
            image, orig, flt = _float_image(image)
            adjusted = apply_op(op_type, [flt, convert_to_tensor(value, _dt.float32, name=arg)])
            return convert_image_dtype(adjusted, orig, name=name)
    adjust.__name__ = scope
    adjust.__doc__ = f"`tf.image.{scope}` ({op_type}) in HSV space, back in the image's dtype."
    return adjust


adjust_hue = _hsv_adjust("AdjustHue", "adjust_hue", "delta")
adjust_saturation = _hsv_adjust("AdjustSaturation", "adjust_saturation", "scale")


def random_hue(image, max_delta, seed=None):
    """`tf.image.random_hue`: adjust_hue by a delta uniform in [-max_delta, max_delta)."""
    from graphcompat.ops.random_ops import random_uniform
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_hue(image, random_uniform([], -max_delta, max_delta, seed=seed))


def random_saturation(image, lower, upper, seed=None):
    """`tf.image.random_saturation`: adjust_saturation by a factor uniform in [lower, upper)."""
    from graphcompat.ops.random_ops import random_uniform
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")
    return adjust_saturation(image, random_uniform([], lower, upper, seed=seed))


def adjust_gamma(image, gamma=1, gain=1):
    """`tf.image.adjust_gamma`: gain * image ** gamma (in float, back to the image's dtype)."""
    from graphcompat.image import convert_image_dtype
    from graphcompat.ops import math_ops
    with _ops.name_scope(None, "adjust_gamma", [image, gamma, gain]) as name:
        image, orig, flt = _float_image(image)
        gamma = convert_to_tensor(gamma)
        gain = convert_to_tensor(gain)
        adjusted = math_ops.multiply(math_ops.cast(gain, _dt.float32),
                                     math_ops.pow(flt, math_ops.cast(gamma, _dt.float32)))
        return convert_image_dtype(adjusted, orig, saturate=True, name=name)


def rot90(image, k=1, name: Optional[str] = None):
    """`tf.image.rot90`: `k` quarter turns counter-clockwise. A tensor `k` is TF's graph: k mod 4 picks one
    of the turns with tf.case, and the result's height and width are unknown statically."""
    from graphcompat.ops.array_ops import identity, transpose as _transpose
    from graphcompat.ops.indexing_ops import reverse_v2
    if not isinstance(k, (int, np.integer)):
        return _rot90_by_tensor(image, k, name)
    with _ops.name_scope(name, "rot90", [image, k]) as scope:
        image = convert_to_tensor(image, name="image")
        rank = image.shape.ndims
        if rank not in (3, 4):
            raise ValueError(f"'image' (shape {image.shape}) must have either 3 or 4 dimensions.")
        h, w = (0, 1) if rank == 3 else (1, 2)
        perm = [1, 0, 2] if rank == 3 else [0, 2, 1, 3]
        k = int(k) % 4
        if k == 0:
            return identity(image, name=scope)
        if k == 1:
            return _transpose(reverse_v2(image, [w]), perm, name=scope)
        if k == 2:
            return reverse_v2(image, [h, w], name=scope)
        return reverse_v2(_transpose(image, perm), [w], name=scope)


def _rot90_by_tensor(image, k, name):
    from graphcompat.ops.array_ops import transpose as _transpose
    from graphcompat.ops.control_flow_ops import case, cond
    from graphcompat.ops.indexing_ops import reverse_v2
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.image_crop import _assert_at_least_3d

    def turns(image, k, scope, rank):
        h, w = (0, 1) if rank == 3 else (1, 2)
        perm = [1, 0, 2] if rank == 3 else [0, 2, 1, 3]
        cases = [(math_ops.equal(k, 1), lambda: _transpose(reverse_v2(image, [w]), perm)),
                 (math_ops.equal(k, 2), lambda: reverse_v2(image, [h, w])),
                 (math_ops.equal(k, 3), lambda: reverse_v2(_transpose(image, perm), [w]))]
        result = case(cases, default=lambda: image, exclusive=True, name=scope)
        channels = image.shape[rank - 1] if image.shape.ndims is not None else None
        batch = [image.shape[0] if image.shape.ndims is not None else None] if rank == 4 else []
        result.set_shape(batch + [None, None, channels])
        return result

    with _ops.name_scope(name, "rot90", [image, k]) as scope:
        image = convert_to_tensor(image, name="image")
        image = _assert_at_least_3d(image)
        k = convert_to_tensor(k, dtype=_dt.int32, name="k")
        k.shape.assert_has_rank(0)
        k = math_ops.mod(k, 4)
        rank = image.shape.ndims
        if rank is None:
            return cond(math_ops.equal(array_ops.rank(image), 3), lambda: turns(image, k, scope, 3),
                        lambda: turns(image, k, scope, 4))
        if rank not in (3, 4):
            raise ValueError(f"'image' (shape {image.shape}) must have either 3 or 4 dimensions.")
        return turns(image, k, scope, rank)


def transpose(image, name: Optional[str] = None):
    """`tf.image.transpose`: swaps height and width."""
    from graphcompat.ops.array_ops import transpose as _transpose
    with _ops.name_scope(name, "transpose", [image]):
        image = convert_to_tensor(image, name="image")
        rank = image.shape.ndims
        if rank == 3:
            return _transpose(image, [1, 0, 2], name=name)
        if rank == 4:
            return _transpose(image, [0, 2, 1, 3], name=name)
        raise ValueError(f"'image' (shape {image.shape}) must have either 3 or 4 dimensions.")


def total_variation(images, name: Optional[str] = None):
    """`tf.image.total_variation`: sum of absolute differences of neighbouring pixels (per image)."""
    from graphcompat.ops import math_ops
    with _ops.name_scope(name, "total_variation"):
        images = convert_to_tensor(images, name="images")
        rank = images.shape.ndims
        if rank == 3:
            dif1 = images[1:, :, :] - images[:-1, :, :]
            dif2 = images[:, 1:, :] - images[:, :-1, :]
            axis = None
        elif rank == 4:
            dif1 = images[:, 1:, :, :] - images[:, :-1, :, :]
            dif2 = images[:, :, 1:, :] - images[:, :, :-1, :]
            axis = [1, 2, 3]
        else:
            raise ValueError("'images' must be either 3 or 4-dimensional.")
        return math_ops.add(math_ops.reduce_sum(math_ops.abs(dif1), axis=axis),
                            math_ops.reduce_sum(math_ops.abs(dif2), axis=axis))


def psnr(a, b, max_val, name: Optional[str] = None):
    """`tf.image.psnr`: 20 log10(max_val) - 10 log10(mean squared error) per image."""
    from graphcompat.image import convert_image_dtype
    from graphcompat.ops import math_ops
    with _ops.name_scope(name, "PSNR", [a, b]):
        a, b = convert_to_tensor(a), convert_to_tensor(b)
        max_val = math_ops.cast(convert_to_tensor(max_val), a.dtype.base_dtype)
        max_val = convert_image_dtype(max_val, _dt.float32)
        a = convert_image_dtype(a, _dt.float32)
        b = convert_image_dtype(b, _dt.float32)
        mse = math_ops.reduce_mean(math_ops.squared_difference(a, b), [-3, -2, -1])
        return math_ops.subtract(20 * math_ops.log(max_val) / math_ops.log(10.0),
                                 np.float32(10 / np.log(10)) * math_ops.log(mse), name="psnr")


def _verify_compatible_image_shapes(img1, img2):
    """TF's check: static rank >= 3, compatible last three dims and broadcastable batch dims now; run-time
    Asserts (rank >= 3, equal last three dims) on the ShapeN of both. (shape1, shape2, checks)."""
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ops.data_dependent_ops import Assert
    shape1 = img1.shape.with_rank_at_least(3)
    shape2 = img2.shape.with_rank_at_least(3)
    shape1[-3:].assert_is_compatible_with(shape2[-3:])
    if shape1.ndims is not None and shape2.ndims is not None:
        for dim1, dim2 in zip(reversed(shape1.dims[:-3]), reversed(shape2.dims[:-3])):
            if not (dim1 == 1 or dim2 == 1 or dim1.is_compatible_with(dim2)):
                raise ValueError(f"Two images are not compatible: {shape1} and {shape2}")
    shape1, shape2 = array_ops.shape_n([img1, img2])
    checks = [Assert(math_ops.greater_equal(array_ops.size(shape1), 3), [shape1, shape2], summarize=10),
              Assert(math_ops.reduce_all(math_ops.equal(shape1[-3:], shape2[-3:])), [shape1, shape2],
                     summarize=10)]
    return shape1, shape2, checks


def _ssim_helper(x, y, reducer, max_val, compensation=1.0, k1=0.01, k2=0.03):
    from graphcompat.ops import math_ops
    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    mean0 = reducer(x)
    mean1 = reducer(y)
    num0 = mean0 * mean1 * 2.0
    den0 = math_ops.square(mean0) + math_ops.square(mean1)
    luminance = (num0 + c1) / (den0 + c1)
    num1 = reducer(x * y) * 2.0
    den1 = reducer(math_ops.square(x) + math_ops.square(y))
    c2 *= compensation
    cs = (num1 - num0 + c2) / (den1 - den0 + c2)
    return luminance, cs


def _fspecial_gauss(size, sigma):
    """TF's Gaussian window as graph ops: a softmax of -(y^2 + x^2) / (2 sigma^2), [size, size, 1, 1]."""
    from graphcompat.nn.nn_ops import softmax
    from graphcompat.ops import array_ops, math_ops
    size = convert_to_tensor(size, _dt.int32)
    sigma = convert_to_tensor(sigma)
    coords = math_ops.cast(math_ops.range(size), sigma.dtype)
    coords -= math_ops.cast(size - 1, sigma.dtype) / 2.0
    g = math_ops.square(coords)
    g *= -0.5 / math_ops.square(sigma)
    g = array_ops.reshape(g, shape=[1, -1]) + array_ops.reshape(g, shape=[-1, 1])
    g = array_ops.reshape(g, shape=[1, -1])
    g = softmax(g)
    return array_ops.reshape(g, shape=[size, size, 1, 1])


def _ssim_per_channel(img1, img2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
                      return_index_map=False):
    from graphcompat.nn.conv_nd import depthwise_conv2d
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ops.data_dependent_ops import Assert
    filter_size = constant(filter_size, dtype=_dt.int32)
    filter_sigma = constant(filter_sigma, dtype=img1.dtype.base_dtype)
    shape1, shape2 = array_ops.shape_n([img1, img2])
    checks = [Assert(math_ops.reduce_all(math_ops.greater_equal(shape1[-3:-1], filter_size)),
                     [shape1, filter_size], summarize=8),
              Assert(math_ops.reduce_all(math_ops.greater_equal(shape2[-3:-1], filter_size)),
                     [shape2, filter_size], summarize=8)]
    with _ops.control_dependencies(checks):
        img1 = array_ops.identity(img1)
    kernel = _fspecial_gauss(filter_size, filter_sigma)
    kernel = array_ops.tile(kernel, multiples=[1, 1, shape1[-1], 1])  # channels from the run-time shape

    def reducer(x):
        shape = array_ops.shape(x)
        x = array_ops.reshape(x, shape=array_ops.concat([[-1], shape[-3:]], 0))
        y = depthwise_conv2d(x, kernel, strides=[1, 1, 1, 1], padding="VALID")
        return array_ops.reshape(y, array_ops.concat([shape[:-3], array_ops.shape(y)[1:]], 0))

    luminance, cs = _ssim_helper(img1, img2, reducer, max_val, 1.0, k1, k2)
    if return_index_map:
        ssim_val = luminance * cs
    else:
        axes = constant([-3, -2], dtype=_dt.int32)
        ssim_val = math_ops.reduce_mean(luminance * cs, axes)
        cs = math_ops.reduce_mean(cs, axes)
    return ssim_val, cs


def ssim(img1, img2, max_val, filter_size: int = 11, filter_sigma: float = 1.5, k1: float = 0.01,
         k2: float = 0.03, return_index_map: bool = False):
    """`tf.image.ssim`: mean structural similarity over the last three axes (Gaussian window, VALID), built
    as TF's graph: any number of channels (also unknown) and batch dimensions, run-time shape checks."""
    from graphcompat.image import convert_image_dtype
    from graphcompat.ops import array_ops, math_ops
    with _ops.name_scope(None, "SSIM", [img1, img2]):
        img1 = convert_to_tensor(img1, name="img1")
        img2 = convert_to_tensor(img2, name="img2")
        _, _, checks = _verify_compatible_image_shapes(img1, img2)
        with _ops.control_dependencies(checks):
            img1 = array_ops.identity(img1)
        max_val = math_ops.cast(max_val, img1.dtype.base_dtype)
        max_val = convert_image_dtype(max_val, _dt.float32)
        img1 = convert_image_dtype(img1, _dt.float32)
        img2 = convert_image_dtype(img2, _dt.float32)
        ssim_per_channel, _ = _ssim_per_channel(img1, img2, max_val, filter_size, filter_sigma, k1, k2,
                                                return_index_map)
        return math_ops.reduce_mean(ssim_per_channel, [-1])


_MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ssim_multiscale(img1, img2, max_val, power_factors=_MSSSIM_WEIGHTS, filter_size: int = 11,
                    filter_sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03):
    """`tf.image.ssim_multiscale`: the product over scales of relu(contrast-structure) ** power (the last
    scale's full SSIM instead), averaged over channels. Built as TF's graph: each scale after the first pads
    odd heights/widths symmetrically (a `cond` on the run-time shape) and 2x2-average-pools both images."""
    from graphcompat.image import convert_image_dtype
    from graphcompat.nn.nn_ops import avg_pool, relu
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ops.control_flow_ops import cond
    from graphcompat.ops.indexing_ops import pad
    with _ops.name_scope(None, "MS-SSIM", [img1, img2]):
        img1 = convert_to_tensor(img1, name="img1")
        img2 = convert_to_tensor(img2, name="img2")
        shape1, shape2, checks = _verify_compatible_image_shapes(img1, img2)
        with _ops.control_dependencies(checks):
            img1 = array_ops.identity(img1)
        max_val = math_ops.cast(max_val, img1.dtype)
        max_val = convert_image_dtype(max_val, _dt.float32)
        img1 = convert_image_dtype(img1, _dt.float32)
        img2 = convert_image_dtype(img2, _dt.float32)
        imgs = [img1, img2]
        heads = [s[:-3] for s in (shape1, shape2)]
        tails = [s[-3:] for s in (shape1, shape2)]
        divisor = [1, 2, 2, 1]
        divisor_tensor = constant(divisor[1:], dtype=_dt.int32)

        def do_pad(images, remainder):
            # pad the odd dimensions by one row/column at the end, mirrored (TF pads [0, remainder])
            padding = array_ops.expand_dims(remainder, -1)
            padding = pad(padding, [[1, 0], [1, 0]])
            return [pad(x, padding, mode="SYMMETRIC") for x in images]

        mcs = []
        for k in range(len(power_factors)):
            with _ops.name_scope(None, f"Scale{k}", imgs):
                if k > 0:
                    flat = [array_ops.reshape(x, array_ops.concat([[-1], t], 0)) for x, t in zip(imgs, tails)]
                    remainder = tails[0] % divisor_tensor
                    need_padding = math_ops.reduce_any(math_ops.not_equal(remainder, 0))
                    padded = cond(need_padding, lambda: do_pad(flat, remainder), lambda: flat)
                    downscaled = [avg_pool(x, ksize=divisor, strides=divisor, padding="VALID") for x in padded]
                    tails = [x[1:] for x in array_ops.shape_n(downscaled)]
                    imgs = [array_ops.reshape(x, array_ops.concat([h, t], 0))
                            for x, h, t in zip(downscaled, heads, tails)]
                ssim_per_channel, cs = _ssim_per_channel(*imgs, max_val=max_val, filter_size=filter_size,
                                                         filter_sigma=filter_sigma, k1=k1, k2=k2)
                mcs.append(relu(cs))
        mcs.pop()  # the last scale contributes its full SSIM, not its contrast-structure term
        mcs_and_ssim = array_ops.stack(mcs + [relu(ssim_per_channel)], axis=-1)
        ms_ssim = math_ops.reduce_prod(math_ops.pow(mcs_and_ssim, power_factors), [-1])
        return math_ops.reduce_mean(ms_ssim, [-1])  # the mean over channels


def image_gradients(image):
    """`tf.image.image_gradients`: (dy, dx) forward differences, zero in the last row / column."""
    from graphcompat.ops import array_ops
    image = convert_to_tensor(image)
    if image.shape.ndims != 4:
        raise ValueError(f"image_gradients expects a 4D tensor [batch_size, h, w, d], not {image.shape}.")
    shape = array_ops.shape(image)
    batch_size, height, width, depth = array_ops.unstack(shape)
    dy = image[:, 1:, :, :] - image[:, :-1, :, :]
    dx = image[:, :, 1:, :] - image[:, :, :-1, :]
    dy = array_ops.concat([dy, array_ops.zeros(array_ops.stack([batch_size, 1, width, depth]), image.dtype)], 1)
    dy = array_ops.reshape(dy, shape)
    dx = array_ops.concat([dx, array_ops.zeros(array_ops.stack([batch_size, height, 1, depth]), image.dtype)], 2)
    dx = array_ops.reshape(dx, shape)
    return dy, dx


def sobel_edges(image):
    """`tf.image.sobel_edges`: [batch, h, w, d, 2] Sobel responses (dy, dx), reflect-padded; the kernel is
    tiled over the channels from tf.shape (TF's `sobel_filters` Tile), so d may be unknown."""
    from graphcompat.nn.conv_nd import depthwise_conv2d
    from graphcompat.ops import array_ops
    from graphcompat.ops.indexing_ops import pad
    image = convert_to_tensor(image)
    static_image_shape = image.shape
    image_shape = array_ops.shape(image)
    kernels = [[[-1, -2, -1], [0, 0, 0], [1, 2, 1]], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]]
    num_kernels = len(kernels)
    kernels = np.expand_dims(np.transpose(np.asarray(kernels), (1, 2, 0)), -2)
    kernels_tf = constant(kernels, dtype=image.dtype.base_dtype)
    kernels_tf = array_ops.tile(kernels_tf, [1, 1, image_shape[-1], 1], name="sobel_filters")
    padded = pad(image, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    output = depthwise_conv2d(padded, kernels_tf, [1, 1, 1, 1], "VALID")
    shape = array_ops.concat([image_shape, [num_kernels]], 0)
    output = array_ops.reshape(output, shape=shape)
    output.set_shape(static_image_shape.concatenate([num_kernels]))
    return output


def extract_image_patches(images, ksizes=None, strides=None, rates=None, padding=None, name: Optional[str] = None,
                          sizes=None):
    """`tf.image.extract_patches` / `extract_image_patches`: each output pixel holds its patch, flattened in
    (row, column, depth) order."""
    ksizes = sizes if ksizes is None else ksizes
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"Attr 'padding' of 'ExtractImagePatches' Op passed string '{padding}' not in: "
                         f"\"SAME\", \"VALID\".")
    return apply_op("ExtractImagePatches", [images], {"ksizes": [int(k) for k in ksizes],
                                                      "strides": [int(s) for s in strides],
                                                      "rates": [int(r) for r in rates], "padding": padding},
                    name=name)


def extract_volume_patches(input, ksizes, strides, padding: str, name: Optional[str] = None):  # noqa: A002
    """`tf.extract_volume_patches`: the 3-D `extract_image_patches` (no rates); each output voxel holds its
    [planes, rows, cols, depth] patch flattened in that order. op_def_library's attr checks come first."""
    for attr, values in (("ksizes", ksizes), ("strides", strides)):
        if not isinstance(values, (list, tuple)):
            raise TypeError(f"Expected list for '{attr}' argument to 'extract_volume_patches' Op, not {values!r}.")
        if len(values) < 5:
            raise ValueError(f"Attr '{attr}' of 'ExtractVolumePatches' Op passed list of length {len(values)} "
                             f"less than minimum 5.")
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"Attr 'padding' of 'ExtractVolumePatches' Op passed string '{padding}' not in: "
                         f"\"SAME\", \"VALID\".")
    return apply_op("ExtractVolumePatches", [input], {"ksizes": [int(k) for k in ksizes],
                                                     "strides": [int(s) for s in strides], "padding": padding},
                    name=name)


def extract_patches(images, sizes, strides, rates, padding, name: Optional[str] = None):
    return extract_image_patches(images, sizes, strides, rates, padding, name=name)


def crop_and_resize(image, boxes, box_ind=None, crop_size=None, method: str = "bilinear", extrapolation_value=0.0,
                    name: Optional[str] = None, box_indices=None):
    """`tf.image.crop_and_resize`: each normalized box [y1, x1, y2, x2] of image `box_ind` resampled to
    `crop_size` (bilinear or nearest); samples outside the image get `extrapolation_value`."""
    box_ind = box_indices if box_ind is None else box_ind
    if method not in ("bilinear", "nearest"):
        raise ValueError(f"Attr 'method' of 'CropAndResize' Op passed string '{method}' not in: \"bilinear\", "
                         f"\"nearest\".")
    return apply_op("CropAndResize", [image, boxes, box_ind, crop_size],
                    {"method": method, "extrapolation_value": float(extrapolation_value)}, name=name)


def draw_bounding_boxes(images, boxes, name: Optional[str] = None, colors=None):
    """`tf.image.draw_bounding_boxes`: one-pixel box outlines (normalized [y1, x1, y2, x2]) in cycling colors
    (the kernel's table of ten when `colors` is None: DrawBoundingBoxes, as TF records it)."""
    if colors is None:
        return apply_op("DrawBoundingBoxes", [images, boxes], name=name)
    return apply_op("DrawBoundingBoxesV2", [images, boxes, colors], name=name)


def non_max_suppression(boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
                        name: Optional[str] = None):
    """`tf.image.non_max_suppression` (NonMaxSuppressionV3): indices of the kept boxes, best first."""
    with _ops.name_scope(name, "non_max_suppression"):
        iou_threshold = convert_to_tensor(iou_threshold, name="iou_threshold")
        score_threshold = convert_to_tensor(score_threshold, name="score_threshold")
        return apply_op("NonMaxSuppressionV3", [boxes, scores, max_output_size, iou_threshold, score_threshold])


def non_max_suppression_with_scores(boxes, scores, max_output_size, iou_threshold=0.5,
                                    score_threshold=float("-inf"), soft_nms_sigma=0.0, name: Optional[str] = None):
    """`tf.image.non_max_suppression_with_scores` (NonMaxSuppressionV5): (indices, scores)."""
    with _ops.name_scope(name, "non_max_suppression_with_scores"):
        iou_threshold = convert_to_tensor(iou_threshold, name="iou_threshold")
        score_threshold = convert_to_tensor(score_threshold, name="score_threshold")
        soft_nms_sigma = convert_to_tensor(soft_nms_sigma, name="soft_nms_sigma")
        indices, selected_scores, _ = apply_op(
            "NonMaxSuppressionV5", [boxes, scores, max_output_size, iou_threshold, score_threshold, soft_nms_sigma],
            {"pad_to_max_output_size": False})
        return indices, selected_scores


def non_max_suppression_overlaps(overlaps, scores, max_output_size, overlap_threshold=0.5,
                                 score_threshold=float("-inf"), name: Optional[str] = None):
    """`tf.image.non_max_suppression_overlaps`: greedy selection by a precomputed overlap matrix."""
    with _ops.name_scope(name, "non_max_suppression_overlaps"):
        overlap_threshold = convert_to_tensor(overlap_threshold, name="overlap_threshold")
        return apply_op("NonMaxSuppressionWithOverlaps", [overlaps, scores, max_output_size, overlap_threshold,
                                                          score_threshold])



# what TF's generated op function returns: a namedtuple named after the op
CombinedNonMaxSuppression = collections.namedtuple(
    "CombinedNonMaxSuppression", ["nmsed_boxes", "nmsed_scores", "nmsed_classes", "valid_detections"])


def combined_non_max_suppression(boxes, scores, max_output_size_per_class, max_total_size, iou_threshold=0.5,
                                 score_threshold=float("-inf"), pad_per_class: bool = False,
                                 clip_boxes: bool = True, name: Optional[str] = None):
    """`tf.image.combined_non_max_suppression`: greedy NMS per batch and class (boxes [batch, anchors, q, 4]
    shared by all classes when q is 1), the survivors of all classes merged best first and padded;
    (nmsed_boxes, nmsed_scores, nmsed_classes, valid_detections), as TF's CombinedNonMaxSuppression."""
    with _ops.name_scope(name, "combined_non_max_suppression"):
        iou_threshold = convert_to_tensor(iou_threshold, dtype=_dt.float32, name="iou_threshold")
        score_threshold = convert_to_tensor(score_threshold, dtype=_dt.float32, name="score_threshold")
        # no dtype: a size beyond int32 becomes an int64 tensor, which the op then rejects (as TF)
        max_total_size = convert_to_tensor(max_total_size)
        return CombinedNonMaxSuppression(*apply_op(
            "CombinedNonMaxSuppression", [boxes, scores, max_output_size_per_class, max_total_size, iou_threshold,
                                          score_threshold],
            {"pad_per_class": bool(pad_per_class), "clip_boxes": bool(clip_boxes)}))

__all__ = ["crop_and_resize", "draw_bounding_boxes", "rgb_to_hsv", "hsv_to_rgb",
           "rgb_to_yiq", "yiq_to_rgb", "rgb_to_yuv", "yuv_to_rgb", "adjust_hue",
           "adjust_saturation", "random_hue", "random_saturation", "adjust_gamma", "rot90", "transpose",
           "total_variation", "psnr", "ssim", "image_gradients", "sobel_edges", "extract_image_patches",
           "extract_patches", "non_max_suppression", "non_max_suppression_with_scores",
           "non_max_suppression_overlaps", "combined_non_max_suppression"]
