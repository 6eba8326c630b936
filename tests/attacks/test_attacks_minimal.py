"""Minimal adversarial perturbations: consistency with the fixed-size attacks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import attacks

STEPS = 30


@pytest.fixture(scope="module")
def flipped(data):
    x, y = data
    y = y.clone()
    y[:2] = (y[:2] + 1) % 4
    return x, y


@pytest.fixture(scope="module")
def minimal_l2(gru, flipped):
    x, y = flipped
    return attacks.minimal_perturbation(
        gru, x, y, norm="l2", attacks=("deepfool", "fmn", "cw"), steps=STEPS
    )


def test_minimum_over_attacks_and_zero_for_misclassified(minimal_l2):
    m = minimal_l2
    assert m.attacks == ("deepfool", "fmn", "cw")
    stacked = np.array([m.per_attack[name] for name in m.attacks])
    assert np.array_equal(np.array(m.norms), stacked.min(axis=0))
    correct = np.array(m.correct)
    assert not correct[:2].any() and m.norms[0] == m.norms[1] == 0.0
    assert (np.array(m.norms)[correct] > 0).all()
    assert m.clean_accuracy == pytest.approx(correct.mean())
    q1, med, q3 = np.quantile(np.array(m.norms)[correct], [0.25, 0.5, 0.75])
    assert (m.q1, m.median, m.q3) == pytest.approx((q1, med, q3))
    assert m.success_rate == 1.0


@pytest.mark.parametrize("name", ["deepfool", "fmn", "cw"])
def test_clipped_attack_breaks_every_sample_beyond_its_norm(gru, flipped, minimal_l2, name):
    """Re-running the attack and clipping it at eps breaks every sample whose norm is <= eps."""
    x, y = flipped
    norms = np.array(minimal_l2.per_attack[name])
    eps = [0.2, 0.4, 0.7, 1.2]
    curve = attacks.adversarial(gru, x, y, norm="l2", epsilons=eps, attacks=(name,), steps=STEPS)
    for e, acc in zip(eps, curve.per_attack[name], strict=True):
        assert acc <= np.mean(norms > e)


def test_accuracy_at_is_the_norm_survival(minimal_l2):
    m = minimal_l2
    eps = [0.0, 0.3, 1.0]
    assert m.accuracy_at(eps) == tuple(float(np.mean(np.array(m.norms) > e)) for e in eps)
    assert m.accuracy_at([0.0])[0] == pytest.approx(m.clean_accuracy)


def test_linf_leaves_out_cw_and_agrees_with_clipped_runs(gru, data):
    x, y = data
    m = attacks.minimal_perturbation(
        gru, x, y, norm="linf", attacks=("deepfool", "fmn", "cw", "fmn-linf"), steps=STEPS
    )
    assert m.attacks == ("deepfool", "fmn")
    assert "cw" in m.skipped and "fmn-linf" in m.skipped
    norms = np.array(m.norms)
    assert (norms > 0).all() and np.isfinite(norms).all()
    eps = [0.05, 0.1, 0.2]
    curve = attacks.adversarial(gru, x, y, epsilons=eps, attacks=m.attacks, steps=STEPS)
    for e, acc in zip(eps, curve.robust_accuracy, strict=True):
        assert acc <= np.mean(norms > e)


def test_unbroken_samples_are_infinite_and_null_in_json(kit, data):
    x, y = data
    model = kit.GRUNet()
    with torch.no_grad():
        for p in model.out.parameters():
            p.zero_()
        model.out.bias[0] = 1.0  # constant prediction 0, no gradient to follow
    m = attacks.minimal_perturbation(model, x, y, norm="l2", attacks=("deepfool",), steps=5)
    correct = np.array(m.correct)
    assert correct.any() and np.isinf(np.array(m.norms)[correct]).all()
    assert m.success_rate == 0.0 and m.median == float("inf")
    out = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    assert out["median"] is None
    assert all(v is None for v, ok in zip(out["norms"], correct, strict=True) if ok)


def test_quartiles_at_an_exact_order_statistic_next_to_unbroken_samples():
    from attacks.minimal import _quantiles

    # median of 5 is the 3rd value exactly; numpy's lerp gives inf * 0 = NaN there
    assert _quantiles(np.array([3.0, np.inf, 1.0, np.inf, 2.0])) == (2.0, 3.0, np.inf)
    assert _quantiles(np.array([1.0, 2.0, 3.0, 4.0, np.inf])) == (2.0, 3.0, 4.0)
    assert _quantiles(np.array([0.1, 0.2, 0.3, 0.5])) == pytest.approx(
        tuple(np.quantile([0.1, 0.2, 0.3, 0.5], [0.25, 0.5, 0.75]))
    )


class _SafeInBounds(torch.nn.Module):
    """Class 0 everywhere on [0.5, 1.5]; class 1 only near 0, outside the bounds."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def forward(self, x):
        a = 10 - 100 * torch.relu(0.4 - x.flatten(1).mean(1)) * self.w
        return torch.stack([a, torch.zeros_like(a)], 1)


def test_cw_failures_outside_the_bounds_are_not_adversarial():
    # foolbox's C&W returns zeros where it fails; 0 is outside these bounds
    x, y = torch.ones(3, 4, 2), torch.zeros(3, dtype=torch.int64)
    kw = {"norm": "l2", "attacks": ("cw",), "steps": 5, "bounds": (0.5, 1.5)}
    m = attacks.minimal_perturbation(_SafeInBounds(), x, y, binary_search_steps=2, **kw)
    assert m.norms == (float("inf"),) * 3 and m.success_rate == 0.0
    curve = attacks.adversarial(_SafeInBounds(), x, y, epsilons=[0.5, 10.0], **kw)
    assert curve.robust_accuracy == (1.0, 1.0)
