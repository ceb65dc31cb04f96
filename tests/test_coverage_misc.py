"""Coverage (issue 13 #7): base64, tensor serialization, write_file, timestamp, ensure_shape, parallel_stack,
clip_by_average_norm, and TF1's pure-Python top-level helpers (DeviceSpec, TensorSpec, dimension_value …)."""
import os
import time

import numpy as np
import pytest

import graphcompat as tf
from graphcompat.framework import errors as E
from tests import oracle
from tests._conformance import Bad, Case, bad_cases, check, check_bad

TABLE = [
    Case("ensure_shape", lambda tf, x: tf.ensure_shape(x, [None, 3]), lambda x: x, [np.ones([2, 3], np.float32)],
         bad=[Bad([np.ones([2, 4], np.float32)], E.InvalidArgumentError,
                  "is not compatible with expected shape [?,3].")]),
    Case("parallel_stack", lambda tf, x, y: tf.parallel_stack([x, y, x]), lambda x, y: np.stack([x, y, x]),
         [np.arange(6.).reshape(2, 3), np.ones([2, 3])]),
    Case("clip_by_average_norm", lambda tf, x: tf.clip_by_average_norm(x, 0.5),
         lambda x: (x * 0.5 * min(x.size / np.sqrt(np.sum(x * x)), 1 / 0.5)).astype(np.float32),
         [np.array([[3., 4.], [1., 2.]], np.float32)], 1e-6),
    Case("base64_roundtrip", lambda tf, s: tf.io.decode_base64(tf.io.encode_base64(s)), lambda s: s,
         [np.array([b"", b"a", b"\xff\xfe?>", b"hello world"], dtype=object)], static=True),
]


@pytest.mark.parametrize("case", TABLE, ids=str)
def test_conformance(case):
    check(case)


@pytest.mark.parametrize("case, bad", bad_cases(TABLE))
def test_bad_inputs(case, bad):
    check_bad(case, bad)


ORACLE = {
    "base64": lambda tf: [tf.io.encode_base64(["hello?>", "ab", ""]), tf.io.encode_base64(["hello?>", "ab"], pad=True),
                          tf.io.decode_base64(["aGVsbG8_Pg", "YWI=", "YWI"]), tf.encode_base64("x")],
    "serialize": lambda tf: [tf.io.serialize_tensor([[1.0, 2.0]]), tf.io.serialize_tensor(["a", "bc"]),
                             tf.io.serialize_tensor(tf.constant(7, tf.int64)),
                             tf.io.parse_tensor(tf.io.serialize_tensor([[1.5, 2.0]]), tf.float32),
                             tf.parse_tensor(tf.serialize_tensor([True, False]), tf.bool)],
    "shapes": lambda tf: [tf.parallel_stack([tf.constant([1, 2]), tf.constant([3, 4])]),
                          tf.clip_by_average_norm(tf.constant([[3.0, 4.0]]), 1.0),
                          tf.ensure_shape(tf.constant([[1.0, 2.0]]), [None, 2])],
}



@pytest.mark.oracle
@pytest.mark.parametrize("program", sorted(ORACLE))
def test_oracle(program):
    v1 = oracle.tf1()
    got, want = oracle.run(tf, ORACLE[program]), oracle.run(v1, ORACLE[program])
    for g, w in zip(got, want):
        if isinstance(w, bytes):   # a serialized proto: compare the exact bytes (numpy would strip NULs)
            assert g == w
            continue
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)
    assert oracle.names(tf, ORACLE[program]) == oracle.names(v1, ORACLE[program])


def test_run_time_errors(tmp_path):
    with tf.Graph().as_default():
        with tf.Session() as sess:
            with pytest.raises(E.InvalidArgumentError, match="Invalid character found in base64."):
                sess.run(tf.io.decode_base64(["a$b"]))
            with pytest.raises(E.InvalidArgumentError, match=r"Type mismatch between parsed tensor \(float\) and "
                                                             r"dtype \(int32\)"):
                sess.run(tf.io.parse_tensor(tf.io.serialize_tensor([1.0]), tf.int32))
            path = str(tmp_path / "a" / "b" / "out.txt")
            sess.run(tf.io.write_file(path, "contents"))
            assert open(path).read() == "contents"
            with pytest.raises(E.FailedPreconditionError):   # a directory where the file belongs
                sess.run(tf.write_file(str(tmp_path / "a"), "x"))
            before = time.time()
            ts = sess.run(tf.timestamp())
            assert isinstance(ts, np.floating) and before - 1 <= ts <= time.time() + 1
        with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal, but are 2 and 3"):
            tf.ensure_shape(tf.constant([1., 2., 3.]), [2])


@pytest.mark.oracle
def test_device_spec_and_tensor_spec_match_tensorflow():
    v1 = oracle.tf1()
    for spec in ["/job:ps/replica:0/task:2/device:GPU:1", "/gpu:0", "cpu:*", "/job:w/task:3", "",
                 "/device:CPU:0/job:x"]:
        assert tf.DeviceSpec.from_string(spec).to_string() == v1.DeviceSpec.from_string(spec).to_string()
    for bad in ["/foo:bar", "/cpu:0/gpu:1"]:
        with pytest.raises(ValueError) as ours:
            tf.DeviceSpec.from_string(bad)
        with pytest.raises(ValueError) as theirs:
            v1.DeviceSpec.from_string(bad)
        assert str(ours.value) == str(theirs.value)
    mine = tf.DeviceSpec.from_string("/job:ps/task:2/device:GPU:1")
    mine.merge_from(tf.DeviceSpec(job="w", device_type="cpu", device_index=0))
    mine.parse_from_string("/replica:4")
    theirs = v1.DeviceSpec.from_string("/job:ps/task:2/device:GPU:1")
    theirs.merge_from(v1.DeviceSpec(job="w", device_type="cpu", device_index=0))
    theirs.parse_from_string("/replica:4")
    assert mine.to_string() == theirs.to_string() and repr(mine) == repr(theirs)
    a, b = tf.TensorSpec([2, None], tf.float32, name="x"), v1.TensorSpec([2, None], v1.float32, name="x")
    assert repr(a) == repr(b)
    assert repr(tf.TensorSpec([3], tf.int64)) == repr(v1.TensorSpec([3], v1.int64))
    assert a.is_compatible_with(tf.TensorSpec([2, 3])) and not a.is_compatible_with(tf.TensorSpec([3, 3]))
    assert a == tf.TensorSpec([2, None], tf.float32, "x") and a != tf.TensorSpec([2, None], tf.float32)


def test_pure_python_helpers():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2, None], name="x")
        assert tf.dimension_value(x.shape[0]) == 2 and tf.dimension_value(x.shape[1]) is None
        assert tf.dimension_value(5) == 5
        assert tf.dimension_at_index(x.shape, 0).value == 2
        assert tf.dimension_at_index(tf.TensorShape(None), 3).value is None
        assert tf.get_static_value(x) is None
        np.testing.assert_array_equal(tf.get_static_value(tf.constant([1, 2]) * 2), [2, 4])
        sp = tf.convert_to_tensor_or_sparse_tensor(tf.SparseTensorValue([[0]], [1.0], [3]))
        assert isinstance(sp, tf.SparseTensor)
        assert isinstance(tf.convert_to_tensor_or_sparse_tensor([1.0]), tf.Tensor)
        assert tf.convert_to_tensor_or_indexed_slices([1, 2]).dtype == tf.int32
        assert tf.no_regularizer(x) is None
        assert tf.is_symbolic_tensor(x) and not tf.is_symbolic_tensor(np.ones(2))
        assert not tf.executing_eagerly_outside_functions() and not tf.control_flow_v2_enabled()
        with tf.op_scope([x], None, "my_scope"):
            y = tf.identity(x)
        assert y.name == "my_scope/Identity:0"
        with tf.control_dependencies([x.op]):
            with tf.init_scope():
                z = tf.constant(1.0)
        assert z.op.control_inputs == []
        tf.logging.vlog(tf.logging.DEBUG, "vlog %d", 1)
        tf.logging.flush()
        assert tf.get_logger().name == "tensorflow"
