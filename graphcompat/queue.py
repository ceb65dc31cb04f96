"""`tf.queue`: the TF1 queues (graphcompat/ops/data_flow_ops.py)."""
from graphcompat.ops.data_flow_ops import (FIFOQueue, PaddingFIFOQueue, PriorityQueue, QueueBase,  # noqa: F401
                                           RandomShuffleQueue)


def __getattr__(name: str):
    from graphcompat import compat
    return compat.missing(__name__, name)
