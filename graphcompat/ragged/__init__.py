"""`tf.ragged` (TF 2.21's `tf.compat.v1.ragged`): RaggedTensor factories and helpers.

Built: constant, constant_value, placeholder, range, row_splits_to_segment_ids, segment_ids_to_row_splits,
map_flat_values, RaggedTensorValue (and `tf.RaggedTensor` at the top level). The other names of TF's
namespace (boolean_mask, cross, cross_hashed, stack, stack_dynamic_partitions) raise graphcompat's
NotImplementedError naming the symbol, through the module's `__getattr__`.
"""
from graphcompat.ops import ragged_ops as _ragged_kernels  # noqa: F401  (RaggedRange & co. op types)
from graphcompat.ragged.ragged_ops import (constant, constant_value, map_flat_values, placeholder,  # noqa: F401
                                           range, row_splits_to_segment_ids, segment_ids_to_row_splits)
from graphcompat.ragged.ragged_tensor import RaggedTensor, RaggedTensorValue, is_ragged  # noqa: F401


def __getattr__(name):
    from graphcompat import compat
    return compat.missing(__name__, name)
