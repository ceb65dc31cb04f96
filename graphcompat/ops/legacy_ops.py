"""Op types that graphs written by TF 1.0–1.15 contain and TF's newer Python no longer records.

Frozen graphs and meta graphs from those versions hold FusedBatchNorm (V1/V2) and their gradients, Div/Mod/Inv,
Concat/Gather/Reverse (V1), BatchMatMul (V1), the V1/V2 matrix-diagonal ops, the `Batch*` linear-algebra
aliases, grappler's DataFormat* ops, and many gradient kernels; `tf.import_graph_def` needs each as an op.
Every entry here is TF's REGISTER_OP signature and attr defaults (TF's type constraints come from
framework/tf_op_types.py). Their lowerings (lowering/rules/legacy.py) reuse the newer op's rule wherever TF's
kernel is the same computation, so the old and new op types agree by construction.
"""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import (InferenceContext, broadcast_shape, defop, merge_shapes,
                                            unchanged_shape)
from graphcompat.ops.nn_ops import _fused_bn_shape, _in_top_k_shape

INDEX = (_dt.int32, _dt.int64)
_BN_ATTRS = {"epsilon": 0.0001, "exponential_avg_factor": 1.0, "data_format": "NHWC", "is_training": True}
_BN_GRAD_ATTRS = {"epsilon": 0.0001, "data_format": "NHWC", "is_training": True}
_HALF_FLOAT = (_dt.float16, _dt.bfloat16, _dt.float32)


def _fused_bn_v1_shape(ctx: InferenceContext):
    """FusedBatchNormShape: y like x, four channel vectors (V3's function, less its sixth output)."""
    return _fused_bn_shape(ctx)[:5]


def _fused_bn_grad_shape(ctx: InferenceContext):
    """FusedBatchNormGradShape: x_backprop like x (merged with y_backprop), three channel vectors, and two
    empty reserve outputs ([0], as TF's kernels leave them)."""
    x = merge_shapes(ctx, ctx.shape(0), ctx.shape(1))
    for i in (0, 1):
        s = ctx.shape(i)
        if s.ndims is not None and s.ndims != 4:
            raise ctx.error(f"Shape must be rank 4 but is rank {s.ndims}")
    c = None
    if x.ndims is not None:
        c = x.as_list()[1 if ctx.attrs.get("data_format", "NHWC") == "NCHW" else 3]
    for i in (2, 3, 4):
        s = ctx.shape(i)
        if s.ndims is not None and s.ndims != 1:
            raise ctx.error(f"Shape must be rank 1 but is rank {s.ndims}")
        if c is None and s.ndims:
            c = s.as_list()[0]
    vec = _ts.TensorShape([c])
    if x.ndims is None:
        x = _ts.unknown_shape(4)
    return [x, vec, vec, _ts.TensorShape([0]), _ts.TensorShape([0])]


# --- batch normalization -----------------------------------------------------------------------------
defop("FusedBatchNorm", "x: T, scale: T, offset: T, mean: T, variance: T -> y: T, batch_mean: T, "
      "batch_variance: T, reserve_space_1: T, reserve_space_2: T", attrs=dict(_BN_ATTRS),
      types={"T": (_dt.float32,)}, shape=_fused_bn_v1_shape)
defop("FusedBatchNormV2", "x: T, scale: U, offset: U, mean: U, variance: U -> y: T, batch_mean: U, "
      "batch_variance: U, reserve_space_1: U, reserve_space_2: U", attrs=dict(_BN_ATTRS),
      types={"T": _HALF_FLOAT, "U": (_dt.float32,)}, shape=_fused_bn_v1_shape)
defop("FusedBatchNormGrad", "y_backprop: T, x: T, scale: T, reserve_space_1: T, reserve_space_2: T -> "
      "x_backprop: T, scale_backprop: T, offset_backprop: T, reserve_space_3: T, reserve_space_4: T",
      attrs=dict(_BN_GRAD_ATTRS), types={"T": (_dt.float32,)}, shape=_fused_bn_grad_shape)
defop("FusedBatchNormGradV2", "y_backprop: T, x: T, scale: float32, reserve_space_1: U, reserve_space_2: U -> "
      "x_backprop: T, scale_backprop: U, offset_backprop: U, reserve_space_3: U, reserve_space_4: U",
      attrs=dict(_BN_GRAD_ATTRS), types={"T": _HALF_FLOAT, "U": (_dt.float32,)}, shape=_fused_bn_grad_shape)

# --- nn ---------------------------------------------------------------------------------------------
defop("BiasAddV1", "value: T, bias: T -> output: T", shape=lambda ctx: [ctx.shape(0)])
defop("MaxPoolV2", "input: T, ksize: int32, strides: int32 -> output: T",
      attrs={"T": _dt.float32, "data_format": "NHWC"})
defop("MaxPoolGradWithArgmax", "input: T, grad: T, argmax: Targmax -> output: T",
      attrs={"include_batch_in_index": False}, shape=lambda ctx: [ctx.shape(0)])
defop("MaxPoolGradGrad", "orig_input: T, orig_output: T, grad: T -> output: T", attrs={"data_format": "NHWC"},
      shape=lambda ctx: [ctx.shape(1)])
defop("MaxPoolGradGradV2", "orig_input: T, orig_output: T, grad: T, ksize: int32, strides: int32 -> output: T",
      attrs={"data_format": "NHWC"}, shape=lambda ctx: [ctx.shape(1)])
defop("MaxPoolGradGradWithArgmax", "input: T, grad: T, argmax: Targmax -> output: T",
      attrs={"include_batch_in_index": False}, shape=lambda ctx: [ctx.shape(2)])
defop("AvgPool3DGrad", "orig_input_shape: int32, grad: T -> output: T", attrs={"data_format": "NDHWC"},
      shape=lambda ctx: [ctx.value_as_shape(0)])
defop("MaxPool3DGrad", "orig_input: TInput, orig_output: TInput, grad: T -> output: T",
      attrs={"data_format": "NDHWC", "T": _dt.float32, "TInput": _dt.float32}, shape=lambda ctx: [ctx.shape(0)])
defop("MaxPool3DGradGrad", "orig_input: T, orig_output: T, grad: T -> output: T", attrs={"data_format": "NDHWC"},
      shape=lambda ctx: [ctx.shape(1)])
# V1 3-D convolution gradients take the tensor whose shape the V2 ops take as a vector.
defop("Conv3DBackpropFilter", "input: T, filter: T, out_backprop: T -> output: T",
      attrs={"dilations": [1, 1, 1, 1, 1]}, shape=lambda ctx: [ctx.shape(1)])
defop("Conv3DBackpropInput", "input: T, filter: T, out_backprop: T -> output: T",
      attrs={"dilations": [1, 1, 1, 1, 1]}, shape=lambda ctx: [ctx.shape(0)])
def _lrn_grad_shape(ctx: InferenceContext):
    """TF's LRNGrad shape function: the three inputs merged, of rank 4."""
    out = _ts.unknown_shape(4)
    for i in range(3):
        s = ctx.shape(i)
        if s.ndims is not None and s.ndims != 4:
            raise ctx.error(f"Shape must be rank 4 but is rank {s.ndims}")
        out = merge_shapes(ctx, out, s)
    return [out]


defop("LRNGrad", "input_grads: T, input_image: T, output_image: T -> output: T",
      attrs={"depth_radius": 5, "bias": 1.0, "alpha": 1.0, "beta": 0.5, "T": _dt.float32}, shape=_lrn_grad_shape)
defop("Dilation2DBackpropInput", "input: T, filter: T, out_backprop: T -> in_backprop: T",
      shape=lambda ctx: [ctx.shape(0)])
defop("Dilation2DBackpropFilter", "input: T, filter: T, out_backprop: T -> filter_backprop: T",
      shape=lambda ctx: [ctx.shape(1)])
# Grappler's layout optimizer writes these into the graphs it hands the executor (and to optimized exports).
defop("DataFormatDimMap", "x: T -> y: T", attrs={"T": _dt.int32, "src_format": "NHWC", "dst_format": "NCHW"},
      shape=unchanged_shape)
defop("DataFormatVecPermute", "x: T -> y: T", attrs={"T": _dt.int32, "src_format": "NHWC", "dst_format": "NCHW"},
      shape=unchanged_shape)
def _nth_element_shape(ctx: InferenceContext):
    """TF's shape function: input of rank >= 1, a scalar n that is a non-negative dimension, the last
    dimension (when known) greater than n; the output drops the last dimension."""
    x, n = ctx.shape(0), ctx.shape(1)
    if x.ndims == 0:
        raise ctx.error("Shape must be at least rank 1 but is rank 0")
    if n.ndims is not None and n.ndims != 0:
        raise ctx.error(f"Input must be scalar but has rank {n.ndims}")
    value = ctx.value(1)
    if value is not None and int(value) < 0:
        raise ctx.error(f"Dimension size, given by scalar input 1, must be non-negative but is {int(value)}")
    if x.ndims is None:
        return [_ts.unknown_shape()]
    last = x.as_list()[-1]
    if last is not None and value is not None and last <= int(value):
        raise ctx.error(f"Input must have last dimension > n = {int(value)} but is {last}")
    return [_ts.TensorShape(x.as_list()[:-1])]


def _bincount_shape(ctx: InferenceContext):
    """TF's shape function: a scalar size; a constant size gives the output's length."""
    size = ctx.shape(1)
    if size.ndims is not None and size.ndims != 0:
        raise ctx.error(f"Shape must be rank 0 but is rank {size.ndims}")
    value = ctx.value(1)
    if value is not None and int(value) < 0:
        raise ctx.error(f"size ({int(value)}) must be non-negative")
    return [_ts.TensorShape([None if value is None else int(value)])]


def _global_norm_shape(ctx: InferenceContext):
    """BatchNormWithGlobalNormalization's shape function: t of rank 4 whose last dimension every vector
    (m, v, beta, gamma; the Grad's m, v, gamma) shares; the Grad's dx is like t and the rest are vectors."""
    t = ctx.shape(0)
    if t.ndims is not None and t.ndims != 4:
        raise ctx.error(f"Shape must be rank 4 but is rank {t.ndims}")
    depth = t.as_list()[3] if t.ndims else None
    grad = ctx.op_type.endswith("Grad")
    for i in ((1, 2, 3) if grad else (1, 2, 3, 4)):
        s = ctx.shape(i)
        if s.ndims is not None and s.ndims != 1:
            raise ctx.error(f"Shape must be rank 1 but is rank {s.ndims}")
        d = s.as_list()[0] if s.ndims else None
        if depth is not None and d is not None and d != depth:
            raise ctx.error(f"Dimensions must be equal, but are {depth} and {d}")
        depth = depth if depth is not None else d
    x = _ts.TensorShape(t.as_list()[:3] + [depth]) if t.ndims else _ts.TensorShape([None, None, None, depth])
    if not grad:
        return [x]
    x = merge_shapes(ctx, x, ctx.shape(4))
    vec = _ts.TensorShape([depth])
    return [x, vec, vec, vec, vec]


# TF 0.x's batch norm (deprecated at GraphDef version 9, still in old frozen graphs): the attrs
# variance_epsilon and scale_after_normalization have no defaults.
defop("BatchNormWithGlobalNormalization", "t: T, m: T, v: T, beta: T, gamma: T -> result: T",
      shape=_global_norm_shape)
defop("BatchNormWithGlobalNormalizationGrad", "t: T, m: T, v: T, gamma: T, backprop: T -> dx: T, dm: T, dv: T, "
      "db: T, dg: T", shape=_global_norm_shape)
defop("InTopK", "predictions: float32, targets: T -> precision: bool", attrs={"T": _dt.int32},
      shape=_in_top_k_shape)
defop("NthElement", "input: T, n: int32 -> values: T", attrs={"reverse": False}, shape=_nth_element_shape)

# --- math -------------------------------------------------------------------------------------------
defop("Div", "x: T, y: T -> z: T", shape=broadcast_shape)
defop("Mod", "x: T, y: T -> z: T", shape=broadcast_shape)
defop("Inv", "x: T -> y: T", shape=unchanged_shape)
defop("ApproximateEqual", "x: T, y: T -> z: bool", attrs={"tolerance": 1e-05},
      shape=lambda ctx: [merge_shapes(ctx, ctx.shape(0), ctx.shape(1))])
defop("Bucketize", "input: T -> output: int32", shape=unchanged_shape)
defop("PopulationCount", "x: T -> y: uint8", shape=unchanged_shape)
defop("Bincount", "arr: int32, size: int32, weights: T -> bins: T", shape=_bincount_shape)
defop("CheckNumericsV2", "tensor: T -> output: T", attrs={"message": ""}, stateful=True, shape=unchanged_shape)
defop("IgammaGradA", "a: T, x: T -> z: T")
defop("RandomGammaGrad", "alpha: T, sample: T -> output: T")
def _segment_v2_shape(ctx: InferenceContext):
    """[num_segments] + data's shape after its first dimension (segment_ids a vector)."""
    data, n = ctx.shape(0), ctx.value(2)
    rows = None if n is None else int(n)
    return [_ts.TensorShape([rows] + data.as_list()[1:]) if data.ndims else _ts.unknown_shape()]


for _op in ("SegmentSumV2", "SegmentProdV2", "SegmentMaxV2", "SegmentMinV2"):
    defop(_op, "data: T, segment_ids: Tindices, num_segments: Tnumsegments -> output: T",
          attrs={"Tnumsegments": _dt.int32}, shape=_segment_v2_shape)

# --- array ------------------------------------------------------------------------------------------
defop("Concat", "concat_dim: int32, values: N * T -> output: T")
defop("Gather", "params: Tparams, indices: Tindices -> output: Tparams", attrs={"validate_indices": True})
defop("Reverse", "tensor: T, dims: bool -> output: T", shape=lambda ctx: [ctx.shape(0)])
defop("PlaceholderV2", "-> output: dtype", shape=lambda ctx: [ctx.attrs["shape"]])
defop("DeepCopy", "x: T -> y: T", stateful=True, shape=unchanged_shape)
for _op in ("InplaceAdd", "InplaceSub", "InplaceUpdate"):
    defop(_op, "x: T, i: int32, v: T -> y: T", shape=lambda ctx: [ctx.shape(0)])
defop("ScatterNdNonAliasingAdd", "input: T, indices: Tindices, updates: T -> output: T",
      attrs={"bad_indices_policy": ""}, shape=lambda ctx: [ctx.shape(0)])
def _space_batch_shape(ctx: InferenceContext):
    """SpaceToBatch / BatchToSpace (block_size b): rank 4; with constant amounts, H and W padded then divided
    by b (the batch times b²), or multiplied by b then cropped (the batch divided by b²)."""
    x, b = ctx.shape(0), ctx.attrs["block_size"]
    if x.ndims is not None and x.ndims != 4:
        raise ctx.error(f"Shape must be rank 4 but is rank {x.ndims}")
    n, h, w, c = x.as_list() if x.ndims else [None] * 4
    amounts = ctx.value(1)
    if ctx.op_type == "SpaceToBatch":
        n = None if n is None else n * b * b
        if amounts is None:
            return [_ts.TensorShape([n, None, None, c])]
        h, w = [None if d is None else (d + int(lo) + int(hi)) // b for d, (lo, hi) in zip((h, w), amounts)]
    else:
        n = None if n is None else n // (b * b)
        if amounts is None:
            return [_ts.TensorShape([n, None, None, c])]
        h, w = [None if d is None else d * b - int(lo) - int(hi) for d, (lo, hi) in zip((h, w), amounts)]
    return [_ts.TensorShape([n, h, w, c])]


def _mirror_pad_grad_shape(ctx: InferenceContext):
    """The padded input's shape less the constant paddings (unknown dimensions where they are not constant)."""
    x, pads = ctx.shape(0), ctx.value(1)
    if x.ndims is None:
        return [_ts.unknown_shape()]
    if pads is None:
        return [_ts.unknown_shape(x.ndims)]
    return [_ts.TensorShape([None if d is None else d - int(lo) - int(hi) for d, (lo, hi) in zip(x.as_list(), pads)])]


defop("BatchToSpace", "input: T, crops: Tidx -> output: T", attrs={"Tidx": _dt.int32}, shape=_space_batch_shape)
defop("SpaceToBatch", "input: T, paddings: Tpaddings -> output: T", attrs={"Tpaddings": _dt.int32},
      shape=_space_batch_shape)
defop("MirrorPadGrad", "input: T, paddings: Tpaddings -> output: T", attrs={"Tpaddings": _dt.int32},
      shape=_mirror_pad_grad_shape)

# --- linear algebra ---------------------------------------------------------------------------------
def _batch_mat_mul_v1_shape(ctx: InferenceContext):
    """TF's BatchMatMulShape (no broadcasting): ranks >= 2, equal batch dimensions, matching inner dimensions."""
    x, y = ctx.shape(0), ctx.shape(1)
    for s in (x, y):
        if s.ndims is not None and s.ndims < 2:
            raise ctx.error(f"Shape must be at least rank 2 but is rank {s.ndims}")
    if x.ndims is None or y.ndims is None:
        return [_ts.unknown_shape()]
    adj_x, adj_y = ctx.attrs.get("adj_x", False), ctx.attrs.get("adj_y", False)
    xs, ys = x.as_list(), y.as_list()
    batch = merge_shapes(ctx, _ts.TensorShape(xs[:-2]), _ts.TensorShape(ys[:-2]))
    inner_x, inner_y = xs[-2] if adj_x else xs[-1], ys[-1] if adj_y else ys[-2]
    if inner_x is not None and inner_y is not None and inner_x != inner_y:
        raise ctx.error(f"Dimensions must be equal, but are {inner_x} and {inner_y}")
    return [_ts.TensorShape(batch.as_list() + [xs[-1] if adj_x else xs[-2], ys[-2] if adj_y else ys[-1]])]


defop("BatchMatMul", "x: T, y: T -> output: T", attrs={"adj_x": False, "adj_y": False, "grad_x": False,
                                                         "grad_y": False}, shape=_batch_mat_mul_v1_shape)
defop("MatrixDiag", "diagonal: T -> output: T")
defop("MatrixDiagPart", "input: T -> diagonal: T")
defop("MatrixSetDiag", "input: T, diagonal: T -> output: T", shape=lambda ctx: [ctx.shape(0)])
defop("MatrixDiagV2", "diagonal: T, k: int32, num_rows: int32, num_cols: int32, padding_value: T -> output: T")
defop("MatrixDiagPartV2", "input: T, k: int32, padding_value: T -> diagonal: T")
defop("MatrixSetDiagV2", "input: T, diagonal: T, k: int32 -> output: T")
defop("SelfAdjointEig", "input: T -> output: T")
defop("CholeskyGrad", "l: T, grad: T -> output: T")
# The `Batch*` names of TF 0.x (deprecated at GraphDef versions 11-15): the same kernels as the names
# without the prefix, which had learnt to take batches.
defop("BatchMatrixDiag", "diagonal: T -> output: T")
defop("BatchMatrixDiagPart", "input: T -> diagonal: T")
defop("BatchMatrixSetDiag", "input: T, diagonal: T -> output: T", shape=lambda ctx: [ctx.shape(0)])
defop("BatchMatrixBandPart", "input: T, num_lower: int64, num_upper: int64 -> band: T")
defop("BatchMatrixDeterminant", "input: T -> output: T")
defop("BatchMatrixInverse", "input: T -> output: T", attrs={"adjoint": False})
defop("BatchMatrixSolve", "matrix: T, rhs: T -> output: T", attrs={"adjoint": False})
defop("BatchMatrixSolveLs", "matrix: T, rhs: T, l2_regularizer: float64 -> output: T", attrs={"fast": True})
defop("BatchMatrixTriangularSolve", "matrix: T, rhs: T -> output: T", attrs={"lower": True, "adjoint": False})
defop("BatchCholesky", "input: T -> output: T")
defop("BatchCholeskyGrad", "l: T, grad: T -> output: T")
defop("BatchSelfAdjointEig", "input: T -> output: T")
defop("BatchSelfAdjointEigV2", "input: T -> e: T, v: T", attrs={"compute_v": True})
defop("BatchSvd", "input: T -> s: T, u: T, v: T", attrs={"compute_uv": True, "full_matrices": False})
for _op in ("BatchFFT", "BatchFFT2D", "BatchFFT3D", "BatchIFFT", "BatchIFFT2D", "BatchIFFT3D"):
    defop(_op, "input: complex64 -> output: complex64", shape=unchanged_shape)

# --- image ------------------------------------------------------------------------------------------
defop("AdjustContrast", "images: T, contrast_factor: float32, min_value: float32, max_value: float32 -> "
      "output: float32", shape=lambda ctx: [ctx.shape(0)])
defop("AdjustContrastv2", "images: T, contrast_factor: float32 -> output: T", attrs={"T": _dt.float32},
      shape=lambda ctx: [ctx.shape(0)])


def _nms_v1_shape(ctx: InferenceContext):
    """NonMaxSuppression(V2, V4)'s shape function: boxes [n, 4], scores [n], a scalar size; the indices are a
    vector of unknown length (V4 padded: max_output_size of them)."""
    boxes, scores, size = ctx.shape(0), ctx.shape(1), ctx.shape(2)
    if boxes.ndims is not None and boxes.ndims != 2:
        raise ctx.error(f"Shape must be rank 2 but is rank {boxes.ndims}")
    if scores.ndims is not None and scores.ndims != 1:
        raise ctx.error(f"Shape must be rank 1 but is rank {scores.ndims}")
    if size.ndims is not None and size.ndims != 0:
        raise ctx.error(f"Shape must be rank 0 but is rank {size.ndims}")
    if boxes.ndims is not None and boxes.as_list()[1] not in (None, 4):
        raise ctx.error(f"Dimension must be 4 but is {boxes.as_list()[1]}")
    n = None
    if ctx.attrs.get("pad_to_max_output_size"):
        value = ctx.value(2)
        n = None if value is None else int(value)
    out = [_ts.TensorShape([n])]
    return out + [_ts.TensorShape([])] if ctx.op_type == "NonMaxSuppressionV4" else out


defop("NonMaxSuppression", "boxes: float32, scores: float32, max_output_size: int32 -> selected_indices: int32",
      attrs={"iou_threshold": 0.5}, shape=_nms_v1_shape)
defop("NonMaxSuppressionV2", "boxes: T, scores: T, max_output_size: int32, iou_threshold: T_threshold -> "
      "selected_indices: int32", attrs={"T": _dt.float32, "T_threshold": _dt.float32}, shape=_nms_v1_shape)
defop("NonMaxSuppressionV4", "boxes: T, scores: T, max_output_size: int32, iou_threshold: T_threshold, "
      "score_threshold: T_threshold -> selected_indices: int32, valid_outputs: int32",
      attrs={"T": _dt.float32, "T_threshold": _dt.float32, "pad_to_max_output_size": False},
      shape=_nms_v1_shape)
defop("ResizeBilinearGrad", "grads: float32, original_image: T -> output: T",
      attrs={"align_corners": False, "half_pixel_centers": False}, shape=lambda ctx: [ctx.shape(1)])
defop("ResizeBicubicGrad", "grads: float32, original_image: T -> output: T",
      attrs={"align_corners": False, "half_pixel_centers": False}, shape=lambda ctx: [ctx.shape(1)])
defop("ResizeNearestNeighborGrad", "grads: T, size: int32 -> output: T",
      attrs={"align_corners": False, "half_pixel_centers": False})
