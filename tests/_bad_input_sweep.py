"""Harness of the bad-input sweep (tests/test_bad_input_sweep.py): snippets fed run-time input that TF's CPU
kernels reject, run three times under graphcompat (op by op, then compiled; a training step compiles from its
first run) and under real TF, compared run by run on the error's class and kernel text, or on the values
where TF gives values.

A case is `(name, build)`: `build(tf, feed)` returns the fetches; `feed(value, dtype=None, shape=None)` makes
a placeholder fed `value` (shape None: the value's static shape; "open": every dimension None; "unknown":
no rank). `outcomes(tf, build, training)` runs it; with `training`, the snippet's graph also holds an Adam
step on a variable of its own, fetched with the snippet (`[train_op, fetches]`), and every feed's static
shape is open (so the step pads, and compiles from its first run). graphcompat must leave every variable as
it was on a run that raises (architecture.md, "Failed runs change nothing"), stricter than TF, whose
earlier ops may already have written.
"""
from __future__ import annotations

import re

import numpy as np

import graphcompat
from tests import _op_oracle, oracle


class Feeds:
    """The `feed` a case builds its placeholders with; `values` is the run's feed_dict."""

    def __init__(self, tf, open_shapes: bool):
        self.tf, self.open_shapes, self.values = tf, open_shapes, {}

    def __call__(self, value, dtype=None, shape=None):
        tf = self.tf
        v = np.asarray(value)
        if dtype is None:
            dtype = tf.string if v.dtype.kind in "SUO" else tf.as_dtype(v.dtype)
        if shape is None:
            shape = [None] * v.ndim if self.open_shapes else list(v.shape)
        elif shape == "open":
            shape = [None] * v.ndim
        elif shape == "unknown":
            shape = None
        ph = tf.placeholder(dtype, shape)
        self.values[ph] = v
        return ph


def kernel_text(message: str, mask_datasets: bool = True) -> str:
    """TF's message without what its Session adds: the "Graph execution error:" header, the stack of
    where the node was defined (everything up to the last `Node: '…'` line), the `[[{{node …}}]]` lines and
    the "Original stack trace for" it may append; a TensorArray's name and a dataset's name (in the context
    of a dataset function's error) end in a process-wide counter, masked as N (`mask_datasets`: the dataset's)."""
    lines = message.splitlines()
    if lines and lines[0] == "Graph execution error:":
        lines = lines[1:]
    marks = [k for k, line in enumerate(lines) if line.startswith("Node: '")]
    if marks:
        lines = lines[marks[-1] + 1:]
    cut = [k for k, line in enumerate(lines) if line.startswith("Original stack trace for ")]
    lines = lines[:cut[0]] if cut else lines
    text = "\n".join(line.rstrip() for line in lines if line.strip() and not line.strip().startswith("[["))
    text = re.sub(r"TensorArray (\S+)_\d+:", r"TensorArray \1_N:", text)  # a process-wide counter ends the name
    # a dataset's name ends in a process-wide counter too (TF's and graphcompat's, each advanced by every test
    # that ran before in this process: only a fresh process's agree, see tests/test_data_oracle.py)
    if not mask_datasets:
        return text
    return re.sub(r"^(Error in user-defined function passed to \S+):\d+ transformation", r"\1:N transformation",
                  text, flags=re.M)


def _message(err) -> str:
    return getattr(err, "message", None) or str(err)


def build_text(message: str) -> str:
    """A build-time error's first line, the node it names left out: a shape function's error names it as TF
    2's NodeDef (`for '{{node Roll}} = Roll[T=DT_FLOAT, ...](Const, ...)'`), graphcompat as TF 1.x did
    (`for 'Roll' (op: 'Roll')`); the text before and the input shapes after are compared."""
    line = message.splitlines()[0] if message else ""
    return re.sub(r" for '.*' (\(op: '[^']*'\) )?with input shapes: ", " with input shapes: ", line)


def _train_step(tf):
    """An Adam step on a variable of its own: its update runs in the same step as the snippet."""
    w = tf.Variable(np.array([1.0, -2.0, 0.5], np.float32), name="sweep_w")
    loss = tf.reduce_sum(w * w)
    return tf.train.AdamOptimizer(0.1).minimize(loss)


def _state(tf, sess) -> list:
    variables = tf.global_variables() + tf.local_variables()
    return [np.asarray(v) for v in sess.run(variables)] if variables else []


def outcomes(tf, build, training: bool = False, runs: int = 3) -> list:
    """One entry per run: ("error", class name, kernel text, state before, state after) or ("values", leaves,
    state after); a build-time error gives one ("build", class name, text) entry."""
    graph = tf.Graph()
    with graph.as_default():
        feed = Feeds(tf, open_shapes=training)
        try:
            fetches = build(tf, feed)
            train = _train_step(tf) if training else None
        except Exception as err:  # noqa: BLE001 - the class is compared with TF's
            return [("build", type(err).__name__, build_text(_message(err)))]
        with tf.Session(graph=graph) as sess:
            sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            if tf.get_collection("table_initializer"):
                sess.run(tf.tables_initializer())
            results = []
            for _ in range(runs):
                before = _state(tf, sess)
                try:
                    values = sess.run([train, fetches] if training else fetches, feed.values)
                except Exception as err:  # noqa: BLE001
                    results.append(("error", type(err).__name__, kernel_text(_message(err)), before,
                                    _state(tf, sess)))
                    continue
                if training:
                    values = values[1]
                results.append(("values", _op_oracle.leaves(values), _state(tf, sess)))
            return results


def compare(build, training: bool = False, tol: float = 1e-5) -> None:
    """graphcompat's outcome of every run is TF's: the same error class and kernel text with every variable
    unchanged, or the same values and variables."""
    want = outcomes(oracle.tf1(), build, training)
    got = outcomes(graphcompat, build, training)
    if want[0][0] == "build" or got[0][0] == "build":
        assert got[0] == want[0], (got[0], want[0])
        return
    for run, (g, w) in enumerate(zip(got, want)):
        assert g[0] == w[0], f"run {run}: graphcompat gave {g[:3] if g[0] == 'error' else 'values'}, TF {w[:3]}"
        if w[0] == "error":
            assert (g[1], g[2]) == (w[1], w[2]), (
                f"run {run}:\n  graphcompat {g[1]}: {g[2]}\n  TF          {w[1]}: {w[2]}")
            assert len(g[3]) == len(g[4])
            for k, (b, a) in enumerate(zip(g[3], g[4])):
                np.testing.assert_array_equal(a, b, err_msg=f"run {run}: variable {k} changed by a failed run")
        else:
            assert len(g[1]) == len(w[1]), (len(g[1]), len(w[1]))
            for k, (gv, wv) in enumerate(zip(g[1], w[1])):
                _op_oracle.assert_close(gv, wv, tol, f"run {run} fetch {k}")
            for k, (gv, wv) in enumerate(zip(g[2], w[2])):
                _op_oracle.assert_close(gv, wv, tol, f"run {run} variable {k}")

