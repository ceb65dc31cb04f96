"""Small ops TF1 programs use that had no home yet: base64 (EncodeBase64/DecodeBase64), tensor
serialization (SerializeTensor/ParseTensor), WriteFile, Timestamp, EnsureShape, ParallelConcat
(`tf.parallel_stack`), and the composite `tf.clip_by_average_norm`.

One `defop` per op type; lowerings in lowering/rules/misc_extra.py (strings, files and the clock run on
the host, as TF's CPU kernels do).
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import (InferenceContext, apply_op, defop, format_shape, scalar_shape,
                                            unchanged_shape)


def _ensure_shape_shape(ctx: InferenceContext):
    have, want = ctx.shape(0), _ts.as_shape(ctx.attrs["shape"])
    if have.ndims is not None and want.ndims is not None:
        if have.ndims != want.ndims:
            raise ctx.error(f"Shape must be rank {want.ndims} but is rank {have.ndims}")
        for k, (a, b) in enumerate(zip(want.as_list(), have.as_list())):
            if a is not None and b is not None and a != b:
                raise ctx.error(f"Dimension {k} in both shapes must be equal, but are {a} and {b}. Shapes are "
                                f"{format_shape(want)} and {format_shape(have)}.")
    return [want.merge_with(have) if want.ndims is not None and have.ndims is not None
            else (want if want.ndims is not None else have)]


def _parallel_concat_shape(ctx: InferenceContext):
    return [_ts.as_shape(ctx.attrs["shape"])]


defop("EncodeBase64", "input: string -> output: string", attrs={"pad": False}, shape=unchanged_shape)
defop("DecodeBase64", "input: string -> output: string", shape=unchanged_shape)
defop("SerializeTensor", "tensor: T -> serialized: string", shape=scalar_shape)
defop("ParseTensor", "serialized: string -> output: out_type", shape=lambda ctx: [_ts.unknown_shape()])
defop("WriteFile", "filename: string, contents: string ->", stateful=True)
defop("Timestamp", " -> ts: float64", stateful=True, shape=scalar_shape)
defop("EnsureShape", "input: T -> output: T", attrs={"shape": None}, shape=_ensure_shape_shape)
defop("ParallelConcat", "values: N * T -> output: T", attrs={"shape": None}, shape=_parallel_concat_shape)


def encode_base64(input, pad: bool = False, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.io.encode_base64`: web-safe base64 ('-' and '_'), '=' padding only when `pad`."""
    return apply_op("EncodeBase64", [input], {"pad": bool(pad)}, name=name)


def decode_base64(input, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.io.decode_base64`: decodes web-safe base64 with or without padding."""
    return apply_op("DecodeBase64", [input], name=name)


def serialize_tensor(tensor, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.io.serialize_tensor`: the tensor as a serialized TensorProto."""
    return apply_op("SerializeTensor", [tensor], name=name)


def parse_tensor(serialized, out_type, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.io.parse_tensor`: the tensor a serialized TensorProto holds (its dtype must be `out_type`)."""
    return apply_op("ParseTensor", [serialized], {"out_type": _dt.as_dtype(out_type)}, name=name)


def write_file(filename, contents, name: Optional[str] = None) -> _ops.Operation:
    """`tf.io.write_file`: writes `contents` to `filename` (parent directories created, as TF)."""
    return apply_op("WriteFile", [filename, contents], name=name)


def timestamp(name: Optional[str] = None) -> _ops.Tensor:
    """`tf.timestamp`: seconds since the epoch (float64) when the op runs."""
    return apply_op("Timestamp", [], name=name)


def ensure_shape(x, shape, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.ensure_shape`: x, with its static shape refined to `shape`; InvalidArgumentError when run if x's
    shape is not compatible."""
    shape = _ts.as_shape(shape)
    return apply_op("EnsureShape", [x], {"shape": shape}, name=name)


def parallel_stack(values, name: str = "parallel_stack") -> _ops.Tensor:
    """`tf.parallel_stack`: stacks equally shaped tensors (their static shape must be known, as in TF)."""
    from graphcompat.ops import array_ops
    with _ops.name_scope(name):
        first = convert_to_tensor(values[0])
        shape = first.shape
        if not shape.is_fully_defined():
            raise ValueError(f"Cannot infer the shape of values[0] of parallel_stack: {shape}")
        out_shape = _ts.TensorShape([len(values)]).concatenate(shape)
        expanded = [array_ops.expand_dims(convert_to_tensor(v), 0) for v in values]
        return apply_op("ParallelConcat", [expanded], {"shape": out_shape})


def clip_by_average_norm(t, clip_norm, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.clip_by_average_norm`: t * clip_norm / max(l2norm(t) / size(t), clip_norm) (TF's composite)."""
    from graphcompat.framework.constant_op import constant
    from graphcompat.ops import array_ops, math_ops
    with _ops.name_scope(name, "clip_by_average_norm", [t, clip_norm]) as scope:
        t = convert_to_tensor(t, name="t")
        n_element = math_ops.cast(array_ops.size(t), _dt.float32)
        l2norm_inv = math_ops.rsqrt(math_ops.reduce_sum(t * t, math_ops.range(array_ops.rank(t))))
        return array_ops.identity(
            t * clip_norm * math_ops.minimum(l2norm_inv * n_element, constant(1.0) / clip_norm), name=scope)


__all__ = ["encode_base64", "decode_base64", "serialize_tensor", "parse_tensor", "write_file", "timestamp",
           "ensure_shape", "parallel_stack", "clip_by_average_norm"]
