"""Staging areas, map staging areas, barriers and session tensors against real TF (tf.compat.v1 graph mode,
`tensorflow.python.ops.data_flow_ops`): each scenario builds the same graph in graphcompat and in TF, runs the
same sequence of steps and records each step's values or its error (class and text); the two records must be
equal. GraphDefs (op types, names, inputs, attrs) are compared node for node, and a GraphDef TF writes
imports and runs in graphcompat."""
import re
import threading
import time

import numpy as np
import pytest

import graphcompat
from graphcompat.ops import data_flow_ops as gc_data_flow_ops
from tests import oracle

pytestmark = pytest.mark.oracle


def _tf_data_flow_ops():
    oracle.tf1()
    from tensorflow.python.ops import data_flow_ops
    return data_flow_ops


def _libs():
    return [(graphcompat, gc_data_flow_ops), (oracle.tf1(), _tf_data_flow_ops())]


def _normalize(value):
    """Fetched values as comparable Python data (TensorHandles as their handle strings)."""
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_normalize(v) for v in value]
    if hasattr(value, "handle") and hasattr(value, "eval"):
        return ("TensorHandle", value.handle)
    if value is None:
        return None
    arr = np.asarray(value)
    return (str(arr.dtype), arr.shape, arr.tolist())


def _error_text(e) -> str:
    """The error's own text: TF's message carries "Graph execution error", the node and a hint around it."""
    message = getattr(e, "message", None) or str(e)
    lines = [line for line in message.splitlines() if line.strip() and not line.startswith(
        ("Graph execution error", "Detected at node", "  File", "Node:", "\t", "Hint:", "Original stack"))
             and not line.startswith("    ")]
    text = lines[0] if lines else message
    return re.sub(r"\b_\d+_", "_N_", text)  # private resource names hold a process-wide counter


class Recorder:
    def __init__(self, sess):
        self.sess = sess
        self.record = []

    def __call__(self, fetches, feed=None):
        try:
            self.record.append(("ok", _normalize(self.sess.run(fetches, feed))))
        except Exception as e:  # noqa: BLE001  (the class and text are the record)
            self.record.append((type(e).__name__, _error_text(e)))


def _build_outcomes(*builders) -> list:
    """"ok", or the class and text of what each builder raised (build-time errors compared with TF's)."""
    outcomes = []
    for build in builders:
        try:
            build()
            outcomes.append("ok")
        except Exception as e:  # noqa: BLE001  (the class and text are the record)
            outcomes.append((type(e).__name__, str(e)))
    return outcomes


def _both(scenario):
    """Runs `scenario(tf, data_flow_ops, graph, Recorder)` under graphcompat and TF; returns both records."""
    records = []
    for tf, dfo in _libs():
        graph = tf.Graph()
        with graph.as_default():
            records.append(scenario(tf, dfo, graph))
    return records


def _assert_same(scenario):
    got, want = _both(scenario)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, (i, g, w)


# ------------------------------------------------------------------------------------------------
# StagingArea
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "int64", "float16", "bool"])
def test_staging_area_sequence(dtype):
    def scenario(tf, dfo, graph):
        dt = tf.as_dtype(dtype)
        area = dfo.StagingArea([dt, tf.int32], shapes=[[2], []])
        x = tf.placeholder(dt, [2])
        y = tf.placeholder(tf.int32, [])
        put = area.put([x, y])
        get, size, clear = area.get(), area.size(), area.clear()
        peek1 = area.peek(1)
        with tf.Session() as sess:
            run = Recorder(sess)
            for i in range(3):
                run(put, {x: np.array([i, i + 1]).astype(dtype), y: 10 * i})
            run(size)
            run(peek1)
            run(get)
            run([size, peek1])
            run(clear)
            run(size)
            run(put, {x: np.array([1, 0]).astype(dtype), y: 7})
            run(get)
            return run.record
    _assert_same(scenario)


def test_staging_area_names_and_static_shapes():
    def scenario(tf, dfo, graph):
        area = dfo.StagingArea([tf.float32, tf.string], names=["a", "b"])
        put = area.put({"a": tf.constant([1.5, 2.5]), "b": tf.constant(["x", "yz"])})
        got = area.get()
        with tf.Session() as sess:
            run = Recorder(sess)
            run(put)
            run(got)
            return run.record + [sorted(got), [str(t.shape) for _, t in sorted(got.items())], area.name]
    _assert_same(scenario)


def test_staging_area_build_errors():
    def scenario(tf, dfo, graph):
        out = []
        area = dfo.StagingArea([tf.float32, tf.int32], shapes=[[2], []])
        named = dfo.StagingArea([tf.float32], names=["a"])
        out += _build_outcomes(lambda: area.put([tf.constant([1, 2]), tf.constant(1)]),
                               lambda: area.put([tf.constant([1., 2.]), tf.constant(1), tf.constant(1)]),
                               lambda: area.put([tf.constant([1., 2., 3.]), tf.constant(1)]),
                               lambda: area.put({"a": tf.constant(1.)}),
                               lambda: named.put([tf.constant(1.)]),
                               lambda: named.put({"b": tf.constant(1.)}),
                               lambda: dfo.StagingArea([tf.float32], shapes=[[1], [2]]),
                               lambda: dfo.StagingArea([tf.float32], names=["a", "b"]),
                               lambda: dfo.StagingArea([tf.float32], shared_name=3))
        out.append(len(graph.get_operations()))
        return out
    _assert_same(scenario)


def test_negative_capacity_is_refused_when_the_op_is_built():
    """TF's `capacity: int >= 0`, read from framework/tf_op_types.py (regenerated by tools/gen_op_types.py)."""
    from graphcompat.framework.registry import OP_DEFS
    if not OP_DEFS["Stage"].attr_minimums:
        pytest.skip("framework/tf_op_types.py predates the staging ops: run tools/gen_op_types.py")

    def scenario(tf, dfo, graph):
        out = []
        for fn in (lambda: dfo.StagingArea([tf.float32], capacity=-1).put([tf.constant(1.)]),
                   lambda: dfo.MapStagingArea([tf.float32], memory_limit=-1).size()):
            try:
                fn()
                out.append("ok")
            except ValueError as e:
                out.append(str(e))
        return out
    _assert_same(scenario)


def test_staging_area_run_errors():
    def scenario(tf, dfo, graph):
        area = dfo.StagingArea([tf.float32], memory_limit=16, shared_name="shared")
        wrong = dfo.StagingArea([tf.int32], shared_name="shared")
        two = dfo.StagingArea([tf.float32, tf.float32], shared_name="shared")
        x = tf.placeholder(tf.float32, [None])
        put = area.put([x])
        with tf.Session() as sess:
            run = Recorder(sess)
            run(put, {x: np.zeros(5, np.float32)})     # 20 bytes > 16
            run(put, {x: np.zeros(2, np.float32)})
            run(wrong.peek(0))
            run(two.get())                 # TF takes the element, then finds 1 value for 2 outputs
            run(area.size())
            return run.record
    _assert_same(scenario)


def test_staging_area_capacity_blocks_until_get():
    """Three puts into a capacity-2 area from other threads: the third waits until a get makes room."""
    def scenario(tf, dfo, graph):
        area = dfo.StagingArea([tf.int32], capacity=2)
        x = tf.placeholder(tf.int32, [])
        put, get, size = area.put([x]), area.get(), area.size()
        with tf.Session() as sess:
            for i in range(2):
                sess.run(put, {x: i})
            blocked = threading.Thread(target=lambda: sess.run(put, {x: 2}))
            blocked.start()
            values = [sess.run(size)]
            values += [sess.run(get)[0] for _ in range(3)]
            blocked.join()
            values.append(sess.run(size))
            return [int(v) for v in values]
    got, want = _both(scenario)
    assert got == want == [2, 0, 1, 2, 0]


def test_blocked_get_is_cancelled_when_the_session_closes():
    """graphcompat only: TF's Unstage waits for ever (its kernel handles no cancellation)."""
    with graphcompat.Graph().as_default():
        area = gc_data_flow_ops.StagingArea([graphcompat.float32])
        get = area.get()
        sess = graphcompat.Session()
        sess.run(area.size())      # the buffer exists
        caught = []

        def blocked():
            try:
                sess.run(get)
            except graphcompat.errors.CancelledError as e:
                caught.append(e.message)
        thread = threading.Thread(target=blocked)
        thread.start()
        buffer = sess._state[("staging", "Buffer", "", area.name)]
        while not buffer._cond._waiters:   # the get is waiting on the buffer
            time.sleep(0.01)
        sess.close()
        thread.join()
        assert caught == ["Unstage operation was cancelled"]


def test_contrib_staging_alias():
    assert graphcompat.contrib.staging.StagingArea is gc_data_flow_ops.StagingArea


def test_staging_area_graph_def_matches_tf():
    def build(tf, dfo):
        area = dfo.StagingArea([tf.float32, tf.int32], shapes=[[2], []], capacity=3, memory_limit=1024)
        area.put([tf.constant([1., 2.]), tf.constant(3)])
        area.get()
        area.peek(0)
        area.size()
        area.clear()
        with tf.device("/cpu:0"):
            area.get(name="moved")
        m = dfo.MapStagingArea([tf.float32, tf.int32], ordered=True, names=["a", "b"])
        m.put(tf.constant(1, tf.int64), {"b": tf.constant(3)})
        m.get(tf.constant(1, tf.int64), indices=["a"])
        m.get()
        m.peek(tf.constant(2, tf.int64))
        m.size(), m.incomplete_size(), m.clear()
        u = dfo.MapStagingArea([tf.float32])
        u.put(tf.constant(1, tf.int64), [tf.constant(1.)], indices=[0])
        u.get()
        b = dfo.Barrier((tf.string, tf.int32), shapes=((), ()))
        b.insert_many(0, ["a"], ["x"])
        b.take_many(2)
        b.take_many(3, allow_small_batch=True)
        b.close(), b.close(True), b.ready_size(), b.incomplete_size()
        h = tf.get_session_handle(tf.constant(1.) * 2)
        tf.get_session_tensor("GetSessionHandle;0;/job:localhost/replica:0/task:0/device:CPU:0", tf.float32)
        tf.delete_session_tensor("GetSessionHandle;0;/job:localhost/replica:0/task:0/device:CPU:0")
        return h

    def nodes(tf, dfo):
        graph = tf.Graph()
        with graph.as_default():
            build(tf, dfo)
        out = []
        for n in graph.as_graph_def().node:
            attrs = {k: str(v).replace(" ", "") for k, v in n.attr.items() if k not in ("value", "_output_shapes")}
            out.append((n.name, n.op, list(n.input), n.device, attrs))
        return out
    (gc, gc_dfo), (v1, tf_dfo) = _libs()
    got, want = nodes(gc, gc_dfo), nodes(v1, tf_dfo)
    assert [g[:4] for g in got] == [w[:4] for w in want]
    for g, w in zip(got, want):
        assert g == w, (g, w)


# ------------------------------------------------------------------------------------------------
# MapStagingArea
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ordered", [True, False])
def test_map_staging_area_sequence(ordered):
    def scenario(tf, dfo, graph):
        area = dfo.MapStagingArea([tf.float32, tf.int32, tf.string], ordered=ordered, capacity=5)
        k = tf.placeholder(tf.int64, [])
        x, y, z = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.int32, []), tf.placeholder(tf.string, [])
        put = area.put(k, [x, y, z], indices=[0, 1, 2])
        put01 = area.put(k, [x, y], indices=[0, 1])
        put2 = area.put(k, [z], indices=[2])
        put12 = area.put(k, [y, z], indices=[1, 2])
        size, incomplete = area.size(), area.incomplete_size()
        peek = area.peek(k)
        peek2 = area.peek(k, indices=[2])
        _, pop = area.get(k)
        _, pop0 = area.get(k, indices=[0])
        _, pop12 = area.get(k, indices=[1, 2])
        clear = area.clear()
        with tf.Session() as sess:
            run = Recorder(sess)
            run(put, {k: 7, x: [1., 2.], y: 3, z: "seven"})
            run(put01, {k: 4, x: [4.], y: 4})
            run([size, incomplete])
            run(put2, {k: 4, z: "four"})
            run([size, incomplete])
            run(put12, {k: 9, y: 9, z: "nine"})
            run(put12, {k: 9, y: 9, z: "again"})           # already initialized
            run(peek, {k: 4})
            run(peek2, {k: 7})
            run(pop0, {k: 7})
            run(pop0, {k: 7})                              # already removed
            run([size, incomplete])
            run(pop12, {k: 7})
            run([size, incomplete])
            run(pop, {k: 4})
            run([size, incomplete])
            run(clear)
            run([size, incomplete])
            return run.record
    _assert_same(scenario)


def test_ordered_map_get_without_key_takes_smallest():
    def scenario(tf, dfo, graph):
        area = dfo.MapStagingArea([tf.int32], ordered=True)
        k = tf.placeholder(tf.int64, [])
        v = tf.placeholder(tf.int32, [])
        put = area.put(k, [v], indices=[0])
        key, value = area.get()
        with tf.Session() as sess:
            run = Recorder(sess)
            for i in (5, -3, 12, 0):
                run(put, {k: i, v: 100 + i})
            for _ in range(4):
                run([key, value])
            return run.record + [str(key.shape), key.dtype.name]
    _assert_same(scenario)


def test_unordered_map_get_without_key_follows_tfs_hash_map():
    """An unordered map hands out keys in the order TF's std::unordered_map iterates them."""
    def scenario(tf, dfo, graph):
        area = dfo.MapStagingArea([tf.int32], ordered=False)
        k = tf.placeholder(tf.int64, [])
        v = tf.placeholder(tf.int32, [])
        put = area.put(k, [v], indices=[0])
        key, _ = area.get()
        with tf.Session() as sess:
            out = []
            for keys in ([5, -3, 12, 0], [1, 2, 3], [10, 20, 30, 40, 50, 60, 7], list(range(40, 0, -3)) + [13, 26]):
                for i in keys:
                    sess.run(put, {k: i, v: i})
                out.append([int(sess.run(key)) for _ in keys[:len(keys) // 2]])
            out.append(sorted(int(sess.run(key)) for _ in range(sess.run(area.size()))))
            return out
    _assert_same(scenario)


def test_map_staging_area_index_errors_and_memory_accounting():
    """TF's errors (bad index, unordered indices, memory limit) and its byte accounting, which counts a put's
    last value only and subtracts what a get returns."""
    def scenario(tf, dfo, graph):
        area = dfo.MapStagingArea([tf.float32] * 3, memory_limit=40, ordered=True)
        k = tf.placeholder(tf.int64, [])
        ph = [tf.placeholder(tf.float32, [None]) for _ in range(3)]
        put = area.put(k, ph, indices=[0, 1, 2])
        put10 = area.put(k, ph[:2], indices=[1, 0])
        key, got = area.get()
        with tf.Session() as sess:
            run = Recorder(sess)
            run(put, {k: 1, ph[0]: np.zeros(20), ph[1]: np.zeros(1), ph[2]: np.zeros(2)})   # counts 8 bytes
            run(put, {k: 2, ph[0]: np.zeros(1), ph[1]: np.zeros(1), ph[2]: np.zeros(11)})  # 44 > 40
            run(put10, {k: 3, ph[0]: np.zeros(1), ph[1]: np.zeros(1)})
            run([area.size(), area.incomplete_size()])
            run(put, {k: 2, ph[0]: np.zeros(30), ph[1]: np.zeros(1), ph[2]: np.zeros(8)})   # 8 + 32 <= 40
            run([area.size(), area.incomplete_size()])
            run([key, got])
            run([key, got])
            # (TF's gets subtracted 276 bytes from the 40 counted, in size_t: every later put would wait for ever)
            return run.record
    _assert_same(scenario)


def test_map_staging_area_build_errors():
    def scenario(tf, dfo, graph):
        out = []
        area = dfo.MapStagingArea([tf.float32, tf.int32], names=["a", "b"])
        plain = dfo.MapStagingArea([tf.float32])
        out += _build_outcomes(lambda: area.put(1, [tf.constant(1.)], indices=[0]),
                               lambda: area.get(1, indices=["c"]),
                               lambda: area.get(1, indices=[]),
                               lambda: area.get(1, indices=["a", 1]),
                               lambda: area.get(1, indices=0),
                               lambda: plain.get(1, indices=["a"]),
                               lambda: plain.put(1, [tf.constant(1.)]),
                               lambda: plain.put(1, [tf.constant(1.)], indices=[0, 1]),
                               lambda: plain.put(1, [tf.constant(1)], indices=[0]))
        return out
    _assert_same(scenario)


# ------------------------------------------------------------------------------------------------
# Barrier
# ------------------------------------------------------------------------------------------------
def test_barrier_sequence():
    def scenario(tf, dfo, graph):
        b = dfo.Barrier((tf.string, tf.int32), shapes=((), ()))
        ins0 = b.insert_many(0, keys=["k1", "k2"], values=["a", "b"])
        ins1 = b.insert_many(1, keys=["k1"], values=[1])
        ins1b = b.insert_many(1, keys=["k2"], values=[2])
        ins1c = b.insert_many(1, keys=["k3"], values=[3])
        ins0c = b.insert_many(0, keys=["k3"], values=["c"])
        take2, take_small = b.take_many(2), b.take_many(5, allow_small_batch=True)
        sizes = [b.ready_size(), b.incomplete_size()]
        close, cancel = b.close(), b.close(cancel_pending_enqueues=True)
        with tf.Session() as sess:
            run = Recorder(sess)
            run(ins0)
            run(ins1)
            run(sizes)
            run(ins1)                       # k1 was taken into the ready queue: a new k1
            run(ins1c)
            run(sizes)
            run(ins0c)
            run(ins1b)
            run(sizes)
            run(take2)
            run(close)
            run(close)
            run(take_small)
            run(take_small)
            run(take2)
            run(ins1c)                      # k3 is a brand new key of a closed barrier
            run(cancel)
            run(cancel)
            run(sizes)
            run(ins0)
            return run.record + [take2.indices.shape.as_list(), take_small.values[1].shape.as_list(), b.name]
    _assert_same(scenario)


def test_barrier_run_errors():
    def scenario(tf, dfo, graph):
        b = dfo.Barrier([tf.float32, tf.int32], shapes=[[2], []])
        with tf.Session() as sess:
            run = Recorder(sess)
            run(b.insert_many(0, ["a"], [[1.0, 2, 3]]))
            run(b.insert_many(1, ["a"], [1.0]))
            run(b.insert_many(2, ["a"], [1]))
            run(b.insert_many(0, ["a"], tf.zeros([1, 0])))
            run(b.insert_many(0, ["a"], [[1., 2]]))
            run(b.insert_many(0, ["a"], [[1., 2]]))
            run([b.ready_size(), b.incomplete_size()])
            return run.record
    _assert_same(scenario)


def test_barrier_take_many_waits_for_insert():
    def scenario(tf, dfo, graph):
        b = dfo.Barrier([tf.int32], shapes=[[]])
        ins = b.insert_many(0, ["a", "b"], [1, 2])
        take = b.take_many(2)
        with tf.Session() as sess:
            result = {}
            taker = threading.Thread(target=lambda: result.update(v=sess.run(take)))
            taker.start()
            sess.run(ins)
            taker.join()
            return _normalize(result["v"])
    got, want = _both(scenario)
    assert got == want


def test_barrier_build_errors():
    def scenario(tf, dfo, graph):
        out = []
        out += _build_outcomes(lambda: dfo.Barrier([tf.float32], shapes=[[0]]),
                               lambda: dfo.Barrier([tf.float32], shapes=[2]),
                               lambda: dfo.Barrier(tf.float32).insert_many(0, ["a"], [1]),
                               lambda: dfo.Barrier([tf.float32], shapes=[[2]]).take_many([1, 2]),
                               lambda: dfo.Barrier([tf.float32], shapes=[[2]]).take_many(1, timeout=5))
        return out
    _assert_same(scenario)


# ------------------------------------------------------------------------------------------------
# Session tensors
# ------------------------------------------------------------------------------------------------
def test_session_handles():
    def scenario(tf, dfo, graph):
        c = tf.constant([1., 2.]) * 3
        h = tf.get_session_handle(c)
        h2 = tf.get_session_handle(c, name="hh")
        hi = tf.get_session_handle(tf.constant(5))
        with tf.Session() as sess:
            run = Recorder(sess)
            value = sess.run(h)
            run(h2)
            p, t = tf.get_session_tensor(value.handle, tf.float32)
            run(t * 10, {p: value.handle})
            dp, d = tf.delete_session_tensor(value.handle)
            run(d, {dp: value.handle})
            run(d, {dp: value.handle})
            run(t, {p: value.handle})
            other = sess.run(hi)
            p2, t2 = tf.get_session_tensor(other.handle, tf.float32)
            run(t2, {p2: other.handle})
            run([hi, c])
            both = sess.run([h, c])
            out = run.record + [value.handle, type(value).__name__, other.eval().tolist(), both[1].tolist(),
                                p.op.device, t.op.type, str(t.shape), h.op.get_attr("_class")]
            try:
                tf.get_session_handle(np.ones(2))
            except TypeError as e:
                out.append(str(e))
            return out
    _assert_same(scenario)


def test_tensor_handle_feed_and_delete():
    """Feeding the TensorHandle itself (TF 1's usage) and TensorHandle.delete (graphcompat only: TF 2.21's
    session encodes a fed TensorHandle as a resource proto its string placeholder refuses)."""
    with graphcompat.Graph().as_default(), graphcompat.Session() as sess:
        h = graphcompat.get_session_handle(graphcompat.constant([4, 5]))
        value = sess.run(h)
        p, t = graphcompat.get_session_tensor(value.handle, graphcompat.int32)
        np.testing.assert_array_equal(sess.run(t + 1, {p: value}), [5, 6])
        value.delete()
        with pytest.raises(graphcompat.errors.InvalidArgumentError, match="is not in the session store"):
            sess.run(t, {p: value.get_raw_handle()})
        with pytest.raises(TypeError, match="may have already been deleted"):
            value.eval()


# ------------------------------------------------------------------------------------------------
# tf.CriticalSection (MutexV2, MutexLock, ConsumeMutexLock)
# ------------------------------------------------------------------------------------------------
def _counter(tf):
    v = tf.get_variable("v", initializer=0.0, use_resource=True)

    def count():
        value = v.read_value()
        with tf.control_dependencies([value]):
            return tf.identity(value), v.assign_add(1.0, read_value=False)
    return v, count


def test_critical_section_graph_def_matches_tf():
    def nodes(tf):
        graph = tf.Graph()
        with graph.as_default():
            v, count = _counter(tf)
            cs = tf.CriticalSection(name="cs")
            cs.execute(count)
            cs.execute(lambda: tf.constant(2.0) * 3, name="plain")
            tf.CriticalSection(shared_name="shared").execute(lambda: [tf.constant([1, 2]), tf.no_op()])
        # attrs of the mutex ops (the variable's own nodes are another module's business)
        return [(n.name, n.op, list(n.input), {k: str(a) for k, a in n.attr.items()} if "Mutex" in n.op else {})
                for n in graph.as_graph_def().node]
    got, want = nodes(graphcompat), nodes(oracle.tf1())
    assert [g[:3] for g in got] == [w[:3] for w in want]
    assert got == want


def test_critical_section_serializes_runs():
    """Eight threads each run one execute of a read-then-increment: every read sees a different count."""
    def scenario(tf, dfo, graph):
        v, count = _counter(tf)
        value, _ = tf.CriticalSection().execute(count)
        with tf.Session() as sess:
            sess.run(v.initializer)
            results = []
            threads = [threading.Thread(target=lambda: results.append(float(sess.run(value)))) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return sorted(results), float(sess.run(v))
    got, want = _both(scenario)
    assert got == want == ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 8.0)


def test_critical_section_errors():
    def scenario(tf, dfo, graph):
        out = []
        v, count = _counter(tf)
        cs = tf.CriticalSection(shared_name="cs")
        for fn in (lambda: cs.execute(lambda: cs.execute(lambda: tf.constant(1.0))),
                   lambda: cs.execute(count),
                   lambda: tf.CriticalSection(shared_name="other").execute(count),
                   lambda: tf.CriticalSection(shared_name="third").execute(count, exclusive_resource_access=False),
                   lambda: tf.CriticalSection(critical_section_def=object())):
            try:
                fn()
                out.append("ok")
            except ValueError as e:
                out.append(re.sub(r"0x[0-9a-f]+|signature=\(.*?\)|resources: .*", "", str(e))[:60])
        return out
    _assert_same(scenario)


# ------------------------------------------------------------------------------------------------
# TF's GraphDefs import and run
# ------------------------------------------------------------------------------------------------
def test_tf_graph_def_imports_and_runs():
    v1, tf_dfo = oracle.tf1(), _tf_data_flow_ops()
    graph = v1.Graph()
    with graph.as_default():
        area = tf_dfo.StagingArea([v1.float32], shapes=[[2]])
        put = area.put([v1.constant([1., 2.]) * 2])
        got = area.get()[0] + 1
        m = tf_dfo.MapStagingArea([v1.int32, v1.float32], ordered=True)
        mput0 = m.put(v1.constant(3, v1.int64), [v1.constant(7)], indices=[0])
        mput1 = m.put(v1.constant(3, v1.int64), [v1.constant(0.5)], indices=[1])
        mkey, mvals = m.get()
        b = tf_dfo.Barrier([v1.int32], shapes=[[]])
        ins = b.insert_many(0, ["p", "q"], [8, 9])
        take = b.take_many(2)
        h = v1.get_session_handle(v1.constant(6.) * 2)
    graph_def = graph.as_graph_def()
    names = dict(put=put.name, got=got.name, mput0=mput0.name, mput1=mput1.name, mkey=mkey.name,
                 mv0=mvals[0].name, mv1=mvals[1].name, ins=ins.name, keys=take.keys.name, vals=take.values[0].name,
                 h=h.name)

    def run(lib):
        g = lib.Graph()
        with g.as_default():
            lib.import_graph_def(graph_def, name="")
            with lib.Session(graph=g) as sess:
                sess.run([names["put"], names["mput0"], names["mput1"], names["ins"]])
                out = sess.run([names["got"], names["mkey"], names["mv0"], names["mv1"], names["keys"],
                                names["vals"]])
                handle = sess.run(names["h"])
                return [_normalize(o) for o in out] + [handle.handle]
    assert run(graphcompat) == run(v1)


def test_training_step_reads_its_batch_from_a_staging_area():
    """The tf.contrib.staging pattern of TF's multi-GPU examples: each step gets the batch staged by the
    previous one and stages the next; the step still compiles (the get is a host input, the put a host tail)."""
    def scenario(tf, dfo, graph):
        data = np.arange(24, dtype=np.float32).reshape(6, 4)
        batches = tf.data.Dataset.from_tensor_slices(data).batch(2).repeat()
        batch = tf.data.make_one_shot_iterator(batches).get_next()
        area = dfo.StagingArea([tf.float32], shapes=[[2, 4]])
        put = area.put([batch])
        (x,) = area.get()
        w = tf.get_variable("w", [4, 1], initializer=tf.ones_initializer(), use_resource=False)
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w)))
        train = tf.train.GradientDescentOptimizer(0.001).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(put)
            losses = [sess.run([loss, train, put])[0] for _ in range(5)]
            return losses, sess.run(area.size()), sess.run(w)
    got, want = _both(scenario)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    assert got[1] == want[1] == 1
    np.testing.assert_allclose(got[2], want[2], rtol=1e-5)


def test_dropped_tensor_handles_are_deleted_in_batches():
    """TF's session deletes the tensors of garbage-collected TensorHandles ten at a time."""
    with graphcompat.Graph().as_default(), graphcompat.Session() as sess:
        h = graphcompat.get_session_handle(graphcompat.constant(1.0))
        stored = sess._state

        def count():
            return len(stored[("session_tensors",)].tensors)
        for i in range(9):
            sess.run(h)            # the TensorHandle is dropped at once
        assert count() == 9
        sess.run(h)
        assert count() == 0
