"""Names of a namespace module that load on first use (PEP 562), so `import graphcompat` does not pay for
modules most programs never touch (training loops, notebook rendering).

A lazy name behaves as an eager one: `tf.train.Supervisor`, `from graphcompat.train import Supervisor`
and `dir(tf.train)` all see it. Only modules that register nothing (no `defop`, no lowering rule, no
folder) may be lazy: the op registry must be complete once `import graphcompat` returns.
"""
from __future__ import annotations

import importlib
import sys
from typing import Callable


def exports(module_name: str, table: dict, fallback: Callable[[str], object]):
    """`(__getattr__, __dir__)` for `module_name`, whose names in `table` (name -> (module, attribute or
    None for the module itself)) are imported on first access and then stored as plain globals.
    Other unknown names go to `fallback` (the namespace's TF-style "not supported" error)."""

    def __getattr__(name: str):
        target = table.get(name)
        if target is None:
            return fallback(name)
        source, attr = target
        value = importlib.import_module(source)
        if attr is not None:
            value = getattr(value, attr)
        setattr(sys.modules[module_name], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[module_name])) | set(table))

    return __getattr__, __dir__


def names_of(module: str, attributes: str, module_as: str | None = None) -> dict:
    """Table entries for `exports`: each of the space-separated `attributes` of `module`, and the module
    itself under the name `module_as` when given."""
    table = {name: (module, name) for name in attributes.split()}
    if module_as is not None:
        table[module_as] = (module, None)
    return table
