"""TF 1 training/preprocessing symbols checked against real TF 2.21 `tensorflow.compat.v1`:
tf.train.AdagradDAOptimizer (dense and sparse gradients, ref and resource variables), the conditional
accumulators, tf.sparse.bincount, tf.sparse.cross / cross_hashed. Values, dtypes, shapes, op names and
errors (class and text)."""
import numpy as np
import pytest

import graphcompat
from tests import oracle

pytestmark = pytest.mark.oracle


def _tf1():
    return oracle.tf1()


# ------------------------------------------------------------------------------------------------
# 1. tf.train.AdagradDAOptimizer
# ------------------------------------------------------------------------------------------------
W0 = np.array([[1., 2.], [3., -4.], [0.5, 0.5]])


def _adagrad_da_run(tf, resource: bool, sparse: bool, dtype: str, **opt_args):
    """Three training steps: (variable, both slots) after each, and the optimizer's own op names."""
    graph = tf.Graph()
    with graph.as_default():
        step = tf.Variable(0, dtype=tf.int64, name="step", use_resource=False)
        v = tf.Variable(W0.astype(dtype), name="v", use_resource=resource)
        scale = tf.constant([[1., 2.]], dtype=dtype)
        rows = tf.gather(v, [0, 2, 0]) if sparse else v
        loss = tf.reduce_sum(tf.square(rows) * scale)
        opt = tf.train.AdagradDAOptimizer(0.1, step, **opt_args)
        train = opt.minimize(loss, global_step=step)
        fetch = [v, opt.get_slot(v, "gradient_accumulator"), opt.get_slot(v, "gradient_squared_accumulator")]
        # graphcompat sums duplicate sparse rows inside the SparseApply* lowering (as for every optimizer
        # but Adam), where TF's Python records Unique + UnsortedSegmentSum: those few ops are left out
        dedup = ("Unique", "Shape", "StridedSlice", "UnsortedSegmentSum")
        names = [(op.name, op.type) for op in graph.get_operations()
                 if op.name.startswith(("AdagradDA", "v/AdagradDA"))
                 and not (op.type in dedup or "/strided_slice/" in op.name)]
        slots = opt.get_slot_names(), sorted(x.op.name for x in opt.variables())
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            values = []
            for _ in range(3):
                sess.run(train)
                values.append(sess.run(fetch + [step]))
    return values, names, slots


@pytest.mark.parametrize("resource", [False, True], ids=["ref", "resource"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype,args", [
    ("float32", {}),
    ("float32", {"l2_regularization_strength": 0.01}),
    ("float32", {"l1_regularization_strength": 0.3, "l2_regularization_strength": 0.02}),
    ("float64", {"l1_regularization_strength": 0.05, "initial_gradient_squared_accumulator_value": 0.5}),
])
def test_adagrad_da_matches_tf(resource, sparse, dtype, args):
    got, got_names, got_slots = _adagrad_da_run(graphcompat, resource, sparse, dtype, **args)
    want, want_names, want_slots = _adagrad_da_run(_tf1(), resource, sparse, dtype, **args)
    assert got_names == want_names
    assert got_slots == want_slots
    for step, (g_vals, w_vals) in enumerate(zip(got, want)):
        for g, w in zip(g_vals, w_vals):
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg=f"step {step}")


def test_adagrad_da_errors():
    for tf in (graphcompat, _tf1()):
        with pytest.raises(ValueError, match="initial_gradient_squared_accumulator_value must be positive: 0.0"):
            tf.train.AdagradDAOptimizer(0.1, None, initial_gradient_squared_accumulator_value=0.0)
