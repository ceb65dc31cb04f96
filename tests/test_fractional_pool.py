"""tf.nn.fractional_max_pool / fractional_avg_pool (TF1 signatures; FractionalMaxPool /
FractionalAvgPool). Integer ratios leave one possible pooling sequence, so outputs, sequences and
gradients equal TF's; for other ratios graphcompat draws its own sequences (TF's Philox draws are not
reproduced), so the pooling is compared given TF's sequences, and the sequences by their law."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphcompat as tf
from lowering.rules.fractional_pool import fractional_pool
from tests import oracle

X = np.random.RandomState(1).randn(2, 10, 9, 3).astype(np.float32)
POOLS = ["fractional_max_pool", "fractional_avg_pool"]


def _run(lib, fn, ratio, runs=1, **kwargs):
    with lib.Graph().as_default():
        value = lib.constant(X)
        result = getattr(lib.nn, fn)(value, ratio, **kwargs)
        grad, = lib.gradients(lib.reduce_sum(result.output * result.output), value)
        static = [t.shape.as_list() for t in result]
        with lib.Session() as sess:
            return [sess.run(list(result) + [grad]) for _ in range(runs)], static, result.output.op


@pytest.mark.oracle
@pytest.mark.parametrize("fn", POOLS)
@pytest.mark.parametrize("kwargs", [{}, dict(overlapping=True), dict(pseudo_random=True, deterministic=True)],
                         ids=["random", "overlapping", "pseudo_random"])
def test_integer_ratios_match_tensorflow(fn, kwargs):
    got, static, op = _run(tf, fn, [1.0, 2.0, 3.0, 1.0], **kwargs)
    want, t_static, t_op = _run(oracle.tf1(), fn, [1.0, 2.0, 3.0, 1.0], **kwargs)
    assert (static, op.type, op.name) == (t_static, t_op.type, t_op.name)
    for g, w in zip(got[0], want[0]):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)


@pytest.mark.oracle
@pytest.mark.parametrize("fn", POOLS)
@pytest.mark.parametrize("overlapping", [False, True])
def test_pooling_given_tensorflow_sequences(fn, overlapping):
    # TF's regions for a fractional ratio come from its own RNG: pool over the sequences it returned
    (out, rows, cols, grad), = _run(oracle.tf1(), fn, [1.0, 1.44, 1.73, 1.0], overlapping=overlapping)[0][:1]
    kind = "max" if fn == "fractional_max_pool" else "avg"
    with jax.enable_x64(True):
        pooled, vjp = jax.vjp(lambda x: fractional_pool(x, jnp.asarray(rows), jnp.asarray(cols), overlapping, kind),
                              jnp.asarray(X))
        np.testing.assert_allclose(pooled, out, rtol=1e-6, atol=1e-7)  # sums in another order
        np.testing.assert_allclose(vjp(2 * pooled)[0], grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("fn", POOLS)
@pytest.mark.parametrize("pseudo_random", [False, True])
def test_sequences_follow_tensorflows_law(fn, pseudo_random):
    ratio = [1.0, 1.44, 1.73, 1.0]
    runs, static, _ = _run(tf, fn, ratio, runs=3, pseudo_random=pseudo_random)
    assert static == [[2, 6, 5, 3], [6], [5]]  # TF's shape function: sequences as long as the output
    kind = "max" if fn == "fractional_max_pool" else "avg"
    for out, rows, cols, grad in runs:
        for seq, size, n in ((rows, 10, 6), (cols, 9, 5)):
            assert seq.dtype == np.int64 and len(seq) == n + 1 and seq[0] == 0 and seq[-1] == size
            assert set(np.diff(seq)) <= {size // n, size // n + 1}
        # the gradient's re-traced forward pass pools over this run's regions
        with jax.enable_x64(True):
            pooled, vjp = jax.vjp(lambda x: fractional_pool(x, jnp.asarray(rows), jnp.asarray(cols), False, kind),
                                  jnp.asarray(X))
        np.testing.assert_allclose(out, pooled, rtol=1e-6)
        np.testing.assert_allclose(grad, vjp(2 * pooled)[0], rtol=1e-5, atol=1e-7)


def test_deterministic_keeps_its_sequences():
    ratio = [1.0, 1.44, 1.73, 1.0]
    fixed, _, _ = _run(tf, "fractional_max_pool", ratio, runs=3, deterministic=True, seed=1, seed2=2)
    assert all(np.array_equal(r[1], fixed[0][1]) and np.array_equal(r[2], fixed[0][2]) for r in fixed)
    again, _, _ = _run(tf, "fractional_max_pool", ratio, runs=1, deterministic=True, seed=1, seed2=2)
    np.testing.assert_array_equal(again[0][1], fixed[0][1])
    draws, _, _ = _run(tf, "fractional_max_pool", [1.0, 1.1, 1.1, 1.0], runs=4)
    assert len({tuple(r[1]) + tuple(r[2]) for r in draws}) > 1  # a new draw per run


def test_errors():
    with tf.Graph().as_default():
        x = tf.constant(X)
        with pytest.raises(ValueError, match="Attr 'pooling_ratio' of 'FractionalMaxPool' Op passed list of "
                                             "length 3 less than minimum 4."):
            tf.nn.fractional_max_pool(x, [1.0, 1.5, 1.5])
        with pytest.raises(ValueError, match="pooling_ratio cannot be smaller than 1, got: 0.5"):
            tf.nn.fractional_avg_pool(x, [1.0, 0.5, 1.5, 1.0])
        with pytest.raises(ValueError, match="Shape must be rank 4 but is rank 2"):
            tf.nn.fractional_max_pool(tf.zeros([2, 3]), [1.0, 1.5, 1.5, 1.0])
        with pytest.raises(TypeError, match="Value passed to parameter 'value' has DataType float16 not in list "
                                            "of allowed values: float32, float64, int32, int64"):
            tf.nn.fractional_max_pool(tf.zeros([1, 4, 4, 1], tf.float16), [1.0, 1.5, 1.5, 1.0])
        seeded = tf.nn.fractional_max_pool(x, [1.0, 1.5, 1.5, 1.0], seed=3)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match="Both seed and seed2 should be 0 if deterministic is false."):
                sess.run(seeded.output)
