"""Pipeline nodes of tf.data's host-only sources: the file readers (TextLineDataset, TFRecordDataset,
FixedLengthRecordDatasetV2), MatchingFilesDataset and GeneratorDataset. They are walked on the host (a
background thread prefetches; see lowering/rules/data.py)."""
from __future__ import annotations

import glob
import gzip
import zlib

import numpy as np

from graphcompat.formats import _tfrecord
from graphcompat.framework import errors, func_registry
from lowering.data.pipeline import Node, pipeline_node


def _str(x) -> str:
    x = x.item() if isinstance(x, np.ndarray) else x
    return x.decode() if isinstance(x, bytes) else str(x)


def _compression(value) -> str:
    return _tfrecord._compression(_str(value) if value is not None else "")


class _FileReader(Node):
    """A TF reader op over its `filenames` tensor (one name in TF's `read_one_file`; any number when a
    graph calls the op directly): the files' records one file after another."""
    n_children = 0

    def _iter(self, b, rt):
        for name in np.asarray(b.vals[self._tensors[0]], dtype=object).reshape(-1):
            yield from self._records(_str(name), b)

    def _arg(self, b, k):
        return b.vals[self._tensors[k + 1]]

    def _read(self, path: str, compression: str) -> bytes:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise errors.NotFoundError(None, self._op, f"{path}; No such file or directory") from None
        try:
            if compression == "GZIP":
                return gzip.decompress(data)
            if compression == "ZLIB":
                return zlib.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise errors.DataLossError(None, self._op, f"corrupted {compression} stream in {path}: {e}")
        return data


@pipeline_node("TextLineDataset")
class TextLineNode(_FileReader):
    """TF's `TextLineDataset` op (filenames, compression_type, buffer_size): one element per line."""

    def _records(self, path, b):
        data = self._read(path, _compression(self._arg(b, 0)))
        lines = data.split(b"\n")
        if data.endswith(b"\n") or not data:  # a trailing newline does not start another line
            lines.pop()
        for line in lines:
            yield [np.array(line[:-1] if line.endswith(b"\r") else line, dtype=object)]


@pipeline_node("FixedLengthRecordDatasetV2")
class FixedLengthRecordNode(_FileReader):
    """TF's `FixedLengthRecordDatasetV2` op (filenames, header_bytes, record_bytes, footer_bytes,
    buffer_size, compression_type)."""

    def _records(self, path, b):
        header, record, footer = (int(self._arg(b, k)) for k in range(3))
        data = self._read(path, _compression(self._arg(b, 4)))
        body = data[header:len(data) - footer]
        if len(body) % record:
            raise errors.InvalidArgumentError(
                None, self._op,
                f"Excluding the header ({header} bytes) and footer ({footer} bytes), input file \"{path}\" "
                f"has body length {len(body)} bytes, which is not an exact multiple of the record length "
                f"({record} bytes).")
        for k in range(0, len(body), record):
            yield [np.array(body[k:k + record], dtype=object)]


@pipeline_node("TFRecordDataset")
class TFRecordNode(_FileReader):
    """TF's `TFRecordDataset` op (filenames, compression_type, buffer_size)."""

    def _records(self, path, b):
        try:
            for record in _tfrecord.read_records(path, _compression(self._arg(b, 0))):
                yield [np.array(record, dtype=object)]
        except errors.OpError as e:
            raise type(e)(None, self._op, e.message) from None


@pipeline_node("MatchingFilesDataset")
class MatchingFilesNode(Node):
    n_children = 0

    def _iter(self, b, rt):
        names = []
        for pattern in np.asarray(b.vals[self._tensors[0]], dtype=object).reshape(-1):
            pattern = _str(pattern)
            found = sorted(glob.glob(pattern))
            if not found:
                raise errors.InvalidArgumentError(None, self._op,
                                                  f"Expected 'tf.Tensor(False, shape=(), dtype=bool)' to be true. "
                                                  f"Summarized data: b'No files matched pattern: {pattern}'")
            names += found
        for name in names:
            yield [np.array(name.encode(), dtype=object)]


@pipeline_node("GeneratorDataset")
class GeneratorNode(Node):
    """`Dataset.from_generator`: the Python generator is a callable of this process, registered for the op
    by the front end (framework/func_registry.py, as py_func's callables); it yields converted elements."""
    n_children = 0

    def _iter(self, b, rt):
        elements = func_registry.op_callable(self._op)
        if elements is None:  # a GraphDef written by another process names a generator this one lacks
            raise NotImplementedError(f"GeneratorDataset '{self._op.name}': its Python generator is not "
                                      "registered in this process")
        return elements([b.vals[t] for t in self._tensors])
