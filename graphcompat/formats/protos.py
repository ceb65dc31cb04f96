"""Checkpoint (and meta graph) protocol buffers that neither tensorboard nor protobuf ships.

``BundleHeaderProto``, ``BundleEntryProto``, ``TensorSliceProto``, the V1 checkpoint messages
(``SavedSliceMeta``, ``SavedTensorSliceMeta``, ``SavedSlice``, ``SavedTensorSlices``), ``CheckpointState`` and
``QueueRunnerDef`` are declared here with TensorFlow's field numbers and types (tensor_bundle.proto,
tensor_slice.proto, saved_tensor_slice.proto, checkpoint_state.proto, queue_runner.proto), in a private
descriptor pool under a private package name: no protoc step, and no clash with ``tensorflow.*`` messages
when real TensorFlow is loaded in the same process. Wire bytes are identical to TensorFlow's.

Messages that tensorboard already ships (``DataType``, ``TensorShapeProto``, ``VersionDef``, ``TensorProto``)
are copied into the private pool from ``tensorboard.compat.proto`` so entries can refer to them.
The projector messages (``ProjectorConfig``, ``EmbeddingInfo``, ``SpriteMetadata``) are
tensorboard's own ``projector_config_pb2`` classes, loaded on first use.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from tensorboard.compat.proto import resource_handle_pb2, tensor_pb2, tensor_shape_pb2, types_pb2, versions_pb2

_PACKAGE = "graphcompat_private"
_FDP = descriptor_pb2.FieldDescriptorProto

_pool = descriptor_pool.DescriptorPool()
for _module in (types_pb2, tensor_shape_pb2, versions_pb2, resource_handle_pb2, tensor_pb2):
    _pool.Add(descriptor_pb2.FileDescriptorProto.FromString(_module.DESCRIPTOR.serialized_pb))


def _field(message, name: str, number: int, kind: int, *, repeated: bool = False,
           type_name: str | None = None, oneof: int | None = None) -> None:
    field = message.field.add(name=name, number=number, type=kind,
                              label=_FDP.LABEL_REPEATED if repeated else _FDP.LABEL_OPTIONAL)
    if type_name:
        field.type_name = type_name
    if oneof is not None:
        field.oneof_index = oneof


def _checkpoint_file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="graphcompat_private/checkpoint.proto", package=_PACKAGE, syntax="proto3",
        dependency=[m.DESCRIPTOR.name for m in (types_pb2, tensor_shape_pb2, versions_pb2, tensor_pb2)])

    # tensor_slice.proto
    slice_msg = file.message_type.add(name="TensorSliceProto")
    extent = slice_msg.nested_type.add(name="Extent")
    _field(extent, "start", 1, _FDP.TYPE_INT64)
    extent.oneof_decl.add(name="has_length")  # presence of `length` distinguishes "all of the dim"
    _field(extent, "length", 2, _FDP.TYPE_INT64, oneof=0)
    _field(slice_msg, "extent", 1, _FDP.TYPE_MESSAGE, repeated=True,
           type_name=f".{_PACKAGE}.TensorSliceProto.Extent")

    # tensor_bundle.proto
    header = file.message_type.add(name="BundleHeaderProto")
    _field(header, "num_shards", 1, _FDP.TYPE_INT32)
    endianness = header.enum_type.add(name="Endianness")
    endianness.value.add(name="LITTLE", number=0)
    endianness.value.add(name="BIG", number=1)
    _field(header, "endianness", 2, _FDP.TYPE_ENUM, type_name=f".{_PACKAGE}.BundleHeaderProto.Endianness")
    _field(header, "version", 3, _FDP.TYPE_MESSAGE, type_name=".tensorboard.VersionDef")

    entry = file.message_type.add(name="BundleEntryProto")
    _field(entry, "dtype", 1, _FDP.TYPE_ENUM, type_name=".tensorboard.DataType")
    _field(entry, "shape", 2, _FDP.TYPE_MESSAGE, type_name=".tensorboard.TensorShapeProto")
    _field(entry, "shard_id", 3, _FDP.TYPE_INT32)
    _field(entry, "offset", 4, _FDP.TYPE_INT64)
    _field(entry, "size", 5, _FDP.TYPE_INT64)
    _field(entry, "crc32c", 6, _FDP.TYPE_FIXED32)
    _field(entry, "slices", 7, _FDP.TYPE_MESSAGE, repeated=True, type_name=f".{_PACKAGE}.TensorSliceProto")

    # saved_tensor_slice.proto (V1 checkpoints: one table of these)
    slice_meta = file.message_type.add(name="SavedSliceMeta")
    _field(slice_meta, "name", 1, _FDP.TYPE_STRING)
    _field(slice_meta, "shape", 2, _FDP.TYPE_MESSAGE, type_name=".tensorboard.TensorShapeProto")
    _field(slice_meta, "type", 3, _FDP.TYPE_ENUM, type_name=".tensorboard.DataType")
    _field(slice_meta, "slice", 4, _FDP.TYPE_MESSAGE, repeated=True, type_name=f".{_PACKAGE}.TensorSliceProto")
    tensor_slice_meta = file.message_type.add(name="SavedTensorSliceMeta")
    _field(tensor_slice_meta, "tensor", 1, _FDP.TYPE_MESSAGE, repeated=True, type_name=f".{_PACKAGE}.SavedSliceMeta")
    _field(tensor_slice_meta, "versions", 2, _FDP.TYPE_MESSAGE, type_name=".tensorboard.VersionDef")
    saved_slice = file.message_type.add(name="SavedSlice")
    _field(saved_slice, "name", 1, _FDP.TYPE_STRING)
    _field(saved_slice, "slice", 2, _FDP.TYPE_MESSAGE, type_name=f".{_PACKAGE}.TensorSliceProto")
    _field(saved_slice, "data", 3, _FDP.TYPE_MESSAGE, type_name=".tensorboard.TensorProto")
    slices = file.message_type.add(name="SavedTensorSlices")
    _field(slices, "meta", 1, _FDP.TYPE_MESSAGE, type_name=f".{_PACKAGE}.SavedTensorSliceMeta")
    _field(slices, "data", 2, _FDP.TYPE_MESSAGE, type_name=f".{_PACKAGE}.SavedSlice")

    # checkpoint_state.proto
    state = file.message_type.add(name="CheckpointState")
    _field(state, "model_checkpoint_path", 1, _FDP.TYPE_STRING)
    _field(state, "all_model_checkpoint_paths", 2, _FDP.TYPE_STRING, repeated=True)
    _field(state, "all_model_checkpoint_timestamps", 3, _FDP.TYPE_DOUBLE, repeated=True)
    _field(state, "last_preserved_timestamp", 4, _FDP.TYPE_DOUBLE)
    return file


_pool.Add(_checkpoint_file())


def _queue_runner_file() -> descriptor_pb2.FileDescriptorProto:
    """queue_runner.proto (the error codes, an enum there, are the same varints as int32s)."""
    file = descriptor_pb2.FileDescriptorProto(name="graphcompat_private/queue_runner.proto", package=_PACKAGE,
                                              syntax="proto3")
    runner = file.message_type.add(name="QueueRunnerDef")
    _field(runner, "queue_name", 1, _FDP.TYPE_STRING)
    _field(runner, "enqueue_op_name", 2, _FDP.TYPE_STRING, repeated=True)
    _field(runner, "close_op_name", 3, _FDP.TYPE_STRING)
    _field(runner, "cancel_op_name", 4, _FDP.TYPE_STRING)
    _field(runner, "queue_closed_exception_types", 5, _FDP.TYPE_INT32, repeated=True)
    return file


_pool.Add(_queue_runner_file())


def _message_class(name: str):
    descriptor = _pool.FindMessageTypeByName(f"{_PACKAGE}.{name}")
    get_class = getattr(message_factory, "GetMessageClass", None)  # protobuf >= 4.22
    if get_class is not None:
        return get_class(descriptor)
    return message_factory.MessageFactory(_pool).GetPrototype(descriptor)


TensorSliceProto = _message_class("TensorSliceProto")
BundleHeaderProto = _message_class("BundleHeaderProto")
BundleEntryProto = _message_class("BundleEntryProto")
CheckpointState = _message_class("CheckpointState")
SavedSliceMeta = _message_class("SavedSliceMeta")
SavedTensorSliceMeta = _message_class("SavedTensorSliceMeta")
SavedSlice = _message_class("SavedSlice")
SavedTensorSlices = _message_class("SavedTensorSlices")
QueueRunnerDef = _message_class("QueueRunnerDef")

_PROJECTOR_NAMES = ("ProjectorConfig", "EmbeddingInfo", "SpriteMetadata")


def __getattr__(name: str):
    # Projector messages: tensorboard ships them; import on first use only.
    if name in _PROJECTOR_NAMES:
        from tensorboard.plugins.projector import projector_config_pb2
        return getattr(projector_config_pb2, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
