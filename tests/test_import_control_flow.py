"""Control flow written by TensorFlow, imported and run here: TF1's Switch/Merge/Enter/Exit/NextIteration/
LoopCond rebuilt as tf.cond / tf.while_loop, functional If/While/PartitionedCall rebuilt from the function
library. Frozen fixtures (tests/fixtures/importer, written by TF) run without TF; oracle tests write more
graphs on the fly (side effects on ref and resource variables, tf.function calls, Merge's value_index)."""
import os

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle
from tests.fixtures.importer import make_fixtures

FIXTURES = os.path.dirname(make_fixtures.__file__)
V1_OPS = {"Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond"}


def _fixture(program: str, flavour: str):
    with open(os.path.join(FIXTURES, f"{program}_{flavour}.pb"), "rb") as f:
        graph_def = tf.GraphDef.FromString(f.read())
    return graph_def, np.load(os.path.join(FIXTURES, f"{program}_{flavour}.npz"))


@pytest.mark.parametrize("flavour", ["v1", "v2"])
@pytest.mark.parametrize("program", sorted(make_fixtures.PROGRAMS))
def test_tensorflow_frozen_graphs_run_with_tensorflows_numbers(program, flavour):
    graph_def, expected = _fixture(program, flavour)
    ops = {n.op for n in graph_def.node}
    if program == "control_flow":
        assert V1_OPS <= ops if flavour == "v1" else {"StatelessIf", "StatelessWhile"} & ops
    n_out = sum(1 for n in graph_def.node if n.name.startswith("out"))
    outs = tf.import_graph_def(graph_def, return_elements=[f"out{k}:0" for k in range(n_out)], name="frozen")
    with tf.Session() as sess:
        for _ in range(2):  # the first run goes op by op, the second compiles
            for i, feed in enumerate(make_fixtures.FEEDS[program]):
                got = sess.run(outs, {f"frozen/{k}": v for k, v in feed.items()})
                for k, value in enumerate(got):
                    np.testing.assert_allclose(value, expected[f"out{k}_feed{i}"], rtol=1e-5, atol=1e-6,
                                               err_msg=f"out{k} feed{i}")


def test_rebuilt_structures_keep_the_names_of_the_nodes_they_replace():
    graph_def, _ = _fixture("control_flow", "v1")
    merges = [n.name for n in graph_def.node if n.op == "Merge" and n.name.startswith("a/")]
    exits = [n.name for n in graph_def.node if n.op == "Exit" and n.name.startswith("loop/")]
    tf.import_graph_def(graph_def, name="")
    graph = tf.get_default_graph()
    assert graph.get_tensor_by_name(merges[0] + ":0").dtype == tf.float32
    assert all(graph.get_operation_by_name(x).type == "Identity" for x in exits)
    types = {op.type for op in graph.get_operations()}
    assert not types & V1_OPS and types & {"If", "StatelessIf"} and types & {"While", "StatelessWhile"}
    with pytest.raises(ValueError, match="rebuilt as part of a control-flow structure"):
        tf.import_graph_def(graph_def, return_elements=["a/Switch"])


def test_function_library_is_used_for_functional_ops():
    graph_def, expected = _fixture("control_flow", "v2")
    assert len(graph_def.library.function) >= 4
    out, = tf.import_graph_def(graph_def, return_elements=["out2:0"])
    with tf.Session() as sess:
        feed = make_fixtures.FEEDS["control_flow"][0]
        np.testing.assert_allclose(sess.run(out, {"import/" + k: v for k, v in feed.items()}),
                                   expected["out2_feed0"], rtol=1e-5)


# --- oracle: TF writes more programs on the fly --------------------------------------------------------
def _run_both(build, feeds, flavour, use_resource, reads=()):
    """Builds `build(tf)` in TF (control flow `flavour`), runs each feed in a fresh session (initializers
    first), imports TF's GraphDef here and does the same; returns (TF's results, ours)."""
    v1 = oracle.tf1()
    with oracle.control_flow_v2(flavour == "v2"):
        graph = v1.Graph()
        with graph.as_default():
            with v1.variable_scope("", use_resource=use_resource):
                outs = [t.name for t in build(v1)]
            init = v1.global_variables_initializer().name
            want = []
            for feed in feeds:
                with v1.Session(graph=graph) as sess:
                    sess.run(init)
                    want.append([sess.run(o, feed) for o in outs] + [sess.run(r) for r in reads])
            graph_def = graph.as_graph_def()
    got = []
    with tf.Graph().as_default() as ours:
        tf.import_graph_def(graph_def, name="")
        for feed in feeds:
            with tf.Session(graph=ours) as sess:
                sess.run(init)
                got.append([sess.run(o, feed) for o in outs] + [sess.run(r) for r in reads])
    return want, got


def _side_effects(t):
    v = t.get_variable("v", initializer=1.0)
    x = t.placeholder(t.float32, [], name="x")
    c = t.cond(x > 0, lambda: t.identity(t.assign_add(v, 10.0)), lambda: t.identity(t.assign_sub(v, 1.0)))

    def body(i, a):
        with t.control_dependencies([t.assign_add(v, 1.0)]):
            return i + 1, a + x
    _, w = t.while_loop(lambda i, a: i < 3, body, [0, x])
    return [c, w]


@pytest.mark.oracle
@pytest.mark.parametrize("flavour,use_resource", [("v1", False), ("v1", True), ("v2", True)],
                         ids=["v1-ref", "v1-resource", "v2-resource"])
def test_assignments_inside_cond_and_while(flavour, use_resource):
    reads = ["v/Read/ReadVariableOp:0" if use_resource else "v:0"]
    want, got = _run_both(_side_effects, [{"x:0": 2.0}, {"x:0": -1.0}], flavour, use_resource, reads)
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64))


def _case_and_tuples(t):
    x = t.placeholder(t.int32, [], name="x")
    y = t.case([(t.equal(x, 1), lambda: t.constant(10)), (t.equal(x, 2), lambda: t.constant(20))],
               default=lambda: t.constant(-1))
    first, second = t.cond(x > 1, lambda: (x, x * 2), lambda: (x * 3, x))
    return [y, first + second]


@pytest.mark.oracle
@pytest.mark.parametrize("flavour", ["v1", "v2"])
def test_case_and_multi_output_conds(flavour):
    want, got = _run_both(_case_and_tuples, [{"x:0": 1}, {"x:0": 2}, {"x:0": 5}], flavour, True)
    assert np.asarray(got).tolist() == np.asarray(want).tolist()


def _function_call(t):
    import tensorflow as real_tf
    x = t.placeholder(t.float32, [None], name="x")
    v = t.get_variable("v", initializer=2.0)

    @real_tf.function
    def f(a):
        return a * v + 1.0, real_tf.reduce_sum(a)
    first, second = f(x)
    return [first, second]


@pytest.mark.oracle
def test_tf_function_calls_are_inlined():
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        outs = _function_call(v1)
    assert "StatefulPartitionedCall" in {n.op for n in graph.as_graph_def().node}
    want, got = _run_both(_function_call, [{"x:0": np.array([1.0, 2.0], np.float32)}], "v2", True)
    for w, g in zip(want[0], got[0]):
        np.testing.assert_allclose(g, w)
    del outs


def _merge_value_index(t):
    x = t.placeholder(t.float32, [], name="x")
    out_false, out_true = t.raw_ops.Switch(data=x, pred=x > 0)
    merged, index = t.raw_ops.Merge(inputs=[out_false - 1.0, out_true * 2.0])
    return [merged, index]


@pytest.mark.oracle
def test_raw_switch_merge_with_value_index():
    want, got = _run_both(_merge_value_index, [{"x:0": 3.0}, {"x:0": -3.0}], "v1", True)
    assert np.asarray(got).tolist() == np.asarray(want).tolist() == [[6.0, 1], [-4.0, 0]]


@pytest.mark.oracle
def test_a_merge_that_joins_no_cond_is_refused_before_the_graph_changes():
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        merged, _ = v1.raw_ops.Merge(inputs=[v1.constant(1.0), v1.constant(2.0)])
        v1.identity(merged, name="out")
    with pytest.raises(NotImplementedError, match="does not join the two branches of one cond"):
        tf.import_graph_def(graph.as_graph_def())
    assert tf.get_default_graph().get_operations() == []


@pytest.mark.oracle
def test_map_fn_loops_over_tensor_lists():
    def build(t):
        x = t.placeholder(t.float32, [None], name="x")
        return [t.map_fn(lambda e: e * 2.0, x)]
    want, got = _run_both(build, [{"x:0": np.array([1.0, 2.0], np.float32)}], "v2", True)
    np.testing.assert_allclose(got[0][0], want[0][0])


# --- TensorLists: what TF 2's control flow v2 carries through its While loops ---------------------------
def _run_in_one_session(build, feeds, rounds=2):
    """Builds `build(tf)` in TF with control flow v2 and runs each feed; imports TF's GraphDef here and runs
    every feed `rounds` times in ONE session (a plan's first run goes op by op, later runs compile).
    Returns (TF's results, ours per round, our session's runners' tiers: {fetched names: tier})."""
    v1 = oracle.tf1()
    with oracle.control_flow_v2(True):
        graph = v1.Graph()
        with graph.as_default():
            with v1.variable_scope("", use_resource=True):
                outs = [t.name for t in build(v1)]
            init = v1.global_variables_initializer().name
            with v1.Session(graph=graph) as sess:
                sess.run(init)
                want = [sess.run(outs, feed) for feed in feeds]
            graph_def = graph.as_graph_def()
    op_types = {n.op for n in graph_def.node} | {n.op for f in graph_def.library.function for n in f.node_def}
    assert {"TensorListSetItem", "TensorListPushBack", "TensorListPopBack"} & op_types, op_types
    with tf.Graph().as_default() as ours:
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=ours) as sess:
            sess.run(init)
            got = [[sess.run(outs, feed) for feed in feeds] for _ in range(rounds)]
            tiers = {}
            for runner in sess._runners:
                if runner.plan.fetch_tensors:
                    tiers[tuple(t.name for t in runner.plan.fetch_tensors)] = (
                        "eager" if runner.eager_only else "compiled" if runner.compiled is not None else "first")
    return want, got, tiers


def _assert_same(want, got):
    for round_ in got:
        for w_feed, g_feed in zip(want, round_):
            for w, g in zip(w_feed, g_feed):
                g, w = np.asarray(g), np.asarray(w)
                assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def _map_fn(t):
    x = t.placeholder(t.float32, [None], name="x")
    return [t.map_fn(lambda e: e * 2.0 + 1.0, x)]


def _map_fn_tuple(t):  # elements of a matrix, two results of other dtypes
    x = t.placeholder(t.float32, [None, 3], name="x")
    s, m = t.map_fn(lambda row: (t.reduce_sum(row), t.cast(t.argmax(row), t.int32)), x,
                    dtype=(t.float32, t.int32))
    return [s, m]


def _scan(t):
    x = t.placeholder(t.float32, [None], name="x")
    return [t.scan(lambda acc, e: acc + e, x)]


def _tensor_array_sized_by_shape(t):  # no element_shape: the first write in the loop sets it
    x = t.placeholder(t.float32, [None, 2], name="x")
    n = t.shape(x)[0]
    arr = t.TensorArray(t.float32, size=n)
    _, arr = t.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a.write(i, x[i] * 2.0 + t.cast(i, t.float32))),
                          [0, arr])
    return [arr.stack(), arr.size(), arr.read(1)]


def _tensor_array_of_fed_size(t):  # the list's size is a fed value: no static shape, runs op by op
    n = t.placeholder(t.int32, [], name="n")
    arr = t.TensorArray(t.float32, size=n, element_shape=[2])
    _, arr = t.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a.write(i, t.fill([2], t.cast(i * i, t.float32)))),
                          [0, arr])
    return [arr.stack()]


def _dynamic_size_tensor_array(t):  # SetItem with resize_if_index_out_of_bounds: the list grows
    n = t.placeholder(t.int32, [], name="n")
    arr = t.TensorArray(t.int32, size=0, dynamic_size=True)
    _, arr = t.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a.write(i, i * i)), [0, arr])
    return [arr.stack()]


_RNG = np.random.RandomState(7)
_LIST_PROGRAMS = {
    "map_fn": (_map_fn, [{"x:0": np.arange(3, dtype=np.float32)}, {"x:0": np.arange(5, dtype=np.float32)}],
               "compiled"),
    "map_fn_tuple": (_map_fn_tuple, [{"x:0": _RNG.randn(2, 3).astype(np.float32)},
                                     {"x:0": _RNG.randn(4, 3).astype(np.float32)}], "compiled"),
    "scan": (_scan, [{"x:0": np.arange(1, 4, dtype=np.float32)}, {"x:0": np.arange(1, 7, dtype=np.float32)}],
             "compiled"),
    "tensor_array": (_tensor_array_sized_by_shape, [{"x:0": _RNG.randn(3, 2).astype(np.float32)},
                                                    {"x:0": _RNG.randn(5, 2).astype(np.float32)}], "compiled"),
    "tensor_array_fed_size": (_tensor_array_of_fed_size, [{"n:0": 2}, {"n:0": 4}], "eager"),
    "dynamic_size": (_dynamic_size_tensor_array, [{"n:0": 3}, {"n:0": 5}], "eager"),
}


@pytest.mark.oracle
@pytest.mark.parametrize("program", sorted(_LIST_PROGRAMS))
def test_tensor_list_loops_run_with_tensorflows_numbers_for_two_lengths(program):
    build, feeds, tier = _LIST_PROGRAMS[program]
    want, got, tiers = _run_in_one_session(build, feeds)
    _assert_same(want, got)
    # loops whose lists keep a size known while tracing compile; sizes from fed values run op by op
    assert list(tiers.values()) == [tier], tiers


def _gru(t):
    x = t.placeholder(t.float32, [2, None, 3], name="x")
    cell = t.nn.rnn_cell.GRUCell(4, kernel_initializer=t.constant_initializer(0.1))
    out, state = t.nn.dynamic_rnn(cell, x, dtype=t.float32)
    return [out, state]


def _gru_gradients(t):
    out, state = _gru(t)
    loss = t.reduce_sum(out * out) + t.reduce_sum(state)
    return [loss] + t.gradients(loss, t.trainable_variables() + [t.get_default_graph().get_tensor_by_name("x:0")])


_SEQUENCES = [{"x:0": _RNG.randn(2, 3, 3).astype(np.float32)}, {"x:0": _RNG.randn(2, 5, 3).astype(np.float32)}]


@pytest.mark.oracle
def test_dynamic_rnn_with_a_gru_cell_compiles():
    want, got, tiers = _run_in_one_session(_gru, _SEQUENCES)
    _assert_same(want, got)
    assert list(tiers.values()) == ["compiled"], tiers


@pytest.mark.oracle
def test_dynamic_rnn_gradients_pop_the_accumulated_intermediates():
    # TF's while_v2 gradient: the forward loop pushes each step's intermediates onto EmptyTensorLists,
    # the backward loop pops them. The lists are carried bounded (capacity from the loop's maximum, a traced
    # count), so both loops compile; TF's numbers for two sequence lengths.
    want, got, tiers = _run_in_one_session(_gru_gradients, _SEQUENCES)
    _assert_same(want, got)
    assert list(tiers.values()) == ["compiled"], tiers


def _gru_training(t):
    out, _ = _gru(t)
    loss = t.reduce_mean(out * out)
    step = t.train.AdamOptimizer(0.1).minimize(loss)
    with t.control_dependencies([step]):
        return [t.identity(loss)]


@pytest.mark.oracle
def test_dynamic_rnn_training_steps_update_the_variables_as_tensorflow():
    # one session, four Adam steps over sequences of two lengths: each loss reflects the steps before it
    want, got, tiers = _run_in_one_session(_gru_training, _SEQUENCES * 2, rounds=1)
    _assert_same(want, got)
    assert len({float(w[0]) for w in want}) == 4 and list(tiers.values()) == ["compiled"], (want, tiers)


def _raw_list_ops(t):
    x = t.placeholder(t.float32, [None, 2], name="x")
    ops = t.raw_ops
    pushed = ops.EmptyTensorList(element_shape=[2], max_num_elements=-1, element_dtype=t.float32)
    for value in (x[0], x[1] * 3.0, x[0] + x[1]):
        pushed = ops.TensorListPushBack(input_handle=pushed, tensor=value)
    popped, last = ops.TensorListPopBack(input_handle=pushed, element_shape=[2], element_dtype=t.float32)
    rows = ops.TensorListFromTensor(tensor=x, element_shape=[2])
    rows = ops.TensorListScatterIntoExistingList(input_handle=rows, tensor=x[:2] * 10.0, indices=[1, 0])
    gathered = ops.TensorListGather(input_handle=rows, indices=[1, 1, 0], element_shape=[2],
                                    element_dtype=t.float32)
    flat, lengths = ops.TensorListConcatV2(input_handle=rows, element_shape=[-1],
                                           leading_dims=t.zeros([0], t.int64), element_dtype=t.float32)
    doubled = t.add_n([rows, rows])
    unknown = ops.TensorListReserve(element_shape=-1, num_elements=3, element_dtype=t.int32)
    unknown = ops.TensorListSetItem(input_handle=unknown, index=1, item=[7, 8])
    return [ops.TensorListStack(input_handle=popped, element_shape=[2], element_dtype=t.float32), last,
            ops.TensorListLength(input_handle=pushed), gathered, flat, lengths,
            ops.TensorListElementShape(input_handle=rows, shape_type=t.int32),
            ops.TensorListElementShape(input_handle=unknown, shape_type=t.int64),
            ops.TensorListStack(input_handle=doubled, element_shape=[2], element_dtype=t.float32),
            ops.TensorListStack(input_handle=unknown, element_shape=-1, element_dtype=t.int32),
            ops.TensorListGetItem(input_handle=unknown, index=2, element_shape=-1, element_dtype=t.int32)]


@pytest.mark.oracle
def test_tensor_list_ops_outside_loops():
    feeds = [{"x:0": _RNG.randn(3, 2).astype(np.float32)}, {"x:0": _RNG.randn(4, 2).astype(np.float32)}]
    want, got, tiers = _run_in_one_session(_raw_list_ops, feeds)
    _assert_same(want, got)
    assert list(tiers.values()) == ["compiled"], tiers


def _write_past_the_end(t):
    n = t.placeholder(t.int32, [], name="n")
    arr = t.TensorArray(t.float32, size=2, element_shape=[])
    _, arr = t.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a.write(i, t.cast(i, t.float32))), [0, arr])
    return [arr.stack()]


@pytest.mark.oracle
def test_writing_past_the_end_of_a_list_fails_as_in_tensorflow():
    v1 = oracle.tf1()
    with oracle.control_flow_v2(True):
        graph = v1.Graph()
        with graph.as_default():
            out = _write_past_the_end(v1)[0].name
            with v1.Session(graph=graph) as sess:
                with pytest.raises(v1.errors.InvalidArgumentError, match="Trying to modify element 2 in a list "
                                   "with 2 elements"):
                    sess.run(out, {"n:0": 3})
        graph_def = graph.as_graph_def()
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            for _ in range(2):  # op by op, then compiled: the compiled run's failed check raises TF's error
                np.testing.assert_allclose(sess.run(out, {"n:0": 2}), [0.0, 1.0])
                with pytest.raises(tf.errors.InvalidArgumentError, match="Trying to modify element 2 in a list "
                                   "with 2 elements"):
                    sess.run(out, {"n:0": 3})


def _forward_then_gradients(build, feeds):
    """TF (control flow v2) builds a forward graph; its GraphDef, taken before any gradient exists, is
    imported here and differentiated by graphcompat's tf.gradients; TF differentiates its own graph.
    Returns TF's and our [loss, d loss / d inputs...] per feed, ours for two rounds in one session."""
    v1 = oracle.tf1()
    with oracle.control_flow_v2(True):
        graph = v1.Graph()
        with graph.as_default():
            with v1.variable_scope("", use_resource=True):
                loss, wrt = build(v1)
            init = v1.global_variables_initializer()
            graph_def = graph.as_graph_def()
            grads = v1.gradients(loss, wrt)
            with v1.Session(graph=graph) as sess:
                sess.run(init)
                want = [sess.run([loss] + grads, feed) for feed in feeds]
    with tf.Graph().as_default() as ours:
        tf.import_graph_def(graph_def, name="")
        loss_ = ours.get_tensor_by_name(loss.name)
        wrt_ = [ours.get_tensor_by_name(t.name) for t in wrt]
        grads_ = tf.gradients(loss_, wrt_)
        with tf.Session(graph=ours) as sess:
            sess.run(init.name)
            got = [[sess.run([loss_] + grads_, feed) for feed in feeds] for _ in range(2)]
    return want, got


def _map_fn_loss(t):
    x = t.placeholder(t.float32, [None], name="x")
    y = t.map_fn(lambda e: e * e + 1.0, x)
    return t.reduce_sum(y * y), [x]


def _scan_loss(t):
    x = t.placeholder(t.float32, [None, 2], name="x")
    w = t.identity(t.get_variable("w", initializer=t.constant([0.5, -1.5])), name="w_read")
    y = t.scan(lambda acc, e: acc * 0.9 + e * w, x)
    return t.reduce_sum(t.sin(y)), [x, w]


def _gru_loss(t):
    x = t.placeholder(t.float32, [None, None, 3], name="x")
    cell = t.nn.rnn_cell.GRUCell(4, kernel_initializer=t.constant_initializer(0.1),
                                 bias_initializer=t.constant_initializer(0.2))
    out, state = t.nn.dynamic_rnn(cell, x, dtype=t.float32)
    return t.reduce_sum(out * out) + t.reduce_sum(state), [x] + t.trainable_variables()


def _push_pop_loss(t):  # a loop that grows a list and one that shrinks it, differentiated by jax.vjp here
    x = t.placeholder(t.float32, [None], name="x")
    n = t.shape(x)[0]
    ops = t.raw_ops
    empty = ops.EmptyTensorList(element_shape=np.array([], np.int32), max_num_elements=-1, element_dtype=t.float32)
    _, pushed = t.while_loop(lambda i, lst: i < n,
                             lambda i, lst: (i + 1, ops.TensorListPushBack(input_handle=lst, tensor=t.sin(x[i]))),
                             [0, empty], maximum_iterations=n)

    def pop(j, lst, acc):
        lst, v = ops.TensorListPopBack(input_handle=lst, element_shape=np.array([], np.int32), element_dtype=t.float32)
        return j + 1, lst, acc + v * v * t.cast(j + 1, t.float32)
    _, _, total = t.while_loop(lambda j, lst, acc: j < n, pop, [0, pushed, 0.0], maximum_iterations=n)
    return total, [x]


@pytest.mark.oracle
@pytest.mark.parametrize("build", [_map_fn_loss, _scan_loss, _gru_loss, _push_pop_loss],
                         ids=["map_fn", "scan", "gru", "push_pop"])
def test_gradients_through_imported_tensor_lists_match_tensorflow(build):
    """graphcompat's tf.gradients differentiates through a control-flow-v2 graph that TF wrote (While loops
    carrying TensorLists, a run-time trip count from the fed length), first op by op, then compiled."""
    rng = np.random.RandomState(3)
    shape = {"map_fn": lambda n: [n], "scan": lambda n: [n, 2], "gru": lambda n: [2, n, 3], "push_pop": lambda n: [n]}[
        build.__name__[1:].replace("_loss", "")]
    feeds = [{"x:0": rng.randn(*shape(n)).astype(np.float32)} for n in (3, 5)]
    want, got = _forward_then_gradients(build, feeds)
    for round_ in got:
        for w_feed, g_feed in zip(want, round_):
            assert len(w_feed) == len(g_feed)
            for w, g in zip(w_feed, g_feed):
                np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-5)


# --- loops that grow and shrink TensorLists: carried bounded, so they compile --------------------------------
def _list_ops(t):
    return t.raw_ops


def _empty(t, shape=(), dtype=None, max_num_elements=-1):
    return _list_ops(t).EmptyTensorList(element_shape=np.array(shape, np.int32), max_num_elements=max_num_elements,
                                        element_dtype=dtype or t.float32)


def _pop_sum(t, lst, n, shape=()):
    """A loop that pops `n` elements and sums them, each weighted by its position from the back."""
    ops = _list_ops(t)

    def body(j, lst, acc):
        lst, v = ops.TensorListPopBack(input_handle=lst, element_shape=np.array(shape, np.int32),
                                       element_dtype=t.float32)
        return j + 1, lst, acc + v * t.cast(j + 1, t.float32)
    _, lst, acc = t.while_loop(lambda j, lst, acc: j < n, body, [0, lst, t.zeros(shape)])
    return lst, acc


def _push_one(t):  # one push per iteration, bounded by maximum_iterations; then a loop pops them all
    x = t.placeholder(t.float32, [None], name="x")
    n = t.shape(x)[0]
    ops = _list_ops(t)
    _, pushed = t.while_loop(lambda i, lst: i < n,
                             lambda i, lst: (i + 1, ops.TensorListPushBack(input_handle=lst, tensor=x[i] * 2.0)),
                             [0, _empty(t)], maximum_iterations=n)
    popped, total = _pop_sum(t, pushed, n)
    return [ops.TensorListLength(input_handle=pushed), total, ops.TensorListLength(input_handle=popped),
            ops.TensorListGetItem(input_handle=pushed, index=1, element_shape=[], element_dtype=t.float32),
            ops.TensorListGather(input_handle=pushed, indices=[1, 0], element_shape=[], element_dtype=t.float32)]


def _push_two(t):  # two pushes per iteration of vectors; the loop stops early (cond), before its maximum
    x = t.placeholder(t.float32, [None, 2], name="x")
    n = t.shape(x)[0]
    ops = _list_ops(t)

    def body(i, lst):
        lst = ops.TensorListPushBack(input_handle=lst, tensor=x[i])
        return i + 1, ops.TensorListPushBack(input_handle=lst, tensor=x[i] * x[i] + 1.0)
    _, pushed = t.while_loop(lambda i, lst: i < n - 1, body, [0, _empty(t, [2])], maximum_iterations=n)
    return [ops.TensorListLength(input_handle=pushed), _pop_sum(t, pushed, 2 * n - 2, [2])[1],
            ops.TensorListGather(input_handle=pushed, indices=[0, 3, 2], element_shape=[2], element_dtype=t.float32)]


def _pop_fed(t):  # a loop that only shrinks a list needs no bound: it pops a fed number of rows
    x = t.placeholder(t.float32, [None, 3], name="x")
    m = t.placeholder(t.int32, [], name="m")
    rows = _list_ops(t).TensorListFromTensor(tensor=x, element_shape=[3])
    left, total = _pop_sum(t, rows, m, [3])
    return [total, _list_ops(t).TensorListLength(input_handle=left)]


def _nested(t):  # an inner loop pushes onto a list the outer loop carries: both bounds make its capacity
    x = t.placeholder(t.float32, [None], name="x")
    n = t.shape(x)[0]
    ops = _list_ops(t)

    def outer(i, lst):
        def inner(j, lst):
            return j + 1, ops.TensorListPushBack(input_handle=lst, tensor=x[i] * t.cast(j + 1, t.float32))
        _, lst = t.while_loop(lambda j, lst: j < 2, inner, [0, lst], maximum_iterations=2)
        return i + 1, lst
    _, pushed = t.while_loop(lambda i, lst: i < n, outer, [0, _empty(t)], maximum_iterations=n)
    return [ops.TensorListLength(input_handle=pushed), _pop_sum(t, pushed, 2 * n)[1]]


def _cond_push(t):  # a push in one branch of a cond: the If returns both branches' lists bounded alike
    x = t.placeholder(t.float32, [None], name="x")
    n = t.shape(x)[0]
    ops = _list_ops(t)

    def body(i, lst):
        return i + 1, t.cond(x[i] > 0, lambda: ops.TensorListPushBack(input_handle=lst, tensor=x[i]), lambda: lst)
    _, pushed = t.while_loop(lambda i, lst: i < n, body, [0, _empty(t)], maximum_iterations=n)
    m = ops.TensorListLength(input_handle=pushed)

    def pop(j, lst, acc):  # as many pops as pushes, a run-time count: a shrinking loop needs no bound
        lst, v = ops.TensorListPopBack(input_handle=lst, element_shape=np.array([], np.int32), element_dtype=t.float32)
        return j + 1, lst, acc + t.reshape(v, []) * t.cast(j + 1, t.float32)
    _, _, total = t.while_loop(lambda j, lst, acc: j < m, pop, [0, pushed, 0.0])
    return [m, total]


def _scan_gradients(t):  # TF's own gradient of a scan: accumulators pushed forward, popped backward
    x = t.placeholder(t.float32, [None, 2], name="x")
    w = t.get_variable("w", initializer=t.constant([0.5, -1.5]))
    y = t.scan(lambda acc, e: acc * t.tanh(e * w) + e, x)
    loss = t.reduce_sum(t.sin(y))
    return [loss] + t.gradients(loss, [x, w])


_GROWING = {
    "push_one": (_push_one, [{"x:0": np.arange(1, 4, dtype=np.float32)}, {"x:0": np.arange(1, 7, dtype=np.float32)}]),
    "push_two": (_push_two, [{"x:0": _RNG.randn(3, 2).astype(np.float32)},
                             {"x:0": _RNG.randn(5, 2).astype(np.float32)}]),
    "pop_fed": (_pop_fed, [{"x:0": _RNG.randn(4, 3).astype(np.float32), "m:0": 2},
                           {"x:0": _RNG.randn(4, 3).astype(np.float32), "m:0": 4}]),
    "cond_push": (_cond_push, [{"x:0": np.array([1.0, -2.0, 3.0], np.float32)},
                               {"x:0": np.array([-1.0, 2.0, 3.0, 4.0, -5.0], np.float32)}]),
    "nested": (_nested, [{"x:0": np.arange(1, 3, dtype=np.float32)}, {"x:0": np.arange(1, 5, dtype=np.float32)}]),
    "scan_gradients": (_scan_gradients, [{"x:0": _RNG.randn(3, 2).astype(np.float32)},
                                         {"x:0": _RNG.randn(6, 2).astype(np.float32)}]),
}


@pytest.mark.oracle
@pytest.mark.parametrize("program", sorted(_GROWING))
def test_loops_that_push_and_pop_lists_compile_with_tensorflows_numbers(program):
    build, feeds = _GROWING[program]
    want, got, tiers = _run_in_one_session(build, feeds)
    _assert_same(want, got)
    assert list(tiers.values()) == ["compiled"], tiers


def _pop_then_update(t):
    x = t.placeholder(t.float32, [None, 3], name="x")
    m = t.placeholder(t.int32, [], name="m")
    v = t.get_variable("v", initializer=t.zeros([3]))
    _, total = _pop_sum(t, _list_ops(t).TensorListFromTensor(tensor=x, element_shape=[3]), m, [3])
    with t.control_dependencies([v.assign_add(total)]):
        return [t.identity(total, name="total")]


@pytest.mark.oracle
def test_popping_an_empty_list_in_a_compiled_loop_fails_as_in_tensorflow_and_changes_nothing():
    x = _RNG.randn(4, 3).astype(np.float32)
    good, bad = {"x:0": x, "m:0": 3}, {"x:0": x, "m:0": 5}
    v1 = oracle.tf1()
    with oracle.control_flow_v2(True):
        graph = v1.Graph()
        with graph.as_default():
            with v1.variable_scope("", use_resource=True):
                out = _pop_then_update(v1)[0].name
            init = v1.global_variables_initializer().name
            with v1.Session(graph=graph) as sess:
                sess.run(init)
                want = sess.run(out, good)
                with pytest.raises(v1.errors.InvalidArgumentError, match="Trying to pop from an empty list."):
                    sess.run(out, bad)
                want_v = sess.run("v/Read/ReadVariableOp:0")
            graph_def = graph.as_graph_def()
    with tf.Graph().as_default() as ours:
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=ours) as sess:
            sess.run(init)
            tf.reset_stats()
            for _ in range(3):  # op by op, then compiled: the same shapes compile once
                np.testing.assert_allclose(sess.run(out, good), want, rtol=1e-6)
            assert tf.stats()["signatures"]["total:0"]["compiles"] == 1, tf.stats()["signatures"]
            (runner,) = [r for r in sess._runners if [t.name for t in r.plan.fetch_tensors] == [out]]
            assert runner.compiled is not None and not runner.eager_only
            # the open batch reaches TensorList ops, which the padding analysis has no rule for: exact shapes
            assert runner.pad is None and runner.padded is None
            before = sess.run("v/Read/ReadVariableOp:0")
            with pytest.raises(tf.errors.InvalidArgumentError, match="Trying to pop from an empty list."):
                sess.run(out, bad)
            # the failed compiled run changed nothing
            np.testing.assert_array_equal(sess.run("v/Read/ReadVariableOp:0"), before)
            np.testing.assert_allclose(sess.run(out, good), want, rtol=1e-6)
            np.testing.assert_allclose(sess.run("v/Read/ReadVariableOp:0"), before + want, rtol=1e-6)
            assert runner.compiled is not None and not runner.eager_only
            assert tf.stats()["signatures"]["total:0"]["compiles"] == 1
    np.testing.assert_allclose(want_v, want, rtol=1e-6)


def _push_back_batch(t):
    ops = _list_ops(t)
    x = t.placeholder(t.float32, [2, 2], name="x")
    full = ops.EmptyTensorList(element_shape=[2], max_num_elements=1, element_dtype=t.float32)
    full = ops.TensorListPushBack(input_handle=full, tensor=x[0] * 3.0)
    unknown = ops.EmptyTensorList(element_shape=-1, max_num_elements=-1, element_dtype=t.float32)
    # TF's batch push ignores max_num_elements: the full list takes one more
    pushed = ops.TensorListPushBackBatch(input_handles=t.stack([full, unknown]), tensor=x + 1.0)
    a, b = t.unstack(pushed, num=2)
    return [ops.TensorListStack(input_handle=lst, element_shape=[2], element_dtype=t.float32) for lst in (a, b)] + \
        [ops.TensorListLength(input_handle=a)]


@pytest.mark.oracle
def test_push_back_batch_appends_one_row_to_each_list_as_tensorflow():
    feeds = [{"x:0": _RNG.randn(2, 2).astype(np.float32)}, {"x:0": _RNG.randn(2, 2).astype(np.float32)}]
    want, got, tiers = _run_in_one_session(_push_back_batch, feeds)
    _assert_same(want, got)
    assert list(tiers.values()) == ["compiled"], tiers


@pytest.mark.oracle
@pytest.mark.parametrize("value, message", [
    (np.ones((1, 2), np.float32), r"Expected tensor.shape\[0\] == input_handles.size, but saw 1 vs. 2"),
    (np.float32(1.0), "Expected tensor to be at least a vector, but saw shape: \\[\\]"),
    (np.ones((2, 3), np.float32), r"Tried to append a tensor with incompatible shape to a list at index 0. Op element "
                                  r"shape: \[3\] list shape: \[2\]"),
])
def test_push_back_batch_fails_as_tensorflow(value, message):
    def build(t):
        ops = _list_ops(t)
        x = t.placeholder(t.float32, None, name="x")
        lists = [ops.EmptyTensorList(element_shape=[2], max_num_elements=-1, element_dtype=t.float32) for _ in "ab"]
        return [ops.TensorListLength(input_handle=t.unstack(
            ops.TensorListPushBackBatch(input_handles=t.stack(lists), tensor=x), num=2)[0])]
    v1 = oracle.tf1()
    with oracle.control_flow_v2(True):
        graph = v1.Graph()
        with graph.as_default():
            out = build(v1)[0].name
            with v1.Session(graph=graph) as sess, pytest.raises(v1.errors.InvalidArgumentError, match=message):
                sess.run(out, {"x:0": value})
        graph_def = graph.as_graph_def()
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match=message):
                sess.run(out, {"x:0": value})


@pytest.mark.oracle
def test_push_back_batch_shape_errors_are_tensorflows():
    from graphcompat.framework.registry import apply_op
    v1 = oracle.tf1()

    def ours(op_type, **kw):  # graphcompat has no tf.raw_ops: the registry records the same node
        attrs = {"element_dtype": tf.float32} if op_type == "EmptyTensorList" else {}
        return apply_op(op_type, list(kw.values()), attrs)
    for lib, record in ((v1, lambda op_type, **kw: getattr(v1.raw_ops, op_type)(**kw)), (tf, ours)):
        with lib.Graph().as_default():
            lst = record("EmptyTensorList", element_shape=lib.constant([2]), max_num_elements=lib.constant(-1),
                         **({"element_dtype": lib.float32} if lib is v1 else {}))
            with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 0"):
                record("TensorListPushBackBatch", input_handles=lst, tensor=lib.constant([[1.0, 2.0]]))
            with pytest.raises(ValueError, match="Dimensions must be equal, but are 1 and 2"):
                record("TensorListPushBackBatch", input_handles=lib.stack([lst, lst]),
                       tensor=lib.constant([[1.0, 2.0]]))


def _optional_conds(t):
    """A cond whose branches return optionals of different structures in one output (a [3, 2] value on one
    side, a [2] value on the other; a value or none), read in a second cond on the same predicate and
    directly: what TF 2's gradient of a cond does with the cond's intermediates."""
    x = t.placeholder(t.float32, [3, 2], name="x")
    p = t.placeholder(t.bool, [], name="p")
    raw = t.raw_ops
    a, b = t.cond(p, lambda: (raw.OptionalFromValue(components=[t.tanh(x)]), raw.OptionalFromValue(components=[x[0]])),
                  lambda: (raw.OptionalFromValue(components=[x[1] * 2.0]), raw.OptionalNone()))

    def get(opt, shape):
        return raw.OptionalGetValue(optional=opt, output_types=[t.float32], output_shapes=[shape])[0]
    read = t.cond(p, lambda: t.reduce_sum(get(a, [3, 2])) + t.reduce_sum(get(b, [2])),
                  lambda: t.reduce_sum(get(a, [2])))
    return [t.identity(read, name="read"), t.identity(raw.OptionalHasValue(optional=b), name="has"),
            t.identity(get(b, [2]), name="b_value")]


@pytest.mark.oracle
def test_a_compiled_cond_returns_optionals_of_either_branch_and_reads_fail_as_tensorflow():
    x = _RNG.randn(3, 2).astype(np.float32)
    v1 = oracle.tf1()
    with oracle.control_flow_v2(True):
        graph = v1.Graph()
        with graph.as_default():
            read, has, b_value = (t.name for t in _optional_conds(v1))
            with v1.Session(graph=graph) as sess:
                want = {p: sess.run([read, has], {"x:0": x, "p:0": p}) for p in (True, False)}
                want_b = sess.run(b_value, {"x:0": x, "p:0": True})
                with pytest.raises(v1.errors.InvalidArgumentError) as tf_error:
                    sess.run(b_value, {"x:0": x, "p:0": False})
            graph_def = graph.as_graph_def()
    assert "The given optional does not have a value." in tf_error.value.message
    with tf.Graph().as_default() as ours:
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=ours) as sess:
            for _ in range(2):  # op by op, then compiled
                for p in (True, False):
                    oracle.assert_same_values(sess.run([read, has], {"x:0": x, "p:0": p}), want[p], 1e-6, 1e-6, p)
            (runner,) = [r for r in sess._runners if [t.name for t in r.plan.fetch_tensors] == [read, has]]
            assert runner.compiled is not None and not runner.eager_only
            for _ in range(2):
                np.testing.assert_allclose(sess.run(b_value, {"x:0": x, "p:0": True}), want_b, rtol=1e-6)
                with pytest.raises(tf.errors.InvalidArgumentError, match="The given optional does not have a value."):
                    sess.run(b_value, {"x:0": x, "p:0": False})
            (runner,) = [r for r in sess._runners if [t.name for t in r.plan.fetch_tensors] == [b_value]]
            assert runner.compiled is not None and not runner.eager_only


def _lists_of_lists(t):
    """A list whose elements are lists of different lengths (what while_v2's gradient of nested loops pushes),
    added to itself and to its zeros, popped, each inner list read back."""
    ops = _list_ops(t)
    x = t.placeholder(t.float32, [2], name="x")

    def inner(k):
        lst = _empty(t, [2])
        for j in range(k):
            lst = ops.TensorListPushBack(input_handle=lst, tensor=x * (j + 1.0))
        return lst
    outer = _empty(t, (), t.variant)
    for k in (1, 2):
        outer = ops.TensorListPushBack(input_handle=outer, tensor=inner(k))
    total = t.add_n([outer, outer, ops.ZerosLike(x=outer)])
    outs = [ops.TensorListLength(input_handle=total)]
    for _ in (1, 2):
        total, lst = ops.TensorListPopBack(input_handle=total, element_shape=-1, element_dtype=t.variant)
        outs.append(ops.TensorListStack(input_handle=lst, element_shape=[2], element_dtype=t.float32))
    return outs


@pytest.mark.oracle
def test_lists_of_lists_outside_loops_compile_with_tensorflows_numbers():
    feeds = [{"x:0": np.array([1.0, -2.0], np.float32)}, {"x:0": np.array([0.5, 3.0], np.float32)}]
    want, got, tiers = _run_in_one_session(_lists_of_lists, feeds)
    _assert_same(want, got)
    assert list(tiers.values()) == ["compiled"], tiers
