"""Coverage (issue 13 #7): tf.bitwise shifts, tf.complex/angle, special functions, bitcast, unravel_index,
fixed-width histograms, broadcast shapes, TF1's remaining check ops, and the alias namespaces
(tf.dtypes, tf.manip, tf.math/tf.debugging names) — conformance tables plus oracle comparisons.
"""
import numpy as np
import pytest
import scipy.special as sp

import graphcompat as tf
from graphcompat.framework import errors as E
from tests import oracle
from tests._conformance import Bad, Case, bad_cases, broadcast_cases, check, check_bad, check_broadcast

rng = np.random.RandomState(3)
F = rng.rand(3, 4).astype(np.float32) + 0.2          # positive
G = rng.rand(3, 4).astype(np.float32) + 0.2
U = (rng.rand(3, 4).astype(np.float32) * 0.98 + 0.01)  # in (0, 1)
D = rng.rand(2, 3) + 0.5
I = np.array([[1, -8, 7, 255], [3, 4, -1, 2 ** 30]], np.int32)
S = np.array([[1, 2, 40, -1], [0, 31, 3, 1]], np.int32)
U8 = np.array([255, 128, 7], np.uint8)
S8 = np.array([9, 1, 2], np.uint8)


def _shift_ref(left):
    def ref(x, y):
        bits = x.dtype.itemsize * 8
        y = np.clip(y, 0, bits - 1).astype(x.dtype)
        if left:
            return (x.astype(np.uint64) << y.astype(np.uint64)).astype(x.dtype)
        return x >> y
    return ref


def _hist_ref(values, lo, hi, n):
    idx = np.clip(np.floor((np.maximum(values.ravel().astype(np.float64), lo) - lo) / ((hi - lo) / n)), 0, n - 1)
    return np.bincount(idx.astype(np.int64), minlength=n).astype(np.int32)


TABLE = [
    Case("left_shift", lambda tf, x, y: tf.bitwise.left_shift(x, y), _shift_ref(True), [I, S], broadcast=True),
    Case("right_shift", lambda tf, x, y: tf.bitwise.right_shift(x, y), _shift_ref(False), [I, S]),
    Case("right_shift_uint8", lambda tf, x, y: tf.bitwise.right_shift(x, y), _shift_ref(False), [U8, S8]),
    Case("bitwise_and", lambda tf, x, y: tf.bitwise.bitwise_and(x, y), np.bitwise_and, [I, S]),
    Case("bitwise_or", lambda tf, x, y: tf.bitwise.bitwise_or(x, y), np.bitwise_or, [I, S]),
    Case("bitwise_xor", lambda tf, x, y: tf.bitwise.bitwise_xor(x, y), np.bitwise_xor, [I, S]),
    Case("invert", lambda tf, x: tf.bitwise.invert(x), np.invert, [U8]),
    Case("complex64", lambda tf, x, y: tf.complex(x, y), lambda x, y: (x + 1j * y).astype(np.complex64), [F, G],
         broadcast=True),
    Case("complex128", lambda tf, x, y: tf.dtypes.complex(x, y), lambda x, y: x + 1j * y, [D, D]),
    Case("angle_complex", lambda tf, x, y: tf.math.angle(tf.complex(x - 0.6, y)),
         lambda x, y: np.angle(x - 0.6 + 1j * y).astype(np.float32), [F, G], 1e-6),
    Case("angle_real", lambda tf, x: tf.angle(x - 0.6), lambda x: np.where(x - 0.6 < 0, np.pi, 0).astype(np.float32),
         [F]),
    Case("igamma", lambda tf, a, x: tf.math.igamma(a, x), lambda a, x: sp.gammainc(a, x).astype(np.float32), [F, G],
         1e-5),
    Case("igammac", lambda tf, a, x: tf.igammac(a, x), lambda a, x: sp.gammaincc(a, x), [D, D + 1], 1e-10),
    Case("zeta", lambda tf, x, q: tf.math.zeta(x + 1, q), lambda x, q: sp.zeta(x + 1, q).astype(np.float32), [F, G],
         1e-4),
    Case("polygamma", lambda tf, a, x: tf.math.polygamma(a, x), lambda a, x: sp.polygamma(a, x),
         [np.array([0., 1., 2., 1.5]), np.array([1., 2., 0.5, 3.])], 1e-8),
    Case("betainc", lambda tf, a, b, x: tf.math.betainc(a, b, x), lambda a, b, x: sp.betainc(a, b, x), [D, D + 1, D / 3],
         1e-8),
    Case("erfinv", lambda tf, x: tf.math.erfinv(x * 2 - 1), lambda x: sp.erfinv(x * 2 - 1).astype(np.float32), [U],
         1e-4),
    Case("erfcinv", lambda tf, x: tf.math.erfcinv(x), lambda x: sp.erfcinv(x), [D / 2], 1e-8),
    Case("ndtri", lambda tf, x: tf.math.ndtri(x), lambda x: sp.ndtri(x).astype(np.float32), [U], 1e-4),
    Case("bessel_i0", lambda tf, x: tf.math.bessel_i0(x), lambda x: sp.i0(x), [D], 1e-8),
    Case("bessel_i0e", lambda tf, x: tf.math.bessel_i0e(x), lambda x: sp.i0e(x).astype(np.float32), [F], 1e-6),
    Case("bessel_i1", lambda tf, x: tf.math.bessel_i1(x), lambda x: sp.i1(x), [D], 1e-8),
    Case("bessel_i1e", lambda tf, x: tf.math.bessel_i1e(x), lambda x: sp.i1e(x).astype(np.float32), [F], 1e-6),
    Case("nextafter", lambda tf, x, y: tf.math.nextafter(x, y), np.nextafter, [F, G]),
    Case("xlog1py", lambda tf, x, y: tf.math.xlog1py(x * 0, y), lambda x, y: np.zeros_like(x), [F, G]),
    Case("xlog1py_values", lambda tf, x, y: tf.math.xlog1py(x, y), lambda x, y: sp.xlog1py(x, y), [D, D]),
    Case("lbeta", lambda tf, x: tf.lbeta(x), lambda x: (np.sum(sp.gammaln(x), -1) - sp.gammaln(np.sum(x, -1))),
         [D], 1e-10),
    Case("log_sigmoid", lambda tf, x: tf.log_sigmoid(x - 0.7), lambda x: -np.logaddexp(0, -(x - 0.7)), [D], 1e-10),
    Case("polyval", lambda tf, x: tf.math.polyval([1.0, -2.0, 3.0], x), lambda x: (x * x - 2 * x + 3).astype(np.float32),
         [F], 1e-5),
    Case("accumulate_n", lambda tf, x, y: tf.accumulate_n([x, y, x]), lambda x, y: x + y + x, [F, G], 1e-6),
    Case("bitcast_same_width", lambda tf, x: tf.bitcast(x, tf.int32), lambda x: x.view(np.int32), [F]),
    Case("bitcast_narrower", lambda tf, x: tf.bitcast(x, tf.uint8), lambda x: x.view(np.uint8).reshape(3, 4, 4), [F]),
    Case("bitcast_wider", lambda tf, x: tf.bitcast(x, tf.float64),
         lambda x: x.view(np.float64).reshape(3, 2), [np.arange(12, dtype=np.int32).reshape(3, 2, 2)]),
    Case("unravel_index", lambda tf, i, d: tf.unravel_index(i, d),
         lambda i, d: np.stack(np.unravel_index(i, tuple(d))).astype(np.int32),
         [np.array([0, 5, 11, 7], np.int32), np.array([3, 4], np.int32)],
         bad=[Bad([np.array([12], np.int32), np.array([3, 4], np.int32)], E.InvalidArgumentError,
                  "index is out of bound as with dims")]),
    Case("histogram_fixed_width", lambda tf, v: tf.histogram_fixed_width(v, [0.3, 1.0], nbins=6),
         lambda v: _hist_ref(v, np.float32(0.3), np.float32(1.0), 6), [F]),
    Case("histogram_fixed_width_int64", lambda tf, v: tf.histogram_fixed_width(v, [0.3, 1.0], nbins=6, dtype=tf.int64),
         lambda v: _hist_ref(v, np.float32(0.3), np.float32(1.0), 6).astype(np.int64), [F]),
    Case("histogram_fixed_width_bins", lambda tf, v: tf.histogram_fixed_width_bins(v, [0.3, 1.0], nbins=6),
         lambda v: np.clip(np.floor(6 * (v - np.float32(0.3)) / np.float32(0.7)), 0, 5).astype(np.int32), [F]),
    Case("broadcast_dynamic_shape", lambda tf, a, b: tf.broadcast_dynamic_shape(a, b),
         lambda a, b: np.array(np.broadcast_shapes(tuple(a), tuple(b)), np.int32),
         [np.array([2, 1, 3], np.int32), np.array([4, 1], np.int32)], static=False,
         bad=[Bad([np.array([2, 2], np.int32), np.array([3], np.int32)], E.InvalidArgumentError,
                  "Incompatible shapes")]),
    Case("is_non_decreasing", lambda tf, x: [tf.math.is_non_decreasing(x), tf.is_non_decreasing(x[:1])],
         lambda x: [np.all(np.diff(x.ravel()) >= 0), np.True_], [np.array([1, 2, 2, 5], np.int32)]),
    Case("is_strictly_increasing", lambda tf, x: tf.is_strictly_increasing(x), lambda x: np.all(np.diff(x.ravel()) > 0),
         [np.array([[1, 2], [2, 5]], np.int32)]),
    Case("manip", lambda tf, x: [tf.manip.roll(x, 1, 0), tf.manip.reverse(x, [1]), tf.manip.tile(x, [1, 2]),
                                 tf.manip.reshape(x, [-1])],
         lambda x: [np.roll(x, 1, 0), x[:, ::-1], np.tile(x, [1, 2]), x.ravel()], [F]),
    Case("math_nn_aliases", lambda tf, x: [tf.math.softplus(x), tf.math.softsign(x), tf.math.log_softmax(x),
                                           tf.math.softmax(x), tf.math.l2_normalize(x, 1),
                                           tf.math.zero_fraction(x - 0.5)],
         lambda x: [np.logaddexp(0, x), x / (1 + np.abs(x)),
                    x - np.log(np.sum(np.exp(x), -1, keepdims=True)),
                    np.exp(x) / np.sum(np.exp(x), -1, keepdims=True),
                    x / np.sqrt(np.sum(x * x, 1, keepdims=True)), np.float32(np.mean(x - 0.5 == 0))],
         [D], 1e-10),
]


@pytest.mark.parametrize("case", TABLE, ids=str)
def test_conformance(case):
    check(case)


@pytest.mark.parametrize("case", broadcast_cases(TABLE), ids=str)
def test_broadcasting(case):
    check_broadcast(case)


@pytest.mark.parametrize("case, bad", bad_cases(TABLE))
def test_bad_inputs(case, bad):
    check_bad(case, bad)


def test_build_time_errors_are_tfs():
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match=r"The `real` and `imag` components have incorrect types: float32 "
                                            r"float64\. They must be consistent, and one of \[tf\.float32, "
                                            r"tf\.float64\]"):
            tf.complex(tf.constant(1.0), tf.constant(1.0, tf.float64))
        with pytest.raises(ValueError, match="Cannot bitcast from 4 to 3 due to shape. 2 does not match 4"):
            tf.bitcast(tf.constant([1, 2], tf.uint8), tf.int32)
        with pytest.raises(ValueError, match="Requires nbins > 0: 0"):
            tf.histogram_fixed_width([0.1], [0.0, 1.0], nbins=0)
        with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal, but are 2 and 3"):
            tf.math.betainc([1., 2.], [1., 2., 3.], [0.5, 0.5])
        with pytest.raises(TypeError, match="not in list of allowed values"):
            tf.bitwise.left_shift(tf.constant([1.0]), tf.constant([1.0]))
        with pytest.raises(ValueError, match=r"Incompatible shapes for broadcasting"):
            tf.broadcast_static_shape(tf.TensorShape([2, 3]), tf.TensorShape([4]))
    assert tf.broadcast_static_shape(tf.TensorShape([2, 1]), tf.TensorShape([3])).as_list() == [2, 3]
    assert tf.broadcast_static_shape(tf.TensorShape([None, 1]), tf.TensorShape([1, 5])).as_list() == [None, 5]


def test_run_time_errors_are_tfs():
    with tf.Graph().as_default():
        v = tf.placeholder(tf.float32, [None])
        r = tf.placeholder(tf.float32, [2])
        h = tf.histogram_fixed_width(v, r, nbins=3)
        i = tf.placeholder(tf.int32, None)
        u = tf.unravel_index(i, [2, 3])
        z = tf.unravel_index([1], tf.placeholder_with_default(tf.constant([2, 0]), [2]))
        with tf.Session() as sess:
            with pytest.raises(E.InvalidArgumentError, match=r"value_range should satisfy value_range\[0\] < "
                                                             r"value_range\[1\], but got '\[1, 0\]'"):
                sess.run(h, {v: [0.5], r: [1.0, 0.0]})
            with pytest.raises(E.InvalidArgumentError, match=r'The indices can only be scalar or vector, got "\[1,2\]"'):
                sess.run(u, {i: [[1, 2]]})
            with pytest.raises(E.InvalidArgumentError, match="Input dims cannot contain a dim of zero"):
                sess.run(z)


def test_namespaces_alias_the_same_objects():
    assert tf.dtypes.float32 is tf.float32 and tf.dtypes.bool is tf.bool and tf.dtypes.DType is tf.DType
    assert tf.dtypes.cast is tf.cast and tf.dtypes.as_dtype is tf.as_dtype
    assert tf.manip.gather_nd is tf.gather_nd and tf.manip.scatter_nd is tf.scatter_nd
    assert tf.manip.space_to_batch_nd is tf.space_to_batch_nd and tf.manip.batch_to_space_nd is tf.batch_to_space_nd
    assert tf.math.in_top_k is tf.nn.in_top_k and tf.debugging.assert_all_finite is tf.verify_tensor_all_finite
    assert tf.debugging.is_numeric_tensor is tf.is_numeric_tensor
    assert tf.dtypes.qint8 is tf.qint8  # quantized types exist since tests/test_quantized_ops.py


def test_check_ops_static_and_run_time():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3], name="x")
        with pytest.raises(ValueError, match=r"Tensor x:0 must have rank in \(2, 3\)\.  Received rank 1, shape \(3,\)"):
            tf.assert_rank_in(x, [2, 3])
        assert tf.assert_rank_in(x, [1, 2]).name == "assert_rank_in_1/static_checks_determined_all_ok"
        y = tf.placeholder(tf.float32, None)
        ok = tf.assert_rank_in(y, [1, 2], message="rank")
        near = tf.assert_near(x, x + 1e-3, atol=1e-2, rtol=0.0)
        far = tf.debugging.assert_near(x, x + 1.0)
        fin = tf.debugging.assert_all_finite(x, "bad values")
        assert fin.name == "VerifyFinite/control_dependency:0"
        assert tf.assert_same_float_dtype([x, x]) == tf.float32
        with pytest.raises(ValueError, match=r"y:0, type=<dtype: 'float64'>, must be of the same type "
                                             r"\(<dtype: 'float32'>\) as x:0\."):
            tf.assert_same_float_dtype([x, tf.placeholder(tf.float64, name="y")])
        with pytest.raises(ValueError, match="Expected floating point type, got <dtype: 'int32'>."):
            tf.assert_same_float_dtype(None, tf.int32)
        with pytest.raises(TypeError, match='Expected argument "values" to be a "proper" iterable'):
            tf.assert_proper_iterable("abc")
        tf.assert_proper_iterable([1, 2])
        assert tf.is_numeric_tensor(x) and not tf.is_numeric_tensor(tf.constant("s"))
        with tf.Session() as sess:
            sess.run([ok, near], {y: [[1.0]], x: [1, 2, 3]})
            with pytest.raises(E.InvalidArgumentError, match=r"assertion failed: \[rank\.  \] \[Tensor Placeholder:0 must have rank "
                                                             r"in\] \[1\] \[2\] \[Received shape: \] \[\]"):
                sess.run(ok, {y: 1.0})
            with pytest.raises(E.InvalidArgumentError, match=r'x and y not equal to tolerance rtol = Tensor\(\\"assert_near_1/rtol:0\\", '
                                                             r'shape=\(\), dtype=float32\), atol = '):
                sess.run(far, {x: [1, 2, 3]})
            with pytest.raises(E.InvalidArgumentError, match="bad values : Tensor had NaN values"):
                sess.run(fin, {x: [1, np.nan, 3]})


# ------------------------------------------------------------------------------------------------
# Oracle: the same programs under TensorFlow (values, dtypes, shapes and the op names TF records)
# ------------------------------------------------------------------------------------------------
ORACLE_PROGRAMS = {
    "complex_angle": lambda tf: [tf.complex(1.5, -2.0), tf.math.angle(tf.complex([1.0, -1.0], [0.0, 2.0])),
                                 tf.math.angle([-1.0, 2.0])],
    "shifts": lambda tf: [tf.bitwise.left_shift(tf.constant([1, 2, 3, -8]), tf.constant([1, 40, -1, 31])),
                          tf.bitwise.right_shift(tf.constant([1, 2, 3, -8]), tf.constant([1, 40, -1, 2])),
                          tf.bitwise.right_shift(tf.constant([255, 128], tf.uint8), tf.constant([9, 1], tf.uint8)),
                          tf.bitwise.left_shift(tf.constant([200], tf.uint8), tf.constant([1], tf.uint8))],
    "special": lambda tf: [tf.math.igamma([0.5, 2.0], [1.0, 3.0]), tf.math.igammac([0.5, 2.0], [1.0, 3.0]),
                           tf.math.zeta([2.0, 3.0], [1.0, 2.0]), tf.math.polygamma([0.0, 1.0, 1.5], [1.0, 2.0, 2.0]),
                           tf.math.betainc([1.0, 2.0], [2.0, 3.0], [0.5, 0.25]), tf.math.erfinv([0.1, -0.7]),
                           tf.math.erfcinv([0.1, 1.3]), tf.math.ndtri([0.1, 0.9]), tf.math.bessel_i0([0.5, 3.0]),
                           tf.math.bessel_i1e([0.5, -3.0]), tf.math.xlog1py([0.0, 2.0], [-1.0, 0.5]),
                           tf.math.lbeta([[1.0, 2.0], [3.0, 0.5]]), tf.math.log_sigmoid([-50.0, 0.0, 3.0]),
                           tf.math.polyval([2.0, 0.0, 1.0], tf.constant([1.0, 3.0])),
                           tf.math.nextafter([1.0, 2.0], [2.0, 0.0])],
    "bits_and_indices": lambda tf: [tf.bitcast(tf.constant([1.0, -2.0]), tf.int32),
                                    tf.bitcast(tf.constant([[1, 2, 3, 4]], tf.uint8), tf.int32),
                                    tf.unravel_index([1, 5, 4], [2, 3]), tf.unravel_index(7, [2, 4]),
                                    tf.histogram_fixed_width([-1.0, 0.0, 0.5, 1.0, 3.0], [0.0, 1.0], nbins=4),
                                    tf.histogram_fixed_width_bins([-1.0, 0.2, 0.5, 1.0, 3.0], [0.0, 1.0], nbins=4),
                                    tf.broadcast_dynamic_shape([2, 1, 3], [4, 1]),
                                    tf.div_no_nan([1.0, 2.0], [0.0, 4.0]), tf.to_complex64([1.0, 2.0])],
    "monotonic": lambda tf: [tf.math.is_non_decreasing([1, 1, 2]), tf.math.is_strictly_increasing([1, 1, 2]),
                             tf.math.is_strictly_increasing([[1.0, 2.0], [3.0, 4.0]]),
                             tf.math.is_non_decreasing([5])],
}



@pytest.mark.oracle
@pytest.mark.parametrize("program", sorted(ORACLE_PROGRAMS))
def test_oracle_values_and_names(program):
    v1 = oracle.tf1()
    build = ORACLE_PROGRAMS[program]
    got = oracle.run(tf, build)
    want = oracle.run(v1, build)
    oracle.assert_same_values(got, want, 2e-6, 1e-6, program)
    assert oracle.names(tf, build) == oracle.names(v1, build)
