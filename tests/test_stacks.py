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


CASES = {"lifo": _lifo, "pop_empty": _pop_empty, "pop_unnamed_empty": _pop_unnamed_empty,
         "overflow": _overflow, "wrong_elem_type": _wrong_elem_type, "pop_other_type": _pop_other_type,
         "closed": _closed, "max_size_not_scalar": _max_size_not_scalar}


def _tf_writes(build):
    """(graph_def, fetch names, TF's values or (error class name, message))."""
    v1 = oracle.tf1()
    from tensorflow.python.ops import gen_data_flow_ops
    graph = v1.Graph()
    with graph.as_default():
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
            for _ in range(2):  # every run starts with new, empty stacks
                try:
                    got = sess.run(names)
                except tf.errors.OpError as err:
                    got = (type(err).__name__, err.message)
                if isinstance(want, tuple):
                    assert isinstance(got, tuple), got
                    assert got[0] == want[0] and _kernel_text(got[1]) == _kernel_text(want[1]), (got, want)
                else:
                    oracle.assert_same_values(got, want, 0, 0, case)
