"""Lowerings of SaveV2 / RestoreV2 (graphcompat/ops/checkpoint_ops.py): host rules over formats.bundle.

SaveV2 reads the variables' current values straight from the run's state (one device→host copy each)
and writes the whole bundle in one go; RestoreV2 reads and checks every requested tensor (key, dtype,
checksums) before returning, so a failing restore fails before any Assign writes a value.
"""
from __future__ import annotations

import numpy as np

from graphcompat import formats
from graphcompat.formats import bundle as _bundle
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from lowering.interpreter import Ref
from lowering.registry import lowers

def format_error(exc: errors.OpError, op=None) -> errors.OpError:
    """A formats error (already TF's class and text) attributed to ``op``."""
    return type(exc)(None, op, exc.message)


def os_error(exc: OSError, path: str, op=None) -> errors.OpError:
    """An OSError as TF's I/O status (``"<path>; <strerror>"``, TF's class for the errno)."""
    return format_error(formats.io_error(path, exc), op)


def _strings(value) -> list:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(value).reshape(-1)]


def _scalar_string(value) -> str:
    value = np.asarray(value)
    if value.size != 1:
        raise ValueError("expected a scalar string")
    v = value.reshape(-1)[0]
    return v.decode() if isinstance(v, bytes) else str(v)


def _host_array(value, dtype) -> np.ndarray:
    if dtype == _dt.string:
        arr = np.asarray(value, dtype=object)
        return arr
    return np.asarray(value)


@lowers("SaveV2", context=True, host=True)
def save_v2(ctx, op, prefix, tensor_names, shape_and_slices, *tensors):
    prefix = _scalar_string(prefix)
    names, specs = _strings(tensor_names), _strings(shape_and_slices)
    if len(names) != len(tensors) or len(specs) != len(tensors):
        raise errors.InvalidArgumentError(
            None, op, f"Expected {len(tensors)} tensor names and shape_and_slices, got {len(names)} and "
            f"{len(specs)}")
    dtypes = op.attrs["dtypes"]
    values: dict = {}
    for name, spec, tensor, dtype in zip(names, specs, tensors, dtypes):
        value = _host_array(ctx.deref(tensor) if isinstance(tensor, Ref) else tensor, dtype)
        if not spec:
            if name in values:
                raise errors.InvalidArgumentError(None, op, f"Duplicate tensor name {name} in SaveV2")
            values[name] = value
            continue
        from graphcompat.framework.kernel_util import parse_shape_and_slice
        full, slices = parse_shape_and_slice(spec)
        part = values.setdefault(name, _bundle.PartitionedTensor(tuple(full), []))
        part.parts.append(([s for s, _ in slices], value))
    try:
        # in SaveV2's input order; a missing parent directory is created, as TF's writer does
        formats.write_bundle(prefix, values, keep_order=True)
    except errors.OpError as exc:
        raise format_error(exc, op) from None
    return None


def read_checked(reader, name: str, dtype, spec: str, op=None) -> np.ndarray:
    """One tensor from a BundleReader with TF's key and dtype errors (TF's RestoreV2 texts)."""
    if not reader.has_tensor(name):
        raise errors.NotFoundError(None, op, f"Key {name} not found in checkpoint")
    stored = reader.datatype_of(name)
    want = _dt.as_dtype(dtype).base_dtype
    if stored != want.as_datatype_enum:
        stored_name = _dt.cpp_name(_dt.as_dtype(stored)) if stored in _bundle.DTYPES else str(stored)
        raise errors.InvalidArgumentError(
            None, op, f"tensor_name = {name}; expected dtype {_dt.cpp_name(want)} does not equal original "
            f"dtype {stored_name}")
    try:
        value = reader.get_tensor(name)
    except errors.OpError as exc:
        raise format_error(exc, op) from None
    if spec:
        from graphcompat.framework.kernel_util import parse_shape_and_slice
        full, slices = parse_shape_and_slice(spec)
        if list(value.shape) != full:
            raise errors.InvalidArgumentError(
                None, op, f"tensor_name = {name}; shape in shape_and_slice spec [{','.join(map(str, full))}] does "
                f"not match the shape stored in checkpoint: [{','.join(map(str, value.shape))}]")
        value = value[tuple(slice(s, s + n) for s, n in slices)]
    return value


@lowers("RestoreV2", context=True, host=True)
def restore_v2(ctx, op, prefix, tensor_names, shape_and_slices):
    prefix = _scalar_string(prefix)
    names, specs = _strings(tensor_names), _strings(shape_and_slices)
    dtypes = op.attrs["dtypes"]
    if len(names) != len(dtypes) or len(specs) != len(dtypes):
        raise errors.InvalidArgumentError(
            None, op, f"Expected {len(dtypes)} tensor names and shape_and_slices, got {len(names)} and "
            f"{len(specs)}")
    with formats.open_bundle(prefix, op) as reader:
        out = [read_checked(reader, name, dtype, spec, op) for name, spec, dtype in zip(names, specs, dtypes)]
    return out[0] if len(out) == 1 else tuple(out)
