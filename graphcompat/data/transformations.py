"""tf.data transformations: map, filter, flat_map, interleave, shuffle, repeat, batch, padded_batch,
prefetch, take, skip, cache, unbatch. Each records TF's op; lowering/data/transformations.py runs it.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.data import structure as nest
from graphcompat.data.dataset_ops import (AUTOTUNE, Dataset, Function, Spec, _get_seed, _static_int,
                                          deterministic_attr)
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor


class MapDataset(Dataset):
    _op_type = "MapDataset"

    def __init__(self, input_ds: Dataset, map_func, num_parallel_calls=None, deterministic=None):
        parallel = num_parallel_calls is not None
        self._fn = Function(map_func, input_ds._template, input_ds._specs, "map_fn" if not parallel else "pmap_fn",
                            "map")
        if self._fn.dataset is not None:
            raise TypeError("The map function must return a (nested) structure of tensors, not a Dataset; "
                            "use flat_map.")
        extra = []
        if parallel:  # TF's ParallelMapDatasetV2 takes it as its last input
            extra = [convert_to_tensor(num_parallel_calls, _dt.int64, name="num_parallel_calls")]
        self._record([input_ds], self._fn.captures + extra, self._fn.template, self._fn.specs,
                     "ParallelMapDatasetV2" if parallel else "MapDataset",
                     {"f": self._fn.func_attr, "Targuments": self._fn.capture_types,
                      **({"deterministic": deterministic_attr(deterministic)} if parallel else {})})


class FilterDataset(Dataset):
    _op_type = "FilterDataset"

    def __init__(self, input_ds: Dataset, predicate):
        self._fn = Function(predicate, input_ds._template, input_ds._specs, "filter_fn", "filter")
        out = self._fn.specs
        if self._fn.dataset is not None or len(out) != 1 or out[0].dtype != _dt.bool_ or \
                not out[0].shape.is_compatible_with([]):
            raise ValueError(f"`predicate` return type must be convertible to a scalar boolean tensor. Was "
                             f"{out[0] if len(out) == 1 else out}.")
        self._record([input_ds], self._fn.captures, input_ds._template, input_ds._specs,
                     attrs={"predicate": self._fn.func_attr, "Targuments": self._fn.capture_types})


class FlatMapDataset(Dataset):
    _op_type = "FlatMapDataset"

    def __init__(self, input_ds: Dataset, map_func, op_type: str = "FlatMapDataset", extra: list = (),
                 attrs: Optional[dict] = None):
        transformation = "flat_map" if op_type == "FlatMapDataset" else "interleave"
        self._fn = Function(map_func, input_ds._template, input_ds._specs, "flat_map_fn", transformation)
        if self._fn.dataset is None:
            raise TypeError("`map_func` must return a `Dataset` object.")
        inner = self._fn.dataset
        # TF's order: the captures (`other_arguments`), then the op's own arguments (interleave's lengths)
        self._record([input_ds], self._fn.captures + list(extra), inner._template, inner._specs, op_type,
                     {"f": self._fn.func_attr, "Targuments": self._fn.capture_types, **(attrs or {})})


class InterleaveDataset(FlatMapDataset):
    _op_type = "InterleaveDataset"

    def __init__(self, input_ds, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                 legacy_parallel: bool = False, buffering: tuple = (), deterministic=None,
                 legacy_deterministic: str = "true"):
        """TF's three interleave ops, one deterministic walk: `InterleaveDataset`; with `num_parallel_calls`
        `ParallelInterleaveDatasetV4`; `legacy_parallel` (tf.data.experimental.parallel_interleave without
        sloppiness, the file readers' num_parallel_reads) `LegacyParallelInterleaveDatasetV2`. `buffering`:
        the parallel ops' (buffer_output_elements, prefetch_input_elements) tensors (else TF's defaults);
        `legacy_deterministic`: the legacy op's `deterministic` attr ("true", "false" or "default")."""
        cycle = convert_to_tensor(AUTOTUNE if cycle_length is None else cycle_length, _dt.int64, name="cycle_length")
        block = convert_to_tensor(1 if block_length is None else block_length, _dt.int64, name="block_length")
        extra, attrs, op_type = [cycle, block], {}, "InterleaveDataset"
        if legacy_parallel:  # TF's defaults: two blocks buffered per input, two inputs prefetched per slot
            extra += list(buffering) or [
                convert_to_tensor(2 * _static_int(block), _dt.int64, name="buffer_output_elements"),
                convert_to_tensor(2 * _static_int(cycle), _dt.int64, name="prefetch_input_elements")]
            attrs, op_type = {"deterministic": legacy_deterministic}, "LegacyParallelInterleaveDatasetV2"
        elif num_parallel_calls is not None:
            extra += list(buffering) or [convert_to_tensor(AUTOTUNE, _dt.int64, name="buffer_output_elements"),
                                         convert_to_tensor(AUTOTUNE, _dt.int64, name="prefetch_input_elements")]
            extra.append(convert_to_tensor(num_parallel_calls, _dt.int64, name="num_parallel_calls"))
            attrs = {"deterministic": deterministic_attr(deterministic)}
            op_type = "ParallelInterleaveDatasetV4"
        super().__init__(input_ds, map_func, op_type, extra, attrs)


class ShuffleDataset(Dataset):
    _op_type = "ShuffleDataset"

    def __init__(self, input_ds: Dataset, buffer_size, seed, reshuffle: bool, seed_tensors: tuple = ()):
        """`seed_tensors`: (seed, seed2) tensors an imported graph computed."""
        buffer = convert_to_tensor(buffer_size, _dt.int64, name="buffer_size")
        if seed_tensors:  # an imported graph's own seed ops
            seed_t, seed2_t = seed_tensors
        else:
            seed_t, seed2_t = _seed_tensors(_get_seed(seed))
        self._reshuffle = bool(reshuffle)
        self._record([input_ds], [buffer, seed_t, seed2_t], input_ds._template, input_ds._specs,
                     attrs={"reshuffle_each_iteration": self._reshuffle})


def _seed_tensors(seeds) -> tuple:
    """tf.data's random_seed.get_seed as ops: (seed, seed2); seed2 becomes 2**31 - 1 where both seeds are 0
    (0, 0 asks the kernel for random seeds)."""
    if seeds is None:
        return convert_to_tensor(0, _dt.int64, name="seed"), convert_to_tensor(0, _dt.int64, name="seed2")
    from graphcompat.ops import math_ops
    seed_t = convert_to_tensor(seeds[0], _dt.int64, name="seed")
    with _ops.name_scope("seed2") as scope:
        seed2_t = convert_to_tensor(seeds[1], _dt.int64)
        both_zero = math_ops.logical_and(math_ops.equal(seed_t, 0), math_ops.equal(seed2_t, 0))
        seed2_t = math_ops.where_v2(both_zero, convert_to_tensor(2 ** 31 - 1, _dt.int64), seed2_t, name=scope)
    return seed_t, seed2_t


class RepeatDataset(Dataset):
    _op_type = "RepeatDataset"

    def __init__(self, input_ds: Dataset, count):
        t = convert_to_tensor(-1 if count is None else count, _dt.int64, name="count")
        self._record([input_ds], [t], input_ds._template, input_ds._specs)


class BatchDataset(Dataset):
    _op_type = "BatchDatasetV2"

    def __init__(self, input_ds: Dataset, batch_size, drop_remainder, num_parallel_calls=None, deterministic=None):
        """With `num_parallel_calls` TF's `ParallelBatchDataset` (the same batches)."""
        bs = convert_to_tensor(batch_size, _dt.int64, name="batch_size")
        dr = convert_to_tensor(drop_remainder, _dt.bool_, name="drop_remainder")
        parallel = [] if num_parallel_calls is None else [
            convert_to_tensor(num_parallel_calls, _dt.int64, name="num_parallel_calls")]
        self._b = _static_int(bs)
        drop = constant_value(dr)
        self._drop = None if drop is None else bool(drop)
        lead = self._b if self._drop else None
        specs, k = [], 0
        for leaf in nest.flatten(input_ds._template):
            if isinstance(leaf, nest.SparseLeaf):  # a batch of SparseTensors is one SparseTensor of rank + 1
                i, v, sh = input_ds._specs[k:k + 3]
                rank = sh.shape[0].value if sh.shape.ndims == 1 else None
                r1 = None if rank is None else rank + 1
                specs += [Spec(_dt.int64, [None, r1]), Spec(v.dtype, [None]), Spec(_dt.int64, [r1])]
                k += 3
            else:
                s = input_ds._specs[k]
                specs.append(Spec(s.dtype, _ts.TensorShape([lead]).concatenate(s.shape)))
                k += 1
        if parallel:
            self._record([input_ds], [bs] + parallel + [dr], input_ds._template, specs, "ParallelBatchDataset",
                         {"deterministic": deterministic_attr(deterministic)})
        else:
            self._record([input_ds], [bs, dr], input_ds._template, specs)


class PaddedBatchDataset(Dataset):
    _op_type = "PaddedBatchDatasetV2"

    def __init__(self, input_ds: Dataset, batch_size, padded_shapes, padding_values, drop_remainder):
        if nest.has_sparse(input_ds._template):
            raise NotImplementedError("tf.data.Dataset.padded_batch of SparseTensor components is not supported "
                                      "by graphcompat.")
        bs = convert_to_tensor(batch_size, _dt.int64, name="batch_size")
        if padded_shapes is None:
            shapes = [s.shape for s in input_ds._specs]
        else:
            shapes = [_ts.as_shape(s) for s in nest.flatten_up_to(input_ds._template, padded_shapes)]
        for s, spec in zip(shapes, input_ds._specs):
            if not s.is_compatible_with(spec.shape) and s.ndims != spec.shape.ndims:
                raise ValueError(f"The padded shape {s} is not compatible with the corresponding input "
                                 f"component shape {spec.shape}.")
        if padding_values is None:
            pads = [b"" if s.dtype == _dt.string else 0 for s in input_ds._specs]
        else:
            pads = [v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v
                          for v in nest.flatten_up_to(input_ds._template, padding_values)]
        # TF's inputs: one int64 vector per padded shape (-1: pad to the longest), one padding value each
        shape_ts = [convert_to_tensor(np.asarray([-1 if d is None else d for d in s.as_list()]
                                                 if s.ndims is not None else [], np.int64), name="Const")
                    for s in shapes]
        value_ts = [v if isinstance(v, _ops.Tensor) else convert_to_tensor(
                        np.asarray(v, sp.dtype.as_numpy_dtype) if sp.dtype != _dt.string else v, sp.dtype,
                        name="padding_value") for v, sp in zip(pads, input_ds._specs)]
        for v, sp in zip(value_ts, input_ds._specs):
            if v.dtype != sp.dtype or not v.shape.is_compatible_with([]):
                raise TypeError(f"Padding value {v} must be a scalar of type {sp.dtype.name}, matching the "
                                f"component it pads.")
        dr = convert_to_tensor(drop_remainder, _dt.bool_, name="drop_remainder")
        lead = _static_int(bs) if constant_value(dr) else None
        specs = [Spec(sp.dtype, _ts.TensorShape([lead]).concatenate(s)) for s, sp in zip(shapes, input_ds._specs)]
        n = len(shapes)
        self._record([input_ds], [bs] + shape_ts + value_ts + [dr], input_ds._template, specs,
                     groups=[1, 1, n, n, 1])


class _PassThroughDataset(Dataset):
    """A node whose elements are its input's, unchanged (prefetch, options): every walk delegates to it."""


class PrefetchDataset(_PassThroughDataset):
    _op_type = "PrefetchDataset"

    def __init__(self, input_ds: Dataset, buffer_size):
        t = convert_to_tensor(buffer_size, _dt.int64, name="buffer_size")
        with _ops.colocate_with(input_ds._variant):
            self._record([input_ds], [t], input_ds._template, input_ds._specs,
                         attrs={"legacy_autotune": _static_int(t) == AUTOTUNE})


class OptionsDataset(_PassThroughDataset):
    """`with_options`: an identity node whose `serialized_options` attr holds the options' proto bytes."""
    _op_type = "OptionsDataset"

    def __init__(self, input_ds: Dataset, options):
        from graphcompat.data.options import Options
        if not isinstance(options, Options):
            # TF calls options._to_proto() on whatever it is given.
            raise AttributeError(f"'{type(options).__name__}' object has no attribute '_to_proto'")
        with _ops.colocate_with(input_ds._variant):
            self._record([input_ds], [], input_ds._template, input_ds._specs,
                         attrs={"serialized_options": options._serialize()})
        # TF's bookkeeping: the input's options merged with these, frozen. The merge shares the sub-option
        # objects `options` set (as TF's), so those become read-only too.
        merged = input_ds._options_attr.merge(options)
        merged._set_mutable(False)
        self.__dict__["_merged_options"] = merged


class TakeDataset(Dataset):
    _op_type = "TakeDataset"

    def __init__(self, input_ds: Dataset, count):
        t = convert_to_tensor(count, _dt.int64, name="count")
        self._record([input_ds], [t], input_ds._template, input_ds._specs)


class SkipDataset(Dataset):
    _op_type = "SkipDataset"

    def __init__(self, input_ds: Dataset, count):
        t = convert_to_tensor(count, _dt.int64, name="count")
        self._record([input_ds], [t], input_ds._template, input_ds._specs)


class CacheDataset(Dataset):
    _op_type = "CacheDataset"  # TF 1 graph mode's op (CacheDatasetV2 takes a memory-cache resource)

    def __init__(self, input_ds: Dataset, filename):
        t = convert_to_tensor(filename, _dt.string, name="filename")
        self._record([input_ds], [t], input_ds._template, input_ds._specs)


class RebatchDataset(Dataset):
    _op_type = "RebatchDatasetV2"

    def __init__(self, input_ds: Dataset, batch_sizes, drop_remainder, normalize):
        if nest.has_sparse(input_ds._template):
            raise NotImplementedError("tf.data.Dataset.rebatch of SparseTensor components is not supported by "
                                      "graphcompat.")
        sizes = convert_to_tensor(batch_sizes, _dt.int64, name="batch_sizes")
        drop = convert_to_tensor(drop_remainder, _dt.bool_, name="drop_remainder")
        new_dim = self._static_batch_dim(input_ds, sizes, drop)
        specs = []
        for s in input_ds._specs:  # TF's `spec._unbatch()._batch(new_dim)`
            if s.shape.ndims == 0:
                raise ValueError("Unbatching a tensor is only supported for rank >= 1")
            specs.append(Spec(s.dtype, [new_dim] + s.shape.as_list()[1:] if s.shape.ndims is not None else None))
        normalized = input_ds.map(normalize)
        # TF's op wrapper converts the Python values again, inside the op's name scope (the op named as it)
        with _ops.name_scope("RebatchDatasetV2") as scope:
            sizes = batch_sizes if isinstance(batch_sizes, _ops.Tensor) else \
                convert_to_tensor(batch_sizes, _dt.int64, name="batch_sizes")
            drop = drop_remainder if isinstance(drop_remainder, _ops.Tensor) else \
                convert_to_tensor(drop_remainder, _dt.bool_, name="drop_remainder")
            self._record([normalized], [sizes, drop], input_ds._template, specs, name=scope)

    @staticmethod
    def _static_batch_dim(input_ds: Dataset, sizes, drop):
        """TF's `_compute_static_batch_dim`: the output's batch dimension when every batch has it, else None."""
        value = constant_value(sizes)
        if value is None:
            return None
        value = np.asarray(value)
        if value.ndim > 1:
            raise ValueError(f"Invalid `batch_sizes`. Expected `batch_sizes` to be a scalar or a vector. Received "
                             f"`batch_sizes` of rank {value.ndim}.")
        if value.ndim == 1:
            if value.size == 0 or not np.all(value == value[0]):
                return None
            value = value[0]
        desired = int(value)
        if constant_value(drop):
            return desired
        dims = []
        for s in input_ds._specs:
            if s.shape.ndims is None:
                continue
            if s.shape.ndims < 1:
                raise ValueError("Invalid `batch_sizes`. Expected dataset with rank of >= 1 but found a dataset with "
                                 "scalar elements. Fix the issue by adding the `batch` transformation to the dataset.")
            dims.append(s.shape.as_list()[0])
        known = [d for d in dims if d is not None]
        if not known:
            return None
        if any(d != known[0] for d in known):
            raise ValueError(f"Invalid `input_dataset.` The batch dimension of component 0 is {known[0]}, while the "
                             f"batch dimension of component i is {np.asarray(known)}.")
        partial = known[0] % desired != 0 if desired else False  # numpy's x % 0 == 0
        return None if partial else desired


class UnbatchDataset(Dataset):
    _op_type = "UnbatchDataset"

    def __init__(self, input_ds: Dataset):
        if nest.has_sparse(input_ds._template):
            raise NotImplementedError("tf.data.Dataset.unbatch of SparseTensor components is not supported by "
                                      "graphcompat.")
        for s in input_ds._specs:
            if s.shape.ndims == 0:
                raise ValueError("Cannot unbatch an input with scalar components.")
        specs = [Spec(s.dtype, s.shape[1:] if s.shape.ndims is not None else None) for s in input_ds._specs]
        self._record([input_ds], [], input_ds._template, specs)
