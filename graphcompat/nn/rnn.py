"""`tf.nn.dynamic_rnn`, `bidirectional_dynamic_rnn`, `static_rnn` (TF's python/ops/rnn.py semantics).

`dynamic_rnn` calls the cell ONCE while building, on stand-in tensors for one time step's input and
state, which creates the cell's variables under `rnn/` exactly as TF names them. The ops that step
depends on become a function of the graph's library (framework/function_library.py), the body of one
`RnnScan` op (lowered to `lax.scan`) that names it with its `f` attr; every tensor the body reads from
outside (variable reads, constants, other inputs) is an input of that op, so pruning, feeding and
`tf.gradients` see the dependencies. (RnnScan is graphcompat's op type: TF records a While loop over
TensorArrays.) `sequence_length` is honoured as TF does: past a row's length
its outputs are zero and its state is carried through unchanged.
"""
from __future__ import annotations

import itertools
import sys

from tensorboard.compat.proto import attr_value_pb2

import graphcompat.variable_scope  # noqa: F401
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.function_library import GraphFunction
from graphcompat.framework.registry import OP_DEFS, apply_op
from graphcompat.nn import _deps
from graphcompat.nn.rnn_cell import _flatten, _pack_as
from graphcompat.ops import array_ops as _array
from graphcompat.ops import math_ops as _math

_vs = sys.modules["graphcompat.variable_scope"]


def _slot(t_shape, dtype, name):
    """A stand-in for one step's value: a placeholder the plan never reaches (the body feeds it)."""
    return _array.placeholder(dtype, t_shape, name=name)


def _step_subgraph(slots: list, first_id: int, outs: list) -> list:
    """Ops created since `first_id` that depend on a slot and that `outs` need, in creation order."""
    slot_ops = {s.op for s in slots}
    graph = slots[0].graph
    created = graph._ops[first_id:]
    dependent = set(slot_ops)
    for op in created:
        if any(t.op in dependent for t in op._inputs):
            dependent.add(op)
    needed, stack = set(), [t.op for t in outs if t.op in dependent]
    while stack:
        op = stack.pop()
        if op in needed or op in slot_ops:
            continue
        needed.add(op)
        stack.extend(t.op for t in op._inputs if t.op in dependent)
    ops = sorted(needed, key=lambda op: op._id)
    for op in ops:
        op_def = OP_DEFS.get(op.type)
        if op_def is not None and op_def.stateful and "seed" not in op.attrs:
            raise NotImplementedError(f"graphcompat: the stateful op '{op.name}' ({op.type}) inside an RNN cell "
                                      "is not supported by dynamic_rnn")
    return ops


def _scan(cell, flat_inputs, state, sequence_length, reverse: bool, name: str):
    """Builds the step subgraph and the RnnScan op. `flat_inputs` are time-major [T, B, ...]."""
    flat_state = [convert_to_tensor(s) for s in _flatten(state)]
    holder = {}

    def step(input_slots, state_slots):
        step_inputs = _pack_as(flat_inputs_structure(flat_inputs), input_slots)
        with _ops.name_scope("while"):
            output, new_state = cell(step_inputs, _pack_as(state, state_slots))
        holder["output"] = output
        return [convert_to_tensor(o) for o in _flatten(output)], [convert_to_tensor(s) for s in _flatten(new_state)]
    outs, finals = record_scan(step, flat_inputs, flat_state, sequence_length, reverse, name)
    return holder["output"], None, outs, finals


def record_scan(step, flat_inputs, flat_state, sequence_length, reverse: bool, name: str):
    """Calls `step(input_slots, state_slots) -> (flat outputs, flat new states)` once on stand-ins,
    registers the ops it records as a library function and creates the RnnScan op naming it.
    Returns (stacked outputs, final states). The importer rebuilds an RnnScan with it too."""
    graph = flat_inputs[0].graph
    input_slots = [_slot(x.shape[1:], x.dtype.base_dtype, "input_slot") for x in flat_inputs]
    state_slots = [_slot(s.shape, s.dtype.base_dtype, "state_slot") for s in flat_state]
    first_id = len(graph._ops)
    flat_out, flat_new = step(input_slots, state_slots)
    if len(flat_new) != len(flat_state):
        raise ValueError("The cell returned a state with a different structure than its input state")
    for s, n in zip(flat_state, flat_new):
        if n.dtype.base_dtype != s.dtype.base_dtype:
            raise TypeError(f"The cell's state dtype changed from {s.dtype.name} to {n.dtype.name}")
    ops = _step_subgraph(input_slots + state_slots, first_id, flat_out + flat_new)
    produced = {t for op in ops for t in op._outputs}
    slots = set(input_slots + state_slots)
    captured, seen = [], set()
    for op in ops:
        for t in op._inputs:
            if t not in produced and t not in slots and t not in seen:
                seen.add(t)
                captured.append(t)
    # Outputs that are stand-ins themselves (an identity cell) or outside values still work: the body
    # looks every output up in its environment, which holds slots and captured values too.
    for t in flat_out + flat_new:
        if t not in produced and t not in slots and t not in seen:
            seen.add(t)
            captured.append(t)
    steps = int(flat_inputs[0].shape[0]) if flat_inputs[0].shape[0].value is not None else None
    batch = None
    for x in flat_inputs:
        if x.shape.ndims and x.shape[1].value is not None:
            batch = x.shape[1].value
    out_shapes = []
    for o in flat_out:
        dims = o.shape.as_list() if o.shape.ndims is not None else None
        if dims is not None and dims and dims[0] is None:
            dims[0] = batch
        out_shapes.append(_ts.TensorShape([steps] + dims) if dims is not None else _ts.unknown_shape())
    state_shapes = [s.shape for s in flat_state]
    fn = GraphFunction("", "scan_fn", ops, input_slots + state_slots, captured, flat_out + flat_new, [])
    fn.name = _function_name(graph)
    graph._add_function(fn)
    inputs = list(flat_inputs) + flat_state + ([sequence_length] if sequence_length is not None else []) + captured
    tout = [o.dtype.base_dtype for o in flat_out] + [s.dtype.base_dtype for s in flat_state]
    attrs = {"Tout": tout, "f": attr_value_pb2.NameAttrList(name=fn.name), "num_inputs": len(input_slots),
             "num_outputs": len(flat_out), "reverse": bool(reverse),
             "has_sequence_length": sequence_length is not None, "output_shapes": out_shapes + state_shapes}
    results = apply_op("RnnScan", [inputs], attrs, name=name)
    return results[:len(flat_out)], results[len(flat_out):]


_function_ids = itertools.count()


def _function_name(graph) -> str:
    while True:
        name = f"rnn_step_{next(_function_ids)}"
        if not graph._is_function(name):
            return name


def flat_inputs_structure(flat_inputs):
    return flat_inputs[0] if len(flat_inputs) == 1 else list(flat_inputs)


def _transpose_batch_time(x: _ops.Tensor) -> _ops.Tensor:
    rank = x.shape.ndims
    if rank is None:
        raise NotImplementedError("dynamic_rnn inputs of unknown rank")
    if rank < 2:
        raise ValueError(f"Expected input tensor {x} to have rank at least 2")
    return _array.transpose(x, [1, 0] + list(range(2, rank)))


def _check_sequence_length(sequence_length):
    if sequence_length is None:
        return None
    sequence_length = convert_to_tensor(sequence_length)
    if sequence_length.shape.ndims not in (None, 1):
        raise ValueError(f"sequence_length must be a vector of length batch_size, but saw shape: "
                         f"{sequence_length.shape}")
    return _array.identity(_math.cast(sequence_length, _dt.int32), name="sequence_length")


def _initial_state(cell, flat_inputs, initial_state, dtype):
    if initial_state is not None:
        return initial_state
    if dtype is None:
        raise ValueError("If there is no initial_state, you must give a dtype.")
    batch = None
    for x in flat_inputs:
        if x.shape.ndims and x.shape[1].value is not None:
            batch = x.shape[1].value
    if batch is None:
        batch = _array.shape(flat_inputs[0])[1]
    return cell.zero_state(batch, dtype)


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None, parallel_iterations=None,
                swap_memory: bool = False, time_major: bool = False, scope=None):
    """`tf.nn.dynamic_rnn`: (outputs [batch, time, out] (or time-major), final state)."""
    if not callable(cell):
        raise TypeError("cell must be an instance of RNNCell")
    with _vs.variable_scope(scope or "rnn"):
        flat_inputs = [convert_to_tensor(x) for x in _flatten(inputs)]
        if not time_major:
            flat_inputs = [_transpose_batch_time(x) for x in flat_inputs]
        sequence_length = _check_sequence_length(sequence_length)
        state = _initial_state(cell, flat_inputs, initial_state, dtype)
        output, _, outs, finals = _scan(cell, flat_inputs, state, sequence_length, False, "rnn_scan")
        outs = [o if time_major else _transpose_batch_time(o) for o in outs]
        return _pack_as(output, outs), _pack_as(state, finals)


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None, initial_state_fw=None,
                              initial_state_bw=None, dtype=None, parallel_iterations=None,
                              swap_memory: bool = False, time_major: bool = False, scope=None):
    """`tf.nn.bidirectional_dynamic_rnn`: ((out_fw, out_bw), (state_fw, state_bw)); the backward pass reads
    each row reversed within its length (as reverse_sequence) and its outputs are returned in input order."""
    with _vs.variable_scope(scope or "bidirectional_rnn"):
        with _vs.variable_scope("fw") as fw_scope:
            out_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length=sequence_length,
                                           initial_state=initial_state_fw, dtype=dtype, time_major=time_major,
                                           scope=fw_scope)
        with _vs.variable_scope("bw") as bw_scope:
            flat_inputs = [convert_to_tensor(x) for x in _flatten(inputs)]
            if not time_major:
                flat_inputs = [_transpose_batch_time(x) for x in flat_inputs]
            seq = _check_sequence_length(sequence_length)
            with _vs.variable_scope(bw_scope):
                state = _initial_state(cell_bw, flat_inputs, initial_state_bw, dtype)
                output, _, outs, finals = _scan(cell_bw, flat_inputs, state, seq, True, "rnn_scan")
            outs = [o if time_major else _transpose_batch_time(o) for o in outs]
            out_bw, state_bw = _pack_as(output, outs), _pack_as(state, finals)
    return (out_fw, out_bw), (state_fw, state_bw)


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
        seq = _check_sequence_length(sequence_length)
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


def _select_rows(alive, a, b):
    extra = a.shape.ndims - 1 if a.shape.ndims else 1
    mask = _array.reshape(alive, [-1] + [1] * extra)
    return _deps.where(_deps.broadcast_to(mask, _array.shape(a)), a, b)


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None, initial_state_bw=None, dtype=None,
                             sequence_length=None, scope=None):
    """`tf.nn.static_bidirectional_rnn` (without sequence_length: rows are reversed whole)."""
    if sequence_length is not None:
        raise NotImplementedError("tf.nn.static_bidirectional_rnn with sequence_length")
    with _vs.variable_scope(scope or "bidirectional_rnn"):
        with _vs.variable_scope("fw") as fw_scope:
            out_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype, scope=fw_scope)
        with _vs.variable_scope("bw") as bw_scope:
            out_bw, state_bw = static_rnn(cell_bw, list(reversed(inputs)), initial_state_bw, dtype, scope=bw_scope)
    outputs = [_array.concat([f, b], 1) for f, b in zip(out_fw, reversed(out_bw))]
    return outputs, state_fw, state_bw


