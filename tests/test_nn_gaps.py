"""tf.nn gaps closed against real TensorFlow: N-D `convolution` (3-D, extra batch dims, dilations through
SpaceToBatchND), dilated `pool`, `with_space_to_batch`, `atrous_conv2d(_transpose)`,
`required_space_to_batch_paddings`, `conv3d_backprop_filter(_v2)`, v1 `conv1d`'s graph and its padding
errors. Values, gradients, static shapes, op names/types, and TF's errors (class and text)."""
import os

import numpy as np
import pytest

from tests import _op_oracle, oracle

pytestmark = pytest.mark.oracle

RS = np.random.RandomState(0)
X5 = RS.randn(2, 5, 6, 7, 3).astype(np.float32)
W5 = RS.randn(2, 3, 2, 3, 4).astype(np.float32)
X6 = RS.randn(2, 2, 5, 6, 7, 3).astype(np.float32)
X4 = RS.randn(2, 7, 6, 3).astype(np.float32)
W4 = RS.randn(2, 3, 3, 4).astype(np.float32)
X3 = RS.randn(2, 9, 3).astype(np.float32)
W3 = RS.randn(3, 3, 4).astype(np.float32)
V4 = RS.randn(2, 7, 6, 4).astype(np.float32)      # atrous_conv2d_transpose input (4 channels = W4's last dim)
DY5 = RS.randn(2, 5, 3, 7, 4).astype(np.float32)  # Conv3D(X5, W5, strides (1, 2, 1), SAME)'s output shape
DY5V = RS.randn(2, 4, 4, 6, 4).astype(np.float32)  # ... VALID, strides 1


def _with_grads(fn, *arrays, dtype=np.float32):
    """build(tf): fn's output and the gradients of a weighted sum of it w.r.t. each (constant) input."""
    def build(tf):
        xs = [tf.constant(a.astype(dtype)) for a in arrays]
        y = fn(tf, *xs)
        weights = tf.constant(np.linspace(0.5, 1.5, int(np.prod(y.shape.as_list()))).reshape(y.shape.as_list())
                              .astype(dtype))
        return [y] + tf.gradients(tf.reduce_sum(y * weights), xs)
    return build


def _fed(shape, value):
    """A placeholder of `shape` fed `value` (TF's and graphcompat's graphs then hold the same nodes)."""
    def make(tf):
        return tf.placeholder(tf.as_dtype(value.dtype), shape, name="x")

    def feed(tf, graph):
        return {graph.get_tensor_by_name("x:0"): value}
    return make, feed


UNKNOWN4, FEED4 = _fed([None, None, None, 3], X4)
UNKNOWN4C, FEED4C = _fed([None, 3, None, None], X4.transpose(0, 3, 1, 2))

# name -> (build, feed or None)
VALUES = {
    # 3-D convolution (Conv3D named after the `convolution` scope), also with two batch dims
    "conv3d_same": (lambda tf: tf.nn.convolution(X5, W5, "SAME"), None),
    "conv3d_valid_strided": (lambda tf: tf.nn.convolution(X5, W5, "VALID", strides=[1, 2, 2]), None),
    "conv3d_ncdhw": (lambda tf: tf.nn.convolution(X5.transpose(0, 4, 1, 2, 3), W5, "VALID", name="c3",
                                                  data_format="NCDHW"), None),
    "conv3d_two_batch_dims": (lambda tf: tf.nn.convolution(X6, W5, "SAME"), None),
    "conv3d_dilated": (lambda tf: tf.nn.convolution(X5, W5, "SAME", dilation_rate=[2, 1, 2]), None),
    "conv3d_grads": (_with_grads(lambda tf, x, w: tf.nn.convolution(x, w, "SAME", strides=[1, 2, 1]), X5, W5), None),
    "conv3d_dilated_grads": (_with_grads(lambda tf, x, w: tf.nn.convolution(x, w, "VALID", dilation_rate=[1, 2, 2]),
                                         X5, W5), None),
    "conv3d_float64_grads": (_with_grads(lambda tf, x, w: tf.nn.convolution(x, w, "SAME", dilations=[2, 2, 1]),
                                         X5, W5, dtype=np.float64), None),
    # 1-D / 2-D convolution: dilations through SpaceToBatchND, unknown sizes, channels first
    "conv2d": (lambda tf: tf.nn.convolution(X4, W4, "SAME"), None),
    "conv2d_dilated": (lambda tf: tf.nn.convolution(X4, W4, "SAME", dilation_rate=[2, 3]), None),
    "conv2d_dilated_unknown": (lambda tf: tf.nn.convolution(UNKNOWN4(tf), W4, "SAME", dilations=[2, 2]), FEED4),
    "conv2d_dilated_nchw_unknown": (lambda tf: tf.nn.convolution(UNKNOWN4C(tf), W4, "VALID", dilations=[2, 2],
                                                                 data_format="NCHW"), FEED4C),
    "conv1d_dilated": (lambda tf: tf.nn.convolution(X3, W3, "SAME", dilation_rate=[2]), None),
    "conv1d_strided": (lambda tf: tf.nn.convolution(X3, W3, "VALID", strides=[2]), None),
    "atrous_conv2d": (lambda tf: tf.nn.atrous_conv2d(X4, W4, 2, "SAME"), None),
    "atrous_conv2d_grads": (_with_grads(lambda tf, x, w: tf.nn.atrous_conv2d(x, w, 2, "VALID"), X4, W4), None),
    "atrous_conv2d_rate1": (lambda tf: tf.nn.atrous_conv2d(X4, W4, 1, "SAME"), None),
    # dilated pooling, with_space_to_batch
    "pool_dilated_max": (lambda tf: tf.nn.pool(X4, [2, 2], "MAX", "VALID", dilation_rate=[2, 2]), None),
    "pool_dilated_avg_1d": (lambda tf: tf.nn.pool(X3, [2], "AVG", "VALID", dilation_rate=[3]), None),
    "pool_dilated_3d": (lambda tf: tf.nn.pool(X5, [2, 2, 2], "MAX", "VALID", dilation_rate=[2, 1, 2]), None),
    "pool_dilated_unknown": (lambda tf: tf.nn.pool(UNKNOWN4(tf), [2, 2], "MAX", "VALID", dilations=[2, 2]), FEED4),
    "pool_dilated_nchw": (lambda tf: tf.nn.pool(X4.transpose(0, 3, 1, 2), [2, 2], "AVG", "VALID",
                                                dilation_rate=[2, 2], data_format="NCHW"), None),
    "pool_dilated_grads": (_with_grads(lambda tf, x: tf.nn.pool(x, [2, 3], "MAX", "VALID", dilation_rate=[2, 2]),
                                       X4), None),
    "pool_3d": (lambda tf: [tf.nn.pool(X5, [2, 2, 2], "MAX", "SAME"),
                            tf.nn.pool(X5, [2, 2, 2], "AVG", "VALID", strides=[2, 2, 2])], None),
    "with_space_to_batch_valid": (lambda tf: tf.nn.with_space_to_batch(
        X4, [2, 2], "VALID", lambda x, n, p: tf.nn.max_pool(x, [1, 2, 2, 1], [1, 1, 1, 1], p)), None),
    "with_space_to_batch_same": (lambda tf: tf.nn.with_space_to_batch(
        X4, [2, 3], "SAME", lambda x, n, p: tf.nn.conv2d(x, W4, [1, 1, 1, 1], p), filter_shape=[2, 3]), None),
    "with_space_to_batch_rate1": (lambda tf: tf.nn.with_space_to_batch(
        X4, [1, 1], "SAME", lambda x, n, p: tf.nn.avg_pool(x, [1, 2, 2, 1], [1, 1, 1, 1], p)), None),
    # atrous_conv2d_transpose, required_space_to_batch_paddings, conv3d_backprop_filter
    "atrous_conv2d_transpose_same": (lambda tf: tf.nn.atrous_conv2d_transpose(V4, W4, [2, 7, 6, 3], 2, "SAME"),
                                     None),
    "atrous_conv2d_transpose_grads": (_with_grads(lambda tf, x, w: tf.nn.atrous_conv2d_transpose(
        x, w, [2, 9, 10, 3], 2, "VALID"), V4, W4), None),
    "atrous_conv2d_transpose_rate1": (lambda tf: tf.nn.atrous_conv2d_transpose(V4, W4, [2, 7, 6, 3], 1, "SAME"),
                                      None),
    "required_space_to_batch_paddings": (lambda tf: [
        list(tf.required_space_to_batch_paddings([5, 7], [2, 3], [[1, 0], [2, 2]])),
        list(tf.required_space_to_batch_paddings(tf.placeholder(tf.int32, [2], name="x"), [2, 3]))],
        lambda tf, graph: {graph.get_tensor_by_name("x:0"): [5, 7]}),
    "conv3d_backprop_filter": (lambda tf: [
        tf.nn.conv3d_backprop_filter(X5, [2, 3, 2, 3, 4], DY5, [1, 1, 2, 1, 1], "SAME"),
        tf.nn.conv3d_backprop_filter_v2(X5, [2, 3, 2, 3, 4], DY5V, [1] * 5, "VALID")], None),
    # v1 conv1d: ExpandDims(-3) → Conv2D (the scope's name) → Squeeze; extra batch dims folded
    "conv1d": (lambda tf: [tf.nn.conv1d(X3, W3, 2, "SAME"), tf.nn.conv1d(X3, W3, 1, "VALID", name="c"),
                           tf.nn.conv1d(X3.transpose(0, 2, 1), W3, 1, "VALID", data_format="NCW", dilations=2)],
               None),
    "conv1d_two_batch_dims": (lambda tf: tf.nn.conv1d(np.stack([X3, X3 * 2]), W3, 1, "SAME"), None),
}

# Op names and types, node for node (gradient graphs excepted: graphcompat records one SymbolicGradient;
# rate 1 goes through tf.nn.conv2d_transpose, whose numpy arguments graphcompat converts under other names).
NAMES = sorted(k for k in VALUES if not k.endswith("grads") and k != "atrous_conv2d_transpose_rate1")


@pytest.mark.parametrize("case", sorted(VALUES))
def test_values_match_tensorflow(case):
    build, feed = VALUES[case]
    _op_oracle.compare(build, feed, tol=1e-4, runs=2)


@pytest.mark.parametrize("case", NAMES)
def test_op_names_match_tensorflow(case):
    build = VALUES[case][0]
    assert oracle.op_names(__import__("graphcompat"), build) == oracle.op_names(oracle.tf1(), build)


ERRORS = {
    "convolution_filter_rank": lambda tf: tf.nn.convolution(X4, W5, "SAME"),
    "convolution_strides_and_dilations": lambda tf: tf.nn.convolution(X4, W4, "SAME", strides=[2, 2],
                                                                      dilation_rate=[2, 2]),
    "convolution_nonpositive_dilation": lambda tf: tf.nn.convolution(X4, W4, "SAME", dilation_rate=[0, 2]),
    "convolution_explicit_padding": lambda tf: tf.nn.convolution(X4, W4, [[0, 0], [1, 1], [1, 1], [0, 0]]),
    "convolution_4_spatial_dims": lambda tf: tf.nn.convolution(np.zeros([1, 2, 2, 2, 2, 1], np.float32),
                                                               np.zeros([1, 1, 1, 1, 1, 1], np.float32), "SAME"),
    "convolution_filter_and_filters": lambda tf: tf.nn.convolution(X4, W4, "SAME", filters=W4),
    "convolution_negative_size": lambda tf: tf.nn.atrous_conv2d(X4, W4, 3, "VALID"),
    "pool_same_dilated": lambda tf: tf.nn.pool(X4, [2, 2], "MAX", "SAME", dilation_rate=[2, 2]),
    "pool_strides_over_window": lambda tf: tf.nn.pool(X4, [2, 2], "MAX", "VALID", strides=[3, 1]),
    "pool_rank": lambda tf: tf.nn.pool(X3, [2, 2], "MAX", "VALID"),
    "pool_type": lambda tf: tf.nn.pool(X4, [2, 2], "MIN", "VALID"),
    "pool_window_too_large": lambda tf: tf.nn.pool(X4, [8, 2], "MAX", "VALID"),
    "atrous_conv2d_rate0": lambda tf: tf.nn.atrous_conv2d(X4, W4, 0, "SAME"),
    "atrous_conv2d_transpose_channels": lambda tf: tf.nn.atrous_conv2d_transpose(X4, W4, [2, 7, 6, 3], 2, "SAME"),
    "atrous_conv2d_transpose_padding": lambda tf: tf.nn.atrous_conv2d_transpose(V4, W4, [2, 7, 6, 3], 2, "FULL"),
    "with_space_to_batch_same_without_filter": lambda tf: tf.nn.with_space_to_batch(X4, [2, 2], "SAME",
                                                                                    lambda x, n, p: x),
    "conv1d_padding_pairs": lambda tf: tf.nn.conv1d(X3, W3, 1, [[0, 0], [1, 2], [0, 0]]),
    "conv1d_padding_pairs_4": lambda tf: tf.nn.conv1d(X3, W3, 1, [[0, 0], [0, 0], [1, 2], [0, 0]]),
    "conv1d_explicit_string": lambda tf: tf.nn.conv1d(X3, W3, 1, "EXPLICIT"),
    "conv1d_value_and_input": lambda tf: tf.nn.conv1d(X3, W3, 1, "SAME", input=X3),
    "conv1d_data_format": lambda tf: tf.nn.conv1d(X3, W3, 1, "SAME", data_format="NDHWC"),
    "conv1d_negative_size": lambda tf: tf.nn.conv1d(X3[:, :2], W3, 1, "VALID"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_match_tensorflow(case):
    _op_oracle.compare_error(ERRORS[case])


# ------------------------------------------------------------------------------------------------
# static_bidirectional_rnn with sequence_length
# ------------------------------------------------------------------------------------------------
SEQ = RS.randn(3, 5, 4).astype(np.float32)


def _ramp(shape, dtype=None, partition_info=None):
    """A deterministic, non-symmetric initializer both libraries run alike."""
    return np.sin(np.arange(np.prod(shape))).reshape(shape).astype(np.float32)


def _birnn(cell, lengths, scope=None, grads=False):
    def build(tf):
        make = {"gru": lambda: tf.nn.rnn_cell.GRUCell(3, kernel_initializer=lambda *a, **k: tf.constant(_ramp(*a))),
                "lstm": lambda: tf.nn.rnn_cell.LSTMCell(2, initializer=lambda *a, **k: tf.constant(_ramp(*a)))}[cell]
        x = tf.constant(SEQ)
        with tf.variable_scope("v", initializer=tf.constant_initializer(0.1)):
            outputs, state_fw, state_bw = tf.nn.static_bidirectional_rnn(
                make(), make(), tf.unstack(x, axis=1), dtype=tf.float32, scope=scope,
                sequence_length=None if lengths is None else tf.constant(lengths))
        fetches = [outputs, state_fw, state_bw]
        if grads:
            fetches += tf.gradients(tf.reduce_sum(tf.stack(outputs) * tf.stack(outputs)), [x])
        return fetches
    return build


BIRNN = {
    "gru_lengths": _birnn("gru", [5, 2, 0]),
    "gru_no_lengths": _birnn("gru", None),
    "lstm_lengths_scope": _birnn("lstm", [3, 5, 1], scope="bi"),
    "gru_lengths_grads": _birnn("gru", [4, 1, 5], grads=True),
}


@pytest.mark.parametrize("case", sorted(BIRNN))
def test_static_bidirectional_rnn_matches_tensorflow(case):
    _op_oracle.compare(BIRNN[case], tol=1e-5, runs=2)

    def variables(lib):
        graph = lib.Graph()
        with graph.as_default():
            BIRNN[case](lib)
            return [v.name for v in lib.global_variables()]
    assert variables(__import__("graphcompat")) == variables(oracle.tf1())


@pytest.mark.parametrize("case", ["not_a_sequence", "empty", "not_a_cell"])
def test_static_bidirectional_rnn_errors(case):
    def build(tf):
        gru = tf.nn.rnn_cell.GRUCell(2)
        args = {"not_a_sequence": (gru, gru, tf.constant(SEQ)), "empty": (gru, gru, []),
                "not_a_cell": (gru, "cell", [tf.constant(SEQ[:, 0])])}[case]
        return tf.nn.static_bidirectional_rnn(*args, dtype=tf.float32, sequence_length=[1, 2, 3])
    _op_oracle.compare_error(build)


# ------------------------------------------------------------------------------------------------
# compute_average_loss, scale_regularization_loss, collapse_repeated, compute_accidental_hits
# ------------------------------------------------------------------------------------------------
PEL = np.array([1.5, 2.0, -0.5, 4.0], np.float32)
LABELS = np.array([[1, 1, 2, 2, 3, 0], [4, 4, 4, 1, 1, 2], [5, 6, 6, 6, 6, 6]], np.int32)
TRUE = np.array([[1, 2], [3, 1], [7, 8]], np.int64)
SAMPLED = np.array([1, 5, 3, 1, 8], np.int64)


def _feeds(**values):
    def feed(tf, graph):
        return {graph.get_tensor_by_name(f"{k}:0"): v for k, v in values.items()}
    return feed


LOSSES = {
    "average_loss": (lambda tf: tf.nn.compute_average_loss(PEL), None),
    "average_loss_weighted": (lambda tf: tf.nn.compute_average_loss(PEL, sample_weight=[1.0, 0.5, 2.0, 0.0]), None),
    "average_loss_float64_global_batch": (lambda tf: tf.nn.compute_average_loss(
        PEL.astype(np.float64) / 3, sample_weight=0.3, global_batch_size=8), None),
    "average_loss_rank2_weights_expanded": (lambda tf: tf.nn.compute_average_loss(
        np.stack([PEL, PEL * 2], 1), sample_weight=[1.0, 0.5, 2.0, 0.0]), None),
    "average_loss_rank3_weights_squeezed": (lambda tf: tf.nn.compute_average_loss(
        np.stack([PEL, PEL * 2], 1), sample_weight=np.full([4, 2, 1], 0.5, np.float32)), None),
    "average_loss_zero_global_batch": (lambda tf: tf.nn.compute_average_loss(PEL, global_batch_size=0), None),
    "average_loss_unknown_ranks": (lambda tf: tf.nn.compute_average_loss(
        tf.placeholder(tf.float32, None, name="a"), sample_weight=tf.placeholder(tf.float32, None, name="b")),
        _feeds(a=np.stack([PEL, PEL], 1), b=PEL)),
    "scale_regularization_loss": (lambda tf: [tf.nn.scale_regularization_loss(PEL),
                                              tf.nn.scale_regularization_loss(2.5)], None),
    "collapse_repeated": (lambda tf: list(tf.nn.collapse_repeated(LABELS, [6, 4, 3])), None),
    "collapse_repeated_int64_empty_row": (lambda tf: list(tf.nn.collapse_repeated(
        LABELS.astype(np.int64), np.array([5, 6, 0], np.int64))), None),
    "collapse_repeated_unknown": (lambda tf: list(tf.nn.collapse_repeated(
        tf.placeholder(tf.int32, [None, None], name="a"), tf.placeholder(tf.int32, [None], name="b"))),
        _feeds(a=LABELS, b=[2, 6, 5])),
    "accidental_hits": (lambda tf: list(tf.nn.compute_accidental_hits(TRUE, SAMPLED, 2)), None),
    "accidental_hits_none": (lambda tf: list(tf.nn.compute_accidental_hits(TRUE[:, :1] + 10, SAMPLED, 1)), None),
}
# graphcompat records tf.cond's branches in the graph (TF: StatelessIf function bodies); its shape inference
# does not fold collapse_repeated's constant Max/SequenceMask subgraph (TF: Const shapes), same values.
LOSS_NAMES = sorted(set(LOSSES) - {"average_loss_unknown_ranks", "collapse_repeated",
                                   "collapse_repeated_int64_empty_row"})


@pytest.mark.parametrize("case", sorted(LOSSES))
def test_losses_and_labels_match_tensorflow(case):
    build, feed = LOSSES[case]
    _op_oracle.compare(build, feed, tol=1e-6, runs=2)


@pytest.mark.parametrize("case", LOSS_NAMES)
def test_losses_and_labels_op_names(case):
    build = LOSSES[case][0]
    assert oracle.op_names(__import__("graphcompat"), build) == oracle.op_names(oracle.tf1(), build)


def _hits_fed(tf):
    return tf.nn.compute_accidental_hits(tf.placeholder(tf.int64, None, name="t"),
                                         tf.placeholder(tf.int64, None, name="s"), 2)


LOSS_ERRORS = {
    "average_loss_scalar": (lambda tf: tf.nn.compute_average_loss(3.0), None),
    "average_loss_float_global_batch": (lambda tf: tf.nn.compute_average_loss(PEL, global_batch_size=2.0), None),
    "average_loss_vector_global_batch": (lambda tf: tf.nn.compute_average_loss(PEL, global_batch_size=[2, 3]), None),
    "average_loss_negative_global_batch": (lambda tf: tf.nn.compute_average_loss(PEL, global_batch_size=-2), None),
    "accidental_hits_rank": (lambda tf: tf.nn.compute_accidental_hits(TRUE[:, 0], SAMPLED, 1), None),
    "accidental_hits_num_true": (lambda tf: tf.nn.compute_accidental_hits(TRUE, SAMPLED, 1), None),
    "accidental_hits_dtype": (lambda tf: tf.nn.compute_accidental_hits(tf.constant(TRUE.astype(np.int32)),
                                                                       SAMPLED, 2), None),
    "accidental_hits_fed_columns": (_hits_fed, _feeds(t=[[1, 2, 3]], s=[1])),
    "accidental_hits_fed_vector": (_hits_fed, _feeds(t=[1, 2], s=[1])),
    "accidental_hits_fed_sampled_matrix": (_hits_fed, _feeds(t=[[1, 2]], s=[[1]])),
}


@pytest.mark.parametrize("case", sorted(LOSS_ERRORS))
def test_losses_and_labels_errors(case):
    build, feed = LOSS_ERRORS[case]
    _op_oracle.compare_error(build, feed)


# ------------------------------------------------------------------------------------------------
# all_candidate_sampler (deterministic: every class, expected count 1), and sampled losses over it
# ------------------------------------------------------------------------------------------------
CLASSES = np.array([[1, 4], [3, 0], [2, 2]], np.int64)
EMB_W = RS.randn(6, 4).astype(np.float32)
EMB_B = RS.randn(6).astype(np.float32)
INPUTS = RS.randn(3, 4).astype(np.float32)


def _sampled_loss(kind, remove_accidental_hits):
    def build(tf):
        labels = tf.constant(CLASSES[:, :1])
        sampled = tf.nn.all_candidate_sampler(labels, 1, 6, True)
        fn = tf.nn.sampled_softmax_loss if kind == "softmax" else tf.nn.nce_loss
        w, b, x = tf.constant(EMB_W), tf.constant(EMB_B), tf.constant(INPUTS)
        loss = fn(w, b, labels, x, 6, 6, sampled_values=sampled, remove_accidental_hits=remove_accidental_hits)
        return [loss] + [tf.convert_to_tensor(g) for g in tf.gradients(tf.reduce_sum(loss), [w, b, x])]
    return build


SAMPLERS = {
    "all_candidate_sampler": lambda tf: [list(tf.nn.all_candidate_sampler(CLASSES, 2, 5, True)),
                                         list(tf.nn.all_candidate_sampler(CLASSES[:, :1], 1, 4, False, seed=3)),
                                         list(tf.random.all_candidate_sampler(CLASSES, 2, 7, True))],
    "sampled_softmax_all_classes": _sampled_loss("softmax", True),
    "sampled_softmax_all_classes_keep_hits": _sampled_loss("softmax", False),
    "nce_all_classes": _sampled_loss("nce", False),
    "sampled_softmax_repeated_samples": lambda tf: _repeated_samples_loss(tf),
}


def _repeated_samples_loss(tf):
    """A caller's sampled_values with repeated ids: TF masks the accidental hit at the id's LAST position
    only (ComputeAccidentalHits maps each sampled id to its last position)."""
    sampled = (tf.constant(np.array([5, 1, 5, 2, 4, 2], np.int64)),
               tf.constant(np.full((3, 1), 0.3, np.float32)), tf.constant(np.full(6, 0.2, np.float32)))
    w, b, x = tf.constant(EMB_W), tf.constant(EMB_B), tf.constant(INPUTS)
    labels = tf.constant(np.array([[2], [5], [4]], np.int64))
    loss = tf.nn.sampled_softmax_loss(w, b, labels, x, 6, 6, sampled_values=sampled)
    return [loss] + [tf.convert_to_tensor(g) for g in tf.gradients(tf.reduce_sum(loss), [w, x])]


@pytest.mark.parametrize("case", sorted(SAMPLERS))
def test_all_candidate_sampler_matches_tensorflow(case):
    _op_oracle.compare(SAMPLERS[case], tol=1e-5, runs=2)


def test_all_candidate_sampler_op_names():
    build = SAMPLERS["all_candidate_sampler"]
    assert oracle.op_names(__import__("graphcompat"), build) == oracle.op_names(oracle.tf1(), build)


SAMPLER_ERRORS = {
    "rank": (lambda tf: tf.nn.all_candidate_sampler(CLASSES[:, 0], 1, 5, True), None),
    "num_sampled_0": (lambda tf: tf.nn.all_candidate_sampler(CLASSES, 2, 0, True), None),
    "num_true_0": (lambda tf: tf.nn.all_candidate_sampler(CLASSES, 0, 5, True), None),
    "num_true_columns": (lambda tf: tf.nn.all_candidate_sampler(CLASSES, 3, 5, True), None),
    "class_out_of_range": (lambda tf: tf.nn.all_candidate_sampler(CLASSES, 2, 4, True), None),
    "fed_class_out_of_range": (lambda tf: tf.nn.all_candidate_sampler(
        tf.placeholder(tf.int64, [None, 2], name="t"), 2, 4, True), _feeds(t=[[0, 1], [5, 2]])),
}


@pytest.mark.parametrize("case", sorted(SAMPLER_ERRORS))
def test_all_candidate_sampler_errors(case):
    build, feed = SAMPLER_ERRORS[case]
    _op_oracle.compare_error(build, feed, runs=2)


# ------------------------------------------------------------------------------------------------
# fixed_unigram_candidate_sampler: draws cannot equal TF's bit for bit; what is deterministic is compared
# with TF (expected counts without `unique`, op names, errors), the rest is checked against the weights
# ------------------------------------------------------------------------------------------------
UNIGRAMS = [5.0, 1.0, 2.0, 3.0, 0.5, 7.0, 1.0, 2.0]
VOCAB_LINES = "the,50\nof,30\ncat,5\ndog,10\nzebra,1\n"


def _vocab_file(tmp_path_factory=None) -> str:
    import tempfile
    path = os.path.join(tempfile.gettempdir(), f"graphcompat_unigram_vocab_{os.getpid()}.csv")
    with open(path, "w") as f:
        f.write(VOCAB_LINES)
    return path


def _unigram_weights(unigrams, distortion=1.0, reserved=0, shards=1, shard=0):
    """The kernel's weights, written out: reserved ids of the shard at 0, then the shard's weights ** d."""
    weights = [0.0] * sum(1 for i in range(reserved) if i % shards == shard)
    word_id = len(weights)
    for w in unigrams:
        if word_id % shards == shard:
            weights.append(np.float32(w) ** np.float32(distortion))
        word_id += 1
    weights = np.asarray(weights, np.float32)
    return weights / weights.sum()


UNIGRAM_CASES = {  # expected counts of true classes without `unique` are p * num_sampled: deterministic
    "unigrams_distorted": lambda tf: list(tf.nn.fixed_unigram_candidate_sampler(
        CLASSES, 2, 5, False, 8, unigrams=UNIGRAMS, distortion=0.75, seed=1))[1:2],
    "vocab_file_reserved": lambda tf: list(tf.nn.fixed_unigram_candidate_sampler(
        CLASSES[:, :1], 1, 3, False, 6, vocab_file=_vocab_file(), num_reserved_ids=1, seed=2))[1:2],
    "shards": lambda tf: list(tf.nn.fixed_unigram_candidate_sampler(
        CLASSES[:, 1:] % 4, 1, 2, False, 4, unigrams=UNIGRAMS, num_shards=2, shard=1, seed=3))[1:2],
    # a Python list of classes converts to the op's int64 (it became an int32 tensor first and was refused)
    "log_uniform_list_of_classes": lambda tf: list(tf.nn.log_uniform_candidate_sampler(
        [[1, 2], [3, 0]], 2, 4, False, 10, seed=1))[1:2],
}


@pytest.mark.parametrize("case", sorted(UNIGRAM_CASES))
def test_fixed_unigram_expected_counts_match_tensorflow(case):
    _op_oracle.compare(UNIGRAM_CASES[case], tol=1e-6, runs=2)


@pytest.mark.parametrize("unique", [False, True])
def test_fixed_unigram_draws_follow_the_weights(unique):
    """Sampled ids come from the distorted weights (never a zero-weight id), unique when asked, and each
    sampled expected count is the kernel's formula for that id."""
    import graphcompat as tf
    p = _unigram_weights(UNIGRAMS[2:], distortion=0.75, reserved=2)
    with tf.Graph().as_default():
        num = 4000 if not unique else 5
        sampled, true_count, sampled_count = tf.nn.fixed_unigram_candidate_sampler(
            CLASSES, 2, num, unique, 8, unigrams=UNIGRAMS[2:], distortion=0.75, num_reserved_ids=2, seed=7)
        with tf.Session() as sess:
            s, t, c = sess.run([sampled, true_count, sampled_count])
    assert s.dtype == np.int64 and s.shape == (num,) and t.shape == CLASSES.shape
    assert np.all(p[s] > 0)  # the reserved ids 0 and 1 are never drawn
    if unique:
        assert len(set(s.tolist())) == num
        assert np.all(c >= p[s] - 1e-6) and np.all(c <= 1.0)  # P(drawn in `tries` >= num draws)
    else:
        np.testing.assert_allclose(c, p[s] * num, rtol=1e-5)
        np.testing.assert_allclose(np.bincount(s, minlength=8) / num, p, atol=0.03)


UNIGRAM_ERRORS = {
    "neither": lambda tf: tf.nn.fixed_unigram_candidate_sampler(CLASSES, 2, 2, True, 5),
    "both": lambda tf: tf.nn.fixed_unigram_candidate_sampler(CLASSES, 2, 2, True, 5, vocab_file=_vocab_file(),
                                                             unigrams=[1.0] * 5),
    "range_not_weights": lambda tf: tf.nn.fixed_unigram_candidate_sampler(CLASSES, 2, 2, True, 6,
                                                                          unigrams=UNIGRAMS),
    "range_too_small": lambda tf: tf.nn.fixed_unigram_candidate_sampler(CLASSES, 2, 9, True, 8, unigrams=UNIGRAMS),
    "class_out_of_range": lambda tf: tf.nn.fixed_unigram_candidate_sampler(CLASSES, 2, 2, False, 4,
                                                                           unigrams=UNIGRAMS[:4]),
    "log_uniform_class_out_of_range": lambda tf: tf.nn.log_uniform_candidate_sampler(CLASSES, 2, 2, True, 4),
    "num_shards_0": lambda tf: tf.nn.fixed_unigram_candidate_sampler(CLASSES, 2, 2, True, 8, unigrams=UNIGRAMS,
                                                                     num_shards=0),
    "learned_class_out_of_range": lambda tf: tf.nn.learned_unigram_candidate_sampler(CLASSES, 2, 2, False, 4),
    "learned_range_too_small": lambda tf: tf.nn.learned_unigram_candidate_sampler(CLASSES, 2, 9, True, 8),
}


@pytest.mark.parametrize("case", sorted(UNIGRAM_ERRORS))
def test_fixed_unigram_errors(case):
    _op_oracle.compare_error(UNIGRAM_ERRORS[case], runs=2)


def _learned_counts_over_runs(tf):
    """Expected counts of learned_unigram_candidate_sampler over three runs of one session: the sampler's
    counts (1 per class at the start) grow by each run's true classes, so later runs' counts follow."""
    classes = tf.placeholder(tf.int64, [None, 2])
    with tf.Session() as sess:
        out = tf.nn.learned_unigram_candidate_sampler(classes, 2, 5, False, 6, seed=1)
        return [sess.run(out[1], {classes: batch}) for batch in ([[0, 1], [1, 1]], [[5, 2], [1, 0]], [[1, 1]])]


def test_learned_unigram_counts_follow_the_true_classes_as_tensorflow():
    import graphcompat as tf
    with tf.Graph().as_default():
        got = _learned_counts_over_runs(tf)
    v1 = oracle.tf1()
    with v1.Graph().as_default():
        want = _learned_counts_over_runs(v1)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_learned_unigram_draws_follow_the_learned_counts():
    import graphcompat as tf
    with tf.Graph().as_default():
        classes = tf.placeholder(tf.int64, [None, 2])
        sampled, _, expected = tf.nn.learned_unigram_candidate_sampler(classes, 2, 3000, False, 6, seed=2)
        unique = tf.nn.learned_unigram_candidate_sampler(classes, 2, 4, True, 6, seed=3)[0]
        with tf.Session() as sess:
            sess.run(sampled, {classes: [[1, 1], [1, 1], [1, 2]]})  # counts become [1, 6, 2, 1, 1, 1]
            s, c = sess.run([sampled, expected], {classes: [[0, 0]]})
            u = sess.run(unique, {classes: [[0, 0]]})
    p = np.array([1, 6, 2, 1, 1, 1], np.float32) / 12
    np.testing.assert_allclose(np.bincount(s, minlength=6) / 3000, p, atol=0.03)
    np.testing.assert_allclose(c, p[s] * 3000, rtol=1e-5)
    assert len(set(u.tolist())) == 4

