"""`tf.nn`'s N-D convolution and pooling front ends, recorded as TF's nn_ops.py records them.

- `convolution` (1, 2 or 3 spatial dims, also extra leading batch dims): Conv2D / Conv3D (conv1d for 1-D)
  named after the `convolution` scope; a dilated convolution is a non-dilated one between
  SpaceToBatchND and BatchToSpaceND (TF's `Convolution` / `_WithSpaceToBatch`), as is
- `pool` with `dilation_rate > 1` and `with_space_to_batch` itself, `atrous_conv2d` (through
  `convolution`) and `atrous_conv2d_transpose` (space_to_batch → Conv2DBackpropInput → batch_to_space);
- `depthwise_conv2d` and `separable_conv2d` (TF's nn_impl.py): DepthwiseConv2dNative through
  `with_space_to_batch`, so their graphs hold its `Shape` of the filter and `dilation_rate` constants, and a
  rate > 1 is SpaceToBatchND → DepthwiseConv2dNative (VALID) → BatchToSpaceND, not the op's dilations attr;
- `required_space_to_batch_paddings` (`tf.required_space_to_batch_paddings`);
- `conv3d_backprop_filter(_v2)` (Conv3DBackpropFilterV2).

Constant shapes and rates are folded in Python exactly where TF folds them (`constant_value`), so the
recorded graph is TF's node for node; unknown sizes are computed with Shape / StridedSlice / Pack ops.
"""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.framework.registry import apply_op, defop
from graphcompat.nn import nn_coverage as _coverage
from graphcompat.nn import nn_extra as _extra
from graphcompat.nn import nn_ops as _nn
from graphcompat.ops import array_ops as _array

FLOAT = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)


def _filter_sizes_shape(ctx):
    sizes = ctx.value(1)
    if sizes is None:
        return [_ts.unknown_shape(5)]
    return [_ts.TensorShape([int(d) for d in np.reshape(sizes, [-1])])]


defop("Conv3DBackpropFilterV2", "input: T, filter_sizes: int32, out_backprop: T -> output: T",
      attrs={"data_format": "NDHWC", "dilations": [1] * 5}, types={"T": FLOAT}, shape=_filter_sizes_shape)

# TF's _CHANNELS_LAST_FORMATS: any other data_format puts the channels right after the batch dims.
_CHANNELS_LAST = frozenset({"NWC", "NHC", "NHWC", "NWHC", "NDHWC", "NDWHC", "NHDWC", "NHWDC", "NWDHC", "NWHDC"})


def _padding_string(padding) -> str:
    """gen_nn_ops' attr conversion: `padding` must be a string (a list of pairs is a TypeError)."""
    if not isinstance(padding, (str, bytes)):
        raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
    return padding.decode() if isinstance(padding, bytes) else padding


def _gen_conv(op_type: str, input, filter, strides, padding, data_format, dilations, name):  # noqa: A002
    """`gen_nn_ops.conv2d` / `gen_nn_ops.conv3d`: the raw op (no explicit paddings)."""
    padding = _padding_string(padding)
    rank = 4 if op_type == "Conv2D" else 5
    data_format = data_format or ("NHWC" if rank == 4 else "NDHWC")
    dilations = [1] * rank if dilations is None else [int(d) for d in dilations]
    if op_type == "Conv2D":
        _nn._check_padding(op_type, padding)
        _nn._check_format(op_type, data_format)
        attrs = {"strides": [int(s) for s in strides], "padding": padding, "use_cudnn_on_gpu": True,
                 "explicit_paddings": [], "data_format": data_format, "dilations": dilations}
    else:
        _nn._check_padding(op_type, padding, ("SAME", "VALID"))
        _nn._check_format(op_type, data_format, ("NDHWC", "NCDHW"))
        attrs = {"strides": [int(s) for s in strides], "padding": padding, "data_format": data_format,
                 "dilations": dilations}
    return apply_op(op_type, [input, filter], attrs, name=name)


def squeeze_batch_dims(inp, op, inner_rank: int, name: Optional[str] = None):
    """TF's `squeeze_batch_dims`: folds the leading batch dims into one, applies `op`, unfolds them."""
    with _ops.name_scope(name, "squeeze_batch_dims", [inp]):
        inp = convert_to_tensor(inp, name="input")
        shape = inp.shape
        inner = shape[-inner_rank:]
        if not inner.is_fully_defined():
            inner = _array.shape(inp)[-inner_rank:]
        batch = shape[:-inner_rank]
        if not batch.is_fully_defined():
            batch = _array.shape(inp)[:-inner_rank]
        if isinstance(inner, _ts.TensorShape):
            folded = _array.reshape(inp, [-1] + inner.as_list())
        else:
            folded = _array.reshape(inp, _array.concat(([-1], inner), axis=-1))
        out = op(folded)
        out_inner = out.shape[-inner_rank:]
        if not out_inner.is_fully_defined():
            out_inner = _array.shape(out)[-inner_rank:]
        result = _array.reshape(out, _array.concat((batch, out_inner), axis=-1))
        result.set_shape(inp.shape[:-inner_rank] + result.shape[-inner_rank:])
        return result


def _conv_expanded_batch(op_type: str):
    inner_rank = 3 if op_type == "Conv2D" else 4

    def conv(input, filter, strides, padding, data_format=None, dilations=None, name=None):  # noqa: A002
        rank = input.shape.ndims
        if rank is None or rank <= inner_rank + 1:
            return _gen_conv(op_type, input, filter, strides, padding, data_format, dilations, name)
        return squeeze_batch_dims(
            input, lambda x: _gen_conv(op_type, x, filter, strides, padding, data_format, dilations, None),
            inner_rank=inner_rank, name=name)
    return conv


_conv2d_expanded_batch = _conv_expanded_batch("Conv2D")
_conv3d_expanded_batch = _conv_expanded_batch("Conv3D")


# ------------------------------------------------------------------------------------------------
# Space-to-batch wrapping (dilations)
# ------------------------------------------------------------------------------------------------
def required_space_to_batch_paddings(input_shape, block_shape, base_paddings=None, name: Optional[str] = None):
    """`tf.required_space_to_batch_paddings`: (paddings, crops) that extend `base_paddings` so each
    padded spatial size is a multiple of its block size."""
    with _ops.name_scope(name, "required_space_to_batch_paddings", [input_shape, block_shape]):
        input_shape = convert_to_tensor(input_shape, dtype=_dt.int32, name="input_shape")
        block_shape = convert_to_tensor(block_shape, dtype=_dt.int32, name="block_shape")
        block_shape.shape.assert_is_fully_defined()
        if block_shape.shape.ndims != 1:
            raise ValueError(f"Shape {block_shape.shape} must have rank 1")
        n = block_shape.shape.as_list()[0]
        if n == 0:
            return _array.zeros([0, 2], _dt.int32), _array.zeros([0, 2], _dt.int32)
        input_shape.shape.assert_is_compatible_with(_ts.TensorShape([n]))
        if base_paddings is not None:
            base_paddings = convert_to_tensor(base_paddings, dtype=_dt.int32, name="base_paddings")
            base_paddings.shape.assert_is_compatible_with(_ts.TensorShape([n, 2]))
        else:
            base_paddings = _array.zeros([n, 2], _dt.int32)
        const_block, const_input, const_base = (constant_value(t) for t in (block_shape, input_shape,
                                                                             base_paddings))
        if const_block is not None and const_input is not None and const_base is not None:
            block_shape, input_shape, base_paddings = (np.asarray(v) for v in (const_block, const_input,
                                                                                const_base))
        pad_start = base_paddings[:, 0]
        orig_pad_end = base_paddings[:, 1]
        full_input_shape = input_shape + pad_start + orig_pad_end
        pad_end_extra = (block_shape - full_input_shape % block_shape) % block_shape
        pad_end = orig_pad_end + pad_end_extra
        paddings = _array.stack([[pad_start[i], pad_end[i]] for i in range(n)], name="paddings")
        crops = _array.stack([[0, pad_end_extra[i]] for i in range(n)], name="crops")
        return paddings, crops


def _base_paddings(filter_shape, num_spatial_dims: int, rate):
    """SAME padding of a filter dilated by `rate`: (k - 1) * rate split as TF does, start // 2."""
    filter_spatial = filter_shape[:num_spatial_dims]
    pad_extra = (filter_spatial - 1) * rate
    pad_start = pad_extra // 2
    pad_end = pad_extra - pad_start
    return _array.stack([[pad_start[i], pad_end[i]] for i in range(num_spatial_dims)])


def _adjust(orig, fill_value, spatial_dims):
    """Rows of `orig` (one per spatial dim) spread over dims 1..max(spatial_dims), `fill_value` rows
    between them (TF's `_with_space_to_batch_adjust`)."""
    fill_dims = orig.shape.as_list()[1:]
    dtype = orig.dtype.as_numpy_dtype
    const = constant_value(orig)
    source = np.asarray(const) if const is not None else orig
    parts, prev, i = [], 0, 0
    while i < len(spatial_dims):
        start_i, start_dim = i, spatial_dims[i]
        if start_dim > 1:
            parts.append(np.full([start_dim - 1 - prev] + fill_dims, fill_value, dtype=dtype))
        while i + 1 < len(spatial_dims) and spatial_dims[i + 1] == spatial_dims[i] + 1:
            i += 1
        parts.append(source[start_i:i + 1])
        prev = spatial_dims[i]
        i += 1
    if const is not None:
        return np.concatenate(parts)
    return _array.concat(parts, 0)


def _space_to_batch_wrapper(input_shape, dilation_rate, padding, build_op, filter_shape=None, spatial_dims=None,
                            data_format=None, num_batch_dims: int = 1):
    """TF's `_WithSpaceToBatch`: checks and constants now (TF's constructor), the ops at call time."""
    dilation_rate = convert_to_tensor(dilation_rate, _dt.int32, name="dilation_rate")
    if dilation_rate.shape.ndims not in (None, 1):
        raise ValueError(f"`dilation_rate.shape.rank` must be 1. Received: dilation_rate={dilation_rate} of "
                         f"rank {dilation_rate.shape.ndims}")
    if not dilation_rate.shape.is_fully_defined():
        raise ValueError(f"`dilation_rate.shape` must be fully defined. Received: dilation_rate={dilation_rate} "
                         f"with shape {dilation_rate.shape}")
    num_spatial_dims = dilation_rate.shape.as_list()[0]
    channels_first = data_format is not None and data_format.startswith("NC")
    first = num_batch_dims + 1 if channels_first else num_batch_dims
    if spatial_dims is None:
        spatial_dims = range(first, num_spatial_dims + first)
    orig_spatial_dims = list(spatial_dims)
    spatial_dims = sorted(set(int(d) for d in orig_spatial_dims))
    if spatial_dims != orig_spatial_dims or any(d < 1 for d in spatial_dims):
        raise ValueError("`spatial_dims` must be a monotonically increasing sequence of positive integers. "
                         f"Received: spatial_dims={orig_spatial_dims}")
    expected_rank = spatial_dims[-1] if channels_first else spatial_dims[-1] + 1
    if input_shape.ndims is not None and input_shape.ndims < expected_rank:
        raise ValueError(f"`input.shape.rank` must be at least {expected_rank}. Received: "
                         f"input.shape={input_shape} with rank {input_shape.ndims}")
    const_rate = constant_value(dilation_rate)
    rate = dilation_rate
    if const_rate is not None:
        const_rate = np.asarray(const_rate)
        rate = const_rate
        if np.any(const_rate < 1):
            raise ValueError(f"`dilation_rate` must be positive. Received: dilation_rate={const_rate}")
        if np.all(const_rate == 1):
            return build_op(num_spatial_dims, padding)
    padding, explicit = _nn._convert_padding(padding)
    base_paddings = None
    if padding == "SAME":
        if filter_shape is None:
            raise ValueError("`filter_shape` must be specified for `padding='SAME'`. "
                             f"Received: filter_shape={filter_shape} and padding={padding}")
        filter_shape = convert_to_tensor(filter_shape, name="filter_shape")
        const_filter_shape = constant_value(filter_shape)
        if const_filter_shape is not None:
            base_paddings = _base_paddings(np.asarray(const_filter_shape), num_spatial_dims, rate)
    elif padding == "VALID":
        base_paddings = np.zeros([num_spatial_dims, 2], np.int32)
    elif padding == "EXPLICIT":
        pairs = np.array(explicit).reshape([num_spatial_dims + 2, 2])
        base_paddings = pairs[2:] if channels_first else pairs[1:-1]
    else:
        raise ValueError(f"`padding` must be one of 'SAME' or 'VALID'. Received: padding={padding}")
    op = build_op(num_spatial_dims, "VALID")

    def call(inp, filter):  # noqa: A002
        spatial_shape = None
        if input_shape.ndims is not None:
            dims = input_shape.as_list()
            spatial_shape = [dims[i] for i in spatial_dims]
        if spatial_shape is None or None in spatial_shape:
            shape_t = _array.shape(inp)
            spatial_shape = _array.stack([shape_t[i] for i in spatial_dims])
        pads = base_paddings
        if pads is None:
            pads = _base_paddings(_array.shape(filter), num_spatial_dims, rate)
        paddings, crops = required_space_to_batch_paddings(input_shape=spatial_shape, base_paddings=pads,
                                                           block_shape=dilation_rate)
        block = _adjust(dilation_rate, 1, spatial_dims)
        paddings = _adjust(paddings, 0, spatial_dims)
        crops = _adjust(crops, 0, spatial_dims)
        converted = _extra.space_to_batch_nd(inp, block, paddings)
        result = op(converted, filter)
        result = _extra.batch_to_space_nd(result, block, crops)
        if channels_first and not result.shape.dims[1].value and filter is not None:
            out_shape = result.shape.as_list()
            out_shape[1] = filter.shape[-1]
            result.set_shape(out_shape)
        return result
    return call


def with_space_to_batch(input, dilation_rate, padding, op, filter_shape=None, spatial_dims=None,  # noqa: A002
                        data_format=None):
    """`tf.nn.with_space_to_batch`: `op(input, num_spatial_dims, padding)` on the space-to-batch
    rearranged input (block = dilation_rate), rearranged back; a plain call when every rate is 1."""
    input = convert_to_tensor(input, name="input")  # noqa: A001
    call = _space_to_batch_wrapper(input.shape, dilation_rate, padding,
                                   lambda n, pad: (lambda inp, _: op(inp, n, pad)),
                                   filter_shape=filter_shape, spatial_dims=spatial_dims, data_format=data_format)
    return call(input, None)


def _rate_argument(rate, dilations, strides) -> list:
    """TF's v1 `rate` / `dilations` aliases (deprecated_argument_lookup) and its warning for strides with
    a rate > 1 (TF builds the graph anyway: the op then fails or strides the space-to-batch grid)."""
    if rate is not None and dilations is not None:
        raise ValueError("Cannot specify both 'rate' and 'dilations'.")
    rate = [1, 1] if rate is None and dilations is None else (rate if rate is not None else dilations)
    if any(r > 1 for r in rate) and any(s != 1 for s in strides):
        warnings.warn(f"When dilation rate is greater than 1, then all values of strides must be 1. "
                      f"Received: `dilation rate` {rate} and `strides` {strides}")
    return rate


def depthwise_conv2d(input, filter, strides, padding, rate=None, name: Optional[str] = None,  # noqa: A002
                     data_format: Optional[str] = None, dilations=None) -> _ops.Tensor:
    """`tf.nn.depthwise_conv2d` (v1): one filter bank per input channel. As TF's nn_impl.py: the
    DepthwiseConv2dNative named after the scope, inside `with_space_to_batch(filter_shape=shape(filter))`."""
    rate = _rate_argument(rate, dilations, strides)
    with _ops.name_scope(name, "depthwise", [input, filter]) as name:
        input = convert_to_tensor(input, name="tensor_in")  # noqa: A001
        filter = convert_to_tensor(filter, name="filter_in")  # noqa: A001

        def op(converted, _, padding):
            return _coverage.depthwise_conv2d_native(converted, filter, strides, padding, data_format=data_format,
                                                     name=name)
        return with_space_to_batch(input, rate, padding, op, filter_shape=_array.shape(filter),
                                   data_format=data_format)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding, rate=None,  # noqa: A002
                     name: Optional[str] = None, data_format: Optional[str] = None,
                     dilations=None) -> _ops.Tensor:
    """`tf.nn.separable_conv2d` (v1): the depthwise convolution (`<scope>/depthwise`, through
    `with_space_to_batch` as depthwise_conv2d's), then a 1x1 pointwise Conv2D named after the scope."""
    rate = _rate_argument(rate, dilations, strides)
    with _ops.name_scope(name, "separable_conv2d", [input, depthwise_filter, pointwise_filter]) as name:
        input = convert_to_tensor(input, name="tensor_in")  # noqa: A001
        depthwise_filter = convert_to_tensor(depthwise_filter, name="depthwise_filter")
        pointwise_filter = convert_to_tensor(pointwise_filter, name="pointwise_filter")
        pointwise_shape = pointwise_filter.shape.with_rank(4)
        pointwise_shape.dims[0].assert_is_compatible_with(1)
        pointwise_shape.dims[1].assert_is_compatible_with(1)

        def op(converted, _, padding):
            return _coverage.depthwise_conv2d_native(converted, depthwise_filter, strides, padding,
                                                     data_format=data_format, name="depthwise")
        depthwise = with_space_to_batch(input, rate, padding, op, filter_shape=_array.shape(depthwise_filter),
                                        data_format=data_format)
        return _nn.conv2d(depthwise, pointwise_filter, [1, 1, 1, 1], padding="VALID", data_format=data_format,
                          name=name)


def _per_spatial_dim(values, num_spatial_dims: int, what: str) -> np.ndarray:
    """One positive int per spatial dimension (all 1 when None), with TF's error texts."""
    if values is None:
        values = [1] * num_spatial_dims
    elif len(values) != num_spatial_dims:
        raise ValueError(f"`len({what})` should be {num_spatial_dims}. Received: {what}={values} of length "
                         f"{len(values)}")
    values = np.array(values, dtype=np.int32)
    if np.any(values < 1):
        raise ValueError(f"all values of `{what}` must be positive. Received: {what}={values}")
    return values


def _strides_and_dilation_rate(num_spatial_dims: int, strides, dilation_rate):
    dilation_rate = _per_spatial_dim(dilation_rate, num_spatial_dims, "dilation_rate")
    strides = _per_spatial_dim(strides, num_spatial_dims, "strides")
    if np.any(strides > 1) and np.any(dilation_rate > 1):
        raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                         f"Received: strides={strides} and dilation_rate={dilation_rate}")
    return strides, dilation_rate


# ------------------------------------------------------------------------------------------------
# Convolution
# ------------------------------------------------------------------------------------------------
def _non_atrous_op(input_shape, filter_shape, padding, data_format, strides, name, num_batch_dims=1):
    """TF's `_NonAtrousConvolution`: picks conv1d / conv2d / Conv3D after TF's rank checks."""
    if input_shape.ndims is not None:
        filter_shape = filter_shape.with_rank(input_shape.ndims - num_batch_dims + 1)
    if filter_shape.ndims is not None:
        input_shape = input_shape.with_rank(filter_shape.ndims + num_batch_dims - 1)
    if input_shape.ndims is None:
        raise ValueError(f"Rank of convolution must be known. Received: input_shape={input_shape} of rank "
                         f"{input_shape.ndims}")
    if input_shape.ndims < 3 or input_shape.ndims - num_batch_dims + 1 > 5:
        raise ValueError("`input_shape.rank - num_batch_dims + 1` must be at least 3 and at most 5. Received: "
                         f"input_shape.rank={input_shape.ndims} and num_batch_dims={num_batch_dims}")
    conv_dims = input_shape.ndims - num_batch_dims - 1
    if strides is None:
        strides = [1] * conv_dims
    elif len(strides) != conv_dims:
        raise ValueError(f"`len(strides)` should be {conv_dims}. Received: strides={strides} of length "
                         f"{len(strides)}")
    strides = [int(s) for s in strides]
    if conv_dims == 1:
        if data_format is None:
            data_format = "NWC"
        elif data_format not in {"NCW", "NWC", "NCHW", "NHWC"}:
            raise ValueError(f"`data_format` must be 'NWC' or 'NCW'. Received: data_format={data_format}")
        return lambda inp, f: _nn.conv1d(value=inp, filters=f, stride=strides[0], padding=padding,
                                         data_format=data_format, name=name)
    if conv_dims == 2:
        if data_format is None or data_format == "NHWC":
            data_format, strides = "NHWC", [1] + strides + [1]
        elif data_format == "NCHW":
            strides = [1, 1] + strides
        else:
            raise ValueError(f"`data_format` must be 'NHWC' or 'NCHW'. Received: data_format={data_format}")
        return lambda inp, f: _nn.conv2d(input=inp, filter=f, strides=strides, padding=padding,
                                         data_format=data_format, name=name)
    if data_format is None or data_format == "NDHWC":
        strides = [1] + strides + [1]
    elif data_format == "NCDHW":
        strides = [1, 1] + strides
    else:
        raise ValueError(f"`data_format` must be 'NDHWC' or 'NCDHW'. Received: data_format={data_format}")
    return lambda inp, f: _conv3d_expanded_batch(inp, f, strides, padding, data_format=data_format, name=name)


def _dilated_convolution(input, filters, padding, strides, dilation_rate, name, data_format,  # noqa: A002
                         num_spatial_dims):
    """TF's `Convolution`: a dilated convolution as space_to_batch → convolution → batch_to_space."""
    filter_shape, input_shape = filters.shape, input.shape
    num_batch_dims = None
    if filter_shape.ndims is not None:
        if num_spatial_dims is not None and filter_shape.ndims != num_spatial_dims + 2:
            raise ValueError(f"`filters.shape.rank` must be `num_spatial_dims + 2`. Received: "
                             f"filters.shape={filter_shape} of rank {filter_shape.ndims} and "
                             f"num_spatial_dims={num_spatial_dims}")
        num_spatial_dims = filter_shape.ndims - 2
    if input_shape.ndims is not None and num_spatial_dims is not None:
        num_batch_dims = input_shape.ndims - num_spatial_dims - 1
    if num_spatial_dims is None:
        num_spatial_dims = input_shape.ndims - 2 if input_shape.ndims is not None else None
    elif input_shape.ndims is not None and input_shape.ndims < num_spatial_dims + 2:
        raise ValueError("`input.shape.rank` must be >= than `num_spatial_dims + 2`. Received: "
                         f"input.shape={input_shape} of rank {input_shape.ndims} and "
                         f"num_spatial_dims={num_spatial_dims}")
    if num_spatial_dims is None:
        raise ValueError("When `num_spatial_dims` is not set, one of `input.shape.rank` or `filters.shape.rank` "
                         f"must be known. Received: input.shape={input_shape} of rank {input_shape.ndims} and "
                         f"`filters.shape={filter_shape}` of rank {filter_shape.ndims}")
    if num_batch_dims is None:
        num_batch_dims = 1
    if num_batch_dims < 1:
        raise ValueError(f"Batch dims should be >= 1, but found {num_batch_dims}. Batch dims was estimated as "
                         "`input.shape.rank - num_spatial_dims - 1` and `num_spatial_dims` was either provided "
                         "or estimated as `filters.shape.rank - 2`. Received: "
                         f"input.shape={input_shape} of rank {input_shape.ndims}, filters.shape={filter_shape} "
                         f"of rank {filter_shape.ndims}, and num_spatial_dims={num_spatial_dims}")
    channels_first = data_format is not None and data_format.startswith("NC")
    channel_axis = num_batch_dims if channels_first else num_spatial_dims + num_batch_dims
    first = num_batch_dims + 1 if channels_first else num_batch_dims
    spatial_dims = range(first, num_spatial_dims + first)
    in_channels = _dim(input_shape, channel_axis)
    filter_in = _dim(filter_shape, num_spatial_dims)
    if in_channels is not None and filter_in is not None and in_channels % filter_in:
        raise ValueError("The number of input channels is not divisible by the corresponding number of output "
                         f"filters. Received: input.shape={input_shape} with {in_channels} channels and "
                         f"filters.shape={filter_shape} with {filter_in} output filters.")
    strides, dilation_rate = _strides_and_dilation_rate(num_spatial_dims, strides, dilation_rate)
    strides = [int(s) for s in strides]
    call = _space_to_batch_wrapper(
        input_shape, dilation_rate, padding,
        lambda _, pad: _non_atrous_op(input_shape, filter_shape, pad, data_format, strides, name, num_batch_dims),
        filter_shape=filter_shape, spatial_dims=spatial_dims, data_format=data_format,
        num_batch_dims=num_batch_dims)
    return call(input, filters)


def _dim(shape: _ts.TensorShape, index: int):
    if shape.ndims is None or index >= shape.ndims:
        return None
    return shape.as_list()[index]


def convolution_internal(input, filters, strides=None, padding="VALID", data_format=None,  # noqa: A002
                         dilations=None, name: Optional[str] = None, num_spatial_dims=None):
    """TF's `convolution_internal` (outside a TPU context)."""
    if not isinstance(filters, _ops.Tensor) and not hasattr(filters, "_as_graph_element"):
        with _ops.name_scope("convolution_internal", None, [filters, input]):
            filters = convert_to_tensor(filters, name="filters")
    if not isinstance(input, _ops.Tensor):
        with _ops.name_scope("convolution_internal", None, [filters, input]):
            input = convert_to_tensor(input, name="input")  # noqa: A001
    filters_rank, inputs_rank = filters.shape.ndims, input.shape.ndims
    if num_spatial_dims is None:
        if filters_rank:
            num_spatial_dims = filters_rank - 2
        elif inputs_rank:
            num_spatial_dims = inputs_rank - 2
        else:
            raise ValueError("When `num_spatial_dims` is not set, one of `input.shape.rank` or "
                             f"`filters.shape.rank` must be known. Received: input.shape={input.shape} of rank "
                             f"{inputs_rank} and filters.shape={filters.shape} of rank {filters_rank}")
    elif filters_rank and filters_rank - 2 != num_spatial_dims:
        raise ValueError("`filters.shape.rank - 2` should equal `num_spatial_dims`. Received: "
                         f"filters.shape={filters.shape} of rank {filters_rank} and "
                         f"num_spatial_dims={num_spatial_dims}")
    num_batch_dims = inputs_rank - num_spatial_dims - 1 if inputs_rank else 1
    if num_spatial_dims not in {1, 2, 3}:
        raise ValueError(f"`num_spatial_dims` must be 1, 2, or 3. Received: num_spatial_dims={num_spatial_dims}.")
    if data_format is None or data_format in _CHANNELS_LAST:
        channel_index = num_batch_dims + num_spatial_dims
    else:
        channel_index = num_batch_dims
    dilated = dilations is not None
    dilations = _nn._get_sequence(dilations, num_spatial_dims, channel_index, "dilations")
    dilated = dilated and any(d != 1 for d in dilations)
    strides = _nn._get_sequence(strides, num_spatial_dims, channel_index, "strides")
    with _ops.name_scope(name, None if name else "convolution", [input, filters]) as name:
        if not dilated:
            if num_spatial_dims == 2:
                op = _conv2d_expanded_batch
            elif num_spatial_dims == 3:
                op = _conv3d_expanded_batch
            else:
                op = _conv1d
            return op(input, filters, strides, padding=padding, data_format=data_format, dilations=dilations,
                      name=name)
        if channel_index == 1:
            strides, dilations = strides[2:], dilations[2:]
        else:
            strides, dilations = strides[1:-1], dilations[1:-1]
        return _dilated_convolution(input, filters, padding, strides, dilations, name, data_format,
                                    num_spatial_dims)


def _conv1d(input, filters, strides, padding, data_format=None, dilations=None, name=None):  # noqa: A002
    return _nn.conv1d(input, filters, strides, padding, data_format=data_format, dilations=dilations, name=name)


def convolution(input, filter=None, padding=None, strides=None, dilation_rate=None,  # noqa: A002
                name: Optional[str] = None, data_format: Optional[str] = None, filters=None, dilations=None):
    """`tf.nn.convolution` (v1): N-D convolution, N = 1, 2 or 3 (Conv2D / Conv3D / conv1d's Conv2D);
    dilations > 1 through SpaceToBatchND / BatchToSpaceND, as TF records them."""
    if filter is not None and filters is not None:
        raise ValueError("Cannot specify both 'filter' and 'filters'.")
    if dilation_rate is not None and dilations is not None:
        raise ValueError("Cannot specify both 'dilation_rate' and 'dilations'.")
    filter = filters if filter is None else filter  # noqa: A001
    dilation_rate = dilations if dilation_rate is None else dilation_rate
    return convolution_internal(input, filter, strides=strides, padding=padding, data_format=data_format,
                                dilations=dilation_rate, name=name)


def atrous_conv2d(value, filters, rate, padding, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.atrous_conv2d`: `convolution` with dilation_rate (rate, rate): SpaceToBatchND → Conv2D →
    BatchToSpaceND."""
    return convolution(input=value, filter=filters, padding=padding, dilation_rate=np.broadcast_to(rate, (2,)),
                       name=name)


def atrous_conv2d_transpose(value, filters, output_shape, rate, padding, name: Optional[str] = None):
    """`tf.nn.atrous_conv2d_transpose`: the transpose of atrous_conv2d, as TF builds it (rate 1:
    conv2d_transpose; else space_to_batch → Conv2DBackpropInput (VALID) → batch_to_space)."""
    with _ops.name_scope(name, "atrous_conv2d_transpose", [value, filters, output_shape]) as name:
        value = convert_to_tensor(value, name="value")
        filters = convert_to_tensor(filters, name="filters")
        v_shape, f_shape = value.shape, filters.shape
        v_in, f_in = _dim(v_shape, 3), _dim(f_shape, 3)
        if v_in is not None and f_in is not None and v_in != f_in:
            raise ValueError("`value` channel count must be compatible with `filters` input channel count. "
                             f"Received: value.shape={v_shape} with channel count {v_in} and "
                             f"filters.shape={f_shape} with input channel count {f_in}.")
        if rate < 1:
            raise ValueError(f"`rate` cannot be less than one. Received: rate={rate}")
        if rate == 1:
            return _nn.conv2d_transpose(value, filters, output_shape, strides=[1, 1, 1, 1], padding=padding,
                                        data_format="NHWC")
        output_shape_t = convert_to_tensor(output_shape, name="output_shape")
        if not output_shape_t.shape.is_compatible_with(_ts.TensorShape([4])):
            raise ValueError(f"`output_shape` must have shape (4,). Received: output_shape={output_shape_t.shape}")
        if isinstance(output_shape, tuple):
            output_shape = list(output_shape)
        if isinstance(output_shape, (list, np.ndarray)):
            f_out = _dim(f_shape, 2)
            if f_out is not None and int(output_shape[3]) != f_out:
                raise ValueError("`output_shape` channel count must be compatible with `filters` output channel "
                                 f"count. Received: output_shape={output_shape} with channel count "
                                 f"{output_shape[3]} and filters.shape={f_shape} with output channel count "
                                 f"{_dim(f_shape, 3)}.")
        if padding == "SAME":
            if f_shape.is_fully_defined():
                fs = f_shape.as_list()
            else:
                fs = _array.shape(filters)
            fh, fw = fs[0], fs[1]
            pad_h = fh + (fh - 1) * (rate - 1) - 1
            pad_w = fw + (fw - 1) * (rate - 1) - 1
            pad_top = pad_h // 2
            pad_bottom = pad_h - pad_top
            pad_left = pad_w // 2
            pad_right = pad_w - pad_left
        elif padding == "VALID":
            pad_top = pad_bottom = pad_left = pad_right = 0
        else:
            raise ValueError(f"`padding` must be either 'VALID' or 'SAME'. Received: padding={padding}")
        in_h = output_shape[1] + pad_top + pad_bottom
        in_w = output_shape[2] + pad_left + pad_right
        extra_bottom = (rate - in_h % rate) % rate
        extra_right = (rate - in_w % rate) % rate
        value = _extra.space_to_batch(value, [[0, extra_bottom], [0, extra_right]], block_size=rate)
        input_sizes = [rate * rate * output_shape[0], (in_h + extra_bottom) // rate,
                       (in_w + extra_right) // rate, output_shape[3]]
        value = apply_op("Conv2DBackpropInput", [input_sizes, filters, value], {
            "strides": [1, 1, 1, 1], "padding": "VALID", "use_cudnn_on_gpu": True, "explicit_paddings": [],
            "data_format": "NHWC", "dilations": [1, 1, 1, 1]})
        return _extra.batch_to_space(value, [[pad_top, pad_bottom + extra_bottom],
                                             [pad_left, pad_right + extra_right]], block_size=rate)


# ------------------------------------------------------------------------------------------------
# Pooling
# ------------------------------------------------------------------------------------------------
def pool(input, window_shape, pooling_type, padding, dilation_rate=None, strides=None,  # noqa: A002
         name: Optional[str] = None, data_format: Optional[str] = None, dilations=None) -> _ops.Tensor:
    """`tf.nn.pool` (v1): N-D max or average pooling (N = 1, 2, 3); dilation_rate > 1 (VALID only, as
    TF) pools the space-to-batch rearranged input."""
    if dilation_rate is not None and dilations is not None:
        raise ValueError("Cannot specify both 'dilation_rate' and 'dilations'.")
    dilation_rate = dilations if dilation_rate is None else dilation_rate
    with _ops.name_scope(name, f"{pooling_type.lower()}_pool", [input]) as scope:
        input = convert_to_tensor(input, name="input")  # noqa: A001
        num_spatial_dims = len(window_shape)
        if num_spatial_dims < 1 or num_spatial_dims > 3:
            raise ValueError(f"`len(window_shape)` must be 1, 2, or 3. Received: window_shape={window_shape} of "
                             f"length {len(window_shape)}")
        input.shape.with_rank(num_spatial_dims + 2)
        strides, dilation_rate = _strides_and_dilation_rate(num_spatial_dims, strides, dilation_rate)
        if padding == "SAME" and np.any(dilation_rate > 1):
            raise ValueError("pooling with 'SAME' padding is not implemented for `dilation_rate` > 1. Received: "
                             f"padding={padding} and dilation_rate={dilation_rate}")
        if np.any(strides > window_shape):
            raise ValueError("`strides` > `window_shape` not supported due to inconsistency between CPU and GPU "
                             f"implementations. Received: strides={strides} and window_shape={window_shape}")
        if pooling_type not in ("MAX", "AVG"):
            raise ValueError(f"{num_spatial_dims}-D {pooling_type} pooling is not supported.")
        channels_first = data_format is not None and data_format.startswith("NC")
        if channels_first:
            window = [1, 1] + [int(w) for w in window_shape]
            step = [1, 1] + [int(s) for s in strides]
            spatial_dims = range(2, num_spatial_dims + 2)
        else:
            window = [1] + [int(w) for w in window_shape] + [1]
            step = [1] + [int(s) for s in strides] + [1]
            spatial_dims = range(1, num_spatial_dims + 1)
        if num_spatial_dims == 1:
            if data_format is None or data_format == "NWC":
                fmt = "NHWC"
            elif data_format == "NCW":
                fmt = "NCHW"
            else:
                raise ValueError(f"data_format must be either 'NWC' or 'NCW'. Received: data_format={data_format}")
            window, step = [1] + window, [1] + step
        else:
            fmt = data_format
        if num_spatial_dims == 3:
            fn = _extra.max_pool3d if pooling_type == "MAX" else _extra.avg_pool3d
            fmt = fmt or "NDHWC"
        else:
            fn = _nn.max_pool if pooling_type == "MAX" else _nn.avg_pool
            fmt = fmt or "NHWC"

        def op(converted, _, converted_padding):
            if num_spatial_dims == 1:
                converted = _array.expand_dims(converted, spatial_dims[0])
            result = fn(converted, window, step, converted_padding, data_format=fmt, name=scope)
            if num_spatial_dims == 1:
                result = _array.squeeze(result, [spatial_dims[0]])
            return result

        return with_space_to_batch(input=input, dilation_rate=dilation_rate, padding=padding, op=op,
                                   spatial_dims=spatial_dims, filter_shape=window_shape)


# ------------------------------------------------------------------------------------------------
# Conv3D's filter gradient as an op
# ------------------------------------------------------------------------------------------------
def conv3d_backprop_filter_v2(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                              data_format: str = "NDHWC", dilations=(1, 1, 1, 1, 1),
                              name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.conv3d_backprop_filter(_v2)`: the gradient of Conv3D w.r.t. its filter
    (Conv3DBackpropFilterV2)."""
    for arg, value in (("strides", strides), ("dilations", dilations)):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"Expected list for '{arg}' argument to 'conv3d_backprop_filter_v2' Op, not {value}.")
    padding = _padding_string(padding)
    data_format = data_format or "NDHWC"
    _nn._check_padding("Conv3DBackpropFilterV2", padding, ("SAME", "VALID"))
    _nn._check_format("Conv3DBackpropFilterV2", data_format, ("NDHWC", "NCDHW"))
    return apply_op("Conv3DBackpropFilterV2", [input, filter_sizes, out_backprop], {
        "strides": [int(s) for s in strides], "padding": padding, "data_format": data_format,
        "dilations": [int(d) for d in dilations]}, name=name)


conv3d_backprop_filter = conv3d_backprop_filter_v2

__all__ = ["convolution", "with_space_to_batch", "pool", "atrous_conv2d", "atrous_conv2d_transpose",
           "required_space_to_batch_paddings", "conv3d_backprop_filter", "conv3d_backprop_filter_v2"]
