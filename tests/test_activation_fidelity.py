"""Activations and inverse hyperbolics on TF's formulas, bit for bit where TF's kernels and XLA agree on
the elementary functions: Elu/Selu as exp(x) - 1 in the input's type (not expm1), Softplus with TF's
thresholds, float16/bfloat16 Sigmoid as Eigen's e / (1 + e), and Expm1/Asinh/Acosh/Atanh of 16-bit floats
through float32 with one rounding; and their gradients as TF's gradient functions (Acosh below 1 is NaN).
Each line runs under graphcompat (op by op, then compiled) and real TF."""
import numpy as np
import pytest

import graphcompat
from tests import _op_oracle, oracle

pytestmark = pytest.mark.oracle

GRID = np.linspace(-12, 12, 997).astype(np.float32)  # float16 subnormal results below x = -9.7
SMALL = np.array([-1e-5, -3e-4, -1e-3, -0.1, 0.0, -0.0, 1e-5, -20.0, -60.0, 60.0, np.inf, -np.inf, np.nan],
                 np.float32)


def _unary(name, values, dtype):
    def build(tf):
        fn = tf
        for part in name.split("."):
            fn = getattr(fn, part)
        return fn(tf.cast(tf.constant(values), getattr(tf, dtype)))
    return build


EXACT = [(name, dtype) for dtype in ("float16", "bfloat16")
         for name in ("sigmoid", "nn.elu", "nn.selu", "expm1", "asinh", "acosh", "atanh", "nn.swish")] + \
        [("nn.softplus", "bfloat16"), ("log_sigmoid", "bfloat16")]


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in units in the last place between same-typed float arrays (NaN equal to NaN)."""
    bits = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    ia, ib = (np.asarray(x).view(bits).astype(np.int64) for x in (a, b))
    ia, ib = (np.where(i < 0, np.iinfo(bits).min - i, i) for i in (ia, ib))  # monotonic in the value
    both_nan = np.isnan(a.astype(np.float32)) & np.isnan(b.astype(np.float32))
    return np.where(both_nan, 0, np.abs(ia - ib))


def _compare_ulps(build, max_ulps: int = 1, max_fraction: float = 0.005):
    """Every run's values within `max_ulps` of TF's, and at most `max_fraction` of them not bit-equal: the
    float32 elementary functions under both (XLA's, Eigen's) may differ by an ulp, which can move a 16-bit
    rounding on some CPU; a different formula moves many (the wrong ones did: 8-40% of this grid)."""
    got, _, _ = _op_oracle.run(graphcompat, build, runs=3)
    want, _, _ = _op_oracle.run(oracle.tf1(), build)
    w = np.asarray(want[0][0])
    for values in got:
        g = np.asarray(values[0])
        assert g.dtype == w.dtype
        ulps = _ulps(g, w)
        assert ulps.max() <= max_ulps, (ulps.max(), g[ulps > max_ulps][:5], w[ulps > max_ulps][:5])
        assert np.mean(ulps > 0) <= max_fraction, f"{np.mean(ulps > 0):.1%} of the values differ from TF's"


@pytest.mark.parametrize("name,dtype", EXACT, ids=[f"{n}-{d}" for n, d in EXACT])
def test_sixteen_bit_values_are_tfs(name, dtype):
    _compare_ulps(_unary(name, GRID, dtype))


@pytest.mark.parametrize("name", ["nn.elu", "nn.selu"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_elu_selu_near_zero_are_exp_minus_one(name, dtype):
    # float32 elu(-1e-5) is -1.0013580e-05 in TF (exp(x) - 1), expm1's -9.99995e-06 is 1.4e-4 away relatively;
    # an ulp of difference in exp itself grows by the cancellation (x = -0.1: ~8 ulps, 6e-7 relatively)
    if dtype in ("float16", "bfloat16"):
        _compare_ulps(_unary(name, SMALL, dtype), max_ulps=1, max_fraction=0.1)
        return
    got, _, _ = _op_oracle.run(graphcompat, _unary(name, SMALL, dtype), runs=3)
    want, _, _ = _op_oracle.run(oracle.tf1(), _unary(name, SMALL, dtype))
    for values in got:
        np.testing.assert_allclose(values[0], want[0][0], rtol=1e-5, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_softplus_thresholds(dtype):
    # x beyond -log(eps) - 2 is x itself, below log(eps) + 2 it is exp(x), as TF's kernel
    values = np.array([-40., -16., -13.95, -13.9, -5., 0., 5., 13.9, 13.95, 16., 40.], np.float32)
    _compare_ulps(_unary("nn.softplus", values, dtype), max_ulps=2, max_fraction=0.5)


def _gradient(name, values, dtype):
    def build(tf):
        fn = tf
        for part in name.split("."):
            fn = getattr(fn, part)
        x = tf.cast(tf.constant(values), getattr(tf, dtype))
        weights = tf.cast(tf.range(1, len(values) + 1), x.dtype) / 100
        return tf.cast(tf.gradients(tf.reduce_sum(fn(x) * weights), x)[0], tf.float32)
    return build


GRADIENT_VALUES = np.concatenate([np.linspace(-12, 12, 101), [-1e-5, 1e-5, 0.0, -40.0, 40.0]]).astype(np.float32)


@pytest.mark.parametrize("name", ["sigmoid", "nn.softplus", "nn.elu", "nn.selu", "expm1", "asinh", "acosh",
                                  "atanh"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_gradients_are_tfs(name, dtype):
    _op_oracle.compare(_gradient(name, GRADIENT_VALUES, dtype), tol=2e-2 if dtype in ("float16", "bfloat16")
                       else 1e-5)
