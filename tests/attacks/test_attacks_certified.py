"""Spectral Lipschitz certificate: bound, soundness, and certified <= attacked."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

import attacks
from attacks.certify import lipschitz_bound


def test_lipschitz_bound_closed_forms():
    assert lipschitz_bound(2.0, 1.0, 9) == pytest.approx(2.0 * 3.0)
    for sigma in (0.3, 0.9, 1.1, 2.0):
        brute = 1.5 * math.sqrt(sum(sigma ** (2 * k) for k in range(12)))
        assert lipschitz_bound(1.5, sigma, 12) == pytest.approx(brute, rel=1e-12)
    assert lipschitz_bound(1.0, 0.6, 10_000) <= 1 / math.sqrt(1 - 0.36)
    assert lipschitz_bound(1.0, 3.0, 10_000) == math.inf
    assert lipschitz_bound(1.0, 0.0, 5) == 1.0


def test_bound_dominates_the_jacobian(kit, data, projected_rnn):
    """||d h_T / d x||_2 (whole sequence) never exceeds L."""
    x, _ = data
    model = projected_rnn
    parts = model.lipschitz_parts()
    L = lipschitz_bound(
        float(torch.linalg.matrix_norm(parts["U"].double(), ord=2)),
        float(torch.linalg.matrix_norm(parts["W"].double(), ord=2)),
        x.shape[1],
    )

    def last_hidden(seq):
        W, U = model.W, model.U
        h = seq.new_zeros(model.W.shape[0])
        for t in range(seq.shape[0]):
            h = torch.tanh(W @ h + U @ seq[t] + model.b)
        return h

    for i in range(4):
        J = torch.autograd.functional.jacobian(last_hidden, x[i])  # (H, T, F)
        assert float(torch.linalg.matrix_norm(J.flatten(1).double(), ord=2)) <= L


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_certified_below_minimal_and_sound(kit, data, projected_rnn, norm):
    x, y = data
    y = y.clone()
    y[0] = (y[0] + 1) % 4
    model = projected_rnn
    cert = attacks.certified_radius(model, x, y, norm=norm)
    radius = np.array(cert.radius)
    correct = np.array(cert.correct)
    assert cert.certified and cert.sigma_max <= 1 + 1e-6
    assert radius[0] == 0.0 and not correct[0]
    assert np.median(radius[correct]) > 0
    assert cert.median == pytest.approx(np.median(radius[correct]))

    minimal = attacks.minimal_perturbation(model, x, y, norm=norm, steps=30)
    assert (radius <= np.array(minimal.norms)).all()

    # random perturbations just inside the radius never change the label
    g = torch.Generator().manual_seed(0)
    r = torch.as_tensor(radius * 0.999, dtype=torch.float32).view(-1, 1, 1)
    with torch.no_grad():
        clean = model(x).argmax(-1)
        for _ in range(20):
            if norm == "l2":
                u = torch.randn(x.shape, generator=g)
                u = u / u.flatten(1).norm(dim=1).view(-1, 1, 1)
            else:
                u = torch.randint(0, 2, x.shape, generator=g).float() * 2 - 1
            assert torch.equal(model(x + r * u).argmax(-1), clean)

    # PGD restricted to each sample's own radius never changes the label either
    eps = torch.as_tensor(radius * 0.999, dtype=torch.float32)
    adv = kit.raw_pgd(model, x, y, eps=eps, steps=20, alpha=eps / 4, norm=norm)
    with torch.no_grad():
        assert torch.equal(model(adv).argmax(-1)[correct], clean[correct])

    text = json.dumps(cert.to_dict(), allow_nan=False)
    assert json.loads(text)["norm"] == norm
    assert cert.certified_accuracy([0.0])[0] == pytest.approx(correct.mean())


def test_linf_radius_is_l2_over_sqrt_dim(data, projected_rnn):
    x, y = data
    kw = {"tight": False}
    l2 = np.array(attacks.certified_radius(projected_rnn, x, y, norm="l2", **kw).radius)
    linf = np.array(attacks.certified_radius(projected_rnn, x, y, norm="linf", **kw).radius)
    assert np.allclose(linf * math.sqrt(x.shape[1] * x.shape[2]), l2)


class _ModReLU(nn.Module):
    kind = "toy-modrelu"

    def __init__(self, bias: float) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        q, _ = torch.linalg.qr(torch.randn(6, 6, generator=g))
        self.W = nn.Parameter(q)
        self.U = nn.Parameter(torch.randn(6, 3, generator=g) / 4)
        self.bias = nn.Parameter(torch.full((6,), bias))
        self.V = nn.Linear(6, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.new_zeros(x.shape[0], 6)
        for t in range(x.shape[1]):
            z = h @ self.W.T + x[:, t] @ self.U.T
            h = torch.sign(z) * torch.relu(z.abs() + self.bias)
        return self.V(h)

    def lipschitz_parts(self) -> dict:
        return {
            "U": self.U,
            "W": self.W,
            "V": self.V.weight,
            "nonlinearity": "modrelu",
            "modrelu_bias": self.bias.detach(),
        }


def test_modrelu_bias_sign_decides(data):
    x, y = data
    ok = attacks.certified_radius(_ModReLU(-0.01), x, y, norm="l2")
    assert ok.certified and ok.reason is None
    assert ok.sigma_max == pytest.approx(1.0, abs=1e-5)
    assert ok.lipschitz == lipschitz_bound(ok.norm_u, ok.sigma_max, x.shape[1])
    bad = attacks.certified_radius(_ModReLU(0.01), x, y, norm="l2", tight=False)
    assert not bad.certified and "modReLU" in bad.reason and bad.status == "skipped"
    assert set(bad.radius) == {0.0} and bad.lipschitz == math.inf
    out = json.loads(json.dumps(bad.to_dict(), allow_nan=False))
    assert out["lipschitz"] is None and out["status"] == "skipped"
    # interval bounds still apply to the jump (modReLU is non-decreasing): certified, sound
    tight = attacks.certified_radius(_ModReLU(0.01), x, y, norm="l2")
    assert tight.certified and "modReLU" in tight.notes["lipschitz"]
    assert set(tight.per_bound["lipschitz"]) == {0.0}


def test_unsupported_models(data, gru):
    x, y = data
    with pytest.raises(attacks.UnsupportedModelError, match="GRUNet"):
        attacks.certified_radius(gru, x, y, norm="l2")

    class Gated(nn.Module):
        kind = "lstm"

        def forward(self, x):
            return x[:, -1, :2]

        def lipschitz_parts(self):
            raise TypeError("lipschitz_parts is not defined for kind 'lstm'")

    with pytest.raises(attacks.UnsupportedModelError, match="'lstm'"):
        attacks.certified_radius(Gated(), x, y % 2, norm="l2")

    class Sigmoid(_ModReLU):
        def lipschitz_parts(self):
            return {**super().lipschitz_parts(), "nonlinearity": "sigmoid"}

    with pytest.raises(attacks.UnsupportedModelError, match="sigmoid"):
        attacks.certified_radius(Sigmoid(0.0), x, y, norm="l2")
