"""Canonical JSON: sorted keys, fixed indentation, and ``null`` for non-finite floats.

NaN and infinite values (an overflowing transient growth, a radius that does not exist) are
written as ``null`` everywhere, so every document is strict JSON that any parser accepts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["dumps", "jsonable"]


def jsonable(obj: Any) -> Any:
    """Return `obj` converted to plain JSON types, with non-finite floats replaced by ``None``.

    Parameters
    ----------
    obj : Any
        Nested dicts, lists, tuples, numpy scalars or arrays, torch tensors, complex numbers
        (as ``[re, im]`` pairs), strings, numbers, booleans or ``None``; objects with a
        ``to_dict()`` method are converted through it.

    Returns
    -------
    Any
        The same structure built from ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool``
        and ``None``; mapping keys become strings.

    Raises
    ------
    TypeError
        If a value of an unsupported type is found.

    Examples
    --------
    >>> jsonable({"a": float("nan"), "b": np.float32(1.5), "c": (1, 2)})
    {'a': None, 'b': 1.5, 'c': [1, 2]}
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, complex | np.complexfloating):
        return [jsonable(complex(obj).real), jsonable(complex(obj).imag)]
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Mapping):
        return {str(key): jsonable(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(value) for value in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    if hasattr(obj, "detach") and hasattr(obj, "tolist"):  # torch tensors, without importing torch
        return jsonable(obj.detach().cpu().tolist())
    raise TypeError(f"cannot convert {type(obj).__name__} to JSON")


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    """Serialize `obj` as canonical, strict JSON (sorted keys, ``null`` for NaN and infinity).

    Parameters
    ----------
    obj : Any
        Anything :func:`jsonable` accepts.
    indent : int or None, optional
        Indentation; ``None`` gives one line.

    Returns
    -------
    str
        The JSON text, ending with a newline when indented.

    Raises
    ------
    TypeError
        If `obj` contains an unsupported type.

    Examples
    --------
    >>> dumps({"b": float("inf"), "a": 1}, indent=None)
    '{"a": 1, "b": null}'
    """
    text = json.dumps(jsonable(obj), sort_keys=True, indent=indent, allow_nan=False)
    return text + "\n" if indent is not None else text
