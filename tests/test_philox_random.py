"""Seeded random ops give TensorFlow's numbers (lowering/philox.py) against real TF 2.21 compat.v1.

Stateful ops (RandomUniform, RandomStandardNormal, TruncatedNormal, RandomUniformInt) for the first three
`sess.run` calls (each run advances TF's stream), op by op and compiled; stateless V2 ops for a seed
tensor; initializers' variables. The random ops' own outputs are compared bit for bit (normals too: glibc's
roundings come from lowering/philox_libm.npz and the C library). The scaling after them (`* stddev +
mean`) is XLA arithmetic in compiled plans, which may contract a multiply-add (docs/migration.md).
"""
import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

import graphcompat
from lowering import philox
from tests import oracle

pytestmark = pytest.mark.oracle

SHAPES = [[], [0], [7], [3, 5], [1031]]
RANDOM_OPS = ("RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomUniformInt")
FLOATS = ["float16", "bfloat16", "float32", "float64"]


def _ordered(x: np.ndarray) -> np.ndarray:
    """Float bits as integers ordered like the floats, so differences count ulps."""
    bits = x.view({2: np.int16, 4: np.int32, 8: np.int64}[x.dtype.itemsize]).astype(np.int64)
    top = np.int64(1) << (8 * x.dtype.itemsize - 1)
    return np.where(bits < 0, -(bits + top), bits)


def ulps(got, want) -> int:
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype, got.shape, want.shape)
    if got.size == 0:
        return 0
    if want.dtype.kind != "f" and want.dtype != ml_dtypes.bfloat16:
        return 0 if np.array_equal(got, want) else np.iinfo(np.int64).max
    return int(np.max(np.abs(_ordered(got) - _ordered(want))))


def _stateful(tf):
    """(label, tensor, exact) for each op × dtype × shape, under the graph seed set by the caller."""
    out = []
    for shape in SHAPES:
        # every dtype at a size of several groups and an odd one; float32 at all sizes (compiles stay short)
        if shape == [3, 5]:
            continue
        for dt in FLOATS if shape == [1031] else ["float32"]:
            dtype = getattr(tf, dt)
            out.append((f"uniform {dt} {shape}", tf.random_uniform(shape, dtype=dtype), True))
            out.append((f"normal {dt} {shape}", tf.random_normal(shape, dtype=dtype), False))
            out.append((f"truncated {dt} {shape}", tf.truncated_normal(shape, dtype=dtype), False))
        out.append((f"int32 {shape}", tf.random_uniform(shape, -5, 1000, dtype=tf.int32), True))
        out.append((f"int64 {shape}", tf.random_uniform(shape, -2 ** 40, 2 ** 41 + 3, dtype=tf.int64), True))
    out.append(("uniform op seed", tf.random_uniform([9], seed=123), True))
    out.append(("normal scaled", tf.random_normal([2, 3], mean=1.5, stddev=3.0, seed=7), False))
    out.append(("uniform range", tf.random_uniform([4, 4], -2.0, 5.0, seed=2 ** 40), True))
    return out


def _run_three(tf, graph_seed):
    """Three runs of every random op's own output (before scaling), and of the scaled results."""
    graph = tf.Graph()
    with graph.as_default():
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        table = _stateful(tf)
        raw = [op.outputs[0] for op in graph.get_operations() if op.type in RANDOM_OPS]
        with tf.Session(graph=graph) as sess:
            runs = [sess.run(raw) for _ in range(2)] + [sess.run([raw, [t for _, t, _ in table]])]
    return [op.name for op in raw], runs


@pytest.fixture
def compiled():
    graphcompat.config.set_deterministic(True)
    yield
    graphcompat.config.set_deterministic(False)


def _check_three(graph_seed):
    names, want = _run_three(oracle.tf1(), graph_seed)
    got_names, got = _run_three(graphcompat, graph_seed)
    assert got_names == names
    for k in range(2):
        for name, g, w in zip(names, got[k], want[k]):
            assert ulps(g, w) == 0, (f"run {k}", name, g, w)
    (got_raw, got_scaled), (want_raw, want_scaled) = got[2], want[2]
    for name, g, w in zip(names, got_raw, want_raw):
        assert ulps(g, w) == 0, ("run 2", name, g, w)
    for g, w in zip(got_scaled, want_scaled):
        np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(w, np.float64), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("graph_seed", [87654321])
def test_stateful_ops_first_three_runs_op_by_op_then_compiled(graph_seed):
    # the default tier: a signature's first run is op by op (numpy), later runs compiled (jax.numpy)
    _check_three(graph_seed)


def test_op_seed_without_graph_seed():
    def build(tf):
        return [tf.random_uniform([5], seed=11), tf.truncated_normal([6], seed=12, dtype=tf.float64)]
    want, got = oracle.run(oracle.tf1(), build), oracle.run(graphcompat, build)
    np.testing.assert_array_equal(got[0], want[0])
    assert ulps(got[1], want[1]) == 0


@pytest.mark.parametrize("graph_seed", [2 ** 33 + 5])
def test_stateful_ops_first_three_runs_compiled(compiled, graph_seed):
    _check_three(graph_seed)


def _stateless(tf, seed_dtype):
    out = []
    for seed in ([1, 2], [-7, 2 ** 30 + 11], [0, 0]):
        s = tf.constant(seed, dtype=seed_dtype)
        for shape in SHAPES:
            for dt in FLOATS:
                dtype = getattr(tf, dt)
                out.append((f"uniform {dt} {shape} {seed}", tf.random.stateless_uniform(shape, s, dtype=dtype), True))
                out.append((f"normal {dt} {shape} {seed}", tf.random.stateless_normal(shape, s, dtype=dtype), False))
                out.append((f"truncated {dt} {shape} {seed}",
                            tf.random.stateless_truncated_normal(shape, s, dtype=dtype), False))
            out.append((f"int32 {shape} {seed}", tf.random.stateless_uniform(shape, s, -9, 77, dtype=tf.int32), True))
            out.append((f"int64 {shape} {seed}",
                        tf.random.stateless_uniform(shape, s, -2 ** 50, 2 ** 45, dtype=tf.int64), True))
            out.append((f"full int {shape} {seed}",
                        tf.random.stateless_uniform(shape, s, None, None, dtype=tf.uint32), True))
    return out


@pytest.mark.parametrize("seed_dtype", ["int64", "int32"])
@pytest.mark.parametrize("deterministic", [False, True])
def test_stateless_ops(seed_dtype, deterministic):
    def build(tf):
        return [t for _, t, _ in _stateless(tf, getattr(tf, seed_dtype))]
    labels = [(label, exact) for label, _, exact in _stateless(graphcompat, getattr(graphcompat, seed_dtype))]
    graphcompat.reset_default_graph()
    want = oracle.run(oracle.tf1(), build)
    graphcompat.config.set_deterministic(deterministic)
    try:
        got = oracle.run(graphcompat, build)
    finally:
        graphcompat.config.set_deterministic(False)
    for (label, _), g, w in zip(labels, got, want):
        assert ulps(g, w) == 0, (label, g, w)


def test_stateless_key_counter_and_fed_seed():
    def run(tf):
        graph = tf.Graph()
        with graph.as_default():
            seed = tf.placeholder(tf.int64, [2])
            normal = tf.random.stateless_normal([5, 2], seed)
            key_counter = [op for op in graph.get_operations() if op.type == "StatelessRandomGetKeyCounter"][0]
            fetches = list(key_counter.outputs) + [normal]
            with tf.Session(graph=graph) as sess:
                return [sess.run(fetches, {seed: s}) for s in ([5, 6], [-1, 2 ** 62])]
    want, got = run(oracle.tf1()), run(graphcompat)
    for w_run, g_run in zip(want, got):
        np.testing.assert_array_equal(g_run[0], w_run[0])
        np.testing.assert_array_equal(g_run[1], w_run[1])
        assert ulps(g_run[2], w_run[2]) == 0


def test_stateless_v1_ops():
    # the V1 ops (seed in, no key/counter) of imported graphs: TF builds them with tf.raw_ops
    from graphcompat.framework.registry import apply_op

    def build(tf, raw):
        out = []
        for seed_dtype in (tf.int64, tf.int32):
            seed = tf.constant([7, -3], seed_dtype)
            for dt in (tf.float16, tf.bfloat16, tf.float32, tf.float64):
                for op in ("StatelessRandomUniform", "StatelessRandomNormal", "StatelessTruncatedNormal"):
                    out.append(raw(op, shape=tf.constant([3, 5]), seed=seed, dtype=dt))
            for dt, lo, hi in ((tf.int32, -4, 9), (tf.int64, -2 ** 40, 2 ** 35)):
                out.append(raw("StatelessRandomUniformInt", shape=tf.constant([11]), seed=seed,
                               minval=tf.constant(lo, dt), maxval=tf.constant(hi, dt)))
            out.append(raw("StatelessRandomUniformFullInt", shape=tf.constant([6]), seed=seed, dtype=tf.uint64))
        return out

    import tensorflow as tf2

    def tf_raw(op, **kw):
        return getattr(tf2.raw_ops, op)(**kw)

    def gc_raw(op, shape, seed, minval=None, maxval=None, dtype=None):
        return apply_op(op, [shape, seed] + ([minval, maxval] if minval is not None else []),
                        {"dtype": dtype} if dtype is not None else {})
    want = oracle.run(oracle.tf1(), lambda tf: build(tf, tf_raw))
    got = oracle.run(graphcompat, lambda tf: build(tf, gc_raw))
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape and ulps(g, w) == 0, k


@pytest.mark.parametrize("init", ["glorot_uniform_initializer", "truncated_normal_initializer",
                                  "random_uniform_initializer", "random_normal_initializer",
                                  "variance_scaling_initializer", "glorot_normal_initializer"])
def test_initialized_variables_equal_tf(init):
    def build(tf):
        tf.set_random_seed(0)
        a = tf.get_variable("a", [784, 65], initializer=getattr(tf, init)())
        b = tf.Variable(getattr(tf, init)(seed=3)([3, 5, 2]))
        return [a, b]
    want = oracle.run(oracle.tf1(), build, init_variables=True)
    got = oracle.run(graphcompat, build, init_variables=True)
    for g, w in zip(got, want):  # an initializer's one-off run is op by op: its scaling is exact too
        assert ulps(g, w) == 0, init


def test_unseeded_ops_advance_and_differ_between_sessions():
    graph = graphcompat.Graph()
    with graph.as_default():
        x = graphcompat.random_uniform([64])
        with graphcompat.Session() as sess:
            a, b = sess.run(x), sess.run(x)
        with graphcompat.Session() as sess:
            c = sess.run(x)
    assert not np.array_equal(a, b) and not np.array_equal(a, c)


# --- the two implementations (numpy op by op, jax.numpy compiled) give the same bits -------------------

_CASES = [("uniform", dt) for dt in FLOATS] + [("normal", dt) for dt in FLOATS] + \
         [("truncated_normal", dt) for dt in FLOATS] + [("uniform_int", "int32"), ("uniform_int", "int64"),
                                                         ("uniform_full_int", "uint32"), ("uniform_full_int", "int64")]


def _host_and_compiled(name, dtype, n, args=()):
    # counters whose low words carry: group offsets cross 2^32 and 2^64
    key = (0x12345678, 0x9ABCDEF0)
    counter = (0xFFFFFFF0, 0xFFFFFFFF, 0xFFFFFFFF, 7)
    fn = getattr(philox, name)
    host = fn(np, key, counter, n, *args, dtype)
    with jax.enable_x64(True):
        dev = jax.jit(lambda k0, c0: fn(jnp, (k0, key[1]), (c0,) + counter[1:], n, *args, dtype))(
            jnp.uint64(key[0]), jnp.uint64(counter[0]))
        dev = np.asarray(dev)
    assert host.dtype == dev.dtype == dtype and host.shape == (n,)
    np.testing.assert_array_equal(host.view(np.uint8), dev.view(np.uint8))


@pytest.mark.parametrize("name,dtype", _CASES)
def test_numpy_and_jax_give_identical_bits(name, dtype):
    dtype = np.dtype(getattr(ml_dtypes, dtype, None) or dtype)
    # float32: more than one host chunk (philox._CHUNK_GROUPS groups), so the chunks' counters are checked
    n = 70001 if dtype in (np.float32, np.int32) else 4099
    _host_and_compiled(name, dtype, n, (-1000, 2 ** 31 - 5) if name == "uniform_int" else ())


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_compiled_truncated_normal_host_fallback(monkeypatch, dtype):
    # with one call per group up front, ~17% of groups fall short: the compiled fill asks the host
    monkeypatch.setattr(philox, "_FIRST_CALLS", 1)
    _host_and_compiled("truncated_normal", np.dtype(dtype), 1001)


@pytest.mark.parametrize("first_calls", [3, 1])
@pytest.mark.parametrize("name,dtype", [("normal", "float32"), ("normal", "float64"), ("normal", "float16"),
                                        ("truncated_normal", "float32"), ("truncated_normal", "float64")])
def test_compiled_normals_without_host_callbacks(monkeypatch, name, dtype, first_calls):
    # on GPU/TPU or several devices a compiled plan computes Box-Muller on the device, correctly rounded:
    # no pure_callback in the executable, values within 3 ulp of TF's (the host's, glibc-rounded)
    monkeypatch.setattr(philox, "_host_roundings_in_compiled_plans", lambda: False)
    monkeypatch.setattr(philox, "_FIRST_CALLS", first_calls)  # 1: ~17% of truncated groups redraw
    dtype = np.dtype(dtype)
    key, counter, n = (0x12345678, 0x9ABCDEF0), (5, 0, 0, 0), 4099
    fn = getattr(philox, name)
    host = fn(np, key, counter, n, dtype)
    with jax.enable_x64(True):
        step = jax.jit(lambda k0: fn(jnp, (k0, key[1]), counter, n, dtype))
        assert "callback" not in step.lower(jnp.uint64(key[0])).as_text()
        dev = np.asarray(step(jnp.uint64(key[0])))
    assert dev.dtype == host.dtype and ulps(dev, host) <= 3


def test_philox_known_answer():
    # Philox4x32-10 test vector of the Random123 paper (key and counter all ones)
    out = philox.philox(np, (0xFFFFFFFF, 0xFFFFFFFF), [np.uint64(0xFFFFFFFF)] * 4)
    assert [int(w) for w in out] == [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]


def test_threefry_alg_is_not_implemented():
    from graphcompat.framework.registry import apply_op
    key, counter = apply_op("StatelessRandomGetKeyCounter", [graphcompat.constant([1, 2], graphcompat.int64)])
    x = apply_op("StatelessRandomUniformV2", [graphcompat.constant([3]), key, counter, graphcompat.constant(2)],
                 {"dtype": graphcompat.float32})
    with graphcompat.Session() as sess:
        with pytest.raises(NotImplementedError, match="StatelessRandomUniformV2 with alg=2"):
            sess.run(x)
