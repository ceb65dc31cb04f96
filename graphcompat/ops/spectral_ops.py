"""FFT ops and signal helpers (`tf.signal` / `tf.spectral`): FFT/IFFT (1-3 D), RFFT/IRFFT (1-3 D) with
TF's op types and attrs, `hann_window`, `hamming_window`, `frame` and `stft` composed from them.
Lowerings: lowering/rules/spectral.py.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math

COMPLEX = (_dt.complex64, _dt.complex128)
REAL = (_dt.float32, _dt.float64)
_RANKS = {"": 1, "2D": 2, "3D": 3}


def _at_least(ctx: InferenceContext, rank: int) -> _ts.TensorShape:
    shape = ctx.shape(0)
    if shape.ndims is not None and shape.ndims < rank:
        raise ctx.error(f"Shape must be at least rank {rank} but is rank {shape.ndims}")
    return shape


def _fft_shape(rank: int):
    return lambda ctx: [_at_least(ctx, rank)]


def _rfft_shape(rank: int, inverse: bool):
    def shape(ctx: InferenceContext):
        x = _at_least(ctx, rank)
        lengths = ctx.value(1)
        if x.ndims is None:
            return [_ts.unknown_shape()]
        dims = x.as_list()
        if lengths is None:
            return [_ts.TensorShape(dims[:-rank] + [None] * rank)]
        lengths = [int(v) for v in np.reshape(lengths, [-1])]
        if not inverse:
            lengths[-1] = lengths[-1] // 2 + 1
        return [_ts.TensorShape(dims[:-rank] + lengths)]
    return shape


for _suffix, _rank in _RANKS.items():
    defop(f"FFT{_suffix}", "input: Tcomplex -> output: Tcomplex", types={"Tcomplex": COMPLEX},
          shape=_fft_shape(_rank))
    defop(f"IFFT{_suffix}", "input: Tcomplex -> output: Tcomplex", types={"Tcomplex": COMPLEX},
          shape=_fft_shape(_rank))
    defop(f"RFFT{_suffix}", "input: Treal, fft_length: int32 -> output: Tcomplex",
          attrs={"Treal": _dt.float32, "Tcomplex": _dt.complex64}, types={"Treal": REAL, "Tcomplex": COMPLEX},
          shape=_rfft_shape(_rank, False))
    defop(f"IRFFT{_suffix}", "input: Tcomplex, fft_length: int32 -> output: Treal",
          attrs={"Treal": _dt.float32, "Tcomplex": _dt.complex64}, types={"Treal": REAL, "Tcomplex": COMPLEX},
          shape=_rfft_shape(_rank, True))


def _fft(op_type: str, tf_name: str):
    def fft(input, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
        return apply_op(op_type, [input], name=name)
    fft.__name__ = tf_name
    fft.__doc__ = f"`tf.signal.{tf_name}` ({op_type}) over the innermost dimension(s)."
    return fft


fft, ifft = _fft("FFT", "fft"), _fft("IFFT", "ifft")
fft2d, ifft2d = _fft("FFT2D", "fft2d"), _fft("IFFT2D", "ifft2d")
fft3d, ifft3d = _fft("FFT3D", "fft3d"), _fft("IFFT3D", "ifft3d")


def _rfft(rank: int, inverse: bool):
    op_type = ("IRFFT" if inverse else "RFFT") + {1: "", 2: "2D", 3: "3D"}[rank]
    tf_name = op_type.lower()

    def rfft(input_tensor, fft_length=None, name: Optional[str] = None) -> _ops.Tensor:
        with _ops.name_scope(name, tf_name, [input_tensor, fft_length]) as name:
            x = convert_to_tensor(input_tensor, _dt.complex64 if inverse and not isinstance(
                input_tensor, _ops.Tensor) else (None if isinstance(input_tensor, _ops.Tensor) else _dt.float32))
            real = x.dtype.base_dtype.real_dtype if inverse else x.dtype.base_dtype
            complex_dtype = x.dtype.base_dtype if inverse else (_dt.complex64 if real == _dt.float32
                                                                else _dt.complex128)
            if fft_length is None:
                dims = x.shape.as_list()[-rank:] if x.shape.ndims is not None else None
                if dims is None or any(d is None for d in dims):
                    raise NotImplementedError(f"tf.signal.{tf_name} without fft_length of an input whose inner "
                                              f"dimensions are unknown")
                if inverse:
                    dims[-1] = max(0, 2 * (dims[-1] - 1))
                fft_length = dims
            fft_length = convert_to_tensor(np.asarray(fft_length, np.int32) if not isinstance(
                fft_length, _ops.Tensor) else fft_length, _dt.int32, name="fft_length")
            return apply_op(op_type, [x, fft_length], {"Treal": real, "Tcomplex": complex_dtype}, name=name)
    rfft.__name__ = tf_name
    rfft.__doc__ = f"`tf.signal.{tf_name}` ({op_type}): fft_length defaults from the input's inner dimensions."
    return rfft


rfft, irfft = _rfft(1, False), _rfft(1, True)
rfft2d, irfft2d = _rfft(2, False), _rfft(2, True)
rfft3d, irfft3d = _rfft(3, False), _rfft(3, True)


def _raised_cosine(name: str, default: str, window_length, periodic, dtype, a: float, b: float):
    with _ops.name_scope(name, default, [window_length, periodic]):
        window_length = convert_to_tensor(window_length, _dt.int32, name="window_length")
        length = constant_value(window_length)
        if length is None:
            raise NotImplementedError(f"tf.signal.{default} of a window length known only at run time")
        length = int(length)
        periodic = bool(periodic)
        if length == 1:
            return _array.ones([1], dtype=dtype)
        even = 1 - length % 2
        n = float(length + int(periodic) * even - 1)
        count = _math.cast(_math.range(length), dtype)
        cos_arg = _math.cast(2.0 * np.pi / n, dtype) * count
        return _math.cast(a, dtype) - _math.cast(b, dtype) * _math.cos(cos_arg)


def hann_window(window_length, periodic: bool = True, dtype=_dt.float32, name: Optional[str] = None):
    """`tf.signal.hann_window`: 0.5 - 0.5 cos(2 pi n / N) (N = length for a periodic window, else length - 1)."""
    return _raised_cosine(name, "hann_window", window_length, periodic, _dt.as_dtype(dtype), 0.5, 0.5)


def hamming_window(window_length, periodic: bool = True, dtype=_dt.float32, name: Optional[str] = None):
    """`tf.signal.hamming_window`: 0.54 - 0.46 cos(2 pi n / N)."""
    return _raised_cosine(name, "hamming_window", window_length, periodic, _dt.as_dtype(dtype), 0.54, 0.46)


def frame(signal, frame_length: int, frame_step: int, pad_end: bool = False, pad_value=0, axis: int = -1,
          name: Optional[str] = None) -> _ops.Tensor:
    """`tf.signal.frame`: overlapping frames along `axis` (a gather of a constant index matrix; the length
    along `axis` must be known while building the graph)."""
    from graphcompat.ops.indexing_ops import gather, pad
    with _ops.name_scope(name, "frame", [signal, frame_length, frame_step, pad_value]):
        signal = convert_to_tensor(signal, name="signal")
        rank = signal.shape.ndims
        if rank is None or rank == 0:
            raise NotImplementedError("tf.signal.frame of a signal of unknown (or zero) rank")
        axis = axis % rank
        length = signal.shape.as_list()[axis]
        if length is None:
            raise NotImplementedError("tf.signal.frame of a signal whose length along `axis` is unknown")
        frame_length, frame_step = int(frame_length), int(frame_step)
        if pad_end:
            num_frames = -(-length // frame_step)
            needed = max(0, (num_frames - 1) * frame_step + frame_length - length)
            paddings = [[0, 0]] * rank
            paddings[axis] = [0, needed]
            signal = pad(signal, paddings, constant_values=pad_value)
        else:
            num_frames = max(0, 1 + (length - frame_length) // frame_step)
        index = (np.arange(num_frames)[:, None] * frame_step + np.arange(frame_length)[None, :]).astype(np.int32)
        return gather(signal, index, axis=axis)


def stft(signals, frame_length: int, frame_step: int, fft_length=None, window_fn=hann_window,
         pad_end: bool = False, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.signal.stft`: rfft of windowed frames of the innermost axis."""
    with _ops.name_scope(name, "stft", [signals, frame_length, frame_step]):
        signals = convert_to_tensor(signals, name="signals")
        if fft_length is None:
            fft_length = 1 << int(np.ceil(np.log2(int(frame_length))))
        framed = frame(signals, frame_length, frame_step, pad_end=pad_end)
        if window_fn is not None:
            framed = framed * window_fn(frame_length, dtype=framed.dtype.base_dtype)
        return rfft(framed, [int(fft_length)])


__all__ = ["fft", "ifft", "fft2d", "ifft2d", "fft3d", "ifft3d", "rfft", "irfft", "rfft2d", "irfft2d", "rfft3d",
           "irfft3d", "hann_window", "hamming_window", "frame", "stft"]
