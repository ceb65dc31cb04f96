"""Harness of the gradient sweep (tests/test_gradient_sweep.py): many gradient cases built into ONE graph per
family, run under graphcompat (op by op, then compiled) and under real TF, compared case by case.

A case is `(name, fn, inputs, tol)`: `fn(tf, *xs)` returns a tensor or a list of tensors built from `xs`,
the inputs fed through `tf.placeholder_with_default` (so every tier computes them). Its loss is
`sum(reduce_sum(y * w_y))` over the float outputs, each `w_y` a deterministic non-uniform weight computed in
the graph (so the upstream gradient is not all ones); the compared values are `tf.gradients(loss, xs)` —
with `order=2`, the gradients of `sum(g * w_g)` over those gradients, i.e. a second-order pass. Besides the
values (NaN where TF's are), each gradient's kind must be TF's: None, a dense tensor, or IndexedSlices
(whose indices, values and dense_shape are compared).
"""
from __future__ import annotations

import numpy as np

import graphcompat
from tests import _op_oracle, oracle


def weight_like(tf, y):
    """cos(1.3 k + 0.2) over y's flattened positions, in y's dtype and shape: deterministic, signed, non-uniform."""
    k = tf.cast(tf.range(tf.size(y)), tf.float64)  # float64: 1-ulp differences of cos stay below every tolerance
    w = tf.reshape(tf.cos(k * 1.3 + 0.2), tf.shape(y))
    if y.dtype.base_dtype.is_complex:
        return tf.cast(tf.complex(w, tf.sin(tf.reshape(k, tf.shape(y)) * 0.7)), y.dtype.base_dtype)
    return tf.cast(w, y.dtype.base_dtype)


def _differentiable(t) -> bool:
    return t is not None and (t.dtype.base_dtype.is_floating or t.dtype.base_dtype.is_complex)


def weighted_loss(tf, ys):
    ys = [y for y in (ys if isinstance(ys, (list, tuple)) else [ys]) if _differentiable(y)]
    terms = []
    for y in ys:
        if isinstance(y, tf.IndexedSlices):
            y = tf.convert_to_tensor(y)
        term = tf.reduce_sum(y * weight_like(tf, y))
        if term.dtype.is_complex:
            term = tf.real(term)
        terms.append(tf.cast(term, tf.float64))
    return tf.add_n(terms) if len(terms) > 1 else terms[0]


def case_gradients(tf, fn, inputs, order: int = 1):
    xs = [tf.placeholder_with_default(np.asarray(v), np.shape(v)) for v in inputs]
    grads = tf.gradients(weighted_loss(tf, fn(tf, *xs)), xs)
    for _ in range(order - 1):
        live = [g for g in grads if g is not None]
        grads = tf.gradients(weighted_loss(tf, live), xs)
    return grads


def _kind(tf, g) -> str:
    if g is None:
        return "None"
    return "IndexedSlices" if isinstance(g, tf.IndexedSlices) else "dense"


def _fetches(tf, g):
    if g is None:
        return []
    if isinstance(g, tf.IndexedSlices):
        shape = g.dense_shape if g.dense_shape is not None else tf.constant([-1])
        return [g.values, g.indices, shape]
    return [g]


def build_family(tf, cases, order: int):
    """{case name: (kinds, flat fetches)} of every case, built in the current default graph."""
    out = {}
    for name, fn, inputs, _tol in cases:
        with tf.name_scope(name):
            grads = case_gradients(tf, fn, inputs, order)
        out[name] = ([_kind(tf, g) for g in grads], [f for g in grads for f in _fetches(tf, g)])
    return out


def _run(tf, cases, order: int, runs: int):
    graph = tf.Graph()
    with graph.as_default():
        family = build_family(tf, cases, order)
        fetches = {name: flat for name, (_, flat) in family.items()}
        dtypes = {name: [t.dtype.base_dtype.name for t in flat] for name, flat in fetches.items()}
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())  # tf.layers cases create variables
            values = [sess.run(fetches) for _ in range(runs)]
    return {name: kinds for name, (kinds, _) in family.items()}, dtypes, values


def check_family(cases, order: int = 1, runs: int = 2) -> None:
    """Every case's gradient kinds, dtypes and values against TF's (graphcompat: op by op, then compiled)."""
    v1 = oracle.tf1()
    got_kinds, got_dtypes, got_runs = _run(graphcompat, cases, order, runs)
    want_kinds, want_dtypes, (want,) = _run(v1, cases, order, 1)
    failures = []
    for name, _fn, _inputs, tol in cases:
        try:
            assert got_kinds[name] == want_kinds[name], f"kinds {got_kinds[name]} != TF's {want_kinds[name]}"
            assert got_dtypes[name] == want_dtypes[name], f"dtypes {got_dtypes[name]} != TF's {want_dtypes[name]}"
            for tier, values in enumerate(got_runs):
                for i, (g, w) in enumerate(zip(values[name], want[name])):
                    _op_oracle.assert_close(g, w, tol, f"run {tier} fetch {i}")
        except AssertionError as err:
            failures.append(f"{name}: {err}")
    assert not failures, "\n".join(failures)


def explore(cases, order: int = 1) -> list:
    """Each case alone (exploration while writing the table): [(name, error text)] of those that differ."""
    bad = []
    for case in cases:
        try:
            check_family([case], order)
        except Exception as err:  # noqa: BLE001
            bad.append((case[0], f"{type(err).__name__}: {str(err)[:600]}"))
    return bad
