"""Session tensors: `tf.get_session_handle`, `tf.get_session_tensor`, `tf.delete_session_tensor` and the
`TensorHandle` that `Session.run` returns for a fetched handle (TF's session_ops.py).

`GetSessionHandle` keeps its input alive in the Session and outputs TF's handle string
`<node name>;<id>;<device>`; feeding that string (or the TensorHandle) to the placeholder of a
`GetSessionTensor` reads the tensor in a later run. Lowerings: lowering/rules/staging.py.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.registry import apply_op, defop, no_outputs, scalar_shape

defop("GetSessionHandle", "value: T -> handle: string", shape=scalar_shape, stateful=True)
defop("GetSessionHandleV2", "value: T -> handle: resource", shape=scalar_shape, stateful=True)
defop("GetSessionTensor", "handle: string -> value: dtype", stateful=True)
defop("DeleteSessionTensor", "handle: string ->", shape=no_outputs, stateful=True)

HANDLE_OP_TYPES = ("GetSessionHandle", "GetSessionHandleV2")


class TensorHandle:
    """A handle for a tensor kept in a session (`tf.get_session_handle`'s fetched value)."""

    def __init__(self, handle, dtype, session):
        self._handle = handle.decode() if isinstance(handle, bytes) else str(handle)
        self._dtype = dtype
        self._session = session
        self._auto_gc_enabled = True

    def __del__(self):
        try:
            if self._auto_gc_enabled and not self._session._closed:
                self._session._register_dead_handle(self.handle)
        except Exception:  # noqa: BLE001  (interpreter shutdown, a closed session)
            pass

    def __str__(self) -> str:
        return self._handle

    @property
    def handle(self) -> str:
        """The string representation of this handle."""
        return self._handle

    def eval(self):
        """The value of the tensor this handle names."""
        if not self._auto_gc_enabled:
            raise TypeError(f"Persistent tensor {self.handle} may have already been deleted.")
        holder, reader = _get_handle_reader(self._session.graph, self._handle, self._dtype)
        return self._session.run(reader, feed_dict={holder: self._handle})

    def delete(self) -> None:
        """Deletes the tensor now."""
        if not self._auto_gc_enabled:
            raise TypeError(f"Persistent tensor {self.handle} may have already been deleted.")
        self._auto_gc_enabled = False
        holder, deleter = _get_handle_deleter(self._session.graph, 0, self._handle)
        self._session.run(deleter, feed_dict={holder: self.handle})

    def get_raw_handle(self) -> str:
        """The handle string; the caller now manages the tensor's lifetime (no automatic deletion)."""
        self._auto_gc_enabled = False
        return self._handle

    def to_numpy_array(self):
        raise NotImplementedError("TensorHandle.to_numpy_array (a ResourceHandle proto feed) is not supported by "
                                  "graphcompat: feed the TensorHandle or its .handle string")

    @staticmethod
    def _get_device_name(handle) -> str:
        handle = handle.decode() if isinstance(handle, bytes) else str(handle)
        return _ops.canonical_device(handle.split(";")[-1])

    @staticmethod
    def _get_reader_key(handle) -> str:
        parts = str(handle).split(";")
        return parts[0] + ";" + parts[-1]


def get_session_handle(data, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.get_session_handle`: a scalar string handle that keeps `data` in the session after the run."""
    if not isinstance(data, _ops.Tensor):
        raise TypeError("`data` must be of type Tensor.")
    with _ops.colocate_with(data):
        return apply_op("GetSessionHandle", [data], name=name)


def get_session_tensor(handle, dtype, name: Optional[str] = None):
    """`tf.get_session_tensor`: (placeholder for the handle string, the tensor it names)."""
    from graphcompat.ops.array_ops import placeholder
    with _ops.device(TensorHandle._get_device_name(handle)):
        holder = placeholder(_dt.string)
        _handle_feeders(holder.graph)[holder.op.name] = _dt.as_dtype(dtype)
        tensor = apply_op("GetSessionTensor", [holder], {"dtype": _dt.as_dtype(dtype)}, name=name)
    return holder, tensor


def delete_session_tensor(handle, name: Optional[str] = None):
    """`tf.delete_session_tensor`: (placeholder for the handle string, the op that deletes the tensor)."""
    from graphcompat.ops.array_ops import placeholder
    with _ops.device(TensorHandle._get_device_name(handle)):
        holder = placeholder(_dt.string)
        deleter = apply_op("DeleteSessionTensor", [holder], name=name)
    return holder, deleter


def _handle_feeders(graph) -> dict:
    return graph._extras.setdefault("session_handle_feeders", {})


def _get_handle_reader(graph, handle: str, dtype):
    """The (placeholder, GetSessionTensor) pair that reads handles of this node and device (built once)."""
    from graphcompat.ops.array_ops import placeholder
    readers = graph._extras.setdefault("session_handle_readers", {})
    key = TensorHandle._get_reader_key(handle)
    result = readers.get(key)
    if result is None:
        with graph.as_default(), graph.device(TensorHandle._get_device_name(handle)):
            holder = placeholder(_dt.string)
            _handle_feeders(graph)[holder.op.name] = dtype
            reader = apply_op("GetSessionTensor", [holder], {"dtype": dtype})
        result = readers[key] = (holder, reader)
    return result


def _get_handle_deleter(graph, deleter_key: int, handle: str):
    """The (placeholder, DeleteSessionTensor) pair number `deleter_key` (built once)."""
    from graphcompat.ops.array_ops import placeholder
    deleters = graph._extras.setdefault("session_handle_deleters", {})
    result = deleters.get(deleter_key)
    if result is None:
        with graph.as_default(), graph.device(TensorHandle._get_device_name(handle)):
            holder = placeholder(_dt.string)
            deleter = apply_op("DeleteSessionTensor", [holder])
        result = deleters[deleter_key] = (holder, deleter)
    return result
