"""TF1 queues: `tf.FIFOQueue`, `tf.PaddingFIFOQueue`, `tf.RandomShuffleQueue`, `tf.PriorityQueue`.

A queue is a resource op (`FIFOQueueV2` …) whose state, a host queue object, lives in the Session
(created when the op first runs, as TF's resource manager does); `QueueEnqueueV2`, `QueueDequeueV2`,
`QueueDequeueManyV2`, `QueueCloseV2` … act on it and may block until another thread's run makes
progress. The builders name ops and check arguments exactly as TF's data_flow_ops.py. Lowerings:
lowering/rules/queues.py.
"""
from __future__ import annotations

import hashlib
from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.framework.registry import apply_op, defop, no_outputs, scalar_shape


def _unknown_outputs(ctx):
    return [_ts.unknown_shape()] * len(ctx.output_dtypes)


_QUEUE_ATTRS = {"shapes": [], "capacity": -1, "container": "", "shared_name": ""}
defop("FIFOQueueV2", "-> handle: resource", attrs=dict(_QUEUE_ATTRS), shape=scalar_shape, stateful=True)
defop("PaddingFIFOQueueV2", "-> handle: resource", attrs=dict(_QUEUE_ATTRS), shape=scalar_shape, stateful=True)
defop("PriorityQueueV2", "-> handle: resource", attrs=dict(_QUEUE_ATTRS, component_types=[]),
      shape=scalar_shape, stateful=True)
defop("RandomShuffleQueueV2", "-> handle: resource",
      attrs=dict(_QUEUE_ATTRS, min_after_dequeue=0, seed=0, seed2=0), shape=scalar_shape, stateful=True)
defop("QueueEnqueueV2", "handle: resource, components: *Tcomponents ->", attrs={"timeout_ms": -1},
      shape=no_outputs, stateful=True)
defop("QueueEnqueueManyV2", "handle: resource, components: *Tcomponents ->", attrs={"timeout_ms": -1},
      shape=no_outputs, stateful=True)
defop("QueueDequeueV2", "handle: resource -> components: *component_types", attrs={"timeout_ms": -1},
      shape=_unknown_outputs, stateful=True)
defop("QueueDequeueManyV2", "handle: resource, n: int32 -> components: *component_types",
      attrs={"timeout_ms": -1}, shape=_unknown_outputs, stateful=True)
defop("QueueDequeueUpToV2", "handle: resource, n: int32 -> components: *component_types",
      attrs={"timeout_ms": -1}, shape=_unknown_outputs, stateful=True)
defop("QueueCloseV2", "handle: resource ->", attrs={"cancel_pending_enqueues": False}, shape=no_outputs,
      stateful=True)
defop("QueueIsClosedV2", "handle: resource -> is_closed: bool", shape=scalar_shape, stateful=True)
defop("QueueSizeV2", "handle: resource -> size: int32", shape=scalar_shape, stateful=True)


# ------------------------------------------------------------------------------------------------
# Argument normalisation (TF's _as_type_list / _as_shape_list / _as_name_list)
# ------------------------------------------------------------------------------------------------
def _as_type_list(dtypes) -> list:
    if not isinstance(dtypes, (list, tuple)):
        return [_dt.as_dtype(dtypes)]
    return [_dt.as_dtype(d) for d in dtypes]


def _as_shape_list(shapes, unknown_dim_allowed: bool = False) -> Optional[list]:
    if unknown_dim_allowed:
        if not isinstance(shapes, (list, tuple)) or not shapes or \
                any(shape is None or isinstance(shape, int) for shape in shapes):
            raise ValueError("When providing partial shapes, a list of shapes must be provided.")
    if shapes is None:
        return None
    if isinstance(shapes, _ts.TensorShape):
        shapes = [shapes]
    if not isinstance(shapes, (tuple, list)):
        raise TypeError(f"Shapes must be a TensorShape or a list or tuple of TensorShapes, got {type(shapes)} "
                        "instead.")
    if all(shape is None or isinstance(shape, int) for shape in shapes):
        shapes = [shapes]  # a single shape given as a list of dims
    shapes = [_ts.as_shape(shape) for shape in shapes]
    if not unknown_dim_allowed and any(not shape.is_fully_defined() for shape in shapes):
        raise ValueError(f"All shapes must be fully defined: {shapes}")
    if any(shape.ndims is None for shape in shapes):
        raise ValueError(f"All shapes must have a defined rank: {shapes}")
    return shapes


def _as_name_list(names, dtypes) -> Optional[list]:
    if names is None:
        return None
    if not isinstance(names, (list, tuple)):
        names = [names]
    if len(names) != len(dtypes):
        raise ValueError(f"List of names must have the same length as the list of dtypes, received "
                         f"len(names)={len(names)},len(dtypes)={len(dtypes)}")
    return list(names)


def _queue_op(op_type: str, attrs: dict, name: str) -> _ops.Tensor:
    """The queue's resource op, created outside any control-dependency scope (TF's `init_scope`)."""
    graph = _ops.get_default_graph()
    with graph.control_dependencies(None):
        return apply_op(op_type, [], attrs, name=name)


# ------------------------------------------------------------------------------------------------
# QueueBase
# ------------------------------------------------------------------------------------------------
class QueueBase:
    """`tf.QueueBase`: the operations every queue supports (enqueue, dequeue, close, size …)."""

    def __init__(self, dtypes, shapes, names, queue_ref: _ops.Tensor):
        self._dtypes = dtypes
        if shapes is not None:
            if len(shapes) != len(dtypes):
                raise ValueError(f"Queue shapes must have the same length as dtypes, received "
                                 f"len(shapes)={len(shapes)}, len(dtypes)={len(dtypes)}")
            self._shapes = [_ts.TensorShape(s) for s in shapes]
        else:
            self._shapes = [_ts.unknown_shape() for _ in self._dtypes]
        if names is not None:
            if len(names) != len(dtypes):
                raise ValueError(f"Queue names must have the same length as dtypes,received "
                                 f"len(names)={len(names)},len {len(dtypes)}")
            self._names = names
        else:
            self._names = None
        self._queue_ref = queue_ref
        self._name = queue_ref.op.name.split("/")[-1]

    @staticmethod
    def from_list(index, queues):
        raise NotImplementedError("tf.QueueBase.from_list (selecting a queue by a run-time index) is not "
                                  "supported by graphcompat")

    @property
    def queue_ref(self) -> _ops.Tensor:
        return self._queue_ref

    @property
    def name(self) -> str:
        return self._queue_ref.op.name

    @property
    def dtypes(self) -> list:
        return self._dtypes

    @property
    def shapes(self) -> list:
        return self._shapes

    @property
    def names(self):
        return self._names

    def _check_enqueue_dtypes(self, vals) -> list:
        if isinstance(vals, dict):
            if not self._names:
                raise ValueError("Queue must have names to enqueue a dictionary")
            if sorted(self._names, key=str) != sorted(vals.keys(), key=str):
                raise ValueError(f"Keys in dictionary to enqueue do not match names of Queue.  Dictionary: "
                                 f"{sorted(vals.keys())},Queue: {sorted(self._names)}")
            vals = [vals[k] for k in self._names]
        else:
            if self._names:
                raise ValueError("You must enqueue a dictionary in a Queue with names")
            if not isinstance(vals, (list, tuple)):
                vals = [vals]
        # zip: like TF, extra values are ignored and missing ones fail at run time (MatchSignature)
        return [convert_to_tensor(val, dtype=dtype, name=f"component_{i}")
                for i, (val, dtype) in enumerate(zip(vals, self._dtypes))]

    @staticmethod
    def _scope_vals(vals):
        if isinstance(vals, (list, tuple)):
            return vals
        if isinstance(vals, dict):
            return list(vals.values())
        return [vals]

    def enqueue(self, vals, name=None) -> _ops.Operation:
        """Enqueues one element (a tuple of tensors, one per component); blocks while the queue is full."""
        with _ops.name_scope(name, f"{self._name}_enqueue", self._scope_vals(vals)) as scope:
            vals = self._check_enqueue_dtypes(vals)
            for val, shape in zip(vals, self._shapes):
                val.get_shape().assert_is_compatible_with(shape)
            return apply_op("QueueEnqueueV2", [self._queue_ref, vals], name=scope)

    def enqueue_many(self, vals, name=None) -> _ops.Operation:
        """Enqueues the slices along dimension 0 of each component as separate elements."""
        with _ops.name_scope(name, f"{self._name}_EnqueueMany", self._scope_vals(vals)) as scope:
            vals = self._check_enqueue_dtypes(vals)
            batch_dim = _ts.Dimension(vals[0].get_shape().with_rank_at_least(1)[0])
            for val, shape in zip(vals, self._shapes):
                val_batch_dim = _ts.Dimension(val.get_shape().with_rank_at_least(1)[0])
                batch_dim = batch_dim.merge_with(val_batch_dim)
                val.get_shape()[1:].assert_is_compatible_with(shape)
            return apply_op("QueueEnqueueManyV2", [self._queue_ref, vals], name=scope)

    def _dequeue_return_value(self, tensors):
        if self._names:
            return {n: tensors[i] for i, n in enumerate(self._names)}
        if len(tensors) == 1:
            return tensors[0]
        return tensors

    def _outputs(self, out) -> list:
        return out if isinstance(out, list) else [out]

    def dequeue(self, name=None):
        """Dequeues one element; blocks until one is available (OutOfRangeError once closed and empty)."""
        out = self._outputs(apply_op("QueueDequeueV2", [self._queue_ref], {"component_types": self._dtypes},
                                     name=name or f"{self._name}_Dequeue"))
        for output, shape in zip(out, self._shapes):
            output.set_shape(shape)
        return self._dequeue_return_value(out)

    def dequeue_many(self, n, name=None):
        """Dequeues and concatenates `n` elements; blocks until `n` are available."""
        out = self._outputs(apply_op("QueueDequeueManyV2", [self._queue_ref, n],
                                     {"component_types": self._dtypes}, name=name or f"{self._name}_DequeueMany"))
        batch_dim = _ts.Dimension(_const_int(out[0].op.inputs[1]))
        for output, shape in zip(out, self._shapes):
            output.set_shape(_ts.TensorShape([batch_dim]).concatenate(shape))
        return self._dequeue_return_value(out)

    def dequeue_up_to(self, n, name=None):
        """Like `dequeue_many`, but once the queue is closed returns the (fewer than `n`) remaining elements."""
        out = self._outputs(apply_op("QueueDequeueUpToV2", [self._queue_ref, n],
                                     {"component_types": self._dtypes}, name=name or f"{self._name}_DequeueUpTo"))
        for output, shape in zip(out, self._shapes):
            output.set_shape(_ts.TensorShape([None]).concatenate(shape))
        return self._dequeue_return_value(out)

    def close(self, cancel_pending_enqueues: bool = False, name=None) -> _ops.Operation:
        """Closes the queue: later enqueues fail, dequeues drain what is left, then raise OutOfRangeError."""
        return apply_op("QueueCloseV2", [self._queue_ref], {"cancel_pending_enqueues": bool(cancel_pending_enqueues)},
                        name=name or f"{self._name}_Close")

    def is_closed(self, name=None) -> _ops.Tensor:
        return apply_op("QueueIsClosedV2", [self._queue_ref], name=name or f"{self._name}_Is_Closed")

    def size(self, name=None) -> _ops.Tensor:
        return apply_op("QueueSizeV2", [self._queue_ref], name=name or f"{self._name}_Size")


def _const_int(t: _ops.Tensor):
    value = constant_value(t)
    return None if value is None else int(value)


def _shared_name(shared_name) -> str:
    return shared_name or ""


class FIFOQueue(QueueBase):
    """`tf.FIFOQueue(capacity, dtypes, shapes=None, names=None, shared_name=None, name='fifo_queue')`."""

    def __init__(self, capacity, dtypes, shapes=None, names=None, shared_name=None, name="fifo_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes)
        names = _as_name_list(names, dtypes)
        with _ops.get_default_graph().device("/device:CPU:*"):
            queue_ref = _queue_op("FIFOQueueV2", {"component_types": dtypes, "shapes": shapes or [],
                                                  "capacity": int(capacity),
                                                  "shared_name": _shared_name(shared_name)}, name)
        super().__init__(dtypes, shapes, names, queue_ref)


class PaddingFIFOQueue(QueueBase):
    """`tf.PaddingFIFOQueue(capacity, dtypes, shapes, …)`: `dequeue_many` pads unknown dims with zeros."""

    def __init__(self, capacity, dtypes, shapes, names=None, shared_name=None, name="padding_fifo_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, unknown_dim_allowed=True)
        names = _as_name_list(names, dtypes)
        if len(dtypes) != len(shapes):
            raise ValueError(f"Shapes must be provided for all components, but received {len(dtypes)} dtypes "
                             f"and {len(shapes)} shapes.")
        queue_ref = _queue_op("PaddingFIFOQueueV2", {"component_types": dtypes, "shapes": shapes,
                                                     "capacity": int(capacity),
                                                     "shared_name": _shared_name(shared_name)}, name)
        super().__init__(dtypes, shapes, names, queue_ref)


class RandomShuffleQueue(QueueBase):
    """`tf.RandomShuffleQueue(capacity, min_after_dequeue, dtypes, …, seed=None)`: dequeues in random order,
    keeping at least `min_after_dequeue` elements until closed."""

    def __init__(self, capacity, min_after_dequeue, dtypes, shapes=None, names=None, seed=None, shared_name=None,
                 name="random_shuffle_queue"):
        from graphcompat.ops.random_ops import get_seed
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes)
        names = _as_name_list(names, dtypes)
        seed1, seed2 = get_seed(seed)
        if seed1 is None and seed2 is None:
            seed1, seed2 = 0, 0
        elif seed is None and shared_name is not None:
            # TF: a shared queue with only a graph seed gets an op seed derived from its shared name.
            digest = hashlib.md5((str(seed1) + shared_name).encode("utf-8")).hexdigest()
            seed2 = int(digest[:8], 16) & 0x7FFFFFFF
        queue_ref = _queue_op("RandomShuffleQueueV2", {
            "component_types": dtypes, "shapes": shapes or [], "capacity": int(capacity),
            "min_after_dequeue": int(min_after_dequeue), "seed": int(seed1), "seed2": int(seed2),
            "shared_name": _shared_name(shared_name)}, name)
        super().__init__(dtypes, shapes, names, queue_ref)


class PriorityQueue(QueueBase):
    """`tf.PriorityQueue(capacity, types, shapes=None, …)`: elements are `(int64 priority, *components)`,
    dequeued smallest priority first."""

    def __init__(self, capacity, types, shapes=None, names=None, shared_name=None, name="priority_queue"):
        types = _as_type_list(types)
        shapes = _as_shape_list(shapes)
        queue_ref = _queue_op("PriorityQueueV2", {"component_types": types, "shapes": shapes or [],
                                                  "capacity": int(capacity),
                                                  "shared_name": _shared_name(shared_name)}, name)
        priority_dtypes = [_dt.int64] + types
        priority_shapes = [()] + shapes if shapes else shapes
        super().__init__(priority_dtypes, priority_shapes, names, queue_ref)


# TF's data_flow_ops.py holds the staging areas and the barrier too (graphcompat/ops/staging_ops.py)
from graphcompat.ops.staging_ops import Barrier, BaseStagingArea, MapStagingArea, StagingArea  # noqa: E402,F401
