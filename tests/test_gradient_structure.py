"""Where a second tf.gradients refuses (TF's LookupError for a gradient kernel TF's first gradient recorded
without a gradient of its own: SoftsignGrad, LRNGrad ...) or computes, as TF's does (oracle)."""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat as gc
from tests import oracle

pytestmark = pytest.mark.oracle

# --- second order ------------------------------------------------------------------------------------
_R = np.random.RandomState(0)
X = _R.rand(2, 3).astype(np.float32) + 0.5
IMAGE = _R.rand(1, 4, 4, 2).astype(np.float32) + 0.1
SPD = np.array([[4.0, 1.0], [1.0, 3.0]], np.float32)
POOL = ([1, 2, 2, 1], [1, 2, 2, 1], "VALID")


def _sparse(t, values):
    return t.SparseTensor([[0, 0], [2, 1]], values, [3, 2])


def _block_lstm(t, x, w):
    """tf.raw_ops.BlockLSTM (graphcompat's builder): TF's gradient function records BlockLSTMGrad."""
    if t is gc:
        from graphcompat.ops.rnn_ops import block_lstm
    else:
        import tensorflow as tf2
        block_lstm = tf2.raw_ops.BlockLSTM
    state = t.constant(np.full((2, 3), 0.1, np.float32))
    zeros = t.constant(np.zeros(3, np.float32))
    return block_lstm(seq_len_max=t.constant(np.int64(2)), x=x, cs_prev=state, h_prev=state, w=w, wci=zeros,
                      wcf=zeros, wco=zeros, b=t.constant(np.zeros(12, np.float32))).h


# (name, fn(tf, *xs) -> y, inputs): every forward op type whose TF gradient records a kernel without a gradient
# (SECOND_ORDER_NO_GRADIENT), and neighbours whose second gradient TF computes
SECOND_ORDER_CASES = [
    ("softsign", lambda t, x: t.nn.softsign(x), [X]),
    ("softsign_scoped", lambda t, x: t.nn.softsign(x, name="a/b"), [X]),
    ("softsign_input_stopped", lambda t, x, w: t.nn.softsign(t.stop_gradient(x)) * w, [X, X]),
    ("softsign_gradient_depends", lambda t, x, w: t.nn.softsign(x) * t.stop_gradient(w), [X, X]),
    ("softsign_of_other_x", lambda t, x, w: t.nn.softsign(w) + x * x, [X, X]),
    ("lrn", lambda t, x: t.nn.lrn(x, 2), [IMAGE]),
    ("max_pool_with_argmax", lambda t, x: t.nn.max_pool_with_argmax(x, *POOL)[0], [IMAGE]),
    ("crop_and_resize", lambda t, x, b: t.image.crop_and_resize(x, b, [0], [2, 2]),
     [IMAGE, np.array([[0.1, 0.1, 0.8, 0.9]], np.float32)]),
    ("crop_and_resize_boxes", lambda t, x, b: t.image.crop_and_resize(t.stop_gradient(x), b, [0], [2, 2]),
     [IMAGE, np.array([[0.1, 0.1, 0.8, 0.9]], np.float32)]),
    ("resize_bicubic", lambda t, x: t.image.resize_bicubic(x, [6, 6]), [IMAGE]),
    ("resize_nearest_neighbor", lambda t, x: t.image.resize_nearest_neighbor(x, [6, 6]), [IMAGE]),
    ("igamma", lambda t, a, x: t.math.igamma(a, x), [X, X * 2]),
    ("igamma_x_only", lambda t, a, x: t.math.igamma(t.stop_gradient(a), x), [X, X * 2]),
    ("sparse_segment_sum", lambda t, x: t.sparse.segment_sum(x, [0, 1, 1], [0, 0, 1]), [X]),
    ("sparse_segment_mean", lambda t, x: t.sparse.segment_mean(x, [0, 1, 1], [0, 0, 1]), [X]),
    ("sparse_segment_sqrt_n", lambda t, x: t.sparse.segment_sqrt_n(x, [0, 1, 1], [0, 0, 1]), [X]),
    ("sparse_segment_sum_num_segments", lambda t, x: t.sparse.segment_sum(x, [0, 1], [0, 2], num_segments=4), [X]),
    ("fractional_max_pool", lambda t, x: t.nn.fractional_max_pool(x, [1.0, 1.5, 1.5, 1.0], deterministic=True,
                                                                   seed=1, seed2=2)[0], [IMAGE]),
    ("fractional_avg_pool", lambda t, x: t.nn.fractional_avg_pool(x, [1.0, 1.5, 1.5, 1.0], deterministic=True,
                                                                   seed=1, seed2=2)[0], [IMAGE]),
    ("sparse_fill_empty_rows", lambda t, v: t.sparse.fill_empty_rows(_sparse(t, v), 0.0)[0].values,
     [np.array([1.0, 2.0], np.float32)]),
    ("sparse_slice", lambda t, v: t.sparse.slice(_sparse(t, v), [0, 0], [2, 2]).values,
     [np.array([1.0, 2.0], np.float32)]),
    ("dilation2d", lambda t, x, f: t.nn.dilation2d(x, f, [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
     [IMAGE, np.ones((2, 2, 2), np.float32)]),
    # TF's first gradient records a kernel TF registers as NotDifferentiable (ResizeBilinearGrad,
    # FakeQuantWithMinMax*Gradient, SparseAddGrad): no second gradient along it, None where it is the only path
    ("resize_bilinear", lambda t, x: t.image.resize_bilinear(x, [6, 6]), [IMAGE]),
    ("resize_bilinear_then_sin", lambda t, x: t.sin(t.image.resize_bilinear(x, [6, 6])), [IMAGE]),
    ("resize_bilinear_times_w", lambda t, x, w: t.image.resize_bilinear(x, [6, 6]) * w, [IMAGE, np.float32(2)]),
    ("resize_bilinear_then_softsign", lambda t, x: t.nn.softsign(t.image.resize_bilinear(x, [6, 6])), [IMAGE]),
    ("softsign_then_resize_bilinear", lambda t, x: t.image.resize_bilinear(t.nn.softsign(x), [6, 6]), [IMAGE]),
    ("fake_quant_args", lambda t, x: t.quantization.fake_quant_with_min_max_args(x), [X - 1.0]),
    ("fake_quant_vars", lambda t, x, lo, hi: t.quantization.fake_quant_with_min_max_vars(x, lo, hi),
     [X - 1.0, np.float32(-0.5), np.float32(0.5)]),
    ("fake_quant_vars_then_softsign",
     lambda t, x, lo, hi: t.nn.softsign(t.quantization.fake_quant_with_min_max_vars(x, lo, hi)),
     [X - 1.0, np.float32(-0.5), np.float32(0.5)]),
    ("fake_quant_per_channel", lambda t, x, lo, hi: t.quantization.fake_quant_with_min_max_vars_per_channel(x, lo, hi),
     [X - 1.0, np.float32([-0.5, -1, -2]), np.float32([0.5, 1, 2])]),
    ("sparse_add", lambda t, a, b: t.sparse.add(_sparse(t, a), t.SparseTensor([[0, 0], [1, 1]], b, [3, 2])).values,
     [np.array([1.0, 2.0], np.float32), np.array([0.5, -1.0], np.float32)]),
    # the kernel TF's recorded gradient function records has a gradient function that fails (TypeError)
    ("quantize_and_dequantize_v2", lambda t, x: t.quantization.quantize_and_dequantize_v2(x, -1.0, 1.0), [X - 1.0]),
    ("quantize_and_dequantize_v2_range_stopped",
     lambda t, x: t.quantization.quantize_and_dequantize_v2(x, t.stop_gradient(x[0, 0]), 1.0), [X - 1.0]),
    # a recorded TF gradient function (builtin_gradient) whose kernel has no gradient
    ("block_lstm", _block_lstm, [_R.rand(2, 2, 4).astype(np.float32), _R.rand(7, 12).astype(np.float32) * 0.3]),
    # TF computes these second gradients
    ("max_pool", lambda t, x: t.nn.max_pool(x, *POOL), [IMAGE]),
    ("avg_pool", lambda t, x: t.nn.avg_pool(x, *POOL), [IMAGE]),
    ("cholesky", lambda t, a: t.linalg.cholesky(a), [SPD]),
    ("tile", lambda t, x: t.tile(x, [2, 3]), [X]),
    ("relu", lambda t, x: t.nn.relu(x - 1.0), [X]),
    ("elu", lambda t, x: t.nn.elu(x - 1.0), [X]),
    ("softplus", lambda t, x: t.nn.softplus(x), [X]),
    ("batch_norm_with_global_normalization",
     lambda t, x, m, v, b, g: t.nn.batch_norm_with_global_normalization(x, m, v, b, g, 0.001, True),
     [IMAGE] + [np.array(p, np.float32) for p in ([0.1, 0.2], [1.0, 2.0], [0.1, 0.2], [1.5, 0.5])]),
]


def _second_order(t, fn, inputs):
    graph = t.Graph()
    with graph.as_default():
        xs = [t.constant(v) for v in inputs]
        grads = [g for g in t.gradients(t.reduce_sum(fn(t, *xs) ** 2), xs) if g is not None]
        try:
            second = t.gradients(t.add_n([t.reduce_sum(t.convert_to_tensor(g) * 1.5) for g in grads]), xs)
        except (LookupError, TypeError) as err:  # TypeError: a TF gradient function that cannot run
            return type(err).__name__, str(err)
        return "computed", [g is None for g in second]


@pytest.mark.parametrize("name,fn,inputs", SECOND_ORDER_CASES, ids=[c[0] for c in SECOND_ORDER_CASES])
def test_second_order_refuses_where_tf_does(name, fn, inputs):
    assert _second_order(gc, fn, inputs) == _second_order(oracle.tf1(), fn, inputs)


# --- second order of gradients that read no forward value: TF's None --------------------------------------
W = _R.rand(3, 2).astype(np.float32)
Y = _R.rand(2, 3).astype(np.float32) + 0.5

# (name, fn(tf, *xs) -> y, inputs): y's first gradients are linear in the incoming gradient; which forward
# values TF's gradient functions read (a product's other factor, an activation's input) decides which second
# gradients exist
LINEAR_CASES = [
    ("scale", lambda t, x: 3.0 * x, [X]),
    ("mean", lambda t, x: t.reduce_mean(x, 0), [X]),
    ("matmul_by_constant", lambda t, x: t.matmul(x, t.constant(W)), [X]),
    ("reshape_transpose_concat", lambda t, x: t.reshape(t.transpose(t.concat([x, x * 2.0], 0)), [-1]), [X]),
    ("slices_pad_tile", lambda t, x: t.pad(x[:, 1:], [[1, 0], [0, 1]]) + t.tile(x[:1], [3, 1]), [X]),
    ("gather_cast_bias", lambda t, x, b: t.nn.bias_add(t.cast(t.gather(x, [1, 0, 1]), t.float64), b),
     [X, np.float64([0.5, 1.0, -1.0])]),
    ("product", lambda t, x, y: x * y, [X, Y]),
    ("matmul", lambda t, x, w: t.matmul(x, w), [X, W]),
    ("quotient", lambda t, x, y: x / y, [X, Y]),
    ("square", lambda t, x: x * x, [X]),
    ("product_of_linear", lambda t, x, y: (x + 1.0) * (y - x), [X, Y]),
    ("activation_plus_linear", lambda t, x, y: t.sigmoid(x) + 2.0 * y, [X, Y]),
    ("relu", lambda t, x: t.nn.relu(x - 1.0), [X]),
    ("scaled_by_a_function", lambda t, x, y: x * t.sin(y) + t.reduce_sum(y), [X, Y]),
]


def _second_gradients(t, fn, inputs):
    """The second gradients of sum(1.5 * g) over the first gradients g of sum(fn(xs)): None, or the value."""
    graph = t.Graph()
    with graph.as_default():
        xs = [t.constant(v) for v in inputs]
        first = [g for g in t.gradients(t.reduce_sum(fn(t, *xs)), xs) if g is not None]
        second = t.gradients(t.add_n([t.reduce_sum(t.cast(t.convert_to_tensor(g), t.float32)) * 1.5
                                      for g in first]), xs)
        live = [g for g in second if g is not None]
        with t.Session() as sess:
            values = iter(sess.run(live))
    return [None if g is None else next(values) for g in second]


@pytest.mark.parametrize("name,fn,inputs", LINEAR_CASES, ids=[c[0] for c in LINEAR_CASES])
def test_second_gradients_are_none_where_tfs_first_gradient_reads_no_forward_value(name, fn, inputs):
    got, want = _second_gradients(gc, fn, inputs), _second_gradients(oracle.tf1(), fn, inputs)
    assert [g is None for g in got] == [w is None for w in want], name
    for g, w in zip(got, want):
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg=name)


# --- second order through a kernel TF registers as NotDifferentiable: its value ---------------------------
Q = np.array([[-1.2, 0.3, 0.7], [2.5, 0.1, -0.4]], np.float32)
LOW, HIGH = np.float32(-1.0), np.float32(1.0)

_REGISTERED: set = set()


def _identity_with_stopped_gradient(t, x):
    """tf.identity whose registered gradient is stop_gradient(grad) * 2: constant to a second gradient, as a
    NotDifferentiable kernel's result (the name is registered once per process, in TF's registry too)."""
    name = "GradientStructureStoppedIdentity"
    if t not in _REGISTERED:
        t.RegisterGradient(name)(lambda op, grad: t.stop_gradient(grad) * 2.0)
        _REGISTERED.add(t)
    with t.get_default_graph().gradient_override_map({"Identity": name}):
        return t.identity(x)


# (name, fn(tf, x, *others) -> y, inputs): the second gradient of sum(g * g) (+ sum(x ** 3): `mixed`) for the
# first gradient g = d sum(y * y) / dx; TF leaves the path through the kernel's incoming gradient out
NOT_DIFFERENTIABLE_KERNEL_CASES = [
    ("resize_bilinear", lambda t, x: t.image.resize_bilinear(x, [7, 6]), [IMAGE]),
    ("resize_bilinear_half_pixel", lambda t, x: t.image.resize_bilinear(x, [6, 6], half_pixel_centers=True), [IMAGE]),
    ("resize_bilinear_after_sin", lambda t, x: t.image.resize_bilinear(t.sin(x), [6, 6]), [IMAGE]),
    ("fake_quant_args", lambda t, x: t.quantization.fake_quant_with_min_max_args(x, -1.0, 1.0), [Q]),
    ("fake_quant_args_after_sin", lambda t, x: t.quantization.fake_quant_with_min_max_args(t.sin(x), -1.0, 1.0), [Q]),
    ("fake_quant_vars", lambda t, x, lo, hi: t.quantization.fake_quant_with_min_max_vars(x, lo, hi), [Q, LOW, HIGH]),
    ("fake_quant_per_channel", lambda t, x, lo, hi: t.quantization.fake_quant_with_min_max_vars_per_channel(x, lo, hi),
     [Q, np.float32([-1, -0.5, -2]), np.float32([1, 0.5, 2])]),
    ("registered_gradient_stopped", _identity_with_stopped_gradient, [Q]),
]


def _through_kernel(t, fn, inputs, mixed: bool):
    """The second gradients (None, or [op-by-op value, compiled value] for graphcompat; [value] for TF)."""
    graph = t.Graph()
    with graph.as_default():
        xs = [t.constant(v) for v in inputs]
        first = t.gradients(t.reduce_sum(fn(t, *xs) ** 2), xs)
        z = t.add_n([t.reduce_sum(g * g) for g in first if g is not None])
        if mixed:
            z = z + t.reduce_sum(xs[0] * xs[0] * xs[0])
        second = t.gradients(z, xs)
        live = [g for g in second if g is not None]
        with t.Session() as sess:
            if t is oracle.tf1():
                runs = [sess.run(live)]
            else:  # a fed tf.range needs its value as a static shape: that plan runs op by op (TF's executor)
                n = t.placeholder(t.int32, [])
                runs = [sess.run([live, t.range(n)], {n: 2})[0], sess.run(live)]
    values = iter(zip(*runs))
    return [None if g is None else next(values) for g in second]


@pytest.mark.parametrize("mixed", [False, True], ids=["only_path", "mixed"])
@pytest.mark.parametrize("name,fn,inputs", NOT_DIFFERENTIABLE_KERNEL_CASES, ids=[c[0] for c in NOT_DIFFERENTIABLE_KERNEL_CASES])
def test_second_order_through_not_differentiable_kernel_is_tfs(name, fn, inputs, mixed):
    _assert_second_order_is_tfs(name, fn, inputs, mixed)


def _assert_second_order_is_tfs(name, fn, inputs, mixed):
    """TF's None structure, and TF's values on both tiers where it has one."""
    got = _through_kernel(gc, fn, inputs, mixed)
    want = _through_kernel(oracle.tf1(), fn, inputs, mixed)
    assert [g is None for g in got] == [w is None for w in want]
    for g, w in zip(got, want):
        for tier, value in zip(("op by op", "compiled"), g or ()):
            np.testing.assert_allclose(value, w[0], rtol=1e-5, atol=1e-5, err_msg=f"{name} {tier}")


def _resize_in_cond(t, x):
    return t.cond(t.constant(True), lambda: t.image.resize_bilinear(x, [4, 5]),
                  lambda: t.image.resize_bilinear(x * 2.0, [4, 5]))


def _resize_in_loop(t, x):
    return t.while_loop(lambda i, v: i < 2, lambda i, v: (i + 1, t.image.resize_bilinear(v, [3, 3], align_corners=True) * 0.5),
                        [t.constant(0), x])[1]


def _fake_quant_in_loop(t, x):
    low, high = t.constant(-1.0), t.constant(1.0)
    return t.while_loop(lambda i, v: i < 2, lambda i, v: (
        i + 1, t.quantization.fake_quant_with_min_max_vars(v * 1.5, low, high)), [t.constant(0), x])[1]


# The kernel inside a body (the body's lowering differentiates it). Not the cond's only path: TF's None there
# is the structure of cond_v2's gradient of its gradient, which graphcompat does not follow into bodies (zeros).
_SMALL_IMAGE = IMAGE[:, :3, :3, :1]
BODY_CASES = [("while_loop", _resize_in_loop, _SMALL_IMAGE, False), ("while_loop", _resize_in_loop, _SMALL_IMAGE, True),
              ("cond", _resize_in_cond, _SMALL_IMAGE, True), ("fake_quant_loop", _fake_quant_in_loop, Q, True)]


@pytest.mark.parametrize("name,fn,x,mixed", BODY_CASES, ids=[f"{c[0]}-{'mixed' if c[3] else 'only_path'}"
                                                              for c in BODY_CASES])
def test_second_order_through_not_differentiable_kernel_in_a_body_is_tfs(name, fn, x, mixed):
    _assert_second_order_is_tfs(name, fn, [x], mixed)


def test_not_differentiable_gradient_kernels_are_tfs():
    """Every gradient kernel TF registers as NotDifferentiable is known to graphcompat's second gradients: in
    SECOND_ORDER_CONSTANT, or the kernel of a TF gradient function graphcompat records (builtin_gradient None)."""
    import importlib
    from graphcompat.custom_gradient import _BUILTIN_GRADIENTS
    from graphcompat.framework import tf_op_types
    table = importlib.import_module("graphcompat.gradients").SECOND_ORDER_CONSTANT
    known = {kernel for kernel, _ in table.values()}
    recorded = {kind for kind, fn in _BUILTIN_GRADIENTS.items() if fn is None}
    # TF's NotDifferentiable registry (tf_op_types is generated from it), less what no gradient function records
    # as a gradient kernel (StopGradient is tf.stop_gradient; TensorArrayGrad makes a TensorArray handle)
    kernels = {kind for kind in tf_op_types.NOT_DIFFERENTIABLE if kind.endswith(("Grad", "Gradient"))}
    kernels -= {"StopGradient", "TensorArrayGrad"}
    assert kernels == {"ResizeBilinearGrad", "SparseAddGrad", "FakeQuantWithMinMaxArgsGradient",
                       "FakeQuantWithMinMaxVarsGradient", "FakeQuantWithMinMaxVarsPerChannelGradient"}
    assert known <= tf_op_types.NOT_DIFFERENTIABLE
    assert kernels <= known | recorded


def _hessians_error(t, connected: bool):
    graph = t.Graph()
    with graph.as_default():
        x = t.constant(IMAGE[:, :2, :2, :1])
        try:
            source = x if connected else t.constant(IMAGE[:, :2, :2, :1])
            t.hessians(t.reduce_sum(t.image.resize_bilinear(source, [3, 3]) ** 2), x)
        except ValueError as err:
            return str(err)
    return None


@pytest.mark.parametrize("connected", [True, False], ids=["second_gradient_none", "first_gradient_none"])
def test_hessians_of_none_gradients_raise_tfs_error(connected):
    """TF's hessians reshapes the first gradient and writes each second gradient into a TensorArray in a loop:
    a None there is convert_to_tensor's ValueError."""
    got = _hessians_error(gc, connected)
    assert got is not None and got == _hessians_error(oracle.tf1(), connected)
