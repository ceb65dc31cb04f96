"""Crash-safe file replacement, and the hook tests use to stop a save at each of its steps.

A file is replaced by writing a temporary file next to it, flushing it to the disk (fsync), renaming
it over the target (atomic on POSIX) and flushing the directory, so that after a crash, a kill or a
power loss the target holds either its old or its new content, never a mix. Temporary names follow
TF's: ``<path>.tempstate<64-bit number>`` for checkpoint bundles, ``<path>.tmp<uuid hex>`` for whole
files (TF's ``atomic_write_string_to_file``); ``remove_temporaries`` deletes those an interrupted
writer left behind.

``crash_point(step)`` marks each instant of a multi-file save at which a crash would leave a
distinct set of files on disk. It does nothing unless a test installs a hook with ``crash_hook``
(to snapshot the directory, or to kill the process, right there).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import uuid
from typing import Callable, Iterator

from .errors import io_error

_crash_hooks: list[Callable[[str], None]] = []

# Names of temporary files: TF's bundle writer's and atomic_write's conventions.
TEMPORARY_NAME = re.compile(r"\.(tempstate\d+|tmp[0-9a-f]{32})$")


def crash_point(step: str) -> None:
    """Calls the installed test hooks with ``step`` (a name such as ``"bundle: index committed"``)."""
    for hook in list(_crash_hooks):
        hook(step)


@contextlib.contextmanager
def crash_hook(hook: Callable[[str], None]) -> Iterator[None]:
    """Installs ``hook`` for the block: it is called at every ``crash_point`` reached."""
    _crash_hooks.append(hook)
    try:
        yield
    finally:
        _crash_hooks.remove(hook)


def bundle_temp_name(path: str) -> str:
    """TF's BundleWriter temporary name for ``path``."""
    return f"{path}.tempstate{secrets.randbits(64)}"


def file_temp_name(path: str) -> str:
    """TF's ``atomic_write_string_to_file`` temporary name for ``path``."""
    return f"{path}.tmp{uuid.uuid4().hex}"


def fsync_file(file) -> None:
    """Flushes a file object's buffers to the disk."""
    file.flush()
    os.fsync(file.fileno())


def fsync_directory(directory: str) -> None:
    """Makes the renames and deletions done in ``directory`` durable (a no-op where unsupported)."""
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a directory; the rename is still atomic there
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, data: bytes | str) -> None:
    """Replaces ``path`` with ``data`` so that it holds the old or the new content after any crash.

    Raises TF's I/O error class (``NotFoundError`` for a missing directory ...) naming the file.
    """
    temp = file_temp_name(path)
    try:
        with open(temp, "wb") as file:
            file.write(data.encode("utf-8") if isinstance(data, str) else data)
            fsync_file(file)
        os.replace(temp, path)
    except OSError as exc:
        _remove_quietly(temp)
        raise io_error(exc.filename or path, exc) from None
    except Exception:
        _remove_quietly(temp)
        raise
    fsync_directory(os.path.dirname(path))


def remove_temporaries(directory: str, stem: str) -> None:
    """Deletes temporary files of interrupted writers whose names start with ``stem`` in ``directory``."""
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return
    for name in names:
        if name.startswith(stem) and TEMPORARY_NAME.search(name):
            _remove_quietly(os.path.join(directory, name))


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
