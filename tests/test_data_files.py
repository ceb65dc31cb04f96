"""File pipelines: TFRecord (framing, compression, corruption), text lines, fixed-length records,
list_files, tf.train.Example parsing and the host string ops; oracle checks against TensorFlow."""
import numpy as np
import pytest

import graphcompat as tf
from graphcompat.formats import example_proto as ex
from tests import oracle


def run_all(nxt, init=None, feed=None):
    out = []
    with tf.Session() as sess:
        if init is not None:
            sess.run(init, feed)
        while True:
            try:
                out.append(sess.run(nxt))
            except tf.errors.OutOfRangeError:
                return out


def example(i: int) -> bytes:
    return ex.Example(features=ex.Features(feature={
        "x": ex.Feature(float_list=ex.FloatList(value=[i, i + 0.5])),
        "label": ex.Feature(int64_list=ex.Int64List(value=[i])),
        "name": ex.Feature(bytes_list=ex.BytesList(value=[b"n%d" % i])),
        "tags": ex.Feature(int64_list=ex.Int64List(value=list(range(i)))),
    })).SerializeToString()


FEATURES = lambda tf: {"x": tf.FixedLenFeature([2], tf.float32), "label": tf.FixedLenFeature([], tf.int64),  # noqa
                       "name": tf.FixedLenFeature([], tf.string), "tags": tf.VarLenFeature(tf.int64),
                       "missing": tf.FixedLenFeature([], tf.int64, default_value=-1)}


@pytest.mark.parametrize("compression", ["", "GZIP", "ZLIB"])
def test_tfrecord_round_trip(tmp_path, compression):
    path = str(tmp_path / "r.tfrecord")
    records = [b"", b"a", b"hello" * 100]
    with tf.python_io.TFRecordWriter(path, tf.io.TFRecordOptions(compression)) as w:
        for r in records:
            w.write(r)
    assert list(tf.python_io.tf_record_iterator(path, tf.io.TFRecordOptions(compression))) == records
    nxt = tf.data.TFRecordDataset(path, compression_type=compression).make_one_shot_iterator().get_next()
    assert run_all(nxt) == records


def test_tfrecord_corrupt_truncated_missing(tmp_path):
    path = str(tmp_path / "r.tfrecord")
    with tf.io.TFRecordWriter(path) as w:
        w.write(b"payload-1")
        w.write(b"payload-2")
    data = open(path, "rb").read()
    bad = bytearray(data)
    bad[14] ^= 0xFF  # a byte of the first record's data
    (tmp_path / "bad.tfrecord").write_bytes(bytes(bad))
    (tmp_path / "cut.tfrecord").write_bytes(data[:-3])
    for name, cls, match in [("bad.tfrecord", tf.errors.DataLossError, "corrupted record at 0"),
                             ("cut.tfrecord", tf.errors.DataLossError, "truncated record"),
                             ("nope.tfrecord", tf.errors.NotFoundError, "No such file")]:
        tf.reset_default_graph()
        file = str(tmp_path / name)
        nxt = tf.data.TFRecordDataset(file).make_one_shot_iterator().get_next()
        ok = tf.constant(1.0) + 1.0
        with tf.Session() as sess:
            if name == "cut.tfrecord":
                assert sess.run(nxt) == b"payload-1"
            with pytest.raises(cls, match=match) as err:
                sess.run(nxt)
            assert file in str(err.value)
            assert sess.run(ok) == 2.0  # nothing else in the session is affected


def test_text_line_and_fixed_length(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"one\ntwo\r\n\nthree")
    (tmp_path / "b.txt").write_bytes(b"four\n")
    files = [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    nxt = tf.data.TextLineDataset(files).make_one_shot_iterator().get_next()
    assert run_all(nxt) == [b"one", b"two", b"", b"three", b"four"]
    tf.reset_default_graph()
    (tmp_path / "f.bin").write_bytes(b"HH" + b"abcdefgh" + b"F")
    nxt = tf.data.FixedLengthRecordDataset(str(tmp_path / "f.bin"), 4, header_bytes=2,
                                           footer_bytes=1).make_one_shot_iterator().get_next()
    assert run_all(nxt) == [b"abcd", b"efgh"]


def test_list_files_and_interleave(tmp_path):
    for k in range(3):
        (tmp_path / f"part{k}.txt").write_text(f"{k}a\n{k}b\n")
    files = tf.data.Dataset.list_files(str(tmp_path / "part*.txt"), shuffle=False)
    ds = files.interleave(tf.data.TextLineDataset, cycle_length=3)
    got = run_all(ds.make_one_shot_iterator().get_next())
    assert got == [b"0a", b"1a", b"2a", b"0b", b"1b", b"2b"]
    tf.reset_default_graph()
    shuffled = run_all(tf.data.Dataset.list_files(str(tmp_path / "*.txt"), seed=1).make_one_shot_iterator().get_next())
    assert sorted(shuffled) == sorted(f.encode() for f in map(str, tmp_path.glob("*.txt")))
    tf.reset_default_graph()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="No files matched pattern"):
            sess.run(tf.data.Dataset.list_files(str(tmp_path / "*.nothing")).make_one_shot_iterator().get_next())


def test_parse_single_example_pipeline(tmp_path):
    path = str(tmp_path / "e.tfrecord")
    with tf.io.TFRecordWriter(path) as w:
        for i in range(3):
            w.write(example(i))
    ds = tf.data.TFRecordDataset(path).map(lambda s: tf.parse_single_example(s, FEATURES(tf)))
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    assert nxt["x"].shape.as_list() == [2] and nxt["label"].dtype == tf.int64
    got = run_all(nxt, it.initializer)
    assert [int(g["label"]) for g in got] == [0, 1, 2]
    np.testing.assert_allclose(got[2]["x"], [2, 2.5])
    assert got[1]["name"] == b"n1" and got[1]["missing"] == -1
    assert got[2]["tags"].values.tolist() == [0, 1] and got[2]["tags"].dense_shape.tolist() == [2]


def test_sparse_components_batch(tmp_path):
    path = str(tmp_path / "e.tfrecord")
    with tf.io.TFRecordWriter(path) as w:
        for i in range(3):
            w.write(example(i))
    ds = tf.data.TFRecordDataset(path).map(lambda s: tf.parse_single_example(s, FEATURES(tf))).batch(2)
    assert ds.output_classes["tags"] is tf.SparseTensor and ds.output_types["tags"] == tf.int64
    assert ds.output_shapes["tags"].as_list() == [None, None]
    it = tf.data.Iterator.from_structure(ds.output_types, ds.output_shapes, output_classes=ds.output_classes)
    nxt = it.get_next()
    assert isinstance(nxt["tags"], tf.SparseTensor)
    got = run_all(nxt, it.make_initializer(ds))
    assert got[0]["tags"].indices.tolist() == [[1, 0]] and got[0]["tags"].dense_shape.tolist() == [2, 1]
    assert got[1]["tags"].values.tolist() == [0, 1] and got[1]["tags"].dense_shape.tolist() == [1, 2]


def test_parse_example_batched_sparse():
    serialized = tf.constant([example(1), example(3)])
    parsed = tf.parse_example(serialized, FEATURES(tf))
    with tf.Session() as sess:
        out = sess.run(parsed)
    np.testing.assert_allclose(out["x"], [[1, 1.5], [3, 3.5]])
    tags = out["tags"]
    assert tags.indices.tolist() == [[0, 0], [1, 0], [1, 1], [1, 2]]
    assert tags.values.tolist() == [0, 0, 1, 2] and tags.dense_shape.tolist() == [2, 3]


def test_parse_errors():
    required = tf.parse_single_example(tf.constant(example(1)), {"nope": tf.FixedLenFeature([], tf.float32)})
    wrong_type = tf.parse_single_example(tf.constant(example(1)), {"x": tf.FixedLenFeature([2], tf.int64)})
    wrong_size = tf.parse_single_example(tf.constant(example(1)), {"x": tf.FixedLenFeature([3], tf.float32)})
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="nope .* is required"):
            sess.run(required)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Data types don't match"):
            sess.run(wrong_type)
        # a single Example's kernel (FastParseSingleExample) words it so in TF 2.x
        with pytest.raises(tf.errors.InvalidArgumentError, match="Key: x.  Can't parse serialized Example: Some "
                                                                 "float_list slice was not parsed."):
            sess.run(wrong_size)


def test_string_ops(tmp_path):
    (tmp_path / "f.bin").write_bytes(b"\x01\x00\x02\x00")
    raw = tf.decode_raw(tf.read_file(str(tmp_path / "f.bin")), tf.int16)
    cols = tf.decode_csv(tf.constant(["1,2.5,a", '3,,"b,c"']), [[0], [9.0], tf.constant([], tf.string)])
    split = tf.string_split(tf.constant(["a b  c", "d"]))
    missing = tf.read_file(str(tmp_path / "nope"))
    with tf.Session() as sess:
        assert sess.run(raw).tolist() == [1, 2]
        a, b, c = sess.run(cols)
        assert a.tolist() == [1, 3] and b.tolist() == [2.5, 9.0] and c.tolist() == [b"a", b"b,c"]
        assert a.dtype == np.int32 and b.dtype == np.float32
        sp = sess.run(split)
        assert sp.indices.tolist() == [[0, 0], [0, 1], [0, 2], [1, 0]]
        assert sp.values.tolist() == [b"a", b"b", b"c", b"d"] and sp.dense_shape.tolist() == [2, 3]
        with pytest.raises(tf.errors.NotFoundError, match="nope"):
            sess.run(missing)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expect 3 fields but have 2"):
            sess.run(tf.decode_csv(tf.constant(["1,2"]), [[0], [0], [0]]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="same size"):
            sess.run(tf.decode_raw(tf.constant([b"ab", b"abcd"]), tf.uint8))


# --- oracle -------------------------------------------------------------------------------------
@pytest.mark.oracle
def test_tfrecords_interoperate_with_tf(tmp_path):
    v1 = oracle.tf1()
    theirs, ours = str(tmp_path / "theirs.tfr"), str(tmp_path / "ours.tfr")
    for path, module, comp in [(theirs, v1, "GZIP"), (ours, tf, "GZIP")]:
        with module.python_io.TFRecordWriter(path, module.python_io.TFRecordOptions(
                module.python_io.TFRecordCompressionType.GZIP)) as w:
            for i in range(4):
                w.write(example(i))
    for path in (theirs, ours):
        results = []
        for module in (v1, tf):
            with module.Graph().as_default():
                ds = module.data.TFRecordDataset(path, "GZIP").map(
                    lambda s, m=module: m.parse_single_example(s, FEATURES(m))).batch(2)
                nxt = module.data.make_one_shot_iterator(ds).get_next()
                with module.Session() as sess:
                    results.append([sess.run(nxt) for _ in range(2)])
        for g, w in zip(results[1], results[0]):
            for key in w:
                if key == "tags":
                    for part in ("indices", "values", "dense_shape"):
                        np.testing.assert_array_equal(getattr(g[key], part), getattr(w[key], part))
                    continue
                np.testing.assert_array_equal(g[key], w[key])
                assert np.asarray(g[key]).dtype == np.asarray(w[key]).dtype


@pytest.mark.oracle
def test_example_proto_bytes_match_tf():
    v1 = oracle.tf1()
    ours = example(2)
    theirs = v1.train.Example.FromString(ours)
    assert theirs.features.feature["x"].float_list.value == [2.0, 2.5]
    assert ex.Example.FromString(theirs.SerializeToString()) == ex.Example.FromString(ours)


@pytest.mark.oracle
def test_string_ops_match_tf(tmp_path):
    v1 = oracle.tf1()
    build = lambda m: (m.decode_csv(m.constant(["1,2.5,x", "4,,y"]), [[0], [1.0], [""]]),  # noqa: E731
                       m.string_split(m.constant(["a,b", "c"]), delimiter=","),
                       m.decode_raw(m.constant([b"\x01\x02\x03\x04"]), m.int32))
    got, want = oracle.run(tf, build), oracle.run(v1, build)
    for g, w in zip(got[0], want[0]):
        np.testing.assert_array_equal(g, w)
    assert got[1].indices.tolist() == want[1].indices.tolist()
    assert got[1].values.tolist() == want[1].values.tolist()
    np.testing.assert_array_equal(got[2], want[2])


@pytest.mark.oracle
@pytest.mark.parametrize("parallel", [None, 2, 3])
def test_parallel_reads_order_matches_tf(tmp_path, parallel):
    v1 = oracle.tf1()
    files = []
    for k, n in enumerate([3, 1, 4, 2]):
        path = tmp_path / f"f{k}.txt"
        path.write_text("".join(f"{k}-{i}\n" for i in range(n)))
        files.append(str(path))
    build = lambda m: m.data.TextLineDataset(files, num_parallel_reads=parallel)  # noqa: E731
    got = []
    for module in (v1, tf):
        with module.Graph().as_default():
            nxt = module.data.make_one_shot_iterator(build(module)).get_next()
            out = []
            with module.Session() as sess:
                while True:
                    try:
                        out.append(sess.run(nxt))
                    except module.errors.OutOfRangeError:
                        break
            got.append(out)
    assert got[1] == got[0]
