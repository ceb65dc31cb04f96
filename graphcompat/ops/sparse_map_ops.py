"""TF 1's SparseTensors map (sparse_tensors_map_ops.cc), which tf.train.batch & co. record to carry a
SparseTensor through a queue as int64 handles: AddSparseToTensorsMap (one SparseTensor → one handle),
AddManySparseToTensorsMap (each row of a batch → a handle), TakeManySparseFromTensorsMap (handles → the
batch, removed from the map). The map is a session resource named by `shared_name` (or the node's name).
Lowerings: lowering/rules/sparse_map.py.
"""
from __future__ import annotations

from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import defop

_MAP_ATTRS = {"container": "", "shared_name": ""}
defop("AddSparseToTensorsMap", "sparse_indices: int64, sparse_values: T, sparse_shape: int64 -> sparse_handle: int64",
      attrs=dict(_MAP_ATTRS), shape=lambda ctx: [_ts.TensorShape([])], stateful=True)
defop("AddManySparseToTensorsMap", "sparse_indices: int64, sparse_values: T, sparse_shape: int64 -> "
      "sparse_handles: int64", attrs=dict(_MAP_ATTRS), shape=lambda ctx: [_ts.TensorShape([None])], stateful=True)
defop("TakeManySparseFromTensorsMap", "sparse_handles: int64 -> sparse_indices: int64, sparse_values: dtype, "
      "sparse_shape: int64", attrs=dict(_MAP_ATTRS, dtype=None),
      shape=lambda ctx: [_ts.TensorShape([None, None]), _ts.TensorShape([None]), _ts.TensorShape([None])],
      stateful=True)
