"""`tf.assert_*` / `tf.debugging.assert_*` (TF1's check_ops), built as TF builds them: a comparison,
`reduce_all`, and a `tf.Assert` whose data names the tensors. When both sides are build-time
constants the check also runs statically and fails while building (InvalidArgumentError), as in TF.
"""
from __future__ import annotations


import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.ops.data_dependent_ops import Assert


def _math():
    from graphcompat.ops import math_ops
    return math_ops


def _static_text(item) -> str:
    if not isinstance(item, _ops.Tensor):
        return str(item)
    value = constant_value(item)
    return str(item) if value is None else str(value)


def _binary_assert(symbol: str, opname: str, test: str, static_test, x, y, data, summarize, message, name):
    with _ops.name_scope(name, opname, [x, y] + list(data or [])):
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, dtype_hint=x.dtype.base_dtype, name="y")
        if data is None:
            data = [f"Condition x {symbol} y did not hold element-wise:", f"x ({x.name}) = ", x,
                    f"y ({y.name}) = ", y]
        if message is not None:
            data = [message] + list(data)
        xs, ys = constant_value(x), constant_value(y)
        if xs is not None and ys is not None and not np.all(static_test(xs, ys)):
            raise errors.InvalidArgumentError(None, None, "\n".join(_static_text(d) for d in data))
        math_ops = _math()
        condition = math_ops.reduce_all(getattr(math_ops, test)(x, y))
        return Assert(condition, data, summarize=summarize)


def assert_equal(x, y, data=None, summarize=None, message=None, name=None):
    """`tf.assert_equal`: InvalidArgumentError when run unless x == y element-wise. TF 1's assert_equal
    opens (and uniquifies) its name scope once before the check's own scope, so the check's ops are
    recorded under `assert_equal_1/` (a NoOp in the first scope when x is y)."""
    with _ops.name_scope(name, "assert_equal", [x, y, data]):
        if x is y:
            from graphcompat.ops.control_ops import no_op
            return no_op()
    return _binary_assert("==", "assert_equal", "equal", np.equal, x, y, data, summarize, message, name)


def assert_none_equal(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert("!=", "assert_none_equal", "not_equal", np.not_equal, x, y, data, summarize, message,
                          name)


def assert_less(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert("<", "assert_less", "less", np.less, x, y, data, summarize, message, name)


def assert_less_equal(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert("<=", "assert_less_equal", "less_equal", np.less_equal, x, y, data, summarize, message,
                          name)


def assert_greater(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert(">", "assert_greater", "greater", np.greater, x, y, data, summarize, message, name)


def assert_greater_equal(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert(">=", "assert_greater_equal", "greater_equal", np.greater_equal, x, y, data, summarize,
                          message, name)


def _sign_assert(opname: str, symbol: str, compare, zero_first: bool):
    def check(x, data=None, summarize=None, message=None, name=None):
        with _ops.name_scope(name, opname, [x] + list(data or [])):
            x = convert_to_tensor(x, name="x")
            if data is None:
                # TF always leads with the (possibly empty) "<message>.  " prefix; its assert_non_positive
                # lacks a comma between the two texts, which run together in the message.
                head = f"Condition x {symbol} 0 did not hold element-wise:"
                texts = [head + f"x ({x.name}) = "] if symbol == "<=" else [head, f"x ({x.name}) = "]
                data = [f"{message}.  " if message else ""] + texts + [x]
            zero = convert_to_tensor(np.zeros((), x.dtype.base_dtype.as_numpy_dtype))
            a, b = (zero, x) if zero_first else (x, zero)
            return compare(a, b, data=data, summarize=summarize)
    check.__name__ = opname
    check.__doc__ = f"`tf.{opname}`: InvalidArgumentError when run unless x {symbol} 0 element-wise."
    return check


assert_positive = _sign_assert("assert_positive", ">", assert_less, True)
assert_negative = _sign_assert("assert_negative", "<", assert_less, False)
assert_non_negative = _sign_assert("assert_non_negative", ">=", assert_less_equal, True)
assert_non_positive = _sign_assert("assert_non_positive", "<=", assert_less_equal, False)


def _rank_assert(opname: str, at_least: bool):
    def check(x, rank, data=None, summarize=None, message=None, name=None):
        with _ops.name_scope(name, opname, [x, rank] + list(data or [])):
            x = convert_to_tensor(x, name="x")
            prefix = f"{message}.  " if message else ""
            want = int(rank)
            have = x.shape.ndims
            if have is not None:
                ok = have >= want if at_least else have == want
                if not ok:
                    words = "at least " if at_least else ""
                    raise ValueError(f"{prefix}Tensor {x.name} must have rank {words}{want}.  Received rank {have}, "
                                     f"shape {x.shape}")
                from graphcompat.ops.control_ops import no_op
                return no_op(name="static_checks_determined_all_ok")
            math_ops = _math()
            from graphcompat.ops import array_ops
            actual = array_ops.rank(x)
            test = math_ops.greater_equal if at_least else math_ops.equal
            if data is None:
                # TF's _assert_rank_condition data: the (possibly empty) message is its own element
                data = [prefix, f"Tensor {x.name} must have rank{' at least' if at_least else ''}", want,
                        "Received shape: ", array_ops.shape(x)]
            return Assert(test(actual, want), data, summarize=summarize)
    check.__name__ = opname
    return check


assert_rank = _rank_assert("assert_rank", False)
assert_rank_at_least = _rank_assert("assert_rank_at_least", True)


def assert_type(tensor, tf_type, message=None, name=None):
    """`tf.assert_type`: a build-time TypeError unless `tensor` has dtype `tf_type`."""
    tf_type = _dt.as_dtype(tf_type)
    with _ops.name_scope(name, "assert_type", [tensor]):
        tensor = convert_to_tensor(tensor, name="tensor")
        if tensor.dtype.base_dtype != tf_type:
            prefix = f"{message}.  " if message else ""
            raise TypeError(f"{prefix}{tensor.name} must be of type tf.{tf_type.name}; got "
                            f"tf.{tensor.dtype.base_dtype.name}")
        from graphcompat.ops.control_ops import no_op
        return no_op(name="statically_determined_correct_type")


def assert_integer(x, message=None, name=None):
    """`tf.assert_integer`: a build-time TypeError unless `x` has an integer dtype."""
    with _ops.name_scope(name, "assert_integer", [x]):
        x = convert_to_tensor(x, name="x")
        if not x.dtype.is_integer:
            prefix = f"{message}.  " if message else ""
            raise TypeError(f'{prefix}Expected "x" to be integer type.  Found: {x.name} of dtype {x.dtype}')
        from graphcompat.ops.control_ops import no_op
        return no_op("statically_determined_was_integer")


def assert_scalar(tensor, name=None, message=None):
    """`tf.assert_scalar`: `tensor` itself, after a build-time check that it is rank 0."""
    with _ops.name_scope(name, "assert_scalar", [tensor]) as scope:
        tensor = convert_to_tensor(tensor, name=scope)
        if tensor.shape.ndims is not None and tensor.shape.ndims != 0:
            prefix = f"{message}.  " if message else ""
            raise ValueError(f"{prefix}Expected scalar shape for {tensor.name}, saw shape: {tensor.shape}.")
        return tensor


__all__ = ["assert_equal", "assert_none_equal", "assert_less", "assert_less_equal", "assert_greater",
           "assert_greater_equal", "assert_positive", "assert_negative", "assert_non_negative",
           "assert_non_positive", "assert_rank", "assert_rank_at_least", "assert_type", "assert_integer",
           "assert_scalar"]
