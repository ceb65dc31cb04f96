"""tf.linalg.LinearOperator family against real TF 2.21 `tensorflow.compat.v1`: every operator × its
methods × float32/float64 (values and static shapes), the static properties and hints, the hint and
argument errors (class and text), operator algebra (operator @ operator, solve by an operator), a
gradient through matmul and solve, and TF's op names for a FullMatrix matmul."""
import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests._op_oracle import compare, compare_error

pytestmark = pytest.mark.oracle

rng = np.random.RandomState(7)
A3 = rng.randn(2, 3, 3) + 3 * np.eye(3)          # batch of well-conditioned 3x3
A2 = rng.randn(2, 2) + 2 * np.eye(2)
SPD3 = A3 @ np.swapaxes(A3, -1, -2) + np.eye(3)
D3 = rng.uniform(0.5, 2.0, size=(2, 3))
TRIL3 = np.tril(rng.randn(2, 3, 3)) + 2 * np.eye(3)
U32 = rng.randn(3, 2) * 0.5
V32 = rng.randn(3, 2) * 0.5
X3 = rng.randn(2, 3, 4)                          # right-hand sides for the 3x3 operators
X5 = rng.randn(5, 2)
X6 = rng.randn(6, 2)


def _c(tf, value, dtype):
    return tf.constant(value.astype(dtype))


# (name, builder(tf, dtype) -> operator, right-hand side for matmul/solve, solvable, positive definite)
OPERATORS = [
    ("full", lambda tf, d: tf.linalg.LinearOperatorFullMatrix(_c(tf, A3, d)), X3, True, False),
    ("full_spd", lambda tf, d: tf.linalg.LinearOperatorFullMatrix(
        _c(tf, SPD3, d), is_self_adjoint=True, is_positive_definite=True), X3, True, True),
    ("diag", lambda tf, d: tf.linalg.LinearOperatorDiag(_c(tf, D3, d), is_positive_definite=True), X3, True, True),
    ("identity", lambda tf, d: tf.linalg.LinearOperatorIdentity(3, batch_shape=[2], dtype=d), X3, True, True),
    ("scaled_identity", lambda tf, d: tf.linalg.LinearOperatorScaledIdentity(
        3, _c(tf, np.array([1.5, 2.5]), d), is_positive_definite=True), X3, True, True),
    ("lower_triangular", lambda tf, d: tf.linalg.LinearOperatorLowerTriangular(_c(tf, TRIL3, d)), X3, True, False),
    ("composition", lambda tf, d: tf.linalg.LinearOperatorComposition([
        tf.linalg.LinearOperatorFullMatrix(_c(tf, A3, d)), tf.linalg.LinearOperatorDiag(_c(tf, D3, d))]),
     X3, True, False),
    ("adjoint", lambda tf, d: tf.linalg.LinearOperatorAdjoint(tf.linalg.LinearOperatorFullMatrix(_c(tf, A3, d))),
     X3, True, False),
    ("inversion", lambda tf, d: tf.linalg.LinearOperatorInversion(
        tf.linalg.LinearOperatorFullMatrix(_c(tf, A3, d))), X3, True, False),
    ("kronecker", lambda tf, d: tf.linalg.LinearOperatorKronecker([
        tf.linalg.LinearOperatorFullMatrix(_c(tf, A2, d)),
        tf.linalg.LinearOperatorFullMatrix(_c(tf, A3[0], d))]), X6, True, False),
    ("block_diag", lambda tf, d: tf.linalg.LinearOperatorBlockDiag([
        tf.linalg.LinearOperatorFullMatrix(_c(tf, A2, d)),
        tf.linalg.LinearOperatorDiag(_c(tf, D3[0], d))]), X5, True, False),
    ("low_rank_spd", lambda tf, d: tf.linalg.LinearOperatorLowRankUpdate(
        tf.linalg.LinearOperatorDiag(_c(tf, D3[0], d), is_positive_definite=True), _c(tf, U32, d),
        diag_update=_c(tf, np.array([0.5, 1.5]), d), is_diag_update_positive=True), X3[0], True, True),
    ("low_rank_uv", lambda tf, d: tf.linalg.LinearOperatorLowRankUpdate(
        tf.linalg.LinearOperatorFullMatrix(_c(tf, A3[0], d)), _c(tf, U32, d), v=_c(tf, V32, d)),
     X3[0], True, False),
    ("zeros", lambda tf, d: tf.linalg.LinearOperatorZeros(3, batch_shape=[2], dtype=d), X3, False, False),
]
IDS = [case[0] for case in OPERATORS]


def _methods(tf, op, x, dtype, solvable: bool, positive_definite: bool) -> list:
    x = tf.constant(x.astype(dtype))
    xt = tf.linalg.adjoint(x)
    vec = x[..., 0]
    out = [op.to_dense(), op.matmul(x), op.matmul(x, adjoint=True), op.matmul(xt, adjoint_arg=True),
           op.matvec(vec), op.matvec(vec, adjoint=True), op.diag_part(), op.trace(), op.determinant(),
           op.add_to_tensor(op.to_dense()), op.shape_tensor(), op.batch_shape_tensor(), op.tensor_rank_tensor(),
           op.domain_dimension_tensor(), op.range_dimension_tensor(), op.adjoint().to_dense(),
           op.adjoint().matmul(x)]
    if solvable:
        out += [op.solve(x), op.solve(x, adjoint=True), op.solve(xt, adjoint_arg=True), op.solvevec(vec),
                op.solvevec(vec, adjoint=True), op.log_abs_determinant(), op.inverse().to_dense(),
                op.inverse().matmul(x), op.cond()]
    if positive_definite:
        out += [op.cholesky().to_dense(), op.eigvals(), op.cond()]
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,make,x,solvable,pd", OPERATORS, ids=IDS)
def test_methods_values_and_shapes(name, make, x, solvable, pd, dtype):
    tol = 2e-4 if dtype == "float32" else 1e-9
    compare(lambda tf: _methods(tf, make(tf, dtype), x, dtype, solvable, pd), tol=tol, runs=1)


def _static(tf, op) -> tuple:
    dims = (op.domain_dimension, op.range_dimension)
    return (op.shape.as_list(), op.batch_shape.as_list(), op.tensor_rank, [getattr(d, "value", d) for d in dims],
            op.is_square, op.is_non_singular, op.is_self_adjoint, op.is_positive_definite, op.name, op.dtype.name,
            op.adjoint().name, op.adjoint().is_self_adjoint)


@pytest.mark.parametrize("name,make,x,solvable,pd", OPERATORS, ids=IDS)
def test_static_properties_and_hints(name, make, x, solvable, pd):
    def build(tf):
        with tf.Graph().as_default():
            return _static(tf, make(tf, "float64"))
    assert build(graphcompat) == build(oracle.tf1())


def _fm(tf, value=A3, dtype="float64", **hints):
    return tf.linalg.LinearOperatorFullMatrix(tf.constant(value.astype(dtype)), **hints)


ERRORS = [
    ("pd_singular", lambda tf: _fm(tf, is_positive_definite=True, is_non_singular=False)),
    ("non_singular_not_square", lambda tf: _fm(tf, is_non_singular=True, is_square=False)),
    ("self_adjoint_not_square", lambda tf: _fm(tf, is_self_adjoint=True, is_square=False)),
    ("square_hint_false", lambda tf: _fm(tf, is_square=False).is_square),
    ("int_matrix", lambda tf: tf.linalg.LinearOperatorFullMatrix(tf.constant([[1, 2], [3, 4]]))),
    ("rank1_matrix", lambda tf: tf.linalg.LinearOperatorFullMatrix(tf.constant([1.0, 2.0]))),
    ("matmul_dtype", lambda tf: _fm(tf).matmul(tf.constant(X3.astype("float32")))),
    ("matmul_dims", lambda tf: _fm(tf).matmul(tf.constant(X5))),
    ("solve_dims", lambda tf: _fm(tf).solve(tf.constant(X5))),
    ("operators_incompatible", lambda tf: _fm(tf).matmul(_fm(tf, A2))),
    ("inverse_singular", lambda tf: tf.linalg.LinearOperatorZeros(3).inverse()),
    ("solve_singular", lambda tf: tf.linalg.LinearOperatorZeros(3).solve(tf.ones([3, 1]))),
    ("cholesky_not_pd", lambda tf: _fm(tf).cholesky()),
    ("diag_real_not_self_adjoint", lambda tf: tf.linalg.LinearOperatorDiag([1.0, 2.0], is_self_adjoint=False)),
    ("diag_not_square", lambda tf: tf.linalg.LinearOperatorDiag([1.0, 2.0], is_square=False)),
    ("diag_scalar", lambda tf: tf.linalg.LinearOperatorDiag(1.0)),
    ("identity_not_pd", lambda tf: tf.linalg.LinearOperatorIdentity(2, is_positive_definite=False)),
    ("identity_negative", lambda tf: tf.linalg.LinearOperatorIdentity(-1)),
    ("identity_float_rows", lambda tf: tf.linalg.LinearOperatorIdentity(tf.constant(2.0))),
    ("identity_batch_2d", lambda tf: tf.linalg.LinearOperatorIdentity(2, batch_shape=[[2]])),
    ("scaled_not_square", lambda tf: tf.linalg.LinearOperatorScaledIdentity(2, 1.0, is_square=False)),
    ("tril_not_square", lambda tf: tf.linalg.LinearOperatorLowerTriangular(TRIL3, is_square=False)),
    ("zeros_non_singular", lambda tf: tf.linalg.LinearOperatorZeros(2, is_non_singular=True)),
    ("zeros_not_square", lambda tf: tf.linalg.LinearOperatorZeros(2, 3)),
    ("composition_empty", lambda tf: tf.linalg.LinearOperatorComposition([])),
    ("composition_dtypes", lambda tf: tf.linalg.LinearOperatorComposition([_fm(tf), _fm(tf, dtype="float32")])),
    ("composition_not_non_singular", lambda tf: tf.linalg.LinearOperatorComposition(
        [tf.linalg.LinearOperatorIdentity(2)], is_non_singular=False)),
    ("kronecker_empty", lambda tf: tf.linalg.LinearOperatorKronecker([])),
    ("kronecker_not_sa", lambda tf: tf.linalg.LinearOperatorKronecker(
        [tf.linalg.LinearOperatorIdentity(2)], is_self_adjoint=False)),
    ("kronecker_dtypes", lambda tf: tf.linalg.LinearOperatorKronecker([_fm(tf), _fm(tf, dtype="float32")])),
    ("block_diag_not_pd", lambda tf: tf.linalg.LinearOperatorBlockDiag(
        [tf.linalg.LinearOperatorIdentity(2)], is_positive_definite=False)),
    ("block_diag_blocks_differ", lambda tf: tf.linalg.LinearOperatorBlockDiag([_fm(tf, A2)]).matmul(
        tf.linalg.LinearOperatorBlockDiag([_fm(tf, A2), _fm(tf, A2)]))),
    ("adjoint_contradiction", lambda tf: tf.linalg.LinearOperatorAdjoint(_fm(tf, is_square=True), is_square=False)),
    ("inversion_singular", lambda tf: tf.linalg.LinearOperatorInversion(tf.linalg.LinearOperatorZeros(2))),
    ("low_rank_diag_positive", lambda tf: tf.linalg.LinearOperatorLowRankUpdate(
        tf.linalg.LinearOperatorIdentity(3, dtype="float64"), U32, is_diag_update_positive=False)),
    ("low_rank_not_self_adjoint", lambda tf: tf.linalg.LinearOperatorLowRankUpdate(
        tf.linalg.LinearOperatorIdentity(3, dtype="float64"), U32, is_self_adjoint=False)),
    ("low_rank_dims", lambda tf: tf.linalg.LinearOperatorLowRankUpdate(
        tf.linalg.LinearOperatorIdentity(2, dtype="float64"), U32)),
    ("determinant_not_square", lambda tf: tf.linalg.LinearOperatorFullMatrix(
        np.ones((2, 3))).determinant()),
]


@pytest.mark.parametrize("build", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(build):
    compare_error(build)


def test_operator_algebra():
    """operator @ operator and solve by an operator return operators of TF's classes, with TF's values."""
    def build(tf):
        d = tf.linalg.LinearOperatorDiag(D3[0])
        s = tf.linalg.LinearOperatorScaledIdentity(3, np.float64(2.0))
        t = tf.linalg.LinearOperatorLowerTriangular(TRIL3[0])
        f = _fm(tf, A3[0])
        i = tf.linalg.LinearOperatorIdentity(3, dtype="float64")
        z = tf.linalg.LinearOperatorZeros(3, dtype="float64")
        products = [d @ d, d.matmul(s), s.matmul(d), d.matmul(t), t.matmul(d), f.matmul(d), f @ i, i @ f, f @ z,
                    d.solve(d), d.solve(t), f.solve(d), f.solve(i), f.inverse().solve(f), f.matmul(f, adjoint=True),
                    f.H, d.H, f.inverse().inverse()]
        return [type(p).__name__ for p in products], products

    want_types = build(oracle.tf1())[0]
    with graphcompat.Graph().as_default():
        got_types = build(graphcompat)[0]
    assert got_types == want_types
    compare(lambda tf: [p.to_dense() for p in build(tf)[1]], tol=1e-9, runs=1)


def test_composition_hints_aat_form():
    def build(tf):
        t = tf.linalg.LinearOperatorLowerTriangular(TRIL3[0], is_non_singular=True)
        c = tf.linalg.LinearOperatorComposition([t, t.H])
        return (c.is_self_adjoint, c.is_square, c.is_positive_definite, c.name, type(c.cholesky()).__name__)
    with graphcompat.Graph().as_default():
        got = build(graphcompat)
    assert got == build(oracle.tf1())


def test_blockwise_arguments():
    compare(lambda tf: tf.linalg.LinearOperatorBlockDiag([_fm(tf, A2), tf.linalg.LinearOperatorDiag(D3[0])]).matmul(
        [tf.constant(X5[:2]), tf.constant(X5[2:])]) + tf.linalg.LinearOperatorBlockDiag(
        [_fm(tf, A2), tf.linalg.LinearOperatorDiag(D3[0])]).solvevec([tf.constant(X5[:2, 0]), tf.constant(X5[2:, 0])]),
        tol=1e-9, runs=1)


def test_assertions_pass_and_fail():
    def passing(tf):
        ops = [tf.linalg.LinearOperatorDiag(D3).assert_non_singular(),
               tf.linalg.LinearOperatorDiag(D3).assert_positive_definite(),
               tf.linalg.LinearOperatorDiag(D3).assert_self_adjoint(),
               _fm(tf, SPD3, is_self_adjoint=True).assert_positive_definite(),
               _fm(tf, SPD3).assert_self_adjoint(), _fm(tf, A3).assert_non_singular(),
               tf.linalg.LinearOperatorLowerTriangular(TRIL3).assert_non_singular(),
               tf.linalg.LinearOperatorIdentity(3).assert_non_singular()]
        with tf.control_dependencies(ops):
            return tf.constant(1.0)
    compare(passing, runs=1)
    compare_error(lambda tf: tf.linalg.LinearOperatorDiag([1.0, 0.0]).assert_non_singular())
    compare_error(lambda tf: tf.linalg.LinearOperatorDiag([1.0, -1.0]).assert_positive_definite())
    compare_error(lambda tf: _fm(tf, A3).assert_self_adjoint())
    compare_error(lambda tf: tf.linalg.LinearOperatorZeros(2).assert_non_singular())


def test_gradient_through_matmul_and_solve():
    def build(tf):
        m = tf.constant(A3)
        x = tf.constant(X3)
        op = tf.linalg.LinearOperatorFullMatrix(m)
        tril = tf.linalg.LinearOperatorLowerTriangular(m)
        loss = (tf.reduce_sum(op.matmul(x) ** 2) + tf.reduce_sum(op.solve(x, adjoint=True))
                + tf.reduce_sum(tril.solve(x)) + tf.reduce_sum(tf.linalg.LinearOperatorDiag(m[..., 0]).solve(x)))
        return tf.gradients(loss, [m, x])
    compare(build, tol=1e-8, runs=1)


@pytest.mark.parametrize("name,make,x,solvable,pd", OPERATORS, ids=IDS)
def test_op_names_match_tf(name, make, x, solvable, pd):
    """Every method records TF's ops under TF's names (`<operator>/<method>/...`), node for node."""
    def build(tf):
        _methods(tf, make(tf, "float64"), x, "float64", solvable, pd)
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


def test_unsupported_raise_not_implemented():
    with graphcompat.Graph().as_default():
        op = graphcompat.linalg.LinearOperatorFullMatrix(A3)
        with pytest.raises(NotImplementedError, match="LinearOperator"):
            op[0]


C3 = A3 + 1j * rng.randn(2, 3, 3)
CD3 = D3 + 1j * rng.randn(2, 3)
CX3 = X3 + 1j * rng.randn(2, 3, 4)
COMPLEX = [
    ("full", lambda tf: tf.linalg.LinearOperatorFullMatrix(C3)),
    ("diag", lambda tf: tf.linalg.LinearOperatorDiag(CD3)),
    ("scaled_identity", lambda tf: tf.linalg.LinearOperatorScaledIdentity(3, CD3[:, 0])),
    ("lower_triangular", lambda tf: tf.linalg.LinearOperatorLowerTriangular(np.tril(C3) + 2 * np.eye(3))),
    ("adjoint", lambda tf: tf.linalg.LinearOperatorAdjoint(tf.linalg.LinearOperatorFullMatrix(C3))),
    ("kronecker", lambda tf: tf.linalg.LinearOperatorKronecker([
        tf.linalg.LinearOperatorFullMatrix(C3[0, :1, :1] * 0 + C3[1]), tf.linalg.LinearOperatorDiag(CD3[0, :1])])),
    ("low_rank", lambda tf: tf.linalg.LinearOperatorLowRankUpdate(
        tf.linalg.LinearOperatorFullMatrix(C3[0]), U32.astype(complex) * (1 + 0.5j))),
]


@pytest.mark.parametrize("make", [c[1] for c in COMPLEX], ids=[c[0] for c in COMPLEX])
def test_complex128(make):
    def build(tf):
        op = make(tf)
        x = tf.constant(CX3[0, :op.shape.as_list()[-1]])
        return [op.to_dense(), op.matmul(x), op.matmul(x, adjoint=True), op.solve(x), op.solve(x, adjoint=True),
                op.adjoint().to_dense(), op.determinant(), op.log_abs_determinant(), op.trace(), op.diag_part()]
    compare(build, tol=1e-9, runs=1)


UNKNOWN_METHODS = {
    "to_dense": lambda op, x: op.to_dense(), "matmul": lambda op, x: op.matmul(x),
    "solve": lambda op, x: op.solve(x), "shape_tensor": lambda op, x: op.shape_tensor(),
    "batch_shape_tensor": lambda op, x: op.batch_shape_tensor(), "rank": lambda op, x: op.tensor_rank_tensor(),
    "domain": lambda op, x: op.domain_dimension_tensor(), "diag_part": lambda op, x: op.diag_part(),
    "determinant": lambda op, x: op.determinant(), "trace": lambda op, x: op.trace(),
    "adjoint_matmul": lambda op, x: op.adjoint().matmul(x),
}
# (name, builder(tf, m, d), methods left out): TF's own Kronecker matmul/solve of a batch fail at run
# time with unknown dimensions (a reshape of the wrong size; test_kronecker_unknown_shapes checks ours),
# and TF's BlockDiag refuses diag_part/trace when it cannot tell that its blocks are square
UNKNOWN = [
    ("full", lambda tf, m, d: tf.linalg.LinearOperatorFullMatrix(m), ()),
    ("diag", lambda tf, m, d: tf.linalg.LinearOperatorDiag(d), ()),
    ("identity", lambda tf, m, d: tf.linalg.LinearOperatorIdentity(tf.shape(d)[-1], batch_shape=tf.shape(d)[:-1],
                                                                   dtype="float64"), ()),
    ("scaled_identity", lambda tf, m, d: tf.linalg.LinearOperatorScaledIdentity(tf.shape(d)[-1], d[:, 0]), ()),
    ("composition", lambda tf, m, d: tf.linalg.LinearOperatorComposition(
        [tf.linalg.LinearOperatorFullMatrix(m), tf.linalg.LinearOperatorDiag(d)]), ()),
    ("kronecker", lambda tf, m, d: tf.linalg.LinearOperatorKronecker(
        [tf.linalg.LinearOperatorIdentity(1, dtype="float64"), tf.linalg.LinearOperatorFullMatrix(m)]),
     ("matmul", "solve", "adjoint_matmul")),
    ("block_diag", lambda tf, m, d: tf.linalg.LinearOperatorBlockDiag(
        [tf.linalg.LinearOperatorFullMatrix(m[..., :1, :1]), tf.linalg.LinearOperatorDiag(d[..., 1:])]),
     ("diag_part", "trace")),
    ("zeros", lambda tf, m, d: tf.linalg.LinearOperatorZeros(tf.shape(d)[-1], batch_shape=tf.shape(d)[:-1],
                                                             dtype="float64"), ("solve", "adjoint_matmul")),
]


@pytest.mark.parametrize("make,skip", [u[1:] for u in UNKNOWN], ids=[u[0] for u in UNKNOWN])
def test_unknown_static_shapes(make, skip):
    """Placeholders with unknown dimensions: the *_tensor methods and the dense paths at run time (values,
    static shapes, op names)."""
    def build(tf):
        m = tf.placeholder("float64", [None, None, None], name="m")
        d = tf.placeholder("float64", [None, None], name="d")
        x = tf.placeholder("float64", [None, None, None], name="x")
        op = make(tf, m, d)
        return [method(op, x) for name, method in UNKNOWN_METHODS.items() if name not in skip]

    def feed(tf, graph):
        return {graph.get_tensor_by_name("m:0"): A3, graph.get_tensor_by_name("d:0"): D3,
                graph.get_tensor_by_name("x:0"): X3}
    compare(build, feed=feed, tol=1e-9, runs=1)
    # the run-time shape paths build TF's ops too
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


def test_kronecker_unknown_shapes():
    """Kronecker matmul/solve with unknown dimensions, against the dense Kronecker product."""
    dense = np.kron(A2, A3[0])
    with graphcompat.Graph().as_default():
        a = graphcompat.placeholder("float64", [None, None])
        b = graphcompat.placeholder("float64", [None, None])
        x = graphcompat.placeholder("float64", [None, None, None])
        xt = graphcompat.placeholder("float64", [None, None, None])
        op = graphcompat.linalg.LinearOperatorKronecker([graphcompat.linalg.LinearOperatorFullMatrix(a),
                                                         graphcompat.linalg.LinearOperatorFullMatrix(b)])
        # a known factor after an unknown one: TF reuses the unknown factor's row count there (wrong unless
        # the sizes agree); each factor's own count is used here
        mixed = graphcompat.linalg.LinearOperatorKronecker([graphcompat.linalg.LinearOperatorFullMatrix(A2),
                                                            graphcompat.linalg.LinearOperatorFullMatrix(b)])
        fetches = [op.matmul(x), op.matmul(x, adjoint=True), op.solve(x), op.solve(xt, adjoint=True, adjoint_arg=True),
                   mixed.matmul(X6), mixed.solve(x)]
        xv = np.stack([X6, 2 * X6])
        with graphcompat.Session() as sess:
            got = sess.run(fetches, {a: A2, b: A3[0], x: xv, xt: np.swapaxes(xv, -1, -2)})
    want = [dense @ xv, dense.T @ xv, np.linalg.solve(dense, xv), np.linalg.solve(dense.T, xv), dense @ X6,
            np.linalg.solve(dense, xv)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-9)


WIDE = rng.randn(4, 2, 3, 1)                     # more batch dimensions than the matrices


def test_batch_broadcasting():
    def build(tf):
        batched = tf.linalg.LinearOperatorFullMatrix(A3)                   # [2, 3, 3]
        single = tf.linalg.LinearOperatorDiag(D3[0])                      # [3, 3]
        c = tf.linalg.LinearOperatorComposition([single, batched])
        b = tf.linalg.LinearOperatorBlockDiag([single, batched])
        k = tf.linalg.LinearOperatorKronecker([single, batched])
        i = tf.linalg.LinearOperatorIdentity(3, batch_shape=[2], dtype="float64")
        wide = WIDE
        return [c.to_dense(), c.solve(X3[0]), b.to_dense(), b.matmul(np.ones((6, 1))), k.to_dense(),
                i.matmul(X3[0]), single.solve(X3), c.shape_tensor(), b.shape_tensor(), k.shape_tensor(),
                _fm(tf, A3[0]).solve(X3), _fm(tf, A3).solve(wide, adjoint=True), _fm(tf, A3[0]).solve(wide),
                _fm(tf, A3[0]).solve(np.swapaxes(wide, -1, -2), adjoint_arg=True)]
    compare(build, tol=1e-9, runs=1)
    # a rhs with more batch dimensions than the matrix is folded into its columns, as TF does
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


def test_variable_parameters_train():
    """Variables stay variables inside the operators (each use reads them); a training step through
    matmul and solve updates them as TF's."""
    def build(tf):
        m = tf.Variable(A3, name="m")
        d = tf.Variable(D3, name="d")
        op = tf.linalg.LinearOperatorComposition([tf.linalg.LinearOperatorFullMatrix(m),
                                                  tf.linalg.LinearOperatorDiag(d)])
        loss = tf.reduce_sum(op.matmul(X3) ** 2) + tf.reduce_sum(op.solve(X3))
        step = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
        with tf.control_dependencies([step]):
            return [tf.identity(loss), m.read_value(), d.read_value()]
    compare(build, tol=1e-8, runs=1)


def test_dispatch_of_linalg_functions():
    """tf.matmul, tf.linalg.{adjoint, det, inv, solve, trace, diag_part, cholesky, logdet} on an operator
    call its methods (TF's dispatch): values and op names."""
    def build(tf):
        op = _fm(tf, SPD3, is_self_adjoint=True, is_positive_definite=True)
        x = tf.constant(X3)
        xt = tf.constant(np.swapaxes(X3, -1, -2))
        return [tf.matmul(op, x), tf.matmul(xt, op), tf.linalg.matmul(op, x, adjoint_a=True),
                tf.linalg.adjoint(op).to_dense(), tf.linalg.det(op), tf.matrix_determinant(op),
                tf.linalg.inv(op).to_dense(), tf.linalg.inv(op, adjoint=True).to_dense(), tf.linalg.solve(op, x),
                tf.linalg.trace(op), tf.linalg.diag_part(op), tf.linalg.cholesky(op).to_dense(), tf.linalg.logdet(op),
                tf.matmul(op, _fm(tf, A3)).to_dense(),
                # the plain functions' scopes were used up by the dispatching calls (MatMul_1 …)
                tf.matmul(x, xt), tf.linalg.det(SPD3), tf.linalg.trace(SPD3), tf.linalg.adjoint(x),
                tf.linalg.diag_part(SPD3), tf.linalg.solve(SPD3, X3), tf.linalg.inv(SPD3), tf.linalg.cholesky(SPD3)]
    compare(build, tol=1e-9, runs=1)
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)
    compare_error(lambda tf: tf.matmul(_fm(tf), X3, transpose_a=True))
    compare_error(lambda tf: tf.linalg.solve(tf.constant(A3), _fm(tf)))
    compare_error(lambda tf: tf.linalg.logdet(_fm(tf)))


def test_unknown_rank():
    def build(tf):
        m = tf.placeholder("float64", None, name="m")
        x = tf.placeholder("float64", None, name="x")
        op = tf.linalg.LinearOperatorFullMatrix(m)
        tril = tf.linalg.LinearOperatorLowerTriangular(m)
        assert op.tensor_rank is None and op.batch_shape.ndims is None
        return [op.matmul(x), op.solve(x), op.shape_tensor(), op.batch_shape_tensor(), op.tensor_rank_tensor(),
                op.domain_dimension_tensor(), op.range_dimension_tensor(), op.determinant(), op.to_dense(),
                tril.solve(x), tril.log_abs_determinant(), op.adjoint().matvec(x[..., 0])]

    def feed(tf, graph):
        return {graph.get_tensor_by_name("m:0"): A3, graph.get_tensor_by_name("x:0"): X3}
    compare(build, feed=feed, tol=1e-9, runs=1)
    assert oracle.op_names(graphcompat, build) == oracle.op_names(oracle.tf1(), build)


def test_user_subclass_of_the_base_class():
    """A program's own operator (only _shape, _shape_tensor and _matmul) gets every other method from the
    base class's dense defaults, as in TF."""
    def build(tf, asserts=True):
        class Doubling(tf.linalg.LinearOperator):
            def __init__(self, n):
                self._n = n
                super().__init__(dtype=tf.float64, is_non_singular=True, is_square=True, name="Doubling")

            def _shape(self):
                return tf.TensorShape([self._n, self._n])

            def _shape_tensor(self):
                return tf.constant([self._n, self._n])

            def _matmul(self, x, adjoint=False, adjoint_arg=False):
                return 2.0 * (tf.linalg.adjoint(x) if adjoint_arg else x)
        op = Doubling(3)
        return [op.to_dense(), op.matvec(X3[0, :, 0]), op.solve(X3[0]), op.determinant(), op.log_abs_determinant(),
                op.trace(), op.diag_part(), op.inverse().to_dense(), op.add_to_tensor(np.eye(3)),
                (op @ op).to_dense()] + ([op.assert_non_singular()] if asserts else [])
    compare(lambda tf: [t for t in build(tf) if hasattr(t, "dtype")], tol=1e-9, runs=1)
    # (graphcompat records tf.debugging.assert_less without TF's AssertGuard cond: names compared without it)
    assert oracle.op_names(graphcompat, lambda tf: build(tf, False)) == \
        oracle.op_names(oracle.tf1(), lambda tf: build(tf, False))


@pytest.mark.parametrize("make", [c[1] for c in COMPLEX], ids=[c[0] for c in COMPLEX])
def test_complex_static_properties_and_hints(make):
    def build(tf):
        with tf.Graph().as_default():
            op = make(tf)
            return _static(tf, op) + (op.H.name, op.H.is_square)
    assert build(graphcompat) == build(oracle.tf1())
