"""Lowerings of NN ops (graphcompat/ops/nn_ops.py): activations, softmax, cross entropies, conv/pool,
normalization, top-k and candidate sampling. Gradients come from JAX autodiff of these rules, so where
TF's registered gradient differs from the math (dense softmax cross entropy) a custom VJP says so.
"""
from __future__ import annotations

import functools
import os
import weakref

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import errors
from lowering import glibc_float, philox, philox_sampling, sampler_device
from lowering.interpreter import require
from lowering.registry import lowers
from lowering.rules.checks import invalid, shape_str
from lowering.rules.math import differentiable, with_tf_slope


# ------------------------------------------------------------------------------------------------
# Activations
# ------------------------------------------------------------------------------------------------
@lowers("Relu")
def relu(x, **_):
    # max(x, 0) as TF's float32/64 kernels give it: NaN stays NaN, -0.0 becomes 0.0 (XLA's max keeps either
    # zero depending on the path); gradient 0 at 0, as TF.
    if not jnp.issubdtype(jnp.result_type(x), jnp.inexact):
        return jax.nn.relu(x)
    # TF's ReluGrad is dy * (x > 0): 0 at a NaN that the forward lets through
    return with_tf_slope(_relu_float, lambda x, y: (x > 0).astype(x.dtype))(jnp.asarray(x))


def _relu_float(x):
    return jnp.where((x > 0) | jnp.isnan(x), x, jnp.zeros((), x.dtype))


@lowers("Relu6")
def relu6(x, **_):
    # TF's kernel (cwiseMax(0).cwiseMin(6)) lets a NaN through.
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return _relu6_clip(x)
    # TF's Relu6Grad is dy * (0 < x < 6): 0 at NaN
    return with_tf_slope(lambda v: jnp.where(jnp.isnan(v), v, _relu6_clip(v)),
                         lambda v, y: ((v > 0) & (v < 6)).astype(v.dtype))(x)


def _relu6_clip(x):
    return jnp.where(x > 0, jnp.where(x < 6, x, jnp.asarray(6, x.dtype)), jnp.zeros((), x.dtype))


def _negative_part(x):
    """x where x <= 0 or NaN, else 0: the argument of Elu/Selu's exponential branch, so large x cannot
    overflow it and a NaN stays NaN."""
    return jnp.where(x > 0, jnp.zeros((), x.dtype), x)


# TF's Elu/Selu kernels (relu_op_functor.h) compute exp(x) - 1 in the input's type, not expm1: for float32
# elu(-1e-5) is -1.0013580e-05 there (expm1 gives -9.99995e-06), for float16 it is 0. Their gradients are
# TF's EluGrad/SeluGrad, from the output: (y + 1) * dy, (y + scale * alpha) * dy below zero.
_SELU_SCALE, _SELU_SCALE_ALPHA = 1.0507009873554804934193349852946, 1.7580993408473768599402175208123


@jax.custom_jvp
def _elu(x):
    return jnp.where(x < 0, jnp.exp(_negative_part(x)) - jnp.ones((), x.dtype), x)


# The slope multiplies the tangent outside the `where`: (y + 1) * t in a branch not taken is inf * 0 = NaN in
# the reverse pass at x = inf.
_elu.defjvps(lambda t, y, x: jnp.where(y < 0, y + jnp.ones((), y.dtype), jnp.ones((), y.dtype)) * t)


@jax.custom_jvp
def _selu(x):
    dtype = x.dtype
    negative = jnp.asarray(_SELU_SCALE_ALPHA, dtype) * (jnp.exp(_negative_part(x)) - jnp.ones((), dtype))
    return jnp.where(x < 0, negative, jnp.asarray(_SELU_SCALE, dtype) * x)


_selu.defjvps(lambda t, y, x: jnp.where(y < 0, y + jnp.asarray(_SELU_SCALE_ALPHA, y.dtype),
                                        jnp.asarray(_SELU_SCALE, y.dtype)) * t)


@lowers("Elu")
def elu(x, **_):
    return differentiable(_elu)(jnp.asarray(x))


@lowers("Selu")
def selu(x, **_):
    return differentiable(_selu)(jnp.asarray(x))


@lowers("LeakyRelu")
def leaky_relu(x, *, alpha=0.2, **_):
    # `alpha` is a float (32-bit) attr: a float64 input is scaled by double(0.2f), as TF's kernel does.
    alpha = jnp.asarray(np.float32(alpha), jnp.result_type(x))
    return jnp.where(x > 0, x, x * alpha)


@jax.custom_jvp
def _softplus(x):
    # TF's Softplus kernel (softplus_op.h): x above -threshold, exp(x) below threshold, else log1p(exp(x)),
    # every step in the input's type, threshold = log(epsilon) + 2 computed in that type too.
    dtype = x.dtype
    eps = jnp.asarray(jnp.finfo(dtype).eps, dtype)
    threshold = jnp.log(eps) + jnp.asarray(2, dtype)
    e = jnp.exp(jnp.minimum(x, -threshold))  # the clamp only keeps the unused branch finite
    return jnp.where(x > -threshold, x, jnp.where(x < threshold, e, jnp.log1p(e)))


# TF's SoftplusGrad: dy / (exp(-x) + 1)
_softplus.defjvps(lambda t, y, x: t / (jnp.exp(-x) + jnp.ones((), x.dtype)))


@lowers("Softplus")
def softplus(x, **_):
    x = jnp.asarray(x)
    if x.dtype == jnp.float16:
        # XLA rounds float16 results below float16's smallest normal an ulp off Eigen's, which the formula
        # above meets for every x < -9.7: log(1 + e^x) in one piece lands nearer TF's (within an ulp).
        return differentiable(_softplus_smooth)(x)
    return differentiable(_softplus)(x)


@jax.custom_jvp
def _softplus_smooth(x):
    return jax.nn.softplus(x).astype(x.dtype)


_softplus_smooth.defjvps(lambda t, y, x: t / (jnp.exp(-x) + jnp.ones((), x.dtype)))


@lowers("Softsign")
def softsign(x, **_):
    # TF's SoftsignGrad, dy / (1 + |x|)^2: 0 at ±inf (the quotient's own derivative is NaN there)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return x / (1 + jnp.abs(x))
    return with_tf_slope(lambda v: v / (1 + jnp.abs(v)), lambda v, y: 1 / jnp.square(1 + jnp.abs(v)))(x)


def _logits_rank(x) -> None:
    if np.ndim(x) < 1:
        raise invalid(f"logits must have >= 1 dimension, got {shape_str(np.shape(x))}")


@lowers("Softmax")
def softmax(x, **_):
    _logits_rank(x)
    return jax.nn.softmax(x, axis=-1)


@lowers("LogSoftmax")
def log_softmax(x, **_):
    _logits_rank(x)
    return jax.nn.log_softmax(x, axis=-1)


@lowers("BiasAdd")
def bias_add(value, bias, *, data_format="NHWC", **_):
    if np.ndim(value) < 2:
        raise invalid(f"Input tensor must be at least 2D: {shape_str(np.shape(value))}")
    if np.ndim(bias) != 1:
        raise invalid(f"Biases must be 1D: {shape_str(np.shape(bias))}")
    channels = np.shape(value)[1 if data_format == "NCHW" and np.ndim(value) >= 3 else -1]
    if np.shape(bias)[0] != channels:
        raise invalid(f"Must provide as many biases as the last dimension of the input tensor: "
                      f"{shape_str(np.shape(bias))} vs. {shape_str(np.shape(value))}")
    if data_format == "NCHW" and value.ndim >= 3:
        return value + jnp.reshape(bias, (-1,) + (1,) * (value.ndim - 2))
    return value + bias


@lowers("L2Loss")
def l2_loss(t, **_):
    return (jnp.sum(jnp.square(t)) / 2).astype(t.dtype)


@lowers("LRN")
def lrn(x, *, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, **_):
    if np.ndim(x) != 4:
        raise invalid("in must be 4-dimensional")
    sq = jnp.square(x.astype(jnp.float32))
    window = (1, 1, 1, 2 * depth_radius + 1)
    sqr_sum = lax.reduce_window(sq, np.float32(0), lax.add, window, (1, 1, 1, 1),
                                ((0, 0), (0, 0), (0, 0), (depth_radius, depth_radius)))
    return (x / jnp.power(bias + alpha * sqr_sum, beta)).astype(x.dtype)


# ------------------------------------------------------------------------------------------------
# Cross entropies
# ------------------------------------------------------------------------------------------------
@jax.custom_vjp
def _softmax_xent(features, labels):
    return _softmax_xent_fwd(features, labels)[0]


def _softmax_xent_fwd(features, labels):
    log_p = jax.nn.log_softmax(features, axis=-1)
    loss = -jnp.sum(labels * log_p, axis=-1)
    backprop = jnp.exp(log_p) - labels
    # The residual's labels are a constant to a second-order pass: TF's gradient reads the op's backprop
    # output, whose own gradient (grad_grad) goes to the logits only, so d(d_logits)/d(labels) is 0 in TF.
    return (loss, backprop), (log_p, jnp.exp(log_p) - lax.stop_gradient(labels))


def _softmax_xent_bwd(res, cotangents):
    # TF's registered gradient: d/dlogits = g * (softmax - labels) (assumes rows of labels sum to 1),
    # plus the softmax Jacobian applied to the backprop output's cotangent; d/dlabels = -g * log_softmax.
    log_p, backprop = res
    g_loss, g_backprop = cotangents
    p = jnp.exp(log_p)
    d_features = g_loss[:, None] * backprop
    d_features = d_features + (g_backprop - jnp.sum(g_backprop * p, axis=-1, keepdims=True)) * p
    return d_features.astype(log_p.dtype), (-g_loss[:, None] * log_p).astype(log_p.dtype)


_softmax_xent.defvjp(_softmax_xent_fwd, _softmax_xent_bwd)


@lowers("SoftmaxCrossEntropyWithLogits")
def softmax_xent(features, labels, **_):
    try:
        shape = np.broadcast_shapes(np.shape(features), np.shape(labels))
    except ValueError:
        raise invalid(f"logits and labels must be broadcastable: logits_size={shape_str(np.shape(features))} "
                      f"labels_size={shape_str(np.shape(labels))}") from None
    return _softmax_xent(jnp.broadcast_to(features, shape), jnp.broadcast_to(labels, shape))


@lowers("SparseSoftmaxCrossEntropyWithLogits", context=True)
def sparse_softmax_xent(ctx, op, features, labels):
    if np.ndim(features) != 2:
        raise invalid(f"logits must be 2-D, but got shape {shape_str(np.shape(features))}")
    if np.ndim(labels) != 1:
        raise invalid(f"labels must be 1-D, but got shape {shape_str(np.shape(labels))}")
    if np.shape(features)[0] != np.shape(labels)[0]:
        raise invalid(f"logits and labels must have the same first dimension, got logits shape "
                      f"{shape_str(np.shape(features))} and labels shape {shape_str(np.shape(labels))}")
    classes = features.shape[-1]
    in_range = (labels >= 0) & (labels < classes)
    if ctx.traced:
        message = f"Received a label value which is outside the valid range of [0, {classes})."
    else:
        bad = np.asarray(labels)[~np.asarray(in_range)]
        values = " ".join(str(v) for v in np.asarray(labels).reshape(-1))
        message = (f"Received a label value of {bad[0] if bad.size else ''} which is outside the valid range of "
                   f"[0, {classes}).  Label values: {values}")
    ctx.check(in_range, errors.InvalidArgumentError, message, op)
    log_p = jax.nn.log_softmax(features, axis=-1)
    onehot = jax.nn.one_hot(labels, classes, dtype=features.dtype)
    loss = -jnp.sum(onehot * log_p, axis=-1)
    return loss, jnp.exp(log_p) - onehot


# ------------------------------------------------------------------------------------------------
# Convolution and pooling
# ------------------------------------------------------------------------------------------------
def _spatial(values, data_format):
    return tuple(values[2:4]) if data_format.startswith("NC") else tuple(values[1:3])


def _padding(padding, explicit_paddings, data_format):
    if padding != "EXPLICIT":
        return padding
    pairs = [tuple(explicit_paddings[2 * i:2 * i + 2]) for i in range(4)]
    return _spatial(pairs, data_format)


def _check_conv(x, w, strides, padding, dilations, fmt) -> None:
    """TF's Conv2D kernel checks (conv_ops.cc): ranks, depths, groups, non-negative output sizes."""
    if np.ndim(x) != 4:
        raise invalid(f"input must be 4-dimensional{shape_str(np.shape(x))}")
    if np.ndim(w) != 4:
        raise invalid(f"filter must be 4-dimensional: {shape_str(np.shape(w))}")
    depth, filter_depth, out_depth = np.shape(x)[fmt.index("C")], np.shape(w)[2], np.shape(w)[3]
    if filter_depth == 0 or depth % filter_depth:
        raise invalid(f"input depth must be evenly divisible by filter depth: {depth} vs {filter_depth}")
    groups = depth // filter_depth
    if out_depth % groups:
        raise invalid(f"output depth must be evenly divisible by number of groups: {out_depth} vs {groups}")
    if padding == "VALID":
        for size, k, stride, rate in zip(_spatial(np.shape(x), fmt), np.shape(w)[:2], _spatial(strides, fmt),
                                         _spatial(dilations, fmt)):
            _check_valid_window(size, (k - 1) * rate + 1, stride)


def _check_valid_window(size: int, effective: int, stride: int) -> None:
    """TF's GetWindowedOutputSize for VALID padding (C++ division truncates toward zero): a window larger
    than the input by a stride or more is an error, not an empty output."""
    out = int((size - effective + stride) / stride)
    if out < 0:
        raise invalid(f"Computed output size would be negative: {out} [input_size: {size}, "
                      f"effective_filter_size: {effective}, stride: {stride}]")


def _conv(x, w, strides, padding, dilations, data_format, explicit_paddings=()):
    fmt = "NCHW" if data_format.startswith("NC") else "NHWC"
    _check_conv(x, w, strides, padding, dilations, fmt)
    groups = x.shape[fmt.index("C")] // w.shape[2]
    return lax.conv_general_dilated(
        x, w, window_strides=_spatial(strides, fmt), padding=_padding(padding, explicit_paddings, fmt),
        rhs_dilation=_spatial(dilations, fmt), dimension_numbers=(fmt, "HWIO", fmt),
        feature_group_count=groups, preferred_element_type=x.dtype)


@lowers("Conv2D")
def conv2d(x, w, *, strides, padding, data_format="NHWC", dilations=(1, 1, 1, 1), explicit_paddings=(), **_):
    return _conv(x, w, strides, padding, dilations, data_format, explicit_paddings)


@lowers("DepthwiseConv2dNative")
def depthwise_conv2d(x, w, *, strides, padding, data_format="NHWC", dilations=(1, 1, 1, 1),
                     explicit_paddings=(), **_):
    fh, fw, cin, mult = w.shape
    depth = np.shape(x)[1 if data_format.startswith("NC") else -1]
    if cin != depth:
        raise invalid(f"input depth must be evenly divisible by filter depth: {depth} vs {cin}")
    return _conv(x, jnp.reshape(w, (fh, fw, 1, cin * mult)), strides, padding, dilations, data_format,
                 explicit_paddings)


def _check_conv_backprop_input(sizes, w, dy, strides, padding, dilations, data_format, explicit_paddings):
    """TF's ConvBackpropComputeDimensionsV2 checks (label Conv2DCustomBackpropInput, the CPU kernel)."""
    label = "Conv2DCustomBackpropInput"
    if len(sizes) != 4:
        raise invalid(f"input_sizes must be 4-dimensional, got: {len(sizes)}")
    for name, x in (("filter", w), ("out_backprop", dy)):
        if np.ndim(x) != 4:
            raise invalid(f"{label}: {name} must be 4-dimensional")
    fmt = "NCHW" if data_format.startswith("NC") else "NHWC"
    n, c = fmt.index("N"), fmt.index("C")
    if sizes[n] != np.shape(dy)[n]:
        raise invalid(f"{label}: input and out_backprop must have the same batch size.  Input batch: {sizes[n]}, "
                      f"outbackprop batch: {np.shape(dy)[n]}, batch_dim: {n}")
    if np.shape(w)[2] <= 0 or sizes[c] % np.shape(w)[2]:
        raise invalid(f"{label}: input depth must be evenly divisible by filter depth")
    if np.shape(w)[3] != np.shape(dy)[c]:
        raise invalid(f"{label}: filter and out_backprop must have the same out_depth")
    expected = jax.eval_shape(lambda x: _conv(x, w, strides, padding, dilations, data_format, explicit_paddings),
                              jax.ShapeDtypeStruct(sizes, dy.dtype)).shape
    for i, (actual, computed) in enumerate(zip(_spatial(np.shape(dy), fmt), _spatial(expected, fmt))):
        if actual != computed:
            raise invalid(f"{label}: Size of out_backprop doesn't match computed: actual = {actual}, computed = "
                          f"{computed} spatial_dim: {fmt.index('HW'[i])} input: {_spatial(sizes, fmt)[i]} filter: "
                          f"{np.shape(w)[i]} output: {actual} stride: {_spatial(strides, fmt)[i]} dilation: "
                          f"{_spatial(dilations, fmt)[i]}")


@lowers("Conv2DBackpropInput")
def conv2d_backprop_input(input_sizes, w, dy, *, strides, padding, data_format="NHWC",
                          dilations=(1, 1, 1, 1), explicit_paddings=(), **_):
    try:
        sizes = tuple(int(d) for d in np.asarray(input_sizes).reshape(-1))
    except (TypeError, jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
        raise NotImplementedError("tf.nn.conv2d_transpose: graphcompat needs `output_shape` to be known "
                                  "while building the graph (a constant)") from None
    _check_conv_backprop_input(sizes, w, dy, strides, padding, dilations, data_format, explicit_paddings)
    # The transpose of the forward convolution, exactly: the VJP of conv2d w.r.t. its input.
    _, vjp = jax.vjp(lambda x: _conv(x, w, strides, padding, dilations, data_format, explicit_paddings),
                     jnp.zeros(sizes, dy.dtype))
    return vjp(dy)[0]


def _window(values, data_format):
    return tuple(int(v) for v in values)


def _pool_rank(x) -> None:
    if np.ndim(x) not in (4, 5):
        raise invalid("Input must be 4 or 5-dimensional")


def _check_pool(x, ksize, strides, padding: str, data_format: str) -> None:
    """TF's PoolParameters (pooling_ops_common.cc): the rank, then each spatial window's output size, rows
    before columns (a VALID window past the input's edge is TF's error; XLA would give an empty output)."""
    _pool_rank(x)
    if padding == "VALID" and np.ndim(x) == 4:
        fmt = "NCHW" if data_format.startswith("NC") else "NHWC"
        for size, k, stride in zip(_spatial(np.shape(x), fmt), _spatial(ksize, fmt), _spatial(strides, fmt)):
            _check_valid_window(size, k, stride)


def tf_max_pool(x, ksize, strides, padding: str):
    """TF's CPU max pooling (MaxPool, MaxPool3D): each window's maximum starting from the type's lowest
    value, where a NaN never wins a comparison: NaNs are skipped, and a window of NaNs and -infs gives the
    lowest finite value (-3.4e38 for float32), not NaN or -inf."""
    x = jnp.asarray(x)
    floating = jnp.issubdtype(x.dtype, jnp.floating)
    lowest = np.asarray(jnp.finfo(x.dtype).min if floating else np.iinfo(x.dtype).min, x.dtype)
    if floating:
        x = jnp.where(jnp.isnan(x), lowest, x)
    # The init value must stay a concrete numpy scalar (not a traced jnp value) so JAX recognises the
    # max monoid and uses its differentiable reduce_window_max: -inf, then the floor at `lowest`.
    init = np.asarray(-np.inf if floating else lowest, x.dtype)
    pooled = lax.reduce_window(x, init, lax.max, tuple(ksize), tuple(strides), padding)
    return jnp.maximum(pooled, lowest) if floating else pooled


@lowers("MaxPool")
def max_pool(x, *, ksize, strides, padding, data_format="NHWC", **_):
    _check_pool(x, ksize, strides, padding, data_format)
    return tf_max_pool(x, ksize, strides, padding)


@lowers("AvgPool")
def avg_pool(x, *, ksize, strides, padding, data_format="NHWC", **_):
    _check_pool(x, ksize, strides, padding, data_format)
    total = lax.reduce_window(x, np.zeros((), x.dtype), lax.add, tuple(ksize), tuple(strides), padding)
    if padding == "VALID":
        return total / np.asarray(np.prod(ksize), x.dtype)
    # SAME: TF divides by the number of real (unpadded) elements in each window.
    ones = np.ones([d if k > 1 else 1 for d, k in zip(x.shape, ksize)], np.float32)
    counts = lax.reduce_window(ones, np.float32(0), lax.add, tuple(ksize), tuple(strides), padding)
    return (total / counts.astype(x.dtype)).astype(x.dtype)


# ------------------------------------------------------------------------------------------------
# Batch normalization
# ------------------------------------------------------------------------------------------------
@lowers("FusedBatchNormV3")
def fused_batch_norm(x, scale, offset, mean, variance, *, epsilon=1e-4, exponential_avg_factor=1.0,
                     data_format="NHWC", is_training=True, **_):
    if np.ndim(x) != 4:
        raise invalid(f"input must be 4-dimensional{shape_str(np.shape(x))}")
    channels = np.shape(x)[1 if data_format.startswith("NC") else -1]
    for name, v in (("scale", scale), ("offset", offset)) + (() if is_training else (("mean", mean),
                                                                                     ("variance", variance))):
        if np.ndim(v) != 1:
            raise invalid(f"{name} must be 1-dimensional{shape_str(np.shape(v))}")
        if np.size(v) != channels:
            prefix = "" if name in ("scale", "offset") else "When is_training=false, "
            raise invalid(f"{prefix}{name} must have the same number of elements as the channels of x, got "
                          f"{np.size(v)} and {channels}")
    axes = (0, 2, 3) if data_format.startswith("NC") else (0, 1, 2)
    shape = (1, -1, 1, 1) if data_format.startswith("NC") else (1, 1, 1, -1)
    xf = x.astype(jnp.float32)
    if is_training:
        batch_mean = jnp.mean(xf, axis=axes)
        batch_var = jnp.mean(jnp.square(xf - jnp.reshape(batch_mean, shape)), axis=axes)
        n = int(np.prod([x.shape[a] for a in axes]))
        unbiased = batch_var * (n / max(n - 1, 1))
        use_mean, use_var = batch_mean, batch_var
        if exponential_avg_factor != 1.0:
            f = exponential_avg_factor
            out_mean = (1 - f) * mean + f * batch_mean
            out_var = (1 - f) * variance + f * unbiased
        else:
            out_mean, out_var = batch_mean, unbiased
    else:
        use_mean, use_var = mean, variance
        out_mean, out_var = mean, variance
        batch_var = variance
    inv = lax.rsqrt(use_var + epsilon) * scale
    y = (xf - jnp.reshape(use_mean, shape)) * jnp.reshape(inv, shape) + jnp.reshape(offset, shape)
    # TF's FusedBatchNorm gradient reads the gradient of y only: what flows back from the batch mean and
    # variance outputs (and the reserve spaces) is dropped, so they are constants to a gradient here too.
    stats = [lax.stop_gradient(v) for v in (out_mean, out_var, use_mean, lax.rsqrt(batch_var + epsilon))]
    return (y.astype(x.dtype), *stats, jnp.zeros((0,), jnp.float32))


# ------------------------------------------------------------------------------------------------
# Top-k
# ------------------------------------------------------------------------------------------------
@lowers("InTopKV2")
def in_top_k(predictions, targets, k, **_):
    if np.ndim(predictions) != 2:
        raise invalid("predictions must be 2-dimensional")
    if np.ndim(targets) != 1:
        raise invalid("targets must be 1-dimensional")
    if np.shape(predictions)[0] != np.shape(targets)[0]:
        raise invalid(f"First dimension of predictions {np.shape(predictions)[0]} must match length of targets "
                      f"{np.shape(targets)[0]}")
    classes = predictions.shape[-1]
    valid = (targets >= 0) & (targets < classes)
    safe = jnp.where(valid, targets, 0).astype(jnp.int32)
    target_pred = jnp.take_along_axis(predictions, safe[:, None], axis=1)[:, 0]
    larger = jnp.sum(predictions > target_pred[:, None], axis=1)
    # TF's kernel "cannot say" (False) for a row with any non-finite prediction, not only the target's.
    finite_row = jnp.all(jnp.isfinite(predictions), axis=1)
    return valid & finite_row & (larger < k)


# ------------------------------------------------------------------------------------------------
# Candidate sampling
# ------------------------------------------------------------------------------------------------
def _log_uniform(range_max: int, dtype):
    log_range = float(np.log(range_max + 1))

    def draw(key, n):
        u = jax.random.uniform(key, (n,), jnp.float32)
        value = jnp.exp(u * np.float32(log_range)).astype(dtype) - 1
        return jnp.clip(value, 0, range_max - 1)

    def prob(ids):
        ids = ids.astype(jnp.float32)
        return (jnp.log1p(1.0 / (ids + 1.0)) / np.float32(log_range)).astype(jnp.float32)
    return draw, prob


def _uniform(range_max: int, dtype):
    def draw(key, n):
        return jax.random.randint(key, (n,), 0, range_max, dtype)

    def prob(ids):
        return jnp.full(jnp.shape(ids), 1.0 / range_max, jnp.float32)
    return draw, prob


def _first_distinct(comb, s: int):
    """The first `s` distinct values of `comb` (-1 marks an empty slot) in order, padded with -1; how many
    distinct values it holds; and the position of the s-th one (meaningful when there are s).

    A pairwise comparison of a few hundred values marks each value's first occurrence, and a running count
    of those gives every first occurrence its slot: no sort or top_k, which cost several times more than
    the whole comparison on a CPU.
    """
    n = comb.shape[0]
    pos = jnp.arange(n, dtype=jnp.int32)
    earlier = pos[None, :] < pos[:, None]
    first = (comb >= 0) & ~jnp.any((comb[:, None] == comb[None, :]) & earlier, axis=1)
    count = jnp.cumsum(first, dtype=jnp.int32)  # distinct values among comb[:p + 1]
    slot = jnp.where(first & (count <= s), count - 1, s)  # slot s is out of range: dropped
    buf = jnp.full((s,), -1, comb.dtype).at[slot].set(comb, mode="drop", unique_indices=True)
    return buf, count[-1], jnp.sum(count < s, dtype=jnp.int32)


def _draw_unique(key, num_sampled: int, draw):
    """The first `num_sampled` distinct values of a stream of draws, and how many draws that took
    (TF's `num_tries`).

    TF's samplers reject duplicates one draw at a time; here a chunk of draws is deduplicated at once and
    another chunk is drawn only while fewer than `num_sampled` distinct values were found. The first
    chunk is sized so that it almost always suffices; the loop for the rare remainder sits behind a
    `cond`, which costs less than a `while_loop` whose condition is checked on every run.
    """
    s = num_sampled
    k = s + max(s // 2, 16)  # log-uniform over a large range needs ~1.25 s draws for s distinct
    key, sub = jax.random.split(key)
    buf, total, last = _first_distinct(draw(sub, k), s)
    state = (buf, jnp.minimum(total, s), jnp.where(total >= s, last + 1, k), key)

    def more(state):
        buf, _, tries, key = state
        key, sub = jax.random.split(key)
        buf, total, last = _first_distinct(jnp.concatenate([buf, draw(sub, k)]), s)
        # the s-th distinct value sits at `last` of [buffer (s slots), new draws]
        return buf, jnp.minimum(total, s), tries + jnp.where(total >= s, last - s + 1, k), key

    buf, _, tries, _ = lax.cond(state[1] < s, lambda st: lax.while_loop(lambda st: st[1] < s, more, st),
                                lambda st: st, state)
    return buf.astype(jnp.int64), tries


def _fixed_unigram(weights: np.ndarray):
    """FixedUnigramSampler over float32 weights (already distorted; ids outside the shard are not in it)."""
    total = np.cumsum(weights, dtype=np.float32)[-1]  # the kernel's running float sum
    return _fixed_unigram_from(jnp.asarray(weights, jnp.float32), jnp.float32(total))


def _fixed_unigram_from(weights, total=None):
    """Draw and probability functions of the unigram distribution `weights` / `total` (default: their sum)."""
    total = jnp.sum(weights) if total is None else total
    logits = jnp.log(weights)
    probs = (weights / total).astype(jnp.float32)

    def draw(key, n):
        return jax.random.categorical(key, logits, shape=(n,)).astype(jnp.int32)

    def prob(ids):
        inside = (ids >= 0) & (ids < probs.shape[0])
        return jnp.where(inside, probs[jnp.clip(ids, 0, probs.shape[0] - 1)], jnp.float32(0))
    return draw, prob


_unigram_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _unigram_weights(op) -> bytes:
    """The op's weights as float32 bytes (the sampler cache's key), computed once per op: the vocabulary
    file is read again only when it changed (its size or modification time)."""
    vocab_file = op.attrs["vocab_file"]
    version = _file_version(vocab_file) if vocab_file else None
    cached = _unigram_cache.get(op)
    if cached is None or cached[0] != version:
        cached = _unigram_cache[op] = (version, _read_unigram_weights(op).tobytes())
    return cached[1]


def _file_version(path: str):
    try:
        info = os.stat(path)
    except OSError:
        return None  # reading it raises TF's error
    return info.st_size, info.st_mtime_ns


def _read_unigram_weights(op) -> np.ndarray:
    """The kernel's weights: reserved ids of this shard at 0, then each unigram (or vocabulary line's last
    field) of this shard raised to `distortion`, in float32; their count must equal range_max."""
    attrs = op.attrs
    vocab_file, unigrams = attrs["vocab_file"], list(attrs["unigrams"])
    if not vocab_file and not unigrams:
        raise errors.InvalidArgumentError(None, op, "Must provide either vocab_file or unigrams.")
    if vocab_file and unigrams:
        raise errors.InvalidArgumentError(None, op, "Must only provide one of vocab_file and unigrams.")
    shards, shard, distortion = int(attrs["num_shards"]), int(attrs["shard"]), np.float32(attrs["distortion"])
    weights = [np.float32(0)] * sum(1 for i in range(int(attrs["num_reserved_ids"])) if i % shards == shard)
    if vocab_file:
        try:
            with open(vocab_file, "r", encoding="utf-8") as f:
                lines = f.read().split("\n")
        except FileNotFoundError:
            raise errors.NotFoundError(None, op, f"{vocab_file}; No such file or directory") from None
        values = []
        for line in (lines[:-1] if lines and lines[-1] == "" else lines):
            try:
                values.append((line, np.float32(line.split(",")[-1])))
            except ValueError:
                values.append((line, None))
    else:
        values = [(None, np.float32(u)) for u in unigrams]
    word_id = len(weights)  # as the kernel counts: from the number of reserved ids it kept
    for line, w in values:
        if word_id % shards == shard:
            if w is None:
                raise errors.InvalidArgumentError(None, op, f"Wrong vocabulary format at line: {line}")
            weights.append(philox_sampling.powf(w, distortion)[()])   # glibc's powf, as the kernel's std::pow
        word_id += 1
    range_max = int(attrs["range_max"])
    if len(weights) != range_max:
        raise errors.InvalidArgumentError(None, op, f"range is {range_max} must be equal to weights size  "
                                                    f"{len(weights)}")
    return np.asarray(weights, np.float32)


@functools.lru_cache(maxsize=None)
def _sampler_fn(kind: str, num_sampled: int, range_max: int, unique: bool, weights: bytes = b""):
    """One jitted sampler per configuration: eager first runs reuse its executable instead of
    re-compiling the dedup loop, and under the plan's jit it simply inlines."""
    dtype = jnp.int32 if range_max < 2 ** 31 - 1 else jnp.int64  # int32 compiles and runs faster
    if kind == "FixedUnigramCandidateSampler":
        draw, prob = _fixed_unigram(np.frombuffer(weights, np.float32))
    else:
        draw, prob = (_log_uniform if kind == "LogUniformCandidateSampler" else _uniform)(range_max, dtype)

    def sample(key, true_classes):
        return _sample(key, true_classes, draw, prob, num_sampled, unique)
    return jax.jit(sample)


def _sample(key, true_classes, draw, prob, num_sampled: int, unique: bool):
    """(sampled, true expected counts, sampled expected counts) of one RangeSampler draw."""
    if unique:
        sampled, tries = _draw_unique(key, num_sampled, draw)
        tries = tries.astype(jnp.float32)

        def expected(ids):  # TF's ExpectedCountHelper: P(id drawn at least once in `tries` draws),
            p = prob(ids)   # and p * num_sampled when no draw was rejected (tries == num_sampled)
            return jnp.where(tries == num_sampled, p * np.float32(num_sampled),
                             -jnp.expm1(tries * jnp.log1p(-p)))
    else:
        sampled = draw(key, num_sampled).astype(jnp.int64)

        def expected(ids):
            return prob(ids) * np.float32(num_sampled)
    return sampled, expected(true_classes), expected(sampled)


@functools.lru_cache(maxsize=None)
def _learned_sampler_fn(num_sampled: int, range_max: int, unique: bool):
    """TF's UnigramSampler: weights are counts (each class starts at 1), drawn from and then raised by one
    for every true class of the batch."""
    def sample(key, true_classes, counts):
        draw, prob = _fixed_unigram_from(counts.astype(jnp.float32))
        out = _sample(key, true_classes, draw, prob, num_sampled, unique)
        ids = jnp.reshape(true_classes, (-1,))
        return out + (counts.at[ids].add(1, mode="drop"),)
    return jax.jit(sample)


def _tf_range_sampler(kind: str, range_max: int, weights: bytes, counts=None):
    """The kernel's RangeSampler for `kind` (lowering/philox_sampling.py)."""
    if kind == "UniformCandidateSampler":
        return philox_sampling.UniformSampler(range_max)
    if kind == "LogUniformCandidateSampler":
        return philox_sampling.LogUniformSampler(range_max)
    if kind == "LearnedUnigramCandidateSampler":
        return philox_sampling.UnigramSampler(counts)
    return _fixed_unigram_sampler(weights)


@functools.lru_cache(maxsize=16)
def _fixed_unigram_sampler(weights: bytes):
    return philox_sampling.FixedUnigramSampler(np.frombuffer(weights, np.float32))


@lowers("LogUniformCandidateSampler", "UniformCandidateSampler", "FixedUnigramCandidateSampler",
        "LearnedUnigramCandidateSampler", context=True)
def candidate_sampler(ctx, op, true_classes):
    """TF's numbers: the kernel's SimplePhilox draws (rejections and all) from this run's Philox stream,
    which reserves 2048 * num_sampled words a run (lowering/philox_sampling.py); on the host op by op. In
    compiled plans, LogUniform, Uniform and FixedUnigram draws are computed in the plan
    (lowering/sampler_device.py, the same bits) and Learned ones through one host callback. Where compiled
    plans may not call back (GPU/TPU, sharded steps), the jitted JAX samplers above draw TF's
    distributions from a key derived from that stream."""
    attrs = op.attrs
    num_sampled, range_max, unique = int(attrs["num_sampled"]), int(attrs["range_max"]), bool(attrs["unique"])
    learned = op.type == "LearnedUnigramCandidateSampler"
    if learned and range_max >= 2 ** 31 - 1:
        raise errors.InvalidArgumentError(None, op, f"range_max {range_max} must be less than 2147483647")
    weights = _unigram_weights(op) if op.type == "FixedUnigramCandidateSampler" else b""
    if np.ndim(true_classes) != 2:
        raise errors.InvalidArgumentError(None, op, "true_classes must be a matrix")
    if np.shape(true_classes)[1] != int(attrs["num_true"]):
        raise errors.InvalidArgumentError(None, op, f"true_classes must have num_true columns, expected: "
                                                    f"{np.shape(true_classes)[1]} was: {int(attrs['num_true'])}")
    if unique and num_sampled > range_max:
        raise errors.InvalidArgumentError(None, op, "Sampler's range is too small.")
    _require_true_classes_in_range(true_classes, range_max)
    key, counter = ctx.philox_stream(op, philox_sampling.candidate_sampler_calls(num_sampled))
    state_key = ("unigram_counts", op.name)
    counts = ctx.read_or_init(state_key, lambda: np.ones(range_max, np.int64)) if learned else None
    if ctx.traced and not philox._host_roundings_in_compiled_plans():
        jax_key = philox_sampling.jax_key_from_philox(key, counter)
        if learned:
            *out, counts = _learned_sampler_fn(num_sampled, range_max, unique)(jax_key, true_classes, counts)
            ctx.write(state_key, counts)
            return tuple(out)
        return _sampler_fn(op.type, num_sampled, range_max, unique, weights)(jax_key, true_classes)

    def draw(key, counter, true_classes, *counts):
        # a compiled run whose true classes fail the range check above still calls back before it fails:
        # keep its (discarded) draw in range
        true_classes = np.clip(true_classes, 0, range_max - 1)
        sampler = _tf_range_sampler(op.type, range_max, weights, *counts)
        out = philox_sampling.sample_batch(sampler, philox_sampling.WordStream(key, counter), num_sampled,
                                           unique, true_classes)
        return out + ((sampler.updated(true_classes),) if learned else ())

    batch = tuple(np.shape(true_classes))
    specs = [((num_sampled,), np.int64), (batch, np.float32), ((num_sampled,), np.float32)]
    if learned:
        specs.append(((range_max,), np.int64))

    def on_host():
        return tuple(philox_sampling.host_draw(draw, specs, key, counter, true_classes,
                                               *(() if counts is None else (counts,))))
    if ctx.traced and op.type in sampler_device.KINDS and range_max > 0 and glibc_float.matches_libm():
        # the same numbers computed in the plan; the host redoes the rare draws the device cannot
        # vouch for (lowering/sampler_device.py), so no callback runs in the common case
        out, flagged = sampler_device.draw(op.type, range_max, num_sampled, unique, key, counter, true_classes,
                                           weights)
        return tuple(jax.lax.cond(flagged, on_host, lambda: tuple(out)))
    out = on_host()
    if learned:
        ctx.write(state_key, out[3])
    return tuple(out[:3])


def _require_true_classes_in_range(true_classes, range_max: int) -> None:
    """The sampler kernels' check of every true class against the sampler's range (a run-time check)."""
    in_range = (true_classes >= 0) & (true_classes < range_max)

    def message():
        bad = np.asarray(true_classes)[~np.asarray(in_range)][0]
        return f"`true_candidate` out of range [0, {range_max}), received {bad}"
    require(in_range, errors.InvalidArgumentError, message)


@lowers("ComputeAccidentalHits", host=True)
def compute_accidental_hits(true_classes, sampled_candidates, *, num_true, **_):
    """TF's ComputeAccidentalHitsOp: for each row i and true class j (in order), the position of that class
    among the sampled candidates (the last position when a candidate repeats), weight -FLT_MAX."""
    true_classes, sampled = np.asarray(true_classes), np.asarray(sampled_candidates)
    if true_classes.ndim != 2 or true_classes.shape[1] != num_true:
        raise errors.InvalidArgumentError(None, None, "true_candidates must be a batch_size * num_true matrix")
    if sampled.ndim != 1:
        raise errors.InvalidArgumentError(None, None, "sampled_candidates must be a vector, which is typically "
                                          "an output from CandidateSampler")
    position = {int(c): k for k, c in enumerate(sampled)}
    hits = [(i, position[int(c)]) for i, row in enumerate(true_classes) for c in row if int(c) in position]
    indices = np.array([i for i, _ in hits], np.int32)
    ids = np.array([k for _, k in hits], np.int64)
    return indices, ids, np.full(len(hits), -np.finfo(np.float32).max, np.float32)


@lowers("AllCandidateSampler")
def all_candidate_sampler(true_classes, *, num_true, num_sampled, **_):
    """TF's AllSampler over range num_sampled: the candidates 0..num_sampled-1 in order, every expected
    count 1 (`unique` and the seeds change nothing)."""
    rows, cols = true_classes.shape
    if cols != num_true:
        raise errors.InvalidArgumentError(None, None, f"true_classes must have num_true columns, expected: {cols} "
                                          f"was: {num_true}")
    _require_true_classes_in_range(true_classes, num_sampled)
    return (jnp.arange(num_sampled, dtype=jnp.int64), jnp.ones((rows, cols), jnp.float32),
            jnp.ones((num_sampled,), jnp.float32))
