"""The per-process registry of py_func callables (TF's `script_ops.FuncRegistry`).

A `PyFunc`/`PyFuncStateless`/`EagerPyFunc` node carries only its string `token` attr; the callable is
found here by that token when the op runs. As in TF, the registry holds weak references and the graph
that uses a callable holds the strong one (`Graph._py_funcs_used_in_graph`), so a callable lives as long
as a graph that calls it. A GraphDef imported into another process names tokens this process never
registered: running such a node fails as TF's does ("callback pyfunc_0 is not found").
"""
from __future__ import annotations

import threading
import weakref
from typing import Callable, Optional


class FuncRegistry:
    """token -> callable, weakly held."""

    def __init__(self):
        self._lock = threading.Lock()
        self._unique_id = 0
        self._funcs: "weakref.WeakValueDictionary[str, Callable]" = weakref.WeakValueDictionary()

    def insert(self, func: Callable) -> str:
        """Registers `func`; returns its unique token (`pyfunc_<n>`, TF's spelling)."""
        with self._lock:
            token = f"pyfunc_{self._unique_id}"
            self._unique_id += 1
        self._funcs[token] = func
        return token

    def remove(self, token: str) -> None:
        self._funcs.pop(token, None)

    def get(self, token: str, default: Optional[Callable] = None) -> Optional[Callable]:
        return self._funcs.get(token, default)

    def size(self) -> int:
        return len(self._funcs)


_py_funcs = FuncRegistry()


def register(func: Callable, graph) -> str:
    """Registers `func` for a node of `graph` (which keeps it alive); returns the token."""
    token = _py_funcs.insert(func)
    if not hasattr(graph, "_py_funcs_used_in_graph"):
        graph._py_funcs_used_in_graph = []
    graph._py_funcs_used_in_graph.append(func)
    return token


def lookup(token: str) -> Optional[Callable]:
    """The callable registered under `token`, or None."""
    return _py_funcs.get(token)


def bind_op_callable(op, func: Callable) -> None:
    """Registers `func` as the Python callable that op `op` runs (a `GeneratorDataset`'s generator, which
    graphcompat records without TF's py_func functions); held by the op's graph, as py_func callables."""
    op.graph._extras.setdefault("op_callables", {})[op] = func


def op_callable(op) -> Optional[Callable]:
    """The callable registered for `op`, or None (a graph imported from another process)."""
    return op.graph._extras.get("op_callables", {}).get(op)
