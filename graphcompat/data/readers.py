"""Host-only sources: `from_generator`, `list_files`, `TextLineDataset`, `FixedLengthRecordDataset`,
`TFRecordDataset`. They record TF's ops; lowering/data/readers.py walks them on the host (a background thread
prefetches; see lowering/rules/data.py). A generator is Python code of this process: its GeneratorDataset
op is bound to a callable that yields converted elements (framework/func_registry.py), as py_func's ops are.
"""
from __future__ import annotations

import os
import traceback

import numpy as np

from graphcompat.data import structure as nest
from graphcompat.data.dataset_ops import AUTOTUNE, Dataset, Spec
from graphcompat.data.transformations import FlatMapDataset, InterleaveDataset
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors, func_registry
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
        func_registry.bind_op_callable(self._variant.op, self._elements)

    def _elements(self, arg_values: list):
        """The generator's elements as flat lists of numpy arrays (TF's py_func conversions and errors);
        `arg_values`: the run-time values of the op's `args` inputs."""
        op = self._variant.op
        args = [v.item() if np.ndim(v) == 0 and v.dtype == object else v for v in arg_values]
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


def _filenames_dataset(filenames) -> Dataset:
    """TF's `_create_or_validate_filenames_dataset`: a dataset of scalar strings as it is, else the names
    flattened (`flat_filenames`) into a TensorSliceDataset marked `is_files`."""
    from graphcompat.data.sources import TensorSliceDataset
    from graphcompat.ops.array_ops import reshape
    if isinstance(filenames, Dataset):
        if len(filenames._specs) != 1 or filenames._specs[0].dtype != _dt.string:
            raise TypeError(f"The `filenames` argument must contain `tf.string` elements. Got a dataset of "
                            f"`{filenames.output_types!r}` elements.")
        shape = filenames._specs[0].shape
        if not shape.is_compatible_with([]):
            dims = "None" if shape.ndims is None else str(shape.as_list())  # TF 2's TensorShape repr
            raise TypeError(f"The `filenames` argument must contain `tf.string` elements of shape [] (i.e. "
                            f"scalars). Got a dataset of element shape TensorShape({dims}).")
        return filenames
    filenames = nest.map_structure(lambda f: os.fspath(f) if isinstance(f, os.PathLike) else f, filenames)
    t = convert_to_tensor(filenames, dtype_hint=_dt.string)
    if t.dtype != _dt.string:
        raise TypeError(f"The `filenames` argument must contain `tf.string` elements. Got `{t.dtype!r}` elements.")
    return TensorSliceDataset(reshape(t, [-1], name="flat_filenames"), is_files=True)


def _static(value):
    from graphcompat.framework.constant_op import constant_value
    from graphcompat.framework import ops as _ops
    if isinstance(value, _ops.Tensor):
        value = constant_value(value)
        if value is None:
            raise NotImplementedError("tf.data file readers: graphcompat needs a constant `num_parallel_reads`")
    return None if value is None else int(value)


class _ReaderPipeline(InterleaveDataset):
    """A public file reader (`tf.data.TextLineDataset` …) as TF records it: its reader op in a function
    `read_one_file` over a dataset of file names, by `flat_map`; with `num_parallel_reads` by the
    deterministic parallel interleave TF uses (one record of each open file in turn)."""

    def _init_pipeline(self, filenames, creator, num_parallel_reads) -> None:
        files = _filenames_dataset(filenames)

        def read_one_file(filename):
            return creator(convert_to_tensor(filename, _dt.string, name="filename"))

        n = _static(num_parallel_reads)
        if n is None:
            FlatMapDataset.__init__(self, files, read_one_file)
        elif n == AUTOTUNE:
            InterleaveDataset.__init__(self, files, read_one_file, num_parallel_calls=AUTOTUNE)
        else:
            InterleaveDataset.__init__(self, files, read_one_file, n, 1, legacy_parallel=True)


class _FileReader(Dataset):
    """A TF reader op over its `filenames` tensor (one name in TF's `read_one_file`; any number when an
    imported graph calls the op directly): the files' records one file after another."""


class _TextLineReader(_FileReader):
    """TF's `TextLineDataset` op: one element per line."""
    _op_type = "TextLineDataset"

    def __init__(self, filenames, compression_type=None, buffer_size=None):
        extra = [convert_to_tensor(_or(compression_type, ""), _dt.string, name="compression_type"),
                 convert_to_tensor(_READER_BUFFER if buffer_size is None else buffer_size, _dt.int64,
                                   name="buffer_size")]
        self._record([], [filenames] + extra, None, [Spec(_dt.string, [])])


class _FixedLengthRecordReader(_FileReader):
    """TF's `FixedLengthRecordDatasetV2` op."""
    _op_type = "FixedLengthRecordDatasetV2"

    def __init__(self, filenames, record_bytes, header_bytes=None, footer_bytes=None, buffer_size=None,
                 compression_type=None):
        record = convert_to_tensor(record_bytes, _dt.int64, name="record_bytes")  # created first, as TF's
        header = convert_to_tensor(_or(header_bytes, 0), _dt.int64, name="header_bytes")
        footer = convert_to_tensor(_or(footer_bytes, 0), _dt.int64, name="footer_bytes")
        buffer = convert_to_tensor(_READER_BUFFER if buffer_size is None else buffer_size, _dt.int64,
                                   name="buffer_size")
        compression = convert_to_tensor(_or(compression_type, ""), _dt.string, name="compression_type")
        self._record([], [filenames, header, record, footer, buffer, compression], None, [Spec(_dt.string, [])])


class _TFRecordReader(_FileReader):
    """TF's `TFRecordDataset` op."""
    _op_type = "TFRecordDataset"

    def __init__(self, filenames, compression_type=None, buffer_size=None):
        extra = [convert_to_tensor(_or(compression_type, ""), _dt.string, name="compression_type"),
                 convert_to_tensor(-1 if buffer_size is None else buffer_size, _dt.int64, name="buffer_size")]
        self._record([], [filenames] + extra, None, [Spec(_dt.string, [])])


class TextLineDataset(_ReaderPipeline):
    """`tf.data.TextLineDataset(filenames, compression_type=None, buffer_size=None, num_parallel_reads=None)`."""

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        self._init_pipeline(filenames, lambda f: _TextLineReader(f, compression_type, buffer_size),
                            num_parallel_reads)


class FixedLengthRecordDataset(_ReaderPipeline):
    """`tf.data.FixedLengthRecordDataset(filenames, record_bytes, header_bytes=None, footer_bytes=None, …)`."""

    def __init__(self, filenames, record_bytes, header_bytes=None, footer_bytes=None, buffer_size=None,
                 compression_type=None, num_parallel_reads=None, name=None):
        self._init_pipeline(filenames, lambda f: _FixedLengthRecordReader(
            f, record_bytes, header_bytes, footer_bytes, buffer_size, compression_type), num_parallel_reads)


class TFRecordDataset(_ReaderPipeline):
    """`tf.data.TFRecordDataset(filenames, compression_type=None, buffer_size=None, num_parallel_reads=None)`."""

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        self._init_pipeline(filenames, lambda f: _TFRecordReader(f, compression_type, buffer_size),
                            num_parallel_reads)


class MatchingFilesDataset(Dataset):
    _op_type = "MatchingFilesDataset"

    def __init__(self, patterns):
        t = convert_to_tensor(patterns, _dt.string, name="file_pattern")
        self._record([], [t], None, [Spec(_dt.string, [])])
