"""TF 1's ref-handle op types (graphcompat/ops/ref_handle_ops.py) in GraphDefs that real TensorFlow writes.

Each case builds a graph with real TensorFlow: `tensorflow.compat.v1`'s gen_* functions still record the V1
types (HashTable, FIFOQueue, WholeFileReader, Variable, Stack ...); the readers TF deprecated in GraphDef
version 26 (TextLineReader, TFRecordReader, FixedLengthRecordReader, IdentityReader) are recorded as V2 and
renamed in the GraphDef, whose producer version is then set before their deprecation, as TF 1.0 wrote them.
TF runs a sequence of `Session.run` steps; graphcompat imports the GraphDef and runs the same steps; every
fetched value (dtype, shape, value), every imported node's type, output dtypes and static shapes, and TF's
error class and kernel text for bad inputs must agree. Then TF imports graphcompat's own GraphDef of the
imported graph and runs the steps once more.
"""
from __future__ import annotations

import re
import types

import numpy as np
import pytest

import graphcompat as tf
from graphcompat.framework.registry import apply_op
from tests import oracle

pytestmark = pytest.mark.oracle

# V2 op types TF 1.x wrote as V1 (TF's gen_* no longer records the deprecated readers)
_RENAMED = {"FIFOQueueV2", "QueueEnqueueManyV2", "QueueCloseV2", "TextLineReaderV2", "TFRecordReaderV2",
            "FixedLengthRecordReaderV2", "IdentityReaderV2", "ReaderReadV2", "ReaderReadUpToV2", "ReaderResetV2",
            "ReaderNumRecordsProducedV2", "ReaderNumWorkUnitsCompletedV2", "ReaderSerializeStateV2",
            "ReaderRestoreStateV2", "MutableDenseHashTableV2", "LookupTableInsertV2", "LookupTableFindV2",
            "LookupTableSizeV2", "LookupTableExportV2", "LookupTableImportV2"}
OLD_PRODUCER = 21  # before GraphDef version 26, which removed the V1 readers but WholeFileReader


def _gen():
    v1 = oracle.tf1()
    v1.disable_eager_execution()
    from tensorflow.python.ops import gen_data_flow_ops, gen_io_ops, gen_lookup_ops, gen_state_ops
    return v1, types.SimpleNamespace(D=gen_data_flow_ops, IO=gen_io_ops, L=gen_lookup_ops, S=gen_state_ops)


def _as_v1(graph_def):
    """TF 1.0's GraphDef of a graph recorded with V2 readers and queues: V1 op types, V1 attrs, old producer."""
    from tensorflow.python.framework import op_def_registry
    for node in graph_def.node:
        if node.op in _RENAMED:
            node.op = node.op[:-2]
            op_def = op_def_registry.get(node.op)
            allowed = {a.name for a in op_def.attr}
            for attr in [a for a in node.attr if a not in allowed]:
                del node.attr[attr]  # FixedLengthRecordReaderV2's `encoding`
            data = [i for i in node.input if not i.startswith("^")]
            control = [i for i in node.input if i.startswith("^")]
            del node.input[:]
            node.input.extend(data[:len(op_def.input_arg)] + control)  # MutableDenseHashTableV2's deleted_key
    graph_def.versions.producer = OLD_PRODUCER
    return graph_def


# ------------------------------------------------------------------------------------------------
# Cases: build(tf1, gen, paths) records nodes by name; steps are the Session.run calls, in order;
# `post` normalizes what TF leaves in an unspecified order (a table's export, a shuffling queue).
# ------------------------------------------------------------------------------------------------
def _hash_table(tf1, g, paths):
    t = g.L.hash_table(key_dtype=tf1.string, value_dtype=tf1.int64, name="table")
    g.L.initialize_table(t, tf1.constant(["a", "b", "c"]), tf1.constant([1, 2, 3], tf1.int64), name="init")
    g.L.lookup_table_find(t, tf1.constant([["a", "x"], ["c", "b"]]), tf1.constant(-1, tf1.int64), name="find")
    g.L.lookup_table_size(t, name="size")
    g.L.lookup_table_export(t, tf1.string, tf1.int64, name="export")
    t2 = g.L.hash_table(key_dtype=tf1.int64, value_dtype=tf1.string, shared_name="names", name="ids")
    g.L.initialize_table(t2, tf1.constant([7, 8], tf1.int64), tf1.constant(["seven", "eight"]), name="init_ids")
    g.L.lookup_table_find(t2, tf1.constant([8, 9, 7], tf1.int64), tf1.constant("UNK"), name="find_ids")


def _mutable_hash_table(tf1, g, paths):
    t = g.L.mutable_hash_table(key_dtype=tf1.string, value_dtype=tf1.float32, name="table")
    g.L.lookup_table_insert(t, tf1.constant(["a", "b"]), tf1.constant([1.5, 2.5]), name="insert")
    g.L.lookup_table_insert(t, tf1.constant(["b", "c"]), tf1.constant([-2.0, 3.0]), name="insert2")
    g.L.lookup_table_find(t, tf1.constant(["a", "b", "z"]), tf1.constant(0.25), name="find")
    g.L.lookup_table_size(t, name="size")
    g.L.lookup_table_export(t, tf1.string, tf1.float32, name="export")
    g.L.lookup_table_import(t, tf1.constant(["q"]), tf1.constant([9.0]), name="import")


def _mutable_hash_table_of_tensors(tf1, g, paths):
    t = g.L.mutable_hash_table_of_tensors(key_dtype=tf1.int64, value_dtype=tf1.int32, value_shape=[2],
                                          name="table")
    g.L.lookup_table_insert(t, tf1.constant([1, 2], tf1.int64), tf1.constant([[1, 2], [3, 4]]), name="insert")
    g.L.lookup_table_find(t, tf1.constant([2, 5, 1], tf1.int64), tf1.constant([0, -1]), name="find")
    g.L.lookup_table_size(t, name="size")
    g.L.lookup_table_export(t, tf1.int64, tf1.int32, name="export")


def _dense_hash_table(tf1, g, paths):
    """TF 1.x's MutableDenseHashTableV2 (tf.contrib.lookup.MutableDenseHashTable): its export is the buckets."""
    t = g.L.mutable_dense_hash_table_v2(empty_key=tf1.constant(-1, tf1.int64), deleted_key=tf1.constant(-2, tf1.int64),
                                        value_dtype=tf1.float32, initial_num_buckets=4, name="table")
    g.L.lookup_table_insert_v2(t, tf1.constant([1, 2, 3, 7, 11], tf1.int64), tf1.constant([1.0, 2.0, 3.0, 7.0, 11.0]),
                               name="insert")
    g.L.lookup_table_insert_v2(t, tf1.constant([15, 3], tf1.int64), tf1.constant([15.0, -3.0]), name="insert2")
    g.L.lookup_table_find_v2(t, tf1.constant([[1, 3], [4, 15]], tf1.int64), tf1.constant(0.5), name="find")
    g.L.lookup_table_remove_v2(t, tf1.constant([3, 99], tf1.int64), name="remove")
    g.L.lookup_table_size_v2(t, name="size")
    g.L.lookup_table_export_v2(t, tf1.int64, tf1.float32, name="export")
    # an export read back (its shape unknown while building, as a restored checkpoint's)
    buckets = tf1.placeholder_with_default(tf1.constant([[-1], [5], [-2], [6]], tf1.int64), shape=None)
    g.L.lookup_table_import_v2(t, buckets, tf1.constant([[0.0], [5.0], [0.0], [6.0]]), name="import")
    s = g.L.mutable_dense_hash_table_v2(empty_key=tf1.constant(["", ""]), deleted_key=tf1.constant(["x", "x"]),
                                        value_dtype=tf1.int32, value_shape=[2], initial_num_buckets=8,
                                        max_load_factor=0.5, name="pairs")
    g.L.lookup_table_insert_v2(s, tf1.constant([["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"], ["i", "j"]]),
                               tf1.constant([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]), name="insert_pairs")
    g.L.lookup_table_find_v2(s, tf1.constant([["a", "b"], ["a", "c"], ["i", "j"]]), tf1.constant([0, -1]),
                             name="find_pairs")
    g.L.lookup_table_export_v2(s, tf1.string, tf1.int32, name="export_pairs")


def _dense_hash_table_v1(tf1, g, paths):
    """TF 1's MutableDenseHashTable (no deleted key, no Remove), recorded as V2 and renamed."""
    t = g.L.mutable_dense_hash_table_v2(empty_key=tf1.constant(0, tf1.int64), deleted_key=tf1.constant(-1, tf1.int64),
                                        value_dtype=tf1.int32, initial_num_buckets=4, max_load_factor=0.6,
                                        name="table")
    g.L.lookup_table_insert_v2(t, tf1.range(1, 9, dtype=tf1.int64), tf1.range(10, 90, 10), name="insert")
    g.L.lookup_table_find_v2(t, tf1.constant([8, 9, 1], tf1.int64), tf1.constant(-7), name="find")
    g.L.lookup_table_size_v2(t, name="size")
    g.L.lookup_table_export_v2(t, tf1.int64, tf1.int32, name="export")


def _anonymous_tables(tf1, g, paths):
    """TF 2's anonymous tables: a new table each run, which the same run initializes and reads."""
    t = g.L.anonymous_hash_table(key_dtype=tf1.string, value_dtype=tf1.int32, name="table")
    init = g.L.initialize_table_v2(t, tf1.constant(["a", "b"]), tf1.constant([1, 2]), name="init")
    with tf1.control_dependencies([init]):
        g.L.lookup_table_find_v2(t, tf1.constant(["b", "c"]), tf1.constant(-1), name="find")
    g.L.lookup_table_size_v2(t, name="size")
    m = g.L.anonymous_mutable_hash_table_of_tensors(key_dtype=tf1.int64, value_dtype=tf1.float32, value_shape=[2],
                                                    name="vectors")
    insert = g.L.lookup_table_insert_v2(m, tf1.constant([4], tf1.int64), tf1.constant([[4.0, 5.0]]), name="insert")
    with tf1.control_dependencies([insert]):
        g.L.lookup_table_find_v2(m, tf1.constant([4, 5], tf1.int64), tf1.constant([0.0, 0.0]), name="find_vectors")
    g.L.lookup_table_size_v2(m, name="size_vectors")
    d = g.L.anonymous_mutable_dense_hash_table(empty_key=tf1.constant(-1, tf1.int64),
                                               deleted_key=tf1.constant(-2, tf1.int64), value_dtype=tf1.int32,
                                               initial_num_buckets=4, name="dense")
    dense_insert = g.L.lookup_table_insert_v2(d, tf1.constant([3, 4, 5, 6], tf1.int64), tf1.constant([3, 4, 5, 6]),
                                              name="dense_insert")
    with tf1.control_dependencies([dense_insert]):
        g.L.lookup_table_export_v2(d, tf1.int64, tf1.int32, name="dense_export")
    g.L.lookup_table_find_v2(t, tf1.constant(["a"]), tf1.constant(-1), name="find_uninitialized")


def _v2_tables(tf1, g, paths):
    """The V2 tables the V1 ones share kernels with, as TF's Python builds them raw: static shapes from TF's
    handle data (a mutable table's only), values."""
    t = g.L.hash_table_v2(key_dtype=tf1.int64, value_dtype=tf1.float32, name="table")
    g.L.initialize_table_v2(t, tf1.constant([1, 2], tf1.int64), tf1.constant([1.0, 2.0]), name="init")
    g.L.lookup_table_find_v2(t, tf1.constant([[1, 3]], tf1.int64), tf1.constant(0.0), name="find")
    g.L.lookup_table_export_v2(t, tf1.int64, tf1.float32, name="export")
    m = g.L.mutable_hash_table_v2(key_dtype=tf1.string, value_dtype=tf1.int64, name="mutable")
    g.L.lookup_table_insert_v2(m, tf1.constant(["x"]), tf1.constant([7], tf1.int64), name="insert")
    g.L.lookup_table_find_v2(m, tf1.constant([["x", "y"]]), tf1.constant(-1, tf1.int64), name="find_m")
    g.L.lookup_table_export_v2(m, tf1.string, tf1.int64, name="export_m")


def _text_file_table(tf1, g, paths):
    t = g.L.hash_table(key_dtype=tf1.string, value_dtype=tf1.int64, name="vocab")
    g.L.initialize_table_from_text_file(t, tf1.constant(paths["vocab"]), key_index=-2, value_index=-1,
                                        name="init")
    g.L.lookup_table_find(t, tf1.constant(["emerson", "lake", "palmer", "yes"]), tf1.constant(-1, tf1.int64),
                          name="find")
    g.L.lookup_table_size(t, name="size")


def _sorted_export(keys_values):
    keys, values = keys_values
    order = np.argsort(keys, kind="stable")
    return [keys[order], values[order]]


def _fifo_queue(tf1, g, paths):
    q = g.D.fifo_queue([tf1.int32, tf1.string], shapes=[[], []], capacity=10, name="q")
    g.D.queue_enqueue_many(q, [tf1.constant([1, 2, 3, 4]), tf1.constant(["a", "b", "c", "d"])], name="enq_many")
    g.D.queue_enqueue(q, [tf1.constant(5), tf1.constant("e")], name="enq")
    g.D.queue_dequeue(q, [tf1.int32, tf1.string], name="deq")
    g.D.queue_dequeue_many(q, tf1.constant(2), [tf1.int32, tf1.string], name="deq_many")
    g.D.queue_dequeue_up_to(q, tf1.constant(5), [tf1.int32, tf1.string], name="deq_up_to")
    g.D.queue_size(q, name="size")
    g.D.queue_close(q, name="close")
    g.D.queue_is_closed(q, name="is_closed")


def _padding_fifo_queue(tf1, g, paths):
    q = g.D.padding_fifo_queue([tf1.float32], shapes=[[None]], name="q")
    g.D.queue_enqueue(q, [tf1.constant([1.0])], name="enq1")
    g.D.queue_enqueue(q, [tf1.constant([2.0, 3.0, 4.0])], name="enq3")
    g.D.queue_dequeue_many(q, tf1.constant(2), [tf1.float32], name="deq_many")


def _priority_queue(tf1, g, paths):
    q = g.D.priority_queue(shapes=[[]], component_types=[tf1.string], name="q")
    g.D.queue_enqueue_many(q, [tf1.constant([3, 1, 2], tf1.int64), tf1.constant(["c", "a", "b"])], name="enq")
    g.D.queue_dequeue_many(q, tf1.constant(3), [tf1.int64, tf1.string], name="deq_many")


def _random_shuffle_queue(tf1, g, paths):
    q = g.D.random_shuffle_queue([tf1.int32], shapes=[[]], capacity=20, min_after_dequeue=0, seed=3, seed2=4,
                                 name="q")
    g.D.queue_enqueue_many(q, [tf1.range(10)], name="enq")
    g.D.queue_dequeue_many(q, tf1.constant(10), [tf1.int32], name="deq_many")


def _fake_queue(tf1, g, paths):
    resource = g.D.fifo_queue_v2([tf1.float32], shapes=[[2]], name="q")
    q = g.D.fake_queue(resource, name="fake")
    g.D.queue_enqueue(q, [tf1.constant([1.0, 2.0])], name="enq")
    g.D.queue_size_v2(resource, name="size_v2")
    g.D.queue_dequeue_v2(resource, [tf1.float32], name="deq_v2")


def _whole_file_reader(tf1, g, paths):
    q = g.D.fifo_queue([tf1.string], name="files")
    g.D.queue_enqueue_many(q, [tf1.constant([paths["lines"], paths["bytes"]])], name="enq")
    r = g.IO.whole_file_reader(name="reader")
    g.IO.reader_read(r, q, name="read")
    g.IO.reader_num_records_produced(r, name="produced")
    g.IO.reader_num_work_units_completed(r, name="completed")
    g.IO.reader_serialize_state(r, name="state")
    g.IO.reader_reset(r, name="reset")


def _reader(kind: str, file_key: str, **attrs):
    def build(tf1, g, paths):
        q = g.D.fifo_queue_v2([tf1.string], name="files")
        g.D.queue_enqueue_many_v2(q, [tf1.constant([paths[file_key]] * 2)], name="enq")  # two work items
        g.D.queue_close_v2(q, name="close")
        r = getattr(g.IO, kind)(name="reader", **attrs)
        g.IO.reader_read_v2(r, q, name="read")
        g.IO.reader_read_up_to_v2(r, q, tf1.constant(3, tf1.int64), name="read_up_to")
        g.IO.reader_num_records_produced_v2(r, name="produced")
        g.IO.reader_num_work_units_completed_v2(r, name="completed")
        g.IO.reader_reset_v2(r, name="reset")
    return build


def _identity_reader(tf1, g, paths):
    q = g.D.fifo_queue_v2([tf1.string], name="work")
    g.D.queue_enqueue_many_v2(q, [tf1.constant(["w1", "w2", "w3"])], name="enq")
    r = g.IO.identity_reader_v2(name="reader")
    g.IO.reader_read_v2(r, q, name="read")
    state = g.IO.reader_serialize_state_v2(r, name="state")
    g.IO.reader_restore_state_v2(r, tf1.constant(b"\x08\x01\x10\x01\x18\x05\x22\x02w9"), name="restore")
    g.IO.reader_num_records_produced_v2(r, name="produced")
    del state


def _variable(tf1, g, paths):
    v = g.S.variable(shape=[2, 2], dtype=tf1.float32, name="v")
    tf1.assign(v, [[1.0, 2.0], [3.0, 4.0]], name="assign")
    tf1.assign_add(v, tf1.ones([2, 2]), name="assign_add")
    tf1.scatter_update(v, [1], [[7.0, 8.0]], name="scatter")
    tf1.identity(v, name="read")
    g.S.is_variable_initialized(v, name="is_init")


def _temporary_variable(tf1, g, paths):
    """TF 1.0's accumulate_n: a temporary variable (named after its op), zeroed, one AssignAdd per input on
    the Assign's output ref, destroyed once they all ran."""
    t = g.S.temporary_variable(shape=[3], dtype=tf1.float32, name="tmp")
    ref = tf1.assign(t, tf1.zeros([3]), validate_shape=False, name="zero")
    updates = [tf1.assign_add(ref, tf1.constant(x), use_locking=True, name=f"add_{i}")
               for i, x in enumerate(([1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [0.5, 0.5, 0.5]))]
    with tf1.control_dependencies(updates):
        g.S.destroy_temporary_variable(ref, var_name="tmp", name="total")


def _stack(tf1, g, paths):
    s = g.D._stack(tf1.float32, stack_name="history", name="stack")
    push_a = g.D.stack_push(s, tf1.constant([1.0, 2.0]), name="push_a")
    with tf1.control_dependencies([push_a]):
        push_b = g.D.stack_push(s, tf1.constant([3.0, 4.0]), name="push_b")
    with tf1.control_dependencies([push_b]):
        pop_b = g.D.stack_pop(s, tf1.float32, name="pop_b")
    with tf1.control_dependencies([pop_b]):
        pop_a = g.D.stack_pop(s, tf1.float32, name="pop_a")
    with tf1.control_dependencies([pop_a]):
        g.D.stack_close(s, name="close")


def _handles_in_while_loop(tf1, g, paths):
    """TF 1's while loop (control flow v1) that dequeues keys and looks them up: the handles enter the frame
    through RefEnter."""
    t = g.L.hash_table(key_dtype=tf1.int64, value_dtype=tf1.float32, name="table")
    g.L.initialize_table(t, tf1.constant([0, 1, 2], tf1.int64), tf1.constant([1.0, 10.0, 100.0]), name="init")
    q = g.D.fifo_queue([tf1.int64], shapes=[[]], name="q")
    g.D.queue_enqueue_many(q, [tf1.constant([2, 1, 0, 5], tf1.int64)], name="enq")

    def body(i, total):
        value = g.L.lookup_table_find(t, g.D.queue_dequeue(q, [tf1.int64])[0], tf1.constant(-1.0))
        value.set_shape([])
        return i + 1, total + value
    with oracle.control_flow_v2(False):
        loop = tf1.while_loop(lambda i, total: i < 2, body, [tf1.constant(0), tf1.constant(0.0)], name="loop")
    tf1.identity(loop[1], name="total")
    g.D.queue_size(q, name="size")


CASES = {
    # name: (build, steps, post(step index, values) or None, old GraphDef)
    "HashTable": (_hash_table, [["size:0"], ["init"], ["find:0", "size:0"], ["init"], ["export:0", "export:1"],
                                ["init_ids"], ["find_ids:0"]], {4: _sorted_export}, False),
    "MutableHashTable": (_mutable_hash_table, [["size:0", "find:0"], ["insert"], ["find:0", "size:0"], ["insert2"],
                                               ["find:0", "size:0"], ["export:0", "export:1"], ["import"],
                                               ["find:0", "size:0"]], {5: _sorted_export}, False),
    "MutableHashTableOfTensors": (_mutable_hash_table_of_tensors, [["insert"], ["find:0", "size:0"],
                                                                   ["export:0", "export:1"]],
                                  {2: _sorted_export}, False),
    "MutableDenseHashTableV2": (_dense_hash_table,
                                [["size:0"], ["insert"], ["find:0", "size:0", "export:0", "export:1"], ["insert2"],
                                 ["find:0", "export:0", "export:1"], ["remove"],
                                 ["find:0", "size:0", "export:0", "export:1"], ["insert2"],
                                 ["export:0", "export:1", "size:0"], ["import"], ["find:0", "size:0", "export:0"],
                                 ["insert_pairs"], ["find_pairs:0", "export_pairs:0", "export_pairs:1"]], {}, False),
    "MutableDenseHashTable": (_dense_hash_table_v1, [["insert"], ["find:0", "size:0", "export:0", "export:1"]], {},
                              True),
    # each run makes new tables: a run that only reads one finds it empty (or not initialized)
    "AnonymousHashTable": (_anonymous_tables, [["find:0"], ["find:0"], ["size:0"], ["find_vectors:0"],
                                               ["size_vectors:0"], ["dense_export:0", "dense_export:1"],
                                               ["find_uninitialized:0"]], {}, False),
    "V2 tables": (_v2_tables, [["init"], ["find:0", "export:0", "export:1"], ["insert"],
                               ["find_m:0", "export_m:0", "export_m:1"]], {1: lambda v: [v[0]] + _sorted_export(v[1:])},
                  False),
    "InitializeTableFromTextFile": (_text_file_table, [["init"], ["find:0", "size:0"]], {}, False),
    "FIFOQueue": (_fifo_queue, [["enq_many"], ["enq"], ["size:0"], ["deq:0", "deq:1"], ["deq_many:0", "deq_many:1"],
                                ["close"], ["is_closed:0", "size:0"], ["deq_up_to:0", "deq_up_to:1"]], {}, False),
    "PaddingFIFOQueue": (_padding_fifo_queue, [["enq1"], ["enq3"], ["deq_many:0"]], {}, False),
    "PriorityQueue": (_priority_queue, [["enq"], ["deq_many:0", "deq_many:1"]], {}, False),
    "RandomShuffleQueue": (_random_shuffle_queue, [["enq"], ["deq_many:0"]], {1: lambda v: [np.sort(v[0])]},
                           False),
    "FakeQueue": (_fake_queue, [["enq"], ["enq"], ["size_v2:0"], ["deq_v2:0"], ["size_v2:0"]], {}, False),
    "WholeFileReader": (_whole_file_reader, [["enq"], ["read:0", "read:1"], ["produced:0", "completed:0"],
                                             ["state:0"], ["read:0", "read:1"], ["reset"],
                                             ["produced:0", "completed:0"]], {}, False),
    "TextLineReader": (_reader("text_line_reader_v2", "lines", skip_header_lines=1),
                       [["enq"], ["close"], ["read:0", "read:1"], ["read_up_to:0", "read_up_to:1"],
                        ["produced:0", "completed:0"], ["read_up_to:0", "read_up_to:1"], ["reset"],
                        ["produced:0"]], {}, True),
    "TFRecordReader": (_reader("tf_record_reader_v2", "records"),
                       [["enq"], ["close"], ["read:0", "read:1"], ["read_up_to:0", "read_up_to:1"],
                        ["produced:0", "completed:0"]], {}, True),
    "FixedLengthRecordReader": (_reader("fixed_length_record_reader_v2", "bytes", record_bytes=3, header_bytes=1,
                                        footer_bytes=2),
                                [["enq"], ["close"], ["read:0", "read:1"], ["read_up_to:0", "read_up_to:1"],
                                 ["produced:0", "completed:0"]], {}, True),
    "IdentityReader": (_identity_reader, [["enq"], ["read:0", "read:1"], ["state:0"], ["restore"],
                                          ["produced:0", "state:0"], ["read:0", "read:1"]], {}, True),
    "Variable": (_variable, [["is_init:0"], ["assign"], ["read:0", "is_init:0"], ["assign_add"], ["assign_add"],
                             ["scatter"], ["read:0"]], {}, False),
    "TemporaryVariable": (_temporary_variable, [["total:0"], ["total:0"], ["total:0"]], {}, False),
    "TF 1 while loop": (_handles_in_while_loop, [["init", "enq"], ["total:0"], ["size:0"], ["total:0"]], {}, False),
    "Stack": (_stack, [["pop_b:0", "pop_a:0"], ["pop_b:0", "pop_a:0"], ["pop_a:0", "close"]], {}, False),
}


# TF 2's kernel for FixedLengthRecordReader (V1) reads the `encoding` attr that only the V2 OpDef has, so
# TF 2 fails every V1 node ("No attr named 'encoding' in NodeDef"); TF 1.x ran them as the V2 kernel without
# an encoding, which is what graphcompat does: the V2 graph is the oracle
V2_ORACLE = {"FixedLengthRecordReader", "MutableDenseHashTable"}  # TF 2's dense table needs a deleted_key too


# TF 1's dataflow loops are rebuilt as tf.while_loop (a While op): its nodes are not the GraphDef's
REBUILT = {"TF 1 while loop"}


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    d = tmp_path_factory.mktemp("v1_ref_ops")
    out = {"vocab": str(d / "vocab.txt"), "lines": str(d / "lines.txt"), "bytes": str(d / "bytes.bin"),
           "records": str(d / "records.tfrecord")}
    with open(out["vocab"], "w") as f:
        f.write("emerson\nlake\npalmer\n")
    with open(out["lines"], "w") as f:
        f.write("header\nfirst line\nsecond line\n\nfourth line\n")
    with open(out["bytes"], "wb") as f:
        f.write(bytes(range(1, 12)))  # header 1, three records of 3, footer 2
    v1, _ = _gen()
    with v1.python_io.TFRecordWriter(out["records"]) as writer:
        for payload in (b"alpha", b"", b"gamma\x00delta"):
            writer.write(payload)
    return out


def _tf_graph_def(case: str, paths: dict, v1_types: bool = True):
    v1, gen = _gen()
    build, _, _, old = CASES[case]
    graph = v1.Graph()
    with graph.as_default():
        build(v1, gen, paths)
    graph_def = graph.as_graph_def()
    return _as_v1(graph_def) if old and v1_types else graph_def


def _kernel_text(message: str) -> str:
    """The kernel's message, less what TF adds (where the node was defined, a `[[{{node …}}]]` line) and the
    process-wide counters in resource names (`'_3_q'`, `Stack[history_12]`, `__per_step_7`)."""
    lines = [line for line in message.splitlines() if line.strip() and not line.strip().startswith("[[")]
    text = lines[-1].strip()
    text = re.sub(r"'_\d+_", "'_N_", text)
    text = re.sub(r"Stack\[(.*)_\d+\]", r"Stack[\1_N]", text)
    return re.sub(r"__per_step_\d+", "__per_step_N", text)


def _run(lib, graph_def, steps, post: dict, repeat: int = 1, keep_going: bool = False):
    """Imports `graph_def` into a new graph of `lib` and runs `steps` in one Session (`repeat` times); returns
    (results, the graph). A step that raises records (error class, kernel text) and ends that pass, unless
    `keep_going`."""
    graph = lib.Graph()
    results = []
    with graph.as_default():
        lib.import_graph_def(graph_def, name="")
        with lib.Session(graph=graph) as sess:
            for _ in range(repeat):
                for i, step in enumerate(steps):
                    try:
                        values = sess.run(step)
                    except lib.errors.OpError as err:
                        results.append((type(err).__name__, _kernel_text(err.message)))
                        if keep_going:
                            continue
                        break
                    results.append(post[i](values) if i in post else values)
    return results, graph


def _assert_same(got, want, label: str) -> None:
    assert len(got) == len(want), (label, got, want)
    for k, (g, w) in enumerate(zip(got, want)):
        if isinstance(w, tuple) and isinstance(w[0], str):  # an error
            assert g == w, (label, k, g, w)
            continue
        assert not (isinstance(g, tuple) and isinstance(g[0], str)), (label, k, g, w)
        oracle.assert_same_values([np.asarray(x) if x is not None else np.asarray(0) for x in g],
                                  [np.asarray(x) if x is not None else np.asarray(0) for x in w], 0, 0,
                                  f"{label} step {k}")


def _nodes(graph_def) -> dict:
    """Each NodeDef's op type, inputs and attrs (private `_` attrs left out; a tensor attr by its value, which
    TF and graphcompat may encode differently)."""
    v1, _ = _gen()

    def attr(value):
        if value.HasField("tensor"):
            array = v1.make_ndarray(value.tensor)
            return str(array.dtype), array.shape, array.tolist()
        return value.SerializeToString(deterministic=True)
    return {n.name: (n.op, list(n.input), {k: attr(v) for k, v in n.attr.items() if not k.startswith("_")})
            for n in graph_def.node}


def _signature(graph) -> dict:
    """Each node's op type, output dtypes and static shapes."""
    def shape(t):
        return None if t.shape.ndims is None else t.shape.as_list()
    return {op.name: (op.type, [(t.dtype.name, shape(t)) for t in op.outputs]) for op in graph.get_operations()}


@pytest.mark.parametrize("case", list(CASES))
def test_tf_graph_imports_and_runs(case, paths):
    v1, _ = _gen()
    from tensorflow.core.framework import graph_pb2
    _, steps, post, _ = CASES[case]
    graph_def = _tf_graph_def(case, paths)
    want, tf_graph = _run(v1, graph_def, steps, post)
    if case in V2_ORACLE:
        want, _ = _run(v1, _tf_graph_def(case, paths, v1_types=False), steps, post)
    got, graph = _run(tf, graph_def, steps, post)
    _assert_same(got, want, case)
    # graphcompat's GraphDef of the imported graph: same op types and producer, and TF runs it alike
    exported = graph_pb2.GraphDef.FromString(graph.as_graph_def().SerializeToString())
    assert exported.versions.producer == min(graph_def.versions.producer, tf.Graph().graph_def_versions.producer)
    if case in REBUILT:
        # the loop's body is a FunctionDef, whose arguments cannot be refs: TF refuses the V1 handle it
        # captures (as it refuses a while_v2 over V1 ops); graphcompat re-imports its own GraphDef
        again, _ = _run(tf, exported, steps, post)
        _assert_same(again, want, f"{case} re-imported")
        return
    assert _signature(graph) == _signature(tf_graph)
    assert _nodes(exported) == _nodes(graph_def)
    again, tf_again = _run(v1, exported, steps, post)
    assert _signature(tf_again) == _signature(tf_graph)
    if case not in V2_ORACLE:
        _assert_same(again, want, f"{case} re-imported by TF")


@pytest.mark.parametrize("case", ["Variable", "TemporaryVariable", "Stack"])
def test_device_plans_compile_with_v1_handles(case, paths):
    """Ref variables, temporary variables and stacks run compiled from a plan's second run, as their V2
    kernels do: the same values run after run."""
    _, steps, post, _ = CASES[case]
    graph_def = _tf_graph_def(case, paths)
    once, _ = _run(tf, graph_def, steps, post)
    compiled_before = tf.stats()["compiled_runs"]
    thrice, _ = _run(tf, graph_def, steps, post, repeat=3)
    assert tf.stats()["compiled_runs"] > compiled_before
    if case == "Variable":  # the variable keeps its value across passes: compare the first pass
        _assert_same(thrice[:len(once)], once, case)
    else:
        _assert_same(thrice, once * 3, case)


# ------------------------------------------------------------------------------------------------
# Bad inputs: TF's kernels' error classes and texts
# ------------------------------------------------------------------------------------------------
def _closed_queue(tf1, g, paths):
    q = g.D.fifo_queue([tf1.int32], name="q")
    g.D.queue_close(q, name="close")
    g.D.queue_dequeue(q, [tf1.int32], name="deq")
    g.D.queue_dequeue_many(q, tf1.constant(2), [tf1.int32], name="deq_many")


def _table_misuse(tf1, g, paths):
    t = g.L.hash_table(key_dtype=tf1.string, value_dtype=tf1.int64, name="table")
    g.L.lookup_table_find(t, tf1.constant(["a"]), tf1.constant(-1, tf1.int64), name="find")
    g.L.initialize_table(t, tf1.constant(["a", "b"]), tf1.constant([1, 2], tf1.int64), name="init")
    g.L.lookup_table_find(t, tf1.constant([1, 2], tf1.int64), tf1.constant(-1, tf1.int64), name="int_keys")
    g.L.lookup_table_find(t, tf1.constant(["a"]), tf1.constant(-1, tf1.int32), name="int32_default")
    g.L.lookup_table_insert(t, tf1.constant(["c"]), tf1.constant([3], tf1.int64), name="insert")
    g.L.initialize_table(t, tf1.constant(["a"]), tf1.constant([1.0]), name="float_init")
    m = g.L.mutable_hash_table(key_dtype=tf1.int64, value_dtype=tf1.float32, name="mutable")
    g.L.lookup_table_insert(m, tf1.constant(["x"]), tf1.constant([1.0]), name="string_insert")


def _table_shape_misuse(tf1, g, paths):
    m = g.L.mutable_hash_table(key_dtype=tf1.int64, value_dtype=tf1.float32, name="m")
    g.L.lookup_table_insert(m, tf1.constant([1, 2], tf1.int64), tf1.constant([1.0, 2.0, 3.0]), name="bad_insert")
    g.L.lookup_table_insert(m, tf1.constant([1, 2], tf1.int64), tf1.constant([1.0, 2.0]), name="insert")
    g.L.lookup_table_find(m, tf1.constant([1, 5], tf1.int64), tf1.constant([-1.0, -2.0, -3.0]), name="bad_default")
    g.L.lookup_table_find(m, tf1.constant([1, 5], tf1.int64), tf1.constant([-1.0, -2.0]), name="full_default")
    # V1's LookupTableFind takes defaults of rank <= 1 only: a table of vectors' default per key is V2's
    t = g.L.mutable_hash_table_of_tensors_v2(key_dtype=tf1.int64, value_dtype=tf1.int32, value_shape=[2], name="t")
    g.L.lookup_table_insert_v2(t, tf1.constant([1], tf1.int64), tf1.constant([[1, 2]]), name="insert_t")
    g.L.lookup_table_find_v2(t, tf1.constant([1, 5], tf1.int64), tf1.constant([[0, 0], [9, 9]]),
                             name="full_default_t")
    g.L.lookup_table_find_v2(t, tf1.constant([1, 5], tf1.int64), tf1.constant([0, 0, 0]), name="bad_default_t")


def _dense_misuse(tf1, g, paths):
    def dense(name, empty=-1, deleted=-2, **attrs):
        return g.L.mutable_dense_hash_table_v2(empty_key=tf1.constant(empty, tf1.int64),
                                               deleted_key=tf1.constant(deleted, tf1.int64), value_dtype=tf1.float32,
                                               name=name, **dict(dict(initial_num_buckets=8), **attrs))
    d = dense("d")
    g.L.lookup_table_find_v2(d, tf1.constant([-1], tf1.int64), tf1.constant(0.0), name="find_empty")
    g.L.lookup_table_insert_v2(d, tf1.constant([-2], tf1.int64), tf1.constant([0.0]), name="insert_deleted")
    g.L.lookup_table_find_v2(d, tf1.constant([[1, 2]], tf1.int64), tf1.constant(0.0), name="find_matrix")
    g.L.lookup_table_size_v2(dense("same", empty=-1, deleted=-1), name="same_keys")
    g.L.lookup_table_size_v2(dense("six", initial_num_buckets=6), name="six_buckets")
    g.L.lookup_table_size_v2(dense("full", max_load_factor=1.5), name="load_factor")
    v = g.L.mutable_dense_hash_table_v2(empty_key=tf1.constant([0, 0], tf1.int64),
                                        deleted_key=tf1.constant(-1, tf1.int64), value_dtype=tf1.float32, name="v")
    g.L.lookup_table_size_v2(v, name="key_shapes")


def _reinitialized(tf1, g, paths):
    t = g.L.hash_table(key_dtype=tf1.int64, value_dtype=tf1.float32, name="t")
    g.L.initialize_table(t, tf1.constant([1, 2], tf1.int64), tf1.constant([1.0, 2.0]), name="init")
    g.L.initialize_table(t, tf1.constant([1, 3], tf1.int64), tf1.constant([1.0, 3.0]), name="init_as_many")
    g.L.lookup_table_import(t, tf1.constant([5, 6], tf1.int64), tf1.constant([5.0, 6.0]), name="import_as_many")
    g.L.lookup_table_find(t, tf1.constant([1, 3, 5], tf1.int64), tf1.constant(0.0), name="find")
    g.L.initialize_table(t, tf1.constant([1, 3, 4], tf1.int64), tf1.constant([1.0, 3.0, 4.0]), name="init_more")
    m = g.L.mutable_hash_table(key_dtype=tf1.int64, value_dtype=tf1.float32, name="m")
    g.L.lookup_table_insert(m, tf1.constant([7], tf1.int64), tf1.constant([7.0]), name="insert")
    g.L.lookup_table_import(m, tf1.constant([5, 5], tf1.int64), tf1.constant([5.0, 6.0]), name="import_twice")
    g.L.lookup_table_find(m, tf1.constant([5, 7], tf1.int64), tf1.constant(0.0), name="find_m")
    d = g.L.hash_table(key_dtype=tf1.int64, value_dtype=tf1.float32, name="d")
    g.L.initialize_table(d, tf1.constant([5, 5], tf1.int64), tf1.constant([5.0, 6.0]), name="init_twice")


def _empty_stack(tf1, g, paths):
    s = g.D._stack(tf1.int32, stack_name="s", name="stack")
    g.D.stack_pop(s, tf1.int32, name="pop")


def _wrong_temporary(tf1, g, paths):
    t = g.S.temporary_variable(shape=[2], dtype=tf1.float32, var_name="x", name="tmp")
    a = tf1.assign(t, [1.0, 2.0], name="assign")
    g.S.destroy_temporary_variable(a, var_name="y", name="destroy")


def _bad_reader_state(tf1, g, paths):
    q = g.D.fifo_queue_v2([tf1.string], name="work")
    g.D.queue_enqueue_many_v2(q, [tf1.constant(["w1", "w2"])], name="enq")
    r = g.IO.identity_reader_v2(name="reader")
    g.IO.reader_read_v2(r, q, name="read")
    g.IO.reader_restore_state_v2(r, tf1.constant(b"\x08\x02\x10\x01\x18\x05\x22\x03w\n9"), name="restore")
    g.IO.reader_restore_state_v2(r, tf1.constant(b"\x08\x02\x10"), name="garbage")
    g.IO.reader_num_records_produced_v2(r, name="produced")


def _shared_queue_of_another_kind(tf1, g, paths):
    g.D.fifo_queue([tf1.int32], shared_name="shared", name="fifo")
    g.D.padding_fifo_queue([tf1.int32], shapes=[[None]], shared_name="shared", name="padding")


def _non_string_work(tf1, g, paths):
    q = g.D.fifo_queue([tf1.int32], name="q")
    g.D.queue_enqueue(q, [tf1.constant(1)], name="enq")
    r = g.IO.whole_file_reader(name="reader")
    g.IO.reader_read(r, q, name="read")


ERRORS = {
    "dequeue closed empty queue": (_closed_queue, [["close"], ["deq:0"]]),
    "dequeue_many closed empty queue": (_closed_queue, [["close"], ["deq_many:0"]]),
    "find before init": (_table_misuse, [["find:0"]]),
    "find with int64 keys": (_table_misuse, [["init"], ["int_keys:0"]]),
    "find with int32 default": (_table_misuse, [["init"], ["int32_default:0"]]),
    "insert into HashTable": (_table_misuse, [["init"], ["insert"]]),
    "initialize with float values": (_table_misuse, [["float_init"]]),
    "insert string keys": (_table_misuse, [["string_insert"]]),
    "insert values of another shape": (_table_shape_misuse, [["bad_insert"]]),
    "find with a default of another shape": (_table_shape_misuse, [["insert"], ["bad_default:0"]]),
    "find with a default per key": (_table_shape_misuse, [["insert"], ["full_default:0"], ["insert_t"],
                                                          ["full_default_t:0"], ["bad_default_t:0"]]),
    "dense find of the empty key": (_dense_misuse, [["find_empty:0"]]),
    "dense insert of the deleted key": (_dense_misuse, [["insert_deleted"]]),
    "dense find of a matrix of keys": (_dense_misuse, [["find_matrix:0"]]),
    "dense empty key = deleted key": (_dense_misuse, [["same_keys:0"]]),
    "dense 6 buckets": (_dense_misuse, [["six_buckets:0"]]),
    "dense max_load_factor 1.5": (_dense_misuse, [["load_factor:0"]]),
    "dense keys of two shapes": (_dense_misuse, [["key_shapes:0"]]),
    "re-initialize a table": (_reinitialized, [["init"], ["init_as_many"], ["import_as_many"], ["find:0"],
                                               ["insert"], ["import_twice"], ["find_m:0"], ["init_more"]]),
    "initialize a key twice": (_reinitialized, [["init_twice"]]),
    "pop empty stack": (_empty_stack, [["pop:0"]]),
    "destroy other temporary": (_wrong_temporary, [["destroy:0"]]),
    "reader of int queue": (_non_string_work, [["enq"], ["read:0"]]),
    "shared queue of another kind": (_shared_queue_of_another_kind, [["fifo"], ["padding"]]),
}



@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_are_tfs(case, paths):
    v1, gen = _gen()
    build, steps = ERRORS[case]
    graph = v1.Graph()
    with graph.as_default():
        build(v1, gen, paths)
    graph_def = graph.as_graph_def()
    want, _ = _run(v1, graph_def, steps, {})
    assert isinstance(want[-1], tuple), want
    got, _ = _run(tf, graph_def, steps, {})
    _assert_same(got, want, case)


def test_shared_resources_between_v1_and_v2_ops():
    """A V1 and a V2 queue (table) op with one shared_name are one queue (table), as TF's kernels share them."""
    v1, gen = _gen()
    graph = v1.Graph()
    with graph.as_default():
        old = gen.D.fifo_queue([v1.int32], shared_name="shared", name="old")
        new = gen.D.fifo_queue_v2([v1.int32], shared_name="shared", name="new")
        gen.D.queue_enqueue(old, [v1.constant(4)], name="enq_old")
        gen.D.queue_dequeue_v2(new, [v1.int32], name="deq_new")
        table = gen.L.hash_table(key_dtype=v1.int32, value_dtype=v1.float32, shared_name="t", name="table")
        gen.L.initialize_table(table, v1.constant([1, 2]), v1.constant([0.5, 1.5]), name="init")
        table_v2 = gen.L.hash_table_v2(key_dtype=v1.int32, value_dtype=v1.float32, shared_name="t", name="table_v2")
        gen.L.lookup_table_find_v2(table_v2, v1.constant([2, 3]), v1.constant(-1.0), name="find_v2")
        gen.L.lookup_table_size_v2(table_v2, name="size_v2")
        other = gen.L.hash_table(key_dtype=v1.int32, value_dtype=v1.float32, name="other")
        gen.L.lookup_table_size(other, name="other_size")
    steps = [["enq_old"], ["deq_new:0"], ["init"], ["find_v2:0", "size_v2:0", "other_size:0"]]
    want, _ = _run(v1, graph.as_graph_def(), steps, {})
    got, _ = _run(tf, graph.as_graph_def(), steps, {})
    _assert_same(got, want, "shared resources")


def test_ref_handles_are_string_refs_of_shape_2():
    graph = tf.Graph()
    v1, gen = _gen()
    tf_graph = v1.Graph()
    with tf_graph.as_default():
        _fifo_queue(v1, gen, {})
    with graph.as_default():
        tf.import_graph_def(tf_graph.as_graph_def(), name="")
    handle = graph.get_tensor_by_name("q:0")
    assert handle.dtype.name == "string_ref" and handle.shape.as_list() == [2]
    assert graph.get_operation_by_name("deq").outputs[0].shape.ndims is None


def test_meta_graph_with_v1_variables_saves_restores_and_freezes(tmp_path):
    """A TF 1.0-style meta graph: `Variable` (V1) ops, a Saver, a checkpoint TF wrote. graphcompat imports it,
    restores the checkpoint, trains a step, saves, and freezes the graph to constants."""
    v1, gen = _gen()
    graph = v1.Graph()
    with graph.as_default():
        weights = gen.S.variable(shape=[3], dtype=v1.float32, name="weights")
        v1.assign(weights, [1.0, 2.0, 3.0], name="init")
        v1.assign_add(weights, [0.5, 0.5, 0.5], name="step")
        v1.reduce_sum(v1.identity(weights) * 2.0, name="out")
        saver = v1.train.Saver({"weights": weights})
        with v1.Session(graph=graph) as sess:
            sess.run("init")
            sess.run("step")
            prefix = saver.save(sess, str(tmp_path / "tf_model"))
            want = [sess.run("out:0")]
            sess.run("step")
            want.append(sess.run("out:0"))
    with tf.Graph().as_default() as ours:
        restorer = tf.train.import_meta_graph(prefix + ".meta")
        assert ours.get_operation_by_name("weights").type == "Variable"
        with tf.Session() as sess:
            restorer.restore(sess, prefix)
            got = [sess.run("out:0")]
            sess.run("step")
            got.append(sess.run("out:0"))
            ours_prefix = restorer.save(sess, str(tmp_path / "ours"))
            frozen = tf.graph_util.convert_variables_to_constants(sess, ours.as_graph_def(), ["out"])
    oracle.assert_same_values(got, want, 0, 0, "restored")
    assert "Variable" not in {n.op for n in frozen.node}
    with tf.Graph().as_default():
        tf.import_graph_def(frozen, name="")
        with tf.Session() as sess:
            assert sess.run("out:0") == want[1]
    with v1.Graph().as_default():  # TF restores graphcompat's checkpoint into its own graph
        restorer = v1.train.import_meta_graph(ours_prefix + ".meta")
        with v1.Session() as sess:
            restorer.restore(sess, ours_prefix)
            assert sess.run("out:0") == want[1]


@pytest.mark.parametrize("steps", [[["enq"], ["read:0"], ["restore"], ["produced:0"], ["read:0"]],
                                   [["enq"], ["read:0"], ["garbage"], ["produced:0"]]])
def test_identity_reader_rejects_states_as_tf(steps, paths):
    """IdentityReader (V1, as TF 1.0 wrote it): TF's texts for an inconsistent and an unparsable state, after
    which the reader is reset."""
    v1, gen = _gen()
    graph = v1.Graph()
    with graph.as_default():
        _bad_reader_state(v1, gen, paths)
    graph_def = _as_v1(graph.as_graph_def())
    want, _ = _run(v1, graph_def, steps, {}, keep_going=True)
    assert isinstance(want[2], tuple), want
    got, _ = _run(tf, graph_def, steps, {}, keep_going=True)
    _assert_same(got, want, "restore")


def test_v1_find_takes_defaults_of_rank_at_most_1():
    graph = tf.Graph()
    with graph.as_default():
        table = tf.import_graph_def(_tf_graph_def("HashTable", {}), return_elements=["table:0"], name="")[0]
        with pytest.raises(ValueError, match=r"^Shape must be at most rank 1 but is rank 2 for 'find2'"):
            apply_op("LookupTableFind", [table, tf.constant([["a"]]), tf.constant([[1]], tf.int64)], name="find2")


def _run_input_pipeline(lib, meta_graph_def, fetch: str, runs: int = 2) -> list:
    with lib.Graph().as_default():
        lib.train.import_meta_graph(meta_graph_def)
        with lib.Session() as sess:
            coord = lib.train.Coordinator()
            threads = lib.train.start_queue_runners(sess, coord=coord)
            try:
                return [sess.run(fetch) for _ in range(runs)]
            finally:
                coord.request_stop()
                coord.join(threads, stop_grace_period_secs=10)


def test_tf_1_0_input_pipeline_meta_graph_runs(paths):
    """A TF 1.0 meta graph of string_input_producer + TextLineReader + tf.train.batch: V1 queues and reader,
    and QueueRunnerDefs in its queue_runners collection, which graphcompat starts."""
    v1, _ = _gen()
    graph = v1.Graph()
    with graph.as_default():
        files = v1.train.string_input_producer([paths["lines"]], shuffle=False, name="files")
        _, line = v1.TextLineReader(skip_header_lines=1, name="reader").read(files, name="read")
        v1.train.batch([line], 3, name="batch")
        meta = v1.train.export_meta_graph()
    for node in meta.graph_def.node:  # as TF 1.0 wrote it
        if node.op in ("QueueEnqueueV2", "QueueDequeueManyV2", "QueueSizeV2"):
            node.op = node.op[:-2]
    _as_v1(meta.graph_def)
    assert {"FIFOQueue", "TextLineReader", "ReaderRead", "QueueDequeueMany"} <= {n.op for n in meta.graph_def.node}
    want = _run_input_pipeline(v1, meta, "batch:0")
    got = _run_input_pipeline(tf, meta, "batch:0")
    oracle.assert_same_values(got, want, 0, 0, "batches")


def test_queue_runner_defs_round_trip_through_tf(tmp_path):
    """graphcompat's meta graph carries its QueueRunners as TF's QueueRunnerDefs: TF starts them."""
    with tf.Graph().as_default():
        queue = tf.FIFOQueue(4, tf.int32, shapes=[[]], name="numbers")
        enqueue = queue.enqueue_many(tf.range(1, 4))
        tf.train.add_queue_runner(tf.train.QueueRunner(queue, [enqueue]))
        queue.dequeue_many(3, name="take")
        tf.train.export_meta_graph(str(tmp_path / "model.meta"))
        proto = tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)[0].to_proto()
        assert (proto.queue_name, list(proto.enqueue_op_name), list(proto.queue_closed_exception_types)) == \
            ("numbers", [enqueue.name], [11])
    v1, _ = _gen()

    def run(lib):
        with lib.Graph().as_default():
            lib.train.import_meta_graph(str(tmp_path / "model.meta"))
            with lib.Session() as sess:
                coord = lib.train.Coordinator()
                threads = lib.train.start_queue_runners(sess, coord=coord)
                try:
                    return sess.run("take:0")
                finally:
                    coord.request_stop()
                    coord.join(threads, stop_grace_period_secs=10)
    assert list(run(v1)) == list(run(tf)) == [1, 2, 3]


def _as_v1_stacks(graph_def):
    """TF 1.0's while-loop gradient: `Stack` (no max_size input), StackPush/StackPop, and the ref handle
    entering the loops through RefEnter (TF 1.4 switched to StackV2's resource handle)."""
    from tensorflow.core.framework import types_pb2
    refs = set()
    for node in graph_def.node:
        if node.op in ("StackV2", "StackPushV2", "StackPopV2"):
            node.op = node.op[:-2]
        if node.op == "Stack":
            control = [i for i in node.input if i.startswith("^")]
            del node.input[:]
            node.input.extend(control)
            refs.add(node.name)
    grown = True
    while grown:  # the handle's Enter / Identity nodes, in any order
        grown = False
        for node in graph_def.node:
            if node.op in ("Enter", "Identity") and node.input and node.input[0].split(":")[0] in refs:
                node.op = "Ref" + node.op
                node.attr["T"].type = types_pb2.DT_STRING
                refs.add(node.name)
                grown = True
    return graph_def


def test_tf_1_0_while_loop_gradient_with_v1_stacks():
    """tf.gradients of a TF 1 while loop, as TF 1.0-1.3 wrote it (V1 stacks): values as TF's, and the
    gradient step compiles from its second run (the stacks as run state, sized from the first run)."""
    v1, _ = _gen()
    graph = v1.Graph()
    with graph.as_default(), oracle.control_flow_v2(False):
        x = v1.placeholder(v1.float32, [3], name="x")
        weights = v1.constant([0.5, -1.0, 2.0])
        _, h = v1.while_loop(lambda i, h: i < 4, lambda i, h: (i + 1, v1.tanh(h * weights + x)),
                             [v1.constant(0), v1.zeros([3])], name="loop")
        v1.identity(v1.gradients(v1.reduce_sum(h * h), x)[0], name="dx")
    graph_def = _as_v1_stacks(graph.as_graph_def())
    assert {"Stack", "StackPush", "StackPop", "RefEnter"} <= {n.op for n in graph_def.node}
    feed = {"x:0": np.array([0.1, 0.2, 0.3], np.float32)}
    with v1.Graph().as_default():
        v1.import_graph_def(graph_def, name="")
        with v1.Session() as sess:
            want = sess.run(["dx:0"], feed)
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            compiled_before = tf.stats()["compiled_runs"]
            got = [sess.run(["dx:0"], feed) for _ in range(3)]
            assert tf.stats()["compiled_runs"] > compiled_before
    for values in got:
        oracle.assert_same_values(values, want, 1e-5, 1e-6, "dx")


def test_chained_ref_outputs_write_their_variable():
    """`assign_add(assign(v, a), b)`: an Assign's output_ref is the variable itself (TF 1's accumulate_n,
    and hand-written TF 1 graphs), for VariableV2 as for the V1 ops."""
    v1 = oracle.tf1()

    def build(lib):
        v = lib.Variable([0.0, 0.0], name="v", use_resource=False)
        chained = lib.assign_add(lib.assign(v, [1.0, 2.0]), [3.0, 4.0])
        scattered = lib.scatter_add(lib.assign_sub(chained, [1.0, 1.0]), [0], [10.0])
        with lib.control_dependencies([scattered]):
            return [lib.identity(v)]
    want = oracle.run(v1, build, init_variables=True)
    got = oracle.run(tf, build, init_variables=True)
    oracle.assert_same_values(got, want, 0, 0, "chained")
