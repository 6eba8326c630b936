"""Checks of the non-matrix arguments of :mod:`spectra` (counts, vectors, choices)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spectra._validation import as_numeric
from spectra.errors import NonFiniteError

__all__ = ["as_vector", "check_choice", "check_count", "check_fraction"]


def check_count(value: int, name: str, *, minimum: int = 0) -> int:
    """Return `value` as an int if it is an integer >= `minimum`.

    Parameters
    ----------
    value : int
        Value to check (Python or numpy integer; booleans are refused).
    name : str
        Name of the argument, used in error messages.
    minimum : int, optional
        Smallest accepted value.

    Returns
    -------
    int
        The checked value.

    Raises
    ------
    TypeError
        If `value` is not an integer.
    ValueError
        If `value` is smaller than `minimum`.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_fraction(value: float, name: str) -> float:
    """Return `value` as a float if it lies in the interval (0, 1].

    Parameters
    ----------
    value : float
        Value to check.
    name : str
        Name of the argument, used in error messages.

    Returns
    -------
    float
        The checked value.

    Raises
    ------
    ValueError
        If `value` is not a number in (0, 1].
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1], got {value!r}") from None
    if not 0.0 < v <= 1.0:
        raise ValueError(f"{name} must be a number in (0, 1], got {value!r}")
    return v


def check_choice(value: str, name: str, choices: Sequence[str]) -> str:
    """Return `value` if it is one of `choices`.

    Parameters
    ----------
    value : str
        Value to check.
    name : str
        Name of the argument, used in error messages.
    choices : sequence of str
        Accepted values.

    Returns
    -------
    str
        The checked value.

    Raises
    ------
    ValueError
        If `value` is not one of `choices`; the message names it and lists the choices.
    """
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"unknown {name} {value!r}; expected one of {options}")
    return value


def as_vector(
    v: ArrayLike, n: int, name: str = "v"
) -> NDArray[np.floating] | NDArray[np.complexfloating]:
    """Return `v` as a finite float64 or complex128 vector of length `n`.

    Parameters
    ----------
    v : (n,) array_like
        Real or complex vector; integers are cast to float64.
    n : int
        Required length.
    name : str, optional
        Name of the argument, used in error messages.

    Returns
    -------
    (n,) ndarray
        float64 for real input, complex128 for complex input.

    Raises
    ------
    NonNumericError
        If `v` is not numeric.
    ValueError
        If `v` is not a vector of length `n`.
    NonFiniteError
        If `v` contains NaN or infinite entries.
    """
    arr = as_numeric(v, name, what="a numeric vector")
    if arr.shape != (n,):
        raise ValueError(f"expected a vector of shape ({n},) for {name}, got shape {arr.shape}")
    arr = arr.astype(np.complex128 if arr.dtype.kind == "c" else np.float64, copy=False)
    if not np.isfinite(arr).all():
        raise NonFiniteError(f"{name} has NaN or infinite entries (shape {arr.shape})")
    return arr
