"""The comparison table's mark on differences that are within noise."""

from __future__ import annotations

from types import SimpleNamespace

from rnnscope.report.sections import Column
from rnnscope.report.significance import FOOTNOTE, MARK, not_significant


class _Rate(float):
    lo: float
    hi: float


def _rate(value: float, lo: float, hi: float) -> _Rate:
    rate = _Rate(value)
    rate.lo, rate.hi = lo, hi
    return rate


def _table(values: dict[str, object]) -> tuple[list[Column], list[SimpleNamespace]]:
    column = Column("acc", "acc", "", value=lambda model: values[model.name])
    return [column], [SimpleNamespace(name=name) for name in values]


def test_overlap_with_the_best_is_marked_and_disjoint_is_not() -> None:
    columns, rows = _table(
        {
            "best": _rate(0.9, 0.80, 0.95),
            "close": _rate(0.82, 0.70, 0.80),  # touches the best's lower end
            "far": _rate(0.6, 0.50, 0.79),  # disjoint
            "plain": 0.95,  # no interval: ignored, even though it is higher
            "missing": None,
        }
    )
    assert not_significant(columns, rows) == {
        "acc": {"best": ["best"], "not_significant": ["close"]}
    }


def test_ties_for_best_are_not_marked_and_single_rows_are_skipped() -> None:
    columns, rows = _table(
        {"a": _rate(0.7, 0.6, 0.8), "b": _rate(0.7, 0.6, 0.8), "c": _rate(0.5, 0.45, 0.61)}
    )
    assert not_significant(columns, rows) == {"acc": {"best": ["a", "b"], "not_significant": ["c"]}}
    columns, rows = _table({"a": _rate(0.7, 0.6, 0.8), "b": None})
    assert not_significant(columns, rows) == {}


def test_footnote_names_the_mark_and_the_criterion() -> None:
    assert FOOTNOTE.startswith(MARK) and "95 % Wilson interval" in FOOTNOTE
    assert "best model" in FOOTNOTE and "not significant" in FOOTNOTE
