"""`tf.nest` (issue 13 #7): TF's flatten/pack/map/assert_same_structure semantics, compared with TensorFlow's
own tf.nest on the same structures — results, error classes and error texts."""
import collections

import pytest

import graphcompat as tf
from tests import oracle

P = collections.namedtuple("P", "a b")
Q = collections.namedtuple("Q", "a b")

CASES = {
    "flatten_mixed": lambda nest: nest.flatten({"b": 1, "a": [2, (3, 4)], "c": P(5, None)}),
    "flatten_leaf": lambda nest: [nest.flatten(None), nest.flatten("ab"), nest.flatten({1, 2}), nest.flatten(3)],
    "flatten_ordered_dict": lambda nest: nest.flatten(collections.OrderedDict([("b", 1), ("a", 2)])),
    "flatten_unsortable": lambda nest: nest.flatten({1: 1, "a": 2}),
    "pack_ordered_dict": lambda nest: nest.pack_sequence_as(collections.OrderedDict([("b", 1), ("a", [2, 3])]),
                                                            [10, 20, 30]),
    "pack_namedtuple": lambda nest: nest.pack_sequence_as(P(1, (2,)), [7, 8]),
    "pack_leaf": lambda nest: nest.pack_sequence_as(1, [7]),
    "pack_too_few": lambda nest: nest.pack_sequence_as([1, 2], [1]),
    "pack_not_a_sequence": lambda nest: nest.pack_sequence_as([1, 2], 5),
    "pack_leaf_from_two": lambda nest: nest.pack_sequence_as(1, [1, 2]),
    "map_two": lambda nest: nest.map_structure(lambda a, b: a + b, {"x": [1, 2]}, {"x": [3, 4]}),
    "map_not_callable": lambda nest: nest.map_structure(1, [1]),
    "map_no_structure": lambda nest: nest.map_structure(lambda a: a),
    "map_bad_kwarg": lambda nest: nest.map_structure(lambda a: a, [1], foo=1),
    "map_check_types_off": lambda nest: nest.map_structure(lambda a, b: a * b, [1, 2], (3, 4), check_types=False),
    "same_seq_vs_leaf": lambda nest: nest.assert_same_structure([1, 2], [1, [2]]),
    "same_list_vs_tuple": lambda nest: nest.assert_same_structure([1, 2], (1, 2)),
    "same_list_vs_tuple_unchecked": lambda nest: nest.assert_same_structure([1, 2], (1, 2), check_types=False),
    "same_dict_keys": lambda nest: nest.assert_same_structure({"a": 1}, {"b": 1}),
    "same_length": lambda nest: nest.assert_same_structure([1, 2], [1, 2, 3]),
    "same_namedtuple_types": lambda nest: nest.assert_same_structure(P(1, 2), Q(1, 2)),
    "same_dict_vs_ordered": lambda nest: nest.assert_same_structure({"a": 1}, collections.OrderedDict(a=1)),
    "same_inner_length_first": lambda nest: nest.assert_same_structure([[1, 2], 3], [[1], 3, 4]),
    "same_leaf_vs_string": lambda nest: nest.assert_same_structure(1, "ab"),
    "same_deep": lambda nest: nest.assert_same_structure([1, [2, 3]], [1, [2, [3]]]),
    "is_nested": lambda nest: [nest.is_nested(v) for v in ([], (), {}, "a", 1, None, P(1, 2), {1}, b"x")],
}


def _outcome(fn, nest):
    try:
        return ("ok", repr(fn(nest)))
    except (TypeError, ValueError) as e:
        return (type(e).__name__, str(e))


@pytest.mark.oracle
@pytest.mark.parametrize("case", sorted(CASES))
def test_nest_matches_tensorflow(case):
    v1 = oracle.tf1()
    assert _outcome(CASES[case], tf.nest) == _outcome(CASES[case], v1.nest)


def test_nest_semantics_without_tensorflow():
    assert tf.nest.flatten({"b": 1, "a": [2, (3, 4)]}) == [2, 3, 4, 1]
    packed = tf.nest.pack_sequence_as(collections.OrderedDict([("b", 0), ("a", 0)]), [1, 2])
    assert list(packed.items()) == [("b", 2), ("a", 1)]
    assert tf.nest.map_structure(lambda x: x * 2, P(1, [2])) == P(2, [4])
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tf.nest.assert_same_structure([1], [1, 2])
    with pytest.raises(TypeError, match="don't have the same sequence type"):
        tf.nest.assert_same_structure([1], (1,))
    with tf.Graph().as_default():
        sp = tf.SparseTensor([[0, 0]], [1.0], [2, 2])
        assert tf.nest.flatten(sp) == [sp]
        assert len(tf.nest.flatten(sp, expand_composites=True)) == 3
