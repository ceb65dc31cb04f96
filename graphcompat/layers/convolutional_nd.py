"""`tf.layers` 1-D and 3-D convolutions and poolings, separable convolutions: Conv1D, Conv3D,
Conv3DTranspose, SeparableConv1D, SeparableConv2D, Max/AveragePooling1D, Max/AveragePooling3D and their
functional forms — variables, scopes and ops as tf_keras' legacy_tf_layers build them (TF 2.21).
"""
from __future__ import annotations

from typing import Optional

from graphcompat import init_ops as _init
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.layers.base import InputSpec, Layer
from graphcompat.layers.convolutional import ConvWeights
from graphcompat.layers.core import get_activation, get_initializer
from graphcompat.nn import conv_nd as _conv_nd
from graphcompat.nn import nn_extra as _nnx
from graphcompat.nn import nn_ops as _nn
from graphcompat.ops import array_ops as _array


def _tuple(value, n: int, name: str) -> tuple:
    if isinstance(value, int):
        return (value,) * n
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {value}") from None
    if len(out) != n:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {value}")
    return out


def _padding(padding: str, causal_ok: bool = False) -> str:
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in ("valid", "same") and not (causal_ok and p == "causal"):
        raise ValueError(f"The `padding` argument must be a list/tuple or one of \"valid\", \"same\" (or "
                         f"\"causal\", only for `Conv1D). Received: {padding}")
    return p


def _channels_last(data_format: Optional[str]) -> bool:
    df = (data_format or "channels_last").lower()
    if df not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of \"channels_first\", \"channels_last\". "
                         f"Received: {data_format}")
    return df == "channels_last"


def _tf_format(channels_last: bool, rank: int) -> str:
    spatial = {1: "W", 2: "HW", 3: "DHW"}[rank]
    return f"N{spatial}C" if channels_last else f"NC{spatial}"


class _Conv(ConvWeights, Layer):
    """The N-D convolution layer of tf_keras (rank 1 or 3 here; Conv2D lives in convolutional.py)."""

    rank = 1

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate=1, activation=None, use_bias: bool = True,
                 kernel_initializer=None, bias_initializer=_init.zeros_initializer(), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 trainable: bool = True, name: Optional[str] = None, **kwargs):
        super().__init__(trainable=trainable, name=name, activity_regularizer=activity_regularizer, **kwargs)
        r = self.rank
        self.filters = int(filters)
        self.kernel_size = _tuple(kernel_size, r, "kernel_size")
        self.strides = _tuple(strides, r, "strides")
        self.padding = _padding(padding, causal_ok=(r == 1))
        self.channels_last = _channels_last(data_format)
        self.data_format = "channels_last" if self.channels_last else "channels_first"
        self.dilation_rate = _tuple(dilation_rate, r, "dilation_rate")
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = get_initializer(kernel_initializer)
        self.bias_initializer = get_initializer(bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.input_spec = InputSpec(ndim=r + 2)

    def _channel_axis(self) -> int:
        return -1 if self.channels_last else 1

    def _causal_pad(self, inputs):
        left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
        pads = [[0, 0], [left, 0], [0, 0]] if self.channels_last else [[0, 0], [0, 0], [left, 0]]
        from graphcompat.ops.indexing_ops import pad
        return pad(inputs, pads)

    def _convolve(self, inputs):
        if self.rank == 1:
            return _nn.conv1d(inputs, self.kernel, stride=list(self.strides),
                              padding="VALID" if self.padding == "causal" else self.padding.upper(),
                              data_format="NWC" if self.channels_last else "NCW",
                              dilations=list(self.dilation_rate), name="Conv1D")
        fmt = _tf_format(self.channels_last, 3)
        lead = [1] + list(self.strides) + [1] if self.channels_last else [1, 1] + list(self.strides)
        dil = [1] + list(self.dilation_rate) + [1] if self.channels_last else [1, 1] + list(self.dilation_rate)
        return _nnx.conv3d(inputs, self.kernel, strides=lead, padding=self.padding.upper(), data_format=fmt,
                           dilations=dil, name="Conv3D")

    def _add_bias(self, outputs):
        if self.rank == 1 and not self.channels_last:
            # tf_keras adds a rank-1 channels_first bias by reshape and add (no BiasAdd)
            return outputs + _array.reshape(self.bias, (1, self.filters, 1))
        return _nn.bias_add(outputs, self.bias, data_format=_tf_format(self.channels_last, self.rank))

    def call(self, inputs):
        if self.padding == "causal":
            inputs = self._causal_pad(inputs)
        outputs = self._convolve(inputs)
        if self.use_bias:
            outputs = self._add_bias(outputs)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


class Conv1D(_Conv):
    """`tf.layers.Conv1D`: kernel [k, in, filters]; 'causal' padding pads k-1 (dilated) steps on the left."""
    rank = 1


class Conv3D(_Conv):
    """`tf.layers.Conv3D`: kernel [kd, kh, kw, in, filters]."""
    rank = 3


def _deconv_length(size, k: int, s: int, padding: str, dilation: int = 1):
    k = k + (k - 1) * (dilation - 1)
    if padding == "valid":
        return size * s + max(k - s, 0)
    return size * s


class Conv3DTranspose(_Conv):
    """`tf.layers.Conv3DTranspose`: kernel [kd, kh, kw, filters, in] (Conv3DBackpropInputV2)."""
    rank = 3

    def __init__(self, filters: int, kernel_size, strides=(1, 1, 1), padding: str = "valid",
                 data_format: str = "channels_last", activation=None, use_bias: bool = True, kernel_initializer=None,
                 bias_initializer=_init.zeros_initializer(), kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable: bool = True,
                 name: Optional[str] = None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable,
                         name=name, **kwargs)

    def _kernel_shape(self, channels: int) -> list:
        return list(self.kernel_size) + [self.filters, channels]

    def _convolve(self, inputs):
        inputs = convert_to_tensor(inputs)
        shape = _array.shape(inputs)
        axes = (1, 2, 3) if self.channels_last else (2, 3, 4)
        static = inputs.shape.as_list()
        # like tf_keras: the output size from the (dynamic) input size, so any batch/spatial size works
        dims = [shape[a] * s + (max(k - s, 0) if self.padding == "valid" else 0)
                for a, k, s in zip(axes, self.kernel_size, self.strides)]
        out = [shape[0]] + dims + [self.filters] if self.channels_last else [shape[0], self.filters] + dims
        fmt = _tf_format(self.channels_last, 3)
        strides = [1] + list(self.strides) + [1] if self.channels_last else [1, 1] + list(self.strides)
        outputs = _nnx.conv3d_transpose(inputs, self.kernel, _array.stack(out), strides=strides,
                                        padding=self.padding.upper(), data_format=fmt, name="conv3d_transpose")
        sdims = [None if static[a] is None else _deconv_length(static[a], k, s, self.padding)
                 for a, k, s in zip(axes, self.kernel_size, self.strides)]
        outputs.set_shape([static[0]] + sdims + [self.filters] if self.channels_last
                          else [static[0], self.filters] + sdims)
        return outputs


class _SeparableConv(_Conv):
    """Depthwise then pointwise convolution (tf_keras SeparableConv1D / SeparableConv2D)."""

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate=1, depth_multiplier: int = 1, activation=None,
                 use_bias: bool = True, depthwise_initializer=None, pointwise_initializer=None,
                 bias_initializer=_init.zeros_initializer(), depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, trainable: bool = True,
                 name: Optional[str] = None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint,
                         trainable=trainable, name=name, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = get_initializer(depthwise_initializer)
        self.pointwise_initializer = get_initializer(pointwise_initializer)
        self.depthwise_regularizer, self.pointwise_regularizer = depthwise_regularizer, pointwise_regularizer
        self.depthwise_constraint, self.pointwise_constraint = depthwise_constraint, pointwise_constraint

    def build(self, input_shape) -> None:
        c = self._channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", list(self.kernel_size) + [c, self.depth_multiplier],
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", [1] * self.rank + [c * self.depth_multiplier, self.filters],
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.filters], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True


class SeparableConv2D(_SeparableConv):
    """`tf.layers.SeparableConv2D`: depthwise_kernel [kh, kw, in, m], pointwise_kernel [1, 1, in*m, filters]."""
    rank = 2

    def call(self, inputs):
        fmt = _tf_format(self.channels_last, 2)
        strides = [1] + list(self.strides) + [1] if self.channels_last else [1, 1] + list(self.strides)
        outputs = _conv_nd.separable_conv2d(inputs, self.depthwise_kernel, self.pointwise_kernel, strides=strides,
                                       padding=self.padding.upper(), rate=list(self.dilation_rate),
                                       data_format=fmt)
        if self.use_bias:
            outputs = _nn.bias_add(outputs, self.bias, data_format=fmt)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


class SeparableConv1D(_SeparableConv):
    """`tf.layers.SeparableConv1D`: the 2-D separable convolution on an expanded axis, as tf_keras builds it."""
    rank = 1

    def call(self, inputs):
        if self.padding == "causal":
            inputs = self._causal_pad(inputs)
        if self.channels_last:
            strides, spatial_start = [1] + list(self.strides) * 2 + [1], 1
        else:
            strides, spatial_start = [1, 1] + list(self.strides) * 2, 2
        inputs = _array.expand_dims(inputs, spatial_start)
        depthwise = _array.expand_dims(self.depthwise_kernel, 0)
        pointwise = _array.expand_dims(self.pointwise_kernel, 0)
        fmt = _tf_format(self.channels_last, 2)
        outputs = _conv_nd.separable_conv2d(inputs, depthwise, pointwise, strides=strides,
                                       padding="VALID" if self.padding == "causal" else self.padding.upper(),
                                       rate=[1] + list(self.dilation_rate), data_format=fmt)
        if self.use_bias:
            outputs = _nn.bias_add(outputs, self.bias, data_format=fmt)
        outputs = _array.squeeze(outputs, [spatial_start])
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


# ------------------------------------------------------------------------------------------------
# Pooling
# ------------------------------------------------------------------------------------------------
class _Pooling(Layer):
    rank = 1
    max_pool = True

    def __init__(self, pool_size, strides, padding: str = "valid", data_format: str = "channels_last",
                 name: Optional[str] = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = _tuple(pool_size, self.rank, "pool_size")
        self.strides = _tuple(strides if strides is not None else pool_size, self.rank, "strides")
        self.padding = _padding(padding).upper()
        self.channels_last = _channels_last(data_format)
        self.data_format = "channels_last" if self.channels_last else "channels_first"
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        if self.rank == 1:
            # tf_keras: a 2-D pooling of [N, W, 1, C] (channels_last) / [N, C, W, 1], then squeeze; TF's CPU
            # pooling is NHWC only, so channels_first goes through two transposes (as tf_keras' backend does)
            axis = 2 if self.channels_last else 3
            x = _array.expand_dims(inputs, axis)
            ksize, strides = [1] + list(self.pool_size) + [1, 1], [1] + list(self.strides) + [1, 1]
            fn = _nn.max_pool if self.max_pool else _nn.avg_pool
            if self.channels_last:
                out = fn(x, ksize, strides, self.padding, data_format="NHWC")
            else:
                out = fn(_array.transpose(x, (0, 2, 3, 1)), ksize, strides, self.padding, data_format="NHWC")
                out = _array.transpose(out, (0, 3, 1, 2))
            return _array.squeeze(out, [axis])
        # TF's 3-D pooling kernels are channels_last on CPU: tf_keras transposes channels_first inputs
        x = inputs if self.channels_last else _array.transpose(inputs, (0, 2, 3, 4, 1))
        fn = _nnx.max_pool3d if self.max_pool else _nnx.avg_pool3d
        out = fn(x, [1] + list(self.pool_size) + [1], [1] + list(self.strides) + [1], self.padding)
        return out if self.channels_last else _array.transpose(out, (0, 4, 1, 2, 3))


class MaxPooling1D(_Pooling):
    """`tf.layers.MaxPooling1D`."""
    rank, max_pool = 1, True


class AveragePooling1D(_Pooling):
    """`tf.layers.AveragePooling1D`."""
    rank, max_pool = 1, False


class MaxPooling3D(_Pooling):
    """`tf.layers.MaxPooling3D`."""
    rank, max_pool = 3, True


class AveragePooling3D(_Pooling):
    """`tf.layers.AveragePooling3D`."""
    rank, max_pool = 3, False


# ------------------------------------------------------------------------------------------------
# Functional forms (variable scope = `name` when given, as TF's)
# ------------------------------------------------------------------------------------------------
def _conv_fn(cls, doc: str):
    def fn(inputs, filters, kernel_size, *args, name: Optional[str] = None, reuse=None, **kwargs):
        return cls(filters, kernel_size, *args, name=name, _scope=name, _reuse=reuse, **kwargs)(inputs)
    fn.__doc__ = doc
    return fn


conv1d = _conv_fn(Conv1D, "`tf.layers.conv1d`.")
conv3d = _conv_fn(Conv3D, "`tf.layers.conv3d`.")
conv3d_transpose = _conv_fn(Conv3DTranspose, "`tf.layers.conv3d_transpose`.")
separable_conv1d = _conv_fn(SeparableConv1D, "`tf.layers.separable_conv1d`.")
separable_conv2d = _conv_fn(SeparableConv2D, "`tf.layers.separable_conv2d`.")
conv1d.__name__, conv3d.__name__, conv3d_transpose.__name__ = "conv1d", "conv3d", "conv3d_transpose"
separable_conv1d.__name__, separable_conv2d.__name__ = "separable_conv1d", "separable_conv2d"


def _pool_fn(cls, fname: str):
    def fn(inputs, pool_size, strides, padding: str = "valid", data_format: str = "channels_last",
           name: Optional[str] = None):
        return cls(pool_size, strides, padding=padding, data_format=data_format, name=name)(inputs)
    fn.__name__ = fname
    fn.__doc__ = f"`tf.layers.{fname}`."
    return fn


max_pooling1d = _pool_fn(MaxPooling1D, "max_pooling1d")
average_pooling1d = _pool_fn(AveragePooling1D, "average_pooling1d")
max_pooling3d = _pool_fn(MaxPooling3D, "max_pooling3d")
average_pooling3d = _pool_fn(AveragePooling3D, "average_pooling3d")

Convolution1D, Convolution3D, Convolution3DTranspose = Conv1D, Conv3D, Conv3DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
MaxPool1D, AvgPool1D, MaxPool3D, AvgPool3D = MaxPooling1D, AveragePooling1D, MaxPooling3D, AveragePooling3D
