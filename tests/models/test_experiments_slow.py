"""Small-scale reproductions of published results (slow; run with ``pytest -m slow``).

- Copy task, T = 100, N = 128, batch 128 (scoRNN / expRNN set-up, fresh data every step):
  expRNN and scoRNN fall below 10 % of the baseline :math:`10 \\ln 8 / 120` within 400 steps,
  while an LSTM stays at the baseline (Helfrich et al. 2018; Lezcano-Casado & Martinez-Rubio
  2019).
- Permuted scikit-learn digits, N = 64, 3 seeds per model: test accuracies of orthogonally and
  chain-initialised ELU RNNs (Orhan & Pitkow 2020), expRNN, scoRNN, LSTM and NRU, printed as a
  table and written to ``digits_accuracy.md`` in the test's temporary directory.

Runs use one thread each and run two at a time in separate processes.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import statistics
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import torch

import models
from models import tasks

pytestmark = pytest.mark.slow

_WORKERS = max(1, min(2, os.cpu_count() or 1))


def _run(spec: dict[str, Any]) -> dict[str, Any]:
    """Build and train one model in a worker process; return the result as a dict."""
    torch.set_num_threads(1)
    task = tasks.get(spec["task"], **spec["task_params"])
    model = models.build(
        spec["kind"],
        input_size=task.input_size,
        hidden_size=spec["hidden"],
        output_size=task.output_size,
        seed=spec["seed"],
        readout=task.readout,
        **spec["options"],
    )
    result = models.train(model, task, models.TrainConfig(seed=spec["seed"], **spec["train"]))
    return {**spec, "result": result.to_dict()}


def _run_all(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=_WORKERS, mp_context=context) as pool:
        return list(pool.map(_run, specs))


def test_copy_task_orthogonal_models_solve_it_lstm_does_not(tmp_path: Path) -> None:
    task_params = {"T": 100, "test_size": 1000, "seed": 0}
    baseline = tasks.get("copy", **task_params).baseline
    assert baseline == pytest.approx(10 * math.log(8) / 120)
    common = {"steps": 400, "batch_size": 128, "optimizer": "rmsprop", "checkpoint_every": 100}
    specs = [
        {"name": "exprnn", "kind": "exprnn", "options": {"init": "henaff"}},
        {"name": "scornn", "kind": "scornn", "options": {"init": "cayley"}},
        {"name": "lstm", "kind": "lstm", "options": {}},
    ]
    specs = [
        {
            **s,
            "task": "copy",
            "task_params": task_params,
            "hidden": 128,
            "seed": 0,
            "train": {**common, "lr": 1e-3, "lr_orth": 1e-4},
        }
        for s in specs
    ]
    runs = {r["name"]: r["result"] for r in _run_all(specs)}
    lines = ["| model | step | test loss / baseline | recall accuracy |", "|---|---|---|---|"]
    for name, result in runs.items():
        for e in result["evaluations"]:
            lines.append(
                f"| {name} | {e['step']} | {e['test_loss'] / baseline:.4f} | "
                f"{e['test_metric']:.3f} |"
            )
    table = "\n".join(lines)
    (tmp_path / "copy_T100.md").write_text(table + "\n", encoding="utf-8")
    print(f"\ncopy T=100, N=128, batch 128, baseline {baseline:.4f}\n{table}")

    for name in ("exprnn", "scornn"):
        assert runs[name]["test_loss"] < 0.1 * baseline, name
        assert runs[name]["test_metric"] > 0.9, name
    assert runs["lstm"]["test_loss"] > 0.9 * baseline
    assert runs["lstm"]["test_metric"] < 0.3  # chance recall is 1/8


_DIGITS_MODELS: dict[str, dict[str, Any]] = {
    "rnn orthogonal elu": {
        "kind": "rnn",
        "options": {"nonlinearity": "elu", "init": "orthogonal"},
        "train": {"lr": 3e-4},
    },
    "rnn chain elu": {
        "kind": "rnn",
        "options": {"nonlinearity": "elu", "init": "chain", "alpha": 1.0},
        "train": {"lr": 3e-4},
    },
    "exprnn": {"kind": "exprnn", "options": {"init": "cayley"}, "train": {"lr": 1e-3}},
    "scornn": {"kind": "scornn", "options": {"init": "cayley"}, "train": {"lr": 1e-3}},
    "lstm": {"kind": "lstm", "options": {}, "train": {"lr": 1e-3}},
    "nru": {"kind": "nru", "options": {}, "train": {"lr": 1e-3, "optimizer": "adam", "clip": 1.0}},
}


def test_permuted_digits_accuracy_table(tmp_path: Path) -> None:
    seeds = (0, 1, 2)
    # 40 epochs of the 1437 training images at batch 32
    common = {"steps": 1800, "batch_size": 32, "checkpoint_every": 450}
    specs = [
        {
            "name": name,
            "kind": m["kind"],
            "options": m["options"],
            "task": "digits",
            "task_params": {"permuted": True},
            "hidden": 64,
            "seed": seed,
            "train": {**common, **m["train"]},
        }
        for name, m in _DIGITS_MODELS.items()
        for seed in seeds
    ]
    runs = _run_all(specs)
    accuracy: dict[str, list[float]] = {name: [] for name in _DIGITS_MODELS}
    for r in runs:
        accuracy[r["name"]].append(r["result"]["test_metric"])
    lines = ["| model | seeds 0 / 1 / 2 (%) | mean (%) |", "|---|---|---|"]
    for name, values in accuracy.items():
        per_seed = " / ".join(f"{100 * v:.1f}" for v in values)
        lines.append(f"| {name} | {per_seed} | {100 * statistics.mean(values):.1f} |")
    table = "\n".join(lines)
    (tmp_path / "digits_accuracy.md").write_text(table + "\n", encoding="utf-8")
    print(f"\npermuted digits, N=64, batch 32, 1800 steps, test accuracy\n{table}")

    means = {name: statistics.mean(v) for name, v in accuracy.items()}
    for name in ("rnn orthogonal elu", "rnn chain elu", "exprnn", "scornn"):
        assert means[name] > 0.8, (name, means[name])
    for name in ("lstm", "nru"):
        assert means[name] > 0.5, (name, means[name])
