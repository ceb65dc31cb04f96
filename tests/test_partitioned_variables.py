"""Partitioned variables (get_variable with a partitioner, PartitionedVariable, sliced checkpoints),
checked against TensorFlow 1.x (tests/oracle.py)."""
import os

import numpy as np
import pytest

import graphcompat as gc
from tests import oracle

pytestmark = pytest.mark.oracle

FULL = np.arange(30, dtype=np.float32).reshape(10, 3) / 10


def _graph(lib, build):
    """Runs `build(lib)` in a fresh graph (its result is returned with the graph)."""
    graph = lib.Graph()
    with graph.as_default():
        return build(lib), graph


def _session_values(lib, build, steps=None):
    graph = lib.Graph()
    with graph.as_default():
        fetches = build(lib)
        with lib.Session(graph=graph) as sess:
            sess.run(lib.global_variables_initializer())
            return sess.run(fetches)


def _error(lib, build):
    graph = lib.Graph()
    with graph.as_default():
        with pytest.raises(Exception) as info:
            build(lib)
    # graphcompat prints unknown dims as TF1 does ("?"); the oracle's TF 2 compat.v1 prints "None"
    # and ref variables' dtype as TF1 does ("float32_ref")
    return type(info.value).__name__, str(info.value).replace("None", "?").replace("_ref>", ">")


# --- partitioners ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,dtype", [([7, 3], "float32"), ([1000, 64], "float32"), ([3, 50000], "float64"),
                                         ([40, 20], "string"), ([5], "int32")])
def test_partitioners_return_tf_partitions(shape, dtype):
    v1 = oracle.tf1()
    makers = [lambda t: t.fixed_size_partitioner(3), lambda t: t.fixed_size_partitioner(100, axis=len(shape) - 1),
              lambda t: t.variable_axis_size_partitioner(1000), lambda t: t.variable_axis_size_partitioner(
                  4096, axis=len(shape) - 1, max_shards=4), lambda t: t.min_max_variable_partitioner(8),
              lambda t: t.min_max_variable_partitioner(3, min_slice_size=64)]
    for make in makers:
        got = make(gc)(shape=gc.TensorShape(shape), dtype=gc.as_dtype(dtype))
        want = make(v1)(shape=v1.TensorShape(shape), dtype=v1.as_dtype(dtype))
        assert got == want


@pytest.mark.parametrize("call", [lambda t: t.variable_axis_size_partitioner(0),
                                  lambda t: t.variable_axis_size_partitioner(10, bytes_per_string_element=0),
                                  lambda t: t.variable_axis_size_partitioner(10, max_shards=-1),
                                  lambda t: t.variable_axis_size_partitioner(10)(shape=t.TensorShape([None, 2]),
                                                                                 dtype=t.float32),
                                  lambda t: t.min_max_variable_partitioner(2, axis=2)(shape=t.TensorShape([4, 2]),
                                                                                      dtype=t.float32)])
def test_partitioner_errors_as_tf(call):
    v1 = oracle.tf1()
    assert _error(gc, call) == _error(v1, call)


# --- creation: names, shapes, slices, collections, graph --------------------------------------------
def _describe(lib, build):
    def run(t):
        pv = build(t)
        parts = list(pv)
        return dict(
            type=type(pv).__name__, name=pv.name, shape=pv.get_shape().as_list(), dtype=pv.dtype.name,
            partitions=list(pv._get_partitions()), len=len(pv),
            parts=[(p.name, p.shape.as_list(), p._save_slice_info.full_name, list(p._save_slice_info.full_shape),
                    list(p._save_slice_info.var_offset), list(p._save_slice_info.var_shape),
                    p._save_slice_info.spec) for p in parts],
            listed=[p.name for p in pv._get_variable_list()],
            globals=[v.name for v in t.global_variables()], trainables=[v.name for v in t.trainable_variables()],
            locals=[v.name for v in t.local_variables()],
            tensor=t.convert_to_tensor(pv).name)
    return _graph(lib, run)[0]


CREATIONS = {
    "fixed": lambda t: t.get_variable("emb", [7, 3], partitioner=t.fixed_size_partitioner(3)),
    "axis1": lambda t: t.get_variable("w", [4, 10], partitioner=t.fixed_size_partitioner(4, axis=1)),
    "more_shards_than_rows": lambda t: t.get_variable("e", [2, 5], partitioner=t.fixed_size_partitioner(5)),
    "one_part": lambda t: t.get_variable("one", [6, 2], partitioner=t.fixed_size_partitioner(1)),
    "min_max": lambda t: t.get_variable("mm", [300, 4], partitioner=t.min_max_variable_partitioner(
        5, min_slice_size=1024)),
    "axis_size": lambda t: t.get_variable("ax", [100, 8], dtype=t.float64,
                                          partitioner=t.variable_axis_size_partitioner(1000)),
    "scope": lambda t: _in_scope(t, lambda: t.get_variable("v", [9, 2])),
    "non_trainable": lambda t: t.get_variable("nt", [5, 2], trainable=False,
                                              partitioner=t.fixed_size_partitioner(2)),
    "local": lambda t: t.get_variable("lv", [5, 2], collections=[t.GraphKeys.LOCAL_VARIABLES],
                                      partitioner=t.fixed_size_partitioner(2)),
    "tensor_init": lambda t: t.get_variable("ti", initializer=t.constant(FULL),
                                            partitioner=t.fixed_size_partitioner(4)),
    "int": lambda t: t.get_variable("iv", [6], dtype=t.int64, partitioner=t.fixed_size_partitioner(4)),
}


def _in_scope(t, fn):
    with t.variable_scope("outer", partitioner=t.fixed_size_partitioner(2)):
        with t.variable_scope("inner"):
            return fn()


@pytest.mark.parametrize("resource", [False, True])
@pytest.mark.parametrize("case", sorted(CREATIONS))
def test_names_shapes_slices_and_collections_match_tf(case, resource):
    v1 = oracle.tf1()

    def build(t):
        with t.variable_scope("", use_resource=resource):
            return CREATIONS[case](t)
    assert _describe(gc, build) == _describe(v1, build)


@pytest.mark.parametrize("resource", [False, True])
def test_graph_matches_tf_op_for_op(resource):
    v1 = oracle.tf1()

    def build(t):
        with t.variable_scope("s", use_resource=resource):
            pv = t.get_variable("emb", [7, 3], partitioner=t.fixed_size_partitioner(3),
                                initializer=t.constant_initializer(0.5))
        x = t.placeholder(t.float32, [None, 7])
        t.matmul(x, pv)
        pv.as_tensor()
        if not resource:  # (the resource Saver graph is graphcompat's own, see test_saver.py)
            t.train.Saver()
    assert oracle.op_names(gc, build) == oracle.op_names(v1, build)


def test_create_partitioned_variables_and_variable_def_slice_info():
    v1 = oracle.tf1()

    def build(t):
        parts = t.create_partitioned_variables([5, 4], [1, 2], t.constant_initializer(1.5), name="cpv")
        return [(p.name, p.shape.as_list(), p._save_slice_info.spec,
                 p.to_proto().save_slice_info_def.SerializeToString()) for p in parts]
    assert _graph(gc, build)[0] == _graph(v1, build)[0]


# --- initial values ---------------------------------------------------------------------------------
INITIALIZERS = {
    "constant": lambda t: t.constant_initializer(2.5),
    "ones": lambda t: t.ones_initializer(),
    "zeros": lambda t: t.zeros_initializer(),
    "identity": lambda t: t.initializers.identity(gain=2.0),
    "partition_info": lambda t: (lambda shape, dtype=None, partition_info=None: t.fill(
        shape, float(partition_info.var_offset[0] * 100 + partition_info.full_shape[0]))),
}


@pytest.mark.parametrize("resource", [False, True])
@pytest.mark.parametrize("init", sorted(INITIALIZERS))
def test_initial_values_match_tf(init, resource):
    v1 = oracle.tf1()

    def build(t):
        pv = t.get_variable("v", [7, 7], initializer=INITIALIZERS[init](t), use_resource=resource,
                            partitioner=t.fixed_size_partitioner(3))
        return [t.convert_to_tensor(pv)] + list(pv)
    got, want = _session_values(gc, build), _session_values(v1, build)
    oracle.assert_same_values(got, want, 0, 0, init)


def test_tensor_and_array_initializers_are_sliced_as_tf():
    v1 = oracle.tf1()

    def build(t):
        a = t.get_variable("a", initializer=t.constant(FULL), partitioner=t.fixed_size_partitioner(3))
        b = t.get_variable("b", initializer=t.constant(FULL.T), partitioner=t.fixed_size_partitioner(2, axis=1))
        return [t.convert_to_tensor(a), t.convert_to_tensor(b)] + list(a) + list(b)
    oracle.assert_same_values(_session_values(gc, build), _session_values(v1, build), 0, 0, "sliced")


def test_glorot_scale_comes_from_the_full_shape():
    """TF draws each part separately (its random bits are not reproduced) with the full shape's limit."""
    v1 = oracle.tf1()

    def build(t):
        pv = t.get_variable("g", [400, 4], partitioner=t.fixed_size_partitioner(4),
                            initializer=t.glorot_uniform_initializer(seed=3))
        return t.convert_to_tensor(pv)
    limit = np.sqrt(6.0 / 404)  # a part alone ([100, 4]) would allow sqrt(6 / 104)
    for lib in (gc, v1):
        value = _session_values(lib, build)
        assert value.shape == (400, 4)
        assert np.abs(value).max() <= limit + 1e-6 and np.abs(value).max() > 0.9 * limit


# --- using them -------------------------------------------------------------------------------------
@pytest.mark.parametrize("resource", [False, True])
def test_matmul_assign_and_concat_match_tf(resource):
    v1 = oracle.tf1()

    def build(t):
        pv = t.get_variable("w", initializer=t.constant(FULL[:, :3].T.copy()), use_resource=resource,
                            partitioner=t.fixed_size_partitioner(2, axis=1))
        x = t.constant(np.ones((2, 3), np.float32))
        y = t.matmul(x, pv)
        with t.control_dependencies(pv.assign_add(np.full((3, 10), 1.0, np.float32))):
            z = pv._concat()
        return [y, z]

    def run(t):
        graph = t.Graph()
        with graph.as_default():
            y, z = build(t)
            with t.Session(graph=graph) as sess:
                sess.run(t.global_variables_initializer())
                return [sess.run(y), sess.run(z), sess.run(y)]
    oracle.assert_same_values(run(gc), run(v1), 1e-6, 1e-6, "use")


OPTIMIZERS = {"sgd": lambda t: t.train.GradientDescentOptimizer(0.1),
              "adagrad": lambda t: t.train.AdagradOptimizer(0.5),
              "adam": lambda t: t.train.AdamOptimizer(0.1)}


@pytest.mark.parametrize("resource", [False, True])
@pytest.mark.parametrize("strategy", ["mod", "div"])
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_embedding_lookup_training_matches_tf(opt, strategy, resource):
    v1 = oracle.tf1()
    batches = ([0, 3, 4], [5, 7, 7], [1, 1, 8, 9])

    def run(t):
        graph = t.Graph()
        with graph.as_default():
            ids = t.placeholder(t.int32, [None])
            pv = t.get_variable("emb", initializer=t.constant(FULL), use_resource=resource,
                                partitioner=t.fixed_size_partitioner(3))
            w = t.get_variable("w", initializer=t.constant(np.array([[1.0], [-1.0], [0.5]], np.float32)))
            e = t.nn.embedding_lookup(pv, ids, partition_strategy=strategy)
            loss = t.reduce_sum(t.square(t.matmul(e, w) - 1.0))
            optimizer = OPTIMIZERS[opt](t)
            grads = optimizer.compute_gradients(loss)
            kinds = [type(g).__name__.replace("SymbolicTensor", "Tensor") for g, _ in grads]
            train = optimizer.apply_gradients(grads)
            with t.Session(graph=graph) as sess:
                sess.run(t.global_variables_initializer())
                losses = [sess.run([train, loss], {ids: b})[1] for b in batches]
                return kinds, [v.name for _, v in grads], losses, sess.run(list(pv) + [w])
    got, want = run(gc), run(v1)
    assert got[:2] == want[:2]
    np.testing.assert_allclose(got[2], want[2], rtol=1e-5)
    oracle.assert_same_values(got[3], want[3], 1e-5, 1e-6, opt)


def test_sparse_optimizers_that_would_differ_refuse_partitioned_lookups():
    graph = gc.Graph()
    with graph.as_default():
        pv = gc.get_variable("emb", initializer=gc.constant(FULL), partitioner=gc.fixed_size_partitioner(3))
        loss = gc.reduce_sum(gc.nn.embedding_lookup(pv, [1, 2]))
        with pytest.raises(NotImplementedError, match="MomentumOptimizer on the gradient of tf.nn.embedding_lookup"):
            gc.train.MomentumOptimizer(0.1, 0.9).minimize(loss)


# --- checkpoints ------------------------------------------------------------------------------------
def _save(t, path, nparts, resource, value=FULL, var_list=None):
    graph = t.Graph()
    with graph.as_default():
        part = t.fixed_size_partitioner(nparts) if nparts else None
        pv = t.get_variable("emb", initializer=t.constant(value), partitioner=part, use_resource=resource)
        t.get_variable("w", initializer=t.constant([1.0, 2.0]))
        saver = t.train.Saver(var_list(pv) if var_list else None)
        with t.Session(graph=graph) as sess:
            sess.run(t.global_variables_initializer())
            return saver.save(sess, path)


def _restore(t, path, nparts, resource, var_list=None):
    graph = t.Graph()
    with graph.as_default():
        part = t.fixed_size_partitioner(nparts) if nparts else None
        pv = t.get_variable("emb", initializer=t.constant(FULL * 0), partitioner=part, use_resource=resource)
        w = t.get_variable("w", initializer=t.constant([0.0, 0.0]))
        saver = t.train.Saver(var_list(pv) if var_list else None)
        with t.Session(graph=graph) as sess:
            sess.run(t.global_variables_initializer())
            saver.restore(sess, path)
            return sess.run([t.convert_to_tensor(pv), w])


@pytest.mark.parametrize("resource", [False, True])
def test_checkpoints_are_tf_bytes_and_restore_both_ways(tmp_path, resource):
    v1 = oracle.tf1()
    ours, theirs = _save(gc, str(tmp_path / "gc"), 3, resource), _save(v1, str(tmp_path / "tf"), 3, resource)
    for suffix in (".index", ".data-00000-of-00001"):
        assert open(ours + suffix, "rb").read() == open(theirs + suffix, "rb").read()
    assert gc.train.list_variables(ours) == v1.train.list_variables(theirs) == [("emb", [10, 3]), ("w", [2])]
    np.testing.assert_array_equal(gc.train.load_variable(theirs, "emb"), FULL)
    reader = gc.train.NewCheckpointReader(theirs)
    assert reader.get_variable_to_shape_map() == v1.train.NewCheckpointReader(theirs).get_variable_to_shape_map()
    assert reader.has_tensor("emb") and not reader.has_tensor("emb/part_0")
    for nparts in (3, 4, 0):  # the same, another and no partitioning: TF restores each
        for lib, path in ((gc, theirs), (v1, ours)):
            emb, w = _restore(lib, path, nparts, resource)
            np.testing.assert_array_equal(emb, FULL)
            np.testing.assert_array_equal(w, [1.0, 2.0])


def test_unpartitioned_checkpoint_restores_into_parts(tmp_path):
    v1 = oracle.tf1()
    path = _save(v1, str(tmp_path / "flat"), 0, False)
    emb, _ = _restore(gc, path, 4, False)
    np.testing.assert_array_equal(emb, FULL)


@pytest.mark.parametrize("var_list", [lambda pv: [pv], lambda pv: {"renamed": pv}, lambda pv: [list(pv)],
                                      lambda pv: list(pv)])
def test_saver_var_lists_with_partitioned_variables(tmp_path, var_list):
    v1 = oracle.tf1()
    ours = _save(gc, str(tmp_path / "gc"), 3, False, var_list=var_list)
    theirs = _save(v1, str(tmp_path / "tf"), 3, False, var_list=var_list)
    assert gc.train.list_variables(ours) == v1.train.list_variables(theirs)
    for suffix in (".index", ".data-00000-of-00001"):
        assert open(ours + suffix, "rb").read() == open(theirs + suffix, "rb").read()


@pytest.mark.parametrize("var_list", [lambda pv, w: {"emb": list(pv) + [w]},
                                      lambda pv, w: {"a": pv, "b": list(pv)},
                                      lambda pv, w: {"emb": [list(pv)[0], w]}])
def test_saver_slice_errors_as_tf(var_list):
    v1 = oracle.tf1()

    def build(t):
        pv = t.get_variable("emb", [10, 3], partitioner=t.fixed_size_partitioner(3))
        w = t.get_variable("w", [2])
        t.train.Saver(var_list(pv, w))
    assert _error(gc, build) == _error(v1, build)


def test_restore_into_a_different_full_shape_fails_as_tf(tmp_path):
    v1 = oracle.tf1()
    path = _save(v1, str(tmp_path / "tf"), 3, False)

    def attempt(t):
        graph = t.Graph()
        with graph.as_default():
            t.get_variable("emb", [12, 3], partitioner=t.fixed_size_partitioner(3))
            t.get_variable("w", [2])
            saver = t.train.Saver()
            with t.Session(graph=graph) as sess:
                with pytest.raises(Exception) as info:
                    saver.restore(sess, path)
        return type(info.value).__name__, str(info.value)
    got, want = attempt(gc), attempt(v1)
    assert got[0] == want[0] == "InvalidArgumentError"
    text = "tensor_name = emb; shape in shape_and_slice spec [12,3] does not match the shape stored in checkpoint: [10,3]"
    assert text in want[1] and text in got[1]


@pytest.mark.parametrize("mapping", [lambda t, pv: {"emb": "new/emb"}, lambda t, pv: {"/": "new/"},
                                     lambda t, pv: {"emb": list(pv)}])
def test_init_from_checkpoint_into_partitioned_variables(tmp_path, mapping):
    v1 = oracle.tf1()
    path = _save(v1, str(tmp_path / "tf"), 3, False)

    def run(t):
        graph = t.Graph()
        with graph.as_default():
            with t.variable_scope("new"):
                pv = t.get_variable("emb", [10, 3], partitioner=t.fixed_size_partitioner(4))
                t.get_variable("w", [2])
            t.train.init_from_checkpoint(path, mapping(t, pv))
            with t.Session(graph=graph) as sess:
                sess.run(t.global_variables_initializer())
                return sess.run(t.convert_to_tensor(pv))
    np.testing.assert_array_equal(run(gc), run(v1))
    np.testing.assert_array_equal(run(gc), FULL)


def test_meta_graph_keeps_slice_info_for_the_saver(tmp_path):
    prefix = _save(gc, str(tmp_path / "m"), 3, False)
    graph = gc.Graph()
    with graph.as_default():
        saver = gc.train.import_meta_graph(prefix + ".meta")
        parts = [v for v in gc.global_variables() if v.name.startswith("emb/")]
        assert [p._save_slice_info.spec for p in parts] == ["10 3 0,4:0,3", "10 3 4,3:0,3", "10 3 7,3:0,3"]
        with gc.Session(graph=graph) as sess:
            saver.restore(sess, prefix)
            np.testing.assert_array_equal(np.concatenate(sess.run(parts)), FULL)


# --- reuse and errors -------------------------------------------------------------------------------
def test_reuse_returns_the_same_partitioned_variable():
    for t in (gc, oracle.tf1()):
        graph = t.Graph()
        with graph.as_default():
            with t.variable_scope("s", partitioner=t.fixed_size_partitioner(2)):
                a = t.get_variable("v", [6, 2])
            with t.variable_scope("s", reuse=True):
                b = t.get_variable("v")
            with t.variable_scope("s", reuse=t.AUTO_REUSE, partitioner=t.fixed_size_partitioner(2)):
                c = t.get_variable("v", [6, 2])
            assert a is b is c
            assert len(t.global_variables()) == 2


def _in(t, *steps):
    for reuse, kwargs in steps:
        with t.variable_scope("s", reuse=reuse):
            t.get_variable("v", **kwargs)


ERRORS = {
    "exists": lambda t: _in(t, (None, dict(shape=[6, 2], partitioner=t.fixed_size_partitioner(2))),
                            (None, dict(shape=[6, 2], partitioner=t.fixed_size_partitioner(2)))),
    "shape_mismatch": lambda t: _in(t, (None, dict(shape=[6, 2], partitioner=t.fixed_size_partitioner(2))),
                                    (True, dict(shape=[7, 2], partitioner=t.fixed_size_partitioner(2)))),
    "dtype_mismatch": lambda t: _in(t, (None, dict(shape=[6, 2], partitioner=t.fixed_size_partitioner(2))),
                                    (True, dict(shape=[6, 2], dtype=t.float64))),
    "partitions_mismatch": lambda t: _in(t, (None, dict(shape=[6, 2], partitioner=t.fixed_size_partitioner(2))),
                                         (True, dict(shape=[6, 2], partitioner=t.fixed_size_partitioner(3)))),
    "missing_reuse": lambda t: _in(t, (True, dict(shape=[6, 2], partitioner=t.fixed_size_partitioner(2)))),
    "unpartitioned_exists": lambda t: _in(t, (None, dict(shape=[6, 2])),
                                          (t.AUTO_REUSE, dict(shape=[6, 2], partitioner=t.fixed_size_partitioner(2)))),
    "partitioned_exists": lambda t: _in(t, (None, dict(shape=[6, 2], partitioner=t.fixed_size_partitioner(2))),
                                        (t.AUTO_REUSE, dict(shape=[6, 2]))),
    "unknown_shape": lambda t: t.get_variable("u", partitioner=t.fixed_size_partitioner(2),
                                              initializer=t.zeros_initializer()),
    "not_callable": lambda t: t.get_variable("nc", [4], partitioner=3),
    "two_axes": lambda t: t.get_variable("ta", [4, 4], partitioner=lambda shape, dtype: [2, 2]),
    "wrong_rank": lambda t: t.get_variable("wr", [4, 4], partitioner=lambda shape, dtype: [2]),
    "zero": lambda t: t.get_variable("z", [4, 4], partitioner=lambda shape, dtype: [0, 1]),
    "not_sequence": lambda t: t.get_variable("ns", [4, 4], partitioner=lambda shape, dtype: 2),
    "assign_list": lambda t: t.assign(t.get_variable("r", [4], partitioner=t.fixed_size_partitioner(2)), [1.0] * 4),
    "as_ref": lambda t: t.get_variable("r", [4], partitioner=t.fixed_size_partitioner(2))._TensorConversionFunction(
        t.get_variable("r", [4], partitioner=t.fixed_size_partitioner(2), reuse=True), as_ref=True),
    "create_rank0": lambda t: t.create_partitioned_variables([], [], t.zeros_initializer()),
    "create_lengths": lambda t: t.create_partitioned_variables([4, 2], [2], t.zeros_initializer()),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_match_tf(case):
    v1 = oracle.tf1()
    got, want = _error(gc, ERRORS[case]), _error(v1, ERRORS[case])
    assert got[0] == want[0], (got, want)
    assert got[1].split("Originally defined at")[0] == want[1].split("Originally defined at")[0], (got, want)


def test_scalar_with_partitioner_is_a_plain_variable():
    for t in (gc, oracle.tf1()):
        graph = t.Graph()
        with graph.as_default():
            v = t.get_variable("s", [], partitioner=t.fixed_size_partitioner(2))
            assert v.name == "s:0" and v._save_slice_info is None


def test_exported_names():
    v1 = oracle.tf1()
    for name in ("fixed_size_partitioner", "variable_axis_size_partitioner", "min_max_variable_partitioner",
                 "create_partitioned_variables"):
        assert callable(getattr(gc, name)) and callable(getattr(v1, name))
        assert getattr(gc.compat.v1, name) is getattr(gc, name)
    assert os.path.basename(__file__).startswith("test_")
