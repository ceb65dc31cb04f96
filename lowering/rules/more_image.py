"""Lowerings of graphcompat/ops/more_image_ops.py.

- ImageProjectiveTransformV2/V3: TF's ProjectiveGenerator (kernels/image/image_ops.h) per output pixel: the
  transform's projection in float32, the fill mode's MapCoordinate, nearest (std::round) or bilinear reads
  that return the fill value outside the image, the result converted to the image's type.
- CropAndResizeGradImage / GradBoxes: the VJP of CropAndResize's rule with respect to the image / the boxes
  (TF's kernels are that derivative written out: bilinear weights, the interpolation's slopes).
- RandomCrop: TF 1.x's kernel: one Philox call of the op's stream, its words drawn as offsets.
- SampleDistortedBoundingBox (V1) and StatelessSampleDistortedBoundingBox: SampleDistortedBoundingBoxV2's
  rule (TF's kernel and bits), V1 on the op's stream, the stateless one on the generator TF's GenerateKey
  makes of the seed.
- FractionalMaxPoolGrad / FractionalAvgPoolGrad: TF's kernels on the host: each pooling region's first
  maximum of orig_input takes the gradient; an average region's cells share it (in double), as TF's.
  (graphcompat's own tf.gradients of the fractional pools records SymbolicGradient, not these kernels.)
- ScaleAndTranslate (+Grad): TF's span weights (scale_and_translate_op.cc, sampling_kernels.h) as dense
  per-axis matrices, applied separably in float32; the gradient is their transpose.
- GenerateBoundingBoxProposals: GPU kernels only in TF, refused as TF's CPU runtime refuses it.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering import philox
from lowering.interpreter import require
from lowering.registry import RULES, lowers
from lowering.rules.checks import invalid, shape_str

_INVALID = errors.InvalidArgumentError


def _rule(op_type: str):
    return RULES[op_type].fn


# ------------------------------------------------------------------------------------------------
# ImageProjectiveTransformV2 / V3
# ------------------------------------------------------------------------------------------------
def _map_coordinate(mode: str, coord, size: int):
    """MapCoordinate<mode>: an input coordinate outside [0, size - 1] mapped back as the fill mode says
    (float32, TF's integer truncations), then clamped (except CONSTANT)."""
    f32 = jnp.float32
    if mode == "CONSTANT":
        return coord
    if mode == "NEAREST" or size <= 1:
        return jnp.clip(coord, f32(0), f32(size - 1)) if size > 1 or mode == "NEAREST" else jnp.zeros_like(coord)
    if mode == "REFLECT":
        sz2 = 2 * size
        neg = coord
        neg = sz2 * jnp.trunc(-neg / f32(sz2)) + neg  # TF's `if (in_coord < sz2)`: always, for a negative one
        neg = jnp.where(neg < -size, neg + sz2, -neg - 1)
        pos = coord - sz2 * jnp.trunc(coord / f32(sz2))
        pos = jnp.where(pos >= size, sz2 - pos - 1, pos)
        out = jnp.where(coord < 0, neg, jnp.where(coord > size - 1, pos, coord))
    elif mode == "WRAP":
        sz = size - 1
        neg = coord + size * (jnp.trunc(-coord / f32(sz)) + 1)
        pos = coord - size * jnp.trunc(coord / f32(sz))
        out = jnp.where(coord < 0, neg, jnp.where(coord > size - 1, pos, coord))
    else:
        raise invalid(f"Invalid fill_mode: {mode}")
    return jnp.clip(out.astype(f32), f32(0), f32(size - 1))


def _projective_transform(images, transforms, output_shape, fill_value, *, interpolation, fill_mode):
    if np.ndim(images) != 4:
        raise invalid("Input images must have rank 4")
    t_shape = np.shape(transforms)
    if not (len(t_shape) == 2 and t_shape[0] in (np.shape(images)[0], 1) and t_shape[1] == 8):
        raise invalid("Input transform should be num_images x 8 or 1 x 8")
    if np.ndim(output_shape) != 1:
        raise invalid(f"output shape must be 1-dimensional{shape_str(np.shape(output_shape))}")
    if np.size(output_shape) != 2:
        raise invalid(f"output shape must have two elements{shape_str(np.shape(output_shape))}")
    out_h, out_w = (int(v) for v in np.asarray(output_shape).reshape(-1))  # static, or the plan runs op by op
    if out_h <= 0 or out_w <= 0:
        raise invalid("output dimensions must be positive")
    if fill_value is not None and np.ndim(fill_value) != 0:
        raise invalid(f"fill_value must be a scalar{shape_str(np.shape(fill_value))}")
    if interpolation not in ("NEAREST", "BILINEAR"):
        raise invalid(f"Invalid interpolation {interpolation}")
    if fill_mode not in ("REFLECT", "WRAP", "CONSTANT", "NEAREST"):
        raise invalid(f"Invalid fill_mode {fill_mode}")
    images = jnp.asarray(images)
    dtype = images.dtype
    batch, height, width, channels = images.shape
    fill = jnp.asarray(0 if fill_value is None else fill_value, jnp.float32).astype(dtype)  # static_cast<T>
    t = jnp.broadcast_to(jnp.asarray(transforms, jnp.float32), (batch, 8))[:, :, None, None]
    ys = jnp.arange(out_h, dtype=jnp.float32)[None, :, None]
    xs = jnp.arange(out_w, dtype=jnp.float32)[None, None, :]
    projection = t[:, 6] * xs + t[:, 7] * ys + jnp.float32(1)
    safe = jnp.where(projection == 0, jnp.float32(1), projection)
    in_x = (t[:, 0] * xs + t[:, 1] * ys + t[:, 2]) / safe
    in_y = (t[:, 3] * xs + t[:, 4] * ys + t[:, 5]) / safe
    x = _map_coordinate(fill_mode, in_x, width)
    y = _map_coordinate(fill_mode, in_y, height)
    b = jnp.arange(batch)[:, None, None]

    def read(yi, xi):
        inside = (yi >= 0) & (yi < height) & (xi >= 0) & (xi < width)
        value = images[b, jnp.clip(yi, 0, height - 1), jnp.clip(xi, 0, width - 1)]
        return jnp.where(inside[..., None], value, fill)

    def index(v):  # DenseIndex(float): truncation toward zero, saturated far outside
        return jnp.trunc(jnp.clip(v, -2.0 ** 30, 2.0 ** 30)).astype(jnp.int64)
    if interpolation == "NEAREST":
        out = read(index(_round_half_away(y)), index(_round_half_away(x)))
    else:
        y0, x0 = jnp.floor(y), jnp.floor(x)
        y1, x1 = y0 + 1, x0 + 1

        def f(v):
            return v.astype(jnp.float32)
        top = (x1 - x)[..., None] * f(read(index(y0), index(x0))) + (x - x0)[..., None] * f(read(index(y0), index(x1)))
        bottom = (x1 - x)[..., None] * f(read(index(y1), index(x0))) + (x - x0)[..., None] * f(read(index(y1),
                                                                                                     index(x1)))
        value = (y1 - y)[..., None] * top + (y - y0)[..., None] * bottom
        out = _to_type(value, dtype)
    return jnp.where((projection == 0)[..., None], fill, out)


def _round_half_away(v):
    """std::round: halves away from zero (jnp.round rounds them to even); v - trunc(v) is exact in float."""
    whole = jnp.trunc(v)
    return whole + jnp.where(jnp.abs(v - whole) >= 0.5, jnp.sign(v), jnp.zeros_like(v))


def _to_type(value, dtype):
    """T(float): C++'s conversion (integers truncate toward zero)."""
    if jnp.issubdtype(dtype, jnp.integer):
        return jnp.trunc(value).astype(dtype)
    return value.astype(dtype)


def _inverse_transforms(transforms):
    """TF's gradient's inverse: each flat transform as a 3x3 matrix (last entry 1), inverted, scaled so
    that its last entry is 1 again, flattened back to 8 numbers."""
    flat = jnp.asarray(transforms, jnp.float32).reshape(-1, 8)
    matrices = jnp.concatenate([flat, jnp.ones((flat.shape[0], 1), jnp.float32)], axis=1).reshape(-1, 3, 3)
    inverse = jnp.linalg.inv(matrices).reshape(-1, 9)
    return (inverse / inverse[:, 8:9])[:, :8]


def _with_tf_gradient(images, transforms, output_shape, fill_value, *, interpolation, fill_mode):
    """The transform with TF's registered gradient (image_grad.py): the incoming gradient transformed back by
    the inverse transforms to the images' size, with the same interpolation and fill; none for the
    transforms. (Not the exact adjoint of the interpolation: TF's approximation, reproduced.)"""
    forward = _projective_transform(images, transforms, output_shape, fill_value, interpolation=interpolation,
                                    fill_mode=fill_mode)
    if not jnp.issubdtype(jnp.result_type(images), jnp.floating):
        return forward
    image_hw = np.asarray(np.shape(images)[1:3], np.int32)

    has_fill = fill_value is not None

    @jax.custom_vjp
    def transform(x, t, fill):
        return _projective_transform(x, t, output_shape, fill if has_fill else None, interpolation=interpolation,
                                     fill_mode=fill_mode)

    def backward(saved, grad):
        t, fill = saved
        back = _projective_transform(grad, _inverse_transforms(t), image_hw, fill if has_fill else None,
                                     interpolation=interpolation, fill_mode=fill_mode)
        return back.astype(grad.dtype), jnp.zeros_like(t), jnp.zeros_like(fill)
    transform.defvjp(lambda x, t, fill: (transform(x, t, fill), (t, fill)), backward)
    fill = jnp.asarray(0.0 if fill_value is None else fill_value, jnp.float32)
    return transform(jnp.asarray(images), jnp.asarray(transforms, jnp.float32), fill)


@lowers("ImageProjectiveTransformV2")
def image_projective_transform_v2(images, transforms, output_shape, *, interpolation, fill_mode="CONSTANT", **_):
    return _with_tf_gradient(images, transforms, output_shape, None, interpolation=interpolation,
                             fill_mode=fill_mode)


@lowers("ImageProjectiveTransformV3")
def image_projective_transform_v3(images, transforms, output_shape, fill_value, *, interpolation,
                                  fill_mode="CONSTANT", **_):
    return _with_tf_gradient(images, transforms, output_shape, fill_value, interpolation=interpolation,
                             fill_mode=fill_mode)


# ------------------------------------------------------------------------------------------------
# CropAndResize's gradients
# ------------------------------------------------------------------------------------------------
def _check_crop_grads(grads, boxes, box_ind):
    if np.ndim(grads) != 4:
        raise invalid(f"grads image must be 4-D{shape_str(np.shape(grads))}")
    if np.shape(grads)[1] <= 0 or np.shape(grads)[2] <= 0:
        raise invalid("grads dimensions must be positive")
    if np.ndim(boxes) != 2 or np.shape(boxes)[1] != 4:
        raise invalid(f"boxes must be 2-D{shape_str(np.shape(boxes))}")
    if np.shape(box_ind) != (np.shape(boxes)[0],):
        raise invalid("box_index has incompatible shape")
    if np.shape(grads)[0] != np.shape(boxes)[0]:
        raise invalid("boxes and grads have incompatible shape")


@lowers("CropAndResizeGradImage")
def crop_and_resize_grad_image(grads, boxes, box_ind, image_size, *, T, method="bilinear", **_):
    """The gradient of CropAndResize with respect to the image: each crop pixel's gradient spread over the
    pixels its value was interpolated from (none for extrapolated pixels)."""
    _check_crop_grads(grads, boxes, box_ind)
    if np.shape(image_size) != (4,):
        raise invalid(f"image_size must be 1-D with 4 elements{shape_str(np.shape(image_size))}")
    size = [int(v) for v in np.asarray(image_size)]  # static, or the plan runs op by op
    if size[1] <= 0 or size[2] <= 0:
        raise invalid("image dimensions must be positive")
    if size[3] != np.shape(grads)[3]:
        raise invalid("image_size and grads are incompatible")
    if method not in ("bilinear", "nearest"):
        raise invalid("method must be 'bilinear' or 'nearest'")
    crop_size = np.asarray(np.shape(grads)[1:3], np.int32)
    forward = _rule("CropAndResize")
    _, pullback = jax.vjp(lambda image: forward(image, boxes, box_ind, crop_size, method=method),
                          jnp.zeros(size, jnp.float32))
    return pullback(jnp.asarray(grads, jnp.float32))[0].astype(np.dtype(T))


@lowers("CropAndResizeGradBoxes")
def crop_and_resize_grad_boxes(grads, image, boxes, box_ind, *, method="bilinear", **_):
    """The gradient of CropAndResize (bilinear) with respect to the boxes: the interpolation's slopes along
    y and x times the crop positions' derivatives in the box corners."""
    _check_crop_grads(grads, boxes, box_ind)
    if np.ndim(image) != 4:
        raise invalid(f"input image must be 4-D{shape_str(np.shape(image))}")
    if np.shape(image)[1] <= 0 or np.shape(image)[2] <= 0:
        raise invalid("image dimensions must be positive")
    if np.shape(image)[3] != np.shape(grads)[3]:
        raise invalid("image, grads depth differ")
    if method != "bilinear":
        raise invalid("method must be 'bilinear'")
    crop_size = np.asarray(np.shape(grads)[1:3], np.int32)
    forward = _rule("CropAndResize")
    _, pullback = jax.vjp(lambda b: forward(image, b, box_ind, crop_size, method=method),
                          jnp.asarray(boxes, jnp.float32))
    return pullback(jnp.asarray(grads, jnp.float32))[0]


# ------------------------------------------------------------------------------------------------
# RandomCrop (TF 1.x), SampleDistortedBoundingBox (V1), StatelessSampleDistortedBoundingBox
# ------------------------------------------------------------------------------------------------
@lowers("RandomCrop", context=True)
def random_crop(ctx, op, image, size):
    """RandomCropOp: an image [h, w, c] cut to size [target_h, target_w] at offsets drawn from one Philox call
    of the op's stream (ReserveSamples32(2)): Rand32() % (width - target_w + 1) for the columns, then the
    same for the rows, each drawn only when there is room."""
    if np.ndim(image) != 3:
        raise invalid(f"input must be 3-dimensional{shape_str(np.shape(image))}")
    if np.size(size) != 2:
        raise invalid(f"size must have exactly two elements{shape_str(np.shape(size))}")
    target_h, target_w = (int(v) for v in np.asarray(size).reshape(-1))
    height, width, _ = np.shape(image)
    if width < target_w:
        raise errors.FailedPreconditionError(None, op, f"width must be >= target_width: width = {width}, "
                                             f"target_width = {target_w}")
    if height < target_h:
        raise errors.FailedPreconditionError(None, op, f"height must be >= target_height: height = {height}, "
                                             f"target_height = {target_h}")
    key, counter = ctx.philox_stream(op, 1)
    xp = jnp if ctx.traced else np
    words = philox.words(xp, key, counter, 1).reshape(-1)
    drawn = 0
    offsets = []
    for size_, target in ((width, target_w), (height, target_h)):
        if size_ > target:
            offsets.insert(0, words[drawn].astype(xp.uint64) % xp.uint64(size_ - target + 1))
            drawn += 1
        else:
            offsets.insert(0, xp.uint64(0))
    if not ctx.traced:
        oy, ox = (int(v) for v in offsets)
        return np.asarray(image)[oy:oy + target_h, ox:ox + target_w]
    return jax.lax.dynamic_slice(jnp.asarray(image), (offsets[0].astype(jnp.int32), offsets[1].astype(jnp.int32),
                                                      jnp.int32(0)), (target_h, target_w, np.shape(image)[2]))


@lowers("SampleDistortedBoundingBox", context=True, host=True)
def sample_distorted_bounding_box_v1(ctx, op, image_size, boxes):
    """TF 1.x's op: V2's kernel with min_object_covered an attr."""
    return _rule("SampleDistortedBoundingBoxV2")(ctx, op, image_size, boxes,
                                                 np.float32(op.attrs["min_object_covered"]))


@lowers("StatelessSampleDistortedBoundingBox", context=True, host=True)
def stateless_sample_distorted_bounding_box(ctx, op, image_size, boxes, min_object_covered, seed):
    """V2's kernel on the Philox generator TF's GenerateKey makes of the seed."""
    if np.shape(seed) != (2,):
        raise invalid(f"seed must have shape [2], not {shape_str(np.shape(seed))}")
    seed = np.asarray(seed)
    key, counter = philox.stateless_key_counter(np, seed[0], seed[1])
    key, counter = tuple(int(w) for w in key), tuple(int(w) for w in counter)
    return _rule("SampleDistortedBoundingBoxV2")(ctx, op, image_size, boxes, min_object_covered,
                                                 key=(key, counter))


# ------------------------------------------------------------------------------------------------
# Fractional pooling gradients (host: the pooling sequences shape the regions)
# ------------------------------------------------------------------------------------------------
def _region_bounds(seq, size: int, overlapping: bool, count: int) -> list:
    """TF's region loop: [seq[i], seq[i + 1] - 1] (seq[i + 1] when overlapping), cut at size - 1."""
    seq = [int(v) for v in np.asarray(seq).reshape(-1)]
    if len(seq) < count + 1:
        raise invalid(f"Pooling sequence must have at least {count + 1} elements, got {len(seq)}")
    return [(seq[i], min(seq[i + 1] if overlapping else seq[i + 1] - 1, size - 1)) for i in range(count)]


@lowers("FractionalMaxPoolGrad", host=True)
def fractional_max_pool_grad(orig_input, orig_output, out_backprop, row_seq, col_seq, *, overlapping=False, **_):
    """FractionalMaxPoolGradOp: orig_input's maximum over each region, found again (the first in row-major
    order wins ties), receives that region's out_backprop."""
    x, dy = np.asarray(orig_input), np.asarray(out_backprop)
    if x.ndim != 4:
        raise invalid(f"orig_input should be a tensor of rank 4, got {shape_str(x.shape)}")
    if dy.ndim != 4 or np.shape(orig_output) != dy.shape:
        raise invalid(f"out_backprop should have the shape of orig_output {shape_str(np.shape(orig_output))}, "
                      f"got {shape_str(dy.shape)}")
    batch, height, width, depth = x.shape
    rows = _region_bounds(row_seq, height, overlapping, dy.shape[1])
    cols = _region_bounds(col_seq, width, overlapping, dy.shape[2])
    out = np.zeros_like(x)
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            region = x[:, r0:r1 + 1, c0:c1 + 1, :].reshape(batch, -1, depth)
            first = np.argmax(region, axis=1)  # the first maximum, as the kernel's strict `<` scan
            h = r0 + first // (c1 - c0 + 1)
            w = c0 + first % (c1 - c0 + 1)
            b, d = np.meshgrid(np.arange(batch), np.arange(depth), indexing="ij")
            np.add.at(out, (b, h, w, d), dy[:, i, j, :])
    return out


@lowers("FractionalAvgPoolGrad", host=True)
def fractional_avg_pool_grad(orig_shape, out_backprop, row_seq, col_seq, *, overlapping=False, **_):
    """FractionalAvgPoolGradOp: each region's out_backprop divided by its number of cells, added (in double)
    to each of them, then converted to T."""
    shape = [int(v) for v in np.asarray(orig_shape).reshape(-1)]
    if len(shape) != 4:
        raise invalid("original input tensor shape must be1-dimensional and 4 elements")  # TF's text
    dy = np.asarray(out_backprop)
    batch, height, width, depth = shape
    rows = _region_bounds(row_seq, height, overlapping, dy.shape[1])
    cols = _region_bounds(col_seq, width, overlapping, dy.shape[2])
    acc = np.zeros(shape, np.float64)
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            cells = (r1 - r0 + 1) * (c1 - c0 + 1)
            acc[:, r0:r1 + 1, c0:c1 + 1, :] += (dy[:, i, j, :].astype(np.float64) / cells)[:, None, None, :]
    return acc.astype(dy.dtype)


# ------------------------------------------------------------------------------------------------
# ScaleAndTranslate (+Grad): TF's separable resampling (kernels/image/scale_and_translate_op.cc)
# ------------------------------------------------------------------------------------------------
def _lanczos(radius: float):
    def kernel(xp, x):
        pi = xp.float32(3.14159265359)
        safe = xp.where(x <= 1e-3, xp.float32(1), x)
        value = radius * xp.sin(pi * safe) * xp.sin(pi * safe / radius) / (pi * pi * safe * safe)
        return xp.where(x > radius, xp.float32(0), xp.where(x <= 1e-3, xp.float32(1), value))
    return kernel, radius


def _gaussian(xp, x):
    sigma = xp.float32(1.5 / 3.0)
    return xp.where(x < 1.5, xp.exp(-x * x / (xp.float32(2.0) * sigma * sigma)), xp.float32(0))


def _box(xp, x):
    return xp.where(x < 0.5, xp.float32(1), xp.where(x == 0.5, xp.float32(0.5), xp.float32(0)))


def _triangle(xp, x):
    return xp.where(x < 1, xp.float32(1) - x, xp.float32(0))


def _keys_cubic(xp, x):
    far = ((xp.float32(-0.5) * x + xp.float32(2.5)) * x - xp.float32(4.0)) * x + xp.float32(2.0)
    near = (xp.float32(1.5) * x - xp.float32(2.5)) * x * x + xp.float32(1.0)
    return xp.where(x >= 2, xp.float32(0), xp.where(x >= 1, far, near))


def _mitchell_cubic(xp, x):
    far = (((xp.float32(-7.0 / 18.0) * x + xp.float32(2.0)) * x - xp.float32(10.0 / 3.0)) * x
           + xp.float32(16.0 / 9.0))
    near = ((xp.float32(7.0 / 6.0) * x - xp.float32(2.0)) * x) * x + xp.float32(8.0 / 9.0)
    return xp.where(x >= 2, xp.float32(0), xp.where(x >= 1, far, near))


# sampling_kernels.h: each kernel and its radius
_SAMPLING_KERNELS = {"lanczos1": _lanczos(1.0), "lanczos3": _lanczos(3.0), "lanczos5": _lanczos(5.0),
                     "gaussian": (_gaussian, 1.5), "box": (_box, 1.0), "triangle": (_triangle, 1.0),
                     "keyscubic": (_keys_cubic, 2.0), "mitchellcubic": (_mitchell_cubic, 2.0)}


def _span_weights(xp, kernel_type: str, out_size: int, in_size: int, scale, translate, antialias: bool):
    """ComputeSpansCore as a dense [out_size, in_size] matrix: output pixel x samples the input at
    (x + 0.5) / scale - translate / scale; its span's weights are the kernel (widened by 1 / scale when
    antialiasing a downscale) normalized to sum to one; a sample outside the input, or a span whose weights
    sum to almost nothing, leaves the row zero."""
    kernel, radius = _SAMPLING_KERNELS[kernel_type]
    f32 = xp.float32
    scale = xp.asarray(scale, f32)
    inv_scale = f32(1.0) / scale
    inv_translate = -inv_scale * xp.asarray(translate, f32)
    kernel_scale = xp.maximum(inv_scale, f32(1.0)) if antialias else f32(1.0)
    sample = (xp.arange(out_size, dtype=f32) + f32(0.5)) * inv_scale + inv_translate
    reach = f32(radius) * kernel_scale
    start = xp.clip(xp.ceil(sample - reach - f32(0.5)), 0, in_size - 1)
    end = xp.clip(xp.floor(sample + reach - f32(0.5)), 0, in_size - 1) + 1
    source = xp.arange(in_size, dtype=f32)[None, :]
    in_span = (source >= start[:, None]) & (source < end[:, None])
    position = source + f32(0.5) - sample[:, None]
    weights = xp.where(in_span, kernel(xp, xp.abs(position * (f32(1.0) / kernel_scale))), f32(0))
    total = xp.sum(weights, axis=1, keepdims=True)
    usable = (xp.abs(total) >= f32(1000.0) * f32(np.finfo(np.float32).tiny)) & \
        ((sample >= 0) & (sample <= in_size))[:, None]
    return xp.where(usable, weights * (f32(1.0) / xp.where(total == 0, f32(1), total)), f32(0))


def _scale_and_translate_checks(images, size, scale, translation, kernel_type: str):
    if np.ndim(images) != 4:
        raise invalid(f"input must be 4-dimensional{shape_str(np.shape(images))}")
    if size is not None:
        if np.ndim(size) != 1:
            raise invalid(f"output_shape_t must be 1-dimensional{shape_str(np.shape(size))}")
        if np.size(size) != 2:
            raise invalid(f"output_shape_t must have two elements{shape_str(np.shape(size))}")
    if kernel_type not in _SAMPLING_KERNELS:
        raise invalid(f"Unrecognized kernel type: {kernel_type}")
    for value in (scale, translation):  # TF's texts name both "t"
        if np.ndim(value) != 1:
            raise invalid(f"t must be 1-dimensional{shape_str(np.shape(value))}")
        if np.size(value) != 2:
            raise invalid(f"t must have two elements{shape_str(np.shape(value))}")


def _weights(images_shape, out_hw, scale, translation, kernel_type, antialias):
    xp = jnp if any(isinstance(v, jax.core.Tracer) for v in (scale, translation)) else np
    scale, translation = xp.asarray(scale, xp.float32), xp.asarray(translation, xp.float32)
    if xp is np and not np.all(scale > 0):
        raise invalid("Scale must be greater than zero.")
    require(jnp.all(jnp.asarray(scale) > 0), _INVALID, "Scale must be greater than zero.")
    rows = _span_weights(xp, kernel_type, out_hw[0], images_shape[1], scale[0], translation[0], antialias)
    cols = _span_weights(xp, kernel_type, out_hw[1], images_shape[2], scale[1], translation[1], antialias)
    return jnp.asarray(rows), jnp.asarray(cols)


@lowers("ScaleAndTranslate")
def scale_and_translate(images, size, scale, translation, *, kernel_type="lanczos3", antialias=True, **_):
    """tf.image.resize's antialiased and lanczos/gaussian/mitchellcubic path: separable resampling, float32."""
    _scale_and_translate_checks(images, size, scale, translation, kernel_type)
    out_h, out_w = (int(v) for v in np.asarray(size).reshape(-1))  # static, or the plan runs op by op
    shape = np.shape(images)
    if out_h <= 0 or out_w <= 0:
        raise invalid("output dimensions must be positive")
    if shape[3] <= 0:
        raise invalid("image must have at least one channel")
    if shape[1] <= 0 or shape[2] <= 0:
        raise invalid("input image must be of non-zero size")
    rows, cols = _weights(shape, (out_h, out_w), scale, translation, kernel_type, antialias)
    x = jnp.asarray(images).astype(jnp.float32)
    return jnp.einsum("oh,bhwc,pw->bopc", rows, x, cols, precision="highest")


@lowers("ScaleAndTranslateGrad")
def scale_and_translate_grad(grads, original_image, scale, translation, *, kernel_type="lanczos3", antialias=True,
                             **_):
    """The gradient of ScaleAndTranslate with respect to the image: each input pixel collects the output
    gradients its weights reached (the transposed resampling)."""
    _scale_and_translate_checks(original_image, None, scale, translation, kernel_type)
    shape, g_shape = np.shape(original_image), np.shape(grads)
    if len(g_shape) != 4:
        raise invalid(f"grads must be 4-dimensional{shape_str(g_shape)}")
    if g_shape[0] != shape[0] or g_shape[3] != shape[3]:
        raise invalid("grads and original_image must have the same batch and channels")
    rows, cols = _weights(shape, g_shape[1:3], scale, translation, kernel_type, antialias)
    g = jnp.asarray(grads).astype(jnp.float32)
    return jnp.einsum("oh,bopc,pw->bhwc", rows, g, cols, precision="highest").astype(np.dtype(original_image.dtype))


@lowers("GenerateBoundingBoxProposals", context=True)
def generate_bounding_box_proposals(ctx, op, *_):
    """TF registers GPU kernels only: its CPU runtime refuses the node, and so does graphcompat."""
    from lowering.rules.checks import no_kernel
    raise no_kernel(op, ["device='GPU'"])
