"""`tf.Session`: TF1's fetch/feed rules in front of cached, compiled plans.

`run()` normalises fetches (any nesting) and feeds (TF's checks and error texts), looks up the Plan for
that signature, runs it against this session's state (variables live here as device arrays), and
rebuilds the fetch structure with numpy values.
"""
from __future__ import annotations

import collections.abc
import itertools
import weakref
import threading
from typing import Any, Callable, Optional

import numpy as np

from graphcompat.framework import dtypes as _dtypes
from graphcompat.framework import ops as _ops
from lowering import stats as _stats


# ------------------------------------------------------------------------------------------------
# Fetch structures
# ------------------------------------------------------------------------------------------------
def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


class _FetchMapper:
    """Flattens a nested fetch structure into unique graph elements and rebuilds it from values."""

    def __init__(self, graph: _ops.Graph, fetches):
        self.elements: list = []          # unique Tensors / Operations, in first-seen order
        self._index: dict = {}
        self._build = self._map(graph, fetches)
        # a plain list of distinct tensors/ops: its values, in order, are the fetch result itself
        self.is_flat_list = type(fetches) is list and _all_leaves(fetches) and len(fetches) == len(self.elements) \
            and all(f is e for f, e in zip(fetches, self.elements))

    def _add(self, element) -> int:
        i = self._index.get(element)
        if i is None:
            i = self._index[element] = len(self.elements)
            self.elements.append(element)
        return i

    def _map(self, graph, fetch) -> Callable[[list], Any]:
        if fetch is None:
            raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)!r}")
        if isinstance(fetch, (list, tuple)) and not hasattr(fetch, "_as_graph_element"):
            builders = [self._map(graph, f) for f in fetch]
            if type(fetch) in (list, tuple) and _all_leaves(fetch):
                # a flat list of tensors and ops (a training loop's [train_op, loss]): one comprehension
                # (an Operation's value is already None)
                positions, cls = [self._index[f] for f in fetch], type(fetch)
                if cls is list:
                    return lambda vals: [vals[i] for i in positions]
                return lambda vals: tuple([vals[i] for i in positions])
            if _is_namedtuple(fetch):
                cls = type(fetch)
                return lambda vals: cls(*(b(vals) for b in builders))
            cls = type(fetch)
            if cls is list:
                return lambda vals: [b(vals) for b in builders]
            if cls is tuple:
                return lambda vals: tuple(b(vals) for b in builders)
            return lambda vals: cls(b(vals) for b in builders)
        if isinstance(fetch, collections.abc.Mapping):
            keys = list(fetch.keys())
            builders = [self._map(graph, fetch[k]) for k in keys]
            cls = type(fetch)

            def build(vals):
                items = [(k, b(vals)) for k, b in zip(keys, builders)]
                if cls is dict:
                    return dict(items)
                if isinstance(fetch, collections.defaultdict):
                    out = cls(fetch.default_factory)
                    out.update(items)
                    return out
                return cls(items)
            return build
        composite = getattr(fetch, "_fetch_components", None)
        if composite is not None:  # IndexedSlices, SparseTensor: fetch parts, rebuild a *Value
            parts, rebuild = composite()
            builders = [self._map(graph, p) for p in parts]
            return lambda vals: rebuild(*(b(vals) for b in builders))
        try:
            element = graph.as_graph_element(fetch, allow_tensor=True, allow_operation=True)
        except TypeError as e:
            raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)!r}, must be a string "
                            f"or Tensor. ({e})") from None
        except (ValueError, KeyError) as e:
            msg = e.args[0] if e.args else str(e)
            raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. ({msg})") from None
        if not graph.is_fetchable(element):
            raise ValueError(f"Operation {element.op.name if isinstance(element, _ops.Tensor) else element.name!r} "
                             "has been marked as not fetchable.")
        i = self._add(element)
        if isinstance(element, _ops.Operation):
            return lambda vals: None
        return lambda vals: vals[i]

    def build(self, values: list):
        return self._build(values)


# ------------------------------------------------------------------------------------------------
# Config objects (accepted; the placement flags are honoured)
# ------------------------------------------------------------------------------------------------
class GPUOptions:
    def __init__(self, per_process_gpu_memory_fraction: float = 0.0, allow_growth: bool = False,
                 visible_device_list: str = "", **kwargs):
        self.per_process_gpu_memory_fraction = per_process_gpu_memory_fraction
        self.allow_growth = allow_growth
        self.visible_device_list = visible_device_list
        self.__dict__.update(kwargs)


class GraphOptions:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class ConfigProto:
    """`tf.ConfigProto`: accepted; `log_device_placement` prints placements, the rest is advisory."""

    def __init__(self, log_device_placement: bool = False, allow_soft_placement: bool = False,
                 gpu_options: Optional[GPUOptions] = None, device_count: Optional[dict] = None,
                 inter_op_parallelism_threads: int = 0, intra_op_parallelism_threads: int = 0,
                 graph_options: Optional[GraphOptions] = None, **kwargs):
        self.log_device_placement = log_device_placement
        self.allow_soft_placement = allow_soft_placement
        self.gpu_options = gpu_options or GPUOptions()
        self.device_count = dict(device_count or {})
        self.inter_op_parallelism_threads = inter_op_parallelism_threads
        self.intra_op_parallelism_threads = intra_op_parallelism_threads
        self.graph_options = graph_options or GraphOptions()
        self.__dict__.update(kwargs)


class RunOptions:
    FULL_TRACE = 3
    SOFTWARE_TRACE = 1
    HARDWARE_TRACE = 2
    NO_TRACE = 0

    def __init__(self, trace_level: int = 0, timeout_in_ms: int = 0, **kwargs):
        self.trace_level = trace_level
        self.timeout_in_ms = timeout_in_ms
        self.__dict__.update(kwargs)


def RunMetadata():  # noqa: N802  (TF's proto constructor name)
    from tensorboard.compat.proto import config_pb2
    return config_pb2.RunMetadata()


# ------------------------------------------------------------------------------------------------
# Default session stack
# ------------------------------------------------------------------------------------------------
class _SessionStack(threading.local):
    def __init__(self):
        self.stack: list = []


_default_sessions = _SessionStack()


def get_default_session() -> Optional["BaseSession"]:
    return _default_sessions.stack[-1] if _default_sessions.stack else None


def _reset_default_session_for_new_graph() -> None:
    """`reset_default_graph` leaves InteractiveSessions of the old graph open but no longer default."""


def _run_using_default_session(element, feed_dict, graph, session):
    what = "evaluate tensor" if isinstance(element, _ops.Tensor) else "execute operation"
    call = "eval" if isinstance(element, _ops.Tensor) else "run"
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError(f"Cannot {what} using `{call}()`: No default session is registered. Use "
                             f"`with sess.as_default()` or pass an explicit session to `{call}(session=sess)`")
        if session.graph is not graph:
            raise ValueError(f"Cannot use the default session to {what}: the {what.split()[1]}'s graph is "
                             f"different from the session's graph. Pass an explicit session to "
                             f"`{call}(session=sess)`.")
    elif session.graph is not graph:
        raise ValueError(f"Cannot use the given session to {what}: the {what.split()[1]}'s graph is "
                         "different from the session's graph.")
    return session.run(element, feed_dict)


# ------------------------------------------------------------------------------------------------
# Session
# ------------------------------------------------------------------------------------------------
class _DeviceAttributes:
    """What `Session.list_devices()` returns per device (TF's session._DeviceAttributes)."""

    def __init__(self, name: str, device_type: str, memory_limit_bytes: int, incarnation: int):
        self.name, self.device_type = name, device_type
        self.memory_limit_bytes, self.incarnation = memory_limit_bytes, incarnation

    def __repr__(self):
        return (f"_DeviceAttributes({self.name}, {self.device_type}, {self.memory_limit_bytes}, "
                f"{self.incarnation})")


class BaseSession:
    """Holds variable state for one graph and runs compiled plans against it."""

    def __init__(self, target: str = "", graph: Optional[_ops.Graph] = None, config: Optional[ConfigProto] = None):
        self._graph = graph if graph is not None else _ops.get_default_graph()
        if not isinstance(self._graph, _ops.Graph):
            raise TypeError(f"graph must be a tf.Graph, but got {type(self._graph)}")
        self._target = target
        self._config = config or ConfigProto()
        self._closed = False
        from lowering.executor import SessionState
        from lowering.warmup import warm
        warm()  # JAX's compiler starts now, not at the first run (once per process)
        # Variables, RNG counters and iterator positions live here; runs hold its lock only while a
        # compiled step reads, dispatches and commits state (its buffers are donated): host ops (a
        # queue's blocking dequeue, py_func) run outside it, so one thread's run can wait for another's.
        self._session_state = SessionState()
        self._state: dict = self._session_state.values   # state key → device array
        from lowering.philox_sampling import note_session_threads
        note_session_threads(int(getattr(self._config, "intra_op_parallelism_threads", 0) or 0))
        self._lock = self._session_state.lock
        self._signatures: dict = {}          # (fetch structure, feed keys) → _Signature
        self._plans: dict = {}               # (fetched tensors, targets, feeds) → (PlanRunner, output positions)
        self._runners: list = []
        self._default_contexts: list = []
        self._logged_ops: set = set()

    # --- properties ---------------------------------------------------------------------------
    @property
    def graph(self) -> _ops.Graph:
        return self._graph

    @property
    def graph_def(self):
        return self._graph.as_graph_def()

    @property
    def sess_str(self) -> str:
        return self._target

    def list_devices(self) -> list:
        """`Session.list_devices()`: this process's devices as TF's _DeviceAttributes (name, device_type,
        memory_limit_bytes, incarnation)."""
        import jax
        from lowering.placement import device_name
        out = []
        for device in jax.local_devices():
            stats = device.memory_stats() if device.platform != "cpu" else None
            out.append(_DeviceAttributes(device_name(device), device.platform.upper(),
                                         int((stats or {}).get("bytes_limit", 0)), device.id))
        return out

    # --- lifecycle ----------------------------------------------------------------------------
    def close(self) -> None:
        self._closed = True
        # Resources with an outside effect (a summary writer's event file) end with the session, as TF's
        # resource manager destroys them: they flush and close.
        for value in list(self._state.values()):
            if hasattr(value, "on_session_close"):
                value.on_session_close()
        self._state.clear()
        self._session_state.pending.clear()
        self._signatures.clear()
        self._plans.clear()
        for runner in self._runners:
            runner.release()
        self._runners.clear()

    def as_default(self):
        return _DefaultSessionContext(self)

    # TF deletes the tensors of garbage-collected TensorHandles in batches of this many
    _DEAD_HANDLES_THRESHOLD = 10

    def _register_dead_handle(self, handle: str) -> None:
        """A TensorHandle was garbage collected: its tensor is deleted with the next batch (TF's session.py)."""
        from graphcompat.ops.session_ops import _get_handle_deleter
        dead = self.__dict__.setdefault("_dead_handles", [])
        dead.append(handle)
        if len(dead) < self._DEAD_HANDLES_THRESHOLD:
            return
        self._dead_handles = []
        feeds, fetches = {}, []
        for deleter_key, tensor_handle in enumerate(dead):
            holder, deleter = _get_handle_deleter(self.graph, deleter_key, tensor_handle)
            feeds[holder] = tensor_handle
            fetches.append(deleter)
        self.run(fetches, feed_dict=feeds)

    def __enter__(self):
        self._graph_ctx = self._graph.as_default()
        self._graph_ctx.__enter__()
        self._sess_ctx = self.as_default()
        self._sess_ctx.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._sess_ctx.__exit__(exc_type, exc, tb)
        self._graph_ctx.__exit__(exc_type, exc, tb)
        self.close()
        return False

    def __del__(self):
        try:
            self._closed = True
        except Exception:
            pass

    @staticmethod
    def reset(target, containers=None, config=None) -> None:
        """Distributed-runtime reset: nothing to do in-process."""

    # --- run ----------------------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs the ops and evaluates the tensors in `fetches`, substituting `feed_dict` values."""
        try:
            key = (_structure_key(fetches), tuple(feed_dict) if feed_dict else (), len(self._graph._unfeedable))
            signature = self._signatures.get(key)
        except TypeError:  # something in the structure is unhashable: resolved on every run
            key = signature = None
        if signature is None:
            # checked here only: close() clears the signatures, and a graph with none has no ops to run
            if self._closed:
                raise RuntimeError("Attempted to use a closed Session.")
            if self._graph._version == 0:
                raise RuntimeError("The Session graph is empty.  Add operations to the graph before calling run().")
            signature = self._signature(fetches, tuple(feed_dict) if feed_dict else ())
            if key is not None:
                self._signatures[key] = signature
        else:
            _stats.current.cache_hits += 1
            steady = signature.steady  # a training loop's step, fused with this signature (see _Signature)
            if steady is not None:
                out = steady(feed_dict)  # the fetched elements' values, or None: take the general path
                if out is not None:
                    return out if signature.flat else signature.mapper.build(out)
        return signature.run(feed_dict)

    def _signature(self, fetches, feed_keys: tuple) -> "_Signature":
        """Resolves a fetch structure and feed keys once: TF's checks and errors, then the plan."""
        mapper = _FetchMapper(self._graph, fetches)
        feeds = self._resolve_feed_keys(feed_keys)
        fed = {tensor for tensor, _, _ in feeds}
        computed = [e for e in mapper.elements if isinstance(e, _ops.Tensor) and e not in fed]
        targets = [e for e in mapper.elements if isinstance(e, _ops.Operation)]
        runner, index = self._runner(computed, targets, tuple(t for t, _, _ in feeds)) \
            if computed or targets else (None, [])
        return _Signature(mapper, feeds, runner, dict(zip(computed, index)), self)

    def _runner(self, tensors: list, targets: list, feed_tensors: tuple):
        """(PlanRunner, positions of `tensors` in its outputs): an existing plan when one serves these
        fetches, else a new one. `run(train_op)` then `run([train_op, loss])` (every TF1 training loop)
        share a plan: a plan also returns the small tensors its gradients compute anyway."""
        from lowering.executor import PlanRunner
        from lowering.plan import Plan, prune
        plan_key = (tuple(tensors), tuple(targets), feed_tensors)
        entry = self._plans.get(plan_key)
        if entry is not None:
            _stats.record_hit()
            return entry
        device = _common_device(tensors, targets)
        fed = set(feed_tensors)
        ops = prune(tensors, targets, fed)
        for runner in self._runners:
            plan = runner.plan
            # plan.ops leaves out the host inputs (a dequeue, an Unstage): a plan that runs one serves only
            # requests that need it, or `run(size)` after `run([size, get])` would take an element
            if plan.feed_tensors == list(feed_tensors) and plan.target_ops == targets and plan.ops == ops \
                    and plan.device_spec == device and all(t in plan.fetch_tensors for t in tensors) \
                    and (not plan.input_steps or set(ops) >= {s[0] for s in plan.input_steps}):
                entry = self._plans[plan_key] = (runner, [plan.fetch_tensors.index(t) for t in tensors])
                _stats.record_hit()  # served by an existing plan
                return entry
        extras = _free_outputs(ops, tensors, targets, fed)
        plan = Plan(tensors + extras, targets, feed_tensors, device,
                    soft_placement=bool(self._config.allow_soft_placement))
        _stats.record_plan()
        if self._config.log_device_placement:
            self._log_placement(plan)
        runner = PlanRunner(plan, self._session_state)
        self._runners.append(runner)
        entry = self._plans[plan_key] = (runner, list(range(len(tensors))))
        return entry

    def _resolve_feed_keys(self, feed_keys: tuple) -> list:
        """[(tensor, dict key, index into a tuple value or None)], duplicates dropped (first wins)."""
        resolved, seen = [], set()
        for key in feed_keys:
            if isinstance(key, tuple) and not hasattr(key, "_as_graph_element"):
                parts = [(subkey, i) for i, subkey in enumerate(key)]
            elif not isinstance(key, _ops.Tensor) and hasattr(key, "_feed_components"):
                # SparseTensor-like keys: component i of the key takes element i of the value
                parts = [(t, i) for i, (t, _) in enumerate(key._feed_components(itertools.repeat(None)))]
            else:
                parts = [(key, None)]
            for subkey, index in parts:
                tensor = self._feed_tensor(subkey)
                if tensor not in seen:
                    seen.add(tensor)
                    resolved.append((tensor, key, index))
        return resolved

    def _feed_tensor(self, key) -> _ops.Tensor:
        if isinstance(key, _ops.Tensor) and key.graph is self._graph:
            tensor = key
        else:
            try:
                tensor = self._graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
            except Exception as e:  # TF reports every lookup failure this way
                msg = e.args[0] if e.args else str(e)
                raise TypeError(f"Cannot interpret feed_dict key as Tensor: {msg}") from None
        if not self._graph.is_feedable(tensor):
            raise ValueError(f"Tensor {tensor} may not be fed.")
        return tensor

    def _log_placement(self, plan) -> None:
        """TF's placer log: each op of the plan and the device it really runs on (once per op)."""
        from lowering import executor, placement
        ops = [op for op in plan.ops if op not in self._logged_ops]
        self._logged_ops.update(ops)
        layout = executor.data_parallel()
        lines = placement.log_lines(ops, plan.placement if plan.multi_device and layout is None else None,
                                    plan.device, layout)
        if lines:
            print("\n".join(lines), flush=True)

    # --- partial conveniences -----------------------------------------------------------------
    def make_callable(self, fetches, feed_list=None, accept_options: bool = False) -> Callable:
        """A function `f(*feed_values)` equivalent to `run(fetches, dict(zip(feed_list, feed_values)))`."""
        feed_list = tuple(feed_list or ())
        signature = self._signature(fetches, feed_list)

        def call(*feed_args, **kwargs):
            if self._closed:
                raise RuntimeError("Attempted to use a closed Session.")
            if len(feed_args) != len(feed_list):
                raise ValueError(f"Expected {len(feed_list)} feed values, got {len(feed_args)}")
            return signature.run(dict(zip(feed_list, feed_args)))
        return call

    def partial_run_setup(self, fetches, feeds=None):
        raise NotImplementedError("tf.Session.partial_run_setup is not supported by graphcompat.")

    def partial_run(self, handle, fetches, feed_dict=None):
        raise NotImplementedError("tf.Session.partial_run is not supported by graphcompat.")


# ------------------------------------------------------------------------------------------------
# A signature: one fetch structure with one set of feed keys
# ------------------------------------------------------------------------------------------------
class _Signature:
    """How one (fetch structure, feed keys) pattern runs: read and check the feeds, run the plan, rebuild
    the fetch structure. Every feed value is converted and checked on every run."""

    __slots__ = ("mapper", "feeds", "plain_feeds", "runner", "slots", "reads_values", "flat", "handles", "session",
                 "steady", "steady_of")

    def __init__(self, mapper: _FetchMapper, feeds: list, runner, positions: dict, session=None):
        self.mapper = mapper
        self.feeds = [(key, index, _FeedSpec(tensor)) for tensor, key, index in feeds]
        # the common case, no tuple feed keys: (key, converter) pairs read in one comprehension per run
        self.plain_feeds = None if any(index is not None for _, _, index in feeds) else \
            [(key, spec.convert) for key, _, spec in self.feeds]
        self.runner = runner
        fed_position = {tensor: i for i, (tensor, _, _) in enumerate(feeds)}
        # per fetched element: (True, i) output i of the plan, (False, i) feed value i, None an Operation
        self.slots = []
        for element in mapper.elements:
            if isinstance(element, _ops.Operation):
                self.slots.append(None)
            elif element in fed_position:
                self.slots.append((False, fed_position[element]))
            else:
                self.slots.append((True, positions[element]))
        self.reads_values = any(slot is not None and slot[0] for slot in self.slots)
        # a flat list of distinct fetches (`run([train_op, loss])`) is its list of values: no rebuild
        self.flat = mapper.is_flat_list
        # a fetched session handle comes back as a TensorHandle (TF's _FetchHandler): (slot, tensor's dtype)
        from graphcompat.ops.session_ops import HANDLE_OP_TYPES
        self.handles = [(i, e.op.inputs[0].dtype) for i, e in enumerate(mapper.elements)
                        if isinstance(e, _ops.Tensor) and e.op.type in HANDLE_OP_TYPES]
        # weak: the Session holds its signatures, and a cycle would leave a dropped Session to the cycle
        # collector, which finalizes its resources in any order (a summary writer's file closed before the
        # writer could flush it)
        self.session = weakref.ref(session) if session is not None else None
        # a training loop's step: the runner's steady step fused with this signature's feeds and fetches
        # (PlanRunner.steady_run), built after the general path's run from the Compiled it runs (`steady_of`)
        self.steady = self.steady_of = None

    def run(self, feed_dict):
        """The general path: a run that the steady step (tried first by Session.run) does not serve (the first
        ones, a new shape, anything unusual)."""
        plain = self.plain_feeds
        values = [convert(feed_dict[key], key) for key, convert in plain] if plain is not None \
            else self._tuple_feeds(feed_dict)
        runner = self.runner
        if runner is None:
            fetched = ()
        else:
            fetched = runner.run(values, self.reads_values)
            if runner.steady is not self.steady_of:
                self._fuse_steady_step()
        # a fetched fed tensor returns the fed value, as converted (an ndarray, also 0-d)
        out = [None if slot is None else _to_numpy(fetched[slot[1]]) if slot[0] else np.asarray(values[slot[1]])
               for slot in self.slots]
        if self.handles:
            from graphcompat.ops.session_ops import TensorHandle
            for i, dtype in self.handles:
                out[i] = TensorHandle(out[i], dtype, self.session() if self.session else None)
        return out if self.flat else self.mapper.build(out)

    def _fuse_steady_step(self) -> None:
        """Binds the runner's steady step (or forgets the last one): where this signature reads plain feeds and
        fetches only what the plan computes (no fed tensor, no session handle)."""
        runner = self.runner
        self.steady_of = runner.steady
        if runner.steady is None or self.plain_feeds is None or self.handles or \
                any(slot is not None and not slot[0] for slot in self.slots):
            self.steady = None
            return
        self.steady = runner.steady_run(self.plain_feeds, [None if slot is None else slot[1] for slot in self.slots],
                                        self.reads_values, _to_numpy)

    def _tuple_feeds(self, feed_dict) -> list:
        values = []
        for key, index, spec in self.feeds:
            value = feed_dict[key]
            if index is not None and hasattr(key, "_feed_values"):  # a RaggedTensorValue fed to a RaggedTensor
                value = key._feed_values(value)
            if index is not None:
                if not isinstance(value, (tuple, list)) or len(value) <= index:
                    raise ValueError(f"The value of a tuple feed key {key!r} must be a tuple of the same length")
                value = value[index]
            values.append(spec.convert(value, key))
        return values


class _FeedSpec:
    """What a fed tensor accepts: TF's conversion (`np.asarray(value, dtype)`) and shape check."""

    __slots__ = ("tensor", "np_dtype", "dims", "string", "convert")

    def __init__(self, tensor: _ops.Tensor):
        self.tensor = tensor
        dtype = tensor.dtype.base_dtype
        self.string = dtype == _dtypes.string
        # a quantized type is fed as its integers (dtypes.storage_numpy_dtype)
        self.np_dtype = None if self.string else _dtypes.storage_numpy_dtype(dtype)
        self.dims = None if tensor.shape.ndims is None else tuple(tensor.shape.as_list())
        self.convert = self._converter()

    def _converter(self) -> Callable:
        """`convert(value, key)`: the fed value as TF converts it (`np.asarray(value, dtype)`), its shape
        checked. A closure over this feed's facts: it runs for every feed of every run, and in a loop of
        tiny steps (a 19 µs linear-regression step feeds two scalars) attribute reads are measurable."""
        np_dtype, dims, convert_other, check_shape = self.np_dtype, self.dims, self._convert, self._check_shape
        # numpy's scalar type of this dtype (np.float32 for float32): its values' dtype is np_dtype itself
        scalar_type = None if np_dtype is None else np_dtype.type
        ndarray, asarray = np.ndarray, np.asarray

        def convert(value, key):
            kind = type(value)
            # `is`: numpy's dtypes of its builtin types are singletons; an equal dtype that is another
            # object (rare) takes convert_other, whose np.asarray gives the same array
            if kind is ndarray and value.dtype is np_dtype:
                arr = value
            elif kind is scalar_type:
                arr = asarray(value)  # one argument type for jax.jit whatever the caller passes: no retrace
            else:
                arr = convert_other(value, key)
            if dims is not None and arr.shape != dims:
                check_shape(arr.shape)
            return arr
        return convert

    def _check_shape(self, shape: tuple) -> None:
        dims = self.dims
        if len(shape) != len(dims) or any(d is not None and d != n for d, n in zip(dims, shape)):
            raise ValueError(f"Cannot feed value of shape {shape!r} for Tensor {self.tensor.name!r}, "
                             f"which has shape {str(self.tensor.shape)!r}")

    def _convert(self, value, key):
        tensor = self.tensor
        if isinstance(value, _ops.Tensor) or hasattr(value, "_as_graph_element") and hasattr(value, "op"):
            raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed values include "
                            "Python scalars, strings, lists, numpy ndarrays, or TensorHandles. For reference, "
                            f"the tensor object was {value} which was passed to the feed with key {key}.")
        if self.string:
            from graphcompat.framework.constant_op import _to_bytes_array
            from graphcompat.ops.session_ops import TensorHandle
            if isinstance(value, TensorHandle):  # TF feeds a TensorHandle as the handle it names
                value = value.handle
            return _to_bytes_array(value)
        np_dtype = self.np_dtype
        dtype = tensor.dtype.base_dtype
        if dtype.is_quantized:  # TF's np.asarray(value, its structured dtype), held as the integers
            value = np.asarray(value, dtype=dtype.as_numpy_dtype).view(np_dtype)
        if isinstance(value, int) and not isinstance(value, bool) and dtype.is_integer:
            info = np.iinfo(np_dtype)
            if not info.min <= value <= info.max:
                raise TypeError(f"Type of feed value {value} with type {type(value)} is not compatible with "
                                f"Tensor type {np_dtype}. Try explicitly setting the type of the feed tensor "
                                "to a larger type (e.g. int64).")
        try:
            return np.asarray(value, dtype=np_dtype)
        except (ValueError, TypeError, OverflowError) as e:
            raise ValueError(f"Cannot feed value {value!r} for Tensor {tensor.name!r} of dtype "
                             f"{dtype.name}: {e}") from None


def _structure_key(fetches):
    kind = type(fetches)
    if kind is list or kind is tuple:
        leaves = tuple(fetches)
        if _all_leaves(leaves):  # a flat list of tensors and ops (training loops)
            return (kind, leaves)
        return (kind, tuple(_structure_key(f) for f in fetches))
    if isinstance(fetches, collections.abc.Mapping):
        return (kind, tuple((k, _structure_key(v)) for k, v in fetches.items()))
    if isinstance(fetches, (list, tuple)):  # namedtuples and other sequence types
        return (kind, tuple(_structure_key(f) for f in fetches))
    return fetches


_LEAVES = frozenset({_ops.Tensor, _ops.Operation})


def _all_leaves(fetches) -> bool:
    """Whether a fetch list is flat: only Tensors and Operations (a training loop's [train_op, loss])."""
    return _LEAVES.issuperset(map(type, fetches))


def _free_outputs(ops: list, tensors: list, targets: list, fed: set) -> list:
    """Small tensors a plan computes anyway (the losses its gradients differentiate): fetched for free,
    so `run([train_op, loss])` can reuse the plan of `run(train_op)`. Only when fetching them adds no
    stateful or host op (running them must not change what a run does; ops whose rules only check
    their inputs, such as Select or Gather, are fine: their checks guard the gradient's re-trace too)."""
    from graphcompat.framework.registry import OP_DEFS
    from graphcompat.gradients import differentiated_tensors
    from lowering.plan import prune
    from lowering.registry import RULES
    extras = []
    for op in ops:
        for y in differentiated_tensors(op):
            n = y.shape.num_elements()
            if y in fed or y in tensors or y in extras or (n or 0) > 4096 or y.dtype == _dtypes.string:
                continue
            extras.append(y)
    if not extras:
        return []
    have = set(ops)
    for op in prune(tensors + extras, targets, fed):
        if op in have:
            continue
        op_def, rule = OP_DEFS.get(op.type), RULES.get(op.type)
        if op_def is None or op_def.stateful or rule is None or rule.host:
            return []
    return extras


def _common_device(tensors, targets) -> Optional[str]:
    """The device requested for the fetched ops (the first one that names a device)."""
    for element in list(tensors) + list(targets):
        op = element.op if isinstance(element, _ops.Tensor) else element
        if op.device:
            return op.device
    return None


def _to_numpy(value):
    if type(value) is np.ndarray:
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except RuntimeError:  # spread over several processes (lowering/parallel.py): this process's rows
            from lowering.parallel import to_host
            arr = to_host(value)
    if arr.ndim == 0:
        return arr[()]
    return arr


class _DefaultSessionContext:
    def __init__(self, session):
        self._session = session

    def __enter__(self):
        _default_sessions.stack.append(self._session)
        return self._session

    def __exit__(self, *exc):
        stack = _default_sessions.stack
        if stack and stack[-1] is self._session:
            stack.pop()
        elif self._session in stack:
            stack.remove(self._session)
        return False


class Session(BaseSession):
    """`tf.Session(target='', graph=None, config=None)`."""


class InteractiveSession(BaseSession):
    """A Session that installs itself (and its graph) as the default until closed."""

    def __init__(self, target: str = "", graph: Optional[_ops.Graph] = None, config: Optional[ConfigProto] = None):
        super().__init__(target, graph, config)
        self._interactive_sess_ctx = self.as_default()
        self._interactive_sess_ctx.__enter__()
        self._interactive_graph_ctx = self._graph.as_default()
        self._interactive_graph_ctx.__enter__()
        self._explicitly_closed = False

    def close(self) -> None:
        super().close()
        if not self._explicitly_closed:
            self._explicitly_closed = True
            self._interactive_graph_ctx.__exit__(None, None, None)
            self._interactive_sess_ctx.__exit__(None, None, None)
