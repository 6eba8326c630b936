"""Errors raised by :mod:`rnnscope`.

Every error subclasses :class:`RnnscopeError` and a builtin (:class:`ValueError`), so the command
line can report it as bad input with exit code 2 and callers can still catch the builtin.
"""

from __future__ import annotations

__all__ = ["BadOptionError", "OutputPathError", "RnnscopeError"]


class RnnscopeError(Exception):
    """Base class of every error raised by :mod:`rnnscope`.

    Examples
    --------
    >>> issubclass(BadOptionError, RnnscopeError) and issubclass(BadOptionError, ValueError)
    True
    """


class BadOptionError(RnnscopeError, ValueError):
    """A command-line option has a malformed or out-of-range value.

    Examples
    --------
    >>> from rnnscope.options import parse_floats
    >>> try:
    ...     parse_floats("0.1,-1", name="--eps")
    ... except BadOptionError as err:
    ...     print(err)
    --eps must be positive finite numbers, got -1.0
    """


class OutputPathError(RnnscopeError, ValueError):
    """An output path cannot be written (missing or read-only folder, wrong suffix).

    Examples
    --------
    >>> from rnnscope.files import check_output_file
    >>> try:
    ...     check_output_file("figure.jpg", suffixes=(".svg",))
    ... except OutputPathError as err:
    ...     print(err)
    output 'figure.jpg' must end in one of .svg (got '.jpg')
    """
