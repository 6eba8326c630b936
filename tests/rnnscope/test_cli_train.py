"""``rnnscope train``: checkpoint folder, resume, constraint, quiet mode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import models
from tests.rnnscope.helpers import invoke

BASE = ["train", "rnn", "digits", "--task-param", "permuted=true", "--hidden", "8"]
BASE += ["--batch-size", "8"]


def test_train_writes_a_loadable_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "rnn"
    result = invoke(
        [*BASE, "--steps", "2", "--init", "chain", "--nonlinearity", "elu", "--out", out]
    )
    assert result.exit_code == 0, result.stderr
    assert "training finished" in result.stdout and str(out) in result.stdout
    config = json.loads((out / "config.json").read_text())
    assert config["task"]["params"]["permuted"] is True
    assert config["options"]["init"] == "chain" and config["options"]["nonlinearity"] == "elu"
    assert config["training"]["step"] == 2
    checkpoint = models.load(out)
    assert checkpoint.kind == "rnn" and checkpoint.model is not None


def test_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert invoke([*BASE, "--steps", "2", "--out", first]).exit_code == 0
    resumed = invoke([*BASE, "--steps", "4", "--resume", "--out", first])
    assert resumed.exit_code == 0, resumed.stderr
    assert invoke([*BASE, "--steps", "4", "--out", second]).exit_code == 0
    a, b = models.load(first).model, models.load(second).model
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


def test_constrained_training_keeps_the_spectral_radius_at_most_one(tmp_path: Path) -> None:
    out = tmp_path / "radius"
    args = [*BASE, "--steps", "3", "--lr", "0.05", "--constrain", "radius", "--out", out]
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    W = models.load(out).recurrent_matrix().double().numpy()
    assert np.max(np.abs(np.linalg.eigvals(W))) <= 1.0 + 1e-5


def test_quiet_prints_nothing_on_stderr(tmp_path: Path) -> None:
    result = invoke(["--quiet", *BASE, "--steps", "1", "--out", tmp_path / "q"])
    assert result.exit_code == 0
    assert result.stderr == ""


def test_progress_bar_goes_to_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rnnscope.cli._app

    monkeypatch.setattr(rnnscope.cli._app, "show_progress", lambda: True)
    result = invoke([*BASE, "--steps", "3", "--out", tmp_path / "p"])
    assert result.exit_code == 0, result.stderr
    assert "training" in result.stderr and "3/3" in result.stderr
    assert "3/3" not in result.stdout


def test_markup_in_the_output_path_is_printed_verbatim(tmp_path: Path) -> None:
    out = tmp_path / "[/x]" / "[bold]run"
    result = invoke([*BASE, "--steps", "1", "--out", out])
    assert result.exit_code == 0, result.stderr
    assert str(out) in result.stdout
