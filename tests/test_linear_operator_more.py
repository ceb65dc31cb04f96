"""tf.linalg.LinearOperator{Permutation, Householder, Circulant(2D/3D), Toeplitz, Tridiag} against real TF
2.21 `tensorflow.compat.v1`: every operator × its methods × float32/float64 (values and static shapes),
TF's op names node for node, the static properties and hints, the argument/hint errors, complex
circulants, and the operator algebra TF shortcuts (circulant @ circulant …)."""
import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests._op_oracle import compare, compare_error

pytestmark = pytest.mark.oracle

rng = np.random.RandomState(11)
PERM = np.array([[2, 0, 1], [0, 2, 1]], dtype=np.int32)
AXIS = rng.randn(2, 3)
COL = rng.randn(2, 3) + np.array([4.0, 0, 0])
ROW = np.concatenate([COL[:, :1], rng.randn(2, 2)], axis=-1)
SPEC = rng.uniform(1.0, 2.0, size=(2, 4))                   # real spectrum: self-adjoint circulant
SPEC2 = rng.uniform(1.0, 2.0, size=(2, 2, 3))
SPEC3 = rng.uniform(1.0, 2.0, size=(2, 2, 2))
TRI = rng.randn(2, 3, 3) + np.array([[0.0], [4.0], [0.0]])  # compact [super; diag; sub], diagonally dominant
X3 = rng.randn(2, 3, 2)
X4 = rng.randn(2, 4, 2)
X6 = rng.randn(2, 6, 2)
X8 = rng.randn(8, 2)
X5 = rng.randn(2, 5, 2)
A2 = rng.randn(2, 2, 2) + 3 * np.eye(2)
B32 = rng.randn(3, 2)


def _c(tf, value, dtype):
    return tf.constant(np.asarray(value).astype(dtype))


def _tri_matrix(compact):
    sup, diag, sub = compact[..., 0, :], compact[..., 1, :], compact[..., 2, :]
    return (np.vectorize(np.diag, signature="(n)->(n,n)")(diag)
            + np.vectorize(lambda v: np.diag(v[:-1], 1), signature="(n)->(n,n)")(sup)
            + np.vectorize(lambda v: np.diag(v[1:], -1), signature="(n)->(n,n)")(sub))


# (name, builder(tf, dtype) -> operator, rhs, pd (cholesky/eigvals apply))
OPERATORS = [
    ("permutation", lambda tf, d: tf.linalg.LinearOperatorPermutation(PERM, dtype=d), X3, False),
    ("householder", lambda tf, d: tf.linalg.LinearOperatorHouseholder(_c(tf, AXIS, d)), X3, False),
    ("circulant", lambda tf, d: tf.linalg.LinearOperatorCirculant(
        _c(tf, SPEC, d), input_output_dtype=d, is_positive_definite=True), X4, True),
    ("circulant2d", lambda tf, d: tf.linalg.LinearOperatorCirculant2D(
        _c(tf, SPEC2, d), input_output_dtype=d), X6, False),
    ("circulant3d", lambda tf, d: tf.linalg.LinearOperatorCirculant3D(
        _c(tf, SPEC3, d), input_output_dtype=d), X8, False),
    ("toeplitz", lambda tf, d: tf.linalg.LinearOperatorToeplitz(_c(tf, COL, d), _c(tf, ROW, d)), X3, False),
    ("tridiag_compact", lambda tf, d: tf.linalg.LinearOperatorTridiag(_c(tf, TRI, d)), X3, False),
    ("tridiag_sequence", lambda tf, d: tf.linalg.LinearOperatorTridiag(
        [_c(tf, TRI[:, 0], d), _c(tf, TRI[:, 1], d), _c(tf, TRI[:, 2], d)], diagonals_format="sequence"), X3, False),
    ("tridiag_matrix", lambda tf, d: tf.linalg.LinearOperatorTridiag(
        _c(tf, _tri_matrix(TRI), d), diagonals_format="matrix"), X3, False),
    ("block_lower_triangular", lambda tf, d: tf.linalg.LinearOperatorBlockLowerTriangular([
        [tf.linalg.LinearOperatorFullMatrix(_c(tf, A2, d))],
        [tf.linalg.LinearOperatorFullMatrix(_c(tf, B32, d)), tf.linalg.LinearOperatorDiag(_c(tf, COL[0], d))]]),
     X5, False),
    ("block_lower_triangular_1", lambda tf, d: tf.linalg.LinearOperatorBlockLowerTriangular([
        [tf.linalg.LinearOperatorDiag(_c(tf, COL, d), is_positive_definite=True)]]), X3, False),
]
IDS = [case[0] for case in OPERATORS]


def _methods(tf, op, x, dtype, pd: bool) -> list:
    x = tf.constant(x.astype(dtype))
    xt = tf.linalg.adjoint(x)
    vec = x[..., 0]
    out = [op.to_dense(), op.matmul(x), op.matmul(x, adjoint=True), op.matmul(xt, adjoint_arg=True),
           op.matvec(vec), op.matvec(vec, adjoint=True), op.diag_part(), op.trace(), op.determinant(),
           op.log_abs_determinant(), op.add_to_tensor(op.to_dense()), op.shape_tensor(), op.batch_shape_tensor(),
           op.domain_dimension_tensor(), op.adjoint().to_dense(), op.adjoint().matmul(x),
           op.solve(x), op.solve(x, adjoint=True), op.solvevec(vec), op.inverse().to_dense(), op.cond()]
    if "Tridiag" not in op.name:
        # TF's Tridiag solve with adjoint_arg conjugates the rhs without transposing it
        out.append(op.solve(xt, adjoint_arg=True))
    if pd:
        out += [op.cholesky().to_dense(), op.eigvals()]
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,make,x,pd", OPERATORS, ids=IDS)
def test_methods_values_and_shapes(name, make, x, pd, dtype):
    tol = 5e-4 if dtype == "float32" else 1e-9
    compare(lambda tf: _methods(tf, make(tf, dtype), x, dtype, pd), tol=tol, runs=1)


@pytest.mark.parametrize("name,make,x,pd", OPERATORS, ids=IDS)
def test_op_names_match_tf(name, make, x, pd):
    def build(tf):
        _methods(tf, make(tf, "float64"), x, "float64", pd)
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


def _static(tf, op) -> tuple:
    dims = (op.domain_dimension, op.range_dimension)
    return (op.shape.as_list(), op.batch_shape.as_list(), op.tensor_rank, [getattr(d, "value", d) for d in dims],
            op.is_square, op.is_non_singular, op.is_self_adjoint, op.is_positive_definite, op.name, op.dtype.name,
            type(op.adjoint()).__name__, op.adjoint().name, op.adjoint().dtype.name)


@pytest.mark.parametrize("name,make,x,pd", OPERATORS, ids=IDS)
def test_static_properties_and_hints(name, make, x, pd):
    def build(tf):
        with tf.Graph().as_default():
            return _static(tf, make(tf, "float64"))
    assert build(graphcompat) == build(oracle.tf1())


CSPEC = SPEC + 1j * rng.randn(2, 4)
CSPEC2 = SPEC2 + 1j * rng.randn(2, 2, 3)
CX4 = X4 + 1j * rng.randn(2, 4, 2)
CX6 = X6 + 1j * rng.randn(2, 6, 2)
COMPLEX = [
    ("circulant", lambda tf, d: tf.linalg.LinearOperatorCirculant(CSPEC.astype(d)), CX4),
    ("circulant_real_io", lambda tf, d: tf.linalg.LinearOperatorCirculant(
        CSPEC.astype(d), input_output_dtype=d), CX4),
    ("circulant2d", lambda tf, d: tf.linalg.LinearOperatorCirculant2D(CSPEC2.astype(d), input_output_dtype=d), CX6),
    ("householder", lambda tf, d: tf.linalg.LinearOperatorHouseholder((AXIS + 1j * AXIS[::-1]).astype(d)), CX4[:, :3]),
    ("toeplitz", lambda tf, d: tf.linalg.LinearOperatorToeplitz(
        (COL + 1j * ROW).astype(d), (ROW + 0j).astype(d)), CX4[:, :3]),
    ("tridiag", lambda tf, d: tf.linalg.LinearOperatorTridiag((TRI + 0.5j * TRI[:, ::-1]).astype(d)), CX4[:, :3]),
    ("permutation", lambda tf, d: tf.linalg.LinearOperatorPermutation(PERM, dtype=d), CX4[:, :3]),
]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name,make,x", COMPLEX, ids=[c[0] for c in COMPLEX])
def test_complex(name, make, x, dtype):
    if name == "circulant" and dtype == "complex128":
        pytest.skip("complex64 in and out of a complex128 spectrum: TF's TypeError (circulant_solve_dtypes)")

    def build(tf):
        op = make(tf, dtype)
        xc = tf.constant(x.astype(op.dtype.name))
        out = [op.to_dense(), op.matmul(xc), op.matmul(xc, adjoint=True), op.solve(xc), op.solve(xc, adjoint=True),
               op.adjoint().to_dense(), op.determinant(), op.log_abs_determinant(), op.trace(), op.diag_part()]
        if "Circulant" in op.name:
            out += [op.convolution_kernel(), op.block_shape_tensor()]
        return out
    compare(build, tol=2e-3 if dtype == "complex64" else 1e-9, runs=1)
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


def test_operator_algebra():
    """TF's structured results of products, solves, adjoints and inverses: class, dtype, values."""
    def build(tf):
        c1 = tf.linalg.LinearOperatorCirculant(CSPEC[0])
        c2 = tf.linalg.LinearOperatorCirculant(CSPEC[1])
        r1 = tf.linalg.LinearOperatorCirculant(SPEC[0], input_output_dtype="float64")
        c2d = tf.linalg.LinearOperatorCirculant2D(CSPEC2[0])
        h = tf.linalg.LinearOperatorHouseholder(AXIS[0])
        p = tf.linalg.LinearOperatorPermutation(PERM[0], dtype="float64")
        results = [c1 @ c2, c1.solve(c2), c1.H, c1.inverse(), r1.inverse(), r1 @ r1, c2d @ c2d, c2d.solve(c2d),
                   c2d.H, h.H, h.inverse(), h @ h, p @ h, p.H, p.inverse()]
        return [(type(r).__name__, r.dtype.name, r.name) for r in results], results

    want = build(oracle.tf1())[0]
    with graphcompat.Graph().as_default():
        got = build(graphcompat)[0]
    assert got == want
    compare(lambda tf: [r.to_dense() for r in build(tf)[1]], tol=1e-9, runs=1)


ERRORS = [
    ("perm_scalar", lambda tf: tf.linalg.LinearOperatorPermutation(1)),
    ("perm_float", lambda tf: tf.linalg.LinearOperatorPermutation([0.0, 1.0])),
    ("perm_not_unique", lambda tf: tf.linalg.LinearOperatorPermutation([0, 0, 1])),
    ("perm_singular", lambda tf: tf.linalg.LinearOperatorPermutation([0, 1], is_non_singular=False)),
    ("perm_not_square", lambda tf: tf.linalg.LinearOperatorPermutation([0, 1], is_square=False)),
    ("householder_scalar", lambda tf: tf.linalg.LinearOperatorHouseholder(1.0)),
    ("householder_not_sa", lambda tf: tf.linalg.LinearOperatorHouseholder([1.0, 2.0], is_self_adjoint=False)),
    ("householder_pd", lambda tf: tf.linalg.LinearOperatorHouseholder([1.0, 2.0], is_positive_definite=True)),
    ("householder_not_square", lambda tf: tf.linalg.LinearOperatorHouseholder([1.0, 2.0], is_square=False)),
    ("householder_assert_pd", lambda tf: tf.linalg.LinearOperatorHouseholder([1.0, 2.0]).assert_positive_definite()),
    ("householder_cholesky", lambda tf: tf.linalg.LinearOperatorHouseholder([1.0, 2.0]).cholesky()),
    ("circulant_scalar", lambda tf: tf.linalg.LinearOperatorCirculant(1.0)),
    ("circulant2d_rank1", lambda tf: tf.linalg.LinearOperatorCirculant2D([1.0, 2.0])),
    ("circulant_real_not_sa", lambda tf: tf.linalg.LinearOperatorCirculant([1.0, 2.0], is_self_adjoint=False)),
    ("circulant_not_square", lambda tf: tf.linalg.LinearOperatorCirculant([1.0, 2.0], is_square=False)),
    ("circulant_matmul_dtype", lambda tf: tf.linalg.LinearOperatorCirculant([1.0, 2.0]).matmul(tf.ones([2, 1]))),
    ("circulant_solve_dtypes", lambda tf: tf.linalg.LinearOperatorCirculant(CSPEC).solve(CX4.astype("complex64"))),
    ("toeplitz_scalar", lambda tf: tf.linalg.LinearOperatorToeplitz(1.0, [1.0])),
    ("toeplitz_mismatch", lambda tf: tf.linalg.LinearOperatorToeplitz([1.0, 2.0], [1.0, 2.0, 3.0])),
    ("toeplitz_not_square", lambda tf: tf.linalg.LinearOperatorToeplitz([1.0, 2.0], [1.0, 2.0], is_square=False)),
    ("tridiag_format", lambda tf: tf.linalg.LinearOperatorTridiag(TRI, diagonals_format="banded")),
    ("tridiag_matmul_dims", lambda tf: tf.linalg.LinearOperatorTridiag(TRI).matmul(X4)),
]


@pytest.mark.parametrize("build", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(build):
    compare_error(build)


def test_assertions():
    def passing(tf):
        ops = [tf.linalg.LinearOperatorCirculant(SPEC).assert_non_singular(),
               tf.linalg.LinearOperatorCirculant(SPEC).assert_positive_definite(),
               tf.linalg.LinearOperatorCirculant(CSPEC * 0 + SPEC).assert_self_adjoint(),
               tf.linalg.LinearOperatorPermutation(PERM).assert_non_singular(),
               tf.linalg.LinearOperatorHouseholder(AXIS).assert_self_adjoint(),
               tf.linalg.LinearOperatorToeplitz(COL, COL).assert_self_adjoint(),
               tf.linalg.LinearOperatorTridiag(_tri_matrix(TRI) + _tri_matrix(TRI).swapaxes(-1, -2),
                                               diagonals_format="matrix").assert_self_adjoint()]
        with tf.control_dependencies(ops):
            return tf.constant(1.0)
    compare(passing, runs=1)
    compare_error(lambda tf: tf.linalg.LinearOperatorCirculant([1.0, 0.0]).assert_non_singular())
    compare_error(lambda tf: tf.linalg.LinearOperatorCirculant(CSPEC).assert_self_adjoint())
    compare_error(lambda tf: tf.linalg.LinearOperatorCirculant(CSPEC).assert_hermitian_spectrum())
    compare_error(lambda tf: tf.linalg.LinearOperatorToeplitz(COL, ROW).assert_self_adjoint())
    compare_error(lambda tf: tf.linalg.LinearOperatorTridiag(TRI).assert_self_adjoint())


UNKNOWN = [
    ("permutation", lambda tf, v, n: tf.linalg.LinearOperatorPermutation(n, dtype="float64")),
    ("householder", lambda tf, v, n: tf.linalg.LinearOperatorHouseholder(v)),
    ("circulant", lambda tf, v, n: tf.linalg.LinearOperatorCirculant(v + 3.0, input_output_dtype="float64")),
    ("toeplitz", lambda tf, v, n: tf.linalg.LinearOperatorToeplitz(v + 3.0, v)),
    ("tridiag", lambda tf, v, n: tf.linalg.LinearOperatorTridiag([v, v + 4.0, v], diagonals_format="sequence")),
]


@pytest.mark.parametrize("make", [u[1] for u in UNKNOWN], ids=[u[0] for u in UNKNOWN])
def test_unknown_static_shapes(make):
    """Placeholders with unknown dimensions: the run-time shape paths (values, static shapes, op names)."""
    def build(tf):
        v = tf.placeholder("float64", [None, None], name="v")
        n = tf.placeholder("int32", [None, None], name="n")
        x = tf.placeholder("float64", [None, None, None], name="x")
        op = make(tf, v, n)
        return [op.to_dense(), op.matmul(x), op.solve(x), op.shape_tensor(), op.batch_shape_tensor(),
                op.domain_dimension_tensor(), op.diag_part(), op.trace(), op.determinant()]

    def feed(tf, graph):
        return {graph.get_tensor_by_name("v:0"): AXIS, graph.get_tensor_by_name("n:0"): PERM,
                graph.get_tensor_by_name("x:0"): X3}
    compare(build, feed=feed, tol=1e-9, runs=1)
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


def test_gradient_through_structured_operators():
    def build(tf):
        spectrum = tf.constant(SPEC[0])
        axis = tf.constant(AXIS[0])
        col = tf.constant(COL[0])
        diags = tf.constant(TRI[0])
        x = tf.constant(X4[0])
        loss = (tf.reduce_sum(tf.linalg.LinearOperatorCirculant(spectrum, input_output_dtype="float64").solve(x) ** 2)
                + tf.reduce_sum(tf.linalg.LinearOperatorHouseholder(axis).matmul(x[:3]) ** 2 * x[:3])
                + tf.reduce_sum(tf.linalg.LinearOperatorToeplitz(col, col).matmul(x[:3]) ** 2)
                + tf.reduce_sum(tf.linalg.LinearOperatorTridiag(diags).solve(x[:3])))
        return tf.gradients(loss, [spectrum, axis, col, diags])
    compare(build, tol=1e-8, runs=1)


BANDS = [((-1, 1), "LEFT_RIGHT", -1, -1), ((-2, 1), "RIGHT_LEFT", -1, -1), ((-1, 2), "LEFT_LEFT", -1, -1),
         ((-2, 1), "RIGHT_RIGHT", 4, 3), ((0, 3), "LEFT_RIGHT", -1, -1), ((-3, 0), "LEFT_RIGHT", -1, 4),
         ((1, 2), "RIGHT_RIGHT", -1, -1), ((-2, -1), "LEFT_RIGHT", -1, -1)]


def test_band_matrix_diag_and_diag_part():
    """MatrixDiagV3 / MatrixDiagPartV3 with a band k=(lower, upper) (what the tridiagonal formats use):
    TF's alignment, padding and sizes."""
    def build(tf):
        out = []
        for k, align, rows, cols in BANDS:
            diagonals = np.arange(2 * (k[1] - k[0] + 1) * 3, dtype=float).reshape(2, -1, 3) + 1
            out.append(tf.linalg.diag(diagonals, k=k, align=align, num_rows=rows, num_cols=cols, padding_value=9))
            if k[0] > -3:
                out.append(tf.linalg.diag_part(np.arange(24.0).reshape(2, 3, 4), k=k, align=align, padding_value=9))
        return out
    compare(build, runs=1)
    compare_error(lambda tf: tf.linalg.diag(np.ones((2, 3)), k=(-1, 0), num_rows=4, num_cols=5))
    compare_error(lambda tf: tf.linalg.diag_part(np.ones((2, 3, 4)), k=(-3, 0)))


def test_complex_l2_normalize_and_cast_to_real():
    def build(tf):
        z = tf.constant(CX4)
        return [tf.nn.l2_normalize(z, axis=-1), tf.cast(z, tf.float64), tf.broadcast_to(
            tf.constant(X3), tf.broadcast_dynamic_shape(tf.shape(X3), tf.constant([2, 1, 1])))]
    compare(build, tol=1e-12, runs=1)
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


def _blt(tf, dtype="float64"):
    return tf.linalg.LinearOperatorBlockLowerTriangular([
        [tf.linalg.LinearOperatorFullMatrix(A2[0].astype(dtype))],
        [tf.linalg.LinearOperatorFullMatrix(B32.astype(dtype)),
         tf.linalg.LinearOperatorDiag(COL[0].astype(dtype), is_non_singular=True)]])


def test_block_lower_triangular_blockwise_and_static():
    def build(tf, asserts=True):
        op = _blt(tf)
        blocks = [tf.constant(X5[0, :2]), tf.constant(X5[0, 2:])]
        out = [op.matmul(blocks), op.matmul(blocks, adjoint=True), op.solve(blocks),
               op.solve([tf.linalg.adjoint(b) for b in blocks], adjoint=True, adjoint_arg=True),
               op.matvec([b[:, 0] for b in blocks]), op.solvevec([b[:, 0] for b in blocks], adjoint=True),
               op.diag_part()]
        if asserts:
            with tf.control_dependencies([op.assert_non_singular()]):
                out.append(tf.identity(op.trace()))
        return out
    compare(build, tol=1e-9, runs=1)
    # (graphcompat records tf.debugging.assert_less without TF's AssertGuard cond: names compared without it)
    assert oracle.op_names(graphcompat, lambda tf: build(tf, False)) == \
        oracle.op_names(oracle.tf1(), lambda tf: build(tf, False))

    def static(tf):
        with tf.Graph().as_default():
            op = _blt(tf)
            return (op.shape.as_list(), op.is_non_singular, op.is_square, op.is_self_adjoint, op.name,
                    type(op.H).__name__, type(op @ op).__name__)
    assert static(graphcompat) == static(oracle.tf1())


def test_block_lower_triangular_inverse():
    """Three block rows of mixed structure: the inverse's blocks have TF's classes (sums of operators
    by TF's addition tiers), names and values."""
    def build(tf):
        d = "float64"
        op = tf.linalg.LinearOperatorBlockLowerTriangular([
            [tf.linalg.LinearOperatorDiag(COL[0].astype(d))],
            [tf.linalg.LinearOperatorScaledIdentity(3, np.float64(2.0)),
             tf.linalg.LinearOperatorLowerTriangular(np.tril(A2[0].repeat(2, 0)[:3, :2].repeat(2, 1)[:, :3])
                                                     + 3 * np.eye(3))],
            [tf.linalg.LinearOperatorFullMatrix(np.ones((2, 3))), tf.linalg.LinearOperatorFullMatrix(B32.T),
             tf.linalg.LinearOperatorFullMatrix(A2[1])]])
        inverse = op.inverse()
        return [[type(b).__name__ + " " + b.name for b in row] for row in inverse.operators], \
            [inverse.to_dense(), inverse.matmul(X8[:, :1])]
    with graphcompat.Graph().as_default():
        got = build(graphcompat)[0]
    assert got == build(oracle.tf1())[0]
    compare(lambda tf: build(tf)[1], tol=1e-9, runs=1)
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


BLT_ERRORS = [
    ("empty", lambda tf: tf.linalg.LinearOperatorBlockLowerTriangular([])),
    ("row_length", lambda tf: tf.linalg.LinearOperatorBlockLowerTriangular(
        [[tf.linalg.LinearOperatorIdentity(2)], [tf.linalg.LinearOperatorIdentity(2)]])),
    ("not_square", lambda tf: tf.linalg.LinearOperatorBlockLowerTriangular(
        [[tf.linalg.LinearOperatorIdentity(2)]], is_square=False)),
    ("singular_hint", lambda tf: tf.linalg.LinearOperatorBlockLowerTriangular(
        [[tf.linalg.LinearOperatorIdentity(2)]], is_non_singular=False)),
    ("domain_mismatch", lambda tf: tf.linalg.LinearOperatorBlockLowerTriangular([
        [tf.linalg.LinearOperatorFullMatrix(A2[0])],
        [tf.linalg.LinearOperatorFullMatrix(np.ones((3, 3))), tf.linalg.LinearOperatorDiag(COL[0])]])),
    ("range_mismatch", lambda tf: tf.linalg.LinearOperatorBlockLowerTriangular([
        [tf.linalg.LinearOperatorFullMatrix(A2[0])],
        [tf.linalg.LinearOperatorFullMatrix(np.ones((2, 2))), tf.linalg.LinearOperatorDiag(COL[0])]])),
    ("matmul_dims", lambda tf: _blt(tf).matmul(np.ones((4, 1)))),
]


@pytest.mark.parametrize("build", [e[1] for e in BLT_ERRORS], ids=[e[0] for e in BLT_ERRORS])
def test_block_lower_triangular_errors(build):
    compare_error(build)


def test_block_lower_triangular_unknown_shapes():
    def build(tf):
        v = tf.placeholder("float64", [None, None], name="v")
        x = tf.placeholder("float64", [None, None, None], name="x")
        op = tf.linalg.LinearOperatorBlockLowerTriangular([
            [tf.linalg.LinearOperatorDiag(v + 3.0)],
            [tf.linalg.LinearOperatorDiag(v), tf.linalg.LinearOperatorDiag(v + 4.0)]])
        return [op.to_dense(), op.matmul(x), op.matmul(x, adjoint=True), op.solve(x), op.solve(x, adjoint=True),
                op.shape_tensor(), op.batch_shape_tensor(), op.domain_dimension_tensor(), op.diag_part(),
                op.trace(), op.determinant()]

    def feed(tf, graph):
        return {graph.get_tensor_by_name("v:0"): AXIS, graph.get_tensor_by_name("x:0"): X6}
    compare(build, feed=feed, tol=1e-9, runs=1)
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


def test_variable_parameters_train():
    """Variables stay variables inside the operators (each use reads them); a training step through the
    structured matmul/solve paths updates them as TF's."""
    def build(tf):
        spectrum = tf.Variable(SPEC[0], name="spectrum")
        axis = tf.Variable(AXIS[0], name="axis")
        col = tf.Variable(COL[0], name="col")
        diags = tf.Variable(TRI[0], name="diags")
        x = tf.constant(X4[0])
        loss = (tf.reduce_sum(tf.linalg.LinearOperatorCirculant(spectrum, input_output_dtype="float64").solve(x))
                + tf.reduce_sum(tf.linalg.LinearOperatorHouseholder(axis).matmul(x[:3]) * x[:3])
                + tf.reduce_sum(tf.linalg.LinearOperatorToeplitz(col, col).matmul(x[:3]) ** 2)
                + tf.reduce_sum(tf.linalg.LinearOperatorTridiag(diags).solve(x[:3]))
                + tf.reduce_sum(tf.linalg.LinearOperatorPermutation(PERM[0], dtype="float64").matmul(x[:3])))
        step = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
        with tf.control_dependencies([step]):
            return [tf.identity(loss), spectrum.read_value(), axis.read_value(), col.read_value(),
                    diags.read_value()]
    compare(build, tol=1e-8, runs=1)
