"""Placement: which JAX device each op of a plan runs on, from its `tf.device` string (TF's placer).

An op whose device string names a device this process has (`/cpu:1`, `/device:GPU:0`, `/job:localhost/
task:0/gpu:1`, `/gpu:*`) runs there; the i-th device of a kind is `jax.local_devices(backend=kind)[i]`.
An op without a device runs on JAX's default device (TF's default: GPU:0 when there is one, else CPU:0).
A device that does not exist (`/gpu:2` on a machine with one GPU, another job or task): with
`allow_soft_placement` the op runs on the default device; without it (TF's default `ConfigProto`) the
first run raises TF's InvalidArgumentError ("Cannot assign a device for operation …").

How a plan with several devices runs is the executor's choice (lowering/executor.py): on its first run
ops run one by one, each on its device, its inputs copied there first (`jax.device_put`: the explicit
transfers TF's Send/Recv pairs make), later runs as per-device jitted segments (lowering/segments.py); a
plan whose ops all name one device compiles for that device as usual.
"""
from __future__ import annotations

from typing import Optional, Sequence

import jax
import numpy as np

from graphcompat.framework import errors

_PLATFORMS = {"CPU": "cpu", "GPU": "gpu", "TPU": "tpu"}

try:  # jax's own transfer under jax.device_put, without its Python dispatch (see to_device)
    from jax._src.interpreters.pxla import batched_device_put as _batched_device_put
    from jax._src.interpreters.pxla import get_default_device as _default_device
    from jax._src.core import ShapedArray as _ShapedArray
except ImportError:
    _batched_device_put = None


def to_device(value: np.ndarray) -> jax.Array:
    """`jax.device_put(value)` of a host array: uncommitted, on the default device. The same call jax makes
    under device_put, without its argument handling, which is most of a small transfer's cost (7 µs against
    33 for a scalar on a 2-core CPU): the state an op-by-op run commits, an iterator's start every epoch."""
    value = np.asarray(value)
    if _batched_device_put is None or value.dtype == object or value.dtype != jax.dtypes.canonicalize_dtype(value.dtype):
        return jax.device_put(value)
    device = _default_device()
    return _batched_device_put(_ShapedArray(value.shape, value.dtype), jax.sharding.SingleDeviceSharding(device),
                               [value], [device], committed=False)


def _local_devices(platform: str) -> list:
    try:
        return jax.local_devices(backend=platform)
    except RuntimeError:  # no such backend in this process
        return []


def _fields(spec: str) -> dict:
    fields = {}
    for part in spec.split("/"):
        if not part:
            continue
        key, _, value = part.partition(":")
        if key == "device":
            fields["type"], _, fields["index"] = value.rpartition(":")
        else:
            fields[key] = value
    return fields


def resolve(spec: str):
    """The local JAX device a canonical TF device string names; None when it names no device of this
    process (a missing index or kind, another job or task); `default` when it names no device kind."""
    if not spec:
        return _DEFAULT
    fields = _fields(spec)
    # a local Session owns /job:localhost/replica:0/task:0 only (TF's local device set)
    if fields.get("job", "localhost") not in ("localhost", "*") or fields.get("replica", "0") not in ("0", "*") \
            or fields.get("task", "0") not in ("0", "*"):
        return None
    kind = fields.get("type")
    if kind is None or kind == "*":
        return _DEFAULT
    platform = _PLATFORMS.get(kind)
    if platform is None:
        return None
    devices = _local_devices(platform)
    index = fields.get("index", "*")
    if index == "*":
        return devices[0] if devices else None
    i = int(index)
    return devices[i] if 0 <= i < len(devices) else None


_DEFAULT = object()


def device_name(device) -> str:
    """TF's full name of a JAX device: /job:localhost/replica:0/task:<process>/device:<KIND>:<index>."""
    kind = device.platform.upper()
    try:
        index = jax.local_devices(backend=device.platform).index(device)
    except ValueError:
        index = device.id
    return f"/job:localhost/replica:0/task:{device.process_index}/device:{kind}:{index}"


def available_devices() -> list:
    """This process's devices as TF names them (CPU first, as TF lists them)."""
    names = []
    for platform in ("cpu", "gpu", "tpu"):
        names += [device_name(d) for d in _local_devices(platform)]
    return names


def assign(ops: Sequence, soft: bool) -> tuple:
    """({op: device or None (the default device)}, [distinct devices named]) for a plan's ops.

    Raises TF's InvalidArgumentError for an op whose device does not exist when `soft` is false."""
    placement: dict = {}
    named: list = []
    for op in ops:
        spec = op.device or _ref_peer_device(op)
        if not spec:
            placement[op] = None
            continue
        device = resolve(spec)
        if device is None:
            if not soft:
                raise errors.InvalidArgumentError(
                    None, op,
                    f"Cannot assign a device for operation {op.name}: {{{{node {op.name}}}}} was explicitly "
                    f"assigned to {spec} but available devices are [ {', '.join(available_devices())} ]. "
                    "Make sure the device specification refers to a valid device.")
            device = _DEFAULT
        if device is _DEFAULT:
            placement[op] = None
            continue
        placement[op] = device
        if device not in named:
            named.append(device)
    return placement, named


def _ref_peer_device(op) -> str:
    """TF's placer keeps an op that takes a variable by reference (Assign, ApplyAdam, a resource read)
    with the variable: the device of the variable its ref or resource input comes from, or ""."""
    for t in op._inputs:
        dtype = t.dtype
        if dtype.is_ref_dtype or dtype.base_dtype.name == "resource":
            source = t.op
            while not source.device and source._inputs and (source._inputs[0].dtype.is_ref_dtype or
                                                            source._inputs[0].dtype.base_dtype.name == "resource"):
                source = source._inputs[0].op   # through Identity / RefIdentity of the reference
            if source.device:
                return source.device
    return ""


def default_device():
    """Where ops without a device run: JAX's default device (`jax.default_device` if the user set one)."""
    configured = jax.config.jax_default_device
    if configured is not None and not isinstance(configured, str):
        return configured
    return jax.local_devices()[0]


def move(value, device):
    """`value` on `device` (an explicit transfer) when it is a JAX array elsewhere or a host array (a
    feed, a constant: computed with numpy it would run on no device at all); anything else as is."""
    if isinstance(value, jax.Array):
        devices = value.sharding.device_set
        if len(devices) != 1 or device not in devices:
            return jax.device_put(value, device)
    elif isinstance(value, (np.ndarray, np.generic)) and value.dtype != object:
        return jax.device_put(value, device)
    return value


def log_lines(ops: Sequence, placement: Optional[dict], single, data_parallel=None) -> list:
    """`log_device_placement` lines, TF's format `name: (Type): /job:localhost/.../device:CPU:0`."""
    lines = []
    for op in ops:
        if data_parallel is not None:
            where = (f"{device_name(data_parallel.devices[0])} (data parallel over "
                     f"{len(data_parallel.devices)} devices)")
        else:
            device = (placement or {}).get(op) if placement else None
            where = device_name(device or single or default_device())
        lines.append(f"{op.name}: ({op.type}): {where}")
    return lines
