"""Bad run-time input, a differential sweep against TF (tests/_bad_input_sweep.py): every snippet runs three
times (op by op, then compiled) and inside an Adam training step (compiled from its first run, padded feeds),
and must raise TF's error class and kernel text with every variable unchanged, or give TF's values."""
import numpy as np
import pytest

from tests import _bad_input_sweep as sweep
from tests import oracle

pytestmark = pytest.mark.oracle

F32, I32, I64 = np.float32, np.int32, np.int64
P3 = np.arange(12, dtype=F32).reshape(3, 4)          # a [3, 4] parameter matrix
V5 = np.array([1.0, 2.0, 3.0, 4.0, 5.0], F32)
IMG = np.arange(2 * 5 * 5 * 3, dtype=F32).reshape(2, 5, 5, 3) / 10.0
SPD = np.array([[4.0, 1.0], [1.0, 3.0]], F32)
SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]], F32)
NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]], F32)


def _var(tf, value, name="v"):
    return tf.Variable(np.asarray(value), name=name)


def _tf1_arrays(build):
    """graphcompat records TF 1's TensorArrayV3 ops; so does TF with control flow v1 (its default here, v2,
    records TensorLists, whose kernels word their errors differently)."""
    def wrapped(tf, f):
        if tf.__name__ == "graphcompat":
            return build(tf, f)
        with oracle.control_flow_v2(False):
            return build(tf, f)
    return wrapped


def _ta_read(tf, f):
    ta = tf.TensorArray(tf.float32, size=3).unstack(tf.constant(P3))
    return ta.read(f(np.int32(5)))


def _ta_gather(tf, f):
    ta = tf.TensorArray(tf.float32, size=3).unstack(tf.constant(P3))
    return ta.gather(f(np.array([0, 3], I32)))


def _ta_write_twice(tf, f):
    ta = tf.TensorArray(tf.float32, size=3).write(0, tf.constant(1.0))
    return ta.write(f(np.int32(0)), tf.constant(2.0)).stack()


def _ta_scatter_twice(tf, f):
    return tf.TensorArray(tf.float32, size=3).scatter(f(np.array([2, 1, 2], I32)), tf.constant(V5[:3])).stack()


def _ta_unstack_then_write(tf, f):
    ta = tf.TensorArray(tf.float32, size=3).unstack(tf.constant(V5[:3]))
    return ta.write(f(np.int32(1)), tf.constant(2.0)).stack()


def _ta_loop_write_twice(tf, f):
    """A loop whose every iteration writes the fed index: its second iteration fails (a compiled loop's
    check)."""
    index = f(np.int32(0))
    _, ta = tf.while_loop(lambda i, ta: i < 3, lambda i, ta: (i + 1, ta.write(index, tf.cast(i, tf.float32))),
                          [0, tf.TensorArray(tf.float32, size=3)])
    return ta.stack()


def _ta_grad_loop_write_twice(tf, f, fetch_loss=False):
    """The gradient of a loop that writes an index twice: graphcompat's gradient re-traces the loop (which
    with only the gradient fetched is the only run of its writes)."""
    w = tf.Variable(np.float32(0.5), name="ta_w")
    index = f(np.array([0, 1, 1], I32))

    def body(i, h, ta):
        h = tf.tanh(h * w + 1.0)
        return i + 1, h, ta.write(index[i], h)
    _, _, ta = tf.while_loop(lambda i, h, ta: i < 3, body, [0, tf.constant(0.0), tf.TensorArray(tf.float32, 3)])
    loss = tf.reduce_sum(ta.stack())
    return tf.gradients(loss, w) + ([loss] if fetch_loss else [])


def _ta_write_past(tf, f):
    ta = tf.TensorArray(tf.float32, size=3)
    return ta.write(f(np.int32(4)), tf.constant(2.0)).read(0)


def _ta_unstack_size(tf, f):
    ta = tf.TensorArray(tf.float32, size=2)
    return ta.unstack(f(P3, shape="open")).read(0)


def _ta_split_lengths(tf, f):
    ta = tf.TensorArray(tf.float32, size=2)
    return ta.split(tf.constant(V5), f(np.array([2, 2], I64))).read(0)


def _ta_read_twice(tf, f, clear_after_read=True):
    """TF's arrays clear an element when it is read (clear_after_read, the default): a second read fails."""
    ta = tf.TensorArray(tf.float32, size=3, clear_after_read=clear_after_read).unstack(tf.constant(V5[:3]))
    first = ta.read(f(np.int32(1)))
    with tf.control_dependencies([first]):
        return [first, ta.read(1)]


def _ta_write_after_read(tf, f, clear_after_read=True):
    """Writing an element that was read fails, whatever clear_after_read."""
    ta = tf.TensorArray(tf.float32, size=3, clear_after_read=clear_after_read).write(0, tf.constant(1.0))
    return ta.write(f(np.int32(0)), ta.read(0) + 1.0).read(0)


def _ta_gather_repeated(tf, f):
    ta = tf.TensorArray(tf.float32, size=3).unstack(tf.constant(P3))
    return ta.gather(f(np.array([0, 2, 0], I32)))


def _ta_concat_after_read(tf, f):
    """Concat (and stack) read every element in order: the element a read cleared fails."""
    ta = tf.TensorArray(tf.float32, size=3).unstack(tf.constant(P3))
    first = ta.read(f(np.int32(1)))
    with tf.control_dependencies([first]):
        return [first, ta.concat()]


def _ta_stack_after_read(tf, f):
    """stack() of an array sized by a fed batch (a padded training step's stack repeats the last element in
    its padded slots, which are no reads): the element a read cleared fails."""
    x = f(P3, shape="open")
    ta = tf.TensorArray(tf.float32, size=tf.shape(x)[0]).unstack(x)
    first = ta.read(2)
    with tf.control_dependencies([first]):
        return [first, ta.stack()]


def _ta_loop_read_twice(tf, f):
    """A loop whose every iteration reads the fed index: its second iteration fails (a compiled loop's
    check)."""
    index = f(np.int32(0))
    ta = tf.TensorArray(tf.float32, size=3).unstack(tf.constant(V5[:3]))
    _, total = tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s + ta.read(index)), [0, tf.constant(0.0)])
    return total


def _ta_grad_loop_read_twice(tf, f, fetch_loss=False, indices=(0, 1, 1)):
    """The gradient of a loop that reads an index twice: graphcompat's gradient re-traces the loop (which
    with only the gradient fetched is the only run of its reads; with the loss fetched, the re-trace's
    reads are the second reads of elements the step read, which must not fail)."""
    w = tf.Variable(V5[:3], name="ta_w")
    index = f(np.array(indices, I32))
    ta = tf.TensorArray(tf.float32, size=3).unstack(w * 2.0)
    _, h = tf.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tf.tanh(h + ta.read(index[i]))),
                         [0, tf.constant(0.0)])
    return tf.gradients(h, w) + ([h] if fetch_loss else [])


def _dataset(tf, ds):
    return tf.data.make_one_shot_iterator(ds).get_next()


def _sparse(tf, f, indices, values, shape):
    return tf.SparseTensor(f(np.array(indices, I64)), f(np.array(values, F32)), f(np.array(shape, I64)))


CASES = [
    # --- gather family: out-of-range indices (TF's CPU kernels reject them) ---
    ("gather_high", lambda tf, f: tf.gather(tf.constant(P3), f(np.array([0, 3], I32)))),
    ("gather_negative", lambda tf, f: tf.gather(tf.constant(P3), f(np.array([-1, 0], I32)))),
    ("gather_int64", lambda tf, f: tf.gather(tf.constant(P3), f(np.array([1, 7], I64)))),
    ("gather_axis1", lambda tf, f: tf.gather(tf.constant(P3), f(np.array([[0, 4]], I32)), axis=1)),
    ("gather_fed_axis", lambda tf, f: tf.gather(tf.constant(P3), tf.constant([0, 1]), axis=f(np.int32(2)))),
    ("gather_batch_dims", lambda tf, f: tf.gather(tf.constant(P3), f(np.array([[0], [1], [4]], I32)),
                                                  batch_dims=1)),
    ("gather_fed_params", lambda tf, f: tf.gather(f(P3), tf.constant([2, 3]))),
    ("gather_nd_high", lambda tf, f: tf.gather_nd(tf.constant(P3), f(np.array([[0, 1], [3, 0]], I32)))),
    ("gather_nd_inner", lambda tf, f: tf.gather_nd(tf.constant(P3), f(np.array([[0, 4]], I32)))),
    ("gather_nd_negative", lambda tf, f: tf.gather_nd(tf.constant(P3), f(np.array([[-1]], I32)))),
    ("gather_nd_depth", lambda tf, f: tf.gather_nd(tf.constant(P3), f(np.array([[0, 1, 2]], I32), shape="open"))),
    ("resource_gather", lambda tf, f: tf.gather(tf.get_variable("r", initializer=P3, use_resource=True),
                                                f(np.array([5], I32)))),
    ("ref_gather", lambda tf, f: tf.gather(tf.Variable(P3, use_resource=False), f(np.array([5], I32)))),
    ("embedding_lookup", lambda tf, f: tf.nn.embedding_lookup(tf.constant(P3), f(np.array([1, 9], I64)))),
    ("embedding_lookup_var", lambda tf, f: tf.nn.embedding_lookup(tf.get_variable("e", initializer=P3),
                                                                  f(np.array([-2], I32)))),
    ("embedding_lookup_mod", lambda tf, f: tf.nn.embedding_lookup(
        [tf.constant(P3[:2]), tf.constant(P3[2:])], f(np.array([0, 7], I64)), partition_strategy="mod")),
    ("embedding_lookup_sparse", lambda tf, f: tf.nn.embedding_lookup_sparse(
        tf.constant(P3), tf.SparseTensor([[0, 0], [1, 0]], f(np.array([1, 6], I64)), [2, 1]), None)),
    ("one_hot_out_of_range", lambda tf, f: tf.one_hot(f(np.array([0, 3, -1, 7], I32)), 3)),
    ("batch_gather", lambda tf, f: tf.batch_gather(tf.constant(P3), f(np.array([[0], [1], [4]], I32)))),

    # --- scatter family ---
    ("scatter_nd_high", lambda tf, f: tf.scatter_nd(f(np.array([[1], [5]], I32)), tf.constant([1.0, 2.0]), [4])),
    ("scatter_nd_negative", lambda tf, f: tf.scatter_nd(f(np.array([[-1]], I32)), tf.constant([1.0]), [4])),
    ("scatter_nd_fed_shape", lambda tf, f: tf.scatter_nd(tf.constant([[3]]), tf.constant([1.0]),
                                                         f(np.array([2], I32)))),
    ("tensor_scatter_update", lambda tf, f: tf.tensor_scatter_nd_update(
        tf.constant(V5), f(np.array([[2], [5]], I32)), tf.constant([9.0, 9.0]))),
    ("tensor_scatter_add", lambda tf, f: tf.tensor_scatter_nd_add(
        tf.constant(P3), f(np.array([[3]], I32)), tf.ones([1, 4]))),
    ("tensor_scatter_sub_neg", lambda tf, f: tf.tensor_scatter_nd_sub(
        tf.constant(V5), f(np.array([[-3]], I64)), tf.constant([1.0]))),
    ("scatter_update_var", lambda tf, f: tf.scatter_update(_var(tf, V5), f(np.array([1, 5], I32)),
                                                           tf.constant([7.0, 8.0]))),
    ("scatter_add_var", lambda tf, f: tf.scatter_add(_var(tf, P3), f(np.array([3], I32)), tf.ones([1, 4]))),
    ("scatter_sub_negative", lambda tf, f: tf.scatter_sub(_var(tf, V5), f(np.array([-1], I32)),
                                                          tf.constant([1.0]))),
    ("scatter_mul_var", lambda tf, f: tf.scatter_mul(_var(tf, V5), f(np.array([2, 9], I64)),
                                                     tf.constant([2.0, 2.0]))),
    ("scatter_max_var", lambda tf, f: tf.scatter_max(_var(tf, V5), f(np.array([6], I32)), tf.constant([2.0]))),
    ("scatter_nd_update_var", lambda tf, f: tf.scatter_nd_update(_var(tf, V5), f(np.array([[0], [5]], I32)),
                                                                 tf.constant([1.0, 2.0]))),
    ("scatter_nd_add_var", lambda tf, f: tf.scatter_nd_add(_var(tf, P3), f(np.array([[1, 4]], I32)),
                                                           tf.constant([1.0]))),
    ("resource_scatter_add", lambda tf, f: tf.get_variable("rs", initializer=V5, use_resource=True).scatter_add(
        tf.IndexedSlices(tf.constant([1.0]), f(np.array([5], I32))))),
    ("resource_scatter_update", lambda tf, f: tf.get_variable("ru", initializer=V5, use_resource=True)
     .scatter_update(tf.IndexedSlices(tf.constant([1.0, 2.0]), f(np.array([0, -1], I32))))),
    ("batch_scatter_update", lambda tf, f: tf.batch_scatter_update(
        _var(tf, P3), f(np.array([[0], [1], [4]], I32)), tf.ones([3, 1]))),

    # --- segment family ---
    ("segment_sum_unsorted", lambda tf, f: tf.segment_sum(tf.constant(V5[:4]), f(np.array([0, 2, 1, 1], I32)))),
    ("segment_sum_negative", lambda tf, f: tf.segment_sum(tf.constant(V5[:3]), f(np.array([-1, 0, 0], I32)))),
    ("segment_sum_length", lambda tf, f: tf.segment_sum(tf.constant(V5), f(np.array([0, 0, 1], I32),
                                                                           shape="open"))),
    ("segment_mean_unsorted", lambda tf, f: tf.segment_mean(tf.constant(P3), f(np.array([1, 0, 0], I64)))),
    ("segment_max_unsorted", lambda tf, f: tf.segment_max(tf.constant(V5[:3]), f(np.array([0, 1, 0], I32)))),
    ("segment_prod_negative", lambda tf, f: tf.segment_prod(tf.constant(V5[:2]), f(np.array([-2, 0], I32)))),
    ("unsorted_segment_sum_high", lambda tf, f: tf.unsorted_segment_sum(
        tf.constant(V5[:3]), f(np.array([0, 5, 1], I32)), 3)),
    ("unsorted_segment_sum_negative", lambda tf, f: tf.unsorted_segment_sum(
        tf.constant(V5[:3]), f(np.array([0, -1, 1], I32)), 3)),
    ("unsorted_segment_max_high", lambda tf, f: tf.unsorted_segment_max(
        tf.constant(P3), f(np.array([0, 1, 3], I64)), 3)),
    ("unsorted_segment_fed_num", lambda tf, f: tf.unsorted_segment_sum(
        tf.constant(V5[:3]), tf.constant([0, 1, 2]), f(np.int32(2)))),
    ("unsorted_segment_neg_num", lambda tf, f: tf.unsorted_segment_sum(
        tf.constant(V5[:3]), tf.constant([0, 1, 2]), f(np.int32(-1)))),
    ("unsorted_segment_length", lambda tf, f: tf.unsorted_segment_sum(
        tf.constant(V5), f(np.array([0, 1], I32), shape="open"), 3)),
    ("sparse_segment_sum_indices", lambda tf, f: tf.sparse.segment_sum(
        tf.constant(P3), f(np.array([0, 5], I32)), tf.constant([0, 1]))),
    ("sparse_segment_sum_unsorted", lambda tf, f: tf.sparse.segment_sum(
        tf.constant(P3), tf.constant([0, 1, 2]), f(np.array([1, 0, 0], I32)))),
    ("sparse_segment_mean_negative_index", lambda tf, f: tf.sparse.segment_mean(
        tf.constant(P3), f(np.array([-1, 0], I32)), tf.constant([0, 0]))),
    ("sparse_segment_sqrt_n_ids", lambda tf, f: tf.sparse.segment_sqrt_n(
        tf.constant(P3), tf.constant([0, 1]), f(np.array([0, -1], I32)))),
    ("sparse_segment_sum_num", lambda tf, f: tf.sparse.segment_sum(
        tf.constant(P3), tf.constant([0, 1]), f(np.array([0, 4], I32)), num_segments=3)),
    ("sparse_segment_length", lambda tf, f: tf.sparse.segment_sum(
        tf.constant(P3), f(np.array([0, 1, 2], I32), shape="open"), f(np.array([0, 0], I32), shape="open"))),

    # --- sizes that do not fit ---
    ("reshape_count", lambda tf, f: tf.reshape(tf.constant(P3), f(np.array([5, 2], I32)))),
    ("reshape_two_unknown", lambda tf, f: tf.reshape(tf.constant(P3), f(np.array([-1, -1], I32)))),
    ("reshape_not_divisible", lambda tf, f: tf.reshape(tf.constant(P3), f(np.array([5, -1], I32)))),
    ("reshape_negative", lambda tf, f: tf.reshape(tf.constant(P3), f(np.array([-2, 6], I32)))),
    ("reshape_fed_tensor", lambda tf, f: tf.reshape(f(np.zeros(7, F32), shape="open"), [2, -1])),
    ("tile_negative", lambda tf, f: tf.tile(tf.constant(P3), f(np.array([1, -1], I32)))),
    ("tile_length", lambda tf, f: tf.tile(tf.constant(P3), f(np.array([1, 2, 3], I32), shape="open"))),
    ("pad_negative", lambda tf, f: tf.pad(tf.constant(P3), f(np.array([[0, 0], [-1, 0]], I32)))),
    ("pad_rows", lambda tf, f: tf.pad(tf.constant(P3), f(np.array([[0, 0]], I32), shape="open"))),
    ("pad_reflect_too_big", lambda tf, f: tf.pad(tf.constant(P3), f(np.array([[3, 0], [0, 0]], I32)),
                                                 mode="REFLECT")),
    ("pad_symmetric_too_big", lambda tf, f: tf.pad(tf.constant(P3), f(np.array([[0, 0], [0, 5]], I32)),
                                                   mode="SYMMETRIC")),
    ("slice_past_end", lambda tf, f: tf.slice(tf.constant(P3), f(np.array([2, 0], I32)), [2, 4])),
    ("slice_negative_begin", lambda tf, f: tf.slice(tf.constant(P3), f(np.array([-1, 0], I32)), [1, 1])),
    ("slice_size_minus2", lambda tf, f: tf.slice(tf.constant(P3), [0, 0], f(np.array([1, -2], I32)))),
    ("slice_fed_tensor", lambda tf, f: tf.slice(f(P3, shape="open"), [1, 1], [3, 3])),
    ("slice_rank", lambda tf, f: tf.slice(tf.constant(P3), f(np.array([0], I32), shape="open"), [1, 1])),
    ("strided_slice_index", lambda tf, f: tf.constant(P3)[f(np.int32(3))]),
    ("strided_slice_negative_index", lambda tf, f: tf.constant(V5)[f(np.int32(-6))]),
    ("strided_slice_zero_stride", lambda tf, f: tf.strided_slice(tf.constant(V5), [0], [3], f(np.array([0], I32)))),
    ("strided_slice_fed_tensor", lambda tf, f: f(P3, shape="open")[5]),
    ("split_not_divisible", lambda tf, f: tf.split(f(V5, shape="open"), 2)),
    ("split_sizes_sum", lambda tf, f: tf.split(tf.constant(V5), f(np.array([2, 2], I32)), num=2)),
    ("split_sizes_two_unknown", lambda tf, f: tf.split(tf.constant(V5), f(np.array([-1, -1], I32)), num=2)),
    ("split_sizes_negative", lambda tf, f: tf.split(tf.constant(V5), f(np.array([6, -1], I32)), num=2)),
    ("split_fed_axis", lambda tf, f: tf.split(tf.constant(P3), 2, axis=f(np.int32(2)))),
    ("unstack_fed", lambda tf, f: tf.unstack(f(P3, shape=[None, 4]), num=2)),
    ("concat_fed_shapes", lambda tf, f: tf.concat([tf.constant(P3), f(np.zeros((2, 3), F32), shape="open")], 0)),
    ("stack_fed_shapes", lambda tf, f: tf.stack([tf.constant(V5), f(np.zeros(4, F32), shape="open")])),
    ("fill_negative", lambda tf, f: tf.fill(f(np.array([2, -3], I32)), 1.0)),
    ("zeros_negative", lambda tf, f: tf.zeros(f(np.array([-1], I32)))),
    ("range_zero_delta", lambda tf, f: tf.range(0, 5, f(np.int32(0)))),
    ("range_wrong_sign", lambda tf, f: tf.range(0, 5, f(np.int32(-1)))),
    ("broadcast_to_fed", lambda tf, f: tf.broadcast_to(tf.constant([1.0, 2.0, 3.0]), f(np.array([2, 2], I32)))),
    ("add_fed_shapes", lambda tf, f: tf.add(f(P3, shape="open"), f(np.zeros((2, 4), F32), shape="open"))),
    ("transpose_perm", lambda tf, f: tf.transpose(tf.constant(P3), f(np.array([0, 0], I32)))),
    ("expand_dims_axis", lambda tf, f: tf.expand_dims(tf.constant(P3), f(np.int32(4)))),
    ("reduce_sum_axis", lambda tf, f: tf.reduce_sum(tf.constant(P3), f(np.array([2], I32)))),
    ("reduce_max_duplicate_axis", lambda tf, f: tf.reduce_max(tf.constant(P3), f(np.array([0, -2], I32)))),
    ("reverse_axis", lambda tf, f: tf.reverse(tf.constant(P3), f(np.array([3], I32)))),
    ("argmax_axis", lambda tf, f: tf.argmax(tf.constant(P3), f(np.int32(2)))),
    ("cumsum_axis", lambda tf, f: tf.cumsum(tf.constant(P3), f(np.int32(-3)))),
    ("roll_shift_rank", lambda tf, f: tf.roll(tf.constant(P3), f(np.array([1, 1], I32)), [0])),
    ("roll_scalar_shift_axes", lambda tf, f: tf.roll(tf.constant(P3), f(np.int32(1)), [0])),
    ("roll_shift_matrix", lambda tf, f: tf.roll(tf.constant(P3), f(np.array([[1]], I32)), [0])),
    ("squeeze_fed", lambda tf, f: tf.squeeze(f(P3, shape="open"), [0])),
    ("matrix_band_part", lambda tf, f: tf.linalg.band_part(tf.constant(P3), f(np.int64(5)), 0)),
    ("diag_part_fed", lambda tf, f: tf.linalg.tensor_diag_part(f(P3, shape="open"))),
    ("space_to_batch", lambda tf, f: tf.space_to_batch_nd(tf.constant(IMG), [2, 2],
                                                          f(np.array([[0, 0], [0, 0]], I32)))),
    ("depth_to_space_fed", lambda tf, f: tf.nn.depth_to_space(f(IMG, shape="open"), 2)),
    ("top_k_too_many", lambda tf, f: tf.nn.top_k(tf.constant(V5), f(np.int32(6)))),
    ("top_k_negative", lambda tf, f: tf.nn.top_k(tf.constant(V5), f(np.int32(-1)))),

    # --- shapes that mismatch in matmul, convolutions and pooling ---
    ("matmul_inner", lambda tf, f: tf.matmul(f(P3, shape="open"), f(P3, shape="open"))),
    ("matmul_transpose", lambda tf, f: tf.matmul(f(P3, shape="open"), f(P3, shape="open"), transpose_a=True,
                                                 transpose_b=True)),
    ("matmul_rank", lambda tf, f: tf.matmul(f(P3, shape="unknown"), f(V5, shape="unknown"))),
    ("batch_matmul_batch", lambda tf, f: tf.matmul(f(np.zeros((2, 3, 4), F32), shape="open"),
                                                   f(np.zeros((3, 4, 5), F32), shape="open"))),
    ("tensordot_fed", lambda tf, f: tf.tensordot(f(P3, shape="open"), f(np.zeros((3, 2), F32), shape="open"), 1)),
    ("conv2d_channels", lambda tf, f: tf.nn.conv2d(f(IMG, shape=[None, None, None, None]),
                                                   tf.zeros([2, 2, 4, 1]), [1, 1, 1, 1], "SAME")),
    ("conv2d_filter_too_big", lambda tf, f: tf.nn.conv2d(f(IMG, shape=[None, None, None, 3]),
                                                         tf.zeros([7, 7, 3, 1]), [1, 1, 1, 1], "VALID")),
    ("conv2d_fed_filter", lambda tf, f: tf.nn.conv2d(tf.constant(IMG), f(np.zeros((2, 2, 2, 1), F32),
                                                                         shape="open"), [1, 1, 1, 1], "SAME")),
    ("conv1d_channels", lambda tf, f: tf.nn.conv1d(f(IMG[0], shape="open"), tf.zeros([2, 2, 1]), 1, "SAME")),
    ("max_pool_window_too_big", lambda tf, f: tf.nn.max_pool(f(IMG, shape="open"), [1, 7, 6, 1], [1, 1, 1, 1],
                                                             "VALID")),
    ("avg_pool_window_too_big", lambda tf, f: tf.nn.avg_pool(f(IMG, shape="open"), [1, 1, 7, 1], [1, 1, 1, 1],
                                                             "VALID")),
    ("max_pool_rank", lambda tf, f: tf.nn.max_pool(f(IMG[0], shape="unknown"), [1, 2, 2, 1], [1, 1, 1, 1],
                                                   "SAME")),
    ("bias_add_fed", lambda tf, f: tf.nn.bias_add(f(P3, shape="open"), f(np.zeros(3, F32), shape="open"))),
    ("batch_norm_fed", lambda tf, f: tf.nn.fused_batch_norm(f(IMG, shape="open"), tf.ones([2]), tf.zeros([2]),
                                                            is_training=True)[0]),
    ("lrn_rank", lambda tf, f: tf.nn.local_response_normalization(f(IMG[0], shape="unknown"))),
    ("resize_fed_size", lambda tf, f: tf.image.resize_bilinear(tf.constant(IMG), f(np.array([0, 3], I32)))),
    # only the width check fails: when both do, TF's executor runs the two independent Asserts in parallel
    # and reports whichever fails first (measured: height 134, width 166 of 300 runs under load)
    ("crop_to_bounding_box", lambda tf, f: tf.image.crop_to_bounding_box(
        f(IMG[0], shape=[None, None, 3]), 2, 2, 3, 4)),

    # --- linear algebra ---
    # TF's kernel fills the lower triangle of a failed factorization with NaNs and leaves the upper one
    # uninitialized (whatever its buffer held): only the lower triangle is TF's answer
    ("cholesky_not_pd", lambda tf, f: tf.linalg.band_part(tf.linalg.cholesky(f(NOT_PD)), -1, 0)),
    ("cholesky_batch", lambda tf, f: tf.linalg.band_part(tf.linalg.cholesky(f(np.stack([SPD, NOT_PD]))), -1, 0)),
    ("cholesky_not_square", lambda tf, f: tf.linalg.cholesky(f(P3, shape="open"))),
    ("matrix_inverse_singular", lambda tf, f: tf.linalg.inv(f(SINGULAR))),
    ("matrix_inverse_zero", lambda tf, f: tf.linalg.inv(f(np.zeros((3, 3), F32)))),
    ("matrix_inverse_float64", lambda tf, f: tf.linalg.inv(f(SINGULAR.astype(np.float64)))),
    ("matrix_solve_singular", lambda tf, f: tf.linalg.solve(f(SINGULAR), tf.ones([2, 1]))),
    ("matrix_solve_rhs", lambda tf, f: tf.linalg.solve(tf.constant(SPD), f(np.ones((3, 1), F32), shape="open"))),
    ("matrix_determinant_not_square", lambda tf, f: tf.linalg.det(f(P3, shape="open"))),
    ("self_adjoint_eig_not_square", lambda tf, f: tf.linalg.eigh(f(P3, shape="open"))[0]),
    ("triangular_solve_shapes", lambda tf, f: tf.linalg.triangular_solve(tf.constant(SPD),
                                                                          f(np.ones((3, 1), F32), shape="open"))),

    # --- integer division by zero ---
    ("floordiv_int32", lambda tf, f: tf.floordiv(tf.constant([7, 8]), f(np.array([2, 0], I32)))),
    ("floordiv_int64", lambda tf, f: tf.math.floordiv(tf.constant([7, 8], tf.int64), f(np.array([0, 1], I64)))),
    ("truncatediv_int32", lambda tf, f: tf.truncatediv(tf.constant([7, -8]), f(np.array([1, 0], I32)))),
    ("div_int32", lambda tf, f: tf.div(tf.constant([7, 8]), f(np.array([0, 0], I32)))),
    ("floormod_int32", lambda tf, f: tf.floormod(tf.constant([7, 8]), f(np.array([3, 0], I32)))),
    ("truncatemod_int64", lambda tf, f: tf.truncatemod(tf.constant([7, 8], tf.int64), f(np.array([0, 3], I64)))),
    ("mod_operator", lambda tf, f: tf.constant([5, 6]) % f(np.array([0, 2], I32))),
    ("floordiv_operator_scalar", lambda tf, f: tf.constant([5, 6]) // f(np.int32(0))),
    ("floordiv_int8", lambda tf, f: tf.floordiv(tf.constant([5], tf.int8), f(np.array([0], np.int8)))),
    ("floordiv_uint8", lambda tf, f: tf.floordiv(tf.constant([5], tf.uint8), f(np.array([0], np.uint8)))),
    ("div_no_nan_int", lambda tf, f: tf.div_no_nan(tf.constant([5.0, 6.0]), f(np.array([0.0, 2.0], F32)))),
    ("floordiv_broadcast", lambda tf, f: tf.floordiv(tf.constant([[5, 6], [7, 8]]), f(np.array([1, 0], I32)))),

    # --- strings and decoding ---
    ("string_to_number_bad", lambda tf, f: tf.strings.to_number(f(np.array([b"1.5", b"x"])))),
    ("string_to_number_int", lambda tf, f: tf.strings.to_number(f(np.array([b"3", b"3.5"])), tf.int32)),
    ("string_to_number_overflow", lambda tf, f: tf.strings.to_number(f(np.array([b"12345678901"])), tf.int32)),
    ("string_to_number_empty", lambda tf, f: tf.string_to_number(f(np.array([b""])), tf.int64)),
    ("string_to_number_float64", lambda tf, f: tf.strings.to_number(f(np.array([b"1e999", b"--1"])), tf.float64)),
    ("decode_csv_bad_float", lambda tf, f: tf.decode_csv(f(np.array([b"1,x"])), [[0.0], [0.0]])),
    ("decode_csv_columns", lambda tf, f: tf.decode_csv(f(np.array([b"1,2,3"])), [[0], [0]])),
    ("decode_csv_missing", lambda tf, f: tf.decode_csv(f(np.array([b"1,"])), [[0], tf.constant([], tf.int32)])),
    ("decode_csv_int_overflow", lambda tf, f: tf.decode_csv(f(np.array([b"99999999999"])), [[0]])),
    ("decode_raw_length", lambda tf, f: tf.decode_raw(f(np.array([b"abc", b"abcd"])), tf.int16)),
    ("decode_base64_bad", lambda tf, f: tf.io.decode_base64(f(np.array([b"a$b"])))),
    ("decode_png_bad", lambda tf, f: tf.image.decode_png(f(np.array(b"not a png")))),
    ("decode_jpeg_bad", lambda tf, f: tf.image.decode_jpeg(f(np.array(b"\xff\xd8garbage")))),
    ("decode_image_bad", lambda tf, f: tf.image.decode_image(f(np.array(b"GIF8nothing")))),
    ("decode_json_bad", lambda tf, f: tf.io.decode_json_example(f(np.array([b"{bad"])))),
    ("parse_tensor_bad", lambda tf, f: tf.io.parse_tensor(f(np.array(b"\x01\x02")), tf.float32)),
    ("decode_compressed_bad", lambda tf, f: tf.io.decode_compressed(f(np.array([b"xyz"])), "ZLIB")),
    ("parse_example_bad", lambda tf, f: tf.io.parse_example(
        f(np.array([b"\x0a\x03bad"])), {"a": tf.io.FixedLenFeature([], tf.int64)})),
    ("parse_example_missing", lambda tf, f: tf.io.parse_example(
        f(np.array([b""])), {"a": tf.io.FixedLenFeature([], tf.int64)})),
    ("substr_pos", lambda tf, f: tf.strings.substr(tf.constant(["abc"]), f(np.array([5], I32), shape=[1]),
                                                   [1])),
    ("substr_negative_len", lambda tf, f: tf.strings.substr(tf.constant(["abc", "abcd"]), [0, 1],
                                                            f(np.array([-1, -2], I32), shape=[2]))),
    ("substr_utf8_negative_pos_len", lambda tf, f: tf.strings.substr(
        tf.constant(["abcd"]), f(np.array([-2], I32), shape=[1]), f(np.array([-3], I32), shape=[1]), unit="UTF8_CHAR")),
    ("substr_utf8_negative_len", lambda tf, f: tf.strings.substr(
        tf.constant(["h\u00e9llo"]), f(np.array([1], I32), shape=[1]), f(np.array([-1], I32), shape=[1]),
        unit="UTF8_CHAR")),
    ("unicode_decode_bad", lambda tf, f: tf.strings.unicode_decode(f(np.array([b"\xff"])), "UTF-8",
                                                                    errors="strict").flat_values),
    ("as_string_precision", lambda tf, f: tf.as_string(f(V5), precision=-2)),

    # --- asserts and numeric checks ---
    ("assert_false", lambda tf, f: _with_deps(tf, tf.Assert(tf.reduce_all(f(V5) < 3.0), [tf.constant("x <"), f(V5)]),
                                              tf.constant(1.0))),
    ("assert_summarize", lambda tf, f: _with_deps(
        tf, tf.Assert(tf.reduce_all(f(np.arange(20, dtype=F32)) < 3.0), [f(np.arange(20, dtype=F32))],
                      summarize=4), tf.constant(1.0))),
    ("check_numerics_nan", lambda tf, f: tf.check_numerics(f(np.array([1.0, np.nan], F32)), "bad values")),
    ("check_numerics_inf", lambda tf, f: tf.debugging.check_numerics(f(np.array([np.inf], np.float64)), "inf!")),
    ("verify_finite", lambda tf, f: tf.verify_tensor_all_finite(f(np.array([-np.inf], F32)), "not finite")),
    ("assert_equal", lambda tf, f: _with_deps(tf, tf.assert_equal(f(V5), tf.constant(V5[::-1])),
                                              tf.constant(1.0))),
    ("assert_less", lambda tf, f: _with_deps(tf, tf.assert_less(f(V5), 4.0, message="too big"), tf.constant(1.0))),
    ("assert_positive", lambda tf, f: _with_deps(tf, tf.assert_positive(f(V5 - 2.0)), tf.constant(1.0))),
    ("assert_non_negative", lambda tf, f: _with_deps(tf, tf.assert_non_negative(f(np.array([-1], I32))),
                                                     tf.constant(1.0))),
    ("assert_greater_equal", lambda tf, f: _with_deps(tf, tf.assert_greater_equal(f(np.int64(2)), np.int64(3)),
                                                      tf.constant(1.0))),
    ("assert_rank", lambda tf, f: _with_deps(tf, tf.assert_rank(f(P3, shape="unknown"), 3), tf.constant(1.0))),
    ("assert_near", lambda tf, f: _with_deps(tf, tf.debugging.assert_near(f(V5), V5 + 1.0), tf.constant(1.0))),
    ("assert_none_equal", lambda tf, f: _with_deps(tf, tf.debugging.assert_none_equal(f(V5), 3.0),
                                                   tf.constant(1.0))),
    ("assert_shapes_runtime", lambda tf, f: _with_deps(tf, tf.debugging.assert_shapes(
        [(f(P3, shape="open"), ("a", "b")), (f(V5, shape="open"), ("a",))]), tf.constant(1.0))),
    ("assert_in_cond", lambda tf, f: tf.cond(f(np.bool_(True)), lambda: _with_deps(
        tf, tf.Assert(tf.constant(False), ["in cond"]), tf.constant(1.0)), lambda: tf.constant(2.0))),
    ("random_crop_too_big", lambda tf, f: tf.random_crop(f(P3, shape="open"), [4, 4], seed=1)),

    # --- sparse ops ---
    ("sparse_to_dense_unsorted", lambda tf, f: tf.sparse_to_dense(f(np.array([[1], [0]], I64)), [3],
                                                                  tf.constant([1.0, 2.0]))),
    ("sparse_to_dense_duplicate", lambda tf, f: tf.sparse_to_dense(f(np.array([[1], [1]], I64)), [3],
                                                                   tf.constant([1.0, 2.0]))),
    ("sparse_to_dense_oob", lambda tf, f: tf.sparse_to_dense(f(np.array([[0], [3]], I64)), [3],
                                                             tf.constant([1.0, 2.0]))),
    ("sparse_tensor_to_dense_unsorted", lambda tf, f: tf.sparse.to_dense(
        _sparse(tf, f, [[1, 0], [0, 1]], [1.0, 2.0], [2, 2]))),
    ("sparse_tensor_to_dense_oob", lambda tf, f: tf.sparse.to_dense(
        _sparse(tf, f, [[0, 0], [0, 2]], [1.0, 2.0], [2, 2]))),
    ("sparse_reorder_oob", lambda tf, f: tf.sparse.reorder(_sparse(tf, f, [[5, 0]], [1.0], [2, 2])).indices),
    ("sparse_dense_matmul_oob", lambda tf, f: tf.sparse.sparse_dense_matmul(
        _sparse(tf, f, [[0, 0], [1, 7]], [1.0, 2.0], [2, 4]), tf.constant(P3.T))),
    ("sparse_dense_matmul_shapes", lambda tf, f: tf.sparse.sparse_dense_matmul(
        _sparse(tf, f, [[0, 0]], [1.0], [2, 5]), f(P3.T, shape="open"))),
    ("sparse_add_shapes", lambda tf, f: tf.sparse.add(_sparse(tf, f, [[0, 0]], [1.0], [2, 2]),
                                                      _sparse(tf, f, [[0, 0]], [1.0], [2, 3])).values),
    ("sparse_dense_add_shapes", lambda tf, f: tf.sparse.add(_sparse(tf, f, [[0, 0]], [1.0], [2, 2]),
                                                            f(P3, shape="open"))),
    ("sparse_reduce_sum_oob", lambda tf, f: tf.sparse.reduce_sum(_sparse(tf, f, [[0, 0], [3, 1]], [1.0, 2.0],
                                                                         [2, 2]), axis=1)),
    ("sparse_reshape_count", lambda tf, f: tf.sparse.reshape(_sparse(tf, f, [[0, 0]], [1.0], [2, 3]),
                                                             f(np.array([4, 2], I64))).indices),
    ("sparse_fill_empty_rows_oob", lambda tf, f: tf.sparse.fill_empty_rows(
        _sparse(tf, f, [[0, 0], [4, 0]], [1.0, 2.0], [3, 2]), 0.0)[0].values),
    ("sparse_slice_rank", lambda tf, f: tf.sparse.slice(_sparse(tf, f, [[0, 0]], [1.0], [2, 2]),
                                                        f(np.array([0], I64), shape="open"), [1, 1]).values),
    ("sparse_concat_ranks", lambda tf, f: tf.sparse.concat(
        0, [_sparse(tf, f, [[0, 0]], [1.0], [2, 2]), _sparse(tf, f, [[0, 0]], [1.0], [2, 3])]).values),
    ("sparse_softmax_unsorted", lambda tf, f: tf.sparse.softmax(
        _sparse(tf, f, [[1, 0], [0, 0]], [1.0, 2.0], [2, 2])).values),
    ("sparse_segment_ids_oob_sparse_tensor", lambda tf, f: tf.sparse.to_dense(
        _sparse(tf, f, [[0, -1]], [1.0], [2, 2]))),
    ("sparse_values_length", lambda tf, f: tf.sparse.to_dense(
        tf.SparseTensor(f(np.array([[0, 0], [1, 1]], I64)), f(np.array([1.0], F32), shape="open"),
                        f(np.array([2, 2], I64))))),
    ("sparse_tensor_dense_add", lambda tf, f: tf.sparse_add(tf.constant(P3[:2, :2]),
                                                            _sparse(tf, f, [[2, 0]], [1.0], [2, 2]))),

    # --- tf.data elements that fail ---
    ("data_map_to_number", lambda tf, f: _dataset(tf, tf.data.Dataset.from_tensor_slices(
        ["1", "x", "2", "y"]).map(tf.strings.to_number).repeat())),
    ("data_map_check_numerics", lambda tf, f: _dataset(tf, tf.data.Dataset.from_tensor_slices(
        np.array([1.0, np.nan, 2.0], F32)).map(lambda x: tf.check_numerics(x, "nan in data")).repeat())),
    ("data_map_gather", lambda tf, f: _dataset(tf, tf.data.Dataset.range(5).map(
        lambda i: tf.gather(tf.constant(V5[:3]), i)).repeat())),
    ("data_batch_shapes", lambda tf, f: _dataset(tf, tf.data.Dataset.from_generator(
        lambda: iter([np.zeros(2, F32), np.zeros(3, F32)]), tf.float32, tf.TensorShape([None])).batch(2))),
    ("data_map_int_div", lambda tf, f: _dataset(tf, tf.data.Dataset.from_tensor_slices(
        np.array([4, 3, 2], I32)).map(lambda x: 12 // (x - 3)).repeat())),
    ("data_filter_assert", lambda tf, f: _dataset(tf, tf.data.Dataset.range(4).filter(
        lambda i: tf.equal(tf.floormod(i, i - 2), 0)))),

    # --- TensorArrays ---
    ("tensor_array_read", _tf1_arrays(_ta_read)),
    ("tensor_array_gather", _tf1_arrays(_ta_gather)),
    ("tensor_array_write_twice", _tf1_arrays(_ta_write_twice)),
    ("tensor_array_scatter_twice", _tf1_arrays(_ta_scatter_twice)),
    ("tensor_array_unstack_then_write", _tf1_arrays(_ta_unstack_then_write)),
    ("tensor_array_loop_write_twice", _tf1_arrays(_ta_loop_write_twice)),
    ("tensor_array_grad_loop_write_twice", _tf1_arrays(_ta_grad_loop_write_twice)),
    ("tensor_array_grad_and_loss_write_twice", _tf1_arrays(lambda tf, f: _ta_grad_loop_write_twice(tf, f, True))),
    ("tensor_array_write_past", _tf1_arrays(_ta_write_past)),
    ("tensor_array_unstack_size", _tf1_arrays(_ta_unstack_size)),
    ("tensor_array_split_lengths", _tf1_arrays(_ta_split_lengths)),
    ("tensor_array_read_twice", _tf1_arrays(_ta_read_twice)),
    ("tensor_array_read_twice_kept", _tf1_arrays(lambda tf, f: _ta_read_twice(tf, f, False))),
    ("tensor_array_write_after_read", _tf1_arrays(_ta_write_after_read)),
    ("tensor_array_write_after_read_kept", _tf1_arrays(lambda tf, f: _ta_write_after_read(tf, f, False))),
    ("tensor_array_gather_repeated", _tf1_arrays(_ta_gather_repeated)),
    ("tensor_array_concat_after_read", _tf1_arrays(_ta_concat_after_read)),
    ("tensor_array_stack_after_read", _tf1_arrays(_ta_stack_after_read)),
    ("tensor_array_loop_read_twice", _tf1_arrays(_ta_loop_read_twice)),
    ("tensor_array_grad_loop_read_twice", _tf1_arrays(_ta_grad_loop_read_twice)),
    ("tensor_array_grad_and_loss_read_twice", _tf1_arrays(lambda tf, f: _ta_grad_loop_read_twice(tf, f, True))),
    ("tensor_array_grad_and_loss_read_once", _tf1_arrays(lambda tf, f: _ta_grad_loop_read_twice(tf, f, True,
                                                                                                 (2, 0, 1)))),
    ("tensor_array_read_unwritten", _tf1_arrays(lambda tf, f: tf.TensorArray(tf.float32, size=3).write(
        0, tf.constant(1.0)).read(f(np.int32(2))))),

    # --- random ops with bad shapes or parameters ---
    ("random_uniform_negative_shape", lambda tf, f: tf.random_uniform(f(np.array([2, -1], I32)), seed=1)),
    ("random_normal_negative_shape", lambda tf, f: tf.random_normal(f(np.array([-3], I64)), seed=1)),
    ("truncated_normal_negative_shape", lambda tf, f: tf.truncated_normal(f(np.array([-2, 2], I32)), seed=1)),
    ("random_uniform_int_range", lambda tf, f: tf.random_uniform([3], f(np.int32(5)), f(np.int32(3)),
                                                                 tf.int32, seed=1)),
    ("multinomial_negative", lambda tf, f: tf.multinomial(tf.zeros([2, 3]), f(np.int32(-1)), seed=1)),
    ("multinomial_no_classes", lambda tf, f: tf.multinomial(f(np.zeros((2, 0), F32), shape="open"), 2, seed=1)),
    ("random_gamma_negative_shape", lambda tf, f: tf.random_gamma(f(np.array([-1], I32)), 2.0, seed=1)),
    ("random_poisson_negative_shape", lambda tf, f: tf.random_poisson(1.0, f(np.array([-1], I32)), seed=1)),
    ("stateless_uniform_negative", lambda tf, f: tf.random.stateless_uniform(f(np.array([-1], I32)), [1, 2])),
    ("stateless_uniform_seed_shape", lambda tf, f: tf.random.stateless_uniform(
        [2], f(np.array([1, 2, 3], I64), shape="open"))),
    ("random_shuffle_fed", lambda tf, f: tf.random_shuffle(f(np.float32(1.0)), seed=1)),

    # --- batch sizes that mismatch in losses ---
    ("sparse_xent_batch", lambda tf, f: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=f(np.array([0, 1], I32), shape="open"), logits=f(P3, shape="open"))),
    ("sparse_xent_label_range", lambda tf, f: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=f(np.array([0, 1, 4], I32)), logits=tf.constant(P3))),
    ("sparse_xent_label_negative", lambda tf, f: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=f(np.array([0, -1, 2], I64)), logits=tf.constant(P3))),
    ("softmax_xent_batch", lambda tf, f: tf.nn.softmax_cross_entropy_with_logits_v2(
        labels=f(np.zeros((2, 4), F32), shape="open"), logits=f(P3, shape="open"))),
    ("sigmoid_xent_fed", lambda tf, f: tf.nn.sigmoid_cross_entropy_with_logits(
        labels=f(np.zeros((2, 4), F32), shape="open"), logits=f(P3, shape="open"))),
    ("losses_mse_batch", lambda tf, f: tf.losses.mean_squared_error(f(np.zeros((2, 4), F32), shape="open"),
                                                                    f(P3, shape="open"))),
    ("losses_sparse_xent_batch", lambda tf, f: tf.losses.sparse_softmax_cross_entropy(
        f(np.array([0, 1], I32), shape="open"), f(P3, shape="open"))),
    ("losses_softmax_xent_batch", lambda tf, f: tf.losses.softmax_cross_entropy(
        f(np.zeros((4, 4), F32), shape="open"), f(P3, shape="open"))),
    ("losses_weights_batch", lambda tf, f: tf.losses.mean_squared_error(
        tf.constant(P3), tf.constant(P3), weights=f(np.ones((2, 1), F32), shape="open"))),
    ("in_top_k_range", lambda tf, f: tf.nn.in_top_k(tf.constant(P3), f(np.array([0, 5, 1], I32)), 1)),
    ("in_top_k_batch", lambda tf, f: tf.nn.in_top_k(tf.constant(P3), f(np.array([0, 1], I32), shape="open"), 1)),
    ("metrics_accuracy_batch", lambda tf, f: tf.metrics.accuracy(f(np.array([0, 1], I32), shape="open"),
                                                                 f(np.array([0, 1, 1], I32), shape="open"))[1]),
    ("confusion_matrix_negative", lambda tf, f: tf.confusion_matrix(f(np.array([0, -1], I32)),
                                                                    f(np.array([0, 1], I32)))),
    ("confusion_matrix_num_classes", lambda tf, f: tf.confusion_matrix(f(np.array([0, 3], I32)),
                                                                       f(np.array([0, 1], I32)), num_classes=3)),
    ("ctc_loss_lengths", lambda tf, f: tf.nn.ctc_loss(
        tf.SparseTensor([[0, 0]], tf.constant([1]), [1, 1]), tf.zeros([3, 1, 4]),
        f(np.array([5], I32)))),
    ("nce_batch", lambda tf, f: tf.nn.l2_normalize(f(P3, shape="open"), axis=f(np.int32(3)))),
]


def _with_deps(tf, op, value):
    with tf.control_dependencies([op]):
        return tf.identity(value)


# Differences the sweep found that are not fixed yet: case -> what differs (strict xfails).
# TF's IteratorGetNext is an asynchronous kernel: the step's Adam update, which nothing orders after it, has
# written when its element's error arrives (every time: 45 of 45 runs); graphcompat's failed run changes nothing
# (architecture.md), so the variables of the runs after it differ
_DATA_STEP = ("TF's Adam update runs beside the failing IteratorGetNext and writes; graphcompat's failed run "
              "changes no variable, so the next runs' variables differ")
TRAIN_XFAIL = {
    # TF's graphs for these have data-dependent shapes (DynamicPartition / DynamicStitch; SparseSegmentSum's
    # rows = last segment id + 1), which run a training step op by op: a word2vec-style Adam step over a
    # 2-way partitioned embedding took 309 ms that way against 6.2 ms compiled, an embedding_lookup_sparse
    # step 15.8 ms against 1.5 ms (2-core CPU), so graphcompat keeps its compiled graphs and these texts.
    "embedding_lookup_mod": "TF gathers each partition's own ids (indices[0] of partition 1); graphcompat's "
                            "embedding_lookup reports the position in the whole id vector",
    "embedding_lookup_sparse": "TF 2.21's embedding_lookup_sparse records SparseSegmentSum on the params ('Bad: "
                               "indices[1] == 6 out of range [0, 3)'); graphcompat gathers first",
    "data_map_to_number": _DATA_STEP,
    "data_map_check_numerics": _DATA_STEP,
    "data_map_int_div": _DATA_STEP,
}
XFAIL = {name: why for name, why in TRAIN_XFAIL.items() if why is not _DATA_STEP}


def _params(xfails):
    return [pytest.param(name, build, id=name, marks=[pytest.mark.xfail(strict=True, reason=xfails[name])]
                         if name in xfails else []) for name, build in CASES]


@pytest.mark.parametrize("name,build", _params(XFAIL))
def test_bad_input(name, build):
    sweep.compare(build)


@pytest.mark.parametrize("name,build", _params(TRAIN_XFAIL))
def test_bad_input_in_training_step(name, build):
    sweep.compare(build, training=True)
