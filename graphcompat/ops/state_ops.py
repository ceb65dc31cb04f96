"""State ops: VariableV2 and the ops that read or write a variable through its ref.

A variable's value lives in the Session; `VariableV2` lowers to a `Ref` that the lowering resolves
against the run's threaded state. Lowerings: lowering/rules/state.py.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import (InferenceContext, apply_op, defop, format_shape, merge_shapes,
                                            scalar_shape)

NUMBER = _dt.NUMBER_TYPES


# ------------------------------------------------------------------------------------------------
# Shape functions
# ------------------------------------------------------------------------------------------------
def _assign_shape(ctx: InferenceContext):
    if not ctx.attrs.get("validate_shape", True):
        return [ctx.shape(1)]
    return [merge_shapes(ctx, ctx.shape(0), ctx.shape(1))]


def _assign_update_shape(ctx: InferenceContext):
    return [merge_shapes(ctx, ctx.shape(0), ctx.shape(1))]


def _scatter_shape(ctx: InferenceContext):
    """updates.shape must be indices.shape + ref.shape[1:] (TF's ScatterUpdateShape)."""
    ref, indices, updates = ctx.shape(0), ctx.shape(1), ctx.shape(2)
    if ref.ndims is not None and indices.ndims is not None and updates.ndims is not None:
        if updates.ndims != 0:
            want = indices.concatenate(ref.as_list()[1:] if ref.ndims else [])
            merge_shapes(ctx, updates, want)
    return [ref]


defop("VariableV2", "-> ref: Ref(dtype)", attrs={"container": "", "shared_name": ""},
      shape=lambda ctx: [ctx.attrs["shape"]], stateful=True)
defop("Assign", "ref: Ref(T), value: T -> output_ref: Ref(T)",
      attrs={"validate_shape": True, "use_locking": True}, shape=_assign_shape)
for _op in ("AssignAdd", "AssignSub"):
    defop(_op, "ref: Ref(T), value: T -> output_ref: Ref(T)", attrs={"use_locking": False},
          types={"T": NUMBER}, shape=_assign_update_shape, loop=True)
for _op in ("ScatterUpdate", "ScatterAdd", "ScatterSub", "ScatterMul", "ScatterDiv", "ScatterMax",
            "ScatterMin"):
    defop(_op, "ref: Ref(T), indices: Tindices, updates: T -> output_ref: Ref(T)",
          attrs={"use_locking": _op == "ScatterUpdate"},
          types={"Tindices": (_dt.int32, _dt.int64)}, shape=_scatter_shape, loop=True)
defop("IsVariableInitialized", "ref: Ref(dtype) -> is_initialized: bool", shape=scalar_shape)
defop("CountUpTo", "ref: Ref(T) -> output: T",
      types={"T": (_dt.int32, _dt.int64)}, shape=lambda ctx: [ctx.shape(0)])


# ------------------------------------------------------------------------------------------------
# Builders
# ------------------------------------------------------------------------------------------------
def variable_op_v2(shape, dtype, name: str = "Variable", container: str = "",
                   shared_name: str = "") -> _ops.Tensor:
    """A raw VariableV2 node (its output is the `dtype_ref` tensor)."""
    return apply_op("VariableV2", [], {"shape": _ts.as_shape(shape), "dtype": _dt.as_dtype(dtype).base_dtype,
                                       "container": container, "shared_name": shared_name}, name=name)


def _ref_of(ref):
    """A Variable → its ref tensor; a ref Tensor passes through."""
    if hasattr(ref, "_ref") and not isinstance(ref, _ops.Tensor):
        return ref._ref()
    return ref


def _is_resource_variable(ref) -> bool:
    return getattr(ref, "_is_resource_variable", False)


def _is_partitioned(ref) -> bool:
    """A PartitionedVariable: not a ref, so TF's state_ops call its own assign/assign_add/assign_sub."""
    return hasattr(ref, "_get_variable_list") and hasattr(ref, "_apply_assign_fn")


# As TF's state_ops, each builder takes a ref variable (or ref tensor) to TF1's ref op and a resource
# variable to its own method (AssignVariableOp, ResourceScatter* …), so every caller — tf.assign, moving
# averages, batch norm's updates, metrics, init_from_checkpoint — works with both kinds of variable.
def assign(ref, value, validate_shape: Optional[bool] = None, use_locking: Optional[bool] = None,
           name: Optional[str] = None):
    """`tf.assign`: writes `value` into the variable when run; returns the (new value of the) ref."""
    if _is_resource_variable(ref) or _is_partitioned(ref):
        return ref.assign(value, name=name)
    ref = _ref_of(ref)
    if isinstance(ref, _ops.Tensor) and not ref.dtype.is_ref_dtype:
        raise TypeError("'Assign' Op requires that input 'ref' be a mutable tensor (e.g.: a tf.Variable)")
    attrs = {}
    if validate_shape is not None:
        attrs["validate_shape"] = bool(validate_shape)
    if use_locking is not None:
        attrs["use_locking"] = bool(use_locking)
    return apply_op("Assign", [ref, value], attrs, name=name)


def _update(op_type: str, tf_name: str):
    def update(ref, value, use_locking=None, name=None):
        if _is_resource_variable(ref) or (_is_partitioned(ref) and tf_name in ("assign_add", "assign_sub")):
            return getattr(ref, tf_name)(value)   # TF passes neither use_locking nor name on
        ref = _ref_of(ref)
        attrs = {} if use_locking is None else {"use_locking": bool(use_locking)}
        return apply_op(op_type, [ref, value], attrs, name=name)
    update.__name__ = tf_name
    update.__doc__ = f"`tf.{tf_name}`: the {op_type} op (acts only when run), or a resource variable's `{tf_name}`."
    return update


assign_add = _update("AssignAdd", "assign_add")
assign_sub = _update("AssignSub", "assign_sub")


def _scatter(op_type: str, tf_name: str):
    def scatter(ref, indices, updates, use_locking=None, name=None):
        if _is_resource_variable(ref):
            return ref._scatter("Resource" + op_type, indices, updates, name)
        ref = _ref_of(ref)
        attrs = {} if use_locking is None else {"use_locking": bool(use_locking)}
        return apply_op(op_type, [ref, indices, updates], attrs, name=name)
    scatter.__name__ = tf_name
    scatter.__doc__ = (f"`tf.{tf_name}`: the {op_type} op on rows `indices` of a variable (Resource{op_type} "
                       "for a resource variable).")
    return scatter


scatter_update = _scatter("ScatterUpdate", "scatter_update")
scatter_add = _scatter("ScatterAdd", "scatter_add")
scatter_sub = _scatter("ScatterSub", "scatter_sub")
scatter_mul = _scatter("ScatterMul", "scatter_mul")
scatter_div = _scatter("ScatterDiv", "scatter_div")
scatter_max = _scatter("ScatterMax", "scatter_max")
scatter_min = _scatter("ScatterMin", "scatter_min")


def is_variable_initialized(variable) -> _ops.Tensor:
    """`tf.is_variable_initialized(v)`: a bool scalar, true once the variable holds a value
    (VarIsInitializedOp for a resource variable)."""
    if _is_resource_variable(variable):
        return variable.is_initialized()
    ref = _ref_of(variable)
    return apply_op("IsVariableInitialized", [ref], {"dtype": ref.dtype.base_dtype}, name=None)


def count_up_to(ref, limit, name=None):
    """`tf.count_up_to`: increments an int variable; OutOfRangeError once it reaches `limit`
    (ResourceCountUpTo for a resource variable)."""
    if _is_resource_variable(ref):
        return ref.count_up_to(limit)
    return apply_op("CountUpTo", [_ref_of(ref)], {"limit": int(limit)}, name=name)

