"""Edge-case fidelity against real `tensorflow.compat.v1`: NaN, infinities, signed zeros, empty and
out-of-range inputs, Python values converted to op inputs, and the errors TF raises for them.

Each table line is one snippet run under both (`_op_oracle`): values bit for bit where TF's result is
defined (`exact`: a -0.0 for a 0.0 or a NaN in another place fails), dtypes, static shapes, and for errors
the class and TF's message. Values TF leaves to C++ undefined behaviour (a NaN or out-of-range float cast
to an integer, sort orders of NaN) are not in these tables.
"""
import numpy as np
import pytest

from tests import _op_oracle

pytestmark = pytest.mark.oracle

NAN, INF = np.nan, np.inf
# Finite, infinite and fractional values on both sides of every integer type's range (no NaN: a NaN cast
# to an integer is undefined in TF's C++ kernels).
WIDE = np.array([-INF, -1e20, -5e9, -3e9, -70000.0, -129.7, -1.5, -0.0, 0.0, 0.5, 127.9, 128.0, 255.5, 256.0,
                 40000.0, 70000.0, 3e9, 5e9, 1e20, INF], np.float32)


def _sat(src, dst):
    return lambda tf: [tf.saturate_cast(tf.constant(src), dst(tf))]


EXACT = [
    # 1. saturate_cast: TF always clamps (ClipByValue "clamp") to limits computed in the input dtype, nudged
    # inside the target range; complex inputs clamp their real part (or both parts, complex to complex).
    *[(f"saturate_cast_f32_{d}", _sat(WIDE, lambda tf, d=d: getattr(tf, d)))
      for d in ["int8", "uint8", "int16", "uint16", "int32", "uint32", "float16", "bfloat16", "float32"]],
    *[(f"saturate_cast_f64_{d}", _sat(WIDE.astype(np.float64) * 1e10, lambda tf, d=d: getattr(tf, d)))
      for d in ["int8", "uint16", "int32", "uint32", "float32", "float64", "complex64"]],
    ("saturate_cast_ints", lambda tf: [
        tf.saturate_cast(np.array([-2 ** 31, -129, -1, 0, 127, 128, 255, 256, 2 ** 31 - 1], np.int32), tf.int8),
        tf.saturate_cast(np.array([-2 ** 31, -1, 0, 255, 256, 70000], np.int32), tf.uint8),
        tf.saturate_cast(np.array([-2 ** 63, -2 ** 31 - 1, 0, 2 ** 32, 2 ** 63 - 1], np.int64), tf.int32),
        tf.saturate_cast(np.array([-2 ** 63, -1, 0, 2 ** 32, 2 ** 63 - 1], np.int64), tf.uint32),
        tf.saturate_cast(np.array([0, 127, 128, 255], np.uint8), tf.int8),
        tf.saturate_cast(np.array([-128, -1, 0, 127], np.int8), tf.uint64),
        tf.saturate_cast(np.array([0, 65535], np.uint16), tf.float16)]),
    ("saturate_cast_complex", lambda tf: [
        tf.saturate_cast(np.array([3e9 + 1j, -5.7 - 2j, 300 + 1e30j, -INF + 0j], np.complex64), tf.int32),
        tf.saturate_cast(np.array([3e9 + 1j, -5.7 - 2j, 300 + 1e30j, INF + 0j], np.complex64), tf.uint8),
        tf.saturate_cast(np.array([1e300 - 1e300j, -1e300 + 2j, 1.5 + INF * 1j], np.complex128), tf.complex64),
        tf.saturate_cast(np.array([1e300 - 1e300j, 2.5 - 1j], np.complex128), tf.float32),
        tf.saturate_cast(np.array([1 + 2j], np.complex64), tf.complex128)]),
]

M23 = np.arange(6, dtype=np.float32).reshape(2, 3)

ERRORS = [
    ("saturate_cast_bool_in", lambda tf: tf.saturate_cast(tf.constant([True, False]), tf.int32)),
    ("saturate_cast_bool_out", lambda tf: tf.saturate_cast(tf.constant([0.5, 2.0]), tf.bool)),
    # 2. The same axis twice in a reduction: TF's kernel refuses it when it runs.
    *[(f"reduce_duplicate_axes_{op}_{axes}", lambda tf, op=op, axes=axes: getattr(tf, op)(M23 > 2 if op in (
        "reduce_any", "reduce_all") else M23, axes))
      for op in ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any", "reduce_all"]
      for axes in [[0, 0], [0, -2]]],
    ("reduce_duplicate_axes_keepdims", lambda tf: tf.reduce_sum(M23, [1, -1, 0], keepdims=True)),
    ("reduce_duplicate_axes_euclidean", lambda tf: tf.math.reduce_euclidean_norm(M23, [1, 1])),
    ("reduce_duplicate_axes_logsumexp", lambda tf: tf.reduce_logsumexp(M23, [0, -2])),
    ("reduce_duplicate_axes_fed", lambda tf: tf.reduce_max(tf.placeholder_with_default(M23, [None, None]), [1, 1])),
    ("reduce_axis_out_of_range_first", lambda tf: tf.reduce_sum(tf.placeholder_with_default(M23, None), [0, 5, 0])),
]


@pytest.mark.parametrize("name, build", EXACT, ids=[c[0] for c in EXACT])
def test_exact(name, build):
    _op_oracle.compare(build, runs=2, exact=True)


@pytest.mark.parametrize("name, build", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors(name, build):
    _op_oracle.compare_error(build)
