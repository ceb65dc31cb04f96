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
    # Effect flags the executor reads (lowering/plan.py): `loop` marks ops that make a plan a training-
    # loop body worth compiling on its first run; `dataset` marks ops that build tf.data datasets.
    loop: bool = False
    dataset: bool = False
    fold: Optional[Callable] = None      # (Tensor) -> np.ndarray | None: the value while building
    lowering: Any = None                 # lowering.registry.Rule, attached by `@lowers`


OP_DEFS: dict[str, OpDef] = {}
# Lowerings and constant folders registered before their op type is defined (lowering/ or constant_op may
# be imported first): {op type: {field: value}}, moved onto the OpDef by `defop`.
_EARLY: dict[str, dict] = {}
# Abstract evaluation of the lowering (lowering/abstract.py), installed by the back end on import.
_default_shape_inference: Optional[Callable] = None


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
          dataset: bool = False, fold: Optional[Callable] = None) -> OpDef:
    """Registers a TF op type. `signature` is `"in: T, ... -> out: T, ..."`; `types` defaults to TF's own
    constraints where framework/tf_op_types.py lists them. Raises DuplicateRegistrationError if defined."""
    if op_type in OP_DEFS:
        raise DuplicateRegistrationError(f"Op type '{op_type}' is registered twice: an op type is defined "
                                         f"by one `defop` entry")
    ins, _, outs = signature.partition("->")
    types = dict(types or {})
    for attr, names in _tf_op_types.ALLOWED.get(op_type, {}).items():
        types[attr] = tuple(_dtypes.as_dtype(n) for n in names.split())
    op_def = OpDef(op_type,
                   tuple(_parse_arg(a) for a in ins.split(",") if a.strip()),
                   tuple(_parse_arg(a) for a in outs.split(",") if a.strip()),
                   dict(attrs or {}), types, shape, stateful,
                   dict(_tf_op_types.MINIMUM_LENGTHS.get(op_type, {})), loop, dataset)
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


def _convert_input(op_type: str, arg: ArgSpec, value, dtype: Optional[_dtypes.DType], bound: dict,
                   inferred_from: dict, index: Optional[int] = None) -> _ops.Tensor:
    """TF's op_def_library conversion, including its error texts. A list argument's elements are
    converted as TF's convert_n_to_tensor names them: `<arg>_<index>`."""
    try:
        return _const.convert_to_tensor(value, dtype=dtype, name=arg.name if index is None else f"{arg.name}_{index}",
                                        as_ref=arg.is_ref)
    except TypeError as err:
        if dtype is None:
            raise
        raise TypeError(f"Expected {dtype.name} passed to parameter '{arg.name}' of op '{op_type}', got "
                        f"{value!r} of type '{type(value).__name__}' instead. Error: {err}") from None
    except ValueError:
        try:
            observed = _const.convert_to_tensor(value, as_ref=arg.is_ref).dtype.base_dtype.name
        except ValueError as err:
            raise ValueError(f"Tried to convert '{arg.name}' to a tensor and failed. Error: {err}") from None
        prefix = f"Input '{arg.name}' of '{op_type}' Op has type {observed} that does not match"
        if arg.fixed_dtype is not None:
            raise TypeError(f"{prefix} expected type of {arg.fixed_dtype.name}.") from None
        raise TypeError(f"{prefix} type {bound[arg.type_attr].name} of argument "
                        f"'{inferred_from[arg.type_attr]}'.") from None


def _check_allowed(op_def: OpDef, type_attr: str, dtype: _dtypes.DType, param: str) -> None:
    allowed = op_def.types.get(type_attr)
    if allowed is not None and dtype not in allowed:
        names = ", ".join(t.name for t in allowed)
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
    bound: dict[str, _dtypes.DType] = {k: _dtypes.as_dtype(v) for k, v in attrs.items()
                                       if k in op_def.types and v is not None}
    inferred_from = {k: k for k in bound}
    grouped, flat = [], []
    for arg, value in zip(op_def.inputs, inputs):
        if arg.number_attr or arg.type_list_attr:
            if isinstance(value, _ops.Tensor) or not isinstance(value, (list, tuple)):
                raise TypeError(f"Expected list for '{arg.name}' argument to '{op_def.type}' Op, not {value}.")
            minimum = op_def.list_minimums.get(arg.number_attr, 0)
            if len(value) < minimum:
                raise ValueError(f"List argument '{arg.name}' to '{op_def.type}' Op with length {len(value)} "
                                 f"shorter than minimum length {minimum}.")
            converted = []
            for i, v in enumerate(value):
                dtype = bound.get(arg.type_attr) if arg.type_attr else None
                t = _convert_input(op_def.type, arg, v, dtype, bound, inferred_from, i)
                if arg.type_attr:
                    if arg.type_attr not in bound:
                        _check_allowed(op_def, arg.type_attr, t.dtype.base_dtype, arg.name)
                        bound[arg.type_attr] = t.dtype.base_dtype
                        inferred_from[arg.type_attr] = arg.name
                converted.append(t)
            if arg.number_attr:
                attrs.setdefault(arg.number_attr, len(converted))
            if arg.type_list_attr:
                attrs.setdefault(arg.type_list_attr, [t.dtype.base_dtype for t in converted])
            grouped.append(converted)
            flat.extend(converted)
            continue
        dtype = arg.fixed_dtype or (bound.get(arg.type_attr) if arg.type_attr else None)
        t = _convert_input(op_def.type, arg, value, dtype, bound, inferred_from)
        if arg.is_ref and not t.dtype.is_ref_dtype:
            raise TypeError(f"'{op_def.type}' Op requires that input '{arg.name}' be a mutable tensor "
                            f"(e.g.: a tf.Variable)")
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
        grouped.append(t)
        flat.append(t)
    for k, v in bound.items():
        attrs[k] = v
    return grouped, flat


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


def infer_shapes(op_def: OpDef, name: str, inputs: list, attrs: dict, out_dtypes: list) -> list:
    """Output shapes from the op's shape function, or from abstract evaluation of its lowering."""
    ctx = InferenceContext(op_def.type, name, inputs, attrs, out_dtypes)
    if op_def.shape_fn is not None:
        shapes = op_def.shape_fn(ctx)
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
