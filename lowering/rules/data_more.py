"""Lowerings of the tf.data ops that are not datasets (graphcompat/data/more_ops.py): a dataset reduced to
tensors (ReduceDataset, DatasetToSingleElement, DatasetCardinality), Optionals and get_next_as_optional, the
TF 1.x and anonymous iterator op types, and the resources of the pass-through datasets.

Host rules: a dataset's value is its bound pipeline (lowering/rules/data.py), walked here on the host as an
iterator would walk it. An Optional is an `OptionalValue` (TF's OptionalVariant: a value or none), a pytree
whose ops are plain rules: cond_v2 returns a branch's intermediates in optionals, so a compiled If carries them.
"""
from __future__ import annotations

import itertools

import jax
import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework.constant_op import constant_value
from lowering.data import INF, Bound, Function
from lowering.data.pipeline import tf_cardinality
from lowering.interpreter import RunContext
from lowering.registry import lowers, lowers_as
from lowering.rules.data import HostIterator, HostRT, _entropy, _name, _NOT_INITIALIZED


def _typed(values: list, op) -> list:
    """Values cast to the op's `output_types` (strings as object arrays)."""
    out = []
    for v, t in zip(values, op.attrs["output_types"]):
        if _is_variant(v):  # a TensorList or an Optional (cond_v2's optional intermediates) stays itself
            out.append(v)
            continue
        dtype = _dt.as_dtype(t)
        out.append(np.asarray(v, dtype=object) if dtype == _dt.string else np.asarray(v, dtype.as_numpy_dtype))
    return out


def _walk(ctx, bound: Bound):
    """The elements of a bound dataset, as a fresh iterator over it would yield them (host walk)."""
    rt = HostRT(RunContext(ctx._state_in, traced=False), _entropy(), bound.ds._nodes())
    with jax.enable_x64(True):
        yield from bound.ds._iter(bound, rt)


def _is_variant(value) -> bool:
    from lowering.rules.list_ops import is_list
    return is_list(value) or isinstance(value, OptionalValue)


def _one(values: list):
    return values[0] if len(values) == 1 else tuple(values)


# ------------------------------------------------------------------------------------------------
# datasets reduced to tensors
# ------------------------------------------------------------------------------------------------
def _reduce_function(op) -> Function:
    cache = op.graph._extras.setdefault("tf.data.reduce_functions", {})
    fn = cache.get(op)
    if fn is None:
        n_state = len(op.attrs.get("Tstate") or ())
        fn = cache[op] = Function(op, "f", list(op.inputs[1 + n_state:]), sparse=False)
    return fn


@lowers("ReduceDataset", context=True, host=True)
def reduce_dataset(ctx, op, bound, *args):
    """`Dataset.reduce(initial_state, reduce_func)`: f(state..., element...) -> new state, over every element."""
    n_state = len(op.attrs.get("Tstate") or ())
    fn = _reduce_function(op)
    captured = dict(zip(op.inputs[1 + n_state:], (np.asarray(v) for v in args[n_state:])))
    state = [np.asarray(v) for v in args[:n_state]]
    for elem in _walk(ctx, bound):
        with jax.enable_x64(True):
            state = [np.asarray(v) for v in fn.call(list(state) + list(elem), captured, ctx)]
    return _one(_typed(state, op))


@lowers("DatasetToSingleElement", context=True, host=True)
def dataset_to_single_element(ctx, op, bound):
    """`tf.data.experimental.get_single_element`: the one element, TF's errors for none or more."""
    elements = _walk(ctx, bound)
    first = next(elements, None)
    if first is None:
        raise errors.InvalidArgumentError(None, op, "Dataset was empty.")
    if next(elements, None) is not None:
        raise errors.InvalidArgumentError(None, op, "Dataset had more than one element.")
    return _one(_typed(first, op))


def _static_facts_complete(ds) -> bool:
    """Whether every int64 scalar argument of the pipeline is known while building (so a cardinality the
    nodes cannot state is TF's UNKNOWN too, not one only the run would know)."""
    for node in ds._nodes():
        for t in node._tensors:
            if t.dtype == _dt.int64 and t.shape.ndims == 0 and constant_value(t) is None:
                return False
    return True


@lowers("DatasetCardinality", "ExperimentalDatasetCardinality", context=True, host=True)
def dataset_cardinality(ctx, op, bound):
    """`tf.data.experimental.cardinality`: INFINITE = -1, UNKNOWN = -2."""
    n = tf_cardinality(bound.ds)
    if n is None:
        if not _static_facts_complete(bound.ds):
            raise NotImplementedError(f"{op.type} '{op.name}': the cardinality of a dataset whose arguments only the "
                                      "run knows (a fed size) is not supported by graphcompat")
        return np.int64(-2)
    return np.int64(-1 if n == INF else n)


# ------------------------------------------------------------------------------------------------
# Optionals
# ------------------------------------------------------------------------------------------------
@jax.tree_util.register_pytree_node_class
class OptionalValue:
    """TF's OptionalVariant: a flat list of component values, or none.

    `values` None: none. `has` None: the values are there. Compiled, a cond whose branches return optionals
    of different structures (cond_v2 wraps each branch's intermediates in optionals: a value on its side,
    none or another branch's intermediate on the other) returns one structure from every branch: `slots`,
    one optional per structure the branches return, each with its values (zeros where that branch did not
    return them) and `has`, a traced bool (`union`). A read picks its slot by the types and shapes it
    expects, and checks `has` at run time (TF's error text, as every run-time check)."""

    __slots__ = ("values", "has", "slots")

    def __init__(self, values, has=None, slots=None):
        self.values = values
        self.has = has
        self.slots = slots

    def tree_flatten(self):
        return (self.values, self.has, self.slots), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)

    def __repr__(self):
        if self.slots is not None:
            return f"Optional(one of {list(self.slots)})"
        if self.values is None:
            return "Optional(none)"
        return f"Optional({self.values})" if self.has is None else f"Optional({self.values}, has={self.has})"

    def has_value(self):
        """Whether it holds a value: a Python bool, or a traced bool (see `union`)."""
        if self.slots is not None:
            import jax.numpy as jnp
            return jnp.any(jnp.stack([jnp.asarray(s.has) for s in self.slots]))
        return self.values is not None if self.has is None else self.has

    def zeros_like(self) -> "OptionalValue":
        """TF's ZEROS_LIKE variant op on an optional: none stays none, a value's components become zeros."""
        from lowering.rules.array import zeros_like
        if self.slots is not None:
            return OptionalValue(None, None, tuple(s.zeros_like() for s in self.slots))
        return self if self.values is None else OptionalValue([zeros_like(v) for v in self.values], self.has)

    def union(self, templates: list) -> "OptionalValue":
        """This optional in the structure a cond's branches share: one slot per template (an optional with
        a value of each structure the branches return), its own values in the slot of their structure."""
        import jax.numpy as jnp
        from lowering.rules.list_ops import _signature
        mine = None if self.values is None else _signature(list(self.values))
        slots = []
        for template in templates:
            if mine is not None and mine == _signature(list(template.values)):
                slots.append(OptionalValue(list(self.values), np.bool_(True) if self.has is None else self.has))
            else:
                zeros = jax.tree_util.tree_map(lambda x: jnp.zeros(x.shape, x.dtype), list(template.values))
                slots.append(OptionalValue(zeros, np.bool_(False)))
        return OptionalValue(None, None, tuple(slots))

    def slot_for(self, op) -> "OptionalValue":
        """The slot an OptionalGetValue reads: the one whose values have its output types and shapes."""
        from lowering.rules.list_ops import is_variant_value
        types = [np.dtype(_dt.as_dtype(t).as_numpy_dtype) if _dt.as_dtype(t) != _dt.variant else None
                 for t in op.attrs["output_types"]]
        shapes = [_dt_shape(s) for s in op.attrs.get("output_shapes") or [None] * len(types)]

        def fits(slot):
            if len(slot.values) != len(types):
                return False
            for v, t, shape in zip(slot.values, types, shapes):
                if (t is None) != is_variant_value(v):
                    return False
                if t is not None and (np.dtype(v.dtype) != t or not _fits_shape(tuple(v.shape), shape)):
                    return False
            return True
        found = [s for s in self.slots if fits(s)]
        if len(found) != 1:
            raise NotImplementedError(
                f"OptionalGetValue '{op.name}': {len(found)} of the optionals a compiled tf.cond returns in one "
                "output have the types and shapes it reads, so which one it reads is not known while tracing")
        return found[0]


def _dt_shape(shape):
    """An output_shapes entry as a tuple with None for unknown dimensions (None: unknown rank)."""
    if shape is None:
        return None
    as_list = getattr(shape, "as_list", None)
    if as_list is not None:
        return None if getattr(shape, "ndims", 0) is None else tuple(as_list())
    return tuple(None if d is None or d < 0 else int(d) for d in shape)


def _fits_shape(shape: tuple, want) -> bool:
    return want is None or (len(shape) == len(want) and all(w is None or w == d for d, w in zip(shape, want)))


def _traced(value) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(value))


# Plain rules (not host): cond_v2 keeps a branch's intermediates in optionals, so its If compiles only if
# they can be traced; an optional from a dataset comes from a host op (IteratorGetNextAsOptional).
@lowers("OptionalFromValue")
def optional_from_value(*components, **_):
    # variant components (TF 2's cond_v2 wraps a branch's intermediates, a loop's accumulator lists among them,
    # in optionals) keep their value: a TensorList is no array
    return OptionalValue([c if _is_variant(c) or _traced(c) else np.asarray(c) for c in components])


@lowers("OptionalNone")
def optional_none(**_):
    return OptionalValue(None)


@lowers("OptionalHasValue")
def optional_has_value(optional, **_):
    has = optional.has_value()
    return np.bool_(has) if isinstance(has, bool) else has


_NO_VALUE = "The given optional does not have a value."


@lowers("OptionalGetValue", context=True)
def optional_get_value(ctx, op, optional):
    if optional.slots is not None:  # a compiled cond's optional: which branch's values, known at run time
        optional = optional.slot_for(op)
    if optional.values is None:
        raise errors.InvalidArgumentError(None, op, _NO_VALUE)
    if optional.has is not None:  # a compiled cond's optional: none only known at run time
        ctx.check(optional.has, errors.InvalidArgumentError, _NO_VALUE, op)
    if _traced(optional.values):
        return _one(list(optional.values))
    return _one(_typed(optional.values, op))


@lowers("IteratorGetNextAsOptional", context=True, host=True)
def iterator_get_next_as_optional(ctx, op, handle):
    """`get_next_as_optional`: the next element, or none at the end of the sequence. An iterator read this way
    walks on the host (lowering/rules/data.py `_device_iterator`)."""
    name = _name(handle)
    if not ctx.has(("iterator", name)):
        raise errors.FailedPreconditionError(None, op, _NOT_INITIALIZED)
    state = ctx.read(("iterator", name), op)
    if not isinstance(state, HostIterator):
        raise NotImplementedError(f"IteratorGetNextAsOptional '{op.name}': an iterator walked on the device, reached "
                                  "through a string handle, is not supported by graphcompat")
    try:
        values = state.next(op)
    except errors.OutOfRangeError:
        return OptionalValue(None)
    return OptionalValue(_typed(values, op))


# ------------------------------------------------------------------------------------------------
# iterator op types: TF 1.x's (Iterator, IteratorFromStringHandle, IteratorGetNextSync) and TF 2's anonymous
# iterators (a new iterator each run, deleted by DeleteIterator)
# ------------------------------------------------------------------------------------------------
lowers_as("IteratorV2", "Iterator")
lowers_as("IteratorFromStringHandleV2", "IteratorFromStringHandle")
lowers_as("IteratorGetNext", "IteratorGetNextSync")

_ANONYMOUS = itertools.count()


@lowers("AnonymousIterator", "AnonymousIteratorV3", context=True, host=True)
def anonymous_iterator(ctx, op):
    return f"{op.name}/anonymous_{next(_ANONYMOUS)}"


@lowers("AnonymousIteratorV2", context=True, host=True)
def anonymous_iterator_v2(ctx, op):
    name = anonymous_iterator(ctx, op)
    return name, np.array(name.encode(), dtype=object)  # the deleter names the iterator it deletes


@lowers("DeleteIterator", context=True, host=True)
def delete_iterator(ctx, op, handle, deleter):
    name = _name(handle)
    state = ctx.read(("iterator", name)) if ctx.has(("iterator", name)) else None
    if isinstance(state, HostIterator):
        state.close()


# --- resources of the pass-through datasets (ThreadPoolDataset, SetStatsAggregatorDataset) -------------------
@lowers("ThreadPoolHandle", "ExperimentalThreadPoolHandle", "StatsAggregatorHandle",
        "ExperimentalStatsAggregatorHandle", "StatsAggregatorHandleV2", context=True)
def dataset_resource_handle(ctx, op):
    return op.name


# --- TF 2's seed generators and memory caches: the dataset ops read their own inputs, so a handle names them --
@lowers("AnonymousSeedGenerator", context=True, host=True)
def anonymous_seed_generator(ctx, op, seed, seed2, reshuffle):
    name = f"{op.name}/anonymous_{next(_ANONYMOUS)}"
    return name, np.array(name.encode(), dtype=object)


@lowers("AnonymousMemoryCache", context=True, host=True)
def anonymous_memory_cache(ctx, op):
    name = f"{op.name}/anonymous_{next(_ANONYMOUS)}"
    return name, np.array(name.encode(), dtype=object)


@lowers("DummySeedGenerator", "DummyMemoryCache", context=True)
def dummy_resource(ctx, op):
    return op.name


@lowers("DeleteSeedGenerator", "DeleteMemoryCache", host=True)
def delete_dataset_resource(handle, deleter, **_):
    return None
