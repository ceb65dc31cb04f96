"""TF's quantized dtypes (qint8, quint8, qint16, quint16, qint32) and quantized-tensor ops against real
TF 2.21: the DType objects, Const values and TensorProtos, feeds and fetches; QuantizeV2 / Dequantize
(tf.quantize, tf.dequantize) over types × modes × round modes × narrow_range × ranges, per-axis, with
ranges fed at run time (op by op and compiled); Requantize, RequantizationRange, QuantizeDownAndShrinkRange,
QuantizedMatMul as NodeDefs TF wrote and graphcompat imports; a quantize_weights-style frozen graph; a
graphcompat graph with quantized Consts that TF imports and runs; build-time and run-time errors.

Integer outputs are compared exactly, float outputs bit for bit (the kernels' arithmetic is reproduced).
TF's oneDNN build rewrites some Dequantize nodes into _MklDequantize, which has no qint32 kernel: the
qint32 SCALED round trip is checked on graphcompat's side only.
"""
import numpy as np
import pytest

import graphcompat
from graphcompat.framework import errors
from tests import oracle
from tests._op_oracle import compare, compare_error

pytestmark = pytest.mark.oracle

QTYPES = ["qint8", "quint8", "qint16", "quint16", "qint32"]
_rng = np.random.RandomState(11)
# random values plus the points that decide rounding (bounds, halves, outside the range)
X = np.concatenate([_rng.uniform(-3, 5, 60), [-3, 5, 0, 1.5, -1.5, 2.5, 0.5, -0.5, 7, -9, 1e-3, -1e-3]]) \
    .astype(np.float32)
RANGES = [(-3.0, 5.0), (0.5, 4.0), (-2.0, -1.0), (0.0, 0.0), (-1e-3, 2e-3)]


def _v1():
    return oracle.tf1()


def _onednn() -> bool:
    """Whether TF runs its oneDNN kernels (TF_ENABLE_ONEDNN_OPTS, on by default on x86): its
    _MklQuantizeV2 rounds quint8 MIN_FIRST with fed ranges differently from TF's reference kernel, which is
    graphcompat's."""
    _v1()
    from tensorflow.python.util import _pywrap_util_port
    return bool(_pywrap_util_port.IsMklEnabled())


# --- dtypes ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", QTYPES)
def test_dtype_objects(name):
    v1 = _v1()
    ours, theirs = getattr(graphcompat, name), getattr(v1, name)
    assert (ours.name, ours.as_datatype_enum, repr(ours), str(ours)) == \
        (theirs.name, theirs.as_datatype_enum, repr(theirs), str(theirs))
    assert np.dtype(ours.as_numpy_dtype) == np.dtype(theirs.as_numpy_dtype)
    assert ours.as_numpy_dtype == theirs.as_numpy_dtype
    assert (ours.is_quantized, ours.is_integer, ours.is_floating, ours.is_unsigned, ours.size,
            ours.is_numpy_compatible) == (theirs.is_quantized, theirs.is_integer, theirs.is_floating,
                                          theirs.is_unsigned, theirs.size, theirs.is_numpy_compatible)
    assert ours._as_ref().name == theirs._as_ref.name and ours._as_ref().base_dtype is ours
    assert graphcompat.as_dtype(np.dtype(theirs.as_numpy_dtype)) is ours
    assert graphcompat.as_dtype(theirs.as_datatype_enum) is ours and graphcompat.as_dtype(name) is ours
    assert ours != graphcompat.as_dtype(np.dtype(ours.as_numpy_dtype)[0])  # qint8 is not int8
    for attr in ("min", "max"):
        with pytest.raises(TypeError) as got:
            getattr(ours, attr)
        with pytest.raises(TypeError) as want:
            getattr(theirs, attr)
        assert str(got.value) == str(want.value)
    assert graphcompat.dtypes.QUANTIZED_DTYPES == {graphcompat.as_dtype(d.name) for d in v1.dtypes.QUANTIZED_DTYPES}


@pytest.mark.parametrize("name", QTYPES)
def test_constants_protos_feeds_and_fetches(name):
    v1 = _v1()
    storage = np.dtype(getattr(v1, name).as_numpy_dtype)[0]
    values = np.array([[1, 2, 3], [4, 5, 100]], storage)

    def build(tf):
        qt = getattr(tf, name)
        c = tf.constant(values, qt)
        s = tf.constant(values[:1, :1].reshape(()), qt)  # a scalar: int_val, not tensor_content
        t = tf.constant([[(7,), (8,)]], qt)
        p = tf.placeholder(qt, [2], name="p")
        return [c, s, t, tf.identity(p), tf.reshape(c, [3, 2])]

    def feed(tf, graph):
        return {graph.get_tensor_by_name("p:0"): [3, 4]}
    got = compare(build, feed, exact=True)
    assert all(v.dtype == storage for v in got)  # TF's session fetches the integers
    # the TensorProtos are TF's, byte for byte
    for lib_pair in [(graphcompat, v1)]:
        protos = []
        for tf in lib_pair:
            with tf.Graph().as_default():
                c = tf.constant(values, getattr(tf, name))
                s = tf.constant(values[:1, :1].reshape(()), getattr(tf, name))
                protos.append([t.op.get_attr("value").SerializeToString() for t in (c, s)])
        assert protos[0] == protos[1]
    # tf.make_ndarray gives TF's structured arrays
    with v1.Graph().as_default():
        proto = v1.constant(values, getattr(v1, name)).op.get_attr("value")
    ours = graphcompat.make_ndarray(proto)
    assert ours.dtype == v1.make_ndarray(proto).dtype and np.array_equal(ours, v1.make_ndarray(proto))


def test_constant_of_python_ints_is_tfs_type_error():
    compare_error(lambda tf: tf.constant([1, 2], tf.quint8))
    compare_error(lambda tf: tf.constant(5, tf.qint32))


# --- QuantizeV2 / Dequantize --------------------------------------------------------------------------------
def _mode_cases():
    for name in QTYPES:
        for mode, round_mode in [("MIN_COMBINED", "HALF_AWAY_FROM_ZERO"), ("MIN_FIRST", "HALF_AWAY_FROM_ZERO"),
                                 ("SCALED", "HALF_AWAY_FROM_ZERO"), ("SCALED", "HALF_TO_EVEN")]:
            yield name, mode, round_mode


@pytest.mark.parametrize("name,mode,round_mode", list(_mode_cases()))
def test_quantize_dequantize_table(name, mode, round_mode):
    """Every range × narrow_range in one graph; the round trip through Dequantize included."""
    round_trip = not (name == "qint32" and mode == "SCALED")  # TF's oneDNN rewrite has no such kernel

    def build(tf):
        out = []
        for narrow in (False, True):
            for low, high in RANGES:
                q = tf.quantize(tf.constant(X), low, high, getattr(tf, name), mode=mode, round_mode=round_mode,
                                narrow_range=narrow)
                out += [q.output, q.output_min, q.output_max]
                if round_trip:
                    out.append(tf.dequantize(q.output, q.output_min, q.output_max, mode=mode, narrow_range=narrow))
        return out
    compare(build, runs=2, exact=True)
    if not round_trip:  # graphcompat's own round trip stays within one step of the input
        with graphcompat.Graph().as_default():
            q = graphcompat.quantize(X, -3.0, 5.0, graphcompat.qint32, mode="SCALED")
            d = graphcompat.dequantize(q.output, q.output_min, q.output_max, mode="SCALED")
            with graphcompat.Session() as sess:
                values = sess.run(d)
        inside = np.abs(X) < 5  # 5.0 * scale is 2^31: TF's float -> int32 conversion gives INT_MIN (-5.0)
        np.testing.assert_allclose(values[inside], X[inside], atol=1e-8)
        np.testing.assert_array_equal(values[X >= 5], -5.0)


@pytest.mark.parametrize("name", ["qint8", "quint8", "qint16"])
@pytest.mark.parametrize("mode", ["MIN_COMBINED", "SCALED"])
def test_per_axis(name, mode):
    x = _rng.uniform(-3, 5, (3, 4, 5)).astype(np.float32)
    mins = np.float32([-1, -2, 0.5, -3, 0])
    maxs = np.float32([1, 2, 3, 1e-3, 0])

    def build(tf):
        out = []
        for axis, size in [(2, 5), (1, 4), (0, 3), (-1, 5)]:
            q = tf.quantize(tf.constant(x), mins[:size], maxs[:size], getattr(tf, name), mode=mode, axis=axis)
            out += [q.output, q.output_min, q.output_max,
                    tf.dequantize(q.output, q.output_min, q.output_max, mode=mode, axis=axis)]
        return out
    compare(build, runs=2, exact=True)


@pytest.mark.parametrize("name", QTYPES)
def test_ranges_fed_at_run_time(name):
    """Ranges that are not constants: the traced arithmetic, op by op and compiled."""
    modes = ["MIN_COMBINED"] + ([] if name == "quint8" and _onednn() else ["MIN_FIRST"]) + \
        ([] if name == "qint32" else ["SCALED"])

    def build(tf):
        low = tf.placeholder(tf.float32, [], name="low")
        high = tf.placeholder(tf.float32, [], name="high")
        x = tf.placeholder(tf.float32, [None], name="x")
        out = []
        for mode in modes:
            q = tf.quantize(x, low, high, getattr(tf, name), mode=mode)
            out += [q.output, q.output_min, q.output_max, tf.dequantize(q.output, q.output_min, q.output_max,
                                                                         mode=mode)]
        return out

    def feed(tf, graph):
        return {graph.get_tensor_by_name("low:0"): -2.3, graph.get_tensor_by_name("high:0"): 3.7,
                graph.get_tensor_by_name("x:0"): X}
    compare(build, feed, runs=3, exact=True)


def test_bfloat16_dequantize_and_graph_structure():
    def build(tf):
        q = tf.quantize([-1.0, 0.25, 2.0], -1.0, 2.0, tf.quint8, name="q")
        d = tf.quantization.dequantize(q.output, q.output_min, q.output_max, dtype=tf.bfloat16, name="d")
        q2 = tf.quantize_v2([1.0], 0.0, 2.0, tf.qint8, ensure_minimum_range=0.5, axis=None)
        return [q.output, d, q2.output]
    compare(build, exact=True)
    v1 = _v1()
    assert oracle.op_names(graphcompat, build) == oracle.op_names(v1, build)

    def node_defs(tf):
        graph = tf.Graph()
        with graph.as_default():
            build(tf)
        return {n.name: n for n in graph.as_graph_def().node if n.op in ("QuantizeV2", "Dequantize")}
    ours, theirs = node_defs(graphcompat), node_defs(v1)
    assert sorted(ours) == sorted(theirs)
    for key in ours:
        assert {k: v.SerializeToString() for k, v in ours[key].attr.items()} == \
            {k: v.SerializeToString() for k, v in theirs[key].attr.items()}, key
        assert list(ours[key].input) == list(theirs[key].input), key


@pytest.mark.parametrize("name", ["quint8", "qint32"])
def test_quantized_concat(name):
    """Each input requantized into the joint range (symmetric for qint32); equal ranges copy."""
    storage = np.dtype(getattr(graphcompat, name).as_numpy_dtype)[0]
    info = np.iinfo(storage)
    a = _rng.randint(info.min, info.max, (2, 3), dtype=np.int64).astype(storage)
    b = _rng.randint(info.min, info.max, (2, 2), dtype=np.int64).astype(storage)

    def build(tf):
        qt = getattr(tf, name)
        out = []
        for (min_a, max_a), (min_b, max_b) in [((-1.0, 2.0), (-3.0, 1.0)), ((0.0, 2.0), (0.0, 2.0)),
                                               ((0.5, 1.0), (-0.25, 4.0))]:
            out += list(tf.quantized_concat(1, [tf.constant(a, qt), tf.constant(b, qt)], [min_a, min_b],
                                            [max_a, max_b]))
            out += list(tf.quantization.quantized_concat(0, [tf.constant(a.T.copy(), qt), tf.constant(b, qt)],
                                                         [min_a, min_b], [max_a, max_b]))
        return out
    compare(build, runs=2, exact=True)


def test_quantized_reshape_imported():
    def build(tf):
        c = tf.constant(np.arange(12, dtype=np.uint8).reshape(3, 4), tf.quint8)
        return list(tf.raw_ops.QuantizedReshape(tensor=c, shape=[2, -1], input_min=-1.0, input_max=2.0))
    _import_and_compare(build)


# --- QuantizeAndDequantize (float in, float out) ------------------------------------------------------------
QDQ_X = np.concatenate([_rng.uniform(-3, 4, 40), [0.5, -0.5, 1.5, 2.5, -2.5, 3.0, -3.0, 2.2, -1.7]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn", ["quantize_and_dequantize", "quantize_and_dequantize_v2"])
def test_quantize_and_dequantize_table(dtype, fn):
    """signed × num_bits × range_given × round_mode × narrow_range (V2 and V4 ops)."""
    def build(tf):
        x = tf.constant(QDQ_X.astype(dtype))
        out = []
        for signed in (True, False):
            for bits in (2, 8):
                for range_given in (True, False):
                    for round_mode in ("HALF_TO_EVEN", "HALF_UP"):
                        for narrow in (False, True):
                            out.append(getattr(tf.quantization, fn)(
                                x, tf.constant(-1.7, dtype), tf.constant(2.2, dtype), signed_input=signed,
                                num_bits=bits, range_given=range_given, round_mode=round_mode, narrow_range=narrow))
        return out
    compare(build, exact=True, runs=2)


def test_quantize_and_dequantize_per_axis_and_gradients():
    x = _rng.uniform(-3, 4, (4, 3)).astype(np.float32)

    def build(tf):
        out = [tf.quantization.quantize_and_dequantize_v2(x, [-1.0, -2.0, 0.5], [1.0, 3.0, 2.0], axis=1),
               tf.quantization.quantize_and_dequantize_v2(tf.constant(x), [0.0] * 4, [1.0] * 4, axis=-2,
                                                          num_bits=4)]
        c = tf.constant(x)
        y = tf.quantization.quantize_and_dequantize_v2(c, -1.0, 2.0, range_given=True)
        z = tf.quantization.quantize_and_dequantize(c, -1.0, 2.0, range_given=True)
        return out + tf.gradients(tf.reduce_sum(y * y) + tf.reduce_sum(z * 3.0), [c])
    compare(build, exact=True, runs=2)
    grad_ops = [(n, t) for n, t in oracle.op_names(graphcompat, build) if t.startswith("QuantizeAndDequantize")]
    assert grad_ops == [(n, t) for n, t in oracle.op_names(_v1(), build) if t.startswith("QuantizeAndDequantize")]


def test_quantize_and_dequantize_v3_imported():
    x = _rng.uniform(-3, 4, (4, 3)).astype(np.float32)

    def build(tf):
        return [tf.raw_ops.QuantizeAndDequantizeV3(input=x, input_min=-1.0, input_max=2.0, num_bits=bits,
                                                   range_given=range_given, signed_input=signed)
                for bits in (3, 8) for range_given in (True, False) for signed in (True, False)]
    _import_and_compare(build)


# --- ops without public builders: NodeDefs TF wrote, imported ----------------------------------------------
def _import_and_compare(build_tf, feed=None, runs: int = 2, close=()):
    """Builds with TF (tf.raw_ops), runs it, imports its GraphDef into graphcompat, runs that; exact but
    for the fetches named in `close` (float MatMuls are not bitwise XLA's)."""
    v1 = _v1()
    graph = v1.Graph()
    with graph.as_default():
        fetches = build_tf(v1)
        names = [t.name for t in fetches]
        with v1.Session(graph=graph) as sess:
            want = sess.run(names, feed)
    with graphcompat.Graph().as_default() as g:
        graphcompat.import_graph_def(graph.as_graph_def(), name="")
        with graphcompat.Session(graph=g) as sess:
            for _ in range(runs):
                got = sess.run(names, feed)
                for k, (a, b) in enumerate(zip(got, want)):
                    a, b = np.asarray(a), np.asarray(b)
                    assert a.dtype == b.dtype and a.shape == b.shape, (names[k], a.dtype, b.dtype, a.shape, b.shape)
                    if names[k] in close:
                        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=names[k])
                    else:
                        np.testing.assert_array_equal(a, b, err_msg=names[k])
    return want


ACC = _rng.randint(-2 ** 20, 2 ** 20, (4, 6)).astype(np.int32)


@pytest.mark.parametrize("ranges", [(-100.0, 100.0, -3.0, 5.0), (-1e4, 1e4, 0.0, 7.0), (-5.0, 5.0, -5.0, 5.0),
                                    (-5.0, 5.0, 0.0, 0.0)])
def test_requantize_family_imported(ranges):
    in_min, in_max, out_min, out_max = ranges

    def build(tf):
        c = tf.constant(ACC, tf.qint32)
        used = tf.raw_ops.RequantizationRange(input=c, input_min=in_min, input_max=in_max)
        out = list(used)
        for out_type in (tf.quint8, tf.qint8):
            out += list(tf.raw_ops.Requantize(input=c, input_min=in_min, input_max=in_max,
                                              requested_output_min=out_min, requested_output_max=out_max,
                                              out_type=out_type))
        out += list(tf.raw_ops.Requantize(input=c, input_min=in_min, input_max=in_max, requested_output_min=used[0],
                                          requested_output_max=used[1], out_type=tf.quint8))
        out += list(tf.raw_ops.QuantizeDownAndShrinkRange(input=c, input_min=in_min, input_max=in_max,
                                                          out_type=tf.quint8))
        return out
    _import_and_compare(build)


@pytest.mark.parametrize("transpose_a,transpose_b", [(False, False), (True, False), (False, True), (True, True)])
def test_quantized_matmul_imported(transpose_a, transpose_b):
    a = _rng.randint(0, 256, (3, 5)).astype(np.uint8)
    b = _rng.randint(0, 256, (5, 4)).astype(np.uint8)

    def build(tf):
        out = []
        for (min_a, max_a), (min_b, max_b) in [((-1.0, 2.0), (-0.5, 0.5)), ((0.0, 6.0), (-3.0, 1.0)),
                                               ((0.3, 1.7), (-2.0, -1.0))]:
            out += list(tf.raw_ops.QuantizedMatMul(
                a=tf.constant(a.T.copy() if transpose_a else a, tf.quint8),
                b=tf.constant(b.T.copy() if transpose_b else b, tf.quint8), min_a=min_a, max_a=max_a, min_b=min_b,
                max_b=max_b, transpose_a=transpose_a, transpose_b=transpose_b))
        return out
    _import_and_compare(build)


@pytest.mark.parametrize("low,high", [(-1.0, 2.0), (0.0, 6.0), (0.5, 3.0)])
def test_quantize_nodes_ops_imported(low, high):
    """The ops graph_transforms' quantize_nodes writes: QuantizedRelu / Relu6 (quint8, qint32),
    QuantizedMaxPool, QuantizedAvgPool, QuantizedConv2D (SAME / VALID, strides 1 and 2), QuantizedBiasAdd."""
    x = _rng.randint(0, 256, (2, 5, 6, 3)).astype(np.uint8)
    w = _rng.randint(0, 256, (3, 2, 3, 4)).astype(np.uint8)
    acc = _rng.randint(-2 ** 20, 2 ** 20, (2, 7)).astype(np.int32)
    avg_pool = not _onednn()  # TF's oneDNN QuantizedAvgPool rounds halves to even; its reference kernel truncates

    def build(tf):
        c = tf.constant(x, tf.quint8)
        out = []
        for op in ("QuantizedRelu", "QuantizedRelu6"):
            out += list(getattr(tf.raw_ops, op)(features=c, min_features=low, max_features=high, out_type=tf.quint8))
            out += list(getattr(tf.raw_ops, op)(features=tf.constant(acc, tf.qint32), min_features=low * 1000,
                                                max_features=high * 1000, out_type=tf.qint32))
        for padding in ("SAME", "VALID"):
            out += list(tf.raw_ops.QuantizedMaxPool(input=c, min_input=low, max_input=high, ksize=[1, 2, 3, 1],
                                                    strides=[1, 2, 2, 1], padding=padding))
            if avg_pool:
                out += list(tf.raw_ops.QuantizedAvgPool(input=c, min_input=low, max_input=high, ksize=[1, 3, 2, 1],
                                                        strides=[1, 1, 2, 1], padding=padding))
            for stride in (1, 2):
                conv = tf.raw_ops.QuantizedConv2D(
                    input=c, filter=tf.constant(w, tf.quint8), min_input=low, max_input=high, min_filter=-0.5,
                    max_filter=1.5, strides=[1, stride, stride, 1], padding=padding)
                out += list(conv)
        bias = tf.constant(_rng.randint(0, 256, 4).astype(np.uint8), tf.quint8)
        out += list(tf.raw_ops.QuantizedBiasAdd(input=tf.constant(x.reshape(-1)[:24].reshape(6, 4), tf.quint8),
                                                bias=bias, min_input=low, max_input=high, min_bias=-0.5, max_bias=0.5,
                                                out_type=tf.qint32))
        return out
    _import_and_compare(build)


@pytest.mark.parametrize("ranges", [((-1.0, 2.0), (-0.5, 0.5)), ((0.0, 6.0), (-3.0, 1.0))])
def test_quantized_mul_imported(ranges):
    """Same shapes, a scalar either side, a vector / row tiled over a matrix either side."""
    a = _rng.randint(0, 256, (3, 4)).astype(np.uint8)
    v = _rng.randint(0, 256, (4,)).astype(np.uint8)
    (min_x, max_x), (min_y, max_y) = ranges

    def build(tf):
        out = []
        for x, y in [(a, a[::-1].copy()), (a, v), (v, a), (a, np.uint8(77)), (np.uint8(77), a), (a, a[:1])]:
            out += list(tf.raw_ops.QuantizedMul(x=tf.constant(x, tf.quint8), y=tf.constant(y, tf.quint8), min_x=min_x,
                                                max_x=max_x, min_y=min_y, max_y=max_y))
        return out
    _import_and_compare(build)


def test_nn_quantized_builders():
    """tf.nn.quantized_conv2d / quantized_max_pool / quantized_avg_pool: TF's graph (names, attrs) and values."""
    x = _rng.randint(0, 256, (1, 4, 4, 2)).astype(np.uint8)
    w = _rng.randint(0, 256, (2, 2, 2, 3)).astype(np.uint8)
    avg_pool = not _onednn()

    def build(tf):
        c = tf.constant(x, tf.quint8)
        out = list(tf.nn.quantized_conv2d(c, tf.constant(w, tf.quint8), -1.0, 1.0, 0.0, 2.0, [1, 1, 1, 1], "SAME"))
        out += list(tf.nn.quantized_max_pool(c, -1.0, 1.0, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"))
        if avg_pool:
            out += list(tf.nn.quantized_avg_pool(c, -1.0, 1.0, [1, 2, 2, 1], [1, 1, 1, 1], "SAME"))
        return out
    compare(build, exact=True)
    assert oracle.op_names(graphcompat, build) == oracle.op_names(_v1(), build)

    def relu_x(tf):  # recorded only: TF 2.21 has no QuantizedReluX kernel (a session on it fails)
        return list(tf.nn.quantized_relu_x(tf.constant(x, tf.quint8), 1.0, -1.0, 1.0, name="r"))
    assert oracle.names(graphcompat, relu_x) == oracle.names(_v1(), relu_x)


def test_quantized_avg_pool_truncates():
    """TF's reference QuantizedAvgPool (int32 SpatialAvgPool): the mean of the real elements, truncated."""
    x = _rng.randint(0, 256, (1, 4, 5, 2)).astype(np.uint8)
    from graphcompat.framework.registry import apply_op
    with graphcompat.Graph().as_default():
        out = apply_op("QuantizedAvgPool", [graphcompat.constant(x, graphcompat.quint8), 0.0, 1.0],
                       {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "SAME"})
        with graphcompat.Session() as sess:
            got = sess.run(out[0])
    padded = np.pad(x.astype(np.int64), ((0, 0), (0, 1), (0, 1), (0, 0)))
    ones = np.pad(np.ones_like(x, np.int64), ((0, 0), (0, 1), (0, 1), (0, 0)))
    sums = padded[:, :-1, :-1] + padded[:, 1:, :-1] + padded[:, :-1, 1:] + padded[:, 1:, 1:]
    counts = ones[:, :-1, :-1] + ones[:, 1:, :-1] + ones[:, :-1, 1:] + ones[:, 1:, 1:]
    np.testing.assert_array_equal(got, (sums // counts).astype(np.uint8))


def test_quantized_bias_add_shape_error():
    """TF's shape function merges the bias with the input's last dimension (checked at build time)."""
    from graphcompat.framework.registry import apply_op
    with graphcompat.Graph().as_default():
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 2"):
            apply_op("QuantizedBiasAdd", [graphcompat.constant(np.zeros((2, 3), np.uint8), graphcompat.quint8),
                                          graphcompat.constant(np.zeros(2, np.uint8), graphcompat.quint8),
                                          0.0, 1.0, 0.0, 1.0], {"out_type": graphcompat.qint32})


def test_quantize_weights_style_frozen_graph():
    """What graph_transforms' quantize_weights writes: quint8 weight Consts with their float ranges,
    Dequantize (MIN_FIRST), then the float MatMul / BiasAdd of the original graph; TF's numbers."""
    v1 = _v1()
    weights = _rng.normal(0, 0.5, (6, 4)).astype(np.float32)
    with v1.Graph().as_default():  # TF's own quantization of the weights, evaluated into Const values
        q = v1.quantize(weights, weights.min(), weights.max(), v1.quint8, mode="MIN_FIRST")
        with v1.Session() as sess:
            w_q, w_min, w_max = sess.run(q)

    def build(tf):
        x = tf.placeholder(tf.float32, [None, 6], name="x")
        w = tf.raw_ops.Dequantize(input=tf.constant(w_q, tf.quint8, name="w_quantized"),
                                  min_range=tf.constant(w_min, name="w_quantized_min"),
                                  max_range=tf.constant(w_max, name="w_quantized_max"), mode="MIN_FIRST", name="w")
        y = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, w), tf.constant([0.1, -0.2, 0.3, 0.0])), name="y")
        return [w, y]
    x_value = _rng.uniform(-1, 1, (5, 6)).astype(np.float32)
    want = _import_and_compare(build, feed={"x:0": x_value}, close=("y:0",))
    np.testing.assert_allclose(want[0], weights, atol=float(w_max - w_min) / 255)


def test_graphcompat_graph_runs_in_tf():
    """Export: quantized Consts and the quantize ops in graphcompat's GraphDef; TF imports and runs it."""
    v1 = _v1()
    with graphcompat.Graph().as_default() as g:
        c = graphcompat.constant(np.array([[0, 17, 255]], np.uint8), graphcompat.quint8, name="c")
        s = graphcompat.constant(np.int32(-5), graphcompat.qint32, name="s")
        d = graphcompat.dequantize(c, -1.0, 2.0, mode="MIN_FIRST", name="d")
        q = graphcompat.quantize(d * 3.0, -4.0, 4.0, graphcompat.qint8, name="q")
        fetches = [c.name, s.name, d.name, q.output.name, q.output_min.name]
        with graphcompat.Session(graph=g) as sess:
            ours = sess.run(fetches)
        graph_def = g.as_graph_def()
    with v1.Graph().as_default() as tg:
        v1.import_graph_def(v1.GraphDef.FromString(graph_def.SerializeToString()), name="")
        with v1.Session(graph=tg) as sess:
            theirs = sess.run(fetches)
    for a, b in zip(ours, theirs):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_array_equal(a, b)
    # and back: graphcompat re-imports its own GraphDef
    with graphcompat.Graph().as_default() as g2:
        graphcompat.import_graph_def(graph_def, name="")
        with graphcompat.Session(graph=g2) as sess:
            for a, b in zip(sess.run(fetches), ours):
                np.testing.assert_array_equal(a, b)


# --- errors ---------------------------------------------------------------------------------------------------
BUILD_ERRORS = {
    "bad_mode": lambda tf: tf.quantize([1.0], 0.0, 1.0, tf.quint8, mode="MAX"),
    "bad_round_mode": lambda tf: tf.quantize([1.0], 0.0, 1.0, tf.quint8, round_mode="UP"),
    "dequantize_bad_mode": lambda tf: tf.dequantize(tf.constant(np.uint8([1]), tf.quint8), 0.0, 1.0, mode="X"),
    "float_output_type": lambda tf: tf.quantize([1.0], 0.0, 1.0, tf.float32),
    "int_input": lambda tf: tf.quantize(tf.constant([1]), 0.0, 1.0, tf.quint8),
    "dequantize_float_input": lambda tf: tf.dequantize(tf.constant([1.0]), 0.0, 1.0),
    "range_rank": lambda tf: tf.quantize([1.0, 2.0], [0.0, 0.0], 1.0, tf.qint8),
    "axis_range_sizes": lambda tf: tf.quantize([1.0, 2.0], [1.0, 0, 4], [2.0, -1.0, 5], tf.qint8, axis=0),
    "axis_past_rank": lambda tf: tf.quantize([[1.0, 2.0]], [1.0], [2.0], tf.qint8, axis=3),
    "dequantize_axis_past_rank": lambda tf: tf.dequantize(tf.constant(np.int8([1, 2]), tf.qint8), [-1.0, -1.0],
                                                          [1.0, 1.0], axis=1),
    "concat_one_value": lambda tf: tf.quantized_concat(1, [tf.constant(np.uint8([[1]]), tf.quint8)], [0.0],
                                                       [1.0]),
    "concat_mins_length": lambda tf: tf.quantized_concat(1, [tf.constant(np.uint8([[1]]), tf.quint8)] * 2,
                                                         [0.0], [1.0, 1.0]),
    "concat_dim_past_rank": lambda tf: tf.quantized_concat(2, [tf.constant(np.uint8([[1]]), tf.quint8)] * 2,
                                                           [0.0, 0.0], [1.0, 1.0]),
    "qdq_bad_round_mode": lambda tf: tf.quantization.quantize_and_dequantize([1.0], 1.0, 0.5, round_mode="UP"),
    "qdq_axis_sizes": lambda tf: tf.quantization.quantize_and_dequantize([[1.0, 2.0]], [1.0, 2.0, 3.0],
                                                                         [3.0, 4.0, 5.0], range_given=True, axis=1),
    "dequantize_axis_sizes": lambda tf: tf.dequantize(tf.constant(np.int8([1, 2]), tf.qint8), [-1.0, -1.0, 3],
                                                      [1.0, 1.0, 3], axis=0),
}


@pytest.mark.parametrize("case", sorted(BUILD_ERRORS))
def test_build_errors(case):
    compare_error(BUILD_ERRORS[case])


RUN_ERRORS = {
    "min_above_max": lambda tf: tf.quantize([1.0, 2.0], 1.0, -1.0, tf.qint8),
    "axis_min_above_max": lambda tf: tf.quantize([1.0, 2.0], [1.0, 0.0], [2.0, -1.0], tf.qint8, axis=0),
    "half_to_even_needs_scaled": lambda tf: tf.quantize([1.0, 2.0], 1.0, 2.0, tf.qint8, round_mode="HALF_TO_EVEN"),
    "min_first_per_axis": lambda tf: tf.quantize([1.0, 2.0], [1.0, 0.0], [2.0, 3.0], tf.qint8, axis=0,
                                                 mode="MIN_FIRST"),
    "qdq_num_bits": lambda tf: tf.quantization.quantize_and_dequantize([1.0], -1.0, 1.0, num_bits=70),
    "qdq_min_above_max": lambda tf: tf.quantization.quantize_and_dequantize_v2([1.0], 1.0, 0.5, range_given=True),
    "qdq_given_range_per_axis": lambda tf: tf.quantization.quantize_and_dequantize_v2(
        [[1.0, 2.0]], [-1.0, -1.0], [1.0, 1.0], range_given=True, axis=1),
    "bfloat16_needs_min_combined": lambda tf: tf.dequantize(tf.constant(np.uint8([1]), tf.quint8), 0.0, 1.0,
                                                            mode="SCALED", dtype=tf.bfloat16),
}


@pytest.mark.parametrize("case", sorted(RUN_ERRORS))
def test_run_errors(case):
    got = compare_error(RUN_ERRORS[case], runs=2)
    with graphcompat.Graph().as_default():  # the builder itself raised nothing: the kernel did
        RUN_ERRORS[case](graphcompat)
    assert isinstance(got, errors.OpError)


def _imported_error(build_tf):
    """TF's error running a TF-written graph, and graphcompat's running its import: class and text."""
    v1 = _v1()
    graph = v1.Graph()
    with graph.as_default():
        fetch = build_tf(v1).name
        with v1.Session(graph=graph) as sess:
            with pytest.raises(Exception) as want:
                sess.run(fetch)
    with graphcompat.Graph().as_default() as g:
        graphcompat.import_graph_def(graph.as_graph_def(), name="")
        with graphcompat.Session(graph=g) as sess:
            with pytest.raises(Exception) as got:
                sess.run(fetch)
    assert type(got.value).__name__ == type(want.value).__name__
    lines = str(got.value.message).splitlines()
    # TF lists a node's attrs in its hash map's order: the text up to them, then the registered kernels
    first = lines[0].split(" with these attrs: ")[0]
    assert first in str(want.value.message), (first, want.value.message)
    for line in lines[1:]:
        assert line in str(want.value.message), (line, want.value.message)


IMPORTED_ERRORS = {
    "requantize_min_above_zero": lambda tf: tf.raw_ops.Requantize(
        input=tf.constant(ACC, tf.qint32), input_min=-1.0, input_max=1.0, requested_output_min=1.0,
        requested_output_max=2.0, out_type=tf.quint8)[0],
    "requantize_no_kernel": lambda tf: tf.raw_ops.Requantize(
        input=tf.constant(np.int8([1]), tf.qint8), input_min=-1.0, input_max=1.0, requested_output_min=-1.0,
        requested_output_max=1.0, out_type=tf.quint8)[0],
    "concat_no_kernel": lambda tf: tf.raw_ops.QuantizedConcat(
        concat_dim=0, values=[tf.constant(np.int8([1]), tf.qint8)] * 2, input_mins=[0.0, 0.0],
        input_maxes=[1.0, 1.0])[0],
    "relu_x_no_kernel": lambda tf: tf.raw_ops.QuantizedReluX(
        features=tf.constant(np.uint8([1]), tf.quint8), max_value=1.0, min_features=0.0, max_features=2.0)[0],
    "relu_mixed_types": lambda tf: tf.raw_ops.QuantizedRelu(
        features=tf.constant(np.uint8([1]), tf.quint8), min_features=0.0, max_features=2.0, out_type=tf.qint32)[0],
    "conv_unequal_strides": lambda tf: tf.raw_ops.QuantizedConv2D(
        input=tf.constant(np.zeros((1, 4, 4, 1), np.uint8), tf.quint8),
        filter=tf.constant(np.zeros((2, 2, 1, 1), np.uint8), tf.quint8), min_input=0.0, max_input=1.0,
        min_filter=0.0, max_filter=1.0, strides=[1, 2, 1, 1], padding="SAME")[0],
    "mul_bad_range": lambda tf: tf.raw_ops.QuantizedMul(
        x=tf.constant(np.uint8([1, 2]), tf.quint8), y=tf.constant(np.uint8([1, 2]), tf.quint8), min_x=1.0, max_x=0.0,
        min_y=0.0, max_y=1.0)[0],
    "mul_three_way_broadcast": lambda tf: tf.raw_ops.QuantizedMul(
        x=tf.constant(np.zeros((2, 1, 3), np.uint8), tf.quint8), y=tf.constant(np.zeros((2, 4, 1), np.uint8), tf.quint8),
        min_x=0.0, max_x=1.0, min_y=0.0, max_y=1.0)[0],
    "qdq_half_no_kernel": lambda tf: tf.raw_ops.QuantizeAndDequantizeV2(
        input=tf.constant([1.0], tf.float16), input_min=tf.constant(-1.0, tf.float16),
        input_max=tf.constant(1.0, tf.float16)),
    "matmul_bad_range": lambda tf: tf.raw_ops.QuantizedMatMul(
        a=tf.constant(np.uint8([[1]]), tf.quint8), b=tf.constant(np.uint8([[1]]), tf.quint8), min_a=2.0, max_a=1.0,
        min_b=0.0, max_b=1.0)[0],
    "matmul_no_kernel": lambda tf: tf.raw_ops.QuantizedMatMul(
        a=tf.constant(np.int8([[1]]), tf.qint8), b=tf.constant(np.uint8([[1]]), tf.quint8), min_a=0.0, max_a=1.0,
        min_b=0.0, max_b=1.0)[0],
}


@pytest.mark.parametrize("case", sorted(IMPORTED_ERRORS))
def test_imported_run_errors(case):
    _imported_error(IMPORTED_ERRORS[case])
