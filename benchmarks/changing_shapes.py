"""Training steps whose shapes change every step, graphcompat vs TensorFlow 1: a sequence tagger.

    python benchmarks/changing_shapes.py [--rounds 3] [--tf] [WORKLOAD ...]
    python benchmarks/changing_shapes.py --run graphcompat|tf WORKLOAD      # one measurement

Workloads (ms per step over 60 steps of their own (batch, time) shape, 16-18 x 5-44, as
../shared/bench's rnn_varying_length, compiles included: each round is a fresh process with a fresh
compile cache; ratios are what to quote on these noisy machines):
- tagger_weights: embedding-free GRU tagger (32 inputs, 64 units) with sequence lengths, a dense layer
  over every time step (10 tags), the cross entropy weighted by tf.sequence_mask, Adam;
- tagger_kept_steps: the same loss over the real time steps only, tf.boolean_mask by tf.sequence_mask;
- tagger_dropout: tagger_weights with dropout on the GRU's inputs and outputs (DropoutWrapper, keep 0.8);
- attention_classifier: one self-attention layer (32 wide) over the real time steps (scores of padding keys
  masked by tf.sequence_mask, tiled over the queries), mean-pooled over them, a softmax classifier, Adam.
graphcompat also prints its compile count (`tf.stats()`). No timing is asserted.
"""
from __future__ import annotations

import time

import numpy as np

from host_work import run_workloads  # (one process per backend and round, alternating)

SHAPES = [(16 + i % 3, 5 + (i * 7) % 40) for i in range(60)]


def _tagger(tf, kept_steps: bool, dropout: bool = False) -> dict:
    rng = np.random.RandomState(0)
    x = tf.placeholder(tf.float32, [None, None, 32])
    tags = tf.placeholder(tf.int32, [None, None])
    lengths = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.GRUCell(64)
    if dropout:
        cell = tf.nn.rnn_cell.DropoutWrapper(cell, input_keep_prob=0.8, output_keep_prob=0.8, seed=1)
    outputs, _ = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tf.float32)
    logits = tf.layers.dense(outputs, 10)
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tags, logits=logits)
    if kept_steps:
        loss = tf.reduce_mean(tf.boolean_mask(xent, tf.sequence_mask(lengths, tf.shape(x)[1])))
    else:
        weights = tf.sequence_mask(lengths, tf.shape(x)[1], dtype=tf.float32)
        loss = tf.reduce_sum(xent * weights) / tf.reduce_sum(weights)
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    feeds = [{x: rng.rand(b, n, 32).astype(np.float32), tags: rng.randint(0, 10, (b, n)),
              lengths: rng.randint(1, n + 1, b)} for b, n in SHAPES]
    return _steps(tf, train, loss, feeds)


def _attention_classifier(tf) -> dict:
    rng = np.random.RandomState(0)
    x = tf.placeholder(tf.float32, [None, None, 32])
    labels = tf.placeholder(tf.int32, [None])
    lengths = tf.placeholder(tf.int32, [None])
    q, k, v = (tf.layers.dense(x, 32, name=name) for name in "qkv")
    time_steps = tf.shape(x)[1]
    mask = tf.sequence_mask(lengths, time_steps)
    scores = tf.matmul(q, k, transpose_b=True) / np.float32(np.sqrt(32.0))
    keep = tf.tile(tf.expand_dims(mask, 1), [1, time_steps, 1])
    attended = tf.matmul(tf.nn.softmax(tf.where(keep, scores, tf.fill(tf.shape(scores), np.float32(-1e9)))), v)
    real = tf.cast(tf.expand_dims(mask, -1), tf.float32)
    pooled = tf.reduce_sum(attended * real, 1) / tf.reduce_sum(real, 1)
    logits = tf.layers.dense(tf.nn.relu(pooled), 10)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    feeds = [{x: rng.rand(b, n, 32).astype(np.float32), labels: rng.randint(0, 10, b),
              lengths: rng.randint(1, n + 1, b)} for b, n in SHAPES]
    return _steps(tf, train, loss, feeds)


def _steps(tf, train, loss, feeds: list) -> dict:
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        if hasattr(tf, "reset_stats"):
            tf.reset_stats()
        t = time.perf_counter()
        for feed in feeds:
            sess.run([train, loss], feed)
        out = {"ms_per_step": (time.perf_counter() - t) / len(feeds) * 1e3}
    if hasattr(tf, "stats"):
        out["compiles"] = tf.stats()["compilations"]
    return out


WORKLOADS = {"attention_classifier": _attention_classifier,
             "tagger_weights": lambda tf: _tagger(tf, False), "tagger_kept_steps": lambda tf: _tagger(tf, True),
             "tagger_dropout": lambda tf: _tagger(tf, False, dropout=True)}


if __name__ == "__main__":
    run_workloads(__file__, WORKLOADS, lambda name, ours, theirs: f"{name}: graphcompat/tf per step = "
                  f"{ours['ms_per_step'] / theirs['ms_per_step']:.2f}x", fresh_cache=True)
