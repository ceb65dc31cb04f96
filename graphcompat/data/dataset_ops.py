"""`tf.data.Dataset`: a front-end description of an input pipeline, recorded as TF's dataset ops.

This module holds the Dataset base class and its machinery (element specs, bound datasets, traced
functions); the node classes are in sources.py, transformations.py and readers.py.

Every Dataset records one op of TF's type (`TensorSliceDataset`, `BatchDatasetV2`, `MapDataset` …) with
TF's REGISTER_OP signature and the attrs TF 1 graph mode writes (`DATASET_SIGNATURES`): its inputs are its
input datasets' variant tensors, its own arguments (`batch_size`, `buffer_size` … as TF's Const ops) and
the tensors its functions capture, in TF's order. The graph is the program: the back end builds the
pipeline from these ops when they run (lowering/data: one node class per op type, host and device
walks), so a Dataset object holds only what the Python API needs (element structure, static shapes,
types and cardinality). A GraphDef with dataset ops (TF's or graphcompat's) is imported as the same ops
(graph_import.py imports their functions); no Dataset object stands for them.

Functions given to `map`/`filter`/`flat_map`/`interleave` are called once on placeholder-like `_Arg`
tensors (`args_0` …), as TF traces them; their ops are recorded under a `<op>_fn` name scope and form a
function of the graph's library (`__inference_Dataset_map_<name>_<n>`, framework/function_library.py)
that the dataset op names with its `f`/`predicate` attr, so `as_graph_def()` writes them as a FunctionDef,
not as top-level nodes; the back end finds them there by that attr.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from graphcompat.data import structure as nest
from graphcompat.data.more_ops import GROUP_BY_REDUCER_FUNCTIONS, GROUP_BY_REDUCER_INPUTS
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.framework.registry import apply_op, defop, scalar_shape

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2

# Each dataset op type with TF's REGISTER_OP signature and the attrs TF 1 graph mode writes (defaults as
# TF's). Inputs are the input datasets' variants, then the op's own arguments in TF's order.
_SHAPES = {"output_types": [], "output_shapes": [], "metadata": ""}
_FUNCTION = {"Targuments": []}
DATASET_SIGNATURES = {
    "TensorSliceDataset": ("components: *Toutput_types", {
        "Toutput_types": [], "output_shapes": [], "is_files": False, "metadata": "", "replicate_on_split": False}),
    "TensorDataset": ("components: *Toutput_types", {"Toutput_types": [], "output_shapes": [], "metadata": ""}),
    "RangeDataset": ("start: int64, stop: int64, step: int64", {**_SHAPES, "replicate_on_split": False}),
    "ZipDataset": ("input_datasets: N * variant", {**_SHAPES, "N": 0}),
    "ConcatenateDataset": ("input_dataset: variant, another_dataset: variant", _SHAPES),
    "MapDataset": ("input_dataset: variant, other_arguments: *Targuments", {
        "f": None, **_FUNCTION, **_SHAPES, "use_inter_op_parallelism": True, "preserve_cardinality": False,
        "force_synchronous": False}),
    "ParallelMapDatasetV2": ("input_dataset: variant, other_arguments: *Targuments, num_parallel_calls: int64", {
        "f": None, **_FUNCTION, **_SHAPES, "use_inter_op_parallelism": True, "deterministic": "default",
        "preserve_cardinality": False, "use_unbounded_threadpool": False}),
    "FilterDataset": ("input_dataset: variant, other_arguments: *Targuments",
                      {"predicate": None, **_FUNCTION, **_SHAPES}),
    "FlatMapDataset": ("input_dataset: variant, other_arguments: *Targuments", {"f": None, **_FUNCTION, **_SHAPES}),
    "InterleaveDataset": ("input_dataset: variant, other_arguments: *Targuments, cycle_length: int64, "
                          "block_length: int64", {"f": None, **_FUNCTION, **_SHAPES}),
    "ParallelInterleaveDatasetV4": (
        "input_dataset: variant, other_arguments: *Targuments, cycle_length: int64, block_length: int64, "
        "buffer_output_elements: int64, prefetch_input_elements: int64, num_parallel_calls: int64",
        {"f": None, "deterministic": "default", **_FUNCTION, **_SHAPES}),
    # tf.data.experimental.parallel_interleave, and the file readers' num_parallel_reads
    "LegacyParallelInterleaveDatasetV2": (
        "input_dataset: variant, other_arguments: *Targuments, cycle_length: int64, block_length: int64, "
        "buffer_output_elements: int64, prefetch_input_elements: int64",
        {"f": None, "deterministic": "default", **_FUNCTION, **_SHAPES}),
    "ShuffleDataset": ("input_dataset: variant, buffer_size: int64, seed: int64, seed2: int64",
                       {"reshuffle_each_iteration": True, **_SHAPES}),
    "RepeatDataset": ("input_dataset: variant, count: int64", _SHAPES),
    "BatchDatasetV2": ("input_dataset: variant, batch_size: int64, drop_remainder: bool",
                       {"parallel_copy": False, **_SHAPES}),
    "ParallelBatchDataset": ("input_dataset: variant, batch_size: int64, num_parallel_calls: int64, "
                             "drop_remainder: bool", {"parallel_copy": False, **_SHAPES, "deterministic": "default"}),
    "PaddedBatchDatasetV2": ("input_dataset: variant, batch_size: int64, padded_shapes: N * int64, "
                             "padding_values: *Toutput_types, drop_remainder: bool", {
                                 "parallel_copy": False, "Toutput_types": [], "output_shapes": [], "N": 0,
                                 "metadata": ""}),
    "PrefetchDataset": ("input_dataset: variant, buffer_size: int64", {
        **_SHAPES, "slack_period": 0, "legacy_autotune": True, "buffer_size_min": 0}),
    "TakeDataset": ("input_dataset: variant, count: int64", _SHAPES),
    "SkipDataset": ("input_dataset: variant, count: int64", _SHAPES),
    "CacheDataset": ("input_dataset: variant, filename: string", _SHAPES),
    "UnbatchDataset": ("input_dataset: variant", _SHAPES),
    "RebatchDatasetV2": ("input_dataset: variant, batch_sizes: int64, drop_remainder: bool",  # no metadata attr
                         {"output_types": [], "output_shapes": []}),
    # TF's GeneratorDataset calls three py_func based functions (init_func, next_func, finalize_func);
    # graphcompat records its generator's `args` as `init_func_other_args` and leaves the functions unset:
    # the generator is a Python object of this process, which no other process (nor TF) can call.
    "GeneratorDataset": ("init_func_other_args: *Tinit_func_args, next_func_other_args: *Tnext_func_args, "
                         "finalize_func_other_args: *Tfinalize_func_args", {
                             "init_func": None, "next_func": None, "finalize_func": None,
                             "Tinit_func_args": [], "Tnext_func_args": [], "Tfinalize_func_args": [],
                             **_SHAPES}),
    "TextLineDataset": ("filenames: string, compression_type: string, buffer_size: int64", {"metadata": ""}),
    "TFRecordDataset": ("filenames: string, compression_type: string, buffer_size: int64", {"metadata": ""}),
    "FixedLengthRecordDatasetV2": ("filenames: string, header_bytes: int64, record_bytes: int64, "
                                   "footer_bytes: int64, buffer_size: int64, compression_type: string",
                                   {"metadata": ""}),
    "MatchingFilesDataset": ("patterns: string", {}),
    "OptionsDataset": ("input_dataset: variant", {"serialized_options": b"", **_SHAPES}),
    # more_transformations.py
    "WindowDataset": ("input_dataset: variant, size: int64, shift: int64, stride: int64, drop_remainder: bool",
                      _SHAPES),
    "ShardDataset": ("input_dataset: variant, num_shards: int64, index: int64",
                     {"require_non_empty": False, **_SHAPES}),
    "TakeWhileDataset": ("input_dataset: variant, other_arguments: *Targuments",
                         {"predicate": None, **_FUNCTION, **_SHAPES}),
    "ScanDataset": ("input_dataset: variant, initial_state: *Tstate, other_arguments: *Targuments", {
        "f": None, "Tstate": [], **_FUNCTION, **_SHAPES, "preserve_cardinality": False,
        "use_default_device": True}),
    "GroupByWindowDataset": (
        "input_dataset: variant, key_func_other_arguments: *Tkey_func_other_arguments, "
        "reduce_func_other_arguments: *Treduce_func_other_arguments, "
        "window_size_func_other_arguments: *Twindow_size_func_other_arguments", {
            "key_func": None, "reduce_func": None, "window_size_func": None, "Tkey_func_other_arguments": [],
            "Treduce_func_other_arguments": [], "Twindow_size_func_other_arguments": [], **_SHAPES}),
    "ExperimentalGroupByReducerDataset": (GROUP_BY_REDUCER_INPUTS, {  # no metadata attr
        **GROUP_BY_REDUCER_FUNCTIONS, "output_types": [], "output_shapes": []}),
    "RandomDataset": ("seed: int64, seed2: int64", _SHAPES),
    # TF's Python rewrites some inputs (choose_from_datasets' choices: "replicate_on_split")
    "RewriteDataset": ("input_dataset: variant, rewrite_name: string", {"output_types": [], "output_shapes": []}),
    "DirectedInterleaveDataset": ("selector_input_dataset: variant, data_input_datasets: N * variant", {
        "output_types": [], "output_shapes": [], "N": 0, "stop_on_empty_dataset": False}),
}
# the op types TF-written graphs hold (map_and_batch, the v1 ops, the Experimental* names, pass-throughs ...)
from graphcompat.data.more_ops import MORE_DATASET_SIGNATURES  # noqa: E402
DATASET_SIGNATURES.update(MORE_DATASET_SIGNATURES)
DATASET_OP_TYPES = tuple(DATASET_SIGNATURES)
for _op_type, (_signature, _attrs) in DATASET_SIGNATURES.items():
    defop(_op_type, _signature + " -> handle: variant", attrs=dict(_attrs), shape=scalar_shape, stateful=True)
defop("_Arg", "-> output: T", attrs={"index": 0, "shape": None}, shape=lambda ctx: [ctx.attrs["shape"]])


class Spec:
    """One component's static dtype and shape."""

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype, shape):
        self.dtype = _dt.as_dtype(dtype)
        self.shape = _ts.as_shape(shape) if shape is not None else _ts.unknown_shape()

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype=tf.{self.dtype.name})"


class DatasetSpec(Spec):
    """A dataset-valued component (TF's DatasetSpec: a scalar variant), e.g. a window: the nested
    dataset's element structure and component specs."""

    __slots__ = ("template", "element_specs")

    def __init__(self, template, element_specs: list):
        super().__init__(_dt.variant, [])
        self.template = template
        self.element_specs = list(element_specs)

    def __repr__(self):
        from graphcompat.data.more_transformations import tensor_spec_repr
        return f"DatasetSpec({tensor_spec_repr(self.element_specs, self.template)}, TensorShape([]))"


def _element_attrs(spec: Spec) -> dict:
    """graphcompat's own attrs on a dataset-valued `_Arg`: its nested dataset's component types and shapes
    (the back end's node for the argument reads them; a FunctionDef keeps only the argument's type)."""
    if not isinstance(spec, DatasetSpec):
        return {}
    return {"_element_output_types": [s.dtype for s in spec.element_specs],
            "_element_output_shapes": [s.shape for s in spec.element_specs]}


def dataset_component(variant, spec: "DatasetSpec") -> "Dataset":
    """The Dataset a dataset-valued component's variant tensor stands for (a function's `_Arg`, get_next's)."""
    from graphcompat.data.more_transformations import _VariantDataset
    return _VariantDataset(variant, spec.template, spec.element_specs)


def _get_seed(seed) -> Optional[tuple]:
    """TF's random_seed.get_seed: (graph seed, op seed), or None for a fresh random seed per run. The same
    rule as every random op (an unseeded op under a graph seed takes the graph's next random-op count)."""
    from graphcompat.ops.random_ops import DEFAULT_GRAPH_SEED, _MAXINT32, _truncate_seed, get_seed
    if isinstance(seed, _ops.Tensor):  # TF truncates a seed tensor with a FloorMod op ("mod")
        graph_seed = _ops.get_default_graph().seed
        return DEFAULT_GRAPH_SEED if graph_seed is None else _truncate_seed(graph_seed), seed % _MAXINT32
    seeds = get_seed(None if seed is None else int(seed))
    return None if seeds == (None, None) else seeds


def _static_int(t) -> Optional[int]:
    v = constant_value(t) if isinstance(t, _ops.Tensor) else t
    return None if v is None else int(np.asarray(v))


def _group_inputs(op_def, flat: list, groups: Optional[list]) -> list:
    """Flat input tensors → one entry per input arg of `op_def` (a list for list args)."""
    if groups is None:
        lists = [a for a in op_def.inputs if a.number_attr or a.type_list_attr]
        if len(lists) > 1:
            raise ValueError(f"{op_def.name}: the grouping of its inputs must be given")
        fixed = len(op_def.inputs) - len(lists)
        groups = [len(flat) - fixed if (a.number_attr or a.type_list_attr) else 1 for a in op_def.inputs]
    out, k = [], 0
    for arg, n in zip(op_def.inputs, groups):
        out.append(flat[k:k + n] if (arg.number_attr or arg.type_list_attr) else flat[k])
        k += n
    return out


def deterministic_attr(deterministic: Optional[bool]) -> str:
    """TF's `deterministic` attr of the parallel ops: "default" (the options decide), "true" or "false".
    graphcompat's walks are deterministic either way."""
    return "default" if deterministic is None else "true" if deterministic else "false"


# ------------------------------------------------------------------------------------------------
# Functions (map, filter, flat_map, interleave)
# ------------------------------------------------------------------------------------------------
class Function:
    """A user function recorded once on `_Arg` tensors, as a function of the graph's library (the back end
    evaluates it per element: lowering/data/pipeline.py)."""

    def __init__(self, fn: Callable, template, specs: list, scope: str, transformation: str = "map"):
        graph = _ops.get_default_graph()
        start = len(graph._ops)
        functions_before = set(graph._functions)
        with graph.name_scope(scope):
            self.args = [apply_op("_Arg", [], {"T": s.dtype, "index": i, "shape": s.shape, **_element_attrs(s)},
                                  name=f"args_{i}") for i, s in enumerate(specs)]
            # a dataset-valued component (a window) reaches the function as a Dataset over its _Arg
            leaves = [dataset_component(a, s) if isinstance(s, DatasetSpec) else a for a, s in zip(self.args, specs)]
            structured = nest.pack(template, leaves, sparse=_sparse_tensor)
            out = fn(*structured) if type(structured) is tuple else fn(structured)
            self.dataset = out if isinstance(out, Dataset) else None
            if self.dataset is not None:
                self.outputs = [out._variant]
                self.template = None
            else:
                if isinstance(out, list):
                    out = tuple(out)
                leaves = [convert_to_tensor(x) for x in nest.components(out)]
                self.template = nest.template_of(out)
                self.outputs = leaves
        self.specs = [Spec(t.dtype, t.shape) for t in self.outputs]
        new_ops = graph._ops[start:]
        captured: list = []
        for op in new_ops:
            for t in op._inputs:
                if t.op._id < start and t not in captured:
                    captured.append(t)
        captured += [t for t in self.outputs if t.op._id < start and t not in captured]
        self.captures = captured
        self.func_attr = self._register(graph, fn, transformation, new_ops, functions_before)

    def _register(self, graph, fn, transformation: str, new_ops: list, functions_before: set):
        """Adds the function to the graph's library as TF's tf.data does (`__inference_Dataset_map_<name>_<n>`,
        arguments: the element's components then the captures); returns the func attr (a NameAttrList
        marked `_tf_data_function`). Its ops leave the GraphDef's top level (function_library.body_ops)."""
        from tensorboard.compat.proto import attr_value_pb2

        from graphcompat.framework.function_library import GraphFunction
        from graphcompat.ops.control_flow_ops import _register
        inner = set()  # ops of functions defined inside this one (a flat_map's inner map) stay theirs
        for name in set(graph._functions) - functions_before:
            inner.update(graph._functions[name].ops)
        ops = [op for op in new_ops if op.type != "_Arg" and op not in inner]
        body = GraphFunction("", "function", ops, list(self.args), list(self.captures), list(self.outputs), [])
        fn_name = getattr(fn, "__name__", type(fn).__name__).replace("<lambda>", "lambda")
        fn_name = "".join(c if c.isalnum() or c == "_" else "_" for c in fn_name)
        # TF's StructuredFunctionWrapper names the function after the transformation: "map" (a Dataset method)
        # gives `Dataset_map`, a full name such as "tf.data.experimental.map_and_batch()" its dotted path
        prefix = transformation[:-2].replace(".", "_") if transformation.endswith("()") else \
            f"Dataset_{transformation}"
        attr = _register(graph, body, f"__inference_{prefix}_{fn_name}")
        attr.attr["_tf_data_function"].CopyFrom(attr_value_pb2.AttrValue(b=True))
        return attr

    @property
    def capture_types(self) -> list:
        return [t.dtype for t in self.captures]

# ------------------------------------------------------------------------------------------------
# Dataset
# ------------------------------------------------------------------------------------------------
class Dataset:
    """`tf.data.Dataset` (TF1 `DatasetV1` API)."""

    _op_type = "Dataset"

    def _record(self, children: list, tensors: list, template, specs: list, op_type: Optional[str] = None,
                attrs: Optional[dict] = None, groups: Optional[list] = None, name: Optional[str] = None):
        """Records this dataset's op: `children`' variants then `tensors`, grouped into the op's input args
        in TF's order (`groups`: the number of tensors per arg, needed only when the signature has more
        than one list arg). `output_types` / `output_shapes` are set where the op type has them. `name`: the
        op's name (a name scope's, ending in "/") where it is not its type."""
        from graphcompat.framework.registry import get_op_def
        self._children = list(children)
        self._tensors = list(tensors)
        self._template = template
        self._specs = list(specs)
        op_type = op_type or self._op_type
        op_def = get_op_def(op_type)
        flat = [c._variant for c in self._children] + self._tensors
        all_attrs = {}
        if "output_types" in op_def.attrs:
            all_attrs["output_types"] = [s.dtype for s in self._specs]
        if "output_shapes" in op_def.attrs:
            all_attrs["output_shapes"] = [s.shape for s in self._specs]
        all_attrs.update(attrs or {})
        sparse = _sparse_positions(template)
        if sparse:  # graphcompat's own mark (TF carries a SparseTensor component as one variant)
            all_attrs["_sparse_components"] = sparse
        self._variant = apply_op(op_type, _group_inputs(op_def, flat, groups), all_attrs, name=name or op_type)

    # --- TF1 properties -----------------------------------------------------------------------
    output_types = property(lambda self: _output_types(self._template, self._specs))
    output_shapes = property(lambda self: _output_shapes(self._template, self._specs))
    output_classes = property(lambda self: _output_classes(self._template, self._specs))
    element_spec = property(lambda self: pack_specs(self._template, self._specs, lambda sp: sp, lambda i, v, s: v))

    def __repr__(self):
        return f"<{type(self).__name__} shapes: {self.output_shapes}, types: {self.output_types}>"

    # --- sources ------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors) -> "Dataset":
        return TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors) -> "Dataset":
        return TensorDataset(tensors)

    @staticmethod
    def from_sparse_tensor_slices(sparse_tensor) -> "Dataset":
        from graphcompat.data.experimental_ops import SparseTensorSliceDataset
        return SparseTensorSliceDataset(sparse_tensor)

    @staticmethod
    def from_generator(generator, output_types, output_shapes=None, args=None, output_signature=None):
        from graphcompat.data.readers import GeneratorDataset
        return GeneratorDataset(generator, output_types, output_shapes, args)

    @staticmethod
    def range(*args, output_type=_dt.int64) -> "Dataset":
        return RangeDataset(*args, output_type=output_type)

    @staticmethod
    def zip(datasets) -> "Dataset":
        return ZipDataset(datasets)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None) -> "Dataset":
        """TF's list_files: the MatchingFiles op, an Assert that something matched, the names as a
        TensorSliceDataset (`is_files`), shuffled by default (buffer: the number of names, at least 1)."""
        from graphcompat.ops import array_ops, math_ops, string_ops
        from graphcompat.ops.data_dependent_ops import Assert
        from graphcompat.ops.io_ops import matching_files
        with _ops.name_scope("list_files"):
            pattern = convert_to_tensor(file_pattern, _dt.string, name="file_pattern")
            matched = matching_files(pattern)
            condition = math_ops.greater(array_ops.shape(matched)[0], 0, name="match_not_empty")
            message = math_ops.add("No files matched pattern: ", string_ops.reduce_join(pattern, separator=", "),
                                   name="message")
            assert_not_empty = Assert(condition, [message], summarize=1, name="assert_not_empty")
            with _ops.control_dependencies([assert_not_empty]):
                matched = array_ops.identity(matched)
            ds = TensorSliceDataset(matched, is_files=True)
            if shuffle is None or shuffle:
                buffer_size = math_ops.maximum(array_ops.shape(matched, out_type=_dt.int64)[0], 1)
                ds = ds.shuffle(buffer_size, seed=seed)
            return ds

    # --- transformations ----------------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None) -> "Dataset":
        return MapDataset(self, map_func, num_parallel_calls, deterministic)

    def map_with_legacy_function(self, map_func, num_parallel_calls=None, deterministic=None):
        return self.map(map_func, num_parallel_calls)

    def filter(self, predicate, name=None) -> "Dataset":
        return FilterDataset(self, predicate)

    def flat_map(self, map_func, name=None) -> "Dataset":
        return FlatMapDataset(self, map_func)

    def interleave(self, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                   deterministic=None, name=None) -> "Dataset":
        return InterleaveDataset(self, map_func, cycle_length, block_length, num_parallel_calls,
                                 deterministic=deterministic)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None) -> "Dataset":
        return ShuffleDataset(self, buffer_size, seed, True if reshuffle_each_iteration is None
                              else reshuffle_each_iteration)

    def repeat(self, count=None, name=None) -> "Dataset":
        return RepeatDataset(self, count)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None,
              name=None) -> "Dataset":
        return BatchDataset(self, batch_size, drop_remainder, num_parallel_calls, deterministic)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False,
                     name=None) -> "Dataset":
        return PaddedBatchDataset(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def prefetch(self, buffer_size, name=None) -> "Dataset":
        return PrefetchDataset(self, buffer_size)

    def take(self, count, name=None) -> "Dataset":
        return TakeDataset(self, count)

    def skip(self, count, name=None) -> "Dataset":
        return SkipDataset(self, count)

    def cache(self, filename="", name=None) -> "Dataset":
        return CacheDataset(self, filename)

    def concatenate(self, dataset, name=None) -> "Dataset":
        return ConcatenateDataset(self, dataset)

    def apply(self, transformation_func) -> "Dataset":
        out = transformation_func(self)
        if not isinstance(out, Dataset):
            raise TypeError("`transformation_func` must return a Dataset. Got {}.".format(out))
        return out

    def unbatch(self, name=None) -> "Dataset":
        tuple_element = type(self._template) is tuple  # a tuple element arrives as separate arguments

        def normalize(*components):  # TF's normalize_to_dense: an identity map for dense components
            return components if tuple_element else components[0]
        return UnbatchDataset(self.map(normalize))

    def rebatch(self, batch_size, drop_remainder=False, name=None) -> "Dataset":
        """TF's RebatchDatasetV2 over the dense-normalized input (an identity map, as `unbatch`): the input's
        batches sliced and joined into batches of `batch_size` (a vector: its sizes in turn)."""
        from graphcompat.data.transformations import RebatchDataset
        tuple_element = type(self._template) is tuple

        def normalize(*components):  # TF's normalize_to_dense: an identity map for dense components
            return components if tuple_element else components[0]
        return RebatchDataset(self, batch_size, drop_remainder, normalize)

    def enumerate(self, start=0, name=None) -> "Dataset":
        """TF's: the counter is a range marked for the "replicate_on_split" rewrite, zipped with this."""
        from graphcompat.data.more_transformations import RewriteDataset
        counter = RewriteDataset(RangeDataset(start, np.iinfo(np.int64).max), "replicate_on_split")
        return ZipDataset((counter, self))

    def window(self, size, shift=None, stride=1, drop_remainder=False, name=None) -> "Dataset":
        from graphcompat.data.more_transformations import WindowDataset
        return WindowDataset(self, size, shift, stride, drop_remainder)

    def shard(self, num_shards, index, name=None) -> "Dataset":
        from graphcompat.data.more_transformations import ShardDataset
        return ShardDataset(self, num_shards, index)

    def take_while(self, predicate, name=None) -> "Dataset":
        from graphcompat.data.more_transformations import TakeWhileDataset
        return TakeWhileDataset(self, predicate)

    def scan(self, initial_state, scan_func, name=None) -> "Dataset":
        from graphcompat.data.more_transformations import ScanDataset
        return ScanDataset(self, initial_state, scan_func)

    def group_by_window(self, key_func, reduce_func, window_size=None, window_size_func=None,
                        name=None) -> "Dataset":
        from graphcompat.data.more_transformations import group_by_window
        return group_by_window(key_func, reduce_func, window_size, window_size_func)(self)

    def bucket_by_sequence_length(self, element_length_func, bucket_boundaries, bucket_batch_sizes,
                                  padded_shapes=None, padding_values=None, pad_to_bucket_boundary=False,
                                  no_padding=False, drop_remainder=False, name=None) -> "Dataset":
        from graphcompat.data.more_transformations import bucket_by_sequence_length
        return bucket_by_sequence_length(element_length_func, bucket_boundaries, bucket_batch_sizes,
                                         padded_shapes, padding_values, pad_to_bucket_boundary, no_padding,
                                         drop_remainder)(self)

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True) -> "Dataset":
        from graphcompat.data.more_transformations import choose_from_datasets
        return choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)

    def rejection_resample(self, class_func, target_dist, initial_dist=None, seed=None, name=None):
        raise NotImplementedError("tf.data.Dataset.rejection_resample is not supported by graphcompat.")

    @staticmethod
    def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False,
                             rerandomize_each_iteration=None) -> "Dataset":
        from graphcompat.data.more_transformations import sample_from_datasets
        return sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset, rerandomize_each_iteration)

    @staticmethod
    def random(seed=None, rerandomize_each_iteration=None, name=None) -> "Dataset":
        from graphcompat.data.more_transformations import RandomDataset
        return RandomDataset(seed, rerandomize_each_iteration)

    @staticmethod
    def counter(start=0, step=1, dtype=_dt.int64, name=None) -> "Dataset":
        from graphcompat.data.more_transformations import Counter
        return Counter(start, step, dtype)

    def reduce(self, initial_state, reduce_func, name=None):
        """TF's ReduceDataset: reduce_func(state, element) -> new state, over every element."""
        from graphcompat.data.experimental_ops import reduce
        return reduce(self, initial_state, reduce_func)

    def get_single_element(self, name=None):
        from graphcompat.data.experimental_ops import get_single_element
        return get_single_element(self)

    def unique(self, name=None) -> "Dataset":
        from graphcompat.data.experimental_ops import UniqueDataset
        return UniqueDataset(self)

    def ignore_errors(self, log_warning=False, name=None) -> "Dataset":
        from graphcompat.data.experimental_ops import IgnoreErrorsDataset
        return IgnoreErrorsDataset(self, log_warning)

    def with_options(self, options, name=None) -> "Dataset":
        """`Dataset.with_options`: an `OptionsDataset` recording the options (none of them changes the
        elements graphcompat yields; see graphcompat/data/options.py)."""
        return OptionsDataset(self, options)

    @property
    def _options_attr(self):
        """The options of this dataset and its inputs, merged (TF's `_options_attr`; immutable)."""
        from graphcompat.data.options import Options
        merged = self.__dict__.get("_merged_options")
        if merged is None:
            merged = Options()
            for child in self._children:
                merged = merged.merge(child._options_attr)
            merged._set_mutable(False)
            self.__dict__["_merged_options"] = merged
        return merged

    def options(self):
        """`Dataset.options()`: the merged options, read-only. In graph mode TF warns that the value may
        not reflect the options in the graph; graphcompat's always does, but the warning is TF's."""
        import warnings
        warnings.warn("To make it possible to preserve tf.data options across serialization boundaries, their "
                      "implementation has moved to be part of the TensorFlow graph. As a consequence, the options "
                      "value is in general no longer known at graph construction time. Invoking this method in "
                      "graph mode retains the legacy behavior of the original implementation, but note that the "
                      "returned value might not reflect the actual value of the options.")
        return self._options_attr

    def as_numpy_iterator(self):
        """TF's graph mode refuses it (iterate with `make_one_shot_iterator` and a Session instead)."""
        raise RuntimeError("`tf.data.Dataset.as_numpy_iterator()` is only supported in eager mode.")

    # --- iterators ----------------------------------------------------------------------------
    def make_one_shot_iterator(self):
        from graphcompat.data.iterator_ops import Iterator
        return Iterator._one_shot(self)

    def make_initializable_iterator(self, shared_name=None):
        from graphcompat.data.iterator_ops import Iterator
        return Iterator._initializable(self, shared_name)

    def __iter__(self):
        raise RuntimeError("`tf.data.Dataset` only supports Python-style iteration in eager mode or within "
                           "tf.function.")

    # --- static facts -------------------------------------------------------------------------

def _sparse_positions(template) -> list:
    """The flat component positions where the element's SparseTensors (three components each) start."""
    out, k = [], 0
    for leaf in nest.flatten(template):
        if isinstance(leaf, nest.SparseLeaf):
            out.append(k)
            k += 3
        else:
            k += 1
    return out


def _sparse_tensor(indices, values, dense_shape):
    from graphcompat.ops.parsing_ops import SparseTensor
    return SparseTensor(indices, values, dense_shape)


def pack_specs(template, specs: list, dense_fn, sparse_fn):
    """`template` filled from component specs: dense_fn(spec) per tensor, sparse_fn(i, v, s) per SparseTensor."""
    flat, k = [], 0
    for leaf in nest.flatten(template):
        if isinstance(leaf, nest.SparseLeaf):
            flat += specs[k:k + 3]
            k += 3
        else:
            flat.append(dense_fn(specs[k]))
            k += 1
    return nest.pack(template, flat, sparse=sparse_fn)


def _sparse_shape(i, v, s):
    rank = s.shape[0].value if s.shape.ndims == 1 else None
    return _ts.unknown_shape() if rank is None else _ts.TensorShape([None] * rank)


# A dataset-valued component (a window) is its DatasetSpec in all three legacy views, as TF's.
def _output_types(template, specs):
    return pack_specs(template, specs, lambda sp: sp if isinstance(sp, DatasetSpec) else sp.dtype,
                      lambda i, v, s: v.dtype)


def _output_shapes(template, specs):
    return pack_specs(template, specs, lambda sp: sp if isinstance(sp, DatasetSpec) else sp.shape, _sparse_shape)


def _output_classes(template, specs):
    from graphcompat.ops.parsing_ops import SparseTensor
    return pack_specs(template, specs, lambda sp: sp if isinstance(sp, DatasetSpec) else _ops.Tensor,
                      lambda i, v, s: SparseTensor)


# The node classes live in sources.py and transformations.py (they subclass Dataset, defined above).
from graphcompat.data.sources import (ConcatenateDataset, RangeDataset, TensorDataset,  # noqa: E402,F401
                                      TensorSliceDataset, ZipDataset)
from graphcompat.data.transformations import (BatchDataset, CacheDataset,  # noqa: E402,F401
                                              FilterDataset, FlatMapDataset, InterleaveDataset, MapDataset,
                                              PaddedBatchDataset, PrefetchDataset, RepeatDataset, ShuffleDataset,
                                              SkipDataset, TakeDataset, UnbatchDataset)
from graphcompat.data.transformations import OptionsDataset  # noqa: E402,F401
