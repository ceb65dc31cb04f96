"""Random ops: TF's graph/op seed rules, stream relations across runs and sessions, distributions."""
import numpy as np
import pytest

import graphcompat as tf
from lowering.executor import runner_for


def _seeds(t):
    op = t.op if t.op.type not in ("AddV2", "Mul", "Maximum") else t.op.inputs[0].op
    while op.type in ("Mul", "AddV2", "RealDiv"):
        op = op.inputs[0].op
    return op.get_attr("seed"), op.get_attr("seed2")


def test_seed_rules():
    a = tf.random_normal([2])
    assert _seeds(a) == (0, 0)  # neither: nondeterministic
    b = tf.random_normal([2], seed=7)
    assert _seeds(b) == (87654321, 7)  # op seed only
    tf.set_random_seed(1234)
    c = tf.random_uniform([2])
    c2 = tf.random_normal([2])
    # graph seed only: the op seed counts the ops that drew on the graph seed
    assert (_seeds(c), _seeds(c2)) == ((1234, 0), (1234, 1))
    d = tf.random_uniform([2], seed=2 ** 31 + 5)
    assert _seeds(d) == (1234, 6)  # both: each taken mod 2**31-1
    tf.set_random_seed(0)
    e = tf.random_shuffle([1, 2, 3], seed=0)
    assert _seeds(e) == (0, 2 ** 31 - 1)  # (0, 0) is reserved for "nondeterministic"
    assert tf.random.set_random_seed is tf.set_random_seed


def test_runs_advance_sessions_restart_equal_seeds_equal_streams():
    tf.set_random_seed(42)
    a = tf.random_normal([4], seed=1)
    b = tf.random_normal([4], seed=1, name="twin")   # same (seed, seed2) as a
    with tf.Session() as s1:
        a1, b1 = s1.run([a, b])
        a2 = s1.run(a)
    with tf.Session() as s2:
        a1_again = s2.run(a)
    np.testing.assert_array_equal(a1, b1)          # equal seeds: identical streams
    assert not np.array_equal(a1, a2)              # each run advances the stream
    np.testing.assert_array_equal(a1, a1_again)    # a new Session restarts it
    u = tf.random_uniform([4])
    with tf.Session() as s3:
        x, y = s3.run(u), s3.run(u)
        z = s3.run(u)                               # compiled run keeps advancing
    assert len({x.tobytes(), y.tobytes(), z.tobytes()}) == 3


def _program(tf_):
    tf_.set_random_seed(5)
    return [tf_.random_normal([3]), tf_.random_uniform([2], maxval=10, dtype=tf_.int32)]


def test_graph_seed_reproduces_across_graphs():
    vals = []
    for _ in range(2):
        g = tf.Graph()
        with g.as_default():
            fetches = _program(tf)
            with tf.Session(graph=g) as sess:
                vals.append(sess.run(fetches))
    np.testing.assert_array_equal(vals[0][0], vals[1][0])
    np.testing.assert_array_equal(vals[0][1], vals[1][1])


def test_unseeded_sessions_differ():
    r = tf.random_uniform([8])
    with tf.Session() as s1, tf.Session() as s2:
        assert not np.array_equal(s1.run(r), s2.run(r))


def test_op_names_and_types():
    tf.random_normal([2], name="rn")
    tf.truncated_normal([2])
    tf.random_uniform([2])
    tf.random_uniform([2], minval=1.0, maxval=3.0)
    tf.random_uniform([2], maxval=5, dtype=tf.int64)
    names = {op.name: op.type for op in tf.get_default_graph().get_operations()}
    assert names["rn/RandomStandardNormal"] == "RandomStandardNormal" and names["rn"] == "AddV2"
    assert names["rn/mul"] == "Mul" and names["rn/mean"] == "Const" and names["rn/stddev"] == "Const"
    assert names["truncated_normal/TruncatedNormal"] == "TruncatedNormal"
    assert names["random_uniform/RandomUniform"] == "RandomUniform"
    assert "random_uniform/min" not in names  # [0, 1) needs no min/max
    assert names["random_uniform_1"] == "AddV2" and names["random_uniform_1/sub"] == "Sub"
    assert names["random_uniform_2"] == "RandomUniformInt"
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
        tf.random_uniform([2], dtype=tf.int32)


def test_distributions():
    tf.set_random_seed(3)
    n = 20000
    fetches = {
        "normal": tf.random.normal([n], mean=2.0, stddev=3.0),
        "trunc": tf.random.truncated_normal([n], stddev=2.0),
        "uniform": tf.random.uniform([n], -2.0, 4.0, dtype=tf.float64),
        "int": tf.random.uniform([n], 3, 7, dtype=tf.int32),
        "shuffle": tf.random.shuffle(tf.range(10) if hasattr(tf, "range") else tf.constant(np.arange(10))),
        "multi": tf.multinomial(tf.log(tf.constant([[0.1, 0.9], [0.9, 0.1]])), 2000),
        "cat": tf.random.categorical(tf.constant([[0.0, 0.0, 0.0]]), 10, dtype=tf.int32),
        "gamma": tf.random_gamma([n], alpha=tf.constant([2.0, 5.0]), beta=2.0),
        "poisson": tf.random_poisson(tf.constant([1.0, 6.0]), [n]),
        "crop": tf.random_crop(tf.constant(np.arange(30).reshape(5, 6)), [2, 3]),
    }
    assert fetches["multi"].dtype == tf.int64 and fetches["multi"].shape.as_list() == [2, 2000]
    assert fetches["gamma"].shape.as_list() == [n, 2] and fetches["poisson"].shape.as_list() == [n, 2]
    with tf.Session() as sess:
        drawn = [sess.run(fetches) for _ in range(2)]  # op by op (host numpy), then compiled (JAX)
    assert not np.array_equal(drawn[0]["normal"], drawn[1]["normal"])  # the stream advanced
    for v in drawn:
        _check_distributions(v)


def _check_distributions(v):
    assert abs(v["normal"].mean() - 2) < 0.1 and abs(v["normal"].std() - 3) < 0.1
    assert np.abs(v["trunc"]).max() <= 4.0 and v["trunc"].dtype == np.float32
    assert v["uniform"].dtype == np.float64 and v["uniform"].min() >= -2 and v["uniform"].max() < 4
    assert set(np.unique(v["int"])) == {3, 4, 5, 6} and v["int"].dtype == np.int32
    assert sorted(v["shuffle"]) == list(range(10))
    assert abs(v["multi"][0].mean() - 0.9) < 0.05 and abs(v["multi"][1].mean() - 0.1) < 0.05
    assert v["cat"].dtype == np.int32 and v["cat"].min() >= 0 and v["cat"].max() <= 2
    np.testing.assert_allclose(v["gamma"].mean(0), [1.0, 2.5], rtol=0.05)
    np.testing.assert_allclose(v["poisson"].mean(0), [1.0, 6.0], rtol=0.05)
    assert v["poisson"].dtype == np.float32
    crop = v["crop"]
    assert crop.shape == (2, 3)
    r, c = divmod(int(crop[0, 0]), 6)
    np.testing.assert_array_equal(crop, np.arange(30).reshape(5, 6)[r:r + 2, c:c + 3])


def test_initializers_draw_on_the_host_without_compiling():
    """A one-off plan (the initializer) draws op by op with numpy: no XLA kernel per shape to compile."""
    tf.set_random_seed(5)
    x = tf.placeholder(tf.float32, [None, 20])
    out = tf.layers.dense(tf.layers.dense(x, 30, kernel_initializer=tf.truncated_normal_initializer()), 4)
    half = tf.Variable(tf.random_uniform([4000], dtype=tf.float16))
    tf.reset_stats()
    values = []
    for _ in range(2):
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values.append(sess.run(tf.global_variables()))
    assert tf.stats()["compilations"] == 0
    for a, b in zip(*values):  # seeded: the same values in a new session
        np.testing.assert_array_equal(a, b)
    kernel, h = values[0][0], values[0][-1]
    assert kernel.shape == (20, 30) and np.abs(kernel).max() <= 2.0 and kernel.std() > 0.5
    assert h.dtype == np.float16 and h.min() >= 0 and h.max() < 1  # rounding never reaches 1.0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(out, {x: np.ones((2, 20), np.float32)}).shape == (2, 4)


def test_random_in_initializer_and_in_training_graph():
    tf.set_random_seed(9)
    w = tf.get_variable("w", [3, 3])
    noisy = w + tf.random_normal([3, 3], stddev=0.01)
    with tf.Session() as sess:
        sess.run(w.initializer)
        first = sess.run(w)
        sess.run(w.initializer)
        second = sess.run(w)  # re-running the initializer draws again (the stream advanced)
        assert not np.array_equal(first, second)
        assert sess.run(noisy).shape == (3, 3)


def test_training_step_with_random_ops_compiles_on_its_first_run():
    # A training plan compiles on its first run; the random ops' counters it reads do not exist yet and
    # start from their initial values instead of forcing an op-by-op first run.
    w = tf.Variable([1.0, 2.0])
    noise = tf.random_normal([2])
    loss = tf.reduce_sum(tf.square(w + 0.01 * noise))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(train)
        runner = runner_for(sess, train)
        assert runner.compiled is not None and runner.runs == 1
        first = sess.run(w)
        sess.run(train)
        assert not np.array_equal(first, sess.run(w))


# ------------------------------------------------------------------------------------------------
# Shapes and bounds TF's random kernels validate when they run (fed shapes): TF's class and text.
# ------------------------------------------------------------------------------------------------
from tests._conformance import Bad, Case, bad_cases, check_bad  # noqa: E402

E = tf.errors
NEG = np.array([2, -1], np.int32)
VALIDATING = [
    Case("random_normal_fed_shape", lambda tf, s: tf.shape(tf.random_normal(s)), lambda s: s, [np.array([2, 3],
                                                                                                        np.int32)],
         bad=[Bad([NEG], E.InvalidArgumentError, "Dimension -1 must be >= 0"),
              Bad([np.array([[2]], np.int32)], ValueError, "Shape must be rank 1 but is rank 2", at="build")]),
    Case("truncated_normal_fed_shape", lambda tf, s: tf.shape(tf.truncated_normal(s)), lambda s: s,
         [np.array([2, 3], np.int32)], bad=[Bad([NEG], E.InvalidArgumentError, "Dimension -1 must be >= 0")]),
    Case("random_uniform_fed_shape", lambda tf, s: tf.shape(tf.random_uniform(s)), lambda s: s,
         [np.array([2, 3], np.int32)], bad=[Bad([NEG], E.InvalidArgumentError, "Dimension -1 must be >= 0")]),
    Case("random_uniform_int_fed_bounds", lambda tf, lo: tf.random_uniform([3], lo, 5, dtype=tf.int32) * 0,
         lambda lo: np.zeros(3, np.int32), [np.int32(1)],
         bad=[Bad([np.int32(5)], E.InvalidArgumentError, "Need minval < maxval, got 5 >= 5")]),
    Case("multinomial_fed_samples", lambda tf, n: tf.shape(tf.multinomial(tf.zeros([2, 3]), n)),
         lambda n: np.array([2, n], np.int32), [np.int32(4)], static=False,
         bad=[Bad([np.int32(-1)], E.InvalidArgumentError, "num_samples should be non-negative, got -1")]),
]


# (The good lines are not run through `check`: a compiled plan holding a random op retraces once when its
# RNG counter first comes back from the device, which `check` reports; see the lead's plan.py.)


@pytest.mark.parametrize("case, bad", bad_cases(VALIDATING))
def test_random_bad_inputs(case, bad):
    check_bad(case, bad)
