"""`tf.GradientTape` in graph mode (TF's tensorflow/python/eager/backprop.py, as TF 2's compat.v1 graphs use it).

TF's tape in a graph records the ops created while it is active whose inputs are being watched (watched
tensors, trainable resource variables read inside it, and anything computed from them by recorded ops);
`tape.gradient` differentiates through the recorded ops only. graphcompat builds on `tf.gradients`
(graphcompat/gradients.py, one `SymbolicGradient` node): a tape remembers the spans of op ids created while
it recorded (creation order is a topological order, so a span is a contiguous id range), and at `gradient`
time replays them to find the traced tensors; everything a recorded op reads that is not traced, and every
target that is not, becomes a `stop_gradients` tensor, and a variable is differentiated through the reads
the tape recorded. The gradient's nodes live under the `gradient_tape/` name scope, as TF's do.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Optional

from graphcompat import nest as _nest
from graphcompat import tf_logging as _logging
from graphcompat.framework import constant_op as _const
from graphcompat.framework import ops as _ops

# The ops through which a resource variable's value enters a recorded computation.
_VARIABLE_READS = ("ReadVariableOp", "ResourceGather")


class _Recording(threading.local):
    def __init__(self):
        self.tapes: list = []   # the tapes recording now, innermost last


_RECORDING = _Recording()


def variable_accessed(variable) -> None:
    """Called by ResourceVariable reads: every recording tape that watches accessed variables watches a
    trainable one (TF's `tape.variable_accessed`)."""
    if not getattr(variable, "trainable", False):
        return
    for tape in _RECORDING.tapes:
        if tape._watch_accessed_variables:
            tape._watch_variable(variable)


class collect_accessed_variables:  # noqa: N801 (a context manager, used as a function)
    """Collects the trainable variables read inside the block (a tf.function's trace, so that each call
    of it marks them accessed again, as TF's ConcreteFunction call does)."""

    _watch_accessed_variables = True

    def __init__(self):
        self.variables: dict = {}

    def _watch_variable(self, variable) -> None:
        self.variables.setdefault(id(variable), variable)

    def __enter__(self) -> "collect_accessed_variables":
        _RECORDING.tapes.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _RECORDING.tapes.remove(self)


def _is_variable(value) -> bool:
    from graphcompat.variables import Variable
    return isinstance(value, Variable)


def _is_resource_variable(value) -> bool:
    return getattr(value, "_is_resource_variable", False)


def _ref_variable_error() -> AttributeError:
    # What TF's tape raises for a TF1 RefVariable (it has no resource handle to watch).
    return AttributeError("'RefVariable' object has no attribute '_id'")


def _trainable_dtype(dtype) -> bool:
    base = dtype.base_dtype
    return base.is_floating or base.is_complex


class GradientTape:
    """`tf.GradientTape(persistent=False, watch_accessed_variables=True)` in graph mode."""

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = persistent
        self._watch_accessed_variables = watch_accessed_variables
        self._recording = False
        # TF's `_tape`: made on the first push, dropped by a non-persistent tape's gradient (which is
        # then refused until a new push records afresh) and by reset.
        self._has_tape = False
        self._spans: list = []        # [graph, first op id, end op id or None while recording]
        self._watched: dict = {}      # id(tensor) -> tensor
        self._variables: dict = {}    # id(variable) -> variable

    # --- recording ------------------------------------------------------------------------------
    def __enter__(self) -> "GradientTape":
        self._push_tape()
        return self

    def __exit__(self, typ, value, traceback) -> None:
        if self._recording:
            self._pop_tape()

    def _push_tape(self) -> None:
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter an already-active "
                             "tape.")
        if not self._has_tape:
            self._has_tape = True
            self._clear()
        graph = _ops.get_default_graph()
        self._spans.append([graph, len(graph._ops), None])
        _RECORDING.tapes.append(self)
        self._recording = True

    def _pop_tape(self) -> None:
        if not self._recording:
            raise ValueError("Tape is not recording.")
        span = self._spans[-1]
        span[2] = len(span[0]._ops)
        _RECORDING.tapes.remove(self)
        self._recording = False

    def _clear(self) -> None:
        self._spans = []
        self._watched = {}
        self._variables = {}

    @contextlib.contextmanager
    def _ensure_recording(self):
        """Records the block even when the tape is paused (jacobian's reshapes and gathers)."""
        if self._recording:
            yield
            return
        self._push_tape()
        try:
            yield
        finally:
            self._pop_tape()

    @contextlib.contextmanager
    def stop_recording(self):
        """`GradientTape.stop_recording`: ops created in the block are not recorded."""
        if not self._recording:
            raise RuntimeError("Trying to stop recording a tape which is not recording.")
        self._pop_tape()
        try:
            yield
        finally:
            self._push_tape()

    def reset(self) -> None:
        """`GradientTape.reset`: forgets everything recorded and watched, as a new tape would."""
        self._pop_tape()
        self._has_tape = False
        self._push_tape()

    # --- watching -------------------------------------------------------------------------------
    def watch(self, tensor) -> None:
        """`GradientTape.watch`: a tensor, a variable, or a nested structure of them."""
        for t in _nest.flatten(tensor):
            if not (isinstance(t, _ops.Tensor) or _is_variable(t)):
                raise ValueError(f"Passed in object {t} of type {type(t).__name__!r}, not tf.Tensor or "
                                 "tf.Variable or ExtensionType.")
            if not _trainable_dtype(t.dtype):
                _logging.log_first_n(_logging.WARN, "The dtype of the watched tensor must be floating (e.g. "
                                     "tf.float32), got %r", 5, t.dtype)
            if _is_variable(t):
                if not _is_resource_variable(t):
                    raise _ref_variable_error()
                self._watch_variable(t)
            else:
                self._watched.setdefault(id(t), t)

    def _watch_variable(self, variable) -> None:
        self._variables.setdefault(id(variable), variable)

    def watched_variables(self) -> tuple:
        """`GradientTape.watched_variables`: in order of construction."""
        return tuple(sorted(self._variables.values(), key=lambda v: v.handle.op._id))

    # --- replay -------------------------------------------------------------------------------
    def _recorded_ops(self) -> list:
        """The ops created while this tape recorded, in creation order."""
        ops = []
        for graph, start, end in self._spans:
            stop = len(graph._ops) if end is None else end
            ops.extend(graph._ops[start:stop])
        return ops

    def _trace(self) -> tuple:
        """(traced tensors, recorded ops): TF records an op when an input is watched or computed by a
        recorded op; a watched variable's recorded reads and the ops that take its handle (control flow
        whose bodies read it) are traced."""
        traced = set(self._watched.values())
        handles = {v.handle for v in self._variables.values()}
        recorded = set()
        for op in self._recorded_ops():
            if any(t in traced or t in handles for t in op._inputs):
                recorded.add(op)
                traced.update(op._outputs)
        return traced, recorded

    # --- gradients ------------------------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """`GradientTape.gradient(target, sources, output_gradients=None, unconnected_gradients=NONE)`:
        the gradients of the (summed) targets with respect to each source, in the structure of sources."""
        if not self._has_tape:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients "
                               "(or jacobians)")
        if self._recording:
            if not self._persistent:
                self._pop_tape()
            else:
                _logging.log_first_n(
                    _logging.WARN, "Calling GradientTape.gradient on a persistent tape inside its context is "
                    "significantly less efficient than calling it outside the context (it causes the gradient ops "
                    "to be recorded on the tape, leading to increased CPU and memory usage). Only call "
                    "GradientTape.gradient inside the context if you actually want to trace the gradient in order "
                    "to compute higher order derivatives.", 1)
        if target is None:
            raise TypeError("Argument `target` should be a list or nested structure of Tensors, Variables or "
                            "CompositeTensors to be differentiated, but received None.")
        unconnected = getattr(unconnected_gradients, "value", unconnected_gradients)
        if unconnected not in ("none", "zero"):
            raise ValueError(f"Unknown value for unconnected_gradients: {unconnected_gradients!r}")
        if not self._persistent:
            self._has_tape = False
        flat_sources = _nest.flatten(sources)
        for s in flat_sources:
            if _is_variable(s) and not _is_resource_variable(s):
                raise _ref_variable_error()
        flat_targets = [t.value() if _is_variable(t) else _const.convert_to_tensor(t)
                        for t in _nest.flatten(target)]
        flat_dys = None
        if output_gradients is not None:
            flat_dys = [None if g is None else _const.convert_to_tensor(g) for g in _nest.flatten(output_gradients)]
        flat_grads = self._gradient(flat_targets, flat_sources, flat_dys, unconnected)
        return _nest.pack_sequence_as(sources, flat_grads)

    def _gradient(self, targets: list, sources: list, dys: Optional[list], unconnected: str) -> list:
        from graphcompat.ops import array_ops
        from graphcompat.ops import resource_variable_ops as rv
        traced, recorded = self._trace()
        handles = {v.handle for v in self._variables.values()}
        # What the gradient may not flow through: what recorded ops read without tracing it, watched
        # tensors computed before the tape (their producers were not recorded), targets never traced.
        stop = set()
        for op in recorded:
            stop.update(t for t in op._inputs if t not in traced and t not in handles)
        stop.update(t for t in self._watched.values() if t.op not in recorded)
        stop.update(t for t in targets if t not in traced)
        xs, slots = [], []
        for s in sources:
            connected = (id(s) in self._variables) if _is_variable(s) else \
                (isinstance(s, _ops.Tensor) and s in traced)
            if not connected:
                slots.append(None)
                continue
            slots.append(len(xs))
            xs.append(s)
        # One `gradient_tape/` scope for all of a graph's tapes, as TF's.
        grads = rv.gradients_through_reads(
            targets, xs, dys, "gradient_tape/",
            {"stop_gradients": list(stop), "unconnected_gradients": unconnected},
            reads={op for op in recorded if op.type in _VARIABLE_READS}) if xs else []
        out = []
        for s, slot in zip(sources, slots):
            if slot is not None:
                out.append(grads[slot])
            elif unconnected == "zero":
                if _is_variable(s):
                    out.append(rv._aggregate([], s.handle, "zero"))
                else:
                    out.append(array_ops.zeros_like(_const.convert_to_tensor(s)))
            else:
                out.append(None)
        return out

    # --- jacobians ------------------------------------------------------------------------------
    def jacobian(self, target, sources, unconnected_gradients="none", parallel_iterations=None,
                 experimental_use_pfor: bool = True):
        """`GradientTape.jacobian`: d target[i...] / d source[j...] for each source, shaped
        target.shape + source.shape. One gradient per element of the target (TF's for_loop path; its
        pfor vectorization gives the same values), so the target's size must be known statically."""
        if not self._has_tape:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients "
                               "(or jacobians)")
        from graphcompat.ops import array_ops, indexing_ops
        flat_sources = _nest.flatten(sources)
        target = _const.convert_to_tensor(target)
        target_size = target.shape.num_elements()
        if target_size is None:
            raise NotImplementedError("tf.GradientTape.jacobian of a target whose size is not known when the graph "
                                      "is built")
        target_shape = array_ops.shape(target)
        with self._ensure_recording():
            flat_target = array_ops.reshape(target, [-1])
        rows = [[] for _ in flat_sources]
        persistent, self._persistent = self._persistent, True  # one gradient per row, then consumed
        try:
            for i in range(target_size):
                with self._ensure_recording():
                    y = indexing_ops.gather(flat_target, i)
                for k, g in enumerate(self.gradient(y, flat_sources, unconnected_gradients=unconnected_gradients)):
                    rows[k].append(g)
        finally:
            self._persistent = persistent
            self._has_tape = persistent
        out = []
        for source, parts in zip(flat_sources, rows):
            if any(p is None for p in parts) or not parts:
                out.append(None)
                continue
            stacked = array_ops.stack([_const.convert_to_tensor(p) for p in parts])
            new_shape = array_ops.concat([target_shape, array_ops.shape(stacked)[1:]], axis=0)
            out.append(array_ops.reshape(stacked, new_shape))
        return _nest.pack_sequence_as(sources, out)

    def batch_jacobian(self, target, source, unconnected_gradients="none", parallel_iterations=None,
                       experimental_use_pfor: bool = True):
        """`GradientTape.batch_jacobian`: d target[b, i...] / d source[b, j...], shaped
        [batch] + target.shape[1:] + source.shape[1:]; one gradient per element of a target row."""
        if not self._has_tape:
            raise RuntimeError("A non-persistent GradientTape can only be used tocompute one set of gradients "
                               "(or jacobians)")
        from graphcompat.framework import tensor_shape as _ts
        from graphcompat.ops import array_ops, indexing_ops
        target = _const.convert_to_tensor(target)
        source = _const.convert_to_tensor(source)
        target_shape = target.shape
        dim = _ts.Dimension(None) if target_shape.rank is None else target_shape.dims[0]
        if not (target_shape.with_rank_at_least(2) and source.shape.with_rank_at_least(2)
                and dim.is_compatible_with(source.shape[0])):
            raise ValueError(f"Need first dimension of target shape ({target.shape}) and source shape "
                             f"({source.shape}) to match.")
        if not target_shape.is_fully_defined():
            raise NotImplementedError("tf.GradientTape.batch_jacobian of a target whose shape is not known when "
                                      "the graph is built")
        batch_size = int(target_shape[0])
        row_size = target_shape.num_elements() // batch_size
        source_shape = array_ops.shape(source)
        with self._ensure_recording():
            flat_target = array_ops.reshape(target, [batch_size, row_size])
        parts = []
        persistent, self._persistent = self._persistent, True
        try:
            for i in range(row_size):
                with self._ensure_recording():
                    y = indexing_ops.gather(flat_target, i, axis=1)
                parts.append(self.gradient(y, source, unconnected_gradients=unconnected_gradients))
        finally:
            self._persistent = persistent
            self._has_tape = persistent
        new_shape = array_ops.concat([array_ops.shape(target), source_shape[1:]], axis=0)
        if any(p is None for p in parts):  # TF's zeros here, whatever unconnected_gradients says
            return array_ops.zeros(new_shape, target.dtype)
        stacked = array_ops.stack(parts, axis=1)  # [batch, row, source dims...]
        return array_ops.reshape(stacked, new_shape)
