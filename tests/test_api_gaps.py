"""API gaps closed against real TF 2.21 `tensorflow.compat.v1`: gather_nd(batch_dims), matrix norms,
switch_case, depth_to_space/space_to_depth NCHW, matrix_transpose of unknown rank, complex variance,
matmul(output_type). Values, dtypes, static shapes, op names, gradients and errors (class and text)."""
import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests._op_oracle import compare, compare_error, error_of

pytestmark = pytest.mark.oracle

rng = np.random.RandomState(11)


def _same_graph(build):
    """graphcompat records TF's ops: the same (name, type) list, node for node."""
    v1 = oracle.tf1()
    assert oracle.op_names(graphcompat, build) == oracle.op_names(v1, build)


def _assert_same_missing_kernel(got, want):
    """TF's "No OpKernel was registered" InvalidArgumentError: its node's attrs come in no fixed order
    (compared as a set), and the kernels it lists grow with what the process has loaded (XLA's JIT
    devices), so graphcompat's list must be the CPU/GPU part of TF's."""
    assert type(got).__name__ == type(want).__name__ == "InvalidArgumentError"
    got_lines = got.message.splitlines()
    want_lines = want.message[want.message.index("No OpKernel"):].split("\n\n")[0].splitlines()

    def head(line):
        prefix, _, attrs = line.partition("with these attrs: [")
        return prefix, sorted(attrs.rstrip("]").split(", "))
    assert head(got_lines[0]) == head(want_lines[0])
    assert got_lines[1:3] == want_lines[1:3] == ["Registered devices: [CPU]", "Registered kernels:"]
    want_kernels = [line for line in want_lines[3:] if "XLA_" not in line]
    assert got_lines[3:] == want_kernels


# ------------------------------------------------------------------------------------------------
# 1. tf.gather_nd(batch_dims > 0)
# ------------------------------------------------------------------------------------------------
P3 = rng.randn(2, 3, 4)
P4 = rng.randn(2, 3, 4, 5)
I_B1 = np.array([[[2], [0], [1], [2], [0]], [[1], [1], [0], [2], [2]]])          # [2, 5, 1]
I_B1_PAIRS = np.array([[[2, 3], [0, 1]], [[1, 0], [2, 2]]])                      # [2, 2, 2]
I_B2 = rng.randint(0, 4, size=(2, 3, 2, 2))                                       # [2, 3, 2, 2]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "complex64"])
@pytest.mark.parametrize("params,indices,batch_dims,index_dtype", [
    (P3, I_B1, 1, "int32"), (P3, I_B1_PAIRS, 1, "int64"), (P4, I_B2, 2, "int32"), (P4, I_B2[:, :, 0], 2, "int64"),
])
def test_gather_nd_batch_dims_values(dtype, params, indices, batch_dims, index_dtype):
    values = (params * 10).astype(dtype)

    def build(tf):
        return tf.gather_nd(tf.constant(values), tf.constant(indices.astype(index_dtype)), batch_dims=batch_dims)
    compare(build)


def test_gather_nd_batch_dims_fed_shapes_and_names():
    def build(tf):
        p = tf.placeholder(tf.float32, [None, 3, None], name="p")
        i = tf.placeholder(tf.int32, [None, None, 1], name="i")
        return tf.gather_nd(p, i, batch_dims=1, name="g")

    def feed(tf, graph):
        return {graph.get_tensor_by_name("p:0"): P3.astype(np.float32),
                graph.get_tensor_by_name("i:0"): I_B1.astype(np.int32)}
    compare(build, feed)
    _same_graph(build)
    _same_graph(lambda tf: tf.gather_nd(tf.zeros([2, 3, 4]), I_B1_PAIRS, batch_dims=1))
    # batch_dims given as a constant tensor folds to its value, as TF's constant_value
    _same_graph(lambda tf: tf.gather_nd(tf.zeros([2, 3, 4]), I_B1, batch_dims=tf.constant(1)))


def test_gather_nd_batch_dims_gradient():
    def build(tf):
        p = tf.constant(P4.astype(np.float32))
        out = tf.gather_nd(p, tf.constant(I_B2), batch_dims=2)
        return out, tf.gradients(tf.reduce_sum(out * out), p)[0]
    compare(build)


@pytest.mark.parametrize("build", [
    lambda tf: tf.gather_nd(tf.zeros([2, 3]), [[0], [1]], batch_dims=-1),
    lambda tf: tf.gather_nd(tf.zeros([2, 3]), [0, 1], batch_dims=1),
    lambda tf: tf.gather_nd(tf.zeros([2]), [[0], [1]], batch_dims=1),
    lambda tf: tf.gather_nd(tf.zeros([2, 3]), [[0], [1]], batch_dims=tf.placeholder(tf.int32, [])),
    lambda tf: tf.gather_nd(tf.zeros([2, 3]), [[0], [1]], batch_dims=None),
    lambda tf: tf.gather_nd(tf.zeros([2, 3, 4]), I_B1_PAIRS + 3, batch_dims=1),   # out of range: at run time
    lambda tf: tf.gather_nd(tf.zeros([2, 3]), tf.zeros([3, 2, 1], tf.int32), batch_dims=1),  # batch 3 vs 2
    lambda tf: tf.gather_nd(tf.zeros([3, 3]), [[5, 0], [0, 0], [7, 1]]),   # TF's kernel names the last bad row
], ids=["negative", "rank_indices", "rank_params", "tensor", "none", "out_of_range", "batch_mismatch",
        "last_bad_index"])
def test_gather_nd_batch_dims_errors(build):
    compare_error(build)


# ------------------------------------------------------------------------------------------------
# 2. tf.norm of matrices: 'fro' and 'euclidean' (Frobenius), 1, inf, 2 (the largest singular value)
# ------------------------------------------------------------------------------------------------
M3 = rng.randn(2, 3, 4)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("ord", ["fro", "euclidean", 1, np.inf, 2])
def test_matrix_norm_values(dtype, ord):
    values = (M3 + 1j * M3[::-1]).astype(dtype) if dtype.startswith("complex") else M3.astype(dtype)

    def build(tf):
        x = tf.constant(values)
        return [tf.norm(x, ord=ord, axis=axis, keepdims=keep) for axis in ((1, 2), (-1, 0), [2, 1])
                for keep in (False, True)] + [tf.norm(values[0], ord=2.0 if ord == 2 else ord, axis=(0, 1))]
    compare(build, tol=1e-5 if dtype in ("float32", "complex64") else 1e-10)


@pytest.mark.parametrize("ord", ["fro", 1, np.inf, 2])
def test_matrix_norm_gradient_and_fed_shapes(ord):
    def build(tf):
        x = tf.placeholder(tf.float64, [None, 3, None], name="x")
        n = tf.norm(x, ord=ord, axis=(-2, -1))
        return n, tf.gradients(tf.reduce_sum(n * n), x)[0]

    def feed(tf, graph):
        return {graph.get_tensor_by_name("x:0"): M3}
    compare(build, feed, tol=1e-10)


def test_matrix_norm_op_names():
    for ord in ("fro", "euclidean", 1, np.inf):
        _same_graph(lambda tf: [tf.norm(tf.zeros([2, 3, 4]), ord=ord, axis=(2, 0), name="n")])


@pytest.mark.parametrize("kwargs", [
    dict(ord="nuc", axis=(0, 1)), dict(ord=3, axis=(0, 1)), dict(ord=-np.inf, axis=[0, 1]), dict(ord=-2, axis=(0, 1)),
    dict(ord=2, axis=(1, 1)), dict(ord=2, axis=(1.0, 2)), dict(ord=2, axis=(0, 1, 2)), dict(ord="fro"),
    dict(ord="fro", axis=0), dict(ord=-1), dict(ord=0), dict(ord=1j), dict(ord="euclid"),
    dict(ord=1, axis=(0, 5)), dict(ord=2, axis=(0, 5)), dict(ord=1, axis=np.int64(0)),
], ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_norm_errors(kwargs):
    compare_error(lambda tf: tf.norm(tf.zeros([2, 3, 4]), **kwargs))


# ------------------------------------------------------------------------------------------------
# 3. tf.switch_case: one Case/StatelessCase op with its branches as library functions
# ------------------------------------------------------------------------------------------------
def _switch(tf, index_value, dtype="float32", default=True):
    i = tf.placeholder(tf.int32, [], name="i")
    x = tf.constant(np.array([1.5, -2.0, 3.0]).astype(dtype))
    fns = {0: lambda: x * 2, 1: lambda: x + 1, 2: lambda: tf.abs(x)}
    return i, x, tf.switch_case(i, fns, default=(lambda: -x) if default else None)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("index", [0, 1, 2, 3, 7, -1])
@pytest.mark.parametrize("default", [True, False])
def test_switch_case_values(dtype, index, default):
    """An index outside the keys runs `default`, or the last branch when there is none."""
    def build(tf):
        return _switch(tf, index, dtype, default)[2]
    compare(build, lambda tf, graph: {graph.get_tensor_by_name("i:0"): index})


def test_switch_case_graph():
    """TF's names and types: the Case op, its Identity outputs, its branch functions (default last)."""
    v1 = oracle.tf1()

    def build(tf):
        i, x, out = _switch(tf, 0)
        return [out]
    got, want = oracle.names(graphcompat, build), oracle.names(v1, build)
    assert got == want == ["switch_case/indexed_case/Identity:0"]
    for lib in (graphcompat, v1):
        g = lib.Graph()
        with g.as_default():
            _, x, out = _switch(lib, 0)
            case = out.op.inputs[0].op
            assert case.type == "StatelessCase" and case.name == "switch_case/indexed_case"
            assert [t.op.name for t in case.inputs] == ["i", "Const"]
            gd = g.as_graph_def()
            node = [n for n in gd.node if n.name == "switch_case/indexed_case"][0]
            names = [f.name for f in node.attr["branches"].list.func]
            assert [n.rpartition("_")[0] for n in names] == [f"switch_case_indexed_case_branch{b}" for b in range(4)]
            assert sorted(names) == sorted(f.signature.name for f in gd.library.function)
            assert list(node.attr["Tout"].list.type) == list(node.attr["Tin"].list.type) == [1]  # DT_FLOAT
            assert [d.size for d in node.attr["output_shapes"].list.shape[0].dim] == [3]


def test_switch_case_structures_shapes_and_stateful_branches():
    def build(tf):
        i = tf.placeholder(tf.int32, [], name="i")
        v = tf.Variable(1.0, name="v")
        x = tf.placeholder(tf.float32, [None], name="x")
        out = tf.switch_case(i, [lambda: {"a": x[:2], "b": (tf.constant(1), x * 2)},
                                 lambda: {"a": tf.constant([5.0, 6.0]), "b": (i * 3, tf.tile(x, [2]))}],
                             name="sw")
        bumped = tf.switch_case(i, [lambda: tf.assign(v, 7.0), lambda: tf.identity(v)])
        single = tf.switch_case(i, [lambda: [x[0]], lambda: [x[1]]])
        with tf.control_dependencies([bumped]):
            read = tf.identity(v)
        op_types = tf.constant([out["a"].op.inputs[0].op.type, bumped.op.inputs[0].op.type])  # Stateless, Case
        return out, bumped, single, read, op_types
    for index in (0, 1, 5):
        compare(build, lambda tf, graph, k=index: {graph.get_tensor_by_name("i:0"): k,
                                                   graph.get_tensor_by_name("x:0"): [1.0, 2.0, 3.0]})


def test_switch_case_gradients():
    def build(tf):
        i = tf.placeholder(tf.int32, [], name="i")
        x = tf.constant([0.5, -1.0, 2.0])
        w = tf.constant(3.0)
        out = tf.switch_case(i, [lambda: x * x * w, lambda: tf.sin(x) + w, lambda: tf.reduce_sum(x) * x])
        return out, tf.gradients(tf.reduce_sum(out), [x, w])
    for index in (0, 1, 2, 9):
        compare(build, lambda tf, graph, k=index: {graph.get_tensor_by_name("i:0"): k})


def test_switch_case_operations_become_the_index():
    """TF's func graph returns Identity(branch_index) for a branch that returns an Operation."""
    def build(tf):
        i = tf.placeholder(tf.int32, [], name="i")
        v = tf.Variable(0, name="v")
        out = tf.switch_case(i, [lambda: tf.no_op(), lambda: tf.assign(v, 5).op])
        with tf.control_dependencies([out]):
            return out, tf.identity(v)
    for index in (0, 1, 4):
        compare(build, lambda tf, graph, k=index: {graph.get_tensor_by_name("i:0"): k})


@pytest.mark.parametrize("build", [
    lambda tf: tf.switch_case(1, [lambda: tf.constant(1)]),
    lambda tf: tf.switch_case(tf.constant(1.0), [lambda: tf.constant(1)]),
    lambda tf: tf.switch_case(tf.constant(1), []),
    lambda tf: tf.switch_case(tf.constant(1), {lambda: tf.constant(1)}),
    lambda tf: tf.switch_case(tf.constant(1), [(0, lambda: tf.constant(1)), "oops"]),
    lambda tf: tf.switch_case(tf.constant(1), [("a", lambda: tf.constant(1))]),
    lambda tf: tf.switch_case(tf.constant(1), [(0, 3)]),
    lambda tf: tf.switch_case(tf.constant(1), {0: lambda: tf.constant(1), 2: lambda: tf.constant(2)}),
    lambda tf: tf.switch_case(tf.constant(1), [lambda: tf.constant(1)], default=3),
    lambda tf: tf.switch_case(tf.constant(1), [lambda: tf.constant(1), lambda: tf.constant(2.0)]),
    lambda tf: tf.switch_case(tf.constant(1), [lambda: [tf.constant(1)], lambda: (tf.constant(2),)]),
    lambda tf: tf.switch_case(tf.constant(1), [lambda: tf.constant(1), lambda: [tf.constant(2), tf.constant(3)]]),
    lambda tf: tf.switch_case(tf.constant(1, tf.int64), [lambda: tf.constant(1), lambda: tf.constant(2)]),
    lambda tf: tf.switch_case(tf.constant([1]), [lambda: tf.constant(1), lambda: tf.constant(2)]),
], ids=["python_int", "float_index", "empty", "set", "mixed", "key_type", "not_callable", "keys_gap",
        "default_not_callable", "dtypes", "structures", "counts", "int64_index", "vector_index"])
def test_switch_case_errors(build):
    compare_error(build)


def test_switch_case_graph_def_round_trips_and_freezes():
    """graphcompat's GraphDef (Case + branch FunctionDefs) runs in TF; TF's (and a frozen one) import here."""
    v1 = oracle.tf1()

    def build(tf):
        i = tf.placeholder(tf.int32, [], name="i")
        v = tf.Variable([1.0, 2.0], name="v")
        out = tf.switch_case(i, [lambda: v * 2, lambda: v + 1], default=lambda: tf.constant([9.0, 9.0]))
        return tf.identity(out, name="out")

    def frozen(lib):
        g = lib.Graph()
        with g.as_default():
            build(lib)
            with lib.Session() as sess:
                sess.run(lib.global_variables_initializer())
                return lib.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["out"])

    def run(lib, graph_def):
        g = lib.Graph()
        with g.as_default():
            lib.import_graph_def(type(lib.GraphDef()).FromString(graph_def.SerializeToString()), name="")
            with lib.Session() as sess:
                return [sess.run("out:0", {"i:0": k}) for k in (0, 1, 2, 5, -3)]
    want = [[2, 4], [2, 3], [9, 9], [9, 9], [9, 9]]
    for source in (graphcompat, v1):
        graph_def = frozen(source)
        for target in (graphcompat, v1):
            np.testing.assert_array_equal(run(target, graph_def), want)


# ------------------------------------------------------------------------------------------------
# 4. depth_to_space / space_to_depth with data_format NCHW / NCHW_VECT_C: TF builds them with its
#    layout's shapes, and its CPU build has no kernel for them (only NHWC), so running them fails
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", ["depth_to_space", "space_to_depth", "nn.depth_to_space", "nn.space_to_depth"])
@pytest.mark.parametrize("shape,fmt", [
    ([2, 8, 2, 2], "NCHW"), ([None, 8, None, 4], "NCHW"), (None, "NCHW"), ([2, 4, 2, 2, 4], "NCHW_VECT_C"),
    (None, "NCHW_VECT_C"), ([1, 2, 4, 8], "NHWC"),
])
def test_depth_space_layouts_static_shapes(fn, shape, fmt):
    v1 = oracle.tf1()

    def build(tf):
        op = getattr(tf.nn, fn[3:]) if fn.startswith("nn.") else getattr(tf, fn)
        return op(tf.placeholder(tf.float32, shape), 2, data_format=fmt)
    shapes = []
    for lib in (graphcompat, v1):
        with lib.Graph().as_default():
            out = build(lib)
            shapes.append((out.name, out.shape.as_list() if out.shape.ndims is not None else None))
    assert shapes[0] == shapes[1]


@pytest.mark.parametrize("fn", ["depth_to_space", "space_to_depth"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "string"])
@pytest.mark.parametrize("fmt,shape", [("NCHW", [2, 8, 2, 2]), ("NCHW_VECT_C", [1, 4, 2, 2, 4])])
def test_depth_space_non_nhwc_has_no_cpu_kernel(fn, dtype, fmt, shape):
    """InvalidArgumentError with TF's text (see _assert_same_missing_kernel)."""
    v1 = oracle.tf1()
    if fn == "depth_to_space" and fmt == "NCHW_VECT_C":
        shape = [1, 8, 2, 2, 4]

    def build(tf):
        x = tf.zeros(shape, dtype) if dtype != "string" else tf.fill(shape, "a")
        return getattr(tf, fn)(x, 2, data_format=fmt, name="op")
    _assert_same_missing_kernel(error_of(graphcompat, build), error_of(v1, build))


@pytest.mark.parametrize("build", [
    lambda tf: tf.depth_to_space(tf.zeros([2, 7, 2, 2]), 2, data_format="NCHW"),
    lambda tf: tf.space_to_depth(tf.zeros([2, 7, 3, 2]), 2, data_format="NCHW"),
    lambda tf: tf.depth_to_space(tf.zeros([2, 7, 2]), 2, data_format="NCHW"),
    lambda tf: tf.depth_to_space(tf.zeros([2, 8, 2, 2]), 2, data_format="NCHW_VECT_C"),
    lambda tf: tf.depth_to_space(tf.zeros([2, 2, 2, 2, 4]), 2, data_format="NCHW_VECT_C"),
    lambda tf: tf.space_to_depth(tf.zeros([2, 8, 2, 2]), 2, data_format="nchw"),
    lambda tf: tf.depth_to_space(tf.zeros([2, 8, 2, 2]), 1, data_format="XX"),
    lambda tf: tf.space_to_depth(tf.zeros([2, 8, 2, 2]), 1),
], ids=["d2s_depth", "s2d_width", "rank3", "vect_c_rank4", "vect_c_depth", "format_case", "block_first",
        "block_min"])
def test_depth_space_build_errors(build):
    compare_error(build)


# ------------------------------------------------------------------------------------------------
# 5. tf.linalg.matrix_transpose of a tensor of unknown rank: the perm from Rank at run time
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    rng.randn(2, 3).astype(np.float32), rng.randn(2, 3, 4).astype(np.float64), np.arange(24).reshape(1, 2, 3, 4),
    (rng.randn(2, 3, 2) + 1j * rng.randn(2, 3, 2)).astype(np.complex64),
], ids=["rank2", "rank3", "rank4_int", "complex"])
@pytest.mark.parametrize("conjugate", [False, True])
def test_matrix_transpose_unknown_rank(value, conjugate):
    def build(tf):
        x = tf.placeholder(tf.as_dtype(value.dtype), None, name="x")
        out = tf.linalg.matrix_transpose(x, conjugate=conjugate)
        return out, tf.gradients(tf.reduce_sum(tf.abs(out) * 2), x)[0] if value.dtype.kind == "f" else out
    compare(build, lambda tf, graph: {graph.get_tensor_by_name("x:0"): value})
    _same_graph(lambda tf: tf.linalg.matrix_transpose(tf.placeholder(tf.as_dtype(value.dtype), None),
                                                      conjugate=conjugate))


def test_matrix_transpose_unknown_rank_of_a_vector_fails_at_run_time():
    compare_error(lambda tf: tf.linalg.matrix_transpose(tf.placeholder(tf.float32, None, name="x")),
                  lambda tf, graph: {graph.get_tensor_by_name("x:0"): [1.0, 2.0]})


# ------------------------------------------------------------------------------------------------
# 6. reduce_variance / reduce_std of complex tensors: real, the mean of |x - mean|^2
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, True), ([1], False), (-1, True)])
def test_complex_variance_and_std(dtype, axis, keepdims):
    value = (rng.randn(3, 4) + 1j * rng.randn(3, 4)).astype(dtype)

    def build(tf):
        x = tf.constant(value)
        return [tf.math.reduce_variance(x, axis=axis, keepdims=keepdims),
                tf.math.reduce_std(x, axis=axis, keepdims=keepdims, name="std")]
    compare(build, tol=1e-5 if dtype == "complex64" else 1e-12)
    _same_graph(build)


# ------------------------------------------------------------------------------------------------
# 7. tf.matmul(output_type=...): BatchMatMulV3 when it differs from an input's dtype; TF's CPU build has
#    kernels for int8/uint8 -> int32, bfloat16 x int8/uint8 -> bfloat16 and same-type triples only
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ta,tb,tout", [
    ("int8", "int8", "int32"), ("uint8", "int8", "int32"), ("int8", "uint8", "int32"), ("uint8", "uint8", "int32"),
    ("bfloat16", "int8", "bfloat16"), ("uint8", "bfloat16", "bfloat16"), ("float32", "float32", "float32"),
    ("int32", "int32", "int32"),
])
@pytest.mark.parametrize("a_shape,b_shape", [([2, 3], [3, 4]), ([2, 2, 3], [3, 4]), ([3, 2], [4, 3])])
def test_matmul_output_type_values(ta, tb, tout, a_shape, b_shape):
    transposed = a_shape == [3, 2]
    a_val = (np.arange(np.prod(a_shape)).reshape(a_shape) % 11 - 5)
    b_val = (np.arange(np.prod(b_shape)).reshape(b_shape) % 7 - 3)
    # uint8 operands: large values where the result is int32; with bfloat16 small ones, as every partial
    # sum then fits bfloat16's 8 bits (TF's mixed bfloat16 kernel rounds large sums its own way)
    offset = 120 if tout == "int32" else 5
    if ta == "uint8":
        a_val = a_val + offset
    if tb == "uint8":
        b_val = b_val + offset

    def build(tf):
        a = tf.cast(tf.constant(a_val), getattr(tf, ta))
        b = tf.cast(tf.constant(b_val), getattr(tf, tb))
        out = tf.matmul(a, b, transpose_a=transposed, transpose_b=transposed, output_type=getattr(tf, tout))
        return out, tf.constant(out.op.type)
    compare(build)
    _same_graph(lambda tf: [tf.matmul(tf.zeros(a_shape, getattr(tf, ta)), tf.zeros(b_shape, getattr(tf, tb)),
                                      transpose_a=transposed, transpose_b=transposed, output_type=tout, name="mm")])


@pytest.mark.parametrize("ta,tb,tout,batched", [
    ("float32", "float32", "float64", False), ("int8", "int8", "float32", True), ("float16", "int8", "float16", False),
    ("int16", "int16", "int32", True), ("bfloat16", "bfloat16", "float32", False),
])
def test_matmul_output_type_without_cpu_kernel(ta, tb, tout, batched):
    """TF's CPU error (see _assert_same_missing_kernel)."""
    v1 = oracle.tf1()

    def build(tf):
        a = tf.zeros([1, 2, 3] if batched else [2, 3], getattr(tf, ta))
        return tf.matmul(a, tf.zeros([3, 2], getattr(tf, tb)), output_type=getattr(tf, tout))
    _assert_same_missing_kernel(error_of(graphcompat, build), error_of(v1, build))


@pytest.mark.parametrize("build", [
    lambda tf: tf.matmul(tf.zeros([2, 3], tf.int8), tf.zeros([3, 2], tf.int8), output_type=tf.string),
    lambda tf: tf.matmul(tf.zeros([2, 3], tf.bool), tf.zeros([3, 2], tf.bool), output_type=tf.int32),
    lambda tf: tf.matmul(tf.zeros([2, 3], tf.int8), tf.zeros([3, 2], tf.int8), output_type=tf.int8),
    lambda tf: tf.matmul(tf.zeros([1, 2, 3], tf.int8), tf.zeros([3, 2], tf.int8), output_type="int8"),
    lambda tf: tf.matmul(tf.zeros([2, 3], tf.int8), tf.zeros([4, 2], tf.int8), output_type=tf.int32),
    lambda tf: tf.matmul(tf.zeros([2, 3]), tf.zeros([3, 2]), transpose_a=True, adjoint_a=True),
    lambda tf: tf.matmul(tf.placeholder(tf.int8, None, name="a"), tf.zeros([4, 2], tf.int8), output_type=tf.int32),
], ids=["tout_string", "bool_inputs", "same_int8", "same_int8_batched", "shapes", "transpose_and_adjoint",
        "run_time_shapes"])
def test_matmul_output_type_errors(build):
    feed = None
    if "placeholder" in build.__code__.co_names:
        feed = lambda tf, graph: {graph.get_tensor_by_name("a:0"): np.zeros([2, 3], np.int8)}  # noqa: E731
    compare_error(build, feed)


# ------------------------------------------------------------------------------------------------
# 8. MatMul / BatchMatMulV2 with a type the OpDef allows but TF's CPU build has no kernel for (the
#    unsigned ints): the graph builds, its run fails with TF's "No OpKernel" error; int16 and int8 are
#    OpDef errors at build time for MatMul (both) and BatchMatMulV2 (int8 only)
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "uint64"])
@pytest.mark.parametrize("a_shape,b_shape", [([2, 3], [3, 2]), ([2, 2, 3], [3, 2]), ([2, 2, 3], [1, 2, 3])])
@pytest.mark.parametrize("runs", [1, 2])
def test_matmul_without_cpu_kernel(dtype, a_shape, b_shape, runs):
    v1 = oracle.tf1()

    def build(tf):
        a = tf.placeholder(getattr(tf, dtype), a_shape, name="a")
        return tf.linalg.matmul(a, tf.ones(b_shape, getattr(tf, dtype)), transpose_b=len(b_shape) == 3)

    def feed(tf, graph):
        return {graph.get_tensor_by_name("a:0"): np.ones(a_shape, dtype)}
    got = error_of(graphcompat, build, feed, runs=runs)
    assert got is not None, "graphcompat ran a matmul TF has no kernel for"
    _assert_same_missing_kernel(got, error_of(v1, build, feed))


@pytest.mark.parametrize("dtype,batched", [("int8", False), ("int8", True), ("int16", False), ("bool", True),
                                           ("string", False)])
def test_matmul_types_outside_the_op_def(dtype, batched):
    compare_error(lambda tf: tf.matmul(tf.zeros([2, 2, 2] if batched else [2, 2], getattr(tf, dtype)),
                                       tf.zeros([2, 2], getattr(tf, dtype))))


@pytest.mark.parametrize("dtype", ["int16", "int32", "int64", "float16", "bfloat16", "complex128"])
def test_batch_matmul_with_a_cpu_kernel(dtype):
    a_val = np.arange(24).reshape(2, 3, 4) % 5 - 2
    b_val = np.arange(8).reshape(4, 2) % 3 - 1

    def build(tf):
        a, b = tf.cast(tf.constant(a_val), getattr(tf, dtype)), tf.cast(tf.constant(b_val), getattr(tf, dtype))
        return tf.matmul(a, b), tf.matmul(a, a, adjoint_a=True)
    compare(build)
    _same_graph(build)
