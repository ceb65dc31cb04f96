"""Op definitions: each TF op type is one `defop` entry (signature, attr defaults, shape inference).

The signature mini-language mirrors TF's REGISTER_OP:
    defop("AddV2", "x: T, y: T -> z: T", types={"T": NUMBER_TYPES}, shape=broadcast_shape)
Inputs/outputs are `name: TYPE` where TYPE is a type attr (`T`), a fixed dtype (`int32`), a list
`N * T` (length attr N), a list of types `*Tout`, or a ref `Ref(T)` (variables).
`apply_op` converts inputs with TF's rules and error texts, infers dtypes and shapes, and records the
node. Shape inference is hand-written where TF's error text must show or speed matters; ops without
a shape function get abstract evaluation of their JAX lowering rule.

One op, one record: everything graphcompat knows about an op type lives on its `OpDef` — signature,
TF-ordered type constraints (framework/tf_op_types.py, read here), effect flags, the shape function, the
build-time constant folder (`register_folders`) and the lowering (`lowering/registry.py`'s `@lowers`
attaches it with `attach_lowering`). Registering any of them twice is an error. The front end never
imports the back end: lowering installs abstract shape inference with `set_default_shape_inference`.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional, Sequence

from graphcompat.framework import constant_op as _const
from graphcompat.framework import dtypes as _dtypes
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework import tf_op_types as _tf_op_types


@dataclasses.dataclass(frozen=True)
class ArgSpec:
    name: str
    type_attr: Optional[str] = None       # `T`
    fixed_dtype: Optional[_dtypes.DType] = None  # `int32`
    number_attr: Optional[str] = None     # `N * T`
    type_list_attr: Optional[str] = None  # `*Tout`
    is_ref: bool = False                  # `Ref(T)`


@dataclasses.dataclass
class OpDef:
    type: str
    inputs: tuple
    outputs: tuple
    attrs: dict                     # defaults
    types: dict                     # allowed dtypes per type attr
    shape_fn: Optional[Callable]    # (InferenceContext) -> list[TensorShape]
    stateful: bool = False
    list_minimums: dict = dataclasses.field(default_factory=dict)  # TF's `N: int >= k` per number attr
    # TF's allowed dtype names per type attr, for its error text (quantized types included, which `types`
    # leaves out: graphcompat has no such tensors), and the type attrs' defaults (op_def_library converts a
    # Python value with them when no earlier input fixed the type).
    type_names: dict = dataclasses.field(default_factory=dict)
    default_types: dict = dataclasses.field(default_factory=dict)
    # Effect flags the executor reads (lowering/plan.py): `loop` marks ops that make a plan a training-
    # loop body worth compiling on its first run; `dataset` marks ops that build tf.data datasets.
    loop: bool = False
    dataset: bool = False
    fold: Optional[Callable] = None      # (Tensor) -> np.ndarray | None: the value while building
    lowering: Any = None                 # lowering.registry.Rule, attached by `@lowers`
    attr_minimums: dict = dataclasses.field(default_factory=dict)  # TF's `attr: int >= k` for other int attrs


OP_DEFS: dict[str, OpDef] = {}
# Lowerings and constant folders registered before their op type is defined (lowering/ or constant_op may
# be imported first): {op type: {field: value}}, moved onto the OpDef by `defop`.
_EARLY: dict[str, dict] = {}
# Abstract evaluation of the lowering (lowering/abstract.py), installed by the back end on import.
_default_shape_inference: Optional[Callable] = None


_QUANTIZED = frozenset({"qint8", "quint8", "qint16", "quint16", "qint32"})


class DuplicateRegistrationError(ValueError):
    """An op type, its lowering or its constant folder registered twice (TF: "Op ... registered twice")."""


def _parse_arg(text: str) -> ArgSpec:
    name, _, kind = (p.strip() for p in text.partition(":"))
    if kind.startswith("Ref(") and kind.endswith(")"):
        inner = _parse_arg(f"{name}: {kind[4:-1]}")
        return dataclasses.replace(inner, is_ref=True)
    if "*" in kind:
        left, _, right = (p.strip() for p in kind.partition("*"))
        if not left:
            return ArgSpec(name, type_list_attr=right)
        inner = _parse_arg(f"{name}: {right}")
        return dataclasses.replace(inner, number_attr=left)
    try:
        return ArgSpec(name, fixed_dtype=_dtypes.as_dtype(kind))
    except TypeError:
        return ArgSpec(name, type_attr=kind)


def defop(op_type: str, signature: str, *, attrs: Optional[dict] = None, types: Optional[dict] = None,
          shape: Optional[Callable] = None, stateful: bool = False, loop: bool = False,
          dataset: bool = False, fold: Optional[Callable] = None, quantized: bool = False) -> OpDef:
    """Registers a TF op type. `signature` is `"in: T, ... -> out: T, ..."`; `types` defaults to TF's own
    constraints where framework/tf_op_types.py lists them. Raises DuplicateRegistrationError if defined.
    TF's quantized types are left out of those constraints (TF lists them for many ops it has no kernel
    for) unless `quantized`: the op's lowering computes on them (as their integer storage)."""
    if op_type in OP_DEFS:
        raise DuplicateRegistrationError(f"Op type '{op_type}' is registered twice: an op type is defined "
                                         f"by one `defop` entry")
    ins, _, outs = signature.partition("->")
    types = dict(types or {})
    type_names = {}
    for attr, names in _tf_op_types.ALLOWED.get(op_type, {}).items():
        type_names[attr] = tuple(names.split())
        types[attr] = tuple(_dtypes.as_dtype(n) for n in type_names[attr] if quantized or n not in _QUANTIZED)
    default_types = {attr: _dtypes.as_dtype(name) for attr, name in _tf_op_types.DEFAULT_TYPES.get(op_type, {}).items()}
    op_def = OpDef(op_type,
                   tuple(_parse_arg(a) for a in ins.split(",") if a.strip()),
                   tuple(_parse_arg(a) for a in outs.split(",") if a.strip()),
                   dict(attrs or {}), types, shape, stateful,
                   dict(_tf_op_types.MINIMUM_LENGTHS.get(op_type, {})), type_names, default_types, loop, dataset)
    op_def.attr_minimums = dict(_tf_op_types.ATTR_MINIMUMS.get(op_type, {}))
    OP_DEFS[op_type] = op_def
    for field, value in _EARLY.pop(op_type, {}).items():
        setattr(op_def, field, value)
    if fold is not None:
        _attach(op_type, "fold", fold, "constant folder")
    return op_def


def _attach(op_type: str, field: str, value: Any, what: str) -> None:
    op_def = OP_DEFS.get(op_type)
    existing = getattr(op_def, field) if op_def is not None else _EARLY.get(op_type, {}).get(field)
    if existing is not None:
        raise DuplicateRegistrationError(f"a {what} for op type '{op_type}' is registered twice")
    if op_def is not None:
        setattr(op_def, field, value)
    else:
        _EARLY.setdefault(op_type, {})[field] = value


def _attached(op_type: str, field: str) -> Any:
    op_def = OP_DEFS.get(op_type)
    return getattr(op_def, field) if op_def is not None else _EARLY.get(op_type, {}).get(field)


def register_folders(folders: dict) -> None:
    """Build-time constant folding (TF's constant_value): {op type: fn(Tensor) -> np.ndarray | None}."""
    for op_type, fold in folders.items():
        _attach(op_type, "fold", fold, "constant folder")


def folder_of(op_type: str) -> Optional[Callable]:
    return _attached(op_type, "fold")


def attach_lowering(op_type: str, lowering: Any) -> None:
    """Called by `lowering.registry.lowers`: the op's lowering rule goes on its OpDef."""
    _attach(op_type, "lowering", lowering, "lowering rule")


def lowering_of(op_type: str) -> Any:
    """The lowering attached to `op_type` (None when it has none)."""
    return _attached(op_type, "lowering")


def lowered_op_types() -> list:
    """Every op type that has a lowering, defined or not yet."""
    return [t for t, d in OP_DEFS.items() if d.lowering is not None] + \
        [t for t, fields in _EARLY.items() if fields.get("lowering") is not None]


def unregister(op_type: str) -> None:
    """Removes an op type with its lowering and folder (tests that define throwaway ops clean up with this)."""
    OP_DEFS.pop(op_type, None)
    _EARLY.pop(op_type, None)


def infer_by_lowering(ctx: "InferenceContext") -> list:
    """The default shape inference (abstract evaluation of the op's lowering), for shape functions that
    handle the common cases themselves and defer the rest; unknown shapes when no back end is loaded."""
    if _default_shape_inference is None:
        return [_ts.unknown_shape() for _ in ctx.output_dtypes]
    return _default_shape_inference(ctx)


def set_default_shape_inference(infer: Callable) -> None:
    """Installs the shape inference used for ops without a shape function (the back end's abstract
    evaluation of the lowering rule); `infer(InferenceContext) -> list[TensorShape]`."""
    global _default_shape_inference
    _default_shape_inference = infer


def get_op_def(op_type: str) -> OpDef:
    try:
        return OP_DEFS[op_type]
    except KeyError:
        raise NotImplementedError(f"graphcompat has no definition for TF op type '{op_type}'.") from None


# ------------------------------------------------------------------------------------------------
# Shape inference context
# ------------------------------------------------------------------------------------------------
def format_shape(shape: _ts.TensorShape) -> str:
    """TF's C++ shape text: `[2,3]`, `[?,784]`, `?` for unknown rank."""
    if shape.ndims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


class InferenceContext:
    """What a shape function sees: input tensors, attrs, and TF-style error reporting."""

    __slots__ = ("op_type", "name", "inputs", "attrs", "output_dtypes")

    def __init__(self, op_type: str, name: str, inputs: Sequence[_ops.Tensor], attrs: dict, output_dtypes):
        self.op_type = op_type
        self.name = name
        self.inputs = inputs
        self.attrs = attrs
        self.output_dtypes = output_dtypes

    def shape(self, i: int) -> _ts.TensorShape:
        return self.inputs[i].shape

    def value(self, i: int):
        """The input's value when it is a build-time constant, else None."""
        return _const.constant_value(self.inputs[i])

    def value_as_shape(self, i: int) -> _ts.TensorShape:
        return _const.constant_value_as_shape(self.inputs[i])

    def error(self, message: str) -> ValueError:
        shapes = ", ".join(format_shape(t.shape) for t in self.inputs)
        return ValueError(f"{message} for '{self.name}' (op: '{self.op_type}') with input shapes: {shapes}.")


# ------------------------------------------------------------------------------------------------
# apply_op
# ------------------------------------------------------------------------------------------------
def _graph_element(value):
    """A Tensor/Operation, or what a graph-element-like object (a Variable) stands for; else None."""
    if isinstance(value, (_ops.Tensor, _ops.Operation)):
        return value
    convert = getattr(value, "_as_graph_element", None)
    if convert is not None and hasattr(value, "graph"):
        return convert()
    return None


def _default_graph_for(values) -> _ops.Graph:
    """The graph of the inputs (TF's `_get_graph_from_inputs`): all graph elements among them must share one
    graph, whose op is then built there; without any, the default graph."""
    original = None
    for v in values:
        for x in (v if isinstance(v, (list, tuple)) else (v,)):
            element = _graph_element(x)
            if element is None:
                continue
            if original is None:
                original = element
            elif element.graph is not original.graph:
                raise ValueError(f"{element} must be from the same graph as {original} (graphs are "
                                 f"{element.graph} and {original.graph}).")
    return original.graph if original is not None else _ops.get_default_graph()


def _check_allowed(op_def: OpDef, type_attr: str, dtype: _dtypes.DType, param: str) -> None:
    """op_def_library's _SatisfiesTypeConstraint, with TF's list of names (quantized types included)."""
    allowed = op_def.types.get(type_attr)
    if allowed is not None and dtype not in allowed:
        names = ", ".join(op_def.type_names.get(type_attr) or [t.name for t in allowed])
        raise TypeError(f"Value passed to parameter '{param}' has DataType {dtype.name} not in list of "
                        f"allowed values: {names}")


def apply_op(op_type: str, inputs: Sequence[Any], attrs: Optional[dict] = None,
             name: Optional[str] = None, control_inputs: Sequence = ()):
    """Records one node of `op_type`. Returns its single output, a list of outputs, or the op (no outputs)."""
    op_def = get_op_def(op_type)
    if len(inputs) != len(op_def.inputs):
        raise TypeError(f"{op_type} takes {len(op_def.inputs)} inputs, got {len(inputs)}")
    graph = _default_graph_for(inputs)
    attrs = dict(attrs) if attrs else {}
    with graph.as_default() if graph is not _ops.get_default_graph() else _nullcontext():
        with graph.name_scope(name or op_type) as scope:
            tensors, flat = _convert_inputs(op_def, inputs, attrs)
            for key, default in op_def.attrs.items():
                attrs.setdefault(key, default)
            for key, least in op_def.attr_minimums.items():  # op_def_library's check of `attr: int >= k`
                if key in attrs and int(attrs[key]) < least:
                    raise ValueError(f"Attr '{key}' of '{op_type}' Op passed {int(attrs[key])} less than minimum "
                                     f"{least}.")
            out_dtypes = _output_dtypes(op_def, attrs)
            op_name = scope[:-1]
            shapes = infer_shapes(op_def, op_name, flat, attrs, out_dtypes)
            op = graph._create_op_internal(op_type, flat, out_dtypes, shapes, op_name, attrs, control_inputs)
    outs = op._outputs
    if not op_def.outputs:
        return op
    if len(op_def.outputs) == 1 and op_def.outputs[0].number_attr is None \
            and op_def.outputs[0].type_list_attr is None:
        return outs[0]
    return _group_outputs(op_def, attrs, list(outs))


class _nullcontext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _convert_inputs(op_def: OpDef, inputs: Sequence[Any], attrs: dict):
    """TF's op_def_library (`_ExtractInputsAndAttrs`): inputs converted in order, each with the dtype an
    earlier input (or a given attr) fixed; else a Python value becomes the first of its own dtype the op
    allows, or the type attr's default (`tf.reduce_sum(x, [])`: int32 axes); lists take the dtype of their
    first tensor. Error classes and texts are TF's."""
    bound: dict[str, _dtypes.DType] = {k: _dtypes.as_dtype(v) for k, v in attrs.items()
                                       if k in op_def.types and v is not None and not isinstance(v, (list, tuple))}
    inferred_from = {k: k for k in bound}
    grouped, flat = [], []
    for arg, value in zip(op_def.inputs, inputs):
        if arg.number_attr or arg.type_list_attr:
            converted = _convert_list(op_def, arg, value, bound, inferred_from)
            if arg.number_attr:
                _bind_list_length(op_def, arg, converted, attrs, inferred_from)
                if not converted and arg.type_attr and arg.type_attr not in bound:
                    if arg.type_attr not in op_def.default_types:
                        raise TypeError(f"Don't know how to infer type variable from empty input list passed "
                                        f"to input '{arg.name}' of '{op_def.type}' Op.")
                    bound[arg.type_attr] = op_def.default_types[arg.type_attr]
                    inferred_from[arg.type_attr] = arg.name
            if arg.type_list_attr:
                _bind_type_list(op_def, arg, converted, attrs, inferred_from)
            if arg.type_attr and arg.type_attr not in bound and converted:
                _check_allowed(op_def, arg.type_attr, converted[0].dtype.base_dtype, arg.name)
                bound[arg.type_attr] = converted[0].dtype.base_dtype
                inferred_from[arg.type_attr] = arg.name
            grouped.append(converted)
            flat.extend(converted)
            continue
        t = _convert_single(op_def, arg, value, bound, inferred_from)
        if arg.type_attr:
            base = t.dtype.base_dtype
            if arg.type_attr in bound:
                if bound[arg.type_attr] != base:
                    raise TypeError(f"Input '{arg.name}' of '{op_def.type}' Op has type {base.name} that does "
                                    f"not match type {bound[arg.type_attr].name} of argument "
                                    f"'{inferred_from[arg.type_attr]}'.")
            else:
                _check_allowed(op_def, arg.type_attr, base, arg.name)
                bound[arg.type_attr] = base
                inferred_from[arg.type_attr] = arg.name
        if arg.is_ref and not t.dtype.is_ref_dtype:
            raise TypeError(f"'{op_def.type}' Op requires that input '{arg.name}' be a mutable tensor "
                            f"(e.g.: a tf.Variable)")
        grouped.append(t)
        flat.append(t)
    for k, v in bound.items():
        attrs[k] = v
    return grouped, flat


def _convert_single(op_def: OpDef, arg: ArgSpec, value, bound: dict, inferred_from: dict) -> _ops.Tensor:
    dtype = default = allowed = None
    if arg.fixed_dtype is not None:
        dtype = arg.fixed_dtype
    elif arg.type_attr in bound:
        dtype = bound[arg.type_attr]
    elif arg.type_attr in op_def.default_types:
        # No input fixed the type yet: TF prefers the attr's default, so code written before the attr got
        # one keeps its meaning.
        default = op_def.default_types[arg.type_attr]
        allowed = op_def.types.get(arg.type_attr)
    try:
        if dtype is None and allowed:
            # The value's own dtype when the op allows it, else the default (an empty list is float32 on
            # its own, int32 as a reduction's axes). TF builds the first Const even when it drops it.
            inferred = None
            try:
                inferred = _const.convert_to_tensor(value, name=arg.name, as_ref=arg.is_ref)
            except TypeError:  # e.g. a list of Dimensions needs a dtype
                pass
            if inferred is not None and inferred.dtype in allowed:
                return inferred
            return _const.convert_to_tensor(value, name=arg.name, as_ref=arg.is_ref, preferred_dtype=default)
        return _const.convert_to_tensor(value, dtype=dtype, name=arg.name, as_ref=arg.is_ref,
                                        preferred_dtype=default)
    except TypeError as err:
        if dtype is None:
            raise
        raise TypeError(f"Expected {dtype.name} passed to parameter '{arg.name}' of op '{op_def.type}', got "
                        f"{value!r} of type '{type(value).__name__}' instead. Error: {err}") from None
    except ValueError:
        try:
            observed = _const.convert_to_tensor(value, as_ref=arg.is_ref).dtype.name
        except ValueError as err:
            raise ValueError(f"Tried to convert '{arg.name}' to a tensor and failed. Error: {err}") from None
        prefix = f"Input '{arg.name}' of '{op_def.type}' Op has type {observed} that does not match"
        if arg.fixed_dtype is not None:
            raise TypeError(f"{prefix} expected type of {arg.fixed_dtype.name}.") from None
        if arg.type_attr in op_def.default_types and arg.type_attr not in bound:
            bound[arg.type_attr] = op_def.default_types[arg.type_attr]
            inferred_from.setdefault(arg.type_attr, "Default in OpDef")
        raise TypeError(f"{prefix} type {bound[arg.type_attr].name} of argument "
                        f"'{inferred_from[arg.type_attr]}'.") from None


def _convert_list(op_def: OpDef, arg: ArgSpec, values, bound: dict, inferred_from: dict) -> list:
    """A list argument (`N * T`, `N * int32`, `*Tout`): every element with one dtype, TF's texts."""
    if isinstance(values, _ops.Tensor) or not isinstance(values, (list, tuple)):
        raise TypeError(f"Expected list for '{arg.name}' argument to '{op_def.type}' Op, not {values}.")
    dtype = default = None
    if arg.fixed_dtype is not None:
        dtype = arg.fixed_dtype
    elif arg.number_attr:
        if arg.type_attr in bound:
            dtype = bound[arg.type_attr]
        else:
            dtype = next((v.dtype.base_dtype for v in values if isinstance(v, _ops.Tensor)), None)
        if dtype is None:
            default = op_def.default_types.get(arg.type_attr)
    converted = None
    try:
        converted = [_const.convert_to_tensor(v, dtype=dtype, name=f"{arg.name}_{i}", as_ref=arg.is_ref,
                                              preferred_dtype=default) for i, v in enumerate(values)]
        if arg.number_attr and len({t.dtype.base_dtype for t in converted}) > 1:
            raise TypeError(f"Not all types matched for {arg.name} for {op_def.type}.")
    except (TypeError, ValueError):
        observed = []
        for v in (converted if converted is not None else values):
            try:
                observed.append(_const.convert_to_tensor(v, as_ref=arg.is_ref).dtype.base_dtype.name)
            except (TypeError, ValueError):
                observed.append("<NOT CONVERTIBLE TO TENSOR>")
        prefix = (f"Tensors in list passed to '{arg.name}' of '{op_def.type}' Op have types "
                  f"[{', '.join(observed)}]")
        if not arg.number_attr:
            raise TypeError(f"{prefix} that are invalid. Tensors: {values}") from None
        if arg.fixed_dtype is not None:
            raise TypeError(f"{prefix} that do not match expected type {dtype.name}.") from None
        if arg.type_attr in bound:
            raise TypeError(f"{prefix} that do not match type {dtype.name} inferred from earlier "
                            f"arguments.") from None
        raise TypeError(f"{prefix} that don't all match.") from None
    if arg.is_ref and not all(t.dtype.is_ref_dtype for t in converted):
        raise TypeError(f"'{op_def.type}' Op requires that input '{arg.name}' be a mutable tensor "
                        f"(e.g.: a tf.Variable)")
    return converted


def _bind_list_length(op_def: OpDef, arg: ArgSpec, converted: list, attrs: dict, inferred_from: dict) -> None:
    """The `N` of an `N * T` list: set by the first list that has it (TF's minimum checked), matched by
    the others."""
    if attrs.get(arg.number_attr) is not None:
        if len(converted) != attrs[arg.number_attr]:
            raise ValueError(f"List argument '{arg.name}' to '{op_def.type}' Op with length {len(converted)} "
                             f"must match length {attrs[arg.number_attr]} of argument "
                             f"'{inferred_from.get(arg.number_attr, arg.number_attr)}'.")
        return
    attrs[arg.number_attr] = len(converted)
    inferred_from[arg.number_attr] = arg.name
    minimum = op_def.list_minimums.get(arg.number_attr, 0)
    if len(converted) < minimum:
        raise ValueError(f"List argument '{arg.name}' to '{op_def.type}' Op with length {len(converted)} "
                         f"shorter than minimum length {minimum}.")


def _bind_type_list(op_def: OpDef, arg: ArgSpec, converted: list, attrs: dict, inferred_from: dict) -> None:
    """The `Tout` of a `*Tout` list: each dtype allowed; a list given already (or bound by an earlier
    input) must match."""
    types = [t.dtype.base_dtype for t in converted]
    if attrs.get(arg.type_list_attr) is not None:
        expected = [_dtypes.as_dtype(d) for d in attrs[arg.type_list_attr]]
        if expected != types:
            raise TypeError(f"Input '{arg.name}' of '{op_def.type}' Op has type list of "
                            f"{', '.join(t.name for t in types)} that does not match type list "
                            f"{', '.join(t.name for t in expected)} of argument "
                            f"'{inferred_from.get(arg.type_list_attr, arg.type_list_attr)}'.")
        return
    for t in types:
        _check_allowed(op_def, arg.type_list_attr, t, arg.name)
    attrs[arg.type_list_attr] = types
    inferred_from[arg.type_list_attr] = arg.name


def _output_dtypes(op_def: OpDef, attrs: dict) -> list:
    out = []
    for arg in op_def.outputs:
        if arg.type_list_attr:
            out.extend(_dtypes.as_dtype(d) for d in attrs[arg.type_list_attr])
            continue
        dtype = arg.fixed_dtype or _dtypes.as_dtype(attrs[arg.type_attr])
        if arg.is_ref:
            dtype = dtype._as_ref()
        count = int(attrs[arg.number_attr]) if arg.number_attr else 1
        out.extend([dtype] * count)
    return out


def _group_outputs(op_def: OpDef, attrs: dict, outs: list):
    if len(op_def.outputs) == 1:
        return outs
    grouped, i = [], 0
    for arg in op_def.outputs:
        if arg.number_attr or arg.type_list_attr:
            n = int(attrs[arg.number_attr]) if arg.number_attr else len(attrs[arg.type_list_attr])
            grouped.append(outs[i:i + n])
            i += n
        else:
            grouped.append(outs[i])
            i += 1
    return grouped


class ShapeInferenceError(Exception):
    """Raised by a shape helper that has no InferenceContext at hand; `infer_shapes` reports it as TF's
    shape-inference ValueError for the op being built (`ctx.error`)."""


def infer_shapes(op_def: OpDef, name: str, inputs: list, attrs: dict, out_dtypes: list) -> list:
    """Output shapes from the op's shape function, or from abstract evaluation of its lowering."""
    ctx = InferenceContext(op_def.type, name, inputs, attrs, out_dtypes)
    if op_def.shape_fn is not None:
        try:
            shapes = op_def.shape_fn(ctx)
        except ShapeInferenceError as err:
            raise ctx.error(str(err)) from None
    else:  # abstract evaluation of the lowering (unknown shapes, TF's fallback, without a back end)
        shapes = infer_by_lowering(ctx)
    if isinstance(shapes, _ts.TensorShape):
        shapes = [shapes]
    shapes = [_ts.as_shape(s) for s in shapes]
    if len(shapes) != len(out_dtypes):
        raise AssertionError(f"shape function of {op_def.type} returned {len(shapes)} shapes for "
                             f"{len(out_dtypes)} outputs")
    return shapes


# ------------------------------------------------------------------------------------------------
# Common shape functions
# ------------------------------------------------------------------------------------------------
def unchanged_shape(ctx: InferenceContext):
    return [ctx.shape(0)] * len(ctx.output_dtypes)


def scalar_shape(ctx: InferenceContext):
    return [_ts.TensorShape([])] * len(ctx.output_dtypes)


def no_outputs(ctx: InferenceContext):
    return []


def broadcast_shapes(ctx: InferenceContext, a: _ts.TensorShape, b: _ts.TensorShape) -> _ts.TensorShape:
    """numpy/TF broadcasting of static shapes, with TF's error text."""
    if a.ndims is None or b.ndims is None:
        return _ts.unknown_shape()
    da, db = a.as_list(), b.as_list()
    n = max(len(da), len(db))
    da = [1] * (n - len(da)) + da
    db = [1] * (n - len(db)) + db
    out = []
    for x, y in zip(da, db):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None or y is None:  # an unknown dim broadcasts to the known one (None if both unknown)
            out.append(x if y is None else y)
        elif x == y:
            out.append(x)
        else:
            raise ctx.error(f"Dimensions must be equal, but are {x} and {y}")
    return _ts.TensorShape(out)


def broadcast_shape(ctx: InferenceContext):
    shape = ctx.shape(0)
    for i in range(1, len(ctx.inputs)):
        shape = broadcast_shapes(ctx, shape, ctx.shape(i))
    return [shape] * len(ctx.output_dtypes)


def merge_shapes(ctx: InferenceContext, a: _ts.TensorShape, b: _ts.TensorShape) -> _ts.TensorShape:
    """TF's `InferenceContext::Merge`, with its error texts."""
    if a.ndims is None:
        return b
    if b.ndims is None:
        return a
    if a.ndims != b.ndims:
        raise ctx.error(f"Shapes must be equal rank, but are {a.ndims} and {b.ndims}")
    dims = []
    for i, (x, y) in enumerate(zip(a.as_list(), b.as_list())):
        if x is not None and y is not None and x != y:
            raise ctx.error(f"Dimension {i} in both shapes must be equal, but are {x} and {y}. "
                            f"Shapes are {format_shape(a)} and {format_shape(b)}.")
        dims.append(x if x is not None else y)
    return _ts.TensorShape(dims)


register_folders(_const.FRAMEWORK_FOLDERS)
