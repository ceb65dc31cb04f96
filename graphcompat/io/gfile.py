"""`tf.io.gfile` on the local file system, with TensorFlow's semantics, error classes and texts.

Mirrors tensorflow/python/lib/io/file_io.py over TF's POSIX file system: a `GFile` opens its file
lazily (a `"w"` file that is never written is never created; `"r+"` writes truncate, as in TF),
reads return `str` in text mode and `bytes` in binary mode without newline translation, and every
failure is a `tf.errors` class with TF's message (`"<path>; No such file or directory"`,
`"file already exists"`, `"Could not find directory <path>"` ...). Paths may be str, bytes or
path-like, optionally `file://...`; other schemes raise `UnimplementedError` as an unregistered
scheme does in TF. `tf.gfile` (graphcompat/gfile.py) exposes the same functions under TF1's names.
"""
from __future__ import annotations

import os
import posixpath
import re
import shutil
from typing import Iterable, Iterator, Optional, Union

from graphcompat.formats.errors import io_error
from graphcompat.formats.localfs import as_str, create_dir, local_path, recursively_create_dir
from graphcompat.framework import errors

__all__ = ["GFile", "copy", "exists", "get_registered_schemes", "glob", "isdir", "join", "listdir", "makedirs",
           "mkdir", "remove", "rename", "rmtree", "stat", "walk"]

PathLike = Union[str, bytes, os.PathLike]
_MODES = ("r", "w", "a", "r+", "w+", "a+")


def _as_bytes(value, encoding: str = "utf-8") -> bytes:
    """TF's `compat.as_bytes`: bytes-like objects as they are, str encoded, anything else a TypeError."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {value!r}")


class GFile:
    """`tf.io.gfile.GFile(name, mode="r")` (also `tf.gfile.GFile`, `tf.gfile.Open`).

    Modes `r`, `w`, `a`, `r+`, `w+`, `a+`, each optionally with `b`. The file is opened on the first
    read or write (errors surface then); reading and writing use separate handles as in TF.
    """

    def __init__(self, name: PathLike, mode: str = "r", encoding: str = "utf-8") -> None:
        self._name = name
        self._mode = mode
        self._encoding = encoding
        self._binary = "b" in mode
        base = mode.replace("b", "")
        if base not in _MODES:
            raise errors.InvalidArgumentError(None, None, "mode is not 'r' or 'w' or 'a' or 'r+' or 'w+' or 'a+'")
        self._readable = base in ("r", "r+", "a+", "w+")
        self._writable = base in ("a", "w", "r+", "a+", "w+")
        self._append = "a" in base
        self._reader = None
        self._writer = None

    @property
    def name(self):
        """The file name, as given."""
        return self._name

    @property
    def mode(self) -> str:
        """The mode the file was opened with."""
        return self._mode

    # -- opening -----------------------------------------------------------------------------------
    def _open(self, mode: str):
        try:
            return open(local_path(self._name), mode)
        except OSError as exc:
            raise io_error(as_str(self._name), exc) from None

    def _read_handle(self):
        if self._reader is None:
            if not self._readable:
                raise errors.PermissionDeniedError(None, None, "File isn't open for reading")
            self._reader = self._open("rb")
        return self._reader

    def _write_handle(self):
        if self._writer is None:
            if not self._writable:
                raise errors.PermissionDeniedError(None, None, "File isn't open for writing")
            self._writer = self._open("ab" if self._append else "wb")
        return self._writer

    def _value(self, data: bytes):
        return data if self._binary else data.decode(self._encoding)

    def _io(self, operation, *args):
        try:
            return operation(*args)
        except OSError as exc:
            raise io_error(as_str(self._name), exc) from None

    # -- reading -----------------------------------------------------------------------------------
    def size(self) -> int:
        """The size of the file on disk."""
        return stat(self._name).length

    def read(self, n: int = -1):
        """`n` bytes (or characters' bytes in text mode) from the current position; all when `n == -1`."""
        reader = self._read_handle()
        length = self.size() - self.tell() if n == -1 else n
        return self._value(self._io(reader.read, max(length, 0)))

    def readline(self):
        """The next line with its newline; empty at the end of the file."""
        return self._value(self._io(self._read_handle().readline))

    def readlines(self) -> list:
        lines = []
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)

    def __iter__(self) -> "GFile":
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def next(self):
        return self.__next__()

    def seek(self, offset: Optional[int] = None, whence: int = 0, position: Optional[int] = None) -> None:
        """Moves the read position (`whence` 0: from the start, 1: from here, 2: from the end)."""
        reader = self._read_handle()
        if offset is None and position is None:
            raise TypeError("seek(): offset argument required")
        if offset is not None and position is not None:
            raise TypeError("seek(): offset and position may not be set simultaneously.")
        if position is not None:
            offset = position
        if whence == 1:
            offset += self.tell()
        elif whence == 2:
            offset += self.size()
        elif whence != 0:
            raise errors.InvalidArgumentError(None, None, f"Invalid whence argument: {whence}. Valid values are 0, "
                                                          f"1, or 2.")
        if offset < 0:
            raise errors.InvalidArgumentError(None, None, f"Seeking to a negative position: {offset}")
        end = self._io(os.fstat, reader.fileno()).st_size
        self._io(reader.seek, min(offset, end))
        if offset > end:  # TF's input stream stops at the end of the file and says so
            raise errors.OutOfRangeError(None, None, "reached end of file")

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        """The read position (or, for write-only modes, the write position)."""
        if self._readable:
            return self._read_handle().tell()
        return self._write_handle().tell()

    # -- writing -----------------------------------------------------------------------------------
    def write(self, file_content) -> None:
        """Appends `file_content` (str or bytes, in either mode) at the write position."""
        writer = self._write_handle()
        self._io(writer.write, _as_bytes(file_content, self._encoding))

    def flush(self) -> None:
        """Hands written data to the operating system (it survives a crash of this process)."""
        if self._writer is not None:
            self._io(self._writer.flush)

    def close(self) -> None:
        """Closes the file; a later read or write opens it again (from the start, as in TF)."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        writer, self._writer = self._writer, None
        if writer is not None:
            self._io(writer.close)

    def __enter__(self) -> "GFile":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<gfile.GFile name={as_str(self._name)!r} mode={self._mode!r}>"


class FastGFile(GFile):
    """`tf.gfile.FastGFile` (deprecated in TF: use `tf.gfile.GFile`)."""


class FileStatistics:
    """What `tf.io.gfile.stat` returns: `length`, `mtime_nsec` (whole seconds, as TF) and `is_directory`."""

    def __init__(self, length: int = -1, mtime_nsec: int = 0, is_directory: bool = False) -> None:
        self.length = length
        self.mtime_nsec = mtime_nsec
        self.is_directory = is_directory

    def __repr__(self) -> str:
        return (f"FileStatistics(length={self.length}, mtime_nsec={self.mtime_nsec}, "
                f"is_directory={self.is_directory})")


# ------------------------------------------------------------------------------------------------
# Functions
# ------------------------------------------------------------------------------------------------
def exists(path: PathLike) -> bool:
    """`tf.io.gfile.exists`: whether a file or directory exists."""
    return os.path.exists(local_path(path))


def isdir(path: PathLike) -> bool:
    """`tf.io.gfile.isdir`: whether `path` is a directory (False on any error, as TF)."""
    try:
        return os.path.isdir(local_path(path))
    except errors.OpError:
        return False


def remove(path: PathLike) -> None:
    """`tf.io.gfile.remove`: deletes a file (NotFoundError if missing, FailedPreconditionError for a directory)."""
    try:
        os.remove(local_path(path))
    except OSError as exc:
        raise io_error(as_str(path), exc) from None


def mkdir(path: PathLike) -> None:
    """`tf.io.gfile.mkdir`: creates a directory whose parent exists (an existing path is fine, as in TF)."""
    create_dir(path)


def makedirs(path: PathLike) -> None:
    """`tf.io.gfile.makedirs`: creates a directory and its missing parents."""
    recursively_create_dir(path)


def rename(src: PathLike, dst: PathLike, overwrite: bool = False) -> None:
    """`tf.io.gfile.rename`: moves a file or directory; AlreadyExistsError if `dst` exists and not `overwrite`."""
    source, target = local_path(src), local_path(dst)
    if not overwrite and os.path.exists(target):
        raise errors.AlreadyExistsError(None, None, "file already exists")
    try:
        os.rename(source, target)
    except OSError as exc:
        raise io_error(as_str(src), exc) from None  # TF names the source, whatever went wrong


def copy(src: PathLike, dst: PathLike, overwrite: bool = False) -> None:
    """`tf.io.gfile.copy`: copies a file's bytes; AlreadyExistsError if `dst` exists and not `overwrite`."""
    source, target = local_path(src), local_path(dst)
    if not overwrite and os.path.exists(target):
        raise errors.AlreadyExistsError(None, None, "file already exists")
    try:
        source_is_directory = os.path.isdir(source)
        os.stat(source)
    except OSError as exc:
        raise io_error(as_str(src), exc) from None
    if source_is_directory:  # TF's sendfile() fails on a directory (it leaves an empty target behind; we don't)
        raise errors.InvalidArgumentError(None, None, f"{as_str(dst)}; Invalid argument")
    if os.path.exists(target) and os.path.samefile(source, target):
        return  # copying a file onto itself leaves it as it is
    try:
        reader = open(source, "rb")
    except OSError as exc:
        raise io_error(as_str(src), exc) from None
    with reader:
        try:
            with open(target, "wb") as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)
        except OSError as exc:
            raise io_error(as_str(dst), exc) from None


def rmtree(path: PathLike) -> None:
    """`tf.io.gfile.rmtree`: deletes a directory and everything under it (or a single file)."""
    name, local = as_str(path), local_path(path)
    if not os.path.lexists(local):
        raise errors.NotFoundError(None, None, f"{name} not found")
    try:
        if os.path.isdir(local) and not os.path.islink(local):
            shutil.rmtree(local)
        else:
            os.remove(local)
    except OSError as exc:
        raise io_error(exc.filename or name, exc) from None


def listdir(path: PathLike) -> list[str]:
    """`tf.io.gfile.listdir`: the names in a directory (without "." and ".."), in no particular order."""
    if not isdir(path):
        raise errors.NotFoundError(None, None, f"Could not find directory {as_str(path)}")
    try:
        return os.listdir(local_path(path))
    except OSError as exc:
        raise io_error(as_str(path), exc) from None


def stat(path: PathLike) -> FileStatistics:
    """`tf.io.gfile.stat`: size, modification time (in whole seconds, as ns) and whether a directory."""
    try:
        result = os.stat(local_path(path))
    except OSError as exc:
        raise io_error(as_str(path), exc) from None
    return FileStatistics(length=result.st_size, mtime_nsec=int(result.st_mtime) * 1_000_000_000,
                          is_directory=os.path.isdir(local_path(path)))


def join(path: PathLike, *paths: PathLike) -> str:
    """`tf.io.gfile.join`: URLs (`scheme://...`) joined with "/", local paths with `os.path.join`."""
    first = as_str(path)
    if "://" in first[1:]:
        return posixpath.join(first, *(as_str(p) for p in paths))
    return os.path.join(first, *(as_str(p) for p in paths))


def walk(top: PathLike, topdown: bool = True, onerror=None) -> Iterator[tuple[str, list[str], list[str]]]:
    """`tf.io.gfile.walk`: (directory, subdirectories, files) for `top` and every directory below it."""
    top = as_str(top)
    try:
        listing = listdir(top)
    except errors.NotFoundError as err:
        if onerror:
            onerror(err)
        return
    files, subdirs = [], []
    for item in listing:
        (subdirs if isdir(_walk_join(top, item)) else files).append(item)
    here = (top, subdirs, files)
    if topdown:
        yield here
    for subdir in subdirs:
        yield from walk(_walk_join(top, subdir), topdown, onerror=onerror)
    if not topdown:
        yield here


def _walk_join(parent: str, item: str) -> str:
    if item.startswith(os.sep):
        return join(parent, "") + item
    return join(parent, item)


def get_registered_schemes() -> list[str]:
    """`tf.io.gfile.get_registered_schemes`: graphcompat has the local file system ("" and "file")."""
    return ["", "file"]


# ------------------------------------------------------------------------------------------------
# glob: TF's GetMatchingPaths (tsl/platform/file_system_helper.cc)
# ------------------------------------------------------------------------------------------------
_GLOB_CHARS = "*?[\\"


def glob(pattern: Union[PathLike, Iterable[PathLike]]) -> list[str]:
    """`tf.io.gfile.glob`: the paths matching a pattern (or each of an iterable of patterns).

    `*` and `?` match within one path component (hidden files included), `[...]`/`[^...]` a set,
    `\\` escapes. A relative pattern without a directory matches as `./pattern` (so results start
    with "./"), as in TF. Results of one pattern are sorted (TF's order is unspecified).
    """
    if isinstance(pattern, str):
        return _glob_one(pattern)
    out = []
    for single in pattern:
        if not isinstance(single, (str, bytes, os.PathLike)):
            raise TypeError(f"Expected binary or unicode string, got {single!r}")
        out += _glob_one(single)
    return out


def _glob_one(pattern: PathLike) -> list[str]:
    name = as_str(pattern)
    local = local_path(pattern)
    scheme = name[:len(name) - len(local)]
    return [scheme + path for path in _matching_paths(local)]


def _tf_dirname(path: str) -> str:
    cut = path.rfind("/")
    return "" if cut < 0 else "/" if cut == 0 else path[:cut]


def _tf_join(directory: str, name: str) -> str:
    if not directory:
        return name
    return directory + name if directory.endswith("/") else f"{directory}/{name}"


def _has_glob(text: str) -> bool:
    return any(c in text for c in _GLOB_CHARS)


def _matching_paths(pattern: str) -> list[str]:
    if not pattern:
        return []
    fixed = pattern[:min((pattern.index(c) for c in _GLOB_CHARS if c in pattern), default=len(pattern))]
    patched = pattern if _tf_dirname(fixed) else _tf_join(".", pattern)
    directory = _tf_dirname(patched) if pattern.endswith("/") else patched
    levels = []  # the pattern's directory prefixes, root first
    while directory:
        levels.append(directory)
        parent = _tf_dirname(directory)
        if parent == directory:
            break
        directory = parent
    levels.reverse()
    first = next((i for i, level in enumerate(levels) if _has_glob(level)), len(levels))
    if first == len(levels):
        return [pattern] if os.path.exists(pattern) else []
    results, frontier = [], [levels[first - 1]]
    for index in range(first, len(levels)):
        matcher = _component_matcher(levels[index])
        next_frontier = []
        for parent in frontier:
            try:
                children = os.listdir(parent)
            except OSError:
                continue
            for child in sorted(children):
                path = _tf_join(parent, child)
                if not matcher(path):
                    continue
                if index == len(levels) - 1:
                    results.append(path)
                elif os.path.isdir(path):
                    next_frontier.append(path)
        frontier = next_frontier
    return results


def _component_matcher(pattern: str):
    """fnmatch(pattern, path, FNM_PATHNAME) as a predicate: wildcards never match "/"."""
    regex = re.compile(_fnmatch_regex(pattern), re.DOTALL)
    return lambda path: regex.fullmatch(path) is not None


def _fnmatch_regex(pattern: str) -> str:
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i < n:
            out.append(re.escape(pattern[i]))
            i += 1
        elif c == "[":
            parsed = _bracket(pattern, i)
            if parsed is None:
                out.append(re.escape(c))
            else:
                regex, i = parsed
                out.append(regex)
        else:
            out.append(re.escape(c))
    return "".join(out)


def _bracket(pattern: str, start: int):
    """The regex of a `[...]` set starting after its `[` and the index after its `]`, or None if unclosed."""
    i, n = start, len(pattern)
    negate = i < n and pattern[i] in "!^"
    if negate:
        i += 1
    items, first = [], True
    while i < n and (pattern[i] != "]" or first):
        first = False
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            i += 1
            c = pattern[i]
        if i + 2 < n and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            high = pattern[i + 2]
            items.append(f"{re.escape(c)}-{re.escape(high)}")
            i += 3
        else:
            items.append(re.escape(c))
            i += 1
    if i >= n:
        return None
    body = "".join(items)
    regex = f"[^/{body}]" if negate else f"(?!/)[{body}]"
    return regex, i + 1
