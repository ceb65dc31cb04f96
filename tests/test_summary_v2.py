"""tf.contrib.summary (TF's resource summary writers) against TF's summary_ops_v2 in graph mode: the same
program writes equal events (tags, steps, values, tensors, metadata), records the same GraphDef, and fails with
TF's errors."""
import glob
import os
import re

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2

import graphcompat as tf
from graphcompat.formats import decode_png, read_records
from tests import oracle

s2 = tf.contrib.summary


def _tf_s2():
    oracle.tf1()
    from tensorflow.python.ops import summary_ops_v2
    return summary_ops_v2


def _events(logdir) -> list:
    """Every event of every file in logdir, file by file (files in name order)."""
    out = []
    for path in sorted(glob.glob(os.path.join(str(logdir), "events.out.tfevents.*"))):
        out += [event_pb2.Event.FromString(r) for r in read_records(path)]
    return out


def _normalized(events) -> list:
    """Events without wall times, PNG images as their pixels (zlib settings differ), sorted by step and tag
    (TF's executor runs independent writes in any order)."""
    rows = []
    for e in events:
        e = event_pb2.Event.FromString(e.SerializeToString())
        e.wall_time = 0
        if e.HasField("summary"):
            for v in e.summary.value:
                if v.HasField("image"):
                    pixels = decode_png(v.image.encoded_image_string)
                    v.image.encoded_image_string = np.asarray(pixels).tobytes()
        key = (e.step, e.WhichOneof("what") or "", e.summary.value[0].tag if e.summary.value else "")
        rows.append((key, e.SerializeToString(deterministic=True)))
    return [r for _, r in sorted(rows)]


def _run_program(lib, s2_, build, logdir, runs=1, feed=None, init_vars=False):
    """Builds `build(lib, s2_)` in a fresh graph with a file writer of logdir, initializes it, runs the fetches
    `runs` times and closes the session. Returns (GraphDef node (name, op) pairs, the last run's values)."""
    graph = lib.Graph()
    with graph.as_default():
        writer = s2_.create_file_writer(str(logdir), max_queue=100)
        with writer.as_default():
            fetches, after = build(lib, s2_)
        with lib.Session() as sess:
            if init_vars:
                sess.run(lib.global_variables_initializer())
            sess.run(s2_.summary_writer_initializer_op())
            for _ in range(runs):
                values = sess.run(fetches, feed(graph) if feed else None)
                if after is not None:
                    sess.run(after)
            sess.run(writer.flush())
        nodes = [(n.name, n.op) for n in graph.as_graph_def().node]
    return nodes, values


# --- one line per summary kind × dtype --------------------------------------------------------------------
_X = (np.arange(12, dtype=np.float64) - 3.5) / 2
CASES = {
    "scalar_f32": lambda tf_, s: s.scalar("loss", tf_.constant(1.25, tf_.float32), step=3),
    "scalar_f64": lambda tf_, s: s.scalar("loss64", tf_.constant(2.5, tf_.float64), step=3),
    "scalar_f16": lambda tf_, s: s.scalar("loss16", tf_.constant(0.1, tf_.float16), step=3),
    "scalar_i32": lambda tf_, s: s.scalar("count", tf_.constant(7, tf_.int32), step=4),
    "scalar_i64": lambda tf_, s: s.scalar("count64", tf_.constant(-9, tf_.int64), step=4),
    "scalar_u8": lambda tf_, s: s.scalar("byte", tf_.constant(200, tf_.uint8), step=4),
    "scalar_u64": lambda tf_, s: s.scalar("u64", tf_.constant(2 ** 40 + 1, tf_.uint64), step=4),
    "scalar_vector_first": lambda tf_, s: s.scalar("vec", tf_.constant([3.0, 4.0]), step=5),
    "scalar_family": lambda tf_, s: s.scalar("loss", tf_.constant(1.0), family="fam", step=5),
    "histogram_f32": lambda tf_, s: s.histogram("h32", tf_.constant(_X, tf_.float32), step=6),
    "histogram_f64": lambda tf_, s: s.histogram("h64", tf_.constant(_X * 1e3), step=6),
    "histogram_i32": lambda tf_, s: s.histogram("hint", tf_.constant([1, 5, 5, 100], tf_.int32), step=6),
    "histogram_empty": lambda tf_, s: s.histogram("hempty", tf_.zeros([0]), step=6),
    "histogram_bool": lambda tf_, s: s.histogram("hbool", tf_.constant([True, False, True]), step=6),
    "histogram_f16": lambda tf_, s: s.histogram("h16", tf_.constant(_X, tf_.float16), step=6),
    "histogram_u16": lambda tf_, s: s.histogram("hu16", tf_.constant([0, 7, 65535], tf_.uint16), step=6),
    "image_f32": lambda tf_, s: s.image("img", tf_.constant(_X.reshape(1, 2, 2, 3), tf_.float32), step=7),
    "image_u8_many": lambda tf_, s: s.image(
        "imgs", tf_.constant(np.arange(24, dtype=np.uint8).reshape(2, 2, 2, 3) * 10), max_images=4, step=7),
    "image_one": lambda tf_, s: s.image("img1", tf_.constant(_X.reshape(3, 2, 2, 1), tf_.float32),
                                        max_images=1, step=7),
    "image_bad_pixels": lambda tf_, s: s.image(
        "nan", tf_.constant([[[[np.nan], [1.0]], [[0.5], [np.inf]]]], tf_.float32), step=7),
    "image_f16": lambda tf_, s: s.image("img16", tf_.constant(_X.reshape(1, 2, 2, 3), tf_.float16), step=7),
    "audio_mono": lambda tf_, s: s.audio("aud", tf_.constant(_X.reshape(2, 6) / 8, tf_.float32), 8000, 2, step=8),
    "audio_stereo": lambda tf_, s: s.audio("aud2", tf_.constant(_X.reshape(1, 3, 4) / 8, tf_.float32), 16000.4,
                                           1, step=8),
    "generic_int": lambda tf_, s: s.generic("gen", tf_.constant([[1, 2], [3, 4]]), step=9),
    "generic_string": lambda tf_, s: s.generic("txt", tf_.constant(["a", "bc"]), step=9),
    "generic_metadata": lambda tf_, s: s.generic(
        "meta", tf_.constant(1.5), step=9, metadata=summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))),
}


@pytest.mark.oracle
def test_events_and_graph_equal_tfs(tmp_path):
    """Every kind and dtype in one program, under always_record_summaries: TF's events, TF's nodes."""
    tf_s2 = _tf_s2()

    def build(lib, s):
        with s.always_record_summaries():
            out = []
            for case in CASES.values():
                with lib.name_scope("outer"):
                    out.append(case(lib, s))
            return out, None
    got_nodes, got = _run_program(tf, s2, build, tmp_path / "gc")
    want_nodes, want = _run_program(oracle.tf1(), tf_s2, build, tmp_path / "tf")
    assert got_nodes == want_nodes
    assert list(map(bool, got)) == list(map(bool, want)) == [True] * len(CASES)
    got_events, want_events = _events(tmp_path / "gc"), _events(tmp_path / "tf")
    assert len(got_events) == len(want_events) == len(CASES) + 1
    assert _normalized(got_events) == _normalized(want_events)


@pytest.mark.oracle
def test_every_n_global_steps_is_a_cond(tmp_path):
    """record_summaries_every_n_global_steps: an `If` on global_step % n == 0; the steps TF writes."""
    tf_s2 = _tf_s2()

    def build(lib, s):
        with lib.variable_scope("", use_resource=False):
            step = lib.train.get_or_create_global_step()
        with s.record_summaries_every_n_global_steps(3):
            with lib.name_scope("train"):
                a = s.scalar("loss", lib.cast(step, lib.float32) * 2.0)
            b = s.histogram("w", lib.constant([1.0, 2.0]))
        with s.never_record_summaries():
            c = s.scalar("never", 1.0)
        d = s.scalar("default_off", 1.0)
        return [a, b, c, d], lib.assign_add(step, 1)
    got_nodes, got = _run_program(tf, s2, build, tmp_path / "gc", runs=7, init_vars=True)
    want_nodes, want = _run_program(oracle.tf1(), tf_s2, build, tmp_path / "tf", runs=7, init_vars=True)
    assert got_nodes == want_nodes
    assert ("train/cond", "If") in got_nodes
    assert [bool(v) for v in got] == [bool(v) for v in want]
    got_events = _normalized(_events(tmp_path / "gc"))
    assert got_events == _normalized(_events(tmp_path / "tf"))
    steps = sorted({e.step for e in _events(tmp_path / "gc")[1:]})
    assert steps == [0, 3, 6]


@pytest.mark.oracle
def test_feeds_step_and_values(tmp_path):
    """A fed step and value: one event per run, with the run's step."""
    tf_s2 = _tf_s2()

    def build(lib, s):
        x = lib.placeholder(lib.float32, [], name="x")
        k = lib.placeholder(lib.int64, [], name="k")
        with s.always_record_summaries():
            return [s.scalar("x", x, step=k), s.histogram("xs", lib.stack([x, x * 2]), step=k)], None
    runs = iter(range(1, 100))

    def feed(graph):
        i = next(runs)
        return {graph.get_tensor_by_name("x:0"): i / 3.0, graph.get_tensor_by_name("k:0"): 10 * i}
    _run_program(tf, s2, build, tmp_path / "gc", runs=3, feed=feed)
    runs = iter(range(1, 100))
    _run_program(oracle.tf1(), tf_s2, build, tmp_path / "tf", runs=3, feed=feed)
    assert _normalized(_events(tmp_path / "gc")) == _normalized(_events(tmp_path / "tf"))
    assert [e.step for e in _events(tmp_path / "gc")[1:]] == [10, 10, 20, 20, 30, 30]


@pytest.mark.oracle
def test_graph_import_event_raw_proto_and_initialize(tmp_path):
    """summary.initialize(graph=...) writes the graph at step 0; import_event and WriteRawProtoSummary."""
    tf_s2 = _tf_s2()

    def program(lib, s, gen, logdir):
        graph = lib.Graph()
        with graph.as_default():
            lib.constant(1.0, name="c")
            writer = s.create_file_writer(str(logdir))
            event = event_pb2.Event(step=42, file_version="x")
            raw = [summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=t, simple_value=1.0)]).SerializeToString()
                   for t in ("r1", "r2")]
            with writer.as_default():
                imported = s.import_event(lib.constant(event.SerializeToString()))
                rawop = gen.write_raw_proto_summary(writer._resource, lib.constant(5, lib.int64),
                                                    lib.constant(raw))
                with lib.Session() as sess:
                    s.initialize(graph=graph, session=sess)
                    sess.run(imported)
                    sess.run(rawop)
                    sess.run(writer.close())
        return graph
    from tensorflow.python.ops import gen_summary_ops
    from graphcompat.ops import summary_writer_ops
    program(tf, s2, summary_writer_ops, tmp_path / "gc")
    program(oracle.tf1(), tf_s2, gen_summary_ops, tmp_path / "tf")
    got, want = _events(tmp_path / "gc"), _events(tmp_path / "tf")
    assert [e.WhichOneof("what") for e in got] == [e.WhichOneof("what") for e in want] == \
        ["file_version", "graph_def", "file_version", "summary"]
    graph_event = got[1]
    from tensorboard.compat.proto import graph_pb2
    assert graph_event.step == 0 and "c" in [n.name for n in graph_pb2.GraphDef.FromString(graph_event.graph_def).node]
    assert got[2].step == 42 and got[3].step == 5
    assert [v.tag for v in got[3].summary.value] == [v.tag for v in want[3].summary.value] == ["r1", "r2"]


def test_file_name_and_version_event(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        writer = s2.create_file_writer(str(tmp_path / "a" / "b"), filename_suffix="suf")
        with tf.Session() as sess:
            sess.run(writer.init())
            sess.run(writer.init())  # the resource exists: no second file
    names = os.listdir(tmp_path / "a" / "b")
    assert len(names) == 1
    assert re.fullmatch(rf"events\.out\.tfevents\.\d{{10}}\.[^.]+.*\.{os.getpid()}\.\d+\.suf", names[0]), names
    (first,) = _events(tmp_path / "a" / "b")
    assert first.file_version == "brain.Event:2" and first.wall_time == int(first.wall_time)
    assert first.source_metadata.writer == "tensorflow.core.util.events_writer"


def test_queue_flushes_past_max_queue_and_at_session_close(tmp_path):
    """TF's SummaryFileWriter: events wait until more than max_queue are queued (no timer), a flush op, or the
    session's end."""
    graph = tf.Graph()
    with graph.as_default():
        writer = s2.create_file_writer(str(tmp_path), max_queue=2, flush_millis=10 ** 9)
        x = tf.placeholder(tf.float32, [])
        with writer.as_default(), s2.always_record_summaries():
            op = s2.scalar("x", x, step=1)
        sess = tf.Session()
        sess.run(writer.init())
        sess.run(op, {x: 1.0})
        sess.run(op, {x: 2.0})
        assert len(_events(tmp_path)) == 1  # the version event only
        sess.run(op, {x: 3.0})
        assert [e.summary.value[0].simple_value for e in _events(tmp_path)[1:]] == [1.0, 2.0, 3.0]
        sess.run(op, {x: 4.0})
        assert len(_events(tmp_path)) == 4
        sess.close()
        assert len(_events(tmp_path)) == 5


def test_no_writer_records_no_op():
    with tf.Graph().as_default() as graph:
        with s2.always_record_summaries():
            op = s2.scalar("x", 1.0, step=1)
        assert op.type == "NoOp" and s2.all_summary_ops() == []
        assert s2.flush().type == "NoOp"
        with pytest.raises(RuntimeError, match="No default tf.contrib.summary.SummaryWriter found"):
            tf.summary.initialize()
        assert tf.summary.all_v2_summary_ops is s2.all_summary_ops
        assert [o.type for o in graph.get_operations()] == ["Const", "NoOp", "NoOp"]  # the step, as TF


# --- bad input: TF's errors, nothing written --------------------------------------------------------------
def _writer_program(logdir):
    graph = tf.Graph()
    with graph.as_default():
        writer = s2.create_file_writer(str(logdir))
    return graph, writer


def test_uninitialized_writer_is_tfs_not_found(tmp_path):
    graph, writer = _writer_program(tmp_path)
    with graph.as_default():
        with writer.as_default(), s2.always_record_summaries():
            op = s2.scalar("x", 1.0, step=1)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.NotFoundError, match=re.escape(
                    f"Container localhost does not exist. (Could not find resource: localhost/logdir:{tmp_path})")):
                sess.run(op)
            assert not os.path.exists(os.path.join(tmp_path, "x")) and os.listdir(tmp_path) == []
            sess.run(writer.init())
            sess.run(writer.close())
            with pytest.raises(tf.errors.NotFoundError, match=re.escape(
                    f"Resource localhost/logdir:{tmp_path}/N10tensorflow22SummaryWriterInterfaceE does not exist.")):
                sess.run(op)
    assert len(_events(tmp_path)) == 1


def test_build_time_errors_change_nothing(tmp_path):
    from graphcompat.ops import summary_writer_ops as gen
    graph, writer = _writer_program(tmp_path)
    with graph.as_default(), writer.as_default(), s2.always_record_summaries():
        before = len(graph.get_operations())
        with pytest.raises(TypeError, match="Expected string passed to parameter 'tag' of op 'WriteScalarSummary', "
                                            "got 1 of type 'int' instead"):
            gen.write_scalar_summary(writer._resource, tf.constant(1, tf.int64), 1, tf.constant(2.0))
        with pytest.raises(TypeError, match="Value passed to parameter 'value' has DataType bool not in list of "
                                            "allowed values"):
            gen.write_scalar_summary(writer._resource, tf.constant(1, tf.int64), "t", tf.constant(True))
        # only the constants made before the op failed (as TF's op_def_library leaves them), no Write op
        assert {o.type for o in graph.get_operations()[before:]} == {"Const"}
        with pytest.raises(ValueError, match=re.escape("Argument `step` must be a scalar. Received step with "
                                                       "shape (2,).")):
            s2.scalar("x", 1.0, step=[1, 2])
        with pytest.raises(ValueError, match="Tensor conversion requested dtype int64 for Tensor with dtype int32"):
            s2.scalar("x", 1.0, step=tf.constant(1))
        with pytest.raises(TypeError, match="graph\\(\\) needs a argument `param` to be tf.Tensor"):
            s2.graph(tf.Graph())
        with pytest.raises(NotImplementedError, match="create_db_writer"):
            s2.create_db_writer("sqlite:/tmp/x.db")


@pytest.mark.parametrize("build, error, text", [
    (lambda: s2.histogram("hn", [1.0, np.nan, np.inf], step=1), tf.errors.InvalidArgumentError,
     "Nan in summary histogram for: hn"),
    (lambda: s2.histogram("hi", [1.0, -np.inf], step=1), tf.errors.InvalidArgumentError,
     "Infinity in summary histogram for: hi"),
    (lambda: s2.image("im", tf.zeros([2, 2, 1]), step=1), tf.errors.InvalidArgumentError,
     "Tensor must be 4-D with last dim 1, 3, or 4, not [2,2,1]"),
    (lambda: s2.audio("au", tf.zeros([1, 4]), 0.0, 1, step=1), tf.errors.InvalidArgumentError,
     "sample_rate must be > 0"),
    (lambda: s2.scalar("bf", tf.constant(1.0, tf.bfloat16), step=1), tf.errors.UnimplementedError,
     "SummaryFileWriter bfloat16 not supported."),
    (lambda: s2.histogram("bf", tf.constant([1.0], tf.bfloat16), step=1), tf.errors.UnimplementedError,
     "SummaryFileWriter bfloat16 not supported."),
    (lambda: s2.import_event(tf.constant(b"\xff\xff")), tf.errors.DataLossError,
     "Bad tf.Event binary proto tensor string"),
    (lambda: s2.graph(tf.constant(b"\xff\xff"), step=1), tf.errors.DataLossError,
     "Bad tf.GraphDef binary proto tensor string"),
])
def test_run_time_errors_write_nothing(tmp_path, build, error, text):
    graph, writer = _writer_program(tmp_path)
    with graph.as_default():
        with writer.as_default(), s2.always_record_summaries():
            op = build()
            ok = s2.scalar("ok", 1.0, step=0)
        with tf.Session() as sess:
            sess.run(writer.init())
            with pytest.raises(error, match=re.escape(text)):
                sess.run(op)
            sess.run(ok)
    tags = [e.summary.value[0].tag for e in _events(tmp_path)[1:]]
    assert tags == ["ok"]


def test_db_writer_op_is_not_implemented():
    from graphcompat.ops import summary_writer_ops as gen
    with tf.Graph().as_default():
        handle = gen.summary_writer(shared_name="db")
        op = gen.create_summary_db_writer(handle, "sqlite:x", "e", "r", "u")
        with tf.Session() as sess:
            with pytest.raises(NotImplementedError, match="CreateSummaryDbWriter"):
                sess.run(op)


# --- GraphDefs across: TF's run in graphcompat, graphcompat's run in TF -------------------------------------
def _cross_program(lib, s):
    with lib.variable_scope("", use_resource=False):
        step = lib.train.get_or_create_global_step()
    with s.record_summaries_every_n_global_steps(2):
        a = s.scalar("loss", lib.cast(step, lib.float32) / 4.0)
    with s.always_record_summaries():
        b = s.histogram("h", lib.constant([1.0, 2.0, 2.5]), step=step)
        c = s.image("im", lib.reshape(lib.cast(step, lib.float32) * lib.ones([2, 2, 2, 1]), [2, 2, 2, 1]),
                    max_images=1, step=step)
    return [a.name, b.name, c.name], lib.assign_add(step, 1).name


def _run_graph_def(lib, graph_def, fetches, inc, runs=4):
    with lib.Graph().as_default():
        lib.import_graph_def(graph_def, name="")
        with lib.Session() as sess:
            sess.run("global_step/Assign")
            sess.run("CreateSummaryFileWriter")
            for _ in range(runs):
                sess.run(fetches)
                sess.run(inc)
            sess.run("FlushSummaryWriter")


@pytest.mark.oracle
@pytest.mark.parametrize("writer_lib", ["tf", "graphcompat"])
def test_graph_defs_run_in_the_other(tmp_path, writer_lib):
    """TF's GraphDef (If with a Write op in its branch function) runs in graphcompat and graphcompat's in TF:
    the same events either way."""
    tf1 = oracle.tf1()
    lib, s = (tf1, _tf_s2()) if writer_lib == "tf" else (tf, s2)
    graph = lib.Graph()
    with graph.as_default():
        writer = s.create_file_writer(str(tmp_path / "run"))
        with writer.as_default():
            fetches, inc = _cross_program(lib, s)
    graph_def = graph.as_graph_def()
    if writer_lib == "graphcompat":  # TF parses graphcompat's GraphDef from its bytes
        from tensorflow.core.framework import graph_pb2
        graph_def = graph_pb2.GraphDef.FromString(graph_def.SerializeToString())
    _run_graph_def(tf1, graph_def, fetches, inc)
    tf_events = _normalized(_events(tmp_path / "run"))
    for path in glob.glob(str(tmp_path / "run" / "*")):
        os.remove(path)
    from tensorboard.compat.proto import graph_pb2 as tb_graph_pb2
    _run_graph_def(tf, tb_graph_pb2.GraphDef.FromString(graph_def.SerializeToString()), fetches, inc)
    got = _events(tmp_path / "run")
    assert _normalized(got) == tf_events
    assert sorted({e.step for e in got if e.summary.value[:1] and e.summary.value[0].tag == "loss"}) == [0, 2]


@pytest.mark.oracle
def test_tf2_summary_events_equal_generic(tmp_path):
    """TF 2's tf.summary.scalar / text in graph mode (WriteSummary with plugin metadata): graphcompat's generic
    summaries with the same tensor and metadata write the same events."""
    tf1 = oracle.tf1()
    import tensorflow as tf2
    graph = tf1.Graph()
    with graph.as_default():
        writer = tf2.compat.v2.summary.create_file_writer(str(tmp_path / "tf"))
        with writer.as_default():
            ops = [tf2.compat.v2.summary.scalar("loss", tf1.constant(2, tf1.int32), step=3),
                   tf2.compat.v2.summary.text("txt", tf1.constant(["a", "b"]), step=4)]
        with tf1.Session() as sess:
            sess.run(writer.init())
            sess.run(ops)
            sess.run(writer.flush())

    def plugin(name):
        return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=name))
    with tf.Graph().as_default():
        writer = s2.create_file_writer(str(tmp_path / "gc"))
        with writer.as_default(), s2.always_record_summaries():
            ops = [s2.generic("loss", tf.cast(tf.constant(2, tf.int32), tf.float32), metadata=plugin("scalars"),
                              step=3),
                   s2.generic("txt", tf.constant(["a", "b"]), metadata=plugin("text"), step=4)]
        with tf.Session() as sess:
            sess.run(writer.init())
            sess.run(ops)
            sess.run(writer.flush())
    assert _normalized(_events(tmp_path / "gc")) == _normalized(_events(tmp_path / "tf"))


@pytest.mark.oracle
def test_not_found_texts_with_other_resources(tmp_path):
    """Once the session's container holds anything (an initialized variable), TF names the missing resource."""
    tf_s2 = _tf_s2()

    def program(lib, s):
        graph = lib.Graph()
        with graph.as_default():
            v = lib.Variable(1.0, use_resource=False)
            writer = s.create_file_writer(str(tmp_path))
            with writer.as_default(), s.always_record_summaries():
                op = s.scalar("x", 1.0, step=1)
            with lib.Session() as sess:
                sess.run(v.initializer)
                with pytest.raises(lib.errors.NotFoundError) as info:
                    sess.run(op)
        return info.value.message
    assert (f"Resource localhost/logdir:{tmp_path}/N10tensorflow22SummaryWriterInterfaceE does not "
            "exist.") in program(oracle.tf1(), tf_s2)
    assert program(tf, s2) == (f"Resource localhost/logdir:{tmp_path}/N10tensorflow22SummaryWriterInterfaceE "
                               "does not exist.")


def test_close_in_a_compiled_step_deletes_the_writer(tmp_path):
    """A close that runs after a step's compiled part (a host tail) deletes the resource all the same."""
    graph, writer = _writer_program(tmp_path)
    with graph.as_default():
        v = tf.Variable(1.0)
        with writer.as_default(), s2.always_record_summaries():
            op = s2.scalar("v", v, step=1)
        with tf.Session() as sess:
            sess.run([v.initializer, writer.init()])
            sess.run([v.assign_add(1.0), op])
            sess.run([v.assign_add(1.0), writer.close()])
            with pytest.raises(tf.errors.NotFoundError, match="N10tensorflow22SummaryWriterInterfaceE does not exist"):
                sess.run(op)
    assert len(_events(tmp_path)) == 2


def test_dropped_session_flushes(tmp_path):
    graph, writer = _writer_program(tmp_path)
    with graph.as_default():
        with writer.as_default(), s2.always_record_summaries():
            op = s2.scalar("x", 1.0, step=1)
        sess = tf.Session()
        sess.run(writer.init())
        sess.run(op)
        assert len(_events(tmp_path)) == 1
        del sess
        import gc
        gc.collect()
    assert len(_events(tmp_path)) == 2


def test_flush_millis_zero_writes_every_event(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        writer = s2.create_file_writer(str(tmp_path), max_queue=100, flush_millis=0)
        with writer.as_default(), s2.always_record_summaries():
            op = s2.scalar("x", 1.0, step=1)
        with tf.Session() as sess:
            sess.run(writer.init())
            sess.run(op)
            assert len(_events(tmp_path)) == 2


@pytest.mark.parametrize("build, value", [
    (lambda: tf.logical_and(True, tf.constant(False)), False),
    (lambda: tf.logical_or(tf.constant(False), True), True),
    (lambda: tf.logical_not(tf.logical_and(True, True)), False),
    (lambda: tf.logical_and(True, tf.placeholder(tf.bool, [])), None),
])
def test_logical_ops_fold_for_smart_cond(build, value):
    """TF's smart_cond folds a constant predicate (TryEvaluateConstant): the recording condition's LogicalAnd."""
    from graphcompat.framework.constant_op import constant_value
    with tf.Graph().as_default():
        got = constant_value(build())
    assert (got is None and value is None) or (got is not None and bool(got) == value and got.dtype == np.bool_)


@pytest.mark.oracle
@pytest.mark.filterwarnings("ignore:Attempting to use a closed FileWriter")
def test_file_writer_with_a_session_writes_through_the_graph(tmp_path):
    """tf.summary.FileWriter(logdir, session=sess) is TF's EventFileWriterV2: ops under `filewriter/` in the
    session's graph (an ImportEvent per event), the resource writer's file."""
    tf1 = oracle.tf1()

    def program(lib, logdir):
        graph = lib.Graph()
        with graph.as_default():
            x = lib.placeholder(lib.float32, [], name="x")
            summ = lib.summary.scalar("x", x)
            with lib.Session() as sess:
                writer = lib.summary.FileWriter(str(logdir), session=sess)
                for step in range(3):
                    writer.add_summary(sess.run(summ, {x: step / 2}), step)
                writer.add_session_log(lib.SessionLog(status=lib.SessionLog.START), 3)
                writer.flush()
                writer.close()
                writer.add_summary(sess.run(summ, {x: 9.0}), 9)  # closed: dropped (TF warns)
        return [(n.name, n.op) for n in graph.as_graph_def().node]
    got_nodes = program(tf, tmp_path / "gc")
    assert got_nodes == program(tf1, tmp_path / "tf")
    assert ("filewriter/ImportEvent", "ImportEvent") in got_nodes
    (name,) = os.listdir(tmp_path / "gc")
    assert re.search(rf"\.{os.getpid()}\.\d+\.v2$", name), name

    def rows(logdir):
        events = _events(logdir)
        for e in events:
            e.wall_time = 0
        return [e.SerializeToString(deterministic=True) for e in events]
    assert rows(tmp_path / "gc") == rows(tmp_path / "tf")
