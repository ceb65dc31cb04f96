"""tf.gradients through tf.while_loops without maximum_iterations, on every path a training step can take.

A compiled step sizes such a loop's gradient by the trip count op-by-op runs observed (lowering/interpreter.py
LoopHints): its first run goes op by op (NeedsObservedRun while tracing), later runs compile, and a run whose
loop outgrows the capacity (CapacityExceeded) is re-run op by op with every update applied once. The table is
graph builders (nested loops, an inner bound that depends on the outer counter, loops in conds and conds in
loops, a resource variable read in the inner loop) x the paths a step takes through the executor (a padded
`None` batch, a host tail, host inputs from tf.data, asynchronous dispatch, tf.device, data parallel, a fetch
of the train op alone). Losses, gradients and the variable after each of the runs of TRIPS (the third
outgrows the capacity the first observed) are TF's, with control flow v1 and v2 (which agree).
"""
import functools

import numpy as np
import pytest

import graphcompat as tf
from lowering import executor
from tests import oracle

pytestmark = pytest.mark.oracle

XS = [np.random.RandomState(k).rand(3, 2).astype(np.float32) * 0.5 for k in range(4)]
TRIPS = [3, 2, 20, 4]   # run 0 observes 3 iterations (capacity 16); run 2 needs 20 (re-run op by op)


def _step(v1, a, w):
    return 0.8 * a + 0.3 * v1.tanh(a * w + 1.0)


def _simple(v1, x, n, w):
    return v1.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, _step(v1, a, w)), [0, x])[1]


def _nested(v1, x, n, w):
    """Both loops unbounded; the inner one runs `n` iterations per outer one."""
    def outer(i, a):
        b = v1.while_loop(lambda j, b: j < n, lambda j, b: [j + 1, _step(v1, b, w)], [0, a])[1]
        return [i + 1, b * w + a * 0.5]
    return v1.while_loop(lambda i, a: i < 2, outer, [0, x])[1]


def _inner_bound_from_outer(v1, x, n, w):
    """The inner loop's bound is the outer counter: its executions run 1, 2, … n iterations."""
    def outer(i, a):
        b = v1.while_loop(lambda j, b: j < i + 1, lambda j, b: [j + 1, _step(v1, b, w)], [0, a])[1]
        return [i + 1, b * w + a * 0.5]
    return v1.while_loop(lambda i, a: i < n, outer, [0, x])[1]


def _outer_bounded(v1, x, n, w):
    """The outer loop has a maximum_iterations, the inner one none."""
    def outer(i, a):
        b = v1.while_loop(lambda j, b: j < n, lambda j, b: [j + 1, _step(v1, b, w)], [0, a])[1]
        return [i + 1, b * w + a * 0.5]
    return v1.while_loop(lambda i, a: i < 2, outer, [0, x], maximum_iterations=2)[1]


def _in_cond(v1, x, n, w):
    def loop():
        return v1.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, _step(v1, a, w)), [0, x])[1]
    return v1.cond(n > 2, loop, lambda: x * w)


def _cond_in_loop(v1, x, n, w):
    def body(i, a):
        return i + 1, v1.cond(i % 2 < 1, lambda: _step(v1, a, w), lambda: a * w)
    return v1.while_loop(lambda i, a: i < n, body, [0, x])[1]


def _loop_in_cond_in_loop(v1, x, n, w):
    """An unbounded loop in a cond in an unbounded loop: it runs (i iterations) on even outer iterations."""
    def outer(i, a):
        def inner():
            return v1.while_loop(lambda j, b: j < i, lambda j, b: [j + 1, _step(v1, b, w)], [0, a])[1]
        return [i + 1, v1.cond(i % 2 < 1, inner, lambda: a * w) + 0.1]
    return v1.while_loop(lambda i, a: i < n, outer, [0, x])[1]


def _resource_in_inner(v1, x, n, w):
    """The inner loop reads a resource variable that `tf.gradients(loss, [w])` does not differentiate: the
    inner loop is differentiated only through the outer loop's carry."""
    r = v1.get_variable("r", [2], initializer=v1.constant_initializer([0.5, 0.1]), use_resource=True)

    def outer(i, a):
        b = v1.while_loop(lambda j, b: j < i + 1, lambda j, b: [j + 1, _step(v1, b, r)], [0, a])[1]
        return [i + 1, b * w + a * 0.5]
    return v1.while_loop(lambda i, a: i < n, outer, [0, x])[1]


MODELS = {"simple": _simple, "nested": _nested, "inner_bound_from_outer": _inner_bound_from_outer,
          "outer_bounded": _outer_bounded, "in_cond": _in_cond, "cond_in_loop": _cond_in_loop,
          "loop_in_cond_in_loop": _loop_in_cond_in_loop, "resource_in_inner": _resource_in_inner}
PATHS = ["plain", "train_only", "padded", "tail", "data", "async", "device", "data_parallel"]
# the cases not marked slow: every model once, every path once
FAST = {("simple", "tail"), ("nested", "train_only"), ("inner_bound_from_outer", "plain"),
        ("outer_bounded", "async"), ("in_cond", "padded"), ("cond_in_loop", "data"),
        ("loop_in_cond_in_loop", "train_only"), ("resource_in_inner", "plain"), ("nested", "device"),
        ("nested", "data_parallel")}


def _x(v1, path: str):
    if path == "data":   # a generator's batches: a host input of the step
        def batches():
            while True:
                yield from XS
        ds = v1.data.Dataset.from_generator(batches, v1.float32, v1.TensorShape([3, 2]))
        return v1.data.make_one_shot_iterator(ds).get_next(name="x")
    return v1.placeholder(v1.float32, [None, 2] if path in ("padded", "data_parallel") else [3, 2], name="x")


def _build(v1, model: str, path: str):
    n = v1.placeholder(v1.int32, [], name="n")
    w = v1.get_variable("w", [2], initializer=v1.constant_initializer([0.3, -0.2]))
    y = MODELS[model](v1, _x(v1, path), n, w)
    loss = v1.reduce_mean(v1.square(y - 1.0))
    grad = v1.gradients(loss, [w])[0]
    train = v1.train.GradientDescentOptimizer(0.05).minimize(loss, global_step=v1.train.get_or_create_global_step())
    extra = [v1.summary.scalar("loss", loss)] if path == "tail" else []
    return train, loss, grad, w, extra


def _feed(path: str, k: int) -> dict:
    return {"n:0": TRIPS[k]} if path == "data" else {"n:0": TRIPS[k], "x:0": XS[k]}


@functools.lru_cache(maxsize=None)
def _tf_runs(model: str) -> list:
    """TF's (loss, gradient, w) after each run of TRIPS, the same with control flow v1 and v2."""
    v1 = oracle.tf1()
    runs = []
    for v2 in (False, True):
        with oracle.control_flow_v2(v2):
            graph = v1.Graph()
            with graph.as_default():
                train, loss, grad, w, _ = _build(v1, model, "plain")
                with v1.Session(graph=graph) as sess:
                    sess.run(v1.global_variables_initializer())
                    out = []
                    for k in range(len(TRIPS)):
                        got = sess.run([train, loss, grad], _feed("plain", k))
                        out.append((got[1], got[2], sess.run(w)))
        runs.append(out)
    for k, (a, b) in enumerate(zip(*runs)):
        oracle.assert_same_values(a, b, 2e-5, 1e-6, f"TF control flow v1 vs v2, run {k}")
    return runs[0]


def _graphcompat_runs(model: str, path: str):
    """graphcompat's (loss, gradient, w) after each run (w alone where the run fetches only the train op),
    and the tier of each training run ('eager' when it ran op by op)."""
    graph = tf.Graph()
    with graph.as_default():
        if path == "device":
            with tf.device("/cpu:0"):
                train, loss, grad, w, extra = _build(tf, model, path)
        else:
            train, loss, grad, w, extra = _build(tf, model, path)
        out, tiers = [], []
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            for k in range(len(TRIPS)):
                before = tf.stats()["eager_runs"]
                if path in ("async", "train_only"):
                    sess.run(train, _feed(path, k))
                    tiers.append("eager" if tf.stats()["eager_runs"] > before else "compiled")
                    out.append((sess.run(w),))
                    continue
                got = sess.run([train, loss, grad] + extra, _feed(path, k))
                tiers.append("eager" if tf.stats()["eager_runs"] > before else "compiled")
                out.append((got[1], got[2], sess.run(w)))
    return out, tiers


# the rest of the suite's budget: every model on the paths that differ most (a plain step, the train op
# alone) and every path on the model with two unbounded loops; the full cross product adds ~40 cases that
# exercise no further mechanism (run it by editing CASES when changing the loop machinery)
CASES = FAST | {(m, p) for m in MODELS for p in ("plain", "train_only")} | {("nested", p) for p in PATHS}


@pytest.mark.parametrize("model,path", [
    pytest.param(m, p, marks=() if (m, p) in FAST else pytest.mark.slow)
    for m in MODELS for p in PATHS if (m, p) in CASES])
def test_gradients_through_loops_without_a_static_bound(model, path):
    want = _tf_runs(model)
    if path == "async":
        executor.set_async_dispatch(True)
    elif path == "data_parallel":
        executor.set_data_parallel(executor._parallel.DataParallel())
    try:
        got, tiers = _graphcompat_runs(model, path)
    finally:
        executor.set_async_dispatch(None)
        executor.set_data_parallel(None)
    for k, (g, w) in enumerate(zip(got, want)):
        # w moved once per run, as TF's: the run that outgrew the capacity did not apply its update twice
        oracle.assert_same_values(g, w[-len(g):], 2e-5, 1e-6, f"{model} {path} run {k}")
    if path != "tail":   # a host tail's device part runs staged (not counted by tf.stats' tiers)
        # the first run observes the trip counts op by op, the second compiles with them; the third outgrows the
        # capacity (its compiled run changed nothing and it was re-run op by op), the fourth compiles again
        assert tiers == ["eager", "compiled", "eager", "compiled"], tiers


# ------------------------------------------------------------------------------------------------
# TF 1 graphs (control flow v1: the gradient keeps the forward loop's values on stacks), imported
# ------------------------------------------------------------------------------------------------
# TF 2's graphs (control flow v2: the gradient keeps the forward loop's values in TensorLists, a cond's
# intermediates in optionals): nested loops push the inner loop's lists, a cond in a loop its optionals,
# onto the outer loop's lists (lists of variants)
_IMPORTED = [("v1", m) for m in ("nested", "inner_bound_from_outer", "outer_bounded", "resource_in_inner",
                                 "cond_in_loop", "in_cond", "loop_in_cond_in_loop")] + [
    ("v2", m) for m in ("in_cond", "nested", "inner_bound_from_outer", "outer_bounded", "resource_in_inner",
                        "cond_in_loop", "loop_in_cond_in_loop")]


@pytest.mark.slow
@pytest.mark.parametrize("flavour,model", _IMPORTED)
@pytest.mark.parametrize("path", ["plain", "tail"])
def test_imported_tf1_gradients_through_nested_loops(flavour, model, path):
    want = _tf_runs(model)
    v1 = oracle.tf1()
    with oracle.control_flow_v2(flavour == "v2"):
        tf_graph = v1.Graph()
        with tf_graph.as_default():
            train, loss, grad, _, extra = _build(v1, model, path)
            for key, value in (("train_op", train), ("loss", loss), ("grad", grad)):
                v1.add_to_collection(key, value)
            for e in extra:
                v1.add_to_collection("extra", e)
            meta = v1.train.export_meta_graph()
    graph = tf.Graph()
    with graph.as_default():
        tf.train.import_meta_graph(meta)
        train, loss, grad = (tf.get_collection(k)[0] for k in ("train_op", "loss", "grad"))
        extra = tf.get_collection("extra")
        w = next(v for v in tf.global_variables() if v.op.name == "w")
        tiers = []
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            for k in range(len(TRIPS)):
                before = tf.stats()["eager_runs"]
                if path == "train_only":
                    sess.run(train, _feed(path, k))
                    got = (sess.run(w),)
                else:
                    got = sess.run([train, loss, grad] + extra, _feed(path, k))
                    got = (got[1], got[2], sess.run(w))
                tiers.append("eager" if tf.stats()["eager_runs"] > before else "compiled")
                oracle.assert_same_values(got, want[k][-len(got):], 2e-5, 1e-6, f"{model} {path} run {k}")
    if path == "plain" and flavour == "v2":
        # as a step recorded here: observed op by op, compiled, outgrown (re-run op by op), compiled again;
        # TF 2's lists of lists and a cond's optionals compile too (no op-by-op run for good)
        assert tiers == ["eager", "compiled", "eager", "compiled"], tiers


# ------------------------------------------------------------------------------------------------
# Nested loops differentiated only through the outer loop's carry
# ------------------------------------------------------------------------------------------------
def _carry_only(bounded: bool):
    """The inner loop captures nothing that is differentiated: its gradient flows through the outer loop's
    carry alone (jax traces the outer step before differentiating it, so the inner loop sees no tangent)."""
    def build(v1):
        x = v1.placeholder(v1.float32, [3, 2], name="x")
        n = v1.placeholder(v1.int32, [], name="n")
        w = v1.get_variable("w", [2], initializer=v1.constant_initializer([0.3, -0.2]))
        bound = {"maximum_iterations": 3} if bounded else {}

        def outer(i, a):
            b = v1.while_loop(lambda j, b: j < n, lambda j, b: [j + 1, 0.8 * b + 0.3 * v1.tanh(b + 1.0)], [0, a],
                              **bound)[1]
            return [i + 1, b * w + a * 0.5]
        y = v1.while_loop(lambda i, a: i < 2, outer, [0, x], **({"maximum_iterations": 2} if bounded else {}))[1]
        loss = v1.reduce_mean(v1.square(y - 1.0))
        return [loss, v1.gradients(loss, [w])[0]]
    return build


@pytest.mark.parametrize("bounded", [True, False], ids=["maximum_iterations", "unbounded"])
def test_inner_loop_differentiated_through_the_outer_carry(bounded):
    build = _carry_only(bounded)
    for trips in (3, 2, 3):
        feed = lambda lib, graph, n=trips: {"x:0": XS[0], "n:0": n}  # noqa: E731
        want = oracle.run(oracle.tf1(), build, feed, init_variables=True)
        got = oracle.run(tf, build, feed, init_variables=True)
        oracle.assert_same_values(got, want, 2e-5, 1e-6, f"{trips} inner trips")


def test_inner_loop_differentiated_through_the_outer_carry_compiles():
    """Same graph in one session: the first run observes, the second compiles, the values stay TF's."""
    build = _carry_only(False)
    want = oracle.run(oracle.tf1(), build, lambda lib, graph: {"x:0": XS[1], "n:0": 4}, init_variables=True)
    graph = tf.Graph()
    with graph.as_default():
        fetches = build(tf)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                oracle.assert_same_values(sess.run(fetches, {"x:0": XS[1], "n:0": 4}), want, 2e-5, 1e-6, "run")


# ------------------------------------------------------------------------------------------------
# Host ops in a step with a differentiated loop: sparse ops, strings
# ------------------------------------------------------------------------------------------------
SPARSE_INDICES = np.array([[0, 0], [1, 1], [2, 0], [2, 1]], np.int64)
SPARSE_VALUES = np.array([0.5, -0.3, 0.2, 0.4], np.float32)
SPARSE_TRIPS = [3, 2, 20, 4, 4]


def _sparse_step(v1, kind: str):
    """A sparse input (reordered, or summed / filled by a host rule) through sparse_dense_matmul into an
    unbounded loop that the step trains, a string of the loss fetched with it (a host tail)."""
    indices = v1.placeholder(v1.int64, [None, 2], name="indices")
    values = v1.placeholder(v1.float32, [None], name="values")
    n = v1.placeholder(v1.int32, [], name="n")
    sp = v1.SparseTensor(indices, values, [3, 2])
    if kind == "reorder":
        sp = v1.sparse.reorder(sp)
    elif kind == "add":
        sp = v1.sparse.add(sp, v1.SparseTensor(v1.constant([[0, 1]], v1.int64), v1.constant([0.25]), [3, 2]))
    else:
        sp = v1.sparse.fill_empty_rows(sp, 0.0)[0]
    w = v1.get_variable("w", [2, 2], initializer=v1.constant_initializer([[0.3, -0.2], [0.1, 0.4]]))
    u = v1.get_variable("u", [2], initializer=v1.constant_initializer([0.5, -0.1]))
    x = v1.sparse.sparse_dense_matmul(sp, w)
    _, y = v1.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, _step(v1, a, u)), [0, x])
    loss = v1.reduce_mean(v1.square(y - 1.0))
    train = v1.train.GradientDescentOptimizer(0.1).minimize(loss)
    return [train, loss, v1.strings.join([v1.as_string(loss), "loss"])], [u, w]


def _sparse_runs(lib, kind: str) -> list:
    graph = lib.Graph()
    with graph.as_default():
        fetches, variables = _sparse_step(lib, kind)
        with lib.Session(graph=graph) as sess:
            sess.run(lib.global_variables_initializer())
            out = []
            for k, n in enumerate(SPARSE_TRIPS):
                got = sess.run(fetches, {"indices:0": SPARSE_INDICES, "values:0": SPARSE_VALUES * (k + 1), "n:0": n})
                out.append([got[1], got[2]] + sess.run(variables))
    return out


@pytest.mark.parametrize("kind", ["reorder", "add", "fill_empty_rows"])
def test_sparse_inputs_strings_and_a_differentiated_loop(kind):
    """`reorder`: the step compiles, its string a host tail (a run whose compiled device part needed the trip
    count re-ran that part's compile forever: RecursionError after a minute). `add`/`fill_empty_rows`: host
    rules feed the loop, so the loop and its gradient run in the host tail, which had no LoopHints."""
    want = _sparse_runs(oracle.tf1(), kind)
    got = _sparse_runs(tf, kind)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g[1] == w[1], (k, g[1], w[1])
        oracle.assert_same_values(g[:1] + g[2:], w[:1] + w[2:], 2e-5, 1e-6, f"{kind} run {k}")


def test_host_tail_updates_a_fetched_variable():
    """A host op (tf.sparse.add) feeds the loss, so the update runs in the host tail; fetching the variable it
    updates in the same run made the tail's ApplyGradientDescent see the device part's value, not its ref."""
    def build(v1):
        sp = v1.SparseTensor(v1.constant([[0, 0], [1, 1]], v1.int64), v1.constant([1.0, 2.0]), [2, 2])
        x = v1.sparse.to_dense(v1.sparse.add(sp, sp))
        w = v1.get_variable("w", [2], initializer=v1.constant_initializer([0.3, -0.2]))
        loss = v1.reduce_sum(v1.square(v1.reduce_sum(x * w, 1) - 1.0))
        return v1.train.GradientDescentOptimizer(0.01).minimize(loss), loss, w

    def runs(lib):
        graph = lib.Graph()
        with graph.as_default():
            train, loss, w = build(lib)
            with lib.Session(graph=graph) as sess:
                sess.run(lib.global_variables_initializer())
                # TF's fetched ref races the update in the same run: compare the loss, and w read afterwards
                return [(sess.run([train, loss, w])[1], sess.run(w)) for _ in range(3)]
    for k, (g, w) in enumerate(zip(runs(tf), runs(oracle.tf1()))):
        oracle.assert_same_values(g, w, 1e-6, 1e-7, f"run {k}")
