"""Coverage (issue 13 #7): tf.random.stateless_* — a pure function of (shape, seed): the same values on every
run, in every plan and in every graph; TF's distributions (TF's Philox bits are not reproduced, see
docs/migration.md); TF's graph (op types and names, compared with TensorFlow) and argument checks."""
import numpy as np
import pytest

import graphcompat as tf
from graphcompat.framework import errors as E
from tests import oracle

BUILDERS = {
    "uniform": lambda tf, seed: tf.random.stateless_uniform([4000], seed=seed, minval=-1.0, maxval=3.0),
    "uniform_int": lambda tf, seed: tf.random.stateless_uniform([4000], seed=seed, minval=-5, maxval=7,
                                                                dtype=tf.int32),
    "uniform_full_int": lambda tf, seed: tf.random.stateless_uniform([64], seed=seed, minval=None, maxval=None,
                                                                     dtype=tf.int64),
    "normal": lambda tf, seed: tf.random.stateless_normal([4000], seed=seed, mean=2.0, stddev=0.5,
                                                          dtype=tf.float64),
    "truncated_normal": lambda tf, seed: tf.random.stateless_truncated_normal([4000], seed=seed, stddev=2.0),
    "categorical": lambda tf, seed: tf.random.stateless_categorical(tf.math.log([[0.1, 0.6, 0.3]]), 4000, seed),
    "multinomial": lambda tf, seed: tf.random.stateless_multinomial([[0.0, 0.0]], 10, seed, output_dtype=tf.int32),
}


def _run(build, seeds):
    graph = tf.Graph()
    with graph.as_default():
        seed = tf.placeholder(tf.int64, [2])
        out = build(tf, seed)
        const = build(tf, [7, 9])
        with tf.Session() as sess:
            return [sess.run(out, {seed: s}) for s in seeds], sess.run(const), sess.run(const)


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_values_are_a_function_of_the_seed(kind):
    (a, b, c, d), k1, k2 = _run(BUILDERS[kind], [[7, 9], [7, 9], [7, 10], [7, 9]])
    np.testing.assert_allclose(a, b, rtol=1e-6)     # op by op first run, then compiled: same values
    np.testing.assert_allclose(a, d, rtol=1e-6)
    np.testing.assert_allclose(a, k1, rtol=1e-6)    # a constant seed equals the same fed seed
    np.testing.assert_allclose(k1, k2, rtol=1e-6)
    if kind != "multinomial":
        assert not np.array_equal(a, c)              # another seed, other values
    (again,), _, _ = _run(BUILDERS[kind], [[7, 9]])  # a new graph and session: the same values
    np.testing.assert_allclose(a, again, rtol=1e-6)


def test_distributions():
    (u,), _, _ = _run(BUILDERS["uniform"], [[1, 2]])
    assert u.dtype == np.float32 and u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.1
    (i,), _, _ = _run(BUILDERS["uniform_int"], [[1, 2]])
    assert i.dtype == np.int32 and set(np.unique(i)) == set(range(-5, 7))
    (n,), _, _ = _run(BUILDERS["normal"], [[1, 2]])
    assert n.dtype == np.float64 and abs(n.mean() - 2.0) < 0.05 and abs(n.std() - 0.5) < 0.05
    (t,), _, _ = _run(BUILDERS["truncated_normal"], [[1, 2]])
    assert np.abs(t).max() <= 4.0 and abs(t.std() - 2.0 * 0.88) < 0.1   # std of N(0,1) cut at ±2 is 0.88
    (c,), _, _ = _run(BUILDERS["categorical"], [[1, 2]])
    assert c.shape == (1, 4000) and c.dtype == np.int64
    np.testing.assert_allclose(np.bincount(c[0], minlength=3) / 4000, [0.1, 0.6, 0.3], atol=0.04)


def test_argument_checks():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Dimension must be 2 but is 3"):
            tf.random.stateless_uniform([2], seed=[1, 2, 3])
        with pytest.raises(ValueError, match=r"For integer `dtype` argument <dtype: 'int32'>, argument `minval` and "
                                             r"`maxval` must be both None or not None"):
            tf.random.stateless_uniform([2], seed=[1, 2], dtype=tf.int32)
        with pytest.raises(ValueError, match="Argument `dtype` got invalid value"):
            tf.random.stateless_uniform([2], seed=[1, 2], dtype=tf.int8)
        bad = tf.random.stateless_uniform([2], seed=[1, 2], minval=5, maxval=3, dtype=tf.int32)
        with tf.Session() as sess:
            with pytest.raises(E.InvalidArgumentError, match="Need minval < maxval: 5 >= 3"):
                sess.run(bad)


@pytest.mark.oracle
@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_graph_matches_tensorflow(kind):
    v1 = oracle.tf1()

    def graph_of(lib):
        g = lib.Graph()
        with g.as_default():
            out = BUILDERS[kind](lib, lib.constant([1, 2], lib.int64))
            with lib.Session() as sess:
                value = sess.run(out)
        return out.name, out.dtype.name, out.shape.as_list(), [(op.name, op.type) for op in g.get_operations()], \
            value
    name, dtype, shape, ops, value = graph_of(tf)
    t_name, t_dtype, t_shape, t_ops, t_value = graph_of(v1)
    assert (name, dtype, shape, ops) == (t_name, t_dtype, t_shape, t_ops)
    assert value.shape == t_value.shape and value.dtype == t_value.dtype
