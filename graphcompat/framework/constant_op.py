"""Python/numpy values → Const ops (TF's dtype rules), `convert_to_tensor`, static constant folding."""
from __future__ import annotations

import numbers
import re
from typing import Any, Callable, Optional

import numpy as np

from graphcompat.framework import dtypes as _dtypes
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts

_INT32_MIN, _INT32_MAX = -(2 ** 31), 2 ** 31 - 1


# ------------------------------------------------------------------------------------------------
# numpy conversion with TF's rules
# ------------------------------------------------------------------------------------------------
def _flatten_leaves(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _flatten_leaves(v)
    else:
        yield value


def _flat_values(values):
    """nest.flatten as TF's type checks see a value: lists, tuples and dicts (by sorted key) opened."""
    if isinstance(values, dict):
        for k in sorted(values):
            yield from _flat_values(values[k])
    elif isinstance(values, (list, tuple)):
        for v in values:
            yield from _flat_values(v)
    else:
        yield values


def _kinds_for(dtype: _dtypes.DType):
    """TF's _TF_TO_IS_OK: the Python/numpy types a value of `dtype` may be written with (a bool is an int
    and a real number there, as in Python)."""
    if dtype.is_bool:
        return (bool,)
    if dtype.is_integer:
        return (numbers.Integral, np.integer, _ts.Dimension)
    if dtype.is_floating:
        return (numbers.Real, np.integer, np.floating)
    if dtype.is_complex:
        return (numbers.Complex, np.number)
    if dtype == _dtypes.string:
        return (bytes, str)
    return None


def _assert_compatible(values, dtype: Optional[_dtypes.DType]) -> None:
    """TF's _AssertCompatible, with its TypeError texts."""
    kinds = None if dtype is None else _kinds_for(dtype)
    for v in _flat_values(values):
        if kinds is None:
            if isinstance(v, _ops.Tensor):
                raise TypeError("Expected any non-tensor type, but got a tensor instead.")
        elif not (isinstance(v, kinds) or (isinstance(v, np.ndarray) and issubclass(v.dtype.type, kinds))):
            raise TypeError(f"Expected {dtype.name}, but got {v} of type '{type(v).__name__}'.")


def _check_compatible(value, dtype: _dtypes.DType) -> None:
    """TF refuses e.g. floats into an int dtype for Python values (numpy arrays are cast silently)."""
    if not isinstance(value, (np.ndarray, np.generic)):
        _assert_compatible(value, dtype)


def _dimension_values(value):
    """`value` with every Dimension replaced by its int (an unknown one cannot become a tensor)."""
    if isinstance(value, _ts.Dimension):
        if value.value is None:
            raise ValueError(f"Cannot convert unknown Dimension {value} to a Tensor.")
        return value.value
    if isinstance(value, (list, tuple)):
        return [_dimension_values(v) for v in value]
    return value


def _has_dimension(value) -> bool:
    return any(isinstance(leaf, _ts.Dimension) for leaf in _flatten_leaves(value))


def _is_index_like(value) -> bool:
    """Only ints, numpy ints and Dimensions (a shape, axis list or perm written with `x.shape[i]`)."""
    return all(isinstance(leaf, (numbers.Integral, _ts.Dimension)) and not isinstance(leaf, (bool, np.bool_))
               for leaf in _flatten_leaves(value))


def _to_bytes_array(value) -> np.ndarray:
    arr = np.array(value, dtype=object)
    flat = arr.reshape(-1)
    for i, v in enumerate(flat):
        if isinstance(v, str):
            flat[i] = v.encode("utf-8")
        elif isinstance(v, np.bytes_):
            flat[i] = bytes(v)
        elif not isinstance(v, bytes):
            raise TypeError(f"Expected string, but got {v!r} of type '{type(v).__name__}'.")
    return arr


def _dense_dimensions(values) -> list:
    if not isinstance(values, (list, tuple)):
        return []
    if not values:
        return [0]
    return [len(values)] + _dense_dimensions(values[0])


def _np_array(values, np_dtype) -> np.ndarray:
    """TF's numpy_compat.np_array: numbers are built first and cast after, so a Python int out of the
    dtype's range wraps around as it did under numpy 1 (tf.constant(300, tf.uint8) is 44)."""
    if np_dtype is not None and np.issubdtype(np_dtype, np.number):
        return np.array(values).astype(np_dtype)
    return np.array(values, dtype=np_dtype)


def _quantized_to_numpy(value, dtype: _dtypes.DType) -> np.ndarray:
    """TF's values of a quantized type: numpy values cast to its structured dtype, Python values as nested
    lists of tuples of ints (TF's _check_quantized: `[(1,), (2,)]`; `[1, 2]` is its TypeError)."""
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value).astype(np_dtype)

    def check(values):
        if isinstance(values, tuple):
            bad = next((v for v in values if not isinstance(v, (numbers.Integral, np.integer))), None)
        elif isinstance(values, list):
            return all(check(v) for v in values)
        else:
            bad = values
        if bad is not None:
            raise TypeError(f"Expected {dtype.name}, but got {bad} of type '{type(bad).__name__}'.")
        return True

    check(value)
    return np.array(value, dtype=np_dtype)


def to_numpy(value: Any, dtype: Optional[_dtypes.DType] = None, shape=None) -> np.ndarray:
    """A Python/numpy value as the ndarray TF's make_tensor_proto builds: numpy values cast to `dtype`;
    Python values checked against `dtype` (TF's texts), built by numpy, float64 read as float32 and int64 as
    int32 when no dtype is asked for and the values fit; anything numpy makes objects or text of is a
    string tensor (elements that are not text: TF's TypeError). Dimensions (TF1 shapes) count as ints."""
    if dtype is not None:
        dtype = _dtypes.as_dtype(dtype).base_dtype
        if dtype.is_quantized:
            return _quantized_to_numpy(value, dtype)
    np_dtype = dtype.as_numpy_dtype if dtype is not None and dtype.is_numpy_compatible else None
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value.astype(np_dtype) if np_dtype is not None else value)
    else:
        if value is None:
            raise ValueError("None values not supported.")
        if shape is not None and np.prod(shape, dtype=np.int64) == 0:
            arr = np.empty(shape, dtype=np_dtype)
        else:
            _assert_compatible(value, dtype)
            if dtype is not None and dtype.is_integer:  # what numpy's int() of a Dimension gives
                value = _dimension_values(value)
            arr = _np_array(value, np_dtype)
            if list(arr.shape) != _dense_dimensions(value):
                raise ValueError(f"Expected values {value} to be a dense tensor with shape "
                                 f"{_dense_dimensions(value)}, but got shape {list(arr.shape)}.")
        if dtype is None:
            if arr.dtype == np.float64:
                arr = arr.astype(np.float32)
            elif arr.dtype == np.int64:
                narrow = arr.astype(np.int32)
                if np.array_equal(narrow, arr):
                    arr = narrow
    got = _dtypes.string if arr.dtype.kind in "SUO" else _dtypes.as_dtype(arr.dtype)
    if dtype is not None and dtype != got:
        raise TypeError(f"`dtype` {dtype} is not compatible with {value} of dtype {arr.dtype}.")
    if got == _dtypes.string:
        if isinstance(value, (np.ndarray, np.generic)):
            return _to_bytes_array(arr)
        try:  # TF encodes the Python elements themselves: numpy's text for a number (`[1, "a"]`) is no string
            return _to_bytes_array(np.array(list(_flat_values(value)), dtype=object)).reshape(arr.shape)
        except TypeError:
            raise TypeError(f"Failed to convert elements of {value} to Tensor. Consider casting elements to a "
                            f"supported type. See https://www.tensorflow.org/api_docs/python/tf/dtypes for "
                            f"supported TF dtypes.") from None
    return arr


# ------------------------------------------------------------------------------------------------
# Const
# ------------------------------------------------------------------------------------------------
def constant(value, dtype=None, shape=None, name: str = "Const", verify_shape: bool = False) -> _ops.Tensor:
    """`tf.constant`: a Const op holding `value` (padded with its last element up to `shape`, as TF1)."""
    if isinstance(value, _ops.Tensor):
        raise TypeError("tf.constant does not accept a Tensor; use tf.identity or tf.convert_to_tensor.")
    arr = to_numpy(value, dtype)
    if shape is not None:
        shape = [int(_ts.dimension_value(d)) for d in _ts.as_shape(shape)]
        size = int(np.prod(shape, dtype=np.int64))
        if verify_shape and list(arr.shape) != shape:
            raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {arr.shape}.")
        if size == 0:  # an empty shape takes any value (TF's allow_broadcast): tf.zeros([0]), tf.ones([2, 0])
            arr = np.zeros(shape, arr.dtype)
        elif arr.size > size:
            raise ValueError(f"Too many elements provided. Needed at most {size}, but received {arr.size}")
        if arr.size == size:
            arr = arr.reshape(shape)
        elif arr.size == 0:
            arr = np.zeros(shape, arr.dtype)
        else:
            flat = arr.reshape(-1)
            arr = np.concatenate([flat, np.repeat(flat[-1:], size - flat.size)]).reshape(shape)
    return _const_from_numpy(arr, name)


# TF's ops._VALID_OP_NAME_REGEX; its error message prints the compiled pattern.
_VALID_NODE_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")


def _const_from_numpy(arr: np.ndarray, name: Optional[str]) -> _ops.Tensor:
    graph = _ops.get_default_graph()
    op_name = _op_name_in_scope(graph, "Const" if name is None else name)
    if not _VALID_NODE_NAME.match(op_name):  # `name=""` too: TF's Const takes the name as given
        raise ValueError(f"`{op_name}` is not a valid node name. Accepted names conform to Regex "
                         f"/{_VALID_NODE_NAME}/")
    dtype = _dtypes.as_dtype(arr.dtype) if arr.dtype != object else _dtypes.string
    if dtype.is_quantized:  # held as its integers (dtypes.storage_numpy_dtype)
        arr = arr.view(arr.dtype[0])
    op = graph._create_op_internal("Const", [], [dtype], [_ts.TensorShape(arr.shape)], op_name,
                                   {"value": arr, "dtype": dtype})
    return op._outputs[0]


def _op_name_in_scope(graph: _ops.Graph, name: str) -> str:
    """A final op name: `scope/` re-enters exactly (name from a name_scope), else uniquified."""
    if not name:
        return name
    if name.endswith("/"):
        return name[:-1]
    return graph.unique_name(name)


# ------------------------------------------------------------------------------------------------
# convert_to_tensor
# ------------------------------------------------------------------------------------------------
_CONVERSION_FUNCTIONS: list[tuple[int, type, Callable]] = []


def register_tensor_conversion_function(base_type, conversion_func: Callable, priority: int = 100) -> None:
    """`conversion_func(value, dtype=None, name=None, as_ref=False) -> Tensor` for `base_type`."""
    _CONVERSION_FUNCTIONS.append((priority, base_type, conversion_func))
    _CONVERSION_FUNCTIONS.sort(key=lambda e: e[0])


def convert_to_tensor(value, dtype=None, name: Optional[str] = None, preferred_dtype=None,
                      dtype_hint=None, as_ref: bool = False) -> _ops.Tensor:
    """Tensors pass through (dtype checked); Variables read; Python/numpy values become Const ops."""
    preferred_dtype = preferred_dtype or dtype_hint
    if isinstance(value, _ops.Tensor):
        if dtype is not None:
            dtype = _dtypes.as_dtype(dtype)
            if not dtype.is_compatible_with(value.dtype):
                raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype "
                                 f"{value.dtype.name}: {value!r}")
        if not as_ref and value.dtype.is_ref_dtype:
            return _ref_snapshot(value)
        return value
    if dtype is not None:
        dtype = _dtypes.as_dtype(dtype)
    for _, base_type, func in _CONVERSION_FUNCTIONS:
        if isinstance(value, base_type):
            result = func(value, dtype=dtype, name=name, as_ref=as_ref)
            if dtype is not None and not dtype.is_compatible_with(result.dtype):
                raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype "
                                 f"{result.dtype.name}: {result!r}")
            return result
    if isinstance(value, _ops.Operation):
        raise TypeError(f"Can't convert Operation '{value.name}' to Tensor (target dtype={dtype}, "
                        f"name={name!r}, as_ref={as_ref})")
    if isinstance(value, (list, tuple)) and any(_contains_tensor(v) for v in value):
        from graphcompat.ops import array_ops  # a list with tensors inside becomes a Pack (as TF)
        return array_ops._autopacking(value, dtype, name or "packed")
    if isinstance(value, np.ndarray) and value.dtype == object and value.size and _is_index_like(value.tolist()):
        value = value.tolist()  # e.g. np.array([[1, x.shape[0]]], dtype=object): numbers, not strings
    if dtype is None and preferred_dtype is None and isinstance(value, (list, tuple)) and _has_dimension(value) \
            and _is_index_like(value):
        # A shape, axis, perm or multiples argument written with `x.shape[i]` (a Dimension in TF1): TF
        # converts it with the op's preferred index dtype, int32.
        preferred_dtype = _dtypes.int32
    if dtype is None and preferred_dtype is not None:
        try:
            return constant(value, _dtypes.as_dtype(preferred_dtype), name=name or "Const")
        except (TypeError, ValueError):
            pass
    return constant(value, dtype, name=name or "Const")


def _dimension_to_tensor(d: _ts.Dimension, dtype=None, name=None, as_ref=False) -> _ops.Tensor:
    """TF's conversion of a Dimension: an int32 (or int64) scalar `shape_as_tensor`."""
    if d.value is None:
        raise ValueError(f"Cannot convert unknown Dimension {d} to a Tensor.")
    if dtype is not None and dtype not in (_dtypes.int32, _dtypes.int64):
        raise TypeError(f"Cannot convert Dimension {d} to dtype {dtype!r}. Allowed dtypes are tf.int32 and "
                        f"tf.int64.")
    return constant(d.value, dtype=dtype or _dtypes.int32, name=name or "shape_as_tensor")


def _tensor_shape_to_tensor(s: _ts.TensorShape, dtype=None, name=None, as_ref=False) -> _ops.Tensor:
    """TF's conversion of a fully known TensorShape: an int32 vector (int64 when a dimension needs it)."""
    if not s.is_fully_defined():
        raise ValueError(f"Cannot convert a partially known TensorShape {s} to a Tensor.")
    dims = s.as_list()
    big = next((d for d in dims if d >= 2 ** 31), 0)
    if dtype is not None:
        if dtype not in (_dtypes.int32, _dtypes.int64):
            raise TypeError(f"Cannot convert TensorShape {s} to dtype {dtype!r}. Allowed dtypes are tf.int32 and "
                            f"tf.int64.")
        if dtype == _dtypes.int32 and big:
            raise ValueError(f"Cannot convert TensorShape {s} to dtype int32; a dimension is too large. Consider "
                             f"using tf.int64.")
    else:
        dtype = _dtypes.int64 if big else _dtypes.int32
    return constant(np.array(dims, dtype.as_numpy_dtype), dtype=dtype, name=name or "shape_as_tensor")


register_tensor_conversion_function(_ts.Dimension, _dimension_to_tensor)
register_tensor_conversion_function(_ts.TensorShape, _tensor_shape_to_tensor)


def _contains_tensor(value) -> bool:
    if isinstance(value, _ops.Tensor) or hasattr(value, "_as_graph_element") and not isinstance(value, _ops.Operation):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_tensor(v) for v in value)
    return False


def _ref_snapshot(ref: _ops.Tensor) -> _ops.Tensor:
    """Reading a raw ref tensor (a variable's `v:0`) goes through its `v/read` snapshot, as in TF."""
    variable = ref.op.graph._extras.get("ref_to_variable", {}).get(ref)
    if variable is not None:
        return variable._snapshot
    # Any other ref (the output of Assign, ScatterAdd …): an Identity built directly, since going
    # through apply_op would convert (snapshot) the ref input again, forever.
    graph = ref.graph
    base = ref.dtype.base_dtype
    with graph.name_scope("Identity") as scope:
        op = graph._create_op_internal("Identity", [ref], [base], [ref.shape], scope[:-1], {"T": base})
    return op._outputs[0]


def convert_n_to_tensor(values, dtype=None, name=None, preferred_dtype=None) -> list:
    return [convert_to_tensor(v, dtype, None if name is None else f"{name}_{i}", preferred_dtype)
            for i, v in enumerate(values)]


def is_tensor(x) -> bool:
    return isinstance(x, _ops.Tensor) or hasattr(x, "_as_graph_element") and hasattr(x, "dtype")


# ------------------------------------------------------------------------------------------------
# Static values (TF's tensor_util.constant_value): used by shape inference, never by running.
# ------------------------------------------------------------------------------------------------
def constant_value(tensor, partial: bool = False) -> Optional[np.ndarray]:
    """The tensor's value if it is known while building the graph, else None."""
    if not isinstance(tensor, _ops.Tensor):
        return None
    folder = _registry.folder_of(tensor.op.type)
    if folder is None:
        return None
    try:
        result = folder(tensor)
    except Exception:  # folding is best-effort: an unfoldable graph is not an error
        return None
    return result


def constant_value_as_shape(tensor) -> _ts.TensorShape:
    """A 1-D int tensor read as a (partially known) shape: `[tf.shape(x)[0], -1]` → `(?, ?)`."""
    value = constant_value(tensor)
    if value is not None:
        return _ts.TensorShape([None if d == -1 else int(d) for d in np.reshape(value, [-1])])
    shape = tensor.shape
    if shape.ndims == 0:
        return _ts.unknown_shape()
    op = tensor.op
    if op.type == "Shape":
        return op.inputs[0].shape
    if op.type == "Pack":
        dims = []
        for t in op.inputs:
            v = constant_value(t)
            dims.append(None if v is None or int(v) == -1 else int(v))
        return _ts.TensorShape(dims)
    if op.type == "ConcatV2":
        result = _ts.TensorShape([])
        for t in op.inputs[:-1]:
            result = result.concatenate(constant_value_as_shape(t))
        return result
    if shape.ndims == 1 and shape[0].value is not None:
        return _ts.unknown_shape(shape[0].value)
    return _ts.unknown_shape()


def _fold_const(t):
    return t.op.attrs["value"]


def _fold_identity(t):
    return constant_value(t.op.inputs[0])


def _fold_shape(t):
    shape = t.op.inputs[0].shape
    if shape.is_fully_defined():
        return np.array(shape.as_list(), dtype=t.dtype.as_numpy_dtype)
    return None


def _fold_size(t):
    n = t.op.inputs[0].shape.num_elements()
    return None if n is None else np.array(n, dtype=t.dtype.as_numpy_dtype)


def _fold_rank(t):
    r = t.op.inputs[0].shape.ndims
    return None if r is None else np.array(r, dtype=np.int32)


def _fold_pack(t):
    values = [constant_value(x) for x in t.op.inputs]
    if any(v is None for v in values):
        return None
    return np.stack(values, axis=t.op.attrs.get("axis", 0))


def _fold_cast(t):
    v = constant_value(t.op.inputs[0])
    return None if v is None else v.astype(t.dtype.as_numpy_dtype)


def _fold_concat(t):
    values = [constant_value(x) for x in t.op.inputs]
    if any(v is None for v in values):
        return None
    return np.concatenate(values[:-1], axis=int(values[-1]))


def _fold_fill(t):
    dims, value = (constant_value(x) for x in t.op.inputs)
    if dims is None or value is None:
        return None
    return np.full(dims, value)


def _fold_range(t):
    values = [constant_value(x) for x in t.op.inputs]
    if any(v is None for v in values):
        return None
    return np.arange(*values).astype(t.dtype.as_numpy_dtype)


# Folders of the framework's own ops; registered on their OpDefs by framework/registry.py (which imports
# this module, so it cannot be called from here).
FRAMEWORK_FOLDERS = {"Const": _fold_const, "Identity": _fold_identity, "Shape": _fold_shape,
                     "Size": _fold_size, "Rank": _fold_rank, "Pack": _fold_pack, "Cast": _fold_cast,
                     "ConcatV2": _fold_concat, "Fill": _fold_fill, "Range": _fold_range,
                     "StopGradient": _fold_identity}

from graphcompat.framework import registry as _registry  # noqa: E402  (a cycle: bound now, used at run time)
