"""Allowed dtypes per type attr of this family's ops, in the order TF 2.21's op registry lists them
(its error text "not in list of allowed values: …" prints them in this order). Quantized, resource and
variant types, which graphcompat does not have, are left out. (A data table: one op per line.)
"""
# flake8: noqa: E501
from graphcompat.framework import dtypes as _dt
from graphcompat.framework.registry import OP_DEFS

ALLOWED = {
    "Abs": {"T": "bfloat16 float16 float32 float64 int8 int16 int32 int64"},
    "Acos": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "AddN": {"T": "float32 float64 int32 uint8 int16 int8 complex64 int64 bfloat16 uint16 complex128 float16 uint32 uint64"},
    "AddV2": {"T": "bfloat16 float16 float32 float64 uint8 uint16 uint32 uint64 int8 int16 int32 int64 complex64 complex128"},
    "All": {"Tidx": "int32 int64"},
    "Any": {"Tidx": "int32 int64"},
    "ArgMax": {"T": "float32 float64 int32 uint8 int16 int8 int64 bfloat16 uint16 float16 uint32 uint64 bool", "Tidx": "int16 int32 int64", "output_type": "int16 uint16 int32 int64"},
    "ArgMin": {"T": "float32 float64 int32 uint8 int16 int8 int64 bfloat16 uint16 float16 uint32 uint64 bool", "Tidx": "int32 int64", "output_type": "int32 int64"},
    "Asin": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Atan": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Atan2": {"T": "bfloat16 float16 float32 float64"},
    "BatchMatMulV2": {"T": "bfloat16 float16 float32 float64 int16 int32 int64 uint8 uint16 uint32 uint64 complex64 complex128"},
    "BitwiseAnd": {"T": "int8 int16 int32 int64 uint8 uint16 uint32 uint64"},
    "BitwiseOr": {"T": "int8 int16 int32 int64 uint8 uint16 uint32 uint64"},
    "BitwiseXor": {"T": "int8 int16 int32 int64 uint8 uint16 uint32 uint64"},
    "BroadcastTo": {"Tidx": "int32 int64"},
    "Ceil": {"T": "bfloat16 float16 float32 float64"},
    "Cholesky": {"T": "float64 float32 float16 complex64 complex128"},
    "ClipByValue": {"T": "float32 float64 int32 uint8 int16 int8 complex64 int64 bfloat16 uint16 complex128 float16 uint32 uint64"},
    "ComplexAbs": {"T": "complex64 complex128", "Tout": "float32 float64"},
    "ConcatV2": {"Tidx": "int32 int64"},
    "Conj": {"T": "complex64 complex128"},
    "ConjugateTranspose": {"Tperm": "int32 int64"},
    "Cos": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Cosh": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Cumprod": {"T": "float32 float64 int32 uint8 int16 int8 complex64 int64 bfloat16 uint16 complex128 float16 uint32 uint64", "Tidx": "int32 int64"},
    "Cumsum": {"T": "float32 float64 int32 uint8 int16 int8 complex64 int64 bfloat16 uint16 complex128 float16 uint32 uint64", "Tidx": "int32 int64"},
    "Diag": {"T": "bfloat16 float16 float32 float64 int32 int64 complex64 complex128"},
    "DiagPart": {"T": "bfloat16 float16 float32 float64 int32 int64 complex64 complex128"},
    "DivNoNan": {"T": "float16 float32 bfloat16 float64 complex64 complex128"},
    "Erf": {"T": "bfloat16 float16 float32 float64"},
    "Exp": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "ExpandDims": {"Tdim": "int32 int64"},
    "Expm1": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Fill": {"index_type": "int32 int64"},
    "Floor": {"T": "bfloat16 float16 float32 float64"},
    "FloorDiv": {"T": "bfloat16 float16 float32 float64 uint8 int8 uint16 int16 int32 uint32 uint64 int64 complex64 complex128"},
    "FloorMod": {"T": "int8 int16 int32 int64 uint8 uint16 uint32 uint64 bfloat16 float16 float32 float64"},
    "GatherNd": {"Tindices": "int16 int32 int64"},
    "GatherV2": {"Taxis": "int32 int64", "Tindices": "int16 int32 int64"},
    "Greater": {"T": "float32 float64 int32 uint8 int16 int8 int64 bfloat16 uint16 float16 uint32 uint64"},
    "GreaterEqual": {"T": "float32 float64 int32 uint8 int16 int8 int64 bfloat16 uint16 float16 uint32 uint64"},
    "Imag": {"T": "complex64 complex128", "Tout": "float32 float64"},
    "Invert": {"T": "int8 int16 int32 int64 uint8 uint16 uint32 uint64"},
    "IsFinite": {"T": "bfloat16 float16 float32 float64"},
    "IsInf": {"T": "bfloat16 float16 float32 float64"},
    "IsNan": {"T": "bfloat16 float16 float32 float64"},
    "Less": {"T": "float32 float64 int32 uint8 int16 int8 int64 bfloat16 uint16 float16 uint32 uint64"},
    "LessEqual": {"T": "float32 float64 int32 uint8 int16 int8 int64 bfloat16 uint16 float16 uint32 uint64"},
    "LinSpace": {"T": "bfloat16 float16 float32 float64", "Tidx": "int32 int64"},
    "Log": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Log1p": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "MatMul": {"T": "bfloat16 float16 float32 float64 int32 int64 uint8 uint16 uint32 uint64 complex64 complex128"},
    "MatrixDeterminant": {"T": "float16 float32 float64 complex64 complex128"},
    "MatrixInverse": {"T": "float64 float32 float16 complex64 complex128"},
    "MatrixSolve": {"T": "float64 float32 float16 complex64 complex128"},
    "Max": {"T": "float32 float64 int32 uint8 int16 int8 int64 bfloat16 uint16 float16 uint32 uint64", "Tidx": "int32 int64"},
    "Maximum": {"T": "bfloat16 float16 float32 float64 int8 uint8 int16 uint16 int32 uint32 int64 uint64"},
    "Mean": {"T": "float32 float64 int32 uint8 int16 int8 complex64 int64 bfloat16 uint16 complex128 float16 uint32 uint64", "Tidx": "int32 int64"},
    "Min": {"T": "float32 float64 int32 uint8 int16 int8 int64 bfloat16 uint16 float16 uint32 uint64", "Tidx": "int32 int64"},
    "Minimum": {"T": "bfloat16 float16 float32 float64 int8 uint8 int16 uint16 int32 uint32 int64 uint64"},
    "MirrorPad": {"Tpaddings": "int32 int64"},
    "Mul": {"T": "bfloat16 float16 float32 float64 uint8 int8 uint16 int16 int32 uint32 uint64 int64 complex64 complex128"},
    "Neg": {"T": "bfloat16 float16 float32 float64 int8 int16 int32 int64 complex64 complex128"},
    "OneHot": {"TI": "uint8 int8 int32 int64"},
    "OnesLike": {"T": "bfloat16 float16 float32 float64 int8 uint8 int16 uint16 int32 uint32 int64 uint64 complex64 complex128 bool"},
    "Pad": {"Tpaddings": "int32 int64"},
    "PadV2": {"Tpaddings": "int32 int64"},
    "Pow": {"T": "bfloat16 float32 float16 float64 int8 int16 int32 int64 complex64 complex128"},
    "Prod": {"T": "float32 float64 int32 uint8 int16 int8 complex64 int64 bfloat16 uint16 complex128 float16 uint32 uint64", "Tidx": "int32 int64"},
    "Range": {"Tidx": "bfloat16 float16 float32 float64 int8 int16 int32 int64 uint16 uint32 uint64"},
    "Real": {"T": "complex64 complex128", "Tout": "float32 float64"},
    "RealDiv": {"T": "bfloat16 float16 float32 float64 uint8 int8 uint16 int16 int32 uint32 uint64 int64 complex64 complex128"},
    "Reciprocal": {"T": "bfloat16 float16 float32 float64 int8 int16 int32 int64 complex64 complex128"},
    "Reshape": {"Tshape": "int32 int64"},
    "ReverseV2": {"T": "uint8 int8 uint16 int16 int32 uint32 int64 uint64 bool bfloat16 float16 float32 float64 complex64 complex128 string", "Tidx": "int32 int64"},
    "Rint": {"T": "bfloat16 float16 float32 float64"},
    "Round": {"T": "bfloat16 float16 float32 float64 int8 int16 int32 int64 complex64 complex128"},
    "Rsqrt": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Shape": {"out_type": "int32 int64"},
    "ShapeN": {"out_type": "int32 int64"},
    "Sigmoid": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Sign": {"T": "bfloat16 float16 float32 float64 int8 int16 int32 int64 complex64 complex128"},
    "Sin": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Sinh": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Size": {"out_type": "int32 int64"},
    "Slice": {"Index": "int32 int64"},
    "SplitV": {"Tlen": "int8 int32 int64"},
    "Sqrt": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Square": {"T": "bfloat16 float16 float32 float64 int8 int16 int32 int64 uint8 uint16 uint32 uint64 complex64 complex128"},
    "SquaredDifference": {"T": "bfloat16 float16 float32 float64 int32 int64 complex64 complex128"},
    "StridedSlice": {"Index": "int16 int32 int64"},
    "Sub": {"T": "bfloat16 float16 float32 float64 uint8 int8 uint16 int16 int32 int64 complex64 complex128 uint32 uint64"},
    "Sum": {"T": "float32 float64 int32 uint8 int16 int8 complex64 int64 bfloat16 uint16 complex128 float16 uint32 uint64", "Tidx": "int32 int64"},
    "Tan": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Tanh": {"T": "bfloat16 float16 float32 float64 complex64 complex128"},
    "Tile": {"Tmultiples": "int32 int64"},
    "TopKV2": {"T": "float32 float64 int32 uint8 int16 int8 int64 bfloat16 uint16 float16 uint32 uint64", "Tk": "int16 int32 int64", "index_type": "int16 int32 int64"},
    "Transpose": {"Tperm": "int32 int64"},
    "TruncateDiv": {"T": "bfloat16 float16 float32 float64 uint8 int8 uint16 int16 int32 uint32 uint64 int64 complex64 complex128"},
    "TruncateMod": {"T": "int32 int64 bfloat16 float16 float32 float64"},
}


# TF's `N: int >= k` constraints on list lengths (op_def_library raises "List argument ... shorter than
# minimum length k").
MINIMUM_LENGTHS = {
    "AddN": {"N": 1}, "ConcatV2": {"N": 2}, "DynamicStitch": {"N": 1}, "Einsum": {"N": 1}, "MergeSummary": {"N": 1},
    "Pack": {"N": 1}, "ShapeN": {"N": 1},
}


def apply() -> None:
    """Installs the TF-ordered allowed-type lists and list-length minimums on the ops defined so far
    (idempotent)."""
    for op_type, minimums in MINIMUM_LENGTHS.items():
        op_def = OP_DEFS.get(op_type)
        if op_def is not None:
            op_def.list_minimums.update(minimums)
    for op_type, attrs in ALLOWED.items():
        op_def = OP_DEFS.get(op_type)
        if op_def is None:
            continue
        for attr, names in attrs.items():
            op_def.types[attr] = tuple(_dt.as_dtype(n) for n in names.split())
