"""The rest of TF1's check_ops: assert_near, assert_rank_in, assert_same_float_dtype,
assert_proper_iterable, is_numeric_tensor, is_non_decreasing / is_strictly_increasing,
verify_tensor_all_finite / assert_all_finite, assert_shapes — built as TF 2.21's
tensorflow/python/ops/check_ops.py builds them (scopes, data lists, static errors).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.ops.data_dependent_ops import Assert

_NUMERIC = frozenset(_dt.NUMBER_TYPES) | {_dt.bfloat16, _dt.float16}


def _prefix(message) -> str:
    return f"{message}.  " if message else ""


def assert_near(x, y, rtol=None, atol=None, data=None, summarize=None, message=None, name=None):
    """`tf.assert_near`: InvalidArgumentError when run unless |x - y| < atol + rtol * |y| element-wise
    (default tolerances 10 * eps of the dtype, as TF)."""
    from graphcompat.ops import math_ops
    message = _prefix(message)
    with _ops.name_scope(name, "assert_near", [x, y, rtol, atol, data]):
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, name="y", dtype=x.dtype)
        dtype = x.dtype.base_dtype
        if dtype.is_complex:
            dtype = dtype.real_dtype
        eps = np.finfo(dtype.as_numpy_dtype).eps
        rtol = 10 * eps if rtol is None else rtol
        atol = 10 * eps if atol is None else atol
        rtol = convert_to_tensor(rtol, name="rtol", dtype=dtype)
        atol = convert_to_tensor(atol, name="atol", dtype=dtype)
        if data is None:
            data = [message, f"x and y not equal to tolerance rtol = {rtol}, atol = {atol}",
                    f"x ({x.name}) = ", x, f"y ({y.name}) = ", y]
        tol = atol + rtol * math_ops.abs(y)
        diff = math_ops.abs(x - y)
        condition = math_ops.reduce_all(math_ops.less(diff, tol))
        return Assert(condition, data, summarize=summarize)


def assert_rank_in(x, ranks, data=None, summarize=None, message=None, name=None):
    """`tf.assert_rank_in`: x's rank is one of `ranks` (static ValueError when known, else a run check)."""
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ops.control_ops import no_op
    with _ops.name_scope(name, "assert_rank_in", [x] + list(ranks) + list(data or [])):
        x = convert_to_tensor(x, name="x")
        ranks = tuple(convert_to_tensor(r, name="rank") for r in ranks)
        message = _prefix(message)
        if data is None:
            data = [message, f"Tensor {x.name} must have rank in"] + list(ranks) + \
                ["Received shape: ", array_ops.shape(x)]
        statics = [constant_value(r) for r in ranks]
        for r in ranks:
            if r.dtype.base_dtype != _dt.int32:
                raise TypeError(f"{r.name} must be of type tf.int32; got tf.{r.dtype.base_dtype.name}")
        if all(s is not None for s in statics):
            for s in statics:
                if np.ndim(s) != 0:
                    raise ValueError("Rank must be a scalar.")
            have = x.shape.ndims
            if have is not None:
                if have not in [int(s) for s in statics]:
                    raise ValueError(f"{message}Tensor {x.name} must have rank in "
                                     f"{tuple(int(s) for s in statics)}.  Received rank {have}, shape {x.shape}")
                return no_op(name="static_checks_determined_all_ok")
        rank = array_ops.rank(x)
        matches = [math_ops.equal(rank, r) for r in ranks]
        condition = math_ops.reduce_any(array_ops.stack(matches))
        return Assert(condition, data, summarize=summarize)


def assert_same_float_dtype(tensors=None, dtype=None):
    """`tf.assert_same_float_dtype`: the common floating dtype of `tensors` (float32 when none); ValueError
    when they differ or are not floating."""
    dtype = _dt.as_dtype(dtype) if dtype is not None else None
    if tensors:
        expected, first_name = dtype, None
        for item in tensors:
            if item is None:
                continue
            item_type = item.dtype.base_dtype
            if expected is None:
                expected, first_name = item_type, getattr(item, "name", str(item))
            elif expected != item_type:
                raise ValueError(f"{getattr(item, 'name', str(item))}, type={item_type}, must be of the same type "
                                 f"({expected}){f' as {first_name}' if first_name else ''}.")
        dtype = expected
    if not dtype:
        dtype = _dt.float32
    elif not dtype.is_floating:
        raise ValueError(f"Expected floating point type, got {dtype}.")
    return dtype


def assert_proper_iterable(values) -> None:
    """`tf.assert_proper_iterable`: TypeError for tensors, arrays and strings (iterable by accident)."""
    from graphcompat.ops.sparse_tensor import SparseTensor
    if isinstance(values, (_ops.Tensor, SparseTensor, np.ndarray, bytes, str)):
        raise TypeError(f'Expected argument "values" to be a "proper" iterable.  Found: {type(values)}')
    if not hasattr(values, "__iter__"):
        raise TypeError(f'Expected argument "values" to be iterable.  Found: {type(values)}')


def is_numeric_tensor(tensor) -> bool:
    """`tf.is_numeric_tensor`: a Tensor of a numeric dtype."""
    return isinstance(tensor, _ops.Tensor) and tensor.dtype.base_dtype in _NUMERIC


def _monotonic(opname: str, strict: bool):
    def check(x, name: Optional[str] = None) -> _ops.Tensor:
        from graphcompat.ops import array_ops, math_ops
        with _ops.name_scope(name, opname, [x]):
            x = convert_to_tensor(x, name="x_as_tensor")
            if not is_numeric_tensor(x):
                raise TypeError(f"Expected x to be numeric, got {x.dtype}")
            flat = array_ops.reshape(x, [-1])
            # TF guards the difference with a cond for fewer than two elements; x[1:] - x[:-1] is
            # already empty then, and reduce_all of empty is True, so the result is the same.
            diff = flat[1:] - flat[:-1]
            zero = convert_to_tensor(0, dtype=diff.dtype)
            test = math_ops.less(zero, diff) if strict else math_ops.less_equal(zero, diff)
            return math_ops.reduce_all(test)
    check.__name__ = opname
    what = "strictly increasing" if strict else "non-decreasing"
    check.__doc__ = f"`tf.math.{opname}`: whether the flattened x is {what}."
    return check


is_non_decreasing = _monotonic("is_non_decreasing", False)
is_strictly_increasing = _monotonic("is_strictly_increasing", True)


def verify_tensor_all_finite(t=None, msg=None, name: Optional[str] = None, x=None, message=None):
    """`tf.verify_tensor_all_finite` / `tf.debugging.assert_all_finite`: t, after a CheckNumerics on it."""
    from graphcompat.ops.control_ops import with_dependencies
    from graphcompat.ops.data_dependent_ops import check_numerics
    t = t if t is not None else x
    msg = msg if msg is not None else message
    with _ops.name_scope(name, "VerifyFinite", [t]):
        t = convert_to_tensor(t, name="t")
        with _ops.colocate_with(t):
            verify_input = check_numerics(t, message=msg)
            return with_dependencies([verify_input], t)


__all__ = ["assert_near", "assert_rank_in", "assert_shapes", "assert_same_float_dtype", "assert_proper_iterable",
           "is_numeric_tensor", "is_non_decreasing", "is_strictly_increasing", "verify_tensor_all_finite"]


def _known(size) -> bool:
    """TF's _has_known_value: a size is known when it is an int (or parses as one)."""
    if size is None or isinstance(size, _ops.Tensor):
        return False
    try:
        int(size)
    except (ValueError, TypeError):
        return False
    return True


def _dimension_sizes(x) -> list:
    """Each dimension of x: an int when static, else a slice of `shape(x)`; a scalar counts as [1]. TF
    records the Shape op even when every size is static."""
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ops.control_flow_ops import cond
    dynamic = array_ops.shape(x)
    rank = x.shape.ndims
    if rank == 0:
        return [1]
    if rank is not None:
        return [int(d) if d is not None else dynamic[i] for i, d in enumerate(x.shape.as_list())]
    return cond(math_ops.equal(array_ops.rank(x), 0), lambda: _ops_constant([1]), lambda: dynamic)


def _ops_constant(value):
    from graphcompat.framework.constant_op import constant
    return constant(value)


def assert_shapes(shapes, data=None, summarize: Optional[int] = None, message: Optional[str] = None,
                  name: Optional[str] = None) -> _ops.Operation:
    """`tf.debugging.assert_shapes` (TF1): ranks and symbolic dimension sizes shared between tensors. A
    violation visible in the static shapes raises TF's ValueError now; the rest become rank asserts and
    `Assert`s that raise InvalidArgumentError when run."""
    from graphcompat.ops import math_ops
    from graphcompat.ops.array_ops import shape as _shape
    from graphcompat.ops.check_ops import assert_rank, assert_rank_at_least
    from graphcompat.ops.control_ops import group
    from graphcompat.ops.sparse_tensor import SparseTensor
    if isinstance(shapes, dict):
        shapes = shapes.items()
    prefix = _prefix(message)
    with _ops.name_scope(name, "assert_shapes", [shapes, data]):
        constraints = []
        for x, spec in shapes:
            if spec is None:
                continue
            if isinstance(x, SparseTensor):
                raise NotImplementedError("tf.debugging.assert_shapes of a SparseTensor is not supported")
            constraints.append((convert_to_tensor(x), spec))
        entries = []  # (x, leading `...`, actual sizes, symbolic sizes)
        for x, spec in constraints:
            if not (hasattr(spec, "__iter__") or hasattr(spec, "__getitem__")):
                raise ValueError(f"{prefix}Tensor {x.name}.  Specified shape must be an iterable.  An iterable has "
                                 f"the attribute `__iter__` or `__getitem__`.  Received specified shape: {spec}")
            spec = tuple(spec)
            innermost = False
            for i, symbol in enumerate(spec):
                if not (symbol is Ellipsis or (isinstance(symbol, str) and symbol == "*")):
                    continue
                if i != 0:
                    raise ValueError(f"{prefix}Tensor {x.name} specified shape index {i}.  Symbol `...` or `*` for a "
                                     f"variable number of unspecified dimensions is only allowed as the first entry")
                innermost = True
            symbolic = spec[1:] if innermost else spec
            entries.append((x, innermost, _dimension_sizes(x), symbolic or (1,)))

        rank_assertions = []
        for x, innermost, _, symbolic in entries:
            rank = len(symbolic)
            if innermost:
                if rank in (0, 1):
                    continue
                check = assert_rank_at_least(x=x, rank=rank, data=data, summarize=summarize, message=message,
                                             name=name)
            elif rank in (0, 1):
                check = assert_rank_in(x=x, ranks=[0, 1], data=data, summarize=summarize, message=message,
                                       name=name)
            else:
                check = assert_rank(x=x, rank=rank, data=data, summarize=summarize, message=message, name=name)
            rank_assertions.append(check)

        size_assertions, specified = [], {}
        for x, innermost, actual, symbolic in entries:
            for i, symbol in enumerate(symbolic):
                if symbol is None or (isinstance(symbol, str) and symbol == "."):
                    continue
                dim = i - len(symbolic) if innermost else i
                if not (_known(symbol) or symbol in specified):
                    with _ops.control_dependencies(rank_assertions):
                        specified[symbol] = (actual[dim], x, dim)
                    continue
                if _known(symbol):
                    size, how = int(symbol), "Specified explicitly"
                else:
                    size, by, at = specified[symbol]
                    how = f"Specified by tensor {by.name} dimension {at}"
                with _ops.control_dependencies(rank_assertions):
                    got = actual[dim]
                if _known(got) and _known(size):
                    if int(got) != int(size):
                        raise ValueError(f"{prefix}{how}.  Tensor {x.name} dimension {dim} must have size "
                                         f"{int(size)}.  Received size {int(got)}, shape {x.shape}")
                    continue
                condition = math_ops.equal(convert_to_tensor(got), convert_to_tensor(size))
                data_ = data if data is not None else [
                    prefix, how, f"Tensor {x.name} dimension", dim, "must have size", size, "Received shape: ",
                    _shape(x)]
                size_assertions.append(Assert(condition, data_, summarize=summarize))
    with _ops.control_dependencies(rank_assertions):
        return group(size_assertions)
