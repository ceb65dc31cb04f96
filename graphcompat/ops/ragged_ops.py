"""TF's ragged kernels: RaggedRange (`tf.ragged.range`), RaggedTensorToTensor (`RaggedTensor.to_tensor`)
and RaggedTensorToSparse (`RaggedTensor.to_sparse`).

Everything else `tf.ragged` does TF's Python composes from ordinary ops (cumsum, bincount, boolean_mask,
asserts), and so does graphcompat/ragged/. Their outputs' sizes depend on values, so their lowerings are
host rules (lowering/rules/ragged.py).
"""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, defop

_INDEX = (_dt.int32, _dt.int64)
_RANGE_TYPES = (_dt.bfloat16, _dt.float32, _dt.float64, _dt.int32, _dt.int64)


def _ragged_range_shape(ctx: InferenceContext):
    size = None
    for i in range(3):
        s = ctx.shape(i)
        if s.ndims is not None and s.ndims > 1:
            raise ctx.error(f"Shape must be at most rank 1 but is rank {s.ndims}")
    for i in range(3):  # vector inputs share one length; scalars broadcast against it
        s = ctx.shape(i)
        if s.ndims == 1 and s.dims[0].value is not None:
            if size is not None and size != s.dims[0].value:
                raise ctx.error(f"Dimensions must be equal, but are {s.dims[0].value} and {size}")
            size = s.dims[0].value
    if size is None and all(ctx.shape(i).ndims == 0 for i in range(3)):
        size = 1
    return [_ts.TensorShape([None if size is None else size + 1]), _ts.TensorShape([None])]


defop("RaggedRange", "starts: T, limits: T, deltas: T -> rt_nested_splits: Tsplits, rt_dense_values: T",
      attrs={"T": _dt.int32, "Tsplits": _dt.int64}, types={"T": _RANGE_TYPES, "Tsplits": _INDEX},
      shape=_ragged_range_shape)


def _ragged_rank(types) -> int:
    return len([t for t in types if t != "FIRST_DIM_SIZE"])


def _to_tensor_shape(ctx: InferenceContext):
    """[nrows, max row lengths..., values.shape[1:]], merged with the `shape` input's known entries;
    TF's texts for a default value or a requested shape that the values' dense dims contradict."""
    types = [t.decode() if isinstance(t, bytes) else t for t in ctx.attrs["row_partition_types"]]
    values, default = ctx.shape(1), ctx.shape(2)
    if values.ndims is None:
        return [_ts.unknown_shape()]
    rank = _ragged_rank(types) + values.ndims
    if default.ndims is not None:
        if default.ndims >= values.ndims:
            raise ctx.error(f"default_value.shape={_fmt(default)} and rt_input.flat_values.shape="
                            f"{_fmt(values)} are incompatible: default_value.rank = {default.ndims} must be less "
                            f"than rt_input.flat_values.rank = {values.ndims}")
        for k in range(1, default.ndims + 1):
            d, v = default.dims[-k].value, values.dims[-k].value
            if d is not None and v is not None and d != 1 and d != v:
                raise ctx.error(f"default_value.shape={_fmt(default)} and rt_input.flat_values.shape="
                                f"{_fmt(values)} are incompatible: default_value.shape[{-k}] = {d} but "
                                f"rt_input.flat_values.shape[{-k}] = {v}")
    dims = [None] * (rank - values.ndims + 1) + values.as_list()[1:]
    requested = ctx.value_as_shape(0) if ctx.shape(0).ndims == 1 else _ts.unknown_shape()
    if requested.ndims is not None:
        if requested.ndims != rank:
            raise ctx.error(f"rt_input.shape and shape={_fmt(requested)} are incompatible: rt_input.rank = "
                            f"{rank} but shape.rank = {requested.ndims}")
        for i, want in enumerate(requested.as_list()):
            if want is None:
                continue
            if dims[i] is not None and i > rank - values.ndims and dims[i] != want:
                raise ctx.error(f"rt_input.shape and shape={_fmt(requested)} are incompatible: "
                                f"rt_input.shape[{i}] = {dims[i]} but shape[{i}] = {want}")
            dims[i] = want
    return [_ts.TensorShape(dims)]


def _fmt(shape: _ts.TensorShape) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


defop("RaggedTensorToTensor", "shape: Tshape, values: T, default_value: T, "
      "row_partition_tensors: num_row_partition_tensors * Tindex -> result: T",
      attrs={"row_partition_types": []}, types={"Tindex": _INDEX, "Tshape": _INDEX}, shape=_to_tensor_shape)


def _to_sparse_shape(ctx: InferenceContext):
    n = ctx.attrs["RAGGED_RANK"]
    values = ctx.shape(n)
    for i in range(n):
        if ctx.shape(i).ndims is not None and ctx.shape(i).ndims != 1:
            raise ctx.error(f"Shape must be rank 1 but is rank {ctx.shape(i).ndims}")
    if values.ndims is not None and values.ndims < 1:
        raise ctx.error(f"Shape must be at least rank 1 but is rank {values.ndims}")
    rank = None if values.ndims is None else n + values.ndims
    return [_ts.TensorShape([None, rank]), _ts.TensorShape([None]), _ts.TensorShape([rank])]


defop("RaggedTensorToSparse", "rt_nested_splits: RAGGED_RANK * Tsplits, rt_dense_values: T -> "
      "sparse_indices: int64, sparse_values: T, sparse_dense_shape: int64",
      attrs={"Tsplits": _dt.int64}, types={"Tsplits": _INDEX}, shape=_to_sparse_shape)


def _gather_shape(ctx: InferenceContext):
    """TF's RaggedGather shapes: OUTPUT_RAGGED_RANK splits vectors, values [?] + params values' inner dims."""
    n_in, n_out = ctx.attrs["PARAMS_RAGGED_RANK"], ctx.attrs["OUTPUT_RAGGED_RANK"]
    indices = ctx.shape(n_in + 1)
    for i in range(n_in):
        if ctx.shape(i).ndims is not None and ctx.shape(i).ndims != 1:
            raise ctx.error(f"Shape must be rank 1 but is rank {ctx.shape(i).ndims}")
    if indices.ndims is not None and n_out != n_in + indices.ndims - 1:
        raise ctx.error(f"OUTPUT_RAGGED_RANK({n_out}) != rank(indices)({indices.ndims}) + "
                        f"PARAMS_RAGGED_RANK({n_in}) - 1")
    values = ctx.shape(n_in)
    inner = values.as_list()[1:] if values.ndims is not None else None
    return [_ts.TensorShape([None])] * n_out + [_ts.TensorShape(None if inner is None else [None] + inner)]


# TF records it for a RaggedTensor's rows gathered by a vector of indices (tf.concat / tf.stack of RaggedTensors
# along axis 1 interleave their rows with it).
defop("RaggedGather", "params_nested_splits: PARAMS_RAGGED_RANK * Tsplits, params_dense_values: Tvalues, "
      "indices: Tindices -> output_nested_splits: OUTPUT_RAGGED_RANK * Tsplits, output_dense_values: Tvalues",
      attrs={"Tsplits": _dt.int64}, types={"Tindices": _INDEX, "Tsplits": _INDEX}, shape=_gather_shape)
