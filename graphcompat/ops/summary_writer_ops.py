"""TF's resource summary writers (core/ops/summary_ops.cc): the op types behind tf.contrib.summary and TF 2's
tf.summary in graph mode.

`SummaryWriter` outputs a handle; `CreateSummaryFileWriter` opens the event file of the resource that handle
names (once per session: later runs find it), the Write* ops append one Event each, `FlushSummaryWriter`
writes the queue to disk and `CloseSummaryWriter` flushes and deletes the resource. The builders here are
TF's generated wrappers (gen_summary_ops): one node each, inputs converted to the signature's types. The
Python API on top is graphcompat/summary/summary_ops_v2.py; the lowerings are host rules
(lowering/rules/summary_writer.py).
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.registry import apply_op, defop, no_outputs, scalar_shape

_REAL = tuple(_dt.REAL_NUMBER_TYPES)

defop("SummaryWriter", "-> writer: resource", attrs={"shared_name": "", "container": ""}, shape=scalar_shape,
      stateful=True)
defop("CreateSummaryFileWriter",
      "writer: resource, logdir: string, max_queue: int32, flush_millis: int32, filename_suffix: string ->",
      shape=no_outputs, stateful=True)
defop("CreateSummaryDbWriter",
      "writer: resource, db_uri: string, experiment_name: string, run_name: string, user_name: string ->",
      shape=no_outputs, stateful=True)
defop("WriteSummary", "writer: resource, step: int64, tensor: T, tag: string, summary_metadata: string ->",
      shape=no_outputs, stateful=True)
defop("WriteScalarSummary", "writer: resource, step: int64, tag: string, value: T ->", types={"T": _REAL},
      shape=no_outputs, stateful=True)
defop("WriteHistogramSummary", "writer: resource, step: int64, tag: string, values: T ->",
      types={"T": _REAL + (_dt.bool_,)}, shape=no_outputs, stateful=True)
defop("WriteImageSummary", "writer: resource, step: int64, tag: string, tensor: T, bad_color: uint8 ->",
      attrs={"max_images": 3}, types={"T": (_dt.uint8, _dt.float64, _dt.float32, _dt.float16)},
      shape=no_outputs, stateful=True)
defop("WriteAudioSummary", "writer: resource, step: int64, tag: string, tensor: float32, sample_rate: float32 ->",
      attrs={"max_outputs": 3}, shape=no_outputs, stateful=True)
defop("WriteRawProtoSummary", "writer: resource, step: int64, tensor: string ->", shape=no_outputs, stateful=True)
defop("WriteGraphSummary", "writer: resource, step: int64, tensor: string ->", shape=no_outputs, stateful=True)
defop("ImportEvent", "writer: resource, event: string ->", shape=no_outputs, stateful=True)
defop("FlushSummaryWriter", "writer: resource ->", shape=no_outputs, stateful=True)
defop("CloseSummaryWriter", "writer: resource ->", shape=no_outputs, stateful=True)


def summary_writer(shared_name: str = "", container: str = "", name: Optional[str] = None) -> _ops.Tensor:
    """gen_summary_ops.summary_writer: the handle of the writer resource named `shared_name`."""
    return apply_op("SummaryWriter", [], {"shared_name": shared_name, "container": container}, name=name)


def create_summary_file_writer(writer, logdir, max_queue, flush_millis, filename_suffix,
                               name: Optional[str] = None) -> _ops.Operation:
    return apply_op("CreateSummaryFileWriter", [writer, logdir, max_queue, flush_millis, filename_suffix],
                    name=name)


def create_summary_db_writer(writer, db_uri, experiment_name, run_name, user_name,
                             name: Optional[str] = None) -> _ops.Operation:
    return apply_op("CreateSummaryDbWriter", [writer, db_uri, experiment_name, run_name, user_name], name=name)


def write_summary(writer, step, tensor, tag, summary_metadata, name: Optional[str] = None) -> _ops.Operation:
    return apply_op("WriteSummary", [writer, step, tensor, tag, summary_metadata], name=name)


def write_scalar_summary(writer, step, tag, value, name: Optional[str] = None) -> _ops.Operation:
    return apply_op("WriteScalarSummary", [writer, step, tag, value], name=name)


def write_histogram_summary(writer, step, tag, values, name: Optional[str] = None) -> _ops.Operation:
    return apply_op("WriteHistogramSummary", [writer, step, tag, values], name=name)


def write_image_summary(writer, step, tag, tensor, bad_color, max_images: int = 3,
                        name: Optional[str] = None) -> _ops.Operation:
    return apply_op("WriteImageSummary", [writer, step, tag, tensor, bad_color], {"max_images": int(max_images)},
                    name=name)


def write_audio_summary(writer, step, tag, tensor, sample_rate, max_outputs: int = 3,
                        name: Optional[str] = None) -> _ops.Operation:
    return apply_op("WriteAudioSummary", [writer, step, tag, tensor, sample_rate],
                    {"max_outputs": int(max_outputs)}, name=name)


def write_raw_proto_summary(writer, step, tensor, name: Optional[str] = None) -> _ops.Operation:
    return apply_op("WriteRawProtoSummary", [writer, step, tensor], name=name)


def write_graph_summary(writer, step, tensor, name: Optional[str] = None) -> _ops.Operation:
    return apply_op("WriteGraphSummary", [writer, step, tensor], name=name)


def import_event(writer, event, name: Optional[str] = None) -> _ops.Operation:
    return apply_op("ImportEvent", [writer, event], name=name)


def flush_summary_writer(writer, name: Optional[str] = None) -> _ops.Operation:
    return apply_op("FlushSummaryWriter", [writer], name=name)


def close_summary_writer(writer, name: Optional[str] = None) -> _ops.Operation:
    return apply_op("CloseSummaryWriter", [writer], name=name)
