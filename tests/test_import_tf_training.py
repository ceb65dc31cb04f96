"""TensorFlow writes a training graph (meta graph + checkpoint), graphcompat imports it, restores TF's
checkpoint with TF's own save/restore subgraph and RUNS the training op: the losses of a few steps equal
TF's doing the same steps. Covers TF's gradient kernels (ReluGrad, BiasAddGrad, BroadcastGradientArgs,
Conv2DBackpropFilter, MaxPoolGrad, FusedBatchNormGradV3 …), resource and ref variables, and optimizers."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

pytestmark = pytest.mark.oracle
RNG = np.random.RandomState(0)


def _dense(v1, x, units, activation=None):
    """tf.layers.dense with TF1's own initializer ops (tf-keras' default draws with stateless random ops,
    which graphcompat does not have)."""
    return v1.layers.dense(x, units, activation=activation, kernel_initializer=v1.glorot_uniform_initializer())


def _mlp(v1):
    x = v1.placeholder(v1.float32, [None, 4], name="x")
    y = v1.placeholder(v1.int64, [None], name="y")
    h = _dense(v1, x, 8, activation=v1.nn.relu)
    h = _dense(v1, h, 8, activation=v1.nn.elu)
    h = v1.nn.leaky_relu(h) + v1.nn.relu6(h) + v1.nn.softplus(h) + v1.nn.softsign(h) + v1.nn.selu(h)
    h = v1.tanh(h) * v1.sigmoid(h)
    logits = _dense(v1, h, 3)
    loss = v1.losses.sparse_softmax_cross_entropy(y, logits) + v1.losses.softmax_cross_entropy(v1.one_hot(y, 3),
                                                                                               logits)
    loss += 1e-3 * v1.add_n([v1.nn.l2_loss(v) for v in v1.trainable_variables()])
    a = v1.abs(logits) + 1.0
    loss += v1.reduce_mean(v1.sqrt(a) + v1.rsqrt(a) + 1.0 / a + v1.nn.log_softmax(logits) * v1.nn.softmax(logits))
    feed = {"x:0": RNG.rand(16, 4).astype(np.float32), "y:0": RNG.randint(0, 3, 16)}
    return loss, feed


def _cnn(v1):
    x = v1.placeholder(v1.float32, [None, 8, 8, 3], name="x")
    init = v1.glorot_uniform_initializer()
    h = v1.layers.conv2d(x, 4, 3, padding="same", activation=v1.nn.relu, kernel_initializer=init)
    h = v1.layers.batch_normalization(h, training=True)
    h = v1.layers.max_pooling2d(h, 2, 2)
    h = v1.layers.average_pooling2d(h, 2, 1, padding="same")
    h = v1.nn.depthwise_conv2d(h, v1.get_variable("dw", [2, 2, 4, 2]), [1, 1, 1, 1], "SAME")
    h = v1.layers.conv2d_transpose(h, 3, 2, strides=2, kernel_initializer=init)
    h = v1.concat([h, h * 2.0], axis=3)
    h = v1.layers.flatten(h[:, 1:, ::2, :])
    loss = v1.reduce_mean(v1.square(_dense(v1, h, 2)))
    return loss, {"x:0": RNG.rand(4, 8, 8, 3).astype(np.float32)}


def _embedding(v1):
    ids = v1.placeholder(v1.int32, [None], name="ids")
    e = v1.get_variable("e", [10, 4])
    r = v1.nn.embedding_lookup(e, ids)
    loss = v1.reduce_sum(v1.reduce_max(r, 1) + v1.reduce_min(r, 1)) + v1.reduce_sum(v1.tile(r, [2, 1]) ** 2)
    return loss, {"ids:0": np.array([1, 3, 3, 7], np.int32)}


def _transpose(v1):
    x = v1.placeholder(v1.float32, [None, 3, 2], name="x")
    w = v1.get_variable("w", [2, 3])
    loss = v1.reduce_sum(v1.square(v1.matmul(v1.transpose(x, [0, 2, 1]) * v1.reshape(w, [1, 2, 3]), x)))
    return loss, {"x:0": RNG.rand(2, 3, 2).astype(np.float32)}


def _cond(v1):
    """A TF1 cond (written with control flow v2 off): its gradient is TF1 control flow too."""
    x = v1.placeholder(v1.float32, [None, 3], name="x")
    flag = v1.placeholder(v1.bool, [], name="flag")
    h = v1.matmul(x, v1.get_variable("w", [3, 2]))
    y = v1.cond(flag, lambda: v1.nn.relu(h) * 2.0, lambda: v1.tanh(h))
    return v1.reduce_mean(v1.square(y - 1.0)), {"x:0": RNG.rand(8, 3).astype(np.float32), "flag:0": True}


MODELS = {"mlp": _mlp, "cnn": _cnn, "embedding": _embedding, "transpose": _transpose, "cond_v1": _cond}
OPTIMIZERS = {
    "adam": lambda t: t.train.AdamOptimizer(0.05),
    "momentum": lambda t: t.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
    "sgd": lambda t: t.train.GradientDescentOptimizer(0.05),
    "adagrad": lambda t: t.train.AdagradOptimizer(0.05),
    "rmsprop": lambda t: t.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
}
CASES = [("mlp", "adam", True), ("mlp", "rmsprop", True), ("mlp", "sgd", False), ("cnn", "adam", True),
         ("cnn", "momentum", False), ("embedding", "adagrad", True),
         ("embedding", "adam", True),
         ("embedding", "sgd", True), ("embedding", "momentum", False), ("cond_v1", "momentum", False),
         ("cond_v1", "adam", True),
         ("transpose", "sgd", True)]


def _case_id(case):
    m, o, r = case.values if hasattr(case, "values") else case
    return f"{m}-{o}-{'resource' if r else 'ref'}"


def tf_writes_training_graph(tmp_path, model, optimizer, use_resource, steps=3):
    """Builds and saves the model in TF; returns (checkpoint prefix, feed, TF's losses of `steps` steps)."""
    v1 = oracle.tf1()
    with oracle.control_flow_v2(not model.endswith("_v1")):
        return _write(v1, tmp_path, model, optimizer, use_resource, steps)


def _write(v1, tmp_path, model, optimizer, use_resource, steps):
    graph = v1.Graph()
    with graph.as_default():
        v1.set_random_seed(7)
        with v1.variable_scope("", use_resource=use_resource):
            loss, feed = MODELS[model](v1)
            step = v1.train.get_or_create_global_step()
            with v1.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):
                train = OPTIMIZERS[optimizer](v1).minimize(loss, global_step=step)
        v1.add_to_collection("train_op", train)
        v1.add_to_collection("loss", loss)
        saver = v1.train.Saver()
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "model"))
            losses = [sess.run([train, loss], feed)[1] for _ in range(steps)]
            final = {v.op.name: sess.run(v) for v in v1.global_variables()}
    return prefix, feed, losses, final


def _import_training_graph(prefix: str, want_vars: dict):
    """TF's meta graph imported into a new graphcompat graph: (graph, saver, train op, loss, variables),
    the variables being the ones TF wrote."""
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.train.import_meta_graph(prefix + ".meta")
        train, loss = tf.get_collection("train_op")[0], tf.get_collection("loss")[0]
        variables = tf.global_variables()
    assert {v.op.name for v in variables} == set(want_vars)
    return graph, saver, train, loss, variables


@pytest.mark.parametrize("model,optimizer,use_resource", CASES, ids=[_case_id(c) for c in CASES])
def test_graphcompat_trains_tensorflows_graph(tmp_path, model, optimizer, use_resource):
    prefix, feed, want_losses, want_vars = tf_writes_training_graph(tmp_path, model, optimizer, use_resource)
    graph, saver, train, loss, variables = _import_training_graph(prefix, want_vars)
    with graph.as_default():
        assert all(isinstance(v, tf.ResourceVariable) == use_resource for v in variables)
        with tf.Session(graph=graph) as sess:
            saver.restore(sess, prefix)
            losses = [sess.run([train, loss], feed)[1] for _ in range(len(want_losses))]
            got_vars = {v.op.name: sess.run(v) for v in variables}
    np.testing.assert_allclose(losses, want_losses, rtol=2e-4, atol=1e-5)
    for name, value in want_vars.items():
        np.testing.assert_allclose(got_vars[name], value, rtol=2e-3, atol=2e-5, err_msg=name)


# --- TF 1.x while-loop gradients: forward values on stacks (StackV2 / StackPushV2 / StackPopV2) ---------------
def _while_scaled(v1):
    """A plain TF1 while loop that multiplies by a variable each iteration (its gradient pops the loop
    variable the forward loop pushed, once per iteration)."""
    x = v1.placeholder(v1.float32, [None, 2], name="x")
    w = v1.get_variable("w", [2], initializer=v1.constant_initializer([0.9, 1.1]))
    _, y = v1.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, v1.tanh(a * w) + a), [0, x])
    return v1.reduce_mean(v1.square(y - 1.0)), {"x:0": RNG.rand(3, 2).astype(np.float32)}


def _rnn(cell):
    def model(v1):
        x = v1.placeholder(v1.float32, [None, 3, 2], name="x")
        cells = {"gru": lambda: v1.nn.rnn_cell.GRUCell(4), "lstm": lambda: v1.nn.rnn_cell.BasicLSTMCell(4)}
        out, _ = v1.nn.dynamic_rnn(cells[cell](), x, dtype=v1.float32)
        return v1.reduce_mean(v1.square(out)), {"x:0": RNG.rand(2, 3, 2).astype(np.float32)}
    return model


def _nested(v1):
    """A loop in a loop whose trip count is the outer counter: TF 1 keeps the inner loop's values and its
    per-outer-iteration trip counts on stacks too (the backward inner loop starts from a popped count)."""
    x = v1.placeholder(v1.float32, [None, 2], name="x")
    w = v1.get_variable("w", [2], initializer=v1.constant_initializer([0.9, 1.1]))

    def outer(i, a):
        _, b = v1.while_loop(lambda j, b: j < i + 1, lambda j, b: (j + 1, v1.tanh(b * w)), [0, a])
        return i + 1, b + a
    _, y = v1.while_loop(lambda i, a: i < 3, outer, [0, x])
    return v1.reduce_mean(v1.square(y)), {"x:0": RNG.rand(3, 2).astype(np.float32)}


def _nested_bounded(v1):
    """Loops in a loop, each with a maximum_iterations: the inner loop's pushes are sized by both bounds."""
    x = v1.placeholder(v1.float32, [None, 2], name="x")
    w = v1.get_variable("w", [2], initializer=v1.constant_initializer([0.9, 1.1]))

    def outer(i, a):
        _, b = v1.while_loop(lambda j, b: j < 2, lambda j, b: [j + 1, v1.tanh(b * w)], [0, a],
                             maximum_iterations=2)
        return [i + 1, b * w + a]
    _, y = v1.while_loop(lambda i, a: i < 3, outer, [0, x], maximum_iterations=3)
    return v1.reduce_mean(v1.square(y)), {"x:0": RNG.rand(3, 2).astype(np.float32)}


def _scan(v1):
    """tf.scan and tf.map_fn (TF1 loops over TensorArrays) with a variable in the step."""
    x = v1.placeholder(v1.float32, [5, 2], name="x")
    w = v1.get_variable("w", [2], initializer=v1.constant_initializer([0.9, 1.1]))
    y = v1.map_fn(lambda e: v1.reduce_sum(e * w), v1.scan(lambda a, e: a * w + e, x))
    return v1.reduce_sum(y), {"x:0": RNG.rand(5, 2).astype(np.float32)}


def _rnn_lengths(v1):
    """dynamic_rnn with sequence_length: rows stop at their lengths (selects in the loop body)."""
    x = v1.placeholder(v1.float32, [None, 4, 2], name="x")
    out, state = v1.nn.dynamic_rnn(v1.nn.rnn_cell.GRUCell(3), x, sequence_length=[2, 4], dtype=v1.float32)
    return v1.reduce_mean(v1.square(out)) + v1.reduce_sum(state), {"x:0": RNG.rand(2, 4, 2).astype(np.float32)}


def _while_cond(v1):
    """A tf.cond inside the loop: TF 1's gradient pushes the predicate and each side's values on stacks inside
    the cond's branches (synced by an `f_sync` ControlTrigger) and pops them in the backward loop's cond
    (`b_sync`); only the taken side pushes and pops."""
    x = v1.placeholder(v1.float32, [None, 2], name="x")
    w = v1.get_variable("w", [2], initializer=v1.constant_initializer([0.9, 1.1]))

    def body(i, a):
        return i + 1, v1.cond(v1.equal(i % 2, 0), lambda: a * w, lambda: v1.sin(a) + w)
    _, y = v1.while_loop(lambda i, a: i < 5, body, [0, x])
    return v1.reduce_mean(v1.square(y - 1.0)), {"x:0": RNG.rand(3, 2).astype(np.float32)}


def _rnn_cond(v1):
    """A dynamic_rnn-like loop (TensorArrays in and out, a bound of the time steps) whose step takes one of
    two cells' updates by a data-dependent predicate, and a cond whose branches share a value (tanh)."""
    x = v1.placeholder(v1.float32, [None, 4, 3], name="x")
    steps = v1.shape(x)[1]
    w = v1.get_variable("w", [3 + 4, 4])
    u = v1.get_variable("u", [3 + 4, 4])
    xs = v1.TensorArray(v1.float32, size=steps).unstack(v1.transpose(x, [1, 0, 2]))
    outs = v1.TensorArray(v1.float32, size=steps)

    def body(t, h, ta):
        z = v1.concat([xs.read(t), h], 1)
        h = v1.cond(v1.reduce_sum(h) > 0.0, lambda: v1.tanh(v1.matmul(z, w)),
                    lambda: v1.sigmoid(v1.matmul(z, u)) * h + v1.tanh(v1.matmul(z, w)))
        return [t + 1, h, ta.write(t, h)]
    _, h, ta = v1.while_loop(lambda t, h, ta: t < steps, body,
                             [0, v1.zeros([v1.shape(x)[0], 4]) + 0.1, outs], maximum_iterations=steps)
    out = ta.stack()
    return v1.reduce_mean(v1.square(out - 0.5)) + v1.reduce_sum(h), {
        "x:0": RNG.rand(2, 4, 3).astype(np.float32) - 0.5}


LOOP_MODELS = {"while": _while_scaled, "while_cond": _while_cond, "rnn_cond": _rnn_cond, "gru": _rnn("gru"), "lstm": _rnn("lstm"), "nested": _nested, "nested_bounded": _nested_bounded,
               "scan": _scan, "rnn_lengths": _rnn_lengths}
# every training step compiles: loops TF 1 records a maximum_iterations for (dynamic_rnn, scan, map_fn, an
# explicit one) size their stacks by the bound, the others by the trip counts the first (op-by-op) run saw
COMPILED_LOOP_MODELS = set(LOOP_MODELS)
LOOP_CASES = [("while", "sgd", False), ("while", "adam", True), ("gru", "adam", True), ("gru", "sgd", False),
              ("lstm", "adam", False), ("nested", "sgd", False), ("nested", "adam", True), ("scan", "adam", False),
              ("rnn_lengths", "adam", True), ("while_cond", "sgd", False), ("while_cond", "adam", True),
              ("rnn_cond", "adam", False), ("rnn_cond", "sgd", True), ("nested_bounded", "adam", False)]


def _tf1_writes_loop_training_graph(tmp_path, model, optimizer, use_resource, steps=3):
    """TF (control flow v1) builds and saves the model; returns (prefix, feed, losses, final variables).
    Each step's loss is fetched before its update, in a run of its own: fetched in the training step's
    run, TF's loss of a ref variable's loop may read the variable after the update (a race)."""
    v1 = oracle.tf1()
    with oracle.control_flow_v2(False):
        graph = v1.Graph()
        with graph.as_default():
            v1.set_random_seed(7)
            with v1.variable_scope("", use_resource=use_resource):
                loss, feed = LOOP_MODELS[model](v1)
                train = OPTIMIZERS[optimizer](v1).minimize(loss)
            v1.add_to_collection("train_op", train)
            v1.add_to_collection("loss", loss)
            saver = v1.train.Saver()
            with v1.Session(graph=graph) as sess:
                sess.run(v1.global_variables_initializer())
                prefix = saver.save(sess, str(tmp_path / "model"))
                losses = []
                for _ in range(steps):
                    losses.append(sess.run(loss, feed))
                    sess.run(train, feed)
                final = {v.op.name: sess.run(v) for v in v1.global_variables()}
    assert any(n.op == "StackPushV2" for n in graph.as_graph_def().node)  # TF 1's loop gradient, not v2's
    return prefix, feed, losses, final


@pytest.mark.parametrize("model,optimizer,use_resource", LOOP_CASES, ids=[_case_id(c) for c in LOOP_CASES])
def test_graphcompat_trains_tensorflow_1_loop_gradients(tmp_path, model, optimizer, use_resource):
    """TF 1 writes a training graph whose gradient runs through a while loop (the forward loop pushes its
    values on stacks, the backward loop pops them); graphcompat imports it, restores TF's checkpoint and
    trains: losses and variables are TF's. The training step fetches the loss in its own run (the loss
    before the update, as TF's separate run does); a failed run changes nothing, and a repeated run of the
    same state gives the same answer."""
    prefix, feed, want_losses, want_vars = _tf1_writes_loop_training_graph(tmp_path, model, optimizer, use_resource)
    graph, saver, train, loss, variables = _import_training_graph(prefix, want_vars)
    with graph.as_default():
        with tf.Session(graph=graph) as sess:
            saver.restore(sess, prefix)
            # op by op, then compiled (which may round differently in the last bit): no stack left over
            np.testing.assert_allclose(sess.run(loss, feed), sess.run(loss, feed), rtol=1e-6)
            before = {v.op.name: sess.run(v) for v in variables}
            bad = dict(feed, **{"x:0": feed["x:0"] * np.nan})
            with tf.control_dependencies([train]):
                checked = tf.debugging.check_numerics(loss, "loss")
            with pytest.raises(tf.errors.InvalidArgumentError, match="loss : Tensor had NaN values"):
                sess.run(checked, bad)
            for v in variables:  # the failed step changed nothing
                np.testing.assert_array_equal(sess.run(v), before[v.op.name], err_msg=v.op.name)
            compiled_before = tf.stats()["compiled_runs"]
            losses = [sess.run([train, loss], feed)[1] for _ in range(len(want_losses))]
            compiled = tf.stats()["compiled_runs"] - compiled_before
            got_vars = {v.op.name: sess.run(v) for v in variables}
    np.testing.assert_allclose(losses, want_losses, rtol=2e-4, atol=1e-5)
    for name, value in want_vars.items():
        np.testing.assert_allclose(got_vars[name], value, rtol=2e-3, atol=2e-5, err_msg=name)
    assert (compiled > 0) == (model in COMPILED_LOOP_MODELS), compiled


def test_tf1_gradient_of_a_nested_cond_inside_a_loop_says_what_is_not_rebuilt():
    """TF 1's gradient of a tf.cond nested in another tf.cond inside a tf.while_loop syncs pushes made inside
    both conds with one ControlTrigger: not rebuilt (one cond per trigger is); the import says so, before
    changing the graph."""
    v1 = oracle.tf1()
    with oracle.control_flow_v2(False):
        graph = v1.Graph()
        with graph.as_default():
            w = v1.get_variable("w", [2], use_resource=False)

            def body(i, a):
                inner = lambda: v1.cond(v1.equal(i, 1), lambda: v1.cos(a) * w, lambda: a + w)  # noqa: E731
                return i + 1, v1.cond(v1.equal(i % 2, 0), lambda: a * w, inner)
            _, y = v1.while_loop(lambda i, a: i < 3, body, [0, v1.ones([2])])
            v1.train.GradientDescentOptimizer(0.1).minimize(v1.reduce_sum(y))
    with pytest.raises(NotImplementedError, match=r"TF 1's gradient of a tf.cond inside a tf.while_loop: "
                                                  r"'gradients/.*' \(ControlTrigger\) syncs nodes inside nested "
                                                  r"conds"):
        tf.import_graph_def(graph.as_graph_def())
    assert tf.get_default_graph().get_operations() == []
