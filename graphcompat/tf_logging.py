"""`tf.logging` (TF1): Python logging under TF's names, on the `tensorflow` logger."""
from __future__ import annotations

import logging as _logging
import sys as _sys

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
WARNING = _logging.WARNING
ERROR = _logging.ERROR
FATAL = _logging.FATAL

_logger = _logging.getLogger("tensorflow")
if not _logger.handlers:
    _handler = _logging.StreamHandler(_sys.stderr)
    _handler.setFormatter(_logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    _logger.addHandler(_handler)
    _logger.propagate = False
    _logger.setLevel(WARN)


def get_logger() -> _logging.Logger:
    return _logger


def set_verbosity(v: int) -> None:
    _logger.setLevel(v)


def get_verbosity() -> int:
    return _logger.getEffectiveLevel()


def log(level: int, msg, *args, **kwargs) -> None:
    _logger.log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs) -> None:
    _logger.debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs) -> None:
    _logger.info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs) -> None:
    _logger.warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs) -> None:
    _logger.error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs) -> None:
    _logger.fatal(msg, *args, **kwargs)


_counts: dict = {}


def log_every_n(level: int, msg, n: int, *args) -> None:
    key = (msg, level)
    count = _counts.get(key, 0)
    _counts[key] = count + 1
    if count % n == 0:
        _logger.log(level, msg, *args)


def log_first_n(level: int, msg, n: int, *args) -> None:
    key = ("first", msg, level)
    count = _counts.get(key, 0)
    _counts[key] = count + 1
    if count < n:
        _logger.log(level, msg, *args)


def log_if(level: int, msg, condition, *args) -> None:
    if condition:
        _logger.log(level, msg, *args)


def vlog(level: int, msg, *args, **kwargs) -> None:
    """`tf.logging.vlog`: logs at the numeric `level` (TF's absl-backed vlog does the same)."""
    _logger.log(level, msg, *args, **kwargs)


def flush() -> None:
    """`tf.logging.flush`: flushes the `tensorflow` logger's handlers."""
    for handler in _logger.handlers:
        handler.flush()


def TaskLevelStatusMessage(msg) -> None:  # noqa: N802 (TF's name)
    """`tf.logging.TaskLevelStatusMessage`: TF logs the message as an error."""
    error(msg)


def __getattr__(name):
    from graphcompat.compat import missing
    return missing("graphcompat.logging", name)
