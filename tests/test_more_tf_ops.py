"""Op types real TF graphs contain that graphcompat's builders do not record (graphcompat/ops/more_tf_ops.py and
friends): each case is a GraphDef written node by node (tests/test_legacy_ops.py's `build`), imported with
`tf.import_graph_def` and run; real TensorFlow runs the same GraphDef and the results must agree (values,
dtypes, shapes; random ops bit for bit). Then TF's kernel errors for bad inputs, and the ops TF 2.21 itself
cannot run (its kernels for TopK and TileGrad carry constraints of the newer ops) against their TF 1.x kernels.
"""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat as tf
from graphcompat.framework import dtypes as _dt
from tests import oracle
from tests.test_legacy_ops import C, Ref, _outcome, build, run_graphcompat, run_tf

pytestmark = pytest.mark.oracle
RNG = np.random.RandomState(12)
OLD = 2  # a producer older than the deprecations of TopK (7), TileGrad (3), RandomCrop (8), QuantizeAndDequantize


def f32(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, shape).astype(np.float32)


def _tri_band(k, m, lower=True, dtype=np.float32):
    band = RNG.uniform(-1, 1, (k, m)).astype(dtype)
    band[0 if lower else k - 1] = RNG.uniform(1.0, 2.0, m)  # the diagonal: well conditioned
    return band


_DUP = np.array([[1, 2, 1, 2], [3, 4, 3, 4], [1, 2, 1, 2]], np.int32)
_FDUP = np.array([[0.0, 1.5, -0.0], [2.0, np.nan, 2.0], [0.0, 1.5, 0.0]], np.float32)

# (id, op type, inputs, attrs, number of outputs compared, tolerance (None: exact), extra nodes)
CASES = [
    # --- array / math -----------------------------------------------------------------------------------
    ("unique_v2_axis0", "UniqueV2", [_DUP, C(np.int64([0]))], {}, 2, None, ()),
    ("unique_v2_axis1", "UniqueV2", [_DUP, C(np.int32([1]))], {"out_idx": _dt.int64}, 2, None, ()),
    ("unique_v2_neg_axis", "UniqueV2", [_DUP, C(np.int64([-1]))], {}, 2, None, ()),
    ("unique_v2_vector", "UniqueV2", [np.array([3, 1, 3, 7, 1], np.int64), C(np.int64([]))], {}, 2, None, ()),
    ("unique_v2_float", "UniqueV2", [_FDUP, C(np.int64([0]))], {}, 2, None, ()),
    ("unique_v2_float_cols", "UniqueV2", [_FDUP, C(np.int64([1]))], {}, 2, None, ()),
    ("unique_v2_3d", "UniqueV2", [np.tile(_DUP[:, None, :], (1, 2, 1)), C(np.int64([0]))], {}, 2, None, ()),
    ("unique_v2_string", "UniqueV2", [np.array([b"a", b"b", b"a"], object), C(np.int64([0]))], {}, 2, None, ()),
    ("unique_counts_v2_axis1", "UniqueWithCountsV2", [_DUP, C(np.int64([1]))], {}, 3, None, ()),
    ("unique_counts_v2_axis0", "UniqueWithCountsV2", [_DUP.astype(np.float64), C(np.int32([0]))],
     {"out_idx": _dt.int64}, 3, None, ()),
    ("unique_counts_v2_bool", "UniqueWithCountsV2", [np.array([True, False, True]), C(np.int64([]))], {}, 3,
     None, ()),
    ("to_bool_scalar0", "ToBool", [np.float32(0)], {}, 1, None, ()),
    ("to_bool_scalar", "ToBool", [np.int32(-3)], {}, 1, None, ()),
    ("to_bool_vector", "ToBool", [np.zeros(2, np.float32)], {}, 1, None, ()),
    ("to_bool_empty", "ToBool", [np.zeros((2, 0), np.int64)], {}, 1, None, ()),
    ("to_bool_string", "ToBool", [np.array(b"", object)], {}, 1, None, ()),
    ("to_bool_string1", "ToBool", [np.array(b"x", object)], {}, 1, None, ()),
    ("fact", "Fact", [], {}, 1, None, ()),
    ("accumulate_n", "AccumulateNV2", [[f32(2, 3), f32(2, 3), f32(2, 3)]], {"shape": tf.TensorShape([2, 3])}, 1,
     1e-6, ()),
    ("accumulate_n_i64", "AccumulateNV2", [[np.arange(4, dtype=np.int64), np.ones(4, np.int64)]],
     {"shape": tf.TensorShape([None])}, 1, None, ()),
    ("parallel_stitch", "ParallelDynamicStitch", [[np.int32([0, 2]), np.int32([[1], [3]])],
                                                   [f32(2, 3), f32(2, 1, 3)]], {}, 1, None, ()),
    ("parallel_stitch_i32", "ParallelDynamicStitch", [[np.int32([4, 1]), np.int32([0, 2, 3])],
                                                       [np.int32([7, 8]), np.int32([1, 2, 3])]], {}, 1, None, ()),
    ("banded_lower", "BandedTriangularSolve", [_tri_band(3, 5), f32(5, 2)], {}, 1, 1e-4, ()),
    ("banded_upper", "BandedTriangularSolve", [_tri_band(2, 4, lower=False), f32(4, 3)], {"lower": False}, 1,
     1e-4, ()),
    ("banded_lower_adj", "BandedTriangularSolve", [_tri_band(3, 5), f32(5, 2)], {"adjoint": True}, 1, 1e-4, ()),
    ("banded_upper_adj", "BandedTriangularSolve", [_tri_band(4, 4, lower=False, dtype=np.float64),
                                                    f32(2, 4, 1).astype(np.float64)],
     {"lower": False, "adjoint": True}, 1, 1e-9, ()),
    ("banded_batch", "BandedTriangularSolve", [np.stack([_tri_band(2, 3), _tri_band(2, 3)]), f32(1, 3, 2)], {}, 1,
     1e-4, ()),
    ("banded_c64", "BandedTriangularSolve", [(_tri_band(2, 3) + 0.5j * _tri_band(2, 3)).astype(np.complex64),
                                              (f32(3, 2) + 1j * f32(3, 2)).astype(np.complex64)],
     {"adjoint": True}, 1, 1e-4, ()),
    ("unique_v2_i64_idx", "UniqueV2", [_DUP.astype(np.int64), C(np.int32([1]))], {"out_idx": _dt.int64}, 2, None,
     ()),
    ("unique_v2_f16", "UniqueV2", [_FDUP.astype(np.float16), C(np.int64([0]))], {}, 2, None, ()),
    ("to_bool_bool", "ToBool", [np.bool_(True)], {}, 1, None, ()),
    ("accumulate_n_f64", "AccumulateNV2", [[f32(3).astype(np.float64)] * 3], {"shape": tf.TensorShape([3])}, 1,
     1e-12, ()),
    ("qdq_v1", "QuantizeAndDequantize", [f32(3, 4) * 5], {}, 1, None, ()),
    ("qdq_v1_range", "QuantizeAndDequantize", [f32(3, 4) * 5],
     {"range_given": True, "input_min": -3.0, "input_max": 5.0, "num_bits": 4}, 1, None, ()),
    ("qdq_v1_unsigned", "QuantizeAndDequantize", [np.abs(f32(6).astype(np.float64)) * 7],
     {"signed_input": False, "num_bits": 3}, 1, None, ()),
]


def _compare(got, want, tol, label):
    assert len(got) == len(want), label
    for i, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and (g.dtype == w.dtype or w.dtype.kind in "OSU"), \
            (label, i, g.shape, w.shape, g.dtype, w.dtype)
        if w.dtype.kind in "OSU":
            assert g.tolist() == w.tolist(), (label, i)
        elif tol is None:
            np.testing.assert_array_equal(g, w, err_msg=f"{label} output {i}")
        else:
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=f"{label} output {i}")


def _runs(lib, gd, feed, fetches, n: int = 3) -> list:
    """`n` runs of the imported GraphDef in one session: graphcompat's first runs op by op, later ones
    compiled; a stateful op's stream moves on."""
    g = lib.Graph()
    with g.as_default():
        lib.import_graph_def(gd if lib is tf else lib.GraphDef.FromString(gd.SerializeToString()), name="")
        with lib.Session(graph=g) as sess:
            return [sess.run(fetches, feed) for _ in range(n)]


def run_ours(gd, feed, fetches, n: int = 3) -> list:
    """graphcompat's values, the same on every run (op by op and compiled) of a deterministic op."""
    runs = _runs(tf, gd, feed, fetches, n)
    for later in runs[1:]:
        _compare(later, runs[0], 0, "a later (compiled) run")
    return runs[0]


def _static_shapes_agree(gd, fetches, values):
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd, name="")
        for name, value in zip(fetches, values):
            static = g.get_tensor_by_name(name).shape
            assert static.is_compatible_with(np.shape(value)), (name, static, np.shape(value))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_op_matches_tf(case):
    _, op, inputs, attrs, n, tol, pre = case
    gd, feed, fetches = build(op, inputs, dict(attrs, _producer=OLD), n, pre)
    want = run_tf(gd, feed, fetches)
    got = run_ours(gd, feed, fetches)
    _compare(got, want, tol, case[0])
    _static_shapes_agree(gd, fetches, want)


def _as_set(values):
    """Eigenvalues in one order: by real part (rounded: both solvers' conjugate pairs), then imaginary part."""
    order = np.lexsort((values.imag, np.round(values.real, 3)), axis=-1)
    return np.take_along_axis(values, order, axis=-1)


def test_eig_matches_tf_up_to_eigenvector_phase():
    """Eig's eigenvalues are TF's as a set (the order is the solver's Schur form's); eigenvectors have unit
    norm and satisfy A v = v diag(e)."""
    a = f32(2, 4, 4).astype(np.float64)
    for tout, x in ((_dt.complex128, a), (_dt.complex64, a.astype(np.float32))):
        gd, feed, fetches = build("Eig", [x], {"Tout": tout}, 2)
        got, want = run_graphcompat(gd, feed, fetches), run_tf(gd, feed, fetches)
        tol = 1e-4 if tout == _dt.complex64 else 1e-9
        assert got[0].dtype == want[0].dtype and got[1].shape == want[1].shape
        np.testing.assert_allclose(_as_set(got[0]), _as_set(want[0]), rtol=tol, atol=tol)
        np.testing.assert_allclose(np.linalg.norm(got[1], axis=-2), 1, rtol=tol, atol=tol)
        np.testing.assert_allclose(x @ got[1], got[1] * got[0][..., None, :], rtol=tol * 10, atol=tol * 10)
        gd, feed, fetches = build("Eig", [x], {"Tout": tout, "compute_v": False}, 2)
        got, want = run_graphcompat(gd, feed, fetches), run_tf(gd, feed, fetches)
        np.testing.assert_allclose(_as_set(got[0]), _as_set(want[0]), rtol=tol, atol=tol)
        assert np.shape(got[1]) == np.shape(want[1])


def test_tf1_kernels_tf2_cannot_run():
    """TopK and TileGrad: TF 2.21 registers their CPU kernels with TopKV2's `index_type` / Tile's
    `Tmultiples` constraints, attrs these NodeDefs lack, so its runtime refuses them; graphcompat runs TF 1.x's
    kernels: TopKV2 with k from the attr, and the sum of Tile's copies."""
    x = f32(3, 6)
    gd, feed, fetches = build("TopK", [x], {"k": 2, "_producer": OLD}, 2)
    assert _outcome(run_tf, gd, feed, fetches)[0] == "InvalidArgumentError"
    values, indices = run_graphcompat(gd, feed, fetches)
    want = np.argsort(-x, axis=-1, kind="stable")[:, :2]
    np.testing.assert_array_equal(indices, want.astype(np.int32))
    np.testing.assert_array_equal(values, np.take_along_axis(x, want, -1))
    assert indices.dtype == np.int32
    grad = f32(6, 4)
    gd, feed, fetches = build("TileGrad", [grad, C(np.int32([3, 2]))], {"_producer": OLD})
    got = run_graphcompat(gd, feed, fetches)[0]
    np.testing.assert_allclose(got, grad.reshape(3, 2, 2, 2).sum(axis=(0, 2)), rtol=1e-6)
    # it is Tile's gradient: tf.gradients of tf.tile agrees
    g = tf.Graph()
    with g.as_default():
        v = tf.constant(f32(2, 2))
        d = tf.gradients(tf.tile(v, [3, 2]), v, grad_ys=tf.constant(grad))[0]
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(d), got, rtol=1e-6)


# (op type, inputs, attrs, number of outputs)
ERRORS = [
    ("UniqueV2", [_DUP, C(np.int64([5]))], {}, 2),
    ("UniqueV2", [_DUP, C(np.int64([0, 1]))], {}, 2),
    ("UniqueV2", [_DUP, C(np.int64([]))], {}, 2),
    ("UniqueWithCountsV2", [_DUP, C(np.int64([-3]))], {}, 3),
    ("BandedTriangularSolve", [np.zeros((2, 3), np.float32), f32(3, 1)], {}, 1),
    ("BandedTriangularSolve", [_tri_band(2, 3), f32(4, 1)], {}, 1),
    ("BandedTriangularSolve", [_tri_band(2, 3), f32(3)], {}, 1),
    ("BandedTriangularSolve", [f32(2, 2, 3), f32(3, 3, 1)], {}, 1),
    ("QuantizeAndDequantize", [f32(3)], {"range_given": True, "input_min": 3.0, "input_max": 1.0}, 1),
    ("QuantizeAndDequantize", [f32(3)], {"num_bits": 70}, 1),
    ("Eig", [f32(2, 3)], {"Tout": _dt.complex64}, 2),
]


@pytest.mark.parametrize("case", ERRORS, ids=[f"{c[0]}-{i}" for i, c in enumerate(ERRORS)])
def test_errors_match_tf(case):
    op, inputs, attrs, n = case
    gd, feed, fetches = build(op, inputs, dict(attrs, _producer=OLD), n)
    want = _outcome(run_tf, gd, feed, fetches)
    assert want is not None, "TF raised nothing"
    got = _outcome(run_graphcompat, gd, feed, fetches)
    assert got == want


# --- random ops: TF's numbers bit for bit ----------------------------------------------------------------
_KEY, _COUNTER = np.array([0x1234567890ABCDEF], np.uint64), np.array([7, 99], np.uint64)
RANDOM = [
    ("random_poisson_v1", "RandomPoisson", [C(np.int32([4, 3])), np.array([0.5, 3.0], np.float32)],
     {"seed": 4, "seed2": 9}, 1),
    ("random_poisson_v1_f64", "RandomPoisson", [C(np.int64([5])), np.array([[1.5], [40.0]], np.float64)],
     {"seed": 1, "seed2": 2}, 1),
    ("key_counter_alg", "StatelessRandomGetKeyCounterAlg", [np.int64([1, 2])], {}, 3),
    ("key_counter_alg_i32", "StatelessRandomGetKeyCounterAlg", [np.int32([-5, 77])], {}, 3),
    ("get_alg", "StatelessRandomGetAlg", [], {}, 1),
    ("stateless_shuffle", "StatelessShuffle", [np.arange(10, dtype=np.int64), _KEY, _COUNTER, C(np.int32(1))], {},
     1),
    ("stateless_shuffle_rows", "StatelessShuffle", [f32(7, 2), _KEY, _COUNTER, C(np.int32(3))], {}, 1),
    ("stateless_shuffle_one", "StatelessShuffle", [f32(1, 3), _KEY, _COUNTER, C(np.int32(1))], {}, 1),
    ("stateless_shuffle_scalar", "StatelessShuffle", [np.float32(2), _KEY, _COUNTER, C(np.int32(1))], {}, 1),
]


@pytest.mark.parametrize("case", RANDOM, ids=[c[0] for c in RANDOM])
def test_random_op_matches_tf_bitwise(case):
    _, op, inputs, attrs, n = case
    gd, feed, fetches = build(op, inputs, dict(attrs, _producer=OLD), n)
    # three runs in one session: a stateful op's stream moves on; graphcompat's later runs are compiled
    want = _runs(oracle.tf1(), gd, feed, fetches)
    got = _runs(tf, gd, feed, fetches)
    for g, w in zip(got, want):
        _compare(g, w, None, case[0])
    _static_shapes_agree(gd, fetches, want[0])


def _rng_graph(op: str, state, alg: int, shape, extra=(), attrs=None, state_dtype=_dt.int64):
    """A tf.random.Generator-like graph: a resource variable `v` holding `state`, `op` drawing from it."""
    from tensorboard.compat.proto import graph_pb2
    from tests.test_legacy_ops import _node
    gd = graph_pb2.GraphDef()
    gd.versions.producer = 1205
    state = np.asarray(state)
    _node(gd, "v", "VarHandleOp", dtype=state_dtype, shape=tf.TensorShape(state.shape), shared_name="v")
    _node(gd, "init", "Const", dtype=state_dtype, value=state)
    _node(gd, "assign", "AssignVariableOp", ["v", "init"], dtype=state_dtype)
    _node(gd, "read", "ReadVariableOp", ["v"], dtype=state_dtype)
    names = ["v"]
    for i, value in enumerate([np.int64(alg) if op != "RngReadAndSkip" else np.int32(alg)] +
                              ([np.int64(shape)] if shape is not None else []) + list(extra)):
        value = np.asarray(value)
        _node(gd, f"in{i}", "Const", dtype=_dt.as_dtype(value.dtype), value=value)
        names.append(f"in{i}")
    attrs = dict(attrs or {})
    if op.startswith("Stateful"):
        attrs.setdefault("shape_dtype", _dt.int64)
    _node(gd, "out", op, names, **attrs)
    return gd


def _rng_runs(lib, gd, fetch_out: bool = True):
    g = lib.Graph()
    with g.as_default():
        lib.import_graph_def(gd, name="")
        with lib.Session(graph=g) as sess:
            sess.run("assign")
            results = []
            for _ in range(2):
                results.append(sess.run("out:0") if fetch_out else sess.run("out"))
                results.append(sess.run("read:0"))
            return results


_STATE = np.array([5, 0, 42], np.int64)
_WRAP = np.array([-1, -1, 1], np.int64)  # the counter wraps; TF's Skip loses the high carry
STATEFUL = [
    ("uniform", "StatefulUniform", _STATE, 1, [3], (), {"dtype": _dt.float32}),
    ("uniform_f64_auto", "StatefulUniform", _STATE, 3, [2, 3], (), {"dtype": _dt.float64}),
    ("uniform_half", "StatefulUniform", np.array([3, 2, 1, 0], np.int64), 1, [5], (), {"dtype": _dt.float16}),
    ("normal", "StatefulStandardNormalV2", _STATE, 1, [4, 2], (), {"dtype": _dt.float32}),
    ("normal_f64", "StatefulStandardNormalV2", _WRAP, 1, [3], (), {"dtype": _dt.float64}),
    ("truncated", "StatefulTruncatedNormal", _STATE, 1, [6], (), {"dtype": _dt.float32}),
    ("full_int", "StatefulUniformFullInt", _WRAP, 1, [3], (), {"dtype": _dt.uint64}),
    ("full_int_i32", "StatefulUniformFullInt", _STATE, 1, [5], (), {"dtype": _dt.int32}),
    ("uniform_int", "StatefulUniformInt", _STATE, 1, [7], (np.int64(-5), np.int64(500)), {"dtype": _dt.int64}),
    ("uniform_int_i32", "StatefulUniformInt", _STATE, 3, [2, 2], (np.int32(5), np.int32(9)),
     {"dtype": _dt.int32}),
    ("read_and_skip", "RngReadAndSkip", _STATE, 1, None, (np.uint64(3),), {}),
    ("read_and_skip_wraps", "RngReadAndSkip", _WRAP, 3, None, (np.uint64(2 ** 63 + 5),), {}),
]


@pytest.mark.parametrize("case", STATEFUL, ids=[c[0] for c in STATEFUL])
def test_stateful_rng_matches_tf_bitwise(case):
    """Each draw's values and the state variable after it, for two runs."""
    _, op, state, alg, shape, extra, attrs = case
    gd = _rng_graph(op, state, alg, shape, extra, attrs)
    want = _rng_runs(oracle.tf1(), oracle.tf1().GraphDef.FromString(gd.SerializeToString()))
    got = _rng_runs(tf, gd)
    _compare(got, want, None, case[0])


@pytest.mark.parametrize("delta", [2, -1, 2 ** 40])
def test_rng_skip_matches_tf(delta):
    gd = _rng_graph("RngSkip", _WRAP if delta < 0 else _STATE, 1, None, (np.int64(delta),))
    want = _rng_runs(oracle.tf1(), oracle.tf1().GraphDef.FromString(gd.SerializeToString()), fetch_out=False)
    got = _rng_runs(tf, gd, fetch_out=False)
    assert want[0] is None and got[0] is None
    _compare(got[1::2], want[1::2], None, "RngSkip")


RNG_ERRORS = [
    ("StatefulUniform", np.array([5, 0, 1], np.int64), 2, [3], (), {}),
    ("StatefulUniform", np.array([5, 0, 1], np.int64), 0, [3], (), {}),
    ("StatefulUniform", np.array([5, 0], np.int64), 1, [3], (), {}),
    ("StatefulUniform", np.array([[5, 0, 1]], np.int64), 1, [3], (), {}),
    ("StatefulUniformInt", _STATE, 1, [3], (np.int64(5), np.int64(5)), {}),
    ("RngSkip", np.array([5, 0], np.int64), 1, None, (np.int64(1),), {}),
    ("RngReadAndSkip", _STATE, 2, None, (np.uint64(1),), {}),
    ("RngReadAndSkip", _STATE, 0, None, (np.uint64(1),), {}),
]


@pytest.mark.parametrize("case", RNG_ERRORS, ids=[f"{c[0]}-{i}" for i, c in enumerate(RNG_ERRORS)])
def test_stateful_rng_errors_match_tf(case):
    op, state, alg, shape, extra, attrs = case
    gd = _rng_graph(op, state, alg, shape, extra, attrs)

    def outcome(lib, graph_def):
        try:
            _rng_runs(lib, graph_def, fetch_out=op != "RngSkip")
        except Exception as e:  # noqa: BLE001 (the class is what is compared)
            message = getattr(e, "message", str(e))
            if message.startswith("Graph execution error:"):
                message = message.split("\nNode: '", 1)[-1].split("\n", 1)[-1]
            return type(e).__name__, message.split("\n\t [[")[0].strip()
        return None
    want = outcome(oracle.tf1(), oracle.tf1().GraphDef.FromString(gd.SerializeToString()))
    assert want is not None
    assert outcome(tf, gd) == want


# --- parsing: graphs TF's compat.v1 writes (ParseExampleV2) and TF 1.x's sequence parsers ------------------
def _example(**features) -> bytes:
    v1 = oracle.tf1()
    feats = {}
    for key, value in features.items():
        value = np.asarray(value)
        if value.dtype.kind == "f":
            feats[key] = v1.train.Feature(float_list=v1.train.FloatList(value=value.reshape(-1).tolist()))
        elif value.dtype.kind in "iu":
            feats[key] = v1.train.Feature(int64_list=v1.train.Int64List(value=value.reshape(-1).tolist()))
        else:
            feats[key] = v1.train.Feature(bytes_list=v1.train.BytesList(value=list(value.reshape(-1))))
    return v1.train.Example(features=v1.train.Features(feature=feats)).SerializeToString()


def _sequence_example(context: dict, lists: dict) -> bytes:
    v1 = oracle.tf1()
    proto = v1.train.SequenceExample()
    for key, value in context.items():
        proto.context.feature[key].CopyFrom(v1.train.Feature(
            float_list=v1.train.FloatList(value=value)) if isinstance(value[0], float) else v1.train.Feature(
            int64_list=v1.train.Int64List(value=value)))
    for key, steps in lists.items():
        fl = proto.feature_lists.feature_list[key]
        for step in steps:
            fl.feature.add().int64_list.value.extend(step)
    return proto.SerializeToString()


_EXAMPLES = np.array([_example(a=[1.0, 2.0], b=[3, 4, 5], c=[b"x"], r=[7, 8]),
                      _example(a=[0.5, -1.0], c=[b"y", b"z"]),
                      _example(a=[9.0, 9.5], b=[6], r=[1, 2, 3])], object)


def _tf_graph(build_fn):
    """A GraphDef TF's compat.v1 writes for `build_fn(v1)` -> fetch names."""
    v1 = oracle.tf1()
    g = v1.Graph()
    with g.as_default():
        fetches = build_fn(v1)
    flat = []
    for t in fetches:
        flat += [t.indices.name, t.values.name, t.dense_shape.name] if hasattr(t, "dense_shape") else \
            [t.values.name, t.row_splits.name] if hasattr(t, "row_splits") else [t.name]
    return tf.GraphDef.FromString(g.as_graph_def().SerializeToString()), flat


def _v1_parse_example(v1):
    x = v1.placeholder(v1.string, [None], name="x")
    parsed = v1.io.parse_example(x, {"a": v1.io.FixedLenFeature([2], v1.float32),
                                     "b": v1.io.VarLenFeature(v1.int64),
                                     "c": v1.io.VarLenFeature(v1.string),
                                     "d": v1.io.FixedLenFeature([], v1.int64, default_value=-1),
                                     "r": v1.io.RaggedFeature(v1.int64, row_splits_dtype=v1.int32)})
    return [parsed[k] for k in sorted(parsed)]


def _v1_parse_single_example(v1):
    x = v1.placeholder(v1.string, [], name="x")
    parsed = v1.io.parse_single_example(x, {"a": v1.io.FixedLenFeature([2], v1.float32),
                                            "b": v1.io.VarLenFeature(v1.int64), "r": v1.io.RaggedFeature(v1.int64)})
    splits = v1.get_default_graph().get_tensor_by_name(parsed["r"].name.replace(":4", ":5"))  # empty, as TF's
    return [parsed[k] for k in sorted(parsed)] + [splits]


@pytest.mark.parametrize("build_fn, value", [(_v1_parse_example, _EXAMPLES),
                                             (_v1_parse_single_example, _EXAMPLES[0])],
                         ids=["parse_example", "parse_single_example"])
def test_parse_example_v2_graphs_tf_writes(build_fn, value):
    gd, fetches = _tf_graph(build_fn)
    assert "ParseExampleV2" in {n.op for n in gd.node}
    feed = {"x:0": value}
    want, got = run_tf(gd, feed, fetches), run_ours(gd, feed, fetches)
    _compare(got, want, None, "ParseExampleV2")
    _static_shapes_agree(gd, fetches, want)


_SEQS = np.array([_sequence_example({"c": [1.5]}, {"f": [[1, 2], [3, 4]], "s": [[5], [6, 7, 8]]}),
                  _sequence_example({"c": [2.5]}, {"f": [[9, 9]], "s": [[1]]})], object)
def _v1_parse_sequence_example(v1):
    x = v1.placeholder(v1.string, [None], name="x")
    outs = v1.raw_ops.ParseSequenceExample(
        serialized=x, debug_name=v1.constant([], v1.string), context_dense_defaults=[v1.constant([0.0])],
        feature_list_dense_missing_assumed_empty=[], context_sparse_keys=[], context_dense_keys=["c"],
        feature_list_sparse_keys=["s"], feature_list_dense_keys=["f"], Ncontext_sparse=0, Ncontext_dense=1,
        Nfeature_list_sparse=1, Nfeature_list_dense=1, context_sparse_types=[], feature_list_dense_types=[v1.int64],
        context_dense_shapes=[[1]], feature_list_sparse_types=[v1.int64], feature_list_dense_shapes=[[2]])
    return [t for group in outs for t in (group if isinstance(group, list) else [group])]


def _v1_parse_single_sequence_example(v1):
    x = v1.placeholder(v1.string, [], name="x")
    outs = v1.raw_ops.ParseSingleSequenceExample(
        serialized=x, feature_list_dense_missing_assumed_empty=v1.constant(["f"]), context_sparse_keys=[],
        context_dense_keys=[v1.constant("c")], feature_list_sparse_keys=[v1.constant("s")],
        feature_list_dense_keys=[v1.constant("f")], context_dense_defaults=[v1.constant([0.0])],
        debug_name=v1.constant(""), context_sparse_types=[], feature_list_dense_types=[v1.int64],
        context_dense_shapes=[[1]], feature_list_sparse_types=[v1.int64], feature_list_dense_shapes=[[2]])
    return [t for group in outs for t in (group if isinstance(group, list) else [group])]


@pytest.mark.parametrize("build_fn, value", [(_v1_parse_sequence_example, _SEQS),
                                             (_v1_parse_single_sequence_example, _SEQS[1])],
                         ids=["parse_sequence_example_v1", "parse_single_sequence_example"])
def test_tf1_sequence_parsers(build_fn, value):
    gd, fetches = _tf_graph(build_fn)
    assert {"ParseSequenceExample", "ParseSingleSequenceExample"} & {n.op for n in gd.node}
    feed = {"x:0": value}
    want, got = run_tf(gd, feed, fetches), run_ours(gd, feed, fetches)
    _compare(got, want, None, "sequence parser")
    _static_shapes_agree(gd, fetches, want)


# --- image ops ------------------------------------------------------------------------------------------
IMG = RNG.uniform(0, 255, (2, 5, 6, 3)).astype(np.float32)
_SHIFT = np.array([[1, 0, -1.5, 0, 1, 0.7, 0, 0]], np.float32)  # a translation by fractional pixels
_ROT = np.array([[0.9, -0.3, 1.2, 0.35, 0.95, -0.8, 0.01, -0.02],
                 [1.2, 0.1, -2.0, -0.1, 0.8, 3.0, 0.0, 0.0]], np.float32)  # projective, one per image
_BOXES = np.array([[0.1, 0.2, 0.8, 0.9], [0.0, -0.1, 1.2, 0.5], [0.5, 0.5, 0.5, 0.5]], np.float32)
_BOX_IND = np.array([0, 1, 1], np.int32)
_SEQ_ROWS, _SEQ_COLS = np.array([0, 2, 3, 5], np.int64), np.array([0, 1, 3, 4, 6], np.int64)

IMAGE_CASES = [
    ("ipt_v2_nearest", "ImageProjectiveTransformV2", [IMG, _ROT, C(np.int32([5, 6]))],
     {"interpolation": "NEAREST", "dtype": _dt.float32}, 1, 1e-4, ()),
    ("ipt_v2_bilinear", "ImageProjectiveTransformV2", [IMG, _ROT, C(np.int32([4, 7]))],
     {"interpolation": "BILINEAR", "dtype": _dt.float32}, 1, 1e-3, ()),
    ("ipt_v2_u8", "ImageProjectiveTransformV2", [IMG.astype(np.uint8), _SHIFT, C(np.int32([5, 6]))],
     {"interpolation": "BILINEAR", "dtype": _dt.uint8}, 1, 1, ()),
    ("ipt_v2_reflect", "ImageProjectiveTransformV2", [IMG, _ROT * np.float32([[3, 3, 4, 3, 3, 4, 1, 1]]),
                                                      C(np.int32([6, 6]))],
     {"interpolation": "NEAREST", "fill_mode": "REFLECT", "dtype": _dt.float32}, 1, 1e-4, ()),
    ("ipt_v2_wrap", "ImageProjectiveTransformV2", [IMG, _ROT * np.float32([[3, 3, 4, 3, 3, 4, 1, 1]]),
                                                   C(np.int32([6, 6]))],
     {"interpolation": "BILINEAR", "fill_mode": "WRAP", "dtype": _dt.float32}, 1, 1e-3, ()),
    ("ipt_v2_nearest_fill", "ImageProjectiveTransformV2", [IMG.astype(np.int32), _ROT * 2, C(np.int32([5, 6]))],
     {"interpolation": "NEAREST", "fill_mode": "NEAREST", "dtype": _dt.int32}, 1, 0, ()),
    ("ipt_v3_fill", "ImageProjectiveTransformV3", [IMG.astype(np.float64), _ROT, C(np.int32([5, 6])),
                                                   C(np.float32(-7.5))],
     {"interpolation": "BILINEAR", "dtype": _dt.float64}, 1, 1e-3, ()),
    ("ipt_v2_f16", "ImageProjectiveTransformV2", [IMG.astype(np.float16), _SHIFT, C(np.int32([5, 6]))],
     {"interpolation": "NEAREST", "dtype": _dt.float16}, 1, 0, ()),
    ("ipt_v3_i64_wrap", "ImageProjectiveTransformV3", [IMG.astype(np.int64), _ROT, C(np.int32([5, 6])),
                                                       C(np.float32(3.0))],
     {"interpolation": "NEAREST", "fill_mode": "WRAP", "dtype": _dt.int64}, 1, 0, ()),
    ("crop_grad_image_f16", "CropAndResizeGradImage", [f32(3, 2, 2, 3), _BOXES, _BOX_IND, C(np.int32([2, 5, 6, 3]))],
     {"T": _dt.float16}, 1, 1e-3, ()),
    ("crop_grad_image", "CropAndResizeGradImage", [f32(3, 4, 3, 3), _BOXES, _BOX_IND, C(np.int32([2, 5, 6, 3]))],
     {"T": _dt.float32}, 1, 1e-5, ()),
    ("crop_grad_image_nearest", "CropAndResizeGradImage", [f32(3, 4, 1, 3), _BOXES, _BOX_IND,
                                                           C(np.int32([2, 5, 6, 3]))],
     {"T": _dt.float64, "method": "nearest"}, 1, 1e-5, ()),
    ("crop_grad_boxes", "CropAndResizeGradBoxes", [f32(3, 4, 3, 3), IMG, _BOXES, _BOX_IND], {}, 1, 1e-2, ()),
    ("crop_grad_boxes_u8", "CropAndResizeGradBoxes", [f32(3, 1, 2, 3), IMG.astype(np.uint8), _BOXES, _BOX_IND], {},
     1, 1e-2, ()),
    ("fractional_max_grad", "FractionalMaxPoolGrad",
     [np.round(IMG[:1] / 40), Ref("fmp"), f32(1, 3, 4, 3), C(_SEQ_ROWS), C(_SEQ_COLS)], {}, 1, 1e-6,
     (("fmp", "FractionalMaxPool", ["in0"], {"T": _dt.float32, "pooling_ratio": [1.0, 1.5, 1.5, 1.0],
                                              "deterministic": True, "seed": 1, "seed2": 1}),)),
    ("fractional_max_grad_overlap", "FractionalMaxPoolGrad",
     [IMG[:1].astype(np.float64), Ref("fmp"), f32(1, 3, 4, 3).astype(np.float64), C(_SEQ_ROWS), C(_SEQ_COLS)],
     {"overlapping": True}, 1, 1e-9,
     (("fmp", "FractionalMaxPool", ["in0"], {"T": _dt.float64, "pooling_ratio": [1.0, 1.5, 1.5, 1.0],
                                              "deterministic": True, "seed": 1, "seed2": 1}),)),
    ("fractional_avg_grad", "FractionalAvgPoolGrad", [C(np.int64([1, 5, 6, 3])), f32(1, 3, 4, 3), C(_SEQ_ROWS),
                                                      C(_SEQ_COLS)], {}, 1, 1e-6, ()),
    ("fractional_avg_grad_overlap_i32", "FractionalAvgPoolGrad",
     [C(np.int64([1, 5, 6, 2])), RNG.randint(-50, 50, (1, 3, 4, 2)).astype(np.int32), C(_SEQ_ROWS), C(_SEQ_COLS)],
     {"overlapping": True}, 1, 0, ()),
]


@pytest.mark.parametrize("case", IMAGE_CASES, ids=[c[0] for c in IMAGE_CASES])
def test_image_op_matches_tf(case):
    test_op_matches_tf(case)


def test_random_crop_matches_tf_bitwise():
    """TF 1.x's RandomCrop: the same offsets from the op's Philox stream, run after run."""
    image = np.arange(7 * 9 * 2, dtype=np.float32).reshape(7, 9, 2)
    for size in ([3, 4], [7, 5], [2, 9]):
        gd, feed, fetches = build("RandomCrop", [image, C(np.int64(size))], {"seed": 5, "seed2": 3, "_producer": OLD})

        def runs(lib, graph_def):
            g = lib.Graph()
            with g.as_default():
                lib.import_graph_def(graph_def, name="")
                with lib.Session(graph=g) as sess:
                    return [sess.run(fetches, feed)[0] for _ in range(3)]
        v1 = oracle.tf1()
        want = runs(v1, v1.GraphDef.FromString(gd.SerializeToString()))
        got = runs(tf, gd)
        _compare(got, want, None, f"RandomCrop {size}")


_DISTORT_BOXES = np.array([[[0.1, 0.2, 0.6, 0.9], [0.3, 0.3, 0.4, 0.35]]], np.float32)
DISTORT = [
    ("v1", "SampleDistortedBoundingBox", [np.int32([40, 60, 3]), _DISTORT_BOXES],
     {"min_object_covered": 0.3, "seed": 3, "seed2": 4}),
    ("v1_i64_ranges", "SampleDistortedBoundingBox", [np.int64([120, 200, 3]), _DISTORT_BOXES],
     {"min_object_covered": 0.8, "aspect_ratio_range": [0.5, 2.0], "area_range": [0.2, 0.9], "seed": 7}),
    ("v1_no_boxes", "SampleDistortedBoundingBox", [np.int32([30, 50, 1]), np.zeros((1, 0, 4), np.float32)],
     {"use_image_if_no_bounding_boxes": True, "seed": 1, "seed2": 1, "max_attempts": 3}),
    ("v2", "SampleDistortedBoundingBoxV2", [np.uint8([90, 70, 3]), _DISTORT_BOXES, C(np.float32(0.5))],
     {"seed": 5, "seed2": 6}),
    ("stateless", "StatelessSampleDistortedBoundingBox", [np.int32([40, 60, 3]), _DISTORT_BOXES,
                                                          C(np.float32(0.3)), C(np.int64([7, 8]))], {}),
    ("stateless_i32_seed", "StatelessSampleDistortedBoundingBox", [np.int16([64, 64, 3]), _DISTORT_BOXES,
                                                                   C(np.float32(0.1)), C(np.int32([-1, 9]))],
     {"area_range": [0.05, 0.5]}),
]


@pytest.mark.parametrize("case", DISTORT, ids=[c[0] for c in DISTORT])
def test_sample_distorted_bounding_box_matches_tf_bitwise(case):
    """TF's kernel on TF's Philox stream: the same crops, run after run (the stateless op: the same one)."""
    _, op, inputs, attrs = case
    gd, feed, fetches = build(op, inputs, attrs, 3)
    want = _runs(oracle.tf1(), gd, feed, fetches, 4)
    got = _runs(tf, gd, feed, fetches, 4)
    for g, w in zip(got, want):
        _compare(g, w, None, case[0])
    _static_shapes_agree(gd, fetches, want[0])


IMAGE_ERRORS = [
    ("ImageProjectiveTransformV2", [IMG[0], _ROT, C(np.int32([5, 6]))], {"interpolation": "NEAREST",
                                                                          "dtype": _dt.float32}, 1),
    ("ImageProjectiveTransformV2", [IMG, f32(3, 8), C(np.int32([5, 6]))], {"interpolation": "NEAREST",
                                                                            "dtype": _dt.float32}, 1),
    ("ImageProjectiveTransformV2", [IMG, _ROT, C(np.int32([0, 6]))], {"interpolation": "NEAREST",
                                                                       "dtype": _dt.float32}, 1),
    ("ImageProjectiveTransformV2", [IMG, _ROT, np.int32([5, 6, 1])], {"interpolation": "NEAREST",
                                                                       "dtype": _dt.float32}, 1),
    ("RandomCrop", [IMG[0], C(np.int64([6, 2]))], {}, 1),
    ("RandomCrop", [IMG[0], C(np.int64([2, 9]))], {}, 1),
]


@pytest.mark.parametrize("case", IMAGE_ERRORS, ids=[f"{c[0]}-{i}" for i, c in enumerate(IMAGE_ERRORS)])
def test_image_errors_match_tf(case):
    test_errors_match_tf(case)


_SCALE_IMG = RNG.uniform(0, 1, (2, 6, 7, 2)).astype(np.float32)
SCALE_CASES = [
    (f"{kernel}_{'aa' if aa else 'plain'}_{name}", "ScaleAndTranslate",
     [_SCALE_IMG if kernel != "box" else (_SCALE_IMG * 200).astype(np.uint8), C(np.int32(size)),
      C(np.float32(scale)), C(np.float32(shift))], {"kernel_type": kernel, "antialias": aa}, 1, 1e-4, ())
    for kernel in ("lanczos3", "lanczos1", "lanczos5", "gaussian", "box", "triangle", "keyscubic", "mitchellcubic")
    for aa in (True, False)
    for name, size, scale, shift in (("down", [3, 4], [0.5, 4 / 7], [0.0, 0.0]),
                                     ("up", [9, 11], [1.5, 11 / 7], [0.3, -0.7]))
]
SCALE_CASES += [
    ("grad_lanczos3", "ScaleAndTranslateGrad", [f32(2, 3, 4, 2), _SCALE_IMG, C(np.float32([0.5, 4 / 7])),
                                                C(np.float32([0.0, 0.0]))], {}, 1, 1e-4, ()),
    ("grad_keyscubic_up", "ScaleAndTranslateGrad", [f32(2, 9, 11, 2), _SCALE_IMG, C(np.float32([1.5, 11 / 7])),
                                                    C(np.float32([0.3, -0.7]))],
     {"kernel_type": "keyscubic", "antialias": False}, 1, 1e-4, ()),
]


@pytest.mark.parametrize("case", SCALE_CASES, ids=[c[0] for c in SCALE_CASES])
def test_scale_and_translate_matches_tf(case):
    test_op_matches_tf(case)


def test_scale_and_translate_errors_match_tf():
    for inputs, attrs in (([_SCALE_IMG, C(np.int32([3, 4])), C(np.float32([0.5, 0.0])), C(np.float32([0, 0]))], {}),
                          ([_SCALE_IMG, C(np.int32([3, 4])), C(np.float32([0.5])), C(np.float32([0, 0]))], {}),
                          ([_SCALE_IMG, C(np.int32([3, 4])), C(np.float32([1, 1])), C(np.float32([[0, 0]]))], {}),
                          ([_SCALE_IMG, C(np.int32([0, 4])), C(np.float32([1, 1])), C(np.float32([0, 0]))], {}),
                          ([_SCALE_IMG, C(np.int32([3, 4])), C(np.float32([0.5, 1])), C(np.float32([0, 0]))],
                           {"kernel_type": "cubic"}),
                          ([_SCALE_IMG[0], C(np.int32([3, 4])), C(np.float32([0.5, 1])), C(np.float32([0, 0]))], {})):
        gd, feed, fetches = build("ScaleAndTranslate", inputs, attrs)
        want = _outcome(run_tf, gd, feed, fetches)
        assert want is not None
        assert _outcome(run_graphcompat, gd, feed, fetches) == want


def test_tensor_array_grad_with_shape():
    """A gradient array whose elements have [3] prepended: writes of [3, 2] elements add up and stack."""
    def build_fn(v1):
        ta = v1.raw_ops.TensorArrayV3(size=2, dtype=v1.float32, element_shape=[2])
        flow = v1.raw_ops.TensorArrayWriteV3(handle=ta.handle, index=0, value=v1.constant([1.0, 2.0]),
                                             flow_in=ta.flow)
        flow = v1.raw_ops.TensorArrayWriteV3(handle=ta.handle, index=1, value=v1.constant([3.0, 4.0]), flow_in=flow)
        grad = v1.raw_ops.TensorArrayGradWithShape(handle=ta.handle, flow_in=flow, shape_to_prepend=[3],
                                                   source="gradients")
        value = np.arange(6, dtype=np.float32).reshape(3, 2)
        g_flow = v1.raw_ops.TensorArrayWriteV3(handle=grad.grad_handle, index=1, value=value, flow_in=grad.flow_out)
        g_flow = v1.raw_ops.TensorArrayWriteV3(handle=grad.grad_handle, index=1, value=value, flow_in=g_flow)
        g_flow = v1.raw_ops.TensorArrayWriteV3(handle=grad.grad_handle, index=0, value=-value, flow_in=g_flow)
        stacked = v1.raw_ops.TensorArrayGatherV3(handle=grad.grad_handle, indices=[0, 1], flow_in=g_flow,
                                                 dtype=v1.float32)
        return [stacked, v1.raw_ops.TensorArraySizeV3(handle=grad.grad_handle, flow_in=g_flow)]
    gd, fetches = _tf_graph(build_fn)
    want, got = run_tf(gd, {}, fetches), run_ours(gd, {}, fetches)
    _compare(got, want, None, "TensorArrayGradWithShape")
    assert want[0].shape == (2, 3, 2)


BINOMIAL = [
    ("small_mean", [C(np.int32([5, 3])), C(np.int64([1, 2])), np.float64([3.0, 8.0, 20.0]),
                    np.float64([0.2, 0.7, 0.1])], {}),
    ("btrs", [C(np.int32([4, 2, 2])), C(np.int64([7, 11])), np.float64([[100.0], [500.0]]),
              np.float64([0.3, 0.9])], {}),
    ("edges", [C(np.int64([3, 5])), C(np.int64([0, 0])), np.float32([0.0, 10.0, 5.0, -2.0, 7.0]),
               np.float32([0.5, 1.0, 0.0, 0.5, np.nan])], {"dtype": _dt.float32}),
    ("half", [C(np.int32([6, 2])), C(np.int32([3, 4])), np.float16([40.0, 6.0]), np.float16([0.5, 0.25])],
     {"dtype": _dt.int32}),
]


@pytest.mark.parametrize("case", BINOMIAL, ids=[c[0] for c in BINOMIAL])
def test_stateless_random_binomial_matches_tf_bitwise(case):
    _, inputs, attrs = case
    gd, feed, fetches = build("StatelessRandomBinomial", inputs, dict(attrs), 1)
    want, got = run_tf(gd, feed, fetches), run_ours(gd, feed, fetches)
    _compare(got, want, None, case[0])
    _static_shapes_agree(gd, fetches, want)


def test_stateful_random_binomial_matches_tf_bitwise():
    """The first draw bit for bit, and the state's move. TF 2.21 leaves the state unchanged on the first run
    after initialization (its second run repeats the first draw, then moves the state): graphcompat moves it
    every run, by TF's amount. (TF's kernel aborts the process for an int64 shape: int32 here.)"""
    gd = _rng_graph("StatefulRandomBinomial", _STATE, 1, None,
                    (np.int32([3, 2]), np.float64([4.0, 60.0]), np.float64([0.3, 0.6])),
                    {"T": _dt.float64, "dtype": _dt.int64, "S": _dt.int32})
    want = _rng_runs(oracle.tf1(), oracle.tf1().GraphDef.FromString(gd.SerializeToString()))
    got = _rng_runs(tf, gd)
    _compare(got[:1], want[:1], None, "StatefulRandomBinomial draw")
    _compare(got[1:2], want[3:4], None, "StatefulRandomBinomial state")


# --- gradients where TF registers them: tf.gradients on the imported graph, TF's numbers -------------------
GRADIENTS = [
    ("QuantizeAndDequantize", [f32(3, 4) * 4], {}, [0]),
    ("AccumulateNV2", [[f32(2, 3), f32(2, 3)]], {"shape": tf.TensorShape([2, 3])}, [0]),
    ("ParallelDynamicStitch", [[np.int32([0, 2]), np.int32([1, 3])], [f32(2, 3), f32(2, 3)]], {}, [1]),
    ("BandedTriangularSolve", [_tri_band(3, 4), f32(4, 2)], {}, [0, 1]),
    ("BandedTriangularSolve", [_tri_band(2, 4, lower=False), f32(4, 2)], {"lower": False, "adjoint": True}, [0, 1]),
    ("ImageProjectiveTransformV2", [IMG, _ROT, C(np.int32([5, 6]))],
     {"interpolation": "BILINEAR", "dtype": _dt.float32}, [0, 1]),
    ("ImageProjectiveTransformV3", [IMG, _SHIFT, C(np.int32([4, 7])), C(np.float32(2.0))],
     {"interpolation": "NEAREST", "fill_mode": "REFLECT", "dtype": _dt.float32}, [0, 1]),
    ("ScaleAndTranslate", [_SCALE_IMG, C(np.int32([3, 4])), C(np.float32([0.5, 4 / 7])), C(np.float32([0.1, 0]))],
     {}, [0, 2]),
]


@pytest.mark.parametrize("case", GRADIENTS, ids=[f"{c[0]}-{i}" for i, c in enumerate(GRADIENTS)])
def test_gradients_match_tf(case):
    """tf.gradients of sum(out * w) through the imported op: the same inputs get gradients (None where TF's
    registered gradient gives none) with TF's values."""
    op, inputs, attrs, wrt = case
    gd, feed, _ = build(op, inputs, attrs, 1)
    names = [f"in{i}_0:0" if isinstance(inputs[i], list) else f"in{i}:0" for i in wrt]
    for n in gd.node:  # static shapes (TF's image gradients need the transforms' rank)
        if n.op == "Placeholder" and f"{n.name}:0" in feed:
            n.attr["shape"].shape.CopyFrom(tf.TensorShape(feed[f"{n.name}:0"].shape).as_proto())
    def grads(lib, graph_def):
        g = lib.Graph()
        with g.as_default():
            lib.import_graph_def(graph_def, name="")
            y = g.get_tensor_by_name("out:0")
            w = lib.reshape(lib.sin(lib.cast(lib.range(lib.size(y)), lib.float32) + 0.5), lib.shape(y))
            ds = lib.gradients(lib.reduce_sum(y * w), [g.get_tensor_by_name(n) for n in names])
            with lib.Session(graph=g) as sess:
                return [None if d is None else sess.run(lib.convert_to_tensor(d), feed) for d in ds]
    v1 = oracle.tf1()
    want = grads(v1, v1.GraphDef.FromString(gd.SerializeToString()))
    got = grads(tf, gd)
    assert [d is None for d in got] == [d is None for d in want]
    for g, w in zip(got, want):
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=2e-4, atol=2e-4, err_msg=op)


def test_eig_gradient_matches_tf():
    """Eig's gradient (TF registers one) through a loss that does not depend on the eigenvalues' order."""
    a = np.random.RandomState(1).uniform(-1, 1, (2, 3, 3))
    gd, feed, _ = build("Eig", [a], {"Tout": _dt.complex128}, 2)
    for n in gd.node:
        if n.op == "Placeholder":
            n.attr["shape"].shape.CopyFrom(tf.TensorShape(a.shape).as_proto())

    def grads(lib, graph_def):
        g = lib.Graph()
        with g.as_default():
            lib.import_graph_def(graph_def, name="")
            e, x = g.get_tensor_by_name("out:0"), g.get_tensor_by_name("in0:0")
            loss = lib.reduce_sum(lib.real(e) ** 2) + lib.reduce_sum(lib.imag(e) ** 2)
            with lib.Session(graph=g) as sess:
                return sess.run([loss, lib.gradients(loss, x)[0]], feed)
    v1 = oracle.tf1()
    want = grads(v1, v1.GraphDef.FromString(gd.SerializeToString()))
    got = grads(tf, gd)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-9)


def test_generate_bounding_box_proposals_refused_as_tf_cpu_refuses_it():
    """GPU kernels only: TF's CPU runtime and graphcompat raise the same "No OpKernel" error; shapes are TF's."""
    inputs = [np.zeros([1, 2, 2, 3], np.float32), np.zeros([1, 2, 2, 12], np.float32),
              C(np.float32([[10, 10, 1, 1, 1]])), C(np.zeros([1, 12, 4], np.float32)), C(np.float32(0.5)),
              C(np.int32(10)), C(np.float32(1.0))]
    gd, feed, fetches = build("GenerateBoundingBoxProposals", inputs, {"post_nms_topn": 7}, 2)
    want = _outcome(run_tf, gd, feed, fetches)
    assert want[0] == "InvalidArgumentError" and "No OpKernel" in want[1]
    assert _outcome(run_graphcompat, gd, feed, fetches) == want
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd, name="")
        assert [g.get_tensor_by_name(n).shape.as_list() for n in fetches] == [[None, 7, 4], [None, 7]]


@pytest.mark.parametrize("value", [np.array([_example(b=[1])], object), np.array([_example(a=[1, 2])], object),
                                   np.array([_example(a=[1.0])], object), np.array([b"not a proto"], object)],
                         ids=["missing", "wrong_type", "wrong_size", "garbage"])
def test_parse_example_v2_errors_match_tf(value):
    gd, fetches = _tf_graph(_v1_parse_example)
    feed = {"x:0": value}
    want = _outcome(run_tf, gd, feed, fetches)
    assert want is not None
    assert _outcome(run_graphcompat, gd, feed, fetches) == want


@pytest.mark.parametrize("overlapping", [False, True])
@pytest.mark.parametrize("pseudo_random", [False, True])
def test_fractional_max_pool_gradient_is_tfs_kernel(overlapping, pseudo_random):
    """graphcompat's tf.gradients of fractional_max_pool (SymbolicGradient) gives what TF's gradient kernel,
    FractionalMaxPoolGrad, gives for the same pooling sequences, ties included (zeros after a ReLU: TF routes a
    region's gradient to its first maximum), op by op and compiled."""
    x = np.maximum(np.random.RandomState(0).normal(size=(2, 9, 8, 2)), 0).astype(np.float32)
    x[0, :4, :4, :] = 0
    g = tf.Graph()
    with g.as_default():
        xt = tf.constant(x)
        out, rows, cols = tf.nn.fractional_max_pool(xt, [1.0, 1.6, 1.5, 1.0], pseudo_random=pseudo_random,
                                                    overlapping=overlapping, deterministic=True, seed=1, seed2=2)
        w = tf.constant(np.random.RandomState(1).normal(size=out.shape.as_list()).astype(np.float32))
        grad = tf.gradients(tf.reduce_sum(out * w), xt)[0]
        from graphcompat.framework.registry import apply_op
        kernel = apply_op("FractionalMaxPoolGrad", [xt, out, w, rows, cols], {"overlapping": overlapping})
        with tf.Session() as sess:
            for _ in range(3):
                got, want = sess.run([grad, kernel])
                np.testing.assert_array_equal(got, want)


DISTORT_ERRORS = [
    ("SampleDistortedBoundingBoxV2", [np.int32([40, 60]), _DISTORT_BOXES, C(np.float32(0.1))], {}),
    ("SampleDistortedBoundingBoxV2", [np.int32([40, 60, 3]), _DISTORT_BOXES * 2, C(np.float32(0.1))], {}),
    ("SampleDistortedBoundingBoxV2", [np.int32([40, 60, 3]), _DISTORT_BOXES, C(np.float32(-0.5))], {}),
    ("SampleDistortedBoundingBoxV2", [np.int32([40, 60, 3]), np.zeros((1, 0, 4), np.float32), C(np.float32(0.1))],
     {}),
]


@pytest.mark.parametrize("case", DISTORT_ERRORS, ids=[f"{c[0]}-{i}" for i, c in enumerate(DISTORT_ERRORS)])
def test_sample_distorted_bounding_box_errors_match_tf(case):
    test_errors_match_tf(case + (3,))
