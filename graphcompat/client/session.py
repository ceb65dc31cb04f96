"""`tf.Session`: TF1's fetch/feed rules in front of cached, compiled plans.

`run()` normalises fetches (any nesting) and feeds (TF's checks and error texts), looks up the Plan for
that signature, runs it against this session's state (variables live here as device arrays), and
rebuilds the fetch structure with numpy values.
"""
from __future__ import annotations

import collections.abc
import threading
from typing import Any, Callable, Optional

import numpy as np

from graphcompat.framework import dtypes as _dtypes
from graphcompat.framework import errors
from graphcompat.framework import ops as _ops
from lowering import stats as _stats


_MISS = object()
_NUMPY_SCALARS = frozenset({np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
                            np.uint8, np.uint16, np.uint32, np.uint64, np.bool_, np.complex64, np.complex128})


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
        self._plans: dict = {}            # feed tensors → Plan (filled by the session)
        self._tensors_only = all(isinstance(e, _ops.Tensor) for e in self.elements)
        self.flat = self._flat_spec(fetches)

    def _flat_spec(self, fetches):
        """For a single element or a plain list/tuple of them: (container, slots), slot = index into the
        plan's tensor outputs or -1 for an Operation. Lets Session.run skip the generic rebuild."""
        tensor_slot = {e: j for j, e in enumerate(e for e in self.elements if isinstance(e, _ops.Tensor))}

        def slot(element):
            return tensor_slot[element] if isinstance(element, _ops.Tensor) else -1
        if isinstance(fetches, (_ops.Tensor, _ops.Operation)):
            return None, slot(fetches)
        if type(fetches) in (list, tuple) and all(isinstance(f, (_ops.Tensor, _ops.Operation)) for f in fetches):
            return type(fetches), [slot(f) for f in fetches]
        return None

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
class BaseSession:
    """Holds variable state for one graph and runs compiled plans against it."""

    def __init__(self, target: str = "", graph: Optional[_ops.Graph] = None, config: Optional[ConfigProto] = None):
        self._graph = graph if graph is not None else _ops.get_default_graph()
        if not isinstance(self._graph, _ops.Graph):
            raise TypeError(f"graph must be a tf.Graph, but got {type(self._graph)}")
        self._target = target
        self._config = config or ConfigProto()
        self._closed = False
        self._state: dict = {}               # variable name / hidden-state key → device array
        self._plans: dict = {}               # signature → Plan
        self._fetch_cache: dict = {}         # fetch structure key → _FetchMapper
        self._hot: dict = {}                 # (fetches, feed keys) → (plan, feed specs, container, slots)
        self._hot_pending: dict = {}
        self._feed_cache: dict = {}          # tuple of feed_dict keys → resolved feed tensors
        self._default_contexts: list = []
        # Held only while a compiled step reads, dispatches and commits state (its buffers are donated):
        # host ops (a queue's blocking dequeue, py_func) run outside it, so one thread's run can wait
        # for another thread's (QueueRunner threads feeding a training loop).
        self._lock = threading.RLock()
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
        import jax
        from graphcompat.client.device_lib import device_attributes
        return [device_attributes(d) for d in jax.devices()]

    # --- lifecycle ----------------------------------------------------------------------------
    def close(self) -> None:
        self._closed = True
        self._state.clear()
        self._plans.clear()
        self._fetch_cache.clear()
        self._hot.clear()
        self._hot_pending.clear()
        self._feed_cache.clear()

    def as_default(self):
        return _DefaultSessionContext(self)

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
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        if self._graph._version == 0:
            raise RuntimeError("The Session graph is empty.  Add operations to the graph before calling run().")
        hot = self._hot_run(fetches, feed_dict)
        if hot is not _MISS:
            return hot
        mapper = self._fetch_mapper(fetches)
        feed_tensors, feed_values = self._process_feeds(feed_dict) if feed_dict else ((), ())
        flat = mapper.flat
        if flat is not None:  # the training-loop fast path: a known plan and a flat fetch list
            plan = mapper._plans.get(feed_tensors)
            if plan is not None:
                _stats.current.cache_hits += 1
                fetched = plan.run(self._state, feed_values)
                container, slots = flat
                if container is None:
                    return None if slots < 0 else _to_numpy(fetched[slots])
                out = [None if j < 0 else _to_numpy(fetched[j]) for j in slots]
                return out if container is list else tuple(out)
        values = self._run_elements(mapper.elements, feed_tensors, feed_values, mapper)
        return mapper.build(values)

    def _hot_run(self, fetches, feed_dict):
        """A training loop's steady state in one dict lookup: the same flat fetch list, the same Tensor
        feed keys, a plan that already ran. Returns _MISS to take the general path."""
        fetch_type = type(fetches)
        try:
            key = (fetch_type, tuple(fetches) if fetch_type is list or fetch_type is tuple else fetches,
                   tuple(feed_dict) if feed_dict else (), len(self._graph._unfeedable))
            entry = self._hot.get(key)
        except TypeError:  # unhashable fetches or keys
            return _MISS
        if entry is None:
            self._hot_learn(key, fetches, feed_dict)
            return _MISS
        plan, specs, container, slots = entry
        values = []
        if specs:
            for (tensor, np_dtype, rank0), value in zip(specs, feed_dict.values()):
                value_type = type(value)
                if (value_type is np.ndarray or value_type in _NUMPY_SCALARS) and value.dtype == np_dtype \
                        and (rank0 is None or rank0 == (value.shape == ())):
                    values.append(value)
                else:
                    values.append(self._feed_value(tensor, tensor, value))
        _stats.current.cache_hits += 1
        fetched = plan.run(self._state, tuple(values))  # a tuple, as the general path passes
        if container is None:
            return None if slots < 0 else _to_numpy(fetched[slots])
        out = [None if j < 0 else _to_numpy(fetched[j]) for j in slots]
        return out if container is list else tuple(out)

    def _hot_learn(self, key, fetches, feed_dict) -> None:
        """Remembers a (fetches, feed keys) signature for _hot_run once its plan exists."""
        fetch_key = key[:2]
        pending = self._hot_pending
        if pending.get(key) is None:
            pending[key] = True  # first sighting: the general path builds the plan
            return
        mapper = self._fetch_cache.get((key[0], key[1]) if key[0] in (list, tuple) else key[1])
        if mapper is None or mapper.flat is None:
            return
        keys = key[2]
        if not all(isinstance(k, _ops.Tensor) and k.graph is self._graph for k in keys) or len(set(keys)) != len(keys):
            return
        plan = mapper._plans.get(keys)
        if plan is None:
            return
        specs = []
        for tensor in keys:
            dims = tensor._shape._dims
            if tensor.dtype.base_dtype == _dtypes.string or not self._graph.is_feedable(tensor):
                return
            # rank0: None = any shape is fine (unknown rank); True = must be a scalar; else: no fast path
            if dims is None:
                rank0 = None
            elif len(dims) == 0:
                rank0 = True
            else:
                rank0 = False  # shaped feeds always take _feed_value's compatibility check
            specs.append((tensor, np.dtype(tensor.dtype.base_dtype.as_numpy_dtype), rank0))
        if any(rank0 is False for _, _, rank0 in specs):
            specs = [(t, d, r) if r is not False else (t, None, r) for t, d, r in specs]
        self._hot[key] = (plan, specs, mapper.flat[0], mapper.flat[1])

    def _fetch_mapper(self, fetches) -> _FetchMapper:
        # Fast path: the fetch structure repeats from call to call (training loops).
        key = None
        if isinstance(fetches, (_ops.Tensor, _ops.Operation, str)):
            key = fetches
        elif type(fetches) in (list, tuple):
            key = (type(fetches), tuple(fetches))
            try:
                mapper = self._fetch_cache.get(key)
            except TypeError:  # an unhashable element (a nested list or dict): no caching
                mapper, key = None, None
            if mapper is not None:  # only flat Tensor/Operation lists are ever cached
                return mapper
            if key is not None and not all(isinstance(f, (_ops.Tensor, _ops.Operation)) for f in fetches):
                key = None
        if key is not None:
            mapper = self._fetch_cache.get(key)
            if mapper is None:
                mapper = self._fetch_cache[key] = _FetchMapper(self._graph, fetches)
            return mapper
        return _FetchMapper(self._graph, fetches)

    def _process_feeds(self, feed_dict):
        """Feed keys → unique Tensors (cached per key tuple) and values converted with TF's checks."""
        keys = (len(self._graph._unfeedable),) + tuple(feed_dict)  # prevent_feeding invalidates
        try:
            resolved = self._feed_cache.get(keys)
        except TypeError:  # an unhashable key: TF's own lookup reports it below
            resolved = None
        if resolved is None:
            resolved = self._resolve_feed_keys(feed_dict)
            try:
                self._feed_cache[keys] = resolved
            except TypeError:
                pass
        tensors, values = [], []
        for tensor, key, index in resolved:
            value = feed_dict[key] if index is None else feed_dict[key][index]
            tensors.append(tensor)
            values.append(self._feed_value(tensor, key, value))
        return tuple(tensors), tuple(values)

    def _resolve_feed_keys(self, feed_dict) -> list:
        """[(tensor, dict key, index into a tuple value or None)], duplicates dropped (first wins)."""
        resolved, seen = [], set()
        for key, value in feed_dict.items():
            if isinstance(key, tuple) and not hasattr(key, "_as_graph_element"):
                if not isinstance(value, (tuple, list)) or len(value) != len(key):
                    raise ValueError(f"The value of a tuple feed key {key!r} must be a tuple of the same length")
                parts = [(subkey, i) for i, subkey in enumerate(key)]
            elif not isinstance(key, _ops.Tensor) and hasattr(key, "_feed_components"):
                # SparseTensor-like keys: component i of the key takes element i of the value
                parts = [(t, i) for i, (t, _) in enumerate(key._feed_components(value))]
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

    def _feed_value(self, tensor: _ops.Tensor, key, value):
        value_type = type(value)
        if value_type is np.ndarray or value_type in _NUMPY_SCALARS:
            if value.dtype == tensor._dtype._np and (tensor._shape._dims is None or value.shape == ()
                                                     and not tensor._shape._dims):
                return value  # the common case: already the right dtype, nothing to check
        elif isinstance(value, _ops.Tensor) or hasattr(value, "_as_graph_element") and hasattr(value, "op"):
            raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed values include "
                            "Python scalars, strings, lists, numpy ndarrays, or TensorHandles. For reference, "
                            f"the tensor object was {value} which was passed to the feed with key {key}.")
        dtype = tensor.dtype.base_dtype
        np_dtype = dtype.as_numpy_dtype
        if dtype == _dtypes.string:
            from graphcompat.framework.constant_op import _to_bytes_array
            arr = _to_bytes_array(value)
        else:
            if isinstance(value, int) and not isinstance(value, bool) and dtype.is_integer:
                info = np.iinfo(np_dtype)
                if not info.min <= value <= info.max:
                    raise TypeError(f"Type of feed value {value} with type {type(value)} is not compatible with "
                                    f"Tensor type {np_dtype}. Try explicitly setting the type of the feed tensor "
                                    "to a larger type (e.g. int64).")
            if type(value) is np.ndarray and value.dtype == np_dtype:
                arr = value
            else:
                try:
                    arr = np.asarray(value, dtype=np_dtype)
                except (ValueError, TypeError, OverflowError) as e:
                    raise ValueError(f"Cannot feed value {value!r} for Tensor {tensor.name!r} of dtype "
                                     f"{dtype.name}: {e}") from None
        shape = tensor._shape
        if shape._dims is not None and not shape.is_compatible_with(arr.shape):
            raise ValueError(f"Cannot feed value of shape {arr.shape!r} for Tensor {tensor.name!r}, "
                             f"which has shape {str(shape)!r}")
        return arr

    def _run_elements(self, elements: list, feed_tensors: tuple, feed_values: tuple, mapper=None) -> list:
        if not elements:
            return []
        # A cached mapper remembers its plan per feed set (saves hashing the fetch tuple every step).
        plan = mapper._plans.get(feed_tensors) if mapper is not None else None
        if plan is None:
            plan_key = (tuple(elements), feed_tensors)
            plan = self._plans.get(plan_key)
            if plan is None:
                plan = self._build_plan(elements, feed_tensors)
                self._plans[plan_key] = plan
            else:
                _stats.current.cache_hits += 1
            if mapper is not None:
                mapper._plans[feed_tensors] = plan
        else:
            _stats.current.cache_hits += 1
        fetched = plan.run(self._state, feed_values)
        n = getattr(plan, "_gc_requested", None)
        if n is not None and n != len(fetched):  # drop the free extra outputs (see _build_plan)
            fetched = fetched[:n]
        if mapper is not None and mapper._tensors_only:
            return [_to_numpy(v) for v in fetched]
        out = []
        j = 0
        for element in elements:
            if isinstance(element, _ops.Operation):
                out.append(None)
            else:
                out.append(_to_numpy(fetched[j]))
                j += 1
        return out

    def _build_plan(self, elements: list, feed_tensors: tuple):
        from lowering import stats
        from lowering.plan import Plan, prune
        tensors = [e for e in elements if isinstance(e, _ops.Tensor)]
        targets = [e for e in elements if isinstance(e, _ops.Operation)]
        device = _common_device(tensors, targets)
        fed = set(feed_tensors)
        ops = prune(tensors, targets, fed)
        # `run(train_op)` then `run([train_op, loss])` (every TF1 training loop): when an existing plan
        # prunes to exactly the same ops and already returns these tensors, run it (no second compile).
        for existing in list(self._plans.values()):
            base = getattr(existing, "base", existing)
            outputs = getattr(base, "_gc_outputs", None)
            if outputs is not None and base.feed_tensors == list(feed_tensors) and \
                    base._gc_targets == frozenset(targets) and all(t in outputs for t in tensors) and \
                    base.ops == ops and base.device == _common_device_of(base, device):
                _stats.current.cache_hits += 1  # served by an existing plan
                return _PlanView(base, [outputs.index(t) for t in tensors])
        extras = _free_outputs(ops, tensors, targets, fed)
        plan = Plan(tensors + extras, targets, feed_tensors, device, lock=self._lock)
        plan._gc_requested = len(tensors)
        plan._gc_targets = frozenset(targets)
        plan._gc_outputs = tensors + extras
        stats.record_plan()
        if self._config.log_device_placement:
            self._log_placement(plan)
        return plan

    def _log_placement(self, plan) -> None:
        import jax
        default = plan.device or jax.devices()[0]
        where = f"/job:localhost/replica:0/task:0/device:{default.platform.upper()}:{default.id}"
        for op in plan.ops:
            if op not in self._logged_ops:
                self._logged_ops.add(op)
                print(f"{op.name}: ({op.type}): {where}", flush=True)

    # --- partial conveniences -----------------------------------------------------------------
    def make_callable(self, fetches, feed_list=None, accept_options: bool = False) -> Callable:
        """A function `f(*feed_values)` equivalent to `run(fetches, dict(zip(feed_list, feed_values)))`."""
        mapper = _FetchMapper(self._graph, fetches)
        feed_tensors = tuple(self._feed_tensor(f) for f in (feed_list or ()))

        def call(*feed_args, **kwargs):
            if self._closed:
                raise RuntimeError("Attempted to use a closed Session.")
            if len(feed_args) != len(feed_tensors):
                raise ValueError(f"Expected {len(feed_tensors)} feed values, got {len(feed_args)}")
            values = tuple(self._feed_value(t, t, v) for t, v in zip(feed_tensors, feed_args))
            return mapper.build(self._run_elements(mapper.elements, feed_tensors, values))
        return call

    def partial_run_setup(self, fetches, feeds=None):
        raise NotImplementedError("tf.Session.partial_run_setup is not supported by graphcompat.")

    def partial_run(self, handle, fetches, feed_dict=None):
        raise NotImplementedError("tf.Session.partial_run is not supported by graphcompat.")


class _PlanView:
    """A fetch signature served by another plan that prunes to the same ops: its outputs, reordered."""

    def __init__(self, base, indices: list):
        self.base = base
        self._indices = indices
        self.ops = base.ops
        self.device = base.device

    def run(self, store: dict, feed_values) -> list:
        out = self.base.run(store, feed_values)
        return [out[i] for i in self._indices]


def _common_device_of(plan, device):
    return device if plan.device is None or device is None else plan.device


def _free_outputs(ops: list, tensors: list, targets: list, fed: set) -> list:
    """Small tensors a plan computes anyway (the losses its gradients differentiate): fetched for free,
    so `run([train_op, loss])` can reuse the plan of `run(train_op)`. Only when fetching them adds no
    stateful, host or context op (running them must not change what a run does)."""
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
        if op_def is None or op_def.stateful or rule is None or rule.context or rule.host:
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
    if isinstance(value, np.ndarray):
        arr = value
    else:
        arr = np.asarray(value)
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
