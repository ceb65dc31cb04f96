"""`tf.signal` (and `tf.spectral`): FFTs, windows, framing and the short-time Fourier transform."""
from graphcompat.ops.spectral_ops import (fft, fft2d, fft3d, frame, hamming_window, hann_window, ifft,  # noqa: F401
                                          ifft2d, ifft3d, irfft, irfft2d, irfft3d, rfft, rfft2d, rfft3d, stft)


def __getattr__(name):
    from graphcompat import compat
    return compat.missing(__name__, name)
