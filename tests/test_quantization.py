"""TF's fake-quantization ops (tf.quantization.fake_quant_* and TF 1's tf.fake_quant_* aliases) against
real TF 2.21: values and gradients bit for bit (op by op and compiled), including inputs on the nudged
range's bounds and on the grid's half-way points, ranges that exclude zero, narrow_range and num_bits
2/4/8/16; the gradient graph's *Gradient ops; shape, attr and run-time errors (class and text)."""
import numpy as np
import pytest

import graphcompat
from lowering.rules.quantization import _nudge
from tests import oracle
from tests._op_oracle import compare, compare_error

pytestmark = pytest.mark.oracle

RANGES = [(-6.0, 6.0), (-1.0, 1.0), (0.0, 1.0), (-1.0, 0.0), (0.5, 2.0), (-3.0, -0.25), (-0.1, 3.7),
          (-2.3, 0.7), (-127.5, 127.5), (-1e-3, 2e-3), (-10.0, 1e-4)]
BITS = [(2, False), (4, True), (8, False), (8, True), (16, False), (16, True)]
_rng = np.random.RandomState(7)


def _points(low: float, high: float, num_bits: int, narrow_range: bool, count: int = 96) -> np.ndarray:
    """Inputs that decide rounding: grid points, half-way points and their float32 neighbours, the
    nudged bounds and their neighbours, zero, and random values around the range (`count` in all)."""
    f32 = np.float32
    nudged_min, nudged_max, scale, _ = _nudge(f32(low), f32(high), 1 if narrow_range else 0, (1 << num_bits) - 1)
    steps = min((1 << num_bits) - 1, 12)
    grid = (nudged_min + np.arange(steps, dtype=f32) * scale).astype(f32)
    half = (grid + scale / f32(2)).astype(f32)
    special = [grid, half, np.nextafter(half, f32(np.inf)), np.nextafter(half, f32(-np.inf)),
               [nudged_min, nudged_max, np.nextafter(nudged_min, f32(-np.inf)), np.nextafter(nudged_max, f32(np.inf)),
                f32(0), f32(low), f32(high)]]
    points = np.concatenate([np.asarray(s, f32).ravel() for s in special])
    spread = f32(high - low)
    extra = _rng.uniform(low - spread / 4, high + spread / 4, max(count - len(points), 0)).astype(f32)
    return np.concatenate([points, extra])[:count].astype(f32)


@pytest.mark.parametrize("num_bits,narrow_range", BITS)
def test_values_bit_for_bit(num_bits, narrow_range):
    columns = np.stack([_points(lo, hi, num_bits, narrow_range) for lo, hi in RANGES], axis=1)
    lows = np.array([r[0] for r in RANGES], np.float32)
    highs = np.array([r[1] for r in RANGES], np.float32)

    def build(tf):
        q = tf.quantization
        x = tf.constant(columns)
        outs = [q.fake_quant_with_min_max_vars_per_channel(x, lows, highs, num_bits, narrow_range),
                q.fake_quant_with_min_max_vars_per_channel(tf.reshape(x, [4, -1, len(RANGES)]), lows, highs,
                                                           num_bits, narrow_range)]
        for k, (lo, hi) in enumerate(RANGES):
            column = x[:, k]
            outs.append(q.fake_quant_with_min_max_args(column, lo, hi, num_bits, narrow_range))
            outs.append(q.fake_quant_with_min_max_vars(column, lo, hi, num_bits, narrow_range))
        return outs
    compare(build, exact=True, runs=2)


@pytest.mark.parametrize("num_bits,narrow_range", [(3, False), (8, True), (16, False)])
def test_values_with_fed_ranges(num_bits, narrow_range):
    """Ranges known only at run time (variables in a QAT graph; here fed): the nudging is traced."""
    columns = np.stack([_points(lo, hi, num_bits, narrow_range) for lo, hi in RANGES], axis=1)
    lows = np.array([r[0] for r in RANGES], np.float32)
    highs = np.array([r[1] for r in RANGES], np.float32)

    def build(tf):
        q = tf.quantization
        x, low, high = (tf.placeholder(tf.float32, name=n) for n in ("x", "low", "high"))
        outs = [q.fake_quant_with_min_max_vars_per_channel(x, low, high, num_bits, narrow_range)]
        outs += [q.fake_quant_with_min_max_vars(x[:, k], low[k], high[k], num_bits, narrow_range)
                 for k in range(len(RANGES))]
        return outs

    def feed(tf, graph):
        return {graph.get_tensor_by_name("x:0"): columns, graph.get_tensor_by_name("low:0"): lows,
                graph.get_tensor_by_name("high:0"): highs}
    compare(build, feed, exact=True, runs=2)


@pytest.mark.parametrize("lo,hi", [(1.0, -1.0), (0.0, 0.0), (0.5, 0.5), (-2.0, 3.0)])
def test_vars_ranges_tf_accepts(lo, hi):
    # The Vars kernels check nothing of min and max: reversed and empty ranges run (both zero: zeros).
    x = _rng.uniform(-3, 3, (5, 2)).astype(np.float32)
    dy = _dyadic(x.shape)

    def build(tf):
        q = tf.quantization
        return [q.fake_quant_with_min_max_vars(x, lo, hi),
                q.fake_quant_with_min_max_vars_per_channel(x, [lo, -1.0], [hi, 1.0], narrow_range=True),
                q.fake_quant_with_min_max_vars_gradient(dy, x, lo, hi),
                q.fake_quant_with_min_max_vars_per_channel_gradient(dy, x, [lo, -1.0], [hi, 1.0])]
    compare(build, exact=True, runs=2)


def _dyadic(shape) -> np.ndarray:
    """Gradients in quarters: the min/max gradients are sums, exact for these whatever the order (XLA
    and Eigen sum arbitrary floats in different orders, so those sums may differ in the last bits)."""
    return (_rng.randint(-8, 9, shape) / 4).astype(np.float32)


def _gradients_snippet(kind: str, num_bits: int, narrow_range: bool):
    x_value = np.concatenate([_points(-1.7, 2.3, num_bits, narrow_range, 64), [-5.0, 5.0]]).astype(np.float32)
    weights = _dyadic(x_value.shape)

    def build(tf):
        q = tf.quantization
        x = tf.constant(x_value)
        if kind == "args":
            y = q.fake_quant_with_min_max_args(x, -1.7, 2.3, num_bits, narrow_range)
            wrt = [x]
        elif kind == "vars":
            low, high = tf.Variable(-1.7, name="low"), tf.Variable(2.3, name="high")
            y = q.fake_quant_with_min_max_vars(x, low, high, num_bits, narrow_range)
            wrt = [x, low, high]
        else:
            x = tf.reshape(x, [-1, 2])
            low, high = tf.Variable([-1.7, -0.5], name="low"), tf.Variable([2.3, 0.2], name="high")
            y = q.fake_quant_with_min_max_vars_per_channel(x, low, high, num_bits, narrow_range)
            wrt = [x, low, high]
        return tf.gradients(tf.reduce_sum(y * tf.reshape(weights, tf.shape(y))), wrt)
    return build


@pytest.mark.parametrize("kind", ["args", "vars", "per_channel"])
@pytest.mark.parametrize("num_bits,narrow_range", [(8, False), (4, True)])
def test_gradients_bit_for_bit(kind, num_bits, narrow_range):
    compare(_gradients_snippet(kind, num_bits, narrow_range), exact=True, runs=2)


@pytest.mark.parametrize("kind,op_type", [("args", "FakeQuantWithMinMaxArgsGradient"),
                                          ("vars", "FakeQuantWithMinMaxVarsGradient"),
                                          ("per_channel", "FakeQuantWithMinMaxVarsPerChannelGradient")])
def test_gradient_graph_records_tfs_gradient_op(kind, op_type):
    build = _gradients_snippet(kind, 8, False)

    def gradient_ops(lib):
        return [(name, t) for name, t in oracle.op_names(lib, build) if t.startswith("FakeQuant")]
    assert gradient_ops(graphcompat) == gradient_ops(oracle.tf1())
    assert any(t == op_type for _, t in gradient_ops(graphcompat))


def test_gradient_ops_called_directly():
    x = np.concatenate([_points(-2.0, 1.0, 8, False, 64), [np.nan]]).astype(np.float32)
    grads = _rng.uniform(-2, 2, x.shape).astype(np.float32)
    grads[:64] = _dyadic(64)
    grads[-1] = np.nan  # TF multiplies by the 0/1 mask: a NaN gradient stays NaN outside the range

    def build(tf):
        q = tf.quantization
        per_channel = q.fake_quant_with_min_max_vars_per_channel_gradient(
            tf.reshape(grads[:64], [32, 2]), tf.reshape(x[:64], [32, 2]), [-2.0, 0.0], [1.0, 0.0], num_bits=5)
        return [q.fake_quant_with_min_max_args_gradient(grads, x, -2.0, 1.0),
                tf.fake_quant_with_min_max_args_gradient(grads, x, -2.0, 1.0, 3, True),
                q.fake_quant_with_min_max_vars_gradient(grads[:64], x[:64], -2.0, 1.0, narrow_range=True),
                per_channel.backprops_wrt_input, per_channel.backprop_wrt_min, per_channel.backprop_wrt_max]
    compare(build, exact=True, runs=2, tol=0)


def test_names_attrs_and_aliases():
    def build(tf):
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        a = tf.fake_quant_with_min_max_args(x, min=-0.1, max=0.3, name="fq")
        v = tf.fake_quant_with_min_max_vars(x, -1, 1)
        p = tf.quantization.fake_quant_with_min_max_vars_per_channel(x, [-1.0] * 3, [1.0] * 3)
        g = tf.quantization.fake_quant_with_min_max_vars_gradient(a, x, -1.0, 1.0)
        return [a, v, p] + list(g)
    v1 = oracle.tf1()
    assert oracle.names(graphcompat, build) == oracle.names(v1, build)
    assert oracle.op_names(graphcompat, build) == oracle.op_names(v1, build)
    for lib in (graphcompat, v1):
        with lib.Graph().as_default():
            out = build(lib)
            assert out[0].op.get_attr("min") == float(np.float32(-0.1))  # the NodeDef's float32
            assert out[0].op.get_attr("num_bits") == 8 and out[0].op.get_attr("narrow_range") is False
            assert [t.shape.as_list() for t in out] == [[None, 3]] * 4 + [[], []]
            assert type(out[3:]).__name__ == "list"
    g = graphcompat.quantization.fake_quant_with_min_max_vars_gradient(1.0, 1.0, -1.0, 1.0)
    assert type(g).__name__ == "FakeQuantWithMinMaxVarsGradient" and g.backprop_wrt_max is g[2]
    assert graphcompat.fake_quant_with_min_max_vars is graphcompat.quantization.fake_quant_with_min_max_vars


def test_gradient_ops_are_not_differentiable():
    def build(tf):
        x = tf.constant([0.5, 9.0])
        g = tf.quantization.fake_quant_with_min_max_args_gradient(x, x)
        v = tf.quantization.fake_quant_with_min_max_vars_gradient(x, x, -1.0, 1.0)
        return [tf.gradients(g, x), tf.gradients(v.backprop_wrt_min, x)]
    v1 = oracle.tf1()
    for lib in (graphcompat, v1):
        with lib.Graph().as_default():
            assert build(lib) == [[None], [None]]


def test_register_gradient_is_refused_as_in_tf():
    for lib in (graphcompat, oracle.tf1()):
        with pytest.raises(KeyError, match="Registering two gradient with name 'FakeQuantWithMinMaxVars'!"):
            lib.RegisterGradient("FakeQuantWithMinMaxVars")(lambda op, grad: grad)


def test_qat_training_steps():
    """Optimizer.minimize through fake quantization with trained ranges (a QAT step), three steps."""
    w_value = np.linspace(-3.0, 3.0, 12).astype(np.float32).reshape(4, 3)
    c_value = _dyadic((4, 3))

    def steps(tf):
        w = tf.Variable(w_value, name="w")
        low, high = tf.Variable(-1.5, name="low"), tf.Variable(2.0, name="high")
        per_channel_low = tf.Variable([-1.0, -2.0, -0.5], name="pc_low")
        y = tf.quantization.fake_quant_with_min_max_vars(w, low, high, num_bits=4)
        z = tf.quantization.fake_quant_with_min_max_vars_per_channel(y, per_channel_low, [1.0, 2.0, 0.5])
        loss = tf.reduce_sum((tf.quantization.fake_quant_with_min_max_args(z, -2.0, 2.0) + z) * c_value)
        train = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
        with tf.control_dependencies([train]):
            return tf.identity(loss), w.read_value(), low.read_value(), high.read_value(), per_channel_low.read_value()

    def run(lib):
        with lib.Graph().as_default():
            fetches = steps(lib)
            with lib.Session() as sess:
                sess.run(lib.global_variables_initializer())
                return [sess.run(fetches) for _ in range(3)]
    for got, want in zip(run(graphcompat), run(oracle.tf1())):
        np.testing.assert_allclose(got[0], want[0], rtol=1e-6)  # a sum of products: XLA's order, not Eigen's
        for g, w in zip(got[1:], want[1:]):  # the updates: exact (dyadic gradients, lr 0.25)
            np.testing.assert_array_equal(np.asarray(g).view(np.int32), np.asarray(w).view(np.int32))


def test_gradient_inside_a_while_loop():
    # tf.gradients sees only the While: the body's fake quantization is differentiated by its rule's VJP.
    x_value = np.array([-2.0, -0.9, 0.1, 0.7, 1.9], np.float32)

    def build(tf):
        x = tf.constant(x_value)
        low, high = tf.constant(-1.0), tf.constant(1.5)
        _, y = tf.while_loop(lambda i, v: i < 2, lambda i, v: (
            i + 1, tf.quantization.fake_quant_with_min_max_vars(v * 1.5, low, high, num_bits=4) +
            tf.quantization.fake_quant_with_min_max_args(v, -1.0, 1.0)), [0, x], maximum_iterations=2)
        return tf.gradients(tf.reduce_sum(y * [1.0, 2.0, 0.5, -1.0, 4.0]), [x, low, high])
    compare(build, exact=True, runs=2)


def test_imported_tf_training_graph():
    """A QAT GraphDef written by TF (the forward ops and TF's *Gradient ops) runs in graphcompat."""
    v1 = oracle.tf1()
    x_value = _rng.uniform(-4, 4, (6, 3)).astype(np.float32)
    graph = v1.Graph()
    with graph.as_default():
        x = v1.placeholder(v1.float32, [None, 3], name="x")
        y = v1.quantization.fake_quant_with_min_max_vars_per_channel(
            v1.quantization.fake_quant_with_min_max_args(x, -3.0, 3.0), [-1.0, -2.0, 0.5], [1.0, 2.0, 3.0])
        z = v1.quantization.fake_quant_with_min_max_vars(y, -2.0, 1.5, narrow_range=True)
        grads = v1.gradients(v1.reduce_sum(z * z), [x])
        fetches = [z.name, grads[0].name]
        with v1.Session(graph=graph) as sess:
            want = sess.run(fetches, {x: x_value})
    graph_def = graph.as_graph_def()
    with graphcompat.Graph().as_default() as g:
        graphcompat.import_graph_def(graph_def, name="")
        with graphcompat.Session(graph=g) as sess:
            for _ in range(2):
                got = sess.run(fetches, {"x:0": x_value})
                for a, b in zip(got, want):
                    np.testing.assert_array_equal(a.view(np.int32), b.view(np.int32))


# --- errors ---------------------------------------------------------------------------------------
def _placeholder(tf, name, shape=None):
    return tf.placeholder(tf.float32, shape, name=name)


BUILD_ERRORS = {
    "args_int_input": lambda tf: tf.quantization.fake_quant_with_min_max_args(tf.constant([1, 2])),
    "args_f64_input": lambda tf: tf.quantization.fake_quant_with_min_max_args(tf.constant([1.0], tf.float64)),
    "args_min_str": lambda tf: tf.quantization.fake_quant_with_min_max_args([1.0], min="a"),
    "args_bits_str": lambda tf: tf.quantization.fake_quant_with_min_max_args([1.0], num_bits="8"),
    "args_narrow_int": lambda tf: tf.quantization.fake_quant_with_min_max_args([1.0], narrow_range=1),
    "vars_min_int_tensor": lambda tf: tf.quantization.fake_quant_with_min_max_vars([1.0], tf.constant(-1), 1.0),
    "vars_min_vector": lambda tf: tf.quantization.fake_quant_with_min_max_vars([1.0, 2.0], [-1.0], 1.0),
    "vars_max_vector": lambda tf: tf.quantization.fake_quant_with_min_max_vars([1.0], -1.0, [1.0]),
    "vars_grad_sizes": lambda tf: tf.quantization.fake_quant_with_min_max_vars_gradient([1.0, 2.0], [1.0, 2.0, 3.0],
                                                                                        -1.0, 1.0),
    "vars_grad_ranks": lambda tf: tf.quantization.fake_quant_with_min_max_vars_gradient([[1.0]], [1.0], -1.0, 1.0),
    "vars_grad_min_vector": lambda tf: tf.quantization.fake_quant_with_min_max_vars_gradient([1.0], [1.0], [-1.0],
                                                                                             1.0),
    "pc_scalar_input": lambda tf: tf.quantization.fake_quant_with_min_max_vars_per_channel(1.0, [-1.0], [1.0]),
    "pc_min_size": lambda tf: tf.quantization.fake_quant_with_min_max_vars_per_channel([[1.0, 2.0]], [-1.0],
                                                                                       [1.0, 2.0]),
    "pc_max_size": lambda tf: tf.quantization.fake_quant_with_min_max_vars_per_channel([[1.0, 2.0]], [-1.0, -2.0],
                                                                                       [1.0]),
    "pc_min_scalar": lambda tf: tf.quantization.fake_quant_with_min_max_vars_per_channel([[1.0]], -1.0, [1.0]),
    "pc_min_max_differ": lambda tf: tf.quantization.fake_quant_with_min_max_vars_per_channel(
        _placeholder(tf, "x", [None, None]), [-1.0], [1.0, 2.0]),
    "pcg_rank5": lambda tf: tf.quantization.fake_quant_with_min_max_vars_per_channel_gradient(
        tf.zeros([1, 1, 1, 1, 2]), tf.zeros([1, 1, 1, 1, 2]), [-1.0, -1.0], [1.0, 1.0]),
    "pcg_sizes": lambda tf: tf.quantization.fake_quant_with_min_max_vars_per_channel_gradient(
        [[1.0, 2.0, 3.0]], [[1.0, 2.0]], [-1.0, -2.0], [1.0, 2.0]),
    "pcg_min_size": lambda tf: tf.quantization.fake_quant_with_min_max_vars_per_channel_gradient(
        [[1.0, 2.0]], [[1.0, 2.0]], [-1.0], [1.0, 2.0]),
    "pcg_scalar": lambda tf: tf.quantization.fake_quant_with_min_max_vars_per_channel_gradient(1.0, 1.0, [-1.0], [1.0]),
}


@pytest.mark.parametrize("case", sorted(BUILD_ERRORS))
def test_build_errors(case):
    compare_error(BUILD_ERRORS[case])


def _fed(build_fn, *values):
    """A snippet over placeholders of unknown shape fed `values` (shape checks happen at run time)."""
    def build(tf):
        phs = [_placeholder(tf, f"p{k}") for k in range(len(values))]
        return build_fn(tf, *phs)

    def feed(tf, graph):
        return {graph.get_tensor_by_name(f"p{k}:0"): np.asarray(v, np.float32) for k, v in enumerate(values)}
    return build, feed


RUN_ERRORS = {
    "args_min_not_below_max": (lambda tf: tf.quantization.fake_quant_with_min_max_args([1.0], 1.0, 1.0), None),
    "args_min_above_max": (lambda tf: tf.quantization.fake_quant_with_min_max_args([1.0], 0.25, -1e-7), None),
    "args_bits_1": (lambda tf: tf.quantization.fake_quant_with_min_max_args([1.0], num_bits=1), None),
    "args_bits_17": (lambda tf: tf.quantization.fake_quant_with_min_max_args([1.0], num_bits=17), None),
    "vars_bits_0": (lambda tf: tf.quantization.fake_quant_with_min_max_vars([1.0], -1.0, 1.0, num_bits=0), None),
    "argsgrad_bits": (lambda tf: tf.fake_quant_with_min_max_args_gradient([1.0], [1.0], num_bits=20), None),
    "argsgrad_sizes": _fed(lambda tf, g, x: tf.quantization.fake_quant_with_min_max_args_gradient(g, x),
                           [1.0, 2.0], [1.0, 2.0, 3.0]),
    "argsgrad_shapes": _fed(lambda tf, g, x: tf.quantization.fake_quant_with_min_max_args_gradient(g, x),
                            [[1.0], [2.0]], [1.0, 2.0]),
    "vars_min_vector": _fed(lambda tf, x, lo, hi: tf.quantization.fake_quant_with_min_max_vars(x, lo, hi),
                            [1.0, 2.0], [-1.0], 1.0),
    "vars_max_vector": _fed(lambda tf, x, lo, hi: tf.quantization.fake_quant_with_min_max_vars(x, lo, hi),
                            [1.0, 2.0], -1.0, [1.0]),
    "varsgrad_sizes": _fed(lambda tf, g, x, lo, hi: tf.quantization.fake_quant_with_min_max_vars_gradient(
        g, x, lo, hi), [1.0, 2.0], [1.0, 2.0, 3.0], -1.0, 1.0),
    "varsgrad_min_vector": _fed(lambda tf, g, x, lo, hi: tf.quantization.fake_quant_with_min_max_vars_gradient(
        g, x, lo, hi), [1.0, 2.0], [1.0, 2.0], [-1.0], 1.0),
    "pc_min_rank2": _fed(lambda tf, x, lo, hi: tf.quantization.fake_quant_with_min_max_vars_per_channel(x, lo, hi),
                         np.ones((2, 2)), [[-1.0, -1.0]], [1.0, 1.0]),
    "pc_min_scalar": _fed(lambda tf, x, lo, hi: tf.quantization.fake_quant_with_min_max_vars_per_channel(x, lo, hi),
                          np.ones((2, 1)), -1.0, [1.0]),
    "pc_min_size": _fed(lambda tf, x, lo, hi: tf.quantization.fake_quant_with_min_max_vars_per_channel(x, lo, hi),
                        np.ones((2, 3)), [-1.0, -1.0], [1.0, 1.0, 1.0]),
    "pc_max_size": _fed(lambda tf, x, lo, hi: tf.quantization.fake_quant_with_min_max_vars_per_channel(x, lo, hi),
                        np.ones((2, 2)), [-1.0, -1.0], [1.0]),
    "pcg_sizes": _fed(lambda tf, g, x, lo, hi: tf.quantization.fake_quant_with_min_max_vars_per_channel_gradient(
        g, x, lo, hi), np.ones((2, 2)), np.ones((1, 4)), [-1.0, -1.0], [1.0, 1.0]),
    "pcg_min_size": _fed(lambda tf, g, x, lo, hi: tf.quantization.fake_quant_with_min_max_vars_per_channel_gradient(
        g, x, lo, hi), np.ones((2, 2)), np.ones((2, 2)), [-1.0], [1.0, 1.0]),
}


@pytest.mark.parametrize("case", sorted(RUN_ERRORS))
def test_run_errors(case):
    build, feed = RUN_ERRORS[case]
    compare_error(build, feed, runs=2)


def test_failed_check_leaves_the_session_usable():
    with graphcompat.Graph().as_default():
        x = graphcompat.placeholder(graphcompat.float32)
        y = graphcompat.quantization.fake_quant_with_min_max_vars_per_channel(x, [-1.0, -1.0], [1.0, 1.0])
        with graphcompat.Session() as sess:
            with pytest.raises(graphcompat.errors.InvalidArgumentError, match="min has incorrect size, expected 3"):
                sess.run(y, {x: np.ones((1, 3))})
            # TF aborts the process on a scalar; graphcompat raises the shape function's text
            with pytest.raises(graphcompat.errors.InvalidArgumentError, match="at least rank 1 but is rank 0"):
                sess.run(y, {x: 1.0})
            got = sess.run(y, {x: [[0.3, 2.0]]})
    want = oracle.run(oracle.tf1(), lambda tf: tf.quantization.fake_quant_with_min_max_vars_per_channel(
        [[0.3, 2.0]], [-1.0, -1.0], [1.0, 1.0]))
    np.testing.assert_array_equal(got, want)
