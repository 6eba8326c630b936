"""Gradient masking by modReLU is caught: adaptive attack, black-box check, sign noise."""

from __future__ import annotations

import json

import pytest
import torch

import attacks
import models
from attacks._model import attack_mode
from attacks.surrogate import modrelu_surrogate

EPS = [0.02, 0.05, 0.1]


@pytest.fixture(scope="module")
def masked(kit):
    """A scoRNN whose modReLU biases are positive: it jumps at 0, which gradients cannot see."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = models.build("scornn", input_size=kit.F, hidden_size=16, output_size=kit.C, seed=0)
        with torch.no_grad():
            model.modrelu_bias.uniform_(0.05, 0.4)
        return kit.train(model, steps=150, seed=0)


@pytest.fixture(scope="module")
def task(kit):
    return kit.make_task(100, seed=7)


@pytest.fixture(scope="module")
def curve(masked, task):
    x, y = task
    names = ("fgsm", "pgd", "apgd-ce", "apgd-dlr", "square", "adaptive")
    return attacks.adversarial(
        masked, x, y, epsilons=EPS, attacks=names, steps=20, strength="quick"
    )


def test_surrogate_rebuilds_the_model_and_tends_to_it(masked, task):
    x, _ = task
    with attack_mode(masked) as wrapped:
        surrogate, tau, note = modrelu_surrogate(masked, wrapped, x, steps=10)
        assert surrogate is not None, note
        exact = wrapped(x)
        assert torch.allclose(surrogate(x), exact, atol=1e-4)
        far = (surrogate(x, 1.0) - exact).abs().max()
        near = (surrogate(x, 1e-4) - exact).abs().max()
        assert near < 0.1 * far
        assert tau(0) > tau(10) == pytest.approx(tau(0) / 100)


def test_default_ensemble_includes_the_adaptive_attack_for_modrelu(masked, kit):
    assert attacks.default_attacks(masked)[-1] == "adaptive"
    assert attacks.has_modrelu(masked, positive_bias_only=True)
    assert "square" not in attacks.default_attacks(masked, black_box=False)
    assert "adaptive" not in attacks.default_attacks(kit.GRUNet())


def test_masking_is_caught_and_the_reported_number_includes_the_stronger_attacks(
    masked, task, curve
):
    x, y = task
    plain = curve.white_box
    assert curve.robust_accuracy[-1] <= min(curve.per_attack["square"][-1], plain[-1])
    # the gradient attacks alone over-report robust accuracy on this model
    assert plain[-1] - curve.robust_accuracy[-1] >= 0.1
    assert curve.per_attack["adaptive"][-1] < plain[-1]
    report = attacks.sanity(masked, x, y, curve=curve, steps=10)
    assert report["black_box_le_white_box"].passed is False
    assert "GRADIENT MASKING" in report["black_box_le_white_box"].detail
    assert report["adaptive_le_plain"].passed is True
    out = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert out["passed"] is False and "black_box_le_white_box" in out["failed"]


def test_adaptive_is_noted_not_faked_without_modrelu(loop_rnn, data):
    x, y = data
    c = attacks.adversarial(loop_rnn, x[:16], y[:16], epsilons=[0.05], attacks=("adaptive",))
    assert "adaptive" not in c.per_attack and c.notes["adaptive"] == "no modReLU units"
    report = attacks.sanity(loop_rnn, x[:16], y[:16], curve=c, steps=5)
    assert report["adaptive_le_plain"].passed is None


def test_sign_noise_is_a_stronger_control_than_uniform(loop_rnn, data):
    x, y = data
    kw = {"norm": "linf", "epsilons": [0.1, 0.3], "draws": 10, "seed": 0}
    uniform = attacks.noise(loop_rnn, x, y, **kw)
    sign = attacks.noise(loop_rnn, x, y, distribution="sign", **kw)
    assert sign.distribution == "sign" and sign.to_dict()["distribution"] == "sign"
    assert all(s <= u for s, u in zip(sign.robust_accuracy, uniform.robust_accuracy, strict=True))
    unit = attacks.random_noise.unit_noise((2, 3, 4), "l2", torch.Generator(), distribution="sign")
    assert torch.allclose(unit.flatten(1).norm(dim=1), torch.ones(2, dtype=torch.float64))
    with pytest.raises(attacks.UnknownAttackError, match="distribution 'gauss'"):
        attacks.noise(loop_rnn, x, y, distribution="gauss", **kw)
