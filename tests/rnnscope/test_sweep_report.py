"""``rnnscope report DIR`` on a sweep folder: groups over seeds, mean ± std, scatter figures."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from rnnscope.sweep.report import build_sweep_report, is_sweep_dir
from tests.rnnscope.helpers import assert_bad_input, invoke

# (init, gain, seed) -> (test accuracy, rho, norm, henrici, eps50)
RUNS: dict[tuple[str, float, int], tuple[float, float, float, float, float | None]] = {
    ("chain", 1.0, 0): (0.61, 0.90, 1.20, 1.9, 0.05),
    ("chain", 1.0, 1): (0.55, 0.85, 1.15, 2.1, 0.04),
    ("chain", 1.0, 2): (0.70, 0.95, 1.25, 1.7, None),
    ("orthogonal", 1.0, 0): (0.40, 1.00, 1.00, 0.0, 0.02),
    ("orthogonal", 1.0, 1): (0.45, 1.01, 1.02, 0.1, 0.03),
}


def _run(init: str, gain: float, seed: int, status: str = "ok") -> dict[str, Any]:
    acc, rho, norm, henrici, eps50 = RUNS.get((init, gain, seed), (0, 0, 0, 0, None))
    key = "alpha" if init == "chain" else "scale"
    settings = {
        "task": {"name": "digits", "params": {"permuted": True}},
        "kind": "rnn",
        "hidden": 8,
        "lr": 0.001,
        "seed": seed,
        "constrain": None,
        "options": {"init": init, key: gain},
        "train": {"steps": 5, "batch_size": 16, "clip": None, "lr_orth": None},
    }
    ok = status == "ok"
    return {
        "id": f"rnn-{init}-s{seed}",
        "status": status,
        "error": None if ok else "training diverged",
        "settings": settings,
        "evaluation": {},
        "train": {"steps": 5, "test_loss": 1.0, "test_metric": acc, "metric_name": "accuracy"}
        if ok
        else None,
        "spectra": {
            "spectral_radius": rho,
            "spectral_norm": norm,
            "henrici": henrici,
            "henrici_relative": henrici / 2,
        }
        if ok
        else None,
        "robustness": {
            "linf": {"clean_accuracy": acc, "eps50": eps50, "auc": acc / 10, "eps": [0.1]}
        }
        if ok
        else None,
        "folder": f"runs/rnn-{init}-s{seed}",
    }


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    runs = [_run(init, gain, seed) for (init, gain, seed) in RUNS]
    runs.append(_run("orthogonal", 1.0, 2, status="failed"))
    data = {
        "sweep": {
            "name": "synthetic",
            "task": {"name": "digits", "params": {}},
            "evaluation": {"analyze": {"eps": [0.1]}, "attack": {"norms": ["linf"]}},
            "points": len(runs),
            "finished": len(runs),
        },
        "runs": runs,
    }
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(data))
    return folder


def test_groups_and_mean_std_over_seeds(sweep_dir: Path) -> None:
    report = build_sweep_report(sweep_dir)
    assert [g["init"] for g in report.groups] == ["chain", "orthogonal"]
    chain, orth = report.groups
    assert chain["seeds"] == [0, 1, 2] and chain["runs"] == 3 and chain["failed"] == 0
    assert orth["seeds"] == [0, 1, 2] and orth["runs"] == 2 and orth["failed"] == 1
    accs = [RUNS[("chain", 1.0, s)][0] for s in range(3)]
    stat = chain["stats"]["test_metric"]
    assert stat["n"] == 3
    assert stat["mean"] == pytest.approx(statistics.mean(accs), rel=1e-15)
    assert stat["std"] == pytest.approx(statistics.stdev(accs), rel=1e-12)  # ddof = 1
    eps50 = chain["stats"]["linf_eps50"]  # one run never reached half its clean accuracy
    assert eps50["n"] == 2
    assert eps50["mean"] == pytest.approx(0.045)
    assert eps50["std"] == pytest.approx(statistics.stdev([0.05, 0.04]))
    names = [f["name"] for f in report.figures]
    assert names == [
        "accuracy_vs_henrici",
        "accuracy_vs_radius",
        "accuracy_vs_norm",
        "accuracy_vs_eps50_linf",
    ]
    by_name = {f["name"]: f for f in report.figures}
    assert by_name["accuracy_vs_eps50_linf"]["omitted"] == 1
    assert by_name["accuracy_vs_henrici"]["omitted"] == 0
    # one marker per run and colour: 3 chain points and 2 orthogonal points in the Henrici plot
    svg = by_name["accuracy_vs_henrici"]["svg"]
    assert svg.count("<use ") >= len(RUNS)


def test_cli_report_of_a_sweep_folder_is_byte_identical(sweep_dir: Path, tmp_path: Path) -> None:
    assert is_sweep_dir(sweep_dir)
    first, second = tmp_path / "r1", tmp_path / "r2"
    for out in (first, second):
        result = invoke(["report", sweep_dir, "--out", out])
        assert result.exit_code == 0, result.stderr
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert {str(f) for f in files} >= {
        "index.html",
        "report.md",
        "report.json",
        "figures/accuracy_vs_henrici.svg",
        "figures/accuracy_vs_eps50_linf.svg",
    }
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    page = (first / "index.html").read_text()
    assert "0.620 ± 0.075" in page  # chain: mean and sample std (0.0755) of 0.61, 0.55, 0.70
    assert "2/3 (1 failed)" in page
    markdown = (first / "report.md").read_text()
    assert "| rnn alpha=1.0 init=chain h=8 lr=0.001 | 3/3 |" in markdown


def test_sweep_folder_with_checkpoints_is_one_error(
    sweep_dir: Path, tiny_rnn: Path, tmp_path: Path
) -> None:
    result = invoke(["report", sweep_dir, tiny_rnn, "--out", tmp_path / "r"])
    assert_bad_input(result, "sweep folder")
    assert not (tmp_path / "r").exists()


def test_sweep_with_dynamics_gets_the_lyapunov_column_and_figure(sweep_dir: Path) -> None:
    data = json.loads((sweep_dir / "results.json").read_text())
    data["sweep"]["evaluation"]["dynamics"] = {"lyapunov": 2}
    for index, run in enumerate(data["runs"]):
        run["dynamics"] = {"top_exponent": -0.1 * index} if run["status"] == "ok" else None
    (sweep_dir / "results.json").write_text(json.dumps(data))
    report = build_sweep_report(sweep_dir)
    assert ("top_exponent", "top Lyapunov exp.") in report.metrics
    chain = report.groups[0]
    assert chain["stats"]["top_exponent"]["mean"] == pytest.approx(-0.1)  # runs 0, 1, 2
    figure = {f["name"]: f for f in report.figures}["accuracy_vs_lyapunov"]
    assert figure["x"] == "top_exponent" and figure["omitted"] == 0
