"""TF1 initializers (`tf.zeros_initializer`, `tf.glorot_uniform_initializer`, …): callables
`init(shape, dtype=None, partition_info=None) -> Tensor` that build the initial-value subgraph.

Math and names follow tensorflow/python/ops/init_ops.py (the v1 classes).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant
from graphcompat.framework import registry as _registry
from graphcompat.ops import random_ops


def _assert_float_dtype(dtype: _dt.DType) -> _dt.DType:
    if not dtype.is_floating:
        raise ValueError(f"Expected floating point type, got {dtype}.")
    return dtype


def _fill(shape, value, dtype: _dt.DType, name: str) -> _ops.Tensor:
    """TF's `array_ops.zeros/ones`: a Const when small (< 1000 elements), else Fill when available."""
    with _ops.name_scope(name) as scope:
        dims = [int(_ts.dimension_value(d)) for d in _ts.as_shape(shape)]
        n = int(np.prod(dims, dtype=np.int64))
        if n < 1000 or "Fill" not in _registry.OP_DEFS:
            return constant(value, dtype=dtype, shape=dims, name=scope)
        shape_t = constant(np.asarray(dims, np.int32), name="shape_as_tensor")
        value_t = constant(value, dtype=dtype, name="Const")
        return _registry.apply_op("Fill", [shape_t, value_t], name=scope)


class Initializer:
    """Base class: `__call__(shape, dtype=None, partition_info=None)`."""

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)


class Zeros(Initializer):
    def __init__(self, dtype=_dt.float32):
        self.dtype = _dt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _dt.as_dtype(dtype or self.dtype).base_dtype
        zero = False if dtype == _dt.bool_ else ("" if dtype == _dt.string else 0)
        return _fill(shape, zero, dtype, "zeros")

    def get_config(self):
        return {"dtype": self.dtype.name}


class Ones(Initializer):
    def __init__(self, dtype=_dt.float32):
        self.dtype = _dt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _dt.as_dtype(dtype or self.dtype).base_dtype
        return _fill(shape, True if dtype == _dt.bool_ else 1, dtype, "ones")

    def get_config(self):
        return {"dtype": self.dtype.name}


class Constant(Initializer):
    def __init__(self, value=0, dtype=_dt.float32, verify_shape: bool = False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(f"Invalid type for initial value: {type(value)} (expected Python scalar, list or "
                            "tuple of values, or numpy.ndarray).")
        self.value = value
        self.dtype = _dt.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        dtype = _dt.as_dtype(dtype or self.dtype)
        verify = self._verify_shape if verify_shape is None else verify_shape
        return constant(self.value, dtype=dtype, shape=shape, verify_shape=verify)

    def get_config(self):
        return {"value": self.value, "dtype": self.dtype.name}


class RandomUniform(Initializer):
    def __init__(self, minval=0, maxval=None, seed: Optional[int] = None, dtype=_dt.float32):
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = _dt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _dt.as_dtype(dtype or self.dtype)
        return random_ops.random_uniform(shape, self.minval, self.maxval, dtype, seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed, "dtype": self.dtype.name}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=1.0, seed: Optional[int] = None, dtype=_dt.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _assert_float_dtype(_dt.as_dtype(dtype))

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _assert_float_dtype(_dt.as_dtype(dtype or self.dtype))
        return random_ops.random_normal(shape, self.mean, self.stddev, dtype, seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed, "dtype": self.dtype.name}


class TruncatedNormal(Initializer):
    def __init__(self, mean=0.0, stddev=1.0, seed: Optional[int] = None, dtype=_dt.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _assert_float_dtype(_dt.as_dtype(dtype))

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _assert_float_dtype(_dt.as_dtype(dtype or self.dtype))
        return random_ops.truncated_normal(shape, self.mean, self.stddev, dtype, seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed, "dtype": self.dtype.name}


def _compute_fans(shape) -> tuple:
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = 1
    for d in shape[:-2]:
        receptive *= int(d)
    return int(shape[-2]) * receptive, int(shape[-1]) * receptive


class VarianceScaling(Initializer):
    """Samples with variance `scale / fan` (fan_in, fan_out or their average)."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: Optional[int] = None, dtype=_dt.float32):
        if scale <= 0.:
            raise ValueError("`scale` must be positive float.")
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError("Invalid `mode` argument:", mode)
        distribution = distribution.lower()
        if distribution not in {"normal", "uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError("Invalid `distribution` argument:", distribution)
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = _assert_float_dtype(_dt.as_dtype(dtype))

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _assert_float_dtype(_dt.as_dtype(dtype or self.dtype))
        scale_shape = partition_info.full_shape if partition_info is not None else shape
        fan_in, fan_out = _compute_fans([_ts.dimension_value(d) for d in scale_shape])
        scale = self.scale
        if self.mode == "fan_in":
            scale /= max(1., fan_in)
        elif self.mode == "fan_out":
            scale /= max(1., fan_out)
        else:
            scale /= max(1., (fan_in + fan_out) / 2.)
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(scale) / .87962566103423978  # std of a unit normal truncated at ±2
            return random_ops.truncated_normal(shape, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.random_normal(shape, 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_ops.random_uniform(shape, -limit, limit, dtype, seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed,
                "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    def __init__(self, seed: Optional[int] = None, dtype=_dt.float32):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    def __init__(self, seed: Optional[int] = None, dtype=_dt.float32):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal sample (TF's algorithm)."""

    def __init__(self, gain: float = 1.0, seed: Optional[int] = None, dtype=_dt.float32):
        self.gain, self.seed = gain, seed
        self.dtype = _assert_float_dtype(_dt.as_dtype(dtype))

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _assert_float_dtype(_dt.as_dtype(dtype or self.dtype))
        shape = [int(_ts.dimension_value(d)) for d in shape]
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional")
        num_rows = int(np.prod(shape[:-1]))
        num_cols = shape[-1]
        flat_shape = (num_cols, num_rows) if num_rows < num_cols else (num_rows, num_cols)
        # TF's ops, node for node, so an exported initializer imports into TF: the sign of R's diagonal
        # makes the factorization unique, giving a uniformly (Haar) distributed Q.
        from graphcompat.ops import array_ops, linalg_ops, math_ops
        from graphcompat.ops.linalg_extra_ops import qr
        a = random_ops.random_normal(flat_shape, dtype=dtype, seed=self.seed)
        q, r = qr(a, full_matrices=False)
        d = linalg_ops.diag_part(r)  # TF calls array_ops.diag_part: a DiagPart node
        q *= math_ops.sign(d)
        if num_rows < num_cols:
            q = linalg_ops.matrix_transpose(q)
        return self.gain * array_ops.reshape(q, shape)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
orthogonal_initializer = Orthogonal


class UniformUnitScaling(Initializer):
    """`tf.uniform_unit_scaling_initializer` (deprecated in TF1): uniform in ±sqrt(3 / input_size) * factor,
    input_size the product of all dims but the last (TF's estimate for matmuls and convolutions)."""

    def __init__(self, factor: float = 1.0, seed: Optional[int] = None, dtype=_dt.float32):
        self.factor, self.seed = factor, seed
        self.dtype = _assert_float_dtype(_dt.as_dtype(dtype))

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _dt.as_dtype(dtype or self.dtype)
        scale_shape = partition_info.full_shape if partition_info is not None else shape
        input_size = 1.0
        for dim in list(scale_shape)[:-1]:
            input_size *= float(_ts.dimension_value(dim))
        max_val = math.sqrt(3 / max(input_size, 1.0)) * self.factor
        return random_ops.random_uniform(shape, -max_val, max_val, dtype, seed=self.seed)

    def get_config(self):
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


class Identity(Initializer):
    """`tf.initializers.identity`: gain * the identity matrix (2-D variables only)."""

    def __init__(self, gain: float = 1.0, dtype=_dt.float32):
        self.gain = gain
        self.dtype = _assert_float_dtype(_dt.as_dtype(dtype))

    def __call__(self, shape, dtype=None, partition_info=None):
        from graphcompat.ops.linalg_ops import eye
        full_shape = partition_info.full_shape if partition_info is not None else shape
        full_shape = _ts.as_shape(full_shape).as_list()
        if len(full_shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. Received: "
                             f"{len(full_shape)}D array.")
        dtype = _dt.as_dtype(dtype or self.dtype)
        init = eye(*full_shape, dtype=dtype)
        if partition_info is not None:
            from graphcompat.ops.slicing_ops import slice as _slice
            init = _slice(init, partition_info.var_offset, shape)
        return self.gain * init

    def get_config(self):
        return {"gain": self.gain, "dtype": self.dtype.name}


uniform_unit_scaling_initializer = UniformUnitScaling
identity_initializer = Identity
