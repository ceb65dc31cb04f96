"""`tf.graph_util` (also `tf.compat.v1.graph_util`): freezing and pruning GraphDefs, as TF's graph_util_impl
and convert_to_constants do.

`convert_variables_to_constants` keeps what the outputs need (`extract_sub_graph`), reads every variable's
value from the session and rewrites the graph around it: a VariableV2 or VarHandleOp becomes a `Const` of
the same name, a ReadVariableOp of it an `Identity`, a ResourceGather a `GatherV2`; ops that only pass the
handle along (Identity, TF1's Enter/Switch/Merge/Exit/NextIteration) get the value's dtype instead of
`resource`, and functions that receive a handle (If/While/PartitionedCall bodies) are copied with that
argument turned into a value (`<function>_frozen_<n>`), recursively.
"""
from __future__ import annotations

import copy
import itertools
import re
from typing import Iterable, Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework.importer import as_graph_def_proto, import_graph_def  # noqa: F401

_VARIABLE_OPS = {"Assign", "AssignAdd", "AssignSub", "Queue", "ScatterAdd", "ScatterSub", "ScatterUpdate",
                 "TruncatedNormal", "Variable", "VariableV2"}
# Ops that only forward their input (a resource handle among them), by their output names in a FunctionDef.
_PASS_THROUGH = {"Identity": ["output"], "Snapshot": ["output"], "Enter": ["output"], "Exit": ["output"],
                 "NextIteration": ["output"], "Switch": ["output_false", "output_true"], "Merge": ["output"]}
_CALLS = {"If": ("then_branch", "else_branch"), "StatelessIf": ("then_branch", "else_branch"),
          "While": ("cond", "body"), "StatelessWhile": ("cond", "body"),
          "PartitionedCall": ("f",), "StatefulPartitionedCall": ("f",),
          "Case": ("branches",), "StatelessCase": ("branches",)}


def _pb2():
    from tensorboard.compat.proto import attr_value_pb2, graph_pb2, node_def_pb2
    return attr_value_pb2, graph_pb2, node_def_pb2


# ------------------------------------------------------------------------------------------------
# Small helpers (TF's graph_util_impl)
# ------------------------------------------------------------------------------------------------
def _node_name(n: str) -> str:
    return n[1:] if n.startswith("^") else n.split(":")[0]


def _colocated_name(value: bytes) -> str:
    text = value.decode("utf-8") if isinstance(value, bytes) else value
    return text[5:] if text.startswith("loc:@") else text


def _is_variable_op(op: str) -> bool:
    return op in _VARIABLE_OPS


def must_run_on_cpu(node, pin_variables_on_cpu: bool = False) -> bool:
    """`tf.graph_util.must_run_on_cpu`: int32/string constants, int32 DynamicStitch and Cast from int32."""
    from graphcompat.framework import ops as _ops
    node_def = node.node_def if isinstance(node, _ops.Operation) else node
    if pin_variables_on_cpu and _is_variable_op(node_def.op):
        return True
    if node_def.op == "Const":
        return node_def.attr["dtype"].type in (_dt.string.as_datatype_enum, _dt.int32.as_datatype_enum)
    if node_def.op in ("DynamicStitch", "ParallelDynamicStitch"):
        return node_def.attr["T"].type == _dt.int32.as_datatype_enum
    if node_def.op == "Cast":
        return node_def.attr["SrcT"].type == _dt.int32.as_datatype_enum
    return False


def tensor_shape_from_node_def_name(graph, input_name: str):
    """`tf.graph_util.tensor_shape_from_node_def_name`: the static shape of `name` (`name:0` if no port)."""
    canonical = input_name if ":" in input_name else input_name + ":0"
    return graph.get_tensor_by_name(canonical).get_shape()


def _graph_summary(graph_def):
    name_to_inputs, name_to_node, name_to_seq = {}, {}, {}
    for seq, node in enumerate(graph_def.node):
        n = _node_name(node.name)
        name_to_node[n] = node
        name_to_inputs[n] = [_node_name(x) for x in node.input]
        if "_class" in node.attr:  # colocated nodes are kept with their partner
            name_to_inputs[n].extend(_colocated_name(c) for c in node.attr["_class"].list.s)
        name_to_seq[n] = seq
    return name_to_inputs, name_to_node, name_to_seq


def extract_sub_graph(graph_def, dest_nodes: Iterable[str]):
    """`tf.graph_util.extract_sub_graph`: the nodes `dest_nodes` need (inputs, control inputs, colocations),
    in their original order, with the library and versions."""
    _, graph_pb2, _ = _pb2()
    if not isinstance(graph_def, graph_pb2.GraphDef):
        if type(graph_def).__name__ != "GraphDef":
            raise TypeError(f"graph_def must be a graph_pb2.GraphDef proto, but got type {type(graph_def)}.")
        graph_def = as_graph_def_proto(graph_def)
    if isinstance(dest_nodes, str):
        raise TypeError(f"dest_nodes must be an iterable of strings, but got type {type(dest_nodes)}.")
    name_to_inputs, name_to_node, name_to_seq = _graph_summary(graph_def)
    for d in dest_nodes:
        assert d in name_to_node, f"{d} is not in graph"
    keep: set = set()
    frontier = list(dest_nodes)
    while frontier:
        node = frontier.pop()
        if node in keep:
            continue
        keep.add(node)
        frontier.extend(name_to_inputs.get(node, ()))
    out = graph_pb2.GraphDef()
    for n in sorted(keep, key=lambda n: name_to_seq[n]):
        out.node.add().CopyFrom(name_to_node[n])
    out.library.CopyFrom(graph_def.library)
    out.versions.CopyFrom(graph_def.versions)
    return out


def remove_training_nodes(input_graph, protected_nodes: Optional[Iterable[str]] = None):
    """`tf.graph_util.remove_training_nodes`: drops CheckNumerics and splices out Identity/StopGradient
    nodes that take part in no control edge or colocation (and are not `protected_nodes`)."""
    _, graph_pb2, node_def_pb2 = _pb2()
    protected = set(protected_nodes or [])
    removed = {n.name for n in input_graph.node if n.op == "CheckNumerics" and n.name not in protected}
    after_removal = []
    for node in input_graph.node:
        if node.name in removed:
            continue
        new = node_def_pb2.NodeDef()
        new.CopyFrom(node)
        del new.input[:]
        new.input.extend(i for i in node.input if re.sub(r"^\^", "", i) not in removed)
        after_removal.append(new)
    control_inputs, with_control, colocated = set(), set(), set()
    for node in after_removal:
        for i in node.input:
            if "^" in i:
                control_inputs.add(i.replace("^", ""))
                with_control.add(node.name)
        if "_class" in node.attr:
            colocated.update(_colocated_name(c) for c in node.attr["_class"].list.s)
    splice = {n.name: n.input[0] for n in after_removal
              if n.op in ("Identity", "StopGradient") and n.name not in protected and n.name not in colocated
              and n.name not in with_control}
    splice = {k: v for k, v in splice.items() if k not in control_inputs}
    out = graph_pb2.GraphDef()
    for node in after_removal:
        if node.name in splice:
            continue
        new = out.node.add()
        new.CopyFrom(node)
        del new.input[:]
        for full in node.input:
            name = re.sub(r"^\^", "", full)
            while name in splice:
                full = splice[name]
                name = re.sub(r"^\^", "", full)
            new.input.append(full)
    return out


# ------------------------------------------------------------------------------------------------
# Freezing
# ------------------------------------------------------------------------------------------------
def _const_node(name: str, dtype: _dt.DType, value):
    from graphcompat.framework.tensor_util import make_tensor_proto
    import numpy as np
    _, _, node_def_pb2 = _pb2()
    node = node_def_pb2.NodeDef(name=name, op="Const")
    node.attr["dtype"].type = dtype.as_datatype_enum
    value = np.asarray(value)
    node.attr["value"].tensor.CopyFrom(make_tensor_proto(value, dtype=dtype, shape=value.shape))
    return node


class _Body:
    """One set of NodeDefs to rewrite: the graph (inputs `node[:i]`) or a function (`node:out_arg:i`)."""

    def __init__(self, nodes: list, function: bool):
        self.nodes = nodes
        self.function = function

    def key(self, text: str):
        """The tensor an input string names: (node, port) where port is an int (graph) or `out_arg:i`."""
        if self.function:
            parts = text.split(":")
            return (parts[0], None) if len(parts) == 1 else (parts[0], ":".join(parts[1:]))
        name, _, index = text.partition(":")
        return name, int(index or 0)

    def output_key(self, node: str, out_arg: str, index: int):
        return (node, f"{out_arg}:{index}") if self.function else (node, index)


class _Freezer:
    def __init__(self, library):
        self.library = {f.signature.name: f for f in library.function}
        self.new_functions: dict = {}
        self.ids = itertools.count()

    def rewrite(self, body: _Body, converted: dict) -> None:
        """Turns every use of the resource tensors in `converted` ({tensor key: dtype}) into a use of the
        variable's value, following handles through pass-through ops and into called functions."""
        changed = True
        done: set = set()
        while changed:
            changed = False
            extra = []
            for node in list(body.nodes):
                if node.name in done:
                    continue
                hits = [(i, converted[body.key(t)]) for i, t in enumerate(node.input)
                        if not t.startswith("^") and body.key(t) in converted]
                if not hits:
                    continue
                done.add(node.name)
                changed = True
                extra.extend(self._rewrite_node(body, node, hits, converted))
            body.nodes.extend(extra)

    def _rewrite_node(self, body: _Body, node, hits: list, converted: dict) -> list:
        dtype = hits[0][1]
        if node.op == "ReadVariableOp":
            node.op = "Identity"
            node.attr["T"].type = node.attr["dtype"].type
            del node.attr["dtype"]
            if body.function:
                self._rename_output(body, node.name, "value", "output")
            return []
        if node.op == "ResourceGather":
            if node.attr["batch_dims"].i != 0:
                raise ValueError("batch_dims != 0 is not supported by freeze_graph.")
            index_type = _dt.as_dtype(node.attr["Tindices"].type)
            axis = _const_node(node.name + "/axis", index_type, 0)
            node.op = "GatherV2"
            node.input.append(node.name + "/axis" + (":output:0" if body.function else ""))
            node.attr["Tparams"].type = node.attr["dtype"].type
            node.attr["Taxis"].type = index_type.as_datatype_enum
            for key in ("dtype", "batch_dims", "validate_indices"):
                if key in node.attr:
                    del node.attr[key]
            node.attr["batch_dims"].i = 0
            return [axis]
        if node.op.replace("Ref", "", 1) in _PASS_THROUGH:
            node.attr["T"].type = dtype.as_datatype_enum
            for k, out_arg in enumerate(_PASS_THROUGH[node.op.replace("Ref", "", 1)]):
                converted[body.output_key(node.name, out_arg, 0) if body.function
                          else (node.name, k)] = dtype
            return []
        if node.op in _CALLS:
            self._rewrite_call(body, node, hits, converted)
            return []
        raise ValueError(f"Cannot freeze a variable used by {node.op} node '{node.name}': only reads "
                         "(ReadVariableOp, ResourceGather) of a frozen variable can become constants.")

    def _rename_output(self, body: _Body, node_name: str, old: str, new: str) -> None:
        prefix = f"{node_name}:{old}:"
        for other in body.nodes:
            for i, text in enumerate(other.input):
                if text.startswith(prefix):
                    other.input[i] = f"{node_name}:{new}:" + text[len(prefix):]
        for ret_holder in getattr(body, "rets", []):
            for k, v in ret_holder.items():
                if v.startswith(prefix):
                    ret_holder[k] = f"{node_name}:{new}:" + v[len(prefix):]

    def _rewrite_call(self, body: _Body, node, hits: list, converted: dict) -> None:
        offset = 1 if node.op in ("If", "StatelessIf", "Case", "StatelessCase") else 0
        args = {i - offset: dtype for i, dtype in hits if i >= offset}
        list_attr = "T" if node.op in ("While", "StatelessWhile") else "Tin"
        for i, dtype in args.items():
            node.attr[list_attr].list.type[i] = dtype.as_datatype_enum
        passthrough = set()
        for attr in _CALLS[node.op]:
            funcs = node.attr[attr].list.func if node.op.endswith("Case") else [node.attr[attr].func]
            for func in funcs:
                new_name, through = self.frozen_function(func.name, args)
                func.name = new_name
                passthrough |= through
        if node.op in ("While", "StatelessWhile"):
            for i in passthrough:
                converted[body.output_key(node.name, "output", i) if body.function else (node.name, i)] = args[i]

    def frozen_function(self, name: str, args: dict) -> tuple:
        """A copy of function `name` whose arguments `args` ({index: dtype}) are values, not handles.
        Returns (new name, indices of outputs that return such an argument unchanged)."""
        key = (name, tuple(sorted((i, d.as_datatype_enum) for i, d in args.items())))
        if key in self.new_functions:
            return self.new_functions[key]
        fdef = copy.deepcopy(self.library[name])
        new_name = f"{name}_frozen_{next(self.ids)}"
        fdef.signature.name = new_name
        converted = {}
        for i, dtype in args.items():
            arg = fdef.signature.input_arg[i]
            arg.type = dtype.as_datatype_enum
            converted[(arg.name, None)] = dtype
        body = _Body(list(fdef.node_def), function=True)
        body.rets = [fdef.ret]
        self.rewrite(body, converted)
        del fdef.node_def[:]
        fdef.node_def.extend(body.nodes)
        through = set()
        for k, out in enumerate(fdef.signature.output_arg):
            ref = fdef.ret[out.name]
            if body.key(ref) in converted:
                out.type = converted[body.key(ref)].as_datatype_enum
                through.add(k)
        self.new_functions[key] = (new_name, through)
        self.library[new_name] = fdef
        return new_name, through


def _variable_values(sess, nodes: list) -> dict:
    """Each variable node's value, read in `sess` (a resource variable through one of its reads)."""
    graph = sess.graph
    fetches = []
    for node in nodes:
        if node.op == "VarHandleOp":
            handle = graph.get_operation_by_name(node.name).outputs[0]
            reads = [op for op in handle.consumers() if op.type == "ReadVariableOp"]
            if not reads:
                raise ValueError(f"Cannot read resource variable {node.name} to freeze it: no ReadVariableOp of it "
                                 "exists in the session's graph.")
            fetches.append(reads[0].outputs[0])
        else:
            fetches.append(node.name + ":0")
    return dict(zip((n.name for n in nodes), sess.run(fetches) if fetches else []))


def convert_variables_to_constants(sess, input_graph_def, output_node_names, variable_names_whitelist=None,
                                   variable_names_blacklist=None):
    """`tf.graph_util.convert_variables_to_constants`: a frozen GraphDef computing `output_node_names`
    with every (allowed) variable replaced by a Const holding its value in `sess`."""
    _, graph_pb2, _ = _pb2()
    inference = extract_sub_graph(as_graph_def_proto(input_graph_def), output_node_names)
    variables = [n for n in inference.node if n.op in ("Variable", "VariableV2", "VarHandleOp")
                 and (variable_names_whitelist is None or n.name in variable_names_whitelist)
                 and (variable_names_blacklist is None or n.name not in variable_names_blacklist)]
    values = _variable_values(sess, variables)
    out = graph_pb2.GraphDef()
    out.versions.CopyFrom(inference.versions)
    nodes, converted = [], {}
    for node in inference.node:
        if node.name in values:
            dtype = _dt.as_dtype(node.attr["dtype"].type)
            const = _const_node(node.name, dtype, values[node.name])
            if node.device:
                const.device = node.device
            nodes.append(const)
            if node.op == "VarHandleOp":
                converted[(node.name, 0)] = dtype
        else:
            nodes.append(copy.deepcopy(node))
    freezer = _Freezer(inference.library)
    freezer.rewrite(_Body(nodes, function=False), converted)
    out.node.extend(nodes)
    used = _used_functions(nodes, freezer.library)
    for fdef in freezer.library.values():  # originals still called, then the frozen copies
        if fdef.signature.name in used:
            out.library.function.add().CopyFrom(fdef)
    out.library.gradient.extend(g for g in inference.library.gradient if g.function_name in used)
    return out


def _used_functions(nodes: list, library: dict) -> set:
    """Names of the library functions that `nodes` call, directly or through other functions."""
    used: set = set()
    frontier = list(nodes)
    while frontier:
        node = frontier.pop()
        names = [node.op] + [av.func.name for av in node.attr.values() if av.WhichOneof("value") == "func"]
        names += [f.name for av in node.attr.values() if av.WhichOneof("value") == "list" for f in av.list.func]
        for name in names:
            if name in library and name not in used:
                used.add(name)
                frontier.extend(library[name].node_def)
    return used


__all__ = ["convert_variables_to_constants", "extract_sub_graph", "import_graph_def", "must_run_on_cpu",
           "remove_training_nodes", "tensor_shape_from_node_def_name"]


def __getattr__(name: str):
    from graphcompat import compat
    return compat.missing(__name__, name)
