"""TF1's `tf.nn.ctc_loss_v2`, `tf.nn.ctc_unique_labels` and `tf.nn.ctc_beam_search_decoder_v2`
(TF's python/ops/ctc_ops.py).

`ctc_loss_v2` makes TF's choice: SparseTensor labels go to the CTCLoss op (`tf.nn.ctc_loss`, blank moved
to the last class), dense labels to TF's dense implementation, which is composed of ordinary ops: the
batched forward-backward algorithm over CTC states (Sim et al., 2017) as two scans (`While` loops
writing into `Empty` buffers with TensorScatterUpdate), and a `custom_gradient` whose gradient is the
one the forward-backward pass computes (softmax - state posteriors), as TF's.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.ops import array_ops as _array
from graphcompat.ops import indexing_ops as _index
from graphcompat.ops import math_ops as _math
from graphcompat.ops import reduction_ops as _reduce
from graphcompat.ops.sparse_tensor import SparseTensor


def _get_dim(tensor, i: int):
    """A dimension as a Python int when static, else read from the tensor's shape at run time."""
    return tensor.shape[i].value or _array.shape(tensor)[i]


def _ctc_state_trans(label_seq):
    """[batch, states, states] transition matrix: start->label, blank->next label, label->blank,
    self loops, and label->next label unless the two labels repeat."""
    from graphcompat.ops.linalg_ops import eye
    with _ops.name_scope("ctc_state_trans"):
        label_seq = convert_to_tensor(label_seq, name="label_seq")
        batch_size = _get_dim(label_seq, 0)
        num_labels = _get_dim(label_seq, 1)
        num_label_states = num_labels + 1
        num_states = 2 * num_label_states
        label_states = _reduce.range(num_label_states)
        blank_states = label_states + num_label_states
        start_to_label = [[1, 0]]
        blank_to_label = _array.stack([label_states[1:], blank_states[:-1]], 1)
        label_to_blank = _array.stack([blank_states, label_states], 1)
        indices = _array.concat([start_to_label, blank_to_label, label_to_blank], 0)
        values = _array.ones([_get_dim(indices, 0)])
        trans = _index.scatter_nd(indices, values, shape=[num_states, num_states])
        trans += eye(num_states)
        batch_idx = _array.zeros_like(label_states[2:])
        indices = _array.stack([batch_idx, label_states[2:], label_states[1:-1]], 1)
        indices = _array.tile(_array.expand_dims(indices, 0), [batch_size, 1, 1])
        batch_idx = _array.expand_dims(_reduce.range(batch_size), 1) * [1, 0, 0]
        indices += _array.expand_dims(batch_idx, 1)
        repeats = _math.equal(label_seq[:, :-1], label_seq[:, 1:])
        values = 1.0 - _math.cast(repeats, _dt.float32)
        label_to_label = _index.scatter_nd(indices, values, [batch_size, num_states, num_states])
        return _array.expand_dims(trans, 0) + label_to_label


def _ctc_state_log_probs(seq_lengths, max_seq_length):
    """Initial (all mass on the start state) and final (the last label or the blank after it) log
    probabilities, with log(1e-307) standing for log 0 as TF's."""
    batch_size = _get_dim(seq_lengths, 0)
    num_label_states = max_seq_length + 1
    num_states = 2 * num_label_states
    log_0 = _math.cast(_math.log(_math.cast(0, _dt.float64) + 1e-307), _dt.float32)
    initial = _index.one_hot(_array.zeros([batch_size], dtype=_dt.int32), depth=num_states, on_value=0.0,
                             off_value=log_0, axis=1)
    label_final_state_mask = _index.one_hot(seq_lengths, depth=num_label_states, axis=0)
    duration_final_state_mask = _array.ones([2, 1, batch_size])
    final_state_mask = duration_final_state_mask * label_final_state_mask
    final = (1.0 - final_state_mask) * log_0
    final = _array.reshape(final, [num_states, batch_size])
    return initial, _array.transpose(final)


def _ilabel_to_state(labels, num_labels, ilabel_log_probs):
    """Per frame, the log probability of each CTC state's symbol (label states, then blanks)."""
    num_label_states = _get_dim(labels, 1)
    blank = ilabel_log_probs[:, :, :1]
    blank = _array.tile(blank, [1, 1, num_label_states + 1])
    one_hot = _array.expand_dims(_index.one_hot(labels, depth=num_labels), axis=0)
    ilabel_log_probs = _array.expand_dims(ilabel_log_probs, axis=2)
    state_log_probs = _reduce.reduce_sum(ilabel_log_probs * one_hot, axis=3)
    state_log_probs = _array.concat([state_log_probs, blank], axis=2)
    return _index.pad(state_log_probs, [[0, 0], [0, 0], [1, 0]], constant_values=_math.log(0.0))


def _state_to_olabel(labels, num_labels, states):
    """State posteriors summed back onto output classes (log space)."""
    num_label_states = _get_dim(labels, 1) + 1
    label_states = states[:, :, 1:num_label_states]
    blank_states = states[:, :, num_label_states:]
    one_hot = _index.one_hot(labels - 1, depth=num_labels - 1, on_value=0.0, off_value=_math.log(0.0))
    one_hot = _array.expand_dims(one_hot, axis=0)
    label_states = _array.expand_dims(label_states, axis=3)
    label_olabels = _reduce.reduce_logsumexp(label_states + one_hot, axis=2)
    blank_olabels = _reduce.reduce_logsumexp(blank_states, axis=2, keepdims=True)
    return _array.concat([blank_olabels, label_olabels], axis=-1)


def _sum_states(idx, states):
    with _ops.name_scope("sum_states"):
        idx = convert_to_tensor(idx, name="idx")
        num_states = _get_dim(states, 2)
        states = _array.expand_dims(states, axis=2)
        one_hot = _index.one_hot(idx, depth=num_states, on_value=0.0, off_value=_math.log(0.0), axis=1)
        return _reduce.reduce_logsumexp(states + one_hot, axis=-1)


def _state_to_olabel_unique(labels, num_labels, states, unique):
    """`_state_to_olabel` through the unique label ids: posteriors of repeated labels are summed per
    unique id and scattered onto the classes (TF's memory-lean path)."""
    num_label_states = _get_dim(labels, 1) + 1
    label_states = states[:, :, 1:num_label_states]
    blank_states = states[:, :, num_label_states:]
    unique_y, unique_idx = unique
    mul_reduce = _sum_states(unique_idx, label_states)
    num_frames = _get_dim(states, 0)
    batch_size = _get_dim(states, 1)
    num_states = num_label_states - 1
    batch_state_major = _array.transpose(mul_reduce, perm=[1, 2, 0])
    batch_state_major = _array.reshape(batch_state_major, [batch_size * num_states, num_frames])
    batch_offset = _reduce.range(batch_size, dtype=unique_y.dtype) * num_labels
    indices = unique_y + _array.expand_dims(batch_offset, axis=-1)
    indices = _array.reshape(indices, [-1, 1])
    scatter = _index.scatter_nd(indices=indices, updates=batch_state_major,
                                shape=[batch_size * num_labels, num_frames])
    scatter = _array.reshape(scatter, [batch_size, num_labels, num_frames])
    mask = _array.ones_like(batch_state_major, dtype=_dt.bool_)
    mask = _index.scatter_nd(indices=indices, updates=mask, shape=[batch_size * num_labels, num_frames])
    mask = _array.reshape(mask, [batch_size, num_labels, num_frames])
    scatter = _math.where(mask, scatter, _array.fill(_array.shape(scatter), _math.log(0.0)))
    label_olabels = _array.transpose(scatter, [2, 0, 1])[:, :, 1:]
    blank_olabels = _reduce.reduce_logsumexp(blank_states, axis=2, keepdims=True)
    return _array.concat([blank_olabels, label_olabels], axis=-1)


def _scan(fn, elems, initial, reverse: bool = False, inclusive: bool = False):
    """TF's ctc `_scan`: one loop over the first axis of `elems` writing each accumulator into a buffer
    (TensorScatterUpdate), `inclusive` also keeping the initial value. No gradient flows through it:
    the loss's gradient is computed by the forward-backward pass itself."""
    from graphcompat.ops import control_flow_ops as _cf
    from graphcompat.ops.segment_ops import tensor_scatter_add, tensor_scatter_update
    flat_elems = [convert_to_tensor(x) for x in _cf.flatten(elems)]
    num_elems = _array.shape(flat_elems[0])[0]
    flat_initial = [convert_to_tensor(x) for x in _cf.flatten(initial)]
    num_accums = len(flat_initial)

    def cond(i, n, *_):
        return i >= 0 if reverse else i < n

    def body(i, n, *args):
        i.set_shape([])
        out, accum = args[:num_accums], args[num_accums:]
        slices = [_index.gather(e, i) for e in flat_elems]
        accum = fn(_cf.pack_sequence_as(initial, list(accum)), _cf.pack_sequence_as(elems, slices))
        flat_accum = _cf.flatten(accum)
        update_i = i + 1 if inclusive and not reverse else i
        new_out = [tensor_scatter_update(x, [[update_i]], [y]) for x, y in zip(out, flat_accum)]
        i = i - 1 if reverse else i + 1
        return [i, n] + new_out + flat_accum

    init_i = _array.shape(flat_elems[0])[0] - 1 if reverse else constant(0, dtype=_dt.int32)
    num_outputs = _array.shape(flat_elems[0])[0] + (1 if inclusive else 0)
    outputs = []
    for initial_accum in flat_initial:
        out_shape = _array.concat([[num_outputs], _array.shape(initial_accum)], 0)
        out = _array_empty(out_shape, initial_accum.dtype)
        if inclusive:
            out = tensor_scatter_add(out, [[init_i + (1 if reverse else 0)]], [initial_accum])
        outputs.append(out)
    # TF calls functional_ops.While on Defuns (op type `While`); no gradient is taken through it, the
    # custom gradient replaces it.
    with _cf.functional_while():
        results = _cf.while_loop(cond, body, [init_i, num_elems] + outputs + flat_initial)
    return _cf.pack_sequence_as(initial, list(results[2:num_accums + 2]))


def _array_empty(shape, dtype):
    from graphcompat.framework.registry import apply_op
    return apply_op("Empty", [shape], {"dtype": dtype, "init": True})


def _forward_backward_log(state_trans_log_probs, initial_state_log_probs, final_state_log_probs,
                          observed_log_probs, sequence_length):
    """Normalized forward-backward state posteriors [frames, batch, states] and log likelihoods [batch]."""
    ndims = state_trans_log_probs.shape.ndims
    if ndims not in (2, 3):
        raise ValueError("Rank of argument `state_trans_log_probs` must be known and equal to 2 or 3. Received "
                         f"state_trans_log_probs={state_trans_log_probs} of rank {ndims}")
    bwd_state_trans_log_probs = _array.transpose(state_trans_log_probs, [1, 0] if ndims == 2 else [0, 2, 1])
    batch_size = _get_dim(observed_log_probs, 1)

    def forward(state_log_prob, obs_log_prob):
        state_log_prob = _array.expand_dims(state_log_prob, axis=1)
        state_log_prob += state_trans_log_probs
        state_log_prob = _reduce.reduce_logsumexp(state_log_prob, axis=-1)
        state_log_prob += obs_log_prob
        # renormalized per frame (the sums are carried separately) so long inputs do not underflow
        return state_log_prob - _reduce.reduce_logsumexp(state_log_prob, axis=-1, keepdims=True)

    fwd = _scan(forward, observed_log_probs, initial_state_log_probs, inclusive=True)

    def backward(accs, elems):
        state_log_prob, cum_log_sum = accs
        obs_log_prob, mask = elems
        state_log_prob += obs_log_prob
        state_log_prob = _array.expand_dims(state_log_prob, axis=1)
        state_log_prob += bwd_state_trans_log_probs
        state_log_prob = _reduce.reduce_logsumexp(state_log_prob, axis=-1)
        log_prob_sum = _reduce.reduce_logsumexp(state_log_prob, axis=-1, keepdims=True)
        state_log_prob -= log_prob_sum
        cum_log_sum += _array.squeeze(log_prob_sum, axis=[-1]) * mask
        batched_mask = _array.expand_dims(mask, axis=1)
        out = state_log_prob * batched_mask
        out += final_state_log_probs * (1.0 - batched_mask)
        return out, cum_log_sum

    zero_log_sum = _array.zeros([batch_size])
    maxlen = _get_dim(observed_log_probs, 0)
    mask = _array.transpose(_index.sequence_mask(sequence_length, maxlen, _dt.float32), perm=[1, 0])
    bwd, cum_log_sum = _scan(backward, (observed_log_probs, mask), (final_state_log_probs, zero_log_sum),
                             reverse=True, inclusive=True)
    fwd_bwd_log_probs = fwd[1:] + bwd[1:]
    fwd_bwd_log_probs -= _reduce.reduce_logsumexp(fwd_bwd_log_probs, axis=2, keepdims=True)
    fwd_bwd_log_probs += _math.log(_array.expand_dims(mask, axis=2))
    log_likelihood = bwd[0, :, 0] + cum_log_sum[0]
    return fwd_bwd_log_probs, log_likelihood


def _ctc_loss_and_grad(logits, labels, label_length, logit_length, unique=None):
    """(loss [batch], d loss / d logits [frames, batch, classes]) with the blank at class 0."""
    from graphcompat.nn.nn_ops import log_softmax
    num_labels = _get_dim(logits, 2)
    max_label_seq_length = _get_dim(labels, 1)
    ilabel_log_probs = log_softmax(logits)
    state_log_probs = _ilabel_to_state(labels, num_labels, ilabel_log_probs)
    state_trans_probs = _ctc_state_trans(labels)
    initial, final = _ctc_state_log_probs(label_length, max_label_seq_length)
    fwd_bwd_log_probs, log_likelihood = _forward_backward_log(
        state_trans_log_probs=_math.log(state_trans_probs), initial_state_log_probs=initial,
        final_state_log_probs=final, observed_log_probs=state_log_probs, sequence_length=logit_length)
    if unique:
        olabel_log_probs = _state_to_olabel_unique(labels, num_labels, fwd_bwd_log_probs, unique)
    else:
        olabel_log_probs = _state_to_olabel(labels, num_labels, fwd_bwd_log_probs)
    grad = _math.exp(ilabel_log_probs) - _math.exp(olabel_log_probs)
    logit_mask = _index.sequence_mask(logit_length, _get_dim(logits, 0), _dt.float32)
    logit_mask = _array.expand_dims(_array.transpose(logit_mask, perm=[1, 0]), axis=2)
    grad *= logit_mask
    return -log_likelihood, grad


def ctc_loss_dense(labels, logits, label_length, logit_length, logits_time_major: bool = True, unique=None,
                   blank_index: int = 0, name: Optional[str] = None) -> _ops.Tensor:
    """TF's dense CTC loss (what `ctc_loss_v2` runs for dense labels): per-example negative log
    likelihood [batch]; its gradient is the forward-backward one (a custom_gradient, as TF's)."""
    from graphcompat.custom_gradient import custom_gradient
    with _ops.name_scope(name, "ctc_loss_dense", [logits, labels, label_length, logit_length]):
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, name="labels")
        label_length = convert_to_tensor(label_length, name="label_length")
        logit_length = convert_to_tensor(logit_length, name="logit_length")
        orig_dtype = logits.dtype.base_dtype
        if orig_dtype in (_dt.float16, _dt.bfloat16):
            logits = _math.cast(logits, _dt.float32)
        if not logits_time_major:
            logits = _array.transpose(logits, perm=[1, 0, 2])
        if blank_index != 0:
            # the dense algorithm wants the blank at class 0: move its column first, shift the labels below it
            if blank_index < 0:
                blank_index += _get_dim(logits, 2)
            logits = _array.concat([logits[:, :, blank_index:blank_index + 1], logits[:, :, :blank_index],
                                    logits[:, :, blank_index + 1:]], axis=2)
            labels = _math.where(labels < blank_index, labels + 1, labels)
        args = [logits, labels, label_length, logit_length]
        if unique:
            unique_y, unique_idx = unique
            if blank_index != 0:
                unique_y = _math.where(unique_y < blank_index, unique_y + 1, unique_y)
                label_mask_len = _reduce.reduce_max(unique_idx, axis=1) + 1
                label_mask = _index.sequence_mask(label_mask_len, _get_dim(unique_y, 1))
                unique_y = _math.where(label_mask, unique_y, _array.zeros_like(unique_y))
            args.extend([unique_y, unique_idx])

        @custom_gradient
        def compute_ctc_loss(logits_t, labels_t, label_length_t, logit_length_t, *unique_t):
            logits_t.set_shape(logits.shape)
            labels_t.set_shape(labels.shape)
            label_length_t.set_shape(label_length.shape)
            logit_length_t.set_shape(logit_length.shape)
            loss, grad_logits = _ctc_loss_and_grad(logits_t, labels_t, label_length_t, logit_length_t,
                                                   unique=unique_t or None)

            def grad(grad_loss):
                return [_array.reshape(grad_loss, [1, -1, 1]) * grad_logits] + [None] * (len(args) - 1)
            return loss, grad

        loss = compute_ctc_loss(*args)
        if orig_dtype in (_dt.float16, _dt.bfloat16):
            loss = _math.cast(loss, orig_dtype)
        return loss


def ctc_loss_v2(labels, logits, label_length, logit_length, logits_time_major: bool = True, unique=None,
                blank_index: Optional[int] = None, name: Optional[str] = None) -> _ops.Tensor:
    """`tf.nn.ctc_loss_v2` (TF1): SparseTensor labels run the CTCLoss op (needs `blank_index`), dense
    labels the dense forward-backward implementation (blank 0 unless `blank_index` says otherwise)."""
    if isinstance(labels, SparseTensor):
        from graphcompat.nn.nn_extra import ctc_loss
        if blank_index is None:
            raise ValueError("Argument `blank_index` must be provided when labels is a SparseTensor.")
        if blank_index < 0:
            blank_index += _get_dim(logits, 2)
        if blank_index != _get_dim(logits, 2) - 1:
            # CTCLoss takes the last class as blank: move the blank column last, shift labels above it
            logits = _array.concat([logits[:, :, :blank_index], logits[:, :, blank_index + 1:],
                                    logits[:, :, blank_index:blank_index + 1]], axis=2)
            labels = SparseTensor(labels.indices, _math.where(labels.values < blank_index, labels.values,
                                                              labels.values - 1), labels.dense_shape)
        return ctc_loss(labels=labels, inputs=logits, sequence_length=logit_length, time_major=logits_time_major)
    if blank_index is None:
        blank_index = 0
    return ctc_loss_dense(labels=labels, logits=logits, label_length=label_length, logit_length=logit_length,
                          logits_time_major=logits_time_major, unique=unique, blank_index=blank_index, name=name)


def ctc_unique_labels(labels, name: Optional[str] = None):
    """`tf.nn.ctc_unique_labels`: per row of `labels` [batch, max_len], its unique ids (zero padded,
    int64) and each position's index into them (int32), for `ctc_loss_v2(unique=...)`."""
    from graphcompat.ops.data_dependent_ops import unique
    from graphcompat.ops.functional_ops import map_fn
    with _ops.name_scope(name, "ctc_unique_labels", [labels]):
        labels = convert_to_tensor(labels, name="labels")

        def _unique(x):
            u = unique(x)
            y = _index.pad(u.y, [[0, _get_dim(u.idx, 0) - _get_dim(u.y, 0)]])
            return [_math.cast(y, _dt.int64), u.idx]

        return map_fn(_unique, labels, dtype=[_dt.int64, _dt.int32])


def ctc_beam_search_decoder_v2(inputs, sequence_length, beam_width: int = 100, top_paths: int = 1):
    """`tf.nn.ctc_beam_search_decoder_v2`: the v1 decoder with merge_repeated=False (TF dropped the
    option: merging returns low-probability paths)."""
    from graphcompat.nn.nn_extra import ctc_beam_search_decoder
    return ctc_beam_search_decoder(inputs, sequence_length=sequence_length, beam_width=beam_width,
                                   top_paths=top_paths, merge_repeated=False)


__all__ = ["ctc_loss_v2", "ctc_unique_labels", "ctc_beam_search_decoder_v2"]
