"""FixedLenSequenceFeature, parse_(single_)sequence_example and assert_shapes against real TF1: values,
dtypes, static shapes, SparseTensor components, error classes and texts."""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests._op_oracle import compare, compare_error

pytestmark = pytest.mark.oracle

train = graphcompat.train


def _feature(values, kind: str):
    if kind == "i":
        return train.Feature(int64_list=train.Int64List(value=values))
    if kind == "f":
        return train.Feature(float_list=train.FloatList(value=values))
    if kind == "s":
        return train.Feature(bytes_list=train.BytesList(value=values))
    return train.Feature()  # no kind at all


def example(**features) -> bytes:
    """A serialized tf.train.Example; each feature is (values, kind)."""
    return train.Example(features=train.Features(
        feature={k: _feature(*v) for k, v in features.items()})).SerializeToString()


def seq_example(context: dict, lists: dict) -> bytes:
    """A serialized tf.train.SequenceExample: context {key: (values, kind)}, lists {key: ([step values], kind)}."""
    return train.SequenceExample(
        context=train.Features(feature={k: _feature(*v) for k, v in context.items()}),
        feature_lists=train.FeatureLists(feature_list={
            k: train.FeatureList(feature=[_feature(step, kind) for step in steps])
            for k, (steps, kind) in lists.items()})).SerializeToString()


def _feed(name: str, value):
    return lambda tf, g: {g.get_tensor_by_name(name): value}


# ------------------------------------------------------------------------------------------------
# 1. FixedLenSequenceFeature in parse_example / parse_single_example
# ------------------------------------------------------------------------------------------------
EX_A = example(x=([1., 2., 3., 4.], "f"), s=([b"a", b"b"], "s"), n=([7, 8, 9], "i"))
EX_B = example(x=([5., 6.], "f"), n=([], "i"))
EX_C = example()


def _seq_features(tf):
    return {"x": tf.io.FixedLenSequenceFeature([2], tf.float32, allow_missing=True, default_value=-1.),
            "s": tf.FixedLenSequenceFeature([], tf.string, allow_missing=True),
            "n": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True, default_value=3),
            "fixed": tf.FixedLenFeature([], tf.int64, default_value=0)}


def test_parse_example_fixed_len_sequence_pads_with_default():
    got = compare(lambda tf: tf.parse_example(tf.placeholder(tf.string, [None], name="s"), _seq_features(tf)),
                  _feed("s:0", [EX_A, EX_B, EX_C]))
    np.testing.assert_array_equal(got[3], [[[1, 2], [3, 4]], [[5, 6], [-1, -1]], [[-1, -1], [-1, -1]]])


def test_parse_single_example_fixed_len_sequence():
    for record in (EX_A, EX_B, EX_C):
        compare(lambda tf: tf.parse_single_example(tf.placeholder(tf.string, [], name="s"), _seq_features(tf)),
                _feed("s:0", record))


def test_fixed_len_sequence_requires_allow_missing_in_parse_example():
    compare_error(lambda tf: tf.parse_example(tf.placeholder(tf.string, [None]),
                                              {"x": tf.FixedLenSequenceFeature([2], tf.float32)}))


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("record", [example(x=([1., 2., 3.], "f")), example(x=([1, 2], "i"))],
                         ids=["stride", "dtype"])
def test_parse_example_fixed_len_sequence_errors(batched, record):
    if batched:
        build = lambda tf: tf.parse_example(  # noqa: E731
            tf.placeholder(tf.string, [None], name="s"),
            {"x": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True)})
        feed = _feed("s:0", [EX_A, record])
    else:
        build = lambda tf: tf.parse_single_example(  # noqa: E731
            tf.placeholder(tf.string, [], name="s"),
            {"x": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True)})
        feed = _feed("s:0", record)
    compare_error(build, feed)
