"""Host ops of what a run feeds run before the compiled step (lowering/plan.py `_host_inputs`).

Fed words looked up in a vocabulary, fed serialized Examples parsed, fed CSV lines decoded, a py_func of
a fed batch: these host ops used to make the whole training step a host plan (or host tail), run op by
op. Now they run on the host first and their outputs are fed to the compiled step. Each case trains four
steps against TensorFlow (losses and variables) and checks through `tf.stats()` that the step compiled.
"""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

pytestmark = pytest.mark.oracle


def _train(tf_, h, labels):
    """A small model on features `h` [batch, k] (float32), trained with Adam against `labels` [batch]."""
    w = tf_.get_variable("w", [h.shape[1], 1], initializer=tf_.constant_initializer(0.2))
    loss = tf_.reduce_mean(tf_.square(tf_.squeeze(tf_.matmul(h, w), 1) - labels))
    return tf_.train.AdamOptimizer(0.05).minimize(loss), loss, w


def _vocabulary(tf_):
    words = tf_.placeholder(tf_.string, [None], name="words")
    labels = tf_.placeholder(tf_.float32, [None], name="labels")
    lookup = tf_.contrib.lookup if hasattr(tf_, "contrib") else tf_.lookup.experimental
    table = (lookup.index_table_from_tensor if hasattr(lookup, "index_table_from_tensor") else None)
    if table is None:  # TF 2's compat.v1: the same StaticVocabularyTable-free graph via tf.lookup
        from tensorflow.python.ops import lookup_ops
        table = lookup_ops.index_table_from_tensor
    ids = table(tf_.constant(["a", "b", "c", "d"]), num_oov_buckets=1).lookup(words)
    emb = tf_.get_variable("emb", [5, 3], initializer=tf_.constant_initializer(0.1))
    train, loss, w = _train(tf_, tf_.nn.embedding_lookup(emb, ids), labels)

    def feed(k):
        batch = [[b"a", b"c", b"zz", b"d"], [b"b", b"b", b"q"], [b"d", b"a", b"c", b"x", b"a"], [b"c", b"a"]][k]
        return {words: np.array(batch, dtype=object), labels: np.linspace(0.5, 1.5, len(batch), dtype=np.float32)}
    return train, loss, [w, emb], feed, True


def _examples(tf_):
    serialized = tf_.placeholder(tf_.string, [None], name="serialized")
    features = tf_.parse_example(serialized, {"x": tf_.FixedLenFeature([2], tf_.float32),
                                              "y": tf_.FixedLenFeature([], tf_.float32)})
    train, loss, w = _train(tf_, features["x"], features["y"])

    def feed(k):
        rows = []
        for i in range(3 + k):
            ex = tf_.train.Example(features=tf_.train.Features(feature={
                "x": tf_.train.Feature(float_list=tf_.train.FloatList(value=[0.1 * i, 1.0 - 0.2 * k])),
                "y": tf_.train.Feature(float_list=tf_.train.FloatList(value=[0.5 + i]))}))
            rows.append(ex.SerializeToString())
        return {serialized: np.array(rows, dtype=object)}
    return train, loss, [w], feed, False


def _csv(tf_):
    lines = tf_.placeholder(tf_.string, [None], name="lines")
    a, b, y = tf_.decode_csv(lines, [[0.0], [0.0], [0.0]])
    train, loss, w = _train(tf_, tf_.stack([a, b], axis=1), y)

    def feed(k):
        return {lines: np.array([f"{i * 0.5},{k - i},{i + k}".encode() for i in range(2 + k)], dtype=object)}
    return train, loss, [w], feed, False


def _py_func(tf_):
    x = tf_.placeholder(tf_.float32, [None, 2], name="x")
    h = tf_.py_func(lambda v: np.tanh(v).astype(np.float32), [x], tf_.float32)
    h.set_shape([None, 2])
    train, loss, w = _train(tf_, h, tf_.reduce_sum(x, 1))

    def feed(k):
        return {x: np.arange(2 * (3 + k), dtype=np.float32).reshape(-1, 2) / 7.0}
    return train, loss, [w], feed, False


def _boolean_mask(tf_):
    """A loss over the rows a fed mask keeps (TF's boolean_mask: Where of the reshaped mask, a Gather)."""
    x = tf_.placeholder(tf_.float32, [None, 2], name="x")
    keep = tf_.placeholder(tf_.bool, [None], name="keep")
    lengths = tf_.placeholder(tf_.int32, [None], name="lengths")
    w = tf_.get_variable("w", [2, 1], initializer=tf_.constant_initializer(0.2))
    per_row = tf_.squeeze(tf_.square(tf_.matmul(x, w) - 1.0), 1)
    steps = tf_.boolean_mask(tf_.square(x - 0.5) * tf_.transpose(w), tf_.sequence_mask(lengths, 2))
    loss = tf_.reduce_mean(tf_.boolean_mask(per_row, keep)) + tf_.reduce_sum(steps)
    train = tf_.train.AdamOptimizer(0.05).minimize(loss)

    def feed(k):
        n = 3 + 2 * k
        return {x: np.arange(2 * n, dtype=np.float32).reshape(n, 2) / 9.0, keep: np.arange(n) % (k + 2) != 1,
                lengths: (np.arange(n) + k) % 3}
    return train, loss, [w], feed, False


MODELS = {"vocabulary": _vocabulary, "parse_example": _examples, "decode_csv": _csv, "py_func": _py_func}


def _runs(tf_, build):
    graph = tf_.Graph()
    with graph.as_default():
        train, loss, variables, feed, tables = build(tf_)
        with tf_.Session(graph=graph) as sess:
            sess.run(tf_.global_variables_initializer())
            if tables:
                sess.run(tf_.tables_initializer())
            out = [sess.run([train, loss], feed(k))[1] for k in range(4)]
            return out + sess.run(variables)


@pytest.mark.parametrize("model", list(MODELS))
def test_host_ops_of_feeds_run_before_a_compiled_training_step(model):
    tf.reset_stats()
    got = _runs(tf, MODELS[model])
    stats = tf.stats()
    want = _runs(oracle.tf1(), MODELS[model])
    oracle.assert_same_values(got, want, 2e-5, 1e-6, model)
    # the training step compiled: four runs of different batch sizes, each compiled or served compiled
    # (padded: one compile; the embedding's sparse update has no padding rule: one per size)
    trained = [s for name, s in stats["signatures"].items() if name.startswith(("Mean", "add"))]
    assert trained and stats["compiled_runs"] + trained[0]["compiles"] == 4, stats
    if model in ("py_func", "decode_csv", "parse_example"):
        assert trained[0]["compiles"] == 1 and trained[0]["padded"], stats


def test_a_plan_of_host_ops_alone_compiles_nothing():
    x = tf.placeholder(tf.string, [None])
    parts = tf.string_split(x)
    with tf.Session() as sess:
        tf.reset_stats()
        for _ in range(2):
            got = sess.run(parts, {x: np.array([b"a b", b"c"], dtype=object)})
        np.testing.assert_array_equal(got.values, [b"a", b"b", b"c"])
        assert tf.stats()["compilations"] == 0


def test_a_bad_feed_to_a_host_input_changes_nothing():
    train, loss, variables, feed, _ = _csv(tf)
    lines = tf.get_default_graph().get_tensor_by_name("lines:0")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, feed(0))
        before = sess.run(variables)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expect 3 fields but have 2 in record 0"):
            sess.run([train, loss], {lines: np.array([b"1,2"], dtype=object)})
        np.testing.assert_array_equal(sess.run(variables), before)


def test_value_sized_host_ops_stay_in_the_step():
    """tf.boolean_mask's Where has outputs sized by the mask's values: fed to a compiled step that cannot
    pad them (a [batch, 2] mask here: a padded size times a static one, which the padding analysis does
    not model), each new count would be a compile, so it stays in the step's host tail: the loss (add:0)
    is not a compiled step's fetch."""
    tf.reset_stats()
    got = _runs(tf, _boolean_mask)
    stats = tf.stats()
    oracle.assert_same_values(got, _runs(oracle.tf1(), _boolean_mask), 2e-5, 1e-6, "boolean_mask")
    assert stats["signatures"] and not any(name.startswith("add") for name in stats["signatures"]), stats


def test_host_inputs_of_ever_new_sizes_end_up_op_by_op():
    """A py_func whose output size follows its values (no padding: a Gather along the padded axis is not
    understood) compiles for its first sizes, then the step runs op by op rather than compiling per size."""
    x = tf.placeholder(tf.float32, [None], name="x")
    kept = tf.py_func(lambda v: v[v > 0.5], [x], tf.float32)
    kept.set_shape([None])
    w = tf.get_variable("w_sizes", [], initializer=tf.constant_initializer(1.0))
    loss = tf.reduce_sum(tf.gather(kept * w, tf.range(tf.size(kept))))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    rng = np.random.RandomState(0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.reset_stats()
        w_value = 1.0
        for n in range(2, 22):
            v = rng.rand(n).astype(np.float32) + np.float32(0.5) * (np.arange(n) % 2)
            got = sess.run([train, loss], {x: v})[1]
            np.testing.assert_allclose(got, w_value * v[v > 0.5].sum(), rtol=1e-5)
            w_value -= 0.1 * v[v > 0.5].sum()
        assert tf.stats()["compilations"] <= 8 < 20


def test_host_ops_in_a_cond_branch_stay_in_the_branch():
    """A DecodeCSV in a TF 1 cond's true branch (TF's Switch/Merge graph, imported) runs only when that
    branch is taken (a host head would decode the lines whatever the predicate): lines it cannot decode are
    fine while the predicate is False."""
    v1 = oracle.tf1()
    with oracle.control_flow_v2(False):
        tf_graph = v1.Graph()
        with tf_graph.as_default():
            lines = v1.placeholder(v1.string, [None], name="lines")
            p = v1.placeholder(v1.bool, [], name="p")
            x = v1.placeholder(v1.float32, [None], name="x")
            v1.cond(p, lambda: v1.reduce_sum(v1.decode_csv(lines, [[0.0]])[0]) * v1.reduce_sum(x),
                    lambda: v1.reduce_sum(x), name="total")
        graph_def = tf_graph.as_graph_def()
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        assert "DecodeCSV" in {op.type for op in graph.get_operations()}
        total = graph.get_tensor_by_name("total/Merge:0")
        feed = {"x:0": np.array([1.0, 1.0], np.float32)}
        with tf.Session() as sess:
            assert sess.run(total, {**feed, "lines:0": np.array([b"1.5", b"2"], dtype=object), "p:0": True}) == 7.0
            assert sess.run(total, {**feed, "lines:0": np.array([b"x,y"], dtype=object), "p:0": False}) == 2.0


def test_a_hot_host_input_shape_gets_its_exact_executable():
    """A py_func-preprocessed batch of 100 rows (bucket 128) runs padded, then on its own exact executable
    from its fourth run (HOT_SHAPE_RUNS), as a fed batch does; the losses are TF's either way."""
    graphcompat_config = tf.config
    graphcompat_config.set_background_compile(False)  # compiled at once: the switch happens at a known run
    try:
        tf.reset_stats()
        got = _hot_runs(tf)
        stats = tf.stats()
    finally:
        graphcompat_config.set_background_compile(True)
    oracle.assert_same_values(got, _hot_runs(oracle.tf1()), 2e-5, 1e-6, "hot py_func")
    trained = stats["signatures"]["Mean:0"]
    assert trained["compiles"] == 2 and trained["padded"] == 1 and trained["shapes"] == 2, stats


def _hot_runs(tf_):
    with tf_.Graph().as_default():
        x = tf_.placeholder(tf_.float32, [None, 3], name="x")
        h = tf_.py_func(lambda v: (v * 2.0).astype(np.float32), [x], tf_.float32)
        h.set_shape([None, 3])
        w = tf_.get_variable("w", [3, 1], initializer=tf_.constant_initializer(0.1))
        loss = tf_.reduce_mean(tf_.square(tf_.matmul(h, w) - 1.0))
        train = tf_.train.AdamOptimizer(0.05).minimize(loss)
        data = np.linspace(-1.0, 1.0, 300, dtype=np.float32).reshape(100, 3)
        with tf_.Session() as sess:
            sess.run(tf_.global_variables_initializer())
            return [sess.run([train, loss], {x: data})[1] for _ in range(7)] + [sess.run(w)]


def test_a_py_func_of_the_loss_stays_after_the_compiled_step():
    """A py_func that reads the loss (logging it) is not hoisted before the step: it would compute the
    forward pass op by op on the host first. It stays a host tail on the compiled device part's loss."""
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.get_variable("w_logged", [3], initializer=tf.constant_initializer(0.1))
    loss = tf.reduce_mean(tf.square(tf.reduce_sum(x * w, 1) - 1.0))
    seen = []
    logged = tf.py_func(lambda v: seen.append(float(v)) or np.float32(v), [loss], tf.float32)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.reset_stats()
        for _ in range(3):
            got = sess.run([train, loss, logged], {x: np.ones((4, 3), np.float32)})
            assert got[1] == got[2] == seen[-1]
        stats = tf.stats()
    # the compiled step computes the loss; the py_func runs after it (hoisted, the py_func's output would be
    # a fetch of the compiled step, its forward pass run op by op on the host first)
    assert len(seen) == 3 and stats["eager_runs"] == 0 and list(stats["signatures"]) == ["Mean:0"], stats

