"""`tf.nn.raw_rnn`: an RNN whose every step's input, state and emitted output come from the user's `loop_fn`
(decoders that feed back their own predictions), built as TF builds it: one `tf.while_loop` that writes
the emitted outputs into `dynamic_size` TensorArrays.

The loop runs until `loop_fn` says every batch entry is finished, so its length is known only at run
time: plans with a raw_rnn run op by op (as TF's executor runs them), and gradients through it raise
(XLA can only differentiate loops with a bound).
"""
from __future__ import annotations

from typing import Callable, Optional

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.ops import array_ops as _array
from graphcompat.ops import control_flow_ops as _cf
from graphcompat.ops import math_ops as _math
from graphcompat.ops.reduction_ops import reduce_all
from graphcompat.ops.tensor_array_ops import TensorArray


def _map(fn: Callable, *structures):
    flat = [_cf.flatten(s) for s in structures]
    return _cf.pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flat)])


def _assert_same_structure(a, b, what: str) -> None:
    if len(_cf.flatten(a)) != len(_cf.flatten(b)):
        raise ValueError(f"raw_rnn: {what} do not have the same nested structure: {a} vs {b}")


def _size_shape(size) -> _ts.TensorShape:
    if isinstance(size, _ts.TensorShape):
        return size
    return _ts.TensorShape(size if isinstance(size, (list, tuple)) else [size])


def raw_rnn(cell, loop_fn: Callable, parallel_iterations: Optional[int] = None, swap_memory: bool = False,
            scope=None):
    """`tf.nn.raw_rnn`: returns (emitted TensorArray(s), final state, final loop state)."""
    import sys
    import graphcompat.variable_scope  # noqa: F401
    _vs = sys.modules["graphcompat.variable_scope"]  # the module (the package exports the function)
    if not callable(cell):
        raise TypeError(f"The argument 'cell' ({cell}) is not an RNNCell: the following required attributes "
                        "are missing: __call__.")
    if not callable(loop_fn):
        raise TypeError("loop_fn must be a callable")
    parallel_iterations = parallel_iterations or 32
    with _vs.variable_scope(scope or "rnn"):
        time = constant(0, dtype=_dt.int32)
        elements_finished, next_input, initial_state, emit_structure, init_loop_state = loop_fn(
            time=time, cell_output=None, cell_state=None, loop_state=None)
        flat_input = [convert_to_tensor(x) for x in _cf.flatten(next_input)]
        loop_state = init_loop_state if init_loop_state is not None else constant(0, dtype=_dt.int32)
        static_batch = flat_input[0].shape[0] if flat_input[0].shape.ndims else _ts.Dimension(None)
        for x in flat_input:
            if x.shape.ndims:
                static_batch.assert_is_compatible_with(x.shape[0])
        const_batch = static_batch.value
        batch_size = const_batch if const_batch is not None else _array.shape(flat_input[0])[0]
        _assert_same_structure(initial_state, cell.state_size, "initial_state and cell.state_size")
        flat_state = [convert_to_tensor(s) for s in _cf.flatten(initial_state)]
        state = _cf.pack_sequence_as(initial_state, flat_state)
        if emit_structure is not None:
            flat_emit = _cf.flatten(emit_structure)
            emit_sizes = [e.shape if e.shape.is_fully_defined() else _array.shape(e) for e in flat_emit]
            emit_dtypes = [e.dtype for e in flat_emit]
        else:
            emit_structure = cell.output_size
            emit_sizes = _cf.flatten(emit_structure)
            emit_dtypes = [flat_state[0].dtype] * len(emit_sizes)
        emit_tas = [TensorArray(dtype=dt, dynamic_size=True, size=0, name=f"rnn_output_{i}",
                                element_shape=_ts.TensorShape([const_batch]).concatenate(
                                    _size_shape(size) if not hasattr(size, "op") else _ts.unknown_shape()))
                    for i, (dt, size) in enumerate(zip(emit_dtypes, emit_sizes))]
        emit_ta = _cf.pack_sequence_as(emit_structure, emit_tas)
        zero_emit = _cf.pack_sequence_as(emit_structure, [_zeros(batch_size, size, dt)
                                                          for size, dt in zip(emit_sizes, emit_dtypes)])

        def condition(unused_time, finished, *_):
            return _math.logical_not(reduce_all(finished))

        def body(time, finished, current_input, emit_ta, state, loop_state):
            next_output, cell_state = cell(current_input, state)
            _assert_same_structure(state, cell_state, "the cell's state and its new state")
            next_time = time + 1
            next_finished, next_input, next_state, emit_output, next_loop_state = loop_fn(
                next_time, next_output, cell_state, loop_state)
            _assert_same_structure(state, next_state, "state and next_state")
            _assert_same_structure(current_input, next_input, "the input and next_input")
            _assert_same_structure(emit_ta, emit_output, "the emit structure and emit_output")
            loop_state = loop_state if next_loop_state is None else next_loop_state

            def copy_some_through(current, candidate):
                def copy(cur, cand):
                    if isinstance(cur, TensorArray) or cur.shape.ndims == 0:
                        return cand
                    return _array_where(finished, cur, cand)
                return _map(copy, current, candidate)

            emit_output = copy_some_through(zero_emit, emit_output)
            next_state = copy_some_through(state, next_state)
            emit_ta = _map(lambda ta, emit: ta.write(time, emit), emit_ta, emit_output)
            finished = _math.logical_or(finished, next_finished)
            return [next_time, finished, next_input, emit_ta, next_state, loop_state]

        returned = _cf.while_loop(condition, body, [time, elements_finished, next_input, emit_ta, state, loop_state],
                                  parallel_iterations=parallel_iterations, swap_memory=swap_memory)
        emit_ta, final_state, final_loop_state = returned[-3:]
        if init_loop_state is None:
            final_loop_state = None
        return emit_ta, final_state, final_loop_state


def _zeros(batch_size, size, dtype):
    """Zeros of [batch_size] + size, either part known now or only at run time (TF's rnn._concat)."""
    if not hasattr(size, "op") and not hasattr(batch_size, "op"):
        return _array.zeros([batch_size] + _size_shape(size).as_list(), dtype)
    size = size if hasattr(size, "op") else convert_to_tensor(_size_shape(size).as_list(), _dt.int32)
    return _array.zeros(_array.concat([_array.reshape(batch_size, [1]), size], 0), dtype)


def _array_where(condition, x, y):
    from graphcompat.ops.data_dependent_ops import where
    return where(condition, x, y)
