"""Lowerings of graphcompat/ops/more_tf_ops.py: TopK, UniqueV2, UniqueWithCountsV2, TileGrad, ToBool, Fact,
AccumulateNV2, ParallelDynamicStitch, Eig, BandedTriangularSolve, QuantizeAndDequantize.

Where TF's kernel for the op is another op's kernel (TopK is TopKV2's with k from an attr; ParallelDynamicStitch
is DynamicStitch's, which also fixes the order of duplicate indices; QuantizeAndDequantize is V2's with the range
as attrs), the rule calls that op's rule, so numerics and error texts are shared.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from lowering.registry import RULES, lowers
from lowering.rules.checks import invalid, shape_str

_INVALID = errors.InvalidArgumentError


def _rule(op_type: str):
    return RULES[op_type].fn


@lowers("TopK")
def top_k_v1(x, *, k, **_):
    """TF 1.x's TopK: TopKV2's kernel, k an attr (TF 2.21 registers that kernel with an `index_type`
    constraint the V1 NodeDef lacks, so its own runtime refuses the node; this is the TF 1.x kernel)."""
    return _rule("TopKV2")(x, np.int32(k), index_type=np.int32)


def _unique_axis(x: np.ndarray, axis_value) -> tuple:
    """UniqueOp's checks: (x viewed as [before, n, after], the axis) for UniqueV2's axis input."""
    axis_value = np.asarray(axis_value)
    if axis_value.ndim != 1:
        raise invalid("axis expects a 1D vector.")
    if axis_value.size > 1:
        raise invalid("axis does not support input tensors larger than 1 elements")
    if axis_value.size == 0:
        if x.ndim != 1:
            raise invalid("unique expects a 1D vector.")
        return x.reshape(1, -1, 1), 0
    axis = int(axis_value[0])
    axis = axis + x.ndim if axis < 0 else axis
    if not 0 <= axis < x.ndim:
        raise invalid(f"axis has to be between [0, {x.ndim})")
    before = int(np.prod(x.shape[:axis], dtype=np.int64))
    return x.reshape(before, x.shape[axis], -1), axis


def _unique_slices(x, axis_value):
    """(unique slices along the axis in first-occurrence order, each slice's position among them, counts),
    slices equal as TF's hash map compares them: element by element with `==` (so -0.0 is 0.0 and a slice
    holding a NaN equals no other)."""
    from lowering.rules.segment import unique_first_occurrence
    x = np.asarray(x)
    view, axis = _unique_axis(x, axis_value)
    n = view.shape[1]
    if view.shape[0] * view.shape[2] == 1 or n == 0:  # one element per slice: the hash-map Unique itself
        firsts, position, counts = unique_first_occurrence(view.reshape(-1))
    else:
        slices = np.moveaxis(view, 1, 0).reshape(n, -1)
        if slices.dtype.kind in "fc":
            slices = slices + slices.dtype.type(0)  # -0.0 + 0.0 is 0.0
        seen: dict = {}
        position = np.empty(n, np.int64)
        firsts, counts = [], []
        for j in range(n):
            # tolist() makes every NaN its own float object: a tuple holding one equals no other tuple
            key = (tuple(slices[j].tolist()) if slices.dtype != object else tuple(slices[j]))
            k = seen.get(key)
            if k is None:
                k = seen[key] = len(firsts)
                firsts.append(j)
                counts.append(0)
            position[j] = k
            counts[k] += 1
        firsts, counts = np.asarray(firsts, np.int64), np.asarray(counts, np.int64)
    y = np.take(view, firsts, axis=1)
    out_shape = list(x.shape) if x.ndim else [1]
    out_shape[axis] = len(firsts)
    return y.reshape(out_shape), position, counts


@lowers("UniqueV2", host=True)
def unique_v2(x, axis, *, out_idx=np.int32, **_):
    y, position, _ = _unique_slices(x, axis)
    return y, position.astype(out_idx)


@lowers("UniqueWithCountsV2", host=True)
def unique_with_counts_v2(x, axis, *, out_idx=np.int32, **_):
    y, position, counts = _unique_slices(x, axis)
    return y, position.astype(out_idx), counts.astype(out_idx)


@lowers("TileGrad")
def tile_grad(x, multiples, **_):
    """TileGradientOp (TF 1.x; TF 2.21's kernel carries Tile's `Tmultiples` constraint, which the TileGrad
    NodeDef lacks): the gradient of Tile. Output dimension i is input dimension i // multiples[i], each element
    the sum of its multiples[i] copies (rows past the last whole copy are left out, as the kernel's slices)."""
    multiples = [int(m) for m in np.asarray(multiples).reshape(-1)]
    shape = np.shape(x)
    if len(multiples) != len(shape):
        raise invalid(f"Expected multiples argument to be a vector of length {len(shape)} but got length "
                      f"{len(multiples)}")
    if any(m <= 0 for m in multiples):  # TF's kernel divides by each multiple
        raise invalid(f"Expected multiples to be positive, got {multiples}")
    x = jnp.asarray(x)[tuple(slice(0, m * (size // m)) for size, m in zip(shape, multiples))]
    split = [d for size, m in zip(shape, multiples) for d in (m, size // m)]
    return jnp.sum(jnp.reshape(x, split), axis=tuple(range(0, 2 * len(shape), 2)))


@lowers("ToBool")
def to_bool(x, **_):
    """ToBoolOp: a scalar is true when it is not zero (a string: not empty); any other tensor when it has
    elements."""
    if np.ndim(x) == 0:
        if isinstance(x, np.ndarray) and x.dtype == object:
            return np.asarray(len(x.item()) > 0)
        return jnp.asarray(x) != 0
    return np.asarray(np.size(x) > 0)


@lowers("Fact", host=True)
def fact(**_):
    """TF's example user op (core/user_ops/fact.cc): a constant string."""
    return np.asarray(b"0! == 1", dtype=object)


@lowers("AccumulateNV2")
def accumulate_n_v2(*inputs, **_):
    """TF rewrites AccumulateNV2 into a temporary variable that each input is added to as it arrives; the
    result is AddN's sum."""
    return _rule("AddN")(*inputs)


@lowers("ParallelDynamicStitch", context=True, host=True)
def parallel_dynamic_stitch(ctx, op, *args):
    """DynamicStitch's kernel (where indices repeat TF leaves the order unspecified; this takes the last)."""
    return _rule("DynamicStitch")(ctx, op, *args)


@lowers("Eig", host=True)
def eig(x, *, Tout, compute_v=True, **_):
    """EigOp: the eigenvalues and unit-norm eigenvectors of square matrices, on the host (XLA decomposes general
    matrices on CPU only): LAPACK's geev, or jax's (the same routine) when a gradient's re-trace differentiates
    it. TF's Eigen ComplexEigenSolver returns them in the order of its own Schur form, which differs from
    geev's: the eigenvalues are the same set, each eigenvector matches its eigenvalue up to a phase."""
    shape = np.shape(x)
    if len(shape) < 2:
        raise invalid(f"Input tensor 0 must have rank >= 2, got {len(shape)}")
    if shape[-1] != shape[-2]:
        raise invalid("Input matrix must be square.")
    out = np.dtype(Tout)
    traced = isinstance(x, jax.core.Tracer)
    xp = jnp if traced else np
    if 0 in shape:
        return xp.zeros(shape[:-1], out), xp.zeros(shape if compute_v else (), out)
    if traced:  # TF's gradient differentiates the eigenvectors too (under the same assumptions as jax's)
        values, vectors = jax.lax.linalg.eig(jnp.asarray(x).astype(out), compute_left_eigenvectors=False,
                                             enable_eigvec_derivs=True)
    else:
        values, vectors = np.linalg.eig(np.asarray(x).astype(out))
    if not compute_v:
        return values.astype(out), xp.zeros((), out)  # TF's kernel leaves v a scalar zero
    return values.astype(out), vectors.astype(out)


def _dense_band(band, lower: bool):
    """The [..., M, M] matrix BandedTriangularSolve's kernel reads out of its band storage [..., K, M], each
    row r of the matrix from column r of the bands: lower, A[r, c] = band[r - c, r]; upper,
    A[r, c] = band[K - 1 - (c - r), r]."""
    k, m = band.shape[-2], band.shape[-1]
    rows, cols = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    offset = rows - cols if lower else cols - rows
    inside = (offset >= 0) & (offset < k)
    which = np.clip(offset, 0, k - 1) if lower else np.clip(k - 1 - offset, 0, k - 1)
    dense = band[..., which, rows]
    return jnp.where(inside, dense, jnp.zeros((), dense.dtype))


@lowers("BandedTriangularSolve")
def banded_triangular_solve(matrix, rhs, *, lower=True, adjoint=False, **_):
    """BandedTriangularSolveOpCpu's checks, and the solve of the triangular matrix its band storage holds."""
    from jax.scipy.linalg import solve_triangular
    for i, x in enumerate((matrix, rhs)):
        if np.ndim(x) < 2:
            raise invalid(f"In[{i}] ndims must be >= 2: {np.ndim(x)}")
    for i, x in enumerate((matrix, rhs)):
        if np.size(x) == 0:
            raise invalid(f"In[{i}] must not be an empty tensor: {_debug_string(x)}")
    sm, sr = np.shape(matrix), np.shape(rhs)
    try:
        batch = np.broadcast_shapes(sm[:-2], sr[:-2])
    except ValueError:
        raise invalid(f"In[0] and In[1] must have compatible batch dimensions: {shape_str(sm)} vs. "
                      f"{shape_str(sr)}") from None
    if sm[-1] != sr[-2]:
        raise invalid(f"In[0] mismatch In[1] shape: {sm[-1]} vs. {sr[-2]}: {shape_str(sm)} {shape_str(sr)} "
                      f"{int(lower)} {int(adjoint)}")
    matrix, rhs = jnp.asarray(matrix), jnp.asarray(rhs)
    # TF checks the pivots of the first matrix of the batch only (its diagonal row of the band storage)
    first = jnp.reshape(matrix, (-1,) + sm[-2:])[0]
    from lowering.interpreter import require
    require(jnp.min(jnp.abs(first[0 if lower else sm[-2] - 1])) > 0, _INVALID, "Input matrix is not invertible.")
    dense = _dense_band(matrix, lower)
    dense = jnp.broadcast_to(dense, batch + dense.shape[-2:])
    rhs = jnp.broadcast_to(rhs, batch + rhs.shape[-2:])
    return solve_triangular(dense, rhs, lower=lower, trans="C" if adjoint else 0).astype(matrix.dtype)


def _debug_string(x) -> str:
    return f"Tensor<type: {np.asarray(x).dtype.name} shape: {shape_str(np.shape(x))} values: >"


@lowers("QuantizeAndDequantize", context=True)
def quantize_and_dequantize_v1(ctx, op, x, **_):
    """QuantizeAndDequantizeOp (V1): V2's computation with the range from attrs, round half to even, no narrow
    range; its gradient passes straight through, as TF's registered one."""
    from lowering.rules.quantized import _qdq_compute, _qdq_kernel
    _qdq_kernel(op)
    attrs = op.attrs
    dtype = jnp.result_type(x)
    return _qdq_compute(x, np.asarray(attrs["input_min"], dtype), np.asarray(attrs["input_max"], dtype),
                        signed_input=attrs["signed_input"], num_bits=attrs["num_bits"],
                        range_given=attrs["range_given"], round_mode="HALF_TO_EVEN", narrow_range=False, axis=-1,
                        num_bits_text="signed_input_", straight_through=True)


# ------------------------------------------------------------------------------------------------
# Parsing: ParseExampleV2 and TF 1.x's sequence parsers, on the ParseExample / ParseSequenceExampleV2 rules
# ------------------------------------------------------------------------------------------------
def _keys(value) -> list:
    return [k.decode() if isinstance(k, bytes) else str(k) for k in np.asarray(value, dtype=object).reshape(-1)]


@lowers("ParseExampleV2", host=True)
def parse_example_v2(serialized, names, sparse_keys, dense_keys, ragged_keys, *dense_defaults, Tdense, num_sparse,
                     sparse_types, ragged_value_types, ragged_split_types, dense_shapes, **_):
    """FastParseExample / FastParseSingleExample with the keys as inputs (lowering/rules/data.py's parser):
    each RaggedFeature's values (every example's list, concatenated) and row splits ([0] + the running counts
    for a vector input, none for a scalar one) follow the dense values."""
    from lowering.rules.data import parse_examples
    outs = parse_examples(serialized, names, _keys(sparse_keys), _keys(dense_keys), _keys(ragged_keys),
                          dense_defaults, sparse_types, dense_shapes, Tdense, ragged_value_types, ragged_split_types)
    return outs[0] if len(outs) == 1 else tuple(outs)


def _sequence_v2(serialized, debug_name, keys: dict, missing_assumed_empty: list, defaults, attrs: dict):
    """ParseSequenceExampleV2's rule with the keys given as lists (no ragged features)."""
    fl_dense = keys["feature_list_dense_keys"]
    empty = np.zeros([0], object)
    return _rule("ParseSequenceExampleV2")(
        serialized, debug_name, np.asarray(keys["context_sparse_keys"], object),
        np.asarray(keys["context_dense_keys"], object), empty, np.asarray(keys["feature_list_sparse_keys"], object),
        np.asarray(fl_dense, object), empty, np.asarray([k in missing_assumed_empty for k in fl_dense], bool),
        *defaults, context_sparse_types=attrs["context_sparse_types"], Tcontext_dense=attrs["Tcontext_dense"],
        context_dense_shapes=attrs["context_dense_shapes"],
        feature_list_sparse_types=attrs["feature_list_sparse_types"],
        feature_list_dense_types=attrs["feature_list_dense_types"],
        feature_list_dense_shapes=attrs["feature_list_dense_shapes"])


_SEQ_KEYS = ("context_sparse_keys", "context_dense_keys", "feature_list_sparse_keys", "feature_list_dense_keys")


@lowers("ParseSequenceExample", host=True)
def parse_sequence_example_v1(serialized, debug_name, *defaults, **attrs):
    """TF 1.x's batched SequenceExample parser: the keys are attrs; the same fast parser as V2."""
    if np.ndim(serialized) != 1:
        raise invalid(f"Expected serialized to be a vector, got shape: {shape_str(np.shape(serialized))}")
    keys = {k: _keys(np.asarray(list(attrs[k]), object)) for k in _SEQ_KEYS}
    missing = _keys(np.asarray(list(attrs["feature_list_dense_missing_assumed_empty"]), object))
    return _sequence_v2(serialized, debug_name, keys, missing, defaults, attrs)


@lowers("ParseSingleSequenceExample", host=True)
def parse_single_sequence_example(serialized, missing_assumed_empty, *args, **attrs):
    """TF 1.x's single SequenceExample parser: the keys are scalar string inputs; V2's outputs without the
    feature-list lengths."""
    counts = [attrs["Ncontext_sparse"], attrs["Ncontext_dense"], attrs["Nfeature_list_sparse"],
              attrs["Nfeature_list_dense"]]
    keys, at = {}, 0
    for name, n in zip(_SEQ_KEYS, counts):
        keys[name] = [_keys(k)[0] for k in args[at:at + n]]
        at += n
    defaults, debug_name = args[at:-1], args[-1]
    outs = _sequence_v2(serialized, debug_name, keys, _keys(missing_assumed_empty), defaults, attrs)
    outs = list(outs) if isinstance(outs, tuple) else [outs]
    outs = outs[:len(outs) - counts[3]]  # the lengths come last
    return outs[0] if len(outs) == 1 else tuple(outs)


@lowers("TensorArrayGradWithShape", context=True)
def tensor_array_grad_with_shape(ctx, op, handle, flow_in, shape_to_prepend):
    """TensorArrayGradV3's gradient array, its elements of shape shape_to_prepend + the forward's."""
    if isinstance(shape_to_prepend, jax.core.Tracer):
        raise NotImplementedError("tf.raw_ops.TensorArrayGradWithShape with a shape_to_prepend computed from fed "
                                  "values in a compiled plan")
    prepend = tuple(int(d) for d in np.asarray(shape_to_prepend).reshape(-1))
    return _rule("TensorArrayGradV3")(ctx, op, handle, flow_in, prepend=prepend)
