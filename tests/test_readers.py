"""TF1 readers against real TensorFlow: keys, values, counters, end of input, errors, serialized state."""
import gzip
import os
import re

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("readers")
    for i in range(2):
        (d / f"lines{i}.txt").write_bytes(b"header\r\nfirst %d\n\nthird %d\r\nno newline" % (i, i))
    (d / "short.txt").write_bytes(b"only header\n")
    for name, options in (("plain.tfr", None), ("packed.tfr", tf.python_io.TFRecordOptions("GZIP"))):
        with tf.python_io.TFRecordWriter(str(d / name), options) as w:
            for payload in (b"abc", b"", b"defgh"):
                w.write(payload)
    (d / "fixed.bin").write_bytes(bytes(range(30)))
    (d / "fixed.gz").write_bytes(gzip.compress(bytes(range(30))))
    return d


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _compare(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if isinstance(w, tuple):
            assert isinstance(g, tuple) and g[0] == w[0] and g[1] in w[1], (g, w)
        else:
            assert g == w


def run_reader(tf_module, make_reader, names, runs, up_to=None):
    graph = tf_module.Graph()
    out = []
    with graph.as_default():
        q = tf_module.FIFOQueue(10, tf_module.string)
        reader = make_reader(tf_module)
        read = reader.read(q) if up_to is None else reader.read_up_to(q, up_to)
        # the counters run separately: in one run with the read, TF's executor may run either first
        counters = [reader.num_records_produced(), reader.num_work_units_completed()]
        with tf_module.Session(graph=graph) as sess:
            sess.run(q.enqueue_many([names]))
            sess.run(q.close())
            for _ in range(runs):
                try:
                    out.append(_plain(sess.run(list(read))))
                except tf_module.errors.OpError as e:
                    out.append((type(e).__name__, re.sub(r"'_\d+_", "'_N_", e.message)))
                out.append(_plain(sess.run(counters)))
    return out


CASES = {
    "text": (lambda tf: tf.TextLineReader(), ["lines0.txt", "lines1.txt"], 10, None),
    "text header": (lambda tf: tf.TextLineReader(skip_header_lines=1), ["lines0.txt", "short.txt", "lines1.txt"],
                    9, None),
    "text up_to": (lambda tf: tf.TextLineReader(skip_header_lines=1), ["lines0.txt", "lines1.txt"], 5, 3),
    "tfrecord": (lambda tf: tf.TFRecordReader(), ["plain.tfr", "plain.tfr"], 7, None),
    "tfrecord gzip up_to": (lambda tf: tf.TFRecordReader(options=tf.python_io.TFRecordOptions("GZIP")),
                            ["packed.tfr"], 3, 2),
    "whole file": (lambda tf: tf.WholeFileReader(), ["lines0.txt", "fixed.bin"], 3, None),
    "identity up_to": (lambda tf: tf.IdentityReader(), ["a", "b", "c"], 4, 5),
    "fixed": (lambda tf: tf.FixedLengthRecordReader(4, header_bytes=3, footer_bytes=5), ["fixed.bin"], 7, None),
    "fixed hop up_to": (lambda tf: tf.FixedLengthRecordReader(6, header_bytes=1, hop_bytes=4), ["fixed.bin"],
                        3, 4),
    "fixed gzip": (lambda tf: tf.FixedLengthRecordReader(8, encoding="GZIP"), ["fixed.gz"], 5, None),
    "missing file": (lambda tf: tf.TextLineReader(), ["nothere.txt", "lines0.txt"], 3, None),
    "whole file missing": (lambda tf: tf.WholeFileReader(), ["nothere.txt", "lines0.txt"], 3, None),
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(CASES))
def test_reader_matches_tf(name, files):
    v1 = oracle.tf1()
    make, names, runs, up_to = CASES[name]
    paths = [str(files / n) if "." in n else n for n in names]
    got = run_reader(tf, make, paths, runs, up_to)
    want = run_reader(v1, make, paths, runs, up_to)
    _compare(got, want)


@pytest.mark.oracle
def test_reader_graph_matches_tf():
    v1 = oracle.tf1()

    def graph_of(tf_module):
        graph = tf_module.Graph()
        with graph.as_default():
            q = tf_module.FIFOQueue(3, tf_module.string)
            r = tf_module.FixedLengthRecordReader(4, header_bytes=2)
            r.read(q)
            r.read_up_to(q, 5)
            r.reset()
            r.num_records_produced()
            tf_module.TextLineReader(skip_header_lines=2, name="lines").read(q)
            tf_module.TFRecordReader(options=tf_module.python_io.TFRecordOptions("ZLIB"))
            tf_module.io.matching_files("/tmp/*.nothing")
        return [(n.name, n.op, list(n.input), {k: n.attr[k].SerializeToString(deterministic=True) for k in n.attr
                                                if not k.startswith("_")})
                for n in graph.as_graph_def().node]
    assert graph_of(tf) == graph_of(v1)


@pytest.mark.oracle
def test_serialize_and_restore_state_match_tf(files):
    v1 = oracle.tf1()

    def states(tf_module):
        with tf_module.Graph().as_default():
            q = tf_module.FIFOQueue(10, tf_module.string)
            r = tf_module.WholeFileReader()
            key, _ = r.read(q)
            state = r.serialize_state()
            restore = r.restore_state(state)
            unsupported = tf_module.TFRecordReader().serialize_state()
            with tf_module.Session() as sess:
                sess.run(q.enqueue_many([[str(files / "lines0.txt"), str(files / "lines1.txt")]]))
                first = sess.run(state)
                sess.run(key)
                second = sess.run(state)
                sess.run(restore, {state: first})
                after = sess.run([r.num_records_produced(), r.num_work_units_completed()])
                try:
                    sess.run(unsupported)
                    error = None
                except tf_module.errors.UnimplementedError as e:
                    error = e.message
        return first, second, after, error
    got, want = states(tf), states(v1)
    assert got[:3] == want[:3]
    assert got[3] in want[3]


def test_reset_and_counters(files):
    q = tf.FIFOQueue(10, tf.string)
    r = tf.IdentityReader()
    key, value = r.read(q)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([["x", "y", "z"]]))
        assert [sess.run(key) for _ in range(2)] == [b"x", b"y"]
        assert sess.run([r.num_records_produced(), r.num_work_units_completed()]) == [2, 2]
        sess.run(r.reset())
        assert sess.run([r.num_records_produced(), r.num_work_units_completed()]) == [0, 0]
        assert sess.run(value) == b"z"


def test_reader_blocks_until_a_file_name_arrives(files):
    from tests.threads import Background
    q = tf.FIFOQueue(10, tf.string)
    name = tf.placeholder(tf.string, [])
    key, value = tf.WholeFileReader().read(q)
    with tf.Session() as sess:
        reader = Background(lambda: sess.run(key))
        assert reader.is_blocked()
        sess.run(q.enqueue(name), {name: str(files / "fixed.bin")})
        assert reader.join() == str(files / "fixed.bin").encode()


def test_match_filenames_once_and_matching_files(files):
    pattern = str(files / "lines*.txt")
    matched = tf.train.match_filenames_once(pattern)
    assert matched.name == "matching_filenames:0" and matched in tf.local_variables()
    direct = tf.matching_files([pattern, str(files / "*.gz")])
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert [os.path.basename(p) for p in sess.run(matched)] == [b"lines0.txt", b"lines1.txt"]
        assert [os.path.basename(p) for p in sess.run(direct)] == [b"lines0.txt", b"lines1.txt", b"fixed.gz"]
