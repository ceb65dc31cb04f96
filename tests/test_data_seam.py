"""tf.data runs from the graph's ops (lowering/data): the front end's Dataset objects only record.

The back end builds each pipeline node from its dataset op (type, attrs, folded inputs, library functions,
child ops) and finds an iterator's dataset in the graph; these tests let the front end's objects go and
check that nothing changes.
"""
import gc
import weakref

import numpy as np
import pytest

import graphcompat as tf
from lowering.data import NODE_TYPES, device_plan, node_of
from lowering.rules.data import iterator_dataset
from tests import oracle


def _drain(nxt, init=None, limit=200):
    out = []
    with tf.Session() as sess:
        if init is not None:
            sess.run(init)
        for _ in range(limit):
            try:
                out.append(sess.run(nxt))
            except tf.errors.OutOfRangeError:
                return out
    raise AssertionError("no OutOfRangeError")


def test_every_dataset_op_type_has_a_pipeline_node():
    assert set(tf.data.dataset_ops.DATASET_OP_TYPES) == set(NODE_TYPES)


PIPELINES = {
    "device_shuffle_batch": lambda: tf.data.Dataset.range(10).map(lambda x: x * 2).shuffle(4, seed=1).batch(3),
    "device_zip_repeat": lambda: tf.data.Dataset.zip((tf.data.Dataset.range(5), tf.data.Dataset.from_tensor_slices(
        np.arange(5.0, dtype=np.float32)))).repeat(2).batch(4, drop_remainder=True),
    "device_full_shuffle": lambda: tf.data.Dataset.from_tensor_slices(np.arange(12)).shuffle(12, seed=3).take(7),
    "host_filter_flat_map": lambda: tf.data.Dataset.range(8).filter(lambda x: x % 3 > 0).flat_map(
        lambda x: tf.data.Dataset.from_tensors(x).repeat(x % 2 + 1)),
    "host_interleave_padded": lambda: tf.data.Dataset.range(1, 5).interleave(
        lambda x: tf.data.Dataset.range(x).map(lambda y: tf.fill([y + 1], y)), cycle_length=2).padded_batch(
        3, padded_shapes=[None]),
    "host_generator": lambda: tf.data.Dataset.from_generator(lambda: iter([[1, 2], [3, 4], [5, 6]]), tf.int32,
                                                             [2]).map(lambda v: v * 10).unbatch(),
    "host_strings": lambda: tf.data.Dataset.from_tensor_slices([b"a", b"bb", b"ccc"]).map(
        lambda s: tf.strings.length(s)),
}


def _values(kind: str, forget: bool) -> list:
    with tf.Graph().as_default():
        ds = PIPELINES[kind]()
        it = ds.make_initializable_iterator()
        nxt, init = it.get_next(), it.initializer
        if forget:
            collected = weakref.ref(ds)
            del ds, it
            gc.collect()
            assert collected() is None  # the graph keeps no Dataset object (a generator's op keeps its source's)
        return _drain(nxt, init)


@pytest.mark.parametrize("kind", sorted(PIPELINES))
def test_pipelines_run_without_the_front_ends_objects(kind):
    want = _values(kind, forget=False)
    got = _values(kind, forget=True)
    assert len(got) == len(want) > 0
    for g, w in zip(got, want):
        for a, b in zip(np.atleast_1d(np.asarray(g, dtype=object)), np.atleast_1d(np.asarray(w, dtype=object))):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_one_shot_iterator_builds_its_pipeline_from_its_dataset_factory():
    with tf.Graph().as_default() as graph:
        nxt = tf.data.Dataset.range(6).map(lambda x: x + 1).batch(4).make_one_shot_iterator().get_next()
        gc.collect()
        got = _drain(nxt)
        it_op = graph.get_operation_by_name("OneShotIterator")
        assert device_plan(iterator_dataset(it_op)).ok
    assert [g.tolist() for g in got] == [[1, 2, 3, 4], [5, 6]]


def test_iterators_find_their_dataset_in_the_graph():
    """make_initializable_iterator colocates its IteratorV2 with the dataset (as TF): that iterator iterates
    the one dataset and may walk on the device; from_structure's iterator is not tied to one: host walk."""
    with tf.Graph().as_default() as graph:
        ds = tf.data.Dataset.range(10).batch(2)
        own = ds.make_initializable_iterator()
        generic = tf.data.Iterator.from_structure(ds.output_types, ds.output_shapes)
        generic.make_initializer(ds)
        own_op, generic_op = own._resource.op, generic._resource.op
        assert iterator_dataset(own_op) is node_of(ds._variant.op)
        assert device_plan(iterator_dataset(own_op)).ok
        assert iterator_dataset(generic_op) is None
        assert _drain(own.get_next(), own.initializer)[-1].tolist() == [8, 9]


def test_nodes_read_static_facts_from_the_ops():
    with tf.Graph().as_default():
        n = tf.placeholder(tf.int64, [])
        fixed = tf.data.Dataset.range(10).batch(3)
        fed = tf.data.Dataset.range(n).batch(3)
        assert node_of(fixed._variant.op)._card() == 4 and node_of(fixed._variant.op)._ragged()
        assert node_of(fed._variant.op)._card() is None
        assert not device_plan(node_of(fed._variant.op)).ok  # an unknown size walks on the host
        it = fed.make_initializable_iterator()
        nxt = it.get_next()
        with tf.Session() as sess:
            sess.run(it.initializer, {n: 4})
            assert sess.run(nxt).tolist() == [0, 1, 2]
            assert sess.run(nxt).tolist() == [3]


def test_seeded_shuffle_is_device_walked_with_folded_seeds():
    """shuffle's seed2 is a SelectV2 over constants (TF's ops); the node evaluates it once to walk on the
    device, and both walks give the same order."""
    with tf.Graph().as_default():
        ds = tf.data.Dataset.range(20).shuffle(5, seed=7)
        node = node_of(ds._variant.op)
        assert node._seeds == (87654321, 7) and not node._random  # TF's default graph seed, the op seed
        assert device_plan(node).ok
        it = ds.make_initializable_iterator()
        device = _drain(it.get_next(), it.initializer)
        generic = tf.data.Iterator.from_structure(ds.output_types, ds.output_shapes)
        host = _drain(generic.get_next(), generic.make_initializer(ds))
    assert [int(v) for v in device] == [int(v) for v in host]
    assert sorted(int(v) for v in device) == list(range(20))


def test_sparse_components_are_marked_on_the_op():
    """An element with a SparseTensor is three flat components; the op records where one starts
    (`_sparse_components`), which the batch node reads to batch them as one SparseTensor."""
    with tf.Graph().as_default():
        ds = tf.data.Dataset.range(3).map(
            lambda x: (x, tf.SparseTensor(indices=[[0]], values=tf.reshape(x, [1]), dense_shape=[2])))
        assert list(ds._variant.op.attrs["_sparse_components"]) == [1]
        batched = ds.batch(2)
        node = node_of(batched._variant.op)
        assert node._groups == [(0, 1), (1, 3)]
        it = tf.data.Iterator.from_structure(batched.output_types, batched.output_shapes,
                                             output_classes=batched.output_classes)
        first = _drain(it.get_next(), it.make_initializer(batched))[0]
    assert first[0].tolist() == [0, 1]
    assert first[1].indices.tolist() == [[0, 0], [1, 0]] and first[1].values.tolist() == [0, 1]


def test_generator_of_an_unregistered_op_is_refused():
    """A GeneratorDataset whose Python generator this process never registered (a graph written by
    another process) raises NotImplementedError naming the op, when the walk starts."""
    with tf.Graph().as_default() as graph:
        nxt = tf.data.Dataset.from_generator(lambda: iter([1]), tf.int64, []).make_one_shot_iterator().get_next()
        graph._extras.pop("op_callables")
        with tf.Session() as sess, pytest.raises(NotImplementedError, match="GeneratorDataset 'GeneratorDataset'"):
            sess.run(nxt)


@pytest.mark.oracle
def test_imported_shuffle_with_a_fed_seed_walks_on_the_host():
    """TF lets a shuffle's seed be a tensor (its seed2 then a SelectV2 of it): the imported ShuffleDataset
    reads its seeds when the iterator is initialized, so a seed gives one order, every time."""
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        seed = v1.placeholder(v1.int64, [], name="seed")
        v1.data.make_initializable_iterator(v1.data.Dataset.range(10).shuffle(10, seed=seed)).get_next()
    target = tf.Graph()
    with target.as_default():
        tf.import_graph_def(tf.GraphDef.FromString(graph.as_graph_def().SerializeToString()), name="")
        assert not device_plan(iterator_dataset(target.get_operation_by_name("IteratorV2"))).ok
        nxt, init = target.get_tensor_by_name("IteratorGetNext:0"), target.get_operation_by_name("MakeIterator")
        orders = []
        with tf.Session() as sess:
            for value in (1, 1, 2):
                sess.run(init, {"seed:0": value})
                orders.append([int(sess.run(nxt)) for _ in range(10)])
    assert orders[0] == orders[1] != orders[2]
    assert sorted(orders[2]) == list(range(10))


@pytest.mark.oracle
def test_imported_dataset_nodes_are_tfs_nodes():
    """A TF GraphDef's dataset nodes are imported as they are (names, types, attrs); a node with a function
    names the imported copy in this graph's library, and the pipeline runs."""
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        scale = v1.constant(3, v1.int64, name="scale")
        ds = v1.data.Dataset.range(7).map(lambda x: x * scale).filter(lambda x: x % 2 > 0).batch(2).prefetch(1)
        v1.data.make_initializable_iterator(ds).get_next()
    graph_def = tf.GraphDef.FromString(graph.as_graph_def().SerializeToString())
    target = tf.Graph()
    with target.as_default():
        tf.import_graph_def(graph_def, name="")
    dataset_nodes = [n for n in graph_def.node if n.op.endswith("Dataset") or n.op.endswith("DatasetV2")]
    assert {n.op for n in dataset_nodes} >= {"RangeDataset", "MapDataset", "FilterDataset", "BatchDatasetV2",
                                             "PrefetchDataset"}
    for node in dataset_nodes:
        op = target.get_operation_by_name(node.name)
        assert op.type == node.op
        for key in node.attr:
            if key in ("f", "predicate"):
                assert target._get_function(op.attrs[key].name) is not None
            elif key not in ("Targuments",):
                assert key in op.attrs, (node.name, key)
    with tf.Session(graph=target) as sess:
        sess.run(target.get_operation_by_name("MakeIterator"))
        nxt = target.get_tensor_by_name("IteratorGetNext:0")
        assert [sess.run(nxt).tolist() for _ in range(2)] == [[3, 9], [15]]
