"""`tf.signal` (and `tf.spectral`): FFTs, windows, framing and the short-time Fourier transform."""
from graphcompat.ops.spectral_ops import (fft, fft2d, fft3d, frame, hamming_window, hann_window, ifft,  # noqa: F401
                                          ifft2d, ifft3d, irfft, irfft2d, irfft3d, rfft, rfft2d, rfft3d, stft)
from graphcompat.ops.spectral_ops import fftnd, ifftnd, irfftnd, rfftnd  # noqa: F401


def __getattr__(name):
    from graphcompat import compat
    return compat.missing(__name__, name)

# coverage: DCTs, shifts, overlap-add / inverse STFT, more windows, mel filterbank and MFCCs (TF's composites)
from graphcompat.ops.signal_extra_ops import (dct, fftshift, idct, ifftshift, inverse_stft,  # noqa: F401,E402
                                              inverse_stft_window_fn, kaiser_bessel_derived_window, kaiser_window,
                                              linear_to_mel_weight_matrix, mfccs_from_log_mel_spectrograms,
                                              overlap_and_add, vorbis_window)
from graphcompat.ops.signal_extra_ops import inverse_mdct, mdct  # noqa: F401,E402
