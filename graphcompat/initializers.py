"""`tf.initializers` (TF1 names): the init_ops classes plus the variable-initializer ops."""
from graphcompat.init_ops import (Constant as constant, GlorotNormal as glorot_normal,  # noqa: F401
                                  GlorotUniform as glorot_uniform, Ones as ones, Orthogonal as orthogonal,
                                  RandomNormal as random_normal, RandomUniform as random_uniform,
                                  TruncatedNormal as truncated_normal, VarianceScaling as variance_scaling,
                                  Zeros as zeros)
from graphcompat.variables import (global_variables_initializer as global_variables,  # noqa: F401
                                   local_variables_initializer as local_variables,
                                   variables_initializer as variables)


def he_normal(seed=None):
    return variance_scaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed=None):
    return variance_scaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None):
    return variance_scaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None):
    return variance_scaling(1.0, "fan_in", "uniform", seed)

# coverage: the remaining tf.initializers names
from graphcompat.init_ops import Identity as identity, UniformUnitScaling as uniform_unit_scaling  # noqa: F401,E402
from graphcompat.ops.lookup_ops import tables_initializer  # noqa: F401,E402
