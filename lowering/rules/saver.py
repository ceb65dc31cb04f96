"""Lowerings of SaveV2 / RestoreV2 and of the V1 ops Save / SaveSlices / Restore / RestoreSlice
(graphcompat/ops/checkpoint_ops.py): host rules over formats.bundle and formats.checkpoint_v1.

SaveV2 reads the variables' current values straight from the run's state (one device→host copy each)
and writes the whole bundle in one go; RestoreV2 reads and checks every requested tensor (key, dtype,
checksums) before returning, so a failing restore fails before any Assign writes a value. Where
`<prefix>.index` does not exist RestoreV2 reads the prefix as a V1 checkpoint (file pattern), as TF's kernel
does, so a V2 Saver restores old checkpoints.
"""
from __future__ import annotations

import numpy as np

from graphcompat import formats
from graphcompat.formats import bundle as _bundle
from graphcompat.formats import checkpoint_v1 as _v1
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
    if not _v1.is_v2(prefix):
        reader = _open_v1(prefix, op)
        out = [read_v1(reader, prefix, name, dtype, spec, op) for name, spec, dtype in zip(names, specs, dtypes)]
        return out[0] if len(out) == 1 else tuple(out)
    with formats.open_bundle(prefix, op) as reader:
        out = [read_checked(reader, name, dtype, spec, op) for name, spec, dtype in zip(names, specs, dtypes)]
    return out[0] if len(out) == 1 else tuple(out)


# ---- V1 ----------------------------------------------------------------------------------------------

def _string_scalar_input(value, what: str, op) -> str:
    value = np.asarray(value)
    if value.size != 1:
        raise errors.InvalidArgumentError(
            None, op, f"Input {what} must be a string scalar; got a tensor of {value.size}elements")
    return _scalar_string(value)


def _open_v1(pattern: str, op) -> _v1.TensorSliceReader:
    try:
        return _v1.TensorSliceReader(pattern)
    except errors.OpError as exc:
        raise format_error(exc, op) from None


def read_v1(reader: _v1.TensorSliceReader, pattern: str, name: str, dtype, spec: str, op=None) -> np.ndarray:
    """One tensor (or the slice `spec` names) from a V1 checkpoint with TF's RestoreTensor checks and texts."""
    try:
        _v1.check_restorable(reader, pattern, name, _dt.as_dtype(dtype).base_dtype.as_datatype_enum)
    except errors.OpError as exc:
        raise format_error(exc, op) from None
    saved_shape = reader.shape_of(name)
    extents = [(0, -1)] * len(saved_shape)
    if spec:
        try:
            shape, extents = _v1.parse_slice_spec(spec)
        except errors.OpError as exc:
            raise errors.InvalidArgumentError(None, op, exc.message) from None
        if tuple(shape) != tuple(saved_shape):
            raise errors.InvalidArgumentError(
                None, op, f"Shape in shape_and_slice spec does not match the shape in the save file: "
                f"[{','.join(map(str, shape))}], save file shape: [{','.join(map(str, saved_shape))}]")
    try:
        return reader.get_slice(name, extents)
    except errors.OpError as exc:
        raise format_error(exc, op) from None


def _save_v1(ctx, op, filename, tensor_names, shapes_and_slices, tensors) -> None:
    """TF's SaveTensors: every input checked, then one table file written (all or nothing)."""
    path = _string_scalar_input(filename, "0 (filename)", op)
    names = _strings(tensor_names)
    if shapes_and_slices is not None:
        specs = _strings(shapes_and_slices)
        if len(specs) != len(names):
            raise errors.InvalidArgumentError(
                None, op, f"Expected {len(names)} elements for the tensor shapes and slices but got {len(specs)}")
    else:
        specs = [""] * len(names)
    fixed = 2 if shapes_and_slices is None else 3
    if len(tensors) != len(names):
        raise errors.InvalidArgumentError(
            None, op, f"Expected totally {len(names) + fixed} inputs as input #1 (which is a string tensor of "
            f"saved names) contains {len(names)} names, but received {len(tensors) + fixed} inputs")
    writer = _v1.TensorSliceWriter(path)
    for name, spec, tensor, dtype in zip(names, specs, tensors, op.attrs["T"]):
        value = _host_array(ctx.deref(tensor) if isinstance(tensor, Ref) else tensor, dtype)
        shape, extents = list(value.shape), [(0, -1)] * value.ndim
        if spec:
            try:
                shape, extents = _v1.parse_slice_spec(spec)
            except errors.OpError as exc:
                raise errors.InvalidArgumentError(None, op, exc.message) from None
            sliced = [d if n < 0 else n for d, (_, n) in zip(shape, extents)]
            if sliced != list(value.shape):
                raise errors.InvalidArgumentError(
                    None, op, f"Slice in shape_and_slice specification does not match the shape of the tensor to "
                    f" save: {spec}, tensor: [{','.join(map(str, value.shape))}]")
        try:
            writer.add(name, shape, extents, value, _dt.as_dtype(dtype).base_dtype.as_datatype_enum)
        except errors.OpError as exc:
            raise format_error(exc, op) from None
    try:
        writer.finish()
    except errors.OpError as exc:
        raise format_error(exc, op) from None


@lowers("Save", context=True, host=True)
def save_v1(ctx, op, filename, tensor_names, *tensors):
    _save_v1(ctx, op, filename, tensor_names, None, tensors)
    return None


@lowers("SaveSlices", context=True, host=True)
def save_slices(ctx, op, filename, tensor_names, shapes_and_slices, *tensors):
    _save_v1(ctx, op, filename, tensor_names, shapes_and_slices, tensors)
    return None


def _restore_v1(op, file_pattern, tensor_name, shape_and_slice) -> np.ndarray:
    pattern = _string_scalar_input(file_pattern, "0 (file_pattern)", op)
    name = _string_scalar_input(tensor_name, "1 (tensor_name)", op)
    spec = ""
    if shape_and_slice is not None:
        shape_and_slice = np.asarray(shape_and_slice)
        if shape_and_slice.size != 1:
            raise errors.InvalidArgumentError(
                None, op, f"Expected 1 element for the tensor shape and slice but got {shape_and_slice.size}")
        spec = _scalar_string(shape_and_slice)
    return read_v1(_open_v1(pattern, op), pattern, name, op.attrs["dt"], spec, op)


@lowers("Restore", context=True, host=True)
def restore_v1(ctx, op, file_pattern, tensor_name):
    return _restore_v1(op, file_pattern, tensor_name, None)


@lowers("RestoreSlice", context=True, host=True)
def restore_slice(ctx, op, file_pattern, tensor_name, shape_and_slice):
    return _restore_v1(op, file_pattern, tensor_name, shape_and_slice)
