"""Less common math: inverse hyperbolics, special functions, x·log(y)-style safe ops, variance/std,
Euclidean norms, unsorted segment reductions, permutations. Lowerings in lowering/rules/math.py.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop, unchanged_shape
from graphcompat.ops.math_ops import (FLOAT, FLOAT_COMPLEX, INDEX, NUMBER, _binary_shape, _gen, _reduction_dims,
                                      _reduction_shape, _same_dtype_pair, _scan_shape, reduce_mean, sqrt, square)

__all__ = ["acosh", "asinh", "atanh", "erfc", "lgamma", "digamma", "xlogy", "xdivy", "multiply_no_nan",
           "reciprocal_no_nan", "reduce_variance", "reduce_std", "reduce_euclidean_norm", "unsorted_segment_sum",
           "unsorted_segment_max", "unsorted_segment_min", "unsorted_segment_prod", "invert_permutation",
           "cumulative_logsumexp"]


def _segment_shape(ctx: InferenceContext):
    data, ids, n = ctx.shape(0), ctx.shape(1), ctx.value(2)
    if data.ndims is None or ids.ndims is None:
        return [_ts.unknown_shape()]
    d, i = data.as_list(), ids.as_list()
    if len(i) > len(d):
        raise ctx.error(f"Shape must be at least rank {len(i)} but is rank {len(d)}")
    for k, (a, b) in enumerate(zip(d, i)):
        if a is not None and b is not None and a != b:
            raise ctx.error(f"Dimensions must be equal, but are {b} and {a}")
    return [_ts.TensorShape([None if n is None else int(n)] + d[len(i):])]


def _invert_permutation_shape(ctx: InferenceContext):
    s = ctx.shape(0)
    if s.ndims not in (None, 1):
        raise ctx.error(f"Shape must be rank 1 but is rank {s.ndims}")
    return [s if s.ndims is not None else _ts.unknown_shape(1)]


for _op, _types in [("Acosh", FLOAT_COMPLEX), ("Asinh", FLOAT_COMPLEX), ("Atanh", FLOAT_COMPLEX), ("Erfc", FLOAT),
                    ("Lgamma", FLOAT), ("Digamma", FLOAT)]:
    defop(_op, "x: T -> y: T", types={"T": _types}, shape=unchanged_shape)
for _op in ("Xlogy", "Xdivy", "MulNoNan"):
    defop(_op, "x: T, y: T -> z: T", types={"T": FLOAT_COMPLEX}, shape=_binary_shape)
defop("EuclideanNorm", "input: T, reduction_indices: Tidx -> output: T", attrs={"keep_dims": False},
      types={"T": NUMBER, "Tidx": INDEX}, shape=_reduction_shape)
for _op in ("UnsortedSegmentSum", "UnsortedSegmentMax", "UnsortedSegmentMin", "UnsortedSegmentProd"):
    defop(_op, "data: T, segment_ids: Tindices, num_segments: Tnumsegments -> output: T",
          types={"T": NUMBER, "Tindices": (_dt.int16, _dt.int32, _dt.int64), "Tnumsegments": INDEX},
          shape=_segment_shape)
defop("InvertPermutation", "x: T -> y: T", types={"T": INDEX}, shape=_invert_permutation_shape)
defop("CumulativeLogsumexp", "x: T, axis: Tidx -> out: T", attrs={"exclusive": False, "reverse": False},
      types={"T": FLOAT, "Tidx": INDEX}, shape=_scan_shape)

acosh = _gen("Acosh", "acosh")
asinh = _gen("Asinh", "asinh")
atanh = _gen("Atanh", "atanh")
erfc = _gen("Erfc", "erfc")
lgamma = _gen("Lgamma", "lgamma")
digamma = _gen("Digamma", "digamma")
invert_permutation = _gen("InvertPermutation", "invert_permutation")


def xlogy(x, y, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.xlogy`: x * log(y), 0 where x == 0 (TF 2.21 exposes the generated op directly)."""
    return apply_op("Xlogy", [x, y], name=name)


def xdivy(x, y, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.xdivy`: x / y, 0 where x == 0 (the op lands inside scope `xdivy`, as TF)."""
    with _ops.name_scope(name, "xdivy", [x]):
        return apply_op("Xdivy", [x, y])


def multiply_no_nan(x, y, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.multiply_no_nan`: x * y, 0 where y == 0 even if x is NaN or infinite."""
    with _ops.name_scope(name, "multiply_no_nan", [x, y]) as name:
        x, y = _same_dtype_pair(x, y)
        return apply_op("MulNoNan", [x, y], name=name)


def reciprocal_no_nan(x, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.reciprocal_no_nan`: DivNoNan(1, x)."""
    with _ops.name_scope(name, "reciprocal_no_nan", [x]) as name:
        x = convert_to_tensor(x, name="x")
        one = convert_to_tensor(1, dtype=x.dtype.base_dtype, name="one")
        return apply_op("DivNoNan", [one, x], name=name)


def reduce_variance(input_tensor, axis=None, keepdims: bool = False, name: Optional[str] = None):
    """`tf.math.reduce_variance`: Mean(Square(x - Mean(x, keepdims=True))); of a complex x, the real
    Mean(Real(Conj(d) * d)) of d = x - mean, i.e. of |d|^2."""
    with _ops.name_scope(name or "reduce_variance"):
        x = convert_to_tensor(input_tensor)
        means = reduce_mean(x, axis=axis, keepdims=True)
        if means.dtype.is_integer:
            raise TypeError(f"Input must be either real or complex. Received integer type {means.dtype}.")
        diff = x - means
        if diff.dtype.is_complex:
            product = apply_op("Mul", [apply_op("Conj", [diff]), diff])
            squared = apply_op("Real", [product], {"Tout": diff.dtype.real_dtype})
        else:
            squared = square(diff)
        return reduce_mean(squared, axis=axis, keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims: bool = False, name: Optional[str] = None):
    with _ops.name_scope(name or "reduce_std"):
        return sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims))


def reduce_euclidean_norm(input_tensor, axis=None, keepdims: bool = False, name: Optional[str] = None):
    x = convert_to_tensor(input_tensor) if not isinstance(input_tensor, _ops.Tensor) else input_tensor
    out = apply_op("EuclideanNorm", [x, _reduction_dims(x, axis)], {"keep_dims": bool(keepdims)},
                   name=name or "EuclideanNorm")
    if axis is None and not keepdims:
        out.set_shape([])
    return out


def _segment(op_type: str, tf_name: str):
    def build(data, segment_ids, num_segments, name: Optional[str] = None) -> _ops.Tensor:
        return apply_op(op_type, [data, segment_ids, num_segments], name=name)
    build.__name__ = tf_name
    build.__doc__ = f"`tf.math.{tf_name}` ({op_type}); ids outside [0, num_segments) are dropped, as TF."
    return build


unsorted_segment_sum = _segment("UnsortedSegmentSum", "unsorted_segment_sum")
unsorted_segment_max = _segment("UnsortedSegmentMax", "unsorted_segment_max")
unsorted_segment_min = _segment("UnsortedSegmentMin", "unsorted_segment_min")
unsorted_segment_prod = _segment("UnsortedSegmentProd", "unsorted_segment_prod")


def cumulative_logsumexp(x, axis=0, exclusive: bool = False, reverse: bool = False,
                         name: Optional[str] = None) -> _ops.Tensor:
    with _ops.name_scope(name, "CumulativeLogsumexp", [x]) as name:
        x = convert_to_tensor(x, name="x")
        return apply_op("CumulativeLogsumexp", [x, axis], {"exclusive": bool(exclusive), "reverse": bool(reverse)},
                        name=name)
