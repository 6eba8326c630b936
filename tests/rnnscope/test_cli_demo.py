"""``rnnscope demo --quick``: the whole pipeline on the built-in zoo, once."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from rnnscope.demo import FULL, QUICK, ZOO, pending_members
from tests.rnnscope.helpers import invoke


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo") / "nested" / "demo"
    result = invoke(["demo", "--quick", "--out", out])
    assert result.exit_code == 0, result.stderr
    return out, result.stdout


def test_demo_writes_the_report_of_the_whole_zoo(demo_dir: tuple[Path, str]) -> None:
    out, stdout = demo_dir
    for name in ("index.html", "report.json", "report.md", "timings.json"):
        assert (out / name).is_file()
    assert str(out / "index.html") in stdout
    data = json.loads((out / "report.json").read_text())
    assert [m["name"] for m in data["models"]] == [member.name for member in ZOO]
    kinds = {m["name"]: m["kind"] for m in data["models"]}
    assert {"rnn", "scornn", "exprnn", "nru", "lstm"} <= set(kinds.values())
    for member, model in zip(ZOO, data["models"], strict=True):
        assert model["task"] == {"name": "digits", "params": model["task"]["params"]}
        assert model["task"]["params"]["permuted"] is True
        assert model["training"]["steps"] == QUICK.steps
        assert model["robustness"]["samples"] == QUICK.report.samples
        assert model["dynamics"]["lyapunov"]["exponents"], "the demo shows the dynamics"
        assert member.name in stdout
    by_name = {m["name"]: m for m in data["models"]}
    # The radius-constrained RNN keeps its spectral radius at or below one.
    constrained = by_name["rnn-orthogonal-radius"]
    principal = next(
        m for m in constrained["analysis"]["matrices"] if m["name"] == constrained["principal"]
    )
    assert principal["spectral_radius"] <= 1.0 + 1e-5
    # expRNN's recurrent matrix stays orthogonal; the chain-initialised RNN stays further from
    # normal than the orthogonally initialised one.
    exprnn = by_name["exprnn"]["analysis"]["matrices"][0]
    assert exprnn["orthogonality_error"] < 1e-3
    chain = by_name["rnn-chain"]["analysis"]["matrices"][0]
    orthogonal = by_name["rnn-orthogonal"]["analysis"]["matrices"][0]
    assert chain["henrici_relative"] > orthogonal["henrici_relative"]
    timings = json.loads((out / "timings.json").read_text())["timings_seconds"]
    assert set(timings["training"]) | set(timings["reused"]) == {m.name for m in ZOO}
    # training overlaps the reports: its total is the sum of the members' own times
    assert timings["training_total"] == pytest.approx(sum(timings["training"].values()), abs=1e-2)
    assert 0 < timings["training_finished_at"] <= timings["demo_total"]


def test_finished_checkpoints_are_reused(demo_dir: tuple[Path, str]) -> None:
    out, _ = demo_dir
    assert pending_members(out / "models", QUICK) == []
    # a member's own steps or clipping in the plan make its checkpoint stale, and only its
    longer = dataclasses.replace(QUICK, member_steps={"scornn": QUICK.steps + 5})
    assert [m.name for m in pending_members(out / "models", longer)] == ["scornn"]
    clipped = dataclasses.replace(QUICK, clip=QUICK.clip / 2)
    assert len(pending_members(out / "models", clipped)) == len(ZOO)
    assert FULL.steps_of(next(m for m in ZOO if m.kind == "lstm")) > FULL.steps
    config = out / "models" / "lstm" / "config.json"
    data = json.loads(config.read_text())
    data["training"]["step"] = 1  # an unfinished run is trained again
    config.write_text(json.dumps(data))
    assert [m.name for m in pending_members(out / "models", QUICK)] == ["lstm"]
