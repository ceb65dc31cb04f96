"""TF's summary_ops_v2 in graph mode: `tf.contrib.summary`, `tf.summary.initialize`, `tf.summary.all_v2_summary_ops`.

A writer is a resource (graphcompat/ops/summary_writer_ops.py): `create_file_writer` records its handle
(`SummaryWriter`, shared name `logdir:<logdir>`) and the `CreateSummaryFileWriter` op that opens its event
file, which `summary_writer_initializer_op()` (the `_SUMMARY_WRITER_V2` collection) runs. Inside
`writer.as_default()`, `scalar`/`histogram`/`image`/`audio`/`generic` record their Write* op behind TF's
recording condition: `record_if(...)` (always / never / every n global steps) and'ed with the distribution
flag, decided at build time when it folds to a constant (no cond at all), else a `tf.cond` whose true branch
writes; the result (True when written) goes to the `_SUMMARY_V2` collection (`all_summary_ops()`). Names, tags
(`summary_scope` with families), devices (`cpu:0`) and the order ops are made in are TF's, so GraphDefs equal
TF's node for node.
"""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Callable, Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import constant, constant_value, convert_to_tensor
from graphcompat.ops import summary_writer_ops as _gen
from graphcompat.ops.summary_ops import summary_scope as _summary_scope

_SUMMARY_WRITER_INIT_COLLECTION_NAME = "_SUMMARY_WRITER_V2"


class _SummaryState(threading.local):
    """Per thread, as TF's: the default writer, the recording condition and the default step."""

    def __init__(self):
        super().__init__()
        self.is_recording = None
        self.is_recording_distribution_strategy = True
        self.writer = None
        self.step = None


_summary_state = _SummaryState()


# --- recording conditions --------------------------------------------------------------------------------
def _should_record_summaries_internal(default_state: bool) -> _ops.Tensor:
    """`writer set and distribution flag and (the record_if condition, else default_state)` as a bool tensor."""
    if _summary_state.writer is None:
        return constant(False)
    if not callable(_summary_state.is_recording):
        static_cond = constant_value(_summary_state.is_recording) \
            if isinstance(_summary_state.is_recording, _ops.Tensor) else _summary_state.is_recording
        if static_cond is not None and not static_cond:
            return constant(False)

    def resolve(x):
        return x() if callable(x) else x
    cond_distributed = resolve(_summary_state.is_recording_distribution_strategy)
    cond = resolve(_summary_state.is_recording)
    if cond is None:
        cond = default_state
    from graphcompat.ops.math_ops import logical_and
    return logical_and(cond_distributed, cond)


def should_record_summaries() -> _ops.Tensor:
    """`tf.contrib.summary.should_record_summaries`: False unless a record_if condition says otherwise."""
    return _should_record_summaries_internal(default_state=False)


@contextlib.contextmanager
def record_if(condition):
    """Sets the recording condition (a Python bool, a bool tensor or a callable making one) in the block."""
    old = _summary_state.is_recording
    try:
        _summary_state.is_recording = condition
        yield
    finally:
        _summary_state.is_recording = old


def record_summaries_every_n_global_steps(n: int, global_step=None):
    """Records when `global_step % n == 0` (the global step is created if needed)."""
    from graphcompat.ops.math_ops import equal
    if global_step is None:
        from graphcompat.train.training_util import get_or_create_global_step
        global_step = get_or_create_global_step()
    with _ops.device("cpu:0"):
        should = equal(global_step % n, 0)
    return record_if(should)


def always_record_summaries():
    return record_if(True)


def never_record_summaries():
    return record_if(False)


def _static_bool(pred: _ops.Tensor) -> Optional[bool]:
    """TF's smart_constant_value: the predicate's value when the graph folds it at build time."""
    value = constant_value(pred)
    return None if value is None else bool(value)


def _smart_cond(pred: _ops.Tensor, true_fn: Callable, false_fn: Callable):
    """TF's smart_cond: a constant predicate picks its branch while building; otherwise one `If` (cond_v2's,
    named `cond` in the current scope)."""
    value = _static_bool(pred)
    if value is not None:
        return true_fn() if value else false_fn()
    from graphcompat.ops.control_flow_ops import cond
    return cond(pred, true_fn, false_fn)


# --- writers -------------------------------------------------------------------------------------------
class SummaryWriter:
    """`tf.contrib.summary.SummaryWriter`: a stateful summary writer."""

    def set_as_default(self, step=None) -> None:
        self.as_default(step).__enter__()

    def as_default(self, step=None):
        """Makes this the writer summaries go to in the block (on exit a flush op is recorded, as TF's)."""
        return _SummaryContextManager(self, step)

    def init(self):
        raise NotImplementedError()

    def flush(self):
        raise NotImplementedError()

    def close(self):
        raise NotImplementedError()


class _SummaryContextManager:
    def __init__(self, writer: SummaryWriter, step=None):
        self._writer = writer
        self._step = step
        self._old_writer = None
        self._old_step = None

    def __enter__(self) -> SummaryWriter:
        self._old_writer = _summary_state.writer
        _summary_state.writer = self._writer
        if self._step is not None:
            self._old_step = _summary_state.step
            _summary_state.step = self._step
        return self._writer

    def __exit__(self, *exc) -> bool:
        # TF's exit calls flush(), which in graph mode only records a FlushSummaryWriter op nobody runs
        _summary_state.writer.flush()
        _summary_state.writer = self._old_writer
        if self._step is not None:
            _summary_state.step = self._old_step
        return False


class _LegacyResourceSummaryWriter(SummaryWriter):
    """tf.contrib.summary's writer over a `SummaryWriter` resource handle."""

    def __init__(self, resource: _ops.Tensor, init_op_fn: Callable):
        self._resource = resource
        self._init_op_fn = init_op_fn
        _ops.add_to_collection(_SUMMARY_WRITER_INIT_COLLECTION_NAME, self.init())

    def init(self) -> _ops.Operation:
        """A new `CreateSummaryFileWriter` op (TF's legacy writer records one per call)."""
        return self._init_op_fn(self._resource)

    def flush(self) -> _ops.Operation:
        with _ops.device("cpu:0"):
            return _gen.flush_summary_writer(self._resource)

    def close(self) -> _ops.Operation:
        with _ops.control_dependencies([self.flush()]):
            with _ops.device("cpu:0"):
                return _gen.close_summary_writer(self._resource)


class _NoopSummaryWriter(SummaryWriter):
    """What `create_file_writer(None)` returns: a writer context that records nothing."""

    def set_as_default(self, step=None) -> None:
        pass

    @contextlib.contextmanager
    def as_default(self, step=None):
        yield

    def init(self):
        pass

    def flush(self):
        pass

    def close(self):
        pass


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None,
                       name: Optional[str] = None) -> SummaryWriter:
    """`tf.contrib.summary.create_file_writer`: a writer of `logdir`'s new event file (shared by name: a
    second writer of the same name wraps the same resource and its other arguments have no effect)."""
    if logdir is None:
        return _NoopSummaryWriter()
    logdir = str(logdir)
    with _ops.device("cpu:0"):
        if max_queue is None:
            max_queue = constant(10)
        if flush_millis is None:
            flush_millis = constant(2 * 60 * 1000)
        if filename_suffix is None:
            filename_suffix = constant(".v2")
        if name is None:
            name = "logdir:" + logdir
        resource = _gen.summary_writer(shared_name=name)

        def init_op_fn(handle):
            return _gen.create_summary_file_writer(handle, logdir=logdir, max_queue=max_queue,
                                                   flush_millis=flush_millis, filename_suffix=filename_suffix)
        return _LegacyResourceSummaryWriter(resource, init_op_fn)


def create_summary_file_writer(*args, **kwargs) -> SummaryWriter:
    """Deprecated name of `create_file_writer`."""
    from graphcompat import tf_logging
    tf_logging.warning("Deprecation Warning: create_summary_file_writer was renamed to create_file_writer")
    return create_file_writer(*args, **kwargs)


def create_db_writer(db_uri, experiment_name=None, run_name=None, user_name=None, name=None):
    """`tf.contrib.summary.create_db_writer` (TensorBoard's SQLite database, CreateSummaryDbWriter)."""
    raise NotImplementedError("tf.contrib.summary.create_db_writer (CreateSummaryDbWriter: TensorBoard's SQLite "
                              "summary database) is not implemented by graphcompat; use "
                              "tf.contrib.summary.create_file_writer")


def initialize(graph=None, session=None) -> None:
    """`tf.summary.initialize` / `tf.contrib.summary.initialize`: runs every writer's initializer and, given a
    graph, writes it (step 0)."""
    if _summary_state.writer is None:
        raise RuntimeError("No default tf.contrib.summary.SummaryWriter found")
    if session is None:
        from graphcompat.client.session import get_default_session
        session = get_default_session()
        if session is None:
            raise ValueError("Argument `session must be passed if no default session exists")
    session.run(summary_writer_initializer_op())
    if graph is not None:
        from graphcompat.ops.array_ops import placeholder
        data = _serialize_graph(graph)
        x = placeholder(_dt.string)
        session.run(graph_v1(x, 0), feed_dict={x: data})


def all_v2_summary_ops() -> list:
    """`tf.summary.all_v2_summary_ops` / `tf.contrib.summary.all_summary_ops`: the recorded summaries'
    results (graph() and import_event() are not among them, as in TF)."""
    return _ops.get_collection(_ops.GraphKeys._SUMMARY_COLLECTION)


def summary_writer_initializer_op() -> list:
    """The `CreateSummaryFileWriter` ops of every writer made in this graph."""
    return _ops.get_collection(_SUMMARY_WRITER_INIT_COLLECTION_NAME)


# --- summaries ----------------------------------------------------------------------------------------
def _nothing() -> _ops.Tensor:
    return constant(False)


def _choose_step(step) -> _ops.Tensor:
    """The step tensor: the global step (created if needed) by default, else an int64 scalar."""
    if step is None:
        from graphcompat.train.training_util import get_or_create_global_step
        return get_or_create_global_step()
    step = convert_to_tensor(step, _dt.int64)
    if step.shape.num_elements() != 1:
        raise ValueError(f"Argument `step` must be a scalar. Received step with shape {step.shape}.")
    return step


def summary_writer_function(name, tensor, function: Callable, family=None):
    """Records `function(tag, scope)` (a Write* op) behind the recording condition; a no_op without a writer."""
    from graphcompat.ops.control_ops import no_op
    name_scope = _ops.get_name_scope()
    if name_scope:
        name_scope += "/"  # re-entered as is inside the cond's branch

    def record():
        with _ops.name_scope(name_scope), _summary_scope(name, family, values=[tensor]) as (tag, scope):
            with _ops.control_dependencies([function(tag, scope)]):
                return constant(True)

    if _summary_state.writer is None:
        return no_op()
    with _ops.device("cpu:0"):
        op = _smart_cond(should_record_summaries(), record, _nothing)
        _ops.add_to_collection(_ops.GraphKeys._SUMMARY_COLLECTION, op)
    return op


def _identity(tensor) -> _ops.Tensor:
    from graphcompat.ops.array_ops import identity
    return identity(tensor)


def generic(name, tensor, metadata=None, family=None, step=None):
    """A tensor summary (`WriteSummary`), with optional SummaryMetadata (a proto, bytes or string tensor)."""
    if step is not None:
        _choose_step(step)

    def function(tag, scope):
        if metadata is None:
            serialized_metadata = constant("")
        elif hasattr(metadata, "SerializeToString"):
            serialized_metadata = constant(metadata.SerializeToString())
        else:
            serialized_metadata = metadata
        return _gen.write_summary(_summary_state.writer._resource, _choose_step(step), _identity(tensor), tag,
                                  serialized_metadata, name=scope)
    return summary_writer_function(name, tensor, function, family=family)


def scalar(name, tensor, family=None, step=None):
    """A scalar summary (`WriteScalarSummary`: a v1-style simple_value of the first element)."""
    if step is not None:
        _choose_step(step)

    def function(tag, scope):
        return _gen.write_scalar_summary(_summary_state.writer._resource, _choose_step(step), tag,
                                         _identity(tensor), name=scope)
    return summary_writer_function(name, tensor, function, family=family)


def histogram(name, tensor, family=None, step=None):
    """A histogram summary (`WriteHistogramSummary`: TF's buckets; NaN or Inf values fail the run)."""
    if step is not None:
        _choose_step(step)

    def function(tag, scope):
        return _gen.write_histogram_summary(_summary_state.writer._resource, _choose_step(step), tag,
                                            _identity(tensor), name=scope)
    return summary_writer_function(name, tensor, function, family=family)


def image(name, tensor, bad_color=None, max_images: int = 3, family=None, step=None):
    """An image summary (`WriteImageSummary`: PNGs `tag/image[/i]`, non-finite pixels in `bad_color`)."""
    if step is not None:
        _choose_step(step)

    def function(tag, scope):
        bad_color_ = constant([255, 0, 0, 255], dtype=_dt.uint8) if bad_color is None else bad_color
        return _gen.write_image_summary(_summary_state.writer._resource, _choose_step(step), tag,
                                        _identity(tensor), bad_color_, max_images, name=scope)
    return summary_writer_function(name, tensor, function, family=family)


def audio(name, tensor, sample_rate, max_outputs: int, family=None, step=None):
    """An audio summary (`WriteAudioSummary`: 16-bit WAV clips `tag/audio[/i]`)."""
    if step is not None:
        _choose_step(step)

    def function(tag, scope):
        return _gen.write_audio_summary(_summary_state.writer._resource, _choose_step(step), tag,
                                        _identity(tensor), sample_rate=sample_rate, max_outputs=max_outputs,
                                        name=scope)
    return summary_writer_function(name, tensor, function, family=family)


def graph_v1(param, step=None, name: Optional[str] = None):
    """`tf.contrib.summary.graph`: writes a serialized GraphDef tensor (no recording condition applies)."""
    from graphcompat.ops.control_ops import no_op
    if step is not None:
        _choose_step(step)
    if not isinstance(param, _ops.Tensor):
        raise TypeError("graph() needs a argument `param` to be tf.Tensor (e.g. tf.placeholder) in graph mode, "
                        f"but received param={param} of type {type(param).__name__}.")
    writer = _summary_state.writer
    if writer is None:
        return no_op()
    with _ops.device("cpu:0"):
        tensor = _identity(param)
        return _gen.write_graph_summary(writer._resource, _choose_step(step), tensor, name=name)


def import_event(tensor, name: Optional[str] = None) -> _ops.Operation:
    """Writes a serialized `Event` as is (no recording condition applies)."""
    return _gen.import_event(_summary_state.writer._resource, tensor, name=name)


def flush(writer=None, name: Optional[str] = None):
    """A flush of `writer` (the default writer when None; a no_op without one); a raw handle is accepted."""
    from graphcompat.ops.control_ops import no_op
    if writer is None:
        writer = _summary_state.writer
        if writer is None:
            return no_op()
    if isinstance(writer, SummaryWriter):
        return writer.flush()
    if isinstance(writer, _ops.Tensor):
        with _ops.device("cpu:0"):
            return _gen.flush_summary_writer(writer, name=name)
    raise ValueError("Invalid argument to flush(): %r" % (writer,))


def eval_dir(model_dir: str, name: Optional[str] = None) -> str:
    """The logdir of an eval summary writer."""
    return os.path.join(model_dir, "eval" if not name else "eval_" + name)


def _serialize_graph(arbitrary_graph) -> bytes:
    if isinstance(arbitrary_graph, _ops.Graph):
        return arbitrary_graph.as_graph_def(add_shapes=True).SerializeToString()
    return arbitrary_graph.SerializeToString()
