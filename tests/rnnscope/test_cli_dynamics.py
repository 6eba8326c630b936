"""``rnnscope dynamics``: JSON keys against the library, foreign torch files, plots, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import models
import spectra
from models import dynamics
from tests.rnnscope.helpers import assert_bad_input, invoke


def _json(*args: object) -> dict:
    result = invoke(["dynamics", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_dynamics_json_matches_the_library(tiny_rnn: Path):
    out = _json(tiny_rnn, "--lyapunov", "3", "--samples", "4", "--fixed-points")
    assert set(out) >= {"lyapunov", "gradient_flow", "fixed_points", "chain_profile", "inputs"}
    assert out["inputs"] == {"task": "digits", "samples": 4, "steps": 64}
    model = models.load(tiny_rnn).model
    x = models.tasks.get("digits", permuted=True).test_set()[0][:4]
    ref = spectra.lyapunov((J.numpy() for J in dynamics.iter_jacobians(model, x)), k=3)
    np.testing.assert_allclose(out["lyapunov"]["exponents"], ref.exponents, rtol=1e-12)
    np.testing.assert_allclose(out["lyapunov"]["stderr"], ref.stderr, rtol=1e-12)
    assert out["top_exponent"] == pytest.approx(ref.exponents[0], rel=1e-12)
    flow = out["gradient_flow"]
    assert len(flow["lags"]) == 65 and flow["norm_median_log10"][0] == 0.0
    fps = out["fixed_points"]
    assert set(fps["counts"]) == {"stable", "saddle", "unstable"}
    for point in fps["points"]:
        assert {"stability", "q", "spectral_radius", "henrici", "pseudospectral_radius"} <= set(
            point
        )
    band = out["chain_profile"]["control"]
    assert len(band["low"]) == len(out["chain_profile"]["profile"]) == len(band["high"])
    args = ["dynamics", tiny_rnn, "--lyapunov", "3", "--samples", "4", "--fixed-points", "--json"]
    assert invoke(args).stdout == invoke(args).stdout  # reproducible, byte for byte


def test_dynamics_table_plots_and_progress(tiny_runs: dict[str, Path], tmp_path: Path):
    plots = tmp_path / "figs"
    result = invoke(["dynamics", tiny_runs["lstm"], "--samples", "3", "--plots", plots])
    assert result.exit_code == 0, result.stderr
    assert "Lyapunov" in result.stdout and "chain" in result.stdout.lower()
    assert "gradient flow" in result.stderr  # progress goes to stderr
    names = sorted(p.name for p in plots.iterdir())
    assert names == ["chain_profile.svg", "gradient_flow.svg", "lyapunov.svg"]


def test_dynamics_on_a_foreign_torch_file(tmp_path: Path):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 5, num_layers=2, batch_first=True)
    path = tmp_path / "lstm.pt"
    torch.save({"state_dict": lstm.state_dict()}, path)
    out = _json(path, "--samples", "2", "--lyapunov", "20")
    assert out["state_size"] == 20 and out["lyapunov"]["k"] == 20
    assert out["inputs"]["task"] is None and out["inputs"]["steps"] == 100
    assert "skipped" in out["chain_profile"]
    # Lyapunov sum = mean log|det J| on the stacked (h, c) state of both layers
    x = torch.randn(2, 100, 3, generator=torch.Generator().manual_seed(0))
    J = dynamics.jacobians(dynamics.from_torch(lstm), x).numpy()
    logdet = np.linalg.slogdet(J)[1].mean()
    assert sum(out["lyapunov"]["exponents"]) == pytest.approx(logdet, rel=1e-9)


def test_dynamics_bad_input(tiny_rnn: Path, tmp_path: Path):
    assert_bad_input(invoke(["dynamics", tmp_path / "missing"]), "missing")
    np.save(tmp_path / "W.npy", np.eye(3))
    assert_bad_input(invoke(["dynamics", tmp_path / "W.npy"]), "complete cell")
    assert_bad_input(invoke(["dynamics", tiny_rnn, "--task", "nope"]), "unknown task")
    assert_bad_input(invoke(["dynamics", tiny_rnn, "--task", "copy"]), "input features")
    assert_bad_input(invoke(["dynamics", tiny_rnn, "--lyapunov", "-1"]), "lyapunov")
    assert_bad_input(invoke(["dynamics", tiny_rnn, "--samples", "0"]), "samples")
    (tmp_path / "file").write_text("x")
    assert_bad_input(invoke(["dynamics", tiny_rnn, "--plots", tmp_path / "file"]), "plots")
