"""TF's weights_broadcast_ops: the checks that a metric's or a loss's `weights` broadcast to its values,
recorded as TF records them (a NoOp when the static shapes decide, else an Assert on the run-time shapes
whose message lists both shapes), and `broadcast_weights`."""
from __future__ import annotations

from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math

_BROADCAST_ERROR = "weights can not be broadcast to values."


def assert_broadcastable(weights, values):
    """TF's weights_broadcast_ops.assert_broadcastable: a static check (NoOp) when ranks and shapes are
    known, else a run-time Assert on the shapes."""
    from graphcompat.ops.control_flow_ops import cond
    from graphcompat.ops.control_ops import no_op
    from graphcompat.ops.data_dependent_ops import Assert
    with _ops.name_scope(None, "assert_broadcastable", (weights, values)) as scope:
        with _ops.name_scope(None, "weights", (weights,)) as weights_scope:
            weights = convert_to_tensor(weights, name=weights_scope)
            weights_shape = _array.shape(weights, name="shape")
            weights_rank = _array.rank(weights, name="rank")
        with _ops.name_scope(None, "values", (values,)) as values_scope:
            values = convert_to_tensor(values, name=values_scope)
            values_shape = _array.shape(values, name="shape")
            values_rank = _array.rank(values, name="rank")
        w_rank, v_rank = constant_value(weights_rank), constant_value(values_rank)
        if w_rank is not None and v_rank is not None:
            if w_rank == 0:
                return no_op(name="static_scalar_check_success")
            if w_rank != v_rank:
                raise ValueError(f"{_BROADCAST_ERROR} values.rank={v_rank}. weights.rank={w_rank}. "
                                 f"values.shape={values.shape}. weights.shape={weights.shape}. "
                                 f"Received weights={weights}, values={values}")
            w_static, v_static = constant_value(weights_shape), constant_value(values_shape)
            if w_static is not None and v_static is not None:
                for i, (w, v) in enumerate(zip(w_static, v_static)):
                    if w not in (1, v):
                        raise ValueError(f"{_BROADCAST_ERROR} Mismatch at dim {i}. values.shape={v_static}, "
                                         f"weights.shape={w_static}. Received weights={weights}, values={values}")
                return no_op(name="static_dims_check_success")
        is_scalar = _math.equal(0, weights_rank, name="is_scalar")
        data = (_BROADCAST_ERROR, "weights.shape=", weights.name, weights_shape, "values.shape=", values.name,
                values_shape, "is_scalar=", is_scalar)

        # TF tests the dims with set operations; comparing each dim with 1 and the value's dim is the same
        # condition once the ranks agree (checked first, so the element-wise compare never sees two ranks).
        def nonscalar_ok():
            return cond(_math.equal(weights_rank, values_rank),
                        lambda: _math.reduce_all(_math.logical_or(_math.equal(weights_shape, 1),
                                                                  _math.equal(weights_shape, values_shape))),
                        lambda: _math.equal(weights_rank, -1))

        is_valid = cond(is_scalar, lambda: is_scalar, nonscalar_ok, name="is_valid_shape")
        return Assert(is_valid, data, name=scope)


def broadcast_weights(weights, values):
    """TF's weights_broadcast_ops.broadcast_weights: `weights` as is when the static shapes already
    match, else weights * ones_like(values) after the broadcastability check."""
    with _ops.name_scope(None, "broadcast_weights", (weights, values)) as scope:
        values = convert_to_tensor(values, name="values")
        weights = convert_to_tensor(weights, dtype=values.dtype.base_dtype, name="weights")
        if (weights.shape.is_fully_defined() and values.shape.is_fully_defined()
                and weights.shape.is_compatible_with(values.shape)):
            return weights
        with _ops.control_dependencies((assert_broadcastable(weights, values),)):
            return _math.multiply(weights, _array.ones_like(values), name=scope)
