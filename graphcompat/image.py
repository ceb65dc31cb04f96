"""`tf.image`: decoding (host ops), resizing with TF1's `align_corners=False` semantics, colour and dtype
conversion, standardization. Lowerings: lowering/rules/image.py.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import (constant, constant_value_as_shape,
                                              convert_to_tensor)
from graphcompat.framework.registry import InferenceContext, apply_op, defop
from graphcompat.ops import array_ops as _array
from graphcompat.ops import control_flow_ops as _control_flow
from graphcompat.ops import indexing_ops as _indexing
from graphcompat.ops import math_ops as _math
from graphcompat.ops import random_ops as _random
from graphcompat.ops import reduction_ops as _reduction


# ------------------------------------------------------------------------------------------------
# Decoding (host ops: strings in, data-dependent shapes out)
# ------------------------------------------------------------------------------------------------
def _decoded_shape(ctx: InferenceContext):
    if ctx.shape(0).ndims not in (None, 0):
        raise ctx.error(f"Shape must be rank 0 but is rank {ctx.shape(0).ndims}")
    channels = ctx.attrs.get("channels", 0)
    if ctx.op_type == "DecodeImage" and ctx.attrs.get("expand_animations", True):
        return [_ts.unknown_shape()]
    return [_ts.TensorShape([None, None, channels or None])]


_JPEG_ATTRS = {"channels": 0, "ratio": 1, "fancy_upscaling": True, "try_recover_truncated": False,
               "acceptable_fraction": 1.0, "dct_method": ""}
defop("DecodeJpeg", "contents: string -> image: uint8", attrs=_JPEG_ATTRS, shape=_decoded_shape)
defop("DecodePng", "contents: string -> image: dtype", attrs={"channels": 0, "dtype": _dt.uint8},
      shape=_decoded_shape)
defop("DecodeImage", "contents: string -> image: dtype",
      attrs={"channels": 0, "dtype": _dt.uint8, "expand_animations": True}, shape=_decoded_shape)


def _check_channels(channels, allowed=(0, 1, 3, 4)) -> int:
    channels = 0 if channels is None else int(channels)
    if channels not in allowed:
        raise ValueError(f"channels must be in {allowed}, got {channels}")
    return channels


def decode_jpeg(contents, channels: int = 0, ratio: int = 1, fancy_upscaling: bool = True,
                try_recover_truncated: bool = False, acceptable_fraction: float = 1, dct_method: str = "",
                name: Optional[str] = None):
    """`tf.image.decode_jpeg`: uint8 [height, width, channels] (decoded on the host)."""
    attrs = {"channels": _check_channels(channels, (0, 1, 3)), "ratio": int(ratio),
             "fancy_upscaling": bool(fancy_upscaling), "try_recover_truncated": bool(try_recover_truncated),
             "acceptable_fraction": float(acceptable_fraction), "dct_method": dct_method}
    return apply_op("DecodeJpeg", [contents], attrs, name=name)


def decode_png(contents, channels: int = 0, dtype=_dt.uint8, name: Optional[str] = None):
    """`tf.image.decode_png`: uint8/uint16 [height, width, channels] (decoded on the host)."""
    dtype = _dt.as_dtype(dtype)
    if dtype not in (_dt.uint8, _dt.uint16):
        raise TypeError(f"Value passed to parameter 'dtype' has DataType {dtype.name} not in list of allowed "
                        "values: uint8, uint16")
    return apply_op("DecodePng", [contents], {"channels": _check_channels(channels), "dtype": dtype}, name=name)


def decode_image(contents, channels=None, dtype=_dt.uint8, name: Optional[str] = None,
                 expand_animations: bool = True):
    """`tf.image.decode_image`: PNG, JPEG, GIF or BMP by content. The kernel decodes to uint8, uint16 or
    float32 itself (a PNG's 16 bits go straight to float); other dtypes convert its uint16 result."""
    dtype = _dt.as_dtype(dtype)
    with _ops.name_scope(name, "decode_image"):
        decode_dtype = dtype if dtype in (_dt.float32, _dt.uint8, _dt.uint16) else _dt.uint16
        image = apply_op("DecodeImage", [contents],
                         {"channels": _check_channels(channels), "dtype": decode_dtype,
                          "expand_animations": bool(expand_animations)}, name="DecodeImage")
        if decode_dtype != dtype:
            image = convert_image_dtype(image, dtype)
        return image


defop("DecodeGif", "contents: string -> image: uint8", shape=lambda ctx: [_ts.TensorShape([None, None, None, 3])])
defop("DecodeBmp", "contents: string -> image: uint8", attrs={"channels": 0},
      shape=lambda ctx: [_ts.TensorShape([None, None, ctx.attrs["channels"] or None])])


def _encode_shape(ctx: InferenceContext):
    if ctx.shape(0).ndims not in (None, 3):
        raise ctx.error(f"Shape must be rank 3 but is rank {ctx.shape(0).ndims}")
    return [_ts.TensorShape([])]


defop("EncodePng", "image: T -> contents: string", attrs={"compression": -1},
      types={"T": (_dt.uint8, _dt.uint16)}, shape=_encode_shape)
defop("EncodeJpeg", "image: uint8 -> contents: string",
      attrs={"format": "", "quality": 95, "progressive": False, "optimize_size": False,
             "chroma_downsampling": True, "density_unit": "in", "x_density": 300, "y_density": 300,
             "xmp_metadata": ""}, shape=_encode_shape)


def decode_gif(contents, name: Optional[str] = None):
    """`tf.image.decode_gif`: uint8 [num_frames, height, width, 3] (decoded on the host)."""
    return apply_op("DecodeGif", [contents], name=name)


def decode_bmp(contents, channels: int = 0, name: Optional[str] = None):
    """`tf.image.decode_bmp`: uint8 [height, width, channels] (decoded on the host)."""
    return apply_op("DecodeBmp", [contents], {"channels": _check_channels(channels, (0, 3, 4))}, name=name)


def encode_png(image, compression: int = -1, name: Optional[str] = None):
    """`tf.image.encode_png`: PNG bytes of a uint8/uint16 [height, width, channels] image."""
    return apply_op("EncodePng", [image], {"compression": int(compression)}, name=name)


def encode_jpeg(image, format: str = "", quality: int = 95, progressive: bool = False,  # noqa: A002
                optimize_size: bool = False, chroma_downsampling: bool = True, density_unit: str = "in",
                x_density: int = 300, y_density: int = 300, xmp_metadata: str = "", name: Optional[str] = None):
    """`tf.image.encode_jpeg`: JPEG bytes of a uint8 [height, width, 1|3] image (Pillow on the host)."""
    attrs = {"format": format, "quality": int(quality), "progressive": bool(progressive),
             "optimize_size": bool(optimize_size), "chroma_downsampling": bool(chroma_downsampling),
             "density_unit": density_unit, "x_density": int(x_density), "y_density": int(y_density),
             "xmp_metadata": xmp_metadata}
    return apply_op("EncodeJpeg", [image], attrs, name=name)


# ------------------------------------------------------------------------------------------------
# Resizing
# ------------------------------------------------------------------------------------------------
class ResizeMethod:
    """TF1's `tf.image.ResizeMethod` (integer values)."""
    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


def _resize_shape(ctx: InferenceContext):
    images, size = ctx.shape(0), ctx.shape(1)
    if images.ndims is not None and images.ndims != 4:
        raise ctx.error(f"Shape must be rank 4 but is rank {images.ndims}")
    if size.ndims is not None and size.ndims != 1:
        raise ctx.error(f"Shape must be rank 1 but is rank {size.ndims}")
    if size.ndims == 1 and size[0].value not in (None, 2):
        raise ctx.error(f"Dimension must be 2 but is {size[0].value}")
    value = ctx.value(1)
    hw = [None, None] if value is None else [int(v) for v in np.reshape(value, [-1])]
    if images.ndims is None:
        return [_ts.TensorShape([None, hw[0], hw[1], None])]
    return [_ts.TensorShape([images[0], hw[0], hw[1], images[3]])]


_REAL = tuple(t for t in _dt.REAL_NUMBER_TYPES)
for _op in ("ResizeBilinear", "ResizeBicubic"):
    defop(_op, "images: T, size: int32 -> resized_images: float32",
          attrs={"align_corners": False, "half_pixel_centers": False}, types={"T": _REAL}, shape=_resize_shape)
# TF's ResizeArea has no half_pixel_centers attr (its kernel maps pixels the legacy way only)
defop("ResizeArea", "images: T, size: int32 -> resized_images: float32", attrs={"align_corners": False},
      types={"T": _REAL}, shape=_resize_shape)
defop("ResizeNearestNeighbor", "images: T, size: int32 -> resized_images: T",
      attrs={"align_corners": False, "half_pixel_centers": False}, types={"T": _REAL}, shape=_resize_shape)

_RESIZE_OPS = {ResizeMethod.BILINEAR: "ResizeBilinear", ResizeMethod.NEAREST_NEIGHBOR: "ResizeNearestNeighbor",
               ResizeMethod.BICUBIC: "ResizeBicubic", ResizeMethod.AREA: "ResizeArea",
               "bilinear": "ResizeBilinear", "nearest": "ResizeNearestNeighbor", "bicubic": "ResizeBicubic",
               "area": "ResizeArea"}


def resize_images(images, size, method=ResizeMethod.BILINEAR, align_corners: bool = False,
                  preserve_aspect_ratio: bool = False, name: Optional[str] = None):
    """`tf.image.resize_images` (TF1): legacy pixel mapping (`half_pixel_centers=False`); built as TF's
    `_resize_images_common` (preserve_aspect_ratio computes the size with float32 tensor ops, so it works
    for images of unknown size; the result's height and width are static only when the size is)."""
    if method not in _RESIZE_OPS:
        raise ValueError("Resize method is not implemented: {}".format(method))
    with _ops.name_scope(name, "resize", [images, size]):
        images = convert_to_tensor(images, name="images")
        if images.shape.ndims is None:
            raise ValueError("'images' contains no shape.")
        is_batch = True
        if images.shape.ndims == 3:
            is_batch = False
            images = _array.expand_dims(images, 0)
        elif images.shape.ndims != 4:
            raise ValueError("'images' must have either 3 or 4 dimensions.")
        _, height, width, _ = images.shape.as_list()
        try:
            size = convert_to_tensor(size, _dt.int32, name="size")
        except (TypeError, ValueError):
            raise ValueError("'size' must be a 1-D int32 Tensor") from None
        if not size.shape.is_compatible_with([2]):
            raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, new_width")
        if preserve_aspect_ratio:
            from graphcompat.image_crop import _image_dimensions
            _, current_height, current_width, _ = _image_dimensions(images, rank=4)
            scale_factor_height = _math.cast(size[0], _dt.float32) / _math.cast(current_height, _dt.float32)
            scale_factor_width = _math.cast(size[1], _dt.float32) / _math.cast(current_width, _dt.float32)
            scale_factor = _math.minimum(scale_factor_height, scale_factor_width)
            scaled_height = _math.cast(_math.round(scale_factor * _math.cast(current_height, _dt.float32)), _dt.int32)
            scaled_width = _math.cast(_math.round(scale_factor * _math.cast(current_width, _dt.float32)), _dt.int32)
            size = convert_to_tensor([scaled_height, scaled_width], _dt.int32, name="size")
        new_h = new_w = None
        if not preserve_aspect_ratio:
            # TF's Python constant_value cannot see through the float32 size arithmetic above (Round), so
            # it never skips the resize nor sets a static size after preserve_aspect_ratio; the op's shape
            # function (which evaluates constant subgraphs) may still know the size.
            new_shape = constant_value_as_shape(size)
            new_h = new_shape[0].value if new_shape.ndims else None
            new_w = new_shape[1].value if new_shape.ndims else None
        if None not in (new_w, width, new_h, height) and (width == new_w and height == new_h):
            return images if is_batch else _array.squeeze(images, axis=[0])  # TF skips the resize
        attrs = {"align_corners": bool(align_corners)}
        if _RESIZE_OPS[method] != "ResizeArea":  # (an attr ResizeArea's OpDef lacks)
            attrs["half_pixel_centers"] = False
        resized = apply_op(_RESIZE_OPS[method], [images, size], attrs, name=_RESIZE_OPS[method])
        resized.set_shape([None, new_h, new_w, None])
        return resized if is_batch else _array.squeeze(resized, axis=[0])


def resize_bilinear(images, size, align_corners=False, name=None, half_pixel_centers=False):
    return apply_op("ResizeBilinear", [images, size], {"align_corners": align_corners,
                                                      "half_pixel_centers": half_pixel_centers}, name=name)


def resize_nearest_neighbor(images, size, align_corners=False, name=None, half_pixel_centers=False):
    return apply_op("ResizeNearestNeighbor", [images, size], {"align_corners": align_corners,
                                                             "half_pixel_centers": half_pixel_centers}, name=name)


def resize_bicubic(images, size, align_corners=False, name=None, half_pixel_centers=False):
    return apply_op("ResizeBicubic", [images, size], {"align_corners": align_corners,
                                                     "half_pixel_centers": half_pixel_centers}, name=name)


def resize_area(images, size, align_corners=False, name=None):
    return apply_op("ResizeArea", [images, size], {"align_corners": align_corners}, name=name)


resize = resize_images


# ------------------------------------------------------------------------------------------------
# Dtype and colour conversion, standardization (compositions of math ops, as TF builds them)
# ------------------------------------------------------------------------------------------------
def convert_image_dtype(image, dtype, saturate: bool = False, name: Optional[str] = None):
    """`tf.image.convert_image_dtype`: integers span [0, MAX], floats [0, 1]; rescales between them with the
    ops TF records (a narrower integer type: FloorDiv by the ratio of the ranges, then Cast)."""
    image = convert_to_tensor(image, name="image")
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_floating and not dtype.is_integer:
        raise AttributeError("dtype must be either floating point or integer")
    if not image.dtype.is_floating and not image.dtype.is_integer:
        raise AttributeError("image dtype must be either floating point or integer")
    if dtype == image.dtype.base_dtype:
        return _array.identity(image, name=name)
    with _ops.name_scope(name, "convert_image", [image]) as name:
        src = image.dtype.base_dtype
        cast = _math.saturate_cast if saturate else _math.cast
        if src.is_integer and dtype.is_integer:
            scale_in, scale_out = src.max, dtype.max
            if scale_in > scale_out:
                scaled = _math.floordiv(image, (scale_in + 1) // (scale_out + 1))
                return cast(scaled, dtype, name=name)
            casted = cast(image, dtype)
            return _math.multiply(casted, (scale_out + 1) // (scale_in + 1), name=name)
        if src.is_floating and dtype.is_floating:
            return _math.cast(image, dtype, name=name)
        if src.is_integer:
            casted = _math.cast(image, dtype)
            return _math.multiply(casted, 1.0 / src.max, name=name)
        scaled = _math.multiply(image, dtype.max + 0.5)  # + 0.5: TF's guard against rounding down
        return cast(scaled, dtype, name=name)


def rgb_to_grayscale(images, name: Optional[str] = None):
    """`tf.image.rgb_to_grayscale`: 0.2989 R + 0.5870 G + 0.1140 B, keeping a channel dimension of 1."""
    with _ops.name_scope(name, "rgb_to_grayscale", [images]) as name:
        images = convert_to_tensor(images, name="images")
        if images.shape.ndims is not None and images.shape[-1].value not in (None, 3):
            raise ValueError(f"Dimensions must be equal, but are {images.shape[-1].value} and 3")
        orig = images.dtype.base_dtype
        flt = convert_image_dtype(images, _dt.float32)
        weights = constant(np.array([0.2989, 0.5870, 0.1140], np.float32), name="rgb_weights")
        gray = _math.reduce_sum(_math.multiply(flt, weights), axis=-1, keepdims=True)
        return convert_image_dtype(gray, orig, name=name)


# ------------------------------------------------------------------------------------------------
# Flips, crops, pads, brightness/contrast (compositions of array/math/random ops and tf.cond, as TF)
# ------------------------------------------------------------------------------------------------
def _image_rank(image, what: str) -> int:
    rank = image.shape.ndims
    if rank is None:
        raise ValueError(f"'image' ({image.name}) must have known rank for {what} in graphcompat")
    if rank not in (3, 4):
        raise ValueError(f"'image' (shape {image.shape}) must have either 3 or 4 dimensions.")
    return rank


def _flip(image, axis: int, scope: str, name=None):
    with _ops.name_scope(name, scope, [image]):
        image = convert_to_tensor(image, name="image")
        rank = _image_rank(image, scope)
        return _indexing.reverse(image, [axis + (rank - 3)])


def flip_left_right(image, name=None):
    """`tf.image.flip_left_right`: mirror the width dimension."""
    return _flip(image, 1, "flip_left_right", name)


def flip_up_down(image, name=None):
    """`tf.image.flip_up_down`: mirror the height dimension."""
    return _flip(image, 0, "flip_up_down", name)


def _random_flip(image, axis: int, seed, scope: str):
    with _ops.name_scope(None, scope, [image]) as name:
        image = convert_to_tensor(image, name="image")
        rank = _image_rank(image, scope)
        if rank == 3:
            mirror = _math.less(_random.random_uniform([], 0, 1.0, seed=seed), 0.5)
            return _control_flow.cond(mirror, lambda: _indexing.reverse(image, [axis]), lambda: image, name=name)
        batch = _array.shape(image)[0]
        flips = _math.round(_array.reshape(_random.random_uniform(_array.reshape(batch, [1]), 0, 1.0, seed=seed),
                                           _array.stack([batch, 1, 1, 1])))
        flips = _math.cast(flips, image.dtype)
        return flips * _indexing.reverse(image, [axis + 1]) + (1 - flips) * image


def random_flip_left_right(image, seed=None):
    """`tf.image.random_flip_left_right`: each image mirrored with probability 1/2."""
    return _random_flip(image, 1, seed, "random_flip_left_right")


def random_flip_up_down(image, seed=None):
    """`tf.image.random_flip_up_down`: each image flipped vertically with probability 1/2."""
    return _random_flip(image, 0, seed, "random_flip_up_down")


def adjust_brightness(image, delta):
    """`tf.image.adjust_brightness`: add `delta` in [0, 1] float space, saturating back to the dtype."""
    with _ops.name_scope(None, "adjust_brightness", [image, delta]) as name:
        image = convert_to_tensor(image, name="image")
        orig = image.dtype.base_dtype
        flt = image if orig in (_dt.float16, _dt.float32) else convert_image_dtype(image, _dt.float32)
        adjusted = _math.add(flt, _math.cast(delta, flt.dtype.base_dtype), name=name)
        return convert_image_dtype(adjusted, orig, saturate=True)


def adjust_contrast(images, contrast_factor):
    """`tf.image.adjust_contrast`: (x - mean) * factor + mean, per image and channel."""
    from graphcompat.framework.registry import apply_op
    with _ops.name_scope(None, "adjust_contrast", [images, contrast_factor]) as name:
        images = convert_to_tensor(images, name="images")
        orig = images.dtype.base_dtype
        flt = images if orig in (_dt.float16, _dt.float32) else convert_image_dtype(images, _dt.float32)
        # TF's kernel (graphcompat/ops/legacy_ops.py), named after the scope as TF's Python names it
        adjusted = apply_op("AdjustContrastv2", [flt, contrast_factor], name=name)
        return convert_image_dtype(adjusted, orig, saturate=True)


def random_brightness(image, max_delta, seed=None):
    """`tf.image.random_brightness`: adjust_brightness by a delta uniform in [-max_delta, max_delta)."""
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    delta = _random.random_uniform([], -max_delta, max_delta, seed=seed)
    return adjust_brightness(image, delta)


def random_contrast(image, lower, upper, seed=None):
    """`tf.image.random_contrast`: adjust_contrast by a factor uniform in [lower, upper)."""
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")
    factor = _random.random_uniform([], lower, upper, seed=seed)
    return adjust_contrast(image, factor)


__all__ = ["decode_jpeg", "decode_png", "decode_image", "decode_gif", "decode_bmp", "encode_png", "encode_jpeg", "resize_images", "resize", "resize_bilinear",
           "resize_nearest_neighbor", "resize_bicubic", "resize_area", "ResizeMethod", "convert_image_dtype",
           "rgb_to_grayscale", "per_image_standardization", "flip_left_right", "flip_up_down",
           "random_flip_left_right", "random_flip_up_down", "crop_to_bounding_box", "pad_to_bounding_box",
           "resize_image_with_crop_or_pad", "resize_with_crop_or_pad", "central_crop", "adjust_brightness",
           "adjust_contrast", "random_brightness", "random_contrast", "grayscale_to_rgb"]


# ops13: colour spaces, hue/saturation/gamma, rot90/transpose, quality metrics, gradients, patches, NMS
from graphcompat.image_extra import (adjust_gamma, adjust_hue, adjust_saturation,  # noqa: F401,E402
                                     combined_non_max_suppression, crop_and_resize, draw_bounding_boxes, extract_image_patches, extract_patches, hsv_to_rgb, image_gradients,
                                     non_max_suppression, non_max_suppression_overlaps,
                                     non_max_suppression_with_scores, psnr, random_hue, random_saturation,
                                     rgb_to_hsv, rgb_to_yiq, rgb_to_yuv, rot90, sobel_edges, ssim, ssim_multiscale,
                                     total_variation, transpose, yiq_to_rgb, yuv_to_rgb)
from graphcompat.image_extra import transpose as transpose_image  # noqa: F401,E402
from graphcompat.image_boxes import sample_distorted_bounding_box  # noqa: F401,E402


def __getattr__(name):
    from graphcompat.compat import missing
    return missing(__name__, name)


# crop / pad / standardize, as TF builds them (static and dynamic sizes)
from graphcompat.image_crop import (central_crop, crop_to_bounding_box, grayscale_to_rgb,  # noqa: F401,E402
                                    pad_to_bounding_box, per_image_standardization, resize_image_with_crop_or_pad,
                                    resize_image_with_pad, resize_with_crop_or_pad)

# coverage: TF1 also exports tf.random_crop as tf.image.random_crop
from graphcompat.ops.random_ops import random_crop  # noqa: F401,E402

# JPEG helpers (is_jpeg, extract_jpeg_shape, decode_and_crop_jpeg, jpeg quality) and extract_glimpse
from graphcompat.image_jpeg import (adjust_jpeg_quality, decode_and_crop_jpeg, extract_glimpse,  # noqa: F401,E402
                                    extract_jpeg_shape, is_jpeg, random_jpeg_quality)
from graphcompat.image_nms_padded import non_max_suppression_padded  # noqa: F401,E402
