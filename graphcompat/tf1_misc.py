"""Top-level `tf.*` helpers of TF1 that are pure Python: DeviceSpec, TensorSpec, dimension_value /
dimension_at_index, get_static_value, convert_to_tensor_or_sparse_tensor / _or_indexed_slices,
no_regularizer, op_scope, init_scope, container, is_symbolic_tensor,
executing_eagerly_outside_functions, control_flow_v2_enabled — with TF 2.21's `tf.compat.v1` behaviour.
"""
from __future__ import annotations

import contextlib
from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts

_DEVICE_TYPES = ("CPU", "GPU", "TPU", "CUSTOM", "EPU")


def _int_or_none(value):
    return None if value is None else int(value)


def _device_type(value):
    if value is None:
        return None
    value = str(value)
    return value.upper() if value.upper() in ("CPU", "GPU") else value


class DeviceSpec:
    """`tf.DeviceSpec` (TF1's mutable DeviceSpecV1): job / replica / task / device_type / device_index of a
    device string such as "/job:ps/replica:0/task:2/device:GPU:1"."""

    __slots__ = ("_job", "_replica", "_task", "_device_type", "_device_index")

    def __init__(self, job: Optional[str] = None, replica=None, task=None, device_type=None, device_index=None):
        self._job = None if job is None else str(job)
        self._replica = _int_or_none(replica)
        self._task = _int_or_none(task)
        self._device_type = _device_type(device_type)
        self._device_index = _int_or_none(device_index)

    # -- TF1's setters (DeviceSpecV1 is mutable) ---------------------------------------------------
    @property
    def job(self):
        return self._job

    @job.setter
    def job(self, value):
        self._job = None if value is None else str(value)

    @property
    def replica(self):
        return self._replica

    @replica.setter
    def replica(self, value):
        self._replica = _int_or_none(value)

    @property
    def task(self):
        return self._task

    @task.setter
    def task(self, value):
        self._task = _int_or_none(value)

    @property
    def device_type(self):
        return self._device_type

    @device_type.setter
    def device_type(self, value):
        self._device_type = _device_type(value)

    @property
    def device_index(self):
        return self._device_index

    @device_index.setter
    def device_index(self, value):
        self._device_index = _int_or_none(value)

    # -- parsing and printing ----------------------------------------------------------------------
    @staticmethod
    def _components(spec: Optional[str]) -> tuple:
        job = replica = task = device_type = device_index = None
        spec = spec or ""
        for y in (part.split(":") for part in spec.split("/")):
            n = len(y)
            if n == 2 and y[0] == "job":
                job = y[1]
            elif n == 2 and y[0] == "replica":
                replica = y[1]
            elif n == 2 and y[0] == "task":
                task = y[1]
            elif n in (1, 2) and y[0].upper() in _DEVICE_TYPES:
                if device_type is not None:
                    raise ValueError(f"Multiple device types are not allowed while parsing the device spec: {spec}.")
                device_type = y[0].upper()
                if n == 2 and y[1] != "*":
                    device_index = int(y[1])
            elif n == 3 and y[0] == "device":
                if device_type is not None:
                    raise ValueError(f"Multiple device types are not allowed while parsing the device spec: {spec}.")
                device_type = y[1]
                if y[2] != "*":
                    device_index = int(y[2])
            elif n and y[0] != "":
                raise ValueError(f"Unknown attribute '{y[0]}' is encountered while parsing the device spec: "
                                 f"'{spec}'.")
        return job, replica, task, device_type, device_index

    @classmethod
    def from_string(cls, spec: str) -> "DeviceSpec":
        return cls(*cls._components(spec))

    def parse_from_string(self, spec: str) -> "DeviceSpec":
        """TF1: replaces every field by what `spec` says (unnamed fields become None); returns self."""
        self.job, self.replica, self.task, self.device_type, self.device_index = self._components(spec)
        return self

    def to_string(self) -> str:
        out = []
        if self._job is not None:
            out.append("/job:" + self._job)
        if self._replica is not None:
            out.append("/replica:" + str(self._replica))
        if self._task is not None:
            out.append("/task:" + str(self._task))
        if self._device_type is not None:
            index = "*" if self._device_index is None else str(self._device_index)
            out.append(f"/device:{self._device_type}:{index}")
        return "".join(out)

    def _combined(self, dev: "DeviceSpec") -> tuple:
        pick = lambda a, b: b if b is not None else a  # noqa: E731
        return (pick(self._job, dev.job), pick(self._replica, dev.replica), pick(self._task, dev.task),
                pick(self._device_type, dev.device_type), pick(self._device_index, dev.device_index))

    def make_merged_spec(self, dev: "DeviceSpec") -> "DeviceSpec":
        """A new spec: `dev`'s fields take precedence over this one's."""
        return DeviceSpec(*self._combined(dev))

    def merge_from(self, dev: "DeviceSpec") -> None:
        """TF1: merges `dev` into this spec in place."""
        self._job, self._replica, self._task, self._device_type, self._device_index = self._combined(dev)

    def replace(self, **kwargs) -> "DeviceSpec":
        init = dict(job=self._job, replica=self._replica, task=self._task, device_type=self._device_type,
                    device_index=self._device_index)
        init.update(kwargs)
        return DeviceSpec(**init)

    def __eq__(self, other):
        return isinstance(other, DeviceSpec) and self.to_string() == other.to_string()

    def __hash__(self):
        return hash(self.to_string())

    def __repr__(self):
        return (f"<DeviceSpec(job={self._job}, replica={self._replica}, task={self._task}, "
                f"device_type={self._device_type}, device_index={self._device_index})>")


class TensorSpec:
    """`tf.TensorSpec`: the shape, dtype and optional name that describe a tensor."""

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape, dtype=_dt.float32, name: Optional[str] = None):
        self._shape = _ts.as_shape(shape)
        self._dtype = _dt.as_dtype(dtype)
        self._name = name

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    name = property(lambda self: self._name)

    @classmethod
    def from_tensor(cls, tensor, name: Optional[str] = None) -> "TensorSpec":
        if isinstance(tensor, _ops.Tensor):
            return cls(tensor.shape, tensor.dtype, name or tensor.op.name)
        raise ValueError(f"`tensor` should be a tf.Tensor, but got type {type(tensor)}.")

    @classmethod
    def from_spec(cls, spec, name: Optional[str] = None) -> "TensorSpec":
        return cls(spec.shape, spec.dtype, name or getattr(spec, "name", None))

    def is_compatible_with(self, spec_or_tensor) -> bool:
        """Same dtype and compatible shape (names are ignored, as in TF)."""
        other = spec_or_tensor
        if not hasattr(other, "shape") or not hasattr(other, "dtype"):
            return False
        return _dt.as_dtype(other.dtype) == self._dtype and self._shape.is_compatible_with(other.shape)

    def most_specific_compatible_type(self, other: "TensorSpec") -> "TensorSpec":
        if _dt.as_dtype(other.dtype) != self._dtype:
            raise ValueError(f"No TypeSpec is compatible with both {self} and {other}")
        a, b = self._shape, _ts.as_shape(other.shape)
        if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
            shape = _ts.unknown_shape()
        else:
            shape = _ts.TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])
        return TensorSpec(shape, self._dtype, self._name if self._name == getattr(other, "name", None) else None)

    def __eq__(self, other):
        if type(other) is not TensorSpec:
            return False
        a, b = self._shape, other.shape
        same_shape = a.ndims == b.ndims and (a.ndims is None or a.as_list() == b.as_list())
        return same_shape and self._dtype == other.dtype and self._name == other.name

    def __hash__(self):
        return hash((str(self._shape), self._dtype, self._name))

    def __repr__(self):
        name = "None" if self._name is None else repr(self._name)
        return f"TensorSpec(shape={_shape_text(self._shape)}, dtype=tf.{self._dtype.name}, name={name})"


def _shape_text(shape: _ts.TensorShape) -> str:
    # TF 2.x prints unknown dims as None (graphcompat's TF1-style TensorShape str prints "?")
    if shape.ndims is None:
        return "<unknown>"
    dims = ["None" if d is None else str(d) for d in shape.as_list()]
    return "(" + dims[0] + ",)" if len(dims) == 1 else "(" + ", ".join(dims) + ")"


def dimension_value(dimension):
    """`tf.dimension_value`: a Dimension's int value (or None); ints pass through."""
    if isinstance(dimension, _ts.Dimension):
        return dimension.value
    return dimension


def dimension_at_index(shape, index) -> _ts.Dimension:
    """`tf.dimension_at_index`: shape[index] as a Dimension (unknown for an unknown-rank shape)."""
    shape = _ts.as_shape(shape)
    if shape.ndims is None:
        return _ts.Dimension(None)
    return _ts.Dimension(shape.as_list()[index])


def get_static_value(tensor, partial: bool = False):
    """`tf.get_static_value`: the value of `tensor` when it is known while building, else None."""
    from graphcompat.framework.constant_op import constant_value
    if not isinstance(tensor, _ops.Tensor):
        import numpy as np
        return np.asarray(tensor) if tensor is not None else None
    return constant_value(tensor)


def convert_to_tensor_or_sparse_tensor(value, dtype=None, name: Optional[str] = None):
    """`tf.convert_to_tensor_or_sparse_tensor`: SparseTensor(Value) stays sparse, anything else a Tensor."""
    from graphcompat.framework.constant_op import convert_to_tensor
    from graphcompat.ops.sparse_tensor import SparseTensor, SparseTensorValue
    if dtype is not None:
        dtype = _dt.as_dtype(dtype)
    if isinstance(value, SparseTensorValue):
        value = SparseTensor.from_value(value)
    if isinstance(value, SparseTensor):
        if dtype and not dtype.is_compatible_with(value.dtype):
            raise RuntimeError(f"Sparse dtype mismatch. Requested: {dtype.name},  Actual: {value.dtype.name}")
        return value
    return convert_to_tensor(value, dtype=dtype, name=name)


def convert_to_tensor_or_indexed_slices(value, dtype=None, name: Optional[str] = None):
    """`tf.convert_to_tensor_or_indexed_slices`: IndexedSlices stay as they are, anything else a Tensor."""
    from graphcompat.framework.constant_op import convert_to_tensor
    from graphcompat.gradients import IndexedSlices
    if isinstance(value, IndexedSlices):
        if dtype and not _dt.as_dtype(dtype).is_compatible_with(value.dtype):
            raise ValueError(f"Incompatible tensor conversion requested to `dtype` {_dt.as_dtype(dtype).name} for "
                             f"IndexedSlices ({value}) with dtype {value.dtype.name}")
        return value
    return convert_to_tensor(value, dtype=dtype, name=name)


def no_regularizer(_) -> None:
    """`tf.no_regularizer`: the regularizer that adds nothing (turns off a scope's default regularizer)."""
    return None


def op_scope(values, name, default_name=None):
    """`tf.op_scope` (deprecated TF1 spelling of `name_scope(name, default_name, values)`)."""
    return _ops.name_scope(name, default_name, values)


@contextlib.contextmanager
def init_scope():
    """`tf.init_scope`: in graph mode, a scope with the control dependencies cleared (TF lifts to the
    outermost graph, which in graph mode is the default graph itself)."""
    with _ops.get_default_graph().control_dependencies(None):
        yield


def is_symbolic_tensor(tensor) -> bool:
    """`tf.is_symbolic_tensor`: every graphcompat Tensor is a graph (symbolic) tensor."""
    return isinstance(tensor, _ops.Tensor)


def executing_eagerly_outside_functions() -> bool:
    """`tf.executing_eagerly_outside_functions`: False — graphcompat runs graph mode only."""
    return False


def control_flow_v2_enabled() -> bool:
    """`tf.control_flow_v2_enabled`: False — graphcompat builds TF1 control flow (v1 semantics)."""
    return False


__all__ = ["DeviceSpec", "TensorSpec", "dimension_value", "dimension_at_index", "get_static_value",
           "convert_to_tensor_or_sparse_tensor", "convert_to_tensor_or_indexed_slices", "no_regularizer",
           "op_scope", "init_scope", "is_symbolic_tensor", "executing_eagerly_outside_functions",
           "control_flow_v2_enabled"]


# ------------------------------------------------------------------------------------------------
# Enums, constants and protos TF1 programs reference
# ------------------------------------------------------------------------------------------------
class AggregationMethod:
    """`tf.AggregationMethod`: how tf.gradients sums gradient contributions (graphcompat always adds them
    with AddN-equivalent sums inside jax.vjp, so every method gives the same values)."""
    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


import enum as _enum  # noqa: E402


class UnconnectedGradients(_enum.Enum):
    """`tf.UnconnectedGradients`: what tf.gradients returns for an x that ys do not depend on."""
    NONE = "none"
    ZERO = "zero"


# The GraphDef version graphcompat writes (framework/ops.py VersionDef producer) and TF's consumer minimums.
GRAPH_DEF_VERSION = 1205
GRAPH_DEF_VERSION_MIN_CONSUMER = 0
GRAPH_DEF_VERSION_MIN_PRODUCER = 0


def add_check_numerics_ops():
    """`tf.add_check_numerics_ops`: a CheckNumerics on every float output of the default graph, chained by
    control dependencies; the returned group fails the run on the first Inf/NaN."""
    from graphcompat.ops.control_ops import group
    from graphcompat.ops.data_dependent_ops import check_numerics
    graph = _ops.get_default_graph()
    check_op = []
    for op in graph.get_operations():
        for output in op.outputs:
            if output.dtype.base_dtype in (_dt.float16, _dt.float32, _dt.float64):
                if getattr(op, "_control_flow_context", None) is not None:
                    raise ValueError("`tf.add_check_numerics_ops() is not compatible with TensorFlow control flow "
                                     "operations such as `tf.cond()` or `tf.while_loop()`.")
                with graph.control_dependencies(check_op):
                    check_op = [check_numerics(output, message=f"{op.name}:{output.value_index}")]
    return group(*check_op)


def assert_variables_initialized(var_list=None):
    """`tf.assert_variables_initialized`: an op whose run fails (FailedPreconditionError) while any of the
    variables (default: all global and local variables) is uninitialized; None when there are none."""
    from graphcompat.framework.registry import apply_op
    from graphcompat.ops import array_ops
    from graphcompat.variables import global_variables, local_variables
    if var_list is None:
        var_list = global_variables() + local_variables()
    if not var_list:
        return None
    ranks = []
    for var in var_list:
        with _ops.colocate_with(var.op):
            ranks.append(apply_op("Rank", [var]))   # TF's rank_internal(optimize=False): it reads the variable
    return ranks[0] if len(ranks) == 1 else array_ops.stack(ranks)


__all__ += ["AggregationMethod", "UnconnectedGradients", "GRAPH_DEF_VERSION", "GRAPH_DEF_VERSION_MIN_CONSUMER",
            "GRAPH_DEF_VERSION_MIN_PRODUCER", "add_check_numerics_ops", "assert_variables_initialized"]
