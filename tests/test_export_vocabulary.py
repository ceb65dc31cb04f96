"""Graphs graphcompat writes use TF's op vocabulary: learning-rate schedules are TF's math ops with TF's
node names, sparse gradient deduplication is TF's Unique + UnsortedSegmentSum (oracle)."""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat
import graphcompat as tf
from tests import oracle

pytestmark = pytest.mark.oracle

SCHEDULES = {
    "exponential": lambda t, s: t.train.exponential_decay(0.1, s, 100, 0.96),
    "exponential_staircase": lambda t, s: t.train.exponential_decay(0.1, s, 100, 0.96, staircase=True),
    "inverse_time": lambda t, s: t.train.inverse_time_decay(0.1, s, 100, 0.5, staircase=True),
    "natural_exp": lambda t, s: t.train.natural_exp_decay(0.1, s, 100, 0.5),
    "polynomial": lambda t, s: t.train.polynomial_decay(0.1, s, 100, 0.01, power=0.5),
    "polynomial_cycle": lambda t, s: t.train.polynomial_decay(0.1, s, 100, 0.01, power=0.5, cycle=True),
    "cosine": lambda t, s: t.train.cosine_decay(0.1, s, 100, alpha=0.1),
    "named": lambda t, s: t.train.exponential_decay(0.5, s, 10.0, 0.5, name="my_lr"),
}


def _record(t, schedule, step_value):
    g = t.Graph()
    with g.as_default():
        step = t.placeholder(t.int64, [], name="step")
        n0 = len(g.get_operations())
        lr = schedule(t, step)
        ops = [(op.name, op.type) for op in g.get_operations()[n0:]]
        with t.Session(graph=g) as sess:
            value = sess.run(lr, {step: step_value})
    return ops, lr.name, value


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_records_tf_nodes(name):
    v1 = oracle.tf1()
    for step_value in (0, 250):
        got = _record(tf, SCHEDULES[name], step_value)
        want = _record(v1, SCHEDULES[name], step_value)
        assert got[0] == want[0]
        assert got[1] == want[1]
        np.testing.assert_allclose(got[2], want[2], rtol=1e-6)


def test_piecewise_constant_values_and_no_invented_ops():
    v1 = oracle.tf1()

    def build(t, s):
        return t.train.piecewise_constant(s, [10, 20], [1.0, 0.5, 0.1])
    for step_value in (0, 10, 11, 20, 21):
        ops, _, value = _record(tf, build, step_value)
        assert value == _record(v1, build, step_value)[2]
    from graphcompat.framework.registry import OP_DEFS
    assert "LearningRateDecay" not in OP_DEFS


def _sparse_adam(t):
    emb = t.Variable(np.arange(24, dtype=np.float32).reshape(6, 4) / 10.0, name="emb")
    ids = t.constant(np.array([1, 3, 1, 5, 3, 1], np.int32), name="ids")
    rows = t.gather(emb, ids)
    loss = t.reduce_sum(t.square(rows - 1.0))
    train = t.train.AdamOptimizer(0.1).minimize(loss)
    return emb, train


def test_sparse_deduplication_is_tf_unique_and_segment_sum():
    v1 = oracle.tf1()
    kinds = {"Unique", "Shape", "StridedSlice", "UnsortedSegmentSum"}
    recorded, values = [], []
    for t in (tf, v1):
        g = t.Graph()
        with g.as_default():
            if t is v1:
                v1.disable_resource_variables()
            try:
                emb, train = _sparse_adam(t)
            finally:
                if t is v1:
                    v1.enable_resource_variables()
            recorded.append(sorted((op.name, op.type) for op in g.get_operations()
                                   if op.type in kinds and "update_emb" in op.name))
            with t.Session(graph=g) as sess:
                sess.run(t.global_variables_initializer())
                for _ in range(3):
                    sess.run(train)
                values.append(sess.run(emb))
    assert recorded[0] == recorded[1] and recorded[0]
    np.testing.assert_allclose(values[0], values[1], rtol=1e-5)


def test_deduplication_compiles_and_plain_unique_stays_exact():
    """The dedup pattern's Unique compiles (padded, zero rows added to nothing); a fetched tf.unique runs
    on the host with TF's first-occurrence order."""
    from lowering.registry import get_rule, runs_on_host
    g = tf.Graph()
    with g.as_default():
        emb, train = _sparse_adam(tf)
        (dedup,) = [op for op in g.get_operations() if op.type == "Unique"]
        assert not runs_on_host(get_rule("Unique"), dedup)
        y, idx = tf.unique(tf.constant([4, 2, 4, 7]))
        assert runs_on_host(get_rule("Unique"), y.op)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train)
            got = sess.run(emb)
            assert [v.tolist() for v in sess.run([y, idx])] == [[4, 2, 7], [0, 1, 0, 2]]
    with tf.Graph().as_default():
        emb, train = _sparse_adam(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)  # first run op by op (exact Unique), then compiled
            before = graphcompat.stats()["compiled_runs"]
            sess.run(train)
            sess.run(train)
            assert graphcompat.stats()["compiled_runs"] == before + 2
            np.testing.assert_allclose(sess.run(emb), got, rtol=1e-6)


def test_tf_print_records_string_format_and_print_v2(capfd):
    import sys
    v1 = oracle.tf1()
    recorded = []
    for t in (tf, v1):
        with t.Graph().as_default() as g:
            x = t.constant(np.arange(8.0, dtype=np.float32), name="x")
            t.print("x:", x, {"k": 1}, [x, "s"], output_stream=sys.stdout, name="show")
            recorded.append([(op.name, op.type, _text(op.get_attr("template")) if op.type == "StringFormat"
                              else None) for op in g.get_operations()])
    assert recorded[0] == recorded[1]


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else v


def test_tf_print_in_a_compiled_step(capfd):
    import sys
    x = tf.placeholder(tf.float32, [None])
    v = tf.Variable(1.0)
    p = tf.print("x:", x, v, output_stream=sys.stdout)
    with tf.control_dependencies([p]):
        step = tf.assign_add(v, tf.reduce_sum(x))
    assert not [k for op in tf.get_default_graph().get_operations() for k in op.attrs if k.startswith("_graphcompat")]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = graphcompat.stats()["compiled_runs"]
        for i in range(3):
            sess.run(step, {x: np.arange(3.0) + i})
        assert graphcompat.stats()["compiled_runs"] == before + 2  # first run op by op, then compiled
    assert capfd.readouterr().out == "x: [0 1 2] 1\nx: [1 2 3] 4\nx: [2 3 4] 10\n"


def _run_in_tf(graph, fetches, init=None):
    """Imports `graph` (a graphcompat graph) into real TF through its serialized GraphDef and runs
    `fetches` (tensor names) there, after the op(s) named in `init`, one run each."""
    v1 = oracle.tf1()
    data = graph.as_graph_def().SerializeToString()
    tg = v1.Graph()
    with tg.as_default():
        v1.import_graph_def(v1.GraphDef.FromString(data), name="")
        with v1.Session(graph=tg) as sess:
            for op in [init] if isinstance(init, str) else init or []:
                sess.run(op)
            return sess.run(fetches)


def _no_invented_ops(graph, *types):
    from graphcompat.framework.registry import OP_DEFS
    assert not [t for t in types if t in OP_DEFS]
    assert not [op.type for op in graph.get_operations() if op.type in types]


def _crop(t):
    t.set_random_seed(1)
    return [t.random_crop(t.constant(np.arange(30).reshape(5, 6), name="src"), [2, 3], seed=4)]


def test_random_crop_records_tf_ops_and_runs_in_tf():
    v1 = oracle.tf1()
    assert oracle.op_names(tf, _crop) == oracle.op_names(v1, _crop)
    assert oracle.names(tf, _crop) == oracle.names(v1, _crop) == ["random_crop:0"]
    src = np.arange(30).reshape(5, 6)

    def is_crop(c):  # a contiguous 2x3 window of src
        r, k = divmod(int(c[0, 0]), 6)
        return c.shape == (2, 3) and np.array_equal(c, src[r:r + 2, k:k + 3])
    with tf.Graph().as_default() as g:
        crop = _crop(tf)[0]
        assert crop.shape.as_list() == [2, 3] and crop.dtype == tf.int64
        with tf.Session() as sess:
            drawn = [sess.run(crop) for _ in range(20)]  # op by op, then compiled
    assert all(is_crop(c) for c in drawn) and len({c[0, 0] for c in drawn}) > 1
    _no_invented_ops(g, "RandomCropSlice")
    assert is_crop(_run_in_tf(g, "random_crop:0"))


def test_random_crop_too_large_fails_at_run_time_with_tfs_text():
    v1 = oracle.tf1()
    errors = []
    for t in (tf, v1):
        with t.Graph().as_default():
            crop = t.random_crop(t.zeros([5, 6]), [7, 3])
            assert crop.shape.as_list() == [7, 3]  # TF checks in an Assert, when the crop runs
            with t.Session() as sess, pytest.raises(t.errors.InvalidArgumentError) as info:
                sess.run(crop)
            errors.append(info.value.message)
    want = "assertion failed: [Need value.shape >= size, got ] [5 6] [7 3]"
    assert errors[0].startswith(want) and want in errors[1]  # TF 2.x prefixes "Graph execution error:"


@pytest.mark.parametrize("shape", [[5, 3], [3, 5], [2, 2, 4]])
def test_orthogonal_initializer_records_tf_ops_and_runs_in_tf(shape):
    v1 = oracle.tf1()

    def build(t):
        t.set_random_seed(1)
        return [t.orthogonal_initializer(gain=2.0, seed=3)(shape, dtype=t.float64)]
    assert oracle.op_names(tf, build) == oracle.op_names(v1, build)
    assert oracle.names(tf, build) == oracle.names(v1, build)

    def check(value):  # gain * a matrix with orthonormal rows or columns, in the requested shape
        assert value.shape == tuple(shape) and value.dtype == np.float64
        m = value.reshape(-1, shape[-1]) / 2.0
        gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
        np.testing.assert_allclose(gram, np.eye(len(gram)), atol=1e-10)
    with tf.Graph().as_default() as g:
        out = build(tf)[0]
        assert out.shape.as_list() == shape
        v = tf.get_variable("w", shape, tf.float64, initializer=tf.orthogonal_initializer(seed=2))
        with tf.Session() as sess:
            check(sess.run(out))
            sess.run(tf.global_variables_initializer())
            check(2.0 * sess.run(v))
    _no_invented_ops(g, "OrthogonalFromNormal")
    check(_run_in_tf(g, out.name))



def _report(t, resource):
    a = t.Variable(1.0, name="a", use_resource=resource)
    t.Variable([2.0, 3.0], name="b", use_resource=resource)
    return [t.report_uninitialized_variables(), a]


@pytest.mark.parametrize("resource", [False, True])
def test_report_uninitialized_variables_records_tf_ops_and_runs_in_tf(resource):
    v1 = oracle.tf1()

    def build(t):
        _report(t, resource)
    got, want = (oracle.op_names(t, build) for t in (tf, v1))
    assert got == want and ("report_uninitialized_variables/LogicalNot", "LogicalNot") in got
    with tf.Graph().as_default() as g:
        report, a = _report(tf, resource)
        empty = tf.report_uninitialized_variables([], name="none")
        assert report.shape.as_list() == [None] and report.dtype == tf.string
        with tf.Session() as sess:
            assert sess.run(report).tolist() == [b"a", b"b"] and sess.run(empty).tolist() == []
            sess.run(a.initializer)
            assert sess.run(report).tolist() == [b"b"]
    _no_invented_ops(g, "ReportUninitializedVariables")
    assert _run_in_tf(g, report.name).tolist() == [b"a", b"b"]
    assert _run_in_tf(g, report.name, init=a.initializer.name).tolist() == [b"b"]


def _graph_def_nodes(graph):
    return [(n.name, n.op) for n in graph.as_graph_def().node]


def _from_initialized_value(t):
    a = t.Variable([1.0, 2.0], name="a", use_resource=False)
    c = t.Variable(a.initialized_value() * 2.0, name="c", use_resource=False)
    return a, c


def test_ref_initialized_value_records_tfs_cond_and_runs_in_tf():
    v1 = oracle.tf1()
    graphs = []
    for t in (tf, v1):
        with t.Graph().as_default() as g:
            _from_initialized_value(t)
        graphs.append(g)
    got, want = (_graph_def_nodes(g) for g in graphs)
    # TF's Variable also rewrites an initial value that reads other variables through their
    # initialized_value (c/IsVariableInitialized, c/cond, ..._c); graphcompat does not.
    assert got == [n for n in want if not (n[0].startswith("c/") and n[0] not in ("c/Assign", "c/read"))
                   and not n[0].endswith("_c")]
    assert ("cond", "StatelessIf") in got
    with tf.Graph().as_default() as g:
        a, c = _from_initialized_value(tf)
        assign = a.assign([5.0, 7.0])
        with tf.Session() as sess:
            for _ in range(2):  # op by op, then compiled: a is uninitialized, so its initial value
                sess.run(c.initializer)
                np.testing.assert_array_equal(sess.run(c), [2.0, 4.0])
            sess.run(assign)
            for _ in range(2):  # a holds a value now: read it
                sess.run(c.initializer)
                np.testing.assert_array_equal(sess.run(c), [10.0, 14.0])
        init = tf.global_variables_initializer()
        for group in (init, tf.variables_initializer([c, a])):  # in either order
            for _ in range(2):
                with tf.Session() as sess:
                    sess.run(group)
                    np.testing.assert_array_equal(sess.run(c), [2.0, 4.0])
                    np.testing.assert_array_equal(sess.run(a), [1.0, 2.0])
    _no_invented_ops(g, "InitializedValue")
    # In TF the exported graph reads a once a holds a value. (TF's StatelessIf dereferences its ref
    # input `a` before choosing a branch, so there, as in TF 2.x's own compat.v1 graph of this code,
    # c's initializer fails while a is uninitialized; TF 1.x's Switch/Merge cond does not.)
    got = _run_in_tf(g, c.value().name, init=[a.initializer.name, assign.op.name, c.initializer.name])
    np.testing.assert_array_equal(got, [10.0, 14.0])
    with pytest.raises(v1.errors.FailedPreconditionError, match="uninitialized value a"):
        _run_in_tf(g, c.value().name, init=c.initializer.name)


@pytest.mark.oracle
def test_placeholder_with_default_records_tensorflows_graph():
    """TF calls the generated op directly: its default is the op's `input` Const, and the attr shape is
    checked against the default's by the op's shape function (TF's merge error)."""
    from tests import _op_oracle

    def build(t):
        t.placeholder_with_default([1.0, 2.0], [None])
        t.placeholder_with_default(np.zeros((2, 3), np.float32), shape=[None, 3], name="x")
    assert oracle.op_names(tf, build) == oracle.op_names(oracle.tf1(), build)
    _op_oracle.compare_error(lambda t: t.placeholder_with_default([1.0, 2.0], [3]))
    _op_oracle.compare_error(lambda t: t.placeholder_with_default([1.0, 2.0], [1, 2]))
