"""The @k family of `tf.metrics` (TF's metrics_impl.py): precision/recall at k and at top k, and (mean)
average precision at k.

Composed as TF composes them, so the graph holds TF's ops and names: `nn.top_k` picks the predicted
classes, set operations (DenseToDense/DenseToSparseSetOperation + SetSize) count true positives, false
positives and false negatives per row, and float64 local variables named after TF's name scopes
(`precision_at_2/true_positive_at_2`) accumulate them. Labels may be dense ([D1..DN] or
[D1..DN, num_labels]) or a SparseTensor; ids that never appear among the predictions (out of range or
-1 padding) count as false negatives for recall, as TF's set difference counts them.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math
from graphcompat.ops import state_ops as _state
from graphcompat.ops.sparse_tensor import SparseTensor
from graphcompat.ops.weights_broadcast_ops import assert_broadcastable, broadcast_weights

def _to_tensor_or_sparse(value):
    from graphcompat.tf1_misc import convert_to_tensor_or_sparse_tensor
    return convert_to_tensor_or_sparse_tensor(value)


def _at_k_name(name: str, k: Optional[int] = None, class_id: Optional[int] = None) -> str:
    name = f"{name}_at_{k}" if k is not None else f"{name}_at_k"
    return f"{name}_class{class_id}" if class_id is not None else name


def _metric_variable(name: str):
    from graphcompat.metrics import metric_variable
    return metric_variable([], _dt.float64, name=name)


def _maybe_expand_labels(labels, predictions):
    """Labels of rank N get a trailing axis of 1 when predictions have rank N + 1 (TF's name scope
    `expand_labels`; a SparseTensor is reshaped under a cond, since its rank is only known at run time)."""
    from graphcompat.ops.control_flow_ops import cond
    from graphcompat.ops.sparse_ops import sparse_reshape
    with _ops.name_scope(None, "expand_labels", (labels, predictions)) as scope:
        labels = _to_tensor_or_sparse(labels)
        if isinstance(labels, SparseTensor):
            return cond(_math.equal(_array.rank(predictions), _array.size(labels.dense_shape) + 1),
                        lambda: sparse_reshape(labels, shape=_array.concat((labels.dense_shape, (1,)), 0),
                                               name=scope),
                        lambda: labels)
        labels_rank, predictions_rank = labels.shape.ndims, predictions.shape.ndims
        if labels_rank is not None and predictions_rank is not None:
            if predictions_rank == labels_rank:
                return labels
            if predictions_rank == labels_rank + 1:
                return _array.expand_dims(labels, -1, name=scope)
            raise ValueError(f"Unexpected labels shape {labels.shape} for predictions shape {predictions.shape}. "
                             "Predictions rank should be the same rank as labels rank or labels rank plus one .")
        return labels


def _reduced_shape(input_shape, axes):
    """TF's math_ops.reduced_shape: `input_shape` with the `axes` set to 1 (folded when both are known)."""
    from graphcompat.ops.data_dependent_ops import dynamic_stitch
    from graphcompat.ops.reduction_ops import range as _range
    shape_value, axes_value = constant_value(input_shape), constant_value(axes)
    if shape_value is not None and axes_value is not None:
        shape_value = np.array(shape_value, np.int32)
        shape_value[np.array(axes_value, np.int32)] = 1
        return shape_value
    axes = convert_to_tensor(axes)
    input_rank = _array.size(input_shape, out_type=axes.dtype)
    axes = (axes + input_rank) % input_rank
    return dynamic_stitch([_range(input_rank), axes],
                          [input_shape, _array.ones(_array.shape(axes), dtype=input_shape.dtype)])


def _select_class_id(ids, selected_id: int) -> SparseTensor:
    """The ids equal to `selected_id`, as a SparseTensor of the ids' shape (a dense tensor goes through a
    set intersection with a tensor filled with the id, as TF's)."""
    from graphcompat.ops.set_ops import set_intersection
    from graphcompat.ops.sparse_ops import sparse_retain
    ids = _to_tensor_or_sparse(ids)
    if isinstance(ids, SparseTensor):
        return sparse_retain(ids, _math.equal(ids.values, selected_id))
    ids_shape = _array.shape(ids, out_type=_dt.int64)
    ids_last_dim = _array.size(ids_shape) - 1
    filled_shape = _reduced_shape(ids_shape, _array.reshape(ids_last_dim, [1]))
    filled = _array.fill(filled_shape, _math.cast(selected_id, _dt.int64))
    result = set_intersection(filled, ids)
    return SparseTensor(indices=result.indices, values=result.values, dense_shape=ids_shape)


def _maybe_select_class_id(labels, predictions_idx, selected_id):
    if selected_id is None:
        return labels, predictions_idx
    return _select_class_id(labels, selected_id), _select_class_id(predictions_idx, selected_id)


def _weighted(counts, weights):
    counts = _math.cast(counts, _dt.float64)
    if weights is None:
        return counts
    with _ops.control_dependencies((assert_broadcastable(weights, counts),)):
        return _math.multiply(counts, _math.cast(weights, _dt.float64))


def _sparse_true_positive_at_k(labels, predictions_idx, class_id=None, weights=None, name=None):
    """Per row: |top-k ∩ labels| (float64, weighted)."""
    from graphcompat.ops.set_ops import set_intersection, set_size
    with _ops.name_scope(name, "true_positives", (predictions_idx, labels, weights)):
        labels, predictions_idx = _maybe_select_class_id(labels, predictions_idx, class_id)
        return _weighted(set_size(set_intersection(predictions_idx, labels)), weights)


def _sparse_difference_at_k(scope: str, labels, predictions_idx, aminusb: bool, class_id, weights):
    """Per row: |top-k - labels| (false positives) or |labels - top-k| (false negatives)."""
    from graphcompat.ops.set_ops import set_difference, set_size
    with _ops.name_scope(None, scope, (predictions_idx, labels, weights)):
        labels, predictions_idx = _maybe_select_class_id(labels, predictions_idx, class_id)
        return _weighted(set_size(set_difference(predictions_idx, labels, aminusb=aminusb)), weights)


def _streaming_count(kind: str, per_row, labels, predictions_idx, k, class_id, weights):
    """A float64 local variable named after its scope (`true_positive_at_2`) and its `update` op."""
    with _ops.name_scope(None, _at_k_name(kind, k, class_id=class_id), (predictions_idx, labels, weights)) as scope:
        batch_total = _math.cast(_math.reduce_sum(per_row()), _dt.float64)
        var = _metric_variable(scope)
        return var, _state.assign_add(var, batch_total, name="update")


def _streaming_tp(labels, predictions_idx, k, class_id, weights):
    return _streaming_count("true_positive", lambda: _sparse_true_positive_at_k(
        labels, predictions_idx, class_id=class_id, weights=weights), labels, predictions_idx, k, class_id, weights)


def _ratio_at_top_k(kind: str, labels, predictions_idx, k, class_id, weights, metrics_collections,
                    updates_collections, name) -> Tuple[_ops.Tensor, _ops.Tensor]:
    """tp / (tp + fp) (precision) or tp / (tp + fn) (recall) over the running counts."""
    other, other_scope, aminusb = (("false_positive", "false_positives", True) if kind == "precision"
                                   else ("false_negative", "false_negatives", False))
    with _ops.name_scope(name, _at_k_name(kind, k, class_id=class_id), (predictions_idx, labels, weights)) as scope:
        labels = _maybe_expand_labels(labels, predictions_idx)
        top_k_idx = _math.cast(predictions_idx, _dt.int64)
        tp, tp_update = _streaming_tp(labels, top_k_idx, k, class_id, weights)
        o, o_update = _streaming_count(other, lambda: _sparse_difference_at_k(
            other_scope, labels, top_k_idx, aminusb, class_id, weights), labels, top_k_idx, k, class_id, weights)
        # TF builds the value outside any control dependencies (its cross-replica aggregation does).
        with _ops.control_dependencies(None):
            metric = _math.divide(tp, _math.add(tp, o), name=scope)
        if metrics_collections:
            _ops.add_to_collections(metrics_collections, metric)
        update = _math.divide(tp_update, _math.add(tp_update, o_update), name="update")
        if updates_collections:
            _ops.add_to_collections(updates_collections, update)
        return metric, update


def precision_at_top_k(labels, predictions_idx, k: Optional[int] = None, class_id: Optional[int] = None,
                       weights=None, metrics_collections=None, updates_collections=None,
                       name: Optional[str] = None) -> Tuple[_ops.Tensor, _ops.Tensor]:
    """`tf.metrics.precision_at_top_k`: running precision of given top-k class ids against `labels`."""
    return _ratio_at_top_k("precision", labels, predictions_idx, k, class_id, weights, metrics_collections,
                           updates_collections, name)


def recall_at_top_k(labels, predictions_idx, k: Optional[int] = None, class_id: Optional[int] = None,
                    weights=None, metrics_collections=None, updates_collections=None,
                    name: Optional[str] = None) -> Tuple[_ops.Tensor, _ops.Tensor]:
    """`tf.metrics.recall_at_top_k`: running recall of given top-k class ids against `labels`."""
    return _ratio_at_top_k("recall", labels, predictions_idx, k, class_id, weights, metrics_collections,
                           updates_collections, name)


def _at_k(kind: str, top_k_metric):
    def metric(labels, predictions, k: int, class_id: Optional[int] = None, weights=None,
               metrics_collections=None, updates_collections=None,
               name: Optional[str] = None) -> Tuple[_ops.Tensor, _ops.Tensor]:
        from graphcompat.ops.sort_ops import top_k
        with _ops.name_scope(name, _at_k_name(kind, k, class_id=class_id), (predictions, labels, weights)) as scope:
            _, top_k_idx = top_k(predictions, k)
            return top_k_metric(labels, top_k_idx, k=k, class_id=class_id, weights=weights,
                                metrics_collections=metrics_collections, updates_collections=updates_collections,
                                name=scope)
    metric.__name__ = f"{kind}_at_k"
    metric.__doc__ = (f"`tf.metrics.{kind}_at_k`: running {kind} of the k highest `predictions` against dense "
                      f"or sparse integer `labels` (optionally of one `class_id`).")
    return metric


precision_at_k = _at_k("precision", precision_at_top_k)
recall_at_k = _at_k("recall", recall_at_top_k)


def sparse_precision_at_k(labels, predictions, k: int, class_id: Optional[int] = None, weights=None,
                          metrics_collections=None, updates_collections=None,
                          name: Optional[str] = None) -> Tuple[_ops.Tensor, _ops.Tensor]:
    """`tf.metrics.sparse_precision_at_k`: TF1's deprecated name of `precision_at_k`."""
    return precision_at_k(labels, predictions, k, class_id=class_id, weights=weights,
                          metrics_collections=metrics_collections, updates_collections=updates_collections,
                          name=name)


# ---------------------------------------------------------------------------------------------------
# average precision
# ---------------------------------------------------------------------------------------------------
def _expand_and_tile(tensor, multiple: int, dim: int = 0, name: Optional[str] = None):
    """`tensor` with a new axis at `dim` repeated `multiple` times (TF's `expand_and_tile`)."""
    from graphcompat.ops.slicing_ops import slice as _slice
    from graphcompat.ops.sparse_ops import sparse_concat, sparse_reshape
    if multiple < 1:
        raise ValueError(f"Invalid argument multiple={multiple} for expand_and_tile  call. `multiple` must be an "
                         "integer > 0")
    with _ops.name_scope(name, "expand_and_tile", (tensor, multiple, dim)) as scope:
        tensor = _to_tensor_or_sparse(tensor)
        if isinstance(tensor, SparseTensor):
            if dim < 0:
                expand_dims = _array.reshape(_array.size(tensor.dense_shape) + dim, [1])
            else:
                expand_dims = [dim]
            expanded_shape = _array.concat((_slice(tensor.dense_shape, [0], expand_dims), [1],
                                            _slice(tensor.dense_shape, expand_dims, [-1])), 0,
                                           name="expanded_shape")
            expanded = sparse_reshape(tensor, shape=expanded_shape, name="expand")
            if multiple == 1:
                return expanded
            return sparse_concat(dim - 1 if dim < 0 else dim, [expanded] * multiple, name=scope)
        expanded = _array.expand_dims(tensor, dim if dim >= 0 else dim - 1, name="expand")
        if multiple == 1:
            return expanded
        ones = _array.ones_like(_array.shape(tensor))
        multiples = _array.concat((ones[:dim], (multiple,), ones[dim:]), 0, name="multiples")
        return _array.tile(expanded, multiples, name=scope)


def _num_relevant(labels, k: int):
    """Per row: min(number of labels, k) (dense labels count the ids >= 0)."""
    from graphcompat.ops.set_ops import set_size
    if k < 1:
        raise ValueError(f"Invalid k={k}")
    with _ops.name_scope(None, "num_relevant", (labels,)) as scope:
        labels = _to_tensor_or_sparse(labels)
        if isinstance(labels, SparseTensor):
            return _math.minimum(set_size(labels), k, name=scope)
        num_labels = _math.reduce_sum(_math.where_v2(_math.greater_equal(labels, 0), _array.ones_like(labels),
                                                     _array.zeros_like(labels)), axis=-1)
        return _math.minimum(num_labels, k, name=scope)


def _sparse_average_precision_at_top_k(labels, predictions_idx):
    """Per row: the mean over relevant ranks i of precision@i (TF's name scope `average_precision`)."""
    from graphcompat.ops.reduction_ops import cumsum
    with _ops.name_scope(None, "average_precision", (predictions_idx, labels)) as scope:
        predictions_idx = _math.cast(predictions_idx, _dt.int64, name="predictions_idx")
        if predictions_idx.shape.ndims == 0:
            raise ValueError("The rank of `predictions_idx` must be at least 1.")
        k = predictions_idx.shape.as_list()[-1]
        if k is None:
            raise ValueError("The last dimension of predictions_idx must be set. Currently, it is None.")
        labels = _maybe_expand_labels(labels, predictions_idx)
        # Each rank i is a set of one prediction; intersecting it with the labels says if it is relevant.
        predictions_idx_per_k = _array.expand_dims(predictions_idx, -1, name="predictions_idx_per_k")
        labels_per_k = _expand_and_tile(labels, multiple=k, dim=-1, name="labels_per_k")
        relevant_per_k = _sparse_true_positive_at_k(labels_per_k, predictions_idx_per_k, name="relevant_per_k")
        tp_per_k = cumsum(relevant_per_k, axis=-1, name="tp_per_k")
        retrieved_per_k = cumsum(_array.ones_like(relevant_per_k), axis=-1, name="retrieved_per_k")
        precision_per_k = _math.divide(_math.cast(tp_per_k, _dt.float64), _math.cast(retrieved_per_k, _dt.float64),
                                       name="precision_per_k")
        relevant_precision_per_k = _math.multiply(precision_per_k, _math.cast(relevant_per_k, _dt.float64),
                                                  name="relevant_precision_per_k")
        precision_sum = _math.reduce_sum(relevant_precision_per_k, axis=(-1,), name="precision_sum")
        num_relevant_items = _math.cast(_num_relevant(labels, k), _dt.float64)
        return _math.divide(precision_sum, num_relevant_items, name=scope)


def _streaming_average_precision_at_top_k(labels, predictions_idx, weights, metrics_collections,
                                          updates_collections, name):
    with _ops.name_scope(name, "average_precision_at_top_k", (predictions_idx, labels, weights)) as scope:
        average_precision = _sparse_average_precision_at_top_k(labels, predictions_idx)
        if weights is not None:
            weights = broadcast_weights(_math.cast(weights, _dt.float64), average_precision)
            average_precision = _math.multiply(average_precision, weights)
        with _ops.name_scope(None, "max", (average_precision,)) as max_scope:
            max_var = _metric_variable(max_scope)
            if weights is None:
                batch_max = _math.cast(_array.size(average_precision, name="batch_max"), _dt.float64)
            else:
                batch_max = _math.reduce_sum(weights, name="batch_max")
            max_update = _state.assign_add(max_var, batch_max, name="update")
        with _ops.name_scope(None, "total", (average_precision,)) as total_scope:
            total_var = _metric_variable(total_scope)
            batch_total = _math.reduce_sum(average_precision, name="batch_total")
            total_update = _state.assign_add(total_var, batch_total, name="update")
        with _ops.control_dependencies(None):
            mean_average_precision = _math.divide_no_nan(total_var, max_var, name="mean")
        if metrics_collections:
            _ops.add_to_collections(metrics_collections, mean_average_precision)
        update = _math.divide_no_nan(total_update, max_update, name=scope)
        if updates_collections:
            _ops.add_to_collections(updates_collections, update)
        return mean_average_precision, update


def _clean_out_of_range_indices(labels, num_classes):
    """Labels >= num_classes become -1 (not relevant, and not counted by `_num_relevant`), under a cond
    so that labels already in range pass through untouched, as TF's."""
    from graphcompat.ops.control_flow_ops import cond

    def clean(values):
        return _math.where_v2(_math.greater_equal(values, num_classes), -1 * _array.ones_like(values), values)

    def clean_labels():
        if isinstance(labels, SparseTensor):
            return SparseTensor(indices=labels.indices, values=clean(labels.values), dense_shape=labels.dense_shape)
        return clean(labels)

    max_labels = _math.reduce_max(labels.values if isinstance(labels, SparseTensor) else labels)
    return cond(_math.greater_equal(max_labels, num_classes), clean_labels, lambda: labels)


def average_precision_at_k(labels, predictions, k: int, weights=None, metrics_collections=None,
                           updates_collections=None, name: Optional[str] = None) -> Tuple[_ops.Tensor, _ops.Tensor]:
    """`tf.metrics.average_precision_at_k`: running mean average precision of the k highest `predictions`."""
    from graphcompat.ops.sort_ops import top_k
    if k < 1:
        raise ValueError(f"Invalid k={k}. `k` should be >= 1.")
    with _ops.name_scope(name, _at_k_name("average_precision", k), (predictions, labels, weights)) as scope:
        _, predictions_idx = top_k(predictions, k)
        labels = _to_tensor_or_sparse(labels)
        labels = _clean_out_of_range_indices(labels, _math.cast(_array.shape(predictions)[-1], _dt.int64))
        return _streaming_average_precision_at_top_k(labels, predictions_idx, weights, metrics_collections,
                                                     updates_collections, scope)


def sparse_average_precision_at_k(labels, predictions, k: int, weights=None, metrics_collections=None,
                                  updates_collections=None,
                                  name: Optional[str] = None) -> Tuple[_ops.Tensor, _ops.Tensor]:
    """`tf.metrics.sparse_average_precision_at_k`: TF1's deprecated name of `average_precision_at_k`."""
    return average_precision_at_k(labels, predictions, k, weights=weights, metrics_collections=metrics_collections,
                                  updates_collections=updates_collections, name=name)
