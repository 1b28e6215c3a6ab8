"""Errors Sanad raises: each message says what is wrong and what to do next."""

from __future__ import annotations


class SanadError(Exception):
    """Base class for every error Sanad raises on purpose."""


class ModelError(SanadError):
    """A model is missing, corrupt or failed to load."""


class InputError(SanadError):
    """A question, file or setting given by the user cannot be used as it is."""


class IndexError_(SanadError):
    """Base class for problems with the on-disk index (named so it does not shadow the builtin)."""


class IndexMissingError(IndexError_):
    """No index exists at the given folder."""


class IndexCorruptError(IndexError_):
    """The index files exist but cannot be read or disagree with each other."""


class IndexMismatchError(IndexError_):
    """The index was built with another model or other settings than the ones in use."""


class IndexWriteError(IndexError_):
    """A new index version could not be written (disk full, permissions); the previous one is still live."""


class GenerationError(SanadError):
    """The language model failed or timed out while answering."""


class AccessError(SanadError):
    """A write was refused: no or a wrong write token, the server is read-only, or an unsafe bind was asked for."""


class BusyError(SanadError):
    """Too many questions are waiting for the language model; ``position`` is where this one would have been."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message)
        self.position = position
