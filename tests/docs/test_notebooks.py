"""The notebooks (jupytext percent scripts) run from top to bottom and show their results."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("[0-9][0-9]_*.py"))
EXPECTED = (
    "01_pseudospectra",
    "02_nonnormal_memory",
    "03_stability_vs_robustness",
    "04_orthogonal_rnns",
    "05_dynamics",
)


def test_every_notebook_is_there() -> None:
    assert tuple(path.stem for path in NOTEBOOKS) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_executes_with_outputs(name: str, executed_notebooks: dict[str, Path]) -> None:
    notebook = nbformat.read(executed_notebooks[name], as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "a notebook has code"
    errors = [out for cell in code for out in cell.get("outputs", []) if out.output_type == "error"]
    assert not errors
    shown = [out for cell in code for out in cell.get("outputs", [])]
    assert any(out.output_type == "stream" and out.get("name") == "stdout" for out in shown), (
        "a notebook prints the numbers it measured"
    )
    assert any(
        "image/png" in out.get("data", {}) or "image/svg+xml" in out.get("data", {})
        for out in shown
    ), "a notebook draws its figures"
    settings = code[0].source
    assert "paper" in settings.lower(), "the first code cell holds the settings (paper scale noted)"


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_says_claim_and_measurement(name: str) -> None:
    text = (Path(__file__).parents[2] / "notebooks" / f"{name}.py").read_text(encoding="utf-8")
    lowered = text.lower()
    assert "claim" in lowered and "measured" in lowered
