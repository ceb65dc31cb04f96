"""Value semantics for the forward functions of exported gradients: TensorArrays as TensorLists, resource
variables as their values (TF's while_v2 gradients in FunctionDef form).

TF runs an exported `SymbolicGradient` by running its forward function `f` again and differentiating it
with its C++ function gradients (framework/control_flow_gradients.py adds the GradientDefs they lack). Two
kinds of state break that when `f` reaches a loop over TensorArrays (`dynamic_rnn`, `map_fn`, `scan`) or a
loop reading a resource variable:

* a TensorArray is a resource that the forward pass already filled and read: running `f` again reads
  elements `clear_after_read` removed and writes indices that were written; TF's C++ gradients know no
  TensorArray op, and SymbolicGradient reads a resource argument as a variable to make its zero gradient;
* a resource variable read inside a loop body (a cell's kernel under `use_resource=True`) reaches the
  gradient only through its handle, and TF has no gradient for a handle.

TF2's while_v2 avoids both: loops carry TensorLists (values) and capture variables' values. So, in the
exported GraphDef only (graphcompat's own graph and runs are unchanged), each gradient's forward function
gets a copy in which

* every TensorArray becomes a TensorList: the array's flow (the float that orders its ops) is the list,
  `TensorArrayV3` → `TensorListReserve`, Read/Write/Gather/Scatter/Split/Concat/Size → `TensorListGetItem`
  / `SetItem` / `Gather` / `ScatterIntoExistingList` / `Split` / `ConcatV2` / `Length`, Close → `NoOp`;
  its handle becomes a float scalar nobody reads (a loop still carries it in the same place). The
  TensorArray ops that filled an array before the gradient's forward ops (its creation, the unstack of a
  sequence, a loop the gradient does not cross) are copied into the function as TensorList ops on the same
  top-level inputs, which become extra arguments of `f` (the SymbolicGradient gets them as extra inputs,
  before its dys, and extra outputs, after the others);
* every resource variable argument becomes the variable's value: the SymbolicGradient reads it (a new
  top-level `ReadVariableOp`), and inside `f` and its bodies `ReadVariableOp` becomes `Identity` and
  `ResourceGather` becomes `GatherV2`, so the gradient of that argument is the variable's gradient.

Loop and cond bodies that carry or create TensorArrays or read such variables are copied the same way
(`<name>_values`), the originals stay for the top-level ops that use them. The TensorList ops' gradients
are GradientDefs written by control_flow_gradients.py. Anything else done to a TensorArray or a variable
handle inside a differentiated function raises NotImplementedError naming it, at export.
"""
from __future__ import annotations

import re

from graphcompat.framework.function_library import new_function_name
from typing import Optional

_DT_FLOAT = 1
_DT_INT32 = 3
_DT_RESOURCE = 20
_DT_VARIANT = 21
_WHILE = ("While", "StatelessWhile")
_IF = ("If", "StatelessIf")
_CASE = ("Case", "StatelessCase")
TA_HANDLE = "tensor_array_handle"
TA_LIST = "tensor_array_list"
# A dynamic_size TensorArray's list: its writes may grow it (resize_if_index_out_of_bounds).
TA_GROWING = "tensor_array_growing_list"
_LISTS = (TA_LIST, TA_GROWING)


def _var(dtype: int) -> tuple:
    return ("variable", dtype)


def _type_of_kind(kind, default: int) -> int:
    if kind == TA_HANDLE:
        return _DT_FLOAT
    if kind in _LISTS:
        return _DT_VARIANT
    if isinstance(kind, tuple):
        return kind[1]
    return default


def _attr(**kw):
    from tensorboard.compat.proto import attr_value_pb2
    return attr_value_pb2.AttrValue(**kw)


def _int32_const(value) -> dict:
    import numpy as np

    from graphcompat.framework import dtypes as _dt
    from graphcompat.framework import graph_def as _gd
    return {"dtype": _gd.attr_value(_dt.int32), "value": _gd.attr_value(np.asarray(value, np.int32))}


def _int64_vector(values) -> dict:
    import numpy as np

    from graphcompat.framework import dtypes as _dt
    from graphcompat.framework import graph_def as _gd
    return {"dtype": _gd.attr_value(_dt.int64), "value": _gd.attr_value(np.asarray(values, np.int64))}


def _shape_value(shape_proto):
    """A TensorShapeProto as TensorList's element_shape input: -1 for an unknown rank, else the dims (-1
    unknown)."""
    if shape_proto.unknown_rank:
        return -1
    return [d.size for d in shape_proto.dim]


def _uses_tensor_arrays_or_handles(fdef) -> bool:
    return any(nd.op.startswith("TensorArray") for nd in fdef.node_def) or any(
        a.type == _DT_RESOURCE for a in fdef.signature.input_arg)


class _Converter:
    def __init__(self, nodes, lib, graph):
        self.nodes = nodes
        self.node_by_name = {nd.name: nd for nd in nodes}
        self.lib = lib
        self.graph = graph
        self.by_name = {f.signature.name: f for f in lib.function}
        self.memo: dict = {}

    # --- which functions need a copy ---------------------------------------------------------------
    def _needs_copy(self, name: str, seen: frozenset = frozenset()) -> bool:
        from graphcompat.framework.control_flow_gradients import _callees
        fdef = self.by_name.get(name)
        if fdef is None or name in seen:
            return False
        if _uses_tensor_arrays_or_handles(fdef):
            return True
        return any(self._needs_copy(c, seen | {name}) for nd in fdef.node_def for c in _callees(nd))

    def _new_name(self, base: str) -> str:
        return new_function_name(self.by_name, base)

    # --- top level ----------------------------------------------------------------------------------
    def _top_kind(self, text: str):
        """The kind of a top-level tensor (`node` / `node:k`): TA_HANDLE, TA_LIST (a TensorArray's flow),
        a resource variable handle, or None."""
        name, _, index = text.partition(":")
        index = int(index or 0)
        nd = self.node_by_name.get(name)
        if nd is None:
            return None
        if nd.op == "TensorArrayV3":
            return TA_HANDLE if index == 0 else _list_kind(nd)
        if nd.op in ("TensorArrayWriteV3", "TensorArrayScatterV3", "TensorArraySplitV3"):
            array = self._tensor_array_of(nd.input[0])
            return self._top_kind(f"{array}:1") if array is not None else None
        if nd.op == "VarHandleOp":
            return _var(nd.attr["dtype"].type)
        if nd.op == "Identity":
            return self._top_kind(nd.input[0])
        if nd.op in _WHILE:
            return self._top_kind(nd.input[index])
        return None

    def _tensor_array_of(self, text: str) -> str:
        """The TensorArrayV3 node whose handle top-level tensor `text` is, or None."""
        name, _, index = text.partition(":")
        nd = self.node_by_name.get(name)
        if nd is not None and nd.op == "Identity":
            return self._tensor_array_of(nd.input[0])
        if nd is not None and nd.op in _WHILE:
            return self._tensor_array_of(nd.input[int(index or 0)])
        return name if nd is not None and nd.op == "TensorArrayV3" else None

    def convert_gradient(self, sg) -> Optional[str]:
        """Rewrites SymbolicGradient node `sg` to differentiate a value-semantics copy of its `f`; returns
        the copy's name (None when `f` needs none)."""
        fdef = self.by_name.get(sg.attr["f"].func.name)
        if fdef is None:
            return None
        n_args = len(fdef.signature.input_arg)
        kinds = [self._top_kind(t) for t in sg.input[:n_args]]
        if not any(kinds) and not self._needs_copy(fdef.signature.name):
            return None
        pulled = _Pulled(self, sg, fdef)
        arg_kinds = {}
        for k, (arg, kind) in enumerate(zip(fdef.signature.input_arg, kinds)):
            if kind in _LISTS:
                arg_kinds[arg.name] = (pulled.list_for(sg.input[k]), kind)
            elif kind == TA_HANDLE:
                # The argument stays (the SymbolicGradient keeps its arity), as the array's flow: a float
                # whose zero gradient TF can make (it would read a resource argument as a variable).
                sg.input[k] = f"{self._tensor_array_of(sg.input[k])}:1"
                arg_kinds[arg.name] = (arg.name, TA_HANDLE)
            elif isinstance(kind, tuple):
                sg.input[k] = self._top_level_read(sg.input[k], kind[1], sg.name)
                arg_kinds[arg.name] = (arg.name, kind)
        name = self._new_name(f"{fdef.signature.name}_values")
        new = self.convert(fdef, name, arg_kinds, preamble=pulled.nodes, extra_args=pulled.args)[0]
        # The SymbolicGradient: new argument types, the pulled inputs before the dys, their gradients last.
        tin = list(sg.attr["Tin"].list.type)
        tout = list(sg.attr["Tout"].list.type)
        for k, arg in enumerate(new.signature.input_arg[:n_args]):
            tin[k] = arg.type
            tout[k] = arg.type
        extra_types = [arg.type for arg in new.signature.input_arg[n_args:]]
        data = [t for t in sg.input if not t.startswith("^")]
        controls = [t for t in sg.input if t.startswith("^")]
        del sg.input[:]
        sg.input.extend(data[:n_args] + pulled.inputs + data[n_args:] + controls)
        sg.attr["Tin"].list.ClearField("type")
        sg.attr["Tin"].list.type.extend(tin[:n_args] + extra_types + tin[n_args:])
        sg.attr["Tout"].list.ClearField("type")
        sg.attr["Tout"].list.type.extend(tout + extra_types)
        sg.attr["f"].func.name = name
        if "_output_shapes" in sg.attr:
            for _ in extra_types:
                sg.attr["_output_shapes"].list.shape.add().unknown_rank = True
        return name

    def _top_level_read(self, handle_text: str, dtype: int, near: str) -> str:
        """A new top-level ReadVariableOp of the handle (the value the SymbolicGradient differentiates)."""
        from tensorboard.compat.proto import node_def_pb2
        base = f"{near}/{handle_text.partition(':')[0]}/value"
        name, i = base, 0
        while name in self.node_by_name:
            i += 1
            name = f"{base}_{i}"
        nd = node_def_pb2.NodeDef(name=name, op="ReadVariableOp")
        nd.input.append(handle_text)
        nd.attr["dtype"].type = dtype
        src = self.node_by_name[handle_text.partition(":")[0]]
        if src.device:
            nd.device = src.device
        self.nodes.add().CopyFrom(nd)
        self.node_by_name[name] = self.nodes[len(self.nodes) - 1]
        return name

    # --- functions ------------------------------------------------------------------------------------
    def convert(self, fdef, new_name: str, arg_kinds: dict, preamble=(), extra_args=()):
        """A copy of `fdef` named `new_name` in which the arguments in `arg_kinds` ({arg: (text, kind)}:
        the value the function reads for it and its kind) have value semantics. Returns (the copy, the kind
        of each result)."""
        from tensorboard.compat.proto import function_pb2
        new = function_pb2.FunctionDef()
        new.CopyFrom(fdef)
        new.signature.name = new_name
        for arg in new.signature.input_arg:
            if arg.name in arg_kinds and arg_kinds[arg.name][0] == arg.name:  # (not a flow replaced by its list)
                arg.type = _type_of_kind(arg_kinds[arg.name][1], arg.type)
        for arg_name, dtype in extra_args:
            a = new.signature.input_arg.add()
            a.name = arg_name
            a.type = dtype
        self.by_name[new_name] = new
        body = _BodyRewriter(self, new, {a: text for a, (text, _) in arg_kinds.items()},
                             {text: kind for text, kind in arg_kinds.values()})
        body.run(list(preamble))
        out_kinds = []
        for arg in new.signature.output_arg:
            text = body.mapped(new.ret[arg.name])
            new.ret[arg.name] = text
            kind = body.kind.get(text)
            arg.type = _type_of_kind(kind, arg.type)
            out_kinds.append(kind)
        self.lib.function.add().CopyFrom(new)
        stored = self.lib.function[len(self.lib.function) - 1]
        self.by_name[new_name] = stored
        return stored, out_kinds

    def convert_callee(self, name: str, kinds: list):
        """The copy of function `name` whose arguments have `kinds` (memoized), and its results' kinds."""
        key = (name, tuple(kinds))
        if key in self.memo:
            return self.memo[key]
        fdef = self.by_name[name]
        if not any(kinds) and not self._needs_copy(name):
            result = (name, [None] * len(fdef.signature.output_arg))
        else:
            arg_kinds = {a.name: (a.name, k) for a, k in zip(fdef.signature.input_arg, kinds) if k}
            new, out_kinds = self.convert(fdef, self._new_name(f"{name}_values"), arg_kinds)
            result = (new.signature.name, out_kinds)
        self.memo[key] = result
        return result


class _Pulled:
    """The top-level TensorArray ops that filled an array before a gradient's forward function, as
    TensorList nodes for the function's copy; their other inputs become new arguments."""

    def __init__(self, conv: _Converter, sg, fdef):
        self.conv = conv
        self.sg_name = sg.name
        self.nodes: list = []
        self.args: list = []     # (arg name, dtype) appended to f's signature
        self.inputs: list = []   # the top-level tensors the SymbolicGradient passes for them
        self.used = {a.name for a in fdef.signature.input_arg} | {nd.name for nd in fdef.node_def}
        n_args = len(fdef.signature.input_arg)
        self.existing = {}
        for arg, text in zip(fdef.signature.input_arg, sg.input[:n_args]):
            self.existing.setdefault(_norm(text), arg.name)
        self.memo: dict = {}

    def _unique(self, base: str) -> str:
        from graphcompat.framework.function_library import unique_name
        return unique_name(self.used, re.sub(r"[^A-Za-z0-9_./-]", "_", base))

    def _arg(self, text: str, dtype: Optional[int] = None) -> str:
        """The argument of the function's copy that carries top-level tensor `text` (of DataType `dtype`;
        by default the graph's tensor's)."""
        key = _norm(text)
        if key in self.existing:
            return self.existing[key]
        from graphcompat.framework.function_library import _arg_name
        name = _arg_name(key.partition(":")[0].rpartition("/")[2], self.used)
        if dtype is None:
            dtype = self.conv.graph.get_tensor_by_name(key).dtype.base_dtype.as_datatype_enum
        self.args.append((name, dtype))
        self.inputs.append(text)
        self.existing[key] = name
        return name

    def _node(self, op: str, inputs: list, attrs: dict, base: str) -> str:
        from tensorboard.compat.proto import node_def_pb2
        nd = node_def_pb2.NodeDef(name=self._unique(base), op=op)
        nd.input.extend(inputs)
        for key, value in attrs.items():
            nd.attr[key].CopyFrom(value)
        self.nodes.append(nd)
        return nd.name

    def list_for(self, text: str) -> str:
        """The TensorList (function-internal text) holding what top-level TensorArray flow `text` orders."""
        key = _norm(text)
        if key in self.memo:
            return self.memo[key]
        name, _, index = key.partition(":")
        nd = self.conv.node_by_name[name]
        if nd.op == "TensorArrayV3" and index == "1":
            shape = self._node("Const", [], _int32_const(_shape_value(nd.attr["element_shape"].shape)),
                               f"{name}/element_shape")
            out = self._node("TensorListReserve", [f"{shape}:output:0", self._arg(nd.input[0])],
                             {"element_dtype": nd.attr["dtype"], "shape_type": _attr(type=_DT_INT32)}, name)
            result = f"{out}:handle:0"
        elif nd.op == "TensorArrayScatterV3":
            out = self._node("TensorListScatterIntoExistingList",
                             [self.list_for(nd.input[3]), self._arg(nd.input[2]), self._arg(nd.input[1])],
                             {"element_dtype": nd.attr["T"]}, name)
            result = f"{out}:output_handle:0"
        elif nd.op == "TensorArrayWriteV3":
            out = self._node("TensorListSetItem",
                             [self.list_for(nd.input[3]), self._arg(nd.input[1]), self._arg(nd.input[2])],
                             {"element_dtype": nd.attr["T"],
                              "resize_if_index_out_of_bounds": _attr(b=self.conv._top_kind(nd.input[3]) == TA_GROWING)},
                             name)
            result = f"{out}:output_handle:0"
        elif nd.op == "TensorArraySplitV3":
            self.list_for(nd.input[3])  # (only checks that the array is one it can follow)
            shape = self._node("Const", [], _int32_const(-1), f"{name}/element_shape")
            out = self._node("TensorListSplit", [self._arg(nd.input[1]), f"{shape}:output:0", self._arg(nd.input[2])],
                             {"element_dtype": nd.attr["T"], "shape_type": _attr(type=_DT_INT32)}, name)
            result = f"{out}:output_handle:0"
        elif nd.op == "Identity":
            result = self.list_for(nd.input[0])
        elif nd.op in _WHILE:  # a loop that filled the array (one the gradient does not cross): copied too
            result = f"{self._loop(nd)}:output:{int(index)}"
        else:
            raise NotImplementedError(
                f"graphcompat cannot export TF's gradient through a TensorArray that {nd.op} '{name}' fills "
                "outside the differentiated ops (tf.TensorArray as a value of a tf.gradients forward function)")
        self.memo[key] = result
        return result

    def _loop(self, nd) -> str:
        """A copy of top-level While `nd` in the function, its TensorArrays as lists."""
        key = ("loop", nd.name)
        if key in self.memo:
            return self.memo[key]
        data = [t for t in nd.input if not t.startswith("^")]
        kinds = [self.conv._top_kind(t) for t in data]
        inputs = []
        for text, kind in zip(data, kinds):
            if kind in _LISTS:
                inputs.append(self.list_for(text))
            elif kind == TA_HANDLE:
                inputs.append(self._dummy())
            elif isinstance(kind, tuple):  # a variable the loop reads: its value, read next to the gradient
                inputs.append(self._arg(self.conv._top_level_read(text, kind[1], self.sg_name), kind[1]))
            else:
                inputs.append(self._arg(text))
        cond = self.conv.convert_callee(nd.attr["cond"].func.name, kinds)[0]
        body, out_kinds = self.conv.convert_callee(nd.attr["body"].func.name, kinds)
        if list(out_kinds) != kinds:
            raise NotImplementedError(f"graphcompat cannot export TF's gradient through While '{nd.name}': its "
                                      "body changes which loop variables are TensorArrays")
        attrs = {k: v for k, v in nd.attr.items() if k != "_output_shapes"}
        attrs["T"] = _attr()
        attrs["T"].list.type.extend(_type_of_kind(k, t) for k, t in zip(kinds, nd.attr["T"].list.type))
        attrs["cond"] = _attr()
        attrs["cond"].func.name = cond
        attrs["body"] = _attr()
        attrs["body"].func.name = body
        name = self._node(nd.op, inputs, attrs, nd.name)
        self.memo[key] = name
        return name

    def _dummy(self) -> str:
        """The float scalar standing for a TensorArray's handle (carried, never read)."""
        import numpy as np

        from graphcompat.framework import dtypes as _dt
        from graphcompat.framework import graph_def as _gd
        if "dummy" not in self.memo:
            value = {"dtype": _gd.attr_value(_dt.float32), "value": _gd.attr_value(np.asarray(0.0, np.float32))}
            name = self._node("Const", [], value, "tensor_array_handle")
            self.memo["dummy"] = f"{name}:output:0"
        return self.memo["dummy"]


def _list_kind(tensor_array) -> str:
    """The kind of the list a TensorArrayV3 NodeDef becomes."""
    return TA_GROWING if tensor_array.attr["dynamic_size"].b else TA_LIST


def _norm(text: str) -> str:
    return text if ":" in text else f"{text}:0"


class _BodyRewriter:
    """Rewrites the nodes of one FunctionDef copy in place (module docstring)."""

    def __init__(self, conv: _Converter, fdef, renamed: dict, kinds: dict):
        self.conv = conv
        self.fdef = fdef
        self.renamed = dict(renamed)   # old reference text -> new text
        self.kind = dict(kinds)        # new text -> kind
        self.used = {a.name for a in fdef.signature.input_arg} | {nd.name for nd in fdef.node_def}
        self.extra: list = []
        self._dummy = None
        self._unknown_shape = None

    def mapped(self, text: str) -> str:
        return self.renamed.get(text, text)

    def _unique(self, base: str) -> str:
        from graphcompat.framework.function_library import unique_name
        return unique_name(self.used, base)

    def _const(self, op_attrs: dict, base: str) -> str:
        from tensorboard.compat.proto import node_def_pb2
        nd = node_def_pb2.NodeDef(name=self._unique(base), op="Const")
        for key, value in op_attrs.items():
            nd.attr[key].CopyFrom(value)
        self.extra.append(nd)
        return f"{nd.name}:output:0"

    def dummy_handle(self) -> str:
        """The float scalar standing for a TensorArray's handle (carried, never read)."""
        if self._dummy is None:
            import numpy as np

            from graphcompat.framework import dtypes as _dt
            from graphcompat.framework import graph_def as _gd
            self._dummy = self._const({"dtype": _gd.attr_value(_dt.float32),
                                       "value": _gd.attr_value(np.asarray(0.0, np.float32))}, "tensor_array_handle")
            self.kind[self._dummy] = TA_HANDLE
        return self._dummy

    def shape_const(self, value, base: str) -> str:
        if value == -1:
            if self._unknown_shape is None:
                self._unknown_shape = self._const(_int32_const(-1), "unknown_element_shape")
            return self._unknown_shape
        return self._const(_int32_const(value), base)

    def run(self, preamble: list) -> None:
        old_nodes = list(self.fdef.node_def)
        for nd in preamble:
            self.used.add(nd.name)
        out = list(preamble)
        for nd in old_nodes:
            data = [self.mapped(t) for t in nd.input if not t.startswith("^")]
            controls = [t for t in nd.input if t.startswith("^")]
            kinds = [self.kind.get(t) for t in data]
            new = self._rewrite(nd, data, kinds)
            if new is None:
                del nd.input[:]
                nd.input.extend(data + controls)
                new = nd
            else:
                new.input.extend(controls)
            out.append(new)
        del self.fdef.node_def[:]
        self.fdef.node_def.extend(self.extra + out)

    def _replace(self, nd, op: str, inputs: list, attrs: dict, outputs: dict):
        """`nd` becomes `op` (same name); `outputs` maps its old output names to (new name, kind)."""
        from tensorboard.compat.proto import node_def_pb2
        new = node_def_pb2.NodeDef(name=nd.name, op=op, device=nd.device)
        new.input.extend(inputs)
        for key, value in attrs.items():
            new.attr[key].CopyFrom(value)
        for old, (new_out, kind) in outputs.items():
            text = f"{nd.name}:{new_out}:0"
            self.renamed[f"{nd.name}:{old}:0"] = text
            if kind is not None:
                self.kind[text] = kind
        return new

    def _rewrite(self, nd, data: list, kinds: list):
        op = nd.op
        if op == "TensorArrayV3":
            shape = self.shape_const(_shape_value(nd.attr["element_shape"].shape), f"{nd.name}/element_shape")
            new = self._replace(nd, "TensorListReserve", [shape, data[0]],
                                {"element_dtype": nd.attr["dtype"], "shape_type": _attr(type=_DT_INT32)},
                                {"flow": ("handle", _list_kind(nd))})
            self.renamed[f"{nd.name}:handle:0"] = self.dummy_handle()
            return new
        if op.startswith("TensorArray"):
            return self._tensor_array_op(nd, data, kinds)
        if not any(kinds) and op not in _WHILE + _IF + _CASE + ("PartitionedCall", "StatefulPartitionedCall"):
            if op in self.conv.by_name and self.conv._needs_copy(op):
                raise NotImplementedError(f"graphcompat cannot export TF's gradient through a call of '{op}' "
                                          "that uses TensorArrays or resource variables")
            return None
        if op == "Identity":
            kind = kinds[0]
            attrs = dict(nd.attr)
            attrs["T"] = _attr(type=_type_of_kind(kind, nd.attr["T"].type))
            return self._replace(nd, "Identity", data, attrs, {"output": ("output", kind)})
        if op == "ReadVariableOp" and isinstance(kinds[0], tuple):
            return self._replace(nd, "Identity", data, {"T": nd.attr["dtype"]}, {"value": ("output", None)})
        if op == "ResourceGather" and isinstance(kinds[0], tuple):
            axis = self._const(_int32_const(0), f"{nd.name}/axis")
            return self._replace(nd, "GatherV2", [data[0], data[1], axis],
                                 {"Tparams": nd.attr["dtype"], "Tindices": nd.attr["Tindices"],
                                  "Taxis": _attr(type=_DT_INT32),
                                  "batch_dims": nd.attr["batch_dims"] if "batch_dims" in nd.attr else _attr(i=0)},
                                 {"output": ("output", None)})
        if op in _WHILE:
            return self._while(nd, data, kinds)
        if op in _IF + _CASE:
            return self._branches(nd, data, kinds)
        if op in ("PartitionedCall", "StatefulPartitionedCall") and not any(kinds) \
                and not self.conv._needs_copy(nd.attr["f"].func.name):
            return None
        if op in ("PartitionedCall", "StatefulPartitionedCall"):
            return self._call(nd, data, kinds)
        what = "TensorArray" if any(k in (TA_HANDLE,) + _LISTS for k in kinds) else "resource variable"
        raise NotImplementedError(f"graphcompat cannot export TF's gradient through {op} '{nd.name}' on a "
                                  f"{what} inside a loop or cond that tf.gradients differentiates")

    def _tensor_array_op(self, nd, data: list, kinds: list):
        op = nd.op
        flow = {"TensorArrayReadV3": 2, "TensorArrayWriteV3": 3, "TensorArrayGatherV3": 2,
                "TensorArrayScatterV3": 3, "TensorArraySizeV3": 1, "TensorArraySplitV3": 3,
                "TensorArrayConcatV3": 1}.get(op)
        if flow is not None and kinds[flow] not in _LISTS:
            raise NotImplementedError(f"graphcompat cannot export TF's gradient through {op} '{nd.name}': its "
                                      "TensorArray does not come from a TensorArrayV3 it can follow")
        if op == "TensorArrayReadV3":
            unknown = self.shape_const(-1, "")
            return self._replace(nd, "TensorListGetItem", [data[2], data[1], unknown],
                                 {"element_dtype": nd.attr["dtype"]}, {"value": ("item", None)})
        if op == "TensorArrayWriteV3":
            return self._replace(nd, "TensorListSetItem", [data[3], data[1], data[2]],
                                 {"element_dtype": nd.attr["T"],
                                  "resize_if_index_out_of_bounds": _attr(b=kinds[3] == TA_GROWING)},
                                 {"flow_out": ("output_handle", kinds[3])})
        if op == "TensorArrayGatherV3":
            shape = self.shape_const(_shape_value(nd.attr["element_shape"].shape), f"{nd.name}/element_shape")
            return self._replace(nd, "TensorListGather", [data[2], data[1], shape],
                                 {"element_dtype": nd.attr["dtype"]}, {"value": ("values", None)})
        if op == "TensorArrayScatterV3":
            return self._replace(nd, "TensorListScatterIntoExistingList", [data[3], data[2], data[1]],
                                 {"element_dtype": nd.attr["T"]}, {"flow_out": ("output_handle", kinds[3])})
        if op == "TensorArraySplitV3":  # (the array's earlier contents are replaced, as TF's split of a new array)
            return self._replace(nd, "TensorListSplit", [data[1], self.shape_const(-1, ""), data[2]],
                                 {"element_dtype": nd.attr["T"], "shape_type": _attr(type=_DT_INT32)},
                                 {"flow_out": ("output_handle", kinds[3])})
        if op == "TensorArrayConcatV3":
            return self._replace(nd, "TensorListConcatV2", [data[1], self.shape_const(-1, ""),
                                                            self._const(_int64_vector([]), f"{nd.name}/leading_dims")],
                                 {"element_dtype": nd.attr["dtype"], "shape_type": _attr(type=_DT_INT32)},
                                 {"value": ("tensor", None), "lengths": ("lengths", None)})
        if op == "TensorArraySizeV3":
            return self._replace(nd, "TensorListLength", [data[1]], {}, {"size": ("length", None)})
        if op == "TensorArrayCloseV3":
            return self._replace(nd, "NoOp", [], {}, {})
        raise NotImplementedError(f"graphcompat cannot export TF's gradient through {op} '{nd.name}' (a "
                                  "TensorArray op with no TensorList form here)")

    def _while(self, nd, data: list, kinds: list):
        cond, cond_kinds = self.conv.convert_callee(nd.attr["cond"].func.name, kinds)
        body, out_kinds = self.conv.convert_callee(nd.attr["body"].func.name, kinds)
        if list(out_kinds) != list(kinds):
            raise NotImplementedError(f"graphcompat cannot export TF's gradient through While '{nd.name}': "
                                      "its body changes which loop variables are TensorArrays")
        attrs = dict(nd.attr)
        attrs["T"] = _attr()
        attrs["T"].list.type.extend(_type_of_kind(k, t) for k, t in zip(kinds, nd.attr["T"].list.type))
        attrs["cond"] = _attr()
        attrs["cond"].func.name = cond
        attrs["body"] = _attr()
        attrs["body"].func.name = body
        new = self._replace(nd, nd.op, data, attrs, {})
        for k, kind in enumerate(kinds):
            if kind is not None:
                self.kind[f"{nd.name}:output:{k}"] = kind
        return new

    def _branches(self, nd, data: list, kinds: list):
        arg_kinds = kinds[1:]
        if nd.op in _IF:
            keys = ["then_branch", "else_branch"]
            names = [nd.attr[k].func.name for k in keys]
        else:
            names = [f.name for f in nd.attr["branches"].list.func]
        converted = [self.conv.convert_callee(name, arg_kinds) for name in names]
        out_kinds = converted[0][1]
        if any(list(k) != list(out_kinds) for _, k in converted):
            raise NotImplementedError(f"graphcompat cannot export TF's gradient through {nd.op} '{nd.name}': its "
                                      "branches return TensorArrays or variables in different places")
        attrs = dict(nd.attr)
        attrs["Tin"] = _attr()
        attrs["Tin"].list.type.extend(_type_of_kind(k, t) for k, t in zip(arg_kinds, nd.attr["Tin"].list.type))
        attrs["Tout"] = _attr()
        attrs["Tout"].list.type.extend(_type_of_kind(k, t) for k, t in zip(out_kinds, nd.attr["Tout"].list.type))
        if nd.op in _IF:
            for key, (name, _) in zip(keys, converted):
                attrs[key] = _attr()
                attrs[key].func.name = name
        else:
            attrs["branches"] = _attr()
            for name, _ in converted:
                attrs["branches"].list.func.add().name = name
        new = self._replace(nd, nd.op, data, attrs, {})
        for k, kind in enumerate(out_kinds):
            if kind is not None:
                self.kind[f"{nd.name}:output:{k}"] = kind
        return new

    def _call(self, nd, data: list, kinds: list):
        """A tf.function call (graphcompat/def_function.py) that takes TensorArrays or resource variables:
        a call of the callee's value-semantics copy, as a cond's branches."""
        name, out_kinds = self.conv.convert_callee(nd.attr["f"].func.name, kinds)
        attrs = dict(nd.attr)
        attrs["Tin"] = _attr()
        attrs["Tin"].list.type.extend(_type_of_kind(k, t) for k, t in zip(kinds, nd.attr["Tin"].list.type))
        attrs["Tout"] = _attr()
        attrs["Tout"].list.type.extend(_type_of_kind(k, t) for k, t in zip(out_kinds, nd.attr["Tout"].list.type))
        attrs["f"] = _attr()
        attrs["f"].func.name = name
        new = self._replace(nd, nd.op, data, attrs, {})
        for k, kind in enumerate(out_kinds):
            if kind is not None:
                self.kind[f"{nd.name}:output:{k}"] = kind
        return new


_REF_VARIABLES = frozenset({"VariableV2", "Variable", "TemporaryVariable"})


def snapshot_ref_variables(nodes) -> None:
    """A top-level SymbolicGradient reading a ref variable reads a `Snapshot` of it instead (a new node).

    TF inlines a SymbolicGradient into the graph it runs, so its gradients are no longer computed together:
    a training step applies one variable's gradient (in place, as ref variables update) as soon as it is
    ready, while the gradient of another variable still reads the first through the ref (the weight of the
    next layer): TF's own training graphs order this with `gate_gradients`. The Snapshot copies each value
    before the gradient starts (what graphcompat's gradient differentiates: the values at the step's start)."""
    from tensorboard.compat.proto import node_def_pb2
    by_name = {nd.name: nd for nd in nodes}
    snapshots: dict = {}
    for sg in [nd for nd in nodes if nd.op == "SymbolicGradient"]:
        for k, text in enumerate(sg.input):
            src = by_name.get(text.partition(":")[0])
            if text.startswith("^") or src is None or src.op not in _REF_VARIABLES:
                continue
            if text not in snapshots:
                base = f"{src.name}/gradient_snapshot"
                name, i = base, 0
                while name in by_name:
                    i += 1
                    name = f"{base}_{i}"
                nd = node_def_pb2.NodeDef(name=name, op="Snapshot", input=[text], device=src.device)
                nd.attr["T"].type = src.attr["dtype"].type
                nodes.add().CopyFrom(nd)
                by_name[name] = nodes[len(nodes) - 1]
                snapshots[text] = name
            sg.input[k] = snapshots[text]


def give_forward_functions_value_semantics(nodes, lib, graph) -> dict:
    """Rewrites the exported `nodes` (GraphDef.node) and `lib` in place (module docstring); returns
    {forward function: its copy} for the top-level SymbolicGradients that now differentiate a copy."""
    snapshot_ref_variables(nodes)
    conv = _Converter(nodes, lib, graph)
    copies = {}
    for sg in [nd for nd in nodes if nd.op == "SymbolicGradient" and "f" in nd.attr]:
        old = sg.attr["f"].func.name
        new = conv.convert_gradient(sg)
        if new is not None:
            copies[old] = new
    # A forward function only the rewritten gradient used is left out (each gradient has its own).
    still_used = {nd.attr["f"].func.name for nd in nodes if nd.op == "SymbolicGradient" and "f" in nd.attr}
    still_used |= {av.func.name for f in lib.function for nd in f.node_def for av in nd.attr.values()
                   if av.HasField("func")}
    unused = set(copies) - still_used
    if unused:
        kept = [f for f in lib.function if f.signature.name not in unused]
        del lib.function[:]
        lib.function.extend(kept)
    return copies
