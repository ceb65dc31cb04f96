"""NN op types (TF's gen_nn_ops / gen_candidate_sampling_ops): activations, softmax, cross entropies,
convolution and pooling, normalization, top-k, candidate sampling.

Each op type is one `defop` entry with a hand-written shape function where TF's error text must show
(conv/pool ranks, cross-entropy shapes) or where build speed matters (element-wise activations).
The public `tf.nn.*` functions live in graphcompat/nn/; lowerings in lowering/rules/nn.py.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import (InferenceContext, ShapeInferenceError, apply_op, defop, scalar_shape,
                                            unchanged_shape)

FLOAT = _dt.FLOAT_TYPES
REAL = _dt.REAL_NUMBER_TYPES
INDEX = (_dt.int32, _dt.int64)


# ------------------------------------------------------------------------------------------------
# Element-wise activations and softmax
# ------------------------------------------------------------------------------------------------
for _op, _types in [("Relu", REAL), ("Relu6", REAL), ("Elu", FLOAT), ("Selu", FLOAT), ("Softplus", FLOAT),
                    ("Softsign", FLOAT)]:
    defop(_op, "features: T -> activations: T", types={"T": _types}, shape=unchanged_shape)
defop("LeakyRelu", "features: T -> activations: T", attrs={"alpha": 0.2}, types={"T": FLOAT},
      shape=unchanged_shape)


def _at_least_rank1(ctx: InferenceContext):
    shape = ctx.shape(0)
    if shape.ndims is not None and shape.ndims < 1:
        raise ctx.error(f"Shape must be at least rank 1 but is rank {shape.ndims}")
    return [shape]


defop("Softmax", "logits: T -> softmax: T", types={"T": FLOAT}, shape=_at_least_rank1)
defop("LogSoftmax", "logits: T -> logsoftmax: T", types={"T": FLOAT}, shape=_at_least_rank1)


def _bias_add_shape(ctx: InferenceContext):
    value, bias = ctx.shape(0), ctx.shape(1)
    if bias.ndims is not None and bias.ndims != 1:
        raise ctx.error(f"Shape must be rank 1 but is rank {bias.ndims}")
    if value.ndims is None:
        return [value]
    if value.ndims < 2:
        raise ctx.error(f"Shape must be at least rank 2 but is rank {value.ndims}")
    nchw = ctx.attrs["data_format"] == "NCHW"
    axis = 1 if nchw and value.ndims >= 3 else value.ndims - 1
    dims = value.as_list()
    b = bias.as_list()[0] if bias.ndims else None
    if dims[axis] is not None and b is not None and dims[axis] != b:
        raise ctx.error(f"Dimensions must be equal, but are {dims[axis]} and {b}")
    if dims[axis] is None:
        dims[axis] = b
    return [_ts.TensorShape(dims)]


defop("BiasAdd", "value: T, bias: T -> output: T", attrs={"data_format": "NHWC"},
      types={"T": _dt.NUMBER_TYPES}, shape=_bias_add_shape)
defop("L2Loss", "t: T -> output: T", types={"T": FLOAT}, shape=scalar_shape)


def _lrn_shape(ctx: InferenceContext):
    shape = ctx.shape(0)
    if shape.ndims is not None and shape.ndims != 4:
        raise ctx.error(f"Shape must be rank 4 but is rank {shape.ndims}")
    return [shape]


defop("LRN", "input: T -> output: T", attrs={"depth_radius": 5, "bias": 1.0, "alpha": 1.0, "beta": 0.5},
      types={"T": (_dt.float16, _dt.bfloat16, _dt.float32)}, shape=_lrn_shape)


# ------------------------------------------------------------------------------------------------
# Cross entropies
# ------------------------------------------------------------------------------------------------
def _xent_shape(ctx: InferenceContext):
    features, labels = ctx.shape(0), ctx.shape(1)
    for s in (features, labels):
        if s.ndims is not None and s.ndims != 2:
            raise ctx.error(f"Shape must be rank 2 but is rank {s.ndims}")
    if features.ndims is None or labels.ndims is None:
        return [_ts.TensorShape([None]), _ts.TensorShape([None, None])]
    f, l = features.as_list(), labels.as_list()
    dims = []
    for a, b in zip(f, l):
        if a is not None and b is not None and a != b and a != 1 and b != 1:
            raise ctx.error(f"Dimensions must be equal, but are {a} and {b}")
        dims.append(a if b in (None, 1) else b)
    return [_ts.TensorShape(dims[:1]), _ts.TensorShape(dims)]


defop("SoftmaxCrossEntropyWithLogits", "features: T, labels: T -> loss: T, backprop: T",
      types={"T": FLOAT}, shape=_xent_shape)


def _sparse_xent_shape(ctx: InferenceContext):
    features, labels = ctx.shape(0), ctx.shape(1)
    if features.ndims is not None and features.ndims != 2:
        raise ctx.error(f"Shape must be rank 2 but is rank {features.ndims}")
    if labels.ndims is not None and labels.ndims != 1:
        raise ctx.error(f"Shape must be rank 1 but is rank {labels.ndims}")
    batch = labels.as_list()[0] if labels.ndims else None
    classes = None
    if features.ndims is not None:
        fb, classes = features.as_list()
        if fb is not None and batch is not None and fb != batch:
            raise ctx.error(f"Dimensions must be equal, but are {fb} and {batch}")
        batch = batch if batch is not None else fb
    return [_ts.TensorShape([batch]), _ts.TensorShape([batch, classes])]


defop("SparseSoftmaxCrossEntropyWithLogits", "features: T, labels: Tlabels -> loss: T, backprop: T",
      attrs={"Tlabels": _dt.int64}, types={"T": FLOAT, "Tlabels": INDEX}, shape=_sparse_xent_shape)


# ------------------------------------------------------------------------------------------------
# Convolution and pooling
# ------------------------------------------------------------------------------------------------
def _spatial_out(size, k, s, d, padding, pads=(0, 0)):
    if size is None:
        return None
    eff = (k - 1) * d + 1
    if padding == "VALID":
        if size < eff:  # TF's GetWindowedOutputSize: InferenceContext::Subtract fails
            raise ShapeInferenceError(f"Negative dimension size caused by subtracting {eff} from {size}")
        return (size - eff + s) // s
    if padding == "SAME":
        return -(-size // s)
    return (size + pads[0] + pads[1] - eff) // s + 1


def _layout(data_format: str):
    """(batch, spatial axes, channel axis) of a 4-D layout."""
    return (0, (2, 3), 1) if data_format.startswith("NC") else (0, (1, 2), 3)


def _conv2d_shape(ctx: InferenceContext):
    x, w = ctx.shape(0), ctx.shape(1)
    for s in (x, w):
        if s.ndims is not None and s.ndims != 4:
            raise ctx.error(f"Shape must be rank 4 but is rank {s.ndims}")
    fmt = ctx.attrs["data_format"]
    if x.ndims is None:
        return [_ts.unknown_shape(4)]
    n_ax, sp, c_ax = _layout(fmt)
    xd = x.as_list()
    wd = w.as_list() if w.ndims is not None else [None] * 4
    in_depth, f_in, out_depth = xd[c_ax], wd[2], wd[3]
    if in_depth is not None and f_in is not None:
        if in_depth % f_in:
            raise ctx.error(f"Depth of input ({in_depth}) is not a multiple of input depth of filter ({f_in})")
        groups = in_depth // f_in
        if out_depth is not None and out_depth % groups:
            raise ctx.error(f"Depth of output ({out_depth}) is not a multiple of the number of groups ({groups})")
    strides, dil = ctx.attrs["strides"], ctx.attrs["dilations"]
    pads = ctx.attrs.get("explicit_paddings") or []
    if ctx.attrs["padding"] == "EXPLICIT" and len(pads) != 8:
        raise ctx.error(f"explicit_paddings attribute must contain 8 values, but got: {len(pads)}")
    pads = pads or [0] * 8
    out = [None] * 4
    out[n_ax], out[c_ax] = xd[n_ax], out_depth
    for i, ax in enumerate(sp):
        k = wd[i]
        out[ax] = None if k is None else _spatial_out(xd[ax], k, strides[ax], dil[ax], ctx.attrs["padding"],
                                                       pads[2 * ax:2 * ax + 2])
    return [_ts.TensorShape(out)]


_CONV_ATTRS = {"use_cudnn_on_gpu": True, "explicit_paddings": [], "data_format": "NHWC",
               "dilations": [1, 1, 1, 1]}
defop("Conv2D", "input: T, filter: T -> output: T", attrs=dict(_CONV_ATTRS),
      types={"T": FLOAT + (_dt.int32,)}, shape=_conv2d_shape)


def _depthwise_shape(ctx: InferenceContext):
    x, w = ctx.shape(0), ctx.shape(1)
    for s in (x, w):
        if s.ndims is not None and s.ndims != 4:
            raise ctx.error(f"Shape must be rank 4 but is rank {s.ndims}")
    if x.ndims is None:
        return [_ts.unknown_shape(4)]
    n_ax, sp, c_ax = _layout(ctx.attrs["data_format"])
    xd = x.as_list()
    wd = w.as_list() if w.ndims is not None else [None] * 4
    if xd[c_ax] is not None and wd[2] is not None and xd[c_ax] != wd[2]:
        raise ctx.error(f"Dimensions must be equal, but are {xd[c_ax]} and {wd[2]}")
    out = [None] * 4
    out[n_ax] = xd[n_ax]
    out[c_ax] = None if wd[2] is None or wd[3] is None else wd[2] * wd[3]
    strides, dil = ctx.attrs["strides"], ctx.attrs["dilations"]
    for i, ax in enumerate(sp):
        out[ax] = None if wd[i] is None else _spatial_out(xd[ax], wd[i], strides[ax], dil[ax],
                                                           ctx.attrs["padding"])
    return [_ts.TensorShape(out)]


defop("DepthwiseConv2dNative", "input: T, filter: T -> output: T",
      attrs={"explicit_paddings": [], "data_format": "NHWC", "dilations": [1, 1, 1, 1]},
      types={"T": FLOAT}, shape=_depthwise_shape)


def _conv_backprop_input_shape(ctx: InferenceContext):
    w, dy = ctx.shape(1), ctx.shape(2)
    for s in (w, dy):
        if s.ndims is not None and s.ndims != 4:
            raise ctx.error(f"Shape must be rank 4 but is rank {s.ndims}")
    sizes = ctx.value(0)
    if sizes is None:
        return [_ts.unknown_shape(4)]
    return [_ts.TensorShape([int(d) for d in sizes])]


defop("Conv2DBackpropInput", "input_sizes: int32, filter: T, out_backprop: T -> output: T",
      attrs=dict(_CONV_ATTRS), types={"T": FLOAT}, shape=_conv_backprop_input_shape)


def _pool_shape(ctx: InferenceContext):
    x = ctx.shape(0)
    if x.ndims is not None and x.ndims != 4:
        raise ctx.error(f"Shape must be rank 4 but is rank {x.ndims}")
    if x.ndims is None:
        return [_ts.unknown_shape(4)]
    n_ax, sp, c_ax = _layout(ctx.attrs["data_format"])
    ksize, strides = ctx.attrs["ksize"], ctx.attrs["strides"]
    if ksize[n_ax] != 1 or strides[n_ax] != 1:
        raise ValueError("Pooling is not yet supported on the batch dimension.")
    xd = x.as_list()
    out = list(xd)
    for ax in sp:
        out[ax] = _spatial_out(xd[ax], ksize[ax], strides[ax], 1, ctx.attrs["padding"])
    if ksize[c_ax] != 1:
        out[c_ax] = None if xd[c_ax] is None else xd[c_ax] // ksize[c_ax]
    return [_ts.TensorShape(out)]


defop("MaxPool", "input: T -> output: T", attrs={"explicit_paddings": [], "data_format": "NHWC"},
      types={"T": REAL}, shape=_pool_shape)
defop("AvgPool", "value: T -> output: T", attrs={"data_format": "NHWC"}, types={"T": FLOAT}, shape=_pool_shape)


# ------------------------------------------------------------------------------------------------
# Batch normalization
# ------------------------------------------------------------------------------------------------
def _fused_bn_shape(ctx: InferenceContext):
    x = ctx.shape(0)
    if x.ndims is not None and x.ndims != 4:
        raise ctx.error(f"Shape must be rank 4 but is rank {x.ndims}")
    for i in range(1, 5):
        s = ctx.shape(i)
        if s.ndims is not None and s.ndims != 1:
            raise ctx.error(f"Shape must be rank 1 but is rank {s.ndims}")
    c = None
    if x.ndims is not None:
        c = x.as_list()[_layout(ctx.attrs["data_format"])[2]]
    if c is None and ctx.shape(1).ndims:
        c = ctx.shape(1).as_list()[0]
    vec = _ts.TensorShape([c])
    return [x, vec, vec, vec, vec, _ts.unknown_shape()]


defop("FusedBatchNormV3", "x: T, scale: U, offset: U, mean: U, variance: U -> y: T, batch_mean: U, "
      "batch_variance: U, reserve_space_1: U, reserve_space_2: U, reserve_space_3: U",
      attrs={"epsilon": 0.0001, "exponential_avg_factor": 1.0, "data_format": "NHWC", "is_training": True},
      types={"T": (_dt.float16, _dt.bfloat16, _dt.float32), "U": (_dt.float32,)}, shape=_fused_bn_shape)


# ------------------------------------------------------------------------------------------------
# In-top-k (TopKV2 itself is the sort family's: graphcompat/ops/sort_ops.py)
# ------------------------------------------------------------------------------------------------
def _in_top_k_shape(ctx: InferenceContext):
    p, t = ctx.shape(0), ctx.shape(1)
    if p.ndims is not None and p.ndims != 2:
        raise ctx.error(f"Shape must be rank 2 but is rank {p.ndims}")
    if t.ndims is not None and t.ndims != 1:
        raise ctx.error(f"Shape must be rank 1 but is rank {t.ndims}")
    b = p.as_list()[0] if p.ndims else None
    tb = t.as_list()[0] if t.ndims else None
    if b is not None and tb is not None and b != tb:
        raise ctx.error(f"Dimensions must be equal, but are {b} and {tb}")
    return [_ts.TensorShape([b if b is not None else tb])]


defop("InTopKV2", "predictions: float32, targets: T, k: T -> precision: bool", types={"T": INDEX},
      shape=_in_top_k_shape)


# ------------------------------------------------------------------------------------------------
# Candidate sampling
# ------------------------------------------------------------------------------------------------
def _sampler_shape(ctx: InferenceContext):
    t = ctx.shape(0)
    if t.ndims is not None and t.ndims != 2:
        raise ctx.error(f"Shape must be rank 2 but is rank {t.ndims}")
    n = ctx.attrs["num_sampled"]
    return [_ts.TensorShape([n]), t if t.ndims is not None else _ts.unknown_shape(2), _ts.TensorShape([n])]


for _op in ("LogUniformCandidateSampler", "UniformCandidateSampler", "AllCandidateSampler",
            "LearnedUnigramCandidateSampler"):
    defop(_op, "true_classes: int64 -> sampled_candidates: int64, true_expected_count: float32, "
          "sampled_expected_count: float32", attrs={"seed": 0, "seed2": 0}, shape=_sampler_shape, stateful=True)
defop("FixedUnigramCandidateSampler", "true_classes: int64 -> sampled_candidates: int64, true_expected_count: "
      "float32, sampled_expected_count: float32",
      attrs={"vocab_file": "", "distortion": 1.0, "num_reserved_ids": 0, "num_shards": 1, "shard": 0,
             "unigrams": [], "seed": 0, "seed2": 0}, shape=_sampler_shape, stateful=True)


def _accidental_hits_shape(ctx: InferenceContext):
    t, s = ctx.shape(0), ctx.shape(1)
    if t.ndims is not None and t.ndims != 2:
        raise ctx.error(f"Shape must be rank 2 but is rank {t.ndims}")
    if t.ndims == 2 and t.as_list()[1] is not None and t.as_list()[1] != ctx.attrs["num_true"]:
        raise ctx.error(f"Dimension must be {ctx.attrs['num_true']} but is {t.as_list()[1]}")
    if s.ndims is not None and s.ndims != 1:
        raise ctx.error(f"Shape must be rank 1 but is rank {s.ndims}")
    return [_ts.TensorShape([None])] * 3


defop("ComputeAccidentalHits", "true_classes: int64, sampled_candidates: int64 -> indices: int32, ids: int64, "
      "weights: float32", attrs={"seed": 0, "seed2": 0}, shape=_accidental_hits_shape)


def gen_op(op_type: str, inputs: list, attrs: Optional[dict] = None, name: Optional[str] = None):
    """A raw op of `op_type` (as TF's generated `gen_nn_ops.*` wrappers)."""
    return apply_op(op_type, inputs, attrs, name=name)


