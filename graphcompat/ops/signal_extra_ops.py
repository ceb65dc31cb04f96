"""More of `tf.signal`: DCT I-IV and their inverses, fftshift/ifftshift, overlap_and_add, inverse_stft (+ its
window), Kaiser / Kaiser-Bessel-derived / Vorbis windows, linear_to_mel_weight_matrix and MFCCs — TF 2.21's
composites of existing ops (tensorflow/python/ops/signal/*.py): no new op types.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor


def _array():
    from graphcompat.ops import array_ops
    return array_ops


def _math():
    from graphcompat.ops import math_ops
    return math_ops


def _pad(x, paddings, constant_values=0, name: Optional[str] = None):
    from graphcompat.ops.indexing_ops import pad
    return pad(x, paddings, constant_values=constant_values, name=name)


# ------------------------------------------------------------------------------------------------
# DCT
# ------------------------------------------------------------------------------------------------
def _validate_dct(x, dct_type: int, n, axis: int, norm) -> None:
    if axis != -1:
        raise NotImplementedError(f"axis must be -1. Got: {axis}")
    if n is not None and n < 1:
        raise ValueError("n should be a positive integer or None")
    if dct_type not in (1, 2, 3, 4):
        raise ValueError("Types I, II, III and IV (I)DCT are supported.")
    if dct_type == 1:
        if norm == "ortho":
            raise ValueError("Normalization is not supported for the Type-I DCT.")
        last = x.shape[-1].value if x.shape.ndims else None
        if last is not None and last < 2:
            raise ValueError("Type-I DCT requires the dimension to be greater than one.")
    if norm not in (None, "ortho"):
        raise ValueError(f"Unknown normalization. Expected None or 'ortho', got: {norm}")


def _dct(x, dct_type: int, n, norm, name):
    from graphcompat.ops import spectral_ops
    from graphcompat.ops.math_extra_ops import complex as _complex
    a, m = _array(), _math()
    with _ops.name_scope(name, "dct", [x]):
        x = convert_to_tensor(x)
        zero = convert_to_tensor(0.0, dtype=x.dtype)
        seq_len = x.shape[-1].value or a.shape(x)[-1]
        if n is not None:
            if isinstance(seq_len, int) and n <= seq_len:
                x = x[..., 0:n]
            elif isinstance(seq_len, int):
                rank = x.shape.ndims
                padding = [[0, 0] for _ in range(rank)]
                padding[rank - 1][1] = n - seq_len
                x = _pad(x, convert_to_tensor(padding, dtype=_dt.int32))
            else:
                raise NotImplementedError("tf.signal.dct with `n` of an input whose last dimension is unknown")
        axis_dim = x.shape[-1].value or a.shape(x)[-1]
        axis_dim_float = m.cast(axis_dim, x.dtype)
        if dct_type == 1:
            return m.real(spectral_ops.rfft(a.concat([x, x[..., -2:0:-1]], axis=-1)))
        if dct_type == 2:
            scale = 2.0 * m.exp(_complex(zero, -m.range(axis_dim_float) * math.pi * 0.5 / axis_dim_float))
            dct2 = m.real(spectral_ops.rfft(x, fft_length=[2 * axis_dim])[..., :axis_dim] * scale)
            if norm == "ortho":
                n1 = 0.5 * m.rsqrt(axis_dim_float)
                n2 = n1 * math.sqrt(2.0)
                dct2 *= _pad(a.expand_dims(n1, 0), [[0, axis_dim - 1]], constant_values=n2)
            return dct2
        if dct_type == 3:
            if norm == "ortho":
                n1 = m.sqrt(axis_dim_float)
                n2 = n1 * math.sqrt(0.5)
                x *= _pad(a.expand_dims(n1, 0), [[0, axis_dim - 1]], constant_values=n2)
            else:
                x *= axis_dim_float
            scale = 2.0 * m.exp(_complex(zero, m.range(axis_dim_float) * math.pi * 0.5 / axis_dim_float))
            return m.real(spectral_ops.irfft(scale * _complex(x, zero), fft_length=[2 * axis_dim]))[..., :axis_dim]
        dct2 = _dct(x, 2, 2 * axis_dim, None, None)
        dct4 = dct2[..., 1::2]
        if norm == "ortho":
            dct4 *= math.sqrt(0.5) * m.rsqrt(axis_dim_float)
        return dct4


def dct(input, type: int = 2, n=None, axis: int = -1, norm=None, name: Optional[str] = None):  # noqa: A002
    """`tf.signal.dct`: the DCT of types I-IV along the last axis (TF's rfft-based composite)."""
    x = convert_to_tensor(input)
    _validate_dct(x, type, n, axis, norm)
    return _dct(x, type, n, norm, name)


def idct(input, type: int = 2, n=None, axis: int = -1, norm=None, name: Optional[str] = None):  # noqa: A002
    """`tf.signal.idct`: the inverse DCT (type II ↔ III; scaled by 1/(2N) unless norm="ortho", as TF)."""
    x = convert_to_tensor(input)
    _validate_dct(x, type, n, axis, norm)
    return _dct(x, {1: 1, 2: 3, 3: 2, 4: 4}[type], n, norm, name)


# ------------------------------------------------------------------------------------------------
# fftshift, overlap_and_add, inverse_stft
# ------------------------------------------------------------------------------------------------
def _shift(x, axes, name, default: str, inverse: bool):
    from graphcompat.ops.indexing_ops import gather, roll
    a, m = _array(), _math()
    with _ops.name_scope(name, default) as scope:
        x = convert_to_tensor(x)
        if axes is None:
            axes = tuple(range(x.shape.ndims))
            size = a.shape(x)
        elif isinstance(axes, int):
            size = a.shape(x)[axes]
        else:
            rank = a.rank(x)
            axes = m.where(m.less(axes, 0), axes + rank, axes)
            size = gather(a.shape(x), axes)
        shift = -(size // 2) if inverse else size // 2
        return roll(x, shift, axes, scope)


def fftshift(x, axes=None, name: Optional[str] = None):
    """`tf.signal.fftshift`: the zero-frequency term moved to the centre."""
    return _shift(x, axes, name, "fftshift", False)


def ifftshift(x, axes=None, name: Optional[str] = None):
    """`tf.signal.ifftshift`: the inverse of fftshift."""
    return _shift(x, axes, name, "ifftshift", True)


def overlap_and_add(signal, frame_step, name: Optional[str] = None):
    """`tf.signal.overlap_and_add`: [..., frames, frame_length] frames, frame_step apart, summed into a signal."""
    a, m = _array(), _math()
    with _ops.name_scope(name, "overlap_and_add", [signal, frame_step]):
        signal = convert_to_tensor(signal, name="signal")
        if signal.shape.ndims is not None and signal.shape.ndims < 2:
            raise ValueError(f"Shape {signal.shape} must have rank at least 2")
        frame_step = convert_to_tensor(frame_step, name="frame_step")
        if frame_step.shape.ndims not in (None, 0):
            raise ValueError(f"Shape {frame_step.shape} must have rank 0")
        if not frame_step.dtype.is_integer:
            raise ValueError(f"frame_step must be an integer. Got {frame_step.dtype}")
        step_static = constant_value(frame_step)
        step = int(step_static) if step_static is not None else frame_step
        shape = a.shape(signal)
        static = constant_value(shape)
        if static is not None:
            shape = static
        outer = shape[:-2]
        outer_rank = len(outer) if static is not None else a.size(outer)

        def full_shape(inner):
            return a.concat([outer, inner], 0) if static is None else list(outer) + list(inner)

        frame_length, frames = shape[-1], shape[-2]
        output_length = frame_length + step * (frames - 1)
        if step_static is not None and signal.shape.ndims is not None and step == signal.shape[-1].value:
            return a.reshape(signal, full_shape([output_length]), name="fast_path")
        segments = -(-frame_length // step)
        paddings = [[0, segments], [0, segments * step - frame_length]]
        if static is not None:
            paddings = [[0, 0]] * outer_rank + [[int(p) for p in row] for row in paddings]
        else:
            paddings = a.concat([a.zeros([outer_rank, 2], _dt.int32), paddings], 0)
        signal = _pad(signal, paddings)
        signal = a.reshape(signal, full_shape([frames + segments, segments, step]))
        if static is not None:
            perm = list(range(outer_rank)) + [outer_rank + 1, outer_rank, outer_rank + 2]
        else:
            perm = a.concat([m.range(outer_rank), outer_rank + np.array([1, 0, 2], np.int32)], 0)
        signal = a.transpose(signal, perm)
        signal = a.reshape(signal, full_shape([(frames + segments) * segments, step]))
        signal = signal[..., :(frames + segments - 1) * segments, :]
        signal = a.reshape(signal, full_shape([segments, (frames + segments - 1), step]))
        signal = m.reduce_sum(signal, -3)
        signal = a.reshape(signal, full_shape([(frames + segments - 1) * step]))
        return signal[..., :output_length]


def _enclosing_power_of_two(value):
    static = constant_value(value)
    if static is not None:
        return convert_to_tensor(int(2 ** np.ceil(np.log(static) / np.log(2.0))), value.dtype)
    m = _math()
    return m.cast(m.pow(2.0, m.ceil(m.log(m.cast(value, _dt.float32)) / m.log(2.0))), value.dtype)


def inverse_stft(stfts, frame_length, frame_step, fft_length=None, window_fn="hann", name: Optional[str] = None):
    """`tf.signal.inverse_stft`: irfft of each frame, windowed, overlap-added (use
    `inverse_stft_window_fn(frame_step)` as window_fn for perfect reconstruction)."""
    from graphcompat.ops import spectral_ops
    a, m = _array(), _math()
    if isinstance(window_fn, str):
        window_fn = spectral_ops.hann_window
    with _ops.name_scope(name, "inverse_stft", [stfts]):
        stfts = convert_to_tensor(stfts, name="stfts")
        if stfts.shape.ndims is not None and stfts.shape.ndims < 2:
            raise ValueError(f"Shape {stfts.shape} must have rank at least 2")
        frame_length = convert_to_tensor(frame_length, name="frame_length")
        frame_step = convert_to_tensor(frame_step, name="frame_step")
        fft_length = _enclosing_power_of_two(frame_length) if fft_length is None else \
            convert_to_tensor(fft_length, name="fft_length")
        fft_static = constant_value(fft_length)
        real_frames = spectral_ops.irfft(stfts, [int(fft_static)] if fft_static is not None else
                                         a.reshape(fft_length, [1]))
        fl = constant_value(frame_length)
        if fl is None or real_frames.shape.ndims is None or real_frames.shape[-1].value is None:
            raise NotImplementedError("tf.signal.inverse_stft with a frame_length or fft_length computed in the graph")
        fl = int(fl)
        have = real_frames.shape[-1].value
        if have > fl:
            real_frames = real_frames[..., :fl]
        elif have < fl:
            real_frames = _pad(real_frames, [[0, 0]] * (real_frames.shape.ndims - 1) + [[0, fl - have]])
        real_frames.set_shape([None] * (real_frames.shape.ndims - 1) + [fl])
        if window_fn is not None:
            real_frames *= window_fn(frame_length, dtype=stfts.dtype.real_dtype)
        return overlap_and_add(real_frames, frame_step)


def inverse_stft_window_fn(frame_step, forward_window_fn="hann", name: Optional[str] = None):
    """`tf.signal.inverse_stft_window_fn`: the window that makes inverse_stft invert stft (forward_window_fn
    normalised by the overlapping squared windows)."""
    from graphcompat.ops import spectral_ops
    if isinstance(forward_window_fn, str):
        forward_window_fn = spectral_ops.hann_window

    def inner(frame_length, dtype):
        a, m = _array(), _math()
        with _ops.name_scope(name, "inverse_stft_window_fn", []):
            step = convert_to_tensor(frame_step, name="frame_step")
            length = convert_to_tensor(frame_length, name="frame_length")
            forward = forward_window_fn(length, dtype=dtype)
            denom = m.square(forward)
            overlaps = -(-length // step)
            denom = _pad(denom, a.reshape(a.stack([0, overlaps * step - length]), [1, 2]))
            denom = a.reshape(denom, a.stack([overlaps, step]))
            denom = m.reduce_sum(denom, 0, keepdims=True)
            denom = a.tile(denom, a.stack([overlaps, 1]))
            denom = a.reshape(denom, a.reshape(overlaps * step, [1]))
            denom = denom[:length]
            return m.where(m.equal(denom, 0.0), a.zeros_like(forward), forward / denom)
    return inner


# ------------------------------------------------------------------------------------------------
# Windows
# ------------------------------------------------------------------------------------------------
def _check_window(window_length, dtype):
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"dtype must be a floating point type. Found {dtype}")
    window_length = convert_to_tensor(window_length, dtype=_dt.int32)
    if window_length.shape.ndims not in (None, 0):
        raise ValueError(f"Shape {window_length.shape} must have rank 0")
    return window_length, dtype


def kaiser_window(window_length, beta=12., dtype=_dt.float32, name: Optional[str] = None):
    """`tf.signal.kaiser_window`: I0(beta * sqrt(1 - (2n/(N-1) - 1)^2)) / I0(beta), via bessel_i0e."""
    from graphcompat.nn import nn_ops
    from graphcompat.ops.math_extra_ops import bessel_i0e
    a, m = _array(), _math()
    with _ops.name_scope(name, "kaiser_window"):
        window_length, dtype = _check_window(window_length, dtype)
        if constant_value(window_length) == 1:
            return a.ones([1], dtype=dtype)
        half = (m.cast(window_length, dtype=_dt.float32) - 1.0) / 2.0
        arg = m.cast(m.range(-half, half + 0.1, dtype=_dt.float32), dtype=dtype)
        beta = m.cast(beta, dtype=dtype)
        one = m.cast(1.0, dtype=dtype)
        half = m.cast(half, dtype=dtype)
        num = beta * m.sqrt(nn_ops.relu(one - m.square(arg / half)))
        return m.exp(num - beta) * (bessel_i0e(num) / bessel_i0e(beta))


def kaiser_bessel_derived_window(window_length, beta=12., dtype=_dt.float32, name: Optional[str] = None):
    """`tf.signal.kaiser_bessel_derived_window`: the KBD window (for MDCTs)."""
    a, m = _array(), _math()
    with _ops.name_scope(name, "kaiser_bessel_derived_window"):
        window_length, dtype = _check_window(window_length, dtype)
        halflen = window_length // 2
        csum = m.cumsum(kaiser_window(halflen + 1, beta, dtype=dtype))
        halfw = m.sqrt(csum[:-1] / csum[-1])
        return a.concat((halfw, halfw[::-1]), axis=0)


def vorbis_window(window_length, dtype=_dt.float32, name: Optional[str] = None):
    """`tf.signal.vorbis_window`: sin(pi/2 * sin^2(pi * (n + 0.5) / N))."""
    m = _math()
    with _ops.name_scope(name, "vorbis_window"):
        window_length, dtype = _check_window(window_length, dtype)
        arg = m.cast(m.range(window_length), dtype=dtype)
        return m.sin(np.pi / 2.0 * m.pow(m.sin(np.pi / m.cast(window_length, dtype=dtype) * (arg + 0.5)), 2.0))


# ------------------------------------------------------------------------------------------------
# Mel filterbank and MFCCs
# ------------------------------------------------------------------------------------------------
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _hertz_to_mel(frequencies_hertz, name: Optional[str] = None):
    m = _math()
    with _ops.name_scope(name, "hertz_to_mel", [frequencies_hertz]):
        frequencies_hertz = convert_to_tensor(frequencies_hertz)
        return _MEL_HIGH_FREQUENCY_Q * m.log(1.0 + (frequencies_hertz / _MEL_BREAK_FREQUENCY_HERTZ))


def linear_to_mel_weight_matrix(num_mel_bins: int = 20, num_spectrogram_bins: int = 129, sample_rate=8000,
                                lower_edge_hertz: float = 125.0, upper_edge_hertz: float = 3800.0,
                                dtype=_dt.float32, name: Optional[str] = None):
    """`tf.signal.linear_to_mel_weight_matrix`: [num_spectrogram_bins, num_mel_bins] triangular mel filters
    (HTK mel scale), as TF computes them."""
    from graphcompat.ops.spectral_ops import frame
    a, m = _array(), _math()
    dtype = _dt.as_dtype(dtype)
    with _ops.name_scope(name, "linear_to_mel_weight_matrix") as scope:
        if isinstance(sample_rate, _ops.Tensor):
            value = constant_value(sample_rate)
            if value is not None:
                sample_rate = value
        if num_mel_bins <= 0:
            raise ValueError(f"num_mel_bins must be positive. Got: {num_mel_bins}")
        if lower_edge_hertz < 0.0:
            raise ValueError(f"lower_edge_hertz must be non-negative. Got: {lower_edge_hertz}")
        if lower_edge_hertz >= upper_edge_hertz:
            raise ValueError(f"lower_edge_hertz {lower_edge_hertz:.1f} >= upper_edge_hertz {upper_edge_hertz:.1f}")
        if not isinstance(sample_rate, _ops.Tensor):
            if sample_rate <= 0.0:
                raise ValueError(f"sample_rate must be positive. Got: {sample_rate}")
            if upper_edge_hertz > sample_rate / 2:
                raise ValueError("upper_edge_hertz must not be larger than the Nyquist frequency (sample_rate / 2). "
                                 f"Got {upper_edge_hertz} for sample_rate: {sample_rate}")
        if not dtype.is_floating:
            raise ValueError(f"dtype must be a floating point type. Got: {dtype}")
        sample_rate = m.cast(sample_rate, dtype, name="sample_rate")
        lower = convert_to_tensor(lower_edge_hertz, dtype, name="lower_edge_hertz")
        upper = convert_to_tensor(upper_edge_hertz, dtype, name="upper_edge_hertz")
        zero = convert_to_tensor(0.0, dtype)
        nyquist = sample_rate / 2.0
        linear_frequencies = m.linspace(zero, nyquist, num_spectrogram_bins)[1:]
        spectrogram_bins_mel = a.expand_dims(_hertz_to_mel(linear_frequencies), 1)
        band_edges_mel = frame(m.linspace(_hertz_to_mel(lower), _hertz_to_mel(upper), num_mel_bins + 2),
                               frame_length=3, frame_step=1)
        lower_mel, center_mel, upper_mel = tuple(a.reshape(t, [1, num_mel_bins])
                                                 for t in a.split(band_edges_mel, 3, axis=1))
        lower_slopes = (spectrogram_bins_mel - lower_mel) / (center_mel - lower_mel)
        upper_slopes = (upper_mel - spectrogram_bins_mel) / (upper_mel - center_mel)
        weights = m.maximum(zero, m.minimum(lower_slopes, upper_slopes))
        return _pad(weights, [[1, 0], [0, 0]], name=scope)


def mfccs_from_log_mel_spectrograms(log_mel_spectrograms, name: Optional[str] = None):
    """`tf.signal.mfccs_from_log_mel_spectrograms`: the orthonormal-scaled DCT-II of log-mel spectrograms."""
    a, m = _array(), _math()
    with _ops.name_scope(name, "mfccs_from_log_mel_spectrograms", [log_mel_spectrograms]):
        x = convert_to_tensor(log_mel_spectrograms)
        if x.shape.ndims and x.shape[-1].value is not None:
            num_mel_bins = x.shape[-1].value
            if num_mel_bins == 0:
                raise ValueError(f"num_mel_bins must be positive. Got: {x}")
        else:
            num_mel_bins = a.shape(x)[-1]
        dct2 = dct(x, type=2)
        return dct2 * m.rsqrt(m.cast(num_mel_bins, dct2.dtype) * 2.0)


__all__ = ["dct", "idct", "fftshift", "ifftshift", "overlap_and_add", "inverse_stft", "inverse_stft_window_fn",
           "kaiser_window", "kaiser_bessel_derived_window", "vorbis_window", "linear_to_mel_weight_matrix",
           "mfccs_from_log_mel_spectrograms"]


# ------------------------------------------------------------------------------------------------
# MDCT
# ------------------------------------------------------------------------------------------------
def mdct(signals, frame_length, window_fn="vorbis", pad_end: bool = False, norm=None, name: Optional[str] = None):
    """`tf.signal.mdct`: the modified DCT of frames of `signals` (50% overlap), via a type-IV DCT as TF does."""
    from graphcompat.ops.spectral_ops import frame
    a = _array()
    if isinstance(window_fn, str):
        window_fn = vorbis_window
    with _ops.name_scope(name, "mdct", [signals, frame_length]):
        signals = convert_to_tensor(signals, name="signals")
        if signals.shape.ndims is not None and signals.shape.ndims < 1:
            raise ValueError(f"Shape {signals.shape} must have rank at least 1")
        frame_length = convert_to_tensor(frame_length, name="frame_length")
        static = constant_value(frame_length)
        if static is None:
            raise NotImplementedError("tf.signal.mdct with a frame_length computed in the graph")
        if static % 4 != 0:
            raise ValueError("The frame length must be a multiple of 4.")
        framed = frame(signals, int(static), int(static) // 2, pad_end=pad_end)
        if window_fn is not None:
            framed *= window_fn(frame_length, dtype=framed.dtype)
        else:
            framed *= 1.0 / np.sqrt(2)
        split = a.split(framed, 4, axis=-1)
        from graphcompat.ops.indexing_ops import reverse
        first = -reverse(split[2], [-1]) - split[3]
        second = split[0] - reverse(split[1], [-1])
        return dct(a.concat((first, second), axis=-1), type=4, norm=norm)


def inverse_mdct(mdcts, window_fn="vorbis", norm=None, name: Optional[str] = None):
    """`tf.signal.inverse_mdct`: frames from their MDCT, windowed and overlap-added (Princen-Bradley)."""
    from graphcompat.ops.indexing_ops import reverse
    a, m = _array(), _math()
    if isinstance(window_fn, str):
        window_fn = vorbis_window
    with _ops.name_scope(name, "inverse_mdct", [mdcts]):
        mdcts = convert_to_tensor(mdcts, name="mdcts")
        if mdcts.shape.ndims is not None and mdcts.shape.ndims < 2:
            raise ValueError(f"Shape {mdcts.shape} must have rank at least 2")
        if mdcts.shape[-1].value is None:
            raise NotImplementedError("tf.signal.inverse_mdct of frames of unknown length")
        half_len = m.cast(mdcts.shape[-1].value, dtype=_dt.int32)
        if norm is None:
            result = (0.5 / m.cast(half_len, dtype=mdcts.dtype)) * dct(mdcts, type=4)
        elif norm == "ortho":
            result = dct(mdcts, type=4, norm="ortho")
        else:
            raise ValueError(f"Unknown normalization. Expected None or 'ortho', got: {norm}")
        split = a.split(result, 2, axis=-1)
        frames = a.concat((split[1], -reverse(split[1], [-1]), -reverse(split[0], [-1]), -split[0]), axis=-1)
        if window_fn is not None:
            frames *= window_fn(2 * half_len, dtype=mdcts.dtype)
        else:
            frames *= 1.0 / np.sqrt(2)
        return overlap_and_add(frames, half_len)


__all__ += ["mdct", "inverse_mdct"]
