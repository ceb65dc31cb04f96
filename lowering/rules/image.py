"""Lowerings of graphcompat/image.py.

Decoders are host rules: PNG is decoded here with zlib + numpy (filters, bit depths, palettes, the
channel conversions TF's libpng setup performs); JPEG, GIF and BMP go through Pillow when it is
installed. Resizes are separable: the per-axis interpolation weights are built with numpy from the
static sizes (TF's kernels' pixel mapping) and applied as two contractions, so they compile to matmuls.
"""
from __future__ import annotations

import io
import struct
import zlib

import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import errors
from lowering.registry import lowers
from lowering.rules.checks import invalid, shape_str
from lowering.rules.math import constant_cotangent


# ------------------------------------------------------------------------------------------------
# PNG
# ------------------------------------------------------------------------------------------------
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode_png_bytes(data: bytes, channels: int, dtype) -> np.ndarray:
    """PNG bytes → [h, w, c] uint8/uint16 as TF's DecodePng returns them (graphcompat.formats.png reads
    the file; the conversions TF's libpng setup requests are applied here)."""
    from graphcompat.formats.errors import FormatError
    from graphcompat.formats.png import read_png
    try:
        png = read_png(data)
    except FormatError as e:
        raise ValueError(str(e)) from None
    return _png_transform(png.samples, png.color_type, png.depth, png.palette, png.transparency, channels, dtype)


def _png_transform(pix, color, depth, palette, trns, channels, dtype) -> np.ndarray:
    """The transformations TF's libpng setup requests (png_io.cc CommonInitDecode), in libpng's order."""
    if channels == 0:
        channels = (4 if trns is not None else 3) if color == 3 else pix.shape[2]
    want_alpha = channels % 2 == 0
    alpha = None
    if color == 3:
        base = palette[np.minimum(pix[:, :, 0], len(palette) - 1)]
        if trns is not None and want_alpha:
            table = np.full(len(palette), 255, np.uint8)
            table[:len(trns)] = np.frombuffer(trns, np.uint8)[:len(palette)]
            alpha = table[pix[:, :, 0]][:, :, None]
    elif color in (4, 6):
        base = pix[:, :, :-1]
        alpha = pix[:, :, -1:] if want_alpha else None
    else:
        base = pix
        if trns is not None and want_alpha:  # tRNS colour key → alpha
            key = np.frombuffer(trns, ">u2").astype(np.int64)
            if depth < 8:
                key = key * (255 // ((1 << depth) - 1))
            match = np.all(pix.astype(np.int64) == key.reshape(1, 1, -1), axis=2)
            alpha = np.where(match, 0, np.iinfo(pix.dtype).max).astype(pix.dtype)[:, :, None]
    if channels < 3 and base.shape[2] == 3:
        # png_set_rgb_to_gray(…, 0.299, 0.587): libpng's 15-bit fixed-point weights; 8-bit results
        # truncate, 16-bit ones round; pixels with R == G == B pass through.
        c = base.astype(np.int64)
        rc, gc = 29900 * 32768 // 100000, 58700 * 32768 // 100000
        bc = 32768 - rc - gc
        total = rc * c[:, :, 0] + gc * c[:, :, 1] + bc * c[:, :, 2]
        gray = (total + (16384 if base.dtype == np.uint16 else 0)) >> 15
        same = (c[:, :, 0] == c[:, :, 1]) & (c[:, :, 0] == c[:, :, 2])
        base = np.where(same, c[:, :, 0], gray).astype(base.dtype)[:, :, None]
    elif channels >= 3 and base.shape[2] == 1:
        base = np.repeat(base, 3, axis=2)
    if want_alpha and alpha is None:  # png_set_add_alpha(filler = (1 << file bit depth) - 1)
        alpha = np.full(base.shape[:2] + (1,), (1 << depth) - 1, base.dtype)
    out = np.concatenate([base, alpha], axis=2) if want_alpha else base
    if dtype == np.uint8 and out.dtype == np.uint16:
        out = (out >> 8).astype(np.uint8)       # png_set_strip_16
    elif dtype == np.uint16 and out.dtype == np.uint8:
        out = out.astype(np.uint16) * np.uint16(257)  # Convert8to16
    return out


def _pillow_decode(data: bytes, channels: int, symbol: str) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        raise NotImplementedError(f"{symbol} for this image format needs Pillow, which is not installed; "
                                  "graphcompat decodes PNG natively") from None
    img = Image.open(io.BytesIO(data))
    if channels == 1 and img.format == "JPEG":
        img.draft("L", img.size)  # libjpeg decodes luma only, as TF's JCS_GRAYSCALE output
    img.load()
    mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(channels)
    if mode is None:
        mode = img.mode if img.mode in ("L", "RGB", "RGBA") else ("RGBA" if "A" in img.mode or
                                                                   "transparency" in img.info else "RGB")
    arr = np.asarray(img.convert(mode), np.uint8)
    return arr[:, :, None] if arr.ndim == 2 else arr


def _contents(value) -> bytes:
    value = np.asarray(value, dtype=object).reshape(-1)[0] if not isinstance(value, bytes) else value
    return value if isinstance(value, bytes) else bytes(value)


@lowers("DecodePng", context=True, host=True)
def decode_png(ctx, op, contents):
    data = _contents(contents)
    try:
        return decode_png_bytes(data, op.attrs["channels"], np.dtype(op.attrs["dtype"].as_numpy_dtype))
    except (ValueError, zlib.error, struct.error, KeyError, IndexError):
        ctx.check(False, errors.InvalidArgumentError, f"Invalid PNG data, size {len(data)}", op)


@lowers("DecodeJpeg", context=True, host=True)
def decode_jpeg(ctx, op, contents):
    data = _contents(contents)
    if not data.startswith(b"\xff\xd8\xff"):
        ctx.check(False, errors.InvalidArgumentError, "Invalid JPEG data or crop window.", op)
    try:
        return _pillow_decode(data, op.attrs["channels"], "tf.image.decode_jpeg")
    except NotImplementedError:
        raise
    except Exception:
        ctx.check(False, errors.InvalidArgumentError, "Invalid JPEG data or crop window.", op)


@lowers("DecodeImage", context=True, host=True)
def decode_image(ctx, op, contents):
    data = _contents(contents)
    channels = op.attrs["channels"]
    if data.startswith(_PNG_SIGNATURE):
        try:
            return decode_png_bytes(data, channels, np.uint8)
        except (ValueError, zlib.error, struct.error, KeyError, IndexError):
            ctx.check(False, errors.InvalidArgumentError, f"Invalid PNG data, size {len(data)}", op)
    if data.startswith(b"\xff\xd8\xff") or data.startswith(b"BM") or data[:4] == b"GIF8":
        try:
            image = _pillow_decode(data, channels, "tf.image.decode_image")
        except NotImplementedError:
            raise
        except Exception:
            ctx.check(False, errors.InvalidArgumentError, "Invalid image data.", op)
        if data[:4] == b"GIF8" and op.attrs.get("expand_animations", True):
            return image[None]
        return image
    ctx.check(False, errors.InvalidArgumentError,
              "Unknown image file format. One of JPEG, PNG, GIF, BMP required.", op)


@lowers("DecodeGif", context=True, host=True)
def decode_gif(ctx, op, contents):
    data = _contents(contents)
    if data[:4] != b"GIF8":
        ctx.check(False, errors.InvalidArgumentError, "Invalid GIF data (size {}), invalid gif header".format(
            len(data)), op)
    try:
        from PIL import Image, ImageSequence
    except ImportError:
        raise NotImplementedError("tf.image.decode_gif needs Pillow, which is not installed") from None
    img = Image.open(io.BytesIO(data))
    return np.stack([np.asarray(frame.convert("RGB"), np.uint8) for frame in ImageSequence.Iterator(img)])


@lowers("DecodeBmp", context=True, host=True)
def decode_bmp(ctx, op, contents):
    data = _contents(contents)
    if not data.startswith(b"BM"):
        ctx.check(False, errors.InvalidArgumentError, "Invalid BMP data", op)
    return _pillow_decode(data, op.attrs["channels"], "tf.image.decode_bmp")


def encode_png_bytes(image: np.ndarray, compression: int = -1) -> bytes:
    """A PNG (filter type 0 rows, zlib) of a [h, w, c] uint8/uint16 array."""
    h, w, c = image.shape
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    depth = 16 if image.dtype == np.uint16 else 8
    pixels = image.astype(">u2") if depth == 16 else image.astype(np.uint8)
    rows = pixels.reshape(h, -1).view(np.uint8)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)
    return (_PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, compression))
            + chunk(b"IEND", b""))


@lowers("EncodePng", context=True, host=True)
def encode_png(ctx, op, image):
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        ctx.check(False, errors.InvalidArgumentError,
                  f"image must have 1, 2, 3, or 4 channels, got {image.shape[-1] if image.ndim else 0}", op)
    level = int(op.attrs.get("compression", -1))
    return np.array(encode_png_bytes(image, level if 0 <= level <= 9 else -1), dtype=object)


@lowers("EncodeJpeg", context=True, host=True)
def encode_jpeg(ctx, op, image):
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] not in (1, 3):
        ctx.check(False, errors.InvalidArgumentError,
                  f"image must have 1 or 3 channels, got {image.shape[-1] if image.ndim else 0}", op)
    try:
        from PIL import Image
    except ImportError:
        raise NotImplementedError("tf.image.encode_jpeg needs Pillow, which is not installed") from None
    buf = io.BytesIO()
    mode = "L" if image.shape[2] == 1 else "RGB"
    Image.fromarray(image[:, :, 0] if mode == "L" else image, mode).save(
        buf, format="JPEG", quality=int(op.attrs.get("quality", 95)),
        progressive=bool(op.attrs.get("progressive")), optimize=bool(op.attrs.get("optimize_size")),
        subsampling=2 if op.attrs.get("chroma_downsampling", True) else 0)
    return np.array(buf.getvalue(), dtype=object)


# ------------------------------------------------------------------------------------------------
# Resizing
# ------------------------------------------------------------------------------------------------
def _scale(n_in: int, n_out: int, align_corners: bool) -> float:
    if align_corners and n_out > 1:
        return (n_in - 1) / (n_out - 1)
    return n_in / n_out


def _bilinear_weights(n_in, n_out, align, half):
    s = _scale(n_in, n_out, align)
    w = np.zeros((n_out, n_in), np.float64)
    for o in range(n_out):
        x = (o + 0.5) * s - 0.5 if half else o * s
        lo = int(np.floor(x))
        frac = x - lo
        lo_c, hi_c = min(max(lo, 0), n_in - 1), min(max(lo + 1, 0), n_in - 1)
        w[o, lo_c] += 1 - frac
        w[o, hi_c] += frac
    return w


def _cubic(t, a=-0.75):
    def k(x):
        x = abs(x)
        if x <= 1:
            return ((a + 2) * x - (a + 3)) * x * x + 1
        if x < 2:
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return 0.0
    return [k(t + 1), k(t), k(1 - t), k(2 - t)]


def _bicubic_weights(n_in, n_out, align, half):
    # TF's kernel locates samples in float32 ((o + 0.5) * scale - 0.5, or o * scale) and reads both the
    # legacy (a = -0.75) and the half-pixel Keys (a = -0.5) coefficients from a 1024-entry table at
    # lrintf(delta * 1024)
    s = np.float32(_scale(n_in, n_out, align))
    w = np.zeros((n_out, n_in), np.float64)
    for o in range(n_out):
        x = float((np.float32(o) + np.float32(0.5)) * s - np.float32(0.5) if half else np.float32(o) * s)
        lo = int(np.floor(x))
        t = float(np.rint(np.float32(x - lo) * np.float32(1024))) / 1024
        coeffs = _cubic(t, -0.5 if half else -0.75)
        idx = [lo - 1, lo, lo + 1, lo + 2]
        if half:  # TF drops out-of-range taps and renormalizes
            keep = [(i, c) for i, c in zip(idx, coeffs) if 0 <= i < n_in]
            total = sum(c for _, c in keep)
            for i, c in keep:
                w[o, i] += c / total
        else:
            for i, c in zip(idx, coeffs):
                w[o, min(max(i, 0), n_in - 1)] += c
    return w


def _area_weights(n_in, n_out, align, half):
    s = _scale(n_in, n_out, align)
    w = np.zeros((n_out, n_in), np.float64)
    for o in range(n_out):
        a, b = o * s, (o + 1) * s
        for i in range(int(np.floor(a)), int(np.ceil(b))):
            w[o, min(i, n_in - 1)] += (min(i + 1, b) - max(i, a)) / s
    return w


def _static_size(size, op_type, images):
    """The target size, after TF's ImageResizerState checks of the images and the size."""
    if np.ndim(images) != 4:
        raise invalid(f"input must be 4-dimensional{shape_str(np.shape(images))}")
    if np.ndim(size) != 1:
        raise invalid(f"shape_t must be 1-dimensional{shape_str(np.shape(size))}")
    if np.size(size) != 2:
        raise invalid(f"shape_t must have two elements{shape_str(np.shape(size))}")
    try:
        h, w = (int(v) for v in np.asarray(size).reshape(-1))
    except Exception:
        raise NotImplementedError(f"{op_type}: graphcompat needs the target size to be known when the graph "
                                  "is compiled (a constant, or computed from constants)") from None
    if h <= 0 or w <= 0:
        raise invalid("output dimensions must be positive")
    if np.shape(images)[3] <= 0:
        raise invalid("image must have at least one channel")
    if np.shape(images)[1] <= 0 or np.shape(images)[2] <= 0:
        raise invalid("input image must be of non-zero size")
    return h, w


def _separable(weights_fn, op_type, constant_vjp: bool = False):
    """`constant_vjp`: TF's gradient kernel of the op is registered NotDifferentiable (ResizeBilinearGrad), so
    the VJP is a constant to a gradient of the gradient (`constant_cotangent`)."""
    def rule(images, size, *, align_corners=False, half_pixel_centers=False, **_):
        h, w = _static_size(size, op_type, images)
        _, in_h, in_w, _ = jnp.shape(images)
        wy = jnp.asarray(weights_fn(in_h, h, align_corners, half_pixel_centers), jnp.float32)
        wx = jnp.asarray(weights_fn(in_w, w, align_corners, half_pixel_centers), jnp.float32)
        hi = lax.Precision.HIGHEST

        def resize(x, wy, wx):
            x = jnp.einsum("oh,bhwc->bowc", wy, x, precision=hi)
            return jnp.einsum("pw,bowc->bopc", wx, x, precision=hi)
        return (constant_cotangent(resize) if constant_vjp else resize)(jnp.asarray(images).astype(jnp.float32),
                                                                        wy, wx)
    return rule


lowers("ResizeBilinear")(_separable(_bilinear_weights, "ResizeBilinear", constant_vjp=True))
lowers("ResizeBicubic")(_separable(_bicubic_weights, "ResizeBicubic"))
lowers("ResizeArea")(_separable(_area_weights, "ResizeArea"))


def _nearest_index(n_in, n_out, align, half):
    s = _scale(n_in, n_out, align)
    out = []
    for o in range(n_out):
        if half:
            i = int(np.floor((o + 0.5) * s))
        elif align:
            i = int(np.floor(o * s + 0.5))  # TF rounds half away from zero
        else:
            i = int(np.floor(o * s))
        out.append(min(max(i, 0), n_in - 1))
    return np.asarray(out, np.int32)


@lowers("ResizeNearestNeighbor")
def resize_nearest(images, size, *, align_corners=False, half_pixel_centers=False, **_):
    h, w = _static_size(size, "ResizeNearestNeighbor", images)
    _, in_h, in_w, _ = jnp.shape(images)
    images = jnp.take(images, _nearest_index(in_h, h, align_corners, half_pixel_centers), axis=1)
    return jnp.take(images, _nearest_index(in_w, w, align_corners, half_pixel_centers), axis=2)
