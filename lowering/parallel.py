"""Data parallelism and multi-process runs through jax.sharding and jax.distributed.

Data parallel (`graphcompat.config.data_parallel()`, `GRAPHCOMPAT_DATA_PARALLEL=1`): a compiled step runs
over a one-axis `Mesh` ("batch") of every device (all processes' devices after `jax.distributed`).
State (variables, slots, RNG counters) is replicated; a feed or host-input batch whose static shape has an
open first dimension (TF1's batch convention, `[None, ...]`) is split along it with `NamedSharding`; the
step is one SPMD program, so the reductions over the batch (the loss's mean, the gradients' sums) become
XLA all-reduces and every device applies the same update. Written state is constrained to stay
replicated. Nothing is changed in the program: the same plan, the same executor, other input shardings.

A batch whose rows cannot be split evenly over the local devices is never dropped or padded with fake
rows: by default (`uneven="replicate"`) that run computes replicated (every device the whole batch, the
same numbers, no speed-up: a dataset's last partial batch); `uneven="error"` raises TF's
InvalidArgumentError naming the fix instead. Across processes a run cannot be replicated (each process
holds other rows), so an uneven batch always raises there.

Multi-process (`graphcompat.config.distributed(...)`, `GRAPHCOMPAT_COORDINATOR` …): `jax.distributed`
connects the processes; each one runs the same program on its own rows (TF1's between-graph replication).
Feeds are this process's rows of a global batch (`jax.make_array_from_process_local_data`), variables
start from process 0's values (broadcast once, so unseeded initializers agree), a fetched batch-sharded
value returns this process's rows and a replicated one (the loss) its value.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from graphcompat.framework import errors

UNEVEN_CHOICES = ("replicate", "error")


class DataParallel:
    """One data-parallel layout: the mesh, its two shardings, and the rule for uneven batches."""

    def __init__(self, devices: Optional[Sequence] = None, uneven: str = "replicate"):
        if uneven not in UNEVEN_CHOICES:
            raise ValueError(f"uneven must be one of {UNEVEN_CHOICES}, got {uneven!r}")
        devices = list(devices) if devices is not None else jax.devices()
        if not devices:
            raise ValueError("data_parallel needs at least one device")
        self.devices = devices
        self.mesh = Mesh(np.array(devices, dtype=object), ("batch",))
        self.replicated = NamedSharding(self.mesh, PartitionSpec())
        self.batch = NamedSharding(self.mesh, PartitionSpec("batch"))
        self.uneven = uneven
        self.multiprocess = jax.process_count() > 1 and any(
            d.process_index != jax.process_index() for d in devices)
        self.local_count = sum(1 for d in devices if d.process_index == jax.process_index())

    def __repr__(self):
        return f"DataParallel({len(self.devices)} devices, uneven={self.uneven!r})"

    # --- state -----------------------------------------------------------------------------------
    def replicate(self, value):
        """`value` (an array or a pytree of arrays) replicated over the mesh; unchanged when it is."""
        return jax.tree_util.tree_map(self._replicate_leaf, value)

    def _replicate_leaf(self, leaf):
        if isinstance(leaf, jax.Array) and leaf.sharding == self.replicated:
            return leaf
        if self.multiprocess:
            # every process must start from the same values (an unseeded initializer drew per process)
            from jax.experimental import multihost_utils
            host = np.asarray(multihost_utils.broadcast_one_to_all(np.asarray(leaf)))
            return jax.make_array_from_process_local_data(self.replicated, host)
        return jax.device_put(leaf, self.replicated)

    def replicate_state(self, store: dict, keys: Sequence) -> None:
        """Replicates the state values the step reads (written back, so the next step finds them so)."""
        replicated = self.replicated
        for key in keys:
            value = store[key]
            if type(value) is not jax.Array and not (isinstance(value, jax.Array) and value.sharding == replicated):
                store[key] = self.replicate(value)
            elif value.sharding != replicated:
                store[key] = self.replicate(value)

    def constrain_replicated(self, value):
        """Inside the step: written state stays replicated (not whatever sharding XLA would pick)."""
        return jax.tree_util.tree_map(lambda v: jax.lax.with_sharding_constraint(v, self.replicated), value)

    # --- feeds -----------------------------------------------------------------------------------
    def shard_feeds(self, feeds: Sequence, batch_positions: Sequence[int], names: Sequence[str]):
        """The feeds with their batch feeds split over the mesh, or None when a batch cannot be split
        evenly and `uneven="replicate"` (the run then computes replicated)."""
        if not batch_positions:
            return feeds
        local = self.local_count
        for i in batch_positions:
            rows = np.shape(feeds[i])[0]
            if rows % local:
                if self.uneven == "replicate" and not self.multiprocess:
                    return None
                raise errors.InvalidArgumentError(
                    None, None,
                    f"Data parallel: the batch of {rows} rows fed to {names[i]} cannot be split evenly over "
                    f"{local} devices. Feed a multiple of {local} rows per step (Dataset.batch(..., "
                    "drop_remainder=True) for the last batch)"
                    + ("" if self.multiprocess else ", or call graphcompat.config.data_parallel(uneven="
                       "'replicate') to run such batches replicated") + ".")
        out = list(feeds)
        for i in batch_positions:
            out[i] = self._shard_batch(feeds[i])
        return out

    def _shard_batch(self, value):
        if self.multiprocess:
            return jax.make_array_from_process_local_data(self.batch, np.asarray(value))
        return jax.device_put(value, self.batch)

    def replicate_feeds(self, feeds: Sequence):
        """Feeds of a replicated run (an uneven batch): every device gets the whole value."""
        return [jax.device_put(v, self.replicated) for v in feeds]


def batch_positions(tensors: Sequence) -> list:
    """Positions of the tensors whose static shape has an open first dimension: TF1's batch axis."""
    out = []
    for i, t in enumerate(tensors):
        shape = t.shape
        if shape.ndims is not None and shape.ndims >= 1 and shape.as_list()[0] is None:
            out.append(i)
    return out


def sharded_batches(rule, layout: DataParallel):
    """`rule` (a dataset iterator's next element, a context rule) whose batch outputs (open first
    dimension, rows divisible by the device count) are split over the mesh inside the step."""
    import dataclasses
    inner = rule.fn
    count = len(layout.devices)

    def fn(ctx, op, *args):
        out = inner(ctx, op, *args)
        if not ctx.traced:
            return out
        if len(op.outputs) == 1 and type(out) in (list, tuple) and len(out) == 1:
            out = out[0]   # a one-component element
        values = list(out) if len(op.outputs) != 1 else [out]
        for i, (t, v) in enumerate(zip(op.outputs, values)):
            dims = t.shape.as_list() if t.shape.ndims else None
            if dims and dims[0] is None and np.ndim(v) >= 1 and np.shape(v)[0] % count == 0 \
                    and np.shape(v)[0] > 0:
                values[i] = jax.lax.with_sharding_constraint(v, layout.batch)
        return values[0] if len(op.outputs) == 1 else type(out)(values) if isinstance(out, tuple) else values
    return dataclasses.replace(rule, fn=fn)


def to_host(value) -> np.ndarray:
    """A fetched value as numpy. A value spread over several processes: its replicated value, or for a
    batch-sharded one this process's rows (TF1 between-graph replication: each worker sees its batch)."""
    if not isinstance(value, jax.Array) or value.is_fully_addressable or value.is_fully_replicated:
        return np.asarray(value)
    shards = {}
    for shard in value.addressable_shards:
        start = shard.index[0].start if shard.index and shard.index[0].start is not None else 0
        shards.setdefault(start, shard.data)
    return np.concatenate([np.asarray(shards[k]) for k in sorted(shards)], axis=0)


# ------------------------------------------------------------------------------------------------
# Multi-process start-up
# ------------------------------------------------------------------------------------------------
_initialized: list = []


def initialize_distributed(coordinator_address: str, num_processes: int, process_id: int,
                           local_device_ids: Optional[Sequence[int]] = None,
                           initialization_timeout: int = 300) -> None:
    """`jax.distributed.initialize`, with graphcompat's error when it comes too late."""
    if _initialized:
        if _initialized[0] == (coordinator_address, num_processes, process_id):
            return
        raise RuntimeError(f"graphcompat.config.distributed() was already called with {_initialized[0]}")
    from jax._src import xla_bridge
    if xla_bridge.backends_are_initialized():
        raise RuntimeError(
            "graphcompat.config.distributed() must be called before the first graph op or Session (JAX's "
            "backend is already initialised in this process). Call it right after `import graphcompat`, "
            "or launch with GRAPHCOMPAT_COORDINATOR=host:port GRAPHCOMPAT_NUM_PROCESSES=N "
            "GRAPHCOMPAT_PROCESS_ID=i in the environment.")
    jax.distributed.initialize(coordinator_address=coordinator_address, num_processes=int(num_processes),
                               process_id=int(process_id), local_device_ids=local_device_ids,
                               initialization_timeout=int(initialization_timeout))
    _initialized.append((coordinator_address, int(num_processes), int(process_id)))


def initialize_from_env() -> None:
    """GRAPHCOMPAT_COORDINATOR / GRAPHCOMPAT_NUM_PROCESSES / GRAPHCOMPAT_PROCESS_ID: connect at import."""
    address = os.environ.get("GRAPHCOMPAT_COORDINATOR", "").strip()
    if not address:
        return
    try:
        num, pid = int(os.environ["GRAPHCOMPAT_NUM_PROCESSES"]), int(os.environ["GRAPHCOMPAT_PROCESS_ID"])
    except (KeyError, ValueError):
        raise RuntimeError("GRAPHCOMPAT_COORDINATOR needs GRAPHCOMPAT_NUM_PROCESSES and GRAPHCOMPAT_PROCESS_ID "
                           "(integers) in the environment") from None
    initialize_distributed(address, num, pid)
