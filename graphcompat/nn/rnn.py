"""`tf.nn.dynamic_rnn`, `bidirectional_dynamic_rnn`, `static_rnn` (TF's python/ops/rnn.py semantics).

`dynamic_rnn` records what TF's `_dynamic_rnn_loop` records: the (time-major) inputs unstacked into
TensorArrays, one `tf.while_loop` whose `maximum_iterations` is the number of time steps and whose body
reads one step's input, calls the cell and writes its output into a TensorArray, stacked after the loop.
The cell is called inside the body, so its variables get TF's names (`rnn/gru_cell/gates/kernel`) and
checkpoints interoperate. With `sequence_length`, past a row's length its outputs are zero and its state
is carried through unchanged (TF's `_rnn_step` without conditionals). The loop is an ordinary While:
lowering/reverse_loop.py differentiates it over its real steps only, and lowering/padding.py pads its
batch and its time axis (steps past the true length never run) like any loop over TensorArrays.
`bidirectional_dynamic_rnn` reverses each row within its length (`tf.reverse_sequence`), as TF does.
"""
from __future__ import annotations

import sys

import graphcompat.variable_scope  # noqa: F401
from graphcompat import nest
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, constant_value, convert_to_tensor
from graphcompat.nn import _deps
from graphcompat.nn.rnn_cell import _flatten, _pack_as
from graphcompat.ops import array_ops as _array
from graphcompat.ops import indexing_ops as _indexing
from graphcompat.ops import math_ops as _math

_vs = sys.modules["graphcompat.variable_scope"]


def _assert_like_rnncell(cell_name: str, cell) -> None:
    """TF's rnn_cell_impl.assert_like_rnncell (its text)."""
    conditions = [hasattr(cell, "output_size"), hasattr(cell, "state_size"),
                  hasattr(cell, "get_initial_state") or hasattr(cell, "zero_state"), callable(cell)]
    problems = ["'output_size' property is missing", "'state_size' property is missing",
                "either 'zero_state' or 'get_initial_state' method is required", "is not callable"]
    if not all(conditions):
        problems = [p for p, ok in zip(problems, conditions) if not ok]
        raise TypeError(f"The argument {cell_name!r} ({cell}) is not an RNNCell: {', '.join(problems)}.")


def _transpose_batch_time(x: _ops.Tensor) -> _ops.Tensor:
    """TF's rnn._transpose_batch_time: swaps the first two axes (perm computed from the rank, as TF)."""
    static = x.shape
    if static.ndims is not None and static.ndims < 2:
        return x
    from graphcompat.ops.reduction_ops import range as _range
    rank = _array.rank(x)
    x_t = _array.transpose(x, _array.concat(([1, 0], _range(2, rank)), axis=0))
    if static.ndims is not None:
        x_t.set_shape(_ts.TensorShape([static[1].value, static[0].value]).concatenate(static[2:]))
    return x_t


def _best_effort_input_batch_size(flat_input):
    for x in flat_input:
        shape = x.shape
        if shape.ndims is None:
            continue
        if shape.ndims < 2:
            raise ValueError(f"Input tensor should have rank >= 2. Received input={x} of rank {shape.ndims}")
        if shape[1].value is not None:
            return shape[1].value
    return _array.shape(flat_input[0])[1]


def _infer_state_dtype(explicit_dtype, state):
    if explicit_dtype is not None:
        return explicit_dtype
    if nest.is_nested(state):
        dtypes = [s.dtype for s in nest.flatten(state)]
        if not dtypes:
            raise ValueError(f"Unable to infer dtype from argument state={state}.")
        if not all(d == dtypes[0] for d in dtypes):
            raise ValueError(f"Argument state={state} has tensors of different inferred dtypes. Unable to infer a "
                             f"single representative dtype. Dtypes received: {dtypes}")
        return dtypes[0]
    return state.dtype


def _concat(prefix, suffix, static: bool = False):
    """TF's rnn_cell_impl._concat: a batch size (int or tensor) followed by a cell size, as a shape."""
    def part(value):
        if isinstance(value, _ops.Tensor):
            known = constant_value(value)
            if value.shape.ndims == 0:
                value = _array.expand_dims(value, 0)
            elif value.shape.ndims != 1:
                raise ValueError(f"prefix tensor must be either a scalar or vector, but saw tensor: {value}")
            static_value = _ts.TensorShape(known.reshape(-1).tolist() if known is not None else [None])
            return value, static_value
        shape = _ts.as_shape(value if isinstance(value, (list, tuple, _ts.TensorShape)) else [value])
        # TF makes the constant even when only the static shape is wanted (an unused node, kept for TF's names)
        tensor = constant(shape.as_list(), dtype=_dt.int32) if shape.is_fully_defined() else None
        return tensor, shape
    p, p_static = part(prefix)
    s, s_static = part(suffix)
    if static:
        return p_static.concatenate(s_static)
    if p is None or s is None:
        raise ValueError(f"Provided a prefix or suffix of None: {prefix} and {suffix}")
    return _array.concat((p, s), 0)


def _rnn_step(time, sequence_length, zero_output, state, call_cell):
    """One step of a dynamic RNN with sequence_length (TF's `_rnn_step`, skip_conditionals=True): rows
    whose length is reached emit zeros and keep their state."""
    flat_state, flat_zero = nest.flatten(state), nest.flatten(zero_output)
    copy_cond = time >= sequence_length
    new_output, new_state = call_cell()
    nest.assert_same_structure(zero_output, new_output)
    nest.assert_same_structure(state, new_state)
    flat_new_output, flat_new_state = nest.flatten(new_output), nest.flatten(new_state)

    def copy_one_through(output, new):
        if output.shape.ndims == 0:
            return new
        return _deps.where(copy_cond, output, new)
    final_output = [copy_one_through(z, o) for z, o in zip(flat_zero, flat_new_output)]
    final_state = [copy_one_through(s, n) for s, n in zip(flat_state, flat_new_state)]
    for out, zero in zip(final_output, flat_zero):
        out.set_shape(zero.shape)
    for sub, old in zip(final_state, flat_state):
        sub.set_shape(old.shape)
    return nest.pack_sequence_as(zero_output, final_output), nest.pack_sequence_as(state, final_state)


def _dynamic_rnn_loop(cell, inputs, initial_state, parallel_iterations, swap_memory, sequence_length=None,
                      dtype=None):
    """TF's `_dynamic_rnn_loop`: (time-major outputs, final state)."""
    from graphcompat.ops.control_flow_ops import while_loop
    from graphcompat.ops.tensor_array_ops import TensorArray
    state = initial_state
    flat_input = nest.flatten(inputs)
    flat_output_size = nest.flatten(cell.output_size)
    input_shape = _array.shape(flat_input[0])
    time_steps = input_shape[0]
    batch_size = _best_effort_input_batch_size(flat_input)
    got_shapes = [x.shape.with_rank_at_least(3) for x in flat_input]
    const_time_steps, const_batch_size = got_shapes[0].as_list()[:2]
    for x, shape in zip(flat_input, got_shapes):
        if not shape[2:].is_fully_defined():
            raise ValueError("Input size (depth of inputs) must be accessible via shape inference, but saw value "
                             f"None for input={x}.")
        if shape[0].value != const_time_steps:
            raise ValueError("Time steps is not the same for all the elements in the input in a batch. Received "
                             f"time steps={shape[0].value} for input={x}.")
        if shape[1].value != const_batch_size:
            raise ValueError("Batch_size is not the same for all the elements in the input. Received batch "
                             f"size={shape[1].value} for input={x}.")
    state_dtype = _infer_state_dtype(dtype, state)
    flat_zero_output = [_array.zeros(_array.stack(_concat(batch_size, size)), state_dtype)
                        for size in flat_output_size]
    zero_output = nest.pack_sequence_as(cell.output_size, flat_zero_output)
    if sequence_length is not None:
        from graphcompat.ops.reduction_ops import reduce_max, reduce_min  # noqa: F401 (TF records both)
        reduce_min(sequence_length)
        max_sequence_length = reduce_max(sequence_length)
    else:
        max_sequence_length = time_steps
    time = constant(0, dtype=_dt.int32, name="time")
    with _ops.name_scope("dynamic_rnn") as base_name:
        pass

    def create_ta(name, element_shape, dtype):
        return TensorArray(dtype=dtype, size=time_steps, element_shape=element_shape,
                           tensor_array_name=base_name + name)
    output_ta = tuple(create_ta(f"output_{i}", _ts.TensorShape([const_batch_size]).concatenate(
        _ts.as_shape(constant_value(size)) if isinstance(size, _ops.Tensor) else
        _ts.as_shape(size if isinstance(size, (list, tuple, _ts.TensorShape)) else [size])), state_dtype)
        for i, size in enumerate(flat_output_size))
    input_ta = tuple(create_ta(f"input_{i}", x.shape[1:], x.dtype) for i, x in enumerate(flat_input))
    input_ta = tuple(ta.unstack(x) for ta, x in zip(input_ta, flat_input))

    def time_step(time, output_ta_t, state):
        input_t = tuple(ta.read(time) for ta in input_ta)
        for x, shape in zip(input_t, got_shapes):
            x.set_shape(shape[1:])
        input_t = nest.pack_sequence_as(inputs, list(input_t))

        def call_cell():
            return cell(input_t, state)
        if sequence_length is not None:
            output, new_state = _rnn_step(time, sequence_length, zero_output, state, call_cell)
        else:
            output, new_state = call_cell()
        output = nest.flatten(output)
        output_ta_t = tuple(ta.write(time, out) for ta, out in zip(output_ta_t, output))
        return (time + 1, output_ta_t, new_state)

    # The loop stops after the longest row (at least one step); its maximum is the number of steps.
    loop_bound = _math.minimum(time_steps, _math.maximum(1, max_sequence_length))
    _, output_final_ta, final_state = while_loop(
        lambda time, *_: time < loop_bound, time_step, (time, output_ta, state),
        parallel_iterations=parallel_iterations, maximum_iterations=time_steps, swap_memory=swap_memory)
    final_outputs = tuple(ta.stack() for ta in output_final_ta)
    for output, size in zip(final_outputs, flat_output_size):
        output.set_shape(_concat([const_time_steps, const_batch_size], size, static=True))
    return nest.pack_sequence_as(cell.output_size, list(final_outputs)), final_state


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None, parallel_iterations=None,
                swap_memory: bool = False, time_major: bool = False, scope=None):
    """`tf.nn.dynamic_rnn`: (outputs [batch, time, out] (or time-major), final state)."""
    _assert_like_rnncell("cell", cell)
    with _vs.variable_scope(scope or "rnn"):
        flat_input = nest.flatten(inputs)
        if not time_major:
            flat_input = [convert_to_tensor(x) for x in flat_input]
            flat_input = tuple(_transpose_batch_time(x) for x in flat_input)
        parallel_iterations = parallel_iterations or 32
        if sequence_length is not None:
            sequence_length = _math.cast(sequence_length, _dt.int32)
            if sequence_length.shape.ndims not in (None, 1):
                raise ValueError("Argument sequence_length must be a vector of length batch_size. Received "
                                 f"sequence_length={sequence_length} of shape: {sequence_length.shape}")
            sequence_length = _array.identity(sequence_length, name="sequence_length")
        batch_size = _best_effort_input_batch_size(flat_input)
        if initial_state is not None:
            state = initial_state
        else:
            if not dtype:
                raise ValueError("If no initial_state is provided, argument `dtype` must be specified")
            if getattr(cell, "get_initial_state", None) is not None:
                state = cell.get_initial_state(inputs=None, batch_size=batch_size, dtype=dtype)
            else:
                state = cell.zero_state(batch_size, dtype)
        if sequence_length is not None:
            sequence_length = _check_sequence_length(sequence_length, batch_size)
        inputs = nest.pack_sequence_as(inputs, list(flat_input))
        outputs, final_state = _dynamic_rnn_loop(cell, inputs, state, parallel_iterations=parallel_iterations,
                                                 swap_memory=swap_memory, sequence_length=sequence_length,
                                                 dtype=dtype)
        if not time_major:
            outputs = nest.map_structure(_transpose_batch_time, outputs)
        return outputs, final_state


def _check_sequence_length(sequence_length, batch_size):
    """TF's `_assert_has_shape(sequence_length, [batch_size])` then `CheckSeqLen`."""
    from graphcompat.ops.data_dependent_ops import Assert
    from graphcompat.ops.reduction_ops import reduce_all
    x_shape = _array.shape(sequence_length)
    packed_shape = _array.stack([batch_size])
    check = Assert(reduce_all(_math.equal(x_shape, packed_shape)),
                   [f"Expected shape for Tensor {sequence_length.name} is ", packed_shape, " but saw shape: ",
                    x_shape])
    with _ops.control_dependencies([check]):
        return _array.identity(sequence_length, name="CheckSeqLen")


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None, initial_state_fw=None,
                              initial_state_bw=None, dtype=None, parallel_iterations=None,
                              swap_memory: bool = False, time_major: bool = False, scope=None):
    """`tf.nn.bidirectional_dynamic_rnn`: ((out_fw, out_bw), (state_fw, state_bw)); the backward RNN reads
    each row reversed within its length and its outputs are reversed back, as TF's."""
    _assert_like_rnncell("cell_fw", cell_fw)
    _assert_like_rnncell("cell_bw", cell_bw)
    with _vs.variable_scope(scope or "bidirectional_rnn"):
        with _vs.variable_scope("fw") as fw_scope:
            output_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length=sequence_length,
                                              initial_state=initial_state_fw, dtype=dtype,
                                              parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                                              time_major=time_major, scope=fw_scope)
        time_axis, batch_axis = (0, 1) if time_major else (1, 0)

        def reverse(x):
            if sequence_length is not None:
                from graphcompat.ops.indexing_ops import reverse_sequence
                return reverse_sequence(x, seq_lengths=sequence_length, seq_axis=time_axis, batch_axis=batch_axis)
            from graphcompat.ops.indexing_ops import reverse_v2
            return reverse_v2(x, axis=[time_axis])

        with _vs.variable_scope("bw") as bw_scope:
            inputs_reverse = nest.map_structure(reverse, inputs)
            tmp, state_bw = dynamic_rnn(cell_bw, inputs_reverse, sequence_length=sequence_length,
                                        initial_state=initial_state_bw, dtype=dtype,
                                        parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                                        time_major=time_major, scope=bw_scope)
    output_bw = reverse(tmp)
    return (output_fw, output_bw), (state_fw, state_bw)


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """`tf.nn.static_rnn`: the cell unrolled over a Python list of [batch, ...] inputs."""
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    outputs = []
    with _vs.variable_scope(scope or "rnn") as varscope:
        first = [convert_to_tensor(x) for x in _flatten(inputs[0])]
        if initial_state is not None:
            state = initial_state
        else:
            if dtype is None:
                raise ValueError("If no initial_state is provided, dtype must be specified")
            batch = first[0].shape[0].value
            state = cell.zero_state(batch if batch is not None else _array.shape(first[0])[0], dtype)
        seq = _static_sequence_length(sequence_length)
        zero_output = None
        for time, input_ in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()
            output, new_state = cell(input_, state)
            if seq is not None:
                alive = _math.less(time, seq)
                flat_out = _flatten(output)
                if zero_output is None:
                    zero_output = [_array.zeros_like(o) for o in flat_out]
                output = _pack_as(output, [_select_rows(alive, o, z) for o, z in zip(flat_out, zero_output)])
                new_state = _pack_as(new_state, [_select_rows(alive, n, s) for n, s in
                                                 zip(_flatten(new_state), _flatten(state))])
            state = new_state
            outputs.append(output)
    return outputs, state


def _static_sequence_length(sequence_length):
    if sequence_length is None:
        return None
    sequence_length = convert_to_tensor(sequence_length)
    if sequence_length.shape.ndims not in (None, 1):
        raise ValueError(f"sequence_length must be a vector of length batch_size, but saw shape: "
                         f"{sequence_length.shape}")
    return _array.identity(_math.cast(sequence_length, _dt.int32), name="sequence_length")


def _select_rows(alive, a, b):
    extra = a.shape.ndims - 1 if a.shape.ndims else 1
    mask = _array.reshape(alive, [-1] + [1] * extra)
    return _deps.where(_deps.broadcast_to(mask, _array.shape(a)), a, b)


def _reverse_seq(input_seq, lengths):
    """TF's `_reverse_seq`: the list reversed, or (with lengths) each row reversed within its length:
    the time steps stacked, ReverseSequence over time, unstacked (nested inputs leaf by leaf)."""
    if lengths is None:
        return list(reversed(input_seq))
    flat_seq = [_flatten(x) for x in input_seq]
    flat_results = [[] for _ in input_seq]
    for sequence in zip(*flat_seq):
        rank = sequence[0].shape.ndims
        like = _ts.unknown_shape(rank) if rank is not None else _ts.unknown_shape()
        for x in sequence:
            like.assert_is_compatible_with(x.shape)
        joined = _array.stack(list(sequence))
        reversed_ = _indexing.reverse_sequence(joined, lengths, 0, 1)
        for r, out in zip(_array.unstack(reversed_), flat_results):
            out.append(r)
    return [_pack_as(x, out) for x, out in zip(input_seq, flat_results)]


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None, initial_state_bw=None, dtype=None,
                             sequence_length=None, scope=None):
    """`tf.nn.static_bidirectional_rnn`: a forward static_rnn, and a backward one over the inputs reversed
    within each row's sequence_length (whole rows without it); outputs concatenated per step."""
    _assert_like_rnncell("cell_fw", cell_fw)
    _assert_like_rnncell("cell_bw", cell_bw)
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"Argument `inputs` must be a sequence. Received: {inputs}")
    if not inputs:
        raise ValueError("Argument `inputs` must not be empty.")
    with _vs.variable_scope(scope or "bidirectional_rnn"):
        with _vs.variable_scope("fw") as fw_scope:
            out_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype, sequence_length, scope=fw_scope)
        with _vs.variable_scope("bw") as bw_scope:
            reversed_inputs = _reverse_seq(inputs, sequence_length)
            tmp, state_bw = static_rnn(cell_bw, reversed_inputs, initial_state_bw, dtype, sequence_length,
                                       scope=bw_scope)
    out_bw = _reverse_seq(tmp, sequence_length)
    flat = [_array.concat([f, b], 1) for f, b in zip(_flatten(out_fw), _flatten(out_bw))]
    return _pack_as(out_fw, flat), state_fw, state_bw


