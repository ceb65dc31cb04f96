"""Math ops TF1 programs reach for under `tf.*`, `tf.math.*` and `tf.bitwise.*` that the core math
module lacks: bit shifts, complex construction and angle, special functions (incomplete gamma, zeta,
polygamma, betainc, erfinv, ndtri, Bessel), nextafter, xlog1py, bitcast, unravel_index, fixed-width
histograms, and TF's small composites on top of them (lbeta, log_sigmoid, polyval, erfcinv, …).

Each op type is one `defop`; lowerings in lowering/rules/math_extra.py. Op and scope names follow
TF 2.21's `tf.compat.v1` Python wrappers (tensorflow/python/ops/math_ops.py, special_math_ops.py).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, constant_value, convert_to_tensor
from graphcompat.framework.registry import (InferenceContext, apply_op, defop, format_shape, register_folders,
                                             unchanged_shape)
from graphcompat.ops.math_ops import _binary_shape, _gen

_INTEGER = (_dt.int8, _dt.int16, _dt.int32, _dt.int64, _dt.uint8, _dt.uint16, _dt.uint32, _dt.uint64)
_FLOAT = (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64)
_F32_64 = (_dt.float32, _dt.float64)
_INDEX = (_dt.int32, _dt.int64)
_COMPLEX = (_dt.complex64, _dt.complex128)
# Bitcast's types, TF's order (quantized types, which graphcompat lacks, left out).
_BITCAST = (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64, _dt.int64, _dt.int32, _dt.uint8, _dt.uint16,
            _dt.uint32, _dt.uint64, _dt.int8, _dt.int16, _dt.complex64, _dt.complex128)


def _ternary_shape(ctx: InferenceContext):
    # Betainc: equal shapes, except that scalars broadcast (TF's shape function merges the non-scalars).
    out = None
    for i in range(3):
        s = ctx.shape(i)
        if s.ndims == 0:
            continue
        if out is None or out.ndims is None:
            out = s if out is None or s.ndims is not None else out
            continue
        if s.ndims is not None:
            if s.ndims != out.ndims:
                raise ctx.error(f"Shapes must be equal rank, but are {s.ndims} and {out.ndims}")
            for k, (a, b) in enumerate(zip(out.as_list(), s.as_list())):
                if a is not None and b is not None and a != b:
                    raise ctx.error(f"Dimension {k} in both shapes must be equal, but are {a} and {b}. "
                                    f"Shapes are {format_shape(out)} and {format_shape(s)}.")
            out = out.merge_with(s)
    return [out if out is not None else _ts.TensorShape([])]


def _bitcast_shape(ctx: InferenceContext):
    shape = ctx.shape(0)
    src, dst = ctx.inputs[0].dtype.base_dtype, _dt.as_dtype(ctx.attrs["type"])
    a, b = np.dtype(src.as_numpy_dtype).itemsize, np.dtype(dst.as_numpy_dtype).itemsize
    if a == b or shape.ndims is None:
        return [shape if a == b else _ts.unknown_shape()]
    dims = shape.as_list()
    if a > b:
        return [_ts.TensorShape(dims + [a // b])]
    if not dims or (dims[-1] is not None and dims[-1] != b // a):
        raise ctx.error(f"Cannot bitcast from {src.as_datatype_enum} to {dst.as_datatype_enum} due to shape. "
                        f"{dims[-1] if dims else 0} does not match {b // a}")
    return [_ts.TensorShape(dims[:-1])]


for _op in ("LeftShift", "RightShift"):
    defop(_op, "x: T, y: T -> z: T", types={"T": _INTEGER}, shape=_binary_shape)
defop("Complex", "real: T, imag: T -> out: Tout", attrs={"T": _dt.float32, "Tout": _dt.complex64},
      types={"T": _F32_64, "Tout": _COMPLEX}, shape=_binary_shape)
defop("Angle", "input: T -> output: Tout", attrs={"T": _dt.complex64, "Tout": _dt.float32},
      types={"T": _COMPLEX, "Tout": _F32_64}, shape=unchanged_shape)
for _op in ("Igamma", "Igammac"):
    defop(_op, "a: T, x: T -> z: T", types={"T": _FLOAT}, shape=_binary_shape)
for _op in ("Zeta", "Polygamma"):
    defop(_op, "x: T, q: T -> z: T" if _op == "Zeta" else "a: T, x: T -> z: T", types={"T": _F32_64},
          shape=_binary_shape)
defop("Betainc", "a: T, b: T, x: T -> z: T", types={"T": _F32_64}, shape=_ternary_shape)
for _op in ("Erfinv", "Ndtri", "BesselI0", "BesselI0e", "BesselI1", "BesselI1e"):
    defop(_op, "x: T -> y: T", types={"T": _FLOAT}, shape=unchanged_shape)
defop("NextAfter", "x1: T, x2: T -> output: T", attrs={"T": _dt.float32}, types={"T": (_dt.float64, _dt.float32)},
      shape=_binary_shape)
defop("Xlog1py", "x: T, y: T -> z: T",
      types={"T": (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64, _dt.complex64, _dt.complex128)},
      shape=_binary_shape)
defop("Bitcast", "input: T -> output: type", types={"T": _BITCAST, "type": _BITCAST}, shape=_bitcast_shape)
defop("UnravelIndex", "indices: Tidx, dims: Tidx -> output: Tidx", attrs={"Tidx": _dt.int32},
      types={"Tidx": _INDEX})


def _histogram_shape(ctx: InferenceContext):
    n = ctx.value(2)
    if n is not None and int(n) <= 0:
        raise ctx.error(f"Requires nbins > 0: {int(n)}")
    return [_ts.TensorShape([None if n is None else int(n)])]


defop("HistogramFixedWidth", "values: T, value_range: T, nbins: int32 -> out: dtype", attrs={"dtype": _dt.int32},
      types={"T": (_dt.int32, _dt.int64, _dt.float32, _dt.float64), "dtype": _INDEX}, shape=_histogram_shape)
defop("BroadcastArgs", "s0: T, s1: T -> r0: T", attrs={"T": _dt.int32}, types={"T": _INDEX})


def _fold_broadcast_args(t):
    """Two known shapes broadcast at build time (TF's shape inference evaluates this small subgraph too, so
    what a BroadcastTo of it returns has a static shape)."""
    from graphcompat.framework.constant_op import constant_value
    s0, s1 = (constant_value(x) for x in t.op.inputs)
    if s0 is None or s1 is None:
        return None
    return np.array(np.broadcast_shapes(tuple(int(d) for d in s0), tuple(int(d) for d in s1)),
                    dtype=t.dtype.as_numpy_dtype)


register_folders({"BroadcastArgs": _fold_broadcast_args})

# ------------------------------------------------------------------------------------------------
# tf.bitwise
# ------------------------------------------------------------------------------------------------
bitwise_and = _gen("BitwiseAnd", "bitwise_and")
bitwise_or = _gen("BitwiseOr", "bitwise_or")
bitwise_xor = _gen("BitwiseXor", "bitwise_xor")
invert = _gen("Invert", "invert")
left_shift = _gen("LeftShift", "left_shift",
                  "`tf.bitwise.left_shift`: x << y element-wise (shifts past the width give 0, as TF's kernel).")
right_shift = _gen("RightShift", "right_shift",
                   "`tf.bitwise.right_shift`: x >> y element-wise (arithmetic for signed types, as TF's kernel).")

# ------------------------------------------------------------------------------------------------
# Special functions (TF's names: one op each, some under a name scope of their Python name)
# ------------------------------------------------------------------------------------------------
igamma = _gen("Igamma", "igamma", "`tf.math.igamma`: the regularized lower incomplete gamma P(a, x).")
igammac = _gen("Igammac", "igammac", "`tf.math.igammac`: the regularized upper incomplete gamma Q(a, x).")
zeta = _gen("Zeta", "zeta", "`tf.math.zeta`: the Hurwitz zeta function.")
polygamma = _gen("Polygamma", "polygamma", "`tf.math.polygamma`: the a-th derivative of digamma.")
nextafter = _gen("NextAfter", "nextafter")


def betainc(a, b, x, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.betainc`: the regularized incomplete beta function I_x(a, b)."""
    return apply_op("Betainc", [a, b, x], name=name)


def _scoped(op_type: str, tf_name: str, doc: str):
    def build(x, name: Optional[str] = None) -> _ops.Tensor:
        with _ops.name_scope(name, tf_name, [x]):
            return apply_op(op_type, [x])
    build.__name__ = tf_name
    build.__doc__ = doc
    return build


erfinv = _scoped("Erfinv", "erfinv", "`tf.math.erfinv`: the inverse error function.")
ndtri = _scoped("Ndtri", "ndtri", "`tf.math.ndtri`: the inverse of the standard normal CDF.")
bessel_i0 = _scoped("BesselI0", "bessel_i0", "`tf.math.bessel_i0`: the modified Bessel function I0.")
bessel_i0e = _scoped("BesselI0e", "bessel_i0e", "`tf.math.bessel_i0e`: exp(-|x|) * I0(x).")
bessel_i1 = _scoped("BesselI1", "bessel_i1", "`tf.math.bessel_i1`: the modified Bessel function I1.")
bessel_i1e = _scoped("BesselI1e", "bessel_i1e", "`tf.math.bessel_i1e`: exp(-|x|) * I1(x).")


def xlog1py(x, y, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.xlog1py`: x * log1p(y), and 0 where x == 0."""
    with _ops.name_scope(name, "xlog1py", [x, y]):
        return apply_op("Xlog1py", [x, y])


def erfcinv(x, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.erfcinv`: the inverse complementary error function, -ndtri(x / 2) / sqrt(2) as TF computes it."""
    with _ops.name_scope(name, "erfcinv", [x]):
        x = convert_to_tensor(x, name="start")
        return -ndtri(0.5 * x) * np.sqrt(0.5)


def lbeta(x, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.lbeta`: log|Beta(x)| reduced over the last axis (0-length last axis gives -inf, as TF)."""
    from graphcompat.ops import math_ops, special_math_ops
    with _ops.name_scope(name, "lbeta", [x]):
        x = convert_to_tensor(x, name="x")
        log_prod_gamma_x = math_ops.reduce_sum(special_math_ops.lgamma(x), axis=[-1])
        sum_x = math_ops.reduce_sum(x, axis=[-1])
        log_gamma_sum_x = special_math_ops.lgamma(sum_x)
        return log_prod_gamma_x - log_gamma_sum_x


def log_sigmoid(x, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.log_sigmoid`: -softplus(-x) (TF's numerically stable form)."""
    from graphcompat.nn import nn_ops
    with _ops.name_scope(name, "LogSigmoid", [x]) as scope:
        x = convert_to_tensor(x, name="x")
        from graphcompat.ops.math_ops import negative
        return negative(nn_ops.softplus(-x), name=scope)


def polyval(coeffs: Sequence, x, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.polyval`: Horner's rule, coeffs[0] * x**(n-1) + ... + coeffs[n-1]."""
    if not isinstance(coeffs, (list, tuple)):
        raise ValueError(f"Argument coeffs must be list type found {type(coeffs)}.")
    with _ops.name_scope(name, "polyval", list(coeffs) + [x]):
        x = convert_to_tensor(x, name="x")
        if len(coeffs) < 1:
            from graphcompat.ops.array_ops import zeros_like
            return zeros_like(x, name=name)
        coeffs = [convert_to_tensor(c, name=f"coeff_{i}") for i, c in enumerate(coeffs)]
        p = coeffs[0]
        for c in coeffs[1:]:
            p = c + p * x
        return p


def accumulate_n(inputs, shape=None, tensor_dtype=None, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.accumulate_n`: TF 2.21 computes it as `add_n` after checking shape/tensor_dtype."""
    from graphcompat.ops.math_ops import add_n
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor/IndexedSlices with the same dtype and "
                         "shape.")
    inputs = [convert_to_tensor(t) for t in inputs]
    if not all(t.dtype == inputs[0].dtype for t in inputs):
        raise ValueError("inputs must be a list of at least one Tensor/IndexedSlices with the same dtype and "
                         "shape.")
    if tensor_dtype is not None and _dt.as_dtype(tensor_dtype) != inputs[0].dtype:
        raise TypeError(f"The `tensor_dtype` argument is {_dt.as_dtype(tensor_dtype)}, but `input` is of type "
                        f"{inputs[0].dtype}. These must be equal. Try casting the input to the desired type.")
    if shape is not None and not _ts.as_shape(shape).is_compatible_with(inputs[0].shape):
        raise ValueError(f"The `shape` argument is {_ts.as_shape(shape)}, but `input` has shape "
                         f"{inputs[0].shape}. These must be compatible.")
    return add_n(inputs, name=name)


# ------------------------------------------------------------------------------------------------
# Complex numbers
# ------------------------------------------------------------------------------------------------
def complex(real, imag, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A001 (TF's public name)
    """`tf.complex`: real + imag * 1j; float32 pairs give complex64, float64 pairs complex128."""
    real = convert_to_tensor(real, name="real")
    imag = convert_to_tensor(imag, name="imag")
    with _ops.name_scope(name, "Complex", [real, imag]) as scope:
        types = (real.dtype.base_dtype, imag.dtype.base_dtype)
        if types == (_dt.float64, _dt.float64):
            tout = _dt.complex128
        elif types == (_dt.float32, _dt.float32):
            tout = _dt.complex64
        else:
            raise TypeError(f"The `real` and `imag` components have incorrect types: {real.dtype.name} "
                            f"{imag.dtype.name}. They must be consistent, and one of "
                            f"[tf.float32, tf.float64]")
        return apply_op("Complex", [real, imag], {"Tout": tout}, name=scope)


def angle(input, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.math.angle`: the argument of a complex tensor; for real input pi where x < 0, else 0."""
    from graphcompat.ops import array_ops
    from graphcompat.ops.math_ops import less, multiply, where
    with _ops.name_scope(name, "Angle", [input]) as scope:
        x = convert_to_tensor(input, name="input")
        if x.dtype.is_complex:
            return apply_op("Angle", [x], {"Tout": x.dtype.real_dtype}, name=scope)
        return where(less(x, constant(0, x.dtype.base_dtype, name="y")),
                     multiply(constant(np.pi, x.dtype.base_dtype), array_ops.ones_like(x)),
                     array_ops.zeros_like(x))


def to_complex64(x, name: str = "ToComplex64") -> _ops.Tensor:
    """`tf.to_complex64` (deprecated TF1 cast)."""
    from graphcompat.ops.math_ops import cast
    return cast(x, _dt.complex64, name=name)


def to_complex128(x, name: str = "ToComplex128") -> _ops.Tensor:
    """`tf.to_complex128` (deprecated TF1 cast)."""
    from graphcompat.ops.math_ops import cast
    return cast(x, _dt.complex128, name=name)


# ------------------------------------------------------------------------------------------------
# Bits, indices, histograms, broadcasting
# ------------------------------------------------------------------------------------------------
def bitcast(input, type, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.bitcast`: reinterprets the bytes; a wider source gains a last axis, a narrower one loses it."""
    return apply_op("Bitcast", [input], {"type": _dt.as_dtype(type)}, name=name)


def unravel_index(indices, dims, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.unravel_index`: flat indices to coordinate arrays (shape [len(dims)] + indices.shape)."""
    with _ops.name_scope(name, "UnravelIndex", [indices, dims]) as scope:
        indices = convert_to_tensor(indices, name="indices")
        dims = convert_to_tensor(dims, dtype=indices.dtype, name="dims")
        return apply_op("UnravelIndex", [indices, dims], name=scope)


def histogram_fixed_width(values, value_range, nbins=100, dtype=_dt.int32,
                          name: Optional[str] = None) -> _ops.Tensor:
    """`tf.histogram_fixed_width`: counts of `values` in `nbins` equal bins over value_range (ends clamp)."""
    with _ops.name_scope(name, "histogram_fixed_width", [values, value_range, nbins]) as scope:
        values = convert_to_tensor(values, name="values")
        value_range = convert_to_tensor(value_range, dtype=values.dtype.base_dtype, name="value_range")
        nbins = convert_to_tensor(nbins, dtype=_dt.int32, name="nbins")
        return apply_op("HistogramFixedWidth", [values, value_range, nbins], {"dtype": _dt.as_dtype(dtype)},
                        name=scope)


def histogram_fixed_width_bins(values, value_range, nbins=100, dtype=_dt.int32,
                               name: Optional[str] = None) -> _ops.Tensor:
    """`tf.histogram_fixed_width_bins`: the bin index of each value (TF's composite: scale, floor, clip)."""
    from graphcompat.ops import array_ops, math_ops
    with _ops.name_scope(name, "histogram_fixed_width_bins", [values, value_range, nbins]):
        values = convert_to_tensor(values, name="values")
        shape = array_ops.shape(values)
        values = array_ops.reshape(values, [-1])
        value_range = convert_to_tensor(value_range, name="value_range")
        nbins = convert_to_tensor(nbins, dtype=_dt.int32, name="nbins")
        n = constant_value(nbins)
        if n is not None and n <= 0:
            raise ValueError(f"nbins should be a positive number, but got '{n}'")
        nbins_float = math_ops.cast(nbins, values.dtype)
        scaled = math_ops.truediv(values - value_range[0], value_range[1] - value_range[0], name="scaled_values")
        indices = math_ops.floor(nbins_float * scaled, name="indices")
        indices = math_ops.cast(math_ops.clip_by_value(indices, 0, nbins_float - 1), dtype)
        return array_ops.reshape(indices, shape)


def broadcast_dynamic_shape(shape_x, shape_y) -> _ops.Tensor:
    """`tf.broadcast_dynamic_shape`: the broadcast of two shape vectors (BroadcastArgs)."""
    return apply_op("BroadcastArgs", [shape_x, shape_y])


def broadcast_static_shape(shape_x, shape_y) -> _ts.TensorShape:
    """`tf.broadcast_static_shape`: the broadcast of two TensorShapes; ValueError when incompatible."""
    shape_x, shape_y = _ts.as_shape(shape_x), _ts.as_shape(shape_y)
    if shape_x.ndims is None or shape_y.ndims is None:
        return _ts.unknown_shape()
    x, y = shape_x.as_list()[::-1], shape_y.as_list()[::-1]
    out = []
    for i in range(max(len(x), len(y))):
        a = x[i] if i < len(x) else 1
        b = y[i] if i < len(y) else 1
        if a == 1:
            out.append(b)
        elif b == 1:
            out.append(a)
        elif a is None or b is None:
            # an unknown dim against a known dim d > 1 broadcasts to d (or fails at run time)
            out.append(a if b is None else b)
        elif a == b:
            out.append(a)
        else:
            raise ValueError(f"Incompatible shapes for broadcasting. Two shapes are compatible if for each "
                             f"dimension pair they are either equal or one of them is 1. Received: {shape_x} "
                             f"and {shape_y}.")
    return _ts.TensorShape(out[::-1])


__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift", "igamma", "igammac",
           "zeta", "polygamma", "betainc", "erfinv", "ndtri", "bessel_i0", "bessel_i0e", "bessel_i1", "bessel_i1e",
           "xlog1py", "nextafter", "erfcinv", "lbeta", "log_sigmoid", "polyval", "accumulate_n", "complex", "angle",
           "to_complex64", "to_complex128", "bitcast", "unravel_index", "histogram_fixed_width",
           "histogram_fixed_width_bins", "broadcast_dynamic_shape", "broadcast_static_shape"]
