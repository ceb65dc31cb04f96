"""Batch 3 of the TF1 symbols api_coverage.md listed as missing, each checked against real
`tensorflow.compat.v1`: values, gradients, dtypes, static shapes, node names, error classes and texts."""
from __future__ import annotations

import numpy as np
import pytest

from tests._op_oracle import compare, compare_error

pytestmark = pytest.mark.oracle

_RNG = np.random.RandomState(7)
_VOLUME = _RNG.randn(2, 4, 5, 6, 3).astype(np.float32)


# --- tf.extract_volume_patches ------------------------------------------------------------------------------

@pytest.mark.parametrize("ksizes,strides,padding", [
    ([1, 2, 2, 2, 1], [1, 1, 2, 2, 1], "SAME"),
    ([1, 2, 3, 2, 1], [1, 1, 2, 3, 1], "VALID"),
    ([1, 3, 1, 4, 1], [1, 2, 1, 1, 1], "SAME"),
])
def test_extract_volume_patches_values_and_gradient(ksizes, strides, padding):
    def build(tf):
        x = tf.constant(_VOLUME)
        y = tf.extract_volume_patches(x, ksizes, strides, padding)
        # a weighted sum, so each patch position's gradient differs
        weights = tf.constant(np.linspace(-1.0, 2.0, int(np.prod(y.shape.as_list()))).astype(np.float32)
                              .reshape(y.shape.as_list()))
        return [y, tf.gradients(tf.reduce_sum(y * weights), x)[0]]
    compare(build, tol=1e-5)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.float64, np.float16])
def test_extract_volume_patches_dtypes(dtype):
    values = (np.arange(2 * 3 * 4 * 5 * 2) % 251).reshape(2, 3, 4, 5, 2).astype(dtype)
    if dtype == np.int64:
        values = values + np.int64(2 ** 40)  # a float32 round trip would lose these low bits
    compare(lambda tf: [tf.extract_volume_patches(values, [1, 2, 2, 3, 1], [1, 1, 2, 1, 1], "VALID")], exact=True)


def test_extract_volume_patches_names_and_static_shapes():
    import graphcompat as gc
    from tests import oracle
    v1 = oracle.tf1()
    for lib in (gc, v1):
        with lib.Graph().as_default():
            y = lib.extract_volume_patches(_VOLUME, [1, 2, 2, 2, 1], [1, 1, 2, 2, 1], "VALID", name="evp")
            assert y.name == "evp:0" and y.op.type == "ExtractVolumePatches"
            assert y.op.inputs[0].op.name == "evp/input"
            assert y.shape.as_list() == [2, 3, 2, 3, 24]
            p = lib.placeholder(lib.float32, [None, 4, 5, 6, None])
            assert lib.extract_volume_patches(p, [1, 2, 2, 2, 1], [1, 1, 2, 2, 1], "SAME").shape.as_list() == \
                [None, 4, 3, 3, None]


def test_extract_volume_patches_fed_unknown_shape():
    def build(tf):
        return [tf.extract_volume_patches(tf.placeholder(tf.float32, [None, None, 5, 6, 3], name="x"),
                                          [1, 2, 2, 2, 1], [1, 1, 2, 2, 1], "VALID")]
    compare(build, feed=lambda tf, g: {g.get_tensor_by_name("x:0"): _VOLUME}, shapes=False)


@pytest.mark.parametrize("ksizes,strides,padding,x", [
    ([1, 2, 2, 2, 1], [1, 1, 2, 2, 1], "VALID", _VOLUME[0]),        # rank 4
    ([1, 2, 2, 2], [1, 1, 2, 2, 1], "VALID", _VOLUME),               # ksizes too short
    ([1, 2, 2, 2, 1], [1, 1, 2, 2], "VALID", _VOLUME),               # strides too short
    ([1, 2, 2, 2, 1, 1], [1, 1, 1, 1, 1], "VALID", _VOLUME),         # 6 ksizes
    ([1, 2, 2, 2, 1], [1, 1, 1, 1, 1, 1], "VALID", _VOLUME),         # 6 strides
    ([1, 2, 2, 2, 1], [1, 1, 2, 2, 1], "FULL", _VOLUME),
    ([1, 9, 2, 2, 1], [1, 1, 2, 2, 1], "VALID", _VOLUME),            # negative output size
    ([1, 2, 2, 2, 1], [1, 1, 2, 2, 1], "VALID", _VOLUME > 0),        # bool not allowed
    ([2, 2, 2, 2, 1], [1, 1, 1, 1, 1], "VALID", _VOLUME),            # run time: ksizes across batch
    ([1, 2, 2, 2, 1], [1, 1, 1, 1, 2], "VALID", _VOLUME),            # run time: strides across depth
    ([1, 0, 2, 2, 1], [1, 1, 1, 1, 1], "VALID", _VOLUME),            # run time: ksize 0
])
def test_extract_volume_patches_errors(ksizes, strides, padding, x):
    compare_error(lambda tf: [tf.extract_volume_patches(x, ksizes, strides, padding)])
