"""`tf.linalg.LinearOperator` and its structured subclasses: FullMatrix, Diag, Identity, ScaledIdentity,
LowerTriangular, Composition, Adjoint, Inversion, Kronecker, BlockDiag, LowRankUpdate, Zeros.

As in TF these are plain Python objects over the graph: they record no op of their own, only the ops
their methods build (MatMul/BatchMatMulV2, MatrixSolve, MatrixTriangularSolve, Cholesky, diagonal ops,
reductions …), under TF's name scopes (`<operator name>/<method>`). Their semantics follow TF 2.21's
tensorflow/python/ops/linalg/linear_operator*.py: the hint rules and their ValueError texts, the static
shapes, the structured shortcuts (a Diag's solve is a division, an Identity's matmul returns its argument,
operator @ operator returns an operator). What TF's classes do as CompositeTensors (tf.function specs,
batch slicing with `operator[...]`) is not supported and raises NotImplementedError.
"""
from __future__ import annotations

import abc
import contextlib
import functools
from typing import Optional, Sequence

import numpy as np

from graphcompat import tf_logging as _logging
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors as _errors
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.ops import array_ops as _array
from graphcompat.ops import check_ops as _check
from graphcompat.ops import control_ops as _control
from graphcompat.ops import linalg_ops as _linalg
from graphcompat.ops import math_ops as _math
from graphcompat.ops import reduction_ops as _reduce
from graphcompat.ops.indexing_ops import broadcast_to
from graphcompat.ops.check_extra_ops import assert_proper_iterable
from graphcompat.ops.linalg_extra_ops import band_part, eigvalsh, svd, triangular_solve
from graphcompat.ops.linalg_more_ops import cholesky_solve
from graphcompat.ops.math_extra_ops import broadcast_dynamic_shape, broadcast_static_shape

__all__ = ["LinearOperator", "LinearOperatorFullMatrix", "LinearOperatorDiag", "LinearOperatorIdentity",
           "LinearOperatorScaledIdentity", "LinearOperatorLowerTriangular", "LinearOperatorComposition",
           "LinearOperatorAdjoint", "LinearOperatorInversion", "LinearOperatorKronecker",
           "LinearOperatorBlockDiag", "LinearOperatorLowRankUpdate", "LinearOperatorZeros"]

_MATRIX_DTYPES = [_dt.float16, _dt.float32, _dt.float64, _dt.complex64, _dt.complex128]


def _warn_dense(what: str, cubic: bool = True) -> None:
    """TF's warning where a structured operator falls back to its dense matrix."""
    cost = "Requires conversion to a dense matrix and O(N^3) operations." if cubic else \
        "Requires conversion to a dense matrix."
    _logging.warning(f"Using (possibly slow) default implementation of {what}.  {cost}")


# ------------------------------------------------------------------------------------------------
# Helpers (TF's linear_operator_util / property_hint_util, as far as these operators need them)
# ------------------------------------------------------------------------------------------------
def _is_ref(x) -> bool:
    """A variable is kept as is (TF's convert_nonref_to_tensor), so each use reads its current value."""
    from graphcompat.variables import Variable
    return isinstance(x, Variable)


def _to_tensor_keep_ref(value, name: str):
    if value is None or _is_ref(value):
        return value
    return convert_to_tensor(value, name=name)


def _assert_not_ref(x, arg_name: str) -> None:
    if _is_ref(x):
        raise TypeError(f"Argument {arg_name} cannot be reference type. Found: {type(x)}.")


def _shape_tensor(shape, name: Optional[str] = None) -> _ops.Tensor:
    # an empty list would default to float32; TF makes it int32
    dtype = _dt.int32 if isinstance(shape, (tuple, list)) and not shape else None
    if isinstance(shape, _ts.TensorShape):
        shape = shape.as_list()
    return convert_to_tensor(shape, dtype=dtype, name=name)


def _dim_at(shape: _ts.TensorShape, index: int) -> _ts.Dimension:
    """`shape[index]` as a Dimension; unknown where the rank is unknown (tensor_shape.dimension_at_index)."""
    if shape.ndims is None:
        return _ts.Dimension(None)
    return _ts.as_dimension(shape[index])


def _adjoint(x: _ops.Tensor) -> _ops.Tensor:
    from graphcompat.linalg import adjoint
    return adjoint(x)


def _static_or_dynamic_shape(x: _ops.Tensor):
    return x.shape if x.shape.is_fully_defined() else _array.shape(x)


def _concat_shape(first, tail: Sequence):
    """`first + tail` statically when everything is known, else a shape tensor (TF's prefer-static)."""
    tail = [_ts.dimension_value(t) if isinstance(t, _ts.Dimension) else t for t in tail]
    tail_static = [constant_value(t) if isinstance(t, _ops.Tensor) else t for t in tail]
    if not isinstance(first, _ops.Tensor) and all(t is not None for t in tail_static):
        return _ts.TensorShape(list(first)).concatenate([int(t) for t in tail_static])
    if not isinstance(first, _ops.Tensor):
        first = _ts.TensorShape(list(first))  # converts to int32, even when empty
    return _array.concat([first, tail], 0)


def _broadcast_matrix_batch_dims(matrices: list) -> list:
    """Broadcasts the batch dimensions of a list of (batch) matrices against each other."""
    with _ops.name_scope("broadcast_matrix_batch_dims"):
        matrices = [convert_to_tensor(m) for m in matrices]
        for m in matrices:
            if m.shape.ndims is not None and m.shape.ndims < 2:
                raise ValueError(f"Expected [batch] matrix to have at least two dimensions. Found: {m}.")
        if len(matrices) < 2:
            return matrices
        batch = functools.reduce(broadcast_static_shape, [m.shape[:-2] for m in matrices])
        if batch.is_fully_defined():
            return [m if m.shape[:-2] == batch else
                    broadcast_to(m, _array.concat([batch.as_list(), _array.shape(m)[-2:]], 0)) for m in matrices]
        batch = _array.shape(matrices[0])[:-2]
        for m in matrices[1:]:  # one shape at a time, as TF records them
            batch = broadcast_dynamic_shape(batch, _array.shape(m)[:-2])
        return [broadcast_to(m, _array.concat([batch, _array.shape(m)[-2:]], 0)) for m in matrices]


def _fold_extra_batch_dims(matrix, rhs, adjoint: bool):
    """When `rhs` has more batch dimensions than `matrix`, solve once with them moved into the columns
    (TF's _reshape_for_efficiency, for solves): `[E.., B.., N, K]` becomes `[B.., N, K*prod(E)]`, unless the
    sizes show it does not pay (at most one extra batch element, or no more columns than the domain).
    Returns (matrix, rhs, undo, adjoint still to apply)."""
    def keep(y):
        return y
    if matrix.shape.ndims is None or rhs.shape.ndims is None or matrix.shape.ndims >= rhs.shape.ndims:
        return matrix, rhs, keep, adjoint
    extra = rhs.shape.ndims - matrix.shape.ndims
    _array.shape(rhs)[:extra]  # TF's graph has these slices even where it then keeps the shapes
    _array.shape(rhs)[extra:]
    domain = _ts.dimension_value(matrix.shape[-2 if adjoint else -1])
    columns = _ts.dimension_value(rhs.shape[-1])
    extra_size = int(np.prod(rhs.shape[:extra].as_list())) if rhs.shape[:extra].is_fully_defined() else None
    if domain is not None and columns is not None and extra_size is not None and \
            (extra_size < 2 or domain <= columns):
        return matrix, rhs, keep, adjoint
    if adjoint:
        matrix = _linalg.matrix_transpose(matrix, conjugate=True)
    extra_shape = _array.shape(rhs)[:extra]
    main_shape = _array.shape(rhs)[extra:]
    perm = np.concatenate((np.arange(extra, rhs.shape.ndims), np.arange(0, extra)), 0)
    folded = _array.reshape(_array.transpose(rhs, perm=perm), _array.concat((main_shape[:-1], [-1]), 0))

    def undo(y):
        unfolded = _array.reshape(y, _array.concat((_array.shape(y)[:-1], [main_shape[-1]], extra_shape), 0))
        return _array.transpose(unfolded, perm=np.argsort(perm))
    return matrix, folded, undo, False


def _matrix_solve_with_broadcast(matrix, rhs, adjoint: bool = False) -> _ops.Tensor:
    """MatrixSolve needs equal batch shapes; broadcast both first (TF's matrix_solve_with_broadcast)."""
    with _ops.name_scope(None, "MatrixSolveWithBroadcast", [matrix, rhs]):
        matrix = convert_to_tensor(matrix, name="matrix")
        rhs = convert_to_tensor(rhs, name="rhs", dtype=matrix.dtype)
        matrix, rhs, undo, adjoint = _fold_extra_batch_dims(matrix, rhs, adjoint)
        matrix, rhs = _broadcast_matrix_batch_dims([matrix, rhs])
        return undo(_linalg.matrix_solve(matrix, rhs, adjoint=adjoint))


def _assert_no_entries_with_modulus_zero(x, message: str):
    with _ops.name_scope(None, "assert_no_entries_with_modulus_zero", [x]):
        x = convert_to_tensor(x, name="x")
        zero = convert_to_tensor(0, dtype=x.dtype.real_dtype)
        return _check.assert_less(zero, _math.abs(x), message=message)


def _assert_zero_imag_part(x, message: str):
    with _ops.name_scope(None, "assert_zero_imag_part", [x]):
        x = convert_to_tensor(x, name="x")
        if x.dtype.is_floating:
            return _control.no_op()
        zero = convert_to_tensor(0, dtype=x.dtype.real_dtype)
        return _check.assert_equal(zero, _math.imag(x), message=message)


def _combine_hint(operator, attr: str, provided, message: str):
    """An operator's hint and the user's must not contradict; either True wins, else either False."""
    op_hint = getattr(operator, attr)
    if (op_hint is False and provided) or (op_hint and provided is False):
        raise ValueError(message)
    if op_hint or provided:
        return True
    if op_hint is False or provided is False:
        return False
    return None


def _inherited_hints(operator, what: str, is_square, is_non_singular, is_self_adjoint, is_positive_definite):
    """The four hints of an operator defined by `operator` (its adjoint or inverse: `what`), each combined
    with the user's, with TF's message for a contradiction."""
    return tuple(_combine_hint(operator, f"is_{attr}", provided,
                               f"An operator is {text} if and only if {what} is {text}.")
                 for attr, text, provided in (("square", "square", is_square),
                                              ("non_singular", "non-singular", is_non_singular),
                                              ("self_adjoint", "self-adjoint", is_self_adjoint),
                                              ("positive_definite", "positive-definite", is_positive_definite)))


def _init_from_blocks(op, base, operators, dtype, is_non_singular, is_self_adjoint, is_positive_definite,
                      is_square, parameters, name, separator: str) -> None:
    """The end of a Kronecker product's or block-diagonal operator's __init__ (TF's): a hint every block
    has holds for the whole; the default name joins the blocks' names; `base` is the caller's super()."""
    if all(o.is_non_singular for o in operators):
        is_non_singular = True
    if all(o.is_self_adjoint for o in operators):
        is_self_adjoint = True
    if all(o.is_positive_definite for o in operators):
        is_positive_definite = True
    name = separator.join(o.name for o in operators) if name is None else name
    with _ops.name_scope(name):
        base.__init__(dtype=dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                      is_positive_definite=is_positive_definite, is_square=is_square, parameters=parameters,
                      name=name)


def _is_adjoint_pair(x, y) -> bool:
    if x is y:
        if x.is_self_adjoint is False:
            return False
        if x.is_self_adjoint:
            return True
    return x.H is y or y.H is x


def _is_aat_form(operators) -> bool:
    """Whether the product has the form A1 A2 … A2^H A1^H (then it is self-adjoint and square)."""
    operators = list(operators)
    if not operators:
        raise ValueError("AAT form is undefined for empty operators")
    if len(operators) % 2:
        return False
    return all(_is_adjoint_pair(operators[i], operators[-1 - i]) for i in range(len(operators) // 2))


def _hint_square(a, b):
    if a.is_square and b.is_square:
        return True
    if a.is_square is False and b.is_square is False:
        m, n = a.range_dimension, b.domain_dimension
        if m is not None and n is not None:
            return m == n
    if a.is_square is not None and b.is_square is not None and a.is_square != b.is_square:
        return False
    return None


def _hint_non_singular(a, b):
    if a.is_non_singular is False or b.is_non_singular is False:
        return False
    return a.is_non_singular and b.is_non_singular


def _hint_commuting_self_adjoint(a, b):
    if a.is_self_adjoint and b.is_self_adjoint:
        return True
    if (a.is_self_adjoint is True and b.is_self_adjoint is False) or \
            (a.is_self_adjoint is False and b.is_self_adjoint is True):
        return False
    return None


def _hint_commuting_positive_definite(a, b):
    if a.is_positive_definite is True and a.is_self_adjoint is True and \
            b.is_positive_definite is True and b.is_self_adjoint is True:
        return True
    return None


def _check_operator_list(operators, empty_message: str, dtype_message):
    """The list checks Composition, Kronecker and BlockDiag share: non-empty, one dtype."""
    assert_proper_iterable(operators)
    operators = list(operators)
    if not operators:
        raise ValueError(empty_message.format(operators))
    dtype = operators[0].dtype
    if any(o.dtype != dtype for o in operators):
        raise TypeError(dtype_message([str((o.name, o.dtype)) for o in operators]))
    return operators, dtype


def _broadcast_batch_shapes(operators) -> _ts.TensorShape:
    return functools.reduce(broadcast_static_shape, [o.batch_shape for o in operators])


def _broadcast_batch_shape_tensors(operators) -> _ops.Tensor:
    """The broadcast batch shape at run time as TF's Composition/BlockDiag find it: the shape of a sum
    of zeros of each operator's batch shape."""
    zeros = _array.zeros(shape=operators[0].batch_shape_tensor())
    for operator in operators[1:]:
        zeros += _array.zeros(shape=operator.batch_shape_tensor())
    return _array.shape(zeros)


def dispatch_matmul(a, b, transpose_a: bool, transpose_b: bool, adjoint_a: bool, adjoint_b: bool,
                    a_is_sparse: bool, b_is_sparse: bool, name: Optional[str]):
    """`tf.matmul` with an operator on either side (TF's dispatch): `x @ A` is `(A^H x^H)^H`."""
    if transpose_a or transpose_b:
        raise ValueError("Transposing not supported at this time.")
    if a_is_sparse or b_is_sparse:
        raise ValueError("Sparse methods not supported at this time.")
    if not isinstance(a, LinearOperator):
        product = b.matmul(a, adjoint=not adjoint_b, adjoint_arg=not adjoint_a, name=name)
        from graphcompat.linalg import adjoint
        return adjoint(product)
    return a.matmul(b, adjoint=adjoint_a, adjoint_arg=adjoint_b, name=name)


# ------------------------------------------------------------------------------------------------
# The base class
# ------------------------------------------------------------------------------------------------
class LinearOperator(metaclass=abc.ABCMeta):
    """`tf.linalg.LinearOperator`: a (batch of) linear map(s) `[B1..Bb, M, N]` acting by matmul/solve.

    Subclasses define `_shape` and `_matmul`; every other method has a dense default, overridden where
    the structure allows better (as TF's)."""

    def __init__(self, dtype, graph_parents=None, is_non_singular: Optional[bool] = None,
                 is_self_adjoint: Optional[bool] = None, is_positive_definite: Optional[bool] = None,
                 is_square: Optional[bool] = None, name: Optional[str] = None, parameters: Optional[dict] = None):
        # hints imply one another: positive definite => non-singular => square; self-adjoint => square
        if is_positive_definite:
            if is_non_singular is False:
                raise ValueError("A positive definite matrix is always non-singular.")
            is_non_singular = True
        if is_non_singular:
            if is_square is False:
                raise ValueError("A non-singular matrix is always square.")
            is_square = True
        if is_self_adjoint:
            if is_square is False:
                raise ValueError("A self-adjoint matrix is always square.")
            is_square = True
        self._is_square_set_or_implied_by_hints = is_square
        self._graph_parents = list(graph_parents or [])
        self._dtype = _dt.as_dtype(dtype).base_dtype if dtype else dtype
        self._is_non_singular = is_non_singular
        self._is_self_adjoint = is_self_adjoint
        self._is_positive_definite = is_positive_definite
        self._parameters = dict(parameters or {})
        self._name = name or type(self).__name__

    @contextlib.contextmanager
    def _name_scope(self, name: Optional[str] = None):
        """`<operator name>/<method name>`, made unique as any name scope."""
        full_name = self.name if name is None else self.name + "/" + name
        with _ops.name_scope(full_name) as scope:
            yield scope

    # --- properties ---------------------------------------------------------------------------
    @property
    def parameters(self) -> dict:
        return dict(self._parameters)

    @property
    def dtype(self):
        return self._dtype

    @property
    def name(self) -> str:
        return self._name

    @property
    def graph_parents(self) -> list:
        return self._graph_parents

    @property
    def is_non_singular(self) -> Optional[bool]:
        return self._is_non_singular

    @property
    def is_self_adjoint(self) -> Optional[bool]:
        return self._is_self_adjoint

    @property
    def is_positive_definite(self) -> Optional[bool]:
        return self._is_positive_definite

    @property
    def is_square(self) -> Optional[bool]:
        auto_square_check = self.domain_dimension == self.range_dimension
        if self._is_square_set_or_implied_by_hints is False and auto_square_check:
            raise ValueError("User set is_square hint to False, but the operator was square.")
        if self._is_square_set_or_implied_by_hints is None:
            return auto_square_check
        return self._is_square_set_or_implied_by_hints

    @abc.abstractmethod
    def _shape(self) -> _ts.TensorShape:
        raise NotImplementedError("_shape is not implemented.")

    @property
    def shape(self) -> _ts.TensorShape:
        return self._shape()

    def _shape_tensor(self) -> _ops.Tensor:
        raise NotImplementedError("_shape_tensor is not implemented.")

    def shape_tensor(self, name: str = "shape_tensor") -> _ops.Tensor:
        with self._name_scope(name):
            if self.shape.is_fully_defined():
                return _shape_tensor(self.shape.as_list())
            return self._shape_tensor()

    @property
    def batch_shape(self) -> _ts.TensorShape:
        return self.shape[:-2]

    def batch_shape_tensor(self, name: str = "batch_shape_tensor") -> _ops.Tensor:
        with self._name_scope(name):
            return self._batch_shape_tensor()

    def _batch_shape_tensor(self, shape=None) -> _ops.Tensor:
        if self.batch_shape.is_fully_defined():
            return _shape_tensor(self.batch_shape.as_list(), name="batch_shape")
        shape = self.shape_tensor() if shape is None else shape
        return shape[:-2]

    @property
    def tensor_rank(self) -> Optional[int]:
        with self._name_scope("tensor_rank"):  # TF enters (and so uses up) this scope name
            return self.shape.ndims

    def tensor_rank_tensor(self, name: str = "tensor_rank_tensor") -> _ops.Tensor:
        with self._name_scope(name):
            if self.tensor_rank is not None:
                return convert_to_tensor(self.tensor_rank)
            return _array.size(self.shape_tensor())

    @property
    def domain_dimension(self) -> _ts.Dimension:
        return _dim_at(self.shape, -1)

    def domain_dimension_tensor(self, name: str = "domain_dimension_tensor") -> _ops.Tensor:
        with self._name_scope(name):
            value = _ts.dimension_value(self.domain_dimension)
            return convert_to_tensor(value) if value is not None else self.shape_tensor()[-1]

    @property
    def range_dimension(self) -> _ts.Dimension:
        return _dim_at(self.shape, -2) if self.shape.dims else _ts.Dimension(None)

    def range_dimension_tensor(self, name: str = "range_dimension_tensor") -> _ops.Tensor:
        with self._name_scope(name):
            value = _ts.dimension_value(self.range_dimension)
            return convert_to_tensor(value) if value is not None else self.shape_tensor()[-2]

    # --- assertions -----------------------------------------------------------------------------
    def _max_condition_number_to_be_non_singular(self) -> _ops.Tensor:
        with _ops.name_scope("max_nonsingular_condition_number"):
            eps = np.finfo(self.dtype.as_numpy_dtype).eps
            size = _reduce.reduce_max([100.0, _math.cast(self.range_dimension_tensor(), self.dtype),
                                       _math.cast(self.domain_dimension_tensor(), self.dtype)])
            return 1.0 / (_math.cast(size, self.dtype) * eps)

    def _assert_non_singular(self):
        _warn_dense("assert_non_singular")
        if self._can_use_cholesky():
            return self.assert_positive_definite()
        singular_values = svd(self.to_dense(), compute_uv=False)
        cond = _reduce.reduce_max(singular_values, axis=-1) / _reduce.reduce_min(singular_values, axis=-1)
        return _check.assert_less(cond, self._max_condition_number_to_be_non_singular(),
                                  message="Singular matrix up to precision epsilon.")

    def assert_non_singular(self, name: str = "assert_non_singular"):
        """An op that fails at run time when the operator is singular (up to a condition number)."""
        with self._name_scope(name):
            return self._assert_non_singular()

    def _assert_positive_definite(self):
        _warn_dense("assert_positive_definite")
        if self.is_self_adjoint:
            return _check.assert_positive(_linalg.matrix_diag_part(_linalg.cholesky(self.to_dense())),
                                          message="Matrix was not positive definite.")
        raise NotImplementedError("assert_positive_definite is not implemented.")

    def assert_positive_definite(self, name: str = "assert_positive_definite"):
        with self._name_scope(name):
            return self._assert_positive_definite()

    def _assert_self_adjoint(self):
        dense = self.to_dense()
        _warn_dense("assert_self_adjoint", cubic=False)
        return _check.assert_equal(dense, _adjoint(dense), message="Matrix was not equal to its adjoint.")

    def assert_self_adjoint(self, name: str = "assert_self_adjoint"):
        with self._name_scope(name):
            return self._assert_self_adjoint()

    def _check_input_dtype(self, arg) -> None:
        if arg.dtype.base_dtype != self.dtype:
            raise TypeError(f"Expected argument to have dtype {self.dtype}.  Found: {arg.dtype} in tensor {arg}")

    # --- matmul / matvec ------------------------------------------------------------------------
    @abc.abstractmethod
    def _matmul(self, x, adjoint: bool = False, adjoint_arg: bool = False):
        raise NotImplementedError("_matmul is not implemented.")

    def matmul(self, x, adjoint: bool = False, adjoint_arg: bool = False, name: str = "matmul"):
        """`op(A) @ op(x)`; `x` a (batch) matrix Tensor or a LinearOperator (then an operator comes back)."""
        if isinstance(x, LinearOperator):
            left, right = self._operator_operands(x, adjoint, adjoint_arg, "x")
            with self._name_scope(name):
                return self._linop_matmul(left, right)
        with self._name_scope(name):
            x = convert_to_tensor(x, name="x")
            self._check_input_dtype(x)
            _dim_at(self.shape, -2 if adjoint else -1).assert_is_compatible_with(
                _dim_at(x.shape, -1 if adjoint_arg else -2))
            return self._matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _operator_operands(self, other: "LinearOperator", adjoint: bool, adjoint_arg: bool, arg: str):
        """(op(self), op(other)) of a matmul/solve by an operator, checked compatible (TF's message)."""
        left = self.adjoint() if adjoint else self
        right = other.adjoint() if adjoint_arg else other
        if right.range_dimension is not None and left.domain_dimension is not None and \
                right.range_dimension != left.domain_dimension:
            raise ValueError(f"Operators are incompatible. Expected `{arg}` to have dimension "
                             f"{left.domain_dimension} but got {right.range_dimension}.")
        return left, right

    def _linop_matmul(self, left: "LinearOperator", right: "LinearOperator") -> "LinearOperator":
        if isinstance(right, LinearOperatorIdentity):
            return left
        if isinstance(right, LinearOperatorZeros):
            if not right.is_square or not left.is_square:
                raise ValueError("Matmul with non-square `LinearOperator`s or non-square `LinearOperatorZeros` "
                                 "not supported at this time.")
            return right
        return LinearOperatorComposition([left, right], **self._product_hints(left, right))

    @staticmethod
    def _product_hints(left, right) -> dict:
        is_square = _hint_square(left, right)
        hints = dict(is_non_singular=None, is_self_adjoint=None, is_positive_definite=None, is_square=is_square)
        if is_square:
            hints["is_non_singular"] = _hint_non_singular(left, right)
        elif is_square is False:
            hints.update(is_non_singular=False, is_self_adjoint=False, is_positive_definite=False)
        return hints

    def __matmul__(self, other):
        return self.matmul(other)

    def _matvec(self, x, adjoint: bool = False):
        y = self.matmul(_array.expand_dims(x, axis=-1), adjoint=adjoint)
        return _array.squeeze(y, axis=-1)

    def matvec(self, x, adjoint: bool = False, name: str = "matvec"):
        with self._name_scope(name):
            x = convert_to_tensor(x, name="x")
            self._check_input_dtype(x)
            _dim_at(self.shape, -2 if adjoint else -1).assert_is_compatible_with(_dim_at(x.shape, -1))
            return self._matvec(x, adjoint=adjoint)

    # --- determinants ---------------------------------------------------------------------------
    def _determinant(self):
        _warn_dense("determinant")
        if self._can_use_cholesky():
            return _math.exp(self.log_abs_determinant())
        return _linalg.matrix_determinant(self.to_dense())

    def determinant(self, name: str = "det"):
        if self.is_square is False:
            raise NotImplementedError("Determinant not implemented for an operator that is expected to not be square.")
        with self._name_scope(name):
            return self._determinant()

    def _log_abs_determinant(self):
        _warn_dense("determinant")
        if self._can_use_cholesky():
            diag = _linalg.matrix_diag_part(_linalg.cholesky(self.to_dense()))
            return 2 * _reduce.reduce_sum(_math.log(diag), axis=[-1])
        from graphcompat.ops.linalg_extra_ops import slogdet
        _, log_abs_det = slogdet(self.to_dense())
        return log_abs_det

    def log_abs_determinant(self, name: str = "log_abs_det"):
        if self.is_square is False:
            raise NotImplementedError("Determinant not implemented for an operator that is expected to not be square.")
        with self._name_scope(name):
            return self._log_abs_determinant()

    # --- solve / solvevec -----------------------------------------------------------------------
    def _dense_solve(self, rhs, adjoint: bool = False, adjoint_arg: bool = False):
        if self.is_square is False:
            raise NotImplementedError("Solve is not yet implemented for non-square operators.")
        rhs = _adjoint(rhs) if adjoint_arg else rhs
        if self._can_use_cholesky():
            return cholesky_solve(_linalg.cholesky(self.to_dense()), rhs)
        return _matrix_solve_with_broadcast(self.to_dense(), rhs, adjoint=adjoint)

    def _solve(self, rhs, adjoint: bool = False, adjoint_arg: bool = False):
        _warn_dense("solve")
        return self._dense_solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _check_solvable(self) -> None:
        if self.is_non_singular is False:
            raise NotImplementedError("Exact solve not implemented for an operator that is expected to be singular.")
        if self.is_square is False:
            raise NotImplementedError("Exact solve not implemented for an operator that is expected to not be square.")

    def solve(self, rhs, adjoint: bool = False, adjoint_arg: bool = False, name: str = "solve"):
        """`X` with `op(A) X = op(rhs)`; `rhs` a Tensor or a LinearOperator (then an operator comes back)."""
        self._check_solvable()
        if isinstance(rhs, LinearOperator):
            left, right = self._operator_operands(rhs, adjoint, adjoint_arg, "rhs")
            with self._name_scope(name):
                return self._linop_solve(left, right)
        with self._name_scope(name):
            rhs = convert_to_tensor(rhs, name="rhs")
            self._check_input_dtype(rhs)
            _dim_at(self.shape, -1 if adjoint else -2).assert_is_compatible_with(
                _dim_at(rhs.shape, -1 if adjoint_arg else -2))
            return self._solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _linop_solve(self, left: "LinearOperator", right: "LinearOperator") -> "LinearOperator":
        if isinstance(right, LinearOperatorIdentity):
            return left.inverse()
        return LinearOperatorComposition([LinearOperatorInversion(left), right], **self._product_hints(left, right))

    def _solvevec(self, rhs, adjoint: bool = False):
        solution = self.solve(_array.expand_dims(rhs, axis=-1), adjoint=adjoint)
        return _array.squeeze(solution, axis=-1)

    def solvevec(self, rhs, adjoint: bool = False, name: str = "solve"):
        with self._name_scope(name):
            rhs = convert_to_tensor(rhs, name="rhs")
            self._check_input_dtype(rhs)
            _dim_at(self.shape, -1 if adjoint else -2).assert_is_compatible_with(_dim_at(rhs.shape, -1))
            return self._solvevec(rhs, adjoint=adjoint)

    # --- derived operators ----------------------------------------------------------------------
    def adjoint(self, name: str = "adjoint") -> "LinearOperator":
        if self.is_self_adjoint is True:
            return self
        with self._name_scope(name):
            return self._linop_adjoint()

    H = property(adjoint, None)

    def _linop_adjoint(self) -> "LinearOperator":
        return LinearOperatorAdjoint(self, is_non_singular=self.is_non_singular, is_self_adjoint=self.is_self_adjoint,
                                     is_positive_definite=self.is_positive_definite, is_square=self.is_square)

    def inverse(self, name: str = "inverse") -> "LinearOperator":
        if self.is_square is False:
            raise ValueError("Cannot take the Inverse: This operator represents a non square matrix.")
        if self.is_non_singular is False:
            raise ValueError("Cannot take the Inverse: This operator represents a singular matrix.")
        with self._name_scope(name):
            return self._linop_inverse()

    def _linop_inverse(self) -> "LinearOperator":
        return LinearOperatorInversion(self, is_non_singular=self.is_non_singular, is_self_adjoint=self.is_self_adjoint,
                                       is_positive_definite=self.is_positive_definite, is_square=self.is_square)

    def cholesky(self, name: str = "cholesky") -> "LinearOperator":
        if not self._can_use_cholesky():
            raise ValueError("Cannot take the Cholesky decomposition: Not a positive definite self adjoint matrix.")
        with self._name_scope(name):
            return self._linop_cholesky()

    def _linop_cholesky(self) -> "LinearOperator":
        return LinearOperatorLowerTriangular(_linalg.cholesky(self.to_dense()), is_non_singular=True,
                                             is_self_adjoint=False, is_square=True)

    # --- dense views ----------------------------------------------------------------------------
    def _to_dense(self):
        batch_shape = self.batch_shape if self.batch_shape.is_fully_defined() else self.batch_shape_tensor()
        n = _ts.dimension_value(self.domain_dimension)
        n = n if n is not None else self.domain_dimension_tensor()
        return self.matmul(_linalg.eye(num_rows=n, batch_shape=batch_shape, dtype=self.dtype))

    def to_dense(self, name: str = "to_dense"):
        with self._name_scope(name):
            return self._to_dense()

    def _diag_part(self):
        return _linalg.matrix_diag_part(self.to_dense())

    def diag_part(self, name: str = "diag_part"):
        with self._name_scope(name):
            return self._diag_part()

    def _trace(self):
        return _reduce.reduce_sum(self.diag_part(), axis=-1)

    def trace(self, name: str = "trace"):
        with self._name_scope(name):
            return self._trace()

    def _add_to_tensor(self, x):
        return self.to_dense() + x

    def add_to_tensor(self, x, name: str = "add_to_tensor"):
        with self._name_scope(name):
            x = convert_to_tensor(x, name="x")
            self._check_input_dtype(x)
            return self._add_to_tensor(x)

    def _eigvals(self):
        return eigvalsh(self.to_dense())

    def eigvals(self, name: str = "eigvals"):
        if not self.is_self_adjoint:
            raise NotImplementedError("Only self-adjoint matrices are supported.")
        with self._name_scope(name):
            return self._eigvals()

    def _cond(self):
        vals = svd(self.to_dense(), compute_uv=False) if not self.is_self_adjoint else _math.abs(self._eigvals())
        return _reduce.reduce_max(vals, axis=-1) / _reduce.reduce_min(vals, axis=-1)

    def cond(self, name: str = "cond"):
        with self._name_scope(name):
            return self._cond()

    def _can_use_cholesky(self) -> bool:
        return bool(self.is_self_adjoint and self.is_positive_definite)

    def __getitem__(self, slices):
        raise NotImplementedError("tf.linalg.LinearOperator.__getitem__ (batch slicing of an operator) is not "
                                  "supported by graphcompat")


# ------------------------------------------------------------------------------------------------
# Dense and triangular
# ------------------------------------------------------------------------------------------------
class LinearOperatorFullMatrix(LinearOperator):
    """`tf.linalg.LinearOperatorFullMatrix`: a dense (batch) matrix."""

    def __init__(self, matrix, is_non_singular: Optional[bool] = None, is_self_adjoint: Optional[bool] = None,
                 is_positive_definite: Optional[bool] = None, is_square: Optional[bool] = None,
                 name: str = "LinearOperatorFullMatrix"):
        parameters = dict(matrix=matrix, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                          is_positive_definite=is_positive_definite, is_square=is_square, name=name)
        with _ops.name_scope(name, values=[matrix]):
            self._matrix = _to_tensor_keep_ref(matrix, name="matrix")
            if self._matrix.dtype.base_dtype not in _MATRIX_DTYPES:
                raise TypeError(f"Argument `matrix` must have dtype in {_MATRIX_DTYPES}. "
                                f"Received: {self._matrix.dtype.base_dtype}.")
            if self._matrix.shape.ndims is not None and self._matrix.shape.ndims < 2:
                raise ValueError(f"Argument `matrix` must have at least 2 dimensions. Received: {self._matrix}.")
            super().__init__(dtype=self._matrix.dtype, is_non_singular=is_non_singular,
                             is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                             is_square=is_square, parameters=parameters, name=name)

    @property
    def matrix(self):
        return self._matrix

    def _shape(self):
        return self._matrix.shape

    def _shape_tensor(self):
        return _array.shape(self._matrix)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return _linalg.matmul(self._matrix, x, adjoint_a=adjoint, adjoint_b=adjoint_arg)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._dense_solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)  # dense is its structure

    def _to_dense(self):
        return convert_to_tensor(self._matrix)


class LinearOperatorLowerTriangular(LinearOperator):
    """`tf.linalg.LinearOperatorLowerTriangular`: the lower triangle of `tril` (the rest is ignored)."""

    def __init__(self, tril, is_non_singular: Optional[bool] = None, is_self_adjoint: Optional[bool] = None,
                 is_positive_definite: Optional[bool] = None, is_square: Optional[bool] = None,
                 name: str = "LinearOperatorLowerTriangular"):
        parameters = dict(tril=tril, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                          is_positive_definite=is_positive_definite, is_square=is_square, name=name)
        if is_square is False:
            raise ValueError("Only square lower triangular operators supported at this time.")
        is_square = True
        with _ops.name_scope(name, values=[tril]):
            self._tril = _to_tensor_keep_ref(tril, name="tril")
            if self._tril.shape.ndims is not None and self._tril.shape.ndims < 2:
                raise ValueError(f"Argument tril must have at least 2 dimensions.  Found: {self._tril}")
            super().__init__(dtype=self._tril.dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=is_square,
                             parameters=parameters, name=name)

    @property
    def tril(self):
        return self._tril

    def _get_tril(self):
        return band_part(self._tril, -1, 0)

    def _get_diag(self):
        return _linalg.matrix_diag_part(self._tril)

    def _shape(self):
        return self._tril.shape

    def _shape_tensor(self):
        return _array.shape(self._tril)

    def _assert_non_singular(self):
        return _assert_no_entries_with_modulus_zero(self._get_diag(),
                                                    message="Singular operator:  Diagonal contained zero values.")

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return _linalg.matmul(self._get_tril(), x, adjoint_a=adjoint, adjoint_b=adjoint_arg)

    def _linop_matmul(self, left, right):
        if isinstance(right, LinearOperatorDiag):
            return LinearOperatorLowerTriangular(
                tril=left.to_dense() * right.diag, is_non_singular=_hint_non_singular(right, left),
                is_self_adjoint=_hint_commuting_self_adjoint(right, left), is_positive_definite=None, is_square=True)
        return super()._linop_matmul(left, right)

    def _determinant(self):
        return _reduce.reduce_prod(self._get_diag(), axis=[-1])

    def _log_abs_determinant(self):
        return _reduce.reduce_sum(_math.log(_math.abs(self._get_diag())), axis=[-1])

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = _adjoint(rhs) if adjoint_arg else rhs
        return triangular_solve(self._get_tril(), rhs, lower=True, adjoint=adjoint)

    def _to_dense(self):
        return self._get_tril()

    def _eigvals(self):
        return self._get_diag()


# ------------------------------------------------------------------------------------------------
# Diagonal, identity, scaled identity, zeros
# ------------------------------------------------------------------------------------------------
class LinearOperatorDiag(LinearOperator):
    """`tf.linalg.LinearOperatorDiag`: a (batch) diagonal matrix given by its diagonal `[..., N]`."""

    def __init__(self, diag, is_non_singular: Optional[bool] = None, is_self_adjoint: Optional[bool] = None,
                 is_positive_definite: Optional[bool] = None, is_square: Optional[bool] = None,
                 name: str = "LinearOperatorDiag"):
        parameters = dict(diag=diag, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                          is_positive_definite=is_positive_definite, is_square=is_square, name=name)
        with _ops.name_scope(name, values=[diag]):
            self._diag = _to_tensor_keep_ref(diag, name="diag")
            if self._diag.shape.ndims is not None and self._diag.shape.ndims < 1:
                raise ValueError(f"Argument diag must have at least 1 dimension.  Found: {self._diag}")
            if not self._diag.dtype.is_complex:
                if is_self_adjoint is False:
                    raise ValueError("A real diagonal operator is always self adjoint.")
                is_self_adjoint = True
            if is_square is False:
                raise ValueError("Only square diagonal operators currently supported.")
            super().__init__(dtype=self._diag.dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=True,
                             parameters=parameters, name=name)

    @property
    def diag(self):
        return self._diag

    def _shape(self):
        shape = self._diag.shape
        return shape.concatenate(shape[-1:])

    def _shape_tensor(self):
        shape = _array.shape(self._diag)
        return _array.concat((shape, [shape[-1]]), 0)

    def _hints_with(self, left, right) -> dict:
        return dict(is_non_singular=_hint_non_singular(left, right),
                    is_self_adjoint=_hint_commuting_self_adjoint(left, right),
                    is_positive_definite=_hint_commuting_positive_definite(left, right), is_square=True)

    def _linop_inverse(self):
        return LinearOperatorDiag(1.0 / self.diag, is_non_singular=self.is_non_singular,
                                  is_self_adjoint=self.is_self_adjoint,
                                  is_positive_definite=self.is_positive_definite, is_square=True)

    def _linop_matmul(self, left, right):
        hints = self._hints_with(left, right)
        if isinstance(right, LinearOperatorDiag):
            return LinearOperatorDiag(diag=left.diag * right.diag, **hints)
        if isinstance(right, LinearOperatorScaledIdentity):
            return LinearOperatorDiag(diag=left.diag * right.multiplier, **hints)
        if isinstance(right, LinearOperatorLowerTriangular):
            return LinearOperatorLowerTriangular(tril=left.diag[..., None] * right.to_dense(),
                                                 **dict(hints, is_positive_definite=None))
        return super()._linop_matmul(left, right)

    def _linop_solve(self, left, right):
        hints = self._hints_with(left, right)
        if isinstance(right, LinearOperatorDiag):
            return LinearOperatorDiag(diag=right.diag / left.diag, **hints)
        if isinstance(right, LinearOperatorScaledIdentity):
            return LinearOperatorDiag(diag=right.multiplier / left.diag, **hints)
        if isinstance(right, LinearOperatorLowerTriangular):
            return LinearOperatorLowerTriangular(tril=right.to_dense() / left.diag[..., None],
                                                 **dict(hints, is_positive_definite=None))
        return super()._linop_solve(left, right)

    def _assert_non_singular(self):
        return _assert_no_entries_with_modulus_zero(self._diag,
                                                    message="Singular operator:  Diagonal contained zero values.")

    def _assert_positive_definite(self):
        if self.dtype.is_complex:
            message = ("Diagonal operator had diagonal entries with non-positive real part, thus was not positive "
                       "definite.")
        else:
            message = "Real diagonal operator had non-positive diagonal entries, thus was not positive definite."
        return _check.assert_positive(_math.real(self._diag), message=message)

    def _assert_self_adjoint(self):
        return _assert_zero_imag_part(self._diag, message="This diagonal operator contained non-zero imaginary "
                                                          "values.   Thus it was not self-adjoint.")

    def _linop_adjoint(self):
        diag = _math.conj(self.diag) if self.diag.dtype.is_complex else self.diag
        return LinearOperatorDiag(diag=diag, is_non_singular=self.is_non_singular, is_self_adjoint=self.is_self_adjoint,
                                  is_positive_definite=self.is_positive_definite, is_square=True)

    def _linop_cholesky(self):
        return LinearOperatorDiag(_math.sqrt(self.diag), is_non_singular=True, is_self_adjoint=True,
                                  is_positive_definite=True, is_square=True)

    def _diag_term(self, adjoint: bool):
        return _math.conj(self._diag) if adjoint else self._diag

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = _adjoint(x) if adjoint_arg else x
        return _array.expand_dims(self._diag_term(adjoint), -1) * x

    def _matvec(self, x, adjoint=False):
        return self._diag_term(adjoint) * x

    def _determinant(self):
        return _reduce.reduce_prod(self._diag, axis=[-1])

    def _log_abs_determinant(self):
        log_det = _reduce.reduce_sum(_math.log(_math.abs(self._diag)), axis=[-1])
        return _math.cast(log_det, dtype=self.dtype) if self.dtype.is_complex else log_det

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = _adjoint(rhs) if adjoint_arg else rhs
        return rhs * _array.expand_dims(1.0 / self._diag_term(adjoint), -1)

    def _to_dense(self):
        return _linalg.matrix_diag(self._diag)

    def _diag_part(self):
        return self.diag

    def _add_to_tensor(self, x):
        return _linalg.matrix_set_diag(x, self._diag + _linalg.matrix_diag_part(x))

    def _eigvals(self):
        return convert_to_tensor(self.diag)

    def _cond(self):
        abs_diag = _math.abs(self.diag)
        return _reduce.reduce_max(abs_diag, axis=-1) / _reduce.reduce_min(abs_diag, axis=-1)


class _ShapeArgs:
    """The integer shape arguments Identity, ScaledIdentity and Zeros take (num_rows, batch_shape …):
    kept as int32/int64 tensors plus their static values, checked with TF's texts."""

    @staticmethod
    def scalar(operator, value, arg: str):
        _assert_not_ref(value, arg)
        tensor = _shape_tensor(value, name=arg)
        static = constant_value(tensor)
        if operator._assert_proper_shapes:
            tensor = _control.with_dependencies(
                [_check.assert_rank(tensor, 0, message=f"Argument {arg} must be a 0-D Tensor."),
                 _check.assert_non_negative(tensor, message=f"Argument {arg} must be non-negative.")], tensor)
        if not tensor.dtype.is_integer:
            raise TypeError(f"Argument {arg} must be integer type.  Found: {tensor}")
        if static is not None:
            if np.ndim(static) != 0:
                raise ValueError(f"Argument {arg} must be a 0-D Tensor.  Found: {static}")
            if static < 0:
                raise ValueError(f"Argument {arg} must be non-negative.  Found: {static}")
        return tensor, static

    @staticmethod
    def batch(operator, value):
        if value is None:
            return None, None
        _assert_not_ref(value, "batch_shape")
        tensor = _shape_tensor(value, name="batch_shape_arg")
        static = constant_value(tensor)
        if operator._assert_proper_shapes:
            tensor = _control.with_dependencies(
                [_check.assert_rank(tensor, 1, message="Argument batch_shape must be a 1-D Tensor."),
                 _check.assert_non_negative(tensor, message="Argument batch_shape must be non-negative.")], tensor)
        if not tensor.dtype.is_integer:
            raise TypeError(f"Argument batch_shape must be integer type.  Found: {tensor}")
        if static is not None:
            if np.ndim(static) != 1:
                raise ValueError(f"Argument batch_shape must be a 1-D Tensor.  Found: {static}")
            if np.any(static < 0):
                raise ValueError(f"Argument batch_shape must be non-negative.  Found:{static}")
        return tensor, static


def _static_dims(static) -> Optional[list]:
    return None if static is None else [int(d) for d in np.reshape(static, [-1])]


class _BatchOfConstantOperator(LinearOperator):
    """What Identity and Zeros share: a `batch_shape` argument that broadcasts what they return, and a
    diagonal of one constant over the smaller of the two matrix dimensions."""

    def _batch_static_shape(self) -> _ts.TensorShape:
        # a batch_shape known only at run time leaves even the rank unknown, as in TF
        if self._batch_shape_static is None:
            return _ts.unknown_shape()
        return _ts.TensorShape(_static_dims(self._batch_shape_static))

    def _possibly_broadcast_batch_shape(self, x):
        """Adds zeros of shape `batch_shape + [1, 1]` so the result has the operator's batch shape too."""
        if self._batch_shape_arg is None:
            return x
        special_shape = self.batch_shape.concatenate([1, 1])
        if special_shape.is_fully_defined():
            if broadcast_static_shape(x.shape, special_shape) == x.shape:
                return x
            return x + _array.zeros(shape=special_shape.as_list(), dtype=self.dtype)
        special_shape = _array.concat((self.batch_shape_tensor(), [1, 1]), 0)
        return x + _array.zeros(shape=special_shape, dtype=self.dtype)

    def _min_matrix_dim(self) -> Optional[int]:
        domain, rng = _ts.dimension_value(self.domain_dimension), _ts.dimension_value(self.range_dimension)
        return None if domain is None or rng is None else min(domain, rng)

    def _min_matrix_dim_tensor(self):
        return _reduce.reduce_min(self.shape_tensor()[-2:])

    def _constant_diag(self, fill):
        if self.shape.is_fully_defined():
            d_shape = self.batch_shape.concatenate([self._min_matrix_dim()]).as_list()
        else:
            d_shape = _array.concat([self.batch_shape_tensor(), [self._min_matrix_dim_tensor()]], axis=0)
        return fill(shape=d_shape, dtype=self.dtype)

    def _batch_of(self, fill):
        shape = self.batch_shape.as_list() if self.batch_shape.is_fully_defined() else self.batch_shape_tensor()
        return fill(shape=shape, dtype=self.dtype)

    def _assert_compatible(self, x):
        assertion = _check.assert_equal(
            _array.shape(x)[-2], self.domain_dimension_tensor(),
            message="Dimensions are not compatible.  shape[-2] of argument to be the same as this operator")
        return _control.with_dependencies([assertion], x)


class LinearOperatorIdentity(_BatchOfConstantOperator):
    """`tf.linalg.LinearOperatorIdentity`: `I` of size num_rows, optionally batched."""

    def __init__(self, num_rows, batch_shape=None, dtype=None, is_non_singular: bool = True,
                 is_self_adjoint: bool = True, is_positive_definite: bool = True, is_square: bool = True,
                 assert_proper_shapes: bool = False, name: str = "LinearOperatorIdentity"):
        parameters = dict(num_rows=num_rows, batch_shape=batch_shape, dtype=dtype, is_non_singular=is_non_singular,
                          is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                          is_square=is_square, assert_proper_shapes=assert_proper_shapes, name=name)
        dtype = dtype or _dt.float32
        self._assert_proper_shapes = assert_proper_shapes
        with _ops.name_scope(name):
            dtype = _dt.as_dtype(dtype)
            if not is_self_adjoint:
                raise ValueError("An identity operator is always self adjoint.")
            if not is_non_singular:
                raise ValueError("An identity operator is always non-singular.")
            if not is_positive_definite:
                raise ValueError("An identity operator is always positive-definite.")
            if not is_square:
                raise ValueError("An identity operator is always square.")
            super().__init__(dtype=dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=is_square,
                             parameters=parameters, name=name)
            _assert_not_ref(num_rows, "num_rows")
            _assert_not_ref(batch_shape, "batch_shape")
            self._num_rows, self._num_rows_static = _ShapeArgs.scalar(self, num_rows, "num_rows")
            self._batch_shape_arg, self._batch_shape_static = _ShapeArgs.batch(self, batch_shape)

    def _shape(self):
        n = None if self._num_rows_static is None else int(self._num_rows_static)
        matrix_shape = _ts.TensorShape([n, n])
        if self._batch_shape_arg is None:
            return matrix_shape
        return self._batch_static_shape().concatenate(matrix_shape)

    def _shape_tensor(self):
        matrix_shape = _array.stack((self._num_rows, self._num_rows), axis=0)
        if self._batch_shape_arg is None:
            return matrix_shape
        return _array.concat((self._batch_shape_arg, matrix_shape), 0)

    def _linop_adjoint(self):
        return self

    def _linop_cholesky(self):
        return LinearOperatorIdentity(num_rows=self._num_rows, batch_shape=self.batch_shape, dtype=self.dtype)

    def _linop_inverse(self):
        return self

    def _linop_matmul(self, left, right):
        return right

    def _linop_solve(self, left, right):
        return right

    def _assert_non_singular(self):
        return _control.no_op("assert_non_singular")

    def _assert_positive_definite(self):
        return _control.no_op("assert_positive_definite")

    def _assert_self_adjoint(self):
        return _control.no_op("assert_self_adjoint")

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = _adjoint(x) if adjoint_arg else x
        if self._assert_proper_shapes:
            x = self._assert_compatible(x)
        return self._possibly_broadcast_batch_shape(x)

    def _determinant(self):
        return _array.ones(shape=self.batch_shape_tensor(), dtype=self.dtype)

    def _log_abs_determinant(self):
        return _array.zeros(shape=self.batch_shape_tensor(), dtype=self.dtype)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._matmul(rhs, adjoint_arg=adjoint_arg)

    def _trace(self):
        ones = self._batch_of(_array.ones)
        n = self._min_matrix_dim()
        return (n if n is not None else _math.cast(self._min_matrix_dim_tensor(), self.dtype)) * ones

    def _diag_part(self):
        return self._constant_diag(_array.ones)

    def add_to_tensor(self, mat, name: str = "add_to_tensor"):
        with self._name_scope(name):
            mat = convert_to_tensor(mat, name="mat")
            return _linalg.matrix_set_diag(mat, 1 + _linalg.matrix_diag_part(mat))

    def _eigvals(self):
        return self._constant_diag(_array.ones)

    def _cond(self):
        return _array.ones(self.batch_shape_tensor(), dtype=self.dtype)


class LinearOperatorScaledIdentity(_BatchOfConstantOperator):
    """`tf.linalg.LinearOperatorScaledIdentity`: `multiplier * I`, batched by the multiplier's shape."""

    def __init__(self, num_rows, multiplier, is_non_singular: Optional[bool] = None,
                 is_self_adjoint: Optional[bool] = None, is_positive_definite: Optional[bool] = None,
                 is_square: bool = True, assert_proper_shapes: bool = False,
                 name: str = "LinearOperatorScaledIdentity"):
        parameters = dict(num_rows=num_rows, multiplier=multiplier, is_non_singular=is_non_singular,
                          is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                          is_square=is_square, assert_proper_shapes=assert_proper_shapes, name=name)
        self._assert_proper_shapes = assert_proper_shapes
        self._batch_shape_arg = None
        with _ops.name_scope(name, values=[multiplier, num_rows]):
            self._multiplier = _to_tensor_keep_ref(multiplier, name="multiplier")
            if not self._multiplier.dtype.is_complex:
                if is_self_adjoint is False:
                    raise ValueError("A real diagonal operator is always self adjoint.")
                is_self_adjoint = True
            if not is_square:
                raise ValueError("A ScaledIdentity operator is always square.")
            _assert_not_ref(num_rows, "num_rows")
            super().__init__(dtype=self._multiplier.dtype.base_dtype, is_non_singular=is_non_singular,
                             is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                             is_square=is_square, parameters=parameters, name=name)
            self._num_rows, self._num_rows_static = _ShapeArgs.scalar(self, num_rows, "num_rows")
            self._num_rows_cast_to_dtype = _math.cast(self._num_rows, self.dtype)
            self._num_rows_cast_to_real_dtype = _math.cast(self._num_rows, self.dtype.real_dtype)

    @property
    def multiplier(self):
        return self._multiplier

    def _shape(self):
        n = None if self._num_rows_static is None else int(self._num_rows_static)
        return self._multiplier.shape.concatenate([n, n])

    def _shape_tensor(self):
        matrix_shape = _array.stack((self._num_rows, self._num_rows), axis=0)
        return _array.concat((_array.shape(self._multiplier), matrix_shape), 0)

    def _assert_non_singular(self):
        return _check.assert_positive(_math.abs(self.multiplier), message="LinearOperator was singular")

    def _assert_positive_definite(self):
        return _check.assert_positive(_math.real(self.multiplier), message="LinearOperator was not positive definite.")

    def _assert_self_adjoint(self):
        imag = _math.imag(self.multiplier)
        return _check.assert_equal(_array.zeros_like(imag), imag, message="LinearOperator was not self-adjoint")

    def _multiplier_matrix(self, conjugate: bool = False):
        m = _array.expand_dims(_array.expand_dims(self.multiplier, -1), -1)
        return _math.conj(m) if conjugate else m

    def _scaled(self, multiplier, **hints):
        return LinearOperatorScaledIdentity(num_rows=self._num_rows, multiplier=multiplier, is_square=True, **hints)

    def _linop_adjoint(self):
        m = _math.conj(self.multiplier) if self.multiplier.dtype.is_complex else self.multiplier
        return self._scaled(m, is_non_singular=self.is_non_singular, is_self_adjoint=self.is_self_adjoint,
                            is_positive_definite=self.is_positive_definite)

    def _linop_cholesky(self):
        return self._scaled(_math.sqrt(self.multiplier), is_non_singular=True, is_self_adjoint=True,
                            is_positive_definite=True)

    def _linop_inverse(self):
        return self._scaled(1.0 / self.multiplier, is_non_singular=self.is_non_singular, is_self_adjoint=True,
                            is_positive_definite=self.is_positive_definite)

    def _linop_matmul(self, left, right):
        hints = dict(is_non_singular=_hint_non_singular(left, right),
                     is_self_adjoint=_hint_commuting_self_adjoint(left, right),
                     is_positive_definite=_hint_commuting_positive_definite(left, right), is_square=True)
        if isinstance(right, LinearOperatorScaledIdentity):
            return LinearOperatorScaledIdentity(num_rows=left.domain_dimension_tensor(),
                                                multiplier=left.multiplier * right.multiplier, **hints)
        if isinstance(right, LinearOperatorDiag):
            return LinearOperatorDiag(diag=right.diag * left.multiplier, **hints)
        return super()._linop_matmul(left, right)

    def _linop_solve(self, left, right):
        hints = dict(is_non_singular=_hint_non_singular(left, right),
                     is_self_adjoint=_hint_commuting_self_adjoint(left, right),
                     is_positive_definite=_hint_commuting_positive_definite(left, right), is_square=True)
        if isinstance(right, LinearOperatorScaledIdentity):
            return LinearOperatorScaledIdentity(num_rows=left.domain_dimension_tensor(),
                                                multiplier=right.multiplier / left.multiplier, **hints)
        if isinstance(right, LinearOperatorDiag):
            return LinearOperatorDiag(diag=right.diag / left.multiplier, **hints)
        return super()._linop_solve(left, right)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = _adjoint(x) if adjoint_arg else x
        if self._assert_proper_shapes:
            x = self._assert_compatible(x)
        return x * self._multiplier_matrix(conjugate=adjoint)

    def _determinant(self):
        return self.multiplier ** self._num_rows_cast_to_dtype

    def _log_abs_determinant(self):
        return self._num_rows_cast_to_real_dtype * _math.log(_math.abs(self.multiplier))

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = _adjoint(rhs) if adjoint_arg else rhs
        if self._assert_proper_shapes:
            rhs = self._assert_compatible(rhs)
        return rhs / self._multiplier_matrix(conjugate=adjoint)

    def _trace(self):
        ones = self._batch_of(_array.ones)
        n = self._min_matrix_dim()
        n = n if n is not None else _math.cast(self._min_matrix_dim_tensor(), self.dtype)
        return self.multiplier * n * ones

    def _diag_part(self):
        return self._constant_diag(_array.ones) * self.multiplier[..., None]

    def add_to_tensor(self, mat, name: str = "add_to_tensor"):
        with self._name_scope(name):
            multiplier_vector = _array.expand_dims(self.multiplier, -1)
            mat = convert_to_tensor(mat, name="mat")
            return _linalg.matrix_set_diag(mat, multiplier_vector + _linalg.matrix_diag_part(mat))

    def _eigvals(self):
        return self._constant_diag(_array.ones) * self.multiplier[..., None]

    def _cond(self):
        from graphcompat.ops.data_dependent_ops import where_v2
        return where_v2(_math.equal(self._multiplier, 0.0), _math.cast(np.nan, dtype=self.dtype),
                        _math.cast(1.0, dtype=self.dtype))


class LinearOperatorZeros(_BatchOfConstantOperator):
    """`tf.linalg.LinearOperatorZeros`: the zero matrix `[num_rows, num_columns]`, optionally batched."""

    def __init__(self, num_rows, num_columns=None, batch_shape=None, dtype=None, is_non_singular: bool = False,
                 is_self_adjoint: bool = True, is_positive_definite: bool = False, is_square: bool = True,
                 assert_proper_shapes: bool = False, name: str = "LinearOperatorZeros"):
        parameters = dict(num_rows=num_rows, num_columns=num_columns, batch_shape=batch_shape, dtype=dtype,
                          is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                          is_positive_definite=is_positive_definite, is_square=is_square,
                          assert_proper_shapes=assert_proper_shapes, name=name)
        dtype = dtype or _dt.float32
        self._assert_proper_shapes = assert_proper_shapes
        with _ops.name_scope(name):
            dtype = _dt.as_dtype(dtype)
            if not is_self_adjoint and is_square:
                raise ValueError("A zero operator is always self adjoint.")
            if is_non_singular:
                raise ValueError("A zero operator is always singular.")
            if is_positive_definite:
                raise ValueError("A zero operator is always not positive-definite.")
            super().__init__(dtype=dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=is_square,
                             parameters=parameters, name=name)
            _assert_not_ref(num_rows, "num_rows")
            _assert_not_ref(num_columns, "num_columns")
            _assert_not_ref(batch_shape, "batch_shape")
            self._num_rows, self._num_rows_static = _ShapeArgs.scalar(self, num_rows, "num_rows")
            num_columns = num_rows if num_columns is None else num_columns
            self._num_columns, self._num_columns_static = _ShapeArgs.scalar(self, num_columns, "num_columns")
            if self._num_rows_static is not None and self._num_columns_static is not None and is_square and \
                    self._num_rows_static != self._num_columns_static:
                raise ValueError(f"LinearOperatorZeros initialized as is_square=True, but got "
                                 f"num_rows({self._num_rows_static}) != num_columns({self._num_columns_static})")
            self._batch_shape_arg, self._batch_shape_static = _ShapeArgs.batch(self, batch_shape)

    def _shape(self):
        rows = None if self._num_rows_static is None else int(self._num_rows_static)
        cols = None if self._num_columns_static is None else int(self._num_columns_static)
        matrix_shape = _ts.TensorShape([rows, cols])
        if self._batch_shape_arg is None:
            return matrix_shape
        return self._batch_static_shape().concatenate(matrix_shape)

    def _shape_tensor(self):
        matrix_shape = _array.stack((self._num_rows, self._num_columns), axis=0)
        if self._batch_shape_arg is None:
            return matrix_shape
        return _array.concat((self._batch_shape_arg, matrix_shape), 0)

    def _assert_non_singular(self):
        raise _errors.InvalidArgumentError(None, None, "Zero operators are always non-invertible.")

    def _assert_positive_definite(self):
        raise _errors.InvalidArgumentError(None, None, "Zero operators are always non-positive definite.")

    def _assert_self_adjoint(self):
        return _control.no_op("assert_self_adjoint")

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        if self._assert_proper_shapes:
            x = self._assert_compatible(_adjoint(x) if adjoint_arg else x)
        if self.is_square:
            if adjoint_arg:  # one Shape op per use, as TF's graph has them
                out_shape = _array.concat([_array.shape(x)[:-2], [_array.shape(x)[-1], _array.shape(x)[-2]]], axis=0)
            else:
                out_shape = _array.shape(x)
        else:
            x_shape = _array.shape(x)
            n = self._num_columns if adjoint else self._num_rows
            m = x_shape[-2] if adjoint_arg else x_shape[-1]
            out_shape = _array.concat([x_shape[:-2], [n, m]], axis=0)
        return self._possibly_broadcast_batch_shape(_array.zeros(shape=out_shape, dtype=x.dtype))

    def _linop_matmul(self, left, right):
        if not left.is_square or not right.is_square:
            raise ValueError("Matmul with non-square `LinearOperator`s or non-square `LinearOperatorZeros` not "
                             "supported at this time.")
        return left

    def _determinant(self):
        return self._batch_of(_array.zeros)

    def _trace(self):
        return self._batch_of(_array.zeros)

    def _diag_part(self):
        return self._constant_diag(_array.zeros)

    def add_to_tensor(self, mat, name: str = "add_to_tensor"):
        return self._possibly_broadcast_batch_shape(mat)

    def _eigvals(self):
        return self._constant_diag(_array.zeros)


# ------------------------------------------------------------------------------------------------
# Operators built from operators
# ------------------------------------------------------------------------------------------------
class LinearOperatorAdjoint(LinearOperator):
    """`tf.linalg.LinearOperatorAdjoint`: `A^H` of an operator, acting through it (no dense transpose)."""

    def __init__(self, operator: LinearOperator, is_non_singular: Optional[bool] = None,
                 is_self_adjoint: Optional[bool] = None, is_positive_definite: Optional[bool] = None,
                 is_square: Optional[bool] = None, name: Optional[str] = None):
        parameters = dict(operator=operator, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                          is_positive_definite=is_positive_definite, is_square=is_square, name=name)
        self._operator = operator
        is_square, is_non_singular, is_self_adjoint, is_positive_definite = _inherited_hints(
            operator, "its adjoint", is_square, is_non_singular, is_self_adjoint, is_positive_definite)
        name = operator.name + "_adjoint" if name is None else name
        with _ops.name_scope(name):
            super().__init__(dtype=operator.dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=is_square,
                             parameters=parameters, name=name)

    @property
    def operator(self) -> LinearOperator:
        return self._operator

    def _linop_adjoint(self):
        return self.operator

    def _assert_non_singular(self):
        return self.operator.assert_non_singular()

    def _assert_positive_definite(self):
        return self.operator.assert_positive_definite()

    def _assert_self_adjoint(self):
        return self.operator.assert_self_adjoint()

    def _shape(self):
        shape = self.operator.shape
        if shape.ndims is None:
            return shape
        return shape[:-2].concatenate([shape[-1], shape[-2]])

    def _shape_tensor(self):
        shape = self.operator.shape_tensor()
        return _array.concat([shape[:-2], [shape[-1], shape[-2]]], axis=-1)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self.operator.matmul(x, adjoint=not adjoint, adjoint_arg=adjoint_arg)

    def _matvec(self, x, adjoint=False):
        return self.operator.matvec(x, adjoint=not adjoint)

    def _determinant(self):
        det = self.operator.determinant()
        return det if self.is_self_adjoint else _math.conj(det)

    def _log_abs_determinant(self):
        return self.operator.log_abs_determinant()

    def _trace(self):
        trace = self.operator.trace()
        return trace if self.is_self_adjoint else _math.conj(trace)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self.operator.solve(rhs, adjoint=not adjoint, adjoint_arg=adjoint_arg)

    def _solvevec(self, rhs, adjoint=False):
        return self.operator.solvevec(rhs, adjoint=not adjoint)

    def _to_dense(self):
        dense = self.operator.to_dense()
        return dense if self.is_self_adjoint else _adjoint(dense)

    def _eigvals(self):
        eigvals = self.operator.eigvals()
        return eigvals if self.operator.is_self_adjoint else _math.conj(eigvals)

    def _cond(self):
        return self.operator.cond()


class LinearOperatorInversion(LinearOperator):
    """`tf.linalg.LinearOperatorInversion`: `A^{-1}`, whose matmul is A's solve and whose solve A's matmul."""

    def __init__(self, operator: LinearOperator, is_non_singular: Optional[bool] = None,
                 is_self_adjoint: Optional[bool] = None, is_positive_definite: Optional[bool] = None,
                 is_square: Optional[bool] = None, name: Optional[str] = None):
        parameters = dict(operator=operator, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                          is_positive_definite=is_positive_definite, is_square=is_square, name=name)
        self._operator = operator
        if operator.is_non_singular is False or is_non_singular is False:
            raise ValueError(f"Argument `is_non_singular` or argument `operator` must have supplied hint "
                             f"`is_non_singular` equal to `True` or `None`. Found `operator.is_non_singular`: "
                             f"{operator.is_non_singular}, `is_non_singular`: {is_non_singular}.")
        if operator.is_square is False or is_square is False:
            raise ValueError(f"Argument `is_square` or argument `operator` must have supplied hint `is_square` equal "
                             f"to `True` or `None`. Found `operator.is_square`: {operator.is_square}, `is_square`: "
                             f"{is_square}.")
        is_square, is_non_singular, is_self_adjoint, is_positive_definite = _inherited_hints(
            operator, "its inverse", is_square, is_non_singular, is_self_adjoint, is_positive_definite)
        name = operator.name + "_inv" if name is None else name
        with _ops.name_scope(name):
            super().__init__(dtype=operator.dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=is_square,
                             parameters=parameters, name=name)

    @property
    def operator(self) -> LinearOperator:
        return self._operator

    def _linop_inverse(self):
        return self.operator

    def _linop_solve(self, left, right):
        return left.operator.matmul(right)

    def _assert_non_singular(self):
        return self.operator.assert_non_singular()

    def _assert_positive_definite(self):
        return self.operator.assert_positive_definite()

    def _assert_self_adjoint(self):
        return self.operator.assert_self_adjoint()

    def _shape(self):
        return self.operator.shape

    def _shape_tensor(self):
        return self.operator.shape_tensor()

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self.operator.solve(x, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _determinant(self):
        return 1.0 / self.operator.determinant()

    def _log_abs_determinant(self):
        return -1.0 * self.operator.log_abs_determinant()

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self.operator.matmul(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _eigvals(self):
        return 1.0 / self.operator.eigvals()

    def _cond(self):
        return self.operator.cond()


class LinearOperatorComposition(LinearOperator):
    """`tf.linalg.LinearOperatorComposition`: `A1 A2 … An`, applied right to left."""

    def __init__(self, operators, is_non_singular: Optional[bool] = None, is_self_adjoint: Optional[bool] = None,
                 is_positive_definite: Optional[bool] = None, is_square: Optional[bool] = None,
                 name: Optional[str] = None):
        parameters = dict(operators=operators, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                          is_positive_definite=is_positive_definite, is_square=is_square, name=name)
        operators, dtype = _check_operator_list(
            operators, "Expected a non-empty list of operators. Found: {}",
            lambda names: "Expected all operators to have the same dtype.  Found " + "   ".join(names))
        self._operators = operators
        if all(o.is_non_singular for o in operators):
            if is_non_singular is False:
                raise ValueError("The composition of non-singular operators is always non-singular.")
            is_non_singular = True
        if (len(operators) == 1 and operators[0].is_self_adjoint) or _is_aat_form(operators):
            if is_self_adjoint is False:
                raise ValueError("The composition was determined to be self-adjoint but user provided incorrect "
                                 "`False` hint.")
            is_self_adjoint = True
        if _is_aat_form(operators):
            if is_square is False:
                raise ValueError("The composition was determined have the form A @ A.H, hence it must be square. "
                                 "The user provided an incorrect `False` hint.")
            is_square = True
            if is_non_singular:
                if is_positive_definite is False:
                    raise ValueError("The composition was determined to be non-singular and have the form A @ A.H, "
                                     "hence it must be positive-definite. The user provided an incorrect `False` "
                                     "hint.")
                is_positive_definite = True
        name = "_o_".join(o.name for o in operators) if name is None else name
        with _ops.name_scope(name):
            super().__init__(dtype=dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=is_square,
                             parameters=parameters, name=name)

    @property
    def operators(self) -> list:
        return self._operators

    def _shape(self):
        domain = self.operators[0].domain_dimension
        for operator in self.operators[1:]:
            domain.assert_is_compatible_with(operator.range_dimension)
            domain = operator.domain_dimension
        matrix_shape = _ts.TensorShape([self.operators[0].range_dimension, self.operators[-1].domain_dimension])
        return _broadcast_batch_shapes(self.operators).concatenate(matrix_shape)

    def _shape_tensor(self):
        if self.shape.is_fully_defined():
            return convert_to_tensor(self.shape.as_list(), dtype=_dt.int32, name="shape")
        matrix_shape = _array.stack([self.operators[0].range_dimension_tensor(),
                                     self.operators[-1].domain_dimension_tensor()])
        return _array.concat((_broadcast_batch_shape_tensors(self.operators), matrix_shape), 0)

    def _linop_cholesky(self):
        left = self.operators[0]
        # L L^H with L lower triangular: the factor is L itself, up to the signs of its diagonal
        if len(self.operators) == 2 and _is_aat_form(self.operators) and \
                isinstance(left, LinearOperatorLowerTriangular):
            if left.is_positive_definite:
                return left
            diag_sign = _array.expand_dims(_math.sign(left.diag_part()), axis=-2)
            return LinearOperatorLowerTriangular(tril=left.tril / diag_sign, is_non_singular=left.is_non_singular,
                                                 is_self_adjoint=left.is_self_adjoint,
                                                 is_positive_definite=True if left.is_positive_definite else None,
                                                 is_square=True)
        return super()._linop_cholesky()

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        order = self.operators if adjoint else list(reversed(self.operators))
        result = order[0].matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg)
        for operator in order[1:]:
            result = operator.matmul(result, adjoint=adjoint)
        return result

    def _determinant(self):
        result = self.operators[0].determinant()
        for operator in self.operators[1:]:
            result *= operator.determinant()
        return result

    def _log_abs_determinant(self):
        result = self.operators[0].log_abs_determinant()
        for operator in self.operators[1:]:
            result += operator.log_abs_determinant()
        return result

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        order = list(reversed(self.operators)) if adjoint else self.operators
        solution = order[0].solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)
        for operator in order[1:]:
            solution = operator.solve(solution, adjoint=adjoint)
        return solution

    def _assert_non_singular(self):
        if all(o.is_square for o in self.operators):
            return _control.group([o.assert_non_singular() for o in self.operators])
        return super()._assert_non_singular()


class LinearOperatorKronecker(LinearOperator):
    """`tf.linalg.LinearOperatorKronecker`: `A1 ⊗ A2 ⊗ … ⊗ An`, applied factor by factor (never dense)."""

    def __init__(self, operators, is_non_singular: Optional[bool] = None, is_self_adjoint: Optional[bool] = None,
                 is_positive_definite: Optional[bool] = None, is_square: Optional[bool] = None,
                 name: Optional[str] = None):
        parameters = dict(operators=operators, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                          is_positive_definite=is_positive_definite, is_square=is_square, name=name)
        operators, dtype = _check_operator_list(
            operators, "Argument `operators` must be a list of >=1 operators. Received: {}.",
            lambda names: f"Expected every operation in argument `operators` to have the same dtype. "
                          f"Received {names}.")
        self._operators = operators
        for attr, value, what in (("is_non_singular", is_non_singular, "non-singular"),
                                  ("is_self_adjoint", is_self_adjoint, "self-adjoint"),
                                  ("is_positive_definite", is_positive_definite, "positive-definite")):
            if all(getattr(o, attr) for o in operators):
                if value is False:
                    raise ValueError(f"The Kronecker product of {what} operators is always {what}. Expected argument "
                                     f"`{attr}` to be True. Received: {value}.")
        _init_from_blocks(self, super(), operators, dtype, is_non_singular, is_self_adjoint,
                          is_positive_definite, is_square, parameters, name, "_x_")

    @property
    def operators(self) -> list:
        return self._operators

    def _shape(self):
        domain = functools.reduce(lambda a, b: a * b, [o.domain_dimension for o in self.operators])
        rng = functools.reduce(lambda a, b: a * b, [o.range_dimension for o in self.operators])
        return _broadcast_batch_shapes(self.operators).concatenate(_ts.TensorShape([rng, domain]))

    def _shape_tensor(self):
        domain = self.operators[0].domain_dimension_tensor()
        for operator in self.operators[1:]:
            domain = domain * operator.domain_dimension_tensor()
        rng = self.operators[0].range_dimension_tensor()
        for operator in self.operators[1:]:
            rng = rng * operator.range_dimension_tensor()
        batch_shape = functools.reduce(broadcast_dynamic_shape, [o.batch_shape_tensor() for o in self.operators])
        return _array.concat((batch_shape, [rng, domain]), 0)

    def _factors(self, method: str, **hints):
        return LinearOperatorKronecker([getattr(o, method)() for o in self.operators], is_square=True, **hints)

    def _linop_adjoint(self):
        return self._factors("adjoint", is_non_singular=self.is_non_singular, is_self_adjoint=self.is_self_adjoint,
                             is_positive_definite=self.is_positive_definite)

    def _linop_cholesky(self):
        return self._factors("cholesky", is_non_singular=True, is_self_adjoint=None)

    def _linop_inverse(self):
        return self._factors("inverse", is_non_singular=self.is_non_singular, is_self_adjoint=self.is_self_adjoint,
                             is_positive_definite=self.is_positive_definite)

    def _apply_factorwise(self, x, apply, adjoint: bool, adjoint_arg: bool):
        """(A1 ⊗ … ⊗ An) X one factor at a time. X^T [..., M, N] is reshaped so the last factor's index is
        the trailing axis, that factor is applied to it, and the product (factor rows first) is handed to
        the next factor: each pass rotates the Kronecker index by one factor, so after n passes the rows
        come out in the Kronecker order."""
        output = (_math.conj(x) if self.dtype.is_complex else x) if adjoint_arg else _linalg.matrix_transpose(x)
        for operator in reversed(self.operators):
            dim = operator.range_dimension_tensor() if adjoint else operator.domain_dimension_tensor()
            dim_static = constant_value(dim)
            shape = _static_or_dynamic_shape(output)
            if isinstance(shape, _ts.TensorShape):  # static sizes as Python ints, as TF's shapes give them
                shape = [_ts.dimension_value(d) for d in shape]
            if dim_static is not None and output.shape[-2:].is_fully_defined():
                dim = int(dim_static)
                rows = int(output.shape[-2]) * int(output.shape[-1]) // dim
            else:
                rows = _math.cast(shape[-2] * shape[-1] // dim, dtype=_dt.int32)
            output = _array.reshape(output, _concat_shape(shape[:-2], [rows, dim]))
            if self.dtype.is_complex:
                output = _math.conj(output)
            output = apply(operator, output, adjoint)
        col_dim = _static_or_dynamic_shape(x)[-2 if adjoint_arg else -1]
        row_dim = self.domain_dimension_tensor() if adjoint else self.range_dimension_tensor()
        output = _array.reshape(output, _concat_shape(_static_or_dynamic_shape(output)[:-2], [row_dim, col_dim]))
        if x.shape.is_fully_defined():
            column = x.shape[-2 if adjoint_arg else -1]
            batch = broadcast_static_shape(x.shape[:-2], self.batch_shape)
            output.set_shape(batch.concatenate([self.domain_dimension if adjoint else self.range_dimension, column]))
        return output

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self._apply_factorwise(x, lambda o, y, adj: o.matmul(y, adjoint=adj, adjoint_arg=True),
                                      adjoint, adjoint_arg)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._apply_factorwise(rhs, lambda o, y, adj: o.solve(y, adjoint=adj, adjoint_arg=True),
                                      adjoint, adjoint_arg)

    def _determinant(self):
        # det(A ⊗ B) = det(A)^m det(B)^n for A n x n, B m x m
        total = self.domain_dimension_tensor()
        det = 1.0
        for operator in self.operators:
            det = det * operator.determinant() ** _math.cast(total / operator.domain_dimension_tensor(),
                                                             dtype=operator.dtype)
        return det

    def _log_abs_determinant(self):
        total = self.domain_dimension_tensor()
        log_abs_det = 0.0
        for operator in self.operators:
            log_abs_det += operator.log_abs_determinant() * _math.cast(total / operator.domain_dimension_tensor(),
                                                                       dtype=operator.dtype)
        return log_abs_det

    def _trace(self):
        trace = 1.0
        for operator in self.operators:
            trace = trace * operator.trace()
        return trace

    def _outer_flat(self, vectors, static_shape: _ts.TensorShape):
        """The Kronecker product of (batches of) vectors, each given by a function: outer products flattened."""
        product = vectors[0]()
        for v in vectors[1:]:
            product = product[..., :, None]
            product = product * v()[..., None, :]
            product = _array.reshape(product, _array.concat([_array.shape(product)[:-2], [-1]], axis=0))
        product.set_shape(static_shape)
        return product

    def _diag_part(self):
        diag_dim = self.domain_dimension if self.range_dimension > self.domain_dimension else self.range_dimension
        # each factor's diagonal is built just before it is used (TF's op order)
        return self._outer_flat([o.diag_part for o in self.operators], self.batch_shape.concatenate([diag_dim]))

    def _to_dense(self):
        product = self.operators[0].to_dense()
        for operator in self.operators[1:]:
            product = product[..., :, None, :, None] * operator.to_dense()[..., None, :, None, :]
            shape = _static_or_dynamic_shape(product)
            product = _array.reshape(product, _concat_shape(shape[:-4], [shape[-4] * shape[-3], shape[-2] * shape[-1]]))
        product.set_shape(self.shape)
        return product

    def _eigvals(self):
        eigvals = [o.eigvals() for o in self.operators]
        return self._outer_flat([lambda v=v: v for v in eigvals], self.shape[:-1])

    def _assert_factors(self, method: str):
        if all(o.is_square for o in self.operators):
            return _control.group([getattr(o, method)() for o in self.operators])
        raise _errors.InvalidArgumentError(
            None, None, "All Kronecker factors must be square for the product to be invertible. Expected hint "
                        "`is_square` to be True for every operator in argument `operators`.")

    def _assert_non_singular(self):
        return self._assert_factors("assert_non_singular")

    def _assert_self_adjoint(self):
        return self._assert_factors("assert_self_adjoint")


class LinearOperatorBlockDiag(LinearOperator):
    """`tf.linalg.LinearOperatorBlockDiag`: the direct sum `diag(A1, …, An)` of (square) operators."""

    def __init__(self, operators, is_non_singular: Optional[bool] = None, is_self_adjoint: Optional[bool] = None,
                 is_positive_definite: Optional[bool] = None, is_square: bool = True, name: Optional[str] = None):
        parameters = dict(operators=operators, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                          is_positive_definite=is_positive_definite, is_square=is_square, name=name)
        operators, dtype = _check_operator_list(
            operators, "Expected a non-empty list of operators. Found: {}",
            lambda names: "Expected all operators to have the same dtype.  Found " + "   ".join(names))
        self._operators = operators
        for attr, provided, what in (("is_non_singular", is_non_singular, "non-singular"),
                                     ("is_self_adjoint", is_self_adjoint, "self-adjoint"),
                                     ("is_positive_definite", is_positive_definite, "positive definite")):
            if all(getattr(o, attr) for o in operators) and provided is False:
                raise ValueError(f"The direct sum of {what} operators is always {what}.")
        _init_from_blocks(self, super(), operators, dtype, is_non_singular, is_self_adjoint,
                          is_positive_definite, is_square, parameters, name, "_ds_")

    @property
    def operators(self) -> list:
        return self._operators

    def _block_dims(self, domain: bool) -> list:
        return [o.domain_dimension if domain else o.range_dimension for o in self.operators]

    def _block_dim_tensors(self, domain: bool) -> list:
        return [o.domain_dimension_tensor() if domain else o.range_dimension_tensor() for o in self.operators]

    def _shape(self):
        domain = functools.reduce(lambda a, b: a + b, self._block_dims(True))
        rng = functools.reduce(lambda a, b: a + b, self._block_dims(False))
        return _broadcast_batch_shapes(self.operators).concatenate(_ts.TensorShape([rng, domain]))

    def _shape_tensor(self):
        if self.shape.is_fully_defined():
            return convert_to_tensor(self.shape.as_list(), dtype=_dt.int32, name="shape")
        domain = sum(self._block_dim_tensors(True))  # sum() from 0: TF's add/x constants
        rng = sum(self._block_dim_tensors(False))
        matrix_shape = _array.stack([rng, domain])
        return _array.concat((_broadcast_batch_shape_tensors(self.operators), matrix_shape), 0)

    def _blocks(self, method: str, **hints):
        return LinearOperatorBlockDiag([getattr(o, method)() for o in self.operators], is_square=True, **hints)

    def _linop_adjoint(self):
        return self._blocks("adjoint", is_non_singular=self.is_non_singular, is_self_adjoint=self.is_self_adjoint,
                            is_positive_definite=self.is_positive_definite)

    def _linop_cholesky(self):
        return self._blocks("cholesky", is_non_singular=True, is_self_adjoint=None)

    def _linop_inverse(self):
        return self._blocks("inverse", is_non_singular=self.is_non_singular, is_self_adjoint=self.is_self_adjoint,
                            is_positive_definite=self.is_positive_definite)

    def _blockwise_linop(self, left, right, method: str, what: str):
        if len(left.operators) != len(right.operators):
            raise ValueError(f"Can not efficiently {what} when number of blocks differ.")
        for o1, o2 in zip(left.operators, right.operators):
            if o2.range_dimension is not None and o1.domain_dimension is not None and \
                    o2.range_dimension != o1.domain_dimension:
                raise ValueError(f"Blocks are incompatible. Expected `x` to have dimension {o1.domain_dimension} but "
                                 f"got {o2.range_dimension}.")
        return LinearOperatorBlockDiag([getattr(o1, method)(o2) for o1, o2 in zip(left.operators, right.operators)],
                                       is_non_singular=_hint_non_singular(left, right), is_self_adjoint=None,
                                       is_positive_definite=None, is_square=True)

    def _linop_matmul(self, left, right):
        if isinstance(right, LinearOperatorBlockDiag):
            return self._blockwise_linop(left, right, "matmul", "multiply two `LinearOperatorBlockDiag`s together")
        return super()._linop_matmul(left, right)

    def _linop_solve(self, left, right):
        if isinstance(right, LinearOperatorBlockDiag):
            return self._blockwise_linop(left, right, "solve", "solve `LinearOperatorBlockDiag`")
        return super()._linop_solve(left, right)

    def _is_blockwise(self, arg) -> bool:
        """A list/tuple with one Tensor per block is applied block by block (and a list comes back)."""
        if isinstance(arg, (list, tuple)) and len(arg) == len(self.operators):
            if any(isinstance(a, (list, tuple)) for a in arg):
                raise NotImplementedError("tf.linalg.LinearOperatorBlockDiag: a blockwise argument with nested "
                                          "blocks is not supported by graphcompat")
            return True
        return False

    def _blockwise_args(self, arg, dims: list, axis: int) -> list:
        blocks = []
        for dim, block in zip(dims, arg):
            block = convert_to_tensor(block)
            self._check_input_dtype(block)
            dim.assert_is_compatible_with(_dim_at(block.shape, axis))
            blocks.append(block)
        return blocks

    def _split(self, x, domain: bool, axis: int) -> list:
        sizes = [_ts.dimension_value(d) for d in self._block_dims(domain)]
        if any(s is None for s in sizes):
            sizes = self._block_dim_tensors(domain)  # a list of tensors: packed by split, as in TF
        return _array.split(x, sizes, axis=axis)

    def _concat_blocks(self, results: list):
        return _array.concat(_broadcast_matrix_batch_dims(results), axis=-2)

    def matmul(self, x, adjoint: bool = False, adjoint_arg: bool = False, name: str = "matmul"):
        if isinstance(x, LinearOperator):
            return super().matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg, name=name)
        with self._name_scope(name):
            arg_dim = -1 if adjoint_arg else -2
            if self._is_blockwise(x):
                blocks = self._blockwise_args(x, self._block_dims(not adjoint), arg_dim)
                return [o.matmul(b, adjoint=adjoint, adjoint_arg=adjoint_arg) for o, b in zip(self.operators, blocks)]
            x = convert_to_tensor(x, name="x")
            self._check_input_dtype(x)
            (self.range_dimension if adjoint else self.domain_dimension).assert_is_compatible_with(
                _dim_at(x.shape, arg_dim))
            return self._matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        split_x = self._split(x, not adjoint, -1 if adjoint_arg else -2)
        return self._concat_blocks([o.matmul(b, adjoint=adjoint, adjoint_arg=adjoint_arg)
                                    for o, b in zip(self.operators, split_x)])

    def matvec(self, x, adjoint: bool = False, name: str = "matvec"):
        with self._name_scope(name):
            if self._is_blockwise(x):
                blocks = self._blockwise_args(x, self._block_dims(not adjoint), -1)
                results = self.matmul([b[..., None] for b in blocks], adjoint=adjoint)
                return [_array.squeeze(y, axis=-1) for y in results]
            x = convert_to_tensor(x, name="x")
            self._check_input_dtype(x)
            (self.range_dimension if adjoint else self.domain_dimension).assert_is_compatible_with(_dim_at(x.shape, -1))
            return _array.squeeze(self.matmul(x[..., None], adjoint=adjoint), axis=-1)

    def solve(self, rhs, adjoint: bool = False, adjoint_arg: bool = False, name: str = "solve"):
        if isinstance(rhs, LinearOperator):
            return super().solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg, name=name)
        self._check_solvable()
        with self._name_scope(name):
            arg_dim = -1 if adjoint_arg else -2
            if self._is_blockwise(rhs):
                blocks = self._blockwise_args(rhs, self._block_dims(adjoint), arg_dim)
                return [o.solve(b, adjoint=adjoint, adjoint_arg=adjoint_arg) for o, b in zip(self.operators, blocks)]
            rhs = convert_to_tensor(rhs, name="rhs")
            self._check_input_dtype(rhs)
            (self.domain_dimension if adjoint else self.range_dimension).assert_is_compatible_with(
                _dim_at(rhs.shape, arg_dim))
            split_rhs = self._split(rhs, True, arg_dim)
            return self._concat_blocks([o.solve(b, adjoint=adjoint, adjoint_arg=adjoint_arg)
                                        for o, b in zip(self.operators, split_rhs)])

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self.solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def solvevec(self, rhs, adjoint: bool = False, name: str = "solve"):
        with self._name_scope(name):
            if self._is_blockwise(rhs):
                blocks = self._blockwise_args(rhs, self._block_dims(adjoint), -1)
                results = self.solve([b[..., None] for b in blocks], adjoint=adjoint)
                return [_array.squeeze(y, axis=-1) for y in results]
            rhs = convert_to_tensor(rhs, name="rhs")
            self._check_input_dtype(rhs)
            (self.domain_dimension if adjoint else self.range_dimension).assert_is_compatible_with(
                _dim_at(rhs.shape, -1))
            return _array.squeeze(self.solve(_array.expand_dims(rhs, axis=-1), adjoint=adjoint), axis=-1)

    def _determinant(self):
        result = self.operators[0].determinant()
        for operator in self.operators[1:]:
            result *= operator.determinant()
        return result

    def _log_abs_determinant(self):
        result = self.operators[0].log_abs_determinant()
        for operator in self.operators[1:]:
            result += operator.log_abs_determinant()
        return result

    def _require_square_blocks(self, what: str) -> None:
        if not all(o.is_square for o in self.operators):
            raise NotImplementedError(f"`{what}` not implemented for an operator whose blocks are not square.")

    def _diag_part(self):
        self._require_square_blocks("diag_part")
        diags = _broadcast_matrix_batch_dims([o.diag_part()[..., None] for o in self.operators])
        return _array.squeeze(_array.concat(diags, axis=-2), axis=-1)

    def _trace(self):
        self._require_square_blocks("trace")
        result = self.operators[0].trace()
        for operator in self.operators[1:]:
            result += operator.trace()
        return result

    def _to_dense(self):
        # each block's rows padded with zeros left and right to the full width, then stacked
        blocks = _broadcast_matrix_batch_dims([o.to_dense() for o in self.operators])
        num_cols, rows = 0, []
        for block in blocks:
            batch_rows = _array.shape(block)[:-1]
            before = _array.zeros(shape=_array.concat([batch_rows, [num_cols]], axis=-1), dtype=block.dtype)
            num_cols += _array.shape(block)[-1]
            after = _array.zeros(shape=_array.concat([batch_rows, [self.domain_dimension_tensor() - num_cols]],
                                                     axis=-1), dtype=block.dtype)
            rows.append(_array.concat([before, block, after], axis=-1))
        mat = _array.concat(rows, axis=-2)
        mat.set_shape(self.shape)
        return mat

    def _assert_non_singular(self):
        return _control.group([o.assert_non_singular() for o in self.operators])

    def _assert_self_adjoint(self):
        return _control.group([o.assert_self_adjoint() for o in self.operators])

    def _assert_positive_definite(self):
        return _control.group([o.assert_positive_definite() for o in self.operators])

    def _eigvals(self):
        self._require_square_blocks("eigvals")
        eigs = _broadcast_matrix_batch_dims([o.eigvals()[..., None] for o in self.operators])
        return _array.squeeze(_array.concat(eigs, axis=-2), axis=-1)


class LinearOperatorLowRankUpdate(LinearOperator):
    """`tf.linalg.LinearOperatorLowRankUpdate`: `L + U D V^H` with L an operator, D diagonal (default I)
    and V = U by default; solves and determinants go through the Woodbury identity and the determinant
    lemma with the capacitance matrix `D^{-1} + V^H L^{-1} U`."""

    def __init__(self, base_operator: LinearOperator, u, diag_update=None, v=None,
                 is_diag_update_positive: Optional[bool] = None, is_non_singular: Optional[bool] = None,
                 is_self_adjoint: Optional[bool] = None, is_positive_definite: Optional[bool] = None,
                 is_square: Optional[bool] = None, name: str = "LinearOperatorLowRankUpdate"):
        parameters = dict(base_operator=base_operator, u=u, diag_update=diag_update, v=v,
                          is_diag_update_positive=is_diag_update_positive, is_non_singular=is_non_singular,
                          is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                          is_square=is_square, name=name)
        dtype = base_operator.dtype
        if diag_update is not None and is_diag_update_positive and dtype.is_complex:
            _logging.warning("Note: setting is_diag_update_positive with a complex dtype means that diagonal is "
                             "real and positive.")
        if diag_update is None:
            if is_diag_update_positive is False:
                raise ValueError("Default diagonal is the identity, which is positive.  However, user set "
                                 "'is_diag_update_positive' to False.")
            is_diag_update_positive = True
        # L + U D U^H with L self-adjoint positive definite and D > 0: the capacitance is too (Cholesky)
        self._use_cholesky = bool(base_operator.is_positive_definite and base_operator.is_self_adjoint and
                                  is_diag_update_positive and v is None)
        if base_operator.is_self_adjoint and v is None and not dtype.is_complex:
            if is_self_adjoint is False:
                raise ValueError("A = L + UDU^H, with L self-adjoint and D real diagonal.  Since UDU^H is "
                                 "self-adjoint, this must be a self-adjoint operator.")
            is_self_adjoint = True
        if self._use_cholesky:
            if is_positive_definite is False or is_self_adjoint is False or is_non_singular is False:
                raise ValueError("Arguments imply this is self-adjoint positive-definite operator.")
            is_positive_definite = True
            is_self_adjoint = True
        with _ops.name_scope(name):
            self._u = _to_tensor_keep_ref(u, name="u")
            self._v = self._u if v is None else _to_tensor_keep_ref(v, name="v")
            self._diag_update = None if diag_update is None else _to_tensor_keep_ref(diag_update, name="diag_update")
            self._base_operator = base_operator
            super().__init__(dtype=dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=is_square,
                             parameters=parameters, name=name)
            if self._diag_update is not None:
                self._diag_operator = LinearOperatorDiag(self._diag_update,
                                                         is_positive_definite=is_diag_update_positive)
            else:
                r = _ts.dimension_value(_dim_at(self._u.shape, -1))
                r = r if r is not None else _array.shape(self._u)[-1]
                self._diag_operator = LinearOperatorIdentity(num_rows=r, dtype=self.dtype)
            self._is_diag_update_positive = is_diag_update_positive
            self._check_shapes()

    def _check_shapes(self) -> None:
        uv_shape = broadcast_static_shape(self.u.shape, self.v.shape)
        batch_shape = broadcast_static_shape(self.base_operator.batch_shape, uv_shape[:-2])
        self.base_operator.domain_dimension.assert_is_compatible_with(_dim_at(uv_shape, -2))
        if self._diag_update is not None:
            _dim_at(uv_shape, -1).assert_is_compatible_with(_dim_at(self._diag_update.shape, -1))
            broadcast_static_shape(batch_shape, self._diag_update.shape[:-1])

    @property
    def u(self):
        return self._u

    @property
    def v(self):
        return self._v

    @property
    def is_diag_update_positive(self) -> Optional[bool]:
        return self._is_diag_update_positive

    @property
    def diag_update(self):
        return self._diag_update

    @property
    def diag_operator(self) -> LinearOperator:
        return self._diag_operator

    @property
    def base_operator(self) -> LinearOperator:
        return self._base_operator

    def _assert_self_adjoint(self):
        if self.u is self.v and self.diag_update is None:
            return self.base_operator.assert_self_adjoint()
        return super()._assert_self_adjoint()

    def _shape(self):
        batch = broadcast_static_shape(self.base_operator.batch_shape, self.diag_operator.batch_shape)
        batch = broadcast_static_shape(batch, self.u.shape[:-2])
        batch = broadcast_static_shape(batch, self.v.shape[:-2])
        return batch.concatenate(self.base_operator.shape[-2:])

    def _shape_tensor(self):
        batch = broadcast_dynamic_shape(self.base_operator.batch_shape_tensor(),
                                        self.diag_operator.batch_shape_tensor())
        batch = broadcast_dynamic_shape(batch, _array.shape(self.u)[:-2])
        batch = broadcast_dynamic_shape(batch, _array.shape(self.v)[:-2])
        return _array.concat([batch, self.base_operator.shape_tensor()[-2:]], axis=0)

    def _uv(self):
        u = convert_to_tensor(self.u)
        return u, (u if self.v is self.u else convert_to_tensor(self.v))

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        u, v = self._uv()
        leading = self.base_operator.matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg)
        # (L + U D V^H)^H = L^H + V D^H U^H
        first, second = (u, v) if adjoint else (v, u)
        first_h_x = _linalg.matmul(first, x, adjoint_a=True, adjoint_b=adjoint_arg)
        d_first_h_x = self.diag_operator.matmul(first_h_x, adjoint=adjoint)
        return leading + _linalg.matmul(second, d_first_h_x)

    def _make_capacitance(self, u, v):
        # D^{-1} + V^H L^{-1} U
        vh_linv_u = _linalg.matmul(v, self.base_operator.solve(u), adjoint_a=True)
        return self._diag_operator.inverse().add_to_tensor(vh_linv_u)

    def _determinant(self):
        if self.is_positive_definite:
            return _math.exp(self.log_abs_determinant())
        u, v = self._uv()
        det_c = _linalg.matrix_determinant(self._make_capacitance(u=u, v=v))
        det_d = self.diag_operator.determinant()
        det_l = self.base_operator.determinant()
        return det_c * det_d * det_l

    def _diag_part(self):
        u, v = self._uv()
        product = u * _math.conj(v)
        if self.diag_update is not None:
            product *= _array.expand_dims(self.diag_update, axis=-2)
        return _reduce.reduce_sum(product, axis=-1) + self.base_operator.diag_part()

    def _log_abs_determinant(self):
        u, v = self._uv()
        log_abs_det_d = self.diag_operator.log_abs_determinant()
        log_abs_det_l = self.base_operator.log_abs_determinant()
        if self._use_cholesky:
            chol_cap_diag = _linalg.matrix_diag_part(_linalg.cholesky(self._make_capacitance(u=u, v=v)))
            log_abs_det_c = 2 * _reduce.reduce_sum(_math.log(chol_cap_diag), axis=[-1])
        else:
            det_c = _linalg.matrix_determinant(self._make_capacitance(u=u, v=v))
            log_abs_det_c = _math.log(_math.abs(det_c))
            if self.dtype.is_complex:
                log_abs_det_c = _math.cast(log_abs_det_c, dtype=self.dtype)
        return log_abs_det_c + log_abs_det_d + log_abs_det_l

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        if self.base_operator.is_non_singular is False:
            raise ValueError("Solve not implemented unless this is a perturbation of a non-singular LinearOperator.")
        base = self.base_operator
        if adjoint:
            v, u = self._uv()
            capacitance = self._make_capacitance(u=v, v=u)
        else:
            u, v = self._uv()
            capacitance = self._make_capacitance(u=u, v=v)
        # Woodbury: A^{-1} = L^{-1} - L^{-1} U C^{-1} V^H L^{-1}
        linv_rhs = base.solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)
        vh_linv_rhs = _linalg.matmul(v, linv_rhs, adjoint_a=True)
        if self._use_cholesky:
            capinv = cholesky_solve(_linalg.cholesky(capacitance), vh_linv_rhs)
        else:
            capinv = _matrix_solve_with_broadcast(capacitance, vh_linv_rhs, adjoint=adjoint)
        return linv_rhs - base.solve(_linalg.matmul(u, capinv), adjoint=adjoint)
