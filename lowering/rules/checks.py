"""TF kernels' input validation (their OP_REQUIRES) shared by the lowering rules: TF's message formats
and the checks many kernels make (index ranges, non-negative sizes, shape vectors, axes).

A rule meets bad input in one of two ways:
- statically: the failure depends on shapes, or on values the rule needs concrete anyway (a Fill's dims,
  a Tile's multiples). The rule raises at once (`invalid(...)`); under `jax.jit` that happens while
  tracing, before anything runs or is written.
- dynamically: the failure depends on run-time values (a divisor, an index). The rule calls `require`
  (lowering.interpreter): eagerly it raises at once; under `jax.jit` it gates every state write of the run
  and the op-by-op re-run raises TF's message with the offending value.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np

from graphcompat.framework import errors
from lowering.interpreter import require


def shape_str(shape) -> str:
    """TF's `TensorShape::DebugString`: `[2,3]`, `[]` for a scalar."""
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


def invalid(message: str) -> errors.InvalidArgumentError:
    return errors.InvalidArgumentError(None, None, message)


def datatype_name(dtype) -> str:
    """TF's enum name of a dtype without its `DT_` prefix: `FLOAT`, `UINT8`, `HALF`."""
    from tensorboard.compat.proto import types_pb2
    return types_pb2.DataType.Name(dtype.base_dtype.as_datatype_enum)[3:]


def attr_text(value) -> str:
    """An attr value as TF's `SummarizeAttrValue` prints it in a NodeDef: `DT_INT32`, `false`, `"NHWC"`, `3`."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    if hasattr(value, "as_datatype_enum"):
        return "DT_" + datatype_name(value)
    return str(value)


def no_kernel(op, kernels: Sequence[str]) -> errors.InvalidArgumentError:
    """TF's executor error for a node whose attrs no registered kernel accepts (raised when the graph is run,
    not built: the OpDef allows more types than the kernels TF's CPU build registers). `kernels` are TF's
    "Registered kernels" lines after their two-space indent, in TF's order. TF prints the node's attrs in
    no fixed order (a hash map); here they come in the OpDef's order."""
    attrs = ", ".join(f"{name}={attr_text(value)}" for name, value in op.attrs.items())
    return errors.InvalidArgumentError(None, None, "\n".join(
        [f"No OpKernel was registered to support Op '{op.type}' used by {{{{node {op.name}}}}} with these attrs: "
         f"[{attrs}]", "Registered devices: [CPU]", "Registered kernels:"] + [f"  {line}" for line in kernels]))


def slice_debug(shape: Sequence[int], position) -> str:
    """TF's `SliceDebugString`: the multi-index of an element (`[1,2]`), empty for a scalar."""
    if len(shape) == 0:
        return ""
    return "[" + ",".join(str(int(i)) for i in position) + "]"


def first_failure(ok) -> tuple:
    """The multi-index of the first False element of a concrete boolean array."""
    return tuple(int(i) for i in np.argwhere(~np.asarray(ok, dtype=bool))[0])


def require_in_range(indices, limit: int, describe: Callable[[str, int], str], lower: Optional[int] = 0) -> None:
    """OP_REQUIRES(lower <= index < limit) for every index (`lower=None`: no lower bound). `describe(position,
    value)` builds TF's message from the first offending index's position (`slice_debug`) and value."""
    if np.size(indices) == 0:
        return
    # (a bound outside the indices' dtype would wrap under jit, where numpy compares it exactly: none is)
    ok = indices < limit if lower is None else (indices >= lower) & (indices < limit)

    def message():
        values = np.asarray(indices)
        pos = first_failure(ok)
        return describe(slice_debug(values.shape, pos), int(values[pos]))
    require(ok, errors.InvalidArgumentError, message)


def concrete_ints(value) -> list:
    """A small integer argument as Python ints (it must be concrete: a constant or an eager value)."""
    from lowering.rules.math import static_ints
    return static_ints(value, "shape/size")


def shape_vector(value, what: str = "shape") -> tuple:
    """TF's `TensorShapeUtils::MakeShape` of a 1-D shape tensor: every dimension >= 0 (-1 is not allowed)."""
    if np.ndim(value) > 1:
        raise invalid(f"{what} must be a vector of {{int32,int64}}, got shape {shape_str(np.shape(value))}")
    dims = tuple(concrete_ints(value))
    for d in dims:
        if d < 0:
            raise invalid(f"Dimension {d} must be >= 0")
    return dims


def axis_in_range(axis: int, rank: int, message: Callable[[int, int], str]) -> int:
    """An axis in [-rank, rank), canonicalized to [0, rank); else `message(axis, rank)` as TF's error."""
    if not -rank <= axis < rank:
        raise invalid(message(axis, rank))
    return axis % rank if rank else axis
