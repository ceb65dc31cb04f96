"""Helpers for the op-family tests (segment, sparse, strings/lookup, nn extras, metrics, spectral/image):
one snippet built with graphcompat and with real `tensorflow.compat.v1`, compared on values, dtypes,
static shapes, and on errors (class and TF's message text).

A snippet is `build(tf) -> fetches` (any nesting; SparseTensor/namedtuple leaves allowed) and an optional
`feed(tf, graph) -> feed_dict` (placeholders are looked up by name, e.g. `graph.get_tensor_by_name("x:0")`).
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

import graphcompat
from tests import oracle


def leaves(x) -> list:
    if isinstance(x, dict):
        return [leaf for k in sorted(x) for leaf in leaves(x[k])]
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in leaves(v)]
    if hasattr(x, "indices") and hasattr(x, "dense_shape") and hasattr(x, "values"):
        return [x.indices, x.values, x.dense_shape]
    return [x]


def run(tf, build, feed=None, runs: int = 1, init: bool = True):
    """(values of each run, static shapes, dtypes) of `build(tf)` in a fresh graph of `tf`."""
    graph = tf.Graph()
    with graph.as_default():
        fetches = build(tf)
        flat = leaves(fetches)
        static = [t.shape.as_list() if t.shape.ndims is not None else None for t in flat
                  if hasattr(t, "shape") and hasattr(t, "dtype")]
        dtypes = [t.dtype.base_dtype.name for t in flat if hasattr(t, "dtype")]
        with tf.Session(graph=graph) as sess:
            if init:
                sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
                if tf.get_collection("table_initializer"):
                    sess.run(tf.tables_initializer())
            feed_dict = feed(tf, graph) if feed else None
            values = [leaves(sess.run(fetches, feed_dict)) for _ in range(runs)]
    return values, static, dtypes


def assert_close(got, want, tol, what="", exact: bool = False):
    """Values within `tol` (NaN matches NaN). `exact`: floats bit for bit up to the NaN payload, so a
    signed zero, an inf or a NaN in another place than TF's fails."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    floats = _is_float(want.dtype)
    if exact and floats and got.dtype == want.dtype:
        assert_same_floats(got, want, what)
    elif floats:
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)
    elif want.dtype.kind in "OSU":
        assert [_b(v) for v in got.reshape(-1)] == [_b(v) for v in want.reshape(-1)], what
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)
    assert got.dtype == want.dtype or want.dtype.kind in "OSU", f"{what}: dtype {got.dtype} != {want.dtype}"


def _is_float(dtype: np.dtype) -> bool:
    """numpy's floats and complex, and ml_dtypes' (bfloat16, float8 …), whose numpy kind is "V": compared as
    floats (NaN matches NaN), whatever ufuncs the installed ml_dtypes registers for numpy's array_equal."""
    if dtype.kind in "fc":
        return True
    try:
        ml_dtypes.finfo(dtype)
    except (ValueError, TypeError, KeyError):
        return False
    return True


def assert_same_floats(got, want, what=""):
    """Equal values, NaN in the same places, and the same sign on every non-NaN (-0.0 is not 0.0)."""
    parts = [(got.real, want.real), (got.imag, want.imag)] if want.dtype.kind == "c" else [(got, want)]
    for g, w in parts:
        g, w = np.asarray(g), np.asarray(w)
        nan = np.isnan(w)
        np.testing.assert_array_equal(np.isnan(g), nan, err_msg=f"{what}: NaN positions\n{g}\n{w}")
        np.testing.assert_array_equal(g[~nan], w[~nan], err_msg=what)
        np.testing.assert_array_equal(np.signbit(g[~nan]), np.signbit(w[~nan]),
                                      err_msg=f"{what}: signs of zeros\n{g}\n{w}")


def _b(v):
    return v.encode() if isinstance(v, str) else v


def compare(build, feed=None, tol: float = 1e-5, runs: int = 3, shapes: bool = True, exact: bool = False) -> list:
    """Runs the snippet under both; values (every run: op by op, then compiled), dtypes and, when
    `shapes`, static shapes must agree (graphcompat may know less than TF, never something else).
    `exact`: float values bit for bit (signed zeros, infs and NaN places), see `assert_close`."""
    v1 = oracle.tf1()
    got, got_static, got_dtypes = run(graphcompat, build, feed, runs)
    want, want_static, want_dtypes = run(v1, build, feed, 1)
    assert got_dtypes == want_dtypes, (got_dtypes, want_dtypes)
    for values in got:
        assert len(values) == len(want[0])
        for i, (g, w) in enumerate(zip(values, want[0])):
            assert_close(g, w, tol, f"fetch {i}", exact)
    if shapes:
        for g, w, value in zip(got_static, want_static, want[0]):
            if g is not None:
                assert len(g) == np.ndim(value), (g, w)
                assert all(a is None or a == b for a, b in zip(g, np.shape(value))), (g, np.shape(value))
    return got[0]


def error_of(tf, build, feed=None, runs: int = 1):
    """The exception a run of the snippet raises (the last of `runs` runs), or None."""
    try:
        run(tf, build, feed, runs)
    except Exception as err:  # noqa: BLE001
        return err
    return None


def tf_message(err) -> str:
    text = getattr(err, "message", None) or str(err)
    return text


def compare_error(build, feed=None, runs: int = 1, fragment=None):
    """Both raise the same error class; graphcompat's first message line appears in TF's message."""
    v1 = oracle.tf1()
    want = error_of(v1, build, feed)
    got = error_of(graphcompat, build, feed, runs)
    assert want is not None, "TensorFlow raised nothing"
    assert got is not None, f"graphcompat raised nothing; TF raised {type(want).__name__}: {tf_message(want)}"
    assert type(got).__name__ == type(want).__name__, (type(got).__name__, type(want).__name__, str(got),
                                                       tf_message(want))
    lines = (getattr(got, "message", None) or str(got)).splitlines()
    if not lines:  # a bare exception (TF's `assert`): TF's has no text either
        assert not tf_message(want).strip(), tf_message(want)
        return got
    line = lines[0].strip().split(" for '")[0]  # build-time shape errors: TF names the node in its own format
    assert line and line in tf_message(want), (line, tf_message(want))
    if fragment is not None:
        assert fragment in line, (fragment, line)
    return got


def check_case(case, compiles: bool = True) -> None:
    """A conformance-table line: `_conformance.check` (eager run, compile, compiled run, no retrace)
    for ops that compile; ops whose output shape depends on values run op by op: same value, dtype and
    static-vs-runtime shape checks over three runs."""
    from tests import _conformance
    if compiles:
        _conformance.check(case)
        return
    inputs = [np.asarray(v) for v in case.inputs]
    graph = graphcompat.Graph()
    with graph.as_default():
        phs = [graphcompat.placeholder(graphcompat.as_dtype(v.dtype), v.shape) for v in inputs]
        out = leaves(case.build(graphcompat, *phs))
        want = [np.asarray(w) for w in leaves(case.ref(*inputs))]
        assert len(out) == len(want), f"{case.id}: {len(out)} outputs, reference has {len(want)}"
        with graphcompat.Session(graph=graph) as sess:
            results = [sess.run(out, dict(zip(phs, inputs))) for _ in range(3)]
    for run_values in results:
        for got, w, t in zip(run_values, want, out):
            assert_close(got, w, case.tol, case.id)
            assert t.dtype.base_dtype == graphcompat.as_dtype(w.dtype), f"{case.id}: tensor dtype {t.dtype.name}"
            if t.shape.ndims is not None:
                assert t.shape.is_compatible_with(w.shape), f"{case.id}: static {t.shape} vs runtime {w.shape}"
