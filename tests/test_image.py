"""tf.image: decoders (PNG natively, JPEG/GIF/BMP through Pillow), TF1 resize kernels, dtype and colour
conversion, standardization; numpy references and real TensorFlow (oracle)."""
import io
import struct
import zlib

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402


def run(fetches, feed=None):
    with tf.Session() as sess:
        first = sess.run(fetches, feed)
        second = sess.run(fetches, feed)
    np.testing.assert_array_equal(first, second)
    return first


def _rng_image(h, w, c, seed=0, dtype=np.uint8):
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    smooth = (yy * 7 + xx * 13)[:, :, None] + rng.randint(0, 40, (h, w, c))  # makes PNG pick varied filters
    return (smooth % 256).astype(dtype)


def _png(array, mode, **save):
    buf = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buf, format="PNG", **save) if mode else \
        Image.fromarray(array).save(buf, format="PNG", **save)
    return buf.getvalue()


def _png_by_hand(pixels: np.ndarray, color: int, depth: int, filters) -> bytes:
    """A PNG with chosen filter types per row (to exercise every unfilter path)."""
    h = pixels.shape[0]
    raw = pixels.astype(">u2").tobytes() if depth == 16 else pixels.astype(np.uint8).tobytes()
    row = len(raw) // h
    bpp = max(1, {0: 1, 2: 3, 4: 2, 6: 4}[color] * depth // 8)
    rows = [np.frombuffer(raw[i * row:(i + 1) * row], np.uint8).astype(np.int32) for i in range(h)]
    out = b""
    prev = np.zeros(row, np.int32)
    for y, cur in enumerate(rows):
        kind = filters[y % len(filters)]
        left = np.concatenate([np.zeros(bpp, np.int32), cur[:-bpp]])
        ul = np.concatenate([np.zeros(bpp, np.int32), prev[:-bpp]])
        if kind == 0:
            f = cur
        elif kind == 1:
            f = cur - left
        elif kind == 2:
            f = cur - prev
        elif kind == 3:
            f = cur - (left + prev) // 2
        else:
            p = left + prev - ul
            pa, pb, pc = abs(p - left), abs(p - prev), abs(p - ul)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, ul))
            f = cur - pred
        out += bytes([kind]) + (f & 0xFF).astype(np.uint8).tobytes()
        prev = cur

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    w = pixels.shape[1]
    header = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(out)) + chunk(b"IEND", b"")


# ------------------------------------------------------------------------------------------------
# PNG
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("color, depth, channels", [(2, 8, 3), (6, 8, 4), (0, 8, 1), (4, 8, 2), (2, 16, 3),
                                                    (0, 16, 1)])
def test_decode_png_every_filter(color, depth, channels):
    rng = np.random.RandomState(color + depth)
    pix = rng.randint(0, 2 ** depth, (7, 5, channels)).astype(np.uint16 if depth == 16 else np.uint8)
    data = _png_by_hand(pix, color, depth, filters=[0, 1, 2, 3, 4])
    dtype = tf.uint16 if depth == 16 else tf.uint8
    img = tf.image.decode_png(tf.constant(data), dtype=dtype)
    assert img.dtype == dtype and img.shape.as_list() == [None, None, None]
    np.testing.assert_array_equal(run(img), pix)


@pytest.mark.parametrize("mode, channels", [("RGB", 3), ("RGBA", 4), ("L", 1), ("LA", 2)])
def test_decode_png_from_pillow(mode, channels):
    pix = _rng_image(9, 11, channels)
    data = _png(pix[:, :, 0] if channels == 1 else pix, mode)
    img = tf.image.decode_png(data, channels=0)
    np.testing.assert_array_equal(run(img), pix)


def test_decode_png_palette_bits_and_channel_conversion():
    pal = Image.fromarray(_rng_image(6, 4, 3)).convert("P", palette=Image.ADAPTIVE, colors=8)
    buf = io.BytesIO()
    pal.save(buf, format="PNG")
    want = np.asarray(pal.convert("RGB"))
    np.testing.assert_array_equal(run(tf.image.decode_png(buf.getvalue())), want)
    bits = np.array([[0, 1, 1, 0, 1, 0, 0, 1, 1]] * 3, bool)
    buf = io.BytesIO()
    Image.fromarray(bits).save(buf, format="PNG")  # 1-bit gray: libpng expands to 0/255
    np.testing.assert_array_equal(run(tf.image.decode_png(buf.getvalue()))[:, :, 0], bits * 255)
    rgb = _png(_rng_image(4, 4, 3), "RGB")
    assert run(tf.image.decode_png(rgb, channels=4)).shape == (4, 4, 4)
    np.testing.assert_array_equal(run(tf.image.decode_png(rgb, channels=4))[:, :, 3], 255)
    gray = run(tf.image.decode_png(rgb, channels=1))
    c = _rng_image(4, 4, 3).astype(np.int64)
    # libpng's png_set_rgb_to_gray(0.299, 0.587) in 15-bit fixed point, truncated (TF's png_io.cc)
    want = (9797 * c[..., 0] + 19234 * c[..., 1] + 3737 * c[..., 2]) >> 15
    want = np.where((c[..., 0] == c[..., 1]) & (c[..., 1] == c[..., 2]), c[..., 0], want)
    np.testing.assert_array_equal(gray[:, :, 0], want)


def test_decode_invalid_data_is_invalid_argument():
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid PNG. Failed to initialize decoder."):
            sess.run(tf.image.decode_png(b"\x89PNG\r\n\x1a\n"))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
            sess.run(tf.image.decode_image(b"not an image"))
    with pytest.raises(ValueError, match="channels"):
        tf.image.decode_png(b"", channels=2 + 3)


# ------------------------------------------------------------------------------------------------
# JPEG / GIF / BMP (Pillow) and decode_image dispatch
# ------------------------------------------------------------------------------------------------
def _encoded(pix, fmt, mode="RGB"):
    buf = io.BytesIO()
    Image.fromarray(pix, mode=mode).save(buf, format=fmt)
    return buf.getvalue()


def test_decode_jpeg_and_image_dispatch():
    pix = _rng_image(16, 12, 3)
    jpeg = _encoded(pix, "JPEG")
    img = tf.image.decode_jpeg(jpeg)
    assert img.dtype == tf.uint8
    got = run(img)
    np.testing.assert_array_equal(got, np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")))
    assert run(tf.image.decode_jpeg(jpeg, channels=1)).shape == (16, 12, 1)
    np.testing.assert_array_equal(run(tf.image.decode_image(jpeg)), got)
    np.testing.assert_array_equal(run(tf.image.decode_image(_encoded(pix, "BMP"))), pix)
    gif = run(tf.image.decode_image(_encoded(pix, "GIF")))
    assert gif.shape == (1, 16, 12, 3)
    png = tf.image.decode_image(_encoded(pix, "PNG"), dtype=tf.float32)
    np.testing.assert_allclose(run(png), pix / 255.0, rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# resize_images
# ------------------------------------------------------------------------------------------------
def _nearest_ref(x, h, w):
    ys = np.minimum(np.floor(np.arange(h) * x.shape[1] / h).astype(int), x.shape[1] - 1)
    xs = np.minimum(np.floor(np.arange(w) * x.shape[2] / w).astype(int), x.shape[2] - 1)
    return x[:, ys][:, :, xs]


def _bilinear_ref(x, h, w):
    def axis(n_in, n_out):
        src = np.arange(n_out) * n_in / n_out
        lo = np.floor(src).astype(int)
        return lo, np.minimum(lo + 1, n_in - 1), src - lo
    y0, y1, fy = axis(x.shape[1], h)
    x0, x1, fx = axis(x.shape[2], w)
    x = x.astype(np.float64)
    top = x[:, y0][:, :, x0] * (1 - fx)[None, None, :, None] + x[:, y0][:, :, x1] * fx[None, None, :, None]
    bot = x[:, y1][:, :, x0] * (1 - fx)[None, None, :, None] + x[:, y1][:, :, x1] * fx[None, None, :, None]
    return top * (1 - fy)[None, :, None, None] + bot * fy[None, :, None, None]


@pytest.mark.parametrize("size", [(3, 4), (10, 11), (5, 3)])
def test_resize_against_numpy(size):
    x = _rng_image(5, 7, 3)[None].repeat(2, axis=0)
    near = tf.image.resize_images(x, size, method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
    bil = tf.image.resize_images(x, size)
    assert near.dtype == tf.uint8 and bil.dtype == tf.float32
    assert bil.shape.as_list() == [2, size[0], size[1], 3]
    np.testing.assert_array_equal(run(near), _nearest_ref(x, *size))
    np.testing.assert_allclose(run(bil), _bilinear_ref(x, *size), rtol=1e-5, atol=1e-4)


def test_resize_3d_same_size_and_errors():
    x = tf.constant(_rng_image(4, 6, 1).astype(np.float32))
    out = tf.image.resize_images(x, [8, 3], method=tf.image.ResizeMethod.AREA)
    assert out.shape.as_list() == [8, 3, 1]
    same = tf.image.resize_images(x, [4, 6])
    np.testing.assert_array_equal(run(same), run(x))  # TF skips the resize
    with pytest.raises(ValueError, match="must have either 3 or 4 dimensions"):
        tf.image.resize_images(tf.constant([1.0, 2.0]), [2, 2])
    with pytest.raises(ValueError, match="1-D Tensor of 2 elements"):
        tf.image.resize_images(x, [2, 2, 2])
    with pytest.raises(ValueError, match="Resize method is not implemented"):
        tf.image.resize_images(x, [2, 2], method=7)


# ------------------------------------------------------------------------------------------------
# convert_image_dtype / rgb_to_grayscale / per_image_standardization
# ------------------------------------------------------------------------------------------------
def test_convert_image_dtype_table():
    u8 = np.array([[0, 1, 128, 255]], np.uint8)
    f = np.array([[0.0, 0.5, 0.999, 1.0]], np.float32)
    cases = [
        (u8, tf.float32, u8 / np.float32(255)),
        (f, tf.uint8, (f * 255.5).astype(np.uint8)),
        (u8, tf.int32, u8.astype(np.int32) * 8388608),  # TF scales by (2**31) // 256
        (f, tf.float64, f.astype(np.float64)),
        (np.array([[-0.5, 1.5]], np.float32), tf.uint8, np.array([[0, 255]], np.uint8)),
    ]
    for i, (value, dtype, want) in enumerate(cases):
        saturate = i == 4
        out = tf.image.convert_image_dtype(tf.constant(value), dtype, saturate=saturate)
        assert out.dtype == dtype
        np.testing.assert_allclose(run(out), want, rtol=1e-6)


def test_rgb_to_grayscale_and_standardization():
    x = _rng_image(3, 4, 3)
    gray = tf.image.rgb_to_grayscale(tf.constant(x))
    assert gray.dtype == tf.uint8 and gray.shape.as_list() == [3, 4, 1]
    flt = x.astype(np.float32) / 255
    want = ((flt @ np.array([0.2989, 0.5870, 0.1140], np.float32))[..., None] * 255.5).astype(np.uint8)
    np.testing.assert_allclose(run(gray), want, atol=1)
    std = tf.image.per_image_standardization(tf.constant(x))
    xf = x.astype(np.float64)
    ref = (xf - xf.mean()) / max(xf.std(), 1 / np.sqrt(xf.size))
    np.testing.assert_allclose(run(std), ref, rtol=1e-5, atol=1e-5)
    const = run(tf.image.per_image_standardization(tf.constant(np.full((2, 2, 1), 7.0, np.float32))))
    np.testing.assert_array_equal(const, 0.0)


# ------------------------------------------------------------------------------------------------
# Oracle
# ------------------------------------------------------------------------------------------------
RESIZE_CASES = [(m, size, ac, dt) for m in range(4) for size in ((3, 4), (10, 11), (5, 3))
                for ac in (False, True) for dt in (np.uint8, np.float32) if not (m == 3 and ac)]


@pytest.mark.oracle
@pytest.mark.parametrize("method, size, align_corners, dtype", RESIZE_CASES)
def test_resize_matches_tensorflow(method, size, align_corners, dtype):
    v1 = oracle.tf1()
    img = _rng_image(5, 7, 2, seed=method)[None].repeat(2, 0).astype(dtype)

    def build(tf_):
        return tf_.image.resize_images(tf_.constant(img), size, method=method, align_corners=align_corners)
    want, got = oracle.run(v1, build), oracle.run(tf, build)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-4)


PNGS = {
    "rgb": lambda: _png(_rng_image(6, 5, 3), "RGB"),
    "rgba": lambda: _png(_rng_image(6, 5, 4), "RGBA"),
    "gray": lambda: _png(_rng_image(6, 5, 1)[:, :, 0], "L"),
    "gray16": lambda: _png_by_hand(np.arange(30, dtype=np.uint16).reshape(6, 5, 1) * 2000, 0, 16, [0, 1, 4]),
    "palette": lambda: (lambda b: (Image.fromarray(_rng_image(6, 5, 3)).convert("P", palette=Image.ADAPTIVE,
                                                                                 colors=5).save(b, "PNG"),
                                   b.getvalue())[1])(io.BytesIO()),
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(PNGS))
@pytest.mark.parametrize("channels", [0, 1, 3, 4])
@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_decode_png_matches_tensorflow(name, channels, dtype):
    v1 = oracle.tf1()
    data = PNGS[name]()

    def build(tf_):
        return tf_.image.decode_png(tf_.constant(data), channels=channels, dtype=getattr(tf_, dtype))
    want, got = oracle.run(v1, build), oracle.run(tf, build)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.oracle
@pytest.mark.parametrize("channels", [0, 1, 3])
def test_decode_jpeg_matches_tensorflow(channels):
    """Pillow's libjpeg decodes with the accurate integer DCT: equal to TF's INTEGER_ACCURATE, and within
    a few levels of TF's default (fast) DCT."""
    v1 = oracle.tf1()
    data = _encoded(_rng_image(20, 17, 3), "JPEG")
    got = oracle.run(tf, lambda tf_: tf_.image.decode_jpeg(tf_.constant(data), channels=channels))
    accurate = oracle.run(v1, lambda tf_: tf_.image.decode_jpeg(tf_.constant(data), channels=channels,
                                                                 dct_method="INTEGER_ACCURATE"))
    fast = oracle.run(v1, lambda tf_: tf_.image.decode_jpeg(tf_.constant(data), channels=channels))
    assert got.shape == accurate.shape == fast.shape
    np.testing.assert_array_equal(got, accurate)
    assert np.abs(got.astype(int) - fast).max() <= 8


@pytest.mark.oracle
def test_colour_and_dtype_ops_match_tensorflow():
    v1 = oracle.tf1()
    img = _rng_image(4, 6, 3)
    builds = [
        lambda tf_: tf_.image.rgb_to_grayscale(tf_.constant(img)),
        lambda tf_: tf_.image.rgb_to_grayscale(tf_.constant(img.astype(np.float32) / 255)),
        lambda tf_: tf_.image.convert_image_dtype(tf_.constant(img), tf_.float32),
        lambda tf_: tf_.image.convert_image_dtype(tf_.constant(img.astype(np.float32) / 255), tf_.uint8),
        lambda tf_: tf_.image.convert_image_dtype(tf_.constant(img), tf_.int16),
        lambda tf_: tf_.image.per_image_standardization(tf_.constant(img)),
    ]
    for build in builds:
        want, got = oracle.run(v1, build), oracle.run(tf, build)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------------------------
# Flips, crops, pads, brightness/contrast
# ------------------------------------------------------------------------------------------------
IMG = _rng_image(5, 7, 3, seed=3)
GEOMETRY = {
    "flip_left_right": (lambda tf_: tf_.image.flip_left_right(tf_.constant(IMG)), IMG[:, ::-1]),
    "flip_up_down_batch": (lambda tf_: tf_.image.flip_up_down(tf_.constant(IMG[None])), IMG[None, ::-1]),
    "crop_to_bounding_box": (lambda tf_: tf_.image.crop_to_bounding_box(tf_.constant(IMG), 1, 2, 3, 4),
                             IMG[1:4, 2:6]),
    "pad_to_bounding_box": (lambda tf_: tf_.image.pad_to_bounding_box(tf_.constant(IMG), 1, 2, 8, 10),
                            np.pad(IMG, [[1, 2], [2, 1], [0, 0]])),
    "crop_or_pad": (lambda tf_: tf_.image.resize_image_with_crop_or_pad(tf_.constant(IMG), 4, 9),
                    np.pad(IMG[0:4], [[0, 0], [1, 1], [0, 0]])),
    "crop_or_pad_batch": (lambda tf_: tf_.image.resize_image_with_crop_or_pad(tf_.constant(IMG[None]), 8, 3),
                          np.pad(IMG[:, 2:5], [[1, 2], [0, 0], [0, 0]])[None]),
    "central_crop": (lambda tf_: tf_.image.central_crop(tf_.constant(IMG), 0.5), IMG[1:4, 1:6]),
    "grayscale_to_rgb": (lambda tf_: tf_.image.grayscale_to_rgb(tf_.constant(IMG[:, :, :1])),
                         np.repeat(IMG[:, :, :1], 3, axis=2)),
    "adjust_brightness": (lambda tf_: tf_.image.adjust_brightness(tf_.constant(IMG), 0.2),
                          np.minimum(IMG / np.float32(255) + np.float32(0.2), 1) * np.float32(255.5)),
    "adjust_contrast": (lambda tf_: tf_.image.adjust_contrast(tf_.constant(IMG.astype(np.float32)), 1.7),
                        (IMG - IMG.mean((0, 1))) * 1.7 + IMG.mean((0, 1))),
}


@pytest.mark.parametrize("name", sorted(GEOMETRY))
def test_geometry_and_colour_adjustments(name):
    build, want = GEOMETRY[name]
    got = run(build(tf))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want.astype(got.dtype) if got.dtype == np.uint8 else want, rtol=1e-5, atol=1e-3)


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(GEOMETRY))
def test_geometry_and_colour_adjustments_match_tensorflow(name):
    v1 = oracle.tf1()
    build, _ = GEOMETRY[name]
    want, got = oracle.run(v1, build), oracle.run(tf, build)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-4)


def test_random_flips_and_adjustments():
    single = tf.image.random_flip_left_right(tf.constant(IMG), seed=1)
    batch = tf.image.random_flip_up_down(tf.constant(np.stack([IMG] * 8)), seed=2)
    bright = tf.image.random_brightness(tf.constant(IMG.astype(np.float32) / 255), 0.3, seed=3)
    contrast = tf.image.random_contrast(tf.constant(IMG.astype(np.float32)), 0.5, 1.5, seed=4)
    seen = set()
    with tf.Session() as sess:
        for _ in range(12):
            s, b, br, c = sess.run([single, batch, bright, contrast])
            seen.add(bool(np.array_equal(s, IMG[:, ::-1])) or (np.array_equal(s, IMG) and "same"))
            for img in b:
                assert np.array_equal(img, IMG) or np.array_equal(img, IMG[::-1])
            delta = br - IMG / np.float32(255)
            assert np.allclose(delta, delta.flat[0], atol=1e-6) and abs(delta.flat[0]) <= 0.3
            assert np.allclose(c.mean((0, 1)), IMG.mean((0, 1)), rtol=1e-4)
    assert seen == {True, "same"}  # both outcomes occur
    with pytest.raises(ValueError, match="max_delta must be non-negative"):
        tf.image.random_brightness(tf.constant(IMG), -1.0)
    with pytest.raises(ValueError, match="upper must be > lower"):
        tf.image.random_contrast(tf.constant(IMG), 1.0, 0.5)
    with pytest.raises(ValueError, match="width must be >= target \\+ offset"):
        tf.image.crop_to_bounding_box(tf.constant(IMG), 0, 5, 2, 4)


# ------------------------------------------------------------------------------------------------
# Encoders and the remaining decoders
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("channels, dtype", [(1, np.uint8), (2, np.uint8), (3, np.uint8), (4, np.uint8),
                                             (3, np.uint16)])
def test_encode_png_round_trip(channels, dtype):
    img = _rng_image(6, 9, channels).astype(dtype) * (257 if dtype == np.uint16 else 1)
    png = tf.image.encode_png(tf.constant(img))
    assert png.dtype == tf.string and png.shape.as_list() == []
    back = tf.image.decode_png(png, dtype=tf.as_dtype(dtype))
    with tf.Session() as sess:
        data, got = sess.run([png, back])
    np.testing.assert_array_equal(got, img)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))).reshape(img.shape)
                                  if dtype == np.uint8 else img, img)


def test_encode_jpeg_gif_bmp():
    smooth = np.broadcast_to(np.linspace(0, 255, 16, dtype=np.uint8)[None, :, None], (12, 16, 3)).copy()
    jpeg = tf.image.encode_jpeg(tf.constant(smooth), quality=95)
    back = run(tf.image.decode_jpeg(jpeg))
    assert back.shape == smooth.shape and np.abs(back.astype(int) - smooth).mean() < 3
    gif = run(tf.image.decode_gif(_encoded(smooth, "GIF")))
    assert gif.shape == (1, 12, 16, 3)
    np.testing.assert_array_equal(run(tf.image.decode_bmp(_encoded(smooth, "BMP"))), smooth)


@pytest.mark.oracle
def test_png_encoding_interoperates_with_tensorflow():
    v1 = oracle.tf1()
    img = _rng_image(6, 9, 3)
    ours = oracle.run(tf, lambda tf_: tf_.image.encode_png(tf_.constant(img)))
    theirs = oracle.run(v1, lambda tf_: tf_.image.encode_png(tf_.constant(img)))
    np.testing.assert_array_equal(oracle.run(v1, lambda tf_: tf_.image.decode_png(tf_.constant(ours))), img)
    np.testing.assert_array_equal(oracle.run(tf, lambda tf_: tf_.image.decode_png(tf_.constant(theirs))), img)


# ------------------------------------------------------------------------------------------------
# Resize kernels' validation of fed sizes and images (TF's ImageResizerState): TF's class and text.
# ------------------------------------------------------------------------------------------------
from tests._conformance import Bad, Case, bad_cases, check, check_bad  # noqa: E402

RESIZE_IMG = _rng_image(4, 6, 2).astype(np.float32)[None]
VALIDATING = [
    Case("resize_nearest_fed_size", lambda tf, x, s: tf.image.resize_nearest_neighbor(x, s),
         lambda x, s: _nearest_ref(x, *s), [RESIZE_IMG, np.array([2, 3], np.int32)], static=False,
         bad=[Bad([RESIZE_IMG, np.array([0, 3], np.int32)], tf.errors.InvalidArgumentError,
                  "output dimensions must be positive"),
              Bad([RESIZE_IMG, np.array([2, 3, 1], np.int32)], tf.errors.InvalidArgumentError,
                  "shape_t must have two elements[3]")]),
    Case("resize_bilinear_fed_images", lambda tf, x: tf.image.resize_bilinear(x, [2, 3]),
         lambda x: _bilinear_ref(x, 2, 3).astype(np.float32), [RESIZE_IMG], 1e-4,
         bad=[Bad([np.ones((1, 0, 4, 1), np.float32)], tf.errors.InvalidArgumentError,
                  "input image must be of non-zero size")]),
]


@pytest.mark.parametrize("case", VALIDATING, ids=str)
def test_resize_validating(case):
    check(case)


@pytest.mark.parametrize("case, bad", bad_cases(VALIDATING))
def test_resize_bad_inputs(case, bad):
    check_bad(case, bad)


# TF's one decoder kernel sniffs the format and decodes what it finds, whichever op runs it; its texts for
# data it cannot read come from the format's library (giflib's reader, libpng's header read).
_SCREEN = b"GIF89a\x03\x00\x02\x00\x00\x00\x00"  # a 3x2 GIF's screen descriptor, no colour map


def _animation(cut=None):
    frames = [Image.fromarray(np.full((2, 3), k * 80, np.uint8)) for k in range(2)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    return buf.getvalue()[:cut]


DECODE_INPUTS = {
    "text": lambda: b"not an image",
    "jpeg_magic_2": lambda: b"\xff\xd8garbage",
    "jpeg_garbage": lambda: b"\xff\xd8\xffgarbage",
    "empty": lambda: b"",
    "png_7_bytes": lambda: _png(_rng_image(2, 3, 3), "RGB")[:7],
    "png_header_cut": lambda: _png(_rng_image(2, 3, 3), "RGB")[:40],
    "png_data_cut": lambda: _png(_rng_image(4, 5, 3), "RGB")[:-20],
    "png": lambda: _png(_rng_image(2, 3, 3), "RGB"),
    "gif_4_bytes": lambda: b"GIF8",
    "gif_no_screen": lambda: b"GIF8nothing",
    "gif_map_cut": lambda: b"GIF89a\x03\x00\x02\x00\x81\x00\x00abc",
    "gif_no_image": lambda: _SCREEN + b";",
    "gif_wrong_record": lambda: _SCREEN + b"x",
    "gif_extension_cut": lambda: _SCREEN + b"!\xf9\x04abcd",
    "gif_zero_width": lambda: _SCREEN + b",\x00\x00\x00\x00\x00\x00\x02\x00\x00\x02\x00;",
    "gif": lambda: _encoded(_rng_image(2, 3, 1)[:, :, 0], "GIF", mode="L"),
    "gif_animated": _animation,
    "gif_second_frame_cut": lambda: _animation(-3),
    "gif_first_frame_cut": lambda: _animation(40),
    "bmp": lambda: _encoded(_rng_image(2, 3, 3), "BMP"),
    "bmp_gray": lambda: _encoded(_rng_image(2, 3, 1)[:, :, 0], "BMP", mode="L"),
    "bmp_rgba": lambda: _encoded(_rng_image(2, 3, 4), "BMP", mode="RGBA"),
    "bmp_short": lambda: b"BMxx",
    "bmp_size": lambda: _encoded(_rng_image(2, 3, 3), "BMP") + b"x",
}
DECODERS = {
    "png": lambda tf_, x: tf_.image.decode_png(x),
    "png4": lambda tf_, x: tf_.image.decode_png(x, channels=4),
    "png16": lambda tf_, x: tf_.image.decode_png(x, dtype=tf_.uint16),
    "jpeg": lambda tf_, x: tf_.image.decode_jpeg(x),
    "gif": lambda tf_, x: tf_.image.decode_gif(x),
    "bmp": lambda tf_, x: tf_.image.decode_bmp(x),
    "bmp4": lambda tf_, x: tf_.image.decode_bmp(x, channels=4),
    "image": lambda tf_, x: tf_.image.decode_image(x),
    "image1": lambda tf_, x: tf_.image.decode_image(x, channels=1),
    "image_float": lambda tf_, x: tf_.image.decode_image(x, dtype=tf_.float32, expand_animations=False),
}


def _decode_outcome(tf_, decoder, data):
    from tests._bad_input_sweep import kernel_text
    graph = tf_.Graph()
    with graph.as_default():
        contents = tf_.placeholder(tf_.string, [])
        image = DECODERS[decoder](tf_, contents)
        with tf_.Session() as sess:
            try:
                return sess.run(image, {contents: data})
            except tf_.errors.OpError as err:
                return type(err).__name__, kernel_text(err.message)


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(DECODE_INPUTS))
def test_decoders_sniff_the_format_as_tensorflow(name):
    v1 = oracle.tf1()
    data = DECODE_INPUTS[name]()
    for decoder in DECODERS:
        want, got = _decode_outcome(v1, decoder, data), _decode_outcome(tf, decoder, data)
        if isinstance(want, tuple) or isinstance(got, tuple):
            assert got == want, decoder
        else:
            assert (got.dtype, got.shape) == (want.dtype, want.shape), decoder
            np.testing.assert_array_equal(got, want, err_msg=decoder)
