"""`tf.losses.cosine_distance` and `tf.losses.mean_pairwise_squared_error`, built as TF 2.21's
tensorflow/python/ops/losses/losses_impl.py builds them."""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.losses.losses_impl import LOSSES, Reduction, add_loss, compute_weighted_loss


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope: Optional[str] = None,
                    loss_collection=LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS, dim=None):
    """`tf.losses.cosine_distance`: 1 - sum(labels * predictions, axis) (inputs assumed unit-normalized)."""
    from graphcompat.ops import math_ops
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("You must specify argument `axis`.")
    if labels is None:
        raise ValueError("Argument `labels` must not be None.")
    if predictions is None:
        raise ValueError("Argument `predictions` must not be None.")
    with _ops.name_scope(scope, "cosine_distance_loss", (predictions, labels, weights)) as scope:
        predictions = math_ops.cast(predictions, dtype=_dt.float32)
        labels = math_ops.cast(labels, dtype=_dt.float32)
        predictions.shape.assert_is_compatible_with(labels.shape)
        radial_diffs = math_ops.multiply(predictions, labels)
        losses = 1 - math_ops.reduce_sum(radial_diffs, axis=(axis,), keepdims=True)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def _num_present_per_batch(losses, weights):
    from graphcompat.ops import array_ops, math_ops
    with _ops.name_scope(None, "num_present", (losses, weights)) as scope:
        weights = math_ops.cast(weights, dtype=_dt.float32)
        present = math_ops.where(math_ops.equal(weights, 0.0), array_ops.zeros_like(weights),
                                 array_ops.ones_like(weights))
        present = math_ops.multiply(present, array_ops.ones_like(losses))   # broadcast to the losses' shape
        return math_ops.reduce_sum(present, axis=math_ops.range(1, array_ops.rank(present)), keepdims=True,
                                   name=scope)


def mean_pairwise_squared_error(labels, predictions, weights=1.0, scope: Optional[str] = None,
                                loss_collection=LOSSES):
    """`tf.losses.mean_pairwise_squared_error`: per example, the mean over pairs of elements of the squared
    difference between the predicted and the true pairwise differences; weighted and summed."""
    from graphcompat.ops import array_ops, math_ops
    if labels is None:
        raise ValueError("Argument `labels` must not be None.")
    if predictions is None:
        raise ValueError("Argument `predictions` must not be None.")
    with _ops.name_scope(scope, "mean_pairwise_squared_error", (predictions, labels, weights)):
        weights = math_ops.cast(weights, dtype=_dt.float32)
        labels = math_ops.cast(labels, dtype=_dt.float32)
        predictions = math_ops.cast(predictions, dtype=_dt.float32)
        predictions.shape.assert_is_compatible_with(labels.shape)
        diffs = math_ops.subtract(predictions, labels)
        axis = math_ops.range(1, array_ops.rank(diffs))
        sum_squares = math_ops.reduce_sum(math_ops.square(diffs), axis=axis, keepdims=True)
        num_present = _num_present_per_batch(diffs, weights)
        term1 = 2.0 * math_ops.divide_no_nan(sum_squares, math_ops.maximum(num_present - 1, 0), name="value")
        sum_diff = math_ops.reduce_sum(diffs, axis=axis, keepdims=True)
        term2 = 2.0 * math_ops.divide_no_nan(math_ops.square(sum_diff),
                                             math_ops.maximum(math_ops.multiply(num_present, num_present - 1), 0),
                                             name="value")
        loss = math_ops.reduce_sum(math_ops.multiply(term1 - term2, weights))
        mean_loss = math_ops.where(math_ops.reduce_sum(num_present) > 0, loss, array_ops.zeros_like(loss),
                                   name="value")
        add_loss(mean_loss, loss_collection)
        return mean_loss


__all__ = ["cosine_distance", "mean_pairwise_squared_error"]
