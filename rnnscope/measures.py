r"""The registry of spectral measures: one entry per number computed for a recurrent matrix.

Every table and file that shows a measure is driven by this registry: the ``rnnscope analyze``
table and its ``--json`` output, the per-model table of a report (HTML and Markdown) and, for
measures of the principal matrix flagged ``comparison``, the report's comparison table (and,
flagged ``compact``, its terminal version).

Adding a measure is one call, in this module or in any module imported before the analysis
runs (report worker processes import :mod:`rnnscope.measures` afresh, so register at import
time, not inside a function):

>>> import numpy as np
>>> entry = register_measure(
...     "numerical_abscissa_example",
...     "numerical abscissa",
...     lambda m: float(np.linalg.eigvalsh((m.A + m.A.T) / 2).max()),
...     short_label="ω",
...     help="largest eigenvalue of (W + Wᵀ)/2",
...     comparison=True,
... )
>>> from rnnscope.analysis import analyze_matrix
>>> analyze_matrix("W", np.diag([0.5, -2.0])).measures["numerical_abscissa_example"]
0.5
>>> unregister_measure("numerical_abscissa_example")

The compute function receives the shared :class:`MatrixContext` of the matrix (defined in
:mod:`rnnscope.matrix_context`), whose Schur form, chain, chain order, transient growth, power
iteration and pseudospectral radii are computed once and shared by every measure and figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rnnscope.errors import RnnscopeError
from rnnscope.matrix_context import MatrixContext, safe
from rnnscope.options import eps_key

__all__ = [
    "MatrixContext",
    "Measure",
    "fmt",
    "get_measure",
    "measures",
    "register_measure",
    "safe",
    "table_rows",
    "unregister_measure",
]


def fmt(value: Any, digits: int = 4) -> str:
    """Format a number for a table: ``digits`` significant digits, ``-`` for missing values.

    Parameters
    ----------
    value : Any
        A number, ``None`` or text.
    digits : int, optional
        Significant digits of floats.

    Returns
    -------
    str
        The formatted value; NaN and ``None`` give ``"-"``, infinity ``"inf"``.

    Examples
    --------
    >>> fmt(3.14159), fmt(None), fmt(float("inf")), fmt(7)
    ('3.142', '-', 'inf', '7')
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.{digits}g}"
    return str(value)


@dataclass(frozen=True)
class Measure:
    """One registered measure of a recurrent matrix.

    Attributes
    ----------
    key : str
        JSON key (in ``rnnscope analyze --json``, the report's ``analysis`` and ``summary``).
    label : str
        Row label of the per-matrix tables.
    compute : callable
        ``compute(context) -> value`` from the shared :class:`MatrixContext`; a value is a
        number, ``None``, or, for ``per_eps`` measures, a dict keyed by epsilon.
    short_label : str
        Column label of the comparison table (default: `label`); for ``per_eps`` measures a
        format string with ``{eps}``.
    help : str
        Tooltip of the comparison table column.
    digits : int
        Significant digits in the per-matrix tables (the comparison table shows 3).
    table : bool
        Shown in the per-matrix tables (otherwise JSON only).
    comparison : bool
        Shown, for the principal matrix, in the report's comparison table.
    compact : bool
        Also in the compact comparison table printed by ``rnnscope report``.
    per_eps : bool
        The value is a dict keyed by :func:`rnnscope.options.eps_key`: one row (and column)
        per pseudospectral epsilon.
    format : callable or None
        ``format(value, digits) -> str`` for the tables (default :func:`fmt`).

    Examples
    --------
    >>> get_measure("spectral_norm").short_label
    'σ_max'
    """

    key: str
    label: str
    compute: Callable[[MatrixContext], Any]
    short_label: str = ""
    help: str = ""
    digits: int = 4
    table: bool = True
    comparison: bool = False
    compact: bool = False
    per_eps: bool = False
    format: Callable[[Any, int], str] | None = None

    def text(self, value: Any, *, digits: int | None = None) -> str:
        """Format a value of this measure for a table.

        Parameters
        ----------
        value : Any
            The value (``None`` and NaN give ``"-"``).
        digits : int, optional
            Significant digits (default: :attr:`digits`).

        Returns
        -------
        str
            The cell text.

        Examples
        --------
        >>> get_measure("henrici").text(1.23456)
        '1.235'
        """
        return (self.format or fmt)(value, self.digits if digits is None else digits)

    def rows(self, eps_keys: Sequence[str]) -> Iterator[tuple[str, str, str | None]]:
        """Table rows of this measure: ``(key, label, eps key or None)``.

        Parameters
        ----------
        eps_keys : sequence of str
            Epsilon keys (used by ``per_eps`` measures).

        Yields
        ------
        tuple of (str, str, str or None)
            Column key, row label and the epsilon key to look up.

        Examples
        --------
        >>> list(get_measure("pseudospectral_radius").rows(["0.1"]))
        [('pseudospectral_radius_0.1', 'ε-pseudospectral radius, ε=0.1', '0.1')]
        """
        if not self.per_eps:
            yield self.key, self.label, None
            return
        for key in eps_keys:
            yield f"{self.key}_{key}", f"{self.label}, ε={key}", key

    def lookup(self, values: Any, eps: str | None) -> Any:
        """Pick this measure's value (or its value at `eps`) out of a matrix's measures.

        Parameters
        ----------
        values : mapping
            Measures of one matrix, by key.
        eps : str or None
            Epsilon key of a ``per_eps`` measure.

        Returns
        -------
        object
            The value, ``None`` when missing.

        Examples
        --------
        >>> values = {"pseudospectral_radius": {"0.1": 1.1}}
        >>> get_measure("pseudospectral_radius").lookup(values, "0.1")
        1.1
        """
        value = values.get(self.key)
        if eps is None:
            return value
        return value.get(eps) if isinstance(value, dict) else None


_REGISTRY: dict[str, Measure] = {}


class MeasureRegistryError(RnnscopeError, ValueError):
    """A measure is registered twice, or an unknown measure is looked up."""


def register_measure(
    key: str,
    label: str,
    compute: Callable[[MatrixContext], Any],
    *,
    short_label: str = "",
    help: str = "",
    digits: int = 4,
    table: bool = True,
    comparison: bool = False,
    compact: bool = False,
    per_eps: bool = False,
    format: Callable[[Any, int], str] | None = None,
    replace: bool = False,
) -> Measure:
    """Add a measure to every table, JSON output and report (see the module docstring).

    Parameters
    ----------
    key : str
        JSON key; must not clash with a registered measure (unless `replace`).
    label : str
        Row label of the per-matrix tables.
    compute : callable
        ``compute(context: MatrixContext) -> value``.
    short_label : str, optional
        Column label of the comparison table (default: `label`); for ``per_eps`` measures a
        format string with ``{eps}``.
    help : str, optional
        Tooltip of the comparison table column.
    digits : int, optional
        Significant digits in the per-matrix tables.
    table : bool, optional
        Shown in the per-matrix tables (otherwise JSON only).
    comparison : bool, optional
        Shown, for the principal matrix, in the report's comparison table.
    compact : bool, optional
        Also in the compact comparison table printed by ``rnnscope report``.
    per_eps : bool, optional
        The value is a dict keyed by epsilon: one row (and column) per pseudospectral epsilon.
    format : callable, optional
        ``format(value, digits) -> str`` for the tables (default :func:`fmt`).
    replace : bool, optional
        Replace a registered measure of the same key (keeping its position).

    Returns
    -------
    Measure
        The registered entry.

    Raises
    ------
    MeasureRegistryError
        If `key` is taken (and `replace` is false) or is not a non-empty identifier.

    Examples
    --------
    >>> import numpy as np
    >>> m = register_measure("trace_example", "trace", lambda ctx: float(np.trace(ctx.A)))
    >>> m in measures()
    True
    >>> unregister_measure("trace_example")
    """
    if not isinstance(key, str) or not key.isidentifier():
        raise MeasureRegistryError(f"a measure key must be an identifier, got {key!r}")
    if key in _REGISTRY and not replace:
        raise MeasureRegistryError(f"measure {key!r} is already registered")
    if compact and not comparison:
        raise MeasureRegistryError(f"measure {key!r}: compact requires comparison")
    entry = Measure(
        key=key,
        label=label,
        compute=compute,
        short_label=short_label or label,
        help=help or label,
        digits=digits,
        table=table,
        comparison=comparison,
        compact=compact,
        per_eps=per_eps,
        format=format,
    )
    _REGISTRY[key] = entry
    return entry


def unregister_measure(key: str) -> None:
    """Remove a registered measure.

    Parameters
    ----------
    key : str
        Its key.

    Raises
    ------
    MeasureRegistryError
        If no measure has that key.

    Examples
    --------
    >>> _ = register_measure("tmp_example", "tmp", lambda ctx: 0)
    >>> unregister_measure("tmp_example")
    >>> "tmp_example" in [m.key for m in measures()]
    False
    """
    if key not in _REGISTRY:
        raise MeasureRegistryError(f"no measure {key!r} is registered")
    del _REGISTRY[key]


def measures() -> tuple[Measure, ...]:
    """Every registered measure, in registration order (the order of the table rows).

    Returns
    -------
    tuple of Measure
        The registry.

    Examples
    --------
    >>> [m.key for m in measures()][:2]
    ['size', 'spectral_radius']
    """
    return tuple(_REGISTRY.values())


def get_measure(key: str) -> Measure:
    """Return the registered measure `key`.

    Parameters
    ----------
    key : str
        Its key.

    Returns
    -------
    Measure
        The entry.

    Raises
    ------
    MeasureRegistryError
        If no measure has that key.

    Examples
    --------
    >>> get_measure("chain_length").label
    'chain length'
    """
    try:
        return _REGISTRY[key]
    except KeyError:
        raise MeasureRegistryError(f"no measure {key!r} is registered") from None


def table_rows(matrices: Sequence[Any]) -> list[tuple[str, list[str]]]:
    """Rows of the per-matrix table: one per table measure (per epsilon for ``per_eps`` ones).

    Parameters
    ----------
    matrices : sequence of rnnscope.analysis.MatrixAnalysis
        The columns.

    Returns
    -------
    list of (str, list of str)
        Row label and one cell per matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from rnnscope.analysis import analyze_matrix
    >>> rows = table_rows([analyze_matrix("W", np.eye(2), eps=[0.1])])
    >>> rows[0], rows[-1]
    (('size N', ['2']), ('ε-pseudospectral radius, ε=0.1', ['1.1']))
    """
    eps_keys: list[str] = []
    for matrix in matrices:
        for e in matrix.eps:
            if eps_key(e) not in eps_keys:
                eps_keys.append(eps_key(e))
    rows = []
    for measure in measures():
        if not measure.table:
            continue
        for _, label, eps in measure.rows(eps_keys):
            cells = [measure.text(measure.lookup(m.measures, eps)) for m in matrices]
            rows.append((label, cells))
    return rows


# The built-in measures register themselves on import (after the registry exists).
from rnnscope import spectral_measures as _builtin  # noqa: E402, F401
