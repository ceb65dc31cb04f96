"""Resource variable ops (VarHandleOp, ReadVariableOp, AssignVariableOp, ResourceGather, ResourceScatter* …).

A resource variable is a `VarHandleOp` whose output (dtype `resource`) names the variable; reads and
writes are separate ops that take the handle. The value lives in the Session under the handle's
`shared_name` (the op name when empty), exactly like a VariableV2's value under its op name. Lowerings:
lowering/rules/resource.py. Also here: `tf.assign` & co. dispatching to resource variables (as TF's
state_ops do), and gradients with respect to resource variables (the sum over their reads).
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import (InferenceContext, apply_op, defop, merge_shapes, no_outputs,
                                            scalar_shape)

INDEX = (_dt.int32, _dt.int64)


# ------------------------------------------------------------------------------------------------
# What a handle points to (TF's "handle data"), from the graph
# ------------------------------------------------------------------------------------------------
_PASS_THROUGH = {"Identity", "Enter", "RefEnter", "Snapshot"}


def handle_op(handle: _ops.Tensor) -> Optional[_ops.Operation]:
    """The VarHandleOp behind a resource tensor (through Identity/Enter), or None when unknown."""
    op = handle.op
    while op.type in _PASS_THROUGH and op.inputs:
        op = op.inputs[0].op
    return op if op.type == "VarHandleOp" else None


def handle_data(handle: _ops.Tensor) -> tuple:
    """(dtype, shape) of the variable a handle names; (None, unknown shape) when it cannot be seen."""
    op = handle_op(handle)
    if op is None:
        return None, _ts.unknown_shape()
    return op.attrs["dtype"], _ts.as_shape(op.attrs["shape"])


def _var_shape(ctx: InferenceContext, i: int = 0) -> _ts.TensorShape:
    return handle_data(ctx.inputs[i])[1]


def _check_dtype(ctx: InferenceContext, i: int = 0, attr: str = "dtype") -> None:
    dtype = handle_data(ctx.inputs[i])[0]
    want = ctx.attrs.get(attr)
    if dtype is not None and want is not None and _dt.as_dtype(want) != dtype:
        raise ctx.error(f"Trying to read variable with wrong dtype. Expected {_dt.cpp_name(dtype)} got "
                        f"{_dt.cpp_name(_dt.as_dtype(want))}")


# ------------------------------------------------------------------------------------------------
# Shape functions (TF's resource_variable_ops.cc)
# ------------------------------------------------------------------------------------------------
def _read_shape(ctx: InferenceContext):
    _check_dtype(ctx)
    return [_var_shape(ctx)]


def _assign_shape(ctx: InferenceContext):
    _check_dtype(ctx)
    merge_shapes(ctx, _var_shape(ctx), ctx.shape(1))
    return []


def _gather_shape(ctx: InferenceContext):
    _check_dtype(ctx)
    var, indices = _var_shape(ctx), ctx.shape(1)
    batch_dims = int(ctx.attrs.get("batch_dims", 0))
    if var.ndims is None or indices.ndims is None:
        return [_ts.unknown_shape()]
    dims = var.as_list()
    return [_ts.TensorShape(indices.as_list() + dims[batch_dims + 1:])]


def _scatter_nd_shape(ctx: InferenceContext):
    """TF's ScatterNdUpdateShape on the variable the handle names (its dtype attr is T here)."""
    from graphcompat.ops.indexing_ops import _check_scatter
    _check_dtype(ctx, attr="T")
    _check_scatter(ctx, ctx.shape(1), ctx.shape(2), _var_shape(ctx))
    return []


def _gather_nd_shape(ctx: InferenceContext):
    """TF's GatherNd shape function on the variable the handle names."""
    from graphcompat.ops.indexing_ops import _gather_nd_shape as gather_nd_shape
    _check_dtype(ctx)
    return gather_nd_shape(_ResourceShapeContext(ctx))


class _ResourceShapeContext:
    """An InferenceContext whose input 0 (a handle) shows the variable's shape: a value shape function
    (GatherNd's) then runs unchanged on a resource op, with the resource op's name in its texts."""

    def __init__(self, ctx: InferenceContext):
        self._ctx = ctx

    def shape(self, i: int):
        return _var_shape(self._ctx) if i == 0 else self._ctx.shape(i)

    def __getattr__(self, name):
        return getattr(self._ctx, name)


def _scatter_shape(ctx: InferenceContext):
    _check_dtype(ctx)
    var, indices, updates = _var_shape(ctx), ctx.shape(1), ctx.shape(2)
    if var.ndims is not None and indices.ndims is not None and updates.ndims not in (None, 0):
        merge_shapes(ctx, updates, indices.concatenate(var.as_list()[1:] if var.ndims else []))
    return []


def _variable_shape_shape(ctx: InferenceContext):
    var = _var_shape(ctx)
    return [_ts.TensorShape([var.ndims])]


defop("VarHandleOp", "-> resource: resource",
      attrs={"container": "", "shared_name": "", "debug_name": "", "allowed_devices": []},
      shape=scalar_shape, stateful=True)
defop("ReadVariableOp", "resource: resource -> value: dtype", shape=_read_shape, stateful=True)
defop("AssignVariableOp", "resource: resource, value: dtype ->", attrs={"validate_shape": False},
      shape=_assign_shape, stateful=True)
for _op in ("AssignAddVariableOp", "AssignSubVariableOp"):
    defop(_op, "resource: resource, value: dtype ->", shape=_assign_shape, stateful=True, loop=True)
defop("VarIsInitializedOp", "resource: resource -> is_initialized: bool", shape=scalar_shape, stateful=True)
# TF 2.15+'s savers call it on every variable they save or restore: a variable's value here is one
# immutable array, which no reader copies and no writer changes in place, so there is no mode to turn off.
defop("DisableCopyOnRead", "resource: resource ->", shape=no_outputs, stateful=True)
defop("DestroyResourceOp", "resource: resource ->", attrs={"ignore_lookup_error": True}, shape=no_outputs,
      stateful=True)
defop("VariableShape", "input: resource -> output: out_type", attrs={"out_type": _dt.int32},
      types={"out_type": INDEX}, shape=_variable_shape_shape, stateful=True)
defop("ResourceGather", "resource: resource, indices: Tindices -> output: dtype",
      attrs={"batch_dims": 0, "validate_indices": True}, types={"Tindices": INDEX}, shape=_gather_shape,
      stateful=True)
for _op in ("ResourceScatterUpdate", "ResourceScatterAdd", "ResourceScatterSub", "ResourceScatterMul",
            "ResourceScatterDiv", "ResourceScatterMin", "ResourceScatterMax"):
    defop(_op, "resource: resource, indices: Tindices, updates: dtype ->", types={"Tindices": INDEX},
          shape=_scatter_shape, stateful=True, loop=True)
for _op in ("ResourceScatterNdUpdate", "ResourceScatterNdAdd", "ResourceScatterNdSub", "ResourceScatterNdMax",
            "ResourceScatterNdMin"):
    defop(_op, "ref: resource, indices: Tindices, updates: T ->", attrs={"use_locking": True, "bad_indices_policy": ""},
          types={"Tindices": INDEX}, shape=_scatter_nd_shape, stateful=True, loop=True)
defop("ResourceGatherNd", "resource: resource, indices: Tindices -> output: dtype", types={"Tindices": INDEX},
      shape=_gather_nd_shape, stateful=True)
defop("ResourceStridedSliceAssign", "ref: resource, begin: Index, end: Index, strides: Index, value: T ->",
      attrs={"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0, "shrink_axis_mask": 0},
      types={"Index": INDEX}, shape=no_outputs, stateful=True)
defop("ResourceCountUpTo", "resource: resource -> output: T", types={"T": INDEX},
      shape=lambda ctx: [_var_shape(ctx)], stateful=True)


# ------------------------------------------------------------------------------------------------
# Builders (gen_resource_variable_ops)
# ------------------------------------------------------------------------------------------------
def var_handle_op(dtype, shape, container: str = "", shared_name: str = "", debug_name: str = "",
                  name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("VarHandleOp", [], {"dtype": _dt.as_dtype(dtype).base_dtype, "shape": _ts.as_shape(shape),
                                        "container": container, "shared_name": shared_name,
                                        "debug_name": debug_name}, name=name)


def read_variable_op(handle, dtype, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("ReadVariableOp", [handle], {"dtype": _dt.as_dtype(dtype).base_dtype}, name=name)


def assign_variable_op(handle, value, dtype, validate_shape: bool = False, name=None) -> _ops.Operation:
    return apply_op("AssignVariableOp", [handle, value], {"dtype": dtype, "validate_shape": validate_shape},
                    name=name)


def _update_op(op_type: str):
    def update(handle, value, dtype, name=None) -> _ops.Operation:
        return apply_op(op_type, [handle, value], {"dtype": dtype}, name=name)
    update.__name__ = op_type
    return update


assign_add_variable_op = _update_op("AssignAddVariableOp")
assign_sub_variable_op = _update_op("AssignSubVariableOp")


def var_is_initialized_op(handle, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("VarIsInitializedOp", [handle], name=name)


def resource_gather(handle, indices, dtype, batch_dims: int = 0, validate_indices: bool = True,
                    name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("ResourceGather", [handle, indices], {"dtype": dtype, "batch_dims": int(batch_dims),
                                                          "validate_indices": validate_indices}, name=name)


def resource_scatter(op_type: str, handle, indices, updates, dtype, name: Optional[str] = None):
    """Resource{Scatter*} (its type attr is `dtype`) or Resource{ScatterNd*} (whose attr is `T`)."""
    return apply_op(op_type, [handle, indices, updates], {"T" if "ScatterNd" in op_type else "dtype": dtype},
                    name=name)


def variable_shape(handle, out_type=_dt.int32, name: Optional[str] = None) -> _ops.Tensor:
    return apply_op("VariableShape", [handle], {"out_type": _dt.as_dtype(out_type)}, name=name)


def destroy_resource_op(handle, ignore_lookup_error: bool = True, name: Optional[str] = None):
    return apply_op("DestroyResourceOp", [handle], {"ignore_lookup_error": ignore_lookup_error}, name=name)


# ------------------------------------------------------------------------------------------------
# Resource variables seen by tf.gather (tf.assign & co. dispatch in state_ops, as TF's)
# ------------------------------------------------------------------------------------------------
def is_resource_variable(var) -> bool:
    """`resource_variable_ops.is_resource_variable`."""
    return getattr(var, "_is_resource_variable", False)


def gather(params, indices, validate_indices=None, name: Optional[str] = None, axis=None, batch_dims: int = 0):
    """`tf.gather`: a resource variable's `sparse_read` (one ResourceGather, as TF dispatches it) for row
    gathers of a resource variable, else the GatherV2 op."""
    from graphcompat.ops import indexing_ops
    if is_resource_variable(params) and axis in (None, 0) and not batch_dims:
        return params.sparse_read(indices, name=name)
    return indexing_ops.gather(params, indices, validate_indices=validate_indices, name=name, axis=axis,
                               batch_dims=batch_dims)


# ------------------------------------------------------------------------------------------------
# Gradients with respect to resource variables
# ------------------------------------------------------------------------------------------------
def _sources(handle: _ops.Tensor, inside: set, reads=None) -> list:
    """The tensors through which a resource variable's value enters the graph's top level: its reads,
    and the rows its ResourceGathers produce (with their indices); only the reads in `reads` when given
    (a GradientTape differentiates the reads it recorded)."""
    out = []
    for op in handle.consumers():
        if op in inside:  # a read in a while_loop/cond body: differentiated through its control-flow op
            continue
        if reads is not None and op not in reads:
            continue
        if op.type == "ReadVariableOp":
            out.append((op.outputs[0], None))
        elif op.type == "ResourceGather" and op.inputs[0] is handle and not op.attrs.get("batch_dims", 0):
            out.append((op.outputs[0], op.inputs[1]))
    return out


def gradients(ys, xs, grad_ys=None, name: str = "gradients", **kwargs) -> list:
    """`tf.gradients` that also accepts resource variables (or their handles) among `xs`, as TF does:
    `gradients_through_reads` of every top-level read."""
    return gradients_through_reads(ys, xs, grad_ys, name, kwargs)


def gradients_through_reads(ys, xs, grad_ys, name: str, kwargs: dict, reads=None) -> list:
    """`tf.gradients(ys, xs, grad_ys, name, **kwargs)` with resource variables among `xs`; a variable's
    value is differentiated through its reads in `reads` only, when given (tf.GradientTape's recorded ops).

    A resource variable's gradient is the sum of the gradients of its reads: each top-level ReadVariableOp
    output and each ResourceGather's rows (an IndexedSlices, so embedding updates stay sparse) are passed
    to the structural gradient as xs of their own. Reads inside while_loop/cond bodies are ops of the body
    functions, which nothing in the graph's structure connects to ys: for those the handle itself is an x
    too, differentiated as the variable's value (lowering/rules/gradients.py re-traces the forward pass
    with every read of it inside a body returning the differentiated value). The parts are added up.
    """
    _grad = _gradients_module()
    single = not isinstance(xs, (list, tuple))
    xs = [xs] if single else list(xs)
    expanded, spans, inside = [], [], None
    for x in xs:
        handle = x.handle if is_resource_variable(x) else x
        if isinstance(handle, _ops.Tensor) and handle.dtype.base_dtype == _dt.resource:
            if inside is None:
                from graphcompat.framework import function_library
                inside = function_library.body_ops(handle.graph)
            sources = _sources(handle, inside, reads)
            spans.append((len(expanded), sources, handle))
            expanded.extend(t for t, _ in sources)
        else:
            spans.append((len(expanded), None, None))
            expanded.append(x)
    if not any(s[1] is not None for s in spans):
        return _grad.gradients(ys, xs, grad_ys=grad_ys, name=name, **kwargs)
    read_in_bodies = _read_in_control_flow(ys, [handle for _, sources, handle in spans if sources is not None],
                                           inside)
    regrouped, starts = [], []
    for start, sources, handle in spans:  # a handle read in a body: its reads, then the handle itself
        starts.append(len(regrouped))
        if sources is None:
            regrouped.append(expanded[start])
            continue
        regrouped.extend(t for t, _ in sources)
        if handle in read_in_bodies:
            regrouped.append(handle)
    grads = _grad.gradients_of(ys, regrouped, grad_ys=grad_ys, name=name, variable_handles=read_in_bodies,
                               **_gradients_of_kwargs(kwargs)) if regrouped else []
    out = []
    graph = _ops.get_default_graph() if not regrouped else regrouped[0].graph
    with graph.as_default(), _ops.name_scope((name if name.endswith("/") else name + "/") if name else None):
        for start, (_, sources, handle) in zip(starts, spans):
            if sources is None:
                out.append(grads[start])
                continue
            parts = []
            for (tensor, indices), g in zip(sources, grads[start:start + len(sources)]):
                if g is None:
                    continue
                if indices is not None:
                    g = _grad.IndexedSlices(g, indices, _dense_shape(handle))
                parts.append(g)
            if handle in read_in_bodies and grads[start + len(sources)] is not None:
                parts.append(grads[start + len(sources)])
            out.append(_aggregate(parts, handle, kwargs.get("unconnected_gradients")))
    return out


def _gradients_of_kwargs(kwargs: dict) -> dict:
    """tf.gradients' keyword arguments that change the result (the others are TF's graph-building hints)."""
    allowed = ("colocate_gradients_with_ops", "gate_gradients", "aggregation_method", "stop_gradients",
               "unconnected_gradients")
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        raise TypeError(f"gradients() got an unexpected keyword argument '{unknown[0]}'")
    return {k: v for k, v in kwargs.items() if k in ("stop_gradients", "unconnected_gradients")}


def _read_in_control_flow(ys, handles: list, inside: set) -> set:
    """The handles read (ReadVariableOp, ResourceGather) inside a while_loop/cond body, nested bodies
    too, of a control-flow op `ys` depend on: their gradient is also taken with respect to the handle,
    as the variable's value. A body reads the outer handle tensor itself (a capture), and every enclosing
    control-flow op takes it as an input."""
    ys = [y for y in (ys if isinstance(ys, (list, tuple)) else [ys]) if isinstance(y, _ops.Tensor)]
    if not ys or not handles or not inside:
        return set()
    read_in_bodies = {handle for handle in handles if _has_value_gradient(handle_data(handle)[0]) and any(
        op in inside and op.type in ("ReadVariableOp", "ResourceGather") for op in handle.consumers())}
    if not read_in_bodies:
        return set()
    upstream, stack = set(), [y.op for y in ys]
    while stack:  # the top-level ops ys depend on
        op = stack.pop()
        if op in upstream:
            continue
        upstream.add(op)
        stack.extend(t.op for t in op._inputs)
        stack.extend(op._control_inputs)
    found = {handle for handle in read_in_bodies
             if any(op in upstream and op.type in _grad_control_flow_types() for op in handle.consumers())}
    for handle in found:
        writes = [op for op in handle.consumers() if op in inside and op.type not in _READS_IN_BODIES
                  and op.type not in _grad_control_flow_types()]
        if writes:
            # The gradient is taken at the variable's value when it runs (after the loop's writes), and TF's
            # while_v2 gradient of a body that assigns a variable it reads is no derivative either.
            raise NotImplementedError(
                f"tf.gradients with respect to the resource variable '{handle.op.name}', which a while_loop/cond "
                f"body both reads and writes ({writes[0].type} '{writes[0].name}'): graphcompat differentiates "
                "variable reads in control flow only for bodies that do not assign the variable")
    return found


# Body ops that use a variable's handle without changing the variable (and nested control flow's ops).
_READS_IN_BODIES = frozenset({"ReadVariableOp", "ResourceGather", "VariableShape", "VarIsInitializedOp"})


def _has_value_gradient(dtype) -> bool:
    return dtype is not None and (dtype.base_dtype.is_floating or dtype.base_dtype.is_complex)


def _grad_control_flow_types() -> frozenset:
    return _gradients_module().VARIABLE_READING_CALLERS


def _gradients_module():
    import importlib
    return importlib.import_module("graphcompat.gradients")  # `graphcompat.gradients` is also tf.gradients


def _dense_shape(handle):
    from graphcompat.framework.constant_op import constant
    import numpy as np
    shape = handle_data(handle)[1]
    if shape.is_fully_defined():
        return constant(np.asarray(shape.as_list(), np.int32), name="dense_shape")
    return variable_shape(handle)


def _aggregate(parts: list, handle, unconnected):
    """Adds gradient contributions: IndexedSlices stay sparse (concatenated) unless a dense one joins."""
    _grad = _gradients_module()
    from graphcompat.framework.constant_op import convert_to_tensor
    from graphcompat.ops import array_ops, math_ops
    if not parts:
        if getattr(unconnected, "value", unconnected) == "zero":
            dtype, shape = handle_data(handle)
            return array_ops.zeros(shape.as_list() if shape.is_fully_defined() else variable_shape(handle),
                                   dtype=dtype)
        return None
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(p, _grad.IndexedSlices) for p in parts):
        values = array_ops.concat([p.values for p in parts], 0)
        indices = array_ops.concat([math_ops.cast(p.indices, _dt.int64) if len({q.indices.dtype for q in parts}) > 1
                                    else p.indices for p in parts], 0)
        return _grad.IndexedSlices(values, indices, parts[0].dense_shape)
    return math_ops.add_n([convert_to_tensor(p) for p in parts])
