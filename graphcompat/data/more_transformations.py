"""tf.data transformations over windows, groups, state and several inputs: window, shard, take_while, scan,
group_by_window (and bucket_by_sequence_length over it), group_by_reducer, choose_from_datasets, Counter.

Each records TF's op (`WindowDataset`, `ShardDataset`, `TakeWhileDataset`, `ScanDataset`,
`GroupByWindowDataset`, `ExperimentalGroupByReducerDataset`, `DirectedInterleaveDataset`) with TF's signature,
attrs and functions as FunctionDefs; lowering/data/more.py runs them. A window is a dataset-valued element
component (TF's DatasetSpec, a scalar variant): the functions that receive one (`flat_map`'s over a window,
`group_by_window`'s `reduce_func`) get a `_VariantDataset` over their `_Arg`, on which they build datasets as on
any other.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from graphcompat.data import structure as nest
from graphcompat.data.dataset_ops import Dataset, DatasetSpec, Function, Spec, pack_specs
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor


def tensor_spec_repr(specs: list, template=None) -> str:
    """TF's repr of a function's return type (`TensorSpec(shape=(), dtype=tf.int64, name=None)`, nested)."""
    def one(spec):
        if isinstance(spec, DatasetSpec):
            return repr(spec)
        dims = spec.shape.as_list() if spec.shape.ndims is not None else None
        shape = "<unknown>" if dims is None else "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"
        return f"TensorSpec(shape={shape}, dtype=tf.{spec.dtype.name}, name=None)"
    if template is None and len(specs) == 1:
        return one(specs[0])
    packed = pack_specs(template if template is not None else tuple([None] * len(specs)), specs, one,
                        lambda i, v, s: "SparseTensorSpec")
    return str(packed).replace("'", "")


class _VariantDataset(Dataset):
    """A dataset held by a variant tensor (TF's `_VariantDataset`): a window a function receives as its `_Arg`,
    or one `get_next()` returns; no op is recorded."""

    def __init__(self, variant: _ops.Tensor, template, specs: list):
        self._children, self._tensors = [], []
        self._template, self._specs = template, list(specs)
        self._variant = variant

    def __repr__(self):
        return f"<_VariantDataset element_spec={tensor_spec_repr(self._specs, self._template)}>"


def _no_sparse(ds: Dataset, what: str) -> None:
    if nest.has_sparse(ds._template):
        raise NotImplementedError(f"{what} of SparseTensor components is not supported by graphcompat.")


class WindowDataset(Dataset):
    """`Dataset.window`: each element a window, one dataset per component of the input's structure."""
    _op_type = "WindowDataset"

    def __init__(self, input_ds: Dataset, size, shift=None, stride=1, drop_remainder=False):
        _no_sparse(input_ds, "tf.data.Dataset.window")
        size_t = convert_to_tensor(size, _dt.int64, name="size")
        # TF's default shift is `size` itself, converted again (a Const of its own unless it is a tensor)
        shift_t = convert_to_tensor(size if shift is None else shift, _dt.int64, name="shift")
        stride_t = convert_to_tensor(stride, _dt.int64, name="stride")
        drop_t = convert_to_tensor(drop_remainder, _dt.bool_, name="drop_remainder")
        specs = [DatasetSpec(None, [s]) for s in input_ds._specs]
        self._record([input_ds], [size_t, shift_t, stride_t, drop_t], input_ds._template, specs)


class ShardDataset(Dataset):
    _op_type = "ShardDataset"

    def __init__(self, input_ds: Dataset, num_shards, index):
        n = convert_to_tensor(num_shards, _dt.int64, name="num_shards")
        i = convert_to_tensor(index, _dt.int64, name="index")
        self._record([input_ds], [n, i], input_ds._template, input_ds._specs, attrs={"require_non_empty": False})


class TakeWhileDataset(Dataset):
    _op_type = "TakeWhileDataset"

    def __init__(self, input_ds: Dataset, predicate: Callable):
        self._fn = Function(predicate, input_ds._template, input_ds._specs, "take_while_fn", "take_while")
        out = self._fn.specs
        if self._fn.dataset is not None or len(out) != 1 or out[0].dtype != _dt.bool_ or \
                not out[0].shape.is_compatible_with([]):
            raise ValueError("Invalid `predicate`. `predicate` must return a `tf.bool` scalar tensor but its return "
                             f"type is{tensor_spec_repr(out, self._fn.template)}.")
        self._record([input_ds], self._fn.captures, input_ds._template, input_ds._specs,
                     attrs={"predicate": self._fn.func_attr, "Targuments": self._fn.capture_types})


class ScanDataset(Dataset):
    _op_type = "ScanDataset"

    def __init__(self, input_ds: Dataset, initial_state, scan_func: Callable):
        _no_sparse(input_ds, "tf.data.experimental.scan")
        state_template = nest.template_of(initial_state)
        if nest.has_sparse(state_template):
            raise NotImplementedError("tf.data.experimental.scan with a SparseTensor state is not supported by "
                                      "graphcompat.")
        state = [x if isinstance(x, _ops.Tensor) else convert_to_tensor(x, name="Const")
                 for x in nest.flatten(initial_state)]
        state_specs = [Spec(t.dtype, t.shape) for t in state]
        self._fn = Function(scan_func, (state_template, input_ds._template), state_specs + list(input_ds._specs),
                            "scan_fn", "scan")
        out = self._fn.template
        if self._fn.dataset is not None or not isinstance(out, tuple) or len(out) != 2:
            raise TypeError("Invalid `scan_func`. `scan_func` should return a pair consisting of new state and the "
                            f"output value but its return type is {tensor_spec_repr(self._fn.specs, out)}.")
        new_state_template, output_template = out
        k = len(nest.flatten(new_state_template))
        try:
            nest.assert_same_structure(state_template, new_state_template)
        except ValueError as e:
            raise TypeError("Invalid `scan_func`. The element classes for the new state must match the initial "
                            f"state. Expected {state_template}, got {new_state_template}.") from e
        new_specs, out_specs = self._fn.specs[:k], self._fn.specs[k:]
        old_types = [s.dtype for s in state_specs]
        new_types = [s.dtype for s in new_specs]
        if old_types != new_types:
            def show(types):  # TF prints numpy-style dtype reprs, a tuple of them for several
                names = [f"<dtype: '{t.name}'>" for t in types]
                return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"
            raise TypeError("Invalid `scan_func`. The element types for the new state must match the initial "
                            f"state. Expected {show(old_types)}, got {show(new_types)}.")
        for old, new in zip(state_specs, new_specs):
            if not (old.shape.is_compatible_with(new.shape) and new.shape.ndims == old.shape.ndims and
                    all(a is None or a == b for a, b in zip(old.shape.as_list() if old.shape.ndims else [],
                                                          new.shape.as_list() if new.shape.ndims else []))):
                # TF re-traces scan_func with the state's shape relaxed until it is a fixed point
                raise NotImplementedError("tf.data.experimental.scan whose state changes shape (TF relaxes the "
                                          "state's shape and re-traces scan_func) is not supported by graphcompat.")
        self._record([input_ds], state + self._fn.captures, output_template, out_specs,
                     attrs={"f": self._fn.func_attr, "Tstate": old_types, "Targuments": self._fn.capture_types,
                            "preserve_cardinality": True, "use_default_device": True},
                     groups=[1, len(state), len(self._fn.captures)])


def _scalar_int64_function(fn: Callable, name: str) -> Callable:
    """TF's wrappers of group_by_window's key and window size functions: the result converted to int64."""
    def wrapper(*args):
        return convert_to_tensor(fn(*args), _dt.int64)
    wrapper.__name__ = name
    return wrapper


class GroupByWindowDataset(Dataset):
    _op_type = "GroupByWindowDataset"

    def __init__(self, input_ds: Dataset, key_func: Callable, reduce_func: Callable, window_size_func: Callable):
        _no_sparse(input_ds, "tf.data.experimental.group_by_window")
        key_spec = Spec(_dt.int64, [])
        key = Function(_scalar_int64_function(key_func, "key_func_wrapper"), input_ds._template, input_ds._specs,
                       "key_func", "group_by_window")
        self._check_scalar_int64(key, "key_func")
        reduce = Function(reduce_func, (None, None), [key_spec, DatasetSpec(input_ds._template, input_ds._specs)],
                          "reduce_func", "group_by_window")
        if reduce.dataset is None:
            raise TypeError("Invalid `reduce_func`. `reduce_func` must return a single `tf.data.Dataset` object but "
                            f"its return type is {tensor_spec_repr(reduce.specs, reduce.template)}.")
        size = Function(_scalar_int64_function(window_size_func, "window_size_func_wrapper"), None, [key_spec],
                        "window_size_func", "group_by_window")
        self._check_scalar_int64(size, "window_size_func")
        inner = reduce.dataset
        functions = (key, reduce, size)
        self._record([input_ds], [t for f in functions for t in f.captures], inner._template, inner._specs,
                     attrs={"key_func": key.func_attr, "reduce_func": reduce.func_attr,
                            "window_size_func": size.func_attr,
                            "Tkey_func_other_arguments": key.capture_types,
                            "Treduce_func_other_arguments": reduce.capture_types,
                            "Twindow_size_func_other_arguments": size.capture_types},
                     groups=[1] + [len(f.captures) for f in functions])

    @staticmethod
    def _check_scalar_int64(fn: Function, what: str) -> None:
        if fn.dataset is not None or len(fn.specs) != 1 or fn.specs[0].dtype != _dt.int64 or \
                not fn.specs[0].shape.is_compatible_with([]):
            raise ValueError(f"Invalid `{what}`. `{what}` must return a single `tf.int64` scalar tensor but its "
                             f"return type is {tensor_spec_repr(fn.specs, fn.template)}.")


class Reducer:
    """`tf.data.experimental.Reducer`: group_by_reducer's init_func (key -> initial state), reduce_func
    ((state, element) -> new state) and finalize_func (state -> the group's element)."""

    def __init__(self, init_func: Callable, reduce_func: Callable, finalize_func: Callable):
        self._init_func, self._reduce_func, self._finalize_func = init_func, reduce_func, finalize_func

    init_func = property(lambda self: self._init_func)
    reduce_func = property(lambda self: self._reduce_func)
    finalize_func = property(lambda self: self._finalize_func)


def _types_and_shapes(fn: Function) -> tuple:
    """TF's `output_types` / `output_shapes` of a function's result as its error texts print them."""
    if len(fn.specs) == 1 and fn.template is None:
        spec = fn.specs[0]
        return f"<dtype: '{spec.dtype.name}'>", str(spec.shape)
    types = ", ".join(f"tf.{sp.dtype.name}" for sp in fn.specs)
    shapes = ", ".join(f"TensorShape({sp.shape.as_list() if sp.shape.ndims is not None else None})"
                       for sp in fn.specs)
    return f"({types})", f"({shapes})"


class GroupByReducerDataset(Dataset):
    """TF's ExperimentalGroupByReducerDataset (what TF 2.21's group_by_reducer records): the input's
    elements reduced per key_func key, each key's state finalized at the end of the input (key order)."""
    _op_type = "ExperimentalGroupByReducerDataset"

    def __init__(self, input_ds: Dataset, key_func: Callable, reducer: Reducer):
        _no_sparse(input_ds, "tf.data.experimental.group_by_reducer")
        where = "tf.data.experimental.group_by_reducer()"  # TF's transformation name (its functions' names)
        key = Function(key_func, input_ds._template, input_ds._specs, "key_func", where)
        if key.dataset is not None or len(key.specs) != 1 or key.specs[0].dtype != _dt.int64 or \
                not key.specs[0].shape.is_compatible_with([]):
            types, shapes = _types_and_shapes(key)
            raise ValueError("Invalid `key_func`. Expected `key_func` to return a scalar tf.int64 tensor, but "
                             f"instead `key_func` has output types={types} and shapes={shapes}.")
        init = Function(reducer.init_func, None, [Spec(_dt.int64, [])], "init_func", where)
        if init.dataset is not None or nest.has_sparse(init.template):
            raise NotImplementedError("tf.data.experimental.group_by_reducer with a dataset or SparseTensor state "
                                      "is not supported by graphcompat.")
        state_template, state_specs = init.template, init.specs
        k = len(state_specs)
        reduce = Function(reducer.reduce_func, (state_template, input_ds._template),
                          state_specs + list(input_ds._specs), "reduce_func", where)
        if reduce.dataset is not None or len(reduce.specs) != k:
            raise TypeError("Invalid `reducer`. The output class of the `reducer.reduce_func` does not match the "
                            "class of the reduce state.")
        if [s.dtype for s in reduce.specs] != [s.dtype for s in state_specs]:
            types = ", ".join(f"tf.{s.dtype.name}" for s in reduce.specs)
            old = ", ".join(f"tf.{s.dtype.name}" for s in state_specs)
            one = k == 1 and state_template is None
            raise TypeError(f"Invalid `reducer`. The element types for the new state "
                            f"{f'<dtype: {chr(39)}{reduce.specs[0].dtype.name}{chr(39)}>' if one else f'({types})'} "
                            f"do not match the element types of the old state "
                            f"{f'<dtype: {chr(39)}{state_specs[0].dtype.name}{chr(39)}>' if one else f'({old})'}.")
        for old, new in zip(state_specs, reduce.specs):
            if old.shape.ndims is not None and old.shape.as_list() != old.shape.most_specific_compatible_shape(
                    new.shape).as_list():
                # TF re-traces reduce_func with the state's shape relaxed until it is a fixed point
                raise NotImplementedError("tf.data.experimental.group_by_reducer whose state changes shape (TF "
                                          "relaxes the state's shape and re-traces reduce_func) is not supported by "
                                          "graphcompat.")
        finalize = Function(reducer.finalize_func, state_template, state_specs, "finalize_func", where)
        if finalize.dataset is not None:
            raise NotImplementedError("tf.data.experimental.group_by_reducer with a finalize_func that returns a "
                                      "dataset is not supported by graphcompat.")
        functions = (key, init, reduce, finalize)
        names = ("key_func", "init_func", "reduce_func", "finalize_func")
        attrs = {name: f.func_attr for name, f in zip(names, functions)}
        attrs.update({f"T{name}_other_arguments": f.capture_types for name, f in zip(names, functions)})
        self._record([input_ds], [t for f in functions for t in f.captures], finalize.template, finalize.specs,
                     attrs=attrs, groups=[1] + [len(f.captures) for f in functions])


def group_by_reducer(key_func: Callable, reducer: Reducer) -> Callable:
    """`tf.data.experimental.group_by_reducer`: a transformation for `Dataset.apply`."""
    return lambda ds: GroupByReducerDataset(ds, key_func, reducer)


def group_by_window(key_func: Callable, reduce_func: Callable, window_size=None,
                    window_size_func: Optional[Callable] = None) -> Callable:
    """`tf.data.experimental.group_by_window`: a transformation for `Dataset.apply`."""
    if (window_size is not None and window_size_func is not None) or \
            (window_size is None and window_size_func is None):
        raise ValueError("Either the `window_size` argument or the `window_size_func` argument must be specified.")
    if window_size is not None:
        def constant_window_size_func(_):
            return convert_to_tensor(window_size, _dt.int64, name="window_size")
        window_size_func = constant_window_size_func
    return lambda ds: GroupByWindowDataset(ds, key_func, reduce_func, window_size_func)


def bucket_by_sequence_length(element_length_func: Callable, bucket_boundaries, bucket_batch_sizes,
                              padded_shapes=None, padding_values=None, pad_to_bucket_boundary: bool = False,
                              no_padding: bool = False, drop_remainder: bool = False) -> Callable:
    """`tf.data.experimental.bucket_by_sequence_length`, built over group_by_window as TF's Python builds it:
    an element goes to the bucket whose [boundary_i, boundary_i+1) holds its length, and each bucket is
    (padded-)batched by its own batch size."""
    from graphcompat.ops import math_ops
    from graphcompat.ops.data_dependent_ops import where
    from graphcompat.ops.reduction_ops import reduce_min
    if len(bucket_batch_sizes) != len(bucket_boundaries) + 1:
        raise ValueError(f"`len(bucket_batch_sizes)` must equal `len(bucket_boundaries) + 1` but "
                         f"`len(bucket_batch_sizes)={len(bucket_batch_sizes)}` and "
                         f"`len(bucket_boundaries)={len(bucket_boundaries)}`.")
    if pad_to_bucket_boundary and not no_padding:
        raise NotImplementedError("tf.data.experimental.bucket_by_sequence_length(pad_to_bucket_boundary=True) "
                                  "pads to a shape computed in the graph, which graphcompat's padded_batch does not "
                                  "support.")
    batch_sizes = convert_to_tensor(np.asarray(bucket_batch_sizes, np.int64), _dt.int64)

    def element_to_bucket_id(*args):
        seq_length = element_length_func(*args)
        boundaries = list(bucket_boundaries)
        buckets_min = [np.iinfo(np.int32).min] + boundaries
        buckets_max = boundaries + [np.iinfo(np.int32).max]
        conditions = math_ops.logical_and(math_ops.less_equal(buckets_min, seq_length),
                                          math_ops.less(seq_length, buckets_max))
        return reduce_min(where(conditions))

    def window_size_fn(bucket_id):
        return batch_sizes[bucket_id]

    def batching_fn(bucket_id, grouped_dataset):
        batch_size = window_size_fn(bucket_id)
        if no_padding:
            return grouped_dataset.batch(batch_size, drop_remainder=drop_remainder)
        shapes = padded_shapes if padded_shapes is not None else grouped_dataset.output_shapes
        return grouped_dataset.padded_batch(batch_size, shapes, padding_values, drop_remainder=drop_remainder)

    return lambda ds: GroupByWindowDataset(ds, _named(element_to_bucket_id, "element_to_bucket_id"),
                                           batching_fn, window_size_fn)


def _named(fn: Callable, name: str) -> Callable:
    fn.__name__ = name
    return fn


class RewriteDataset(Dataset):
    """TF's `_apply_rewrite`: the input marked for a graph rewrite (`rewrite_name`); the same elements."""
    _op_type = "RewriteDataset"

    def __init__(self, input_ds: Dataset, rewrite_name: str):
        with _ops.name_scope("RewriteDataset") as scope:  # TF names the op as its scope, its input inside
            name_t = convert_to_tensor(rewrite_name, _dt.string, name="rewrite_name")
            self._record([input_ds], [name_t], input_ds._template, input_ds._specs, name=scope)


class DirectedInterleaveDataset(Dataset):
    """`choose_from_datasets`: element k comes from `datasets[choice_k]` (TF's DirectedInterleaveDataset)."""
    _op_type = "DirectedInterleaveDataset"

    def __init__(self, selector: Dataset, datasets: list, stop_on_empty_dataset: bool):
        specs = []
        first = datasets[0]
        for ds in datasets:
            _no_sparse(ds, "tf.data.experimental.choose_from_datasets")
            try:
                nest.assert_same_structure(first._template, ds._template)
            except ValueError as e:
                raise TypeError(f"Invalid `datasets`. `datasets` must have compatible structures but "
                                f"{first.element_spec} and {ds.element_spec} are incompatible") from e
            if [s.dtype for s in ds._specs] != [s.dtype for s in first._specs]:
                raise TypeError(f"Invalid `datasets`. `datasets` must have compatible element specs, but "
                                f"{first.output_types} and {ds.output_types} differ.")
        for k, spec in enumerate(first._specs):  # the most specific shape compatible with every input's
            shape = spec.shape
            for ds in datasets[1:]:
                other = ds._specs[k].shape
                if shape.ndims is None or other.ndims is None or shape.ndims != other.ndims:
                    shape = _ts.unknown_shape()
                else:
                    shape = _ts.TensorShape([a if a == b else None for a, b in zip(shape.as_list(), other.as_list())])
            specs.append(Spec(spec.dtype, shape))
        self._record([selector] + list(datasets), [], first._template, specs,
                     attrs={"N": len(datasets), "stop_on_empty_dataset": bool(stop_on_empty_dataset)})


def choose_from_datasets(datasets, choice_dataset: Dataset, stop_on_empty_dataset: bool = False) -> Dataset:
    """`tf.data.experimental.choose_from_datasets` (TF 1's: an exhausted input's choices are skipped)."""
    datasets = list(datasets)
    if not datasets:
        raise ValueError("Invalid `datasets`. `datasets` should not be empty.")
    if not isinstance(choice_dataset, Dataset) or len(choice_dataset._specs) != 1 or \
            choice_dataset._specs[0].dtype != _dt.int64 or not choice_dataset._specs[0].shape.is_compatible_with([]):
        spec = tensor_spec_repr(choice_dataset._specs) if isinstance(choice_dataset, Dataset) else choice_dataset
        raise TypeError("Invalid `choice_dataset`. Elements of `choice_dataset` must be scalar `tf.int64` tensors "
                        f"but are {spec}.")
    return DirectedInterleaveDataset(RewriteDataset(choice_dataset, "replicate_on_split"), datasets,
                                     stop_on_empty_dataset)


class RandomDataset(Dataset):
    """`tf.data.experimental.RandomDataset` / `Dataset.random`: TF's stream of Philox uint32 draws as int64."""
    _op_type = "RandomDataset"

    def __init__(self, seed=None, rerandomize_each_iteration=None):
        from graphcompat.data.dataset_ops import _get_seed
        from graphcompat.data.transformations import _seed_tensors
        if rerandomize_each_iteration:
            raise NotImplementedError("tf.data.Dataset.random(rerandomize_each_iteration=True) (TF's "
                                      "RandomDatasetV2) is not supported by graphcompat.")
        seed_t, seed2_t = _seed_tensors(_get_seed(seed))
        self._record([], [seed_t, seed2_t], None, [Spec(_dt.int64, [])])


class _MapDataset(Dataset):
    """TF's internal `map_op._MapDataset` with its flags (sample_from_datasets' selector)."""
    _op_type = "MapDataset"

    def __init__(self, input_ds: Dataset, map_func: Callable, use_inter_op_parallelism: bool,
                 preserve_cardinality: bool):
        self._fn = Function(map_func, input_ds._template, input_ds._specs, "map_fn", "map")
        self._record([input_ds], self._fn.captures, self._fn.template, self._fn.specs,
                     attrs={"f": self._fn.func_attr, "Targuments": self._fn.capture_types,
                            "use_inter_op_parallelism": use_inter_op_parallelism,
                            "preserve_cardinality": preserve_cardinality})


def _stateless_choice(logits, seed):
    """One draw of StatelessMultinomial(logits, 1, seed) as a scalar (TF's select_dataset_*_logits)."""
    from graphcompat.framework.registry import apply_op
    from graphcompat.ops import array_ops
    samples = apply_op("StatelessMultinomial", [convert_to_tensor(logits), convert_to_tensor(1, _dt.int32), seed],
                       {"output_dtype": _dt.int64})
    return array_ops.squeeze(samples, axis=[0, 1])


def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False,
                         rerandomize_each_iteration=None) -> Dataset:
    """`tf.data.experimental.sample_from_datasets`, built as TF's Python builds it: a RandomDataset batched in
    pairs seeds one StatelessMultinomial draw per element over log(weights), whose result picks the input
    (DirectedInterleaveDataset). The draws are TF's bits, so a seed gives TF's sequence."""
    from graphcompat.ops import array_ops, math_ops
    datasets = list(datasets)
    if not datasets:
        raise ValueError("Invalid `datasets`. `datasets` should not be empty.")
    if isinstance(weights, Dataset):
        logits_ds = weights.map(lambda *p: math_ops.log(p, name="logits"))
        selector = _MapDataset(Dataset.zip((logits_ds, RandomDataset(seed, rerandomize_each_iteration).batch(2))),
                               _named(_stateless_choice, "select_dataset_varying_logits"), False, True)
        return DirectedInterleaveDataset(selector, datasets, stop_on_empty_dataset)
    if weights is None:
        logits = [[1.0] * len(datasets)]
    else:
        if isinstance(weights, _ops.Tensor):
            if not weights.shape.is_compatible_with([len(datasets)]):
                raise ValueError(f"Invalid `weights`. The shape of `weights` should be compatible with "
                                 f"`[len(datasets)]` but is {weights.shape}.")
        else:
            if len(datasets) != len(weights):
                raise ValueError(f"Invalid `weights`. `weights` should have the same length as `datasets` but got "
                                 f"`len(weights)={len(weights)}` vs. `len(datasets)={len(datasets)}`.")
            kept = [(ds, w) for ds, w in zip(datasets, weights) if w > 0]  # TF drops zero-weight inputs
            datasets, weights = ([d for d, _ in kept], [w for _, w in kept]) if kept else \
                ([datasets[0].take(0)], [1.0])
        weights = convert_to_tensor(weights, name="weights")
        if weights.dtype not in (_dt.float32, _dt.float64):
            raise TypeError(f"Invalid `weights`. `weights` type must be either `tf.float32` or `tf.float64` but is "
                            f"{weights.dtype}.")
        logits = array_ops.expand_dims(math_ops.log(weights, name="logits"), 0)
    if len(datasets) == 1:
        return datasets[0]

    def select_dataset_constant_logits(seed_pair):
        return _stateless_choice(logits, seed_pair)
    selector = _MapDataset(RandomDataset(seed, rerandomize_each_iteration).batch(2), select_dataset_constant_logits,
                           False, True)
    return DirectedInterleaveDataset(selector, datasets, stop_on_empty_dataset)


def Counter(start=0, step=1, dtype=_dt.int64) -> Dataset:  # noqa: N802 (TF's name)
    """`tf.data.experimental.Counter`: start, start + step, ... as TF builds it (a scan over a repeated 0)."""
    from graphcompat.data.sources import TensorDataset
    from graphcompat.data.transformations import RepeatDataset
    with _ops.name_scope("counter"):
        start_t = convert_to_tensor(start, dtype, name="start")
        step_t = convert_to_tensor(step, dtype, name="step")
        zeros = RepeatDataset(TensorDataset(np.int32(0)), None)
        return ScanDataset(zeros, start_t, lambda state, _: (state + step_t, state))


def window(ds: Dataset, size, shift=None, stride=1, drop_remainder=False) -> Dataset:
    return WindowDataset(ds, size, shift, stride, drop_remainder)

