"""`tf.math.special`: TF's special functions (the Bessel functions, Dawson's, Ei, Fresnel, Spence)."""
from graphcompat.ops.math_extra_ops import bessel_i0, bessel_i0e, bessel_i1, bessel_i1e  # noqa: F401
from graphcompat.ops.special_functions_ops import (bessel_j0, bessel_j1, bessel_k0, bessel_k0e,  # noqa: F401
                                                   bessel_k1, bessel_k1e, bessel_y0, bessel_y1, dawsn, expint,
                                                   fresnel_cos, fresnel_sin, spence)
