"""`tf.strings.unsorted_segment_join` (UnsortedSegmentJoin) and `tf.io.decode_compressed`
(DecodeCompressed): one `defop` each, host lowerings in lowering/rules/string_extra.py."""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop, unchanged_shape

_INDEX = (_dt.int32, _dt.int64)


def _segment_join_shape(ctx: InferenceContext):
    data, ids, n = ctx.shape(0), ctx.shape(1), ctx.value(2)
    if data.ndims is None or ids.ndims is None:
        return [_ts.unknown_shape()]
    return [_ts.TensorShape([None if n is None else int(n)] + data.as_list()[ids.ndims:])]


defop("UnsortedSegmentJoin", "inputs: string, segment_ids: Tindices, num_segments: Tnumsegments -> output: string",
      attrs={"separator": ""}, types={"Tindices": _INDEX, "Tnumsegments": _INDEX}, shape=_segment_join_shape)
defop("DecodeCompressed", "bytes: string -> output: string", attrs={"compression_type": ""},
      shape=unchanged_shape)


def unsorted_segment_join(inputs, segment_ids, num_segments, separator: str = "",
                          name: Optional[str] = None) -> _ops.Tensor:
    """`tf.strings.unsorted_segment_join`: the strings of each segment joined with `separator` (in input order;
    empty segments give "")."""
    return apply_op("UnsortedSegmentJoin", [inputs, segment_ids, num_segments], {"separator": str(separator)},
                    name=name)


def decode_compressed(bytes, compression_type: str = "", name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.io.decode_compressed`: ZLIB or GZIP decompression of each string ("" passes them through)."""
    if compression_type not in ("", "ZLIB", "GZIP"):
        raise ValueError(f"Unsupported compression type: {compression_type}")
    return apply_op("DecodeCompressed", [bytes], {"compression_type": compression_type}, name=name)


__all__ = ["unsorted_segment_join", "decode_compressed"]
