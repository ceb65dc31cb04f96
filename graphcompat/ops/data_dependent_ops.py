"""Ops whose output shapes depend on values (`tf.where`, `tf.unique`, `tf.boolean_mask`,
`tf.dynamic_partition`, `tf.dynamic_stitch`), host callbacks (`tf.py_func`, `tf.numpy_function`) and
runtime checks and prints (`tf.Assert`, `tf.Print`, `tf.print`, `tf.debugging.check_numerics`).

Data-dependent shapes cannot be compiled with fixed shapes, so those ops lower to host rules (numpy):
a plan containing one runs op by op (lowering/rules/data_dependent.py). Asserts and prints are
ordinary traced ops: `ctx.check` / `jax.debug.callback`, so they do not stop a plan from compiling.
"""
from __future__ import annotations

import collections
import sys
from typing import Callable, Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import (InferenceContext, OP_DEFS, apply_op, defop, no_outputs,
                                            unchanged_shape)

_INDEX = (_dt.int32, _dt.int64)


# ------------------------------------------------------------------------------------------------
# Op definitions
# ------------------------------------------------------------------------------------------------
def _where_shape(ctx: InferenceContext):
    rank = ctx.shape(0).ndims
    return [_ts.TensorShape([None, rank])]


defop("Where", "input: T -> index: int64", attrs={"T": _dt.bool_}, shape=_where_shape)


def _unique_shape(ctx: InferenceContext):
    x = ctx.shape(0)
    if x.ndims is not None and x.ndims != 1:
        raise ctx.error(f"Shape must be rank 1 but is rank {x.ndims}")
    return [_ts.TensorShape([None]), x if x.ndims is not None else _ts.TensorShape([None])]


defop("Unique", "x: T -> y: T, idx: out_idx", attrs={"out_idx": _dt.int32},
      types={"out_idx": _INDEX}, shape=_unique_shape)


def _partition_shape(ctx: InferenceContext):
    data, parts = ctx.shape(0), ctx.shape(1)
    n = ctx.attrs["num_partitions"]
    if data.ndims is None or parts.ndims is None:
        return [_ts.unknown_shape()] * n
    if not data[:parts.ndims].is_compatible_with(parts):
        raise ctx.error(f"Dimensions must be equal, but are {data[:parts.ndims]} and {parts}"
                        if data.ndims >= parts.ndims else
                        f"Shape must be at least rank {parts.ndims} but is rank {data.ndims}")
    return [_ts.TensorShape([None]).concatenate(data[parts.ndims:])] * n


defop("DynamicPartition", "data: T, partitions: int32 -> outputs: num_partitions * T",
      shape=_partition_shape)


def _stitch_shape(ctx: InferenceContext):
    n = ctx.attrs["N"]
    indices, data = ctx.inputs[:n], ctx.inputs[n:]
    rest = None
    for i, d in zip(indices, data):
        if i.shape.ndims is None or d.shape.ndims is None:
            continue
        tail = d.shape[i.shape.ndims:]
        rest = tail if rest is None else rest.merge_with(tail)
    if rest is None:
        return [_ts.unknown_shape()]
    return [_ts.TensorShape([None]).concatenate(rest)]


defop("DynamicStitch", "indices: N * int32, data: N * T -> merged: T", shape=_stitch_shape)
defop("PyFunc", "input: *Tin -> output: *Tout", stateful=True,
      shape=lambda ctx: [_ts.unknown_shape()] * len(ctx.output_dtypes))
defop("PyFuncStateless", "input: *Tin -> output: *Tout",
      shape=lambda ctx: [_ts.unknown_shape()] * len(ctx.output_dtypes))


def _assert_shape(ctx: InferenceContext):
    if ctx.shape(0).ndims not in (None, 0):
        raise ctx.error(f"Shape must be rank 0 but is rank {ctx.shape(0).ndims}")
    return []


defop("Assert", "condition: bool, data: *T", attrs={"summarize": 3}, stateful=True, shape=_assert_shape)
defop("Print", "input: T, data: *U -> output: T", attrs={"message": "", "first_n": -1, "summarize": 3},
      stateful=True, shape=unchanged_shape)
defop("PrintV2", "input: string", attrs={"output_stream": "stderr", "end": "\n"}, stateful=True,
      shape=no_outputs)
defop("CheckNumerics", "tensor: T -> output: T", attrs={"message": ""}, types={"T": _dt.FLOAT_TYPES},
      shape=unchanged_shape)

# 3-argument tf.where: TF1's `Select` (x, y equal shapes, or a vector condition over the first
# dimension) and `SelectV2` (broadcasting). Defined here only when the math/array family has not.
_OWN_SELECT = "Select" not in OP_DEFS
if _OWN_SELECT:
    def _select_shape(ctx: InferenceContext):
        c, x, y = ctx.shape(0), ctx.shape(1), ctx.shape(2)
        try:
            out = x.merge_with(y)
        except ValueError:
            raise ctx.error(f"Dimensions must be equal, but are {x} and {y}") from None
        if c.ndims is not None and out.ndims is not None and c.ndims not in (0, 1, out.ndims):
            raise ctx.error(f"Shape must be rank {out.ndims} but is rank {c.ndims}")
        if c.ndims is not None and out.ndims is not None and c.ndims == out.ndims:
            try:
                out = out.merge_with(c)
            except ValueError:
                raise ctx.error(f"Dimensions must be equal, but are {c} and {out}") from None
        return [out]

    defop("Select", "condition: bool, t: T, e: T -> output: T", shape=_select_shape)
if "SelectV2" not in OP_DEFS:
    def _select_v2_shape(ctx: InferenceContext):
        from graphcompat.framework.registry import broadcast_shapes
        s = broadcast_shapes(ctx, ctx.shape(1), ctx.shape(2))
        return [broadcast_shapes(ctx, ctx.shape(0), s)]

    defop("SelectV2", "condition: bool, t: T, e: T -> output: T", shape=_select_v2_shape)


# ------------------------------------------------------------------------------------------------
# Data-dependent shapes
# ------------------------------------------------------------------------------------------------
def where(condition, x=None, y=None, name: Optional[str] = None):
    """`tf.where` (TF1): coordinates of true elements (int64 [n, rank]), or elementwise selection."""
    if x is None and y is None:
        with _ops.name_scope(name, "Where", [condition]) as scope:
            condition = convert_to_tensor(condition, preferred_dtype=_dt.bool_, name="condition")
            return apply_op("Where", [condition], {"T": condition.dtype.base_dtype}, name=scope)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    select = _math_builder("where", where)
    if select is not None:  # the math family's Select builder (its argument checks and names)
        return select(condition, x, y, name=name)
    return apply_op("Select", [condition, x, y], name=name or "Select")


def where_v2(condition, x=None, y=None, name: Optional[str] = None):
    """`tf.where_v2`: like `where`, but the 3-argument form broadcasts (`SelectV2`)."""
    if x is None and y is None:
        return where(condition, name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    select = _math_builder("where_v2", where_v2)
    if select is not None:
        return select(condition, x, y, name=name)
    return apply_op("SelectV2", [condition, x, y], name=name or "SelectV2")


def _math_builder(name: str, own):
    from graphcompat.ops import math_ops
    builder = getattr(math_ops, name, None)
    return builder if builder is not None and builder is not own else None


def unique(x, out_idx=_dt.int32, name: Optional[str] = None):
    """`tf.unique`: (y, idx) with y the unique values in order of first occurrence."""
    y, idx = apply_op("Unique", [x], {"out_idx": _dt.as_dtype(out_idx)}, name=name)
    return UniqueOutput(y, idx)


UniqueOutput = collections.namedtuple("Unique", ["y", "idx"])  # what TF returns


def dynamic_partition(data, partitions, num_partitions: int, name: Optional[str] = None) -> list:
    """`tf.dynamic_partition`: `num_partitions` tensors, data rows grouped by partition id."""
    if not isinstance(num_partitions, (int, np.integer)) or isinstance(num_partitions, bool):
        raise TypeError(f"Expected int for argument 'num_partitions' not {num_partitions!r}.")
    if num_partitions < 1:
        raise ValueError(f"Attr 'num_partitions' of 'DynamicPartition' Op passed {num_partitions} less than "
                         "minimum 1.")
    return apply_op("DynamicPartition", [data, partitions], {"num_partitions": int(num_partitions)}, name=name)


def dynamic_stitch(indices, data, name: Optional[str] = None):
    """`tf.dynamic_stitch`: merged[indices[m][i]] = data[m][i]."""
    if len(indices) != len(data):
        raise ValueError(f"List argument 'data' to 'DynamicStitch' Op with length {len(data)} must match "
                         f"length {len(indices)} of argument 'indices'.")
    return apply_op("DynamicStitch", [list(indices), list(data)], name=name)


def boolean_mask(tensor, mask, name: str = "boolean_mask", axis=None):
    """`tf.boolean_mask`: the elements (or slices) of `tensor` where `mask` is true, along `axis`.

    Recorded as TF records it: the masked dimensions reshaped into one, then Where(mask) -> Squeeze ->
    GatherV2 along `axis` (so its gradient is Gather's, and a GraphDef reads as TF's)."""
    from graphcompat.framework.constant_op import constant_value
    from graphcompat.ops import array_ops
    from graphcompat.ops.math_ops import reduce_prod
    with _ops.name_scope(name, values=[tensor, mask]):
        tensor = convert_to_tensor(tensor, name="tensor")
        mask = convert_to_tensor(mask, name="mask")
        ndims_mask = mask.shape.ndims
        if ndims_mask == 0:
            raise ValueError("mask cannot be scalar.")
        if ndims_mask is None:
            raise ValueError("Number of mask dimensions must be specified, even if some dimensions are None.  "
                             "E.g. shape=[None] is ok, but shape=None is not.")
        axis = 0 if axis is None else axis
        axis_value = constant_value(axis) if isinstance(axis, _ops.Tensor) else axis
        static = tensor.shape
        if axis_value is not None:
            axis = axis_value = int(axis_value)
            if static.ndims is not None:
                static[axis:axis + ndims_mask].assert_is_compatible_with(mask.shape)
        shape = array_ops.shape  # called per use, as TF does (Shape, Shape_1, Shape_2)
        leading_size = reduce_prod(shape(tensor)[axis:axis + ndims_mask], [0])
        tensor = array_ops.reshape(tensor, array_ops.concat([shape(tensor)[:axis], [leading_size],
                                                             shape(tensor)[axis + ndims_mask:]], 0))
        if axis_value is not None and static.ndims is not None:
            first_dim = static[axis:axis + ndims_mask].num_elements()
            tensor.set_shape(_ts.TensorShape(static[:axis].as_list() + [first_dim]
                                             + static[axis + ndims_mask:].as_list()))
        mask = array_ops.reshape(mask, [-1])
        indices = array_ops.squeeze(where(mask), axis=[1])
        from graphcompat.ops.indexing_ops import gather
        return gather(tensor, indices, axis=axis)


# ------------------------------------------------------------------------------------------------
# Host callbacks
# ------------------------------------------------------------------------------------------------
def _register_callable(func: Callable, inp: list) -> str:
    """The node's `token` attr: `func` in the per-process registry, kept alive by the node's graph."""
    from graphcompat.framework import func_registry
    return func_registry.register(func, inp[0].graph if inp else _ops.get_default_graph())


def py_func(func: Callable, inp, Tout, stateful: bool = True, name: Optional[str] = None):
    """`tf.py_func`: calls `func` on numpy values on the host each time the op runs."""
    if not callable(func):
        raise ValueError(f"Expected func to be callable, got func of type {type(func)}")
    is_list = isinstance(Tout, (list, tuple))
    touts = [_dt.as_dtype(t) for t in (Tout if is_list else [Tout])]
    inp = [convert_to_tensor(x) for x in (inp if isinstance(inp, (list, tuple)) else [inp])]
    attrs = {"token": _register_callable(func, inp), "Tin": [t.dtype.base_dtype for t in inp], "Tout": touts}
    op_type = "PyFunc" if stateful else "PyFuncStateless"
    outs = apply_op(op_type, [inp], attrs, name=name or op_type)
    if isinstance(outs, _ops.Operation):
        outs = []
    if is_list:
        return list(outs)
    return outs[0] if outs else None


def numpy_function(func: Callable, inp, Tout, stateful: bool = True, name: Optional[str] = None):
    """`tf.numpy_function`: as `py_func`."""
    return py_func(func, inp, Tout, stateful=stateful, name=name)


defop("EagerPyFunc", "input: *Tin -> output: *Tout", attrs={"is_async": False}, stateful=True,
      shape=lambda ctx: [_ts.unknown_shape()] * len(ctx.output_dtypes))


def py_function(func: Callable, inp, Tout, name: Optional[str] = None):
    """`tf.py_function`: calls `func` on the host with eager-tensor-like values (`.numpy()`, `.shape`,
    `.dtype`, numpy arithmetic); Python/numpy results are converted to `Tout`."""
    if not callable(func):
        raise ValueError(f"Expected func to be callable, got func of type {type(func)}")
    is_list = isinstance(Tout, (list, tuple))
    touts = [_dt.as_dtype(t) for t in (Tout if is_list else [Tout])]
    inp = [convert_to_tensor(x) for x in (inp if isinstance(inp, (list, tuple)) else [inp])]
    attrs = {"token": _register_callable(func, inp), "Tin": [t.dtype.base_dtype for t in inp], "Tout": touts,
             "is_async": False}
    outs = apply_op("EagerPyFunc", [inp], attrs, name=name or "EagerPyFunc")
    if isinstance(outs, _ops.Operation):
        outs = []
    if is_list:
        return list(outs)
    return outs[0] if outs else None


# ------------------------------------------------------------------------------------------------
# Asserts, prints, numeric checks
# ------------------------------------------------------------------------------------------------
def Assert(condition, data, summarize: Optional[int] = None, name: Optional[str] = None):  # noqa: N802
    """`tf.Assert`: when run, raises InvalidArgumentError "assertion failed: [data]…" unless condition."""
    with _ops.name_scope(name, "Assert", [condition, data]) as scope:
        # TF converts the data once to pick its path (unused Consts stay in the graph) and hands the
        # original values to the op, which converts Python values again as `Assert/data_<i>`.
        for d in data:
            convert_to_tensor(d)
        condition = convert_to_tensor(condition, name="Condition")
        if condition.dtype.base_dtype != _dt.bool_:
            raise TypeError(f"Input 'condition' of 'Assert' Op has type {condition.dtype.name} that does not "
                            "match expected type of bool.")
        return apply_op("Assert", [condition, data], {"summarize": 3 if summarize is None else int(summarize)},
                        name="Assert")


def Print(input_, data, message: Optional[str] = None, first_n: Optional[int] = None,  # noqa: N802
          summarize: Optional[int] = None, name: Optional[str] = None):
    """`tf.Print`: returns `input_`; when run, prints `message` and the data to stderr."""
    data = [convert_to_tensor(d) for d in data]
    return apply_op("Print", [input_, data],
                    {"message": message or "", "first_n": -1 if first_n is None else int(first_n),
                     "summarize": 3 if summarize is None else int(summarize)}, name=name or "Print")


def print_v2(*inputs, **kwargs):
    """`tf.print`: TF's StringFormat (the template, tensors as placeholders) and PrintV2 ops (run it, or
    use it as a control dependency, in graph mode)."""
    import pprint

    from graphcompat.ops.control_flow_ops import flatten, pack_sequence_as
    from graphcompat.ops.string_ops import string_format
    output_stream = kwargs.pop("output_stream", sys.stderr)
    summarize = kwargs.pop("summarize", 3)
    sep = kwargs.pop("sep", " ")
    end = kwargs.pop("end", "\n")
    name = kwargs.pop("name", None)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments for tf.print: {kwargs}")
    stream = _stream_name(output_stream)

    def is_tensor(x) -> bool:
        return isinstance(x, _ops.Tensor) or hasattr(x, "_as_graph_element") and hasattr(x, "value")

    def as_tensor(x):
        return convert_to_tensor(x if isinstance(x, _ops.Tensor) else x.value())

    if len(inputs) == 1 and is_tensor(inputs[0]) and as_tensor(inputs[0]).dtype == _dt.string \
            and as_tensor(inputs[0]).shape.ndims == 0:
        formatted = as_tensor(inputs[0])
    else:
        # TF's logging_ops.print_v2: pformat each input with a placeholder for each tensor.
        sorted_inputs = [collections.OrderedDict(sorted(x.items())) if isinstance(x, collections.OrderedDict)
                         else x for x in inputs]
        free = [pack_sequence_as(x, ["" if is_tensor(leaf) else leaf for leaf in flatten(x)])
                if isinstance(x, (list, tuple, dict)) else ("" if is_tensor(x) else x) for x in sorted_inputs]
        placeholder = _placeholder_string(" ".join(pprint.pformat(x) for x in free))
        templates, tensors = [], []
        for x in inputs:
            holders = []
            for leaf in flatten(x):
                if is_tensor(leaf):
                    tensors.append(as_tensor(leaf))
                    holders.append(placeholder)
                else:
                    holders.append(leaf)
            if isinstance(x, str):
                templates.append(x)
            else:
                templates.append(pprint.pformat(pack_sequence_as(x, holders) if isinstance(x, (list, tuple, dict))
                                                else holders[0]))
        template = sep.join(templates).replace("'" + placeholder + "'", placeholder)
        formatted = string_format(template, tensors, placeholder=placeholder, summarize=summarize,
                                  name=None if not name else name + "_format")
    return apply_op("PrintV2", [formatted], {"output_stream": stream, "end": end}, name=name or "PrintV2")


def _placeholder_string(text: str, default: str = "{}") -> str:
    """A placeholder that does not occur in `text` (TF's _generate_placeholder_string)."""
    import random
    placeholder = default
    rng = random.Random(5)
    while placeholder in text:
        placeholder = placeholder + str(rng.randint(0, 9))
    return placeholder


def _stream_name(stream) -> str:
    if stream is sys.stderr:
        return "stderr"
    if stream is sys.stdout:
        return "stdout"
    if isinstance(stream, str) and (stream.startswith("file://") or stream in ("stderr", "stdout")):
        return stream
    import logging
    for level, fn_name in ((logging.INFO, "info"), (logging.WARNING, "warning"), (logging.ERROR, "error")):
        if getattr(stream, "__name__", None) == fn_name:
            return f"log({fn_name})"
    raise ValueError(f"Unsupported output stream, logging level, or file.{stream}. Supported streams are "
                     "sys.stdout, sys.stderr, tf.logging.info, tf.logging.warning, tf.logging.error. "
                     "File needs to be in the form of 'file://<filepath>'.")


def check_numerics(tensor, message: str, name: Optional[str] = None):
    """`tf.debugging.check_numerics`: passes `tensor` through; InvalidArgumentError on Inf or NaN."""
    return apply_op("CheckNumerics", [tensor], {"message": str(message)}, name=name)


__all__ = ["where", "where_v2", "unique", "dynamic_partition", "dynamic_stitch", "boolean_mask", "py_func",
           "numpy_function", "py_function", "Assert", "Print", "print_v2", "check_numerics"]
