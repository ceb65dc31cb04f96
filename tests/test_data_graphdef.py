"""tf.data graphs in TensorFlow's vocabulary, both ways (issue 12).

- the dataset ops graphcompat records carry TF's REGISTER_OP signatures and the attrs TF 1 graph mode writes
  (a table of pipelines compared node for node with real TF's `as_graph_def()`);
- map/filter/flat_map/interleave functions are FunctionDefs in the graph's library, never top-level nodes;
- a GraphDef / meta graph graphcompat writes is imported and iterated by real TF to OutOfRangeError with the
  same elements, and one that real TF writes is imported and iterated by graphcompat;
- an imported graph with a dataset op type graphcompat lacks fails with one error naming it.
"""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

pytestmark = pytest.mark.oracle


def _write_files(directory) -> dict:
    """A text file and a TFRecord file both libraries read."""
    text = directory / "lines.txt"
    text.write_bytes(b"alpha\nbeta\r\ngamma\n")
    records = directory / "data.tfrecord"
    with tf.io.TFRecordWriter(str(records)) as w:
        for r in (b"r0", b"record-1", b""):
            w.write(r)
    fixed = directory / "fixed.bin"
    fixed.write_bytes(b"HHaabbccF")
    return {"text": str(text), "records": str(records), "fixed": str(fixed)}


def _capture_map(t, paths):
    c = t.constant(3, t.int64)
    return t.data.Dataset.range(5).map(lambda x: x * c + 1)


# name -> build(t, paths) -> Dataset; ordered: whether TF's element order must be reproduced exactly
PIPELINES = {
    "slices": (lambda t, p: t.data.Dataset.from_tensor_slices(
        (np.arange(6, dtype=np.float32).reshape(3, 2), np.array([1, 2, 3], np.int32))), True),
    "from_tensors": (lambda t, p: t.data.Dataset.from_tensors({"a": np.int32(7), "b": np.ones(2, np.float32)}),
                     True),
    "range": (lambda t, p: t.data.Dataset.range(2, 11, 3), True),
    "zip": (lambda t, p: t.data.Dataset.zip((t.data.Dataset.range(4),
                                             t.data.Dataset.from_tensor_slices(np.arange(3.0)))), True),
    "concatenate": (lambda t, p: t.data.Dataset.range(3).concatenate(t.data.Dataset.range(10, 12)), True),
    "map_capture": (_capture_map, True),
    "map_parallel": (lambda t, p: t.data.Dataset.range(6).map(lambda x: t.cast(x, t.float32) / 2,
                                                               num_parallel_calls=2), True),
    "map_structure": (lambda t, p: t.data.Dataset.range(4).map(lambda x: (x, {"sq": x * x})), True),
    "filter": (lambda t, p: t.data.Dataset.range(10).filter(lambda x: t.equal(x % 3, 0)), True),
    "flat_map": (lambda t, p: t.data.Dataset.range(3).flat_map(
        lambda x: t.data.Dataset.from_tensors(x).repeat(2)), True),
    "interleave": (lambda t, p: t.data.Dataset.range(1, 4).interleave(
        lambda x: t.data.Dataset.range(x).map(lambda y: y + 10 * x), cycle_length=2, block_length=1), True),
    "shuffle_seed": (lambda t, p: t.data.Dataset.range(10).shuffle(4, seed=3), False),
    "repeat_batch": (lambda t, p: t.data.Dataset.range(5).repeat(2).batch(3), True),
    "batch_drop": (lambda t, p: t.data.Dataset.range(7).batch(3, drop_remainder=True), True),
    "padded_batch": (lambda t, p: t.data.Dataset.range(1, 5).map(lambda x: t.fill([x], x)).padded_batch(
        2, padded_shapes=[None]), True),
    "padded_batch_fixed": (lambda t, p: t.data.Dataset.range(1, 4).map(lambda x: t.fill([x], x)).padded_batch(
        2, padded_shapes=[4], padding_values=t.constant(-1, t.int64)), True),
    "prefetch": (lambda t, p: t.data.Dataset.range(4).prefetch(2), True),
    "take_skip": (lambda t, p: t.data.Dataset.range(10).skip(2).take(5), True),
    "cache": (lambda t, p: t.data.Dataset.range(3).cache().repeat(2), True),
    "unbatch": (lambda t, p: t.data.Dataset.from_tensor_slices(np.arange(12).reshape(3, 2, 2)).unbatch(), True),
    "text_lines": (lambda t, p: t.data.TextLineDataset(p["text"]), True),
    "tfrecord": (lambda t, p: t.data.TFRecordDataset([p["records"]]), True),
    "fixed_length": (lambda t, p: t.data.FixedLengthRecordDataset(p["fixed"], 2, header_bytes=2, footer_bytes=1),
                     True),
    "text_parallel_reads": (lambda t, p: t.data.TextLineDataset([p["text"]] * 2,
                                                                num_parallel_reads=2), True),
    "text_from_dataset": (lambda t, p: t.data.TextLineDataset(t.data.Dataset.from_tensor_slices([p["text"]])),
                          True),
    "batch_parallel": (lambda t, p: t.data.Dataset.range(7).batch(3, num_parallel_calls=2, deterministic=True),
                       True),
    "map_parallel_deterministic": (lambda t, p: t.data.Dataset.range(5).map(lambda x: x + 1, num_parallel_calls=2,
                                                                            deterministic=False), False),
    "options": (lambda t, p: t.data.Dataset.range(3).with_options(t.data.Options()), True),
    "list_files": (lambda t, p: t.data.Dataset.list_files(p["text"].rpartition("/")[0] + "/*.t*", shuffle=False),
                   True),
    "list_files_shuffled": (lambda t, p: t.data.Dataset.list_files(p["text"].rpartition("/")[0] + "/*", seed=4),
                            False),
    "interleave_parallel": (lambda t, p: t.data.Dataset.range(1, 4).interleave(
        lambda x: t.data.Dataset.range(x), cycle_length=2, num_parallel_calls=2), True),
}
_FAKE_PATHS = {"text": "/data/lines.txt", "records": "data.tfrecord", "fixed": "fixed.bin"}


def _iterate(sess, next_tensors, limit: int = 100) -> list:
    """Every element to OutOfRangeError, each as a flat list of numpy values."""
    out = []
    for _ in range(limit):
        try:
            out.append([np.asarray(v) for v in sess.run(next_tensors)])
        except Exception as e:  # both libraries' OutOfRangeError
            assert type(e).__name__ == "OutOfRangeError", e
            return out
    raise AssertionError("the dataset did not end")


def _flat(lib, value) -> list:
    return lib.nest.flatten(value) if hasattr(lib, "nest") else __import__("tensorflow").nest.flatten(value)


def _build(lib, name: str, paths: dict, one_shot: bool):
    build, _ = PIPELINES[name]
    ds = build(lib, paths)
    it = ds.make_one_shot_iterator() if one_shot else ds.make_initializable_iterator()
    nxt = it.get_next()
    return it, nxt


def _same_elements(got: list, want: list, ordered: bool, label: str) -> None:
    assert len(got) == len(want), (label, len(got), len(want))
    if not ordered:
        key = lambda elem: [v.tolist() for v in elem]  # noqa: E731
        got, want = sorted(got, key=key), sorted(want, key=key)
    for g, w in zip(got, want):
        oracle.assert_same_values(g, w, 1e-6, 0, label)


def _native_elements(lib, name: str, paths: dict, one_shot: bool) -> list:
    graph = lib.Graph()
    with graph.as_default():
        it, nxt = _build(lib, name, paths, one_shot)
        flat = [t for t in __import__("tensorflow").nest.flatten(nxt)]
        with lib.Session(graph=graph) as sess:
            if not one_shot:
                sess.run(it.initializer)
            return _iterate(sess, flat)


def _get_next_names(graph_def) -> tuple:
    """(the IteratorGetNext node's output names, the MakeIterator node's name or None)."""
    get_next = [n for n in graph_def.node if n.op == "IteratorGetNext"][0]
    outputs = [f"{get_next.name}:{k}" for k in range(len(get_next.attr["output_types"].list.type))]
    init = [n.name for n in graph_def.node if n.op == "MakeIterator"]
    return outputs, (init[0] if init else None)


def _run_imported(lib, graph_def, meta: bool = False, path=None) -> list:
    graph = lib.Graph()
    with graph.as_default():
        if meta:
            lib.train.import_meta_graph(path)
        else:
            lib.import_graph_def(graph_def, name="")
        outputs, init = _get_next_names(graph_def)
        with lib.Session(graph=graph) as sess:
            if init is not None:
                sess.run(graph.get_operation_by_name(init))
            return _iterate(sess, [graph.get_tensor_by_name(n) for n in outputs])


# ------------------------------------------------------------------------------------------------
# graphcompat writes, TF runs
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("one_shot", [True, False], ids=["one_shot", "initializable"])
@pytest.mark.parametrize("name", list(PIPELINES))
def test_tf_runs_graphcompat_graph(name, one_shot, tmp_path):
    v1 = oracle.tf1()
    paths = _write_files(tmp_path)
    graph = tf.Graph()
    with graph.as_default():
        _build(tf, name, paths, one_shot)
    graph_def = v1.GraphDef.FromString(graph.as_graph_def().SerializeToString())
    got = _run_imported(v1, graph_def)
    want = _native_elements(tf, name, paths, one_shot)
    _same_elements(got, want, PIPELINES[name][1], name)
    # and TF's own run of the same program
    _same_elements(got, _native_elements(v1, name, paths, one_shot), PIPELINES[name][1], name)


# ------------------------------------------------------------------------------------------------
# The same nodes as TF's graph
# ------------------------------------------------------------------------------------------------
def _nodes(graph_def) -> list:
    """Top-level nodes as comparable tuples: function names (TF numbers and hashes them) are blanked."""
    from google.protobuf import text_format
    out = []
    for node in graph_def.node:
        attrs = {}
        for key, value in node.attr.items():
            if value.HasField("func"):
                attrs[key] = ("func", sorted(value.func.attr))
            else:
                attrs[key] = text_format.MessageToString(value, as_one_line=True)
        out.append((node.name, node.op, list(node.input), attrs))
    return out


@pytest.mark.parametrize("one_shot", [True, False], ids=["one_shot", "initializable"])
@pytest.mark.parametrize("name", list(PIPELINES))
def test_nodes_match_tf(name, one_shot):
    v1 = oracle.tf1()
    defs = []
    for lib in (tf, v1):
        graph = lib.Graph()
        with graph.as_default():
            _build(lib, name, _FAKE_PATHS, one_shot)
        defs.append(graph.as_graph_def())
    got, want = _nodes(defs[0]), _nodes(defs[1])
    assert [n[:3] for n in got] == [n[:3] for n in want]
    for g, w in zip(got, want):
        assert g == w, (g, w)
    # functions: as many, with the same signatures' types
    sigs = [sorted(([a.type for a in f.signature.input_arg], [a.type for a in f.signature.output_arg])
                   for f in d.library.function) for d in defs]
    assert sigs[0] == sigs[1]


# ------------------------------------------------------------------------------------------------
# Signatures: TF's REGISTER_OP, arg for arg, attr for attr
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op_type", list(tf.data.dataset_ops.DATASET_OP_TYPES) + [
    "OneShotIterator", "IteratorV2", "MakeIterator", "IteratorGetNext", "IteratorToStringHandle"])
def test_signature_matches_tf(op_type):
    oracle.tf1()
    from tensorflow.python.framework import op_def_registry

    from graphcompat.framework.registry import get_op_def
    want = op_def_registry.get(op_type)
    got = get_op_def(op_type)

    def arg(a):
        return a.name, a.number_attr or None, a.type_list_attr or a.type_attr or None

    def tf_arg(a):
        return a.name, a.number_attr or None, a.type_list_attr or a.type_attr or None

    assert [arg(a) for a in got.inputs] == [tf_arg(a) for a in want.input_arg]
    assert [arg(a) for a in got.outputs] == [tf_arg(a) for a in want.output_arg]
    type_attrs = {a.name for a in want.attr if a.type in ("type", "list(type)")}
    assert set(got.attrs) | type_attrs == {a.name for a in want.attr}


# ------------------------------------------------------------------------------------------------
# TF writes, graphcompat runs
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("one_shot", [True, False], ids=["one_shot", "initializable"])
@pytest.mark.parametrize("name", list(PIPELINES))
def test_graphcompat_runs_tf_graph(name, one_shot, tmp_path):
    v1 = oracle.tf1()
    paths = _write_files(tmp_path)
    graph = v1.Graph()
    with graph.as_default():
        _build(v1, name, paths, one_shot)
    graph_def = tf.GraphDef.FromString(graph.as_graph_def().SerializeToString())
    got = _run_imported(tf, graph_def)
    _same_elements(got, _native_elements(v1, name, paths, one_shot), PIPELINES[name][1], name)


@pytest.mark.parametrize("name", ["map_capture", "interleave", "padded_batch_fixed", "shuffle_seed"])
def test_graphcompat_reimports_its_own_graph(name):
    """graphcompat's GraphDef imported by graphcompat runs as the program that wrote it."""
    for one_shot in (True, False):
        graph = tf.Graph()
        with graph.as_default():
            _build(tf, name, {}, one_shot)
        got = _run_imported(tf, graph.as_graph_def())
        want = _native_elements(tf, name, {}, one_shot)
        _same_elements(got, want, True, name)  # the same seeds: the same order


def test_meta_graph_both_ways(tmp_path):
    """`export_meta_graph` / `import_meta_graph`: graphcompat's meta graph runs in TF and TF's in graphcompat."""
    v1 = oracle.tf1()
    for writer, reader in ((tf, v1), (v1, tf)):
        graph = writer.Graph()
        with graph.as_default():
            _build(writer, "map_capture", {}, True)
            _build(writer, "interleave", {}, False)
            path = str(tmp_path / f"{writer.__name__}.meta")
            writer.train.export_meta_graph(path)
            graph_def = graph.as_graph_def()
        reader_graph = reader.Graph()
        with reader_graph.as_default():
            reader.train.import_meta_graph(path)
            nexts = [n for n in graph_def.node if n.op == "IteratorGetNext"]
            init = [n.name for n in graph_def.node if n.op == "MakeIterator"]
            with reader.Session(graph=reader_graph) as sess:
                sess.run(reader_graph.get_operation_by_name(init[0]))
                got = [_iterate(sess, [reader_graph.get_tensor_by_name(n.name + ":0")]) for n in nexts]
        assert [[int(e[0]) for e in elems] for elems in got] == [[1, 4, 7, 10, 13], [10, 20, 21, 30, 31, 32]], writer


def test_unknown_dataset_ops_named_at_once():
    """A GraphDef with dataset op types graphcompat lacks: one NotFoundError naming each, nothing imported."""
    v1 = oracle.tf1()
    graph = v1.Graph()
    import tensorflow as real
    with graph.as_default():  # two source op types graphcompat does not define (raw ops, zipped)
        lmdb = real.raw_ops.LMDBDataset(filenames=["x.lmdb"], output_types=[real.string, real.string],
                                        output_shapes=[[], []])
        sql = real.raw_ops.SqlDataset(driver_name="sqlite", data_source_name="x.db", query="SELECT a FROM t",
                                      output_types=[real.string], output_shapes=[[]])
        spec = real.TensorSpec([], real.string)
        ds = v1.data.Dataset.zip((real.data.experimental.from_variant(lmdb, (spec, spec)),
                                  real.data.experimental.from_variant(sql, spec)))
        v1.data.make_initializable_iterator(ds).get_next()
    graph_def = tf.GraphDef.FromString(graph.as_graph_def().SerializeToString())
    target = tf.Graph()
    with target.as_default():
        with pytest.raises(tf.errors.NotFoundError) as info:
            tf.import_graph_def(graph_def, name="")
        assert target.get_operations() == []
    message = str(info.value)
    assert "LMDBDataset" in message and "SqlDataset" in message, message


def test_generator_dataset_import_refused():
    """TF's from_generator calls py_funcs registered in the process that wrote the graph: refused by name."""
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        v1.data.Dataset.from_generator(lambda: iter([1, 2]), v1.int64, []).make_one_shot_iterator().get_next()
    graph_def = tf.GraphDef.FromString(graph.as_graph_def().SerializeToString())
    with tf.Graph().as_default():
        with pytest.raises(NotImplementedError, match="GeneratorDataset"):
            tf.import_graph_def(graph_def, name="")


def test_function_ops_stay_in_the_library():
    """A map function's ops are in its FunctionDef only, referenced by `f` with TF's `_tf_data_function`."""
    graph = tf.Graph()
    with graph.as_default():
        c = tf.constant(2.0, name="scale")
        ds = tf.data.Dataset.from_tensor_slices(np.ones(3, np.float32)).map(lambda x: tf.square(x) * c)
        ds.make_one_shot_iterator().get_next()
    graph_def = graph.as_graph_def()
    assert not [n for n in graph_def.node if n.op in ("Square", "Mul", "_Arg")]
    map_node = [n for n in graph_def.node if n.op == "MapDataset"][0]
    assert list(map_node.input) == ["TensorSliceDataset", "scale"]
    assert map_node.attr["f"].func.attr["_tf_data_function"].b
    functions = {f.signature.name: f for f in graph_def.library.function}
    body = functions[map_node.attr["f"].func.name]
    assert [a.name for a in body.signature.input_arg][0] == "args_0"
    assert sorted(n.op for n in body.node_def) == ["Mul", "Square"]
    factory = [n for n in graph_def.node if n.op == "OneShotIterator"][0].attr["dataset_factory"].func.name
    assert sorted(n.op for n in functions[factory].node_def) == ["Const", "Const", "MapDataset", "TensorSliceDataset"]


def test_imported_iterators_walk_on_the_device():
    """An imported one-shot iterator, and an IteratorV2 that one MakeIterator initializes, iterate their one
    dataset as graphcompat's own do (an in-memory pipeline is walked inside the jitted step); an iterator
    that several MakeIterators re-target stays on the host walk."""
    v1 = oracle.tf1()
    from lowering.data import device_plan
    from lowering.rules.data import iterator_dataset
    graph = v1.Graph()
    with graph.as_default():
        ds = v1.data.Dataset.range(10).map(lambda x: x * 3).shuffle(4, seed=2).batch(3)
        ds.make_one_shot_iterator().get_next()
        ds.make_initializable_iterator().get_next()
        generic = v1.data.Iterator.from_structure(ds.output_types, ds.output_shapes)
        generic.make_initializer(ds)
        generic.make_initializer(ds.take(1))
    target = tf.Graph()
    with target.as_default():
        tf.import_graph_def(tf.GraphDef.FromString(graph.as_graph_def().SerializeToString()), name="")
    iterators = {op.name: op for op in target.get_operations() if op.type in ("OneShotIterator", "IteratorV2")}
    assert set(iterators) == {"OneShotIterator", "IteratorV2", "IteratorV2_1"}
    for name in ("OneShotIterator", "IteratorV2"):
        assert device_plan(iterator_dataset(iterators[name])).ok, name
    assert iterator_dataset(iterators["IteratorV2_1"]) is None
    with tf.Session(graph=target) as sess:
        sess.run(target.get_operation_by_name("MakeIterator"))
        a = _iterate(sess, [target.get_tensor_by_name("IteratorGetNext:0")])
        b = _iterate(sess, [target.get_tensor_by_name("IteratorGetNext_1:0")])
    _same_elements(a, b, True, "one-shot vs initializable")
    assert sorted(np.concatenate([e[0] for e in a]).tolist()) == list(range(0, 30, 3))


def test_reinitializable_iterator_nodes_match_tf():
    """from_structure + make_initializer + get_next + string_handle: TF's nodes, names and attrs."""
    v1 = oracle.tf1()
    defs = []
    for lib in (tf, v1):
        graph = lib.Graph()
        with graph.as_default():
            train = lib.data.Dataset.range(6).batch(2)
            it = lib.data.Iterator.from_structure(train.output_types, train.output_shapes)
            it.make_initializer(train)
            it.get_next()
            it.string_handle()
        defs.append(graph.as_graph_def())
    assert _nodes(defs[0]) == _nodes(defs[1])


@pytest.mark.parametrize("make", [
    lambda t: t.data.TextLineDataset([1, 2]),
    lambda t: t.data.TFRecordDataset(t.data.Dataset.range(3)),
    lambda t: t.data.FixedLengthRecordDataset(t.data.Dataset.from_tensors(["a", "b"]), 4),
], ids=["int_names", "dataset_of_ints", "dataset_of_vectors"])
def test_reader_filename_errors_match_tf(make):
    """Readers check their file names as TF's `_create_or_validate_filenames_dataset`: its class and text."""
    v1 = oracle.tf1()
    errors = []
    for lib in (tf, v1):
        with lib.Graph().as_default():
            with pytest.raises(Exception) as info:
                make(lib)
            errors.append((type(info.value).__name__, str(info.value)))
    assert errors[0] == errors[1]
