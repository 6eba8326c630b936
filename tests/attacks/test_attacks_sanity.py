"""Sanity checks pass on a sound evaluation and flag each kind of failure."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from torch import nn

import attacks

NAMES = [
    "gradients",
    "deterministic",
    "logits",
    "large_eps",
    "pgd_le_fgsm",
    "monotone",
    "adversarial_le_noise",
    "certified_le_minimal",
    "black_box_le_white_box",
    "adaptive_le_plain",
    "minimal_matches_curve",
]


@pytest.fixture(scope="module")
def sound(data, projected_rnn):
    x, y = data
    eps = [0.0, 0.05, 0.1, 0.2]
    curve = attacks.adversarial(
        projected_rnn,
        x,
        y,
        epsilons=eps,
        attacks=("fgsm", "pgd", "apgd-ce", "apgd-dlr", "square"),
        steps=10,
        strength="quick",
    )
    noise = attacks.noise(projected_rnn, x, y, norm="linf", epsilons=eps, draws=5)
    minimal = attacks.minimal_perturbation(
        projected_rnn, x, y, norm="linf", steps=20, curve=curve, strength="quick"
    )
    certified = attacks.certified_radius(projected_rnn, x, y, norm="linf")
    return curve, noise, minimal, certified


def test_sound_evaluation_passes(data, projected_rnn, sound):
    x, y = data
    curve, noise, minimal, certified = sound
    report = attacks.sanity(
        projected_rnn,
        x,
        y,
        curve=curve,
        noise_curve=noise,
        minimal=minimal,
        certified=certified,
        steps=10,
    )
    assert [c.name for c in report.checks] == NAMES
    assert report.passed, report.to_dict()
    # a tanh model has no modReLU units: the adaptive check is skipped, every other one passes
    assert report["adaptive_le_plain"].passed is None
    assert all(c.passed is True for c in report.checks if c.name != "adaptive_le_plain")
    out = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert out["passed"] is True and out["failed"] == []


def test_missing_inputs_are_skipped_not_hidden(data, gru):
    x, y = data
    report = attacks.sanity(gru, x, y, steps=10)
    assert [c.name for c in report.checks] == NAMES
    skipped = {c.name for c in report.checks if c.passed is None}
    assert skipped == {
        "pgd_le_fgsm",
        "monotone",
        "adversarial_le_noise",
        "certified_le_minimal",
        "black_box_le_white_box",
        "adaptive_le_plain",
        "minimal_matches_curve",
    }
    assert report.passed, report.to_dict()


def test_computes_curves_from_epsilons(data, gru):
    x, y = data
    report = attacks.sanity(gru, x, y, norm="l2", epsilons=[0.0, 0.5, 1.0], steps=10)
    for name in ("pgd_le_fgsm", "monotone", "adversarial_le_noise"):
        assert report[name].passed is True, report[name]


def test_result_level_failures_are_reported(data, projected_rnn, sound):
    x, y = data
    curve, noise, minimal, certified = sound
    weak_pgd = dataclasses.replace(
        curve,
        per_attack={"fgsm": (1.0, 0.5, 0.4, 0.1), "pgd": (1.0, 0.6, 0.7, 0.1)},
    )
    strong_noise = dataclasses.replace(noise, robust_accuracy=(0.0, 0.0, 0.0, 0.0))
    loose = dataclasses.replace(certified, radius=tuple(r + 1.0 for r in certified.radius))
    report = attacks.sanity(
        projected_rnn,
        x,
        y,
        curve=weak_pgd,
        noise_curve=strong_noise,
        minimal=minimal,
        certified=loose,
        steps=5,
    )
    assert not report.passed
    assert set(report.failed) == {
        "pgd_le_fgsm",
        "monotone",
        "adversarial_le_noise",
        "certified_le_minimal",
    }
    assert "0.05" in report["pgd_le_fgsm"].detail
    assert "pgd rises" in report["monotone"].detail
    assert "64 samples" in report["certified_le_minimal"].detail


class _Constant(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.tensor([2.0, 0.0, 0.0, 0.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bias.expand(x.shape[0], 4) + 0 * x.sum(dim=(1, 2), keepdim=True)[:, :, 0]


class _Softmax(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(x), dim=-1)


class _Noisy(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) + 0.01 * torch.randn(x.shape[0], 4)


def test_model_level_failures_are_reported(data, gru):
    x, y = data
    masked = attacks.sanity(_Constant(), x, y, steps=3)
    assert masked["gradients"].passed is False and "64 of 64" in masked["gradients"].detail
    assert masked["large_eps"].passed is False
    probs = attacks.sanity(_Softmax(gru), x, y, steps=3)
    assert probs["logits"].passed is False
    noisy = attacks.sanity(_Noisy(gru), x, y, steps=10)
    assert set(noisy.failed) == {"deterministic"}


def test_mismatched_noise_norm_is_an_error(data, gru, sound):
    x, y = data
    _, noise, _, _ = sound
    with pytest.raises(attacks.AttackInputError, match="norm"):
        attacks.sanity(gru, x, y, norm="l2", noise_curve=noise)
