"""Checkpointing and meta graphs for `tf.train`: Saver, checkpoint files and readers, meta graph I/O.

Re-exported by the `tf.train` namespace (graphcompat/train/__init__.py).
"""
from __future__ import annotations

from graphcompat.training.checkpoint import (Checkpoint, CheckpointManager,  # noqa: F401
                                             CheckpointOptions)
from graphcompat.training.checkpoint_utils import (CheckpointReader, NewCheckpointReader,  # noqa: F401
                                                   init_from_checkpoint, list_variables, load_checkpoint,
                                                   load_variable)
from graphcompat.training.meta_graph import (create_meta_graph_def, export_meta_graph,  # noqa: F401
                                             import_meta_graph, write_graph)
from graphcompat.training.saver import (Saver, checkpoint_exists, generate_checkpoint_state_proto,  # noqa: F401
                                        get_checkpoint_mtimes, get_checkpoint_state, latest_checkpoint,
                                        remove_checkpoint, update_checkpoint_state)



def summary_iterator(path: str):
    """`tf.train.summary_iterator`: the `Event` protos of an event file, in order."""
    from tensorboard.compat.proto.event_pb2 import Event
    from graphcompat.formats import read_records
    for record in read_records(path):
        yield Event.FromString(record)


__all__ = ["summary_iterator", "Checkpoint", "CheckpointManager", "CheckpointOptions",
           "Saver", "SaverDef", "CheckpointReader", "NewCheckpointReader", "init_from_checkpoint",
           "list_variables", "load_checkpoint", "load_variable", "export_meta_graph", "import_meta_graph",
           "write_graph", "checkpoint_exists", "generate_checkpoint_state_proto", "get_checkpoint_mtimes",
           "get_checkpoint_state", "latest_checkpoint", "remove_checkpoint", "update_checkpoint_state",
           "CheckpointState"]


def __getattr__(name: str):
    if name == "SaverDef":
        from tensorboard.compat.proto.saver_pb2 import SaverDef
        return SaverDef
    if name == "CheckpointState":
        from graphcompat.formats.protos import CheckpointState
        return CheckpointState
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


