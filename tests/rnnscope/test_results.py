"""Typed results: computed once, carried as objects, serialised once at the edge."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import spectra
from rnnscope.report import ModelReport, Report, ReportSettings, model_section
from rnnscope.robustness import Sanity, SanityCheck, SanityStatus


def test_figures_reuse_the_analysis(chain_npy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: Counter[str] = Counter()
    for name in ("schur", "chains", "transient_growth"):
        original = getattr(spectra, name)

        def counted(*args, _name=name, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(spectra, name, counted)
    _, model, _ = model_section(1, "chain", str(chain_npy), ReportSettings(grid=16))
    assert [f.key for f in model.figures] == ["pseudospectrum", "schur", "transient"]
    # One matrix: one Schur form, one chain search and one growth curve for table and figures.
    assert calls == Counter({"schur": 1, "chains": 1, "transient_growth": 1})
    analysis = model.result("spectra").principal_matrix()
    assert analysis.chain.length == 6 and analysis.schur.T.shape == (6, 6)
    assert np.allclose(analysis.transient[:7], [1, 1, 1, 1, 1, 1, 0])


def _model(name: str, sanity: Sanity | None) -> ModelReport:
    return ModelReport(
        name, f"{name}.npy", "matrix", None, {}, None, None, "W", results={"sanity": sanity}
    )


def test_sanity_status_drives_json_cells_and_terminal() -> None:
    failing = Sanity(
        (
            SanityCheck("monotone (l2)", SanityStatus.FAIL, "rises"),
            SanityCheck("logits", SanityStatus.PASS, "ok"),
            SanityCheck("gradients", SanityStatus.FAIL, "zero"),
            SanityCheck("certified (l2)", SanityStatus.SKIPPED, "no certificate"),
        )
    )
    passing = Sanity((SanityCheck("logits", SanityStatus.PASS, "ok"),))
    models = [_model("bad", failing), _model("good", passing), _model("none", None)]
    report = Report(ReportSettings(), models, provenance={}, timings={})
    assert [row["sanity"] for row in report.summary_rows()] == [
        "FAIL: monotone (l2); gradients",
        "ok",
        None,
    ]
    (column,) = [c for c in report.columns() if c.key == "sanity"]
    assert [column.cell(m)["css"] for m in models] == ["text fail", "text pass", "text"]
    assert [column.terminal(m) for m in models] == ["FAIL (2)", "ok", "-"]
    assert failing.to_dict()[3] == {
        "name": "certified (l2)",
        "passed": None,
        "detail": "no certificate",
    }
    assert [SanityStatus.from_passed(p) for p in (True, False, None)] == list(SanityStatus)
