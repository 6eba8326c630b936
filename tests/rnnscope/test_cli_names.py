"""Names and values from hostile files: control characters escaped on the terminal and in
Markdown, names drawn as plain text (never mathtext), distinct figure files for distinct names,
and extreme scales reported right or as null."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.rnnscope.helpers import invoke

ESC_KEY = "\x1b]0;owned\x07\x1b[2Jx\u202e"
_RAW = ("\x1b", "\x07", "\u202e")


def _no_raw_controls(text: str) -> None:
    for char in _RAW:
        assert char not in text, repr(text)


@pytest.fixture
def hostile_npz(tmp_path: Path) -> Path:
    path = tmp_path / "keys.npz"
    np.savez(
        path,
        **{
            ESC_KEY: np.eye(2),
            "$\\foo$": np.diag([0.5, 0.25]),
            "a b": np.eye(2) * 0.1,
            "a_b": np.eye(2) * 0.2,
            "a?b": np.eye(2) * 0.3,
        },
    )
    return path


def test_analyze_and_list_escape_control_characters(hostile_npz: Path) -> None:
    for args in (["analyze", hostile_npz, "--eps", "0.1"], ["analyze", "--list", hostile_npz]):
        result = invoke(args)
        assert result.exit_code == 0, result.stderr
        _no_raw_controls(result.stdout + result.stderr)
        assert "\\x1b]0;owned\\x07\\x1b[2Jx\\u202e" in result.stdout


def test_json_keeps_the_names_exact(hostile_npz: Path) -> None:
    result = invoke(["analyze", hostile_npz, "--eps", "0.1", "--json"])
    assert result.exit_code == 0, result.stderr
    names = {m["name"] for m in json.loads(result.stdout)["matrices"]}
    assert ESC_KEY in names and "$\\foo$" in names  # JSON escapes them itself


def test_plots_have_distinct_files_and_a_true_count(tmp_path: Path) -> None:
    path = tmp_path / "collide.npz"
    np.savez(path, **{"a b": np.eye(2), "a?b": 2 * np.eye(2)})  # both reduce to "a_b"
    plots = tmp_path / "figs"
    result = invoke(["analyze", path, "--eps", "0.1", "--plots", plots, "--grid", "10"])
    assert result.exit_code == 0, result.stderr
    files = sorted(p.name for p in plots.iterdir())
    assert len(files) == 6, files  # 2 matrices x 3 figures, none overwritten
    assert "wrote 6 figures" in result.stderr


def test_unique_filenames_of_colliding_and_hostile_names() -> None:
    from rnnscope.figures import MAX_STEM, unique_filenames

    names = ["a b", "a_b", "a?b", "W", "w", ESC_KEY, "x" * 1000, "../../etc/passwd"]
    stems = unique_filenames(names)
    assert len({s.lower() for s in stems.values()}) == len(names)
    assert stems["a_b"].startswith("a_b-") and stems["W"].startswith("W-")
    assert unique_filenames(["W"]) == {"W": "W"}  # a safe unique name is kept
    assert stems == unique_filenames(names)  # the same on every run
    for stem in stems.values():
        assert len(stem) <= MAX_STEM + 9 and "/" not in stem and not stem.startswith(".")
        assert stem.isprintable() and stem.isascii()


def test_pseudospectrum_of_a_mathtext_name(hostile_npz: Path, tmp_path: Path) -> None:
    out = tmp_path / "ps.svg"
    result = invoke(["pseudospectrum", hostile_npz, "--matrix", "$\\foo$", "--out", out])
    assert result.exit_code == 0, result.stderr
    assert out.read_text().startswith("<?xml")


def test_report_markdown_escapes_control_characters(hostile_npz: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    result = invoke(["report", hostile_npz, "--out", out, "--grid", "10", "--samples", "8"])
    assert result.exit_code == 0, result.stderr
    _no_raw_controls((out / "report.md").read_text() + result.stdout)
    assert "\\\\x1b" in (out / "report.md").read_text()  # shown as an escape, itself escaped


@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e-320])
def test_extreme_scales_are_right_or_null(tmp_path: Path, scale: float) -> None:
    path = tmp_path / "w.npy"
    np.save(path, scale * np.ones((4, 4)))
    result = invoke(["analyze", path, "--json", "--eps", "1e-3,1e-1"])
    assert result.exit_code == 0, result.stderr
    (m,) = json.loads(result.stdout)["matrices"]
    rho = 4 * scale
    tol = 1e-12 if scale > 1e-300 else 1e-2  # subnormal numbers carry few digits
    assert math.isclose(m["spectral_radius"], rho, rel_tol=tol)
    if m["power_converged"]:
        assert math.isclose(m["spectral_radius_power"], rho, rel_tol=max(tol, 1e-8))
    else:
        assert m["spectral_radius_power"] is None
    for value in (m["spectral_norm_power"], m["pseudospectral_radius"]["0.001"]):
        assert value is None or value >= rho * (1 - max(tol, 1e-8))


def test_log_messages_escape_control_characters(hostile_npz: Path) -> None:
    result = invoke(["-vv", "analyze", hostile_npz, "--eps", "0.1"])
    assert result.exit_code == 0, result.stderr
    assert "analyzing" in result.stderr  # the per-matrix log lines name the matrices
    _no_raw_controls(result.stderr)
