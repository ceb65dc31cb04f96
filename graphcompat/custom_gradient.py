"""User-defined gradients: `tf.RegisterGradient`, `tf.NotDifferentiable`, `Graph.gradient_override_map`,
`tf.custom_gradient`.

graphcompat derives gradients with `jax.vjp` (graphcompat/gradients.py), so TF's built-in ops need no
registered gradient functions. A user's gradient function is still called as TF calls it: once, by
`tf.gradients`, with the forward `Operation` and one tensor per output gradient, under the name scope
`gradients/<op name>_grad`; the ops it records become the backward pass of that op inside the
`SymbolicGradient`'s `jax.vjp` (a `jax.custom_vjp` around the op, lowering/rules/gradients.py).

A few op families have TF gradients that are dedicated TF kernel ops (FakeQuantWithMinMaxVars's is
FakeQuantWithMinMaxVarsGradient): their modules register TF's gradient function with `builtin_gradient`,
so `tf.gradients` records TF's op types through the same path, and exported graphs hold what TF's hold.
"""
from __future__ import annotations

import functools
import itertools
import inspect
from typing import Callable, NamedTuple, Optional

from graphcompat.framework import ops as _ops
from graphcompat.framework.registry import OP_DEFS

# name → gradient function, or None for a name registered as not differentiable.
_GRADIENTS: dict = {}
# TF op type → the gradient function TF registers for it (None: NotDifferentiable), for the op types whose
# gradient graphcompat records as TF's own ops instead of deriving it with jax.vjp (`builtin_gradient`).
_BUILTIN_GRADIENTS: dict = {}
_REGISTERED_AT: dict = {}
_UIDS = itertools.count(1)


def _register(fn: Optional[Callable], op_type) -> None:
    if not isinstance(op_type, str):
        raise TypeError("op_type must be a string")
    if op_type in _GRADIENTS or op_type in OP_DEFS:
        # TF registers a gradient (or NotDifferentiable) for every built-in op type.
        where = _REGISTERED_AT.get(op_type, "TensorFlow's own registration of this op type")
        raise KeyError(f"Registering two gradient with name '{op_type}'! (Previous registration was in {where})")
    _GRADIENTS[op_type] = fn
    code = getattr(fn, "__code__", None)
    _REGISTERED_AT[op_type] = (f"{fn.__name__} {code.co_filename}:{code.co_firstlineno}" if code
                               else "NotDifferentiable")


class RegisterGradient:
    """`tf.RegisterGradient(op_type)`: decorator registering `fn(op, *grads) -> input grads`."""

    def __init__(self, op_type: str):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, fn: Callable) -> Callable:
        _register(fn, self._op_type)
        return fn


def NotDifferentiable(op_type: str) -> None:  # noqa: N802 (TF's name)
    """`tf.NotDifferentiable`: ops of this (gradient) type pass no gradient to their inputs."""
    _register(None, op_type)


NoGradient = no_gradient = NotDifferentiable


def builtin_gradient(op_type: str) -> Callable:
    """Decorator for graphcompat's op modules: `fn(op, *grads)` is TF's registered gradient of the TF op
    type `op_type` (None: TF's NotDifferentiable), recorded by `tf.gradients` like a user's. A user's
    `tf.RegisterGradient` of the same type is refused as TF refuses it (the op type is TF's)."""
    def register(fn: Optional[Callable]) -> Optional[Callable]:
        if op_type in _BUILTIN_GRADIENTS:
            raise KeyError(f"Registering two gradient with name '{op_type}'!")
        _BUILTIN_GRADIENTS[op_type] = fn
        return fn
    return register


class Override(NamedTuple):
    """How `tf.gradients` differentiates one op whose gradient the user chose.

    kind "none": no gradient flows through it; "as_type": the gradient of the TF op type `name` at the
    same inputs (`{"Sign": "Identity"}`); "function": `fn(op, *grads)` from `tf.RegisterGradient`.
    """
    kind: str
    name: str
    fn: Optional[Callable] = None


def gradient_override(op: _ops.Operation) -> Optional[Override]:
    """The user's choice of gradient for `op` (or TF's, for a `builtin_gradient` op type), or None when
    graphcompat derives it (no override)."""
    mapped = op._attrs.get("_gradient_op_type")
    if mapped is None:
        if op.type not in _GRADIENTS and op.type not in _BUILTIN_GRADIENTS:
            return None
        name = op.type
    else:
        name = mapped.decode() if isinstance(mapped, bytes) else str(mapped)
    for registry in (_GRADIENTS, _BUILTIN_GRADIENTS):
        if name in registry:
            fn = registry[name]
            return Override("none", name) if fn is None else Override("function", name, fn)
    if name in OP_DEFS:
        return Override("as_type", name)
    return Override("missing", name)


def missing_gradient_error(op: _ops.Operation, name: Optional[str] = None) -> LookupError:
    """TF's LookupError for an op without a gradient; `name`: the op's name where TF's differs (an op of a
    loop or cond body is named as in the body's function graph)."""
    return LookupError(
        f"No gradient defined for operation'{name or op.name}' (op type: {op.type}). In general every operation "
        "must have an associated `@tf.RegisterGradient` for correct autodiff, which this op is lacking. If you want "
        "to pretend this operation is a constant in your program, you may insert `tf.stop_gradient`. This can "
        "be useful to silence the error in cases where you know gradients are not needed, e.g. the forward "
        "pass of tf.custom_gradient. Please see more details in "
        "https://www.tensorflow.org/api_docs/python/tf/custom_gradient.")


def custom_gradient(f: Optional[Callable] = None):
    """`tf.custom_gradient`: `f(*x)` returns `(y, grad_fn)`; `tf.gradients` through `y` calls
    `grad_fn(*dy)` for the gradients of `x`, as TF1's graph mode records it: an `IdentityN` over
    `y + x` whose gradient is overridden."""
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        return _record_custom_gradient(f, args, kwargs)

    return decorated


def _record_custom_gradient(f: Callable, args, kwargs):
    from graphcompat.framework import constant_op
    from graphcompat.ops import control_flow_ops as nest  # TF's nest order: flatten / pack_sequence_as
    from graphcompat.ops import array_ops
    from graphcompat.ops.indexing_ops import identity_n

    if kwargs:
        raise ValueError("The custom_gradient decorator currently supports keywords arguments only when eager "
                         "execution is enabled.")
    name = f"CustomGradient-{next(_UIDS)}"
    args = [constant_op.convert_to_tensor(a) for a in args]
    result, grad_fn = f(*args)
    flat_result = [constant_op.convert_to_tensor(t) for t in nest.flatten(result)]
    n_result = len(flat_result)
    # TF's graph-mode decorator looks for variables between the arguments and the results starting from an
    # `identity` of each result (_get_dependent_variables); those Identity ops stay in TF's graph, so they
    # are recorded here too and the ops after them get TF's names.
    for t in flat_result:
        array_ops.identity(t)
    if "variables" in inspect.signature(grad_fn).parameters:
        raise NotImplementedError(
            "tf.custom_gradient with a grad_fn taking `variables`: graphcompat passes gradients only for the "
            "decorated function's arguments; pass the variables in as arguments instead.")

    def grad_of_identity_n(_op, *result_grads):
        input_grads = grad_fn(*result_grads[:n_result])
        input_grads = nest.flatten(input_grads) if isinstance(input_grads, (list, tuple)) else [input_grads]
        if len(input_grads) != len(args):
            raise ValueError(f"custom_gradient function expected to return {len(args)} gradients but returned "
                             f"{len(input_grads)} instead.")
        return [None] * n_result + list(input_grads)

    RegisterGradient(name)(grad_of_identity_n)
    with _ops.get_default_graph().gradient_override_map({"IdentityN": name}):
        outputs = identity_n(flat_result + args)
    return nest.pack_sequence_as(result, list(outputs[:n_result]))


def grad_pass_through(f: Callable) -> Callable:
    """`tf.grad_pass_through`: `f`'s values, an identity's gradient (TF builds it as a `custom_gradient`
    whose grad_fn returns the incoming gradients; variables read by `f` get none)."""
    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        def forward(*inner_args):
            return f(*inner_args), lambda *result_grads: result_grads
        return _record_custom_gradient(forward, args, kwargs)
    return wrapped


_VARIABLE_OP_TYPES = frozenset({"VariableV2", "Variable", "VarHandleOp", "AutoReloadVariable",
                                "VarIsInitializedOp", "ReadVariableOp"})


def _reads_variables(results: list, args: list) -> bool:
    """Whether a variable lies on a path from `args` to `results`, the subgraph TF's graph-mode
    custom_gradient searches for the variables a function uses (the walk stops at the arguments)."""
    stop = {id(t) for t in args}
    seen, stack = set(), [t.op for t in results if id(t) not in stop]
    while stack:
        op = stack.pop()
        if id(op) in seen:
            continue
        seen.add(id(op))
        if op.type in _VARIABLE_OP_TYPES:
            return True
        stack.extend(t.op for t in op.inputs if id(t) not in stop)
    return False


def recompute_grad(f: Callable) -> Callable:
    """`tf.recompute_grad`: `f`'s values; `tf.gradients` re-runs `f` on identities of its arguments and
    differentiates that copy, as TF1's graph mode records it (a data dependency of the recomputation on the
    incoming gradient, then a nested custom gradient over the result)."""
    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        from graphcompat.framework import constant_op
        from graphcompat.framework import dtypes as _dtypes
        from graphcompat.gradients import gradients
        from graphcompat.ops import array_ops, math_ops, reduction_ops
        from graphcompat.ops import control_flow_ops as nest
        from graphcompat.variable_scope import get_variable_scope, variable_scope

        def forward(*inputs):
            scope = get_variable_scope()
            result = f(*inputs)
            flat = [constant_op.convert_to_tensor(t) for t in nest.flatten(result)]
            if _reads_variables(flat, list(inputs)):
                # TF passes such variables to grad_fn(variables=...) for their gradients; graphcompat's
                # custom_gradient carries gradients for the arguments only.
                raise NotImplementedError("tf.recompute_grad of a function that reads variables: graphcompat "
                                          "differentiates only its arguments; pass the variables in as arguments.")

            def grad_fn(*dresult):
                def recompute(*result_grads):
                    ids = [array_ops.identity(a) for a in inputs]
                    # TF's data dependency of the recomputation on the incoming gradient (for XLA, which
                    # ignores control dependencies). Its condition `b == b` compares graph tensors by identity
                    # in TF1, so it is the constant True and the dependency is always 0.
                    first = reduction_ops.reduce_max(array_ops.reshape(result_grads[0], [-1])[:1])
                    math_ops.cast(first, _dtypes.bool_)
                    dependency = math_ops.where_v2(True, 0., float("nan"))
                    ids = [a + math_ops.cast(dependency, a.dtype) for a in ids]
                    with variable_scope(scope):
                        recomputed = f(*ids)
                    grads = gradients(nest.flatten(recomputed), ids, grad_ys=list(result_grads),
                                      unconnected_gradients="zero")

                    def transpose(*_, **__):
                        raise NotImplementedError(f"recompute_grad tried to transpose grad of {f.__name__}. "
                                                  "Consider not using recompute_grad in forward modeautodiff")
                    return grads, transpose
                return _record_custom_gradient(recompute, list(dresult), {})
            return result, grad_fn
        return _record_custom_gradient(forward, args, kwargs)
    return wrapped
