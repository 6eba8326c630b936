"""The default ensemble: APGD and Square against torchattacks and a long reference attack."""

from __future__ import annotations

import json

import pytest
import torch

import attacks
from attacks._apgd import Best, apgd, loss_per_sample
from attacks._model import attack_mode
from attacks._square import square

EPS = 0.08


@pytest.fixture(scope="module")
def rnn(kit):
    """A fixed small nn.RNN classifier (its C++ loop keeps the long reference attack cheap)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return kit.train(kit.TorchRNNNet(torch.nn.RNN, hidden=8), seed=4)


@pytest.fixture(scope="module")
def task(kit):
    return kit.make_task(100, seed=7)


def _reference(kit, model, x, y, *, norm, eps):
    """PGD 5 x 200 steps with the cross-entropy and the margin loss, then Square 5000 queries."""
    alive = kit.accuracy_on(model, x, y)
    for loss in ("ce", "margin"):
        for r in range(5):
            g = torch.Generator().manual_seed(100 + r)
            if norm == "linf":
                delta = eps * (2 * torch.rand(x.shape, generator=g) - 1)
            else:
                delta = torch.randn(x.shape, generator=g)
                delta = 0.5 * eps * delta / delta.flatten(1).norm(dim=1).view(-1, 1, 1)
            start = (x + delta).clamp(0, 1)
            _, ever = kit.raw_pgd(
                model, x, y, eps=eps, steps=200, alpha=2.5 * eps / 200, start=start, norm=norm,
                track=True, loss=loss,
            )  # fmt: skip
            alive &= ~ever
    budget = torch.where(alive, torch.full((x.shape[0],), eps), torch.zeros(x.shape[0]))
    with attack_mode(model) as wrapped:
        found = square(wrapped, x, y, budget, norm=norm, queries=5000, seed=77, bounds=(0.0, 1.0))
    return float((alive & ~found.found).double().mean())


def test_default_ensemble_within_one_point_of_a_long_reference_attack(kit, rnn, task):
    x, y = task
    curve = attacks.adversarial(rnn, x, y, epsilons=[EPS], strength="standard")
    assert set(curve.per_attack) == {"apgd-ce", "apgd-dlr", "square"}
    assert curve.strength == "standard"
    reference = _reference(kit, rnn, x, y, norm="linf", eps=EPS)
    assert (
        0.2 < reference < curve.clean_accuracy - 0.2
    )  # the budget is neither trivial nor hopeless
    assert abs(curve.robust_accuracy[0] - reference) <= 0.01 + 1e-12


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_adversarials_are_inside_the_ball_and_the_box_and_fool_the_model(kit, rnn, task, norm):
    x, y = task
    eps = EPS if norm == "linf" else 0.4
    with attack_mode(rnn) as wrapped:
        budget = torch.full((x.shape[0],), eps)
        for best in (
            apgd(wrapped, x, y, budget, norm=norm, loss="dlr", steps=20, restarts=2, seed=0,
                 bounds=(0.0, 1.0)),
            square(wrapped, x, y, budget, norm=norm, queries=200, seed=0, bounds=(0.0, 1.0)),
        ):  # fmt: skip
            assert best.found.any()
            adv = best.adversarial[best.found]
            assert (adv >= 0).all() and (adv <= 1).all()
            assert (best.size[best.found] <= eps * (1 + 1e-6)).all()
            assert torch.allclose(best.sizes(best.adversarial)[best.found], best.size[best.found])
            fooled = ~kit.accuracy_on(rnn, adv, y[best.found])
            assert fooled.all()


def test_apgd_agrees_with_torchattacks(kit, rnn, task):
    torchattacks = pytest.importorskip("torchattacks")
    x, y = task
    ours = attacks.adversarial(rnn, x, y, epsilons=[EPS], attacks=("apgd-ce",), strength="standard")
    with attack_mode(rnn):
        atk = torchattacks.APGD(kit.Image4D(rnn), norm="Linf", eps=EPS, steps=100, n_restarts=5,
                                loss="ce", seed=0)  # fmt: skip
        adv = atk(x[:, None], y)[:, 0]
    theirs = float((kit.accuracy_on(rnn, x, y) & kit.accuracy_on(rnn, adv, y)).double().mean())
    # same algorithm, other random starts; ours also scores every iterate
    assert ours.per_attack["apgd-ce"][0] <= theirs + 0.02


def test_apgd_beats_single_step_and_counts_every_iterate(kit, rnn, task):
    x, y = task
    curve = attacks.adversarial(
        rnn, x, y, epsilons=[0.0, 0.03, EPS], attacks=("fgsm", "apgd-ce"), strength="quick"
    )
    fgsm, apgd_ce = curve.per_attack["fgsm"], curve.per_attack["apgd-ce"]
    assert all(a <= f for a, f in zip(apgd_ce, fgsm, strict=True))
    assert curve.robust_accuracy[0] == curve.clean_accuracy
    assert curve.white_box == curve.robust_accuracy


def test_dlr_and_margin_losses():
    z = torch.tensor([[3.0, 1.0, 0.0, -1.0], [0.0, 2.0, 1.0, 0.5]])
    y = torch.tensor([0, 0])
    margin = loss_per_sample(z, y, "margin")
    assert torch.allclose(margin, torch.tensor([-2.0, 2.0]))
    dlr = loss_per_sample(z, y, "dlr")
    assert torch.allclose(dlr, torch.tensor([-2.0 / 3.0, 2.0 / 1.5]))
    # DLR is invariant to shifting and scaling the logits
    assert torch.allclose(loss_per_sample(5 * z + 7, y, "dlr"), dlr)
    # two classes: DLR is undefined and falls back to the margin
    two = torch.tensor([[1.0, 3.0]])
    assert float(loss_per_sample(two, torch.tensor([0]), "dlr")) == 2.0


def test_budgets_are_per_sample():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 3))
    x = torch.rand(6, 3, 2, generator=torch.Generator().manual_seed(0))
    y = torch.zeros(6, dtype=torch.int64)
    budget = torch.tensor([0.0, 0.05, 0.1, 0.2, 0.5, 1.0])
    best = apgd(net, x, y, budget, norm="l2", loss="margin", steps=10, restarts=1, seed=0,
                bounds=(0.0, 1.0), best=Best(x, "l2"))  # fmt: skip
    assert not best.found[0] or float(best.size[0]) == 0.0
    assert (best.size[best.found] <= budget[best.found] * (1 + 1e-6)).all()


def test_strength_names_and_json(rnn, task):
    x, y = task
    with pytest.raises(attacks.AttackInputError, match="unknown strength 'fast'"):
        attacks.adversarial(rnn, x, y, epsilons=[0.1], strength="fast")
    assert attacks.STRENGTHS["standard"].restarts >= 5
    curve = attacks.adversarial(rnn, x[:20], y[:20], epsilons=[0.0, 0.1], strength="quick")
    out = json.loads(json.dumps(curve.to_dict(), allow_nan=False))
    assert out["strength"] == "quick"
    assert out["provenance"]["settings"]["strength"]["apgd_steps"] == 25
    lo, hi = out["intervals"]["robust"][1]
    assert lo <= out["robust_accuracy"][1] <= hi
    assert len(out["broken_at"]) == 20
