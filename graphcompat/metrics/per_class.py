"""`tf.metrics.mean_per_class_accuracy`, composed as TF's metrics_impl.py composes it: per-class `total` and
`count` local variables updated with ScatterAdd, value and update op through div_no_nan."""
from __future__ import annotations

from typing import Optional


def mean_per_class_accuracy(labels, predictions, num_classes: int, weights=None, metrics_collections=None,
                            updates_collections=None, name: Optional[str] = None):
    """`tf.metrics.mean_per_class_accuracy`: (running mean over classes of per-class accuracy, update_op)."""
    import sys

    import graphcompat.variable_scope  # noqa: F401
    from graphcompat.framework import dtypes as _dt
    from graphcompat.framework import ops as _ops
    from graphcompat.framework.constant_op import convert_to_tensor
    from graphcompat.metrics import metric_variable
    from graphcompat.ops import array_ops, math_ops, state_ops
    vs = sys.modules["graphcompat.variable_scope"]
    with vs.variable_scope(name, "mean_accuracy", (predictions, labels, weights)):
        labels = math_ops.cast(labels, _dt.int64)
        predictions = convert_to_tensor(predictions)
        if labels.shape.ndims is not None and labels.shape.ndims > 1:
            labels = array_ops.reshape(labels, [-1])
        if predictions.shape.ndims is not None and predictions.shape.ndims > 1:
            predictions = array_ops.reshape(predictions, [-1])
        predictions.shape.assert_is_compatible_with(labels.shape)
        total = metric_variable([num_classes], _dt.float32, name="total")
        count = metric_variable([num_classes], _dt.float32, name="count")
        ones = array_ops.ones([array_ops.size(labels)], _dt.float32)
        if labels.dtype != predictions.dtype:
            predictions = math_ops.cast(predictions, labels.dtype)
        is_correct = math_ops.cast(math_ops.equal(predictions, labels), _dt.float32)
        if weights is not None:
            weights = convert_to_tensor(weights)
            if weights.shape.ndims is not None and weights.shape.ndims > 1:
                weights = array_ops.reshape(weights, [-1])
            weights = math_ops.cast(weights, _dt.float32)
            is_correct *= weights
            ones *= weights
        update_total_op = state_ops.scatter_add(total, labels, ones)
        update_count_op = state_ops.scatter_add(count, labels, is_correct)
        per_class = math_ops.divide_no_nan(count, math_ops.maximum(total, 0))
        value = math_ops.reduce_mean(per_class, name="mean_accuracy")
        if metrics_collections:
            _ops.add_to_collections(metrics_collections, value)
        update_op = math_ops.divide_no_nan(update_count_op, math_ops.maximum(update_total_op, 0), name="update_op")
        if updates_collections:
            _ops.add_to_collections(updates_collections, update_op)
        return value, update_op
