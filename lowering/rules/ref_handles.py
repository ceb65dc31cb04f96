"""Lowerings of TF 1's ref-handle op types (graphcompat/ops/ref_handle_ops.py).

A V1 handle (`Ref(string)`) and a V2 handle (`resource`) name the same kind of session resource, and
TF's kernels for the two op types are one class. So each V1 type runs its V2 type's Rule itself
(`lowers_as`): tables, queues, readers and variables behave, fail and share state exactly as the V2 ops
do. The handle a V1 op outputs flows along its `*_ref` edge as the same Python object the V2 rule
returns (a TableHandle, HostQueue, HostReader, StackHandle, or a variable's `Ref`). Two have signatures of
their own (`Stack`: StackV2 added the max_size input; `MutableDenseHashTable`: V2 added the deleted key), and
the temporary variables have no V2 type.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.interpreter import Ref
from lowering.registry import RULES, lowers, lowers_as

# lookup tables
lowers_as("HashTableV2", "HashTable")
lowers_as("MutableHashTableV2", "MutableHashTable")
lowers_as("MutableHashTableOfTensorsV2", "MutableHashTableOfTensors")
lowers_as("LookupTableFindV2", "LookupTableFind")
lowers_as("LookupTableInsertV2", "LookupTableInsert")
lowers_as("LookupTableSizeV2", "LookupTableSize")
lowers_as("LookupTableExportV2", "LookupTableExport")
lowers_as("LookupTableImportV2", "LookupTableImport")
lowers_as("InitializeTableV2", "InitializeTable")
lowers_as("InitializeTableFromTextFileV2", "InitializeTableFromTextFile")
# queues
for _queue in ("FIFOQueue", "PaddingFIFOQueue", "RandomShuffleQueue", "PriorityQueue"):
    lowers_as(f"{_queue}V2", _queue)
for _verb in ("Enqueue", "EnqueueMany", "Dequeue", "DequeueMany", "DequeueUpTo", "Close", "Size", "IsClosed"):
    lowers_as(f"Queue{_verb}V2", f"Queue{_verb}")
# readers
for _reader in ("WholeFileReader", "IdentityReader", "TextLineReader", "TFRecordReader",
                "FixedLengthRecordReader"):
    lowers_as(f"{_reader}V2", _reader)
for _verb in ("Read", "ReadUpTo", "Reset", "NumRecordsProduced", "NumWorkUnitsCompleted", "SerializeState",
              "RestoreState"):
    lowers_as(f"Reader{_verb}V2", f"Reader{_verb}")
# variables and stacks
lowers_as("VariableV2", "Variable")
lowers_as("StackPushV2", "StackPush")
lowers_as("StackPopV2", "StackPop")
lowers_as("StackCloseV2", "StackClose")


@lowers("FakeQueue", context=True, host=True)
def fake_queue(ctx, op, queue):
    """A V2 queue's resource handed to V1 consumers: the same HostQueue."""
    return queue


@lowers("MutableDenseHashTable", context=True, host=True)
def mutable_dense_hash_table(ctx, op, empty_key):
    """MutableDenseHashTableV2 before it had a deleted key (TF 1's tables could not remove keys)."""
    return RULES["MutableDenseHashTableV2"].fn(ctx, op, empty_key, None)


@lowers("Stack", context=True)
def stack(ctx, op):
    """StackV2 without a max_size input: TF 1's stacks are unbounded (StackV2's max_size -1)."""
    return RULES["StackV2"].fn(ctx, op, np.int32(-1))


def _temporary_name(op) -> str:
    return op.attrs.get("var_name") or op.name  # TF: the variable's name defaults to the op's


@lowers("TemporaryVariable", context=True)
def temporary_variable(ctx, op):
    """A variable that lives for one run (TF's per-step resource): every run starts it anew. TF hands out
    uninitialized memory, which every use assigns before reading; here it starts as zeros."""
    key = ("TemporaryVariable", _temporary_name(op))
    dtype = np.dtype(op.attrs["dtype"].as_numpy_dtype)
    shape = tuple(op.attrs["shape"].as_list())
    ctx.write(key, np.zeros(shape, dtype=object) if dtype == object else jnp.zeros(shape, dtype))
    return Ref(key, op)


@lowers("DestroyTemporaryVariable", context=True)
def destroy_temporary_variable(ctx, op, ref):
    """The final value of the temporary variable named `var_name` (TF looks it up by that name among the
    run's resources, whatever its input is: the variable's ref or an assign's output ref)."""
    name = op.attrs["var_name"]
    key = ("TemporaryVariable", name)
    if key not in ctx.state:  # no TemporaryVariable of that name ran in this run
        raise errors.NotFoundError(None, op, f"Resource __per_step_0/{name}/frame:0/iter:0/"
                                             "N10tensorflow19TemporaryVariableOp6TmpVarE does not exist.")
    return ctx.read(key, op)
