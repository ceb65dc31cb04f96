"""`tf.sets`: set operations along the last dimension (TF1 exports both spellings)."""
from graphcompat.ops.set_ops import set_difference, set_intersection, set_size, set_union  # noqa: F401

difference, intersection, size, union = set_difference, set_intersection, set_size, set_union


def __getattr__(name):
    from graphcompat.compat import missing
    return missing(__name__, name)
