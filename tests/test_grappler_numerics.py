"""TF1's default Session runs the graph grappler optimized; its constant folding strength-reduces a
floating-point division by a constant to a multiplication by the reciprocal (lowering/grappler.py), which
rounds differently from the quotient in the last place. Bit-for-bit oracle tests: the divisions grappler
rewrites, and those it leaves exact (a variable or fed denominator, DivNoNan, a constant numerator, a
graph under 4 nodes); and the order in which TF's broadcast error names a commutative op's operands."""
import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests._op_oracle import assert_same_floats, compare

pytestmark = pytest.mark.oracle

# 6 / 7 = 0.85714287 divided, 6 * (1 / 7) = 0.8571429: many quotients differ in the last place
XS = np.arange(1, 65, dtype=np.float32) * np.float32(0.75)
SIX = np.float32(6.0)


def _feed(values: dict):
    return lambda tf, graph: {graph.get_tensor_by_name(f"{name}:0"): v for name, v in values.items()}


REWRITTEN = {
    "scalar": (lambda tf, x: x / 7.0, SIX),
    "vector": (lambda tf, x: x / 7.0, XS),
    "float64": (lambda tf, x: tf.cast(x, tf.float64) / 3.0, XS),
    "cast_denominator": (lambda tf, x: x / tf.cast(tf.constant(7), tf.float32), SIX),
    "folded_reduction": (lambda tf, x: x / tf.reduce_sum(tf.constant([3.0, 4.0])), SIX),
    "stop_gradient": (lambda tf, x: tf.div(x, tf.stop_gradient(tf.constant(7.0))), SIX),
    "vector_denominator": (lambda tf, x: tf.reshape(x, [16, 4]) / tf.constant([7.0, 9.0, 11.0, 13.0]), XS),
    "shape_denominator": (lambda tf, x: x / tf.cast(tf.size(tf.zeros([7])), tf.float32), SIX),
    "xdivy": (lambda tf, x: tf.math.xdivy(x * tf.constant([0.0, 1.0] * 32), tf.constant(7.0)), XS),
    "resize_ratio": (lambda tf, x: tf.floor(x / (x / 7.0)), SIX),
}


@pytest.mark.parametrize("name", sorted(REWRITTEN))
def test_division_by_a_constant_is_a_reciprocal_multiply(name):
    fn, value = REWRITTEN[name]

    def build(tf):
        return fn(tf, tf.placeholder(tf.float32, np.shape(value), name="x"))
    compare(build, _feed({"x": value}), exact=True)


EXACT = {
    "variable_denominator": lambda tf, x: x / tf.Variable(7.0),
    "fed_denominator": lambda tf, x: x / tf.placeholder_with_default(7.0, []),
    "div_no_nan": lambda tf, x: tf.div_no_nan(x, tf.constant(7.0)),
    "constant_numerator": lambda tf, x: [x, tf.constant(6.0) / tf.constant(7.0)],
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_divisions_grappler_leaves_exact(name):
    def build(tf):
        return EXACT[name](tf, tf.placeholder(tf.float32, [], name="x"))
    compare(build, _feed({"x": SIX}), exact=True)


def test_a_fed_constant_denominator_is_not_folded():
    def build(tf):
        tf.constant(0.0, name="unused")
        return tf.placeholder(tf.float32, [], name="x") / tf.constant(1.0, name="c")
    compare(build, _feed({"x": SIX, "c": np.float32(7.0)}), exact=True)


@pytest.mark.parametrize("unused", [0, 1])
def test_graphs_under_four_nodes_are_not_optimized(unused):
    """grappler's meta optimizer skips graphs of fewer than 4 nodes (min_graph_nodes): x / 7.0 alone is
    3 nodes and divides exactly; one more node anywhere in the graph and it multiplies."""
    v1 = oracle.tf1()

    def build(tf):
        for i in range(unused):
            tf.constant(0.0, name=f"unused_{i}")
        return tf.placeholder(tf.float32, [], name="x") / 7.0
    feed = _feed({"x": SIX})
    want = oracle.run(v1, build, feed)
    assert_same_floats(np.asarray(oracle.run(graphcompat, build, feed)), np.asarray(want))
    assert want == (SIX / np.float32(7) if unused == 0 else SIX * (np.float32(1) / np.float32(7)))


# grappler's CommonSubgraphElimination canonicalizes every node first: a commutative op's (TF's
# is_commutative OpDefs, Add of non-strings) data inputs are sorted by name, so BCast's "Incompatible
# shapes: [a] vs. [b]" names the operands in that order. Never in graphs under 4 nodes.
A2, B3 = np.zeros(2, np.float32), np.zeros(3, np.float32)
OPERAND_ORDER = {
    "mul_swapped": lambda tf, x, w: tf.identity(tf.multiply(x, w)),
    "add_swapped": lambda tf, x, w: tf.identity(tf.add(x, w)),
    "squared_difference": lambda tf, x, w: tf.identity(tf.squared_difference(x, w)),
    "equal_in_order": lambda tf, x, w: tf.identity(tf.equal(w, x)),
    "under_four_nodes": lambda tf, x, w: tf.multiply(x, w),
    "sub_not_commutative": lambda tf, x, w: tf.identity(tf.subtract(x, w)),
    "maximum_not_commutative": lambda tf, x, w: tf.identity(tf.maximum(x, w)),
    "second_output": lambda tf, x, w: tf.identity(tf.multiply(tf.split(tf.concat([x, x], 0), 2)[1], w)),
    "logical_and": lambda tf, x, w: tf.identity(tf.logical_and(x > 0, w > 0)),
}


@pytest.mark.parametrize("name", sorted(OPERAND_ORDER))
def test_commutative_operands_in_grapplers_order(name):
    """x (fed [2]) and w (fed [3]): "w" sorts before "x"; "split:1" (a second output) before "w"."""
    from tests._bad_input_sweep import kernel_text
    from tests._op_oracle import error_of
    fn = OPERAND_ORDER[name]

    def build(tf):
        return [fn(tf, tf.placeholder(tf.float32, [None], name="x"), tf.placeholder(tf.float32, [None], name="w"))]
    feed = _feed({"x": A2, "w": B3})
    want, got = error_of(oracle.tf1(), build, feed), error_of(graphcompat, build, feed)
    assert type(got).__name__ == type(want).__name__ == "InvalidArgumentError", (got, want)
    assert kernel_text(got.message) == kernel_text(want.message)
