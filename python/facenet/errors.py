"""Exceptions raised by facenet: one class per fn_status of the C library.

Every exception carries the library's sentence (fn_last_error(): it names
the file or thing and what is wrong) as its message, the status name in
`.status` (e.g. "FN_ERR_IO") and the sentence alone in `.sentence`.
The classes also derive from the matching built-in exception, so
`except OSError` catches an unreadable file and `except ValueError` a bad
argument or a damaged file.
"""
from __future__ import annotations

from . import _lib


class FacenetError(Exception):
    """Any failure reported by libfacenet.  .status: the fn_status name;
    .code: its number; .sentence: the library's sentence."""
    status = "FN_ERR_INTERNAL"
    code = 11

    def __init__(self, sentence: str, *args):
        super().__init__(sentence, *args)
        self.sentence = sentence

    def __str__(self) -> str:
        return self.sentence


class InvalidArgument(FacenetError, ValueError):
    """FN_ERR_ARG: something passed was invalid (a non-RGB image, an option out of range)."""
    status, code = "FN_ERR_ARG", 1


class FileError(FacenetError, OSError):
    """FN_ERR_IO: a file could not be opened, read or written."""
    status, code = "FN_ERR_IO", 2

    def __str__(self) -> str:   # OSError's own __str__ would show the args tuple
        return self.sentence


class FormatError(FacenetError, ValueError):
    """FN_ERR_FORMAT: a file is not what it claims, or is truncated or corrupt."""
    status, code = "FN_ERR_FORMAT", 3


class UnsupportedError(FacenetError, ValueError):
    """FN_ERR_UNSUPPORTED: a valid file using a feature facenet does not handle (e.g. a GIF)."""
    status, code = "FN_ERR_UNSUPPORTED", 4


class LimitError(FacenetError, ValueError):
    """FN_ERR_LIMIT: the input exceeds a safety limit (image size, tensor size)."""
    status, code = "FN_ERR_LIMIT", 5


class OutOfMemory(FacenetError, MemoryError):
    """FN_ERR_NOMEM."""
    status, code = "FN_ERR_NOMEM", 6


class ModelError(FacenetError):
    """FN_ERR_MODEL: the weights do not fit the network (missing tensor, wrong shape)."""
    status, code = "FN_ERR_MODEL", 7


class GalleryError(FacenetError):
    """FN_ERR_DB: the gallery database failed (not a gallery, damaged, locked)."""
    status, code = "FN_ERR_DB", 8


class MismatchError(FacenetError):
    """FN_ERR_MISMATCH: e.g. a gallery built with another model than the engine's."""
    status, code = "FN_ERR_MISMATCH", 9


class NotFound(FacenetError, LookupError):
    """FN_ERR_NOT_FOUND: no such person, an empty gallery, nothing enrolled."""
    status, code = "FN_ERR_NOT_FOUND", 10


class InternalError(FacenetError):
    """FN_ERR_INTERNAL: a bug in libfacenet."""
    status, code = "FN_ERR_INTERNAL", 11


class Unavailable(FacenetError, ConnectionError):
    """FN_ERR_UNAVAILABLE: a server the call needs (a PostgreSQL gallery's
    database) cannot be reached now; retry later."""
    status, code = "FN_ERR_UNAVAILABLE", 12


class NoFaceError(FacenetError, ValueError):
    """Raised by the Python layer (not a library status) when a call needs a
    face and the detector found none in the image (e.g. verify, Gallery.add)."""
    status, code = "no face", -1


_BY_CODE = {c.code: c for c in (InvalidArgument, FileError, FormatError, UnsupportedError, LimitError,
                                OutOfMemory, ModelError, GalleryError, MismatchError, NotFound, InternalError,
                                Unavailable)}


def error_for(status: int, prefix: str | None = None) -> FacenetError:
    """The exception for a failed call's status, with fn_last_error()'s
    sentence (read now: call this right after the failing call, on its
    thread)."""
    sentence = _lib.last_error() or f"{_lib.STATUS_NAMES[status] if 0 <= status < len(_lib.STATUS_NAMES) else status}"
    if prefix:
        sentence = f"{prefix}: {sentence}"
    return _BY_CODE.get(status, InternalError)(sentence)


def check(status: int, prefix: str | None = None) -> None:
    """Raise the exception for status unless it is FN_OK."""
    if status != _lib.FN_OK:
        raise error_for(status, prefix)
