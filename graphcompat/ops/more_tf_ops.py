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


def _parallel_stitch_shape(ctx: InferenceContext):
    """DynamicStitch's shape function (imported when called: data_dependent_ops, loaded before math_ops,
    would define Select itself)."""
    from graphcompat.ops.data_dependent_ops import _stitch_shape
    return _stitch_shape(ctx)


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
defop("ParallelDynamicStitch", "indices: N * int32, data: N * T -> merged: T", shape=_parallel_stitch_shape)
defop("Eig", "input: T -> e: Tout, v: Tout", attrs={"compute_v": True}, shape=_eig_shape)
defop("BandedTriangularSolve", "matrix: T, rhs: T -> output: T", attrs={"lower": True, "adjoint": False},
      shape=_banded_solve_shape)
defop("QuantizeAndDequantize", "input: T -> output: T",
      attrs={"signed_input": True, "num_bits": 8, "range_given": False, "input_min": 0.0, "input_max": 0.0},
      shape=unchanged_shape)


# --- parsing: the op types TF 2's compat.v1 parsers and TF 1.x's sequence parsers write --------------------
def _parse_example_v2_shape(ctx: InferenceContext):
    """TF's ParseExampleV2 shape function: serialized of rank 0 or 1; sparse outputs as ParseExample's, dense
    ones [batch] + dense_shape (a FixedLenSequenceFeature's -1 rows unknown), ragged values [?] and row
    splits [batch + 1] (none for a scalar input)."""
    s = ctx.shape(0)
    if s.ndims is not None and s.ndims > 1:
        raise ctx.error(f"Shape must be at most rank 1 but is rank {s.ndims}")
    a = ctx.attrs
    n = a["num_sparse"]
    if s.ndims is None:
        unknown = _ts.unknown_shape()
        return ([_ts.TensorShape([None, None])] * n + [_ts.TensorShape([None])] * n + [_ts.TensorShape([None])] * n
                + [unknown] * len(a["dense_shapes"]) + [_ts.TensorShape([None])] * len(a["ragged_value_types"])
                + [_ts.TensorShape([None])] * len(a["ragged_split_types"]))
    batched = s.ndims == 1
    lead = [s.as_list()[0]] if batched else []
    rank = 2 if batched else 1
    dense = []
    for shape in a["dense_shapes"]:
        dims = [None if d is None or d < 0 else d for d in _ts.as_shape(shape).as_list()]
        dense.append(_ts.TensorShape(lead + dims))
    splits = _ts.TensorShape([None if lead[0] is None else lead[0] + 1]) if batched else _ts.TensorShape([None])
    return ([_ts.TensorShape([None, rank])] * n + [_ts.TensorShape([None])] * n + [_ts.TensorShape([rank])] * n
            + dense + [_ts.TensorShape([None])] * len(a["ragged_value_types"])
            + [splits] * len(a["ragged_split_types"]))


defop("ParseExampleV2", "serialized: string, names: string, sparse_keys: string, dense_keys: string, "
      "ragged_keys: string, dense_defaults: *Tdense -> sparse_indices: num_sparse * int64, "
      "sparse_values: *sparse_types, sparse_shapes: num_sparse * int64, dense_values: *Tdense, "
      "ragged_values: *ragged_value_types, ragged_row_splits: *ragged_split_types",
      attrs={"num_sparse": None, "sparse_types": None, "ragged_value_types": None, "ragged_split_types": None,
             "dense_shapes": None}, shape=_parse_example_v2_shape)


def _sequence_v1_shape(ctx: InferenceContext):
    """ParseSequenceExample (V1): ParseSequenceExampleV2's shapes, less the ragged outputs (none here)."""
    from graphcompat.ops.parsing_ops import _sequence_shape
    s = ctx.shape(0)
    if s.ndims is not None and s.ndims != 1:
        raise ctx.error(f"Shape must be rank 1 but is rank {s.ndims}")
    return _sequence_shape(ctx)


def _single_sequence_shape(ctx: InferenceContext):
    """ParseSingleSequenceExample: a scalar input's ParseSequenceExampleV2 shapes, without lengths."""
    from graphcompat.ops.parsing_ops import _sequence_shape
    s = ctx.shape(0)
    if s.ndims is not None and s.ndims != 0:
        raise ctx.error(f"Shape must be rank 0 but is rank {s.ndims}")
    shapes = _sequence_shape(ctx)
    return shapes[:len(shapes) - ctx.attrs["Nfeature_list_dense"]]


_SEQ_V1_OUT = ("context_sparse_indices: Ncontext_sparse * int64, context_sparse_values: *context_sparse_types, "
               "context_sparse_shapes: Ncontext_sparse * int64, context_dense_values: *Tcontext_dense, "
               "feature_list_sparse_indices: Nfeature_list_sparse * int64, "
               "feature_list_sparse_values: *feature_list_sparse_types, "
               "feature_list_sparse_shapes: Nfeature_list_sparse * int64, "
               "feature_list_dense_values: *feature_list_dense_types")
_SEQ_V1_ATTRS = {"Ncontext_sparse": 0, "Ncontext_dense": 0, "Nfeature_list_sparse": 0, "Nfeature_list_dense": 0,
                 "context_sparse_types": [], "Tcontext_dense": [], "feature_list_dense_types": [],
                 "context_dense_shapes": [], "feature_list_sparse_types": [], "feature_list_dense_shapes": []}
defop("ParseSequenceExample", "serialized: string, debug_name: string, context_dense_defaults: *Tcontext_dense -> "
      + _SEQ_V1_OUT + ", feature_list_dense_lengths: Nfeature_list_dense * int64",
      attrs=dict(_SEQ_V1_ATTRS, feature_list_dense_missing_assumed_empty=None, context_sparse_keys=None,
                 context_dense_keys=None, feature_list_sparse_keys=None, feature_list_dense_keys=None),
      shape=_sequence_v1_shape)
defop("ParseSingleSequenceExample", "serialized: string, feature_list_dense_missing_assumed_empty: string, "
      "context_sparse_keys: Ncontext_sparse * string, context_dense_keys: Ncontext_dense * string, "
      "feature_list_sparse_keys: Nfeature_list_sparse * string, feature_list_dense_keys: Nfeature_list_dense * string, "
      "context_dense_defaults: *Tcontext_dense, debug_name: string -> " + _SEQ_V1_OUT,
      attrs=dict(_SEQ_V1_ATTRS), shape=_single_sequence_shape)
# TF's TensorArray.grad with a shape to prepend (while_v2 / pfor write it): TensorArrayGradV3's array whose
# elements have `shape_to_prepend` before the forward element shape.
defop("TensorArrayGradWithShape", "handle: resource, flow_in: float32, shape_to_prepend: int32 -> "
      "grad_handle: resource, flow_out: float32", attrs={"source": None},
      shape=lambda ctx: [_ts.TensorShape([2]), _ts.TensorShape([])], stateful=True)
