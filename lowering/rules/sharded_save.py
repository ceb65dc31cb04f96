"""Lowerings of graphcompat/ops/sharded_save_ops.py: host rules (files; the string ops are in strings.py)."""
from __future__ import annotations

import os

import numpy as np

from graphcompat import formats
from graphcompat.framework import errors
from lowering.registry import lowers


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _strings(value) -> np.ndarray:
    return np.asarray(value, dtype=object)


@lowers("ShardedFilename", host=True)
def sharded_filename(basename, shard, num_shards, **_):
    return np.asarray(f"{_text(np.asarray(basename).reshape(-1)[0])}-{int(shard):05d}-of-{int(num_shards):05d}"
                      .encode(), dtype=object)


@lowers("ShardedFilespec", host=True)
def sharded_filespec(basename, num_shards, **_):
    return np.asarray(f"{_text(np.asarray(basename).reshape(-1)[0])}-?????-of-{int(num_shards):05d}".encode(),
                      dtype=object)


@lowers("MergeV2Checkpoints", context=True, host=True)
def merge_v2_checkpoints(ctx, op, prefixes, destination):
    """Merges the shards' bundles into one under `destination`, then deletes the shards (and, with
    `delete_old_dirs`, their now empty directories), as TF's MergeV2Checkpoints."""
    sources = [_text(p) for p in _strings(prefixes).reshape(-1)]
    destination = _text(np.asarray(destination).reshape(-1)[0])
    merged: dict = {}
    for prefix in sources:
        if not os.path.exists(formats.bundle.index_filename(prefix)):
            if op.attrs.get("allow_missing_files", False):
                continue
            raise errors.NotFoundError(None, op, f"{formats.bundle.index_filename(prefix)}; No such file or "
                                       "directory")
        reader = formats.BundleReader(prefix)
        # TF renames the shards' data files, so the merged data keeps each shard's layout: read the keys in
        # data-file order.
        for key in sorted(reader.keys(), key=lambda k: (reader._entry(k).shard_id, reader._entry(k).offset)):
            if key in merged:
                raise errors.InvalidArgumentError(None, op, f"Duplicate tensor key {key} in {prefix}")
            merged[key] = reader.get_tensor(key)
    formats.write_bundle(destination, merged, keep_order=True)
    for prefix in sources:
        for path in [formats.bundle.index_filename(prefix)] + [
                os.path.join(os.path.dirname(prefix) or ".", f) for f in os.listdir(os.path.dirname(prefix) or ".")
                if f.startswith(os.path.basename(prefix) + ".data-")]:
            if os.path.exists(path) and os.path.abspath(path) != os.path.abspath(destination):
                os.remove(path)
        directory = os.path.dirname(prefix)
        if op.attrs.get("delete_old_dirs", True) and directory and os.path.isdir(directory) \
                and not os.listdir(directory):
            os.rmdir(directory)
    return None
