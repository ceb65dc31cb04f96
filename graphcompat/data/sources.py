"""tf.data sources and combinators: `from_tensor_slices`, `from_tensors`, `range`, `zip`, `concatenate`.

Each class records TF's op and keeps the static facts of the Python API (element structure, shapes,
cardinality); lowering/data/sources.py runs it.
"""
from __future__ import annotations

from graphcompat.data import structure as nest
from graphcompat.data.dataset_ops import Dataset, Spec
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor


class TensorSliceDataset(Dataset):
    _op_type = "TensorSliceDataset"

    def __init__(self, tensors, is_files: bool = False):
        """`is_files`: TF's mark on the file names a reader reads (`tf.data.TextLineDataset` & co.)."""
        if isinstance(tensors, Dataset) or tensors is None:
            raise TypeError(f"`from_tensor_slices` does not accept {tensors!r}")
        template = nest.template_of(tensors)
        with _ops.name_scope("normalize_element"):
            comps = [convert_to_tensor(x, name=f"component_{i}") for i, x in enumerate(nest.flatten(tensors))]
        n = _ts.Dimension(None)
        for t in comps:
            if t.shape.ndims == 0:
                raise ValueError(f"Unbatching a tensor is only supported for rank >= 1, but got {t.shape}")
            if t.shape.ndims is not None:
                d = t.shape.dims[0]
                if not n.is_compatible_with(d):
                    raise ValueError(f"Dimensions {n.value} and {d.value} are not compatible")
                n = n.merge_with(d)
        self._record([], comps, template,
                     [Spec(t.dtype, t.shape[1:] if t.shape.ndims is not None else None) for t in comps],
                     attrs={"is_files": bool(is_files)})


class TensorDataset(Dataset):
    _op_type = "TensorDataset"

    def __init__(self, tensors):
        template = nest.template_of(tensors)
        with _ops.name_scope("normalize_element"):
            comps = [convert_to_tensor(x, name=f"component_{i}") for i, x in enumerate(nest.flatten(tensors))]
        self._record([], comps, template, [Spec(t.dtype, t.shape) for t in comps])


class RangeDataset(Dataset):
    _op_type = "RangeDataset"

    def __init__(self, *args, output_type=_dt.int64):
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid arguments to RangeDataset: {args}")
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (args[0], args[1], args[2] if len(args) == 3 else 1)
        tensors = [convert_to_tensor(v, _dt.int64, name=n) for v, n in zip((start, stop, step),
                                                                          ("start", "stop", "step"))]
        self._out_dtype = _dt.as_dtype(output_type)
        self._record([], tensors, None, [Spec(self._out_dtype, [])])

# --- combinators --------------------------------------------------------------------------------
class ZipDataset(Dataset):
    _op_type = "ZipDataset"

    def __init__(self, datasets):
        leaves = nest.flatten(datasets)
        for d in leaves:
            if not isinstance(d, Dataset):
                raise TypeError(f"The argument to `Dataset.zip()` must be a (nested) structure of `Dataset` "
                                f"objects. Got {type(d).__name__}.")
        template = nest.pack(datasets, [d._template if d._template is not None else None for d in leaves])
        self._record(leaves, [], template, [s for d in leaves for s in d._specs])


class ConcatenateDataset(Dataset):
    _op_type = "ConcatenateDataset"

    def __init__(self, a: Dataset, b: Dataset):
        if [s.dtype for s in a._specs] != [s.dtype for s in b._specs]:
            raise TypeError(f"Incompatible dataset elements:\n  {a.output_types} vs.   {b.output_types}")
        specs = [Spec(x.dtype, x.shape.most_specific_compatible_shape(y.shape)) for x, y in zip(a._specs, b._specs)]
        self._record([a, b], [], a._template, specs)
