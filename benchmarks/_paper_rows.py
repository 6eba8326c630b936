"""What every row of the reproduction table shares: verdicts, run settings and trained runs.

Imported by ``benchmarks/papers.py`` (which puts this folder on the import path).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HOLDS = "holds"
FAILS = "does not hold at this scale"
OFFLINE = "not testable offline"
#: Orthogonality in float32: a few hundred roundings of size 6e-8 per entry.
ORTHOGONAL_TOL = 1e-4


@dataclass(frozen=True)
class Settings:
    """Sizes and budgets of the training runs behind the rows."""

    name: str
    hidden: int
    steps: int
    seeds: tuple[int, ...]
    copy_length: int
    copy_hidden: int
    copy_steps: int
    copy_batch: int

    def __str__(self) -> str:
        """Describe the settings in one line."""
        return (
            f"{self.name}: permuted digits with N = {self.hidden}, {self.steps} steps, seeds "
            f"{list(self.seeds)}; copy T = {self.copy_length}, N = {self.copy_hidden}, "
            f"{self.copy_steps} steps, batch {self.copy_batch}"
        )


QUICK = Settings(
    "quick",
    hidden=32,
    steps=400,
    seeds=(0, 1, 2),
    copy_length=50,
    copy_hidden=64,
    copy_steps=400,
    copy_batch=64,
)
FULL = Settings(
    "full",
    hidden=64,
    steps=1800,
    seeds=(0, 1, 2, 3, 4),
    copy_length=100,
    copy_hidden=128,
    copy_steps=1500,
    copy_batch=128,
)


def row(
    claim: str,
    published: str | None,
    ours: str | None,
    command: str,
    verdict: str,
    why: str | None = None,
) -> dict[str, Any]:
    """One claim of the table."""
    return {
        "claim": claim,
        "published": published,
        "ours": ours,
        "command": command,
        "verdict": verdict,
        "why": why,
    }


def mean_std(values: list[float], digits: int = 3) -> str:
    """``mean ± std`` over seeds."""
    arr = np.asarray(values, dtype=float)
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return f"{arr.mean():.{digits}f} ± {std:.{digits}f} (n = {arr.size})"


class Runs:
    """Train each configuration once and keep its model and test accuracy."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.settings = settings
        self.workdir = workdir
        self._cache: dict[tuple[Any, ...], tuple[Any, float, float]] = {}

    def run(
        self, kind: str, task_name: str, *, seed: int, **options: Any
    ) -> tuple[Any, float, float]:
        """Train (or return the cached) model; gives ``(model, test metric, loss / baseline)``."""
        import torch

        import models

        key = (kind, task_name, seed, tuple(sorted(options.items())))
        if key in self._cache:
            return self._cache[key]
        s = self.settings
        if task_name == "copy":
            task = models.tasks.get("copy", T=s.copy_length)
            steps, batch = s.copy_steps, s.copy_batch
            options["readout"] = "all"
            hidden = s.copy_hidden
        else:
            task = models.tasks.get("digits", permuted=True)
            steps, batch, hidden = s.steps, 32, s.hidden
        train_options = {k: options.pop(k) for k in ("lr", "lr_orth", "clip") if k in options}
        lr = train_options.pop("lr", 1e-3)
        torch.set_num_threads(1)
        model = models.build(
            kind,
            input_size=task.input_size,
            hidden_size=hidden,
            output_size=task.output_size,
            seed=seed,
            **options,
        )
        config = models.TrainConfig(
            steps=steps, batch_size=batch, lr=lr, seed=seed, **train_options
        )
        result = models.train(model, task, config)
        value = (model, float(result.test_metric), float(result.test_loss / result.baseline))
        self._cache[key] = value
        return value


def matrix(model: Any) -> np.ndarray:
    """The model's recurrent matrix as float64."""
    return model.recurrentmatrix().detach().double().numpy()
