"""Lowerings of TF 2's TensorList ops (graphcompat/ops/list_ops.py).

A `variant` TensorList tensor's value while a graph runs is a `TensorList`: its elements stacked in one
array `items` of shape `[size, *element_shape]` (an exact list; bounded lists below), so that a list is a
JAX pytree of fixed shape that a `lax.while_loop`/`lax.cond` can carry (SetItem is `.at[i].set`, GetItem
an index, Stack the array itself, FromTensor the tensor). Its static facts travel with it as pytree
metadata: the element dtype, the list's declared (partial) element shape, `max_num_elements` and the size.

Elements nothing has written read as zeros, as in TF once the element shape is known. A list whose
element shape is not known yet (TensorListReserve/EmptyTensorList with a partial `element_shape`) holds
no array (`items` is None) until an element is set; a `While` whose body sets the first element is given
a zero-filled list of that shape to start from (lowering/rules/control_flow.py), as TF's while_v2 does
for a TensorArray written in a loop.

Sizes: an exact list's size is part of its shape. Ops that change it (PushBack, PopBack, Resize,
ConcatLists, SetItem with resize_if_index_out_of_bounds) change the shape wherever the size stays known while
the graph is traced: outside loops, and op by op, where loops run in Python. A list whose size a compiled
loop body changes is carried bounded (lowering/rules/control_flow.py, `_ListCarry`): `items` has `capacity`
rows, `count` (a traced int32) says how many are elements, and the static `size` bounds `count`. On a bounded
list pushes and pops move `count` (a dynamic_update_slice / a dynamic index), indices are checked against
it at run time, and the ops whose result's shape is the length (Stack without num_elements, Concat,
ConcatLists) need concrete values (NeedsConcreteValues: the plan runs op by op, where lists are exact).
Sizes and shapes that come from run-time values (a Reserve of a traced size) likewise run op by op.

`same`: a list whose elements are all one small build-time constant says so, and reads of it return the
constant: TF's while_v2 gradient pushes shapes and lengths onto accumulators and its backward loop pops them
as the shapes of new lists, which must stay static under jit.

Lists of `variant` elements (TF 2's gradient of nested loops pushes an inner loop's lists, and of a cond
in a loop the cond's optionals, onto the outer loop's accumulators) keep them as `VariantRows`: a tuple in an
exact list (elements may differ: inner lists of different lengths), one stacked pytree in a bounded one.

Not representable: lists whose elements have different shapes (TF allows them when the declared element
shape is partial): setting one raises NotImplementedError naming the op.

As in TF: data types, indices, element shapes against the list's, `num_elements`, full lists and empty
pops are checked with TF's InvalidArgumentError texts.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax
import numpy as np

from graphcompat.framework import errors
from lowering.interpreter import NeedsConcreteValues, require
from lowering.registry import lowers


@jax.tree_util.register_pytree_node_class
class TensorList:
    """A TensorList value. Exact (`count` None): `items` [size, *element] (or None: no element shape
    known, all unset). Bounded (a list a compiled loop grows or shrinks): `items` [capacity, *element], the
    first `count` (a traced int32) of them the elements, `size` a static upper bound of `count`."""

    __slots__ = ("items", "count", "dtype", "element_shape", "max_elements", "size", "capacity", "same")

    def __init__(self, items, dtype, element_shape, max_elements: int = -1, size: int | None = None,
                 count=None, capacity: int | None = None, same=None):
        self.items = items
        self.count = count
        self.dtype = np.dtype(dtype)
        self.element_shape = element_shape      # the list's declared shape: tuple (None: unknown dim) or None
        self.max_elements = int(max_elements)
        self.size = int(size if size is not None else items.shape[0])
        self.capacity = int(items.shape[0] if items is not None else
                            capacity if capacity is not None else self.size)
        # `same`: every element holds this build-time constant (a fingerprint, see _fingerprint). TF's while_v2
        # gradient pushes shapes and lengths onto accumulators and its backward loop pops them as the shapes of
        # new lists: keeping them static through the list keeps those shapes static under jit.
        self.same = same

    @property
    def bounded(self) -> bool:
        return self.count is not None

    def length(self):
        """The number of elements: static (a numpy int32) for an exact list, traced for a bounded one."""
        return self.count if self.count is not None else np.int32(self.size)

    def tree_flatten(self):
        return (self.items, self.count), (self.dtype, self.element_shape, self.max_elements, self.size,
                                          self.capacity, self.same)

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        obj.items, obj.count = children
        obj.dtype, obj.element_shape, obj.max_elements, obj.size, obj.capacity, obj.same = aux
        return obj

    def __repr__(self):
        shape = None if self.items is None else tuple(self.items.shape[1:])
        if self.bounded:
            return (f"TensorList(size<={self.size}, capacity={self.capacity}, dtype={self.dtype.name}, "
                    f"element_shape={shape})")
        return f"TensorList(size={self.size}, dtype={self.dtype.name}, element_shape={shape})"

    def replace(self, items, size: int | None = None) -> "TensorList":
        """An exact list with other elements (`size` only when `items` is None)."""
        return TensorList(items, self.dtype, self.element_shape, self.max_elements,
                          size if items is None else None)

    def _with_same(self, same) -> "TensorList":
        self.same = same
        return self

    def with_items(self, items, count=None, size: int | None = None, same=None) -> "TensorList":
        """A list like this one (exact or bounded) with other elements, count, size bound and `same`."""
        if not self.bounded:
            return TensorList(items, self.dtype, self.element_shape, self.max_elements,
                              size if items is None else None, same=same)
        return TensorList(items, self.dtype, self.element_shape, self.max_elements,
                          self.size if size is None else size, self.count if count is None else count,
                          self.capacity if items is None else None, same)

    def bounded_to(self, capacity: int, size: int, same=None, element=None) -> "TensorList":
        """This list carried with `capacity` rows and `size` as its bound (the While lowering's carry):
        its elements first, zero rows after; `element` gives the element shape when none is stored."""
        count = self.count if self.bounded else jnp.asarray(self.size, jnp.int32)
        items = self.items
        if isinstance(element, VariantRows) and not isinstance(items, VariantRows):
            items = element.zeros_rows(self.capacity)  # variant elements: the first iteration's structure
        elif items is None and element is not None:
            items = jnp.zeros((self.capacity,) + tuple(element), self.dtype)
        if isinstance(items, VariantRows):
            items = items.padded(capacity)
        elif items is not None and items.shape[0] < capacity:
            pad = jnp.zeros((capacity - items.shape[0],) + tuple(items.shape[1:]), self.dtype)
            items = jnp.concatenate([jnp.asarray(items), pad], axis=0)
        return TensorList(items, self.dtype, self.element_shape, self.max_elements, size, count, capacity, same)

    def relabel(self, size: int) -> "TensorList":
        """The same bounded list with another static bound (the While lowering proves it)."""
        return TensorList(self.items, self.dtype, self.element_shape, self.max_elements, size, self.count,
                          self.capacity, self.same)

    # TF's variant ops on lists (ZEROS_LIKE / ADD variant ops): AddN and ZerosLike of list gradients.
    def zeros_like(self) -> "TensorList":
        if self.items is None:
            return self
        if isinstance(self.items, VariantRows):
            return self.with_items(self.items.zeros_like(), same=None)
        return self.with_items(jnp.zeros_like(self.items), same=None)

    def __add__(self, other: "TensorList") -> "TensorList":
        if not isinstance(other, TensorList):
            return NotImplemented
        if self.bounded or other.bounded:
            return _add_bounded(self, other)
        if self.size != other.size:
            raise errors.InvalidArgumentError(
                None, None, f"Trying to add two lists of tensors with different lengths. One is {self.size} "
                f"and the other is {other.size}")
        if self.dtype != other.dtype:
            raise errors.InvalidArgumentError(
                None, None, f"Trying to add two lists of tensors of different dtypes. One is "
                f"{_dtype_name(self.dtype)} and the other is {_dtype_name(other.dtype)}")
        if self.items is None or other.items is None:  # unset elements add nothing
            return other if self.items is None else self
        if tuple(self.items.shape) != tuple(other.items.shape):
            raise errors.InvalidArgumentError(
                None, None, f"Trying to add two tensors with incompatible element shapes. One is "
                f"{_shape_text(self.items.shape[1:])} and the other is {_shape_text(other.items.shape[1:])}")
        return self.replace(self.items + other.items)

    __radd__ = __add__


def _add_bounded(a: TensorList, b: TensorList) -> TensorList:
    """Adds two lists of which one at least is bounded: the lengths are compared at run time."""
    n_a, n_b = a.length(), b.length()
    require(jnp.asarray(n_a) == jnp.asarray(n_b), errors.InvalidArgumentError,
            lambda: f"Trying to add two lists of tensors with different lengths. One is {int(n_a)} and the "
                    f"other is {int(n_b)}")
    if a.dtype != b.dtype:
        raise errors.InvalidArgumentError(
            None, None, f"Trying to add two lists of tensors of different dtypes. One is "
            f"{_dtype_name(a.dtype)} and the other is {_dtype_name(b.dtype)}")
    if a.items is None or b.items is None:
        return b if a.items is None else a
    if tuple(a.items.shape[1:]) != tuple(b.items.shape[1:]):
        raise errors.InvalidArgumentError(
            None, None, f"Trying to add two tensors with incompatible element shapes. One is "
            f"{_shape_text(a.items.shape[1:])} and the other is {_shape_text(b.items.shape[1:])}")
    capacity = max(a.capacity, b.capacity)
    a = a.bounded_to(capacity, a.size)
    b = b.bounded_to(capacity, b.size)
    return a.with_items(a.items + b.items, size=min(a.size, b.size))


def is_list(value) -> bool:
    return isinstance(value, TensorList)


# --- lists of variants (TF 2's gradients of nested loops) ------------------------------------------------
def is_variant_value(value) -> bool:
    """A TensorList or an Optional (lowering/rules/data_more.py): what a `variant` list element holds."""
    return isinstance(value, TensorList) or type(value).__name__ == "OptionalValue"


def _signature(element):
    """What must be equal for elements to stack along one axis: the pytree structure (a list's static facts
    among it) and each leaf's shape and dtype."""
    leaves, treedef = jax.tree_util.tree_flatten(element)
    return treedef, tuple((tuple(jnp.shape(x)), jnp.result_type(x)) for x in leaves)


@jax.tree_util.register_pytree_node_class
class VariantRows:
    """The elements of a TensorList whose elements are variants (TF 2's while_v2 gradient pushes an inner
    loop's accumulator lists, and a cond's optionals, onto the outer loop's accumulators).

    Two forms. Loose (`loose`: a tuple of the element values): an exact list's, where elements may differ
    (op by op, an inner loop's lists hold as many elements as that execution ran iterations). Stacked
    (`stacked`: one element pytree whose every leaf has a leading axis of rows): a bounded list's (one a
    compiled While grows or shrinks), which the loop carries with a fixed structure and updates at a traced
    row; every element must then share one structure (a compiled inner loop's lists are bounded by its
    capacity, so they do). `shape` is `(rows,)`, as an array's first dimension, so the list's size and
    capacity bookkeeping is the same as for arrays."""

    __slots__ = ("loose", "stacked")

    def __init__(self, loose=None, stacked=None):
        self.loose = None if loose is None else tuple(loose)
        self.stacked = stacked

    @property
    def shape(self) -> tuple:
        if self.loose is not None:
            return (len(self.loose),)
        leaves = jax.tree_util.tree_leaves(self.stacked)
        return (int(jnp.shape(leaves[0])[0]),) if leaves else (0,)

    def tree_flatten(self):
        return (self.loose, self.stacked), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        obj.loose, obj.stacked = children
        return obj

    def __repr__(self):
        return f"VariantRows({self.shape[0]})"

    @staticmethod
    def of(elements, stacked: bool = False) -> "VariantRows":
        elements = list(elements)
        return VariantRows(stacked=_stack(elements)) if stacked else VariantRows(loose=elements)

    def as_stacked(self) -> "VariantRows":
        return self if self.loose is None else VariantRows(stacked=_stack(self.loose))

    def element_signature(self):
        if self.loose is not None:
            return _signature(self.loose[0]) if self.loose else None
        return _signature(jax.tree_util.tree_map(lambda x: x[0], self.stacked))

    def row(self, i):
        if self.loose is not None and not _traced(i):
            return self.loose[int(np.asarray(i))]
        i = jnp.asarray(i, jnp.int32)
        return jax.tree_util.tree_map(lambda x: lax.dynamic_index_in_dim(x, i, 0, keepdims=False),
                                      self.as_stacked().stacked)

    def head(self, n: int) -> "VariantRows":
        if self.loose is not None:
            return VariantRows(loose=self.loose[:n])
        return VariantRows(stacked=jax.tree_util.tree_map(lambda x: x[:n], self.stacked))

    def append(self, element) -> "VariantRows":
        if self.loose is not None:
            return VariantRows(loose=self.loose + (element,))
        rows = self.as_stacked()
        if rows.stacked is None:
            return VariantRows(stacked=_stack([element]))
        _check_alike(rows, element)
        return VariantRows(stacked=jax.tree_util.tree_map(
            lambda x, e: jnp.concatenate([x, jnp.asarray(e)[None]], axis=0), rows.stacked, element))

    def set_row(self, i, element) -> "VariantRows":
        if self.loose is not None and not _traced(i):
            rows = list(self.loose)
            rows[int(np.asarray(i))] = element
            return VariantRows(loose=rows)
        rows = self.as_stacked()
        _check_alike(rows, element)
        i = jnp.asarray(i, jnp.int32)
        return VariantRows(stacked=jax.tree_util.tree_map(
            lambda x, e: lax.dynamic_update_index_in_dim(x, jnp.asarray(e, x.dtype), i, 0), rows.stacked, element))

    def padded(self, capacity: int) -> "VariantRows":
        """`capacity` rows (stacked): these first, then zeros (rows no element was written to)."""
        rows = self.as_stacked()
        n = rows.shape[0]
        if n >= capacity:
            return rows
        return VariantRows(stacked=jax.tree_util.tree_map(
            lambda x: jnp.concatenate([x, jnp.zeros((capacity - n,) + tuple(x.shape[1:]), x.dtype)], axis=0),
            rows.stacked))

    def zeros_rows(self, capacity: int) -> "VariantRows":
        """`capacity` rows of zeros with this one's element structure (a While's first carry)."""
        rows = self.as_stacked()
        return VariantRows(stacked=jax.tree_util.tree_map(
            lambda x: jnp.zeros((capacity,) + tuple(x.shape[1:]), x.dtype), rows.stacked))

    def zeros_like(self) -> "VariantRows":
        """TF's ZEROS_LIKE of a list of variants: each element's own zeros-like (a list keeps its length)."""
        if self.loose is not None:
            return VariantRows(loose=[e.zeros_like() for e in self.loose])
        return VariantRows(stacked=jax.vmap(lambda e: e.zeros_like())(self.stacked))

    def __add__(self, other: "VariantRows") -> "VariantRows":
        if self.loose is not None and other.loose is not None:
            return VariantRows(loose=[a + b for a, b in zip(self.loose, other.loose)])
        a, b = self.as_stacked().stacked, other.as_stacked().stacked
        if not (isinstance(a, TensorList) and isinstance(b, TensorList)) or \
                _signature(jax.tree_util.tree_map(lambda x: x[0], a)) != \
                _signature(jax.tree_util.tree_map(lambda x: x[0], b)):
            raise NotImplementedError("AddN of TensorLists whose variant elements are not alike lists is not "
                                      "supported by graphcompat")
        # row by row as TF's list add (lengths checked here, outside any vmap: a check is run-time state)
        if a.count is not None:
            na, nb = a.count, b.count
            require(jnp.all(na == nb), errors.InvalidArgumentError,
                    "Trying to add two lists of tensors with different lengths.")
        if a.items is None or b.items is None:
            return VariantRows(stacked=b if a.items is None else a)
        return VariantRows(stacked=TensorList.tree_unflatten(a.tree_flatten()[1], (a.items + b.items, a.count)))


def _stack(elements: list):
    if not elements:
        return None
    first = _signature(elements[0])
    for e in elements[1:]:
        if _signature(e) != first:
            raise NotImplementedError(
                "TensorListPushBack: variant elements (lists, optionals) of different structures in one "
                f"TensorList ({elements[0]!r} and {e!r}) cannot be stacked for a compiled step")
    return jax.tree_util.tree_map(_stack_leaves, *elements)


def _stack_leaves(*xs):
    if isinstance(xs[0], jax.ShapeDtypeStruct):  # a probe's abstract result: rows of the same avals
        return jax.ShapeDtypeStruct((len(xs),) + tuple(xs[0].shape), xs[0].dtype)
    return jnp.stack([jnp.asarray(x) for x in xs])


def _check_alike(rows: VariantRows, element) -> None:
    want = rows.element_signature()
    if want is not None and _signature(element) != want:
        raise NotImplementedError(
            f"TensorListPushBack: a variant element {element!r} unlike the list's earlier elements (a different "
            "structure or size): graphcompat stacks a compiled list's variant elements in one array per leaf")


# --- helpers --------------------------------------------------------------------------------------------
def _dtype_name(dtype) -> str:
    from graphcompat.framework import dtypes as _dt
    return _dt.as_dtype(np.dtype(dtype)).name


def _shape_text(shape) -> str:
    if shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(int(d)) for d in shape) + "]"


def _static_int(value, what: str) -> int:
    try:
        return int(np.asarray(value))
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerIntegerConversionError,
            jax.errors.TracerArrayConversionError) as err:
        raise NeedsConcreteValues(f"{what} must be known while the graph is traced") from err


def _partial_shape(value):
    """A shape tensor read as TF's PartialTensorShape: -1 (a scalar) is an unknown rank, -1 an unknown dim."""
    try:
        value = np.asarray(value)
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError) as err:
        raise NeedsConcreteValues("a TensorList element_shape must be known while the graph is traced") from err
    if value.ndim == 0:
        if int(value) != -1:
            raise errors.InvalidArgumentError(
                None, None, "The only valid scalar shape tensor is the fully unknown shape specified as -1.")
        return None
    return tuple(None if int(d) < 0 else int(d) for d in value.reshape(-1))


def _compatible(a, b) -> bool:
    if a is None or b is None:
        return True
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _merge(a, b):
    """TF's PartialTensorShape::MergeWith, with its error text."""
    if a is None:
        return b
    if b is None:
        return a
    if not _compatible(a, b):
        raise errors.InvalidArgumentError(
            None, None, f"Incompatible shapes during merge: {_shape_text(a)} vs. {_shape_text(b)}")
    return tuple(x if x is not None else y for x, y in zip(a, b))


def _fully_defined(shape) -> bool:
    return shape is not None and all(d is not None for d in shape)


def _check_dtype(lst: TensorList, element_dtype) -> None:
    if not is_list(lst):
        raise errors.InvalidArgumentError(None, None, f"Input handle is not a list. Saw: '{type(lst).__name__}'")
    if np.dtype(element_dtype) != lst.dtype:
        raise errors.InvalidArgumentError(
            None, None, f"Invalid data types; op elements {_dtype_name(element_dtype)} but list elements "
            f"{_dtype_name(lst.dtype)}")


def _xp(*values):
    return np if all(isinstance(v, (np.ndarray, np.generic)) for v in values) else jnp


def _zeros(shape, dtype):
    return np.zeros(shape, dtype)


def _known_element_shape(lst: TensorList, given):
    """The element shape to fill unset elements with: the op's `element_shape` input merged with the
    list's (TF's GetElementShapeFromInput) and the shape of the stored elements."""
    shape = _merge(_partial_shape(given), lst.element_shape)
    if lst.items is not None:
        shape = _merge(shape, tuple(int(d) for d in lst.items.shape[1:]))
    return shape


def _traced(*values) -> bool:
    return any(isinstance(v, jax.core.Tracer) for v in values)


def _check_index(index, size, verb: str) -> None:
    """TF's index check; `size` is a bounded list's traced length or an exact list's size."""
    xp = jnp if _traced(index, size) else np
    index = xp.asarray(index)
    ok = (index >= 0) & (index < size)
    require(ok, errors.InvalidArgumentError,
            lambda: f"Trying to {verb} element {int(np.asarray(index))} in a list with {int(np.asarray(size))} "
                    "elements.")


def _fingerprint(value):
    """A hashable form of a small build-time constant (TensorList.same), or None for anything else."""
    if not isinstance(value, (np.ndarray, np.generic)) or np.size(value) > 64:
        return None
    value = np.asarray(value)
    return value.dtype.str, value.shape, value.tobytes()


def _constant(same):
    dtype, shape, data = same
    return np.frombuffer(data, np.dtype(dtype)).reshape(shape).copy()


def _row(items, i):
    """items[i] for a traced or static i (a bounded list's element)."""
    if isinstance(items, VariantRows):
        return items.row(i)
    if _xp(items, i) is np:
        return items[int(i)]
    return lax.dynamic_index_in_dim(jnp.asarray(items), jnp.asarray(i, jnp.int32), 0, keepdims=False)


def _no_variant_rows(handle: "TensorList", op_type: str) -> None:
    """Lists of variants (VariantRows) support what while_v2's gradients do with them: push, pop, get and
    set an element, length, zeros-like, add. Ops that make one tensor of all the elements refuse them."""
    if isinstance(handle.items, VariantRows):
        raise NotImplementedError(f"{op_type} of a TensorList of variant elements (lists, optionals) is not "
                                  "supported by graphcompat")


def _exact_size_needed(handle: "TensorList", op_type: str) -> None:
    """Ops whose result's shape is the list's length cannot run on a bounded list (its length is a run-time
    value) inside a compiled step: op by op (NeedsConcreteValues) they see exact lists."""
    if handle.bounded:
        raise NeedsConcreteValues(f"{op_type}: the length of a TensorList grown or shrunk in a compiled loop "
                                  "is known only at run time, and it is this op's result's shape")


def _with_item_shape(lst: TensorList, item, op_type: str):
    """`lst`'s items, allocated (zeros) for elements of `item`'s shape if nothing was stored yet."""
    shape = tuple(int(d) for d in jnp.shape(item))
    if lst.items is None:
        return (np if lst.dtype == object else jnp).zeros((lst.capacity,) + shape, lst.dtype)
    if tuple(lst.items.shape[1:]) != shape:
        raise NotImplementedError(
            f"{op_type}: an element of shape {_shape_text(shape)} in a TensorList whose elements have shape "
            f"{_shape_text(lst.items.shape[1:])}: graphcompat keeps a TensorList's elements stacked in one array, "
            "so all its elements must have the same shape")
    return lst.items


def _check_item(lst: TensorList, item, text: str) -> None:
    shape = tuple(int(d) for d in jnp.shape(item))
    if not _compatible(lst.element_shape, shape):
        raise errors.InvalidArgumentError(None, None, text.format(item=_shape_text(shape),
                                                                  list=_shape_text(lst.element_shape)))


# --- creating lists -------------------------------------------------------------------------------------
def _new_list(element_shape, size: int, element_dtype, max_elements: int = -1) -> TensorList:
    shape = _partial_shape(element_shape)
    # object elements (strings, variants) are not stored up front: a list of variants (lists of lists) must
    # hold no object array, which a compiled loop cannot carry; unset strings read as the same zeros
    items = _zeros((size,) + shape, element_dtype) if _fully_defined(shape) and np.dtype(element_dtype) != object \
        else None
    return TensorList(items, element_dtype, shape, max_elements, size)


@lowers("EmptyTensorList")
def empty_tensor_list(element_shape, max_num_elements, *, element_dtype, **_):
    if np.ndim(max_num_elements) != 0:
        raise errors.InvalidArgumentError(None, None, "max_num_elements expected to be a scalar but got shape: "
                                          f"{_shape_text(np.shape(max_num_elements))}")
    return _new_list(element_shape, 0, element_dtype, _static_int(max_num_elements, "EmptyTensorList's "
                                                                   "max_num_elements"))


@lowers("TensorListReserve")
def tensor_list_reserve(element_shape, num_elements, *, element_dtype, **_):
    n = _static_int(num_elements, "TensorListReserve's num_elements")
    if n < 0:
        raise errors.InvalidArgumentError(
            None, None, f"The num_elements to reserve must be a non negative number, but got {n}")
    return _new_list(element_shape, n, element_dtype)


@lowers("TensorListFromTensor")
def tensor_list_from_tensor(tensor, element_shape, *, element_dtype, **_):
    shape = _partial_shape(element_shape)
    tshape = tuple(int(d) for d in jnp.shape(tensor))
    if not tshape:
        raise errors.InvalidArgumentError(None, None, "Tensor must be at least a vector, but saw shape: []")
    if not _compatible(shape, tshape[1:]):
        raise errors.InvalidArgumentError(
            None, None, f"Specified a list with shape {_shape_text(shape)} from a tensor with shape "
            f"{_shape_text(tshape)}")
    return TensorList(tensor, element_dtype, shape)


@lowers("TensorListScatter", "TensorListScatterV2")
def tensor_list_scatter(tensor, indices, element_shape, num_elements=None, *, element_dtype, **_):
    shape = _partial_shape(element_shape)
    idx = np.asarray(indices) if not isinstance(indices, jax.core.Tracer) else None
    if idx is None:
        raise NeedsConcreteValues("TensorListScatter: the indices size the new list, so they must be known "
                                  "while the graph is traced")
    n = -1 if num_elements is None else _static_int(num_elements, "TensorListScatterV2's num_elements")
    size = max(n, int(idx.max()) + 1 if idx.size else 0)
    lst = TensorList(None, element_dtype, shape, -1, size)
    return _scatter(lst, tensor, indices, "TensorListScatter")


# --- reading and writing elements -----------------------------------------------------------------------
@lowers("TensorListLength")
def tensor_list_length(handle, **_):
    return handle.length()


@lowers("TensorListElementShape")
def tensor_list_element_shape(handle, *, shape_type, **_):
    if handle.element_shape is None:
        return np.asarray(-1, shape_type)
    return np.asarray([-1 if d is None else d for d in handle.element_shape], shape_type)


@lowers("TensorListSetItem")
def tensor_list_set_item(handle, index, item, *, element_dtype, resize_if_index_out_of_bounds=False, **_):
    _check_dtype(handle, element_dtype)
    if is_variant_value(item) or isinstance(handle.items, VariantRows):
        if not isinstance(handle.items, VariantRows) or not is_variant_value(item) or resize_if_index_out_of_bounds:
            raise NotImplementedError(
                "TensorListSetItem: a variant element (a list, an optional) set into a TensorList that holds no "
                "variant elements yet, or resized, is not supported by graphcompat")
        _check_index(index, handle.length(), "modify")
        return handle.with_items(handle.items.set_row(index, item))
    if resize_if_index_out_of_bounds:
        i = _static_int(index, "TensorListSetItem's index (resize_if_index_out_of_bounds: the list may grow)")
        if handle.bounded:
            handle = _grow_to(handle, i + 1)
        elif i >= handle.size:
            handle = tensor_list_resize(handle, i + 1)
    _check_index(index, handle.length(), "modify")
    _check_item(handle, item, "Tried to set a tensor with incompatible shape at a list index. Item element "
                "shape: {item} list shape: {list}")
    items = _with_item_shape(handle, item, "TensorListSetItem")
    same = handle.same if handle.same is not None and _fingerprint(item) == handle.same else None
    if isinstance(items, np.ndarray) and isinstance(index, (np.ndarray, np.generic)) \
            and isinstance(item, (np.ndarray, np.generic)):
        items = items.copy()
        items[int(index)] = item
    else:
        items = jnp.asarray(items).at[index].set(jnp.asarray(item, handle.dtype))
    return handle.with_items(items, same=same)


def _grow_to(handle: TensorList, n: int) -> TensorList:
    """A bounded list with at least `n` elements (SetItem's resize_if_index_out_of_bounds, static `n`)."""
    if handle.items is None:
        raise NeedsConcreteValues("TensorListSetItem: resizing a TensorList without an element shape in a "
                                  "compiled loop")
    handle = handle.bounded_to(max(handle.capacity, n), max(handle.size, n), handle.same)
    rows = jnp.arange(handle.capacity)
    items = jnp.where((rows >= handle.count).reshape((-1,) + (1,) * (handle.items.ndim - 1)),
                      jnp.zeros((), handle.dtype), handle.items)  # resized elements read as zeros, as TF's
    return handle.with_items(items, count=jnp.maximum(handle.count, jnp.int32(n)), same=None)


@lowers("TensorListGetItem")
def tensor_list_get_item(handle, index, element_shape, *, element_dtype, **_):
    _check_dtype(handle, element_dtype)
    _check_index(index, handle.length(), "access")
    if handle.items is None:
        shape = _known_element_shape(handle, element_shape)
        if not _fully_defined(shape):
            raise errors.InvalidArgumentError(
                None, None, f"Trying to read an uninitialized tensor but element_shape is not fully defined: "
                f"{_shape_text(shape)} and no list element is set.")
        return _zeros(shape, handle.dtype)
    _known_element_shape(handle, element_shape)  # TF's merge check
    if handle.same is not None:
        return _constant(handle.same)
    return _row(handle.items, index)


@lowers("TensorListStack")
def tensor_list_stack(handle, element_shape, *, element_dtype, num_elements=-1, **_):
    _check_dtype(handle, element_dtype)
    _no_variant_rows(handle, "TensorListStack")
    if handle.bounded and num_elements != -1 and handle.items is not None and num_elements <= handle.capacity:
        # the result's length is the attr's: compare with the run-time length, read the first rows
        n = handle.count
        require(n == num_elements, errors.InvalidArgumentError,
                lambda: f"Operation expected a list with {num_elements} elements but got a list with {int(n)} "
                        "elements.")
        _known_element_shape(handle, element_shape)
        return handle.items[:num_elements]
    _exact_size_needed(handle, "TensorListStack")
    if num_elements != -1 and handle.size != num_elements:
        raise errors.InvalidArgumentError(
            None, None, f"Operation expected a list with {num_elements} elements but got a list with "
            f"{handle.size} elements.")
    shape = _known_element_shape(handle, element_shape)
    if handle.items is not None:
        return handle.items
    if not _fully_defined(shape):
        if handle.size == 0:
            raise errors.InvalidArgumentError(
                None, None, "Tried to stack elements of an empty list with non-fully-defined element_shape: "
                f"{_shape_text(shape)}")
        raise errors.InvalidArgumentError(
            None, None, "Tried to stack list which only contains uninitialized tensors and has a "
            f"non-fully-defined element_shape: {_shape_text(shape)}")
    return _zeros((handle.size,) + shape, handle.dtype)


def _check_indices(indices, n, text) -> None:
    """Every index in [0, n) (n: a list's length, traced for a bounded list); `text(bad, n)` TF's message."""
    xp = jnp if _traced(indices, n) else np
    indices = xp.asarray(indices)
    require(xp.all((indices >= 0) & (indices < n)), errors.InvalidArgumentError,
            lambda: text(_first_bad(indices, int(np.asarray(n))), int(np.asarray(n))))


@lowers("TensorListGather")
def tensor_list_gather(handle, indices, element_shape, *, element_dtype, **_):
    _check_dtype(handle, element_dtype)
    _no_variant_rows(handle, "TensorListGather")
    _check_indices(indices, handle.length(),
                   lambda bad, n: f"Trying to gather element {bad} in a list with {n} elements.")
    shape = _known_element_shape(handle, element_shape)
    if handle.items is None:
        if not _fully_defined(shape):
            raise errors.InvalidArgumentError(
                None, None, "Trying to read an uninitialized tensor but element_shape is not fully defined: "
                f"{_shape_text(shape)} and no list element is set.")
        return _zeros(tuple(np.shape(indices)) + shape, handle.dtype)
    if _xp(handle.items, indices) is np:
        return handle.items[np.asarray(indices)]
    return jnp.take(jnp.asarray(handle.items), jnp.asarray(indices), axis=0)


def _first_bad(indices, size):
    flat = np.asarray(indices).reshape(-1)
    bad = flat[(flat < 0) | (flat >= size)]
    return int(bad[0]) if bad.size else 0


def _scatter(handle: TensorList, tensor, indices, op_type: str) -> TensorList:
    tshape = tuple(int(d) for d in jnp.shape(tensor))
    if not tshape:
        raise errors.InvalidArgumentError(None, None, "Tensor must be at least a vector, but saw shape: []")
    n_idx = int(np.size(indices)) if np.ndim(indices) else 1
    if tshape[0] != n_idx:
        raise errors.InvalidArgumentError(
            None, None, f"Invalid number of rows in input tensor. Expected: {n_idx} Actual: {tshape[0]}")
    if not _compatible(handle.element_shape, tshape[1:]):
        raise errors.InvalidArgumentError(
            None, None, f"Specified a list with shape {_shape_text(handle.element_shape)} from a tensor with "
            f"shape {_shape_text(tshape)}")
    _check_indices(indices, handle.length(),
                   lambda bad, n: f"Trying to scatter at index {bad} in list with size {n}")
    items = _with_item_shape(handle, jnp.zeros(tshape[1:]), op_type)
    items = jnp.asarray(items).at[jnp.reshape(jnp.asarray(indices), (-1,))].set(jnp.asarray(tensor, handle.dtype))
    return handle.with_items(items)


@lowers("TensorListScatterIntoExistingList")
def tensor_list_scatter_into_existing_list(handle, tensor, indices, *, element_dtype, **_):
    _check_dtype(handle, element_dtype)
    return _scatter(handle, tensor, indices, "TensorListScatterIntoExistingList")


# --- ops that change a list's size ----------------------------------------------------------------------
# On an exact list they change its static size (and shape). On a bounded one (a list a compiled loop grows
# or shrinks: lowering/rules/control_flow.py gives it the rows its trip bound can fill) they move its
# traced count: a push writes row `count` in place, a pop reads row `count - 1`.
def _check_append_dtype(tensor, element_dtype) -> None:
    if is_variant_value(tensor):
        if np.dtype(element_dtype) != np.dtype(object):
            raise errors.InvalidArgumentError(
                None, None, f"Invalid data types; list elements {_dtype_name(element_dtype)} but tried to append "
                "variant")
        return
    dtype = jnp.result_type(tensor)
    if np.dtype(element_dtype) != np.dtype(dtype):
        raise errors.InvalidArgumentError(
            None, None, f"Invalid data types; list elements {_dtype_name(element_dtype)} but tried to append "
            f"{_dtype_name(dtype)}")


def _push(handle: TensorList, tensor, check_full: bool = True) -> TensorList:
    """`handle` with `tensor` appended (its checks made)."""
    if check_full and handle.max_elements != -1:
        n = handle.length()
        require(n < handle.max_elements, errors.InvalidArgumentError,
                lambda: f"Tried to push item into a full list list size: {int(np.asarray(n))} max_num_elements: "
                        f"{handle.max_elements}")
    if is_variant_value(tensor):
        return _push_variant(handle, tensor)
    items = _with_item_shape(handle, tensor, "TensorListPushBack")
    value = _fingerprint(tensor)
    if handle.size == 0 and not handle.bounded:
        same = value
    else:
        same = handle.same if value is not None and value == handle.same else None
    if not handle.bounded:
        xp = _xp(items, tensor)
        return handle.replace(xp.concatenate([items, xp.asarray(tensor, handle.dtype)[None]], axis=0)) \
            ._with_same(same)
    # a push past max_num_elements fails its check above: the bound never needs to exceed it
    size = handle.size + 1 if handle.max_elements == -1 or not check_full else \
        min(handle.size + 1, handle.max_elements)
    if size > handle.capacity:  # more pushes than the loop's bound gave rows for: one more row
        handle = handle.bounded_to(size, handle.size, handle.same)
        items = handle.items
    items = lax.dynamic_update_index_in_dim(jnp.asarray(items), jnp.asarray(tensor, handle.dtype),
                                            handle.count, 0)
    return handle.with_items(items, count=handle.count + 1, size=size, same=same)


def _push_variant(handle: TensorList, element) -> TensorList:
    """`handle` with a variant `element` (a list, an optional) appended: see VariantRows."""
    rows = handle.items if isinstance(handle.items, VariantRows) else None
    if rows is None and handle.size:
        raise NotImplementedError("TensorListPushBack: a variant element onto a TensorList that holds other "
                                  f"values ({handle!r})")
    if not handle.bounded:
        rows = VariantRows.of([element]) if rows is None else rows.append(element)
        return handle.replace(rows)
    size = handle.size + 1 if handle.max_elements == -1 else min(handle.size + 1, handle.max_elements)
    if rows is None:  # nothing pushed before: rows of this element's structure
        rows = VariantRows.of([element], stacked=True).zeros_rows(max(handle.capacity, size))
    elif size > rows.shape[0]:
        rows = rows.padded(size)
    return handle.with_items(rows.set_row(handle.count, element), count=handle.count + 1, size=size)


@lowers("TensorListPushBack")
def tensor_list_push_back(handle, tensor, *, element_dtype, **_):
    _check_append_dtype(tensor, element_dtype)
    if is_variant_value(tensor):
        _check_dtype(handle, element_dtype)
        return _push(handle, tensor)
    _check_item(handle, tensor, "Tried to append a tensor with incompatible shape to a list. Op element shape: "
                "{item} list shape: {list}")
    _check_dtype(handle, element_dtype)
    return _push(handle, tensor)


@lowers("TensorListPushBackBatch")
def tensor_list_push_back_batch(input_handles, tensor, *, element_dtype, **_):
    """Appends row b of `tensor` to list b of a vector of lists (a tuple of TensorLists: what Pack of lists
    gives). As TF's kernel, it checks neither max_num_elements nor the op's dtype against a list's first."""
    _check_append_dtype(tensor, element_dtype)
    tshape = tuple(int(d) for d in jnp.shape(tensor))
    if not tshape:
        raise errors.InvalidArgumentError(None, None, "Expected tensor to be at least a vector, but saw shape: []")
    if not isinstance(input_handles, tuple):
        raise errors.InvalidArgumentError(
            None, None, "Expected input_handles to be a vector, but saw shape: "
            f"{_shape_text(np.shape(input_handles) if not is_list(input_handles) else ())}")
    if tshape[0] != len(input_handles):
        raise errors.InvalidArgumentError(
            None, None, f"Expected tensor.shape[0] == input_handles.size, but saw {tshape[0]} vs. {len(input_handles)}")
    for b, lst in enumerate(input_handles):
        if not is_list(lst):
            raise errors.InvalidArgumentError(
                None, None, f"Input handle at index {b} is not a list. Saw: '{type(lst).__name__}'")
        if not _compatible(lst.element_shape, tshape[1:]):
            raise errors.InvalidArgumentError(
                None, None, f"Tried to append a tensor with incompatible shape to a list at index {b}. Op element "
                f"shape: {_shape_text(tshape[1:])} list shape: {_shape_text(lst.element_shape)}")
        if lst.dtype != np.dtype(element_dtype):
            raise errors.InvalidArgumentError(
                None, None, f"Invalid data type at index {b}; op elements {_dtype_name(element_dtype)} but list "
                f"elements {_dtype_name(lst.dtype)}")
    return tuple(_push(lst, tensor[b], check_full=False) for b, lst in enumerate(input_handles))


@lowers("TensorListPopBack")
def tensor_list_pop_back(handle, element_shape, *, element_dtype, **_):
    _check_dtype(handle, element_dtype)
    if handle.bounded:
        n = handle.count
        require(n > 0, errors.InvalidArgumentError, "Trying to pop from an empty list.")
        popped = handle.with_items(handle.items, count=jnp.maximum(n - 1, 0), size=max(handle.size - 1, 0),
                                   same=handle.same)
        if handle.items is None:
            return popped, _uninitialized(handle, element_shape)
        _known_element_shape(handle, element_shape)
        value = _constant(handle.same) if handle.same is not None else _row(handle.items, jnp.maximum(n - 1, 0))
        return popped, value
    if handle.size == 0:
        raise errors.InvalidArgumentError(None, None, "Trying to pop from an empty list.")
    if handle.items is None:
        return handle.replace(None, handle.size - 1), _uninitialized(handle, element_shape)
    if isinstance(handle.items, VariantRows):
        return handle.replace(handle.items.head(handle.size - 1)), handle.items.row(handle.size - 1)
    value = _constant(handle.same) if handle.same is not None else handle.items[-1]
    return handle.replace(handle.items[:-1])._with_same(handle.same), value


def _uninitialized(handle: TensorList, element_shape):
    shape = _known_element_shape(handle, element_shape)
    if not _fully_defined(shape):
        raise errors.InvalidArgumentError(
            None, None, "Trying to read an uninitialized tensor but element_shape is not fully defined."
            f"{_shape_text(shape)}")
    return _zeros(shape, handle.dtype)


@lowers("TensorListResize")
def tensor_list_resize(handle, size, **_):
    _no_variant_rows(handle, "TensorListResize")
    n = _static_int(size, "TensorListResize's size")
    if n < 0:
        raise errors.InvalidArgumentError(None, None, f"TensorListSlice expects size to be non-negative. Got: {n}")
    if handle.bounded:
        if handle.items is None:
            return TensorList(None, handle.dtype, handle.element_shape, handle.max_elements, n)
        # the new size is static: the result is exact again (rows past the old length read as zeros)
        items = handle.bounded_to(max(handle.capacity, n), handle.size).items
        rows = jnp.arange(items.shape[0]).reshape((-1,) + (1,) * (items.ndim - 1))
        items = jnp.where(rows < handle.count, items, jnp.zeros((), handle.dtype))[:n]
        return handle.replace(items)
    if handle.items is None:
        return handle.replace(None, n)
    items = handle.items
    if n <= handle.size:
        return handle.replace(items[:n])._with_same(handle.same if n else None)
    xp = _xp(items)
    pad = xp.zeros((n - handle.size,) + tuple(items.shape[1:]), handle.dtype)
    return handle.replace(xp.concatenate([items, pad], axis=0))


@lowers("TensorListConcatLists")
def tensor_list_concat_lists(a, b, *, element_dtype, **_):
    for name, lst in (("input_a", a), ("input_b", b)):
        if lst.dtype != np.dtype(element_dtype):
            raise errors.InvalidArgumentError(
                None, None, f"{name}[0].dtype != element_dtype.  Saw: {_dtype_name(lst.dtype)} vs. "
                f"{_dtype_name(element_dtype)}")
    if a.element_shape != b.element_shape:
        raise errors.InvalidArgumentError(
            None, None, "input_a and input_b TensorList element shapes are not identical at index 0.  Saw "
            f"{_shape_text(a.element_shape)} vs. {_shape_text(b.element_shape)}")
    _no_variant_rows(a, "TensorListConcatLists")
    _no_variant_rows(b, "TensorListConcatLists")
    _exact_size_needed(a, "TensorListConcatLists")
    _exact_size_needed(b, "TensorListConcatLists")
    if a.items is None and b.items is None:
        return a.replace(None, a.size + b.size)
    first = a.items if a.items is not None else b.items
    a_items = _with_item_shape(a, first[0] if first.shape[0] else jnp.zeros(first.shape[1:]), "TensorListConcatLists")
    b_items = _with_item_shape(b, first[0] if first.shape[0] else jnp.zeros(first.shape[1:]), "TensorListConcatLists")
    xp = _xp(a_items, b_items)
    return a.replace(xp.concatenate([a_items, b_items], axis=0))


# --- lists as one tensor along the first dimension ------------------------------------------------------
def _concat(handle: TensorList, first_dim, rest):
    _no_variant_rows(handle, "TensorListConcat")
    _exact_size_needed(handle, "TensorListConcat")
    if not handle.size and not _fully_defined(rest):
        raise errors.InvalidArgumentError(
            None, None, "All except the first dimension must be fully defined when concating an empty tensor "
            f"list. element_shape: {_shape_text(rest)}")
    if handle.items is None:
        if first_dim is None or not _fully_defined(rest):
            raise errors.InvalidArgumentError(
                None, None, "Trying to concat list with only uninitialized tensors but element_shape_except_"
                f"first_dim is not fully defined: {_shape_text(rest)}")
        shape = (handle.size * first_dim,) + tuple(rest)
        return _zeros(shape, handle.dtype), np.full((handle.size,), first_dim, np.int64)
    items = handle.items
    if items.ndim < 2:
        raise errors.InvalidArgumentError(None, None, "Concat saw a scalar shape at index 0 but requires at "
                                          "least vectors.")
    element = tuple(int(d) for d in items.shape[1:])
    _merge(rest, element[1:])
    if first_dim is not None and first_dim != element[0]:
        raise errors.InvalidArgumentError(
            None, None, f"Tensor with invalid leading dimension found at index 0. Expected: {first_dim} "
            f"Actual: {element[0]}")
    xp = _xp(items)
    return (xp.reshape(items, (handle.size * element[0],) + element[1:]),
            np.full((handle.size,), element[0], np.int64))


@lowers("TensorListConcat")
def tensor_list_concat(handle, *, element_dtype, element_shape=None, **_):
    _check_dtype(handle, element_dtype)
    rest = tuple(element_shape[1:]) if element_shape is not None else None
    return _concat(handle, None, rest)


@lowers("TensorListConcatV2")
def tensor_list_concat_v2(handle, element_shape, leading_dims, *, element_dtype, **_):
    _check_dtype(handle, element_dtype)
    shape = _merge(_partial_shape(element_shape), handle.element_shape)
    if shape is not None and len(shape) < 1:
        raise errors.InvalidArgumentError(
            None, None, "Concat requires elements to be at least vectors, found scalars instead.")
    first = None if shape is None else shape[0]
    rest = None if shape is None else shape[1:]
    if handle.items is None and first is None and np.size(leading_dims):
        dims = np.asarray(leading_dims).reshape(-1)
        if len(set(int(d) for d in dims)) == 1:
            first = int(dims[0])
    return _concat(handle, first, rest)


@lowers("TensorListSplit")
def tensor_list_split(tensor, element_shape, lengths, *, element_dtype, **_):
    shape = _partial_shape(element_shape)
    tshape = tuple(int(d) for d in jnp.shape(tensor))
    if not tshape:
        raise errors.InvalidArgumentError(None, None, "Tensor must be at least a vector, but saw shape: []")
    lens = np.asarray(lengths).reshape(-1) if not isinstance(lengths, jax.core.Tracer) else None
    if lens is None:
        raise NeedsConcreteValues("TensorListSplit: its lengths must be known while the graph is traced")
    if int(lens.sum()) != tshape[0]:
        raise errors.InvalidArgumentError(
            None, None, f"Unused values in tensor. Length of tensor: {tshape[0]} Values used: {int(lens.sum())}")
    if len(set(int(d) for d in lens)) > 1:
        raise NotImplementedError("TensorListSplit: pieces of different lengths make elements of different "
                                  "shapes; graphcompat keeps a TensorList's elements stacked in one array")
    if not len(lens):
        return TensorList(None, element_dtype, shape, -1, 0)
    d = int(lens[0])
    xp = _xp(tensor)
    return TensorList(xp.reshape(tensor, (len(lens), d) + tshape[1:]), element_dtype, shape)
