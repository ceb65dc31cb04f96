"""Shape buckets (lowering/padding.py): which graphs the executor pads, and that padding changes nothing.

Each case builds a graph, runs it over several feed sizes with buckets on and with buckets off (exact
shapes, one compile per size), and asserts the executor's choice (via `tf.stats()`), that every fetched
value is equal, and for training cases that the variables end equal after the same steps. Cases that
take the module as an argument (`case(tf)`) also run under real TensorFlow (`ORACLE`): the padded run
must equal TF's, not only graphcompat's exact-shape run.
"""
import numpy as np
import pytest

import graphcompat as tf
from lowering import executor
from tests import oracle

SIZES = (3, 5, 1, 7, 2)


def _mlp(x, n_out=4):
    h = tf.layers.dense(x, 8, tf.nn.relu, name="h")
    return tf.layers.dense(h, n_out, name="out")


def serving():
    x = tf.placeholder(tf.float32, [None, 6])
    logits = _mlp(x)
    return [tf.argmax(logits, 1), tf.nn.softmax(logits)], lambda n, r: {x: r.randn(n, 6)}


def training_mean_loss():
    x = tf.placeholder(tf.float32, [None, 6])
    y = tf.placeholder(tf.float32, [None, 4])
    logits = _mlp(x)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1)), tf.float32))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    return [train, loss, acc], lambda n, r: {x: r.randn(n, 6), y: np.eye(4)[r.randint(0, 4, n)]}


def training_sum_over_true_batch_size():
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.Variable(np.ones((3, 1), np.float32), name="w")
    err = tf.matmul(x, w) - 1.0
    loss = tf.reduce_sum(tf.square(err)) / tf.cast(tf.shape(x)[0], tf.float32)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    return [train, loss, tf.shape(x)], lambda n, r: {x: r.randn(n, 3)}


def masked_reductions():
    x = tf.placeholder(tf.float32, [None, 3])
    return ([tf.reduce_max(x, 0), tf.reduce_min(x, 0), tf.reduce_prod(x + 2.0, 0), tf.argmax(x, 0),
             tf.argmin(x, 0), tf.reduce_any(x > 1.5, 0), tf.reduce_all(x > -1.5, 0), tf.nn.l2_loss(x),
             tf.reduce_mean(x, keepdims=True), tf.reduce_sum(x, [0, 1])],
            lambda n, r: {x: r.randn(n, 3)})


def batch_statistics():
    x = tf.placeholder(tf.float32, [None, 4])
    mean, var = tf.nn.moments(x, [0])
    return [mean, var, (x - mean) / tf.sqrt(var + 1e-3)], lambda n, r: {x: r.randn(n, 4) * 3 + 1}


def shapes_as_shapes():
    x = tf.placeholder(tf.float32, [None, 4, 3])
    flat = tf.reshape(x, [-1, 12])
    filled = tf.zeros([tf.shape(x)[0], 2]) + tf.reduce_sum(flat, 1, keepdims=True)
    again = tf.reshape(flat, [tf.shape(x)[0], 4, 3])
    return [flat, filled, tf.reduce_sum(again, [1, 2]), tf.shape(flat)], lambda n, r: {x: r.randn(n, 4, 3)}


def embedding_sgd():
    ids = tf.placeholder(tf.int32, [None])
    table = tf.Variable(np.arange(20, dtype=np.float32).reshape(10, 2) / 10, name="table")
    loss = tf.reduce_mean(tf.square(tf.nn.embedding_lookup(table, ids)))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    return [train, loss], lambda n, r: {ids: r.randint(0, 10, n)}


def gradient_of_an_input():
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.reduce_mean(tf.log(tf.exp(x) + 1.0))
    return [y, tf.gradients(y, x)[0]], lambda n, r: {x: r.randn(n, 2)}


def two_feeds_one_size():
    a = tf.placeholder(tf.float32, [None, 2])
    b = tf.placeholder(tf.float32, [None, 2])
    return [tf.reduce_sum(a * b, 0), a - b], lambda n, r: {a: r.randn(n, 2), b: r.randn(n, 2)}


def rnn_varying_batch_and_time():
    """dynamic_rnn over batches of their own (batch, time): padded rows are independent, padded steps
    carry the state through, so the final state, the outputs and Adam's updates are the exact ones."""
    x = tf.placeholder(tf.float32, [None, None, 3])
    y = tf.placeholder(tf.float32, [None, 1])
    outputs, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(4), x, dtype=tf.float32)
    w = tf.Variable(np.full((4, 1), 0.5, np.float32), name="w")
    loss = tf.reduce_mean(tf.square(tf.matmul(state, w) - y)) + tf.reduce_mean(outputs)
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    return [train, loss, outputs, state], lambda n, r: {x: r.randn(n, n + 1, 3), y: r.randn(n, 1)}


def rnn_bidirectional_with_sequence_length():
    x = tf.placeholder(tf.float32, [None, None, 2])
    lengths = tf.placeholder(tf.int32, [None])
    (fw, bw), (fw_state, bw_state) = tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.LSTMCell(3), tf.nn.rnn_cell.LSTMCell(3), x, sequence_length=lengths, dtype=tf.float32)
    loss = tf.reduce_sum(fw_state.h * bw_state.h) + tf.reduce_sum(bw)
    grads = tf.gradients(loss, tf.trainable_variables())
    return [loss, fw, bw, fw_state.c] + grads, \
        lambda n, r: {x: r.randn(n, n + 1, 2), lengths: r.randint(1, n + 2, n)}


def rnn_cell_that_mixes_the_batch():
    """A cell whose step reads the whole batch (its state's batch mean): rows are not independent, but the
    loop body's mean is masked like any reduction over a padded axis, so padding changes nothing."""
    class MixingCell(tf.nn.rnn_cell.RNNCell):
        state_size = output_size = 2

        def call(self, inputs, state):
            new = tf.tanh(inputs + state - tf.reduce_mean(state, 0, keepdims=True))
            return new, new

    x = tf.placeholder(tf.float32, [None, None, 2])
    _, state = tf.nn.dynamic_rnn(MixingCell(), x, initial_state=tf.ones([tf.shape(x)[0], 2]))
    return [state], lambda n, r: {x: r.randn(n, 3, 2)}


def map_fn_and_foldl_over_the_batch():
    """map_fn / foldl are While loops over TensorArrays sized by the padded batch: padded elements land in
    padded slots, the loop stops at the true size."""
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.Variable(np.linspace(-1, 1, 3).astype(np.float32), name="w")
    mapped = tf.map_fn(lambda r: tf.tanh(r * w), x)
    folded = tf.foldl(lambda a, r: a * 0.5 + r * w, x, initializer=tf.zeros([3]))
    loss = tf.reduce_mean(mapped) + tf.reduce_sum(folded)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    return [train, loss, mapped, folded], lambda n, r: {x: r.randn(n, 3)}


def gradient_of_a_non_scalar(tf=tf):
    """tf.gradients of a batch of outputs: TF's implicit seed is ones of y's shape, and the seed's padded
    rows must be zero, or the weight gradient (a contraction over the batch) sums the padded rows too."""
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.Variable(np.linspace(-1, 1, 6).reshape(3, 2).astype(np.float32), name="w")
    y = tf.tanh(tf.matmul(x, w))
    return tf.gradients(y, [w, x]), lambda n, r: {x: r.randn(n, 3)}


def gradient_with_fed_grad_ys(tf=tf):
    x = tf.placeholder(tf.float32, [None, 3])
    dy = tf.placeholder(tf.float32, [None, 2])
    w = tf.Variable(np.linspace(-1, 1, 6).reshape(3, 2).astype(np.float32), name="w")
    y = tf.tanh(tf.matmul(x, w))
    return tf.gradients(y, [w, x], grad_ys=dy), lambda n, r: {x: r.randn(n, 3), dy: r.randn(n, 2)}


def minimize_a_non_scalar_loss(tf=tf):
    """An optimizer given per-example losses: its gradient's seed is TF's ones of the loss's shape."""
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.Variable(np.linspace(-1, 1, 6).reshape(3, 2).astype(np.float32), name="w")
    loss = tf.square(tf.matmul(x, w) - 1.0)
    train = tf.train.MomentumOptimizer(0.05, 0.9).minimize(loss)
    return [train, loss], lambda n, r: {x: r.randn(n, 3)}


def shape_values_reduced(tf=tf):
    """reduce_prod(tf.shape(x)) as an element count, max of a shape: reductions of shape values read the
    true sizes (they are numbers, not shapes)."""
    x = tf.placeholder(tf.float32, [None, 3])
    count = tf.reduce_prod(tf.shape(x))
    return [count, tf.reduce_max(tf.shape(x)), tf.argmax(tf.shape(x)),
            tf.reduce_sum(x) / tf.cast(count, tf.float32)], lambda n, r: {x: r.randn(n, 3)}


def first_row_and_whole_slices(tf=tf):
    """x[0] (a padded run has at least one real row), x[0:], and any slice of an unpadded axis."""
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.reduce_sum(tf.square(x[0])) + tf.reduce_sum(x[0:] * x[:, ::-1]) + tf.reduce_sum(x[..., 1])
    return [x[0], x[tf.newaxis, :, 1], y, tf.gradients(y, x)[0]], lambda n, r: {x: r.randn(n, 3)}


def map_fn_output_in_a_contraction(tf=tf):
    """map_fn's output stacks a TensorArray sized by the padded batch; its padded rows must be edge copies
    of real rows like every other padded row, not unwritten zeros: log(0) = -inf in a padded row, times its
    zero cotangent in the weight gradient's contraction, is NaN."""
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.Variable(np.linspace(0.5, 1.5, 6).reshape(3, 2).astype(np.float32), name="w")
    mapped = tf.map_fn(lambda r: r * 2.0 + 1.0, x)
    loss = tf.reduce_mean(tf.matmul(tf.log(mapped), w))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    return [train, loss, mapped], lambda n, r: {x: r.rand(n, 3)}


def scan_output_in_a_contraction(tf=tf):
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.Variable(np.linspace(0.5, 1.5, 6).reshape(3, 2).astype(np.float32), name="w")
    v = tf.Variable(np.linspace(0.5, 1.0, 3).astype(np.float32), name="v")
    running = tf.scan(lambda a, r: a * 0.5 + r * v + 1.0, x)
    loss = tf.reduce_sum(tf.matmul(1.0 / running, w))
    return [loss, running] + tf.gradients(loss, [w, v, x]), lambda n, r: {x: r.rand(n, 3)}


def dynamic_rnn_outputs_in_a_contraction(tf=tf):
    """dynamic_rnn's outputs along a padded time axis: the loop stops at the true length, the steps past it
    are the last real step's copies."""
    x = tf.placeholder(tf.float32, [None, None, 2])
    cell = tf.nn.rnn_cell.GRUCell(3, kernel_initializer=tf.constant_initializer(0.3))
    outputs, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    w = tf.Variable(np.ones((3, 1), np.float32), name="w")
    loss = tf.reduce_mean(tf.matmul(tf.log(tf.abs(outputs[0])), w))
    return [loss] + tf.gradients(loss, [w, x]), lambda n, r: {x: r.randn(n, n + 1, 2)}


def squeeze_of_named_axes(tf=tf):
    x = tf.placeholder(tf.float32, [None, 1, 3])
    return [tf.squeeze(x, [1]) * 2.0, tf.squeeze(x, -2)], lambda n, r: {x: r.randn(n, 1, 3)}


def integer_means(tf=tf):
    """The mean of integers over a padded axis: TF's integer division (toward zero) by the true count, in
    the input's dtype."""
    x = tf.placeholder(tf.int32, [None, 3])
    return [tf.reduce_mean(x, 0), tf.reduce_mean(x), tf.reduce_mean(-x, 0, keepdims=True),
            tf.reduce_mean(tf.cast(x, tf.int64), [0, 1]), tf.reduce_mean(tf.cast(x + 9, tf.uint8), 0),
            tf.reduce_mean(tf.cast(x, tf.int16), 0)], lambda n, r: {x: r.randint(-7, 9, (n, 3))}


def half_precision_mean():
    """float16 means accumulate in float32 as the exact run's (jnp.mean) do."""
    x = tf.placeholder(tf.float16, [None, 3])
    return [tf.reduce_mean(x, 0), tf.reduce_mean(x)], lambda n, r: {x: r.randn(n, 3).astype(np.float16)}


def max_and_min_of_infinite_rows(tf=tf):
    """Max/Min over a padded axis fill padded entries with -inf/+inf: real entries of -inf/+inf still give
    the exact values. (Their gradient is not compared: where the real maximum is -inf itself, the split
    among tied entries counts the padded ones too, and the exact run's already differs from TF's there;
    see lowering/padding.py.)"""
    x = tf.placeholder(tf.float32, [None, 3])

    def feed(n, r):
        value = r.randn(n, 3).astype(np.float32)
        value[:, 0], value[:, 1] = -np.inf, np.inf
        return {x: value}
    ys = [tf.reduce_max(x, 0), tf.reduce_min(x, 0), tf.reduce_max(x, [0, 1], keepdims=True),
          tf.reduce_min(x, 0, keepdims=True)]
    return ys, feed


def reductions_over_a_flattened_axis(tf=tf):
    """Sums, means and maxima over [batch * time] rows (tf.contrib.seq2seq.sequence_loss's sum of a flattened
    cross entropy): the flattened axis's real entries are found by position (b < batch, t < time), not a
    prefix; the gradient of their mean is the exact run's."""
    x = tf.placeholder(tf.float32, [None, None, 3])
    flat = tf.reshape(x, [-1, 3])
    mean = tf.reduce_mean(tf.square(flat))
    return [tf.reduce_sum(flat, 0), mean, tf.reduce_max(flat, 0), tf.reduce_mean(flat, 0)] + tf.gradients(mean, x), \
        lambda n, r: {x: r.randn(n, n + 1, 3)}


def dense_over_time_steps(tf=tf):
    """A dense layer over every step of a [batch, time, k] tensor: its [batch * time, k] reshape is one
    flattened axis of two padded sizes (lowering/padding.py `_flattens`), reshaped back before any
    reduction; the gradients are the exact run's."""
    x = tf.placeholder(tf.float32, [None, None, 3])
    y = tf.layers.dense(x, 4, kernel_initializer=tf.constant_initializer(np.linspace(-1, 1, 12).reshape(3, 4)),
                        bias_initializer=tf.constant_initializer(0.1), name="per_step")
    loss = tf.reduce_mean(tf.tanh(y))
    return [loss, tf.reduce_sum(y, [0, 1])] + tf.gradients(loss, [x] + tf.trainable_variables()), \
        lambda n, r: {x: r.randn(n, n + 1, 3)}


def _tagger(tf):
    """A GRU over [batch, time, 2] with sequence lengths, a dense layer over every step: (logits, labels,
    per-step cross entropy, lengths, time steps, the feeds of a batch of n sequences of n + 1 steps)."""
    x = tf.placeholder(tf.float32, [None, None, 2])
    labels = tf.placeholder(tf.int32, [None, None])
    lengths = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.GRUCell(3, kernel_initializer=tf.constant_initializer(0.3))
    outputs, _ = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tf.float32)
    logits = tf.layers.dense(outputs, 4, kernel_initializer=tf.constant_initializer(0.2), name="tags")
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return logits, labels, xent, lengths, tf.shape(x)[1], lambda n, r: {
        x: r.randn(n, n + 1, 2), labels: r.randint(0, 4, (n, n + 1)), lengths: r.randint(1, n + 2, n)}


def sequence_tagging(tf=tf):
    """Every time step labelled (a tagger, `_tagger`): the cross entropy weighted by tf.sequence_mask of the
    lengths (a range over the padded time axis compared with them), Adam."""
    _, _, xent, lengths, time, feed = _tagger(tf)
    weights = tf.sequence_mask(lengths, time, dtype=tf.float32)
    loss = tf.reduce_sum(xent * weights) / tf.reduce_sum(weights)
    return [tf.train.AdamOptimizer(0.05).minimize(loss), loss], feed


def sequence_tagging_kept_steps(tf=tf):
    """The tagger's loss over the real time steps only: tf.boolean_mask of the [batch, time] cross entropy by
    tf.sequence_mask (a tf.where of the flattened mask, counted in the step), the kept losses fetched too."""
    _, _, xent, lengths, time, feed = _tagger(tf)
    kept = tf.boolean_mask(xent, tf.sequence_mask(lengths, time))
    loss = tf.reduce_mean(kept)
    return [tf.train.AdamOptimizer(0.05).minimize(loss), loss, kept], feed


def sequence_tagging_sequence_loss():
    """The tagger's loss by tf.contrib.seq2seq.sequence_loss (TF 2 has no tf.contrib: compared with the exact
    run only): its flattened logits and flattened targets are one flattened size, its sum over them masked
    by position."""
    logits, labels, _, lengths, time, feed = _tagger(tf)
    loss = tf.contrib.seq2seq.sequence_loss(logits, labels, tf.sequence_mask(lengths, time, dtype=tf.float32))
    return [tf.train.AdamOptimizer(0.05).minimize(loss), loss], feed


def random_draws_of_the_batch_size(tf=tf):
    """Draws shaped by the batch (dropout's `random_uniform(tf.shape(x))`) are padded along their first axis:
    TF's Philox fill is row-major, so the real rows are the exact draw's, and each run's stream moves on by
    the real outputs only (lowering/padding.py `_random_draw`): every run draws TF's numbers."""
    x = tf.placeholder(tf.float32, [None, 3])
    n = tf.shape(x)[0]
    return [tf.nn.dropout(x, keep_prob=0.6, seed=1), tf.random_normal([n, 2], seed=2),
            tf.truncated_normal([n, 1, 2], seed=3), tf.random_uniform([n], 0, 9, tf.int32, seed=4),
            tf.random_uniform([n, 3], 0, 1 << 40, tf.int64, seed=5)], lambda n, r: {x: r.randn(n, 3)}


def training_with_dropout(tf=tf):
    """An MLP trained with dropout over changing batch sizes: padded, the updates are TF's."""
    x = tf.placeholder(tf.float32, [None, 6])
    y = tf.placeholder(tf.float32, [None, 4])
    h = tf.layers.dense(x, 8, tf.nn.relu, kernel_initializer=tf.constant_initializer(np.linspace(-1, 1, 48).reshape(6, 8)),
                        name="h")
    h = tf.nn.dropout(h, keep_prob=0.5, seed=7)
    logits = tf.layers.dense(h, 4, kernel_initializer=tf.constant_initializer(np.linspace(1, -1, 32).reshape(8, 4)),
                             name="out")
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    return [train, loss, logits], lambda n, r: {x: r.randn(n, 6), y: np.eye(4)[r.randint(0, 4, n)]}


def rnn_with_dropout():
    """A GRU with dropout on its inputs and outputs (DropoutWrapper: draws of [batch, units] in every step
    of the loop, which stops at the true time), trained over changing (batch, time)."""
    x = tf.placeholder(tf.float32, [None, None, 3])
    cell = tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.GRUCell(4, kernel_initializer=tf.constant_initializer(0.3)),
                                         input_keep_prob=0.7, output_keep_prob=0.6, seed=5)
    outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    loss = tf.reduce_mean(tf.square(state)) + tf.reduce_mean(outputs)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    return [train, loss, outputs, state], lambda n, r: {x: r.randn(n, n + 1, 3)}


def _attention(tf, x, lengths):
    """Scaled dot-product self-attention over [batch, time, 3] with the padding keys masked out by
    tf.sequence_mask (tiled over the query axis): (weights [batch, time, time], context [batch, time, 3],
    the [batch, time] mask)."""
    def dense(name, low, high):
        init = tf.constant_initializer(np.linspace(low, high, 9).reshape(3, 3))
        return tf.layers.dense(x, 3, kernel_initializer=init, name=name)
    q, k, v = dense("q", -0.5, 0.7), dense("k", 0.6, -0.4), dense("v", -1.0, 1.0)
    time = tf.shape(x)[1]
    mask = tf.sequence_mask(lengths, time)
    scores = tf.matmul(q, k, transpose_b=True) / np.float32(np.sqrt(3.0))
    keep = tf.tile(tf.expand_dims(mask, 1), [1, time, 1])
    weights = tf.nn.softmax(tf.where(keep, scores, tf.fill(tf.shape(scores), np.float32(-1e9))))
    return weights, tf.matmul(weights, v), mask


def attention_over_padded_time(tf=tf):
    """Attention with padded time steps: the softmax over the padded key axis normalizes over the real
    steps only (mask kind "softmax"), the weights times the values contract over them with both factors'
    padded entries zeroed (kind "zero_inputs"); the loss averages the real steps, a GD step trains q, k, v."""
    x = tf.placeholder(tf.float32, [None, None, 3])
    lengths = tf.placeholder(tf.int32, [None])
    weights, context, mask = _attention(tf, x, lengths)
    real = tf.cast(tf.expand_dims(mask, -1), tf.float32)
    loss = tf.reduce_sum(tf.tanh(context) * real) / tf.cast(tf.reduce_sum(lengths), tf.float32)
    grads = tf.gradients(loss, [x])
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    return [train, loss, weights, context] + grads, \
        lambda n, r: {x: r.randn(n, n + 1, 3), lengths: r.randint(1, n + 2, n)}


def log_softmax_over_a_padded_axis(tf=tf):
    """tf.nn.log_softmax and tf.nn.softmax along an open last axis (a distribution over a variable number of
    candidates), a masked mean of them and its gradient."""
    x = tf.placeholder(tf.float32, [None, None])
    log_p = tf.nn.log_softmax(x * 2.0)
    p = tf.nn.softmax(x)
    loss = tf.reduce_mean(log_p) + tf.reduce_sum(p * x)
    return [log_p, p, loss] + tf.gradients(loss, [x]), lambda n, r: {x: r.randn(n + 1, n)}


def tensordot_over_time_steps(tf=tf):
    """TF's tf.tensordot graph (a dense layer over every step of [batch, time, k]): Shape, a Gather of its
    free and contracted sizes, their Prods, a reshape to [batch * time, k] (one flattened padded axis), a
    MatMul, a reshape back; trained by GD."""
    x = tf.placeholder(tf.float32, [None, None, 3])
    w = tf.get_variable("w", initializer=tf.constant(np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float32)))
    y = tf.tensordot(x, w, [[2], [0]])
    loss = tf.reduce_mean(tf.tanh(y))
    return [y, loss, tf.train.GradientDescentOptimizer(0.5).minimize(loss)] + tf.gradients(loss, [x]), \
        lambda n, r: {x: r.randn(n, n + 1, 3)}


def conv1d_over_time_steps(tf=tf):
    """A text CNN: conv1d (SAME, stride 1) over padded time steps zeroes them first, as SAME's own padding
    past the true end is (kind "zero"); the max over the real steps, a softmax classifier, GD."""
    x = tf.placeholder(tf.float32, [None, None, 2])
    labels = tf.placeholder(tf.int32, [None])
    w = tf.get_variable("w", initializer=tf.constant(np.linspace(-1, 1, 24).reshape(3, 2, 4).astype(np.float32)))
    h = tf.nn.relu(tf.nn.conv1d(x, w, 1, "SAME"))
    logits = tf.layers.dense(tf.reduce_max(h, 1), 3, kernel_initializer=tf.constant_initializer(0.2), name="cls")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    return [h, loss, tf.train.GradientDescentOptimizer(0.5).minimize(loss)] + tf.gradients(loss, [x]), \
        lambda n, r: {x: r.randn(n, n + 1, 2), labels: r.randint(0, 3, n)}


def convolution_over_images_of_any_size(tf=tf):
    """A fully convolutional layer (conv2d SAME, stride 1, dilation 2) over images whose height and width
    change, the mean over every real pixel, its gradient."""
    x = tf.placeholder(tf.float32, [None, None, None, 2])
    w = tf.constant(np.linspace(-1, 1, 36).reshape(3, 3, 2, 2).astype(np.float32))
    y = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME", dilations=[1, 2, 2, 1])
    loss = tf.reduce_mean(tf.tanh(y))
    return [y, loss] + tf.gradients(loss, [x]), lambda n, r: {x: r.randn(2, n + 1, n + 1, 2)}


def strided_convolution_over_time_steps():
    """A stride of 2 over a padded axis makes an output size of its own: exact shapes."""
    x = tf.placeholder(tf.float32, [None, None, 2])
    return [tf.nn.conv1d(x, tf.ones([3, 2, 1]), 2, "SAME")], lambda n, r: {x: r.randn(n, n + 1, 2)}


def contraction_over_the_batch(tf=tf):
    """X^T X sums over the batch: padded, both factors' padded rows are zeroed first (kind "zero_inputs")."""
    x = tf.placeholder(tf.float32, [None, 3])
    gram = tf.matmul(x, x, transpose_a=True)
    w = tf.get_variable("w", initializer=tf.constant(np.eye(3, dtype=np.float32)))
    loss = tf.reduce_sum(tf.matmul(gram, w))
    return [gram, tf.train.GradientDescentOptimizer(0.01).minimize(loss)] + tf.gradients(loss, [x]), \
        lambda n, r: {x: r.randn(n, 3)}




def tile_of_a_padded_axis():
    """Tiling a padded axis interleaves its padded rows with real ones: exact shapes."""
    x = tf.placeholder(tf.float32, [None, 2])
    return [tf.tile(x, [2, 1])], lambda n, r: {x: r.randn(n, 2)}


def random_draws_padded_after_their_first_axis():
    """A draw padded along a later axis would put the exact draw's values elsewhere: exact shapes."""
    x = tf.placeholder(tf.float32, [None, 3])
    return [tf.random_uniform([2, tf.shape(x)[0]], seed=1)], lambda n, r: {x: r.randn(n, 3)}


def scan_along_the_batch():
    x = tf.placeholder(tf.float32, [None])
    return [tf.cumsum(x, reverse=True), tf.reverse(x, [0])], lambda n, r: {x: r.randn(n)}


def last_row():
    x = tf.placeholder(tf.float32, [None, 2])
    return [x[-1], tf.concat([x, x], 0)], lambda n, r: {x: r.randn(n, 2)}


def sizes_in_arithmetic_used_as_a_shape():
    x = tf.placeholder(tf.float32, [None])
    return [tf.ones([tf.shape(x)[0] * 2])], lambda n, r: {x: r.randn(n)}


def loop_indexing_a_padded_tensor():
    """A loop body that slices the padded tensor at a run-time index (x[i]) is not understood."""
    x = tf.placeholder(tf.float32, [None, 2])
    _, total = tf.while_loop(lambda i, s: i < tf.shape(x)[0], lambda i, s: (i + 1, s + x[i]),
                             [tf.constant(0), tf.zeros([2])])
    return [total], lambda n, r: {x: r.randn(n, 2)}


def assign_a_batch():
    x = tf.placeholder(tf.float32, [None])
    v = tf.Variable(np.zeros(1, np.float32), validate_shape=False, name="v")
    return [tf.assign(v, x * 2.0, validate_shape=False)], lambda n, r: {x: r.randn(n)}


def shape_values_as_data(tf=tf):
    """A size taken from tf.shape by an op that reads it as a number (a gather, a one-hot index) is data:
    it must be the true size, and only the ops whitelisted in padding._VALUE_INPUTS read shape values."""
    x = tf.placeholder(tf.float32, [None, 3])
    n = tf.gather(tf.shape(x), 0)
    return [tf.reduce_sum(x) / tf.cast(n, tf.float32), tf.one_hot(tf.shape(x)[0], 12)], \
        lambda n, r: {x: r.randn(n, 3)}


def shape_values_moved_as_data(tf=tf):
    x = tf.placeholder(tf.float32, [None, 3])
    moved = tf.transpose(tf.reshape(tf.shape(x), [1, 2]))
    return [moved * 2, tf.squeeze(tf.shape(x)[:1]) + 1], lambda n, r: {x: r.randn(n, 3)}


def gradient_with_respect_to_a_size(tf=tf):
    """d loss / d n for n = the batch size as a float: the padded run cannot differentiate the true size."""
    x = tf.placeholder(tf.float32, [None, 3])
    n = tf.cast(tf.shape(x)[0], tf.float32)
    loss = tf.reduce_sum(tf.square(x)) / n
    return [loss, tf.gradients(loss, n)[0]], lambda n, r: {x: r.randn(n, 3)}


def last_row_and_its_gradient(tf=tf):
    """x[-1] of a padded axis is the row at the true size - 1 (kind "last_index"): the padded row there is an
    edge copy of it whose gradient would land in the padding."""
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.reduce_sum(tf.square(x[-1]))
    return [x[-1], y, tf.gradients(y, x)[0]], lambda n, r: {x: r.randn(n, 2)}


def second_row(tf=tf):
    """x[1] reads a padding row where the batch has one row (TF's error), and was not analysed at all."""
    x = tf.placeholder(tf.float32, [None, 2])
    return [x[1] * 2.0], lambda n, r: {x: r.randn(n + 1, 2)}


def slices_of_a_padded_axis(tf=tf):
    x = tf.placeholder(tf.float32, [None, 2])
    return [x[1:], x[::-1], x[:-1], x[:2], x[-2:]], lambda n, r: {x: r.randn(n + 1, 2)}


def last_output_of_a_dynamic_rnn(tf=tf):
    """outputs[:, -1] along a padded time axis: the output of the last real step (the loop stops there), and
    its gradient reaches the weights through that step, trained by GD."""
    x = tf.placeholder(tf.float32, [None, None, 2])
    cell = tf.nn.rnn_cell.GRUCell(3, kernel_initializer=tf.constant_initializer(0.3))
    outputs, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    loss = tf.reduce_mean(tf.square(outputs[:, -1] - 0.5))
    return [outputs[:, -1], loss, tf.train.GradientDescentOptimizer(0.5).minimize(loss)] + tf.gradients(loss, [x]), \
        lambda n, r: {x: r.randn(n, n + 1, 2)}


def squeeze_without_axes(tf=tf):
    """tf.squeeze(x) drops every size-1 axis at run time: a padded axis of true size 1 (a batch of one)
    is one to TF, not at its padded size."""
    x = tf.placeholder(tf.float32, [None, 1, 3])
    y = tf.placeholder(tf.float32, [None, 3])
    return [tf.squeeze(x) * 2.0, tf.squeeze(y)], lambda n, r: {x: r.randn(n, 1, 3), y: r.randn(n, 3)}


def bias_add_along_an_open_channel_axis(tf=tf):
    """BiasAdd in NCHW adds along axis 1: an open channel axis there cannot be padded (the bias is not)."""
    x = tf.placeholder(tf.float32, [None, None, 2, 2])
    return [tf.nn.bias_add(x, tf.constant(np.arange(5, dtype=np.float32)), data_format="NCHW")], \
        lambda n, r: {x: r.randn(n, 5, 2, 2)}


PADDED = [serving, training_mean_loss, training_sum_over_true_batch_size, masked_reductions, batch_statistics,
          shapes_as_shapes, embedding_sgd, gradient_of_an_input, two_feeds_one_size, rnn_varying_batch_and_time,
          rnn_bidirectional_with_sequence_length, rnn_cell_that_mixes_the_batch, map_fn_and_foldl_over_the_batch,
          gradient_of_a_non_scalar, gradient_with_fed_grad_ys, minimize_a_non_scalar_loss, shape_values_reduced,
          first_row_and_whole_slices, map_fn_output_in_a_contraction, scan_output_in_a_contraction,
          dynamic_rnn_outputs_in_a_contraction, squeeze_of_named_axes, integer_means, half_precision_mean,
          max_and_min_of_infinite_rows, dense_over_time_steps, sequence_tagging, sequence_tagging_kept_steps,
          reductions_over_a_flattened_axis, sequence_tagging_sequence_loss, random_draws_of_the_batch_size,
          training_with_dropout, rnn_with_dropout, attention_over_padded_time, log_softmax_over_a_padded_axis,
          contraction_over_the_batch, tensordot_over_time_steps,
          last_row_and_its_gradient, last_output_of_a_dynamic_rnn, conv1d_over_time_steps,
          convolution_over_images_of_any_size]
# graphs padding could change: the analysis refuses them, they run at exact shapes
EXACT = [loop_indexing_a_padded_tensor, tile_of_a_padded_axis, random_draws_padded_after_their_first_axis,
         scan_along_the_batch, last_row,
         sizes_in_arithmetic_used_as_a_shape, assign_a_batch, shape_values_as_data, shape_values_moved_as_data,
         gradient_with_respect_to_a_size, second_row, slices_of_a_padded_axis,
         squeeze_without_axes, bias_add_along_an_open_channel_axis, strided_convolution_over_time_steps]


def _run(case, buckets, sizes=SIZES, background=False):
    """`case` run on batches of `sizes` in one session: fetched values, variables and `tf.stats()`."""
    executor.set_shape_buckets(buckets)
    executor.set_background_compile(background)
    try:
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(0)
            fetches, feed = case()
            rng = np.random.RandomState(7)
            tf.reset_stats()
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                results = [sess.run(fetches, feed(n, rng)) for n in sizes]
                variables = sess.run(tf.global_variables())
            if background:  # wait for the compile thread: its compile counts in these stats
                executor._background(lambda: None).result()
            return results, variables, tf.stats()
    finally:
        executor.set_shape_buckets()
        executor.set_background_compile()


def _run_tf1(case):
    """`case` built and run under real TensorFlow with the same feeds as `_run`."""
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        v1.set_random_seed(0)
        fetches, feed = case(v1)
        rng = np.random.RandomState(7)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            results = [sess.run(fetches, feed(n, rng)) for n in SIZES]
            variables = sess.run(v1.global_variables())
    return results, variables


def _assert_same(a, b, name, rtol=2e-5, atol=2e-6):
    for i, (x, y) in enumerate(zip(a, b)):
        if isinstance(x, list):
            _assert_same(x, y, f"{name}[{i}]", rtol, atol)
        elif x is None:
            assert y is None
        else:
            x, y = np.asarray(x), np.asarray(y)
            assert x.shape == y.shape and x.dtype == y.dtype, f"{name}[{i}]: {x.shape} {x.dtype} vs {y.shape} {y.dtype}"
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"{name}[{i}]")


def _padded_compiles(stats) -> int:
    return sum(entry["padded"] for entry in stats["signatures"].values())


@pytest.mark.parametrize("case", PADDED, ids=lambda c: c.__name__)
def test_padded_runs_equal_exact_runs(case):
    padded, padded_vars, padded_stats = _run(case, 4)
    exact, exact_vars, exact_stats = _run(case, None)
    _assert_same(padded, exact, case.__name__)
    _assert_same(padded_vars, exact_vars, case.__name__ + " variables")
    assert _padded_compiles(padded_stats) >= 1 and _padded_compiles(exact_stats) == 0
    # sizes 3, 5, 1, 7, 2 fall into buckets of 4 and 8: at most two executables for the padded signature
    assert max(e["compiles"] for e in padded_stats["signatures"].values()) <= 2
    # unpadded, a compile per size (a step with tf.where, which compiles only padded, runs op by op)
    assert max((e["compiles"] for e in exact_stats["signatures"].values()), default=len(SIZES)) == len(SIZES)


@pytest.mark.parametrize("case", EXACT, ids=lambda c: c.__name__)
def test_graphs_padding_could_change_run_at_exact_shapes(case):
    results, _, stats = _run(case, 4)
    exact, _, _ = _run(case, None)
    assert _padded_compiles(stats) == 0
    _assert_same(results, exact, case.__name__)


ORACLE = [gradient_of_a_non_scalar, gradient_with_fed_grad_ys, minimize_a_non_scalar_loss, shape_values_reduced,
          shape_values_as_data, shape_values_moved_as_data, gradient_with_respect_to_a_size,
          first_row_and_whole_slices, last_row_and_its_gradient, second_row, slices_of_a_padded_axis,
          last_output_of_a_dynamic_rnn, map_fn_output_in_a_contraction, scan_output_in_a_contraction,
          dynamic_rnn_outputs_in_a_contraction, squeeze_of_named_axes, squeeze_without_axes, integer_means,
          max_and_min_of_infinite_rows, bias_add_along_an_open_channel_axis, dense_over_time_steps,
          sequence_tagging, sequence_tagging_kept_steps, reductions_over_a_flattened_axis,
          random_draws_of_the_batch_size, training_with_dropout, attention_over_padded_time,
          log_softmax_over_a_padded_axis, contraction_over_the_batch, tensordot_over_time_steps,
          conv1d_over_time_steps, convolution_over_images_of_any_size]
# (not rnn_with_dropout: TF's loop runs the input dropout of several time steps in parallel, in any order, so
# its draws of one run vary between processes; graphcompat draws them in step order)


@pytest.mark.oracle
@pytest.mark.parametrize("case", ORACLE, ids=lambda c: c.__name__)
def test_padded_runs_equal_tf(case):
    want, want_vars = _run_tf1(case)
    padded, padded_vars, _ = _run(case, 4)
    _assert_same(padded, want, case.__name__ + " vs TF", rtol=1e-4, atol=1e-5)
    _assert_same(padded_vars, want_vars, case.__name__ + " variables vs TF", rtol=1e-4, atol=1e-5)


def test_bucket_sizes():
    buckets = executor.padding.Buckets(64)
    assert [buckets.size(n) for n in (1, 63, 64, 65, 97, 128, 129)] == [64, 64, 64, 128, 128, 128, 256]
    assert executor.padding.Buckets(1).size(1) == 1 and executor.padding.Buckets(1).size(3) == 4


def test_feeds_that_disagree_on_a_size_raise_tf_error_unpadded():
    a = tf.placeholder(tf.float32, [None])
    b = tf.placeholder(tf.float32, [None])
    with tf.Session() as sess:
        assert sess.run(a + b, {a: np.ones(3), b: np.ones(3)}).tolist() == [2.0] * 3
        with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
            sess.run(a + b, {a: np.ones(3), b: np.ones(2)})


def _sum_of_two_batches(tf):
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 3])
    return [x + y], (x, y)


def _batch_filled_from_a_shape(tf):
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 3])
    return [tf.zeros([tf.shape(x)[0], 3]) + y], (x, y)


def _reshape_to_a_shape(tf):
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 3])
    return [tf.reshape(y, tf.shape(x)) * 2.0], (x, y)


def _grad_ys_of_another_batch(tf):
    x = tf.placeholder(tf.float32, [None, 3])
    dy = tf.placeholder(tf.float32, [None, 3])
    w = tf.Variable(np.eye(3, dtype=np.float32), name="w")
    return tf.gradients(tf.tanh(tf.matmul(x, w)), w, grad_ys=dy), (x, dy)


def _sparse_update_at_other_ids(tf):
    ids = tf.placeholder(tf.int32, [None])
    other = tf.placeholder(tf.int32, [None])
    table = tf.Variable(np.ones((10, 2), np.float32), name="table")
    rows = tf.gather(table, ids)
    grad = tf.gradients(tf.reduce_sum(rows * rows), rows)[0]
    return [tf.scatter_sub(table, other, grad)], (ids, other)


@pytest.mark.oracle
@pytest.mark.parametrize("build", [_sum_of_two_batches, _batch_filled_from_a_shape, _reshape_to_a_shape,
                                   _grad_ys_of_another_batch, _sparse_update_at_other_ids],
                         ids=lambda b: b.__name__.strip("_"))
def test_sizes_that_disagree_raise_the_exact_runs_error(build):
    """Two open dimensions TF requires equal (broadcast operands, a gradient's seed and its y, sparse
    updates and their ids) but fed different sizes: padding both to one bucket must not hide TF's error.
    The padded run raises the exact run's error (class and message), of TF's class; a batch of one still
    broadcasts where the exact run broadcasts it (and a grad_ys of one row for a y of three raises, as TF)."""
    def feeds(n, m):
        rows = lambda k: np.arange(k * 3, dtype=np.float32).reshape(k, 3) / 10
        return [np.arange(k, dtype=np.int32) if t.dtype.is_integer else rows(k) for t, k in zip(inputs, (n, m))]

    def outcome(buckets, lib=tf):
        executor.set_shape_buckets(buckets)
        try:
            graph = lib.Graph()
            with graph.as_default():
                global inputs
                fetches, inputs = build(lib)
                got = []
                with lib.Session(graph=graph) as sess:
                    sess.run(lib.global_variables_initializer())
                    for n, m in ((3, 3), (3, 2), (2, 3), (3, 1)):
                        try:
                            got.append(sess.run(fetches, dict(zip(inputs, feeds(n, m)))))
                        except lib.errors.OpError as err:
                            got.append((type(err).__name__, err.message.split("\n")[0]))
                stats = tf.stats() if lib is tf else None
                return got, stats
        finally:
            executor.set_shape_buckets()

    tf.reset_stats()
    padded, stats = outcome(4)
    assert _padded_compiles(stats) >= 1
    exact, _ = outcome(None)
    want, _ = outcome(None, oracle.tf1())
    for p, e, w in zip(padded, exact, want):
        if isinstance(e, tuple):
            assert isinstance(p, tuple) and p == e, (p, e)
            assert w[0] == e[0], (e, w)
        else:
            assert not isinstance(p, tuple), (p, e)
            _assert_same(p, e, build.__name__)


@pytest.mark.oracle
def test_a_padded_step_checks_and_writes_state_as_its_real_run():
    """The executor finds the state a step reads and writes by an abstract trace of it: for a padded step
    that trace must run the masked rules with the true sizes, as the real run does. Traced unmasked, an
    assertion on the batch size saw the bucket size (4 < 4 failed for a batch of 3), and a passing one
    left no check, so a variable the step only writes was not carried in and a failing run overwrote it."""
    def build(lib):
        x = lib.placeholder(lib.float32, [None, 3])
        v = lib.Variable(np.zeros(3, np.float32), name="v")
        with lib.control_dependencies([lib.assert_less(lib.shape(x)[0], 4)]):
            update = lib.assign(v, [1.0, 2.0, 3.0])
        return x, v, update, lib.assign(v, np.zeros(3, np.float32))

    def steps(lib):
        graph = lib.Graph()
        with graph.as_default():
            x, v, update, reset = build(lib)
            out = []
            with lib.Session(graph=graph) as sess:
                sess.run(lib.global_variables_initializer())
                for n in (3, 2, 5):
                    sess.run(reset)
                    try:
                        sess.run(update, {x: np.ones((n, 3), np.float32)})
                        out.append("ran")
                    except lib.errors.InvalidArgumentError:
                        out.append("raised")
                    out.append(sess.run(v).tolist())
            return out

    executor.set_shape_buckets(4)
    try:
        tf.reset_stats()
        padded = steps(tf)
        assert _padded_compiles(tf.stats()) >= 1
    finally:
        executor.set_shape_buckets()
    assert padded == steps(oracle.tf1()) == ["ran", [1.0, 2.0, 3.0], "ran", [1.0, 2.0, 3.0], "raised", [0.0] * 3]


def test_an_empty_batch_runs_at_its_exact_shape():
    x = tf.placeholder(tf.float32, [None, 2])
    with tf.Session() as sess:
        assert sess.run(tf.reduce_sum(x, 0), {x: np.ones((3, 2))}).tolist() == [3.0, 3.0]
        assert sess.run(tf.reduce_sum(x, 0), {x: np.ones((0, 2))}).tolist() == [0.0, 0.0]


def test_a_tensor_array_index_past_the_true_size_raises_tf_error_when_padded():
    """A TensorArray sized by a padded size: an index below the bucket but past the true size is TF's
    error, not a read of padding."""
    executor.set_shape_buckets(4)
    try:
        x = tf.placeholder(tf.float32, [None, 2])
        ta = tf.TensorArray(tf.float32, tf.shape(x)[0]).unstack(x)
        y = ta.read(2) * 2.0
        tf.reset_stats()
        with tf.Session() as sess:
            for _ in range(2):  # op by op, then compiled and padded
                np.testing.assert_allclose(sess.run(y, {x: np.ones((3, 2))}), [2.0, 2.0])
            assert _padded_compiles(tf.stats()) == 1
            with pytest.raises(tf.errors.InvalidArgumentError, match="Tried to read from index 2 but array size is: 2"):
                sess.run(y, {x: np.ones((2, 2))})
    finally:
        executor.set_shape_buckets()


def test_a_hot_batch_size_gets_an_exact_executable():
    """A training loop feeds one batch size over and over; when it is not a bucket size (3 in buckets of
    4) every padded step computes the padding too. After HOT_SHAPE_RUNS runs the size gets an executable
    of its own (compiled at once here; in the background by default) that serves it from then on; a size
    seen once (5) stays padded, a size that is a bucket (4) never needs one. Values and variable updates
    are the exact-shape run's."""
    sizes = [3] * (executor.HOT_SHAPE_RUNS + 3) + [5, 3, 4, 4, 4, 4, 4, 4]
    hot, hot_vars, stats = _run(training_mean_loss, 4, sizes)
    exact, exact_vars, _ = _run(training_mean_loss, None, sizes)
    _assert_same(hot, exact, "hot")
    _assert_same(hot_vars, exact_vars, "hot variables")
    (entry,) = [e for e in stats["signatures"].values() if e["padded"]]
    # padded executables for buckets 4 and 8, one exact executable for the hot size 3
    assert (entry["compiles"], entry["padded"]) == (3, 2), entry


def test_a_hot_batch_size_compiled_in_the_background_gives_the_same_answers():
    """Compiled in the background, the exact executable takes over whenever it is built (which run that
    is depends on the machine): every run's values are the exact-shape run's either way."""
    sizes = [3] * 40
    got, got_vars, stats = _run(training_mean_loss, 4, sizes, background=True)
    exact, exact_vars, _ = _run(training_mean_loss, None, sizes)
    _assert_same(got, exact, "background")
    _assert_same(got_vars, exact_vars, "background variables")
    (entry,) = [e for e in stats["signatures"].values() if e["padded"]]
    assert (entry["compiles"], entry["padded"]) == (2, 1), entry


def _count_chunked(monkeypatch) -> list:
    """Counts the runs PlanRunner served in chunks of a smaller bucket (`_serve_in_chunks` answered)."""
    served = []
    original = executor.PlanRunner._serve_in_chunks

    def counting(self, *args):
        out = original(self, *args)
        if out is not None:
            served.append(1)
        return out
    monkeypatch.setattr(executor.PlanRunner, "_serve_in_chunks", counting)
    return served


def with_a_constant_fetch():
    x = tf.placeholder(tf.float32, [None, 6])
    logits = _mlp(x)
    return [tf.argmax(logits, 1), tf.nn.softmax(logits), tf.constant([1.5, 2.5]) * 2.0], \
        lambda n, r: {x: r.randn(n, 6)}


@pytest.mark.parametrize("case", [serving, with_a_constant_fetch])
def test_a_batch_past_the_compiled_bucket_is_served_in_chunks_while_its_bucket_compiles(case, monkeypatch):
    """An inference request larger than every bucket compiled so far (9 and 17 rows after buckets of 4) runs
    through the 4-row executable in chunks while the larger bucket compiles in the background; the answers
    are the exact-shape run's, whichever executable served each request."""
    served = _count_chunked(monkeypatch)
    sizes = [3, 9, 5, 17, 2, 11, 16, 30, 4]
    got, _, stats = _run(case, 4, sizes, background=True)
    exact, _, _ = _run(case, None, sizes)
    _assert_same(got, exact, "chunked")
    assert served, "no request was served in chunks"
    (entry,) = [e for e in stats["signatures"].values() if e["padded"]]
    assert entry["compiles"] <= 4, entry   # buckets 4, 16, 32 and at most the 8 one


@pytest.mark.parametrize("case", [training_mean_loss, masked_reductions, batch_statistics])
def test_steps_that_write_state_or_reduce_over_the_batch_are_never_chunked(case, monkeypatch):
    """A training step's update must see the whole batch once; a reduction over the rows (or the batch's
    statistics) differs per chunk: those runs compile their bucket at once, as before."""
    served = _count_chunked(monkeypatch)
    sizes = [3, 9, 5, 17]
    got, got_vars, _ = _run(case, 4, sizes, background=True)
    exact, exact_vars, _ = _run(case, None, sizes)
    _assert_same(got, exact, "not chunked")
    _assert_same(got_vars, exact_vars, "not chunked variables")
    assert not served
