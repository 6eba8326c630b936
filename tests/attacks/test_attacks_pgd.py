"""PGD and the robustness curve against a plain torch PGD loop and torchattacks."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

import attacks

STEPS = 10


def _robust(kit, model, x, y, adv):
    return float((kit.accuracy_on(model, x, y) & kit.accuracy_on(model, adv, y)).double().mean())


@pytest.mark.parametrize(
    ("norm", "eps"),
    [("linf", 0.05), ("linf", 0.1), ("l2", 0.3), ("l2", 0.6)],
)
def test_deterministic_pgd_matches_plain_torch_loop(kit, data, gru, norm, eps):
    x, y = data
    alpha = 2.5 * eps / STEPS
    curve = attacks.adversarial(
        gru, x, y, norm=norm, epsilons=[eps], attacks=("pgd",), steps=STEPS, random_start=False
    )
    adv = kit.raw_pgd(gru, x, y, eps=eps, steps=STEPS, alpha=alpha, norm=norm)
    assert curve.per_attack["pgd"][0] == _robust(kit, gru, x, y, adv)
    assert 0.0 < curve.robust_accuracy[0] < curve.clean_accuracy


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_deterministic_pgd_matches_torchattacks(kit, data, loop_rnn, norm):
    torchattacks = pytest.importorskip("torchattacks")
    x, y = data
    eps = 0.08 if norm == "linf" else 0.5
    alpha = 0.02 if norm == "linf" else 0.1
    cls = torchattacks.PGD if norm == "linf" else torchattacks.PGDL2
    peer = cls(kit.Image4D(loop_rnn), eps=eps, alpha=alpha, steps=STEPS, random_start=False)
    adv = peer(x.unsqueeze(1), y).squeeze(1)
    curve = attacks.adversarial(
        loop_rnn,
        x,
        y,
        norm=norm,
        epsilons=[eps],
        attacks=("pgd",),
        steps=STEPS,
        step_size=alpha,
        random_start=False,
    )
    assert curve.per_attack["pgd"][0] == _robust(kit, loop_rnn, x, y, adv)
    raw = kit.raw_pgd(loop_rnn, x, y, eps=eps, steps=STEPS, alpha=alpha, norm=norm)
    assert _robust(kit, loop_rnn, x, y, raw) == curve.per_attack["pgd"][0]
    if norm == "linf":
        assert torch.equal(raw, adv)


def test_random_start_agrees_with_peers_over_seeds(kit, data, gru):
    """Mean robust accuracy over 5 random starts agrees within sampling error.

    The three implementations draw different random starts, so per seed they
    may differ on borderline samples. The tolerance is the larger of 1 point and
    three standard errors of the difference of two 5-seed means.
    """
    torchattacks = pytest.importorskip("torchattacks")
    x, y = data
    eps, alpha = 0.1, 2.5 * 0.1 / STEPS
    ours, raw, peer = [], [], []
    for seed in range(5):
        curve = attacks.adversarial(
            gru, x, y, epsilons=[eps], attacks=("pgd",), steps=STEPS, seed=seed
        )
        ours.append(curve.robust_accuracy[0])
        g = torch.Generator().manual_seed(seed)
        start = (x + (torch.rand(x.shape, generator=g) * 2 - 1) * eps).clamp(0, 1)
        adv = kit.raw_pgd(gru, x, y, eps=eps, steps=STEPS, alpha=alpha, start=start)
        raw.append(_robust(kit, gru, x, y, adv))
        torch.manual_seed(seed)
        atk = torchattacks.PGD(kit.Image4D(gru), eps=eps, alpha=alpha, steps=STEPS)
        peer.append(_robust(kit, gru, x, y, atk(x.unsqueeze(1), y).squeeze(1)))
    for other in (raw, peer):
        se = np.sqrt(np.var(ours, ddof=1) / 5 + np.var(other, ddof=1) / 5)
        assert abs(np.mean(ours) - np.mean(other)) <= max(0.01, 3 * se)


def test_curve_invariants(data, loop_rnn):
    x, y = data
    y = y.clone()
    y[:3] = (y[:3] + 1) % 4  # three samples are now misclassified
    eps = [0.0, 0.03, 0.1, 0.3]
    curve = attacks.adversarial(
        loop_rnn, x, y, epsilons=eps, attacks=("fgsm", "pgd", "bim", "deepfool"), steps=STEPS
    )
    assert curve.clean_accuracy <= 61 / 64
    assert curve.robust_accuracy[0] == curve.clean_accuracy
    for k in range(len(eps)):
        worst = min(acc[k] for acc in curve.per_attack.values())
        assert curve.robust_accuracy[k] <= worst
        assert all(acc[k] <= curve.clean_accuracy for acc in curve.per_attack.values())
    assert 0.0 <= curve.auc <= curve.clean_accuracy
    expected = np.trapezoid(curve.robust_accuracy, eps) / (eps[-1] - eps[0])
    assert curve.auc == pytest.approx(expected)
    if curve.eps50 is not None:
        k = int(np.searchsorted(eps, curve.eps50))
        assert eps[k - 1] <= curve.eps50 <= eps[k]
        half = curve.clean_accuracy / 2
        assert curve.robust_accuracy[k - 1] > half >= curve.robust_accuracy[k]
    text = json.dumps(curve.to_dict(), allow_nan=False)
    assert json.loads(text)["provenance"]["n_samples"] == 64


def test_more_restarts_never_raise_robust_accuracy(data, gru):
    x, y = data
    kw = dict(epsilons=[0.05, 0.1], attacks=("pgd",), steps=5, seed=3)
    one = attacks.adversarial(gru, x, y, restarts=1, **kw)
    three = attacks.adversarial(gru, x, y, restarts=3, **kw)
    assert all(a <= b for a, b in zip(three.robust_accuracy, one.robust_accuracy, strict=True))
    assert three.provenance["settings"]["restarts"] == 3


def test_same_seed_same_result_and_caller_rng_untouched(data, gru):
    x, y = data
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    kw = dict(epsilons=[0.1], attacks=("pgd",), steps=5, seed=11)
    first = attacks.adversarial(gru, x, y, **kw)
    assert torch.equal(torch.random.get_rng_state(), before)
    second = attacks.adversarial(gru, x, y, **kw)
    assert json.dumps(first.to_dict()) == json.dumps(second.to_dict())


def test_per_step_outputs_use_the_last_step(data, loop_rnn):
    x, y = data
    per_step = copy.deepcopy(loop_rnn)
    per_step.readout_mode = "all"
    assert per_step(x).shape == (64, 10, 4)
    kw = dict(epsilons=[0.05, 0.1], attacks=("fgsm", "pgd"), steps=5)
    assert (
        attacks.adversarial(per_step, x, y, **kw).per_attack
        == attacks.adversarial(loop_rnn, x, y, **kw).per_attack
    )


def test_large_eps_breaks_everything(data, gru):
    x, y = data
    curve = attacks.adversarial(gru, x, y, epsilons=[1.0], attacks=("pgd",), steps=10)
    assert curve.robust_accuracy == (0.0,)
