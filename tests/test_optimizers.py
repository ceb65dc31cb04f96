"""tf.train optimizers: N steps on a small problem against a numpy re-implementation of TF's kernels
(tensorflow/core/kernels/training_ops.cc), dense and sparse; slot names; global step; decays; errors."""
import math

import numpy as np
import pytest

import graphcompat as tf
from lowering.executor import runner_for
from graphcompat.framework.registry import apply_op

RNG = np.random.RandomState(42)
X = RNG.randn(6, 3).astype(np.float32)
Y = RNG.randn(6, 2).astype(np.float32)
W0 = RNG.randn(3, 2).astype(np.float32)
B0 = RNG.randn(2).astype(np.float32)
STEPS = 5


# ------------------------------------------------------------------------------------------------
# numpy kernels: (state dict, grad) -> state dict, same math as TF's
# ------------------------------------------------------------------------------------------------
def k_sgd(s, g, lr=0.1):
    return {"var": s["var"] - lr * g}


def k_momentum(s, g, lr=0.1, mu=0.9, nesterov=False):
    acc = s.get("acc", np.zeros_like(g)) * mu + g
    var = s["var"] - (g * lr + acc * mu * lr if nesterov else acc * lr)
    return {"var": var, "acc": acc}


def k_adagrad(s, g, lr=0.1, init=0.1):
    acc = s.get("acc", np.full_like(g, init)) + g * g
    return {"var": s["var"] - lr * g / np.sqrt(acc), "acc": acc}


def k_adam(s, g, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
    t = s.get("t", 0) + 1
    m = s.get("m", np.zeros_like(g))
    v = s.get("v", np.zeros_like(g))
    lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    m = m + (g - m) * (1 - b1)
    v = v + (g * g - v) * (1 - b2)
    return {"var": s["var"] - lr_t * m / (np.sqrt(v) + eps), "m": m, "v": v, "t": t}


def k_rmsprop(s, g, lr=0.1, rho=0.9, mu=0.5, eps=1e-10, centered=False):
    ms = s.get("ms", np.ones_like(g))
    mg = s.get("mg", np.zeros_like(g))
    mom = s.get("mom", np.zeros_like(g))
    ms = ms + (g * g - ms) * (1 - rho)
    if centered:
        mg = mg + (g - mg) * (1 - rho)
        mom = mom * mu + lr * g / np.sqrt(ms - mg * mg + eps)
    else:
        mom = mom * mu + lr * g / np.sqrt(ms + eps)
    return {"var": s["var"] - mom, "ms": ms, "mg": mg, "mom": mom}


def k_ftrl(s, g, lr=0.1, power=-0.5, init=0.1, l1=0.01, l2=0.02, shrink=0.0):
    var = s["var"]
    acc = s.get("acc", np.full_like(g, init))
    lin = s.get("lin", np.zeros_like(g))
    gs = g + 2 * shrink * var
    new_acc = acc + g * g
    lin = lin + gs - (new_acc ** -power - acc ** -power) / lr * var
    quad = new_acc ** -power / lr + 2 * l2
    var = np.where(np.abs(lin) > l1, (np.clip(lin, -l1, l1) - lin) / quad, 0.0)
    return {"var": var, "acc": new_acc, "lin": lin}


def k_adadelta(s, g, lr=1.0, rho=0.95, eps=1e-6):
    acc = s.get("acc", np.zeros_like(g))
    upd_acc = s.get("upd", np.zeros_like(g))
    acc = acc * rho + g * g * (1 - rho)
    update = np.sqrt(upd_acc + eps) / np.sqrt(acc + eps) * g
    upd_acc = upd_acc * rho + update * update * (1 - rho)
    return {"var": s["var"] - update * lr, "acc": acc, "upd": upd_acc}


def k_proximal(s, g, lr=0.1, l1=0.05, l2=0.1):
    prox = s["var"] - lr * g
    if l1 > 0:
        var = np.sign(prox) * np.maximum(np.abs(prox) - lr * l1, 0) / (1 + lr * l2)
    else:
        var = prox / (1 + lr * l2)
    return {"var": var}


# (id, optimizer factory, numpy kernel)
OPTIMIZERS = [
    ("sgd", lambda: tf.train.GradientDescentOptimizer(0.1), k_sgd),
    ("momentum", lambda: tf.train.MomentumOptimizer(0.1, 0.9), k_momentum),
    ("nesterov", lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
     lambda s, g: k_momentum(s, g, nesterov=True)),
    ("adagrad", lambda: tf.train.AdagradOptimizer(0.1), k_adagrad),
    ("adam", lambda: tf.train.AdamOptimizer(0.1), k_adam),
    ("rmsprop", lambda: tf.train.RMSPropOptimizer(0.1, momentum=0.5), k_rmsprop),
    ("rmsprop_centered", lambda: tf.train.RMSPropOptimizer(0.1, momentum=0.5, centered=True),
     lambda s, g: k_rmsprop(s, g, centered=True)),
    ("ftrl", lambda: tf.train.FtrlOptimizer(0.1, l1_regularization_strength=0.01, l2_regularization_strength=0.02),
     k_ftrl),
    ("ftrl_shrinkage", lambda: tf.train.FtrlOptimizer(0.1, l1_regularization_strength=0.01,
                                                      l2_regularization_strength=0.02,
                                                      l2_shrinkage_regularization_strength=0.03),
     lambda s, g: k_ftrl(s, g, shrink=0.03)),
    ("adadelta", lambda: tf.train.AdadeltaOptimizer(1.0, epsilon=1e-6), k_adadelta),
    ("proximal", lambda: tf.train.ProximalGradientDescentOptimizer(0.1, 0.05, 0.1), k_proximal),
]


def _np_grads(w, b):
    r = X @ w + b - Y
    return 2 * X.T @ r, 2 * r.sum(0)


@pytest.mark.parametrize("name,make,kernel", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_dense_updates_match_tf_kernels(name, make, kernel):
    w = tf.Variable(W0, name="w")
    b = tf.Variable(B0, name="b")
    loss = tf.reduce_sum(tf.square(tf.matmul(tf.constant(X), w) + b - tf.constant(Y)))
    train = make().minimize(loss)
    sw, sb = {"var": W0.astype(np.float64)}, {"var": B0.astype(np.float64)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(STEPS):
            gw, gb = _np_grads(sw["var"], sb["var"])
            sw, sb = kernel(sw, gw), kernel(sb, gb)
            sess.run(train)
        got_w, got_b = sess.run([w, b])
    np.testing.assert_allclose(got_w, sw["var"], rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(got_b, sb["var"], rtol=2e-4, atol=2e-5)


def _sparse_ref(kernel, name, table, ids, target, steps):
    """TF's sparse semantics: duplicate rows summed, only those rows updated (Adam decays m, v everywhere)."""
    states = {}
    table = table.astype(np.float64).copy()
    uniq = np.unique(ids)
    adam = {"m": np.zeros_like(table), "v": np.zeros_like(table), "t": 0}
    for _ in range(steps):
        g_rows = 2 * (table[ids] - target)
        g = np.zeros_like(table)
        np.add.at(g, ids, g_rows)
        if name == "adam":
            adam["t"] += 1
            t = adam["t"]
            lr = 0.1 * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
            adam["m"] = adam["m"] * 0.9 + g * 0.1
            adam["v"] = adam["v"] * 0.999 + g * g * 0.001
            table = table - lr * adam["m"] / (np.sqrt(adam["v"]) + 1e-8)
            continue
        for r in uniq:
            s = states.get(r, {})
            s = dict(s, var=table[r])
            s = kernel(s, g[r])
            table[r] = s["var"]
            states[r] = s
    return table


@pytest.mark.parametrize("name,make,kernel", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_sparse_updates_match_tf_kernels(name, make, kernel):
    table0 = RNG.randn(10, 3).astype(np.float32)
    ids = np.array([2, 7, 2, 5], np.int32)
    target = RNG.randn(4, 3).astype(np.float32)
    emb = tf.Variable(table0, name="emb")
    rows = apply_op("GatherV2", [emb, tf.constant(ids), tf.constant(0)], name="embedding_lookup")
    loss = tf.reduce_sum(tf.square(rows - tf.constant(target)))
    opt = make()
    grads_and_vars = opt.compute_gradients(loss)
    assert isinstance(grads_and_vars[0][0], tf.IndexedSlices)
    train = opt.apply_gradients(grads_and_vars)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        got = sess.run(emb)
    want = _sparse_ref(kernel, name, table0, ids, target, 3)
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)
    if name != "adam":
        untouched = [r for r in range(10) if r not in ids]
        np.testing.assert_array_equal(got[untouched], table0[untouched])


SLOT_NAMES = [
    ("sgd", lambda: tf.train.GradientDescentOptimizer(0.1), [], []),
    ("momentum", lambda: tf.train.MomentumOptimizer(0.1, 0.9), ["momentum"], ["w/Momentum"]),
    ("adagrad", lambda: tf.train.AdagradOptimizer(0.1), ["accumulator"], ["w/Adagrad"]),
    ("adam", lambda: tf.train.AdamOptimizer(), ["m", "v"], ["beta1_power", "beta2_power", "w/Adam", "w/Adam_1"]),
    ("rmsprop", lambda: tf.train.RMSPropOptimizer(0.1), ["momentum", "rms"], ["w/RMSProp", "w/RMSProp_1"]),
    ("rmsprop_c", lambda: tf.train.RMSPropOptimizer(0.1, centered=True), ["mg", "momentum", "rms"],
     ["w/RMSProp", "w/RMSProp_1", "w/RMSProp_2"]),
    ("ftrl", lambda: tf.train.FtrlOptimizer(0.1), ["accum", "linear"], ["w/Ftrl", "w/Ftrl_1"]),
    ("adadelta", lambda: tf.train.AdadeltaOptimizer(), ["accum", "accum_update"], ["w/Adadelta", "w/Adadelta_1"]),
]


@pytest.mark.parametrize("name,make,slots,var_names", SLOT_NAMES, ids=[s[0] for s in SLOT_NAMES])
def test_slot_and_variable_names(name, make, slots, var_names):
    w = tf.Variable(W0, name="w")
    loss = tf.reduce_sum(tf.square(w))
    opt = make()
    train = opt.minimize(loss)
    assert opt.get_slot_names() == slots
    assert sorted(v.op.name for v in opt.variables()) == var_names
    assert sorted(v.op.name for v in tf.global_variables()) == sorted(["w"] + var_names)
    assert tf.trainable_variables() == [w]
    for s in slots:
        assert opt.get_slot(w, s).shape == w.shape
    assert opt.get_slot(w, "nope") is None
    assert train.name == opt.get_name() and train.type == "NoOp"
    assert train in tf.get_collection(tf.GraphKeys.TRAIN_OP)


def test_apply_op_names_and_loss_is_pre_update():
    w = tf.Variable(2.0, name="w")
    loss = tf.square(w)
    train = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert "GradientDescent/learning_rate" in names
    assert "GradientDescent/update_w/ApplyGradientDescent" in names
    with tf.Session() as sess:
        sess.run(w.initializer)
        assert sess.run([train, loss])[1] == 4.0   # loss read before the update
        assert sess.run([train, loss])[1] == 1.0
        assert sess.run(w) == 0.5


def test_global_step():
    assert tf.train.get_global_step() is None
    gs = tf.train.get_or_create_global_step()
    assert gs.op.name == "global_step" and gs.dtype.base_dtype == tf.int64 and gs.shape.as_list() == []
    assert tf.train.get_or_create_global_step() is gs and tf.train.get_global_step() is gs
    assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [gs] and gs in tf.global_variables()
    assert gs not in tf.trainable_variables()
    with pytest.raises(ValueError, match='"global_step" already exists.'):
        tf.train.create_global_step()
    w = tf.Variable(1.0, name="w")
    train = tf.train.AdamOptimizer(0.1).minimize(tf.square(w), global_step=gs)
    assert train.type == "AssignAdd" and train.name == "Adam"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        assert tf.train.global_step(sess, gs) == 3
        assert sess.run(opt_var("beta1_power")) == pytest.approx(0.9 ** 4, rel=1e-6)


def opt_var(name):
    return [v for v in tf.global_variables() if v.op.name == name][0]


def test_compute_and_apply_gradients_and_clipping():
    w = tf.Variable([3.0, 4.0], name="w")
    loss = tf.reduce_sum(w * w)  # grad = 2w = [6, 8], norm 10
    opt = tf.train.GradientDescentOptimizer(1.0)
    gvs = opt.compute_gradients(loss)
    assert gvs[0][1] is w
    clipped, norm = tf.clip_by_global_norm([g for g, _ in gvs], 5.0)
    train = opt.apply_gradients(zip(clipped, [w]))
    by_norm = tf.clip_by_norm(tf.constant([6.0, 8.0]), 5.0)
    with tf.Session() as sess:
        sess.run(w.initializer)
        assert sess.run(norm) == pytest.approx(10.0)
        np.testing.assert_allclose(sess.run(clipped[0]), [3.0, 4.0], rtol=1e-6)
        np.testing.assert_allclose(sess.run(by_norm), [3.0, 4.0], rtol=1e-6)
        np.testing.assert_allclose(sess.run(tf.global_norm([tf.constant([3.0]), None, tf.constant([4.0])])), 5.0)
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), [0.0, 0.0], atol=1e-6)


def test_bad_input_errors():
    with pytest.raises(ValueError, match="No variables to optimize."):
        tf.train.GradientDescentOptimizer(0.1).minimize(tf.constant(1.0))
    w = tf.Variable(1.0, name="w", trainable=False)
    with pytest.raises(ValueError, match="No variables to optimize."):
        tf.train.GradientDescentOptimizer(0.1).minimize(w * 2.0)
    i = tf.Variable(1, name="i")
    with pytest.raises(ValueError, match=r"Invalid type tf.int32 for mul_1:0, expected: \[tf.float32, tf.float64, "
                                         r"tf.float16, tf.bfloat16\]\."):
        tf.train.GradientDescentOptimizer(0.1).minimize(i * 2)
    v = tf.Variable(1.0, name="v")
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        tf.train.GradientDescentOptimizer(0.1).minimize(tf.constant(1.0) + tf.stop_gradient(v), var_list=[v])
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive: 0.0"):
        tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)
    with pytest.raises(ValueError, match="learning_rate_power 0.500000 needs to be negative or zero"):
        tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5)
    with pytest.raises(NotImplementedError, match="Trying to optimize unsupported type"):
        tf.train.GradientDescentOptimizer(0.1).minimize(v * 2.0, var_list=[tf.constant(1.0)])
    n = len(tf.get_default_graph().get_operations())
    with pytest.raises(ValueError, match="No variables provided."):
        tf.train.GradientDescentOptimizer(0.1).apply_gradients([])
    assert len(tf.get_default_graph().get_operations()) == n


DECAYS = [
    ("exponential", lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5), lambda t: 0.1 * 0.5 ** (t / 10)),
    ("exponential_stair", lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5, staircase=True),
     lambda t: 0.1 * 0.5 ** (t // 10)),
    ("inverse_time", lambda s: tf.train.inverse_time_decay(0.1, s, 10, 0.5), lambda t: 0.1 / (1 + 0.5 * t / 10)),
    ("natural_exp", lambda s: tf.train.natural_exp_decay(0.1, s, 10, 0.5), lambda t: 0.1 * math.exp(-0.5 * t / 10)),
    ("polynomial", lambda s: tf.train.polynomial_decay(0.1, s, 20, 0.01, power=2.0),
     lambda t: (0.1 - 0.01) * (1 - min(t, 20) / 20) ** 2 + 0.01),
    ("polynomial_cycle", lambda s: tf.train.polynomial_decay(0.1, s, 20, 0.01, cycle=True),
     lambda t: (0.1 - 0.01) * (1 - t / (20 * max(1, math.ceil(t / 20)))) + 0.01),
    ("cosine", lambda s: tf.train.cosine_decay(0.1, s, 20, alpha=0.1),
     lambda t: 0.1 * ((1 - 0.1) * 0.5 * (1 + math.cos(math.pi * min(t, 20) / 20)) + 0.1)),
    ("piecewise", lambda s: tf.train.piecewise_constant(s, [5, 15], [1.0, 0.5, 0.1]),
     lambda t: 1.0 if t <= 5 else (0.5 if t <= 15 else 0.1)),
]


@pytest.mark.parametrize("name,build,ref", DECAYS, ids=[d[0] for d in DECAYS])
def test_learning_rate_decays(name, build, ref):
    step = tf.placeholder(tf.int64, [])
    lr = build(step)
    assert lr.dtype == tf.float32
    with tf.Session() as sess:
        for t in [0, 1, 5, 9, 10, 15, 19, 20, 25, 47]:
            assert sess.run(lr, {step: t}) == pytest.approx(ref(t), rel=1e-5), t
    with pytest.raises(ValueError):
        tf.train.piecewise_constant(step, [1, 2], [1.0])


def test_train_then_train_and_loss_reuses_the_compiled_step():
    # Every TF1 loop does run(train_op) (warm-up) and then run([train_op, loss]): the second signature
    # prunes to the same ops, so it runs the first plan (which returns the loss for free) unchanged.
    X = tf.placeholder(tf.float32)
    w = tf.Variable(2.0, name="w")
    loss = tf.square(w * X)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(w.initializer)
        assert sess.run(train, {X: 1.0}) is None                 # w: 2 -> 2 - 0.1 * 4 = 1.6
        got = sess.run([train, loss], {X: 1.0})                  # loss before this update: 1.6^2
        assert got[0] is None and got[1] == pytest.approx(2.56)
        assert sess.run(w) == pytest.approx(1.6 - 0.1 * 3.2)
        assert runner_for(sess, loss, train) is runner_for(sess, train)
        assert sess.run([loss, train], {X: 1.0})[0] == pytest.approx(1.28 ** 2)  # reordered outputs
        # fetching only the loss prunes differently (no update): a plan of its own, and w is unchanged
        before = sess.run(w)
        sess.run(loss, {X: 1.0})
        assert sess.run(w) == before


def test_sparse_nce_step_then_step_and_loss_reuses_the_compiled_step():
    # word2vec's loop: the loss goes through nce_loss, whose ops check their inputs (Select, gathers);
    # fetching it must still reuse the training step's plan (a second compile cost 5x in the benchmark).
    c = tf.placeholder(tf.int32, [8])
    t_ = tf.placeholder(tf.int32, [8, 1])
    emb = tf.get_variable("emb_nce_reuse", [50, 4])
    w = tf.get_variable("w_nce_reuse", [50, 4])
    b = tf.get_variable("b_nce_reuse", initializer=tf.zeros([50]))
    loss = tf.reduce_mean(tf.nn.nce_loss(weights=w, biases=b, labels=t_, inputs=tf.nn.embedding_lookup(emb, c),
                                         num_sampled=4, num_classes=50))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    feed = {c: np.arange(8, dtype=np.int32), t_: np.arange(8, dtype=np.int32)[:, None] + 10}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, feed)
        assert np.isfinite(sess.run([train, loss], feed)[1])
        assert runner_for(sess, loss, train) is runner_for(sess, train)
