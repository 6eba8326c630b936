"""Exceptions raised by :mod:`models`.

Every error subclasses :class:`ModelsError` and a builtin exception, so callers can catch either
the package-specific class or the builtin one (``ValueError``, ``TypeError``, ``ArithmeticError``).
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "FolderInUseError",
    "InputShapeError",
    "InvalidOptionError",
    "ModelsError",
    "TrainingDivergedError",
    "UnknownKindError",
    "UnknownTaskError",
    "UnsupportedModelError",
]


class ModelsError(Exception):
    """Base class of every error raised by :mod:`models`."""


class InvalidOptionError(ModelsError, ValueError):
    """A model option has an unknown name or a value outside its allowed range.

    Examples
    --------
    >>> import models
    >>> try:
    ...     models.build("rnn", input_size=2, hidden_size=4, output_size=3, init="bogus")
    ... except models.errors.InvalidOptionError as err:
    ...     print(type(err).__name__)
    InvalidOptionError
    """


class InputShapeError(ModelsError, ValueError):
    """A tensor passed to a model has the wrong shape (inputs, or an override matrix)."""


class UnknownKindError(ModelsError, ValueError):
    """The requested model kind does not exist; the message lists the valid kinds."""


class UnknownTaskError(ModelsError, ValueError):
    """The requested task name does not exist; the message lists the valid names."""


class CheckpointError(ModelsError, ValueError):
    """A checkpoint cannot be read, is incomplete, or contains nothing recognisable."""


class FolderInUseError(ModelsError, ValueError):
    """Another process (or another run in this one) is writing into the same folder.

    The message names the folder and the process holding its lock file.
    """


class UnsupportedModelError(ModelsError, TypeError):
    """The model does not support the requested operation (for example ``lipschitz_parts``)."""


class TrainingDivergedError(ModelsError, ArithmeticError):
    """Training produced a non-finite loss or non-finite weights."""
