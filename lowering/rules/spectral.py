"""Lowerings of graphcompat/ops/spectral_ops.py: jnp.fft over the innermost 1-3 axes (N for the
*ND ops). RFFT/IRFFT crop
or zero-pad the input to fft_length, as TF's kernels do; fft_length must be static (a constant, or
the plan runs op by op)."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.interpreter import require
from lowering.registry import lowers

_AXES = {"": (-1,), "2D": (-2, -1), "3D": (-3, -2, -1)}


def _complex_rule(inverse: bool, axes):
    def rule(x, **_):
        x = jnp.asarray(x)
        out = (jnp.fft.ifftn if inverse else jnp.fft.fftn)(x, axes=axes)
        return out.astype(x.dtype)
    return rule


def _real_rule(inverse: bool, axes):
    def rule(x, fft_length, *, Treal=np.float32, Tcomplex=np.complex64, **_):
        lengths = [int(v) for v in np.asarray(fft_length).reshape(-1)]  # static, or the plan runs op by op
        require(len(lengths) == len(axes), errors.InvalidArgumentError,
                lambda: f"fft_length must be length {len(axes)} vector, got: [{len(lengths)}]")
        for n in lengths:
            require(n >= 0, errors.InvalidArgumentError, lambda n=n: f"fft_length must be non-negative: {n}")
        x = jnp.asarray(x)
        if inverse:
            return jnp.fft.irfftn(x.astype(Tcomplex), s=lengths, axes=axes).astype(Treal)
        return jnp.fft.rfftn(x.astype(Treal), s=lengths, axes=axes).astype(Tcomplex)
    return rule


for _suffix, _axes in _AXES.items():
    lowers(f"FFT{_suffix}")(_complex_rule(False, _axes))
    lowers(f"IFFT{_suffix}")(_complex_rule(True, _axes))
    lowers(f"RFFT{_suffix}")(_real_rule(False, _axes))
    lowers(f"IRFFT{_suffix}")(_real_rule(True, _axes))


def _debug_shape(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _nd_rule(real: bool, forward: bool):
    """FFTND and kin, as TF's kernel (FFTNBase): `axes` must be the innermost axes in ascending order,
    fft_length has one entry per axis, and the innermost dimensions become fft_length (the last one
    fft_length // 2 + 1 for RFFTND). The input is cropped to fft_length or zero-padded up to it."""
    def rule(x, fft_length, axes, *, Treal=np.float32, Tcomplex=np.complex64, **_):
        x = jnp.asarray(x)
        rank = x.ndim
        axes = [int(a) for a in np.asarray(axes).reshape(-1)]  # static, or the plan runs op by op
        lengths = np.asarray(fft_length)
        k = len(axes)
        require(rank >= k, errors.InvalidArgumentError,
                lambda: f"Input must have rank of at least {k} but got: {_debug_shape(x.shape)}")
        norm = [a + rank if a < 0 else a for a in axes]
        for i in range(1, k):
            require(norm[i - 1] + 1 == norm[i], errors.InvalidArgumentError,
                    lambda: "axes must be successive and ascending.")
        require(k > 0 and norm[-1] == rank - 1, errors.InvalidArgumentError,
                lambda: "The last axis to perform transform on must be -1.")
        require(lengths.ndim == 1 and lengths.shape[0] == k, errors.InvalidArgumentError,
                lambda: f"fft_length must have shape [{k}], but got: "
                        f"{lengths.shape[0] if lengths.ndim else 0}.")
        lengths = [int(v) for v in lengths]
        out_shape = list(x.shape)
        for i, n in enumerate(lengths):
            require(n >= 0, errors.InvalidArgumentError, lambda i=i, n=n: f"fft_length[{i}] must >= 0, but got: {n}")
            index = rank - k + i
            if real:
                least = n // 2 + 1 if not forward and i == k - 1 else n
                require(x.shape[index] == 0 or x.shape[index] >= least, errors.InvalidArgumentError,
                        lambda index=index, least=least: f"Input dimension {index} must have length of at least "
                                                         f"{least} but got: {x.shape[index]}")
            out_shape[index] = n // 2 + 1 if real and forward and i == k - 1 and n != 0 else n
        out_dtype = (Tcomplex if forward else Treal) if real else x.dtype
        inner = tuple(range(rank - k, rank))
        if x.size == 0 or any(d == 0 for d in out_shape):
            return jnp.zeros(out_shape, out_dtype)  # TF allocates the output and computes nothing
        if real and forward:
            return jnp.fft.rfftn(x.astype(Treal), s=lengths, axes=inner).astype(Tcomplex)
        if real:
            return jnp.fft.irfftn(x.astype(Tcomplex), s=lengths, axes=inner).astype(Treal)
        return (jnp.fft.fftn if forward else jnp.fft.ifftn)(x, s=lengths, axes=inner).astype(x.dtype)
    return rule


lowers("FFTND")(_nd_rule(False, True))
lowers("IFFTND")(_nd_rule(False, False))
lowers("RFFTND")(_nd_rule(True, True))
lowers("IRFFTND")(_nd_rule(True, False))
