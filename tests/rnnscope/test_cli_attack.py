"""``rnnscope attack``: robust accuracy of a checkpoint on its own task."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import attacks
import models
from rnnscope.evaluation import evaluation_samples
from tests.rnnscope.helpers import assert_bad_input, invoke


def test_attack_json_matches_the_library(tiny_rnn: Path) -> None:
    args = ["attack", tiny_rnn, "--samples", "16", "--steps", "5", "--eps", "0.05,0.2", "--json"]
    result = invoke([*args, "--attacks", "pgd,fgsm"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["task"]["name"] == "digits" and data["task"]["params"]["permuted"] is True
    assert data["samples"] == 16 and data["eps"] == [0.05, 0.2]
    # Peer: the library called directly on the same samples.
    checkpoint = models.load(tiny_rnn)
    task = models.tasks.get("digits", **data["task"]["params"])
    x, y = evaluation_samples(task, 16)
    curve = attacks.adversarial(
        checkpoint.model,
        x,
        y,
        norm="linf",
        epsilons=[0.05, 0.2],
        attacks=("pgd", "fgsm"),
        steps=5,
        bounds=task.bounds,
        seed=0,
    )
    assert data["clean_accuracy"] == pytest.approx(curve.clean_accuracy)
    assert data["robust_accuracy"]["worst"] == pytest.approx(list(curve.robust_accuracy))
    worst = np.array(data["robust_accuracy"]["worst"])
    for name in ("pgd", "fgsm"):
        assert np.all(worst <= np.array(data["robust_accuracy"][name]) + 1e-12)
    assert np.all(worst <= data["clean_accuracy"] + 1e-12)


def test_attack_table_and_l2(tiny_rnn: Path) -> None:
    result = invoke(["attack", tiny_rnn, "--norm", "l2", "--samples", "8", "--steps", "3"])
    assert result.exit_code == 0, result.stderr
    assert "norm l2" in result.stdout and "worst" in result.stdout


def test_attack_needs_a_model_and_a_task(chain_npy: Path, tiny_rnn: Path) -> None:
    assert_bad_input(invoke(["attack", chain_npy]), "matrices only")
    result = invoke(["attack", tiny_rnn, "--task", "copy", "--samples", "4"])
    assert_bad_input(result, "copy")
