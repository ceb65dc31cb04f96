"""`tf.dtypes`: the DType objects and dtype helpers under their `tf.compat.v1.dtypes` names.

TF's quantized types (qint8, quint8, qint16, quint16, qint32) have TF's numpy structured dtypes
(`as_numpy_dtype`); graphcompat holds and returns their values as the plain integers, as TF's Session does.
"""
from graphcompat.framework.dtypes import (DType, as_dtype, bfloat16, complex64, complex128, double,  # noqa: F401
                                          float16, float32, float64, half, int8, int16, int32, int64, resource,
                                          string, uint8, uint16, uint32, uint64, variant)
from graphcompat.framework.dtypes import (QUANTIZED_DTYPES, qint8, qint16, qint32, quint8,  # noqa: F401
                                          quint16)
from graphcompat.framework.dtypes import bool_ as bool  # noqa: F401,A004
from graphcompat.ops.math_extra_ops import complex  # noqa: F401,A004
from graphcompat.ops.math_ops import cast, saturate_cast  # noqa: F401
from graphcompat.ops.string_ops import as_string  # noqa: F401


def __getattr__(name):
    from graphcompat.compat import missing
    return missing(__name__, name)
