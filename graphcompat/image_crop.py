"""`tf.image`'s crop / pad / standardize family, built node for node as TF's image_ops_impl.py builds it.

Images of unknown height, width (a decoded JPEG) or rank, and offsets or sizes that are tensors, take
TF's dynamic path: `tf.shape` arithmetic, `tf.Assert` run-time checks gated through
`control_dependency` Identities (TF's `InvalidArgumentError` texts), `set_shape` of what is static.
Sizes known while building are checked while building, with TF's ValueError texts. Re-exported by
graphcompat/image.py.
"""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.ops import array_ops as _array
from graphcompat.ops import check_ops as _check
from graphcompat.ops import data_dependent_ops as _data_dependent
from graphcompat.ops import indexing_ops as _indexing
from graphcompat.ops import math_ops as _math
from graphcompat.ops import reduction_ops as _reduction
from graphcompat.ops import slicing_ops as _slicing
from graphcompat.ops import special_math_ops as _special_math
from graphcompat.ops.control_ops import with_dependencies as _with_dependencies
from graphcompat.variables import Variable


def _is_tensor(x) -> bool:
    """TF's `_is_tensor`: a graph tensor or a variable (anything else is a Python value)."""
    return isinstance(x, (_ops.Tensor, Variable))


def _assert(cond, ex_type, msg: str) -> list:
    """TF's polymorphic assert: a tensor condition becomes `[tf.Assert(cond, [msg])]`; a Python one raises
    `ex_type(msg)` now when false."""
    if _is_tensor(cond):
        return [_data_dependent.Assert(cond, [msg])]
    if not cond:
        raise ex_type(msg)
    return []


def _image_dimensions(image, rank: int) -> list:
    """TF's `_ImageDimensions`: static dimensions as ints, the others as scalars unstacked from tf.shape."""
    if image.shape.is_fully_defined():
        return image.shape.as_list()
    static = image.shape.with_rank(rank).as_list()
    dynamic = _array.unstack(_array.shape(image), rank)
    return [s if s is not None else d for s, d in zip(static, dynamic)]


def _check_at_least_3d(image, require_static: bool = True) -> list:
    """TF's `_CheckAtLeast3DImage`: static rank / zero-size errors now, run-time asserts otherwise."""
    try:
        if image.shape.ndims is None:
            image_shape = image.shape.with_rank(3)
        else:
            image_shape = image.shape.with_rank_at_least(3)
    except ValueError:
        raise ValueError(f"'image' (shape {image.shape}) must be at least three-dimensional.") from None
    if require_static and not image_shape.is_fully_defined():
        raise ValueError("'image' must be fully defined.")
    if any(d.value == 0 for d in image_shape[-3:].dims):
        raise ValueError(f"inner 3 dims of 'image.shape' must be > 0: {image_shape}")
    if not image_shape[-3:].is_fully_defined():
        return [_check.assert_positive(_array.shape(image)[-3:], ["inner 3 dims of 'image.shape' must be > 0."]),
                _check.assert_greater_equal(_array.rank(image), 3,
                                        message="'image' must be at least three-dimensional.")]
    return []


def _assert_at_least_3d(image):
    return _with_dependencies(_check_at_least_3d(image, require_static=False), image)


def _check_grayscale(image, require_static: bool = True) -> list:
    """TF's `_CheckGrayscaleImage` (its run-time rank check asks for rank >= 3, as TF's does)."""
    try:
        if image.shape.ndims is None:
            image_shape = image.shape.with_rank(2)
        else:
            image_shape = image.shape.with_rank_at_least(2)
    except ValueError:
        raise ValueError(f"A grayscale image (shape {image.shape}) must be at least two-dimensional.") from None
    if require_static and not image_shape.is_fully_defined():
        raise ValueError("'image' must be fully defined.")
    if image_shape.is_fully_defined():
        if image_shape[-1].value != 1:
            raise ValueError("Last dimension of a grayscale image should be size 1.")
        return []
    return [_check.assert_equal(_array.shape(image)[-1], 1,
                                message="Last dimension of a grayscale image should be size 1."),
            _check.assert_greater_equal(_array.rank(image), 3,
                                        message="A grayscale image must be at least two-dimensional.")]


def _as_batch(image):
    """TF's preamble: a rank-3 (or unknown-rank) image gets a leading batch axis; (image, is_batch)."""
    shape = image.shape
    if shape.ndims == 3:
        return _array.expand_dims(image, 0), False
    if shape.ndims is None:
        image = _array.expand_dims(image, 0)
        image.set_shape([None] * 4)
        return image, False
    if shape.ndims != 4:
        raise ValueError(f"'image' (shape {shape}) must have either 3 or 4 dimensions.")
    return image, True


def _static_or_none(values) -> list:
    return [None if _is_tensor(v) else v for v in values]


def _max(x, y):
    return _math.maximum(x, y) if _is_tensor(x) or _is_tensor(y) else max(x, y)


def _min(x, y):
    return _math.minimum(x, y) if _is_tensor(x) or _is_tensor(y) else min(x, y)


def _equal(x, y):
    return _math.equal(x, y) if _is_tensor(x) or _is_tensor(y) else x == y


# ------------------------------------------------------------------------------------------------
# crop_to_bounding_box / pad_to_bounding_box / resize_image_with_crop_or_pad / central_crop
# ------------------------------------------------------------------------------------------------
def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """`tf.image.crop_to_bounding_box`: the [target_height, target_width] window at the offsets (ints or
    scalar tensors), of a 3-D image, a 4-D batch or an image of unknown rank (treated as 3-D)."""
    with _ops.name_scope(None, "crop_to_bounding_box", [image]):
        image = convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        assert_ops = _check_at_least_3d(image, require_static=False)
        batch, height, width, depth = _image_dimensions(image, rank=4)
        assert_ops += _assert(offset_width >= 0, ValueError, "offset_width must be >= 0.")
        assert_ops += _assert(offset_height >= 0, ValueError, "offset_height must be >= 0.")
        assert_ops += _assert(target_width > 0, ValueError, "target_width must be > 0.")
        assert_ops += _assert(target_height > 0, ValueError, "target_height must be > 0.")
        assert_ops += _assert(width >= (target_width + offset_width), ValueError,
                              "width must be >= target + offset.")
        assert_ops += _assert(height >= (target_height + offset_height), ValueError,
                              "height must be >= target + offset.")
        image = _with_dependencies(assert_ops, image)
        cropped = _slicing.slice(image, _array.stack([0, offset_height, offset_width, 0]),
                                 _array.stack([_array.shape(image)[0], target_height, target_width,
                                               _array.shape(image)[3]]))
        cropped.set_shape(_static_or_none([batch, target_height, target_width, depth]))
        if not is_batch:
            cropped = _array.squeeze(cropped, axis=[0])
        return cropped


def _pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width, check_dims: bool):
    with _ops.name_scope(None, "pad_to_bounding_box", [image]):
        image = convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        batch, height, width, depth = _image_dimensions(image, rank=4)
        after_padding_width = target_width - offset_width - width
        after_padding_height = target_height - offset_height - height
        if check_dims:
            assert_ops = _check_at_least_3d(image, require_static=False)
            assert_ops += _assert(offset_height >= 0, ValueError, "offset_height must be >= 0")
            assert_ops += _assert(offset_width >= 0, ValueError, "offset_width must be >= 0")
            assert_ops += _assert(after_padding_width >= 0, ValueError, "width must be <= target - offset")
            assert_ops += _assert(after_padding_height >= 0, ValueError, "height must be <= target - offset")
            image = _with_dependencies(assert_ops, image)
        paddings = _array.reshape(_array.stack([0, 0, offset_height, after_padding_height, offset_width,
                                                after_padding_width, 0, 0]), [4, 2])
        padded = _indexing.pad(image, paddings)
        padded.set_shape(_static_or_none([batch, target_height, target_width, depth]))
        if not is_batch:
            padded = _array.squeeze(padded, axis=[0])
        return padded


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """`tf.image.pad_to_bounding_box`: zero-pad to [target_height, target_width] with the image's top-left
    corner at the offsets (ints or scalar tensors)."""
    return _pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width, True)


def resize_image_with_crop_or_pad(image, target_height, target_width):
    """`tf.image.resize_image_with_crop_or_pad` (= `resize_with_crop_or_pad`): centrally crop and/or
    zero-pad to the target size (ints or scalar tensors)."""
    with _ops.name_scope(None, "resize_image_with_crop_or_pad", [image]):
        image = convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        assert_ops = _check_at_least_3d(image, require_static=False)
        assert_ops += _assert(target_width > 0, ValueError, "target_width must be > 0.")
        assert_ops += _assert(target_height > 0, ValueError, "target_height must be > 0.")
        image = _with_dependencies(assert_ops, image)
        # TF gates the tensor targets on the same checks.
        if _is_tensor(target_height):
            target_height = _with_dependencies(assert_ops, target_height)
        if _is_tensor(target_width):
            target_width = _with_dependencies(assert_ops, target_width)
        _, height, width, _ = _image_dimensions(image, rank=4)
        width_diff = target_width - width
        offset_crop_width = _max(-width_diff // 2, 0)
        offset_pad_width = _max(width_diff // 2, 0)
        height_diff = target_height - height
        offset_crop_height = _max(-height_diff // 2, 0)
        offset_pad_height = _max(height_diff // 2, 0)
        cropped = crop_to_bounding_box(image, offset_crop_height, offset_crop_width,
                                       _min(target_height, height), _min(target_width, width))
        resized = pad_to_bounding_box(cropped, offset_pad_height, offset_pad_width, target_height, target_width)
        if resized.shape.ndims is None:
            raise ValueError("resized contains no shape.")
        _, resized_height, resized_width, _ = _image_dimensions(resized, rank=4)
        assert_ops = _assert(_equal(resized_height, target_height), ValueError, "resized height is not correct.")
        assert_ops += _assert(_equal(resized_width, target_width), ValueError, "resized width is not correct.")
        resized = _with_dependencies(assert_ops, resized)
        if not is_batch:
            resized = _array.squeeze(resized, axis=[0])
        return resized


resize_with_crop_or_pad = resize_image_with_crop_or_pad


def central_crop(image, central_fraction):
    """`tf.image.central_crop`: the central `central_fraction` (a float or a scalar tensor) of height and
    width; 3-D or 4-D images of static or unknown size."""
    with _ops.name_scope(None, "central_crop", [image]):
        image = convert_to_tensor(image, name="image")
        fraction_static = constant_value(central_fraction) if _is_tensor(central_fraction) else central_fraction
        if fraction_static is not None:
            if fraction_static <= 0.0 or fraction_static > 1.0:
                raise ValueError("central_fraction must be within (0, 1]")
            if fraction_static == 1.0:
                return image
        else:
            # TF's run-time check joins its two conditions with `or`, so it always holds.
            assert_ops = _assert(_math.logical_or(central_fraction > 0.0, central_fraction <= 1.0), ValueError,
                                 "central_fraction must be within (0, 1]")
            image = _with_dependencies(assert_ops, image)
        _assert_at_least_3d(image)  # TF records these checks and drops the gated tensor
        rank = image.shape.ndims
        if rank != 3 and rank != 4:
            raise ValueError(f"`image` should either be a Tensor with rank = 3 or rank = 4. Had rank = {rank}.")

        def get_dim(idx):
            static = image.shape.dims[idx].value
            if static is not None:
                return static, False
            return _array.shape(image)[idx], True

        if rank == 3:
            (img_h, dynamic_h), (img_w, dynamic_w) = get_dim(0), get_dim(1)
            img_d = image.shape[2]
        else:
            img_bs = image.shape[0]
            (img_h, dynamic_h), (img_w, dynamic_w) = get_dim(1), get_dim(2)
            img_d = image.shape[3]
        dynamic_h = dynamic_h or fraction_static is None
        dynamic_w = dynamic_w or fraction_static is None

        def start(size, dynamic):
            if dynamic:
                size_d = _math.cast(size, _dt.float64)
                return _math.cast((size_d - size_d * _math.cast(central_fraction, _dt.float64)) / 2, _dt.int32)
            size_d = float(size)
            return int((size_d - size_d * fraction_static) / 2)

        bbox_h_start = start(img_h, dynamic_h)
        bbox_w_start = start(img_w, dynamic_w)
        bbox_h_size = img_h - bbox_h_start * 2
        bbox_w_size = img_w - bbox_w_start * 2
        if rank == 3:
            bbox_begin = _array.stack([bbox_h_start, bbox_w_start, 0])
            bbox_size = _array.stack([bbox_h_size, bbox_w_size, -1])
        else:
            bbox_begin = _array.stack([0, bbox_h_start, bbox_w_start, 0])
            bbox_size = _array.stack([-1, bbox_h_size, bbox_w_size, -1])
        image = _slicing.slice(image, bbox_begin, bbox_size)
        hw = [None if dynamic_h else bbox_h_size, None if dynamic_w else bbox_w_size]
        image.set_shape(hw + [img_d] if rank == 3 else [img_bs] + hw + [img_d])
        return image


# ------------------------------------------------------------------------------------------------
# resize_image_with_pad, per_image_standardization, grayscale_to_rgb
# ------------------------------------------------------------------------------------------------
def _resize_image_with_pad_common(image, target_height, target_width, resize_fn):
    with _ops.name_scope(None, "resize_image_with_pad", [image]):
        image = convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        assert_ops = _check_at_least_3d(image, require_static=False)
        assert_ops += _assert(target_width > 0, ValueError, "target_width must be > 0.")
        assert_ops += _assert(target_height > 0, ValueError, "target_height must be > 0.")
        image = _with_dependencies(assert_ops, image)
        _, height, width, _ = _image_dimensions(image, rank=4)
        f_height = _math.cast(height, dtype=_dt.float32)
        f_width = _math.cast(width, dtype=_dt.float32)
        f_target_height = _math.cast(target_height, dtype=_dt.float32)
        f_target_width = _math.cast(target_width, dtype=_dt.float32)
        ratio = _max(f_width / f_target_width, f_height / f_target_height)
        resized_height_float = f_height / ratio
        resized_width_float = f_width / ratio
        resized_height = _math.cast(_math.floor(resized_height_float), dtype=_dt.int32)
        resized_width = _math.cast(_math.floor(resized_width_float), dtype=_dt.int32)
        padding_height = (f_target_height - resized_height_float) / 2
        padding_width = (f_target_width - resized_width_float) / 2
        f_padding_height = _math.floor(padding_height)
        f_padding_width = _math.floor(padding_width)
        p_height = _max(0, _math.cast(f_padding_height, dtype=_dt.int32))
        p_width = _max(0, _math.cast(f_padding_width, dtype=_dt.int32))
        resized = resize_fn(image, [resized_height, resized_width])
        padded = pad_to_bounding_box(resized, p_height, p_width, target_height, target_width)
        if padded.shape.ndims is None:
            raise ValueError("padded contains no shape.")
        _image_dimensions(padded, rank=4)
        if not is_batch:
            padded = _array.squeeze(padded, axis=[0])
        return padded


def resize_image_with_pad(image, target_height, target_width, method=0, align_corners: bool = False):
    """`tf.image.resize_image_with_pad` (TF1): resize keeping the aspect ratio (the sizes computed with
    float32 tensor ops, as TF's), then zero-pad to the target; static or run-time sizes."""
    from graphcompat.image import resize_images

    def resize_fn(im, new_size):
        return resize_images(im, new_size, method, align_corners=align_corners)
    return _resize_image_with_pad_common(image, target_height, target_width, resize_fn)


def per_image_standardization(image):
    """`tf.image.per_image_standardization` (TF 2's graph): float32 (x - mean) / max(stddev,
    rsqrt(num_pixels)) over each image's last three axes; the pixel count is read from tf.shape."""
    with _ops.name_scope(None, "per_image_standardization", [image]) as scope:
        image = convert_to_tensor(image, name="image")
        image = _assert_at_least_3d(image)
        image = _math.cast(image, dtype=_dt.float32)
        num_pixels = _reduction.reduce_prod(_array.shape(image)[-3:])
        image_mean = _reduction.reduce_mean(image, axis=[-1, -2, -3], keepdims=True)
        stddev = _special_math.reduce_std(image, axis=[-1, -2, -3], keepdims=True)
        min_stddev = _math.rsqrt(_math.cast(num_pixels, _dt.float32))
        adjusted_stddev = _math.maximum(stddev, min_stddev)
        image -= image_mean
        return _math.divide(image, adjusted_stddev, name=scope)


def grayscale_to_rgb(images, name=None):
    """`tf.image.grayscale_to_rgb`: the single channel tiled three times, any rank >= 2 (also unknown):
    the multiples come from tf.rank, the last-dimension check is static or a run-time assert."""
    with _ops.name_scope(name, "grayscale_to_rgb", [images]) as name:
        images = convert_to_tensor(images, name="images")
        images = _with_dependencies(_check_grayscale(images, require_static=False), images)
        rank_1 = _array.expand_dims(_array.rank(images) - 1, 0)
        multiples = _array.concat([_array.ones(rank_1, dtype=_dt.int32), _array.expand_dims(3, 0)], 0)
        rgb = _array.tile(images, multiples, name=name)
        rgb.set_shape(images.shape[:-1].concatenate([3]))
        return rgb


__all__ = ["crop_to_bounding_box", "pad_to_bounding_box", "resize_image_with_crop_or_pad",
           "resize_with_crop_or_pad", "central_crop", "resize_image_with_pad", "per_image_standardization",
           "grayscale_to_rgb"]
