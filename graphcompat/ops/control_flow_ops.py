"""Functional control flow: `tf.cond`, `tf.case`, `tf.while_loop` (map_fn/scan/foldl/foldr, built on
`tf.while_loop` as TF builds them, are in functional_ops.py).

As TF2's cond_v2/while_v2 (what `tf.compat.v1` records in graph mode), a cond is ONE op of type `If`
(`cond`, outputs re-exposed as `cond/Identity*`) and a loop ONE op of type `While` (`while`, outputs
`while/Identity*`). Branch and body functions are called once at build time; the ops they record stay in
the same graph (under the `cond/…` / `while/…` scopes) but are only reachable through their If/While op:
the op's inputs are the predicate (or initial loop values) plus every outer tensor the subgraph reads
("captures"), so pruning keeps their producers, and the lowering (lowering/rules/control_flow.py)
evaluates the subgraph inside `lax.cond` / `lax.while_loop` / `lax.scan`.
Each branch/body is a named function in the graph's library (framework/function_library.py), referenced
by TF's func attrs (`then_branch`/`else_branch`, `cond`/`body`); `Graph.as_graph_def()` writes them as
FunctionDefs in `graph_def.library`. Whether a body needs host execution (py_func, data-dependent shapes,
branches of different static shapes) is derived from its ops by the lowering.
"""
from __future__ import annotations

import collections
import contextlib
import itertools
from typing import Callable, Optional, Sequence


from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.function_library import GraphFunction
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.framework.registry import defop

_func_ids = itertools.count()


# ------------------------------------------------------------------------------------------------
# Nested structures (TF's nest: lists, tuples, namedtuples, dicts with sorted keys)
# ------------------------------------------------------------------------------------------------
def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def flatten(structure) -> list:
    """Leaves of `structure` in TF's nest order (dict values by sorted key)."""
    if isinstance(structure, collections.abc.Mapping):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if _is_sparse(structure):  # a composite, as TF's nest.flatten(expand_composites=True) sees it
        return [structure.indices, structure.values, structure.dense_shape]
    return [structure]


def _is_sparse(value) -> bool:
    from graphcompat.ops.sparse_tensor import SparseTensor
    return isinstance(value, SparseTensor)


def _as_tensor(value) -> _ops.Tensor:
    """A control-flow value as a tensor: a TensorArray travels as its flow tensor, as in TF."""
    flow = getattr(value, "_control_flow_tensor", None)
    return flow if flow is not None else convert_to_tensor(value)


def pack_sequence_as(structure, leaves: Sequence):
    """Rebuilds `structure` with `leaves` (the inverse of `flatten`)."""
    it = iter(leaves)

    def build(s):
        if isinstance(s, collections.abc.Mapping):
            built = {k: build(s[k]) for k in sorted(s)}
            return type(s)((k, built[k]) for k in s) if type(s) is not dict else {k: built[k] for k in s}
        if hasattr(s, "_rebuild_with"):  # a TensorArray comes back around its new flow tensor
            leaf = next(it)
            return leaf if hasattr(leaf, "_rebuild_with") else s._rebuild_with(leaf)
        if _is_namedtuple(s):
            return type(s)(*(build(x) for x in s))
        if isinstance(s, (list, tuple)):
            return type(s)(build(x) for x in s)
        if _is_sparse(s):
            return type(s)(next(it), next(it), next(it))
        return next(it)
    return build(structure)


def _same_structure(a, b) -> bool:
    if isinstance(a, collections.abc.Mapping) or isinstance(b, collections.abc.Mapping):
        return (isinstance(a, collections.abc.Mapping) and isinstance(b, collections.abc.Mapping)
                and sorted(a) == sorted(b) and all(_same_structure(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b)
                and _is_namedtuple(a) == _is_namedtuple(b) and all(_same_structure(x, y) for x, y in zip(a, b)))
    return True


def _sequence_type_mismatch(a, b):
    """The first pair of corresponding sequences of different types (a list against a tuple), or None."""
    if isinstance(a, collections.abc.Mapping) and isinstance(b, collections.abc.Mapping):
        for k in a:
            found = _sequence_type_mismatch(a[k], b.get(k))
            if found is not None:
                return found
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if type(a) is not type(b):
            return a, b
        for x, y in zip(a, b):
            found = _sequence_type_mismatch(x, y)
            if found is not None:
                return found
    return None


# ------------------------------------------------------------------------------------------------
# Op definitions. Shapes come from the builders (they know the subgraphs); the registry only needs
# the signatures for `as_graph_def` and tooling.
# ------------------------------------------------------------------------------------------------
# Not marked stateful: gradients flow through them (a subgraph's own state effects are handled by the
# lowering, which only reads and writes state where the subgraph's ops do).
# TF records StatelessIf/StatelessWhile when no op of the bodies is stateful (cond_v2/while_v2), If/While
# otherwise; graphcompat lowers both alike.
defop("If", "cond: Tcond, input: *Tin -> output: *Tout")
defop("StatelessIf", "cond: Tcond, input: *Tin -> output: *Tout")
defop("Case", "branch_index: int32, input: *Tin -> output: *Tout")
defop("StatelessCase", "branch_index: int32, input: *Tin -> output: *Tout")
defop("While", "input: *T -> output: *T")
defop("StatelessWhile", "input: *T -> output: *T")
_STATEFUL_CONTROL_FLOW = {"If", "While", "Case", "StatefulPartitionedCall"}


def _stateful(fns) -> bool:
    """Whether any op of these bodies is stateful (TF's choice between If and StatelessIf): stateful
    OpDefs, ops writing a ref input, and stateful control flow nested in them."""
    from graphcompat.framework.registry import OP_DEFS
    for fn in fns:
        for op in fn.ops:
            op_def = OP_DEFS.get(op.type)
            if op.type in _STATEFUL_CONTROL_FLOW or (op_def is not None and (
                    op_def.stateful or any(a.is_ref for a in op_def.inputs))):
                return True
    return False
# A loop variable as seen by the cond/body subgraph (a Placeholder-like parameter; never run directly).
defop("_LoopVar", "-> output: dtype", shape=lambda ctx: [ctx.attrs["shape"]])


_STATE_SOURCES = {"VariableV2", "Variable", "VarHandleOp"}


def _collect(graph: _ops.Graph, kind: str, first_id: int, last_id: int, params: Sequence[_ops.Tensor],
             outputs: Sequence[_ops.Tensor], targets: Sequence[_ops.Operation]):
    """Prunes the ops created in [first_id, last_id) to what `outputs`/`targets` need.

    Returns the body as an (unnamed) GraphFunction and the outer ops its ops have control dependencies on.
    """
    param_set = set(params)
    # a body's control dependency on one of its own parameters (`with tf.control_dependencies([i])` in
    # a loop body) is met on entry: it is neither body work nor an outer op the body waits for
    param_ops = {t.op for t in params}

    def created_here(op):
        return first_id <= op._id < last_id

    def inside(op):
        # A variable created by a branch or body (tf.layers inside tf.cond, an RNN cell's weights in
        # dynamic_rnn's loop) is the graph's, as TF's init_scope lifts it: the body captures it, its
        # initializer and Saver entries stay top-level, and so does its snapshot `v/read`, which its
        # VariableDef names (a meta graph must find it among the top-level nodes).
        if not created_here(op) or op.type in _STATE_SOURCES:
            return False
        return not (op.type == "Identity" and op._inputs and op._inputs[0].op.type in _STATE_SOURCES
                    and created_here(op._inputs[0].op) and op.name == op._inputs[0].op.name + "/read")

    captures: list = []
    seen_captures: set = set()
    outer_control: list = []

    def capture(t):
        if t not in seen_captures:
            seen_captures.add(t)
            captures.append(t)

    needed: set = set()
    stack = []
    for t in outputs:
        if t in param_set:
            continue
        if inside(t.op):
            stack.append(t.op)
        else:
            capture(t)
    stack.extend(op for op in targets if inside(op))
    for op in targets:
        if not inside(op) and op not in outer_control:
            outer_control.append(op)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        for t in op._inputs:
            if t in param_set:
                continue
            if inside(t.op):
                stack.append(t.op)
            else:
                capture(t)
        for c in op._control_inputs:
            if c in param_ops:
                continue
            if inside(c):
                stack.append(c)
            elif c not in outer_control:
                outer_control.append(c)
    ops = sorted(needed, key=lambda o: o._id)
    return GraphFunction("", kind, ops, list(params), captures, list(outputs), list(targets)), outer_control


def _call_and_record(graph: _ops.Graph, fn: Callable, args: Sequence, what: str = ""):
    """Calls `fn(*args)`; returns (structure, flat output tensors, target ops, first id, end id)."""
    first = len(graph._ops)
    with graph.control_dependencies(None):
        result = fn(*args)
        leaves = flatten(result)
        tensors, targets = [], []
        for leaf in leaves:
            if isinstance(leaf, _ops.Operation):
                targets.append(leaf)
            elif leaf is None:
                continue
            else:
                if hasattr(leaf, "_as_graph_element") and not isinstance(leaf, _ops.Tensor) \
                        and hasattr(leaf, "value"):
                    leaf = leaf.value()
                tensors.append(_as_tensor(leaf))
    return result, tensors, targets, first, len(graph._ops)


def _register(graph: _ops.Graph, fn: GraphFunction, prefix: str):
    """Names `fn` as TF names its bodies (`cond_true_12`, `while_body_7` …), adds it to the graph's
    library and returns the func attr value (a NameAttrList) that references it."""
    from tensorboard.compat.proto import attr_value_pb2
    name = f"{prefix}_{next(_func_ids)}"
    while graph._is_function(name):
        name = f"{prefix}_{next(_func_ids)}"
    fn.name = name
    graph._add_function(fn)
    return attr_value_pb2.NameAttrList(name=name)


def _create(graph: _ops.Graph, op_type: str, name: str, inputs: list, out_dtypes: list, out_shapes: list,
            attrs: dict, control_inputs: Sequence = ()) -> _ops.Operation:
    return graph._create_op_internal(op_type, inputs, out_dtypes, out_shapes, name, attrs, control_inputs)


def _identity(t: _ops.Tensor, name: str = "Identity") -> _ops.Tensor:
    from graphcompat.framework.registry import apply_op
    return apply_op("Identity", [t], name=name)


# ------------------------------------------------------------------------------------------------
# tf.cond
# ------------------------------------------------------------------------------------------------
def _merge_shapes(a: _ts.TensorShape, b: _ts.TensorShape) -> _ts.TensorShape:
    return a.most_specific_compatible_shape(b)


def cond(pred, true_fn: Optional[Callable] = None, false_fn: Optional[Callable] = None, strict: bool = False,
         name: Optional[str] = None, fn1: Optional[Callable] = None, fn2: Optional[Callable] = None):
    """`tf.cond(pred, true_fn, false_fn)`: one `If` op; only the taken branch's ops act when run."""
    if fn1 is not None:
        if true_fn is not None:
            raise TypeError("cond(): true_fn and fn1 may not be set simultaneously.")
        true_fn = fn1
    if fn2 is not None:
        if false_fn is not None:
            raise TypeError("cond(): false_fn and fn2 may not be set simultaneously.")
        false_fn = fn2
    if not callable(true_fn):
        raise TypeError("true_fn must be callable.")
    if not callable(false_fn):
        raise TypeError("false_fn must be callable.")
    if isinstance(pred, bool):
        raise TypeError("pred must not be a Python bool")
    with _ops.name_scope(name, "cond", [pred]) as scope:
        pred = convert_to_tensor(pred, name="pred")
        if pred.dtype.base_dtype != _dt.bool_:
            raise TypeError(f"pred must be a bool tensor, got {pred.dtype.name}")
        if pred.shape.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {pred.shape.ndims} for '{scope}If' (op: 'If') "
                             f"with input shapes: {pred.shape}.")
        graph = pred.graph
        t_res, t_out, t_targets, t0, t1 = _call_and_record(graph, true_fn, (), "true_fn")
        f_res, f_out, f_targets, f0, f1 = _call_and_record(graph, false_fn, (), "false_fn")
        _check_branch_outputs(t_res, f_res, t_out, f_out)
        then_g, t_ctrl = _collect(graph, "branch", t0, t1, [], t_out, t_targets)
        else_g, f_ctrl = _collect(graph, "branch", f0, f1, [], f_out, f_targets)
        # Both branches take every captured tensor (TF's cond_v2 gives both functions the same inputs).
        captures = list(dict.fromkeys(then_g.captures + else_g.captures))
        then_g.captures = else_g.captures = captures
        shapes = [_merge_shapes(a.shape, b.shape) for a, b in zip(t_out, f_out)]
        attrs = {"Tcond": _dt.bool_, "Tin": [t.dtype.base_dtype for t in captures],
                 "Tout": [t.dtype.base_dtype for t in t_out], "output_shapes": shapes,
                 "then_branch": _register(graph, then_g, "cond_true"),
                 "else_branch": _register(graph, else_g, "cond_false")}
        control = [c for c in dict.fromkeys(t_ctrl + f_ctrl)]
        op_type = "If" if _stateful([then_g, else_g]) else "StatelessIf"
        op = _create(graph, op_type, scope[:-1], [pred] + captures, attrs["Tout"], shapes, attrs, control)
        outs = []
        for i, t in enumerate(op._outputs):
            outs.append(_identity(t, "Identity"))
        leaves = iter(outs)
        flat = [op if isinstance(leaf, _ops.Operation) else (None if leaf is None else next(leaves))
                for leaf in flatten(t_res)]
        if not flat:
            return op
        result = pack_sequence_as(t_res, flat)
        if not strict and isinstance(result, (list, tuple)) and not _is_namedtuple(result) and len(result) == 1:
            return result[0]  # TF1's non-strict cond unpacks singleton sequences
        return result


def _check_branch_outputs(t_res, f_res, t_out, f_out) -> None:
    def fail(detail, cls=ValueError):
        raise cls("true_fn and false_fn arguments to tf.cond must have the same number, type, and overall "
                  f"structure of return values.\n\ntrue_fn output: {t_res}\nfalse_fn output: {f_res}\n\n"
                  f"Error details:\n{detail}")
    if not _same_structure(t_res, f_res) or len(flatten(t_res)) != len(flatten(f_res)):
        fail("The two structures don't have the same nested structure.")
    mismatch = _sequence_type_mismatch(t_res, f_res)
    if mismatch is not None:  # TF's nest.assert_same_structure(check_types=True): a list is not a tuple
        a, b = mismatch
        raise TypeError(
            f"The two structures don't have the same nested structure.\n\nFirst structure: "
            f"type={type(t_res).__name__} str={t_res}\n\nSecond structure: type={type(f_res).__name__} "
            f"str={f_res}\n\nMore specifically: The two namedtuples don't have the same sequence type. First "
            f"structure type={type(a).__name__} str={a} has type {type(a).__name__}, while second structure "
            f"type={type(b).__name__} str={b} has type {type(b).__name__}")
    for a, b in zip(flatten(t_res), flatten(f_res)):
        if isinstance(a, _ops.Operation) != isinstance(b, _ops.Operation) or (a is None) != (b is None):
            fail(f"{a} and {b} have different types", TypeError)
    for a, b in zip(t_out, f_out):
        if a.dtype.base_dtype != b.dtype.base_dtype:
            fail(f"{a} and {b} have different types", TypeError)


# ------------------------------------------------------------------------------------------------
# tf.switch_case
# ------------------------------------------------------------------------------------------------
def switch_case(branch_index, branch_fns, default: Optional[Callable] = None, name: str = "switch_case"):
    """`tf.switch_case`: one `Case`/`StatelessCase` op (TF's cond_v2.indexed_case, whatever the control
    flow v2 setting) whose `branches` are library functions, the default (if any) last. At run time an
    index outside [0, n) runs the last branch."""
    fns = _switch_case_branches(branch_fns, default, branch_index)
    with _ops.name_scope(name, "case", [branch_index]):
        return indexed_case(branch_index, [_ops_as_index(fn, branch_index) for fn in fns])


def indexed_case(branch_index: _ops.Tensor, fns: list, name: str = "indexed_case"):
    """The Case op (cond_v2.indexed_case): named `name` in the current scope, its outputs `Identity*`."""
    with _ops.name_scope(name) as scope:
        graph = branch_index.graph
        recorded = []
        for fn in fns:
            recorded.append(_call_and_record(graph, fn, ()))
        results = [r[0] for r in recorded]
        outs = [r[1] for r in recorded]
        counts = [len(flatten(r)) for r in results]
        assert len(set(counts)) == 1, counts  # TF's own check (cond_v2), a bare AssertionError
        _check_case_outputs(results, outs)
        bodies, control = [], []
        for res, out, targets, first, end in recorded:
            body, ctrl = _collect(graph, "branch", first, end, [], out, targets)
            bodies.append(body)
            control.extend(ctrl)
        captures = list(dict.fromkeys(c for b in bodies for c in b.captures))
        for b in bodies:
            b.captures = captures
        shapes = []
        for by_branch in zip(*outs):
            shape = by_branch[0].shape
            for t in by_branch[1:]:
                shape = _merge_shapes(shape, t.shape)
            shapes.append(shape)
        op_type = "Case" if _stateful(bodies) else "StatelessCase"
        if branch_index.dtype.base_dtype != _dt.int32:
            raise TypeError(f"Input 'branch_index' of '{op_type}' Op has type {branch_index.dtype.base_dtype.name} "
                            "that does not match expected type of int32.")
        tout = [t.dtype.base_dtype for t in outs[0]]
        attrs = {"Tin": [t.dtype.base_dtype for t in captures], "Tout": tout, "output_shapes": shapes,
                 "branches": [_register(graph, b, f"{scope[:-1].replace('/', '_')}_branch{i}")
                              for i, b in enumerate(bodies)]}
        op = _create(graph, op_type, scope[:-1], [branch_index] + captures, tout, shapes, attrs,
                     list(dict.fromkeys(control)))
        identities = iter([_identity(t, "Identity") for t in op._outputs])
        flat = [None if leaf is None else next(identities) for leaf in flatten(results[0])]
        return pack_sequence_as(results[0], flat) if flat else results[0]


def _switch_case_branches(branch_fns, default, branch_index) -> list:
    """TF's argument checks, in its order; the branch callables by key, `default` last."""
    if not isinstance(branch_index, _ops.Tensor):
        raise TypeError(f"'branch_index' must be a Tensor, got {type(branch_index)}")
    if not branch_index.dtype.is_integer:
        raise TypeError(f"'branch_index' must be an integer Tensor, got {branch_index.dtype}")
    if not branch_fns:
        raise ValueError("Must provide at least one item in 'branch_fns'")
    if not isinstance(branch_fns, (list, tuple, dict)):
        raise TypeError("'branch_fns' must be a list, tuple, or dict")
    if isinstance(branch_fns, dict):
        branch_fns = list(branch_fns.items())
    if all(callable(fn) for fn in branch_fns):
        branch_fns = list(enumerate(branch_fns))
    for pair in branch_fns:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"Each entry in 'branch_fns' must be a 2-tuple. Received {pair}.")
        key, fn = pair
        if not isinstance(key, int):
            raise TypeError(f"key must be a Python `int`, got {type(key)}")
        if not callable(fn):
            raise TypeError(f"fn for key {key} must be callable.")
    keys = [k for k, _ in branch_fns]
    if min(keys) < 0 or max(keys) >= len(keys) or len(set(keys)) != len(keys):
        raise ValueError(f"branch indices (keys) must form contiguous range of [0 to {len(keys)}) but found "
                         f"{{{','.join(map(str, sorted(keys)))}}}")
    fns = [fn for _, fn in sorted(branch_fns, key=lambda p: p[0])]
    if default is not None:
        fns.append(default)
    return fns


def _ops_as_index(fn: Callable, branch_index: _ops.Tensor) -> Callable:
    """A branch as TF's func graph runs it (op_return_value=branch_index): an Operation it returns becomes
    `Identity(branch_index)` with a control dependency on it; Python values become tensors."""
    def call():
        result = fn()

        def convert(leaf):
            if leaf is None:
                return None
            if isinstance(leaf, _ops.Operation):
                with _ops.control_dependencies([leaf]):
                    return _identity(branch_index)
            if isinstance(leaf, _ops.Tensor) or hasattr(leaf, "_control_flow_tensor"):
                return leaf
            return convert_to_tensor(leaf)
        return pack_sequence_as(result, [convert(leaf) for leaf in flatten(result)])
    return call


def _check_case_outputs(results, outs) -> None:
    """cond_v2's _check_same_outputs for tf.switch_case: the same structure, then the same dtypes."""
    def fail(b, detail):
        raise TypeError(f"branches[0] and branches[{b}] arguments to tf.switch_case must have the same number, "
                        f"type, and overall structure of return values.\n\nbranches[0] output: {results[0]}\n"
                        f"branches[{b}] output: {results[b]}\n\nError details:\n{detail}")
    for b in range(1, len(results)):
        # TF's nest.assert_same_structure(check_types=True): a list is not a tuple
        if not _same_structure(results[0], results[b]) or \
                _sequence_type_mismatch(results[0], results[b]) is not None:
            fail(b, "The two structures don't have the same nested structure.")
        for x, y in zip(outs[0], outs[b]):
            if x.dtype.base_dtype != y.dtype.base_dtype:
                fail(b, f"{x} and {y} have different types")


# ------------------------------------------------------------------------------------------------
# tf.case
# ------------------------------------------------------------------------------------------------
def case(pred_fn_pairs, default: Optional[Callable] = None, exclusive: bool = False, strict: bool = False,
         name: str = "case"):
    """`tf.case`: the first pair whose predicate holds, as nested conds (TF's construction)."""
    if isinstance(pred_fn_pairs, collections.abc.Mapping):
        pairs = list(pred_fn_pairs.items())
    elif isinstance(pred_fn_pairs, (list, tuple)):
        pairs = list(pred_fn_pairs)
    else:
        raise TypeError("pred_fn_pairs must be a list or tuple, or a dict.")
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError("Each entry in pred_fn_pairs must be a 2-tuple")
        pred, fn = pair
        if isinstance(pred, _ops.Tensor):
            if pred.dtype.base_dtype != _dt.bool_:
                raise TypeError(f"pred must be Tensor of type bool: {pred.name}")
        else:
            raise TypeError(f"pred must be a Tensor, got: {pred}")
        if not callable(fn):
            raise TypeError(f"fn for pred {pred.name} must be callable.")
    if default is not None and not callable(default):
        raise TypeError("default must be callable.")
    if not pairs and default is None:
        raise ValueError("Must provide at least one of pred_fn_pairs or default")
    preds = [p for p, _ in pairs]
    fns = [f for _, f in pairs]
    with _ops.name_scope(name, "case", [preds]):
        if not pairs:
            return default()
        if default is None:
            default, preds, fns = _case_default_action(preds, fns)
        fn = default
        for pred, action in zip(reversed(preds), reversed(fns)):
            fn = _partial_cond(pred, action, fn)
        if exclusive:
            check = _assert_at_most_n_true(
                preds, 1, "Input error: exclusive=True but more than 1 conditions evaluated as True:")
            with _ops.control_dependencies([check]):
                return fn()
        return fn()


def _partial_cond(pred, true_fn, false_fn):
    return lambda: cond(pred, true_fn, false_fn)


def _case_default_action(preds, fns):
    k = len(preds) - 1
    predicate, action = preds[k], fns[k]
    other_preds, other_fns = preds[:k], fns[:k]

    def default_action():
        from graphcompat.ops import data_dependent_ops as _dd
        from graphcompat.ops.array_ops import stack
        checks = [_dd.Assert(predicate, ["Input error: None of conditions evaluated as True:",
                                         stack(preds, name="preds_c")])]
        if other_preds:
            checks.append(_assert_at_most_n_true(
                other_preds, 0, f"Implementation error: selected default action #{k} was called, but some of "
                                "other predicates are True: "))
        with _ops.control_dependencies(checks):
            out = action()
            return _with_dependencies(out)
    return default_action, other_preds, other_fns


def _with_dependencies(out):
    """Routes `out` through Identity ops so the enclosing control dependencies apply to it."""
    leaves = [_identity(leaf) if isinstance(leaf, _ops.Tensor) else leaf for leaf in flatten(out)]
    return pack_sequence_as(out, leaves)


def _assert_at_most_n_true(preds, n: int, msg: str):
    from graphcompat.ops import data_dependent_ops as _dd
    from graphcompat.ops import math_ops
    from graphcompat.ops.array_ops import stack
    less_equal = getattr(math_ops, "less_equal", None)
    if less_equal is None:
        raise NotImplementedError("tf.case with exclusive=True or without default needs tf.less_equal, which "
                                  "this graphcompat build lacks")
    with _ops.name_scope(None, "assert_at_most_n_true", [preds]):
        stacked = stack(preds, name="preds_c")
        num_true = math_ops.reduce_sum(math_ops.cast(stacked, _dt.int32))
        condition = less_equal(num_true, constant(n, name="n_true_conds"))
        return _dd.Assert(condition, [msg, stacked], summarize=len(preds))


# ------------------------------------------------------------------------------------------------
# tf.while_loop
# ------------------------------------------------------------------------------------------------
_FUNCTIONAL_WHILE = [False]


@contextlib.contextmanager
def functional_while():
    """Loops built inside record `While` whatever their bodies hold, as TF's functional_ops.While (over
    Defuns) does; while_v2 records `StatelessWhile` for stateless bodies."""
    saved = _FUNCTIONAL_WHILE[0]
    _FUNCTIONAL_WHILE[0] = True
    try:
        yield
    finally:
        _FUNCTIONAL_WHILE[0] = saved


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations: int = 10,
               back_prop: bool = True, swap_memory: bool = False, name: Optional[str] = None,
               maximum_iterations=None, return_same_structure: bool = False):
    """`tf.while_loop`: one `While` op, lowered to `lax.while_loop`, or to `lax.scan` over a static
    `maximum_iterations` (with a done flag) so that reverse-mode gradients work."""
    if not callable(cond):
        raise TypeError("cond must be callable.")
    if not callable(body):
        raise TypeError("body must be callable.")
    if parallel_iterations < 1:
        raise TypeError("parallel_iterations must be a positive integer.")
    if isinstance(loop_vars, (list, tuple)) and not _is_namedtuple(loop_vars) and not loop_vars:
        raise ValueError("No loop variables provided")
    structure = loop_vars
    with _ops.name_scope(name, "while", flatten(loop_vars)) as scope:
        graph = _ops.get_default_graph()
        initial = [_as_tensor(v) for v in flatten(loop_vars)]
        if isinstance(loop_vars, _ops.Tensor) or not isinstance(loop_vars, (list, tuple, collections.abc.Mapping)):
            structure = loop_vars
        invariants = _shape_invariants(structure, shape_invariants, initial)
        # TF (while_v2) records `maximum_iterations` before `loop_counter`
        if maximum_iterations is None:
            max_iter = constant(-1, name="maximum_iterations")
        else:
            max_iter = convert_to_tensor(maximum_iterations, name="maximum_iterations")
            if max_iter.dtype.base_dtype != _dt.int32:
                from graphcompat.ops.math_ops import cast
                max_iter = cast(max_iter, _dt.int32)
            if max_iter.shape.ndims not in (None, 0):
                raise ValueError(f"maximum_iterations must be a scalar, saw shape: {max_iter.shape}")
        counter = constant(0, name="loop_counter")
        n = len(initial)

        def params(prefix):
            out = []
            for t, shape in zip(initial, invariants):
                out.append(_create(graph, "_LoopVar", graph.unique_name(prefix), [], [t.dtype.base_dtype],
                                   [shape], {"dtype": t.dtype.base_dtype, "shape": shape})._outputs[0])
            return out

        def as_structure(flat):
            return pack_sequence_as(structure, flat) if isinstance(structure, (list, tuple, collections.abc.Mapping)) \
                else flat[0]

        cond_params = params("cond_arg")
        c_res, c_out, c_targets, c0, c1 = _call_and_record(graph, _call_with(cond, structure, as_structure),
                                                           (cond_params,), "cond")
        if len(c_out) != 1 or c_out[0].dtype.base_dtype != _dt.bool_:
            raise TypeError(f"cond must return a boolean scalar tensor, got {c_res}")
        if c_out[0].shape.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {c_out[0].shape.ndims} for the loop condition "
                             f"'{c_out[0].name}'")
        body_params = params("body_arg")
        b_res, b_out, b_targets, b0, b1 = _call_and_record(graph, _call_with(body, structure, as_structure),
                                                           (body_params,), "body")
        b_flat = _body_outputs(structure, b_res, b_out, b_targets, body_params, graph)
        b1 = len(graph._ops)  # the identities that carry body targets belong to the body
        for i, (t0, t1, shape) in enumerate(zip(initial, b_flat, invariants)):
            if t1.dtype.base_dtype != t0.dtype.base_dtype:
                raise TypeError(f"Loop variable {i} enters the loop as {t0.dtype.name} but the body returns "
                                f"{t1.dtype.name} ({t1.name}).")
            if not shape.is_compatible_with(t1.shape):
                raise ValueError(
                    f"Input tensor `{t0.name}` enters the loop with shape {t0.shape}, but has shape {t1.shape} "
                    "after one iteration. To allow the shape to vary across iterations, use the "
                    "`shape_invariants` argument of tf.while_loop to specify a less-specific shape.")
        cond_g, ctrl_c = _collect(graph, "while_cond", c0, c1, cond_params, c_out, c_targets)
        body_g, ctrl_b = _collect(graph, "while_body", b0, b1, body_params, b_flat, b_targets)
        # cond and body take the same arguments (TF's while_v2: counter, maximum, loop vars, captures).
        captures = list(dict.fromkeys(cond_g.captures + body_g.captures))
        cond_g.captures = body_g.captures = captures
        cond_g.max_iterations_given = maximum_iterations is not None
        dtypes = [counter.dtype, max_iter.dtype.base_dtype] + [t.dtype.base_dtype for t in initial] \
            + [t.dtype.base_dtype for t in captures]
        shapes = [_ts.TensorShape([]), _ts.TensorShape([])] + list(invariants) + [t.shape for t in captures]
        attrs = {"T": dtypes, "cond": _register(graph, cond_g, "while_cond"),
                 "body": _register(graph, body_g, "while_body"), "output_shapes": shapes,
                 "parallel_iterations": int(parallel_iterations)}
        control = list(dict.fromkeys(ctrl_c + ctrl_b))
        op_type = "While" if _FUNCTIONAL_WHILE[0] or _stateful([cond_g, body_g]) else "StatelessWhile"
        op = _create(graph, op_type, scope[:-1], [counter, max_iter] + initial + captures, dtypes, shapes,
                     attrs, control)
        outs = [_identity(t, "Identity") for t in op._outputs[:2 + n]]
        result = outs[2:]
        if not back_prop:  # TF's while_v2: no gradient flows through the loop's results
            from graphcompat.gradients import stop_gradient
            result = [stop_gradient(t) for t in result]
    if not return_same_structure and len(result) == 1:  # TF unpacks a single flat loop variable
        return result[0]
    return as_structure(result)


def _call_with(fn, structure, as_structure):
    """Calls a cond/body with loop variables unpacked as TF does (`fn(*loop_vars)` for lists)."""
    def call(flat):
        packed = as_structure(flat)
        if isinstance(structure, (list, tuple)) and not _is_namedtuple(structure):
            return fn(*packed)
        return fn(packed)
    return call


def _body_outputs(structure, result, tensors, targets, params, graph) -> list:
    n = len(params)
    if isinstance(structure, (list, tuple)) and not _is_namedtuple(structure) and len(structure) == 1 \
            and not isinstance(result, (list, tuple)):
        result = [result]
    if isinstance(structure, (list, tuple)) and isinstance(result, (list, tuple)) \
            and not _is_namedtuple(structure):
        result = list(result)
        if _is_namedtuple(result):
            result = list(result)
    leaves = [leaf for leaf in flatten(result) if not isinstance(leaf, _ops.Operation)]
    if len(leaves) != n:
        raise ValueError(f"The two structures don't have the same number of elements. First structure: "
                         f"{structure}, second structure: {result}.")
    # Targets (ops returned by the body) act each iteration: route outputs through identities that
    # depend on them, as TF's while_v2 does with control outputs.
    out = []
    it = iter(tensors)
    for leaf in flatten(result):
        if isinstance(leaf, _ops.Operation):
            continue
        t = next(it)
        if targets:
            with graph.control_dependencies(targets):
                t = _identity(t)
        out.append(t)
    return out


def _shape_invariants(structure, shape_invariants, initial) -> list:
    if shape_invariants is None:
        return [t.shape for t in initial]
    if isinstance(structure, (list, tuple)) and not _is_namedtuple(structure) and len(structure) == 1 \
            and not isinstance(shape_invariants, (list, tuple)):
        shape_invariants = [shape_invariants]
    if isinstance(shape_invariants, _ts.TensorShape):
        flat = [shape_invariants]
    else:
        flat = flatten(_shapes_as_leaves(shape_invariants))
    if len(flat) != len(initial):
        raise ValueError(f"The two structures don't have the same number of elements. First structure: "
                         f"{structure}, second structure: {shape_invariants}.")
    out = []
    for t, s in zip(initial, flat):
        s = _ts.as_shape(s)
        if not s.is_compatible_with(t.shape):
            raise ValueError(f"The shape invariant specified for {t.name} is not compatible with the initial "
                             f"shape of the loop variable. It enters the loop with shape {t.shape}, but the "
                             f"specified shape invariant is {s}.")
        out.append(s)
    return out


def _shapes_as_leaves(s):
    """Shape invariants are given as TensorShapes or lists of dims; keep each one a single leaf."""
    if isinstance(s, _ts.TensorShape) or s is None:
        return _ts.as_shape(s) if s is not None else _ts.unknown_shape()
    if isinstance(s, collections.abc.Mapping):
        return {k: _shapes_as_leaves(v) for k, v in s.items()}
    if isinstance(s, (list, tuple)) and s and all(isinstance(d, (int, type(None))) or
                                                  isinstance(d, _ts.Dimension) for d in s):
        return _ts.TensorShape(list(s))
    if isinstance(s, (list, tuple)):
        return type(s)(_shapes_as_leaves(x) for x in s) if not _is_namedtuple(s) else \
            type(s)(*(_shapes_as_leaves(x) for x in s))
    return _ts.as_shape(s)


__all__ = ["cond", "case", "switch_case", "while_loop"]
