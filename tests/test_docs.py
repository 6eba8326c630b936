"""The Sphinx documentation builds without a warning from the docstrings it renders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"


def test_docs_build_without_warnings(tmp_path: Path) -> None:
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-E", "-q", str(DOCS), str(tmp_path / "html")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    api = (tmp_path / "html" / "api.html").read_text(encoding="utf-8")
    for name in (
        "spectra.pseudospectrum",
        "models.build",
        "attacks.adversarial",
        "rnnscope.measures.register_measure",
        "rnnscope.report.sections.register_section",
    ):
        assert name in api, f"{name} is missing from the API reference"
