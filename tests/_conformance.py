"""Conformance-table harness shared by the op-family tests.

`check(case)` builds `case.build(tf, *placeholders)` in a fresh graph (one placeholder per input,
with the input's exact shape and dtype), runs it three times (eager first run, compile, compiled
run), and compares with `case.ref(*inputs)` (numpy encoding TF's semantics): value within `tol`,
dtype, runtime shape, and the static shape TF-style inference gave the tensor. The compiled plan
must not retrace on the third run (one plan, one executable: `lowering.executor.executable_counts`).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

import numpy as np

import graphcompat as tf
from lowering.executor import executable_counts


@dataclasses.dataclass
class Case:
    id: str
    build: Callable
    ref: Callable
    inputs: Sequence[Any] = ()
    tol: float = 1e-6
    static: bool = True   # the static shape must be fully defined (and equal the runtime shape)

    def __str__(self) -> str:
        return self.id


def _leaves(x) -> list:
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in _leaves(v)]
    return [x]


def check(case: Case) -> None:
    inputs = [np.asarray(v) for v in case.inputs]
    graph = tf.Graph()
    with graph.as_default():
        phs = [tf.placeholder(tf.as_dtype(v.dtype), v.shape) for v in inputs]
        out = _leaves(case.build(tf, *phs))
        want = [np.asarray(w) for w in _leaves(case.ref(*inputs))]
        assert len(out) == len(want), f"{case.id}: {len(out)} outputs, reference has {len(want)}"
        feed = dict(zip(phs, inputs))
        with tf.Session(graph=graph) as sess:
            results = [sess.run(out, feed) for _ in range(3)]
            # one executable for the plan (none when every output is a fed tensor, returned as fed)
            assert executable_counts(sess) in ([1], []), f"{case.id}: retraced"
    for got_first, got, w, t in zip(results[0], results[2], want, out):
        got, got_first = np.asarray(got), np.asarray(got_first)
        assert got.dtype == w.dtype, f"{case.id}: dtype {got.dtype} != {w.dtype}"
        assert t.dtype.as_numpy_dtype == w.dtype.type or t.dtype == tf.as_dtype(w.dtype), \
            f"{case.id}: tensor dtype {t.dtype.name} != {w.dtype}"
        assert got.shape == w.shape, f"{case.id}: shape {got.shape} != {w.shape}"
        if case.static:
            assert t.shape.is_fully_defined(), f"{case.id}: static shape {t.shape} not fully defined"
        if t.shape.ndims is not None:
            assert t.shape.is_compatible_with(w.shape), f"{case.id}: static {t.shape} vs runtime {w.shape}"
        for g in (got_first, got):
            if w.dtype.kind in "fc":
                np.testing.assert_allclose(g, w, rtol=case.tol, atol=case.tol, err_msg=case.id)
            else:
                np.testing.assert_array_equal(g, w, err_msg=case.id)
