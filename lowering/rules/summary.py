"""Lowerings of summary ops (graphcompat/ops/summary_ops.py): host rules that build `Summary` bytes.

Values follow TF's kernels (core/kernels/summary_op.cc, summary_image_op.cc, summary_audio_op.cc,
summary_tensor_op.cc): scalars cast to float, TF's histogram buckets, per-image float normalisation
with `bad_color` for non-finite pixels, 16-bit PCM WAV audio, tensors as TensorProto content.
"""
from __future__ import annotations

import bisect
import functools
import struct

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.formats import encode_png, make_histogram
from graphcompat.formats.histogram import BUCKET_LIMITS
from graphcompat.framework import errors
from lowering.registry import lowers


def _summary_pb2():
    from tensorboard.compat.proto import summary_pb2
    return summary_pb2


def _shape_text(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _text(value) -> str:
    value = value.item() if isinstance(value, np.ndarray) else value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _result(summary) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = summary.SerializeToString()
    return out


def _host(x) -> np.ndarray:
    return np.asarray(x)


@lowers("ScalarSummary", context=True, host=True)
def scalar_summary(ctx, op, tags, values):
    tags, values = _host(tags), _host(values)
    if tags.shape != values.shape:
        single = f" (tag '{_text(tags)}')" if tags.ndim == 0 else ""
        raise errors.InvalidArgumentError(
            None, op, f"tags and values are not the same shape: {_shape_text(tags.shape)} != "
            f"{_shape_text(values.shape)}{single}")
    summary = _summary_pb2().Summary()
    for tag, value in zip(tags.reshape(-1), values.reshape(-1)):
        summary.value.add(tag=_text(tag), simple_value=float(np.float32(value)))
    return _result(summary)


@lowers("HistogramSummary", context=True, host=True)
def histogram_summary(ctx, op, tag, values):
    summary = _summary_pb2().Summary()
    summary.value.add(tag=_text(_host(tag)), histo=histogram_of(values, op))
    return _result(summary)


# --- TF's histogram (tsl/lib/histogram): buckets `upper_bound(BUCKET_LIMITS, v)`, the last one open ---------
_NUM_BUCKETS = BUCKET_LIMITS.size
_EXACT_SUM_MAX = 4096   # up to this many values the sums are sequential, as TF's double accumulator
_FEW_VALUES = 64        # up to this many values (a loss, a few scalars) buckets come from one search per value
_LIMITS_LIST = BUCKET_LIMITS.tolist()
_LIMITS_IN: dict = {}


def _limits_in(dtype: np.dtype) -> np.ndarray:
    """Per bucket limit `t`, the smallest value of `dtype` at or above `t`: for `x` of that dtype, `x < t`
    exactly when `x < limits[t]`, so sorted values of the input's own precision count against the limits.
    (Rounding up, not down, keeps every threshold a normal number: accelerators flush subnormals to zero.)"""
    limits = _LIMITS_IN.get(dtype)
    if limits is None:
        with np.errstate(over="ignore"):
            rounded = BUCKET_LIMITS.astype(dtype)
            limits = np.where(rounded.astype(np.float64) >= BUCKET_LIMITS, rounded,
                              np.nextafter(rounded, np.array(np.inf, dtype)))
        _LIMITS_IN[dtype] = limits
    return limits


def _work_dtype(dtype: np.dtype) -> np.dtype:
    """The precision values are counted in: float32 holds every float16/bfloat16/float32 and small int
    value exactly (TF casts to double first; counting is the same); everything else goes to float64."""
    if dtype.itemsize <= 4 and dtype.kind == "f" or dtype.itemsize <= 2 and dtype.kind in "iub":
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _nonfinite_error(first_bad: float, op) -> errors.InvalidArgumentError:
    what = "Nan in summary histogram for" if np.isnan(first_bad) else "Infinity in Histogram for"
    return errors.InvalidArgumentError(None, op, f"{what}: {op.name}")  # TF names the first one it meets


def histogram_of(values, op=None):
    """TF's HistogramProto of `values` (numpy or a device array; NaN/Inf fail as in TF's kernel).

    A device array on an accelerator is reduced where it lives (sort and count there, a few kB come
    back); on the CPU numpy's sort of the input's own precision is the fastest exact counting.
    """
    if isinstance(values, jax.Array) and values.size > _EXACT_SUM_MAX and \
            next(iter(values.devices())).platform != "cpu":
        return _device_histogram(values, op)
    flat = np.asarray(values).reshape(-1)
    if flat.dtype.kind not in "fiub" or flat.dtype.kind == "f" and flat.dtype.itemsize < 4:
        flat = flat.astype(np.float32)  # float16 / bfloat16: exact in float32
    if flat.dtype.kind == "f" and not np.isfinite(flat).all():
        raise _nonfinite_error(float(flat[np.argmax(~np.isfinite(flat))]), op)
    n = flat.size
    if n == 0:
        return make_histogram(flat)
    if n <= _FEW_VALUES:  # a loss, a few scalars: plain Python on doubles is faster than numpy here
        values = flat.astype(np.float64).tolist()
        filled: dict = {}
        total = total_squares = 0.0
        for v in values:  # sequential double sums, as TF's accumulator
            bucket = min(bisect.bisect_right(_LIMITS_LIST, v), _NUM_BUCKETS - 1)
            filled[bucket] = filled.get(bucket, 0) + 1
            total += v
            total_squares += v * v
        return _histogram_proto(filled, min(values), max(values), n, total, total_squares)
    work = flat.astype(_work_dtype(flat.dtype), copy=False)
    ordered = np.sort(work)
    below = np.searchsorted(ordered, _limits_in(work.dtype), side="left")  # values < each limit
    counts = np.diff(below, prepend=0)
    counts[-1] = n - below[-2]
    buckets = np.flatnonzero(counts)
    return _histogram_proto(dict(zip(buckets.tolist(), counts[buckets].tolist())), float(ordered[0]),
                            float(ordered[-1]), n, *_sums(work))


def _sums(work: np.ndarray) -> tuple:
    """(sum, sum of squares) in double: sequential as TF for small inputs, pairwise (the same value to
    rounding, many times faster) for large ones."""
    with np.errstate(over="ignore", invalid="ignore"):  # huge values overflow to inf, as TF's doubles do
        if work.size <= _EXACT_SUM_MAX:
            as_double = work.astype(np.float64)
            return float(np.cumsum(as_double)[-1]), float(np.cumsum(as_double * as_double)[-1])
        return float(np.sum(work, dtype=np.float64)), float(np.einsum("i,i->", work, work, dtype=np.float64))


def _histogram_proto(filled: dict, lo: float, hi: float, n: int, total: float, total_squares: float):
    """The proto from the non-empty buckets ({index: count}): TF also keeps the last bucket of each run of
    empty ones (the one just below a non-empty bucket) and always the last bucket."""
    kept = sorted(filled.keys() | {b - 1 for b in filled if b > 0} | {_NUM_BUCKETS - 1})
    return _summary_pb2().HistogramProto(min=lo, max=hi, num=float(n), sum=total, sum_squares=total_squares,
                                         bucket_limit=BUCKET_LIMITS[kept].tolist(),
                                         bucket=[float(filled.get(b, 0)) for b in kept])


@functools.lru_cache(maxsize=None)
def _device_counter(dtype: np.dtype):
    """A jitted `values -> (first non-finite or 0, all finite, values < limit per limit, min, max, sum, sum of
    squares)`, for one value dtype: the same sort-and-count as the host path, on the values' device."""
    work = _work_dtype(dtype)
    limits = _limits_in(work)

    @jax.jit
    def count(values):
        flat = values.reshape(-1).astype(work)
        bad = ~jnp.isfinite(flat)
        ordered = jnp.sort(flat)
        wide = flat.astype(jnp.float64)
        return (flat[jnp.argmax(bad)], ~bad.any(), jnp.searchsorted(ordered, limits, side="left"), ordered[0],
                ordered[-1], jnp.sum(wide), jnp.sum(wide * wide))
    return count


def _device_histogram(values, op):
    with jax.enable_x64(True):
        first_bad, ok, below, lo, hi, total, total_squares = jax.device_get(
            _device_counter(np.dtype(values.dtype))(values))
    if not ok:
        raise _nonfinite_error(float(first_bad), op)
    n = int(values.size)
    counts = np.diff(below.astype(np.int64), prepend=0)
    counts[-1] = n - below[-2]
    buckets = np.flatnonzero(counts)
    return _histogram_proto(dict(zip(buckets.tolist(), counts[buckets].tolist())), float(lo), float(hi), n,
                            float(total), float(total_squares))


def histogram_proto(flat: np.ndarray):
    """TF's HistogramProto for finite values (same buckets as formats.make_histogram)."""
    return histogram_of(flat)


def _normalize_image(values: np.ndarray, bad_color: np.ndarray) -> np.ndarray:
    """One float image (hw, depth) → uint8, exactly as TF's NormalizeFloatImage (float32 arithmetic)."""
    finite_px = np.isfinite(values).all(axis=1)
    good = values[finite_px].astype(np.float32)
    image_min = np.float32(good.min()) if good.size else np.float32(np.inf)
    image_max = np.float32(good.max()) if good.size else np.float32(-np.inf)
    dtype = values.dtype  # TF computes in the input's precision (half, float, double)
    if image_min < 0:
        max_val = max(abs(image_min), abs(image_max))
        scale = np.float32(0.0) if max_val < 1e-6 else np.float32(127.0) / np.float32(max_val)
        offset = 128.0
    else:
        scale = np.float32(0.0) if image_max < 1e-6 else np.float32(255.0) / image_max
        offset = 0.0
    scale, offset = dtype.type(scale), dtype.type(offset)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values.astype(dtype) * scale + offset
        out = np.where(finite_px[:, None], scaled, 0).astype(np.int64).astype(np.uint8)
    out[~finite_px] = bad_color[:values.shape[1]]
    return out


@lowers("ImageSummary", context=True, host=True)
def image_summary(ctx, op, tag, tensor):
    summary = _summary_pb2().Summary()
    add_images(summary, op, _text(_host(tag)), _host(tensor), int(op.attrs["max_images"]),
               np.asarray(op.attrs["bad_color"], np.uint8).reshape(-1))
    return _result(summary)


def add_images(summary, op, base: str, tensor: np.ndarray, max_images: int, bad_color: np.ndarray) -> None:
    """TF's AddImages (ImageSummary and WriteImageSummary): PNG values `base/image[/i]` of a 4-D batch."""
    if tensor.ndim != 4 or tensor.shape[3] not in (1, 3, 4):
        raise errors.InvalidArgumentError(
            None, op, f"Tensor must be 4-D with last dim 1, 3, or 4, not {_shape_text(tensor.shape)}")
    batch, h, w, depth = tensor.shape
    if tensor.dtype != np.uint8 and bad_color.size < depth:
        raise errors.InvalidArgumentError(
            None, op, f"expected depth <= bad_color.size, got depth = {depth}, bad_color.size = {bad_color.size}")
    for i in range(min(max_images, batch)):
        pixels = tensor[i].reshape(h * w, depth)
        if tensor.dtype != np.uint8:
            pixels = _normalize_image(pixels, bad_color)
        value = summary.value.add(tag=f"{base}/image/{i}" if max_images > 1 else f"{base}/image")
        value.image.height, value.image.width, value.image.colorspace = h, w, depth
        value.image.encoded_image_string = encode_png(pixels.reshape(h, w, depth))


def encode_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """[frames, channels] float samples → 16-bit PCM WAV bytes (TF's wav_io: round(x * 2^15), clamped)."""
    frames, channels = samples.shape
    pcm = np.clip(np.round(samples.astype(np.float32) * np.float32(32768.0)), -32768, 32767).astype("<i2")
    data = pcm.tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, channels,
                         sample_rate, sample_rate * channels * 2, channels * 2, 16, b"data", len(data))
    return header + data


@lowers("AudioSummaryV2", context=True, host=True)
def audio_summary(ctx, op, tag, tensor, sample_rate):
    sample_rate = float(_host(sample_rate))
    summary = _summary_pb2().Summary()
    add_audio(summary, op, _text(_host(tag)), _host(tensor), sample_rate, int(op.attrs["max_outputs"]),
              int(sample_rate))
    return _result(summary)


def add_audio(summary, op, base: str, tensor: np.ndarray, sample_rate: float, max_outputs: int,
              wav_rate: int) -> None:
    """TF's audio values `base/audio[/i]` (AudioSummaryV2 and WriteAudioSummary): `wav_rate` is the WAV
    header's integer rate, which the two kernels round differently."""
    if sample_rate <= 0:
        raise errors.InvalidArgumentError(None, op, "sample_rate must be > 0")
    if tensor.ndim not in (2, 3):
        raise errors.InvalidArgumentError(
            None, op, f"Tensor must be 3-D or 2-D, got: {_shape_text(tensor.shape)}")
    if tensor.ndim == 2:
        tensor = tensor[:, :, None]
    batch, frames, channels = tensor.shape
    for i in range(min(max_outputs, batch)):
        value = summary.value.add(tag=f"{base}/audio/{i}" if max_outputs > 1 else f"{base}/audio")
        value.audio.sample_rate = sample_rate
        value.audio.num_channels = channels
        value.audio.length_frames = frames
        value.audio.content_type = "audio/wav"
        value.audio.encoded_audio_string = encode_wav(tensor[i], wav_rate)


def tensor_content_proto(value: np.ndarray):
    """A TensorProto as TF's C++ `Tensor::AsProtoTensorContent` writes it (strings as string_val)."""
    from tensorboard.compat.proto import tensor_pb2
    from graphcompat.framework import tensor_shape as _ts
    from graphcompat.formats.bundle import datatype_enum
    value = np.asarray(value)
    proto = tensor_pb2.TensorProto(dtype=datatype_enum(value.dtype),
                                   tensor_shape=_ts.TensorShape(value.shape).as_proto())
    if value.dtype.kind in "OSU":
        proto.string_val.extend(v if isinstance(v, bytes) else str(v).encode() for v in value.reshape(-1))
    else:
        proto.tensor_content = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<")).tobytes()
    return proto


@lowers("TensorSummaryV2", context=True, host=True)
def tensor_summary(ctx, op, tag, tensor, serialized_summary_metadata):
    pb2 = _summary_pb2()
    summary = pb2.Summary()
    value = summary.value.add(tag=_text(_host(tag)))
    value.metadata.ParseFromString(_host(serialized_summary_metadata).item())
    value.metadata.SetInParent()
    value.tensor.CopyFrom(tensor_content_proto(_host(tensor)))
    return _result(summary)


@lowers("AudioSummary", context=True, host=True)
def audio_summary_v1(ctx, op, tag, tensor):
    return audio_summary(ctx, op, tag, tensor, np.float32(op.attrs["sample_rate"]))


@lowers("TensorSummary", context=True, host=True)
def tensor_summary_v1(ctx, op, tensor):
    """TF's deprecated SummaryTensorOp: one value named by the node (`node_name`, no tag), the tensor."""
    summary = _summary_pb2().Summary()
    value = summary.value.add(node_name=op.name)
    value.tensor.CopyFrom(tensor_content_proto(_host(tensor)))
    return _result(summary)


@lowers("MergeSummary", context=True, host=True)
def merge_summary(ctx, op, *inputs):
    pb2 = _summary_pb2()
    merged = pb2.Summary()
    tags: set = set()
    for blob in inputs:
        for serialized in _host(blob).reshape(-1):
            part = pb2.Summary()
            try:
                part.ParseFromString(serialized)
            except Exception:
                raise errors.InvalidArgumentError(
                    None, op, "Could not parse one of the summary inputs") from None
            for value in part.value:
                if value.tag and value.tag in tags:
                    raise errors.InvalidArgumentError(
                        None, op, f"Duplicate tag {value.tag} found in summary inputs ")
                tags.add(value.tag)
                merged.value.add().CopyFrom(value)
    return _result(merged)
