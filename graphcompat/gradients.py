"""`tf.gradients`, `tf.stop_gradient`, `IndexedSlices`.

A call to `tf.gradients` records ONE node, `gradients/SymbolicGradient`, with TF's semantics: its `f`
attr names a library function (the forward subgraph between `xs` and `ys`, taking the differentiated
tensors and the boundary tensors it reads as arguments and returning the ys); its inputs are f's
arguments then one dy per y (the given grad_ys, else TF's `Fill(Shape(y), 1)`), its outputs the gradient
for each argument. The lowering (lowering/rules/gradients.py) re-traces f and calls `jax.vjp` (no
per-op gradient rules; XLA CSE merges the re-traced forward pass with the original under jit), and TF
itself can run the node from an exported GraphDef (its C++ gradients of f's ops). Which xs are
connected, and which get a sparse (IndexedSlices) gradient, is decided here from the graph structure,
as TF does: a sparse x's arguments are the rows its gathers produced, so no [V, E] array is formed.
"""
from __future__ import annotations

import collections
import functools
from typing import Optional

import numpy as np

from graphcompat.framework import constant_op as _const
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework import tf_op_types as _tf_op_types
from graphcompat.framework.registry import OP_DEFS, apply_op, defop, unchanged_shape
from graphcompat.custom_gradient import Override, gradient_override, missing_gradient_error

defop("StopGradient", "input: T -> output: T", shape=unchanged_shape)
defop("PreventGradient", "input: T -> output: T", attrs={"message": ""}, shape=unchanged_shape)
defop("SymbolicGradient", "input: *Tin -> output: *Tout", loop=True)  # created directly below (shapes known)
# The ops sparse gradients are built from (GatherV2, UnsortedSegmentSum) are defined by their families.
from graphcompat.ops import indexing_ops as _indexing_ops, segment_ops as _segment_ops  # noqa: E402,F401

# What TF's gradient registry says of an op type (framework/tf_op_types.py, generated from it), plus the
# registered gradient functions that return None for every input (Floor, FloorDiv, ...): gradients never flow
# through these ops (None when they are the only path). LinSpace is differentiated: TF's tf.linspace is a
# differentiable composite of other ops, and graphcompat records the op itself.
NOT_DIFFERENTIABLE = (_tf_op_types.NOT_DIFFERENTIABLE - {"LinSpace"}) | {
    "PreventGradient", "Floor", "Ceil", "Round", "Rint", "FloorDiv", "TruncateDiv", "ArgMax", "ArgMin"}
# Inputs whose registered gradient is None while the others have one ({op type: input indices}).
NON_DIFFERENTIABLE_INPUTS = {"Zeta": (0,), "Polygamma": (0,), "Betainc": (0, 1),
                             # TF's fused batch norm gradients: none for the population mean and variance
                             "FusedBatchNorm": (3, 4), "FusedBatchNormV2": (3, 4), "FusedBatchNormV3": (3, 4),
                             # TF's image gradients: the images only, not the transforms / scales
                             "ImageProjectiveTransformV2": (1,), "ImageProjectiveTransformV3": (1, 3),
                             "ScaleAndTranslate": (2, 3)}
# Op types TF has no gradient for: tf.gradients through one raises TF's LookupError. Not those whose TF
# API is a differentiable composite while graphcompat records the op itself (tf.linalg.expm, tf.linspace),
# nor function calls (second-order gradients run through SymbolicGradient; TF differentiates a tf.function's
# PartitionedCall through its body, as graphcompat does).
NO_GRADIENT = _tf_op_types.NO_GRADIENT - {"MatrixExponential", "SymbolicGradient", "_Arg", "PartitionedCall",
                                          "StatefulPartitionedCall"}
# Op types whose registered TF gradient function cannot run (sparse_grad.py): tf.gradients through one raises
# what TF's raises while the graph is built. SparseSparseMaximum/Minimum's functions take one gradient where
# the op has two outputs, so TF fails calling them before their own NotImplementedError.
GRADIENT_RAISES = {
    kind: (TypeError, f"_{kind}Grad() takes 2 positional arguments but 3 were given")
    for kind in ("SparseSparseMaximum", "SparseSparseMinimum")}
# TF's _QuantizeAndDequantizeV4GradGrad takes one gradient where QuantizeAndDequantizeV4Grad has three outputs: a
# second gradient through QuantizeAndDequantizeV4's first one fails calling it.
GRADIENT_RAISES["QuantizeAndDequantizeV4Grad"] = (
    TypeError, "_QuantizeAndDequantizeV4GradGrad() takes 2 positional arguments but 4 were given")
_GATHER_TYPES = {"Gather", "GatherV2", "ResourceGather"}
# The kernels TF's gradient functions record that have no gradient of their own ({forward op type: ((forward
# input index, gradient op type), ...)}: TF's nn_grad.py, image_grad.py, math_grad.py, sparse_grad.py): TF's
# first tf.gradients through the op records `<scope>/<op name>_grad/<type>` for each differentiated input, and a
# second tf.gradients through that kernel raises TF's LookupError. graphcompat's first gradient is one
# SymbolicGradient, so the second one refuses where TF's would meet such a kernel (_refuse_second_order).
SECOND_ORDER_NO_GRADIENT = {
    "Softsign": ((0, "SoftsignGrad"),), "LRN": ((0, "LRNGrad"),),
    "MaxPoolWithArgmax": ((0, "MaxPoolGradWithArgmax"),),
    "CropAndResize": ((0, "CropAndResizeGradImage"), (1, "CropAndResizeGradBoxes")),
    "ResizeBicubic": ((0, "ResizeBicubicGrad"),), "ResizeNearestNeighbor": ((0, "ResizeNearestNeighborGrad"),),
    "ScaleAndTranslate": ((0, "ScaleAndTranslateGrad"),),
    "Igamma": ((0, "IgammaGradA"),),
    "FractionalMaxPool": ((0, "FractionalMaxPoolGrad"),), "FractionalAvgPool": ((0, "FractionalAvgPoolGrad"),),
    "Dilation2D": ((0, "Dilation2DBackpropInput"), (1, "Dilation2DBackpropFilter")),
    "SparseFillEmptyRows": ((1, "SparseFillEmptyRowsGrad"),), "SparseSlice": ((1, "SparseSliceGrad"),),
    **{f"SparseSegment{kind}{suffix}": ((0, f"SparseSegment{kind}Grad"),)
       for kind in ("Sum", "Mean", "SqrtN") for suffix in ("", "WithNumSegments")},
}
# The kernels TF's gradient functions record that TF registers with `ops.NotDifferentiable` ({forward op type:
# (gradient op type, the forward inputs whose gradient that kernel computes)}: TF's image_grad.py,
# sparse_grad.py). A second tf.gradients gets no gradient out of such a kernel: the path through its incoming
# gradient counts for nothing (None where it is the only one). The forward ops' lowerings give their VJPs the
# same property (the cotangent is a constant to any further differentiation), and `_second_order_inputs`
# tells the second tf.gradients which first gradients are then unconnected. The fake-quantization ops'
# kernels (FakeQuantWithMinMax*Gradient) are not listed: their TF gradient functions are recorded as TF
# records them (`builtin_gradient`), and `_constant_edge` finds the kernels among the recorded ops.
SECOND_ORDER_CONSTANT = {
    "ResizeBilinear": ("ResizeBilinearGrad", (0,)),
    "SparseAdd": ("SparseAddGrad", (1, 4)),
}
# Sparse segment reductions whose TF gradient (with sparse_gradient=True) is an IndexedSlices of the data:
# SparseSegment<kind>GradV2 of the output's gradient, one row per distinct index (TF's
# _SparseSegmentReduceGradV2). The reduction's output is then f's argument, and that kernel runs after.
_SPARSE_SEGMENT_TYPES = {f"SparseSegment{kind}{suffix}": kind for kind in ("Sum", "Mean", "SqrtN")
                         for suffix in ("", "WithNumSegments")}
# The ops whose bodies may read a resource variable that is an x (its handle is one of their inputs: a
# capture, or an argument of a gradient's forward function): the gradient reaches them from the handle and
# differentiates the variable's value through them (SymbolicGradient: a gradient of such a gradient).
VARIABLE_READING_CALLERS = frozenset({"While", "StatelessWhile", "If", "StatelessIf", "Case", "StatelessCase",
                                      "SymbolicGradient", "PartitionedCall", "StatefulPartitionedCall"})


def stop_gradient(input, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002 (TF's name)
    """`tf.stop_gradient`: identity whose gradient is zero (None when it is the only path)."""
    return apply_op("StopGradient", [input], name=name)


# ------------------------------------------------------------------------------------------------
# IndexedSlices
# ------------------------------------------------------------------------------------------------
IndexedSlicesValue = collections.namedtuple("IndexedSlicesValue", ["values", "indices", "dense_shape"])


class IndexedSlices:
    """A sparse slice of a tensor: rows `indices` of a `dense_shape` tensor hold `values`."""

    def __init__(self, values, indices, dense_shape=None):
        self._values = values
        self._indices = indices
        self._dense_shape = dense_shape

    values = property(lambda self: self._values)
    indices = property(lambda self: self._indices)
    dense_shape = property(lambda self: self._dense_shape)
    name = property(lambda self: self._values.name)
    op = property(lambda self: self._values.op)
    dtype = property(lambda self: self._values.dtype)
    graph = property(lambda self: self._values.graph)
    device = property(lambda self: self._values.device)

    def _fetch_components(self):
        parts = [self._values, self._indices] + ([self._dense_shape] if self._dense_shape is not None else [])
        if self._dense_shape is None:
            return parts, lambda v, i: IndexedSlicesValue(v, i, None)
        return parts, IndexedSlicesValue

    def __str__(self) -> str:
        shape = f", dense_shape={self._dense_shape}" if self._dense_shape is not None else ""
        return f"IndexedSlices(indices={self._indices}, values={self._values}{shape})"

    __repr__ = __str__

    def __neg__(self):
        from graphcompat.ops import math_ops
        return IndexedSlices(math_ops.negative(self._values), self._indices, self._dense_shape)


def _indexed_slices_to_tensor(value: IndexedSlices, dtype=None, name=None, as_ref=False) -> _ops.Tensor:
    """Densify with UnsortedSegmentSum (duplicate indices add up), as TF's conversion does."""
    if dtype is not None and not dtype.is_compatible_with(value.dtype):
        raise ValueError(f"Tensor conversion requested dtype {dtype.name} for IndexedSlices with dtype "
                         f"{value.dtype.name}")
    if value.dense_shape is None:
        raise ValueError(f"Tensor conversion requested for IndexedSlices without dense_shape: {value!s}")
    dense_shape = value.dense_shape
    n = _const.constant_value(dense_shape)
    if n is None:
        raise NotImplementedError("converting an IndexedSlices with a dynamic dense_shape to a Tensor")
    num = _const.constant(np.int32(n[0]))
    return apply_op("UnsortedSegmentSum", [value.values, value.indices, num], name=name)


_const.register_tensor_conversion_function(IndexedSlices, _indexed_slices_to_tensor)


# ------------------------------------------------------------------------------------------------
# Structure: which ops lie between xs and ys
# ------------------------------------------------------------------------------------------------
def _backpropagatable(t: _ops.Tensor) -> bool:
    """Gradients flow along it (TF's _IsBackpropagatable): floats, complex, and variants (TensorLists:
    control flow v2's TensorArrays and loop accumulators, differentiated as the arrays they hold)."""
    return _has_value_gradient(t) or t.dtype.base_dtype == _dt.variant


def _has_value_gradient(t: _ops.Tensor) -> bool:
    """An x or y whose gradient tf.gradients returns or seeds: a float or complex tensor."""
    base = t.dtype.base_dtype
    return base.is_floating or base.is_complex


def _is_cut(op: _ops.Operation) -> bool:
    """Ops gradients never flow through: stateful ops, ref writers, TF's non-differentiable ops —
    unless the user chose the op's gradient (`gradient_override_map`, `tf.RegisterGradient`)."""
    override = gradient_override(op)
    if override is not None:
        return override.kind == "none"
    if op.type in NOT_DIFFERENTIABLE:
        return True
    op_def = OP_DEFS.get(op.type)
    if op_def is None:
        return False
    return op_def.stateful or any(a.is_ref for a in op_def.inputs)


def _differentiable_inputs(op: _ops.Operation, t: _ops.Tensor = None) -> list:
    """The inputs of `op` (those that are `t`, when given) that TF's gradient function differentiates."""
    skip = () if gradient_override(op) is not None else NON_DIFFERENTIABLE_INPUTS.get(op.type, ())
    return [x for i, x in enumerate(op._inputs) if i not in skip and (t is None or x is t)]


def _reached_from(xs, stop: set, handles: frozenset = frozenset()) -> set:
    """Ops whose outputs depend (through backpropagatable tensors) on any x. From a variable's handle
    (`handles`), only the control-flow ops whose bodies read it (its top-level reads are xs of their own)."""
    reached: set = set()
    frontier = [x for x in xs if _has_value_gradient(x) or x in handles]
    seen = set(frontier)
    while frontier:
        t = frontier.pop()
        for op in t._consumers:
            if t in handles and op.type not in VARIABLE_READING_CALLERS:
                continue
            if op in reached or _is_cut(op) or not _differentiable_inputs(op, t):
                continue
            reached.add(op)
            for out in op._outputs:
                if _backpropagatable(out) and out not in stop and out not in seen:
                    seen.add(out)
                    frontier.append(out)
    return reached


def _gather_axis_is_zero(op: _ops.Operation) -> bool:
    if op.type == "GatherV2":
        if op.attrs.get("batch_dims", 0) != 0:
            return False
        axis = _const.constant_value(op.inputs[2])
        return axis is not None and int(axis) == 0
    return True


def _sparse_gathers(x: _ops.Tensor, between: set, ys) -> Optional[tuple]:
    """(gather ops, identity ops) when every use of x on the path to ys is a row gather of it."""
    if x in ys:
        return None
    closure, identities, gathers = [x], [], []
    i = 0
    while i < len(closure):
        t = closure[i]
        i += 1
        for op in t._consumers:
            if op not in between:
                continue
            if op.type == "Identity":
                if op._outputs[0] in ys:
                    return None
                identities.append(op)
                closure.append(op._outputs[0])
            elif op.type in _GATHER_TYPES and op._inputs[0] is t and t not in op._inputs[1:] \
                    and _gather_axis_is_zero(op):
                gathers.append(op)
            elif op.type in _SPARSE_SEGMENT_TYPES and op.attrs.get("sparse_gradient") and op._inputs[0] is t \
                    and t not in op._inputs[1:]:
                gathers.append(op)
            else:
                return None
    return (gathers, identities) if gathers else None


def _as_list(x) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def gradients(ys, xs, grad_ys=None, name: str = "gradients", colocate_gradients_with_ops: bool = False,
              gate_gradients: bool = False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients="none") -> list:
    """`tf.gradients`: d(sum ys)/dx for each x; None for xs not connected to ys."""
    return gradients_of(ys, xs, grad_ys=grad_ys, name=name, stop_gradients=stop_gradients,
                        unconnected_gradients=unconnected_gradients)


def gradients_of(ys, xs, grad_ys=None, name: str = "gradients", stop_gradients=None,
                 unconnected_gradients="none", variable_handles=()) -> list:
    """`gradients`, where `variable_handles` are resource variables' handles among xs whose gradient is
    the variable value's, taken through the while_loop/cond bodies that read the variable (the handle is
    their input): resource_variable_ops.gradients passes them, and the importer when it rebuilds such a
    SymbolicGradient (a resource argument with a float output)."""
    unconnected = getattr(unconnected_gradients, "value", unconnected_gradients)
    if unconnected not in ("none", "zero"):
        raise ValueError(f"Unknown value for unconnected_gradients: {unconnected_gradients!r}")
    ys = _as_list(ys)
    xs = _as_list(xs)
    ys = [_const.convert_to_tensor(y, name="y") if not isinstance(y, _ops.Tensor) else y for y in ys]
    xs = [x if isinstance(x, _ops.Tensor) else _const.convert_to_tensor(x, as_ref=True, name="x") for x in xs]
    stop = set(_const.convert_to_tensor(s) if not isinstance(s, _ops.Tensor) else s
               for s in _as_list(stop_gradients)) if stop_gradients is not None else set()
    grad_ys = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    if len(grad_ys) != len(ys):
        raise ValueError(f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys")
    graph = ys[0].graph if ys else _ops.get_default_graph()
    with graph.as_default(), _ops.name_scope(name, "gradients", ys + xs) as scope:
        converted = []
        for i, (y, gy) in enumerate(zip(ys, grad_ys)):
            if gy is None:
                if y.dtype.is_complex:
                    raise TypeError(f"Gradients of complex tensors must set grad_ys (y.dtype = {y.dtype!r})")
                if not (y.dtype.base_dtype.is_floating or y.dtype.base_dtype.is_integer):
                    raise TypeError(f"Tensor {y} with type {y.dtype.base_dtype.name} must be numeric to obtain "
                                    "a default gradient")
                converted.append(None)
                continue
            gy = _const.convert_to_tensor(gy, dtype=y.dtype.base_dtype, name=f"grad_ys_{i}")
            if (y.dtype.is_floating or y.dtype.is_integer) and not (gy.dtype.is_floating or gy.dtype.is_integer):
                raise TypeError(f"Gradient type {gy.dtype.name} generated for real or integer-valued tensor {y} "
                                f"with type {y.dtype.base_dtype.name} must be real or integer")
            converted.append(gy)
        return _build(graph, scope, ys, xs, converted, stop, unconnected, frozenset(variable_handles))


def _build(graph, scope, ys, xs, grad_ys, stop, unconnected, handles: frozenset = frozenset()) -> list:
    diff_ys = [y for y in ys if _has_value_gradient(y)]
    reached = _reached_from(xs, stop, handles)
    # Walk back from ys through reached ops along backpropagatable tensors only.
    needed = set(diff_ys)
    x_set = set(xs)
    between = set()
    overrides: dict = {}
    for op in sorted(reached, key=lambda o: o._id, reverse=True):
        if any(t in needed and t not in stop for t in op._outputs):
            between.add(op)
            inputs = _differentiable_inputs(op)
            override = gradient_override(op)
            if override is None and op.type in NO_GRADIENT:
                raise missing_gradient_error(op)
            if override is None and op.type == "SymbolicGradient":
                _refuse_second_order(op, needed, reached, x_set)
                inputs = _gradient_inputs(op, needed, stop)
            if override is None and op.type in GRADIENT_RAISES:
                error, text = GRADIENT_RAISES[op.type]
                raise error(text)
            if override is not None:
                if override.kind == "missing":
                    raise missing_gradient_error(op)
                if override.kind == "function":
                    override = _call_gradient_function(graph, op, override)
                    inputs = [t for t, g in zip(op._inputs, override.results) if g is not None]
                overrides[op] = override
            needed.update(t for t in inputs if (_backpropagatable(t) or t in handles) and (t not in stop or t in x_set))
    outer_reads = _record_body_gradients(graph, between)
    y_set = set(diff_ys)
    kinds, leaves, sparse_indices, plan_xs, skip = [], [], [], [], set()
    results: list = [None] * len(xs)
    slots = []  # (result index, kind)
    for i, x in enumerate(xs):
        connected = (_has_value_gradient(x) or x in handles) and x in needed
        if not connected:
            if unconnected == "zero":
                kinds.append("zero")
                leaves.append([x])
                plan_xs.append(x)
                slots.append((i, "zero"))
            continue
        sparse = _sparse_gathers(x, between, y_set)
        if sparse is not None:
            gathers, identities = sparse
            skip.update(gathers)
            skip.update(identities)
            kinds.append("sparse")
            leaves.append([g._outputs[0] for g in gathers])
            sparse_indices.append(gathers)
            plan_xs.append(x)
            slots.append((i, "sparse"))
        else:
            kinds.append("dense")
            leaves.append([x])
            plan_xs.append(x)
            slots.append((i, "dense"))
    if not slots:
        return results
    forward = sorted((op for op in between if op not in skip), key=lambda op: op._id)
    produced = {t for op in forward for t in op._outputs}
    leaf_set = {t for ls in leaves for t in ls}
    boundary, seen = [], set()
    for op in forward:
        for t in op._inputs:
            if t not in produced and t not in leaf_set and t not in seen:
                seen.add(t)
                boundary.append(t)
    for y in diff_ys:
        if y not in produced and y not in leaf_set and y not in seen:
            seen.add(y)
            boundary.append(y)
    # An op with a user-chosen gradient is not re-run by the re-trace (a py_func runs once): its outputs
    # come from the step, and the tensors its gradient function reads enter as well.
    for op, override in overrides.items():
        reads = list(op._outputs) + list(getattr(override, "extra", ()))
        for t in reads:
            if t not in seen and t not in leaf_set and (t in op._outputs or t not in produced):
                seen.add(t)
                boundary.append(t)
    # The top-level tensors a user's gradient inside a loop or cond body reads (a placeholder it closed over)
    # but the body does not: the body's lowering finds them among f's arguments.
    for t in outer_reads:
        if t not in seen and t not in leaf_set:
            seen.add(t)
            boundary.append(t)
    # The forward function f: (leaves, boundary) -> diff_ys, in the graph's library. Its ops stay top-level
    # ops of the graph (they are the forward pass); the FunctionDef carries copies, as TF's does.
    from graphcompat.framework.function_library import GraphFunction
    from tensorboard.compat.proto import attr_value_pb2
    args = list(dict.fromkeys([t for ls in leaves for t in ls] + boundary))  # an x listed twice: one argument
    fn = GraphFunction("", "function", forward, [], args, list(diff_ys), [], owns_ops=False)
    fn.name = _forward_name(graph)
    fn.gradient_overrides = overrides
    fn.second_order_refusals = _second_order_refusals(scope, forward, args, diff_ys, leaf_set, overrides)
    fn.second_order_inputs = functools.partial(_second_order_inputs, forward, args, diff_ys, overrides)
    graph._add_function(fn)
    with graph.name_scope(scope):
        dys = []
        for i, (y, gy) in enumerate((y, gy) for y, gy in zip(ys, grad_ys) if _has_value_gradient(y)):
            if gy is None:  # TF's default grad_ys: ones of y's run-time shape
                from graphcompat.ops import array_ops
                gy = array_ops.fill(array_ops.shape(y), _const.constant(1, dtype=y.dtype.base_dtype,
                                                                        name=f"grad_ys_{i}"))
            dys.append(gy)
        op_name = graph.unique_name("SymbolicGradient")
    inputs = args + dys
    # A resource argument's "gradient" has no shape of its own: TF's shape function gives it the shape of
    # the handle's data (a TensorArray's element shape), so the node claims none (a meta graph's
    # _output_shapes must agree with what TF infers on import). A variable's handle among xs: the
    # gradient of the variable's value (its dtype and shape; the lowering tells it by that dtype).
    from graphcompat.ops.resource_variable_ops import handle_data
    out_dtypes, out_shapes = [], []
    for t in args:
        if t in handles:
            dtype, shape = handle_data(t)
            out_dtypes.append(dtype.base_dtype)
            out_shapes.append(shape)
        else:
            out_dtypes.append(t.dtype.base_dtype)
            out_shapes.append(_ts.unknown_shape() if t.dtype.base_dtype == _dt.resource else t.shape)
    attrs = {"Tin": [t.dtype.base_dtype for t in inputs], "Tout": out_dtypes,
             "f": attr_value_pb2.NameAttrList(name=fn.name)}
    op = graph._create_op_internal("SymbolicGradient", inputs, out_dtypes, out_shapes, op_name, attrs)
    grad_of = dict(zip(args, op._outputs))
    with graph.name_scope(scope):
        for (i, kind), x, ls, idx in zip(slots, plan_xs, leaves, _sparse_iter(kinds, sparse_indices)):
            part = [grad_of[t] for t in ls]
            if kind == "sparse":
                rows = [_sparse_rows(x, g, d) for g, d in zip(idx, part)]
                results[i] = _indexed_slices(x, [r[0] for r in rows], [r[1] for r in rows])
            else:
                results[i] = part[0]
    return results


_forward_ids = __import__("itertools").count()


# `dys`: whether the incoming gradient of the kernel's op depends on the dys (it reaches them on a path that
# crosses no kernel TF registers as NotDifferentiable).
SecondOrderRefusal = collections.namedtuple("SecondOrderRefusal", ["name", "type", "reaches", "reads", "dys"])


def _constant_edge(op: _ops.Operation, i: int, overrides: dict) -> bool:
    """Whether TF's gradient of `op`'s input `i` is a constant to a second gradient: a kernel TF registers as
    NotDifferentiable (SECOND_ORDER_CONSTANT), or, where a gradient function was recorded (the user's, or
    TF's own `builtin_gradient`), a result its recorded ops compute from nothing but constants and ops that
    gradients do not cross (FakeQuantWithMinMaxArgsGradient). Gradients of gradients do not flow back along it."""
    chosen = overrides.get(op)
    if chosen is None:
        entry = SECOND_ORDER_CONSTANT.get(op.type)
        return entry is not None and i in entry[1]
    results = getattr(chosen, "results", None) if chosen.kind == "function" else None
    if not results or i >= len(results) or results[i] is None:
        return False
    produced = {t: step for step in chosen.steps for t in step._outputs}
    todo, seen = [results[i]], set()
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        step = produced.get(t)
        if step is None:
            return False  # the incoming gradient, or a forward value: the result depends on it
        if not _is_cut(step):
            todo.extend(step._inputs)
    return True


def _arg_ancestors(tensors, index: dict, in_f: set, overrides: Optional[dict] = None) -> set:
    """The indices (`index`: tensor → index) of f's arguments that `tensors` depend on through f's ops. With
    `overrides`, only along edges that are no NotDifferentiable gradient kernel's (`_constant_edge`): the
    arguments a gradient flowing into `tensors` flows back to, in a second gradient."""
    found, todo, seen = set(), list(tensors), set()
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        if t in index:
            found.add(index[t])
        op = t.op
        if op in in_f:
            todo.extend(x for i, x in enumerate(op._inputs)
                        if overrides is None or not _constant_edge(op, i, overrides))
    return found


def _downstream(op: _ops.Operation, index: dict, in_f: set, outputs: set, overrides: dict) -> tuple:
    """(the arguments read by the ops of f after `op` on its outputs' paths to f's outputs, whether such a path
    reaches an output): what TF's incoming gradient of `op` depends on. A path stops at a NotDifferentiable
    gradient kernel's edge: what flows back from there is a constant to a second gradient."""
    found, todo, seen, reaches = set(), list(op._outputs), set(), False
    while todo:
        t = todo.pop()
        reaches = reaches or t in outputs
        for c in t._consumers:
            if c in in_f and c not in seen and any(
                    x is t and not _constant_edge(c, i, overrides) for i, x in enumerate(c._inputs)):
                seen.add(c)
                found |= _arg_ancestors([x for x in c._inputs if x not in op._outputs], index, in_f)
                todo.extend(c._outputs)
    return found, reaches


def _second_order_refusals(scope: str, forward: list, args: list, outputs: list, leaf_set: set,
                           overrides: dict) -> list:
    """The gradient kernels without a gradient that TF's tf.gradients would have recorded for this forward
    pass (SECOND_ORDER_NO_GRADIENT), each with TF's op name, the indices of f's arguments whose gradients
    it flows into (`reaches`: not through a NotDifferentiable kernel, where TF's second gradient meets no
    gradient to pass on), and of the SymbolicGradient's inputs its value depends on (`reads`: the forward
    values it reads and those the incoming gradient of its op depends on; `dys`: whether that gradient
    depends on the dys)."""
    entries = [(op, i, kind) for op in forward if op not in overrides
               for i, kind in SECOND_ORDER_NO_GRADIENT.get(op.type, ())]
    recorded = _recorded_refusals(forward, overrides)
    if not entries and not recorded:
        return []
    index = {t: k for k, t in enumerate(args)}
    in_f = set(forward)
    refusals = []
    for op, step, fed in recorded:  # a recorded gradient function's op without a gradient (or whose gradient raises)
        reaches = {k for i in fed for k in _arg_ancestors([op._inputs[i]], index, in_f, overrides)
                   if args[k] in leaf_set}
        downstream, dys = _downstream(op, index, in_f, set(outputs), overrides)
        reads = _arg_ancestors(list(op._inputs) + list(op._outputs) + list(overrides[op].extra), index, in_f)
        refusals.append(SecondOrderRefusal(step.name, step.type, reaches, reads | downstream, dys))
    for op, i, kind in entries:
        x = op._inputs[i]
        differentiated = x in leaf_set or x.op in in_f
        if not differentiated:
            continue  # TF's gradient of this input flows nowhere: the kernel is not on a second gradient's path
        reaches = {k for k in _arg_ancestors([x], index, in_f, overrides) if args[k] in leaf_set}
        downstream, dys = _downstream(op, index, in_f, set(outputs), overrides)
        reads = _arg_ancestors(op._inputs, index, in_f) | downstream
        refusals.append(SecondOrderRefusal(f"{scope}{op.name}_grad/{kind}", kind, reaches, reads, dys))
    return refusals


def _recorded_refusals(forward: list, overrides: dict) -> list:
    """(op, recorded step, the op's inputs whose recorded gradient it feeds) for the steps of the gradient
    functions recorded for `forward`'s ops that a second gradient cannot cross: TF has no gradient for them
    (NO_GRADIENT) or its gradient function raises (GRADIENT_RAISES). Not behind a step gradients do not cross."""
    found = []
    for op in forward:
        chosen = overrides.get(op)
        if chosen is None or chosen.kind != "function":
            continue
        refused = [s for s in chosen.steps if gradient_override(s) is None
                   and (s.type in NO_GRADIENT or s.type in GRADIENT_RAISES)]
        if not refused:
            continue
        produced = {t: step for step in chosen.steps for t in step._outputs}
        fed: dict = {}
        for i, result in enumerate(chosen.results):
            todo, seen = [] if result is None else [result], set()
            while todo:
                t = todo.pop()
                step = produced.get(t)
                if step is None or step in seen:
                    continue
                seen.add(step)
                if step in refused:
                    fed.setdefault(step, []).append(i)
                if not _is_cut(step):
                    todo.extend(step._inputs)
        found.extend((op, step, fed[step]) for step in refused if step in fed)
    return found


# What TF's gradient function of an op reads besides the incoming gradient: the forward values a second
# gradient flows into. Ops whose gradient is linear in the incoming gradient and reads only shapes, integer
# inputs and attributes (array_grad.py, math_grad.py: shapes are Shape/Rank ops, NotDifferentiable); the first
# gradient through them alone is a constant to a second one (TF's None for tf.gradients of 3 * x's gradient).
_GRADIENT_READS_NOTHING = frozenset({
    "Add", "AddV2", "Sub", "Neg", "AddN", "Sum", "Mean", "Identity", "Snapshot", "Reshape", "ExpandDims",
    "Squeeze", "Transpose", "ConcatV2", "Pack", "Unpack", "Slice", "StridedSlice", "Tile", "Cast", "BiasAdd",
    "Pad", "Gather", "GatherV2", "ReverseV2", "Cumsum"})
# Products: the gradient of one factor reads the other ({op type: {input: the inputs it reads}})
_GRADIENT_READS = {
    **{kind: {0: (1,), 1: (0,)} for kind in ("Mul", "MatMul", "BatchMatMul", "BatchMatMulV2", "Conv2D")},
    **{kind: {0: (1,), 1: (0, 1)} for kind in ("RealDiv", "Div")},
}


def _gradient_reads(op: _ops.Operation, i: int, overrides: dict) -> list:
    """The forward tensors TF's gradient of `op`'s input `i` reads (a chosen gradient function: its op's
    inputs and what it closed over; an op not tabled above: all its inputs, which its outputs depend on)."""
    chosen = overrides.get(op)
    if chosen is not None:
        return list(op._inputs) + list(getattr(chosen, "extra", ()))
    if op.type in _GRADIENT_READS_NOTHING:
        return []
    reads = _GRADIENT_READS.get(op.type, {}).get(i)
    return list(op._inputs) if reads is None else [op._inputs[k] for k in reads]


def _second_order_inputs(forward: list, args: list, outputs: list, overrides: dict) -> dict:
    """{argument index: the indices of the SymbolicGradient's inputs its gradient depends on}, as the structure
    of TF's gradient graph has it: the forward values the gradient functions of the ops on the argument's
    paths read (`_gradient_reads`: a product's other factor, an activation's input; none for sums, reshapes,
    slices), and the dys, unless every path to f's outputs crosses a gradient kernel TF registers as
    NotDifferentiable (SECOND_ORDER_CONSTANT: what flows back from there is a constant). A second
    tf.gradients follows only these: the gradient of 3 * x is unconnected to x (None), as TF's.

    Built when a second gradient first asks (`_gradient_inputs`), not with every first gradient."""
    index = {t: k for k, t in enumerate(args)}
    # per tensor, the arguments it depends on through f's ops: along any edge, and along the edges a second
    # gradient crosses (no NotDifferentiable kernel's); f's ops come in creation order, a topological one
    every: dict = {}
    crossed: dict = {}

    def depends(t, table: dict) -> frozenset:
        own = frozenset((index[t],)) if t in index else frozenset()
        return own | table[t] if t in table else own

    for op in forward:
        on_any, on_crossed = set(), set()
        for i, x in enumerate(op._inputs):
            on_any |= depends(x, every)
            if not _constant_edge(op, i, overrides):
                on_crossed |= depends(x, crossed)
        for out in op._outputs:
            every[out], crossed[out] = frozenset(on_any), frozenset(on_crossed)
    open_args = set().union(*(depends(y, crossed) for y in outputs))
    found: dict = {k: set() for k, arg in enumerate(args) if _backpropagatable(arg)}
    for op in forward:
        for i, x in enumerate(op._inputs):
            if _constant_edge(op, i, overrides):
                continue
            reaching = [k for k in depends(x, crossed) if k in found]
            if reaching:
                reads = set().union(*(depends(t, every) for t in _gradient_reads(op, i, overrides)))
                for k in reaching:
                    found[k] |= reads
    dys = frozenset(range(len(args), len(args) + len(outputs)))  # the SymbolicGradient's inputs after f's
    return {k: frozenset(reads) | dys if k in open_args else frozenset(reads) for k, reads in found.items()}


def _gradient_inputs(op: _ops.Operation, needed: set, stop: set) -> list:
    """The inputs of a SymbolicGradient `op` that its needed outputs depend on, as TF's gradient graph
    (`_second_order_inputs`)."""
    fn = op.graph._get_function(op.attrs["f"].name) if "f" in op.attrs else None
    table = getattr(fn, "second_order_inputs", None)
    if callable(table):
        table = fn.second_order_inputs = table()
    if not table:
        return _differentiable_inputs(op)
    keep = set()
    for k, t in enumerate(op._outputs):
        if t in needed and t not in stop:
            if k not in table:
                return _differentiable_inputs(op)
            keep |= table[k]
    return [op._inputs[k] for k in sorted(keep)]


def _refuse_second_order(op: _ops.Operation, needed: set, reached: set, x_set: set) -> None:
    """TF's LookupError where a gradient of the gradient `op` (a SymbolicGradient) meets a kernel TF's first
    gradient recorded without a gradient of its own: its result reaches the ys (one of the gradients it flows
    into is needed) and it depends on the xs (a forward value it reads, or its incoming gradient, does)."""
    fn = op.graph._get_function(op.attrs["f"].name) if "f" in op.attrs else None
    refusals = getattr(fn, "second_order_refusals", ())
    if not refusals:
        return
    n_args = len(fn.params) + len(fn.captures)  # f's arguments; the SymbolicGradient's other inputs are dys

    def depends(t) -> bool:
        return t in x_set or t.op in reached

    dys_depend = any(depends(t) for t in op._inputs[n_args:])
    for refusal in refusals:
        if not any(op._outputs[k] in needed for k in refusal.reaches):
            continue
        if (refusal.dys and dys_depend) or any(depends(op._inputs[k]) for k in refusal.reads):
            if refusal.type in GRADIENT_RAISES:
                error, text = GRADIENT_RAISES[refusal.type]
                raise error(text)
            raise missing_gradient_error(refusal, refusal.name)


def _forward_name(graph) -> str:
    while True:
        name = f"gradients_forward_{next(_forward_ids)}"
        if not graph._is_function(name):
            return name


def _sparse_rows(x, op: _ops.Operation, grad: _ops.Tensor) -> tuple:
    """(values, indices) of x's sparse gradient through one of its row gathers or sparse segment reductions,
    given the gradient of that op's output."""
    kind = _SPARSE_SEGMENT_TYPES.get(op.type)
    if kind is None:
        return grad, op._inputs[1]
    from graphcompat.ops import array_ops
    dim0 = array_ops.shape(x)[0]
    values, unique = apply_op(f"SparseSegment{kind}GradV2", [grad, op._inputs[1], op._inputs[2], dim0])
    return values, unique


def _indexed_slices(x, values: list, index_tensors: list) -> IndexedSlices:
    """The sparse gradient of `x` from the gradients of its gathers' rows, as TF's gather gradient
    builds it: one gather with 1-D ids uses its ids and rows directly; otherwise rows and ids are
    flattened and concatenated."""
    if len(values) == 1 and index_tensors[0].shape.ndims == 1:
        return IndexedSlices(values[0], index_tensors[0], _dense_shape_tensor(x))
    from graphcompat.ops import array_ops, math_ops
    index_dtype = _index_dtype(index_tensors)
    row_shape = x.shape[1:].as_list() if x.shape.ndims is not None else None
    if row_shape is None or None in row_shape:
        raise NotImplementedError("tf.gradients: a sparse gradient of gathers with multi-dimensional ids needs "
                                  "a fully known row shape in graphcompat")
    vals = [array_ops.reshape(v, [-1] + row_shape) for v in values]
    ids = [math_ops.cast(array_ops.reshape(t, [-1]), index_dtype) for t in index_tensors]
    if len(vals) > 1:
        vals = [array_ops.concat(vals, 0)]
        ids = [array_ops.concat(ids, 0)]
    return IndexedSlices(vals[0], ids[0], _dense_shape_tensor(x))


class BackwardGraph(collections.namedtuple("BackwardGraph", ["name", "standins", "steps", "results", "extra"])):
    """The ops a registered gradient function recorded for one forward op.

    `standins` hold the gradients flowing into the op's outputs (bound by the lowering), `steps` are the
    recorded ops in creation order, `results` the gradient of each op input (None: no gradient), `extra`
    the other tensors the steps read (the op's own inputs and outputs are bound too)."""
    kind = "function"


def _call_gradient_function(graph, op: _ops.Operation, override: Override) -> BackwardGraph:
    """Calls `fn(op, *grads)` once, as TF's tf.gradients does, under `gradients/<op>_grad`."""
    with graph.name_scope(op.name + "_grad"):
        standins = []
        for i, t in enumerate(op._outputs):
            standin_name = graph.unique_name(f"grad_ys_{i}")
            attrs = {"dtype": t.dtype.base_dtype, "shape": t.shape}
            standins.append(graph._create_op_internal("Placeholder", [], [t.dtype.base_dtype], [t.shape],
                                                      standin_name, attrs)._outputs[0])
        first = len(graph._ops)
        grads = override.fn(op, *standins)
        grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
        if len(grads) != len(op._inputs):
            raise ValueError(f"Num gradients {len(grads)} generated for op {op.name} of type {op.type} do not "
                             f"match num inputs {len(op._inputs)}")
        results = []
        for g, x in zip(grads, op._inputs):
            if g is not None and not isinstance(g, _ops.Tensor):
                g = _const.convert_to_tensor(g, dtype=x.dtype.base_dtype)
            results.append(g)
    steps = graph._ops[first:]
    produced = {t for s in steps for t in s._outputs}
    bound = produced | set(standins) | set(op._inputs) | set(op._outputs)
    extra, seen = [], set()
    for t in [t for s in steps for t in s._inputs] + [g for g in results if g is not None]:
        if t not in bound and t not in seen:
            seen.add(t)
            extra.append(t)
    return BackwardGraph(override.name, standins, steps, results, extra)


# ------------------------------------------------------------------------------------------------
# User gradients inside control-flow bodies
# ------------------------------------------------------------------------------------------------
def called_functions(op: _ops.Operation) -> list:
    """The library functions an op names through its func attrs (an If's branches, a While's cond and
    body, a Case's branch list), as TF's control-flow ops reference their bodies."""
    from tensorboard.compat.proto import attr_value_pb2
    found = []
    for value in op._attrs.values():
        names = [value] if isinstance(value, attr_value_pb2.NameAttrList) else (
            [v for v in value if isinstance(v, attr_value_pb2.NameAttrList)] if isinstance(value, (list, tuple))
            else [])
        for ref in names:
            fn = op.graph._get_function(ref.name)
            if fn is not None and fn.owns_ops and fn not in found:
                found.append(fn)
    return found


def _bodies_under(ops) -> list:
    """The bodies of the control-flow ops among `ops`, and of the control flow nested in those bodies (not
    a while loop's condition: TF never differentiates it)."""
    bodies, stack = [], [op for op in ops if op.type != "SymbolicGradient"]
    while stack:
        for fn in called_functions(stack.pop()):
            if fn not in bodies and fn.kind != "while_cond":
                bodies.append(fn)
                stack.extend(op for op in fn.ops if op.type != "SymbolicGradient")
    return bodies


def _on_body_path(fn, op: _ops.Operation, from_inputs: bool = True) -> bool:
    """Whether the body's gradient crosses `op`: a body output depends on one of its outputs (through
    backpropagatable tensors) and, `from_inputs`, it reads a float parameter or capture of the body, as TF's
    gradient of the body function (while_v2 / cond_v2 differentiate the body's outputs with respect to its
    inputs). Without `from_inputs` (recording a user's gradient), an op that only a variable read feeds
    counts too: a resource variable's handle reaches it through the read."""
    if from_inputs:
        reached = _reached_from([t for t in list(fn.params) + list(fn.captures) if _backpropagatable(t)], set())
        if op not in reached:
            return False
    needed, stack = set(), [t.op for t in fn.outputs]
    while stack:
        o = stack.pop()
        if o in needed:
            continue
        needed.add(o)
        stack.extend(t.op for t in o._inputs if _backpropagatable(t))
    return op in needed


def _record_body_gradients(graph, between: set) -> list:
    """Calls the user's gradient function of each op inside the bodies of the control flow `between` xs and
    ys (`tf.custom_gradient`, `gradient_override_map` + `tf.RegisterGradient`), as TF's while_v2/cond_v2
    call it while they build the body's gradient, and records the choice on the body function
    (`gradient_overrides`): the body's lowering (lowering/rules/control_flow.py) wraps the op in a
    `jax.custom_vjp` running the recorded ops, so the loop's or branch's jax gradient is TF's.

    TF's own registered gradients (`builtin_gradient` op types: fake quantization, fused RNN kernels) are
    carried by their forward rules already; only ops with a user's `_gradient_op_type` are recorded. A body
    records once (a later tf.gradients through the same loop reuses its ops).

    Returns the top-level tensors those gradients read that their bodies do not (`outer_reads`): the
    SymbolicGradient takes them as arguments of its forward function, where the bodies' lowering finds them."""
    outer: list = []
    to_record = []
    for fn in _bodies_under(between):  # refused before the graph changes
        for op in fn.ops:
            if "_gradient_op_type" not in op._attrs:
                continue
            if op in fn.gradient_overrides:
                outer.extend(outer_reads(fn, op))
                continue
            override = gradient_override(op)
            if override is None:
                continue
            if override.kind == "missing":
                if _on_body_path(fn, op):  # TF names the op as its body's function graph does
                    raise missing_gradient_error(op, _name_in_body(fn, op))
                continue
            if op.type in _PY_FUNC_TYPES and _on_body_path(fn, op):
                raise NotImplementedError(
                    f"tf.gradients through {op.type} '{op.name}' inside the {_construct(fn)} '{fn.name}': "
                    "graphcompat cannot differentiate a loop or cond whose body runs Python (tf.py_func, "
                    "tf.numpy_function) yet; move the Python call out of the body")
            if _on_body_path(fn, op, from_inputs=False):  # TF calls the gradient functions its path crosses
                to_record.append((fn, op, override))
    for fn, op, override in to_record:
        if override.kind == "function":
            with graph.control_dependencies(None):  # under tf.gradients' scope: gradients/<op>_grad
                override = _call_gradient_function(graph, op, override)
            override = _bind_in_body(fn, op, override)
        fn.gradient_overrides[op] = override
        fn.lowering_cache.pop("steps", None)  # the lowered steps wrap the op from now on
        outer.extend(outer_reads(fn, op))
    return list(dict.fromkeys(outer))


def _name_in_body(fn, op: _ops.Operation) -> str:
    """The op's name in its body's FunctionDef (TF's body function graph): without the body's scope."""
    from graphcompat.framework.function_library import _common_scope
    prefix = _common_scope(fn)
    return op.name[len(prefix):] if prefix and op.name.startswith(prefix) else op.name


_PY_FUNC_TYPES = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})


def _construct(fn) -> str:
    return {"while_body": "tf.while_loop body", "while_cond": "tf.while_loop condition"}.get(
        fn.kind, "tf.cond/tf.case branch")


def _available_in_body(fn, op: _ops.Operation) -> set:
    """The tensors the body's evaluation has bound when it reaches `op`."""
    return set(fn.params) | set(fn.captures) | {t for o in fn.ops if o._id < op._id for t in o._outputs}


def outer_reads(fn, op: _ops.Operation) -> list:
    """The tensors the recorded gradient of body op `op` reads that the body does not have: top-level
    tensors (`_bind_in_body` refuses any other)."""
    chosen = fn.gradient_overrides.get(op)
    available = _available_in_body(fn, op)
    return [t for t in getattr(chosen, "extra", ()) if t not in available]


_PURE_SOURCES = frozenset({"Const", "HostConst"})


def _bind_in_body(fn, op: _ops.Operation, backward: "BackwardGraph") -> "BackwardGraph":
    """`backward` with every tensor it reads available where the body evaluates `op`: the body's
    parameters, captures and the outputs of the body's earlier ops. Constants recorded before (a
    threshold the user's function closed over) are copied into its steps; other top-level tensors are
    passed in by the SymbolicGradient (`outer_reads`); a tensor of another body cannot: NotImplementedError."""
    from graphcompat.framework.function_library import body_ops
    available = _available_in_body(fn, op)
    pulled, extra = [], []
    inside = None
    for t in backward.extra:
        chain = None if t in available else _constant_chain(t)
        if chain is None:
            inside = body_ops(op.graph) if inside is None else inside
            if t not in available and t.op in inside:
                raise NotImplementedError(
                    f"tf.gradients: the gradient function of op '{op.name}' (type {op.type}, gradient "
                    f"{backward.name!r}) inside the {_construct(fn)} '{fn.name}' reads {t.name}, a tensor of "
                    "another loop or cond body that this body does not use; graphcompat cannot pass it in (use "
                    "the tensor in the body, or compute it in the gradient function)")
            extra.append(t)  # the body's own tensor, or a top-level one f passes in (`outer_reads`)
            continue
        pulled.extend(o for o in chain if o not in pulled)
    if not pulled:
        return backward._replace(extra=extra)
    return backward._replace(steps=sorted(pulled, key=lambda o: o._id) + list(backward.steps), extra=extra)


def _constant_chain(t: _ops.Tensor) -> Optional[list]:
    """The ops computing `t` from constants alone (stateless, no placeholders), or None."""
    ops, stack, seen = [], [t.op], set()
    while stack:
        o = stack.pop()
        if o in seen:
            continue
        seen.add(o)
        op_def = OP_DEFS.get(o.type)
        if o._control_inputs or op_def is None or op_def.stateful or "Placeholder" in o.type or (
                not o._inputs and o.type not in _PURE_SOURCES):  # (a placeholder_with_default may be fed)
            return None
        ops.append(o)
        stack.extend(i.op for i in o._inputs)
    return ops


def hessians(ys, xs, name: str = "hessians", colocate_gradients_with_ops: bool = False,
             gate_gradients: bool = False, aggregation_method=None) -> list:
    """`tf.hessians`: for each x, the second derivatives of sum(ys), shaped `x.shape + x.shape`.

    Row j is the gradient of the j-th element of the first gradient, as TF computes it (TF loops over
    j with a while_loop and a TensorArray; graphcompat records one gradient per element, so x needs a
    static size)."""
    from graphcompat.ops import array_ops
    xs = _as_list(xs)
    first = gradients(ys, xs, name=name)
    results = []
    with _ops.name_scope(name):
        for gradient, x in zip(first, xs):
            if gradient is None:
                # TF reshapes the None gradient: convert_to_tensor's error under reshape's argument name
                raise ValueError("Tried to convert 'tensor' to a tensor and failed. Error: None values not supported.")
            if not x.shape.is_fully_defined():
                raise NotImplementedError(f"tf.hessians with respect to {x.name} of shape {x.shape}: graphcompat "
                                          "needs a static shape (it differentiates each gradient element)")
            if isinstance(gradient, IndexedSlices):
                gradient = _const.convert_to_tensor(gradient)
            flat = array_ops.reshape(gradient, [-1])
            n = int(np.prod(x.shape.as_list()))
            rows = [gradients(flat[j], x)[0] for j in range(n)]
            if rows and all(r is None for r in rows):
                # TF's loop body writes its one symbolic row, None, into a TensorArray (a second gradient through
                # a NotDifferentiable kernel, a stop_gradient): convert_to_tensor's error
                raise ValueError("None values not supported.")
            rows = [r if r is not None else array_ops.zeros_like(x) for r in rows]
            shape = x.shape.as_list()
            results.append(array_ops.reshape(array_ops.stack(rows), shape + shape))
    return results


def _sparse_iter(kinds, sparse_indices):
    it = iter(sparse_indices)
    for k in kinds:
        yield next(it) if k == "sparse" else None


def _index_dtype(index_tensors) -> _dt.DType:
    dtypes = {t.dtype.base_dtype for t in index_tensors}
    return dtypes.pop() if len(dtypes) == 1 else _dt.int64


def _dense_shape_tensor(x: _ops.Tensor):
    if x.shape.is_fully_defined():
        return _const.constant(np.asarray(x.shape.as_list(), np.int32), name="dense_shape")
    return None


def differentiated_tensors(op: _ops.Operation) -> list:
    """The ys a SymbolicGradient node differentiates (empty for any other op): its forward function's
    outputs, where they are tensors of the graph (not of an imported FunctionDef).

    A Session may fetch them alongside a training step at no cost (the gradient computes them
    anyway), so a later `run([train_op, loss])` can reuse the compiled `run(train_op)`.
    """
    if op.type != "SymbolicGradient" or "f" not in op.attrs:
        return []
    fn = op.graph._get_function(op.attrs["f"].name)
    return list(fn.outputs) if fn is not None else []
