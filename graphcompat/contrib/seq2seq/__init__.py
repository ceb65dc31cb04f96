"""`tf.contrib.seq2seq` (TF 1.15): `sequence_loss`, the weighted cross entropy of a [batch, time, classes]
sequence of logits. The decoders (BasicDecoder, dynamic_decode, the attention wrappers, beam search) are
not implemented: they raise NotImplementedError naming the symbol."""
from __future__ import annotations

from typing import Callable, Optional


def sequence_loss(logits, targets, weights, average_across_timesteps: bool = True,
                  average_across_batch: bool = True, sum_over_timesteps: bool = False,
                  sum_over_batch: bool = False, softmax_loss_function: Optional[Callable] = None,
                  name: Optional[str] = None):
    """Cross entropy of `logits` [batch, time, classes] against `targets` [batch, time], times `weights`
    [batch, time]; averaged by the weights' sum (`average_across_*`) or by their nonzero count
    (`sum_over_*`) over both axes (a scalar), one axis (a vector) or neither ([batch, time])."""
    import graphcompat as tf
    if len(logits.get_shape()) != 3:
        raise ValueError("Logits must be a [batch_size x sequence_length x logits] tensor")
    if len(targets.get_shape()) != 2:
        raise ValueError("Targets must be a [batch_size x sequence_length] tensor")
    if len(weights.get_shape()) != 2:
        raise ValueError("Weights must be a [batch_size x sequence_length] tensor")
    if average_across_timesteps and sum_over_timesteps:
        raise ValueError("average_across_timesteps and sum_over_timesteps cannot be set to True at same time.")
    if average_across_batch and sum_over_batch:
        raise ValueError("average_across_batch and sum_over_batch cannot be set to True at same time.")
    with tf.name_scope(name, "sequence_loss", [logits, targets, weights]):
        flat_logits = tf.reshape(logits, [-1, tf.shape(logits)[2]])
        flat_targets = tf.reshape(targets, [-1])
        if softmax_loss_function is None:
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=flat_targets, logits=flat_logits)
        else:
            losses = softmax_loss_function(labels=flat_targets, logits=flat_logits)
        losses *= tf.reshape(weights, [-1])
        if average_across_timesteps and average_across_batch:  # by the weights' total
            return tf.div_no_nan(tf.reduce_sum(losses), tf.reduce_sum(weights))
        if sum_over_timesteps and sum_over_batch:  # by the number of nonzero weights
            count = tf.cast(tf.count_nonzero(weights), losses.dtype)
            return tf.div_no_nan(tf.reduce_sum(losses), count)
        losses = tf.reshape(losses, tf.shape(logits)[0:2])
        if average_across_timesteps or average_across_batch:  # one axis, by its weights' sums
            axis = [0] if average_across_batch else [1]
            return tf.div_no_nan(tf.reduce_sum(losses, axis=axis), tf.reduce_sum(weights, axis=axis))
        if sum_over_timesteps or sum_over_batch:  # one axis, by its nonzero weights' counts
            axis = [0] if sum_over_batch else [1]
            count = tf.cast(tf.count_nonzero(weights, axis=axis), dtype=losses.dtype)
            return tf.div_no_nan(tf.reduce_sum(losses, axis=axis), count)
        return losses


def __getattr__(name: str):
    raise NotImplementedError(f"tf.contrib.seq2seq.{name} is not implemented in graphcompat")
