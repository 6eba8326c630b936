"""The attacks on the project's own recurrent models (``models.build``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import attacks

models = pytest.importorskip("models")
if not hasattr(models, "build"):
    pytest.skip("models.build is not available", allow_module_level=True)

KINDS = ["rnn", "exprnn", "scornn", "nnrnn", "lstm", "gru"]


def _build(kit, kind, **options):
    return models.build(
        kind, input_size=kit.F, hidden_size=12, output_size=kit.C, seed=0, **options
    )


@pytest.fixture(scope="module")
def trained(kit):
    return {kind: kit.train(_build(kit, kind), seed=0) for kind in ("rnn", "exprnn")}


@pytest.mark.parametrize("kind", ["rnn", "exprnn"])
def test_pgd_matches_plain_loop(kit, data, trained, kind):
    x, y = data
    model = trained[kind]
    eps, steps = 0.1, 10
    curve = attacks.adversarial(
        model, x, y, epsilons=[eps], attacks=("pgd",), steps=steps, random_start=False
    )
    adv, ever = kit.raw_pgd(model, x, y, eps=eps, steps=steps, alpha=2.5 * eps / steps, track=True)
    robust = kit.accuracy_on(model, x, y) & kit.accuracy_on(model, adv, y)
    # success counts on every iterate: never above the final-iterate count, equal to the
    # plain loop scored on every iterate
    assert curve.robust_accuracy[0] <= float(robust.double().mean())
    assert curve.robust_accuracy[0] == float((robust & ~ever).double().mean())
    assert curve.clean_accuracy > 0.5


@pytest.mark.parametrize("kind", ["exprnn", "scornn", "nnrnn"])
def test_parametrized_matrix_computed_once_per_attack(kit, data, kind):
    x, y = data
    model = _build(kit, kind)
    if not hasattr(model, "_compute_recurrent"):
        pytest.skip("model does not expose its parametrization hook")
    calls = []
    original = model._compute_recurrent

    def counting():
        calls.append(1)
        return original()

    model._compute_recurrent = counting
    attacks.adversarial(model, x, y, epsilons=[0.1], attacks=("pgd",), steps=10)
    assert len(calls) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_weight_noise_restores_and_respects_pseudospectrum(kit, data, kind):
    x, y = data
    model = _build(kit, kind)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        out = model(x)
    W = model.recurrent_matrix().double().numpy()
    result = attacks.weight_noise(model, x, y, epsilons=[0.0, 0.1], draws=3)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
    with torch.no_grad():
        assert torch.equal(model(x), out)
    n = W.shape[0]
    for z in result.eigenvalues[1].ravel():
        smin = np.linalg.svd(z * np.eye(n) - W, compute_uv=False)[-1]
        assert smin <= result.perturbation_norms[1] + 1e-9
    assert result.target.endswith(kind)


def test_per_step_readout_gives_the_last_step_curve(kit, data, trained):
    x, y = data
    last = trained["rnn"]
    every = _build(kit, "rnn", readout="all")
    every.load_state_dict(last.state_dict())
    kw = dict(epsilons=[0.05, 0.1], attacks=("fgsm", "pgd"), steps=5)
    assert (
        attacks.adversarial(every, x, y, **kw).per_attack
        == attacks.adversarial(last, x, y, **kw).per_attack
    )


@pytest.mark.parametrize("kind", ["rnn", "exprnn"])
def test_certified_below_minimal(kit, data, trained, kind):
    x, y = data
    model = trained[kind]
    cert = attacks.certified_radius(model, x, y, norm="l2")
    minimal = attacks.minimal_perturbation(model, x, y, norm="l2", steps=20)
    assert (np.array(cert.radius) <= np.array(minimal.norms)).all()
    parts = model.lipschitz_parts()
    if parts["modrelu_bias"] is not None and bool((parts["modrelu_bias"] > 0).any()):
        # The spectral bound needs a Lipschitz activation and gives nothing; the interval and
        # per-step Jacobian bounds handle the upward jump of modReLU soundly and may certify.
        assert not np.any(cert.per_bound["lipschitz"])
        assert "modReLU" in cert.notes["lipschitz"]
        assert cert.certified == bool(set(cert.per_bound) - {"lipschitz"})
    else:
        assert cert.certified


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_certified_refuses_gated_kinds(kit, data, kind):
    x, y = data
    with pytest.raises(attacks.UnsupportedModelError, match=kind):
        attacks.certified_radius(_build(kit, kind), x, y, norm="l2")
