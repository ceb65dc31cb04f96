"""V1 checkpoints (SaverDef.V1: one table file, TF-slim's `model.ckpt`): the format, the V1 ops, the Saver,
the readers, and TF's errors; oracle tests against real TensorFlow both ways."""
import os

import numpy as np
import pytest

import graphcompat as tf
from graphcompat.formats import checkpoint_v1
from graphcompat.formats import PartitionedTensor
from graphcompat.ops import checkpoint_ops
from tests import oracle

# every dtype TF's V1 writer serializes (bfloat16, uint32 and uint64 it refuses), scalars and empty tensors
VALUES = {
    "f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 3,
    "f64": np.array([0.5, -1.25]),
    "i32": np.array([[1, -2], [3, 4]], np.int32),
    "u8": np.array([0, 255], np.uint8),
    "i16": np.array([-32768, 7], np.int16),
    "i8": np.array([-128, 127], np.int8),
    "i64": np.int64(1234567890123),
    "flags": np.array([True, False, True]),
    "c64": np.array([1 + 2j, -3.5j], np.complex64),
    "c128": np.array([[1 - 1j]], np.complex128),
    "f16": np.array([1.5, -2.0, 65504.0], np.float16),
    "u16": np.array([0, 65535], np.uint16),
    "words": np.array([b"ab", b"", b"\xff\x00z"], dtype=object),
    "scope/scalar": np.float32(3.5),
    "empty": np.zeros((0, 3), np.float32),
}
PART = np.arange(20, dtype=np.float32).reshape(5, 4)


class _GraphcompatRawOps:
    """`tf.raw_ops` spellings of the checkpoint ops for graphcompat (it has no `tf.raw_ops` namespace)."""

    @staticmethod
    def Save(filename, tensor_names, data, name=None):  # noqa: N802 (TF's names)
        return checkpoint_ops.save(filename, tensor_names, data, name=name)

    @staticmethod
    def SaveSlices(filename, tensor_names, shapes_and_slices, data, name=None):  # noqa: N802
        return checkpoint_ops.save_slices(filename, tensor_names, shapes_and_slices, data, name=name)

    @staticmethod
    def Restore(file_pattern, tensor_name, dt, preferred_shard=-1, name=None):  # noqa: N802
        return checkpoint_ops.restore(file_pattern, tensor_name, dt, preferred_shard, name=name)

    @staticmethod
    def RestoreSlice(file_pattern, tensor_name, shape_and_slice, dt, preferred_shard=-1, name=None):  # noqa: N802
        return checkpoint_ops.restore_slice(file_pattern, tensor_name, shape_and_slice, dt, preferred_shard,
                                            name=name)

    @staticmethod
    def RestoreV2(prefix, tensor_names, shape_and_slices, dtypes, name=None):  # noqa: N802
        return checkpoint_ops.restore_v2(prefix, tensor_names, shape_and_slices, dtypes, name=name)


def _raw(lib):
    return _GraphcompatRawOps if lib is tf else lib.raw_ops


def _build(lib, values=VALUES, partitioned=True):
    """Ref variables holding `values` (and a partitioned `part`, TF's fixed_size_partitioner(2))."""
    out = {}
    with lib.variable_scope("", use_resource=False):
        for k, v in values.items():
            dtype = lib.string if np.asarray(v).dtype == object else lib.as_dtype(np.asarray(v).dtype)
            out[k] = lib.Variable(lib.constant(v, dtype=dtype), name=k)
        if partitioned:
            out["part"] = lib.get_variable("part", initializer=lib.constant(PART),
                                           partitioner=lib.fixed_size_partitioner(2))
    return out


def _tf_save(tmp_path, name="model.ckpt", **kwargs):
    v1 = oracle.tf1()
    import tensorflow as real_tf
    graph = real_tf.Graph()
    with graph.as_default():
        _build(v1)
        saver = v1.train.Saver(write_version=v1.train.SaverDef.V1, **kwargs)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            return saver.save(sess, str(tmp_path / name))


def _check(values_by_name, parts):
    for k, v in VALUES.items():
        got = np.asarray(values_by_name[k])
        assert got.dtype == np.asarray(v).dtype and got.shape == np.shape(v), k
        np.testing.assert_array_equal(got, v)
    np.testing.assert_array_equal(parts, PART)


def _check_session(sess, variables):
    _check({k: sess.run(v) for k, v in variables.items() if k != "part"}, sess.run(variables["part"].as_tensor()))


def _zeros(values=VALUES):
    return {k: (np.full(np.shape(v), b"", dtype=object) if np.asarray(v).dtype == object
                else np.zeros_like(v)) for k, v in values.items()}


# --- the format -----------------------------------------------------------------------------------------
def test_round_trip_every_dtype_and_partitions(tmp_path):
    path = str(tmp_path / "ckpt")
    tensors = dict(VALUES)
    tensors["part"] = PartitionedTensor((5, 4), [((0, 0), PART[:3]), ((3, 0), PART[3:])])
    checkpoint_v1.write_checkpoint_v1(path, tensors)
    reader = checkpoint_v1.TensorSliceReader(path)
    assert reader.keys() == sorted(tensors)
    assert reader.shape_of("part") == (5, 4) and reader.num_slices("part") == 2
    _check({k: reader.get_tensor(k) for k in VALUES}, reader.get_tensor("part"))
    # a region across both partitions, as RestoreSlice / RestoreV2 with a spec read it
    np.testing.assert_array_equal(reader.get_slice("part", [(2, 2), (0, -1)]), PART[2:4])
    assert not [f for f in os.listdir(tmp_path) if "_temp_" in f]


def test_slice_spec_parsing_and_writer_errors(tmp_path):
    assert checkpoint_v1.parse_slice_spec("10 5 0,5:-") == ([10, 5], [(0, 5), (0, -1)])
    for spec, error, text in [
            ("3", tf.errors.InvalidArgumentError, "Need least two elements in shape_and_slice specification: 3"),
            ("x 0,1", tf.errors.InvalidArgumentError, "Non numerical dimension in shape_and_slice: x 0,1"),
            ("3 0,5", tf.errors.InternalError, "Extent in dimension 0 out of bounds: shape = [3], slice = 0,5")]:
        with pytest.raises(error) as info:
            checkpoint_v1.parse_slice_spec(spec)
        assert info.value.message == text
    writer = checkpoint_v1.TensorSliceWriter(str(tmp_path / "w"))
    writer.add("a", [4], [(0, 2)], np.ones(2, np.float32), 1)
    writer.add("a", [4], [(1, 2)], np.ones(2, np.float32), 1)  # TF's writer does not check overlaps: its reader does
    with pytest.raises(tf.errors.InternalError, match="Mismatching types: existing type = float"):
        writer.add("a", [4], [(2, 2)], np.ones(2, np.int32), 3)
    with pytest.raises(tf.errors.UnimplementedError, match="^Saving data type bfloat16 not yet supported$"):
        writer.add("b", [1], [(0, -1)], np.ones(1), 14)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="^Tensor slice serialization not implemented for dtype 22$"):
        writer.add("c", [1], [(0, -1)], np.ones(1, np.uint32), 22)
    writer.finish()
    with pytest.raises(tf.errors.InternalError, match="^Overlapping slices: existing slice = 0,2, new slice = 1,2$"):
        checkpoint_v1.TensorSliceReader(str(tmp_path / "w"))


def test_damaged_files_raise_tensorflows_errors(tmp_path):
    path = str(tmp_path / "ckpt")
    checkpoint_v1.write_checkpoint_v1(path, {"v": np.arange(3, dtype=np.float32)})
    raw = open(path, "rb").read()
    cases = [(raw[:-1] + b"x", tf.errors.DataLossError,
              f"Unable to open table file {path}: DATA_LOSS: not an sstable (bad magic number): perhaps your file is "
              f"in a different file format and you need to use a different restore operator?"),
             (raw[:30], tf.errors.DataLossError,
              f"Unable to open table file {path}: DATA_LOSS: file is too short to be an sstable: perhaps"),
             (raw[:20] + bytes([raw[20] ^ 1]) + raw[21:], tf.errors.InternalError,
              f"Failed to find the saved tensor slices at the beginning of the checkpoint file: {path}")]
    for data, error, text in cases:
        with open(path, "wb") as f:
            f.write(data)
        with pytest.raises(error) as info:
            checkpoint_v1.TensorSliceReader(path)
        assert info.value.message.startswith(text)
    with pytest.raises(tf.errors.NotFoundError, match="Unsuccessful TensorSliceReader constructor: Failed to find "
                                                      "any matching files for"):
        checkpoint_v1.TensorSliceReader(path + "-none")


# --- Saver, ops and readers in graphcompat -------------------------------------------------------------
def test_v1_saver_round_trip_and_readers(tmp_path):
    variables = _build(tf)
    saver = tf.train.Saver(write_version=tf.train.SaverDef.V1, max_to_keep=1)
    assert saver.as_saver_def().version == tf.train.SaverDef.V1
    graph = tf.get_default_graph()
    assert graph.get_operation_by_name("save/save").type == "SaveSlices"
    assert graph.get_operation_by_name("save/RestoreV2").type == "RestoreV2"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=1)
        path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=2)
        assert path == str(tmp_path / "model.ckpt-2") and os.path.isfile(path)
        assert not os.path.exists(first)  # max_to_keep deletes the V1 file
        assert tf.train.checkpoint_exists(path) and tf.train.latest_checkpoint(str(tmp_path)) == path
        assert tf.train.get_checkpoint_state(str(tmp_path)).model_checkpoint_path == path
        for k, v in _zeros().items():
            variables[k].load(v, sess)
        saver.restore(sess, path)
        _check_session(sess, variables)
    assert dict(tf.train.list_variables(str(tmp_path))) == {
        **{k: list(np.shape(v)) for k, v in VALUES.items()}, "part": [5, 4]}
    np.testing.assert_array_equal(tf.train.load_variable(path, "f32"), VALUES["f32"])
    reader = tf.train.NewCheckpointReader(path)
    assert reader.get_variable_to_dtype_map()["words"] == tf.string
    with pytest.raises(tf.errors.UnimplementedError, match="Sliced checkpoints are not supported"):
        reader.get_tensor("part")  # TF's V1 reader reads one-slice tensors only


def test_raw_v1_ops_and_init_from_checkpoint(tmp_path):
    path = str(tmp_path / "raw")
    a = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    b = tf.constant([b"x", b"yz"])
    save = _GraphcompatRawOps.Save(filename=path, tensor_names=["a", "b"], data=[a, b])
    whole = _GraphcompatRawOps.Restore(file_pattern=path, tensor_name="a", dt=tf.float32)
    part = _GraphcompatRawOps.RestoreSlice(file_pattern=path, tensor_name="a", shape_and_slice="2 3 1,1:0,2",
                                   dt=tf.float32)
    assert part.shape.as_list() == [1, 2] and whole.shape.ndims is None
    with tf.Session() as sess:
        sess.run(save)
        np.testing.assert_array_equal(sess.run(whole), np.arange(6).reshape(2, 3))
        np.testing.assert_array_equal(sess.run(part), [[3, 4]])
    with tf.Graph().as_default():
        with tf.variable_scope("new"):
            v = tf.get_variable("a", shape=[2, 3])
        tf.train.init_from_checkpoint(path, {"a": "new/a"})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(v), np.arange(6).reshape(2, 3))


def test_failed_restore_changes_nothing(tmp_path):
    path = str(tmp_path / "model.ckpt")
    checkpoint_v1.write_checkpoint_v1(path, {"a": np.array([1.0, 2.0], np.float32), "b": np.int32(7)})
    a = tf.Variable([5.0, 5.0], name="a")
    tf.Variable(0.0, name="b")  # float here, int32 in the checkpoint
    saver = tf.train.Saver()  # a V2 saver reads the V1 file (RestoreV2's fallback)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            saver.restore(sess, path)
        assert ("Expected to restore a tensor of type float, got a tensor of type int32 instead: tensor_name = b"
                in info.value.message)
        assert info.value.message.startswith("Restoring from checkpoint failed.")
        np.testing.assert_array_equal(sess.run(a), [5.0, 5.0])
        c = tf.Variable(1.0, name="c")
        sess.run(c.initializer)
        with pytest.raises(tf.errors.NotFoundError, match=f'Tensor name "c" not found in checkpoint files {path}'):
            tf.train.Saver([a, c]).restore(sess, path)
        np.testing.assert_array_equal(sess.run(a), [5.0, 5.0])


def test_resource_variables_round_trip_v1(tmp_path):
    w = tf.get_variable("w", initializer=np.arange(4, dtype=np.float32), use_resource=True)
    step = tf.get_variable("step", initializer=np.int64(3), use_resource=True)
    saver = tf.train.Saver(write_version=tf.train.SaverDef.V1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "model.ckpt"), write_meta_graph=False)
        w.load(np.zeros(4, np.float32), sess)
        step.load(0, sess)
        saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(w), np.arange(4))
        assert sess.run(step) == 3


def _sharded_graph(lib):
    """A sharded V1 Saver's graph: its ops (name, type, inputs, control inputs) and SaverDef."""
    with lib.variable_scope("", use_resource=False):
        lib.Variable([1.0, 2.0], name="a")
        lib.Variable(3, name="b")
    saver = lib.train.Saver(write_version=lib.train.SaverDef.V1, sharded=True)
    ops = [(op.name, op.type, [t.name for t in op.inputs], [c.name for c in op.control_inputs])
           for op in lib.get_default_graph().get_operations() if op.name.startswith("save/")]
    return ops, saver


@pytest.mark.oracle
def test_sharded_v1_saver_matches_tensorflow(tmp_path):
    v1 = oracle.tf1()
    import tensorflow as real_tf
    graph = real_tf.Graph()
    with graph.as_default():
        want_ops, tf_saver = _sharded_graph(v1)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            (tmp_path / "tf").mkdir()
            want_path = tf_saver.save(sess, str(tmp_path / "tf" / "model.ckpt"), global_step=3)
    got_ops, saver = _sharded_graph(tf)
    assert got_ops == want_ops
    assert saver.as_saver_def().SerializeToString() == tf_saver.as_saver_def().SerializeToString()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        (tmp_path / "gc").mkdir()
        path = saver.save(sess, str(tmp_path / "gc" / "model.ckpt"), global_step=3)
        assert path == str(tmp_path / "gc" / "model.ckpt-3-?????-of-00001")
        assert os.listdir(tmp_path / "gc") == os.listdir(tmp_path / "tf")
        shard = path.replace("?????", "00000")
        assert open(shard, "rb").read() == open(want_path.replace("?????", "00000"), "rb").read()
        # TF's sharded checkpoint (a file pattern) is found, listed and restored
        assert tf.train.latest_checkpoint(str(tmp_path / "tf")) == want_path
        assert tf.train.checkpoint_exists(want_path)
        assert len(tf.train.get_checkpoint_mtimes([want_path])) == 1
        assert tf.train.list_variables(str(tmp_path / "tf")) == [("a", [2]), ("b", [])]
        a = tf.global_variables()[0]
        a.load([0.0, 0.0], sess)
        saver.restore(sess, want_path)
        np.testing.assert_array_equal(sess.run("a:0"), [1.0, 2.0])


# --- oracle: TensorFlow writes, graphcompat reads; and the other way -----------------------------------
@pytest.mark.oracle
def test_tensorflow_v1_checkpoint_restores_in_graphcompat(tmp_path):
    path = _tf_save(tmp_path)
    assert os.path.isfile(path) and not os.path.exists(path + ".index")
    for write_version in (tf.train.SaverDef.V1, tf.train.SaverDef.V2):
        with tf.Graph().as_default():
            variables = _build(tf, _zeros())
            saver = tf.train.Saver(write_version=write_version)
            with tf.Session() as sess:
                saver.restore(sess, path)
                _check_session(sess, variables)
    # the reader: TF's shapes, dtypes, values, and TF's refusals (several slices, types GetTensor lacks)
    v1 = oracle.tf1()
    theirs, ours = v1.train.NewCheckpointReader(path), tf.train.NewCheckpointReader(path)
    assert ours.get_variable_to_shape_map() == theirs.get_variable_to_shape_map()
    assert {k: d.name for k, d in ours.get_variable_to_dtype_map().items()} == \
        {k: d.name for k, d in theirs.get_variable_to_dtype_map().items()}
    # the same lines (TF's order is its hash map's)
    assert sorted(ours.debug_string().splitlines()) == sorted(theirs.debug_string().splitlines())
    for name in sorted(theirs.get_variable_to_shape_map()) + ["missing"]:
        try:
            want = theirs.get_tensor(name)
        except Exception as exc:  # noqa: BLE001 (TF's class is the expectation)
            with pytest.raises(Exception) as info:
                ours.get_tensor(name)
            assert type(info.value).__name__ == type(exc).__name__ and str(info.value) == str(exc), name
            continue
        got = ours.get_tensor(name)
        assert np.asarray(got).dtype == np.asarray(want).dtype, name
        np.testing.assert_array_equal(got, want)


@pytest.mark.oracle
def test_graphcompat_v1_file_is_tensorflows_bytes_and_tensorflow_restores_it(tmp_path):
    want = _tf_save(tmp_path, "tf.ckpt")
    _build(tf)
    saver = tf.train.Saver(write_version=tf.train.SaverDef.V1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "gc.ckpt"))
    assert open(path, "rb").read() == open(want, "rb").read()
    v1 = oracle.tf1()
    import tensorflow as real_tf
    graph = real_tf.Graph()
    with graph.as_default():
        variables = _build(v1, _zeros())
        with v1.Session(graph=graph) as sess:
            v1.train.Saver(write_version=v1.train.SaverDef.V1).restore(sess, path)
            _check_session(sess, variables)
    # TF imports our meta graph (SaveSlices and all), restores through it and saves the same bytes again
    graph = real_tf.Graph()
    with graph.as_default():
        saver = v1.train.import_meta_graph(path + ".meta")
        assert saver.saver_def.version == v1.train.SaverDef.V1
        with v1.Session(graph=graph) as sess:
            saver.restore(sess, path)
            np.testing.assert_array_equal(sess.run("f32:0"), VALUES["f32"])
            again = saver.save(sess, str(tmp_path / "tf_again.ckpt"), write_meta_graph=False)
    assert open(again, "rb").read() == open(path, "rb").read()


@pytest.mark.oracle
def test_tensorflow_meta_graph_with_v1_saver_runs_in_graphcompat(tmp_path):
    path = _tf_save(tmp_path)
    saver = tf.train.import_meta_graph(path + ".meta")
    assert saver.as_saver_def().version == tf.train.SaverDef.V1
    graph = tf.get_default_graph()
    assert graph.get_operation_by_name("save/save").type == "SaveSlices"
    with tf.Session() as sess:
        saver.restore(sess, path)
        values = {k: sess.run(f"{k}:0") for k in VALUES}
        parts = np.concatenate([sess.run("part/part_0:0"), sess.run("part/part_1:0")])
        _check(values, parts)
        again = saver.save(sess, str(tmp_path / "again.ckpt"), write_meta_graph=False)
    assert open(again, "rb").read() == open(path, "rb").read()


def _tf_error(build):
    """Runs build(tf1) in TF; returns (class name, message); a graph-construction error as ("build:" class)."""
    v1 = oracle.tf1()
    import tensorflow as real_tf
    graph = real_tf.Graph()
    with graph.as_default():
        try:
            fetch = build(real_tf)
        except (ValueError, real_tf.errors.OpError) as exc:
            return "build:" + type(exc).__name__, str(exc)
        with v1.Session(graph=graph) as sess:
            try:
                return "ok", sess.run(fetch)
            except real_tf.errors.OpError as exc:
                return type(exc).__name__, exc.message


def _gc_error(build):
    with tf.Graph().as_default():
        try:
            fetch = build(tf)
        except (ValueError, tf.errors.OpError) as exc:  # TF's text up to its node description
            return "build:" + type(exc).__name__, str(exc).split(" for '")[0]
        with tf.Session() as sess:
            try:
                return "ok", sess.run(fetch)
            except tf.errors.OpError as exc:
                return type(exc).__name__, exc.message.split("\n")[0]


@pytest.mark.oracle
def test_restore_and_save_errors_match_tensorflow(tmp_path):
    good = str(tmp_path / "good")
    checkpoint_v1.write_checkpoint_v1(good, {"v": np.array([1.5, -2.0, 3.0], np.float32)})
    raw = open(good, "rb").read()
    files = {"bad_magic": raw[:-1] + b"x", "short": raw[:30], "empty": b"",
             "crc": raw[:20] + bytes([raw[20] ^ 1]) + raw[21:]}
    for name, data in files.items():
        with open(tmp_path / name, "wb") as f:
            f.write(data)

    def restore_v2(path, name="v", dtype="float32", spec=""):
        return lambda lib: _raw(lib).RestoreV2(prefix=path, tensor_names=[name], shape_and_slices=[spec],
                                                 dtypes=[getattr(lib, dtype)])

    def restore(path, name="v", dtype="float32", spec=None):
        if spec is None:
            return lambda lib: _raw(lib).Restore(file_pattern=path, tensor_name=name, dt=getattr(lib, dtype))
        return lambda lib: _raw(lib).RestoreSlice(file_pattern=path, tensor_name=name, shape_and_slice=spec,
                                                    dt=getattr(lib, dtype))

    def save(dtype):
        return lambda lib: _raw(lib).Save(filename=str(tmp_path / f"s_{dtype}"), tensor_names=["x"],
                                            data=[lib.cast(lib.constant([1.0]), getattr(lib, dtype))])

    def save_slices(specs, name="x"):
        return lambda lib: _raw(lib).SaveSlices(filename=str(tmp_path / "slices"), tensor_names=[name] * len(specs),
                                                shapes_and_slices=specs, data=[lib.constant([1.0, 2.0])] * len(specs))

    slices = str(tmp_path / "slices")
    cases = [restore_v2(str(tmp_path / n)) for n in files] + [
        save_slices(["4 0,2"]), save_slices(["4 1,3"]), save_slices(["2 x"]),
        # TF's writer takes overlapping slices, its reader refuses them
        save_slices(["4 0,2", "4 1,2"]), restore(slices, "x", spec="4 1,2"),
        # two partitions: a region across both, the whole tensor, regions outside the shape
        save_slices(["4 0,2", "4 2,2"]), restore(slices, "x", spec="4 1,2"), restore(slices, "x"),
        restore_v2(slices, "x", spec="4 1,2"), restore(slices, "x", spec="4 1,3"), restore(slices, "x", spec="5 1,2"),
        restore(slices, "x", spec="2 x"), restore(slices, "x", spec="4 0,2:0,1"),
        save_slices(["4 0,2", "5 2,2"]), save_slices([""])] + [
        restore_v2(str(tmp_path / "missing")), restore_v2(good, "w"), restore_v2(good, dtype="int32"),
        restore_v2(good, spec="4 0,2"), restore_v2(good, spec="3 1,2"),
        restore(good), restore(good, "w"), restore(good, dtype="float64"), restore(good, spec="3 0,1"),
        restore(str(tmp_path / "bad_magic")), restore(str(tmp_path / "g*")),
        save("bfloat16"), save("uint32"), save("uint64"), save("float16")]
    for k, build in enumerate(cases):
        want, got = _tf_error(build), _gc_error(build)
        assert got[0] == want[0], (k, got, want)
        if want[0] == "ok":
            np.testing.assert_array_equal(got[1], want[1])
        else:
            assert got[1] in want[1], (k, got, want)


@pytest.mark.oracle
def test_old_graph_with_restore_slice_ops(tmp_path):
    """A TF1 (< 1.0) style restore graph: one RestoreSlice per variable, as old meta graphs hold."""
    path = _tf_save(tmp_path)

    def build(lib):
        return [_raw(lib).RestoreSlice(file_pattern=path, tensor_name="part", shape_and_slice="5 4 1,3:-",
                                         dt=lib.float32, preferred_shard=0, name="save/restore_slice"),
                _raw(lib).Restore(file_pattern=path, tensor_name="words", dt=lib.string, name="save/restore")]
    want, got = _tf_error(build), _gc_error(build)
    assert want[0] == got[0] == "ok"
    for g, w in zip(got[1], want[1]):
        np.testing.assert_array_equal(g, w)
    # TF's GraphDef of those ops (with a Save of the restored values) imports and runs
    import tensorflow as real_tf
    graph = real_tf.Graph()
    with graph.as_default():
        part, words = build(real_tf)
        _raw(real_tf).Save(filename=str(tmp_path / "again"), tensor_names=["part", "words"], data=[part, words],
                           name="save/save")
    tf.import_graph_def(graph.as_graph_def(), name="")
    with tf.Session() as sess:
        sess.run("save/save")
        np.testing.assert_array_equal(sess.run("save/restore_slice:0"), PART[1:4])
    reader = checkpoint_v1.TensorSliceReader(str(tmp_path / "again"))
    np.testing.assert_array_equal(reader.get_tensor("part"), PART[1:4])
    assert list(reader.get_tensor("words")) == list(VALUES["words"])
