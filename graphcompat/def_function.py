"""`tf.function` in graph mode, as TF 2's compat.v1 graphs record it, and `tf.Module`.

Calling a tf.function inside a graph traces the Python function once per input signature into a function
of the graph's library (`__inference_<name>_<n>`, graphcompat/framework/function_library.py) and records
one call node: `PartitionedCall`, or `StatefulPartitionedCall` when the body holds a stateful op (a
variable read, a random op, an assign). The call's inputs are the tensor arguments (flattened), then the
outer tensors the body captures (a resource variable's handle among them), with TF's attrs `f`, `Tin`,
`Tout`, `config`, `config_proto`, `executor_type`. As control-flow bodies, the body's ops are recorded in
the outer graph under the function's name scope and written as the FunctionDef; the lowering
(lowering/rules/control_flow.py `partitioned_call`) runs the body inline, and gradients flow through the
call as through any op (jax.vjp of the re-traced body).

Python arguments (numbers, strings, None, objects) are part of the trace's key and baked into the body, as
TF does; tensors are keyed by dtype and shape (each new shape retraces), or checked against the
`input_signature`. AutoGraph is not implemented: Python control flow on a tensor inside the body raises
NotImplementedError naming tf.autograph (with `autograph=False`, TF's OperatorNotAllowedInGraphError).
"""
from __future__ import annotations

import functools
import inspect
import itertools
import weakref
from typing import Callable, Optional

import numpy as np

from graphcompat import nest as _nest
from graphcompat.backprop import collect_accessed_variables, variable_accessed
from graphcompat.framework import constant_op as _const
from graphcompat.framework import ops as _ops
from graphcompat.framework.registry import defop

defop("PartitionedCall", "args: *Tin -> output: *Tout")          # created directly below
defop("StatefulPartitionedCall", "args: *Tin -> output: *Tout")  # (not `stateful`: gradients flow through it, as If)

# The `config_proto` TF 2's graph-mode tf.function writes (its default context's ConfigProto, serialized).
_CONFIG_PROTO = b"\n\x07\n\x03CPU\x10\x01\n\x07\n\x03GPU\x10\x002\x02J\x008\x01\x82\x01\x00\x92\x01\x02J\x00"
_function_ids = itertools.count(1)


class _Trace:
    """One traced signature: the library function and how to rebuild the Python result."""

    def __init__(self, function, structure, output_leaves: list, func_attr, stateful: bool, accessed_variables: list):
        self.function = function          # the GraphFunction
        self.structure = structure        # the Python result, tensors as traced
        self.output_leaves = output_leaves  # per result leaf: ("tensor", i) / ("op",) / ("value", v)
        self.func_attr = func_attr        # the call's `f` (a NameAttrList)
        self.stateful = stateful          # StatefulPartitionedCall, else PartitionedCall
        self.accessed_variables = accessed_variables  # trainable variables the body reads


def _is_tensor_like(value) -> bool:
    return isinstance(value, (_ops.Tensor, np.ndarray))


def _is_variable(value) -> bool:
    from graphcompat.variables import Variable
    return isinstance(value, Variable)


def _hashable(value):
    try:
        hash(value)
        return value
    except TypeError:
        return ("id", id(value))


class Function:
    """A `tf.function`-decorated callable (TF's `Function`): traces per input signature, records a call."""

    def __init__(self, python_function: Callable, name: Optional[str] = None, input_signature=None,
                 autograph: bool = True, jit_compile=None, reduce_retracing: bool = False,
                 experimental_implements=None, experimental_autograph_options=None,
                 experimental_attributes=None, experimental_follow_type_hints=None):
        if input_signature is not None:
            from graphcompat.tf1_misc import TensorSpec
            for spec in _nest.flatten(input_signature):
                if not isinstance(spec, TensorSpec):
                    raise TypeError(f"input_signature must be a possibly nested sequence of TensorSpec objects, "
                                    f"got invalid args {spec!r} with type {type(spec)}.")
        self._python_function = python_function
        self._name = name or getattr(python_function, "__name__", "function")
        self._input_signature = None if input_signature is None else list(input_signature)
        self._autograph = autograph
        self._traces: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # graph -> {key: _Trace}
        self._bound: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()    # instance -> Function
        self._options = dict(name=name, input_signature=input_signature, autograph=autograph,
                             jit_compile=jit_compile, reduce_retracing=reduce_retracing)
        functools.update_wrapper(self, python_function)

    python_function = property(lambda self: self._python_function)
    input_signature = property(lambda self: self._input_signature)

    def __get__(self, instance, owner):
        """A tf.function method: one Function per instance, tracing the bound method."""
        if instance is None:
            return self
        bound = self._bound.get(instance)
        if bound is None:
            method = self._python_function.__get__(instance, owner)
            bound = self._bound[instance] = Function(method, **self._options)
        return bound

    def __repr__(self) -> str:
        return f"<graphcompat.function.Function object at {id(self):#x}>"

    # --- calls ----------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        signature = inspect.signature(self._python_function)
        if self._input_signature is not None:
            args, kwargs = self._check_signature(signature, args, kwargs)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as err:
            raise TypeError(f"Binding inputs to tf.function failed due to `{err}`. Received args: {args} and kwargs: "
                            f"{kwargs} for signature: {signature}.") from None
        bound.apply_defaults()
        names = list(bound.arguments)
        values = [bound.arguments[n] for n in names]
        leaves = _nest.flatten(values)
        tensors, key = [], []
        for leaf in leaves:
            if _is_tensor_like(leaf):
                t = _const.convert_to_tensor(leaf)
                tensors.append(t)
                key.append(("tensor", t.dtype.base_dtype, t.shape.as_tuple_or_none()
                            if self._input_signature is None else None))
            else:
                key.append(("value", _hashable(leaf)))
        graph = tensors[0].graph if tensors else _ops.get_default_graph()
        key = (tuple(names), tuple(key))
        by_key = self._traces.setdefault(graph, {})
        trace = by_key.get(key)
        if trace is None:
            from graphcompat.framework.importer import atomic
            with atomic(graph):  # a trace that raises (Python control flow on a tensor …) leaves no ops behind
                trace = self._trace(graph, names, values, leaves, tensors)
            by_key[key] = trace
        return self._call(graph, trace, tensors)

    def _check_signature(self, signature, args, kwargs) -> tuple:
        """TF's binding of arguments to an input_signature: each tensor must cast to its spec."""
        specs = self._input_signature
        params = list(signature.parameters.values())
        flat_args = list(args) + [kwargs[p.name] for p in params[len(args):] if p.name in kwargs]
        spec_text = ", ".join(f"{p.name}: {s!r}" for p, s in zip(params, specs))
        if len(flat_args) > len(specs):
            raise TypeError(f"Binding inputs to tf.function failed due to `too many positional arguments`. Received "
                            f"args: {args} and kwargs: {kwargs} for signature: ({spec_text}).")
        converted = []
        for value, spec in zip(flat_args, specs):
            value_leaves = _nest.flatten(value)
            out = []
            for leaf, leaf_spec in zip(value_leaves, _nest.flatten(spec)):
                t = leaf if isinstance(leaf, _ops.Tensor) else _const.convert_to_tensor(leaf, dtype=leaf_spec.dtype)
                if t.dtype.base_dtype != leaf_spec.dtype or not leaf_spec.shape.is_compatible_with(t.shape):
                    from graphcompat.tf1_misc import TensorSpec
                    raise TypeError(
                        f"Binding inputs to tf.function failed due to `Can not cast "
                        f"{TensorSpec(t.shape, t.dtype.base_dtype)!r} to {leaf_spec!r}`. Received args: {args} and "
                        f"kwargs: {kwargs} for signature: ({spec_text}).")
                out.append(t)
            converted.append(_nest.pack_sequence_as(value, out))
        return tuple(converted), {}

    def _trace(self, graph, names: list, values: list, leaves: list, tensors: list) -> _Trace:
        from graphcompat.ops import control_flow_ops as cf
        fn_name = f"__inference_{self._name}_{next(_function_ids)}"
        while graph._is_function(fn_name) or graph._names_in_use.get(fn_name.lower()):
            fn_name = f"__inference_{self._name}_{next(_function_ids)}"
        specs = _nest.flatten(self._input_signature) if self._input_signature is not None else None
        params, param_leaves = [], []
        arg_names = _leaf_names(names, values)
        # The body's ops are the outer graph's, under the function's own scope (its FunctionDef strips it;
        # a top-level name may not start with `_`).
        with graph.as_default(), graph.control_dependencies(None), graph.name_scope(None), \
                graph.name_scope(fn_name.lstrip("_")):
            k = 0
            for leaf, arg_name in zip(leaves, arg_names):
                if not _is_tensor_like(leaf):
                    param_leaves.append(leaf)
                    continue
                t = tensors[k]
                shape = specs[k].shape if specs is not None else t.shape
                param = cf._create(graph, "_LoopVar", graph.unique_name(arg_name), [], [t.dtype.base_dtype], [shape],
                                   {"dtype": t.dtype.base_dtype, "shape": shape})._outputs[0]
                params.append(param)
                param_leaves.append(param)
                k += 1
            call_values = _nest.pack_sequence_as(values, param_leaves)
            call_args = dict(zip(names, call_values))
            functions_before = set(graph._functions)
            saved = _ops._FUNCTION_TRACING.autograph
            _ops._FUNCTION_TRACING.autograph = bool(self._autograph)
            try:
                with collect_accessed_variables() as accessed:
                    result, outputs, targets, first, end = cf._call_and_record(
                        graph, lambda: self._call_python(call_args), ())
            finally:
                _ops._FUNCTION_TRACING.autograph = saved
        ordered = _effect_ops(graph, first, end, functions_before)
        last_effect = None
        for op in ordered:  # each read or effect after the effect before it (TF's automatic control deps)
            if last_effect is not None and last_effect not in op._control_inputs:
                op._add_control_input(last_effect)
            if op.type not in _READS:
                last_effect = op
        targets = list(targets) + [op for op in ordered if op.type not in _READS and op not in targets]
        body, outer_control = cf._collect(graph, "branch", first, end, params, outputs, targets)
        if outer_control:
            raise NotImplementedError(f"tf.function '{self._name}': a body with control dependencies on ops outside "
                                      "it")
        from tensorboard.compat.proto import attr_value_pb2
        body.name = fn_name
        graph._add_function(body)
        output_leaves, i = [], 0
        for leaf in _nest.flatten(result):
            if isinstance(leaf, _ops.Operation):
                output_leaves.append(("op",))
            elif leaf is None:
                output_leaves.append(("value", None))
            else:  # tensors, variables (read) and Python values (constants), as _call_and_record made them
                output_leaves.append(("tensor", i))
                i += 1
        return _Trace(body, result, output_leaves, attr_value_pb2.NameAttrList(name=fn_name), cf._stateful([body]),
                      list(accessed.variables.values()))

    def _call_python(self, call_args: dict):
        signature = inspect.signature(self._python_function)
        args, kwargs = [], {}
        for name, param in signature.parameters.items():
            if name not in call_args:
                continue
            value = call_args[name]
            if param.kind == param.VAR_POSITIONAL:
                args.extend(value)
            elif param.kind == param.VAR_KEYWORD:
                kwargs.update(value)
            elif param.kind == param.KEYWORD_ONLY:
                kwargs[name] = value
            else:
                args.append(value)
        return self._python_function(*args, **kwargs)

    def _call(self, graph, trace: _Trace, tensors: list):
        body = trace.function
        for variable in trace.accessed_variables:  # a call reads them (recording GradientTapes watch them)
            variable_accessed(variable)
        inputs = list(tensors) + list(body.captures)
        op_type = "StatefulPartitionedCall" if trace.stateful else "PartitionedCall"
        attrs = {"Tin": [t.dtype.base_dtype for t in inputs], "Tout": [t.dtype.base_dtype for t in body.outputs],
                 "f": trace.func_attr, "config": "", "config_proto": _CONFIG_PROTO, "executor_type": ""}
        with graph.as_default():
            op = graph._create_op_internal(op_type, inputs, attrs["Tout"], [t.shape for t in body.outputs],
                                           graph.unique_name(op_type), attrs)
        out = []
        for kind in trace.output_leaves:
            if kind[0] == "tensor":
                out.append(op._outputs[kind[1]])
            elif kind[0] == "op":
                out.append(op)
            else:
                out.append(kind[1])
        if not out and trace.structure is None:
            return None
        return _nest.pack_sequence_as(trace.structure, out)

    def get_concrete_function(self, *args, **kwargs):
        raise NotImplementedError("tf.function's get_concrete_function (ConcreteFunction) in graph mode")

    def experimental_get_tracing_count(self) -> int:
        return sum(len(by_key) for by_key in self._traces.values())


# Ops that only read state: TF's automatic control dependencies order them, but a read nobody uses has no effect.
_READS = frozenset({"ReadVariableOp", "ResourceGather", "VarIsInitializedOp", "VariableShape"})


def _effect_ops(graph, first: int, end: int, functions_before: set) -> list:
    """The stateful ops a traced body created (assigns, random ops, stateful control flow and calls, and
    variable reads), in program order: as TF's automatic control dependencies, each effect runs, after the
    one before it, whether or not an output needs it, and a read sees the effects before it. Not the ops of
    bodies nested in it (cond branches, inner functions), nor a variable the body created and its
    initialization (TF lifts those out of the function)."""
    from graphcompat.framework.registry import OP_DEFS
    from graphcompat.ops.control_flow_ops import _STATEFUL_CONTROL_FLOW, _STATE_SOURCES
    nested = set()
    for name, fn in graph._functions.items():
        if name not in functions_before and fn.owns_ops:
            nested.update(fn.ops)
            nested.update(fn.param_ops)
    created_scopes = []  # a variable the body creates (an optimizer's slots): its ops are under its name
    effects = []
    for op in graph._ops[first:end]:
        if op in nested:
            continue
        if op.type in _STATE_SOURCES:
            created_scopes.append(op.name + "/")
            continue
        if any(op.name.startswith(scope) for scope in created_scopes):
            continue
        op_def = OP_DEFS.get(op.type)
        if op.type in _STATEFUL_CONTROL_FLOW or (op_def is not None and (
                op_def.stateful or any(a.is_ref for a in op_def.inputs))):
            effects.append(op)
    return effects


def _leaf_names(names: list, values: list) -> list:
    """An argument name for each leaf (TF's `x`, then `x_1` … for the leaves of a nested argument)."""
    out = []
    for name, value in zip(names, values):
        n = len(_nest.flatten(value))
        out.extend([name] + [f"{name}_{i}" for i in range(1, n)])
    return out


def function(func: Optional[Callable] = None, input_signature=None, autograph: bool = True, jit_compile=None,
             reduce_retracing: bool = False, experimental_implements=None, experimental_autograph_options=None,
             experimental_attributes=None, experimental_relax_shapes=None, experimental_compile=None,
             experimental_follow_type_hints=None, name: Optional[str] = None):
    """`tf.function`: as a decorator (with or without arguments) or a call on a function."""
    def decorate(f):
        return Function(f, name=name, input_signature=input_signature, autograph=autograph, jit_compile=jit_compile,
                        reduce_retracing=reduce_retracing)
    if func is None:
        return decorate
    return decorate(func)


# ------------------------------------------------------------------------------------------------
# tf.Module
# ------------------------------------------------------------------------------------------------
class Module:
    """`tf.Module`: a named container of variables and submodules (TF's module.py, in graph mode)."""

    def __init__(self, name: Optional[str] = None):
        if name is None:
            import re
            name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()
        elif not _valid_identifier(name):
            raise ValueError(f"{name!r} is not a valid module name. Module names must be valid Python identifiers "
                             "(e.g. a valid class name).")
        self._name = name
        with _ops.name_scope(name) as scope:
            self._scope_name = scope

    name = property(lambda self: self._name)

    @property
    def name_scope(self):
        """The module's name scope, re-entered (`with self.name_scope:`)."""
        return _ops.name_scope(self._scope_name)

    def _flatten(self, predicate) -> tuple:
        """The values `predicate` accepts among this module's attributes (by name, nested lists, tuples and
        dicts walked) and, recursively, its submodules', each once, as TF's `Module._flatten`."""
        found, seen, visited = [], set(), {id(self)}

        def leaves(value):
            return _nest.flatten(value) if isinstance(value, (list, tuple, dict)) else [value]

        def walk(module):
            submodules = []
            for key in sorted(vars(module)):
                for leaf in leaves(vars(module)[key]):
                    if id(leaf) not in seen and predicate(leaf):
                        seen.add(id(leaf))
                        found.append(leaf)
                    if isinstance(leaf, Module) and id(leaf) not in visited:
                        visited.add(id(leaf))
                        submodules.append(leaf)
            for submodule in submodules:  # a module's own attributes first, then its submodules'
                walk(submodule)
        walk(self)
        return tuple(found)

    @property
    def variables(self) -> tuple:
        return self._flatten(_is_variable)

    @property
    def trainable_variables(self) -> tuple:
        return self._flatten(lambda v: _is_variable(v) and v.trainable)

    @property
    def non_trainable_variables(self) -> tuple:
        return self._flatten(lambda v: _is_variable(v) and not v.trainable)

    @property
    def submodules(self) -> tuple:
        return self._flatten(lambda m: isinstance(m, Module))

    @classmethod
    def with_name_scope(cls, method):
        """Decorator: the method runs inside the module's name scope."""
        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)
        return wrapped


def _valid_identifier(name: str) -> bool:
    return name.isidentifier()

