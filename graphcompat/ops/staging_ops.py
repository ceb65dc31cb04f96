"""Staging areas and barriers: `StagingArea`, `MapStagingArea`, `Barrier` (TF's data_flow_ops.py).

A staging area has no handle: every op (`Stage`, `Unstage`, `MapStage` …) names its buffer by its
`shared_name` attr (the Python object's name), as TF's kernels look it up in the session's resource
manager. A `Barrier` is a ref-handle resource (`Barrier` -> `Ref(string)` of shape [2]) like TF 1's queues.
The builders name ops, check arguments and colocate exactly as TF's data_flow_ops.py. The buffers live
in the Session and may block until another thread's run makes progress: lowering/rules/staging.py.
"""
from __future__ import annotations

import collections
import operator

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.framework.registry import apply_op, defop, no_outputs, scalar_shape


def _unknown_outputs(ctx):
    return [_ts.unknown_shape()] * len(ctx.output_dtypes)


def _handle_shape(ctx):
    return [_ts.TensorShape([2])]


# --- TF's REGISTER_OPs (data_flow_ops.cc) ---------------------------------------------------------
_STAGE_ATTRS = {"capacity": 0, "memory_limit": 0, "container": "", "shared_name": ""}
defop("Stage", "values: *dtypes ->", attrs=dict(_STAGE_ATTRS), shape=no_outputs, stateful=True)
defop("Unstage", "-> values: *dtypes", attrs=dict(_STAGE_ATTRS), shape=_unknown_outputs, stateful=True)
defop("StagePeek", "index: int32 -> values: *dtypes", attrs=dict(_STAGE_ATTRS), shape=_unknown_outputs,
      stateful=True)
defop("StageSize", "-> size: int32", attrs=dict(_STAGE_ATTRS, dtypes=[]), shape=scalar_shape, stateful=True)
defop("StageClear", "->", attrs=dict(_STAGE_ATTRS, dtypes=[]), shape=no_outputs, stateful=True)

for _prefix in ("", "Ordered"):
    defop(f"{_prefix}MapStage", "key: int64, indices: int32, values: *fake_dtypes ->",
          attrs=dict(_STAGE_ATTRS, dtypes=[]), shape=no_outputs, stateful=True)
    defop(f"{_prefix}MapPeek", "key: int64, indices: int32 -> values: *dtypes", attrs=dict(_STAGE_ATTRS),
          shape=_unknown_outputs, stateful=True)
    defop(f"{_prefix}MapUnstage", "key: int64, indices: int32 -> values: *dtypes", attrs=dict(_STAGE_ATTRS),
          shape=_unknown_outputs, stateful=True)
    defop(f"{_prefix}MapUnstageNoKey", "indices: int32 -> key: int64, values: *dtypes", attrs=dict(_STAGE_ATTRS),
          shape=_unknown_outputs, stateful=True)
    defop(f"{_prefix}MapSize", "-> size: int32", attrs=dict(_STAGE_ATTRS, dtypes=[]), shape=scalar_shape,
          stateful=True)
    defop(f"{_prefix}MapIncompleteSize", "-> size: int32", attrs=dict(_STAGE_ATTRS, dtypes=[]),
          shape=scalar_shape, stateful=True)
    defop(f"{_prefix}MapClear", "->", attrs=dict(_STAGE_ATTRS, dtypes=[]), shape=no_outputs, stateful=True)

defop("Barrier", "-> handle: Ref(string)",
      attrs={"shapes": [], "capacity": -1, "container": "", "shared_name": ""}, shape=_handle_shape, stateful=True)
defop("BarrierInsertMany", "handle: Ref(string), keys: string, values: T ->", shape=no_outputs, stateful=True)
defop("BarrierTakeMany", "handle: Ref(string), num_elements: int32 -> indices: int64, keys: string, "
      "values: *component_types",
      attrs={"allow_small_batch": False, "wait_for_incomplete": False, "timeout_ms": -1},
      shape=_unknown_outputs, stateful=True)
defop("BarrierClose", "handle: Ref(string) ->", attrs={"cancel_pending_enqueues": False}, shape=no_outputs,
      stateful=True)
defop("BarrierReadySize", "handle: Ref(string) -> size: int32", shape=scalar_shape, stateful=True)
defop("BarrierIncompleteSize", "handle: Ref(string) -> size: int32", shape=scalar_shape, stateful=True)


def _outputs(out) -> list:
    """An op's outputs as one flat list (apply_op nests a list-typed output such as `values: *dtypes`)."""
    if out is None:
        return []
    if not isinstance(out, (list, tuple)):
        return [out]
    flat = []
    for o in out:
        flat.extend(o if isinstance(o, (list, tuple)) else [o])
    return flat


# ------------------------------------------------------------------------------------------------
# Staging areas
# ------------------------------------------------------------------------------------------------
class BaseStagingArea:
    """TF's BaseStagingArea: dtypes/shapes/names, capacity and memory limit, and the NoOp every put and
    get colocates with (`<name>_root/NoOp`)."""

    def __init__(self, dtypes, shapes=None, names=None, shared_name=None, capacity: int = 0,
                 memory_limit: int = 0):
        if shared_name is None:
            self._name = _ops.get_default_graph().unique_name(self.__class__.__name__)
        elif isinstance(shared_name, str):
            self._name = shared_name
        else:
            raise ValueError(f"shared_name must be a string, got {shared_name}")
        self._dtypes = dtypes
        if shapes is not None:
            if len(shapes) != len(dtypes):
                raise ValueError("StagingArea shapes must be the same length as dtypes")
            self._shapes = [_ts.TensorShape(s) for s in shapes]
        else:
            self._shapes = [_ts.unknown_shape() for _ in self._dtypes]
        if names is not None:
            if len(names) != len(dtypes):
                raise ValueError("StagingArea names must be the same length as dtypes")
            self._names = names
        else:
            self._names = None
        self._capacity = capacity
        self._memory_limit = memory_limit
        from graphcompat.ops.control_ops import no_op
        with _ops.name_scope(f"{self._name}_root"):
            self._coloc_op = no_op()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dtypes(self) -> list:
        return self._dtypes

    @property
    def shapes(self) -> list:
        return self._shapes

    @property
    def names(self):
        return self._names

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def memory_limit(self) -> int:
        return self._memory_limit

    def _attrs(self, **extra) -> dict:
        attrs = {"shared_name": self._name, "capacity": int(self._capacity), "memory_limit": int(self._memory_limit)}
        attrs.update(extra)
        return attrs

    def _check_put_dtypes(self, vals, indices=None):
        """TF's checks of a put: names vs dict keys, indices, dtypes (ValueError) and static shapes."""
        if isinstance(vals, dict):
            if not self._names:
                raise ValueError("Staging areas must have names to enqueue a dictionary")
            if not set(vals.keys()).issubset(self._names):
                raise ValueError(f"Keys in dictionary to put do not match names of staging area. Dictionary: "
                                 f"{sorted(vals.keys())}Queue: {sorted(self._names)}")
            vals, indices, _ = zip(*[(vals[k], i, k) for i, k in enumerate(self._names) if k in vals])
        else:
            if self._names:
                raise ValueError("You must enqueue a dictionary in a staging area with names")
            if indices is None:
                raise ValueError("Indices must be supplied when inserting a list of tensors")
            if len(indices) != len(vals):
                raise ValueError(f"Number of indices {len(indices)} doesn't match number of values {len(vals)}")
            if not isinstance(vals, (list, tuple)):
                vals = [vals]
                indices = [0]
        if not len(vals) <= len(self._dtypes):
            raise ValueError(f"Unexpected number of inputs {len(vals)} vs {len(self._dtypes)}")
        tensors = []
        for val, i in zip(vals, indices):
            dtype, shape = self._dtypes[i], self._shapes[i]
            # TF reads `val.dtype` before any conversion: a Python value fails with AttributeError there too
            if val.dtype != dtype:
                raise ValueError(f"Datatypes do not match. Received val.dtype {str(val.dtype)} and dtype "
                                 f"{str(_dt.as_dtype(dtype))}")
            val.get_shape().assert_is_compatible_with(shape)
            tensors.append(convert_to_tensor(val, dtype=dtype, name=f"component_{i}"))
        return tensors, indices

    def _create_device_transfers(self, tensors) -> list:
        """An Identity per tensor when the current device scope is not the staging area's (TF)."""
        from graphcompat.ops.array_ops import identity
        from graphcompat.ops.control_ops import no_op
        if not isinstance(tensors, (tuple, list)):
            tensors = [tensors]
        if no_op().device != self._coloc_op.device:
            tensors = [identity(t) for t in tensors]
        return list(tensors)

    def _get_return_value(self, tensors, indices):
        tensors = self._create_device_transfers(tensors)
        for output, i in zip(tensors, indices):
            output.set_shape(self._shapes[i])
        if self._names:
            return {self._names[i]: t for t, i in zip(tensors, indices)}
        return tensors

    @staticmethod
    def _scope_vals(vals):
        if isinstance(vals, (list, tuple)):
            return vals
        if isinstance(vals, dict):
            return list(vals.values())
        return [vals]


class StagingArea(BaseStagingArea):
    """`tf.contrib.staging.StagingArea`: a FIFO buffer of tuples that persists across runs; `put` blocks
    at `capacity` elements or `memory_limit` bytes, `get`/`peek` block until the element exists."""

    def __init__(self, dtypes, shapes=None, names=None, shared_name=None, capacity: int = 0,
                 memory_limit: int = 0):
        super().__init__(dtypes, shapes, names, shared_name, capacity, memory_limit)

    def put(self, values, name=None) -> _ops.Operation:
        with _ops.name_scope(name, f"{self._name}_put", self._scope_vals(values)) as scope:
            if not isinstance(values, (list, tuple, dict)):
                values = [values]
            indices = list(range(len(values)))
            vals, _ = self._check_put_dtypes(values, indices)
            with _ops.colocate_with(self._coloc_op):
                return apply_op("Stage", [vals], self._attrs(), name=scope)

    def _internal_get(self, op_type: str, inputs: list, name: str):
        with _ops.colocate_with(self._coloc_op):
            ret = _outputs(apply_op(op_type, inputs, self._attrs(dtypes=list(self._dtypes)), name=name))
        return self._get_return_value(ret, list(range(len(self._dtypes))))

    def get(self, name=None):
        """Removes and returns the oldest element; blocks while the area is empty."""
        return self._internal_get("Unstage", [], name or f"{self._name}_get")

    def peek(self, index, name=None):
        """The element at `index` (0 = oldest) without removing it; blocks until it exists."""
        name = name or f"{self._name}_peek"
        with _ops.colocate_with(self._coloc_op):
            ret = _outputs(apply_op("StagePeek", [index], self._attrs(dtypes=list(self._dtypes)), name=name))
        return self._get_return_value(ret, list(range(len(self._dtypes))))

    def size(self, name=None) -> _ops.Tensor:
        return apply_op("StageSize", [], self._attrs(dtypes=list(self._dtypes)), name=name or f"{self._name}_size")

    def clear(self, name=None) -> _ops.Operation:
        return apply_op("StageClear", [], self._attrs(dtypes=list(self._dtypes)), name=name or f"{self._name}_clear")


class MapStagingArea(BaseStagingArea):
    """`data_flow_ops.MapStagingArea`: int64 key -> tuple; partial puts wait in an incomplete map until
    every component is there; `ordered=True` hands out the smallest key first."""

    def __init__(self, dtypes, shapes=None, names=None, shared_name=None, ordered: bool = False,
                 capacity: int = 0, memory_limit: int = 0):
        super().__init__(dtypes, shapes, names, shared_name, capacity, memory_limit)
        self._ordered = ordered
        self._prefix = "Ordered" if ordered else ""

    def put(self, key, vals, indices=None, name=None) -> _ops.Operation:
        with _ops.name_scope(name, f"{self._name}_put", self._scope_vals(vals)) as scope:
            vals, indices = self._check_put_dtypes(vals, indices)
            with _ops.colocate_with(self._coloc_op):
                return apply_op(f"{self._prefix}MapStage", [key, list(indices), vals],
                                self._attrs(dtypes=list(self._dtypes)), name=scope)

    def _get_indices_and_dtypes(self, indices=None):
        if indices is None:
            indices = list(range(len(self._dtypes)))
        if not isinstance(indices, (tuple, list)):
            raise TypeError(f"Invalid indices type {type(indices)}")
        if len(indices) == 0:
            raise ValueError("Empty indices")
        if all(isinstance(i, str) for i in indices):
            if self._names is None:
                raise ValueError(f"String indices provided {indices}, but this Staging Area was not created with "
                                 "names.")
            try:
                indices = [self._names.index(n) for n in indices]
            except ValueError:
                raise ValueError(f"Named index not in Staging Area names {self._names}") from None
        elif all(isinstance(i, int) for i in indices):
            pass
        else:
            raise TypeError(f"Mixed types in indices {indices}. May only be str or int")
        return indices, [self._dtypes[i] for i in indices]

    def _read(self, op_type: str, inputs: list, indices, name: str):
        indices, dtypes = self._get_indices_and_dtypes(indices)
        with _ops.colocate_with(self._coloc_op):
            out = _outputs(apply_op(f"{self._prefix}{op_type}", inputs + [list(indices)],
                                    self._attrs(dtypes=list(dtypes)), name=name))
        return indices, out

    def peek(self, key, indices=None, name=None):
        """The components of `key` without removing them; blocks until the key is complete."""
        indices, out = self._read("MapPeek", [key], indices, name or f"{self._name}_pop")
        return self._get_return_value(out, indices)

    def get(self, key=None, indices=None, name=None):
        """`get(key)` pops that key (blocking until it is there); `get()` pops the smallest (ordered) or any
        key and returns `(key, values)`."""
        if key is None:
            return self._popitem(indices=indices, name=name)
        return self._pop(key, indices=indices, name=name)

    def _pop(self, key, indices=None, name=None):
        indices, out = self._read("MapUnstage", [key], indices, name or f"{self._name}_get")
        return key, self._get_return_value(out, indices)

    def _popitem(self, indices=None, name=None):
        indices, out = self._read("MapUnstageNoKey", [], indices, name or f"{self._name}_get_nokey")
        key = self._create_device_transfers(out[0])[0]
        return key, self._get_return_value(out[1:], indices)

    def _scalar_op(self, verb: str, name: str):
        return apply_op(f"{self._prefix}Map{verb}", [], self._attrs(dtypes=list(self._dtypes)), name=name)

    def size(self, name=None) -> _ops.Tensor:
        return self._scalar_op("Size", name or f"{self._name}_size")

    def incomplete_size(self, name=None) -> _ops.Tensor:
        return self._scalar_op("IncompleteSize", name or f"{self._name}_incomplete_size")

    def clear(self, name=None) -> _ops.Operation:
        return self._scalar_op("Clear", name or f"{self._name}_clear")


# ------------------------------------------------------------------------------------------------
# Barrier
# ------------------------------------------------------------------------------------------------
class Barrier:
    """`data_flow_ops.Barrier`: string key -> tuple, filled component by component (`insert_many`); complete
    tuples are taken in the order their key first arrived (`take_many`)."""

    def __init__(self, types, shapes=None, shared_name=None, name: str = "barrier"):
        from graphcompat.ops.data_flow_ops import _as_shape_list, _as_type_list
        self._types = _as_type_list(types)
        if shapes is not None:
            shapes = _as_shape_list(shapes)
            self._shapes = [_ts.TensorShape(s) for s in shapes]
            for i, shape in enumerate(self._shapes):
                if shape.num_elements() == 0:
                    raise ValueError(f"Empty tensors are not supported, but received shape '{shape}' at index {i}")
        else:
            self._shapes = [_ts.unknown_shape() for _ in self._types]
        self._barrier_ref = apply_op("Barrier", [], {"component_types": self._types, "shapes": self._shapes,
                                                     "shared_name": shared_name or ""}, name=name)
        self._name = self._barrier_ref.op.name.split("/")[-1]

    def _on_ref(self, out):
        """TF's op_def_library colocates an op (not its converted inputs) with the producer of its ref input:
        `_class: loc:@barrier` and the barrier's device."""
        op = out if isinstance(out, _ops.Operation) else _outputs(out)[0].op
        op._attrs.setdefault("_class", [f"loc:@{self._barrier_ref.op.name}"])
        if self._barrier_ref.op.device:
            op._device = self._barrier_ref.op.device
        return out

    @property
    def barrier_ref(self) -> _ops.Tensor:
        return self._barrier_ref

    @property
    def name(self) -> str:
        return self._barrier_ref.op.name

    def insert_many(self, component_index: int, keys, values, name=None) -> _ops.Operation:
        """Sets component `component_index` of each key's tuple (values' first dimension runs over keys)."""
        return self._on_ref(apply_op("BarrierInsertMany", [self._barrier_ref, keys, values],
                                     {"component_index": int(component_index)},
                                     name=name or f"{self._name}_BarrierInsertMany"))

    def take_many(self, num_elements, allow_small_batch: bool = False, timeout=None, name=None):
        """Takes `num_elements` complete tuples: (indices, keys, values)."""
        attrs = {"component_types": self._types, "allow_small_batch": bool(allow_small_batch)}
        if timeout is not None:
            # TF's take_many passes `timeout` positionally into the op wrapper's `wait_for_incomplete` slot
            if not isinstance(timeout, bool):
                raise TypeError(f"Expected bool for argument 'wait_for_incomplete' not {timeout!r}.")
            attrs["wait_for_incomplete"] = timeout
        out = self._on_ref(apply_op("BarrierTakeMany", [self._barrier_ref, num_elements], attrs,
                                    name=name or f"{self._name}_BarrierTakeMany"))
        op = out[0].op
        if allow_small_batch:
            batch_dim = None
        else:
            value = constant_value(op.inputs[1])
            # TF's Dimension(value): operator.index, whose TypeError a non-scalar count raises
            batch_dim = None if value is None else operator.index(value)
        op.outputs[0].set_shape(_ts.TensorShape([batch_dim]))
        op.outputs[1].set_shape(_ts.TensorShape([batch_dim]))
        for output, shape in zip(op.outputs[2:], self._shapes):
            output.set_shape(_ts.TensorShape([batch_dim]).concatenate(shape))
        return BarrierTakeMany(op.outputs[0], op.outputs[1], list(op.outputs[2:]))

    def close(self, cancel_pending_enqueues: bool = False, name=None) -> _ops.Operation:
        return self._on_ref(apply_op("BarrierClose", [self._barrier_ref],
                                     {"cancel_pending_enqueues": bool(cancel_pending_enqueues)},
                                     name=name or f"{self._name}_BarrierClose"))

    def ready_size(self, name=None) -> _ops.Tensor:
        return self._on_ref(apply_op("BarrierReadySize", [self._barrier_ref],
                                     name=name or f"{self._name}_BarrierReadySize"))

    def incomplete_size(self, name=None) -> _ops.Tensor:
        return self._on_ref(apply_op("BarrierIncompleteSize", [self._barrier_ref],
                                     name=name or f"{self._name}_BarrierIncompleteSize"))


# TF's generated op wrapper returns this namedtuple
BarrierTakeMany = collections.namedtuple("BarrierTakeMany", ["indices", "keys", "values"])


__all__ = ["BaseStagingArea", "StagingArea", "MapStagingArea", "Barrier"]
