"""`tf.random` (TF1's compat.v1 namespace): the random ops under their TF2-style names."""
from graphcompat.ops.random_ops import (categorical, get_seed, multinomial, random_gamma as gamma,  # noqa: F401
                                        random_normal as normal, random_shuffle as shuffle,
                                        random_uniform as uniform, set_random_seed, truncated_normal)


def poisson(lam, shape, dtype=None, seed=None, name=None):
    """`tf.random.poisson(lam, shape, dtype=tf.float32, seed=None, name=None)` (compat.v1 order)."""
    from graphcompat.framework import dtypes as _dt
    from graphcompat.ops.random_ops import random_poisson
    return random_poisson(lam, shape, dtype or _dt.float32, seed, name)

# coverage: stateless random ops (a pure function of shape and seed)
from graphcompat.ops.stateless_random_ops import (stateless_categorical, stateless_multinomial,  # noqa: F401,E402
                                                  stateless_parameterized_truncated_normal,
                                                  stateless_random_binomial as stateless_binomial,
                                                  stateless_random_gamma as stateless_gamma,
                                                  stateless_random_poisson as stateless_poisson,
                                                  stateless_random_normal as stateless_normal,
                                                  stateless_random_uniform as stateless_uniform,
                                                  stateless_truncated_normal)
from graphcompat.nn.candidate_sampling import (all_candidate_sampler, fixed_unigram_candidate_sampler, learned_unigram_candidate_sampler, log_uniform_candidate_sampler,  # noqa: F401,E402
                                               uniform_candidate_sampler)
