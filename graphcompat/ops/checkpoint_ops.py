"""Checkpoint ops: SaveV2 / RestoreV2 (TF's V2 bundle ops), recorded as TF records them.

Lowerings (host rules that read/write bundles with graphcompat.formats): lowering/rules/saver.py.
"""
from __future__ import annotations

from typing import Optional, Sequence

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop, no_outputs
from graphcompat.framework.kernel_util import parse_shape_and_slice


def _restore_shapes(ctx: InferenceContext):
    """Shapes from a constant `shape_and_slices` ("full dims start,len:..."); unknown for ""."""
    specs = ctx.value(2)
    out = []
    for i in range(len(ctx.output_dtypes)):
        spec = None
        if specs is not None and specs.size == len(ctx.output_dtypes):
            spec = specs.reshape(-1)[i]
            spec = spec.decode() if isinstance(spec, bytes) else str(spec)
        if not spec:
            out.append(_ts.unknown_shape())
            continue
        full, slices = parse_shape_and_slice(spec)
        out.append(_ts.TensorShape([n for _, n in slices]))
    return out


defop("SaveV2", "prefix: string, tensor_names: string, shape_and_slices: string, tensors: *dtypes ->",
      shape=no_outputs, stateful=True)
defop("RestoreV2", "prefix: string, tensor_names: string, shape_and_slices: string -> tensors: *dtypes",
      shape=_restore_shapes, stateful=True)


def save_v2(prefix, tensor_names: Sequence[str], shape_and_slices: Sequence[str], tensors,
            name: Optional[str] = None) -> _ops.Operation:
    """`tf.raw_ops.SaveV2` as `io_ops.save_v2` builds it (names/slices as `SaveV2/…` Consts)."""
    with _ops.name_scope(name, "SaveV2") as scope:
        names = constant(list(tensor_names), dtype=_dt.string, name="tensor_names")
        slices = constant(list(shape_and_slices), dtype=_dt.string, name="shape_and_slices")
        tensors = list(tensors)
        refs = [t for t in tensors if isinstance(t, _ops.Tensor) and t.dtype.is_ref_dtype]
        if not refs:
            return apply_op("SaveV2", [prefix, names, slices, tensors], None, name=scope)
        # TF feeds variables' refs (`v:0`) straight into SaveV2; converting them would add `read` ops.
        values = [t if isinstance(t, _ops.Tensor) else convert_to_tensor(t) for t in tensors]
        graph = values[0].graph
        attrs = {"dtypes": [t.dtype.base_dtype for t in values]}
        return graph._create_op_internal("SaveV2", [prefix, names, slices] + values, [], [], scope[:-1], attrs)


def restore_v2(prefix, tensor_names: Sequence[str], shape_and_slices: Sequence[str], dtypes,
               name: Optional[str] = None) -> list:
    """`tf.raw_ops.RestoreV2`: one output per name, of the given dtypes."""
    with _ops.name_scope(name, "RestoreV2") as scope:
        names = constant(list(tensor_names), dtype=_dt.string, name="tensor_names")
        slices = constant(list(shape_and_slices), dtype=_dt.string, name="shape_and_slices")
        out = apply_op("RestoreV2", [prefix, names, slices],
                       {"dtypes": [_dt.as_dtype(d).base_dtype for d in dtypes]}, name=scope)
    return out if isinstance(out, list) else [out]
