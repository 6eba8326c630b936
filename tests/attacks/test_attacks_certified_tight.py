"""Tighter sound certificates (interval bounds, per-step Jacobian), vacuous and skipped flags."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

import attacks
import models
from attacks._apgd import Best, apgd
from attacks._model import attack_mode


def _flips(model, x, y, radius, norm):
    """Samples a strong attack (APGD, CE and margin, 3 restarts) breaks at their radius."""
    with attack_mode(model) as wrapped:
        best = Best(x, norm)
        eps = torch.as_tensor(radius, dtype=torch.float64)
        for loss in ("ce", "margin"):
            apgd(wrapped, x, y, eps, norm=norm, loss=loss, steps=60, restarts=3, seed=5,
                 bounds=(0.0, 1.0), best=best)  # fmt: skip
    return best.found


@pytest.mark.parametrize("norm", ["linf", "l2"])
@pytest.mark.parametrize("which", ["loop_rnn", "projected_rnn"])
def test_tight_radius_is_sound_and_never_below_the_spectral_one(request, data, norm, which):
    model = request.getfixturevalue(which)
    x, y = data
    cert = attacks.certified_radius(model, x, y, norm=norm)
    radius = np.array(cert.radius)
    spectral = np.array(cert.per_bound["lipschitz"])
    assert (radius >= spectral).all()
    assert set(cert.per_bound) == {"lipschitz", "ibp", "jacobian"}
    correct = np.array(cert.correct)
    assert all((b is None) == (not ok) for b, ok in zip(cert.bound, correct, strict=True))
    assert (radius[correct] > 0).all()
    assert not _flips(model, x, y, radius, norm).any()
    if which == "loop_rnn":  # sigma_max > 1: the product of norms is far from the truth
        assert np.median(radius[correct]) > 5 * np.median(spectral[correct])


def test_modrelu_with_positive_bias_gets_a_sound_interval_certificate(kit, data):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = models.build("scornn", input_size=kit.F, hidden_size=16, output_size=kit.C, seed=0)
        with torch.no_grad():
            model.modrelu_bias.uniform_(0.05, 0.4)
        model = kit.train(model, steps=100, seed=0)
    x, y = data
    cert = attacks.certified_radius(model, x, y, norm="linf")
    assert cert.certified and cert.status == "certified"
    assert "lipschitz" in cert.notes and max(cert.per_bound["lipschitz"]) == 0.0
    radius = np.array(cert.radius)
    assert (radius[np.array(cert.correct)] > 0).any()
    assert not _flips(model, x, y, radius, "linf").any()


def test_vacuous_radii_are_flagged(data, loop_rnn):
    x, y = data
    model = copy.deepcopy(loop_rnn)
    with torch.no_grad():
        model.W.mul_(30.0)  # sigma_max 30: the spectral radius is ~30**-9 of the margin
    minimal = attacks.minimal_perturbation(model, x, y, norm="l2", attacks=("deepfool",), steps=20)
    cert = attacks.certified_radius(model, x, y, norm="l2", minimal=minimal, tight=False)
    correct = np.array(cert.correct)
    assert cert.resolution == pytest.approx(float(torch.finfo(torch.float32).eps))
    assert all(np.array(cert.vacuous)[correct]) and cert.status == "vacuous"
    out = json.loads(json.dumps(cert.to_dict(), allow_nan=False))
    assert out["status"] == "vacuous" and out["vacuous"] == list(cert.vacuous)


def test_a_certificate_that_does_not_apply_is_skipped_in_sanity(kit, data):
    model = kit.train(kit.LoopRNN(seed=3), steps=20, seed=3)
    x, y = data
    cert = attacks.certified_radius(model, x, y, norm="l2", tight=False)
    skipped = dataclass_replace(cert, certified=False, reason="no certificate for this model")
    minimal = attacks.minimal_perturbation(model, x, y, norm="l2", attacks=("deepfool",), steps=10)
    report = attacks.sanity(model, x, y, certified=skipped, minimal=minimal, steps=5)
    assert report["certified_le_minimal"].passed is None
    assert skipped.status == "skipped"


def dataclass_replace(obj, **changes):
    import dataclasses

    return dataclasses.replace(obj, **changes)
