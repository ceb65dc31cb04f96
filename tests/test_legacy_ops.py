"""The TF 1.x op types that old frozen graphs and meta graphs contain (graphcompat/ops/legacy_ops.py).

Each case is a GraphDef written node by node, as TF 1.x wrote it (placeholders fed with the inputs, constants
for the inputs TF's kernels need as values), imported with `tf.import_graph_def` and run; real TensorFlow runs
the same GraphDef (its producer version is older than the deprecations of the `Batch*` names) and the results
must agree: values, dtypes, shapes. Then gradients through imported old ops, TF's kernel errors for bad
inputs, and a small conv net frozen with FusedBatchNorm (V1) + BiasAdd + Relu.
"""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat as tf
from graphcompat.framework import dtypes as _dt
from tests import oracle

pytestmark = pytest.mark.oracle
RNG = np.random.RandomState(7)
PRODUCER = 8  # older than every deprecation among these ops (BatchNormWithGlobalNormalization's is 9)


class C:
    """An input written as a Const node (TF's kernel reads its value: sizes, ksize, axes)."""

    def __init__(self, value):
        self.value = np.asarray(value)


class Ref:
    """An input that is another node's output (`name` or `name:k`)."""

    def __init__(self, name: str):
        self.name = name


def _attr(value):
    from tensorboard.compat.proto import attr_value_pb2
    av = attr_value_pb2.AttrValue()
    if isinstance(value, _dt.DType):
        av.type = value.as_datatype_enum
    elif isinstance(value, bool):
        av.b = value
    elif isinstance(value, int):
        av.i = value
    elif isinstance(value, float):
        av.f = value
    elif isinstance(value, str):
        av.s = value.encode()
    elif isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
        av.list.i.extend(value)
    elif isinstance(value, (list, tuple)):
        av.list.f.extend(value)
    elif isinstance(value, np.ndarray):
        av.tensor.CopyFrom(tf.make_tensor_proto(value))
    elif isinstance(value, tf.TensorShape):
        av.shape.CopyFrom(value.as_proto())
    else:
        raise TypeError(value)
    return av


def _node(gd, name: str, op: str, inputs=(), **attrs):
    n = gd.node.add()
    n.name, n.op = name, op
    n.input.extend(inputs)
    for k, v in attrs.items():
        n.attr[k].CopyFrom(_attr(v))
    return n


def _dtype(a: np.ndarray) -> _dt.DType:
    return _dt.as_dtype(a.dtype)


def build(op: str, inputs: list, attrs: dict, outputs: int = 1, pre=()):
    """A GraphDef: one Placeholder per array input (fed), a Const per `C`, the nodes `pre` (name, op, inputs,
    attrs) and the op `out`; returns (graph_def, feed {name: value}, fetch names)."""
    from tensorboard.compat.proto import graph_pb2
    gd = graph_pb2.GraphDef()
    attrs = dict(attrs)
    gd.versions.producer = attrs.pop("_producer", PRODUCER)  # AdjustContrast went at version 2
    feed, names = {}, []
    for i, value in enumerate(inputs):
        if isinstance(value, Ref):
            names.append(value.name)
            continue
        if isinstance(value, list):  # a list input (Concat's values)
            for j, v in enumerate(value):
                _node(gd, f"in{i}_{j}", "Placeholder", dtype=_dtype(np.asarray(v)))
                feed[f"in{i}_{j}:0"] = np.asarray(v)
                names.append(f"in{i}_{j}")
            continue
        if isinstance(value, C):
            _node(gd, f"in{i}", "Const", dtype=_dtype(value.value), value=value.value)
        else:
            value = np.asarray(value)
            _node(gd, f"in{i}", "Placeholder", dtype=_dtype(value))
            feed[f"in{i}:0"] = value
        names.append(f"in{i}")
    for name, p_op, p_inputs, p_attrs in pre:
        _node(gd, name, p_op, p_inputs, **p_attrs)
    _node(gd, "out", op, names, **_type_attrs(op, inputs, attrs))
    return gd, feed, [f"out:{k}" for k in range(outputs)]


def _type_attrs(op: str, inputs: list, attrs: dict) -> dict:
    """`attrs` plus the type and length attrs a NodeDef must carry, read off the inputs as TF's OpDef binds them."""
    from tensorflow.python.framework import op_def_registry
    attrs = dict(attrs)
    for arg, value in zip(op_def_registry.get(op).input_arg, inputs):
        if isinstance(value, Ref):
            continue
        first = np.asarray(value[0] if isinstance(value, list) else value.value if isinstance(value, C) else value)
        if arg.number_attr:
            attrs.setdefault(arg.number_attr, len(value))
        if arg.type_attr:
            attrs.setdefault(arg.type_attr, _dtype(first))
    return attrs


def run_graphcompat(gd, feed, fetches):
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session(graph=g) as sess:
            return sess.run(fetches, feed)


def run_tf(gd, feed, fetches):
    v1 = oracle.tf1()
    g = v1.Graph()
    with g.as_default():
        v1.import_graph_def(v1.GraphDef.FromString(gd.SerializeToString()), name="")
        with v1.Session(graph=g) as sess:
            return sess.run(fetches, feed)


def f32(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, shape).astype(np.float32)


def pos(*shape):
    return RNG.uniform(0.5, 2.0, shape).astype(np.float32)


X4 = f32(2, 5, 5, 3)
SPD = (lambda a: (a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)).astype(np.float32))(f32(2, 3, 3))
BOXES = np.array([[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, -0.1, 1, 0.9], [0, 10, 1, 11], [0, 10.1, 1, 11.1],
                  [0, 100, 1, 101]], np.float32)
SCORES = np.array([0.9, 0.75, 0.6, 0.95, 0.5, 0.3], np.float32)
_POOL = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "SAME"}
_POOL3 = {"ksize": [1, 2, 2, 2, 1], "strides": [1, 1, 2, 2, 1], "padding": "VALID"}
_MAXPOOL_ARGMAX = ("mp", "MaxPoolWithArgmax", ["in0"], dict(_POOL, T=_dt.float32, Targmax=_dt.int64))
_DIL = {"strides": [1, 1, 1, 1], "rates": [1, 1, 1, 1], "padding": "SAME"}
_LRN = {"depth_radius": 2, "bias": 1.0, "alpha": 0.5, "beta": 0.75}
_BN = {"epsilon": 0.001, "data_format": "NHWC"}


def _bn_inputs(x, c, dtype=np.float32):
    return [x, pos(c).astype(dtype), f32(c).astype(dtype), f32(c).astype(dtype), pos(c).astype(dtype)]


# (id, op type, inputs, attrs, number of outputs compared, rtol/atol, extra nodes). FusedBatchNormGrad's two
# unused outputs are compared by test_fused_batch_norm_grad_reserve_shapes: TF's oneDNN build returns scalars.
CASES = [
    # --- batch normalization -------------------------------------------------------------------------
    ("fbn_train", "FusedBatchNorm", _bn_inputs(X4, 3), dict(_BN, is_training=True), 5, 1e-5, ()),
    ("fbn_infer", "FusedBatchNorm", _bn_inputs(X4, 3), dict(_BN, is_training=False), 5, 1e-5, ()),
    ("fbn_nchw", "FusedBatchNorm", _bn_inputs(f32(2, 3, 4, 4), 3),
     {"epsilon": 0.01, "data_format": "NCHW", "is_training": True}, 5, 1e-5, ()),
    ("fbn_avg", "FusedBatchNorm", _bn_inputs(X4, 3), dict(_BN, is_training=True, exponential_avg_factor=0.3),
     5, 1e-5, ()),
    ("fbn_v2_half", "FusedBatchNormV2", [X4.astype(np.float16)] + _bn_inputs(X4, 3)[1:],
     dict(_BN, is_training=True, U=_dt.float32), 5, 2e-3, ()),
    ("fbn_v2_infer", "FusedBatchNormV2", _bn_inputs(X4, 3), dict(_BN, is_training=False, U=_dt.float32), 5, 1e-5,
     ()),
    ("fbn_grad_train", "FusedBatchNormGrad", [f32(2, 5, 5, 3), X4, pos(3), f32(3), pos(3)],
     dict(_BN, is_training=True), 3, 1e-4, ()),
    ("fbn_grad_infer", "FusedBatchNormGrad", [f32(2, 5, 5, 3), X4, pos(3), f32(3), pos(3)],
     dict(_BN, is_training=False), 3, 1e-4, ()),
    ("fbn_grad_v2_half", "FusedBatchNormGradV2", [f32(2, 5, 5, 3).astype(np.float16), X4.astype(np.float16),
                                                   pos(3), f32(3), pos(3)],
     dict(_BN, is_training=True, U=_dt.float32), 3, 3e-3, ()),
    ("bn_global", "BatchNormWithGlobalNormalization", [X4, f32(3), pos(3), f32(3), pos(3)],
     {"variance_epsilon": 0.001, "scale_after_normalization": True}, 1, 1e-5, ()),
    ("bn_global_noscale", "BatchNormWithGlobalNormalization", [X4, f32(3), pos(3), f32(3), pos(3)],
     {"variance_epsilon": 0.001, "scale_after_normalization": False}, 1, 1e-5, ()),
    ("bn_global_grad", "BatchNormWithGlobalNormalizationGrad", [X4, f32(3), pos(3), pos(3), f32(2, 5, 5, 3)],
     {"variance_epsilon": 0.001, "scale_after_normalization": True}, 5, 1e-4, ()),
    ("bn_global_grad_noscale", "BatchNormWithGlobalNormalizationGrad", [X4, f32(3), pos(3), pos(3),
                                                                         f32(2, 5, 5, 3)],
     {"variance_epsilon": 0.01, "scale_after_normalization": False}, 5, 1e-4, ()),
    # --- nn ------------------------------------------------------------------------------------------
    ("bias_add_v1", "BiasAddV1", [X4, f32(3)], {}, 1, 1e-6, ()),
    ("bias_add_v1_f64", "BiasAddV1", [X4.astype(np.float64), f32(3).astype(np.float64)], {}, 1, 1e-12, ()),
    ("max_pool_v2", "MaxPoolV2", [X4, C(np.int32([1, 2, 2, 1])), C(np.int32([1, 2, 2, 1]))], {"padding": "SAME"},
     1, 0, ()),
    ("max_pool_v2_valid", "MaxPoolV2", [X4, C(np.int32([1, 3, 3, 1])), C(np.int32([1, 1, 2, 1]))],
     {"padding": "VALID"}, 1, 0, ()),
    ("max_pool_grad_argmax", "MaxPoolGradWithArgmax", [X4, f32(2, 3, 3, 3), Ref("mp:1")],
     dict(_POOL, Targmax=_dt.int64), 1, 1e-6, (_MAXPOOL_ARGMAX,)),
    ("max_pool_grad_grad", "MaxPoolGradGrad", [X4, Ref("mp:0"), f32(2, 5, 5, 3)], _POOL, 1, 1e-6,
     (_MAXPOOL_ARGMAX,)),
    ("max_pool_grad_grad_v2", "MaxPoolGradGradV2", [X4, Ref("mp:0"), f32(2, 5, 5, 3), C(np.int32([1, 2, 2, 1])),
                                                     C(np.int32([1, 2, 2, 1]))], {"padding": "SAME"}, 1, 1e-6,
     (_MAXPOOL_ARGMAX,)),
    ("avg_pool3d_grad", "AvgPool3DGrad", [C(np.int32([2, 3, 4, 4, 2])), f32(2, 2, 2, 2, 2)], _POOL3, 1, 1e-6, ()),
    ("max_pool3d_grad", "MaxPool3DGrad", [f32(2, 3, 4, 4, 2), Ref("mp3"), f32(2, 2, 2, 2, 2)], _POOL3, 1, 1e-6,
     (("mp3", "MaxPool3D", ["in0"], dict(_POOL3, T=_dt.float32)),)),
    ("max_pool3d_grad_grad", "MaxPool3DGradGrad", [f32(2, 3, 4, 4, 2), Ref("mp3"), f32(2, 3, 4, 4, 2)], _POOL3, 1,
     1e-6, (("mp3", "MaxPool3D", ["in0"], dict(_POOL3, T=_dt.float32)),)),
    ("conv3d_backprop_filter", "Conv3DBackpropFilter", [f32(1, 4, 4, 4, 2), f32(2, 2, 2, 2, 3),
                                                         f32(1, 2, 2, 2, 3)],
     {"strides": [1, 2, 2, 2, 1], "padding": "VALID"}, 1, 1e-5, ()),
    ("conv3d_backprop_input", "Conv3DBackpropInput", [f32(1, 4, 4, 4, 2), f32(2, 2, 2, 2, 3),
                                                       f32(1, 4, 4, 4, 3)],
     {"strides": [1, 1, 1, 1, 1], "padding": "SAME"}, 1, 1e-5, ()),
    ("lrn_grad", "LRNGrad", [f32(2, 3, 3, 6), pos(2, 3, 3, 6), Ref("lrn")], dict(_LRN), 1, 1e-4,
     (("lrn", "LRN", ["in1"], dict(_LRN, T=_dt.float32)),)),
    ("dilation_backprop_input", "Dilation2DBackpropInput", [f32(1, 4, 4, 2), f32(2, 2, 2), f32(1, 4, 4, 2)], _DIL,
     1, 1e-6, ()),
    ("dilation_backprop_filter", "Dilation2DBackpropFilter", [f32(1, 4, 4, 2), f32(2, 2, 2), f32(1, 4, 4, 2)],
     _DIL, 1, 1e-6, ()),
    ("dim_map", "DataFormatDimMap", [np.array([0, 1, 2, 3, -1, -4], np.int32)], {}, 1, 0, ()),
    ("dim_map_5d", "DataFormatDimMap", [np.array([[1, 4], [-2, 0]], np.int64)],
     {"src_format": "NDHWC", "dst_format": "NCDHW"}, 1, 0, ()),
    ("vec_permute", "DataFormatVecPermute", [np.array([2, 7, 5, 3], np.int32)], {}, 1, 0, ()),
    ("vec_permute_back", "DataFormatVecPermute", [np.array([2, 7, 5, 3], np.int64)],
     {"src_format": "NCHW", "dst_format": "NHWC"}, 1, 0, ()),
    ("vec_permute_2d", "DataFormatVecPermute", [np.arange(8, dtype=np.int32).reshape(4, 2)], {}, 1, 0, ()),
    ("vec_permute_spatial", "DataFormatVecPermute", [np.array([4, 9], np.int32)], {}, 1, 0, ()),
    ("in_top_k", "InTopK", [f32(4, 5), np.array([0, 1, 2, 4], np.int32)], {"k": 2}, 1, 0, ()),
    ("in_top_k_i64", "InTopK", [f32(4, 5), np.array([3, 1, 2, 4], np.int64)], {"k": 3}, 1, 0, ()),
    ("nth_element", "NthElement", [f32(3, 6), C(np.int32(2))], {}, 1, 0, ()),
    ("nth_element_rev", "NthElement", [RNG.randint(-9, 9, (2, 3, 5)).astype(np.int32), C(np.int32(0))],
     {"reverse": True}, 1, 0, ()),
    # --- math ----------------------------------------------------------------------------------------
    ("div_f32", "Div", [f32(3, 4), pos(4)], {}, 1, 1e-6, ()),
    ("div_i32", "Div", [np.array([7, -7, 7, -7, 0], np.int32), np.array([2, 2, -2, -2, 3], np.int32)], {}, 1, 0,
     ()),
    ("div_u8", "Div", [np.array([7, 200, 9], np.uint8), np.array([2, 3, 9], np.uint8)], {}, 1, 0, ()),
    ("div_c64", "Div", [(f32(3) + 1j * f32(3)).astype(np.complex64), (pos(3) + 1j * pos(3)).astype(np.complex64)],
     {}, 1, 1e-6, ()),
    ("mod_i32", "Mod", [np.array([7, -7, 7, -7], np.int32), np.array([3, 3, -3, -3], np.int32)], {}, 1, 0, ()),
    ("mod_i64", "Mod", [np.array([17, -17], np.int64), np.array([5, 5], np.int64)], {}, 1, 0, ()),
    ("mod_f32", "Mod", [np.array([7.5, -7.5, 7.5], np.float32), np.array([2, 2, -2], np.float32)], {}, 1, 1e-6,
     ()),
    ("inv", "Inv", [pos(3, 2)], {}, 1, 1e-6, ()),
    ("inv_f64", "Inv", [pos(3).astype(np.float64)], {}, 1, 1e-12, ()),
    ("approx_equal", "ApproximateEqual", [np.array([1.0, 1.2, 3.0], np.float32),
                                          np.array([1.05, 1.2, 2.0], np.float32)], {"tolerance": 0.1}, 1, 0, ()),
    ("bucketize", "Bucketize", [np.array([[-5, 10000], [150, 10], [5, 100]], np.int32)],
     {"boundaries": [0.0, 10.0, 100.0]}, 1, 0, ()),
    ("bucketize_f64", "Bucketize", [np.array([-1.0, 0.5, 2.0, 3.0], np.float64)], {"boundaries": [0.5, 2.0]}, 1,
     0, ()),
    ("popcount_i32", "PopulationCount", [np.array([0, 1, -1, 255, 2 ** 30], np.int32)], {}, 1, 0, ()),
    ("popcount_u16", "PopulationCount", [np.array([0, 65535, 3], np.uint16)], {}, 1, 0, ()),
    ("bincount", "Bincount", [np.array([1, 1, 2, 5, 0], np.int32), C(np.int32(4)), np.zeros(0, np.float32)], {}, 1,
     0, ()),
    ("bincount_weights", "Bincount", [np.array([[1, 1], [2, 3]], np.int32), C(np.int32(5)),
                                      np.array([[0.5, 1], [2, 3]], np.float32)], {}, 1, 1e-6, ()),
    ("check_numerics_v2", "CheckNumericsV2", [f32(3)], {"message": "fine"}, 1, 0, ()),
    ("igamma_grad_a", "IgammaGradA", [pos(5), pos(5)], {}, 1, 1e-4, ()),
    ("random_gamma_grad", "RandomGammaGrad", [pos(5).astype(np.float64), pos(5).astype(np.float64)], {}, 1,
     1e-8, ()),
    # --- array ---------------------------------------------------------------------------------------
    ("concat", "Concat", [C(np.int32(1)), [f32(2, 3), f32(2, 1), f32(2, 2)]], {"N": 3}, 1, 0, ()),
    ("concat_neg_axis", "Concat", [C(np.int32(-2)), [f32(2, 3), f32(1, 3)]], {"N": 2}, 1, 0, ()),
    ("gather", "Gather", [f32(5, 2), np.array([[4, 0], [1, 1]], np.int32)], {}, 1, 0, ()),
    ("gather_i64", "Gather", [np.arange(6, dtype=np.int64), np.array([5, 2], np.int64)], {}, 1, 0, ()),
    ("reverse", "Reverse", [f32(2, 3, 4), C(np.array([True, False, True]))], {}, 1, 0, ()),
    ("reverse_none", "Reverse", [np.arange(6, dtype=np.int32).reshape(2, 3), C(np.array([False, False]))], {}, 1,
     0, ()),
    ("deep_copy", "DeepCopy", [f32(2, 3)], {}, 1, 0, ()),
    ("inplace_add", "InplaceAdd", [f32(4, 3), C(np.array([0, 2], np.int32)), f32(2, 3)], {}, 1, 1e-6, ()),
    ("inplace_sub", "InplaceSub", [f32(4, 3), C(np.array([3], np.int32)), f32(1, 3)], {}, 1, 1e-6, ()),
    ("inplace_update", "InplaceUpdate", [np.arange(8, dtype=np.int32).reshape(4, 2), C(np.array([1, 0], np.int32)),
                                         np.array([[9, 9], [7, 7]], np.int32)], {}, 1, 0, ()),
    ("scatter_nd_non_aliasing_add", "ScatterNdNonAliasingAdd", [f32(4, 2), np.array([[1], [3], [1]], np.int32),
                                                                 f32(3, 2)], {}, 1, 1e-6, ()),
    ("space_to_batch", "SpaceToBatch", [f32(1, 4, 4, 2), C(np.array([[0, 0], [2, 0]], np.int32))],
     {"block_size": 2}, 1, 0, ()),
    ("batch_to_space", "BatchToSpace", [f32(4, 2, 2, 1), C(np.array([[0, 1], [1, 0]], np.int64))],
     {"block_size": 2}, 1, 0, ()),
    ("mirror_pad_grad", "MirrorPadGrad", [f32(5, 6), C(np.array([[1, 1], [2, 0]], np.int32))],
     {"mode": "REFLECT"}, 1, 1e-6, ()),
    ("mirror_pad_grad_sym", "MirrorPadGrad", [f32(6, 4), C(np.array([[2, 1], [1, 1]], np.int64))],
     {"mode": "SYMMETRIC"}, 1, 1e-6, ()),
    # --- linear algebra ------------------------------------------------------------------------------
    ("batch_mat_mul", "BatchMatMul", [f32(2, 3, 4), f32(2, 4, 5)], {}, 1, 1e-5, ()),
    ("batch_mat_mul_adj", "BatchMatMul", [f32(2, 4, 3), f32(2, 5, 4)], {"adj_x": True, "adj_y": True}, 1, 1e-5, ()),
    ("matrix_diag", "MatrixDiag", [f32(2, 3)], {}, 1, 0, ()),
    ("matrix_diag_part", "MatrixDiagPart", [f32(2, 3, 4)], {}, 1, 0, ()),
    ("matrix_set_diag", "MatrixSetDiag", [f32(2, 3, 4), f32(2, 3)], {}, 1, 0, ()),
    ("matrix_diag_v2", "MatrixDiagV2", [f32(2, 3), C(np.int32(1)), C(np.int32(-1)), C(np.int32(-1)),
                                        C(np.float32(9))], {}, 1, 0, ()),
    ("matrix_diag_v2_band", "MatrixDiagV2", [f32(2, 3), C(np.array([-1, 0], np.int32)), C(np.int32(3)),
                                             C(np.int32(3)), C(np.float32(0))], {}, 1, 0, ()),
    ("matrix_diag_part_v2_band", "MatrixDiagPartV2", [f32(3, 4), C(np.array([-1, 1], np.int32)),
                                                      C(np.float32(5))], {}, 1, 0, ()),
    ("matrix_set_diag_v2", "MatrixSetDiagV2", [f32(3, 4), f32(3), C(np.int32(1))], {}, 1, 0, ()),
    ("matrix_set_diag_v2_band", "MatrixSetDiagV2", [f32(3, 4), f32(3, 3), C(np.array([-1, 1], np.int32))], {}, 1, 0,
     ()),
    ("batch_matrix_diag", "BatchMatrixDiag", [f32(2, 3)], {}, 1, 0, ()),
    ("batch_matrix_diag_part", "BatchMatrixDiagPart", [f32(2, 3, 3)], {}, 1, 0, ()),
    ("batch_matrix_set_diag", "BatchMatrixSetDiag", [f32(2, 3, 3), f32(2, 3)], {}, 1, 0, ()),
    ("batch_matrix_band_part", "BatchMatrixBandPart", [f32(2, 4, 4), C(np.int64(1)), C(np.int64(-1))], {}, 1, 0,
     ()),
    ("batch_matrix_determinant", "BatchMatrixDeterminant", [SPD], {}, 1, 1e-5, ()),
    ("batch_matrix_inverse", "BatchMatrixInverse", [SPD], {"adjoint": False}, 1, 1e-5, ()),
    ("batch_matrix_solve", "BatchMatrixSolve", [SPD, f32(2, 3, 2)], {"adjoint": True}, 1, 1e-5, ()),
    ("batch_matrix_solve_ls", "BatchMatrixSolveLs", [SPD.astype(np.float64), f32(2, 3, 2).astype(np.float64),
                                                     C(np.float64(0.0))], {"fast": True}, 1, 1e-9, ()),
    ("batch_matrix_triangular_solve", "BatchMatrixTriangularSolve", [SPD, f32(2, 3, 2)],
     {"lower": False, "adjoint": False}, 1, 1e-5, ()),
    ("batch_cholesky", "BatchCholesky", [SPD], {}, 1, 1e-5, ()),
    ("cholesky_grad", "CholeskyGrad", [np.linalg.cholesky(SPD).astype(np.float32), f32(2, 3, 3)], {}, 1, 1e-4, ()),
    ("batch_cholesky_grad", "BatchCholeskyGrad", [np.linalg.cholesky(SPD).astype(np.float64), f32(2, 3, 3).astype(
        np.float64)], {}, 1, 1e-9, ()),
    # --- more dtypes ---------------------------------------------------------------------------------
    ("concat_bool", "Concat", [C(np.int32(0)), [np.array([True, False]), np.array([True])]], {"N": 2}, 1, 0, ()),
    ("gather_f64", "Gather", [f32(4, 3).astype(np.float64), np.array([3, 3, 0], np.int64)], {}, 1, 0, ()),
    ("reverse_u8", "Reverse", [np.arange(12, dtype=np.uint8).reshape(3, 4), C(np.array([False, True]))], {}, 1, 0,
     ()),
    ("inplace_update_i64", "InplaceUpdate", [np.arange(6, dtype=np.int64).reshape(3, 2), C(np.array([-1], np.int32)),
                                             np.array([[7, 7]], np.int64)], {}, 1, 0, ()),
    ("inplace_add_wraps", "InplaceAdd", [f32(4, 3), C(np.array([5, -1], np.int32)), f32(2, 3)], {}, 1, 1e-6, ()),
    ("div_i64", "Div", [np.array([9, -9, 8], np.int64), np.array([4, 4, -3], np.int64)], {}, 1, 0, ()),
    ("div_f64", "Div", [f32(3).astype(np.float64), pos(3).astype(np.float64)], {}, 1, 1e-12, ()),
    ("div_f16", "Div", [f32(3).astype(np.float16), pos(3).astype(np.float16)], {}, 1, 1e-3, ()),
    ("mod_f64", "Mod", [np.array([5.5, -5.5], np.float64), np.array([2.0, 2.0], np.float64)], {}, 1, 1e-12, ()),
    ("bias_add_v1_i32", "BiasAddV1", [np.arange(6, dtype=np.int32).reshape(2, 3), np.array([1, -1, 2], np.int32)],
     {}, 1, 0, ()),
    ("batch_mat_mul_f64", "BatchMatMul", [f32(2, 2, 3).astype(np.float64), f32(2, 3, 2).astype(np.float64)],
     {"adj_y": False}, 1, 1e-12, ()),
    ("batch_mat_mul_c64", "BatchMatMul", [(f32(1, 2, 2) + 1j * f32(1, 2, 2)).astype(np.complex64),
                                          (f32(1, 2, 2) + 1j * f32(1, 2, 2)).astype(np.complex64)],
     {"adj_x": True}, 1, 1e-5, ()),
    ("matrix_diag_i32", "MatrixDiag", [np.arange(6, dtype=np.int32).reshape(2, 3)], {}, 1, 0, ()),
    ("matrix_set_diag_v2_f64", "MatrixSetDiagV2", [f32(2, 3, 3).astype(np.float64),
                                                   f32(2, 2, 3).astype(np.float64), C(np.array([-1, 0], np.int32))],
     {}, 1, 0, ()),
    ("matrix_set_diag_v2_wide", "MatrixSetDiagV2", [f32(2, 5), f32(3, 2), C(np.array([0, 2], np.int32))], {}, 1, 0,
     ()),
    ("bucketize_i64", "Bucketize", [np.array([-3, 0, 7, 99], np.int64)], {"boundaries": [0.0, 7.0]}, 1, 0, ()),
    ("approx_equal_f64", "ApproximateEqual", [np.array([1.0, 2.0], np.float64), np.array([1.0 + 1e-7, 2.1])], {},
     1, 0, ()),
    ("popcount_i8", "PopulationCount", [np.array([-128, -1, 7], np.int8)], {}, 1, 0, ()),
    ("popcount_u64", "PopulationCount", [np.array([2 ** 64 - 1, 5], np.uint64)], {}, 1, 0, ()),
    ("space_to_batch_i32", "SpaceToBatch", [np.arange(16, dtype=np.int32).reshape(1, 4, 4, 1),
                                            C(np.zeros((2, 2), np.int64))], {"block_size": 2}, 1, 0, ()),
    ("mirror_pad_grad_f64", "MirrorPadGrad", [f32(5, 4).astype(np.float64), C(np.array([[1, 1], [0, 1]], np.int32))],
     {"mode": "SYMMETRIC"}, 1, 1e-12, ()),
    ("nth_element_f64", "NthElement", [f32(2, 5).astype(np.float64), C(np.int32(4))], {"reverse": True}, 1, 0, ()),
    ("dim_map_i64_neg", "DataFormatDimMap", [np.array([-1, -2, -3, -4], np.int64)],
     {"src_format": "NCHW", "dst_format": "NHWC"}, 1, 0, ()),
    ("fbn_grad_nchw", "FusedBatchNormGrad", [f32(2, 3, 4, 4), f32(2, 3, 4, 4), pos(3), f32(3), pos(3)],
     {"epsilon": 0.01, "data_format": "NCHW", "is_training": True}, 3, 1e-4, ()),
    # --- image ---------------------------------------------------------------------------------------
    ("adjust_contrast", "AdjustContrast", [RNG.randint(0, 255, (2, 3, 3, 3)).astype(np.uint8), C(np.float32(1.7)),
                                           C(np.float32(0.0)), C(np.float32(255.0))], {"_producer": 1}, 1, 1e-4, ()),
    ("adjust_contrast_v2", "AdjustContrastv2", [f32(2, 3, 3, 3), C(np.float32(0.4))], {}, 1, 1e-6, ()),
    ("nms_v1", "NonMaxSuppression", [BOXES, SCORES, C(np.int32(3))], {"iou_threshold": 0.5}, 1, 0, ()),
    ("nms_v2", "NonMaxSuppressionV2", [BOXES, SCORES, C(np.int32(4)), C(np.float32(0.7))], {}, 1, 0, ()),
    ("nms_v4", "NonMaxSuppressionV4", [BOXES, SCORES, C(np.int32(5)), C(np.float32(0.5)), C(np.float32(0.4))],
     {"pad_to_max_output_size": True}, 2, 0, ()),
    ("nms_v4_unpadded", "NonMaxSuppressionV4", [BOXES, SCORES, C(np.int32(5)), C(np.float32(0.5)),
                                                C(np.float32(0.0))], {}, 2, 0, ()),
    ("resize_bilinear_grad", "ResizeBilinearGrad", [f32(1, 5, 7, 2), f32(1, 3, 4, 2)], {}, 1, 1e-5, ()),
    ("resize_bilinear_grad_hp", "ResizeBilinearGrad", [f32(1, 5, 7, 2), f32(1, 3, 4, 2).astype(np.float64)],
     {"half_pixel_centers": True}, 1, 1e-5, ()),
    ("resize_bicubic_grad", "ResizeBicubicGrad", [f32(1, 6, 6, 1), f32(1, 3, 4, 1)], {"align_corners": True}, 1,
     1e-5, ()),
    ("resize_nearest_grad", "ResizeNearestNeighborGrad", [f32(1, 6, 6, 2), C(np.array([3, 4], np.int32))], {}, 1,
     1e-6, ()),
    ("resize_nearest_grad_int", "ResizeNearestNeighborGrad", [RNG.randint(0, 9, (1, 4, 4, 1)).astype(np.int32),
                                                              C(np.array([2, 3], np.int32))],
     {"half_pixel_centers": True}, 1, 0, ()),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_legacy_op_matches_tf(case):
    _, op, inputs, attrs, outputs, tol, pre = case
    gd, feed, fetches = build(op, inputs, attrs, outputs, pre)
    got = run_graphcompat(gd, feed, fetches)
    want = run_tf(gd, feed, fetches)
    oracle.assert_same_values(got, want, rtol=tol, atol=tol, label=op)


# --- TF's kernel (and shape function) errors: same class, same text ------------------------------------------
ERRORS = [
    ("Div", [np.array([1, 2], np.int32), np.array([1, 0], np.int32)], {}),
    ("Mod", [np.array([1, 2], np.int64), np.array([0, 1], np.int64)], {}),
    ("Concat", [C(np.int32(2)), [f32(2, 3), f32(2, 3)]], {}),
    ("Concat", [C(np.int32(0)), [f32(2, 3), f32(2, 2)]], {}),
    ("Gather", [f32(3, 2), np.array([3], np.int32)], {}),
    ("Reverse", [f32(2, 3), C(np.array([True]))], {}),
    ("BatchMatMul", [f32(2, 3, 4), f32(3, 4, 5)], {}),
    ("BatchMatMul", [f32(2, 3, 4), f32(2, 5, 5)], {}),
    ("InplaceAdd", [f32(4, 3), C(np.array([1], np.int32)), f32(1, 2)], {}),
    ("InplaceUpdate", [f32(4, 3), C(np.array([1, 2], np.int32)), f32(1, 3)], {}),
    ("InplaceSub", [f32(4, 3), C(np.int32(1)), f32(1, 3)], {}),
    ("InplaceAdd", [f32(4, 3), C(np.array([1], np.int32)), f32(3)], {}),
    ("ApproximateEqual", [f32(2), f32(3)], {}),
    ("Bucketize", [f32(3)], {"boundaries": [1.0, 0.0]}),
    ("Bincount", [np.array([1, -1], np.int32), C(np.int32(3)), np.zeros(0, np.float32)], {}),
    ("Bincount", [np.array([1, 1], np.int32), C(np.int32(3)), np.zeros(3, np.float32)], {}),
    ("DataFormatDimMap", [np.array([1], np.int32)], {"src_format": "NHW", "dst_format": "NCHW"}),
    ("DataFormatDimMap", [np.array([1], np.int32)], {"src_format": "NHWC", "dst_format": "NCHX"}),
    ("DataFormatVecPermute", [np.array([1, 2, 3], np.int32)], {}),
    ("DataFormatVecPermute", [np.zeros((4, 3), np.int32)], {}),
    ("DataFormatVecPermute", [np.zeros((3, 2), np.int32)], {}),
    ("DataFormatVecPermute", [np.zeros((2, 2, 2), np.int32)], {}),
    ("NthElement", [f32(3, 2), np.int32(2)], {}),
    ("NthElement", [f32(3, 2), np.int32(-1)], {}),
    ("SpaceToBatch", [f32(1, 4, 4), C(np.zeros((2, 2), np.int32))], {"block_size": 2}),
    ("SpaceToBatch", [f32(1, 3, 4, 1), C(np.zeros((2, 2), np.int32))], {"block_size": 2}),
    ("BatchToSpace", [f32(3, 2, 2, 1), C(np.zeros((2, 2), np.int32))], {"block_size": 2}),
    ("FusedBatchNorm", [f32(2, 3, 3), pos(3), f32(3), f32(3), pos(3)], {"is_training": True}),
    ("FusedBatchNorm", [f32(2, 3, 3, 3), pos(2), f32(3), f32(3), pos(3)], {"is_training": True}),
    ("FusedBatchNormGrad", [f32(2, 3, 3, 3), f32(2, 3, 3), pos(3), f32(3), pos(3)], {"is_training": True}),
    ("FusedBatchNormGrad", [f32(2, 3, 3, 3), f32(2, 3, 3, 3), pos(3, 1), f32(3), pos(3)], {"is_training": True}),
    ("BiasAddV1", [f32(2, 3), f32(2)], {}),
    ("LRNGrad", [f32(1, 2, 2, 3), f32(1, 2, 2, 3), f32(1, 2, 2, 2)], {}),
    ("MirrorPadGrad", [f32(4, 4), C(np.array([[3, 0], [0, 0]], np.int32))], {"mode": "REFLECT"}),
    ("MatrixDiag", [np.float32(1)], {}),
    ("MatrixDiagPart", [f32(3)], {}),
    ("MatrixSetDiag", [f32(3, 3), f32(2)], {}),
    ("CholeskyGrad", [f32(3, 2), f32(3, 2)], {}),
    ("AdjustContrastv2", [f32(3, 3), C(np.float32(1))], {}),
    ("NonMaxSuppressionV2", [BOXES, SCORES, C(np.int32(2)), C(np.float32(1.5))], {}),
    ("InTopK", [f32(2, 3), np.array([1], np.int32)], {"k": 1}),
    ("CheckNumericsV2", [np.array([1, np.inf, -np.inf, np.nan], np.float32)], {"message": "bad"}),
    ("CheckNumericsV2", [np.array([1, np.inf, np.nan], np.float64)], {"message": "x"}),
    ("CheckNumericsV2", [np.array([1, -np.inf], np.float32)], {"message": "y"}),
]


def _outcome(run, gd, feed, fetches):
    try:
        run(gd, feed, fetches)
    except Exception as e:  # noqa: BLE001 (the class is what is compared)
        message = getattr(e, "message", str(e))
        # TF's session errors append where the node was defined; its import errors name the node differently
        message = message.split("\n\t [[")[0].split(" for '")[0].split("\n\nErrors may have originated")[0]
        if message.startswith("Graph execution error:"):  # TF's session prefix: where the node was defined
            message = message.split("\nNode: '", 1)[-1].split("\n", 1)[-1]
        return type(e).__name__, message.strip()
    return None


@pytest.mark.parametrize("case", ERRORS, ids=[f"{c[0]}-{i}" for i, c in enumerate(ERRORS)])
def test_legacy_op_errors_match_tf(case):
    op, inputs, attrs = case
    gd, feed, fetches = build(op, inputs, attrs, 1)
    want = _outcome(run_tf, gd, feed, fetches)
    assert want is not None, "TF raised nothing"
    got = _outcome(run_graphcompat, gd, feed, fetches)
    assert got == want


# --- ops TF's CPU build has no kernel for (GPU/XLA only) or whose results TF leaves unnormalized: numpy ---------
def _self_adjoint_check(packed, a):
    e, v = packed[..., 0, :], packed[..., 1:, :]
    np.testing.assert_allclose(e, np.linalg.eigvalsh(a), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(a @ v, v * e[..., None, :], rtol=1e-4, atol=1e-4)  # columns are eigenvectors


@pytest.mark.parametrize("op", ["SelfAdjointEig", "BatchSelfAdjointEig"])
def test_self_adjoint_eig_v1_packs_values_and_vectors(op):
    gd, feed, fetches = build(op, [SPD.astype(np.float64)], {})
    got = run_graphcompat(gd, feed, fetches)[0]
    want = run_tf(gd, feed, fetches)[0]
    assert got.shape == want.shape == (2, 4, 3) and got.dtype == want.dtype
    _self_adjoint_check(got, SPD.astype(np.float64))
    np.testing.assert_allclose(np.abs(got), np.abs(want), rtol=1e-6, atol=1e-6)  # eigenvectors up to sign


def test_gpu_only_kernels_against_numpy():
    x = X4
    gd, feed, fetches = build("MaxPoolGradGradWithArgmax", [x, f32(2, 5, 5, 3), Ref("mp:1")],
                              dict(_POOL, Targmax=_dt.int64), 1, (_MAXPOOL_ARGMAX,))
    got = run_graphcompat(gd, feed, fetches + ["mp:1"])
    flat = feed["in1:0"].reshape(2, -1)
    want = np.take_along_axis(flat, got[1].reshape(2, -1), axis=1).reshape(got[1].shape)
    np.testing.assert_array_equal(got[0], want)
    z = (f32(2, 4, 2) + 1j * f32(2, 4, 2)).astype(np.complex64)
    for op, fn in (("BatchFFT", np.fft.fft), ("BatchIFFT2D", np.fft.ifft2), ("BatchFFT3D", np.fft.fftn)):
        gd, feed, fetches = build(op, [z], {})
        value = run_graphcompat(gd, feed, fetches)[0]
        assert value.dtype == np.complex64
        np.testing.assert_allclose(value, fn(z) if op != "BatchFFT3D" else np.fft.fftn(z, axes=(-3, -2, -1)),
                                   rtol=1e-5, atol=1e-5)
    data, ids = f32(5, 2), np.array([0, 0, 2, 2, 3], np.int32)
    for op, empty in (("SegmentSumV2", 0), ("SegmentProdV2", 1), ("SegmentMaxV2", -np.inf),
                      ("SegmentMinV2", np.inf)):
        gd, feed, fetches = build(op, [data, C(ids), C(np.int32(5))], {})
        value = run_graphcompat(gd, feed, fetches)[0]
        reduce = {"SegmentSumV2": np.sum, "SegmentProdV2": np.prod, "SegmentMaxV2": np.max,
                  "SegmentMinV2": np.min}[op]
        want = np.stack([reduce(data[ids == k], axis=0) if np.any(ids == k) else np.full(2, empty, np.float32)
                         for k in range(5)])
        np.testing.assert_allclose(value, want, rtol=1e-6)


def test_fused_batch_norm_grad_reserve_shapes():
    """TF's shape function and its own (non-oneDNN) kernels: two empty [0] vectors."""
    gd, feed, fetches = build("FusedBatchNormGrad", [f32(2, 5, 5, 3), X4, pos(3), f32(3), pos(3)],
                              dict(_BN, is_training=True), 5)
    got = run_graphcompat(gd, feed, fetches)
    assert [np.shape(v) for v in got[3:]] == [(0,), (0,)]
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd, name="")
        assert [g.get_tensor_by_name(n).shape.as_list() for n in fetches[3:]] == [[0], [0]]


def test_placeholder_v2_is_fed_and_refused_unfed():
    from tensorboard.compat.proto import graph_pb2
    gd = graph_pb2.GraphDef()
    gd.versions.producer = PRODUCER
    _node(gd, "x", "PlaceholderV2", dtype=_dt.float32, shape=tf.TensorShape([2, None]))
    _node(gd, "out", "Neg", ["x"], T=_dt.float32)
    value = f32(2, 3)
    got = run_graphcompat(gd, {"x:0": value}, ["out:0"])
    np.testing.assert_array_equal(got[0], -value)
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd, name="")
        assert g.get_tensor_by_name("x:0").shape.as_list() == [2, None]
    assert _outcome(run_graphcompat, gd, {}, ["out:0"]) == _outcome(run_tf, gd, {}, ["out:0"])


@pytest.mark.parametrize("op, np_fn", [("ScatterNdMax", np.maximum), ("ScatterNdMin", np.minimum)])
def test_scatter_nd_max_min_on_ref_variables(op, np_fn):
    """A TF 1 graph's ref variable updated by ScatterNdMax/Min: the op's output and the variable after it."""
    from tensorboard.compat.proto import graph_pb2
    base = np.arange(6, dtype=np.float32).reshape(3, 2) - 2.0
    ids, updates = np.array([[0], [2], [0]], np.int32), np.array([[1.0, -9], [9, 9], [-5, 5]], np.float32)
    gd = graph_pb2.GraphDef()
    gd.versions.producer = PRODUCER
    _node(gd, "v", "VariableV2", dtype=_dt.float32, shape=tf.TensorShape([3, 2]))
    _node(gd, "init", "Const", dtype=_dt.float32, value=base)
    _node(gd, "assign", "Assign", ["v", "init"], T=_dt.float32)
    _node(gd, "ids", "Const", dtype=_dt.int32, value=ids)
    _node(gd, "updates", "Const", dtype=_dt.float32, value=updates)
    _node(gd, "s", op, ["v", "ids", "updates"], T=_dt.float32, Tindices=_dt.int32)
    _node(gd, "read", "Identity", ["v"], T=_dt.float32)

    def run(lib, graph_def):
        g = lib.Graph()
        with g.as_default():
            lib.import_graph_def(graph_def, name="")
            with lib.Session(graph=g) as sess:
                sess.run("assign")
                return sess.run("s:0"), sess.run("read:0")
    got = run(tf, gd)
    v1 = oracle.tf1()
    want = run(v1, v1.GraphDef.FromString(gd.SerializeToString()))
    expect = base.copy()
    for i, u in zip(ids[:, 0], updates):
        expect[i] = np_fn(expect[i], u)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(w, expect)
        np.testing.assert_array_equal(g, w)


# --- gradients through imported old ops: tf.gradients on the imported graph, TF's numbers -----------------------
GRADIENTS = [
    ("FusedBatchNorm", _bn_inputs(X4, 3), dict(_BN, is_training=True), [0, 1, 2]),
    ("FusedBatchNorm", _bn_inputs(X4, 3), dict(_BN, is_training=False), [0, 1, 2]),
    ("FusedBatchNormV2", _bn_inputs(f32(2, 3, 3, 2), 2), dict(_BN, is_training=True, U=_dt.float32), [0, 1, 2]),
    ("BiasAddV1", [X4, f32(3)], {}, [0, 1]),
    ("Div", [f32(3, 4), pos(4)], {}, [0, 1]),
    ("Inv", [pos(3, 2)], {}, [0]),
    ("Concat", [C(np.int32(1)), [f32(2, 3), f32(2, 1)]], {"N": 2}, [1]),
    ("Gather", [f32(5, 2), C(np.array([4, 0, 4], np.int32))], {}, [0]),
    ("Reverse", [f32(2, 3), C(np.array([True, False]))], {}, [0]),
    ("BatchMatMul", [f32(2, 3, 4), f32(2, 4, 5)], {"adj_x": False, "adj_y": False}, [0, 1]),
    ("MatrixDiag", [f32(2, 3)], {}, [0]),
    ("MatrixSetDiag", [f32(2, 3, 3), f32(2, 3)], {}, [0, 1]),
    ("MaxPoolV2", [X4, C(np.int32([1, 2, 2, 1])), C(np.int32([1, 2, 2, 1]))], {"padding": "VALID"}, [0]),
    ("BatchNormWithGlobalNormalization", [X4, f32(3), pos(3), f32(3), pos(3)],
     {"variance_epsilon": 0.001, "scale_after_normalization": True}, [0, 1, 2, 3, 4]),
]


def _gradients(lib, gd, feed, wrt: list):
    g = lib.Graph()
    with g.as_default():
        lib.import_graph_def(gd, name="")
        y = g.get_tensor_by_name("out:0")
        weights = lib.constant(RNG_GRAD.uniform(-1, 1, y.shape.as_list()).astype(y.dtype.as_numpy_dtype))
        loss = lib.reduce_sum(y * weights)
        xs = [g.get_tensor_by_name(n) for n in wrt]
        grads = [lib.convert_to_tensor(d) for d in lib.gradients(loss, xs)]  # Gather's IndexedSlices: dense
        with lib.Session(graph=g) as sess:
            return sess.run(grads, feed)


RNG_GRAD = np.random.RandomState(3)


@pytest.mark.parametrize("case", GRADIENTS, ids=[f"{c[0]}-{i}" for i, c in enumerate(GRADIENTS)])
def test_gradients_through_imported_legacy_ops(case):
    op, inputs, attrs, wrt = case
    gd, feed, _ = build(op, inputs, attrs, 1)
    names = [f"in{i}:0" if not isinstance(inputs[i], list) else f"in{i}_0:0" for i in wrt]
    seed = RNG_GRAD.randint(1 << 30)
    RNG_GRAD.seed(seed)
    # the shapes must be known for the weights: feed-less, so fix them from the fed values
    for n in gd.node:
        if n.op == "Placeholder" and f"{n.name}:0" in feed:
            n.attr["shape"].shape.CopyFrom(tf.TensorShape(feed[f"{n.name}:0"].shape).as_proto())
    got = _gradients(tf, gd, feed, names)
    RNG_GRAD.seed(seed)
    v1 = oracle.tf1()
    want = _gradients(v1, v1.GraphDef.FromString(gd.SerializeToString()), feed, names)
    oracle.assert_same_values(got, want, rtol=2e-4, atol=2e-4, label=op)


def test_batch_aliases_have_no_gradient_as_in_tf():
    """TF registers no gradient for the deprecated Batch* names: tf.gradients raises LookupError."""
    gd, feed, _ = build("BatchMatrixInverse", [SPD], {"adjoint": False}, 1)
    for lib in (tf, oracle.tf1()):
        g = lib.Graph()
        with g.as_default():
            lib.import_graph_def(gd if lib is tf else lib.GraphDef.FromString(gd.SerializeToString()), name="")
            with pytest.raises(LookupError, match="No gradient defined for operation"):
                lib.gradients(g.get_tensor_by_name("out:0"), [g.get_tensor_by_name("in0:0")])


def test_frozen_conv_net_with_fused_batch_norm_v1():
    """A small conv net as TF 1.x froze it: Conv2D + BiasAdd + FusedBatchNorm (V1, inference) + Relu, twice, then
    BiasAddV1, max pool and a mean; variables frozen into Consts by TF's convert_variables_to_constants."""
    v1 = oracle.tf1()
    from tensorflow.python.ops import gen_nn_ops
    rng = np.random.RandomState(11)
    g = v1.Graph()
    with g.as_default():
        x = v1.placeholder(v1.float32, [None, 8, 8, 3], name="x")
        h = x
        for i, (cin, cout) in enumerate([(3, 4), (4, 6)]):
            w = v1.get_variable(f"w{i}", initializer=rng.normal(0, 0.5, (3, 3, cin, cout)).astype(np.float32))
            b = v1.get_variable(f"b{i}", initializer=rng.normal(0, 0.1, cout).astype(np.float32))
            h = v1.nn.bias_add(v1.nn.conv2d(h, w, [1, 1, 1, 1], "SAME"), b)
            stats = [v1.get_variable(f"{n}{i}", initializer=init.astype(np.float32)) for n, init in
                     (("gamma", rng.uniform(0.5, 1.5, cout)), ("beta", rng.normal(0, 0.1, cout)),
                      ("mean", rng.normal(0, 0.1, cout)), ("var", rng.uniform(0.5, 1.5, cout)))]
            h = gen_nn_ops._fused_batch_norm(h, *stats, epsilon=0.001, is_training=False, name=f"bn{i}")[0]
            h = v1.nn.relu(h)
        h = gen_nn_ops.bias_add_v1(h, v1.constant(rng.normal(0, 0.1, 6).astype(np.float32)))
        h = v1.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        v1.reduce_mean(h, axis=[1, 2], name="out")
        with v1.Session(graph=g) as sess:
            sess.run(v1.global_variables_initializer())
            frozen = v1.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["out"])
    assert {"FusedBatchNorm", "BiasAddV1", "BiasAdd", "Conv2D", "Relu"} <= {n.op for n in frozen.node}
    images = rng.uniform(0, 1, (5, 8, 8, 3)).astype(np.float32)
    want = run_tf(frozen, {"x:0": images}, ["out:0"])
    got = run_graphcompat(frozen, {"x:0": images}, ["out:0"])
    oracle.assert_same_values(got, want, rtol=1e-4, atol=1e-5, label="frozen conv net")


def test_adjust_contrast_records_tf_kernel():
    """tf.image.adjust_contrast records AdjustContrastv2 as TF's Python does: same nodes, same values."""
    img = RNG.randint(0, 255, (2, 4, 5, 3)).astype(np.uint8)

    def build(lib):
        return [lib.image.adjust_contrast(lib.constant(img), 1.7),
                lib.image.adjust_contrast(lib.constant(img.astype(np.float32)), lib.constant(0.4))]

    def nodes(lib):
        g = lib.Graph()
        with g.as_default():
            build(lib)
            return [(op.name, op.type) for op in g.get_operations()]
    v1 = oracle.tf1()
    assert nodes(tf) == nodes(v1)
    assert ("adjust_contrast", "AdjustContrastv2") in nodes(tf)
    oracle.assert_same_values(oracle.run(tf, build), oracle.run(v1, build), rtol=1e-6, atol=1e-6,
                              label="adjust_contrast")


@pytest.mark.parametrize("op", ["FusedBatchNorm", "FusedBatchNormV2"])
@pytest.mark.parametrize("training", [True, False])
def test_fused_batch_norm_has_no_gradient_for_mean_and_variance(op, training):
    """TF's gradient function returns None for the mean and variance inputs, in both modes."""
    attrs = dict(_BN, is_training=training, **({"U": _dt.float32} if op == "FusedBatchNormV2" else {}))
    gd, feed, _ = build(op, _bn_inputs(X4, 3), attrs, 1)
    for lib in (tf, oracle.tf1()):
        g = lib.Graph()
        with g.as_default():
            lib.import_graph_def(gd if lib is tf else lib.GraphDef.FromString(gd.SerializeToString()), name="")
            grads = lib.gradients(g.get_tensor_by_name("out:0"), [g.get_tensor_by_name(f"in{i}:0") for i in range(5)])
            assert [d is None for d in grads] == [False, False, False, True, True]


def test_set_diag_band_all_alignments():
    """MatrixSetDiagV3 (which the V1/V2 ops share) sets a band k = (lower, upper) in each of TF's alignments."""
    x = f32(2, 3, 5)
    diagonals = {(-1, 1): f32(2, 3, 3), (0, 2): f32(2, 3, 3), (-2, -1): f32(2, 2, 2)}

    def build(lib):
        return [lib.linalg.set_diag(lib.constant(x), lib.constant(d), k=k, align=align)
                for align in ("RIGHT_LEFT", "LEFT_RIGHT", "LEFT_LEFT", "RIGHT_RIGHT") for k, d in diagonals.items()]
    oracle.assert_same_values(oracle.run(tf, build), oracle.run(oracle.tf1(), build), rtol=0, atol=0,
                              label="set_diag")
