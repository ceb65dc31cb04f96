"""tf.parse_example / tf.parse_single_example record TF 2's compat.v1 graph: one `ParseExampleV2` (keys as
string Const inputs, `names`, TF's dense defaults) in a `ParseExample` scope, node for node (names, inputs, attrs);
values, dtypes and static shapes equal TF's over a table of feature specs (FixedLen with and without defaults,
VarLen, SparseFeature, FixedLenSequenceFeature, RaggedFeature with and without partitions, missing features),
and bad inputs raise TF's error classes and texts."""
from __future__ import annotations

import numpy as np
import pytest
from google.protobuf import json_format

import graphcompat
from tests import oracle
from tests._op_oracle import compare, compare_error
from tests.test_sequence_example import example

pytestmark = pytest.mark.oracle

EX_1 = example(f=([1.5, 2.5], "f"), i=([7], "i"), s=([b"x"], "s"), v=([3, 4, 5], "i"), idx=([0, 3], "i"),
               val=([0.5, -1.], "f"), rs=([0, 2, 3], "i"), rl=([1, 2], "i"), seq=([1, 2, 3, 4], "i"))
EX_2 = example(f=([9., 8.], "f"), v=([], "i"), idx=([2], "i"), val=([4.], "f"), rs=([0, 0, 3], "i"),
               rl=([3, 0], "i"), seq=([5, 6], "i"))
EX_EMPTY = example()
# valid partitions of each Example's `seq` (4 and 2 values) for the batched RaggedFeature partitions
EX_P1 = example(seq=([1, 2, 3, 4], "i"), rs=([0, 1, 4], "i"), rl=([1, 3], "i"), starts=([0, 1], "i"),
                limits=([1, 4], "i"), rowids=([0, 1, 1, 1], "i"), outer=([1, 1], "i"), f4=([1., 2., 3., 4.], "f"))
EX_P2 = example(seq=([5, 6], "i"), rs=([0, 0, 2], "i"), rl=([0, 2], "i"), starts=([0, 0], "i"),
                limits=([0, 2], "i"), rowids=([1, 1], "i"), outer=([2], "i"), f4=([7., 8.], "f"))
BATCH = [EX_1, EX_2, EX_1]


def _features(tf) -> dict:
    """name → feature dict, the table the graph and value tests walk."""
    ragged = tf.io.RaggedFeature
    return {
        "fixed_defaults": {"f": tf.FixedLenFeature([2], tf.float32, default_value=[0., -1.]),
                           "i": tf.FixedLenFeature([], tf.int64, default_value=-7),
                           "s": tf.FixedLenFeature([1], tf.string, default_value=["?"]),
                           "missing": tf.FixedLenFeature([2, 2], tf.int64, default_value=[[1, 2], [3, 4]])},
        "varlen": {"v": tf.VarLenFeature(tf.int64), "s": tf.io.VarLenFeature(tf.string),
                   "missing": tf.VarLenFeature(tf.float32)},
        "sparse_feature": {"sp": tf.io.SparseFeature("idx", "val", tf.float32, 10),
                           "idx": tf.VarLenFeature(tf.int64)},
        "sequence": {"seq": tf.io.FixedLenSequenceFeature([2], tf.int64, allow_missing=True, default_value=-1),
                     "gone": tf.io.FixedLenSequenceFeature([], tf.string, allow_missing=True)},
        "ragged": {"v": ragged(tf.int64), "f2": ragged(tf.float32, value_key="f", row_splits_dtype=tf.int64),
                   "missing": ragged(tf.string)},
        "mixed": {"f": tf.FixedLenFeature([2], tf.float32, default_value=[0., 0.]), "v": tf.VarLenFeature(tf.int64),
                  "sp": tf.io.SparseFeature("idx", "val", tf.float32, 10), "r": ragged(tf.int64, value_key="rl"),
                  "seq": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True)},
    }


def _single_features(tf) -> dict:
    """RaggedFeatures with partitions (their graphs differ from TF's in the ragged ops after the parser)."""
    ragged = tf.io.RaggedFeature
    return {"ragged_partitions": {
        "splits": ragged(tf.int64, value_key="seq", partitions=[ragged.RowSplits("rs")]),
        "lengths": ragged(tf.int64, value_key="seq", partitions=[ragged.RowLengths("rl")]),
        "starts": ragged(tf.int64, value_key="seq", partitions=[ragged.RowStarts("starts")]),
        "limits": ragged(tf.int64, value_key="seq", partitions=[ragged.RowLimits("limits")]),
        "rowids": ragged(tf.int64, value_key="seq", partitions=[ragged.ValueRowIds("rowids")]),
        "uniform": ragged(tf.int64, value_key="seq", partitions=[ragged.UniformRowLength(2)]),
        "nested": ragged(tf.int64, value_key="seq", partitions=[ragged.RowLengths("outer"), ragged.RowLengths("rl")]),
        "uniform_outer": ragged(tf.float32, value_key="f4",
                                partitions=[ragged.UniformRowLength(2), ragged.RowLengths("rl")])}}


CASES = sorted(_features(graphcompat))
SINGLE_CASES = sorted(_single_features(graphcompat))


def _nodes(lib, build) -> list:
    graph = lib.Graph()
    with graph.as_default():
        build(lib)
    return [(n.name, n.op, list(n.input), {k: json_format.MessageToDict(v) for k, v in n.attr.items()})
            for n in graph.as_graph_def().node]


def _flat(parsed: dict) -> list:
    out = []
    for key in sorted(parsed):
        value = parsed[key]
        if isinstance(value, graphcompat.SparseTensor) or type(value).__name__ == "SparseTensor":
            out += [value.indices, value.values, value.dense_shape]
        elif hasattr(value, "row_splits") and not hasattr(value, "op"):  # a RaggedTensor
            out += [value.flat_values] + list(value.nested_row_splits)
        else:
            out.append(value)
    return out


def _batched(case: str):
    return lambda tf: _flat(tf.parse_example(tf.placeholder(tf.string, [None], name="s"), _features(tf)[case]))


def _single(case: str, table=_features):
    return lambda tf: _flat(tf.parse_single_example(tf.placeholder(tf.string, [], name="s"), table(tf)[case]))


def _feed(value):
    return lambda tf, g: {g.get_tensor_by_name("s:0"): value}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("batched", [True, False], ids=["parse_example", "parse_single_example"])
def test_graph_is_tfs_node_for_node(case, batched):
    build = _batched(case) if batched else _single(case)
    assert _nodes(graphcompat, build) == _nodes(oracle.tf1(), build)


@pytest.mark.parametrize("case", SINGLE_CASES)
def test_single_example_ragged_partitions_graph(case):
    build = _single(case, _single_features)
    got = [(n, t) for n, t, _, _ in _nodes(graphcompat, build)]
    want = [(n, t) for n, t, _, _ in _nodes(oracle.tf1(), build)]
    assert [x for x in got if x[1] == "ParseExampleV2"] == [x for x in want if x[1] == "ParseExampleV2"]


@pytest.mark.parametrize("case", CASES)
def test_parse_example_values(case):
    compare(_batched(case), _feed(BATCH), runs=1)
    compare(_batched(case), _feed(np.array([], dtype=object)), runs=1) if case not in ("fixed_defaults",
                                                                                     "mixed") else None


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("record", [EX_1, EX_2], ids=["ex1", "ex2"])
def test_parse_single_example_values(case, record):
    compare(_single(case), _feed(record), runs=1)


@pytest.mark.parametrize("batched", [True, False], ids=["parse_example", "parse_single_example"])
def test_ragged_partitions_values(batched):
    if batched:
        compare(lambda tf: _flat(tf.parse_example(tf.placeholder(tf.string, [None], name="s"),
                                                  _single_features(tf)["ragged_partitions"])),
                _feed([EX_P1, EX_P2, EX_P2]), runs=1)
    else:
        for record in (EX_P1, EX_P2):
            compare(_single("ragged_partitions", _single_features), _feed(record), runs=1)


def test_missing_features_take_defaults():
    got = compare(_batched("fixed_defaults"), _feed([EX_EMPTY, EX_1]), runs=1)
    np.testing.assert_array_equal(got[0], [[0., -1.], [1.5, 2.5]])   # sorted keys: f, i, missing, s
    np.testing.assert_array_equal(got[2], [[[1, 2], [3, 4]]] * 2)


def test_graph_name_and_example_names():
    def build(tf):
        s = tf.placeholder(tf.string, [None], name="s")
        return _flat(tf.parse_example(s, {"v": tf.VarLenFeature(tf.int64)}, name="parse",
                                      example_names=["a", "b", "c"]))
    assert _nodes(graphcompat, build) == _nodes(oracle.tf1(), build)
    compare(build, _feed(BATCH), runs=1)

    def build_single(tf):
        return _flat(tf.parse_single_example(tf.placeholder(tf.string, None, name="s"),
                                             {"f": tf.FixedLenFeature([2], tf.float32)}, name="one"))
    assert _nodes(graphcompat, build_single) == _nodes(oracle.tf1(), build_single)


# ------------------------------------------------------------------------------------------------
# bad inputs: run-time (the kernel's texts) and build-time (TF's Python's)
# ------------------------------------------------------------------------------------------------
RUN_ERRORS = {
    "required_missing": ({"f": "FixedLen([2], float32)"}, [EX_1, EX_EMPTY]),
    "wrong_count": ({"v": "FixedLen([2], int64)"}, [EX_1]),
    "wrong_type": ({"f": "FixedLen([2], int64)"}, [EX_1]),
    "varlen_wrong_type": ({"v": "VarLen(float32)"}, [EX_1]),
    "ragged_wrong_type": ({"v": "Ragged(string)"}, [EX_1]),
    "not_a_proto": ({"f": "FixedLen([2], float32)"}, [b"not a proto"]),
    "sequence_stride": ({"v": "Seq([2], int64)"}, [EX_1]),
}


def _spec(tf, text: str):
    kind, args = text.split("(", 1)
    args = eval("(" + args, {"float32": tf.float32, "int64": tf.int64, "string": tf.string})  # noqa: S307
    args = args if isinstance(args, tuple) else (args,)
    if kind == "FixedLen":
        return tf.FixedLenFeature(*args)
    if kind == "VarLen":
        return tf.VarLenFeature(*args)
    if kind == "Ragged":
        return tf.io.RaggedFeature(*args)
    return tf.io.FixedLenSequenceFeature(*args, allow_missing=True)


@pytest.mark.parametrize("case", sorted(RUN_ERRORS))
@pytest.mark.parametrize("batched", [True, False], ids=["parse_example", "parse_single_example"])
def test_run_time_errors_are_tfs(case, batched):
    specs, records = RUN_ERRORS[case]

    def build(tf):
        features = {k: _spec(tf, v) for k, v in specs.items()}
        if batched:
            return _flat(tf.parse_example(tf.placeholder(tf.string, [None], name="s"), features))
        return _flat(tf.parse_single_example(tf.placeholder(tf.string, [], name="s"), features))
    compare_error(build, _feed(records if batched else records[-1]))


BUILD_ERRORS = {
    "no_features": lambda tf: tf.parse_example(tf.constant(["x"]), {}),
    "none_features_single": lambda tf: tf.parse_single_example(tf.constant("x"), None),
    "empty_features_single": lambda tf: tf.parse_single_example(tf.constant("x"), {}),
    "sequence_without_allow_missing": lambda tf: tf.parse_example(
        tf.constant(["x"]), {"a": tf.io.FixedLenSequenceFeature([2], tf.float32)}),
    "unknown_first_dim": lambda tf: tf.parse_example(tf.constant(["x"]), {"a": tf.FixedLenFeature([None], tf.int64)}),
    "partial_shape": lambda tf: tf.parse_example(tf.constant(["x"]), {"a": tf.FixedLenFeature([2, None], tf.int64)}),
    "dense_sparse_overlap": lambda tf: tf.parse_example(
        tf.constant(["x"]), {"a": tf.FixedLenFeature([], tf.int64), "b": tf.io.SparseFeature("a", "v", tf.int64, 3)}),
    "ragged_sparse_overlap": lambda tf: tf.parse_example(
        tf.constant(["x"]), {"a": tf.io.RaggedFeature(tf.int64), "b": tf.VarLenFeature(tf.int64),
                             "c": tf.io.RaggedFeature(tf.int64, value_key="b")}),
    "conflicting_sparse_types": lambda tf: tf.parse_example(
        tf.constant(["x"]), {"a": tf.VarLenFeature(tf.int64), "b": tf.io.SparseFeature("a", "v", tf.int64, 3)}
        if False else {"a": tf.VarLenFeature(tf.float32), "b": tf.io.SparseFeature("a", "v", tf.int64, 3)}),
    "conflicting_ragged_types": lambda tf: tf.parse_example(
        tf.constant(["x"]), {"a": tf.io.RaggedFeature(tf.int64, value_key="v"),
                             "b": tf.io.RaggedFeature(tf.float32, value_key="v")}),
    "unsupported_dtype": lambda tf: tf.parse_example(tf.constant(["x"]), {"a": tf.FixedLenFeature([], tf.int32)}),
    "matrix_serialized": lambda tf: tf.parse_example(tf.constant([["x"]]), {"a": tf.VarLenFeature(tf.int64)}),
    "vector_single": lambda tf: tf.parse_single_example(tf.constant(["x"]), {"a": tf.VarLenFeature(tf.int64)}),
    "ragged_unknown_rank": lambda tf: tf.parse_example(tf.placeholder(tf.string), {"a": tf.io.RaggedFeature(tf.int64)}),
    "ragged_bad_dtype": lambda tf: tf.io.RaggedFeature(tf.int32),
    "ragged_bad_splits": lambda tf: tf.io.RaggedFeature(tf.int64, row_splits_dtype=tf.float32),
    "ragged_empty_key": lambda tf: tf.io.RaggedFeature(tf.int64, value_key=""),
    "ragged_bad_partitions": lambda tf: tf.io.RaggedFeature(tf.int64, partitions="rs"),
}


@pytest.mark.parametrize("case", sorted(BUILD_ERRORS))
def test_build_time_errors_are_tfs(case):
    compare_error(BUILD_ERRORS[case])


def test_old_parse_example_op_still_imports_and_runs():
    """Graphs older TF 1.x wrote hold `ParseExample` / `ParseSingleExample`: they import and run."""
    v1 = oracle.tf1()
    from tensorflow.python.ops import gen_parsing_ops
    graph = v1.Graph()
    with graph.as_default():
        s = v1.placeholder(v1.string, [None], name="s")
        gen_parsing_ops.parse_example(s, names=[], sparse_keys=["v"], dense_keys=["f"], sparse_types=[v1.int64],
                                      dense_defaults=[v1.constant([], v1.float32)], dense_shapes=[[2]], name="old")
    with graphcompat.Graph().as_default() as g:
        graphcompat.import_graph_def(graph.as_graph_def(), name="")
        assert g.get_operation_by_name("old").type == "ParseExample"
        with graphcompat.Session() as sess:
            got = sess.run(["old:0", "old:1", "old:2", "old:3"], {"s:0": [EX_1, EX_2]})
    with v1.Session(graph=graph) as sess:
        want = sess.run(["old:0", "old:1", "old:2", "old:3"], {"s:0": [EX_1, EX_2]})
    for g_, w in zip(got, want):
        np.testing.assert_array_equal(g_, w)


def test_ragged_features_in_sequence_examples_are_refused():
    for parse in (graphcompat.io.parse_sequence_example, graphcompat.io.parse_single_sequence_example):
        with pytest.raises(NotImplementedError, match="tf.io.RaggedFeature in tf.io.parse_sequence_example"):
            parse(graphcompat.constant(["x"] if parse is graphcompat.io.parse_sequence_example else "x"),
                  context_features={"r": graphcompat.io.RaggedFeature(graphcompat.int64)})
