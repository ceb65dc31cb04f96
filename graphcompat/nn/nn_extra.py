"""The rest of `tf.nn` real models use: 3-D convolution (+ transpose) and pooling, 1-D pooling,
`tf.nn.pool`, space/batch/depth rearrangements, max_pool_with_argmax, CTC (loss, greedy and beam
search decoders), swish/silu, crelu, relu_layer, weighted_moments, normalize_moments.

Op types, attrs and names follow TF (gen_nn_ops, gen_array_ops, gen_ctc_ops, nn_impl.py, nn_ops.py,
ctc_ops.py). Lowerings: lowering/rules/nn_extra.py.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop
from graphcompat.nn import nn_ops as _nn
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math
from graphcompat.ops.indexing_ops import depth_to_space, space_to_depth  # noqa: F401 (tf.nn names)
from graphcompat.ops.nn_ops import _spatial_out
from graphcompat.ops.sparse_tensor import SparseTensor

FLOAT = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)
INDEX = (_dt.int32, _dt.int64)


# ------------------------------------------------------------------------------------------------
# Shape functions
# ------------------------------------------------------------------------------------------------
def _rank(ctx: InferenceContext, shape: _ts.TensorShape, rank: int) -> list:
    if shape.ndims is not None and shape.ndims != rank:
        raise ctx.error(f"Shape must be rank {rank} but is rank {shape.ndims}")
    return shape.as_list() if shape.ndims is not None else [None] * rank


def _layout5(data_format: str):
    return (0, (2, 3, 4), 1) if data_format.startswith("NC") else (0, (1, 2, 3), 4)


def _conv3d_shape(ctx: InferenceContext):
    x, w = _rank(ctx, ctx.shape(0), 5), _rank(ctx, ctx.shape(1), 5)
    n_ax, spatial, c_ax = _layout5(ctx.attrs["data_format"])
    in_depth, f_in, out_depth = x[c_ax], w[3], w[4]
    if in_depth is not None and f_in is not None and in_depth % f_in:
        raise ctx.error(f"Depth of input ({in_depth}) is not a multiple of input depth of filter ({f_in})")
    out = [None] * 5
    out[n_ax], out[c_ax] = x[n_ax], out_depth
    strides, dilations = ctx.attrs["strides"], ctx.attrs["dilations"]
    for i, ax in enumerate(spatial):
        out[ax] = None if w[i] is None else _spatial_out(x[ax], w[i], strides[ax], dilations[ax],
                                                         ctx.attrs["padding"])
    return [_ts.TensorShape(out)]


def _pool3d_shape(ctx: InferenceContext):
    x = _rank(ctx, ctx.shape(0), 5)
    n_ax, spatial, c_ax = _layout5(ctx.attrs["data_format"])
    out = list(x)
    for ax in spatial:
        out[ax] = _spatial_out(x[ax], ctx.attrs["ksize"][ax], ctx.attrs["strides"][ax], 1, ctx.attrs["padding"])
    return [_ts.TensorShape(out)]


def _space_batch_shape(to_batch: bool):
    def shape(ctx: InferenceContext):
        x = ctx.shape(0)
        block, amounts = ctx.value(1), ctx.value(2)
        if x.ndims is None or block is None:
            return [_ts.unknown_shape(x.ndims) if x.ndims is not None else _ts.unknown_shape()]
        block = [int(b) for b in np.reshape(block, [-1])]
        dims = x.as_list()
        m = len(block)
        if x.ndims < m + 1:
            raise ctx.error(f"Shape must be at least rank {m + 1} but is rank {x.ndims}")
        out = list(dims)
        prod = int(np.prod(block))
        if to_batch:
            out[0] = None if dims[0] is None else dims[0] * prod
        else:
            if dims[0] is not None and dims[0] % prod:
                raise ctx.error(f"Dimension size must be evenly divisible by {prod} but is {dims[0]}")
            out[0] = None if dims[0] is None else dims[0] // prod
        for i, b in enumerate(block):
            d = dims[i + 1]
            if d is None or amounts is None:
                out[i + 1] = None
                continue
            lo, hi = (int(v) for v in np.reshape(amounts, [-1, 2])[i])
            if to_batch:
                padded = d + lo + hi
                if padded % b:
                    raise ctx.error(f"Dimension size must be evenly divisible by {b} but is {padded}")
                out[i + 1] = padded // b
            else:
                out[i + 1] = d * b - lo - hi
        return [_ts.TensorShape(out)]
    return shape


def _max_pool_argmax_shape(ctx: InferenceContext):
    x = _rank(ctx, ctx.shape(0), 4)
    out = list(x)
    for ax in (1, 2):
        out[ax] = _spatial_out(x[ax], ctx.attrs["ksize"][ax], ctx.attrs["strides"][ax], 1, ctx.attrs["padding"])
    return [_ts.TensorShape(out)] * 2


def _merge_dim(ctx: InferenceContext, a, b):
    if a is not None and b is not None and a != b:
        raise ctx.error(f"Dimensions must be equal, but are {a} and {b}")
    return a if a is not None else b


def _ctc_loss_shape(ctx: InferenceContext):
    inputs = _rank(ctx, ctx.shape(0), 3)
    _rank(ctx, ctx.shape(1), 2)
    _rank(ctx, ctx.shape(2), 1)
    batch = _merge_dim(ctx, inputs[1], _rank(ctx, ctx.shape(3), 1)[0])
    return [_ts.TensorShape([batch]), _ts.TensorShape([inputs[0], batch, inputs[2]])]


def _ctc_decoder_shape(ctx: InferenceContext):
    inputs = _rank(ctx, ctx.shape(0), 3)
    batch = _merge_dim(ctx, inputs[1], _rank(ctx, ctx.shape(1), 1)[0])
    paths = ctx.attrs.get("top_paths", 1)
    sparse = [_ts.TensorShape([None, 2])] * paths + [_ts.TensorShape([None])] * paths + [_ts.TensorShape([2])] * paths
    return sparse + [_ts.TensorShape([batch, paths if ctx.op_type == "CTCBeamSearchDecoder" else 1])]


# ------------------------------------------------------------------------------------------------
# Op definitions
# ------------------------------------------------------------------------------------------------
defop("Conv3D", "input: T, filter: T -> output: T", attrs={"data_format": "NDHWC", "dilations": [1] * 5},
      types={"T": FLOAT}, shape=_conv3d_shape)
defop("Conv3DBackpropInputV2", "input_sizes: Tshape, filter: T, out_backprop: T -> output: T",
      attrs={"data_format": "NDHWC", "dilations": [1] * 5, "Tshape": _dt.int32},
      types={"T": FLOAT, "Tshape": INDEX},
      shape=lambda ctx: [_ts.TensorShape([int(d) for d in ctx.value(0)]) if ctx.value(0) is not None
                         else _ts.unknown_shape(5)])
for _op in ("MaxPool3D", "AvgPool3D"):
    defop(_op, "input: T -> output: T", attrs={"data_format": "NDHWC"}, types={"T": FLOAT}, shape=_pool3d_shape)
defop("SpaceToBatchND", "input: T, block_shape: Tblock_shape, paddings: Tpaddings -> output: T",
      types={"Tblock_shape": INDEX, "Tpaddings": INDEX}, shape=_space_batch_shape(True))
defop("BatchToSpaceND", "input: T, block_shape: Tblock_shape, crops: Tcrops -> output: T",
      types={"Tblock_shape": INDEX, "Tcrops": INDEX}, shape=_space_batch_shape(False))
defop("MaxPoolWithArgmax", "input: T -> output: T, argmax: Targmax",
      attrs={"Targmax": _dt.int64, "include_batch_in_index": False}, types={"Targmax": INDEX},
      shape=_max_pool_argmax_shape)
defop("CTCLoss", "inputs: T, labels_indices: int64, labels_values: int32, sequence_length: int32 -> loss: T, "
      "gradient: T", attrs={"preprocess_collapse_repeated": False, "ctc_merge_repeated": True,
                            "ignore_longer_outputs_than_inputs": False}, types={"T": (_dt.float32, _dt.float64)},
      shape=_ctc_loss_shape)
defop("CTCGreedyDecoder", "inputs: T, sequence_length: int32 -> decoded_indices: int64, decoded_values: int64, "
      "decoded_shape: int64, log_probability: T", attrs={"merge_repeated": False, "blank_index": -1},
      types={"T": (_dt.float32, _dt.float64)}, shape=_ctc_decoder_shape)
defop("CTCBeamSearchDecoder", "inputs: T, sequence_length: int32 -> decoded_indices: top_paths * int64, "
      "decoded_values: top_paths * int64, decoded_shape: top_paths * int64, log_probability: T",
      attrs={"merge_repeated": True}, types={"T": (_dt.float32, _dt.float64)}, shape=_ctc_decoder_shape)


# ------------------------------------------------------------------------------------------------
# 3-D convolution and pooling, 1-D pooling, tf.nn.pool
# ------------------------------------------------------------------------------------------------
def conv3d(input, filter=None, strides=None, padding=None, data_format: str = "NDHWC",  # noqa: A002
           dilations=(1, 1, 1, 1, 1), name: Optional[str] = None, filters=None) -> _ops.Tensor:
    """`tf.nn.conv3d`: input [batch, depth, height, width, in] (NDHWC), filter [fd, fh, fw, in, out]."""
    filter = filters if filter is None else filter
    _nn._check_padding("Conv3D", padding, ("SAME", "VALID"))
    _nn._check_format("Conv3D", data_format, ("NDHWC", "NCDHW"))
    return apply_op("Conv3D", [input, filter], {"strides": [int(s) for s in strides], "padding": padding,
                                                "data_format": data_format,
                                                "dilations": [int(d) for d in dilations]}, name=name)


def conv3d_transpose(value, filter=None, output_shape=None, strides=None, padding: str = "SAME",
                     data_format: str = "NDHWC", name: Optional[str] = None, input=None,  # noqa: A002
                     filters=None, dilations=None) -> _ops.Tensor:
    """`tf.nn.conv3d_transpose` (v1): the gradient of conv3d w.r.t. its input (Conv3DBackpropInputV2)."""
    value = input if value is None else value
    filter = filters if filter is None else filter
    with _ops.name_scope(name, "conv3d_transpose", [value, filter, output_shape]) as name:
        value = convert_to_tensor(value, name="value")
        filter = convert_to_tensor(filter, name="filter")
        axis = 1 if data_format == "NCDHW" else 4
        if value.shape.ndims == 5 and filter.shape.ndims == 5 and value.shape[axis].value is not None \
                and filter.shape[4].value is not None and value.shape[axis].value != filter.shape[4].value:
            raise ValueError(f"Dimensions must be equal, but are {value.shape[axis].value} and "
                             f"{filter.shape[4].value}")
        _nn._check_padding("Conv3DBackpropInputV2", padding, ("SAME", "VALID"))
        output_shape = convert_to_tensor(output_shape, name="input_sizes")
        return apply_op("Conv3DBackpropInputV2", [output_shape, filter, value], {
            "strides": [int(s) for s in strides], "padding": padding, "data_format": data_format,
            "dilations": [int(d) for d in (dilations or [1] * 5)], "Tshape": output_shape.dtype.base_dtype},
            name=name)


def _pool3d(op_type: str):
    def pool(input, ksize, strides, padding, data_format: str = "NDHWC",  # noqa: A002
             name: Optional[str] = None) -> _ops.Tensor:
        _nn._check_padding(op_type, padding, ("SAME", "VALID"))
        _nn._check_format(op_type, data_format, ("NDHWC", "NCDHW"))
        channel_index = 1 if data_format.startswith("NC") else 4
        return apply_op(op_type, [input], {"ksize": _nn._get_sequence(ksize, 3, channel_index, "ksize"),
                                           "strides": _nn._get_sequence(strides, 3, channel_index, "strides"),
                                           "padding": padding, "data_format": data_format}, name=name)
    pool.__name__ = "max_pool3d" if op_type == "MaxPool3D" else "avg_pool3d"
    pool.__doc__ = f"`tf.nn.{pool.__name__}` ({op_type})."
    return pool


max_pool3d = _pool3d("MaxPool3D")
avg_pool3d = _pool3d("AvgPool3D")


def _pool1d(op_type: str, default: str):
    def pool(input, ksize, strides, padding, data_format: str = "NWC",  # noqa: A002
             name: Optional[str] = None) -> _ops.Tensor:
        with _ops.name_scope(name, default, [input]) as name:
            data_format = data_format or "NWC"
            channel_index = 1 if data_format.startswith("NC") else 2
            ksize = [1] + _nn._get_sequence(ksize, 1, channel_index, "ksize")
            strides = [1] + _nn._get_sequence(strides, 1, channel_index, "strides")
            expanding_dim = 1 if data_format == "NWC" else 2
            data_format = "NHWC" if data_format == "NWC" else "NCHW"
            _nn._check_padding(op_type, padding, ("SAME", "VALID"))
            attrs = {"ksize": ksize, "strides": strides, "padding": padding, "data_format": data_format}
            if op_type == "MaxPool":
                attrs["explicit_paddings"] = []
            result = apply_op(op_type, [_array.expand_dims(input, expanding_dim)], attrs, name=name)
            return _array.squeeze(result, [expanding_dim])
    pool.__name__ = "max_pool1d" if op_type == "MaxPool" else "avg_pool1d"
    pool.__doc__ = f"`tf.nn.{pool.__name__}`: ExpandDims → {op_type} → Squeeze, as TF builds it."
    return pool


max_pool1d = _pool1d("MaxPool", "MaxPool1d")
avg_pool1d = _pool1d("AvgPool", "AvgPool1D")


# ------------------------------------------------------------------------------------------------
# Space/batch rearrangements
# ------------------------------------------------------------------------------------------------
def space_to_batch_nd(input, block_shape, paddings, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.space_to_batch_nd`: zero-pads the spatial dims, then moves blocks of them into the batch."""
    return apply_op("SpaceToBatchND", [input, block_shape, paddings], name=name)


def batch_to_space_nd(input, block_shape, crops, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.batch_to_space_nd`: the inverse of space_to_batch_nd, cropping afterwards."""
    return apply_op("BatchToSpaceND", [input, block_shape, crops], name=name)


def space_to_batch(input, paddings, block_size=None, name: Optional[str] = None,  # noqa: A002
                   block_shape=None) -> _ops.Tensor:
    """`tf.space_to_batch` (v1): space_to_batch_nd over two spatial dims with a square block."""
    block_size = block_shape if block_size is None else block_size
    result = space_to_batch_nd(input, np.array([block_size, block_size], np.int64), paddings, name=name)
    result.set_shape(result.shape.with_rank(4))
    return result


def batch_to_space(input, crops, block_size, name: Optional[str] = None, block_shape=None):  # noqa: A002
    """`tf.batch_to_space` (v1): batch_to_space_nd over two spatial dims with a square block."""
    block_size = block_shape if block_size is None else block_size
    result = batch_to_space_nd(input, np.array([block_size, block_size], np.int64), crops, name=name)
    result.set_shape(result.shape.with_rank(4))
    return result


def max_pool_with_argmax(input, ksize, strides, padding, data_format: str = "NHWC", Targmax=None,  # noqa: A002,N803
                         name: Optional[str] = None, output_dtype=None, include_batch_in_index: bool = False):
    """`tf.nn.max_pool_with_argmax` (v1): max pooling and the flat index of each maximum."""
    if data_format != "NHWC":
        raise ValueError(f"`data_format` values other  than 'NHWC' are not supported. Received: "
                         f"data_format={data_format}")
    targmax = output_dtype if output_dtype is not None else Targmax
    for arg, value in (("ksize", ksize), ("strides", strides)):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"Expected list for '{arg}' argument to 'max_pool_with_argmax' Op, not {value}.")
    _nn._check_padding("MaxPoolWithArgmax", padding, ("SAME", "VALID"))
    return apply_op("MaxPoolWithArgmax", [input], {
        "ksize": [int(k) for k in ksize], "strides": [int(s) for s in strides], "padding": padding,
        "Targmax": _dt.as_dtype(targmax or _dt.int64), "include_batch_in_index": bool(include_batch_in_index)},
        name=name)


# ------------------------------------------------------------------------------------------------
# Activations and moments
# ------------------------------------------------------------------------------------------------
def swish(features, beta=1.0, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.swish` / `tf.nn.silu`: features * sigmoid(beta * features)."""
    features = convert_to_tensor(features, name="features")
    beta = _math.cast(convert_to_tensor(beta, name="beta"), features.dtype.base_dtype)
    return features * _math.sigmoid(beta * features)


silu = swish


def crelu(features, name: Optional[str] = None, axis: int = -1) -> _ops.Tensor:
    """`tf.nn.crelu`: Relu of [features, -features] concatenated along `axis`."""
    with _ops.name_scope(name, "CRelu", [features]) as name:
        features = convert_to_tensor(features, name="features")
        c = _array.concat([features, -features], axis, name=name)
        return _nn.relu(c)


def relu_layer(x, weights, biases, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.relu_layer`: Relu(x @ weights + biases)."""
    from graphcompat.ops.linalg_ops import matmul
    with _ops.name_scope(name, "relu_layer", [x, weights, biases]) as name:
        x = convert_to_tensor(x, name="x")
        weights = convert_to_tensor(weights, name="weights")
        biases = convert_to_tensor(biases, name="biases")
        return _nn.relu(_nn.bias_add(matmul(x, weights), biases), name=name)


def normalize_moments(counts, mean_ss, variance_ss, shift, name: Optional[str] = None):
    """`tf.nn.normalize_moments`: (mean, variance) from sufficient statistics."""
    with _ops.name_scope(name, "normalize", [counts, mean_ss, variance_ss, shift]):
        divisor = _math.reciprocal(counts, name="divisor")
        if shift is not None:
            shifted_mean = _math.multiply(mean_ss, divisor, name="shifted_mean")
            mean = _math.add(shifted_mean, shift, name="mean")
        else:
            shifted_mean = _math.multiply(mean_ss, divisor, name="mean")
            mean = shifted_mean
        variance = _math.subtract(_math.multiply(variance_ss, divisor), _math.square(shifted_mean),
                                  name="variance")
    return mean, variance


def weighted_moments(x, axes, frequency_weights, name: Optional[str] = None, keep_dims=None, keepdims=None):
    """`tf.nn.weighted_moments`: frequency-weighted mean and variance along `axes`."""
    if keep_dims is not None and keepdims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
    keep_dims = bool(keepdims if keepdims is not None else keep_dims or False)
    with _ops.name_scope(name, "weighted_moments", [x, frequency_weights, axes]):
        x = convert_to_tensor(x, name="x")
        frequency_weights = convert_to_tensor(frequency_weights, name="frequency_weights")
        needs_cast = x.dtype.base_dtype == _dt.float16
        if needs_cast:
            x = _math.cast(x, _dt.float32)
        if frequency_weights.dtype.base_dtype != x.dtype.base_dtype:
            frequency_weights = _math.cast(frequency_weights, x.dtype.base_dtype)
        weighted_input_sum = _math.reduce_sum(frequency_weights * x, axes, name="weighted_input_sum",
                                              keepdims=True)
        broadcasted_weights = frequency_weights + _array.zeros_like(x)
        sum_of_weights = _math.reduce_sum(broadcasted_weights, axes, name="sum_of_weights", keepdims=True)
        weighted_mean = _math.divide_no_nan(weighted_input_sum, sum_of_weights)
        weighted_distsq = _math.reduce_sum(frequency_weights * _math.squared_difference(x, weighted_mean), axes,
                                           name="weighted_distsq", keepdims=True)
        weighted_variance = _math.divide_no_nan(weighted_distsq, sum_of_weights)
        if not keep_dims:
            weighted_mean = _array.squeeze(weighted_mean, axis=axes)
            weighted_variance = _array.squeeze(weighted_variance, axis=axes)
        if needs_cast:
            weighted_mean = _math.cast(weighted_mean, _dt.float16)
            weighted_variance = _math.cast(weighted_variance, _dt.float16)
        return weighted_mean, weighted_variance


# ------------------------------------------------------------------------------------------------
# CTC
# ------------------------------------------------------------------------------------------------
def ctc_loss(labels, inputs=None, sequence_length=None, preprocess_collapse_repeated: bool = False,
             ctc_merge_repeated: bool = True, ignore_longer_outputs_than_inputs: bool = False,
             time_major: bool = True, logits=None) -> _ops.Tensor:
    """`tf.nn.ctc_loss` (v1): per-example negative log-likelihood of `labels` (a SparseTensor of int32
    class ids) under the CTC model of `inputs` (logits; the last class is the blank)."""
    if inputs is not None and logits is not None:
        raise ValueError("Cannot specify both 'inputs' and 'logits'.")
    inputs = logits if inputs is None else inputs
    if not isinstance(labels, SparseTensor):
        raise TypeError("Expected labels (first argument) to be a SparseTensor")
    inputs = convert_to_tensor(inputs, name="logits" if logits is not None else "inputs")
    if not time_major:
        inputs = _array.transpose(inputs, [1, 0, 2])
    loss, _ = apply_op("CTCLoss", [inputs, labels.indices, labels.values, sequence_length], {
        "preprocess_collapse_repeated": bool(preprocess_collapse_repeated),
        "ctc_merge_repeated": bool(ctc_merge_repeated),
        "ignore_longer_outputs_than_inputs": bool(ignore_longer_outputs_than_inputs)})
    return loss


def ctc_greedy_decoder(inputs, sequence_length, merge_repeated: bool = True, blank_index=None):
    """`tf.nn.ctc_greedy_decoder`: ([SparseTensor of the best path], -sum of the max logits [batch, 1])."""
    attrs = {"merge_repeated": bool(merge_repeated)}
    if blank_index is not None:
        attrs["blank_index"] = int(blank_index)
    indices, values, shape, log_probabilities = apply_op("CTCGreedyDecoder", [inputs, sequence_length], attrs)
    return [SparseTensor(indices, values, shape)], log_probabilities


def ctc_beam_search_decoder(inputs, sequence_length, beam_width: int = 100, top_paths: int = 1,
                            merge_repeated: bool = True):
    """`tf.nn.ctc_beam_search_decoder`: (the `top_paths` best label sequences as SparseTensors, their
    log probabilities [batch, top_paths])."""
    indices, values, shapes, log_probabilities = apply_op(
        "CTCBeamSearchDecoder", [inputs, sequence_length],
        {"beam_width": int(beam_width), "top_paths": int(top_paths), "merge_repeated": bool(merge_repeated)})
    return [SparseTensor(i, v, s) for i, v, s in zip(indices, values, shapes)], log_probabilities


__all__ = ["conv3d", "conv3d_transpose", "max_pool3d", "avg_pool3d", "max_pool1d", "avg_pool1d",
           "space_to_batch_nd", "batch_to_space_nd", "space_to_batch", "batch_to_space", "depth_to_space",
           "space_to_depth", "max_pool_with_argmax", "swish", "silu", "crelu", "relu_layer", "normalize_moments",
           "weighted_moments", "ctc_loss", "ctc_greedy_decoder", "ctc_beam_search_decoder"]
