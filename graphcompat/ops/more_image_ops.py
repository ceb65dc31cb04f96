"""Image op types real TF graphs contain that graphcompat's builders do not record: the projective transforms
tf.keras / tf_addons image layers write (ImageProjectiveTransformV2 / V3), CropAndResize's gradient kernels,
TF 1.x's RandomCrop and SampleDistortedBoundingBox (V1), StatelessSampleDistortedBoundingBox, the fractional
pooling gradient kernels, ScaleAndTranslate (+Grad) and GenerateBoundingBoxProposals.

TF's REGISTER_OP signatures, attr defaults and shape functions; lowerings in lowering/rules/more_image.py.
"""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, defop

_INDEX = (_dt.int32, _dt.int64)
_BOX_TYPES = (_dt.uint8, _dt.int8, _dt.int16, _dt.int32, _dt.int64)
_BOX_ATTRS = {"aspect_ratio_range": [0.75, 1.33], "area_range": [0.05, 1.0], "max_attempts": 100,
              "use_image_if_no_bounding_boxes": False}


def _rank(ctx: InferenceContext, i: int, rank: int) -> _ts.TensorShape:
    s = ctx.shape(i)
    if s.ndims is not None and s.ndims != rank:
        raise ctx.error(f"Shape must be rank {rank} but is rank {s.ndims}")
    return s if s.ndims is not None else _ts.unknown_shape(rank)


def _sized_image_shape(ctx: InferenceContext, size_input: int):
    """SetOutputToSizedImage: [batch, the size input's two values, channels] of a rank-4 image."""
    images = _rank(ctx, 0, 4).as_list()
    size = _rank(ctx, size_input, 1)
    if size.as_list()[0] not in (None, 2):
        raise ctx.error(f"Dimension must be 2 but is {size.as_list()[0]}")
    hw = ctx.value_as_shape(size_input)
    hw = hw.as_list() if hw.ndims == 2 else [None, None]
    return [_ts.TensorShape([images[0]] + hw + [images[3]])]


def _boxes_shape(ctx: InferenceContext, seed_input=None):
    """SampleDistortedBoundingBox's shape function: image_size [3], boxes [?, ?, 4]; begin and size [3],
    bboxes [1, 1, 4]."""
    size = _rank(ctx, 0, 1)
    if size.as_list()[0] not in (None, 3):
        raise ctx.error(f"Dimension must be 3 but is {size.as_list()[0]}")
    boxes = _rank(ctx, 1, 3)
    if boxes.as_list()[2] not in (None, 4):
        raise ctx.error(f"Dimension must be 4 but is {boxes.as_list()[2]}")
    if seed_input is not None:
        if ctx.shape(2).ndims not in (None, 0):
            raise ctx.error(f"Shape must be rank 0 but is rank {ctx.shape(2).ndims}")
        seed = _rank(ctx, seed_input, 1)
        if seed.as_list()[0] not in (None, 2):
            raise ctx.error(f"Dimension must be 2 but is {seed.as_list()[0]}")
    return [_ts.TensorShape([3]), _ts.TensorShape([3]), _ts.TensorShape([1, 1, 4])]


def _random_crop_shape(ctx: InferenceContext):
    """RandomCrop: image [h, w, c], size [2] -> [size[0], size[1], c]."""
    image = _rank(ctx, 0, 3).as_list()
    size = _rank(ctx, 1, 1)
    if size.as_list()[0] not in (None, 2):
        raise ctx.error(f"Dimension must be 2 but is {size.as_list()[0]}")
    hw = ctx.value_as_shape(1)
    hw = hw.as_list() if hw.ndims == 2 else [None, None]
    return [_ts.TensorShape(hw + [image[2]])]


def _crop_grad_image_shape(ctx: InferenceContext):
    size = _rank(ctx, 3, 1)
    if size.as_list()[0] not in (None, 4):
        raise ctx.error(f"Dimension must be 4 but is {size.as_list()[0]}")
    return [ctx.value_as_shape(3) if ctx.value(3) is not None else _ts.unknown_shape(4)]


def _crop_grad_boxes_shape(ctx: InferenceContext):
    return [_rank(ctx, 2, 2)]


def _fractional_grad_shape(ctx: InferenceContext):
    return [_rank(ctx, 0, 4)]


def _fractional_avg_grad_shape(ctx: InferenceContext):
    value = ctx.value_as_shape(0)
    return [value if value.ndims is not None else _ts.unknown_shape(4)]


defop("ImageProjectiveTransformV2",
      "images: dtype, transforms: float32, output_shape: int32 -> transformed_images: dtype",
      attrs={"interpolation": None, "fill_mode": "CONSTANT"}, shape=lambda ctx: _sized_image_shape(ctx, 2))
defop("ImageProjectiveTransformV3",
      "images: dtype, transforms: float32, output_shape: int32, fill_value: float32 -> transformed_images: dtype",
      attrs={"interpolation": None, "fill_mode": "CONSTANT"}, shape=lambda ctx: _sized_image_shape(ctx, 2))
defop("CropAndResizeGradImage", "grads: float32, boxes: float32, box_ind: int32, image_size: int32 -> output: T",
      attrs={"method": "bilinear"}, shape=_crop_grad_image_shape)
defop("CropAndResizeGradBoxes", "grads: float32, image: T, boxes: float32, box_ind: int32 -> output: float32",
      attrs={"method": "bilinear"}, shape=_crop_grad_boxes_shape)
defop("RandomCrop", "image: T, size: int64 -> output: T", attrs={"seed": 0, "seed2": 0},
      shape=_random_crop_shape, stateful=True)
defop("SampleDistortedBoundingBox", "image_size: T, bounding_boxes: float32 -> begin: T, size: T, bboxes: float32",
      attrs=dict(_BOX_ATTRS, seed=0, seed2=0, min_object_covered=0.1), types={"T": _BOX_TYPES},
      shape=_boxes_shape, stateful=True)
defop("StatelessSampleDistortedBoundingBox", "image_size: T, bounding_boxes: float32, min_object_covered: float32, "
      "seed: Tseed -> begin: T, size: T, bboxes: float32", attrs=dict(_BOX_ATTRS),
      types={"T": _BOX_TYPES, "Tseed": _INDEX}, shape=lambda ctx: _boxes_shape(ctx, 3))
defop("FractionalMaxPoolGrad", "orig_input: T, orig_output: T, out_backprop: T, row_pooling_sequence: int64, "
      "col_pooling_sequence: int64 -> output: T", attrs={"overlapping": False}, shape=_fractional_grad_shape)
defop("FractionalAvgPoolGrad", "orig_input_tensor_shape: int64, out_backprop: T, row_pooling_sequence: int64, "
      "col_pooling_sequence: int64 -> output: T", attrs={"overlapping": False}, shape=_fractional_avg_grad_shape)
defop("ScaleAndTranslate", "images: T, size: int32, scale: float32, translation: float32 -> resized_images: float32",
      attrs={"kernel_type": "lanczos3", "antialias": True}, shape=lambda ctx: _sized_image_shape(ctx, 1))
defop("ScaleAndTranslateGrad", "grads: T, original_image: T, scale: float32, translation: float32 -> output: T",
      attrs={"kernel_type": "lanczos3", "antialias": True}, shape=lambda ctx: [_rank(ctx, 1, 4)])
def _proposals_shape(ctx: InferenceContext):
    """TF's shape function: scores and deltas [N, H, W, *], image_info [N, 5], anchors of rank 3, three
    scalars; rois [N, post_nms_topn, 4] and their probabilities [N, post_nms_topn]."""
    scores = _rank(ctx, 0, 4).as_list()
    _rank(ctx, 1, 4)
    info = _rank(ctx, 2, 2).as_list()
    if info[1] not in (None, 5):
        raise ctx.error(f"Dimension must be 5 but is {info[1]}")
    _rank(ctx, 3, 3)
    for i in (4, 5, 6):
        _rank(ctx, i, 0)
    top = ctx.attrs["post_nms_topn"]
    return [_ts.TensorShape([scores[0], top, 4]), _ts.TensorShape([scores[0], top])]


# TF registers GPU kernels only: on CPU, TF's own runtime refuses it ("No OpKernel was registered").
defop("GenerateBoundingBoxProposals", "scores: float32, bbox_deltas: float32, image_info: float32, "
      "anchors: float32, nms_threshold: float32, pre_nms_topn: int32, min_size: float32 -> rois: float32, "
      "roi_probabilities: float32", attrs={"post_nms_topn": 300}, shape=_proposals_shape)
