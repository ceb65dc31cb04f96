"""Lowerings of graphcompat/nn/nn_extra.py: 3-D convolution and pooling, space/batch rearrangements,
max_pool_with_argmax, CTC loss (a log-space forward recursion under lax.scan: compiled, and its
gradient comes from jax.vjp) and the CTC decoders (host numpy: their output sizes depend on values).
Checks and messages are TF's (conv_ops_3d.cc, spacetobatch_op.cc, batchtospace_op.cc, ctc_loss_op.cc,
ctc_decoder_ops.cc).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from graphcompat.framework import errors
from lowering.interpreter import require
from lowering.registry import lowers
from lowering.rules.nn import tf_max_pool

_INVALID = errors.InvalidArgumentError


def _fmt5(data_format: str) -> str:
    return "NCDHW" if data_format.startswith("NC") else "NDHWC"


def _spatial5(values, data_format):
    return tuple(values[2:5]) if data_format.startswith("NC") else tuple(values[1:4])


def _conv3d(x, w, strides, padding, dilations, data_format):
    fmt = _fmt5(data_format)
    groups = x.shape[fmt.index("C")] // w.shape[3]
    return lax.conv_general_dilated(x, w, window_strides=_spatial5(strides, fmt), padding=padding,
                                    rhs_dilation=_spatial5(dilations, fmt), dimension_numbers=(fmt, "DHWIO", fmt),
                                    feature_group_count=groups, preferred_element_type=x.dtype)


def _check_batch_depth_strides(strides, data_format):
    fmt = _fmt5(data_format)
    require(strides[0] == 1 and strides[fmt.index("C")] == 1, errors.UnimplementedError,
            "Current implementation does not yet support strides in the batch and depth dimensions.")


@lowers("Conv3D")
def conv3d(x, w, *, strides, padding, data_format="NDHWC", dilations=(1, 1, 1, 1, 1), **_):
    _check_batch_depth_strides(strides, data_format)
    return _conv3d(x, w, strides, padding, dilations, data_format)


@lowers("Conv3DBackpropInputV2")
def conv3d_backprop_input(input_sizes, w, dy, *, strides, padding, data_format="NDHWC",
                          dilations=(1, 1, 1, 1, 1), **_):
    _check_batch_depth_strides(strides, data_format)
    sizes = tuple(int(d) for d in np.asarray(input_sizes).reshape(-1))  # a fed size: the plan runs op by op
    # The transpose of the forward convolution, exactly: the VJP of conv3d w.r.t. its input.
    _, vjp = jax.vjp(lambda x: _conv3d(x, w, strides, padding, dilations, data_format),
                     jnp.zeros(sizes, jnp.result_type(dy)))
    return vjp(dy)[0]


@lowers("Conv3DBackpropFilterV2")
def conv3d_backprop_filter(x, filter_sizes, dy, *, strides, padding, data_format="NDHWC",
                           dilations=(1, 1, 1, 1, 1), **_):
    _check_batch_depth_strides(strides, data_format)
    sizes = tuple(int(d) for d in np.asarray(filter_sizes).reshape(-1))  # a fed size: the plan runs op by op
    # The VJP of conv3d w.r.t. its filter.
    _, vjp = jax.vjp(lambda w: _conv3d(x, w, strides, padding, dilations, data_format),
                     jnp.zeros(sizes, jnp.result_type(dy)))
    return vjp(dy)[0]


@lowers("MaxPool3D")
def max_pool3d(x, *, ksize, strides, padding, **_):
    return tf_max_pool(x, ksize, strides, padding)


@lowers("AvgPool3D")
def avg_pool3d(x, *, ksize, strides, padding, **_):
    total = lax.reduce_window(x, np.zeros((), x.dtype), lax.add, tuple(ksize), tuple(strides), padding)
    ones = np.ones([d if k > 1 else 1 for d, k in zip(x.shape, ksize)], np.float32)
    counts = lax.reduce_window(ones, np.float32(0), lax.add, tuple(ksize), tuple(strides), padding)
    return (total / counts.astype(x.dtype)).astype(x.dtype)


# ------------------------------------------------------------------------------------------------
# SpaceToBatchND / BatchToSpaceND
# ------------------------------------------------------------------------------------------------
def _block_and_amounts(block_shape, amounts, x, what: str):
    block = [int(b) for b in np.asarray(block_shape).reshape(-1)]
    pairs = np.asarray(amounts).reshape(-1, 2).astype(np.int64)
    require(np.ndim(block_shape) == 1, _INVALID,
            lambda: f"block_shape must be one-dimensional, but got shape {list(np.shape(block_shape))}")
    require(pairs.shape[0] == len(block), _INVALID,
            lambda: f"{what} should have shape [{len(block)}, 2] instead of {list(np.shape(amounts))}")
    require(np.ndim(x) >= 1 + len(block), _INVALID,
            lambda: f"input rank should be >= {1 + len(block)} instead of {np.ndim(x)}")
    for i, b in enumerate(block):
        require(b >= 1, _INVALID, lambda b=b, i=i: f"block_shape[{i}]={b} is not positive")
    return block, pairs


@lowers("SpaceToBatchND")
def space_to_batch_nd(x, block_shape, paddings, **_):
    block, pads = _block_and_amounts(block_shape, paddings, x, "paddings")
    require(np.all(pads >= 0), _INVALID, "Paddings must be non-negative")
    x = jnp.asarray(x)
    m = len(block)
    padded = [x.shape[i + 1] + int(pads[i].sum()) for i in range(m)]
    for i, (p, b) in enumerate(zip(padded, block)):
        require(p % b == 0, _INVALID, lambda i=i, p=p, b=b: f"padded_shape[{i}]={p} is not divisible by "
                                                            f"block_shape[{i}]={b}")
    x = jnp.pad(x, [(0, 0)] + [tuple(int(v) for v in p) for p in pads] + [(0, 0)] * (x.ndim - 1 - m))
    batch, rest = x.shape[0], x.shape[1 + m:]
    # [b, p0/b0, b0, p1/b1, b1, ..., rest] → [b0, b1, ..., b, p0/b0, p1/b1, ..., rest]
    split = [batch] + [d for p, b in zip(padded, block) for d in (p // b, b)] + list(rest)
    x = x.reshape(split)
    perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + list(range(1 + 2 * m, x.ndim))
    x = x.transpose(perm)
    return x.reshape([batch * int(np.prod(block))] + [p // b for p, b in zip(padded, block)] + list(rest))


@lowers("BatchToSpaceND")
def batch_to_space_nd(x, block_shape, crops, **_):
    block, crop = _block_and_amounts(block_shape, crops, x, "crops")
    require(np.all(crop >= 0), _INVALID, "Crops must be non-negative")
    x = jnp.asarray(x)
    m, prod = len(block), int(np.prod(block))
    require(x.shape[0] % prod == 0, _INVALID,
            lambda: f"Input batch dimension ({x.shape[0]}) is not divisible by product of block sizes ({prod})")
    for i, b in enumerate(block):
        cropped = x.shape[i + 1] * b - int(crop[i].sum())
        require(cropped >= 0, _INVALID, lambda i=i, c=cropped: f"cropped_shape[{i}]={c} must be non-negative")
    batch, spatial, rest = x.shape[0] // prod, x.shape[1:1 + m], x.shape[1 + m:]
    x = x.reshape(list(block) + [batch] + list(spatial) + list(rest))
    perm = [m] + [d for i in range(m) for d in (m + 1 + i, i)] + list(range(2 * m + 1, x.ndim))
    x = x.transpose(perm).reshape([batch] + [s * b for s, b in zip(spatial, block)] + list(rest))
    starts = [0] + [int(c[0]) for c in crop] + [0] * len(rest)
    sizes = [batch] + [s * b - int(c.sum()) for s, b, c in zip(spatial, block, crop)] + list(rest)
    return lax.dynamic_slice(x, starts, sizes) if x.size else x.reshape(sizes)


# ------------------------------------------------------------------------------------------------
# MaxPoolWithArgmax
# ------------------------------------------------------------------------------------------------
@lowers("MaxPoolWithArgmax")
def max_pool_with_argmax(x, *, ksize, strides, padding, Targmax=np.int64, include_batch_in_index=False, **_):
    x = jnp.asarray(x)
    n, h, w, c = x.shape
    flat = jnp.arange(n * h * w * c, dtype=np.int64).reshape(x.shape)
    low = -np.inf if jnp.issubdtype(x.dtype, jnp.floating) else np.iinfo(x.dtype).min

    def pick(a, b):  # the larger value; on ties the earlier (smaller) index, as TF scans a window
        (va, ia), (vb, ib) = a, b
        take_a = (va > vb) | ((va == vb) & (ia < ib))
        return jnp.where(take_a, va, vb), jnp.where(take_a, ia, ib)
    init = (np.asarray(low, x.dtype), np.asarray(np.iinfo(np.int64).max, np.int64))
    # The indices come from the values as constants (a variadic reduce_window over an int operand has no
    # derivative); the pooled values are then read at them, so the gradient goes to the argmax element, as
    # TF's MaxPoolGradWithArgmax routes it (a NaN window keeps reduce_window's NaN and passes no gradient).
    frozen = lax.stop_gradient(x)
    _, argmax = lax.reduce_window((frozen, flat), init, pick, tuple(ksize), tuple(strides), padding)
    pooled = lax.reduce_window(frozen, np.asarray(low, x.dtype), lax.max, tuple(ksize), tuple(strides), padding)
    read = jnp.take(x.reshape(-1), jnp.minimum(argmax, n * h * w * c - 1))
    if jnp.issubdtype(x.dtype, jnp.floating):
        pooled = jnp.where(jnp.isnan(pooled), pooled, read)
    if not include_batch_in_index:
        argmax = argmax % (h * w * c)
    return pooled, argmax.astype(Targmax)


# ------------------------------------------------------------------------------------------------
# CTC
# ------------------------------------------------------------------------------------------------
_NEG = -1e30  # log(0) that keeps log-sum-exp and its gradient finite


def _dense_labels(indices, values, batch: int, collapse: bool):
    """[batch, L] labels (L = number of label entries, a static bound) and each row's length."""
    indices, values = jnp.asarray(indices), jnp.asarray(values)
    total = values.shape[0]
    rows, cols = indices[:, 0], indices[:, 1]
    labels = jnp.zeros((batch, max(total, 1)), jnp.int32).at[rows, cols].set(values, mode="drop")
    lengths = jax.ops.segment_sum(jnp.ones_like(rows, jnp.int32), rows, num_segments=batch)
    if collapse:  # drop a label equal to the one before it, then close the gaps
        pos = jnp.arange(labels.shape[1])
        keep = (pos[None, :] < lengths[:, None]) & ((pos[None, :] == 0) |
                                                   (labels != jnp.roll(labels, 1, axis=1)))
        target = jnp.cumsum(keep, axis=1) - 1
        target = jnp.where(keep, target, labels.shape[1])
        labels = jnp.zeros_like(labels).at[jnp.arange(batch)[:, None], target].set(labels, mode="drop")
        lengths = keep.sum(axis=1).astype(jnp.int32)
    return labels, lengths


def _ctc_nll(logits, labels, label_lengths, seq_lengths, merge_repeated: bool):
    """-log p(labels | logits) per example: the CTC forward recursion over extended labels."""
    num_time, batch, num_classes = logits.shape
    blank = num_classes - 1
    log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    num_states = 2 * labels.shape[1] + 1
    state = jnp.arange(num_states)
    ext = jnp.where(state % 2 == 0, blank, jnp.take(labels, (state - 1) // 2, axis=1, mode="clip"))
    ext = jnp.broadcast_to(ext, (batch, num_states))
    prev2 = jnp.concatenate([jnp.full((batch, 2), -1), ext[:, :-2]], axis=1)
    can_skip = (state >= 2) & (ext != blank) & ((ext != prev2) | (not merge_repeated))
    can_stay = jnp.full((batch, num_states), True) if merge_repeated else (ext == blank)
    emit = jnp.take_along_axis(log_probs, jnp.broadcast_to(ext, (num_time, batch, num_states)), axis=2,
                               mode="clip")
    alpha0 = jnp.where(state < 2, emit[0], _NEG)

    def step(alpha, inputs):
        t, e = inputs
        stay = jnp.where(can_stay, alpha, _NEG)
        one = jnp.concatenate([jnp.full((batch, 1), _NEG), alpha[:, :-1]], axis=1)
        two = jnp.where(can_skip, jnp.concatenate([jnp.full((batch, 2), _NEG), alpha[:, :-2]], axis=1), _NEG)
        new = jnp.logaddexp(jnp.logaddexp(stay, one), two) + e
        new = jnp.maximum(new, _NEG)
        return jnp.where((t < seq_lengths)[:, None], new, alpha), None
    alpha, _ = lax.scan(step, alpha0, (jnp.arange(1, num_time), emit[1:]))
    last = 2 * label_lengths
    end = jnp.logaddexp(jnp.take_along_axis(alpha, last[:, None], axis=1)[:, 0],
                        jnp.take_along_axis(alpha, jnp.maximum(last - 1, 0)[:, None], axis=1)[:, 0])
    return jnp.where(end < _NEG / 2, jnp.inf, -end)


@functools.partial(jax.jit, static_argnames=("merge_repeated",))
def _ctc_loss_and_gradient(inputs, labels, lengths, seq, too_long, *, merge_repeated: bool):
    """Losses and d(sum of finite losses)/d(inputs); jitted so op-by-op runs reuse one executable."""
    def total(logits):
        loss = _ctc_nll(logits, labels, lengths, seq, merge_repeated)
        loss = jnp.where(too_long, jnp.zeros((), loss.dtype), loss)  # ignored examples: loss and gradient 0
        return jnp.sum(jnp.where(jnp.isfinite(loss), loss, 0.0)), loss
    (_, loss), gradient = jax.value_and_grad(total, has_aux=True)(inputs)
    return loss, gradient


@lowers("CTCLoss")
def ctc_loss(inputs, labels_indices, labels_values, sequence_length, *, preprocess_collapse_repeated=False,
             ctc_merge_repeated=True, ignore_longer_outputs_than_inputs=False, **_):
    inputs = jnp.asarray(inputs)
    num_time, batch, _ = inputs.shape
    seq = jnp.asarray(sequence_length)
    require(jnp.all(seq <= num_time), _INVALID,
            lambda: next(f"sequence_length({b}) <= {num_time}" for b, s in enumerate(np.asarray(seq))
                         if s > num_time))
    labels, lengths = _dense_labels(labels_indices, labels_values, batch, preprocess_collapse_repeated)
    require(jnp.all(lengths > 0), _INVALID,
            lambda: f"Labels length is zero in batch {int(np.flatnonzero(np.asarray(lengths) == 0)[0])}")
    too_long = lengths > seq
    if not ignore_longer_outputs_than_inputs:
        def message():
            b = int(np.flatnonzero(np.asarray(too_long))[0])
            return (f"Not enough time for target transition sequence (required: {int(lengths[b])}, available: "
                    f"{int(seq[b])}){b}You can turn this error into a warning by using the flag "
                    f"ignore_longer_outputs_than_inputs")
        require(~jnp.any(too_long), _INVALID, message)

    loss, gradient = _ctc_loss_with_tf_gradient(inputs, labels, lengths, seq, too_long, bool(ctc_merge_repeated))
    return loss.astype(inputs.dtype), gradient.astype(inputs.dtype)


# TF's CTCLoss gradient is the op's own `gradient` output times the loss's incoming gradient (_CTCLossGrad;
# its second derivative is refused). Differentiating the loss output again through the value_and_grad that
# computes it is both slower and, where alignments tie exactly (uniform logits), wrong in jax.
@functools.partial(jax.custom_vjp, nondiff_argnums=(5,))
def _ctc_loss_with_tf_gradient(inputs, labels, lengths, seq, too_long, merge_repeated: bool):
    return _ctc_loss_and_gradient(inputs, labels, lengths, seq, too_long, merge_repeated=merge_repeated)


def _ctc_forward(inputs, labels, lengths, seq, too_long, merge_repeated):
    loss, gradient = _ctc_loss_and_gradient(inputs, labels, lengths, seq, too_long, merge_repeated=merge_repeated)
    return (loss, gradient), gradient


def _ctc_backward(merge_repeated, gradient, cotangents):
    loss_cotangent, _ = cotangents  # the gradient output's own gradient: TF's prevent_gradient
    return (loss_cotangent[None, :, None] * gradient, None, None, None, None)


_ctc_loss_with_tf_gradient.defvjp(_ctc_forward, _ctc_backward)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _sparse_paths(paths, batch: int):
    indices = np.array([(b, i) for b, p in enumerate(paths) for i in range(len(p))], np.int64).reshape(-1, 2)
    values = np.array([c for p in paths for c in p], np.int64)
    return indices, values, np.array([batch, max((len(p) for p in paths), default=0)], np.int64)


def _check_lengths(seq: np.ndarray, num_time: int, batch: int) -> None:
    require(seq.shape == (batch,), _INVALID,
            lambda: f"len(sequence_length) != batch_size.  len(sequence_length):  {seq.shape[0]} batch_size: {batch}")
    for b, s in enumerate(seq):
        require(s <= num_time, _INVALID, lambda b=b, s=s: f"sequence_length({b}) <= {num_time}")


@lowers("CTCGreedyDecoder", host=True)
def ctc_greedy_decoder(inputs, sequence_length, *, merge_repeated=False, blank_index=-1, **_):
    inputs, seq = np.asarray(inputs), np.asarray(sequence_length)
    num_time, batch, num_classes = inputs.shape
    _check_lengths(seq, num_time, batch)
    blank = num_classes - 1 if blank_index < 0 else blank_index
    paths, log_prob = [], np.zeros((batch, 1), inputs.dtype)
    for b in range(batch):
        best = inputs[:seq[b], b].argmax(axis=-1)
        log_prob[b, 0] = -inputs[:seq[b], b].max(axis=-1).sum()
        path, prev = [], -1
        for c in best:
            if c != blank and not (merge_repeated and c == prev):
                path.append(int(c))
            prev = c
        paths.append(path)
    return _sparse_paths(paths, batch) + (log_prob,)


def _beam_search(log_probs: np.ndarray, beam_width: int, top_paths: int, blank: int):
    """CTC prefix beam search: each prefix keeps (log p ending in blank, log p ending in its label)."""
    beams = {(): (0.0, -np.inf)}
    for frame in log_probs:
        candidates: dict = {}

        def add(prefix, slot, value):
            entry = candidates.setdefault(prefix, [-np.inf, -np.inf])
            entry[slot] = np.logaddexp(entry[slot], value)
        for prefix, (p_blank, p_label) in beams.items():
            p_total = np.logaddexp(p_blank, p_label)
            add(prefix, 0, p_total + frame[blank])
            if prefix:
                add(prefix, 1, p_label + frame[prefix[-1]])
            for c in range(len(frame)):
                if c == blank:
                    continue
                repeat = bool(prefix) and c == prefix[-1]
                add(prefix + (c,), 1, (p_blank if repeat else p_total) + frame[c])
        ranked = sorted(candidates.items(), key=lambda kv: -np.logaddexp(*kv[1]))[:beam_width]
        beams = {k: tuple(v) for k, v in ranked}
    ranked = sorted(beams.items(), key=lambda kv: -np.logaddexp(*kv[1]))[:top_paths]
    return [(list(p), float(np.logaddexp(*v))) for p, v in ranked]


@lowers("CTCBeamSearchDecoder", host=True)
def ctc_beam_search_decoder(inputs, sequence_length, *, beam_width, top_paths, merge_repeated=True, **_):
    inputs, seq = np.asarray(inputs), np.asarray(sequence_length)
    num_time, batch, num_classes = inputs.shape
    _check_lengths(seq, num_time, batch)
    require(top_paths <= beam_width, _INVALID, "requested more paths than the beam width.")
    log_probs = _log_softmax(inputs.astype(np.float64))
    paths = [[] for _ in range(top_paths)]
    scores = np.full((batch, top_paths), -np.inf, inputs.dtype)
    for b in range(batch):
        best = _beam_search(log_probs[:seq[b], b], beam_width, top_paths, num_classes - 1)
        for k in range(top_paths):
            path, score = best[k] if k < len(best) else ([], -np.inf)
            if merge_repeated:  # TF merges repeats in the decoded output, not in the search
                path = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
            paths[k].append(path)
            scores[b, k] = score
    outs = [_sparse_paths(p, batch) for p in paths]
    return (tuple(o[0] for o in outs) + tuple(o[1] for o in outs) + tuple(o[2] for o in outs) + (scores,))
