"""`tf.contrib.lookup` (TF1): hash tables, vocabulary tables and their initializers."""
from graphcompat.ops.lookup_ops import (FastHashSpec, HashTable, IdTableWithHashBuckets,  # noqa: F401
                                        KeyValueTensorInitializer, MutableHashTable, StrongHashSpec,
                                        TextFileIdTableInitializer, TextFileIndex, TextFileInitializer,
                                        TextFileStringTableInitializer, index_table_from_file,
                                        index_table_from_tensor, index_to_string_table_from_file,
                                        index_to_string_table_from_tensor)


def __getattr__(name):
    from graphcompat import compat
    return compat.missing(__name__, name)
