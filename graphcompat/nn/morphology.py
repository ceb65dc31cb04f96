"""`tf.nn.dilation2d` / `tf.nn.erosion2d` (TF1 signatures): grayscale morphology, one Dilation2D op (erosion
by duality, as TF builds it); lowering in lowering/rules/morphology.py."""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.registry import apply_op, defop

defop("Dilation2D", "input: T, filter: T -> output: T", attrs={"strides": [], "rates": [], "padding": ""},
      types={"T": _dt.REAL_NUMBER_TYPES})


def _attrs(strides, rates, padding) -> dict:
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID'. Received: padding={padding}")
    strides, rates = [int(s) for s in strides], [int(r) for r in rates]
    if len(strides) != 4 or strides[0] != 1 or strides[3] != 1:
        raise ValueError("Dilation2D requires the stride attribute to contain 4 values, with the batch and depth "
                         "strides equal to 1")
    if len(rates) != 4 or rates[0] != 1 or rates[3] != 1:
        raise ValueError("Dilation2D requires the rates attribute to contain 4 values, with the batch and depth "
                         "rates equal to 1")
    return {"strides": strides, "rates": rates, "padding": padding}


def dilation2d(input, filter=None, strides=None, rates=None, padding=None,  # noqa: A002
               name: Optional[str] = None, filters=None, dilations=None):
    """`tf.nn.dilation2d` (TF1): out = max over the window of input + filter, per channel."""
    filter = filters if filter is None else filter
    rates = dilations if rates is None else rates
    return apply_op("Dilation2D", [input, filter], _attrs(strides, rates, padding), name=name)


def erosion2d(value, kernel, strides, rates, padding, name: Optional[str] = None):
    """`tf.nn.erosion2d` (TF1): -dilation2d(-value, reversed kernel), as TF builds it."""
    from graphcompat.ops import math_ops
    from graphcompat.ops.indexing_ops import reverse
    with _ops.name_scope(name, "erosion2d", [value, kernel]) as scope:
        out = apply_op("Dilation2D", [math_ops.negative(value), reverse(kernel, [0, 1])],
                       _attrs(strides, rates, padding), name=scope)
        return math_ops.negative(out)


__all__ = ["dilation2d", "erosion2d"]
