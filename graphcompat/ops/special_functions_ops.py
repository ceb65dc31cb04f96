"""TF's special functions without a graphcompat op before: the Bessel functions J0, J1, Y0, Y1, K0, K1 (and
exp(x)·K0, exp(x)·K1), Dawson's integral, the exponential integral Ei, the Fresnel integrals and Spence's
function: one `defop` each (TF's `x: T -> y: T`, T in {bfloat16, half, float, double}) and the public builders
of `tf.math.special` (lowerings: lowering/rules/special_functions.py).
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.registry import apply_op, defop, unchanged_shape

_FLOAT = (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64)
_OPS = {"BesselJ0": "bessel_j0", "BesselJ1": "bessel_j1", "BesselY0": "bessel_y0", "BesselY1": "bessel_y1",
        "BesselK0": "bessel_k0", "BesselK0e": "bessel_k0e", "BesselK1": "bessel_k1", "BesselK1e": "bessel_k1e",
        "Dawsn": "dawsn", "Expint": "expint", "FresnelCos": "fresnel_cos", "FresnelSin": "fresnel_sin",
        "Spence": "spence"}
for _op in _OPS:
    defop(_op, "x: T -> y: T", types={"T": _FLOAT}, shape=unchanged_shape)


def _builder(op_type: str, tf_name: str):
    def build(x, name: Optional[str] = None) -> _ops.Tensor:
        # TF's special_math_ops: the op inside a name scope named after the function
        with _ops.name_scope(name, tf_name, [x]):
            return apply_op(op_type, [x])
    build.__name__ = tf_name
    build.__doc__ = f"`tf.math.special.{tf_name}`: TF's {op_type} element-wise."
    return build


bessel_j0 = _builder("BesselJ0", "bessel_j0")
bessel_j1 = _builder("BesselJ1", "bessel_j1")
bessel_y0 = _builder("BesselY0", "bessel_y0")
bessel_y1 = _builder("BesselY1", "bessel_y1")
bessel_k0 = _builder("BesselK0", "bessel_k0")
bessel_k0e = _builder("BesselK0e", "bessel_k0e")
bessel_k1 = _builder("BesselK1", "bessel_k1")
bessel_k1e = _builder("BesselK1e", "bessel_k1e")
dawsn = _builder("Dawsn", "dawsn")
expint = _builder("Expint", "expint")
fresnel_cos = _builder("FresnelCos", "fresnel_cos")
fresnel_sin = _builder("FresnelSin", "fresnel_sin")
spence = _builder("Spence", "spence")
