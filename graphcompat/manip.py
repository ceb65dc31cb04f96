"""`tf.manip`: TF1's namespace of tensor manipulations (aliases of the top-level ops)."""
from graphcompat.nn.nn_extra import batch_to_space_nd, space_to_batch_nd  # noqa: F401
from graphcompat.ops.array_ops import reshape, tile  # noqa: F401
from graphcompat.ops.indexing_ops import gather_nd, reverse, roll, scatter_nd  # noqa: F401


def __getattr__(name):
    from graphcompat.compat import missing
    return missing(__name__, name)
