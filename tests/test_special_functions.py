"""tf.math.special's Bessel J/Y/K functions, Dawson's integral, Ei, Fresnel and Spence (graphcompat/ops/
special_functions_ops.py) against real TensorFlow: values over six decades and at TF's domain edges (±0, ±inf,
NaN, negative x), float32 and float64, op names, and gradients."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

pytestmark = pytest.mark.oracle

FUNCTIONS = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "bessel_k0", "bessel_k0e", "bessel_k1",
             "bessel_k1e", "dawsn", "expint", "fresnel_cos", "fresnel_sin", "spence"]
EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -1e-3, 2.0, 8.0, 25.0]


def _grid(dtype):
    top = 1e4 if dtype == np.float64 else 60.0  # float32 kernels lose relative accuracy near far zeros
    x = np.concatenate([np.geomspace(1e-6, top, 300), -np.geomspace(1e-3, 50, 20), EDGES])
    return x.astype(dtype)


def _run(lib, x: np.ndarray, grad: bool = False):
    """Every function of x in one graph: (names, values[, gradients])."""
    g = lib.Graph()
    with g.as_default():
        p = lib.placeholder(x.dtype, [None], name="x")
        ys = [getattr(lib.math.special, fn)(p) for fn in FUNCTIONS]
        fetches = [lib.gradients(lib.reduce_sum(y), p)[0] for y in ys] if grad else ys
        with lib.Session(graph=g) as sess:
            return [y.name for y in ys], sess.run(fetches, {p: x})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_functions_match_tf(dtype):
    x = _grid(dtype)
    names, got = _run(tf, x)
    want_names, want = _run(oracle.tf1(), x)
    assert names == want_names == [f"{fn}/{name.split('/')[1]}" for fn, name in zip(FUNCTIONS, names)]
    tol = 1e-10 if dtype == np.float64 else 2e-5
    for fn, g, w in zip(FUNCTIONS, got, want):
        assert g.dtype == w.dtype == dtype, fn
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=fn)
        infinite = np.isinf(w)
        np.testing.assert_array_equal(g[infinite], w[infinite], err_msg=fn)
        finite = np.isfinite(w)
        np.testing.assert_allclose(g[finite], w[finite], rtol=tol, atol=tol * 1e-2, err_msg=fn)


@pytest.mark.slow  # the VJPs of 13 quadratures compile for a few seconds
def test_special_function_gradients_match_tf():
    x = np.array([0.3, 1.0, 2.5, 7.0, 12.0, 30.0], np.float64)
    _, got = _run(tf, x, grad=True)
    _, want = _run(oracle.tf1(), x, grad=True)
    for fn, g, w in zip(FUNCTIONS, got, want):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-12, err_msg=fn)
