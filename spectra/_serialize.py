"""Conversion of results to JSON-ready Python objects (complex numbers as ``[re, im]``)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["jsonable"]


def jsonable(value: Any) -> Any:
    """Return `value` with arrays and numpy scalars turned into lists, floats and ints.

    Complex numbers become ``[re, im]`` pairs, tuples become lists and dict values are
    converted recursively.

    Parameters
    ----------
    value : Any
        Scalar, array, sequence or mapping.

    Returns
    -------
    Any
        Plain Python object made of dicts, lists, str, bool, int and float.

    Examples
    --------
    >>> jsonable(np.array([1 + 2j, 3]))
    [[1.0, 2.0], [3.0, 0.0]]
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "c":
            return np.stack([value.real, value.imag], axis=-1).astype(float).tolist()
        if value.dtype.kind == "b":
            return value.tolist()
        if value.dtype.kind in "iu":
            return value.astype(int).tolist()
        return value.astype(float).tolist()
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, complex | np.complexfloating):
        return [float(value.real), float(value.imag)]
    if isinstance(value, float | np.floating):
        return float(value)
    return value
