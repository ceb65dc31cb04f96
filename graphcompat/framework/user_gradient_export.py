"""User-chosen gradients in an exported gradient's forward function, for TensorFlow to run.

graphcompat applies a gradient the user chose (`tf.custom_gradient`, `tf.RegisterGradient` with
`gradient_override_map`, a registered gradient of a new op type; graphcompat/custom_gradient.py) inside its
SymbolicGradient: `tf.gradients` called the gradient function once and recorded its ops (a `BackwardGraph`),
and the lowering attaches them to the op with a `jax.custom_vjp`. The forward function `f` takes such an op's
outputs as arguments, so TF, which differentiates `f` with its C++ gradients and knows nothing of Python's
gradient registry, would see them as constants: zero gradients, a graph that silently trains differently.

So the export (only it; the Graph and graphcompat's runs are unchanged) writes such an op in `f` as a call of
a one-node `_noinline` wrapper whose GradientDef is the recorded gradient, in TF ops (TF's SymbolicGradient
honours a function's GradientDef, as it does for the control-flow wrappers of control_flow_gradients.py):

* wrapper `(op inputs..., extra...) -> op outputs`: the op itself; `extra` are the other tensors the recorded
  gradient reads (a threshold the user's function captured), passed through so the gradient function sees
  them; a resource variable it reads is passed as its value, read in `f` next to the call (the export gives
  `f` value semantics, forward_values.py, which turns that read into the variable's value); any other use of
  a handle raises NotImplementedError at export;
* gradient `(op inputs..., extra..., output gradients...) -> input gradients`: the op again (only where the
  recorded gradient reads its outputs) and copies of the recorded ops, the incoming gradients in place of the
  stand-ins `tf.gradients` called the user's function with; an input the user gave no gradient (None), and
  each extra, gets zeros.

A gradient mapped to another op type (`gradient_override_map({"Sign": "Identity"})`) becomes a gradient
function that runs `SymbolicGradient` of a one-node function of that type at the op's inputs. A
NotDifferentiable override needs nothing in a gradient's forward function (TF's zeros are its gradient); in a
loop or cond body, whose op TF would differentiate, its gradient function returns zeros.

The ops of control-flow bodies are written the same way (their user gradients are recorded on the body by
`tf.gradients`, graphcompat/gradients.py `_record_body_gradients`): TF's gradient of the exported loop or
cond (control_flow_gradients.py) runs `SymbolicGradient` of the body, which honours the wrapper's GradientDef.
"""
from __future__ import annotations

import re

from graphcompat.framework import dtypes as _dt


def user_gradient_functions(fn) -> dict:
    """{op: (wrapper FunctionDef, gradient FunctionDef, helper FunctionDefs, the call's inputs)} for the ops of
    the gradient's forward function `fn` whose gradient the user chose (module docstring)."""
    from graphcompat.framework.function_library import _differentiated_by_gradient_def
    if not fn.gradient_overrides or not (fn.kind == "function" or fn.owns_ops):
        return {}
    by_gradient_def = set(_differentiated_by_gradient_def(fn))
    in_function = set(fn.ops)
    out = {}
    for op, chosen in fn.gradient_overrides.items():
        if op not in in_function or op in by_gradient_def:
            continue
        if chosen.kind == "none":
            if fn.kind == "function":  # its outputs are f's arguments: TF's zeros are its gradient
                continue
            # inside a loop or cond body TF would differentiate the op with its C++ gradient: zeros instead
            from graphcompat.gradients import BackwardGraph
            chosen = BackwardGraph(chosen.name, list(op._outputs), [], [None] * len(op._inputs), [])
        if chosen.kind not in ("function", "as_type"):
            raise NotImplementedError(f"exporting the gradient of op '{op.name}' (type {op.type}): graphcompat "
                                      f"cannot write a gradient of kind {chosen.kind!r} for TensorFlow")
        if fn.owns_ops:
            from graphcompat.gradients import outer_reads
            outside = outer_reads(fn, op)
            if outside:
                # TF's gradient body would capture them; graphcompat's body FunctionDef has no input for them
                raise NotImplementedError(
                    f"exporting the gradient of op '{op.name}' (type {op.type}) inside the loop or cond body "
                    f"'{fn.name}' for TensorFlow: the user's gradient function reads "
                    f"{', '.join(t.name for t in outside)}, which the body does not use; use it in the body (or "
                    "compute it in the gradient function) to export this graph")
        base = re.sub(r"[^A-Za-z0-9_]", "_", f"{fn.name}_{op.name}")
        extra = list(getattr(chosen, "extra", ()))
        reads = _variable_reads(op, chosen, extra)
        # a resource variable the gradient reads is passed as its value (the call reads it in f), so the export's
        # value semantics of f's resource arguments (forward_values.py) hold around the call
        call_inputs = list(op._inputs) + [reads.get(t, t) for t in extra]
        wrapper = _wrapper(op, call_inputs, f"{base}_user_gradient_call")
        if chosen.kind == "function":
            grad, helpers = _recorded_gradient(op, chosen, call_inputs, f"{base}_user_gradient"), []
        else:
            grad, helper = _mapped_gradient(op, chosen.name, call_inputs, f"{base}_user_gradient")
            helpers = [helper]
        out[op] = (wrapper, grad, helpers, call_inputs, {r: h for h, r in reads.items()})
    return out


def _variable_reads(op, chosen, extra: list) -> dict:
    """{resource handle among `extra`: the one ReadVariableOp output of it the recorded gradient reads}; any
    other use of a handle cannot be passed as a value, and is refused."""
    reads = {}
    for handle in (t for t in extra if t.dtype.base_dtype == _dt.resource):
        users = [s for s in getattr(chosen, "steps", ()) if handle in s._inputs]
        if len(users) != 1 or users[0].type != "ReadVariableOp":
            raise NotImplementedError(
                f"exporting the gradient of op '{op.name}' (type {op.type}) for TensorFlow: the user's gradient "
                f"function uses the resource variable {handle.name} other than by one read "
                f"({', '.join(sorted(s.type for s in users)) or 'none'}); read its value outside the gradient "
                "function (a tensor the function captures)")
        reads[handle] = users[0]._outputs[0]
    return reads


def _graph_function(name: str, ops: list, captures: list, outputs: list):
    from graphcompat.framework.function_library import GraphFunction
    return GraphFunction(name, "function", ops, [], captures, outputs, [], owns_ops=False)


def _wrapper(op, call_inputs: list, name: str):
    fdef = _graph_function(name, [op], call_inputs, list(op._outputs)).as_function_def()
    # TF inlines calls before it differentiates a function body, which would drop the GradientDef.
    fdef.attr["_noinline"].b = True
    return fdef


def _recorded_gradient(op, backward, call_inputs: list, name: str):
    """The gradient function of a `BackwardGraph`: the recorded ops, reading the incoming gradients."""
    from graphcompat.framework.function_library import _FunctionDefWriter
    steps = [s for s in backward.steps if s not in _in_bodies(op.graph, backward.steps)]
    outputs = set(op._outputs)
    reads_outputs = any(t in outputs for s in steps for t in s._inputs) or any(
        g is not None and g in outputs for g in backward.results)
    passed = set(call_inputs)
    steps = [s for s in steps if not (s.type == "ReadVariableOp" and s._outputs[0] in passed)]  # passed values
    ops = ([op] if reads_outputs else []) + steps
    writer = _FunctionDefWriter(_graph_function(name, ops, call_inputs + list(backward.standins), []))
    fdef = writer.write()
    results = list(backward.results) + [None] * (len(call_inputs) - len(backward.results))
    _write_results(writer, fdef, call_inputs, results)
    return fdef


def _in_bodies(graph, steps: list) -> set:
    """The recorded ops that belong to the bodies of control flow the user's gradient built (their
    FunctionDefs carry them): the bodies' ops and parameters, and the recorded ops reading those parameters
    (dead code of such a body). Not the recorded ops that read the forward op's tensors, even where that op
    sits in a loop body itself (a user gradient inside a while_loop: `_record_body_gradients`)."""
    inside: set = set()
    for fn in graph._functions.values():
        if fn.owns_ops:
            inside.update(fn.ops)
            inside.update(fn.param_ops)
    tied = {s for s in steps if s.type == "_LoopVar"}
    for s in steps:
        if s not in tied and any(t.op in tied for t in s._inputs):
            tied.add(s)
    return inside | tied


def _mapped_gradient(op, mapped_type: str, call_inputs: list, name: str):
    """`gradient_override_map({op.type: mapped_type})`: TF's gradient of `mapped_type` at the op's inputs,
    as SymbolicGradient of a one-node function of that type (the op's attrs that type has)."""
    from tensorboard.compat.proto import attr_value_pb2, function_pb2

    from graphcompat.framework import graph_def as _gd
    from graphcompat.framework import registry
    op_def = registry.OP_DEFS[mapped_type]
    known = {a for a in getattr(op_def, "attrs", {})} | {
        getattr(arg, attr) for arg in list(op_def.inputs) + list(op_def.outputs)
        for attr in ("type_attr", "number_attr", "type_list_attr") if getattr(arg, attr, None)}
    n_in, dtypes = len(op._inputs), [t.dtype.base_dtype for t in call_inputs]
    one = function_pb2.FunctionDef()
    one.signature.name = name + "_as_" + re.sub(r"[^A-Za-z0-9_]", "_", mapped_type)
    for k, t in enumerate(op._inputs):
        arg = one.signature.input_arg.add()
        arg.name, arg.type = f"input_{k}", t.dtype.base_dtype.as_datatype_enum
    node = one.node_def.add()
    node.name, node.op = "mapped", mapped_type
    node.input.extend(f"input_{k}" for k in range(n_in))
    for key, value in _gd.exported_attrs(op):
        if key in known:
            node.attr[key].CopyFrom(value)
    for k, t in enumerate(op._outputs):
        arg = one.signature.output_arg.add()
        arg.name, arg.type = f"output_{k}", t.dtype.base_dtype.as_datatype_enum
        one.ret[arg.name] = f"mapped:{_output_arg(op_def, k)}:{_output_index(op_def, k)}"
    grad = function_pb2.FunctionDef()
    grad.signature.name = name
    for k, dtype in enumerate(dtypes):
        arg = grad.signature.input_arg.add()
        arg.name, arg.type = f"input_{k}", dtype.as_datatype_enum
    for k, t in enumerate(op._outputs):
        arg = grad.signature.input_arg.add()
        arg.name, arg.type = f"output_grad_{k}", t.dtype.base_dtype.as_datatype_enum
    call = grad.node_def.add()
    call.name, call.op = "mapped_gradient", "SymbolicGradient"
    call.input.extend([f"input_{k}" for k in range(n_in)] + [f"output_grad_{k}" for k in range(len(op._outputs))])
    in_types = [t.dtype.base_dtype.as_datatype_enum for t in op._inputs]
    call.attr["Tin"].CopyFrom(attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(
        type=in_types + [t.dtype.base_dtype.as_datatype_enum for t in op._outputs])))
    call.attr["Tout"].CopyFrom(attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(type=in_types)))
    call.attr["f"].CopyFrom(attr_value_pb2.AttrValue(func=attr_value_pb2.NameAttrList(name=one.signature.name)))
    for k, dtype in enumerate(dtypes):
        arg = grad.signature.output_arg.add()
        arg.name, arg.type = f"input_grad_{k}", dtype.as_datatype_enum
        if k < n_in:
            grad.ret[arg.name] = f"mapped_gradient:output:{k}"
        else:  # an extra (none for a mapped type)
            zeros = grad.node_def.add()
            zeros.name, zeros.op = f"zeros_{k}", "ZerosLike"
            zeros.input.append(f"input_{k}")
            zeros.attr["T"].CopyFrom(attr_value_pb2.AttrValue(type=dtype.as_datatype_enum))
            grad.ret[arg.name] = f"{zeros.name}:y:0"
    return grad, one


def _output_arg(op_def, k: int) -> str:
    return op_def.outputs[min(k, len(op_def.outputs) - 1)].name if op_def.outputs else "output"


def _output_index(op_def, k: int) -> int:
    return k if len(op_def.outputs) == 1 else 0


def _write_results(writer, fdef, call_inputs: list, results: list) -> None:
    """One output per call input: its gradient, or zeros (no gradient, or an extra)."""
    from tensorboard.compat.proto import attr_value_pb2

    from graphcompat.framework.function_library import _arg_name
    used: set = set()
    for k, (x, g) in enumerate(zip(call_inputs, results)):
        dtype = x.dtype.base_dtype
        if g is None:
            if dtype == _dt.resource:
                raise NotImplementedError(f"exporting a user gradient over the resource input {x.name}")
            zeros = fdef.node_def.add()
            zeros.name = writer._unique(f"zeros_{k}")
            zeros.op = "ZerosLike"
            # the k-th argument (an input listed twice has an argument per position)
            zeros.input.append(fdef.signature.input_arg[k].name)
            zeros.attr["T"].CopyFrom(attr_value_pb2.AttrValue(type=dtype.as_datatype_enum))
            text = f"{zeros.name}:y:0"
        else:
            text = writer._input(g)
        arg = fdef.signature.output_arg.add()
        arg.name = _arg_name("identity", used)
        arg.type = dtype.as_datatype_enum
        fdef.ret[arg.name] = text
