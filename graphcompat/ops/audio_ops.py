"""Audio ops of TF's `gen_audio_ops` (what TF1 speech models and their frozen graphs use: TF's
speech_commands graph is DecodeWav -> AudioSpectrogram -> Mfcc): DecodeWav, EncodeWav (16-bit PCM WAV,
`tf.audio`), AudioSpectrogram and Mfcc.

One `defop` per op type, with TF's shape functions (tensorflow/core/ops/audio_ops.cc) written by hand
because their error texts must show. Lowerings in lowering/rules/media.py: the WAV codecs run on the host
(strings), the spectrogram and the MFCCs lower to jax.numpy so they compile.

`from graphcompat.ops import audio_ops` stands where TF1 programs import
`tensorflow.python.ops.gen_audio_ops as audio_ops` (or contrib's `audio_ops`).
"""
from __future__ import annotations

import collections
from typing import Optional

from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, apply_op, defop
from graphcompat.framework.kernel_util import next_power_of_two, spectrogram_length


def _rank(ctx: InferenceContext, i: int, rank: int) -> _ts.TensorShape:
    """TF's `WithRank`: the input's shape, or TF's build-time ValueError when its known rank differs."""
    shape = ctx.shape(i)
    if shape.ndims is not None and shape.ndims != rank:
        raise ctx.error(f"Shape must be rank {rank} but is rank {shape.ndims}")
    return shape if shape.ndims is not None else _ts.TensorShape([None] * rank)


def _decode_wav_shape(ctx: InferenceContext):
    _rank(ctx, 0, 0)
    dims = {}
    for attr, what in (("desired_channels", "channels"), ("desired_samples", "samples")):  # TF's order
        value = int(ctx.attrs[attr])
        if value < -1:
            raise ctx.error(f"{what} must be non-negative, got {value}")
        dims[what] = None if value == -1 else value
    return [_ts.TensorShape([dims["samples"], dims["channels"]]), _ts.TensorShape([])]


def _encode_wav_shape(ctx: InferenceContext):
    _rank(ctx, 0, 2)
    _rank(ctx, 1, 0)
    return [_ts.TensorShape([])]


def _spectrogram_shape(ctx: InferenceContext):
    # A missing attr (an imported NodeDef without it) is checked by apply_op/the importer before this runs.
    shape = _rank(ctx, 0, 2)
    window_size, stride = int(ctx.attrs["window_size"]), int(ctx.attrs["stride"])
    if window_size <= 1:
        raise ctx.error(f"window size must be > 1, got {window_size}")
    if stride <= 0:
        raise ctx.error(f"stride must be strictly positive, got {stride}")
    length, channels = shape.as_list()
    frames = None if length is None else spectrogram_length(length, window_size, stride)
    return [_ts.TensorShape([channels, frames, 1 + next_power_of_two(window_size) // 2])]


def _mfcc_shape(ctx: InferenceContext):
    shape = _rank(ctx, 0, 3)
    _rank(ctx, 1, 0)
    channels, frames, _ = shape.as_list()
    coefficients = int(ctx.attrs["dct_coefficient_count"])
    # TF's MakeDim of a negative count is an unknown dimension (the kernel then rejects the count).
    return [_ts.TensorShape([channels, frames, coefficients if coefficients >= 0 else None])]


defop("DecodeWav", "contents: string -> audio: float32, sample_rate: int32",
      attrs={"desired_channels": -1, "desired_samples": -1}, shape=_decode_wav_shape)
defop("EncodeWav", "audio: float32, sample_rate: int32 -> contents: string", shape=_encode_wav_shape)
defop("AudioSpectrogram", "input: float32 -> spectrogram: float32",
      attrs={"window_size": None, "stride": None, "magnitude_squared": False}, shape=_spectrogram_shape)
defop("Mfcc", "spectrogram: float32, sample_rate: int32 -> output: float32",
      attrs={"upper_frequency_limit": 4000.0, "lower_frequency_limit": 20.0, "filterbank_channel_count": 40,
             "dct_coefficient_count": 13}, shape=_mfcc_shape)

# What TF's generated wrapper returns for DecodeWav's two outputs.
DecodeWav = collections.namedtuple("DecodeWav", ["audio", "sample_rate"])


def decode_wav(contents, desired_channels: int = -1, desired_samples: int = -1,
               name: Optional[str] = None) -> DecodeWav:
    """`tf.audio.decode_wav`: a 16-bit PCM WAV string -> (float32 [samples, channels] in [-1, 1), int32 rate).

    `desired_channels` repeats the last channel or drops extra ones; `desired_samples` crops or zero-pads.
    """
    audio, sample_rate = apply_op("DecodeWav", [contents],
                                  {"desired_channels": int(desired_channels),
                                   "desired_samples": int(desired_samples)}, name=name)
    return DecodeWav(audio, sample_rate)


def encode_wav(audio, sample_rate, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.audio.encode_wav`: float32 [samples, channels] -> a 16-bit PCM WAV string (samples clamped)."""
    return apply_op("EncodeWav", [audio, sample_rate], name=name)


def audio_spectrogram(input, window_size: int, stride: int, magnitude_squared: bool = False,  # noqa: A002
                      name: Optional[str] = None) -> _ops.Tensor:
    """`gen_audio_ops.audio_spectrogram`: [samples, channels] -> [channels, frames, 1 + fft_length / 2]
    magnitudes (squared when `magnitude_squared`) of periodic-Hann-windowed FFTs."""
    attrs = {"window_size": int(window_size), "stride": int(stride), "magnitude_squared": bool(magnitude_squared)}
    return apply_op("AudioSpectrogram", [input], attrs, name=name)


def mfcc(spectrogram, sample_rate, upper_frequency_limit: float = 4000, lower_frequency_limit: float = 20,
         filterbank_channel_count: int = 40, dct_coefficient_count: int = 13,
         name: Optional[str] = None) -> _ops.Tensor:
    """`gen_audio_ops.mfcc`: a squared-magnitude spectrogram -> [channels, frames, dct_coefficient_count]
    mel-frequency cepstral coefficients (TF's HTK-style mel filterbank, log, DCT-II)."""
    attrs = {"upper_frequency_limit": float(upper_frequency_limit),
             "lower_frequency_limit": float(lower_frequency_limit),
             "filterbank_channel_count": int(filterbank_channel_count),
             "dct_coefficient_count": int(dct_coefficient_count)}
    return apply_op("Mfcc", [spectrogram, sample_rate], attrs, name=name)


__all__ = ["DecodeWav", "audio_spectrogram", "decode_wav", "encode_wav", "mfcc"]
