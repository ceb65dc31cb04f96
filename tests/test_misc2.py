"""Small TF 2.21 symbols checked against `tensorflow.compat.v1`: N-D FFTs (tf.signal.fftnd & co. and the
raw tf.fftnd ops); tf.data.Options with Dataset.with_options / options(); as_numpy_iterator and
tf.data.NumpyIterator in graph mode (TF's RuntimeError).

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


# ------------------------------------------------------------------------------------------------
# tf.data.Options, Dataset.with_options / options(), as_numpy_iterator
# ------------------------------------------------------------------------------------------------
def _set_all(tf, o):
    o.experimental_deterministic = False
    o.threading.private_threadpool_size = 4
    o.threading.max_intra_op_parallelism = 1
    o.experimental_optimization.map_fusion = True
    o.experimental_optimization.apply_default_optimizations = False
    o.autotune.ram_budget = 100
    o.autotune.enabled = False
    o.autotune.autotune_algorithm = tf.data.experimental.AutotuneAlgorithm.HILL_CLIMB
    o.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    o.experimental_distribute.num_devices = 2
    o.experimental_slack = True
    o.experimental_symbolic_checkpoint = False
    o.experimental_warm_start = True
    o.experimental_service.pinned = True
    o.dataset_name = "abc"
    o.framework_type = ["x", "y"]
    o.experimental_external_state_policy = tf.data.experimental.ExternalStatePolicy.FAIL


OPTION_SETTINGS = {
    "none": lambda tf, o: None,
    "deterministic": lambda tf, o: setattr(o, "deterministic", True),
    "threading": lambda tf, o: setattr(o.threading, "private_threadpool_size", 4),
    "experimental_threading": lambda tf, o: setattr(o.experimental_threading, "max_intra_op_parallelism", 2),
    "shard_data": lambda tf, o: setattr(o.experimental_distribute, "auto_shard_policy",
                                        tf.data.experimental.AutoShardPolicy.DATA),
    "all": _set_all,
}


def _options_pipeline(tf, setting):
    o = tf.data.Options()
    OPTION_SETTINGS[setting](tf, o)
    ds = tf.data.Dataset.range(6).with_options(o).map(lambda x: x * 3).batch(4)
    o2 = tf.data.Options()
    o2.experimental_deterministic = True
    o2.experimental_optimization.map_parallelization = False
    o2.framework_type = ["z"]
    return ds.with_options(o2)


@pytest.mark.parametrize("setting", list(OPTION_SETTINGS), ids=list(OPTION_SETTINGS))
def test_with_options_records_tf_node(setting):
    """The OptionsDataset nodes, their serialized_options bytes and the elements are TF's."""
    records = []
    for tf in (oracle.tf1(), graphcompat):
        graph = tf.Graph()
        with graph.as_default():
            ds = _options_pipeline(tf, setting)
            nxt = tf.data.make_one_shot_iterator(ds).get_next()
            nodes = [(op.name, op.get_attr("serialized_options"), op.inputs[0].op.name)
                     for op in graph.get_operations() if op.type == "OptionsDataset"]
            with tf.Session(graph=graph) as sess:
                values = [sess.run(nxt).tolist() for _ in range(2)]
                with pytest.raises(tf.errors.OutOfRangeError):
                    sess.run(nxt)
        records.append((nodes, values))
    assert records[0] == records[1]
    assert records[1][1] == [[0, 3, 6, 9], [12, 15]]


def test_options_merge_and_read_back():
    results = []
    for tf in (oracle.tf1(), graphcompat):
        with tf.Graph().as_default(), pytest.warns(UserWarning, match="preserve tf.data options"):
            merged = _options_pipeline(tf, "all").options()
        results.append((merged.deterministic, merged.threading.private_threadpool_size,
                        merged.experimental_optimization.map_fusion,
                        merged.experimental_optimization.map_parallelization, merged.framework_type,
                        merged.autotune.ram_budget, merged.experimental_distribute.auto_shard_policy.name,
                        merged.experimental_external_state_policy.name, merged.dataset_name))
        with pytest.raises(ValueError, match=r"Mutating `tf.data.Options\(\)` returned by"):
            merged.deterministic = False
        with pytest.raises(ValueError, match=r"Mutating `tf.data.Options\(\)` returned by"):
            merged.threading.private_threadpool_size = 1
        # A fresh dataset's options are all unset (and read-only too).
        with tf.Graph().as_default(), pytest.warns(UserWarning):
            fresh = tf.data.Dataset.range(3).options()
        assert fresh == tf.data.Options() and fresh.deterministic is None
    assert results[0] == results[1]
    assert results[1][:5] == (True, 4, True, False, ["x", "y", "z"])


def test_options_merge_method():
    for tf in (oracle.tf1(), graphcompat):
        a, b = tf.data.Options(), tf.data.Options()
        a.deterministic, a.threading.private_threadpool_size = True, 2
        b.deterministic, b.experimental_slack = False, True
        merged = a.merge(b)
        assert (merged.deterministic, merged.threading.private_threadpool_size, merged.experimental_slack) == (
            False, 2, True)
        assert a.deterministic is True and merged is not a and merged != a
        assert tf.data.Options() == tf.data.Options()


OPTION_ERRORS = {
    "unknown": (lambda tf: setattr(tf.data.Options(), "foo", 1), AttributeError,
                "Cannot set the property foo on Options."),
    "unknown_threading": (lambda tf: setattr(tf.data.ThreadingOptions(), "bar", 1), AttributeError,
                          "Cannot set the property bar on ThreadingOptions."),
    "bool_type": (lambda tf: setattr(tf.data.Options(), "deterministic", 1), TypeError,
                  "Property \"deterministic\" must be of type <class 'bool'>, got: 1 (type: <class 'int'>)"),
    "int_type": (lambda tf: setattr(tf.data.Options().threading, "private_threadpool_size", "a"), TypeError,
                 "Property \"private_threadpool_size\" must be of type <class 'int'>, got: a (type: <class 'str'>)"),
    "sub_options_type": (lambda tf: setattr(tf.data.Options(), "threading", 3), TypeError,
                         "Property \"threading\" must be of type <class 'tensorflow.python.data.ops.options."
                         "ThreadingOptions'>, got: 3"),
    "enum_type": (lambda tf: setattr(tf.data.Options().experimental_distribute, "auto_shard_policy", 1),
                  TypeError, "Property \"auto_shard_policy\" must be of type <enum 'AutoShardPolicy'>, got: 1"),
    "merge_type": (lambda tf: tf.data.Options().merge(tf.data.ThreadingOptions()), TypeError,
                   "Could not merge incompatible options of type"),
    "as_numpy_iterator": (lambda tf: tf.data.Dataset.range(3).as_numpy_iterator(), RuntimeError,
                          "`tf.data.Dataset.as_numpy_iterator()` is only supported in eager mode."),
    "numpy_iterator": (lambda tf: tf.data.NumpyIterator(tf.data.Dataset.range(3)), RuntimeError,
                       "`tf.data.Dataset` only supports Python-style iteration in eager mode or within "
                       "tf.function."),
}


@pytest.mark.parametrize("case", list(OPTION_ERRORS), ids=list(OPTION_ERRORS))
def test_options_errors(case):
    build, cls, text = OPTION_ERRORS[case]
    for tf in (oracle.tf1(), graphcompat):
        with tf.Graph().as_default(), pytest.raises(cls) as info:
            build(tf)
        assert text in str(info.value), (tf.__name__, str(info.value))


def test_options_on_device_walk():
    """with_options keeps an in-memory pipeline on the device walk (an identity node there)."""
    from lowering.data import device_plan, node_of
    with graphcompat.Graph().as_default():
        o = graphcompat.data.Options()
        o.deterministic = False
        ds = graphcompat.data.Dataset.from_tensor_slices(np.arange(8.0)).with_options(o).map(lambda x: x + 1)
        ds = ds.batch(3)
        assert device_plan(node_of(ds._variant.op)).ok
        nxt = graphcompat.data.make_one_shot_iterator(ds).get_next()
        with graphcompat.Session() as sess:
            got = [sess.run(nxt).tolist() for _ in range(3)]
    assert got == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0]]
