"""`tf.nn.embedding_lookup` and `embedding_lookup_sparse` (TF's python/ops/embedding_ops.py).

A single params tensor is looked up with one GatherV2 (axis 0) named as TF names it, so the gradient
of a variable read only through it is sparse. Out-of-range ids fail the run with TF's
InvalidArgumentError (the GatherV2 bounds check); nothing is clamped. Partitioned params (a list)
(a list, or a PartitionedVariable's parts) are gathered per partition and merged with selects (TF uses
data-dependent DynamicPartition / DynamicStitch; the values are the same). Each part's gather then reads
a row for every id (row 0, for ids of other parts, with a zero gradient): SGD, Adagrad and Adam updates are
unchanged by that, other optimizers' sparse updates are not, and refuse it (`from_masked_partition_ids`).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, constant_value, convert_to_tensor
from graphcompat.nn import _deps
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math


def _clip(params, ids, max_norm):
    """Rows of `params` rescaled to L2 norm at most `max_norm` over their embedding axes."""
    if max_norm is None:
        return params
    ids_rank, params_rank = convert_to_tensor(ids).shape.ndims, convert_to_tensor(params).shape.ndims
    if ids_rank is None or params_rank is None:
        raise NotImplementedError("tf.nn.embedding_lookup(max_norm=...) with ids or params of unknown rank")
    axes = list(range(ids_rank, params_rank))
    try:
        from graphcompat.ops.clip_ops import clip_by_norm  # the gradients/clipping family, when present
    except ImportError:
        clip_by_norm = None
    if clip_by_norm is not None:
        return clip_by_norm(params, max_norm, axes=axes)
    with _ops.name_scope(None, "clip_by_norm", [params, max_norm]) as name:
        t = convert_to_tensor(params, name="t")
        clip_norm = convert_to_tensor(max_norm, dtype=t.dtype.base_dtype, name="clip_norm")
        l2sum = _math.reduce_sum(t * t, axes, keepdims=True)
        pred = _math.greater(l2sum, 0.0)
        l2sum_safe = _deps.where(pred, l2sum, _array.ones_like(l2sum))
        l2norm = _deps.where(pred, _math.sqrt(l2sum_safe), l2sum)
        intermediate = t * clip_norm
        return _array.identity(intermediate / _math.maximum(l2norm, clip_norm), name=name)


def _as_param_list(params) -> list:
    if params is None:
        raise ValueError("params must be specified")
    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError("Length of params is currently 0. Need at least one param.")
        return list(params)
    if hasattr(params, "_get_variable_list"):  # PartitionedVariable
        return list(params._get_variable_list())
    return [params]


def embedding_lookup(params, ids, partition_strategy: str = "mod", name: Optional[str] = None,
                     validate_indices: bool = True, max_norm=None) -> _ops.Tensor:
    """`tf.nn.embedding_lookup`: rows of `params` (or of the partitioned list) for each id."""
    params = _as_param_list(params)
    with _ops.name_scope(name, "embedding_lookup", params + [ids]) as name:
        np_ = len(params)
        params = [convert_to_tensor(p, name="params") for p in params]
        ids = convert_to_tensor(ids, name="ids")
        if np_ == 1:
            result = _clip(_deps.gather(params[0], ids, name=name), ids, max_norm)
            return _array.identity(result)
        if partition_strategy not in ("mod", "div"):
            raise ValueError(f"Unrecognized partition strategy: {partition_strategy}."
                             "Must be one of either `mod` or `div`.")
        flat_ids = _array.reshape(ids, [-1])
        if partition_strategy == "mod":
            p_assignments = flat_ids % np_
            new_ids = flat_ids // np_
        else:
            sizes = [_ts.dimension_value(p.shape[0]) if p.shape.ndims else None for p in params]
            if any(s is None for s in sizes):
                raise NotImplementedError("tf.nn.embedding_lookup(partition_strategy='div') with partitions of "
                                          "unknown size")
            total = constant(sum(sizes), dtype=flat_ids.dtype.base_dtype)
            ids_per_partition = total // np_
            extras = total % np_
            p_assignments = _math.maximum(flat_ids // (ids_per_partition + 1),
                                          (flat_ids - extras) // ids_per_partition)
            new_ids = _deps.where(p_assignments < extras, flat_ids % (ids_per_partition + 1),
                                   (flat_ids - extras) % ids_per_partition)
        p_assignments = _math.cast(p_assignments, _dt.int32)
        result = None
        masked = _ops.get_default_graph()._extras.setdefault("masked_partition_ids", set())
        for p in range(np_):
            mine = _math.equal(p_assignments, p)
            pids = _deps.where(mine, new_ids, _array.zeros_like(new_ids))
            masked.add(pids)
            rows = _deps.gather(params[p], pids)
            if result is None:
                result = rows
            else:
                shape = _array.shape(rows)
                result = _deps.where(_deps.broadcast_to(_array.reshape(mine, [-1] + [1] * (rows.shape.ndims - 1)),
                                                          shape), rows, result)
        element_shape = params[0].shape[1:]
        for p in params[1:]:
            element_shape = element_shape.merge_with(p.shape[1:])
        if element_shape.is_fully_defined():
            element_dims = constant(element_shape.as_list(), dtype=_dt.int32)
        else:
            element_dims = _array.shape(params[0])[1:]
        ret = _array.reshape(result, _array.concat([_array.shape(ids, out_type=_dt.int32), element_dims], 0),
                             name=name)
        ret.set_shape(ids.shape.concatenate(element_shape))
        return _clip(ret, ids, max_norm)


def from_masked_partition_ids(indices) -> bool:
    """Whether a sparse gradient's indices come from a partitioned `embedding_lookup` here: each part's
    gather then reads a row for every id (row 0, with a zero gradient, for ids of other parts), where
    TF's DynamicPartition gives each part only its own ids."""
    if not isinstance(indices, _ops.Tensor):
        return False
    masked = indices.graph._extras.get("masked_partition_ids")
    if not masked:
        return False
    todo, seen = [indices], set()
    while todo:
        t = todo.pop()
        if t in masked:
            return True
        if t in seen or t.op.type not in ("Identity", "Reshape", "Cast", "ConcatV2"):
            continue
        seen.add(t)
        todo.extend(t.op.inputs)
    return False


def embedding_lookup_sparse(params, sp_ids, sp_weights, partition_strategy: str = "mod",
                            name: Optional[str] = None, combiner: Optional[str] = None, max_norm=None,
                            allow_fast_lookup: bool = False) -> _ops.Tensor:
    """`tf.nn.embedding_lookup_sparse`: per-row weighted "sum", "mean" or "sqrtn" of looked-up rows."""
    if combiner is None:
        combiner = "mean"
    if combiner not in ("mean", "sqrtn", "sum"):
        raise ValueError(f"combiner must be one of 'mean', 'sqrtn' or 'sum', got {combiner}")
    params = _as_param_list(params)
    if not hasattr(sp_ids, "indices") or not hasattr(sp_ids, "values"):
        raise TypeError(f"sp_ids must be SparseTensor, got {type(sp_ids)}")
    ignore_weights = sp_weights is None
    with _ops.name_scope(name, "embedding_lookup_sparse", params + [sp_ids]) as name:
        segment_ids = _math.cast(sp_ids.indices[:, 0], _dt.int32)
        ids = sp_ids.values
        # TF's output has max(row id) + 1 rows (segment ops); that is data-dependent, so it is taken from
        # the indices when they are known while building, else from dense_shape[0] (trailing empty rows
        # then come out as zero rows instead of being absent).
        known = constant_value(sp_ids.indices) if isinstance(sp_ids.indices, _ops.Tensor) else None
        if known is not None:
            num_segments = constant(int(np.max(known[:, 0])) + 1 if np.size(known) else 0, dtype=_dt.int32)
        else:
            num_segments = _math.cast(sp_ids.dense_shape[0], _dt.int32)
        embeddings = embedding_lookup(params, ids, partition_strategy=partition_strategy, max_norm=max_norm)
        dtype = embeddings.dtype.base_dtype
        if ignore_weights:
            weights = _array.ones_like(ids, dtype=dtype)
        else:
            weights = _math.cast(sp_weights.values, dtype)
        extra = embeddings.shape.ndims - 1
        w = _array.reshape(weights, [-1] + [1] * extra)
        summed = _deps.unsorted_segment_sum(embeddings * w, segment_ids, num_segments)
        if combiner == "sum":
            return _array.identity(summed, name=name)
        if combiner == "mean":
            denom = _deps.unsorted_segment_sum(weights, segment_ids, num_segments)
        else:
            denom = _math.sqrt(_deps.unsorted_segment_sum(weights * weights, segment_ids, num_segments))
        denom = _array.reshape(denom, [-1] + [1] * extra)
        safe = _deps.where(_math.equal(denom, 0.0), _array.ones_like(denom), denom)
        return _deps.where(_deps.broadcast_to(_math.equal(denom, 0.0), _array.shape(summed)),
                           _array.zeros_like(summed), summed / safe, name=name)
