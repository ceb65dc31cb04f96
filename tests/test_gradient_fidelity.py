"""Gradients where TF's gradient functions are not the exact derivative JAX would give (ties, zeros,
logarithms of non-positive bases): graphcompat's rules carry TF's definitions (custom JVP/VJP), so a
training step moves the variables as TF's would. Each line runs under both graphcompat (op by op, then
compiled) and real TF, and compares values."""
import numpy as np
import pytest

from tests import _op_oracle

pytestmark = pytest.mark.oracle


def _grads(f, *values):
    """tf.gradients of sum(f(*inputs)) w.r.t. each input (fed through placeholder_with_default, so each
    tier computes them)."""
    def build(tf):
        xs = [tf.placeholder_with_default(v, v.shape) for v in values]
        return tf.gradients(tf.reduce_sum(f(tf, *xs)), xs)
    return build


F = np.float32
CASES = [
    # PowGrad: d/dy is z*log(x) where x > 0, 0 elsewhere (jax: NaN for x < 0, and for 0^0)
    ("pow_negative_base", _grads(lambda tf, x, y: tf.pow(x, y), np.array([-2., -1.5, 0., 0., 2.], F),
                                 np.array([3., 2., 0., 2., 0.5], F))),
    ("pow_float64", _grads(lambda tf, x, y: tf.pow(x, y), np.array([-2., 0., 3.]), np.array([2., 0., 1.5]))),
    # CumprodGrad: div_no_nan(cumsum(cumprod(x) * dy, reverse), x): 0 where x is 0
    *[(f"cumprod_zeros_{ex}_{rev}", _grads(lambda tf, x, ex=ex, rev=rev: tf.cumprod(x, exclusive=ex, reverse=rev),
                                           np.array([2., 0., 3., 0., 4., 5.], F)))
      for ex in (False, True) for rev in (False, True)],
    ("cumprod_2d_axis1", _grads(lambda tf, x: tf.cumprod(x, axis=1), np.array([[1., 0., 2.], [3., 4., 0.5]], F))),
    # UnsortedSegmentMax/Min: the gradient is split evenly among the elements equal to the result
    ("unsorted_segment_max_ties", _grads(lambda tf, x: tf.unsorted_segment_max(x, [0, 0, 1, 1, -1, 2], 4),
                                         np.array([2., 2., 1., 3., 7., np.nan], F))),
    ("unsorted_segment_min_ties", _grads(lambda tf, x: tf.unsorted_segment_min(x, [0, 0, 0, 1], 2),
                                         np.array([[2., 1.], [2., 1.], [5., 1.], [3., 3.]], F))),
    ("segment_max_ties", _grads(lambda tf, x: tf.segment_max(x, [0, 0, 1, 1]), np.array([2., 2., 1., 3.], F))),
    # Maximum/Minimum: ties go to x; reduce_max: split among ties; MaxPool: to the first maximum
    ("maximum_ties", _grads(lambda tf, x, y: tf.maximum(x, y) + tf.minimum(x, y) * 2.0,
                            np.array([1., 2., 0., -0.], F), np.array([1., 3., -0., 0.], F))),
    ("reduce_max_ties", _grads(lambda tf, x: tf.reduce_max(x, axis=1),
                               np.array([[1., 3., 3.], [2., 2., 2.]], F))),
    ("max_pool_ties", _grads(lambda tf, x: tf.nn.max_pool(x, [1, 2, 2, 1], [1, 1, 1, 1], "VALID"),
                             np.array([1, 1, 1, 1, 2, 2, 0, 2, 1, 1, 1, 1, 3, 0, 3, 3], F).reshape(1, 4, 4, 1))),
    # ComplexAbs: div_no_nan(z, |z|): 0 at z = 0
    ("complex_abs_at_zero", _grads(lambda tf, x: tf.abs(tf.complex(x, x * 2.0)), np.array([0., 1., -2.], F))),
    # TensorScatterUpdate: every update gets the gradient at its index (duplicates too); Max/Min: split ties
    ("tensor_scatter_update_duplicates", _grads(lambda tf, x, u: tf.tensor_scatter_update(x, [[1], [1], [3]], u) * 2.0,
                                                np.arange(5, dtype=F), np.array([7., 8., 9.], F))),
    ("tensor_scatter_max_ties", _grads(lambda tf, x, u: tf.tensor_scatter_nd_max(x, [[1], [1], [3]], u),
                                       np.array([1., 2., 3., 4., 5.], F), np.array([2., 2., 4.], F))),
    ("tensor_scatter_min_ties", _grads(lambda tf, x, u: tf.tensor_scatter_nd_min(x, [[1], [2], [3]], u),
                                       np.array([1., 2., 3., 4., 5.], F), np.array([2., 2., 1.], F))),
    # CTCLoss: its own gradient output (differentiating the loss again tied alignments wrongly)
    ("ctc_loss_uniform_logits", lambda tf: tf.gradients(tf.reduce_sum(tf.nn.ctc_loss(
        tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [1, 2, 2], [2, 2]),
        tf.placeholder_with_default(np.log(np.full((3, 2, 4), 0.25, F)), [3, 2, 4]), [3, 3])),
        tf.get_default_graph().get_tensor_by_name("PlaceholderWithDefault:0"))),
    # SegmentProd / UnsortedSegmentProd: TF's three cases (no zero: prod/x; one zero; two or more zeros)
    ("segment_prod_zeros", _grads(lambda tf, x: tf.segment_prod(x, [0, 0, 0, 1, 1, 2, 2]),
                                  np.array([2., 0., 3., 4., 5., 0., 0.], F))),
    ("unsorted_segment_prod_zeros", _grads(lambda tf, x: tf.unsorted_segment_prod(x, [0, 0, 1, 1, -1, 2], 4),
                                           np.array([[2., 0.], [3., 4.], [0., 5.], [0., 1.], [7., 7.], [6., 6.]], F))),
    # DynamicPartition / DynamicStitch: data-dependent shapes (host rules) with differentiable data
    ("dynamic_partition", _grads(lambda tf, x: tf.dynamic_partition(x, [0, 1, 0, 2, 1], 3)[1] * 3.0,
                                 np.array([1., 2., 3., 4., 5.], F))),
    ("dynamic_stitch_duplicates", _grads(lambda tf, a, b: tf.dynamic_stitch([[0, 1], [1, 2]], [a, b]) * [1., 2., 3.],
                                         np.array([1., 2.], F), np.array([3., 4.], F))),
    ("abs_relu_at_zero", _grads(lambda tf, x: tf.abs(x) + tf.nn.relu(x) + tf.nn.relu6(x + 6.0),
                                np.array([0., -0., 1., -1.], F))),
]


@pytest.mark.parametrize("name, build", CASES, ids=[c[0] for c in CASES])
def test_gradient_is_tfs(name, build):
    _op_oracle.compare(build, runs=2, tol=1e-6)


def test_gradient_through_a_while_loop_without_maximum_iterations():
    """`while i < 3` (no maximum_iterations): the op-by-op run counts the forward loop's iterations, and the
    reverse pass runs as a loop of that bound, op by op and compiled (it raised NotImplementedError)."""
    def build(tf):
        w = tf.get_variable("w", initializer=tf.constant(0.5), use_resource=False)
        n = tf.placeholder_with_default(3, [])
        _, y = tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, acc * w + 2.0), [0, tf.constant(1.0)])
        return [y] + tf.gradients(y, [w])
    _op_oracle.compare(build, runs=3, tol=1e-6)


def test_loop_trip_count_growing_past_its_gradient_bound_reruns_exactly():
    import graphcompat as tf
    with tf.Graph().as_default():
        w = tf.get_variable("w", initializer=tf.constant(1.01), use_resource=False)
        n = tf.placeholder(tf.int32, [])
        _, y = tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, acc * w), [0, tf.constant(1.0)])
        g = tf.gradients(y, [w])[0]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for trips in (3, 3, 40, 40, 5):  # 40 exceeds the bound sized from 3 iterations (16)
                got = sess.run(g, {n: trips})
                np.testing.assert_allclose(got, trips * 1.01 ** (trips - 1), rtol=1e-5)


def _loop_of_reads(tf):
    w = tf.get_variable("w", initializer=tf.constant(0.5), use_resource=True)
    _, y = tf.while_loop(lambda i, acc: i < 3, lambda i, acc: (i + 1, acc * w + 2.0), [0, tf.constant(1.0)])
    return [y] + tf.gradients(y, [w])  # d/dw = 4.75 at w = 0.5


def _cond_of_reads(tf):
    w = tf.get_variable("w", initializer=tf.constant([0.5, -1.5]), use_resource=True)
    x = tf.placeholder_with_default(np.array([2.0, 3.0], F), [2])
    y = tf.cond(tf.reduce_sum(x) > 1.0, lambda: tf.reduce_sum(x * w * w), lambda: tf.reduce_sum(x + w))
    return [y] + tf.gradients(y, [w, x])


def _nested_loops(tf):
    w = tf.get_variable("w", initializer=tf.constant([[0.9, 0.1], [-0.2, 0.7]]), use_resource=True)
    b = tf.get_variable("b", initializer=tf.constant([0.1, 0.2]), use_resource=True)

    def outer(i, h):
        _, h = tf.while_loop(lambda j, h: j < 2, lambda j, h: (j + 1, tf.tanh(tf.matmul(h, w) + b)), [0, h])
        return i + 1, h * 1.5
    _, y = tf.while_loop(lambda i, h: i < 3, outer, [0, tf.constant([[1.0, -1.0]])])
    return [y] + tf.gradients(tf.reduce_sum(y * y), [w, b])


def _read_outside_and_inside(tf):
    w = tf.get_variable("w", initializer=tf.constant([1.5, -0.5]), use_resource=True)
    _, acc = tf.while_loop(lambda i, acc: i < 4, lambda i, acc: (i + 1, acc * w), [0, tf.ones([2])],
                           maximum_iterations=10)
    y = tf.reduce_sum(acc * w) + tf.reduce_sum(tf.sin(w.read_value()))
    return [y] + tf.gradients(y, [w])


def _loop_with_placeholder_trips(tf):
    w = tf.get_variable("w", initializer=tf.constant(0.8), use_resource=True)
    n = tf.placeholder_with_default(4, [])
    _, y = tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, tf.sin(acc * w) + w), [0, tf.constant(1.0)])
    return [y] + tf.gradients(y, w)


def _loop_reads_only_outside(tf):
    """The loop reads w, but y depends only on a top-level read: the loop is not differentiated."""
    w = tf.get_variable("w", initializer=tf.constant(2.0), use_resource=True)
    _, acc = tf.while_loop(lambda i, acc: i < 3, lambda i, acc: (i + 1, acc * w), [0, tf.constant(1.0)])
    y = w * 3.0
    return [y, acc] + tf.gradients(y, [w]) + tf.gradients(acc, [w])


def _embedding_in_loop(tf):
    table = tf.get_variable("table", initializer=tf.constant(np.arange(12, dtype=F).reshape(4, 3) / 10),
                            use_resource=True)
    ids = tf.constant([[0, 2], [3, 2], [1, 0]])

    def body(i, acc):
        return i + 1, acc + tf.reduce_sum(tf.nn.embedding_lookup(table, ids[i]) * tf.cast(i + 1, tf.float32))
    _, y = tf.while_loop(lambda i, acc: i < 3, body, [0, tf.constant(0.0)])
    g = tf.gradients(y, [table])[0]
    return [y, tf.convert_to_tensor(g)]


def _second_order(tf):
    w = tf.get_variable("w", initializer=tf.constant(0.5), use_resource=True)
    _, y = tf.while_loop(lambda i, acc: i < 3, lambda i, acc: (i + 1, acc * w + 2.0 * w * w), [0, tf.constant(1.5)],
                         maximum_iterations=3)
    g = tf.gradients(y, [w])[0]
    return [y, g] + tf.gradients(g * g, [w])


def _switch_case_and_other_xs(tf):
    w = tf.get_variable("w", initializer=tf.constant([[0.3, -0.2], [0.1, 0.4]]), use_resource=True)
    x = tf.placeholder_with_default(np.array([[1.0, 2.0]], F), [1, 2])
    k = tf.placeholder_with_default(1, [])
    y = tf.switch_case(k, [lambda: x * 2.0, lambda: tf.tanh(tf.matmul(x, w)), lambda: tf.matmul(x, w * w)])
    return [y] + tf.gradients(tf.reduce_sum(y), [w, x])


def _float64_cond_in_loop(tf):
    w = tf.get_variable("w", initializer=tf.constant([0.7, -0.3], tf.float64), use_resource=True)

    def body(i, h):
        return i + 1, tf.cond(i % 2 < 1, lambda: tf.tanh(h * w), lambda: h + w)
    _, h = tf.while_loop(lambda i, h: i < 4, body, [0, tf.constant([1.0, 2.0], tf.float64)], maximum_iterations=4)
    return [h] + tf.gradients(tf.reduce_sum(h * h), [w])


def _gradient_inside_the_body(tf):
    """tf.gradients called in the body, of the body's own reads (and of an inner loop's)."""
    w = tf.get_variable("w", initializer=tf.constant(0.5), use_resource=True)

    def body(i, acc):
        _, inner = tf.while_loop(lambda j, a: j < 2, lambda j, a: (j + 1, a * w), [0, acc], maximum_iterations=2)
        g = tf.gradients(acc * w * w + inner, [w])[0]
        return i + 1, acc + g
    _, y = tf.while_loop(lambda i, acc: i < 3, body, [0, tf.constant(1.0)], maximum_iterations=3)
    return [y]


RESOURCE_CONTROL_FLOW = [("gradient_inside_the_body", _gradient_inside_the_body),
                         ("second_order", _second_order), ("switch_case_and_other_xs", _switch_case_and_other_xs),
                         ("float64_cond_in_loop", _float64_cond_in_loop),
                         ("while_loop", _loop_of_reads), ("cond", _cond_of_reads), ("nested_loops", _nested_loops),
                         ("read_outside_and_inside", _read_outside_and_inside),
                         ("placeholder_trip_count", _loop_with_placeholder_trips),
                         ("loop_not_on_the_path", _loop_reads_only_outside),
                         ("embedding_lookup_in_loop", _embedding_in_loop)]


@pytest.mark.parametrize("name, build", RESOURCE_CONTROL_FLOW, ids=[c[0] for c in RESOURCE_CONTROL_FLOW])
def test_resource_variable_read_inside_control_flow(name, build):
    """A resource variable read inside a while_loop/cond body: its gradient flows through the control-flow
    op (it was None, or only the top-level reads' part), op by op and compiled."""
    _op_oracle.compare(build, runs=2, tol=1e-5)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_dynamic_rnn_gru_with_resource_variables_trains_as_tf(optimizer):
    """dynamic_rnn reads the cell's kernels inside its While body: a few training steps match TF's losses."""
    rng = np.random.RandomState(0)
    inputs = rng.randn(2, 5, 3).astype(F)
    target = rng.randn(2, 4).astype(F)

    def build(tf):
        tf.set_random_seed(1)
        init = tf.constant_initializer(0.1)
        with tf.variable_scope("rnn", use_resource=True, initializer=tf.glorot_uniform_initializer(seed=3)):
            cell = tf.nn.rnn_cell.GRUCell(4, kernel_initializer=tf.glorot_uniform_initializer(seed=4),
                                          bias_initializer=init)
            out, state = tf.nn.dynamic_rnn(cell, tf.constant(inputs), sequence_length=[5, 3], dtype=tf.float32)
        loss = tf.reduce_mean(tf.square(state - target)) + 0.1 * tf.reduce_mean(out)
        opt = tf.train.GradientDescentOptimizer(0.5) if optimizer == "sgd" else tf.train.AdamOptimizer(0.05)
        step = opt.minimize(loss)
        with tf.control_dependencies([step]):
            after = tf.identity(loss)
        return [after]
    got = _op_oracle.run(__import__("graphcompat"), build, runs=4)[0]
    want = _op_oracle.run(__import__("tests.oracle", fromlist=["tf1"]).tf1(), build, runs=4)[0]
    np.testing.assert_allclose(np.ravel(got), np.ravel(want), rtol=1e-4, atol=1e-5)
    assert got[0][0] > got[-1][0]  # it trains


def _export_loop_model(tmp_path):
    """A resource-variable loop model trained two steps in graphcompat, saved as a meta graph."""
    import os
    import graphcompat as tf
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 2], name="x")
        w = tf.get_variable("w", initializer=tf.constant([[0.5, -0.2], [0.3, 0.2]]), use_resource=True)
        _, h = tf.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w))), [0, x],
                             maximum_iterations=3)
        loss = tf.reduce_sum(tf.square(h - 1.0), name="loss")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
        tf.add_to_collection("loss", loss)
        tf.add_to_collection("train", train)
        assert g.as_graph_def().library.function  # the export writes the library (SymbolicGradient's f)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, os.path.join(str(tmp_path), "m"))
            want = []
            for _ in range(2):
                sess.run(train, {x: X_LOOP})
                want.append(sess.run(loss, {x: X_LOOP}))
    return prefix, want


X_LOOP = np.array([[1.0, -0.5], [0.25, 2.0]], F)


def test_graphcompat_reimports_a_resource_variable_loop_gradient(tmp_path):
    """The SymbolicGradient's resource argument with a float gradient re-imports as a variable's gradient."""
    import graphcompat as tf
    prefix, want = _export_loop_model(tmp_path)
    with tf.Graph().as_default() as g:
        saver = tf.train.import_meta_graph(prefix + ".meta")
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            got = []
            for _ in range(2):
                sess.run(g.get_collection("train")[0], {"x:0": X_LOOP})
                got.append(sess.run(g.get_collection("loss")[0], {"x:0": X_LOOP}))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert want[1] < want[0]  # the gradient is there: it trains


def test_tf_trains_the_export_with_graphcompats_numbers(tmp_path):
    """Real TF imports the meta graph, restores it and trains: the exported gradient of a resource variable
    read inside a loop body (graphcompat/framework/forward_values.py passes the variable's value) gives
    graphcompat's losses."""
    from tests import oracle
    v1 = oracle.tf1()
    prefix, want = _export_loop_model(tmp_path)
    with v1.Graph().as_default() as g:
        saver = v1.train.import_meta_graph(prefix + ".meta")
        with v1.Session(graph=g) as sess:
            saver.restore(sess, prefix)
            got = []
            for _ in range(2):
                sess.run("train", {"x:0": X_LOOP})
                got.append(sess.run("loss:0", {"x:0": X_LOOP}))
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_a_body_that_assigns_the_variable_it_reads_is_refused_before_the_graph_changes():
    """The gradient would be taken at the value the loop's assigns left (TF's own gradient of such a loop
    is no derivative either): refused, naming the write, with no op added."""
    import graphcompat as tf
    with tf.Graph().as_default() as g:
        w = tf.get_variable("w", initializer=tf.constant(0.5), use_resource=True)

        def body(i, acc):
            with tf.control_dependencies([w.assign_add(0.1)]):
                return i + 1, acc * w.read_value()
        _, y = tf.while_loop(lambda i, acc: i < 3, body, [0, tf.constant(1.0)], maximum_iterations=3)
        before = len(g.get_operations())
        with pytest.raises(NotImplementedError, match="both reads and writes .AssignAddVariableOp"):
            tf.gradients(y, [w])
        assert len(g.get_operations()) == before
