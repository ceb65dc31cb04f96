"""`tf.train.get_global_step`, `create_global_step`, `get_or_create_global_step`, `global_step`."""
from __future__ import annotations

from graphcompat import init_ops
import graphcompat.variable_scope  # noqa: F401  (the module; `graphcompat.variable_scope` is the class)
import sys as _sys
_vs = _sys.modules["graphcompat.variable_scope"]
from graphcompat import variables as _variables
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops


def assert_global_step(global_step_tensor) -> None:
    if not isinstance(global_step_tensor, (_variables.Variable, _ops.Tensor)):
        raise TypeError(f'Existing "global_step" must be a Variable or a Tensor: {global_step_tensor}.')
    if not global_step_tensor.dtype.base_dtype.is_integer:
        raise TypeError(f'Existing "global_step" does not have integer type: {global_step_tensor.dtype}')
    shape = global_step_tensor.get_shape()
    if shape.ndims != 0 and shape.is_fully_defined():
        raise TypeError(f'Existing "global_step" is not scalar: {shape}')


def get_global_step(graph=None):
    """The global step variable (GLOBAL_STEP collection, else the tensor `global_step:0`), or None."""
    graph = graph or _ops.get_default_graph()
    tensors = graph.get_collection(_ops.GraphKeys.GLOBAL_STEP)
    if len(tensors) == 1:
        step = tensors[0]
    elif not tensors:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except KeyError:
            return None
    else:
        return None  # TF logs "Multiple tensors in global_step collection." and returns None
    assert_global_step(step)
    return step


def create_global_step(graph=None):
    """An int64 scalar `global_step` variable in GLOBAL_VARIABLES and GLOBAL_STEP, starting at 0."""
    graph = graph or _ops.get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default(), _ops.name_scope(None):
        return _vs.get_variable(_ops.GraphKeys.GLOBAL_STEP, shape=[], dtype=_dt.int64,
                                initializer=init_ops.zeros_initializer(), trainable=False,
                                collections=[_ops.GraphKeys.GLOBAL_VARIABLES, _ops.GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    graph = graph or _ops.get_default_graph()
    step = get_global_step(graph)
    return create_global_step(graph) if step is None else step


def global_step(sess, global_step_tensor) -> int:
    """The global step's value in `sess`, as a Python int."""
    return int(sess.run(global_step_tensor))


# --- the global-step snapshot hooks read (helper 'training') ---------------------------------------
GLOBAL_STEP_READ_KEY = "global_step_read_op_cache"


def _get_global_step_read(graph=None):
    """The cached global-step snapshot tensor, or None."""
    graph = graph or _ops.get_default_graph()
    cache = graph.get_collection(GLOBAL_STEP_READ_KEY)
    if len(cache) == 1:
        return cache[0]
    if len(cache) > 1:
        raise RuntimeError("There are multiple items in collection {}. There should be only one.".format(
            GLOBAL_STEP_READ_KEY))
    return None


def _get_or_create_global_step_read(graph=None):
    """TF's `global_step + 0` snapshot hooks fetch (the initial value while the step is uninitialized)."""
    from graphcompat.ops.control_flow_ops import cond
    graph = graph or _ops.get_default_graph()
    read = _get_global_step_read(graph)
    if read is not None:
        return read
    step = get_global_step(graph)
    if step is None:
        return None
    with graph.as_default(), graph.name_scope(None):
        with graph.name_scope(step.op.name + "/"):
            if isinstance(step, _variables.Variable):
                value = cond(_variables.is_variable_initialized(step), step.read_value, lambda: step.initial_value)
            else:
                value = step
            read = value + 0
            _ops.add_to_collection(GLOBAL_STEP_READ_KEY, read)
    return _get_global_step_read(graph)


def _increment_global_step(increment, graph=None):
    from graphcompat.ops.state_ops import assign_add
    graph = graph or _ops.get_default_graph()
    step = get_global_step(graph)
    if step is None:
        raise ValueError("Global step tensor should be created by tf.train.get_or_create_global_step before "
                         "calling increment.")
    read = _get_or_create_global_step_read(graph)
    with graph.as_default(), graph.name_scope(None):
        with graph.name_scope(step.op.name + "/"):
            with _ops.control_dependencies([read]):
                return assign_add(step, increment)
