"""Perturbations of the hidden state (:func:`attacks.hidden_state`)."""

from __future__ import annotations

import itertools

import pytest
import torch

import attacks
from attacks.errors import AttackInputError, UnsupportedModelError

models = pytest.importorskip("models")

DELTAS = (0.0, 0.03, 0.1, 0.3, 1.0, 3.0)


def _build(kit, kind, *, hidden=12, seed=0, **options):
    return models.build(
        kind, input_size=kit.F, hidden_size=hidden, output_size=kit.C, seed=seed, **options
    )


@pytest.fixture(scope="module")
def trained_rnn(kit):
    return kit.train(_build(kit, "rnn"), seed=0)


@pytest.mark.parametrize("kind", models.KINDS)
def test_zero_delta_is_the_clean_accuracy_for_every_kind(kit, data, kind):
    x, y = data
    model = _build(kit, kind, hidden=8)
    curve = attacks.hidden_state(model, x[:24], y[:24], deltas=[0.0, 0.5], step=3, iterations=2)
    clean = float(kit.accuracy_on(model, x[:24], y[:24]).double().mean())
    assert curve.clean_accuracy == clean
    assert curve.random_accuracy[0] == clean and curve.adversarial_accuracy[0] == clean
    assert curve.adversarial_accuracy[1] <= clean
    for value, (lo, hi) in zip(curve.random_accuracy, curve.random_intervals, strict=True):
        assert lo <= value <= hi
    data_ = curve.to_dict()
    assert data_["kind"] == "hidden_state" and data_["step"] == 3 and data_["n_steps"] == kit.T


def test_adversarial_is_monotone_and_below_random(kit, data, trained_rnn):
    x, y = data
    curve = attacks.hidden_state(trained_rnn, x, y, deltas=DELTAS, step=5, seed=3)
    adv, rnd = curve.adversarial_accuracy, curve.random_accuracy
    assert curve.clean_accuracy > 0.5
    assert all(a >= b for a, b in itertools.pairwise(adv))
    assert all(a <= r for a, r in zip(adv, rnd, strict=True))
    # the gradient direction matters: well below the random direction at some size, and the
    # largest ball breaks almost everything
    assert max(r - a for a, r in zip(adv, rnd, strict=True)) >= 0.25
    assert adv[-1] <= 0.05


def test_only_zero_deltas_need_no_perturbed_run(kit, data):
    x, y = data
    model = _build(kit, "lstm", hidden=4)
    curve = attacks.hidden_state(model, x[:8], y[:8], deltas=[0.0, 0.0], step=-1)
    assert curve.random_accuracy == curve.adversarial_accuracy == (curve.clean_accuracy,) * 2


def test_same_seed_same_curve_other_seed_other_directions(kit, data, trained_rnn):
    x, y = data
    one = attacks.hidden_state(trained_rnn, x, y, deltas=[1.0, 3.0], seed=1, adversarial=False)
    two = attacks.hidden_state(trained_rnn, x, y, deltas=[1.0, 3.0], seed=1, adversarial=False)
    assert one.to_dict() == two.to_dict()
    assert one.adversarial_accuracy is None and one.step == kit.T // 2
    others = [
        attacks.hidden_state(trained_rnn, x, y, deltas=[3.0], seed=s, adversarial=False)
        for s in range(2, 6)
    ]
    assert len({c.random_accuracy for c in [one, *others]}) > 1


def _memoryless(kit, data):
    """An RNN with W = 0 (h_t depends on x_t alone) and a two-class readout."""
    x, _ = data
    model = models.build("rnn", input_size=kit.F, hidden_size=3, output_size=2, seed=4)
    g = torch.Generator().manual_seed(4)
    with torch.no_grad():
        model.W.zero_()
        model.U.copy_(torch.randn(3, kit.F, generator=g))
        model.bias.copy_(torch.randn(3, generator=g) * 0.3)
        model.readout.weight.copy_(torch.randn(2, 3, generator=g))
        model.readout.bias.copy_(torch.randn(2, generator=g) * 0.3)
    with torch.no_grad():
        labels = model(x).argmax(1)
    labels[::4] = 1 - labels[::4]  # a quarter misclassified
    return model, x, labels


def test_memoryless_rnn_ignores_perturbations_before_the_last_step(kit, data):
    model, x, y = _memoryless(kit, data)
    curve = attacks.hidden_state(model, x, y, deltas=DELTAS, step=kit.T - 2)
    clean = curve.clean_accuracy
    assert clean == pytest.approx(0.75)
    assert curve.random_accuracy == (clean,) * len(DELTAS)
    assert curve.adversarial_accuracy == (clean,) * len(DELTAS)


def test_last_step_matches_the_closed_form(kit, data):
    """At the last step the logits are affine in h: the attack is exact on a ball."""
    model, x, y = _memoryless(kit, data)
    with torch.no_grad():
        h = model.hidden_states(x)[:, -1].double()
        V = model.readout.weight.double()
        c = model.readout.bias.double()
    other = 1 - y
    margin = (h @ V.T + c).gather(1, y[:, None])[:, 0] - (h @ V.T + c).gather(1, other[:, None])[
        :, 0
    ]
    gap = (V[y] - V[other]).norm(dim=1)
    threshold = margin / (gap * h.norm(dim=1))  # broken iff delta > threshold
    deltas = [0.0, 0.05, 0.2, 0.5, 1.0, 2.0]
    assert min(abs(t - d) for t in threshold.tolist() for d in deltas) > 1e-3
    expected = tuple(float((threshold > d).double().mean()) for d in deltas)
    curve = attacks.hidden_state(model, x, y, deltas=deltas, step=-1, iterations=3)
    assert curve.adversarial_accuracy == expected
    assert len(set(expected)) >= 4


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"deltas": [0.1, -0.1]}, "deltas must be finite and >= 0, got -0.1"),
        ({"deltas": []}, "at least one"),
        ({"deltas": [float("nan")]}, "deltas must be finite"),
        ({"deltas": [0.1], "step": 10}, r"step must lie in \[0, 9\].*got 10"),
        ({"deltas": [0.1], "step": -11}, "got -11"),
        ({"deltas": [0.1], "step": 1.5}, "step must be an integer"),
        ({"deltas": [0.1], "iterations": 0}, "iterations must be a positive integer"),
    ],
)
def test_bad_input_is_one_clear_error(kit, data, options, match):
    x, y = data
    with pytest.raises(AttackInputError, match=match):
        attacks.hidden_state(_build(kit, "gru", hidden=4), x[:4], y[:4], **options)


def test_module_without_the_step_api_is_refused(kit, data):
    x, y = data
    with pytest.raises(UnsupportedModelError, match="GRUNet lacks initial_state, step, readout"):
        attacks.hidden_state(kit.GRUNet(), x[:4], y[:4], deltas=[0.1])


def test_step_that_does_not_match_forward_is_refused(kit, data):
    x, y = data
    model = _build(kit, "rnn", hidden=4)
    original = model.step
    model.step = lambda state, x_t: original(state, x_t) * 0.5
    with pytest.raises(UnsupportedModelError, match="does not reproduce its forward pass"):
        attacks.hidden_state(model, x[:4], y[:4], deltas=[0.1])
