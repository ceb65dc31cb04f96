"""tf.gradients against central finite differences; connectivity (None), stop_gradient, sparse gradients."""
import jax
import numpy as np
import pytest

import graphcompat as tf
from lowering.executor import runner_for
from graphcompat.framework.registry import apply_op

RNG = np.random.RandomState(0)


def _numeric_grad(f, x, eps=1e-3):
    """Central differences of scalar-valued f at x (float64)."""
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


# (name, builder(x_tensor, other_tensor) -> scalar-able tensor, x value, other value)
CASES = [
    ("add_mul", lambda x, c: tf.reduce_sum(x * c + x), RNG.randn(3), RNG.randn(3)),
    ("square_sub", lambda x, c: tf.reduce_sum(tf.square(x - c)), RNG.randn(2, 3), RNG.randn(2, 3)),
    ("div", lambda x, c: tf.reduce_sum(c / (x * x + 1.0)), RNG.randn(4), RNG.randn(4)),
    ("exp_log", lambda x, c: tf.reduce_sum(tf.exp(x) + tf.log(x * x + 1.0)), RNG.randn(3), RNG.randn(3)),
    ("tanh_sigmoid", lambda x, c: tf.reduce_mean(tf.tanh(x) * tf.sigmoid(c * x)), RNG.randn(5), RNG.randn(5)),
    ("sqrt", lambda x, c: tf.reduce_sum(tf.sqrt(x * x + 1.0)), RNG.randn(3), RNG.randn(3)),
    ("matmul", lambda x, c: tf.reduce_sum(tf.matmul(x, c)), RNG.randn(2, 3), RNG.randn(3, 4)),
    ("matmul_t", lambda x, c: tf.reduce_sum(tf.square(tf.matmul(c, x, transpose_b=True))), RNG.randn(4, 3),
     RNG.randn(2, 3)),
    ("reduce_axis", lambda x, c: tf.reduce_sum(tf.reduce_max(x, axis=1) * tf.reduce_mean(x, axis=1)),
     RNG.randn(3, 4), RNG.randn(1)),
    ("prod_min", lambda x, c: tf.reduce_prod(x, axis=0)[0] + tf.reduce_min(x) if False else
     tf.reduce_sum(tf.reduce_prod(x, axis=0)) + tf.reduce_min(x), RNG.randn(3, 2), RNG.randn(1)),
    ("max_min_elem", lambda x, c: tf.reduce_sum(tf.maximum(x, c) - tf.minimum(x, 0.5 * c)), RNG.randn(6),
     RNG.randn(6)),
    ("neg_reshape", lambda x, c: tf.reduce_sum(tf.reshape(-x, [3, 2]) * c), RNG.randn(2, 3), RNG.randn(3, 2)),
    ("stack", lambda x, c: tf.reduce_sum(tf.stack([x, x * c]) ** 1 if False else tf.stack([x, x * c])),
     RNG.randn(3), RNG.randn(3)),
]


@pytest.mark.parametrize("name,build,xv,cv", CASES, ids=[c[0] for c in CASES])
def test_gradient_matches_finite_differences(name, build, xv, cv):
    x = tf.placeholder(tf.float64, xv.shape)
    c = tf.constant(cv.astype(np.float64))
    y = build(x, c)
    (g,) = tf.gradients(y, [x])
    assert g.dtype == tf.float64 and g.shape.as_list() == list(xv.shape)
    with tf.Session() as sess:
        got = sess.run(g, {x: xv})
        got2 = sess.run(g, {x: xv})  # second run is compiled
        f = lambda v: float(sess.run(y, {x: v}))  # noqa: E731
        want = _numeric_grad(f, xv)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got2, got, rtol=1e-12)


def test_unconnected_and_integer_are_none():
    x = tf.placeholder(tf.float32, [2])
    z = tf.placeholder(tf.float32, [2])
    i = tf.placeholder(tf.int32, [2])
    y = tf.reduce_sum(x * 2.0)
    assert tf.gradients(y, [z, i]) == [None, None]
    g = tf.gradients(y, [x, z], unconnected_gradients="zero")
    with tf.Session() as sess:
        a, b = sess.run(g, {x: [1, 2], z: [3, 4]})
    np.testing.assert_allclose(a, [2, 2])
    np.testing.assert_allclose(b, [0, 0])
    # gradients flow through float tensors only: an int cast cuts the path
    yi = tf.reduce_sum(tf.cast(tf.cast(x, tf.int32), tf.float32))
    assert tf.gradients(yi, [x]) == [None]


def test_stop_gradient_and_stop_gradients_argument():
    a = tf.constant(0.0)
    b = 2.0 * a
    assert tf.gradients(tf.stop_gradient(a), [a]) == [None]
    total = tf.gradients(a + b, [a, b])
    partial = tf.gradients(a + b, [a, b], stop_gradients=[a, b])
    with tf.Session() as sess:
        assert sess.run(total) == [3.0, 1.0]
        assert sess.run(partial) == [1.0, 1.0]
    x = tf.constant([1.0, 2.0])
    y = tf.reduce_sum(x * tf.stop_gradient(x * 3.0))
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(tf.gradients(y, x)[0]), [3.0, 6.0])


def test_grad_ys_and_several_ys():
    x = tf.constant([1.0, 2.0])
    y1 = x * 3.0
    y2 = x * x
    g = tf.gradients([y1, y2], x, grad_ys=[tf.constant([1.0, 0.0]), None])
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(g[0]), [3.0 + 2.0, 0.0 + 4.0])
    with pytest.raises(ValueError, match="Passed 1 grad_ys for 2 ys"):
        tf.gradients([y1, y2], x, grad_ys=[None])
    assert tf.gradients(x, x)[0] is not None


def test_gradient_node_structure_and_names():
    x = tf.placeholder(tf.float32, [2])
    y = tf.reduce_sum(x * x)
    g1 = tf.gradients(y, x)[0]
    g2 = tf.gradients(y, x)[0]
    assert g1.op.type == "SymbolicGradient" and g1.op.name == "gradients/SymbolicGradient"
    assert g2.op.name == "gradients_1/SymbolicGradient"
    # the private plan never reaches the GraphDef
    node = [n for n in tf.get_default_graph().as_graph_def().node if n.name == g1.op.name][0]
    assert all(not k.startswith("_") for k in node.attr)


def test_gradient_of_variable_reads_current_value():
    v = tf.Variable([1.0, 2.0])
    y = tf.reduce_sum(v * v)
    (g,) = tf.gradients(y, [v])
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_allclose(sess.run(g), [2.0, 4.0])
        sess.run(v.assign([3.0, 4.0]))
        np.testing.assert_allclose(sess.run(g), [6.0, 8.0])


def _gather(params, ids, name="embedding_lookup"):
    return apply_op("GatherV2", [params, ids, tf.constant(0)], name=name)


def test_gather_gradient_is_indexed_slices():
    emb = tf.Variable(np.arange(12, dtype=np.float32).reshape(6, 2))
    ids = tf.constant([4, 1, 4])
    y = tf.reduce_sum(tf.square(_gather(emb, ids)))
    (g,) = tf.gradients(y, [emb])
    assert isinstance(g, tf.IndexedSlices)
    with tf.Session() as sess:
        sess.run(emb.initializer)
        val = sess.run(g)
        dense = sess.run(tf.convert_to_tensor(g))
    assert isinstance(val, tf.IndexedSlicesValue)
    np.testing.assert_array_equal(val.indices, [4, 1, 4])
    np.testing.assert_allclose(val.values, 2 * np.arange(12).reshape(6, 2)[[4, 1, 4]])
    np.testing.assert_array_equal(val.dense_shape, [6, 2])
    want = np.zeros((6, 2))
    np.add.at(want, [4, 1, 4], 2 * np.arange(12).reshape(6, 2)[[4, 1, 4]])
    np.testing.assert_allclose(dense, want)
    # a dense use of the same variable makes the gradient dense
    y2 = y + tf.reduce_sum(emb)
    assert isinstance(tf.gradients(y2, [emb])[0], tf.Tensor)


def test_sparse_update_touches_only_gathered_rows_and_is_never_dense():
    V, E = 1000, 8
    init = np.random.RandomState(1).randn(V, E).astype(np.float32)
    emb = tf.Variable(init, name="emb")
    ids = tf.placeholder(tf.int32, [None])
    loss = tf.reduce_sum(tf.square(_gather(emb, ids)))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    assert [op.type for op in tf.get_default_graph().get_operations() if "update_emb" in op.name][-1] == "ScatterSub"
    batch = np.array([7, 3, 7], np.int32)
    with tf.Session() as sess:
        sess.run(emb.initializer)
        for _ in range(3):
            sess.run(train, {ids: batch})
        after = sess.run(emb)
        text = runner_for(sess, train).lower([batch]).as_text()
    untouched = np.setdiff1d(np.arange(V), batch)
    np.testing.assert_array_equal(after[untouched], init[untouched])  # bit-exact
    want = init.copy()
    for _ in range(3):
        g = np.zeros_like(want)
        np.add.at(g, batch, 2 * want[batch])
        want -= np.float32(0.1) * g
    np.testing.assert_allclose(after[batch], want[batch], rtol=1e-6)
    # Only the gather (reading rows) and the scatter (writing rows) see a [V, E] array: no dense gradient,
    # no elementwise op, no broadcast over the table (those print `: tensor<VxE..>` or `-> tensor<VxE..>`).
    table = f"tensor<{V}x{E}xf32>"
    lines = [ln.strip() for ln in text.splitlines()]
    produced = [ln for ln in lines if ln.endswith("-> " + table) or
                (ln.endswith(": " + table) and not ln.startswith("return"))]
    assert len(produced) == 1 and produced[0].startswith("})"), produced  # the end of the scatter's region
    assert "stablehlo.scatter" in text and "stablehlo.gather" in text


def test_compiled_training_step_computes_the_forward_pass_once():
    """The gradient re-traces the forward subgraph; XLA CSE must merge it with the original (5 dots, 1 tanh)."""
    import re
    rng = np.random.RandomState(0)
    xb = rng.rand(16, 12).astype(np.float32)
    yb = rng.rand(16, 3).astype(np.float32)
    X = tf.placeholder(tf.float32, [None, 12])
    Y = tf.placeholder(tf.float32, [None, 3])
    v1 = tf.Variable(rng.normal(0, 0.1, (12, 8)).astype(np.float32))
    v2 = tf.Variable(rng.normal(0, 0.1, (8, 3)).astype(np.float32))
    loss = tf.reduce_mean(tf.square(tf.matmul(tf.tanh(tf.matmul(X, v1)), v2) - Y))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run([train, loss], {X: xb, Y: yb})
        hlo = runner_for(sess, loss, train).lower([xb, yb]).compile().as_text()
    assert len(re.findall(r" dot\(", hlo)) == 5   # 2 forward + 3 backward
    assert len(re.findall(r" tanh\(", hlo)) == 1


def test_second_derivatives():
    x = tf.constant([1.0, 2.0])
    g = tf.gradients(tf.reduce_sum(x * x * x), x)[0]
    h = tf.gradients(g, x)[0]
    w = tf.Variable([1.0, 3.0])
    gw = tf.gradients(tf.reduce_sum(tf.square(w) * w), w)[0]
    hw = tf.gradients(tf.reduce_sum(gw * gw), w)[0]   # d/dw (3 w^2)^2 = 36 w^3
    with tf.Session() as sess:
        sess.run(w.initializer)
        np.testing.assert_allclose(sess.run(h), [6.0, 12.0])
        np.testing.assert_allclose(sess.run(hw), [36.0, 972.0])


# --- gradients at kinks and zeros: TF's registered gradients, not jax's conventions -------------------
KINK_X = np.array([0.0, -0.0, 1.0, -1.0, 6.0, 2.0, 0.5], np.float32)
KINK_CASES = [
    ("abs", lambda tf_, x: tf_.abs(x)),                          # sign(x) * dy: 0 at 0 (jax: 1)
    ("sqrt_of_abs", lambda tf_, x: tf_.sqrt(tf_.abs(x))),        # inf * sign(0) = NaN at 0, as TF
    ("log1p_of_abs", lambda tf_, x: tf_.log1p(tf_.abs(x))),
    ("elu", lambda tf_, x: tf_.nn.elu(x)),                       # EluGrad: dy at 0 (not the 50/50 split)
    ("selu", lambda tf_, x: tf_.nn.selu(x)),                     # SeluGrad: scale * dy at 0
    ("relu", lambda tf_, x: tf_.nn.relu(x)),
    ("relu6", lambda tf_, x: tf_.nn.relu6(x)),
    ("leaky_relu", lambda tf_, x: tf_.nn.leaky_relu(x, 0.2)),
    ("clip", lambda tf_, x: tf_.clip_by_value(x, -1.0, 1.0)),
    ("maximum_tie", lambda tf_, x: tf_.maximum(x, x * 0.0)),
    ("reduce_max_ties", lambda tf_, x: tf_.reduce_max(tf_.stack([x, x, x * 0.5]), 0)),
]
ZERO_X = np.array([0.0, 0.0, 2.0, 0.0, np.inf, 1.0], np.float32)
ZERO_Y = np.array([0.0, 3.0, 0.0, -1.0, 0.0, np.nan], np.float32)
ZERO_CASES = [  # where x == 0 (or y == 0) TF's gradients are 0, not NaN from the branch not taken
    ("xlogy", lambda tf_: tf_.math.xlogy), ("xdivy", lambda tf_: tf_.math.xdivy),
    ("xlog1py", lambda tf_: tf_.math.xlog1py), ("mul_no_nan", lambda tf_: tf_.math.multiply_no_nan),
    ("div_no_nan", lambda tf_: tf_.div_no_nan),
]


def _weighted_gradients(tf_, build, inputs):
    """Values and gradients of sum(build(...) * (1, 2, 3, …)) with respect to `inputs` (constants)."""
    xs = [tf_.constant(v) for v in inputs]
    out = build(*xs)
    weights = tf_.cast(tf_.range(tf_.size(out)) + 1, tf_.float32)
    grads = tf_.gradients(tf_.reduce_sum(tf_.reshape(out, [-1]) * weights), xs)
    with tf_.Session() as sess:
        return sess.run([out] + grads)


@pytest.mark.oracle
@pytest.mark.parametrize("name,build", KINK_CASES + ZERO_CASES, ids=[c[0] for c in KINK_CASES + ZERO_CASES])
def test_gradients_at_kinks_and_zeros_match_tensorflow(name, build):
    from tests import oracle
    v1 = oracle.tf1()
    results = []
    for lib in (tf, v1):
        with lib.Graph().as_default():
            if (name, build) in KINK_CASES:
                results.append(_weighted_gradients(lib, lambda x: build(lib, x), [KINK_X]))
            else:
                results.append(_weighted_gradients(lib, build(lib), [ZERO_X, ZERO_Y]))
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True, err_msg=name)


# --- which gradients TF leaves None, and where it raises LookupError ------------------------------------
A = np.array([1.5, 2.5, 3.5, 4.5], np.float32)
B = np.array([0.3, 0.6, 0.2, 0.8], np.float32)
IMAGE = np.linspace(0.1, 0.9, 24).astype(np.float32).reshape(1, 2, 4, 3)
NO_GRADIENT_CASES = [  # (name, build(tf, a, b) -> y): tf.gradients(y, [a, b]) as TF, None where TF's is None
    ("floordiv", lambda tf_, a, b: tf_.floordiv(a, b)),                       # registered: (None, None)
    ("truncatediv", lambda tf_, a, b: tf_.truncatediv(a, b) + b),
    ("floor_ceil_round", lambda tf_, a, b: tf_.floor(a) + tf_.ceil(b) + tf_.round(a * b) + tf_.rint(b)),
    ("one_hot", lambda tf_, a, b: tf_.one_hot([0, 2], 3, on_value=a[0], off_value=b[0])),  # NotDifferentiable
    ("range", lambda tf_, a, b: tf_.range(a[0], a[0] + 5.0, b[1] + 1.0)),
    ("hsv_to_rgb", lambda tf_, a, b: tf_.image.hsv_to_rgb(tf_.reshape(tf_.concat([a, b, a * 0.1], 0), [4, 3]))),
    ("zeta_x", lambda tf_, a, b: tf_.math.zeta(a + 1.0, b + 1.0)),            # d/dx: None; d/dq defined
    ("polygamma_a", lambda tf_, a, b: tf_.math.polygamma(tf_.floor(a), b + 1.0)),
    ("betainc_ab", lambda tf_, a, b: tf_.math.betainc(a, a + b, b)),          # d/da, d/db: None; d/dx defined
    ("draw_boxes", lambda tf_, a, b: tf_.image.draw_bounding_boxes(IMAGE * b[0], tf_.reshape(a * 0.1, [1, 1, 4]))),
    ("floordiv_and_mul", lambda tf_, a, b: tf_.floordiv(a, 2.0) + a * b),     # the other path still counts
    ("unique", lambda tf_, a, b: tf_.unique(a)[0]),                           # no gradient: LookupError
    ("setdiff1d", lambda tf_, a, b: tf_.setdiff1d(a, b)[0]),
    ("truncatemod", lambda tf_, a, b: tf_.truncatemod(a, b)),
    ("adjust_hue", lambda tf_, a, b: tf_.image.adjust_hue(IMAGE * a[0], 0.1)),
    ("resize_area", lambda tf_, a, b: tf_.image.resize_area(IMAGE * b[1], [3, 5])),
    ("parallel_stack", lambda tf_, a, b: tf_.parallel_stack([a, b])),
    ("stop_gradient_silences", lambda tf_, a, b: tf_.stop_gradient(tf_.unique(a)[0]) + b[0]),
]


def _gradients_or_error(tf_, build):
    with tf_.Graph().as_default():
        a, b = tf_.constant(A), tf_.constant(B)
        y = build(tf_, a, b)
        try:
            flat = tf_.reshape(y, [-1])
            grads = tf_.gradients(tf_.reduce_sum(flat * tf_.cast(tf_.range(tf_.size(flat)) + 1, y.dtype)), [a, b])
        except LookupError as e:
            return "LookupError", str(e).split(" In general")[0]
        with tf_.Session() as sess:
            return [None if g is None else sess.run(g) for g in grads]


@pytest.mark.oracle
@pytest.mark.parametrize("name,build", NO_GRADIENT_CASES, ids=[c[0] for c in NO_GRADIENT_CASES])
def test_none_gradients_and_missing_gradients_as_tensorflow(name, build):
    """TF's gradient registry decides: NotDifferentiable ops and gradient functions that return None give
    None (an optimizer then reports 'No gradients provided'), ops with no gradient raise TF's LookupError
    naming the op. graphcompat differentiated all of them (zeros or a value where TF has None)."""
    from tests import oracle
    got, want = _gradients_or_error(tf, build), _gradients_or_error(oracle.tf1(), build)
    if isinstance(want, tuple):
        assert got == want
        return
    assert not isinstance(got, tuple), got
    assert [g is None for g in got] == [w is None for w in want], (got, want)
    for g, w in zip(got, want):
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6, err_msg=name)


# --- complex gradients: TF's convention is the conjugate of jax's cotangent ---------------------------
Z0 = np.array([1 + 2j, -0.5 + 0.25j, 3 - 1j], np.complex64)
W0 = np.array([0.5 - 1j, 2 + 0.5j, -1 + 1j], np.complex64)
COMPLEX_CASES = [  # (name, build(tf, z, w) -> (y, grad_ys or None))
    ("abs", lambda tf_, z, w: (tf_.reduce_sum(tf_.abs(z)), None)),
    ("real_of_square", lambda tf_, z, w: (tf_.reduce_sum(tf_.real(z * z)), None)),
    ("imag_of_product", lambda tf_, z, w: (tf_.reduce_sum(tf_.imag(z * w)), None)),
    ("abs_of_exp", lambda tf_, z, w: (tf_.reduce_sum(tf_.abs(tf_.exp(z))), None)),
    ("complex_grad_ys", lambda tf_, z, w: (z * w + tf_.exp(z), tf_.constant(np.array([1 + 1j, 2 - 1j, 0.5j],
                                                                                      np.complex64)))),
    ("matmul", lambda tf_, z, w: (tf_.reduce_sum(tf_.abs(tf_.matmul(tf_.reshape(z, [1, 3]),
                                                                     tf_.reshape(w, [3, 1])))), None)),
    ("square_sum_conj", lambda tf_, z, w: (tf_.real(tf_.reduce_sum(z * tf_.conj(z) * w)), None)),
]


def _complex_gradients(tf_, build):
    with tf_.Graph().as_default():
        z, w = tf_.constant(Z0), tf_.constant(W0)
        y, gy = build(tf_, z, w)
        grads = tf_.gradients(y, [z, w], grad_ys=gy)
        with tf_.Session() as sess:
            return [None if g is None else sess.run(g) for g in grads]


@pytest.mark.oracle
@pytest.mark.parametrize("name,build", COMPLEX_CASES, ids=[c[0] for c in COMPLEX_CASES])
def test_complex_gradients_follow_tensorflows_convention(name, build):
    """TF returns dL/d(conj z) style gradients (its Mul gradient is dz * conj(y)); jax's vjp returns the
    conjugate of that. graphcompat returned jax's, so every complex gradient was conjugated."""
    from tests import oracle
    got, want = _complex_gradients(tf, build), _complex_gradients(oracle.tf1(), build)
    assert [g is None for g in got] == [w is None for w in want]
    for g, w in zip(got, want):
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.oracle
def test_a_registered_gradient_of_a_complex_op_sees_tensorflows_convention():
    """A user's gradient function receives TF's dy and its result is taken as TF's gradient."""
    from tests import oracle
    v1 = oracle.tf1()
    results = []
    for lib in (tf, v1):
        name = "GraphcompatTestComplexScale"
        try:
            lib.RegisterGradient(name)(lambda op, dy: dy * lib.constant(np.complex64(2 - 1j)))
        except KeyError:  # registered by an earlier run of this test in the process
            pass
        with lib.Graph().as_default() as g:
            z = lib.constant(Z0)
            with g.gradient_override_map({"Identity": name}):
                y = lib.identity(z * lib.constant(W0))
            loss = lib.reduce_sum(lib.abs(y))
            with lib.Session() as sess:
                results.append(sess.run(lib.gradients(loss, z)[0]))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)
