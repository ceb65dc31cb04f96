"""Lowerings of the gradient kernels in graphcompat/ops/grad_ops.py.

Elementwise ones are TF's formulas (tensorflow/core/kernels/cwise_ops*.h, relu_op_functor.h). The others
are the vector-Jacobian product of the forward op's own lowering rule (`_vjp`): MaxPoolGrad is the VJP of
MaxPool at `orig_input`, Conv2DBackpropFilter the VJP of Conv2D with respect to its filter, and so on.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.registry import RULES, lowers


def _vjp(op_type: str, primals: list, wrt: list, cotangent, **attrs):
    """Cotangents of `primals[i]` (i in `wrt`) for `op_type`'s lowering at `primals` (its attrs `attrs`)."""
    forward = RULES[op_type].fn

    def f(*diff):
        args = list(primals)
        for i, v in zip(wrt, diff):
            args[i] = v
        return forward(*args, **attrs)
    _, pullback = jax.vjp(f, *[jnp.asarray(primals[i]) for i in wrt])
    return pullback(cotangent)


def _static_shape(value, what: str) -> tuple:
    try:
        return tuple(int(d) for d in np.asarray(value).reshape(-1))
    except (TypeError, jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
        raise NotImplementedError(f"{what} must be known when the op runs (a run-time shape)") from None


# --- elementwise (gradients, features|outputs) and (y, dy) ------------------------------------------
@lowers("ReluGrad")
def relu_grad(g, f, **_):
    return jnp.where(f > 0, g, jnp.zeros_like(g))


@lowers("Relu6Grad")
def relu6_grad(g, f, **_):
    return jnp.where((f > 0) & (f < 6), g, jnp.zeros_like(g))


@lowers("EluGrad")
def elu_grad(g, outputs, **_):
    return jnp.where(outputs > 0, g, g * (outputs + 1))


@lowers("SeluGrad")
def selu_grad(g, outputs, **_):
    scale, scale_alpha = 1.0507009873554804934193349852946, 1.7580993408473768599402175208123
    return jnp.where(outputs > 0, g * scale, g * (outputs + scale_alpha)).astype(g.dtype)


@lowers("LeakyReluGrad")
def leaky_relu_grad(g, f, *, alpha=0.2, **_):
    return jnp.where(f > 0, g, g * np.asarray(alpha, g.dtype))


@lowers("SoftplusGrad")
def softplus_grad(g, f, **_):
    return g * jax.nn.sigmoid(f)


@lowers("SoftsignGrad")
def softsign_grad(g, f, **_):
    return g / jnp.square(1 + jnp.abs(f))


@lowers("TanhGrad")
def tanh_grad(y, dy, **_):
    return dy * (1 - y * jnp.conj(y) if jnp.iscomplexobj(y) else 1 - y * y)


@lowers("SigmoidGrad")
def sigmoid_grad(y, dy, **_):
    return dy * y * (1 - y)


@lowers("SqrtGrad")
def sqrt_grad(y, dy, **_):
    return dy * np.asarray(0.5, y.dtype) / y


@lowers("RsqrtGrad")
def rsqrt_grad(y, dy, **_):
    return dy * np.asarray(-0.5, y.dtype) * y * y * y


@lowers("ReciprocalGrad", "InvGrad")
def reciprocal_grad(y, dy, **_):
    return -dy * y * y


@lowers("Snapshot")
def snapshot(x, **_):
    return x


# --- reductions of broadcasting and concatenation ---------------------------------------------------
@lowers("BiasAddGrad")
def bias_add_grad(g, *, data_format="NHWC", **_):
    channel = 1 if data_format.startswith("NC") and g.ndim >= 3 else g.ndim - 1
    return jnp.sum(g, axis=tuple(a for a in range(g.ndim) if a != channel))


@lowers("BroadcastGradientArgs")
def broadcast_gradient_args(s0, s1, **_):
    """The axes each input was broadcast along, which its gradient sums over (TF's BCast): none when the
    shapes are equal, else every axis where the (1-padded) shape has size 1."""
    a, b = _static_shape(s0, "BroadcastGradientArgs' shapes"), _static_shape(s1, "BroadcastGradientArgs' shapes")
    dtype = np.asarray(s0).dtype
    if a == b:
        return np.zeros(0, dtype), np.zeros(0, dtype)
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    for x, y in zip(pa, pb):
        if x != y and x != 1 and y != 1:
            raise errors.InvalidArgumentError(None, None, f"Incompatible shapes: [{','.join(map(str, a))}] vs. "
                                              f"[{','.join(map(str, b))}]")
    return (np.asarray([i for i, x in enumerate(pa) if x == 1], dtype),
            np.asarray([i for i, y in enumerate(pb) if y == 1], dtype))


@lowers("ConcatOffset")
def concat_offset(concat_dim, *shapes, **_):
    shapes = [np.asarray(_static_shape(s, "ConcatOffset's shapes")) for s in shapes]
    rank = len(shapes[0])
    axis = int(np.asarray(concat_dim)) % max(rank, 1)
    offsets, running = [], 0
    for s in shapes:
        offset = np.zeros(rank, np.asarray(s).dtype)
        offset[axis] = running
        running += int(s[axis])
        offsets.append(offset)
    return tuple(offsets)


@lowers("StridedSliceGrad")
def strided_slice_grad(shape, begin, end, strides, dy, **attrs):
    zeros = jnp.zeros(_static_shape(shape, "StridedSliceGrad's shape"), dy.dtype)
    return _vjp("StridedSlice", [zeros, begin, end, strides], [0], dy, **attrs)[0]


# --- convolutions, pools, batch norm: VJPs of the forward rules ---------------------------------------
@lowers("Conv2DBackpropFilter")
def conv2d_backprop_filter(x, filter_sizes, dy, **attrs):
    w = jnp.zeros(_static_shape(filter_sizes, "Conv2DBackpropFilter's filter_sizes"), dy.dtype)
    return _vjp("Conv2D", [x, w], [1], dy, **attrs)[0]


@lowers("Conv2DBackpropFilterV2")
def conv2d_backprop_filter_v2(x, w, dy, **attrs):
    # the V1 op with the filter's (static) shape in place of filter_sizes
    return conv2d_backprop_filter(x, np.asarray(np.shape(w), np.int32), dy, **attrs)


@lowers("Conv2DBackpropInputV2")
def conv2d_backprop_input_v2(x, w, dy, **attrs):
    from lowering.rules.nn import conv2d_backprop_input
    # the V1 op (with its size checks and error texts) with the input's shape in place of input_sizes
    return conv2d_backprop_input(np.asarray(np.shape(x), np.int32), w, dy, **attrs)


@lowers("DepthwiseConv2dNativeBackpropInput")
def depthwise_backprop_input(input_sizes, w, dy, **attrs):
    x = jnp.zeros(_static_shape(input_sizes, "DepthwiseConv2dNativeBackpropInput's input_sizes"), dy.dtype)
    return _vjp("DepthwiseConv2dNative", [x, w], [0], dy, **attrs)[0]


@lowers("DepthwiseConv2dNativeBackpropFilter")
def depthwise_backprop_filter(x, filter_sizes, dy, **attrs):
    w = jnp.zeros(_static_shape(filter_sizes, "DepthwiseConv2dNativeBackpropFilter's filter_sizes"), dy.dtype)
    return _vjp("DepthwiseConv2dNative", [x, w], [1], dy, **attrs)[0]


@lowers("MaxPoolGrad")
def max_pool_grad(orig_input, orig_output, grad, **attrs):
    return _vjp("MaxPool", [orig_input], [0], grad, **attrs)[0]


@lowers("MaxPoolGradV2")
def max_pool_grad_v2(orig_input, orig_output, grad, ksize, strides, **attrs):
    attrs = dict(attrs, ksize=_static_shape(ksize, "MaxPoolGradV2's ksize"),
                 strides=_static_shape(strides, "MaxPoolGradV2's strides"))
    return _vjp("MaxPool", [orig_input], [0], grad, **attrs)[0]


@lowers("AvgPoolGrad")
def avg_pool_grad(orig_input_shape, grad, **attrs):
    x = jnp.zeros(_static_shape(orig_input_shape, "AvgPoolGrad's orig_input_shape"), grad.dtype)
    return _vjp("AvgPool", [x], [0], grad, **attrs)[0]


@lowers("FusedBatchNormGradV3")
def fused_batch_norm_grad(dy, x, scale, mean, variance, reserve_3, *, epsilon=1e-4, data_format="NHWC",
                          is_training=True, **_):
    """Training: the VJP of batch normalisation with the batch's own statistics (recomputed from x, as
    the forward op computed them); inference: with the population mean/variance it was given."""
    offset = jnp.zeros_like(scale)
    attrs = {"epsilon": epsilon, "data_format": data_format, "is_training": bool(is_training)}
    forward = RULES["FusedBatchNormV3"].fn

    def y(x_, scale_, offset_):
        return forward(x_, scale_, offset_, mean, variance, **attrs)[0]
    _, pullback = jax.vjp(y, jnp.asarray(x), jnp.asarray(scale), offset)
    dx, dscale, doffset = pullback(jnp.asarray(dy))
    empty = jnp.zeros((0,), jnp.float32)
    return dx.astype(x.dtype), dscale, doffset, empty, empty
