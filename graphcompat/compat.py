"""Running programs written for TensorFlow 1.x unmodified, and `tf.compat`.

- `install_as_tensorflow()` makes `import tensorflow as tf`, `import tensorflow.compat.v1 as tf` and
  `from tensorflow.<namespace> import <name>` resolve to graphcompat (a `sys.meta_path` finder plus
  `sys.modules` aliases). `python -m graphcompat program.py args…` installs it and runs the program.
- `missing(module_name, attr)` is what the namespaces' module-level `__getattr__` call for a TF symbol
  graphcompat lacks: a clear `NotImplementedError` naming it ("tf.foo.bar is not implemented by
  graphcompat"). The error class also derives from AttributeError (ImportError for modules), so
  `hasattr(tf, "x")`, `getattr(tf, "x", default)` and `try: import … except ImportError` keep working.
- `tf.compat.v1` is graphcompat itself; `tf.compat.v2` is not supported.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Optional, Union


# What `tf.__version__` / `tf.VERSION` report: the TF API graphcompat implements (1.15), with a local
# version label so that programs comparing versions see a 1.x TensorFlow and people see graphcompat.
TF_API_VERSION = "1.15.0+graphcompat"


class MissingSymbolError(NotImplementedError, AttributeError):
    """A TensorFlow API graphcompat does not implement."""


class MissingModuleError(NotImplementedError, ModuleNotFoundError):
    """A TensorFlow module graphcompat does not implement."""

    def __init__(self, message: str, name: Optional[str] = None):
        super().__init__(message)
        self.name = name


def public_name(module_name: str) -> str:
    """`graphcompat.image` → `tf.image` (the name a TF user knows)."""
    if module_name == "graphcompat":
        return "tf"
    if module_name.startswith("graphcompat."):
        return "tf." + module_name[len("graphcompat."):]
    if module_name == "tensorflow" or module_name.startswith("tensorflow."):
        return "tf" + module_name[len("tensorflow"):]
    return module_name


def missing(module_name: str, attr: str):
    """Raises for `module_name.attr`: AttributeError for dunder/private names, else MissingSymbolError.

    Namespace modules use it as `def __getattr__(name): return missing(__name__, name)`.
    """
    if attr.startswith("_"):
        raise AttributeError(f"module {module_name!r} has no attribute {attr!r}")
    raise MissingSymbolError(f"{public_name(module_name)}.{attr} is not implemented by graphcompat")


# ------------------------------------------------------------------------------------------------
# tf.compat
# ------------------------------------------------------------------------------------------------
def as_bytes(bytes_or_text: Union[bytes, str], encoding: str = "utf-8") -> bytes:
    if isinstance(bytes_or_text, bytearray):
        return bytes(bytes_or_text)
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


def as_text(bytes_or_text: Union[bytes, str], encoding: str = "utf-8") -> str:
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text.decode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


as_str = as_text
as_str_any = lambda value: value.decode() if isinstance(value, bytes) else str(value)  # noqa: E731


def path_to_str(path) -> str:
    import os
    return os.fspath(path)


def forward_compatible(year: int, month: int, day: int) -> bool:
    return True


class _Unsupported(types.ModuleType):
    """`tf.compat.v2`: every attribute is a clear NotImplementedError."""

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        raise MissingSymbolError(f"tf.compat.v2.{name} is not implemented by graphcompat: graphcompat runs "
                                 "TensorFlow 1.x graph-mode programs (use tf.compat.v1)")


v2 = _Unsupported("graphcompat.compat.v2")


def __getattr__(name):
    if name == "v1":  # resolved lazily: graphcompat/__init__ imports this module while initializing
        return sys.modules["graphcompat"]
    return missing(__name__, name)


# ------------------------------------------------------------------------------------------------
# Standing in for `tensorflow`
# ------------------------------------------------------------------------------------------------
def _resolve(fullname: str):
    """The graphcompat module/object for a `tensorflow…` module name; raises MissingModuleError."""
    import graphcompat
    parts = fullname.split(".")[1:]
    if parts[:2] == ["compat", "v1"]:
        parts = parts[2:]
    elif parts[:2] == ["compat", "v2"]:
        if len(parts) == 2:
            return v2
        raise MissingModuleError(f"tf.{'.'.join(parts)} is not implemented by graphcompat", name=fullname)
    obj = graphcompat
    path = "graphcompat"
    for part in parts:
        path += "." + part
        try:
            obj = importlib.import_module(path)
            continue
        except ModuleNotFoundError as err:
            if err.name != path and not isinstance(err, MissingModuleError):
                raise  # a real import error inside an existing module
        try:
            obj = getattr(obj, part)
        except AttributeError:
            # name=None: `from tensorflow import keras` must report this error, not have the import
            # system swallow it and fall back to "cannot import name 'keras'".
            raise MissingModuleError(f"{public_name(path.replace('graphcompat', 'tensorflow', 1))} is not "
                                     f"implemented by graphcompat (import of {fullname!r})") from None
        if not isinstance(obj, types.ModuleType):
            raise MissingModuleError(f"{fullname!r} is not a module ({public_name(fullname)} is a "
                                     f"{type(obj).__name__})", name=fullname)
    return obj


class _AliasLoader(importlib.abc.Loader):
    """Hands back an already-imported graphcompat module under a `tensorflow…` name."""

    def __init__(self, module):
        self._module = module
        self._spec = getattr(module, "__spec__", None)

    def create_module(self, spec):
        return self._module

    def exec_module(self, module):
        # The import system has just set `module.__spec__` to the alias spec: keep the module's own.
        module.__spec__ = self._spec


class TensorFlowAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves `tensorflow` and `tensorflow.*` imports to graphcompat modules."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname.startswith("graphcompat.") and path is not None:
            # `from tensorflow import keras` looks for `graphcompat.keras` (the aliased module's real
            # name): say that TF module is missing instead of a bare "cannot import name".
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is None:
                raise MissingModuleError(f"{public_name(fullname)} is not implemented by graphcompat")
            return spec
        if fullname != "tensorflow" and not fullname.startswith("tensorflow."):
            return None
        module = _resolve(fullname)
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module),
                                              is_package=hasattr(module, "__path__") or fullname == "tensorflow")


_finder: Optional[TensorFlowAliasFinder] = None


def install_as_tensorflow() -> None:
    """Makes `import tensorflow` (and `tensorflow.compat.v1`, `tensorflow.<namespace>`) give graphcompat.

    Any real TensorFlow modules already imported are replaced in `sys.modules` (objects created from
    them before this call are not converted).
    """
    global _finder
    import graphcompat
    for name in [n for n in sys.modules if n == "tensorflow" or n.startswith("tensorflow.")]:
        del sys.modules[name]
    if _finder is None:
        _finder = TensorFlowAliasFinder()
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    sys.modules["tensorflow"] = graphcompat
    sys.modules["tensorflow.compat"] = sys.modules[__name__]
    sys.modules["tensorflow.compat.v1"] = graphcompat
    sys.modules["tensorflow.compat.v2"] = v2


def uninstall_as_tensorflow() -> None:
    """Undoes `install_as_tensorflow` (the aliases and the import hook)."""
    if _finder is not None and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    import graphcompat
    for name in [n for n in sys.modules if n == "tensorflow" or n.startswith("tensorflow.")]:
        del sys.modules[name]


# ------------------------------------------------------------------------------------------------
# TF1's v2-behaviour switches (graphcompat is always TF1 graph mode)
# ------------------------------------------------------------------------------------------------
def disable_v2_behavior() -> None:
    """No-op: graphcompat always behaves as TF 1.x."""


def disable_eager_execution() -> None:
    """No-op: graphcompat is always in graph mode."""


def disable_control_flow_v2() -> None:
    """No-op."""


def disable_resource_variables() -> None:
    """`tf.disable_resource_variables`: variables are TF1 RefVariables by default (graphcompat.variables)."""
    from graphcompat.variables import disable_resource_variables as disable
    disable()


def enable_resource_variables() -> None:
    """`tf.enable_resource_variables`: new variables are ResourceVariables by default (graphcompat.variables)."""
    from graphcompat.variables import enable_resource_variables as enable
    enable()


def disable_tensor_equality() -> None:
    """No-op: Tensors compare by identity, as in TF1."""


def disable_v2_tensorshape() -> None:
    """No-op: TensorShape indexing returns Dimensions, as in TF1."""


def executing_eagerly() -> bool:
    return False


def _no_v2(symbol: str):
    def fail(*args, **kwargs):
        raise NotImplementedError(f"tf.{symbol} is not implemented by graphcompat: graphcompat runs TensorFlow "
                                  "1.x graph mode only")
    fail.__name__ = symbol
    return fail


enable_eager_execution = _no_v2("enable_eager_execution")
enable_v2_behavior = _no_v2("enable_v2_behavior")
enable_control_flow_v2 = _no_v2("enable_control_flow_v2")
