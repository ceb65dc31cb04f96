"""Coverage (issue 13 #7): tf.train.cosine_decay_restarts, linear_cosine_decay, noisy_linear_cosine_decay —
TF's formulas (compared with TensorFlow step by step) and TF's names."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

STEPS = [0, 1, 5, 10, 17, 29, 30, 55, 100, 250]

SCHEDULES = {
    "restarts_t2": lambda tf, s: tf.train.cosine_decay_restarts(0.1, s, 10),
    "restarts_t1_mmul": lambda tf, s: tf.train.cosine_decay_restarts(0.5, s, 7, t_mul=1.0, m_mul=0.5, alpha=0.1),
    "restarts_t3": lambda tf, s: tf.train.cosine_decay_restarts(tf.constant(1.0), s, 4, t_mul=3.0, name="sgdr"),
    "linear_cosine": lambda tf, s: tf.train.linear_cosine_decay(0.1, s, 100),
    "linear_cosine_periods": lambda tf, s: tf.train.linear_cosine_decay(1.0, s, 60, num_periods=2.0, alpha=0.2,
                                                                        beta=0.05),
}


def _values(lib, build):
    g = lib.Graph()
    with g.as_default():
        step = lib.placeholder(lib.int64, [])
        lr = build(lib, step)
        with lib.Session() as sess:
            return lr.name, lr.dtype.name, [sess.run(lr, {step: s}) for s in STEPS]


@pytest.mark.oracle
@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_schedule_matches_tensorflow(schedule):
    v1 = oracle.tf1()
    name, dtype, got = _values(tf, SCHEDULES[schedule])
    t_name, t_dtype, want = _values(v1, SCHEDULES[schedule])
    assert (name, dtype) == (t_name, t_dtype)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_formulas_without_tensorflow():
    _, _, got = _values(tf, SCHEDULES["restarts_t1_mmul"])
    for s, v in zip(STEPS, got):
        i, frac = divmod(s / 7, 1)
        want = 0.5 * (0.9 * 0.5 * 0.5 ** i * (1 + np.cos(np.pi * frac)) + 0.1)
        assert abs(v - want) < 1e-6
    _, _, lin = _values(tf, SCHEDULES["linear_cosine"])
    for s, v in zip(STEPS, lin):
        t = min(s, 100)
        assert abs(v - 0.1 * (((100 - t) / 100) * 0.5 * (1 + np.cos(np.pi * t / 100)) + 0.001)) < 1e-7
    with pytest.raises(ValueError, match="global_step is required for cosine_decay_restarts."):
        tf.train.cosine_decay_restarts(0.1, None, 10)
    with tf.Graph().as_default():
        # TF's schedule multiplies by a float32 pi constant, so a float64 learning rate fails as in TF
        with pytest.raises(TypeError, match="Input 'y' of 'Mul' Op has type float64 that does not match type "
                                            "float32 of argument 'x'."):
            tf.train.cosine_decay_restarts(tf.constant(1.0, tf.float64), tf.constant(3, tf.int64), 4)


def test_noisy_linear_cosine_decay_noise():
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        lr = tf.train.noisy_linear_cosine_decay(1.0, step, 100, initial_variance=0.01, beta=0.0)
        assert lr.name == "NoisyLinearCosineDecay:0"
        with tf.Session() as sess:
            late = [sess.run(lr, {step: 200}) for _ in range(200)]
            early = [sess.run(lr, {step: 0}) for _ in range(200)]
    # past decay_steps the cosine factor is 0 (num_periods 0.5): no noise reaches the rate
    np.testing.assert_allclose(late, 0.0, atol=1e-7)
    # at step 0: 1 + N(0, 0.01) noise: mean 1, std 0.1
    assert abs(np.mean(early) - 1.0) < 0.03 and 0.07 < np.std(early) < 0.13
