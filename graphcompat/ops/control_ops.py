"""Control ops: `no_op`, `group`, `tuple`, `with_dependencies` (`control_dependencies` is in framework/ops.py)."""
from __future__ import annotations

import builtins
from typing import Optional

from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import apply_op, defop, no_outputs

defop("NoOp", "->", shape=no_outputs)
# TF 1's gradients of while loops order a backward iteration after its stack pops with one (`b_sync`):
# a NoOp that TF's executor runs even when an input is dead (graphcompat has no dead tensors).
defop("ControlTrigger", "->", shape=no_outputs)


def no_op(name: Optional[str] = None) -> _ops.Operation:
    """`tf.no_op`: does nothing; useful as a target carrying control dependencies."""
    return apply_op("NoOp", [], name=name)


def _flatten(values):
    for v in values:
        if isinstance(v, (list, builtins.tuple)):
            yield from _flatten(v)
        elif isinstance(v, dict):
            yield from _flatten(list(v.values()))
        else:
            yield v


def group(*inputs, **kwargs) -> _ops.Operation:
    """`tf.group`: a NoOp that runs after all `inputs` (ops, tensors, variables, nested lists)."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError("Unknown keyword arguments: " + ", ".join(kwargs.keys()))
    if not inputs:
        return no_op(name=name)
    flat = list(_flatten(inputs))
    with _ops.name_scope(name, "group_deps", flat) as scope:
        deps = []
        for inp in flat:
            if not hasattr(inp, "device"):
                raise TypeError(f"'inputs' should be zero or more (nested) Tensors. Received '{inp}' with type "
                                f"'{type(inp)}'.")
            deps.append(inp)
        with _ops.control_dependencies(deps):
            return no_op(name=scope)


def with_dependencies(dependencies, output_tensor, name: Optional[str] = None):
    """`output_tensor` passed through an Identity that runs after `dependencies`."""
    with _ops.name_scope(name, "control_dependency", list(dependencies) + [output_tensor]) as scope:
        output = output_tensor
        with _ops.colocate_with(output.op if isinstance(output, _ops.Tensor) else None):
            with _ops.control_dependencies(dependencies):
                if hasattr(output, "_fetch_components") and hasattr(output, "indices"):  # IndexedSlices
                    return type(output)(apply_op("Identity", [output.values], name=scope), output.indices,
                                        output.dense_shape)
                output = convert_to_tensor(output)
                return apply_op("Identity", [output], name=scope)


def tuple(tensors, name: Optional[str] = None, control_inputs=None) -> list:  # noqa: A001 (TF's name)
    """`tf.tuple`: each tensor gated on all of them (and `control_inputs`) having been computed."""
    with _ops.name_scope(name, "tuple", [t for t in tensors if t is not None]) as scope:
        tensors = [t if t is None or isinstance(t, (_ops.Operation, _ops.Tensor)) or hasattr(t, "indices")
                   else convert_to_tensor(t) for t in tensors]
        gating = [t if isinstance(t, _ops.Operation) else (t.values.op if hasattr(t, "indices") else t.op)
                  for t in tensors if t is not None]
        if control_inputs:
            for c in control_inputs:
                if isinstance(c, _ops.Tensor):
                    c = c.op
                elif not isinstance(c, _ops.Operation):
                    raise TypeError(f"'control_inputs' must only contain Operation or Tensor. Received: {type(c)}")
                gating.append(c)
        gating = sorted(set(gating), key=lambda op: op._id)
        if not gating:
            raise ValueError(f"Must have at least one Tensor: {tensors}")
        gate = group(*gating)
        out = []
        for t in tensors:
            if isinstance(t, _ops.Operation):
                with _ops.control_dependencies([gate]):
                    out.append(group(t))
            elif t is None:
                out.append(None)
            else:
                out.append(with_dependencies([gate], t))
        return out
