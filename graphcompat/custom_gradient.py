"""User-defined gradients: `tf.RegisterGradient`, `tf.NotDifferentiable`, `Graph.gradient_override_map`,
`tf.custom_gradient`.

graphcompat derives gradients with `jax.vjp` (graphcompat/gradients.py), so TF's built-in ops need no
registered gradient functions. A user's gradient function is still called as TF calls it: once, by
`tf.gradients`, with the forward `Operation` and one tensor per output gradient, under the name scope
`gradients/<op name>_grad`; the ops it records become the backward pass of that op inside the
`SymbolicGradient`'s `jax.vjp` (a `jax.custom_vjp` around the op, lowering/rules/gradients.py).
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


class Override(NamedTuple):
    """How `tf.gradients` differentiates one op whose gradient the user chose.

    kind "none": no gradient flows through it; "as_type": the gradient of the TF op type `name` at the
    same inputs (`{"Sign": "Identity"}`); "function": `fn(op, *grads)` from `tf.RegisterGradient`.
    """
    kind: str
    name: str
    fn: Optional[Callable] = None


def gradient_override(op: _ops.Operation) -> Optional[Override]:
    """The user's choice of gradient for `op`, or None when graphcompat derives it (no override)."""
    mapped = op._attrs.get("_gradient_op_type")
    if mapped is None:
        if op.type not in _GRADIENTS:
            return None
        name = op.type
    else:
        name = mapped.decode() if isinstance(mapped, bytes) else str(mapped)
    if name in _GRADIENTS:
        fn = _GRADIENTS[name]
        return Override("none", name) if fn is None else Override("function", name, fn)
    if name in OP_DEFS:
        return Override("as_type", name)
    return Override("missing", name)


def missing_gradient_error(op: _ops.Operation) -> LookupError:
    return LookupError(
        f"No gradient defined for operation'{op.name}' (op type: {op.type}). In general every operation must "
        "have an associated `@tf.RegisterGradient` for correct autodiff, which this op is lacking. If you want "
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
