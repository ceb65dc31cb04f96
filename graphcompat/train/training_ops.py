"""The optimizer kernels as TF op types (ApplyAdam, SparseApplyAdagrad …): signatures and shapes.

Each kernel exists twice, as TF has it: for ref variables (`ApplyAdam`: `Ref(T)` inputs, returns the
var) and for resource variables (`ResourceApplyAdam`: `resource` handles, no outputs). `apply` picks
the one that fits the variable it is given. Their math (equal to tensorflow/core/kernels/training_ops.cc)
is in lowering/rules/train.py.
"""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop
from graphcompat.ops.resource_variable_ops import handle_data
from graphcompat.ops.state_ops import merge_shapes

NUMBER = _dt.NUMBER_TYPES
INDEX = (_dt.int32, _dt.int64)

# op type → (ref inputs, other inputs in TF's order, extra attrs). `grad`/`delta` is the gradient;
# sparse ops take `indices` right after it.
DENSE = {
    "ApplyGradientDescent": (["var"], ["alpha", "delta"], {}),
    "ApplyProximalGradientDescent": (["var"], ["alpha", "l1", "l2", "delta"], {}),
    "ApplyMomentum": (["var", "accum"], ["lr", "grad", "momentum"], {"use_nesterov": False}),
    "ApplyAdagrad": (["var", "accum"], ["lr", "grad"], {"update_slots": True}),
    "ApplyProximalAdagrad": (["var", "accum"], ["lr", "l1", "l2", "grad"], {}),
    "ApplyAdam": (["var", "m", "v"], ["beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon", "grad"],
                  {"use_nesterov": False}),
    "ApplyRMSProp": (["var", "ms", "mom"], ["lr", "rho", "momentum", "epsilon", "grad"], {}),
    "ApplyCenteredRMSProp": (["var", "mg", "ms", "mom"], ["lr", "rho", "momentum", "epsilon", "grad"], {}),
    "ApplyFtrl": (["var", "accum", "linear"], ["grad", "lr", "l1", "l2", "lr_power"],
                  {"multiply_linear_by_lr": False}),
    "ApplyFtrlV2": (["var", "accum", "linear"], ["grad", "lr", "l1", "l2", "l2_shrinkage", "lr_power"],
                    {"multiply_linear_by_lr": False}),
    "ApplyAdadelta": (["var", "accum", "accum_update"], ["lr", "rho", "epsilon", "grad"], {}),
    "ApplyAdagradDA": (["var", "gradient_accumulator", "gradient_squared_accumulator"],
                       ["grad", "lr", "l1", "l2", "global_step"], {}),
    "ApplyAdagradV2": (["var", "accum"], ["lr", "epsilon", "grad"], {"update_slots": True}),
    "ApplyAdaMax": (["var", "m", "v"], ["beta1_power", "lr", "beta1", "beta2", "epsilon", "grad"], {}),
    "ApplyAddSign": (["var", "m"], ["lr", "alpha", "sign_decay", "beta", "grad"], {}),
    "ApplyPowerSign": (["var", "m"], ["lr", "logbase", "sign_decay", "beta", "grad"], {}),
    "ApplyKerasMomentum": (["var", "accum"], ["lr", "grad", "momentum"], {"use_nesterov": False}),
    "ApplyAdamWithAmsgrad": (["var", "m", "v", "vhat"],
                             ["beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon", "grad"], {}),
}
SPARSE = {
    "SparseApplyProximalGradientDescent": (["var"], ["alpha", "l1", "l2", "grad", "indices"], {}),
    "SparseApplyMomentum": (["var", "accum"], ["lr", "grad", "indices", "momentum"], {"use_nesterov": False}),
    "SparseApplyAdagrad": (["var", "accum"], ["lr", "grad", "indices"], {"update_slots": True}),
    "SparseApplyProximalAdagrad": (["var", "accum"], ["lr", "l1", "l2", "grad", "indices"], {}),
    "SparseApplyRMSProp": (["var", "ms", "mom"], ["lr", "rho", "momentum", "epsilon", "grad", "indices"], {}),
    "SparseApplyCenteredRMSProp": (["var", "mg", "ms", "mom"],
                                   ["lr", "rho", "momentum", "epsilon", "grad", "indices"], {}),
    "SparseApplyFtrl": (["var", "accum", "linear"], ["grad", "indices", "lr", "l1", "l2", "lr_power"],
                        {"multiply_linear_by_lr": False}),
    "SparseApplyFtrlV2": (["var", "accum", "linear"],
                          ["grad", "indices", "lr", "l1", "l2", "l2_shrinkage", "lr_power"],
                          {"multiply_linear_by_lr": False}),
    "SparseApplyAdadelta": (["var", "accum", "accum_update"], ["lr", "rho", "epsilon", "grad", "indices"], {}),
    "SparseApplyAdagradDA": (["var", "gradient_accumulator", "gradient_squared_accumulator"],
                             ["grad", "indices", "lr", "l1", "l2", "global_step"], {}),
    "SparseApplyAdagradV2": (["var", "accum"], ["lr", "epsilon", "grad", "indices"], {"update_slots": True}),
    "SparseApplyKerasMomentum": (["var", "accum"], ["lr", "grad", "indices", "momentum"], {"use_nesterov": False}),
}
# Kernels TF registers only for resource variables (the Keras optimizers' own): no ref-variable op type.
RESOURCE_ONLY = frozenset({"ApplyKerasMomentum", "ApplyAdamWithAmsgrad", "SparseApplyKerasMomentum"})
# Inputs whose type is not the variable's `T`: the sparse row ids, AdagradDA's step count.
INPUT_TYPES = {"indices": "Tindices", "global_step": "int64"}


def _var_shape(ctx: InferenceContext, i: int):
    """A slot's shape: the ref's, or the variable's behind a resource handle."""
    t = ctx.inputs[i]
    return handle_data(t)[1] if t.dtype.base_dtype == _dt.resource else ctx.shape(i)


def _check_scalar(ctx: InferenceContext, i: int) -> None:
    """TF's `WithRank(input, 0)` on a hyper-parameter (lr, beta1 …), with its text."""
    ndims = ctx.shape(i).ndims
    if ndims not in (None, 0):
        raise ctx.error(f"Shape must be rank 0 but is rank {ndims}")


def _slots_shape(ctx: InferenceContext, refs: int):
    var = _var_shape(ctx, 0)
    for i in range(1, refs):
        var = merge_shapes(ctx, var, _var_shape(ctx, i))
    return var


def _dense_shape(refs: int, others: list):
    # TF's Apply*ShapeFn: the slots merged, then each input in order: scalars rank 0, the gradient merged.
    def shape(ctx: InferenceContext):
        var = _slots_shape(ctx, refs)
        for i, name in enumerate(others, start=refs):
            if name in ("grad", "delta"):
                var = merge_shapes(ctx, var, ctx.shape(i))
            else:
                _check_scalar(ctx, i)
        return [var] if ctx.output_dtypes else []
    return shape


def _sparse_shape(refs: int, others: list):
    grad_index = refs + others.index("grad")

    def shape(ctx: InferenceContext):
        var = _slots_shape(ctx, refs)
        for i, name in enumerate(others, start=refs):
            if name not in ("grad", "indices"):
                _check_scalar(ctx, i)
            elif name == "grad":  # TF's HandleGradAndIndicesInputs
                grad, indices = ctx.shape(grad_index), ctx.shape(grad_index + 1)
                if indices.ndims is not None and indices.ndims != 1:
                    raise ctx.error(f"Shape must be rank 1 but is rank {indices.ndims}")
                if grad.ndims == 0:
                    raise ctx.error(f"Argument grad must not be a scalar. Got grad with rank 0 and shape []")
                if grad.ndims is None:
                    continue
                rows, n = (indices[0].value if indices.ndims else None), grad[0].value
                if rows is not None and n is not None and rows != n:
                    raise ctx.error(f"Dimensions must be equal, but are {rows} and {n}")
                # the trailing dimensions of grad are the variable's
                var = merge_shapes(ctx, var, _ts.TensorShape([None] + grad.as_list()[1:]))
        return [var] if ctx.output_dtypes else []
    return shape


for _table, _sparse in ((DENSE, False), (SPARSE, True)):
    for _op, (_refs, _others, _extra) in _table.items():
        _ins = [f"{r}: Ref(T)" for r in _refs] + [f"{o}: {INPUT_TYPES.get(o, 'T')}" for o in _others]
        _shape = _sparse_shape(len(_refs), _others) if _sparse else _dense_shape(len(_refs), _others)
        if _op not in RESOURCE_ONLY:
            defop(_op, ", ".join(_ins) + " -> out: Ref(T)", attrs=dict(_extra, use_locking=False),
                  types={"T": NUMBER, "Tindices": INDEX}, shape=_shape, loop=True)
        _resource_ins = [f"{r}: resource" for r in _refs] + _ins[len(_refs):]
        defop("Resource" + _op, ", ".join(_resource_ins) + " ->", attrs=dict(_extra, use_locking=False),
              types={"T": NUMBER, "Tindices": INDEX}, shape=_shape, stateful=True, loop=True)


def apply(op_type: str, inputs: list, name=None, **attrs):
    """Records one training op and returns it: `op_type` for ref variables, or its `Resource` twin when
    the variable is a resource handle (as TF's optimizers choose `_apply_*` vs `_resource_apply_*`)."""
    first = inputs[0]
    if isinstance(first, _ops.Tensor) and first.dtype.base_dtype == _dt.resource:
        return apply_op("Resource" + op_type, inputs, attrs, name=name)
    return apply_op(op_type, inputs, attrs, name=name).op


def deduplicate_indexed_slices(values, indices):
    """(summed values, unique indices): TF's optimizer `_deduplicate_indexed_slices`, the same ops
    (Unique, Shape, strided_slice, UnsortedSegmentSum). Compiled, the Unique keeps the input's length
    when its results only feed scatter-adds (lowering/rules/data_dependent.py), so no host round trip."""
    from graphcompat.ops import array_ops, data_dependent_ops, special_math_ops
    unique_indices, new_index_positions = data_dependent_ops.unique(indices)
    summed_values = special_math_ops.unsorted_segment_sum(values, new_index_positions,
                                                     array_ops.shape(unique_indices)[0])
    return summed_values, unique_indices
