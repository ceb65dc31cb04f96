"""Shape inference by abstract evaluation of an op's lowering rule (for ops without a shape function).

Inputs whose values are known while building (small constants) are passed as concrete numpy values so
rules that need static axes/shapes work; the others become `jax.ShapeDtypeStruct`s, with unknown
dimensions made symbolic (`jax.export.symbolic_shape`). Output dimensions that stay symbolic are
reported as unknown (`?`). When evaluation cannot work (unknown rank, context/host rules, a rule that
needs a value it cannot see) the outputs get unknown shapes, as TF's own unknown-shape fallback.
"""
from __future__ import annotations

import itertools

import jax
import numpy as np

from graphcompat.framework import constant_op as _const
from graphcompat.framework import dtypes as _dtypes
from graphcompat.framework import tensor_shape as _ts

_STATIC_VALUE_ELEMENTS = 1024
_names = itertools.count()


def _abstract_input(t, symbols: list):
    value = _const.constant_value(t)
    if value is not None and np.size(value) <= _STATIC_VALUE_ELEMENTS:
        return value, True
    shape = t.shape
    if shape.ndims is None:
        raise _Unknown
    dtype = _dtypes.storage_numpy_dtype(t.dtype)  # a quantized type's integer storage
    dims = []
    for d in shape.as_list():
        if d is None:
            name = f"d{next(_names)}"
            symbols.append(name)
            dims.append(name)
        else:
            dims.append(d)
    if symbols and any(isinstance(d, str) for d in dims):
        return (dims, dtype), False
    return jax.ShapeDtypeStruct(tuple(dims), dtype), False


class _Unknown(Exception):
    pass


def infer_shapes(ctx) -> list:
    """Output TensorShapes of `ctx`'s op from `jax.eval_shape` of its lowering rule."""
    from lowering.plan import normalize_attrs
    from lowering.registry import get_rule
    n_out = len(ctx.output_dtypes)
    unknown = [_ts.unknown_shape()] * n_out
    rule = get_rule(ctx.op_type)
    if rule.context or rule.host is not False:
        return unknown
    attrs = normalize_attrs(ctx.attrs)
    symbols: list = []
    try:
        specs = [_abstract_input(t, symbols) for t in ctx.inputs]
    except _Unknown:
        return unknown
    if symbols:
        scope = jax.export.SymbolicScope()
        sym = dict(zip(symbols, jax.export.symbolic_shape(",".join(symbols), scope=scope)))
        specs = [(jax.ShapeDtypeStruct(tuple(sym.get(d, d) if isinstance(d, str) else d for d in s[0]), s[1]),
                  False) if isinstance(s, tuple) else (s, static) for s, static in specs]
    static = {i: v for i, (v, is_static) in enumerate(specs) if is_static}
    abstract = [v for v, is_static in specs if not is_static]

    def fn(*dynamic):
        it = iter(dynamic)
        args = [static[i] if i in static else next(it) for i in range(len(specs))]
        return rule.fn(*args, **attrs)

    try:
        with jax.enable_x64(True):
            out = jax.eval_shape(fn, *abstract)
    except (ValueError, TypeError) as err:
        # Static shape errors of the rule itself are the op's errors (TF raises them at build time).
        if not symbols and not isinstance(err, jax.errors.ConcretizationTypeError):
            raise ctx.error(str(err).splitlines()[0]) from None
        return unknown
    except Exception:
        return unknown
    outs = out if isinstance(out, (list, tuple)) else [out]
    if len(outs) != n_out:
        return unknown
    return [_ts.TensorShape([d if isinstance(d, int) else None for d in o.shape]) for o in outs]
