"""TF's `SavedModel` message (tensorflow/core/protobuf/saved_model.proto), which tensorboard does not ship.

Declared at import time with TF's field numbers under a private package name, in the default pool so
that its `meta_graphs` are tensorboard's MetaGraphDef (what the rest of graphcompat builds and reads).
Wire bytes and text format equal TF's: TF reads what this writes, and the other way round.
"""
from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from tensorboard.compat.proto import meta_graph_pb2

_FILE = "graphcompat_private/saved_model.proto"
_NAME = "graphcompat_private.SavedModel"


def _declare():
    pool = descriptor_pool.Default()
    try:
        return pool.FindMessageTypeByName(_NAME)
    except KeyError:
        pass
    fdp = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name=_FILE, package="graphcompat_private", syntax="proto3",
                                              dependency=[meta_graph_pb2.DESCRIPTOR.name])
    message = file.message_type.add(name="SavedModel")
    message.field.add(name="saved_model_schema_version", number=1, type=fdp.TYPE_INT64,
                      label=fdp.LABEL_OPTIONAL)
    message.field.add(name="meta_graphs", number=2, type=fdp.TYPE_MESSAGE, label=fdp.LABEL_REPEATED,
                      type_name=".tensorboard.MetaGraphDef")
    pool.Add(file)
    return pool.FindMessageTypeByName(_NAME)


SavedModel = message_factory.GetMessageClass(_declare())
