"""Initialisations: matrices against their definitions, chain direction, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import models
from models import inits

H = 10


pytestmark = pytest.mark.usefixtures("one_thread")


def _rnn(**options) -> models.RecurrentModel:
    return models.build("rnn", input_size=H, hidden_size=H, output_size=2, **options)


def test_chain_is_subdiagonal_with_scaled_identity_input() -> None:
    model = _rnn(init="chain", alpha=1.02)
    W = model.recurrent_matrix().numpy()
    expected = np.zeros((H, H))
    for i in range(1, H):
        expected[i, i - 1] = 1.02  # W_ij = alpha * delta_{j, i-1}
    np.testing.assert_allclose(W, expected, rtol=1e-7)
    np.testing.assert_allclose(model.U.detach().numpy(), 0.9 * np.eye(H), rtol=1e-7)


def test_chain_input_for_fewer_features() -> None:
    U = inits.chain_input(5, 2)
    np.testing.assert_allclose(U.numpy(), 0.9 * np.eye(5, 2), rtol=1e-7)


def test_pulse_travels_down_the_chain() -> None:
    """A pulse into unit 0 at t=0 reaches unit k at step k (paper's column convention)."""
    n = 8
    model = models.build(
        "rnn", input_size=1, hidden_size=n, output_size=1, init="chain", nonlinearity="relu"
    )
    x = torch.zeros(1, n, 1)
    x[0, 0, 0] = 1.0
    states = model.hidden_states(x)[0].detach()  # (T, H)
    for k in range(n):
        assert int(states[k].argmax()) == k
        assert float(states[k, k]) == pytest.approx(0.9)  # alpha = 1, relu is linear here
        assert float(states[k].abs().sum()) == pytest.approx(0.9)
    # the reversed (super-diagonal) chain of the public PyTorch helper kills the pulse
    with model.override_recurrent(model.recurrent_weight().detach().T.contiguous()):
        reversed_states = model.hidden_states(x)[0].detach()
    assert float(reversed_states[1:].abs().max()) == 0.0


def test_fbchain_structure() -> None:
    W = _rnn(init="fbchain", alpha=0.99, beta=0.03).recurrent_matrix().numpy()
    np.testing.assert_allclose(np.diag(W, -1), 0.99)
    np.testing.assert_allclose(np.diag(W, 1), 0.03)
    mask = np.abs(np.subtract.outer(np.arange(H), np.arange(H))) == 1
    assert np.all(W[~mask] == 0)


def test_identity_and_orthogonal() -> None:
    W = _rnn(init="identity", scale=0.96).recurrent_matrix().numpy()
    np.testing.assert_allclose(W, 0.96 * np.eye(H), rtol=1e-7)
    W = _rnn(init="orthogonal", scale=1.05).recurrent_matrix().double().numpy()
    np.testing.assert_allclose(W.T @ W, 1.05**2 * np.eye(H), atol=1e-5)


def test_orthogonal_is_haar_distributed() -> None:
    # E[Q_11] = 0 and E[Q_11^2] = 1/n for Haar Q; QR without the sign fix has E[Q_11] < 0
    n, draws = 4, 3000
    g = torch.Generator().manual_seed(3)
    q11 = np.array([float(inits.orthogonal(n, generator=g)[0, 0]) for _ in range(draws)])
    assert abs(q11.mean()) < 4 * np.sqrt(1 / n / draws)
    assert q11.var() == pytest.approx(1 / n, rel=0.1)


@pytest.mark.parametrize("init, low, high", [("henaff", -np.pi, np.pi), ("cayley", 0.0, np.pi / 2)])
def test_rotation_inits(init: str, low: float, high: float) -> None:
    n = 60
    W = models.build(
        "rnn", input_size=1, hidden_size=n, output_size=1, init=init, scale=0.9
    ).recurrent_matrix()
    W = W.double().numpy() / 0.9
    np.testing.assert_allclose(W.T @ W, np.eye(n), atol=1e-5)
    blocks = np.kron(np.eye(n // 2), np.ones((2, 2)))
    assert np.abs(W * (1 - blocks)).max() == 0
    angles = np.arctan2(W[0::2, 1::2].diagonal(), W[0::2, 0::2].diagonal())
    assert angles.min() >= low - 1e-6 and angles.max() <= high + 1e-6
    assert angles.max() - angles.min() > 0.5 * (high - low)


def test_glorot_scale() -> None:
    g = torch.Generator().manual_seed(0)
    W = inits.glorot(400, 200, generator=g)
    assert float(W.std()) == pytest.approx(np.sqrt(2 / 600), rel=0.02)


def test_odd_size_rotation_inits_are_orthogonal() -> None:
    for kind in ("scornn", "exprnn", "nnrnn"):
        W = models.build(kind, input_size=1, hidden_size=7, output_size=1).recurrent_matrix()
        W = W.double()
        torch.testing.assert_close(W.T @ W, torch.eye(7, dtype=torch.float64), atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", models.KINDS)
def test_same_seed_same_weights_and_global_rng_untouched(kind: str) -> None:
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = models.build(kind, input_size=3, hidden_size=8, output_size=2, seed=7)
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(999)  # the global state must not matter
    b = models.build(kind, input_size=3, hidden_size=8, output_size=2, seed=7)
    c = models.build(kind, input_size=3, hidden_size=8, output_size=2, seed=8)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert list(sa) == list(sb) == list(sc)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)
