"""Errors and warnings raised by :mod:`spectra`.

Every error subclasses a builtin (:class:`ValueError` or :class:`TypeError`) so that callers
who do not know this package can still catch it, and every message names the bad shape or
value.
"""

from __future__ import annotations

__all__ = [
    "EmptyMatrixError",
    "GridTooLargeError",
    "IllConditionedWarning",
    "NonFiniteError",
    "NonNumericError",
    "NonSquareError",
    "NotConvergedWarning",
    "ShapeMismatchError",
    "SpectraError",
]


class SpectraError(Exception):
    """Base class of all errors raised by :mod:`spectra`."""


class NonSquareError(SpectraError, ValueError):
    """A matrix argument is not a square 2-D array."""


class EmptyMatrixError(SpectraError, ValueError):
    """A matrix argument has no entries."""


class NonFiniteError(SpectraError, ValueError):
    """A matrix argument contains NaN or infinite entries."""


class NonNumericError(SpectraError, TypeError):
    """A matrix argument is not numeric (strings, objects, booleans)."""


class ShapeMismatchError(SpectraError, ValueError):
    """Two arguments that must belong together have different shapes."""


class GridTooLargeError(SpectraError, ValueError):
    """A pseudospectrum grid would not fit in memory."""


class IllConditionedWarning(RuntimeWarning):
    """A result is numerically unreliable (e.g. an ill-conditioned eigenvector basis)."""


class NotConvergedWarning(RuntimeWarning):
    """An iterative method stopped before reaching its tolerance."""
