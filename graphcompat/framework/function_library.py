"""A Graph's function library: named bodies of If/While ops, each serializable as TF's `FunctionDef`.

TF records a cond branch or a loop body as a function in the graph's library (`graph_def.library`) and
the control-flow op names it with a func attr (`then_branch`, `body` … as a `NameAttrList`). graphcompat
does the same: `Graph._add_function` registers a `GraphFunction` under its name, control-flow ops carry
only TF attrs, and the back end finds a body through `op.graph._get_function(name)`.

The ops of a body are recorded in the owning graph (graphcompat calls the branch/body callable once, in
the outer graph, under the op's name scope), but they are not top-level nodes: nothing outside the body
consumes them, `Graph.as_graph_def()` leaves them out of `GraphDef.node` and writes them into the body's
FunctionDef instead. A body's parameters are `_LoopVar` placeholders (loop variables);
outer tensors it reads are its captures, which become trailing function arguments, as TF's FuncGraph
captures become trailing inputs of the If/While op.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Optional

from graphcompat.framework import dtypes as _dt

# How the FunctionDef's signature wraps a body, as TF's cond_v2/while_v2 build them:
#   "branch":     (*captures) -> outputs                                     (If's then/else)
#   "while_cond": (counter, max, *vars, *captures) -> pred [and counter < max]
#   "while_body": (counter, max, *vars, *captures) -> (counter + 1, max, *new vars, *captures)
#   "function":   (*captures) -> outputs                 (the forward function `f` of a SymbolicGradient)
KINDS = ("branch", "while_cond", "while_body", "function")


@dataclasses.dataclass(eq=False)
class GraphFunction:
    """One named body. `ops` are its operations in creation order; `params` the parameter tensors
    (`_LoopVar` outputs), `captures` the outer tensors its ops read, `outputs` its results (body ops'
    tensors, params or captures), `targets` the operations it runs for their effects (control outputs).

    `max_iterations_given` (while_cond only) says whether the loop had a `maximum_iterations`: TF's
    wrapped cond then also tests the counter, which graphcompat's While lowering does itself.
    `owns_ops` is False for a gradient's forward function, whose ops are top-level ops of the graph (the
    forward pass itself) that the FunctionDef copies; bodies of control flow own theirs.
    """
    name: str
    kind: str
    ops: list
    params: list
    captures: list
    outputs: list
    targets: list
    max_iterations_given: bool = False
    owns_ops: bool = True
    # Ops whose gradient the user chose (graphcompat/custom_gradient.py), op → Override / BackwardGraph: in a
    # gradient's forward function, and in a loop/cond body once tf.gradients crossed it (the body's lowering
    # wraps them in a custom VJP); TF finds the same choice through the ops' `_gradient_op_type` attrs.
    gradient_overrides: dict = dataclasses.field(default_factory=dict, repr=False)
    # In a gradient's forward function: the gradient kernels without a gradient that TF's tf.gradients records
    # for these ops (graphcompat/gradients.py SECOND_ORDER_NO_GRADIENT), where a second gradient refuses.
    second_order_refusals: list = dataclasses.field(default_factory=list, repr=False)
    # In a gradient's forward function: {argument index: the indices of the SymbolicGradient's inputs its
    # gradient depends on} (graphcompat/gradients.py `_second_order_inputs`); a second gradient follows only
    # these. Until one asks: the call that computes it.
    second_order_inputs: object = dataclasses.field(default_factory=dict, repr=False)
    # The back end's per-function cache (its lowered steps, whether it needs the host); never serialized.
    lowering_cache: dict = dataclasses.field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown function kind {self.kind!r}")

    @property
    def param_ops(self) -> list:
        return [t.op for t in self.params]

    def as_function_def(self):
        """This body as TF's `FunctionDef` proto."""
        return _FunctionDefWriter(self).write()

    def as_function_defs(self) -> tuple:
        """(this body's FunctionDef, the FunctionDefs it calls that exist for the export only, their
        GradientDefs as (function name, gradient function name)): a gradient's forward function calls a
        wrapper of each op whose gradient the user chose, differentiated by the recorded gradient
        (`user_gradient_functions`)."""
        writer = _FunctionDefWriter(self)
        fdef = writer.write()
        return fdef, writer.extra_functions, writer.gradient_pairs


# ------------------------------------------------------------------------------------------------
# FunctionDef serialization
# ------------------------------------------------------------------------------------------------
_ARG_NAME = re.compile(r"[^a-z0-9_]")


def _arg_name(text: str, used: set) -> str:
    """TF's ArgDef names match `[a-z][a-z0-9_]*`: lower-cased, other characters become `_`, unique."""
    base = _ARG_NAME.sub("_", text.lower()) or "arg"
    if not base[0].isalpha():
        base = "arg_" + base
    return unique_name(used, base)


def output_arg_of(op, index: int) -> tuple:
    """(output arg name, index within that arg) of `op`'s flat output `index` (FunctionDef naming
    `node:out_arg:index`), from the op's registered signature."""
    from graphcompat.framework import registry
    op_def = registry.OP_DEFS.get(op.type)
    if op_def is None or not op_def.outputs:
        return "output", index
    start = 0
    for arg in op_def.outputs:
        if arg.type_list_attr:
            n = len(op.attrs.get(arg.type_list_attr, ()))
        elif arg.number_attr:
            n = int(op.attrs.get(arg.number_attr, 0))
        else:
            n = 1
        if index < start + n:
            return arg.name, index - start
        start += n
    return op_def.outputs[-1].name, index - start  # pragma: no cover (outputs beyond the signature)


class _FunctionDefWriter:
    def __init__(self, fn: GraphFunction):
        self.fn = fn
        self.used: set = set()
        self.ref: dict = {}      # Tensor -> FunctionDef input text
        self.node_names: dict = {}
        # ops written as calls of a wrapper function: op -> (wrapper name, its inputs, its output arg names)
        self.calls: dict = {}
        self.extra_functions: list = []   # the wrappers and their gradient functions (FunctionDefs)
        self.gradient_pairs: list = []    # (wrapper name, gradient function name)
        # a variable read a wrapper's call takes (the read is not f's op): read output -> the handle it reads
        self.variable_reads: dict = {}

    def _node_name(self, op) -> str:
        # Body ops keep their name relative to the body's scope where it is unique; node names share one
        # namespace with the argument names (TF rejects a node named like an argument).
        name = op.name
        prefix = _common_scope(self.fn)
        if prefix and name.startswith(prefix):
            name = name[len(prefix):]
        return self._unique(name)

    def write(self):
        from tensorboard.compat.proto import function_pb2

        from graphcompat.framework import graph_def as _gd
        fn = self.fn
        fdef = function_pb2.FunctionDef()
        sig = fdef.signature
        sig.name = fn.name
        sig.is_stateful = any(_is_stateful(op) for op in fn.ops)

        def add_input(tensor_or_none, text: str, dtype: _dt.DType) -> str:
            arg = sig.input_arg.add()
            arg.name = _arg_name(text, self.used)
            arg.type = dtype.base_dtype.as_datatype_enum
            if tensor_or_none is not None:
                self.ref[tensor_or_none] = arg.name
            return arg.name

        counter = max_arg = None
        if fn.kind in ("while_cond", "while_body"):
            counter = add_input(None, "loop_counter", _dt.int32)
            max_arg = add_input(None, "maximum_iterations", _dt.int32)
        for t in fn.params:
            add_input(t, t.op.name.rpartition("/")[2], t.dtype)
        for t in fn.captures:
            add_input(t, t.op.name.rpartition("/")[2], t.dtype)
        for op in _differentiated_by_gradient_def(fn):
            for t in op.outputs:  # read from the op's copy: its argument stays, unused (a zero gradient)
                self.ref.pop(t, None)
        from graphcompat.framework.user_gradient_export import user_gradient_functions
        for op, (wrapper, grad, helpers, call_inputs, reads) in user_gradient_functions(fn).items():
            for t in op.outputs:  # read from the wrapper's call, which the user's gradient differentiates
                self.ref.pop(t, None)
            self.calls[op] = (wrapper.signature.name, call_inputs, [a.name for a in wrapper.signature.output_arg])
            self.variable_reads.update(reads)
            self.extra_functions += [wrapper, grad] + helpers
            self.gradient_pairs.append((wrapper.signature.name, grad.signature.name))
        for op in fn.ops:
            self.node_names[op] = self._node_name(op)
        for op in fn.ops:
            if op in self.calls:
                inputs = [self._call_input(fdef, t) for t in self.calls[op][1]]  # (variable reads go first)
                nd = fdef.node_def.add()
                nd.name = self.node_names[op]
                nd.op = self.calls[op][0]
                nd.input.extend(inputs)
                nd.input.extend(sorted("^" + self.node_names[c] for c in op.control_inputs if c in self.node_names))
                continue
            nd = fdef.node_def.add()
            nd.name = self.node_names[op]
            nd.op = op.type
            if op.device:
                nd.device = op.device
            nd.input.extend(self._input(t) for t in op.inputs)
            # sorted by name, as TF's GraphToFunctionDef (and Graph::ToGraphDef) write them
            nd.input.extend(sorted("^" + self.node_names[c] for c in op.control_inputs if c in self.node_names))
            for key, value in _gd.exported_attrs(op):
                nd.attr[key].CopyFrom(value)
        rets = [self._input(t) for t in fn.outputs]
        if fn.kind == "while_cond" and fn.max_iterations_given:
            # TF's wrapped cond: logical_and(loop_counter < maximum_iterations, pred).
            less = self._extra_node(fdef, "Less", [counter, max_arg], {"T": _dt.int32})
            both = self._extra_node(fdef, "LogicalAnd", [f"{less}:z:0", rets[0]], {})
            rets = [f"{both}:z:0"]
        if fn.kind == "while_body":
            one = self._extra_node(fdef, "Const", [], {"dtype": _dt.int32}, value=1, name="add/y")
            add = self._extra_node(fdef, "AddV2", [counter, f"{one}:output:0"], {"T": _dt.int32}, name="add")
            rets = [f"{add}:z:0", max_arg] + rets + [self.ref[t] for t in fn.captures]
        out_dtypes = [t.dtype for t in fn.outputs]
        if fn.kind == "while_body":
            out_dtypes = [_dt.int32, _dt.int32] + out_dtypes + [t.dtype for t in fn.captures]
        used_out: set = set()
        for text, dtype in zip(rets, out_dtypes):
            arg = sig.output_arg.add()
            arg.name = _arg_name("identity", used_out)
            arg.type = dtype.base_dtype.as_datatype_enum
            fdef.ret[arg.name] = text
        for op in fn.targets:
            if op in self.node_names:
                name = self.node_names[op]
                sig.control_output.append(name)
                fdef.control_ret[name] = name
        return fdef

    def _call_input(self, fdef, t) -> str:
        """A wrapper call's input: `t`, or for a variable read its gradient performs, a read in f."""
        if t not in self.variable_reads:
            return self._input(t)
        if t not in self.ref:
            read = self._extra_node(fdef, "ReadVariableOp", [self._input(self.variable_reads[t])],
                                    {"dtype": t.dtype.base_dtype}, name=t.op.name.rpartition("/")[2])
            self.ref[t] = f"{read}:value:0"
        return self.ref[t]

    def _extra_node(self, fdef, op_type: str, inputs: list, attrs: dict, value=None, name: Optional[str] = None):
        import numpy as np

        from graphcompat.framework import graph_def as _gd
        nd = fdef.node_def.add()
        nd.name = self._unique(name or op_type)
        nd.op = op_type
        nd.input.extend(inputs)
        for key, v in attrs.items():
            nd.attr[key].CopyFrom(_gd.attr_value(v))
        if value is not None:
            nd.attr["value"].CopyFrom(_gd.attr_value(np.asarray(value, np.int32)))
        return nd.name

    def _unique(self, base: str) -> str:
        return unique_name(self.used, base)

    def _input(self, t) -> str:
        if t in self.ref:
            return self.ref[t]
        op = t.op
        if op not in self.node_names:
            raise ValueError(f"function '{self.fn.name}': tensor {t.name} is neither an argument nor computed "
                             "by the function")
        if op in self.calls:  # a wrapper's results: one output arg each
            return f"{self.node_names[op]}:{self.calls[op][2][t.value_index]}:0"
        arg, index = output_arg_of(op, t.value_index)
        return f"{self.node_names[op]}:{arg}:{index}"


def _differentiated_by_gradient_def(fn: GraphFunction) -> list:
    """The ops of a gradient's forward function `fn` whose TF gradient the export writes as a GradientDef
    (control_flow_gradients.py's `_OP_GRADIENTS`: TF's fused RNN kernels) although graphcompat applies it as
    a registered gradient (`builtin_gradient`).

    graphcompat's forward function takes the outputs of an op with a registered gradient as arguments (its
    lowering applies the recorded gradient to them), so the function's result does not depend on the op's
    copy: TF would differentiate past it and find zeros. For these ops the exported function reads the copy,
    which TF differentiates with the GradientDef: TF's registered gradient, the same numbers."""
    from graphcompat.custom_gradient import _BUILTIN_GRADIENTS
    from graphcompat.framework.control_flow_gradients import has_gradient_def
    if fn.kind != "function" or not fn.gradient_overrides:
        return []
    in_function = set(fn.ops)
    return [op for op in fn.gradient_overrides
            if op in in_function and has_gradient_def(op.type) and "_gradient_op_type" not in op._attrs
            and _BUILTIN_GRADIENTS.get(op.type) is not None]


def _is_stateful(op) -> bool:
    from graphcompat.framework import registry
    op_def = registry.OP_DEFS.get(op.type)
    return bool(op_def is not None and op_def.stateful)


def _common_scope(fn: GraphFunction) -> str:
    """The name scope every op of the body shares (`while/`, `cond/`): stripped in the FunctionDef."""
    cached = fn.lowering_cache.get("_scope")
    if cached is not None:
        return cached
    names = [op.name for op in fn.ops] + [t.op.name for t in fn.params]
    prefix = ""
    if names:
        parts = [n.split("/")[:-1] for n in names]
        common = parts[0]
        for p in parts[1:]:
            k = 0
            while k < min(len(common), len(p)) and common[k] == p[k]:
                k += 1
            common = common[:k]
        prefix = "/".join(common) + "/" if common else ""
    fn.lowering_cache["_scope"] = prefix
    return prefix


def free_name(taken, base: str) -> str:
    """`base`, or `base_1`, `base_2` … : the first not in `taken` (any container of names)."""
    name, i = base, 0
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    return name


def unique_name(used: set, base: str) -> str:
    """`free_name`, added to `used` (a FunctionDef's node and arg names)."""
    name = free_name(used, base)
    used.add(name)
    return name


def new_function_name(library: dict, base: str) -> str:
    """A name for a new library function: `base` with characters a FunctionDef name may not hold replaced
    by `_`, made free in `library` (name -> FunctionDef)."""
    return free_name(library, re.sub(r"[^A-Za-z0-9_]", "_", base))


def body_ops(graph) -> set:
    """The operations that belong only to function bodies, not to the graph's top level: the bodies' ops
    and parameters, and ops created among them that read parameters (dead code of a loop body). A body
    op that a top-level op also reads (a variable read created in a branch and used outside) stays
    top-level as well: graphcompat evaluates it in either place, and the FunctionDef carries a copy.

    Also the ops a user's gradient function recorded for an op inside a body
    (graphcompat/gradients.py `_record_body_gradients`: they run in the body's gradient, as in TF's
    gradient body function) and their stand-ins for the incoming gradients."""
    owned: set = set()
    params: set = set()
    for fn in graph._functions.values():
        if fn.owns_ops:
            owned.update(fn.ops)
            params.update(fn.param_ops)
            for chosen in fn.gradient_overrides.values():
                standins = [t.op for t in getattr(chosen, "standins", ())]
                if standins:  # (constants recorded before, which the gradient copies, stay top-level)
                    first_recorded = min(o._id for o in standins)
                    owned.update(standins)
                    owned.update(o for o in chosen.steps if o._id > first_recorded)
    if not owned and not params:
        return set()
    first = min(op._id for op in owned | params)
    tied = set(params)  # ops that read a loop variable can only live inside a body
    for op in graph._ops[first:]:
        if op not in tied and (any(t.op in tied for t in op._inputs) or any(c in tied for c in op._control_inputs)):
            tied.add(op)
    # Dead code a body's construction left reading the body's ops (tf.custom_gradient's identities of its
    # results, TF's _get_dependent_variables): an op nothing uses that reads a body's op, or reads only such
    # dead ops, lives in the body as in TF's FuncGraph; kept top-level, it would pull the body's ops (a
    # variable's read) to the top level with it.
    dead: set = set()
    for op in reversed(graph._ops[first:]):
        if op in owned or op in tied or not any(t.op in owned or t.op in dead for t in op._inputs):
            continue
        if all(c in dead for t in op._outputs for c in t._consumers):
            dead.add(op)
    tied |= dead
    excluded = owned | tied
    stack = [op for op in graph._ops[first:] if op not in excluded]
    while stack:
        op = stack.pop()
        for dep in [t.op for t in op._inputs] + list(op._control_inputs):
            if dep in excluded and dep not in tied:
                excluded.discard(dep)
                stack.append(dep)
    return excluded


def library(graph, nodes=None) -> Any:
    """The graph's functions as TF's `FunctionDefLibrary` proto. `nodes` (the exported GraphDef's nodes)
    lets the gradients' forward functions get value semantics (forward_values.py), which rewrites the
    SymbolicGradient nodes among them."""
    from tensorboard.compat.proto import function_pb2
    lib = function_pb2.FunctionDefLibrary()
    for fn in graph._functions.values():
        fdef, extra, gradients = fn.as_function_defs()
        lib.function.add().CopyFrom(fdef)
        for wrapper in extra:
            lib.function.add().CopyFrom(wrapper)
        for function_name, gradient_name in gradients:
            entry = lib.gradient.add()
            entry.function_name = function_name
            entry.gradient_func = gradient_name
    # (only gradients' forward functions: dataset and other library functions are "function"s too)
    forward_fns = {fn.name for fn in graph._functions.values() if fn.kind == "function"}
    forward = [op.attrs["f"].name for op in graph._ops if op.type == "SymbolicGradient" and "f" in op.attrs]
    if nodes is not None:
        # TensorArrays and resource variables in a gradient's forward function: TensorLists and values.
        from graphcompat.framework.forward_values import give_forward_functions_value_semantics
        copies = give_forward_functions_value_semantics(nodes, lib, graph)
        forward = [copies.get(name, name) for name in forward]  # (a gradient inside a body keeps its f)
        forward_fns |= set(copies.values())
    # TF has no C++ gradient for While/If: give the ones a gradient's forward function reaches their own
    # gradient functions (GradientDefs), so TF can run the SymbolicGradient (control_flow_gradients.py).
    from graphcompat.framework.control_flow_gradients import add_control_flow_gradients
    add_control_flow_gradients(lib, [name for name in dict.fromkeys(forward) if name in forward_fns])
    return lib
