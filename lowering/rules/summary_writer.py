"""Lowerings of TF's resource summary writers (graphcompat/ops/summary_writer_ops.py): host rules.

A `SummaryWriter` op outputs a `WriterHandle` naming a session resource; `CreateSummaryFileWriter` creates
it once (TF's LookupOrCreateResource: later runs, and other handles naming the same resource, find it), as a
`formats.SummaryFileWriter` stored in the Session's state under ("summary writer", container, name). The
Write* ops build one `Event` each, as TF's SummaryFileWriter does (core/summary/summary_file_writer.cc,
summary_converter.cc), and queue it; Flush writes the queue out, Close flushes and deletes the resource.
Like TF's, these are effects a failing run does not undo (an event written stays written), so the writer is
not staged state: rules reach the Session's values directly, as queues do. A Session that closes flushes and
closes its writers (TF's resource manager destroys them with the session).
"""
from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np

from graphcompat.formats import SummaryFileWriter
from graphcompat.framework import errors
from lowering.registry import lowers
from lowering.rules.summary import (_summary_pb2, _text, add_audio, add_images, histogram_of,
                                    tensor_content_proto)

_TYPE_NAME = "N10tensorflow22SummaryWriterInterfaceE"  # TF's resource type name, in its NotFound text
_CONTAINER = "localhost"
_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class WriterHandle:
    """What a SummaryWriter op outputs: the container and name of the writer resource it names."""
    container: str
    name: str

    @property
    def key(self) -> tuple:
        return ("summary writer", self.container, self.name)


class _SessionWriter:
    """The session's resource: TF's SummaryFileWriter, closed with the Session."""

    def __init__(self, writer: SummaryFileWriter):
        self.writer = writer

    def on_session_close(self) -> None:
        self.writer.close()

    def __del__(self):
        # a Session dropped without close(): TF's ~SummaryFileWriter still flushes what is queued
        try:
            self.writer.close()
        except Exception:  # never raise from a finalizer (interpreter shutdown, a full disk)
            pass


def _event_pb2():
    from tensorboard.compat.proto import event_pb2
    return event_pb2


def _store(ctx) -> dict:
    return ctx._state_in


@lowers("SummaryWriter", context=True, host=True)
def summary_writer(ctx, op):
    # an empty shared_name names the resource after the node, as TF's ResourceHandleOp does
    return WriterHandle(op.attrs.get("container") or _CONTAINER, op.attrs.get("shared_name") or op.name)


def _lookup(ctx, op, handle: WriterHandle) -> SummaryFileWriter:
    """The writer a handle names, else TF's NotFoundError (LookupResource's texts)."""
    found = _store(ctx).get(handle.key)
    if isinstance(found, _SessionWriter):
        return found.writer
    if _container_exists(ctx, handle.container):
        raise errors.NotFoundError(
            None, op, f"Resource {handle.container}/{handle.name}/{_TYPE_NAME} does not exist.")
    raise errors.NotFoundError(
        None, op, f"Container {handle.container} does not exist. (Could not find resource: "
        f"{handle.container}/{handle.name})")


def _container_exists(ctx, container: str) -> bool:
    """Whether TF's resource manager would hold the container: something was created in it this session (a
    writer, even one closed since, or any other resource or variable, which TF keeps in the same place)."""
    store = _store(ctx)
    if ("summary writer container", container) in store:
        return True
    hidden = ("rng",)  # per-op random counters: graphcompat's bookkeeping, no resource of TF's
    return container == _CONTAINER and any(not (isinstance(k, tuple) and k[:1] == hidden) for k, _ in store.items())


def _scalar(value, op, what: str):
    value = np.asarray(value)
    if value.shape != ():
        raise errors.InvalidArgumentError(None, op, f"{what} must be a scalar, got shape "
                                          f"{list(value.shape)}")
    return value.item()


@lowers("CreateSummaryFileWriter", context=True, host=True)
def create_summary_file_writer(ctx, op, writer, logdir, max_queue, flush_millis, filename_suffix):
    logdir = _text(_scalar(logdir, op, "logdir"))
    max_queue, flush_millis = int(_scalar(max_queue, op, "max_queue")), int(_scalar(flush_millis, op, "flush_millis"))
    suffix = _text(_scalar(filename_suffix, op, "filename_suffix"))
    store = _store(ctx)
    with _lock:
        if isinstance(store.get(writer.key), _SessionWriter):
            return None  # TF's LookupOrCreateResource: the arguments of a later create have no effect
        try:
            created = SummaryFileWriter(logdir, max_queue, flush_millis, suffix)
        except errors.OpError as e:  # TF's texts (formats.io_error), attributed to the op
            raise type(e)(None, op, e.message) from None
        store[writer.key] = _SessionWriter(created)
        store[("summary writer container", writer.container)] = True
    return None


@lowers("CreateSummaryDbWriter", context=True, host=True)
def create_summary_db_writer(ctx, op, *inputs):
    raise NotImplementedError("tf.contrib.summary.create_db_writer (the CreateSummaryDbWriter op: TensorBoard's "
                              "SQLite summary database) is not implemented by graphcompat; use "
                              "tf.contrib.summary.create_file_writer")


def _event(step, op):
    return _event_pb2().Event(wall_time=time.time(), step=int(_scalar(step, op, "step")))


def _write(writer: SummaryFileWriter, event) -> None:
    writer.write_event(event.SerializeToString())


@lowers("WriteSummary", context=True, host=True)
def write_summary(ctx, op, writer, step, tensor, tag, summary_metadata):
    out = _lookup(ctx, op, writer)
    event = _event(step, op)
    value = event.summary.value.add(tag=_text(_scalar(tag, op, "tag")))
    # strings as string_val (TF's AsProtoField), everything else as tensor_content
    value.tensor.CopyFrom(tensor_content_proto(np.asarray(tensor)))
    metadata = _scalar(summary_metadata, op, "summary_metadata")
    if metadata:
        value.metadata.ParseFromString(metadata)
    _write(out, event)


def _check_converter_dtype(values: np.ndarray, op) -> None:
    """TF's summary converter (TensorValueAt) reads every real, int, bool and complex type but bfloat16."""
    if values.dtype.name == "bfloat16":
        raise errors.UnimplementedError(None, op, "SummaryFileWriter bfloat16 not supported.")


def _first_value(values, op) -> float:
    flat = np.asarray(values).reshape(-1)
    _check_converter_dtype(flat, op)
    if flat.size == 0:  # TF's kernel reads element 0 regardless
        raise errors.InvalidArgumentError(None, op, "Scalar summary of an empty tensor")
    return float(np.float32(flat[0].real if np.iscomplexobj(flat) else flat[0]))


@lowers("WriteScalarSummary", context=True, host=True)
def write_scalar_summary(ctx, op, writer, step, tag, value):
    out = _lookup(ctx, op, writer)
    event = _event(step, op)
    # TF's AddTensorAsScalarToSummary: the first element, as a float simple_value
    event.summary.value.add(tag=_text(_scalar(tag, op, "tag")), simple_value=_first_value(value, op))
    _write(out, event)


@lowers("WriteHistogramSummary", context=True, host=True)
def write_histogram_summary(ctx, op, writer, step, tag, values):
    out = _lookup(ctx, op, writer)
    event = _event(step, op)
    tag = _text(_scalar(tag, op, "tag"))
    flat = np.asarray(values).reshape(-1)
    _check_converter_dtype(flat, op)
    if flat.dtype.kind == "f":
        bad = ~np.isfinite(flat)
        if bad.any():  # TF checks element by element and names the tag (not the node, as HistogramSummary)
            first = flat[np.argmax(bad)]
            what = "Nan in summary histogram for" if np.isnan(first) else "Infinity in summary histogram for"
            raise errors.InvalidArgumentError(None, op, f"{what}: {tag}")
    if flat.dtype == np.bool_:
        flat = flat.astype(np.float64)
    event.summary.value.add(tag=tag, histo=histogram_of(flat, op))
    _write(out, event)


@lowers("WriteImageSummary", context=True, host=True)
def write_image_summary(ctx, op, writer, step, tag, tensor, bad_color):
    out = _lookup(ctx, op, writer)
    event = _event(step, op)
    bad_color = np.asarray(bad_color)
    if bad_color.ndim != 1:
        raise errors.InvalidArgumentError(
            None, op, f"bad_color must be a vector, got shape [{','.join(map(str, bad_color.shape))}]")
    tensor = np.asarray(tensor)
    if tensor.ndim == 4 and (tensor.shape[0] >= 2 ** 31 or tensor.shape[1] >= 2 ** 31 or tensor.shape[2] >= 2 ** 31
                             or tensor.shape[1] * tensor.shape[2] >= 2 ** 29):
        raise errors.InvalidArgumentError(
            None, op, f"Tensor too large for summary [{','.join(map(str, tensor.shape))}]")
    add_images(event.summary, op, _text(_scalar(tag, op, "tag")), tensor, int(op.attrs["max_images"]),
               bad_color.astype(np.uint8))
    _write(out, event)


@lowers("WriteAudioSummary", context=True, host=True)
def write_audio_summary(ctx, op, writer, step, tag, tensor, sample_rate):
    out = _lookup(ctx, op, writer)
    event = _event(step, op)
    rate = float(np.float32(_scalar(sample_rate, op, "sample_rate")))
    # TF's WriteAudio rounds the WAV header's rate (lrintf, at least 1)
    wav_rate = max(1, int(np.rint(np.float32(rate)))) if rate > 0 else 1
    add_audio(event.summary, op, _text(_scalar(tag, op, "tag")), np.asarray(tensor), rate,
              int(op.attrs["max_outputs"]), wav_rate)
    _write(out, event)


@lowers("WriteRawProtoSummary", context=True, host=True)
def write_raw_proto_summary(ctx, op, writer, step, tensor):
    out = _lookup(ctx, op, writer)
    event = _event(step, op)
    event.summary.SetInParent()
    part = _summary_pb2().Summary()
    for i, serialized in enumerate(np.asarray(tensor, dtype=object).reshape(-1)):
        try:
            part.ParseFromString(bytes(serialized))
        except Exception:
            raise errors.DataLossError(
                None, op, f"Bad tf.compat.v1.Summary binary proto tensor string at index {i}") from None
        event.summary.MergeFrom(part)
    _write(out, event)


@lowers("WriteGraphSummary", context=True, host=True)
def write_graph_summary(ctx, op, writer, step, tensor):
    from tensorboard.compat.proto import graph_pb2
    out = _lookup(ctx, op, writer)
    event = _event(step, op)
    graph = graph_pb2.GraphDef()
    try:
        graph.ParseFromString(bytes(_scalar(tensor, op, "tensor")))
    except Exception:
        raise errors.DataLossError(None, op, "Bad tf.GraphDef binary proto tensor string") from None
    event.graph_def = graph.SerializeToString()
    _write(out, event)


@lowers("ImportEvent", context=True, host=True)
def import_event(ctx, op, writer, event):
    out = _lookup(ctx, op, writer)
    parsed = _event_pb2().Event()
    try:
        parsed.ParseFromString(bytes(_scalar(event, op, "event")))
    except Exception:
        raise errors.DataLossError(None, op, "Bad tf.Event binary proto tensor string") from None
    _write(out, parsed)


@lowers("FlushSummaryWriter", context=True, host=True)
def flush_summary_writer(ctx, op, writer):
    _lookup(ctx, op, writer).flush()


@lowers("CloseSummaryWriter", context=True, host=True)
def close_summary_writer(ctx, op, writer):
    """TF deletes the resource (its destructor flushes): writes then fail until a create makes a new file."""
    closed = _lookup(ctx, op, writer)
    with _lock:
        _store(ctx).pop(writer.key, None)
    closed.close()
