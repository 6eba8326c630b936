"""Random-noise curves: perturbation geometry, accuracy relations, the adversarial gap."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import attacks
from attacks.random_noise import unit_noise


class _Recorder(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.detach().clone())
        return self.model(x)


def test_unit_noise_geometry():
    g = torch.Generator().manual_seed(0)
    box = unit_noise((500, 10, 3), "linf", g)
    assert box.abs().max() <= 1.0
    assert box.mean().abs() < 0.02 and abs(box.abs().mean() - 0.5) < 0.02
    sphere = unit_noise((500, 10, 3), "l2", g)
    assert torch.allclose(sphere.flatten(1).norm(dim=1), torch.ones(500, dtype=torch.float64))


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_perturbations_stay_in_ball_and_box(gru, data, norm):
    x, y = data
    recorder = _Recorder(gru)
    eps = [0.05, 0.3]
    attacks.noise(recorder, x, y, norm=norm, epsilons=eps, draws=2)
    noisy = recorder.seen[1:]  # the first call is the clean pass
    assert len(noisy) == 2 * len(eps)
    for k, seen in enumerate(noisy):
        e = eps[k % len(eps)]
        delta = (seen - x).flatten(1)
        size = delta.abs().amax(dim=1) if norm == "linf" else delta.norm(dim=1)
        assert (size <= e * (1 + 1e-5)).all()
        assert seen.min() >= 0 and seen.max() <= 1


def test_curve_relations_and_determinism(gru, data):
    x, y = data
    eps = [0.0, 0.1, 0.3, 0.6]
    curve = attacks.noise(gru, x, y, norm="linf", epsilons=eps, draws=8, seed=4)
    assert curve.robust_accuracy[0] == curve.mean_accuracy[0] == curve.clean_accuracy
    assert curve.std_accuracy[0] == 0.0
    for worst, mean in zip(curve.robust_accuracy, curve.mean_accuracy, strict=True):
        assert worst <= mean
    assert curve.robust_accuracy[-1] < curve.clean_accuracy
    again = attacks.noise(gru, x, y, norm="linf", epsilons=eps, draws=8, seed=4)
    text = json.dumps(curve.to_dict(), allow_nan=False)
    assert text == json.dumps(again.to_dict(), allow_nan=False)


@pytest.mark.parametrize(("norm", "eps"), [("linf", [0.05, 0.1, 0.2]), ("l2", [0.25, 0.5, 1.0])])
def test_adversarial_beats_random_noise(gru, data, norm, eps):
    x, y = data
    rand = attacks.noise(gru, x, y, norm=norm, epsilons=eps, draws=10)
    adv = attacks.adversarial(gru, x, y, norm=norm, epsilons=eps, attacks=("pgd",), steps=10)
    for a, r in zip(adv.robust_accuracy, rand.robust_accuracy, strict=True):
        assert a <= r
    assert adv.robust_accuracy[-1] < rand.robust_accuracy[-1]
