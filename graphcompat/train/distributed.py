"""TF1's distributed-runtime names: `tf.train.ClusterSpec`, `replica_device_setter`, `Server`.

graphcompat has no TF gRPC runtime (no parameter servers, no remote sessions). Scale-out goes through JAX:
`graphcompat.config.distributed(...)` connects N processes with `jax.distributed` and
`graphcompat.config.data_parallel()` runs each step as one SPMD program over every process's devices
(synchronous all-reduce: TF1's SyncReplicasOptimizer semantics, not asynchronous parameter-server updates).

- `ClusterSpec` is plain data and works as TF's (a launcher may read task addresses from it).
- `replica_device_setter` records TF's device strings (variables round-robin over `/job:ps/task:i`, other
  ops on the worker device), exactly as TF's graph would hold them. Data parallel ignores device scopes,
  so such a graph runs replicated; without it, a local Session has no `/job:ps` device (TF's error, or the
  default device with `allow_soft_placement=True`).
- `Server` raises NotImplementedError saying what to use instead.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import ops as _ops

_INSTEAD = ("graphcompat runs no TF gRPC servers. Start every process of the job with "
            "graphcompat.config.distributed(coordinator_address='<task 0 host:port>', num_processes=<tasks>, "
            "process_id=<task_index>) right after import (or GRAPHCOMPAT_COORDINATOR / GRAPHCOMPAT_NUM_PROCESSES "
            "/ GRAPHCOMPAT_PROCESS_ID in the environment) and call graphcompat.config.data_parallel(): each "
            "process feeds its own batch, gradients are all-reduced by XLA; use a local tf.Session (target '') "
            "and no parameter-server tasks.")


class ClusterSpec:
    """`tf.train.ClusterSpec`: jobs → task addresses ({job: [addresses]} or {job: {index: address}})."""

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            self._cluster = {job: dict(tasks) for job, tasks in cluster._cluster.items()}
        elif isinstance(cluster, dict):
            self._cluster = {}
            for job, tasks in cluster.items():
                if isinstance(tasks, (list, tuple)):
                    self._cluster[job] = dict(enumerate(tasks))
                elif isinstance(tasks, dict):
                    self._cluster[job] = {int(i): address for i, address in tasks.items()}
                else:
                    raise TypeError("The tasks for job %r must be a list or a dictionary from integers to "
                                    "strings." % job)
        else:
            raise TypeError("`cluster` must be a dictionary mapping one or more job names to lists of network "
                            "addresses, or a `ClusterDef` protocol buffer")

    def __bool__(self) -> bool:
        return bool(self._cluster)

    def __eq__(self, other) -> bool:
        return isinstance(other, ClusterSpec) and self._cluster == other._cluster

    def __ne__(self, other) -> bool:
        return not self == other

    def __str__(self) -> str:
        return "ClusterSpec(%s)" % self.as_dict()

    __repr__ = __str__

    @property
    def jobs(self) -> list:
        return list(self._cluster)

    def as_dict(self) -> dict:
        out = {}
        for job, tasks in self._cluster.items():
            indices = sorted(tasks)
            out[job] = [tasks[i] for i in indices] if indices == list(range(len(indices))) else dict(tasks)
        return out

    def _job(self, job_name: str) -> dict:
        try:
            return self._cluster[job_name]
        except KeyError:
            raise ValueError("No such job in cluster: %r" % job_name) from None

    def num_tasks(self, job_name: str) -> int:
        return len(self._job(job_name))

    def task_indices(self, job_name: str) -> list:
        return sorted(self._job(job_name))

    def task_address(self, job_name: str, task_index: int) -> str:
        tasks = self._job(job_name)
        try:
            return tasks[task_index]
        except KeyError:
            raise ValueError("No task with index %r in job %r" % (task_index, job_name)) from None

    def job_tasks(self, job_name: str) -> list:
        tasks = self._job(job_name)
        if not tasks:
            return []
        return [tasks.get(i) for i in range(max(tasks) + 1)]

    def as_cluster_def(self):
        raise NotImplementedError("tf.train.ClusterSpec.as_cluster_def: graphcompat has no ClusterDef proto; "
                                  "use as_dict()")


def Server(server_or_cluster_def=None, job_name: Optional[str] = None, task_index: Optional[int] = None,  # noqa: N802
           protocol: Optional[str] = None, config=None, start: bool = True):
    """`tf.train.Server`: not available (no TF gRPC runtime); the error says what to use instead."""
    raise NotImplementedError(f"tf.train.Server: {_INSTEAD}")


def _create_local_server(config=None, start: bool = True):
    raise NotImplementedError(f"tf.train.Server.create_local_server: {_INSTEAD}")


Server.create_local_server = _create_local_server


_PS_OPS = ("Variable", "VariableV2", "AutoReloadVariable", "MutableHashTable", "MutableHashTableV2",
           "MutableHashTableOfTensors", "MutableHashTableOfTensorsV2", "MutableDenseHashTable",
           "MutableDenseHashTableV2", "VarHandleOp", "BoostedTreesEnsembleResourceHandleOp",
           "BoostedTreesQuantileStreamResourceHandleOp", "ResourceConditionalAccumulator",
           "DecisionTreeResource")


def _fields(spec: str) -> dict:
    out = {}
    for part in (p for p in _ops.canonical_device(spec).split("/") if p):
        key, _, value = part.partition(":")
        out[key] = value
    return out


def _merged(base: dict, current: dict) -> str:
    """TF's DeviceSpec.make_merged_spec: `current`'s fields override `base`'s."""
    fields = dict(base)
    fields.update(current)
    return "".join(f"/{k}:{fields[k]}" for k in ("job", "replica", "task", "device") if k in fields)


def replica_device_setter(ps_tasks: int = 0, ps_device: str = "/job:ps", worker_device: str = "/job:worker",
                          merge_devices: bool = True, cluster=None, ps_ops=None, ps_strategy=None):
    """`tf.train.replica_device_setter`: TF's device function (None when there are no ps tasks)."""
    if cluster is not None:
        cluster_spec = cluster if isinstance(cluster, ClusterSpec) else ClusterSpec(cluster)
        ps_tasks = len(cluster_spec.as_dict().get("ps", ()))
    if ps_tasks == 0:
        return None
    if ps_ops is None:
        ps_ops = list(_PS_OPS)
    if not merge_devices:
        import warnings
        warnings.warn("DEPRECATION: It is recommended to set merge_devices=true in replica_device_setter")
    if ps_strategy is None:
        counter = [0]

        def ps_strategy(op):
            task = counter[0]
            counter[0] = (counter[0] + 1) % ps_tasks
            return task
    elif not callable(ps_strategy):
        raise TypeError("ps_strategy must be callable")

    def device_function(op):
        if not merge_devices and op.device:
            return op.device
        current = _fields(op.device or "")
        if ps_device and op.type in ps_ops:
            ps = _fields(ps_device)
            if ps.get("job") and (not current.get("job") or current.get("job") == ps.get("job")):
                ps["task"] = str(ps_strategy(op))
            return _merged(ps, current)
        return _merged(_fields(worker_device or ""), current)
    return device_function
