"""Tiny trained checkpoints and a CLI runner shared by the rnnscope tests.

Every checkpoint here is trained for a couple of steps only: the tests check the plumbing and
invariants of the command line and the report, not accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnscope.training import train_checkpoint

DIGITS = {"permuted": True}


def _train(root: Path, name: str, kind: str, **options: object) -> Path:
    out = root / name
    train_checkpoint(
        kind,
        "digits",
        out=out,
        task_params=DIGITS,
        hidden=8,
        steps=2,
        batch_size=16,
        seed=0,
        options=options,
    )
    return out


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tanh RNN and an LSTM trained for two steps on permuted digits."""
    root = tmp_path_factory.mktemp("runs")
    return {
        "rnn": _train(root, "rnn", "rnn", nonlinearity="tanh"),
        "lstm": _train(root, "lstm", "lstm"),
    }


@pytest.fixture
def tiny_rnn(tiny_runs: dict[str, Path]) -> Path:
    """The tiny RNN checkpoint folder (do not modify it; copy it first)."""
    return tiny_runs["rnn"]


@pytest.fixture
def chain_npy(tmp_path: Path) -> Path:
    """A 6 x 6 chain matrix (unit i drives unit i + 1) saved as .npy."""
    path = tmp_path / "chain.npy"
    np.save(path, np.diag(np.ones(5), -1))
    return path
