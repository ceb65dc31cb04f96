"""FixedLenSequenceFeature, parse_(single_)sequence_example and assert_shapes against real TF1: values,
dtypes, static shapes, SparseTensor components, error classes and texts."""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests._op_oracle import compare, compare_error

pytestmark = pytest.mark.oracle

train = graphcompat.train


def _feature(values, kind: str):
    if kind == "i":
        return train.Feature(int64_list=train.Int64List(value=values))
    if kind == "f":
        return train.Feature(float_list=train.FloatList(value=values))
    if kind == "s":
        return train.Feature(bytes_list=train.BytesList(value=values))
    return train.Feature()  # no kind at all


def example(**features) -> bytes:
    """A serialized tf.train.Example; each feature is (values, kind)."""
    return train.Example(features=train.Features(
        feature={k: _feature(*v) for k, v in features.items()})).SerializeToString()


def seq_example(context: dict, lists: dict) -> bytes:
    """A serialized tf.train.SequenceExample: context {key: (values, kind)}, lists {key: ([step values], kind)}."""
    return train.SequenceExample(
        context=train.Features(feature={k: _feature(*v) for k, v in context.items()}),
        feature_lists=train.FeatureLists(feature_list={
            k: train.FeatureList(feature=[_feature(step, kind) for step in steps])
            for k, (steps, kind) in lists.items()})).SerializeToString()


def _feed(name: str, value):
    return lambda tf, g: {g.get_tensor_by_name(name): value}


# ------------------------------------------------------------------------------------------------
# 1. FixedLenSequenceFeature in parse_example / parse_single_example
# ------------------------------------------------------------------------------------------------
EX_A = example(x=([1., 2., 3., 4.], "f"), s=([b"a", b"b"], "s"), n=([7, 8, 9], "i"))
EX_B = example(x=([5., 6.], "f"), n=([], "i"))
EX_C = example()


def _seq_features(tf):
    return {"x": tf.io.FixedLenSequenceFeature([2], tf.float32, allow_missing=True, default_value=-1.),
            "s": tf.FixedLenSequenceFeature([], tf.string, allow_missing=True),
            "n": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True, default_value=3),
            "fixed": tf.FixedLenFeature([], tf.int64, default_value=0)}


def test_parse_example_fixed_len_sequence_pads_with_default():
    got = compare(lambda tf: tf.parse_example(tf.placeholder(tf.string, [None], name="s"), _seq_features(tf)),
                  _feed("s:0", [EX_A, EX_B, EX_C]))
    np.testing.assert_array_equal(got[3], [[[1, 2], [3, 4]], [[5, 6], [-1, -1]], [[-1, -1], [-1, -1]]])


def test_parse_single_example_fixed_len_sequence():
    for record in (EX_A, EX_B, EX_C):
        compare(lambda tf: tf.parse_single_example(tf.placeholder(tf.string, [], name="s"), _seq_features(tf)),
                _feed("s:0", record))


def test_fixed_len_sequence_requires_allow_missing_in_parse_example():
    compare_error(lambda tf: tf.parse_example(tf.placeholder(tf.string, [None]),
                                              {"x": tf.FixedLenSequenceFeature([2], tf.float32)}))


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("record", [example(x=([1., 2., 3.], "f")), example(x=([1, 2], "i"))],
                         ids=["stride", "dtype"])
def test_parse_example_fixed_len_sequence_errors(batched, record):
    if batched:
        build = lambda tf: tf.parse_example(  # noqa: E731
            tf.placeholder(tf.string, [None], name="s"),
            {"x": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True)})
        feed = _feed("s:0", [EX_A, record])
    else:
        build = lambda tf: tf.parse_single_example(  # noqa: E731
            tf.placeholder(tf.string, [], name="s"),
            {"x": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True)})
        feed = _feed("s:0", record)
    compare_error(build, feed)


# ------------------------------------------------------------------------------------------------
# 2. parse_single_sequence_example / parse_sequence_example
# ------------------------------------------------------------------------------------------------
SEQ_A = seq_example({"len": ([3], "i"), "tags": ([b"x", b"y"], "s")},
                    {"tok": ([[1], [2], [3]], "i"), "v": ([[1., 2.], [], [3.]], "f"),
                     "m": ([[1., 2.], [3., 4.]], "f"), "w": ([[b"a"], [b"b"]], "s")})
SEQ_B = seq_example({"len": ([1], "i"), "d": ([5., 6.], "f")},
                    {"tok": ([[4]], "i"), "v": ([[], [7.], [8., 9., 10.]], "f"), "w": ([[b"c"]], "s")})
SEQ_C = seq_example({"len": ([0], "i"), "other": ((), "none")},
                    {"tok": ([], "i"), "v": ([[], []], "f"), "w": ([[b"d"]], "s")})


def _context(tf):
    return {"len": tf.FixedLenFeature([], tf.int64), "tags": tf.VarLenFeature(tf.string),
            "d": tf.FixedLenFeature([2], tf.float32, default_value=[-1., -2.])}


def _sequence(tf):
    return {"tok": tf.FixedLenSequenceFeature([], tf.int64), "v": tf.VarLenFeature(tf.float32),
            "m": tf.io.FixedLenSequenceFeature([2], tf.float32, allow_missing=True),
            "w": tf.FixedLenSequenceFeature([], tf.string, allow_missing=True)}


@pytest.mark.parametrize("record", [SEQ_A, SEQ_B], ids=["a", "b"])
def test_parse_single_sequence_example(record):
    compare(lambda tf: tf.parse_single_sequence_example(tf.placeholder(tf.string, [], name="s"), _context(tf),
                                                         _sequence(tf)), _feed("s:0", record))
    compare(lambda tf: tf.io.parse_single_sequence_example(tf.constant(record), _context(tf), _sequence(tf)))


def test_parse_single_sequence_example_values():
    graph = graphcompat.Graph()
    with graph.as_default():
        ctx, seq = graphcompat.io.parse_single_sequence_example(graphcompat.constant(SEQ_A), _context(graphcompat),
                                                               _sequence(graphcompat))
        with graphcompat.Session() as sess:
            ctx, seq = sess.run((ctx, seq))
    assert ctx["len"] == 3 and ctx["d"].tolist() == [-1., -2.] and ctx["tags"].values.tolist() == [b"x", b"y"]
    assert seq["tok"].tolist() == [1, 2, 3] and seq["m"].tolist() == [[1., 2.], [3., 4.]]
    assert seq["v"].indices.tolist() == [[0, 0], [0, 1], [2, 0]] and seq["v"].dense_shape.tolist() == [3, 2]


def test_parse_sequence_example_batch_pads_and_lengths():
    build = lambda tf: tf.io.parse_sequence_example(  # noqa: E731
        tf.placeholder(tf.string, [None], name="s"), _context(tf), _sequence(tf))
    got = compare(build, _feed("s:0", [SEQ_A, SEQ_B, SEQ_C]))
    # leaves, keys sorted: context d, len, tags (3); lists m, tok, v (3), w; lengths m, tok, w
    assert len(got) == 14
    assert [got[11].tolist(), got[12].tolist(), got[13].tolist()] == [[2, 0, 0], [3, 1, 0], [2, 1, 1]]
    assert got[10].tolist() == [[b"a", b"b"], [b"c", b""], [b"d", b""]]


def test_parse_sequence_example_graph():
    def build(tf):
        ctx, seq = tf.parse_single_sequence_example(tf.placeholder(tf.string, []), _context(tf), _sequence(tf))
        ctx2, seq2, lengths = tf.io.parse_sequence_example(tf.placeholder(tf.string, [None]), _context(tf),
                                                           _sequence(tf), name="batch")
        return [ctx["d"], seq["tok"], ctx2["len"], lengths["m"]]

    def graph_of(lib):
        graph = lib.Graph()
        with graph.as_default():
            names = [t.name for t in build(lib)]
        nodes = [(n.name, n.op, list(n.input)) for n in graph.as_graph_def().node]
        return names, sorted(nodes)

    v1 = oracle.tf1()
    assert graph_of(graphcompat) == graph_of(v1)


def test_sequence_example_only_context_or_only_sequence():
    compare(lambda tf: tf.io.parse_single_sequence_example(tf.constant(SEQ_A), context_features=_context(tf)))
    compare(lambda tf: tf.io.parse_sequence_example(tf.constant([SEQ_A, SEQ_B]),
                                                    sequence_features={"v": tf.VarLenFeature(tf.float32)}))


SEQ_ERRORS = {
    "truncated": (SEQ_A[:-3], {"context_features": {"len": ("fixed", [], "int64")}}),
    "missing_context": (seq_example({}, {}), {"context_features": {"len": ("fixed", [], "int64")}}),
    "missing_list": (seq_example({}, {}), {"sequence_features": {"tok": ("seq", [], "int64")}}),
    "context_type": (SEQ_A, {"context_features": {"len": ("fixed", [], "float32")}}),
    "context_varlen_type": (SEQ_A, {"context_features": {"len": ("var", None, "string")}}),
    "list_type": (SEQ_A, {"sequence_features": {"tok": ("seq", [], "float32")}}),
    "list_varlen_type": (SEQ_A, {"sequence_features": {"tok": ("var", None, "float32")}}),
    "list_total": (SEQ_A, {"sequence_features": {"v": ("seq", [2], "float32")}}),
    "list_row": (SEQ_B, {"sequence_features": {"v": ("seq", [], "float32")}}),
    "context_empty_feature": (seq_example({"len": ((), "none")}, {}),
                              {"context_features": {"len": ("fixed", [], "int64")}}),
    "context_count": (SEQ_A, {"context_features": {"len": ("fixed", [2], "int64")}}),
}


def _features(tf, spec: dict) -> dict:
    out = {}
    for key, (kind, shape, dtype) in spec.items():
        dtype = getattr(tf, dtype)
        out[key] = (tf.FixedLenFeature(shape, dtype) if kind == "fixed" else tf.VarLenFeature(dtype)
                    if kind == "var" else tf.FixedLenSequenceFeature(shape, dtype))
    return out


@pytest.mark.parametrize("batched", [False, True], ids=["single", "batch"])
@pytest.mark.parametrize("case", sorted(SEQ_ERRORS))
def test_sequence_example_errors(case, batched):
    record, spec = SEQ_ERRORS[case]

    def build(tf):
        kw = {k: _features(tf, v) for k, v in spec.items()}
        if batched:
            return tf.io.parse_sequence_example(tf.placeholder(tf.string, [None], name="s"), **kw)
        return tf.io.parse_single_sequence_example(tf.placeholder(tf.string, [], name="s"), **kw)
    compare_error(build, _feed("s:0", [SEQ_A, record] if batched else record))


def test_sequence_example_build_errors():
    s = lambda tf: tf.placeholder(tf.string, [None])  # noqa: E731
    compare_error(lambda tf: tf.io.parse_sequence_example(s(tf)))
    compare_error(lambda tf: tf.io.parse_single_sequence_example(tf.placeholder(tf.string, [])))
    compare_error(lambda tf: tf.io.parse_single_sequence_example(s(tf), {"a": tf.VarLenFeature(tf.int64)}))
    compare_error(lambda tf: tf.io.parse_sequence_example(
        s(tf), sequence_features={"a": tf.FixedLenSequenceFeature([], tf.int64, default_value=1)}))
    compare_error(lambda tf: tf.io.parse_sequence_example(
        s(tf), context_features={"a": tf.FixedLenFeature([None], tf.int64)}))


# ------------------------------------------------------------------------------------------------
# 3. tf.debugging.assert_shapes
# ------------------------------------------------------------------------------------------------
def _shapes_graph(x_shape, y_shape, spec, message=None):
    def build(tf):
        x = tf.placeholder(tf.float32, x_shape, name="x")
        y = tf.placeholder(tf.float32, y_shape, name="y")
        check = tf.debugging.assert_shapes([(x, spec[0]), (y, spec[1])], message=message)
        with tf.control_dependencies([check]):
            return tf.identity(x) + tf.reduce_sum(y)
    return build


def _xy(x, y):
    return lambda tf, g: {g.get_tensor_by_name("x:0"): np.zeros(x, np.float32),
                          g.get_tensor_by_name("y:0"): np.zeros(y, np.float32)}


@pytest.mark.parametrize("spec,x,y", [
    ((("N", "D"), ("N",)), [2, 3], [2]),
    ((("N", 3), (..., "N")), [4, 3], [5, 4]),
    ((("*", "D"), (".", "D")), [2, 5], [7, 5]),
    (((), (1,)), [], [1]),
])
def test_assert_shapes_passes(spec, x, y):
    compare(_shapes_graph([None] * len(x), [None] * len(y), spec), _xy(x, y))
    compare(_shapes_graph(x, y, spec), _xy(x, y))


@pytest.mark.parametrize("spec,x,y", [
    ((("N", "D"), ("N",)), [2, 3], [3]),          # N disagrees
    ((("N", 3), (..., "N")), [4, 2], [5, 4]),     # explicit size
    ((("N", "D"), ("N",)), [2, 3, 1], [2]),       # rank
    ((("*", "D", "E"), ("D",)), [3], [3]),       # rank at least
])
def test_assert_shapes_static_errors(spec, x, y):
    compare_error(_shapes_graph(x, y, spec, message="shapes"), _xy(x, y))
    compare_error(_shapes_graph(x, y, spec), _xy(x, y))


@pytest.mark.parametrize("spec,x,y,static_rank", [
    ((("N", "D"), ("N",)), [2, 3], [3], True),
    ((("N", 3), (..., "N")), [4, 2], [5, 4], True),
    ((("N", "D"), ("N",)), [2, 3, 1], [2], False),  # a rank error is only a run-time one when the rank is unknown
])
def test_assert_shapes_run_time_errors(spec, x, y, static_rank):
    if static_rank:
        compare_error(_shapes_graph([None] * len(x), [None] * len(y), spec, message="shapes"), _xy(x, y))
    compare_error(_shapes_graph(None, None, spec), _xy(x, y))
    compare_error(_shapes_graph(None, None, spec, message="shapes"), _xy(x, y))


def test_assert_shapes_build_errors():
    compare_error(lambda tf: tf.debugging.assert_shapes([(tf.zeros([2]), 3)]))
    compare_error(lambda tf: tf.debugging.assert_shapes([(tf.zeros([2, 2]), ("N", ...))]))


def test_assert_shapes_graph_nodes():
    # The nodes assert_shapes records itself (the rank asserts inside it are assert_rank's own business).
    def graph_of(lib):
        graph = lib.Graph()
        with graph.as_default():
            x = lib.placeholder(lib.float32, [None, 3], name="x")
            y = lib.placeholder(lib.float32, [None], name="y")
            lib.debugging.assert_shapes([(x, ("N", "D")), (y, ("N",))], message="m")
        return sorted((n.name, n.op, list(n.input)) for n in graph.as_graph_def().node
                      if not n.name.startswith("assert_shapes/assert_rank"))
    assert graph_of(graphcompat) == graph_of(oracle.tf1())


# ------------------------------------------------------------------------------------------------
# 4. tf.io.SparseFeature in parse_example
# ------------------------------------------------------------------------------------------------
SP_A = example(ix=([3, 0], "i"), iy=([1, 2], "i"), val=([0.5, -1.], "f"), tags=([b"t"], "s"))
SP_B = example(ix=([5], "i"), iy=([0], "i"), val=([2.], "f"))
SP_C = example()


def _sparse_features(tf):
    return {"one": tf.io.SparseFeature("ix", "val", tf.float32, 10),
            "two": tf.SparseFeature(["ix", "iy"], "val", tf.float32, [10, 3], already_sorted=False),
            "tags": tf.VarLenFeature(tf.string)}


def test_parse_example_sparse_feature():
    got = compare(lambda tf: tf.parse_example(tf.placeholder(tf.string, [None], name="s"), _sparse_features(tf)),
                  _feed("s:0", [SP_A, SP_B, SP_C]))
    # leaves, keys sorted: "one" first; ids sorted within each example (sparse_merge reorders), shape [batch, size]
    assert got[0].tolist() == [[0, 0], [0, 3], [1, 5]] and got[1].tolist() == [-1., 0.5, 2.]
    assert got[2].tolist() == [3, 10]


def test_parse_single_example_sparse_feature():
    for record in (SP_A, SP_B):
        compare(lambda tf: tf.parse_single_example(tf.placeholder(tf.string, [], name="s"), _sparse_features(tf)),
                _feed("s:0", record))


def test_sparse_feature_build_errors():
    s = lambda tf: tf.placeholder(tf.string, [None])  # noqa: E731
    compare_error(lambda tf: tf.parse_example(s(tf), {"a": tf.SparseFeature("", "v", tf.float32, 3)}))
    compare_error(lambda tf: tf.parse_example(s(tf), {"a": tf.SparseFeature("i", "", tf.float32, 3)}))
    compare_error(lambda tf: tf.parse_example(s(tf), {"a": tf.SparseFeature("i", "v", tf.float32, 3),
                                                      "i": tf.VarLenFeature(tf.float32)}))


def test_tf_parse_sequence_example_graph_imports_and_runs():
    """A GraphDef TF wrote with ParseSequenceExampleV2 imports into graphcompat and gives TF's values."""
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        s = v1.placeholder(v1.string, [None], name="s")
        ctx, seq, lengths = v1.io.parse_sequence_example(s, _context(v1), _sequence(v1))
        names = [seq["tok"].name, lengths["m"].name, ctx["d"].name, seq["v"].values.name, seq["v"].indices.name,
                 ctx["tags"].dense_shape.name, seq["w"].name]
        with v1.Session() as sess:
            want = sess.run(names, {s: [SEQ_A, SEQ_B, SEQ_C]})
    data = graph.as_graph_def().SerializeToString()
    with graphcompat.Graph().as_default():
        graphcompat.import_graph_def(graphcompat.GraphDef.FromString(data), name="")
        with graphcompat.Session() as sess:
            got = sess.run(names, {"s:0": [SEQ_A, SEQ_B, SEQ_C]})
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.tolist() == w.tolist()
