"""Minimal L2 perturbation: foolbox's L2 FMN artefact is gone and the norms agree with the curve."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import attacks
from attacks import _foolbox

EPS = [0.1, 0.3, 0.6, 1.0]


@pytest.fixture(scope="module")
def setting(data, loop_rnn):
    x, y = data
    curve = attacks.adversarial(loop_rnn, x, y, norm="l2", epsilons=EPS, strength="quick")
    return x, y, curve


def test_foolbox_l2_fmn_projection_is_the_identity_and_ours_projects():
    import eagerpy as ep
    import foolbox.attacks as fa

    x0 = ep.astensor(torch.zeros(2, 3, 2))
    x = ep.astensor(torch.full((2, 3, 2), 0.5))
    eps = ep.astensor(torch.tensor([0.1, 0.2]))
    theirs = fa.L2FMNAttack().project(x, x0, eps).raw
    assert torch.equal(theirs, x.raw)  # min(1, norms / norms) == 1: never constrained
    ours = _foolbox._L2FMN().project(x, x0, eps).raw
    assert torch.allclose(ours.flatten(1).norm(dim=1), torch.tensor([0.1, 0.2]))
    inside = _foolbox._L2FMN().project(x0 + 0.01, x0, eps).raw
    assert torch.equal(inside, (x0 + 0.01).raw)


def test_minimal_norm_never_exceeds_the_bounded_break(loop_rnn, setting):
    x, y, curve = setting
    m = attacks.minimal_perturbation(
        loop_rnn, x, y, norm="l2", attacks=("fmn",), steps=30, curve=curve, strength="quick"
    )
    norms, broken_at = np.array(m.norms), np.array(curve.broken_at)
    assert (norms <= broken_at).all()
    assert m.per_attack["bounded"] == curve.broken_at
    implied = np.array(m.accuracy_at(curve.epsilons))
    assert (implied <= np.array(curve.robust_accuracy) + 1e-12).all()
    report = attacks.sanity(loop_rnn, x, y, curve=curve, minimal=m, steps=5)
    assert report["minimal_matches_curve"].passed, report["minimal_matches_curve"].detail


def test_corrected_fmn_alone_agrees_with_the_curve_where_foolbox_l2_fmn_does_not(loop_rnn, setting):
    x, y, curve = setting
    m = attacks.minimal_perturbation(loop_rnn, x, y, norm="l2", attacks=("fmn",), steps=50)
    with _foolbox.session(loop_rnn, bounds=(0.0, 1.0), seed=0) as s:
        import foolbox.attacks as fa

        raw = fa.L2FMNAttack(steps=50)
        adv, _, _ = raw(s._fmodel, x, y, epsilons=None)
    artefact = (adv - x).flatten(1).norm(dim=1).double()
    correct = np.array(m.correct)
    ours = np.array(m.norms)[correct]
    # foolbox's L2 FMN returns its first (unit) step clipped to the box: far above ours
    assert np.median(artefact.numpy()[correct]) > 1.5 * np.median(ours)
    check = attacks.sanity(loop_rnn, x, y, curve=curve, minimal=m, steps=5)
    if check["minimal_matches_curve"].passed:
        return
    # A disagreement means FMN broke samples the (quick) curve left standing: the standard
    # ensemble, run on just those samples at that budget, must confirm every such break.
    norms, broken_at = np.array(m.norms), np.array(curve.broken_at)
    confirmed = 0
    for eps in EPS:
        (rows,) = np.nonzero((norms <= eps) & (broken_at > eps))
        if rows.size:
            strong = attacks.adversarial(
                loop_rnn, x[rows], y[rows], norm="l2", epsilons=[eps], strength="standard"
            )
            assert strong.robust_accuracy[0] == 0.0, (eps, rows, check["minimal_matches_curve"])
            confirmed += rows.size
    assert confirmed > 0, check["minimal_matches_curve"].detail


def test_default_ensemble_is_the_minimum_and_json_has_intervals(loop_rnn, setting):
    x, y, _ = setting
    x, y = x[:24], y[:24]
    m = attacks.minimal_perturbation(loop_rnn, x, y, norm="l2", steps=20, strength="quick")
    assert m.attacks == attacks.MINIMAL_ENSEMBLE
    stacked = np.array([m.per_attack[name] for name in m.attacks])
    assert np.array_equal(np.array(m.norms), stacked.min(axis=0))
    out = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    lo, hi = out["intervals"]["median"]
    assert lo <= out["median"] <= hi


def test_curve_of_other_inputs_is_refused(loop_rnn, setting):
    x, y, curve = setting
    with pytest.raises(attacks.AttackInputError, match="other inputs"):
        attacks.minimal_perturbation(
            loop_rnn, x.flip(0), y.flip(0), norm="l2", attacks=("deepfool",), curve=curve
        )
    with pytest.raises(attacks.AttackInputError, match="norm 'linf'"):
        attacks.minimal_perturbation(loop_rnn, x, y, norm="linf", attacks=("fmn",), curve=curve)
