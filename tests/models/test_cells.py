"""Cells against peers: torch.nn.RNN/LSTM/GRU with the same weights, and a plain autograd loop."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import models
from models.activations import activation, modrelu
from models.scan import recurrence

F_IN, H, C, B, T = 3, 6, 4, 5, 9


pytestmark = pytest.mark.usefixtures("one_thread")


def _autograd_loop(z: torch.Tensor, W: torch.Tensor, step) -> torch.Tensor:
    """Reference recurrence built from ordinary autograd ops (time first)."""
    h = torch.zeros_like(z[0])
    states = []
    for t in range(z.shape[0]):
        h = step(z[t] + h @ W.T)
        states.append(h)
    return torch.stack(states)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("readout", ["last", "all"])
def test_rnn_matches_torch_rnn(nonlinearity: str, readout: str) -> None:
    peer = nn.RNN(F_IN, H, nonlinearity=nonlinearity, batch_first=True)
    model = models.build(
        "rnn",
        input_size=F_IN,
        hidden_size=H,
        output_size=C,
        nonlinearity=nonlinearity,
        readout=readout,
    )
    with torch.no_grad():
        model.W.copy_(peer.weight_hh_l0)
        model.U.copy_(peer.weight_ih_l0)
        model.bias.copy_(peer.bias_ih_l0 + peer.bias_hh_l0)
    x = torch.randn(B, T, F_IN)
    states, _ = peer(x)
    expected = model.readout(states if readout == "all" else states[:, -1])
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(model.hidden_states(x), states, rtol=1e-5, atol=1e-6)


def test_rnn_gradients_match_torch_rnn() -> None:
    peer = nn.RNN(F_IN, H, batch_first=True).double()
    model = models.build("rnn", input_size=F_IN, hidden_size=H, output_size=C).double()
    with torch.no_grad():
        model.W.copy_(peer.weight_hh_l0)
        model.U.copy_(peer.weight_ih_l0)
        model.bias.copy_(peer.bias_ih_l0 + peer.bias_hh_l0)
    x = torch.randn(B, T, F_IN, dtype=torch.float64, requires_grad=True)
    G = torch.randn(B, T, H, dtype=torch.float64)
    ours = torch.autograd.grad((model.hidden_states(x) * G).sum(), (x, model.W, model.U))
    theirs = torch.autograd.grad((peer(x)[0] * G).sum(), (x, peer.weight_hh_l0, peer.weight_ih_l0))
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("kind, layer", [("lstm", nn.LSTM), ("gru", nn.GRU)])
def test_gated_match_torch(kind: str, layer: type[nn.RNNBase]) -> None:
    model = models.build(kind, input_size=F_IN, hidden_size=H, output_size=C, readout="all")
    peer = layer(F_IN, H, batch_first=True)
    peer.load_state_dict(
        {k.removeprefix("rnn."): v for k, v in model.state_dict().items() if k.startswith("rnn.")}
    )
    x = torch.randn(B, T, F_IN)
    expected = model.readout(peer(x)[0])
    torch.testing.assert_close(model(x), expected)
    gates = model.recurrent_matrices()
    chunks = peer.weight_hh_l0.detach().chunk(len(gates))
    for name, chunk in zip(gates, chunks, strict=True):
        torch.testing.assert_close(gates[name], chunk)


@pytest.mark.parametrize("name", ["tanh", "relu", "elu", "modrelu"])
def test_fused_recurrence_matches_autograd_loop(name: str) -> None:
    z = torch.randn(T, B, H, dtype=torch.float64, requires_grad=True)
    W = (0.6 * torch.randn(H, H, dtype=torch.float64)).requires_grad_()
    bias = (0.3 * torch.randn(H, dtype=torch.float64)).requires_grad_()
    step = (lambda u: modrelu(u, bias)) if name == "modrelu" else activation(name)
    expected = _autograd_loop(z, W, step)
    got = recurrence(z, W, name, bias)
    torch.testing.assert_close(got, expected)
    G = torch.randn_like(got)
    inputs = (z, W, bias) if name == "modrelu" else (z, W)
    for a, b in zip(
        torch.autograd.grad((got * G).sum(), inputs),
        torch.autograd.grad((expected * G).sum(), inputs),
        strict=True,
    ):
        torch.testing.assert_close(a, b)


def test_fused_recurrence_gradcheck() -> None:
    z = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    W = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z, W, b: recurrence(z, W, "modrelu", b), (z, W, bias))
    assert torch.autograd.gradcheck(lambda z, W: recurrence(z, W, "elu"), (z, W))


def test_modrelu_definition() -> None:
    z = torch.tensor([-3.0, -0.5, 0.0, 0.5, 3.0])
    b = torch.full((5,), -1.0)
    expected = torch.sign(z) * torch.clamp(z.abs() + b, min=0)
    torch.testing.assert_close(modrelu(z, b), expected)
    # 1-Lipschitz with b <= 0: soft-thresholding
    torch.testing.assert_close(modrelu(z, b), torch.nn.functional.softshrink(z, 1.0))


@pytest.mark.parametrize("kind", ["scornn", "exprnn", "nnrnn"])
def test_modrelu_models_follow_their_equation(kind: str) -> None:
    model = models.build(
        kind, input_size=F_IN, hidden_size=H, output_size=C, readout="all"
    ).double()
    x = torch.randn(B, T, F_IN, dtype=torch.float64)
    W = model.recurrent_weight().detach()
    z = (x @ model.U.detach().T).transpose(0, 1)
    expected = _autograd_loop(z, W, lambda u: modrelu(u, model.modrelu_bias.detach()))
    torch.testing.assert_close(model.hidden_states(x), expected.transpose(0, 1))
    torch.testing.assert_close(model(x), model.readout(expected.transpose(0, 1)))


def test_rnn_elu_and_modrelu_follow_their_equation() -> None:
    for name in ("elu", "modrelu"):
        model = models.build(
            "rnn", input_size=F_IN, hidden_size=H, output_size=C, nonlinearity=name
        ).double()
        with torch.no_grad():
            model.bias.uniform_(-0.5, 0.5)
            if model.modrelu_bias is not None:
                model.modrelu_bias.uniform_(-0.2, 0.1)
        x = torch.randn(B, T, F_IN, dtype=torch.float64)
        z = (x @ model.U.detach().T + model.bias.detach()).transpose(0, 1)
        step = (
            (lambda u, m=model: modrelu(u, m.modrelu_bias.detach()))
            if name == "modrelu"
            else activation(name)
        )
        expected = _autograd_loop(z, model.W.detach(), step)
        torch.testing.assert_close(model.hidden_states(x), expected.transpose(0, 1))


def test_input_gradients_flow_for_every_kind() -> None:
    for kind in models.KINDS:
        model = models.build(kind, input_size=F_IN, hidden_size=8, output_size=C)
        x = torch.randn(2, 4, F_IN, requires_grad=True)
        model(x).sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all(), kind
        assert x.grad.abs().sum() > 0, kind


def test_recurrence_rejects_bad_nonlinearity() -> None:
    from models.errors import InvalidOptionError

    with pytest.raises(InvalidOptionError, match="sigmoid"):
        recurrence(torch.zeros(2, 1, 3), torch.eye(3), "sigmoid")
    with pytest.raises(InvalidOptionError, match="bias"):
        recurrence(torch.zeros(2, 1, 3), torch.eye(3), "modrelu")
