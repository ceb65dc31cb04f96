"""TF's stacks (StackV2 / StackPushV2 / StackPopV2 / StackCloseV2), the ops TF 1's while-loop gradients
keep forward values on. TF has no public builder for them, so TF writes the graphs (`gen_data_flow_ops`)
and graphcompat imports and runs them: values and errors (class and text) are TF's kernels'. TF runs
them with grappler off, which otherwise drops a StackPushV2 whose output nothing reads."""
import re

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

pytestmark = pytest.mark.oracle


def _lifo(v1, g):
    h = g.stack_v2(-1, v1.float32, stack_name="foo")
    a = g.stack_push_v2(h, [1.0])
    with v1.control_dependencies([a]):
        b = g.stack_push_v2(h, [2.0, 3.0])
    with v1.control_dependencies([b]):
        p1 = g.stack_pop_v2(h, v1.float32)
    with v1.control_dependencies([p1]):
        p2 = g.stack_pop_v2(h, v1.float32)
    with v1.control_dependencies([p2]):
        c = g.stack_close_v2(h)
    with v1.control_dependencies([c]):
        return [b, p1, p2, v1.identity(p2, name="after_close")]


def _lifo_one_shape(v1, g):
    """Elements of one shape: the second run compiles (the stack as a buffer and a count in the run's state)."""
    h = g.stack_v2(-1, v1.float32, stack_name="foo")
    a = g.stack_push_v2(h, [1.0, 2.0])
    with v1.control_dependencies([a]):
        b = g.stack_push_v2(h, [3.0, 4.0])
    with v1.control_dependencies([b]):
        p1 = g.stack_pop_v2(h, v1.float32)
    with v1.control_dependencies([p1]):
        p2 = g.stack_pop_v2(h, v1.float32)
    return [p1 * 2.0, p2]


def _loops(pushes, pops):
    """A TF 1 loop with a maximum_iterations pushes, another pops (as TF 1's loop gradients): compiled, the
    stack is sized by the first loop's bound and carried by both loops; popping more than was pushed is TF's
    error (a compiled run's check, re-run op by op). Both loops run one iteration at a time
    (parallel_iterations=1): with TF's default of 10, TF's pops of different iterations race each other and
    its sums depend on thread scheduling."""
    def build(v1, g):
        h = g.stack_v2(-1, v1.float32, stack_name="foo")

        def push(i, acc):
            with v1.control_dependencies([g.stack_push_v2(h, v1.cast(i, v1.float32) * [1.0, 2.0])]):
                return [i + 1, acc + 1.0]
        _, pushed = v1.while_loop(lambda i, acc: i < pushes, push, [0, 0.0], maximum_iterations=pushes,
                                 parallel_iterations=1)

        def pop(i, acc):
            return [i + 1, v1.reshape(acc * 10.0 + g.stack_pop_v2(h, v1.float32), [2])]
        with v1.control_dependencies([pushed]):
            start = v1.identity(0)
        _, total = v1.while_loop(lambda i, acc: i < pops, pop, [start, v1.zeros([2])], maximum_iterations=pops,
                                parallel_iterations=1)
        return [pushed, total]
    return build


def _pop_empty(v1, g):
    return [g.stack_pop_v2(g.stack_v2(-1, v1.float32, stack_name="foo"), v1.float32)]


def _pop_unnamed_empty(v1, g):
    return [g.stack_pop_v2(g.stack_v2(5, v1.int32), v1.int32)]


def _overflow(v1, g):
    h = g.stack_v2(1, v1.float32, stack_name="foo")
    a = g.stack_push_v2(h, [1.0])
    with v1.control_dependencies([a]):
        b = g.stack_push_v2(h, [2.0])
    with v1.control_dependencies([b]):
        return [g.stack_pop_v2(h, v1.float32)]


def _wrong_elem_type(v1, g):
    h = g.stack_v2(5, v1.float32, stack_name="foo")
    a = g.stack_push_v2(h, [1])
    with v1.control_dependencies([a]):
        return [g.stack_pop_v2(h, v1.float32)]


def _pop_other_type(v1, g):
    h = g.stack_v2(5, v1.float32, stack_name="foo")
    a = g.stack_push_v2(h, [1.0])
    with v1.control_dependencies([a]):
        return [g.stack_pop_v2(h, v1.int32)]


def _closed(v1, g):
    h = g.stack_v2(5, v1.float32, stack_name="foo")
    c = g.stack_close_v2(h)
    with v1.control_dependencies([c]):
        a = g.stack_push_v2(h, [1.0])
    with v1.control_dependencies([a]):
        return [g.stack_pop_v2(h, v1.float32)]


def _max_size_not_scalar(v1, g):
    return [g.stack_pop_v2(g.stack_v2([5], v1.float32, stack_name="foo"), v1.float32)]


CASES = {"lifo": _lifo, "lifo_one_shape": _lifo_one_shape, "loops": _loops(3, 3), "loops_pop_empty": _loops(3, 4),
         "pop_empty": _pop_empty, "pop_unnamed_empty": _pop_unnamed_empty,
         "overflow": _overflow, "wrong_elem_type": _wrong_elem_type, "pop_other_type": _pop_other_type,
         "closed": _closed, "max_size_not_scalar": _max_size_not_scalar}


# cases whose elements have one shape and whose pushing loops have a static bound: their plans compile
COMPILED = {"lifo_one_shape", "loops"}


def _tf_writes(build):
    """(graph_def, fetch names, TF's values or (error class name, message))."""
    v1 = oracle.tf1()
    from tensorflow.python.ops import gen_data_flow_ops
    graph = v1.Graph()
    with graph.as_default(), oracle.control_flow_v2(False):
        names = [t.name for t in build(v1, gen_data_flow_ops)]
    config = v1.ConfigProto()
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    with v1.Session(graph=graph, config=config) as sess:
        try:
            result = sess.run(names)
        except v1.errors.OpError as err:
            result = (type(err).__name__, err.message)
    return graph.as_graph_def(), names, result


def _kernel_text(message: str) -> str:
    """The kernel's message (TF adds where the node was defined and a `[[{{node …}}]]` line); a stack's
    name ends in a process-wide counter (`foo_12`), which is normalized."""
    lines = [line for line in message.splitlines() if line.strip() and not line.strip().startswith("[[")]
    return re.sub(r"Stack\[(.*)_\d+\]", r"Stack[\1_N]", lines[-1].strip())


@pytest.mark.parametrize("case", list(CASES))
def test_stack_ops_run_as_tensorflows_kernels(case):
    graph_def, names, want = _tf_writes(CASES[case])
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=graph) as sess:
            compiled_before = tf.stats()["compiled_runs"]
            for _ in range(3):  # every run starts with new, empty stacks; op by op, then compiled
                try:
                    got = sess.run(names)
                except tf.errors.OpError as err:
                    got = (type(err).__name__, err.message)
                if isinstance(want, tuple):
                    assert isinstance(got, tuple), got
                    assert got[0] == want[0] and _kernel_text(got[1]) == _kernel_text(want[1]), (got, want)
                else:
                    oracle.assert_same_values(got, want, 0, 0, case)
            if not isinstance(want, tuple):
                assert (tf.stats()["compiled_runs"] > compiled_before) == (case in COMPILED)
