"""PNG encode/decode with zlib and numpy only.

``encode_png`` writes non-interlaced 8- or 16-bit gray / gray+alpha / RGB / RGBA with filter 0
on every row (valid PNG; libpng picks filters adaptively, so bytes differ from TF's, pixels don't).
``decode_png`` reads what libpng-based ``tf.image.decode_png`` reads for non-interlaced files:
all five row filters, bit depths 1-16, palettes, and tRNS turned into an alpha channel.
"""

from __future__ import annotations

import struct
from typing import NamedTuple, Optional
import zlib

import numpy as np

from .errors import invalid_argument

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE_OF_CHANNELS = {1: 0, 2: 4, 3: 2, 4: 6}
_CHANNELS_OF_COLOR_TYPE = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(image, compression: int = -1) -> bytes:
    """PNG bytes for a ``uint8`` or ``uint16`` array of shape HxWxC (C in 1..4) or HxW."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in _COLOR_TYPE_OF_CHANNELS:
        raise invalid_argument(f"image must be HxWxC with C in 1..4, got shape {array.shape}")
    if array.dtype not in (np.uint8, np.uint16):
        raise invalid_argument(f"image must be uint8 or uint16, got {array.dtype}")
    height, width, channels = array.shape
    depth = 8 * array.dtype.itemsize
    rows = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">")).view(np.uint8)
    rows = rows.reshape(height, width * channels * array.dtype.itemsize)
    filtered = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1)  # filter 0: None
    header = struct.pack(">IIBBBBB", width, height, depth, _COLOR_TYPE_OF_CHANNELS[channels], 0, 0, 0)
    return (SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(filtered.tobytes(), compression)) + _chunk(b"IEND", b""))


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(data: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    """Undoes the per-row filters; returns the raw scanlines (height x stride bytes)."""
    if len(data) < height * (stride + 1):
        raise invalid_argument("PNG image data is truncated")
    rows = np.frombuffer(data, np.uint8, height * (stride + 1)).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.uint8)
    for y in range(height):
        kind, raw = rows[y, 0], rows[y, 1:]
        if kind == 0:
            cur = raw.copy()
        elif kind == 1:  # Sub: running sum per byte position within a pixel (uint8 wraps)
            cur = np.cumsum(raw.reshape(-1, bpp), axis=0, dtype=np.uint8).reshape(-1)
        elif kind == 2:  # Up
            cur = raw + prev
        elif kind in (3, 4):  # Average / Paeth depend on the byte just decoded: sequential
            line, up = raw.tolist(), prev.tolist()
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                if kind == 3:
                    line[i] = (line[i] + ((left + up[i]) >> 1)) & 0xFF
                else:
                    upleft = up[i - bpp] if i >= bpp else 0
                    line[i] = (line[i] + _paeth(left, up[i], upleft)) & 0xFF
            cur = np.array(line, np.uint8)
        else:
            raise invalid_argument(f"bad PNG row filter {kind}")
        out[y] = cur
        prev = cur
    return out


class PngSamples(NamedTuple):
    """A PNG's pixel samples as stored (palette indices, gray scaled up to 8 bits as libpng does), plus
    what the expansions need. `decode_png` expands them; tf.image's decoder applies TF's conversions."""
    samples: np.ndarray      # HxWxC uint8 / uint16, C = the color type's channel count
    color_type: int
    depth: int
    palette: Optional[np.ndarray]
    transparency: Optional[bytes]


def read_png(data: bytes) -> PngSamples:
    """Parses and checks the chunks (CRCs), inflates and unfilters the rows, unpacks the samples."""
    data = bytes(data)
    if not data.startswith(SIGNATURE):
        raise invalid_argument("not a PNG file (bad signature)")
    pos, header, palette, transparency, idat = len(SIGNATURE), None, None, None, []
    while True:
        if pos + 8 > len(data):
            raise invalid_argument("PNG file is truncated (no IEND chunk)")
        length, kind = struct.unpack_from(">I4s", data, pos)
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length or pos + 12 + length > len(data):
            raise invalid_argument(f"PNG chunk {kind!r} is truncated")
        if struct.unpack_from(">I", data, pos + 8 + length)[0] != zlib.crc32(kind + body):
            raise invalid_argument(f"PNG chunk {kind!r} has a bad CRC")
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            transparency = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise invalid_argument("PNG file has no IHDR chunk")
    width, height, depth, color_type, _, _, interlace = header
    if color_type not in _CHANNELS_OF_COLOR_TYPE or depth not in (1, 2, 4, 8, 16):
        raise invalid_argument(f"unsupported PNG color type {color_type} / bit depth {depth}")
    if interlace:
        raise NotImplementedError("interlaced (Adam7) PNG decoding is not implemented by graphcompat")
    channels = _CHANNELS_OF_COLOR_TYPE[color_type]
    bits_per_pixel = channels * depth
    stride = (width * bits_per_pixel + 7) // 8
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        raise invalid_argument(f"PNG image data is corrupt: {exc}") from None
    lines = _unfilter(raw, height, stride, max(1, bits_per_pixel // 8))

    if depth == 16:
        samples = lines.view(">u2").astype(np.uint16).reshape(height, width, channels)
    elif depth == 8:
        samples = lines.reshape(height, width, channels)
    else:  # 1/2/4-bit gray or palette indices, packed most significant bits first
        bits = np.unpackbits(lines, axis=1).reshape(height, -1, depth)
        weights = (1 << np.arange(depth - 1, -1, -1)).astype(np.uint8)
        samples = (bits * weights).sum(axis=2, dtype=np.uint8)[:, :width, None]
        if color_type == 0:  # libpng scales low-depth gray up to 0..255
            samples = samples * np.uint8(255 // ((1 << depth) - 1))
    return PngSamples(samples, color_type, depth, palette, transparency)


def decode_png(data: bytes) -> np.ndarray:
    """HxWxC uint8 (uint16 for 16-bit files); palettes expand to RGB, tRNS adds alpha."""
    samples, color_type, depth, palette, transparency = read_png(data)
    if color_type == 3:
        if palette is None:
            raise invalid_argument("palette PNG without a PLTE chunk")
        index = samples[:, :, 0]
        if index.max(initial=0) >= len(palette):
            raise invalid_argument("PNG palette index out of range")
        image = palette[index]
        if transparency is not None:
            alpha = np.full(len(palette), 255, np.uint8)
            alpha[:len(transparency)] = np.frombuffer(transparency, np.uint8)[:len(palette)]
            image = np.concatenate([image, alpha[index][:, :, None]], axis=2)
        return image
    if transparency is not None and color_type in (0, 2):
        # A single fully transparent color (stored as 16-bit samples at the file's depth).
        key = np.frombuffer(transparency, ">u2").astype(np.int64)
        if depth < 8 and color_type == 0:
            key = key * (255 // ((1 << depth) - 1))
        opaque = np.iinfo(samples.dtype).max
        alpha = np.where((samples == key).all(axis=2), 0, opaque).astype(samples.dtype)
        samples = np.concatenate([samples, alpha[:, :, None]], axis=2)
    return samples
