"""Audio ops against real TF 2.21 `tensorflow.compat.v1`: DecodeWav / EncodeWav (`tf.audio`, bit for bit),
AudioSpectrogram and Mfcc (`gen_audio_ops`, float32 tolerance), their static shapes, build-time and run-time
errors (class and TF's text), and TF's speech_commands front end (DecodeWav -> AudioSpectrogram -> Mfcc)
exported by TF as a GraphDef and run by graphcompat. Also DecodeJSONExample (`tf.io.decode_json_example`),
byte for byte."""
import struct

import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests._op_oracle import compare, compare_error, leaves

pytestmark = pytest.mark.oracle

rng = np.random.RandomState(7)


def audio_ops(tf):
    """The module TF1 speech programs import as `audio_ops`, for either library."""
    if tf is graphcompat:
        from graphcompat.ops import audio_ops as ops
    else:
        from tensorflow.python.ops import gen_audio_ops as ops
    return ops


def wav(samples: np.ndarray, rate: int = 16000, *, fmt_size: int = 16, audio_format: int = 1, bits: int = 16,
        channels=None, block=None, byte_rate=None, before_fmt: bytes = b"", after_data: bytes = b"",
        data_size=None, head: bytes = b"RIFF", wave: bytes = b"WAVE") -> bytes:
    """A WAV file of int16 `samples` [frames, channels], with every header field overridable."""
    samples = np.asarray(samples, "<i2")
    channels = samples.shape[1] if channels is None else channels
    block = 2 * channels if block is None else block
    byte_rate = rate * block if byte_rate is None else byte_rate
    body = samples.tobytes()
    fmt = struct.pack("<HHIIHH", audio_format, channels, rate, byte_rate, block, bits) + b"\0" * (fmt_size - 16)
    chunks = (before_fmt + b"fmt " + struct.pack("<I", fmt_size) + fmt + b"data"
              + struct.pack("<I", len(body) if data_size is None else data_size) + body + after_data)
    return head + struct.pack("<I", 4 + len(chunks)) + wave + chunks


MONO = rng.randint(-32768, 32768, size=(37, 1))
STEREO = rng.randint(-32768, 32768, size=(25, 2))
TRIPLE = np.array([[-32768, 0, 32767], [1, -1, 2], [100, 200, 300]])


def _feed_string(value: bytes):
    def feed(tf, graph):
        return {graph.get_tensor_by_name("contents:0"): value}
    return feed


def _decode(tf, **kw):
    contents = tf.placeholder(tf.string, [], name="contents")
    return tuple(tf.audio.decode_wav(contents, **kw))


# ------------------------------------------------------------------------------------------------
# DecodeWav
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [
    wav(MONO), wav(STEREO, 44100), wav(TRIPLE, 8000), wav(np.zeros((0, 2)), 22050),
    wav(MONO, fmt_size=18), wav(STEREO, before_fmt=b"JUNK" + struct.pack("<I", 6) + b"abcdef"),
    wav(MONO, after_data=b"LIST" + struct.pack("<I", 4) + b"INFO"),
    wav(MONO, data_size=2 * 37 + 1),  # an odd size: TF reads whole frames and then finds the end
], ids=["mono", "stereo", "three", "empty", "fmt18", "junk", "list", "odd-data"])
@pytest.mark.parametrize("channels,samples", [(-1, -1), (1, -1), (4, 10), (0, 3), (2, 0), (-1, 50)])
def test_decode_wav_values(data, channels, samples):
    compare(lambda tf: _decode(tf, desired_channels=channels, desired_samples=samples), _feed_string(data),
            exact=True)


def test_decode_wav_graph_and_output_structure():
    v1 = oracle.tf1()
    for tf in (graphcompat, v1):
        with tf.Graph().as_default():
            out = tf.audio.decode_wav(tf.constant(wav(MONO)), desired_samples=8, name="dw")
            assert type(out).__name__ == "DecodeWav" and out._fields == ("audio", "sample_rate")
            assert out.audio.name == "dw:0" and out.sample_rate.name == "dw:1"
            assert out.audio.shape.as_list() == [8, None] and out.sample_rate.shape.as_list() == []
            assert out.audio.op.get_attr("desired_channels") == -1


def _chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("data", [
    b"", b"RIF", wav(MONO, head=b"RIFX"), wav(MONO, wave=b"WAVX"),
    wav(MONO, before_fmt=_chunk(b"LIST", b"abcd")), wav(MONO, fmt_size=20), wav(MONO, audio_format=3),
    wav(np.zeros((0, 1)), channels=0, block=0), wav(MONO, bits=8), wav(MONO, block=4), wav(MONO, byte_rate=1),
    wav(MONO)[:36], wav(MONO, data_size=2 * 40), wav(MONO, after_data=_chunk(b"data", b"\0\0")),
    wav(MONO, after_data=b"LIST" + struct.pack("<I", 2**31) + b"x"),
    wav(MONO, before_fmt=b"JUNK" + struct.pack("<I", 10**6)),
], ids=["empty", "short", "riff", "wave", "unexpected-field", "fmt-size", "format", "no-channels", "8-bit",
        "block", "byte-rate", "no-data", "truncated", "two-data", "huge-chunk", "junk-past-end"])
def test_decode_wav_errors(data):
    compare_error(lambda tf: _decode(tf), _feed_string(data))


@pytest.mark.parametrize("build", [
    lambda tf: tf.audio.decode_wav(tf.constant([b"x"])),
    lambda tf: tf.audio.decode_wav(tf.constant(b"x"), desired_channels=-2),
    lambda tf: tf.audio.decode_wav(tf.constant(b"x"), desired_samples=-3),
    lambda tf: tf.audio.decode_wav(tf.constant(1.0)),
], ids=["rank", "channels", "samples", "dtype"])
def test_decode_wav_build_errors(build):
    compare_error(build)


# ------------------------------------------------------------------------------------------------
# EncodeWav
# ------------------------------------------------------------------------------------------------
EDGES = np.array([0.0, -0.0, 1.0, -1.0, 1.5, -2.0, np.inf, -np.inf, np.nan, 0.5 / 32768, -0.5 / 32768,
                  1.5 / 32768, -2.5 / 32768, np.nextafter(np.float32(0.5 / 32768), 0), 0.9999, 3e38],
                 np.float32)[:, None]


@pytest.mark.parametrize("audio,rate", [
    (rng.uniform(-1.2, 1.2, (50, 1)), 16000), (rng.uniform(-1, 1, (20, 2)), 44100), (EDGES, 8000),
    (np.zeros((0, 3)), 22050), (rng.uniform(-1, 1, (4, 5)), 1),
], ids=["mono", "stereo", "edges", "empty", "five-channels"])
def test_encode_wav_bytes(audio, rate):
    def build(tf):
        a = tf.placeholder(tf.float32, [None, audio.shape[1]], name="a")
        encoded = tf.audio.encode_wav(a, rate)
        return encoded, tuple(tf.audio.decode_wav(encoded))

    def feed(tf, graph):
        return {graph.get_tensor_by_name("a:0"): audio.astype(np.float32)}
    compare(build, feed, exact=True)


@pytest.mark.parametrize("audio,rate", [
    (np.zeros((3, 1)), 0), (np.zeros((3, 1)), -1), (np.zeros((3, 0)), 8000),
], ids=["rate-0", "rate-negative", "no-channels"])
def test_encode_wav_run_errors(audio, rate):
    def build(tf):
        return tf.audio.encode_wav(tf.placeholder(tf.float32, None, name="a"), tf.placeholder(tf.int32, None, name="r"))

    def feed(tf, graph):
        return {graph.get_tensor_by_name("a:0"): audio.astype(np.float32), graph.get_tensor_by_name("r:0"): rate}
    compare_error(build, feed)


def test_encode_wav_fed_ranks():
    for audio, rate in ((np.zeros(3), 8000), (np.zeros((3, 1)), [8000])):
        def build(tf):
            return tf.audio.encode_wav(tf.placeholder(tf.float32, None, name="a"),
                                       tf.placeholder(tf.int32, None, name="r"))

        def feed(tf, graph, audio=audio, rate=rate):
            return {graph.get_tensor_by_name("a:0"): np.asarray(audio, np.float32),
                    graph.get_tensor_by_name("r:0"): np.asarray(rate, np.int32)}
        compare_error(build, feed)


@pytest.mark.parametrize("build", [
    lambda tf: tf.audio.encode_wav(tf.zeros([3]), 8000),
    lambda tf: tf.audio.encode_wav(tf.zeros([3, 1]), [8000]),
    lambda tf: tf.audio.encode_wav(tf.zeros([3, 1]), 1.5),
    lambda tf: tf.audio.encode_wav(tf.zeros([3, 1], tf.float64), 8000),
], ids=["audio-rank", "rate-rank", "rate-dtype", "audio-dtype"])
def test_encode_wav_build_errors(build):
    compare_error(build)


# ------------------------------------------------------------------------------------------------
# AudioSpectrogram
# ------------------------------------------------------------------------------------------------
SIGNAL = (np.sin(np.arange(3000)[:, None] * np.array([[0.05, 0.31]])) * 0.6
          + rng.uniform(-0.2, 0.2, (3000, 2))).astype(np.float32)


@pytest.mark.parametrize("window,stride,squared,samples,channels", [
    (256, 128, True, 3000, 1), (480, 160, False, 3000, 2), (100, 37, True, 1000, 1), (64, 100, False, 700, 2),
    (512, 512, True, 512, 1), (600, 10, False, 599, 1), (2, 1, True, 9, 2),
], ids=["pow2", "speech", "odd-window", "stride>window", "one-frame", "too-short", "tiny"])
def test_audio_spectrogram_values(window, stride, squared, samples, channels):
    x = SIGNAL[:samples, :channels]

    def build(tf):
        return audio_ops(tf).audio_spectrogram(tf.placeholder(tf.float32, [None, channels], name="x"),
                                               window_size=window, stride=stride, magnitude_squared=squared)

    def feed(tf, graph):
        return {graph.get_tensor_by_name("x:0"): x}
    compare(build, feed, tol=1e-6)
    compare(lambda tf: audio_ops(tf).audio_spectrogram(tf.constant(x), window_size=window, stride=stride,
                                                       magnitude_squared=squared), tol=1e-6)


@pytest.mark.parametrize("build", [
    lambda tf: audio_ops(tf).audio_spectrogram(tf.zeros([3]), window_size=4, stride=2),
    lambda tf: audio_ops(tf).audio_spectrogram(tf.zeros([30, 1]), window_size=1, stride=2),
    lambda tf: audio_ops(tf).audio_spectrogram(tf.zeros([30, 1]), window_size=8, stride=0),
    lambda tf: audio_ops(tf).audio_spectrogram(tf.zeros([30, 1], tf.float64), window_size=8, stride=2),
], ids=["rank", "window", "stride", "dtype"])
def test_audio_spectrogram_build_errors(build):
    compare_error(build)


# ------------------------------------------------------------------------------------------------
# Mfcc
# ------------------------------------------------------------------------------------------------
def _spectrogram(window=480, stride=160, channels=2):
    v1 = oracle.tf1()
    return oracle.run(v1, lambda tf: audio_ops(tf).audio_spectrogram(
        tf.constant(SIGNAL[:, :channels]), window_size=window, stride=stride, magnitude_squared=True))


@pytest.mark.parametrize("rate,kw", [
    (16000, {}), (16000, {"dct_coefficient_count": 40}), (8000, {"upper_frequency_limit": 3900.5}),
    (44100, {"lower_frequency_limit": 0, "upper_frequency_limit": 12000, "filterbank_channel_count": 20,
             "dct_coefficient_count": 20}),
    (16000, {"filterbank_channel_count": 120}),   # more bands than bins: TF's empty bands floor at log(1e-12)
    (6000, {}),                                   # the top band lies past Nyquist: TF's filterbank gives zeros
], ids=["default", "dct40", "8k", "wide", "narrow-bands", "past-nyquist"])
def test_mfcc_values(rate, kw):
    spec = _spectrogram()

    def build(tf):
        s = tf.placeholder(tf.float32, [2, None, spec.shape[2]], name="s")
        return audio_ops(tf).mfcc(s, tf.placeholder(tf.int32, [], name="r"), **kw)

    def feed(tf, graph):
        return {graph.get_tensor_by_name("s:0"): spec, graph.get_tensor_by_name("r:0"): rate}
    compare(build, feed, tol=1e-6)


@pytest.mark.parametrize("rate,kw,bins", [
    (0, {}, 257), (-5, {}, 257), (16000, {"dct_coefficient_count": 41}, 257), (16000, {}, 1),
    (16000, {"lower_frequency_limit": 500, "upper_frequency_limit": 400}, 257),
    (16000, {"lower_frequency_limit": -1}, 257), (16000, {"filterbank_channel_count": -3}, 257),
    (16000, {"dct_coefficient_count": 0}, 257), (16000, {"dct_coefficient_count": -1}, 257),
], ids=["rate-0", "rate-negative", "dct>bands", "one-bin", "limits", "lower<0", "no-bands", "no-dct", "dct<0"])
def test_mfcc_run_errors(rate, kw, bins):
    def build(tf):
        s = tf.placeholder(tf.float32, None, name="s")
        return audio_ops(tf).mfcc(s, tf.placeholder(tf.int32, None, name="r"), **kw)

    def feed(tf, graph):
        return {graph.get_tensor_by_name("s:0"): np.ones((1, 2, bins), np.float32),
                graph.get_tensor_by_name("r:0"): rate}
    compare_error(build, feed)


def test_mfcc_compiled_run_then_bad_rate():
    """A compiled plan's run-time check raises TF's text (the offending rate) and the next good run works."""
    v1 = oracle.tf1()
    spec = _spectrogram(channels=1)
    want = oracle.run(v1, lambda tf: audio_ops(tf).mfcc(tf.constant(spec), 16000))
    with graphcompat.Graph().as_default():
        s, r = graphcompat.placeholder(graphcompat.float32, name="s"), graphcompat.placeholder(graphcompat.int32)
        out = audio_ops(graphcompat).mfcc(s, r)
        with graphcompat.Session() as sess:
            for _ in range(2):
                np.testing.assert_allclose(sess.run(out, {s: spec, r: 16000}), want, rtol=1e-6, atol=1e-6)
            with pytest.raises(graphcompat.errors.InvalidArgumentError,
                               match="Mfcc initialization failed for channel count 257, sample rate 0 and "
                                     "filterbank_channel_count 40"):
                sess.run(out, {s: spec, r: 0})
            np.testing.assert_allclose(sess.run(out, {s: spec, r: 16000}), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("build", [
    lambda tf: audio_ops(tf).mfcc(tf.zeros([3, 4]), 16000),
    lambda tf: audio_ops(tf).mfcc(tf.zeros([1, 3, 4]), [16000]),
    lambda tf: audio_ops(tf).mfcc(tf.zeros([1, 3, 4]), 16000.0),
], ids=["rank", "rate-rank", "rate-dtype"])
def test_mfcc_build_errors(build):
    compare_error(build)


def test_speech_front_end_records_tfs_graph():
    """Names, op types and attrs node for node: the Python-int rate becomes `EncodeWav/sample_rate`, etc."""
    def build(tf):
        a = tf.placeholder(tf.float32, [None, 1])
        decoded = tf.audio.decode_wav(tf.audio.encode_wav(a, 16000), desired_channels=1, desired_samples=16000)
        spectrogram = audio_ops(tf).audio_spectrogram(decoded.audio, window_size=480, stride=160,
                                                      magnitude_squared=True)
        audio_ops(tf).mfcc(spectrogram, decoded.sample_rate, upper_frequency_limit=7600.5, dct_coefficient_count=40)
        audio_ops(tf).mfcc(spectrogram, 8000, name="m8")
    v1 = oracle.tf1()
    assert oracle.op_names(graphcompat, build) == oracle.op_names(v1, build)
    graphs = []
    for tf in (graphcompat, v1):
        graph = tf.Graph()
        with graph.as_default():
            build(tf)
        graphs.append({node.name: (node.op, list(node.input),
                                   {key: value.SerializeToString() for key, value in node.attr.items()})
                       for node in graph.as_graph_def().node})
    assert graphs[0] == graphs[1]


def _spectrogram_gradient(tf):
    x = tf.ones([40, 1])
    return tf.gradients(audio_ops(tf).audio_spectrogram(x, window_size=8, stride=4), x)


def _mfcc_gradient(tf):
    x = tf.ones([1, 2, 9])
    return tf.gradients(audio_ops(tf).mfcc(x, 16000), x)


@pytest.mark.parametrize("build", [_spectrogram_gradient, _mfcc_gradient], ids=["spectrogram", "mfcc"])
def test_audio_ops_have_no_gradient(build):
    """TF registers no gradient for these ops: tf.gradients raises LookupError (graphcompat reads that from
    framework/tf_op_types.py, which tools/gen_op_types.py writes)."""
    compare_error(build)


# ------------------------------------------------------------------------------------------------
# TF's speech_commands front end, as a GraphDef written by TF
# ------------------------------------------------------------------------------------------------
def _speech_graph_def():
    v1 = oracle.tf1()
    from tensorflow.python.ops import gen_audio_ops
    graph = v1.Graph()
    with graph.as_default():
        contents = v1.placeholder(v1.string, [], name="wav_data")
        decoded = v1.audio.decode_wav(contents, desired_channels=1, desired_samples=16000, name="decoded_sample_data")
        spectrogram = gen_audio_ops.audio_spectrogram(decoded.audio, window_size=480, stride=160,
                                                      magnitude_squared=True)
        gen_audio_ops.mfcc(spectrogram, decoded.sample_rate, dct_coefficient_count=40, name="Mfcc")
    return graph.as_graph_def().SerializeToString()


def test_speech_commands_graph_def_import():
    v1 = oracle.tf1()
    data = _speech_graph_def()
    clips = [wav((SIGNAL[:16000, :1] * 30000).astype(np.int16)), wav(STEREO, 8000),
             wav((SIGNAL[:20000] * 20000).astype(np.int16), 22050)]
    fetches = ["decoded_sample_data:0", "decoded_sample_data:1", "AudioSpectrogram:0", "Mfcc:0"]
    results = {}
    for lib in (graphcompat, v1):
        graph = lib.Graph()
        with graph.as_default():
            lib.import_graph_def(lib.GraphDef.FromString(data), name="")
            out = [graph.get_tensor_by_name(name) for name in fetches]
            assert [t.shape.as_list() for t in out] == [[16000, 1], [], [1, 98, 257], [1, 98, 40]]
            with lib.Session(graph=graph) as sess:
                results[lib] = [leaves(sess.run(out, {"wav_data:0": clip})) for clip in clips for _ in range(2)]
    for got, want in zip(results[graphcompat], results[v1]):
        np.testing.assert_array_equal(got[0], want[0])
        assert got[1] == want[1]
        np.testing.assert_allclose(got[2], want[2], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(got[3], want[3], rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------------------------------------
# DecodeJSONExample (tf.io.decode_json_example)
# ------------------------------------------------------------------------------------------------
def _json_feature(key: str, body: str) -> str:
    return '{"features": {"feature": {"%s": %s}}}' % (key, body)


JSON_EXAMPLES = [
    '{"features": {"feature": {"b": {"int64List": {"value": ["1", 2, "-3", "9223372036854775807", 1e3]}}, '
    '"a": {"floatList": {"value": [1.5, "NaN", -0.0, "-Infinity", "inf", 1e-50, 3.4e38, 0.1]}}}}}',
    '{}', '{"features": {}}', '{"features": null}', ' {"features" : {"feature": {}}} ',
    '{"features": {"feature": {"z": {"bytes_list": {"value": ["aGVsbG8=", "_-8", "", "aGk"]}}, '
    '"y": {"floatList": {}}}}}',
    _json_feature("x", "{}"), _json_feature("x", '{"int64List": {"value": []}}'),
    _json_feature("x", '{"int64List": {"value": null}}'),
    _json_feature("\u00e9t\u00e9", '{"float_list": {"value": [1]}}'),
]
JSON_ERRORS = [
    "", "null", "[1]", '{"a":', '{"unknown": 1}', '{"features": 3}', '{"features": {"feature": []}}',
    _json_feature("x", '{"int64List": {"value": [1.5]}}'), _json_feature("x", '{"int64List": {}, "floatList": {}}'),
    _json_feature("x", '{"int64_list": {"value": ["18446744073709551615"]}}'),
    _json_feature("x", '{"bytesList": {"value": ["@@"]}}'), _json_feature("x", '{"floatList": {"value": [3.5e38]}}'),
    '{"features": {"feature": {"x": {}, "x": {}}}}',
]

# Failures protobuf words without a position (a fixed text, where the others' spacing is random): TF's text.
JSON_FIXED_TEXTS = [
    "", "  ", "{", "{bad", '{"features"', "{'features':", '{"features": nul', '{"features": {"feature": {"a": {"foo',
    '{"features": {"feature": {"a": {"int64List": {"value": ["1', '{"features": {}}x', '{"features": {}} ,',
]


@pytest.mark.parametrize("text", JSON_FIXED_TEXTS)
def test_decode_json_example_fixed_texts(text):
    def build(tf):
        return tf.io.decode_json_example(tf.placeholder(tf.string, [], name="j"))

    def feed(tf, graph):
        return {graph.get_tensor_by_name("j:0"): text}
    from tests._bad_input_sweep import kernel_text
    from tests._op_oracle import error_of
    want, got = error_of(oracle.tf1(), build, feed), error_of(graphcompat, build, feed)
    assert type(want).__name__ == type(got).__name__ == "InvalidArgumentError", (want, got)
    assert kernel_text(got.message) == kernel_text(want.message)


def test_decode_json_example_values():
    texts = np.array(JSON_EXAMPLES, dtype=object)

    def build(tf):
        return tf.io.decode_json_example(tf.placeholder(tf.string, [None], name="j"))

    def feed(tf, graph):
        return {graph.get_tensor_by_name("j:0"): texts}
    compare(build, feed)
    grid = texts[:8].reshape(2, 4)
    compare(lambda tf: tf.decode_json_example(tf.constant(grid), name="dj"))


def test_decode_json_example_graph():
    for tf in (graphcompat, oracle.tf1()):
        with tf.Graph().as_default():
            out = tf.io.decode_json_example(tf.placeholder(tf.string, [3, None]))
            assert out.name == "DecodeJSONExample:0" and out.shape.as_list() == [3, None]


@pytest.mark.parametrize("text", JSON_ERRORS)
def test_decode_json_example_errors(text):
    """TF's class and message head; the parser's reason after it is protobuf C++'s (with randomized spacing)
    in TF and Python's json_format's here."""
    def build(tf):
        return tf.io.decode_json_example(tf.placeholder(tf.string, [], name="j"))

    def feed(tf, graph):
        return {graph.get_tensor_by_name("j:0"): text}
    from tests._op_oracle import error_of
    want, got = error_of(oracle.tf1(), build, feed), error_of(graphcompat, build, feed)
    assert type(want).__name__ == type(got).__name__ == "InvalidArgumentError", (want, got)
    assert "Error while parsing JSON: " in want.message and got.message.startswith("Error while parsing JSON: ")
