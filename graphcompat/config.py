"""`tf.config` and graphcompat's own settings (`import graphcompat as tf; tf.config.data_parallel()`).

TF's device queries (`list_physical_devices`, `list_logical_devices`, `get_visible_devices`, the
`experimental` aliases) answer with JAX's devices under TF's names. graphcompat's executor settings:

| call | environment variable (read at import) | what it does |
|---|---|---|
| `set_deterministic(True)` | `GRAPHCOMPAT_DETERMINISTIC=1` | compile every device plan: identical bits on every run |
| `set_async_dispatch(True/False/None)` | `GRAPHCOMPAT_ASYNC=1/0` | runs that fetch no value return before their step ends (None: on for GPU/TPU) |
| `set_shape_buckets(64/None)` | `GRAPHCOMPAT_SHAPE_BUCKETS=N/0` | pad open feed dimensions to power-of-two buckets |
| `set_background_compile(True/False)` | `GRAPHCOMPAT_BACKGROUND_COMPILE=1/0` | a hot exact feed shape of a padded plan compiles in a background thread (False: at once) |
| `data_parallel()` | `GRAPHCOMPAT_DATA_PARALLEL=1`, `GRAPHCOMPAT_DATA_PARALLEL_UNEVEN=replicate/error` | replicate variables, split batches over all devices |
| `distributed(address, n, i)` | `GRAPHCOMPAT_COORDINATOR=host:port`, `GRAPHCOMPAT_NUM_PROCESSES=n`, `GRAPHCOMPAT_PROCESS_ID=i` | connect n processes with `jax.distributed` |
"""
from __future__ import annotations

import collections
import types
from typing import Optional, Sequence

from lowering import executor as _executor
from lowering import parallel as _parallel
from lowering.executor import set_async_dispatch, set_background_compile, set_deterministic, set_shape_buckets  # noqa: F401,E501

PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])
LogicalDevice = collections.namedtuple("LogicalDevice", ["name", "device_type"])


# ------------------------------------------------------------------------------------------------
# Scale-out
# ------------------------------------------------------------------------------------------------
def data_parallel(enabled: bool = True, devices: Optional[Sequence] = None, uneven: str = "replicate"):
    """Runs every compiled step data parallel, with no change to the program.

    A `jax.sharding.Mesh` over `devices` (default: all devices, of every process after `distributed`):
    variables and other state are replicated, a feed or dataset batch whose static shape has an open
    first dimension (`[None, ...]`) is split along it, and XLA reduces the gradients across devices, so
    training computes the same numbers as on one device (to float rounding). `uneven` says what a batch
    whose rows do not split evenly does: `"replicate"` runs that step replicated (same numbers, no
    speed-up), `"error"` raises InvalidArgumentError; rows are never dropped. `tf.device` scopes are
    ignored while it is on (the mesh is the placement). Call it before the first `Session.run`; returns
    the layout (None when turned off)."""
    layout = _parallel.DataParallel(devices, uneven) if enabled else None
    _executor.set_data_parallel(layout)
    return layout


def get_data_parallel():
    """The data-parallel layout in force (`data_parallel()` or GRAPHCOMPAT_DATA_PARALLEL), or None."""
    return _executor.data_parallel()


def distributed(coordinator_address: str, num_processes: int, process_id: int,
                local_device_ids: Optional[Sequence[int]] = None, initialization_timeout: int = 300) -> None:
    """Connects this process to the others with `jax.distributed.initialize` (multi-host).

    Call it right after `import graphcompat` (before any graph op or Session), in every process, with the
    same coordinator (`"host:port"` of process 0) and its own `process_id`; then `data_parallel()` spans
    every process's devices and each process feeds its own rows. Or launch unmodified programs with
    GRAPHCOMPAT_COORDINATOR / GRAPHCOMPAT_NUM_PROCESSES / GRAPHCOMPAT_PROCESS_ID set."""
    _parallel.initialize_distributed(coordinator_address, num_processes, process_id, local_device_ids,
                                     initialization_timeout)


# ------------------------------------------------------------------------------------------------
# TF's device queries
# ------------------------------------------------------------------------------------------------
def _devices(device_type: Optional[str]) -> list:
    import jax
    out = []
    for platform in ("cpu", "gpu", "tpu"):
        kind = platform.upper()
        if device_type is not None and device_type.upper() != kind:
            continue
        try:
            out += [(kind, i) for i, _ in enumerate(jax.local_devices(backend=platform))]
        except RuntimeError:
            pass
    return out


def list_physical_devices(device_type: Optional[str] = None) -> list:
    """`tf.config.list_physical_devices`: this process's devices, e.g. PhysicalDevice('/physical_device:CPU:0')."""
    return [PhysicalDevice(f"/physical_device:{k}:{i}", k) for k, i in _devices(device_type)]


def list_logical_devices(device_type: Optional[str] = None) -> list:
    """`tf.config.list_logical_devices`: LogicalDevice('/device:CPU:0', 'CPU') for each JAX device."""
    return [LogicalDevice(f"/device:{k}:{i}", k) for k, i in _devices(device_type)]


def get_visible_devices(device_type: Optional[str] = None) -> list:
    return list_physical_devices(device_type)


def set_visible_devices(devices, device_type: Optional[str] = None) -> None:
    """JAX fixes its devices at start-up: use CUDA_VISIBLE_DEVICES / JAX_PLATFORMS before starting."""
    raise NotImplementedError("tf.config.set_visible_devices: JAX chooses its devices when it starts; set "
                              "CUDA_VISIBLE_DEVICES (or JAX_PLATFORMS=cpu) in the environment instead.")


def set_memory_growth(device, enable: bool) -> None:
    """Accepted and does nothing: JAX allocates GPU memory itself. To grow on demand as TF's
    `allow_growth`, set XLA_PYTHON_CLIENT_PREALLOCATE=false (or XLA_PYTHON_CLIENT_MEM_FRACTION) before
    starting the process."""
    if getattr(device, "device_type", "GPU") not in ("GPU",):
        raise ValueError("Cannot set memory growth on non-GPU and non-Pluggable devices")
    _memory_growth[getattr(device, "name", str(device))] = bool(enable)


def get_memory_growth(device) -> bool:
    return _memory_growth.get(getattr(device, "name", str(device)), False)


_memory_growth: dict = {}
_soft_placement = [True]


def set_soft_device_placement(enabled: bool) -> None:
    """TF2's eager soft placement switch; TF1 sessions follow `ConfigProto(allow_soft_placement=...)`."""
    _soft_placement[0] = bool(enabled)


def get_soft_device_placement() -> bool:
    return _soft_placement[0]


experimental = types.SimpleNamespace(
    list_physical_devices=list_physical_devices, list_logical_devices=list_logical_devices,
    get_visible_devices=get_visible_devices, set_visible_devices=set_visible_devices,
    set_memory_growth=set_memory_growth, get_memory_growth=get_memory_growth)
