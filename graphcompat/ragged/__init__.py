"""`tf.ragged` (TF 2.21's `tf.compat.v1.ragged`): RaggedTensor factories and helpers.

Built: constant, constant_value, placeholder, range, row_splits_to_segment_ids, segment_ids_to_row_splits,
map_flat_values, RaggedTensorValue, boolean_mask, stack (and `tf.RaggedTensor` / `tf.RaggedTensorSpec` at the
top level; `tf.reduce_*`, `tf.concat` and `tf.stack` of RaggedTensors dispatch to ragged_math_ops as in TF).
The other names of TF's namespace (cross, cross_hashed, stack_dynamic_partitions) raise graphcompat's
NotImplementedError naming the symbol, through the module's `__getattr__`.
"""
from graphcompat.ops import ragged_ops as _ragged_kernels  # noqa: F401  (RaggedRange & co. op types)
from graphcompat.ragged.ragged_ops import (constant, constant_value, map_flat_values, placeholder,  # noqa: F401
                                           range, row_splits_to_segment_ids, segment_ids_to_row_splits)
from graphcompat.ragged.ragged_math_ops import boolean_mask, stack  # noqa: F401
from graphcompat.ragged.ragged_tensor import RaggedTensor, RaggedTensorValue, is_ragged  # noqa: F401


def __getattr__(name):
    from graphcompat import compat
    return compat.missing(__name__, name)
