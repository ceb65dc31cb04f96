"""Gradients of functional control flow for TensorFlow, written into an exported function library.

graphcompat records `tf.gradients` as ONE `SymbolicGradient` node whose `f` is the forward subgraph
(graphcompat/gradients.py). TensorFlow runs that node by differentiating `f` with its C++ function
gradients, which have no rule for `While` / `If` / `Case` (`No gradient defined for op: StatelessWhile`). TF's
`SymbolicGradient` does honour a function's `GradientDef` (`FunctionDefLibrary.gradient`: function name →
gradient function). So, in the exported library only, every While / If / Case reachable from a gradient's
forward function becomes a call of a one-node wrapper function whose GradientDef names a gradient written
in TF ops (TF's while_v2 / cond_v2 gradients, in FunctionDef form):

* `While`: the gradient function runs the loop again, each iteration also pushing the body's loop inputs
  that change onto TensorList accumulators (`EmptyTensorList` / `TensorListPushBack`), then a backward
  `While` that pops them (`TensorListPopBack`) and runs `SymbolicGradient` of the body function once per
  iteration, last iteration first. The body returns its loop-invariant inputs (the maximum, the captures)
  unchanged, so the gradient of each one is the gradient of its pass-through output plus what the body's
  uses add: carrying each input's gradient as the backward loop's state sums them with no extra op.
* `If` / `Case`: an `If` / `Case` on the same predicate / branch index whose branches are
  `SymbolicGradient`s of the forward branches.
* Nodes that read no differentiable value (a loop counter's `i % 2`, comparisons, index arithmetic) are
  packed into calls whose GradientDef returns zeros (`pack_non_differentiable`): TF would otherwise
  differentiate them as well and fail on the first integer op without a C++ gradient.
* `GatherV2` along axis 0 (a loop indexing a captured sequence) gets a GradientDef as well:
  UnsortedSegmentSum of the rows, TF's Python gradient.
* TensorList ops (the TensorArrays of dynamic_rnn / map_fn / scan, as framework/forward_values.py exports a
  gradient's forward function) and ReverseSequence (bidirectional_dynamic_rnn) get GradientDefs as well:
  TF's Python gradients in TF ops.
* A body holding an op that must not run twice in a step (a random op, an assign, TensorArray ops) gets a
  gradient function that fails TF's run naming the op: TF's SymbolicGradient runs the body again to
  differentiate it, which would draw a new dropout mask (a wrong gradient) or write again.

Bodies are rewritten the same way (a loop in a loop body, a cond in a loop), so nested control flow is
differentiated by TF recursively. The rewrite leaves graphcompat's own execution alone: the Graph keeps
its While/If ops and graphcompat differentiates them with `jax.vjp`; the importer inlines a wrapper call
(any library call) and ignores GradientDefs, so graphcompat re-imports its own export.
"""
from __future__ import annotations

import re

from graphcompat.framework.function_library import new_function_name

_WHILE = ("While", "StatelessWhile")
_IF = ("If", "StatelessIf")
_CASE = ("Case", "StatelessCase")
_FUNC_ATTRS = {"While": ("cond", "body"), "StatelessWhile": ("cond", "body"),
               "If": ("then_branch", "else_branch"), "StatelessIf": ("then_branch", "else_branch"),
               "Case": ("branches",), "StatelessCase": ("branches",),
               "PartitionedCall": ("f",), "StatefulPartitionedCall": ("f",), "SymbolicGradient": ("f",)}
_DT_INT32 = 3
_DT_VARIANT = 21
_DT_BOOL = 10
# Stateful ops that may run again in a step (when TF's SymbolicGradient re-runs a body) with the same effect.
_RERUNNABLE = frozenset({"Assert", "Print", "PrintV2", "ReadVariableOp", "VarHandleOp", "VariableV2",
                         "Variable", "NoOp"})


def add_control_flow_gradients(lib, forward_names) -> None:
    """Rewrites `lib` (a FunctionDefLibrary) in place: the While/If/Case (and GatherV2) nodes of the
    functions in `forward_names` (gradients' forward functions) and of every function they reach become
    calls of wrappers with GradientDefs (module docstring)."""
    by_name = {f.signature.name: f for f in lib.function}
    reachable, stack = set(), [n for n in forward_names if n in by_name]
    while stack:
        name = stack.pop()
        if name in reachable:
            continue
        reachable.add(name)
        for nd in by_name[name].node_def:
            for callee in _callees(nd):
                if callee in by_name and callee not in reachable:
                    stack.append(callee)
    if not reachable:
        return
    writer = _GradientWriter(lib, by_name)
    for name in sorted(reachable):
        writer.rewrite(by_name[name])
    for name in sorted(reachable):
        writer.pack_non_differentiable(by_name[name])


def has_gradient_def(op_type: str) -> bool:
    """Whether the export differentiates `op_type` in TF with a GradientDef written here (TF's C++ gradients
    lack it)."""
    return op_type in _OP_GRADIENTS


def _callees(nd) -> list:
    names = []
    for key in _FUNC_ATTRS.get(nd.op, ()):
        if key not in nd.attr:
            continue
        av = nd.attr[key]
        if av.HasField("func"):
            names.append(av.func.name)
        names.extend(f.name for f in av.list.func)
    names.append(nd.op)  # a direct call of a library function
    return names


class _FunctionBuilder:
    """Writes one FunctionDef: typed arguments, nodes named uniquely, typed results."""

    def __init__(self, name: str):
        from tensorboard.compat.proto import function_pb2
        self.fdef = function_pb2.FunctionDef()
        self.fdef.signature.name = name
        self.used: set = set()

    def _unique(self, base: str) -> str:
        from graphcompat.framework.function_library import unique_name
        return unique_name(self.used, base)

    def arg(self, base: str, dtype: int) -> str:
        a = self.fdef.signature.input_arg.add()
        a.name = self._unique(base)
        a.type = dtype
        return a.name

    def node(self, op: str, inputs: list, attrs: dict = (), name: str = None) -> str:
        nd = self.fdef.node_def.add()
        nd.name = self._unique(name or _snake(op))
        nd.op = op
        nd.input.extend(inputs)
        for key, value in dict(attrs).items():
            nd.attr[key].CopyFrom(value)
        return nd.name

    def const_int32(self, value: int, name: str) -> str:
        import numpy as np
        from graphcompat.framework import dtypes as _dt
        from graphcompat.framework import graph_def as _gd
        node = self.node("Const", [], {"dtype": _gd.attr_value(_dt.int32),
                                      "value": _gd.attr_value(np.asarray(value, np.int32))}, name=name)
        return f"{node}:output:0"

    def const_vector(self, values: list, name: str) -> str:
        import numpy as np
        from graphcompat.framework import dtypes as _dt
        from graphcompat.framework import graph_def as _gd
        node = self.node("Const", [], {"dtype": _gd.attr_value(_dt.int32),
                                      "value": _gd.attr_value(np.asarray(values, np.int32))}, name=name)
        return f"{node}:output:0"

    def result(self, text: str, dtype: int, base: str = "output") -> None:
        a = self.fdef.signature.output_arg.add()
        a.name = self._unique(base)
        a.type = dtype
        self.fdef.ret[a.name] = text


def _snake(op: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower()


def _type_attr(dtype: int):
    from tensorboard.compat.proto import attr_value_pb2
    return attr_value_pb2.AttrValue(type=dtype)


def _types_attr(dtypes: list):
    from tensorboard.compat.proto import attr_value_pb2
    av = attr_value_pb2.AttrValue()
    av.list.SetInParent()
    av.list.type.extend(dtypes)
    return av


def _func_attr(name: str):
    from tensorboard.compat.proto import attr_value_pb2
    av = attr_value_pb2.AttrValue()
    av.func.name = name
    return av


def _funcs_attr(names: list):
    from tensorboard.compat.proto import attr_value_pb2
    av = attr_value_pb2.AttrValue()
    for name in names:
        av.list.func.add().name = name
    return av


def _bool_tensor_attr(value: bool):
    import numpy as np
    from graphcompat.framework import graph_def as _gd
    return _gd.attr_value(np.asarray(value))


def _bool_attr(value: bool):
    from tensorboard.compat.proto import attr_value_pb2
    return attr_value_pb2.AttrValue(b=value)


def _string_const(text: str) -> dict:
    import numpy as np
    from graphcompat.framework import dtypes as _dt
    from graphcompat.framework import graph_def as _gd
    return {"dtype": _gd.attr_value(_dt.string), "value": _gd.attr_value(np.asarray(text.encode(), object))}


def _int_attr(value: int):
    from tensorboard.compat.proto import attr_value_pb2
    return attr_value_pb2.AttrValue(i=value)


def _call_outputs(fdef, node: str) -> list:
    """`node:<output arg>:0` for each result of a call of `fdef` (one arg per result)."""
    return [f"{node}:{a.name}:0" for a in fdef.signature.output_arg]


class _GradientWriter:
    def __init__(self, lib, by_name: dict):
        self.lib = lib
        self.by_name = by_name

    def _new_name(self, base: str) -> str:
        return new_function_name(self.by_name, base)

    def _add(self, builder: _FunctionBuilder):
        fdef = builder.fdef
        self.by_name[fdef.signature.name] = fdef
        self.lib.function.add().CopyFrom(fdef)
        return self.lib.function[len(self.lib.function) - 1]

    def rewrite(self, fdef) -> None:
        """Each While/If node of `fdef` becomes a call of a wrapper with a GradientDef; references to its
        outputs (`node:output:i`) are renamed to the wrapper's results (`node:output_i:0`)."""
        renamed = {}
        for nd in fdef.node_def:
            axis = _const_value(fdef, nd.input[2]) if nd.op == "GatherV2" else None
            if nd.op == "GatherV2" and axis in (0, _NOT_A_CONST) and nd.attr["batch_dims"].i == 0:
                self._wrap_gather(fdef, nd, check_axis=axis is _NOT_A_CONST)
                continue
            if nd.op in _OP_GRADIENTS:
                self._wrap_op(fdef, nd)
                continue
            if nd.op not in _WHILE + _IF + _CASE:
                continue
            wrapper = self._wrapper(fdef, nd)
            renamed[nd.name] = wrapper
            for key in list(nd.attr):
                del nd.attr[key]
            nd.op = wrapper.signature.name
        if not renamed:
            return

        def rename(text: str) -> str:
            parts = text.split(":")
            if len(parts) == 3 and parts[0] in renamed and parts[1] == "output":
                outs = renamed[parts[0]].signature.output_arg
                return f"{parts[0]}:{outs[int(parts[2])].name}:0"
            return text
        for nd in fdef.node_def:
            for k, text in enumerate(nd.input):
                nd.input[k] = rename(text)
        for key in list(fdef.ret):
            fdef.ret[key] = rename(fdef.ret[key])

    def _wrapper(self, fdef, nd):
        """A function holding the single control-flow node, and its gradient function."""
        op_types = _node_types(nd)
        in_types = list(op_types["in"])
        out_types = list(op_types["out"])
        b = _FunctionBuilder(self._new_name(f"{fdef.signature.name}_{nd.name}_{_snake(nd.op)}"))
        b.fdef.signature.is_stateful = not nd.op.startswith("Stateless")
        # TF inlines calls before it differentiates a function body, which would put the While back in
        # place of the call whose GradientDef TF needs.
        b.fdef.attr["_noinline"].b = True
        args = [b.arg(f"input_{k}", t) for k, t in enumerate(in_types)]
        node = b.node(nd.op, args, {k: v for k, v in nd.attr.items()}, name=nd.name.rpartition("/")[2])
        for k, t in enumerate(out_types):
            b.result(f"{node}:output:{k}", t, base=f"output_{k}")
        wrapper = self._add(b)
        unsafe = next(filter(None, (self._not_rerunnable(name) for name in _callees(nd))), None)
        if unsafe is not None:
            grad = self._refused_gradient(wrapper.signature.name, in_types, out_types, unsafe)
        elif nd.op in _WHILE:
            grad = self._while_gradient(wrapper.signature.name, nd, in_types)
        else:
            grad = self._branch_gradient(wrapper.signature.name, nd, in_types, out_types)
        entry = self.lib.gradient.add()
        entry.function_name = wrapper.signature.name
        entry.gradient_func = grad
        return wrapper

    def _not_rerunnable(self, name: str, seen: frozenset = frozenset()):
        """The first op of function `name` (or of one it calls) that must not run twice in a step, or
        None: stateful ops other than checks and variable reads (a random op, an assign), and TensorArray
        ops (TF's arrays are resources: a second write to an index fails, a read may find it cleared)."""
        from graphcompat.framework import registry
        fdef = self.by_name.get(name)
        if fdef is None or name in seen:
            return None
        for nd in fdef.node_def:
            op_def = registry.OP_DEFS.get(nd.op)
            if nd.op not in _RERUNNABLE and (nd.op.startswith("TensorArray") or op_def is not None and (
                    op_def.stateful or any(a.is_ref for a in op_def.inputs))):  # assigns to ref variables
                return nd.op
            for callee in _callees(nd):
                found = self._not_rerunnable(callee, seen | {name})
                if found is not None:
                    return found
        return None

    def _refused_gradient(self, wrapper_name: str, in_types: list, out_types: list, op_type: str) -> str:
        """The gradient of control flow whose body has an op that must not run twice: TF's SymbolicGradient
        runs the body again to differentiate it, which would draw new random numbers (a dropout mask the
        forward pass never used), assign again or write a TensorArray twice: a wrong gradient or state. The
        gradient function fails TF's run instead, naming the op."""
        g = _FunctionBuilder(self._new_name(f"{wrapper_name}_grad"))
        g.fdef.signature.is_stateful = True
        xs = [g.arg(f"input_{k}", t) for k, t in enumerate(in_types)]
        for k, t in enumerate(out_types):
            g.arg(f"output_grad_{k}", t)
        false = g.node("Const", [], {"dtype": _type_attr(_DT_BOOL), "value": _bool_tensor_attr(False)},
                       name="false")
        message = g.node("Const", [], _string_const(
            f"graphcompat exports no TF gradient through a loop or cond whose body has a {op_type} op: the "
            "SymbolicGradient would run it again to differentiate the body"), name="message")
        check = g.node("Assert", [f"{false}:output:0", f"{message}:output:0"],
                       {"T": _types_attr([7]), "summarize": _int_attr(3)}, name="refuse")
        for k, (x, t) in enumerate(zip(xs, in_types)):
            zero = g.node("ZerosLike", [x, "^" + check], {"T": _type_attr(t)}, name=f"zeros_{k}")
            g.result(f"{zero}:y:0", t)
        return self._add(g).signature.name

    # --- ops TF's function gradients lack ---------------------------------------------------------
    def _wrap_gather(self, fdef, nd, check_axis: bool) -> None:
        """GatherV2 along axis 0 (a loop body indexing a captured sequence with its counter) has no C++
        gradient: a wrapper whose GradientDef is TF's Python gradient, UnsortedSegmentSum of the rows
        (dense, as SymbolicGradient returns Tensors). An axis that is an argument (a gradient's forward
        function takes the constants it reads as arguments) is checked when the gradient runs."""
        types = [nd.attr["Tparams"].type, nd.attr["Tindices"].type, nd.attr["Taxis"].type]
        b = _FunctionBuilder(self._new_name(f"{fdef.signature.name}_{nd.name}_gather"))
        b.fdef.attr["_noinline"].b = True
        args = [b.arg(name, t) for name, t in zip(("params", "indices", "axis"), types)]
        node = b.node("GatherV2", args, {k: v for k, v in nd.attr.items()}, name="gather")
        b.result(f"{node}:output:0", types[0], base="output")  # the op's own output name: references stay
        wrapper = self._add(b)

        g = _FunctionBuilder(self._new_name(f"{wrapper.signature.name}_grad"))
        params, indices, axis = (g.arg(name, t) for name, t in zip(("params", "indices", "axis"), types))
        dy = g.arg("output_grad", types[0])
        checks = []
        if check_axis:  # first, so that the reshapes below (which assume axis 0) wait for it
            g.fdef.signature.is_stateful = True
            zero_axis = g.node("Cast", [g.const_int32(0, "axis_0")],
                               {"SrcT": _type_attr(_DT_INT32), "DstT": _type_attr(types[2]),
                                "Truncate": _bool_attr(False)}, name="zero_axis")
            is_zero = g.node("Equal", [axis, f"{zero_axis}:y:0"],
                             {"T": _type_attr(types[2]), "incompatible_shape_error": _bool_attr(True)},
                             name="axis_is_zero")
            message = g.node("Const", [], _string_const("GatherV2's gradient as graphcompat exports it handles "
                                                         "axis 0 only"), name="message")
            checks.append("^" + g.node("Assert", [f"{is_zero}:z:0", f"{message}:output:0"],
                                       {"T": _types_attr([7]), "summarize": _int_attr(3)}, name="check_axis"))
        int32 = {"T": _type_attr(_DT_INT32)}
        shape = g.node("Shape", [params] + checks,
                       {"T": _type_attr(types[0]), "out_type": _type_attr(_DT_INT32)})
        first, second, end = (g.const_vector([v], name) for v, name in ((0, "begin"), (1, "second"), (0, "end")))
        slice_attrs = {"T": _type_attr(_DT_INT32), "Index": _type_attr(_DT_INT32), "begin_mask": _int_attr(0),
                       "ellipsis_mask": _int_attr(0), "new_axis_mask": _int_attr(0)}
        rows = g.node("StridedSlice", [f"{shape}:output:0", first, second, second],
                      {**slice_attrs, "end_mask": _int_attr(0), "shrink_axis_mask": _int_attr(1)}, name="rows")
        row_shape = g.node("StridedSlice", [f"{shape}:output:0", second, end, second],
                           {**slice_attrs, "end_mask": _int_attr(1), "shrink_axis_mask": _int_attr(0)},
                           name="row_shape")
        flat_shape = g.node("ConcatV2", [g.const_vector([-1], "all_rows"), f"{row_shape}:output:0",
                                         g.const_int32(0, "concat_axis")],
                            {"N": _int_attr(2), **int32, "Tidx": _type_attr(_DT_INT32)}, name="flat_shape")
        values = g.node("Reshape", [dy, f"{flat_shape}:output:0"] + checks,
                        {"T": _type_attr(types[0]), "Tshape": _type_attr(_DT_INT32)}, name="values")
        ids = g.node("Reshape", [indices, g.const_vector([-1], "flat")],
                     {"T": _type_attr(types[1]), "Tshape": _type_attr(_DT_INT32)}, name="ids")
        dparams = g.node("UnsortedSegmentSum", [f"{values}:output:0", f"{ids}:output:0", f"{rows}:output:0"]
                         + checks, {"T": _type_attr(types[0]), "Tindices": _type_attr(types[1]),
                                    "Tnumsegments": _type_attr(_DT_INT32)}, name="params_grad")
        g.result(f"{dparams}:output:0", types[0])
        for x, t, name in ((indices, types[1], "indices_grad"), (axis, types[2], "axis_grad")):
            zero = g.node("ZerosLike", [x], {"T": _type_attr(t)}, name=name)
            g.result(f"{zero}:y:0", t)
        self._add(g)
        entry = self.lib.gradient.add()
        entry.function_name = wrapper.signature.name
        entry.gradient_func = g.fdef.signature.name
        for key in list(nd.attr):
            del nd.attr[key]
        nd.op = wrapper.signature.name

    def _wrap_op(self, fdef, nd) -> None:
        """An op TF's C++ gradients lack (the TensorList ops of a loop's TensorArrays as forward_values.py
        exports them, ReverseSequence): a wrapper whose GradientDef is TF's Python gradient, in TF ops."""
        in_specs, outs, grad = _OP_GRADIENTS[nd.op]
        if callable(in_specs):  # list inputs: as many as the node has
            in_specs = in_specs(nd)

        def dtype(spec) -> int:  # a DataType enum, or the name of the type attr that holds it
            if isinstance(spec, int):
                return spec
            return nd.attr[spec].type if spec in nd.attr else _DT_INT32  # (shape_type's default)
        types = [dtype(spec) for spec in in_specs]
        out_types = [dtype(spec) for _, spec in outs]
        b = _FunctionBuilder(self._new_name(f"{fdef.signature.name}_{nd.name}_{_snake(nd.op)}"))
        b.fdef.attr["_noinline"].b = True
        args = [b.arg(f"input_{k}", t) for k, t in enumerate(types)]
        node = b.node(nd.op, args, {k: v for k, v in nd.attr.items()}, name=_snake(nd.op))
        for (out_name, _), t in zip(outs, out_types):  # the op's own output names: references stay
            b.result(f"{node}:{out_name}:0", t, base=out_name)
        wrapper = self._add(b)

        g = _FunctionBuilder(self._new_name(f"{wrapper.signature.name}_grad"))
        xs = [g.arg(f"input_{k}", t) for k, t in enumerate(types)]
        dys = [g.arg(f"output_grad_{k}", t) for k, t in enumerate(out_types)]
        for x, text, t in zip(xs, grad(g, xs, dys, nd), types):
            if text is None:  # an index, a shape: no gradient
                text = f"{g.node('ZerosLike', [x], {'T': _type_attr(t)}, name='zeros')}:y:0"
            g.result(text, t)
        self._add(g)
        entry = self.lib.gradient.add()
        entry.function_name = wrapper.signature.name
        entry.gradient_func = g.fdef.signature.name
        for key in list(nd.attr):
            del nd.attr[key]
        nd.op = wrapper.signature.name

    # --- integer bookkeeping ------------------------------------------------------------------------
    def pack_non_differentiable(self, fdef) -> None:
        """Moves the nodes that read no differentiable value (a loop counter's `i % 2`, comparisons,
        index arithmetic, variable reads) into calls of functions whose GradientDef returns zeros.

        TF's SymbolicGradient differentiates every node an argument reaches, whatever its dtype, and
        fails on the first integer op without a C++ gradient (`FloorMod`). No gradient flows through
        such nodes (their inputs are not differentiable), so their gradient is zero by definition; packed
        in a call, TF takes it from the GradientDef and never looks inside. Nodes are grouped by how many
        differentiable nodes separate them from the arguments, so the calls form no cycle."""
        nodes = {nd.name: nd for nd in fdef.node_def}
        arg_types = {a.name: a.type for a in fdef.signature.input_arg}
        keep = set(fdef.control_ret.values())

        def ref_type(text: str):
            parts = text.split(":")
            if len(parts) == 1:
                return arg_types.get(text)
            nd = nodes.get(parts[0])
            return None if nd is None else self._output_type(nd, parts[1], int(parts[2]))

        def data_inputs(nd) -> list:
            return [t for t in nd.input if not t.startswith("^")]

        packed, depth = {}, {}
        for nd in fdef.node_def:  # FunctionDefs graphcompat writes list nodes in a topological order
            ins = data_inputs(nd)
            if ins and nd.name not in keep and all(_non_differentiable(ref_type(t)) for t in ins):
                packed[nd.name] = True
                # one more level for each differentiable node between this node and the arguments
                d = 0
                for t in ins:
                    src = t.split(":")[0]
                    if src in nodes:
                        crossed = not packed[src] and bool(data_inputs(nodes[src]))  # not a Const
                        d = max(d, depth[src] + (1 if crossed else 0))
                depth[nd.name] = d
            else:
                packed[nd.name] = False
                depth[nd.name] = max([depth.get(t.split(":")[0], 0) for t in ins if t.split(":")[0] in nodes],
                                     default=0)
        groups: dict = {}
        for nd in fdef.node_def:
            if packed[nd.name]:
                groups.setdefault(depth[nd.name], []).append(nd.name)
        if not groups:
            return
        renamed: dict = {}   # a packed node's output -> the call's result
        call_of: dict = {}   # a packed node -> its call
        new_nodes = []
        for d in sorted(groups):
            members = set(groups[d])
            outer_inputs, outer_controls, outputs = [], [], []
            for name in groups[d]:
                for t in nodes[name].input:
                    src = t.lstrip("^").split(":")[0]
                    if src in members:
                        continue
                    if t.startswith("^"):
                        outer_controls.append(t)
                    elif t not in outer_inputs:
                        outer_inputs.append(t)
            consumers = [n for n in fdef.node_def if n.name not in members]
            for text in [t for n in consumers for t in n.input if not t.startswith("^")] + list(fdef.ret.values()):
                if text.split(":")[0] in members and text not in outputs:
                    outputs.append(text)
            if any(ref_type(text) is None for text in outputs):
                for name in groups[d]:  # an output whose dtype graphcompat cannot tell: the nodes stay
                    packed[name] = False
                continue
            b = _FunctionBuilder(self._new_name(f"{fdef.signature.name}_no_gradient_{d}"))
            b.fdef.attr["_noinline"].b = True
            b.fdef.signature.is_stateful = any(self._is_stateful(nodes[n]) for n in groups[d])
            arg_of = {t: b.arg(f"input_{k}", ref_type(t)) for k, t in enumerate(outer_inputs)}
            b.used.update(members)
            for name in groups[d]:
                copy = b.fdef.node_def.add()
                copy.CopyFrom(nodes[name])
                del copy.input[:]
                copy.input.extend(arg_of.get(t, t) for t in nodes[name].input if t not in outer_controls)
            for k, text in enumerate(outputs):
                b.result(text, ref_type(text), base=f"output_{k}")
            packed_fn = self._add(b)
            call_name = self._unique_node(fdef, nodes, f"no_gradient_{d}")
            call = {"name": call_name, "op": packed_fn.signature.name,
                    "input": outer_inputs + sorted(set(outer_controls))}
            new_nodes.append((groups[d][0], call))
            call_of.update(dict.fromkeys(groups[d], call_name))
            for k, text in enumerate(outputs):
                renamed[text] = f"{call_name}:{packed_fn.signature.output_arg[k].name}:0"
            self._zero_gradient(packed_fn, [ref_type(t) for t in outer_inputs])
        # The function: packed nodes replaced by their calls (each where its group's first node was).
        first_of = dict(new_nodes)
        kept = []
        for nd in fdef.node_def:
            if nd.name in first_of:
                from tensorboard.compat.proto import node_def_pb2
                call = node_def_pb2.NodeDef(name=first_of[nd.name]["name"], op=first_of[nd.name]["op"])
                call.input.extend(first_of[nd.name]["input"])
                kept.append(call)
            if not packed[nd.name]:
                kept.append(nd)
        for nd in kept:
            new_inputs = []
            for t in nd.input:
                if t.startswith("^") and t[1:] in call_of:
                    t = "^" + call_of[t[1:]]
                new_inputs.append(renamed.get(t, t))
            data = [t for t in new_inputs if not t.startswith("^")]
            controls = [t for t in dict.fromkeys(new_inputs) if t.startswith("^")]
            del nd.input[:]
            nd.input.extend(data + controls)
        del fdef.node_def[:]
        fdef.node_def.extend(kept)
        for key in list(fdef.ret):
            fdef.ret[key] = renamed.get(fdef.ret[key], fdef.ret[key])

    def _zero_gradient(self, fdef, in_types: list) -> None:
        """GradientDef of `fdef`: zeros for every input."""
        g = _FunctionBuilder(self._new_name(f"{fdef.signature.name}_grad"))
        xs = [g.arg(f"input_{k}", t) for k, t in enumerate(in_types)]
        for k, a in enumerate(fdef.signature.output_arg):
            g.arg(f"output_grad_{k}", a.type)
        for k, (x, t) in enumerate(zip(xs, in_types)):
            zero = g.node("ZerosLike", [x], {"T": _type_attr(t)}, name=f"zeros_{k}")
            g.result(f"{zero}:y:0", t)
        self._add(g)
        entry = self.lib.gradient.add()
        entry.function_name = fdef.signature.name
        entry.gradient_func = g.fdef.signature.name

    @staticmethod
    def _unique_node(fdef, nodes: dict, base: str) -> str:
        used = set(nodes) | {a.name for a in fdef.signature.input_arg}
        name, i = base, 0
        while name in used:
            i += 1
            name = f"{base}_{i}"
        nodes[name] = None
        return name

    def _is_stateful(self, nd) -> bool:
        from graphcompat.framework import registry
        callee = self.by_name.get(nd.op)
        if callee is not None:
            return callee.signature.is_stateful
        op_def = registry.OP_DEFS.get(nd.op)
        return bool(op_def is not None and op_def.stateful)

    def _output_type(self, nd, out_arg: str, index: int):
        """The DataType enum of `nd`'s output `out_arg:index`, or None when unknown."""
        from graphcompat.framework import registry
        callee = self.by_name.get(nd.op)
        if callee is not None:
            for a in callee.signature.output_arg:
                if a.name == out_arg:
                    return a.type
            return None
        op_def = registry.OP_DEFS.get(nd.op)
        if op_def is None:
            return None
        for arg in op_def.outputs:
            if arg.name != out_arg:
                continue
            if arg.fixed_dtype is not None:
                return arg.fixed_dtype.as_datatype_enum
            if arg.type_list_attr:
                types = nd.attr[arg.type_list_attr].list.type if arg.type_list_attr in nd.attr else []
                return types[index] if index < len(types) else None
            if arg.type_attr and arg.type_attr in nd.attr:
                return nd.attr[arg.type_attr].type
            return None
        return None

    # --- While ------------------------------------------------------------------------------------
    def _while_gradient(self, wrapper_name: str, nd, types: list) -> str:
        body = self.by_name[nd.attr["body"].func.name]
        cond = self.by_name[nd.attr["cond"].func.name]
        n = len(types)
        body_args = [a.name for a in body.signature.input_arg]
        body_rets = [body.ret[a.name] for a in body.signature.output_arg]
        # Inputs the body changes are pushed each iteration; the others are loop invariants.
        pushed = [k for k in range(n) if body_rets[k] != body_args[k]]
        invariant = [k for k in range(n) if k not in pushed]
        loop_type = nd.op

        # Forward loop with accumulators: (*inputs, *accumulators) -> (*body results, *pushed lists).
        fc = _FunctionBuilder(self._new_name(f"{wrapper_name}_grad_forward_cond"))
        vals = [fc.arg(f"input_{k}", t) for k, t in enumerate(types)]
        for j in pushed:
            fc.arg(f"accumulator_{j}", _DT_VARIANT)
        call = fc.node(cond.signature.name, vals, name="cond")
        fc.result(_call_outputs(cond, call)[0], _DT_BOOL)
        self._add(fc)

        fb = _FunctionBuilder(self._new_name(f"{wrapper_name}_grad_forward_body"))
        vals = [fb.arg(f"input_{k}", t) for k, t in enumerate(types)]
        accs = [fb.arg(f"accumulator_{j}", _DT_VARIANT) for j in pushed]
        call = fb.node(body.signature.name, vals, name="body")
        for k, text in enumerate(_call_outputs(body, call)):
            fb.result(text, types[k])
        for j, acc in zip(pushed, accs):
            push = fb.node("TensorListPushBack", [acc, vals[j]], {"element_dtype": _type_attr(types[j])},
                           name=f"push_{j}")
            fb.result(f"{push}:output_handle:0", _DT_VARIANT)
        self._add(fb)

        # Backward loop: (i, n, *gradients, *accumulators, *invariants); one SymbolicGradient of the body
        # per iteration, on the inputs that iteration saw.
        bc = _FunctionBuilder(self._new_name(f"{wrapper_name}_grad_backward_cond"))
        i = bc.arg("iteration", _DT_INT32)
        count = bc.arg("iterations", _DT_INT32)
        for k, t in enumerate(types):
            bc.arg(f"grad_{k}", t)
        for j in pushed:
            bc.arg(f"accumulator_{j}", _DT_VARIANT)
        for k in invariant:
            bc.arg(f"input_{k}", types[k])
        less = bc.node("Less", [i, count], {"T": _type_attr(_DT_INT32)})
        bc.result(f"{less}:z:0", _DT_BOOL)
        self._add(bc)

        bb = _FunctionBuilder(self._new_name(f"{wrapper_name}_grad_backward_body"))
        i = bb.arg("iteration", _DT_INT32)
        count = bb.arg("iterations", _DT_INT32)
        grads = [bb.arg(f"grad_{k}", t) for k, t in enumerate(types)]
        accs = [bb.arg(f"accumulator_{j}", _DT_VARIANT) for j in pushed]
        invs = [bb.arg(f"input_{k}", types[k]) for k in invariant]
        unknown_shape = bb.const_int32(-1, "element_shape")
        inputs = dict(zip(invariant, invs))
        popped = []
        for j, acc in zip(pushed, accs):
            pop = bb.node("TensorListPopBack", [acc, unknown_shape], {"element_dtype": _type_attr(types[j])},
                          name=f"pop_{j}")
            inputs[j] = f"{pop}:tensor:0"
            popped.append(f"{pop}:output_handle:0")
        sg = bb.node("SymbolicGradient", [inputs[k] for k in range(n)] + grads,
                     {"Tin": _types_attr(types + types), "Tout": _types_attr(types),
                      "f": _func_attr(body.signature.name)}, name="body_grad")
        one = bb.const_int32(1, "one")
        nxt = bb.node("AddV2", [i, one], {"T": _type_attr(_DT_INT32)}, name="next_iteration")
        bb.result(f"{nxt}:z:0", _DT_INT32)
        bb.result(count, _DT_INT32)
        for k, t in enumerate(types):
            bb.result(f"{sg}:output:{k}", t)
        for text in popped:
            bb.result(text, _DT_VARIANT)
        for k, text in zip(invariant, invs):
            bb.result(text, types[k])
        self._add(bb)

        # The gradient function: (*inputs, *output gradients) -> *input gradients.
        g = _FunctionBuilder(self._new_name(f"{wrapper_name}_grad"))
        g.fdef.signature.is_stateful = loop_type == "While"
        xs = [g.arg(f"input_{k}", t) for k, t in enumerate(types)]
        dys = [g.arg(f"output_grad_{k}", t) for k, t in enumerate(types)]
        unknown_shape = g.const_int32(-1, "element_shape")
        no_limit = g.const_int32(-1, "max_num_elements")
        empties = []
        for j in pushed:
            empty = g.node("EmptyTensorList", [unknown_shape, no_limit],
                           {"element_dtype": _type_attr(types[j]), "shape_type": _type_attr(_DT_INT32)},
                           name=f"accumulator_{j}")
            empties.append(f"{empty}:handle:0")
        parallel = nd.attr["parallel_iterations"].i if "parallel_iterations" in nd.attr else 10
        fwd = g.node(loop_type, xs + empties,
                     {"T": _types_attr(types + [_DT_VARIANT] * len(pushed)), "cond": _func_attr(fc.fdef.signature.name),
                      "body": _func_attr(fb.fdef.signature.name), "parallel_iterations": _int_attr(parallel)},
                     name="forward")
        # The loop counter (input 0) counts the iterations the forward loop made.
        done = g.node("Sub", [f"{fwd}:output:0", xs[0]], {"T": _type_attr(_DT_INT32)}, name="iterations")
        zero = g.const_int32(0, "zero")
        bwd_types = [_DT_INT32, _DT_INT32] + types + [_DT_VARIANT] * len(pushed) + [types[k] for k in invariant]
        bwd = g.node(loop_type, [zero, f"{done}:z:0"] + dys + [f"{fwd}:output:{n + j}" for j in range(len(pushed))]
                     + [xs[k] for k in invariant],
                     {"T": _types_attr(bwd_types), "cond": _func_attr(bc.fdef.signature.name),
                      "body": _func_attr(bb.fdef.signature.name), "parallel_iterations": _int_attr(parallel)},
                     name="backward")
        for k, t in enumerate(types):
            g.result(f"{bwd}:output:{2 + k}", t)
        return self._add(g).signature.name

    # --- If ---------------------------------------------------------------------------------------
    def _branch_gradient(self, wrapper_name: str, nd, in_types: list, out_types: list) -> str:
        """If(pred, *args) / Case(index, *args) -> outs: the gradient is an If / Case on the same predicate
        or index whose branches are the SymbolicGradients of the forward branches; the predicate's
        (index's) gradient is zero."""
        arg_types = in_types[1:]
        if nd.op in _IF:
            keys = ["then_branch", "else_branch"]
            forward = {key: nd.attr[key].func.name for key in keys}
        else:
            keys = [f"branch_{k}" for k in range(len(nd.attr["branches"].list.func))]
            forward = {key: f.name for key, f in zip(keys, nd.attr["branches"].list.func)}
        branch_grads = {}
        for key in keys:
            branch = self.by_name[forward[key]]
            b = _FunctionBuilder(self._new_name(f"{wrapper_name}_grad_{key}"))
            xs = [b.arg(f"input_{k}", t) for k, t in enumerate(arg_types)]
            dys = [b.arg(f"output_grad_{k}", t) for k, t in enumerate(out_types)]
            sg = b.node("SymbolicGradient", xs + dys, {"Tin": _types_attr(arg_types + out_types),
                                                       "Tout": _types_attr(arg_types),
                                                       "f": _func_attr(branch.signature.name)}, name="branch_grad")
            for k, t in enumerate(arg_types):
                b.result(f"{sg}:output:{k}", t)
            branch_grads[key] = self._add(b).signature.name
        g = _FunctionBuilder(self._new_name(f"{wrapper_name}_grad"))
        g.fdef.signature.is_stateful = not nd.op.startswith("Stateless")
        pred = g.arg("pred", in_types[0])
        xs = [g.arg(f"input_{k}", t) for k, t in enumerate(arg_types)]
        dys = [g.arg(f"output_grad_{k}", t) for k, t in enumerate(out_types)]
        attrs = {"Tin": _types_attr(arg_types + out_types), "Tout": _types_attr(arg_types)}
        if nd.op in _IF:
            attrs.update(Tcond=_type_attr(in_types[0]), then_branch=_func_attr(branch_grads["then_branch"]),
                         else_branch=_func_attr(branch_grads["else_branch"]))
        else:
            attrs["branches"] = _funcs_attr([branch_grads[key] for key in keys])
        node = g.node(nd.op, [pred] + xs + dys, attrs, name="cond_grad")
        zero = g.node("ZerosLike", [pred], {"T": _type_attr(in_types[0])}, name="pred_grad")
        g.result(f"{zero}:y:0", in_types[0])
        for k, t in enumerate(arg_types):
            g.result(f"{node}:output:{k}", t)
        return self._add(g).signature.name


# DataType enums of the values TF's gradients flow along: floats, complex, and variants (TensorLists).
_DIFFERENTIABLE = {1, 2, 14, 19, 8, 18, 21}


def _non_differentiable(dtype) -> bool:
    return dtype is not None and dtype not in _DIFFERENTIABLE


_NOT_A_CONST = object()


def _const_value(fdef, text: str):
    """The scalar value of the Const node of `fdef` that `text` names; `_NOT_A_CONST` for an argument or
    another node."""
    from graphcompat.framework import graph_def as _gd
    name = text.split(":")[0]
    for nd in fdef.node_def:
        if nd.name == name and nd.op == "Const":
            value = _gd.tensor_proto_to_numpy(nd.attr["value"].tensor)
            return value.item() if value.size == 1 else _NOT_A_CONST
    return _NOT_A_CONST


def _node_types(nd) -> dict:
    """Input and output dtypes (DataType enums) of a While/If NodeDef, from its type attrs."""
    if nd.op in _WHILE:
        types = list(nd.attr["T"].list.type)
        return {"in": types, "out": types}
    cond_type = nd.attr["Tcond"].type if nd.op in _IF else _DT_INT32  # Case's branch_index is int32
    return {"in": [cond_type] + list(nd.attr["Tin"].list.type), "out": list(nd.attr["Tout"].list.type)}


# --- TensorList gradients (TF's list_ops.py, in TF ops) ---------------------------------------------------
def _element_shape(g: _FunctionBuilder, tensor: str, t: int) -> str:
    """Shape(tensor)[1:]: the element shape of the list a stacked tensor holds."""
    shape = g.node("Shape", [tensor], {"T": _type_attr(t), "out_type": _type_attr(_DT_INT32)}, name="shape")
    one = g.const_vector([1], "one")
    rest = g.node("StridedSlice", [f"{shape}:output:0", one, g.const_vector([0], "end"), one],
                  {"T": _type_attr(_DT_INT32), "Index": _type_attr(_DT_INT32), "begin_mask": _int_attr(0),
                   "end_mask": _int_attr(1), "ellipsis_mask": _int_attr(0), "new_axis_mask": _int_attr(0),
                   "shrink_axis_mask": _int_attr(0)}, name="element_shape")
    return f"{rest}:output:0"


def _zero_list(g: _FunctionBuilder, like: str, t: int) -> str:
    """A list as long as `like` whose elements are unset: a zero gradient TensorList AddN adds to."""
    shape = g.node("TensorListElementShape", [like], {"shape_type": _type_attr(_DT_INT32)}, name="list_shape")
    length = g.node("TensorListLength", [like], {}, name="list_length")
    out = g.node("TensorListReserve", [f"{shape}:element_shape:0", f"{length}:length:0"],
                 {"element_dtype": _type_attr(t), "shape_type": _type_attr(_DT_INT32)}, name="zero_list")
    return f"{out}:handle:0"


def _get_item_grad(g, xs, dys, nd):
    dy = dys[0]
    t = nd.attr["element_dtype"].type
    # item = l[i]: dl has dy at i (other elements unset)
    out = g.node("TensorListSetItem", [_zero_list(g, xs[0], t), xs[1], dy], {"element_dtype": _type_attr(t)},
                 name="list_grad")
    return [f"{out}:output_handle:0", None, None]


def _set_item_grad(g, xs, dys, nd):
    dy = dys[0]
    t = nd.attr["element_dtype"].type
    # out = l with out[i] = item: ditem = dout[i], dl = dout with a zero at i
    item = g.node("TensorListGetItem", [dy, xs[1], _element_shape_of_item(g, xs[2], t)],
                  {"element_dtype": _type_attr(t)}, name="item_grad")
    zero = g.node("ZerosLike", [xs[2]], {"T": _type_attr(t)}, name="zero_item")
    rest = g.node("TensorListSetItem", [dy, xs[1], f"{zero}:y:0"], {"element_dtype": _type_attr(t)},
                  name="list_grad")
    return [f"{rest}:output_handle:0", None, f"{item}:item:0"]


def _element_shape_of_item(g, item: str, t: int) -> str:
    shape = g.node("Shape", [item], {"T": _type_attr(t), "out_type": _type_attr(_DT_INT32)}, name="item_shape")
    return f"{shape}:output:0"


def _from_tensor_grad(g, xs, dys, nd):
    dy = dys[0]
    t = nd.attr["element_dtype"].type
    out = g.node("TensorListStack", [dy, _element_shape(g, xs[0], t)],
                 {"element_dtype": _type_attr(t), "num_elements": _int_attr(-1)}, name="tensor_grad")
    return [f"{out}:tensor:0", None]


def _stack_grad(g, xs, dys, nd):
    dy = dys[0]
    t = nd.attr["element_dtype"].type
    out = g.node("TensorListFromTensor", [dy, _element_shape(g, dy, t)],
                 {"element_dtype": _type_attr(t), "shape_type": _type_attr(_DT_INT32)}, name="list_grad")
    return [f"{out}:output_handle:0", None]


def _gather_grad(g, xs, dys, nd):
    dy = dys[0]
    t = nd.attr["element_dtype"].type
    out = g.node("TensorListScatterIntoExistingList", [_zero_list(g, xs[0], t), dy, xs[1]],
                 {"element_dtype": _type_attr(t)}, name="list_grad")
    return [f"{out}:output_handle:0", None, None]


def _scatter_grad(g, xs, dys, nd):
    dy = dys[0]
    t = nd.attr["element_dtype"].type
    values = g.node("TensorListGather", [dy, xs[2], _element_shape(g, xs[1], t)],
                    {"element_dtype": _type_attr(t)}, name="tensor_grad")
    zero = g.node("ZerosLike", [xs[1]], {"T": _type_attr(t)}, name="zero_tensor")
    rest = g.node("TensorListScatterIntoExistingList", [dy, f"{zero}:y:0", xs[2]],
                  {"element_dtype": _type_attr(t)}, name="list_grad")
    return [f"{rest}:output_handle:0", f"{values}:values:0", None]


def _no_grad(g, xs, dys, nd):
    return [None] * len(xs)


def _reverse_sequence_grad(g, xs, dys, nd):
    dy = dys[0]
    # the reversal of each sequence's first seq_lengths entries is its own inverse
    out = g.node("ReverseSequence", [dy, xs[1]], {k: nd.attr[k] for k in ("T", "Tlen", "seq_dim", "batch_dim")},
                 name="input_grad")
    return [f"{out}:output:0", None]


def _stitch_grad(g, xs, dys, nd):
    # TF's _DynamicStitchGrads: each data input gets the gradient rows of its indices (a later index that
    # overwrote a slot does not take its gradient away); the indices get none
    n = nd.attr["N"].i
    rows = [g.node("Gather", [dys[0], xs[k]], {"Tparams": nd.attr["T"], "Tindices": _type_attr(_DT_INT32),
                                               "validate_indices": _bool_attr(True)}, name=f"data_{k}_grad")
            for k in range(n)]
    return [None] * n + [f"{r}:output:0" for r in rows]


def _split_grad(g, xs, dys, nd):
    # the pieces' gradients concatenated, each piece as long as it was
    t = nd.attr["element_dtype"].type
    rest = _element_shape(g, xs[0], t)
    piece_shape = g.node("ConcatV2", [g.const_vector([-1], "any_length"), rest,
                                      g.const_int32(0, "axis")],
                         {"N": _int_attr(2), "T": _type_attr(_DT_INT32), "Tidx": _type_attr(_DT_INT32)},
                         name="piece_shape")
    out = g.node("TensorListConcatV2", [dys[0], f"{piece_shape}:output:0", xs[2]],
                 {"element_dtype": _type_attr(t), "shape_type": _type_attr(_DT_INT32)}, name="tensor_grad")
    return [f"{out}:tensor:0", None, None]


def _concat_grad(g, xs, dys, nd):
    # the concatenation's gradient split back into the pieces (the lengths the concatenation returned)
    t = nd.attr["element_dtype"].type
    again = g.node("TensorListConcatV2", xs, {"element_dtype": _type_attr(t), "shape_type": _type_attr(_DT_INT32)},
                   name="lengths")
    shape = g.node("TensorListElementShape", [xs[0]], {"shape_type": _type_attr(_DT_INT32)}, name="list_shape")
    out = g.node("TensorListSplit", [dys[0], f"{shape}:element_shape:0", f"{again}:lengths:0"],
                 {"element_dtype": _type_attr(t), "shape_type": _type_attr(_DT_INT32)}, name="list_grad")
    return [f"{out}:output_handle:0", None, None]



# --- TF's fused RNN kernels (graphcompat/ops/rnn_ops.py) ----------------------------------------------
# TF registers their gradients in Python only (rnn_grad.py, tf.contrib.rnn's lstm_ops.py / gru_ops.py), so
# its C++ SymbolicGradient knows none: through a loop body it fails ("No gradient defined for op:
# LSTMBlockCell"), and at the top level TF's function inlining drops the gradient (zeros). The gradient
# functions below are those Python gradients in TF ops. The gradient kernels need the forward outputs, which
# a GradientDef does not receive: they run the (deterministic) kernel again on the same inputs.
def _rerun_forward(g, xs, nd) -> str:
    return g.node(nd.op, xs, {k: v for k, v in nd.attr.items()}, name="forward")


def _lstm_block_cell_grad(g, xs, dys, nd):
    """tf.contrib.rnn's `_LSTMBlockCellGrad`: LSTMBlockCellGrad gives the gates' gradient (dicfo) from those of
    cs and h; x and h_prev get theirs from `dicfo * w^T` (sliced at x's width), w from `[x, h_prev]^T * dicfo`,
    b from BiasAddGrad."""
    x, cs_prev, h_prev, w = xs[:4]
    t = nd.attr["T"].type
    fwd = _rerun_forward(g, xs, nd)
    cell = g.node("LSTMBlockCellGrad", list(xs) + [f"{fwd}:{name}:0" for name in ("i", "cs", "f", "o", "ci", "co")]
                  + [dys[1], dys[6]], {"T": _type_attr(t), "use_peephole": nd.attr["use_peephole"]},
                  name="cell_grad")
    dicfo = f"{cell}:dicfo:0"
    xh_grad = g.node("MatMul", [dicfo, w], _matmul_attrs(t, transpose_b=True), name="xh_grad")
    input_size = _dim_vector(g, x, t, 1, "input_size")
    x_size = g.node("ConcatV2", [g.const_vector([-1], "all_rows"), input_size, g.const_int32(0, "axis")],
                    {"N": _int_attr(2), "T": _type_attr(_DT_INT32), "Tidx": _type_attr(_DT_INT32)}, name="x_size")
    h_begin = g.node("ConcatV2", [g.const_vector([0], "first_row"), input_size, g.const_int32(0, "axis")],
                     {"N": _int_attr(2), "T": _type_attr(_DT_INT32), "Tidx": _type_attr(_DT_INT32)},
                     name="h_prev_begin")
    slice_attrs = {"T": _type_attr(t), "Index": _type_attr(_DT_INT32)}
    x_grad = g.node("Slice", [f"{xh_grad}:product:0", g.const_vector([0, 0], "origin"), f"{x_size}:output:0"],
                    slice_attrs, name="x_grad")
    h_prev_grad = g.node("Slice", [f"{xh_grad}:product:0", f"{h_begin}:output:0", g.const_vector([-1, -1], "rest")],
                         slice_attrs, name="h_prev_grad")
    xh = _concat_columns(g, [x, h_prev], t, "xh")
    w_grad = g.node("MatMul", [xh, dicfo], _matmul_attrs(t, transpose_a=True), name="w_grad")
    b_grad = _bias_add_grad(g, dicfo, t, "b_grad")
    return [f"{x_grad}:output:0", f"{cell}:cs_prev_grad:0", f"{h_prev_grad}:output:0", f"{w_grad}:product:0",
            f"{cell}:wci_grad:0", f"{cell}:wcf_grad:0", f"{cell}:wco_grad:0", b_grad]


def _block_lstm_grad(g, xs, dys, nd):
    """rnn_grad.py's `_block_lstm_grad`, registered for BlockLSTM and BlockLSTMV2 alike: BlockLSTMGrad (for V2
    too, TF's numbers: its kernel assumes BlockLSTM's gate order) from the gradients of cs and h; none for
    seq_len_max."""
    fwd = _rerun_forward(g, xs, nd)
    grad = g.node("BlockLSTMGrad", list(xs) + [f"{fwd}:{name}:0" for name in ("i", "cs", "f", "o", "ci", "co", "h")]
                  + [dys[1], dys[6]], {"T": nd.attr["T"], "use_peephole": nd.attr["use_peephole"]}, name="grad")
    return [None] + [f"{grad}:{name}:0" for name in ("x_grad", "cs_prev_grad", "h_prev_grad", "w_grad",
                                                     "wci_grad", "wcf_grad", "wco_grad", "b_grad")]


def _gru_block_cell_grad(g, xs, dys, nd):
    """tf.contrib.rnn's `_GRUBlockCellGrad`: GRUBlockCellGrad gives d_x, d_h_prev and the gates' gradients from
    h's; the weights' come from matmuls with `[x, h_prev]` and `[x, h_prev * r]`, the biases' from BiasAddGrad."""
    x, h_prev = xs[:2]
    t = nd.attr["T"].type
    fwd = _rerun_forward(g, xs, nd)
    cell = g.node("GRUBlockCellGrad", list(xs) + [f"{fwd}:{name}:0" for name in ("r", "u", "c")] + [dys[3]],
                  {"T": _type_attr(t)}, name="cell_grad")
    d_c_bar, d_r_bar_u_bar = f"{cell}:d_c_bar:0", f"{cell}:d_r_bar_u_bar:0"
    d_w_ru = g.node("MatMul", [_concat_columns(g, [x, h_prev], t, "x_h_prev"), d_r_bar_u_bar],
                    _matmul_attrs(t, transpose_a=True), name="w_ru_grad")
    h_prev_r = g.node("Mul", [h_prev, f"{fwd}:r:0"], {"T": _type_attr(t)}, name="h_prev_r")
    d_w_c = g.node("MatMul", [_concat_columns(g, [x, f"{h_prev_r}:z:0"], t, "x_h_prev_r"), d_c_bar],
                   _matmul_attrs(t, transpose_a=True), name="w_c_grad")
    return [f"{cell}:d_x:0", f"{cell}:d_h_prev:0", f"{d_w_ru}:product:0", f"{d_w_c}:product:0",
            _bias_add_grad(g, d_r_bar_u_bar, t, "b_ru_grad"), _bias_add_grad(g, d_c_bar, t, "b_c_grad")]



# --- fake quantization (graphcompat/ops/quantization_ops.py, quantized_ops.py) ------------------------
# TF's gradients of these are dedicated kernels registered in Python (array_grad.py), unknown to its C++
# SymbolicGradient as well.
def _fake_quant_grad(grad_type: str, attr_names: tuple, outputs: tuple):
    def gradient(g, xs, dys, nd):
        grad = g.node(grad_type, [dys[0]] + list(xs), {k: nd.attr[k] for k in attr_names if k in nd.attr},
                      name="grad")
        return [f"{grad}:{name}:0" for name in outputs]
    return gradient

def _matmul_attrs(t: int, transpose_a: bool = False, transpose_b: bool = False) -> dict:
    return {"T": _type_attr(t), "transpose_a": _bool_attr(transpose_a), "transpose_b": _bool_attr(transpose_b)}


def _bias_add_grad(g, out_backprop: str, t: int, name: str) -> str:
    """nn_ops.bias_add_grad (NHWC): the sum over every axis but the last."""
    from tensorboard.compat.proto import attr_value_pb2
    node = g.node("BiasAddGrad", [out_backprop], {"T": _type_attr(t), "data_format": attr_value_pb2.AttrValue(
        s=b"NHWC")}, name=name)
    return f"{node}:output:0"


def _concat_columns(g, tensors: list, t: int, name: str) -> str:
    node = g.node("ConcatV2", tensors + [g.const_int32(1, f"{name}_axis")],
                  {"N": _int_attr(len(tensors)), "T": _type_attr(t), "Tidx": _type_attr(_DT_INT32)}, name=name)
    return f"{node}:output:0"


def _dim_vector(g, tensor: str, t: int, dim: int, name: str) -> str:
    """Shape(tensor)[dim:dim + 1], a 1-element int32 vector."""
    shape = g.node("Shape", [tensor], {"T": _type_attr(t), "out_type": _type_attr(_DT_INT32)}, name=f"{name}_shape")
    node = g.node("StridedSlice", [f"{shape}:output:0", g.const_vector([dim], f"{name}_begin"),
                                   g.const_vector([dim + 1], f"{name}_end"), g.const_vector([1], f"{name}_stride")],
                  {"T": _type_attr(_DT_INT32), "Index": _type_attr(_DT_INT32), "begin_mask": _int_attr(0),
                   "end_mask": _int_attr(0), "ellipsis_mask": _int_attr(0), "new_axis_mask": _int_attr(0),
                   "shrink_axis_mask": _int_attr(0)}, name=name)
    return f"{node}:output:0"


# op -> (its inputs' dtypes, its outputs' (name, dtype), gradient builder); a dtype is a DataType enum or the
# name of the type attr holding it
_LIST, _INT32, _INT64 = _DT_VARIANT, _DT_INT32, 9
_FLOAT = 1
_FAKE_QUANT_VARS_GRADS = ("backprops_wrt_input", "backprop_wrt_min", "backprop_wrt_max")
_LSTM_OUTPUTS = ("i", "cs", "f", "o", "ci", "co", "h")
_OP_GRADIENTS = {
    "TensorListGetItem": ((_LIST, _INT32, _INT32), (("item", "element_dtype"),), _get_item_grad),
    "TensorListSetItem": ((_LIST, _INT32, "element_dtype"), (("output_handle", _LIST),), _set_item_grad),
    "TensorListFromTensor": (("element_dtype", "shape_type"), (("output_handle", _LIST),), _from_tensor_grad),
    "TensorListStack": ((_LIST, _INT32), (("tensor", "element_dtype"),), _stack_grad),
    "TensorListGather": ((_LIST, _INT32, _INT32), (("values", "element_dtype"),), _gather_grad),
    "TensorListScatterIntoExistingList": ((_LIST, "element_dtype", _INT32), (("output_handle", _LIST),),
                                          _scatter_grad),
    "TensorListSplit": (("element_dtype", "shape_type", _INT64), (("output_handle", _LIST),), _split_grad),
    "TensorListConcatV2": ((_LIST, "shape_type", _INT64), (("tensor", "element_dtype"), ("lengths", _INT64)),
                           _concat_grad),
    "TensorListLength": ((_LIST,), (("length", _INT32),), _no_grad),
    "TensorListElementShape": ((_LIST,), (("element_shape", "shape_type"),), _no_grad),
    "ReverseSequence": (("T", "Tlen"), (("output", "T"),), _reverse_sequence_grad),
    # a partitioned tf.nn.embedding_lookup's stitch of the parts' rows
    "ParallelDynamicStitch": (lambda nd: (_INT32,) * nd.attr["N"].i + ("T",) * nd.attr["N"].i, (("merged", "T"),),
                              _stitch_grad),
    "DynamicStitch": (lambda nd: (_INT32,) * nd.attr["N"].i + ("T",) * nd.attr["N"].i, (("merged", "T"),),
                      _stitch_grad),
    # TF's fused RNN kernels
    "LSTMBlockCell": (("T",) * 8, tuple((name, "T") for name in _LSTM_OUTPUTS), _lstm_block_cell_grad),
    "BlockLSTM": ((_INT64,) + ("T",) * 8, tuple((name, "T") for name in _LSTM_OUTPUTS), _block_lstm_grad),
    "BlockLSTMV2": ((_INT64,) + ("T",) * 8, tuple((name, "T") for name in _LSTM_OUTPUTS), _block_lstm_grad),
    "GRUBlockCell": (("T",) * 6, tuple((name, "T") for name in ("r", "u", "c", "h")), _gru_block_cell_grad),
    # fake quantization
    "FakeQuantWithMinMaxArgs": ((_FLOAT,), (("outputs", _FLOAT),), _fake_quant_grad(
        "FakeQuantWithMinMaxArgsGradient", ("min", "max", "num_bits", "narrow_range"), ("backprops",))),
    "FakeQuantWithMinMaxVars": ((_FLOAT,) * 3, (("outputs", _FLOAT),), _fake_quant_grad(
        "FakeQuantWithMinMaxVarsGradient", ("num_bits", "narrow_range"), _FAKE_QUANT_VARS_GRADS)),
    "FakeQuantWithMinMaxVarsPerChannel": ((_FLOAT,) * 3, (("outputs", _FLOAT),), _fake_quant_grad(
        "FakeQuantWithMinMaxVarsPerChannelGradient", ("num_bits", "narrow_range"), _FAKE_QUANT_VARS_GRADS)),
    "QuantizeAndDequantizeV4": (("T",) * 3, (("output", "T"),), _fake_quant_grad(
        "QuantizeAndDequantizeV4Grad", ("T", "axis"), ("input_backprop", "input_min_backprop",
                                                       "input_max_backprop"))),
}
