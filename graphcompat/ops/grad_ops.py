"""The gradient kernels TF's Python gradient functions write into graphs (ReluGrad, BiasAddGrad, MaxPoolGrad,
Conv2DBackpropFilter, FusedBatchNormGradV3, BroadcastGradientArgs …).

graphcompat's own tf.gradients never records them (one SymbolicGradient op differentiates with jax.vjp),
but a training graph written by TensorFlow is full of them: importing and running one needs each as an
op. The kernels whose TF math is "the gradient of op X" are lowered as exactly that: jax.vjp of X's
lowering rule (lowering/rules/grad_ops.py), so they agree with graphcompat's forward ops by construction.
"""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, defop, merge_shapes, unchanged_shape

FLOAT = _dt.FLOAT_TYPES
FLOAT_COMPLEX = _dt.FLOAT_AND_COMPLEX_TYPES
REAL = _dt.REAL_NUMBER_TYPES
INDEX = (_dt.int32, _dt.int64)


def _same_shapes(ctx: InferenceContext):
    return [merge_shapes(ctx, ctx.shape(0), ctx.shape(1))]


def _shape_from_input(i: int):
    """Output shape = the value of input `i` (a shape vector), as TF's *Backprop* shape functions."""
    def shape(ctx: InferenceContext):
        return [ctx.value_as_shape(i)]
    return shape


def _bias_add_grad_shape(ctx: InferenceContext):
    grad = ctx.shape(0)
    if grad.ndims is None:
        return [_ts.unknown_shape(1)]
    channel = 1 if ctx.attrs.get("data_format", "NHWC").startswith("NC") and grad.ndims >= 3 else -1
    return [_ts.TensorShape([grad.as_list()[channel]])]


def _broadcast_gradient_args_shape(ctx: InferenceContext):
    return [_ts.TensorShape([None]), _ts.TensorShape([None])]


def _concat_offset_shape(ctx: InferenceContext):
    return [t.shape for t in ctx.inputs[1:]]


def _batch_norm_grad_shape(ctx: InferenceContext):
    x, scale = ctx.shape(1), ctx.shape(2)
    return [x, scale, scale, _ts.TensorShape([0]), _ts.TensorShape([0])]


# Elementwise: (gradients, features | outputs) → backprops; (y, dy) → z.
for _op in ("ReluGrad", "Relu6Grad"):
    defop(_op, "gradients: T, features: T -> backprops: T", types={"T": REAL}, shape=_same_shapes)
for _op in ("EluGrad", "SeluGrad"):
    defop(_op, "gradients: T, outputs: T -> backprops: T", types={"T": FLOAT}, shape=_same_shapes)
for _op in ("SoftplusGrad", "SoftsignGrad"):
    defop(_op, "gradients: T, features: T -> backprops: T", types={"T": FLOAT}, shape=_same_shapes)
defop("LeakyReluGrad", "gradients: T, features: T -> backprops: T", attrs={"alpha": 0.2, "T": _dt.float32},
      types={"T": FLOAT}, shape=_same_shapes)
for _op in ("TanhGrad", "SigmoidGrad", "SqrtGrad", "RsqrtGrad", "ReciprocalGrad", "InvGrad"):
    defop(_op, "y: T, dy: T -> z: T", types={"T": FLOAT_COMPLEX}, shape=_same_shapes)

defop("BiasAddGrad", "out_backprop: T -> output: T", attrs={"data_format": "NHWC"}, types={"T": _dt.NUMBER_TYPES},
      shape=_bias_add_grad_shape)
defop("BroadcastGradientArgs", "s0: T, s1: T -> r0: T, r1: T", attrs={"T": _dt.int32}, types={"T": INDEX},
      shape=_broadcast_gradient_args_shape)
defop("ConcatOffset", "concat_dim: int32, shape: N * shape_type -> offset: N * shape_type",
      attrs={"shape_type": _dt.int32}, types={"shape_type": INDEX}, shape=_concat_offset_shape)
defop("Snapshot", "input: T -> output: T", shape=unchanged_shape)
defop("StridedSliceGrad", "shape: Index, begin: Index, end: Index, strides: Index, dy: T -> output: T",
      attrs={"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0, "shrink_axis_mask": 0},
      types={"Index": INDEX}, shape=_shape_from_input(0))

# Convolutions and pools: the forward op's attrs, the gradient of one of its inputs.
_CONV = {"use_cudnn_on_gpu": True, "explicit_paddings": [], "data_format": "NHWC", "dilations": [1, 1, 1, 1]}
defop("Conv2DBackpropFilter", "input: T, filter_sizes: int32, out_backprop: T -> output: T", attrs=dict(_CONV),
      types={"T": FLOAT}, shape=_shape_from_input(1))


def _rank4_of_input(i: int):
    """Conv2DBackprop{Filter,Input}V2's shape function: the output has the shape of input `i` (the filter,
    resp. the input), which must be rank 4; TF checks no other input's rank."""
    def shape(ctx):
        s = ctx.shape(i)
        if s.ndims is not None and s.ndims != 4:
            raise ctx.error(f"Shape must be rank 4 but is rank {s.ndims}")
        return [s if s.ndims is not None else _ts.unknown_shape(4)]
    return shape


# The V2 forms take the tensor itself instead of its shape (TF's CPU build has no kernel for them; their
# lowerings are the V1 ones with the shape read from the tensor). Their T lists differ, as TF's do.
defop("Conv2DBackpropFilterV2", "input: T, filter: T, out_backprop: T -> output: T", attrs=dict(_CONV),
      shape=_rank4_of_input(1))
defop("Conv2DBackpropInputV2", "input: T, filter: T, out_backprop: T -> output: T", attrs=dict(_CONV),
      shape=_rank4_of_input(0))
_DEPTHWISE = {"explicit_paddings": [], "data_format": "NHWC", "dilations": [1, 1, 1, 1]}
defop("DepthwiseConv2dNativeBackpropInput", "input_sizes: int32, filter: T, out_backprop: T -> output: T",
      attrs=dict(_DEPTHWISE), types={"T": FLOAT}, shape=_shape_from_input(0))
defop("DepthwiseConv2dNativeBackpropFilter", "input: T, filter_sizes: int32, out_backprop: T -> output: T",
      attrs=dict(_DEPTHWISE), types={"T": FLOAT}, shape=_shape_from_input(1))
defop("MaxPoolGrad", "orig_input: T, orig_output: T, grad: T -> output: T",
      attrs={"explicit_paddings": [], "data_format": "NHWC", "T": _dt.float32}, types={"T": REAL},
      shape=lambda ctx: [ctx.shape(0)])
defop("MaxPoolGradV2", "orig_input: T, orig_output: T, grad: T, ksize: int32, strides: int32 -> output: T",
      attrs={"data_format": "NHWC", "T": _dt.float32}, types={"T": REAL}, shape=lambda ctx: [ctx.shape(0)])
defop("AvgPoolGrad", "orig_input_shape: int32, grad: T -> output: T", attrs={"data_format": "NHWC"},
      types={"T": FLOAT}, shape=_shape_from_input(0))
defop("FusedBatchNormGradV3", "y_backprop: T, x: T, scale: float32, reserve_space_1: U, reserve_space_2: U, "
      "reserve_space_3: U -> x_backprop: T, scale_backprop: U, offset_backprop: U, reserve_space_4: U, "
      "reserve_space_5: U", attrs={"epsilon": 1e-4, "data_format": "NHWC", "is_training": True},
      types={"T": (_dt.float16, _dt.bfloat16, _dt.float32), "U": (_dt.float32,)}, shape=_batch_norm_grad_shape)
