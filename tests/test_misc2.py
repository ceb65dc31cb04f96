"""Small TF 2.21 symbols checked against `tensorflow.compat.v1`: N-D FFTs (tf.signal.fftnd & co. and the
raw tf.fftnd ops).

TF 2.21 registers FFTND/IFFTND/RFFTND/IRFFTND kernels for GPUs only, so on a CPU TF's graph is compared
node for node, and values against numpy's fftn family, which is what the GPU kernel computes (its checks'
texts are FFTNBase's, tensorflow/core/kernels/fft_ops.cc)."""
import numpy as np
import pytest

import graphcompat
from graphcompat.framework import errors
from tests import oracle
from tests._op_oracle import run

pytestmark = pytest.mark.oracle

rng = np.random.RandomState(5)
X = rng.randn(2, 3, 4) + 1j * rng.randn(2, 3, 4)
R = rng.randn(2, 3, 4)


def _same_graph(build):
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


def _c64(tf):
    return tf.constant(X.astype(np.complex64))


# (builder, numpy reference, dtype): the graph must be TF's, the values numpy's.
FFTND_CASES = {
    "fftnd_default": (lambda tf: tf.signal.fftnd(_c64(tf)), lambda: np.fft.fftn(X), "complex64"),
    "fftnd_pad_last": (lambda tf: tf.signal.fftnd(_c64(tf), fft_length=[5], axes=[-1]),
                       lambda: np.fft.fft(X, 5, axis=-1), "complex64"),
    "fftnd_crop": (lambda tf: tf.signal.fftnd(tf.constant(X), fft_length=[2, 3], axes=[1, 2]),
                   lambda: np.fft.fftn(X, s=[2, 3], axes=[1, 2]), "complex128"),
    "fftnd_forward": (lambda tf: tf.signal.fftnd(tf.constant(X), fft_length=[3, 4], axes=[1, 2], norm="forward"),
                      lambda: np.fft.fftn(X, axes=[1, 2], norm="forward"), "complex128"),
    "ifftnd_ortho": (lambda tf: tf.signal.ifftnd(_c64(tf), fft_length=[2, 3, 4], norm="ortho"),
                     lambda: np.fft.ifftn(X, norm="ortho"), "complex64"),
    "ifftnd_default": (lambda tf: tf.signal.ifftnd(tf.constant(X)), lambda: np.fft.ifftn(X), "complex128"),
    "rfftnd_default": (lambda tf: tf.signal.rfftnd(tf.constant(R.astype(np.float32))),
                       lambda: np.fft.rfftn(R), "complex64"),
    "rfftnd_pad": (lambda tf: tf.signal.rfftnd(tf.constant(R), fft_length=[3, 6], axes=[1, 2]),
                   lambda: np.fft.rfftn(R, s=[3, 6], axes=[1, 2]), "complex128"),
    "rfftnd_ortho": (lambda tf: tf.signal.rfftnd(tf.constant(R), fft_length=[4], axes=[2], norm="ortho"),
                     lambda: np.fft.rfft(R, norm="ortho"), "complex128"),
    "irfftnd_default": (lambda tf: tf.signal.irfftnd(_c64(tf)),
                        lambda: np.fft.irfftn(X, s=[2, 3, 6], axes=[0, 1, 2]), "float32"),
    "irfftnd_len": (lambda tf: tf.signal.irfftnd(tf.constant(X), fft_length=[3, 5], axes=[1, 2]),
                    lambda: np.fft.irfftn(X, s=[3, 5], axes=[1, 2]), "float64"),
    "irfftnd_pad": (lambda tf: tf.signal.irfftnd(tf.constant(X), fft_length=[10], axes=[2]),
                    lambda: np.fft.irfft(X, 10, axis=2), "float64"),
    "raw_fftnd": (lambda tf: tf.fftnd(tf.constant(X), [3, 4], [1, 2]), lambda: np.fft.fftn(X, axes=[1, 2]),
                  "complex128"),
    "raw_ifftnd": (lambda tf: tf.ifftnd(_c64(tf), [4], [-1], name="inv"), lambda: np.fft.ifft(X),
                   "complex64"),
    "raw_rfftnd": (lambda tf: tf.rfftnd(tf.constant(R.astype(np.float32)), [3, 4], [1, 2]),
                   lambda: np.fft.rfftn(R, axes=[1, 2]), "complex64"),
    "raw_irfftnd": (lambda tf: tf.irfftnd(tf.constant(X), [3, 6], [1, 2], Treal=tf.float64),
                    lambda: np.fft.irfftn(X, s=[3, 6], axes=[1, 2]), "float64"),
}


@pytest.mark.parametrize("case", list(FFTND_CASES), ids=list(FFTND_CASES))
def test_fftnd(case):
    build, reference, dtype = FFTND_CASES[case]
    _same_graph(build)
    runs, static, dtypes = run(graphcompat, build, runs=2)  # op by op, then compiled
    values = runs[-1]
    want = reference()
    np.testing.assert_allclose(runs[0][0], want, rtol=1e-4, atol=1e-4)
    assert dtypes == [dtype]
    assert static[0] == list(want.shape)  # the shape the kernel returns (TF's shape function says the input's)
    np.testing.assert_allclose(values[0], want, rtol=1e-4, atol=1e-4)
    assert values[0].dtype == np.dtype(dtype)


def test_fftnd_fed_input():
    def build(tf):
        p = tf.placeholder(tf.complex64, [None, 4], name="p")
        return tf.signal.fftnd(p, fft_length=[3], axes=[1]), tf.signal.fftnd(p)
    _same_graph(build)
    graph = graphcompat.Graph()
    with graph.as_default():
        fixed, default = build(graphcompat)
        assert fixed.shape.as_list() == [None, 3] and default.shape.as_list() == [None, None]
        with graphcompat.Session() as sess:
            for rows in (2, 5):
                x = X.reshape(-1, 4)[:rows].astype(np.complex64)
                a, b = sess.run([fixed, default], {"p:0": x})
                np.testing.assert_allclose(a, np.fft.fft(x, 3, axis=1), rtol=1e-4, atol=1e-4)
                np.testing.assert_allclose(b, np.fft.fft2(x), rtol=1e-4, atol=1e-4)


BUILD_ERRORS = {
    "rank": (lambda tf: tf.signal.fftnd(tf.constant(np.ones(4, np.complex64)), fft_length=[2, 2], axes=[0, 1]),
             ValueError, "Shape (4,) must have rank at least 2"),
    "rfft_dtype": (lambda tf: tf.signal.rfftnd(tf.constant(np.ones(4, np.int32))), ValueError,
                   "RFFT requires tf.float32 or tf.float64 inputs, got: "),
    "irfft_dtype": (lambda tf: tf.signal.irfftnd(tf.constant(np.ones(4, np.float32))), ValueError,
                    "IRFFT requires tf.complex64 or tf.complex128 inputs, got: "),
    # norm != "backward" iterates over fft_length: a Tensor there (the default) fails in graph mode
    # (TF: OperatorNotAllowedInGraphError, a TypeError).
    "norm_of_tensor_length": (lambda tf: tf.signal.fftnd(tf.constant(np.ones(4, np.complex64)), norm="ortho"),
                              TypeError, ""),
}


@pytest.mark.parametrize("case", list(BUILD_ERRORS), ids=list(BUILD_ERRORS))
def test_fftnd_build_errors(case):
    build, cls, text = BUILD_ERRORS[case]
    for tf in (oracle.tf1(), graphcompat):
        with tf.Graph().as_default(), pytest.raises(cls) as info:
            build(tf)
        assert text in str(info.value)


# Run-time checks (FFTNBase's texts): TF's CPU build has no kernel to run them.
RUN_ERRORS = {
    "axes_not_successive": (lambda tf: tf.signal.fftnd(tf.constant(X), fft_length=[2, 3], axes=[0, 2]),
                            "axes must be successive and ascending."),
    "axes_not_last": (lambda tf: tf.fftnd(tf.constant(X), [2, 3], [0, 1]),
                      "The last axis to perform transform on must be -1."),
    "length_shape": (lambda tf: tf.fftnd(tf.constant(X), [2, 3, 4], [1, 2]),
                     "fft_length must have shape [2], but got: 3."),
    "negative_length": (lambda tf: tf.fftnd(tf.constant(X), [-1], [2]), "fft_length[0] must >= 0, but got: -1"),
    "short_input": (lambda tf: tf.rfftnd(tf.constant(R.astype(np.float32)), [5], [2]),
                    "Input dimension 2 must have length of at least 5 but got: 4"),
    "short_irfft_input": (lambda tf: tf.irfftnd(tf.constant(X.astype(np.complex64)), [10], [2]),
                          "Input dimension 2 must have length of at least 6 but got: 4"),
}


@pytest.mark.parametrize("case", list(RUN_ERRORS), ids=list(RUN_ERRORS))
def test_fftnd_run_errors(case):
    build, text = RUN_ERRORS[case]
    with pytest.raises(errors.InvalidArgumentError) as info:
        run(graphcompat, build)
    assert text in info.value.message


def test_fftnd_no_kernel_on_tf_cpu():
    """Why the values above are numpy's: TF 2.21's CPU build raises for the op itself."""
    tf = oracle.tf1()
    with pytest.raises(tf.errors.InvalidArgumentError, match="No OpKernel was registered to support Op 'FFTND'"):
        run(tf, FFTND_CASES["fftnd_default"][0])


def test_fftnd_has_no_gradient():
    """TF registers no gradient for the N-D FFTs: tf.gradients through one raises LookupError."""
    from graphcompat.framework import tf_op_types
    if "FFTND" not in tf_op_types.ALLOWED:
        pytest.skip("tools/gen_op_types.py has not been re-run since FFTND was defined")
    for tf in (oracle.tf1(), graphcompat):
        with tf.Graph().as_default():
            x = tf.constant(X.astype(np.complex64))
            with pytest.raises(LookupError, match="No gradient defined for operation"):
                tf.gradients(tf.abs(tf.signal.fftnd(x)), x)
