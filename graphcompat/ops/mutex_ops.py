"""`tf.CriticalSection` (TF's critical_section_ops.py, on the MutexV2 / MutexLock / ConsumeMutexLock ops)."""
from __future__ import annotations


class CriticalSection:
    """`tf.CriticalSection`: not implemented (the mutex ops it records, MutexV2, MutexLock and
    ConsumeMutexLock, have no lowering in graphcompat)."""

    def __init__(self, name=None, shared_name=None, critical_section_def=None, import_scope=None):
        raise NotImplementedError("tf.CriticalSection (MutexV2, MutexLock, ConsumeMutexLock) is not implemented in "
                                  "graphcompat")
