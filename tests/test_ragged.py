"""tf.RaggedTensor and tf.ragged against real TF 2.21 `tensorflow.compat.v1`: every factory, the row
encodings, to_tensor / to_sparse, tf.ragged.constant / constant_value / placeholder / range / segment ids /
map_flat_values, row indexing. Fetched values (RaggedTensorValue structure: nested row splits with their
dtype, flat values), static shapes and dtypes, and errors (class and text) are compared with TF's."""
import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests._op_oracle import compare_error

pytestmark = pytest.mark.oracle


def _run(tf, build, feed=None):
    """(fetched structure, static shapes, dtypes) of `build(tf)` in a fresh graph of `tf`."""
    graph = tf.Graph()
    with graph.as_default():
        fetches = build(tf)
        flat = fetches if isinstance(fetches, (list, tuple)) else [fetches]
        static = [x.shape.as_list() if x.shape.ndims is not None else None for x in flat if hasattr(x, "shape")]
        dtypes = [x.dtype.name for x in flat if hasattr(x, "dtype")]
        with tf.Session(graph=graph) as sess:
            return sess.run(fetches, feed(tf, graph) if feed else None), static, dtypes


def _assert_same(got, want, where="fetch"):
    """The same structure: RaggedTensorValue (ragged rank, each splits vector with its dtype, flat values),
    SparseTensorValue, lists/tuples/dicts, arrays (dtype, shape, values)."""
    assert type(got).__name__ == type(want).__name__, (where, type(got), type(want))
    if type(want).__name__ == "RaggedTensorValue":
        assert got.ragged_rank == want.ragged_rank, where
        for k, (g, w) in enumerate(zip(got.nested_row_splits, want.nested_row_splits)):
            _assert_same(g, w, f"{where}.splits[{k}]")
        _assert_same(got.flat_values, want.flat_values, f"{where}.flat_values")
        assert got.to_list() == want.to_list(), where
        assert str(got) == str(want), where
    elif type(want).__name__ == "SparseTensorValue":
        for g, w, part in zip(got, want, ("indices", "values", "dense_shape")):
            _assert_same(g, w, f"{where}.{part}")
    elif isinstance(want, dict):
        assert sorted(got) == sorted(want), where
        for k in want:
            _assert_same(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), where
        for k, (g, w) in enumerate(zip(got, want)):
            _assert_same(g, w, f"{where}[{k}]")
    else:
        g, w = np.asarray(got), np.asarray(want)
        assert (g.dtype, g.shape) == (w.dtype, w.shape), (where, g.dtype, w.dtype, g.shape, w.shape)
        if w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=1e-6, err_msg=where)
        else:
            np.testing.assert_array_equal(g, w, err_msg=where)


def compare(build, feed=None):
    v1 = oracle.tf1()
    got, got_static, got_dtypes = _run(graphcompat, build, feed)
    want, want_static, want_dtypes = _run(v1, build, feed)
    _assert_same(got, want)
    # static shapes: graphcompat may know less than TF (None), never something else
    assert len(got_static) == len(want_static), (got_static, want_static)
    for g, w in zip(got_static, want_static):
        assert g is None or (len(g) == len(w) and all(a is None or a == b for a, b in zip(g, w))), (g, w)
    assert got_dtypes == want_dtypes, (got_dtypes, want_dtypes)


VALUES = [1., 2., 3., 4., 5.]
NESTED = [[[1, 2], [3]], [], [[4, 5, 6], [], [7]]]

# ------------------------------------------------------------------------------------------------
# 1. Factories, properties and row encodings: one line per case
# ------------------------------------------------------------------------------------------------
FACTORIES = {
    "row_splits": lambda tf: tf.RaggedTensor.from_row_splits(VALUES, [0, 2, 2, 5]),
    "row_splits_int32": lambda tf: tf.RaggedTensor.from_row_splits(VALUES, tf.constant([0, 2, 2, 5], tf.int32)),
    "row_splits_novalidate": lambda tf: tf.RaggedTensor.from_row_splits(VALUES, [0, 2, 2, 5], validate=False),
    "row_lengths": lambda tf: tf.RaggedTensor.from_row_lengths(VALUES, [2, 0, 3]),
    "value_rowids": lambda tf: tf.RaggedTensor.from_value_rowids(VALUES, [0, 0, 2, 2, 2]),
    "value_rowids_nrows": lambda tf: tf.RaggedTensor.from_value_rowids(VALUES, [0, 0, 2, 2, 2], nrows=5),
    "row_starts": lambda tf: tf.RaggedTensor.from_row_starts(VALUES, [0, 2, 2]),
    "row_limits": lambda tf: tf.RaggedTensor.from_row_limits(VALUES, [2, 2, 5]),
    "uniform": lambda tf: tf.RaggedTensor.from_uniform_row_length([1, 2, 3, 4, 5, 6], 2),
    "nested_splits": lambda tf: tf.RaggedTensor.from_nested_row_splits([1, 2, 3, 4, 5, 6, 7],
                                                                        [[0, 2, 2, 5], [0, 2, 3, 6, 6, 7]]),
    "nested_lengths": lambda tf: tf.RaggedTensor.from_nested_row_lengths([1, 2, 3, 4], [[1, 2], [1, 0, 3]]),
    "nested_rowids": lambda tf: tf.RaggedTensor.from_nested_value_rowids([1, 2, 3, 4], [[0, 1, 1], [0, 0, 2, 2]]),
    "matrix_values": lambda tf: tf.RaggedTensor.from_row_splits(np.arange(10.).reshape(5, 2), [0, 1, 5]),
    "from_tensor": lambda tf: tf.RaggedTensor.from_tensor([[1, 2, 0], [3, 0, 0]]),
    "from_tensor_lengths": lambda tf: tf.RaggedTensor.from_tensor([[1, 2, 0], [3, 0, 0]], lengths=[2, 5]),
    "from_tensor_padding": lambda tf: tf.RaggedTensor.from_tensor([[1, 2, 0], [3, 0, 0], [0, 0, 0]], padding=0),
    "from_tensor_padding_3d": lambda tf: tf.RaggedTensor.from_tensor(
        [[[1, 1], [0, 0]], [[0, 0], [0, 0]]], padding=[0, 0]),
    "from_tensor_int32": lambda tf: tf.RaggedTensor.from_tensor([[1, 2], [3, 0]], lengths=[1, 2],
                                                                 row_splits_dtype=tf.int32),
    "from_tensor_rank2": lambda tf: tf.RaggedTensor.from_tensor(np.arange(24).reshape(2, 3, 4), padding=0,
                                                                 ragged_rank=2),
    "from_sparse": lambda tf: tf.RaggedTensor.from_sparse(tf.SparseTensor([[0, 0], [0, 1], [2, 0]], [1, 2, 3],
                                                                          [4, 5])),
    "constant": lambda tf: tf.ragged.constant([[1, 2], [], [3]]),
    "constant_nested": lambda tf: tf.ragged.constant(NESTED),
    "constant_float_int32": lambda tf: tf.ragged.constant([[1.5], [2.5, 3.5]], row_splits_dtype=tf.int32),
    "constant_inner_shape": lambda tf: tf.ragged.constant([[[1, 2]], [[3, 4], [5, 6]]], ragged_rank=1),
    "constant_dtype": lambda tf: tf.ragged.constant([[1, 2], [3]], dtype=tf.float64),
    "constant_empty": lambda tf: tf.ragged.constant([[], []], dtype=tf.int64),
    "range": lambda tf: tf.ragged.range([0, 3, 5], [4, 3, 10], [1, 1, 2]),
    "range_scalar": lambda tf: tf.ragged.range(4),
    "range_broadcast": lambda tf: tf.ragged.range([1, 2, 3]),
    "range_negative": lambda tf: tf.ragged.range([5, 0], [0, 5], [-2, -1]),
    "range_float": lambda tf: tf.ragged.range([0.5, 1.], [2., 1.7], 0.25),
    "range_int64_splits32": lambda tf: tf.ragged.range(tf.constant([3, 1], tf.int64), row_splits_dtype=tf.int32),
    "with_values": lambda tf: tf.ragged.constant([[1, 2], [3]]).with_values(tf.constant([4., 5., 6.])),
    "with_flat_values": lambda tf: tf.ragged.constant(NESTED).with_flat_values(tf.range(7) * 10),
    "with_splits_dtype": lambda tf: tf.ragged.constant(NESTED).with_row_splits_dtype(tf.int32),
    "map_flat_values": lambda tf: tf.ragged.map_flat_values(tf.multiply, tf.ragged.constant(NESTED), 2),
    "map_flat_values_two": lambda tf: (lambda rt: tf.ragged.map_flat_values(tf.add, rt, rt))(
        tf.ragged.constant([[1, 2], [3]])),
    "row_lengths_axes": lambda tf: [tf.ragged.constant(NESTED).row_lengths(a) for a in (-1, 2, -2)],
    "row_lengths_uniform_axis": lambda tf: tf.ragged.constant([[[1, 2]], [[3, 4], [5, 6]]],
                                                              ragged_rank=1).row_lengths(2),
    "operators": lambda tf: (lambda rt, f: [rt + 1, 2 * rt, -rt, rt - rt, f / 2., 1. - f, f * f, abs(-f)])(
        tf.ragged.constant(NESTED), tf.ragged.constant([[1., 2.], [3.]])),
    "getitem_row": lambda tf: tf.ragged.constant([[1, 2], [], [3, 4, 5]])[2],
    "getitem_negative": lambda tf: tf.ragged.constant([[1, 2], [], [3, 4, 5]])[-3],
    "getitem_slice": lambda tf: tf.ragged.constant([[1, 2], [], [3, 4, 5], [6]])[1:3],
    "getitem_nested_slice": lambda tf: tf.ragged.constant(NESTED)[1:],
    "getitem_slice_empty": lambda tf: tf.ragged.constant(NESTED)[2:1],
    "getitem_slice_open": lambda tf: tf.ragged.constant([[1, 2], [], [3, 4, 5], [6]])[:-1],
    "getitem_nested_row": lambda tf: tf.ragged.constant(NESTED)[2],
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factory_values(name):
    compare(FACTORIES[name])


def _encodings(rt):
    return [rt.row_splits, rt.row_lengths(), rt.row_starts(), rt.row_limits(), rt.value_rowids(), rt.nrows(),
            rt.nrows(out_type="int32"), rt.flat_values] + list(rt.nested_row_splits)


@pytest.mark.parametrize("name", ["row_splits", "row_splits_int32", "row_lengths", "value_rowids_nrows",
                                  "row_starts", "row_limits", "nested_splits", "from_tensor", "from_sparse",
                                  "constant_nested", "range", "uniform", "from_tensor_padding"])
def test_row_encodings(name):
    compare(lambda tf: _encodings(FACTORIES[name](tf)))


@pytest.mark.parametrize("name", ["row_splits", "nested_splits", "constant_inner_shape", "from_tensor",
                                  "value_rowids_nrows", "constant_empty", "range"])
def test_properties(name):
    v1 = oracle.tf1()
    for lib in (graphcompat, v1):
        with lib.Graph().as_default():
            rt = FACTORIES[name](lib)
            props = (rt.ragged_rank, rt.dtype.name, rt.row_splits.dtype.name, rt.shape.as_list(),
                     len(rt.nested_row_splits), rt.flat_values.shape.as_list(), type(rt).__name__)
        if lib is graphcompat:
            got = props
    assert got == props


# ------------------------------------------------------------------------------------------------
# 2. to_tensor / to_sparse (TF's RaggedTensorToTensor / RaggedTensorToSparse kernels)
# ------------------------------------------------------------------------------------------------
CONVERSIONS = {
    "to_tensor": lambda tf: tf.ragged.constant([[1, 2, 3], [], [4]]).to_tensor(),
    "to_tensor_default": lambda tf: tf.ragged.constant([[1., 2.], [3.]]).to_tensor(default_value=-1.),
    "to_tensor_truncate": lambda tf: tf.ragged.constant([[1, 2, 3], [4]]).to_tensor(shape=[1, 2]),
    "to_tensor_grow": lambda tf: tf.ragged.constant([[1, 2, 3], [4]]).to_tensor(default_value=9, shape=[3, 4]),
    "to_tensor_partial_shape": lambda tf: tf.ragged.constant([[1, 2, 3], [4]]).to_tensor(shape=[None, 5]),
    "to_tensor_nested": lambda tf: tf.ragged.constant(NESTED).to_tensor(),
    "to_tensor_inner": lambda tf: tf.ragged.constant([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1).to_tensor(
        default_value=[7, 8]),
    "to_tensor_empty": lambda tf: tf.ragged.constant([[], []], dtype=tf.float32).to_tensor(),
    "to_tensor_int32_splits": lambda tf: tf.ragged.constant([[1], [2, 3]], row_splits_dtype=tf.int32).to_tensor(),
    "to_tensor_from_rowids": lambda tf: tf.RaggedTensor.from_value_rowids([1, 2, 3], [0, 0, 2], 4).to_tensor(),
    "to_sparse": lambda tf: tf.ragged.constant([[1, 2, 3], [], [4]]).to_sparse(),
    "to_sparse_nested": lambda tf: tf.ragged.constant(NESTED).to_sparse(),
    "to_sparse_inner": lambda tf: tf.ragged.constant([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1).to_sparse(),
    "roundtrip_sparse": lambda tf: tf.RaggedTensor.from_sparse(tf.ragged.constant([[1, 2], [], [3]]).to_sparse()),
    "roundtrip_tensor": lambda tf: tf.RaggedTensor.from_tensor(tf.ragged.constant([[1, 2], [], [3]]).to_tensor(),
                                                               padding=0),
    "bounding_shape": lambda tf: tf.ragged.constant(NESTED).bounding_shape(),
    "segment_ids": lambda tf: tf.ragged.row_splits_to_segment_ids([0, 3, 3, 5, 6, 9]),
    "segment_ids_int32": lambda tf: tf.ragged.row_splits_to_segment_ids(tf.constant([0, 2, 2, 3], tf.int32)),
    "segment_ids_out": lambda tf: tf.ragged.row_splits_to_segment_ids([0, 2, 2, 3], out_type=tf.int32),
    "row_splits": lambda tf: tf.ragged.segment_ids_to_row_splits([0, 0, 0, 2, 2, 3, 4, 4, 4]),
    "row_splits_num": lambda tf: tf.ragged.segment_ids_to_row_splits([0, 0, 2], num_segments=5),
    "row_splits_out": lambda tf: tf.ragged.segment_ids_to_row_splits(tf.constant([0, 1, 1], tf.int64),
                                                                     out_type=tf.int32),
}


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
def test_conversions(name):
    compare(CONVERSIONS[name])


def test_to_tensor_op_types():
    """to_tensor / to_sparse / ragged.range record TF's kernels under TF's names."""
    def build(tf):
        rt = tf.ragged.constant([[1, 2], [3]])
        return [rt.to_tensor(), rt.to_sparse().indices, tf.ragged.range([2, 3]).row_splits]
    v1 = oracle.tf1()
    got = [t.name for t in _built(graphcompat, build)]
    want = [t.name for t in _built(v1, build)]
    assert got == want


def _built(tf, build):
    with tf.Graph().as_default():
        return build(tf)


# ------------------------------------------------------------------------------------------------
# 3. Session: fetch structures, placeholders fed with RaggedTensorValue, constant_value
# ------------------------------------------------------------------------------------------------
def test_fetch_structures():
    compare(lambda tf: [{"a": tf.ragged.constant(NESTED), "b": (tf.ragged.constant([[1.], []]),)},
                        tf.constant(3)])


def _ragged_feed(tf, graph):
    p1 = graph.get_tensor_by_name("RaggedPlaceholder/flat_values:0")
    return {p1: np.array([1., 2., 3.], np.float32),
            graph.get_tensor_by_name("RaggedPlaceholder/row_splits_0:0"): np.array([0, 1, 3], np.int64)}


def test_placeholder_fed_by_components():
    compare(lambda tf: tf.ragged.placeholder(tf.float32, 1), feed=_ragged_feed)


def test_placeholder_fed_by_value():
    v1 = oracle.tf1()
    for lib in (graphcompat, v1):
        with lib.Graph().as_default():
            p = lib.ragged.placeholder(lib.int32, 2, [2])
            doubled = lib.ragged.map_flat_values(lib.multiply, p, 2)
            value = lib.ragged.constant_value([[[[1, 2]], []], [[[3, 4], [5, 6]]]], dtype="int32", ragged_rank=2)
            with lib.Session() as sess:
                out = sess.run([p, doubled, p.to_tensor()], {p: value})
            static = (p.shape.as_list(), p.flat_values.shape.as_list())
        if lib is graphcompat:
            got = (out, static)
    _assert_same(got[0], out)
    assert got[1] == static


@pytest.mark.parametrize("args,kwargs", [
    (([[1, 2], [3]],), {}),
    (([[1, 2], [3]],), {"dtype": "float32", "row_splits_dtype": "int32"}),
    ((NESTED,), {}),
    (([[[1, 2]], [[3, 4], [5, 6]]],), {"ragged_rank": 1}),
    (([[1, 2], [3, 4]],), {"ragged_rank": 0}),
    (([],), {}),
    ((5,), {}),
    (([[], []],), {"inner_shape": (2,), "ragged_rank": 1}),
])
def test_constant_value(args, kwargs):
    v1 = oracle.tf1()
    _assert_same(graphcompat.ragged.constant_value(*args, **kwargs), v1.ragged.constant_value(*args, **kwargs))


def test_ragged_tensor_value_api():
    v1 = oracle.tf1()
    splits = np.array([0, 2, 3])
    got = graphcompat.ragged.RaggedTensorValue(np.array([1, 2, 3]), splits)
    want = v1.ragged.RaggedTensorValue(np.array([1, 2, 3]), splits)
    assert (repr(got), str(got), got.shape, got.to_list(), got.ragged_rank) == \
        (repr(want), str(want), want.shape, want.to_list(), want.ragged_rank)
    for bad in [(np.array([1]), [0, 1]), ([1], np.array([0, 1]))]:
        with pytest.raises(TypeError) as g:
            graphcompat.ragged.RaggedTensorValue(*bad)
        with pytest.raises(TypeError) as w:
            v1.ragged.RaggedTensorValue(*bad)
        assert str(g.value) == str(w.value)


# ------------------------------------------------------------------------------------------------
# 4. Errors: build-time (ValueError / TypeError texts) and validate=True asserts at run time
# ------------------------------------------------------------------------------------------------
def _fed_splits(splits, dtype="int64"):
    def feed(tf, graph):
        return {graph.get_tensor_by_name("splits:0"): np.array(splits, dtype)}
    return feed


def _from_fed(factory, values=VALUES, **kwargs):
    def build(tf):
        s = tf.placeholder(tf.int64, [None], name="splits")
        return getattr(tf.RaggedTensor, factory)(values, s, **kwargs).row_splits
    return build


ERRORS = {
    "splits_empty_list": (lambda tf: tf.RaggedTensor.from_row_splits([1], []), None),
    "splits_not_zero": (lambda tf: tf.RaggedTensor.from_row_splits(VALUES, [1, 5]).row_splits, None),
    "splits_decreasing": (lambda tf: tf.RaggedTensor.from_row_splits(VALUES, [0, 3, 2, 5]).row_splits, None),
    "splits_bad_total": (lambda tf: tf.RaggedTensor.from_row_splits(VALUES, [0, 2, 4]).row_splits, None),
    "splits_float": (lambda tf: tf.RaggedTensor.from_row_splits(VALUES, tf.constant([0., 5.])), None),
    "fed_not_zero": (_from_fed("from_row_splits"), _fed_splits([1, 5])),
    "fed_decreasing": (_from_fed("from_row_splits"), _fed_splits([0, 3, 2, 5])),
    "fed_total": (_from_fed("from_row_splits"), _fed_splits([0, 2, 4])),
    "fed_negative_lengths": (_from_fed("from_row_lengths"), _fed_splits([6, -1])),
    "fed_rowids_unsorted": (_from_fed("from_value_rowids"), _fed_splits([0, 2, 1, 2, 2])),
    "fed_limits": (_from_fed("from_row_limits"), _fed_splits([3, 2, 5])),
    "fed_starts": (_from_fed("from_row_starts"), _fed_splits([1, 2])),
    "rowids_nrows_small": (lambda tf: tf.RaggedTensor.from_value_rowids(VALUES, [0, 0, 2, 2, 2], nrows=2), None),
    "rowids_nrows_negative": (lambda tf: tf.RaggedTensor.from_value_rowids(VALUES, [0, 0, 2, 2, 2], nrows=-1),
                              None),
    "private_constructor": (lambda tf: tf.RaggedTensor(tf.constant([1]), tf.constant([0, 1], tf.int64)), None),
    "validate_not_bool": (lambda tf: tf.RaggedTensor.from_row_splits(VALUES, [0, 5], validate=1), None),
    "to_list_graph": (lambda tf: tf.ragged.constant([[1]]).to_list(), None),
    "lengths_and_padding": (lambda tf: tf.RaggedTensor.from_tensor([[1]], lengths=[1], padding=0), None),
    "from_sparse_rank3": (lambda tf: tf.RaggedTensor.from_sparse(tf.SparseTensor([[0, 0, 0]], [1], [1, 1, 1])),
                          None),
    "from_sparse_not_right_ragged": (lambda tf: tf.RaggedTensor.from_sparse(
        tf.SparseTensor([[0, 0], [0, 2]], [1, 2], [2, 3])).row_splits, None),
    "constant_depths": (lambda tf: tf.ragged.constant([[1, [2]], [3]]), None),
    "constant_inner": (lambda tf: tf.ragged.constant([[[1, 2]], [[3]]], ragged_rank=1), None),
    "constant_ragged_rank": (lambda tf: tf.ragged.constant([[1]], ragged_rank=3), None),
    "constant_negative_rank": (lambda tf: tf.ragged.constant([[1]], ragged_rank=-1), None),
    "range_delta_zero": (lambda tf: tf.ragged.range([1, 2], [4, 5], [1, 0]), None),
    "range_shapes": (lambda tf: tf.ragged.range([1, 2], [4, 5, 6]), None),
    "range_rank2": (lambda tf: tf.ragged.range([[3]]), None),
    "to_tensor_default_shape": (lambda tf: tf.ragged.constant([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
                                .to_tensor(default_value=[7, 8, 9]), None),
    "to_tensor_bad_shape": (lambda tf: tf.ragged.constant([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
                            .to_tensor(shape=[2, 2, 3]), None),
    "row_lengths_axis_bounds": (lambda tf: tf.ragged.constant(NESTED).row_lengths(-4), None),
    "segment_ids_float": (lambda tf: tf.ragged.row_splits_to_segment_ids(tf.constant([0., 1.])), None),
    "inner_ragged_index": (lambda tf: tf.ragged.constant([[1, 2], [3]])[:, 0], None),
    "map_flat_values_nrows": (lambda tf: tf.ragged.map_flat_values(tf.add, tf.ragged.constant([[1, 2], [3]]),
                                                                   tf.ragged.constant([[1], [3]])), None),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name):
    build, feed = ERRORS[name]
    compare_error(build, feed)


# ------------------------------------------------------------------------------------------------
# 5. What is not built says so
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("symbol", ["cross", "cross_hashed", "stack_dynamic_partitions"])
def test_unbuilt_symbols_are_missing(symbol):
    with pytest.raises(NotImplementedError, match=f"tf.ragged.{symbol} is not implemented by graphcompat"):
        getattr(graphcompat.ragged, symbol)
    import importlib
    import sys
    sys.path.insert(0, "tools")
    try:
        gen = importlib.import_module("gen_api_coverage")
    finally:
        sys.path.pop(0)
    assert gen.status_of(graphcompat, f"tf.ragged.{symbol}")[0] == "missing"
    assert gen.status_of(graphcompat, "tf.ragged.constant")[0] == "supported"
    for built in ("tf.RaggedTensorSpec", "tf.ragged.boolean_mask", "tf.ragged.stack"):
        assert gen.status_of(graphcompat, built)[0] == "supported"


# ------------------------------------------------------------------------------------------------
# 6. Gradients through the conversions reach the flat values (and to_tensor's default value)
# ------------------------------------------------------------------------------------------------
def _grad_to_tensor(tf):
    x = tf.constant([1., 2., 3., 4.])
    d = tf.constant(0.5)
    rt = tf.RaggedTensor.from_row_splits(x, [0, 3, 3, 4])
    y = rt.to_tensor(default_value=d, shape=[3, 2]) * tf.constant([[1., 2.], [3., 4.], [5., 6.]])
    return [tf.convert_to_tensor(g) for g in tf.gradients(tf.reduce_sum(y), [x, d])]


def _grad_to_sparse(tf):
    x = tf.constant([[1., 2.], [3., 4.], [5., 6.]])
    sp = tf.RaggedTensor.from_row_lengths(x, [1, 2]).to_sparse()
    return [tf.convert_to_tensor(g) for g in tf.gradients(tf.reduce_sum(sp.values * sp.values), [x])]


@pytest.mark.parametrize("build", [_grad_to_tensor, _grad_to_sparse])
def test_gradients(build):
    compare(build)


def test_dense_ops_refuse_ragged_arguments():
    """TF dispatches dense ops to ragged kernels; graphcompat says it does not (never a wrong answer)."""
    with graphcompat.Graph().as_default():
        rt = graphcompat.ragged.constant([[1, 2], [3]])
        with pytest.raises(NotImplementedError, match="tf.RaggedTensor as the argument of a dense op"):
            graphcompat.square(rt)
        with pytest.raises(NotImplementedError, match="ragged broadcasting"):
            rt + graphcompat.constant([1, 2])


# ------------------------------------------------------------------------------------------------
# 7. GraphDefs: TF's ragged graphs import and run here; ours import and run in TF
# ------------------------------------------------------------------------------------------------
def _graphdef_snippet(tf):
    rt = tf.RaggedTensor.from_row_splits(tf.constant([1., 2., 3., 4.]), tf.constant([0, 3, 3, 4], tf.int64))
    r = tf.ragged.range([1, 2], [4, 6])
    return [rt.to_tensor(default_value=-1.), rt.to_sparse().indices, r.values, r.row_splits,
            tf.RaggedTensor.from_value_rowids([1, 2, 3], [0, 0, 2]).to_tensor()]


@pytest.mark.parametrize("direction", ["tf_to_graphcompat", "graphcompat_to_tf"])
def test_graph_def_round_trip(direction):
    v1 = oracle.tf1()
    source, target = (v1, graphcompat) if direction == "tf_to_graphcompat" else (graphcompat, v1)
    want = _run(v1, _graphdef_snippet)[0]
    graph = source.Graph()
    with graph.as_default():
        names = [t.name for t in _graphdef_snippet(source)]
    graph_def = target.GraphDef.FromString(graph.as_graph_def().SerializeToString())
    with target.Graph().as_default():
        fetches = target.import_graph_def(graph_def, return_elements=names, name="")
        with target.Session() as sess:
            got = sess.run(fetches)
    _assert_same(got, want)
