"""Summary ops (TF1 `tf.summary.*`): each evaluates, inside `sess.run`, to a serialized `Summary` proto.

Op types, input names and attrs are TF's (ScalarSummary, HistogramSummary, ImageSummary, AudioSummaryV2,
TensorSummaryV2, MergeSummary), so GraphDefs and TensorBoard's Graphs tab look like TF's. Tags follow
TF's `summary_scope`: the tag is the (uniquified) name scope of the summary, `family/` prefixed when given.
Lowerings (host rules producing bytes): lowering/rules/summary.py.
"""
from __future__ import annotations

import contextlib
import re
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.framework.registry import apply_op, defop, scalar_shape

_REAL = _dt.REAL_NUMBER_TYPES

defop("ScalarSummary", "tags: string, values: T -> summary: string", types={"T": _REAL}, shape=scalar_shape)
defop("HistogramSummary", "tag: string, values: T -> summary: string", types={"T": _REAL},
      shape=scalar_shape)
defop("ImageSummary", "tag: string, tensor: T -> summary: string",
      attrs={"max_images": 3, "bad_color": np.array([255, 0, 0, 255], np.uint8)},
      types={"T": (_dt.uint8, _dt.float32, _dt.float16, _dt.float64)}, shape=scalar_shape)
defop("AudioSummaryV2", "tag: string, tensor: float32, sample_rate: float32 -> summary: string",
      attrs={"max_outputs": 3}, shape=scalar_shape)
defop("TensorSummaryV2", "tag: string, tensor: T, serialized_summary_metadata: string -> summary: string",
      shape=scalar_shape)
defop("MergeSummary", "inputs: N * string -> summary: string", shape=scalar_shape)
# The V1 forms older graphs hold: AudioSummary's sample rate is an attr; TensorSummary has no tag (its
# value is named by the node) and no plugin metadata.
defop("AudioSummary", "tag: string, tensor: float32 -> summary: string", attrs={"sample_rate": None, "max_outputs": 3},
      shape=scalar_shape)
defop("TensorSummary", "tensor: T -> summary: string", attrs={"description": "", "labels": [], "display_name": ""},
      shape=scalar_shape)

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def clean_tag(name: Optional[str]) -> Optional[str]:
    """TF's summary name cleaning: illegal characters become `_`, leading slashes go."""
    if name is None:
        return None
    return _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")


@contextlib.contextmanager
def summary_scope(name, family=None, default_name=None, values=None):
    """Yields `(tag, scope)`: the tag is the full, unique scope name (prefixed by `family/`)."""
    name, family = clean_tag(name), clean_tag(family)
    base = name if family is None else f"{family}/{name}"
    with _ops.name_scope(base, default_name, values) as scope:
        tag = scope.rstrip("/")
        if family is not None:
            tag = f"{family}/{tag}"
        yield tag, scope


def _collect(value, collections, default) -> None:
    for key in (default if collections is None else collections):
        _ops.add_to_collection(key, value)


def _summary_op(op_type: str, inputs, attrs, scope: str) -> _ops.Tensor:
    # The op takes the scope's own name (TF passes `name=scope`, a name ending in "/").
    return apply_op(op_type, inputs, attrs, name=scope)


def scalar(name, tensor, collections=None, family=None) -> _ops.Tensor:
    """`tf.summary.scalar`: a `Summary` with one `simple_value` tagged with the op's scoped name."""
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        val = _summary_op("ScalarSummary", [constant(tag, name="tags"), tensor], None, scope)
        _collect(val, collections, [_ops.GraphKeys.SUMMARIES])
    return val


def histogram(name, values, collections=None, family=None) -> _ops.Tensor:
    """`tf.summary.histogram`: TF's exponential buckets; NaN/Inf values fail the run."""
    with summary_scope(name, family, values=[values], default_name="HistogramSummary") as (tag, scope):
        val = _summary_op("HistogramSummary", [constant(tag, name="tag"), values], None, scope)
        _collect(val, collections, [_ops.GraphKeys.SUMMARIES])
    return val


def image(name, tensor, max_outputs: int = 3, collections=None, family=None) -> _ops.Tensor:
    """`tf.summary.image`: PNG images tagged `name/image` (one) or `name/image/<i>`."""
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        val = _summary_op("ImageSummary", [constant(tag, name="tag"), tensor],
                          {"max_images": int(max_outputs)}, scope)
        _collect(val, collections, [_ops.GraphKeys.SUMMARIES])
    return val


def audio(name, tensor, sample_rate, max_outputs: int = 3, collections=None, family=None) -> _ops.Tensor:
    """`tf.summary.audio`: 16-bit PCM WAV clips of a `[batch, frames(, channels)]` float tensor."""
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        sample_rate = convert_to_tensor(sample_rate, dtype=_dt.float32, name="sample_rate")
        val = _summary_op("AudioSummaryV2", [constant(tag, name="tag"), tensor, sample_rate],
                          {"max_outputs": int(max_outputs)}, scope)
        _collect(val, collections, [_ops.GraphKeys.SUMMARIES])
    return val


def tensor_summary(name, tensor, summary_description=None, collections=None, summary_metadata=None,
                   family=None, display_name=None) -> _ops.Tensor:
    """`tf.summary.tensor_summary`: the whole tensor as a TensorProto, with SummaryMetadata."""
    from tensorboard.compat.proto import summary_pb2
    if summary_metadata is None:
        summary_metadata = summary_pb2.SummaryMetadata()
    if summary_description is not None:
        summary_metadata.summary_description = summary_description
    if display_name is not None:
        summary_metadata.display_name = display_name
    serialized = summary_metadata.SerializeToString()
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        val = _summary_op("TensorSummaryV2", [constant(tag, name="tag"), tensor,
                                              constant(serialized, name="serialized_summary_metadata")],
                          None, scope)
        _collect(val, collections, [_ops.GraphKeys.SUMMARIES])
    return val


def text(name, tensor, collections=None) -> _ops.Tensor:
    """`tf.summary.text`: a string tensor for TensorBoard's Text dashboard."""
    from tensorboard.compat.proto import summary_pb2
    tensor = convert_to_tensor(tensor) if not isinstance(tensor, _ops.Tensor) else tensor
    if tensor.dtype != _dt.string:
        raise ValueError(f"Expected tensor {tensor.name} to have dtype string, got {tensor.dtype}")
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text"))
    return tensor_summary(name, tensor, summary_metadata=metadata, collections=collections)


def merge(inputs, collections=None, name=None) -> _ops.Tensor:
    """`tf.summary.merge`: the union of serialized summaries; duplicate tags fail the run."""
    name = clean_tag(name)
    with _ops.name_scope(name, "Merge", inputs):
        val = apply_op("MergeSummary", [list(inputs)], None, name=name or "MergeSummary")
        _collect(val, collections, [])
    return val


def merge_all(key=_ops.GraphKeys.SUMMARIES, scope=None, name=None) -> Optional[_ops.Tensor]:
    """`tf.summary.merge_all`: merge of every summary in collection `key` (None if there are none)."""
    summary_ops = _ops.get_collection(key, scope=scope)
    if not summary_ops:
        return None
    return merge(summary_ops, name=name)


def get_summary_description(node_def):
    """`tf.summary.get_summary_description` (TensorSummary nodes only, as TF)."""
    from google.protobuf import json_format
    from tensorboard.compat.proto import summary_pb2
    if node_def.op != "TensorSummary":
        raise ValueError(f"Can't get_summary_description on {node_def.op}")
    description = summary_pb2.SummaryDescription()
    json_format.Parse(node_def.attr["description"].s.decode(), description)
    return description
