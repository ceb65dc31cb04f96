"""`tf.image.non_max_suppression_padded`: TF 2.21 builds it in Python (image_ops_impl) from ordinary ops, a
tiled greedy suppression in while loops, wrapped in a `tf.function` that TF's graph calls through one
`PartitionedCall`. graphcompat records no function call op: the same ops are recorded inline, under the
builder's name scope (`.../padded_v2/...` where TF's graph holds `.../PartitionedCall`), and give TF's
values. What follows the call (the `[0, :num_valid]` slice, or the reshape to the batch dimensions) is
recorded as TF records it.
"""
from __future__ import annotations

from typing import Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import constant


def _tf():
    import graphcompat
    return graphcompat


def _pairwise_iou(boxes_a, boxes_b):
    """IoU of every box of `boxes_a` [batch, n, 4] with every box of `boxes_b` [batch, m, 4] -> [batch, n, m];
    the epsilon in the union keeps empty boxes at 0 (TF's `_bbox_overlap`)."""
    tf = _tf()
    with _ops.name_scope("bbox_overlap"):
        a_y1, a_x1, a_y2, a_x2 = tf.split(boxes_a, 4, axis=2)
        b_y1, b_x1, b_y2, b_x2 = tf.split(boxes_b, 4, axis=2)
        x_lo = tf.maximum(a_x1, tf.transpose(b_x1, [0, 2, 1]))
        x_hi = tf.minimum(a_x2, tf.transpose(b_x2, [0, 2, 1]))
        y_lo = tf.maximum(a_y1, tf.transpose(b_y1, [0, 2, 1]))
        y_hi = tf.minimum(a_y2, tf.transpose(b_y2, [0, 2, 1]))
        inter = tf.maximum(x_hi - x_lo, 0) * tf.maximum(y_hi - y_lo, 0)
        area_a = (a_y2 - a_y1) * (a_x2 - a_x1)
        area_b = (b_y2 - b_y1) * (b_x2 - b_x1)
        union = area_a + tf.transpose(area_b, [0, 2, 1]) - inter + 1e-8
        return inter / union


def _self_suppression_step(iou, _, iou_sum, threshold):
    """One round of suppression inside a tile: boxes not suppressed by any earlier box suppress later ones;
    repeats until the total overlap stops changing by more than the threshold."""
    tf = _tf()
    batch = tf.shape(iou)[0]
    can_suppress = tf.cast(tf.reshape(tf.reduce_max(iou, 1) < threshold, [batch, -1, 1]), iou.dtype)
    kept = tf.reshape(tf.cast(tf.reduce_max(can_suppress * iou, 1) < threshold, iou.dtype), [batch, -1, 1]) * iou
    new_sum = tf.reduce_sum(kept, [1, 2])
    return [kept, tf.reduce_any(iou_sum - new_sum > threshold), new_sum, threshold]


def _cross_suppression_step(boxes, box_slice, threshold, inner, tile_size: int):
    """Zeroes the boxes of the current tile that overlap a kept box of an earlier tile `inner`."""
    tf = _tf()
    batch = tf.shape(boxes)[0]
    earlier = tf.slice(boxes, [0, inner * tile_size, 0], [batch, tile_size, 4])
    iou = _pairwise_iou(earlier, box_slice)
    keep = tf.expand_dims(tf.cast(tf.reduce_all(iou < threshold, [1]), box_slice.dtype), 2)
    return boxes, keep * box_slice, threshold, inner + 1


def _tile_step(boxes, threshold, output_size, idx, tile_size: int):
    """Suppresses tile `idx` against the earlier tiles, then within itself; counts the boxes it keeps."""
    tf = _tf()
    with _ops.name_scope("suppression_loop_body"):
        num_tiles = tf.shape(boxes)[1] // tile_size
        batch = tf.shape(boxes)[0]
        box_slice = tf.slice(boxes, [0, idx * tile_size, 0], [batch, tile_size, 4])
        _, box_slice, _, _ = tf.while_loop(
            lambda _b, _s, _t, inner: inner < idx,
            lambda b, s, t, inner: _cross_suppression_step(b, s, t, inner, tile_size),
            [boxes, box_slice, threshold, constant(0)])
        iou = _pairwise_iou(box_slice, box_slice)
        upper = tf.expand_dims(tf.reshape(tf.range(tile_size), [1, -1]) > tf.reshape(tf.range(tile_size), [-1, 1]), 0)
        iou *= tf.cast(tf.logical_and(upper, iou >= threshold), iou.dtype)
        suppressed_iou, _, _, _ = tf.while_loop(
            lambda _i, go, _s, _t: go, _self_suppression_step,
            [iou, constant(True), tf.reduce_sum(iou, [1, 2]), threshold])
        suppressed = tf.reduce_sum(suppressed_iou, 1) > 0
        box_slice *= tf.expand_dims(1.0 - tf.cast(suppressed, box_slice.dtype), 2)
        is_tile = tf.reshape(tf.cast(tf.equal(tf.range(num_tiles), idx), boxes.dtype), [1, -1, 1, 1])
        boxes = (tf.tile(tf.expand_dims(box_slice, [1]), [1, num_tiles, 1, 1]) * is_tile
                 + tf.reshape(boxes, [batch, num_tiles, tile_size, 4]) * (1 - is_tile))
        boxes = tf.reshape(boxes, [batch, -1, 4])
        output_size += tf.reduce_sum(tf.cast(tf.reduce_any(box_slice > 0, [2]), _dt.int32), [1])
    return boxes, threshold, output_size, idx + 1


def _padded_v2(boxes, scores, max_output_size, iou_threshold, score_threshold, sorted_input: bool,
               canonicalized_coordinates: bool, tile_size: int):
    """TF's `non_max_suppression_padded_v2`: (indices [batch, max_output_size], num_valid [batch dims])."""
    tf = _tf()
    batch_dims = tf.shape(boxes)[:-2]
    num_boxes = tf.shape(boxes)[-2]
    boxes = tf.reshape(boxes, [-1, num_boxes, 4])
    scores = tf.reshape(scores, [-1, num_boxes])
    batch_size = tf.shape(boxes)[0]
    if score_threshold is not None:
        with _ops.name_scope("filter_by_score"):
            score_mask = tf.cast(scores > score_threshold, scores.dtype)
            scores *= score_mask
            boxes *= tf.expand_dims(tf.cast(score_mask, boxes.dtype), 2)
    if not canonicalized_coordinates:
        with _ops.name_scope("canonicalize_coordinates"):
            # TF decides the corner order from the first box of the first image only
            y_1, x_1, y_2, x_2 = tf.split(boxes, 4, axis=2)
            y_first = tf.reduce_all(tf.less_equal(y_1[0, 0, 0], y_2[0, 0, 0]))
            y_min, y_max = tf.cond(y_first, lambda: (y_1, y_2), lambda: (y_2, y_1))
            x_first = tf.reduce_all(tf.less_equal(x_1[0, 0, 0], x_2[0, 0, 0]))
            x_min, x_max = tf.cond(x_first, lambda: (x_1, x_2), lambda: (x_2, x_1))
            boxes = tf.concat([y_min, x_min, y_max, x_max], axis=2)
    if not sorted_input:
        with _ops.name_scope("sort_scores_and_boxes"):
            order = tf.argsort(scores, axis=1, direction="DESCENDING")
            scores = tf.gather(scores, order, axis=1, batch_dims=1)
            boxes = tf.gather(boxes, order, axis=1, batch_dims=1)
    else:
        order = tf.zeros_like(scores, dtype=_dt.int32)
    pad = tf.cast(tf.ceil(tf.cast(tf.maximum(num_boxes, max_output_size), _dt.float32)
                          / tf.cast(tile_size, _dt.float32)), _dt.int32) * tile_size - num_boxes
    boxes = tf.pad(tf.cast(boxes, _dt.float32), [[0, 0], [0, pad], [0, 0]])
    scores = tf.pad(tf.cast(scores, _dt.float32), [[0, 0], [0, pad]])
    padded_size = num_boxes + pad
    num_tiles = padded_size // tile_size

    def keep_going(_boxes, _threshold, output_size, idx):
        return tf.logical_and(tf.reduce_min(output_size) < max_output_size, idx < num_tiles)

    selected, _, output_size, _ = tf.while_loop(
        keep_going, lambda b, t, o, i: _tile_step(b, t, o, i, tile_size),
        [boxes, iou_threshold, tf.zeros([batch_size], _dt.int32), constant(0)],
        shape_invariants=[tf.TensorShape([None, None, 4]), tf.TensorShape([]), tf.TensorShape([None]),
                          tf.TensorShape([])])
    num_valid = tf.minimum(output_size, max_output_size)
    # kept boxes in score order: top_k of (kept * descending ranks) lists them first
    ranks = tf.expand_dims(tf.range(padded_size, 0, -1), 0)
    kept = tf.cast(tf.reduce_any(selected > 0, [2]), _dt.int32)
    idx = padded_size - tf.cast(tf.nn.top_k(kept * ranks, max_output_size)[0], _dt.int32)
    idx = tf.minimum(idx, num_boxes - 1)
    if not sorted_input:
        offsets = tf.range(batch_size) * num_boxes
        flat = tf.reshape(idx + tf.expand_dims(offsets, 1), [-1])
        idx = tf.reshape(tf.gather(tf.reshape(order, [-1]), flat), [batch_size, -1])
    invalid = tf.zeros([batch_size, max_output_size], dtype=_dt.int32)
    slot = tf.expand_dims(tf.range(max_output_size), 0)
    idx = tf.where(slot < tf.expand_dims(num_valid, 1), idx, invalid)
    num_valid = tf.reshape(num_valid, batch_dims)
    return idx, num_valid


def non_max_suppression_padded(boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
                               pad_to_max_output_size: bool = False, name: Optional[str] = None,
                               sorted_input: bool = False, canonicalized_coordinates: bool = False,
                               tile_size: int = 512):
    """`tf.image.non_max_suppression_padded`: greedy NMS (tiled, TF's algorithm and values) returning
    (indices, num_valid). Batched boxes [..., num_boxes, 4] need `pad_to_max_output_size=True`; then the
    indices are [..., max_output_size], padded with zeros."""
    tf = _tf()
    with _ops.name_scope(name, "non_max_suppression_padded"):
        if not pad_to_max_output_size:
            # TF reads `boxes.get_shape()` before converting anything (a list or an array raises there too)
            rank = boxes.get_shape().ndims
            if rank is not None and rank > 2:
                raise ValueError("'pad_to_max_output_size' (value {}) must be True for batched input".format(
                    pad_to_max_output_size))
        # The function call's arguments, in its order: what is not a Tensor yet becomes a Const of the
        # argument's dtype (Const, Const_1, ... as TF's call records them; the flags and tile_size are
        # recorded although they steer only the Python that builds the ops)
        boxes, scores, max_size, threshold, score, _, _, _ = (
            value if isinstance(value, _ops.Tensor) else constant(value, dtype)
            for value, dtype in ((boxes, _dt.float32), (scores, _dt.float32), (max_output_size, _dt.int32),
                                 (iou_threshold, _dt.float32), (score_threshold, _dt.float32),
                                 (bool(sorted_input), _dt.bool_), (bool(canonicalized_coordinates), _dt.bool_),
                                 (int(tile_size), _dt.int32)))
        # TF's function tests `score_threshold != -inf`: a Python -inf filters nothing
        if not isinstance(score_threshold, _ops.Tensor) and float(score_threshold) == float("-inf"):
            score = None
        with _ops.name_scope("padded_v2"):
            idx, num_valid = _padded_v2(boxes, scores, max_size, threshold, score, bool(sorted_input),
                                        bool(canonicalized_coordinates), int(tile_size))
        if not pad_to_max_output_size:
            idx = idx[0, :num_valid]
        else:
            batch_dims = tf.concat([tf.shape(boxes)[:-2], tf.expand_dims(max_output_size, 0)], 0)
            idx = tf.reshape(idx, batch_dims)
        return idx, num_valid


__all__ = ["non_max_suppression_padded"]
