"""No silent wrong answers: bad input raises TF's error class and message, on the first (op-by-op) run and on
later (compiled) runs alike, before any state changes; builders validate their arguments as TF's Python does.

The per-op bad-input columns live in the family tables (tests/test_*_ops.py, `Case(..., bad=[Bad(...)])`);
this module holds what cuts across ops (state atomicity, compiled plans, graphs, builders) and the oracle test
that runs every bad-input line of every table under real TensorFlow and compares class and message.
"""
from __future__ import annotations

import importlib
import re

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle
from tests._conformance import _leaves

E = tf.errors
DIV0 = "Integer division by zero"


# ------------------------------------------------------------------------------------------------
# A failed op leaves every variable untouched, whatever the plan (first run, compiled, compiled on first run)
# ------------------------------------------------------------------------------------------------
def _assign_floordiv(tf, v, z):
    return tf.assign(v, v // z)


def _assign_add_floordiv(tf, v, z):  # AssignAdd makes the plan compile on its first run
    return tf.assign_add(v, v // z)


def _scatter_index(tf, v, z):
    return tf.scatter_add(v, tf.stack([0, z]), [1, 1])


def _gather_then_assign(tf, v, z):
    return tf.assign(v, tf.gather(v, tf.stack([z, z, z])))


STATE_CASES = [
    # (id, build(tf, v, z) -> op, good z, bad z, TF's error class, message)
    ("assign_floordiv", _assign_floordiv, 2, 0, E.InvalidArgumentError, DIV0),
    ("assign_add_floordiv", _assign_add_floordiv, 2, 0, E.InvalidArgumentError, DIV0),
    ("assign_floormod", lambda tf, v, z: tf.assign(v, v % z), 3, 0, E.InvalidArgumentError, DIV0),
    ("assign_sub_truncatediv", lambda tf, v, z: tf.assign_sub(v, tf.truncatediv(v, z)), 3, 0, E.InternalError,
     "Unexpected error in binary operator"),
    ("scatter_add_out_of_range", _scatter_index, 1, 7, E.InvalidArgumentError, "indices[1] = 7 is not in [0, 3)"),
    ("assign_gather_out_of_range", _gather_then_assign, 1, 5, E.InvalidArgumentError,
     "indices[0] = 5 is not in [0, 3)"),
    ("assign_pow_negative", lambda tf, v, z: tf.assign(v, tf.pow(v, z - 1)), 2, 0, E.InvalidArgumentError,
     "Integers to negative integer powers are not allowed"),
]


@pytest.mark.parametrize("build, good, bad, error, message", [c[1:] for c in STATE_CASES],
                         ids=[c[0] for c in STATE_CASES])
def test_failed_run_changes_no_variable(build, good, bad, error, message):
    """Runs 1-5 with the bad value raise and leave the variable as it was; good runs in between keep the
    plan's compiled form in use."""
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable([10, 20, 30], name="v")
        z = tf.placeholder(tf.int32, [])
        op = build(tf, v, z)
        others = [x for x in tf.global_variables() if x is not v]
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            for run in range(5):
                before = sess.run([v] + others)
                with pytest.raises(error, match=re.escape(message)):
                    sess.run(op, {z: bad})
                after = sess.run([v] + others)
                for b, a in zip(before, after):
                    np.testing.assert_array_equal(a, b)
                if run in (0, 1):
                    sess.run(op, {z: good})  # succeeds (and compiles the plan)
            assert any(r.compiled or r.padded for r in sess._runners)


def test_compiled_training_step_with_a_bad_batch_keeps_every_variable():
    """A training step (compiled on its first run) whose loss gathers an out-of-range row raises, and neither
    the weights nor the optimizer's slots nor the global step move."""
    graph = tf.Graph()
    with graph.as_default():
        emb = tf.Variable(np.ones((4, 2), np.float32), name="emb")
        ids = tf.placeholder(tf.int32, [None])
        step = tf.train.get_or_create_global_step()
        loss = tf.reduce_sum(tf.square(tf.gather(emb, ids)))
        train = tf.train.AdamOptimizer(0.1).minimize(loss, global_step=step)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {ids: [0, 1]})
            state = sess.run(tf.global_variables())
            for _ in range(3):
                with pytest.raises(E.InvalidArgumentError, match=re.escape("indices[1] = 4 is not in [0, 4)")):
                    sess.run(train, {ids: [0, 4]})
                for before, after in zip(state, sess.run(tf.global_variables())):
                    np.testing.assert_array_equal(after, before)
            sess.run(train, {ids: [3, 2]})
            assert sess.run(step) == 2


def test_gather_inside_while_loop_raises_tf_error():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [3])
        i = tf.placeholder(tf.int32, [])
        total = tf.while_loop(lambda k, s: k < 3, lambda k, s: (k + 1, s + tf.gather(x, k + i)), [0, 0.0])[1]
        with tf.Session(graph=graph) as sess:
            assert sess.run(total, {x: [1, 2, 3], i: 0}) == 6
            for _ in range(3):
                with pytest.raises(E.InvalidArgumentError, match=re.escape("indices = 3 is not in [0, 3)")):
                    sess.run(total, {x: [1, 2, 3], i: 1})


# ------------------------------------------------------------------------------------------------
# Builders: TF's Python validation (class and message) while the graph is built
# ------------------------------------------------------------------------------------------------
def _two_graphs(combine):
    def build(tf):
        g1, g2 = tf.Graph(), tf.Graph()
        with g1.as_default():
            a = tf.constant(1.0, name="a")
        with g2.as_default():
            b = tf.constant(2.0, name="b")
        with g1.as_default():
            return combine(tf, a, b)
    return build


BUILD_ERRORS = [
    # (id, build(tf), error class, TF's message (its start; shape-function messages up to " for '"))
    ("concat_empty", lambda tf: tf.concat([], 0), ValueError,
     "List argument 'values' to 'ConcatV2' Op with length 0 shorter than minimum length 2."),
    ("placeholder_none_dtype", lambda tf: tf.placeholder(None), TypeError,
     "Expected DataType for argument 'dtype' not None."),
    ("placeholder_bad_dtype", lambda tf: tf.placeholder("foo"), TypeError,
     "Expected DataType for argument 'dtype' not 'foo'."),
    ("placeholder_negative_dim", lambda tf: tf.placeholder(tf.float32, [-2]), ValueError,
     "Error converting shape to a TensorShape: Dimension -2 must be >= 0."),
    ("constant_empty_name", lambda tf: tf.constant(1, name=""), ValueError, "`` is not a valid node name."),
    ("constant_bad_name", lambda tf: tf.constant(1, name="a b"), ValueError, "`a b` is not a valid node name."),
    ("zeros_negative", lambda tf: tf.zeros([-1]), ValueError, "Fill dimensions must be >= 0"),
    ("ones_negative", lambda tf: tf.ones([-1, 2]), ValueError, "Fill dimensions must be >= 0"),
    ("fill_negative", lambda tf: tf.fill([-1], 1.0), ValueError, "Fill dimensions must be >= 0"),
    ("range_zero_delta", lambda tf: tf.range(0, 5, 0), ValueError, "Requires delta != 0"),
    ("one_hot_negative_depth", lambda tf: tf.one_hot([1], -3), ValueError,
     "Dimension size, given by scalar input 1, must be non-negative but is -3"),
    ("reshape_size_mismatch", lambda tf: tf.reshape(tf.zeros([6]), [4, 2]), ValueError,
     "Cannot reshape a tensor with 6 elements to shape [4,2] (8 elements)"),
    ("pad_negative", lambda tf: tf.pad(tf.zeros([2]), [[-1, 0]]), ValueError, "Paddings must be non-negative"),
    ("strided_slice_out_of_range", lambda tf: tf.zeros([3])[5], ValueError,
     "slice index 5 of dimension 0 out of bounds."),
    ("strided_slice_negative_out_of_range", lambda tf: tf.zeros([3])[-4], ValueError,
     "slice index -1 of dimension 0 out of bounds."),
    ("add_shapes", lambda tf: tf.zeros([2]) + tf.zeros([3]), ValueError, "Dimensions must be equal, but are 2 and 3"),
    ("floordiv_shapes", lambda tf: tf.zeros([2], tf.int32) // tf.zeros([3], tf.int32), ValueError,
     "Dimensions must be equal, but are 2 and 3"),
    ("matmul_shapes", lambda tf: tf.matmul(tf.zeros([2, 3]), tf.zeros([4, 5])), ValueError,
     "Dimensions must be equal, but are 3 and 4"),
    ("top_k_too_big", lambda tf: tf.nn.top_k(tf.zeros([3]), 5), ValueError,
     "input must have last dimension >= k = 5 but is 3"),
    ("expand_dims_axis", lambda tf: tf.expand_dims(tf.zeros([2]), 3), ValueError, "dim 3 not in the interval [-2, 1]."),
    ("tile_multiples_length", lambda tf: tf.tile(tf.zeros([2]), [1, 2]), ValueError,
     "Shape must be rank 1 but is rank 2"),
    ("dtype_mismatch", lambda tf: tf.add(tf.zeros([2]), tf.zeros([2], tf.int32)), TypeError,
     "Input 'y' of 'AddV2' Op has type int32 that does not match type float32 of argument 'x'."),
    ("random_shape_rank", lambda tf: tf.random_normal(tf.zeros([1, 1], tf.int32)), ValueError,
     "Shape must be rank 1 but is rank 2"),
    ("two_graphs_add", _two_graphs(lambda tf, a, b: tf.add(a, b)), ValueError,
     'Tensor("b:0", shape=(), dtype=float32) must be from the same graph as Tensor("a:0", shape=(), dtype=float32)'),
    ("two_graphs_operator", _two_graphs(lambda tf, a, b: a * b), ValueError,
     'Tensor("b:0", shape=(), dtype=float32) must be from the same graph as Tensor("a:0", shape=(), dtype=float32)'),
    ("two_graphs_stack", _two_graphs(lambda tf, a, b: tf.stack([a, b])), ValueError,
     'Tensor("b:0", shape=(), dtype=float32) must be from the same graph as Tensor("a:0", shape=(), dtype=float32)'),
    ("two_graphs_add_n", _two_graphs(lambda tf, a, b: tf.add_n([a, b])), ValueError,
     'Tensor("b:0", shape=(), dtype=float32) must be from the same graph as Tensor("a:0", shape=(), dtype=float32)'),
]


def _shape_fn_message(message: str) -> str:
    """A shape-function message without its node description (TF1 prints `for 'name' (op: 'Type')`, TF 2.x
    `for '{{node name}} = Type[...]'`)."""
    return re.split(r" for '", message)[0]


@pytest.mark.parametrize("build, error, message", [c[1:] for c in BUILD_ERRORS], ids=[c[0] for c in BUILD_ERRORS])
def test_builders_validate_as_tf(build, error, message):
    with tf.Graph().as_default():
        with pytest.raises(error) as info:
            build(tf)
    assert _shape_fn_message(str(info.value)).startswith(_shape_fn_message(message)), str(info.value)


BUILDS_THEN_RAISES = [
    # (id, build(tf) -> (fetch, feed), TF's error class, message): accepted while building, as TF
    ("tile_negative_constant", lambda tf: (tf.tile(tf.zeros([2]), [-1]), None), E.InvalidArgumentError,
     "Expected multiples[0] >= 0, but got -1"),
    ("gather_constant_out_of_range", lambda tf: (tf.gather(tf.zeros([3]), 5), None), E.InvalidArgumentError,
     "indices = 5 is not in [0, 3)"),
    ("transpose_bad_constant_perm", lambda tf: (tf.transpose(tf.zeros([2, 3]), [0, 0]), None), E.InvalidArgumentError,
     "1 is missing from {0,0}."),
    ("constant_floordiv_by_zero", lambda tf: (tf.constant(1) // tf.constant(0), None), E.InvalidArgumentError, DIV0),
    ("cast_string_constant", lambda tf: (tf.cast(tf.constant("1"), tf.float32), None), E.UnimplementedError,
     "Cast string to float is not supported"),
    ("random_negative_constant_shape", lambda tf: (tf.random_normal([-1]), None), E.InvalidArgumentError,
     "Dimension -1 must be >= 0"),
    ("index_unknown_rank", lambda tf: (lambda x, i: (x[i], {x: [1.0, 2.0, 3.0], i: 5}))(
        tf.placeholder(tf.float32), tf.placeholder(tf.int32)), E.InvalidArgumentError,
     "slice index 5 of dimension 0 out of bounds."),
    ("slice_constant_out_of_range", lambda tf: (tf.slice(tf.zeros([3]), [5], [1]), None), E.InvalidArgumentError,
     "Expected begin[0] in [0, 3], but got 5"),
]


@pytest.mark.parametrize("build, error, message", [c[1:] for c in BUILDS_THEN_RAISES],
                         ids=[c[0] for c in BUILDS_THEN_RAISES])
def test_accepted_while_building_raises_when_run(build, error, message):
    graph = tf.Graph()
    with graph.as_default():
        fetch, feed = build(tf)
        with tf.Session(graph=graph) as sess:
            for _ in range(3):
                with pytest.raises(error, match=re.escape(message)):
                    sess.run(fetch, feed)


# ------------------------------------------------------------------------------------------------
# Oracle: every bad-input line of every table, and the tables above, under real TensorFlow
# ------------------------------------------------------------------------------------------------
_FAMILY_TABLES = {
    "tests.test_math_ops": "ALL_TABLES", "tests.test_array_ops": "VALIDATING", "tests.test_nn_ops": "VALIDATING",
    "tests.test_image": "VALIDATING", "tests.test_random": "VALIDATING", "tests.test_data_dependent": "VALIDATING",
}


def _table_bad_lines() -> list:
    lines = []
    for module, table in _FAMILY_TABLES.items():
        try:
            cases = getattr(importlib.import_module(module), table)
        except BaseException:  # noqa: BLE001 (a family whose optional dependency is missing: its own tests skip)
            continue
        lines += [pytest.param(case, bad, id=f"{case.id}-{i}") for case in cases for i, bad in enumerate(case.bad)]
    return lines


def _tf_message(err) -> str:
    """The kernel's message inside a TF 2.x session error ("Graph execution error: … Node: 'x'\\n<message>")."""
    text = getattr(err, "message", None) or str(err)
    found = re.search(r"\nNode: '[^']*'\n(.*?)(\n\t \[\[|$)", text, re.S)
    return found.group(1) if found else text


def _tf_dtype(v1, value: np.ndarray):
    return v1.string if value.dtype == object else v1.as_dtype(value.dtype)


@pytest.mark.oracle
@pytest.mark.parametrize("case, bad", _table_bad_lines())
def test_bad_inputs_raise_what_tensorflow_raises(case, bad):
    v1 = oracle.tf1()
    inputs = [np.asarray(v) for v in bad.inputs]
    graph = v1.Graph()
    with graph.as_default():
        if bad.at == "build":
            with pytest.raises(Exception) as info:
                case.build(v1, *[v1.placeholder(_tf_dtype(v1, v), v.shape) for v in inputs])
            assert type(info.value).__name__ == bad.error.__name__
            assert bad.message in _shape_fn_message(str(info.value))
            return
        phs = [v1.placeholder(_tf_dtype(v1, v), [None] * v.ndim) for v in inputs]
        out = _leaves(case.build(v1, *phs))
        with v1.Session(graph=graph) as sess:
            with pytest.raises(v1.errors.OpError) as info:
                sess.run(out, dict(zip(phs, inputs)))
    assert type(info.value).__name__ == bad.error.__name__, _tf_message(info.value)
    assert bad.message in _tf_message(info.value)


@pytest.mark.oracle
@pytest.mark.parametrize("build, error, message", [c[1:] for c in BUILD_ERRORS], ids=[c[0] for c in BUILD_ERRORS])
def test_builder_errors_match_tensorflow(build, error, message):
    v1 = oracle.tf1()
    with v1.Graph().as_default():
        with pytest.raises(error) as info:
            build(v1)
    assert _shape_fn_message(str(info.value)).startswith(_shape_fn_message(message)), str(info.value)


@pytest.mark.oracle
@pytest.mark.parametrize("build, error, message", [c[1:] for c in BUILDS_THEN_RAISES],
                         ids=[c[0] for c in BUILDS_THEN_RAISES])
def test_run_errors_match_tensorflow(build, error, message):
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        fetch, feed = build(v1)
        with v1.Session(graph=graph) as sess:
            with pytest.raises(v1.errors.OpError) as info:
                sess.run(fetch, feed)
    assert type(info.value).__name__ == error.__name__
    assert message in _tf_message(info.value)


@pytest.mark.oracle
@pytest.mark.parametrize("build, good, bad, error, message", [c[1:] for c in STATE_CASES],
                         ids=[c[0] for c in STATE_CASES])
def test_state_cases_match_tensorflow(build, good, bad, error, message):
    v1 = oracle.tf1()
    graph = v1.Graph()
    with graph.as_default():
        v = v1.Variable([10, 20, 30], name="v")
        z = v1.placeholder(v1.int32, [])
        op = build(v1, v, z)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            with pytest.raises(v1.errors.OpError) as info:
                sess.run(op, {z: bad})
    # (TF's CPU scatter kernels apply the updates before the first bad index; graphcompat writes nothing.)
    assert type(info.value).__name__ == error.__name__
    assert message in _tf_message(info.value)
