"""Lowerings of graphcompat/ops/data_dependent_ops.py.

Where/Unique/DynamicPartition/DynamicStitch have value-dependent output shapes: host rules (numpy),
so plans containing them run op by op. PyFunc calls Python on the host. Assert and CheckNumerics are
runtime checks (`ctx.check`: deferred under jit, immediate when eager); Print/PrintV2 print through
`jax.debug.callback` when traced so that they do not prevent compilation.
"""
from __future__ import annotations

import logging
import sys
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from lowering.registry import RULES, lowers, runs_before_the_step


@lowers("Where", host=True)
def where(x, **_):
    return np.argwhere(np.asarray(x)).astype(np.int64).reshape(-1, np.ndim(x))


# ------------------------------------------------------------------------------------------------
# Unique. Its output length depends on the values, so it runs on the host -- except in the pattern of
# TF's `_deduplicate_indexed_slices` (sparse optimizer updates): y feeds only scatter-add indices and the
# Shape -> strided_slice -> num_segments of the UnsortedSegmentSums that read idx, whose sums reach only
# scatter-add updates through zero-preserving ops. There the compiled rule keeps the input's length:
# unique values, then padding that repeats the smallest one with all-zero summed rows, which adds
# nothing to any row. So a sparse training step compiles once and never leaves the device.
# ------------------------------------------------------------------------------------------------
_SCATTER_ADDS = {"ScatterAdd", "ScatterSub", "ResourceScatterAdd", "ResourceScatterSub"}
_paddable_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _only_as(t, op, position: int) -> bool:
    return [i for i, x in enumerate(op._inputs) if x is t] == [position]


def _zero_rows_only_reach_scatter_adds(t, depth: int = 0) -> bool:
    """Rows of `t` that are zero stay zero on every path, and every path ends as scatter-add updates."""
    if depth > 8 or not t._consumers:
        return False
    for op in t._consumers:
        if op.type in _SCATTER_ADDS:
            if not _only_as(t, op, 2):
                return False
            continue
        if op.type in ("Mul", "RealDiv"):
            others = [x for x in op._inputs if x is not t]
            if op.type == "RealDiv" and op._inputs[0] is not t:
                return False
            if any(x.shape.ndims != 0 for x in others):  # scaled by scalars only (or t * t)
                return False
        elif op.type not in ("Neg", "Identity", "Cast", "Square"):
            return False
        if not _zero_rows_only_reach_scatter_adds(op._outputs[0], depth + 1):
            return False
    return True


def _unique_paddable(op) -> bool:
    cached = _paddable_cache.get(op)
    if cached is None:
        cached = _paddable_cache[op] = _dedup_pattern(op)
    return cached


def _dedup_pattern(op) -> bool:
    y, idx = op._outputs
    sizes = set()
    for c in y._consumers:
        if c.type == "Shape":
            for ss in c._outputs[0]._consumers:
                if ss.type != "StridedSlice" or not ss._outputs[0]._consumers:
                    return False
                sizes.add(ss._outputs[0])
        elif c.type in _SCATTER_ADDS:
            if not _only_as(y, c, 1):
                return False
        else:
            return False
    if not idx._consumers:
        return False
    for c in idx._consumers:
        if c.type != "UnsortedSegmentSum" or not _only_as(idx, c, 1) or c._inputs[2] not in sizes:
            return False
        if not _zero_rows_only_reach_scatter_adds(c._outputs[0]):
            return False
    uss = set(idx._consumers)
    return all(c in uss and _only_as(s, c, 2) for s in sizes for c in s._consumers)


@lowers("Unique", host=lambda op: not _unique_paddable(op))
def unique(x, *, out_idx=np.int32, **_):
    if np.ndim(x) != 1:
        raise errors.InvalidArgumentError(None, None, "unique expects a 1D vector.")
    if isinstance(x, jax.core.Tracer):  # compiled, in the deduplication pattern (see above)
        y, inverse = jnp.unique(x, size=x.shape[0], return_inverse=True)
        return y, inverse.reshape(-1).astype(out_idx)
    from lowering.rules.segment import unique_first_occurrence
    x = np.asarray(x)
    firsts, position, _ = unique_first_occurrence(x)
    return x[firsts], position.astype(out_idx)


@lowers("DynamicPartition", context=True, host=True)
def dynamic_partition(ctx, op, data, partitions):
    # The partition ids decide the output shapes (concrete on the host); the data may be traced: a gradient's
    # re-traced forward pass differentiates the row selections below (TF's gradient stitches them back)
    data, partitions = _host_or_traced(data), np.asarray(partitions)
    n = op.attrs["num_partitions"]
    bad = (partitions < 0) | (partitions >= n)
    if bad.any():
        i = int(np.flatnonzero(bad.reshape(-1))[0])
        idx = np.unravel_index(i, partitions.shape)
        ctx.check(False, errors.InvalidArgumentError,
                  f"partitions{[int(j) for j in idx]} = {int(partitions.reshape(-1)[i])} is not in [0, {n})", op)
    if data.shape[:partitions.ndim] != partitions.shape:
        ctx.check(False, errors.InvalidArgumentError,
                  f"data.shape must start with partitions.shape, got data.shape = {list(data.shape)}, "
                  f"partitions.shape = {list(partitions.shape)}", op)
    rows = data.reshape((-1,) + data.shape[partitions.ndim:])
    flat = partitions.reshape(-1)
    outs = tuple(rows[np.flatnonzero(flat == p)] for p in range(n))
    return outs[0] if n == 1 else outs


def _traced_stitch(indices: list, size: int, tail: tuple):
    """DynamicStitch of traced data (a gradient's forward pass) at concrete indices, with TF's gradient: each
    data element gets the gradient of its slot (a gather), also where a later index overwrote it (jax's
    gradient of the scatter would give those 0)."""
    @jax.custom_vjp
    def stitch(*data):
        out = jnp.zeros((size,) + tail, jnp.result_type(data[0]))
        for i, d in zip(indices, data):
            out = out.at[i.reshape(-1)].set(jnp.reshape(d, (-1,) + tail))
        return out

    def forward(*data):
        return stitch(*data), tuple(jnp.shape(d) for d in data)

    def backward(shapes, grad):
        return tuple(jnp.reshape(grad[i.reshape(-1)], shape) for i, shape in zip(indices, shapes))
    stitch.defvjp(forward, backward)
    return stitch


def _host_or_traced(value):
    """A host value as numpy; a value jax.vjp traces (a gradient's forward pass) as it is."""
    return value if isinstance(value, jax.core.Tracer) else np.asarray(value)


@lowers("DynamicStitch", context=True, host=True)
def dynamic_stitch(ctx, op, *args):
    n = len(args) // 2
    indices = [np.asarray(i) for i in args[:n]]
    data = [_host_or_traced(d) for d in args[n:]]
    size = max((int(i.max()) + 1 for i in indices if i.size), default=0)
    tail = data[0].shape[indices[0].ndim:]
    for k, (i, d) in enumerate(zip(indices, data)):
        if d.shape[:i.ndim] != i.shape:
            ctx.check(False, errors.InvalidArgumentError,
                      f"data[{k}].shape = {list(d.shape)} does not start with indices[{k}].shape = {list(i.shape)}",
                      op)
    if any(isinstance(d, jax.core.Tracer) for d in data):
        return _traced_stitch(indices, size, tuple(tail))(*data)
    out = np.zeros((size,) + tail, dtype=data[0].dtype)
    for i, d in zip(indices, data):
        out[i.reshape(-1)] = d.reshape((-1,) + tail)
    return out


# ------------------------------------------------------------------------------------------------
# py_func
# ------------------------------------------------------------------------------------------------
# TF's py_func.cc: how an exception raised by the Python function surfaces from the run.
_PY_EXCEPTION_CLASSES = ((ValueError, errors.InvalidArgumentError), (TypeError, errors.InvalidArgumentError),
                         (StopIteration, errors.OutOfRangeError), (MemoryError, errors.ResourceExhaustedError),
                         (NotImplementedError, errors.UnimplementedError))


def _callable(op):
    """The py_func body registered under the node's token (TF's FuncRegistry lookup)."""
    from graphcompat.framework import func_registry
    token = op.attrs["token"]
    func = func_registry.lookup(token)
    if func is None:  # TF: FuncRegistry raises ValueError, which the kernel reports as InvalidArgument
        raise errors.InvalidArgumentError(None, op, f"ValueError: callback {token} is not found")
    return func


def _call_python(op, func, args):
    """Calls a py_func body; its exceptions become TF's error classes (others UnknownError), with the
    exception and its traceback in the message as TF shows them."""
    try:
        return func(*args)
    except Exception as err:  # noqa: BLE001 (every Python failure is reported as TF reports it)
        import traceback
        cls = next((c for py, c in _PY_EXCEPTION_CLASSES if isinstance(err, py)), errors.UnknownError)
        text = f"{type(err).__name__}: {err}\n" + "".join(traceback.format_exception(err))
        raise cls(None, op, text) from err


@lowers("PyFunc", "PyFuncStateless", context=True, host=True, host_input=runs_before_the_step)
def py_func(ctx, op, *args):
    func = _callable(op)
    touts = op.attrs["Tout"]
    token = op.attrs["token"]
    values = [_host(ctx.deref(a)) for a in args]
    result = _call_python(op, func, values)
    if isinstance(result, (list, tuple)):
        results = list(result)
    elif result is None and not touts:
        results = []
    else:
        results = [result]
    if len(results) != len(touts):
        ctx.check(False, errors.InvalidArgumentError,
                  f"{token} returns {len(results)} values, but expects to see {len(touts)} values.", op)
    out = []
    for i, (value, want) in enumerate(zip(results, touts)):
        if want == _dt.string:
            arr = np.asarray(value, dtype=object)
            arr = np.vectorize(lambda v: v.encode() if isinstance(v, str) else v, otypes=[object])(arr) \
                if arr.size else arr
            out.append(arr)
            continue
        arr = np.asarray(value)
        got = _dt.as_dtype(arr.dtype) if arr.dtype != object else None
        if got is None or got != want:
            name = _dt.cpp_name(got) if got is not None else "object"
            ctx.check(False, errors.InvalidArgumentError,
                      f"{i}-th value returned by {token} is {name}, but expects {_dt.cpp_name(want)}", op)
        out.append(arr)
    if not out:
        return None
    return out[0] if len(out) == 1 else tuple(out)


class HostTensor:
    """What a `tf.py_function` body receives: an eager-tensor-like wrapper of a numpy value."""

    __array_priority__ = 100

    def __init__(self, value):
        self._value = np.asarray(value)

    def numpy(self):
        return self._value[()] if self._value.ndim == 0 and self._value.dtype == object else self._value

    @property
    def shape(self):
        from graphcompat.framework.tensor_shape import TensorShape
        return TensorShape(self._value.shape)

    @property
    def dtype(self):
        return _dt.as_dtype(self._value.dtype) if self._value.dtype != object else _dt.string

    def __array__(self, dtype=None, copy=None):
        return self._value if dtype is None else self._value.astype(dtype)

    def __len__(self):
        return len(self._value)

    def __getitem__(self, index):
        return HostTensor(self._value[index])

    def __iter__(self):
        return (HostTensor(v) for v in self._value)

    def __bool__(self):
        return bool(self._value)

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __index__(self):
        return int(self._value)

    def __repr__(self):
        return f"<tf.Tensor: shape={self._value.shape}, dtype={self.dtype.name}, numpy={self._value!r}>"


def _host_binary(name):
    op = getattr(np.ndarray, name)

    def method(self, other):
        other = other._value if isinstance(other, HostTensor) else other
        result = op(self._value, other)
        return NotImplemented if result is NotImplemented else HostTensor(result)
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__pow__", "__rpow__", "__matmul__",
              "__rmatmul__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "__and__", "__or__"):
    setattr(HostTensor, _name, _host_binary(_name))
HostTensor.__neg__ = lambda self: HostTensor(-self._value)
HostTensor.__hash__ = None


@lowers("EagerPyFunc", context=True, host=True, host_input=runs_before_the_step)
def eager_py_func(ctx, op, *args):
    func, touts = _callable(op), op.attrs["Tout"]
    result = _call_python(op, func, [HostTensor(np.asarray(ctx.deref(a))) for a in args])
    results = list(result) if isinstance(result, (list, tuple)) else ([] if result is None and not touts
                                                                      else [result])
    if len(results) != len(touts):
        ctx.check(False, errors.InvalidArgumentError,
                  f"{op.attrs['token']} returns {len(results)} values, but expects to see {len(touts)} values.",
                  op)
    out = []
    for value, want in zip(results, touts):
        value = value._value if isinstance(value, HostTensor) else value
        if want == _dt.string:
            arr = np.asarray(value, dtype=object)
        else:
            try:
                arr = np.asarray(value, dtype=want.as_numpy_dtype)
            except (TypeError, ValueError) as err:
                ctx.check(False, errors.InvalidArgumentError, f"{op.attrs['token']}: {err}", op)
        out.append(arr)
    if not out:
        return None
    return out[0] if len(out) == 1 else tuple(out)


def _host(value):
    """What TF hands a py_func: ndarrays, numpy scalars for 0-d numbers, bytes for 0-d strings."""
    value = np.asarray(value)
    return value[()] if value.ndim == 0 else value


# ------------------------------------------------------------------------------------------------
# Assert / Print / PrintV2 / CheckNumerics
# ------------------------------------------------------------------------------------------------
def _float_text(v) -> str:
    """TF's FloatToBuffer/DoubleToBuffer: %.6g (%.15g) when it round-trips, else %.9g (%.17g)."""
    if isinstance(v, np.float64) or type(v) is float:
        short, full, kind = "%.15g", "%.17g", np.float64
    else:
        short, full, kind = "%.6g", "%.9g", np.float32
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    text = short % float(v)
    return text if kind(text) == kind(v) else full % float(v)


_C_ESCAPES = {ord("\n"): b"\\n", ord("\r"): b"\\r", ord("\t"): b"\\t", ord('"'): b'\\"', ord("'"): b"\\'",
              ord("\\"): b"\\\\"}


def _c_escape(v: bytes) -> str:
    """absl's Utf8SafeCEscape, which TF's SummarizeValue applies to strings: quotes, backslashes and control
    characters escaped (octal for the unnamed ones), bytes >= 0x80 kept."""
    out = bytearray()
    for b in bytes(v):
        if b in _C_ESCAPES:
            out += _C_ESCAPES[b]
        elif b < 0x20 or b == 0x7F:
            out += b"\\%03o" % b
        else:
            out.append(b)
    return out.decode("utf-8", "backslashreplace")


def _element(v) -> str:
    if isinstance(v, (bytes, np.bytes_)):
        return _c_escape(v)
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (float, np.floating)):
        return _float_text(v)
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    return str(v)


def summarize_v1(value, limit: int) -> str:
    """TF's Tensor::SummarizeValue (Assert, Print): nested brackets, stopping after `limit` elements."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return _element(arr[()])
    flat = arr.reshape(-1)
    limit = flat.size if limit < 0 else min(limit, flat.size)
    printed = [0]

    def dim(d, offset) -> str:
        if d == arr.ndim - 1:
            out = []
            for i in range(arr.shape[d]):
                if printed[0] >= limit:
                    return " ".join(out) + ("..." if d != 0 else "")
                out.append(_element(flat[offset + i]))
                printed[0] += 1
            return " ".join(out)
        stride = int(np.prod(arr.shape[d + 1:], dtype=np.int64))
        out = ""
        for i in range(arr.shape[d]):
            if printed[0] >= limit:
                break
            out += "[" + dim(d + 1, offset + i * stride) + "]"
        return out
    text = dim(0, 0)
    if flat.size > limit:
        text += "..."
    return text


def summarize_v2(value, summarize: int) -> str:
    """tf.print's formatting: numpy-like, first and last `summarize` entries per dimension."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        v = arr[()]
        return _element(v) if not isinstance(v, (bytes, np.bytes_)) else repr(v.decode())[1:-1].join('""')

    def fmt(a, depth):
        n = a.shape[0]
        idx = list(range(n)) if summarize < 0 or n <= 2 * summarize else \
            list(range(summarize)) + [None] + list(range(n - summarize, n))
        if a.ndim == 1:
            return "[" + " ".join("..." if i is None else _v2_elem(a[i]) for i in idx) + "]"
        sep = "\n" * (a.ndim - 1) + " " * (depth + 1)
        return "[" + sep.join("..." if i is None else fmt(a[i], depth + 1) for i in idx) + "]"
    return fmt(arr, 0)


def _v2_elem(v) -> str:
    if isinstance(v, (bytes, np.bytes_)):
        return '"' + _c_escape(v) + '"'
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    return _element(v)


def _static_message(prefix: str, op, values, limit: int) -> str:
    parts = []
    for t, v in zip(op._inputs[1:], values):
        try:
            parts.append("[" + summarize_v1(np.asarray(v), limit) + "]")
        except Exception:  # a traced value: the plan re-runs eagerly to report it
            parts.append(f"[<{t.name}>]")
    return prefix + " ".join(parts)


@lowers("Assert", context=True)
def assert_(ctx, op, condition, *data):
    data = [ctx.deref(d) for d in data]
    traced = isinstance(condition, jax.core.Tracer) or any(isinstance(d, jax.core.Tracer) for d in data)
    if traced:
        message = _static_message("assertion failed: ", op, data, op.attrs["summarize"])
        ctx.check(condition, errors.InvalidArgumentError, message, op)
        return None
    if not bool(np.asarray(condition)):
        message = _static_message("assertion failed: ", op, data, op.attrs["summarize"])
        ctx.check(False, errors.InvalidArgumentError, message, op)
    return None


def _emit(text: str, stream: str) -> None:
    if stream == "stdout":
        sys.stdout.write(text)
        sys.stdout.flush()
    elif stream.startswith("file://"):
        with open(stream[len("file://"):], "a") as f:
            f.write(text)
    elif stream.startswith("log("):
        getattr(logging, stream[4:-1])(text.rstrip("\n"))
    else:
        sys.stderr.write(text)
        sys.stderr.flush()


def _on_host(fn, *values) -> None:
    """Calls `fn(*numpy values)` now, or when the compiled computation runs if values are traced."""
    if any(isinstance(v, jax.core.Tracer) for v in values):
        jax.debug.callback(lambda *vs: fn(*(np.asarray(v) for v in vs)), *values)
    else:
        fn(*(np.asarray(v) if isinstance(v, jax.Array) else v for v in values))


# How many times each tf.Print printed (its first_n), per process as TF's kernel counts per op.
_printed_counts: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@lowers("Print", context=True)
def print_(ctx, op, value, *data):
    data = [ctx.deref(d) for d in data]
    message, first_n, summarize = op.attrs["message"], op.attrs["first_n"], op.attrs["summarize"]
    state = _printed_counts.setdefault(op, [0])

    def show(*vals):
        if first_n >= 0 and state[0] >= first_n:
            return
        state[0] += 1
        _emit(message + "".join("[" + summarize_v1(v, summarize) + "]" for v in vals) + "\n", "stderr")
    _on_host(show, *data)
    return ctx.deref(value)


@lowers("PrintV2", context=True)
def print_v2(ctx, op, formatted):
    """Prints tf.print's formatted string. Compiled, the StringFormat it reads is deferred
    (lowering/rules/strings.py): the values are formatted and printed on the host when the step runs."""
    stream, end = op.attrs["output_stream"], op.attrs["end"]
    deferred = getattr(formatted, "template", None) is not None and hasattr(formatted, "text")
    if deferred:
        def show(*vals):
            _emit(formatted.text(vals).decode("utf-8", "replace") + end, stream)
        values = [jnp.asarray(v) for v in formatted.inputs]
        if ctx.traced:
            jax.debug.callback(lambda *vs: show(*(np.asarray(v) for v in vs)), *values, ordered=False)
        else:
            show(*(np.asarray(v) for v in values))
        return None
    text = formatted.item() if isinstance(formatted, np.ndarray) else formatted
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    _emit(text + end, stream)
    return None


@lowers("CheckNumerics", context=True)
def check_numerics(ctx, op, x):
    x = ctx.deref(x)
    message = op.attrs["message"]
    has_inf = jnp.any(jnp.isinf(x))
    has_nan = jnp.any(jnp.isnan(x))
    # Ordered so that the first failing check names what TF's kernel names.
    ctx.check(jnp.logical_not(jnp.logical_and(has_inf, has_nan)), errors.InvalidArgumentError,
              f"{message} : Tensor had Inf and NaN values", op)
    ctx.check(jnp.logical_not(has_inf), errors.InvalidArgumentError, f"{message} : Tensor had Inf values", op)
    ctx.check(jnp.logical_not(has_nan), errors.InvalidArgumentError, f"{message} : Tensor had NaN values", op)
    return x


# 3-argument where (registered only if the math/array family has no rule for them).
if "Select" not in RULES:
    @lowers("Select")
    def select(condition, t, e, **_):
        condition = jnp.asarray(condition)
        if condition.ndim == 1 and jnp.ndim(t) > 1:  # TF1: a vector picks rows
            condition = condition.reshape((-1,) + (1,) * (jnp.ndim(t) - 1))
        return jnp.where(condition, t, e)

if "SelectV2" not in RULES:
    @lowers("SelectV2")
    def select_v2(condition, t, e, **_):
        return jnp.where(condition, t, e)
