"""Helpers for oracle tests: run the same TF1 snippet under real `tensorflow.compat.v1`.

Usage:
    pytestmark = pytest.mark.oracle
    def test_x():
        v1 = oracle.tf1()                       # skips the test when TensorFlow is not installed
        got = oracle.run(graphcompat_module, build)   # build(tf) -> fetches, run in a fresh graph
        want = oracle.run(v1, build)
"""
from __future__ import annotations

import contextlib
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

_TF = None


def tf1():
    """`tensorflow.compat.v1`, or skip the calling test when TensorFlow is not installed."""
    global _TF
    if _TF is None:
        tf = pytest.importorskip("tensorflow")
        _TF = tf.compat.v1
    return _TF


def run(tf, build, feed=None, init_variables: bool = False):
    """Builds `build(tf)` in a fresh graph of `tf` (graphcompat or TF) and returns `sess.run` of its fetches.

    `feed(tf, graph)` may return a feed_dict. Works for TF without disabling eager execution globally.
    """
    graph = tf.Graph()
    with graph.as_default():
        fetches = build(tf)
        with tf.Session(graph=graph) as sess:
            if init_variables:
                sess.run(tf.global_variables_initializer())
            return sess.run(fetches, feed(tf, graph) if feed else None)


def names(lib, build) -> list:
    """The names of the tensors `build(lib)` returns, built in a fresh graph of `lib` (graphcompat or TF)."""
    graph = lib.Graph()
    with graph.as_default():
        return [t.name for t in build(lib)]


def assert_same_values(got, want, rtol: float, atol: float, label: str) -> None:
    """graphcompat's fetched values equal TF's: the same dtype and shape; floats to tolerance, others exactly."""
    import numpy as np
    for k, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (label, k, g.dtype, w.dtype, g.shape, w.shape)
        if w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"{label}[{k}]")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"{label}[{k}]")


@contextlib.contextmanager
def control_flow_v2(enabled: bool):
    """Real TF records (and its GraphDefs carry) control flow v2 (If/While + TensorLists) or TF 1.x's
    (Switch/Merge/Enter … + TensorArrayV3) inside the block; its setting is restored afterwards."""
    tf1()
    from tensorflow.python.ops import control_flow_util
    saved = control_flow_util.ENABLE_CONTROL_FLOW_V2
    control_flow_util.ENABLE_CONTROL_FLOW_V2 = bool(enabled)
    try:
        yield
    finally:
        control_flow_util.ENABLE_CONTROL_FLOW_V2 = saved


def op_names(lib, build, control_flow_v2: bool = True) -> list:
    """(name, type) of every op `build(lib)` records in a fresh graph of `lib`: TF's graph, node for node.
    `control_flow_v2=False` (TF only): the graph TF 1.x records, with Switch/Merge/Enter loops; TF's
    setting is restored afterwards."""
    if not control_flow_v2:
        was = lib.control_flow_v2_enabled()
        lib.disable_control_flow_v2()
        try:
            return op_names(lib, build)
        finally:
            if was:
                lib.enable_control_flow_v2()
    graph = lib.Graph()
    with graph.as_default():
        build(lib)
    return [(op.name, op.type) for op in graph.get_operations()]
