"""JSON-ready dictionaries of the frozen result dataclasses (private).

Every result of :mod:`attacks` turns into ``{"kind": ..., <each field in declaration order>}``:
tuples become lists, dictionaries are copied with their values converted the same way, numpy
arrays become nested lists (complex entries as ``[re, im]`` pairs), and the floats of the fields
named *nullable* become ``None`` where they are NaN or infinite.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from typing import Any, ClassVar

import numpy as np

from attacks.curves import finite_or_none

__all__ = ["Record", "to_json"]


def to_json(result: Any, kind: str, *, nullable: Collection[str] = ()) -> dict[str, Any]:
    """Return the JSON-ready dictionary of a result dataclass.

    Parameters
    ----------
    result : dataclass instance
        A frozen result of :mod:`attacks`.
    kind : str
        Value of the leading ``"kind"`` key.
    nullable : collection of str, optional
        Fields whose floats (also inside tuples and dictionaries) go through
        :func:`attacks.curves.finite_or_none`; ``None`` stays ``None``.

    Returns
    -------
    dict
        ``kind`` first, then every field in declaration order.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class R:
    ...     sizes: tuple[float, ...]
    ...     best: float | None
    >>> to_json(R((0.5, float("inf")), float("nan")), "demo", nullable=("best",))
    {'kind': 'demo', 'sizes': [0.5, inf], 'best': None}
    """
    out: dict[str, Any] = {"kind": kind}
    for f in dataclasses.fields(result):
        scalar = _finite_or_none if f.name in nullable else _same
        out[f.name] = _plain(getattr(result, f.name), scalar)
    return out


def _same(value: Any) -> Any:
    return value


def _finite_or_none(value: Any) -> float | None:
    return None if value is None else finite_or_none(value)


def _plain(value: Any, scalar: Callable[[Any], Any]) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item, scalar) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item, scalar) for item in value]
    if isinstance(value, np.ndarray):
        if np.iscomplexobj(value):
            value = np.stack([value.real, value.imag], axis=-1).astype(np.float64)
        return value.tolist()
    return scalar(value)


class Record:
    """Base of the frozen result dataclasses: ``to_dict()`` through :func:`to_json`.

    Subclasses set ``_kind`` (the leading ``"kind"`` value) and, where floats may be NaN or
    infinite, ``_nullable`` (the fields whose such floats become ``None``).
    """

    _kind: ClassVar[str] = ""
    _nullable: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary.

        Returns
        -------
        dict
            ``kind`` first, then every field in declaration order: tuples as lists, arrays as
            nested lists (complex entries as ``[re, im]`` pairs), and in the fields named by
            the class's ``_nullable`` NaN and infinite floats as ``None`` (for example the
            norms of samples no attack broke, or an undefined eps50).

        Examples
        --------
        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True)
        ... class Result(Record):
        ...     _kind = "demo"
        ...     _nullable = ("best",)
        ...     sizes: tuple[float, ...]
        ...     best: float
        >>> Result((0.5,), float("inf")).to_dict()
        {'kind': 'demo', 'sizes': [0.5], 'best': None}
        """
        return to_json(self, self._kind, nullable=self._nullable)
