"""TF1 iterators: `make_one_shot_iterator`, `make_initializable_iterator`, `Iterator.from_structure`,
`from_string_handle`. An iterator is a resource op (`IteratorV2`/`OneShotIterator`) whose state lives
in the Session (`("iterator", name)`); `MakeIterator` (re)initializes it and `IteratorGetNext` yields
one element per run (all its outputs come from that element). Rules: lowering/rules/data.py, which finds
an iterator's one dataset in the graph (a one-shot iterator's `dataset_factory`; the dataset an
initializable iterator is colocated with, as TF creates it).
"""
from __future__ import annotations

from typing import Optional

from graphcompat.data import structure as nest
from graphcompat.data.dataset_ops import (Dataset, DatasetSpec, Spec, _output_classes, _output_shapes, _output_types,
                                          _sparse_tensor, dataset_component, pack_specs)
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import apply_op, defop, no_outputs, scalar_shape

defop("IteratorV2", "-> handle: resource",
      attrs={"shared_name": "", "container": "", "output_types": [], "output_shapes": []},
      shape=scalar_shape, stateful=True)
defop("OneShotIterator", "-> handle: resource",
      attrs={"dataset_factory": None, "shared_name": "", "container": "", "output_types": [], "output_shapes": []},
      shape=scalar_shape, stateful=True)
defop("MakeIterator", "dataset: variant, iterator: resource ->", shape=no_outputs, stateful=True)
defop("IteratorGetNext", "iterator: resource -> components: *output_types",
      attrs={"output_shapes": []}, shape=lambda ctx: list(ctx.attrs["output_shapes"]), stateful=True,
      loop=True)
defop("IteratorToStringHandle", "resource_handle: resource -> string_handle: string", shape=scalar_shape)
defop("IteratorFromStringHandleV2", "string_handle: string -> resource_handle: resource",
      attrs={"output_types": [], "output_shapes": []}, shape=scalar_shape, stateful=True)


def _ops_computing(tensor: _ops.Tensor) -> list:
    """The ops `tensor` needs (data and control inputs), in creation order."""
    needed, stack = set(), [tensor.op]
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        stack.extend(t.op for t in op._inputs)
        stack.extend(op._control_inputs)
    return sorted(needed, key=lambda op: op._id)


def _specs_of(output_types, output_shapes, output_classes=None) -> tuple:
    types = nest.flatten(output_types)
    if output_shapes is None:
        shapes = [_ts.unknown_shape()] * len(types)
    else:
        shapes = [_ts.as_shape(s) for s in nest.flatten_up_to(output_types, output_shapes)]
    classes = [None] * len(types) if output_classes is None else nest.flatten_up_to(output_types, output_classes)
    specs, leaves = [], []
    for t, s, c in zip(types, shapes, classes):
        if c is not None and c is not _ops.Tensor and getattr(c, "__name__", "") == "SparseTensor":
            rank = s.ndims
            specs += [Spec(_dt.int64, [None, rank]), Spec(t, [None]), Spec(_dt.int64, [rank])]
            leaves.append(nest.SPARSE)
        else:
            specs.append(Spec(t, s))
            leaves.append(None)
    return nest.pack(output_types, leaves), specs


class Iterator:
    """`tf.data.Iterator` (TF1)."""

    def __init__(self, resource: _ops.Tensor, initializer: Optional[_ops.Operation], template, specs: list):
        self._resource = resource
        self._initializer = initializer
        self._template = template
        self._specs = specs
        # TF's Iterator records its string handle when it is created (string_handle() returns it)
        self._string_handle = apply_op("IteratorToStringHandle", [resource], name="IteratorToStringHandle")
        # get_next colocates with the resource's colocation group: the dataset's, when the iterator has one
        self._colocation_op = resource.op

    # --- constructors -------------------------------------------------------------------------
    @staticmethod
    def _attrs(specs):
        return {"output_types": [s.dtype for s in specs], "output_shapes": [s.shape for s in specs]}

    @classmethod
    def _initializable(cls, dataset: Dataset, shared_name=None) -> "Iterator":
        attrs = dict(cls._attrs(dataset._specs), shared_name=shared_name or "")
        with _ops.colocate_with(_ops.colocation_group(dataset._variant.op)):
            resource = apply_op("IteratorV2", [], attrs, name="IteratorV2")
            init = apply_op("MakeIterator", [dataset._variant, resource], name="MakeIterator")
            it = cls(resource, init, dataset._template, dataset._specs)
        it._colocation_op = _ops.colocation_group(dataset._variant.op)
        return it

    @classmethod
    def _one_shot(cls, dataset: Dataset) -> "Iterator":
        for op in _ops_computing(dataset._variant):  # the pipeline is built at first use, by value
            if op.type == "Placeholder":
                raise ValueError(f"Cannot capture a placeholder (name:{op.name}, type:{op.type}) by value.")
            if op.type in ("VariableV2", "VarHandleOp", "Variable"):
                raise ValueError(f"Failed to create a one-shot iterator for a dataset. "
                                 f"`Dataset.make_one_shot_iterator()` does not support datasets that capture "
                                 f"stateful objects, such as a `Variable` ({op.name}). Consider using "
                                 f"`Dataset.make_initializable_iterator()`.")
        factory = _dataset_factory(dataset._variant)
        with _ops.colocate_with(_ops.colocation_group(dataset._variant.op)):
            resource = apply_op("OneShotIterator", [], dict(cls._attrs(dataset._specs), dataset_factory=factory),
                                name="OneShotIterator")
            it = cls(resource, None, dataset._template, dataset._specs)
        it._colocation_op = _ops.colocation_group(dataset._variant.op)
        return it

    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name=None, output_classes=None) -> "Iterator":
        template, specs = _specs_of(output_types, output_shapes, output_classes)
        attrs = dict(Iterator._attrs(specs), shared_name=shared_name or "")
        resource = apply_op("IteratorV2", [], attrs, name="IteratorV2")  # TF 2's compat.v1 name
        return Iterator(resource, None, template, specs)

    @staticmethod
    def from_string_handle(string_handle, output_types, output_shapes=None, output_classes=None) -> "Iterator":
        template, specs = _specs_of(output_types, output_shapes, output_classes)
        handle = convert_to_tensor(string_handle, _dt.string)
        resource = apply_op("IteratorFromStringHandleV2", [handle], Iterator._attrs(specs),
                            name="IteratorFromStringHandleV2")
        return Iterator(resource, None, template, specs)

    # --- TF1 API ------------------------------------------------------------------------------
    @property
    def initializer(self) -> _ops.Operation:
        if self._initializer is None:
            raise ValueError("Iterator does not have an initializer.")
        return self._initializer

    def make_initializer(self, dataset: Dataset, name=None) -> _ops.Operation:
        nest.assert_same_structure(self.output_types, dataset.output_types)
        if len(self._specs) != len(dataset._specs):
            raise TypeError(f"Expected output classes {self.output_classes} but got dataset with output classes "
                            f"{dataset.output_classes}.")
        for mine, theirs in zip(self._specs, dataset._specs):
            if mine.dtype != theirs.dtype:
                raise TypeError(f"Expected output types {self.output_types} but got dataset with output types "
                                f"{dataset.output_types}.")
            if not mine.shape.is_compatible_with(theirs.shape):
                raise TypeError(f"Expected output shapes compatible with {self.output_shapes} but got dataset "
                                f"with output shapes {dataset.output_shapes}.")
        with _ops.name_scope(name or "make_initializer") as scope, _ops.colocate_with(self._colocation_op):
            return apply_op("MakeIterator", [dataset._variant, self._resource], name=scope)

    def get_next(self, name=None):
        with _ops.colocate_with(self._colocation_op):  # as TF's get_next
            outs = apply_op("IteratorGetNext", [self._resource], self._attrs(self._specs),
                            name=name or "IteratorGetNext")
        outs = outs if isinstance(outs, list) else [outs]
        # a dataset-valued component (a window) is a Dataset over its variant, as TF's
        outs = [dataset_component(t, s) if isinstance(s, DatasetSpec) else t for t, s in zip(outs, self._specs)]
        return nest.pack(self._template, outs, sparse=_sparse_tensor)

    def get_next_as_optional(self):
        """TF's IteratorGetNextAsOptional: an Optional that holds the next element, or none at the end."""
        from graphcompat.data.experimental_ops import Optional
        with _ops.colocate_with(self._colocation_op):
            variant = apply_op("IteratorGetNextAsOptional", [self._resource], self._attrs(self._specs),
                               name="IteratorGetNextAsOptional")
        return Optional(variant, self._template, self._specs)

    def string_handle(self, name=None) -> _ops.Tensor:
        if name is None:
            return self._string_handle
        return apply_op("IteratorToStringHandle", [self._resource], name=name)

    output_types = property(lambda self: _output_types(self._template, self._specs))
    output_shapes = property(lambda self: _output_shapes(self._template, self._specs))
    output_classes = property(lambda self: _output_classes(self._template, self._specs))
    element_spec = property(lambda self: pack_specs(self._template, self._specs, lambda sp: sp, lambda i, v, s: v))




def _dataset_factory(variant: _ops.Tensor):
    """TF's one-shot iterator builds its pipeline from `dataset_factory`, a function of no arguments whose
    body copies the pipeline's ops (captured by value): the same function here, in the graph's library
    (a copy of top-level ops, as a gradient's forward function: `owns_ops=False`)."""
    from graphcompat.framework.function_library import GraphFunction
    from graphcompat.ops.control_flow_ops import _register
    graph = variant.graph
    ops = _ops_computing(variant)
    body = GraphFunction("", "function", ops, [], [], [variant], [], owns_ops=False)
    attr = _register(graph, body, "_make_dataset")
    return attr


def make_one_shot_iterator(dataset: Dataset) -> Iterator:
    return dataset.make_one_shot_iterator()


def make_initializable_iterator(dataset: Dataset, shared_name=None) -> Iterator:
    return dataset.make_initializable_iterator(shared_name)


def get_output_types(x):
    return x.output_types


def get_output_shapes(x):
    return x.output_shapes


def get_output_classes(x):
    return x.output_classes
