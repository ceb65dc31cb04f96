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


# ------------------------------------------------------------------------------------------------
# TF's one decoder kernel (DecodeImageV2Op, decode_image_op.cc) behind DecodePng, DecodeJpeg, DecodeGif,
# DecodeBmp and DecodeImage: it sniffs the format from the first bytes and decodes whatever it finds, so
# decode_png of a JPEG decodes it and decode_png of text is "Unknown image file format", not a PNG error.
# ------------------------------------------------------------------------------------------------
_UNKNOWN_FORMAT = "Unknown image file format. One of JPEG, JPEG XL, PNG, GIF, BMP, WebP required."
_JPEG_FAILED = "jpeg::Uncompress failed. Invalid JPEG data or crop window."
_SYMBOLS = {"DecodePng": "tf.io.decode_png", "DecodeJpeg": "tf.io.decode_jpeg", "DecodeGif": "tf.io.decode_gif",
            "DecodeBmp": "tf.io.decode_bmp", "DecodeImage": "tf.io.decode_image"}


def image_format(data: bytes) -> str:
    """ClassifyFileFormat: the format TF's kernel picks from the magic bytes ("" when none matches)."""
    if data.startswith(b"\xff\xd8\xff"):  # the 4th JPEG byte varies (e0, e1, ...)
        return "JPEG"
    if data.startswith(_PNG_SIGNATURE):
        return "PNG"
    if data.startswith(b"GIF8"):
        return "GIF"
    if data.startswith(b"BM"):
        return "BMP"
    if data.startswith(b"RIFF") and len(data) > 12 and data[8:12] == b"WEBP":
        return "WebP"
    if data.startswith(b"\xff\x0a") or data.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n"):
        return "JPEG XL"
    return ""


def scalar_contents(value, message) -> bytes:
    """The kernel's scalar `contents` (message: the shape's text -> TF's error text)."""
    if np.ndim(value) != 0:
        raise invalid(message(shape_str(np.shape(value))))
    return _contents(value)


def _png_header_ok(data: bytes) -> bool:
    """What libpng's png_read_info (TF's png::CommonInitDecode) reads before any pixel: whole chunks up to
    the first IDAT, IHDR first and valid, critical chunks' CRCs right, a palette before a palette image's
    data. A file that fails here is TF's "Failed to initialize decoder"; one that fails later is
    "Invalid PNG data"."""
    pos, header, palette = len(_PNG_SIGNATURE), None, False
    while True:
        if pos + 8 > len(data):
            return False
        length, kind = struct.unpack_from(">I4s", data, pos)
        if kind == b"IDAT" and header is not None:
            # read_info stops at the first IDAT's header: its data is the decode's
            return header != 3 or palette
        if length > 0x7FFFFFFF or pos + 12 + length > len(data):
            return False
        body = data[pos + 8:pos + 8 + length]
        critical = kind[:1].isupper()
        if critical and struct.unpack_from(">I", data, pos + 8 + length)[0] != zlib.crc32(kind + body):
            return False
        if header is None:
            if kind != b"IHDR" or length != 13:
                return False
            width, height, depth, color, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
            depths = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
            if (not 0 < width < 2 ** 31 or not 0 < height < 2 ** 31 or depth not in depths.get(color, ())
                    or compression or filtering or interlace > 1):
                return False
            header = color
        elif kind == b"PLTE":
            palette = True
        elif kind == b"IEND":
            return False
        pos += 12 + length


def _gif_structure(data: bytes) -> tuple:
    """giflib's DGifOpen and DGifSlurp over TF's reader (a read past the end reads nothing): (stage, giflib's
    error text, frames read whole before it), stage "" when every record is whole. TF keeps the frames read
    before a broken record (a frame whose data breaks off is dropped) and fails only when none is left."""
    read_failed = "Failed to read from given file"
    if len(data) < 6:
        return "open", read_failed, 0
    pos = 13  # the screen descriptor: size, flags, background, aspect; then the global colour map
    if len(data) >= pos and data[10] & 0x80:
        pos += 3 * (1 << ((data[10] & 7) + 1))
    if len(data) < pos:
        return "open", "No screen descriptor detected", 0
    frames = 0
    while True:
        if pos >= len(data):
            return "slurp", read_failed, frames
        record, pos = data[pos], pos + 1
        if record == 0x3B:  # ';' trailer
            return ("slurp", "No Image Descriptor detected", 0) if frames == 0 else ("", "", frames)
        if record == 0x21:  # '!' extension: a code, then sub-blocks up to an empty one
            pos += 1
        elif record == 0x2C:  # ',' image: descriptor, local colour map, LZW code size, data sub-blocks
            if pos + 9 > len(data):
                return "slurp", read_failed, frames
            width, height = struct.unpack_from("<HH", data, pos + 4)
            flags = data[pos + 8]
            pos += 9 + (3 * (1 << ((flags & 7) + 1)) if flags & 0x80 else 0)
            if pos + 1 > len(data) or data[pos] > 8:
                return "slurp", read_failed, frames
            if width == 0 or height == 0:
                return "slurp", "Unknown error", frames  # giflib sets no error code; TF's text for none
            pos += 1
        else:
            return "slurp", "Wrong record type detected", frames
        while True:  # sub-blocks: a length byte and that many bytes, up to an empty one
            if pos >= len(data) or pos + 1 + data[pos] > len(data):
                return "slurp", read_failed, frames
            size, pos = data[pos], pos + 1 + data[pos]
            if size == 0:
                break
        frames += record == 0x2C


def _bmp_decode(data: bytes, channels: int) -> np.ndarray:
    """TF's own BMP reader: the header's size, width, height and bits per pixel, rows of B, G, R(, A) bytes
    padded to 4 bytes, bottom-up unless the height is negative; no palette, no compression."""
    if len(data) < 32:
        raise invalid("Incomplete bmp content, requires at least 32 bytes to find the header size, width, "
                      f"height, and bpp, got {len(data)} bytes")
    header_size, = struct.unpack_from("<i", data, 10)
    width, height = struct.unpack_from("<ii", data, 18)
    bpp, = struct.unpack_from("<h", data, 28)
    img_channels = int(bpp / 8)  # C++ integer division truncates toward zero
    if img_channels not in (1, 3, 4):
        raise invalid(f"Number of channels inherent in the image must be 1, 3 or 4, was {img_channels}")
    if width <= 0:
        raise invalid("Width must be positive")
    if height == 0:
        raise invalid("Height must be nonzero")
    if header_size < 0:
        raise invalid("header size must be nonnegative")
    if width * abs(height) >= (2 ** 31 - 1) // 8:
        raise invalid("Total possible pixel bytes must be less than 2^30")
    rows, row_size = abs(height), (img_channels * width + 3) // 4 * 4
    diff = len(data) - header_size - row_size * rows
    if diff != 0:
        raise invalid(f"Input size should match (header_size + row_size * abs_height) but they differ by {diff}")
    pixels = np.frombuffer(data, np.uint8, row_size * rows, header_size).reshape(rows, row_size)
    pixels = pixels[:, :width * img_channels].reshape(rows, width, img_channels)
    if height > 0:
        pixels = pixels[::-1]
    out_channels = channels or img_channels
    if img_channels == 1:
        base = np.repeat(pixels, 3, axis=2) if out_channels >= 3 else pixels
    else:
        base = pixels[:, :, 2::-1]
    if out_channels == 4:
        alpha = pixels[:, :, 3:4] if img_channels == 4 else np.full((rows, width, 1), 255, np.uint8)
        base = np.concatenate([base, alpha], axis=2)
    return np.ascontiguousarray(base)


def _gif_frames(data: bytes, whole: int, symbol: str) -> np.ndarray:
    """The first `whole` frames, [frames, h, w, 3] uint8 (Pillow's decode of each frame onto the screen)."""
    try:
        from PIL import Image, ImageSequence
    except ImportError:
        raise NotImplementedError(f"{symbol} of GIF data needs Pillow, which is not installed") from None
    frames = []
    try:
        for frame in ImageSequence.Iterator(Image.open(io.BytesIO(data))):
            if len(frames) == whole:
                break
            frames.append(np.asarray(frame.convert("RGB"), np.uint8))
    except Exception:  # noqa: BLE001  (a frame Pillow cannot read: checked against giflib's count below)
        pass
    if len(frames) != whole:
        raise NotImplementedError(f"{symbol} of a GIF whose LZW data giflib reads differently from Pillow (TF "
                                  "keeps the frames giflib decodes) is not implemented by graphcompat")
    return np.stack(frames)


def _from_uint8(image: np.ndarray, dtype) -> np.ndarray:
    """The kernel's conversion of an 8-bit decode (JPEG, GIF, BMP) to DecodeImage's dtype."""
    if dtype == np.uint16:
        return image.astype(np.uint16) * np.uint16(256)
    if dtype == np.float32:
        return image.astype(np.float32) * np.float32(1.0 / 255)
    return image


def decode_image_v2(op, contents) -> np.ndarray:
    """DecodeImageV2Op::Compute for the op types that share it (DecodeAndCropJpeg has its own rule)."""
    op_type = op.type
    channels = int(op.attrs.get("channels", 3)) if op_type != "DecodeGif" else 3
    dtype = np.dtype(op.attrs["dtype"].as_numpy_dtype) if "dtype" in op.attrs else np.dtype(np.uint8)
    expand = bool(op.attrs.get("expand_animations", True))
    symbol = _SYMBOLS[op_type]
    if channels not in (0, 1, 3, 4):
        raise invalid(f"`channels` must be 0, 1, 3 or 4 but got {channels}")
    data = scalar_contents(contents, lambda s: f"`contents` must be scalar but got shape{s}")
    if not data:
        raise invalid("Input is empty.")
    kind = image_format(data)
    if not kind:
        raise invalid(_UNKNOWN_FORMAT)
    if kind in ("WebP", "JPEG XL"):
        raise NotImplementedError(f"{symbol} of {kind} data (TF's libwebp / libjxl decoders) is not implemented "
                                  "by graphcompat")
    if kind == "JPEG":
        if channels == 4:
            raise invalid("JPEG does not support 4 channels")
        if op_type == "DecodeBmp":
            raise invalid("Trying to decode JPEG format using DecodeBmp op. Use `decode_jpeg` or `decode_image` "
                          "instead.")
        try:
            image = _pillow_decode(data, channels, symbol)
        except NotImplementedError:
            raise
        except Exception:  # noqa: BLE001  (a corrupt or truncated stream: TF's one message for both)
            raise invalid(_JPEG_FAILED) from None
        image = _from_uint8(image, dtype)
        return image[None] if op_type == "DecodeGif" else image
    if kind == "PNG":
        if not _png_header_ok(data):
            raise invalid("Invalid PNG. Failed to initialize decoder.")
        if op_type == "DecodeBmp":
            raise invalid("Trying to decode PNG format using DecodeBmp op. Use `decode_png` or `decode_image` "
                          "instead.")
        wide = dtype != np.uint8  # uint16 and float decode 16 bits per sample
        try:
            image = decode_png_bytes(data, channels, np.dtype(np.uint16) if wide else np.dtype(np.uint8))
        except (ValueError, zlib.error, struct.error, KeyError, IndexError):
            raise invalid(f"Invalid PNG data, size {len(data)}") from None
        if dtype == np.float32:
            image = image.astype(np.float32) * np.float32(1.0 / 65535)
        return image[None] if op_type == "DecodeGif" else image
    if kind == "GIF":
        if channels not in (0, 3):
            raise invalid(f"channels must be 0 or 3 for GIF, got {channels}")
        if op_type == "DecodeBmp":
            raise invalid("Trying to decode GIF format using DecodeBmp op. Use `decode_gif` or `decode_image` "
                          "instead.")
        stage, reason, whole = _gif_structure(data)
        if stage and whole == 0:
            raise invalid(f"Invalid GIF data (size {len(data)}), failed to {stage} gif file: {reason}")
        frames = _gif_frames(data, whole, symbol)
        if op_type in ("DecodePng", "DecodeJpeg"):
            if len(frames) != 1:
                raise invalid(f"Got {len(frames)} frames, but animated gifs can only be decoded by "
                              "tf.io.decode_gif or tf.io.decode_image")
            frames = frames[0]
        elif op_type == "DecodeImage" and not expand:
            frames = frames[0]
        return _from_uint8(frames, dtype)
    # BMP
    if channels == 1:
        raise invalid(f"`channels` must be 0, 3 or 4 for BMP, but got {channels}")
    if op_type not in ("DecodeBmp", "DecodeImage"):
        raise invalid("Trying to decode BMP format using a wrong op. Use `decode_bmp` or `decode_image` instead. "
                      f"Op used: {op_type}")
    return _from_uint8(_bmp_decode(data, channels), dtype)


# TF's one DecodeImageV2 kernel serves every decode op: it sniffs the format and decodes what it finds
@lowers("DecodePng", "DecodeJpeg", "DecodeImage", "DecodeGif", "DecodeBmp", host=True, context=True)
def decode_any_image(ctx, op, contents):
    return decode_image_v2(op, contents)


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
