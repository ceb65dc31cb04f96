"""`tf.import_graph_def`: a GraphDef written by TensorFlow (or graphcompat) into the current graph.

How a GraphDef becomes graphcompat ops:
- Each node is recorded as the same TF op type with its attrs (defaults from the op's definition filled
  in; `_output_shapes` dropped, shapes are re-inferred), its inputs re-wired (`input_map` applied), its
  device merged into the current `tf.device` scope and its colocation attrs renamed with the prefix.
- Control flow is rebuilt with graphcompat's public builders, so the importer does not depend on how
  they represent bodies:
  * functional ops (`If`/`StatelessIf`, `While`/`StatelessWhile`, `PartitionedCall`/
    `StatefulPartitionedCall`, `SymbolicGradient`) call `tf.cond` / `tf.while_loop` / `tf.gradients`
    (or inline the call) with callables that import the FunctionDef's nodes from `graph_def.library`;
  * TF1's dataflow control flow (`Switch`, `Merge`, `Enter`, `Exit`, `NextIteration`, `LoopCond`, and
    the Ref variants) is analysed first: every node gets its while frame (from the `frame_name` of the
    Enter nodes it is reached through) and its branch condition (the (predicate, side) pairs of the
    Switch outputs it depends on, closed again by a Merge). Each frame becomes one `tf.while_loop`, each
    group of Merges joining the two sides of one predicate one `tf.cond`; their callables import the
    nodes inside, lazily, from the Merges' and NextIterations' inputs backwards. A ControlTrigger whose
    inputs lie on both sides of one cond (TF 1's gradient of a cond in a loop syncs its stack pushes and
    pops so) is part of that cond, whose branches run its inputs; conds whose branches share a stateful
    node are one cond, so a pop runs once. TF 1's `maximum_iterations` (an `iteration_counter` loop
    variable tested in the loop condition) becomes the rebuilt loop's `maximum_iterations`.
  A rebuilt structure's outputs get the names of the nodes they stand for (`cond/Merge`, `while/Exit_1`,
  the `If` node), so fetching by name works as in TF.
- Everything that can be checked is checked before the graph changes, with TF's error classes and texts,
  and whatever a failed import added is removed again: a failed import leaves the graph as it was.
"""
from __future__ import annotations

import contextlib
import functools
import dataclasses
import gc
import re
from typing import Callable, Optional, Sequence

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework import ops as _ops
from graphcompat.framework import registry as _registry
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.tensor_util import make_ndarray, storage_view
from graphcompat.ops import grad_ops, list_ops, resource_variable_ops, sharded_save_ops  # noqa: F401  (op types TF writes)
from graphcompat.ops import stack_ops  # noqa: F401  (TF 1's while-loop gradients)

_VALID_NODE_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")

# TF1 dataflow control flow: rebuilt as tf.while_loop / tf.cond, never recorded as such.
_SWITCH = {"Switch", "RefSwitch"}
_MERGE = {"Merge", "RefMerge"}
_ENTER = {"Enter", "RefEnter"}
_EXIT = {"Exit", "RefExit"}
_NEXT = {"NextIteration", "RefNextIteration"}
CONTROL_FLOW_V1 = _SWITCH | _MERGE | _ENTER | _EXIT | _NEXT | {"LoopCond"}
# Functional control flow and calls: rebuilt with the builders from the graph's function library.
FUNCTIONAL = {"If", "StatelessIf", "Case", "StatelessCase", "While", "StatelessWhile", "PartitionedCall",
              "StatefulPartitionedCall", "SymbolicGradient"}
# Attr defaults TF's op definitions have and graphcompat's `defop`s leave implicit.
_EXTRA_DEFAULTS = {"Placeholder": {"shape": _ts.unknown_shape()}}


def _rebuilt_datasets() -> frozenset:
    """tf.data op types whose functions the importer imports first (graphcompat/data/graph_import.py): the
    ops with an element function, the one-shot iterator (its dataset_factory), GeneratorDataset (refused).
    Other dataset ops are ordinary nodes."""
    global _REBUILT_DATASETS
    if _REBUILT_DATASETS is None:
        from graphcompat.data.graph_import import IMPORTED_HERE
        _REBUILT_DATASETS = IMPORTED_HERE
    return _REBUILT_DATASETS


_REBUILT_DATASETS = None


class UnregisteredOpsError(errors.NotFoundError, NotImplementedError):
    """A GraphDef uses TF op types graphcompat does not have (TF's NotFoundError, and a missing feature)."""


# ------------------------------------------------------------------------------------------------
# Attr values
# ------------------------------------------------------------------------------------------------
def _shape_from_proto(proto) -> _ts.TensorShape:
    if proto.unknown_rank:
        return _ts.unknown_shape()
    return _ts.TensorShape([d.size if d.size >= 0 else None for d in proto.dim])


def _decode_string(s: bytes):
    try:
        return s.decode("utf-8")
    except UnicodeDecodeError:
        return s


def attr_from_proto(av):
    """AttrValue → the Python value ops hold (DType, TensorShape, ndarray, scalars, lists, NameAttrList)."""
    return _attr_value(av, av.WhichOneof("value"))


def _attr_value(av, kind: Optional[str]):
    """attr_from_proto of `av`, whose `value` oneof is `kind`."""
    if kind == "type":
        return _dt.as_dtype(av.type)
    if kind == "shape":
        return _shape_from_proto(av.shape)
    if kind == "tensor":  # a quantized Const's value is held as its integers (dtypes.storage_numpy_dtype)
        return storage_view(make_ndarray(av.tensor))
    if kind in ("i", "f", "b"):
        return getattr(av, kind)
    if kind == "s":
        return _decode_string(av.s)
    if kind == "func":
        return av.func
    if kind == "placeholder":
        raise NotImplementedError(f"an attr placeholder ('{av.placeholder}') in a FunctionDef body: "
                                  "graphcompat imports only functions with concrete attrs")
    if kind == "list":
        lst = av.list
        if lst.type:
            return [_dt.as_dtype(t) for t in lst.type]
        if lst.shape:
            return [_shape_from_proto(s) for s in lst.shape]
        if lst.tensor:
            return [make_ndarray(t) for t in lst.tensor]
        for field in ("i", "f", "b"):
            if getattr(lst, field):
                return list(getattr(lst, field))
        if lst.s:
            return [_decode_string(s) for s in lst.s]
        if lst.func:
            return list(lst.func)
        return []
    return None


def _type_name(dtype: _dt.DType) -> str:
    """TF's DataTypeString: `float`, `int32`, `float_ref` …"""
    name = _dt.cpp_name(dtype)
    return name + "_ref" if dtype.is_ref_dtype else name


# ------------------------------------------------------------------------------------------------
# Parsed nodes
# ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(slots=True)
class _Node:
    name: str                 # name in its GraphDef / FunctionDef
    op: str
    inputs: list              # [(source node name, output index)] (function args: (arg name, -1))
    control: list             # [source node name]
    attrs: dict
    device: str
    out_dtypes: list
    proto: object


def _parse_tensor_name(name: str) -> tuple:
    """TF's _ParseTensorName: `x` → (x, 0), `x:3` → (x, 3)."""
    parts = name.split(":")
    if len(parts) == 1:
        return parts[0], 0
    if len(parts) == 2:
        try:
            return parts[0], int(parts[1])
        except ValueError:
            pass
    raise ValueError(f"Cannot convert {name!r} to a tensor name. Tensor names should not contain more than 1 "
                     f"`:`. Obtained {len(parts) - 1}")


def _op_signature(op_def) -> str:
    def arg(a):
        kind = a.type_attr or (a.fixed_dtype.name if a.fixed_dtype is not None else a.type_list_attr)
        if a.number_attr:
            kind = f"{a.number_attr}*{kind}"
        return f"{a.name}:{'Ref(' + kind + ')' if a.is_ref else kind}"
    return f"Op<name={op_def.type}; signature={', '.join(arg(a) for a in op_def.inputs)} -> " \
           f"{', '.join(arg(a) for a in op_def.outputs)}>"


def _list_len(attrs: dict, arg) -> int:
    if arg.number_attr:
        return int(attrs[arg.number_attr])
    if arg.type_list_attr:
        return len(attrs[arg.type_list_attr])
    return 1


def _expected_inputs(op_def, attrs: dict) -> list:
    """[(expected base dtype or None, is_ref)] per input of a registered op, from its attrs."""
    out = []
    for arg in op_def.inputs:
        if arg.type_list_attr:
            out.extend((_dt.as_dtype(t), arg.is_ref) for t in attrs[arg.type_list_attr])
            continue
        dtype = arg.fixed_dtype or (_dt.as_dtype(attrs[arg.type_attr]) if arg.type_attr in attrs else None)
        out.extend([(dtype, arg.is_ref)] * _list_len(attrs, arg))
    return out


# Stateful op types that only read a variable: running one twice in a step gives the same value (TF 1's
# gradients run before the updates that depend on them), so a forward cond and its gradient's cond that both
# read a variable in their branches (the gradient of `x * w` reads `w` again) stay two conds.
_READS = frozenset({"ReadVariableOp", "VariableShape", "VarIsInitializedOp", "IsVariableInitialized"})


def _is_stateful(op_type: str) -> bool:
    """Whether running a node of `op_type` twice differs from running it once (a function, not an
    _Importer method: the _ControlFlow holding it must not refer back to the importer, see _Importer.run)."""
    from graphcompat.framework import registry
    op_def = registry.OP_DEFS.get(op_type)
    return op_def is not None and op_def.stateful and op_type not in _READS


def _structural_signature(node_op: str, attrs: dict) -> tuple:
    """(number of inputs, output dtypes) of the control-flow ops the importer rebuilds."""
    if node_op in _SWITCH | _MERGE | _ENTER | _EXIT | _NEXT:
        dtype = _dt.as_dtype(attrs["T"])
        if node_op.startswith("Ref"):  # RefSwitch, RefEnter …: a variable's ref flows through
            dtype = dtype._as_ref()
        if node_op in _SWITCH:
            return 2, [dtype, dtype]
        if node_op in _MERGE:
            return int(attrs["N"]), [dtype, _dt.int32]
        return 1, [dtype]
    if node_op == "LoopCond":
        return 1, [_dt.bool_]
    if node_op in ("If", "StatelessIf", "Case", "StatelessCase"):
        return 1 + len(attrs["Tin"]), list(attrs["Tout"])
    if node_op in ("While", "StatelessWhile"):
        return len(attrs["T"]), list(attrs["T"])
    if node_op in ("PartitionedCall", "StatefulPartitionedCall", "SymbolicGradient"):
        return len(attrs["Tin"]), list(attrs["Tout"])
    raise KeyError(node_op)


def _node_attrs(proto, op_def) -> dict:
    attrs = {}
    attr_map = proto.attr
    for key in attr_map:  # (a map's items() view iterates in Python; its keys in C)
        if key == "_output_shapes":
            continue  # shapes are re-inferred, as TF's importer does
        av = attr_map[key]
        kind = av.WhichOneof("value")
        attrs[key] = _dt.as_dtype(av.type) if kind == "type" else _attr_value(av, kind)  # type: the most common
    if op_def is not None:
        for key, default in op_def.attrs.items():
            attrs.setdefault(key, default)
    for key, default in _EXTRA_DEFAULTS.get(proto.op, {}).items():
        attrs.setdefault(key, default)
    return attrs


def _missing_attr(node: _Node, final: str, op_def, key: str) -> ValueError:
    sig = _op_signature(op_def) if op_def is not None else f"Op<name={node.op}>"
    return ValueError(f"NodeDef missing attr '{key}' from {sig}; NodeDef: {{{{node {final}}}}}")


def _output_dtypes(node: _Node, final: str) -> list:
    if node.op in CONTROL_FLOW_V1 or node.op in FUNCTIONAL:
        try:
            return [_dt.as_dtype(d) for d in _structural_signature(node.op, node.attrs)[1]]
        except KeyError as err:
            raise _missing_attr(node, final, None, err.args[0]) from None
    op_def = _registry.OP_DEFS[node.op]
    try:
        return _registry._output_dtypes(op_def, node.attrs)
    except KeyError as err:
        raise _missing_attr(node, final, op_def, err.args[0]) from None


def _output_index(node: _Node, out_arg: str, index: int, library: Optional[dict] = None) -> int:
    """The flat output index of `node:out_arg:index` (FunctionDef input naming). A call of a library
    function (`library`: name -> FunctionDef) names one of the function's output args."""
    from graphcompat.framework import registry
    callee = (library or {}).get(node.op)
    if callee is not None:
        names = [a.name for a in callee.signature.output_arg]
        if out_arg in names:
            return names.index(out_arg) + index
    if node.op in _SWITCH:
        names = {"output_false": 0, "output_true": 1}
        return names[out_arg] + index
    if node.op in _MERGE:
        return {"output": 0, "value_index": 1}[out_arg] + index
    if node.op in CONTROL_FLOW_V1 or node.op in FUNCTIONAL:
        return index
    op_def = registry.OP_DEFS.get(node.op)
    if op_def is None:  # a call of a library function: outputs in signature order
        return index
    start = 0
    for arg in op_def.outputs:
        if arg.name == out_arg:
            return start + index
        start += _list_len(node.attrs, arg)
    if len(op_def.outputs) == 1:
        return index
    raise ValueError(f"Node '{node.name}' ({node.op}) has no output named '{out_arg}'")


# ------------------------------------------------------------------------------------------------
# TF1 control flow analysis
# ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(eq=False)
class _Frame:
    name: str
    parent: Optional["_Frame"]
    enters: list = dataclasses.field(default_factory=list)
    exits: list = dataclasses.field(default_factory=list)
    loop_cond: Optional[str] = None


_ROOT_FRAME = None  # nodes outside every while loop
_NO_STATE: frozenset = frozenset()


class _ControlFlow:
    """Frames, branch states and cond groups of a GraphDef with TF1 control flow."""

    def __init__(self, nodes: dict, order: list, stateful: Callable[[str], bool] = lambda op_type: False):
        self.nodes = nodes
        self.frame: dict = {}          # node name → _Frame or None (root)
        self.state: dict = {}          # node name → frozenset of (predicate key, side)
        self.merge_group: dict = {}    # cond Merge or sync ControlTrigger name → group key
        self.groups: dict = {}         # group key → _CondGroup
        self.frames: dict = {}         # frame name → _Frame
        self.loop_switch: set = set()
        self.loop_merge: set = set()
        self.pass_switch: dict = {}    # Switch name → the side it always takes (see _pass_side)
        self.stateful = stateful       # op type → whether running a node of it twice differs from once
        for name in order:
            self._visit(nodes[name])
        for frame in self.frames.values():
            if frame.loop_cond is None:
                raise ValueError(f"while loop frame '{frame.name}' has no LoopCond node")
        self._join_groups()

    # --- helpers ---------------------------------------------------------------------------
    def pred_key(self, tensor: tuple) -> tuple:
        """A Switch's predicate, seen through Identity nodes (TF1's `cond/pred_id`)."""
        name, index = tensor
        while name in self.nodes and self.nodes[name].op == "Identity" and self.nodes[name].inputs:
            name, index = self.nodes[name].inputs[0]
        return name, index

    def tensor_state(self, tensor: tuple) -> frozenset:
        name, index = tensor
        node = self.nodes.get(name)
        state = self.state.get(name, _NO_STATE)
        if node is not None and node.op in _SWITCH and name not in self.loop_switch:
            if self.pass_switch.get(name) == index:
                return state
            state = state | {(self.pred_key(node.inputs[1]), index)}
        return state

    def _pass_side(self, node: _Node, state: frozenset) -> Optional[int]:
        """The side a Switch always takes when it already lies (through its data or control inputs: its
        `state`) on one side of the cond its predicate, seen through Enters, decides: TF 1's gradient of a
        while loop inside a tf.cond pops the forward loop's stacks through a Switch on the cond's predicate,
        entered into the backward loop (GradLoopState.AddBackpropAccumulatedValue), where the backward loop
        runs inside the gradient cond's branch already (inside an outer loop, that cond's predicate is the
        forward one popped from a stack and the Switch's data a stack from outside: its control input, the
        backward loop's counter, places it). Its other output is dead; None for every other Switch."""
        name, index = node.inputs[1]
        while name in self.nodes and self.nodes[name].op in ({"Identity"} | _ENTER) and self.nodes[name].inputs:
            name, index = self.nodes[name].inputs[0]
        key = self.pred_key((name, index))
        sides = [side for k, side in state if k == key]
        return sides[0] if len(sides) == 1 else None

    def _union(self, node: _Node, sources: list) -> frozenset:
        state = _NO_STATE
        for s in sources:
            state = state | s
        preds = {}
        for key, side in state:
            if preds.setdefault(key, side) != side:
                raise NotImplementedError(f"node '{node.name}' depends on both branches of the cond on "
                                          f"'{key[0]}:{key[1]}' without a Merge: graphcompat cannot rebuild it")
        return state

    def _visit(self, node: _Node) -> None:
        name, op = node.name, node.op
        data = [(s, i) for s, i in node.inputs if s in self.nodes]
        if op in _MERGE and any(self.nodes[s].op in _ENTER | _NEXT for s, _ in data):
            self.loop_merge.add(name)
            data = [(s, i) for s, i in data if self.nodes[s].op not in _NEXT]  # the back edge
        sources = [self.frame.get(s) for s, _ in data] + [self.frame.get(c) for c in node.control
                                                          if c in self.nodes]
        frame = sources[0] if sources else _ROOT_FRAME
        if op in _ENTER:
            key = node.attrs.get("frame_name", "")
            frame = self.frames.get(key)
            if frame is None:
                frame = self.frames[key] = _Frame(key, sources[0] if sources else _ROOT_FRAME)
            frame.enters.append(name)
        elif op in _EXIT:
            inner = sources[0] if sources else _ROOT_FRAME
            if inner is None:
                raise ValueError(f"Exit node '{name}' is not inside a while loop")
            inner.exits.append(name)
            frame = inner.parent
        elif op == "LoopCond" and frame is not None:
            frame.loop_cond = name
        self.frame[name] = frame
        if op in _SWITCH and node.inputs[1][0] in self.nodes and self.nodes[node.inputs[1][0]].op == "LoopCond":
            self.loop_switch.add(name)
        if op in _MERGE and name not in self.loop_merge:
            self.state[name] = self._merge_state(node, data)
            return
        states = [self.tensor_state(t) for t in data] + [self.state.get(c, _NO_STATE) for c in node.control
                                                         if c in self.nodes]
        if op == "ControlTrigger" and not data:
            sync = self._sync_state(node, states)
            if sync is not None:
                self.state[name] = sync
                return
        self.state[name] = self._union(node, states)
        if op in _SWITCH and name not in self.loop_switch:
            side = self._pass_side(node, self.state[name])
            if side is not None:
                self.pass_switch[name] = side

    def _sync_state(self, node: _Node, states: list) -> Optional[frozenset]:
        """A ControlTrigger whose control inputs lie on both sides of one cond: TF 1's gradient of a tf.cond
        inside a tf.while_loop pushes the branches' values on stacks inside the branches (`f_sync`) and
        pops them in the backward loop's branches (`b_sync`); the trigger runs once whichever side ran, so,
        like a Merge, it is outside the cond. It joins a cond group of its own (merged with the cond whose
        branches it shares stack operations with, `_join_groups`), whose branches run its side's inputs.
        Returns its branch state, or None when its inputs are on one side only (an ordinary node)."""
        union = _NO_STATE
        for state in states:
            union = union | state
        sides: dict = {}
        for key, side in union:
            sides.setdefault(key, set()).add(side)
        both = [key for key, seen in sides.items() if len(seen) == 2]
        if not both:
            return None
        key = both[0]
        outer = frozenset.intersection(*states) - {(key, 0), (key, 1)}
        deps: dict = {0: [], 1: []}
        outer_deps = []
        for c, state in zip([c for c in node.control if c in self.nodes], states):
            extra = state - outer
            if not extra <= {(key, 0), (key, 1)} or len(extra) > 1:
                raise NotImplementedError(
                    f"TF 1's gradient of a tf.cond inside a tf.while_loop: '{node.name}' (ControlTrigger) syncs "
                    f"nodes inside nested conds ('{c}'); graphcompat rebuilds triggers that sync the two sides "
                    "of one cond")
            if extra:
                deps[next(iter(extra))[1]].append(c)
            else:
                outer_deps.append(c)
        group_key = ("sync", node.name)
        group = self.groups[group_key] = _CondGroup(key, outer, frame=self.frame.get(node.name))
        group.triggers[node.name] = (deps, outer_deps)
        group.pred = self._find_pred([(d, 0) for d in deps[0] + deps[1]], key)
        self.merge_group[node.name] = group_key
        return outer

    def _side_nodes(self, group: "_CondGroup", side: int) -> set:
        """The nodes one side of a cond group runs (those of exactly that side's branch state; nested conds'
        nodes are their own groups'), found from its Merges' and triggers' inputs backwards."""
        want = group.outer | {(group.key, side)}
        starts = [group.sides[m][side][0] for m in group.merges]
        starts += [d for deps, _ in group.triggers.values() for d in deps[side]]
        seen: set = set()
        while starts:
            name = starts.pop()
            if name in seen or name not in self.nodes or self.state.get(name) != want \
                    or self.frame.get(name) is not group.frame:
                continue
            seen.add(name)
            starts.extend(s for s, _ in self.nodes[name].inputs)
            starts.extend(self.nodes[name].control)
        return seen

    def _join_groups(self) -> None:
        """One cond for the groups whose branches share a stateful node. TF 1's gradient of a cond inside a
        loop pops a stack on one side of the backward cond, and several Merges (one per input of the
        forward cond, each in a scope of its own) and the `b_sync` trigger need that pop: rebuilt as
        separate conds, each would pop. A loop inside a cond counts as stateful (its Exits): TF 1's
        gradient of a loop inside a cond inside a loop pushes the inner loop's trip count in the `f_sync`
        trigger's branch (another Exit of the inner loop than the forward cond's Merge reads), which would
        otherwise rebuild (and run again, pushes and all) the whole inner loop.
        Pure nodes may be rebuilt in each cond that needs them."""
        owner: dict = {}
        parent = {k: k for k in self.groups}

        def find(k):
            while parent[k] != k:
                parent[k] = parent[parent[k]]
                k = parent[k]
            return k
        for gkey, group in self.groups.items():
            for side in (0, 1):
                for name in self._side_nodes(group, side):
                    node = self.nodes[name]
                    if node.op in _EXIT:  # every Exit of one loop stands for the loop
                        shared = ("loop", id(self.frame.get(node.inputs[0][0])))
                    elif self.stateful(node.op):
                        shared = name
                    else:
                        continue
                    other = owner.setdefault(shared, gkey)
                    a, b = find(other), find(gkey)
                    if a != b:
                        parent[b] = a
        for gkey in list(self.groups):
            root = find(gkey)
            if root == gkey:
                continue
            group, target = self.groups.pop(gkey), self.groups[root]
            target.merges.extend(group.merges)
            target.sides.update(group.sides)
            target.triggers.update(group.triggers)
        for name, gkey in self.merge_group.items():
            self.merge_group[name] = find(gkey)
        for group in self.groups.values():
            group.nodes = {side: self._side_nodes(group, side) for side in (0, 1)}

    def _merge_state(self, node: _Node, data: list) -> frozenset:
        if len(data) != 2:
            raise NotImplementedError(f"Merge node '{node.name}' has {len(data)} inputs: graphcompat rebuilds "
                                      "Merges that join the two branches of one cond")
        a, b = (self.tensor_state(t) for t in data)
        diff = a ^ b
        keys = {k for k, _ in diff}
        if len(diff) != 2 or len(keys) != 1:
            raise NotImplementedError(f"Merge node '{node.name}' does not join the two branches of one cond: "
                                      "graphcompat cannot rebuild it")
        key = keys.pop()
        outer = a & b
        scope = node.name.rpartition("/")[0]
        group_key = (key, outer, scope, self.frame.get(node.name))
        group = self.groups.get(group_key)
        if group is None:
            group = self.groups[group_key] = _CondGroup(key, outer, frame=self.frame.get(node.name))
        group.merges.append(node.name)
        self.merge_group[node.name] = group_key
        sides = {}
        for tensor, state in zip(data, (a, b)):
            side = 1 if (key, 1) in state else 0
            sides[side] = tensor
        group.sides[node.name] = sides
        if group.pred is None:  # the pred tensor: any Switch of this key
            group.pred = self._find_pred(data, key)
        return outer

    def _find_pred(self, data: list, key: tuple) -> tuple:
        stack, seen = [s for s, _ in data], set()
        while stack:
            name = stack.pop()
            if name in seen or name not in self.nodes:
                continue
            seen.add(name)
            node = self.nodes[name]
            if node.op in _SWITCH and name not in self.loop_switch and self.pred_key(node.inputs[1]) == key:
                return node.inputs[1]
            stack.extend(s for s, _ in node.inputs)
            stack.extend(node.control)
        return key


@dataclasses.dataclass(eq=False)
class _CondGroup:
    key: tuple                   # the predicate tensor (through Identities)
    outer: frozenset             # the branch state around the cond
    merges: list = dataclasses.field(default_factory=list)
    sides: dict = dataclasses.field(default_factory=dict)   # merge → {side: input tensor}
    pred: Optional[tuple] = None
    frame: Optional[_Frame] = None
    # sync ControlTrigger → ({side: its control inputs on that side}, its control inputs outside the cond)
    triggers: dict = dataclasses.field(default_factory=dict)
    nodes: dict = dataclasses.field(default_factory=dict)   # side → the nodes it runs (_side_nodes)


# ------------------------------------------------------------------------------------------------
# Contexts: where a node is built
# ------------------------------------------------------------------------------------------------
class _Context:
    """Builds nodes of one scope (the graph, a branch, a loop body, a function body), memoized.

    `value(tensor)` returns the graphcompat Tensor for a GraphDef tensor `(node, index)`, building the
    node (and what it needs) in the context that owns it.
    """

    def __init__(self, importer: "_Importer", parent: Optional["_Context"]):
        self.importer = importer
        self.parent = parent
        self.memo: dict = {}

    # Subclasses refine these three.
    def contains(self, name: str) -> bool:
        return True

    def special(self, name: str):
        """Outputs of a node this context resolves itself (arguments, Switches, loop headers), or None."""
        return None

    def final_name(self, node: _Node) -> Optional[str]:
        """The name a built node gets (None: a fresh name in the current name scope)."""
        return None

    # --- lookups ------------------------------------------------------------------------------
    def owner(self, name: str) -> "_Context":
        ctx = self
        while not ctx.contains(name):
            ctx = ctx.parent
        return ctx

    def outputs(self, name: str) -> list:
        ctx = self.owner(name)
        if name not in ctx.memo:
            ctx.build(name)
        return ctx.memo[name]

    def value(self, tensor: tuple) -> _ops.Tensor:
        name, index = tensor
        if self.importer.input_map:
            mapped = self.importer.mapped(self, tensor)
            if mapped is not None:
                return mapped
        outs = self.outputs(name)
        if isinstance(outs, _ops.Operation):
            raise ValueError(f"node '{name}' has no outputs")
        if outs[index] is None:
            raise NotImplementedError(f"'{name}:{index}' is a dead branch output here: graphcompat cannot "
                                      "rebuild this use of TF1 control flow")
        return outs[index]

    def control(self, name: str) -> Optional[_ops.Operation]:
        mapped = self.importer.mapped_control(self, name)
        if mapped is not None:
            return mapped
        node = self.importer.nodes.get(name)
        if node is not None and node.op in CONTROL_FLOW_V1:
            return None  # `^while/Merge`, `^cond/Switch` only place a node inside a structure: rebuilt already
        ctx = self.owner(name)
        if ctx is not self and not isinstance(self, _RootContext):
            return None  # an outer op: ordered before the structure that contains us
        outs = self.outputs(name)
        if isinstance(outs, _ops.Operation):
            return outs
        live = [t for t in outs if t is not None]
        return live[0].op if live else None

    # --- building -----------------------------------------------------------------------------
    def build(self, name: str) -> None:
        """Builds `name` and the nodes it needs that this context owns (iteratively: graphs are deep)."""
        importer = self.importer
        stack = [name]
        while stack:
            current = stack[-1]
            if current in self.memo:
                stack.pop()
                continue
            special = self.special(current)
            if special is not None:
                self.memo[current] = special
                stack.pop()
                continue
            node = importer.nodes[current]
            if importer.is_structural(node):
                self.memo[current] = importer.build_structure(self, node)
                stack.pop()
                continue
            pending = [s for s in importer.dependencies(self, node) if s not in self.memo and self.contains(s)]
            if pending:
                stack.extend(pending)
                continue
            self.memo[current] = importer.create(self, node)
            stack.pop()


class _RootContext(_Context):
    """The graph being imported into: nodes keep their (prefixed) GraphDef names."""

    def final_name(self, node: _Node) -> str:
        return self.importer.final_names[node.name]


class _BranchContext(_Context):
    """One side of a rebuilt TF1 cond: owns the nodes that run only on that side."""

    def __init__(self, importer, parent, group: _CondGroup, side: int):
        super().__init__(importer, parent)
        self.group = group
        self.side = side

    def contains(self, name: str) -> bool:
        return (self.group.key, self.side) in self.importer.flow.state.get(name, _NO_STATE)

    def value(self, tensor: tuple) -> _ops.Tensor:
        name, index = tensor
        flow = self.importer.flow
        node = self.importer.nodes.get(name)
        if node is not None and node.op in _SWITCH and name not in flow.loop_switch \
                and flow.pred_key(node.inputs[1]) == self.group.key:
            if index != self.side:
                raise NotImplementedError(f"'{name}:{index}' is used on the other side of its cond: "
                                          "graphcompat cannot rebuild it")
            return self.parent.value(node.inputs[0])
        return super().value(tensor)


class _LoopContext(_Context):
    """The cond or body of a rebuilt TF1 while loop: loop variables stand for the frame's Merges."""

    def __init__(self, importer, parent, frame: _Frame, variables: dict):
        super().__init__(importer, parent)
        self.frame = frame
        self.variables = variables  # Merge name → loop variable tensor

    def contains(self, name: str) -> bool:
        return self.importer.flow.frame.get(name) is self.frame

    def special(self, name: str):
        node = self.importer.nodes[name]
        if name in self.variables:
            return [self.variables[name], None]
        if node.op in _SWITCH and name in self.importer.flow.loop_switch:
            merge = node.inputs[0][0]
            if merge not in self.variables:
                raise NotImplementedError(f"loop Switch '{name}' does not switch a loop variable")
            return [None, self.variables[merge]]
        if node.op in _ENTER:
            if not node.attrs.get("is_constant", False):
                raise NotImplementedError(f"Enter node '{name}' is used outside its Merge")
            return [self.parent.value(node.inputs[0])]
        return None


class _FunctionContext(_Context):
    """The body of a FunctionDef being instantiated: arguments are given, nothing reaches outside."""

    def __init__(self, importer, function, args: dict):
        super().__init__(importer, None)
        self.function = function
        self.args = args
        self.memo = {}

    def owner(self, name: str) -> "_Context":
        return self

    def value(self, tensor: tuple) -> _ops.Tensor:
        name, index = tensor
        if index == -1:
            return self.args[name]
        outs = self.outputs(name)
        if isinstance(outs, _ops.Operation):
            raise ValueError(f"node '{name}' has no outputs")
        return outs[index]

    def control(self, name: str):
        outs = self.outputs(name)
        if isinstance(outs, _ops.Operation):
            return outs
        live = [t for t in outs if t is not None]
        return live[0].op if live else None

    def build(self, name: str) -> None:
        saved = self.importer.nodes
        self.importer.nodes = self.function.nodes
        try:
            super().build(name)
        finally:
            self.importer.nodes = saved


# ------------------------------------------------------------------------------------------------
# Functions
# ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(eq=False)
class _Function:
    name: str
    arg_names: list
    arg_dtypes: list
    outputs: list        # per output arg: (node, index) or (arg name, -1)
    control_outputs: list
    nodes: dict


# ------------------------------------------------------------------------------------------------
# The importer
# ------------------------------------------------------------------------------------------------
class _Importer:
    def __init__(self, graph: _ops.Graph, graph_def, prefix: str, input_map: dict, clear_devices: bool = False):
        from graphcompat.framework import registry
        self.graph = graph
        self.registry = registry
        self.prefix = prefix
        self.input_map = input_map
        self.clear_devices = clear_devices
        self.library_protos = {f.signature.name: f for f in graph_def.library.function}
        # function name -> its GradientDef's gradient function (the ones a call's import honours)
        self.gradient_defs = {g.function_name: g.gradient_func for g in graph_def.library.gradient
                              if g.gradient_func in self.library_protos and not _derivative_is_graphcompats(
                                  self.library_protos.get(g.function_name))}
        self.functions: dict = {}
        self._check_op_types(graph_def)
        self.nodes = self._parse(graph_def)
        self.final_names = self._final_names()
        self._resolve_inputs()
        self.order = self._topological_order()
        self._check_nodes()
        has_v1 = any(n.op in CONTROL_FLOW_V1 for n in self.nodes.values())
        self.flow = _ControlFlow(self.nodes, self.order, _is_stateful) if has_v1 else None
        if has_v1:
            self.consumed = {t for n in self.nodes.values() for t in n.inputs}
            self.consumers: dict = {name: [] for name in self.nodes}
            for n in self.nodes.values():
                for src, _ in n.inputs:
                    if src in self.consumers:
                        self.consumers[src].append(n.name)
        self.outer_device = self._outer_device()
        # op types rebuilt with the builders rather than recorded as they are (is_structural)
        self.structural_types = CONTROL_FLOW_V1 | FUNCTIONAL | set(self.library_protos) | _rebuilt_datasets()
        self._building: set = set()  # cond groups being built (a group that needs itself cannot be rebuilt)

    # --- validation ---------------------------------------------------------------------------
    def _check_op_types(self, graph_def) -> None:
        known = set(self.registry.OP_DEFS) | CONTROL_FLOW_V1 | FUNCTIONAL | set(self.library_protos)
        used = {n.op for n in graph_def.node}
        for f in graph_def.library.function:
            used.update(n.op for n in f.node_def)
        missing = sorted(used - known)
        if missing:
            names = ", ".join(f"'{m}'" for m in missing)
            raise UnregisteredOpsError(
                None, None, f"Op type not registered {names} in binary running on graphcompat. graphcompat "
                f"cannot import or run {'this op type' if len(missing) == 1 else 'these op types'} yet "
                "(docs/op_coverage.md lists the TF op types graphcompat supports).")

    def _parse(self, graph_def) -> dict:
        nodes: dict = {}
        for proto in graph_def.node:
            if proto.name in nodes:
                raise ValueError(f"Node '{proto.name}' is not unique")
            if not _VALID_NODE_NAME.match(proto.name):
                raise ValueError(f"Node '{proto.name}': Node name contains invalid characters")
            nodes[proto.name] = self._parse_node(proto)
        return nodes

    def _parse_node(self, proto) -> _Node:
        op_def = self.registry.OP_DEFS.get(proto.op)
        if proto.op in self.library_protos:
            op_def = None
        inputs, control = [], []
        for text in proto.input:
            if text.startswith("^"):
                control.append(text[1:])
            else:
                inputs.append(text)
        return _Node(proto.name, proto.op, inputs, control, _node_attrs(proto, op_def), proto.device, [], proto)

    def _final_names(self) -> dict:
        """GraphDef name → op name: `prefix/name`; a name already taken gets TF's `_1`, `_2` … suffix."""
        graph, prefix = self.graph, self.prefix
        taken = set(graph._names_in_use) | {n.lower() for n in graph._nodes_by_name}
        if prefix:
            taken.discard(prefix.lower())  # the import scope itself was just marked as used
        names = {}
        for name in self.nodes:
            final = f"{prefix}/{name}" if prefix else name
            candidate, i = final, 0
            while candidate.lower() in taken:
                i += 1
                candidate = f"{final}_{i}"
            taken.add(candidate.lower())
            names[name] = candidate
        return names

    def _resolve_inputs(self) -> None:
        for node in self.nodes.values():
            resolved = []
            for text in node.inputs:
                src, index = _parse_tensor_name(text)
                if src not in self.nodes and f"{src}:{index}" not in self.input_map:
                    raise ValueError(f"Node '{node.name}': Unknown input node '{text}'")
                resolved.append((src, index))
            node.inputs = resolved
            for src in node.control:
                if src not in self.nodes and f"^{src}" not in self.input_map:
                    raise ValueError(f"Node '{node.name}': Unknown input node '^{src}'")

    def _topological_order(self) -> list:
        """A topological order (a while loop's NextIteration → Merge back edges left out) that follows
        GraphDef order wherever dependencies allow, so names and op ids come out predictable."""
        import heapq
        nodes = self.nodes
        position = {name: i for i, name in enumerate(nodes)}
        if self._in_graph_def_order(position):
            return list(nodes)
        deps: dict = {}
        users: dict = {name: [] for name in nodes}
        for node in nodes.values():
            sources = set()
            for src, index in node.inputs:
                if f"{src}:{index}" in self.input_map or src not in nodes:
                    continue
                if node.op in _MERGE and nodes[src].op in _NEXT:
                    continue
                sources.add(src)
            sources.update(c for c in node.control if c in nodes and f"^{c}" not in self.input_map)
            deps[node.name] = len(sources)
            for s in sources:
                users[s].append(node.name)
        heap = [(position[name], name) for name in nodes if deps[name] == 0]
        heapq.heapify(heap)
        order = []
        while heap:
            _, name = heapq.heappop(heap)
            order.append(name)
            for user in users[name]:
                deps[user] -= 1
                if deps[user] == 0:
                    heapq.heappush(heap, (position[user], user))
        if len(order) != len(nodes):
            raise ValueError(f"{len(nodes) - len(order)} nodes in a cycle")
        return order

    def _in_graph_def_order(self, position: dict) -> bool:
        """Whether every node comes after the nodes it depends on (as in the GraphDefs TF writes), with the
        dependencies _topological_order counts: then GraphDef order is the order it would compute."""
        nodes, input_map = self.nodes, self.input_map
        for i, node in enumerate(nodes.values()):
            merge = node.op in _MERGE
            for src, index in node.inputs:
                j = position.get(src)
                if j is None or j < i or (input_map and f"{src}:{index}" in input_map):
                    continue
                if merge and nodes[src].op in _NEXT:
                    continue
                return False
            for c in node.control:
                j = position.get(c)
                if j is not None and j >= i and not (input_map and f"^{c}" in input_map):
                    return False
        return True

    def _check_nodes(self) -> None:
        for name in self.order:
            node = self.nodes[name]
            final = self.final_names[name]
            node.out_dtypes = self.output_dtypes(node, final)
            self._check_inputs(node, final)

    def output_dtypes(self, node: _Node, final: str) -> list:
        proto = self.library_protos.get(node.op)
        if proto is not None:  # a direct call of a library function (TF1's Defun)
            return [_dt.as_dtype(a.type) for a in proto.signature.output_arg]
        return _output_dtypes(node, final)

    def _source_dtype(self, consumer: str, tensor: tuple):
        """The dtype `tensor` (an input of `consumer`) has: its input_map replacement's, or its node's output's."""
        if self.input_map:
            mapped = self.input_map.get(f"{tensor[0]}:{tensor[1]}")
            if mapped is not None:
                return mapped.dtype
        src = self.nodes[tensor[0]]
        if not 0 <= tensor[1] < len(src.out_dtypes):
            raise ValueError(f"Node '{consumer}': Connecting to invalid output {tensor[1]} of source node "
                             f"{tensor[0]} which has {len(src.out_dtypes)} outputs.")
        return src.out_dtypes[tensor[1]]

    def _source_name(self, tensor: tuple) -> str:
        """The name of what `tensor` is read from in the graph (for error texts)."""
        mapped = self.input_map.get(f"{tensor[0]}:{tensor[1]}")
        return mapped.name if mapped is not None else f"{self.final_names[tensor[0]]}:{tensor[1]}"

    def _check_inputs(self, node: _Node, final: str) -> None:
        if node.op in CONTROL_FLOW_V1 or node.op in FUNCTIONAL:
            count = _structural_signature(node.op, node.attrs)[0]
            if count != len(node.inputs):
                raise ValueError(f"NodeDef expected {count} inputs but {len(node.inputs)} are specified; "
                                 f"NodeDef: {{{{node {final}}}}}")
            for tensor in node.inputs:
                if not (node.op in _MERGE and self.nodes.get(tensor[0]) is not None
                        and self.nodes[tensor[0]].op in _NEXT):
                    self._source_dtype(node.name, tensor)
            return
        if node.op in self.library_protos:
            count = len(self.library_protos[node.op].signature.input_arg)
            if count != len(node.inputs):
                raise ValueError(f"NodeDef expected {count} inputs but {len(node.inputs)} are specified; "
                                 f"NodeDef: {{{{node {final}}}}}")
            return
        op_def = self.registry.OP_DEFS[node.op]
        try:
            expected = _expected_inputs(op_def, node.attrs)
        except KeyError as err:
            raise _missing_attr(node, final, op_def, err.args[0]) from None
        if len(expected) != len(node.inputs):
            words = ", ".join("?" if d is None else _type_name(d._as_ref() if ref else d) for d, ref in expected)
            raise ValueError(f"NodeDef expected inputs '{words}' do not match {len(node.inputs)} inputs "
                             f"specified; {_op_signature(op_def)}; NodeDef: {{{{node {final}}}}}")
        for i, (tensor, (want, is_ref)) in enumerate(zip(node.inputs, expected)):
            got = self._source_dtype(node.name, tensor)
            if want is None or (got is want and not is_ref and not want.is_ref_dtype):  # the common case
                continue
            if got.base_dtype != want or (is_ref and not got.is_ref_dtype):
                wanted = want._as_ref() if is_ref else want
                raise ValueError(f"Input {i} of node {final} was passed {_type_name(got)} from "
                                 f"{self._source_name(tensor)} incompatible with expected {_type_name(wanted)}.")

    def _outer_device(self) -> str:
        device = ""
        for spec in self.graph._device_stack:
            if spec is None:
                device = ""
            elif callable(spec) and not hasattr(spec, "to_string"):
                continue  # device functions need the op: applied when it exists (see _place)
            else:
                device = _ops.merge_device(device, _ops.canonical_device(spec))
        return device

    # --- the import -----------------------------------------------------------------------------
    def run(self) -> None:
        # The importer keeps the root context's memo, not the context: a context refers to its importer,
        # and a cycle would leave the importer's ~8 objects per node to Python's cyclic collector instead of
        # freeing them when the import returns.
        root = _RootContext(self, None)
        self.root_memo = root.memo
        for name in self.order:
            if self._home_is_root(name):
                root.outputs(name)

    def _home_is_root(self, name: str) -> bool:
        if self.flow is None:
            return True
        node = self.nodes[name]
        if self.flow.frame.get(name) is not _ROOT_FRAME or self.flow.state.get(name, _NO_STATE):
            return False
        if node.op in _SWITCH | _ENTER | _NEXT or node.op == "LoopCond":
            return False
        return True

    def built(self, name: str):
        """The op or tensors a GraphDef node became at the top level (None if rebuilt away)."""
        return self.root_memo.get(name)

    def mapped(self, ctx: _Context, tensor: tuple) -> Optional[_ops.Tensor]:
        if isinstance(ctx, _FunctionContext) or not self.input_map:
            return None
        return self.input_map.get(f"{tensor[0]}:{tensor[1]}")

    def mapped_control(self, ctx: _Context, name: str) -> Optional[_ops.Operation]:
        if isinstance(ctx, _FunctionContext) or not self.input_map:
            return None
        mapped = self.input_map.get(f"^{name}")
        return mapped.op if mapped is not None else None

    def dependencies(self, ctx: _Context, node: _Node) -> list:
        if not self.input_map:  # (nothing mapped: the common case, without a lookup per input)
            deps = [src for src, index in node.inputs if index != -1]
        else:
            deps = [src for src, index in node.inputs if index != -1 and self.mapped(ctx, (src, index)) is None]
        if not node.control:
            return deps
        deps.extend(c for c in node.control if self.mapped_control(ctx, c) is None
                    and not (c in self.nodes and self.nodes[c].op in CONTROL_FLOW_V1))  # see _Context.control
        return deps

    def is_structural(self, node: _Node) -> bool:
        if node.op == "ControlTrigger":  # a trigger syncing both sides of a cond is built with that cond
            return self.flow is not None and node.name in self.flow.merge_group
        return node.op in self.structural_types

    # --- one node ---------------------------------------------------------------------------------
    def create(self, ctx: _Context, node: _Node, inputs: Optional[list] = None, attrs: Optional[dict] = None):
        """Records one ordinary node in the current graph; returns its outputs (or the op). `inputs` and
        `attrs` replace the node's own where given (a dataset node naming its imported function)."""
        registry = self.registry
        graph = _ops.get_default_graph()
        op_def = registry.OP_DEFS[node.op]
        if inputs is None:
            inputs = [ctx.value(t) for t in node.inputs]
        control = []
        for c in node.control:
            op = ctx.control(c)
            if op is not None and op not in control:
                control.append(op)
        attrs = dict(node.attrs if attrs is None else attrs)
        name = ctx.final_name(node)
        if name is None:
            name = graph.unique_name(node.name.rpartition("/")[2])
        if "_class" in attrs and isinstance(attrs["_class"], list):
            attrs["_class"] = [self._rename_colocation(v) for v in attrs["_class"]]
        out_dtypes = node.out_dtypes
        if isinstance(ctx, _FunctionContext):
            _check_function_inputs(node, op_def, attrs, inputs, name)
        if node.op == "Const":
            value = attrs["value"]
            shapes = [_ts.TensorShape(value.shape if isinstance(value, np.ndarray) else np.shape(value))]
        else:
            shapes = registry.infer_shapes(op_def, name, inputs, attrs, out_dtypes)
        op = graph._create_op_internal(node.op, inputs, out_dtypes, shapes, name, attrs, control)
        self._place(op, node, attrs)
        return list(op._outputs) if op._outputs else op

    def _rename_colocation(self, value):
        if isinstance(value, str) and value.startswith("loc:@"):
            target = value[len("loc:@"):]
            if target in self.final_names:
                return "loc:@" + self.final_names[target]
        return value

    def _place(self, op: _ops.Operation, node: _Node, attrs: dict) -> None:
        if self.clear_devices:
            op._device = ""
            return
        device = _ops.canonical_device(node.device) if node.device else ""
        colocated = [v[len("loc:@"):] for v in attrs.get("_class", []) if isinstance(v, str)
                     and v.startswith("loc:@") and v[len("loc:@"):] != op.name]
        if colocated:
            device = ""
            for target in colocated:
                other = self.graph._nodes_by_name.get(target)
                if other is not None and other.device:
                    device = other.device
                    break
            op._device = device
            return
        op._device = _ops.merge_device(self.outer_device, device)
        for spec in self.graph._device_stack:
            if callable(spec) and not hasattr(spec, "to_string"):
                op._device = _ops.merge_device(_ops.canonical_device(spec(op)), op._device)

    # --- structures -----------------------------------------------------------------------------
    def build_structure(self, ctx: _Context, node: _Node):
        if node.op in _MERGE or node.op == "ControlTrigger":
            return self._build_cond_group(ctx, node)
        if node.op in _EXIT:
            return self._build_while_frame(ctx, node)
        if node.op in ("If", "StatelessIf"):
            return self._build_if(ctx, node)
        if node.op in ("Case", "StatelessCase"):
            return self._build_case(ctx, node)
        if node.op in ("While", "StatelessWhile"):
            return self._build_while(ctx, node)
        if node.op in ("PartitionedCall", "StatefulPartitionedCall"):
            return self._build_call(ctx, node, node.attrs["f"])
        if node.op in self.library_protos:
            return self._build_call(ctx, node, node.op)
        if self.flow is not None and node.name in self.flow.pass_switch:  # its data on the side it takes
            outs = [None, None]
            outs[self.flow.pass_switch[node.name]] = ctx.value(node.inputs[0])
            return outs
        if node.op == "SymbolicGradient":
            return self._build_symbolic_gradient(ctx, node)
        if node.op in _rebuilt_datasets():
            return self._build_dataset(ctx, node)
        raise NotImplementedError(f"node '{node.name}' ({node.op}) is used outside the control-flow structure "
                                  "it belongs to: graphcompat cannot rebuild it")

    def _build_dataset(self, ctx: _Context, node: _Node):
        """A tf.data node with a function (or a one-shot iterator): the function imported by calling it
        (graphcompat/data/graph_import.py), then the node recorded naming it."""
        from graphcompat.data import graph_import

        def call(func_attr, args: list) -> list:
            return self.call(func_attr, args)[0]

        if node.op == "OneShotIterator":
            control = [op for op in (ctx.control(c) for c in node.control) if op is not None]
            name = ctx.final_name(node)
            if name is None:
                name = _ops.get_default_graph().unique_name(node.name.rpartition("/")[2], mark_as_used=False)
            with _ops.control_dependencies(control) if control else contextlib.nullcontext():
                out = graph_import.import_one_shot_iterator(name, node.attrs, call)
            self._place_structure(out.op, node)
            return [out]
        inputs, attrs = graph_import.import_functions(node.op, node.name, [ctx.value(t) for t in node.inputs],
                                                      dict(node.attrs), call)
        return self.create(ctx, node, inputs, attrs)

    def _name_outputs(self, ctx: _Context, node: _Node, values: list, control: Sequence = ()):
        """The node's outputs under its own name: an Identity (one output), IdentityN, or a NoOp."""
        from graphcompat.framework.registry import apply_op
        name = ctx.final_name(node)
        graph = _ops.get_default_graph()
        if name is None:
            name = graph.unique_name(node.name.rpartition("/")[2], mark_as_used=False)
        scope = name + "/"
        with _ops.control_dependencies(list(control)) if control else contextlib.nullcontext():
            if not values:
                from graphcompat.ops.control_ops import no_op
                return no_op(name=scope)
            if len(values) == 1:
                out = apply_op("Identity", [values[0]], name=scope)
                self._place_structure(out.op, node)
                return [out]
            outs = apply_op("IdentityN", [list(values)], name=scope)
            self._place_structure(outs[0].op, node)
            return list(outs)

    def _place_structure(self, op, node: _Node) -> None:
        if not self.clear_devices and node.device:
            op._device = _ops.merge_device(self.outer_device, _ops.canonical_device(node.device))

    def _build_cond_group(self, ctx: _Context, member: _Node):
        """One tf.cond for every Merge that joins the two sides of the same predicate (one TF1 cond), and
        for the ControlTriggers that sync stack operations on both of its sides (TF 1's gradient of a cond
        in a loop): each branch runs its side's trigger inputs, so only the taken side pushes or pops, once."""
        from graphcompat.framework.constant_op import constant
        from graphcompat.ops.control_flow_ops import cond
        flow = self.flow
        gkey = flow.merge_group[member.name]
        group = flow.groups[gkey]
        if gkey in self._building:
            # a branch needs one of its own cond's results: two conds on one predicate were joined because
            # they share a stateful node, but one also feeds the other
            raise NotImplementedError(f"'{member.name}' belongs to a cond on '{group.key[0]}:{group.key[1]}' whose "
                                      "branches need its own results: graphcompat cannot rebuild it")
        pred = ctx.value(group.pred)
        self._building.add(gkey)
        try:
            self._build_cond_inputs(ctx, group)
        except BaseException:
            self._building.discard(gkey)
            raise
        # value_index (which side ran): built when a node uses it, or at the top level, where a fetch may
        with_index = [m for m in group.merges if (m, 1) in self.consumed or isinstance(ctx, _RootContext)]

        def branch(side):
            def fn():
                bctx = _BranchContext(self, ctx, group, side)
                outs = [bctx.value(group.sides[m][side]) for m in group.merges]
                outs += [constant(np.int32(side)) for _ in with_index]
                if group.triggers:
                    # what the triggers wait for: this side's inputs, run by this branch
                    deps = [bctx.control(d) for deps, _ in group.triggers.values() for d in deps[side]]
                    with _ops.control_dependencies([op for op in deps if op is not None]):
                        outs.append(constant(np.int32(side), name="sync"))
                return outs
            return fn

        first = group.merges[0] if group.merges else next(iter(group.triggers))
        scope = self._scope_for(ctx, first.rpartition("/")[0])
        try:
            with _ops.name_scope(None), _ops.name_scope(scope or None):
                results = list(cond(pred, branch(1), branch(0), strict=True, name="cond"))
        finally:
            self._building.discard(gkey)
        index_values = dict(zip(with_index, results[len(group.merges):]))
        for merge, value in zip(group.merges, results):
            node = self.nodes[merge]
            if merge in index_values:
                ctx.memo[merge] = self._name_outputs(ctx, node, [value, index_values[merge]])
            else:
                ctx.memo[merge] = self._name_outputs(ctx, node, [value]) + [None]
        for trigger, (_, outer_deps) in group.triggers.items():
            control = [results[-1].op] + [op for op in (ctx.control(d) for d in outer_deps) if op is not None]
            ctx.memo[trigger] = self._name_outputs(ctx, self.nodes[trigger], [], control=control)
        return ctx.memo[member.name]

    def _build_cond_inputs(self, ctx: _Context, group: _CondGroup) -> None:
        """Builds what a cond's branches read from outside it before the cond records them: a node built
        first while a branch records would become that branch's (TF 1's gradient of a cond in a loop pops
        stacks outside the backward cond that only its branches and a trigger read: each runs once, in the
        loop body)."""
        flow, nodes = self.flow, self.nodes

        def outside(name: str) -> bool:
            return name in nodes and not flow.state.get(name, _NO_STATE) - group.outer

        def read(name: str, index: int) -> None:
            node = nodes[name]
            if node.op in _SWITCH and name not in flow.loop_switch and flow.pred_key(node.inputs[1]) == group.key:
                ctx.value(node.inputs[0])  # what the branch sees of an outer value
            elif outside(name):
                ctx.value((name, index))
        for side, inside in group.nodes.items():
            for merge in group.merges:
                name, index = group.sides[merge][side]
                if name not in inside and name in nodes:
                    read(name, index)
            for name in inside:
                for src, index in nodes[name].inputs:
                    if src not in inside and src in nodes and index >= 0:
                        read(src, index)
                for c in nodes[name].control:
                    if c not in inside and outside(c) and nodes[c].op not in CONTROL_FLOW_V1:
                        ctx.control(c)
        for _, outer_deps in group.triggers.values():
            for d in outer_deps:
                ctx.control(d)

    def _scope_for(self, ctx: _Context, graphdef_scope: str) -> str:
        """The name scope builders run in for a structure found under `graphdef_scope` in the GraphDef."""
        if isinstance(ctx, _RootContext):
            base = "/".join(p for p in (self.prefix, graphdef_scope) if p)
            return base + "/" if base else ""
        current = _ops.get_default_graph().get_name_scope()
        return current + "/" if current else ""

    def _build_while_frame(self, ctx: _Context, exit_node: _Node):
        """One tf.while_loop for a TF1 while frame: Enter → Merge ← NextIteration, Switch on LoopCond, Exit."""
        from graphcompat.ops.array_ops import identity
        from graphcompat.ops.control_flow_ops import while_loop
        nodes = self.nodes
        frame = self.flow.frame[exit_node.inputs[0][0]]
        merges, inits, next_values, next_control = [], [], [], []
        parallel = 10
        for enter in frame.enters:
            enode = nodes[enter]
            parallel = int(enode.attrs.get("parallel_iterations", parallel) or parallel)
            if enode.attrs.get("is_constant", False):
                # built now, outside the loop: an outer node that only the loop reads (TF 1's gradients
                # create a history StackV2 after the forward loop in the GraphDef) must not be recorded
                # while the body is, or it would become part of the body and run once per iteration
                ctx.value(enode.inputs[0])
                continue
            merge = [m for m in self.consumers[enter] if nodes[m].op in _MERGE]
            if len(merge) != 1:
                raise NotImplementedError(f"loop Enter '{enter}' does not feed exactly one Merge")
            mnode = nodes[merge[0]]
            nxt = [src for src, _ in mnode.inputs if nodes[src].op in _NEXT]
            if len(nxt) != 1:
                raise NotImplementedError(f"loop Merge '{mnode.name}' has no NextIteration input")
            merges.append(mnode.name)
            inits.append(ctx.value(enode.inputs[0]))
            next_values.append(nodes[nxt[0]].inputs[0])
            next_control.append(nodes[nxt[0]].control)
        loop_cond = nodes[frame.loop_cond]
        exits = {}
        for x in frame.exits:
            exits[x] = merges.index(self._exit_merge(nodes[x]))

        def cond_fn(*values):
            return _LoopContext(self, ctx, frame, dict(zip(merges, values))).value(loop_cond.inputs[0])

        def body_fn(*values):
            lctx = _LoopContext(self, ctx, frame, dict(zip(merges, values)))
            outs = [lctx.value(t) for t in next_values]
            # A NextIteration's control inputs are iteration work nothing else needs: TF 1's gradients
            # push the forward values on stacks (`^…/StackPushV2` on the f_count counter's NextIteration)
            # and sync the backward iteration on its pops (`^…/b_sync`). The next iteration (and so the
            # loop's results) waits for them, as in TF.
            for i, names in enumerate(next_control):
                deps = [op for op in (lctx.control(c) for c in names) if op is not None]
                if deps:
                    with _ops.control_dependencies(deps):
                        outs[i] = identity(outs[i])
            return outs

        bound = self._maximum_iterations(frame, merges, next_values)
        maximum = ctx.value(bound) if bound is not None else None
        scope = self._scope_for(ctx, frame.exits[0].rpartition("/")[0] if frame.exits else "")
        with _ops.name_scope(None), _ops.name_scope(scope or None):
            results = while_loop(cond_fn, body_fn, list(inits), parallel_iterations=parallel, name="while",
                                 maximum_iterations=maximum)
        results = list(results) if isinstance(results, (list, tuple)) else [results]
        for x, i in exits.items():
            ctx.memo[x] = self._name_outputs(ctx, nodes[x], [results[i]])
        return ctx.memo[exit_node.name]

    def _maximum_iterations(self, frame: _Frame, merges: list, next_values: list) -> Optional[tuple]:
        """The outer tensor a TF 1 loop's `maximum_iterations` was, or None. TF 1 records it as a loop
        variable `iteration_counter` (from 0, + 1 each iteration) and the loop condition
        `LogicalAnd(Less(counter, maximum), cond)`. Given to the rebuilt tf.while_loop (an equivalent
        bound), it is the static trip bound the lowering sizes the stacks of TF 1's gradient with, so the
        training step compiles (lowering/rules/stacks.py)."""
        nodes = self.nodes

        def source(tensor):
            name, index = tensor
            while nodes[name].op == "Identity":
                name, index = nodes[name].inputs[0]
            return name, index

        def const(tensor, value) -> bool:
            node = nodes.get(tensor[0])
            return node is not None and node.op == "Const" and np.asarray(node.attrs.get("value")).shape == () \
                and int(np.asarray(node.attrs["value"])) == value
        test = nodes[nodes[frame.loop_cond].inputs[0][0]]
        if test.op != "LogicalAnd":
            return None
        less = nodes[test.inputs[0][0]]
        if less.op != "Less" or less.inputs[0][0] not in merges:
            return None
        merge = less.inputs[0][0]
        enter = nodes[less.inputs[1][0]]
        if enter.op not in _ENTER or not enter.attrs.get("is_constant", False):
            return None
        init = nodes[nodes[merge].inputs[0][0]]
        if init.op not in _ENTER or not const(init.inputs[0], 0):
            return None
        step = nodes[next_values[merges.index(merge)][0]]
        if step.op not in ("Add", "AddV2") or not const(step.inputs[1], 1):
            return None
        switch = nodes[source(step.inputs[0])[0]]
        if switch.op not in _SWITCH or switch.inputs[0][0] != merge or source(step.inputs[0])[1] != 1:
            return None
        return enter.inputs[0]

    def _exit_merge(self, exit_node: _Node) -> str:
        """The loop Merge whose final value an Exit passes out: through its Switch's false side, and
        through the Identities TF 1's gradients put between them (`…_grad/tuple/control_dependency`)."""
        name, index = exit_node.inputs[0]
        while self.nodes[name].op == "Identity" and index == 0:
            name, index = self.nodes[name].inputs[0]
        node = self.nodes[name]
        if node.op not in _SWITCH or name not in self.flow.loop_switch or index != 0:
            raise NotImplementedError(f"Exit node '{exit_node.name}' does not pass out a loop variable (its input "
                                      f"is '{name}:{index}', a {node.op}): graphcompat cannot rebuild this loop")
        return node.inputs[0][0]

    # --- functional control flow ------------------------------------------------------------------
    def function(self, name: str) -> _Function:
        func = self.functions.get(name)
        if func is not None:
            return func
        proto = self.library_protos.get(name)
        if proto is None:
            raise ValueError(f"function '{name}' is not in the GraphDef's library")
        sig = proto.signature
        nodes = {}
        for nd in proto.node_def:
            node = self._parse_node(nd)
            node.attrs = _node_attrs(nd, None if nd.op in CONTROL_FLOW_V1 | FUNCTIONAL
                                     else self.registry.OP_DEFS.get(nd.op))
            nodes[nd.name] = node
            if nd.op in CONTROL_FLOW_V1:
                raise NotImplementedError(f"function '{name}' contains TF1 control flow ({nd.op}): graphcompat "
                                          "imports functions with functional control flow only")
        arg_names = [a.name for a in sig.input_arg]
        for node in nodes.values():
            node.out_dtypes = self.output_dtypes(node, node.name)
        for node in nodes.values():
            node.inputs = [_function_input(text, nodes, arg_names, name, self.library_protos)
                           for text in node.inputs]
        outputs = [_function_input(proto.ret[a.name], nodes, arg_names, name, self.library_protos)
                   for a in sig.output_arg]
        control_outputs = [proto.control_ret[a] for a in sig.control_output if a in proto.control_ret]
        arg_dtypes = [_dt.as_dtype(a.type) if a.type else None for a in sig.input_arg]
        func = self.functions[name] = _Function(name, arg_names, arg_dtypes, outputs, control_outputs, nodes)
        return func

    def call(self, func_attr, args: Sequence[_ops.Tensor]) -> list:
        """Imports a function's body with `args` bound; returns its outputs (control outputs run first)."""
        from graphcompat.ops.array_ops import identity
        func = self.function(func_attr.name if hasattr(func_attr, "name") else str(func_attr))
        if len(args) != len(func.arg_names):
            raise ValueError(f"function '{func.name}' takes {len(func.arg_names)} arguments, got {len(args)}")
        fctx = _FunctionContext(self, func, dict(zip(func.arg_names, args)))
        outs = [fctx.value(t) for t in func.outputs]
        targets = [fctx.control(n) for n in func.control_outputs]
        targets = [t for t in targets if t is not None]
        if targets:
            with _ops.control_dependencies(targets):
                outs = [identity(o) for o in outs]
        return outs, targets

    def _branch(self, func_attr, args: list):
        """A cond/case branch callable that imports a library function's body with `args` bound."""
        from graphcompat.framework.constant_op import constant

        def fn():
            outs, targets = self.call(func_attr, args)
            if not outs:  # side effects only: a token that carries them
                with _ops.control_dependencies(targets):
                    return [constant(np.int32(0))]
            return outs
        return fn

    def _build_if(self, ctx: _Context, node: _Node):
        from graphcompat.ops.control_flow_ops import cond
        pred = _as_predicate(ctx.value(node.inputs[0]))
        args = [ctx.value(t) for t in node.inputs[1:]]
        branch = functools.partial(self._branch, args=args)
        with _ops.name_scope(self._scope_for(ctx, node.name.rpartition("/")[0]) or None):
            results = cond(pred, branch(node.attrs["then_branch"]), branch(node.attrs["else_branch"]),
                           strict=True, name=node.name.rpartition("/")[2])
        results = list(results)
        if not node.out_dtypes:
            return self._name_outputs(ctx, node, [], control=[results[0].op])
        return self._name_outputs(ctx, node, results)

    def _build_case(self, ctx: _Context, node: _Node):
        from graphcompat.ops.control_flow_ops import indexed_case
        index = ctx.value(node.inputs[0])
        args = [ctx.value(t) for t in node.inputs[1:]]
        branch = functools.partial(self._branch, args=args)
        with _ops.name_scope(self._scope_for(ctx, node.name.rpartition("/")[0]) or None):
            results = indexed_case(index, [branch(f) for f in node.attrs["branches"]],
                                   node.name.rpartition("/")[2])
        results = list(results)
        if not node.out_dtypes:
            return self._name_outputs(ctx, node, [], control=[results[0].op])
        return self._name_outputs(ctx, node, results)

    def _build_while(self, ctx: _Context, node: _Node):
        from graphcompat.ops.control_flow_ops import while_loop
        init = [ctx.value(t) for t in node.inputs]
        body = self.function(node.attrs["body"].name)
        # Loop-invariant inputs (the body returns its argument unchanged: captured tensors, resource
        # handles) are not loop variables: the callables see the outer tensor itself.
        invariant = [out == (arg, -1) for out, arg in zip(body.outputs, body.arg_names)]
        for i, t in enumerate(init):
            # (a variant loop variable is a TensorList: control flow v2's TensorArrays, accumulators)
            if t.dtype.base_dtype == _dt.resource and not invariant[i]:
                raise NotImplementedError(f"While node '{node.name}' carries a {t.dtype.name} loop variable that "
                                          "changes: graphcompat imports loops whose resources are loop-invariant")
        carried = [i for i in range(len(init)) if not invariant[i]]

        def full(values):
            args = list(init)
            for i, v in zip(carried, values):
                args[i] = v
            return args

        def cond_fn(*values):
            outs, _ = self.call(node.attrs["cond"], full(values))
            return _as_predicate(outs[0])

        def body_fn(*values):
            outs, _ = self.call(node.attrs["body"], full(values))
            return [outs[i] for i in carried]

        shapes = node.attrs.get("output_shapes") or []
        invariants = [shapes[i] for i in carried] if len(shapes) == len(init) else None
        with _ops.name_scope(self._scope_for(ctx, node.name.rpartition("/")[0]) or None):
            if carried:
                results = while_loop(cond_fn, body_fn, [init[i] for i in carried], shape_invariants=invariants,
                                     parallel_iterations=int(node.attrs.get("parallel_iterations", 10) or 10),
                                     maximum_iterations=_while_v2_bound(node, init),
                                     name=node.name.rpartition("/")[2])
                results = list(results) if isinstance(results, (list, tuple)) else [results]
            else:
                results = []
        values = list(init)
        for i, v in zip(carried, results):
            values[i] = v
        return self._name_outputs(ctx, node, values)

    def _build_call(self, ctx: _Context, node: _Node, func):
        """A function call, inlined: the body's ops in the call's name scope. A function with a GradientDef
        whose gradient graphcompat would not derive itself (a user's gradient, as graphcompat's export writes
        it: graphcompat/framework/user_gradient_export.py) becomes a `tf.custom_gradient` whose gradient
        function imports the GradientDef's body."""
        args = [ctx.value(t) for t in node.inputs]
        scope = self._scope_for(ctx, node.name) if isinstance(ctx, _RootContext) else None
        gradient = self.gradient_defs.get(func) if isinstance(func, str) else None
        with _ops.name_scope(scope or node.name.rpartition("/")[2]):
            if gradient is not None and args:
                return self._name_outputs(ctx, node, self._call_with_gradient(func, gradient, args))
            outs, targets = self.call(func, args)
        return self._name_outputs(ctx, node, outs, control=targets if not outs else ())

    def _call_with_gradient(self, func: str, gradient: str, args: list) -> list:
        from graphcompat.custom_gradient import _record_custom_gradient

        def forward(*inputs):
            outs, _ = self.call(func, list(inputs))

            def grad_fn(*dys):
                grads, _ = self.call(gradient, list(inputs) + list(dys))
                return grads
            return list(outs), grad_fn
        return list(_record_custom_gradient(forward, args, {}))

    def _build_symbolic_gradient(self, ctx: _Context, node: _Node):
        from graphcompat.gradients import gradients_of
        from graphcompat.framework.constant_op import convert_to_tensor
        func_attr = node.attrs.get("f")
        if func_attr is None or getattr(func_attr, "name", "") not in self.library_protos:
            return self._create_unrebuildable_gradient(ctx, node)
        func = self.function(func_attr.name)
        n_in = len(func.arg_names)
        xs = [ctx.value(t) for t in node.inputs[:n_in]]
        dys = [ctx.value(t) for t in node.inputs[n_in:]]
        with _ops.name_scope(node.name.rpartition("/")[2]):
            ys, _ = self.call(func_attr, xs)
            # a resource argument with a float gradient: a variable read inside a loop/cond body
            # (graphcompat/gradients.py), differentiated as the variable's value again
            variables = [x for x, out in zip(xs, node.out_dtypes) if x.dtype.base_dtype == _dt.resource
                         and _dt.as_dtype(out).base_dtype != _dt.resource]
            grads = gradients_of(ys, xs, grad_ys=dys, unconnected_gradients="zero", variable_handles=variables)
            grads = [convert_to_tensor(g) for g in grads]
        return self._name_outputs(ctx, node, grads)

    def _create_unrebuildable_gradient(self, ctx: _Context, node: _Node):
        """A SymbolicGradient whose forward function the GraphDef lacks (meta graphs graphcompat wrote
        before gradients carried `f`): recorded as is; running it explains what is missing."""
        inputs = [ctx.value(t) for t in node.inputs]
        name = ctx.final_name(node) or _ops.get_default_graph().unique_name(node.name.rpartition("/")[2])
        attrs = dict(node.attrs)
        shapes = [_ts.unknown_shape()] * len(node.out_dtypes)
        op = _ops.get_default_graph()._create_op_internal(node.op, inputs, node.out_dtypes, shapes, name, attrs)
        self._place(op, node, attrs)
        return list(op._outputs)


def _derivative_is_graphcompats(fdef) -> bool:
    """Whether graphcompat's own derivative of the function's body equals its GradientDef, so an import
    differentiates the inlined body instead: the wrappers control_flow_gradients.py writes for TF (a While,
    If, Case, GatherV2 or an op of its `_OP_GRADIENTS` table, alone; integer bookkeeping with zero gradients).
    A missing function: nothing to honour."""
    from graphcompat.framework.control_flow_gradients import has_gradient_def
    if fdef is None:
        return True
    if len(fdef.node_def) == 1 and (fdef.node_def[0].op in FUNCTIONAL or fdef.node_def[0].op == "GatherV2"
                                    or has_gradient_def(fdef.node_def[0].op)):
        return True
    differentiable = {_dt.as_dtype(a.type).base_dtype.is_floating or _dt.as_dtype(a.type).base_dtype.is_complex
                      for a in fdef.signature.input_arg if a.type}
    return True not in differentiable


def _while_v2_bound(node: _Node, init: list):
    """The bound of a while_v2 loop (inputs `loop_counter, maximum_iterations, …`): TF's wrapped cond
    already stops at `counter < maximum_iterations` when that is >= 0; passing it to the rebuilt loop as
    `maximum_iterations` as well changes nothing when the counter starts at 0, and gives graphcompat a
    static trip bound (what lets gradients flow through the loop). A bound computed at run time (map_fn's
    element count, from the shape of a fed tensor) is passed too: it is known once the graph runs, and a
    negative one (no bound) leaves the loop unbounded there as well."""
    from graphcompat.framework.constant_op import constant_value
    if len(init) < 2 or node.attrs.get("body") is None:
        return None
    if any(t.dtype.base_dtype != _dt.int32 or t.shape.ndims != 0 for t in init[:2]):
        return None
    counter, bound = constant_value(init[0]), constant_value(init[1])
    if counter is None or int(counter) != 0 or (bound is not None and int(bound) < 0):
        return None
    return init[1]


def _function_input(text: str, nodes: dict, arg_names: list, fname: str, library: Optional[dict] = None) -> tuple:
    """FunctionDef input naming → (node, flat output index) or (arg, -1)."""
    parts = text.split(":")
    if len(parts) == 1:
        if text in arg_names:
            return text, -1
        if text in nodes:
            return text, 0
    elif len(parts) == 3 and parts[0] in nodes:
        return parts[0], _output_index(nodes[parts[0]], parts[1], int(parts[2]), library)
    elif len(parts) == 2 and parts[0] in nodes:
        return parts[0], int(parts[1])
    raise ValueError(f"function '{fname}': unknown input '{text}'")


def _check_function_inputs(node: _Node, op_def, attrs: dict, inputs: list, name: str) -> None:
    try:
        expected = _expected_inputs(op_def, attrs)
    except KeyError as err:
        raise _missing_attr(node, name, op_def, err.args[0]) from None
    if len(expected) != len(inputs):
        raise ValueError(f"NodeDef expected {len(expected)} inputs but {len(inputs)} are specified; "
                         f"{_op_signature(op_def)}; NodeDef: {{{{node {name}}}}}")
    for i, (t, (want, is_ref)) in enumerate(zip(inputs, expected)):
        if want is not None and t.dtype.base_dtype != want:
            raise ValueError(f"Input {i} of node {name} was passed {_type_name(t.dtype)} from {t.name} "
                             f"incompatible with expected {_type_name(want)}.")


def _as_predicate(t: _ops.Tensor) -> _ops.Tensor:
    """TF's If/While predicate rule: a non-bool scalar is `!= 0` (strings: non-empty), a tensor of
    any other shape is true when it has elements."""
    from graphcompat.ops import array_ops, math_ops
    if t.dtype.base_dtype == _dt.bool_ and t.shape.ndims == 0:
        return t
    zero = "" if t.dtype.base_dtype == _dt.string else np.zeros((), t.dtype.base_dtype.as_numpy_dtype)
    if t.shape.ndims == 0:
        return math_ops.not_equal(t, zero)
    if t.shape.ndims is None:
        # a rank known only at run time (while_v2's gradient pops a cond's predicate off a TensorList whose
        # element shape is unknown): TF's kernel picks the rule by the run-time rank, so does this
        truth = t if t.dtype.base_dtype == _dt.bool_ else math_ops.not_equal(t, zero)
        scalar = math_ops.equal(array_ops.rank(t), 0)
        return math_ops.logical_or(math_ops.logical_and(scalar, math_ops.reduce_any(truth)),
                                   math_ops.logical_and(math_ops.logical_not(scalar),
                                                        math_ops.greater(array_ops.size(t), 0)))
    return math_ops.greater(array_ops.size(t), 0)


# ------------------------------------------------------------------------------------------------
# Atomicity
# ------------------------------------------------------------------------------------------------
class _Checkpoint:
    """What a failed import must restore: the ops, names and collections of the graph before it."""

    def __init__(self, graph: _ops.Graph):
        self.graph = graph
        self.n_ops = len(graph._ops)
        self.names_in_use = dict(graph._names_in_use)
        self.collections = {k: list(v) for k, v in graph._collections.items()}
        self.functions = dict(graph._functions)
        self.version = graph._version

    def rollback(self) -> None:
        graph = self.graph
        added = graph._ops[self.n_ops:]
        added_set = set(added)
        for op in reversed(added):
            graph._nodes_by_name.pop(op.name, None)
            for t in op._inputs:
                if t.op not in added_set:
                    t._consumers = [c for c in t._consumers if c is not op]
            for c in op._control_inputs:
                if c not in added_set:
                    c._control_outputs = [o for o in c._control_outputs if o is not op]
        del graph._ops[self.n_ops:]
        graph._names_in_use.clear()
        graph._names_in_use.update(self.names_in_use)
        graph._collections.clear()
        graph._collections.update(self.collections)
        graph._functions.clear()
        graph._functions.update(self.functions)
        graph._version = self.version


@contextlib.contextmanager
def _gc_paused():
    """Python's cyclic collector off while a GraphDef becomes ops: tens of thousands of new objects would
    otherwise trigger repeated full collections over the whole graph (half the time of a 10k-node import)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def atomic(graph: _ops.Graph):
    """Everything added to `graph` inside is removed again if the block raises."""
    checkpoint = _Checkpoint(graph)
    try:
        yield
    except BaseException:
        checkpoint.rollback()
        raise


# ------------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------------
def as_graph_def_proto(graph_def):
    """Any GraphDef message (tensorboard's, real TensorFlow's, or its bytes) as tensorboard's GraphDef."""
    from tensorboard.compat.proto import graph_pb2
    if isinstance(graph_def, graph_pb2.GraphDef):
        return graph_def
    descriptor = getattr(graph_def, "DESCRIPTOR", None)
    if descriptor is not None and descriptor.full_name.endswith("GraphDef") \
            and hasattr(graph_def, "SerializeToString"):
        return graph_pb2.GraphDef.FromString(graph_def.SerializeToString())
    raise TypeError("Argument `graph_def` must be a GraphDef proto.")


def _process_input_map(input_map) -> dict:
    if input_map is None:
        return {}
    if not isinstance(input_map, dict):
        raise TypeError(f"Argument `input_map` must be a dictionary. Obtained {type(input_map).__name__}")
    if not all(isinstance(k, (str, bytes)) for k in input_map):
        raise TypeError(f"All keys for argument `input_map` must be strings. Obtained keys: {list(input_map)}")
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in input_map.items()}


def _process_return_elements(return_elements):
    if return_elements is None:
        return None
    if not all(isinstance(x, (str, bytes)) for x in return_elements):
        raise TypeError(f"Argument `return_elements` must be a list of strings. Obtained {return_elements}.")
    return tuple(x.decode() if isinstance(x, bytes) else x for x in return_elements)


def _canonical_input_map(input_map: dict) -> dict:
    out = {}
    for key, value in input_map.items():
        if key.startswith("^"):
            out[key] = value
        else:
            name, index = _parse_tensor_name(key)
            out[f"{name}:{index}"] = value
    return out


def import_graph_def(graph_def, input_map: Optional[dict] = None, return_elements=None,
                     name: Optional[str] = None, op_dict=None, producer_op_list=None):
    """`tf.import_graph_def`: adds `graph_def`'s nodes to the default graph under `name` ("import").

    Returns the Tensors/Operations named in `return_elements` (None without it). Raises TF's errors
    (TypeError/ValueError, NotFoundError for op types graphcompat lacks — all of them named at once)
    before changing the graph; a failure while building leaves the graph unchanged too.
    """
    del op_dict, producer_op_list  # TF ignores op_dict; unknown attrs are kept, so stripping is moot
    graph_def = as_graph_def_proto(graph_def)
    input_map = _process_input_map(input_map)
    return_elements = _process_return_elements(return_elements)
    graph = _ops.get_default_graph()
    with atomic(graph):
        with _ops.name_scope(name, "import", list(input_map.values())) as scope:
            prefix = scope[:-1] if scope else ""
            if not all(isinstance(v, _ops.Tensor) for v in input_map.values()):
                if name == "":
                    raise ValueError("tf.import_graph_def() requires a non-empty `name` if `input_map` contains "
                                     "non-Tensor values. Try calling tf.convert_to_tensor() on `input_map` values "
                                     "before calling tf.import_graph_def().")
                from graphcompat.framework.constant_op import convert_to_tensor
                with _ops.name_scope("_inputs"):
                    input_map = {k: convert_to_tensor(v) for k, v in input_map.items()}
        input_map = _canonical_input_map(input_map)
        for key, value in input_map.items():
            if key.startswith("^"):
                continue
            if value.graph is not graph:
                raise ValueError(f"Tensor {value} in input_map is not an element of this graph.")
        return _import(graph, graph_def, prefix, input_map, return_elements)


def _import(graph, graph_def, prefix: str, input_map: dict, return_elements, clear_devices: bool = False):
    # TF's import adds the open control_dependencies blocks' inputs to every imported node without its
    # usual pruning (it compares their ops with the node's input Tensors, which never match): a node fed
    # by another imported node, or by the control input itself through input_map, still gets them.
    saved = graph._unpruned_controllers
    graph._unpruned_controllers = tuple(graph._control_dependencies_stack)
    try:
        with _gc_paused():
            return _import_gc_paused(graph, graph_def, prefix, input_map, return_elements, clear_devices)
    finally:
        graph._unpruned_controllers = saved


def _import_gc_paused(graph, graph_def, prefix: str, input_map: dict, return_elements, clear_devices: bool):
    importer = _Importer(graph, graph_def, prefix, input_map, clear_devices)
    missing = [k for k in input_map if (k[1:] if k.startswith("^") else k.rpartition(":")[0])
               not in importer.nodes]
    if missing:
        raise ValueError(f"Attempted to map inputs that were not found in graph_def: [{', '.join(missing)}]")
    requests = _check_return_elements(importer, return_elements)
    for final in importer.final_names.values():
        graph._names_in_use[final.lower()] = max(graph._names_in_use.get(final.lower(), 0), 1)
    importer.run()
    out = None if requests is None else []
    for node_name, index in requests or ():
        built = importer.built(node_name)
        if built is None:
            raise ValueError(f"node '{node_name}' was rebuilt as part of a control-flow structure and has no "
                             "counterpart in the imported graph")
        if index is None:
            out.append(built if isinstance(built, _ops.Operation) else _op_of(built))
        else:
            out.append(built[index])
    # TF's GraphConstructor::UpdateVersionDef: the oldest producer and the newest min_consumer of both (set
    # last: a failed import leaves the graph as it was)
    graph._producer = min(graph._producer, graph_def.versions.producer)
    graph._min_consumer = max(graph._min_consumer, graph_def.versions.min_consumer)
    return out


def _op_of(outputs: list) -> _ops.Operation:
    return next(t for t in outputs if t is not None).op


def _check_return_elements(importer: _Importer, return_elements) -> Optional[list]:
    if return_elements is None:
        return None
    requests = []
    for element in return_elements:
        if ":" in element:
            node_name, index = _parse_tensor_name(element)
            node = importer.nodes.get(node_name)
            if node is None:
                raise ValueError(f"Requested return tensor '{element}' not found in graph def")
            if not 0 <= index < len(node.out_dtypes):
                raise ValueError(f"Invalid return output {index} of node '{node_name}', which has "
                                 f"{len(node.out_dtypes)} output(s)")
            requests.append((node_name, index))
        else:
            if element not in importer.nodes:
                raise ValueError(f"Requested return node '{element}' not found in graph def")
            requests.append((element, None))
    return requests
