"""A model kind defined outside the package trains, saves, loads, and runs through the CLI.

The toy kind below is what a new module in ``models/`` would hold; it is registered here with
:func:`models.register_kind` (the one line a built-in kind adds to ``models/build.py``) and
nothing in ``rnnscope`` knows of it: ``rnnscope train``, ``analyze``, ``attack``, ``dynamics``
and ``report`` take it by name.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from torch import nn

import models
from models._options import READOUT, _Option, _real
from models.base import RecurrentModel
from models.errors import InvalidOptionError, UnknownKindError
from tests.rnnscope.helpers import invoke

KIND = "leaky_example"


class LeakyRNN(RecurrentModel):
    r"""Leaky tanh cell :math:`h_t = (1 - a) h_{t-1} + a \tanh(W h_{t-1} + U x_t + b)`."""

    kind: ClassVar[str] = KIND
    OPTIONS: ClassVar[dict[str, _Option]] = {
        "leak": _Option(0.5, _real(low=0.0)),
        "readout": READOUT,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        H, F = self.hidden_size, self.input_size
        g = self._generator()
        self.W = nn.Parameter(torch.randn(H, H, generator=g) / math.sqrt(H))
        self.U = nn.Parameter(torch.randn(H, F, generator=g) / math.sqrt(F))
        self.bias = nn.Parameter(torch.zeros(H))
        self.leak = float(self._options["leak"])
        self.readout = self._make_readout(g)

    @classmethod
    def _cell_shapes(cls, F: int, H: int, options: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        return {"W": (H, H), "U": (H, F), "bias": (H,)}

    def _compute_recurrent(self) -> torch.Tensor:
        return self.W

    def _step(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        drive = state @ self.recurrent_weight().T + x_t @ self.U.T + self.bias
        return (1.0 - self.leak) * state + self.leak * torch.tanh(drive)

    def _run(self, x: torch.Tensor, *, all_steps: bool) -> torch.Tensor:
        h = self.initial_state(x.shape[0])
        states = []
        for t in range(x.shape[1]):
            h = self._step(h, x[:, t])
            states.append(h)
        return torch.stack(states, dim=1) if all_steps else h


@pytest.fixture(scope="module")
def leaky() -> Iterator[type[LeakyRNN]]:
    models.register_kind(LeakyRNN)
    yield LeakyRNN
    models.unregister_kind(KIND)


@pytest.fixture(scope="module")
def run(leaky: type[LeakyRNN], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("leaky") / "run"
    args = ["train", KIND, "digits", "--task-param", "permuted=true", "--hidden", "6"]
    result = invoke([*args, "--steps", "3", "--batch-size", "8", "--out", out])
    assert result.exit_code == 0, result.stderr
    return out


def test_build_validates_the_new_kinds_options(leaky: type[LeakyRNN]) -> None:
    model = models.build(KIND, input_size=2, hidden_size=3, output_size=4, leak=0.25)
    assert isinstance(model, LeakyRNN) and model.config["options"] == {
        "leak": 0.25,
        "readout": "last",
    }
    assert KIND in models.registered_kinds() and KIND not in models.KINDS
    with pytest.raises(InvalidOptionError, match="leak"):
        models.build(KIND, input_size=2, hidden_size=3, output_size=4, leak=-1.0)
    with pytest.raises(InvalidOptionError, match="already registered"):
        models.register_kind(type("Other", (LeakyRNN,), {}))


def test_the_step_map_and_its_jacobian_agree_with_the_forward_pass(
    leaky: type[LeakyRNN],
) -> None:
    model = models.build(KIND, input_size=2, hidden_size=3, output_size=4, seed=1)
    x = torch.randn(5, 7, 2, generator=torch.Generator().manual_seed(0))
    h = model.initial_state(5)
    for t in range(7):
        h = model.step(h, x[:, t])
    assert torch.allclose(model.hidden_states(x)[:, -1], h, atol=1e-6)
    state, x_t = h[:1].double(), x[:1, 0].double()
    J = model.double().step_jacobian(state, x_t)[0]
    a, W = model.leak, model.W.detach().double()
    drive = state[0] @ W.T + x_t[0] @ model.U.detach().double().T + model.bias.detach().double()
    expected = (1 - a) * torch.eye(3, dtype=torch.float64) + a * (1 - torch.tanh(drive) ** 2)[
        :, None
    ] * W
    assert torch.allclose(J, expected, atol=1e-10)


def test_trained_checkpoint_loads_back_with_the_same_weights(run: Path) -> None:
    from safetensors.torch import load_file

    checkpoint = models.load(run)
    assert checkpoint.kind == KIND and isinstance(checkpoint.model, LeakyRNN)
    stored = load_file(str(run / models.WEIGHTS_FILE))
    state = checkpoint.model.state_dict()
    assert sorted(stored) == sorted(state)
    for name, tensor in state.items():
        assert torch.equal(tensor, stored[name]), name
    assert checkpoint.model.leak == 0.5
    assert checkpoint.task["name"] == "digits"


def test_analyze_reports_the_new_kinds_matrix(run: Path) -> None:
    result = invoke(["analyze", run, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    W = models.load(run).recurrent_matrix().double().numpy()
    (matrix,) = [m for m in data["matrices"] if m["name"] == "W"]
    radius = float(np.max(np.abs(np.linalg.eigvals(W))))
    assert matrix["spectral_radius"] == pytest.approx(radius, rel=1e-6)


def test_attack_and_dynamics_take_the_new_kind(run: Path) -> None:
    args = ["attack", run, "--samples", "4", "--steps", "2", "--eps", "0.1", "--json"]
    attack = invoke([*args, "--strength", "quick"])
    assert attack.exit_code == 0, attack.stderr
    robust = json.loads(attack.stdout)
    assert robust["source"] == str(run) and robust["samples"] == 4
    accuracies = [a for values in robust["robust_accuracy"].values() for a in values]
    assert accuracies and all(0.0 <= a <= robust["clean_accuracy"] for a in accuracies)
    dynamics = invoke(["dynamics", run, "--lyapunov", "2", "--samples", "2", "--json"])
    assert dynamics.exit_code == 0, dynamics.stderr
    exponents = json.loads(dynamics.stdout)["lyapunov"]["exponents"]
    assert len(exponents) == 2 and all(math.isfinite(e) for e in exponents)


def test_report_shows_the_new_kind(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    args = ["report", run, "--out", out, "--samples", "4", "--steps", "2", "--grid", "12"]
    result = invoke([*args, "--strength", "quick"])
    assert result.exit_code == 0, result.stderr
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    (entry,) = data["models"]
    assert entry["kind"] == KIND
    assert KIND in (out / "index.html").read_text(encoding="utf-8")


def test_unregister_removes_only_added_kinds(leaky: type[LeakyRNN]) -> None:
    other = type("OtherLeaky", (LeakyRNN,), {"kind": "other_leaky_example"})
    models.register_kind(other)
    models.build("other_leaky_example", input_size=1, hidden_size=2, output_size=2)
    models.unregister_kind("other_leaky_example")
    assert "other_leaky_example" not in models.registered_kinds()
    with pytest.raises(UnknownKindError, match="other_leaky_example"):
        models.build("other_leaky_example", input_size=1, hidden_size=2, output_size=2)
    with pytest.raises(UnknownKindError):
        models.unregister_kind("rnn")
