"""Dataset nodes of an imported GraphDef (TF's or graphcompat's own) whose functions must be imported.

A dataset op is recorded as it is: the back end builds the pipeline from the ops (lowering/data), so
`tf.import_graph_def` (graphcompat/framework/importer.py) creates most dataset nodes like any node. An op
with a function (`MapDataset`'s `f`, `FilterDataset`'s `predicate` …) comes here first: the function is
imported by calling its FunctionDef on the element's `_Arg`s, which records it in this graph's library as
graphcompat's own dataset functions are (dataset_ops.Function); the node then names that function and
passes the captures it reads (`other_arguments`). A one-shot iterator's `dataset_factory` is imported by
calling it, and the iterator gets a factory of its own over the imported pipeline.
"""
from __future__ import annotations

from typing import Callable

from graphcompat.data.dataset_ops import DatasetSpec, Function, Spec
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops

# `call(func_attr, args)` imports a library function's body with `args` bound and returns its outputs.
CallFunction = Callable[[object, list], list]

# op type → (func attr, name scope of its body, the transformation in its library name, op inputs after
# the captures: the op's own arguments)
FUNCTION_DATASET_OPS = {
    "MapDataset": ("f", "map_fn", "map", 0),
    "ParallelMapDatasetV2": ("f", "pmap_fn", "map", 1),
    "FilterDataset": ("predicate", "filter_fn", "filter", 0),
    "TakeWhileDataset": ("predicate", "take_while_fn", "take_while", 0),
    "FlatMapDataset": ("f", "flat_map_fn", "flat_map", 0),
    "InterleaveDataset": ("f", "flat_map_fn", "interleave", 2),
    "ParallelInterleaveDatasetV4": ("f", "flat_map_fn", "interleave", 5),
    "LegacyParallelInterleaveDatasetV2": ("f", "flat_map_fn", "interleave", 4),
    # the op types of more_ops.py (TF 1.x's and the Experimental* names)
    "MapAndBatchDataset": ("f", "map_fn", "map", 3),
    "ExperimentalMapAndBatchDataset": ("f", "map_fn", "map", 3),
    "ParallelMapDataset": ("f", "pmap_fn", "map", 1),
    "ParallelFilterDataset": ("predicate", "filter_fn", "filter", 1),
    "ExperimentalTakeWhileDataset": ("predicate", "take_while_fn", "take_while", 0),
    "ParallelInterleaveDataset": ("f", "flat_map_fn", "interleave", 5),
    "ExperimentalParallelInterleaveDataset": ("f", "flat_map_fn", "interleave", 5),
    "ParallelInterleaveDatasetV2": ("f", "flat_map_fn", "interleave", 3),
    "ParallelInterleaveDatasetV3": ("f", "flat_map_fn", "interleave", 3),
}
# Dataset ops the importer hands here (the others are ordinary nodes).
IMPORTED_HERE = frozenset(FUNCTION_DATASET_OPS) | {"GeneratorDataset", "OneShotIterator"}
# Dataset ops with a state or several functions: their own import below.
IMPORTED_HERE |= {"ScanDataset", "GroupByWindowDataset", "ExperimentalScanDataset", "ExperimentalGroupByWindowDataset",
                  "ReduceDataset", "GroupByReducerDataset", "ExperimentalGroupByReducerDataset"}


def _element_specs(variant: _ops.Tensor) -> list:
    """The element's component specs, from the attrs of the dataset op that produces `variant`."""
    op = variant.op
    while op.type == "Identity":
        op = op.inputs[0].op
    if op.type == "WindowDataset":  # each component a window: a dataset of the input's component
        return [DatasetSpec(None, [s]) for s in _element_specs(op.inputs[0])]
    types = op.attrs.get("output_types", op.attrs.get("Toutput_types"))
    if types is None:  # the file readers: one scalar string
        return [Spec(_dt.string, [])]
    shapes = op.attrs.get("output_shapes") or [None] * len(types)
    return [Spec(t, s) for t, s in zip(types, shapes)]


def _element_function(call: CallFunction, func_attr, captures: list):
    """A Python callable of one element's components that imports `func_attr` with the captures appended."""
    def fn(*components):
        # a window component arrives as a Dataset over its _Arg: the body takes the variant
        components = [getattr(c, "_variant", c) for c in components]
        outs = call(func_attr, list(components) + list(captures))
        return tuple(outs) if len(outs) != 1 else outs[0]
    fn.__name__ = getattr(func_attr, "name", "fn").rpartition("Dataset_")[2] or "fn"
    return fn


def import_functions(op_type: str, name: str, inputs: list, attrs: dict, call: CallFunction) -> tuple:
    """(inputs, attrs) of a dataset node whose function is imported into this graph's library."""
    if op_type == "GeneratorDataset":  # TF's calls py_funcs registered in the process that wrote the graph
        raise NotImplementedError(f"graphcompat cannot import the dataset node '{name}' (GeneratorDataset): its "
                                  "Python generator belongs to the process that wrote the graph")
    if op_type in ("ScanDataset", "ExperimentalScanDataset"):
        return _import_scan(inputs, attrs, call)
    if op_type == "ReduceDataset":
        return _import_scan(inputs, attrs, call, "reduce_fn", "reduce")
    if op_type in ("GroupByWindowDataset", "ExperimentalGroupByWindowDataset"):
        return _import_group_by_window(inputs, attrs, call)
    if op_type in ("GroupByReducerDataset", "ExperimentalGroupByReducerDataset"):
        return _import_group_by_reducer(inputs, attrs, call)
    if op_type == "LegacyParallelInterleaveDatasetV2" and attrs.get("deterministic") in ("false", b"false"):
        raise NotImplementedError(f"LegacyParallelInterleaveDatasetV2 '{name}': sloppy (nondeterministic) "
                                  "interleave is not supported by graphcompat")
    attr, scope, transformation, n_own = FUNCTION_DATASET_OPS[op_type]
    specs = _element_specs(inputs[0])
    captures = inputs[1:len(inputs) - n_own]
    own = inputs[len(inputs) - n_own:]
    template = tuple([None] * len(specs)) if len(specs) != 1 else None  # a GraphDef's flat components
    fn = Function(_element_function(call, attrs[attr], captures), template, specs, scope, transformation)
    attrs = dict(attrs, **{attr: fn.func_attr, "Targuments": fn.capture_types})
    return [inputs[0]] + fn.captures + own, attrs


def _flat_template(n: int):
    return tuple([None] * n) if n != 1 else None  # a GraphDef's flat components


def _import_scan(inputs: list, attrs: dict, call: CallFunction, scope: str = "scan_fn",
                 transformation: str = "scan") -> tuple:
    """ScanDataset (and ReduceDataset): `f` of (state..., element...), the state's specs from its initial
    values."""
    n_state = len(attrs.get("Tstate") or ())
    state = inputs[1:1 + n_state]
    captures = inputs[1 + n_state:]
    specs = [Spec(t.dtype, t.shape) for t in state] + _element_specs(inputs[0])
    fn = Function(_element_function(call, attrs["f"], captures), tuple([None] * len(specs)), specs, scope,
                  transformation)
    return [inputs[0]] + state + fn.captures, dict(attrs, f=fn.func_attr, Targuments=fn.capture_types)


def _import_group_by_window(inputs: list, attrs: dict, call: CallFunction) -> tuple:
    """GroupByWindowDataset: key_func of the element, reduce_func of (key, the group as a dataset),
    window_size_func of the key; each with its own captures, in that order."""
    specs = _element_specs(inputs[0])
    key_spec = Spec(_dt.int64, [])
    out_inputs, out_attrs, k = [inputs[0]], dict(attrs), 1
    for attr, arg_specs, template in (
            ("key_func", specs, _flat_template(len(specs))),
            ("reduce_func", [key_spec, DatasetSpec(_flat_template(len(specs)), specs)], (None, None)),
            ("window_size_func", [key_spec], None)):
        types_attr = f"T{attr}_other_arguments"
        n = len(attrs.get(types_attr) or ())
        captures, k = inputs[k:k + n], k + n
        fn = Function(_element_function(call, attrs[attr], captures), template, arg_specs, attr, "group_by_window")
        out_inputs += fn.captures
        out_attrs[attr], out_attrs[types_attr] = fn.func_attr, fn.capture_types
    return out_inputs, out_attrs


def _import_group_by_reducer(inputs: list, attrs: dict, call: CallFunction) -> tuple:
    """GroupByReducerDataset: key_func of the element, init_func of the key, reduce_func of (state...,
    element...), finalize_func of the state...; each with its own captures, in that order. The state's specs
    are init_func's outputs'."""
    specs = _element_specs(inputs[0])
    out_inputs, out_attrs, k = [inputs[0]], dict(attrs), 1
    state: list = []
    for attr in ("key_func", "init_func", "reduce_func", "finalize_func"):
        arg_specs = {"key_func": specs, "init_func": [Spec(_dt.int64, [])], "reduce_func": state + specs,
                     "finalize_func": state}[attr]
        types_attr = f"T{attr}_other_arguments"
        n = len(attrs.get(types_attr) or ())
        captures, k = inputs[k:k + n], k + n
        fn = Function(_element_function(call, attrs[attr], captures), _flat_template(len(arg_specs)), arg_specs,
                      attr, "tf.data.experimental.group_by_reducer()")
        if attr == "init_func":
            state = list(fn.specs)
        out_inputs += fn.captures
        out_attrs[attr], out_attrs[types_attr] = fn.func_attr, fn.capture_types
    return out_inputs, out_attrs


def import_one_shot_iterator(name: str, attrs: dict, call: CallFunction) -> _ops.Tensor:
    """An imported OneShotIterator: its `dataset_factory` imported (TF builds the pipeline from it), the
    iterator recorded under `name` with a factory of its own in this graph's library."""
    from graphcompat.data import iterator_ops
    from graphcompat.framework.registry import apply_op
    with _ops.name_scope(name.rpartition("/")[2] + "_dataset_factory"):
        variant = call(attrs["dataset_factory"], [])[0]
    keep = {k: v for k, v in attrs.items() if k in ("shared_name", "container", "output_types", "output_shapes")}
    return apply_op("OneShotIterator", [], dict(keep, dataset_factory=iterator_ops._dataset_factory(variant)),
                    name=name + "/")

