"""Segment reductions, scatter_nd on variables, batch_gather, repeat, searchsorted, unique_with_counts,
setdiff1d, bincount, confusion_matrix: a conformance table against numpy, TF's run-time errors on the
first (op by op) and later (compiled) runs, gradients, and oracle agreement with real TensorFlow."""
import numpy as np
import pytest

import graphcompat as tf
from tests import _op_oracle
from tests._conformance import Case

D = np.arange(12, dtype=np.float32).reshape(4, 3) - 4.0
IDS = np.array([0, 0, 1, 3], np.int32)


def _np_segment(data, ids, n, reduce, empty):
    out = np.full((n,) + data.shape[1:], empty, data.dtype)
    for k in range(n):
        rows = data[ids == k]
        if len(rows):
            out[k] = reduce(rows, axis=0)
    return out


def _np_sparse_segment(data, idx, ids, n, kind):
    rows = data[idx]
    out = _np_segment(rows, ids, n, np.sum, 0)
    counts = np.bincount(ids, minlength=n).astype(data.dtype).reshape((-1,) + (1,) * (data.ndim - 1))
    if kind == "mean":
        out = np.where(counts > 0, out / np.maximum(counts, 1), 0)
    elif kind == "sqrt_n":
        out = np.where(counts > 0, out / np.sqrt(np.maximum(counts, 1)), 0)
    return out.astype(data.dtype)


def _np_unique_counts(x):
    _, first, inv, counts = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return x[np.sort(first)], rank[inv].astype(np.int32), counts[order].astype(np.int32)


# (case, compiles): ops whose output length is a run-time value run op by op (compiles=False)
CASES = [
    (Case("segment_sum", lambda tf, d, i: tf.segment_sum(d, i), lambda d, i: _np_segment(d, i, 4, np.sum, 0),
          [D, IDS], static=False), False),
    (Case("segment_mean", lambda tf, d, i: tf.segment_mean(d, i), lambda d, i: _np_segment(d, i, 4, np.mean, 0),
          [D, IDS], static=False), False),
    (Case("segment_max", lambda tf, d, i: tf.segment_max(d, i), lambda d, i: _np_segment(d, i, 4, np.max, 0),
          [D, IDS], static=False), False),
    (Case("segment_min", lambda tf, d, i: tf.segment_min(d, i), lambda d, i: _np_segment(d, i, 4, np.min, 0),
          [D, IDS], static=False), False),
    (Case("segment_prod", lambda tf, d, i: tf.segment_prod(d, i), lambda d, i: _np_segment(d, i, 4, np.prod, 1),
          [D, IDS], static=False), False),
    (Case("segment_max_int", lambda tf, d, i: tf.segment_max(d, i),
          lambda d, i: _np_segment(d, i, 4, np.max, 0), [D.astype(np.int64), IDS.astype(np.int64)],
          static=False), False),
    (Case("segment_mean_int_truncates", lambda tf, d, i: tf.segment_mean(d, i),
          lambda d, i: np.array([-1, 1], np.int32), [np.array([-3, 0, 1], np.int32), np.array([0, 0, 1], np.int32)],
          static=False), False),
    (Case("unsorted_segment_mean", lambda tf, d, i: tf.unsorted_segment_mean(d, i, 3),
          lambda d, i: np.array([[-1, 0, 1], [0, 0, 0], [2, 3, 4]], np.float32),
          [D, np.array([0, 2, 0, 2], np.int32)]), True),
    (Case("unsorted_segment_sqrt_n", lambda tf, d, i: tf.unsorted_segment_sqrt_n(d, i, 3),
          lambda d, i: (np.array([[-2, 0, 2], [0, 0, 0], [4, 6, 8]]) / np.sqrt(2)).astype(np.float32),
          [D, np.array([0, 2, 0, 2], np.int32)]), True),
    (Case("sparse_segment_sum", lambda tf, d, i: tf.sparse_segment_sum(d, i, [0, 0, 2]),
          lambda d, i: _np_sparse_segment(d, i, np.array([0, 0, 2]), 3, "sum"), [D, np.array([0, 1, 3], np.int32)],
          static=False), False),
    (Case("sparse_segment_mean", lambda tf, d, i: tf.sparse_segment_mean(d, i, [0, 0, 2]),
          lambda d, i: _np_sparse_segment(d, i, np.array([0, 0, 2]), 3, "mean"),
          [D, np.array([0, 1, 3], np.int64)], static=False), False),
    (Case("sparse_segment_sqrt_n", lambda tf, d, i: tf.sparse_segment_sqrt_n(d, i, [0, 0, 2]),
          lambda d, i: _np_sparse_segment(d, i, np.array([0, 0, 2]), 3, "sqrt_n"),
          [D, np.array([0, 1, 3], np.int32)], static=False), False),
    (Case("sparse_segment_sum_n", lambda tf, d, i: tf.sparse_segment_sum(d, i, [0, 0, 2], num_segments=5),
          lambda d, i: _np_sparse_segment(d, i, np.array([0, 0, 2]), 5, "sum"), [D, np.array([3, 1, 3], np.int32)]),
     True),
    (Case("sparse_segment_mean_n", lambda tf, d, i: tf.sparse_segment_mean(d, i, [1, 1, 1], num_segments=2),
          lambda d, i: _np_sparse_segment(d, i, np.array([1, 1, 1]), 2, "mean"), [D, np.array([0, 2, 3], np.int32)]),
     True),
    (Case("sparse_segment_sqrt_n_n", lambda tf, d, i: tf.sparse_segment_sqrt_n(d, i, [0, 1, 1], num_segments=3),
          lambda d, i: _np_sparse_segment(d, i, np.array([0, 1, 1]), 3, "sqrt_n"),
          [D, np.array([0, 2, 3], np.int32)]), True),
    (Case("tensor_scatter_update", lambda tf, t, i: tf.tensor_scatter_update(t, i, [9.0, 8.0]),
          lambda t, i: np.array([0, 9, 0, 8], np.float32), [np.zeros(4, np.float32), np.array([[1], [3]], np.int32)]),
     True),
    (Case("tensor_scatter_add", lambda tf, t, i: tf.tensor_scatter_add(t, i, [9.0, 8.0]),
          lambda t, i: np.array([1, 18, 1, 1], np.float32), [np.ones(4, np.float32), np.array([[1], [1]], np.int32)]),
     True),
    (Case("tensor_scatter_sub", lambda tf, t, i: tf.tensor_scatter_sub(t, i, [9.0, 8.0]),
          lambda t, i: np.array([1, -8, 1, -7], np.float32), [np.ones(4, np.float32), np.array([[1], [3]], np.int32)]),
     True),
    (Case("batch_gather", lambda tf, p, i: tf.batch_gather(p, i),
          lambda p, i: np.take_along_axis(p, i, axis=1),
          [D.reshape(3, 4), np.array([[0, 3], [2, 2], [1, 0]], np.int32)]),
     True),
    (Case("batch_gather_3d", lambda tf, p, i: tf.batch_gather(p, i),
          lambda p, i: np.stack([np.stack([p[a, b][i[a, b]] for b in range(2)]) for a in range(2)]),
          [np.arange(24, dtype=np.float32).reshape(2, 2, 3, 2), np.array([[[2], [0]], [[1], [1]]], np.int64)]), True),
    (Case("repeat_scalar", lambda tf, x: tf.repeat(x, 3, axis=1), lambda x: np.repeat(x, 3, axis=1), [D]), True),
    (Case("repeat_flat", lambda tf, x: tf.repeat(x, 2), lambda x: np.repeat(x, 2), [D]), True),
    (Case("repeat_vector", lambda tf, x: tf.repeat(x, [1, 0, 2, 1], axis=0),
          lambda x: np.repeat(x, [1, 0, 2, 1], axis=0), [D], static=False), False),
    (Case("repeat_vector_axis1", lambda tf, x: tf.repeat(x, [2, 1, 0], axis=1),
          lambda x: np.repeat(x, [2, 1, 0], axis=1), [D], static=False), False),
    (Case("searchsorted_left", lambda tf, s, v: tf.searchsorted(s, v),
          lambda s, v: np.stack([np.searchsorted(a, b) for a, b in zip(s, v)]).astype(np.int32),
          [np.array([[1, 2, 2, 5], [0, 0, 1, 9]], np.float32), np.array([[2, 6, 0], [0, 1, 10]], np.float32)]), True),
    (Case("searchsorted_right64", lambda tf, s, v: tf.searchsorted(s, v, side="right", out_type=tf.int64),
          lambda s, v: np.searchsorted(s, v, side="right").astype(np.int64),
          [np.array([1, 2, 2, 5], np.int32), np.array([2, 6, 0, 5], np.int32)]), True),
    (Case("unique_with_counts", lambda tf, x: list(tf.unique_with_counts(x)), _np_unique_counts,
          [np.array([4, 1, 4, 2, 1, 9], np.int32)], static=False), False),
    (Case("setdiff1d", lambda tf, x: list(tf.setdiff1d(x, [2, 5])),
          lambda x: [np.array([1, 3, 4], np.int32), np.array([0, 2, 3], np.int32)],
          [np.array([1, 2, 3, 4, 5, 2], np.int32)], static=False), False),
    (Case("bincount", lambda tf, x: tf.bincount(x), lambda x: np.bincount(x).astype(np.int32),
          [np.array([1, 2, 2, 5], np.int32)], static=False), False),
    (Case("bincount_weights", lambda tf, x, w: tf.bincount(x, weights=w, minlength=8),
          lambda x, w: np.bincount(x, w, minlength=8).astype(np.float32),
          [np.array([1, 2, 2, 5], np.int32), np.array([1, 2, 3, 4], np.float32)], static=False), False),
    (Case("bincount_maxlength", lambda tf, x: tf.bincount(x, minlength=3, maxlength=3),
          lambda x: np.array([0, 1, 2], np.int32), [np.array([1, 2, 2, 5], np.int32)], static=False), False),
    (Case("confusion_matrix", lambda tf, a, b: tf.confusion_matrix(a, b, num_classes=4),
          lambda a, b: np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]], np.int32),
          [np.array([0, 1, 2], np.int32), np.array([0, 2, 2], np.int32)]), False),  # its Asserts run on the host
]


@pytest.mark.parametrize("case, compiles", CASES, ids=[c.id for c, _ in CASES])
def test_conformance(case, compiles):
    _op_oracle.check_case(case, compiles)


# ------------------------------------------------------------------------------------------------
# Run-time errors: TF's texts, op by op and after the plan compiled
# ------------------------------------------------------------------------------------------------
# (id, builder of (data, fed int vector), good feed, bad feed, TF's message)
RUNTIME_ERRORS = [
    ("segment_not_increasing", lambda d, i: tf.segment_sum(d, i), [0, 1, 1, 3], [0, 2, 1, 3],
     "segment ids are not increasing"),
    ("segment_negative", lambda d, i: tf.segment_mean(d, i), [0, 0, 1, 3], [-1, 0, 1, 3],
     "Segment id -1 out of range [0, 4), possibly because 'segment_ids' input is not sorted."),
    ("segment_length", lambda d, i: tf.segment_max(d, i), [0, 0, 1, 1], [0, 0, 1],
     "segment_ids should be the same size as dimension 0 of input."),
    ("sparse_bad_index", lambda d, i: tf.sparse_segment_sum(d, i, [0, 0, 1]), [0, 3, 3], [0, 7, 3],
     "Bad: indices[1] == 7 out of range [0, 4)"),
    ("sparse_not_increasing", lambda d, i: tf.sparse_segment_mean(d, [0, 1, 3], i), [0, 0, 1], [1, 0, 1],
     "segment ids are not increasing"),
    ("sparse_num_segments", lambda d, i: tf.sparse_segment_sum(d, [0, 1, 3], i, num_segments=4), [0, 0, 3],
     [0, 0, 5], "segment ids must be < num_segments"),
    ("sparse_num_segments_order", lambda d, i: tf.sparse_segment_sqrt_n(d, [0, 1, 3], i, num_segments=4),
     [0, 1, 1], [1, 0, 1], "segment ids are not increasing"),
    ("sparse_num_segments_index", lambda d, i: tf.sparse_segment_sqrt_n(d, i, [0, 0, 1], num_segments=4),
     [0, 1, 3], [0, 1, 4], "Bad: indices[2] == 4 out of range [0, 4)"),
    ("bincount_negative", lambda d, i: tf.bincount(i), [1, 2, 2, 5], [1, -2, 2, 5], "Input arr must be non-negative!"),
]


@pytest.mark.parametrize("name, build, good, bad, message", RUNTIME_ERRORS, ids=[e[0] for e in RUNTIME_ERRORS])
def test_runtime_errors(name, build, good, bad, message):
    ids = tf.placeholder(tf.int32, [None])
    out = build(tf.constant(D), ids)
    bad_ids = bad
    with tf.Session() as sess:
        for run in range(3):  # op by op, compiled (when the op compiles), compiled again
            if run < 2:
                sess.run(out, {ids: good})
            with pytest.raises(tf.errors.InvalidArgumentError) as info:
                sess.run(out, {ids: bad_ids})
            assert info.value.message.splitlines()[0] == message


def test_scatter_nd_variable_updates_and_errors_change_nothing():
    v = tf.Variable(np.arange(8, dtype=np.float32), name="v")
    indices = tf.placeholder(tf.int32, [None, 1])
    add = tf.scatter_nd_add(v, indices, [10.0, 30.0])
    sub = tf.scatter_nd_sub(v, [[0]], [1.0])
    update = tf.scatter_nd_update(v, [[7], [6]], [70.0, 60.0])
    assert (add.op.type, add.op.name, add.dtype.base_dtype) == ("ScatterNdAdd", "ScatterNdAdd", tf.float32)
    assert add.dtype.is_ref_dtype
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(add, {indices: [[1], [1]]})[:3], [0, 41, 2])
        for _ in range(3):
            sess.run(add, {indices: [[1], [2]]})
        for _ in range(3):  # the plan is compiled by now: the failed run must still change nothing
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = \[9\] does not index into "
                                                                     r"shape \[8\]"):
                sess.run(add, {indices: [[1], [9]]})
        sess.run([sub, update])
        np.testing.assert_array_equal(sess.run(v), [-1, 71, 92, 3, 4, 5, 60, 70])


def test_scatter_nd_update_slices_and_shape_error():
    v = tf.Variable(np.zeros((3, 2), np.float32))
    out = tf.scatter_nd_update(v, [[1], [2]], [[1.0, 2.0], [3.0, 4.0]])
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(out), [[0, 0], [1, 2], [3, 4]])
    with pytest.raises(ValueError, match="must match dimensions"):
        tf.scatter_nd_update(v, [[1], [2]], [1.0, 2.0, 3.0])


def test_segment_gradients():
    x = tf.constant(D)
    loss = tf.reduce_sum(tf.segment_max(x, IDS) * 2.0) + tf.reduce_sum(tf.sparse_segment_mean(x, [0, 1, 1], [0, 0, 1]))
    grad, = tf.gradients(loss, [x])
    with tf.Session() as sess:
        g = sess.run(grad)
    want = np.zeros_like(D)
    want[1] += 2.0                     # segment 0 max is row 1
    want[2] += 2.0
    want[3] += 2.0
    want[0] += 0.5
    want[1] += 0.5 + 1.0               # mean of rows [0, 1], then row 1 alone
    np.testing.assert_allclose(g, want)


# ------------------------------------------------------------------------------------------------
# Oracle: real TensorFlow
# ------------------------------------------------------------------------------------------------
def _feed_ids(ids, dtype=np.int32):
    return lambda tf_, g: {g.get_tensor_by_name("ids:0"): np.asarray(ids, dtype)}


ORACLE = [
    ("segments", lambda tf: [tf.segment_sum(D, IDS), tf.segment_mean(D, IDS), tf.segment_max(D, IDS),
                             tf.segment_min(D, IDS), tf.segment_prod(D, IDS),
                             tf.segment_mean([-3, 0, 1, 7], [0, 0, 1, 1])]),
    ("unsorted_mean_sqrt", lambda tf: [tf.unsorted_segment_mean(D, [0, 2, 0, 2], 3),
                                       tf.math.unsorted_segment_sqrt_n(D, [2, 2, 0, 2], 4)]),
    ("sparse_segments", lambda tf: [tf.sparse_segment_sum(D, [0, 1, 3], [0, 0, 2]),
                                    tf.sparse_segment_mean(D, [0, 1, 3, 3], [0, 0, 0, 1]),
                                    tf.sparse_segment_sqrt_n(D, [3, 1, 3], [0, 1, 1], num_segments=4),
                                    tf.sparse_segment_sum(D, [1], [2], num_segments=3)]),
    ("scatter_aliases", lambda tf: [tf.tensor_scatter_update(np.zeros(4, np.float32), [[1]], [1.0]),
                                    tf.tensor_scatter_add(np.ones((2, 2), np.float32), [[1]], [[1.0, 2.0]]),
                                    tf.tensor_scatter_sub(np.ones(4, np.int32), [[3], [3]], [1, 2])]),
    ("batch_gather_repeat", lambda tf: [tf.batch_gather(np.arange(12).reshape(3, 4), [[0, 1], [2, 3], [3, 3]]),
                                        tf.repeat([[1, 2], [3, 4]], [1, 2], axis=0), tf.repeat([[1, 2], [3, 4]], 2),
                                        tf.repeat([[1, 2], [3, 4]], [3, 0], axis=-1)]),
    ("searchsorted", lambda tf: [tf.searchsorted([[1.0, 2.0, 3.0]], [[2.5, 0.0, 3.0]], side="right"),
                                 tf.searchsorted([1, 2, 2, 9], [2, 10, -1])]),
    ("unique_setdiff", lambda tf: [tuple(tf.unique_with_counts([4, 1, 4, 2, 1, 9], out_idx=tf.int64)),
                                   tuple(tf.setdiff1d([1.0, 2.0, 3.0, 4.0, 2.0], [2.0, 7.0]))]),
    ("bincount_confusion", lambda tf: [tf.bincount([1, 2, 2, 5]), tf.bincount([[1, 2], [2, 5]], weights=[[1.0, 2.0],
                                                                                                        [3.0, 4.0]],
                                                                             minlength=8),
                                       tf.bincount([1, 2, 2, 5], maxlength=3),
                                       tf.confusion_matrix([0, 1, 2], [0, 2, 2]),
                                       tf.confusion_matrix([0, 1, 2], [0, 2, 2], num_classes=4, weights=[1.0, 2.0, 3.0],
                                                           dtype=tf.float32)]),
    # remove_squeezable_dimensions: a trailing 1 on the operand of higher rank goes
    ("confusion_squeeze", lambda tf: [tf.confusion_matrix([[0], [1], [2]], [0, 2, 2]),
                                      tf.confusion_matrix([0, 1, 1], [[2], [1], [0]], num_classes=3)]),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name, build", ORACLE, ids=[o[0] for o in ORACLE])
def test_oracle(name, build):
    _op_oracle.compare(build)


ORACLE_ERRORS = [
    ("segment_unsorted", lambda tf: tf.segment_sum(D, [0, 2, 1, 3])),
    ("segment_negative", lambda tf: tf.segment_sum(D, [-1, 0, 1, 3])),
    ("segment_rank", lambda tf: tf.segment_sum(D, [[0, 0], [1, 1]])),
    ("sparse_bad_index", lambda tf: tf.sparse_segment_sum(D, [0, 7, 3], [0, 0, 1])),
    ("sparse_negative_id", lambda tf: tf.sparse_segment_sum(D, [0, 1, 3], [-1, 0, 0])),
    ("sparse_num_segments", lambda tf: tf.sparse_segment_sum(D, [0, 1, 3], [0, 0, 5], num_segments=4)),
    ("sparse_lengths", lambda tf: tf.sparse_segment_sum(D, [0, 1, 3], [0, 0])),
    ("batch_gather_oob", lambda tf: tf.batch_gather(np.arange(12).reshape(3, 4), [[0, 1], [2, 3], [3, 9]])),
    ("searchsorted_leading", lambda tf: tf.searchsorted([[1.0, 2.0, 3.0]], [[2.5, 0.0, 3.0], [1.0, 1.0, 1.0]])),
    ("bincount_negative", lambda tf: tf.bincount([1, -2, 2, 5])),
    ("confusion_negative", lambda tf: tf.confusion_matrix([0, -1, 2], [0, 2, 2])),
    ("confusion_out_of_bound", lambda tf: tf.confusion_matrix([0, 1, 5], [0, 2, 2], num_classes=3)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name, build", ORACLE_ERRORS, ids=[o[0] for o in ORACLE_ERRORS])
def test_oracle_errors(name, build):
    _op_oracle.compare_error(build)


@pytest.mark.oracle
def test_oracle_scatter_nd_variables():
    def build(tf):
        v = tf.Variable(np.arange(8, dtype=np.float32), name="v")
        return [tf.scatter_nd_add(v, [[1], [1]], [10.0, 30.0])]

    def build_bad(tf):
        v = tf.Variable(np.arange(8, dtype=np.float32), name="v")
        return [tf.scatter_nd_update(v, [[1], [9]], [10.0, 30.0])]
    def build_batch(tf):
        v = tf.Variable(np.zeros((2, 3), np.float32), name="v")
        return [tf.batch_scatter_update(v, [[2], [0]], [[5.0], [7.0]])]
    _op_oracle.compare(build, runs=1)
    _op_oracle.compare(build_batch, runs=1)
    _op_oracle.compare_error(build_bad)
