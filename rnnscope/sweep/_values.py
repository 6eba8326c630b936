"""Checking the values of a sweep SPEC: where a value sits, and one clear message if it is wrong."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rnnscope.sweep.errors import SweepSpecError

__all__ = [
    "Where",
    "check_keys",
    "integer",
    "names",
    "numbers",
    "option_value",
    "positive",
    "show",
    "table",
    "unique",
]


class Where:
    """A location in the SPEC for error messages."""

    def __init__(self, source: str, key: str | None = None) -> None:
        self.source = source
        self.key = key

    def at(self, key: str) -> Where:
        return Where(self.source, key)

    def error(self, message: str, *, bare: bool = False) -> SweepSpecError:
        if self.key is None:
            return SweepSpecError(f"{self.source}: {message}")
        sep = " " if bare else ": "
        return SweepSpecError(f"{self.source}: {self.key}{sep}{message}")


def show(value: Any) -> str:
    """Return a value and its type for a message."""
    return f"{value!r} ({type(value).__name__})"


def unique(values: Sequence[Any], where: Where) -> list[Any]:
    """Return `values`, refusing one listed twice."""
    seen: list[Any] = []
    for value in values:
        if value in seen:
            raise where.error(f"lists {value!r} twice")
        seen.append(value)
    return seen


def table(doc: Mapping[str, Any], name: str, where: Where) -> dict[str, Any]:
    """Return the table `name` of `doc` (empty when absent)."""
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise where.at(name).error(f"must be a table ([{name}]), got {show(value)}")
    return value


def check_keys(keys: Mapping[str, Any], allowed: Sequence[str], where: Where) -> None:
    """Refuse a key of the table `keys` that is not in `allowed`."""
    unknown = sorted(set(keys) - set(allowed))
    if unknown:
        raise where.error(
            f"unknown key(s) {', '.join(map(repr, unknown))}; expected {', '.join(allowed)}"
        )


def integer(value: Any, where: Where, *, low: int) -> int:
    """Return an integer of at least `low`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise where.error(f"must be an integer, got {show(value)}")
    if value < low:
        raise where.error(f"must be >= {low}, got {value}")
    return int(value)


def positive(value: Any, where: Where) -> float:
    """Return a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise where.error(f"must be a number, got {show(value)}")
    if not math.isfinite(value) or value <= 0:
        raise where.error(f"must be a positive finite number, got {value!r}")
    return float(value)


def numbers(value: Any, where: Where) -> tuple[float, ...]:
    """Return a non-empty list of positive numbers, sorted and without repeats."""
    if not isinstance(value, list) or not value:
        raise where.error(f"must be a non-empty list of numbers, got {show(value)}")
    return tuple(sorted({positive(v, where) for v in value}))


def names(value: Any, where: Where, choices: Sequence[str] | None = None) -> tuple[str, ...]:
    """Return a non-empty list of names (each one of `choices` when given), without repeats."""
    if not isinstance(value, list) or not value:
        raise where.error(f"must be a non-empty list of names, got {show(value)}")
    found: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise where.error(f"must be names, got {show(item)}")
        if choices is not None and item not in choices:
            raise where.error(f"unknown {item!r}; expected one of {', '.join(choices)}")
        if item not in found:
            found.append(item)
    return tuple(found)


def option_value(value: Any, where: Where) -> Any:
    """Return a scalar model option (number, string or boolean)."""
    if isinstance(value, bool | str | int | float):
        return value
    raise where.error(f"must be a number, string or boolean, got {show(value)}")
