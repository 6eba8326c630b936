"""Which differences in the comparison table are within noise.

A cell whose value carries a 95 % Wilson interval (the clean and robust accuracies) is marked
when that interval overlaps the interval of the best model in its column (the highest value):
the difference from the best is then not significant by the overlap criterion. Overlap is a
conservative criterion: disjoint intervals mean a significant difference, overlapping ones do
not rule one out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rnnscope.report.document import ModelReport
    from rnnscope.report.sections import Column

__all__ = ["FOOTNOTE", "MARK", "not_significant"]

#: Mark appended to a cell whose difference from the column's best is not significant.
MARK = "†"

#: What the mark means (shown under the comparison table).
FOOTNOTE = (
    f"{MARK} the 95 % Wilson interval of this accuracy overlaps the interval of the best model "
    "in the column (the highest value): the difference from the best is not significant by "
    "interval overlap. Overlap is a conservative criterion: disjoint intervals mean a "
    "significant difference, overlapping ones do not rule one out."
)


def _interval(value: Any) -> tuple[float, float] | None:
    lo, hi = getattr(value, "lo", None), getattr(value, "hi", None)
    if lo is None or hi is None:
        return None
    return float(lo), float(hi)


def not_significant(
    columns: Sequence[Column], models: Sequence[ModelReport]
) -> dict[str, dict[str, list[str]]]:
    """Per column with intervals: its best models and the models within noise of them.

    Parameters
    ----------
    columns : sequence of Column
        The comparison table's columns; only those whose values carry ``lo`` and ``hi``
        (an accuracy with its Wilson interval) take part.
    models : sequence of ModelReport
        The rows.

    Returns
    -------
    dict
        ``{column key: {"best": [names], "not_significant": [names]}}`` for every column with
        at least two models having an interval; ``not_significant`` lists the models (other
        than the best) whose interval overlaps a best model's.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from rnnscope.report.sections import Column
    >>> class R(float):
    ...     pass
    >>> def r(v, lo, hi):
    ...     x = R(v)
    ...     x.lo, x.hi = lo, hi
    ...     return x
    >>> values = {"a": r(0.9, 0.8, 0.95), "b": r(0.85, 0.75, 0.9), "c": r(0.5, 0.4, 0.6)}
    >>> col = Column("acc", "acc", "", value=lambda m: values[m.name])
    >>> rows = [SimpleNamespace(name=n) for n in "abc"]
    >>> not_significant([col], rows)
    {'acc': {'best': ['a'], 'not_significant': ['b']}}
    """
    out: dict[str, dict[str, list[str]]] = {}
    for column in columns:
        cells = []
        for model in models:
            value = column.value(model)
            band = _interval(value)
            if band is not None:
                cells.append((model.name, float(value), band))
        if len(cells) < 2:
            continue
        top = max(v for _, v, _ in cells)
        best = [(name, band) for name, v, band in cells if v == top]
        within = [
            name
            for name, v, band in cells
            if v != top and any(band[0] <= b[1] and b[0] <= band[1] for _, b in best)
        ]
        out[column.key] = {"best": [name for name, _ in best], "not_significant": within}
    return out
