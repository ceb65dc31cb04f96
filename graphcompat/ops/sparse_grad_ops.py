"""Gradient kernels of the sparse ops that TF 1 writes into training graphs (and meta graphs):
SparseSegment{Sum,Mean,SqrtN}Grad (dense, `output_dim0` rows) and their V2 forms (TF 2.14+: the gradient
rows of the sorted unique indices only), SparseAddGrad, SparseFillEmptyRowsGrad, SparseSliceGrad.
Lowerings: lowering/rules/sparse_grads.py.
"""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, defop

_SEGMENT_T = (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64)
_INDEX = (_dt.int32, _dt.int64)


def _with_rank(ctx: InferenceContext, i: int, rank: int) -> _ts.TensorShape:
    shape = ctx.shape(i)
    if shape.ndims not in (None, rank):
        raise ctx.error(f"Shape must be rank {rank} but is rank {shape.ndims}")
    return shape if shape.ndims is not None else _ts.unknown_shape(rank)


def _segment_grad_shape(v2: bool):
    """TF's SparseSegmentReductionGradShapeFn(V2): indices and segment_ids vectors of one length, the
    row count a scalar (dense: its value when known; V2: unknown, the number of unique indices)."""
    def shape(ctx: InferenceContext):
        grad = ctx.shape(0)
        if grad.ndims == 0:
            raise ctx.error("Shape must be at least rank 1 but is rank 0")
        indices = _with_rank(ctx, 1, 1)
        ids = _with_rank(ctx, 2, 1)
        if indices[0].value is not None and ids[0].value is not None and indices[0].value != ids[0].value:
            raise ctx.error(f"Dimensions must be equal, but are {indices[0].value} and {ids[0].value}")
        _with_rank(ctx, 3, 0)
        tail = grad.as_list()[1:] if grad.ndims is not None else None
        if v2:
            rows = _ts.TensorShape([None] + tail) if tail is not None else _ts.unknown_shape()
            return [rows, _ts.TensorShape([None])]
        dim0 = ctx.value(3)
        if dim0 is not None and int(dim0) < 0:
            raise ctx.error("Cannot specify a negative value for output_dim0")
        first = None if dim0 is None else int(dim0)
        return [_ts.TensorShape([first] + tail) if tail is not None else _ts.unknown_shape()]
    return shape


for _kind in ("Sum", "Mean", "SqrtN"):
    _types = {"T": _SEGMENT_T, "Tidx": _INDEX, "Tsegmentids": _INDEX}
    defop(f"SparseSegment{_kind}Grad", "grad: T, indices: Tidx, segment_ids: Tsegmentids, output_dim0: int32 -> "
          "output: T", types=_types, shape=_segment_grad_shape(False))
    defop(f"SparseSegment{_kind}GradV2", "grad: T, indices: Tidx, segment_ids: Tsegmentids, dense_output_dim0: int32"
          " -> output: T, sorted_unique_indices: Tidx", types=_types, shape=_segment_grad_shape(True))


def _vector_like(i: int):
    return lambda ctx: _ts.TensorShape([ctx.shape(i)[0].value if ctx.shape(i).ndims else None])


defop("SparseAddGrad", "backprop_val_grad: T, a_indices: int64, b_indices: int64, sum_indices: int64 -> "
      "a_val_grad: T, b_val_grad: T", types={"T": _dt.NUMBER_TYPES},
      shape=lambda ctx: [_vector_like(1)(ctx), _vector_like(2)(ctx)])
defop("SparseFillEmptyRowsGrad", "reverse_index_map: int64, grad_values: T -> d_values: T, d_default_value: T",
      shape=lambda ctx: [_vector_like(0)(ctx), _ts.TensorShape([])])
defop("SparseSliceGrad", "backprop_val_grad: T, input_indices: int64, input_start: int64, output_indices: int64 -> "
      "val_grad: T", types={"T": _dt.NUMBER_TYPES}, shape=lambda ctx: [_vector_like(1)(ctx)])
