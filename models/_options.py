"""Declarative validation of model options (private).

Each model class declares ``OPTIONS``: a mapping from option name to :class:`_Option`, whose
``check`` returns the normalised value or raises :class:`~models.errors.InvalidOptionError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from models.errors import InvalidOptionError

_Check = Callable[[str, Any, Mapping[str, int]], Any]


@dataclass(frozen=True)
class _Option:
    """One option: its default value and a checker ``check(name, value, sizes) -> value``."""

    default: Any
    check: _Check
    doc: str = ""


def _choice(*values: str | None) -> _Check:
    def check(name: str, value: Any, sizes: Mapping[str, int]) -> Any:
        if value not in values:
            valid = ", ".join(repr(v) for v in values)
            raise InvalidOptionError(f"unknown {name} {value!r}; valid values: {valid}")
        return value

    return check


def _real(*, low: float | None = None, positive: bool = False) -> _Check:
    def check(name: str, value: Any, sizes: Mapping[str, int]) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidOptionError(f"{name} must be a real number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise InvalidOptionError(f"{name} must be finite, got {value!r}")
        if positive and value <= 0:
            raise InvalidOptionError(f"{name} must be positive, got {value!r}")
        if low is not None and value < low:
            raise InvalidOptionError(f"{name} must be >= {low}, got {value!r}")
        return value

    return check


def _optional_real() -> _Check:
    real = _real()

    def check(name: str, value: Any, sizes: Mapping[str, int]) -> float | None:
        return None if value is None else real(name, value, sizes)

    return check


def _integer(*, low: int = 1) -> _Check:
    def check(name: str, value: Any, sizes: Mapping[str, int]) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidOptionError(f"{name} must be an integer, got {value!r}")
        if value < low:
            raise InvalidOptionError(f"{name} must be >= {low}, got {value!r}")
        return int(value)

    return check


def _flag(name: str, value: Any, sizes: Mapping[str, int]) -> bool:
    if not isinstance(value, bool):
        raise InvalidOptionError(f"{name} must be True or False, got {value!r}")
    return value


READOUT = _Option("last", _choice("last", "all"), "logits from the last step or from every step")


def _check_size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidOptionError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise InvalidOptionError(f"{name} must be a positive integer, got {value}")
    return int(value)


def _validate(
    kind: str, spec: Mapping[str, _Option], given: Mapping[str, Any], sizes: Mapping[str, int]
) -> dict[str, Any]:
    """Return every option of ``spec`` with defaults filled in; reject unknown names."""
    unknown = sorted(set(given) - set(spec))
    if unknown:
        valid = ", ".join(sorted(spec))
        raise InvalidOptionError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for kind {kind!r}; "
            f"valid options: {valid}"
        )
    return {
        name: option.check(name, given.get(name, option.default), sizes)
        for name, option in spec.items()
    }
