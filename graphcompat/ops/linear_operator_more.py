"""More `tf.linalg.LinearOperator` subclasses: Permutation, Householder, Circulant (1-D, 2-D, 3-D),
Toeplitz, Tridiag and BlockLowerTriangular.

Built on the base class in linear_operator.py and following TF 2.21's
tensorflow/python/ops/linalg/linear_operator_{permutation,householder,circulant,toeplitz,tridiag,
block_lower_triangular,addition}.py: the same hints and ValueError texts, the same structured shortcuts (a permutation is a batched gather, a
Householder reflection a rank-one update, a circulant a product in Fourier space, a Toeplitz matmul a
circulant embedding, a tridiagonal solve the TridiagonalSolve op, a block triangular solve a
substitution) and the same ops under the same names,
so a graph reads as TF's does. Where TF has no shortcut (Toeplitz solve, Permutation determinant …) the
base class's dense default is used, as in TF.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

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
from graphcompat.ops import spectral_ops as _spectral
from graphcompat.ops.indexing_ops import broadcast_to, reverse_v2, roll
from graphcompat.ops.linalg_more_ops import tridiagonal_matmul, tridiagonal_solve
from graphcompat.ops.linear_operator import (LinearOperator, LinearOperatorDiag, LinearOperatorFullMatrix,
                                             LinearOperatorIdentity, LinearOperatorLowerTriangular,
                                             LinearOperatorScaledIdentity, _adjoint,
                                             _assert_no_entries_with_modulus_zero, _assert_zero_imag_part,
                                             _broadcast_matrix_batch_dims,
                                             _hint_commuting_positive_definite, _hint_commuting_self_adjoint,
                                             _hint_non_singular, _to_tensor_keep_ref)
from graphcompat.ops.math_extra_ops import broadcast_dynamic_shape, broadcast_static_shape

__all__ = ["LinearOperatorPermutation", "LinearOperatorHouseholder", "LinearOperatorCirculant",
           "LinearOperatorCirculant2D", "LinearOperatorCirculant3D", "LinearOperatorToeplitz",
           "LinearOperatorTridiag", "LinearOperatorBlockLowerTriangular"]


def _domain_dim_tensor(operator: LinearOperator, shape) -> _ops.Tensor:
    """TF's `_domain_dimension_tensor(shape=...)`: the static size as a constant, else `shape[-1]`."""
    value = _ts.dimension_value(operator.domain_dimension)
    return convert_to_tensor(value) if value is not None else shape[-1]


def _vector_shape(shape: _ts.TensorShape) -> _ts.TensorShape:
    """`[B.., N]` -> `[B.., N, N]`: the operator shape of one defined by a (batch) vector."""
    return shape.concatenate(shape[-1:])


def _vector_shape_tensor(vector) -> _ops.Tensor:
    shape = _array.shape(vector)
    return _array.concat((shape, [shape[-1]]), 0)


def _rotate_transpose(x, shift: int) -> _ops.Tensor:
    """TF's distribution_util.rotate_transpose for a Python shift: dimensions rotated right by `shift`."""
    with _ops.name_scope(None, "rotate_transpose", [x, shift]):
        x = convert_to_tensor(x, name="x")
        shift_tensor = convert_to_tensor(shift, name="shift")
        _check.assert_integer(shift_tensor)
        ndims = x.shape.ndims
        if ndims is not None:
            if ndims < 2:
                return x
            shift = int(np.sign(shift) * (abs(shift) % ndims))
            if shift == 0:
                return x
            return _array.transpose(x, perm=np.roll(np.arange(ndims), shift))
        # unknown rank: the permutation is computed at run time, as TF does
        ndims = _array.rank(x)
        shift = _math.where_v2(_math.less(shift_tensor, 0), _math.floormod(-shift_tensor, ndims),
                               ndims - _math.floormod(shift_tensor, ndims))
        first = _reduce.range(0, shift)
        last = _reduce.range(shift, ndims)
        return _array.transpose(x, perm=_array.concat([last, first], 0))


# ------------------------------------------------------------------------------------------------
# Permutation
# ------------------------------------------------------------------------------------------------
class LinearOperatorPermutation(LinearOperator):
    """`tf.linalg.LinearOperatorPermutation`: row `i` of `A @ x` is row `perm[i]` of `x`."""

    def __init__(self, perm, dtype=_dt.float32, is_non_singular: Optional[bool] = None,
                 is_self_adjoint: Optional[bool] = None, is_positive_definite: Optional[bool] = None,
                 is_square: Optional[bool] = None, name: str = "LinearOperatorPermutation"):
        parameters = dict(perm=perm, dtype=dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                          is_positive_definite=is_positive_definite, is_square=is_square, name=name)
        with _ops.name_scope(name, values=[perm]):
            self._perm = _to_tensor_keep_ref(perm, name="perm")
            self._check_perm(self._perm)
            if is_non_singular is False:
                raise ValueError(f"A Permutation operator is always non-singular. Expected argument "
                                 f"`is_non_singular` to be True. Received: {is_non_singular}.")
            if is_square is False:
                raise ValueError(f"A Permutation operator is always square. Expected argument `is_square` to be "
                                 f"True. Received: {is_square}.")
            super().__init__(dtype=dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=True,
                             parameters=parameters, name=name)

    @staticmethod
    def _check_perm(perm) -> None:
        if perm.shape.ndims is not None and perm.shape.ndims < 1:
            raise ValueError(f"Argument `perm` must have at least 1 dimension. Received: {perm}.")
        if not perm.dtype.is_integer:
            raise TypeError(f"Argument `perm` must be integer dtype. Received: {perm}.")
        static = constant_value(perm) if isinstance(perm, _ops.Tensor) else None
        if static is not None:
            if np.any(np.sort(static, axis=-1) != np.arange(0, static.shape[-1])):
                raise ValueError(f"Argument `perm` must be a vector of unique integers from 0 to "
                                 f"{static.shape[-1] - 1}.")

    @property
    def perm(self):
        return self._perm

    def _shape(self):
        return _vector_shape(self._perm.shape)

    def _shape_tensor(self):
        return _vector_shape_tensor(self._perm)

    def _assert_non_singular(self):
        return _control.no_op("assert_non_singular")

    def domain_dimension_tensor(self, name: str = "domain_dimension_tensor") -> _ops.Tensor:
        with self._name_scope(name):  # TF reads it from perm's shape, even where it is static
            return _array.shape(convert_to_tensor(self.perm))[-1]

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        from graphcompat.ops.resource_variable_ops import gather
        from graphcompat.ops.sort_ops import argsort
        perm = convert_to_tensor(self.perm)
        if adjoint and not self.is_self_adjoint:
            perm = argsort(perm, axis=-1)  # the inverse permutation is the transpose
        x = _adjoint(x) if adjoint_arg else x
        # broadcast x's rows and perm to one batch, flatten it, and gather rows batch by batch
        broadcast_shape = broadcast_dynamic_shape(_array.shape(x)[:-1], _array.shape(perm))
        k = _array.shape(x)[-1]
        broadcast_x_shape = _array.concat([broadcast_shape, [k]], axis=-1)
        x = broadcast_to(x, broadcast_x_shape)
        perm = broadcast_to(perm, broadcast_shape)
        m = _array.shape(x)[-2]
        x = _array.reshape(x, [-1, m, k])
        perm = _array.reshape(perm, [-1, m])
        y = gather(x, perm, axis=-2, batch_dims=1)
        return _array.reshape(y, broadcast_x_shape)

    def _log_abs_determinant(self):
        return _array.zeros(shape=self.batch_shape_tensor(), dtype=self.dtype)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._matmul(rhs, adjoint=not adjoint, adjoint_arg=adjoint_arg)

    def _one_hot_rows(self, expand: bool):
        perm = convert_to_tensor(self.perm)
        columns = _reduce.range(0, _array.shape(perm)[-1])  # (TF's _domain_dimension_tensor(perm))
        return _math.cast(_math.equal(columns, perm[..., None] if expand else perm), self.dtype)

    def _to_dense(self):
        return self._one_hot_rows(True)

    def _diag_part(self):
        return self._one_hot_rows(False)

    def _cond(self):
        return _array.ones(self.batch_shape_tensor(), dtype=self.dtype)


# ------------------------------------------------------------------------------------------------
# Householder
# ------------------------------------------------------------------------------------------------
class LinearOperatorHouseholder(LinearOperator):
    """`tf.linalg.LinearOperatorHouseholder`: the reflection `I - 2 v v^H / |v|^2` about the hyperplane
    orthogonal to `reflection_axis` (self-adjoint, its own inverse, determinant -1)."""

    def __init__(self, reflection_axis, is_non_singular: Optional[bool] = None,
                 is_self_adjoint: Optional[bool] = None, is_positive_definite: Optional[bool] = None,
                 is_square: Optional[bool] = None, name: str = "LinearOperatorHouseholder"):
        parameters = dict(reflection_axis=reflection_axis, is_non_singular=is_non_singular,
                          is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                          is_square=is_square, name=name)
        with _ops.name_scope(name, values=[reflection_axis]):
            self._reflection_axis = _to_tensor_keep_ref(reflection_axis, name="reflection_axis")
            shape = self._reflection_axis.shape
            if shape.ndims is not None and shape.ndims < 1:
                raise ValueError(f"Argument reflection_axis must have at least 1 dimension.  "
                                 f"Found: {self._reflection_axis}")
            if is_self_adjoint is False:
                raise ValueError("A Householder operator is always self adjoint.")
            if is_positive_definite is True:
                raise ValueError("A Householder operator is always non-positive definite.")
            if is_square is False:
                raise ValueError("A Householder operator is always square.")
            super().__init__(dtype=self._reflection_axis.dtype, is_non_singular=is_non_singular,
                             is_self_adjoint=True, is_positive_definite=False, is_square=True,
                             parameters=parameters, name=name)

    @property
    def reflection_axis(self):
        return self._reflection_axis

    def _shape(self):
        return _vector_shape(self._reflection_axis.shape)

    def _shape_tensor(self):
        return _vector_shape_tensor(self._reflection_axis)

    def _assert_non_singular(self):
        return _control.no_op("assert_non_singular")

    def _assert_positive_definite(self):
        raise _errors.InvalidArgumentError(None, None, "Householder operators are always non-positive definite.")

    def _assert_self_adjoint(self):
        return _control.no_op("assert_self_adjoint")

    def _linop_adjoint(self):
        return self

    def _linop_inverse(self):
        return self

    def _unit_axis(self):
        from graphcompat.nn.nn_impl import l2_normalize
        return l2_normalize(convert_to_tensor(self.reflection_axis), axis=-1)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = _adjoint(x) if adjoint_arg else x
        mat = self._unit_axis()[..., None]
        x_dot_normalized_v = _linalg.matmul(mat, x, adjoint_a=True)
        return x - 2 * mat * x_dot_normalized_v

    def _trace(self):
        shape = self.shape_tensor()
        return _math.cast(_domain_dim_tensor(self, shape) - 2, self.dtype) * _array.ones(
            shape=self._batch_shape_tensor(shape=shape), dtype=self.dtype)

    def _determinant(self):
        return -_array.ones(shape=self.batch_shape_tensor(), dtype=self.dtype)

    def _log_abs_determinant(self):
        return _array.zeros(shape=self.batch_shape_tensor(), dtype=self.dtype)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._matmul(rhs, adjoint, adjoint_arg)  # a reflection is its own inverse

    def _to_dense(self):
        mat = self._unit_axis()[..., None]
        matrix = -2 * _linalg.matmul(mat, mat, adjoint_b=True)
        return _linalg.matrix_set_diag(matrix, 1. + _linalg.matrix_diag_part(matrix))

    def _diag_part(self):
        axis = self._unit_axis()
        return 1. - 2 * axis * _math.conj(axis)

    def _eigvals(self):
        # one eigenvalue -1 (along the axis), the other N-1 are 1
        result_shape = _array.shape(self.reflection_axis)
        n = result_shape[-1]
        ones_shape = _array.concat([result_shape[:-1], [n - 1]], axis=-1)
        neg_shape = _array.concat([result_shape[:-1], [1]], axis=-1)
        eigvals = _array.ones(shape=ones_shape, dtype=self.dtype)
        return _array.concat([-_array.ones(shape=neg_shape, dtype=self.dtype), eigvals], axis=-1)

    def _cond(self):
        return _array.ones(self.batch_shape_tensor(), dtype=self.dtype)


# ------------------------------------------------------------------------------------------------
# Circulant (1-D, 2-D, 3-D block nesting)
# ------------------------------------------------------------------------------------------------
_FFT = {1: (_spectral.fft, _spectral.ifft), 2: (_spectral.fft2d, _spectral.ifft2d),
        3: (_spectral.fft3d, _spectral.ifft3d)}


def _circulant_to_complex(x):
    """complex64 for all but float64 (complex128); complex values are kept as they are."""
    if x.dtype.is_complex:
        return x
    return _math.cast(x, _dt.complex128 if x.dtype.base_dtype == _dt.float64 else _dt.complex64)


class _BaseLinearOperatorCirculant(LinearOperator):
    """What the circulant operators share: `A = F^H diag(spectrum) F` with F the (nested) DFT, so matmul
    and solve are elementwise in Fourier space and the determinant is the product of the spectrum."""

    def __init__(self, spectrum, block_depth: int, input_output_dtype=_dt.complex64,
                 is_non_singular: Optional[bool] = None, is_self_adjoint: Optional[bool] = None,
                 is_positive_definite: Optional[bool] = None, is_square: bool = True,
                 parameters: Optional[dict] = None, name: str = "LinearOperatorCirculant"):
        allowed_block_depths = [1, 2, 3]
        self._name = name
        if block_depth not in allowed_block_depths:
            raise ValueError(f"Argument `block_depth` must be one of {allowed_block_depths}. "
                             f"Received: {block_depth}.")
        self._block_depth = block_depth
        with _ops.name_scope(name, values=[spectrum]):
            self._spectrum = _to_tensor_keep_ref(spectrum, name="spectrum")
            if self._spectrum.shape.ndims is not None and self._spectrum.shape.ndims < block_depth:
                raise ValueError(f"Argument `spectrum` must have at least {block_depth} dimensions. "
                                 f"Received: {self._spectrum}.")
            if not self._spectrum.dtype.is_complex:
                if is_self_adjoint is False:
                    raise ValueError(f"A real spectrum always corresponds to a self-adjoint operator. Expected "
                                     f"argument `is_self_adjoint` to be True when `spectrum.dtype.is_complex` = "
                                     f"True. Received: {is_self_adjoint}.")
                is_self_adjoint = True
            if is_square is False:
                raise ValueError(f"A [[nested] block] circulant operator is always square. Expected argument "
                                 f"`is_square` to be True. Received: {is_square}.")
            super().__init__(dtype=_dt.as_dtype(input_output_dtype), is_non_singular=is_non_singular,
                             is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                             is_square=True, parameters=parameters, name=name)

    # the derived operators are of the same class (TF's own, with its default input_output_dtype)
    def _like(self, spectrum, **kwargs) -> "_BaseLinearOperatorCirculant":
        return _BaseLinearOperatorCirculant(spectrum=spectrum, block_depth=self.block_depth, **kwargs)

    @property
    def block_depth(self) -> int:
        return self._block_depth

    @property
    def spectrum(self):
        return self._spectrum

    @property
    def block_shape(self) -> _ts.TensorShape:
        return self._spectrum.shape[-self.block_depth:]

    def block_shape_tensor(self) -> _ops.Tensor:
        return self._block_shape_tensor()

    def _block_shape_tensor(self, spectrum_shape=None):
        if self.block_shape.is_fully_defined():
            from graphcompat.ops.linear_operator import _shape_tensor
            return _shape_tensor(self.block_shape.as_list(), name="block_shape")
        spectrum_shape = _array.shape(self.spectrum) if spectrum_shape is None else spectrum_shape
        return spectrum_shape[-self.block_depth:]

    def _linop_adjoint(self):
        spectrum = self.spectrum
        if spectrum.dtype.is_complex:
            spectrum = _math.conj(spectrum)
        return self._like(spectrum, is_non_singular=self.is_non_singular, is_self_adjoint=self.is_self_adjoint,
                          is_positive_definite=self.is_positive_definite, is_square=True)

    def _linop_inverse(self):
        return self._like(1. / self.spectrum, is_non_singular=self.is_non_singular,
                          is_self_adjoint=self.is_self_adjoint, is_positive_definite=self.is_positive_definite,
                          is_square=True, input_output_dtype=self.dtype)

    @staticmethod
    def _pair_hints(left, right) -> dict:
        return dict(is_non_singular=_hint_non_singular(left, right),
                    is_self_adjoint=_hint_commuting_self_adjoint(left, right),
                    is_positive_definite=_hint_commuting_positive_definite(left, right), is_square=True)

    def _same_kind(self, left, right, solve: bool) -> bool:
        kind = type(self) if type(self) is not _BaseLinearOperatorCirculant else _BaseLinearOperatorCirculant
        if solve and kind is not _BaseLinearOperatorCirculant:
            return isinstance(right, kind)  # TF's subclasses check only the right operand when solving
        return isinstance(right, kind) and isinstance(left, type(right))

    def _linop_matmul(self, left, right):
        if not self._same_kind(left, right, solve=False):
            return super()._linop_matmul(left, right)
        return left._like(left.spectrum * right.spectrum, **self._pair_hints(left, right))

    def _linop_solve(self, left, right):
        if not self._same_kind(left, right, solve=True):
            return super()._linop_solve(left, right)
        return left._like(right.spectrum / left.spectrum, **self._pair_hints(left, right))

    # --- reshaping between matrices and blocks of vectors ---------------------------------------
    def _vectorize_then_blockify(self, matrix):
        vec = _rotate_transpose(matrix, shift=1)  # [B.., N, R] -> [R, B.., N]
        if vec.shape.is_fully_defined() and self.block_shape.is_fully_defined():
            final_shape = vec.shape[:-1].concatenate(self.block_shape)
        else:
            final_shape = _array.concat((_array.shape(vec)[:-1], self.block_shape_tensor()), 0)
        return _array.reshape(vec, final_shape)

    def _unblockify(self, x):
        depth = self.block_depth
        if x.shape.is_fully_defined():
            x_shape = x.shape.as_list()
            flat_shape = x_shape[:-depth] + [int(np.prod(x_shape[-depth:]))]
        else:
            x_shape = _array.shape(x)
            flat_shape = _array.concat((x_shape[:-depth], [_reduce.reduce_prod(x_shape[-depth:])]), 0)
        return _array.reshape(x, flat_shape)

    def _unblockify_then_matricize(self, vec):
        return _rotate_transpose(self._unblockify(vec), shift=-1)

    def _fft(self, x):
        return _FFT[self.block_depth][0](_circulant_to_complex(x))

    def _ifft(self, x):
        return _FFT[self.block_depth][1](_circulant_to_complex(x))

    def convolution_kernel(self, name: str = "convolution_kernel") -> _ops.Tensor:
        """The first column's kernel `h` with `A x = h * x` (circular convolution): the inverse DFT of the
        spectrum, in the operator's dtype."""
        with self._name_scope(name):
            return _math.cast(self._ifft(_circulant_to_complex(self.spectrum)), self.dtype)

    def _shape(self):
        s_shape = self._spectrum.shape
        trailing = s_shape[-self.block_depth:]
        n = int(np.prod(trailing.as_list())) if trailing.is_fully_defined() else None
        return s_shape[:-self.block_depth].concatenate(_ts.TensorShape([n, n]))

    def _shape_tensor(self, spectrum=None):
        spectrum = self.spectrum if spectrum is None else spectrum
        s_shape = _array.shape(spectrum)
        batch_shape = s_shape[:-self.block_depth]
        n = _reduce.reduce_prod(s_shape[-self.block_depth:])
        return _array.concat((batch_shape, [n, n]), 0)

    def assert_hermitian_spectrum(self, name: str = "assert_hermitian_spectrum"):
        """An op that fails at run time unless the spectrum is Hermitian (a real convolution kernel)."""
        eps = np.finfo(self.dtype.real_dtype.as_numpy_dtype).eps
        with self._name_scope(name):
            max_err = eps * self.domain_dimension_tensor()
            imag_kernel = _math.imag(self.convolution_kernel())
            return _check.assert_less(_math.abs(imag_kernel), max_err, message="Spectrum was not Hermitian")

    def _assert_non_singular(self):
        return _assert_no_entries_with_modulus_zero(self.spectrum,
                                                    message="Singular operator:  Spectrum contained zero values.")

    def _assert_positive_definite(self):
        return _check.assert_positive(_math.real(self.spectrum),
                                      message="Not positive definite:  Real part of spectrum was not all positive.")

    def _assert_self_adjoint(self):
        return _assert_zero_imag_part(
            self.spectrum, message="Not self-adjoint:  The spectrum contained non-zero imaginary part.")

    def _broadcast_batch_dims(self, x, spectrum):
        """Broadcasts the batch dimensions of `x` and of the spectrum against each other."""
        spectrum = convert_to_tensor(spectrum, name="spectrum")
        batch_shape = self._batch_shape_tensor(shape=self._shape_tensor(spectrum=spectrum))
        spec_mat = _array.reshape(spectrum, _array.concat((batch_shape, [-1, 1]), axis=0))
        x, spec_mat = _broadcast_matrix_batch_dims((x, spec_mat))
        x_batch_shape = _array.shape(x)[:-2]
        spectrum_shape = _array.shape(spectrum)
        spectrum = _array.reshape(spec_mat, _array.concat(
            (x_batch_shape, self._block_shape_tensor(spectrum_shape=spectrum_shape)), axis=0))
        return x, spectrum

    def _cond(self):
        abs_singular_values = _math.abs(self._unblockify(self.spectrum))
        return _reduce.reduce_max(abs_singular_values, axis=-1) / _reduce.reduce_min(abs_singular_values, axis=-1)

    def _eigvals(self):
        return convert_to_tensor(self._unblockify(self.spectrum))

    def _apply_in_fourier_space(self, x, adjoint: bool, divide: bool):
        spectrum = _circulant_to_complex(self.spectrum)
        if adjoint:
            spectrum = _math.conj(spectrum)
        if not divide:
            x = _math.cast(x, spectrum.dtype)
        x, spectrum = self._broadcast_batch_dims(x, spectrum)
        fft_x_vb = self._fft(self._vectorize_then_blockify(x))
        result_vb = self._ifft(fft_x_vb / spectrum if divide else spectrum * fft_x_vb)
        return _math.cast(self._unblockify_then_matricize(result_vb), self.dtype)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = _adjoint(x) if adjoint_arg else x
        return self._apply_in_fourier_space(x, adjoint, divide=False)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = _adjoint(rhs) if adjoint_arg else rhs
        return self._apply_in_fourier_space(rhs, adjoint, divide=True)

    def _block_axes(self) -> list:
        return [-(i + 1) for i in range(self.block_depth)]

    def _determinant(self):
        return _math.cast(_reduce.reduce_prod(self.spectrum, axis=self._block_axes()), self.dtype)

    def _log_abs_determinant(self):
        log_abs = _reduce.reduce_sum(_math.log(_math.abs(self.spectrum)), axis=self._block_axes())
        return _math.cast(log_abs, self.dtype)

    def _diag_part(self):
        # every diagonal entry is the mean of the spectrum
        if self.shape.is_fully_defined():
            diag_shape = self.shape[:-1]
            diag_size = _ts.dimension_value(self.domain_dimension)
        else:
            diag_shape = self.shape_tensor()[:-1]
            diag_size = self.domain_dimension_tensor()
        ones_diag = _array.ones(diag_shape, dtype=self.dtype)
        diag_value = self.trace() / _math.cast(diag_size, self.dtype)
        return diag_value[..., None] * ones_diag

    def _trace(self):
        if self.spectrum.shape.is_fully_defined():
            rank = self.spectrum.shape.ndims
            axis = np.arange(rank - self.block_depth, rank, dtype=np.int32)
        else:
            rank = _array.rank(self.spectrum)
            axis = _reduce.range(rank - self.block_depth, rank)
        re_d_value = _reduce.reduce_sum(_math.real(self.spectrum), axis=axis)
        if not self.dtype.is_complex:
            return _math.cast(re_d_value, self.dtype)
        if self.is_self_adjoint:
            im_d_value = _array.zeros_like(re_d_value)
        else:
            im_d_value = _reduce.reduce_sum(_math.imag(self.spectrum), axis=axis)
        from graphcompat.ops.math_extra_ops import complex as _complex
        return _math.cast(_complex(re_d_value, im_d_value), self.dtype)


def _circulant_class(depth: int, class_name: str, doc: str):
    """The public Circulant classes differ only in the block depth (and their own class in results)."""

    class _Circulant(_BaseLinearOperatorCirculant):
        def __init__(self, spectrum, input_output_dtype=_dt.complex64, is_non_singular: Optional[bool] = None,
                     is_self_adjoint: Optional[bool] = None, is_positive_definite: Optional[bool] = None,
                     is_square: bool = True, name: str = class_name):
            parameters = dict(spectrum=spectrum, input_output_dtype=input_output_dtype,
                              is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                              is_positive_definite=is_positive_definite, is_square=is_square, name=name)
            super().__init__(spectrum, block_depth=depth, input_output_dtype=input_output_dtype,
                             is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=is_square,
                             parameters=parameters, name=name)

        def _like(self, spectrum, **kwargs):
            return type(self)(spectrum=spectrum, **kwargs)

    _Circulant.__name__ = _Circulant.__qualname__ = class_name
    _Circulant.__doc__ = doc
    return _Circulant


LinearOperatorCirculant = _circulant_class(
    1, "LinearOperatorCirculant",
    "`tf.linalg.LinearOperatorCirculant`: a circulant matrix given by its spectrum (the DFT of its first "
    "column), `[B.., N]`.")
LinearOperatorCirculant2D = _circulant_class(
    2, "LinearOperatorCirculant2D",
    "`tf.linalg.LinearOperatorCirculant2D`: block circulant with circulant blocks, spectrum `[B.., N0, N1]`.")
LinearOperatorCirculant3D = _circulant_class(
    3, "LinearOperatorCirculant3D",
    "`tf.linalg.LinearOperatorCirculant3D`: doubly nested block circulant, spectrum `[B.., N0, N1, N2]`.")


# ------------------------------------------------------------------------------------------------
# Toeplitz
# ------------------------------------------------------------------------------------------------
def _toeplitz_to_complex(x):
    """Toeplitz's own conversion: always a Cast (complex64, or complex128 from a 64-bit dtype)."""
    dtype = _dt.complex128 if x.dtype.base_dtype in (_dt.float64, _dt.complex128) else _dt.complex64
    return _math.cast(x, dtype)


class LinearOperatorToeplitz(LinearOperator):
    """`tf.linalg.LinearOperatorToeplitz`: constant along its diagonals, given its first column and row
    (their first entries are taken to agree; `col[0]` is used). Matmul embeds it in a circulant of size
    2N; solve and determinant use the dense matrix, as TF does."""

    def __init__(self, col, row, is_non_singular: Optional[bool] = None, is_self_adjoint: Optional[bool] = None,
                 is_positive_definite: Optional[bool] = None, is_square: Optional[bool] = None,
                 name: str = "LinearOperatorToeplitz"):
        parameters = dict(col=col, row=row, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                          is_positive_definite=is_positive_definite, is_square=is_square, name=name)
        with _ops.name_scope(name, values=[row, col]):
            self._row = _to_tensor_keep_ref(row, name="row")
            self._col = _to_tensor_keep_ref(col, name="col")
            for arg, tensor in (("row", self._row), ("col", self._col)):
                if tensor.shape.ndims is not None and tensor.shape.ndims < 1:
                    raise ValueError(f"Argument {arg} must have at least 1 dimension.  Found: {tensor}")
            n_row, n_col = _ts.dimension_value(self._row.shape[-1]), _ts.dimension_value(self._col.shape[-1])
            if n_row is not None and n_col is not None and n_row != n_col:
                raise ValueError("Expected square matrix, got row and col with mismatched dimensions.")
            if is_square is False:
                raise ValueError("Only square Toeplitz operators currently supported.")
            super().__init__(dtype=self._row.dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=True,
                             parameters=parameters, name=name)

    @property
    def col(self):
        return self._col

    @property
    def row(self):
        return self._row

    def _shape(self):
        return _vector_shape(broadcast_static_shape(self.row.shape, self.col.shape))

    def _shape_tensor(self, row=None, col=None):
        row = self.row if row is None else row
        col = self.col if col is None else col
        v_shape = broadcast_dynamic_shape(_array.shape(row), _array.shape(col))
        return _array.concat((v_shape, [v_shape[-1]]), 0)

    def _assert_self_adjoint(self):
        return _check.assert_equal(self.row, self.col,
                                   message="row and col are not the same, and so this operator is not self-adjoint.")

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        # [[T, S], [S, T]] is circulant with first column [col, 0, reversed(row[1:])]; T x is the top half
        # of its product with [x; 0]
        x = _adjoint(x) if adjoint_arg else x
        expanded_x = _array.concat([x, _array.zeros_like(x)], axis=-2)
        col = convert_to_tensor(self.col)
        row = convert_to_tensor(self.row)
        circulant_col = _array.concat([col, _array.zeros_like(col[..., 0:1]), reverse_v2(row[..., 1:], axis=[-1])],
                                      axis=-1)
        circulant = LinearOperatorCirculant(_spectral.fft(_toeplitz_to_complex(circulant_col)),
                                            input_output_dtype=row.dtype)
        result = circulant.matmul(expanded_x, adjoint=adjoint, adjoint_arg=False)
        shape = self._shape_tensor(row=row, col=col)
        return _math.cast(result[..., :_domain_dim_tensor(self, shape), :], self.dtype)

    def _trace(self):
        return _math.cast(self.domain_dimension_tensor(), dtype=self.dtype) * self.col[..., 0]

    def _diag_part(self):
        return self.col[..., 0:1] * _array.ones([self.domain_dimension_tensor()], self.dtype)

    def _to_dense(self):
        # entry (i, j) is elements[(j - i) mod (2N - 1) shifted]: gather from [reversed(col), row[1:]]
        row = convert_to_tensor(self.row)
        col = convert_to_tensor(self.col)
        total_shape = broadcast_dynamic_shape(_array.shape(row), _array.shape(col))
        n = _array.shape(row)[-1]
        row = broadcast_to(row, total_shape)
        col = broadcast_to(col, total_shape)
        elements = _array.concat([reverse_v2(col, axis=[-1]), row[..., 1:]], axis=-1)
        indices = _math.floormod(_reduce.range(0, n) + _reduce.range(n - 1, -1, -1)[..., None], 2 * n - 1,
                                  name="mod")
        from graphcompat.ops.resource_variable_ops import gather
        return gather(elements, indices, axis=-1)


# ------------------------------------------------------------------------------------------------
# Tridiagonal
# ------------------------------------------------------------------------------------------------
_COMPACT, _MATRIX, _SEQUENCE = "compact", "matrix", "sequence"
_DIAGONAL_FORMATS = frozenset({_COMPACT, _MATRIX, _SEQUENCE})


class LinearOperatorTridiag(LinearOperator):
    """`tf.linalg.LinearOperatorTridiag`: a tridiagonal (batch) matrix in one of TF's three formats:
    'compact' `[..., 3, N]` (superdiagonal, diagonal, subdiagonal; the superdiagonal's last and the
    subdiagonal's first entry ignored), 'sequence' (a list of those three `[..., N]`) or 'matrix'
    `[..., N, N]`. Matmul and solve use TridiagonalMatMul and TridiagonalSolve."""

    def __init__(self, diagonals, diagonals_format: str = _COMPACT, is_non_singular: Optional[bool] = None,
                 is_self_adjoint: Optional[bool] = None, is_positive_definite: Optional[bool] = None,
                 is_square: Optional[bool] = None, name: str = "LinearOperatorTridiag"):
        parameters = dict(diagonals=diagonals, diagonals_format=diagonals_format, is_non_singular=is_non_singular,
                          is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                          is_square=is_square, name=name)
        with _ops.name_scope(name, values=[diagonals]):
            if diagonals_format not in _DIAGONAL_FORMATS:
                raise ValueError(f"Argument `diagonals_format` must be one of compact, matrix, or sequence. "
                                 f"Received : {diagonals_format}.")
            if diagonals_format == _SEQUENCE:
                self._diagonals = [_to_tensor_keep_ref(d, name=f"diag_{i}") for i, d in enumerate(diagonals)]
                dtype = self._diagonals[0].dtype
            else:
                self._diagonals = _to_tensor_keep_ref(diagonals, name="diagonals")
                dtype = self._diagonals.dtype
            self._diagonals_format = diagonals_format
            super().__init__(dtype=dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=is_square,
                             parameters=parameters, name=name)

    @property
    def diagonals(self):
        return self._diagonals

    @property
    def diagonals_format(self) -> str:
        return self._diagonals_format

    def _shape(self):
        if self.diagonals_format == _MATRIX:
            return self.diagonals.shape
        if self.diagonals_format == _COMPACT:
            d_shape = self.diagonals.shape[:-2].concatenate(self.diagonals.shape[-1:])
        else:
            batch = broadcast_static_shape(self.diagonals[0].shape[:-1], self.diagonals[1].shape[:-1])
            batch = broadcast_static_shape(batch, self.diagonals[2].shape[:-1])
            d_shape = batch.concatenate(self.diagonals[1].shape[-1:])
        return _vector_shape(d_shape)

    def _shape_tensor(self, diagonals=None):
        diagonals = diagonals if diagonals is not None else self.diagonals
        if self.diagonals_format == _MATRIX:
            return _array.shape(diagonals)
        if self.diagonals_format == _COMPACT:
            d_shape = _array.shape(diagonals[..., 0, :])
        else:
            # (TF takes these from the operator's own diagonals, whatever was passed)
            batch = broadcast_dynamic_shape(_array.shape(self.diagonals[0])[:-1],
                                            _array.shape(self.diagonals[1])[:-1])
            batch = broadcast_dynamic_shape(batch, _array.shape(self.diagonals[2])[:-1])
            d_shape = _array.concat([batch, [_array.shape(self.diagonals[1])[-1]]], axis=0)
        return _array.concat([d_shape, [d_shape[-1]]], axis=-1)

    def _assert_self_adjoint(self):
        diag_message = "This tridiagonal operator contained non-zero imaginary values on the diagonal."
        off_diag_message = "This tridiagonal operator has non-conjugate subdiagonal and superdiagonal."
        if self.diagonals_format == _MATRIX:
            asserts = [_check.assert_equal(self.diagonals, _adjoint(self.diagonals),
                                           message="Matrix was not equal to its adjoint.")]
        else:
            if self.diagonals_format == _COMPACT:
                diagonals = convert_to_tensor(self.diagonals)
                asserts = [_assert_zero_imag_part(diagonals[..., 1, :], message=diag_message)]
                subdiag = roll(diagonals[..., 2, :], shift=-1, axis=-1)
                conj_subdiag = _math.conj(subdiag[..., :-1])
                superdiag = diagonals[..., 0, :-1]
            else:
                asserts = [_assert_zero_imag_part(self.diagonals[1], message=diag_message)]
                subdiag = roll(self.diagonals[2], shift=-1, axis=-1)
                conj_subdiag = _math.conj(subdiag[..., :-1])
                superdiag = self.diagonals[0][..., :-1]
            asserts.append(_check.assert_equal(conj_subdiag, superdiag, message=off_diag_message))
        return _control.group(asserts)

    def _construct_adjoint_diagonals(self, diagonals):
        # the adjoint swaps (and conjugates) super- and subdiagonal, shifting them by one
        if self.diagonals_format == _SEQUENCE:
            diagonals = [_math.conj(d) for d in reversed(diagonals)]
            diagonals[0] = roll(diagonals[0], shift=-1, axis=-1)
            diagonals[2] = roll(diagonals[2], shift=1, axis=-1)
            return diagonals
        if self.diagonals_format == _MATRIX:
            return _adjoint(diagonals)
        diagonals = _math.conj(diagonals)
        superdiag, diag, subdiag = _array.unstack(diagonals, num=3, axis=-2)
        new_superdiag = roll(subdiag, shift=-1, axis=-1)
        new_subdiag = roll(superdiag, shift=1, axis=-1)
        return _array.stack([new_superdiag, diag, new_subdiag], axis=-2)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        diagonals = self.diagonals
        if adjoint:
            diagonals = self._construct_adjoint_diagonals(diagonals)
        x = _adjoint(x) if adjoint_arg else x
        return tridiagonal_matmul(diagonals, x, diagonals_format=self.diagonals_format)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        diagonals = self.diagonals
        if adjoint:
            diagonals = self._construct_adjoint_diagonals(diagonals)
        # TridiagonalSolve needs one batch shape: broadcast the diagonals and rhs to it
        rhs_shape = _array.shape(rhs)
        k = self._shape_tensor(diagonals)[-1]
        broadcast_shape = broadcast_dynamic_shape(self._shape_tensor(diagonals)[:-2], rhs_shape[:-2])
        rhs = broadcast_to(rhs, _array.concat([broadcast_shape, rhs_shape[-2:]], axis=-1))
        if self.diagonals_format == _MATRIX:
            diagonals = broadcast_to(diagonals, _array.concat([broadcast_shape, [k, k]], axis=-1))
        elif self.diagonals_format == _COMPACT:
            diagonals = broadcast_to(diagonals, _array.concat([broadcast_shape, [3, k]], axis=-1))
        else:
            diagonals = [broadcast_to(d, _array.concat([broadcast_shape, [k]], axis=-1)) for d in diagonals]
        # (TF passes adjoint_arg as conjugate_rhs only: an adjoint_arg rhs is conjugated, not transposed)
        return tridiagonal_solve(diagonals, rhs, diagonals_format=self.diagonals_format, conjugate_rhs=adjoint_arg)

    def _diag_part(self):
        if self.diagonals_format == _MATRIX:
            return _linalg.matrix_diag_part(self.diagonals)
        if self.diagonals_format == _SEQUENCE:
            return broadcast_to(self.diagonals[1], self.shape_tensor()[:-1])
        return self.diagonals[..., 1, :]

    def _to_dense(self):
        if self.diagonals_format == _MATRIX:
            return self.diagonals
        if self.diagonals_format == _COMPACT:
            diagonals = self.diagonals
        else:
            diagonals = _array.stack([convert_to_tensor(d) for d in self.diagonals], axis=-2)
        return _linalg.matrix_diag(diagonals, k=(-1, 1), num_rows=-1, num_cols=-1, align="LEFT_RIGHT",
                                   padding_value=0., name="MatrixDiagV3")


# ------------------------------------------------------------------------------------------------
# Sums of operators (TF's private linear_operator_addition, which the block inverse uses)
# ------------------------------------------------------------------------------------------------
_ADDABLE = (LinearOperatorDiag, LinearOperatorLowerTriangular, LinearOperatorFullMatrix, LinearOperatorIdentity,
            LinearOperatorScaledIdentity)


def _kind(operator: LinearOperator) -> str:
    for cls, kind in ((LinearOperatorDiag, "diag"), (LinearOperatorLowerTriangular, "tril"),
                      (LinearOperatorFullMatrix, "matrix"), (LinearOperatorIdentity, "identity"),
                      (LinearOperatorScaledIdentity, "scaled_identity")):
        if isinstance(operator, cls):
            return kind
    raise TypeError(f"Expected operator to be one of [LinearOperatorDiag, LinearOperatorLowerTriangular, "
                    f"LinearOperatorFullMatrix, LinearOperatorIdentity, LinearOperatorScaledIdentity]. "
                    f"Received: {operator}")


_IDENTITY_FAMILY = {"identity", "scaled_identity"}
_DIAG_LIKE = {"diag", "identity", "scaled_identity"}


def _sum_hints(op1: LinearOperator, op2: LinearOperator) -> dict:
    is_positive_definite = op1.is_positive_definite and op2.is_positive_definite
    return dict(is_non_singular=True if is_positive_definite else None,
                is_self_adjoint=op1.is_self_adjoint and op2.is_self_adjoint,
                is_positive_definite=is_positive_definite)


def _add_scaled_identity(op1, op2, name, hints):
    def multiplier(op):
        if _kind(op) == "scaled_identity":
            return op.multiplier
        return _array.ones(op.batch_shape_tensor(), dtype=op.dtype)
    return LinearOperatorScaledIdentity(num_rows=op1.range_dimension_tensor(),
                                        multiplier=multiplier(op1) + multiplier(op2), name=name, **hints)


def _add_diag(op1, op2, name, hints):
    return LinearOperatorDiag(diag=op1.diag_part() + op2.diag_part(), name=name, **hints)


def _add_dense(cls, arg: str):
    def add(op1, op2, name, hints):
        # the diagonal-like operand adds itself to the other's dense matrix
        into, other = (op1, op2) if _kind(op1) in _DIAG_LIKE else (op2, op1)
        return cls(**{arg: into.add_to_tensor(other.to_dense())}, name=name, **hints)
    return add


# tiers tried in order: (scope name, can add the two kinds, add)
_ADDITION_TIERS = [
    ("AddAndReturnScaledIdentity", lambda a, b: not {_kind(a), _kind(b)} - _IDENTITY_FAMILY, _add_scaled_identity),
    ("AddAndReturnDiag", lambda a, b: not {_kind(a), _kind(b)} - _DIAG_LIKE, _add_diag),
    ("AddAndReturnTriL", lambda a, b: not {_kind(a), _kind(b)} - (_DIAG_LIKE | {"tril"}),
     _add_dense(LinearOperatorLowerTriangular, "tril")),
    ("AddAndReturnMatrix", lambda a, b: True, _add_dense(LinearOperatorFullMatrix, "matrix")),
]


def _add_operators(operators: list) -> LinearOperator:
    """The sum of same-shaped operators, pairwise with the most structured adder that applies."""
    operators = list(reversed(operators))
    for attr in ("domain_dimension", "range_dimension"):
        values = {_ts.dimension_value(getattr(o, attr)) for o in operators} - {None}
        if len(values) > 1:
            raise ValueError(f"All operators must have the same `{attr}`.")
    batch_shape = operators[0].batch_shape
    for o in operators[1:]:
        batch_shape = broadcast_static_shape(batch_shape, o.batch_shape)
    with _ops.name_scope("add_operators"):
        next_tier = list(operators)
        for scope, can_add, add in _ADDITION_TIERS:
            this_tier, next_tier = next_tier, []
            while this_tier:
                op1 = this_tier.pop()
                match = next((k for k in range(1, len(this_tier) + 1) if can_add(op1, this_tier[-k])), None)
                if match is None:
                    next_tier.append(op1)
                    continue
                op2 = this_tier.pop(-match)
                with _ops.name_scope(scope):
                    this_tier.append(add(op1, op2, f"Add/{op1.name}__{op2.name}/", _sum_hints(op1, op2)))
        assert len(next_tier) == 1  # the last tier adds anything
        return next_tier[0]


# ------------------------------------------------------------------------------------------------
# Block lower triangular
# ------------------------------------------------------------------------------------------------
def _arg_is_blockwise(block_dimensions: list, arg) -> bool:
    """A list/tuple with one entry per block is taken block by block (TF's arg_is_blockwise)."""
    if isinstance(arg, (list, tuple)) and len(arg) == len(block_dimensions):
        if any(isinstance(a, (list, tuple)) for a in arg):
            raise NotImplementedError("tf.linalg.LinearOperatorBlockLowerTriangular: a blockwise argument with "
                                      "nested blocks is not supported by graphcompat")
        return True
    return False


class LinearOperatorBlockLowerTriangular(LinearOperator):
    """`tf.linalg.LinearOperatorBlockLowerTriangular`: a square block matrix whose blocks above the
    diagonal are zero, given row by row (`operators[i]` holds the i+1 blocks of row i, the last one on
    the diagonal and square). Solves go by forward (or, for the adjoint, backward) substitution."""

    def __init__(self, operators, is_non_singular: Optional[bool] = None, is_self_adjoint: Optional[bool] = None,
                 is_positive_definite: Optional[bool] = None, is_square: Optional[bool] = None,
                 name: str = "LinearOperatorBlockLowerTriangular"):
        from graphcompat.ops.check_extra_ops import assert_proper_iterable
        parameters = dict(operators=operators, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                          is_positive_definite=is_positive_definite, is_square=is_square, name=name)
        assert_proper_iterable(operators)
        for row in operators:
            assert_proper_iterable(row)
        operators = [list(row) for row in operators]
        if not operators:
            raise ValueError(f"Argument `operators` must be a list of >=1 operators. Received: {operators}.")
        self._operators = operators
        self._diagonal_operators = [row[-1] for row in operators]
        dtype = operators[0][0].dtype
        for i, row in enumerate(operators):
            if any(o.dtype != dtype for o in row):
                names = [str((o.name, o.dtype)) for o in row]
                raise TypeError(f"Expected all operators to have the same dtype.  Found {names} in row {i} and "
                                f"{dtype} in row 0.")
        is_non_singular = self._validate_non_singular(is_non_singular)
        for i, row in enumerate(operators):
            if len(row) != i + 1:
                raise ValueError(f"Argument `operators[{i}]` must contain `{i + 1}` blocks. "
                                 f"Received: {len(row)} blocks.")
        self._validate_operator_dimensions()
        if is_square is False:
            raise ValueError(f"`LinearOperatorBlockLowerTriangular` must be square. Expected argument `is_square` "
                             f"to be True. Received: {is_square}.")
        for i, op in enumerate(self._diagonal_operators):
            if op.is_square is False:
                raise ValueError(f"Matrices on the diagonal (the final elements of each row-partition in the "
                                 f"`operators` list) must be square. Expected argument `operators[{i}][-1].is_square` "
                                 f"to be True. Received: {op.is_square}.")
        with _ops.name_scope(name):
            super().__init__(dtype=dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                             is_positive_definite=is_positive_definite, is_square=True,
                             parameters=parameters, name=name)

    def _validate_operator_dimensions(self) -> None:
        # a block shares its domain with the block above it and its range with the block to its right
        for i in range(1, len(self.operators)):
            for j in range(i):
                op, above, right = self.operators[i][j], self.operators[i - 1][j], self.operators[i][j + 1]
                if op.domain_dimension is not None and above.domain_dimension is not None and \
                        op.domain_dimension != above.domain_dimension:
                    raise ValueError(f"Argument `operators[{i}][{j}].domain_dimension` ({op.domain_dimension}) must "
                                     f"be the same as `operators[{i - 1}][{j}].domain_dimension` "
                                     f"({above.domain_dimension}).")
                if op.range_dimension is not None and right.range_dimension is not None and \
                        op.range_dimension != right.range_dimension:
                    raise ValueError(f"Argument `operators[{i}][{j}].range_dimension` ({op.range_dimension}) must "
                                     f"be the same as `operators[{i}][{j + 1}].range_dimension` "
                                     f"({right.range_dimension}).")

    def _validate_non_singular(self, is_non_singular):
        if all(op.is_non_singular for op in self._diagonal_operators):
            if is_non_singular is False:
                raise ValueError(f"A blockwise lower-triangular operator with non-singular operators on the main "
                                 f"diagonal is always non-singular. Expected argument `is_non_singular` to be True. "
                                 f"Received: {is_non_singular}.")
            return True
        if any(op.is_non_singular is False for op in self._diagonal_operators):
            if is_non_singular is True:
                raise ValueError(f"A blockwise lower-triangular operator with a singular operator on the main "
                                 f"diagonal is always singular. Expected argument `is_non_singular` to be True. "
                                 f"Received: {is_non_singular}.")
            return False
        return None

    @property
    def operators(self) -> list:
        return self._operators

    def _block_range_dimensions(self) -> list:
        return [op.range_dimension for op in self._diagonal_operators]

    def _block_domain_dimensions(self) -> list:
        return [op.domain_dimension for op in self._diagonal_operators]

    def _block_domain_dimension_tensors(self) -> list:
        return [op.domain_dimension_tensor() for op in self._diagonal_operators]

    def _shape(self):
        domain = sum(self._block_domain_dimensions(), _ts.Dimension(0))
        rng = sum(self._block_range_dimensions(), _ts.Dimension(0))
        batch_shape = self.operators[0][0].batch_shape
        for row in self.operators[1:]:
            for operator in row:
                batch_shape = broadcast_static_shape(batch_shape, operator.batch_shape)
        return batch_shape.concatenate(_ts.TensorShape([domain, rng]))

    def _shape_tensor(self):
        if self.shape.is_fully_defined():
            return convert_to_tensor(self.shape.as_list(), dtype=_dt.int32, name="shape")
        domain = sum(self._block_domain_dimension_tensors())  # sum() from 0: TF's add/x constants
        rng = sum([op.range_dimension_tensor() for op in self._diagonal_operators])
        matrix_shape = _array.stack([domain, rng])
        batch_shape = self.operators[0][0].batch_shape_tensor()
        for row in self.operators[1:]:
            for operator in row:
                batch_shape = broadcast_dynamic_shape(batch_shape, operator.batch_shape_tensor())
        return _array.concat((batch_shape, matrix_shape), 0)

    def _linop_inverse(self):
        if len(self.operators) == 1:
            return LinearOperatorBlockLowerTriangular(
                [[self.operators[0][0].inverse()]], is_non_singular=self.is_non_singular,
                is_self_adjoint=self.is_self_adjoint, is_positive_definite=self.is_positive_definite, is_square=True)
        # [[A, 0], [C, D]]^{-1} = [[A^{-1}, 0], [-D^{-1} C A^{-1}, D^{-1}]], A itself block lower triangular
        n = len(self.operators)
        upper_left_inverse = LinearOperatorBlockLowerTriangular(self.operators[:-1]).inverse()
        bottom_row = self.operators[-1]
        bottom_right_inverse = bottom_row[-1].inverse()
        inverse_bottom_row = []
        for i in range(n - 1):
            blocks = []
            for j in range(i, n - 1):
                result = bottom_row[j].matmul(upper_left_inverse.operators[j][i])
                if not isinstance(result, _ADDABLE):
                    result = LinearOperatorFullMatrix(result.to_dense())
                blocks.append(result)
            summed = _add_operators(blocks)
            block = bottom_right_inverse.matmul(summed)
            block = LinearOperatorScaledIdentity(num_rows=bottom_right_inverse.domain_dimension_tensor(),
                                                 multiplier=_math.cast(-1, dtype=block.dtype)).matmul(block)
            inverse_bottom_row.append(block)
        inverse_bottom_row.append(bottom_right_inverse)
        return LinearOperatorBlockLowerTriangular(
            upper_left_inverse.operators + [inverse_bottom_row], is_non_singular=self.is_non_singular,
            is_self_adjoint=self.is_self_adjoint, is_positive_definite=self.is_positive_definite, is_square=True)

    def _split(self, x, axis: int) -> list:
        sizes = [_ts.dimension_value(d) for d in self._block_domain_dimensions()]
        if any(s is None for s in sizes):
            sizes = self._block_domain_dimension_tensors()
        return _array.split(x, sizes, axis=axis)

    def _blockwise_args(self, arg, dims: list, axis: int) -> list:
        blocks = list(arg)
        for i, block in enumerate(blocks):
            if not isinstance(block, LinearOperator):
                block = convert_to_tensor(block)
                self._check_input_dtype(block)
                dims[i].assert_is_compatible_with(block.shape[axis])
                blocks[i] = block
        return blocks

    def matmul(self, x, adjoint: bool = False, adjoint_arg: bool = False, name: str = "matmul"):
        if isinstance(x, LinearOperator):
            return super().matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg, name=name)
        with self._name_scope(name):
            arg_dim = -1 if adjoint_arg else -2
            dims = self._block_range_dimensions() if adjoint else self._block_domain_dimensions()
            if _arg_is_blockwise(dims, x):
                x = self._blockwise_args(x, dims, arg_dim)
            else:
                x = convert_to_tensor(x, name="x")
                self._check_input_dtype(x)
                (self.range_dimension if adjoint else self.domain_dimension).assert_is_compatible_with(
                    x.shape[arg_dim])
            return self._matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        dims = self._block_range_dimensions() if adjoint else self._block_domain_dimensions()
        blockwise = _arg_is_blockwise(dims, x)
        split_x = x if blockwise else self._split(x, -1 if adjoint_arg else -2)
        results = []
        n = len(self.operators)
        if adjoint:
            # block column `index` of A, transposed: its diagonal block and those below it
            for index in range(n):
                result = self.operators[index][index].matmul(split_x[index], adjoint=adjoint, adjoint_arg=adjoint_arg)
                for j in range(index + 1, n):
                    result += self.operators[j][index].matmul(split_x[j], adjoint=adjoint, adjoint_arg=adjoint_arg)
                results.append(result)
        else:
            for row in self.operators:
                result = row[0].matmul(split_x[0], adjoint=adjoint, adjoint_arg=adjoint_arg)
                for j, operator in enumerate(row[1:]):
                    result += operator.matmul(split_x[j + 1], adjoint=adjoint, adjoint_arg=adjoint_arg)
                results.append(result)
        if blockwise:
            return results
        return _array.concat(_broadcast_matrix_batch_dims(results), axis=-2)

    def matvec(self, x, adjoint: bool = False, name: str = "matvec"):
        with self._name_scope(name):
            dims = self._block_range_dimensions() if adjoint else self._block_domain_dimensions()
            if _arg_is_blockwise(dims, x):
                x = self._blockwise_args(x, dims, -1)
                y_mat = self.matmul([block[..., None] for block in x], adjoint=adjoint)
                return [_array.squeeze(y, axis=-1) for y in y_mat]
            x = convert_to_tensor(x, name="x")
            self._check_input_dtype(x)
            (self.range_dimension if adjoint else self.domain_dimension).assert_is_compatible_with(x.shape[-1])
            return _array.squeeze(self.matmul(x[..., None], adjoint=adjoint), axis=-1)

    def _determinant(self):
        if all(op.is_positive_definite for op in self._diagonal_operators):
            return _math.exp(self._log_abs_determinant())
        result = self._diagonal_operators[0].determinant()
        for op in self._diagonal_operators[1:]:
            result *= op.determinant()
        return result

    def _log_abs_determinant(self):
        result = self._diagonal_operators[0].log_abs_determinant()
        for op in self._diagonal_operators[1:]:
            result += op.log_abs_determinant()
        return result

    def solve(self, rhs, adjoint: bool = False, adjoint_arg: bool = False, name: str = "solve"):
        if isinstance(rhs, LinearOperator):
            return super().solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg, name=name)
        self._check_solvable()
        with self._name_scope(name):
            dims = self._block_domain_dimensions() if adjoint else self._block_range_dimensions()
            arg_dim = -1 if adjoint_arg else -2
            blockwise = _arg_is_blockwise(dims, rhs)
            if blockwise:
                rhs = self._blockwise_args(rhs, dims, arg_dim)
                split_rhs = [_adjoint(y) for y in rhs] if adjoint_arg else rhs
            else:
                rhs = convert_to_tensor(rhs, name="rhs")
                self._check_input_dtype(rhs)
                (self.domain_dimension if adjoint else self.range_dimension).assert_is_compatible_with(
                    rhs.shape[arg_dim])
                rhs = _adjoint(rhs) if adjoint_arg else rhs
                split_rhs = self._split(rhs, -2)
            n = len(self.operators)
            solutions = []
            if adjoint:
                # A^H is block upper triangular: back substitution from the last block
                for index in reversed(range(n)):
                    y = split_rhs[index]
                    for j in reversed(range(index + 1, n)):
                        y = y - self.operators[j][index].matmul(solutions[n - 1 - j], adjoint=adjoint)
                    solutions.append(self._diagonal_operators[index].solve(y, adjoint=adjoint))
                solutions.reverse()
            else:
                for row, y in zip(self.operators, split_rhs):
                    for i, operator in enumerate(row[:-1]):
                        y = y - operator.matmul(solutions[i], adjoint=adjoint)
                    solutions.append(row[-1].solve(y, adjoint=adjoint))
            if blockwise:
                return solutions
            return _array.concat(_broadcast_matrix_batch_dims(solutions), axis=-2)

    def solvevec(self, rhs, adjoint: bool = False, name: str = "solve"):
        with self._name_scope(name):
            dims = self._block_domain_dimensions() if adjoint else self._block_range_dimensions()
            if _arg_is_blockwise(dims, rhs):
                rhs = self._blockwise_args(rhs, dims, -1)
                solution = self.solve([_array.expand_dims(block, axis=-1) for block in rhs], adjoint=adjoint)
                return [_array.squeeze(x, axis=-1) for x in solution]
            rhs = convert_to_tensor(rhs, name="rhs")
            self._check_input_dtype(rhs)
            (self.domain_dimension if adjoint else self.range_dimension).assert_is_compatible_with(rhs.shape[-1])
            return _array.squeeze(self.solve(_array.expand_dims(rhs, axis=-1), adjoint=adjoint), axis=-1)

    def _stack_diagonal_blocks(self, method: str):
        parts = _broadcast_matrix_batch_dims([getattr(op, method)()[..., None] for op in self._diagonal_operators])
        return _array.squeeze(_array.concat(parts, axis=-2), axis=-1)

    def _diag_part(self):
        return self._stack_diagonal_blocks("diag_part")

    def _trace(self):
        result = self._diagonal_operators[0].trace()
        for op in self._diagonal_operators[1:]:
            result += op.trace()
        return result

    def _to_dense(self):
        # each block row: its blocks, then zeros up to the full width; rows stacked
        flat = _broadcast_matrix_batch_dims([op.to_dense() for row in self.operators for op in row])
        rows = [flat[i * (i + 1) // 2:(i + 1) * (i + 2) // 2] for i in range(len(self.operators))]
        num_cols, dense_rows = 0, []
        for row_blocks in rows:
            batch_row_shape = _array.shape(row_blocks[0])[:-1]
            num_cols += _array.shape(row_blocks[-1])[-1]
            pad_shape = _array.concat([batch_row_shape, [self.domain_dimension_tensor() - num_cols]], axis=-1)
            row_blocks.append(_array.zeros(shape=pad_shape, dtype=self.dtype))
            dense_rows.append(_array.concat(row_blocks, axis=-1))
        mat = _array.concat(dense_rows, axis=-2)
        mat.set_shape(self.shape)
        return mat

    def _assert_non_singular(self):
        return _control.group([op.assert_non_singular() for op in self._diagonal_operators])

    def _eigvals(self):
        return self._stack_diagonal_blocks("eigvals")
