"""`tf.strings`: string ops under their TF 2.21 `tf.compat.v1.strings` names (host ops on bytes)."""
from graphcompat.ops.string_ops import (as_string, lower, reduce_join, regex_full_match,  # noqa: F401
                                        regex_replace, string_format as format, string_join as join,
                                        string_length as length, string_split_v2 as split,
                                        string_to_hash_bucket as to_hash_bucket,
                                        string_to_hash_bucket_fast as to_hash_bucket_fast,
                                        string_to_hash_bucket_strong as to_hash_bucket_strong,
                                        string_to_number as to_number, strip, substr, upper)


def __getattr__(name):
    from graphcompat import compat
    return compat.missing(__name__, name)


from graphcompat.ops.string_extra_ops import unsorted_segment_join  # noqa: F401,E402
from graphcompat.ops.unicode_ops import (bytes_split, ngrams, unicode_decode,  # noqa: F401,E402
                                         unicode_decode_with_offsets, unicode_encode, unicode_script,
                                         unicode_split, unicode_split_with_offsets, unicode_transcode)
