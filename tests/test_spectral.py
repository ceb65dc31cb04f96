"""tf.signal / tf.spectral FFTs, windows, frame and stft: numpy references (compiled runs included),
gradients, and agreement with real TensorFlow."""
import numpy as np
import pytest

import graphcompat as tf
from tests import _op_oracle
from tests._conformance import Case

RS = np.random.RandomState(0)
X = RS.randn(2, 3, 8).astype(np.float32)
Z = (RS.randn(2, 3, 8) + 1j * RS.randn(2, 3, 8)).astype(np.complex64)
S = RS.randn(40).astype(np.float32)

CASES = [
    Case("fft", lambda tf, z: tf.signal.fft(z), lambda z: np.fft.fft(z).astype(np.complex64), [Z], tol=1e-4),
    Case("ifft2d", lambda tf, z: tf.spectral.ifft2d(z), lambda z: np.fft.ifft2(z).astype(np.complex64), [Z], tol=1e-5),
    Case("fft3d", lambda tf, z: tf.fft3d(z), lambda z: np.fft.fftn(z, axes=(-3, -2, -1)).astype(np.complex64), [Z],
         tol=1e-3),
    Case("rfft", lambda tf, x: tf.signal.rfft(x), lambda x: np.fft.rfft(x).astype(np.complex64), [X], tol=1e-4),
    Case("rfft_pad", lambda tf, x: tf.signal.rfft(x, fft_length=[11]),
         lambda x: np.fft.rfft(x, 11).astype(np.complex64), [X], tol=1e-4),
    Case("rfft_crop", lambda tf, x: tf.signal.rfft(x, fft_length=[5]),
         lambda x: np.fft.rfft(x, 5).astype(np.complex64), [X], tol=1e-4),
    Case("irfft", lambda tf, z: tf.signal.irfft(z), lambda z: np.fft.irfft(z).astype(np.float32), [Z], tol=1e-5),
    Case("rfft2d_irfft2d", lambda tf, x: tf.signal.irfft2d(tf.signal.rfft2d(x)), lambda x: x, [X], tol=1e-5),
    Case("irfft3d", lambda tf, z: tf.signal.irfft3d(z, fft_length=[2, 3, 6]),
         lambda z: np.fft.irfftn(z, s=[2, 3, 6], axes=(-3, -2, -1)).astype(np.float32), [Z], tol=1e-5),
    Case("frame", lambda tf, s: tf.signal.frame(s, 8, 5),
         lambda s: np.stack([s[i:i + 8] for i in range(0, 33, 5)]), [S]),
    Case("frame_pad_end", lambda tf, s: tf.signal.frame(s, 8, 5, pad_end=True, pad_value=-1.0),
         lambda s: np.stack([np.r_[s, -np.ones(3, np.float32)][i:i + 8] for i in range(0, 40, 5)]), [S]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conformance(case):
    _op_oracle.check_case(case)


def test_fft_errors():
    with pytest.raises(TypeError, match="allowed values: complex64, complex128"):
        tf.signal.fft(tf.constant(X))
    with pytest.raises(ValueError, match="Shape must be at least rank 1 but is rank 0"):
        tf.signal.fft(tf.constant(np.complex64(1)))


ORACLE = [
    ("ffts", lambda tf: [tf.signal.fft(Z), tf.signal.ifft(Z), tf.signal.fft2d(Z), tf.ifft3d(Z),
                         tf.spectral.fft(Z.astype(np.complex128))]),
    ("rffts", lambda tf: [tf.signal.rfft(X), tf.signal.rfft(X, fft_length=[6]), tf.signal.irfft(Z),
                          tf.signal.irfft(Z, fft_length=[5]), tf.signal.rfft2d(X), tf.signal.irfft2d(Z),
                          tf.signal.rfft3d(X, fft_length=[2, 4, 4])]),
    ("windows_frames", lambda tf: [tf.signal.hann_window(5), tf.signal.hann_window(6, periodic=False),
                                   tf.signal.hamming_window(7), tf.signal.frame(S, 8, 5),
                                   tf.signal.frame(X, 3, 2, axis=1), tf.signal.frame(S, 8, 5, pad_end=True)]),
    ("stft", lambda tf: [tf.signal.stft(S, 8, 4), tf.signal.stft(S, 10, 3, fft_length=16, pad_end=True)]),
    ("gradient", lambda tf: _grad(tf)),
]


def _grad(tf):
    x = tf.constant(X)
    y = tf.reduce_sum(tf.abs(tf.signal.rfft(x)) ** 2) + tf.reduce_sum(tf.signal.irfft(tf.signal.rfft(x)) * x)
    return tf.gradients(y, [x])


@pytest.mark.oracle
@pytest.mark.parametrize("name, build", ORACLE, ids=[o[0] for o in ORACLE])
def test_oracle(name, build):
    _op_oracle.compare(build, tol=2e-4, runs=2)
