"""Op types that real TF graphs contain and no public graphcompat builder records: TF 1.x's TopK (k as an
attr), the axis forms of Unique (UniqueV2 / UniqueWithCountsV2), TileGrad, ToBool, Fact, AccumulateNV2 (what
tf.math.accumulate_n writes), ParallelDynamicStitch, Eig, BandedTriangularSolve and QuantizeAndDequantize (V1).

Each entry is TF's REGISTER_OP signature, attr defaults and shape function (TF's type constraints come from
framework/tf_op_types.py). Lowerings: lowering/rules/more_tf_ops.py, which reuses the newer op's rule where
TF's kernel is the same computation (TopK is TopKV2's kernel, QuantizeAndDequantize is V2's with the range as
attrs, ParallelDynamicStitch is DynamicStitch's).
"""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, defop, merge_shapes, unchanged_shape
from graphcompat.ops.data_dependent_ops import _stitch_shape

_INDEX = (_dt.int32, _dt.int64)


def _top_k_v1_shape(ctx: InferenceContext):
    """TopKShapeFn with k from the attr: input of rank >= 1 whose last dimension is at least k."""
    x, k = ctx.shape(0), ctx.attrs["k"]
    if x.ndims is None:
        return [_ts.unknown_shape()] * 2
    if x.ndims < 1:
        raise ctx.error("Shape must be at least rank 1 but is rank 0")
    dims = x.as_list()
    if dims[-1] is not None and dims[-1] < k:
        raise ctx.error(f"input must have last dimension >= k = {k} but is {dims[-1]}")
    out = _ts.TensorShape(dims[:-1] + [k])
    return [out, out]


def _unique_v2_shapes(ctx: InferenceContext, with_counts: bool):
    """TF's UniqueV2 shape function (UniqueIdxShapeFn): y has x's rank; idx is x's length along a constant
    axis (x itself with an empty axis, which then must be a vector)."""
    import numpy as np
    x = ctx.shape(0)
    y = _ts.unknown_shape(x.ndims) if x.ndims is not None else _ts.unknown_shape()
    axis = ctx.value(1)
    if axis is None or x.ndims is None:
        idx = _ts.TensorShape([None])
    else:
        axis = np.asarray(axis)
        if axis.ndim != 1:
            raise ctx.error("axis expects a 1D vector.")
        if axis.size == 0:
            if x.ndims != 1:
                raise ctx.error("x expects a 1D vector.")
            idx = x
        elif axis.size == 1:
            a = int(axis[0])
            if a < -x.ndims or a >= x.ndims:
                raise ctx.error(f"axis expects to be in the range [{-x.ndims}, {x.ndims})")
            idx = _ts.TensorShape([x.as_list()[a % x.ndims]])
        else:
            raise ctx.error("axis does not support input tensors larger than 1 elements.")
    return [y, idx, _ts.TensorShape([None])] if with_counts else [y, idx]


def _accumulate_shape(ctx: InferenceContext):
    """AccumulateNV2: the inputs merged with each other and with the `shape` attr."""
    out = _ts.as_shape(ctx.attrs["shape"])
    for t in ctx.inputs:
        out = merge_shapes(ctx, out, t.shape)
    return [out]


def _eig_shape(ctx: InferenceContext):
    """TF's SelfAdjointEigV2ShapeFn: square matrices [..., M, M] -> e [..., M], v [..., M, M] ([0] when
    compute_v is False)."""
    x = ctx.shape(0)
    if x.ndims is None:
        e, v = _ts.unknown_shape(), _ts.unknown_shape()
    else:
        if x.ndims < 2:
            raise ctx.error(f"Shape must be at least rank 2 but is rank {x.ndims}")
        dims = x.as_list()
        m = dims[-1] if dims[-1] is not None else dims[-2]
        if dims[-1] is not None and dims[-2] is not None and dims[-1] != dims[-2]:
            raise ctx.error(f"Dimensions must be equal, but are {dims[-2]} and {dims[-1]}")
        e, v = _ts.TensorShape(dims[:-2] + [m]), _ts.TensorShape(dims[:-2] + [m, m])
    return [e, v if ctx.attrs["compute_v"] else _ts.TensorShape([0])]


def _banded_solve_shape(ctx: InferenceContext):
    """BandedTriangularSolveShapeFn: matrix [..., K, M], rhs [..., M, N] -> the broadcast batch + [M, N]."""
    from graphcompat.framework.registry import broadcast_shapes
    a, b = ctx.shape(0), ctx.shape(1)
    for s in (a, b):
        if s.ndims is not None and s.ndims < 2:
            raise ctx.error(f"Shape must be at least rank 2 but is rank {s.ndims}")
    if a.ndims is None or b.ndims is None:
        return [_ts.unknown_shape()]
    m_a, m_b = a.as_list()[-1], b.as_list()[-2]
    if m_a is not None and m_b is not None and m_a != m_b:
        raise ctx.error(f"Dimensions must be equal, but are {m_a} and {m_b}")
    batch = broadcast_shapes(ctx, a[:-2], b[:-2])
    return [batch.concatenate([m_a if m_a is not None else m_b, b.as_list()[-1]])]


defop("TopK", "input: T -> values: T, indices: int32", attrs={"k": None, "sorted": True}, shape=_top_k_v1_shape)
defop("UniqueV2", "x: T, axis: Taxis -> y: T, idx: out_idx", attrs={"Taxis": _dt.int64, "out_idx": _dt.int32},
      types={"Taxis": _INDEX, "out_idx": _INDEX}, shape=lambda ctx: _unique_v2_shapes(ctx, False))
defop("UniqueWithCountsV2", "x: T, axis: Taxis -> y: T, idx: out_idx, count: out_idx",
      attrs={"Taxis": _dt.int64, "out_idx": _dt.int32}, types={"Taxis": _INDEX, "out_idx": _INDEX},
      shape=lambda ctx: _unique_v2_shapes(ctx, True))
defop("TileGrad", "input: T, multiples: int32 -> output: T", shape=lambda ctx: [_ts.unknown_shape()])
defop("ToBool", "input: T -> output: bool", shape=lambda ctx: [_ts.TensorShape([])])
defop("Fact", " -> fact: string", shape=lambda ctx: [_ts.TensorShape([])])
defop("AccumulateNV2", "inputs: N * T -> sum: T", attrs={"shape": None}, shape=_accumulate_shape)
defop("ParallelDynamicStitch", "indices: N * int32, data: N * T -> merged: T", shape=_stitch_shape)
defop("Eig", "input: T -> e: Tout, v: Tout", attrs={"compute_v": True}, shape=_eig_shape)
defop("BandedTriangularSolve", "matrix: T, rhs: T -> output: T", attrs={"lower": True, "adjoint": False},
      shape=_banded_solve_shape)
defop("QuantizeAndDequantize", "input: T -> output: T",
      attrs={"signed_input": True, "num_bits": 8, "range_given": False, "input_min": 0.0, "input_max": 0.0},
      shape=unchanged_shape)
