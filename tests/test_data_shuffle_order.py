"""tf.data shuffle: TF's exact order for seeded shuffles (TF's Philox draws, buffer and per-repetition seeds),
on every walk: one-shot and initializable iterators (device walk where the plan allows it), re-initialized,
and `Iterator.from_structure` (host walk); unseeded shuffles stay random."""
import numpy as np
import pytest

import graphcompat
from lowering.data import device_plan, node_of
from lowering.data.device import buffered_order, epoch_seeds, shuffle_words, tf_buffered_shuffle
from tests import oracle

INITS = 3  # an initializable iterator initialized, then re-initialized twice: TF restarts the same order

PIPELINES = {
    "buffer5_of_20": lambda tf: tf.data.Dataset.range(20).shuffle(5, seed=3),
    "full_reshuffle_repeat": lambda tf: tf.data.Dataset.range(6).shuffle(6, seed=1).repeat(3),
    "full_fixed_repeat": lambda tf: tf.data.Dataset.range(6).shuffle(
        6, seed=1, reshuffle_each_iteration=False).repeat(2),
    "small_fixed_repeat": lambda tf: tf.data.Dataset.range(10).shuffle(
        3, seed=5, reshuffle_each_iteration=False).repeat(3),
    "graph_seed": lambda tf: (tf.set_random_seed(4), tf.data.Dataset.range(20).shuffle(7))[1],
    "graph_seed_two_shuffles": lambda tf: (tf.set_random_seed(9), tf.random_uniform([]),
                                           tf.data.Dataset.range(8).shuffle(3).repeat(2).shuffle(4))[2],
    "batch_repeat": lambda tf: tf.data.Dataset.range(10).shuffle(4, seed=2).batch(3).repeat(2),
    "repeat_batch": lambda tf: tf.data.Dataset.range(11).shuffle(4, seed=3).repeat(2).batch(3),
    "full_batch_repeat": lambda tf: tf.data.Dataset.range(10).shuffle(10, seed=8).batch(4).repeat(3),
    "shuffle_after_repeat": lambda tf: tf.data.Dataset.range(7).repeat(3).shuffle(5, seed=9),
    "zip": lambda tf: tf.data.Dataset.zip((tf.data.Dataset.range(8), tf.data.Dataset.range(8).map(
        lambda x: x * 10))).shuffle(3, seed=5).repeat(2),
    "map": lambda tf: tf.data.Dataset.from_tensor_slices(np.arange(9, dtype=np.float32)).map(
        lambda x: x * x).shuffle(4, seed=11),
    "buffer_1": lambda tf: tf.data.Dataset.range(6).shuffle(1, seed=4).repeat(2),
    "buffer_1e6": lambda tf: tf.data.Dataset.range(12).shuffle(10 ** 6, seed=6).repeat(2),
    "buffer_unknown_cardinality": lambda tf: tf.data.Dataset.range(10).shuffle(-2, seed=1).repeat(2),
    "buffer_unknown_cardinality_filter": lambda tf: tf.data.Dataset.range(12).filter(
        lambda x: x % 4 > 0).shuffle(-2, seed=5),
    "big_seed": lambda tf: tf.data.Dataset.range(9).shuffle(4, seed=12345678901).repeat(2),
    "filter_host": lambda tf: tf.data.Dataset.range(15).filter(lambda x: x % 3 > 0).shuffle(4, seed=1).repeat(2),
    "nested_shuffles": lambda tf: tf.data.Dataset.range(10).shuffle(3, seed=1).shuffle(4, seed=2).repeat(2),
    "take": lambda tf: tf.data.Dataset.range(12).shuffle(12, seed=3).take(7),
    "take_batch": lambda tf: tf.data.Dataset.range(12).shuffle(5, seed=3).repeat(2).take(17).batch(4),
    "take_repeat": lambda tf: tf.data.Dataset.range(12).shuffle(12, seed=3).take(7).batch(3).repeat(2),
    "infinite_input": lambda tf: tf.data.Dataset.range(5).repeat().shuffle(3, seed=1).take(12),
    "inside_flat_map": lambda tf: tf.data.Dataset.range(3).flat_map(
        lambda x: tf.data.Dataset.range(4).shuffle(4, seed=2).map(lambda y: y + 10 * x)),
    "shuffle_and_repeat": lambda tf: tf.data.Dataset.range(5).apply(
        tf.data.experimental.shuffle_and_repeat(5, 3, seed=1)),
}

# Pipelines the initializable iterator walks on the host: an unknown size (filter), two host-ordered shuffles, a
# take above the shuffle with a repeat above it (the plan allows only index-preserving nodes there); all others
# walk on the device with the shuffle's orders computed by the host.
HOST_WALKED = {"filter_host", "infinite_input", "inside_flat_map", "buffer_unknown_cardinality_filter", "graph_seed_two_shuffles", "nested_shuffles",
               "take_repeat"}


def _flat(elem) -> list:
    if isinstance(elem, dict):
        return [np.asarray(elem[k]) for k in sorted(elem)]
    if isinstance(elem, (tuple, list)):
        return [a for e in elem for a in _flat(e)]
    return [np.asarray(elem)]


def _drain_runs(tf, build, kind: str, runs: int) -> list:
    """`runs` drains of `build(tf)`'s dataset through an iterator of `kind`, each a list of flat elements."""
    graph = tf.Graph()
    with graph.as_default():
        ds = build(tf)
        if kind == "one_shot":
            it, init = tf.data.make_one_shot_iterator(ds), None
        elif kind == "initializable":
            it = tf.data.make_initializable_iterator(ds)
            init = it.initializer
        else:
            it = tf.data.Iterator.from_structure(tf.data.get_output_types(ds), tf.data.get_output_shapes(ds))
            init = it.make_initializer(ds)
        nxt = it.get_next()
        out = []
        with tf.Session(graph=graph) as sess:
            for _ in range(runs):
                if init is not None:
                    sess.run(init)
                elems = []
                for _ in range(1000):
                    try:
                        elems.append(_flat(sess.run(nxt)))
                    except tf.errors.OutOfRangeError:
                        break
                else:
                    raise AssertionError("no OutOfRangeError")
                out.append(elems)
    return out


def _assert_same(got: list, want: list, label: str) -> None:
    assert len(got) == len(want), (label, len(got), len(want))
    for k, (g, w) in enumerate(zip(got, want)):
        assert len(g) == len(w), (label, k)
        for a, b in zip(g, w):
            assert a.dtype == b.dtype and a.shape == b.shape, (label, k, a.dtype, b.dtype, a.shape, b.shape)
            np.testing.assert_array_equal(a, b, err_msg=f"{label}: element {k}")


_TF_ORDERS: dict = {}


def _tf_order(name: str) -> list:
    if name not in _TF_ORDERS:
        v1 = oracle.tf1()
        runs = _drain_runs(v1, PIPELINES[name], "initializable", 2)
        _assert_same(runs[1], runs[0], f"TF {name} re-initialized")
        _TF_ORDERS[name] = runs[0]
    return _TF_ORDERS[name]


@pytest.mark.oracle
@pytest.mark.parametrize("kind", ["one_shot", "initializable", "from_structure"])
@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_seeded_shuffle_order_is_tfs(name, kind):
    want = _tf_order(name)
    runs = _drain_runs(graphcompat, PIPELINES[name], kind, 1 if kind == "one_shot" else INITS)
    for r, got in enumerate(runs):
        _assert_same(got, want, f"{name} {kind} run {r}")


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_device_walk_plan(name):
    """Most of the table is device-walked (so it checks the host-computed orders as well as the host walk)."""
    with graphcompat.Graph().as_default():
        ds = PIPELINES[name](graphcompat)
        assert device_plan(node_of(ds._variant.op)).ok == (name not in HOST_WALKED)


def test_documented_orders():
    """The task's examples, without TF: TF 2.21 compat.v1's sequences."""
    tf = graphcompat
    got = _drain_runs(tf, PIPELINES["buffer5_of_20"], "initializable", 1)[0]
    assert [int(e[0]) for e in got] == [4, 1, 0, 2, 7, 8, 10, 6, 9, 12, 5, 3, 15, 13, 17, 16, 14, 11, 18, 19]
    got = _drain_runs(tf, PIPELINES["full_reshuffle_repeat"], "one_shot", 1)[0]
    assert [int(e[0]) for e in got] == [4, 5, 1, 2, 3, 0, 4, 3, 1, 5, 0, 2, 3, 5, 0, 1, 4, 2]
    got = _drain_runs(tf, PIPELINES["full_fixed_repeat"], "from_structure", 1)[0]
    assert [int(e[0]) for e in got] == [3, 5, 0, 4, 1, 2] * 2


@pytest.mark.parametrize("n,size", [(0, 3), (1, 1), (37, 1), (37, 5), (37, 36), (37, 37), (37, 10 ** 9), (500, 64)])
def test_device_order_is_the_host_iterators(n, size):
    """`buffered_order` (the device walk's flattened order) is `tf_buffered_shuffle` (the host walk's) on
    indices."""
    seeds = (n + 11, size)
    want = list(tf_buffered_shuffle(range(n), size, shuffle_words(seeds)))
    assert buffered_order(n, size, seeds).tolist() == want


def test_epoch_seeds_read_the_generator_two_words_an_epoch():
    seeds = (87654321, 1)
    assert epoch_seeds(seeds, 5, False) == seeds
    drawn = [epoch_seeds(seeds, e, True) for e in range(6)]
    assert len(set(drawn)) == 6 and all(0 <= s < 2 ** 32 for pair in drawn for s in pair)
    # a buffer of 1 emits in input order whatever the draws; a larger one is a permutation
    assert buffered_order(7, 1, drawn[0]).tolist() == list(range(7))
    assert sorted(buffered_order(50, 8, drawn[1]).tolist()) == list(range(50))


@pytest.mark.parametrize("kind", ["initializable", "from_structure"])
@pytest.mark.parametrize("buffer", [4, 40])
def test_unseeded_shuffle_is_random_per_initialization(kind, buffer):
    runs = _drain_runs(graphcompat, lambda tf: tf.data.Dataset.range(40).shuffle(buffer).repeat(2), kind, 3)
    orders = [[int(e[0]) for e in run] for run in runs]
    for order in orders:
        assert sorted(order) == sorted(list(range(40)) * 2)
        assert order[:40] != order[40:]  # reshuffled each epoch
    assert len({tuple(o) for o in orders}) == 3  # and each initialization anew


_BAD_BUFFER = "buffer_size must be greater than zero or UNKNOWN_CARDINALITY"


@pytest.mark.oracle
@pytest.mark.parametrize("size", [0, -1, -3])
def test_bad_buffer_size_error_is_tfs(size):
    def build(tf):
        return tf.data.make_one_shot_iterator(tf.data.Dataset.range(3).shuffle(size, seed=1)).get_next()

    for lib in (graphcompat, oracle.tf1()):
        with pytest.raises(lib.errors.InvalidArgumentError) as info:
            oracle.run(lib, build)
        assert _BAD_BUFFER in info.value.message


def test_fed_bad_buffer_size_fails_the_initializer():
    tf = graphcompat
    with tf.Graph().as_default():
        size = tf.placeholder(tf.int64, [])
        it = tf.data.make_initializable_iterator(tf.data.Dataset.range(10).shuffle(size, seed=1))
        nxt = it.get_next()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match=_BAD_BUFFER):
                sess.run(it.initializer, {size: 0})
            sess.run(it.initializer, {size: 3})
            assert sorted(int(sess.run(nxt)) for _ in range(10)) == list(range(10))


@pytest.mark.oracle
def test_fed_seed_order_is_tfs():
    """A seed only the run knows (walked on the host with the run's seeds): TF's order too."""
    def orders(tf):
        with tf.Graph().as_default() as graph:
            seed = tf.placeholder(tf.int64, [])
            it = tf.data.make_initializable_iterator(tf.data.Dataset.range(12).shuffle(5, seed=seed).repeat(2))
            nxt = it.get_next()
            with tf.Session(graph=graph) as sess:
                out = []
                for s in (3, 12345678901):
                    sess.run(it.initializer, {seed: s})
                    out.append([int(sess.run(nxt)) for _ in range(24)])
        return out

    assert orders(graphcompat) == orders(oracle.tf1())


@pytest.mark.oracle
@pytest.mark.parametrize("graph_seed", [None, 5])
def test_seed_tensor_ops_are_tfs(graph_seed):
    """A seed tensor: TF truncates it with a FloorMod op before the seed2 select."""
    def ops(tf):
        with tf.Graph().as_default() as graph:
            if graph_seed is not None:
                tf.set_random_seed(graph_seed)
            tf.data.Dataset.range(12).shuffle(5, seed=tf.placeholder(tf.int64, []))
            return [(op.type, op.name, [t.name for t in op.inputs]) for op in graph.get_operations()]

    assert ops(graphcompat) == ops(oracle.tf1())


def test_unseeded_inner_shuffles_draw_their_own_seeds():
    """Each inner dataset of a flat_map is a new dataset value: unseeded, each draws its own random seeds."""
    build = (lambda tf: tf.data.Dataset.range(5).flat_map(
        lambda x: tf.data.Dataset.range(10).shuffle(10).map(lambda y: y + 0 * x)))
    order = [int(e[0]) for e in _drain_runs(graphcompat, build, "one_shot", 1)[0]]
    inner = [tuple(order[k:k + 10]) for k in range(0, 50, 10)]
    assert all(sorted(o) == list(range(10)) for o in inner)
    assert len(set(inner)) > 1
