"""scoRNN, expRNN and nnRNN: parametrisation formulas, orthogonality under training, caching."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

import models
from models.maps import expm_skew, skew

H, F_IN, C = 16, 3, 4


pytestmark = pytest.mark.usefixtures("one_thread")


def _skew_np(X: np.ndarray) -> np.ndarray:
    U = np.triu(X, 1)
    return U - U.T


def _orth_error(W: torch.Tensor) -> float:
    W = W.double()
    return float((W.T @ W - torch.eye(W.shape[0], dtype=torch.float64)).abs().max())


def test_scornn_is_cayley_times_d() -> None:
    model = models.build("scornn", input_size=F_IN, hidden_size=H, output_size=C, rho=5)
    with torch.no_grad():
        model.A.copy_(0.3 * torch.randn(H, H))
    A = _skew_np(model.A.detach().double().numpy())
    D = np.diag([1.0] * (H - 5) + [-1.0] * 5)
    eye = np.eye(H)
    expected = np.linalg.solve(eye + A, eye - A) @ D
    np.testing.assert_allclose(model.recurrent_matrix().numpy(), expected, atol=2e-6)
    assert model.D.tolist() == [1.0] * (H - 5) + [-1.0] * 5
    assert model.config["options"]["rho"] == 5


def test_scornn_rho_default_and_determinant() -> None:
    model = models.build("scornn", input_size=F_IN, hidden_size=H, output_size=C)
    assert int((model.D == -1).sum()) == H // 2
    # det(Cayley(A)) = 1, so det(W) = det(D) = (-1)^rho
    for rho in (0, 1, 3, H):
        m = models.build("scornn", input_size=F_IN, hidden_size=H, output_size=C, rho=rho)
        det = float(torch.linalg.det(m.recurrent_matrix().double()))
        assert det == pytest.approx((-1.0) ** rho, abs=1e-5)


def test_exprnn_is_expm_of_skew() -> None:
    model = models.build("exprnn", input_size=F_IN, hidden_size=H, output_size=C)
    with torch.no_grad():
        model.A.add_(0.5 * torch.randn(H, H))
    expected = scipy.linalg.expm(_skew_np(model.A.detach().double().numpy()))
    np.testing.assert_allclose(model.recurrent_matrix().numpy(), expected, atol=2e-6)
    np.testing.assert_array_equal(model.skew_matrix().numpy(), -model.skew_matrix().numpy().T)


@pytest.mark.parametrize("scale", [0.0, 0.3, 3.0])
def test_expm_skew_value_and_gradient_match_matrix_exp(scale: float) -> None:
    X = (scale * torch.randn(9, 9, dtype=torch.float64)).requires_grad_()
    G = torch.randn(9, 9, dtype=torch.float64)
    ours = expm_skew(skew(X))
    ref = torch.linalg.matrix_exp(skew(X))
    torch.testing.assert_close(ours, ref)
    (g1,) = torch.autograd.grad((ours * G).sum(), X)
    (g2,) = torch.autograd.grad((ref * G).sum(), X)
    torch.testing.assert_close(g1, g2)


def test_expm_skew_repeated_eigenvalues_gradient() -> None:
    # block-diagonal rotations with equal angles: degenerate eigenvalues
    from models.maps import rotation_blocks

    X = torch.triu(rotation_blocks(torch.full((4,), 0.7, dtype=torch.float64), 8), 1)
    X.requires_grad_()
    G = torch.randn(8, 8, dtype=torch.float64)
    (g1,) = torch.autograd.grad((expm_skew(skew(X)) * G).sum(), X)
    (g2,) = torch.autograd.grad((torch.linalg.matrix_exp(skew(X)) * G).sum(), X)
    torch.testing.assert_close(g1, g2)


def test_nnrnn_is_p_gamma_t_pt() -> None:
    n = 7  # odd: the last block is 1x1
    model = models.build("nnrnn", input_size=F_IN, hidden_size=n, output_size=C)
    with torch.no_grad():
        model.log_P.copy_(0.4 * torch.randn(n, n))
        model.T.copy_(torch.randn(n, n))
        model.gamma.copy_(torch.rand(4) + 0.5)
    P = scipy.linalg.expm(_skew_np(model.log_P.detach().double().numpy()))
    gamma = model.gamma.detach().double().numpy()
    theta = model.theta.detach().double().numpy()
    Gamma = np.zeros((n, n))
    for i, (g, th) in enumerate(zip(gamma[:3], theta, strict=True)):
        Gamma[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = g * np.array(
            [[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]]
        )
    Gamma[6, 6] = gamma[3]
    T = model.T.detach().double().numpy()
    block = np.arange(n) // 2
    T = np.where(block[:, None] > block[None, :], T, 0.0)  # strictly lower, below the blocks
    expected = P @ (Gamma + T) @ P.T
    np.testing.assert_allclose(model.recurrent_matrix().numpy(), expected, atol=5e-6)
    # real Schur form: eigenvalues are gamma_i exp(+-i theta_i) and gamma[-1]
    eig = np.sort_complex(np.linalg.eigvals(expected))
    lam = [g * np.exp(s * 1j * th) for g, th in zip(gamma[:3], theta, strict=True) for s in (1, -1)]
    np.testing.assert_allclose(eig, np.sort_complex(np.array([*lam, gamma[3]])), atol=1e-6)
    factors = model.schur_factors()
    np.testing.assert_allclose(factors["T"].numpy(), T, atol=1e-7)


def test_nnrnn_initial_matrix_is_named_init() -> None:
    model = models.build("nnrnn", input_size=F_IN, hidden_size=H, output_size=C, init="cayley")
    W = model.recurrent_matrix().double()
    theta = model.theta.detach().double()
    assert bool(((theta >= 0) & (theta <= np.pi / 2)).all())
    for i, th in enumerate(theta):
        block = W[2 * i : 2 * i + 2, 2 * i : 2 * i + 2]
        expected = torch.tensor([[th.cos(), -th.sin()], [th.sin(), th.cos()]], dtype=torch.float64)
        torch.testing.assert_close(block, expected, atol=1e-6, rtol=0)
    assert model.orthogonal_parameters()[0] is model.log_P


@pytest.mark.parametrize("kind", ["scornn", "exprnn"])
def test_orthogonal_after_training(kind: str) -> None:
    torch.manual_seed(1)
    model = models.build(kind, input_size=F_IN, hidden_size=32, output_size=C, readout="all")
    orth = model.orthogonal_parameters()
    rest = [p for p in model.parameters() if all(p is not q for q in orth)]
    opt = torch.optim.RMSprop([{"params": rest, "lr": 1e-2}, {"params": orth, "lr": 1e-2}])
    x = torch.randn(8, 10, F_IN)
    y = torch.randint(0, C, (8, 10))
    W0 = model.recurrent_matrix()
    for _ in range(200):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, C), y.reshape(-1))
        loss.backward()
        opt.step()
        model.after_step()
    W = model.recurrent_matrix()
    assert W.dtype == torch.float32
    assert float((W - W0).abs().max()) > 0.1  # it did move
    assert _orth_error(W) < 1e-5
    # W is recomputed from A, not stored
    torch.testing.assert_close(W, model._compute_recurrent().detach())


@pytest.mark.parametrize(
    "kind, target", [("scornn", "solve"), ("exprnn", "eigh"), ("nnrnn", "eigh")]
)
def test_parametrisation_computed_once_per_forward(
    kind: str, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = models.build(kind, input_size=F_IN, hidden_size=H, output_size=C)
    original = getattr(torch.linalg, target)
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.linalg, target, counting)
    x = torch.randn(2, 50, F_IN)
    model(x).sum().backward()
    forward_calls = len(calls)
    assert forward_calls == 1
    calls.clear()
    with model.parametrization_cache():
        for _ in range(4):
            model(x)
        assert len(calls) == 1
    model(x)
    assert len(calls) == 2  # cache dropped on exit


def test_cache_gives_same_outputs_and_gradients() -> None:
    model = models.build("exprnn", input_size=F_IN, hidden_size=H, output_size=C)
    x = torch.randn(3, 6, F_IN, requires_grad=True)
    plain = model(x)
    (g_plain,) = torch.autograd.grad(plain.sum(), x)
    with model.parametrization_cache():
        cached = model(x)
        (g_cached,) = torch.autograd.grad(cached.sum(), x)
        cached2 = model(x)
    torch.testing.assert_close(plain, cached)
    torch.testing.assert_close(cached, cached2)
    torch.testing.assert_close(g_plain, g_cached)


def _block_angles(W: np.ndarray) -> np.ndarray:
    """Angles of a block-diagonal matrix of 2x2 rotations [[cos a, sin a], [-sin a, cos a]]."""
    n = W.shape[0]
    off = W - np.kron(np.eye(n // 2), np.ones((2, 2))) * W
    assert np.abs(off).max() < 1e-6  # block diagonal
    angles = []
    for i in range(n // 2):
        block = W[2 * i : 2 * i + 2, 2 * i : 2 * i + 2]
        a = np.arctan2(block[0, 1], block[0, 0])
        rotation = [[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]
        np.testing.assert_allclose(block, rotation, atol=1e-6)
        angles.append(a)
    return np.array(angles)


def test_cayley_init_angles() -> None:
    n = 40
    sco = models.build("scornn", input_size=1, hidden_size=n, output_size=1, rho=0)
    angles = _block_angles(sco.recurrent_matrix().double().numpy())
    # scoRNN: Cayley transform of blocks -tan(theta/2) rotates by theta in [0, pi/2]
    assert angles.min() >= 0 and angles.max() <= np.pi / 2 + 1e-6
    A = sco.skew_matrix().double().numpy()
    s = A[np.arange(0, n, 2), np.arange(1, n, 2)]
    np.testing.assert_allclose(angles, 2 * np.arctan(-s), atol=1e-6)
    # expRNN with the same skew init: the exponential rotates by tan(theta/2) in [0, 1]
    exp = models.build("exprnn", input_size=1, hidden_size=n, output_size=1, init="cayley")
    angles = _block_angles(exp.recurrent_matrix().double().numpy())
    s = exp.skew_matrix().double().numpy()[np.arange(0, n, 2), np.arange(1, n, 2)]
    np.testing.assert_allclose(angles, s, atol=1e-6)
    assert np.abs(angles).max() <= 1.0 and (-s >= 0).all()


def test_henaff_init_angles_span_minus_pi_pi() -> None:
    model = models.build("exprnn", input_size=1, hidden_size=200, output_size=1, init="henaff")
    A = model.skew_matrix().numpy()
    angles = A[np.arange(0, 200, 2), np.arange(1, 200, 2)]
    assert angles.min() < -2.5 and angles.max() > 2.5
    assert np.abs(angles).max() <= np.pi
    assert _orth_error(model.recurrent_matrix()) < 1e-5


@pytest.mark.parametrize("scale", [0.02, 0.5])
def test_expm_skew_float32_accuracy_small_and_large_norm(scale: float) -> None:
    # scale 0.5 gives a spectral norm well above 4: the float64 path
    X = scale * torch.randn(64, 64, generator=torch.Generator().manual_seed(0))
    W = expm_skew(skew(X))
    assert W.dtype == torch.float32
    expected = scipy.linalg.expm(_skew_np(X.double().numpy()))
    np.testing.assert_allclose(W.numpy(), expected, atol=3e-6)
    assert _orth_error(W) < 1e-5
