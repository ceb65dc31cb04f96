"""Coverage (issue 13 #7): tf.strings.unsorted_segment_join and tf.io.decode_compressed — compared with
TensorFlow."""
import gzip
import zlib

import numpy as np
import pytest

import graphcompat as tf
from graphcompat.framework import errors as E
from tests import oracle

TEXT = [b"hello hello hello", b"", b"\x00\x01binary\xff"]

PROGRAMS = {
    "segment_join": lambda tf: [
        tf.strings.unsorted_segment_join(["a", "b", "c", "d"], [1, 0, 1, 0], 3, separator=","),
        tf.strings.unsorted_segment_join([["a", "b"], ["c", "d"]], [0, 0], 2),
        tf.strings.unsorted_segment_join(["x", "y"], tf.constant([1, 1], tf.int64), tf.constant(2, tf.int64),
                                         separator="--")],
    "decode_compressed": lambda tf: [
        tf.io.decode_compressed([zlib.compress(t) for t in TEXT], compression_type="ZLIB"),
        tf.io.decode_compressed([gzip.compress(t) for t in TEXT], compression_type="GZIP"),
        tf.decode_compressed(TEXT)],
}


@pytest.mark.oracle
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_matches_tensorflow(program):
    v1 = oracle.tf1()
    got, want = oracle.run(tf, PROGRAMS[program]), oracle.run(v1, PROGRAMS[program])
    for g, w in zip(got, want):
        assert np.asarray(g).shape == np.asarray(w).shape
        assert np.asarray(g).tolist() == np.asarray(w).tolist()


def test_errors_and_shapes():
    with tf.Graph().as_default():
        j = tf.strings.unsorted_segment_join(tf.placeholder(tf.string, [None, 2]), [0, 1], 4)
        assert j.shape.as_list() == [4, 2]
        with pytest.raises(ValueError, match="Unsupported compression type"):
            tf.io.decode_compressed(["x"], compression_type="LZ4")
        bad = tf.io.decode_compressed(["not zlib"], compression_type="ZLIB")
        out_of_range = tf.strings.unsorted_segment_join(["a", "b"], [0, -1], 2)
        with tf.Session() as sess:
            with pytest.raises(E.DataLossError, match="inflate\\(\\) failed with error -3: incorrect header check"):
                sess.run(bad)
            with pytest.raises(E.InvalidArgumentError, match="segment_ids are not allowed to exceed num_segments or "
                                                             "to have negative values"):
                sess.run(out_of_range)
