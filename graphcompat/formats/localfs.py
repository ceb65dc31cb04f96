"""The local file system as TensorFlow's POSIX file system sees it: paths, schemes, directories.

Shared by the format writers (event files create their log directory like TF's) and ``tf.gfile``.
Paths may be ``str``, ``bytes`` or path-like, with or without the ``file://`` scheme; any other
scheme raises TF's ``UnimplementedError`` (graphcompat has only the local file system). Failures
raise TF's classes and texts (``errors.io_error``).
"""

from __future__ import annotations

import os
import re

from .errors import FailedPreconditionError, UnimplementedError, io_error

_SCHEME = re.compile(r"^([a-zA-Z][0-9a-zA-Z.]*)://")


def as_str(path) -> str:
    """``path`` (str, bytes or path-like) as a str, unchanged otherwise (the name TF's errors show)."""
    path = os.fspath(path)
    return path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else path


def local_path(path) -> str:
    """The local path of ``path`` (``file://`` stripped); other schemes raise ``UnimplementedError``."""
    path = as_str(path)
    match = _SCHEME.match(path)
    if not match:
        return path
    if match.group(1) == "file":
        return path[match.end():]
    raise UnimplementedError(None, None, f"File system scheme '{match.group(1)}' not implemented "
                                         f"(file: '{path}')")


def create_dir(path) -> None:
    """TF's ``CreateDir`` as ``tf.io.gfile.mkdir`` calls it: an existing path is not an error."""
    name = as_str(path)
    local = local_path(path)
    if not local:
        return
    try:
        os.mkdir(local)
    except FileExistsError:
        pass
    except OSError as exc:
        raise io_error(name, exc) from None


def recursively_create_dir(path) -> None:
    """TF's ``RecursivelyCreateDir``: creates missing parents; an existing non-directory on the way
    raises ``FailedPreconditionError("<that path> is not a directory")``."""
    name = as_str(path)
    local = local_path(path)
    prefix = name[:len(name) - len(local)]  # "file://" or ""
    missing: list[str] = []
    current = local
    while current:
        if os.path.exists(current):
            if not os.path.isdir(current):
                raise FailedPreconditionError(None, None, f"{prefix}{current} is not a directory")
            break
        if not current.endswith("/"):
            missing.append(os.path.basename(current))
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    built = current
    for part in reversed(missing):
        built = os.path.join(built, part) if built else part
        try:
            os.mkdir(built)
        except FileExistsError:
            pass
        except OSError as exc:
            raise io_error(prefix + built, exc) from None
