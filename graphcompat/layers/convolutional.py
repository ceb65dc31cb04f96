"""`tf.layers` convolution and pooling layers: Conv2D, Conv2DTranspose, MaxPooling2D, AveragePooling2D."""
from __future__ import annotations

from typing import Optional

from graphcompat import init_ops as _init
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.layers.base import InputSpec, Layer
from graphcompat.layers.core import get_activation, get_initializer
from graphcompat.nn import nn_ops as _nn
from graphcompat.ops import array_ops as _array


def _pair(value, name: str) -> tuple:
    if isinstance(value, int):
        return (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"The `{name}` argument must be a tuple of 2 integers. Received: {value}")
    return value


def _padding(padding: str) -> str:
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be a list/tuple or one of \"valid\", \"same\" (or "
                         f"\"causal\", only for `Conv1D). Received: {padding}")
    return p.upper()


def _data_format(data_format: Optional[str]) -> str:
    df = (data_format or "channels_last").lower()
    if df not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of \"channels_first\", \"channels_last\". "
                         f"Received: {data_format}")
    return "NHWC" if df == "channels_last" else "NCHW"


class ConvWeights:
    """A convolution layer's weights, created on first call as tf.layers does (Conv1D/2D/3D, transposed,
    separable): the input's channel dimension must be known; `_kernel_shape` says the kernel's layout."""

    def _channel_axis(self) -> int:
        raise NotImplementedError

    def _channels(self, input_shape) -> int:
        shape = _ts.as_shape(input_shape)
        axis = self._channel_axis()
        c = _ts.dimension_value(shape[axis])
        if c is None:
            raise ValueError("The channel dimension of the inputs should be defined. The input_shape received "
                             f"is {shape}, where axis {axis} (0-based) is the channel dimension, which found to "
                             "be `None`.")
        return c

    def _kernel_shape(self, channels: int) -> list:
        return list(self.kernel_size) + [channels, self.filters]

    def build(self, input_shape) -> None:
        c = self._channels(input_shape)
        self.kernel = self.add_weight("kernel", self._kernel_shape(c), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.filters], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True


class Conv2D(ConvWeights, Layer):
    """`tf.layers.Conv2D`: variables `kernel` [kh, kw, in, filters] and `bias` [filters]."""

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate=(1, 1), activation=None, use_bias: bool = True,
                 kernel_initializer=None, bias_initializer=_init.zeros_initializer(), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 trainable: bool = True, name: Optional[str] = None, **kwargs):
        super().__init__(trainable=trainable, name=name, activity_regularizer=activity_regularizer, **kwargs)
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.padding = _padding(padding)
        self.data_format = _data_format(data_format)
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = get_initializer(kernel_initializer)
        self.bias_initializer = get_initializer(bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.input_spec = InputSpec(ndim=4)

    def _channel_axis(self) -> int:
        return 1 if self.data_format == "NCHW" else -1

    def call(self, inputs):
        outputs = _nn.conv2d(inputs, self.kernel, strides=list(self.strides), padding=self.padding,
                             data_format=self.data_format, dilations=list(self.dilation_rate), name="Conv2D")
        if self.use_bias:
            outputs = _nn.bias_add(outputs, self.bias, data_format=self.data_format)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


def _deconv_length(size, k, s, padding):
    if size is None:
        return None
    if padding == "VALID":
        return size * s + max(k - s, 0)
    return size * s


class Conv2DTranspose(Conv2D):
    """`tf.layers.Conv2DTranspose`: kernel [kh, kw, filters, in]; output spatial = input * stride (SAME)."""

    def _kernel_shape(self, channels: int) -> list:
        return list(self.kernel_size) + [self.filters, channels]

    def call(self, inputs):
        inputs = convert_to_tensor(inputs)
        dims = inputs.shape.as_list()
        h_ax, w_ax = (2, 3) if self.data_format == "NCHW" else (1, 2)
        out_h = _deconv_length(dims[h_ax], self.kernel_size[0], self.strides[0], self.padding)
        out_w = _deconv_length(dims[w_ax], self.kernel_size[1], self.strides[1], self.padding)
        if out_h is None or out_w is None:
            raise NotImplementedError("tf.layers.conv2d_transpose with unknown spatial input dimensions")
        batch = dims[0] if dims[0] is not None else _array.shape(inputs)[0]
        shape = [batch, self.filters, out_h, out_w] if self.data_format == "NCHW" else [batch, out_h, out_w,
                                                                                        self.filters]
        output_shape = _array.stack(shape) if dims[0] is None else shape
        outputs = _nn.conv2d_transpose(inputs, self.kernel, output_shape, strides=[1, 1] + list(self.strides)
                                       if self.data_format == "NCHW" else [1] + list(self.strides) + [1],
                                       padding=self.padding, data_format=self.data_format)
        static = list(shape)
        static[0] = dims[0]
        outputs.set_shape(static)
        if self.use_bias:
            outputs = _nn.bias_add(outputs, self.bias, data_format=self.data_format)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


def conv2d(inputs, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
           data_format: str = "channels_last", dilation_rate=(1, 1), activation=None, use_bias: bool = True,
           kernel_initializer=None, bias_initializer=_init.zeros_initializer(), kernel_regularizer=None,
           bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
           trainable: bool = True, name: Optional[str] = None, reuse=None):
    """`tf.layers.conv2d`."""
    return Conv2D(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                  dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                  bias_constraint=bias_constraint, trainable=trainable, name=name, _scope=name,
                  _reuse=reuse)(inputs)


def conv2d_transpose(inputs, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                     data_format: str = "channels_last", activation=None, use_bias: bool = True,
                     kernel_initializer=None, bias_initializer=_init.zeros_initializer(), kernel_regularizer=None,
                     bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                     trainable: bool = True, name: Optional[str] = None, reuse=None):
    """`tf.layers.conv2d_transpose`."""
    return Conv2DTranspose(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                           activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                           bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                           bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                           kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                           trainable=trainable, name=name, _scope=name, _reuse=reuse)(inputs)


class _Pooling2D(Layer):
    _fn = None

    def __init__(self, pool_size, strides, padding: str = "valid", data_format: str = "channels_last",
                 name: Optional[str] = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = _pair(pool_size, "pool_size")
        self.strides = _pair(strides if strides is not None else pool_size, "strides")
        self.padding = _padding(padding)
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        if self.data_format == "NCHW":
            ksize, strides = [1, 1] + list(self.pool_size), [1, 1] + list(self.strides)
        else:
            ksize, strides = [1] + list(self.pool_size) + [1], [1] + list(self.strides) + [1]
        return type(self)._fn(inputs, ksize, strides, self.padding, data_format=self.data_format)


class MaxPooling2D(_Pooling2D):
    """`tf.layers.MaxPooling2D`."""
    _fn = staticmethod(_nn.max_pool)


class AveragePooling2D(_Pooling2D):
    """`tf.layers.AveragePooling2D`."""
    _fn = staticmethod(_nn.avg_pool)


def max_pooling2d(inputs, pool_size, strides, padding: str = "valid", data_format: str = "channels_last",
                  name: Optional[str] = None):
    """`tf.layers.max_pooling2d`."""
    return MaxPooling2D(pool_size, strides, padding=padding, data_format=data_format, name=name)(inputs)


def average_pooling2d(inputs, pool_size, strides, padding: str = "valid", data_format: str = "channels_last",
                      name: Optional[str] = None):
    """`tf.layers.average_pooling2d`."""
    return AveragePooling2D(pool_size, strides, padding=padding, data_format=data_format, name=name)(inputs)


MaxPool2D, AvgPool2D = MaxPooling2D, AveragePooling2D
Convolution2D, Convolution2DTranspose = Conv2D, Conv2DTranspose
