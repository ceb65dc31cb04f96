"""JAX's persistent compilation cache, on by default: a second process, a re-run script or a restarted
notebook loads the executables it compiled before instead of compiling them again.

    GRAPHCOMPAT_COMPILATION_CACHE=0        off
    GRAPHCOMPAT_COMPILATION_CACHE=/a/dir   use that directory
    (unset)                                $XDG_CACHE_HOME/graphcompat/xla, else ~/.cache/graphcompat/xla

A cache directory holds compiled machine code that this process will run, so it must be trusted: it is
created private (0700) and refused — with one warning line, the cache left off — when it is not a
directory owned by this user that only this user can write. A cache the user configured for JAX itself
(`jax_compilation_cache_dir`, `JAX_COMPILATION_CACHE_DIR`) is left as it is. With the `filelock` package
installed, JAX keeps the cache under 1 GiB (least recently used entries go first); without it the cache
is unbounded (delete the directory to reclaim the space).
"""
from __future__ import annotations

import os
import stat
import sys
from typing import Optional

import jax

_OFF = ("0", "false", "no", "off", "")

directory: Optional[str] = None   # the directory in use, or None when off


def _default_directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "graphcompat", "xla")


def _private_directory(path: str) -> bool:
    """Creates `path` 0700 if missing; True when it is a directory of ours that nobody else can write."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.stat(path)
    except OSError as err:
        print(f"graphcompat: compilation cache off: cannot create {path} ({err})", file=sys.stderr)
        return False
    if not stat.S_ISDIR(info.st_mode):
        print(f"graphcompat: compilation cache off: {path} is not a directory", file=sys.stderr)
        return False
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
        print(f"graphcompat: compilation cache off: {path} is not private to this user (it holds code this "
              "process would run); make it 0700 and yours, or set GRAPHCOMPAT_COMPILATION_CACHE",
              file=sys.stderr)
        return False
    return True


def _have_filelock() -> bool:
    """JAX bounds the cache's size only with the `filelock` package (not a dependency of ours)."""
    try:
        import filelock  # noqa: F401
        return True
    except ImportError:
        return False


def enable() -> Optional[str]:
    """Turns the cache on as the environment says; returns the directory in use (None: off)."""
    global directory
    setting = os.environ.get("GRAPHCOMPAT_COMPILATION_CACHE")
    if setting is not None and setting.strip().lower() in _OFF:
        return None
    if jax.config.jax_compilation_cache_dir:  # the user configured JAX's cache: theirs to manage
        directory = jax.config.jax_compilation_cache_dir
        return directory
    path = os.path.abspath(os.path.expanduser(setting)) if setting else _default_directory()
    if not _private_directory(path):
        return None
    jax.config.update("jax_compilation_cache_dir", path)
    # graphcompat's plans are small and many: cache every executable, not only slow compiles
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    if jax.config.jax_compilation_cache_max_size == -1 and _have_filelock():
        jax.config.update("jax_compilation_cache_max_size", 1 << 30)  # least recently used go past 1 GiB
    directory = path
    return path


enable()
