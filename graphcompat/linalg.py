"""`tf.linalg`: matrix ops under their TF 2.21 `tf.compat.v1.linalg` names."""
from typing import Optional

from graphcompat.ops.linalg_ops import (  # noqa: F401
    cholesky, diag as tensor_diag, diag_part as tensor_diag_part, eye, matmul, matrix_determinant as det,
    matrix_diag as diag, matrix_diag_part as diag_part, matrix_inverse as inv, matrix_set_diag as set_diag,
    matrix_solve as solve, matrix_transpose, tensordot, trace)

from graphcompat.ops.linalg_extra_ops import (band_part, cross, eigh, eigvalsh, einsum, logdet, matvec,  # noqa: F401,E402
                                              norm, qr, slogdet, svd, triangular_solve)

transpose = matrix_transpose


def adjoint(matrix, name: Optional[str] = None):
    """`tf.linalg.adjoint`: conjugate transpose of the last two axes, under scope `adjoint` (as TF:
    `adjoint/matrix_transpose/transpose`)."""
    from graphcompat.framework import ops as _ops
    from graphcompat.framework.constant_op import convert_to_tensor
    from graphcompat.ops.linalg_ops import _is_linear_operator
    if _is_linear_operator(matrix):
        with _ops.name_scope(name, "adjoint"):  # TF dispatches after its own scope was opened
            pass
        return matrix.adjoint(name)
    with _ops.name_scope(name, "adjoint", [matrix]):
        matrix = convert_to_tensor(matrix, name="matrix")
        return matrix_transpose(matrix, conjugate=True)


# coverage: the rest of tf.linalg that TF1 programs use
from graphcompat.nn.nn_impl import l2_normalize  # noqa: F401,E402
from graphcompat.ops.clip_ops import global_norm  # noqa: F401,E402
from graphcompat.ops.linalg_more_ops import (cholesky_solve, expm, lstsq, lu, lu_matrix_inverse,  # noqa: F401,E402
                                             logm, lu_reconstruct, lu_solve, matrix_rank, normalize, pinv, sqrtm,
                                             tridiagonal_matmul, tridiagonal_solve)

# tf.linalg.LinearOperator and its structured subclasses: Python classes over the ops above, registering no
# op, so they load on first use (graphcompat/_lazy.py): `import graphcompat` does not pay for 3,400 lines
# most programs never touch. tf.matmul & co. dispatch to them only once one exists (linalg_ops.py).
from graphcompat import _lazy  # noqa: E402
_LAZY = {
    **_lazy.names_of("graphcompat.ops.linear_operator",
                     "LinearOperator LinearOperatorAdjoint LinearOperatorBlockDiag LinearOperatorComposition "
                     "LinearOperatorDiag LinearOperatorFullMatrix LinearOperatorIdentity LinearOperatorInversion "
                     "LinearOperatorKronecker LinearOperatorLowerTriangular LinearOperatorLowRankUpdate "
                     "LinearOperatorScaledIdentity LinearOperatorZeros"),
    **_lazy.names_of("graphcompat.ops.linear_operator_more",
                     "LinearOperatorBlockLowerTriangular LinearOperatorCirculant LinearOperatorCirculant2D "
                     "LinearOperatorCirculant3D LinearOperatorHouseholder LinearOperatorPermutation "
                     "LinearOperatorToeplitz LinearOperatorTridiag"),
}


def _missing(name: str):
    from graphcompat import compat
    return compat.missing(__name__, name)


__getattr__, __dir__ = _lazy.exports(__name__, _LAZY, _missing)
