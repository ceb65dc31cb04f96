"""Dataset nodes of an imported GraphDef (TF's or graphcompat's own) rebuilt as graphcompat Datasets.

`tf.import_graph_def` (graphcompat/framework/importer.py) hands each dataset node here instead of recording
it as a bare op: the node's op type, its input tensors (already imported), its attrs and a way to import
the library functions its func attrs name. The node becomes the Dataset graphcompat's own builders make
(the same classes, so the same lowering, host and device walks), recorded under the node's name with the
imported tensors as its arguments. A function (`f`, `predicate`, a one-shot iterator's `dataset_factory`)
is imported by calling it: the Dataset records it on its `_Arg`s as it records a Python function.
"""
from __future__ import annotations

import contextlib
from typing import Callable

from graphcompat.data import dataset_ops as _dso
from graphcompat.data import readers, sources, transformations
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value

# `call(func_attr, args)` imports a library function's body with `args` bound and returns its outputs.
CallFunction = Callable[[object, list], list]


@contextlib.contextmanager
def _recording(name: str):
    """The next dataset op recorded gets exactly `name` (a nested rebuild sets and restores its own)."""
    saved = _dso._recording_name[0]
    _dso._recording_name[0] = name + "/"
    try:
        yield
    finally:
        _dso._recording_name[0] = saved


def _dataset(t: _ops.Tensor, node_name: str) -> _dso.Dataset:
    ds = _dso.dataset_of(t)
    if ds is None:
        raise NotImplementedError(f"dataset node '{node_name}' reads the variant {t.name}, which is not a dataset "
                                  f"graphcompat rebuilt")
    return ds


def _element_function(call: CallFunction, func_attr, captures: list, returns_dataset: bool, node_name: str):
    """A Python callable of one element's components that imports `func_attr` with the captures appended."""
    def fn(*components):
        outs = call(func_attr, list(components) + list(captures))
        if returns_dataset:
            return _dataset(outs[0], node_name)
        return tuple(outs) if len(outs) != 1 else outs[0]
    fn.__name__ = getattr(func_attr, "name", "fn").rpartition("Dataset_")[2] or "fn"
    return fn


def _components(tensors: list):
    """The element structure a GraphDef keeps: flat components (one alone, several as a tuple)."""
    return tensors[0] if len(tensors) == 1 else tuple(tensors)


def _deterministic(attrs: dict):
    value = attrs.get("deterministic", "default")
    value = value.decode() if isinstance(value, bytes) else value
    return None if value == "default" else value == "true"


def _static_shape(t: _ops.Tensor, node_name: str) -> _ts.TensorShape:
    value = constant_value(t)
    if value is None:
        raise NotImplementedError(f"PaddedBatchDatasetV2 '{node_name}': graphcompat needs constant padded shapes")
    return _ts.TensorShape([None if int(d) == -1 else int(d) for d in value.reshape(-1)])


def rebuild(op_type: str, name: str, inputs: list, attrs: dict, call: CallFunction) -> _dso.Dataset:
    """The Dataset for one imported dataset node, recorded under `name`."""
    def ds(k: int) -> _dso.Dataset:
        return _dataset(inputs[k], name)

    with _recording(name):
        if op_type == "TensorSliceDataset":
            return sources.TensorSliceDataset(_components(inputs), is_files=bool(attrs.get("is_files", False)))
        if op_type == "TensorDataset":
            return sources.TensorDataset(_components(inputs))
        if op_type == "RangeDataset":
            out_type = (attrs.get("output_types") or [None])[0]
            return sources.RangeDataset(*inputs, **({"output_type": out_type} if out_type is not None else {}))
        if op_type == "ZipDataset":
            return sources.ZipDataset(tuple(ds(k) for k in range(len(inputs))))
        if op_type == "ConcatenateDataset":
            return sources.ConcatenateDataset(ds(0), ds(1))
        if op_type in ("MapDataset", "ParallelMapDatasetV2"):
            parallel = op_type == "ParallelMapDatasetV2"
            captures = inputs[1:-1] if parallel else inputs[1:]
            fn = _element_function(call, attrs["f"], captures, False, name)
            return transformations.MapDataset(ds(0), fn, inputs[-1] if parallel else None,
                                              _deterministic(attrs) if parallel else None)
        if op_type == "FilterDataset":
            return transformations.FilterDataset(ds(0), _element_function(call, attrs["predicate"], inputs[1:],
                                                                          False, name))
        if op_type == "FlatMapDataset":
            return transformations.FlatMapDataset(ds(0), _element_function(call, attrs["f"], inputs[1:], True, name))
        if op_type == "InterleaveDataset":
            fn = _element_function(call, attrs["f"], inputs[1:-2], True, name)
            return transformations.InterleaveDataset(ds(0), fn, inputs[-2], inputs[-1])
        if op_type == "ParallelInterleaveDatasetV4":
            fn = _element_function(call, attrs["f"], inputs[1:-5], True, name)
            return transformations.InterleaveDataset(ds(0), fn, inputs[-5], inputs[-4], inputs[-1],
                                                     buffering=(inputs[-3], inputs[-2]),
                                                     deterministic=_deterministic(attrs))
        if op_type == "LegacyParallelInterleaveDatasetV2":
            if attrs.get("deterministic") in ("false", b"false"):
                raise NotImplementedError(f"LegacyParallelInterleaveDatasetV2 '{name}': sloppy (nondeterministic) "
                                          "interleave is not supported by graphcompat")
            fn = _element_function(call, attrs["f"], inputs[1:-4], True, name)
            return transformations.InterleaveDataset(ds(0), fn, inputs[-4], inputs[-3], legacy_parallel=True,
                                                     buffering=(inputs[-2], inputs[-1]))
        if op_type == "ShuffleDataset":
            return transformations.ShuffleDataset(ds(0), inputs[1], None, attrs.get("reshuffle_each_iteration", True),
                                                  seed_tensors=(inputs[2], inputs[3]))
        if op_type == "RepeatDataset":
            return transformations.RepeatDataset(ds(0), inputs[1])
        if op_type == "BatchDatasetV2":
            return transformations.BatchDataset(ds(0), inputs[1], inputs[2])
        if op_type == "ParallelBatchDataset":
            return transformations.BatchDataset(ds(0), inputs[1], inputs[3], inputs[2], _deterministic(attrs))
        if op_type == "PaddedBatchDatasetV2":
            n = int(attrs["N"])
            shapes = [_static_shape(t, name) for t in inputs[2:2 + n]]
            values = inputs[2 + n:2 + 2 * n]
            return transformations.PaddedBatchDataset(ds(0), inputs[1], _components(shapes), _components(values),
                                                      inputs[-1])
        if op_type == "PrefetchDataset":
            return transformations.PrefetchDataset(ds(0), inputs[1])
        if op_type == "TakeDataset":
            return transformations.TakeDataset(ds(0), inputs[1])
        if op_type == "SkipDataset":
            return transformations.SkipDataset(ds(0), inputs[1])
        if op_type == "CacheDataset":
            return transformations.CacheDataset(ds(0), inputs[1])
        if op_type == "UnbatchDataset":
            return transformations.UnbatchDataset(ds(0))
        if op_type == "OptionsDataset":
            return _options_dataset(ds(0), attrs.get("serialized_options", b""))
        if op_type == "TextLineDataset":
            return readers._TextLineReader(inputs[0], inputs[1], inputs[2])
        if op_type == "TFRecordDataset":
            return readers._TFRecordReader(inputs[0], inputs[1], inputs[2])
        if op_type == "FixedLengthRecordDatasetV2":
            filenames, header, record, footer, buffer, compression = inputs
            return readers._FixedLengthRecordReader(filenames, record, header, footer, buffer, compression)
        if op_type == "MatchingFilesDataset":
            return readers.MatchingFilesDataset(inputs[0])
    # GeneratorDataset: TF's calls py_funcs registered in the process that wrote the graph.
    raise NotImplementedError(f"graphcompat cannot rebuild the imported dataset node '{name}' ({op_type})")


def _options_dataset(input_ds: _dso.Dataset, serialized: bytes) -> _dso.Dataset:
    """An OptionsDataset carrying the imported options' bytes (none of them changes the elements)."""
    out = transformations.OptionsDataset.__new__(transformations.OptionsDataset)
    with _ops.colocate_with(input_ds._variant):
        out._record([input_ds], [], input_ds._template, input_ds._specs,
                    attrs={"serialized_options": serialized})
    out.__dict__["_merged_options"] = input_ds._options_attr
    return out


def rebuild_one_shot_iterator(name: str, attrs: dict, call: CallFunction) -> _ops.Tensor:
    """An imported OneShotIterator: its `dataset_factory` imported (TF builds the pipeline from it), the
    iterator recorded under `name` with a factory of its own in this graph's library."""
    from graphcompat.data import iterator_ops
    from graphcompat.framework.registry import apply_op
    with _ops.name_scope(name.rpartition("/")[2] + "_dataset_factory"):
        outs = call(attrs["dataset_factory"], [])
    ds = _dataset(outs[0], name)
    factory = iterator_ops._dataset_factory(ds)
    keep = {k: v for k, v in attrs.items() if k in ("shared_name", "container")}
    return apply_op("OneShotIterator", [], dict(iterator_ops.Iterator._attrs(ds._specs), dataset_factory=factory,
                                                **keep), name=name + "/")
