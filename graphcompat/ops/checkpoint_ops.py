"""Checkpoint ops: SaveV2 / RestoreV2 (TF's V2 bundle ops) and TF's V1 ops Save / SaveSlices / Restore /
RestoreSlice (one table file, graphcompat/formats/checkpoint_v1.py), recorded as TF records them.

Lowerings (host rules that read/write bundles with graphcompat.formats): lowering/rules/saver.py.
"""
from __future__ import annotations

from typing import Optional, Sequence

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors as _errors
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


def _restore_slice_shape(ctx: InferenceContext):
    """RestoreSlice: the slice's shape for a constant spec, else unknown (TF's shape function)."""
    spec = ctx.value(2)
    if spec is None or spec.size != 1:
        return [_ts.unknown_shape()]
    spec = spec.reshape(-1)[0]
    spec = spec.decode() if isinstance(spec, bytes) else str(spec)
    if not spec:
        return [_ts.unknown_shape()]
    from graphcompat.formats.checkpoint_v1 import parse_slice_spec
    try:
        full, extents = parse_slice_spec(spec)
    except _errors.InvalidArgumentError as exc:
        raise ctx.error(exc.message) from None
    except _errors.OpError as exc:  # TF keeps the status code of ParseShapeAndSlice (Internal)
        raise type(exc)(None, None, str(ctx.error(exc.message))) from None
    return [_ts.TensorShape([d if n < 0 else n for d, (_, n) in zip(full, extents)])]


# V1 ops: TF writes one table file per Save op; Restore reads a file pattern (sharded V1 checkpoints).
defop("Save", "filename: string, tensor_names: string, data: *T ->", shape=no_outputs, stateful=True)
defop("SaveSlices", "filename: string, tensor_names: string, shapes_and_slices: string, data: *T ->",
      shape=no_outputs, stateful=True)
defop("Restore", "file_pattern: string, tensor_name: string -> tensor: dt", attrs={"preferred_shard": -1},
      shape=lambda ctx: [_ts.unknown_shape()], stateful=True)
defop("RestoreSlice", "file_pattern: string, tensor_name: string, shape_and_slice: string -> tensor: dt",
      attrs={"preferred_shard": -1}, shape=_restore_slice_shape, stateful=True)
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


def _record_save(op_type: str, inputs: list, tensors, scope: str) -> _ops.Operation:
    """A save op whose data inputs are the tensors themselves: TF feeds variables' refs (`v:0`) straight in,
    where converting them would add `read` ops."""
    tensors = list(tensors)
    if not any(isinstance(t, _ops.Tensor) and t.dtype.is_ref_dtype for t in tensors):
        return apply_op(op_type, inputs + [tensors], None, name=scope)
    values = [t if isinstance(t, _ops.Tensor) else convert_to_tensor(t) for t in tensors]
    attrs = {"T": [t.dtype.base_dtype for t in values]}
    inputs = [convert_to_tensor(i, dtype=_dt.string) for i in inputs]
    return values[0].graph._create_op_internal(op_type, inputs + values, [], [], scope[:-1], attrs)


def save(filename, tensor_names: Sequence[str], tensors, name: Optional[str] = None) -> _ops.Operation:
    """`tf.raw_ops.Save` (V1): the tensors into one table file."""
    with _ops.name_scope(name, "Save") as scope:
        names = constant(list(tensor_names), dtype=_dt.string, name="tensor_names")
        return _record_save("Save", [filename, names], tensors, scope)


def save_slices(filename, tensor_names: Sequence[str], shapes_and_slices: Sequence[str], tensors,
                name: Optional[str] = None) -> _ops.Operation:
    """`tf.raw_ops.SaveSlices` (V1; what TF's V1 Saver records as `save/save`): slices of tensors."""
    with _ops.name_scope(name, "SaveSlices") as scope:
        names = constant(list(tensor_names), dtype=_dt.string, name="tensor_names")
        slices = constant(list(shapes_and_slices), dtype=_dt.string, name="shapes_and_slices")
        return _record_save("SaveSlices", [filename, names, slices], tensors, scope)


def restore(file_pattern, tensor_name, dt, preferred_shard: int = -1, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.raw_ops.Restore` (V1): one tensor from the files matching `file_pattern`."""
    return apply_op("Restore", [file_pattern, tensor_name],
                    {"dt": _dt.as_dtype(dt).base_dtype, "preferred_shard": preferred_shard}, name=name)


def restore_slice(file_pattern, tensor_name, shape_and_slice, dt, preferred_shard: int = -1,
                  name: Optional[str] = None) -> _ops.Tensor:
    """`tf.raw_ops.RestoreSlice` (V1): one slice of a tensor from the files matching `file_pattern`."""
    return apply_op("RestoreSlice", [file_pattern, tensor_name, shape_and_slice],
                    {"dt": _dt.as_dtype(dt).base_dtype, "preferred_shard": preferred_shard}, name=name)
