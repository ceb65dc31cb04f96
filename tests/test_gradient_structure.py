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
        except LookupError as err:
            return "LookupError", str(err)
        return "computed", [g is None for g in second]


@pytest.mark.parametrize("name,fn,inputs", SECOND_ORDER_CASES, ids=[c[0] for c in SECOND_ORDER_CASES])
def test_second_order_refuses_where_tf_does(name, fn, inputs):
    assert _second_order(gc, fn, inputs) == _second_order(oracle.tf1(), fn, inputs)
