"""Coverage (issue 13 #7): tf.signal DCT I-IV / IDCT, fftshift / ifftshift, overlap_and_add, inverse_stft (+ its
window), Kaiser / KBD / Vorbis windows, linear_to_mel_weight_matrix, MFCCs — values and names compared with
TensorFlow (and scipy for the DCTs)."""
import numpy as np
import pytest
import scipy.fft as sf

import graphcompat as tf
from tests import oracle

rng = np.random.RandomState(4)
S = rng.randn(3, 8).astype(np.float32)
FR = rng.randn(2, 5, 6).astype(np.float32)
SIG = rng.randn(2, 64).astype(np.float32)

PROGRAMS = {
    "dct": lambda tf: [tf.signal.dct(S), tf.signal.dct(S, norm="ortho"), tf.signal.dct(S, type=1),
                       tf.signal.dct(S, type=3), tf.signal.dct(S, type=4, norm="ortho"),
                       tf.signal.dct(S, n=5), tf.signal.dct(S, n=12), tf.signal.idct(S), tf.spectral.idct(S, type=4),
                       tf.signal.idct(tf.signal.dct(S, norm="ortho"), norm="ortho")],
    "shifts": lambda tf: [tf.signal.fftshift(S), tf.signal.ifftshift(S), tf.signal.fftshift(S, axes=1),
                          tf.signal.ifftshift(FR, axes=[0, -1])],
    "overlap_and_add": lambda tf: [tf.signal.overlap_and_add(FR, 2), tf.signal.overlap_and_add(FR, 6),
                                   tf.signal.overlap_and_add(FR[0], 4)],
    "windows": lambda tf: [tf.signal.kaiser_window(9), tf.signal.kaiser_window(10, beta=4.0, dtype=tf.float64),
                           tf.signal.kaiser_bessel_derived_window(10), tf.signal.vorbis_window(7)],
    "mel": lambda tf: [tf.signal.linear_to_mel_weight_matrix(),
                       tf.signal.linear_to_mel_weight_matrix(8, 33, 16000, 20.0, 7000.0, dtype=tf.float64),
                       tf.signal.mfccs_from_log_mel_spectrograms(tf.math.log(tf.abs(tf.constant(S)) + 1.0))],
    "mdct": lambda tf: [tf.signal.mdct(SIG, 16), tf.signal.mdct(SIG, 8, norm="ortho", window_fn=None),
                        tf.signal.mdct(SIG, 8, pad_end=True, window_fn=tf.signal.kaiser_bessel_derived_window),
                        tf.signal.inverse_mdct(tf.signal.mdct(SIG, 16)),
                        tf.signal.inverse_mdct(tf.signal.mdct(SIG, 8, norm="ortho"), norm="ortho")],
    "inverse_stft": lambda tf: [tf.signal.inverse_stft(tf.signal.stft(SIG, 16, 4), 16, 4),
                                tf.signal.inverse_stft(tf.signal.stft(SIG, 16, 4), 16, 4,
                                                       window_fn=tf.signal.inverse_stft_window_fn(4))],
}



@pytest.mark.oracle
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_matches_tensorflow(program):
    v1 = oracle.tf1()
    got, want = oracle.run(tf, PROGRAMS[program]), oracle.run(v1, PROGRAMS[program])
    oracle.assert_same_values(got, want, 2e-4, 2e-4, program)
    assert oracle.names(tf, PROGRAMS[program]) == oracle.names(v1, PROGRAMS[program])


def test_dct_against_scipy_and_reconstruction():
    with tf.Graph().as_default():
        x = tf.constant(S.astype(np.float64))
        outs = [tf.signal.dct(x, type=t) for t in (1, 2, 3, 4)] + [tf.signal.dct(x, norm="ortho")]
        frames = tf.signal.stft(tf.constant(SIG), 16, 4)
        rec = tf.signal.inverse_stft(frames, 16, 4, window_fn=tf.signal.inverse_stft_window_fn(4))
        with tf.Session() as sess:
            got = sess.run(outs)
            rec_v = sess.run(rec)
    for t, g in zip((1, 2, 3, 4), got):
        np.testing.assert_allclose(g, sf.dct(S.astype(np.float64), type=t), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got[4], sf.dct(S.astype(np.float64), norm="ortho"), rtol=1e-9, atol=1e-9)
    # away from the edges (where fewer frames overlap) the inverse STFT reconstructs the signal
    np.testing.assert_allclose(rec_v[:, 16:48], SIG[:, 16:48], atol=1e-4)


def test_errors():
    with tf.Graph().as_default():
        with pytest.raises(NotImplementedError, match="axis must be -1"):
            tf.signal.dct(S, axis=0)
        with pytest.raises(ValueError, match="Normalization is not supported for the Type-I DCT"):
            tf.signal.dct(S, type=1, norm="ortho")
        with pytest.raises(ValueError, match="lower_edge_hertz 500.0 >= upper_edge_hertz 100.0"):
            tf.signal.linear_to_mel_weight_matrix(lower_edge_hertz=500.0, upper_edge_hertz=100.0)
        with pytest.raises(ValueError, match="upper_edge_hertz must not be larger than the Nyquist frequency"):
            tf.signal.linear_to_mel_weight_matrix(sample_rate=4000)
        with pytest.raises(ValueError, match="frame_step must be an integer"):
            tf.signal.overlap_and_add(FR, 2.0)
