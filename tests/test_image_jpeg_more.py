"""tf.io / tf.image JPEG helpers and glimpses against real TF 2.21 `tensorflow.compat.v1`: is_jpeg,
extract_jpeg_shape, decode_and_crop_jpeg, adjust_jpeg_quality, random_jpeg_quality, extract_glimpse.
Op types and names node for node, values, dtypes, static shapes, errors (class and text).

JPEG pixels come from Pillow's libjpeg, whose decoder uses the accurate integer DCT: equal to TF's
`dct_method="INTEGER_ACCURATE"`, within a few levels of TF's default (fast) DCT."""
import numpy as np
import pytest

import graphcompat
from graphcompat.framework.registry import apply_op
from tests import oracle
from tests._op_oracle import compare, compare_error, error_of, run

pytestmark = pytest.mark.oracle

RS = np.random.RandomState(7)
IMG = (RS.rand(20, 17, 3) * 255).astype(np.uint8)
SMOOTH = np.clip(np.add.outer(np.arange(24) * 9, np.arange(19) * 5)[:, :, None] + [0, 40, 80], 0, 255).astype(np.uint8)
GLIMPSE_IN = RS.rand(2, 7, 9, 2).astype(np.float32)

# What TF's default (fast integer) DCT may differ from Pillow's accurate one, in 8-bit levels.
FAST_DCT_LEVELS = 8


def _jpeg(tf, image=IMG, quality=95):
    return tf.image.encode_jpeg(tf.constant(image), quality=quality)


def _same_graph(build):
    v1 = oracle.tf1()
    assert oracle.op_names(graphcompat, build) == oracle.op_names(v1, build)


def _values(build):
    v1 = oracle.tf1()
    got, got_static, got_dtypes = run(graphcompat, build, runs=2)
    want, want_static, want_dtypes = run(v1, build)
    assert got_dtypes == want_dtypes
    for g, w in zip(got_static, want_static):
        assert g == w, (g, w)
    return got, want[0]


# ------------------------------------------------------------------------------------------------
# is_jpeg, extract_jpeg_shape
# ------------------------------------------------------------------------------------------------
HEADERS = [
    ("is_jpeg", lambda tf: [tf.io.is_jpeg(_jpeg(tf)), tf.image.is_jpeg(tf.constant(b"\x89PNG\r\n")),
                            tf.io.is_jpeg(tf.constant(b"\xff\xd8"), name="short"),
                            tf.image.is_jpeg(tf.constant(b"\xff\xd8\xff\xe1xyz"))]),
    ("extract_jpeg_shape", lambda tf: [tf.io.extract_jpeg_shape(_jpeg(tf)),
                                       tf.io.extract_jpeg_shape(_jpeg(tf, IMG[:, :, :1]), output_type=tf.int64),
                                       tf.image.extract_jpeg_shape(_jpeg(tf, SMOOTH), name="shape")]),
]


@pytest.mark.parametrize("name, build", HEADERS, ids=[h[0] for h in HEADERS])
def test_headers(name, build):
    _same_graph(build)
    compare(build, runs=2, exact=True)


@pytest.mark.parametrize("build", [
    lambda tf: tf.io.extract_jpeg_shape(tf.constant(b"")),
    lambda tf: tf.io.extract_jpeg_shape(tf.constant(b"not a jpeg")),
    lambda tf: tf.io.extract_jpeg_shape(tf.strings.substr(_jpeg(tf), 0, 20)),
    lambda tf: tf.io.extract_jpeg_shape(tf.constant([b"x"])),
    lambda tf: tf.io.extract_jpeg_shape(tf.constant(b"x"), output_type=tf.float32),
], ids=["empty", "not_jpeg", "truncated", "rank_1", "output_type"])
def test_extract_jpeg_shape_errors(build):
    compare_error(build)


# ------------------------------------------------------------------------------------------------
# decode_and_crop_jpeg
# ------------------------------------------------------------------------------------------------
CROPS = [
    ("window", lambda tf, **kw: tf.io.decode_and_crop_jpeg(_jpeg(tf), [3, 2, 9, 11], **kw)),
    ("whole", lambda tf, **kw: tf.image.decode_and_crop_jpeg(_jpeg(tf), [0, 0, 20, 17], **kw)),
    ("gray", lambda tf, **kw: tf.io.decode_and_crop_jpeg(_jpeg(tf), tf.constant([5, 0, 15, 8]), channels=1, **kw)),
    ("rgb_from_gray", lambda tf, **kw: tf.io.decode_and_crop_jpeg(_jpeg(tf, SMOOTH[:, :, :1]), [1, 1, 4, 18],
                                                                  channels=3, name="crop", **kw)),
    ("smooth", lambda tf, **kw: tf.io.decode_and_crop_jpeg(_jpeg(tf, SMOOTH, 80), [8, 3, 16, 16], **kw)),
    ("gray_file", lambda tf, **kw: tf.io.decode_and_crop_jpeg(_jpeg(tf, SMOOTH[:, :, :1]), [1, 2, 5, 6], **kw)),
]


@pytest.mark.parametrize("name, build", CROPS, ids=[c[0] for c in CROPS])
def test_decode_and_crop_jpeg(name, build):
    _same_graph(build)
    got, fast = _values(build)
    _, accurate = _values(lambda tf: build(tf, dct_method="INTEGER_ACCURATE"))
    for values in got:
        assert values[0].shape == fast[0].shape
        assert np.abs(values[0].astype(int) - fast[0]).max() <= FAST_DCT_LEVELS
        np.testing.assert_array_equal(values[0], accurate[0])


def test_decode_and_crop_jpeg_unknown_window_shape():
    """A fed window: the static shape is open except for the channels attr, as TF's shape function."""
    def build(tf):
        return tf.io.decode_and_crop_jpeg(_jpeg(tf), tf.placeholder(tf.int32, [4], name="w"), channels=3)
    v1 = oracle.tf1()
    for lib in (graphcompat, v1):
        with lib.Graph().as_default():
            assert build(lib).shape.as_list() == [None, None, 3]
    got = oracle.run(graphcompat, build, lambda tf, g: {g.get_tensor_by_name("w:0"): [2, 3, 4, 5]})
    assert got.shape == (4, 5, 3)


@pytest.mark.parametrize("build", [
    lambda tf: tf.io.decode_and_crop_jpeg(_jpeg(tf), [0, 0, 21, 17]),
    lambda tf: tf.io.decode_and_crop_jpeg(_jpeg(tf), [2, 2, 5, 16]),
    lambda tf: tf.io.decode_and_crop_jpeg(_jpeg(tf), tf.constant([-1, 0, 2, 2])),
    lambda tf: tf.io.decode_and_crop_jpeg(_jpeg(tf), [0, 0, 0, 2]),
    lambda tf: tf.io.decode_and_crop_jpeg(_jpeg(tf), [0, 0, -6, 1]),
    lambda tf: tf.io.decode_and_crop_jpeg(_jpeg(tf), [0, 0, 6]),
    lambda tf: tf.io.decode_and_crop_jpeg(_jpeg(tf), [[0, 0, 6, 1]]),
    lambda tf: tf.io.decode_and_crop_jpeg(tf.constant([b"x"]), [0, 0, 1, 1]),
    lambda tf: tf.io.decode_and_crop_jpeg(tf.constant(b"abc"), [0, 0, 1, 1]),
    lambda tf: tf.io.decode_and_crop_jpeg(tf.image.encode_png(tf.constant(SMOOTH)), [0, 0, 1, 1]),
    lambda tf: tf.io.decode_and_crop_jpeg(tf.strings.substr(_jpeg(tf), 0, 100), [0, 0, 1, 1]),
    lambda tf: tf.io.decode_and_crop_jpeg(_jpeg(tf), [0, 0, 1, 1], channels=2),
    lambda tf: tf.io.decode_and_crop_jpeg(_jpeg(tf), [0, 0, 1, 1], ratio=3),
    lambda tf: tf.io.decode_and_crop_jpeg(_jpeg(tf), [0, 0, 1, 1], channels=4),
    lambda tf: tf.io.decode_and_crop_jpeg(_jpeg(tf), tf.constant([0, 0, 1, 1])[:3], channels=4),
    lambda tf: tf.io.decode_and_crop_jpeg(_jpeg(tf), tf.constant([0, 0, 1, 1])[:3]),
], ids=["rows_past_end", "cols_past_end", "negative_y", "empty_window", "negative_size_static", "three_values",
        "rank_2_window", "contents_rank_1", "unknown_format", "png", "truncated", "channels_2", "ratio_3", "channels_4",
        "channels_4_before_window",
        "three_values_run_time"])
def test_decode_and_crop_jpeg_errors(build):
    compare_error(build)


def test_decode_and_crop_jpeg_ratio_not_implemented():
    with graphcompat.Graph().as_default():
        out = graphcompat.io.decode_and_crop_jpeg(_jpeg(graphcompat), [0, 0, 1, 1], ratio=2)
        with graphcompat.Session() as sess, pytest.raises(NotImplementedError, match="ratio"):
            sess.run(out)


# ------------------------------------------------------------------------------------------------
# adjust_jpeg_quality, random_jpeg_quality
# ------------------------------------------------------------------------------------------------
QUALITY = [
    ("uint8", lambda tf, **kw: tf.image.adjust_jpeg_quality(IMG, 50, **kw)),
    ("float32", lambda tf, **kw: tf.image.adjust_jpeg_quality(tf.constant(SMOOTH / 255.0, tf.float32), 90, **kw)),
    ("float_saturates", lambda tf, **kw: tf.image.adjust_jpeg_quality(tf.constant(SMOOTH / 100.0, tf.float32) - 0.5,
                                                                      75, **kw)),
    ("gray_q0", lambda tf, **kw: tf.image.adjust_jpeg_quality(SMOOTH[:, :, :1], 0, name="q", **kw)),
    # quality 100 keeps the noise image's detail, where TF's default fast DCT strays furthest (up to ~40
    # levels here): only the accurate decode is compared
    ("q100", lambda tf, **kw: tf.image.adjust_jpeg_quality(IMG, tf.constant(100), **kw)),
    ("int32", lambda tf, **kw: tf.image.adjust_jpeg_quality(SMOOTH.astype(np.int32) << 23, 30, **kw)),
]


@pytest.mark.parametrize("name, build", QUALITY, ids=[q[0] for q in QUALITY])
def test_adjust_jpeg_quality(name, build):
    _same_graph(build)
    got, fast = _values(build)
    _, accurate = _values(lambda tf: build(tf, dct_method="INTEGER_ACCURATE"))
    for values in got:
        g, f, a = values[0], fast[0], accurate[0]
        assert g.dtype == f.dtype and g.shape == f.shape
        unit = 1 / 255.0 if g.dtype.kind == "f" else (1 << 23 if g.dtype == np.int32 else 1)
        # the encoders agree (libjpeg's quality tables, 4:2:0, baseline); the decoders as decode_jpeg's
        np.testing.assert_array_equal(g, a)
        if name != "q100":
            assert np.abs(g.astype(np.float64) - f).max() / unit <= FAST_DCT_LEVELS + 1e-3


def test_adjust_jpeg_quality_two_channels():
    """Both fail the run with InvalidArgumentError. TF names DecodeJpeg's `channels` attr (2, from the
    image), checked when its kernel is built, before anything runs; graphcompat's encoder fails first
    (`image must have 1 or 3 channels`), as TF's would."""
    def build(tf):
        return tf.image.adjust_jpeg_quality(np.zeros((4, 4, 2), np.uint8), 50)
    _same_graph(build)
    got, want = error_of(graphcompat, build), error_of(oracle.tf1(), build)
    assert type(got).__name__ == type(want).__name__ == "InvalidArgumentError"
    assert "image must have 1 or 3 channels, got [4,4,2]" in str(got)


def test_random_jpeg_quality():
    """The same graph (RandomUniformInt with TF's seeds); each run encodes at a quality in [min, max): the
    result is adjust_jpeg_quality at one of those qualities."""
    def build(tf):
        tf.set_random_seed(3)
        return tf.image.random_jpeg_quality(SMOOTH, 40, 44, seed=5)
    _same_graph(build)
    got, _ = _values(build)
    candidates = [run(graphcompat, lambda tf, q=q: tf.image.adjust_jpeg_quality(SMOOTH, q))[0][0][0]
                  for q in range(40, 44)]
    for values in got:
        assert any(np.array_equal(values[0], c) for c in candidates)


@pytest.mark.parametrize("build", [
    lambda tf: tf.image.adjust_jpeg_quality(IMG, 101),
    lambda tf: tf.image.adjust_jpeg_quality(IMG, tf.constant(-1)),
    lambda tf: tf.image.adjust_jpeg_quality(np.zeros((4, 4, 4), np.uint8), 50),
    lambda tf: tf.image.adjust_jpeg_quality(np.zeros((0, 4, 3), np.uint8), 50),
    lambda tf: tf.image.adjust_jpeg_quality(np.zeros((2, 4, 4, 3), np.float32), 50),
    lambda tf: tf.image.adjust_jpeg_quality(IMG, 50.0),
    lambda tf: tf.image.adjust_jpeg_quality(tf.placeholder(tf.uint8), 50),
    lambda tf: tf.image.random_jpeg_quality(IMG, 50, 50),
    lambda tf: tf.image.random_jpeg_quality(IMG, -1, 50),
    lambda tf: tf.image.random_jpeg_quality(IMG, 10, 101),
], ids=["quality_101", "quality_negative", "four_channels", "empty", "batch", "float_quality",
        "unknown_rank", "min_equals_max", "min_negative", "max_101"])
def test_jpeg_quality_errors(build):
    compare_error(build)


# ------------------------------------------------------------------------------------------------
# extract_glimpse
# ------------------------------------------------------------------------------------------------
OFFSETS = {
    (True, True): np.array([[0.3, -0.4], [1.2, 2.7]], np.float32),
    (True, False): np.array([[0.1, 0.55], [0.95, -0.2]], np.float32),
    (False, True): np.array([[1.6, -0.7], [3.5, 2.2]], np.float32),
    (False, False): np.array([[1.6, -0.7], [3.5, 6.9]], np.float32),
}


def _glimpse_v2(tf, images, size, offsets, centered, normalized, noise, op_type="ExtractGlimpseV2"):
    """The raw op (compat.v1's tf.image.extract_glimpse cannot select `noise`)."""
    attrs = dict(centered=centered, normalized=normalized, uniform_noise=False, noise=noise)
    if tf is graphcompat:
        return apply_op(op_type, [tf.constant(images), tf.constant(size), tf.constant(offsets)], attrs)
    return getattr(tf.raw_ops, op_type)(input=images, size=size, offsets=offsets, **attrs)


@pytest.mark.parametrize("op_type", ["ExtractGlimpse", "ExtractGlimpseV2"])
@pytest.mark.parametrize("centered, normalized", list(OFFSETS), ids=[f"c{int(c)}n{int(n)}" for c, n in OFFSETS])
@pytest.mark.parametrize("size", [[3, 4], [1, 1], [9, 12]], ids=["3x4", "1x1", "bigger"])
def test_glimpse_zero_noise_exact(op_type, centered, normalized, size):
    """Window placement (float32 arithmetic, truncation toward zero) of both op versions, bit for bit."""
    offsets = OFFSETS[(centered, normalized)]
    compare(lambda tf: _glimpse_v2(tf, GLIMPSE_IN, size, offsets, centered, normalized, "zero", op_type),
            runs=2, exact=True)


def test_extract_glimpse_graph_and_inside_values():
    """compat.v1's builder records ExtractGlimpse with noise="uniform"; windows inside the image are exact."""
    def build(tf):
        images = tf.constant(GLIMPSE_IN)
        return [tf.image.extract_glimpse(images, [3, 4], tf.zeros([2, 2])),
                tf.image.extract_glimpse(images, tf.constant([2, 2]), [[0.0, 0.0], [-0.5, 0.5]],
                                         uniform_noise=False, name="g"),
                tf.image.extract_glimpse(images, [2, 3], [[1.0, 1.0], [3.0, 2.0]], centered=False,
                                         normalized=False)]
    _same_graph(build)
    compare(build, runs=2, exact=True)


@pytest.mark.parametrize("noise", ["uniform", "gaussian"])
def test_glimpse_noise_statistics(noise):
    """Outside the image: TF's noise cannot be reproduced bit for bit; its distribution is. Uniform: within
    the image's [min, max] and spread over it; gaussian: the channel's mean and std, clipped to its range."""
    images = np.stack([np.linspace(0, 1, 6 * 6 * 2).reshape(6, 6, 2) * [1.0, 4.0] + [0.0, -2.0]]).astype(np.float32)
    offsets = np.array([[100.0, 100.0]], np.float32)  # the window lies wholly outside
    modes = [(True, "uniform")] if noise == "uniform" else [(False, ""), (False, "gaussian")]
    for uniform_noise, noise_attr in modes:
        def build(tf):
            attrs = dict(centered=False, normalized=False, uniform_noise=uniform_noise, noise=noise_attr)
            if tf is graphcompat:
                return apply_op("ExtractGlimpse", [tf.constant(images), tf.constant([60, 60]), tf.constant(offsets)],
                                attrs)
            return tf.raw_ops.ExtractGlimpse(input=images, size=[60, 60], offsets=offsets, **attrs)
        got, want = _values(build)
        for values in got + [want]:
            out = values[0][0]
            if noise == "uniform":
                assert out.min() >= images.min() and out.max() <= images.max()
                assert abs(out.mean() - (images.min() + images.max()) / 2) < 0.05 * (images.max() - images.min())
            else:
                for c in range(2):
                    chan = images[0, :, :, c]
                    assert out[:, :, c].min() >= chan.min() and out[:, :, c].max() <= chan.max()
                    # within 5 standard errors of the sample mean (3,600 draws; 12 such checks a run)
                    assert abs(out[:, :, c].mean() - chan.mean()) < 5 * chan.std() / np.sqrt(out[:, :, c].size)
                    assert 0.6 * chan.std() < out[:, :, c].std() < 1.05 * chan.std()
        assert not np.array_equal(got[0][0], got[1][0])  # a fresh draw every run


@pytest.mark.parametrize("build", [
    lambda tf: tf.image.extract_glimpse(np.zeros((2, 5, 5), np.float32), [1, 1], tf.zeros([2, 2])),
    lambda tf: tf.image.extract_glimpse(np.zeros((2, 5, 5, 1), np.float32), [1, 1, 1], tf.zeros([2, 2])),
    lambda tf: tf.image.extract_glimpse(np.zeros((2, 5, 5, 1), np.float32), [1, 1], tf.zeros([2])),
    lambda tf: tf.image.extract_glimpse(np.zeros((2, 5, 5, 1), np.float32), [1, 1], tf.zeros([3, 2])),
    lambda tf: tf.image.extract_glimpse(np.zeros((2, 5, 5, 1), np.float32), [1, 1], tf.zeros([2, 3])),
    lambda tf: tf.image.extract_glimpse(tf.zeros((2, 5, 5, 1), tf.float64), [1, 1], tf.zeros([2, 2])),
    lambda tf: tf.image.extract_glimpse(np.zeros((2, 5, 5, 1), np.float32), [-1, 2], tf.zeros([2, 2])),
    lambda tf: _glimpse_v2(tf, GLIMPSE_IN, [2, 2], OFFSETS[(True, True)], True, True, "foo"),
    lambda tf: tf.image.extract_glimpse(np.zeros((2, 5, 5, 1), np.float32), [1, 1],
                                        tf.zeros([tf.shape(tf.zeros([3]))[0], 2])),
], ids=["input_rank", "size_len", "offsets_rank", "offsets_batch", "offsets_width", "float64", "negative_size",
        "bad_noise", "offsets_batch_run_time"])
def test_extract_glimpse_errors(build):
    compare_error(build)


# ------------------------------------------------------------------------------------------------
# non_max_suppression_padded (TF's pure-op algorithm, recorded inline where TF calls a function)
# ------------------------------------------------------------------------------------------------
def _random_boxes(*lead, n=12, spread=4.0, seed=3):
    rs = np.random.RandomState(seed)
    corner = rs.rand(*lead, n, 2) * spread
    size = rs.rand(*lead, n, 2) + 0.5
    return (np.concatenate([corner, corner + size], -1).astype(np.float32),
            rs.rand(*lead, n).astype(np.float32))


NB1, NS1 = _random_boxes()
NB2, NS2 = _random_boxes(2, 3, seed=4)
DENSE_B, DENSE_S = _random_boxes(n=40, spread=1.5, seed=5)   # heavy overlap: several self-suppression rounds

NMS_PADDED = [
    ("single", lambda tf: list(tf.image.non_max_suppression_padded(tf.constant(NB1), tf.constant(NS1), 5))),
    ("padded", lambda tf: list(tf.image.non_max_suppression_padded(tf.constant(NB1), NS1, 5, iou_threshold=0.3,
                                                                   pad_to_max_output_size=True))),
    ("batched", lambda tf: list(tf.image.non_max_suppression_padded(tf.constant(NB2), NS2, 4, score_threshold=0.3,
                                                                    pad_to_max_output_size=True, tile_size=4))),
    ("more_than_boxes", lambda tf: list(tf.image.non_max_suppression_padded(
        tf.constant(NB1[:, [2, 3, 0, 1]]), NS1, 20, pad_to_max_output_size=True, tile_size=4))),
    ("dense_tiles", lambda tf: list(tf.image.non_max_suppression_padded(tf.constant(DENSE_B), DENSE_S, 10,
                                                                        iou_threshold=0.2, tile_size=8))),
    ("sorted_canonical", lambda tf: list(tf.image.non_max_suppression_padded(
        tf.constant(DENSE_B[np.argsort(-DENSE_S)]), np.sort(DENSE_S)[::-1].copy(), tf.constant(7),
        sorted_input=True, canonicalized_coordinates=True, pad_to_max_output_size=True, name="nms"))),
    ("all_below_threshold", lambda tf: list(tf.image.non_max_suppression_padded(
        tf.constant(NB1), NS1, 3, score_threshold=2.0, pad_to_max_output_size=True))),
]


@pytest.mark.parametrize("name, build", NMS_PADDED, ids=[n[0] for n in NMS_PADDED])
def test_non_max_suppression_padded(name, build):
    got, want = _values(build)
    for values in got:  # op by op, then compiled
        for g, w in zip(values, want):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g, w)


def test_non_max_suppression_padded_fed_shapes():
    """Unknown box counts and a fed max_output_size: the same values as TF's, the same static shapes."""
    def build(tf):
        boxes = tf.placeholder(tf.float32, [None, 4], name="b")
        scores = tf.placeholder(tf.float32, [None], name="s")
        size = tf.placeholder(tf.int32, [], name="k")
        return (list(tf.image.non_max_suppression_padded(boxes, scores, size, iou_threshold=0.4))
                + list(tf.image.non_max_suppression_padded(boxes, scores, 6, pad_to_max_output_size=True)))

    def feed(tf, graph):
        return {graph.get_tensor_by_name("b:0"): DENSE_B, graph.get_tensor_by_name("s:0"): DENSE_S,
                graph.get_tensor_by_name("k:0"): 9}
    v1 = oracle.tf1()
    got, got_static, _ = run(graphcompat, build, feed, runs=2)
    want, want_static, _ = run(v1, build, feed)
    assert got_static == want_static
    for values in got:
        for g, w in zip(values, want[0]):
            np.testing.assert_array_equal(g, w)


def test_non_max_suppression_padded_outer_graph():
    """After the (inlined) function call, the ops TF records: the slice to num_valid, or the reshape."""
    def build(tf):
        idx, _ = tf.image.non_max_suppression_padded(tf.constant(NB2), NS2, 4, pad_to_max_output_size=True)
        single, _ = tf.image.non_max_suppression_padded(tf.constant(NB1), NS1, 4, name="one")
        return [idx, single]
    v1 = oracle.tf1()
    ours = [(n, t) for n, t in oracle.op_names(graphcompat, build) if "/padded_v2/" not in n]
    theirs = [(n, t) for n, t in oracle.op_names(v1, build) if t != "PartitionedCall"]
    assert ours == theirs
    assert oracle.names(graphcompat, build) == [n.replace("PartitionedCall", "padded_v2/Reshape_2")
                                                for n in oracle.names(v1, build)]


@pytest.mark.parametrize("build", [
    lambda tf: tf.image.non_max_suppression_padded(tf.constant(NB2), NS2, 4),
    lambda tf: tf.image.non_max_suppression_padded(NB1, NS1, 4),
], ids=["batched_without_padding", "array_boxes_without_padding"])
def test_non_max_suppression_padded_errors(build):
    compare_error(build)


def test_autopacking_sublists_without_tensors():
    """`tf.pad(x, [[0, 0], [0, n]])` with a tensor `n` (as non_max_suppression_padded builds): a sub-list
    of Python numbers becomes one Const, node for node as TF's autopacking."""
    def build(tf):
        n = tf.placeholder(tf.int32, [], name="n")
        return [tf.pad(tf.zeros([2, 3]), [[0, 0], [0, n]]), tf.convert_to_tensor([[[1], [2]], [[n], [3]]])]
    _same_graph(build)
    compare(build, feed=lambda tf, g: {g.get_tensor_by_name("n:0"): 2}, runs=2)
