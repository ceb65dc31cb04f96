"""The second slice of tf.RaggedTensor against real TF 2.21 `tensorflow.compat.v1`: tf.strings.split /
tf.string_split with result_type='RaggedTensor' (and the rank-N inputs of tf.strings.split), the reductions
TF dispatches for RaggedTensors (tf.reduce_sum/mean/max/min/prod/any/all over any axis), tf.ragged.boolean_mask,
tf.ragged.stack and tf.concat / tf.stack of RaggedTensors (RaggedGather for axis 1), tf.RaggedTensorSpec.
Fetched values (nested row splits with their dtype, flat values), static shapes, dtypes, tensor names and
errors are compared with TF's."""
import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests._op_oracle import compare_error
from tests.test_ragged import _assert_same, _run, compare

pytestmark = pytest.mark.oracle

NESTED = [[[1, 2], [3]], [], [[4, 5, 6], [], [7]]]
FLOATS = [[1., 2.], [], [3., 4., 5.]]
BOOLS = [[True, False], [], [True]]


def _gt(tf, rt, k):
    return tf.ragged.map_flat_values(tf.greater, rt, k)


# ------------------------------------------------------------------------------------------------
# 1. String splitting into RaggedTensors
# ------------------------------------------------------------------------------------------------
SPLITS = {
    "string_split_ragged": lambda tf: tf.string_split(["a b", "c", ""], result_type="RaggedTensor"),
    "string_split_sep": lambda tf: tf.string_split(["a,b", "c,,d"], ",", skip_empty=False,
                                                   result_type="RaggedTensor"),
    "string_split_delimiter_kw": lambda tf: tf.string_split(["a-b c"], delimiter="- "),
    "string_split_sparse": lambda tf: tf.string_split(["a b", "c"]),
    "strings_split_ragged": lambda tf: tf.strings.split(["a b", " c  d "], result_type="RaggedTensor"),
    "strings_split_maxsplit": lambda tf: tf.strings.split(["a<>b<><>c", "d"], sep="<>", maxsplit=1,
                                                          result_type="RaggedTensor"),
    "strings_split_empty_tokens": lambda tf: tf.strings.split(["1<>2<><>3"], sep="<>", result_type="RaggedTensor"),
    "strings_split_scalar": lambda tf: tf.strings.split("a b c"),
    "strings_split_scalar_ragged": lambda tf: tf.strings.split("a b c", result_type="RaggedTensor"),
    "strings_split_rank2_sparse": lambda tf: tf.strings.split([["a b", "c"], ["d e f", ""]]),
    "strings_split_rank2_ragged": lambda tf: tf.strings.split([["a b", "c"], ["d e f", ""]],
                                                              result_type="RaggedTensor"),
    "strings_split_of_ragged": lambda tf: tf.strings.split(tf.ragged.constant([["a b"], [], ["c", "d e"]]),
                                                           result_type="RaggedTensor"),
    "strings_split_of_ragged_sparse": lambda tf: tf.strings.split(tf.ragged.constant([["a b"], [], ["c", "d e"]])),
    "strings_split_source_kw": lambda tf: tf.strings.split(source=["x y"], result_type="RaggedTensor"),
    "strings_split_fed": lambda tf: tf.strings.split(tf.placeholder_with_default(["p q", "r"], [None]),
                                                     result_type="RaggedTensor"),
}


@pytest.mark.parametrize("name", sorted(SPLITS))
def test_split_values(name):
    compare(SPLITS[name])


def _component_names(tf, build):
    with tf.Graph().as_default():
        r = build(tf)
        if hasattr(r, "flat_values"):
            return [r.flat_values.name] + [s.name for s in r.nested_row_splits]
        if hasattr(r, "indices"):
            return [r.indices.name, r.values.name, r.dense_shape.name]
        return [r.name]


@pytest.mark.parametrize("name", sorted(SPLITS))
def test_split_names(name):
    assert _component_names(graphcompat, SPLITS[name]) == _component_names(oracle.tf1(), SPLITS[name])


# ------------------------------------------------------------------------------------------------
# 2. Reductions over a RaggedTensor (TF's ragged_math_ops dispatch)
# ------------------------------------------------------------------------------------------------
def _reduce(fn, data, axis, keepdims=False):
    def build(tf):
        rt = tf.ragged.constant(data) if data is not BOOLS else tf.ragged.constant(BOOLS)
        return getattr(tf, fn)(rt, axis=axis, keepdims=keepdims)
    return build


REDUCTIONS = {}
for _fn in ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any", "reduce_all"):
    _data = BOOLS if _fn in ("reduce_any", "reduce_all") else FLOATS
    for _axis in (1, -1, 0, None, [0, 1]):
        REDUCTIONS[f"{_fn}_{_axis}"] = _reduce(_fn, _data, _axis)
    REDUCTIONS[f"{_fn}_1_keepdims"] = _reduce(_fn, _data, 1, True)
    REDUCTIONS[f"{_fn}_None_keepdims"] = _reduce(_fn, _data, None, True)
    if _fn not in ("reduce_any", "reduce_all"):
        for _axis in (0, 1, 2, [1, 2]):
            # (a NaN mean inside a RaggedTensorValue would not compare equal to itself: no empty inner rows)
            _nested = [[[1, 2], [3]], [], [[4, 5, 6], [7]]] if _fn == "reduce_mean" and _axis == 2 else NESTED
            REDUCTIONS[f"{_fn}_nested_{_axis}"] = _reduce(_fn, _nested, _axis)
REDUCTIONS.update({
    "any_nested_axis1": lambda tf: tf.reduce_any(_gt(tf, tf.ragged.constant(NESTED), 3), axis=1),
    "all_nested_axis0": lambda tf: tf.reduce_all(_gt(tf, tf.ragged.constant(NESTED), 3), axis=0),
    "mean_int": lambda tf: tf.reduce_mean(tf.ragged.constant([[1, 2], [], [3]]), axis=1),
    "sum_inner_shape": lambda tf: tf.reduce_sum(tf.ragged.constant([[[1, 2]], [[3, 4], [5, 6]]], ragged_rank=1),
                                                axis=1),
    "max_inner_axis": lambda tf: tf.reduce_max(tf.ragged.constant([[[1, 2]], [[3, 4], [5, 6]]], ragged_rank=1),
                                               axis=2),
    "sum_v1_args": lambda tf: tf.reduce_sum(tf.ragged.constant([[1, 2], [], [3]]), reduction_indices=1,
                                            keep_dims=True),
    "sum_named": lambda tf: tf.reduce_sum(tf.ragged.constant([[1, 2], [], [3]]), 1, name="total"),
    "sum_axis_tensor": lambda tf: tf.reduce_sum(tf.ragged.constant([[1, 2], [], [3]]), tf.constant(1)),
    "sum_int32_splits": lambda tf: tf.reduce_sum(tf.ragged.constant([[1, 2], [3]], row_splits_dtype=tf.int32), 1),
    "math_namespace": lambda tf: tf.math.reduce_sum(tf.ragged.constant([[1, 2], [3]]), axis=1),
    "sum_of_split": lambda tf: tf.reduce_sum(tf.strings.length(
        tf.strings.split(["ab c", "def"], result_type="RaggedTensor").flat_values)),
})


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions(name):
    compare(REDUCTIONS[name])


@pytest.mark.parametrize("name", ["reduce_sum_1", "reduce_mean_None", "reduce_any_0", "reduce_max_nested_2",
                                  "reduce_mean_nested_[1, 2]", "sum_named", "reduce_prod_1_keepdims"])
def test_reduction_names(name):
    assert _component_names(graphcompat, REDUCTIONS[name]) == _component_names(oracle.tf1(), REDUCTIONS[name])


# ------------------------------------------------------------------------------------------------
# 3. boolean_mask, stack, concat
# ------------------------------------------------------------------------------------------------
COMBINE = {
    "mask_dense_1d": lambda tf: tf.ragged.boolean_mask([1, 2, 3], [True, False, True]),
    "mask_dense_2d": lambda tf: tf.ragged.boolean_mask([[1, 2, 3], [4, 5, 6]],
                                                       [[True, False, True], [False, False, True]]),
    "mask_dense_3d": lambda tf: tf.ragged.boolean_mask(np.arange(12).reshape(2, 3, 2),
                                                       np.arange(12).reshape(2, 3, 2) % 3 == 0),
    "mask_dense_rows": lambda tf: tf.ragged.boolean_mask([[1, 2], [3, 4], [5, 6]], [True, False, True]),
    "mask_ragged_ragged": lambda tf: tf.ragged.boolean_mask(tf.ragged.constant([[1, 2, 3], [], [4, 5]]),
                                                            tf.ragged.constant([[True, False, True], [],
                                                                                [False, True]])),
    "mask_ragged_rows": lambda tf: tf.ragged.boolean_mask(tf.ragged.constant([[1, 2, 3], [], [4, 5]]),
                                                          [True, False, True]),
    "mask_nested_rows": lambda tf: tf.ragged.boolean_mask(tf.ragged.constant(NESTED), [False, True, True]),
    "mask_nested_ragged": lambda tf: tf.ragged.boolean_mask(tf.ragged.constant(NESTED),
                                                            _gt(tf, tf.ragged.constant(NESTED), 2)),
    "mask_ragged_dense_mask": lambda tf: tf.ragged.boolean_mask(tf.ragged.constant([[1, 2], [3, 4]]),
                                                                [[True, False], [False, True]]),
    "mask_int32_splits": lambda tf: tf.ragged.boolean_mask(
        tf.ragged.constant([[1, 2, 3], [4]], row_splits_dtype=tf.int32),
        tf.ragged.constant([[True, False, True], [True]], row_splits_dtype=tf.int32)),
    "stack_axis0": lambda tf: tf.ragged.stack([tf.ragged.constant([[1, 2], [3]]), tf.ragged.constant([[4], [], [5]])]),
    "stack_axis1": lambda tf: tf.ragged.stack([tf.ragged.constant([[1, 2], [3]]), tf.ragged.constant([[4], [5, 6]])],
                                              axis=1),
    "stack_axis2": lambda tf: tf.ragged.stack([tf.ragged.constant([[1, 2], [3]]), tf.ragged.constant([[4, 7], [5]])],
                                              axis=2),
    "stack_dense_vectors": lambda tf: tf.ragged.stack([[1, 2], [3]]),
    "stack_dense_last_axis": lambda tf: tf.ragged.stack([[[1, 2]], [[3, 4]]], axis=1),
    "stack_mixed": lambda tf: tf.ragged.stack([tf.ragged.constant([[1, 2], [3]]), [[4, 5]]]),
    "stack_one": lambda tf: tf.ragged.stack([tf.ragged.constant(NESTED)]),
    "stack_nested_axis1": lambda tf: tf.ragged.stack([tf.ragged.constant(NESTED), tf.ragged.constant(NESTED)],
                                                     axis=1),
    "tf_stack_axis0": lambda tf: tf.stack([tf.ragged.constant([[1, 2], [3]]), tf.ragged.constant([[4], [5, 6]])]),
    "tf_stack_axis1": lambda tf: tf.stack([tf.ragged.constant([[1, 2], [3]]), tf.ragged.constant([[4], [5, 6]])],
                                          axis=1),
    "concat_axis0": lambda tf: tf.concat([tf.ragged.constant([[1, 2], [3]]), tf.ragged.constant([[4], [], [5]])], 0),
    "concat_axis1": lambda tf: tf.concat([tf.ragged.constant([[1, 2], [3]]), tf.ragged.constant([[4], [5, 6]])], 1),
    "concat_axis_negative": lambda tf: tf.concat([tf.ragged.constant([[1, 2], [3]]),
                                                  tf.ragged.constant([[4], [5, 6]])], -1),
    "concat_nested_axis1": lambda tf: tf.concat([tf.ragged.constant(NESTED), tf.ragged.constant(NESTED)], 1),
    "concat_nested_axis2": lambda tf: tf.concat([tf.ragged.constant(NESTED), tf.ragged.constant(NESTED)], 2),
    "concat_mixed_dense": lambda tf: tf.concat([tf.ragged.constant([[1, 2], [3]]), tf.constant([[4, 5], [6, 7]])],
                                               1),
    "concat_named": lambda tf: tf.concat([tf.ragged.constant([[1, 2], [3]]), tf.ragged.constant([[4]])], 0,
                                         name="cat"),
    "concat_one": lambda tf: tf.concat([tf.ragged.constant([[1, 2], [3]])], 0),
    "concat_int32_splits": lambda tf: tf.concat([tf.ragged.constant([[1.], [2., 3.]], row_splits_dtype=tf.int32),
                                                 tf.ragged.constant([[4.], []], row_splits_dtype=tf.int32)], 1),
    "concat_dense_unchanged": lambda tf: tf.concat([tf.constant([[1]]), tf.constant([[2]])], 0),
    "stack_dense_unchanged": lambda tf: tf.stack([tf.constant([1]), tf.constant([2])]),
}


@pytest.mark.parametrize("name", sorted(COMBINE))
def test_combine_values(name):
    compare(COMBINE[name])


@pytest.mark.parametrize("name", sorted(COMBINE))
def test_combine_names(name):
    assert _component_names(graphcompat, COMBINE[name]) == _component_names(oracle.tf1(), COMBINE[name])


def _grad_through_concat_axis1(tf):
    x = tf.constant([1., 2., 3.])
    y = tf.constant([4., 5.])
    a = tf.RaggedTensor.from_row_splits(x, [0, 2, 3])
    b = tf.RaggedTensor.from_row_splits(y, [0, 1, 2])
    joined = tf.concat([a, b], axis=1)
    loss = tf.reduce_sum(joined.flat_values * tf.constant([1., 2., 3., 4., 5.]))
    return [tf.convert_to_tensor(g) for g in tf.gradients(loss, [x, y])]


def _grad_through_reduce(tf):
    x = tf.constant([1., 2., 3., 4.])
    rt = tf.RaggedTensor.from_row_splits(x, [0, 3, 3, 4])
    return [tf.convert_to_tensor(g) for g in tf.gradients(tf.reduce_sum(tf.reduce_max(rt, axis=1) *
                                                                        tf.constant([1., 0., 2.])), [x])]


@pytest.mark.parametrize("build", [_grad_through_concat_axis1, _grad_through_reduce])
def test_gradients(build):
    compare(build)


# ------------------------------------------------------------------------------------------------
# 4. Errors (build time and run time)
# ------------------------------------------------------------------------------------------------
def _fed_nrows_mismatch(tf):
    a = tf.RaggedTensor.from_row_splits([1, 2, 3], tf.placeholder(tf.int64, [None], name="splits"))
    return tf.concat([a, tf.ragged.constant([[4], [5]])], axis=1)


def _feed_splits(tf, graph):
    return {graph.get_tensor_by_name("splits:0"): np.array([0, 3], np.int64)}


ERRORS = {
    "split_bad_result_type": (lambda tf: tf.strings.split(["a"], result_type="Dense"), None),
    "string_split_bad_result_type": (lambda tf: tf.string_split(["a"], result_type="Dense"), None),
    "string_split_rank2": (lambda tf: tf.string_split([["a"]], result_type="RaggedTensor"), None),
    "string_split_sep_and_delimiter": (lambda tf: tf.string_split(["a"], sep=" ", delimiter=","), None),
    "split_input_and_source": (lambda tf: tf.strings.split(["a"], source=["b"]), None),
    "reduce_axis_out_of_range": (lambda tf: tf.reduce_sum(tf.ragged.constant([[1, 2], [3]]), 2), None),
    "reduce_axis_not_int": (lambda tf: tf.reduce_sum(tf.ragged.constant([[1, 2], [3]]), 1.5), None),
    "reduce_axis_placeholder": (lambda tf: tf.reduce_sum(tf.ragged.constant([[1, 2], [3]]),
                                                         tf.placeholder(tf.int32, [])), None),
    "mask_scalar": (lambda tf: tf.ragged.boolean_mask([1, 2], True), None),
    "mask_mixed_splits_dtypes": (lambda tf: tf.ragged.boolean_mask(
        tf.ragged.constant([[1, 2, 3], [4]]), tf.ragged.constant([[True, False, True], [True]],
                                                                 row_splits_dtype=tf.int32)), None),
    "mask_splits_differ": (lambda tf: tf.ragged.boolean_mask(
        tf.ragged.constant([[1, 2, 3], [4]]), tf.ragged.constant([[True, False], [True, True]])).flat_values, None),
    "stack_empty": (lambda tf: tf.ragged.stack([]), None),
    "stack_axis_out_of_range": (lambda tf: tf.ragged.stack([tf.ragged.constant([[1, 2], [3]])], axis=3), None),
    "stack_rank_mismatch": (lambda tf: tf.ragged.stack([tf.ragged.constant([[1, 2], [3]]),
                                                        tf.ragged.constant(NESTED)]), None),
    "concat_nrows_mismatch": (lambda tf: tf.concat([tf.ragged.constant([[1, 2], [3]]),
                                                    tf.ragged.constant([[4]])], 1).flat_values, None),
    "concat_nrows_fed": (lambda tf: _fed_nrows_mismatch(tf).flat_values, _feed_splits),
    "spec_no_rank": (lambda tf: tf.RaggedTensorSpec(), None),
    "spec_rank_too_big": (lambda tf: tf.RaggedTensorSpec([2], ragged_rank=1), None),
    "spec_rank_not_int": (lambda tf: tf.RaggedTensorSpec([2, None], ragged_rank=1.5), None),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name):
    build, feed = ERRORS[name]
    compare_error(build, feed)


# ------------------------------------------------------------------------------------------------
# 5. RaggedTensorSpec
# ------------------------------------------------------------------------------------------------
SPECS = [
    dict(shape=[2, None]),
    dict(shape=[2, None, 3], dtype="int32"),
    dict(shape=[None, None, None], ragged_rank=1, row_splits_dtype="int32"),
    dict(shape=None, ragged_rank=2),
    dict(shape=[3, None], ragged_rank=0),
    dict(shape=[None, None], dtype="string"),
]


def _spec_facts(tf, kwargs):
    spec = tf.RaggedTensorSpec(**kwargs)
    return (repr(spec), spec.shape.as_list() if spec.shape.ndims is not None else None, spec.dtype.name,
            spec.ragged_rank, spec.row_splits_dtype.name, spec.flat_values_spec,
            spec == tf.RaggedTensorSpec(**kwargs), hash(spec) == hash(tf.RaggedTensorSpec(**kwargs)))


@pytest.mark.parametrize("kwargs", SPECS, ids=[str(i) for i in range(len(SPECS))])
def test_spec_properties(kwargs):
    assert _spec_facts(graphcompat, kwargs) == _spec_facts(oracle.tf1(), kwargs)


def _spec_relations(tf):
    S = tf.RaggedTensorSpec
    a, b, c, d = S([2, None]), S([None, None]), S([2, None], tf.int32), S([2, None, None], tf.float32, 1)
    e = S([2, None], row_splits_dtype=tf.int32)
    with tf.Graph().as_default():
        rt = tf.ragged.constant([[1, 2], [3]])
        from_value = S.from_value(rt)
        with_rt = [a.is_compatible_with(rt), S([None, None], tf.int32).is_compatible_with(rt), c.is_compatible_with(rt),
                   S([3, None], tf.int32).is_compatible_with(rt)]
        nested = repr(S.from_value(tf.ragged.constant([[[1.]]])))
        type_spec = repr(rt._type_spec)
    return ([a == S([2, None]), a == b, a != b, a == c, a == e, a == 3, a.is_compatible_with(b),
             b.is_compatible_with(a), a.is_compatible_with(c), a.is_compatible_with(d), a.is_compatible_with(e),
             a.is_compatible_with(3)], with_rt, repr(from_value), nested, type_spec, a.value_type.__name__)


def test_spec_relations():
    assert _spec_relations(graphcompat) == _spec_relations(oracle.tf1())


# ------------------------------------------------------------------------------------------------
# 6. GraphDefs with RaggedGather: TF's imports and runs here, ours in TF
# ------------------------------------------------------------------------------------------------
def _gather_snippet(tf):
    rt = tf.concat([tf.ragged.constant(NESTED), tf.ragged.constant([[[8]], [[9, 9]], []])], axis=1)
    return [rt.flat_values] + list(rt.nested_row_splits)


@pytest.mark.parametrize("direction", ["tf_to_graphcompat", "graphcompat_to_tf"])
def test_graph_def_round_trip(direction):
    v1 = oracle.tf1()
    source, target = (v1, graphcompat) if direction == "tf_to_graphcompat" else (graphcompat, v1)
    want = _run(v1, _gather_snippet)[0]
    graph = source.Graph()
    with graph.as_default():
        names = [t.name for t in _gather_snippet(source)]
    graph_def = target.GraphDef.FromString(graph.as_graph_def().SerializeToString())
    with target.Graph().as_default():
        fetches = target.import_graph_def(graph_def, return_elements=names, name="")
        with target.Session() as sess:
            got = sess.run(fetches)
    _assert_same(got, want)


# ------------------------------------------------------------------------------------------------
# 7. What is not built says so
# ------------------------------------------------------------------------------------------------
def test_keepdims_with_ragged_result_is_refused():
    """TF expands a ragged reduction result with its ragged expand_dims; graphcompat does not build that."""
    with graphcompat.Graph().as_default():
        rt = graphcompat.ragged.constant(NESTED)
        with pytest.raises(NotImplementedError, match="keepdims=True"):
            graphcompat.reduce_sum(rt, axis=1, keepdims=True)
        # a dense result keeps its dims as in TF
        assert graphcompat.reduce_sum(graphcompat.ragged.constant([[1, 2], [3]]), axis=1,
                                      keepdims=True).shape.as_list() == [2, 1]
