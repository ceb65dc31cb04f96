"""`tf.contrib.summary`: TF 1.x's resource summary writers (TF's summary_ops_v2 in graph mode)."""
from graphcompat.compat import missing as _missing
from graphcompat.summary.summary_ops_v2 import (SummaryWriter, always_record_summaries, audio,  # noqa: F401
                                                create_db_writer, create_file_writer, create_summary_file_writer,
                                                eval_dir, flush, generic, histogram, image, import_event,
                                                initialize, never_record_summaries,
                                                record_summaries_every_n_global_steps, scalar,
                                                should_record_summaries, summary_writer_initializer_op)
from graphcompat.summary.summary_ops_v2 import all_v2_summary_ops as all_summary_ops  # noqa: F401
from graphcompat.summary.summary_ops_v2 import graph_v1 as graph  # noqa: F401


def __getattr__(name: str):
    return _missing(__name__, name)
