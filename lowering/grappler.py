"""The numerics of TF's graph optimizer (grappler) that a TF1 `Session.run` returns by default.

A TF1 session optimizes the graph before running it, and one of grappler's constant-folding rewrites
changes results: `ConstantFolding::ReduceDivToReciprocalMul` strength-reduces a floating-point
division by a constant, `x / c`, to `x * (1 / c)` (and `xdivy(x, c)` to `mul_no_nan(1 / c, x)`). The
reciprocal is rounded once, so the product can differ from the exact quotient in the last place
(`6 / 7` is 0.85714287 divided, 0.8571429 multiplied), and a `floor` or a cast downstream can turn that
ulp into a whole unit (TF's `resize_image_with_pad` of a 6x8 image into 7x12 resizes to 6 rows).

`reciprocal_divisions` finds the divisions of a plan that grappler rewrites; the Plan runs them with
`reciprocal_rule` in place of their own rule, on every tier. Which divisions:
- the op is `RealDiv` or `Xdivy` of a floating or complex type;
- its denominator folds to a constant in this run: grappler's constant folding turns every stateless
  op whose inputs all fold into a Const (Const itself, Cast, Identity, StopGradient, Fill, reductions …),
  and materializes `Shape` / `Size` / `Rank` of statically known shapes; a fed tensor, a placeholder, a
  variable or any stateful op does not fold, nor does a result over grappler's 10 MiB size limit;
- its numerator does not fold (else grappler folds the whole division, exactly);
- the graph has at least 4 nodes: grappler's meta optimizer skips smaller graphs (`min_graph_nodes`).

Every other division is correctly rounded, as TF's kernels divide (`true_divide` in
lowering/rules/math.py keeps XLA from making its own reciprocal multiplies).

The canonicalization that grappler's common-subgraph elimination applies to every node is modelled where
it shows: a commutative op's data inputs are sorted by name, so TF's broadcast error ("Incompatible
shapes: [a] vs. [b]") names the operands in that order (`swaps_operands`, read by the binary ops' error);
values and the graph are unchanged.

Not modelled: the other arithmetic rewrites of grappler (constant push-down, which reassociates
`(x * c1) * c2`, and the like), and the re-traced forward pass of `tf.gradients`, which divides exactly
(TF's gradient graph holds its own divisions, rewritten or folded depending on their inputs).
"""
from __future__ import annotations

from typing import Callable, Iterable, Optional

import numpy as np

from graphcompat.framework import function_library
from graphcompat.framework.registry import get_op_def
from lowering.registry import Rule

# grappler's MetaOptimizer: graphs with fewer nodes are not optimized (RewriterConfig.min_graph_nodes's
# default, kDefaultMinGraphNodes).
MIN_GRAPH_NODES = 4
# ConstantFolding's kMaxConstantSize: larger results are not folded into constants.
MAX_CONSTANT_BYTES = 10 * 1024 * 1024

# grappler also rewrites TF's legacy `Div` of floats, an op type graphcompat does not define
_DIVISIONS = ("RealDiv", "Xdivy")
# Ops grappler never folds although graphcompat's OpDef may not call them stateful: placeholders, control
# flow and function calls (their bodies are separate functions), and ops reading variables.
_NEVER_FOLDED = frozenset({
    "Placeholder", "PlaceholderV2", "PlaceholderWithDefault", "VariableV2", "Variable", "VarHandleOp",
    "ReadVariableOp", "Enter", "Exit", "Merge", "Switch", "NextIteration", "LoopCond", "If", "StatelessIf",
    "While", "StatelessWhile", "Case", "StatelessCase", "PartitionedCall", "StatefulPartitionedCall",
    "SymbolicGradient"})
_SHAPE_OPS = ("Shape", "Size", "Rank")


def _static_bytes(tensor) -> Optional[int]:
    shape = tensor.shape
    if shape.ndims is None or not shape.is_fully_defined():
        return None
    return int(np.prod(shape.as_list(), dtype=np.int64)) * tensor.dtype.base_dtype.size


def _leaf(op) -> Optional[bool]:
    """Whether `op` folds judging by itself alone; None when that depends on its inputs."""
    if op.type == "Const":
        return True
    if op.type in _SHAPE_OPS:  # grappler materializes the shapes it knows statically
        shape = op._inputs[0].shape
        known = shape.ndims is not None if op.type == "Rank" else shape.is_fully_defined()
        return True if known else None
    if op.type in _NEVER_FOLDED or not op._inputs or _stateful(op.type) or any(
            t.dtype.base_dtype.name in ("resource", "variant") for t in op._outputs):
        return False
    size = _static_bytes(op._outputs[0])
    if size is not None and size > MAX_CONSTANT_BYTES:
        return False
    return None


def _folds(tensor, fed: frozenset, memo: dict) -> bool:
    """Whether grappler's constant folding turns `tensor` into a constant in a run feeding `fed` (an
    explicit depth-first walk: a denominator may sit at the end of a long chain of ops)."""
    if tensor in fed:
        return False
    stack = [(tensor.op, False)]
    while stack:
        op, inputs_done = stack.pop()
        if op in memo:
            continue
        if inputs_done:
            memo[op] = all(t not in fed and memo[t.op] for t in op._inputs)
            continue
        known = _leaf(op)
        if known is not None:
            memo[op] = known
            continue
        pending = [t.op for t in op._inputs if t not in fed and t.op not in memo]
        if any(t in fed or memo.get(t.op) is False for t in op._inputs):
            memo[op] = False  # one input that cannot fold settles it
            continue
        stack.append((op, True))
        stack.extend((p, False) for p in pending)
    return memo[tensor.op]


def _stateful(op_type: str) -> bool:
    try:
        return get_op_def(op_type).stateful
    except NotImplementedError:  # an op type graphcompat does not know is not folded
        return True


def _top_level_nodes(graph) -> int:
    return len(graph._ops) - len(function_library.body_ops(graph))


def reciprocal_divisions(ops: Iterable, fed: Iterable) -> set:
    """The division ops among `ops` (a plan's, all top-level) that TF's default session runs as a
    multiplication by the reciprocal of their constant denominator (see the module docstring)."""
    candidates = [op for op in ops if op.type in _DIVISIONS
                  and (op._outputs[0].dtype.is_floating or op._outputs[0].dtype.is_complex)]
    if not candidates:
        return set()
    graph = candidates[0].graph
    if len(graph._ops) < MIN_GRAPH_NODES or _top_level_nodes(graph) < MIN_GRAPH_NODES:
        return set()
    fed, memo = frozenset(fed), {}
    return {op for op in candidates
            if _folds(op._inputs[1], fed, memo) and not _folds(op._inputs[0], fed, memo)}


# grappler's IsCommutative: the OpDefs TF marks is_commutative, and Add of anything but strings.
# CommonSubgraphElimination canonicalizes every node before the graph runs, sorting a commutative op's data
# inputs by name, so a kernel's message that names its operands in order (BCast's "Incompatible shapes:
# [a] vs. [b]") names them in that order.
_COMMUTATIVE = frozenset({"AddV2", "Mul", "SquaredDifference", "Equal", "NotEqual", "LogicalAnd", "LogicalOr",
                          "BitwiseAnd", "BitwiseOr", "BitwiseXor", "ApproximateEqual", "AddN", "AccumulateNV2"})


def _input_name(tensor) -> str:
    """A data input as a NodeDef spells it: the node's name, `:k` for an output other than the first."""
    index = tensor.value_index
    return tensor.op.name if index == 0 else f"{tensor.op.name}:{index}"


def swaps_operands(op) -> bool:
    """Whether TF's optimized graph holds `op`'s two data inputs the other way round (the second input's
    name sorts before the first's). Values never change: the ops are commutative."""
    op_type = op.type
    if op_type not in _COMMUTATIVE and not (op_type == "Add" and op._inputs and op._inputs[0].dtype != "string"):
        return False
    if len(op._inputs) != 2:
        return False
    graph = op.graph
    if len(graph._ops) < MIN_GRAPH_NODES or _top_level_nodes(graph) < MIN_GRAPH_NODES:
        return False
    return _input_name(op._inputs[1]) < _input_name(op._inputs[0])


# op type -> the Rule of its rewritten form, registered by the op's lowering module (`@rewrites`)
_REWRITES: dict = {}


def rewrites(op_type: str) -> Callable[[Callable], Callable]:
    """Decorator: `fn(*inputs, **attrs)` is how `op_type` runs once grappler rewrote it."""
    def register(fn):
        _REWRITES[op_type] = Rule(fn)
        return fn
    return register


def reciprocal_rule(op) -> Rule:
    """The rule a division that grappler rewrites runs with (its shape and dtype are the division's)."""
    return _REWRITES[op.type]
