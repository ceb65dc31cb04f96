"""Conformance-table harness shared by the op-family tests.

`check(case)` builds `case.build(tf, *placeholders)` in a fresh graph (one placeholder per input,
with the input's exact shape and dtype), runs it three times (eager first run, compile, compiled
run), and compares with `case.ref(*inputs)` (numpy encoding TF's semantics): value within `tol`,
dtype, runtime shape, and the static shape TF-style inference gave the tensor. The compiled plan
must not retrace on the third run (one plan, one executable: `lowering.executor.executable_counts`).

Two more columns:
- `broadcast=True` (binary ops): `check_broadcast(case)` runs the op on operand pairs that broadcast
  (a row against a matrix, leading and trailing dims of 1, a scalar), with static and with unknown
  (fed) shapes, and on a pair that does not: TF's ValueError while building when the shapes are static,
  its InvalidArgumentError "Incompatible shapes" when running when they are not.
- `bad=[Bad(...)]`: `check_bad(case, bad)` feeds bad inputs and expects TF's error class and message
  on five runs of the same signature. When the bad inputs have the good inputs' shapes and dtypes
  (value errors: a zero divisor, an index out of range), a good run after the first bad one lets the
  plan compile, so the later bad runs go through the compiled plan's run-time checks.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, Sequence

import numpy as np
import pytest

import graphcompat as tf
from lowering.executor import executable_counts


@dataclasses.dataclass
class Bad:
    """What TF raises for `inputs` (fed instead of the case's inputs): its error class and message text.

    `at="run"`: the inputs are fed through placeholders of unknown dims and `Session.run` raises.
    `at="build"`: the placeholders have the inputs' static shapes and building the op raises.
    """
    inputs: Sequence[Any]
    error: type
    message: str          # TF's message (literal text; it must occur in ours)
    at: str = "run"


@dataclasses.dataclass
class Case:
    id: str
    build: Callable
    ref: Callable
    inputs: Sequence[Any] = ()
    tol: float = 1e-6
    static: bool = True   # the static shape must be fully defined (and equal the runtime shape)
    broadcast: bool = False   # a binary op: check_broadcast applies
    bad: Sequence[Bad] = ()   # bad inputs and what TF raises for them

    def __str__(self) -> str:
        return self.id


def broadcast_cases(cases: Sequence[Case]) -> list:
    return [c for c in cases if c.broadcast]


def bad_cases(cases: Sequence[Case]) -> list:
    """(case, bad) pairs for `pytest.mark.parametrize`, with readable ids."""
    return [pytest.param(c, b, id=f"{c.id}-{i}") for c in cases for i, b in enumerate(c.bad)]


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
            counts = executable_counts(sess)
            if counts:
                assert counts == [1], f"{case.id}: retraced"
            else:  # every output fed, or a run-time value used as a static shape keeps a plan op by op, as TF
                assert all(r.eager_only for r in sess._runners), f"{case.id}: the plan never compiled"
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


def _broadcast_pairs(x: np.ndarray, y: np.ndarray) -> list:
    """Operand pairs of the case's dtypes whose shapes broadcast in different ways."""
    return [(x, y[0]), (x[:1], y), (x[..., :1], y), (x.reshape(-1)[0], y), (x[0], y)]


def check_broadcast(case: Case) -> None:
    """The binary op on broadcasting operands (static and fed shapes) and on incompatible ones."""
    x, y = (np.asarray(v) for v in case.inputs)
    pairs = [(np.asarray(a), np.asarray(b)) for a, b in _broadcast_pairs(x, y)]
    graph = tf.Graph()
    with graph.as_default():
        outs, feed, wants = [], {}, []
        for a, b in pairs:
            for static in (True, False):
                pa = tf.placeholder(tf.as_dtype(a.dtype), a.shape if static else None)
                pb = tf.placeholder(tf.as_dtype(b.dtype), b.shape if static else None)
                out = case.build(tf, pa, pb)
                if static:
                    assert out.shape.as_list() == list(np.broadcast_shapes(a.shape, b.shape)), \
                        f"{case.id}: static shape {out.shape} for {a.shape} and {b.shape}"
                outs.append(out)
                feed.update({pa: a, pb: b})
                wants.append(np.asarray(case.ref(a, b)))
        with tf.Session(graph=graph) as sess:
            results = [sess.run(outs, feed) for _ in range(3)]
    for run in (results[0], results[2]):
        for got, want in zip(run, wants):
            got = np.asarray(got)
            assert got.shape == want.shape and got.dtype == want.dtype, f"{case.id}: {got.shape} {got.dtype}"
            if want.dtype.kind in "fc":
                np.testing.assert_allclose(got, want, rtol=case.tol, atol=case.tol, err_msg=case.id)
            else:
                np.testing.assert_array_equal(got, want, err_msg=case.id)
    if x.ndim and x.shape[-1] >= 2:  # shapes that do not broadcast: TF's build-time and run-time errors
        b = y[..., :-1]
        text = "[" + ",".join(map(str, x.shape)) + "] vs. [" + ",".join(map(str, b.shape)) + "]"
        with tf.Graph().as_default():
            with pytest.raises(ValueError, match="Dimensions must be equal, but are"):
                case.build(tf, tf.placeholder(tf.as_dtype(x.dtype), x.shape), tf.placeholder(tf.as_dtype(b.dtype), b.shape))
            pa, pb = tf.placeholder(tf.as_dtype(x.dtype)), tf.placeholder(tf.as_dtype(b.dtype))
            out = case.build(tf, pa, pb)
            with tf.Session() as sess:
                for _ in range(2):
                    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(f"Incompatible shapes: {text}")):
                        sess.run(out, {pa: x, pb: b})


def _signature(values) -> list:
    return [(v.shape, v.dtype) for v in values]


def check_bad(case: Case, bad: Bad) -> None:
    """TF's error for bad inputs, on five runs of one signature (first op by op, later compiled)."""
    inputs = [np.asarray(v) for v in bad.inputs]
    match = re.escape(bad.message)
    graph = tf.Graph()
    with graph.as_default():
        if bad.at == "build":
            with pytest.raises(bad.error, match=match):
                case.build(tf, *[tf.placeholder(tf.as_dtype(v.dtype), v.shape) for v in inputs])
            return
        phs = [tf.placeholder(tf.as_dtype(v.dtype), [None] * v.ndim) for v in inputs]
        out = _leaves(case.build(tf, *phs))
        good = [np.asarray(v) for v in case.inputs]
        same_signature = _signature(good) == _signature(inputs)
        with tf.Session(graph=graph) as sess:
            for run in range(5):
                with pytest.raises(bad.error, match=match):
                    sess.run(out, dict(zip(phs, inputs)))
                if run == 0 and same_signature:
                    sess.run(out, dict(zip(phs, good)))  # succeeds; the next runs of this plan are compiled
            if same_signature:  # the later bad runs went through a compiled plan (or one that must stay eager)
                assert all(r.compiled or r.padded or r.eager_only for r in sess._runners), \
                    f"{case.id}: the plan never compiled"
