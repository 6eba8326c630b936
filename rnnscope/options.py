"""Parsing and validation of command-line option values (lists of numbers and names)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from rnnscope.errors import BadOptionError

__all__ = [
    "DEFAULT_MAX_SIZE",
    "SEED_MAX",
    "eps_key",
    "parse_choice",
    "parse_floats",
    "parse_names",
]

#: Default of ``--max-size``: the largest N of an N×N matrix (``models.formats.DEFAULT_MAX_SIZE``).
DEFAULT_MAX_SIZE = 4096

#: Largest seed accepted on the command line (the seed generators take 64-bit integers).
SEED_MAX = 2**63 - 1


def parse_floats(text: str, *, name: str, allow_zero: bool = False) -> list[float]:
    """Parse a comma-separated list of positive finite numbers.

    Parameters
    ----------
    text : str
        For example ``"1e-3,1e-2,1e-1"``.
    name : str
        Option name used in error messages (e.g. ``"--eps"``).
    allow_zero : bool, optional
        Accept ``0`` as well.

    Returns
    -------
    list of float
        The values, sorted ascending, duplicates removed.

    Raises
    ------
    BadOptionError
        If the list or one of its items is empty, an entry is not a number, or a number is not
        positive and finite.

    Examples
    --------
    >>> parse_floats("0.1, 1e-3", name="--eps")
    [0.001, 0.1]
    """
    parts = _items(text, name=name, what="number")
    values = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise BadOptionError(f"{name} must be numbers, got {part!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
            kind = "non-negative" if allow_zero else "positive"
            raise BadOptionError(f"{name} must be {kind} finite numbers, got {value!r}")
        values.append(value)
    return sorted(set(values))


def _items(text: str, *, name: str, what: str) -> list[str]:
    """Split a comma-separated list; an empty list or an empty item is an error."""
    raw = str(text)
    if not raw.strip():
        raise BadOptionError(f"{name} needs at least one {what}, got {raw!r}")
    parts = [part.strip() for part in raw.split(",")]
    if any(not part for part in parts):
        raise BadOptionError(
            f"{name} has an empty item in {raw!r}; separate the values with single commas"
        )
    return parts


def parse_choice(value: str, *, name: str, choices: Iterable[str]) -> str:
    """Return `value` lower-cased if it is one of `choices`.

    Parameters
    ----------
    value : str
        The user's value.
    name : str
        Option name used in the error message.
    choices : iterable of str
        Allowed values (lower case).

    Returns
    -------
    str
        The matching choice.

    Raises
    ------
    BadOptionError
        If `value` is not one of `choices`; the message lists them.

    Examples
    --------
    >>> parse_choice("L2", name="--norm", choices=("linf", "l2"))
    'l2'
    """
    allowed = tuple(choices)
    normalized = str(value).strip().lower()
    if normalized not in allowed:
        raise BadOptionError(f"unknown {name} {value!r}; expected one of {', '.join(allowed)}")
    return normalized


def parse_names(text: str, *, name: str, choices: Sequence[str]) -> list[str]:
    """Parse a comma-separated list of names, each one of `choices`.

    Parameters
    ----------
    text : str
        For example ``"pgd,fgsm"``.
    name : str
        Option name used in error messages.
    choices : sequence of str
        Allowed names.

    Returns
    -------
    list of str
        The names in the order given, duplicates removed.

    Raises
    ------
    BadOptionError
        If the list or one of its items is empty, or it contains an unknown name.

    Examples
    --------
    >>> parse_names("pgd, fgsm", name="--attacks", choices=("fgsm", "pgd"))
    ['pgd', 'fgsm']
    """
    parts = _items(text, name=name, what="name")
    result: list[str] = []
    for part in parts:
        choice = parse_choice(part, name=name, choices=choices)
        if choice not in result:
            result.append(choice)
    return result


def eps_key(eps: float) -> str:
    """Return the JSON key of an epsilon value (Python's shortest round-trip representation).

    Parameters
    ----------
    eps : float
        The value.

    Returns
    -------
    str
        For example ``"0.001"``.

    Examples
    --------
    >>> eps_key(1e-3), eps_key(0.1)
    ('0.001', '0.1')
    """
    return repr(float(eps))
