"""`tf.gfile` (TF1's names for `tf.io.gfile`, graphcompat/io/gfile.py): the local file system with
TensorFlow's semantics, error classes and texts."""
from __future__ import annotations

from graphcompat.io import gfile as _gfile
from graphcompat.io.gfile import FastGFile, GFile  # noqa: F401

Open = GFile
Copy = _gfile.copy
Exists = _gfile.exists
Glob = _gfile.glob
IsDirectory = _gfile.isdir
ListDirectory = _gfile.listdir
MakeDirs = _gfile.makedirs
MkDir = _gfile.mkdir
Remove = _gfile.remove
Rename = _gfile.rename
Stat = _gfile.stat


def DeleteRecursively(dirname) -> None:  # noqa: N802 (TF's name)
    """`tf.gfile.DeleteRecursively`: `tf.io.gfile.rmtree`."""
    _gfile.rmtree(dirname)


def Walk(top, in_order: bool = True):  # noqa: N802 (TF's name)
    """`tf.gfile.Walk(top, in_order=True)`: `tf.io.gfile.walk` (pre-order when `in_order`, else post-order)."""
    return _gfile.walk(top, in_order)


__all__ = ["Copy", "DeleteRecursively", "Exists", "FastGFile", "GFile", "Glob", "IsDirectory", "ListDirectory",
           "MakeDirs", "MkDir", "Open", "Remove", "Rename", "Stat", "Walk"]
