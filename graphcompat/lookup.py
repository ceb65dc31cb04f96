"""`tf.lookup`: lookup tables under their TF 2.21 `tf.compat.v1.lookup` names."""
from graphcompat.ops.lookup_ops import (KeyValueTensorInitializer, StaticHashTable,  # noqa: F401
                                        StaticVocabularyTable, TextFileIndex, TextFileInitializer)


def __getattr__(name):
    from graphcompat import compat
    return compat.missing(__name__, name)
