"""tf.map_fn / tf.scan / tf.foldl / tf.foldr record what TF records (a While over TensorArrays): TF's
names, TF's numbers and gradients, and graphs that real TF imports and runs."""
import numpy as np
import pytest

import graphcompat as gc
from tests import oracle

X = (np.arange(12, dtype=np.float32).reshape(4, 3) - 5.0) / 7.0


def _build(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.Variable(np.linspace(-0.5, 0.5, 3).astype(np.float32), name="w")
    outs = [tf.map_fn(lambda r: tf.tanh(r * w), x, name="mapped"),
            tf.scan(lambda a, r: a * 0.5 + r * w, x),
            tf.scan(lambda a, r: a - r, x, initializer=tf.ones([3]), reverse=True),
            tf.foldl(lambda a, r: a * w + r, x),
            tf.foldr(lambda a, r: a * 0.5 + r, x, initializer=tf.zeros([3]))]
    loss = tf.add_n([tf.reduce_sum(tf.square(o)) for o in outs])
    return x, w, outs, loss


def _no_graphcompat_types(graph_def) -> None:
    types = {n.op for n in graph_def.node} | {n.op for f in graph_def.library.function for n in f.node_def}
    assert {"StatelessWhile", "TensorArrayV3", "TensorArrayScatterV3", "TensorArrayGatherV3"} <= types
    assert not types & {"_FunctionalScan", "_LoopVar", "RnnScan"}


def test_records_a_while_loop_over_tensor_arrays():
    with gc.Graph().as_default() as g:
        _build(gc)
        types = [op.type for op in g.get_operations()]
    assert "_FunctionalScan" not in types and types.count("StatelessWhile") == 5
    _no_graphcompat_types(g.as_graph_def())


@pytest.mark.oracle
def test_names_match_tensorflow():
    """Outside the loop, TF 1.x's ops (TensorArrays as TensorArrayV3, as control flow v1 records them);
    the loop is one While named as control flow v2 names it, whose outputs are the folds' results."""
    v1 = oracle.tf1()

    def build(tf):
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        return [tf.map_fn(lambda r: r * 2.0, x), tf.scan(lambda a, r: a + r, x),
                tf.scan(lambda a, r: a + r, x, initializer=tf.zeros([2]), reverse=True),
                tf.foldl(lambda a, r: a + r, x), tf.foldr(lambda a, r: a + r, x, initializer=tf.zeros([2]))]

    def outside(names):
        return [n for n in names if "/while" not in n[0]]
    want_v2 = oracle.names(v1, build)
    got_ops = oracle.op_names(gc, build)
    got = oracle.names(gc, build)
    want_ops = oracle.op_names(v1, build, control_flow_v2=False)
    assert outside(got_ops) == outside(want_ops)
    assert [t for t in got_ops if t[0].endswith("/while")] == \
        [("map/while", "StatelessWhile"), ("scan/while", "StatelessWhile"), ("scan_1/while", "StatelessWhile"),
         ("foldl/while", "StatelessWhile"), ("foldr/while", "StatelessWhile")]
    assert got[3:] == want_v2[3:]  # the folds return the loop's outputs: foldl/while/Identity_3:0


@pytest.mark.oracle
def test_values_and_gradients_match_tensorflow():
    v1 = oracle.tf1()

    def build(tf):
        x, w, outs, loss = _build(tf)
        return outs + [loss] + tf.gradients(loss, [x, w])

    feed = lambda tf, g: {g.get_tensor_by_name("x:0"): X}  # noqa: E731
    want = oracle.run(v1, build, feed, init_variables=True)
    for _ in range(2):
        got = oracle.run(gc, build, feed, init_variables=True)
        oracle.assert_same_values(got, want, rtol=1e-5, atol=1e-6, label="map/scan/fold")


@pytest.mark.oracle
def test_training_matches_tensorflow():
    v1 = oracle.tf1()

    def losses(tf):
        graph = tf.Graph()
        with graph.as_default():
            x, _, _, loss = _build(tf)
            train = tf.train.AdamOptimizer(0.05).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                return [sess.run([train, loss], {x: X[:rows]})[1] for rows in (4, 3, 4, 2, 4)]
    np.testing.assert_allclose(losses(gc), losses(v1), rtol=1e-5)


@pytest.mark.oracle
def test_meta_graph_runs_in_tensorflow_and_reimports(tmp_path):
    """graphcompat's meta graph (While + TensorArrays + variables) imports into real TF and back into
    graphcompat; both restore the checkpoint and give graphcompat's numbers."""
    v1 = oracle.tf1()
    g = gc.Graph()
    with g.as_default():
        x, _, outs, loss = _build(gc)
        for k, o in enumerate(outs):
            gc.identity(o, name=f"out{k}")
        saver = gc.train.Saver()
        with gc.Session() as sess:
            sess.run(gc.global_variables_initializer())
            want = sess.run([f"out{k}:0" for k in range(5)] + [loss], {x: X})
            prefix = saver.save(sess, str(tmp_path / "m"))
        _no_graphcompat_types(g.as_graph_def())
    fetches = [f"out{k}:0" for k in range(5)] + [loss.name]
    for lib in (v1, gc):
        with lib.Graph().as_default():
            restorer = lib.train.import_meta_graph(prefix + ".meta")
            with lib.Session() as sess:
                restorer.restore(sess, prefix)
                got = sess.run(fetches, {"x:0": X})
        oracle.assert_same_values(got, want, rtol=1e-6, atol=1e-6, label=lib.__name__)


@pytest.mark.oracle
def test_error_texts_match_tensorflow():
    v1 = oracle.tf1()
    for tf in (gc, v1):
        with tf.Graph().as_default():
            with pytest.raises(ValueError, match="Elements in elems must be 1\\+ dimensional Tensors, not scalars"):
                tf.map_fn(lambda e: e, tf.constant(1.0))
            with pytest.raises(ValueError, match="elems must be a Tensor or \\(possibly nested\\) sequence of "
                                                 "Tensors. Got \\[\\], which does not contain any Tensors."):
                tf.map_fn(lambda e: e, [])
            with pytest.raises(ValueError, match="The two structures don't have the same nested structure"):
                tf.scan(lambda a, e: (a, a), tf.constant([1.0, 2.0]))
