"""LogUniform and Uniform candidate samplers computed inside compiled plans (lowering/sampler_device.py) give
the host implementation's bits (lowering/philox_sampling.py `sample_batch`, itself checked against real TF in
tests/test_philox_more.py), for every seed: sampled ids, true and sampled expected counts. glibc's
log1pf/expm1f repeated operation for operation (lowering/glibc_float.py) give the C library's bits, on numpy
and compiled.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphcompat
from lowering import glibc_float, philox, philox_sampling, sampler_device
from tests import oracle

LOG, UNI, FIXED = "LogUniformCandidateSampler", "UniformCandidateSampler", "FixedUnigramCandidateSampler"


def _weights(range_max: int) -> np.ndarray:
    """FixedUnigram weights (after distortion): uneven, one class weightless."""
    w = philox_sampling.powf(np.float32([i % 17 + 1 for i in range(range_max)]), np.float32(0.75))
    w[range_max // 2] = 0
    return w


def _libm():
    lib = philox_sampling._libm()
    if lib is None:
        pytest.skip("no C library reachable through ctypes")
    return lib


def _domain_sample(top: int, n: int, seed: int) -> np.ndarray:
    """n negative float32s spread evenly over the bit patterns below `top` (every binade), plus edges."""
    bits = np.random.default_rng(seed).integers(0, top, n).astype(np.uint32) | np.uint32(0x80000000)
    edges = np.float32([-0.0, -1.0, -0.29289, -0.2929, -0.41422, -2.0 ** -29, -2.0 ** -54, -2.0 ** -25,
                        -0.5 * np.log(2), -1.5 * np.log(2), -27 * np.log(2), -88.7, -np.inf, -1e-40])
    edges = edges[(edges.view(np.uint32) & np.uint32(0x7FFFFFFF)) <= top]
    return np.concatenate([bits.view(np.float32), edges])


@pytest.mark.parametrize("name,top", [("log1pf", 0x3F800000), ("expm1f", 0x42B00000)])
def test_glibc_float_functions_give_libm_bits(name, top):
    # the samplers' domains: log1pf(-p) for p in (0, 1], expm1f of non-positive values
    lib = _libm()
    x = _domain_sample(top, 20000, 1)
    want = np.array([getattr(lib, name)(float(v)) for v in x.tolist()], np.float32)
    fn = getattr(glibc_float, name)
    host = fn(np, x)
    with jax.enable_x64(True):
        compiled = np.asarray(jax.jit(lambda v, z: fn(jnp, v, z))(x, np.int32(0)))
    assert host.tobytes() == want.tobytes()
    assert compiled.tobytes() == want.tobytes()


def test_glibc_float_compiled_needs_an_opaque_zero():
    with pytest.raises(ValueError, match="traced zero"):
        glibc_float.log1pf(jnp, jnp.zeros(3, jnp.float32))


@pytest.mark.slow
@pytest.mark.parametrize("name,lo,hi", [("expm1f", 0x32000000, 0x41A80000), ("log1pf", 0, 0x3F800001)])
def test_glibc_float_every_chunk_of_the_domain(name, lo, hi):
    # float32s in [-21, -2^-27] (expm1f; beyond, it returns -1 or x) and in [-1, 0] (log1pf), chunk by chunk
    # of 2^22 bit patterns: each chunk's first and last inputs and 2048 random ones (libm through ctypes is
    # slow per element, so a sample per chunk is what is compared)
    lib = _libm()
    fn, theirs = getattr(glibc_float, name), getattr(lib, name)
    vec = np.vectorize(lambda v: theirs(float(v)), otypes=[np.float32])
    rng = np.random.default_rng(3)
    step = 1 << 22
    for start in range(lo, hi, step):
        end = min(start + step, hi)
        bits = np.concatenate([[start, end - 1], rng.integers(start, end, 2048)]).astype(np.uint32)
        x = (bits | np.uint32(0x80000000)).view(np.float32)
        assert fn(np, x).tobytes() == vec(x).tobytes(), hex(start)


@pytest.mark.parametrize("range_max", [1000, 50000])
def test_log_uniform_probabilities_of_a_whole_range(range_max):
    # every class's float32 probability equals the host's (glibc's log), and none needs the host
    with jax.enable_x64(True):
        p, flagged = jax.jit(lambda ids: sampler_device._log_uniform_probability(jnp, ids, range_max))(
            np.arange(range_max, dtype=np.int64))
    assert not np.asarray(flagged).any()
    assert np.asarray(p).tobytes() == philox_sampling._log_uniform_probabilities(range_max).tobytes()


@pytest.mark.parametrize("unique", [False, True])
def test_fixed_unigram_expected_counts_of_every_class(unique):
    # every class as a true class: weight / total is one float32 division for each (XLA would multiply by
    # the reciprocal of a broadcast divisor), then glibc's log1pf/expm1f
    weights = philox_sampling.powf(np.float32([i % 17 + 1.0 for i in range(1000)]), np.float32(0.75))
    true_classes = np.arange(1000, dtype=np.int64).reshape(-1, 1)
    key, counter = philox.key_counter_from_seeds(11, 99)
    with jax.enable_x64(True):
        draw = jax.jit(lambda w: sampler_device.draw(FIXED, 1000, 16, unique, (w[0], w[1]),
                                                     (w[2], w[3], w[4], w[5]), true_classes, weights.tobytes()))
        out, flagged = draw(np.array(key + counter, np.uint32))
    want = philox_sampling.sample_batch(philox_sampling.FixedUnigramSampler(weights),
                                        philox_sampling.WordStream(key, counter), 16, unique, true_classes)
    assert not bool(flagged)
    for got, w in zip(out, want):
        assert np.asarray(got).tobytes() == w.tobytes()


def _host(kind, range_max, num_sampled, unique, key, counter, true_classes):
    sampler = philox_sampling.LogUniformSampler(range_max) if kind == LOG else \
        philox_sampling.FixedUnigramSampler(_weights(range_max)) if kind == FIXED else \
        philox_sampling.UniformSampler(range_max)
    return philox_sampling.sample_batch(sampler, philox_sampling.WordStream(key, counter), num_sampled, unique,
                                        true_classes)


# kinds x unique x num_sampled x range_max: word2vec's draw, tiny ranges (many rejected duplicates),
# num_sampled == range_max, ranges that are powers of two or not, and 64-bit ranges (Uniform64's rejection
# is frequent just above 2^62)
FAST = [(LOG, 50000, 64, True), (UNI, 7, 7, True), (UNI, 1000, 5, False), (LOG, 2 ** 40, 20, True),
        (FIXED, 1000, 64, True)]
MORE = [(LOG, 50000, 64, False), (UNI, 50000, 64, True), (UNI, 10, 10, True), (LOG, 10, 10, True),
        (LOG, 7, 3, True), (UNI, 3, 3, True), (UNI, 2 ** 33 + 5, 20, True), (UNI, 2 ** 62 + 1, 20, False),
        (UNI, 2 ** 62 + 1, 20, True), (UNI, 64, 64, True), (LOG, 1, 1, True), (UNI, 1, 3, False),
        (LOG, 300, 200, True), (LOG, 2 ** 31 - 1, 8, False), (UNI, 2 ** 31, 8, True), (FIXED, 1000, 16, False),
        (FIXED, 7, 6, True), (FIXED, 64, 63, True)]


@pytest.mark.parametrize("config", FAST + [pytest.param(c, marks=pytest.mark.slow) for c in MORE], ids=str)
def test_device_draw_equals_host_for_every_seed(config):
    kind, range_max, num_sampled, unique = config
    true_classes = np.random.default_rng(0).integers(0, min(range_max, 2 ** 62), (4, 3)).astype(np.int64)
    with jax.enable_x64(True):
        weights = _weights(range_max).tobytes() if kind == FIXED else b""
        draw = jax.jit(lambda w: sampler_device.draw(kind, range_max, num_sampled, unique, (w[0], w[1]),
                                                     (w[2], w[3], w[4], w[5]), true_classes, weights))
        for seed in range(24):
            key, counter = philox.key_counter_from_seeds(seed * 7919 + 1, seed ^ 0x5DEECE66D)
            counter = philox._advance(counter, seed * philox_sampling.candidate_sampler_calls(num_sampled))
            (sampled, true_expected, sampled_expected), flagged = draw(np.array(key + counter, np.uint32))
            want = _host(kind, range_max, num_sampled, unique, key, counter, true_classes)
            assert not bool(flagged)
            for got, w in zip((sampled, true_expected, sampled_expected), want):
                got = np.asarray(got)
                assert got.dtype == w.dtype and got.shape == w.shape
                assert got.tobytes() == w.tobytes(), (seed, got, w)


def _sampler_graph(tf):
    """word2vec's draw, a tiny range drawn whole (many rejected duplicates), a 64-bit range, unigrams."""
    true = tf.constant([[1, 5], [7, 999], [0, 3], [42, 42]], tf.int64)
    out = [tf.nn.log_uniform_candidate_sampler(true, 2, 64, True, 50000, seed=5),
           tf.nn.uniform_candidate_sampler(true % 7, 2, 7, True, 7, seed=6),
           tf.nn.uniform_candidate_sampler(true, 2, 16, False, 2 ** 40, seed=7),
           tf.nn.fixed_unigram_candidate_sampler(true, 2, 16, True, 1000, unigrams=[i % 17 + 1.0 for i in range(1000)],
                                                 distortion=0.75)]
    return [list(t) for t in out]


def _runs(tf, runs: int = 4):
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(11)
        fetches = _sampler_graph(tf)
        with tf.Session(graph=graph) as sess:
            return [sess.run(fetches) for _ in range(runs)]


def _assert_same(got, want):
    for k, (g_run, w_run) in enumerate(zip(got, want)):
        for i, (g, w) in enumerate(zip(jax.tree_util.tree_leaves(g_run), jax.tree_util.tree_leaves(w_run))):
            g, w = np.asarray(g), np.asarray(w)
            assert g.dtype == w.dtype and g.shape == w.shape
            assert g.tobytes() == w.tobytes(), (k, i, g, w)


def _count_host_draws(monkeypatch) -> list:
    """Counts the host's draws (op by op, or through a compiled plan's callback)."""
    calls = []
    real = philox_sampling.sample_batch

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(philox_sampling, "sample_batch", counted)
    return calls


def test_compiled_runs_draw_in_the_plan_and_equal_the_host_draws(monkeypatch):
    calls = _count_host_draws(monkeypatch)
    runs = _runs(graphcompat)   # the first run op by op (the host), the next three compiled
    assert len(calls) == 4      # the first run's four samplers: compiled runs draw in the plan
    # a C library the device functions do not match: every compiled draw through the host callback
    monkeypatch.setattr(glibc_float, "matches_libm", lambda: False)
    _assert_same(_runs(graphcompat), runs)
    assert len(calls) == 4 + 4 * 4
    monkeypatch.undo()
    # every log-uniform attempt flagged: the plan redoes that draw on the host (lax.cond)
    monkeypatch.setattr(sampler_device, "_INTEGER_MARGIN", 1.0)
    calls = _count_host_draws(monkeypatch)
    _assert_same(_runs(graphcompat), runs)
    assert len(calls) == 4 + 3


@pytest.mark.oracle
def test_compiled_device_draws_equal_tf():
    _assert_same(_runs(graphcompat), _runs(oracle.tf1()))
