"""More of TF1's `tf.nn`: the convolution gradients as public ops (conv2d_backprop_input/filter,
depthwise_conv2d_native and its gradients), conv1d_transpose / conv_transpose, the N-D v2 poolings,
log_poisson_loss, sufficient_statistics, batch_norm_with_global_normalization and
safe_embedding_lookup_sparse — built as TF 2.21's nn_ops.py / nn_impl.py / embedding_ops.py build them.
"""
from __future__ import annotations

import math
from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.framework.registry import apply_op
from graphcompat.nn import nn_ops as _nn


def _seq(value, n: int, data_format: Optional[str], name: str) -> list:
    channel_index = 1 if data_format and data_format.startswith("NC") else n + 1
    return _nn._get_sequence(value, n, channel_index, name)


# ------------------------------------------------------------------------------------------------
# Convolution gradients as ops
# ------------------------------------------------------------------------------------------------
def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None, strides=None, padding=None,  # noqa: A002
                          use_cudnn_on_gpu: bool = True, data_format: str = "NHWC", dilations=(1, 1, 1, 1),
                          name: Optional[str] = None, filters=None) -> _ops.Tensor:
    """`tf.nn.conv2d_backprop_input`: the gradient of conv2d with respect to its input."""
    filter = filters if filter is None else filter
    padding, explicit = _nn._convert_padding(padding)
    _nn._check_padding("Conv2DBackpropInput", padding)
    return apply_op("Conv2DBackpropInput", [input_sizes, filter, out_backprop], {
        "strides": [int(s) for s in strides], "padding": padding, "use_cudnn_on_gpu": bool(use_cudnn_on_gpu),
        "explicit_paddings": explicit, "data_format": data_format, "dilations": [int(d) for d in dilations]},
        name=name)


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                           use_cudnn_on_gpu: bool = True, data_format: str = "NHWC", dilations=(1, 1, 1, 1),
                           name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.conv2d_backprop_filter`: the gradient of conv2d with respect to its filter."""
    padding, explicit = _nn._convert_padding(padding)
    _nn._check_padding("Conv2DBackpropFilter", padding)
    return apply_op("Conv2DBackpropFilter", [input, filter_sizes, out_backprop], {
        "strides": [int(s) for s in strides], "padding": padding, "use_cudnn_on_gpu": bool(use_cudnn_on_gpu),
        "explicit_paddings": explicit, "data_format": data_format, "dilations": [int(d) for d in dilations]},
        name=name)


def _conv_v2_attrs(op_type: str, strides, padding: str, use_cudnn_on_gpu: bool, explicit_paddings,
                   data_format: str, dilations) -> dict:
    """The raw ops' attrs as op_def_library checks them: padding a string (EXPLICIT allowed, with
    explicit_paddings), data_format NHWC or NCHW."""
    _nn._check_padding(op_type, padding)
    _nn._check_format(op_type, data_format)
    return {"strides": [int(s) for s in strides], "padding": padding, "use_cudnn_on_gpu": bool(use_cudnn_on_gpu),
            "explicit_paddings": [int(p) for p in explicit_paddings], "data_format": data_format,
            "dilations": [int(d) for d in dilations]}


def conv2d_backprop_filter_v2(input, filter, out_backprop, strides, padding: str,  # noqa: A002
                              use_cudnn_on_gpu: bool = True, explicit_paddings=(), data_format: str = "NHWC",
                              dilations=(1, 1, 1, 1), name: Optional[str] = None) -> _ops.Tensor:
    """`tf.conv2d_backprop_filter_v2` (the raw Conv2DBackpropFilterV2 op): conv2d's filter gradient, the
    filter's shape read from `filter` itself."""
    attrs = _conv_v2_attrs("Conv2DBackpropFilterV2", strides, padding, use_cudnn_on_gpu, explicit_paddings,
                           data_format, dilations)
    return apply_op("Conv2DBackpropFilterV2", [input, filter, out_backprop], attrs, name=name)


def conv2d_backprop_input_v2(input, filter, out_backprop, strides, padding: str,  # noqa: A002
                             use_cudnn_on_gpu: bool = True, explicit_paddings=(), data_format: str = "NHWC",
                             dilations=(1, 1, 1, 1), name: Optional[str] = None) -> _ops.Tensor:
    """`tf.conv2d_backprop_input_v2` (the raw Conv2DBackpropInputV2 op): conv2d's input gradient, the
    input's shape read from `input` itself."""
    attrs = _conv_v2_attrs("Conv2DBackpropInputV2", strides, padding, use_cudnn_on_gpu, explicit_paddings,
                           data_format, dilations)
    return apply_op("Conv2DBackpropInputV2", [input, filter, out_backprop], attrs, name=name)


def _depthwise_attrs(op_type: str, strides, padding, data_format, dilations) -> dict:
    padding, explicit = _nn._convert_padding(padding)
    _nn._check_padding(op_type, padding)
    return {"strides": [int(s) for s in strides], "padding": padding, "explicit_paddings": explicit,
            "data_format": data_format or "NHWC", "dilations": [int(d) for d in (dilations or [1, 1, 1, 1])]}


def depthwise_conv2d_native(input, filter, strides, padding, data_format: str = "NHWC",  # noqa: A002
                            dilations=(1, 1, 1, 1), name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.depthwise_conv2d_native`: the DepthwiseConv2dNative op itself (no rate handling)."""
    return apply_op("DepthwiseConv2dNative", [input, filter],
                    _depthwise_attrs("DepthwiseConv2dNative", strides, padding, data_format, dilations), name=name)


def depthwise_conv2d_native_backprop_input(input_sizes, filter, out_backprop, strides, padding,  # noqa: A002
                                           data_format: str = "NHWC", dilations=(1, 1, 1, 1),
                                           name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.depthwise_conv2d_native_backprop_input` (also `depthwise_conv2d_backprop_input`)."""
    return apply_op("DepthwiseConv2dNativeBackpropInput", [input_sizes, filter, out_backprop],
                    _depthwise_attrs("DepthwiseConv2dNativeBackpropInput", strides, padding, data_format,
                                     dilations), name=name)


def depthwise_conv2d_native_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                                            data_format: str = "NHWC", dilations=(1, 1, 1, 1),
                                            name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.depthwise_conv2d_native_backprop_filter` (also `depthwise_conv2d_backprop_filter`)."""
    return apply_op("DepthwiseConv2dNativeBackpropFilter", [input, filter_sizes, out_backprop],
                    _depthwise_attrs("DepthwiseConv2dNativeBackpropFilter", strides, padding, data_format,
                                     dilations), name=name)


depthwise_conv2d_backprop_input = depthwise_conv2d_native_backprop_input
depthwise_conv2d_backprop_filter = depthwise_conv2d_native_backprop_filter


def conv1d_transpose(input, filters, output_shape, strides, padding: str = "SAME",  # noqa: A002
                     data_format: str = "NWC", dilations=None, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.conv1d_transpose`: ExpandDims → Conv2DBackpropInput → Squeeze, as TF builds it."""
    from graphcompat.ops import array_ops
    with _ops.name_scope(name, "conv1d_transpose", [input, filters, output_shape]):
        if data_format not in ("NWC", "NCW"):
            raise ValueError(f"`data_format` must be 'NWC' or 'NCW'. Received: data_format={data_format}")
        spatial = 1 if data_format == "NWC" else 2
        fmt = "NHWC" if data_format == "NWC" else "NCHW"
        channel_index = 3 if fmt == "NHWC" else 1
        strides = [1] + _nn._get_sequence(strides, 1, channel_index, "stride")
        dilations = [1] + _nn._get_sequence(dilations, 1, channel_index, "dilations")
        input = array_ops.expand_dims(input, spatial)
        filters = array_ops.expand_dims(filters, 0)
        output_shape = list(output_shape) if not isinstance(output_shape, _ops.Tensor) else output_shape
        if isinstance(output_shape, list):
            output_shape = output_shape[:spatial] + [1] + output_shape[spatial:]
        else:
            from graphcompat.ops.array_ops import concat
            output_shape = concat([output_shape[:spatial], [1], output_shape[spatial:]], axis=0)
        result = apply_op("Conv2DBackpropInput", [output_shape, filters, input], {
            "strides": strides, "padding": padding, "use_cudnn_on_gpu": True, "explicit_paddings": [],
            "data_format": fmt, "dilations": dilations})
        return array_ops.squeeze(result, spatial)


def conv_transpose(input, filters, output_shape, strides, padding: str = "SAME",  # noqa: A002
                   data_format: Optional[str] = None, dilations=None, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.conv_transpose`: the 1-, 2- or 3-D transposed convolution, chosen by len(output_shape) - 2."""
    from graphcompat.nn import nn_extra
    with _ops.name_scope(name, "conv_transpose", [input, filters, output_shape]) as scope:
        n = len(output_shape) - 2 if not isinstance(output_shape, _ops.Tensor) else \
            int(output_shape.shape[0].value) - 2
        if n == 1:
            return conv1d_transpose(input, filters, output_shape, strides, padding=padding,
                                    data_format=data_format or "NWC", dilations=dilations, name=scope)
        if n == 2:
            return _nn.conv2d_transpose(input, filters, output_shape, strides, padding=padding,
                                        data_format=data_format or "NHWC", dilations=dilations, name=scope)
        if n == 3:
            fmt = data_format or "NDHWC"
            return nn_extra.conv3d_transpose(input, filters, output_shape, _seq(strides, 3, fmt, "strides"),
                                             padding=padding, data_format=fmt,
                                             dilations=_seq(dilations or 1, 3, fmt, "dilations"), name=scope)
        raise ValueError(f"output_shape must be of length 3, 4 or 5 but was {n + 2}.")


def _pool_v2(kind: str):
    def pool(input, ksize, strides, padding, data_format: Optional[str] = None,  # noqa: A002
             name: Optional[str] = None) -> _ops.Tensor:
        from graphcompat.nn import nn_extra
        x = convert_to_tensor(input)
        n = x.shape.ndims - 2 if x.shape.ndims is not None else (len(ksize) - 2 if isinstance(ksize, (list, tuple))
                                                                   and len(ksize) > 2 else None)
        if n is None:
            raise ValueError("The input must have a rank of at least 3, or `ksize` must have length 3, 4 or 5.")
        if n == 1:
            fn = nn_extra.max_pool1d if kind == "max" else nn_extra.avg_pool1d
            return fn(x, ksize, strides, padding, data_format=data_format or "NWC", name=name)
        if n == 2:
            fn = _nn.max_pool if kind == "max" else _nn.avg_pool
            fmt = data_format or "NHWC"
            return fn(x, _seq(ksize, 2, fmt, "ksize"), _seq(strides, 2, fmt, "strides"), padding, data_format=fmt,
                      name=name)
        if n == 3:
            fn = nn_extra.max_pool3d if kind == "max" else nn_extra.avg_pool3d
            return fn(x, ksize, strides, padding, data_format=data_format or "NDHWC", name=name)
        raise ValueError(f"`input.shape.rank` must be 3, 4 or 5. Received: input.shape={x.shape} of rank {n + 2}")
    pool.__name__ = f"{kind}_pool_v2"
    pool.__doc__ = f"`tf.nn.{kind}_pool_v2`: {kind} pooling of a 1-, 2- or 3-D input (by the input's rank)."
    return pool


max_pool_v2 = _pool_v2("max")
avg_pool_v2 = _pool_v2("avg")


# ------------------------------------------------------------------------------------------------
# Losses and statistics
# ------------------------------------------------------------------------------------------------
def log_poisson_loss(targets, log_input, compute_full_loss: bool = False,
                     name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.log_poisson_loss`: exp(log_input) - log_input * targets (+ Stirling's term when full)."""
    from graphcompat.ops import array_ops, math_ops
    with _ops.name_scope(name, "log_poisson_loss", [log_input, targets]):
        log_input = convert_to_tensor(log_input, name="log_input")
        targets = convert_to_tensor(targets, name="targets")
        if not targets.shape.is_compatible_with(log_input.shape):
            raise ValueError(f"`log_input` and `targets` must have the same shape, received ({log_input.shape} vs "
                             f"{targets.shape}).")
        result = math_ops.exp(log_input) - log_input * targets
        if compute_full_loss:
            point_five = constant(0.5, dtype=targets.dtype)
            two_pi = constant(2 * math.pi, dtype=targets.dtype)
            stirling = targets * math_ops.log(targets) - targets + point_five * math_ops.log(two_pi * targets)
            zeros = array_ops.zeros_like(targets, dtype=targets.dtype)
            ones = array_ops.ones_like(targets, dtype=targets.dtype)
            cond = math_ops.logical_and(targets >= zeros, targets <= ones)
            result += math_ops.where(cond, zeros, stirling)
        return result


def sufficient_statistics(x, axes, shift=None, keep_dims=None, name: Optional[str] = None, keepdims=None):
    """`tf.nn.sufficient_statistics`: (count, sum of (x - shift), sum of (x - shift)^2, shift) over `axes`."""
    from graphcompat.ops import array_ops, math_ops
    axes = list(set(axes))
    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'")
    keep = bool(keepdims if keepdims is not None else keep_dims)
    with _ops.name_scope(name, "sufficient_statistics", [x, shift]):
        x = convert_to_tensor(x, name="x")
        shape = x.shape
        if shape.ndims is not None and all(shape[d].value is not None for d in axes):
            counts = 1
            for d in axes:
                counts *= shape[d].value
            counts = constant(counts, dtype=x.dtype)
        else:
            rank = array_ops.rank(x)
            positive = [a + rank if a < 0 else a for a in axes]
            from graphcompat.ops.indexing_ops import gather
            dims = gather(math_ops.cast(array_ops.shape(x), x.dtype), positive)
            counts = math_ops.reduce_prod(dims, name="count")
        if shift is not None:
            shift = convert_to_tensor(shift, name="shift")
            m_ss = math_ops.subtract(x, shift)
            v_ss = math_ops.squared_difference(x, shift)
        else:
            m_ss = x
            v_ss = math_ops.square(x)
        m_ss = math_ops.reduce_sum(m_ss, axes, keepdims=keep, name="mean_ss")
        v_ss = math_ops.reduce_sum(v_ss, axes, keepdims=keep, name="var_ss")
    return counts, m_ss, v_ss, shift


def batch_norm_with_global_normalization(t=None, m=None, v=None, beta=None, gamma=None, variance_epsilon=None,
                                         scale_after_normalization=None, name: Optional[str] = None, input=None,
                                         mean=None, variance=None) -> _ops.Tensor:  # noqa: A002
    """`tf.nn.batch_norm_with_global_normalization` (TF1): batch_normalization with gamma only when
    `scale_after_normalization`."""
    from graphcompat.nn.nn_impl import batch_normalization
    t = input if t is None else t
    m = mean if m is None else m
    v = variance if v is None else v
    return batch_normalization(t, m, v, beta, gamma if scale_after_normalization else None, variance_epsilon,
                               name)


# ------------------------------------------------------------------------------------------------
# Embeddings
# ------------------------------------------------------------------------------------------------
def _prune_invalid_ids(sparse_ids, sparse_weights):
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ops.sparse_ops import sparse_retain
    valid = math_ops.greater_equal(sparse_ids.values, 0)
    if sparse_weights is not None:
        valid = math_ops.logical_and(valid, array_ops.ones_like(sparse_weights.values, dtype=_dt.bool_))
    sparse_ids = sparse_retain(sparse_ids, valid)
    if sparse_weights is not None:
        sparse_weights = sparse_retain(sparse_weights, valid)
    return sparse_ids, sparse_weights


def _prune_invalid_weights(sparse_ids, sparse_weights):
    from graphcompat.ops import math_ops
    from graphcompat.ops.sparse_ops import sparse_retain
    if sparse_weights is not None:
        valid = math_ops.greater(sparse_weights.values, 0)
        sparse_ids = sparse_retain(sparse_ids, valid)
        sparse_weights = sparse_retain(sparse_weights, valid)
    return sparse_ids, sparse_weights


def safe_embedding_lookup_sparse(embedding_weights, sparse_ids, sparse_weights=None, combiner: str = "mean",
                                 default_id=None, name: Optional[str] = None, partition_strategy: str = "div",
                                 max_norm=None, allow_fast_lookup: bool = False) -> _ops.Tensor:
    """`tf.nn.safe_embedding_lookup_sparse`: embedding_lookup_sparse after dropping invalid ids (< 0) and, unless
    combiner is "sum", non-positive weights; empty rows give `default_id`'s embedding or zeros."""
    from graphcompat.nn.embedding_ops import embedding_lookup_sparse
    from graphcompat.ops import array_ops, math_ops
    from graphcompat.ops.indexing_ops import gather
    from graphcompat.ops.slicing_ops import slice as _slice
    from graphcompat.ops.sparse_ops import sparse_fill_empty_rows, sparse_reshape
    from graphcompat.ops.sparse_tensor import SparseTensor
    if embedding_weights is None:
        raise ValueError(f"Missing embedding_weights {embedding_weights}.")
    if not isinstance(embedding_weights, (list, tuple)):
        embedding_weights = [embedding_weights]
    embedding_weights = list(embedding_weights)
    if len(embedding_weights) < 1:
        raise ValueError(f"Missing embedding_weights {embedding_weights}.")
    dtype = sparse_weights.dtype if sparse_weights is not None else None
    embedding_weights = [w if hasattr(w, "initializer") and dtype in (None, w.dtype)
                         else convert_to_tensor(w, dtype=dtype) for w in embedding_weights]
    with _ops.name_scope(name, "embedding_lookup", embedding_weights + [sparse_ids, sparse_weights]) as scope:
        original_shape = sparse_ids.dense_shape
        rank_dim = _ts.dimension_value(original_shape.shape[0])
        original_rank = array_ops.size(original_shape) if rank_dim is None else rank_dim
        sparse_ids = sparse_reshape(sparse_ids, [
            math_ops.reduce_prod(_slice(original_shape, [0], [original_rank - 1])),
            gather(original_shape, original_rank - 1)])
        if sparse_weights is not None:
            sparse_weights = SparseTensor(sparse_ids.indices, sparse_weights.values, sparse_ids.dense_shape)
        sparse_ids, sparse_weights = _prune_invalid_ids(sparse_ids, sparse_weights)
        if combiner != "sum":
            sparse_ids, sparse_weights = _prune_invalid_weights(sparse_ids, sparse_weights)
        sparse_ids, is_row_empty = sparse_fill_empty_rows(sparse_ids, default_id or 0)
        if sparse_weights is not None:
            sparse_weights, _ = sparse_fill_empty_rows(sparse_weights, 1.0)
        result = embedding_lookup_sparse(embedding_weights, sparse_ids, sparse_weights, combiner=combiner,
                                         partition_strategy=partition_strategy,
                                         name=None if default_id is None else scope, max_norm=max_norm)
        if default_id is None:
            is_row_empty = array_ops.tile(array_ops.reshape(is_row_empty, [-1, 1]),
                                          array_ops.stack([1, array_ops.shape(result)[1]]))
            result = math_ops.where(is_row_empty, array_ops.zeros_like(result), result, name=scope)
        final = array_ops.reshape(result, array_ops.concat([
            _slice(math_ops.cast(original_shape, _dt.int32), [0], [original_rank - 1]),
            _slice(array_ops.shape(result), [1], [-1])], 0))
        lead = None if rank_dim is None else rank_dim - 1
        final.set_shape(_ts.unknown_shape(lead).concatenate(result.shape[1:]) if lead is not None
                        else _ts.unknown_shape())
        return final


__all__ = ["conv2d_backprop_input", "conv2d_backprop_filter", "depthwise_conv2d_native",
           "depthwise_conv2d_native_backprop_input", "depthwise_conv2d_native_backprop_filter",
           "depthwise_conv2d_backprop_input", "depthwise_conv2d_backprop_filter", "conv1d_transpose",
           "conv_transpose", "max_pool_v2", "avg_pool_v2", "log_poisson_loss", "sufficient_statistics",
           "batch_norm_with_global_normalization", "safe_embedding_lookup_sparse"]
