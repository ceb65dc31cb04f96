"""GuaranteeConst (`tf.guarantee_const`), EditDistance (`tf.edit_distance`) and ApproxTopK
(`tf.math.approx_max_k` / `approx_min_k`): one `defop` each; lowerings in lowering/rules/extra.py."""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop, unchanged_shape


def _edit_distance_shape(ctx: InferenceContext):
    hyp, truth = ctx.value(2), ctx.value(5)
    if hyp is None or truth is None:
        rank = ctx.shape(2)[0].value if ctx.shape(2).ndims == 1 else None
        return [_ts.unknown_shape(None if rank is None else rank - 1)]
    return [_ts.TensorShape([max(int(a), int(b)) for a, b in zip(hyp[:-1], truth[:-1])])]


def _approx_top_k_shape(ctx: InferenceContext):
    s = ctx.shape(0)
    if s.ndims is None:
        return [_ts.unknown_shape(), _ts.unknown_shape()]
    dims = s.as_list()
    axis = ctx.attrs["reduction_dimension"] % len(dims)
    dims[axis] = ctx.attrs["k"]
    return [_ts.TensorShape(dims), _ts.TensorShape(dims)]


defop("GuaranteeConst", "input: T -> output: T", shape=unchanged_shape)
defop("EditDistance", "hypothesis_indices: int64, hypothesis_values: T, hypothesis_shape: int64, "
      "truth_indices: int64, truth_values: T, truth_shape: int64 -> output: float32", attrs={"normalize": True},
      shape=_edit_distance_shape)
defop("ApproxTopK", "input: T -> values: T, indices: int32",
      attrs={"k": 1, "reduction_dimension": -1, "recall_target": 0.95, "is_max_k": True,
             "reduction_input_size_override": -1, "aggregate_to_topk": True},
      types={"T": (_dt.float16, _dt.bfloat16, _dt.float32)}, shape=_approx_top_k_shape)


def guarantee_const(input, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.guarantee_const` (deprecated): `input`, promised constant for the run (an identity here)."""
    return apply_op("GuaranteeConst", [input], name=name)


def edit_distance(hypothesis, truth, normalize: bool = True, name: str = "edit_distance") -> _ops.Tensor:
    """`tf.edit_distance`: the Levenshtein distance between the sequences of two SparseTensors (their last
    dimension), per position of the other dimensions; divided by the truth length when `normalize`."""
    from graphcompat.ops.sparse_tensor import SparseTensor, SparseTensorValue
    if not isinstance(hypothesis, (SparseTensor, SparseTensorValue)):
        raise TypeError("Hypothesis must be a SparseTensor.")
    if not isinstance(truth, (SparseTensor, SparseTensorValue)):
        raise TypeError("Truth must be a SparseTensor.")
    if isinstance(hypothesis, SparseTensorValue):
        hypothesis = SparseTensor.from_value(hypothesis)
    if isinstance(truth, SparseTensorValue):
        truth = SparseTensor.from_value(truth)
    return apply_op("EditDistance", [hypothesis.indices, hypothesis.values, hypothesis.dense_shape, truth.indices,
                                     truth.values, truth.dense_shape], {"normalize": bool(normalize)}, name=name)


def _approx(is_max: bool):
    def fn(operand, k: int, reduction_dimension: int = -1, recall_target: float = 0.95,
           reduction_input_size_override: int = -1, aggregate_to_topk: bool = True,
           name: Optional[str] = None):
        return tuple(apply_op("ApproxTopK", [operand], {
            "k": int(k), "reduction_dimension": int(reduction_dimension), "recall_target": float(recall_target),
            "is_max_k": is_max, "reduction_input_size_override": int(reduction_input_size_override),
            "aggregate_to_topk": bool(aggregate_to_topk)}, name=name))
    fn.__name__ = "approx_max_k" if is_max else "approx_min_k"
    fn.__doc__ = (f"`tf.math.{fn.__name__}`: the k {'largest' if is_max else 'smallest'} values and their indices "
                  "along reduction_dimension (approximate on TPU; exact here, as TF's CPU/GPU kernels are).")
    return fn


approx_max_k = _approx(True)
approx_min_k = _approx(False)


def approx_top_k(input, k: int, reduction_dimension: int = -1, recall_target: float = 0.95,  # noqa: A002
                 is_max_k: bool = True, reduction_input_size_override: int = -1, aggregate_to_topk: bool = True,
                 name: Optional[str] = None):
    """`tf.approx_top_k`: the raw ApproxTopK op (values, indices)."""
    return (approx_max_k if is_max_k else approx_min_k)(input, k, reduction_dimension, recall_target,
                                                         reduction_input_size_override, aggregate_to_topk, name)

__all__ = ["guarantee_const", "edit_distance", "approx_max_k", "approx_min_k", "approx_top_k"]
