"""tf.train.Saver and checkpoint utilities: round trips, TF's files and errors, faults, TF oracle."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import ml_dtypes
import numpy as np
import pytest

import graphcompat as tf
from graphcompat.formats.bundle import data_filename
from tests import oracle

VALUES = {
    "f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 3,
    "f64": np.array([0.5, -1.25]),
    "i32": np.array([[1, -2], [3, 4]], np.int32),
    "i64": np.int64(1234567890123),
    "u8": np.array([0, 255], np.uint8),
    "i8": np.array([-128, 127], np.int8),
    "f16": np.array([1.5, -2.0], np.float16),
    "flags": np.array([True, False]),
    "c64": np.array([1 + 2j], np.complex64),
    "scope/nested": np.float32(3.5),
}


def _make_vars(values=VALUES):
    return {k: tf.Variable(v, name=k) for k, v in values.items()}


def _session_with(variables):
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    return sess


def _assign_all(sess, variables, values):
    for k, v in variables.items():
        v.load(values[k], sess)


# --- graph structure ------------------------------------------------------------------------------
def test_saver_graph_matches_tensorflow_names():
    tf.Variable([1.0, 2.0], name="a")
    with tf.variable_scope("h1"):
        tf.get_variable("weights", [2, 3])
    saver = tf.train.Saver()
    graph = tf.get_default_graph()
    ops = {op.name: op for op in graph.get_operations() if op.name.startswith("save/")}
    assert [(n, op.type) for n, op in ops.items()] == [
        ("save/filename/input", "Const"), ("save/filename", "PlaceholderWithDefault"),
        ("save/Const", "PlaceholderWithDefault"), ("save/SaveV2/tensor_names", "Const"),
        ("save/SaveV2/shape_and_slices", "Const"), ("save/SaveV2", "SaveV2"),
        ("save/control_dependency", "Identity"), ("save/RestoreV2/tensor_names", "Const"),
        ("save/RestoreV2/shape_and_slices", "Const"), ("save/RestoreV2", "RestoreV2"),
        ("save/Assign", "Assign"), ("save/Assign_1", "Assign"), ("save/restore_all", "NoOp")]
    assert [t.name for t in ops["save/SaveV2"].inputs][3:] == ["a:0", "h1/weights:0"]
    assert [t.name for t in ops["save/Assign_1"].inputs] == ["h1/weights:0", "save/RestoreV2:1"]
    sd = saver.saver_def
    assert (sd.filename_tensor_name, sd.save_tensor_name, sd.restore_op_name) == (
        "save/Const:0", "save/control_dependency:0", "save/restore_all")
    assert sd.max_to_keep == 5 and sd.version == 2
    assert tf.train.Saver().saver_def.restore_op_name == "save_1/restore_all"


def test_empty_saver():
    with pytest.raises(ValueError, match="No variables to save"):
        tf.train.Saver()
    assert tf.train.Saver(allow_empty=True).save(tf.Session(graph=tf.get_default_graph()), "/nonexistent/x",
                                                 write_meta_graph=False) is None


# --- round trips ----------------------------------------------------------------------------------
def test_round_trip_all_dtypes(tmp_path):
    variables = _make_vars()
    saver = tf.train.Saver()
    with _session_with(variables) as sess:
        prefix = saver.save(sess, str(tmp_path / "model"), global_step=7)
        assert prefix == str(tmp_path / "model-7")
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model-7.data-00000-of-00001", "model-7.index",
                                            "model-7.meta"]
    assert open(tmp_path / "checkpoint").read() == (
        f'model_checkpoint_path: "{prefix}"\nall_model_checkpoint_paths: "{prefix}"\n')
    with tf.Session() as sess:
        saver.restore(sess, prefix)
        for k, v in variables.items():
            got = sess.run(v)
            assert np.asarray(got).dtype == np.asarray(VALUES[k]).dtype, k
            np.testing.assert_array_equal(got, VALUES[k])
    reader = tf.train.NewCheckpointReader(prefix)
    assert reader.get_variable_to_shape_map()["f32"] == [2, 3]
    assert reader.get_variable_to_dtype_map()["i64"] == tf.int64
    assert reader.has_tensor("f64") and not reader.has_tensor("nope")
    assert reader.get_tensor("i64") == VALUES["i64"]
    with pytest.raises(tf.errors.NotFoundError, match="Key nope not found in checkpoint"):
        reader.get_tensor("nope")
    assert tf.train.list_variables(str(tmp_path))[0] == ("c64", [1])
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path), "f32:0"), VALUES["f32"])
    assert tf.train.latest_checkpoint(str(tmp_path)) == prefix
    assert tf.train.get_checkpoint_state(str(tmp_path)).model_checkpoint_path == prefix
    assert tf.train.checkpoint_exists(prefix) and not tf.train.checkpoint_exists(prefix + "x")


def test_dict_var_list_keys_and_values_after_training_like_updates(tmp_path):
    a = tf.Variable([1.0, 2.0], name="a")
    b = tf.Variable(3, name="b")
    update = tf.assign_add(a, [10.0, 10.0])
    saver = tf.train.Saver({"renamed/a": a, "b": b})
    with _session_with([a, b]) as sess:
        sess.run(update)
        prefix = saver.save(sess, str(tmp_path / "m"))
        assert prefix == str(tmp_path / "m")
    assert [n for n, _ in tf.train.list_variables(prefix)] == ["b", "renamed/a"]
    with tf.Session() as sess:
        saver.restore(sess, prefix)
        np.testing.assert_array_equal(sess.run(a), [11.0, 12.0])
        assert sess.run(b) == 3


def test_max_to_keep_last_checkpoints_and_recover(tmp_path):
    v = tf.Variable(0, name="v")
    saver = tf.train.Saver(max_to_keep=2)
    with _session_with([v]) as sess:
        paths = [saver.save(sess, str(tmp_path / "ck"), global_step=i) for i in range(4)]
    assert saver.last_checkpoints == paths[2:]
    assert not os.path.exists(paths[0] + ".index") and not os.path.exists(paths[1] + ".meta")
    assert not os.path.exists(data_filename(paths[1], 0, 1)) and os.path.exists(paths[3] + ".index")
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert list(state.all_model_checkpoint_paths) == paths[2:]
    fresh = tf.train.Saver(max_to_keep=2)
    fresh.recover_last_checkpoints(list(state.all_model_checkpoint_paths) + [str(tmp_path / "gone")])
    assert fresh.last_checkpoints == paths[2:]


def test_keep_checkpoint_every_n_hours_keeps_old_files(tmp_path):
    v = tf.Variable(0, name="v")
    saver = tf.train.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=1e-9)
    time.sleep(0.01)
    with _session_with([v]) as sess:
        paths = [saver.save(sess, str(tmp_path / "ck"), global_step=i) for i in range(3)]
    assert saver.last_checkpoints == paths[-1:]
    assert all(os.path.exists(p + ".index") for p in paths)


def test_relative_paths_and_latest_filename(tmp_path):
    v = tf.Variable(1.0, name="v")
    saver = tf.train.Saver(save_relative_paths=True, pad_step_number=True)
    with _session_with([v]) as sess:
        prefix = saver.save(sess, str(tmp_path / "run"), global_step=3, latest_filename="latest")
    assert prefix == str(tmp_path / "run-00000003")
    assert 'model_checkpoint_path: "run-00000003"' in open(tmp_path / "latest").read()
    assert tf.train.latest_checkpoint(str(tmp_path), "latest") == prefix
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_global_step_tensor_and_sharded(tmp_path):
    step = tf.Variable(np.int64(42), name="global_step")
    saver = tf.train.Saver(sharded=True)
    assert saver.saver_def.sharded
    with _session_with([step]) as sess:
        prefix = saver.save(sess, str(tmp_path / "m"), global_step=step)
    assert prefix.endswith("m-42") and tf.train.load_variable(prefix, "global_step") == 42


def test_meta_graph_import_round_trip(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(np.ones((2, 2), np.float32), name="w")
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        y = tf.matmul(x, w, name="y")
        tf.add_to_collection("outputs", y)
        saver = tf.train.Saver()
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.assign(w, [[1.0, 2.0], [3.0, 4.0]]))
            prefix = saver.save(sess, str(tmp_path / "model"))
    tf.train.write_graph(graph, str(tmp_path), "graph.pbtxt")
    tf.train.write_graph(graph.as_graph_def(), str(tmp_path), "graph.pb", as_text=False)
    assert "VariableV2" in open(tmp_path / "graph.pbtxt").read()
    new = tf.Graph()
    with new.as_default():
        restorer = tf.train.import_meta_graph(prefix + ".meta")
        assert [v.name for v in tf.global_variables()] == ["w:0"]
        assert [v.name for v in tf.trainable_variables()] == ["w:0"]
        y2 = tf.get_collection("outputs")[0]
        assert y2.name == "y:0" and y2.shape.as_list() == [None, 2]
        with tf.Session(graph=new) as sess:
            restorer.restore(sess, prefix)
            got = sess.run(y2, {"x:0": [[1.0, 1.0]]})
        np.testing.assert_allclose(got, [[4.0, 6.0]])
    scoped = tf.Graph()
    with scoped.as_default():
        restorer = tf.train.import_meta_graph(prefix + ".meta", import_scope="imp")
        assert restorer.saver_def.restore_op_name == "imp/save/restore_all"
        assert scoped.get_operation_by_name("imp/w").type == "VariableV2"


def test_init_from_checkpoint(tmp_path):
    g1 = tf.Graph()
    with g1.as_default():
        with tf.variable_scope("old"):
            tf.get_variable("w", initializer=np.array([1.0, 2.0], np.float32))
            tf.get_variable("b", initializer=np.array(5.0, np.float32))
        with tf.Session(graph=g1) as sess:
            sess.run(tf.global_variables_initializer())
            prefix = tf.train.Saver().save(sess, str(tmp_path / "m"))
    g2 = tf.Graph()
    with g2.as_default():
        with tf.variable_scope("new"):
            w = tf.get_variable("w", [2])
            b = tf.get_variable("b", [])
        tf.train.init_from_checkpoint(str(tmp_path), {"old/": "new/"})
        with tf.Session(graph=g2) as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(w), [1.0, 2.0])
            assert sess.run(b) == 5.0
        with pytest.raises(ValueError, match="is not found in"):
            tf.train.init_from_checkpoint(prefix, {"nothere": "new/w"})


# --- errors and faults ----------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    """A checkpoint of a = [1, 2] (float) and b = 7 (int32); returns its prefix."""
    g = tf.Graph()
    with g.as_default():
        tf.Variable([1.0, 2.0], name="a")
        tf.Variable(7, name="b")
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            return tf.train.Saver().save(sess, str(tmp_path / "model"))


RESTORE_ERRORS = [
    # (variables to build {name: value}, error class, message fragment)
    ({"a": [0.0, 0.0], "missing": [1.0]}, tf.errors.NotFoundError, "Key missing not found in checkpoint"),
    ({"a": [0.0, 0.0, 0.0]}, tf.errors.InvalidArgumentError,
     "Assign requires shapes of both tensors to match. lhs shape= [3] rhs shape= [2]"),
    ({"a": [0.0, 0.0], "b": 7.0}, tf.errors.InvalidArgumentError,
     "tensor_name = b; expected dtype float does not equal original dtype int32"),
]


@pytest.mark.parametrize("spec,error,fragment", RESTORE_ERRORS, ids=["missing_key", "shape", "dtype"])
def test_restore_errors_change_nothing(saved, spec, error, fragment):
    variables = {k: tf.Variable(np.asarray(v, np.float32), name=k) for k, v in spec.items()}
    saver = tf.train.Saver()
    with _session_with(variables) as sess:
        before = {k: sess.run(v) for k, v in variables.items()}
        with pytest.raises(error) as info:
            saver.restore(sess, saved)
        assert fragment in info.value.message
        assert info.value.message.startswith("Restoring from checkpoint failed.")
        for k, v in variables.items():
            np.testing.assert_array_equal(sess.run(v), before[k])


def test_restore_op_run_directly_is_atomic(saved):
    a = tf.Variable([5.0, 5.0], name="a")
    tf.Variable([1.0], name="zzz")  # not in the checkpoint: RestoreV2 fails before any Assign
    saver = tf.train.Saver()
    with _session_with([a]) as sess:
        with pytest.raises(tf.errors.NotFoundError, match="Key zzz not found in checkpoint"):
            sess.run(saver.saver_def.restore_op_name, {saver.saver_def.filename_tensor_name: saved})
        np.testing.assert_array_equal(sess.run(a), [5.0, 5.0])


def test_corrupted_and_truncated_files(saved):
    a = tf.Variable([0.0, 0.0], name="a")
    b = tf.Variable(0, name="b")
    saver = tf.train.Saver()
    data = data_filename(saved, 0, 1)
    raw = open(data, "rb").read()
    with _session_with([a, b]) as sess:
        with open(data, "wb") as f:  # flip one byte of a's value
            f.write(bytes([raw[0] ^ 1]) + raw[1:])
        # TF's statuses: class and text as its BundleReader reports them.
        with pytest.raises(tf.errors.DataLossError, match=f"^TensorBundle at {saved} shard 0 \\(8 bytes\\): "
                                                          "Checksum does not match: stored"):
            saver.restore(sess, saved)
        with open(data, "wb") as f:
            f.write(raw[:3])
        with pytest.raises(tf.errors.OutOfRangeError, match="^Read less bytes than requested\n"):
            saver.restore(sess, saved)
        os.remove(data)
        with pytest.raises(tf.errors.NotFoundError, match=f"Original error:\n\n{data}; No such file or directory\n"):
            saver.restore(sess, saved)
        index = open(saved + ".index", "rb").read()
        with open(saved + ".index", "wb") as f:
            f.write(index[:-10])
        with pytest.raises(tf.errors.DataLossError, match=r"^not an sstable \(bad magic number\)\n"):
            saver.restore(sess, saved)
        np.testing.assert_array_equal(sess.run(a), [0.0, 0.0])
        with pytest.raises(ValueError, match="not a valid checkpoint"):
            saver.restore(sess, saved + "-nothing")
    with pytest.raises(tf.errors.NotFoundError, match="Failed to find any matching files"):
        tf.train.NewCheckpointReader(saved + "-nothing")


def test_save_errors(tmp_path):
    v = tf.Variable(1.0, name="v")
    u = tf.Variable(2.0, name="u")
    saver = tf.train.Saver([v, u])
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError, match="Attempting to use uninitialized value u"):
            saver.save(sess, str(tmp_path / "m"))
        assert not os.path.exists(tmp_path / "checkpoint")
        sess.run(u.initializer)
        # Like TF's writer, a save creates its directory when that directory's parent exists.
        assert saver.save(sess, str(tmp_path / "new" / "m")) == str(tmp_path / "new" / "m")
        assert sorted(os.listdir(tmp_path / "new")) == ["checkpoint", "m.data-00000-of-00001", "m.index", "m.meta"]
        with pytest.raises(ValueError, match="Parent directory of .* doesn't exist, can't save."):
            saver.save(sess, str(tmp_path / "missing" / "deeper" / "m"))
        (tmp_path / "file").write_text("x")
        with pytest.raises(ValueError, match="doesn't exist, can't save"):
            saver.save(sess, str(tmp_path / "file" / "m"))
        if os.geteuid() != 0:  # root ignores permission bits
            ro = tmp_path / "ro"
            ro.mkdir()
            ro.chmod(0o555)
            try:
                with pytest.raises(tf.errors.PermissionDeniedError, match="Permission denied"):
                    saver.save(sess, str(ro / "m"))
            finally:
                ro.chmod(0o755)


def test_killed_writer_never_leaves_checkpoint_pointing_at_partial_files(tmp_path):
    """A subprocess saves step 1, then is SIGKILLed in the middle of writing step 2's data file."""
    script = textwrap.dedent(f"""
        import os, sys, time
        import numpy as np
        import graphcompat as tf
        from graphcompat.formats import bundle
        v = tf.Variable(np.arange(1000, dtype=np.float32), name="v")
        saver = tf.train.Saver()
        sess = tf.Session()
        sess.run(v.initializer)
        saver.save(sess, {str(tmp_path / 'm')!r}, global_step=1)
        sess.run(tf.assign(v, np.zeros(1000, np.float32)))
        original = bundle._DataWriter.add
        def add_then_hang(self, array):
            entry = original(self, array)
            self.file.flush()
            open({str(tmp_path / 'mid-save')!r}, "w").close()
            time.sleep(60)
            return entry
        bundle._DataWriter.add = add_then_hang
        saver.save(sess, {str(tmp_path / 'm')!r}, global_step=2)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=os.path.dirname(os.path.dirname(__file__)))
    try:
        deadline = time.time() + 60
        while not os.path.exists(tmp_path / "mid-save"):
            assert proc.poll() is None, "writer exited early"
            assert time.time() < deadline, "writer never reached the middle of the save"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    latest = tf.train.latest_checkpoint(str(tmp_path))
    assert latest == str(tmp_path / "m-1")
    assert not os.path.exists(tmp_path / "m-2.index")
    v = tf.Variable(np.ones(1000, np.float32), name="v")
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, latest)
        np.testing.assert_array_equal(sess.run(v), np.arange(1000, dtype=np.float32))


# --- oracle: real TensorFlow ------------------------------------------------------------------------
ORACLE_VALUES = {
    "dense/kernel": np.arange(15, dtype=np.float32).reshape(3, 5) / 7,
    "dense/bias": np.array([0.5, -1.25]),
    "global_step": np.int64(1234567890123),
    "flags": np.array([True, False, True]),
    "half": np.array([1.5, -2.0], np.float16),
    "counts": np.arange(6, dtype=np.int32).reshape(2, 3),
    "i8": np.array([-128, 127], np.int8),
    "u8": np.array([0, 255], np.uint8),
    "i16": np.array([-32768, 5], np.int16),
    "c64": np.array([1 + 2j], np.complex64),
    "c128": np.array([[3 - 4j]], np.complex128),
    "bf16": np.array([1.5, -2.25], ml_dtypes.bfloat16),
}


def _tf_graph_save_restore(values, save_to=None, restore_from=None):
    """Real TF (ref variables in a tf.Graph): restore `restore_from` and/or save to `save_to`."""
    v1 = oracle.tf1()
    import tensorflow as real_tf
    graph = real_tf.Graph()
    with graph.as_default():
        with v1.variable_scope("", use_resource=False):
            variables = {k: v1.Variable(real_tf.constant(v, dtype=real_tf.bfloat16 if v.dtype == ml_dtypes.bfloat16
                                                         else None), name=k) for k, v in values.items()}
        saver = v1.train.Saver()
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            if restore_from:
                saver.restore(sess, restore_from)
            out = {k: sess.run(v) for k, v in variables.items()}
            if save_to:
                saver.save(sess, save_to)
    return out


@pytest.mark.oracle
def test_checkpoint_bytes_equal_tensorflow(tmp_path):
    _tf_graph_save_restore(ORACLE_VALUES, save_to=str(tmp_path / "tf" / "model"))
    _make_vars(ORACLE_VALUES)
    (tmp_path / "gc").mkdir()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.train.Saver().save(sess, str(tmp_path / "gc" / "model"), write_meta_graph=False)
    for suffix in (".index", ".data-00000-of-00001"):
        ours = open(tmp_path / "gc" / f"model{suffix}", "rb").read()
        theirs = open(tmp_path / "tf" / f"model{suffix}", "rb").read()
        assert ours == theirs, suffix


@pytest.mark.oracle
def test_tensorflow_checkpoint_restores_into_graphcompat_and_back(tmp_path):
    tf_prefix = str(tmp_path / "tf" / "model")
    _tf_graph_save_restore(ORACLE_VALUES, save_to=tf_prefix)
    zeros = {k: np.zeros_like(v) for k, v in ORACLE_VALUES.items()}
    variables = _make_vars(zeros)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        saver.restore(sess, tf_prefix)
        for k, v in variables.items():
            np.testing.assert_array_equal(sess.run(v), ORACLE_VALUES[k])
        (tmp_path / "gc").mkdir()
        gc_prefix = saver.save(sess, str(tmp_path / "gc" / "model"), global_step=1)
    restored = _tf_graph_save_restore(zeros, restore_from=gc_prefix)
    for k, v in restored.items():
        np.testing.assert_array_equal(v, ORACLE_VALUES[k])


@pytest.mark.oracle
def test_tensorflow_partitioned_variable_and_bfloat16(tmp_path):
    v1 = oracle.tf1()
    import tensorflow as real_tf
    full = np.arange(40, dtype=np.float32).reshape(10, 4)
    bf = np.array([1.5, -2.25], ml_dtypes.bfloat16)
    graph = real_tf.Graph()
    with graph.as_default():
        v1.get_variable("part", initializer=real_tf.constant(full), partitioner=v1.fixed_size_partitioner(3))
        v1.Variable(real_tf.constant(bf, dtype=real_tf.bfloat16), name="bf")
        v1.Variable(real_tf.constant([b"ab", b""]), name="words")
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            prefix = v1.train.Saver().save(sess, str(tmp_path / "model"))
    reader = tf.train.NewCheckpointReader(prefix)
    assert reader.get_variable_to_shape_map() == {"part": [10, 4], "bf": [2], "words": [2]}
    np.testing.assert_array_equal(reader.get_tensor("part"), full)
    assert reader.get_tensor("bf").dtype == ml_dtypes.bfloat16
    assert list(reader.get_tensor("words")) == [b"ab", b""]
    part = tf.Variable(np.zeros((10, 4), np.float32), name="part")
    with tf.Session() as sess:
        tf.train.Saver([part]).restore(sess, prefix)
        np.testing.assert_array_equal(sess.run(part), full)


@pytest.mark.oracle
def test_tensorflow_imports_our_meta_graph(tmp_path):
    v1 = oracle.tf1()
    import tensorflow as real_tf
    w = tf.Variable(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), name="w")
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    tf.matmul(x, w, name="y")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = tf.train.Saver().save(sess, str(tmp_path / "model"))
    graph = real_tf.Graph()
    with graph.as_default():
        saver = v1.train.import_meta_graph(prefix + ".meta")
        with v1.Session(graph=graph) as sess:
            saver.restore(sess, prefix)
            np.testing.assert_allclose(sess.run("y:0", {"x:0": [[1.0, 1.0]]}), [[4.0, 6.0]])


def _adam_model(tf_):
    x = tf_.constant(np.arange(6, dtype=np.float32).reshape(3, 2))
    w = tf_.get_variable("w", initializer=tf_.constant(np.ones((2, 1), np.float32)))
    loss = tf_.reduce_mean(tf_.square(tf_.matmul(x, w) - 1.0))
    step = tf_.Variable(0, dtype=tf_.int64, name="global_step", trainable=False)
    return tf_.train.AdamOptimizer(0.1).minimize(loss, global_step=step), step


def test_optimizer_slots_and_global_step_round_trip(tmp_path):
    train, step = _adam_model(tf)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        values = {v.op.name: sess.run(v) for v in tf.global_variables()}
        prefix = saver.save(sess, str(tmp_path / "adam"), global_step=step)
    assert prefix.endswith("adam-3")
    assert sorted(n for n, _ in tf.train.list_variables(prefix)) == [
        "beta1_power", "beta2_power", "global_step", "w", "w/Adam", "w/Adam_1"]
    with tf.Session() as sess:
        saver.restore(sess, prefix)
        for v in tf.global_variables():
            np.testing.assert_array_equal(sess.run(v), values[v.op.name])
        sess.run(train)  # training resumes from the restored slots
        assert sess.run(step) == 4


@pytest.mark.oracle
def test_optimizer_checkpoint_keys_match_tensorflow(tmp_path):
    v1 = oracle.tf1()
    import tensorflow as real_tf
    graph = real_tf.Graph()
    with graph.as_default():
        with v1.variable_scope("", use_resource=False):
            train, _ = _adam_model(v1)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            sess.run(train)
            prefix = v1.train.Saver().save(sess, str(tmp_path / "tf"))
    keys = sorted(n for n, _ in tf.train.list_variables(prefix))
    _, step = _adam_model(tf)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        saver.restore(sess, prefix)  # every slot of ours exists in TF's checkpoint with its shape/dtype
        assert sess.run(step) == 1
        ours = saver.save(sess, str(tmp_path / "gc"))
    assert sorted(n for n, _ in tf.train.list_variables(ours)) == keys


def test_imported_training_graph_restores_and_continues_training(tmp_path):
    """The meta graph carries each gradient's forward function (SymbolicGradient's `f`): the imported
    train op runs, with the numbers of the original graph."""
    train, _ = _adam_model(tf)
    tf.add_to_collection("train_op", train)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        prefix = tf.train.Saver().save(sess, str(tmp_path / "m"))
        w = sess.run("w:0")
        sess.run(train)
        w2 = sess.run("w:0")
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.train.import_meta_graph(prefix + ".meta")
        with tf.Session(graph=graph) as sess:
            saver.restore(sess, prefix)
            np.testing.assert_array_equal(sess.run("w:0"), w)
            sess.run(tf.get_collection("train_op")[0])
            np.testing.assert_allclose(sess.run("w:0"), w2, rtol=1e-6)


def test_gradient_without_forward_function_explains_itself(tmp_path):
    train, _ = _adam_model(tf)
    meta = tf.train.export_meta_graph()
    for node in meta.graph_def.node:
        if node.op == "SymbolicGradient":
            del node.attr["f"]
    graph = tf.Graph()
    with graph.as_default():
        tf.train.import_meta_graph(meta)
        (op,) = [op for op in graph.get_operations() if op.type == "SymbolicGradient"]
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(NotImplementedError, match="names no forward function"):
                sess.run(op.outputs[0])


# --- fixtures written by real TensorFlow (no TF needed to run these) ---------------------------------
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "saver")


def test_checkpoint_bytes_equal_tf_fixture(tmp_path):
    from tests.fixtures.saver.make_fixtures import VALUES as FIXTURE_VALUES
    _make_vars(FIXTURE_VALUES)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = tf.train.Saver().save(sess, str(tmp_path / "model"), write_meta_graph=False)
    for suffix in (".index", ".data-00000-of-00001"):
        with open(prefix + suffix, "rb") as ours, open(os.path.join(FIXTURES, "model" + suffix), "rb") as theirs:
            assert ours.read() == theirs.read(), suffix


def test_tf_fixture_restores():
    from tests.fixtures.saver.make_fixtures import VALUES as FIXTURE_VALUES
    variables = _make_vars({k: np.zeros_like(v) for k, v in FIXTURE_VALUES.items()})
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, os.path.join(FIXTURES, "model"))
        for k, v in variables.items():
            np.testing.assert_array_equal(sess.run(v), FIXTURE_VALUES[k])


def test_permission_denied_maps_to_tf_error(tmp_path, monkeypatch):
    import errno
    from graphcompat.formats import bundle

    def denied(prefix, tensors, num_shards):  # root ignores permission bits: simulate the OS's answer
        raise PermissionError(errno.EACCES, "Permission denied", prefix + ".index")
    v = tf.Variable(1.0, name="v")
    saver = tf.train.Saver()
    with _session_with([v]) as sess:
        monkeypatch.setattr(bundle, "_write_files", denied)
        with pytest.raises(tf.errors.PermissionDeniedError, match=f"^{tmp_path}/m.index; Permission denied\n"):
            saver.save(sess, str(tmp_path / "m"))
    assert not os.path.exists(tmp_path / "checkpoint")


@pytest.mark.oracle
def test_graphcompat_imports_tensorflow_meta_graph(tmp_path):
    v1 = oracle.tf1()
    import tensorflow as real_tf
    graph = real_tf.Graph()
    with graph.as_default():
        with v1.variable_scope("", use_resource=False):
            w = v1.Variable(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), name="w")
        x = v1.placeholder(real_tf.float32, [None, 2], name="x")
        v1.add_to_collection("outputs", real_tf.matmul(x, w, name="y"))
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            prefix = v1.train.Saver().save(sess, str(tmp_path / "model"))
    saver = tf.train.import_meta_graph(prefix + ".meta")
    assert [v.op.name for v in tf.global_variables()] == ["w"]
    with tf.Session() as sess:
        saver.restore(sess, prefix)
        y = tf.get_collection("outputs")[0]
        np.testing.assert_allclose(sess.run(y, {"x:0": [[1.0, 1.0]]}), [[4.0, 6.0]])


def _resource_and_ref_saver(lib, values):
    """Resource variables (`use_resource=True`) beside ref variables, and a Saver over both."""
    variables = {}
    for k, v in values.items():
        variables[k] = lib.get_variable(k, initializer=v, use_resource=not k.startswith("ref"))
    return variables, lib.train.Saver()


RESOURCE_VALUES = {"dense/kernel": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
                   "ref_bias": np.array([0.5, -1.25], np.float32), "step": np.int64(42)}


@pytest.mark.oracle
def test_resource_variables_save_and_restore_as_tensorflow(tmp_path):
    """A Saver over resource variables saves their `Read/ReadVariableOp` and restores with an Identity and
    an AssignVariableOp (TF's ResourceVariableSaveable): the same save graph as TF, the same checkpoint
    bytes, and each restores the other's checkpoint (was: TypeError, 'Assign' Op requires a mutable ref)."""
    v1 = oracle.tf1()
    graphs, prefixes = {}, {}
    for lib in (tf, v1):
        graph = lib.Graph()
        with graph.as_default():
            variables, saver = _resource_and_ref_saver(lib, RESOURCE_VALUES)
            graphs[lib] = [(n.name, n.op, list(n.input)) for n in graph.as_graph_def().node
                           if n.name.startswith("save/")]
            with lib.Session(graph=graph) as sess:
                sess.run(lib.global_variables_initializer())
                prefixes[lib] = saver.save(sess, str(tmp_path / ("gc" if lib is tf else "tf") / "model"),
                                           write_meta_graph=False)
    assert graphs[tf] == graphs[v1]
    assert ("save/AssignVariableOp", "AssignVariableOp", ["dense/kernel", "save/Identity"]) in graphs[tf]
    for suffix in (".index", ".data-00000-of-00001"):
        assert open(prefixes[tf] + suffix, "rb").read() == open(prefixes[v1] + suffix, "rb").read(), suffix
    for lib, other in ((tf, v1), (v1, tf)):   # each restores the other's checkpoint into zeroed variables
        graph = lib.Graph()
        with graph.as_default():
            variables, saver = _resource_and_ref_saver(lib, {k: np.zeros_like(v) for k, v in RESOURCE_VALUES.items()})
            with lib.Session(graph=graph) as sess:
                sess.run(lib.global_variables_initializer())
                saver.restore(sess, prefixes[other])
                for k, v in variables.items():
                    np.testing.assert_array_equal(sess.run(v), RESOURCE_VALUES[k])


def test_saver_of_bare_resource_handle(tmp_path):
    """A VarHandleOp's handle in var_list is saved through a ReadVariableOp made in the save scope."""
    v = tf.get_variable("h", initializer=np.array([1.0, 2.0], np.float32), use_resource=True)
    saver = tf.train.Saver({"h": v.handle})
    read = tf.get_default_graph().get_operation_by_name("save/Read/ReadVariableOp")
    assert read.inputs[0] is v.handle
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(tmp_path / "m"))
        sess.run(v.assign([0.0, 0.0]))
        saver.restore(sess, prefix)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
