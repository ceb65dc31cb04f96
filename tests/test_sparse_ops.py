"""Sparse tensors: sparse_placeholder feeds and fetches, the tf.sparse ops against numpy and real
TensorFlow (values, dtypes, static shapes), TF's run-time errors on first and compiled runs, gradients."""
import numpy as np
import pytest

import graphcompat as tf
from tests import _op_oracle
from tests._conformance import Case


def st(tf_, indices, values, shape):
    return tf_.SparseTensor(indices, values, shape)


def OK(tf_):  # noqa: N802
    return st(tf_, [[0, 0], [1, 2]], [1.0, 2.0], [2, 3])


def _dense(indices, values, shape):
    out = np.zeros(shape, np.asarray(values).dtype)
    for i, v in zip(indices, values):
        out[tuple(i)] = v
    return out


# ------------------------------------------------------------------------------------------------
# SparseTensor, sparse_placeholder, feeds and fetches
# ------------------------------------------------------------------------------------------------
def test_sparse_placeholder_feed_fetch_and_names():
    sp = tf.sparse_placeholder(tf.float32, shape=[None, 3], name="sp")
    assert [op.name for op in tf.get_default_graph().get_operations()] == \
        ["sp/shape_default", "sp/shape", "sp/values", "sp/indices"]
    assert sp.shape.as_list() == [None, 3] and sp.indices.shape.as_list() == [None, 2]
    free = tf.sparse_placeholder(tf.int32)
    assert free.shape.ndims is None and free.indices.name == "Placeholder_2:0"
    dense = tf.sparse.to_dense(sp)
    value = tf.SparseTensorValue(np.array([[0, 0], [1, 2]]), np.array([1.0, 2.0], np.float32), np.array([2, 3]))
    with tf.Session() as sess:
        for feed in (value, ([[0, 0], [1, 2]], [1.0, 2.0], [2, 3])):
            got_sp, got = sess.run([sp, dense], {sp: feed})
            assert isinstance(got_sp, tf.SparseTensorValue)
            np.testing.assert_array_equal(got_sp.indices, [[0, 0], [1, 2]])
            np.testing.assert_array_equal(got, [[1, 0, 0], [0, 0, 2]])
        # a dense_shape given at build time is a default (its unknown dims -1) that is fed when unknown
        assert sess.run(sp.dense_shape).tolist() == [-1, 3]
        assert sess.run(dense, {sp.indices: [[3, 1]], sp.values: [5.0], sp.dense_shape: [4, 3]}).shape == (4, 3)


def test_sparse_tensor_static_checks_and_eval():
    with pytest.raises(ValueError, match="Shape \\(2,\\) must have rank 2"):
        tf.SparseTensor([0, 1], [1.0, 2.0], [2, 3])
    with pytest.raises(ValueError, match="are not compatible"):
        tf.SparseTensor([[0, 0], [1, 2]], [1.0, 2.0, 3.0], [2, 3])
    sp = OK(tf)
    assert sp.shape.as_list() == [2, 3] and sp.dtype == tf.float32 and sp.op is sp.values.op
    with tf.Session():
        value = sp.eval()
    np.testing.assert_array_equal(value.dense_shape, [2, 3])
    with pytest.raises(TypeError, match="Input must be a SparseTensor"):
        tf.sparse.reorder(np.zeros(3))


# ------------------------------------------------------------------------------------------------
# Conformance table (ops that compile, and host ops)
# ------------------------------------------------------------------------------------------------
IND = np.array([[0, 0], [1, 2], [2, 1]], np.int64)
VAL = np.array([1.0, -2.0, 3.0], np.float32)
SHAPE = [3, 4]


def _sp(i, v):
    return tf.SparseTensor(i, v, SHAPE)


def _softmax_ref(i, v):
    out = v.copy()
    for r in np.unique(i[:, 0]):
        m = i[:, 0] == r
        e = np.exp(v[m] - v[m].max())
        out[m] = e / e.sum()
    return out


CASES = [
    (Case("to_dense", lambda tf, i, v: tf.sparse.to_dense(_sp(i, v)), lambda i, v: _dense(i, v, SHAPE), [IND, VAL]),
     True),
    (Case("to_dense_default", lambda tf, i, v: tf.sparse_tensor_to_dense(_sp(i, v), default_value=-1.0),
          lambda i, v: np.where(_dense(i, v, SHAPE) == 0, -1, _dense(i, v, SHAPE)).astype(np.float32), [IND, VAL]),
     True),
    (Case("sparse_to_dense", lambda tf, i, v: tf.sparse_to_dense(i, [5], v, default_value=7.0),
          lambda i, v: np.array([7, 1, 7, -2, 7], np.float32), [np.array([1, 3], np.int32), VAL[:2]]), True),
    (Case("dense_matmul", lambda tf, i, v: tf.sparse_tensor_dense_matmul(_sp(i, v), np.arange(8.0, dtype=np.float32)
                                                                          .reshape(4, 2)),
          lambda i, v: _dense(i, v, SHAPE) @ np.arange(8.0, dtype=np.float32).reshape(4, 2), [IND, VAL]), True),
    (Case("dense_matmul_adjoint", lambda tf, i, v: tf.sparse.matmul(_sp(i, v), np.ones((2, 3), np.float32),
                                                                     adjoint_a=True, adjoint_b=True),
          lambda i, v: _dense(i, v, SHAPE).T @ np.ones((3, 2), np.float32), [IND, VAL]), True),
    (Case("reduce_sum", lambda tf, i, v: tf.sparse_reduce_sum(_sp(i, v), axis=1),
          lambda i, v: _dense(i, v, SHAPE).sum(1), [IND, VAL]), True),
    (Case("reduce_sum_all_keep", lambda tf, i, v: tf.sparse.reduce_sum(_sp(i, v), keepdims=True),
          lambda i, v: _dense(i, v, SHAPE).sum(keepdims=True), [IND, VAL]), True),
    (Case("reduce_max", lambda tf, i, v: tf.sparse_reduce_max(_sp(i, v), axis=0),
          lambda i, v: np.array([1, 3, -2, 0], np.float32), [IND, VAL]), True),
    (Case("softmax", lambda tf, i, v: tf.sparse.softmax(_sp(i, v)).values, _softmax_ref,
          [np.array([[0, 0], [0, 3], [2, 1]], np.int64), VAL]), True),
    (Case("reorder", lambda tf, i, v: [tf.sparse.reorder(_sp(i, v)).indices, tf.sparse.reorder(_sp(i, v)).values],
          lambda i, v: [i[[2, 0, 1]], v[[2, 0, 1]]], [np.array([[1, 2], [2, 1], [0, 3]], np.int64), VAL]), True),
    (Case("concat", lambda tf, i, v: tf.sparse.concat(1, [_sp(i, v), _sp(i, v)]).indices,
          lambda i, v: np.array([[0, 0], [0, 4], [1, 2], [1, 6], [2, 1], [2, 5]]), [IND, VAL], static=False), True),
    (Case("reshape", lambda tf, i, v: tf.sparse.reshape(_sp(i, v), [2, -1]).indices,
          lambda i, v: np.array([[0, 0], [1, 0], [1, 3]]), [IND, VAL]), True),
    (Case("dense_add", lambda tf, i, v: tf.sparse.add(_sp(i, v), np.ones(SHAPE, np.float32)),
          lambda i, v: _dense(i, v, SHAPE) + 1, [IND, VAL]), True),
    (Case("transpose", lambda tf, i, v: tf.sparse.to_dense(tf.sparse.transpose(_sp(i, v))),
          lambda i, v: _dense(i, v, SHAPE).T, [IND, VAL]), True),
    (Case("add_sparse", lambda tf, i, v: tf.sparse.to_dense(tf.sparse.add(_sp(i, v), _sp(i[:1], v[:1] * 3))),
          lambda i, v: _dense(i, v, SHAPE) + _dense(i[:1], v[:1] * 3, SHAPE), [IND, VAL], static=False), False),
    (Case("maximum", lambda tf, i, v: tf.sparse.to_dense(tf.sparse.maximum(_sp(i, v), _sp(i[1:], -v[1:]))),
          lambda i, v: np.maximum(_dense(i, v, SHAPE), _dense(i[1:], -v[1:], SHAPE)), [IND, VAL], static=False),
     False),
    (Case("fill_empty_rows", lambda tf, i, v: tf.sparse.to_dense(tf.sparse.fill_empty_rows(
        tf.SparseTensor(i, v, [4, 4]), 9.0)[0]),
        lambda i, v: _dense(np.r_[i, [[3, 0]]], np.r_[v, 9.0].astype(np.float32), [4, 4]), [IND, VAL],
        static=False), False),
    (Case("slice", lambda tf, i, v: tf.sparse.to_dense(tf.sparse.slice(_sp(i, v), [1, 1], [2, 2])),
          lambda i, v: _dense(i, v, SHAPE)[1:3, 1:3], [IND, VAL], static=False), False),
    (Case("split", lambda tf, i, v: [tf.sparse.to_dense(s) for s in tf.sparse.split(sp_input=_sp(i, v), num_split=3,
                                                                                     axis=1)],
          lambda i, v: [_dense(i, v, SHAPE)[:, :2], _dense(i, v, SHAPE)[:, 2:3], _dense(i, v, SHAPE)[:, 3:]],
          [IND, VAL], static=False), False),
    (Case("reduce_sum_sparse", lambda tf, i, v: tf.sparse.to_dense(tf.sparse.reduce_sum_sparse(_sp(i, v), axis=0)),
          lambda i, v: _dense(i, v, SHAPE).sum(0), [IND, VAL], static=False), False),
    (Case("retain", lambda tf, i, v: tf.sparse.to_dense(tf.sparse.retain(_sp(i, v), [True, False, True])),
          lambda i, v: _dense(i[[0, 2]], v[[0, 2]], SHAPE), [IND, VAL], static=False), False),
]


@pytest.mark.parametrize("case, compiles", CASES, ids=[c.id for c, _ in CASES])
def test_conformance(case, compiles):
    _op_oracle.check_case(case, compiles)


# ------------------------------------------------------------------------------------------------
# Run-time errors, op by op and compiled
# ------------------------------------------------------------------------------------------------
UNORDERED = "indices[1] = [0,2] is out of order. Many sparse ops require sorted indices."
RUNTIME_ERRORS = [
    ("to_dense_order", lambda sp: tf.sparse.to_dense(sp), [[1, 0], [0, 2]], UNORDERED),
    ("to_dense_bounds", lambda sp: tf.sparse.to_dense(sp), [[0, 0], [2, 2]],
     "indices[1] = [2,2] is out of bounds: need 0 <= index < [2,3]"),
    ("to_dense_repeated", lambda sp: tf.sparse.to_dense(sp), [[0, 0], [0, 0]], "indices[1] = [0,0] is repeated"),
    ("matmul_m", lambda sp: tf.sparse.matmul(sp, np.ones((3, 2), np.float32)), [[0, 0], [2, 2]],
     "m (2) from index[1,0] out of bounds (>=2)"),
    ("matmul_k", lambda sp: tf.sparse.matmul(sp, np.ones((3, 2), np.float32)), [[0, 0], [1, -2]],
     "k (-2) from index[1,1] out of bounds (>=3)"),
    ("dense_add_bounds", lambda sp: tf.sparse.add(sp, np.ones((2, 3), np.float32)), [[0, 0], [2, 2]],
     "Sparse tensor has an invalid index on dimension 0: a_indices(1,0) = 2, dense tensor shape: 2 3"),
    ("reduce_sum_write", lambda sp: tf.sparse.reduce_sum(sp, axis=1), [[0, 0], [2, 2]],
     "Obtained a write index of 2 which is outside of bounds of [0, 2)"),
    ("fill_rows", lambda sp: tf.sparse.fill_empty_rows(sp, 0.0)[0].indices, [[0, 0], [5, 2]],
     "indices(1, 0) is invalid: 5 >= 2"),
    ("maximum_bounds", lambda sp: tf.sparse.maximum(sp, sp).values, [[0, 0], [2, 2]],
     "Sparse index tuple indices[1, :] = [2, 2] is out of bounds"),
]


@pytest.mark.parametrize("name, build, bad, message", RUNTIME_ERRORS, ids=[e[0] for e in RUNTIME_ERRORS])
def test_runtime_errors(name, build, bad, message):
    indices = tf.placeholder(tf.int64, [2, 2])
    out = build(tf.SparseTensor(indices, [1.0, 2.0], [2, 3]))
    cls = tf.errors.InternalError if name == "reduce_sum_write" else tf.errors.InvalidArgumentError
    with tf.Session() as sess:
        for run in range(3):  # op by op, compiled (ops that compile), compiled again
            if run < 2:
                sess.run(out, {indices: [[0, 0], [1, 2]]})
            with pytest.raises(cls) as info:
                sess.run(out, {indices: bad})
            assert info.value.message.splitlines()[0] == message.splitlines()[0]


def test_gradients_through_sparse_values_and_dense_operand():
    values = tf.constant([1.0, -2.0, 3.0])
    w = tf.constant(np.arange(8.0, dtype=np.float32).reshape(4, 2))
    sp = tf.SparseTensor(IND, values, SHAPE)
    loss = (tf.reduce_sum(tf.sparse.matmul(sp, w) ** 2) + tf.reduce_sum(tf.sparse.to_dense(sp) * 3.0)
            + tf.reduce_sum(tf.sparse.reduce_sum(sp, axis=0)))
    gv, gw = tf.gradients(loss, [values, w])
    with tf.Session() as sess:
        gv, gw = sess.run([gv, gw])
    dense = _dense(IND, [1.0, -2.0, 3.0], SHAPE)
    w_np = np.arange(8.0).reshape(4, 2)
    dy = 2 * dense @ w_np
    np.testing.assert_allclose(gw, dense.T @ dy, rtol=1e-6)
    want_v = [(dy[r] * w_np[c]).sum() + 3.0 + 1.0 for r, c in IND]
    np.testing.assert_allclose(gv, want_v, rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# Oracle
# ------------------------------------------------------------------------------------------------
U = ([[1, 0], [0, 2]], [1.0, 2.0], [2, 3])
ORACLE = [
    ("to_dense", lambda tf: [tf.sparse_tensor_to_dense(OK(tf)), tf.sparse_to_dense([1, 3], [5], 7.0, -1.0),
                             tf.sparse_to_dense(3, [5], 7.0), tf.sparse_to_dense([[0, 0], [1, 2]], [2, 3], 5),
                             tf.sparse.to_dense(st(tf, *U), validate_indices=False)]),
    ("matmul", lambda tf: [tf.sparse_tensor_dense_matmul(OK(tf), np.arange(6, dtype=np.float32).reshape(3, 2)),
                           tf.sparse.matmul(OK(tf), np.ones((2, 2), np.float32), adjoint_a=True),
                           tf.sparse.sparse_dense_matmul(OK(tf), np.arange(6, dtype=np.float32).reshape(2, 3),
                                                         adjoint_b=True),
                           tf.sparse_tensor_dense_matmul(np.ones((4, 2), np.float32), OK(tf)),
                           tf.sparse_tensor_dense_matmul(st(tf, *U), np.ones((3, 2), np.float32))]),
    ("reductions", lambda tf: [tf.sparse_reduce_sum(OK(tf), axis=1), tf.sparse_reduce_sum(OK(tf)),
                               tf.sparse_reduce_sum(OK(tf), axis=-1, keepdims=True),
                               tf.sparse_reduce_max(st(tf, [[0, 0], [1, 2]], [-1.0, -2.0], [2, 3]), axis=1),
                               tf.sparse_reduce_max(st(tf, [[0, 0]], [-1], [2, 3]), axis=1),
                               tf.sparse_reduce_sum_sparse(st(tf, [[1, 0], [0, 2], [0, 1]], [1.0, 2.0, 3.0], [2, 3]),
                                                           axis=0),
                               tf.sparse_reduce_sum_sparse(st(tf, [[1, 0], [0, 2], [0, 1]], [1.0, 2.0, 3.0], [2, 3]),
                                                           axis=0, keepdims=True),
                               tf.sparse_reduce_max_sparse(st(tf, [[0, 0], [1, 2]], [-1.0, -2.0], [2, 3]), axis=0)]),
    ("concat", lambda tf: [tf.sparse_concat(1, [OK(tf), st(tf, [[0, 1], [1, 0]], [3.0, 4.0], [2, 2])]),
                           tf.sparse_concat(0, [st(tf, *U), OK(tf)]),
                           tf.sparse_concat(1, [OK(tf), st(tf, [[0, 1], [1, 0]], [3.0, 4.0], [3, 2])],
                                            expand_nonconcat_dim=True)]),
    ("softmax", lambda tf: [tf.sparse_softmax(st(tf, [[0, 0], [0, 2], [1, 1]], [1.0, 2.0, 3.0], [2, 3])),
                            tf.sparse_softmax(st(tf, [[1, 0], [0, 2], [0, 0]], [1.0, 2.0, 3.0], [2, 3])),
                            tf.sparse_softmax(st(tf, [[0, 0, 0], [0, 0, 2], [0, 1, 0], [1, 0, 1]],
                                                 [1.0, 2.0, 3.0, 4.0], [2, 2, 3]))]),
    ("retain_reshape", lambda tf: [tf.sparse_retain(OK(tf), [True, False]), tf.sparse_reshape(OK(tf), [3, -1]),
                                   tf.sparse_reshape(st(tf, [[0, 0, 1], [1, 2, 0]], [1, 2], [2, 3, 2]), [-1, 4])]),
    ("add", lambda tf: [tf.sparse_add(OK(tf), st(tf, [[0, 0], [0, 1]], [-1.0, 5.0], [2, 3])),
                        tf.sparse_add(OK(tf), st(tf, [[0, 0], [0, 1]], [-0.5, 5.0], [2, 3]), threshold=0.6),
                        tf.sparse_add(st(tf, *U), OK(tf)), tf.sparse_add(OK(tf), np.ones((2, 3), np.float32)),
                        tf.sparse.add(np.ones((2, 3), np.float32), OK(tf))]),
    ("transpose_reorder", lambda tf: [tf.sparse_transpose(st(tf, [[0, 1], [0, 2], [1, 0]], [1.0, 2.0, 3.0], [2, 3])),
                                      tf.sparse.transpose(st(tf, [[0, 1, 2], [1, 0, 0]], [1, 2], [2, 2, 3]),
                                                          [0, 2, 1]),
                                      tf.sparse_reorder(st(tf, [[1, 0], [0, 2], [0, 1]], [1.0, 2.0, 3.0], [2, 3])),
                                      tf.sparse_reorder(st(tf, [[1, 0], [0, 2], [1, 0]], [1.0, 2.0, 3.0], [2, 3]))]),
    ("fill_empty_rows", lambda tf: [tf.sparse_fill_empty_rows(st(tf, [[0, 1], [2, 0]], [1.0, 2.0], [4, 3]), -1.0),
                                    tf.sparse_fill_empty_rows(st(tf, [[2, 1], [0, 0], [2, 0]], [1.0, 2.0, 3.0],
                                                                 [4, 3]), 0.0),
                                    tf.sparse_fill_empty_rows(st(tf, [[1], [3]], [1, 2], [5]), 7),
                                    tf.sparse_fill_empty_rows(st(tf, np.zeros((0, 2), np.int64),
                                                                 np.zeros([0], np.float32), [2, 3]), 9.0)]),
    ("slice_split", lambda tf: [tf.sparse_slice(st(tf, [[0, 1], [1, 2], [2, 0]], [1.0, 2.0, 3.0], [3, 4]), [1, 1],
                                                [5, 5]),
                                tf.sparse_slice(st(tf, *U), [0, 0], [2, 3]),
                                tf.sparse_split(sp_input=st(tf, [[0, 0], [0, 2], [1, 1], [1, 4]], [1.0, 2.0, 3.0, 4.0],
                                                            [2, 5]), num_split=2, axis=1),
                                tf.sparse.split(sp_input=st(tf, *U), num_split=3, axis=-1)]),
    ("maximum_minimum", lambda tf: [tf.sparse_maximum(OK(tf), st(tf, [[0, 0], [0, 1]], [-1.0, 5.0], [2, 3])),
                                    tf.sparse_minimum(OK(tf), st(tf, [[0, 0], [0, 1]], [-1.0, 5.0], [2, 3])),
                                    tf.sparse_maximum(st(tf, *U), OK(tf))]),
    ("helpers", lambda tf: [tf.sparse.from_dense([[0, 1], [2, 0]]),
                            tf.sparse.to_indicator(st(tf, [[0, 0], [1, 2]], [1, 3], [2, 3]), 4),
                            tf.sparse.eye(2, 3), tf.sparse.expand_dims(OK(tf), -1), tf.sparse.expand_dims(OK(tf), 0),
                            tf.sparse_reset_shape(OK(tf), [3, 4]),
                            tf.sparse_merge(st(tf, [[0, 0], [1, 2]], [1, 2], [2, 3]),
                                            st(tf, [[0, 0], [1, 2]], [1.0, 2.0], [2, 3]), 4),
                            tf.sparse_matmul(np.ones((2, 3), np.float32), np.ones((1, 3), np.float32),
                                             transpose_b=True)]),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name, build", ORACLE, ids=[o[0] for o in ORACLE])
def test_oracle(name, build):
    _op_oracle.compare(build)


ORACLE_ERRORS = [
    ("to_dense_unordered", lambda tf: tf.sparse_tensor_to_dense(st(tf, *U))),
    ("to_dense_oob", lambda tf: tf.sparse_tensor_to_dense(st(tf, [[0, 0], [2, 2]], [1.0, 2.0], [2, 3]))),
    ("to_dense_negative", lambda tf: tf.sparse_tensor_to_dense(st(tf, [[0, -1]], [1.0], [2, 3]))),
    ("to_dense_repeated", lambda tf: tf.sparse_tensor_to_dense(st(tf, [[0, 0], [0, 0]], [1.0, 2.0], [2, 3]))),
    ("sparse_to_dense_values", lambda tf: tf.sparse_to_dense([[0, 0], [1, 2]], [2, 3], [1.0, 2.0, 3.0])),
    ("matmul_static_inner", lambda tf: tf.sparse_tensor_dense_matmul(OK(tf), np.ones((4, 2), np.float32))),
    ("matmul_rows", lambda tf: tf.sparse_tensor_dense_matmul(st(tf, [[0, 0], [4, 2]], [1.0, 2.0], [2, 3]),
                                                            np.ones((3, 2), np.float32))),
    ("matmul_adjoint_k", lambda tf: tf.sparse_tensor_dense_matmul(st(tf, [[0, 0], [2, 2]], [1.0, 2.0], [2, 3]),
                                                                 np.ones((2, 2), np.float32), adjoint_a=True)),
    ("reduce_axis", lambda tf: tf.sparse_reduce_sum(OK(tf), axis=2)),
    ("reduce_negative_axis", lambda tf: tf.sparse_reduce_sum(OK(tf), axis=-3)),
    ("concat_shapes", lambda tf: tf.sparse_concat(1, [OK(tf), st(tf, [[0, 1]], [3.0], [3, 2])])),
    ("softmax_rank", lambda tf: tf.sparse_softmax(st(tf, [[0], [2]], [1.0, 2.0], [3]))),
    ("reshape_static", lambda tf: tf.sparse_reshape(OK(tf), [4, -1])),
    ("reshape_two_unknown", lambda tf: tf.sparse_reshape(OK(tf), [-1, -1])),
    ("reshape_fed_size", lambda tf: tf.sparse_reshape(OK(tf), tf.placeholder_with_default(
        np.array([4, 2], np.int64), [2]))),
    ("reshape_fed_multiple", lambda tf: tf.sparse_reshape(OK(tf), tf.placeholder_with_default(
        np.array([4, -1], np.int64), [2]))),
    ("reshape_fed_two_unknown", lambda tf: tf.sparse_reshape(OK(tf), tf.placeholder_with_default(
        np.array([-1, -1], np.int64), [2]))),
    ("dense_add_shape", lambda tf: tf.sparse_add(OK(tf), np.ones((2, 4), np.float32))),
    ("dense_add_rank", lambda tf: tf.sparse_add(OK(tf), np.ones((2, 3, 1), np.float32))),
    ("fill_negative_row", lambda tf: tf.sparse_fill_empty_rows(st(tf, [[0, 1], [-1, 0]], [1.0, 2.0], [4, 3]), -1.0)),
    ("slice_start", lambda tf: tf.sparse_slice(OK(tf), [1], [5, 5])),
    ("maximum_shapes", lambda tf: tf.sparse_maximum(OK(tf), st(tf, [[0, 0]], [1.0], [2, 4]))),
    ("split_num", lambda tf: tf.sparse_split(sp_input=OK(tf), num_split=4, axis=1)),
    ("split_axis", lambda tf: tf.sparse_split(sp_input=OK(tf), num_split=2, axis=2)),
    ("split_bounds", lambda tf: tf.sparse_split(sp_input=st(tf, [[0, 0], [1, -2]], [1.0, 2.0], [2, 3]), num_split=3,
                                                axis=1)),
    ("reset_shape_small", lambda tf: tf.sparse_reset_shape(OK(tf), [1, 4])),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name, build", ORACLE_ERRORS, ids=[o[0] for o in ORACLE_ERRORS])
def test_oracle_errors(name, build):
    _op_oracle.compare_error(build)


@pytest.mark.oracle
def test_oracle_gradients():
    def build(tf):
        values = tf.constant([1.0, -2.0, 3.0])
        w = tf.constant(np.arange(8.0, dtype=np.float32).reshape(4, 2))
        sp = tf.SparseTensor(IND, values, SHAPE)
        loss = (tf.reduce_sum(tf.sparse.matmul(sp, w) ** 2) + tf.reduce_sum(tf.sparse.to_dense(sp) * 3.0)
                + tf.reduce_sum(tf.sparse.reduce_sum(sp, axis=0) ** 2)
                + tf.reduce_sum(tf.sparse.softmax(sp).values * [1.0, 2.0, 3.0]))
        return tf.gradients(loss, [values, w])
    _op_oracle.compare(build, tol=1e-4)


@pytest.mark.oracle
def test_oracle_sparse_add_gradients():
    """tf.sparse.add's values gradient (TF's SparseAddGrad): the re-traced forward keeps the indices' layout
    (TF's default threshold keeps every sum) and gathers the values, overlapping or not, an empty operand too."""
    def build(tf):
        a_values, b_values = tf.constant([1.0, 2.0]), tf.constant([3.0, -4.0])
        a = tf.SparseTensor([[0, 0], [1, 2]], a_values, [3, 4])
        b = tf.SparseTensor([[0, 0], [2, 1]], b_values, [3, 4])
        empty = tf.SparseTensor(np.zeros((0, 2), np.int64), tf.constant([], tf.float32), [3, 4])
        c, d = tf.sparse.add(a, b), tf.sparse.add(a, empty)
        loss = tf.reduce_sum(c.values * c.values) + tf.reduce_sum(tf.sin(d.values))
        return tf.gradients(loss, [a_values, b_values]) + [c.values]
    _op_oracle.compare(build)
