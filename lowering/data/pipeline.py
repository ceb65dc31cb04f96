"""Pipeline nodes built from a graph's tf.data ops: the registry, the node base class, bound values and
dataset functions (see lowering/data/__init__.py for the design).

A node is built once per dataset op (`node_of`, cached on the graph) from what the graph says: the op's
type and attrs, its variant inputs' producing dataset ops (its child nodes), the static values of its
other inputs (`constant_value`, the framework's build-time folding) and its functions, looked up in the
graph's library by their func attrs. Running the dataset op binds the node to its inputs' run-time values
(`Bound`); an iterator then walks the bound pipeline.
"""
from __future__ import annotations

import math
import threading
from typing import Callable, Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value
from graphcompat.framework.registry import get_op_def
from lowering.data.context import metadata_name

INF = math.inf
AUTOTUNE = -1

# op type → node class (one entry per dataset op type, as `@lowers` rules for other ops)
NODE_TYPES: dict = {}


def pipeline_node(*op_types: str) -> Callable:
    """Class decorator: the node class that runs dataset ops of `op_types`."""
    def register(cls):
        for op_type in op_types:
            if op_type in NODE_TYPES:
                raise ValueError(f"a pipeline node for {op_type} is registered twice")
            NODE_TYPES[op_type] = cls
        return cls
    return register


class Spec:
    """One component's static dtype and shape (the op's `output_types` / `output_shapes`)."""

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype, shape):
        self.dtype = _dt.as_dtype(dtype)
        self.shape = _ts.as_shape(shape) if shape is not None else _ts.unknown_shape()


_REPORTING = threading.local()


def tf_cardinality(node: "Node"):
    """TF's `cardinality` of a pipeline: its nodes' `_card()` as TF's kernels report it, which differs from
    the count the walks rely on in two places: a map recorded with preserve_cardinality=False (TF 1's
    `Dataset.map`) reports UNKNOWN, and a repeat forever of an unknown input reports INFINITE."""
    _REPORTING.active = True
    try:
        return node._card()
    finally:
        _REPORTING.active = False


def reporting_tf_cardinality() -> bool:
    """Whether `_card()` is answering `tf_cardinality` (TF's report) rather than a walk."""
    return getattr(_REPORTING, "active", False)


def static_int(t) -> Optional[int]:
    """A scalar input's value if the graph fixes it while building (constant folding), else None."""
    v = constant_value(t)
    return None if v is None else int(np.asarray(v))


def dataset_op_of(t) -> "object":
    """The dataset op whose variant `t` is (through Identity ops, as TF's functions return their datasets)."""
    op = t.op
    while op.type == "Identity":
        op = op.inputs[0].op
    if op.type == "_Arg" and op.outputs[0].dtype == _dt.variant:  # a function's dataset argument (a window)
        return op
    if op.type not in NODE_TYPES:
        raise NotImplementedError(f"the variant {t.name} is not a tf.data dataset graphcompat runs "
                                  f"(it comes from a {op.type} op)")
    return op


def node_of(op) -> "Node":
    """The pipeline node of dataset op `op` (built once per op and graph)."""
    cache = op.graph._extras.setdefault("tf.data.nodes", {})  # one dict even when walk threads build nodes
    node = cache.get(op)
    if node is None:
        cls = ArgumentNode if op.type == "_Arg" else NODE_TYPES.get(op.type)
        if cls is None:
            raise NotImplementedError(f"tf.data op {op.type} ('{op.name}') is not supported by graphcompat")
        n = cls.children_of(op)
        children = [node_of(dataset_op_of(t)) for t in op.inputs[:n]]
        node = cache[op] = cls(op, children, list(op.inputs[n:]))
    return node


class Failed:
    """An element whose computation failed (a map function's error, a batch whose elements cannot be
    stacked), yielded in its place: TF's iterator returns that error from get_next and goes on, so the next
    get_next gives the next element. A Python generator that raises is finished, so a host walk carries the
    error as this value instead, through the nodes that know it (`Node.passes_failures`) up to the
    iterator, which raises it. Only a bound in `HostRT.tolerant` yields one (every node above it passes
    it on); treated as an element, it raises its error."""

    __slots__ = ("error",)

    def __init__(self, error: Exception):
        self.error = error

    def __iter__(self):
        raise self.error

    def __len__(self):
        raise self.error

    def __getitem__(self, k):
        raise self.error


def tolerant_bounds(root: "Bound") -> set:
    """The ids of the bounds whose Failed elements reach the iterator of `root`: `root`, and the inputs of a
    tolerant bound whose node passes failures on."""
    out, todo = set(), [root]
    while todo:
        b = todo.pop()
        out.add(id(b))
        if b.ds.passes_failures:
            todo.extend(b.children)
    return out


class Bound:
    """A dataset op's value: the pipeline node with its argument values and its bound inputs. `name` is TF's
    name of the dataset (its metadata name, or its number of TF's counter: lowering/data/context.py
    `dataset_name`), which its functions' errors carry; `up`
    where its iterator sits: (the bound whose iterator made it, the index TF's prefix gives it, whether through
    a function), set when that bound is made or walks it (lowering/data/context.py)."""

    __slots__ = ("ds", "vals", "children", "name", "up")

    def __init__(self, ds: "Node", vals: dict, children: list, name=None):
        self.ds, self.vals, self.children, self.name = ds, vals, children, name
        self.up = None
        for child in children:
            if type(child) is Bound:
                child.up = (self, None, False)

    def all_values(self) -> dict:
        out = dict(self.vals)
        for c in self.children:
            out.update(c.all_values())
        return out


def _specs_of(op) -> list:
    attrs = op.attrs
    types = attrs.get("output_types")
    if types is None:
        types = attrs.get("Toutput_types")
    if types is None:  # the file readers: one scalar string per record
        return [Spec(_dt.string, [])]
    shapes = attrs.get("output_shapes") or [None] * len(types)
    return [Spec(t, s) for t, s in zip(types, shapes)]


class Node:
    """One dataset op of the pipeline: static facts from the graph, and the two walks.

    The walk protocol: `_validate(bound)` (TF's kernel constructor checks, when the op runs), `_iter(bound,
    rt)` (host walk: flat lists of numpy arrays), `_card()` (static cardinality: an int, INF or None),
    `_dev_ok()`, `_dev_tensors()` and `_dev_elem(i, dv, rt)` (device walk, periodic indexing).
    """

    n_children = 1  # leading variant inputs (input datasets)
    # whether the host walk passes its input's Failed elements on (or turns them into its own) in TF's
    # order; an input of a node that does not is never tolerant (its errors end the walk)
    passes_failures = False

    @classmethod
    def children_of(cls, op) -> int:
        return cls.n_children

    def __init__(self, op, children: list, tensors: list):
        self._op = op
        self._children = children
        self._tensors = tensors  # the op's non-dataset inputs, in TF's order
        self._specs = _specs_of(op)
        # flat positions where a SparseTensor's (indices, values, dense_shape) start (graphcompat's own
        # recording of sparse components, `_sparse_components`; TF would carry them as variants)
        self._sparse = tuple(int(k) for k in (op.attrs.get("_sparse_components") or ()))
        self._metadata_name = metadata_name(op)  # TF's name of the datasets the op makes, when it names them
        self._setup()

    def _setup(self) -> None:
        """Static facts read from the op (subclasses)."""

    def _validate(self, bound: Bound) -> None:
        pass

    def _iter(self, b: Bound, rt):
        raise NotImplementedError(f"tf.data op {self._op.type} cannot be walked by graphcompat")

    def _card(self):
        return None

    def _dev_ok(self) -> bool:
        return False

    def _dev_tensors(self) -> list:
        """The tensors a device pipeline reads at run time (its arrays), in a fixed order."""
        out = []
        for c in self._children:
            out += [t for t in c._dev_tensors() if t not in out]
        return out

    def _nodes(self) -> list:
        out = [self]
        for c in self._children:
            out += c._nodes()
        return out


class ArgumentNode(Node):
    """A dataset function's dataset-valued argument (a window, group_by_window's group). The function runs
    with the argument's value, a bound dataset (`Bound`) that walks itself, so this node only states the
    static facts the nodes built on it read: its element's component specs, which the front end records on
    the `_Arg` (`_element_output_types` / `_element_output_shapes`, graphcompat's own attrs)."""

    n_children = 0

    def _setup(self):
        types = self._op.attrs.get("_element_output_types")
        if types is None:
            raise NotImplementedError(f"the dataset argument '{self._op.name}' does not say its element's types "
                                      "(graphcompat runs dataset arguments of the functions it recorded or imported "
                                      "over a window)")
        shapes = self._op.attrs.get("_element_output_shapes") or [None] * len(types)
        self._specs = [Spec(t, s) for t, s in zip(types, shapes)]


# ------------------------------------------------------------------------------------------------
# Dataset functions (map, filter, flat_map, interleave): FunctionDefs of the graph's library
# ------------------------------------------------------------------------------------------------
_PY_FUNC_TYPES = ("PyFunc", "PyFuncStateless", "EagerPyFunc")


class Function:
    """A dataset op's function (`f`, `predicate`), found in the graph's library by its func attr and
    evaluated per element by the interpreter. `capture_inputs` are the op's inputs that feed the
    function's captures (TF's `other_arguments`), in order."""

    def __init__(self, op, attr_name: str, capture_inputs: list, sparse: bool):
        from lowering.plan import normalize_attrs, prune
        from lowering.registry import get_rule
        func_attr = op.attrs[attr_name]
        body = op.graph._get_function(func_attr.name)
        if body is None:
            raise NotImplementedError(f"{op.type} '{op.name}': its function {func_attr.name} is not in the graph's "
                                      f"library")
        self.args = list(body.params)
        self.captures = list(body.captures)
        self.outputs = list(body.outputs)
        if len(capture_inputs) != len(self.captures):
            raise NotImplementedError(f"{op.type} '{op.name}': {len(capture_inputs)} other_arguments for "
                                      f"{len(self.captures)} captures of {func_attr.name}")
        self.capture_inputs = list(capture_inputs)
        self.returns_dataset = bool(self.outputs) and self.outputs[0].dtype == _dt.variant
        fed = set(self.args) | set(self.captures)
        own = [o._id for o in body.ops] + [t.op._id for t in self.args]
        start = min(own) if own else 0
        steps = [(o, get_rule(o.type), normalize_attrs(o.attrs))
                 for o in prune(self.outputs, [], fed) if o._id >= start]
        # Constants are values, bound once: an element's evaluation runs only the ops that compute.
        self.constants = {o._outputs[0]: attrs["value"] for o, _, attrs in steps if o.type == "Const"}
        self.steps = [step for step in steps if step[0].type != "Const"]
        self.dev_ok = not self.returns_dataset and not sparse and all(
            not rule.context and not rule.host and not get_op_def(o.type).stateful
            and all(t.dtype != _dt.string for t in o._outputs) for o, rule, _ in self.steps) \
            and all(t.dtype != _dt.string for t in self.args + self.outputs)
        self.parallel_safe = not self.returns_dataset and all(
            not get_op_def(o.type).stateful or o.type in _PY_FUNC_TYPES for o, _, _ in self.steps)

    def call(self, args: list, captured: dict, ctx) -> list:
        """The outputs for one element; `captured` maps the op's capture inputs to their values."""
        from lowering.interpreter import evaluate
        feeds = dict(self.constants)
        feeds.update((c, captured[t]) for c, t in zip(self.captures, self.capture_inputs))
        feeds.update(zip(self.args, args))
        return evaluate(self.steps, feeds, self.outputs, ctx)
