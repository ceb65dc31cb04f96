"""tf.contrib.seq2seq.sequence_loss (TF 1.15; TF 2 has no tf.contrib, so the reference is its formula in
numpy): every combination of its averaging flags, zero weights (div_no_nan), its ValueErrors, and the
gradient of the default loss against real TF's ops for the same formula."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

RNG = np.random.RandomState(5)
LOGITS = RNG.randn(3, 4, 5).astype(np.float32)
TARGETS = RNG.randint(0, 5, (3, 4)).astype(np.int32)
WEIGHTS = np.array([[1, 1, 0.5, 0], [0, 0, 0, 0], [1, 2, 1, 1]], np.float32)  # a row of zeros: div_no_nan


def _div_no_nan(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b)).astype(np.float32)


def _reference(average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch):
    shifted = LOGITS - LOGITS.max(-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    losses = -np.take_along_axis(log_p, TARGETS[..., None], -1)[..., 0] * WEIGHTS
    if average_across_timesteps and average_across_batch:
        return _div_no_nan(losses.sum(), WEIGHTS.sum())
    if sum_over_timesteps and sum_over_batch:
        return _div_no_nan(losses.sum(), np.count_nonzero(WEIGHTS))
    if average_across_timesteps or average_across_batch:
        axis = 0 if average_across_batch else 1
        return _div_no_nan(losses.sum(axis), WEIGHTS.sum(axis))
    if sum_over_timesteps or sum_over_batch:
        axis = 0 if sum_over_batch else 1
        return _div_no_nan(losses.sum(axis), np.count_nonzero(WEIGHTS, axis).astype(np.float32))
    return losses


FLAGS = [(True, True, False, False), (False, True, False, False), (True, False, False, False),
         (False, False, True, True), (False, False, True, False), (False, False, False, True),
         (False, False, False, False), (True, False, False, True), (False, True, True, False)]


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: "".join("ab"[i // 2] + "tb"[i % 2] if v else "" for i, v in
                                                               enumerate(f)) or "none")
def test_sequence_loss_matches_its_formula(flags):
    at, ab, st, sb = flags
    logits = tf.placeholder(tf.float32, [None, None, 5])
    loss = tf.contrib.seq2seq.sequence_loss(logits, tf.constant(TARGETS), tf.constant(WEIGHTS),
                                            average_across_timesteps=at, average_across_batch=ab,
                                            sum_over_timesteps=st, sum_over_batch=sb)
    with tf.Session() as sess:
        got = sess.run(loss, {logits: LOGITS})
    want = _reference(at, ab, st, sb)
    assert np.shape(got) == np.shape(want) and loss.op.name.startswith("sequence_loss")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("args, message", [
    (dict(logits=np.zeros((3, 4), np.float32)), "Logits must be a [batch_size x sequence_length x logits] tensor"),
    (dict(targets=np.zeros(3, np.int32)), "Targets must be a [batch_size x sequence_length] tensor"),
    (dict(weights=np.zeros((3, 4, 1), np.float32)), "Weights must be a [batch_size x sequence_length] tensor"),
    (dict(sum_over_timesteps=True), "average_across_timesteps and sum_over_timesteps cannot be set to True at "
                                    "same time."),
    (dict(sum_over_batch=True), "average_across_batch and sum_over_batch cannot be set to True at same time."),
])
def test_sequence_loss_raises_tfs_value_errors(args, message):
    inputs = dict(logits=LOGITS, targets=TARGETS, weights=WEIGHTS)
    flags = {k: v for k, v in args.items() if k not in inputs}
    inputs.update({k: v for k, v in args.items() if k in inputs})
    with pytest.raises(ValueError) as err:
        tf.contrib.seq2seq.sequence_loss(*(tf.constant(inputs[k]) for k in ("logits", "targets", "weights")), **flags)
    assert str(err.value) == message


def test_other_seq2seq_symbols_name_themselves():
    with pytest.raises(NotImplementedError, match="tf.contrib.seq2seq.BasicDecoder is not implemented"):
        tf.contrib.seq2seq.BasicDecoder


@pytest.mark.oracle
def test_sequence_loss_gradient_matches_tf():
    """The default loss and its gradient with respect to the logits, against TF's ops for its formula."""
    def run(lib, loss_of):
        graph = lib.Graph()
        with graph.as_default():
            logits = lib.constant(LOGITS)
            loss = loss_of(lib, logits)
            with lib.Session(graph=graph) as sess:
                return sess.run([loss, lib.gradients(loss, logits)[0]])

    def tf1_formula(lib, logits):  # TF 1.15's sequence_loss with its defaults, written with TF's own ops
        losses = lib.nn.sparse_softmax_cross_entropy_with_logits(
            labels=lib.reshape(TARGETS, [-1]), logits=lib.reshape(logits, [-1, 5])) * lib.reshape(WEIGHTS, [-1])
        return lib.div_no_nan(lib.reduce_sum(losses), lib.reduce_sum(WEIGHTS))

    got = run(tf, lambda lib, logits: lib.contrib.seq2seq.sequence_loss(logits, lib.constant(TARGETS),
                                                                        lib.constant(WEIGHTS)))
    oracle.assert_same_values(got, run(oracle.tf1(), tf1_formula), 1e-5, 1e-6, "sequence_loss")
