"""TF 1 training/preprocessing symbols checked against real TF 2.21 `tensorflow.compat.v1`:
tf.train.AdagradDAOptimizer (dense and sparse gradients, ref and resource variables), the conditional
accumulators, tf.sparse.bincount, tf.sparse.cross / cross_hashed. Values, dtypes, shapes, op names and
errors (class and text)."""
import numpy as np
import pytest

import graphcompat
from tests import oracle

pytestmark = pytest.mark.oracle


def _tf1():
    return oracle.tf1()


# ------------------------------------------------------------------------------------------------
# 1. tf.train.AdagradDAOptimizer
# ------------------------------------------------------------------------------------------------
W0 = np.array([[1., 2.], [3., -4.], [0.5, 0.5]])


def _adagrad_da_run(tf, resource: bool, sparse: bool, dtype: str, **opt_args):
    """Three training steps: (variable, both slots) after each, and the optimizer's own op names."""
    graph = tf.Graph()
    with graph.as_default():
        step = tf.Variable(0, dtype=tf.int64, name="step", use_resource=False)
        v = tf.Variable(W0.astype(dtype), name="v", use_resource=resource)
        scale = tf.constant([[1., 2.]], dtype=dtype)
        rows = tf.gather(v, [0, 2, 0]) if sparse else v
        loss = tf.reduce_sum(tf.square(rows) * scale)
        opt = tf.train.AdagradDAOptimizer(0.1, step, **opt_args)
        train = opt.minimize(loss, global_step=step)
        fetch = [v, opt.get_slot(v, "gradient_accumulator"), opt.get_slot(v, "gradient_squared_accumulator")]
        # graphcompat sums duplicate sparse rows inside the SparseApply* lowering (as for every optimizer
        # but Adam), where TF's Python records Unique + UnsortedSegmentSum: those few ops are left out
        dedup = ("Unique", "Shape", "StridedSlice", "UnsortedSegmentSum")
        names = [(op.name, op.type) for op in graph.get_operations()
                 if op.name.startswith(("AdagradDA", "v/AdagradDA"))
                 and not (op.type in dedup or "/strided_slice/" in op.name)]
        slots = opt.get_slot_names(), sorted(x.op.name for x in opt.variables())
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            values = []
            for _ in range(3):
                sess.run(train)
                values.append(sess.run(fetch + [step]))
    return values, names, slots


@pytest.mark.parametrize("resource", [False, True], ids=["ref", "resource"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype,args", [
    ("float32", {}),
    ("float32", {"l2_regularization_strength": 0.01}),
    ("float32", {"l1_regularization_strength": 0.3, "l2_regularization_strength": 0.02}),
    ("float64", {"l1_regularization_strength": 0.05, "initial_gradient_squared_accumulator_value": 0.5}),
])
def test_adagrad_da_matches_tf(resource, sparse, dtype, args):
    got, got_names, got_slots = _adagrad_da_run(graphcompat, resource, sparse, dtype, **args)
    want, want_names, want_slots = _adagrad_da_run(_tf1(), resource, sparse, dtype, **args)
    assert got_names == want_names
    assert got_slots == want_slots
    for step, (g_vals, w_vals) in enumerate(zip(got, want)):
        for g, w in zip(g_vals, w_vals):
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg=f"step {step}")


def test_adagrad_da_errors():
    for tf in (graphcompat, _tf1()):
        with pytest.raises(ValueError, match="initial_gradient_squared_accumulator_value must be positive: 0.0"):
            tf.train.AdagradDAOptimizer(0.1, None, initial_gradient_squared_accumulator_value=0.0)


# ------------------------------------------------------------------------------------------------
# 2. tf.ConditionalAccumulator, tf.SparseConditionalAccumulator
# ------------------------------------------------------------------------------------------------
def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return (np.asarray(value).dtype.name, np.asarray(value).tolist())
    return value


def _play(tf, build):
    """Builds `build(tf)` -> [(label, fetch, feed?)] in a fresh graph, runs the steps in one session and
    returns [(label, value or (error class, TF's message line))] and the graph's (name, type) list."""
    graph = tf.Graph()
    log = []
    with graph.as_default():
        steps = build(tf)
        ops = [(op.name, op.type) for op in graph.get_operations()]
        with tf.Session(graph=graph) as sess:
            for label, fetch, *feed in steps:
                try:
                    value = _plain(sess.run(fetch, feed[0](graph) if feed else None))
                except tf.errors.OpError as e:
                    lines = [line for line in e.message.splitlines() if line.startswith(
                        ("Shape mismatch", "Argument", "Expected", "Values", "Input", "Signature", "No OpKernel"))]
                    value = (type(e).__name__, lines[0] if lines else e.message)
                log.append((label, value))
    return log, ops


def _same_play(build):
    got_log, got_ops = _play(graphcompat, build)
    want_log, want_ops = _play(_tf1(), build)
    assert got_ops == want_ops
    for (label, g), (_, w) in zip(got_log, want_log):
        assert g == w, f"{label}: {g!r} != TF's {w!r}"
    assert len(got_log) == len(want_log)


def _dense_steps(dtype, reduction_type, shape):
    def build(tf):
        acc = tf.ConditionalAccumulator(dtype, shape=shape, name="acc", reduction_type=reduction_type)
        ph = tf.placeholder(dtype, name="g")
        apply0 = acc.apply_grad(ph, local_step=0)
        apply5 = acc.apply_grad(ph, local_step=5)
        take2 = acc.take_grad(2)
        take1 = acc.take_grad(1, name="take_one")
        num = acc.num_accumulated()
        feed = lambda value: lambda g: {g.get_tensor_by_name("g:0"): np.asarray(value, dtype)}  # noqa: E731
        return [("apply a", apply0, feed([1., 2.])), ("apply b", apply0, feed([4., 8.])), ("num", num),
                ("take 2", take2), ("num after take", num),
                ("stale apply (step 0 < 1)", apply0, feed([100., 100.])), ("num", num),
                ("stale apply, bad shape", apply0, feed([1., 2., 3.])),
                ("bad rank", apply5, feed([[1., 2.]])), ("bad size", apply5, feed([1., 2., 3.])),
                ("apply c", apply5, feed([3., 5.])),
                ("mismatch with the sum", apply5, feed([1., 2., 3.])),
                ("take 1", take1), ("set step", acc.set_global_step(7)), ("stale", apply5, feed([1., 1.])),
                ("num", num), ("take 0", acc.take_grad(0)),
                ("step 7", acc.apply_grad([2., 2.], local_step=7)), ("take", acc.take_grad(1))]
    return build


@pytest.mark.parametrize("dtype,reduction_type,shape", [
    ("float32", "MEAN", [2]), ("float64", "SUM", [None]), ("float16", "MEAN", None), ("float32", "MEAN", [3]),
])
def test_conditional_accumulator_matches_tf(dtype, reduction_type, shape):
    if shape == [3]:  # every apply fails TF's shape check
        def build(tf):
            acc = tf.ConditionalAccumulator(dtype, shape=shape)
            ph = tf.placeholder(dtype, name="g")
            return [("apply", acc.apply_grad(ph), lambda g: {g.get_tensor_by_name("g:0"): np.ones(2, dtype)}),
                    ("num", acc.num_accumulated())]
        _same_play(build)
        return
    _same_play(_dense_steps(dtype, reduction_type, shape))


def _sparse_steps(shape, reduction_type="MEAN"):
    def build(tf):
        acc = tf.SparseConditionalAccumulator(tf.float32, shape=shape, name="sp", reduction_type=reduction_type)
        pi = tf.placeholder(tf.int64, name="i")
        pv = tf.placeholder(tf.float32, name="v")
        ps = tf.placeholder(tf.int64, name="s")
        apply_known = acc.apply_grad(pi, pv, grad_shape=ps, local_step=9)
        take = acc.take_grad(2)
        num = acc.num_accumulated()

        def feed(i, v, s=(4, 2)):
            return lambda g: {g.get_tensor_by_name("i:0"): np.asarray(i), g.get_tensor_by_name("v:0"): np.asarray(v),
                              g.get_tensor_by_name("s:0"): np.asarray(s)}
        slices = tf.IndexedSlices(tf.constant([[10., 20.], [5., 5.]]), tf.constant([2, 3]), tf.constant([4, 2]))
        return [("apply", acc.apply_grad([0, 2], [[1., 2.], [3., 4.]], local_step=0)),
                ("apply slices", acc.apply_indexed_slices_grad(slices)), ("num", num), ("take", take),
                ("stale", acc.apply_grad([0], [[1., 1.]], local_step=0)), ("num", num),
                ("unsorted", apply_known, feed([3, 1], [[1., 1.], [2., 2.]])),
                ("merge", apply_known, feed([1, 2, 3], [[1., 1.], [2., 2.], [3., 3.]])),
                ("values dim", apply_known, feed([0], [[1., 2., 3.]])),
                ("shape dim", apply_known, feed([0], [[1., 2.]], (5, 2))),
                ("shape rank", apply_known, feed([0], [[1., 2.]], (4,))),
                ("nnz", apply_known, feed([0, 1], [[1., 2.]])),
                ("index", apply_known, feed([9], [[1., 2.]])),
                ("0-d values", apply_known, feed([], 1.)),
                ("indices rank", apply_known, feed([[0]], [[1., 2.]])),
                ("values rank", apply_known, feed([0], [[[1., 2.]]])),
                # stale, so TF's kernel stops at the signature check (a live one would go on and crash TF)
                ("dtype", acc.apply_grad([0], tf.constant([[1, 2]]), local_step=0)),
                ("take one", acc.take_grad(1)),
                ("set step", acc.set_global_step(3)), ("num", num)]
    return build


@pytest.mark.parametrize("shape,reduction_type", [([4, 2], "MEAN"), ([None, 2], "SUM"), ([4, None], "MEAN")])
def test_sparse_conditional_accumulator_matches_tf(shape, reduction_type):
    _same_play(_sparse_steps(shape, reduction_type))


def test_sparse_conditional_accumulator_unknown_shape_and_indexed_slices():
    def build(tf):
        acc = tf.sparse.SparseConditionalAccumulator(tf.float64, name="sp2")
        taken = acc.take_indexed_slices_grad(2)
        return [("a", acc.apply_grad([0, 2], np.array([[1., 2.], [3., 4.]]))),
                ("b", acc.apply_grad([2, 1], np.array([[1., 2.], [3., 5.]]), grad_shape=[3, 2])),
                ("take", [taken.indices, taken.values, taken.dense_shape]),
                ("c", acc.apply_grad([0], np.array([[1., 2., 3.]]), local_step=1)),
                ("d", acc.apply_grad([0], np.array([[1.]]), local_step=1)),
                ("e", acc.apply_grad([1], np.array([[1., 2.]]), local_step=1)),
                ("take", acc.take_grad(1))]
    _same_play(build)


def test_accumulator_graph_and_build_errors():
    v1 = _tf1()

    def build(tf):
        acc = tf.ConditionalAccumulator(tf.float32, shape=[2], name="acc")
        acc.apply_grad([1., 2.])
        acc.take_grad(1)
        acc.num_accumulated()
        acc.set_global_step(tf.constant(3, tf.int64))
        acc.set_global_step(4)
        sp = tf.SparseConditionalAccumulator(tf.float32, shape=[3, 2], name="sp")
        sp.apply_grad(tf.constant([1], tf.int64), [[1., 2.]])
        sp.apply_grad([1], [[1., 2.]], grad_shape=[3, 2])
        sp.take_grad(1)
        sp.num_accumulated()
        sp.set_global_step(1)
        tf.ConditionalAccumulator(tf.float64, name="acc")
    assert oracle.op_names(graphcompat, build) == oracle.op_names(v1, build)
    for tf in (graphcompat, v1):
        with tf.Graph().as_default():
            acc = tf.ConditionalAccumulator(tf.float32, shape=[2], name="acc")
            assert acc.name == "acc" and acc.dtype == tf.float32
            assert acc.accumulator_ref.dtype == tf.resource and acc.accumulator_ref.shape.as_list() == [2]
            assert acc.take_grad(1).shape.as_list() == [2]
            assert acc.num_accumulated().name == "acc_NumAccumulated:0"
            assert tf.ConditionalAccumulator(tf.float32).name == "conditional_accumulator"
            sp = tf.SparseConditionalAccumulator(tf.float32)
            assert sp.accumulator_ref.dtype.name == "string_ref" and sp.name == "sparse_conditional_accumulator"
            with pytest.raises(ValueError, match=r"Shapes \(3,\) and \(2,\) are incompatible"):
                acc.apply_grad([1., 2., 3.])
            with pytest.raises(ValueError, match="Tensor conversion requested dtype float32 for Tensor with dtype "
                                                 "int32"):
                acc.apply_grad(tf.constant([1, 2]))
            with pytest.raises(ValueError, match="Attr 'reduction_type' of 'ResourceConditionalAccumulator' Op "
                                                 "passed string 'MAX' not in: \"MEAN\", \"SUM\"."):
                tf.ConditionalAccumulator(tf.float32, reduction_type="MAX")


def test_accumulator_without_a_kernel_for_its_dtype():
    def build(tf):
        acc = tf.ConditionalAccumulator(tf.float32 if tf is None else tf.int32, shape=[2], name="i")
        return [("apply", acc.apply_grad([1, 2]))]
    got, _ = _play(graphcompat, build)
    want, _ = _play(_tf1(), build)
    assert got[0][1][0] == want[0][1][0] == "InvalidArgumentError"
    g_lines, w_lines = got[0][1][1].splitlines(), want[0][1][1]
    assert g_lines[0].split(" with these attrs")[0] in w_lines


def test_take_grad_blocks_until_enough_gradients():
    from tests.threads import Background
    tf = graphcompat
    with tf.Graph().as_default():
        acc = tf.ConditionalAccumulator(tf.float32, shape=[2])
        ph = tf.placeholder(tf.float32, [2])
        apply = acc.apply_grad(ph)
        take = acc.take_grad(2)
        with tf.Session() as sess:
            taker = Background(lambda: sess.run(take))
            assert taker.is_blocked()
            sess.run(apply, {ph: [1., 3.]})
            assert taker.is_blocked()
            sess.run(apply, {ph: [3., 5.]})
            np.testing.assert_array_equal(taker.join(), [2., 4.])
        # a Session that closes cancels a blocked take with TF's error
        sess = tf.Session()
        taker = Background(lambda: sess.run(take))
        assert taker.is_blocked()
        sess.close()
        with pytest.raises(tf.errors.CancelledError, match="TakeGrad operation was cancelled"):
            taker.join()


# ------------------------------------------------------------------------------------------------
# 3. tf.sparse.bincount (DenseCountSparseOutput / SparseCountSparseOutput)
# ------------------------------------------------------------------------------------------------
def _compare_sparse(build, feed=None, same_graph: bool = True):
    from tests._op_oracle import compare
    compare(build, feed=feed, runs=2)
    if same_graph:
        _same_graph(build)


def _same_graph(build):
    assert oracle.op_names(graphcompat, build) == oracle.op_names(_tf1(), build)


DATA = np.array([[10, 20, 30, 20], [11, 101, 11, 10001]])


@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("kwargs", [
    {}, {"axis": -1}, {"axis": -1, "binary_output": True}, {"minlength": 200, "axis": -1},
    {"maxlength": 25}, {"maxlength": 25, "minlength": 3, "axis": -1},
    {"weights": np.array([[2, 0.25, 15, 0.5], [2, 17, 3, 0.9]], np.float32), "axis": -1},
    {"weights": np.array([[2., 0.25, 15, 0.5], [2, 17, 3, 0.9]]), "axis": 0},
])
def test_sparse_bincount_dense_input(dtype, kwargs):
    def build(tf):
        return tf.sparse.bincount(DATA.astype(dtype), **kwargs)
    _compare_sparse(build)


@pytest.mark.parametrize("kwargs", [{}, {"axis": -1}, {"axis": -1, "binary_output": True},
                                    {"axis": -1, "weights": "same"}, {"axis": 0, "weights": "other"},
                                    {"maxlength": 4, "axis": -1}])
def test_sparse_bincount_sparse_input(kwargs):
    def build(tf):
        sp = tf.SparseTensor([[0, 1], [0, 3], [1, 2], [2, 0]], tf.constant([3, 1, 3, 7], tf.int64), [3, 5])
        args = dict(kwargs)
        if args.get("weights") == "same":
            args["weights"] = tf.SparseTensor(sp.indices, [0.5, 1.5, 2., 4.], sp.dense_shape)
        elif args.get("weights") == "other":
            args["weights"] = tf.SparseTensor([[0, 1], [0, 3], [1, 2], [2, 0]], [1, 2, 3, 4], [3, 5])
        return tf.sparse.bincount(sp, **args)
    # graphcompat's tf.assert_equal records a plain Assert where TF's records an If (AssertGuard)
    _compare_sparse(build, same_graph=kwargs.get("weights") != "other")


def test_sparse_bincount_fed_and_empty():
    def build(tf):
        ph = tf.placeholder(tf.int32, [None], name="x")
        return [tf.sparse.bincount(ph, minlength=2), tf.sparse.bincount(tf.constant([], tf.int64))]
    _compare_sparse(build, feed=lambda tf, g: {g.get_tensor_by_name("x:0"): [4, 1, 4, 0]})


def test_sparse_bincount_errors():
    from tests._op_oracle import compare_error
    for tf in (graphcompat, _tf1()):
        with tf.Graph().as_default():
            with pytest.raises(ValueError, match="Unsupported value for argument axis=1. Only 0 and -1 are"):
                tf.sparse.bincount([1, 2], axis=1)
            with pytest.raises(ValueError, match="Arguments `binary_output` and `weights` are mutually exclusive"):
                tf.sparse.bincount([1, 2], weights=[1., 2.], binary_output=True)
    compare_error(lambda tf: tf.sparse.bincount(np.zeros((2, 2, 2), np.int32), axis=-1))
    compare_error(lambda tf: tf.sparse.bincount(np.array([3, -1, 2]), maxlength=2))
    compare_error(lambda tf: tf.sparse.bincount(tf.SparseTensor([[0, 0], [1, 3]], [1, -2], [2, 4]), axis=-1))
    compare_error(lambda tf: tf.sparse.bincount(np.zeros((0, 2), np.int32), axis=-1))
    compare_error(lambda tf: tf.sparse.bincount(tf.constant([[1, 2]]), weights=tf.constant([[1., 2., 3.]]),
                                                axis=-1))


# ------------------------------------------------------------------------------------------------
# 4. tf.sparse.cross / tf.sparse.cross_hashed (SparseCrossV2 / SparseCross)
# ------------------------------------------------------------------------------------------------
def _cross_inputs(tf):
    sp_str = tf.SparseTensor([[0, 0], [0, 1], [1, 0], [2, 0]], ["a", "b", "c", "d"], [3, 2])
    sp_int = tf.SparseTensor([[0, 0], [1, 0], [1, 1]], tf.constant([7, -3, 12345678901], tf.int64), [3, 2])
    dense_str = tf.constant([["x"], ["y"], ["z"]])
    dense_int = tf.constant([[1, 2], [3, 4], [5, 6]], tf.int32)
    return sp_str, sp_int, dense_str, dense_int


@pytest.mark.parametrize("pick", [(0, 2), (0, 1), (1, 3), (0, 1, 2, 3), (2, 3), (3,)])
@pytest.mark.parametrize("hashed", [False, True])
def test_sparse_cross_matches_tf(pick, hashed):
    def build(tf):
        parts = _cross_inputs(tf)
        inputs = [parts[i] for i in pick]
        if hashed:
            return [tf.sparse.cross_hashed(inputs), tf.sparse.cross_hashed(inputs, num_buckets=100, hash_key=17)]
        return [tf.sparse.cross(inputs), tf.sparse.cross(inputs, separator="--")]
    _compare_sparse(build)


def test_sparse_cross_build_errors():
    for tf in (graphcompat, _tf1()):
        with tf.Graph().as_default():
            with pytest.raises(TypeError, match="Inputs must be a list"):
                tf.sparse.cross(tf.constant([["a"]]))
            with pytest.raises(TypeError, match="All inputs must be Tensor or SparseTensor."):
                tf.sparse.cross([[["a"]]])
            with pytest.raises(TypeError, match="All inputs must be SparseTensors"):
                tf.sparse.cross_hashed([[["a"]]])
