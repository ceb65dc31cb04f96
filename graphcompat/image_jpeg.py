"""`tf.image` / `tf.io` JPEG helpers and glimpses, as TF 2.21's compat.v1 records them: is_jpeg (Substr +
Equal), extract_jpeg_shape (ExtractJpegShape), decode_and_crop_jpeg (DecodeAndCropJpeg),
adjust_jpeg_quality / random_jpeg_quality (EncodeJpegVariableQuality + DecodeJpeg between dtype
conversions), extract_glimpse (ExtractGlimpse; ExtractGlimpseV2 is registered for imported graphs).
Lowerings: lowering/rules/image_jpeg.py. Re-exported by graphcompat/image.py and graphcompat/io.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop


def _rank(ctx: InferenceContext, i: int, rank: int) -> _ts.TensorShape:
    shape = ctx.shape(i)
    if shape.ndims is not None and shape.ndims != rank:
        raise ctx.error(f"Shape must be rank {rank} but is rank {shape.ndims}")
    return shape


def _dim(ctx: InferenceContext, dim, want: int) -> None:
    value = dim.value
    if value is not None and value != want:
        raise ctx.error(f"Dimension must be {want} but is {value}")


# ------------------------------------------------------------------------------------------------
# Ops
# ------------------------------------------------------------------------------------------------
def _extract_jpeg_shape_shape(ctx: InferenceContext):
    _rank(ctx, 0, 0)
    return [_ts.TensorShape([3])]


def _decode_and_crop_shape(ctx: InferenceContext):
    _rank(ctx, 0, 0)
    window = _rank(ctx, 1, 1)
    if window.ndims == 1:
        _dim(ctx, window[0], 4)
    channels = ctx.attrs.get("channels", 0) or None
    value = ctx.value(1)
    if value is None:
        return [_ts.TensorShape([None, None, channels])]
    height, width = int(value[2]), int(value[3])
    for size in (height, width):
        if size < 0:  # TF's shape function builds the dims from the window: its TensorShape check
            raise ValueError(f"Dimension {size} must be >= 0")
    return [_ts.TensorShape([height, width, channels])]


def _encode_variable_quality_shape(ctx: InferenceContext):
    _rank(ctx, 0, 3)
    _rank(ctx, 1, 0)
    return [_ts.TensorShape([])]


def _glimpse_shape(ctx: InferenceContext):
    images = _rank(ctx, 0, 4)
    size = _rank(ctx, 1, 1)
    if size.ndims == 1:
        _dim(ctx, size[0], 2)
    offsets = _rank(ctx, 2, 2)
    batch = images[0].value if images.ndims == 4 else None
    channels = images[3].value if images.ndims == 4 else None
    if offsets.ndims == 2:
        first = offsets[0].value
        if batch is not None and first is not None and batch != first:
            raise ctx.error(f"Dimensions must be equal, but are {batch} and {first}")
        batch = batch if batch is not None else first
        _dim(ctx, offsets[1], 2)
    value = ctx.value(1)
    # TF's shape function: a negative size (unknown in a constant) leaves that dimension open
    hw = [None, None] if value is None else [int(v) if int(v) >= 0 else None for v in value]
    return [_ts.TensorShape([batch, hw[0], hw[1], channels])]


_JPEG_DECODE_ATTRS = {"channels": 0, "ratio": 1, "fancy_upscaling": True, "try_recover_truncated": False,
                      "acceptable_fraction": 1.0, "dct_method": ""}
defop("ExtractJpegShape", "contents: string -> image_shape: output_type", attrs={"output_type": _dt.int32},
      types={"output_type": (_dt.int32, _dt.int64)}, shape=_extract_jpeg_shape_shape)
defop("DecodeAndCropJpeg", "contents: string, crop_window: int32 -> image: uint8", attrs=dict(_JPEG_DECODE_ATTRS),
      shape=_decode_and_crop_shape)
defop("EncodeJpegVariableQuality", "images: uint8, quality: int32 -> contents: string",
      shape=_encode_variable_quality_shape)
_GLIMPSE_ATTRS = {"centered": True, "normalized": True, "uniform_noise": True, "noise": "uniform"}
for _op in ("ExtractGlimpse", "ExtractGlimpseV2"):
    defop(_op, "input: float32, size: int32, offsets: float32 -> glimpse: float32", attrs=dict(_GLIMPSE_ATTRS),
          shape=_glimpse_shape)


# ------------------------------------------------------------------------------------------------
# Builders
# ------------------------------------------------------------------------------------------------
def is_jpeg(contents, name: Optional[str] = None):
    """`tf.io.is_jpeg`: whether the bytes start like a JPEG (`\\xff\\xd8\\xff`); TF's Substr + Equal."""
    from graphcompat.ops import math_ops as _math
    from graphcompat.ops import string_ops as _strings
    with _ops.name_scope(name, "is_jpeg"):
        head = _strings.substr(contents, 0, 3)
        return _math.equal(head, b"\xff\xd8\xff", name=name)


def extract_jpeg_shape(contents, output_type=_dt.int32, name: Optional[str] = None):
    """`tf.io.extract_jpeg_shape`: [height, width, components] read from the JPEG header."""
    output_type = _dt.as_dtype(output_type)
    if output_type not in (_dt.int32, _dt.int64):
        raise TypeError(f"Value passed to parameter 'output_type' has DataType {output_type.name} not in list of "
                        "allowed values: int32, int64")
    return apply_op("ExtractJpegShape", [contents], {"output_type": output_type}, name=name)


def decode_and_crop_jpeg(contents, crop_window, channels: int = 0, ratio: int = 1, fancy_upscaling: bool = True,
                         try_recover_truncated: bool = False, acceptable_fraction: float = 1,
                         dct_method: str = "", name: Optional[str] = None):
    """`tf.io.decode_and_crop_jpeg`: the [crop_y, crop_x, crop_height, crop_width] window of the decoded
    image (decoded on the host, then cropped: the same pixels as libjpeg's partial decode)."""
    attrs = {"channels": 0 if channels is None else int(channels), "ratio": int(ratio),
             "fancy_upscaling": bool(fancy_upscaling), "try_recover_truncated": bool(try_recover_truncated),
             "acceptable_fraction": float(acceptable_fraction), "dct_method": dct_method}
    return apply_op("DecodeAndCropJpeg", [contents, crop_window], attrs, name=name)


def adjust_jpeg_quality(image, jpeg_quality, dct_method: str = "", name: Optional[str] = None):
    """`tf.image.adjust_jpeg_quality`: the image encoded as JPEG at `jpeg_quality` and decoded again, in its
    own dtype (through uint8, saturating). JPEG coding is Pillow's libjpeg here, so pixels may differ from
    TF's by the codecs' rounding."""
    from graphcompat.image import convert_image_dtype
    with _ops.name_scope(name, "adjust_jpeg_quality", [image]):
        image = convert_to_tensor(image, name="image")
        channels = image.shape.as_list()[-1]
        orig_dtype = image.dtype.base_dtype
        image = convert_image_dtype(image, _dt.uint8, saturate=True)
        if not isinstance(jpeg_quality, _ops.Tensor):
            jpeg_quality = convert_to_tensor(jpeg_quality, dtype=_dt.int32)
        encoded = apply_op("EncodeJpegVariableQuality", [image, jpeg_quality], {},
                           name="EncodeJpegVariableQuality")
        attrs = dict(_JPEG_DECODE_ATTRS, channels=0 if channels is None else int(channels), dct_method=dct_method)
        decoded = apply_op("DecodeJpeg", [encoded], attrs, name="DecodeJpeg")
        return convert_image_dtype(decoded, orig_dtype, saturate=True)


def random_jpeg_quality(image, min_jpeg_quality, max_jpeg_quality, seed=None):
    """`tf.image.random_jpeg_quality`: adjust_jpeg_quality at an int32 quality uniform in [min, max)."""
    from graphcompat.ops import random_ops as _random
    if min_jpeg_quality < 0 or max_jpeg_quality < 0 or min_jpeg_quality > 100 or max_jpeg_quality > 100:
        raise ValueError("jpeg encoding range must be between 0 and 100.")
    if min_jpeg_quality >= max_jpeg_quality:
        raise ValueError("`min_jpeg_quality` must be less than `max_jpeg_quality`.")
    quality = _random.random_uniform([], min_jpeg_quality, max_jpeg_quality, seed=seed, dtype=_dt.int32)
    return adjust_jpeg_quality(image, quality)


def extract_glimpse(input, size, offsets, centered: bool = True, normalized: bool = True,  # noqa: A002
                    uniform_noise: bool = True, name: Optional[str] = None):
    """`tf.image.extract_glimpse` (compat.v1: op ExtractGlimpse): `size` windows of each image at `offsets`
    (y, x). Outside the image TF fills uniform noise over the image's [min, max]: compat.v1 leaves the op's
    `noise` attr at "uniform", which the kernel obeys whatever `uniform_noise` says."""
    attrs = {"centered": bool(centered), "normalized": bool(normalized), "uniform_noise": bool(uniform_noise),
             "noise": "uniform"}
    return apply_op("ExtractGlimpse", [input, size, offsets], attrs, name=name)


__all__ = ["is_jpeg", "extract_jpeg_shape", "decode_and_crop_jpeg", "adjust_jpeg_quality", "random_jpeg_quality",
           "extract_glimpse"]
