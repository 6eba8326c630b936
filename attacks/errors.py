"""Exceptions raised by the attacks package.

Every error names the bad value, shape or model type. They subclass the
builtin :class:`ValueError` or :class:`TypeError`, so callers that catch the
builtins keep working.
"""

from __future__ import annotations

__all__ = [
    "AttackInputError",
    "AttacksError",
    "UnknownAttackError",
    "UnsupportedModelError",
]


class AttacksError(Exception):
    """Base class of every error raised by :mod:`attacks`."""


class AttackInputError(AttacksError, ValueError):
    """Inputs, labels, bounds, epsilons or settings that cannot be attacked.

    Examples
    --------
    >>> raise AttackInputError("expected x with 3 dimensions (B, T, F), got shape (4, 12)")
    Traceback (most recent call last):
    ...
    attacks.errors.AttackInputError: expected x with 3 dimensions (B, T, F), got shape (4, 12)
    """


class UnknownAttackError(AttacksError, ValueError):
    """An attack or norm name that is not available.

    Examples
    --------
    >>> raise UnknownAttackError("unknown attack 'pgdd'; available: bim, cw, deepfool")
    Traceback (most recent call last):
    ...
    attacks.errors.UnknownAttackError: unknown attack 'pgdd'; available: bim, cw, deepfool
    """


class UnsupportedModelError(AttacksError, TypeError):
    """A model that the requested analysis cannot handle.

    Examples
    --------
    >>> raise UnsupportedModelError("certified_radius does not support model kind 'lstm'")
    Traceback (most recent call last):
    ...
    attacks.errors.UnsupportedModelError: certified_radius does not support model kind 'lstm'
    """
