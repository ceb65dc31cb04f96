"""`tf.nn.compute_average_loss`, `tf.nn.scale_regularization_loss` (TF's nn_impl_distribute.py, outside
any distribution strategy: one replica) and `tf.nn.collapse_repeated` (TF's ctc_ops.py), built with
the ops TF records."""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.ops import array_ops as _array
from graphcompat.ops import check_ops as _check
from graphcompat.ops import math_ops as _math
from graphcompat.ops import reduction_ops as _reduce

_NUM_REPLICAS = 1  # graphcompat runs no distribution strategy: the default strategy's one replica


def _reduce_sum(x, axis=None):
    return _reduce.reduce_sum(x, axis)


def scale_regularization_loss(regularization_loss):
    """`tf.nn.scale_regularization_loss`: sum(regularization_loss) / number of replicas (one here)."""
    return _reduce_sum(regularization_loss) / _NUM_REPLICAS


def _squeeze_or_expand_weights(losses, sample_weight):
    """The sample_weight part of TF's losses_util.squeeze_or_expand_dimensions."""
    losses_rank, weights_rank = losses.shape.ndims, sample_weight.shape.ndims
    if weights_rank == 0:
        return sample_weight
    if losses_rank is not None and weights_rank is not None:
        if weights_rank - losses_rank == 1:
            return _array.squeeze(sample_weight, [-1])
        if losses_rank - weights_rank == 1:
            return _array.expand_dims(sample_weight, [-1])
        return sample_weight
    from graphcompat.ops.control_flow_ops import cond
    weights_rank_t = _array.rank(sample_weight)
    rank_diff = weights_rank_t - _array.rank(losses)

    def maybe_expand():
        return cond(_math.equal(rank_diff, -1), lambda: _array.expand_dims(sample_weight, [-1]),
                    lambda: sample_weight)

    def maybe_adjust():
        return cond(_math.equal(rank_diff, 1), lambda: _array.squeeze(sample_weight, [-1]), maybe_expand)
    return cond(_math.equal(weights_rank_t, 0), lambda: sample_weight, maybe_adjust)


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """`tf.nn.compute_average_loss`: sum(per_example_loss * sample_weight) / global_batch_size (by
    default the loss's batch size), div_no_nan; weighted losses are computed in float32 as TF does."""
    per_example_loss = convert_to_tensor(per_example_loss)
    input_dtype = per_example_loss.dtype.base_dtype
    rank = per_example_loss.shape.ndims
    deps = []
    if rank == 0:
        raise ValueError("Invalid value passed for `per_example_loss`. Expected a tensor with at least rank 1. "
                         f"Received per_example_loss={per_example_loss} with rank {rank}")
    if rank is None:
        deps = [_check.assert_greater_equal(_array.rank(per_example_loss), _math.cast(1, dtype=_dt.int32),
                                            message="Invalid value passed for `per_example_loss`. Expected a "
                                                    "tensor with at least rank 1.")]
    with _ops.control_dependencies(deps):
        if sample_weight is not None:
            sample_weight = convert_to_tensor(sample_weight)
            losses = _math.cast(per_example_loss, _dt.float32)
            weights = _math.cast(sample_weight, _dt.float32)
            per_example_loss = _math.multiply(losses, _squeeze_or_expand_weights(losses, weights))
        per_example_loss = _math.cast(per_example_loss, input_dtype)
        if global_batch_size is None:
            global_batch_size = _array.shape(per_example_loss)[0] * _NUM_REPLICAS
        _check.assert_scalar(global_batch_size, message="global_batch_size must be scalar.")
        _check.assert_integer(global_batch_size, message="global_batch_size must be an integer.")
        _check.assert_non_negative(global_batch_size, message="global_batch_size must be non-negative.")
        loss = _reduce_sum(per_example_loss)
        global_batch_size = _math.cast(global_batch_size, input_dtype)
        return _math.divide_no_nan(loss, global_batch_size)


def _get_dim(tensor, i):
    """A static size when known, else the Shape op's element (TF's ctc_ops._get_dim)."""
    return _ts.dimension_value(tensor.shape[i]) or _array.shape(tensor)[i]


def collapse_repeated(labels, seq_length, name: Optional[str] = None):
    """`tf.nn.collapse_repeated`: merges runs of equal labels in each row (within its seq_length); returns
    (collapsed labels [batch, new max length], new lengths in seq_length's dtype)."""
    from graphcompat.ops.data_dependent_ops import boolean_mask
    from graphcompat.ops.indexing_ops import scatter_nd, sequence_mask
    from graphcompat.ops.reduction_ops import range as _range
    with _ops.name_scope(name, "collapse_repeated_labels", [labels, seq_length]):
        labels = convert_to_tensor(labels, name="labels")
        seq_length = convert_to_tensor(seq_length, name="seq_length")
        label_mask = _array.concat([_array.ones_like(labels[:, :1], _dt.bool_),
                                    _math.not_equal(labels[:, 1:], labels[:, :-1])], axis=1)
        maxlen = _get_dim(labels, 1)
        seq_mask = sequence_mask(seq_length, maxlen=maxlen)
        label_mask = _math.logical_and(label_mask, seq_mask)
        new_seq_len = _reduce_sum(_math.cast(label_mask, _dt.int32), axis=1)
        new_maxlen = _reduce.reduce_max(new_seq_len)
        idx_mask = sequence_mask(new_seq_len, maxlen=new_maxlen)
        flat_labels = _array.reshape(labels, [-1])
        flat_label_mask = _array.reshape(label_mask, [-1])
        flat_idx_mask = _array.reshape(idx_mask, [-1])
        idx = _range(_get_dim(flat_idx_mask, 0))
        flat = scatter_nd(indices=_array.expand_dims(boolean_mask(idx, flat_idx_mask), axis=1),
                          updates=boolean_mask(flat_labels, flat_label_mask), shape=_array.shape(flat_idx_mask))
        batch_size = _get_dim(labels, 0)
        return _array.reshape(flat, [batch_size, new_maxlen]), _math.cast(new_seq_len, seq_length.dtype)


__all__ = ["compute_average_loss", "scale_regularization_loss", "collapse_repeated"]
