"""`tf.debugging`: asserts, check_numerics, tf.Assert/print (the names TF1 exposes there)."""
from graphcompat.ops.check_ops import *  # noqa: F401,F403
from graphcompat.ops.data_dependent_ops import Assert, check_numerics  # noqa: F401
from graphcompat.ops.data_dependent_ops import print_v2 as print  # noqa: F401,A001
# coverage: the rest of TF1's check_ops
from graphcompat.ops.check_extra_ops import (assert_near, assert_proper_iterable, assert_rank_in,  # noqa: F401
                                             assert_shapes,
                                             assert_same_float_dtype, is_non_decreasing, is_numeric_tensor,
                                             is_strictly_increasing)
from graphcompat.ops.check_extra_ops import verify_tensor_all_finite as assert_all_finite  # noqa: F401


def __getattr__(name):
    # tf.debugging also re-exports a few tf.math predicates (is_finite, is_nan, is_inf …).
    import graphcompat.math as _math_ns
    if name.startswith("is_") and hasattr(_math_ns, name):
        return getattr(_math_ns, name)
    from graphcompat.compat import missing
    return missing(__name__, name)
