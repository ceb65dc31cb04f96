"""Host-only sources: `from_generator`, `list_files`, `TextLineDataset`, `FixedLengthRecordDataset`,
`TFRecordDataset`. They are walked on the host (a background thread prefetches; see lowering/rules/data.py).
"""
from __future__ import annotations

import glob
import gzip
import itertools
import os
import traceback
import zlib

import numpy as np

from graphcompat.data import structure as nest
from graphcompat.data import _tfrecord
from graphcompat.data.dataset_ops import Dataset, Spec
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor


def _py_error(e: BaseException, op) -> errors.OpError:
    """A Python exception raised by user code, as TF's py_func reports it (class by exception type)."""
    cls = errors.UnknownError
    if isinstance(e, (ValueError, TypeError)):
        cls = errors.InvalidArgumentError
    elif isinstance(e, (StopIteration, IndexError)):
        cls = errors.OutOfRangeError
    elif isinstance(e, MemoryError):
        cls = errors.ResourceExhaustedError
    elif isinstance(e, NotImplementedError):
        cls = errors.UnimplementedError
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    err = cls(None, op, f"{type(e).__name__}: {e}\n{tb}")
    err.__cause__ = e
    return err


class GeneratorDataset(Dataset):
    _op_type = "GeneratorDataset"

    def __init__(self, generator, output_types, output_shapes=None, args=None):
        if not callable(generator):
            raise TypeError("`generator` must be a Python callable.")
        types = nest.flatten(output_types)
        if output_shapes is None:
            shapes = [_ts.unknown_shape()] * len(types)
        else:
            shapes = [_ts.as_shape(s) for s in nest.flatten_up_to(output_types, output_shapes)]
        self._gen = generator
        args = [] if args is None else list(args)
        tensors = [convert_to_tensor(a, name=f"args_{i}") for i, a in enumerate(args)]
        self._record([], tensors, nest.template_of(output_types), [Spec(t, s) for t, s in zip(types, shapes)],
                     groups=[len(tensors), 0, 0])
        # per component: (numpy dtype, converted with numpy's astype?, static dims or None)
        self._conversions = [(np.dtype(sp.dtype.as_numpy_dtype), np.issubdtype(sp.dtype.as_numpy_dtype, np.number),
                              None if sp.shape.ndims is None else tuple(d.value for d in sp.shape.dims))
                             for sp in self._specs]
        self._flat_tuple = isinstance(self._template, tuple) and not nest.is_namedtuple(self._template) and \
            all(leaf is None for leaf in self._template)

    def _iter(self, b, rt):
        op = self._variant.op
        args = [b.vals[t].item() if np.ndim(b.vals[t]) == 0 and b.vals[t].dtype == object else b.vals[t]
                for t in self._tensors]
        try:
            it = iter(self._gen(*args))
        except Exception as e:
            raise _py_error(e, op) from e
        while True:
            try:
                value = next(it)
            except StopIteration:
                return
            except Exception as e:
                raise _py_error(e, op) from e
            yield self._convert(value, op)

    def _convert(self, value, op) -> list:
        if self._flat_tuple and type(value) is tuple and len(value) == len(self._specs):
            leaves = value  # the common case (a tuple of arrays), without walking the structure
        elif self._template is not None:
            try:
                nest.assert_same_structure(self._template, value if isinstance(value, (tuple, dict))
                                           else value)
                leaves = nest.flatten(value)
            except (ValueError, TypeError, KeyError):
                leaves = None
            if leaves is None or len(leaves) != len(self._specs):
                raise _py_error(TypeError(
                    f"`generator` yielded an element that did not match the expected structure. The expected "
                    f"structure was {self.output_types}, but the yielded element was {value}."), op)
        else:
            leaves = [value]
        # Each leaf as TF's py_func converts it (`FuncRegistry._convert`): numeric types with numpy's casting
        # rules (`np.asarray(value).astype(dtype)`: floats truncate, ints wrap), others with
        # `np.asarray(value, dtype)`.
        out = []
        for leaf, spec, (want, numeric, dims) in zip(leaves, self._specs, self._conversions):
            try:
                arr = np.asarray(leaf).astype(want) if numeric else np.array(leaf, dtype=want)  # a copy: the
                # generator may reuse its buffer while this element waits in a shuffle buffer or queue
            except (ValueError, TypeError):
                raise _py_error(TypeError(
                    f"`generator` yielded an element that could not be converted to the expected type. The "
                    f"expected type was {spec.dtype.name}, but the yielded element was {leaf}."), op) from None
            except Exception as e:  # e.g. OverflowError for a Python int beyond int64: UnknownError, as TF
                raise _py_error(e, op) from e
            if spec.dtype == _dt.string:
                arr = _as_bytes(arr, op)
            if dims is not None and (len(dims) != arr.ndim or any(d is not None and d != n
                                                                  for d, n in zip(dims, arr.shape))):
                raise _py_error(TypeError(
                    f"`generator` yielded an element of shape {arr.shape} where an element of shape "
                    f"{tuple(spec.shape.as_tuple_or_none())} was expected."), op)
            out.append(arr)
        return out


def _as_bytes(arr: np.ndarray, op) -> np.ndarray:
    """A string component's elements as bytes (str is UTF-8 encoded); other objects fail as in TF."""
    out = np.empty(arr.shape, dtype=object)
    for index, item in np.ndenumerate(arr):
        if isinstance(item, (bytes, np.bytes_)):
            out[index] = bytes(item)
        elif isinstance(item, str):
            out[index] = item.encode("utf-8")
        else:
            raise errors.InternalError(None, op, f"Unsupported object type {type(item).__name__}")
    return out


# TF's default read buffer of TextLineDataset / FixedLengthRecordDataset (TFRecordDataset's default is -1)
_READER_BUFFER = 256 * 1024


def _or(value, default):
    """`value`, or `default` for None (the arguments may be tensors of an imported graph: no truth test)."""
    return default if value is None else value


def _filenames_tensor(filenames):
    t = convert_to_tensor(filenames, _dt.string, name="filenames")
    if t.shape.ndims not in (None, 0, 1):
        raise TypeError("`filenames` must be a `tf.Tensor` of `tf.string` with rank 0 or 1.")
    return t


class _FileDataset(Dataset):
    """A file reader over a scalar/vector of filenames, or over a Dataset of filenames."""

    def _files_input(self, filenames):
        """The filenames as TF records them: a `filenames` Const (created first), or a Dataset of names."""
        return filenames if isinstance(filenames, Dataset) else _filenames_tensor(filenames)

    def _iter(self, b, rt):
        """Files one after another; with `num_parallel_reads` > 1, records interleaved across that many
        open files, one at a time (TF's deterministic parallel interleave)."""
        files = self._files(b, rt)
        cycle = self._parallel
        if cycle <= 1:
            for path in files:
                yield from self._records(path, b)
            return
        open_ = [self._records(p, b) for p in itertools.islice(files, cycle)]
        k = 0
        while open_:
            k %= len(open_)
            try:
                yield next(open_[k])
                k += 1
            except StopIteration:
                nxt = next(files, None)
                if nxt is None:
                    del open_[k]
                else:
                    open_[k] = self._records(nxt, b)
                    k += 1

    def _init_files(self, filenames, extra: list, specs: list, num_parallel_reads=None):
        n = 1 if num_parallel_reads is None else int(num_parallel_reads)
        self._parallel = (os.cpu_count() or 1) if n == -1 else n
        if isinstance(filenames, Dataset):
            children, tensors = [filenames], list(extra)
        else:
            children, tensors = [], [filenames] + list(extra)
        self._files_from_dataset = bool(children)
        self._record(children, tensors, None, specs)

    def _files(self, b, rt):
        if self._files_from_dataset:
            for (name,) in b.children[0].ds._iter(b.children[0], rt):
                yield _str(name)
        else:
            for name in np.asarray(b.vals[self._tensors[0]], dtype=object).reshape(-1):
                yield _str(name)

    def _arg(self, b, k):
        return b.vals[self._tensors[k + (0 if self._files_from_dataset else 1)]]

    def _read(self, path: str, compression: str) -> bytes:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise errors.NotFoundError(None, self._variant.op, f"{path}; No such file or directory") from None
        try:
            if compression == "GZIP":
                return gzip.decompress(data)
            if compression == "ZLIB":
                return zlib.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise errors.DataLossError(None, self._variant.op, f"corrupted {compression} stream in {path}: {e}")
        return data


def _str(x) -> str:
    x = x.item() if isinstance(x, np.ndarray) else x
    return x.decode() if isinstance(x, bytes) else str(x)


def _compression(value) -> str:
    return _tfrecord._compression(_str(value) if value is not None else "")


class TextLineDataset(_FileDataset):
    """`tf.data.TextLineDataset(filenames, compression_type=None, buffer_size=None)`: one element per line."""
    _op_type = "TextLineDataset"

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        filenames = self._files_input(filenames)
        extra = [convert_to_tensor(_or(compression_type, ""), _dt.string, name="compression_type"),
                 convert_to_tensor(_READER_BUFFER if buffer_size is None else buffer_size, _dt.int64,
                                   name="buffer_size")]
        self._init_files(filenames, extra, [Spec(_dt.string, [])], num_parallel_reads)

    def _records(self, path, b):
        data = self._read(path, _compression(self._arg(b, 0)))
        lines = data.split(b"\n")
        if data.endswith(b"\n") or not data:  # a trailing newline does not start another line
            lines.pop()
        for line in lines:
            yield [np.array(line[:-1] if line.endswith(b"\r") else line, dtype=object)]


class FixedLengthRecordDataset(_FileDataset):
    _op_type = "FixedLengthRecordDatasetV2"

    def __init__(self, filenames, record_bytes, header_bytes=None, footer_bytes=None, buffer_size=None,
                 compression_type=None, num_parallel_reads=None, name=None):
        filenames = self._files_input(filenames)
        extra = [convert_to_tensor(_or(header_bytes, 0), _dt.int64, name="header_bytes"),
                 convert_to_tensor(record_bytes, _dt.int64, name="record_bytes"),
                 convert_to_tensor(_or(footer_bytes, 0), _dt.int64, name="footer_bytes"),
                 convert_to_tensor(_READER_BUFFER if buffer_size is None else buffer_size, _dt.int64,
                                   name="buffer_size"),
                 convert_to_tensor(_or(compression_type, ""), _dt.string, name="compression_type")]
        self._init_files(filenames, extra, [Spec(_dt.string, [])], num_parallel_reads)

    def _records(self, path, b):
        header, record, footer = (int(self._arg(b, k)) for k in range(3))
        data = self._read(path, _compression(self._arg(b, 4)))
        body = data[header:len(data) - footer]
        if len(body) % record:
            raise errors.InvalidArgumentError(
                None, self._variant.op,
                f"Excluding the header ({header} bytes) and footer ({footer} bytes), input file \"{path}\" "
                f"has body length {len(body)} bytes, which is not an exact multiple of the record length "
                f"({record} bytes).")
        for k in range(0, len(body), record):
            yield [np.array(body[k:k + record], dtype=object)]


class TFRecordDataset(_FileDataset):
    _op_type = "TFRecordDataset"

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        filenames = self._files_input(filenames)
        extra = [convert_to_tensor(_or(compression_type, ""), _dt.string, name="compression_type"),
                 convert_to_tensor(-1 if buffer_size is None else buffer_size, _dt.int64, name="buffer_size")]
        self._init_files(filenames, extra, [Spec(_dt.string, [])], num_parallel_reads)

    def _records(self, path, b):
        try:
            for record in _tfrecord.read_records(path, _compression(self._arg(b, 0))):
                yield [np.array(record, dtype=object)]
        except errors.OpError as e:
            raise type(e)(None, self._variant.op, e.message) from None


class MatchingFilesDataset(Dataset):
    _op_type = "MatchingFilesDataset"

    def __init__(self, patterns):
        t = convert_to_tensor(patterns, _dt.string, name="file_pattern")
        self._record([], [t], None, [Spec(_dt.string, [])])

    def _iter(self, b, rt):
        names = []
        for pattern in np.asarray(b.vals[self._tensors[0]], dtype=object).reshape(-1):
            pattern = _str(pattern)
            found = sorted(glob.glob(pattern))
            if not found:
                raise errors.InvalidArgumentError(None, self._variant.op,
                                                  f"Expected 'tf.Tensor(False, shape=(), dtype=bool)' to be true. "
                                                  f"Summarized data: b'No files matched pattern: {pattern}'")
            names += found
        for name in names:
            yield [np.array(name.encode(), dtype=object)]
