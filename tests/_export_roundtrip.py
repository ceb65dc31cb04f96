"""The round trip the export tests share: graphcompat builds and trains a model and saves its meta graph and a
checkpoint; a library (real `tensorflow.compat.v1`, or graphcompat itself) imports the meta graph, restores the
checkpoint and runs the same steps. A test file supplies `build()` (records the model in the default graph)
and `steps(sess, graph) -> list of fetched value lists`."""
from __future__ import annotations

import os
from typing import Callable

import numpy as np

import graphcompat as tf


def train_and_export(tmp_path, build: Callable[[], None], steps: Callable) -> tuple:
    """(graph, checkpoint prefix, graphcompat's values of `steps` run right after saving)."""
    graph = tf.Graph()
    with graph.as_default():
        build()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, os.path.join(str(tmp_path), "model"))
            want = steps(sess, graph)
    return graph, prefix, want


def import_and_train(lib, prefix: str, steps: Callable) -> list:
    """`steps` run by `lib` on the imported meta graph, restored from the checkpoint."""
    graph = lib.Graph()
    with graph.as_default():
        saver = lib.train.import_meta_graph(prefix + ".meta")
        with lib.Session(graph=graph) as sess:
            saver.restore(sess, prefix)
            return steps(sess, graph)


def assert_same(got: list, want: list, atol: float) -> None:
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert len(g) == len(w)
        for a, b in zip(g, w):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=atol, err_msg=f"step {k}")
