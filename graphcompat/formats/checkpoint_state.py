"""The ``checkpoint`` state file: a ``CheckpointState`` in protobuf text format.

Mirrors tensorflow/python/checkpoint/checkpoint_management.py: relative paths are stored
relative to the directory and joined with it on read; the file is replaced atomically and fsynced
(``durable.atomic_write``), so after a crash it names the old or the new checkpoints, never a mix.
"""

from __future__ import annotations

import os
import warnings
from typing import Sequence

from google.protobuf import text_format

from .durable import atomic_write  # (meta graph writers import it from here too)
from .protos import CheckpointState

DEFAULT_FILENAME = "checkpoint"


def checkpoint_state_proto(save_dir: str, model_checkpoint_path: str,
                           all_model_checkpoint_paths: Sequence[str] | None = None,
                           all_model_checkpoint_timestamps: Sequence[float] | None = None,
                           last_preserved_timestamp: float | None = None) -> CheckpointState:
    """Builds the state; the newest path is appended to ``all_model_checkpoint_paths`` if missing."""
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    if all_model_checkpoint_timestamps and len(all_model_checkpoint_timestamps) != len(paths):
        raise ValueError(f"Checkpoint timestamps, if provided, must match checkpoint paths "
                         f"({len(all_model_checkpoint_timestamps)} vs {len(paths)})")
    if not os.path.isabs(save_dir):
        # With a relative directory, relative paths are rewritten relative to that directory.
        if not os.path.isabs(model_checkpoint_path):
            model_checkpoint_path = os.path.relpath(model_checkpoint_path, save_dir)
        paths = [p if os.path.isabs(p) else os.path.relpath(p, save_dir) for p in paths]
    state = CheckpointState(model_checkpoint_path=model_checkpoint_path,
                            all_model_checkpoint_paths=paths,
                            all_model_checkpoint_timestamps=all_model_checkpoint_timestamps or [])
    if last_preserved_timestamp is not None:
        state.last_preserved_timestamp = last_preserved_timestamp
    return state


def update_checkpoint_state(save_dir: str, model_checkpoint_path: str,
                            all_model_checkpoint_paths: Sequence[str] | None = None,
                            latest_filename: str | None = None,
                            all_model_checkpoint_timestamps: Sequence[float] | None = None,
                            last_preserved_timestamp: float | None = None,
                            save_relative_paths: bool = False) -> None:
    """Writes ``<save_dir>/<latest_filename or "checkpoint">`` atomically."""
    path = os.path.join(save_dir, latest_filename or DEFAULT_FILENAME)
    paths = list(all_model_checkpoint_paths or [])
    if save_relative_paths:
        def strip(p: str) -> str:
            return os.path.relpath(p, save_dir) if os.path.isabs(p) else p
        model_checkpoint_path, paths = strip(model_checkpoint_path), [strip(p) for p in paths]
    state = checkpoint_state_proto(save_dir, model_checkpoint_path, paths,
                                   all_model_checkpoint_timestamps, last_preserved_timestamp)
    if path == state.model_checkpoint_path:
        raise RuntimeError(f"Save path '{model_checkpoint_path}' conflicts with path used for "
                           f"checkpoint state.  Please use a different save path.")
    atomic_write(path, text_format.MessageToString(state))


def get_checkpoint_state(checkpoint_dir: str, latest_filename: str | None = None) -> CheckpointState | None:
    """The state with relative paths joined to ``checkpoint_dir``; None if absent or unparseable."""
    path = os.path.join(checkpoint_dir, latest_filename or DEFAULT_FILENAME)
    try:
        with open(path, encoding="utf-8") as file:
            content = file.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:  # unreadable: TF logs it and ignores the file
        warnings.warn(f"{path}: {exc}: Checkpoint ignored")
        return None
    state = CheckpointState()
    try:
        text_format.Merge(content, state)
    except text_format.ParseError as exc:
        warnings.warn(f"{path}: {exc}: Checkpoint ignored")
        return None
    if not state.model_checkpoint_path:
        raise ValueError("Invalid checkpoint state loaded from " + checkpoint_dir)
    if not os.path.isabs(state.model_checkpoint_path):
        state.model_checkpoint_path = os.path.join(checkpoint_dir, state.model_checkpoint_path)
    for i, p in enumerate(state.all_model_checkpoint_paths):
        if not os.path.isabs(p):
            state.all_model_checkpoint_paths[i] = os.path.join(checkpoint_dir, p)
    return state


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None) -> str | None:
    """The newest checkpoint prefix if its files exist (``.index`` for V2, the path or, for a sharded V1
    checkpoint, the pattern ``<prefix>-?????-of-NNNNN`` for V1: TF globs both)."""
    from .checkpoint_v1 import matching_files
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None:
        return None
    prefix = state.model_checkpoint_path
    if matching_files(prefix + ".index") or matching_files(prefix):
        return prefix
    warnings.warn(f"Couldn't match files for checkpoint {prefix}")
    return None
