"""Input checks shared by the public functions of :mod:`spectra`."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spectra.errors import EmptyMatrixError, NonFiniteError, NonNumericError, NonSquareError


def as_square(A: ArrayLike, name: str = "A") -> NDArray[np.floating] | NDArray[np.complexfloating]:
    """Return `A` as a finite square float64 or complex128 array, or raise a domain error.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    name : str, optional
        Name of the argument, used in error messages.

    Returns
    -------
    (N, N) ndarray
        float64 for real input, complex128 for complex input (a new array when a cast was needed).

    Raises
    ------
    NonNumericError
        If `A` is not numeric (strings, objects, booleans).
    NonSquareError
        If `A` is not a square 2-D array.
    EmptyMatrixError
        If `A` is 0 x 0.
    NonFiniteError
        If `A` contains NaN or infinite entries.
    """
    arr = as_numeric(A, name, what="a numeric matrix")
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise NonSquareError(f"expected a square matrix for {name}, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise EmptyMatrixError(f"expected a non-empty matrix for {name}, got shape {arr.shape}")
    arr = arr.astype(np.complex128 if arr.dtype.kind == "c" else np.float64, copy=False)
    if not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(f"{name} has {bad} NaN or infinite entries (shape {arr.shape})")
    return arr


def as_numeric(x: ArrayLike, name: str, *, what: str = "a numeric array") -> NDArray[Any]:
    """Return `x` as a numpy array of integer, real or complex dtype, or raise NonNumericError.

    Parameters
    ----------
    x : array_like
        Value to convert.
    name : str
        Name of the argument, used in error messages.
    what : str, optional
        What was expected, used in the error message (e.g. ``"a numeric vector"``).

    Returns
    -------
    ndarray
        `x` as an array (not copied when it already is one).

    Raises
    ------
    NonNumericError
        If `x` is ragged or not numeric (strings, objects, booleans).
    """
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested sequences
        raise NonNumericError(f"{name} is not a numeric array: {exc}") from None
    if arr.dtype.kind not in "iufc":
        raise NonNumericError(f"expected {what} for {name}, got dtype {arr.dtype}")
    return arr


def check_positive(value: float, name: str) -> float:
    """Return `value` as a float if it is finite and positive, else raise ValueError.

    Parameters
    ----------
    value : float
        Value to check.
    name : str
        Name of the argument, used in the error message.

    Returns
    -------
    float
        The checked value.

    Raises
    ------
    ValueError
        If `value` is not a finite positive number.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v
