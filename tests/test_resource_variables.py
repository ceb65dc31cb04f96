"""Resource variables: graph structure as TF 2.x's tf.compat.v1 records it, reads/writes, TF's errors,
use_resource switches, initializers, gradients through ReadVariableOp / ResourceGather, and every
optimizer's ResourceApply* / ResourceSparseApply* against the numpy kernels (and real TF in oracle tests)."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle
from tests.test_optimizers import OPTIMIZERS, B0, STEPS, W0, X, Y, _np_grads, _sparse_ref


def _types():
    return [op.type for op in tf.get_default_graph().get_operations()]


# --- structure, creation switches ---------------------------------------------------------------------
def test_resource_variable_ops_and_names():
    v = tf.Variable([1.0, 2.0], name="w", use_resource=True)
    assert isinstance(v, tf.ResourceVariable) and isinstance(v, tf.Variable)
    assert [(op.name, op.type) for op in tf.get_default_graph().get_operations()] == [
        ("w/Initializer/initial_value", "Const"), ("w", "VarHandleOp"),
        ("w/IsInitialized/VarIsInitializedOp", "VarIsInitializedOp"), ("w/Assign", "AssignVariableOp"),
        ("w/Read/ReadVariableOp", "ReadVariableOp")]
    assert v.name == "w:0" and v.op.type == "VarHandleOp" and v.handle.dtype == tf.resource
    assert v.dtype == tf.float32 and v.shape.as_list() == [2] and v.initializer.name == "w/Assign"
    assert v.op.get_attr("shared_name") == b"w"
    assert v.value().name == "ReadVariableOp:0" and v.read_value().op.type == "Identity"
    with tf.name_scope("s"):  # every use reads anew, in the scope where it converts (as TF)
        assert (v * 2.0).op.inputs[0].name == "s/ReadVariableOp:0"
        assert tf.add(v, 1.0).op.inputs[0].name == "s/Add/ReadVariableOp:0"


@pytest.mark.parametrize("how", ["argument", "scope", "get_variable", "enabled"])
def test_ways_to_ask_for_resource_variables(how):
    if how == "argument":
        v = tf.Variable(1.0, use_resource=True)
    elif how == "scope":
        with tf.variable_scope("s", use_resource=True):
            v = tf.get_variable("v", [])
            assert tf.get_variable_scope().use_resource
    elif how == "get_variable":
        v = tf.get_variable("v", [], use_resource=True)
    else:
        tf.enable_resource_variables()
        try:
            assert tf.resource_variables_enabled()
            v = tf.Variable(1.0)
        finally:
            tf.disable_resource_variables()
    assert isinstance(v, tf.ResourceVariable)
    assert not isinstance(tf.Variable(1.0), tf.ResourceVariable)
    assert not isinstance(tf.get_variable("ref", []), tf.ResourceVariable)


def test_reads_writes_and_initializers():
    v = tf.Variable(np.array([1.0, 2.0], np.float32), name="v", use_resource=True)
    w = tf.get_variable("w", initializer=tf.constant([10, 20]), use_resource=True)
    inc = v.assign_add([1.0, 1.0])
    dec = tf.assign_sub(v, [0.5, 0.5])
    put = tf.assign(w, [7, 8], name="put")
    rows = tf.gather(v, [1, 0])
    scat = tf.scatter_add(w, [1], [5])
    with tf.Session() as sess:
        assert sess.run(tf.report_uninitialized_variables()).tolist() == [b"v", b"w"]
        assert not sess.run(tf.is_variable_initialized(v))
        sess.run(tf.global_variables_initializer())
        assert sess.run(tf.is_variable_initialized(v)) and sess.run(tf.report_uninitialized_variables()).size == 0
        np.testing.assert_allclose(sess.run(inc), [2.0, 3.0])
        np.testing.assert_allclose(sess.run(dec), [1.5, 2.5])
        np.testing.assert_allclose(sess.run(rows), [2.5, 1.5])
        assert sess.run(put).tolist() == [7, 8] and sess.run(scat).tolist() == [7, 13]
        assert sess.run(w).tolist() == [7, 13] and v.eval().tolist() == [1.5, 2.5]
        v.load([4.0, 5.0], sess)
        np.testing.assert_allclose(sess.run(v.read_value()), [4.0, 5.0])
    for method, want in [("scatter_update", [9, 2]), ("scatter_sub", [-9, 2]), ("scatter_mul", [0, 2]),
                         ("scatter_div", [0, 2]), ("scatter_max", [9, 2]), ("scatter_min", [0, 2])]:
        u = tf.Variable([0, 2], use_resource=True)
        op = getattr(u, method)(tf.IndexedSlices(tf.constant([9]), tf.constant([0])))
        with tf.Session() as sess:
            sess.run(u.initializer)
            assert sess.run(op).tolist() == want, method


def test_initialized_value_and_count_up_to():
    v = tf.Variable(3.0, use_resource=True)
    w = tf.Variable(v.initialized_value() * 2.0, use_resource=True)
    c = tf.Variable(0, use_resource=True, dtype=tf.int32)
    up = c.count_up_to(2)
    with tf.Session() as sess:
        sess.run(w.initializer)  # before v's: the initial value of v
        assert sess.run(w) == 6.0
        sess.run([v.initializer, c.initializer])
        assert [sess.run(up), sess.run(up)] == [0, 1]
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(up)


@pytest.mark.parametrize("use_resource", [False, True], ids=["ref", "resource"])
def test_global_initializer_with_an_initialized_value(use_resource):
    v = tf.Variable(3.0, use_resource=use_resource)
    tf.Variable(v.initialized_value() * 2.0, use_resource=use_resource)
    tf.Variable(0, use_resource=use_resource)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(tf.report_uninitialized_variables()).size == 0


def test_host_tail_runs_its_control_dependencies():
    """TF's sparse Adam in small: decay m (a device op), then scatter-add at Unique rows (a host op, as
    Unique is) with a control dependency on the decay."""
    m = tf.Variable([2.0, 2.0, 2.0], use_resource=True)
    ids = tf.placeholder(tf.int32, [None])
    updates = tf.placeholder(tf.float32, [None]) * 2.0
    decay = m.assign(m * 0.5, read_value=False)
    rows, _ = tf.unique(ids)
    with tf.control_dependencies([decay]):
        add = tf.scatter_add(m, rows, updates)
    with tf.Session() as sess:
        sess.run(m.initializer)
        np.testing.assert_allclose(sess.run(add, {ids: [0, 1, 1], updates.op.inputs[0]: [0.5, 0.5]}),
                                   [2.0, 2.0, 1.0])


# --- errors: TF's classes and texts -----------------------------------------------------------------
def test_uninitialized_read_is_failed_precondition():
    v = tf.Variable([1.0], name="v", use_resource=True)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError,
                           match="Could not find variable v. This could mean that the variable has been deleted. "
                                 "In TF1, it can also mean the variable is uninitialized."):
            sess.run(v)


def test_assign_errors_at_build_time():
    v = tf.Variable([1.0, 2.0], name="v", use_resource=True)
    with pytest.raises(ValueError, match=r"Cannot assign value to variable ' v:0': Shape mismatch.The variable shape "
                                         r"\(2,\), and the assigned value shape \(3,\) are incompatible."):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal, but are 2 and 3"):
        from graphcompat.ops import resource_variable_ops as rv
        rv.assign_variable_op(v.handle, tf.constant([1.0, 2.0, 3.0]), tf.float32)
    with pytest.raises(ValueError, match="Trying to read variable with wrong dtype. Expected float got int32"):
        rv.read_variable_op(v.handle, tf.int32)


def test_gather_out_of_range_raises_on_every_run_and_changes_nothing():
    v = tf.Variable([1.0, 2.0], use_resource=True)
    ids = tf.placeholder(tf.int32, [None])
    scat = tf.scatter_update(v, ids, tf.zeros_like(ids, dtype=tf.float32))
    rows = tf.gather(v, ids)
    with tf.Session() as sess:
        sess.run(v.initializer)
        for _ in range(3):
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 5 is not in \[0, 2\)"):
                sess.run(rows, {ids: [0, 5]})
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"is not in \[0, 2\)"):
                sess.run(scat, {ids: [0, 5]})
        np.testing.assert_allclose(sess.run(v), [1.0, 2.0])


# --- gradients ------------------------------------------------------------------------------------
def test_gradients_sum_over_every_read():
    v = tf.Variable([1.0, 2.0], use_resource=True)
    y = tf.reduce_sum(v * v) + tf.reduce_sum(3.0 * v.read_value())
    g, = tf.gradients(y, [v])
    gh, = tf.gradients(y, [v.handle])
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_allclose(sess.run(g), [5.0, 7.0])
        np.testing.assert_allclose(sess.run(gh), [5.0, 7.0])
    assert tf.gradients(tf.constant(1.0) * 2.0, [v]) == [None]


def test_gradient_through_resource_gather_is_sparse():
    table = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3), use_resource=True)
    rows = tf.gather(table, [1, 3, 1])
    assert rows.op.type == "ResourceGather"
    g, = tf.gradients(tf.reduce_sum(rows * 2.0), [table])
    assert isinstance(g, tf.IndexedSlices)
    with tf.Session() as sess:
        sess.run(table.initializer)
        values, indices = sess.run([g.values, g.indices])
        dense = sess.run(tf.convert_to_tensor(g))
    assert indices.tolist() == [1, 3, 1] and values.shape == (3, 3)
    np.testing.assert_allclose(dense, [[0] * 3, [4] * 3, [0] * 3, [2] * 3])


# --- optimizers: ResourceApply* / ResourceSparseApply* -----------------------------------------------
@pytest.mark.parametrize("name,make,kernel", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_dense_resource_updates_match_tf_kernels(name, make, kernel):
    w = tf.Variable(W0, name="w", use_resource=True)
    b = tf.Variable(B0, name="b", use_resource=True)
    loss = tf.reduce_sum(tf.square(tf.matmul(tf.constant(X), w) + b - tf.constant(Y)))
    train = make().minimize(loss)
    assert any(t.startswith("ResourceApply") for t in _types())
    assert not any(t.startswith("Apply") for t in _types())
    sw, sb = {"var": W0.astype(np.float64)}, {"var": B0.astype(np.float64)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(STEPS):
            gw, gb = _np_grads(sw["var"], sb["var"])
            sw, sb = kernel(sw, gw), kernel(sb, gb)
            sess.run(train)
        got_w, got_b = sess.run([w, b])
    np.testing.assert_allclose(got_w, sw["var"], rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(got_b, sb["var"], rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("name,make,kernel", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_sparse_resource_updates_match_tf_kernels(name, make, kernel):
    rng = np.random.RandomState(7)
    table0 = rng.randn(10, 3).astype(np.float32)
    ids = np.array([2, 7, 2, 5], np.int32)
    target = rng.randn(4, 3).astype(np.float32)
    emb = tf.Variable(table0, name="emb", use_resource=True)
    loss = tf.reduce_sum(tf.square(tf.gather(emb, tf.constant(ids)) - tf.constant(target)))
    opt = make()
    grads_and_vars = opt.compute_gradients(loss)
    assert isinstance(grads_and_vars[0][0], tf.IndexedSlices)
    train = opt.apply_gradients(grads_and_vars)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        got = sess.run(emb)
    np.testing.assert_allclose(got, _sparse_ref(kernel, name, table0, ids, target, 3), rtol=2e-4, atol=2e-5)
    if name != "adam":
        untouched = [r for r in range(10) if r not in ids]
        np.testing.assert_array_equal(got[untouched], table0[untouched])


def test_slots_are_resource_variables_with_tf_names():
    w = tf.get_variable("w", [2], use_resource=True)
    gs = tf.train.get_or_create_global_step()
    opt = tf.train.AdamOptimizer()
    opt.minimize(tf.reduce_sum(w * w), global_step=gs)
    names = sorted(v.op.name for v in tf.global_variables())
    assert names == ["beta1_power", "beta2_power", "global_step", "w", "w/Adam", "w/Adam_1"]
    assert all(isinstance(v, tf.ResourceVariable) for v in opt.variables())
    assert "ResourceApplyAdam" in _types()


# --- oracle: the same programs in TF -----------------------------------------------------------------
def _structure_program(tf_):
    v = tf_.get_variable("v", [2], use_resource=True)
    w = tf_.Variable([1.0, 2.0], name="w", use_resource=True)
    v.assign_add([1.0, 1.0])
    w.assign([1.0, 1.0], read_value=False)
    v.value()
    v.read_value()
    tf_.matmul(tf_.reshape(v, [1, 2]), tf_.reshape(w, [2, 1]))
    tf_.gather(v, [1])
    tf_.scatter_add(w, [0], [5.0])
    return [(op.name, op.type) for op in tf_.get_default_graph().get_operations()]


@pytest.mark.oracle
def test_graph_structure_equals_tensorflow():
    v1 = oracle.tf1()
    with v1.Graph().as_default():
        theirs = _structure_program(v1)
    assert _structure_program(tf) == theirs


@pytest.mark.oracle
@pytest.mark.parametrize("name,make,kernel", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_resource_training_equals_tensorflow(name, make, kernel, sparse):
    v1 = oracle.tf1()
    import graphcompat
    made = make()  # a graphcompat optimizer: rebuild the same one under TF's namespace
    tf_make = getattr(v1.train, type(made).__name__)

    def program(tf_, opt_cls):
        opt = opt_cls(**_ctor_args(made))
        if sparse:
            emb = tf_.Variable(np.arange(30, dtype=np.float32).reshape(10, 3) / 10, name="emb", use_resource=True)
            loss = tf_.reduce_sum(tf_.square(tf_.gather(emb, [2, 7, 2, 5]) - 1.0))
            var = emb
        else:
            var = tf_.Variable(W0, name="w", use_resource=True)
            loss = tf_.reduce_sum(tf_.square(tf_.matmul(tf_.constant(X), var) - tf_.constant(Y)))
        train = opt.minimize(loss)
        types = sorted({op.type for op in tf_.get_default_graph().get_operations()
                        if op.type.startswith(("ResourceApply", "ResourceSparseApply", "ResourceScatter"))})
        with tf_.Session() as sess:
            sess.run(tf_.global_variables_initializer())
            losses = [sess.run([train, loss])[1] for _ in range(3)]
            return types, losses, sess.run(var)
    with v1.Graph().as_default():
        t_types, t_losses, t_var = program(v1, tf_make)
    with graphcompat.Graph().as_default():
        g_types, g_losses, g_var = program(graphcompat, type(made))
    assert g_types == t_types
    np.testing.assert_allclose(g_losses, t_losses, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(g_var, t_var, rtol=1e-4, atol=1e-5)


def _ctor_args(opt) -> dict:
    """The constructor arguments a graphcompat optimizer was made with (to build TF's twin)."""
    cls = type(opt).__name__
    if cls == "GradientDescentOptimizer":
        return {"learning_rate": opt._learning_rate}
    if cls == "MomentumOptimizer":
        return {"learning_rate": opt._learning_rate, "momentum": opt._momentum, "use_nesterov": opt._use_nesterov}
    if cls == "AdagradOptimizer":
        return {"learning_rate": opt._learning_rate}
    if cls == "AdamOptimizer":
        return {"learning_rate": opt._lr}
    if cls == "RMSPropOptimizer":
        return {"learning_rate": opt._learning_rate, "momentum": opt._momentum, "centered": opt._centered}
    if cls == "FtrlOptimizer":
        return {"learning_rate": opt._learning_rate, "l1_regularization_strength": opt._l1,
                "l2_regularization_strength": opt._l2, "l2_shrinkage_regularization_strength": opt._l2_shrinkage}
    if cls == "AdadeltaOptimizer":
        return {"learning_rate": opt._lr, "epsilon": opt._epsilon}
    if cls == "ProximalGradientDescentOptimizer":
        return {"learning_rate": opt._learning_rate, "l1_regularization_strength": opt._l1,
                "l2_regularization_strength": opt._l2}
    raise AssertionError(cls)


# --- TF1 builders that take a variable: each works on a resource variable as TF's does ---------------
def _updates(tf_):
    v = tf_.get_variable("v", initializer=np.array([1.0, 2.0, 3.0], np.float32), use_resource=True)
    u = tf_.get_variable("u", initializer=np.array([4, 5, 6], np.int32), use_resource=True)
    ops = [tf_.assign_add(v, [1.0, 1.0, 1.0]), tf_.assign_sub(v, [0.5, 0.5, 0.5]), tf_.scatter_add(v, [0], [10.0]),
           tf_.scatter_update(u, [1], [50]), tf_.scatter_sub(u, [2], [1]), tf_.scatter_mul(v, [1], [3.0]),
           tf_.scatter_div(v, [1], [2.0]), tf_.scatter_max(u, [0], [9]), tf_.scatter_min(u, [0], [7]),
           tf_.scatter_nd_add(v, [[2]], [7.0]), tf_.scatter_nd_update(u, [[2]], [-1]),
           tf_.scatter_nd_sub(v, [[0]], [0.25]), tf_.assign(u, u * 2)]
    return ops, [v, u, tf_.is_variable_initialized(v)]


def _moving_average(tf_):
    v = tf_.get_variable("v", initializer=np.array([1.0, 2.0], np.float32), use_resource=True)
    ema = tf_.train.ExponentialMovingAverage(0.5, zero_debias=True)
    apply = ema.apply([v])
    return [tf_.assign(v, [3.0, 4.0]), apply, tf_.assign(v, [5.0, 6.0]), apply], [ema.average(v)]


def _count_up_to(tf_):
    v = tf_.get_variable("c", initializer=np.int64(3), use_resource=True)
    return [tf_.count_up_to(v, 10), tf_.count_up_to(v, 10)], [v]


RESOURCE_BUILDERS = [("updates", _updates), ("moving_average", _moving_average), ("count_up_to", _count_up_to)]


@pytest.mark.oracle
@pytest.mark.parametrize("name,build", RESOURCE_BUILDERS, ids=[b[0] for b in RESOURCE_BUILDERS])
def test_tf1_builders_take_resource_variables_as_tensorflow(name, build):
    """tf.assign & co., scatter(_nd)_*, count_up_to and ExponentialMovingAverage on resource variables:
    TF's state_ops send them to the variable's own ops (AssignVariableOp, ResourceScatter*, …); the same
    op types and values as TF (was: TypeError "'ScatterNdAdd'/'AssignSub' Op requires … a mutable tensor")."""
    v1 = oracle.tf1()
    results = {}
    for lib in (tf, v1):
        graph = lib.Graph()
        with graph.as_default():
            steps, fetches = build(lib)
            types = sorted({op.type for op in graph.get_operations()})
            with lib.Session(graph=graph) as sess:
                sess.run(lib.global_variables_initializer())
                for step in steps:
                    sess.run(step)
                results[lib] = types, sess.run(fetches)
    assert results[tf][0] == results[v1][0]
    for got, want in zip(results[tf][1], results[v1][1]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.oracle
def test_init_from_checkpoint_into_resource_variables(tmp_path):
    """tf.train.init_from_checkpoint makes a resource variable's initializer restore (Identity +
    AssignVariableOp, as TF's Saver restores it); TF writes the checkpoint."""
    v1 = oracle.tf1()
    with v1.Graph().as_default():
        with v1.variable_scope("a"):
            v1.get_variable("w", initializer=np.array([7.0, 8.0], np.float32), use_resource=True)
        saver = v1.train.Saver()
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "m"))
    with tf.variable_scope("b"):
        w = tf.get_variable("w", initializer=np.array([0.0, 0.0], np.float32), use_resource=True)
    tf.train.init_from_checkpoint(prefix, {"a/": "b/"})
    assert w.initializer.type == "AssignVariableOp"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(w), [7.0, 8.0])
