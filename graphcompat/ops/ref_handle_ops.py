"""TF 1's ref-handle op types of stateful resources: lookup tables, queues, readers, stacks, ref variables.

Graphs written by TF 1.0-1.15 (frozen .pb files, meta graphs, SavedModels of that time) hold the first
versions of these op types, whose resource handle is a `Ref(string)` tensor (a two-element string vector
naming the resource's container and name, hence TF's `[2]` handle shape) where the V2 types TF's Python
records today pass a scalar `resource`. graphcompat's own builders record the V2 types, as TF's Python
does; these entries exist so that `tf.import_graph_def` / `import_meta_graph` of an old graph works.

Every entry is TF's REGISTER_OP: op type, argument names and types, attr defaults (op_def_registry of
`tensorflow.compat.v1`), and TF's shape functions (which, for the consumers of a V1 handle, mostly
return unknown shapes: the queue's or table's shapes travel only with V2 resource handles). They are
marked stateful like their V2 kernels (TF's OpDefs leave the consumers unmarked: their ref input is what
orders them; graphcompat's importer and folder read `stateful` as "running it twice differs").

A V1 handle names the same session resource as a V2 handle would, so each op type runs its V2 type's
kernel (lowering/rules/ref_handles.py, `lowering.registry.lowers_as`): no kernel is written twice.
`Variable` is VariableV2 under its first name; `TemporaryVariable` / `DestroyTemporaryVariable` are a
variable that lives for one run (TF's accumulate_n of TF 1.0-1.4 sums into one).
"""
from __future__ import annotations

from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, defop, no_outputs, scalar_shape


def _handle_shape(ctx: InferenceContext):
    """TF's TwoElementOutput: a V1 handle is the string pair (container, name)."""
    return [_ts.TensorShape([2])]


def _unknown_outputs(ctx: InferenceContext):
    return [_ts.unknown_shape()] * len(ctx.output_dtypes)


def _variable_shape(ctx: InferenceContext):
    return [_ts.as_shape(ctx.attrs["shape"])]


def _find_shape(ctx: InferenceContext):
    default = ctx.shape(2)
    if default.ndims is not None and default.ndims > 1:  # TF: "Default value must be scalar or vector."
        raise ctx.error(f"Shape must be at most rank 1 but is rank {default.ndims}")
    return [_ts.unknown_shape()]


_SHARED = {"container": "", "shared_name": ""}

# --- lookup tables (TF's lookup_ops.cc) --------------------------------------------------------------
_TABLE = dict(_SHARED, use_node_name_sharing=False)
defop("HashTable", "-> table_handle: Ref(string)", attrs=dict(_TABLE), shape=_handle_shape, stateful=True)
defop("MutableHashTable", "-> table_handle: Ref(string)", attrs=dict(_TABLE), shape=_handle_shape, stateful=True)
defop("MutableHashTableOfTensors", "-> table_handle: Ref(string)", attrs=dict(_TABLE, value_shape=_ts.TensorShape([])),
      shape=_handle_shape, stateful=True)
defop("MutableDenseHashTable", "empty_key: key_dtype -> table_handle: Ref(string)",
      attrs=dict(_TABLE, value_shape=_ts.TensorShape([]), initial_num_buckets=131072, max_load_factor=0.8),
      shape=_handle_shape, stateful=True)
defop("LookupTableFind", "table_handle: Ref(string), keys: Tin, default_value: Tout -> values: Tout",
      shape=_find_shape, stateful=True)
defop("LookupTableInsert", "table_handle: Ref(string), keys: Tin, values: Tout ->", shape=no_outputs, stateful=True)
defop("LookupTableSize", "table_handle: Ref(string) -> size: int64", shape=scalar_shape, stateful=True)
defop("LookupTableExport", "table_handle: Ref(string) -> keys: Tkeys, values: Tvalues",
      shape=lambda ctx: [_ts.TensorShape([None]), _ts.unknown_shape()], stateful=True)
defop("LookupTableImport", "table_handle: Ref(string), keys: Tin, values: Tout ->", shape=no_outputs, stateful=True)
defop("InitializeTable", "table_handle: Ref(string), keys: Tkey, values: Tval ->", shape=no_outputs, stateful=True)
defop("InitializeTableFromTextFile", "table_handle: Ref(string), filename: string ->",
      attrs={"vocab_size": -1, "delimiter": "\t", "offset": 0}, shape=no_outputs, stateful=True)

# --- queues (TF's data_flow_ops.cc) ----------------------------------------------------------------
_QUEUE = dict(_SHARED, shapes=[], capacity=-1)
defop("FIFOQueue", "-> handle: Ref(string)", attrs=dict(_QUEUE), shape=_handle_shape, stateful=True)
defop("PaddingFIFOQueue", "-> handle: Ref(string)", attrs=dict(_QUEUE), shape=_handle_shape, stateful=True)
defop("RandomShuffleQueue", "-> handle: Ref(string)", attrs=dict(_QUEUE, min_after_dequeue=0, seed=0, seed2=0),
      shape=_handle_shape, stateful=True)
defop("PriorityQueue", "-> handle: Ref(string)", attrs=dict(_SHARED, component_types=[], capacity=-1),
      shape=_handle_shape, stateful=True)
# a V2 queue's resource seen through a V1 handle (TF: "Deprecated. Do not use.")
defop("FakeQueue", "resource: resource -> handle: Ref(string)", shape=_handle_shape, stateful=True)
defop("QueueEnqueue", "handle: Ref(string), components: *Tcomponents ->", attrs={"timeout_ms": -1},
      shape=no_outputs, stateful=True)
defop("QueueEnqueueMany", "handle: Ref(string), components: *Tcomponents ->", attrs={"timeout_ms": -1},
      shape=no_outputs, stateful=True)
defop("QueueDequeue", "handle: Ref(string) -> components: *component_types", attrs={"timeout_ms": -1},
      shape=_unknown_outputs, stateful=True)
defop("QueueDequeueMany", "handle: Ref(string), n: int32 -> components: *component_types",
      attrs={"timeout_ms": -1}, shape=_unknown_outputs, stateful=True)
defop("QueueDequeueUpTo", "handle: Ref(string), n: int32 -> components: *component_types",
      attrs={"timeout_ms": -1}, shape=_unknown_outputs, stateful=True)
defop("QueueClose", "handle: Ref(string) ->", attrs={"cancel_pending_enqueues": False}, shape=no_outputs,
      stateful=True)
defop("QueueSize", "handle: Ref(string) -> size: int32", shape=scalar_shape, stateful=True)
defop("QueueIsClosed", "handle: Ref(string) -> is_closed: bool", shape=scalar_shape, stateful=True)

# --- readers (TF's io_ops.cc; all but WholeFileReader are deprecated since GraphDef version 26) -------
defop("WholeFileReader", "-> reader_handle: Ref(string)", attrs=dict(_SHARED), shape=_handle_shape, stateful=True)
defop("IdentityReader", "-> reader_handle: Ref(string)", attrs=dict(_SHARED), shape=_handle_shape, stateful=True)
defop("TextLineReader", "-> reader_handle: Ref(string)", attrs=dict(_SHARED, skip_header_lines=0),
      shape=_handle_shape, stateful=True)
defop("TFRecordReader", "-> reader_handle: Ref(string)", attrs=dict(_SHARED, compression_type=""),
      shape=_handle_shape, stateful=True)
defop("FixedLengthRecordReader", "-> reader_handle: Ref(string)",
      attrs=dict(_SHARED, header_bytes=0, footer_bytes=0, hop_bytes=0), shape=_handle_shape, stateful=True)
defop("ReaderRead", "reader_handle: Ref(string), queue_handle: Ref(string) -> key: string, value: string",
      shape=lambda ctx: [_ts.TensorShape([])] * 2, stateful=True)
defop("ReaderReadUpTo",
      "reader_handle: Ref(string), queue_handle: Ref(string), num_records: int64 -> keys: string, values: string",
      shape=lambda ctx: [_ts.TensorShape([None])] * 2, stateful=True)
defop("ReaderNumRecordsProduced", "reader_handle: Ref(string) -> records_produced: int64", shape=scalar_shape,
      stateful=True)
defop("ReaderNumWorkUnitsCompleted", "reader_handle: Ref(string) -> units_completed: int64", shape=scalar_shape,
      stateful=True)
defop("ReaderSerializeState", "reader_handle: Ref(string) -> state: string", shape=scalar_shape, stateful=True)
defop("ReaderRestoreState", "reader_handle: Ref(string), state: string ->", shape=no_outputs, stateful=True)
defop("ReaderReset", "reader_handle: Ref(string) ->", shape=no_outputs, stateful=True)

# --- variables (TF's state_ops.cc) -----------------------------------------------------------------
defop("Variable", "-> ref: Ref(dtype)", attrs=dict(_SHARED), shape=_variable_shape, stateful=True)
defop("TemporaryVariable", "-> ref: Ref(dtype)", attrs={"var_name": ""}, shape=_variable_shape, stateful=True)
defop("DestroyTemporaryVariable", "ref: Ref(T) -> value: T", shape=lambda ctx: [ctx.shape(0)], stateful=True)

# --- stacks (TF's data_flow_ops.cc; StackV2 adds the max_size input) --------------------------------
defop("Stack", "-> handle: Ref(string)", attrs={"elem_type": None, "stack_name": ""}, shape=_handle_shape,
      stateful=True)
defop("StackPush", "handle: Ref(string), elem: T -> output: T", attrs={"swap_memory": False},
      shape=lambda ctx: [ctx.shape(1)], stateful=True)
defop("StackPop", "handle: Ref(string) -> elem: elem_type", attrs={"elem_type": None}, shape=_unknown_outputs,
      stateful=True)
defop("StackClose", "handle: Ref(string) ->", shape=no_outputs, stateful=True)
