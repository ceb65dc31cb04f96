"""Coverage (issue 13 #7): tf.train.ProximalAdagradOptimizer (ApplyProximalAdagrad / SparseApplyProximalAdagrad,
ref and resource variables) — trained side by side with TensorFlow."""
import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

CASES = {
    "dense_l1_l2": dict(l1=0.05, l2=0.1, sparse=False, resource=False),
    "dense_plain": dict(l1=0.0, l2=0.0, sparse=False, resource=True),
    "sparse_l1": dict(l1=0.02, l2=0.0, sparse=True, resource=False),
    "sparse_resource": dict(l1=0.01, l2=0.2, sparse=True, resource=True),
}


def _train(lib, l1, l2, sparse, resource, steps=5):
    g = lib.Graph()
    with g.as_default():
        init = np.arange(12, dtype=np.float32).reshape(4, 3) / 10 - 0.5
        var = lib.get_variable("w", initializer=init, use_resource=resource)
        if sparse:
            loss = lib.reduce_sum(lib.square(lib.gather(var, [0, 2, 2])) * [[1.0], [2.0], [3.0]])
        else:
            loss = lib.reduce_sum(lib.square(var - 0.3) * np.arange(1, 13, dtype=np.float32).reshape(4, 3))
        opt = lib.train.ProximalAdagradOptimizer(0.3, initial_accumulator_value=0.2, l1_regularization_strength=l1,
                                                 l2_regularization_strength=l2)
        train = opt.minimize(loss)
        slot = opt.get_slot(var, "accumulator")
        with lib.Session() as sess:
            sess.run(lib.global_variables_initializer())
            for _ in range(steps):
                sess.run(train)
            return sess.run(var), sess.run(slot), slot.op.name, [op.type for op in g.get_operations()
                                                                  if "ProximalAdagrad" in op.type]


@pytest.mark.oracle
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_tensorflow(case):
    v1 = oracle.tf1()
    var, acc, name, types = _train(tf, **CASES[case])
    t_var, t_acc, t_name, t_types = _train(v1, **CASES[case])
    np.testing.assert_allclose(var, t_var, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(acc, t_acc, rtol=1e-5, atol=1e-6)
    assert (name, types) == (t_name, t_types)


def test_without_tensorflow():
    var, acc, name, types = _train(tf, 0.0, 0.0, False, False, steps=1)
    assert name == "w/ProximalAdagrad" and types == ["ApplyProximalAdagrad"]
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive"):
        tf.train.ProximalAdagradOptimizer(0.1, initial_accumulator_value=0.0)
