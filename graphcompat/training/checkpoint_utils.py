"""Reading checkpoints directly (`tf.train.NewCheckpointReader`, `list_variables`, `load_variable`,
`load_checkpoint`) and `tf.train.init_from_checkpoint` (variables initialised from a checkpoint)."""
from __future__ import annotations

import os

import numpy as np

from graphcompat import formats
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework import ops as _ops


def _python_error(err: errors.OpError) -> Exception:
    """What TF's Python CheckpointReader raises for a C++ status: pybind turns INVALID_ARGUMENT,
    OUT_OF_RANGE and UNIMPLEMENTED into ValueError, IndexError and NotImplementedError; other codes go
    through `py_checkpoint_reader.error_translator`, which picks a class by message (else OpError)."""
    builtin = {errors.INVALID_ARGUMENT: ValueError, errors.OUT_OF_RANGE: IndexError,
               errors.UNIMPLEMENTED: NotImplementedError}.get(err.error_code)
    if builtin is not None:
        return builtin(err.message)
    message = err.message
    if "not found in checkpoint" in message or "Failed to find any matching files for" in message:
        return errors.NotFoundError(None, None, message)
    if "Sliced checkpoints are not supported" in message or "Data type not supported" in message:
        return errors.UnimplementedError(None, None, message)
    if "Failed to get matching files on" in message:
        return errors.InvalidArgumentError(None, None, message)
    if "Unable to open table file" in message:
        return errors.DataLossError(None, None, message)
    if "Failed to find the saved tensor slices" in message or "not convertible to numpy dtype" in message:
        return errors.InternalError(None, None, message)
    return errors.OpError(None, None, message, errors.UNKNOWN)


# The types TensorSliceReader::GetTensor copies (TF 2.21: float, double, int32, uint8, int16, int8, int64, string,
# bool; half, uint16 and complex numbers are "Data type not supported")
_V1_READABLE = frozenset((1, 2, 3, 4, 5, 6, 9, 7, 10))


class CheckpointReader:
    """`tf.train.NewCheckpointReader(prefix)`: shapes, dtypes and values of a checkpoint's tensors.

    Fails as TF's reader does (`_python_error`): a missing checkpoint is NotFoundError, a damaged index
    or a bad checksum an OpError with TF's text, a data file cut short an IndexError.
    """

    def __init__(self, filepattern: str):
        self._prefix = os.fspath(filepattern)
        from graphcompat.formats import checkpoint_v1
        try:
            # TF's CheckpointReader: a V2 bundle where `<prefix>.index` exists, else the V1 TensorSliceReader
            if checkpoint_v1.is_v2(self._prefix):
                self._reader = formats.BundleReader(self._prefix)
            else:
                self._reader = checkpoint_v1.TensorSliceReader(self._prefix)
        except errors.OpError as exc:
            raise _python_error(exc) from None

    def get_variable_to_shape_map(self) -> dict:
        return {k: list(v) for k, v in self._reader.variable_to_shape_map().items()}

    def get_variable_to_dtype_map(self) -> dict:
        return {k: _dt.as_dtype(self._reader.datatype_of(k)) for k in self._reader.keys()}

    def has_tensor(self, name: str) -> bool:
        return self._reader.has_tensor(name) and name in self._reader.keys()

    def get_tensor(self, name: str) -> np.ndarray:
        if isinstance(name, bytes):
            name = name.decode()
        v1 = getattr(self._reader, "format_version", 2) == 1
        if not self.has_tensor(name):
            text = f"{name} not found in checkpoint file" if v1 else f"Key {name} not found in checkpoint"
            raise errors.NotFoundError(None, None, text)
        if v1:
            self._check_v1_readable(name)  # TF raises these as tf.errors.UnimplementedError, untranslated
        try:
            value = self._reader.get_tensor(name)
        except errors.OpError as exc:
            raise _python_error(exc) from None
        return value[()] if value.ndim == 0 else value

    def _check_v1_readable(self, name: str) -> None:
        """TF's TensorSliceReader::GetTensor reads one-slice tensors of a few types only."""
        if self._reader.num_slices(name) > 1:
            raise errors.UnimplementedError(None, None, "Sliced checkpoints are not supported")
        if self._reader.datatype_of(name) not in _V1_READABLE:
            raise errors.UnimplementedError(None, None, "Data type not supported")

    def debug_string(self) -> bytes:
        if getattr(self._reader, "format_version", 2) == 1:
            return self._reader.debug_string().encode()
        lines = [f"{k} ({_dt.as_dtype(self._reader.datatype_of(k)).name}) {list(s)}"
                 for k, s in self._reader.variable_to_shape_map().items()]
        return ("\n".join(lines) + "\n").encode()


def NewCheckpointReader(filepattern: str) -> CheckpointReader:  # noqa: N802 (TF's name)
    return CheckpointReader(filepattern)


def _get_checkpoint_filename(ckpt_dir_or_file: str) -> str:
    from graphcompat.training.saver import latest_checkpoint
    ckpt_dir_or_file = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(ckpt_dir_or_file):
        return latest_checkpoint(ckpt_dir_or_file)
    return ckpt_dir_or_file


def load_checkpoint(ckpt_dir_or_file: str) -> CheckpointReader:
    """`tf.train.load_checkpoint`: a reader for a checkpoint prefix or a directory's latest one."""
    filename = _get_checkpoint_filename(ckpt_dir_or_file)
    if filename is None:
        raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {ckpt_dir_or_file}")
    return NewCheckpointReader(filename)


def load_variable(ckpt_dir_or_file: str, name: str) -> np.ndarray:
    """`tf.train.load_variable`: one tensor's value (a trailing `:0` is ignored)."""
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


def list_variables(ckpt_dir_or_file: str) -> list:
    """`tf.train.list_variables`: sorted `(name, shape)` pairs."""
    reader = load_checkpoint(ckpt_dir_or_file)
    return [(name, shape) for name, shape in sorted(reader.get_variable_to_shape_map().items())]


# ------------------------------------------------------------------------------------------------
# init_from_checkpoint
# ------------------------------------------------------------------------------------------------
def _store_vars(graph: _ops.Graph) -> dict:
    """Variables created by get_variable (TF looks there), else every global variable, by name."""
    try:
        from graphcompat.variable_scope import _get_default_variable_store
        store = dict(_get_default_variable_store()._vars)
    except (ImportError, AttributeError):
        store = {}
    if not store:
        store = {v.op.name: v for v in graph.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES)}
    return store


def _collect_partitioned_variable(name: str, all_vars: dict):
    """The parts `name/part_0`, `name/part_1`, … of a partitioned variable, or None."""
    if name + "/part_0" not in all_vars:
        return None
    parts, i = [], 0
    while name + "/part_%d" % i in all_vars:
        parts.append(all_vars[name + "/part_%d" % i])
        i += 1
    return parts


def _set_variable_or_list_initializer(variable_or_list, ckpt_file: str, tensor_name: str) -> None:
    """A variable restores the whole tensor; each part of a partitioned one its slice (TF's recipe)."""
    if isinstance(variable_or_list, (list, tuple)):
        slice_name = None
        for v in variable_or_list:
            info = v._save_slice_info
            if slice_name is None:
                slice_name = info.full_name
            elif slice_name != info.full_name:
                raise ValueError("Slices must all be from the same tensor: %s != %s" % (slice_name, info.full_name))
            _set_checkpoint_initializer(v, ckpt_file, tensor_name, info.spec)
    else:
        _set_checkpoint_initializer(variable_or_list, ckpt_file, tensor_name, "")


def _set_checkpoint_initializer(variable, ckpt_file: str, tensor_name: str, slice_spec: str = "") -> None:
    """Makes the variable's initializer restore `tensor_name` from `ckpt_file` (TF's recipe)."""
    from graphcompat.ops import checkpoint_ops, state_ops
    from graphcompat.framework.constant_op import constant
    with _ops.name_scope(None):
        with _ops.device(variable.device), _ops.device("/cpu:0"):
            prefix = constant(ckpt_file, dtype=_dt.string)
            restore = checkpoint_ops.restore_v2(prefix, [tensor_name], [slice_spec], [variable.dtype.base_dtype],
                                                name="checkpoint_initializer")[0]
        restore.set_shape(variable.shape)
        with _ops.colocate_with(variable.op):
            if getattr(variable, "_is_resource_variable", False):  # TF restores it as its Saver does
                from graphcompat.training.saver import _assign_handle
                init = _assign_handle(variable.handle, restore)
            else:
                init = state_ops.assign(variable._ref(), restore, validate_shape=True, name="Assign").op
    variable._initializer_op = init
    variable._initial_value = restore


def init_from_checkpoint(ckpt_dir_or_file: str, assignment_map: dict) -> None:
    """`tf.train.init_from_checkpoint`: variable initializers load values from a checkpoint.

    `assignment_map` maps checkpoint names (or scopes ending in `/`) to variables, variable names or
    scopes, as in TF: `{"old/": "new/"}`, `{"/": "scope/"}`, `{"old/w": "new/w"}`, `{"old/w": var}`.
    """
    ckpt_file = _get_checkpoint_filename(ckpt_dir_or_file)
    if ckpt_file is None:
        raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {ckpt_dir_or_file}")
    reader = load_checkpoint(ckpt_file)
    variable_map = reader.get_variable_to_shape_map()
    graph = _ops.get_default_graph()
    store_vars = _store_vars(graph)
    items = assignment_map.items() if isinstance(assignment_map, dict) else assignment_map
    for tensor_name_in_ckpt, current in sorted(items, key=lambda kv: kv[0]):
        if _is_variable(current) or (isinstance(current, list) and all(_is_variable(v) for v in current)):
            var = current
        else:
            var = store_vars.get(current)
            if var is None:
                var = _collect_partitioned_variable(current, store_vars)
        if var is not None:
            if tensor_name_in_ckpt not in variable_map:
                raise ValueError(f"Tensor {tensor_name_in_ckpt} is not found in {ckpt_dir_or_file} checkpoint "
                                 f"{variable_map}")
            if _is_variable(var) and not var.shape.is_compatible_with(variable_map[tensor_name_in_ckpt]):
                raise ValueError(f"Shape of variable {var.name} ({var.shape}) doesn't match with shape of tensor "
                                 f"{tensor_name_in_ckpt} ({variable_map[tensor_name_in_ckpt]}) from checkpoint "
                                 "reader.")
            _set_variable_or_list_initializer(var, ckpt_file, tensor_name_in_ckpt)
            continue
        scopes = current[:current.rindex("/")] if "/" in current else ""
        if not tensor_name_in_ckpt.endswith("/"):
            raise ValueError(f"Assignment map with scope only name {scopes} should map to scope only "
                             f"{tensor_name_in_ckpt}. Should be 'scope/': 'other_scope/'.")
        scope_variables = set()
        for var_name in store_vars:
            if not scopes or var_name.startswith(scopes + "/"):
                if "/part_" in var_name:
                    var_name = var_name[:var_name.index("/part_")]
                scope_variables.add(var_name)
        for var_name in sorted(scope_variables):
            full = var_name[len(scopes):]
            if current != "/":
                full = full[1:]
            if tensor_name_in_ckpt != "/":
                full = tensor_name_in_ckpt + full
            if full.endswith("/"):
                full = full[:-1]
            if full not in variable_map:
                raise ValueError(f"Tensor {full} ({var_name[len(scopes) + 1:]} in {tensor_name_in_ckpt}) is not "
                                 f"found in {ckpt_dir_or_file} checkpoint")
            var = store_vars.get(var_name)
            if var is None:
                var = _collect_partitioned_variable(var_name, store_vars)
            _set_variable_or_list_initializer(var, ckpt_file, full)


def _is_variable(x) -> bool:
    from graphcompat.variables import Variable
    return isinstance(x, Variable)
