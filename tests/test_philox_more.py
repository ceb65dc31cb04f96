"""Candidate samplers, Multinomial, StatelessMultinomial and RandomShuffle give TensorFlow's numbers
(lowering/philox_sampling.py) against real TF 2.21 compat.v1: three `sess.run` calls each (every run
advances TF's stream), op by op (a signature's first run) and compiled (later runs, or every run with
set_deterministic), and without host callbacks (GPU/TPU plans): TF's distributions from a derived key.
"""
import jax
import numpy as np
import pytest

import graphcompat
from lowering import philox
from tests import oracle

pytestmark = pytest.mark.oracle

UNIGRAMS = [float(i % 17 + 1) for i in range(1000)]


def _samplers(tf):
    """Every stateful sampler × unique, on a [4, 2] batch of true classes (several ops share a stream seed)."""
    true = tf.constant([[1, 5], [7, 999], [0, 3], [42, 42]], tf.int64)
    out = []
    for unique in (False, True):
        out.append(tf.nn.uniform_candidate_sampler(true, 2, 64, unique, 1000))
        out.append(tf.nn.uniform_candidate_sampler(true % 7, 2, 5, unique, 7, seed=3))   # not a power of two
        out.append(tf.nn.log_uniform_candidate_sampler(true, 2, 64, unique, 1000))
        out.append(tf.nn.learned_unigram_candidate_sampler(true, 2, 64, unique, 1000))
        out.append(tf.nn.fixed_unigram_candidate_sampler(true, 2, 64, unique, 1000, unigrams=UNIGRAMS,
                                                         distortion=0.75))
        out.append(tf.nn.fixed_unigram_candidate_sampler(true % 500, 2, 16, unique, 500, num_reserved_ids=2,
                                                         num_shards=2, shard=1, unigrams=UNIGRAMS[:998]))
    return [list(t) for t in out]


def _multinomials(tf):
    rs = np.random.RandomState(0)
    out = []
    for dt in ("float16", "bfloat16", "float32", "float64"):
        logits = tf.constant(rs.randn(3, 20).astype(np.float32), getattr(tf, dt))
        out.append(tf.multinomial(logits, 7, output_dtype=tf.int64))
    # several shards of TF's thread pool: rows of a shard start at their own skip
    out.append(tf.random.categorical(tf.constant(rs.randn(8, 1000).astype(np.float32)), 10))
    inf = np.float32(np.inf)
    out.append(tf.multinomial(tf.constant([[0.0, -inf, 1.0, 2.0], [-inf, -inf, 3.0, -inf]]), 9))
    out.append(tf.multinomial(tf.constant(np.zeros((2, 5), np.float32)), 0))   # nothing drawn, nothing reserved
    return out


def _shuffles(tf):
    return [tf.random_shuffle(tf.range(50)), tf.random_shuffle(tf.reshape(tf.range(21.0), [7, 3]), seed=9),
            tf.random_shuffle(tf.constant([[1, 2]])), tf.random_shuffle(tf.constant(np.arange(1000)), seed=2)]


def _gammas_and_poissons(tf):
    """The kernels' own outputs (tf.random_gamma clamps its result at the dtype's tiny afterwards)."""
    alphas = np.array([0.3, 1.0, 2.5, 0.05, 30.0])
    rates = np.array([[0.5, 3.0, 9.9], [10.0, 55.0, 1e4]])
    out = [tf.random_gamma([7], alphas.astype(dt), dtype=dt) for dt in ("float16", "float32", "float64")]
    out.append(tf.random_gamma([2, 3], tf.constant([[1.5], [0.7]]), beta=2.0, seed=4))
    out += [tf.random_poisson(rates.astype(np.float32), [4], dtype=dt) for dt in ("float16", "float32", "int64")]
    out.append(tf.random_poisson(tf.constant(rates), [3], dtype=tf.int32, seed=8))
    out.append(tf.random_gamma([0], [1.0]))
    graph = tf.get_default_graph()
    return out + [op.outputs[0] for op in graph.get_operations() if op.type == "RandomGamma"]


PTN_CASES = [([7], 0.0, 1.0, -1.0, 1.0), ([3, 5], 1.0, 2.0, -3.0, 8.0), ([2000], 0.0, 1.0, 2.5, 4.0),
             ([300], 0.0, 1.0, -np.inf, -3.0), ([5], 0.0, 1.0, 0.1, 0.2), ([1700], 0.0, 1.0, -10.0, 10.0),
             ([4, 6], [0.0, 1, 2, 3], [1.0, 2, 3, 4], [-1.0, 0, 5, -10], [1.0, 3, 7, 10]),
             ([0, 3], 0.0, 1.0, -1.0, 1.0)]


def _raw(tf, op_type, inputs, attrs):
    """A raw op: tf.raw_ops under TF, apply_op under graphcompat."""
    if tf is graphcompat:
        from graphcompat.framework.registry import apply_op
        return apply_op(op_type, [tf.convert_to_tensor(x) for x in inputs.values()], attrs)
    import tensorflow as tf2
    return getattr(tf2.raw_ops, op_type)(**inputs, **attrs)


def _ptns(tf):
    # the 1700/2000 cases are batches of 100 over several shards of TF's thread pool (on 2+ CPUs)
    out = []
    for dt in ("float16", "float32", "float64"):
        for k, (shape, *params) in enumerate(PTN_CASES if dt != "float16" else PTN_CASES[:3]):
            names = ("means", "stdevs", "minvals", "maxvals")
            out.append(_raw(tf, "ParameterizedTruncatedNormal",
                            dict(shape=tf.constant(shape), **{n: np.asarray(p, dt) for n, p in zip(names, params)}),
                            {"seed": 5, "seed2": k}))
    return out


def _stateless(tf):
    logits = tf.constant(np.random.RandomState(1).randn(4, 30).astype(np.float32))
    out = [tf.random.stateless_categorical(logits, 6, seed) for seed in ([1, 2], [-7, 2 ** 30 + 11])] + \
          [tf.random.stateless_categorical(tf.cast(logits, tf.float64), 5, tf.constant([3, 4], tf.int32),
                                           dtype=tf.int32)]
    for dt in ("float16", "float64"):
        out.append(tf.random.stateless_gamma([5, 3], [4, 5], [0.5, 1.0, 7.0], beta=[[2.0], [1.0], [3.0], [1], [1]],
                                             dtype=dt))
        out.append(tf.random.stateless_poisson([6, 2], [7, 8], [3.0, 40.0], dtype=dt))
    out.append(tf.random.stateless_poisson([4], tf.constant([1, 1], tf.int32), 2.5, dtype=tf.int64))
    cases = PTN_CASES[:-1] + [([500, 2, 3], [[0.0], [1.0]], 1.0, -1.0, [0.5, 2.0, 3.0])]
    for k, (shape, *params) in enumerate(cases):
        if np.ndim(params[0]) == 1:   # stateless parameters broadcast against the output's tail
            shape = shape[::-1]
        dt = ("float64", "float32", "float16")[k % 3]
        out.append(tf.random.stateless_parameterized_truncated_normal(shape, [3, k],
                                                                      *(np.asarray(p, dt) for p in params)))
    out.append(_raw(tf, "StatelessRandomGammaV2", dict(shape=tf.constant([3, 2]), seed=tf.constant([5, 6], tf.int64),
                                                       alpha=np.float32([0.2, 3.0])), {}))
    return out


def _three_runs(tf, build, graph_seed=1234):
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(graph_seed)
        fetches = build(tf)
        with tf.Session(graph=graph) as sess:
            return [sess.run(fetches) for _ in range(3)]


def _flat(x):
    return [np.asarray(v) for v in jax.tree_util.tree_leaves(x)]


def _assert_same(got, want, float_ulps=0):
    for k, (g_run, w_run) in enumerate(zip(got, want)):
        for i, (g, w) in enumerate(zip(_flat(g_run), _flat(w_run))):
            assert g.dtype == w.dtype and g.shape == w.shape, (k, i, g.dtype, w.dtype, g.shape, w.shape)
            if w.dtype.kind == "f" and float_ulps:
                diff = np.abs(g.view(np.int32).astype(np.int64) - w.view(np.int32).astype(np.int64))
                assert diff.max(initial=0) <= float_ulps, (f"run {k}", i, g, w)
            else:
                np.testing.assert_array_equal(g, w, err_msg=f"run {k}, output {i}")


# the default tier runs the first run op by op and the next two compiled; "compiled" (every run compiled,
# set_deterministic) repeats the compiled path from the first run
@pytest.fixture(params=["op_by_op_then_compiled", pytest.param("compiled", marks=pytest.mark.slow)])
def tier(request):
    graphcompat.config.set_deterministic(request.param == "compiled")
    yield request.param
    graphcompat.config.set_deterministic(False)


@pytest.mark.parametrize("build", [_samplers, _multinomials, _shuffles, _gammas_and_poissons, _ptns,
                                   _stateless])
def test_three_runs_equal_tf(tier, build):
    want = _three_runs(oracle.tf1(), build)
    got = _three_runs(graphcompat, build)
    _assert_same(got, want)


def test_first_sessions_intra_op_threads_decide_the_shards(monkeypatch):
    # TF sizes its intra-op pool once, by the process's first Session; Multinomial and
    # ParameterizedTruncatedNormal split their streams over it (here: one thread, so one shard)
    from lowering import philox_sampling
    monkeypatch.setattr(philox_sampling, "_FIRST_SESSION_THREADS", None)
    logits = np.random.RandomState(0).randn(8, 1000).astype(np.float32)
    graph = graphcompat.Graph()
    with graph.as_default():
        graphcompat.set_random_seed(3)
        draw = graphcompat.multinomial(graphcompat.constant(logits), 10)
        with graphcompat.Session(config=graphcompat.ConfigProto(intra_op_parallelism_threads=1)) as sess:
            first = sess.run(draw)
        with graphcompat.Session(config=graphcompat.ConfigProto(intra_op_parallelism_threads=4)) as sess:
            again = sess.run(draw)
    key, counter = philox.key_counter_from_seeds(3, int(draw.op.attrs["seed2"]))
    np.testing.assert_array_equal(first, philox_sampling.multinomial(key, counter, logits, 10, np.int64, threads=1))
    np.testing.assert_array_equal(again, first)
    assert not np.array_equal(first, philox_sampling.multinomial(key, counter, logits, 10, np.int64, threads=2))


def test_op_seed_without_graph_seed_and_unseeded_sessions_differ():
    def build(tf):
        true = tf.constant([[3]], tf.int64)
        return [list(tf.nn.log_uniform_candidate_sampler(true, 1, 8, True, 100, seed=77)),
                tf.random_shuffle(tf.range(30), seed=5), tf.multinomial(tf.zeros([2, 9]), 4, seed=6)]
    _assert_same([oracle.run(graphcompat, build)], [oracle.run(oracle.tf1(), build)])
    graph = graphcompat.Graph()
    with graph.as_default():
        x = graphcompat.random_shuffle(graphcompat.range(100))
        with graphcompat.Session() as sess:
            a, b = sess.run(x), sess.run(x)
        with graphcompat.Session() as sess:
            c = sess.run(x)
    assert not np.array_equal(a, b) and not np.array_equal(a, c)
    assert sorted(a) == list(range(100))


def test_compiled_plans_without_host_callbacks(monkeypatch):
    # GPU/TPU or sharded steps: no callback; TF's distributions from a key derived from TF's stream
    monkeypatch.setattr(philox, "_host_roundings_in_compiled_plans", lambda: False)
    graphcompat.config.set_deterministic(True)
    try:
        graph = graphcompat.Graph()
        with graph.as_default():
            graphcompat.set_random_seed(5)
            true = graphcompat.constant([[1], [2]], graphcompat.int64)
            sampled = [graphcompat.nn.log_uniform_candidate_sampler(true, 1, 20, True, 50)[0],
                       graphcompat.nn.learned_unigram_candidate_sampler(true, 1, 8, False, 50)[0]]
            shuffled = graphcompat.random_shuffle(graphcompat.range(40))
            drawn = graphcompat.multinomial(graphcompat.zeros([3, 6]), 5)
            gamma = graphcompat.random_gamma([50], [0.5, 4.0])
            poisson = graphcompat.random_poisson([2.0, 30.0], [50], dtype=graphcompat.int64)
            seed = graphcompat.placeholder(graphcompat.int64, [2])   # fed: the stateless draws are compiled
            stateless = [graphcompat.random.stateless_gamma([40, 2], seed, [0.5, 4.0]),
                         graphcompat.random.stateless_poisson([30], seed, 3.0),
                         graphcompat.random.stateless_parameterized_truncated_normal([20, 3], seed),
                         graphcompat.random.stateless_categorical(graphcompat.zeros([2, 4]), 5, seed)]
            with graphcompat.Session() as sess:
                runs = [sess.run([sampled, shuffled, drawn]) for _ in range(2)]
                g, p = sess.run([gamma, poisson])
                sg, sp, st, sc = sess.run(stateless, {seed: [1, 2]})
    finally:
        graphcompat.config.set_deterministic(False)
    (s0, p0, d0), (s1, p1, d1) = runs
    assert len(set(s0[0].tolist())) == 20 and s0[0].min() >= 0 and s0[0].max() < 50
    assert sorted(p0.tolist()) == list(range(40)) and not np.array_equal(p0, p1)
    assert d0.shape == (3, 5) and d0.min() >= 0 and d0.max() < 6
    assert g.shape == (50, 2) and g.min() > 0 and 2.5 < g[:, 1].mean() < 5.5
    assert p.shape == (50, 2) and p.dtype == np.int64 and 20 < p[:, 1].mean() < 40
    assert sg.shape == (40, 2) and sg.min() > 0 and sp.shape == (30,) and sp.dtype == np.int32
    assert st.shape == (20, 3) and np.abs(st).max() <= 2.0 and sc.shape == (2, 5) and sc.max() < 4


def test_word2vec_nce_loss_first_steps_equal_tf():
    # the lecture's word2vec: NCE loss (and a sampled softmax) over log-uniform samplers, fixed seed, SGD steps
    def build(tf):
        tf.set_random_seed(42)
        vocab, dim, batch = 200, 16, 32
        inputs = tf.constant(np.arange(batch) * 7 % vocab, tf.int32)
        labels = tf.constant((np.arange(batch) * 13 % vocab).reshape(batch, 1), tf.int64)
        emb = tf.Variable(tf.random_uniform([vocab, dim], -1.0, 1.0))
        w = tf.Variable(tf.truncated_normal([vocab, dim], stddev=1.0 / np.sqrt(dim)))
        b = tf.Variable(tf.zeros([vocab]))
        embedded = tf.nn.embedding_lookup(emb, inputs)
        loss = tf.reduce_mean(tf.nn.nce_loss(w, b, labels, embedded, 8, vocab)) + \
            tf.reduce_mean(tf.nn.sampled_softmax_loss(w, b, labels, embedded, 6, vocab))
        return loss, tf.train.GradientDescentOptimizer(1.0).minimize(loss)

    def losses(tf):
        graph = tf.Graph()
        with graph.as_default():
            loss, step = build(tf)
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                return [sess.run([loss, step])[0] for _ in range(4)]
    want, got = losses(oracle.tf1()), losses(graphcompat)
    np.testing.assert_allclose(got, want, rtol=2e-5)


@pytest.mark.parametrize("build,error", [
    (lambda tf: tf.multinomial(tf.zeros([2, 0]), 3), "num_classes should be positive, got 0"),
    (lambda tf: tf.multinomial(tf.zeros([2, 3]), tf.placeholder_with_default(-1, [])),
     "num_samples should be non-negative, got -1"),
    (lambda tf: tf.nn.uniform_candidate_sampler(tf.constant([[1, 20]], tf.int64), 2, 3, True, 10)[0],
     r"`true_candidate` out of range \[0, 10\), received 20"),
    (lambda tf: tf.nn.uniform_candidate_sampler(tf.constant([[1]], tf.int64), 1, 30, True, 10)[0],
     "Sampler's range is too small."),
    (lambda tf: tf.multinomial(tf.constant([[1, 2, 3]]), 4, seed=1),
     "No OpKernel was registered to support Op 'Multinomial' used by {{node multinomial/Multinomial}} with"),
    (lambda tf: tf.random.stateless_poisson([3, 2], [1, 2], [1.0, 2.0, 3.0]),
     "Shape passed in must end with broadcasted shape."),
])
def test_bad_input_raises_tf_error(build, error):
    for tf in (oracle.tf1(), graphcompat):
        with pytest.raises(tf.errors.InvalidArgumentError, match=error):
            oracle.run(tf, build)


def _ptn(tf, shape, means, stdevs, minvals, maxvals):
    f = np.float32
    return _raw(tf, "ParameterizedTruncatedNormal", dict(shape=tf.constant(shape), means=f(means), stdevs=f(stdevs),
                                                         minvals=f(minvals), maxvals=f(maxvals)), {"seed": 1})


@pytest.mark.parametrize("args,error", [
    (([4, 2], [0.0, 1, 2], 1.0, 0.0, 1.0), r"Input means should have length 1 or shape\[0\], got shape: \[3\]"),
    (([4], 0.0, 1.0, [0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 1.0, 4.0]), "Invalid parameters"),
    (([4], 0.0, 0.0, 0.0, 1.0), "Invalid parameters"),
    (([4], 0.0, 1.0, -np.inf, np.inf), "Invalid parameters"),
])
@pytest.mark.parametrize("deterministic", [False, True])
def test_parameterized_truncated_normal_bad_input(args, error, deterministic):
    oracle.tf1()
    graphcompat.config.set_deterministic(deterministic)   # the run-time check compiled, too
    try:
        for tf in (oracle.tf1(), graphcompat):
            with pytest.raises(tf.errors.InvalidArgumentError, match=error):
                oracle.run(tf, lambda tf: _ptn(tf, *args))
    finally:
        graphcompat.config.set_deterministic(False)
