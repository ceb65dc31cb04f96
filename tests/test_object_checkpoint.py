"""Object-based checkpoints: tf.train.Checkpoint (TF 1.x's CheckpointV1), CheckpointManager and
CheckpointOptions in graph mode, against real TensorFlow both ways (files, keys, object graph, the
`checkpoint` state file, statuses and their error texts)."""
from __future__ import annotations

import os
import re

import numpy as np
import pytest

import graphcompat as gtf
from tests import oracle

X = np.arange(12, dtype=np.float32).reshape(4, 3) / 10


def _model(tf):
    """The variables, a tf.layers layer and an Adam optimizer of one small training program."""
    v = tf.Variable([1.0, 2.0], name="v", use_resource=False)
    w = tf.get_variable("w", shape=[2, 3], initializer=tf.ones_initializer(), use_resource=False)
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    layer = tf.layers.Dense(2, name="dense", kernel_initializer=tf.constant_initializer(0.5),
                            bias_initializer=tf.constant_initializer(0.25))
    return v, w, x, layer


def _objects(tf, v, w, layer, opt):
    """Checkpoint children covering every tracked kind: variables, an optimizer, a layer, a nested
    Checkpoint, a list with a non-trackable element and a dict whose key needs escaping."""
    return dict(model=v, opt=opt, lst=[v, 3], d={"a": w, "b.c/d": v}, layer=layer,
                inner=tf.train.Checkpoint(w=w))


def _train_and_save(tf, directory: str, saves: int = 2) -> list:
    graph = tf.Graph()
    with graph.as_default():
        v, w, x, layer = _model(tf)
        y = layer(x)
        opt = tf.train.AdamOptimizer(0.1)
        train = opt.minimize(tf.reduce_sum(v) + tf.reduce_sum(w) + tf.reduce_sum(y))
        ck = tf.train.Checkpoint(**_objects(tf, v, w, layer, opt))
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {x: X})
            return [ck.save(os.path.join(directory, "ck"), session=sess) for _ in range(saves)]


def _object_graph(tf, path: str):
    from tensorboard.compat.proto import trackable_object_graph_pb2
    proto = trackable_object_graph_pb2.TrackableObjectGraph()
    proto.ParseFromString(tf.train.load_checkpoint(path).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    return proto


def _layout(path: str) -> dict:
    """Key → (dtype, shape, data offset, size) of a bundle: TF's data-file layout, values aside."""
    from graphcompat.formats import bundle
    with bundle.BundleReader(path) as reader:
        return {k: (reader._entry(k).dtype, reader.shape_of(k), reader._entry(k).offset, reader._entry(k).size)
                for k in reader.keys()}


def _values(path: str) -> dict:
    reader = gtf.train.load_checkpoint(path)
    return {k: reader.get_tensor(k) for k, _ in gtf.train.list_variables(path)
            if k != "_CHECKPOINTABLE_OBJECT_GRAPH"}


# ------------------------------------------------------------------------------------------------
# Saving: the files TF writes
# ------------------------------------------------------------------------------------------------
@pytest.mark.oracle
def test_save_writes_tfs_files_keys_and_object_graph(tmp_path):
    tf1 = oracle.tf1()
    got = _train_and_save(gtf, str(tmp_path / "gc"))
    want = _train_and_save(tf1, str(tmp_path / "tf"))
    assert [os.path.relpath(p, tmp_path / "gc") for p in got] == [os.path.relpath(p, tmp_path / "tf") for p in want] \
        == ["ck-1", "ck-2"]
    assert sorted(os.listdir(tmp_path / "gc")) == sorted(os.listdir(tmp_path / "tf"))
    assert (tmp_path / "gc" / "checkpoint").read_text() == (tmp_path / "tf" / "checkpoint").read_text()
    for g, w in zip(got, want):
        assert gtf.train.list_variables(g) == tf1.train.list_variables(w)
        assert gtf.train.list_variables(g) == [tuple(kv) for kv in tf1.train.list_variables(g)]
        assert _object_graph(gtf, g) == _object_graph(tf1, w)
        assert _layout(g) == _layout(w)  # same order in the data file, same sizes
        got_values, want_values = _values(g), _values(w)
        assert got_values.keys() == want_values.keys()
        for key in want_values:
            np.testing.assert_allclose(got_values[key], want_values[key], rtol=1e-6, err_msg=key)
    keys = [k for k, _ in gtf.train.list_variables(got[0])]
    assert "d/b..c.Sd/.ATTRIBUTES/VARIABLE_VALUE" not in keys  # v is saved once, at its first path
    assert {"model/.ATTRIBUTES/VARIABLE_VALUE", "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
            "layer/kernel/.ATTRIBUTES/VARIABLE_VALUE", "opt/beta1_power/.ATTRIBUTES/VARIABLE_VALUE",
            "model/.OPTIMIZER_SLOT/opt/m/.ATTRIBUTES/VARIABLE_VALUE",
            "layer/bias/.OPTIMIZER_SLOT/opt/v/.ATTRIBUTES/VARIABLE_VALUE"} <= set(keys)


def test_save_records_tfs_save_graph_once(tmp_path):
    graph = gtf.Graph()
    with graph.as_default():
        v = gtf.Variable([1.0, 2.0], name="v")
        ck = gtf.train.Checkpoint(v=v)
        with gtf.Session() as sess:
            sess.run(gtf.global_variables_initializer())
            assert ck.save(str(tmp_path / "ck"), session=sess) == str(tmp_path / "ck-1")
            count = len(graph.get_operations())
            types = [op.type for op in graph.get_operations()]
            assert ck.save(str(tmp_path / "ck"), session=sess) == str(tmp_path / "ck-2")
            assert len(graph.get_operations()) == count  # the save op is cached while the objects stay
            ck.extra = gtf.Variable(3.0, name="extra")
            sess.run(ck.extra.initializer)
            ck.save(str(tmp_path / "ck"), session=sess)
            assert len(graph.get_operations()) > count  # a new object graph gets a new save op
        for op_type in ("StaticRegexFullMatch", "StringJoin", "ShardedFilename", "SaveV2", "MergeV2Checkpoints"):
            assert op_type in types
        counter = ck.save_counter
        assert counter.op.type == "VarHandleOp" and counter.name == "save_counter:0"
        assert counter.dtype.base_dtype == gtf.int64 and counter.device == "/device:CPU:0"
        graph.as_graph_def()  # the save graph exports
    assert sorted(os.listdir(tmp_path)) == ["checkpoint"] + [f"ck-{i}.{s}" for i in (1, 2, 3)
                                                             for s in ("data-00000-of-00001", "index")]
    assert [k for k, _ in gtf.train.list_variables(str(tmp_path / "ck-3"))] == [
        "_CHECKPOINTABLE_OBJECT_GRAPH", "extra/.ATTRIBUTES/VARIABLE_VALUE", "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
        "v/.ATTRIBUTES/VARIABLE_VALUE"]


def test_write_leaves_counter_and_state_file_and_runs_callbacks(tmp_path):
    seen = []
    with gtf.Graph().as_default():
        ck = gtf.train.Checkpoint(v=gtf.Variable([1.0], name="v"))
        with gtf.Session() as sess:
            sess.run(gtf.global_variables_initializer())
            sess.run(ck.save_counter.initializer)
            options = gtf.train.CheckpointOptions(experimental_write_callbacks=[seen.append, lambda: seen.append(0)])
            path = ck.write(str(tmp_path / "sub" / "w"), session=sess, options=options)
            assert path == str(tmp_path / "sub" / "w") and seen == [path, 0]
            assert sess.run(ck.save_counter) == 0
    assert sorted(os.listdir(tmp_path / "sub")) == ["w.data-00000-of-00001", "w.index"]


def test_resource_variables_and_momentum_slots_round_trip(tmp_path):
    with gtf.Graph().as_default():
        v = gtf.get_variable("v", initializer=[1.0, -1.0], use_resource=True)
        opt = gtf.train.MomentumOptimizer(0.5, momentum=0.9)
        train = opt.minimize(gtf.reduce_sum(v * v))
        ck = gtf.train.Checkpoint(v=v, opt=opt)
        with gtf.Session() as sess:
            sess.run(gtf.global_variables_initializer())
            sess.run(train)
            path = ck.save(str(tmp_path / "ck"), session=sess)
            want = sess.run([v, opt.get_slot(v, "momentum")])
    assert [k for k, _ in gtf.train.list_variables(path)] == [
        "_CHECKPOINTABLE_OBJECT_GRAPH", "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
        "v/.ATTRIBUTES/VARIABLE_VALUE", "v/.OPTIMIZER_SLOT/opt/momentum/.ATTRIBUTES/VARIABLE_VALUE"]
    with gtf.Graph().as_default():
        v = gtf.get_variable("v", initializer=[0.0, 0.0], use_resource=True)
        opt = gtf.train.MomentumOptimizer(0.5, momentum=0.9)
        ck = gtf.train.Checkpoint(v=v, opt=opt)
        status = ck.restore(path)
        train = opt.minimize(gtf.reduce_sum(v * v))  # the slot is created after restore(): restored then
        with gtf.Session() as sess:
            status.initialize_or_restore(sess)
            status.assert_consumed()
            np.testing.assert_allclose(sess.run([v, opt.get_slot(v, "momentum")]), want)
            assert sess.run(ck.save_counter) == 1


# ------------------------------------------------------------------------------------------------
# Restoring, both ways
# ------------------------------------------------------------------------------------------------
def _restore_deferred(tf, path: str) -> dict:
    """Restores `_train_and_save`'s checkpoint into a program that creates the layer's variables, the
    optimizer and its slots after restore(); returns the values and what the status assertions said."""
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable([0.0, 0.0], name="v", use_resource=False)
        w = tf.get_variable("w", shape=[2, 3], initializer=tf.zeros_initializer(), use_resource=False)
        x = tf.placeholder(tf.float32, [None, 3])
        layer = tf.layers.Dense(2, name="dense")
        ck = tf.train.Checkpoint(model=v, lst=[v, 3], d={"a": w, "b.c/d": v}, layer=layer,
                                 inner=tf.train.Checkpoint(w=w))
        status = ck.restore(path)
        y = layer(x)
        opt = tf.train.AdamOptimizer(0.1)
        ck.opt = opt
        opt.minimize(tf.reduce_sum(v) + tf.reduce_sum(w) + tf.reduce_sum(y))
        with tf.Session(graph=graph) as sess:
            status.initialize_or_restore(sess)
            status.assert_consumed()
            status.assert_existing_objects_matched().assert_nontrivial_match().expect_partial()
            return {"v": sess.run(v), "w": sess.run(w), "kernel": sess.run(layer.kernel),
                    "w/m": sess.run(opt.get_slot(w, "m")), "kernel/v": sess.run(opt.get_slot(layer.kernel, "v")),
                    "counter": sess.run(ck.save_counter)}


def _expected(path: str) -> dict:
    values = _values(path)
    return {"v": values["model/.ATTRIBUTES/VARIABLE_VALUE"], "w": values["d/a/.ATTRIBUTES/VARIABLE_VALUE"],
            "kernel": values["layer/kernel/.ATTRIBUTES/VARIABLE_VALUE"],
            "w/m": values["d/a/.OPTIMIZER_SLOT/opt/m/.ATTRIBUTES/VARIABLE_VALUE"],
            "kernel/v": values["layer/kernel/.OPTIMIZER_SLOT/opt/v/.ATTRIBUTES/VARIABLE_VALUE"],
            "counter": values["save_counter/.ATTRIBUTES/VARIABLE_VALUE"]}


def _assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for key in want:
        assert np.asarray(got[key]).dtype == np.asarray(want[key]).dtype, key
        np.testing.assert_allclose(got[key], want[key], rtol=1e-6, err_msg=key)


@pytest.mark.oracle
def test_tf_checkpoint_restores_in_graphcompat_with_deferred_objects(tmp_path):
    tf1 = oracle.tf1()
    path = _train_and_save(tf1, str(tmp_path))[-1]
    _assert_same(_restore_deferred(gtf, path), _expected(path))


@pytest.mark.oracle
def test_graphcompat_checkpoint_restores_in_tf_with_deferred_objects(tmp_path):
    tf1 = oracle.tf1()
    path = _train_and_save(gtf, str(tmp_path))[-1]
    want = _expected(path)
    assert want["counter"] == 2
    _assert_same(_restore_deferred(tf1, path), want)
    _assert_same(_restore_deferred(gtf, path), want)


@pytest.mark.oracle
def test_tf2_eager_checkpoint_restores_in_graphcompat(tmp_path):
    oracle.tf1()
    import tensorflow as tf2
    if not tf2.executing_eagerly():
        pytest.skip("eager execution was disabled in this process")
    model = {"k": tf2.Variable([[1.0, 2.0]]), "b": tf2.Variable(5, dtype=tf2.int64)}
    ck = tf2.train.Checkpoint(model=model, step=tf2.Variable(7.0), lst=[tf2.Variable("hello")])
    ck.save(str(tmp_path / "ck"))
    path = ck.save(str(tmp_path / "ck"))
    with gtf.Graph().as_default():
        k = gtf.Variable([[0.0, 0.0]], name="k")
        b = gtf.Variable(0, dtype=gtf.int64, name="b", use_resource=True)
        step, text = gtf.Variable(0.0, name="step"), gtf.Variable("", name="s")
        ck = gtf.train.Checkpoint(model={"k": k, "b": b}, step=step, lst=[text])
        status = ck.restore(gtf.train.latest_checkpoint(str(tmp_path)))
        with gtf.Session() as sess:
            status.run_restore_ops(sess)
            status.assert_consumed()
            got = sess.run([k, b, step, text, ck.save_counter])
            np.testing.assert_array_equal(got[0], [[1.0, 2.0]])
            assert got[1:] == [5, 7.0, b"hello", 2]
            assert ck.save(str(tmp_path / "ck"), session=sess) == str(tmp_path / "ck-3")
    assert path == str(tmp_path / "ck-2")
    assert ck.save_counter is not None
    reader = tf2.train.load_checkpoint(str(tmp_path / "ck-3"))
    assert reader.get_tensor("model/b/.ATTRIBUTES/VARIABLE_VALUE") == 5
    assert reader.get_tensor("save_counter/.ATTRIBUTES/VARIABLE_VALUE") == 3


@pytest.mark.oracle
def test_saver_checkpoint_restores_by_name_as_tf(tmp_path):
    """A checkpoint without an object graph is restored by variable names (TF's NameBasedSaverStatus);
    in graph mode TF's includes the new `save_counter`, which the Saver's checkpoint lacks."""
    tf1 = oracle.tf1()

    def restore(tf, with_counter: bool):
        graph = tf.Graph()
        with graph.as_default():
            v = tf.Variable([0.0, 0.0], name="v", use_resource=False)
            ck = tf.train.Checkpoint(model=v)
            status = ck.restore(str(tmp_path / ("counted" if with_counter else "saver")))
            with tf.Session(graph=graph) as sess:
                sess.run(v.initializer)
                try:
                    status.run_restore_ops(sess)
                except tf.errors.NotFoundError as exc:
                    return "NotFoundError", exc.message.split("\n\t [[")[0].split("\n\nOriginal stack")[0]
                status.assert_consumed()
                return sess.run(v).tolist()

    with gtf.Graph().as_default():
        v = gtf.Variable([3.0, 4.0], name="v")
        counter = gtf.Variable(0, dtype=gtf.int64, name="save_counter")
        with gtf.Session() as sess:
            sess.run(gtf.global_variables_initializer())
            gtf.train.Saver([v]).save(sess, str(tmp_path / "saver"))
            gtf.train.Saver([v, counter]).save(sess, str(tmp_path / "counted"))
    got = restore(gtf, False)
    want = restore(tf1, False)
    assert got[0] == want[0] == "NotFoundError"
    assert "Key save_counter not found in checkpoint" in got[1]
    assert got[1].split("Original error:")[0] == want[1].split("Original error:")[0]
    assert restore(gtf, True) == restore(tf1, True) == [3.0, 4.0]


def test_restore_ops_are_built_once_per_variable(tmp_path):
    path = _train_and_save(gtf, str(tmp_path))[0]
    graph = gtf.Graph()
    with graph.as_default():
        v = gtf.Variable([0.0, 0.0], name="v")
        ck = gtf.train.Checkpoint(model=v)
        with gtf.Session() as sess:
            ck.restore(path).expect_partial().run_restore_ops(sess)
            count = len(graph.get_operations())
            ck.restore(path).expect_partial().run_restore_ops(sess)
            assert len(graph.get_operations()) == count
            np.testing.assert_allclose(sess.run(v), _values(path)["model/.ATTRIBUTES/VARIABLE_VALUE"])


def test_failed_restore_changes_nothing(tmp_path):
    path = _train_and_save(gtf, str(tmp_path))[0]
    with gtf.Graph().as_default():
        v = gtf.Variable([5.0, 6.0], name="v")
        w = gtf.Variable(np.zeros([3, 3], np.float32), name="w")
        ck = gtf.train.Checkpoint(model=v, d={"a": w})
        status = ck.restore(path)
        with gtf.Session() as sess:
            sess.run(gtf.global_variables_initializer())
            with pytest.raises(gtf.errors.InvalidArgumentError, match="Assign requires shapes of both tensors"):
                status.run_restore_ops(sess)
            np.testing.assert_array_equal(sess.run(v), [5.0, 6.0])


# ------------------------------------------------------------------------------------------------
# CheckpointManager
# ------------------------------------------------------------------------------------------------
def _manage(tf, directory: str, saves: int, **kwargs) -> tuple:
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable([1.0, 2.0], name="v", use_resource=False)
        step = tf.Variable(0, dtype=tf.int64, name="step", use_resource=False)
        bump = tf.assign_add(step, 1)
        ck = tf.train.Checkpoint(v=v)
        if kwargs.pop("with_step", False):
            kwargs.update(step_counter=step)
        manager = tf.train.CheckpointManager(ck, directory, **kwargs)
        paths = []
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(saves):
                paths.append(manager.save())
                sess.run(bump)
        rel = lambda p: p if p is None else os.path.relpath(p, directory)  # noqa: E731
        again = tf.train.CheckpointManager(ck, directory, max_to_keep=kwargs.get("max_to_keep"))
        return ([rel(p) for p in paths], [rel(p) for p in manager.checkpoints], rel(manager.latest_checkpoint),
                sorted(os.listdir(directory)), [rel(p) for p in again.checkpoints], rel(again.latest_checkpoint))


def _state_text(directory: str) -> str:
    text = open(os.path.join(directory, "checkpoint")).read()
    return re.sub(r"(timestamps?: )[0-9.e+]+", r"\1T", text)


@pytest.mark.oracle
@pytest.mark.parametrize("kwargs", [
    dict(max_to_keep=2),
    dict(max_to_keep=None),
    dict(max_to_keep=1, keep_checkpoint_every_n_hours=1e-9),
    dict(max_to_keep=3, checkpoint_name="model", with_step=True, checkpoint_interval=2),
], ids=["max_to_keep", "keep_all", "keep_every_n_hours", "interval"])
def test_checkpoint_manager_matches_tf(tmp_path, kwargs):
    tf1 = oracle.tf1()
    got = _manage(gtf, str(tmp_path / "gc"), 5, **kwargs) + (_state_text(str(tmp_path / "gc")),)
    want = _manage(tf1, str(tmp_path / "tf"), 5, **kwargs) + (_state_text(str(tmp_path / "tf")),)
    assert got == want


@pytest.mark.oracle
def test_checkpoint_manager_numbered_by_global_step_matches_tf(tmp_path):
    tf1 = oracle.tf1()
    got = _manage_numbered(gtf, str(tmp_path / "gc"), 4, max_to_keep=2)
    want = _manage_numbered(tf1, str(tmp_path / "tf"), 4, max_to_keep=2)
    assert got == want
    assert got[0] == ["ckpt-0", "ckpt-10", "ckpt-20", "ckpt-30"] and got[2] == 4


def _manage_numbered(tf, directory: str, saves: int, **kwargs) -> tuple:
    """Checkpoints numbered by a global step variable (`checkpoint_number=step`)."""
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable([1.0, 2.0], name="v", use_resource=False)
        step = tf.train.get_or_create_global_step()
        bump = tf.assign_add(step, 10)
        ck = tf.train.Checkpoint(v=v)
        manager = tf.train.CheckpointManager(ck, directory, **kwargs)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            paths = []
            for _ in range(saves):
                paths.append(os.path.basename(manager.save(checkpoint_number=step)))
                sess.run(bump)
            counter = int(sess.run(ck.save_counter))
        return paths, [os.path.basename(p) for p in manager.checkpoints], counter, sorted(os.listdir(directory))


def test_checkpoint_manager_restore_or_initialize(tmp_path):
    called = []
    with gtf.Graph().as_default():
        v = gtf.Variable([1.0, 2.0], name="v")
        ck = gtf.train.Checkpoint(v=v)
        manager = gtf.train.CheckpointManager(ck, str(tmp_path), max_to_keep=2, init_fn=lambda: called.append(1))
        assert manager.restore_or_initialize() is None and called == [1]
        assert manager.directory == str(tmp_path) and manager.checkpoint is ck
        with gtf.Session() as sess:
            sess.run(v.initializer)
            path = manager.save()
            assert path == str(tmp_path / "ckpt-1") == manager.latest_checkpoint
    with gtf.Graph().as_default():
        v = gtf.Variable([0.0, 0.0], name="v")
        ck = gtf.train.Checkpoint(v=v)
        manager = gtf.train.CheckpointManager(ck, str(tmp_path), max_to_keep=2)
        assert manager.checkpoints == [str(tmp_path / "ckpt-1")]
        assert manager.restore_or_initialize() == str(tmp_path / "ckpt-1")


# ------------------------------------------------------------------------------------------------
# Bad input: TF's errors
# ------------------------------------------------------------------------------------------------
def _outcomes(tf, directory: str) -> list:
    """What each misuse raises (class name and text) or returns, in one list."""
    out = []

    def record(fn):
        try:
            result = fn()
            out.append(("ok", type(result).__name__))
        except Exception as exc:  # noqa: BLE001 (the point is which exception)
            text = str(exc)
            text = text[text.find("\n", text.find("Node: ")) + 1:] if "Graph execution error" in text else text
            out.append((type(exc).__name__, text.split("\n\t [[")[0].split("\n\nOriginal stack")[0]))

    graph = tf.Graph()
    with graph.as_default():
        record(lambda: tf.train.Checkpoint(x=3))
        record(lambda: tf.train.Checkpoint(x=tf.constant(1.0)))
        v = tf.Variable([1.0, 2.0], name="v", use_resource=False)
        u = tf.Variable(3.0, name="u", use_resource=False)
        ck = tf.train.Checkpoint(v=v, u=u)
        record(lambda: ck.restore(os.path.join(directory, "missing", "ck-1")))
        record(lambda: tf.train.CheckpointManager(ck, directory, max_to_keep=0))
        record(lambda: tf.train.CheckpointManager(ck, directory, max_to_keep=1, checkpoint_interval=2))
        status = ck.restore(None)
        for check in (status.assert_consumed, status.assert_existing_objects_matched, status.assert_nontrivial_match,
                      status.run_restore_ops):
            record(check)
        with tf.Session(graph=graph) as sess:
            status.initialize_or_restore(sess)
            out.append(("initialized", sess.run(u)))
            path = ck.save(os.path.join(directory, "ck"), session=sess)
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable([1.0, 2.0, 3.0], name="v", use_resource=False)
        w = tf.Variable([1.0, 2.0], name="w", use_resource=False)
        status = tf.train.Checkpoint(v=v, w=w).restore(path)
        for check in (status.assert_consumed, status.assert_existing_objects_matched, status.assert_nontrivial_match):
            record(check)
        with tf.Session(graph=graph) as sess:
            record(lambda: status.run_restore_ops(sess))
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable([1.0, 2.0], name="v", use_resource=False, dtype=tf.float64)
        status = tf.train.Checkpoint(v=v).restore(path)
        record(status.assert_consumed)
        record(status.assert_existing_objects_matched)
        with tf.Session(graph=graph) as sess:
            record(lambda: status.run_restore_ops(sess))
    graph = tf.Graph()
    with graph.as_default():
        status = tf.train.Checkpoint(z=tf.Variable(1.0, name="z", use_resource=False)).restore(path)
        record(status.assert_nontrivial_match)
        record(status.assert_existing_objects_matched)
        record(tf.train.Checkpoint().restore(path).assert_nontrivial_match)
    return out


@pytest.mark.oracle
def test_bad_input_raises_tfs_errors(tmp_path):
    tf1 = oracle.tf1()
    got = _outcomes(gtf, str(tmp_path / "gc"))
    want = _outcomes(tf1, str(tmp_path / "tf"))
    got = [tuple(str(x).replace(str(tmp_path / "gc"), "D") for x in g) for g in got]
    want = [tuple(str(x).replace(str(tmp_path / "tf"), "D") for x in w) for w in want]
    assert got == want


def test_bad_input_without_tf(tmp_path):
    with gtf.Graph().as_default():
        with pytest.raises(ValueError, match="`Checkpoint` was expecting a trackable object .* got 3"):
            gtf.train.Checkpoint(x=3)
        ck = gtf.train.Checkpoint(v=gtf.Variable(1.0))
        with pytest.raises(gtf.errors.NotFoundError, match="Failed to find any matching files for"):
            ck.restore(str(tmp_path / "missing"))
        with pytest.raises(RuntimeError, match="without a default session"):
            ck.save(str(tmp_path / "ck"))
        with pytest.raises(AssertionError):
            gtf.train.CheckpointOptions(experimental_write_callbacks=[lambda a, b: None])


def test_session_of_another_graph(tmp_path):
    """save/restore outside `graph.as_default()`: ops go to the session's / the variables' graph."""
    graph = gtf.Graph()
    with graph.as_default():
        v = gtf.Variable([1.0], name="v")
        ck = gtf.train.Checkpoint(v=v)
    with gtf.Session(graph=graph) as sess:
        sess.run(v.initializer)
    sess = gtf.Session(graph=graph)
    sess.run(v.initializer)
    path = ck.save(str(tmp_path / "ck"), session=sess)
    status = ck.restore(path)
    assert ck.save_counter.graph is graph
    status.run_restore_ops(sess)
    status.assert_consumed()
    assert sess.run(ck.save_counter) == 1
    sess.close()


@pytest.mark.oracle
def test_containers_match_tf(tmp_path):
    """Tuples, nested lists/dicts and a dict with a non-string key to a variable (TF refuses to save it)."""
    tf1 = oracle.tf1()

    def run(tf, directory):
        graph = tf.Graph()
        with graph.as_default():
            a = tf.Variable(1.0, name="a", use_resource=False)
            b = tf.Variable([2.0], name="b", use_resource=False)
            ck = tf.train.Checkpoint(t=(a, [b, {"k": a}]), n={"x": [b]})
            out = [type(ck.t).__name__ != "tuple" or isinstance(ck.t, tuple)]
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                path = ck.save(os.path.join(directory, "ck"), session=sess)
                out.append(tf.train.list_variables(path))
                out.append(_object_graph(tf, path))
                ck.bad = {1: a}
                try:
                    ck.save(os.path.join(directory, "ck"), session=sess)
                except ValueError as exc:
                    out.append(str(exc).replace("_DictWrapper", "DictWrapper"))
        return out

    got, want = run(gtf, str(tmp_path / "gc")), run(tf1, str(tmp_path / "tf"))
    assert got[:3] == want[:3]
    assert got[3].split(" (a dictionary")[1] == want[3].split(" (a dictionary")[1]
    assert got[3].startswith("Unable to save the object DictWrapper({1: <tf.Variable 'a:0'")


@pytest.mark.oracle
def test_layers_and_rnn_cells_track_as_tf(tmp_path):
    """tf.layers (BatchNormalization's non-trainable weights, Conv2D) and RNN cells: MultiRNNCell's
    `cell-<i>`, wrappers' `cell`, GRUCell's `gates/kernel` (escaped `gates.Skernel`)."""
    tf1 = oracle.tf1()

    def run(tf, directory):
        graph = tf.Graph()
        with graph.as_default():
            x = tf.placeholder(tf.float32, [2, 5, 4])
            rnn = tf.nn.rnn_cell
            cell = rnn.MultiRNNCell([rnn.DropoutWrapper(rnn.LSTMCell(4), output_keep_prob=0.5), rnn.GRUCell(4),
                                     rnn.ResidualWrapper(rnn.BasicRNNCell(4))])
            out, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
            bn = tf.layers.BatchNormalization(name="bn")
            bn(out, training=True)
            conv = tf.layers.Conv2D(2, 3, name="conv")
            conv(tf.zeros([1, 5, 5, 1]))
            ck = tf.train.Checkpoint(cell=cell, bn=bn, conv=conv)
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                path = ck.save(os.path.join(directory, "ck"), session=sess)
        return tf.train.list_variables(path), _object_graph(tf, path)

    got, want = run(gtf, str(tmp_path / "gc")), run(tf1, str(tmp_path / "tf"))
    assert got[0] == want[0] and got[1] == want[1]
    assert ("cell/cell-1/gates.Skernel/.ATTRIBUTES/VARIABLE_VALUE", [8, 8]) in got[0]


def test_containers_filled_after_restore_and_string_variables(tmp_path):
    """Elements added to a tracked list/dict after restore() are restored (TF's restore-on-create), and a
    string variable's host value does not stop the compiled save_counter update."""
    with gtf.Graph().as_default():
        a, b = gtf.Variable([1.0], name="a"), gtf.Variable("text", name="b")
        ck = gtf.train.Checkpoint(lst=[a], d={"b": b})
        with gtf.Session() as sess:
            sess.run(gtf.global_variables_initializer())
            for _ in range(3):  # the second and third runs are compiled
                path = ck.save(str(tmp_path / "ck"), session=sess)
    with gtf.Graph().as_default():
        ck = gtf.train.Checkpoint(lst=[], d={})
        status = ck.restore(path)
        a, b = gtf.Variable([0.0], name="a"), gtf.Variable("", name="b")
        ck.lst.append(a)
        ck.d["b"] = b
        assert type(ck.lst).__name__ == "ListWrapper" and repr(ck.d).startswith("DictWrapper(")
        with gtf.Session() as sess:
            status.run_restore_ops(sess)
            status.assert_consumed()
            assert sess.run([a, b, ck.save_counter])[1:] == [b"text", 3]
            assert ck.save(str(tmp_path / "ck"), session=sess) == str(tmp_path / "ck-4")


@pytest.mark.oracle
def test_save_and_restore_graph_match_tf(tmp_path):
    """The ops save() and restore() add: names, types, inputs, control inputs and devices as TF 2's
    graph-mode Checkpoint records them (ref and resource variables, the save counter)."""
    tf1 = oracle.tf1()

    def record(tf, directory):
        graph = tf.Graph()
        with graph.as_default():
            v = tf.Variable([1.0, 2.0], name="v", use_resource=False)
            r = tf.Variable([1.0], name="r", use_resource=True)
            ck = tf.train.Checkpoint(v=v, r=r)
            start = len(graph.get_operations())
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                ck.restore(ck.save(os.path.join(directory, "ck"), session=sess))
            return [(op.name, op.type, [t.name for t in op.inputs], [c.name for c in op.control_inputs],
                     "" if op.name == "save_counter/Initializer/initial_value" else op.device)
                    for op in graph.get_operations()[start:]]

    got, want = record(gtf, str(tmp_path / "gc")), record(tf1, str(tmp_path / "tf"))
    assert got == want
