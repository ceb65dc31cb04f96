"""`tf.metrics` (TF's python/ops/metrics_impl.py): streaming metrics over local variables.

Each metric returns (value, update_op): running the update op accumulates a batch into `total` /
`count` (local, non-trainable variables in LOCAL_VARIABLES and METRIC_VARIABLES, initialized by
`tf.local_variables_initializer()`); the value reads the running result.
"""
from __future__ import annotations

import sys
from typing import Optional

import numpy as np

import graphcompat.variable_scope  # noqa: F401
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.nn import _deps
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math
from graphcompat.ops import state_ops as _state
from graphcompat.variables import Variable

_vs = sys.modules["graphcompat.variable_scope"]


def metric_variable(shape, dtype, validate_shape: bool = True, name: Optional[str] = None) -> Variable:
    """A zero-initialized local variable for a metric's running state."""
    return Variable(lambda: _array.zeros(shape, dtype), trainable=False,
                    collections=[_ops.GraphKeys.LOCAL_VARIABLES, _ops.GraphKeys.METRIC_VARIABLES],
                    validate_shape=validate_shape, name=name)


def _div_no_nan(x, y, name: str):
    zero = _math.equal(y, 0.0)
    safe = _deps.where(zero, _array.ones_like(y), y)
    return _deps.where(zero, _array.zeros_like(x), x / safe, name=name)


def _squeeze_like(predictions, labels, weights):
    predictions = convert_to_tensor(predictions)
    if labels is not None:
        labels = convert_to_tensor(labels)
        lr, pr = labels.shape.ndims, predictions.shape.ndims
        if lr is not None and pr is not None:
            if lr - pr == 1 and labels.shape[-1].is_compatible_with(1):
                labels = _array.squeeze(labels, [-1])
            elif pr - lr == 1 and predictions.shape[-1].is_compatible_with(1):
                predictions = _array.squeeze(predictions, [-1])
        if not predictions.shape.is_compatible_with(labels.shape):
            raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible")
    if weights is None:
        return predictions, labels, None
    weights = convert_to_tensor(weights)
    wr, pr = weights.shape.ndims, predictions.shape.ndims
    if wr and pr is not None:
        if wr - pr == 1:
            weights = _array.squeeze(weights, [-1])
        elif pr - wr == 1:
            weights = _array.expand_dims(weights, -1)
    return predictions, labels, weights


def mean(values, weights=None, metrics_collections=None, updates_collections=None, name: Optional[str] = None):
    """`tf.metrics.mean`: (running weighted mean, update_op)."""
    with _vs.variable_scope(name, "mean", (values, weights)):
        values = _math.cast(values, _dt.float32)
        total = metric_variable([], _dt.float32, name="total")
        count = metric_variable([], _dt.float32, name="count")
        if weights is None:
            num_values = _math.cast(_array.size(values), _dt.float32)
        else:
            values, _, weights = _squeeze_like(values, None, weights)
            weights = _math.cast(weights, _dt.float32) * _array.ones_like(values)
            values = _math.multiply(values, weights)
            num_values = _math.reduce_sum(weights)
        update_total_op = _state.assign_add(total, _math.reduce_sum(values))
        with _ops.control_dependencies([values]):
            update_count_op = _state.assign_add(count, num_values)
        with _ops.control_dependencies(None):
            mean_t = _div_no_nan(total, _math.maximum(count, 0.0), name="value")
        if metrics_collections:
            _ops.add_to_collections(metrics_collections, mean_t)
        update_op = _div_no_nan(update_total_op, _math.maximum(update_count_op, 0.0), name="update_op")
        if updates_collections:
            _ops.add_to_collections(updates_collections, update_op)
        return mean_t, update_op


def accuracy(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
             name: Optional[str] = None):
    """`tf.metrics.accuracy`: running fraction of `predictions` equal to `labels`."""
    predictions, labels, weights = _squeeze_like(predictions, labels, weights)
    if labels.dtype.base_dtype != predictions.dtype.base_dtype:
        predictions = _math.cast(predictions, labels.dtype.base_dtype)
    is_correct = _math.cast(_math.equal(predictions, labels), _dt.float32)
    return mean(is_correct, weights, metrics_collections, updates_collections, name or "accuracy")


# ================================================================================================
# ops13: the rest of tf.metrics, composed as TF's metrics_impl.py composes them (variable scopes,
# local variables in METRIC_VARIABLES, update ops named `update_op`)
# ================================================================================================
def _count_condition(values, weights, metrics_collections, updates_collections):
    count = metric_variable([], _dt.float32, name="count")
    values = _math.cast(values, _dt.float32)
    if weights is not None:
        values = _math.multiply(values, _math.cast(weights, _dt.float32))
    value = _array.identity(count)
    if metrics_collections:
        _ops.add_to_collections(metrics_collections, value)
    update_op = _state.assign_add(count, _math.reduce_sum(values))
    if updates_collections:
        _ops.add_to_collections(updates_collections, update_op)
    return value, update_op


def _bool_pair(labels, predictions, weights):
    predictions, labels, weights = _squeeze_like(_math.cast(predictions, _dt.bool_), _math.cast(labels, _dt.bool_),
                                                 weights)
    return labels, predictions, weights


def _condition_metric(default: str, condition):
    def metric(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
               name: Optional[str] = None):
        with _vs.variable_scope(name, default, (predictions, labels, weights)):
            labels, predictions, weights = _bool_pair(labels, predictions, weights)
            return _count_condition(condition(labels, predictions), weights, metrics_collections,
                                    updates_collections)
    metric.__name__ = default
    metric.__doc__ = f"`tf.metrics.{default}`: running (weighted) count of {default.replace('_', ' ')}."
    return metric


true_positives = _condition_metric("true_positives", lambda l, p: _math.logical_and(l, p))
false_positives = _condition_metric("false_positives", lambda l, p: _math.logical_and(_math.logical_not(l), p))
true_negatives = _condition_metric("true_negatives", lambda l, p: _math.logical_and(_math.logical_not(l),
                                                                                   _math.logical_not(p)))
false_negatives = _condition_metric("false_negatives", lambda l, p: _math.logical_and(l, _math.logical_not(p)))


def _ratio(numerator, denominator, name: str):
    """tp / (tp + other), 0 when the denominator is 0 (TF's compute_precision/compute_recall)."""
    total = numerator + denominator
    return _deps.where(_math.greater(total, 0), _math.divide(numerator, total), 0, name=name)


def _ratio_metric(default: str, other):
    def metric(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
               name: Optional[str] = None):
        with _vs.variable_scope(name, default, (predictions, labels, weights)):
            labels, predictions, weights = _bool_pair(labels, predictions, weights)
            tp, tp_update = true_positives(labels, predictions, weights)
            o, o_update = other(labels, predictions, weights)
            value = _ratio(tp, o, "value")
            update_op = _ratio(tp_update, o_update, "update_op")
            if metrics_collections:
                _ops.add_to_collections(metrics_collections, value)
            if updates_collections:
                _ops.add_to_collections(updates_collections, update_op)
            return value, update_op
    metric.__name__ = default
    metric.__doc__ = f"`tf.metrics.{default}`: running tp / (tp + {'fp' if default == 'precision' else 'fn'})."
    return metric


precision = _ratio_metric("precision", false_positives)
recall = _ratio_metric("recall", false_negatives)


def _thresholds_matrix(labels, predictions, thresholds, weights=None, includes=("tp", "fn", "tn", "fp")):
    """TF's _confusion_matrix_at_thresholds: per-threshold tp/fn/tn/fp variables and their update ops
    (an example is positive at a threshold when its prediction is greater)."""
    from graphcompat.framework.constant_op import constant
    from graphcompat.ops import check_ops
    predictions = convert_to_tensor(predictions)
    with _ops.control_dependencies([
            check_ops.assert_greater_equal(predictions, _math.cast(0.0, predictions.dtype.base_dtype),
                                           message="predictions must be in [0, 1]"),
            check_ops.assert_less_equal(predictions, _math.cast(1.0, predictions.dtype.base_dtype),
                                        message="predictions must be in [0, 1]")]):
        predictions, labels, weights = _squeeze_like(_math.cast(predictions, _dt.float32),
                                                     _math.cast(labels, _dt.bool_), weights)
    num_thresholds = len(thresholds)
    predictions_2d = _array.reshape(predictions, [-1, 1])
    labels_2d = _array.reshape(_math.cast(labels, _dt.bool_), [1, -1])
    num_predictions = predictions_2d.shape.as_list()[0]
    if num_predictions is None:
        num_predictions = _array.shape(predictions_2d)[0]
    thresh_tiled = _array.tile(_array.expand_dims(constant(np.asarray(thresholds, np.float32)), [1]),
                               _array.stack([1, num_predictions]))
    pred_is_pos = _math.greater(_array.tile(_array.transpose(predictions_2d), [num_thresholds, 1]), thresh_tiled)
    pred_is_neg = _math.logical_not(pred_is_pos)
    label_is_pos = _array.tile(labels_2d, [num_thresholds, 1])
    label_is_neg = _math.logical_not(label_is_pos)
    weights_tiled = None
    if weights is not None:
        weights = _math.cast(weights, _dt.float32) * _array.ones_like(predictions)
        weights_tiled = _array.tile(_array.reshape(weights, [1, -1]), [num_thresholds, 1])
    cases = {"tp": ("true_positives", label_is_pos, pred_is_pos), "fn": ("false_negatives", label_is_pos, pred_is_neg),
             "tn": ("true_negatives", label_is_neg, pred_is_neg), "fp": ("false_positives", label_is_neg, pred_is_pos)}
    values, update_ops = {}, {}
    for key in ("tp", "fn", "tn", "fp"):
        if key not in includes:
            continue
        var_name, a, b = cases[key]
        var = metric_variable([num_thresholds], _dt.float32, name=var_name)
        hit = _math.cast(_math.logical_and(a, b), _dt.float32)
        if weights_tiled is not None:
            hit = hit * weights_tiled
        update_ops[key] = _state.assign_add(var, _math.reduce_sum(hit, 1))
        values[key] = var
    return values, update_ops


def _at_thresholds(key: str, default: str):
    def metric(labels, predictions, thresholds, weights=None, metrics_collections=None, updates_collections=None,
               name: Optional[str] = None):
        with _vs.variable_scope(name, default, (predictions, labels, weights)):
            values, update_ops = _thresholds_matrix(labels, predictions, thresholds, weights, includes=(key,))
            value = _array.identity(values[key])
            if metrics_collections:
                _ops.add_to_collections(metrics_collections, value)
            if updates_collections:
                _ops.add_to_collections(updates_collections, update_ops[key])
            return value, update_ops[key]
    metric.__name__ = default
    metric.__doc__ = f"`tf.metrics.{default}`: one running count per threshold (prediction > threshold)."
    return metric


true_positives_at_thresholds = _at_thresholds("tp", "true_positives_at_thresholds")
false_positives_at_thresholds = _at_thresholds("fp", "false_positives_at_thresholds")
true_negatives_at_thresholds = _at_thresholds("tn", "true_negatives_at_thresholds")
false_negatives_at_thresholds = _at_thresholds("fn", "false_negatives_at_thresholds")


def _ratio_at_thresholds(default: str, other: str, prefix: str):
    def metric(labels, predictions, thresholds, weights=None, metrics_collections=None, updates_collections=None,
               name: Optional[str] = None):
        with _vs.variable_scope(name, default, (predictions, labels, weights)):
            values, update_ops = _thresholds_matrix(labels, predictions, thresholds, weights, includes=("tp", other))
            epsilon = 1e-7

            def compute(tp, o, name):
                return _math.divide(tp, epsilon + tp + o, name=f"{prefix}_{name}")
            value = compute(values["tp"], values[other], "value")
            update_op = compute(update_ops["tp"], update_ops[other], "update_op")
            if metrics_collections:
                _ops.add_to_collections(metrics_collections, value)
            if updates_collections:
                _ops.add_to_collections(updates_collections, update_op)
            return value, update_op
    metric.__name__ = default
    metric.__doc__ = f"`tf.metrics.{default}`: {prefix} at each threshold."
    return metric


precision_at_thresholds = _ratio_at_thresholds("precision_at_thresholds", "fp", "precision")
recall_at_thresholds = _ratio_at_thresholds("recall_at_thresholds", "fn", "recall")

_KEPSILON = 1e-7  # TF's: thresholds just below 0 and just above 1


def _default_thresholds(num_thresholds: int) -> list:
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - _KEPSILON] + inner + [1.0 + _KEPSILON]


def auc(labels, predictions, weights=None, num_thresholds: int = 200, metrics_collections=None,
        updates_collections=None, curve: str = "ROC", name: Optional[str] = None,
        summation_method: str = "trapezoidal", thresholds=None):
    """`tf.metrics.auc`: area under the ROC or PR curve over `num_thresholds` thresholds (Riemann sum)."""
    if summation_method not in ("trapezoidal", "careful_interpolation", "minoring", "majoring"):
        raise ValueError(f"Invalid summation_method: {summation_method}")
    if curve not in ("ROC", "PR"):
        raise ValueError(f"Curve must be either ROC or PR. Curve {curve} is unknown.")
    with _vs.variable_scope(name, "auc", (labels, predictions, weights)):
        if thresholds is not None:
            thresholds = sorted(thresholds)
            num_thresholds = len(thresholds) + 2
            thresholds = [0.0 - _KEPSILON] + list(thresholds) + [1.0 + _KEPSILON]
        else:
            if num_thresholds <= 1:
                raise ValueError("`num_thresholds` must be > 1.")
            thresholds = _default_thresholds(num_thresholds)
        values, update_ops = _thresholds_matrix(labels, predictions, thresholds, weights)
        epsilon = 1.0e-6

        def interpolate_pr_auc(tp, fp, fn):
            """TF's closed form of the area under the PR curve with precision interpolated along P = TP + FP
            (Davis et al., 2006) between successive thresholds; TF names it `interpolate_pr_auc` whatever
            the caller's name."""
            n = num_thresholds
            dtp = tp[:n - 1] - tp[1:]
            p = tp + fp
            prec_slope = _math.divide_no_nan(dtp, _math.maximum(p[:n - 1] - p[1:], 0), name="prec_slope")
            intercept = tp[1:] - _math.multiply(prec_slope, p[1:])
            safe_p_ratio = _deps.where(
                _math.logical_and(p[:n - 1] > 0, p[1:] > 0),
                _math.divide_no_nan(p[:n - 1], _math.maximum(p[1:], 0), name="recall_relative_ratio"),
                _array.ones_like(p[1:]))
            return _math.reduce_sum(
                _math.divide_no_nan(prec_slope * (dtp + intercept * _math.log(safe_p_ratio)),
                                 _math.maximum(tp[1:] + fn[1:], 0), name="pr_auc_increment"),
                name="interpolate_pr_auc")

        def compute_auc(tp, fn, tn, fp, name):
            if curve == "PR" and summation_method == "careful_interpolation":
                return interpolate_pr_auc(tp, fp, fn)
            rec = _math.divide(tp + epsilon, tp + fn + epsilon)
            if curve == "ROC":
                x = _math.divide(fp, fp + tn + epsilon)
                y = rec
            else:
                x = rec
                y = _math.divide(tp + epsilon, tp + fp + epsilon)
            dx = x[:num_thresholds - 1] - x[1:]
            if summation_method in ("trapezoidal", "careful_interpolation"):
                return _math.reduce_sum(_math.multiply(dx, (y[:num_thresholds - 1] + y[1:]) / 2.0), name=name)
            pick = _math.minimum if summation_method == "minoring" else _math.maximum
            return _math.reduce_sum(_math.multiply(dx, pick(y[:num_thresholds - 1], y[1:])), name=name)
        value = compute_auc(values["tp"], values["fn"], values["tn"], values["fp"], "value")
        update_op = compute_auc(update_ops["tp"], update_ops["fn"], update_ops["tn"], update_ops["fp"], "update_op")
        if metrics_collections:
            _ops.add_to_collections(metrics_collections, value)
        if updates_collections:
            _ops.add_to_collections(updates_collections, update_op)
        return value, update_op


def _at_rate(default: str, target_name: str):
    def metric(labels, predictions, target, weights=None, num_thresholds: int = 200, metrics_collections=None,
               updates_collections=None, name: Optional[str] = None):
        if target < 0 or target > 1:
            raise ValueError(f"`{target_name}` must be in the range [0, 1]. Currently, `{target_name}` got "
                             f"{target}.")
        with _vs.variable_scope(name, default, (predictions, labels, weights)):
            values, update_ops = _thresholds_matrix(labels, predictions, _default_thresholds(num_thresholds),
                                                    weights)

            def compute(tp, tn, fp, fn, name):
                from graphcompat.ops.reduction_ops import argmax, argmin, cumsum, reduce_min
                if default == "sensitivity_at_specificity":
                    rates = _math.divide(tn, tn + fp + _KEPSILON)
                    index = _math.cast(argmin(_math.abs(rates - target), 0), _dt.int32)
                    return _math.divide(tp[index], tp[index] + fn[index] + _KEPSILON, name)
                rates = _math.divide(tp, tp + fn + _KEPSILON)
                min_val = reduce_min(_math.abs(rates - target))
                at_min = _math.cast(_math.equal(_math.abs(rates - target), min_val), _dt.int64)
                index = _math.cast(argmax(cumsum(at_min), 0), _dt.int32)
                return _math.divide(tn[index], tn[index] + fp[index] + _KEPSILON, name)
            value = compute(values["tp"], values["tn"], values["fp"], values["fn"], "value")
            update_op = compute(update_ops["tp"], update_ops["tn"], update_ops["fp"], update_ops["fn"], "update_op")
            if metrics_collections:
                _ops.add_to_collections(metrics_collections, value)
            if updates_collections:
                _ops.add_to_collections(updates_collections, update_op)
            return value, update_op
    metric.__name__ = default
    metric.__doc__ = f"`tf.metrics.{default}`."
    return metric


sensitivity_at_specificity = _at_rate("sensitivity_at_specificity", "specificity")
specificity_at_sensitivity = _at_rate("specificity_at_sensitivity", "sensitivity")


def _mean_of(default: str, errors):
    def metric(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
               name: Optional[str] = None):
        predictions, labels, weights = _squeeze_like(predictions, labels, weights)
        return mean(errors(labels, predictions), weights, metrics_collections, updates_collections,
                    name or default)
    metric.__name__ = default
    metric.__doc__ = f"`tf.metrics.{default}`: the running (weighted) mean of the errors."
    return metric


mean_absolute_error = _mean_of("mean_absolute_error", lambda l, p: _math.abs(p - l))
mean_squared_error = _mean_of("mean_squared_error", lambda l, p: _math.squared_difference(p, l))


def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                            name: Optional[str] = None):
    """`tf.metrics.root_mean_squared_error`: sqrt of the running mean squared error."""
    predictions, labels, weights = _squeeze_like(predictions, labels, weights)
    mse, update_mse_op = mean_squared_error(labels, predictions, weights, None, None,
                                            name or "root_mean_squared_error")
    rmse = _math.sqrt(mse)
    update_rmse_op = _math.sqrt(update_mse_op)
    if metrics_collections:
        _ops.add_to_collections(metrics_collections, rmse)
    if updates_collections:
        _ops.add_to_collections(updates_collections, update_rmse_op)
    return rmse, update_rmse_op


def mean_relative_error(labels, predictions, normalizer, weights=None, metrics_collections=None,
                        updates_collections=None, name: Optional[str] = None):
    """`tf.metrics.mean_relative_error`: running mean of |labels - predictions| / normalizer (0 where 0)."""
    predictions, labels, weights = _squeeze_like(predictions, labels, weights)
    normalizer = convert_to_tensor(normalizer)
    relative_errors = _deps.where(_math.equal(normalizer, 0.0), _array.zeros_like(labels),
                                  _math.divide(_math.abs(labels - predictions), normalizer))
    return mean(relative_errors, weights, metrics_collections, updates_collections, name or "mean_relative_error")


def mean_cosine_distance(labels, predictions, dim, weights=None, metrics_collections=None, updates_collections=None,
                         name: Optional[str] = None):
    """`tf.metrics.mean_cosine_distance`: 1 - running mean of the dot products along `dim`."""
    predictions, labels, weights = _squeeze_like(predictions, labels, weights)
    radial_diffs = _math.reduce_sum(_math.multiply(predictions, labels), axis=[dim], keepdims=True)
    mean_distance, update_op = mean(radial_diffs, weights, None, None, name or "mean_cosine_distance")
    mean_distance = _math.subtract(1.0, mean_distance)
    update_op = _math.subtract(1.0, update_op)
    if metrics_collections:
        _ops.add_to_collections(metrics_collections, mean_distance)
    if updates_collections:
        _ops.add_to_collections(updates_collections, update_op)
    return mean_distance, update_op


def percentage_below(values, threshold, weights=None, metrics_collections=None, updates_collections=None,
                     name: Optional[str] = None):
    """`tf.metrics.percentage_below`: running fraction of values below `threshold`."""
    is_below = _math.cast(_math.less(values, threshold), _dt.float32)
    return mean(is_below, weights, metrics_collections, updates_collections, name or "percentage_below_threshold")


def mean_iou(labels, predictions, num_classes: int, weights=None, metrics_collections=None,
             updates_collections=None, name: Optional[str] = None):
    """`tf.metrics.mean_iou`: mean over classes of intersection / union, from a running confusion matrix."""
    from graphcompat.ops.linalg_ops import diag_part
    from graphcompat.ops.segment_ops import confusion_matrix
    with _vs.variable_scope(name, "mean_iou", (predictions, labels, weights)):
        predictions = convert_to_tensor(predictions)
        labels = convert_to_tensor(labels)
        total_cm = metric_variable([num_classes, num_classes], _dt.float64, name="total_confusion_matrix")
        predictions = _math.cast(predictions, _dt.int64)
        labels = _math.cast(labels, _dt.int64)
        if predictions.shape.ndims is not None and predictions.shape.ndims > 1:
            predictions = _array.reshape(predictions, [-1])
        if labels.shape.ndims is not None and labels.shape.ndims > 1:
            labels = _array.reshape(labels, [-1])
        if weights is not None:
            weights = convert_to_tensor(weights)
            if weights.shape.ndims is not None and weights.shape.ndims > 1:
                weights = _array.reshape(weights, [-1])
        current_cm = confusion_matrix(labels, predictions, num_classes, weights=weights, dtype=_dt.float64)
        update_op = _state.assign_add(total_cm, current_cm)

        def compute_mean_iou(cm, name):
            cm = _math.cast(cm, _dt.float32)
            sum_over_row = _math.reduce_sum(cm, 0)
            sum_over_col = _math.reduce_sum(cm, 1)
            cm_diag = diag_part(cm)
            denominator = sum_over_row + sum_over_col - cm_diag
            num_valid = _math.reduce_sum(_math.cast(_math.not_equal(denominator, 0), _dt.float32))
            denominator = _deps.where(_math.greater(denominator, 0), denominator, _array.ones_like(denominator))
            iou = _math.divide(cm_diag, denominator)
            return _deps.where(_math.greater(num_valid, 0), _math.reduce_sum(iou, name=name) / num_valid, 0)
        value = compute_mean_iou(total_cm, "mean_iou")  # TF's update op is the confusion matrix update
        if metrics_collections:
            _ops.add_to_collections(metrics_collections, value)
        if updates_collections:
            _ops.add_to_collections(updates_collections, update_op)
        return value, update_op


def mean_tensor(values, weights=None, metrics_collections=None, updates_collections=None,
                name: Optional[str] = None):
    """`tf.metrics.mean_tensor`: the element-wise running (weighted) mean of a tensor."""
    with _vs.variable_scope(name, "mean", (values, weights)):
        values = _math.cast(values, _dt.float32)
        total = metric_variable(values.shape, _dt.float32, name="total_tensor")
        count = metric_variable(values.shape, _dt.float32, name="count_tensor")
        num_values = _array.ones_like(values)
        if weights is not None:
            values, _, weights = _squeeze_like(values, None, weights)
            weights = _math.cast(weights, _dt.float32) * _array.ones_like(values)
            values = _math.multiply(values, weights)
            num_values = _math.multiply(num_values, weights)
        update_total_op = _state.assign_add(total, values)
        with _ops.control_dependencies([values]):
            update_count_op = _state.assign_add(count, num_values)
        compute = lambda t, c, name: _div_no_nan(t, _math.maximum(c, 0.0), name=name)  # noqa: E731
        mean_t = compute(total, count, "value")
        update_op = compute(update_total_op, update_count_op, "update_op")
        if metrics_collections:
            _ops.add_to_collections(metrics_collections, mean_t)
        if updates_collections:
            _ops.add_to_collections(updates_collections, update_op)
        return mean_t, update_op


# the @k family: top_k + set operations, as TF's metrics_impl.py
from graphcompat.metrics.at_k import (average_precision_at_k, precision_at_k, precision_at_top_k,  # noqa: F401,E402
                                      recall_at_k, recall_at_top_k, sparse_average_precision_at_k,
                                      sparse_precision_at_k)


# coverage: per-class accuracy
from graphcompat.metrics.per_class import mean_per_class_accuracy  # noqa: F401,E402
