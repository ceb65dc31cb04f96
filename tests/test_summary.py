"""tf.summary ops evaluated in sess.run, FileWriter event files read back with TensorBoard's own loader."""
import glob
import os

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2

import graphcompat as tf
from graphcompat.formats import decode_png, read_records
from tests import oracle


def _run(fetch, feed=None):
    with tf.Session() as sess:
        return sess.run(fetch, feed)


def _summary(blob) -> summary_pb2.Summary:
    assert isinstance(blob, bytes)
    return summary_pb2.Summary.FromString(blob)


# --- values and tags (one line per case) ---------------------------------------------------------
X = np.arange(8, dtype=np.float32) - 2


def _build_all(tf_):
    """The same summaries under graphcompat or real TF; returns the fetch list."""
    x = tf_.constant(X, name="x")
    out = [tf_.summary.scalar("loss", tf_.constant(1.5))]
    with tf_.name_scope("foo"):
        out.append(tf_.summary.scalar("loss", tf_.constant(2, tf_.int64)))
    out.append(tf_.summary.scalar("loss", tf_.constant(2.5, tf_.float64), family="fam"))
    out.append(tf_.summary.scalar("loss", tf_.constant(3.0)))  # uniquified: loss_1
    out.append(tf_.summary.histogram("hist", x))
    out.append(tf_.summary.histogram("ints", tf_.constant([1, 5, 5, 100], tf_.int32)))
    out.append(tf_.summary.text("txt", tf_.constant(["a", "b"])))
    out.append(tf_.summary.audio("aud", tf_.reshape(x / 4.0, [2, 4]), 8000.0, max_outputs=1))
    out.append(tf_.summary.audio("aud2", tf_.reshape(x / 8.0, [1, 4, 2]), 16000, max_outputs=2))
    out.append(tf_.summary.tensor_summary("ts", x))
    out.append(tf_.summary.tensor_summary("scalar_ts", tf_.constant(3, tf_.int64), summary_description="d"))
    out.append(tf_.summary.scalar("bad name!", tf_.constant(1.0)))
    return out


def test_summary_ops_names_tags_and_values():
    fetches = _build_all(tf)
    names = [t.op.name for t in fetches]
    assert names == ["loss", "foo/loss", "fam/loss", "loss_1", "hist", "ints", "txt", "aud", "aud2", "ts",
                     "scalar_ts", "bad_name_"]
    types = [t.op.type for t in fetches]
    assert types[:4] == ["ScalarSummary"] * 4 and types[4] == "HistogramSummary"
    assert types[6] == "TensorSummaryV2" and types[7] == "AudioSummaryV2"
    assert all(t.dtype == tf.string and t.shape.as_list() == [] for t in fetches)
    assert [i.name for i in fetches[0].op.inputs] == ["loss/tags:0", "Const:0"]
    values = [_summary(b) for b in _run(fetches)]
    tags = [[v.tag for v in s.value] for s in values]
    assert tags == [["loss"], ["foo/loss"], ["fam/fam/loss"], ["loss_1"], ["hist"], ["ints"], ["txt"],
                    ["aud/audio"], ["aud2/audio/0"], ["ts"], ["scalar_ts"], ["bad_name_"]]
    assert values[1].value[0].simple_value == 2.0
    assert values[4].value[0].histo.num == 8 and values[4].value[0].histo.sum == 12
    assert values[6].value[0].metadata.plugin_data.plugin_name == "text"
    assert list(values[6].value[0].tensor.string_val) == [b"a", b"b"]
    assert values[7].value[0].audio.sample_rate == 8000 and values[7].value[0].audio.length_frames == 4
    assert values[8].value[0].audio.num_channels == 2
    assert np.frombuffer(values[9].value[0].tensor.tensor_content, np.float32).tolist() == X.tolist()


@pytest.mark.oracle
def test_summary_values_equal_tensorflow():
    v1 = oracle.tf1()
    ours = [_summary(b) for b in oracle.run(tf, _build_all)]
    theirs = [summary_pb2.Summary.FromString(b) for b in oracle.run(v1, _build_all)]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        # Byte-identical Summary protos (no images here: PNG compression bytes differ, pixels don't).
        assert a.SerializeToString() == b.SerializeToString(), (a, b)


IMAGES = [
    ("uint8", np.array([[[[0], [255]], [[7], [128]]]], np.uint8)),
    ("positive", np.array([[[[0.0], [1.0]], [[0.5], [0.25]]]], np.float32)),
    ("negative", np.array([[[[np.nan], [1.0]], [[-3.0], [0.5]]]], np.float32)),
    ("rgb", np.random.default_rng(0).normal(size=(3, 2, 3, 3)).astype(np.float32)),
    ("rgba64", np.random.default_rng(1).uniform(size=(2, 2, 2, 4)).astype(np.float64)),
    ("zeros", np.zeros((1, 2, 2, 1), np.float32)),
    ("inf_rgb", np.array([[[[1.0, np.inf, 0.0], [0.5, 0.5, 0.5]]]], np.float32)),
]


def _expected_pixels(img: np.ndarray) -> np.ndarray:
    """TF's NormalizeFloatImage written out with numpy (per image, float32 maths, bad color red)."""
    if img.dtype == np.uint8:
        return img
    h, w, d = img.shape
    px = img.reshape(-1, d)
    ok = np.isfinite(px).all(axis=1)
    lo, hi = np.float32(px[ok].min()), np.float32(px[ok].max())
    if lo < 0:
        m = max(abs(lo), abs(hi))
        scale, offset = (np.float32(0) if m < 1e-6 else np.float32(127) / np.float32(m)), 128.0
    else:
        scale, offset = (np.float32(0) if hi < 1e-6 else np.float32(255) / hi), 0.0
    out = np.zeros_like(px, dtype=np.uint8)
    out[ok] = (px[ok] * img.dtype.type(scale) + img.dtype.type(offset)).astype(np.int64).astype(np.uint8)
    out[~ok] = np.array([255, 0, 0, 255], np.uint8)[:d]
    return out.reshape(h, w, d)


@pytest.mark.parametrize("name,images", IMAGES, ids=[c[0] for c in IMAGES])
def test_image_summary_pixels(name, images):
    s = _summary(_run(tf.summary.image(name, tf.constant(images), max_outputs=2)))
    n = min(2, images.shape[0])
    assert [v.tag for v in s.value] == [f"{name}/image/{i}" for i in range(n)]
    for i, value in enumerate(s.value):
        assert (value.image.height, value.image.width, value.image.colorspace) == images.shape[1:]
        np.testing.assert_array_equal(decode_png(value.image.encoded_image_string).reshape(images.shape[1:]),
                                      _expected_pixels(images[i]))


def test_image_tag_single_output():
    s = _summary(_run(tf.summary.image("im", tf.constant(np.zeros((3, 2, 2, 3), np.float32)), max_outputs=1)))
    assert [v.tag for v in s.value] == ["im/image"]


@pytest.mark.oracle
def test_image_pixels_equal_tensorflow():
    v1 = oracle.tf1()
    images = IMAGES[3][1]

    def build(tf_):
        return tf_.summary.image("img", tf_.constant(images), max_outputs=3)
    ours, theirs = _summary(oracle.run(tf, build)), summary_pb2.Summary.FromString(oracle.run(v1, build))
    for a, b in zip(ours.value, theirs.value):
        assert a.tag == b.tag
        np.testing.assert_array_equal(decode_png(a.image.encoded_image_string),
                                      decode_png(b.image.encoded_image_string))


@pytest.mark.parametrize("build,feed,error,message", [
    (lambda x: tf.summary.histogram("h", x), [1.0, np.nan], tf.errors.InvalidArgumentError,
     "Nan in summary histogram for: h"),
    (lambda x: tf.summary.histogram("h", x), [np.inf, np.nan], tf.errors.InvalidArgumentError,
     "Infinity in Histogram for: h"),
    (lambda x: tf.summary.scalar("s", x), [1.0, 2.0], tf.errors.InvalidArgumentError,
     "tags and values are not the same shape: [] != [2] (tag 's')"),
    (lambda x: tf.summary.image("i", x), [1.0, 2.0], tf.errors.InvalidArgumentError,
     "Tensor must be 4-D with last dim 1, 3, or 4, not [2]"),
    (lambda x: tf.summary.merge([tf.summary.histogram("d", x), tf.summary.tensor_summary("d_", x)]),
     [1.0, 2.0], None, None),
], ids=["nan", "inf", "scalar_shape", "image_rank", "merge_ok"])
def test_summary_runtime_errors(build, feed, error, message):
    x = tf.placeholder(tf.float32, [None])
    op = build(x)
    with tf.Session() as sess:
        if error is None:
            assert len(_summary(sess.run(op, {x: feed})).value) == 2
            return
        with pytest.raises(error) as info:
            sess.run(op, {x: feed})
        assert info.value.message == message


def test_merge_duplicate_tag_and_merge_all_collections():
    a = tf.summary.scalar("a", tf.constant(1.0))
    tf.summary.scalar("b", tf.constant(2.0), collections=["mine"])
    dup = tf.summary.merge([a, a])
    assert dup.op.name == "Merge/MergeSummary" and dup.op.type == "MergeSummary"
    with pytest.raises(tf.errors.InvalidArgumentError, match="Duplicate tag a found in summary inputs"):
        _run(dup)
    merged = tf.summary.merge_all()
    assert merged.op.name == "Merge_1/MergeSummary"
    assert [v.tag for v in _summary(_run(merged)).value] == ["a"]
    assert [v.tag for v in _summary(_run(tf.summary.merge_all("mine", name="m"))).value] == ["b"]
    assert tf.get_default_graph().get_operation_by_name("m/m").type == "MergeSummary"
    assert tf.summary.merge_all("nothing") is None
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [a]


def test_text_requires_string():
    with pytest.raises(ValueError, match="to have dtype string"):
        tf.summary.text("t", tf.constant(1.0))


def test_hand_built_summary_protos():
    s = tf.Summary(value=[tf.Summary.Value(tag="acc", simple_value=0.5)])
    assert tf.summary.Summary is tf.Summary
    assert s.value[0].simple_value == 0.5
    log = tf.SessionLog(status=tf.SessionLog.START)
    assert tf.Event(session_log=log).session_log.status == tf.SessionLog.START


# --- FileWriter ----------------------------------------------------------------------------------
def _events(logdir):
    files = sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*")))
    return [event_pb2.Event.FromString(r) for f in files for r in read_records(f)]


def test_file_writer_events_graph_and_metadata(tmp_path):
    x = tf.placeholder(tf.float32, [None], name="x")
    merged = tf.summary.merge([tf.summary.scalar("loss", tf.reduce_sum(x)), tf.summary.histogram("x", x),
                               tf.summary.text("note", tf.constant("hi"))])
    with tf.Session() as sess:
        writer = tf.summary.FileWriter(str(tmp_path), sess.graph, filename_suffix=".v1")
        assert writer.get_logdir() == str(tmp_path)
        for step in range(3):
            writer.add_summary(sess.run(merged, {x: np.arange(4, dtype=np.float32) + step}), step)
        writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="hand", simple_value=7.0)]), 9)
        writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), 0)
        meta = tf.RunMetadata()
        writer.add_run_metadata(meta, "step0")
        with pytest.raises(ValueError, match="already used"):
            writer.add_run_metadata(meta, "step0")
        writer.close()
    assert glob.glob(str(tmp_path / "events.out.tfevents.*.v1"))
    events = _events(str(tmp_path))
    assert events[0].file_version == "brain.Event:2"
    graph_events = [e for e in events if e.graph_def]
    from tensorboard.compat.proto import graph_pb2
    gd = graph_pb2.GraphDef.FromString(graph_events[0].graph_def)
    nodes = {n.name: n for n in gd.node}
    assert nodes["x"].op == "Placeholder" and "_output_shapes" in nodes["x"].attr
    assert nodes["loss"].op == "ScalarSummary"
    assert any(e.meta_graph_def for e in events)
    summaries = [e for e in events if e.HasField("summary")]
    assert [e.step for e in summaries] == [0, 1, 2, 9]
    # Plugin metadata is kept only the first time a tag is written (as TF's writer does).
    notes = [v for e in summaries for v in e.summary.value if v.tag == "note"]
    assert notes[0].HasField("metadata") and not notes[1].HasField("metadata")
    assert any(e.session_log.status == tf.SessionLog.START for e in events)
    assert any(e.tagged_run_metadata.tag == "step0" for e in events)


def test_event_accumulator_reads_scalars_histograms_images_graph(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator as ea
    x = tf.placeholder(tf.float32, [None, 2, 2, 1], name="images")
    merged = tf.summary.merge(
        [tf.summary.scalar("mean", tf.reduce_sum(x)), tf.summary.histogram("values", x),
         tf.summary.image("pics", x, max_outputs=1)])
    with tf.Session() as sess:
        with tf.summary.FileWriter(str(tmp_path), sess.graph) as writer:
            for step in range(4):
                writer.add_summary(sess.run(merged, {x: np.full((1, 2, 2, 1), step, np.float32)}), step)
    acc = ea.EventAccumulator(str(tmp_path), size_guidance={ea.IMAGES: 0, ea.HISTOGRAMS: 0, ea.SCALARS: 0})
    acc.Reload()
    tags = acc.Tags()
    assert "mean" in tags["scalars"] and "values" in tags["histograms"] and "pics/image" in tags["images"]
    assert tags["graph"] is True and tags["meta_graph"] is True
    assert [s.value for s in acc.Scalars("mean")] == [0.0, 4.0, 8.0, 12.0]
    assert [h.histogram_value.num for h in acc.Histograms("values")] == [4.0] * 4
    assert acc.Images("pics/image")[0].width == 2
    assert {n.name for n in acc.Graph().node} >= {"images", "mean", "values", "pics"}


def test_reopen_flush_and_cache(tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path / "a"))
    writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="t", simple_value=1.0)]), 1)
    writer.flush()
    assert any(e.HasField("summary") for e in _events(str(tmp_path / "a")))
    writer.close()
    writer.reopen()
    writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="t", simple_value=2.0)]), 2)
    writer.close()
    assert len(glob.glob(str(tmp_path / "a" / "events.out.tfevents.*"))) == 2
    with pytest.warns(UserWarning, match="closed FileWriter"):
        writer.flush()
    with pytest.raises(TypeError, match="must be an instance of `Graph`"):
        writer.add_graph(object())
    cached = tf.summary.FileWriterCache.get(str(tmp_path / "b"))
    assert tf.summary.FileWriterCache.get(str(tmp_path / "b")) is cached
    tf.summary.FileWriterCache.clear()
    assert tf.summary.FileWriterCache.get(str(tmp_path / "b")) is not cached
    tf.summary.FileWriterCache.clear()


@pytest.mark.oracle
def test_tensorflow_reads_our_event_file(tmp_path):
    v1 = oracle.tf1()
    import tensorflow as real_tf
    with tf.Session() as sess:
        s = sess.run(tf.summary.scalar("loss", tf.constant(0.25)))
        with tf.summary.FileWriter(str(tmp_path), sess.graph) as writer:
            writer.add_summary(s, 5)
    path = glob.glob(str(tmp_path / "events.out.tfevents.*"))[0]
    events = list(v1.train.summary_iterator(path))
    values = [(e.step, v.tag, v.simple_value) for e in events for v in e.summary.value]
    assert values == [(5, "loss", 0.25)]
    assert real_tf.compat.v1.GraphDef.FromString([e for e in events if e.graph_def][0].graph_def).node


def test_summary_after_device_work_keeps_the_device_part_compiled():
    v = tf.Variable(np.zeros(3, np.float32), name="v")
    x = tf.placeholder(tf.float32, [3])
    update = tf.assign_add(v, x)
    merged = tf.summary.merge([tf.summary.scalar("sum", tf.reduce_sum(x)), tf.summary.histogram("v", v)])
    with tf.Session() as sess:
        sess.run(v.initializer)
        tf.reset_stats()
        for _ in range(4):
            new, blob = sess.run([update, merged], {x: np.ones(3, np.float32)})
        stats = tf.stats()
    np.testing.assert_array_equal(new, [4.0, 4.0, 4.0])
    assert [v.tag for v in _summary(blob).value] == ["sum_1", "v_1"]  # TF: names are case-insensitive
    assert stats["compiled_runs"] >= 2  # the host summaries did not force op-by-op runs


def test_large_histograms_have_tfs_buckets():
    from graphcompat.formats import make_histogram
    from graphcompat.formats.histogram import BUCKET_LIMITS
    from lowering.rules.summary import histogram_proto
    rng = np.random.default_rng(0)
    edges = np.concatenate([BUCKET_LIMITS, np.nextafter(BUCKET_LIMITS[1:-1], np.inf),
                            np.nextafter(BUCKET_LIMITS[1:-1], -np.inf), [0.0, -0.0, 5e-324, -1e-13]])
    for values in (rng.normal(size=50_000) * 10.0 ** rng.integers(-15, 25, size=50_000), edges):
        fast, exact = histogram_proto(values), make_histogram(values)
        assert list(fast.bucket) == list(exact.bucket) and list(fast.bucket_limit) == list(exact.bucket_limit)
        assert (fast.min, fast.max, fast.num) == (exact.min, exact.max, exact.num)
    moderate = rng.normal(size=50_000)  # sums agree to rounding when nothing cancels catastrophically
    fast, exact = histogram_proto(moderate), make_histogram(moderate)
    np.testing.assert_allclose([fast.sum, fast.sum_squares], [exact.sum, exact.sum_squares], rtol=1e-9)


def test_summary_bytes_equal_tf_fixture():
    import struct
    from tests.fixtures.saver.make_fixtures import build_summaries
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "saver", "summaries.pb")
    data, expected = open(path, "rb").read(), []
    while data:
        (n,), data = struct.unpack("<I", data[:4]), data[4:]
        expected.append(data[:n])
        data = data[n:]
    assert _run(build_summaries(tf)) == expected


def test_summary_iterator_reads_our_events(tmp_path):
    with tf.summary.FileWriter(str(tmp_path)) as writer:
        writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="x", simple_value=3.0)]), 4)
    path = glob.glob(str(tmp_path / "events.out.tfevents.*"))[0]
    events = list(tf.train.summary_iterator(path))
    assert events[0].file_version == "brain.Event:2"
    assert [(e.step, e.summary.value[0].simple_value) for e in events[1:]] == [(4, 3.0)]


def _tensorboard_graph(tf_):
    """A small model with summaries and a Saver; returns the GraphDef a FileWriter would write."""
    x = tf_.placeholder(tf_.float32, [None, 2], name="x")
    with tf_.variable_scope("layer"):
        w = tf_.get_variable("w", initializer=tf_.constant(np.ones((2, 3), np.float32)))
    y = tf_.matmul(x, w)
    with tf_.name_scope("summaries"):
        tf_.summary.scalar("mean", tf_.reduce_mean(y))
        tf_.summary.histogram("w", w)
        tf_.summary.image("img", tf_.reshape(y, [-1, 1, 3, 1]))
    tf_.summary.merge_all()
    tf_.train.Saver()
    return tf_.get_default_graph().as_graph_def(add_shapes=True)


@pytest.mark.oracle
def test_graph_tab_nodes_equal_tensorflow():
    v1 = oracle.tf1()
    import tensorflow as real_tf
    ours = _tensorboard_graph(tf)
    with real_tf.Graph().as_default(), v1.variable_scope("", use_resource=False):
        theirs = _tensorboard_graph(v1)
    nodes = lambda gd: {(n.name, n.op, tuple(n.input)) for n in gd.node}  # noqa: E731
    assert nodes(ours) == nodes(theirs)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8])
@pytest.mark.parametrize("size", [1, 3, 64, 65, 5000])
def test_histograms_of_every_dtype_and_size_have_tfs_buckets(dtype, size):
    """The host path counts values in their own precision against the limits: the same as TF's doubles."""
    from graphcompat.formats import make_histogram
    from graphcompat.formats.histogram import BUCKET_LIMITS
    from lowering.rules.summary import histogram_of
    rng = np.random.default_rng(size)
    if np.dtype(dtype).kind == "f":
        info = np.finfo(dtype)
        near_limits = BUCKET_LIMITS[rng.integers(1, BUCKET_LIMITS.size - 1, size)]
        near_limits = near_limits[(np.abs(near_limits) < float(info.max))].astype(dtype)
        values = np.concatenate([near_limits, (rng.normal(size=size) * 10.0 ** rng.integers(-8, 4, size))
                                 .astype(dtype)])[:size]
    else:
        info = np.iinfo(dtype)
        values = rng.integers(max(info.min, -1000), min(info.max, 1000), size).astype(dtype)
    got, want = histogram_of(values), make_histogram(values)
    assert list(got.bucket) == list(want.bucket) and list(got.bucket_limit) == list(want.bucket_limit)
    assert (got.min, got.max, got.num) == (want.min, want.max, want.num)
    np.testing.assert_allclose([got.sum, got.sum_squares], [want.sum, want.sum_squares], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_device_histogram_counts_like_the_host(dtype):
    """The accelerator path (sort and count where the values live), run here on the CPU device."""
    import jax
    from graphcompat.formats import make_histogram
    from lowering.rules.summary import _device_histogram
    rng = np.random.default_rng(1)
    values = (rng.normal(size=20_000) * 10.0 ** rng.integers(-10, 8, 20_000)).astype(dtype)
    with jax.enable_x64(True):
        got = _device_histogram(jax.device_put(values), None)
    want = make_histogram(values)
    assert list(got.bucket) == list(want.bucket) and list(got.bucket_limit) == list(want.bucket_limit)
    assert (got.min, got.max, got.num) == (want.min, want.max, want.num)
    np.testing.assert_allclose([got.sum, got.sum_squares], [want.sum, want.sum_squares], rtol=1e-9)


def test_writer_thread_keeps_order_and_flush_means_on_disk(tmp_path):
    """add_summary returns at once (a thread writes); flush() returns when everything is on disk."""
    writer = tf.summary.FileWriter(str(tmp_path), max_queue=3)
    blobs = [tf.Summary(value=[tf.Summary.Value(tag="t", simple_value=float(i))]).SerializeToString()
             for i in range(200)]
    for step, blob in enumerate(blobs):
        writer.add_summary(blob, step)
    writer.flush()
    events = [e for e in _events(str(tmp_path)) if e.HasField("summary")]
    assert [(e.step, e.summary.value[0].simple_value) for e in events] == [(i, float(i)) for i in range(200)]
    assert all(e.wall_time > 0 for e in events)
    writer.add_summary(blobs[0])  # no step: the field stays unset, as in TF
    writer.close()
    last = _events(str(tmp_path))[-1]
    assert last.summary.value[0].tag == "t" and last.step == 0


def test_writer_close_drains_and_a_dropped_writer_still_writes(tmp_path):
    import gc
    import time
    writer = tf.summary.FileWriter(str(tmp_path / "closed"))
    for step in range(50):
        writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=1.0)]), step)
    writer.close()
    assert len([e for e in _events(str(tmp_path / "closed")) if e.HasField("summary")]) == 50
    dropped = tf.summary.FileWriter(str(tmp_path / "dropped"), max_queue=1)
    for step in range(5):
        dropped.add_summary(tf.Summary(value=[tf.Summary.Value(tag="b", simple_value=2.0)]), step)
    del dropped
    gc.collect()
    for _ in range(100):  # the thread ends after writing what was queued (max_queue=1: no batching)
        if len([e for e in _events(str(tmp_path / "dropped")) if e.HasField("summary")]) == 5:
            break
        time.sleep(0.05)
    assert len([e for e in _events(str(tmp_path / "dropped")) if e.HasField("summary")]) == 5


def test_writer_rejects_bad_bytes_in_the_caller(tmp_path):
    from google.protobuf.message import DecodeError
    with tf.summary.FileWriter(str(tmp_path)) as writer:
        with pytest.raises(DecodeError):
            writer.add_summary(b"\xff\xff\xff")
