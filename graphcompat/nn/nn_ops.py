"""`tf.nn` core functions (TF's python/ops/nn_ops.py): activations, softmax, cross entropies,
bias_add, dropout, convolution and pooling, top-k.

Builders follow `tf.compat.v1`: same default op names and name scopes, the same argument checks and
error texts. Helper ops (Shape, Slice, Reshape …) are the array/math families' builders.
"""
from __future__ import annotations

import numbers
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, constant_value, convert_to_tensor
from graphcompat.framework.registry import apply_op
from graphcompat.nn import _deps
from graphcompat.ops import array_ops as _array
from graphcompat.ops import nn_ops as _defs  # noqa: F401  (registers the NN op types)
from graphcompat.ops import math_ops as _math


# ------------------------------------------------------------------------------------------------
# Activations
# ------------------------------------------------------------------------------------------------
def _unary(op_type: str, tf_name: str):
    def fn(features, name: Optional[str] = None) -> _ops.Tensor:
        return apply_op(op_type, [features], name=name)
    fn.__name__ = tf_name
    fn.__doc__ = f"`tf.nn.{tf_name}`: the element-wise {op_type} op."
    return fn


relu = _unary("Relu", "relu")
elu = _unary("Elu", "elu")
selu = _unary("Selu", "selu")
softplus = _unary("Softplus", "softplus")
softsign = _unary("Softsign", "softsign")


def relu6(features, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.relu6`: min(max(features, 0), 6)."""
    with _ops.name_scope(name, "Relu6", [features]) as name:
        features = convert_to_tensor(features, name="features")
        return apply_op("Relu6", [features], name=name)


def leaky_relu(features, alpha: float = 0.2, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.leaky_relu`: integer features are cast to float32 first, as TF."""
    with _ops.name_scope(name, "LeakyRelu", [features, alpha]) as name:
        features = convert_to_tensor(features, name="features")
        if features.dtype.is_integer:
            features = _math.cast(features, _dt.float32)
        if isinstance(alpha, np.ndarray):
            alpha = alpha.item()
        return apply_op("LeakyRelu", [features], {"alpha": float(alpha)}, name=name)


def sigmoid(x, name: Optional[str] = None) -> _ops.Tensor:
    return _math.sigmoid(x, name=name)


def tanh(x, name: Optional[str] = None) -> _ops.Tensor:
    return _math.tanh(x, name=name)


def _axis_arg(axis, dim, name="axis", old="dim"):
    if axis is not None and dim is not None:
        raise ValueError(f"Cannot specify both '{name}' and '{old}'.")
    return axis if axis is not None else (dim if dim is not None else -1)


def _wrap_2d(op_type: str, logits, axis: int, name: Optional[str]):
    """Softmax-like op over `axis`: the op itself on the last axis, else transposed there and back."""
    logits = convert_to_tensor(logits)
    rank = logits.shape.ndims
    if axis == -1 or (rank is not None and axis == rank - 1):
        return apply_op(op_type, [logits], name=name)
    if rank is None:
        raise NotImplementedError(f"tf.nn.{op_type.lower()} over axis {axis} of a tensor of unknown rank")
    if not -rank <= axis < rank:
        raise ValueError(f"`axis` must be in the range [{-rank}, {rank}) where {rank} is the number of "
                         f"dimensions in the input. Received: axis={axis}")
    axis %= rank
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    out = apply_op(op_type, [_array.transpose(logits, perm)])
    return _array.transpose(out, perm, name=name)


def softmax(logits, axis: Optional[int] = None, name: Optional[str] = None, dim: Optional[int] = None):
    """`tf.nn.softmax` (v1: `dim` is a deprecated alias of `axis`)."""
    return _wrap_2d("Softmax", logits, _axis_arg(axis, dim), name)


def log_softmax(logits, axis: Optional[int] = None, name: Optional[str] = None, dim: Optional[int] = None):
    """`tf.nn.log_softmax` (v1: `dim` is a deprecated alias of `axis`)."""
    return _wrap_2d("LogSoftmax", logits, _axis_arg(axis, dim), name)


def bias_add(value, bias, data_format: Optional[str] = None, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.bias_add`: `bias` (1-D) added along the channel axis (last, or 1 for `NC...`)."""
    with _ops.name_scope(name, "BiasAdd", [value, bias]) as name:
        if data_format is not None:
            if data_format.startswith("NC"):
                data_format = "NCHW"
            elif data_format.startswith("N") and data_format.endswith("C"):
                data_format = "NHWC"
            else:
                raise ValueError("`data_format` must be of the form `N...C` or `NC...`. "
                                 f"Received: data_format={data_format}")
        value = convert_to_tensor(value, name="input")
        bias = convert_to_tensor(bias, dtype=value.dtype.base_dtype, name="bias")
        return apply_op("BiasAdd", [value, bias], {"data_format": data_format or "NHWC"}, name=name)


def l2_loss(t, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.l2_loss`: sum(t ** 2) / 2."""
    return apply_op("L2Loss", [t], name=name)


def xw_plus_b(x, weights, biases, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.xw_plus_b`: matmul(x, weights) + biases."""
    with _ops.name_scope(name, "xw_plus_b", [x, weights, biases]) as name:
        x = convert_to_tensor(x, name="x")
        weights = convert_to_tensor(weights, name="weights")
        biases = convert_to_tensor(biases, name="biases")
        mm = _deps.matmul(x, weights)
        return bias_add(mm, biases, name=name)


def local_response_normalization(input, depth_radius: int = 5, bias: float = 1, alpha: float = 1,
                                 beta: float = 0.5, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.local_response_normalization` (`tf.nn.lrn`)."""
    return apply_op("LRN", [input], {"depth_radius": int(depth_radius), "bias": float(bias),
                                     "alpha": float(alpha), "beta": float(beta)}, name=name)


lrn = local_response_normalization


# ------------------------------------------------------------------------------------------------
# Cross entropies
# ------------------------------------------------------------------------------------------------
def _ensure_named(fn_name: str, sentinel, labels, logits) -> None:
    if sentinel is not None:
        raise ValueError(f"Only call `{fn_name}` with named arguments (labels=..., logits=..., ...). "
                         f"Received unnamed argument: {sentinel}")
    if labels is None or logits is None:
        raise ValueError("Both `labels` and `logits` must be provided. "
                         f"Received: labels={labels} and logits={logits}")


def _flatten_outer_dims(x: _ops.Tensor) -> _ops.Tensor:
    """[..., n] → [-1, n]; a rank-2 input passes through unchanged (TF reshapes it to itself)."""
    shape = x.shape
    if shape.ndims == 2:
        return _array.reshape(x, _math.cast(constant(np.asarray(shape.as_list(), np.int32))
                                            if shape.is_fully_defined() else _array.shape(x), _dt.int32))
    last = _deps.slice(_array.shape(x), [_array.rank(x) - 1], [1])
    out = _array.reshape(x, _array.concat([[-1], last], 0))
    if shape.ndims is not None:
        dims = shape.as_list()
        if all(d is not None for d in dims[:-1]):
            out.set_shape([int(np.prod(dims[:-1], dtype=np.int64)), dims[-1]])
    return out


def softmax_cross_entropy_with_logits_v2(labels=None, logits=None, axis: Optional[int] = None,
                                         name: Optional[str] = None, dim: Optional[int] = None,
                                         _sentinel=None) -> _ops.Tensor:
    """`tf.nn.softmax_cross_entropy_with_logits_v2`: gradients flow into both labels and logits."""
    _ensure_named("softmax_cross_entropy_with_logits_v2", _sentinel, labels, logits)
    axis = _axis_arg(axis, dim)
    with _ops.name_scope(name, "softmax_cross_entropy_with_logits", [logits, labels]) as name:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, name="labels")
        to_f32 = logits.dtype.base_dtype in (_dt.float16, _dt.bfloat16)
        precise = _math.cast(logits, _dt.float32) if to_f32 else logits
        labels = _math.cast(labels, precise.dtype.base_dtype)
        shape = logits.shape
        rank = shape.ndims
        if axis != -1 and not (rank is not None and axis == rank - 1):
            if rank is None:
                raise NotImplementedError("softmax_cross_entropy_with_logits over a non-last axis of a tensor "
                                          "of unknown rank")
            axis %= rank
            perm = [i for i in range(rank) if i != axis] + [axis]
            precise = _array.transpose(precise, perm)
            labels = _array.transpose(labels, perm)
        if rank == 2:
            cost, _ = apply_op("SoftmaxCrossEntropyWithLogits", [precise, labels], name=name)
        else:
            input_shape = _array.shape(precise)
            flat_logits = _flatten_outer_dims(precise)
            flat_labels = _flatten_outer_dims(labels)
            cost, _ = apply_op("SoftmaxCrossEntropyWithLogits", [flat_logits, flat_labels], name=name)
            out_shape = _deps.slice(input_shape, [0], _array.stack([_array.rank(precise) - 1]))
            cost = _array.reshape(cost, out_shape)
            if rank is not None:
                dims = shape.as_list()
                del dims[axis]
                cost.set_shape(dims)
        if to_f32:
            cost = _math.cast(cost, logits.dtype.base_dtype)
        return cost


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim: int = -1,
                                      name: Optional[str] = None, axis: Optional[int] = None) -> _ops.Tensor:
    """`tf.nn.softmax_cross_entropy_with_logits` (deprecated v1): no gradient into `labels`."""
    _ensure_named("softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    axis = axis if axis is not None else dim
    with _ops.name_scope(name, "softmax_cross_entropy_with_logits_sg", [logits, labels]) as name_scope:
        labels = _deps.stop_gradient(labels, name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=axis, name=name_scope)


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.sparse_softmax_cross_entropy_with_logits`: integer class labels; out-of-range labels
    raise InvalidArgumentError when run (TF's CPU kernel)."""
    _ensure_named("sparse_softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    with _ops.name_scope(name, "SparseSoftmaxCrossEntropyWithLogits", [labels, logits]):
        labels = convert_to_tensor(labels)
        logits = convert_to_tensor(logits)
        precise = _math.cast(logits, _dt.float32) if logits.dtype.base_dtype == _dt.float16 else logits
        lshape, gshape = labels.shape, logits.shape
        if labels.dtype.base_dtype not in (_dt.int32, _dt.int64):
            raise TypeError(f"Value passed to parameter 'labels' has DataType {labels.dtype.base_dtype.name} not "
                            f"in list of allowed values: int32, int64")
        if gshape.ndims == 0:
            raise ValueError(f"`logits` cannot be a scalar. Received logits={logits}`")
        if gshape.ndims is not None and lshape.ndims is not None and lshape.ndims != gshape.ndims - 1:
            raise ValueError("`labels.shape.rank` must equal `logits.shape.rank - 1`. "
                             f"Received: labels.shape={lshape} of rank {lshape.ndims} and "
                             f"logits.shape={gshape} of rank {gshape.ndims}")
        fully = lshape.is_fully_defined() and gshape.ndims is not None and gshape[:-1].is_fully_defined()
        if fully and lshape != gshape[:-1]:
            raise ValueError("`labels.shape` must equal `logits.shape` except for the last dimension. "
                             f"Received: labels.shape={lshape} and logits.shape={gshape}")
        if gshape.ndims == 2:
            cost, _ = apply_op("SparseSoftmaxCrossEntropyWithLogits", [precise, labels])
        else:
            labels_shape = _array.shape(labels)
            num_classes = _array.shape(logits)[_array.rank(logits) - 1]
            flat_logits = _array.reshape(precise, _array.stack([-1, num_classes]))
            flat_labels = _array.reshape(labels, [-1])
            cost, _ = apply_op("SparseSoftmaxCrossEntropyWithLogits", [flat_logits, flat_labels])
            cost = _array.reshape(cost, labels_shape)
            cost.set_shape(lshape)
        if logits.dtype.base_dtype == _dt.float16:
            return _math.cast(cost, _dt.float16)
        return cost


# ------------------------------------------------------------------------------------------------
# Dropout
# ------------------------------------------------------------------------------------------------
def dropout(x, keep_prob=None, noise_shape=None, seed: Optional[int] = None, name: Optional[str] = None,
            rate=None) -> _ops.Tensor:
    """`tf.nn.dropout` (v1): `keep_prob` or `rate`; kept values are scaled by 1 / (1 - rate)."""
    if keep_prob is not None:
        if rate is not None:
            raise ValueError("Cannot specify both 'keep_prob' and 'rate'.")
        try:
            rate = 1.0 - keep_prob
        except TypeError:
            raise ValueError(f"keep_prob must be a floating point number or Tensor (got {keep_prob!r})") from None
    if rate is None:
        raise ValueError(f"`rate` must be provided. Received: rate={rate}")
    return dropout_v2(x, rate, noise_shape=noise_shape, seed=seed, name=name)


def dropout_v2(x, rate, noise_shape=None, seed: Optional[int] = None, name: Optional[str] = None):
    from graphcompat.ops import random_ops as _random  # the random family (branch `state`)
    with _ops.name_scope(name, "dropout", [x]) as name:
        is_number = isinstance(rate, numbers.Real) and not isinstance(rate, bool)
        if is_number and (rate < 0 or rate >= 1):
            raise ValueError(f"`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate={rate}")
        x = convert_to_tensor(x, name="x")
        dtype = x.dtype.base_dtype
        if not dtype.is_floating:
            raise ValueError("`x.dtype` must be a floating point tensor as `x` will be scaled. "
                             f"Received: x_dtype={dtype!r}")
        if is_number and rate == 0:
            return x
        if is_number:
            scale = convert_to_tensor(1 / (1 - rate), dtype=dtype)
            ret = apply_op("Mul", [x, scale])
        else:
            rate = convert_to_tensor(rate)
            if rate.shape.ndims is not None and rate.shape.ndims != 0:
                raise ValueError(f"Shape {rate.shape} must have rank 0")
            if rate.dtype.base_dtype != dtype:
                rate = _math.cast(rate, dtype, name="rate")
            one = constant(1, dtype=dtype)
            ret = apply_op("RealDiv", [x, apply_op("Sub", [one, rate])])
        if noise_shape is None:
            noise_shape = _array.shape(x)
        random_tensor = _random.random_uniform(noise_shape, seed=seed, dtype=dtype)
        keep_mask = _math.greater_equal(random_tensor, rate)
        ret = _deps.where_v2(keep_mask, ret, constant(0, dtype=dtype))
        ret.set_shape(x.shape)
        return ret


# ------------------------------------------------------------------------------------------------
# Convolution and pooling
# ------------------------------------------------------------------------------------------------
def _get_sequence(value, n: int, channel_index: int, name: str) -> list:
    """TF's `_get_sequence`: 1, n or n+2 values → the full n+2 list (1 on batch and channel)."""
    if value is None:
        return [1] * (n + 2)
    if isinstance(value, (list, tuple)):
        value = list(value)
    elif isinstance(value, (int, np.integer)):
        value = [value]
    else:
        value = list(value) if hasattr(value, "__len__") else [value]
    if len(value) == n + 2:
        return [int(v) for v in value]
    if len(value) == 1:
        value = value * n
    elif len(value) != n:
        raise ValueError(f"{name} should be of length 1, {n} or {n + 2}. Received: {name}={value} of length "
                         f"{len(value)}")
    if channel_index == 1:
        return [1, 1] + [int(v) for v in value]
    return [1] + [int(v) for v in value] + [1]


def _convert_padding(padding, expected_length: int = 4):
    explicit = []
    if padding == "EXPLICIT":
        raise ValueError("'EXPLICIT' is not a valid value for `padding`. To use explicit padding, `padding` must "
                         "be a list.")
    if isinstance(padding, (list, tuple)):
        for i, pair in enumerate(padding):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ValueError("When `padding` is a list, each element of `padding` must be a list/tuple of "
                                 f"size 2. Received: padding={padding} with element at index {i}")
            explicit.extend(int(p) for p in pair)
        if len(padding) != expected_length:
            raise ValueError(f"When padding is a list, it must be of size {expected_length}. "
                             f"Received: padding={padding} of size {len(padding)}")
        return "EXPLICIT", explicit
    return padding, explicit


def _check_padding(op_type: str, padding, allowed=("SAME", "VALID", "EXPLICIT")) -> None:
    if padding not in allowed:
        names = ", ".join(f'"{p}"' for p in allowed)
        raise ValueError(f"Attr 'padding' of '{op_type}' Op passed string '{padding}' not in: {names}.")


def _check_format(op_type: str, data_format: str, allowed=("NHWC", "NCHW")) -> None:
    if data_format not in allowed:
        names = ", ".join(f'"{p}"' for p in allowed)
        raise ValueError(f"Attr 'data_format' of '{op_type}' Op passed string '{data_format}' not in: {names}.")


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu: bool = True,
           data_format: str = "NHWC", dilations=(1, 1, 1, 1), name: Optional[str] = None,
           filters=None) -> _ops.Tensor:
    """`tf.nn.conv2d` (v1): input [batch, h, w, in] (NHWC) or NCHW, filter [fh, fw, in, out]."""
    if filter is not None and filters is not None:
        raise ValueError("Cannot specify both 'filters' and 'filter'.")
    filter = filters if filter is None else filter
    padding, explicit = _convert_padding(padding)
    data_format = data_format or "NHWC"
    _check_padding("Conv2D", padding)
    _check_format("Conv2D", data_format)
    channel_index = 1 if data_format.startswith("NC") else 3
    strides = _get_sequence(strides, 2, channel_index, "strides")
    dilations = _get_sequence(dilations, 2, channel_index, "dilations")
    return apply_op("Conv2D", [input, filter], {"strides": strides, "padding": padding,
                                                "use_cudnn_on_gpu": bool(use_cudnn_on_gpu),
                                                "explicit_paddings": explicit, "data_format": data_format,
                                                "dilations": dilations}, name=name)


def conv1d(value=None, filters=None, stride=None, padding=None, use_cudnn_on_gpu=None, data_format=None,
           name: Optional[str] = None, input=None, dilations=None) -> _ops.Tensor:
    """`tf.nn.conv1d` (v1): ExpandDims → Conv2D (named after the scope) → Squeeze, as TF builds it; more
    than one batch dim folds them around the Conv2D (TF's squeeze_batch_dims). `padding` is passed to
    the Conv2D op as is: a list of pairs is TF's TypeError (v1 conv1d has no explicit padding)."""
    if input is not None and value is not None:
        raise ValueError("Cannot specify both 'value' and 'input'.")
    value = input if value is None else value
    with _ops.name_scope(name, "conv1d", [value, filters]) as name:
        if data_format is None or data_format in ("NHWC", "NWC"):
            data_format, spatial_start_dim, channel_index = "NHWC", -3, 2
        elif data_format in ("NCHW", "NCW"):
            data_format, spatial_start_dim, channel_index = "NCHW", -2, 1
        else:
            raise ValueError("`data_format` must be 'NWC' or 'NCW'. Received: "
                             f"data_format={data_format}")
        strides = [1] + _get_sequence(stride, 1, channel_index, "stride")
        dilations = [1] + _get_sequence(dilations, 1, channel_index, "dilations")
        value = _array.expand_dims(value, spatial_start_dim)
        filters = _array.expand_dims(filters, 0)
        if not isinstance(padding, (str, bytes)):
            raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
        padding = padding.decode() if isinstance(padding, bytes) else padding
        _check_padding("Conv2D", padding)
        attrs = {"strides": strides, "padding": padding,
                 "use_cudnn_on_gpu": True if use_cudnn_on_gpu is None else bool(use_cudnn_on_gpu),
                 "explicit_paddings": [], "data_format": data_format, "dilations": dilations}
        if value.shape.ndims is None or value.shape.ndims <= 4:
            result = apply_op("Conv2D", [value, filters], attrs, name=name)
        else:
            from graphcompat.nn.conv_nd import squeeze_batch_dims
            result = squeeze_batch_dims(value, lambda v: apply_op("Conv2D", [v, filters], attrs), inner_rank=3,
                                        name=name)
        return _array.squeeze(result, [spatial_start_dim])


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None, padding: str = "SAME",
                     data_format: str = "NHWC", name: Optional[str] = None, input=None, filters=None,
                     dilations=None) -> _ops.Tensor:
    """`tf.nn.conv2d_transpose` (v1): the gradient of conv2d w.r.t. its input (Conv2DBackpropInput)."""
    value = input if value is None else value
    filter = filters if filter is None else filter
    with _ops.name_scope(name, "conv2d_transpose", [value, filter, output_shape]) as name:
        value = convert_to_tensor(value, name="value")
        filter = convert_to_tensor(filter, name="filter")
        output_shape = convert_to_tensor(output_shape, name="output_shape")
        if output_shape.dtype.base_dtype != _dt.int32:
            output_shape = _math.cast(output_shape, _dt.int32)
        axis = 3 if data_format == "NHWC" else 1
        if value.shape.ndims is not None and value.shape.ndims != 4:
            raise ValueError(f"`value` must be a 4D tensor. Received: value.shape={value.shape} with "
                             f"{value.shape.ndims} dimensions.")
        if filter.shape.ndims is not None and filter.shape.ndims != 4:
            raise ValueError(f"`filter` must be a 4D tensor. Received: filter.shape={filter.shape} with "
                             f"{filter.shape.ndims} dimensions.")
        if not output_shape.shape.is_compatible_with(_ts.TensorShape([4])):
            raise ValueError(f"`output_shape` must be of shape [4]. Received: output_shape={output_shape.shape}")
        sizes = constant_value(output_shape)
        if sizes is not None and filter.shape.ndims == 4 and filter.shape[2].value is not None \
                and int(sizes[axis]) != filter.shape[2].value:
            raise ValueError(f"`output_shape` does not match filter's output channels. Received: "
                             f"output_shape[{axis}]={int(sizes[axis])} and filter.shape[2]={filter.shape[2].value}")
        if value.shape.ndims == 4 and filter.shape.ndims == 4 and value.shape[axis].value is not None \
                and filter.shape[3].value is not None and value.shape[axis].value != filter.shape[3].value:
            raise ValueError(f"Input channels does not match filter's input channels. Received: "
                             f"value.shape[{axis}]={value.shape[axis].value} and "
                             f"filter.shape[3]={filter.shape[3].value}")
        padding, explicit = _convert_padding(padding)
        _check_padding("Conv2DBackpropInput", padding)
        channel_index = 1 if data_format.startswith("NC") else 3
        return apply_op("Conv2DBackpropInput", [output_shape, filter, value], {
            "strides": _get_sequence(strides, 2, channel_index, "strides"), "padding": padding,
            "use_cudnn_on_gpu": True, "explicit_paddings": explicit, "data_format": data_format,
            "dilations": _get_sequence(dilations, 2, channel_index, "dilations")}, name=name)


def _pool(op_type: str, default: str, value, ksize, strides, padding, data_format, name):
    with _ops.name_scope(name, default, [value]) as name:
        data_format = data_format or "NHWC"
        _check_padding(op_type, padding, ("SAME", "VALID") if op_type == "AvgPool" else ("SAME", "VALID",
                                                                                             "EXPLICIT"))
        _check_format(op_type, data_format, ("NHWC", "NCHW", "NCHW_VECT_C"))
        channel_index = 1 if data_format.startswith("NC") else 3
        ksize = _get_sequence(ksize, 2, channel_index, "ksize")
        strides = _get_sequence(strides, 2, channel_index, "strides")
        attrs = {"ksize": ksize, "strides": strides, "padding": padding, "data_format": data_format}
        if op_type == "MaxPool":
            attrs["explicit_paddings"] = []
        return apply_op(op_type, [convert_to_tensor(value, name="input")], attrs, name=name)


def max_pool(value, ksize, strides, padding, data_format: str = "NHWC", name: Optional[str] = None,
             input=None) -> _ops.Tensor:
    """`tf.nn.max_pool` (v1)."""
    return _pool("MaxPool", "MaxPool", input if value is None else value, ksize, strides, padding, data_format,
                 name)


def avg_pool(value, ksize, strides, padding, data_format: str = "NHWC", name: Optional[str] = None,
             input=None) -> _ops.Tensor:
    """`tf.nn.avg_pool` (v1): SAME windows average over their real (unpadded) elements."""
    return _pool("AvgPool", "AvgPool", input if value is None else value, ksize, strides, padding, data_format,
                 name)


max_pool2d = max_pool
avg_pool2d = avg_pool


# ------------------------------------------------------------------------------------------------
# Top-k
# ------------------------------------------------------------------------------------------------
def top_k(input, k=1, sorted: bool = True, name: Optional[str] = None):
    """`tf.nn.top_k`: the sort family's `tf.math.top_k` (TopKV2)."""
    from graphcompat.ops.sort_ops import top_k as _top_k
    return _top_k(input, k, sorted=sorted, name=name)


def in_top_k(predictions, targets, k, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.in_top_k` (v1 argument order): whether each target is among the top k predictions."""
    with _ops.name_scope(name, "in_top_k"):
        targets = convert_to_tensor(targets)
        k = convert_to_tensor(k, dtype=targets.dtype.base_dtype)
        return apply_op("InTopKV2", [predictions, targets, k], name=name)
