"""Errors raised by the file-format layer: TensorFlow's own ``tf.errors`` classes with TF's texts.

Every reader and writer in ``graphcompat.formats`` fails the way TF's C++ code does: the class is
the status code TF returns (``DataLossError`` for a bad checksum or a damaged table,
``NotFoundError`` for a missing file, ``FailedPreconditionError`` for a directory where a file
should be ...) and the message is TF's status message, so callers (``tf.train.summary_iterator``,
``RestoreV2``, ``tf.gfile``) let them propagate unchanged.

``io_error`` maps an ``OSError`` as TF's ``errors::IOError`` does: ``"<path>; <strerror>"`` with the
class from TF's errno table (tsl/platform/errors.cc).
"""

from __future__ import annotations

import errno
import os

from graphcompat.framework.errors import (AbortedError, AlreadyExistsError, CancelledError,  # noqa: F401
                                          DataLossError, DeadlineExceededError, FailedPreconditionError,
                                          InternalError, InvalidArgumentError, NotFoundError, OpError,
                                          OutOfRangeError, PermissionDeniedError, ResourceExhaustedError,
                                          UnavailableError, UnimplementedError, UnknownError)

# The base class every formats error derives from (kept for callers that catch "any format error").
FormatError = OpError


def data_loss(message: str) -> DataLossError:
    return DataLossError(None, None, message)


def not_found(message: str) -> NotFoundError:
    return NotFoundError(None, None, message)


def invalid_argument(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(None, None, message)


def _errno_classes() -> dict[int, type]:
    table = {
        InvalidArgumentError: "EINVAL ENAMETOOLONG E2BIG EDESTADDRREQ EDOM EFAULT EILSEQ ENOPROTOOPT ENOSTR "
                              "ENOTSOCK ENOTTY EPROTOTYPE ESPIPE",
        DeadlineExceededError: "ETIMEDOUT ETIME",
        NotFoundError: "ENODEV ENOENT ENXIO ESRCH",
        AlreadyExistsError: "EEXIST EADDRNOTAVAIL EALREADY",
        PermissionDeniedError: "EPERM EACCES EROFS",
        FailedPreconditionError: "ENOTEMPTY EISDIR ENOTDIR EADDRINUSE EBADF EBUSY ECHILD EISCONN ENOTBLK "
                                 "ENOTCONN EPIPE ESHUTDOWN ETXTBSY",
        ResourceExhaustedError: "ENOSPC EDQUOT EMFILE EMLINK ENFILE ENOBUFS ENODATA ENOMEM ENOSR EUSERS",
        OutOfRangeError: "EFBIG EOVERFLOW ERANGE",
        UnimplementedError: "ENOSYS ENOTSUP EAFNOSUPPORT EPFNOSUPPORT EPROTONOSUPPORT ESOCKTNOSUPPORT EXDEV",
        UnavailableError: "EAGAIN ECONNREFUSED ECONNABORTED ECONNRESET EINTR EHOSTDOWN EHOSTUNREACH ENETDOWN "
                          "ENETRESET ENETUNREACH ENOLCK ENOLINK ENONET",
        AbortedError: "EDEADLK ESTALE",
        CancelledError: "ECANCELED",
    }
    return {getattr(errno, name): cls for cls, names in table.items() for name in names.split()
            if hasattr(errno, name)}


_ERRNO_CLASSES = _errno_classes()


def io_error(context: str, exc: OSError | int) -> OpError:
    """TF's ``errors::IOError(context, errno)``: ``"<context>; <strerror>"`` with TF's class for errno."""
    number = exc if isinstance(exc, int) else exc.errno
    if number is None:  # an OSError raised without an errno (rare): keep its own text
        return UnknownError(None, None, f"{context}; {exc}")
    return _ERRNO_CLASSES.get(number, UnknownError)(None, None, f"{context}; {os.strerror(number)}")
