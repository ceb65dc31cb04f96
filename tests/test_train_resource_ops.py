"""Training, resource-variable, sparse and legacy op types that TF 1 graphs and meta graphs contain,
each checked against real TF 2.21 `tensorflow.compat.v1` (graph mode): values step by step, dtypes,
shapes, and bad inputs (error class and TF's text).

The ops are recorded by op type (`registry.apply_op` here, `tf.raw_ops` in TF), as an imported graph
holds them."""
from __future__ import annotations

import re

import numpy as np
import pytest

import graphcompat
from graphcompat.framework.registry import apply_op
from tests import oracle

pytestmark = pytest.mark.oracle


def _tf1():
    return oracle.tf1()


def _record(tf, op_type: str, inputs: dict, attrs: dict):
    """One op of type `op_type` with named inputs: TF's raw op, or graphcompat's apply_op."""
    if tf is graphcompat:
        return apply_op(op_type, list(inputs.values()), attrs)
    return getattr(tf.raw_ops, op_type)(**inputs, **attrs)


def _error(tf, build, run: bool = True):
    """(class name, message) of what building (and running) `build(tf)` raises, in a fresh graph."""
    graph = tf.Graph()
    with graph.as_default():
        try:
            fetches = build(tf)
            if run:
                with tf.Session(graph=graph) as sess:
                    sess.run(tf.global_variables_initializer())
                    sess.run(fetches)
        except Exception as e:  # noqa: BLE001  (the class is what is compared)
            text = getattr(e, "message", None) or str(e)
            return type(e).__name__, text
    return None


def _first_line(text: str) -> str:
    # TF appends the node's debug info and a traceback hint after the kernel's text.
    return re.split(r"\n|\s*\[\[", text)[0]


def assert_same_error(build, run: bool = True) -> None:
    """Both raise the same class; graphcompat's first line (less the node, which TF names in its own
    format) is in TF's message (TF 2.x wraps a run's kernel text: "Graph execution error: …")."""
    want = _error(_tf1(), build, run)
    got = _error(graphcompat, build, run)
    assert want is not None, "TensorFlow raised nothing"
    assert got is not None, f"graphcompat raised nothing; TF raised {want}"
    assert got[0] == want[0], (got, want)
    line = _first_line(got[1]).split(" for '")[0]
    assert line and line in want[1], (line, want[1])


# ------------------------------------------------------------------------------------------------
# 1. Optimizer kernels: Apply*, ResourceApply*, SparseApply*, ResourceSparseApply*
# ------------------------------------------------------------------------------------------------
# base name → (slots with their initial values' offset, hyper-parameters in TF's order, attrs variants,
#              which of the four forms TF registers)
OPTIMIZER_KERNELS = {
    "AdagradV2": (["var", "accum"], {"lr": 0.1, "epsilon": 1e-3},
                  [{}, {"update_slots": False}], ("Apply", "ResourceApply", "SparseApply", "ResourceSparseApply")),
    "AdaMax": (["var", "m", "v"], {"beta1_power": 0.9, "lr": 0.05, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7},
               [{}], ("Apply", "ResourceApply")),
    "AddSign": (["var", "m"], {"lr": 0.1, "alpha": 1.0, "sign_decay": 0.5, "beta": 0.9},
                [{}], ("Apply", "ResourceApply")),
    "PowerSign": (["var", "m"], {"lr": 0.1, "logbase": 0.69, "sign_decay": 0.5, "beta": 0.9},
                  [{}], ("Apply", "ResourceApply")),
    "KerasMomentum": (["var", "accum"], {"lr": 0.1, "momentum": 0.9},
                      [{}, {"use_nesterov": True}], ("ResourceApply", "ResourceSparseApply")),
    "AdamWithAmsgrad": (["var", "m", "v", "vhat"],
                        {"beta1_power": 0.9, "beta2_power": 0.999, "lr": 0.01, "beta1": 0.9, "beta2": 0.999,
                         "epsilon": 1e-7}, [{}], ("ResourceApply",)),
}
SLOT_INIT = {"var": [[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]], "accum": 0.1, "m": 0.05, "v": 0.2, "vhat": 0.3}
GRADS = [[[0.3, -0.2], [0.0, 0.5], [-1.0, 0.1]], [[-0.4, 0.2], [0.7, -0.1], [0.2, 0.0]],
         [[0.1, 0.1], [-0.3, 0.6], [0.5, -0.5]]]
SPARSE_ROWS = [0, 2, 0]  # a duplicate row: TF's kernel updates it twice, in order
SPARSE_GRADS = [[0.3, -0.2], [-1.0, 0.1], [0.5, 0.4]]
# TF's SparseApplyAdagrad(V2) CPU functor runs rows of more than one element in parallel shards (a data race
# on a duplicate row), its one-element rows in one loop: duplicates are compared on vector variables there.
UNIQUE_ROWS = [0, 2, 1]


def _kernel_cases():
    for base, (slots, hyper, variants, forms) in OPTIMIZER_KERNELS.items():
        for form in forms:
            for attrs in variants:
                for dtype in ("float32", "float64"):
                    label = "-".join([form + base] + [f"{k}={v}" for k, v in attrs.items()] + [dtype])
                    # float64 runs the same rules: in the slow tier
                    marks = [pytest.mark.slow] if dtype == "float64" else []
                    yield pytest.param(base, form, attrs, dtype, id=label, marks=marks)


def _kernel_run(tf, base: str, form: str, attrs: dict, dtype: str, steps: int = 3, index_dtype="int32",
                vector: bool = False):
    """The slots after each of `steps` runs of one kernel op."""
    slots, hyper, _, _ = OPTIMIZER_KERNELS[base]
    resource = form.startswith("Resource")
    sparse = "Sparse" in form
    graph = tf.Graph()
    with graph.as_default():
        rows = SPARSE_ROWS if base == "KerasMomentum" or vector else UNIQUE_ROWS
        def init(slot):
            value = np.broadcast_to(np.asarray(SLOT_INIT[slot]), (3, 2)).astype(dtype)
            return value[:, 0] if vector else value
        variables = [tf.Variable(init(s), name=s, use_resource=resource) for s in slots]
        grad = tf.placeholder(dtype, [None] if vector else [None, 2], name="grad")
        inputs = {s: (v.handle if resource else (v if tf is not graphcompat else v._ref()))
                  for s, v in zip(slots, variables)}
        for name, value in hyper.items():
            inputs[name] = tf.constant(value, dtype)
        if sparse:
            grad_at = list(hyper).index("momentum") if base == "KerasMomentum" else len(hyper)
            names = list(inputs)
            pos = len(slots) + grad_at
            inputs = dict(list(inputs.items())[:pos] + [("grad", grad),
                                                        ("indices", tf.constant(rows, index_dtype))]
                          + list(inputs.items())[pos:])
            del names
        else:
            grad_at = list(hyper).index("momentum") if base == "KerasMomentum" else len(hyper)
            pos = len(slots) + grad_at
            inputs = dict(list(inputs.items())[:pos] + [("grad", grad)] + list(inputs.items())[pos:])
        update = _record(tf, form + base, inputs, dict(attrs, use_locking=False))
        op = update if resource else update.op
        assert op.type == form + base
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            out = []
            for step in range(steps):
                feed = np.asarray(SPARSE_GRADS if sparse else GRADS[step], dtype) * (1 + step)
                feed = feed[:, 0] if vector else feed
                sess.run(op, {grad: feed})
                out.append(sess.run(variables))
    return out


@pytest.mark.parametrize("base,form,attrs,dtype", list(_kernel_cases()))
def test_optimizer_kernels_match_tf(base, form, attrs, dtype):
    got = _kernel_run(graphcompat, base, form, attrs, dtype)
    want = _kernel_run(_tf1(), base, form, attrs, dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for step, (g_slots, w_slots) in enumerate(zip(got, want)):
        for g, w in zip(g_slots, w_slots):
            assert g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=f"step {step}")


@pytest.mark.parametrize("form", ["SparseApply", "ResourceSparseApply"])
@pytest.mark.parametrize("update_slots", [True, False])
def test_sparse_adagrad_v2_duplicate_rows_match_tf(form, update_slots):
    """Duplicate rows of a vector variable: TF's loop updates row 0 twice, the second from the first's slots."""
    attrs = {"update_slots": update_slots}
    got = _kernel_run(graphcompat, "AdagradV2", form, attrs, "float32", vector=True)
    want = _kernel_run(_tf1(), "AdagradV2", form, attrs, "float32", vector=True)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_sparse_kernel_int64_indices_match_tf():
    got = _kernel_run(graphcompat, "AdagradV2", "SparseApply", {}, "float32", steps=2, index_dtype="int64")
    want = _kernel_run(_tf1(), "AdagradV2", "SparseApply", {}, "float32", steps=2, index_dtype="int64")
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_ref_op_outputs_the_variable():
    """The ref kernels return the variable (a Ref(T) output) as TF's; resource kernels have no outputs."""
    for tf in (graphcompat, _tf1()):
        with tf.Graph().as_default():
            v = tf.Variable(np.ones((2,), np.float32), use_resource=False)
            m = tf.Variable(np.zeros((2,), np.float32), use_resource=False)
            out = _record(tf, "ApplyAddSign", {"var": v if tf is not graphcompat else v._ref(),
                                               "m": m if tf is not graphcompat else m._ref(),
                                               "lr": 0.1, "alpha": 1.0, "sign_decay": 0.5, "beta": 0.9,
                                               "grad": np.ones(2, np.float32)}, {})
            assert out.dtype.name == "float32_ref" and out.shape.as_list() == [2]
            r = tf.Variable(np.ones((2,), np.float32), use_resource=True)
            rm = tf.Variable(np.zeros((2,), np.float32), use_resource=True)
            op = _record(tf, "ResourceApplyAddSign", {"var": r.handle, "m": rm.handle, "lr": 0.1, "alpha": 1.0,
                                                      "sign_decay": 0.5, "beta": 0.9,
                                                      "grad": np.ones(2, np.float32)}, {})
            assert op.outputs == [] or list(op.outputs) == []


def _bad_kernel(op_type: str, change: dict, resource: bool = True, shape=(3, 2)):
    def build(tf):
        v = tf.Variable(np.ones(shape, np.float32), use_resource=resource, name="v")
        a = tf.Variable(np.ones(shape, np.float32), use_resource=resource, name="a")
        ref = (lambda x: x.handle) if resource else ((lambda x: x._ref()) if tf is graphcompat else (lambda x: x))
        inputs = {"var": ref(v), "accum": ref(a), "lr": np.float32(0.1), "epsilon": np.float32(0.1),
                  "grad": np.ones((2, 2), np.float32), "indices": np.array([0, 1], np.int32)}
        if "Keras" in op_type:
            inputs.pop("epsilon")
            inputs["momentum"] = np.float32(0.9)
        if "Sparse" not in op_type:
            inputs.pop("indices")
            inputs["grad"] = np.ones(shape, np.float32)
        inputs.update(change)
        out = _record(tf, op_type, inputs, {})
        return out if resource else out.op
    return build


@pytest.mark.parametrize("op_type,change,resource", [
    ("ResourceApplyAdagradV2", {"lr": np.ones(2, np.float32)}, True),
    ("ApplyAdagradV2", {"epsilon": np.ones((1, 1), np.float32)}, False),
    ("ApplyAdagradV2", {"grad": np.ones((3, 3), np.float32)}, False),
    ("ResourceSparseApplyAdagradV2", {"indices": np.array([[0, 1]], np.int32)}, True),
    ("SparseApplyAdagradV2", {"grad": np.ones((2, 3), np.float32)}, False),
    ("ResourceSparseApplyKerasMomentum", {"momentum": np.ones(1, np.float32)}, True),
])
def test_optimizer_kernel_build_errors_match_tf(op_type, change, resource):
    assert_same_error(_bad_kernel(op_type, change, resource), run=False)


@pytest.mark.parametrize("op_type,resource", [
    ("SparseApplyAdagradV2", False), ("ResourceSparseApplyAdagradV2", True),
    ("ResourceSparseApplyKerasMomentum", True),
])
def test_sparse_kernel_index_out_of_range_matches_tf(op_type, resource):
    change = {"indices": np.array([1, 5], np.int32)}
    assert_same_error(_bad_kernel(op_type, change, resource))


# ------------------------------------------------------------------------------------------------
# 2. Resource ops: ResourceGatherNd, ResourceScatterNdMax/Min, sliced assigns, TensorStridedSliceUpdate
# ------------------------------------------------------------------------------------------------
TABLE = np.arange(24, dtype=np.float32).reshape(4, 3, 2) - 10


def _run(tf, build, steps: int = 1):
    """`steps` runs of what `build` returns; a list's items are run one after another (an update, then
    the read of the variable: TF orders nothing between two fetches of one run)."""
    graph = tf.Graph()
    with graph.as_default():
        fetches = build(tf)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            if isinstance(fetches, list):
                return [[sess.run(f) for f in fetches] for _ in range(steps)]
            return [sess.run(fetches) for _ in range(steps)]


def _compare(build, steps: int = 1, tol: float = 0.0):
    got, want = _run(graphcompat, build, steps), _run(_tf1(), build, steps)
    for g, w in zip(got, want):
        for gv, wv in zip(g if isinstance(g, (list, tuple)) else [g], w if isinstance(w, (list, tuple)) else [w]):
            if wv is None:  # a fetched op
                assert gv is None
                continue
            gv, wv = np.asarray(gv), np.asarray(wv)
            assert gv.dtype == wv.dtype and gv.shape == wv.shape, (gv, wv)
            np.testing.assert_allclose(gv, wv, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("indices", [[[1, 2], [3, 0]], [[2]], [[[0, 1, 1]], [[3, 2, 0]]]], ids=["pairs", "row", "full"])
def test_resource_gather_nd_matches_tf(dtype, indices):
    def build(tf):
        v = tf.Variable(TABLE.astype(dtype), use_resource=True)
        out = _record(tf, "ResourceGatherNd", {"resource": v.handle, "indices": np.asarray(indices, np.int64)},
                      {"dtype": tf.as_dtype(dtype)})
        assert out.shape.as_list() == list(np.asarray(indices).shape[:-1]) + list(TABLE.shape[np.shape(indices)[-1]:])
        return out
    _compare(build)


@pytest.mark.parametrize("op_type", ["ResourceScatterNdMax", "ResourceScatterNdMin", "ScatterNdMax", "ScatterNdMin"])
@pytest.mark.parametrize("dtype", ["float32", "int32", "float64"])
def test_scatter_nd_max_min_matches_tf(op_type, dtype):
    resource = op_type.startswith("Resource")

    def build(tf):
        v = tf.Variable(TABLE.astype(dtype), use_resource=resource)
        ref = v.handle if resource else (v._ref() if tf is graphcompat else v)
        # duplicate index [1, 2]: both updates reduce into it
        updates = (np.array([[5, -20], [-3, 7], [100, -100]]) * (1 if dtype != "int32" else 1)).astype(dtype)
        out = _record(tf, op_type, {"ref": ref, "indices": np.array([[1, 2], [3, 0], [1, 2]], np.int32),
                                    "updates": updates}, {})
        with tf.control_dependencies([out if resource else out.op]):
            return tf.identity(v.read_value() if resource else v)
    _compare(build, steps=2)


def test_scatter_nd_max_out_of_range_matches_tf():
    def build(tf):
        v = tf.Variable(TABLE, use_resource=True)
        return _record(tf, "ResourceScatterNdMax", {"ref": v.handle, "indices": np.array([[1, 2], [4, 0]], np.int32),
                                                    "updates": np.ones((2, 2), np.float32)}, {})
    assert_same_error(build)


def test_resource_gather_nd_errors_match_tf():
    def bad_index(tf):
        v = tf.Variable(TABLE, use_resource=True)
        return _record(tf, "ResourceGatherNd", {"resource": v.handle, "indices": np.array([[1, 5]], np.int32)},
                       {"dtype": tf.float32})

    def too_deep(tf):
        v = tf.Variable(TABLE, use_resource=True)
        return _record(tf, "ResourceGatherNd", {"resource": v.handle, "indices": np.zeros((1, 4), np.int32)},
                       {"dtype": tf.float32})
    assert_same_error(bad_index)
    assert_same_error(too_deep, run=False)


SLICES = [
    (lambda v: v[1:, ::2], np.ones((3, 2, 2), np.float32) * 7),
    (lambda v: v[0], np.full((3, 2), -1.0, np.float32)),
    (lambda v: v[..., 1], np.float32(4.5)),  # a scalar broadcast into the slice
    (lambda v: v[::-2, 1:3, 0], np.arange(4, dtype=np.float32).reshape(2, 2)),
    (lambda v: v[None, 2, :, 1], np.array([[9.0, 8.0, 7.0]], np.float32)),
    (lambda v: v[1, :], np.ones((1, 3, 2), np.float32)),  # size-1 axes: TF's processing-shape broadcast
]


@pytest.mark.parametrize("resource", [False, True], ids=["ref", "resource"])
@pytest.mark.parametrize("case", range(len(SLICES)))
def test_sliced_variable_assign_matches_tf(resource, case):
    take, value = SLICES[case]

    def build(tf):
        v = tf.Variable(TABLE, use_resource=resource, name="v")
        updated = take(v).assign(value)
        return [updated, v.read_value() if resource else tf.identity(v)]
    _compare(build)


@pytest.mark.parametrize("resource", [False, True], ids=["ref", "resource"])
def test_sliced_variable_assign_records_tf_ops(resource):
    def names(tf):
        graph = tf.Graph()
        with graph.as_default():
            v = tf.Variable(TABLE, use_resource=resource, name="v")
            v[1:, 0].assign(np.zeros((3, 2), np.float32))
            v[2].assign(np.zeros((3, 2), np.float32), name="mine")
        ops = graph.get_operations()
        return [(op.name, op.type) for op in ops if "Assign" in op.type and op.name != "v/Assign"]
    got, want = names(graphcompat), names(_tf1())
    assert got == want
    assert {t for _, t in got} == {"ResourceStridedSliceAssign" if resource else "StridedSliceAssign"}


def test_sliced_assign_bad_value_matches_tf():
    def build(tf):
        v = tf.Variable(TABLE, use_resource=False)
        return v[1:, 0].assign(np.ones((3,), np.float32))
    assert_same_error(build)


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_tensor_strided_slice_update_matches_tf(dtype):
    def build(tf):
        x = tf.constant((TABLE > 0) if dtype == "bool" else TABLE.astype(dtype))
        value = np.ones((2, 3), dtype)
        return _record(tf, "TensorStridedSliceUpdate",
                       {"input": x, "begin": np.array([1, 0, 1], np.int32), "end": np.array([3, 0, 2], np.int32),
                        "strides": np.array([1, 1, 1], np.int32), "value": value},
                       {"end_mask": 2, "shrink_axis_mask": 4})
    _compare(build)


# ------------------------------------------------------------------------------------------------
# 3. Sparse: SparseDenseCwise* and the SparseTensor operators
# ------------------------------------------------------------------------------------------------
SP_INDICES = np.array([[0, 0, 1], [0, 2, 0], [1, 1, 1], [1, 2, 1]], np.int64)
SP_SHAPE = np.array([2, 3, 2], np.int64)
DENSES = [np.array([[[2, -3], [4, 5], [-6, 7]], [[1, 2], [3, -4], [5, 6]]]),  # same shape
          np.array([[2, -3]]), np.array([-4, 5]), np.array(3), np.array([[[2], [3], [-5]]])]


@pytest.mark.parametrize("op_type", ["SparseDenseCwiseAdd", "SparseDenseCwiseMul", "SparseDenseCwiseDiv"])
@pytest.mark.parametrize("dtype", ["float32", "int32", pytest.param("float64", marks=pytest.mark.slow),
                                   pytest.param("int64", marks=pytest.mark.slow)])
@pytest.mark.parametrize("dense", range(len(DENSES)))
def test_sparse_dense_cwise_matches_tf(op_type, dtype, dense):
    def build(tf):
        values = np.array([7, -9, 11, -13], dtype)
        out = _record(tf, op_type, {"sp_indices": SP_INDICES, "sp_values": values, "sp_shape": SP_SHAPE,
                                    "dense": DENSES[dense].astype(dtype)}, {})
        assert out.shape.as_list() == [4]
        return out
    _compare(build, tol=1e-6)


@pytest.mark.parametrize("dense", [np.ones((3, 3), np.float32), np.ones((2, 1, 2, 2), np.float32)])
def test_sparse_dense_cwise_broadcast_error_matches_tf(dense):
    def build(tf):
        return _record(tf, "SparseDenseCwiseMul", {"sp_indices": SP_INDICES, "sp_values": np.ones(4, np.float32),
                                                   "sp_shape": SP_SHAPE, "dense": dense}, {})
    assert_same_error(build)


def test_sparse_dense_cwise_out_of_bounds_matches_tf():
    def build(tf):
        return _record(tf, "SparseDenseCwiseAdd", {"sp_indices": SP_INDICES, "sp_values": np.ones(4, np.float32),
                                                   "sp_shape": np.array([2, 2, 2], np.int64),
                                                   "dense": np.ones((2, 2, 2), np.float32)}, {})
    assert_same_error(build)


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64"])
@pytest.mark.parametrize("operator", ["mul", "truediv", "div"])
def test_sparse_tensor_operators_match_tf(operator, dtype):
    def build(tf):
        sp = tf.SparseTensor(SP_INDICES, np.array([7, -9, 11, -13], dtype), SP_SHAPE)
        dense = tf.constant(DENSES[1].astype(dtype))
        if operator == "mul":
            out = sp * dense
        elif operator == "truediv":
            out = sp / dense
        else:
            out = sp.__div__(dense)
        assert isinstance(out, tf.SparseTensor)
        scalar = sp * 2
        return [out.indices, out.values, out.dense_shape, scalar.values]
    _compare(lambda tf: tuple(build(tf)), tol=1e-6)

    def names(tf):
        graph = tf.Graph()
        with graph.as_default():
            build(tf)
        return [(op.name, op.type) for op in graph.get_operations()]
    assert names(graphcompat) == names(_tf1())


def test_dense_times_sparse_matches_tf():
    """TF's _mul_dispatch: `dense * sp` is SparseDenseCwiseMul too (no other operator takes a SparseTensor)."""
    def build(tf):
        sp = tf.SparseTensor(SP_INDICES, np.array([7, -9, 11, -13], np.float32), SP_SHAPE)
        out = tf.constant(DENSES[2].astype(np.float32)) * sp
        assert isinstance(out, tf.SparseTensor)
        return out.indices, out.values, out.dense_shape
    _compare(build)

    def names(tf):
        graph = tf.Graph()
        with graph.as_default():
            build(tf)
        return [(op.name, op.type) for op in graph.get_operations()]
    assert names(graphcompat) == names(_tf1())


# ------------------------------------------------------------------------------------------------
# 5. Small ops: RefIdentity, RefSelect, Copy, CopyHost, Debug*, Abort
# ------------------------------------------------------------------------------------------------
X = np.array([[1.0, np.nan, -2.0], [np.nan, 3.0, 4.0]], np.float32)


@pytest.mark.parametrize("op_type", ["Copy", "CopyHost", "DebugIdentity", "DebugIdentityV2", "DebugNanCount",
                                     "DebugGradientIdentity"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_watch_ops_match_tf(op_type, dtype):
    def build(tf):
        out = _record(tf, op_type, {"input": tf.constant(np.nan_to_num(X, nan=-7).astype(dtype) if dtype == "int32"
                                                         else X.astype(dtype))},
                      {"tensor_name": "x:0"} if op_type in ("Copy", "CopyHost", "DebugIdentity", "DebugNanCount") else {})
        return out
    got, want = _run(graphcompat, build), _run(_tf1(), build)
    np.testing.assert_array_equal(got[0], want[0])
    assert np.asarray(got[0]).dtype == np.asarray(want[0]).dtype


def test_ref_identity_and_ref_select_write_the_variable_as_tf():
    def build(tf):
        a = tf.Variable(np.ones(3, np.float32), use_resource=False, name="a")
        b = tf.Variable(np.zeros(3, np.float32), use_resource=False, name="b")
        ref = (lambda v: v._ref()) if tf is graphcompat else (lambda v: v)
        same = _record(tf, "RefIdentity", {"input": ref(a)}, {})
        picked = _record(tf, "RefSelect", {"index": tf.constant(1), "inputs": [ref(a), ref(b)]}, {})
        assert same.dtype.name == picked.dtype.name == "float32_ref"
        upd = tf.assign_add(same, [1.0, 2.0, 3.0])
        upd2 = tf.assign_sub(picked, [5.0, 5.0, 5.0])
        return [tf.group(upd, upd2), tf.identity(a), tf.identity(b)]
    _compare(build, steps=2)


def test_ref_select_index_out_of_range_matches_tf():
    def build(tf):
        a = tf.Variable(np.ones(3, np.float32), use_resource=False, name="a")
        ref = a._ref() if tf is graphcompat else a
        return tf.identity(_record(tf, "RefSelect", {"index": tf.constant(2), "inputs": [ref, ref]}, {}))
    assert_same_error(build)


@pytest.mark.parametrize("op_type", ["DebugIdentity", "DebugNanCount"])
@pytest.mark.parametrize("tensor_name", ["", "a:b:c", "x:one"])
def test_debug_op_tensor_name_errors_match_tf(op_type, tensor_name):
    def build(tf):
        return _record(tf, op_type, {"input": tf.constant(X)}, {"tensor_name": tensor_name})
    assert_same_error(build)


def test_debug_ops_with_dump_urls_are_not_implemented():
    with graphcompat.Graph().as_default():
        out = apply_op("DebugIdentity", [graphcompat.constant(1.0)], {"debug_urls": ["file:///tmp/dump"], "tensor_name": "x:0"})
        with graphcompat.Session() as sess, pytest.raises(NotImplementedError, match="DebugIdentity"):
            sess.run(out)


def test_abort_raises_with_its_message():
    """TF's Abort ends the process (so it is not run under TF here); graphcompat raises instead."""
    with graphcompat.Graph().as_default():
        op = apply_op("Abort", [], {"error_msg": "stop here"})
        assert op.type == "Abort" and not op.outputs
        with graphcompat.Session() as sess, pytest.raises(graphcompat.errors.AbortedError,
                                                          match="Abort_op intentional failure; stop here"):
            sess.run(op)


# ------------------------------------------------------------------------------------------------
# A resource-variable training meta graph TF writes with the new kernels, trained by graphcompat
# ------------------------------------------------------------------------------------------------
def _tf_writes_training_meta_graph(tmp_path, steps: int):
    """TF: an embedding + dense model whose train op is ResourceApplyAdaMax on the dense weights,
    ResourceSparseApplyKerasMomentum on the embedding rows (duplicate ids, as gathered) and
    ResourceApplyAdamWithAmsgrad on the bias; returns (checkpoint prefix, feed, losses, final values)."""
    v1 = _tf1()
    graph = v1.Graph()
    with graph.as_default():
        ids = v1.placeholder(v1.int32, [None], name="ids")
        y = v1.placeholder(v1.float32, [None, 2], name="y")
        init = v1.constant_initializer
        with v1.variable_scope("", use_resource=True):
            emb = v1.get_variable("emb", initializer=np.linspace(-1, 1, 12, dtype=np.float32).reshape(6, 2))
            w = v1.get_variable("w", initializer=np.array([[0.5, -0.3], [0.2, 0.8]], np.float32))
            b = v1.get_variable("b", [2], initializer=init(0.1))
            slots = {name: v1.get_variable(name, shape, initializer=init(0.0), trainable=False)
                     for name, shape in [("w_m", [2, 2]), ("w_v", [2, 2]), ("emb_accum", [6, 2]),
                                         ("b_m", [2]), ("b_v", [2]), ("b_vhat", [2])]}
            b1p = v1.get_variable("beta1_power", [], initializer=init(0.9), trainable=False)
            b2p = v1.get_variable("beta2_power", [], initializer=init(0.999), trainable=False)
        logits = v1.matmul(v1.nn.embedding_lookup(emb, ids), w) + b
        loss = v1.reduce_mean(v1.square(v1.tanh(logits) - y))
        g_emb, g_w, g_b = v1.gradients(loss, [emb, w, b])
        updates = [
            v1.raw_ops.ResourceApplyAdaMax(var=w.handle, m=slots["w_m"].handle, v=slots["w_v"].handle,
                                           beta1_power=b1p.read_value(), lr=0.1, beta1=0.9, beta2=0.999,
                                           epsilon=1e-7, grad=g_w),
            v1.raw_ops.ResourceSparseApplyKerasMomentum(var=emb.handle, accum=slots["emb_accum"].handle, lr=0.5,
                                                        grad=g_emb.values, indices=g_emb.indices, momentum=0.9,
                                                        use_nesterov=True),
            v1.raw_ops.ResourceApplyAdamWithAmsgrad(var=b.handle, m=slots["b_m"].handle, v=slots["b_v"].handle,
                                                    vhat=slots["b_vhat"].handle, beta1_power=b1p.read_value(),
                                                    beta2_power=b2p.read_value(), lr=0.05, beta1=0.9, beta2=0.999,
                                                    epsilon=1e-7, grad=g_b)]
        with v1.control_dependencies(updates):
            train = v1.group(b1p.assign(b1p * 0.9), b2p.assign(b2p * 0.999), name="train")
        v1.add_to_collection("train_op", train)
        v1.add_to_collection("loss", loss)
        saver = v1.train.Saver()
        feed = {"ids:0": np.array([1, 4, 1, 5, 1], np.int32),
                "y:0": np.array([[1, 0], [0, 1], [1, 1], [0, 0], [-1, 1]], np.float32)}
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "model"))
            losses = [sess.run([train, loss], feed)[1] for _ in range(steps)]
            final = {v.op.name: sess.run(v) for v in v1.global_variables()}
    return prefix, feed, losses, final


def test_graphcompat_trains_tf_meta_graph_with_new_kernels(tmp_path):
    prefix, feed, want_losses, want_vars = _tf_writes_training_meta_graph(tmp_path, steps=4)
    graph = graphcompat.Graph()
    with graph.as_default():
        saver = graphcompat.train.import_meta_graph(prefix + ".meta")
        train, loss = graphcompat.get_collection("train_op")[0], graphcompat.get_collection("loss")[0]
        variables = graphcompat.global_variables()
        kinds = {op.type for op in graph.get_operations()}
        assert {"ResourceApplyAdaMax", "ResourceSparseApplyKerasMomentum", "ResourceApplyAdamWithAmsgrad"} <= kinds
        with graphcompat.Session(graph=graph) as sess:
            saver.restore(sess, prefix)
            losses = [sess.run([train, loss], feed)[1] for _ in range(len(want_losses))]
            final = {v.op.name: sess.run(v) for v in variables}
    np.testing.assert_allclose(losses, want_losses, rtol=1e-5, atol=1e-6)
    assert set(final) == set(want_vars)
    for name, value in want_vars.items():
        np.testing.assert_allclose(final[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


# ------------------------------------------------------------------------------------------------
# 3b. Sparse gradient kernels (recorded by TF's gradients of sparse ops)
# ------------------------------------------------------------------------------------------------
SEG_GRAD = np.arange(8, dtype=np.float32).reshape(4, 2) - 3


@pytest.mark.parametrize("kind", ["Sum", "Mean", "SqrtN"])
@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
@pytest.mark.parametrize("dtype,index_dtype", [("float32", "int32"), ("float64", "int64")])
def test_sparse_segment_grads_match_tf(kind, v2, dtype, index_dtype):
    def build(tf):
        op_type = f"SparseSegment{kind}Grad" + ("V2" if v2 else "")
        inputs = {"grad": SEG_GRAD.astype(dtype), "indices": np.array([5, 1, 1, 0, 3], index_dtype),
                  "segment_ids": np.array([0, 0, 2, 3, 3], index_dtype),
                  ("dense_output_dim0" if v2 else "output_dim0"): np.int32(6)}
        out = _record(tf, op_type, inputs, {})
        return tuple(out) if v2 else out
    _compare(build, tol=1e-6)


@pytest.mark.parametrize("change", [{"segment_ids": np.array([0, 4])}, {"indices": np.array([0, 7])}])
def test_sparse_segment_grad_errors_match_tf(change):
    def build(tf):
        inputs = dict({"grad": SEG_GRAD, "indices": np.array([0, 1]), "segment_ids": np.array([0, 1]),
                       "output_dim0": np.int32(4)}, **change)
        return _record(tf, "SparseSegmentMeanGrad", inputs, {})
    assert_same_error(build)


def test_sparse_segment_grad_in_tf_gradient_graph():
    """tf.gradients of tf.sparse.segment_mean: TF records SparseSegmentMeanGrad(V2); graphcompat runs the
    GraphDef TF wrote with TF's numbers."""
    v1 = _tf1()
    graph = v1.Graph()
    with graph.as_default():
        data = v1.constant(np.arange(12, dtype=np.float32).reshape(6, 2), name="data")
        out = v1.sparse.segment_mean(data, [4, 1, 1, 0], [0, 0, 1, 1])
        grad = v1.gradients(v1.reduce_sum(out * out), data)[0]
        grad = v1.identity(v1.convert_to_tensor(grad), name="grad_dense")
        with v1.Session(graph=graph) as sess:
            want = sess.run(grad)
    assert any(op.type.startswith("SparseSegmentMeanGrad") for op in graph.get_operations())
    with graphcompat.Graph().as_default() as g:
        graphcompat.import_graph_def(graph.as_graph_def(), name="")
        with graphcompat.Session(graph=g) as sess:
            got = sess.run("grad_dense:0")
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_sparse_add_fill_empty_rows_slice_grads_match_tf():
    def build(tf):
        a_idx = np.array([[0, 0], [1, 2], [2, 1]], np.int64)
        b_idx = np.array([[0, 0], [1, 1], [2, 1]], np.int64)
        sum_idx = np.array([[0, 0], [1, 1], [1, 2]], np.int64)  # [2, 1] fell under the threshold
        add = _record(tf, "SparseAddGrad", {"backprop_val_grad": np.array([1.5, -2.0, 3.0], np.float32),
                                            "a_indices": a_idx, "b_indices": b_idx, "sum_indices": sum_idx}, {})
        fill = _record(tf, "SparseFillEmptyRowsGrad", {"reverse_index_map": np.array([0, 2, 3], np.int64),
                                                       "grad_values": np.array([1., 2., 3., 4., 5.], np.float32)}, {})
        sl = _record(tf, "SparseSliceGrad", {"backprop_val_grad": np.array([7., 8.], np.float64),
                                             "input_indices": np.array([[0, 1], [1, 2], [2, 0], [2, 3]], np.int64),
                                             "input_start": np.array([1, 1], np.int64),
                                             "output_indices": np.array([[0, 1], [1, 2]], np.int64)}, {})
        return (*add, *fill, sl)
    _compare(build)


def test_sparse_fill_empty_rows_grad_bad_map_matches_tf():
    def build(tf):
        return _record(tf, "SparseFillEmptyRowsGrad", {"reverse_index_map": np.array([0, 5], np.int64),
                                                       "grad_values": np.array([1., 2.], np.float32)}, {})[0]
    assert_same_error(build)


# ------------------------------------------------------------------------------------------------
# 4. Legacy TensorArray ops (TF 1.0–1.2 GraphDefs), imported from NodeDefs
# ------------------------------------------------------------------------------------------------
def _legacy_graph_def(nodes: list):
    """A GraphDef of producer version 10 (before the V1/V2 TensorArray ops were deprecated) from
    (name, op, inputs, attrs) tuples; Const values are numpy arrays."""
    v1 = _tf1()
    from tensorflow.core.framework import graph_pb2
    gd = graph_pb2.GraphDef()
    gd.versions.producer = 10
    for name, op, inputs, attrs in nodes:
        node = gd.node.add(name=name, op=op)
        node.input.extend(inputs)
        for key, value in attrs.items():
            if isinstance(value, np.ndarray):
                node.attr[key].tensor.CopyFrom(v1.make_tensor_proto(value))
            elif isinstance(value, bool):
                node.attr[key].b = value
            elif isinstance(value, str):
                node.attr[key].s = value.encode()
            elif isinstance(value, int):
                node.attr[key].i = value
            else:
                node.attr[key].type = v1.as_dtype(value).as_datatype_enum
    return gd


def _const(name, value):
    value = np.asarray(value)
    return (name, "Const", [], {"dtype": value.dtype, "value": value})


def _legacy_nodes(suffix: str):
    handle = "ta"
    f = np.float32
    nodes = [_const("size", np.int32(3)), _const("flow", f(0)), _const("i0", np.int32(0)),
             _const("i1", np.int32(1)), _const("i2", np.int32(2)),
             _const("x0", np.array([1, 2], f)), _const("x1", np.array([3, 4], f)), _const("x2", np.array([5, 6], f)),
             ("ta", "TensorArray" + suffix, ["size"], {"dtype": f, "dynamic_size": False, "clear_after_read": False,
                                                       "tensor_array_name": "legacy"}),
             ("w0", "TensorArrayWrite" + suffix, [handle, "i0", "x0", "flow"], {"T": f}),
             ("w1", "TensorArrayWrite" + suffix, [handle, "i1", "x1", "w0"], {"T": f}),
             ("w2", "TensorArrayWrite" + suffix, [handle, "i2", "x2", "w1"], {"T": f}),
             ("read", "TensorArrayRead" + suffix, [handle, "i1", "w2"], {"dtype": f}),
             _const("which", np.array([2, 0], np.int32)),
             ("gather", "TensorArrayGather" + suffix, [handle, "which", "w2"], {"dtype": f}),
             ("concat", "TensorArrayConcat" + suffix, [handle, "w2"], {"dtype": f}),
             ("n", "TensorArraySize" + suffix, [handle, "w2"], {}),
             # a second array filled by Scatter / Split
             ("tb", "TensorArray" + suffix, ["size"], {"dtype": f, "dynamic_size": False, "clear_after_read": False,
                                                       "tensor_array_name": ""}),
             _const("rows", np.arange(6, dtype=f).reshape(3, 2)), _const("perm", np.array([2, 0, 1], np.int32)),
             ("scatter", "TensorArrayScatter" + suffix, ["tb", "perm", "rows", "flow"], {"T": f}),
             ("gather_b", "TensorArrayGather" + suffix, ["tb", "i0_2", "scatter"], {"dtype": f}),
             ("tc", "TensorArray" + suffix, ["size"], {"dtype": f, "dynamic_size": False, "clear_after_read": False,
                                                       "tensor_array_name": ""}),
             _const("flat", np.arange(6, dtype=f)), _const("lengths", np.array([2, 2, 2], np.int64)),
             ("split", "TensorArraySplit" + suffix, ["tc", "flat", "lengths", "flow"], {"T": f}),
             ("read_c", "TensorArrayRead" + suffix, ["tc", "i2", "split"], {"dtype": f}),
             _const("i0_2", np.array([0, 1, 2], np.int32)),
             ("close", "TensorArrayClose" + suffix, ["tc"], {})]
    fetches = ["read:0", "gather:0", "concat:0", "concat:1", "n:0", "gather_b:0", "read_c:0"]
    if suffix == "":
        nodes += [("pack", "TensorArrayPack", [handle, "w2"], {"dtype": f}),
                  ("td", "TensorArray", ["size"], {"dtype": f, "dynamic_size": False, "clear_after_read": False,
                                                   "tensor_array_name": ""}),
                  ("unpack", "TensorArrayUnpack", ["td", "rows", "flow"], {"T": f}),
                  ("read_d", "TensorArrayRead", ["td", "i2", "unpack"], {"dtype": f})]
        fetches += ["pack:0", "read_d:0"]
    return nodes, fetches


def _run_graph_def(tf, graph_def, fetches):
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=graph) as sess:
            return sess.run(fetches), sorted({op.type for op in graph.get_operations()})


@pytest.mark.parametrize("suffix", ["", "V2"], ids=["v1", "v2"])
def test_legacy_tensor_array_graph_defs_match_tf(suffix):
    nodes, fetches = _legacy_nodes(suffix)
    graph_def = _legacy_graph_def(nodes)
    (got, got_types), (want, want_types) = (_run_graph_def(graphcompat, graph_def, fetches),
                                            _run_graph_def(_tf1(), graph_def, fetches))
    assert got_types == want_types
    for name, g, w in zip(fetches, got, want):
        assert np.asarray(g).dtype == np.asarray(w).dtype, name
        np.testing.assert_array_equal(g, w, err_msg=name)


def test_legacy_tensor_array_read_out_of_range_matches_tf():
    nodes = [_const("size", np.int32(2)), _const("flow", np.float32(0)), _const("i5", np.int32(5)),
             _const("x", np.float32(1)),
             ("ta", "TensorArrayV2", ["size"], {"dtype": np.float32, "dynamic_size": False,
                                                "clear_after_read": True, "tensor_array_name": "t"}),
             ("w", "TensorArrayWriteV2", ["ta", "i5", "x", "flow"], {"T": np.float32})]
    graph_def = _legacy_graph_def(nodes)

    def run(tf):
        try:
            _run_graph_def(tf, graph_def, ["w:0"])
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, getattr(e, "message", str(e))
    got, want = run(graphcompat), run(_tf1())
    assert got[0] == want[0] == "InvalidArgumentError"
    assert "Tried to write to index 5 but array is not resizeable and size is: 2" in want[1]
    assert "Tried to write to index 5 but array is not resizeable and size is: 2" in got[1]


# ------------------------------------------------------------------------------------------------
# 1b. tf.contrib.opt's AddSign / PowerSign / AdaMax record the new kernels (TF 2.21 has no tf.contrib:
#     the oracle is TF running the same kernel ops on the same slots)
# ------------------------------------------------------------------------------------------------
W_INIT = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
XS = np.array([[1.0, 2.0], [-0.5, 1.5], [0.3, -0.7]], np.float32)


def _loss(tf, w):
    return tf.reduce_sum(tf.square(tf.tanh(tf.matmul(tf.constant(XS), w)) - 0.5))


def _contrib_run(name: str, resource: bool, steps: int = 3):
    graph = graphcompat.Graph()
    with graph.as_default():
        w = graphcompat.Variable(W_INIT, use_resource=resource, name="w")
        opt = {"addsign": lambda: graphcompat.contrib.opt.AddSignOptimizer(0.1, alpha=1.5, beta=0.8),
               "powersign": lambda: graphcompat.contrib.opt.PowerSignOptimizer(0.1, base=2.0, beta=0.8),
               "adamax": lambda: graphcompat.contrib.opt.AdaMaxOptimizer(0.05)}[name]()
        train = opt.minimize(_loss(graphcompat, w))
        types = {op.type for op in graph.get_operations()}
        slots = sorted(v.op.name for v in opt.variables())
        with graphcompat.Session(graph=graph) as sess:
            sess.run(graphcompat.global_variables_initializer())
            values = []
            for _ in range(steps):
                sess.run(train)
                values.append(sess.run(w))
    return values, types, slots


def _tf_kernel_run(name: str, steps: int = 3):
    v1 = _tf1()
    graph = v1.Graph()
    with graph.as_default():
        with v1.variable_scope("", use_resource=True):
            w = v1.get_variable("w", initializer=W_INIT)
            m = v1.get_variable("m", initializer=np.zeros_like(W_INIT))
            v = v1.get_variable("v", initializer=np.zeros_like(W_INIT))
            b1p = v1.get_variable("b1p", initializer=np.float32(0.9))
        grad = v1.gradients(_loss(v1, w), w)[0]
        if name == "addsign":
            update = v1.raw_ops.ResourceApplyAddSign(var=w.handle, m=m.handle, lr=0.1, alpha=1.5, sign_decay=1.0,
                                                     beta=0.8, grad=grad)
        elif name == "powersign":
            update = v1.raw_ops.ResourceApplyPowerSign(var=w.handle, m=m.handle, lr=0.1, logbase=float(np.log(2.0)),
                                                       sign_decay=1.0, beta=0.8, grad=grad)
        else:
            update = v1.raw_ops.ResourceApplyAdaMax(var=w.handle, m=m.handle, v=v.handle, beta1_power=b1p.read_value(),
                                                    lr=0.05, beta1=0.9, beta2=0.999, epsilon=1e-8, grad=grad)
        with v1.control_dependencies([update]):
            train = b1p.assign(b1p * 0.9)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            values = []
            for _ in range(steps):
                sess.run(train)
                values.append(sess.run(w))
    return values


@pytest.mark.parametrize("resource", [False, True], ids=["ref", "resource"])
@pytest.mark.parametrize("name,kernel,slots", [
    ("addsign", "ApplyAddSign", ["w/AddSignOptimizer"]),
    ("powersign", "ApplyPowerSign", ["w/PowerSignOptimizer"]),
    ("adamax", "ApplyAdaMax", ["beta1_power", "w/AdaMax", "w/AdaMax_1"]),
])
def test_contrib_opt_optimizers_record_the_kernels(name, kernel, slots, resource):
    got, types, got_slots = _contrib_run(name, resource)
    assert ("Resource" + kernel if resource else kernel) in types
    assert got_slots == slots
    want = _tf_kernel_run(name)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_contrib_opt_sparse_gradients_are_not_implemented():
    with graphcompat.Graph().as_default():
        emb = graphcompat.Variable(np.ones((4, 2), np.float32))
        loss = graphcompat.reduce_sum(graphcompat.gather(emb, [0, 2]))
        with pytest.raises(NotImplementedError, match="AddSignOptimizer"):
            graphcompat.contrib.opt.AddSignOptimizer().minimize(loss)


# ------------------------------------------------------------------------------------------------
# 5b. V1 summaries: TensorSummary, AudioSummary
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, -2], np.int64),
                                   np.array([b"a", b"bc"], object)], ids=["float", "int64", "string"])
def test_tensor_summary_v1_matches_tf(value):
    from tensorboard.compat.proto import summary_pb2

    def build(tf):
        return _record(tf, "TensorSummary", {"tensor": tf.constant(value)}, {"description": "d"})
    got, want = _run(graphcompat, build)[0], _run(_tf1(), build)[0]
    assert summary_pb2.Summary.FromString(got) == summary_pb2.Summary.FromString(want)


def test_audio_summary_v1_matches_tf():
    """AudioSummary left TF's registry at GraphDef version 15: an old GraphDef holds it."""
    from tensorboard.compat.proto import summary_pb2
    audio = (np.sin(np.arange(2 * 40 * 2, dtype=np.float32) / 3).reshape(2, 40, 2) * 0.5).astype(np.float32)
    graph_def = _legacy_graph_def([_const("tag", np.array(b"snd", object)), _const("audio", audio),
                                   ("snd", "AudioSummary", ["tag", "audio"], {"sample_rate_f": 0})])
    node = graph_def.node[-1]
    del node.attr["sample_rate_f"]
    node.attr["sample_rate"].f = 8000.0
    node.attr["max_outputs"].i = 2
    got, want = _run_graph_def(graphcompat, graph_def, "snd:0")[0], _run_graph_def(_tf1(), graph_def, "snd:0")[0]
    assert summary_pb2.Summary.FromString(got) == summary_pb2.Summary.FromString(want)


# ------------------------------------------------------------------------------------------------
# 3c. SparseBincount, DeserializeSparse
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("weighted,binary", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_sparse_bincount_matches_tf(rank, weighted, binary, dtype):
    def build(tf):
        if rank == 1:
            indices, shape = np.array([[0], [2], [3], [5], [6]], np.int64), np.array([8], np.int64)
        else:
            indices, shape = np.array([[0, 1], [0, 3], [1, 0], [2, 2], [2, 4]], np.int64), np.array([3, 5], np.int64)
        values = np.array([1, 3, 1, 9, 0], dtype)  # 9 >= size: not counted
        weights = np.array([0.5, 1.0, 2.0, 3.0, 4.0], np.float32) if weighted else np.array([], np.float32)
        return _record(tf, "SparseBincount", {"indices": indices, "values": values, "dense_shape": shape,
                                              "size": np.asarray(5, dtype), "weights": weights},
                       {"binary_output": binary})
    _compare(build)


@pytest.mark.parametrize("values,weights", [([1, -1], []), ([1, 2], [1.0, 2.0, 3.0])], ids=["negative", "weights"])
def test_sparse_bincount_errors_match_tf(values, weights):
    def build(tf):
        return _record(tf, "SparseBincount", {"indices": np.array([[0], [1]], np.int64),
                                              "values": np.array(values, np.int32), "dense_shape": np.array([3], np.int64),
                                              "size": np.int32(4), "weights": np.array(weights, np.float32)}, {})
    assert_same_error(build)


@pytest.mark.parametrize("batch", [None, (2,), (2, 1)], ids=["single", "batch", "batch2d"])
def test_deserialize_sparse_matches_tf(batch):
    def build(tf):
        sp = tf.SparseTensor(np.array([[0, 1], [2, 0]], np.int64), np.array([1.5, -2.0], np.float32),
                             np.array([3, 2], np.int64))
        one = tf.io.serialize_sparse(sp)
        if batch is None:
            serialized = one
        else:
            sp2 = tf.SparseTensor(np.array([[1, 1]], np.int64), np.array([7.0], np.float32),
                                  np.array([2, 4], np.int64))
            serialized = tf.reshape(tf.stack([one, tf.io.serialize_sparse(sp2)]), batch + (3,))
        return tuple(_record(tf, "DeserializeSparse", {"serialized_sparse": serialized}, {"dtype": tf.float32}))
    _compare(build)


@pytest.mark.parametrize("num_buckets", [0, 100])
@pytest.mark.parametrize("kinds", [("sparse_int", "dense_int"), ("sparse_str", "sparse_int"),
                                   ("dense_str", "dense_int"), ("sparse_int", "sparse_int", "dense_str")])
def test_sparse_cross_hashed_matches_tf(num_buckets, kinds):
    def build(tf):
        inputs = {"sparse_int": tf.SparseTensor([[0, 0], [0, 1], [1, 0]], np.array([3, -7, 12345678901], np.int64),
                                                [2, 2]),
                  "sparse_str": tf.SparseTensor([[0, 0], [1, 0], [1, 1]], np.array([b"a", b"bb", b"c"], object),
                                                [2, 2]),
                  "dense_int": tf.constant(np.array([[5], [-2]], np.int64)),
                  "dense_str": tf.constant(np.array([[b"x", b"y"], [b"z", b"w"]], object))}
        columns = [inputs[k] for k in kinds]
        sparse = [c for c in columns if isinstance(c, tf.SparseTensor)]
        dense = [c for c in columns if not isinstance(c, tf.SparseTensor)]
        args = {"indices": [s.indices for s in sparse], "values": [s.values for s in sparse],
                "shapes": [s.dense_shape for s in sparse], "dense_inputs": dense,
                "num_buckets": np.int64(num_buckets), "strong_hash": False, "salt": np.array([1, 2], np.int64)}
        if tf is graphcompat:
            out = apply_op("SparseCrossHashed", [args["indices"], args["values"], args["shapes"], dense,
                                                 args["num_buckets"], False, args["salt"]],
                           {"N": len(sparse), "sparse_types": [s.dtype for s in sparse],
                            "dense_types": [d.dtype for d in dense]})
        else:
            out = tf.raw_ops.SparseCrossHashed(**args)
        return tuple(out)
    _compare(build)


def test_sharded_filespec_matches_tf():
    def build(tf):
        return _record(tf, "ShardedFilespec", {"basename": tf.constant("/tmp/model.ckpt"),
                                               "num_shards": np.int32(12)}, {})
    assert _run(graphcompat, build) == _run(_tf1(), build)


@pytest.mark.parametrize("op_type", ["ResourceApplyAdaMax", "ResourceApplyKerasMomentum", "ApplyAdagradV2"])
def test_dense_kernels_in_a_padded_training_step_match_tf(op_type):
    """A `[None, 2]` batch (padded to a bucket by graphcompat) trains the weights as TF's exact run does."""
    def run(tf):
        graph = tf.Graph()
        with graph.as_default():
            x = tf.placeholder(tf.float32, [None, 2], name="x")
            resource = op_type.startswith("Resource")
            w = tf.Variable(W_INIT, use_resource=resource, name="w")
            s1 = tf.Variable(np.zeros_like(W_INIT), use_resource=resource, name="s1")
            s2 = tf.Variable(np.zeros_like(W_INIT), use_resource=resource, name="s2")
            loss = tf.reduce_mean(tf.square(tf.tanh(tf.matmul(x, w)) - 0.3))
            grad = tf.gradients(loss, w)[0]
            ref = (lambda v: v.handle) if resource else ((lambda v: v._ref()) if tf is graphcompat else (lambda v: v))
            inputs = {"ResourceApplyAdaMax": {"var": ref(w), "m": ref(s1), "v": ref(s2), "beta1_power": 0.9, "lr": 0.1,
                                              "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7, "grad": grad},
                      "ResourceApplyKerasMomentum": {"var": ref(w), "accum": ref(s1), "lr": 0.1, "grad": grad,
                                                     "momentum": 0.9},
                      "ApplyAdagradV2": {"var": ref(w), "accum": ref(s1), "lr": 0.1, "epsilon": 1e-3, "grad": grad}}
            update = _record(tf, op_type, inputs[op_type], {})
            train = update if resource else update.op
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                rng = np.random.RandomState(3)
                for n in (3, 5, 3, 7):
                    sess.run(train, {x: rng.randn(n, 2).astype(np.float32)})
                return sess.run(w)
    np.testing.assert_allclose(run(graphcompat), run(_tf1()), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------------
# 3d. The SparseTensors map: AddSparseToTensorsMap, AddManySparseToTensorsMap, TakeManySparseFromTensorsMap
# ------------------------------------------------------------------------------------------------
def _sparse_map_run(tf, order):
    graph = tf.Graph()
    with graph.as_default():
        one = _record(tf, "AddSparseToTensorsMap", {"sparse_indices": np.array([[1]], np.int64),
                                                    "sparse_values": np.array([9.0], np.float32),
                                                    "sparse_shape": np.array([4], np.int64)}, {"shared_name": "m"})
        many = _record(tf, "AddManySparseToTensorsMap",
                       {"sparse_indices": np.array([[0, 1], [2, 0], [2, 2]], np.int64),
                        "sparse_values": np.array([3.0, 4.0, 5.0], np.float32),
                        "sparse_shape": np.array([3, 3], np.int64)}, {"shared_name": "m"})
        handles = tf.placeholder(tf.int64, [None], name="h")
        take = _record(tf, "TakeManySparseFromTensorsMap", {"sparse_handles": handles},
                       {"dtype": tf.float32, "shared_name": "m"})
        with tf.Session(graph=graph) as sess:
            h_one = sess.run(one)  # two runs: ops of one run take their handles in any order
            h_many = sess.run(many)
            got = sess.run(tuple(take), {handles: [[h_many[i] for i in order] + [h_one]][0]})
            try:  # taken handles are gone from the map
                sess.run(tuple(take), {handles: [h_one]})
                again = None
            except Exception as e:  # noqa: BLE001
                again = type(e).__name__, getattr(e, "message", str(e))
    return int(h_one), [int(h) for h in h_many], got, again


def test_sparse_tensors_map_matches_tf():
    got, want = _sparse_map_run(graphcompat, [2, 0, 1]), _sparse_map_run(_tf1(), [2, 0, 1])
    assert got[:2] == want[:2]  # TF's handle numbering
    for g, w in zip(got[2], want[2]):
        np.testing.assert_array_equal(g, w)
        assert np.asarray(g).dtype == np.asarray(w).dtype
    assert got[3][0] == want[3][0] == "InvalidArgumentError"
    assert _first_line(got[3][1]) in want[3][1]
