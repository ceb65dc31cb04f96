"""`tf.losses` (TF's python/ops/losses/losses_impl.py): per-element losses reduced by
`compute_weighted_loss` (default `SUM_BY_NONZERO_WEIGHTS`) and added to the `LOSSES` collection."""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.nn import _deps
from graphcompat.nn import nn_impl as _impl
from graphcompat.nn import nn_ops as _nn
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math
from graphcompat.ops.weights_broadcast_ops import assert_broadcastable, broadcast_weights

LOSSES = _ops.GraphKeys.LOSSES


class Reduction:
    """How `compute_weighted_loss` reduces the weighted per-element losses."""
    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_OVER_NONZERO_WEIGHTS,
                cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. Key should be one of {cls.all()}.")


def add_loss(loss, loss_collection=LOSSES) -> None:
    """`tf.losses.add_loss`."""
    if loss_collection:
        _ops.add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=LOSSES) -> list:
    return _ops.get_collection(loss_collection, scope)


def get_regularization_losses(scope=None) -> list:
    return _ops.get_collection(_ops.GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name: str = "total_regularization_loss"):
    """Sum of the regularization losses (a 0.0 constant when there are none)."""
    losses = get_regularization_losses(scope)
    if losses:
        return _math.add_n(losses, name=name)
    from graphcompat.framework.constant_op import constant
    return constant(0.0)


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss", scope=None):
    """Sum of `LOSSES` (+ regularization losses); ValueError when there are none, as TF."""
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses += get_regularization_losses(scope=scope)
    if not losses:
        raise ValueError("No losses found to add to the total loss.")
    return _math.add_n(losses, name=name)


def _safe_mean(losses, num_present):
    """TF's _safe_mean: the sum, divided by num_present, 0 where that is 0 (DivNoNan named "value")."""
    total_loss = _math.reduce_sum(losses)
    return _math.divide_no_nan(total_loss, num_present, name="value")


def _num_elements(losses):
    with _ops.name_scope(None, "num_elements", values=[losses]) as scope:
        return _math.cast(_array.size(losses, name=scope), losses.dtype.base_dtype)


def _num_present(losses, weights):
    if isinstance(weights, float) and weights != 0.0:
        return _num_elements(losses)
    with _ops.name_scope(None, "num_present", (losses, weights)) as scope:
        weights = _math.cast(weights, _dt.float32)
        present = _deps.where(_math.equal(weights, 0.0), _array.zeros_like(weights), _array.ones_like(weights))
        present = broadcast_weights(present, losses)
        return _math.reduce_sum(present, name=scope)


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """`tf.losses.compute_weighted_loss`."""
    Reduction.validate(reduction)
    with _ops.name_scope(scope, "weighted_loss", (losses, weights)):
        # TF checks that the weights broadcast before it computes anything: a NoOp when the static
        # shapes decide, else an Assert on the run-time shapes (the error TF raises for a fed batch)
        with _ops.control_dependencies((assert_broadcastable(weights, losses),)):
            losses = convert_to_tensor(losses)
            input_dtype = losses.dtype.base_dtype
            losses = _math.cast(losses, _dt.float32)
            weights_t = _math.cast(weights, _dt.float32)
            weighted = _math.multiply(losses, weights_t)
            if reduction == Reduction.NONE:
                loss = weighted
            else:
                loss = _math.reduce_sum(weighted)
                if reduction == Reduction.MEAN:
                    loss = _safe_mean(loss, _math.reduce_sum(_array.ones_like(losses) * weights_t))
                elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                    loss = _safe_mean(loss, _num_present(losses, weights_t))
                elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                    loss = _safe_mean(loss, _num_elements(losses))
            loss = _math.cast(loss, input_dtype)
            add_loss(loss, loss_collection)
            return loss


def _require(value, name: str):
    if value is None:
        raise ValueError(f"Argument `{name}` must not be None.")


def _pair(labels, predictions):
    predictions = _math.cast(predictions, _dt.float32)
    labels = _math.cast(labels, _dt.float32)
    if not predictions.shape.is_compatible_with(labels.shape):
        raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible")
    return labels, predictions


def absolute_difference(labels, predictions, weights=1.0, scope=None, loss_collection=LOSSES,
                        reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    _require(labels, "labels"), _require(predictions, "predictions")
    with _ops.name_scope(scope, "absolute_difference", (predictions, labels, weights)) as scope:
        labels, predictions = _pair(labels, predictions)
        losses = _math.abs(_math.subtract(predictions, labels))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=LOSSES,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    _require(labels, "labels"), _require(predictions, "predictions")
    with _ops.name_scope(scope, "mean_squared_error", (predictions, labels, weights)) as scope:
        labels, predictions = _pair(labels, predictions)
        losses = _math.squared_difference(predictions, labels)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def huber_loss(labels, predictions, weights=1.0, delta: float = 1.0, scope=None, loss_collection=LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    _require(labels, "labels"), _require(predictions, "predictions")
    with _ops.name_scope(scope, "huber_loss", (predictions, labels, weights)) as scope:
        labels, predictions = _pair(labels, predictions)
        error = _math.subtract(predictions, labels)
        abs_error = _math.abs(error)
        quadratic = _math.minimum(abs_error, delta)
        linear = _math.subtract(abs_error, quadratic)
        losses = _math.add(_math.multiply(convert_to_tensor(0.5, dtype=quadratic.dtype.base_dtype),
                                          _math.multiply(quadratic, quadratic)),
                           _math.multiply(delta, linear))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def log_loss(labels, predictions, weights=1.0, epsilon: float = 1e-7, scope=None, loss_collection=LOSSES,
             reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    _require(labels, "labels"), _require(predictions, "predictions")
    with _ops.name_scope(scope, "log_loss", (predictions, labels, weights)) as scope:
        labels, predictions = _pair(labels, predictions)
        losses = -_math.multiply(labels, _math.log(predictions + epsilon)) - _math.multiply(
            (1 - labels), _math.log(1 - predictions + epsilon))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def hinge_loss(labels, logits, weights=1.0, scope=None, loss_collection=LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    _require(labels, "labels"), _require(logits, "logits")
    with _ops.name_scope(scope, "hinge_loss", (logits, labels, weights)) as scope:
        labels, logits = _pair(labels, logits)
        all_ones = _array.ones_like(labels)
        labels = _math.subtract(2 * labels, all_ones)
        losses = _nn.relu(_math.subtract(all_ones, _math.multiply(labels, logits)))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing: float = 0, scope=None,
                          loss_collection=LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    _require(multi_class_labels, "multi_class_labels"), _require(logits, "logits")
    with _ops.name_scope(scope, "sigmoid_cross_entropy_loss", (logits, multi_class_labels, weights)) as scope:
        logits = convert_to_tensor(logits)
        labels = _math.cast(multi_class_labels, logits.dtype.base_dtype)
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError(f"Shapes {logits.shape} and {labels.shape} are incompatible")
        if label_smoothing > 0:
            labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
        losses = _impl.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing: float = 0, scope=None,
                          loss_collection=LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    _require(onehot_labels, "onehot_labels"), _require(logits, "logits")
    with _ops.name_scope(scope, "softmax_cross_entropy_loss", (logits, onehot_labels, weights)) as scope:
        logits = convert_to_tensor(logits)
        labels = _math.cast(onehot_labels, logits.dtype.base_dtype)
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError(f"Shapes {logits.shape} and {labels.shape} are incompatible")
        if label_smoothing > 0:
            num_classes = _math.cast(_array.shape(labels)[-1], logits.dtype.base_dtype)
            labels = labels * (1.0 - label_smoothing) + label_smoothing / num_classes
        labels = _deps.stop_gradient(labels, name="labels_stop_gradient")
        losses = _nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def _remove_squeezable_dimensions(labels, predictions, weights, expected_rank_diff: int):
    labels, predictions = convert_to_tensor(labels), convert_to_tensor(predictions)
    lr, pr = labels.shape.ndims, predictions.shape.ndims
    if lr is not None and pr is not None:
        diff = pr - lr
        if diff == expected_rank_diff + 1 and predictions.shape[-1].is_compatible_with(1):
            predictions = _array.squeeze(predictions, [-1])
        elif diff == expected_rank_diff - 1 and labels.shape[-1].is_compatible_with(1):
            labels = _array.squeeze(labels, [-1])
    if weights is not None:
        weights = convert_to_tensor(weights)
        wr, lr = weights.shape.ndims, labels.shape.ndims
        if wr is not None and lr is not None and wr - lr == 1:
            weights = _array.squeeze(weights, [-1])
    return labels, predictions, weights


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, loss_collection=LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    _require(labels, "labels"), _require(logits, "logits")
    with _ops.name_scope(scope, "sparse_softmax_cross_entropy_loss", (logits, labels, weights)) as scope:
        labels, logits, weights = _remove_squeezable_dimensions(labels, logits, weights, expected_rank_diff=1)
        losses = _nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


