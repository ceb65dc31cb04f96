"""Edge-case fidelity against real `tensorflow.compat.v1`: NaN, infinities, signed zeros, empty and
out-of-range inputs, Python values converted to op inputs, and the errors TF raises for them.

Each table line is one snippet run under both (`_op_oracle`): values bit for bit where TF's result is
defined (`exact`: a -0.0 for a 0.0 or a NaN in another place fails), dtypes, static shapes, and for errors
the class and TF's message. Values TF leaves to C++ undefined behaviour (sort orders of NaN) are not in
these tables; a NaN or out-of-range float cast to an integer is, where TF's x86 kernels give one answer
whatever the tensor's length (int32, int64, uint64: the conversion's "integer indefinite"), and the
narrower types, whose answer depends on TF's loop, are checked on values in range and for agreement of
graphcompat's tiers (tests/test_math_ops.py).
"""
import numpy as np
import pytest

import graphcompat
from tests import _op_oracle

pytestmark = pytest.mark.oracle

NAN, INF = np.nan, np.inf
# Finite, infinite and fractional values on both sides of every integer type's range (no NaN: a NaN cast
# to an integer is undefined in TF's C++ kernels).
WIDE = np.array([-INF, -1e20, -5e9, -3e9, -70000.0, -129.7, -1.5, -0.0, 0.0, 0.5, 127.9, 128.0, 255.5, 256.0,
                 40000.0, 70000.0, 3e9, 5e9, 1e20, INF], np.float32)

M23 = np.arange(6, dtype=np.float32).reshape(2, 3)
ZEROS = np.array([0.0, -0.0, 1.0, 0.0, -0.0, -1.0, -0.0, 0.0], np.float32)
UNIQ = np.array([NAN, 1.0, NAN, 1.0, -0.0, 0.0, INF, NAN, -INF, INF, 0.0], np.float32)
# No -0.0: TF's relu family gives -0.0 in its scalar loop and 0.0 in its vector one (by array length).
ACT = np.array([[1.0, NAN, 3.0, NAN], [NAN, -2.0, 7.0, 6.0], [5.0, -5.0, INF, -INF], [0.0, -3.0, -0.5, -7.0]],
               np.float32)
TOPK = np.array([[0.1, 0.5, 0.4], [NAN, 0.2, 0.3], [INF, 0.1, 0.1], [0.3, 0.3, 0.3], [-INF, -INF, 0.0],
                 [0.2, NAN, 0.2], [0.2, 0.1, 0.0]], np.float32)
TARGETS = np.array([1, 1, 0, 2, 2, 0, 0], np.int32)
SCATTER_NAN = (np.array([1, NAN, 3, 4, -0.0, 0.0], np.float32), [0, 1, 2, 2, 4, 5],
               np.array([NAN, 2, NAN, 1, 0.0, -0.0], np.float32))
SCATTERS = {
    "div": [(np.array([7, -7, 9, 10], np.int32), [0, 1, 2], np.array([2, 2, -4], np.int32)),
            (np.array([9, -7, 9, 10], np.int32), [0, 0], np.array([2, 2], np.int32)),
            (np.array([9, 255], np.uint8), [0, 1], np.array([2, 7], np.uint8)),
            (np.array([1, NAN, 3, -0.0], np.float32), [0, 1, 2, 3], np.array([NAN, 2, INF, 5], np.float32)),
            (np.array([7, -7, 0, 10], np.float32), [0, 1, 2], np.array([0, -0.0, 0], np.float32))],
    "max": [SCATTER_NAN, (np.array([[1, NAN, 3], [4, -0.0, 0.0]], np.float32), [0, 1, 0],
                          np.array([[NAN, 2, NAN], [0, 0.0, -0.0], [2, 5, 1]], np.float32)),
            (np.array([1, 5], np.int32), [0, 0, 1], np.array([3, 2, 1], np.int32))],
    "min": [SCATTER_NAN, (np.array([1, 5], np.int32), [0, 0, 1], np.array([3, 2, 1], np.int32))],
    "mul": [(np.array([1, NAN, 3], np.float32), [0, 1, 2], np.array([NAN, 0, -0.0], np.float32))],
}
SEG = np.array([1, NAN, 0, 5, NAN, 2, 9, 1, -INF, -0.0, 0.0, NAN, -INF, 0.0, -0.0, 3, NAN, INF], np.float32)
SEG_IDS = [0, 0, 0, 1, 1, 1, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7]
F32MAX = np.finfo(np.float32).max
ARG = np.array([[1.0, NAN, 3.0, NAN], [NAN, 2.0, 2.0, 1.0], [5.0, 5.0, INF, INF], [-INF, -INF, 0.0, -0.0],
                [0.0, -0.0, -0.0, 0.0], [NAN, NAN, NAN, NAN], [NAN, -INF, -INF, NAN]], np.float32)
EDGES = np.array([-INF, -2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, 30.0, INF, NAN], np.float32)


def _grid(n: int, dtype) -> list:
    """Every n-tuple of EDGES, as n flat arrays."""
    return [g.reshape(-1).astype(dtype) for g in np.meshgrid(*[EDGES] * n, indexing="ij")]


def _scatter(tf, kind: str, resource: bool, var, indices, updates):
    """tf.scatter_<kind> on a variable set back to `var` first, so every run (op by op, then compiled)
    starts from the same value."""
    v = tf.Variable(var, name="v", use_resource=resource)
    with tf.control_dependencies([tf.assign(v, var)]):
        return getattr(tf, f"scatter_{kind}")(v, indices, updates)


def _sat(src, dst):
    return lambda tf: [tf.saturate_cast(tf.constant(src), dst(tf))]


# Out-of-range floats cast to int32/int64/uint64: TF's x86 kernels give INT_MIN / INT64_MIN / 2^63 for NaN,
# infinities and values past the type's range, whichever loop (vector or scalar tail) converts them.
OUT_OF_RANGE = np.array([NAN, INF, -INF, 1e30, -1e30, 3e9, -3e9, 5e9, 1e19, -1e19, 2.2e9, -1.5, 2.5, -0.0,
                         70000.5, -70000.5, 255.7], np.float32)
IN_RANGE = np.array([-0.0, 0.5, -0.5, 1.5, -1.5, 2.5, 99.9, -99.9, 126.7, -127.7], np.float32)


POOL_NAN = np.array([NAN, 1, NAN, NAN, NAN, 2, -INF, NAN, -INF, -INF, 3, NAN, NAN, NAN, -0.0, 0.0], np.float32)


def _cast_of(values, dst, feed: bool):
    """A cast of `values` fed through a placeholder (so each tier computes it) or as a constant (folded)."""
    def build(tf):
        x = tf.placeholder_with_default(values, values.shape) if feed else tf.constant(values)
        return [tf.cast(x, getattr(tf, dst))]
    return build


EXACT = [
    *[(f"cast_out_of_range_{src}_{dst}_{'fed' if feed else 'const'}",
       _cast_of(OUT_OF_RANGE.astype(src), dst, feed))
      for src in ["float32", "float64"] for dst in ["int32", "int64", "uint64"] for feed in (True, False)],
    ("cast_out_of_range_f16_int32", _cast_of(np.array([NAN, INF, -INF, 65504, -65504, 2.5, -3.5], np.float16),
                                             "int32", True)),
    *[(f"cast_in_range_{src}_{dst}", _cast_of((IN_RANGE if dst[0] == "i" else abs(IN_RANGE)).astype(src), dst, True))
      for src in ["float16", "float32", "float64"] for dst in ["int8", "int16", "uint8", "uint16", "uint32"]],
    # TF's CPU max pooling starts each window at the lowest finite value and a NaN never wins: NaNs are
    # skipped, a window of NaNs and -infs gives -3.4e38.
    *[(f"max_pool_nan_{padding}_{rank}d", lambda tf, padding=padding, rank=rank: [
        (tf.nn.max_pool if rank == 2 else tf.nn.max_pool3d)(
            tf.placeholder_with_default(POOL_NAN.reshape((1,) + (4,) * rank + (1,))[..., :1] if rank == 2 else
                                        np.resize(POOL_NAN, (1, 2, 4, 4, 1)), None),
            [1] + [2] * rank + [1], [1] + [2] * rank + [1], padding)]) for padding in ("VALID", "SAME")
      for rank in (2, 3)],
    ("unsorted_segment_negative_ids", lambda tf: [
        getattr(tf, f"unsorted_segment_{kind}")(
            tf.placeholder_with_default(np.array([1.0, 2.0, 3.0, 4.0], np.float32), [4]),
            tf.placeholder_with_default(np.array([0, -1, 2, -5], np.int32), [4]), 4)
        for kind in ("sum", "prod", "max", "min")]),
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
    # 3. argmax's axis: a narrow integer tensor is cast to int32; argmin takes a numpy integer.
    ("argmax_axis_narrow_int", lambda tf: [tf.argmax(M23, tf.constant(1, tf.int16)), tf.argmin(M23, np.int64(1)),
                                           tf.argmax(M23, True)]),
    # 4. argmax/argmin: a NaN is never picked (a row of NaNs gives 0), ties give the first index, and the
    # float type's extreme itself only wins at index 0.
    ("argmax_nan_ties", lambda tf: [f(x, axis) for x in (ARG, ARG.astype(np.float64), ARG.astype(np.float16))
                                    for f in (tf.argmax, tf.argmin) for axis in (0, 1)]),
    ("argmax_nan_fed", lambda tf: [f(tf.placeholder_with_default(ARG, [None, None]), 1, output_type=tf.int32)
                                   for f in (tf.argmax, tf.argmin)]),
    ("argmax_nan_long_rows", lambda tf: [tf.argmax(np.array([[NAN, 1, 2, NAN, 7, 3] * 6], np.float32), 1),
                                         tf.argmin(np.array([[NAN, 1, -2, NAN, -7, 3] * 6], np.float32), 1)]),
    ("argmax_extremes", lambda tf: [tf.argmax(np.array([-INF, -F32MAX], np.float32)),
                                    tf.argmax(np.array([NAN, -INF, -F32MAX], np.float32)),
                                    tf.argmin(np.array([INF, F32MAX], np.float32)),
                                    tf.argmin(np.array([NAN, F32MAX, 1.0], np.float32)),
                                    tf.argmax(np.array([[False, True, True]])), tf.argmin([7, 3, 3, 9])]),
    # 5. sort/argsort/top_k: -0.0 and 0.0 are equal keys, kept in index order (TF sorts with top_k).
    ("sort_signed_zeros", lambda tf: [tf.sort(ZEROS), tf.sort(ZEROS, direction="DESCENDING"), tf.argsort(ZEROS),
                                      tf.argsort(ZEROS, direction="DESCENDING"), tf.sort(ZEROS[::-1]),
                                      tf.sort(ZEROS.reshape(2, 4), axis=0), tf.argsort(ZEROS.astype(np.float64))]),
    ("top_k_signed_zeros", lambda tf: [*tf.nn.top_k(ZEROS, 8), *tf.nn.top_k(ZEROS, 3), *tf.nn.top_k(ZEROS[::-1], 5),
                                       *tf.math.top_k(ZEROS.astype(np.float16).reshape(2, 4), 2),
                                       *tf.nn.top_k(tf.placeholder_with_default(ZEROS, [None]), 4)]),
    # 6. unique: every NaN is its own value; -0.0 equals 0.0 and the first one seen is kept.
    ("unique_nan_signed_zeros", lambda tf: [*tf.unique(UNIQ), *tf.unique_with_counts(UNIQ, out_idx=tf.int64),
                                            *tf.unique(UNIQ.astype(np.float64)[::-1]),
                                            *tf.unique(np.array([NAN, NAN], np.float16)),
                                            *tf.unique(np.zeros([0], np.float32)), *tf.unique([3, 1, 3, 2, 1])]),
    # 7. Activations let a NaN through (relu6 clipped it to 0); leaky_relu's alpha is a float32 attr, so a
    # float64 input is scaled by double(0.2f). (The sign of relu(-0.0) is not compared: see ACT.)
    *[(f"activations_nan_{dt.__name__}", lambda tf, dt=dt: [
        f(ACT.astype(dt)) for f in (tf.nn.relu, tf.nn.relu6, tf.nn.leaky_relu, lambda v: tf.nn.leaky_relu(v, 1.5),
                                    lambda v: tf.nn.relu6(tf.placeholder_with_default(v, [None, None])))])
      for dt in (np.float32, np.float64)],
    *[(f"activations_nan_half_{dt}", lambda tf, dt=dt: [
        f(tf.cast(ACT, getattr(tf, dt))) for f in (tf.nn.relu, tf.nn.relu6, tf.nn.leaky_relu)])
      for dt in ("float16", "bfloat16")],
    # 8. histogram_fixed_width: infinities and values on bin edges.
    ("histogram_edges", lambda tf: [
        tf.histogram_fixed_width(np.array([1.0, INF, -INF, 2.0, 3.0, 2.9999, -0.0], np.float32), [0.0, 3.0], 3),
        tf.histogram_fixed_width(np.array([1, 2, 3, 7, -4], np.int64), [0, 5], 2, dtype=tf.int64)]),
    # 9. MirrorPad: a scalar with no paddings is itself; paddings up to the limit of each mode.
    ("mirror_pad_limits", lambda tf: [
        tf.pad(np.float32(1), np.zeros([0, 2], np.int32), "REFLECT"),
        tf.pad(M23, tf.placeholder_with_default(np.array([[1, 1], [2, 2]], np.int32), [2, 2]), "REFLECT"),
        tf.pad(M23, tf.placeholder_with_default(np.array([[2, 2], [3, 3]], np.int32), [2, 2]), "SYMMETRIC"),
        tf.pad(np.zeros([0, 2], np.float32), [[0, 0], [1, 1]], "SYMMETRIC")]),
    # 10. divide_no_nan: integers divide in truediv's float dtype (int32 -> float64, uint8 -> float32); 0 where
    # the divisor is 0 (even for a NaN dividend); a Python dividend takes the tensor divisor's dtype.
    ("div_no_nan_integers", lambda tf: [
        tf.div_no_nan([1, 2, -7], [0, 2, 2]), tf.math.divide_no_nan(np.array([1, 2]), np.array([0, 3])),
        tf.div_no_nan(np.array([1, 255], np.uint8), np.array([0, 2], np.uint8)),
        tf.div_no_nan(np.array([7], np.int16), np.array([2], np.int16)), tf.div_no_nan(3, tf.constant([0.0, 2.0]))]),
    ("div_no_nan_floats", lambda tf: [
        tf.math.divide_no_nan(np.array([1, NAN, INF, -1, 0, NAN, 1, -0.0, 1], np.float32),
                              np.array([0, 0, 0, -0.0, 0, 1, NAN, 5, -INF], np.float32)),
        tf.div_no_nan(np.array([1, NAN, 1], np.float16), np.array([0, 0, -0.0], np.float16)),
        tf.div_no_nan(np.array([1 + 1j, 2, NAN], np.complex64), np.array([0, 1j, 0], np.complex64))]),
    # 12. confusion_matrix: labels by rows, predictions by columns, summed weights, dtype from weights or
    # `dtype`; num_classes as a Python int, numpy int or tensor (already TF's).
    ("confusion_matrix", lambda tf: [
        tf.confusion_matrix([0, 1, 2], [0, 2, 2]), tf.confusion_matrix([0, 0, 2], [1, 1, 2], weights=[1.5, 2.0, 3.0],
                                                                       dtype=tf.float64),
        tf.confusion_matrix([0, 1, 2], [0, 2, 2], weights=[0.5, 1.0, 2.0]),
        tf.confusion_matrix(np.array([0, 1], np.int64), np.array([1, 1], np.int32), num_classes=np.int64(4)),
        tf.confusion_matrix([0, 1], [1, 1], num_classes=tf.constant(3), dtype=tf.uint8),
        tf.confusion_matrix(np.zeros([0], np.int32), np.zeros([0], np.int32), num_classes=2),
        tf.confusion_matrix([[0, 1]], [[1, 1]]), tf.confusion_matrix([0, 1, 2], [0, 2, 2], weights=[1, 2, 3])]),
    # 13. in_top_k: False for a row with any non-finite prediction, or a target out of range.
    ("in_top_k_non_finite", lambda tf: [tf.nn.in_top_k(TOPK, TARGETS, k) for k in (0, 1, 2, 3)] + [
        tf.nn.in_top_k(TOPK.astype(np.float64), TARGETS.astype(np.int64), 2),
        tf.nn.in_top_k(tf.placeholder_with_default(TOPK, [None, 3]), np.array([1, 1, 0, 2, 0, 5, -1], np.int32), 3)]),
    # 14. real/imag of real tensors: the tensor itself / zeros of its dtype (imag raised NotImplementedError).
    ("real_imag_of_real", lambda tf: [
        tf.math.imag(EDGES), tf.math.real(EDGES), tf.math.imag(np.array([1, 2], np.int32)), tf.math.real([1, 2]),
        tf.math.imag(EDGES.astype(np.float64)), tf.imag(EDGES.astype(np.float16)),
        tf.real(np.array([1 + 2j], np.complex64)), tf.imag(np.array([1 - 2j, complex(NAN, -0.0)], np.complex128)),
        tf.math.imag(tf.placeholder_with_default(EDGES, [None]))]),
    # 15. Scatter updates of variables (ref and resource): integer division truncates; a float divisor of 0
    # gives inf/NaN in the ref op; max/min keep the variable's value on a tie or a NaN update, and a NaN in
    # the variable stays.
    *[(f"scatter_{kind}_{'resource' if res else 'ref'}", lambda tf, kind=kind, res=res: [
        _scatter(tf, kind, res, var, idx, upd)
        for var, idx, upd in SCATTERS[kind] if not np.any(upd == 0) or (not res and var.dtype.kind == "f")])
      for kind in ("div", "max", "min", "mul") for res in (False, True)],
    ("tensor_scatter_max_min_nan", lambda tf: [
        tf.tensor_scatter_nd_max(np.array([1, NAN, 3, -0.0], np.float32), [[0], [1], [2], [3]],
                                 np.array([NAN, 2, 1, 0.0], np.float32)),
        tf.tensor_scatter_nd_min(np.array([1, NAN, 3, 0.0], np.float32), [[0], [1], [2], [3]],
                                 np.array([NAN, 2, 1, -0.0], np.float32))]),
    # 16. More of the same families: sign(-0.0) is 0.0; floormod's zero keeps the dividend's sign; |inf + nan j|
    # is inf; unsorted_segment_max/min go element by element (a NaN is replaced by the next number, the later
    # of equal values wins, an infinity beyond the initial extreme stays).
    ("sign_floormod_zeros", lambda tf: [
        tf.sign(np.array([-0.0, 0.0, NAN, -INF, 2.0], np.float32)), tf.sign(np.array([-0.0, NAN], np.float64)),
        tf.math.floormod(np.array([-0.0, -2.5, 2.5, -1, 1, -1, 5, -5, 0.0], np.float32),
                         np.array([2, 2.5, -2.5, INF, -INF, -INF, INF, 3, -3], np.float32)),
        tf.math.floormod(tf.placeholder_with_default(np.array([-0.0, -4.0, 4.0]), [None]), [2.0, 2.0, -2.0])]),
    ("complex_abs_non_finite", lambda tf: [tf.abs(np.array([3 + 4j, complex(INF, NAN), complex(NAN, -INF),
                                                            complex(NAN, 0), complex(-0.0, 0)], np.complex64))]),
    ("unsorted_segment_extremes", lambda tf: [
        f(v, SEG_IDS, 9) for f in (tf.math.unsorted_segment_max, tf.math.unsorted_segment_min)
        for v in (SEG, -SEG, SEG.astype(np.float64), np.stack([SEG[::-1]] * 3, 1))]),
    # 3. Builders: integer ends of linspace divide as TF's composition does (float64 for int32).
    ("linspace_integer_ends", lambda tf: [tf.linspace(0, 1, 3), tf.lin_space(np.int16(2), np.int16(-4), 4)]),
]

# 3. Python values converted to op inputs as TF's op_def_library does: a value for an input whose type no
# earlier input fixed keeps its own dtype when the op allows it, else takes the type attr's default (an
# empty list is float32 alone, int32 as axes, perm, multiples or shape); lists take their first tensor's
# dtype; Python ints wrap into narrow integer dtypes as TF's make_tensor_proto lets numpy do.
CONVERSIONS = [
    ("empty_axes", lambda tf: [tf.reduce_sum(M23, []), tf.reduce_mean(M23, ()), tf.reduce_max(M23, []),
                               tf.reduce_any(M23 > 2, [])]),
    ("empty_index_lists", lambda tf: [tf.transpose(np.float32(3.0), []), tf.tile(np.float32(3.0), []),
                                      tf.reshape([3.0], []), tf.fill([], 2.0), tf.broadcast_to(3.0, []),
                                      tf.reverse([1, 2, 3], []), tf.math.invert_permutation([]), tf.zeros([])]),
    ("numpy_float_axes", lambda tf: [tf.reduce_sum(M23, np.array([1.0]))]),
    ("list_takes_first_tensor_dtype", lambda tf: [tf.concat([[2], tf.constant([1.0])], 0),
                                                  tf.stack([2, tf.constant(1.0)])]),
    ("python_ints_wrap", lambda tf: [tf.add(tf.constant(1, tf.uint8), -1), tf.add(tf.constant(1, tf.uint8), 300),
                                     tf.add(tf.constant(1), 2 ** 40), tf.constant(300, tf.uint8),
                                     tf.constant([300, -1], tf.uint8), tf.constant(-1, tf.uint64),
                                     tf.constant(2 ** 63, tf.int64)]),
    ("python_values_inferred", lambda tf: [tf.constant(2 ** 63), tf.constant([2 ** 63, 1]), tf.constant([1, 2 ** 40]),
                                           tf.constant(True, tf.int32), tf.constant([True, 2.5], tf.float32),
                                           tf.constant(2 ** 70, tf.float32), tf.constant(1e10, tf.float16)]),
]

# Values TF computes with other last bits (transcendental functions): NaN and inf places exact, finite
# values to a tolerance.
CLOSE = [
    # 11. igamma, igammac, zeta, polygamma (and 14. betainc) over every pair (triple) of edge values: TF's
    # domain answers (NaN, 0, 1, inf) exactly in place, XLA's interior values to a tolerance.
    *[(f"special_{fn}_{dt.__name__}",
       lambda tf, fn=fn, dt=dt: [getattr(tf.math, fn)(*_grid(3 if fn == "betainc" else 2, dt))],
       2e-5 if dt == np.float32 else 1e-9)
      for fn in ("igamma", "igammac", "zeta", "polygamma", "betainc") for dt in (np.float32, np.float64)],
    # 7. elu/selu/softplus/softsign with NaN and infinities.
    *[(f"activations_exp_{dt.__name__}", lambda tf, dt=dt: [
        f(ACT.astype(dt)) for f in (tf.nn.elu, tf.nn.selu, tf.nn.softplus, tf.nn.softsign)], 1e-6)
      for dt in (np.float32, np.float64)],
]

ERRORS = [
    # 0. A dtype the OpDef allows and no CPU kernel accepts: TF's placer refuses the node before anything runs.
    ("no_cpu_kernel_reciprocal_int32", lambda tf: tf.reciprocal(tf.constant([1, 2, 3]))),
    ("reverse_duplicate_axes", lambda tf: tf.reverse(M23, [0, -2])),
    ("no_cpu_kernel_truncatemod_half", lambda tf: tf.truncatemod(tf.constant([7.5], tf.float16), 2.0)),
    # 1. saturate_cast has no limits for bool (TF's DType.min TypeError).
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
    # 8. histogram_fixed_width refuses NaN values (after checking the range); infinities are counted.
    ("histogram_nan", lambda tf: tf.histogram_fixed_width(np.array([1.0, NAN, 2.0], np.float32), [0.0, 3.0], 3)),
    ("histogram_nan_float64_fed", lambda tf: tf.histogram_fixed_width(
        tf.placeholder_with_default(np.array([[1.0, NAN]]), [None, None]), [0.0, 3.0], 3)),
    ("histogram_nan_bad_range_first", lambda tf: tf.histogram_fixed_width(np.array([1.0, NAN], np.float32),
                                                                           [3.0, 0.0], 3)),
    ("histogram_nan_range", lambda tf: tf.histogram_fixed_width(np.array([1.0], np.float32), [0.0, NAN], 3)),
    # 9. MirrorPad's own checks and texts when the paddings are fed (build-time ones are the shape function's).
    *[(f"mirror_pad_{mode}_{name}", lambda tf, mode=mode, p=p, x=x: tf.pad(
        tf.placeholder_with_default(x, [None] * x.ndim) if x.ndim else x,
        tf.placeholder_with_default(np.array(p, np.int32), None), mode))
      for mode in ("REFLECT", "SYMMETRIC")
      for name, x, p in [("negative", M23, [[-1, 0], [0, 0]]), ("negative_after", M23, [[0, 0], [1, -2]]),
                         ("rows", M23, [[1, 0]]), ("columns", M23, [[1, 0, 1], [0, 0, 0]]),
                         ("too_big", M23, [[0, 0], [0, 3 + (mode == "SYMMETRIC")]]),
                         ("too_big_before", M23, [[2 + (mode == "SYMMETRIC"), 0], [0, 0]]),
                         ("vector", M23, [1, 1]), ("empty_dim", np.zeros([0, 2], np.float32), [[1, 0], [0, 0]])]],
    # 10. divide_no_nan and truediv of dtypes without a float to divide in, and of mixed dtypes.
    ("div_no_nan_bool", lambda tf: tf.div_no_nan(tf.constant([True]), tf.constant([True]))),
    ("truediv_bool", lambda tf: tf.truediv(tf.constant([True]), tf.constant([True]))),
    ("div_no_nan_mixed", lambda tf: tf.math.divide_no_nan(tf.constant([1.0]), tf.constant([1]))),
    ("div_no_nan_python_float_int_tensor", lambda tf: tf.math.divide_no_nan(2.5, tf.constant([1]))),
    # 12. confusion_matrix's checks (already TF's).
    ("confusion_num_classes_small", lambda tf: tf.confusion_matrix([0, 1], [1, 3], num_classes=3)),
    ("confusion_label_too_large", lambda tf: tf.confusion_matrix([0, 3], [1, 1], num_classes=3)),
    ("confusion_negative_prediction", lambda tf: tf.confusion_matrix([0, 1], [1, -1])),
    ("confusion_negative_label", lambda tf: tf.confusion_matrix([-2, 1], [1, 1])),
    ("confusion_zero_classes", lambda tf: tf.confusion_matrix([0, 1], [1, 1], num_classes=0)),
    ("confusion_shapes", lambda tf: tf.confusion_matrix([0, 1], [1, 1, 0])),
    ("confusion_empty", lambda tf: tf.confusion_matrix(np.zeros([0], np.int32), np.zeros([0], np.int32))),
    ("confusion_weights_shape", lambda tf: tf.confusion_matrix([0, 1], [1, 1], weights=[1.0, 2.0, 3.0])),
    # 14. real of a non-number tensor.
    ("real_of_bool", lambda tf: tf.math.real(tf.constant([True]))),
    # 15. ResourceScatterDiv refuses a zero divisor (int or float), before the index check.
    ("resource_scatter_div_zero_int", lambda tf: tf.scatter_div(
        tf.Variable(np.array([7, -7], np.int32), name="v", use_resource=True), [0, 1], [0, 2])),
    ("resource_scatter_div_zero_float", lambda tf: tf.scatter_div(
        tf.Variable(np.array([7.0, 1.0]), name="v", use_resource=True), [0, 5], np.array([-0.0, 2.0]))),
    # 3. argmax checks its axis in Python (a numpy integer is refused, as TF's DType set test does); argmin's
    # dimension must be a scalar (its shape function).
    ("argmax_axis_numpy_int", lambda tf: tf.argmax(M23, np.int64(0))),
    ("argmax_axis_list", lambda tf: tf.argmax(M23, [1])),
    ("argmax_axis_float_tensor", lambda tf: tf.argmax(M23, tf.constant(1.0))),
    ("argmin_axis_list", lambda tf: tf.argmin(M23, [1])),
    # 3. Conversion errors: TF's classes and texts.
    ("list_types_dont_match", lambda tf: tf.concat([[1], [2.5]], 0)),
    ("list_types_dont_match_tensor_first", lambda tf: tf.add_n([tf.constant(1.0), 2])),
    ("list_types_dont_match_value_first", lambda tf: tf.add_n([2, tf.constant(1.0)])),
    ("list_empty_below_minimum", lambda tf: tf.concat([], 0)),
    ("list_after_bound_type", lambda tf: tf.dynamic_stitch([[0], [1.5]], [[1.0], [2.0]])),
    ("python_float_for_int", lambda tf: tf.add(1, 2.5)),
    ("python_float_for_int_tensor", lambda tf: tf.constant([1]) * 2.5),
    ("python_float_added_to_int_tensor", lambda tf: tf.constant([1]) + 2.0),
    ("python_float_radded_to_int_tensor", lambda tf: 2.0 + tf.constant([1])),
    ("range_of_int16", lambda tf: tf.range(tf.constant(2, tf.int16), 7)),
    ("split_by_scalar_float", lambda tf: tf.split([1, 2], 2.0)),
    ("python_int_too_large", lambda tf: tf.constant(2 ** 64)),
    ("python_int_too_large_uint64", lambda tf: tf.constant(2 ** 64, tf.uint64)),
    ("python_text_for_int", lambda tf: tf.constant("a", tf.int32)),
    ("python_mixed_text", lambda tf: tf.constant([1, "a"])),
    ("python_none_inside", lambda tf: tf.constant([1, None])),
    ("python_none", lambda tf: tf.add(None, 1)),
    ("one_hot_on_off_dtypes", lambda tf: tf.one_hot([1, 2], 3, on_value=2, off_value=0.5)),
    ("allowed_list_text", lambda tf: tf.math.multiply_no_nan([1, 2], [0, 1])),
    ("allowed_list_text_quantized", lambda tf: tf.reduce_sum(tf.constant(["a"]))),
    ("allowed_list_text_segment", lambda tf: tf.math.unsorted_segment_max(tf.constant([1j]), [0], 1)),
]


@pytest.mark.parametrize("name, build", EXACT, ids=[c[0] for c in EXACT])
def test_exact(name, build):
    _op_oracle.compare(build, runs=2, exact=True)


@pytest.mark.parametrize("name, build, tol", CLOSE, ids=[c[0] for c in CLOSE])
def test_close(name, build, tol):
    _op_oracle.compare(build, runs=2, tol=tol)


@pytest.mark.parametrize("name, build", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
def test_conversions(name, build):
    """Values and dtypes, and the graph node for node (TF keeps the Const it built and dropped)."""
    from tests import oracle
    _op_oracle.compare(build, runs=1, exact=True)
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


@pytest.mark.parametrize("name, build", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors(name, build):
    _op_oracle.compare_error(build)
