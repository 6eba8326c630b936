"""Checks of the scalar settings shared by the public attack functions."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

from attacks.errors import AttackInputError, UnknownAttackError

__all__ = [
    "BOUNDED_ATTACKS",
    "L2_ONLY",
    "MINIMAL_ATTACKS",
    "NORMS",
    "check_attacks",
    "check_epsilons",
    "check_norm",
    "check_positive_int",
    "check_seed",
]

NORMS: tuple[str, ...] = ("linf", "l2")
BOUNDED_ATTACKS: tuple[str, ...] = ("fgsm", "pgd", "bim")
MINIMAL_ATTACKS: tuple[str, ...] = ("deepfool", "fmn", "cw")
L2_ONLY: frozenset[str] = frozenset({"cw"})


def check_norm(norm: Any) -> str:
    """Return the norm name, lower-cased.

    Parameters
    ----------
    norm : str
        ``"linf"`` or ``"l2"`` (``"inf"`` is accepted for ``"linf"``).

    Returns
    -------
    str
        ``"linf"`` or ``"l2"``.

    Raises
    ------
    UnknownAttackError
        For any other name.

    Examples
    --------
    >>> check_norm("L2")
    'l2'
    """
    name = str(norm).lower() if isinstance(norm, str) else norm
    if name == "inf":
        name = "linf"
    if name not in NORMS:
        raise UnknownAttackError(f"unknown norm {norm!r}; available: {', '.join(NORMS)}")
    return name


def check_epsilons(epsilons: Any) -> tuple[float, ...]:
    """Validate perturbation sizes.

    Parameters
    ----------
    epsilons : float or sequence of float
        Non-negative, finite sizes; at least one.

    Returns
    -------
    tuple of float
        The sizes in the given order.

    Raises
    ------
    AttackInputError
        When empty, non-numeric, negative or non-finite.

    Examples
    --------
    >>> check_epsilons([0, 0.1])
    (0.0, 0.1)
    >>> check_epsilons(0.5)
    (0.5,)
    """
    if epsilons is None:
        raise AttackInputError("epsilons is required: pass one size or a sequence of sizes")
    if isinstance(epsilons, numbers.Real) or getattr(epsilons, "ndim", None) == 0:
        values = [epsilons]
    elif isinstance(epsilons, Iterable) and not isinstance(epsilons, str | bytes):
        values = list(epsilons)
    else:
        raise AttackInputError(f"expected epsilons as numbers, got {epsilons!r}")
    if not values:
        raise AttackInputError("expected at least one epsilon, got an empty sequence")
    out = []
    for value in values:
        if isinstance(value, bool | str | bytes | complex):
            raise AttackInputError(f"expected numeric epsilons, got {value!r}")
        try:
            eps = float(value)
        except (TypeError, ValueError):
            raise AttackInputError(f"expected numeric epsilons, got {value!r}") from None
        if not math.isfinite(eps) or eps < 0:
            raise AttackInputError(f"epsilons must be finite and >= 0, got {eps}")
        out.append(eps)
    return tuple(out)


def check_attacks(
    attacks: Any,
    norm: str,
    *,
    allowed: Sequence[str],
) -> tuple[str, ...]:
    """Validate attack names against the available ones and the norm.

    Parameters
    ----------
    attacks : str or sequence of str
        Attack names; duplicates are dropped, order kept.
    norm : str
        ``"linf"`` or ``"l2"``.
    allowed : sequence of str
        Names valid in this context.

    Returns
    -------
    tuple of str
        Lower-cased, de-duplicated names.

    Raises
    ------
    UnknownAttackError
        For an unknown name, an empty list, or an L2-only attack under ``"linf"``.

    Examples
    --------
    >>> check_attacks(("FGSM", "pgd"), "linf", allowed=BOUNDED_ATTACKS)
    ('fgsm', 'pgd')
    """
    names = [attacks] if isinstance(attacks, str) else list(attacks)
    if not names:
        raise UnknownAttackError(f"expected at least one attack; available: {', '.join(allowed)}")
    out: list[str] = []
    for name in names:
        key = str(name).lower()
        if key not in allowed:
            raise UnknownAttackError(
                f"unknown attack {name!r}; available: {', '.join(sorted(allowed))}"
            )
        if key in L2_ONLY and norm != "l2":
            raise UnknownAttackError(f"attack {key!r} exists only for norm='l2', got norm={norm!r}")
        if key not in out:
            out.append(key)
    return tuple(out)


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an int if it is a positive integer.

    Parameters
    ----------
    value : int
        Candidate.
    name : str
        Parameter name for the message.

    Returns
    -------
    int
        The value.

    Raises
    ------
    AttackInputError
        When not an integer >= 1.

    Examples
    --------
    >>> check_positive_int(5, "steps")
    5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise AttackInputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_seed(seed: Any) -> int:
    """Return ``seed`` if it is a non-negative integer.

    Parameters
    ----------
    seed : int
        Candidate seed.

    Returns
    -------
    int
        The seed.

    Raises
    ------
    AttackInputError
        When not a non-negative integer.

    Examples
    --------
    >>> check_seed(0)
    0
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise AttackInputError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)
