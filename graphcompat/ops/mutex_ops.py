"""`tf.CriticalSection` (TF's critical_section_ops.py) on the mutex ops `MutexV2`, `MutexLock`,
`ConsumeMutexLock`: `execute(fn)` records `fn`'s ops behind a MutexLock (control dependencies) and its
results behind a ConsumeMutexLock, exactly as TF's graph mode does; runs holding the lock of one mutex
run those ops one at a time. Lowerings: lowering/rules/staging.py.
"""
from __future__ import annotations

import collections
import contextlib
import threading
from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.registry import apply_op, defop, no_outputs, scalar_shape

defop("MutexV2", "-> resource: resource", attrs={"container": "", "shared_name": ""}, shape=scalar_shape,
      stateful=True)
defop("MutexLock", "mutex: resource -> mutex_lock: variant", shape=scalar_shape, stateful=True)
defop("ConsumeMutexLock", "mutex_lock: variant ->", shape=no_outputs, stateful=True)

CRITICAL_SECTIONS = "critical_sections"
CRITICAL_SECTION_EXECUTIONS = "critical_section_executions"


class _ExecutionSignature(collections.namedtuple("_ExecutionSignature",
                                                 ("op", "handle", "resources", "exclusive_resource_access"))):
    """One `execute`: its MutexLock op, the mutex, the resources its ops read, whether they are exclusive."""


def _identity(x):
    """TF's _identity: a TensorArray's identity, a group of an Operation, else tf.identity."""
    from graphcompat.ops.array_ops import identity
    from graphcompat.ops.control_ops import group
    if isinstance(x, _ops.Operation):
        return group(x)
    if hasattr(x, "flow") and hasattr(x, "identity"):   # a TensorArray
        return x.identity()
    return identity(x)


def _get_colocation(op):
    try:
        return op.get_attr("_class")
    except (ValueError, AttributeError, KeyError):
        return None


_STACK = threading.local()


@contextlib.contextmanager
def _push_critical_section_stack(signature):
    """A CriticalSection already being executed on this thread cannot be locked again (TF: a deadlock)."""
    stack = _STACK.__dict__.setdefault("value", [])
    if signature in stack:
        raise ValueError(f"Attempting to lock a CriticalSection (signature={signature}) in which we are already "
                         "running. This is illegal and may cause deadlocks.")
    stack.append(signature)
    try:
        yield
    finally:
        received = stack.pop()
        if received != signature:
            raise RuntimeError(f"CriticalSection stack inconsistency: expected signature {signature} but received "
                               f"{received}")


class CriticalSection:
    """`tf.CriticalSection`: a mutex in the graph; `execute(fn)` runs `fn`'s ops while holding it."""

    def __init__(self, name=None, shared_name=None, critical_section_def=None, import_scope=None):
        if critical_section_def and name is not None:
            raise ValueError(f"Arguments critical_section_def={critical_section_def} and shared_name={shared_name} "
                             "are mutually exclusive. Please only specify one of them.")
        if critical_section_def:
            raise ValueError("Argument `critical_section_def` is not supported.")
        with _ops.name_scope(name, "CriticalSection", []) as scope:
            graph = _ops.get_default_graph()
            with graph.control_dependencies(None):   # TF's init_scope
                container = graph._container or ""
                if shared_name is None:
                    shared_name = scope
                self._handle = apply_op("MutexV2", [], {"shared_name": shared_name, "container": container},
                                        name=scope)
                self._signature = (container, shared_name or id(self._handle),
                                   self._handle.op.device or _get_colocation(self._handle.op))
        _ops.add_to_collections(CRITICAL_SECTIONS, self)

    @property
    def name(self) -> str:
        return self._handle.op.name

    def execute(self, fn, exclusive_resource_access: bool = True, name: Optional[str] = None):
        """Runs `fn()`'s ops holding this section's mutex; returns its results (through identities that wait
        for the lock to be consumed)."""
        from graphcompat import nest
        from graphcompat.ops.control_ops import tuple as tf_tuple
        graph = _ops.get_default_graph()
        with _ops.name_scope(name, "critical_section_execute", []):
            with _push_critical_section_stack(self._signature):
                lock = apply_op("MutexLock", [self._handle])
                with graph._lock:
                    existing = set(graph.get_operations())
                    with _ops.control_dependencies([lock]):
                        r = fn()
                    created_ops = [op for op in graph.get_operations() if op not in existing]
            self._add_control_dependencies_to_lock(created_ops, lock.op)
            captured = []
            for op in created_ops:
                for t in op.inputs:
                    if t.dtype == _dt.resource and all(t is not c for c in captured):
                        captured.append(t)
            if any(self._is_self_handle(x) for x in captured):
                raise ValueError(f"Attempting to lock a CriticalSection in which we are already running "
                                 f"(signature={self._signature}). This is illegal and may cause deadlocks.")
            self._check_multiple_access_to_resources(captured, exclusive_resource_access)
            r_flat = [_identity(x) for x in nest.flatten(r)]
            with _ops.control_dependencies(r_flat):
                with _ops.colocate_with(self._handle):
                    ensure_lock_exists = apply_op("ConsumeMutexLock", [lock])
                r = nest.pack_sequence_as(r, tf_tuple(nest.flatten(r)))
            with _ops.control_dependencies([ensure_lock_exists]):
                outputs = nest.map_structure(_identity, r)
            _ops.add_to_collections(CRITICAL_SECTION_EXECUTIONS, _ExecutionSignature(
                op=lock.op, handle=self._handle, resources=captured,
                exclusive_resource_access=exclusive_resource_access))
            return outputs

    def _add_control_dependencies_to_lock(self, created_ops: list, lock_op: _ops.Operation) -> None:
        """The lock waits for everything `fn`'s ops read from outside (TF: so the lock is not held while
        they run). Those ops all precede the lock, so the creation order stays a topological order."""
        from graphcompat.ops.control_ops import group
        args = {t.op._id: t.op for op in created_ops for t in op.inputs}
        args.update((c._id, c) for op in created_ops for c in op.control_inputs)
        for op in created_ops:
            args.pop(op._id, None)
        for op in lock_op.control_inputs:
            args.pop(op._id, None)
        for t in lock_op.inputs:
            args.pop(t.op._id, None)
        args.pop(lock_op._id, None)
        if not args:
            return
        lock_op._add_control_input(group(*args.values()))

    def _is_self_handle(self, x) -> bool:
        return (x.op.type == "MutexV2" and bool(x.op.get_attr("shared_name"))
                and x.op.get_attr("shared_name") == self._handle.op.get_attr("shared_name")
                and (x.op.device == self._handle.op.device
                     or _get_colocation(x.op) == _get_colocation(self._handle.op)))

    def _check_multiple_access_to_resources(self, captured: list, exclusive_resource_access: bool) -> None:
        for sg in _ops.get_collection(CRITICAL_SECTION_EXECUTIONS):
            if self._is_self_handle(sg.handle):
                continue
            if not (exclusive_resource_access or sg.exclusive_resource_access):
                continue
            shared = [t for t in captured if any(t is r for r in sg.resources)]
            if shared:
                raise ValueError(f"This execution would access resources: {shared}. Either this lock "
                                 f"(CriticalSection: {self._handle}) or lock '{sg}' (CriticalSection: {sg.handle}) "
                                 "requested exclusive resource access of this resource. Did you mean to call execute "
                                 "with keyword argument exclusive_resource_access=False?")
