"""tf.where's row ids (tf.boolean_mask) in a compiled step (lowering/padding.py `_row_ids_in_step`,
lowering/plan.py `Plan.row_ids`).

How many rows a mask keeps changes from step to step, and each count used to cost either a compile or
(as it was done) the whole step op by op: a masked loss trained 40-200x slower than TF 1. Now the ids are
padded to the mask's length and counted, so one executable serves every mask. Each case trains a few
steps against TensorFlow (losses, kept rows, variables) and checks through `tf.stats()` how its step ran.
"""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

pytestmark = pytest.mark.oracle

RNG_SEED = 3


def _classifier(tf_, x, y):
    """Logits of x [batch, 5] and a loss over the rows whose label y is not -1."""
    w = tf_.get_variable("w", [5, 3], initializer=tf_.constant_initializer(np.linspace(-0.5, 0.5, 15).reshape(5, 3)))
    b = tf_.get_variable("b", [3], initializer=tf_.constant_initializer(0.1))
    logits = tf_.matmul(x, w) + b
    keep = tf_.not_equal(y, -1)
    kept = tf_.boolean_mask(logits, keep)
    loss = tf_.reduce_mean(tf_.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf_.boolean_mask(y, keep), logits=kept))
    return tf_.train.AdamOptimizer(0.1).minimize(loss), [loss, kept], [w, b]


STEPS = [  # (batch size, labels): -1 rows are left out of the loss
    (9, [0, -1, 2, 1, -1, 0, 0, 2, 1]), (12, [-1] * 11 + [2]), (16, [1, 2, 0, 1] * 4),
    (10, [2, -1, -1, 0, 1, -1, 2, 2, -1, 0]), (3, [1, -1, 0])]


def _fed(tf_, steps=STEPS):
    """Labels fed: the mask and the rows it selects from are padded feeds."""
    x = tf_.placeholder(tf_.float32, [None, 5], name="x")
    y = tf_.placeholder(tf_.int32, [None], name="y")
    train, fetches, variables = _classifier(tf_, x, y)
    rng = np.random.RandomState(RNG_SEED)
    feeds = [{x: rng.uniform(-1, 1, (n, 5)).astype(np.float32), y: np.asarray(labels, np.int32)}
             for n, labels in steps]
    return train, fetches, variables, feeds


def _dataset(tf_, steps=STEPS):
    """Labels from a tf.data iterator (the steps' rows in batches of 4 or 12): the mask is computed in the
    step, so is its tf.where."""
    rng = np.random.RandomState(RNG_SEED)
    xs = np.concatenate([rng.uniform(-1, 1, (n, 5)).astype(np.float32) for n, _ in steps])
    ys = np.concatenate([np.asarray(labels, np.int32) for _, labels in steps])
    batch = 12 if len(ys) >= 24 else 4
    rows = len(ys) // batch * batch
    x, y = tf_.data.make_one_shot_iterator(
        tf_.data.Dataset.from_tensor_slices((xs[:rows], ys[:rows])).batch(batch)).get_next()
    train, fetches, variables = _classifier(tf_, x, y)
    return train, fetches, variables, [None] * (rows // batch)


def _hard_examples(tf_, steps=None):
    """Hard-example mining: the rows whose squared error is above a margin, a mask of the model's outputs."""
    x = tf_.placeholder(tf_.float32, [None, 2], name="x")
    w = tf_.get_variable("w", [2, 1], initializer=tf_.constant_initializer(0.3))
    per_row = tf_.squeeze(tf_.square(tf_.matmul(x, w) - 1.0), 1)
    hard = tf_.boolean_mask(per_row, per_row > 0.2)
    loss = tf_.reduce_sum(hard)
    train = tf_.train.GradientDescentOptimizer(0.05).minimize(loss)
    feeds = [{x: np.linspace(-2, 2, 2 * n, dtype=np.float32).reshape(n, 2)} for n in (3, 5, 4, 7)]
    # (a metric of the kept rows that the gradient does not read: counted with the same size)
    return train, [loss, hard, tf_.reduce_mean(hard), tf_.shape(hard)], [w], feeds


def _positions(tf_, steps=None):
    """tf.where of a computed mask fetched itself (the positions of positive outputs), no training."""
    x = tf_.placeholder(tf_.float32, [None, 3], name="x")
    w = tf_.constant([[1.0], [-2.0], [0.5]])
    where = tf_.where(tf_.squeeze(tf_.matmul(x, w), 1) > 0.0)
    rng = np.random.RandomState(RNG_SEED)
    feeds = [{x: rng.uniform(-1, 1, (n, 3)).astype(np.float32)} for n in (6, 2, 9, 7)]
    return None, [where], [], feeds


MODELS = {"fed_labels": _fed, "dataset_labels": _dataset, "hard_examples": _hard_examples,
          "positions": _positions}


def _runs(tf_, build, steps=STEPS):
    with tf_.Graph().as_default():
        train, fetches, variables, feeds = build(tf_, steps)
        with tf_.Session() as sess:
            sess.run(tf_.global_variables_initializer())
            out = []
            for feed in feeds:
                out += sess.run(fetches + ([train] if train is not None else []), feed)[:len(fetches)]
            return out + (sess.run(variables) if variables else [])


@pytest.mark.parametrize("model", list(MODELS))
def test_a_mask_of_any_count_is_one_compiled_step(model):
    tf.reset_stats()
    got = _runs(tf, MODELS[model])
    stats = tf.stats()
    oracle.assert_same_values(got, _runs(oracle.tf1(), MODELS[model]), 2e-5, 1e-6, model)
    (name, step), = [(name, s) for name, s in stats["signatures"].items() if s["compiles"]]
    # the first step compiles one padded executable, every other step (a new batch size, a new count of
    # kept rows) runs it; nothing ran op by op but the initializer and the variables' final fetch
    assert step["compiles"] == 1 and step["padded"] == 1, stats
    runs = {"fed_labels": len(STEPS), "dataset_labels": 4}.get(model, 4)
    assert stats["compiled_runs"] == runs - 1 and stats["eager_runs"] <= 2, stats


@pytest.mark.parametrize("model", ["fed_labels", "dataset_labels"])
def test_a_mask_that_keeps_nothing_gives_tfs_nan_and_no_update(model):
    """No row kept: the mean over no rows is NaN and its gradient zero (Adam's update too), as in TF."""
    steps = [(4, [1, -1, 0, 2]), (4, [-1, -1, -1, -1]), (5, [2, 2, -1, 0, 1])]
    got = _runs(tf, MODELS[model], steps)
    assert np.isnan(got[2]) and np.shape(got[3]) == (0, 3)
    oracle.assert_same_values(got, _runs(oracle.tf1(), MODELS[model], steps), 2e-5, 1e-6, model)


def test_a_mask_longer_than_its_rows_raises_tfs_error_and_changes_nothing():
    """The mask's rows and the tensor's rows are one padded size: fed different lengths, the step runs op by
    op, and the Gather of an id past the tensor's rows raises TF's error before any update."""
    def run(tf_):
        with tf_.Graph().as_default():
            x = tf_.placeholder(tf_.float32, [None, 5], name="x")
            y = tf_.placeholder(tf_.int32, [None], name="y")
            train, fetches, variables = _classifier(tf_, x, y)
            with tf_.Session() as sess:
                sess.run(tf_.global_variables_initializer())
                sess.run(train, {x: np.ones((4, 5), np.float32), y: np.array([0, 1, -1, 2], np.int32)})
                before = sess.run(variables)
                with pytest.raises(tf_.errors.InvalidArgumentError) as err:
                    sess.run([train] + fetches, {x: np.ones((4, 5), np.float32),
                                                 y: np.array([0, 1, 2, 0, 1, 2], np.int32)})
                for a, b in zip(sess.run(variables), before):
                    np.testing.assert_array_equal(a, b)
                return err.value.message
    got, want = run(tf), run(oracle.tf1())
    assert got.splitlines()[0] in want, (got, want)


def test_a_mask_of_a_padded_and_a_static_axis_stays_a_host_op():
    """A [batch, 2] mask (a sequence mask of a static length) flattens a padded size times a static one,
    which the analysis does not model (a [batch, time] mask of two padded sizes is: tests/test_padding.py
    `sequence_tagging_kept_steps`): its tf.where stays a host op (the loss is not a compiled step's fetch);
    values are TF's."""
    def build(tf_, steps=None):
        x = tf_.placeholder(tf_.float32, [None, 2], name="x")
        lengths = tf_.placeholder(tf_.int32, [None], name="lengths")
        w = tf_.get_variable("w", [2, 1], initializer=tf_.constant_initializer(0.2))
        steps_kept = tf_.boolean_mask(tf_.square(x - 0.5) * tf_.transpose(w), tf_.sequence_mask(lengths, 2))
        loss = tf_.reduce_sum(steps_kept)
        train = tf_.train.GradientDescentOptimizer(0.1).minimize(loss)
        feeds = [{x: np.arange(2 * n, dtype=np.float32).reshape(n, 2) / 9.0, lengths: (np.arange(n) + k) % 3}
                 for k, n in enumerate((3, 5, 4))]
        return train, [loss], [w], feeds
    tf.reset_stats()
    got = _runs(tf, build)
    assert not any(name.startswith("Sum") for name in tf.stats()["signatures"]), tf.stats()
    oracle.assert_same_values(got, _runs(oracle.tf1(), build), 2e-5, 1e-6, "2-D mask")
