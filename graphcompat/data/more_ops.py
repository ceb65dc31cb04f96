"""tf.data op types that TF-written graphs hold and graphcompat's builders rarely (or never) record.

TF 1.13-1.15 programs write `MapAndBatchDataset`, `ShuffleAndRepeatDataset`, `ParallelInterleaveDataset`,
the v1 `BatchDataset` / `PaddedBatchDataset` / `ParallelMapDataset`, the `Experimental*` names of ops that
later lost the prefix, the pass-through ops of tf.data's optimizer and stats (`ModelDataset`,
`OptimizeDataset`, `ThreadPoolDataset`, `LatencyStatsDataset` ...), Optionals and the v1 iterator ops. Each
is defined here with TF's REGISTER_OP signature and attrs (TF 2.21's registry), so `tf.import_graph_def`
records them as they are; lowering/data/imported.py holds their pipeline nodes, lowering/rules/data_more.py
the rules of the ops that are not datasets (reduce, single element, cardinality, optionals, iterators).

`MORE_DATASET_SIGNATURES` joins dataset_ops.DATASET_SIGNATURES (one table of dataset op types, each with one
pipeline node); the other ops are defined at the end of this module.
"""
from __future__ import annotations

from graphcompat.framework.registry import defop, no_outputs, scalar_shape

_SHAPES = {"output_types": [], "output_shapes": []}
_SHAPES_META = {**_SHAPES, "metadata": ""}
# group_by_reducer's signature, shared with its Experimental op type (graphcompat/data/dataset_ops.py)
GROUP_BY_REDUCER_INPUTS = ("input_dataset: variant, key_func_other_arguments: *Tkey_func_other_arguments, "
                           "init_func_other_arguments: *Tinit_func_other_arguments, "
                           "reduce_func_other_arguments: *Treduce_func_other_arguments, "
                           "finalize_func_other_arguments: *Tfinalize_func_other_arguments")
GROUP_BY_REDUCER_FUNCTIONS = {"key_func": None, "init_func": None, "reduce_func": None, "finalize_func": None,
                              "Tkey_func_other_arguments": [], "Tinit_func_other_arguments": [],
                              "Treduce_func_other_arguments": [], "Tfinalize_func_other_arguments": []}
_FUNCTION = {"Targuments": []}

# Each op type with TF's REGISTER_OP signature (inputs; the output is `handle: variant`) and its attrs with
# TF's defaults. A TF op that lost its `Experimental` prefix keeps the older name's signature here.
MORE_DATASET_SIGNATURES = {
    # tf.data.experimental.map_and_batch (TF 1.x): map then batch, fused
    "MapAndBatchDataset": ("input_dataset: variant, other_arguments: *Targuments, batch_size: int64, "
                           "num_parallel_calls: int64, drop_remainder: bool",
                           {"f": None, **_FUNCTION, **_SHAPES, "preserve_cardinality": False, "metadata": ""}),
    "ExperimentalMapAndBatchDataset": ("input_dataset: variant, other_arguments: *Targuments, batch_size: int64, "
                                       "num_parallel_calls: int64, drop_remainder: bool",
                                       {"f": None, **_FUNCTION, **_SHAPES, "preserve_cardinality": False}),
    # tf.data.experimental.shuffle_and_repeat
    "ShuffleAndRepeatDataset": ("input_dataset: variant, buffer_size: int64, seed: int64, seed2: int64, "
                                "count: int64", {**_SHAPES, "reshuffle_each_iteration": True, "metadata": ""}),
    # tf.data.experimental.parallel_interleave (TF 1.x: `sloppy` an input) and the TF 2.0-2.2 parallel interleaves
    "ParallelInterleaveDataset": ("input_dataset: variant, other_arguments: *Targuments, cycle_length: int64, "
                                  "block_length: int64, sloppy: bool, buffer_output_elements: int64, "
                                  "prefetch_input_elements: int64", {"f": None, **_FUNCTION, **_SHAPES_META}),
    "ExperimentalParallelInterleaveDataset": (
        "input_dataset: variant, other_arguments: *Targuments, cycle_length: int64, block_length: int64, "
        "sloppy: bool, buffer_output_elements: int64, prefetch_input_elements: int64",
        {"f": None, **_FUNCTION, **_SHAPES}),
    "ParallelInterleaveDatasetV2": ("input_dataset: variant, other_arguments: *Targuments, cycle_length: int64, "
                                    "block_length: int64, num_parallel_calls: int64",
                                    {"f": None, **_FUNCTION, **_SHAPES, "sloppy": False, "metadata": ""}),
    "ParallelInterleaveDatasetV3": ("input_dataset: variant, other_arguments: *Targuments, cycle_length: int64, "
                                    "block_length: int64, num_parallel_calls: int64",
                                    {"f": None, "deterministic": "default", **_FUNCTION, **_SHAPES_META}),
    # the v1 map / batch / padded_batch (TF 1.x's Dataset.map(num_parallel_calls), batch, padded_batch)
    "ParallelMapDataset": ("input_dataset: variant, other_arguments: *Targuments, num_parallel_calls: int32", {
        "f": None, **_FUNCTION, **_SHAPES, "use_inter_op_parallelism": True, "sloppy": False,
        "preserve_cardinality": False, "metadata": ""}),
    "ParallelFilterDataset": ("input_dataset: variant, other_arguments: *Targuments, num_parallel_calls: int64",
                              {"predicate": None, "deterministic": "default", **_FUNCTION, **_SHAPES_META}),
    "BatchDataset": ("input_dataset: variant, batch_size: int64", _SHAPES_META),
    "PaddedBatchDataset": ("input_dataset: variant, batch_size: int64, padded_shapes: N * int64, "
                           "padding_values: *Toutput_types",
                           {"Toutput_types": [], "output_shapes": [], "N": 0, "metadata": ""}),
    # readers TF 1.x wrote
    "FixedLengthRecordDataset": ("filenames: string, header_bytes: int64, record_bytes: int64, "
                                 "footer_bytes: int64, buffer_size: int64", {"metadata": ""}),
    "TFRecordDatasetV2": ("filenames: string, compression_type: string, buffer_size: int64, byte_offsets: int64",
                          {"metadata": ""}),
    # tf.data.experimental transformations
    "UniqueDataset": ("input_dataset: variant", _SHAPES_META),
    "ExperimentalUniqueDataset": ("input_dataset: variant", _SHAPES),
    "IgnoreErrorsDataset": ("input_dataset: variant", {**_SHAPES, "log_warning": False}),
    "ExperimentalIgnoreErrorsDataset": ("input_dataset: variant", {**_SHAPES, "log_warning": False}),
    "DenseToSparseBatchDataset": ("input_dataset: variant, batch_size: int64, row_shape: int64", _SHAPES),
    "ExperimentalDenseToSparseBatchDataset": ("input_dataset: variant, batch_size: int64, row_shape: int64",
                                              _SHAPES),
    "SlidingWindowDataset": ("input_dataset: variant, window_size: int64, window_shift: int64, "
                             "window_stride: int64", {"drop_remainder": True, **_SHAPES}),
    "ExperimentalSlidingWindowDataset": ("input_dataset: variant, window_size: int64, window_shift: int64, "
                                         "window_stride: int64", _SHAPES),
    "AssertCardinalityDataset": ("input_dataset: variant, cardinality: int64", _SHAPES),
    # the Experimental* names of ops graphcompat's builders record without the prefix
    "ExperimentalUnbatchDataset": ("input_dataset: variant", _SHAPES),
    "ExperimentalScanDataset": ("input_dataset: variant, initial_state: *Tstate, other_arguments: *Targuments", {
        "f": None, "Tstate": [], **_FUNCTION, **_SHAPES, "preserve_cardinality": False}),
    "ExperimentalTakeWhileDataset": ("input_dataset: variant, other_arguments: *Targuments",
                                     {"predicate": None, **_FUNCTION, **_SHAPES}),
    "ExperimentalGroupByWindowDataset": (
        "input_dataset: variant, key_func_other_arguments: *Tkey_func_other_arguments, "
        "reduce_func_other_arguments: *Treduce_func_other_arguments, "
        "window_size_func_other_arguments: *Twindow_size_func_other_arguments", {
            "key_func": None, "reduce_func": None, "window_size_func": None, "Tkey_func_other_arguments": [],
            "Treduce_func_other_arguments": [], "Twindow_size_func_other_arguments": [], **_SHAPES}),
    # tf.data.experimental.group_by_reducer: TF 2.21's Python records the Experimental name
    "GroupByReducerDataset": (GROUP_BY_REDUCER_INPUTS, {**GROUP_BY_REDUCER_FUNCTIONS, **_SHAPES}),
    "ExperimentalDirectedInterleaveDataset": ("selector_input_dataset: variant, data_input_datasets: N * variant",
                                              {**_SHAPES, "N": 0}),
    "ExperimentalRandomDataset": ("seed: int64, seed2: int64", _SHAPES),
    # pass-through ops: tf.data's optimizer, threading and stats leave the element sequence unchanged
    "ModelDataset": ("input_dataset: variant", {"algorithm": 0, "cpu_budget": 0, "ram_budget": 0, **_SHAPES}),
    "OptimizeDataset": ("input_dataset: variant, optimizations: string", {**_SHAPES, "optimization_configs": []}),
    "OptimizeDatasetV2": ("input_dataset: variant, optimizations_enabled: string, optimizations_disabled: string, "
                          "optimizations_default: string", {**_SHAPES, "optimization_configs": []}),
    "MaxIntraOpParallelismDataset": ("input_dataset: variant, max_intra_op_parallelism: int64", _SHAPES),
    "ExperimentalMaxIntraOpParallelismDataset": ("input_dataset: variant, max_intra_op_parallelism: int64",
                                                 _SHAPES),
    "PrivateThreadPoolDataset": ("input_dataset: variant, num_threads: int64", _SHAPES),
    "ExperimentalPrivateThreadPoolDataset": ("input_dataset: variant, num_threads: int64", _SHAPES),
    "ThreadPoolDataset": ("input_dataset: variant, thread_pool: resource", _SHAPES),
    "ExperimentalThreadPoolDataset": ("input_dataset: variant, thread_pool: resource", _SHAPES),
    "AssertNextDataset": ("input_dataset: variant, transformations: string", _SHAPES),
    "ExperimentalAssertNextDataset": ("input_dataset: variant, transformations: string", _SHAPES),
    "LatencyStatsDataset": ("input_dataset: variant, tag: string", _SHAPES),
    "ExperimentalLatencyStatsDataset": ("input_dataset: variant, tag: string", _SHAPES),
    "BytesProducedStatsDataset": ("input_dataset: variant, tag: string", _SHAPES),
    "ExperimentalBytesProducedStatsDataset": ("input_dataset: variant, tag: string", _SHAPES),
    "SetStatsAggregatorDataset": ("input_dataset: variant, stats_aggregator: resource, tag: string, "
                                  "counter_prefix: string", _SHAPES),
    "ExperimentalSetStatsAggregatorDataset": ("input_dataset: variant, stats_aggregator: resource, tag: string, "
                                              "counter_prefix: string", _SHAPES),
    # TF 2's ops over a seed generator or memory cache resource (the functions tf.function writes)
    "ShuffleDatasetV2": ("input_dataset: variant, buffer_size: int64, seed_generator: resource", _SHAPES_META),
    "ShuffleDatasetV3": ("input_dataset: variant, buffer_size: int64, seed: int64, seed2: int64, "
                         "seed_generator: resource", {"reshuffle_each_iteration": True, **_SHAPES_META}),
    "ShuffleAndRepeatDatasetV2": ("input_dataset: variant, buffer_size: int64, seed: int64, seed2: int64, "
                                  "count: int64, seed_generator: resource",
                                  {"reshuffle_each_iteration": True, **_SHAPES_META}),
    "CacheDatasetV2": ("input_dataset: variant, filename: string, cache: resource", _SHAPES_META),
    "RandomDatasetV2": ("seed: int64, seed2: int64, seed_generator: resource",
                        {"rerandomize_each_iteration": False, **_SHAPES_META}),
    # sources
    "SparseTensorSliceDataset": ("indices: int64, values: Tvalues, dense_shape: int64", {"Tvalues": None}),
    "CSVDataset": ("filenames: string, compression_type: string, buffer_size: int64, header: bool, "
                   "field_delim: string, use_quote_delim: bool, na_value: string, select_cols: int64, "
                   "record_defaults: *output_types", _SHAPES),
    "ExperimentalCSVDataset": ("filenames: string, compression_type: string, buffer_size: int64, header: bool, "
                               "field_delim: string, use_quote_delim: bool, na_value: string, select_cols: int64, "
                               "record_defaults: *output_types", _SHAPES),
    "CSVDatasetV2": ("filenames: string, compression_type: string, buffer_size: int64, header: bool, "
                     "field_delim: string, use_quote_delim: bool, na_value: string, select_cols: int64, "
                     "record_defaults: *output_types, exclude_cols: int64", _SHAPES),
}


def _output_shapes(ctx) -> list:
    return list(ctx.attrs["output_shapes"])


# --- ops on datasets that yield tensors --------------------------------------------------------------
defop("ReduceDataset", "input_dataset: variant, initial_state: *Tstate, other_arguments: *Targuments -> "
      "components: *output_types", attrs={"f": None, "Tstate": [], **_FUNCTION, **_SHAPES,
                                          "use_inter_op_parallelism": True, "metadata": ""},
      shape=_output_shapes, stateful=True)
defop("DatasetToSingleElement", "dataset: variant -> components: *output_types", attrs=dict(_SHAPES_META),
      shape=_output_shapes, stateful=True)
defop("DatasetCardinality", "input_dataset: variant -> cardinality: int64", attrs={"cardinality_options": ""},
      shape=scalar_shape)
defop("ExperimentalDatasetCardinality", "input_dataset: variant -> cardinality: int64", shape=scalar_shape)

# --- Optionals (tf.data.experimental.Optional, get_next_as_optional) ------------------------------------
defop("OptionalFromValue", "components: *Toutput_types -> optional: variant", attrs={"Toutput_types": []},
      shape=scalar_shape)
defop("OptionalNone", "-> optional: variant", shape=scalar_shape)
defop("OptionalHasValue", "optional: variant -> has_value: bool", shape=scalar_shape)
defop("OptionalGetValue", "optional: variant -> components: *output_types", attrs=dict(_SHAPES),
      shape=_output_shapes)
defop("IteratorGetNextAsOptional", "iterator: resource -> optional: variant", attrs=dict(_SHAPES),
      shape=scalar_shape, stateful=True, loop=True)

# --- iterator op types of TF 1.x and of TF 2's functions ------------------------------------------------
defop("Iterator", "-> handle: resource", attrs={"shared_name": "", "container": "", **_SHAPES},
      shape=scalar_shape, stateful=True)
defop("IteratorGetNextSync", "iterator: resource -> components: *output_types", attrs=dict(_SHAPES),
      shape=_output_shapes, stateful=True, loop=True)
defop("IteratorFromStringHandle", "string_handle: string -> resource_handle: resource", attrs=dict(_SHAPES),
      shape=scalar_shape, stateful=True)
defop("AnonymousIterator", "-> handle: resource", attrs=dict(_SHAPES), shape=scalar_shape, stateful=True)
defop("AnonymousIteratorV2", "-> handle: resource, deleter: variant", attrs=dict(_SHAPES),
      shape=scalar_shape, stateful=True)
defop("AnonymousIteratorV3", "-> handle: resource", attrs=dict(_SHAPES), shape=scalar_shape, stateful=True)
defop("DeleteIterator", "handle: resource, deleter: variant ->", shape=no_outputs, stateful=True)
# SerializeIterator / DeserializeIterator (tf.data.experimental.make_saveable_from_iterator) are not defined:
# TF saves an iterator's state as a variant tensor of its own, which graphcompat cannot write

# --- resources the pass-through datasets take ----------------------------------------------------------
for _op_type in ("ThreadPoolHandle", "ExperimentalThreadPoolHandle"):
    defop(_op_type, "-> handle: resource", attrs={"num_threads": None, "max_intra_op_parallelism": 1,
                                                  "display_name": None, "container": "", "shared_name": ""},
          shape=scalar_shape, stateful=True)
for _op_type in ("StatsAggregatorHandle", "ExperimentalStatsAggregatorHandle", "StatsAggregatorHandleV2"):
    defop(_op_type, "-> handle: resource", attrs={"container": "", "shared_name": ""}, shape=scalar_shape,
          stateful=True)

# --- the seed generators and memory caches of TF 2's dataset ops ------------------------------------------
defop("AnonymousSeedGenerator", "seed: int64, seed2: int64, reshuffle: bool -> handle: resource, deleter: variant",
      shape=scalar_shape, stateful=True)
defop("DummySeedGenerator", "-> handle: resource", shape=scalar_shape, stateful=True)
defop("DeleteSeedGenerator", "handle: resource, deleter: variant ->", shape=no_outputs, stateful=True)
defop("AnonymousMemoryCache", "-> handle: resource, deleter: variant", shape=scalar_shape, stateful=True)
defop("DummyMemoryCache", "-> handle: resource", shape=scalar_shape, stateful=True)
defop("DeleteMemoryCache", "handle: resource, deleter: variant ->", shape=no_outputs, stateful=True)
