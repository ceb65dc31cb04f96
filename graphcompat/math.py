"""`tf.math`: the math ops under their TF 2.21 `tf.compat.v1.math` names."""
from graphcompat.ops.linalg_extra_ops import einsum  # noqa: F401
from graphcompat.ops.linalg_ops import tensordot  # noqa: F401
from graphcompat.ops.math_ops import (  # noqa: F401
    abs, acos, add, add_n, argmax, argmin, asin, atan, atan2, ceil, conj, cos, cosh, count_nonzero, cumprod,
    cumsum, divide, divide_no_nan, equal, erf, exp, expm1, floor, floordiv, floormod, greater, greater_equal,
    imag, is_finite, is_inf, is_nan, less, less_equal, log, log1p, logical_and, logical_not, logical_or,
    logical_xor, maximum, minimum, multiply, negative, not_equal, pow, real, realdiv, reciprocal, reduce_all,
    reduce_any, reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum, rint, round,
    rsqrt, scalar_mul, sigmoid, sign, sin, sinh, sqrt, square, squared_difference, subtract, tan, tanh, truediv,
    truncatediv, truncatemod)
from graphcompat.ops.sort_ops import top_k  # noqa: F401
from graphcompat.ops.special_math_ops import *  # noqa: F401,F403

mod = floormod

# ops13: segment reductions, bincount, confusion_matrix
from graphcompat.ops.segment_ops import (bincount, confusion_matrix, segment_max, segment_mean,  # noqa: F401,E402
                                         segment_min, segment_prod, segment_sum, unsorted_segment_mean,
                                         unsorted_segment_sqrt_n)

# coverage: special functions, composites and nn ops TF1 also exports under tf.math
from graphcompat.nn.nn_impl import l2_normalize, zero_fraction  # noqa: F401,E402
from graphcompat.nn.nn_ops import in_top_k, log_softmax, softmax, softplus, softsign  # noqa: F401,E402
from graphcompat.ops.check_extra_ops import is_non_decreasing, is_strictly_increasing  # noqa: F401,E402
from graphcompat.ops.math_extra_ops import (accumulate_n, angle, bessel_i0, bessel_i0e, bessel_i1,  # noqa: F401,E402
                                            bessel_i1e, betainc, erfcinv, erfinv, igamma, igammac, lbeta,
                                            log_sigmoid, ndtri, nextafter, polygamma, polyval, xlog1py, zeta)
from graphcompat.ops.extra_ops import approx_max_k, approx_min_k  # noqa: F401,E402
from graphcompat import math_special as special  # noqa: F401,E402  (tf.math.special)
