"""`tf.nn` composites (TF's python/ops/nn_impl.py): normalization, moments, sigmoid cross entropies,
zero_fraction, and the sampled losses nce_loss / sampled_softmax_loss.

Each function builds the ops TF builds, under the same name scopes, from the array/math families.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.framework.registry import apply_op
from graphcompat.nn import candidate_sampling as _sampling
from graphcompat.nn import embedding_ops as _embedding
from graphcompat.nn import nn_ops as _nn
from graphcompat.nn import _deps
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math


def _same_shape_or_raise(labels, logits) -> None:
    if not labels.shape.is_compatible_with(logits.shape):
        raise ValueError("`logits` and `labels` must have the same shape, "
                         f"received ({logits.shape} vs {labels.shape}).")


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                      name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.sigmoid_cross_entropy_with_logits`: max(x, 0) - x * z + log(1 + exp(-|x|))."""
    _nn._ensure_named("sigmoid_cross_entropy_with_logits", _sentinel, labels, logits)
    with _ops.name_scope(name, "logistic_loss", [logits, labels]) as name:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, name="labels")
        _same_shape_or_raise(labels, logits)
        zeros = _array.zeros_like(logits, dtype=logits.dtype.base_dtype)
        cond = _math.greater_equal(logits, zeros)
        relu_logits = _deps.where(cond, logits, zeros)
        neg_abs_logits = _deps.where(cond, -logits, logits)
        return _math.add(relu_logits - logits * labels, _math.log1p(_math.exp(neg_abs_logits)), name=name)


def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None, name: Optional[str] = None,
                                       targets=None) -> _ops.Tensor:
    """`tf.nn.weighted_cross_entropy_with_logits` (v1: `targets` is the old name of `labels`)."""
    if labels is not None and targets is not None:
        raise ValueError("Cannot specify both 'labels' and 'targets'.")
    labels = targets if labels is None else labels
    with _ops.name_scope(name, "logistic_loss", [logits, labels]) as name:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, name="labels")
        _same_shape_or_raise(labels, logits)
        log_weight = 1 + (pos_weight - 1) * labels
        return _math.add((1 - labels) * logits,
                         log_weight * (_math.log1p(_math.exp(-_math.abs(logits))) + _nn.relu(-logits)),
                         name=name)


def l2_normalize(x, axis=None, epsilon: float = 1e-12, name: Optional[str] = None, dim=None) -> _ops.Tensor:
    """`tf.nn.l2_normalize`: x / sqrt(max(sum(x ** 2, axis), epsilon))."""
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'.")
    axis = axis if axis is not None else dim
    with _ops.name_scope(name, "l2_normalize", [x]) as name:
        x = convert_to_tensor(x, name="x")
        if x.dtype.is_complex:
            # |x|^2 from the real and imaginary parts; both parts scaled by the (real) inverse norm
            from graphcompat.ops.math_extra_ops import complex as _complex
            square_real = _math.square(_math.real(x))
            square_imag = _math.square(_math.imag(x))
            square_sum = _math.real(_math.reduce_sum(square_real + square_imag, axis, keepdims=True))
            x_inv_norm = _math.rsqrt(_math.maximum(square_sum, epsilon))
            norm_real = _math.multiply(_math.real(x), x_inv_norm)
            norm_imag = _math.multiply(_math.imag(x), x_inv_norm)
            return _complex(norm_real, norm_imag, name=name)
        square_sum = _math.reduce_sum(_math.square(x), axis, keepdims=True)
        x_inv_norm = _math.rsqrt(_math.maximum(square_sum, epsilon))
        return _math.multiply(x, x_inv_norm, name=name)


def zero_fraction(value, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.zero_fraction`: the fraction of zeros in `value` (float32)."""
    with _ops.name_scope(name, "zero_fraction", [value]):
        value = convert_to_tensor(value, name="value")
        size = _array.size(value, out_type=_dt.int64)
        with _ops.name_scope("count_nonzero"):
            zero = constant(0, dtype=value.dtype.base_dtype)
            nonzero = _math.cast(_math.not_equal(value, zero), _dt.int64)
            num_nonzero = _math.reduce_sum(nonzero)
        with _ops.name_scope("counts_to_fraction"):
            num_zero = size - num_nonzero
            fraction = _math.cast(num_zero, _dt.float32) / _math.cast(size, _dt.float32)
        return _array.identity(fraction, "fraction")


def moments(x, axes, shift=None, name: Optional[str] = None, keep_dims=None, keepdims=None):
    """`tf.nn.moments`: (mean, variance) over `axes`; float16 is computed in float32."""
    if keep_dims is not None and keepdims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
    keep = bool(keepdims if keepdims is not None else keep_dims)
    with _ops.name_scope(name, "moments", [x, axes]):
        x = convert_to_tensor(x)
        y = _math.cast(x, _dt.float32) if x.dtype.base_dtype == _dt.float16 else x
        mean = _math.reduce_mean(y, axes, keepdims=True, name="mean")
        variance = _math.reduce_mean(_math.squared_difference(y, _deps.stop_gradient(mean)), axes,
                                     keepdims=True, name="variance")
        if not keep:
            mean = _array.squeeze(mean, axes)
            variance = _array.squeeze(variance, axes)
        if x.dtype.base_dtype == _dt.float16:
            return _math.cast(mean, _dt.float16), _math.cast(variance, _dt.float16)
        return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name: Optional[str] = None):
    """`tf.nn.batch_normalization`: scale * (x - mean) / sqrt(variance + eps) + offset."""
    with _ops.name_scope(name, "batchnorm", [x, mean, variance, scale, offset]):
        x = convert_to_tensor(x)
        inv = _math.rsqrt(variance + variance_epsilon)
        if scale is not None:
            inv *= scale
        dtype = x.dtype.base_dtype
        return x * _math.cast(inv, dtype) + _math.cast(offset - mean * inv if offset is not None else -mean * inv,
                                                        dtype)


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon: float = 0.001,
                     data_format: str = "NHWC", is_training: bool = True, name: Optional[str] = None,
                     exponential_avg_factor: float = 1.0):
    """`tf.nn.fused_batch_norm` (FusedBatchNormV3): (y, batch or running mean, variance)."""
    if (not is_training or exponential_avg_factor != 1.0) and (mean is None or variance is None):
        raise ValueError("Both `mean` and `variance` must be a 1D tensor when `is_training` is False or "
                         f"`exponential_avg_factor` != 1.0. Received: `mean` {mean!r} and `variance` "
                         f"{variance!r}")
    x = convert_to_tensor(x, name="input")
    scale = convert_to_tensor(scale, name="scale")
    offset = convert_to_tensor(offset, name="offset")
    if mean is None:
        mean = constant(np.zeros([0], np.float32))
    if variance is None:
        variance = constant(np.zeros([0], np.float32))
    y, running_mean, running_var, _, _, _ = apply_op(
        "FusedBatchNormV3", [x, scale, offset, mean, variance],
        {"epsilon": float(epsilon), "exponential_avg_factor": float(exponential_avg_factor),
         "data_format": data_format, "is_training": bool(is_training)}, name=name)
    return y, running_mean, running_var


# ------------------------------------------------------------------------------------------------
# Sampled losses
# ------------------------------------------------------------------------------------------------
def _sum_rows(x: _ops.Tensor) -> _ops.Tensor:
    """Row sums as TF computes them: x @ ones([cols, 1]), reshaped to a vector."""
    cols = _array.shape(x)[1]
    ones = _array.ones(_array.stack([cols, 1]), x.dtype.base_dtype)
    return _array.reshape(_deps.matmul(x, ones), [-1])


def _last_occurrences(ids) -> _ops.Tensor:
    """bool [n]: position j holds the last occurrence of ids[j] (a stable sort keeps equal ids in
    position order, so the last of each run of equal sorted ids is the last occurrence)."""
    from graphcompat.ops.sort_ops import argsort
    from graphcompat.ops.special_math_ops import invert_permutation
    order = argsort(ids, stable=True)
    ordered = _deps.gather(ids, order)
    last_in_order = _array.concat([_math.not_equal(ordered[:-1], ordered[1:]), [True]], 0)
    return _deps.gather(last_in_order, invert_permutation(order))


def _compute_sampled_logits(weights, biases, labels, inputs, num_sampled: int, num_classes: int,
                            num_true: int = 1, sampled_values=None, subtract_log_q: bool = True,
                            remove_accidental_hits: bool = False, partition_strategy: str = "mod",
                            name: Optional[str] = None, seed: Optional[int] = None):
    if not isinstance(weights, (list, tuple)):
        weights = [weights]
    weights = list(weights)
    with _ops.name_scope(name, "compute_sampled_logits", weights + [biases, inputs, labels]):
        labels = convert_to_tensor(labels)
        inputs = convert_to_tensor(inputs)
        if labels.dtype.base_dtype != _dt.int64:
            labels = _math.cast(labels, _dt.int64)
        labels_flat = _array.reshape(labels, [-1])
        samples_unique = sampled_values is None
        if sampled_values is None:
            sampled_values = _sampling.log_uniform_candidate_sampler(
                true_classes=labels, num_true=num_true, num_sampled=num_sampled, unique=True,
                range_max=num_classes, seed=seed)
        sampled, true_expected_count, sampled_expected_count = (_deps.stop_gradient(s) for s in sampled_values)
        sampled = _math.cast(sampled, _dt.int64)
        all_ids = _array.concat([labels_flat, sampled], 0)
        all_w = _embedding.embedding_lookup(weights, all_ids, partition_strategy=partition_strategy)
        if all_w.dtype.base_dtype != inputs.dtype.base_dtype:
            all_w = _math.cast(all_w, inputs.dtype.base_dtype)
        n_true = _array.shape(labels_flat)[0]
        true_w = _deps.slice(all_w, [0, 0], _array.stack([n_true, -1]))
        sampled_w = _deps.slice(all_w, _array.stack([_array.shape(labels_flat)[0], 0]), [-1, -1])
        sampled_logits = _deps.matmul(inputs, sampled_w, transpose_b=True)
        all_b = _embedding.embedding_lookup(biases, all_ids, partition_strategy=partition_strategy)
        if all_b.dtype.base_dtype != inputs.dtype.base_dtype:
            all_b = _math.cast(all_b, inputs.dtype.base_dtype)
        true_b = _deps.slice(all_b, [0], _array.shape(labels_flat))
        sampled_b = _deps.slice(all_b, _array.shape(labels_flat), [-1])
        dim = _array.shape(true_w)[1:2]
        new_true_w_shape = _array.concat([[-1, num_true], dim], 0)
        row_wise_dots = _math.multiply(_array.expand_dims(inputs, 1), _array.reshape(true_w, new_true_w_shape))
        dots_as_matrix = _array.reshape(row_wise_dots, _array.concat([[-1], dim], 0))
        true_logits = _array.reshape(_sum_rows(dots_as_matrix), [-1, num_true])
        true_b = _array.reshape(true_b, [-1, num_true])
        true_logits += true_b
        sampled_logits += sampled_b
        if remove_accidental_hits:
            # TF scatters -FLT_MAX onto the (row, sample) pairs where a sample equals a true label
            # (ComputeAccidentalHits + SparseToDense, data-dependent shapes); the same dense mask here
            # is an equality test of labels against samples. ComputeAccidentalHits maps each sampled id
            # to its LAST position, so of samples that repeat (a caller's sampled_values may) only the
            # last is masked.
            with _ops.name_scope("accidental_hits"):
                hits = _math.equal(_array.expand_dims(labels, 2), _array.reshape(sampled, [1, 1, -1]))
                hit_rows = _math.reduce_any(hits, axis=1)
                if not samples_unique:
                    hit_rows = _math.logical_and(hit_rows, _array.expand_dims(_last_occurrences(sampled), 0))
                dtype = sampled_logits.dtype.base_dtype
                sampled_logits += _math.cast(hit_rows, dtype) * constant(-np.finfo(np.float32).max, dtype=dtype)
        if subtract_log_q:
            true_logits -= _math.log(true_expected_count)
            sampled_logits -= _math.log(sampled_expected_count)
        out_logits = _array.concat([true_logits, sampled_logits], 1)
        out_labels = _array.concat([_array.ones_like(true_logits) / num_true, _array.zeros_like(sampled_logits)], 1)
        return out_logits, out_labels


def nce_loss(weights, biases, labels, inputs, num_sampled: int, num_classes: int, num_true: int = 1,
             sampled_values=None, remove_accidental_hits: bool = False, partition_strategy: str = "mod",
             name: str = "nce_loss") -> _ops.Tensor:
    """`tf.nn.nce_loss`: per-example noise-contrastive loss with a log-uniform sampler (as TF)."""
    logits, labels = _compute_sampled_logits(
        weights=weights, biases=biases, labels=labels, inputs=inputs, num_sampled=num_sampled,
        num_classes=num_classes, num_true=num_true, sampled_values=sampled_values, subtract_log_q=True,
        remove_accidental_hits=remove_accidental_hits, partition_strategy=partition_strategy, name=name)
    sampled_losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="sampled_losses")
    return _sum_rows(sampled_losses)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled: int, num_classes: int,
                         num_true: int = 1, sampled_values=None, remove_accidental_hits: bool = True,
                         partition_strategy: str = "mod", name: str = "sampled_softmax_loss",
                         seed: Optional[int] = None) -> _ops.Tensor:
    """`tf.nn.sampled_softmax_loss`: softmax cross entropy over the true and sampled classes."""
    logits, labels = _compute_sampled_logits(
        weights=weights, biases=biases, labels=labels, inputs=inputs, num_sampled=num_sampled,
        num_classes=num_classes, num_true=num_true, sampled_values=sampled_values, subtract_log_q=True,
        remove_accidental_hits=remove_accidental_hits, partition_strategy=partition_strategy, name=name,
        seed=seed)
    labels = _deps.stop_gradient(labels, name="labels_stop_gradient")
    return _nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
