"""Lowerings of graphcompat/image_jpeg.py.

JPEG ops are host rules over Pillow's libjpeg (as DecodeJpeg/EncodeJpeg in rules/image.py): the header
read, the decode-then-crop, the variable-quality encode. ExtractGlimpse is a compiled rule: the window
size must be static (it is the output's shape), the offsets are run-time values, so each window is a
gather of clipped row/column indices with the outside filled by TF's noise.
"""
from __future__ import annotations

import io

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.registry import lowers
from lowering.rules.checks import invalid, shape_str
from lowering.rules.image import _pillow_decode, image_format, scalar_contents

_UNCOMPRESS_FAILED = "jpeg::Uncompress failed. Invalid JPEG data or crop window."


@lowers("ExtractJpegShape", host=True)
def extract_jpeg_shape(contents, *, output_type, **_):
    data = scalar_contents(contents, lambda s: f"contents must be scalar, got shape {s}")
    try:
        from PIL import Image
    except ImportError:
        raise NotImplementedError("tf.io.extract_jpeg_shape needs Pillow, which is not installed") from None
    try:
        if not data.startswith(b"\xff\xd8"):
            raise ValueError("not a JPEG")
        img = Image.open(io.BytesIO(data))  # reads the header only, as libjpeg's jpeg_read_header
        if img.format != "JPEG":
            raise ValueError("not a JPEG")
        width, height = img.size
        components = len(img.getbands())
    except Exception:  # noqa: BLE001  (any header Pillow cannot read is TF's invalid JPEG data)
        raise invalid(f"Invalid JPEG data, size {len(data)}") from None
    return np.array([height, width, components], np.dtype(getattr(output_type, "as_numpy_dtype", output_type)))


@lowers("DecodeAndCropJpeg", context=True, host=True)
def decode_and_crop_jpeg(ctx, op, contents, crop_window):
    channels, ratio = int(op.attrs["channels"]), int(op.attrs["ratio"])
    if channels not in (0, 1, 3, 4):
        raise invalid(f"`channels` must be 0, 1, 3 or 4 but got {channels}")
    if ratio not in (1, 2, 4, 8):
        raise invalid(f"ratio must be 1, 2, 4, or 8, got {ratio}")
    data = scalar_contents(contents, lambda s: f"`contents` must be scalar but got shape{s}")
    kind = image_format(data)
    if not kind:
        raise invalid("Unknown image file format. One of JPEG, JPEG XL, PNG, GIF, BMP, WebP required.")
    if kind != "JPEG":
        raise invalid(f"DecodeAndCropJpeg operation can run on JPEG only, but detected {kind}.")
    if channels == 4:  # the shared image kernel allows 4 for PNG/GIF; its JPEG path refuses it
        raise invalid("JPEG does not support 4 channels")
    window = np.asarray(crop_window)
    if window.ndim != 1:
        raise invalid(f"crop_window must be 1-D, got shape {shape_str(window.shape)}")
    if window.size != 4:
        raise invalid(f"crop_size must have four elements {shape_str(window.shape)}")
    if ratio != 1:
        raise NotImplementedError("tf.io.decode_and_crop_jpeg with ratio != 1 (libjpeg's scaled decode) is not "
                                  "implemented by graphcompat")
    try:
        image = _pillow_decode(data, channels, "tf.io.decode_and_crop_jpeg")
    except NotImplementedError:
        raise
    except Exception:  # noqa: BLE001  (a corrupt or truncated stream: TF's one message for both)
        raise invalid(_UNCOMPRESS_FAILED) from None
    y, x, h, w = (int(v) for v in window)
    height, width = image.shape[:2]
    # jpeg_mem's crop checks: a non-empty window inside the (decoded) image
    if y < 0 or x < 0 or h <= 0 or w <= 0 or y + h > height or x + w > width:
        raise invalid(_UNCOMPRESS_FAILED)
    return np.ascontiguousarray(image[y:y + h, x:x + w])


@lowers("EncodeJpegVariableQuality", host=True)
def encode_jpeg_variable_quality(images, quality, **_):
    image = np.asarray(images)
    if np.ndim(quality) != 0:
        raise invalid(f"quality must be a scalar, got shape {shape_str(np.shape(quality))}")
    q = int(np.asarray(quality))
    if not 0 <= q <= 100:
        raise invalid(f"quality must be in [0,100], got {q}")
    if image.ndim != 3:
        raise invalid(f"image must be 3-dimensional{shape_str(image.shape)}")
    if image.shape[2] not in (1, 3):
        raise invalid(f"image must have 1 or 3 channels, got {shape_str(image.shape)}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise errors.InternalError(None, None, "JPEG encoding failed")
    try:
        from PIL import Image
    except ImportError:
        raise NotImplementedError("tf.image.adjust_jpeg_quality needs Pillow, which is not installed") from None
    buf = io.BytesIO()
    gray = image.shape[2] == 1
    # TF's variable-quality encoder: baseline, 4:2:0 chroma, no optimisation (EncodeJpeg's defaults);
    # libjpeg clamps quality 0 to 1 in both.
    Image.fromarray(image[:, :, 0] if gray else image, "L" if gray else "RGB").save(
        buf, format="JPEG", quality=max(q, 1), subsampling=2)
    return np.array(buf.getvalue(), dtype=object)


# ------------------------------------------------------------------------------------------------
# ExtractGlimpse / ExtractGlimpseV2
# ------------------------------------------------------------------------------------------------
def _noise_mode(op) -> str:
    """The kernel constructor's reading of `noise` / `uniform_noise` (an empty `noise` defers to the bool)."""
    noise, uniform = op.attrs.get("noise", "uniform"), bool(op.attrs.get("uniform_noise", True))
    if uniform and noise not in ("", "uniform"):
        raise invalid("The uniform_noise and noise could not be specified at the same time")
    if not noise:
        return "uniform" if uniform else "gaussian"
    if noise not in ("uniform", "gaussian", "zero"):
        raise invalid(f"The noise could only be uniform, gaussian, or zero, got{noise}")
    return noise


def _window_origin(offsets, in_size: int, out_size: int, normalized: bool, centered: bool, version: int):
    """The window's first pixel along one axis from its offset, in float32 as Eigen's ExtractGlimpses, then
    truncated toward zero (a C cast). Version 1 (ExtractGlimpse) always removes half the window; version 2
    only for normalized, centered offsets."""
    v = offsets.astype(jnp.float32)
    half_in, half_out = jnp.float32(in_size / 2.0), jnp.float32(out_size / 2.0)
    if normalized:
        v = v * jnp.float32(in_size)
    if version == 1:
        if centered:
            v = v / jnp.float32(2.0) + half_in
        v = v - half_out
    elif normalized and centered:
        v = v / jnp.float32(2.0) + half_in - half_out
    elif centered:
        v = v + half_in
    # NaN/huge offsets: keep the cast defined (any such window lies outside the image)
    v = jnp.where(jnp.isnan(v), jnp.float32(-2.0 ** 30), jnp.clip(v, -2.0 ** 30, 2.0 ** 30))
    return jnp.trunc(v).astype(jnp.int32)


def _glimpse(ctx, op, images, size, offsets, version: int):
    mode = _noise_mode(op)
    if np.ndim(images) != 4:
        raise invalid("input must be 4-dimensional (batch_size, height, width, depth)"
                      + shape_str(np.shape(images)))
    if np.ndim(size) != 1 or np.shape(size)[0] != 2:
        raise invalid("input must be a vector of size 2 (height, width)" + shape_str(np.shape(size)))
    if isinstance(size, jax.core.Tracer):
        raise NotImplementedError(f"{op.type}: graphcompat needs the glimpse size to be known when the graph "
                                  "is compiled (a constant, or computed from constants)")
    out_h, out_w = (int(v) for v in np.asarray(size))
    for dim in (out_h, out_w):
        if dim < 0:
            raise invalid(f"Expected a non-negative size, got {dim}")
    batch, height, width, channels = np.shape(images)
    if np.ndim(offsets) != 2:
        raise invalid("input must be a matrix" + shape_str(np.shape(offsets)))
    if np.shape(offsets)[0] != batch:
        raise invalid("first dimension should be batch" + shape_str(np.shape(offsets)))
    if np.shape(offsets)[1] != 2:
        raise invalid("second dimension should be of size 2 (y,x)" + shape_str(np.shape(offsets)))
    images = jnp.asarray(images, jnp.float32)
    if batch * out_h * out_w * channels == 0:
        return jnp.zeros((batch, out_h, out_w, channels), jnp.float32)
    if height == 0 or width == 0:
        raise NotImplementedError(f"{op.type} of an empty image (TF's kernel asserts)")
    offsets = jnp.asarray(offsets, jnp.float32)
    top = _window_origin(offsets[:, 0], height, out_h, op.attrs["normalized"], op.attrs["centered"], version)
    left = _window_origin(offsets[:, 1], width, out_w, op.attrs["normalized"], op.attrs["centered"], version)
    rows = top[:, None] + jnp.arange(out_h, dtype=jnp.int32)[None]          # [batch, out_h]
    cols = left[:, None] + jnp.arange(out_w, dtype=jnp.int32)[None]         # [batch, out_w]
    inside = (((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None, :])
    b = jnp.arange(batch)[:, None, None]
    window = images[b, jnp.clip(rows, 0, height - 1)[:, :, None], jnp.clip(cols, 0, width - 1)[:, None, :]]
    shape = (batch, out_h, out_w, channels)
    if mode == "zero":
        fill = jnp.zeros(shape, jnp.float32)
    elif mode == "uniform":
        # the image's [min, max] over all channels, scaled by U[0, 1)
        low = jnp.min(images, axis=(1, 2, 3), keepdims=True)
        span = jnp.max(images, axis=(1, 2, 3), keepdims=True) - low
        fill = low + jax.random.uniform(ctx.random_key(op), shape, jnp.float32) * span
    else:
        # per channel: mean + N(0, 1) * population std, clipped to the channel's [min, max]
        mean = jnp.mean(images, axis=(1, 2), keepdims=True)
        sigma = jnp.sqrt(jnp.mean(jnp.square(images - mean), axis=(1, 2), keepdims=True))
        draw = mean + jax.random.normal(ctx.random_key(op), shape, jnp.float32) * sigma
        fill = jnp.clip(draw, jnp.min(images, axis=(1, 2), keepdims=True), jnp.max(images, axis=(1, 2), keepdims=True))
    return jnp.where(inside[..., None], window, fill)


@lowers("ExtractGlimpse", context=True)
def extract_glimpse(ctx, op, images, size, offsets):
    return _glimpse(ctx, op, images, size, offsets, version=1)


@lowers("ExtractGlimpseV2", context=True)
def extract_glimpse_v2(ctx, op, images, size, offsets):
    return _glimpse(ctx, op, images, size, offsets, version=2)
