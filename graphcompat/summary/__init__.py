"""`tf.summary` (TF1): summary ops evaluated in `sess.run`, FileWriter, and TF's own protos."""
from tensorboard.compat.proto.event_pb2 import Event, SessionLog, TaggedRunMetadata  # noqa: F401
from tensorboard.compat.proto.summary_pb2 import (Summary, SummaryDescription,  # noqa: F401
                                                  SummaryMetadata)

from graphcompat.ops.summary_ops import (audio, get_summary_description, histogram, image,  # noqa: F401
                                         merge, merge_all, scalar, tensor_summary, text)
from graphcompat.summary.writer import FileWriter, FileWriterCache  # noqa: F401
from graphcompat.summary.summary_ops_v2 import all_v2_summary_ops, initialize  # noqa: F401
