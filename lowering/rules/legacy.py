"""Lowerings of the TF 1.x op types in graphcompat/ops/legacy_ops.py.

Where TF's kernel for the old op type is the newer op's kernel with another signature (Concat is ConcatV2 with
the axis first, BatchMatrixInverse is MatrixInverse, FusedBatchNormV2 is FusedBatchNormV3 less an output),
the rule adapts the inputs and calls the newer op's own rule (`_rule`), so error texts and numerics are
shared. Gradient kernels are the VJP (or, for the *GradGrad kernels, the JVP) of their forward op's rule.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import errors
from lowering.interpreter import require
from lowering.registry import RULES, lowers
from lowering.rules.checks import invalid, shape_str
from lowering.rules.grad_ops import _static_shape, _vjp

_INVALID = errors.InvalidArgumentError


def _rule(op_type: str):
    """The newer op type's lowering function (looked up when called: every rule module is loaded by then)."""
    return RULES[op_type].fn


def _jvp(op_type: str, primal, tangent, **attrs):
    """The JVP of `op_type`'s rule at `primal` along `tangent` (TF's *GradGrad kernels: the gradient of the
    gradient of a pool is the pool's directional derivative)."""
    forward = _rule(op_type)
    return jax.jvp(lambda x: forward(x, **attrs), (jnp.asarray(primal),), (jnp.asarray(tangent),))[1]


def _ints(value) -> list:
    return [int(v) for v in np.asarray(value).reshape(-1)]


# ------------------------------------------------------------------------------------------------
# Batch normalization
# ------------------------------------------------------------------------------------------------
@lowers("FusedBatchNorm", "FusedBatchNormV2")
def fused_batch_norm(x, scale, offset, mean, variance, *, epsilon=1e-4, exponential_avg_factor=1.0,
                     data_format="NHWC", is_training=True, **_):
    """FusedBatchNormV3's computation; the reserve outputs are what TF's CPU kernel saves for the gradient:
    the batch mean and the batch's (biased) variance when training, the given mean and variance otherwise."""
    y, batch_mean, batch_var, saved_mean, _, _ = _rule("FusedBatchNormV3")(
        x, scale, offset, mean, variance, epsilon=epsilon, exponential_avg_factor=exponential_avg_factor,
        data_format=data_format, is_training=is_training)
    if is_training:
        axes = (0, 2, 3) if data_format.startswith("NC") else (0, 1, 2)
        shape = (1, -1, 1, 1) if data_format.startswith("NC") else (1, 1, 1, -1)
        xf = jnp.asarray(x).astype(jnp.float32)
        saved_var = jnp.mean(jnp.square(xf - jnp.reshape(saved_mean, shape)), axis=axes)
    else:
        saved_var = variance
    u = jnp.result_type(scale)
    return (y, batch_mean.astype(u), batch_var.astype(u), jnp.asarray(saved_mean).astype(u),
            jnp.asarray(saved_var).astype(u))


@lowers("FusedBatchNormGrad", "FusedBatchNormGradV2")
def fused_batch_norm_grad(dy, x, scale, saved_mean, saved_var, *, epsilon=1e-4, data_format="NHWC",
                          is_training=True, **_):
    """TF's FusedBatchNormGrad formula with the statistics the forward op saved (reserve_space_1/2: the batch
    mean and biased variance when training, the population ones otherwise)."""
    for name, v, rank in (("input", dy, 4), ("input", x, 4), ("scale", scale, 1), ("saved mean", saved_mean, 1),
                          ("saved variance", saved_var, 1)):
        if np.ndim(v) != rank:
            raise invalid(f"{name} must be {rank}-dimensional{shape_str(np.shape(v))}")
    if np.shape(x) != np.shape(dy):
        raise invalid(f"x and y_backprop must have same shape, but x has shape {shape_str(np.shape(x))} and "
                      f"y_backprop has shape {shape_str(np.shape(dy))}")
    nc = data_format.startswith("NC")
    channels = np.shape(x)[1 if nc else 3]
    for name, v in (("scale", scale), ("reserve_space_1", saved_mean), ("reserve_space_2", saved_var)):
        if np.size(v) != channels:
            raise invalid(f"{name} must have the same number of elements as the channels of x, got "
                          f"{np.size(v)} and {channels}")
    axes = (0, 2, 3) if nc else (0, 1, 2)
    shape = (1, -1, 1, 1) if nc else (1, 1, 1, -1)
    dyf, xf = jnp.asarray(dy).astype(jnp.float32), jnp.asarray(x).astype(jnp.float32)
    mean = jnp.reshape(jnp.asarray(saved_mean, jnp.float32), shape)
    inv = jnp.reshape(lax.rsqrt(jnp.asarray(saved_var, jnp.float32) + np.float32(epsilon)), shape)
    centered = xf - mean
    offset_backprop = jnp.sum(dyf, axis=axes)
    scale_backprop = jnp.sum(dyf * centered * inv, axis=axes)
    s = jnp.reshape(jnp.asarray(scale, jnp.float32), shape)
    if is_training:
        dy_mean = jnp.mean(dyf, axis=axes, keepdims=True)
        dy_centered_mean = jnp.mean(dyf * centered, axis=axes, keepdims=True)
        dx = s * inv * (dyf - dy_mean - centered * dy_centered_mean * inv * inv)
    else:
        dx = dyf * s * inv
    u = jnp.result_type(saved_mean)
    empty = jnp.zeros((0,), u)  # (TF's oneDNN kernels return scalars here, its own kernels [0])
    return dx.astype(jnp.result_type(x)), scale_backprop.astype(u), offset_backprop.astype(u), empty, empty


def _global_norm(t, m, v, beta, gamma, variance_epsilon, scale_after_normalization):
    inv = lax.rsqrt(v + np.asarray(variance_epsilon, jnp.result_type(v)))
    if scale_after_normalization:
        inv = inv * gamma
    return (t - m) * inv + beta


def _check_global_norm(t, *vectors) -> None:
    if np.ndim(t) != 4:
        raise invalid(f"input must be 4-dimensional{shape_str(np.shape(t))}")
    for name, v in vectors:
        if np.ndim(v) != 1:
            raise invalid(f"{name} must be 1-dimensional{shape_str(np.shape(v))}")


@lowers("BatchNormWithGlobalNormalization")
def batch_norm_global(t, m, v, beta, gamma, *, variance_epsilon, scale_after_normalization, **_):
    _check_global_norm(t, ("mean", m), ("variance", v), ("beta", beta), ("gamma", gamma))
    return _global_norm(t, m, v, beta, gamma, variance_epsilon, scale_after_normalization).astype(t.dtype)


@lowers("BatchNormWithGlobalNormalizationGrad")
def batch_norm_global_grad(t, m, v, gamma, backprop, *, variance_epsilon, scale_after_normalization, **_):
    _check_global_norm(t, ("mean", m), ("variance", v), ("gamma", gamma))
    beta = jnp.zeros_like(jnp.asarray(m))
    _, pullback = jax.vjp(lambda *a: _global_norm(*a, variance_epsilon, scale_after_normalization),
                          *(jnp.asarray(a) for a in (t, m, v, beta, gamma)))
    dx, dm, dv, db, dg = pullback(jnp.asarray(backprop))
    return dx, dm, dv, db, dg


# ------------------------------------------------------------------------------------------------
# nn
# ------------------------------------------------------------------------------------------------
@lowers("BiasAddV1")
def bias_add_v1(value, bias, **_):
    return _rule("BiasAdd")(value, bias, data_format="NHWC")


@lowers("MaxPoolV2")
def max_pool_v2(x, ksize, strides, **attrs):
    return _rule("MaxPool")(x, **dict(attrs, ksize=_static_shape(ksize, "MaxPoolV2's ksize"),
                                      strides=_static_shape(strides, "MaxPoolV2's strides")))


def _argmax_rows(x, argmax, include_batch_in_index: bool):
    """(rows, per-row limit, flat argmax per row): argmax indexes one batch element's flattened [H, W, C]
    values, or the whole flattened input when include_batch_in_index."""
    if include_batch_in_index:
        return 1, int(np.size(x)), jnp.reshape(argmax, (1, -1))
    n = int(np.shape(x)[0])
    return n, int(np.size(x)) // max(n, 1), jnp.reshape(argmax, (n, -1))


@lowers("MaxPoolGradWithArgmax")
def max_pool_grad_with_argmax(x, grad, argmax, *, include_batch_in_index=False, **_):
    rows, limit, idx = _argmax_rows(x, argmax, include_batch_in_index)
    require(jnp.all((idx >= 0) & (idx < limit)), _INVALID, "Invalid argmax index")
    out = jnp.zeros((rows, limit), jnp.result_type(grad))
    out = out.at[jnp.arange(rows)[:, None], idx].add(jnp.reshape(grad, (rows, -1)), mode="drop")
    return out.reshape(np.shape(x))


@lowers("MaxPoolGradGradWithArgmax")
def max_pool_grad_grad_with_argmax(x, grad, argmax, *, include_batch_in_index=False, **_):
    rows, limit, idx = _argmax_rows(x, argmax, include_batch_in_index)
    require(jnp.all((idx >= 0) & (idx < limit)), _INVALID, "Invalid argmax index")
    flat = jnp.reshape(grad, (rows, limit))
    return jnp.take_along_axis(flat, jnp.clip(idx, 0, limit - 1), axis=1).reshape(np.shape(argmax))


@lowers("MaxPoolGradGrad")
def max_pool_grad_grad(orig_input, orig_output, grad, **attrs):
    return _jvp("MaxPool", orig_input, grad, **attrs)


@lowers("MaxPoolGradGradV2")
def max_pool_grad_grad_v2(orig_input, orig_output, grad, ksize, strides, **attrs):
    attrs = dict(attrs, ksize=_static_shape(ksize, "MaxPoolGradGradV2's ksize"),
                 strides=_static_shape(strides, "MaxPoolGradGradV2's strides"))
    return _jvp("MaxPool", orig_input, grad, **attrs)


@lowers("AvgPool3DGrad")
def avg_pool3d_grad(orig_input_shape, grad, **attrs):
    x = jnp.zeros(_static_shape(orig_input_shape, "AvgPool3DGrad's orig_input_shape"), grad.dtype)
    return _vjp("AvgPool3D", [x], [0], grad, **attrs)[0]


@lowers("MaxPool3DGrad")
def max_pool3d_grad(orig_input, orig_output, grad, **attrs):
    return _vjp("MaxPool3D", [jnp.asarray(orig_input).astype(grad.dtype)], [0], grad, **attrs)[0]


@lowers("MaxPool3DGradGrad")
def max_pool3d_grad_grad(orig_input, orig_output, grad, **attrs):
    return _jvp("MaxPool3D", orig_input, grad, **attrs)


@lowers("Conv3DBackpropFilter")
def conv3d_backprop_filter_v1(x, w, dy, **attrs):
    # V2's computation with the filter's shape in place of filter_sizes (V1 has no data_format: NDHWC)
    return _rule("Conv3DBackpropFilterV2")(x, np.asarray(np.shape(w), np.int32), dy, **attrs)


@lowers("Conv3DBackpropInput")
def conv3d_backprop_input_v1(x, w, dy, **attrs):
    return _rule("Conv3DBackpropInputV2")(np.asarray(np.shape(x), np.int32), w, dy, **attrs)


@lowers("LRNGrad")
def lrn_grad(input_grads, input_image, output_image, **attrs):
    for name, v in (("input_grads", input_grads), ("input_image", input_image), ("output_image", output_image)):
        if np.ndim(v) != 4:
            raise invalid(f"{name} must be 4-dimensional")
    if not np.shape(input_grads) == np.shape(input_image) == np.shape(output_image):
        raise invalid("input_grads, input_image, and out_image should have the same shape")
    return _vjp("LRN", [input_image], [0], input_grads, **attrs)[0]


@lowers("Dilation2DBackpropInput")
def dilation2d_backprop_input(x, f, dy, **attrs):
    return _vjp("Dilation2D", [x, f], [0], dy, **attrs)[0]


@lowers("Dilation2DBackpropFilter")
def dilation2d_backprop_filter(x, f, dy, **attrs):
    return _vjp("Dilation2D", [x, f], [1], dy, **attrs)[0]


def _check_formats(src: str, dst: str) -> None:
    """DataFormatDimMap / DataFormatVecPermute's constructor checks (the kernel is built when the graph runs)."""
    if len(src) not in (4, 5):
        raise invalid(f"Source format must be of length 4 or 5, received src_format = {src}")
    if len(dst) not in (4, 5):
        raise invalid(f"Destination format must be of length 4 or 5, received dst_format = {dst}")
    if sorted(src) != sorted(dst):
        raise invalid(f"Destination and source format must determine a permutation, got {src} and {dst}")


@lowers("DataFormatDimMap")
def data_format_dim_map(x, *, src_format="NHWC", dst_format="NCHW", **_):
    _check_formats(src_format, dst_format)
    n = len(src_format)
    # src axis i is axis dst_format.index(src_format[i]) of the destination layout
    table = np.asarray([dst_format.find(c) for c in src_format], np.asarray(x).dtype if is_np(x) else x.dtype)
    return jnp.take(jnp.asarray(table), jnp.mod(jnp.asarray(x), n))


def is_np(x) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


@lowers("DataFormatVecPermute")
def data_format_vec_permute(x, *, src_format="NHWC", dst_format="NCHW", **_):
    _check_formats(src_format, dst_format)
    shape = np.shape(x)
    if len(shape) not in (1, 2):
        raise invalid(f"input must be a vector or 2D tensor, but got shape {shape_str(shape)}")
    n = len(src_format)
    if len(shape) == 1 and shape[0] not in (2, n):
        raise invalid(f"1D input must be of size 2 or {n}, but got shape {shape_str(shape)}")
    if len(shape) == 2 and shape[0] not in (2, n):
        raise invalid(f"First dimension of 2D input must be of size 2 or {n}, but got shape {shape_str(shape)}")
    if len(shape) == 2 and shape[1] != 2:
        raise invalid(f"Second dimension of 2D input must be of size 2, but got shape {shape_str(shape)}")
    src, dst = src_format, dst_format
    if shape[0] == 2:  # only the spatial dimensions, in the formats' order less N and C
        src, dst = [c for c in src if c not in "NC"], [c for c in dst if c not in "NC"]
    perm = [list(src).index(c) for c in dst]
    xp = np if is_np(x) else jnp
    return xp.take(x, np.asarray(perm), axis=0)


@lowers("InTopK")
def in_top_k_v1(predictions, targets, *, k, **_):
    return _rule("InTopKV2")(predictions, targets, np.asarray(k, np.asarray(targets).dtype))


@lowers("NthElement")
def nth_element(x, n, **attrs):
    reverse = attrs.get("reverse", False)
    if np.ndim(n) != 0:
        raise invalid(f"N must be scalar but has rank {np.ndim(n)}")
    n = int(np.asarray(n))  # the selected column is a static index (a fed n: the plan runs op by op)
    if n < 0:
        raise invalid(f"n must be non-negative but is {n}")
    if np.ndim(x) < 1:
        raise invalid(f"Input must be at least rank 1 but is rank {np.ndim(x)}")
    if np.shape(x)[-1] <= n:
        raise invalid(f"Input must have last dimension > n = {n}")
    ordered = jnp.sort(jnp.asarray(x), axis=-1)
    return ordered[..., -1 - n] if reverse else ordered[..., n]


# ------------------------------------------------------------------------------------------------
# Math
# ------------------------------------------------------------------------------------------------
def _integer(x) -> bool:
    return bool(jnp.issubdtype(jnp.result_type(x), jnp.integer))


def _check_divisor(x, y) -> None:
    """TF's BinaryOpShared error for an integer Div/Mod by zero (skipped for an empty result, as TF)."""
    from lowering.rules.math import check_broadcast
    if _integer(x) and int(np.prod(check_broadcast(x, y), dtype=np.int64)):
        require(jnp.all(jnp.asarray(y) != 0), _INVALID, "Integer division by zero")


@lowers("Div")
def div(x, y, **attrs):
    """TF's Div: a true division of floats and complex numbers (RealDiv's rule), C's truncating division of
    integers."""
    if not _integer(x):
        return _rule("RealDiv")(x, y, **attrs)
    _check_divisor(x, y)
    x, y = jnp.broadcast_arrays(jnp.asarray(x), jnp.asarray(y))
    return lax.div(x, jnp.where(y == 0, jnp.ones((), y.dtype), y))


@lowers("Mod")
def mod(x, y, **_):
    """TF's Mod: C's fmod (the remainder takes the dividend's sign), as TruncateMod."""
    _check_divisor(x, y)
    x, y = jnp.broadcast_arrays(jnp.asarray(x), jnp.asarray(y))
    if _integer(x):
        return lax.rem(x, jnp.where(y == 0, jnp.ones((), y.dtype), y))
    return jnp.fmod(x, y)


@lowers("Inv")
def inv(x, **attrs):
    return _rule("Reciprocal")(x, **attrs)


@lowers("ApproximateEqual")
def approximate_equal(x, y, *, tolerance=1e-5, **_):
    if np.shape(x) != np.shape(y):
        raise invalid(f"x and y must be of the same shape. x shape: {shape_str(np.shape(x))}. y shape: "
                      f"{shape_str(np.shape(y))}")
    x, y = jnp.asarray(x), jnp.asarray(y)
    return jnp.abs(x - y) < np.asarray(tolerance, x.dtype if not jnp.iscomplexobj(x) else np.float64)


@lowers("Bucketize")
def bucketize(x, *, boundaries, **_):
    boundaries = [float(b) for b in boundaries]
    if any(b > a for b, a in zip(boundaries, boundaries[1:])):
        raise invalid("Expected sorted boundaries")
    # TF's kernel: the index of the first boundary greater than the value (std::upper_bound)
    edges = np.asarray(boundaries, np.float64 if np.asarray(0, jnp.result_type(x)).dtype == np.float64
                       else np.float32)
    return jnp.searchsorted(jnp.asarray(edges), jnp.asarray(x).astype(edges.dtype), side="right").astype(jnp.int32)


@lowers("PopulationCount")
def population_count(x, **_):
    x = jnp.asarray(x)
    unsigned = {1: jnp.uint8, 2: jnp.uint16, 4: jnp.uint32, 8: jnp.uint64}[x.dtype.itemsize]
    return lax.population_count(lax.bitcast_convert_type(x, unsigned)).astype(jnp.uint8)


@lowers("Bincount")
def bincount(arr, size, weights, **_):
    """The V1 kernel: counts (or sums weights) over every element of arr; values >= size are ignored."""
    n = int(np.asarray(size))  # the output length: static, or the plan runs op by op
    require(n >= 0, _INVALID, lambda: f"size ({n}) must be non-negative")
    if np.size(weights) and np.size(weights) != np.size(arr):
        raise invalid("Input indices and weights must have the same size.")
    arr = jnp.reshape(jnp.asarray(arr), (-1,))
    require(jnp.all(arr >= 0), _INVALID, "Input arr must be non-negative!")
    dtype = jnp.result_type(weights)
    values = jnp.reshape(jnp.asarray(weights), (-1,)) if np.size(weights) else jnp.ones(arr.shape, dtype)
    return jax.ops.segment_sum(values, jnp.where(arr < n, arr, n), num_segments=n + 1)[:n].astype(dtype)


@lowers("CheckNumericsV2", context=True)
def check_numerics_v2(ctx, op, x):
    """CheckNumerics, with the kinds of infinity told apart in TF's V2 message."""
    x = ctx.deref(x)
    message = op.attrs["message"]
    xf = jnp.asarray(x)
    flags = (jnp.any(jnp.isneginf(xf)), jnp.any(jnp.isposinf(xf)), jnp.any(jnp.isnan(xf)))
    ok = jnp.logical_not(flags[0] | flags[1] | flags[2])
    concrete = flags

    def text() -> str:
        names = [n for n, f in zip(("-Inf", "+Inf", "NaN"), concrete) if bool(f)]
        joined = names[0] if len(names) == 1 else (
            f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]}, {names[1]}, and {names[2]}")
        return f"{message} : Tensor had {joined} values"
    ctx.check(ok, _INVALID, text, op)
    return x


@lowers("IgammaGradA")
def igamma_grad_a(a, x, **_):
    return lax.igamma_grad_a(jnp.asarray(a), jnp.asarray(x))


@lowers("RandomGammaGrad")
def random_gamma_grad(alpha, sample, **_):
    alpha, sample = jnp.broadcast_arrays(jnp.asarray(alpha), jnp.asarray(sample))
    return lax.random_gamma_grad(alpha, sample)


def _segment_v2(kind: str):
    def rule(data, segment_ids, num_segments, **_):
        ids = np.asarray(segment_ids).reshape(-1)
        n = int(np.asarray(num_segments))
        require(ids.size == np.shape(data)[0], _INVALID,
                "segment_ids should be the same size as dimension 0 of input.")
        data = jnp.asarray(data)
        if kind == "sum":
            return jax.ops.segment_sum(data, ids, num_segments=n)
        if kind == "prod":
            return jax.ops.segment_prod(data, ids, num_segments=n)
        # empty segments hold the type's lowest (max) or highest (min) value, as TF's V2 kernels document
        return getattr(jax.ops, f"segment_{kind}")(data, ids, num_segments=n)
    return rule


for _op_type, _kind in (("SegmentSumV2", "sum"), ("SegmentProdV2", "prod"), ("SegmentMaxV2", "max"),
                        ("SegmentMinV2", "min")):
    lowers(_op_type)(_segment_v2(_kind))


# ------------------------------------------------------------------------------------------------
# Array
# ------------------------------------------------------------------------------------------------
@lowers("Concat")
def concat_v1(concat_dim, *values, **attrs):
    if np.ndim(concat_dim) != 0:
        raise invalid(f"Concat dim tensor should be a scalar integer, but got shape {shape_str(np.shape(concat_dim))}")
    return _rule("ConcatV2")(*values, concat_dim, **attrs)


@lowers("Gather")
def gather_v1(params, indices, **_):
    return _rule("GatherV2")(params, indices, np.int32(0))


@lowers("Reverse")
def reverse_v1(x, dims, **_):
    if np.ndim(dims) != 1:
        raise invalid(f"'dims' must be 1-dimension, not {np.ndim(dims)}")
    if np.size(dims) != np.ndim(x):
        raise invalid(f"'dims' must have the same number of values as 'input' has dimensions. 'input' has "
                      f"{np.ndim(x)}'dims' has {np.size(dims)} values")
    axes = [i for i, d in enumerate(np.asarray(dims).reshape(-1)) if bool(d)]
    return jnp.flip(jnp.asarray(x), tuple(axes)) if axes else x


@lowers("PlaceholderV2")
def placeholder_v2(**_):  # a Plan refuses unfed placeholders before running; never reached
    raise AssertionError("unfed placeholder reached the interpreter")


@lowers("DeepCopy")
def deep_copy(x, **_):
    return jnp.array(x, copy=True)


def _inplace(update):
    def rule(x, i, v, **_):
        sx, si, sv = np.shape(x), np.shape(i), np.shape(v)
        if len(si) != 1:
            raise invalid(f"i must be a vector. {shape_str(si)}")
        if len(sx) != len(sv):
            raise invalid(f"x and v shape doesn't match (ranks differ): {shape_str(sx)} vs. {shape_str(sv)}")
        for k in range(1, len(sx)):
            if sx[k] != sv[k]:
                raise invalid(f"x and v shape doesn't match at index {k} : {shape_str(sx)} vs. {shape_str(sv)}")
        if si[0] != sv[0]:
            raise invalid(f"i and x shape doesn't match at index 0: {shape_str(si)} vs. {shape_str(sv)}")
        if not np.size(x) or not np.size(v):
            return x
        # TF's kernel wraps every row index into range ((i % rows + rows) % rows) and checks none
        rows = jnp.asarray(sx[0], jnp.int32)
        return update(jnp.asarray(x).at[jnp.mod(jnp.asarray(i), rows)], jnp.asarray(v))
    return rule


lowers("InplaceAdd")(_inplace(lambda at, v: at.add(v)))
lowers("InplaceSub")(_inplace(lambda at, v: at.add(-v)))
lowers("InplaceUpdate")(_inplace(lambda at, v: at.set(v)))


@lowers("ScatterNdNonAliasingAdd")
def scatter_nd_non_aliasing_add(x, indices, updates, **attrs):
    return _rule("TensorScatterAdd")(x, indices, updates, **attrs)


@lowers("SpaceToBatch")
def space_to_batch_v1(x, paddings, *, block_size, **_):
    if np.ndim(x) != 4:
        raise invalid(f"Input rank should be: 4instead of: {np.ndim(x)}")  # sic: TF's text has no space
    return _rule("SpaceToBatchND")(x, np.asarray([block_size, block_size], np.int64), paddings)


@lowers("BatchToSpace")
def batch_to_space_v1(x, crops, *, block_size, **_):
    if np.ndim(x) != 4:
        raise invalid(f"Input rank should be: 4instead of: {np.ndim(x)}")
    return _rule("BatchToSpaceND")(x, np.asarray([block_size, block_size], np.int64), crops)


@lowers("MirrorPadGrad")
def mirror_pad_grad(grad, paddings, *, mode, **_):
    pads = np.asarray(paddings).reshape(-1, 2) if np.size(paddings) else np.zeros((0, 2), np.int64)
    if np.ndim(grad) != pads.shape[0]:
        raise invalid(f"The first dimension of paddings must be the rank of inputs{shape_str(np.shape(paddings))} "
                      f"{shape_str(np.shape(grad))}")
    for lo, hi in pads:
        if lo < 0 or hi < 0:
            raise invalid(f"Paddings must be non-negative: {lo}, {hi}")
    shape = tuple(int(d - lo - hi) for d, (lo, hi) in zip(np.shape(grad), pads))
    for (lo, hi), out in zip(pads, shape):
        if mode == "REFLECT" and not (lo < out and hi < out):
            raise invalid(f"paddings must be less than the output dimension size: {lo}, {hi} not less than {out}")
        if mode == "SYMMETRIC" and not (lo <= out and hi <= out):
            raise invalid(f"paddings must be no greater than the output dimension size: {lo}, {hi} greater than "
                          f"{out}")
    x = jnp.zeros(shape, jnp.result_type(grad))
    return _vjp("MirrorPad", [x, np.asarray(paddings)], [0], jnp.asarray(grad), mode=mode)[0]


# ------------------------------------------------------------------------------------------------
# Linear algebra
# ------------------------------------------------------------------------------------------------
@lowers("BatchMatMul", context=True)
def batch_mat_mul_v1(ctx, op, x, y):
    """BatchMatMulV2's computation without broadcasting: TF's V1 kernel wants equal batch dimensions."""
    sx, sy = np.shape(x), np.shape(y)
    if len(sx) != len(sy):
        raise invalid(f"In[0] and In[1] has different ndims: {shape_str(sx)} vs. {shape_str(sy)}")
    if len(sx) < 2:
        raise invalid(f"In[0] ndims must be >= 2: {len(sx)}")
    for i in range(len(sx) - 2):
        if sx[i] != sy[i]:
            raise invalid(f"In[0].dim({i}) and In[1].dim({i}) must be the same: {shape_str(sx)} vs {shape_str(sy)}")
    return _rule("BatchMatMulV2")(ctx, op, x, y)


def _zero(x):
    return np.zeros((), np.asarray(x).dtype if is_np(x) else x.dtype)


@lowers("MatrixDiag", "BatchMatrixDiag")
def matrix_diag_v1(d, **_):
    if np.ndim(d) < 1:
        raise invalid(f"diagonal must be at least 1-dim, received shape: {shape_str(np.shape(d))}")
    return _rule("MatrixDiagV3")(d, np.int32(0), np.int32(-1), np.int32(-1), _zero(d))


@lowers("MatrixDiagPart", "BatchMatrixDiagPart")
def matrix_diag_part_v1(x, **_):
    return _rule("MatrixDiagPartV3")(x, np.int32(0), _zero(x))


@lowers("MatrixSetDiag", "BatchMatrixSetDiag")
def matrix_set_diag_v1(x, d, **_):
    return _rule("MatrixSetDiagV3")(x, d, np.int32(0))


# The V2 ops are V3 with every diagonal aligned left (V3's default is RIGHT_LEFT).
@lowers("MatrixDiagV2")
def matrix_diag_v2(d, k, num_rows, num_cols, padding_value, **_):
    return _rule("MatrixDiagV3")(d, k, num_rows, num_cols, padding_value, align="LEFT_LEFT")


@lowers("MatrixDiagPartV2")
def matrix_diag_part_v2(x, k, padding_value, **_):
    return _rule("MatrixDiagPartV3")(x, k, padding_value, align="LEFT_LEFT")


@lowers("MatrixSetDiagV2")
def matrix_set_diag_v2(x, d, k, **_):
    return _rule("MatrixSetDiagV3")(x, d, k, align="LEFT_LEFT")


def _alias(new_type: str, *old_types: str):
    """Old op types whose kernel is `new_type`'s, with the same inputs and attrs."""
    def rule(*inputs, **attrs):
        return _rule(new_type)(*inputs, **attrs)
    lowers(*old_types)(rule)


_alias("MatrixBandPart", "BatchMatrixBandPart")
_alias("MatrixDeterminant", "BatchMatrixDeterminant")
_alias("MatrixInverse", "BatchMatrixInverse")
_alias("MatrixSolve", "BatchMatrixSolve")
_alias("MatrixSolveLs", "BatchMatrixSolveLs")
_alias("MatrixTriangularSolve", "BatchMatrixTriangularSolve")
_alias("Cholesky", "BatchCholesky")
_alias("SelfAdjointEigV2", "BatchSelfAdjointEigV2")
_alias("Svd", "BatchSvd")
for _suffix in ("", "2D", "3D"):
    _alias(f"FFT{_suffix}", f"BatchFFT{_suffix}")
    _alias(f"IFFT{_suffix}", f"BatchIFFT{_suffix}")


@lowers("SelfAdjointEig", "BatchSelfAdjointEig")
def self_adjoint_eig_v1(x, **_):
    """The V1 packed result: row 0 the eigenvalues, rows 1..M the eigenvectors (as columns)."""
    e, v = _rule("SelfAdjointEigV2")(x, compute_v=True)
    return jnp.concatenate([jnp.expand_dims(e, -2), v], axis=-2)


@lowers("CholeskyGrad", "BatchCholeskyGrad")
def cholesky_grad(l, grad, **_):
    """TF's CholeskyGrad (Murray's blocked algorithm): the symmetric gradient of Cholesky at A = L L^T, of
    which TF's kernel reads only L's lower triangle and grad's lower triangle."""
    if np.ndim(l) < 2 or np.shape(l)[-1] != np.shape(l)[-2]:
        raise invalid("Inputs must be a square matrices.")
    if np.shape(l) != np.shape(grad):
        raise invalid("Inputs (L and grad) must have the same shape.")
    lower = jnp.tril(jnp.asarray(l))
    a = lower @ jnp.swapaxes(lower, -1, -2)
    # jax's Cholesky of the symmetrized input has TF's symmetric gradient
    _, pullback = jax.vjp(lambda m: jnp.linalg.cholesky(m, symmetrize_input=True), a)
    return pullback(jnp.tril(jnp.asarray(grad)))[0].astype(a.dtype)


# ------------------------------------------------------------------------------------------------
# Image
# ------------------------------------------------------------------------------------------------
@lowers("AdjustContrast")
def adjust_contrast_v1(images, contrast_factor, min_value, max_value, **_):
    if np.ndim(images) < 3:
        raise invalid(f"input must be at least 3-D, got shape{shape_str(np.shape(images))}")
    for name, v in (("contrast_factor", contrast_factor), ("min_value", min_value), ("max_value", max_value)):
        if np.ndim(v) != 0:
            raise invalid(f"{name} must be scalar: {shape_str(np.shape(v))}")
    x = jnp.asarray(images).astype(jnp.float32)
    mean = jnp.mean(x, axis=(-3, -2), keepdims=True)
    out = (x - mean) * contrast_factor + mean
    return jnp.minimum(jnp.maximum(out, min_value), max_value)


@lowers("AdjustContrastv2")
def adjust_contrast_v2(images, contrast_factor, **_):
    if np.ndim(images) < 3:
        raise invalid(f"input must be at least 3-D, got shape{shape_str(np.shape(images))}")
    if np.ndim(contrast_factor) != 0:
        raise invalid(f"contrast_factor must be scalar: {shape_str(np.shape(contrast_factor))}")
    x = jnp.asarray(images).astype(jnp.float32)
    mean = jnp.mean(x, axis=(-3, -2), keepdims=True)
    return ((x - mean) * contrast_factor + mean).astype(jnp.result_type(images))


@lowers("NonMaxSuppression", host=True)
def non_max_suppression_v1(boxes, scores, max_output_size, *, iou_threshold=0.5, **_):
    return _rule("NonMaxSuppressionV3")(boxes, scores, max_output_size, np.float32(iou_threshold),
                                        np.float32(-np.inf))


@lowers("NonMaxSuppressionV2", host=True)
def non_max_suppression_v2(boxes, scores, max_output_size, iou_threshold, **_):
    return _rule("NonMaxSuppressionV3")(boxes, scores, max_output_size, iou_threshold, np.float32(-np.inf))


@lowers("NonMaxSuppressionV4", host=True)
def non_max_suppression_v4(boxes, scores, max_output_size, iou_threshold, score_threshold, *,
                           pad_to_max_output_size=False, **_):
    selected = np.asarray(_rule("NonMaxSuppressionV3")(boxes, scores, max_output_size, iou_threshold,
                                                       score_threshold), np.int32)
    valid = np.int32(len(selected))
    if pad_to_max_output_size:
        selected = np.concatenate([selected, np.zeros(int(max_output_size) - len(selected), np.int32)])
    return selected, valid


def _resize_grad(op_type: str):
    def rule(grads, original_image, **attrs):
        if np.ndim(grads) != 4:
            raise invalid(f"input_grad must be 4-dimensional{shape_str(np.shape(grads))}")
        if np.ndim(original_image) != 4:
            raise invalid(f"original_image must be 4-dimensional{shape_str(np.shape(original_image))}")
        size = np.asarray(np.shape(grads)[1:3], np.int32)
        x = jnp.zeros(np.shape(original_image), jnp.float32)
        return _vjp(op_type, [x, size], [0], jnp.asarray(grads, jnp.float32), **attrs)[0].astype(
            jnp.result_type(original_image))
    return rule


lowers("ResizeBilinearGrad")(_resize_grad("ResizeBilinear"))
lowers("ResizeBicubicGrad")(_resize_grad("ResizeBicubic"))


@lowers("ResizeNearestNeighborGrad")
def resize_nearest_neighbor_grad(grads, size, **attrs):
    if np.ndim(grads) != 4:
        raise invalid(f"input must be 4-dimensional{shape_str(np.shape(grads))}")
    h, w = _static_shape(size, "ResizeNearestNeighborGrad's size")
    n, _, _, c = np.shape(grads)
    # a sum of gradients: computed in float64 for integer types, whose sums are exact there
    work = jnp.float64 if not jnp.issubdtype(jnp.result_type(grads), jnp.floating) else jnp.result_type(grads)
    x = jnp.zeros((n, h, w, c), work)
    out_size = np.asarray(np.shape(grads)[1:3], np.int32)
    return _vjp("ResizeNearestNeighbor", [x, out_size], [0], jnp.asarray(grads).astype(work), **attrs)[0].astype(
        jnp.result_type(grads))
