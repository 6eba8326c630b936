"""Errors raised by :mod:`rnnscope.sweep`."""

from __future__ import annotations

from rnnscope.errors import RnnscopeError

__all__ = ["SweepError", "SweepSpecError"]


class SweepError(RnnscopeError, ValueError):
    """A sweep cannot run (bad output folder, unreachable scheduler, failed points).

    Examples
    --------
    >>> issubclass(SweepError, ValueError)
    True
    """


class SweepSpecError(SweepError):
    r"""A sweep SPEC file is malformed: the message names the file, the key and the bad value.

    Examples
    --------
    >>> from rnnscope.sweep import parse_spec
    >>> try:
    ...     parse_spec("[task]\nname = 'digits'\n[grid]\nkind = []\n", source="s.toml")
    ... except SweepSpecError as err:
    ...     print(err)
    s.toml: grid.kind is an empty list, so the sweep has no points
    """
