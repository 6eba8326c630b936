"""``--strength`` and the default attack ensemble on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import attacks
import models
from rnnscope.evaluation import evaluation_samples
from rnnscope.settings import AttackSettings, EvaluationSettings
from tests.rnnscope.helpers import assert_bad_input, invoke


def test_defaults_are_the_ensemble_at_standard_strength() -> None:
    assert AttackSettings().attacks == ("default",) and AttackSettings().strength == "standard"
    assert "default" in EvaluationSettings().attacks
    assert EvaluationSettings().strength == "standard"


def test_attack_default_ensemble_matches_the_library(tiny_rnn: Path) -> None:
    args = ["attack", tiny_rnn, "--samples", "12", "--eps", "0.05", "--strength", "quick"]
    result = invoke([*args, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["strength"] == "quick"
    assert set(data["robust_accuracy"]) == {"apgd-ce", "apgd-dlr", "square", "worst"}
    lo, hi = data["intervals"]["robust"][0]
    assert lo <= data["robust_accuracy"]["worst"][0] <= hi
    checkpoint = models.load(tiny_rnn)
    task = models.tasks.get("digits", **data["task"]["params"])
    x, y = evaluation_samples(task, 12)
    curve = attacks.adversarial(
        checkpoint.model, x, y, epsilons=[0.05], bounds=task.bounds, strength="quick"
    )
    assert data["robust_accuracy"]["worst"] == pytest.approx(list(curve.robust_accuracy))


def test_unknown_strength_is_one_clear_line(tiny_rnn: Path) -> None:
    assert_bad_input(invoke(["attack", tiny_rnn, "--strength", "fast"]), "--strength")


def test_attack_windows_and_transfer(tiny_rnn: Path, tiny_runs: dict[str, Path]) -> None:
    args = ["attack", tiny_rnn, "--samples", "8", "--eps", "0.1", "--strength", "quick"]
    args += ["--attacks", "apgd-ce", "--windows", "2", "--transfer", str(tiny_runs["lstm"])]
    result = invoke([*args, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    windows = data["time_windows"]
    assert len(windows["robust_accuracy"]) == 2 and windows["eps"] == 0.1
    matrix = data["transfer"]
    assert len(matrix["names"]) == 2 and len(matrix["accuracy"][0]) == 2
    table = invoke(args)
    assert table.exit_code == 0, table.stderr
    assert "one window" in table.stdout and "transfer" in table.stdout


def test_attack_hidden_state(tiny_rnn: Path) -> None:
    args = ["attack", tiny_rnn, "--samples", "8", "--eps", "0.1", "--strength", "quick"]
    args += ["--attacks", "fgsm", "--hidden-state", "0,0.5,2", "--hidden-step", "3"]
    result = invoke([*args, "--json"])
    assert result.exit_code == 0, result.stderr
    hidden = json.loads(result.stdout)["hidden_state"]
    assert hidden["kind"] == "hidden_state" and hidden["step"] == 3
    assert hidden["deltas"] == [0.0, 0.5, 2.0]
    assert hidden["random_accuracy"][0] == hidden["clean_accuracy"]
    assert hidden["adversarial_accuracy"][2] <= hidden["adversarial_accuracy"][1]
    assert len(hidden["adversarial_intervals"]) == 3
    checkpoint = models.load(tiny_rnn)
    task = models.tasks.get("digits", **json.loads(result.stdout)["task"]["params"])
    x, y = evaluation_samples(task, 8)
    curve = attacks.hidden_state(checkpoint.model, x, y, deltas=[0, 0.5, 2], step=3)
    assert hidden["adversarial_accuracy"] == list(curve.adversarial_accuracy)
    table = invoke(args)
    assert table.exit_code == 0, table.stderr
    assert "hidden state perturbed after step 3" in table.stdout and "adversarial" in table.stdout


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--hidden-state", "0.1,-0.2"], "--hidden-state"),
        (["--hidden-state", "0.1", "--hidden-step", "999"], "step must lie in"),
        (["--hidden-step", "2"], "--hidden-step needs --hidden-state"),
    ],
)
def test_attack_hidden_state_bad_input(tiny_rnn: Path, extra: list[str], fragment: str) -> None:
    args = ["attack", tiny_rnn, "--samples", "4", "--attacks", "fgsm", "--strength", "quick"]
    assert_bad_input(invoke([*args, *extra]), fragment)
