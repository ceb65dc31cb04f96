"""TensorFlow's DType: `tf.float32 == np.float32`, TF's enum values, `_ref` variants for variables."""
from __future__ import annotations

from typing import Any

import numpy as np

try:  # bfloat16 comes with jax (ml_dtypes); optional for the front end.
    import ml_dtypes as _ml_dtypes
    _BFLOAT16 = np.dtype(_ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover
    _BFLOAT16 = None


class DType:
    """A TF data type. Compares equal to its numpy dtype, numpy type, name and other DTypes."""

    __slots__ = ("_enum", "_name", "_np")

    def __init__(self, enum: int, name: str, np_dtype: Any):
        self._enum = enum
        self._name = name
        self._np = np_dtype

    # --- identity -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def as_datatype_enum(self) -> int:
        return self._enum

    @property
    def as_numpy_dtype(self):
        # A quantized type's is TF's numpy structured dtype itself (`np.dtype([("qint8", np.int8)])`).
        return self._np.type if isinstance(self._np, np.dtype) and self._np.names is None else self._np

    @property
    def is_ref_dtype(self) -> bool:
        return self._enum > 100

    @property
    def base_dtype(self) -> "DType":
        return _BY_ENUM[self._enum - 100] if self._enum > 100 else self

    @property
    def real_dtype(self) -> "DType":
        base = self.base_dtype
        return {complex64: float32, complex128: float64}.get(base, base)

    def _as_ref(self) -> "DType":
        return self if self._enum > 100 else _BY_ENUM[self._enum + 100]

    # --- classification ----------------------------------------------------------------------
    @property
    def is_floating(self) -> bool:
        return self.base_dtype in (float16, float32, float64, bfloat16)

    @property
    def is_integer(self) -> bool:
        return self.base_dtype in (int8, int16, int32, int64, uint8, uint16, uint32, uint64)

    @property
    def is_unsigned(self) -> bool:
        return self.base_dtype in (uint8, uint16, uint32, uint64)

    @property
    def is_complex(self) -> bool:
        return self.base_dtype in (complex64, complex128)

    @property
    def is_bool(self) -> bool:
        return self.base_dtype is bool_

    @property
    def is_quantized(self) -> bool:
        return self.base_dtype in QUANTIZED_DTYPES

    @property
    def is_numpy_compatible(self) -> bool:
        return self.base_dtype not in (resource, variant)

    @property
    def size(self) -> int:
        if self.base_dtype in (string, resource, variant):
            return 1
        return np.dtype(self.as_numpy_dtype).itemsize

    @property
    def min(self):
        """TF's `DType.min`: the numpy scalar `finfo(...).min` for floats, a Python int for integers; bool,
        string and complex types have none (TF's TypeError)."""
        return self._limit("min")

    @property
    def max(self):
        return self._limit("max")

    def _limit(self, which: str):
        base = self.base_dtype
        if base in (bool_, string, complex64, complex128, resource, variant):
            kind = "minimum" if which == "min" else "maximum"
            raise TypeError(f"Cannot find {kind} value of {self} with type {base}.")
        if base in QUANTIZED_DTYPES:
            kind = "minimum" if which == "min" else "maximum"
            raise TypeError(f"Cannot find {kind} value of {self} with quantized type {base}.")
        np_t = np.dtype(self.as_numpy_dtype)
        if self.is_floating:
            return getattr(_ml_dtypes.finfo(np_t), which)
        return getattr(np.iinfo(np_t), which)

    def is_compatible_with(self, other) -> bool:
        other = as_dtype(other)
        return self._enum in (other._enum, other.base_dtype._enum)

    # --- python protocol ---------------------------------------------------------------------
    def __eq__(self, other) -> bool:
        if other is None:
            return False
        if isinstance(other, DType):
            return self._enum == other._enum
        try:
            return self._enum == as_dtype(other)._enum
        except TypeError:
            return False

    def __ne__(self, other) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return self._enum

    def __repr__(self) -> str:
        return f"tf.{self._name}"

    def __str__(self) -> str:
        return f"<dtype: '{self._name}'>"

    def __reduce__(self):
        return as_dtype, (self._name,)


_BY_ENUM: dict[int, DType] = {}
_BY_NAME: dict[str, DType] = {}


def _make(enum: int, name: str, np_dtype) -> DType:
    dt = DType(enum, name, np_dtype)
    ref = DType(enum + 100, name + "_ref", np_dtype)
    _BY_ENUM[enum], _BY_ENUM[enum + 100] = dt, ref
    _BY_NAME[name], _BY_NAME[name + "_ref"] = dt, ref
    return dt


float32 = _make(1, "float32", np.dtype(np.float32))
float64 = _make(2, "float64", np.dtype(np.float64))
int32 = _make(3, "int32", np.dtype(np.int32))
uint8 = _make(4, "uint8", np.dtype(np.uint8))
int16 = _make(5, "int16", np.dtype(np.int16))
int8 = _make(6, "int8", np.dtype(np.int8))
string = _make(7, "string", np.dtype(object))
complex64 = _make(8, "complex64", np.dtype(np.complex64))
int64 = _make(9, "int64", np.dtype(np.int64))
bool_ = _make(10, "bool", np.dtype(np.bool_))
bfloat16 = _make(14, "bfloat16", _BFLOAT16)
uint16 = _make(17, "uint16", np.dtype(np.uint16))
complex128 = _make(18, "complex128", np.dtype(np.complex128))
float16 = _make(19, "float16", np.dtype(np.float16))
resource = _make(20, "resource", np.dtype(object))
variant = _make(21, "variant", np.dtype(object))
uint32 = _make(22, "uint32", np.dtype(np.uint32))
uint64 = _make(23, "uint64", np.dtype(np.uint64))
# TF's quantized types: numpy has no such types, TF's numpy dtypes are one-field structured dtypes.
qint8 = _make(11, "qint8", np.dtype([("qint8", np.int8)]))
quint8 = _make(12, "quint8", np.dtype([("quint8", np.uint8)]))
qint32 = _make(13, "qint32", np.dtype([("qint32", np.int32)]))
qint16 = _make(15, "qint16", np.dtype([("qint16", np.int16)]))
quint16 = _make(16, "quint16", np.dtype([("quint16", np.uint16)]))

half = float16
double = float64
float32_ref = float32._as_ref()
float64_ref = float64._as_ref()
int32_ref = int32._as_ref()
int64_ref = int64._as_ref()

_ALIASES = {"float": float32, "double": float64, "half": float16, "bool": bool_, "str": string,
            "bytes": string, "object": string}

_FROM_NP = {np.dtype(d.as_numpy_dtype): d for d in
            (float32, float64, int32, uint8, int16, int8, complex64, int64, bool_, uint16, complex128,
             float16, uint32, uint64)}
if _BFLOAT16 is not None:
    _FROM_NP[_BFLOAT16] = bfloat16
QUANTIZED_DTYPES = frozenset({qint8, quint8, qint16, quint16, qint32, qint8._as_ref(), quint8._as_ref(),
                              qint16._as_ref(), quint16._as_ref(), qint32._as_ref()})
_FROM_NP.update({np.dtype(d.as_numpy_dtype): d for d in (qint8, quint8, qint16, quint16, qint32)})

# TF's C++ type names, used in error messages ("with dtype float and shape [?,784]").
_CPP_NAMES = {float32: "float", float64: "double", float16: "half", bool_: "bool", string: "string"}

NUMBER_TYPES = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32,
                uint64, complex64, complex128)
REAL_NUMBER_TYPES = tuple(t for t in NUMBER_TYPES if not t.is_complex)
FLOAT_TYPES = (float16, bfloat16, float32, float64)
FLOAT_AND_COMPLEX_TYPES = FLOAT_TYPES + (complex64, complex128)
INTEGER_TYPES = (int8, int16, int32, int64, uint8, uint16, uint32, uint64)
ALL_TYPES = NUMBER_TYPES + (bool_, string)


def storage_numpy_dtype(dtype: DType) -> np.dtype:
    """The plain numpy dtype graphcompat holds a tensor's values in: for a quantized type the integer type
    of its one field (what TF's Session returns for a fetched qint8 tensor: int8), else `as_numpy_dtype`.
    Const values, feeds, session state and the lowering all use it; TF's structured dtype shows only
    where TF shows it (`as_numpy_dtype`, `tf.make_ndarray`, `tf.get_static_value`)."""
    np_dtype = np.dtype(as_dtype(dtype).base_dtype.as_numpy_dtype)
    return np_dtype[0] if np_dtype.names else np_dtype


def cpp_name(dtype: DType) -> str:
    """The name TF's C++ runtime prints for a dtype (`float`, `double`, `int32` …)."""
    base = dtype.base_dtype
    return _CPP_NAMES.get(base, base.name)


def as_dtype(type_value) -> DType:
    """Converts a DType, numpy dtype/type, Python type, enum or name into a DType."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        dt = _BY_NAME.get(type_value) or _ALIASES.get(type_value)
        if dt is not None:
            return dt
    elif isinstance(type_value, int) and not isinstance(type_value, bool):
        if type_value in _BY_ENUM:
            return _BY_ENUM[type_value]
    elif type_value is float:
        return float32
    elif type_value is int:
        return int32
    elif type_value is bool:
        return bool_
    elif type_value in (str, bytes, object):
        return string
    else:
        try:
            np_t = np.dtype(type_value)
        except TypeError:
            np_t = None
        if np_t is not None:
            if np_t in _FROM_NP:
                return _FROM_NP[np_t]
            if np_t.kind in "SUO":
                return string
        as_np = getattr(type_value, "as_numpy_dtype", None)
        if as_np is not None:
            return as_dtype(as_np)
    raise TypeError(f"Cannot convert value {type_value!r} to a TensorFlow DType.")
