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


# ------------------------------------------------------------------------------------------------
# N-dimensional FFTs (FFTND, IFFTND, RFFTND, IRFFTND): fft_length and axes are inputs
# ------------------------------------------------------------------------------------------------
def _fftnd_shape(real: bool, forward: bool):
    """The shape TF's kernel returns: the innermost len(axes) dimensions become fft_length (the last one
    fft_length // 2 + 1 for RFFTND). TF's own shape function claims the input's shape, which is wrong
    whenever fft_length differs from it; graphcompat gives the shape the run returns instead."""
    def shape(ctx: InferenceContext):
        x = ctx.shape(0)
        if x.ndims is not None and x.ndims < 1:
            raise ctx.error(f"Shape must be at least rank 1 but is rank {x.ndims}")
        if x.ndims is None:
            return [_ts.unknown_shape()]
        dims = x.as_list()
        lengths, axes = ctx.value(1), ctx.value(2)
        k = len(np.reshape(axes, [-1])) if axes is not None else ctx.shape(2).as_list()[0] if (
            ctx.shape(2).ndims == 1) else None
        if k is None or k > len(dims):
            return [_ts.TensorShape([None] * len(dims))]
        if lengths is None or len(np.reshape(lengths, [-1])) != k or k == 0:
            return [_ts.TensorShape(dims[:len(dims) - k] + [None] * k)]
        lengths = [int(v) for v in np.reshape(lengths, [-1])]
        if real and forward and lengths[-1] != 0:
            lengths[-1] = lengths[-1] // 2 + 1
        lengths = [n if n >= 0 else None for n in lengths]  # the run raises TF's error for a negative length
        return [_ts.TensorShape(dims[:len(dims) - k] + lengths)]
    return shape


defop("FFTND", "input: Tcomplex, fft_length: int32, axes: int32 -> output: Tcomplex", types={"Tcomplex": COMPLEX},
      shape=_fftnd_shape(False, True))
defop("IFFTND", "input: Tcomplex, fft_length: int32, axes: int32 -> output: Tcomplex",
      types={"Tcomplex": COMPLEX}, shape=_fftnd_shape(False, False))
defop("RFFTND", "input: Treal, fft_length: int32, axes: int32 -> output: Tcomplex",
      attrs={"Treal": _dt.float32, "Tcomplex": _dt.complex64}, types={"Treal": REAL, "Tcomplex": COMPLEX},
      shape=_fftnd_shape(True, True))
defop("IRFFTND", "input: Tcomplex, fft_length: int32, axes: int32 -> output: Treal",
      attrs={"Treal": _dt.float32, "Tcomplex": _dt.complex64}, types={"Treal": REAL, "Tcomplex": COMPLEX},
      shape=_fftnd_shape(True, False))


def _pad_for_fftnd(x: _ops.Tensor, fft_rank: int, fft_length, inverse_real: bool) -> _ops.Tensor:
    """TF's `_maybe_pad_for_rfft`: zero-pad the innermost `fft_rank` dimensions up to fft_length (the last
    one to fft_length // 2 + 1 for an inverse real FFT). Like TF, it pads the innermost dimensions
    whatever `axes` says (the kernel only accepts the innermost axes anyway)."""
    from graphcompat.framework.constant_op import constant_value_as_shape
    from graphcompat.ops.indexing_ops import pad
    if x.shape.ndims is not None and any(d == 0 for d in x.shape.as_list()):
        return x  # TF passes empty tensors through unpadded
    fft_shape = constant_value_as_shape(fft_length)
    if fft_shape.is_fully_defined() and x.shape.ndims is not None:
        inner = x.shape.as_list()[x.shape.ndims - fft_shape.ndims:] if fft_shape.ndims else []
        if all(d is not None for d in inner):
            target = fft_shape.as_list()
            if inverse_real and target:
                target[-1] = target[-1] // 2 + 1
            paddings = [[0, max(t - d, 0)] for t, d in zip(target, inner)]
            if any(p > 0 for _, p in paddings):
                outer = [[0, 0]] * max(x.shape.ndims - fft_shape.ndims, 0)
                return pad(x, outer + paddings)
            return x
    # Paddings known only at run time (a zero padding is a no-op there, as TF's).
    fft_length = convert_to_tensor(fft_length, _dt.int32)
    rank = _array.rank(x)
    inner = _array.shape(x)[-fft_rank:]
    outer = _array.zeros([_math.maximum(0, rank - fft_rank)], fft_length.dtype)
    if inverse_real:
        fft_length = _array.concat([fft_length[:-1], fft_length[-1:] // 2 + 1], 0)
    paddings = _array.concat([outer, _math.maximum(0, fft_length - inner)], 0)
    return pad(x, _array.stack([_array.zeros_like(paddings), paddings], axis=1))


def _fftnd(op_type: str, tf_name: str):
    real = op_type.startswith(("RFFT", "IRFFT"))
    inverse = op_type.startswith("I")

    def fftnd(input_tensor, fft_length=None, axes=None, norm: Optional[str] = None,
              name: Optional[str] = None) -> _ops.Tensor:
        with _ops.name_scope(name, tf_name, [input_tensor, fft_length, axes]) as name:
            preferred = _dt.float32 if real and not inverse else _dt.complex64
            x = input_tensor if isinstance(input_tensor, _ops.Tensor) else convert_to_tensor(
                input_tensor, preferred)
            if x.shape.ndims is None and (axes is None or fft_length is None):
                raise ValueError("Cannot take the length of shape with unknown rank.")
            # TF's order: axes (all of the input's axes by default), then fft_length.
            axes = convert_to_tensor(np.arange(x.shape.ndims, dtype=np.int32) if axes is None else (
                axes if isinstance(axes, _ops.Tensor) else np.asarray(axes, np.int32)), _dt.int32)
            fft_rank = axes.shape.as_list()[0] if axes.shape.ndims == 1 else None
            if fft_rank is None:
                raise NotImplementedError(f"tf.signal.{tf_name} with `axes` of unknown length")
            if x.shape.ndims is not None and x.shape.ndims < fft_rank:
                raise ValueError(f"Shape {x.shape} must have rank at least {fft_rank}")
            if real and not inverse:
                if x.dtype.base_dtype not in REAL:
                    raise ValueError(f"RFFT requires tf.float32 or tf.float64 inputs, got: {x}")
                real_dtype = x.dtype.base_dtype
                complex_dtype = _dt.complex64 if real_dtype == _dt.float32 else _dt.complex128
            else:
                if real and x.dtype.base_dtype not in COMPLEX:
                    raise ValueError(f"IRFFT requires tf.complex64 or tf.complex128 inputs, got: {x}")
                complex_dtype = x.dtype.base_dtype
                real_dtype = complex_dtype.real_dtype
            if fft_length is None:
                rank = x.shape.ndims
                if real and inverse:
                    # TF reads the static shape here (an unknown dimension fails in TF as well).
                    dims = x.shape.as_list()
                    if any(d is None for d in dims):
                        raise ValueError(f"tf.signal.{tf_name} without fft_length needs the input's static "
                                         f"shape, got {x.shape}")
                    if dims:
                        dims[-1] = max(0, 2 * (dims[-1] - 1))
                    fft_length = convert_to_tensor(np.asarray(dims, np.int32), _dt.int32)
                else:
                    fft_length = _array.shape(x)[-rank:]
            else:
                fft_length = fft_length if isinstance(fft_length, _ops.Tensor) else np.asarray(fft_length)
                fft_length = convert_to_tensor(fft_length, _dt.int32)
            x = _pad_for_fftnd(x, fft_rank, fft_length, real and inverse)
            static = constant_value(fft_length)
            if static is not None and fft_length.op.type == "Const":
                fft_length = static  # TF passes a static fft_length as a Const named fft_length
            if norm is None:
                norm = "backward"
            if norm != "backward":
                n = 1
                for length in fft_length:  # a Tensor here raises TF's TypeError (not iterable in graphs)
                    n *= length
                if norm == "forward":
                    x = x * n if inverse else x / n
                elif norm == "ortho":
                    x = x * np.sqrt(n) if inverse else x / np.sqrt(n)
            if not isinstance(fft_length, _ops.Tensor):
                fft_length = convert_to_tensor(np.asarray(fft_length, np.int32), _dt.int32, name="fft_length")
            attrs = {"Treal": real_dtype, "Tcomplex": complex_dtype} if real else {}
            return apply_op(op_type, [x, fft_length, axes], attrs, name=name)
    fftnd.__name__ = tf_name
    fftnd.__doc__ = (f"`tf.signal.{tf_name}` ({op_type}): an N-D FFT over `axes` (default: all axes), which "
                     f"TF's kernel requires to be the innermost ones, ascending; `norm` is 'backward' "
                     f"(default), 'forward' or 'ortho'.")
    return fftnd


fftnd, ifftnd = _fftnd("FFTND", "fftnd"), _fftnd("IFFTND", "ifftnd")
rfftnd, irfftnd = _fftnd("RFFTND", "rfftnd"), _fftnd("IRFFTND", "irfftnd")


# tf.fftnd & co. (compat.v1's top level) are TF's raw op wrappers: every input required, no padding, no norm.
def raw_fftnd(input, fft_length, axes, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.fftnd`: the FFTND op itself."""
    return apply_op("FFTND", [input, fft_length, axes], name=name)


def raw_ifftnd(input, fft_length, axes, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.ifftnd`: the IFFTND op itself."""
    return apply_op("IFFTND", [input, fft_length, axes], name=name)


def raw_rfftnd(input, fft_length, axes, Tcomplex=_dt.complex64,  # noqa: A002,N803 (TF's names)
               name: Optional[str] = None) -> _ops.Tensor:
    """`tf.rfftnd`: the RFFTND op itself (Tcomplex is not derived from the input, as in TF)."""
    return apply_op("RFFTND", [input, fft_length, axes], {"Tcomplex": _dt.as_dtype(Tcomplex)}, name=name)


def raw_irfftnd(input, fft_length, axes, Treal=_dt.float32,  # noqa: A002,N803 (TF's names)
                name: Optional[str] = None) -> _ops.Tensor:
    """`tf.irfftnd`: the IRFFTND op itself (Treal is not derived from the input, as in TF)."""
    return apply_op("IRFFTND", [input, fft_length, axes], {"Treal": _dt.as_dtype(Treal)}, name=name)


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
           "irfft3d", "fftnd", "ifftnd", "rfftnd", "irfftnd", "hann_window", "hamming_window", "frame", "stft"]
