"""Lowerings of graphcompat/ops/spectral_ops.py: jnp.fft over the innermost 1-3 axes. RFFT/IRFFT crop
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
