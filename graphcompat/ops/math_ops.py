"""Math ops: element-wise arithmetic, comparisons, logic, casts, select — and the Tensor operators.

Each op type is one `defop` line (signature + hand-written shape function: these are the hot path of
graph building); the public `tf.*` builder is a thin function that validates arguments the TF way and
names ops as TF 2.21's `tf.compat.v1` does. Lowerings live in lowering/rules/math.py.
Reductions, scans and ranges live in reduction_ops.py (re-exported here), matrix products in
linalg_ops.py, special functions in special_math_ops.py.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, constant_value, convert_to_tensor
from graphcompat.framework.registry import (InferenceContext, apply_op, broadcast_shapes, defop, get_op_def,
                                            merge_shapes, register_folders, unchanged_shape)

NUMBER = _dt.NUMBER_TYPES
REAL = _dt.REAL_NUMBER_TYPES
FLOAT = _dt.FLOAT_TYPES
FLOAT_COMPLEX = _dt.FLOAT_AND_COMPLEX_TYPES
SIGNED = tuple(t for t in NUMBER if not t.is_unsigned)
INTEGER = _dt.INTEGER_TYPES
INDEX = (_dt.int32, _dt.int64)
COMPLEX = (_dt.complex64, _dt.complex128)

__all__ = [
    "add", "subtract", "multiply", "div", "divide", "truediv", "realdiv", "floordiv", "floor_div",
    "floormod", "mod", "truncatediv", "truncatemod", "pow", "negative", "abs", "sign", "square", "sqrt",
    "rsqrt", "exp", "expm1", "log", "log1p", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
    "tanh", "sigmoid", "erf", "round", "floor", "ceil", "rint", "reciprocal", "maximum", "minimum",
    "squared_difference", "add_n", "is_finite", "is_nan", "is_inf", "conj", "real", "imag",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_not", "logical_xor", "where", "where_v2",
    "cast", "to_float", "to_double", "to_int32", "to_int64", "to_bfloat16", "saturate_cast",
    "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any", "reduce_all",
    "reduce_logsumexp", "argmax", "argmin", "count_nonzero", "cumsum", "cumprod", "clip_by_value",
    "range", "lin_space", "linspace", "atan2", "scalar_mul", "divide_no_nan",
]


# ------------------------------------------------------------------------------------------------
# Shape functions (fast paths first: these run for every op a model builds)
# ------------------------------------------------------------------------------------------------
def _binary_shape(ctx: InferenceContext):
    a, b = ctx.inputs[0]._shape, ctx.inputs[1]._shape
    if a is b:
        return [a]
    if b.ndims == 0:
        return [a]
    if a.ndims == 0:
        return [b]
    return [broadcast_shapes(ctx, a, b)]


def merge_all(ctx: InferenceContext):
    """TF's Pack/AddN merge of all input shapes (its error text names the merge)."""
    shape = _ts.unknown_shape()
    for t in ctx.inputs:
        try:
            shape = merge_shapes(ctx, shape, t.shape)
        except ValueError as err:
            head = str(err).split(f" for '{ctx.name}'")[0]
            raise ctx.error(head + "\n\tFrom merging shape 0 with other shapes.") from None
    return shape


def _add_n_shape(ctx: InferenceContext):
    return [merge_all(ctx)]


def _select_shape(ctx: InferenceContext):
    """TF1's Select: `t`/`e` equal shapes; `cond` scalar, equal shape, or a vector over dim 0."""
    cond, data = ctx.shape(0), merge_shapes(ctx, ctx.shape(1), ctx.shape(2))
    if cond.ndims is None or cond.ndims == 0:
        return [data]
    if cond.ndims != 1 or data.ndims == 0:
        return [merge_shapes(ctx, data, cond)]
    if data.ndims is None:
        return [data]
    merge_shapes(ctx, cond, _ts.TensorShape([data.as_list()[0]]))  # checked, but TF returns the data's shape
    return [data]


def _select_v2_shape(ctx: InferenceContext):
    shape = broadcast_shapes(ctx, ctx.shape(1), ctx.shape(2))
    return [broadcast_shapes(ctx, ctx.shape(0), shape)]


def _complex_abs_shape(ctx: InferenceContext):
    return [ctx.shape(0)]


# ------------------------------------------------------------------------------------------------
# Op definitions
# ------------------------------------------------------------------------------------------------
for _op, _types in [("AddV2", NUMBER), ("Sub", NUMBER), ("Mul", NUMBER), ("RealDiv", NUMBER),
                    ("FloorDiv", NUMBER), ("FloorMod", REAL), ("TruncateDiv", NUMBER), ("TruncateMod", REAL),
                    ("Pow", NUMBER), ("Maximum", REAL), ("Minimum", REAL), ("SquaredDifference", NUMBER),
                    ("DivNoNan", FLOAT_COMPLEX)]:
    defop(_op, "x: T, y: T -> z: T", types={"T": _types}, shape=_binary_shape)
defop("Atan2", "y: T, x: T -> z: T", types={"T": FLOAT}, shape=_binary_shape)
defop("Add", "x: T, y: T -> z: T", types={"T": NUMBER + (_dt.string,)}, shape=_binary_shape)  # strings

for _op in ("Less", "LessEqual", "Greater", "GreaterEqual"):
    defop(_op, "x: T, y: T -> z: bool", types={"T": REAL}, shape=_binary_shape)
for _op in ("Equal", "NotEqual"):
    defop(_op, "x: T, y: T -> z: bool", attrs={"incompatible_shape_error": True}, shape=_binary_shape)
for _op in ("LogicalAnd", "LogicalOr"):
    defop(_op, "x: bool, y: bool -> z: bool", shape=_binary_shape)
defop("LogicalNot", "x: bool -> y: bool", shape=unchanged_shape)
for _op in ("BitwiseAnd", "BitwiseOr", "BitwiseXor"):
    defop(_op, "x: T, y: T -> z: T", types={"T": INTEGER}, shape=_binary_shape)
defop("Invert", "x: T -> y: T", types={"T": INTEGER}, shape=unchanged_shape)

for _op, _types in [("Neg", SIGNED), ("Abs", REAL), ("Sign", NUMBER), ("Square", NUMBER),
                    ("Sqrt", FLOAT_COMPLEX), ("Rsqrt", FLOAT_COMPLEX), ("Exp", FLOAT_COMPLEX),
                    ("Expm1", FLOAT_COMPLEX), ("Log", FLOAT_COMPLEX), ("Log1p", FLOAT_COMPLEX),
                    ("Sin", FLOAT_COMPLEX), ("Cos", FLOAT_COMPLEX), ("Tan", FLOAT_COMPLEX),
                    ("Asin", FLOAT_COMPLEX), ("Acos", FLOAT_COMPLEX), ("Atan", FLOAT_COMPLEX),
                    ("Sinh", FLOAT_COMPLEX), ("Cosh", FLOAT_COMPLEX), ("Tanh", FLOAT_COMPLEX),
                    ("Sigmoid", FLOAT_COMPLEX), ("Erf", FLOAT), ("Round", NUMBER), ("Floor", FLOAT),
                    ("Ceil", FLOAT), ("Rint", FLOAT), ("Reciprocal", NUMBER)]:
    defop(_op, "x: T -> y: T", types={"T": _types}, shape=unchanged_shape)
defop("Conj", "input: T -> output: T", types={"T": COMPLEX}, shape=unchanged_shape)
for _op in ("IsFinite", "IsNan", "IsInf"):
    defop(_op, "x: T -> y: bool", types={"T": FLOAT}, shape=unchanged_shape)
defop("ComplexAbs", "x: T -> y: Tout", types={"T": COMPLEX}, shape=_complex_abs_shape)
for _op in ("Real", "Imag"):
    defop(_op, "input: T -> output: Tout", types={"T": COMPLEX}, shape=unchanged_shape)

defop("AddN", "inputs: N * T -> sum: T", types={"T": NUMBER}, shape=_add_n_shape)
defop("Cast", "x: SrcT -> y: DstT", attrs={"Truncate": False}, shape=unchanged_shape)
defop("ClipByValue", "t: T, clip_value_min: T, clip_value_max: T -> output: T", types={"T": NUMBER},
      shape=unchanged_shape)
defop("Select", "condition: bool, t: T, e: T -> output: T", shape=_select_shape)
defop("SelectV2", "condition: bool, t: T, e: T -> output: T", shape=_select_v2_shape)

# ------------------------------------------------------------------------------------------------
# Element-wise builders
# ------------------------------------------------------------------------------------------------
def _gen(op_type: str, tf_name: str, doc: str = ""):
    """A builder that is exactly TF's generated wrapper: one op, default name = the op type."""
    if len(get_op_def(op_type).inputs) == 2:
        def build(x, y, name: Optional[str] = None) -> _ops.Tensor:
            return apply_op(op_type, [x, y], name=name)
    else:
        def build(x, name: Optional[str] = None) -> _ops.Tensor:
            return apply_op(op_type, [x], name=name)
    build.__name__ = tf_name
    build.__doc__ = doc or f"`tf.{tf_name}`: the element-wise {op_type} op."
    return build


subtract = _gen("Sub", "subtract")
multiply = _gen("Mul", "multiply")
realdiv = _gen("RealDiv", "realdiv")
floor_div = _gen("FloorDiv", "floor_div")
floormod = _gen("FloorMod", "floormod", "`tf.math.floormod`: remainder with the sign of the divisor (Python's %).")
mod = floormod
truncatediv = _gen("TruncateDiv", "truncatediv", "`tf.truncatediv`: C-style division, rounding toward zero.")
truncatemod = _gen("TruncateMod", "truncatemod", "`tf.truncatemod`: remainder with the sign of the dividend.")
maximum = _gen("Maximum", "maximum")
minimum = _gen("Minimum", "minimum")
squared_difference = _gen("SquaredDifference", "squared_difference")
atan2 = _gen("Atan2", "atan2")
negative = _gen("Neg", "negative")
sign = _gen("Sign", "sign")
square = _gen("Square", "square")
sqrt = _gen("Sqrt", "sqrt")
rsqrt = _gen("Rsqrt", "rsqrt")
exp = _gen("Exp", "exp")
expm1 = _gen("Expm1", "expm1")
log = _gen("Log", "log")
log1p = _gen("Log1p", "log1p")
sin = _gen("Sin", "sin")
cos = _gen("Cos", "cos")
tan = _gen("Tan", "tan")
asin = _gen("Asin", "asin")
acos = _gen("Acos", "acos")
atan = _gen("Atan", "atan")
sinh = _gen("Sinh", "sinh")
cosh = _gen("Cosh", "cosh")
tanh = _gen("Tanh", "tanh")
erf = _gen("Erf", "erf")
floor = _gen("Floor", "floor")
ceil = _gen("Ceil", "ceil")
rint = _gen("Rint", "rint")
reciprocal = _gen("Reciprocal", "reciprocal")
is_finite = _gen("IsFinite", "is_finite")
is_nan = _gen("IsNan", "is_nan")
is_inf = _gen("IsInf", "is_inf")
less = _gen("Less", "less")
less_equal = _gen("LessEqual", "less_equal")
greater = _gen("Greater", "greater")
greater_equal = _gen("GreaterEqual", "greater_equal")
logical_and = _gen("LogicalAnd", "logical_and")
logical_or = _gen("LogicalOr", "logical_or")
logical_not = _gen("LogicalNot", "logical_not")


def add(x, y, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.add` (op AddV2, default name `Add`)."""
    with _ops.name_scope(name, "Add", [x]) as name:
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, dtype_hint=x.dtype.base_dtype, name="y")
        return apply_op("Add" if x.dtype.base_dtype == _dt.string else "AddV2", [x, y], name=name)


def equal(x, y, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("Equal", [x, y], {"incompatible_shape_error": True}, name=name)


def not_equal(x, y, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("NotEqual", [x, y], {"incompatible_shape_error": True}, name=name)


def logical_xor(x, y, name: str = "LogicalXor") -> _ops.Tensor:
    """TF composes xor as `(x | y) & ~(x & y)`; only the last op carries the name."""
    return apply_op("LogicalAnd", [logical_or(x, y), logical_not(logical_and(x, y))], name=name)


def sigmoid(x, name: Optional[str] = None) -> _ops.Tensor:
    with _ops.name_scope(name, "Sigmoid", [x]) as name:
        x = convert_to_tensor(x, name="x")
        return apply_op("Sigmoid", [x], name=name)


def pow(x, y, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A001 (TF's public name)
    with _ops.name_scope(name, "Pow", [x]) as name:
        return apply_op("Pow", [x, y], name=name)


def abs(x, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A001
    """`tf.abs`: Abs, or ComplexAbs (real-valued result) for complex inputs."""
    with _ops.name_scope(name, "Abs", [x]) as name:
        x = convert_to_tensor(x, name="x")
        if x.dtype.is_complex:
            return apply_op("ComplexAbs", [x], {"Tout": x.dtype.real_dtype}, name=name)
        return apply_op("Abs", [x], name=name)


def round(x, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A001
    """`tf.round`: half to even (banker's rounding); integers pass through unchanged."""
    x = convert_to_tensor(x, name="x")
    if x.dtype.is_integer:
        return x
    return apply_op("Round", [x], name=name)


def conj(x, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.conj`: the input itself for real tensors (no op), Conj for complex."""
    x = convert_to_tensor(x, name="x")
    if x.dtype.is_complex:
        return apply_op("Conj", [x], name=name)
    return x


def real(input, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.real`: Real for complex tensors, any other number tensor itself; bool/string: TF's TypeError."""
    with _ops.name_scope(name, "Real", [input]) as name:
        input = convert_to_tensor(input, name="input")
        if input.dtype.is_complex:
            return apply_op("Real", [input], {"Tout": input.dtype.real_dtype}, name=name)
        if input.dtype.base_dtype in _dt.NUMBER_TYPES:
            return input
        raise TypeError(f"input must be a numeric tensor, but got tensor with dtype {input.dtype}")


def imag(input, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.imag`: Imag for complex tensors; zeros of the input's dtype for any other (TF's zeros_like)."""
    with _ops.name_scope(name, "Imag", [input]) as name:
        input = convert_to_tensor(input, name="input")
        if input.dtype.is_complex:
            return apply_op("Imag", [input], {"Tout": input.dtype.real_dtype}, name=name)
        from graphcompat.ops.array_ops import zeros_like
        return zeros_like(input)


# TF's table, in its order (its error texts list the keys): integers divide in float, floats as they are.
_TRUEDIV_TABLE = {_dt.uint8: _dt.float32, _dt.int8: _dt.float32, _dt.uint16: _dt.float32,
                  _dt.int16: _dt.float32, _dt.uint32: _dt.float64, _dt.int32: _dt.float64,
                  _dt.uint64: _dt.float64, _dt.int64: _dt.float64, _dt.bfloat16: None, _dt.float16: None,
                  _dt.float32: None, _dt.float64: None, _dt.complex64: None, _dt.complex128: None}


def _truediv_dtype(dtype: _dt.DType, where: str):
    """The float dtype TF divides `dtype` in (None: as it is); other dtypes raise TF's TypeError."""
    try:
        return _TRUEDIV_TABLE[dtype]
    except KeyError:
        raise TypeError(f"Invalid dtype {dtype!r} in {where}. Expected one of "
                        f"{{{', '.join(repr(t) for t in _TRUEDIV_TABLE)}}}.") from None


def _same_dtype_pair(x, y):
    x = convert_to_tensor(x, name="x")
    y = convert_to_tensor(y, dtype_hint=x.dtype.base_dtype, name="y")
    if x.dtype.base_dtype != y.dtype.base_dtype:
        raise TypeError(f"`x` and `y` must have the same dtype, got {x.dtype.base_dtype!r} != "
                        f"{y.dtype.base_dtype!r}.")
    return x, y


def truediv(x, y, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.truediv`: integers are cast to float (int32 → float64) before RealDiv, as TF."""
    with _ops.name_scope(name, "truediv", [x, y]) as name:
        x, y = _same_dtype_pair(x, y)
        target = _truediv_dtype(x.dtype.base_dtype, "__truediv__")
        if target is not None:
            x, y = cast(x, target), cast(y, target)
        return apply_op("RealDiv", [x, y], name=name)


def divide(x, y, name: Optional[str] = None) -> _ops.Tensor:
    if name is not None:
        return truediv(x, y, name=name)
    return truediv(x, y)


def div(x, y, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.div` (TF1): floor division for integers, RealDiv for floats (Python 2 semantics)."""
    with _ops.name_scope(name, "div", [x, y]) as name:
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, name="y", dtype=x.dtype.base_dtype)
        if x.dtype.is_floating or x.dtype.is_complex:
            return apply_op("RealDiv", [x, y], name=name)
        return apply_op("FloorDiv", [x, y], name=name)


def floordiv(x, y, name: Optional[str] = None) -> _ops.Tensor:
    with _ops.name_scope(name, "floordiv", [x, y]) as name:
        return apply_op("FloorDiv", [x, y], name=name)


def scalar_mul(scalar, x, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.scalar_mul`: Mul(scalar, x); the scalar Const is named `scalar`."""
    x = convert_to_tensor(x, name="x")
    scalar = convert_to_tensor(scalar, dtype=x.dtype.base_dtype, name="scalar")
    if scalar.shape.ndims != 0:
        raise ValueError(f"The input scalar must be a 0-D value. Received shape {scalar.shape}.")
    return apply_op("Mul", [scalar, x], name=name)


def divide_no_nan(x, y, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.math.divide_no_nan`: x / y, and 0 where y == 0 (DivNoNan). Integers divide in truediv's float
    dtype (int32 -> float64), as TF; a Python `x` takes a tensor `y`'s dtype."""
    with _ops.name_scope(name, "div_no_nan", [x, y]) as name:
        if not isinstance(x, _ops.Tensor) and isinstance(y, _ops.Tensor):
            y = convert_to_tensor(y, name="y")
            x = convert_to_tensor(x, dtype=y.dtype.base_dtype, name="x")
        x, y = _same_dtype_pair(x, y)
        target = _truediv_dtype(x.dtype.base_dtype, "tf.math.divide_no_nan")
        if target is not None:
            x, y = cast(x, target), cast(y, target)
        return apply_op("DivNoNan", [x, y], name=name)


def add_n(inputs, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.add_n`: AddN of same-shape tensors (no broadcasting); one input is returned as is."""
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("Inputs must be an iterable of at least one Tensor/IndexedSlices with the same "
                         "dtype and shape.")
    inputs = [convert_to_tensor(t) for t in inputs]
    if len(inputs) == 1:
        if name:
            from graphcompat.ops.array_ops import identity
            return identity(inputs[0], name=name)
        return inputs[0]
    return apply_op("AddN", [inputs], name=name)


# ------------------------------------------------------------------------------------------------
# Casts
# ------------------------------------------------------------------------------------------------
def cast(x, dtype, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.cast`: no op at all when the dtype already matches (as TF)."""
    base = _dt.as_dtype(dtype).base_dtype
    if isinstance(x, _ops.Tensor) and x.dtype.base_dtype == base:
        return x
    with _ops.name_scope(name, "Cast", [x]) as name:
        x = convert_to_tensor(x, name="x")
        if x.dtype.base_dtype == base:
            return x
        if x.dtype.is_complex and base.is_floating:
            # TF 2.x records one Cast (its kernel keeps the real part) and warns
            from graphcompat import tf_logging
            tf_logging.warning(f"You are casting an input of type {x.dtype.name} to an incompatible dtype "
                               f"{base.name}.  This will discard the imaginary part and may not be what you intended.")
        return apply_op("Cast", [x], {"DstT": base, "Truncate": False}, name=name)


def to_float(x, name: str = "ToFloat") -> _ops.Tensor:
    return cast(x, _dt.float32, name=name)


def to_double(x, name: str = "ToDouble") -> _ops.Tensor:
    return cast(x, _dt.float64, name=name)


def to_int32(x, name: str = "ToInt32") -> _ops.Tensor:
    return cast(x, _dt.int32, name=name)


def to_int64(x, name: str = "ToInt64") -> _ops.Tensor:
    return cast(x, _dt.int64, name=name)


def to_bfloat16(x, name: str = "ToBFloat16") -> _ops.Tensor:
    return cast(x, _dt.bfloat16, name=name)


def saturate_cast(value, dtype, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.saturate_cast`, as TF 2.21 builds it: complex inputs keep their real part (complex targets clamp
    both parts when the target's range is smaller); every real input is clamped (ClipByValue `clamp`,
    applied even when the ranges match, so a float's infinities become its finite extremes) to limits
    computed in the input dtype with TF's numpy steps and nudged inside the target range, then cast.
    The limits are TF's, quirks included (int64 -> int64 clamps everything to the int64 minimum, because
    numpy turns the float64 2**63 into that)."""
    with _ops.name_scope(name, "saturate_cast", [value]) as name:
        value = convert_to_tensor(value, name="value")
        dtype = _dt.as_dtype(dtype).base_dtype
        in_dtype = value.dtype.base_dtype
        if in_dtype.is_complex:
            if dtype.is_complex:
                real_in, real_out = in_dtype.real_dtype, dtype.real_dtype
                if real_in.min < real_out.min or real_in.max > real_out.max:
                    value = apply_op("ClipByValue", [
                        value, convert_to_tensor(complex(real_out.min, real_out.min), dtype=in_dtype),
                        convert_to_tensor(complex(real_out.max, real_out.max), dtype=in_dtype)], name="clamp")
                return cast(value, dtype, name=name)
            value = real(value)
            from graphcompat import tf_logging
            tf_logging.warn("Casting complex to real discards imaginary part.")
            in_dtype = in_dtype.real_dtype
        out_real = dtype.real_dtype
        np_dtype = in_dtype.as_numpy_dtype
        try:  # promoted before comparing, not to lose precision (bfloat16 is no numpy type: floats)
            promoted_type = np.promote_types(np_dtype, out_real.as_numpy_dtype)
        except TypeError:
            promoted_type = float
        min_limit = np_dtype(np.maximum(in_dtype.min, out_real.min))
        promoted = np.array([min_limit, out_real.min], dtype=promoted_type)
        if promoted[0] < promoted[1]:
            min_limit = np.nextafter(min_limit, np_dtype(0), dtype=np_dtype)
        max_limit = np_dtype(np.minimum(float(in_dtype.max), float(out_real.max)))
        promoted = np.array([max_limit, out_real.max], dtype=promoted_type)
        if promoted[0] > promoted[1]:
            max_limit = np.nextafter(max_limit, np_dtype(0), dtype=np_dtype)
        value = apply_op("ClipByValue", [value, convert_to_tensor(min_limit, dtype=in_dtype),
                                         convert_to_tensor(max_limit, dtype=in_dtype)], name="clamp")
        return cast(value, dtype, name=name)


# ------------------------------------------------------------------------------------------------
# where / select
# ------------------------------------------------------------------------------------------------
def where(condition, x=None, y=None, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.compat.v1.where`: Select with TF1's shape rule; one argument → the Where op (coordinates)."""
    if x is None and y is None:
        with _ops.name_scope(name, "Where", [condition]) as name:
            condition = convert_to_tensor(condition, preferred_dtype=_dt.bool_, name="condition")
            return apply_op("Where", [condition], name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    return apply_op("Select", [condition, x, y], name=name)


def where_v2(condition, x=None, y=None, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.where_v2` / TF2 `tf.where`: SelectV2 with numpy broadcasting of all three."""
    if x is None and y is None:
        return where(condition, name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    return apply_op("SelectV2", [condition, x, y], name=name)


def _lookup(name: str, value, old_name: str, old_value):
    if value is not None and old_value is not None:
        raise ValueError(f"Cannot specify both '{name}' and '{old_name}'")
    return value if value is not None else old_value


# ------------------------------------------------------------------------------------------------
# Build-time constant folding for shape arithmetic (`tf.shape(x)[0] * 2` stays static, as TF's
# C++ shape inference evaluates small constant subgraphs).
# ------------------------------------------------------------------------------------------------
def _fold_elementwise(fn):
    def fold(t):
        values = [constant_value(x) for x in t.op.inputs]
        if any(v is None for v in values):
            return None
        return np.asarray(fn(*values)).astype(t.dtype.as_numpy_dtype)
    return fold


register_folders({
    "AddV2": _fold_elementwise(np.add), "Sub": _fold_elementwise(np.subtract),
    "Mul": _fold_elementwise(np.multiply), "FloorDiv": _fold_elementwise(np.floor_divide),
    "FloorMod": _fold_elementwise(np.mod), "Maximum": _fold_elementwise(np.maximum),
    "Minimum": _fold_elementwise(np.minimum), "Neg": _fold_elementwise(np.negative),
    # TF's shape inference evaluates small constant subgraphs (EvaluateConstantTensor), so a size computed
    # in float32 (tf.image.resize_image_with_pad, resize_images(preserve_aspect_ratio=True)) is static.
    "Floor": _fold_elementwise(np.floor), "Round": _fold_elementwise(np.round),
    # smart_cond's predicates (TF's TryEvaluateConstant folds them): tf.contrib.summary's recording condition
    "LogicalAnd": _fold_elementwise(np.logical_and), "LogicalOr": _fold_elementwise(np.logical_or),
    "LogicalNot": _fold_elementwise(np.logical_not),
})


def _fold_realdiv(t):
    if not t.dtype.is_floating:  # integer RealDiv is not folded (its kernel truncates)
        return None
    return _fold_elementwise(np.true_divide)(t)


register_folders({"RealDiv": _fold_realdiv})


# ------------------------------------------------------------------------------------------------
# Tensor operators (`a + b` → op `add`, Python scalars become `add/y` in the other operand's dtype)
# ------------------------------------------------------------------------------------------------
def _overload(operator: str, scope: str, builder):
    def forward(x, y):
        with _ops.name_scope(None, scope, [x, y]) as name:
            return builder(x, y, name=name)

    def reverse(y, x):
        with _ops.name_scope(None, scope, [x, y]) as name:
            x = convert_to_tensor(x, dtype=y.dtype.base_dtype, name="x")
            return builder(x, y, name=name)
    forward.__name__, reverse.__name__ = f"__{operator}__", f"__r{operator}__"
    _ops.Tensor._override_operator(f"__{operator}__", forward)
    _ops.Tensor._override_operator(f"__r{operator}__", reverse)


def _binary(op_type):
    return lambda x, y, name: apply_op(op_type, [x, y], name=name)


def _logical_or_bitwise(logical: str, bitwise: str):
    def build(x, y, name):
        x = convert_to_tensor(x, name="x")
        if x.dtype.base_dtype == _dt.bool_:
            return apply_op(logical, [x, y], name=name)
        return apply_op(bitwise, [x, y], name=name)
    return build


def _xor(x, y, name):
    x = convert_to_tensor(x, name="x")
    if x.dtype.base_dtype == _dt.bool_:
        return logical_xor(x, y, name=name)
    return apply_op("BitwiseXor", [x, y], name=name)


def _invert(x):
    if x.dtype.base_dtype == _dt.bool_:
        return logical_not(x)
    return apply_op("Invert", [x])


def _add(x, y, name):
    """TF's _add_dispatch: a non-tensor `y` prefers `x`'s dtype and keeps its own when it cannot have it
    (`int_tensor + 2.0` then fails in AddV2's type check, with its text)."""
    if not isinstance(y, _ops.Tensor) and not hasattr(y, "dense_shape"):
        y = convert_to_tensor(y, dtype_hint=x.dtype.base_dtype, name="y")
    if x.dtype.base_dtype == _dt.string:  # string concatenation is the older Add op, as TF dispatches it
        return apply_op("Add", [x, y], name=name)
    return apply_op("AddV2", [x, y], name=name)


_overload("add", "add", _add)
_overload("sub", "sub", _binary("Sub"))
def _mul(x, y, name):
    """TF's _mul_dispatch: `dense * sparse` is the SparseTensor's values times the dense values they sit on."""
    if hasattr(y, "dense_shape") and hasattr(y, "indices") and isinstance(getattr(y, "values", None), _ops.Tensor):
        from graphcompat.ops.sparse_tensor import SparseTensor
        values = apply_op("SparseDenseCwiseMul", [y.indices, y.values, y.dense_shape, x], name=name)
        return SparseTensor(y.indices, values, y.dense_shape)
    return apply_op("Mul", [x, y], name=name)


_overload("mul", "mul", _mul)
_overload("truediv", "truediv", lambda x, y, name: truediv(x, y, name=name))
_overload("floordiv", "floordiv", _binary("FloorDiv"))
_overload("mod", "mod", _binary("FloorMod"))
_overload("pow", "pow", _binary("Pow"))
_overload("and", "and", _logical_or_bitwise("LogicalAnd", "BitwiseAnd"))
_overload("or", "or", _logical_or_bitwise("LogicalOr", "BitwiseOr"))
_overload("xor", "xor", _xor)
_ops.Tensor._override_operator("__neg__", lambda x: negative(x))
_ops.Tensor._override_operator("__abs__", lambda x: abs(x))
_ops.Tensor._override_operator("__invert__", _invert)
_ops.Tensor._override_operator("__lt__", lambda x, y: less(x, y))
_ops.Tensor._override_operator("__le__", lambda x, y: less_equal(x, y))
_ops.Tensor._override_operator("__gt__", lambda x, y: greater(x, y))
_ops.Tensor._override_operator("__ge__", lambda x, y: greater_equal(x, y))


from graphcompat.ops.linalg_ops import matmul  # noqa: E402,F401  (historic home of tf.matmul)
from graphcompat.ops.reduction_ops import *  # noqa: E402,F401,F403  (reductions, scans, ranges)
from graphcompat.ops.reduction_ops import (_reduction_dims, _reduction_shape, _reducer,  # noqa: E402,F401
                                           _scan_shape)
