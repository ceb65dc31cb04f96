"""`tf.bitwise`: element-wise bit operations on integer tensors."""
from graphcompat.ops.math_extra_ops import (bitwise_and, bitwise_or, bitwise_xor, invert, left_shift,  # noqa: F401
                                            right_shift)


def __getattr__(name):
    from graphcompat.compat import missing
    return missing(__name__, name)
