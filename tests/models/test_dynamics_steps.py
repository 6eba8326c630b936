"""One-step maps and their Jacobians on every kind: torch.func.jacrev and the forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import models
import spectra
from models import dynamics
from models.errors import CheckpointError, InputShapeError, UnsupportedModelError

F_IN, H, B, T = 3, 6, 4, 11

CASES = [
    ("rnn", {}),
    ("rnn", {"nonlinearity": "relu"}),
    ("rnn", {"nonlinearity": "elu"}),
    ("rnn", {"nonlinearity": "modrelu"}),
    ("scornn", {}),
    ("exprnn", {}),
    ("nnrnn", {}),
    ("nru", {"memory_size": 16, "heads": 4}),
    ("lstm", {}),
    ("gru", {}),
]
IDS = [f"{k}-{o.get('nonlinearity', '')}".rstrip("-") for k, o in CASES]


pytestmark = pytest.mark.usefixtures("one_thread")


def _model(
    kind: str, options: dict, *, dtype=torch.float64, readout: str = "last", grid: bool = False
):
    """A model whose weights are moved away from their initialisation (gates not at 1/2).

    With ``grid``, every weight is a multiple of 1/16 (see :func:`_inputs`).
    """
    model = models.build(
        kind, input_size=F_IN, hidden_size=H, output_size=2, seed=3, readout=readout, **options
    ).to(dtype)
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.4 * torch.randn(p.shape, generator=g, dtype=torch.float64).to(dtype))
            if grid:
                p.copy_(torch.round(16 * p) / 16)
    return model


def _inputs(dtype=torch.float64, *, grid: bool = False) -> torch.Tensor:
    """Seeded inputs; with ``grid``, multiples of 1/16.

    Products and sums of a few multiples of 1/16 are exact in floating point, so on the grid
    the input drive is the same number whatever order or kernel the BLAS uses (the forward
    pass projects the inputs of all steps in one product, a step those of its own rows, and
    some BLAS kernels round a row differently for a different number of rows).
    """
    x = torch.randn(B, T, F_IN, generator=torch.Generator().manual_seed(1), dtype=dtype)
    return torch.round(16 * x) / 16 if grid else x


def _state(model) -> torch.Tensor:
    s = torch.randn(B, model.state_size, generator=torch.Generator().manual_seed(2))
    return s.double() * 0.8


def _jacrev(model, state, x):
    """Reference: torch.func.jacrev of the step, one sample at a time (no vmap)."""
    with model.parametrization_cache():
        with torch.no_grad():
            model.recurrent_weight()  # the orthogonal maps are autograd.Functions: compute once
        out = []
        for b in range(state.shape[0]):
            Js, Jx = torch.func.jacrev(
                lambda s, u: model.step(s[None], u[None])[0], argnums=(0, 1)
            )(state[b], x[b])
            out.append((Js, Jx))
    return torch.stack([o[0] for o in out]), torch.stack([o[1] for o in out])


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).detach().norm() / b.detach().norm())


@pytest.mark.parametrize(("kind", "options"), CASES, ids=IDS)
def test_step_jacobian_matches_jacrev(kind, options):
    model = _model(kind, options)
    state, x = _state(model), _inputs()[:, 4]
    J_ref, Jx_ref = _jacrev(model, state, x)
    J = model.step_jacobian(state, x)
    assert J.shape == (B, model.state_size, model.state_size)
    assert J.dtype == torch.float64
    assert _rel(J, J_ref) < 1e-10
    assert _rel(model.input_jacobian(state, x), Jx_ref) < 1e-10
    # not a vacuous comparison: the Jacobian is neither zero nor the identity
    assert float(J.norm()) > 0.1
    assert _rel(J, torch.eye(model.state_size).expand_as(J)) > 0.05


@pytest.mark.parametrize(("kind", "options"), CASES, ids=IDS)
def test_jacobian_factors_rebuild_the_jacobian(kind, options):
    """diag(d) W of the vanilla kinds is the analytic Jacobian (and so jacrev's); none elsewhere."""
    model = _model(kind, options)
    state, x = _state(model), _inputs()[:, 4]
    factors = model.step_jacobian_factors(state, x)
    steps = list(dynamics.iter_jacobians(model, _inputs()[:, :3], state0=state, factored=True))
    dense = dynamics.jacobians(model, _inputs()[:, :3], state0=state)
    if kind in ("nru", "lstm", "gru"):
        assert factors is None
        assert all(isinstance(J, torch.Tensor) for J in steps)
        return
    d, W = factors
    assert d.shape == (B, H) and W.shape == (H, H) and not d.requires_grad
    assert torch.equal(d[:, :, None] * W, model.step_jacobian(state, x))
    assert float(d.min()) < 0.99  # the slopes really scale the rows
    for t, J in enumerate(steps):
        assert isinstance(J, spectra.RowScaled)
        np.testing.assert_array_equal(J.dense(), dense[:, t].numpy())
    with pytest.raises(InputShapeError, match="state"):
        model.step_jacobian_factors(state[:, :2], x)


@pytest.mark.parametrize(("kind", "options"), CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_iterating_step_reproduces_forward_exactly(kind, options, dtype):
    model = _model(kind, options, dtype=dtype, readout="all", grid=True)
    x = _inputs(dtype, grid=True)
    expected = model.hidden_states(x)
    s = model.initial_state(B)
    assert s.dtype == dtype and s.shape == (B, model.state_size)
    hs = []
    with torch.no_grad():
        for t in range(T):
            s = model.step(s, x[:, t])
            hs.append(s[:, :H])
    full = dynamics.states(model, x)
    assert full.shape == (B, T, model.state_size)
    if kind in ("lstm", "gru"):
        # torch's fused layer projects the inputs of all steps in one matrix product, whose
        # blocking (and so the last bit) depends on the number of steps and threads
        tol = 4 * torch.finfo(dtype).eps
        assert torch.allclose(torch.stack(hs, dim=1), expected, rtol=tol, atol=tol)
        return
    assert torch.equal(torch.stack(hs, dim=1), expected)
    if dtype == torch.float64:
        assert torch.equal(full[..., :H], expected)
    if kind == "nru" and dtype == torch.float64:
        assert torch.equal(full[..., H:], model.memory_states(x))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_lstm_and_gru_state_layout(kind):
    """(h, c) of an LSTM and h of a GRU agree with torch's own h_n / c_n after T steps."""
    model = _model(kind, {})
    x = _inputs()
    _, hx = model.rnn(x)
    s = dynamics.states(model, x)[:, -1]
    h, c = (hx[0][0], hx[1][0]) if kind == "lstm" else (hx[0], None)
    assert torch.allclose(s[:, :H], h, rtol=1e-15, atol=1e-15)
    if c is not None:
        assert torch.allclose(s[:, H:], c, rtol=1e-15, atol=1e-15)
        assert not torch.allclose(s[:, H:], s[:, :H])


@pytest.mark.parametrize(("kind", "options"), [*CASES[::3], CASES[-2]], ids=[*IDS[::3], "lstm"])
def test_jacobian_product_is_derivative_of_the_whole_run(kind, options):
    """J_T ... J_1 from jacobians() equals jacrev of the T-step map with respect to state0."""
    model = _model(kind, options)
    x, s0 = _inputs()[:1, :6], _state(model)[:1] * 0.5
    J = dynamics.jacobians(model, x, state0=s0)
    assert J.shape == (1, 6, model.state_size, model.state_size)
    P = torch.eye(model.state_size, dtype=torch.float64)
    for t in range(6):
        P = J[0, t] @ P

    def run(s):
        s = s[None]
        for t in range(6):
            s = model.step(s, x[:, t])
        return s[0]

    with model.parametrization_cache():
        with torch.no_grad():
            model.recurrent_weight()
        ref = torch.func.jacrev(run)(s0[0])
    assert _rel(P, ref) < 1e-10


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru", "exprnn"])
def test_step_uses_the_override(kind):
    model = _model(kind, {})
    W = 0.5 * torch.eye(H, dtype=torch.float64)
    s, x = _state(model), _inputs()[:, 0]
    with model.override_recurrent(W.float()):
        J = model.step_jacobian(s, x)
        out = model.step(s, x)
        ref = _jacrev(model, s, x)[0]
        # the float64 copy used by models.dynamics keeps the override
        J_traj = dynamics.jacobians(model, x[:, None], state0=s)[:, 0]
    assert _rel(J_traj, ref) < 1e-6
    assert _rel(J, ref) < 1e-10
    assert not torch.allclose(out, model.step(s, x))


def test_jacobian_of_vanilla_rnn_at_zero_is_W():
    model = models.build("rnn", input_size=2, hidden_size=5, output_size=1, seed=1).double()
    J = dynamics.jacobians(model, torch.zeros(2, 3, 2))
    assert torch.allclose(J, model.W.detach().expand(2, 3, 5, 5), atol=0, rtol=0)


def test_step_rejects_bad_shapes():
    model = models.build("lstm", input_size=2, hidden_size=3, output_size=1)
    with pytest.raises(InputShapeError, match=r"\(batch, 6\)"):
        model.step(torch.zeros(1, 3), torch.zeros(1, 2))
    with pytest.raises(InputShapeError, match=r"\(1, 2\)"):
        model.step_jacobian(torch.zeros(1, 6), torch.zeros(2, 2))
    with pytest.raises(InputShapeError, match="time"):
        dynamics.jacobians(model, torch.zeros(1, 3))
    with pytest.raises(InputShapeError, match="NaN"):
        dynamics.jacobians(model, torch.full((1, 3, 2), float("nan")))
    with pytest.raises(InputShapeError, match="state0"):
        dynamics.jacobians(model, torch.zeros(1, 3, 2), state0=torch.zeros(5))
    with pytest.raises(UnsupportedModelError):
        dynamics.jacobians(nn.Linear(2, 2), torch.zeros(1, 3, 2))


# -- foreign torch modules ---------------------------------------------------------------------


def _torch_module(cls, layers, **kwargs):
    torch.manual_seed(4)
    return cls(F_IN, H, num_layers=layers, batch_first=True, **kwargs).double()


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [(nn.RNN, {}), (nn.RNN, {"nonlinearity": "relu"}), (nn.LSTM, {}), (nn.GRU, {})],
    ids=["rnn-tanh", "rnn-relu", "lstm", "gru"],
)
@pytest.mark.parametrize("layers", [1, 3])
def test_torch_stack_reproduces_module_and_its_jacobian(cls, kwargs, layers):
    module = _torch_module(cls, layers, **kwargs)
    stack = dynamics.from_torch(module)
    x = _inputs()
    out, hx = module(x)
    per_layer = stack.layers[0].state_size
    assert stack.state_size == layers * per_layer
    ours = stack.hidden_states(x)
    full = dynamics.states(stack, x)[:, -1]
    h_n = hx[0] if cls is nn.LSTM else hx
    # rnn: the two biases are summed into one; lstm, gru: the fused kernel's blocking
    assert torch.allclose(ours, out, rtol=0, atol=1e-14)
    for k in range(layers):
        assert torch.allclose(full[:, k * per_layer : k * per_layer + H], h_n[k], atol=1e-14)
        if cls is nn.LSTM:
            block = full[:, k * per_layer + H : (k + 1) * per_layer]
            assert torch.allclose(block, hx[1][k], atol=1e-14)
    s, xt = torch.randn(B, stack.state_size, dtype=torch.float64) * 0.7, x[:, 2]
    J = stack.step_jacobian(s, xt)
    ref = torch.stack(
        [
            torch.func.jacrev(lambda a, b=b: stack.step(a[None], xt[b : b + 1])[0])(s[b])
            for b in range(B)
        ]
    )
    assert _rel(J, ref) < 1e-10
    if layers > 1:  # the upper layers depend on the lower ones within the same step
        assert float(J[:, per_layer : 2 * per_layer, :per_layer].abs().max()) > 1e-3


def test_from_torch_state_dict_with_prefix_and_errors():
    module = _torch_module(nn.GRU, 2)
    state = {f"encoder.rnn.{k}": v for k, v in module.state_dict().items()}
    stack = dynamics.from_torch(state)
    x = _inputs()
    assert torch.allclose(stack.hidden_states(x), module(x)[0], rtol=0, atol=1e-14)
    other = {f"decoder.{k}": v for k, v in module.state_dict().items()}
    with pytest.raises(CheckpointError, match="prefix"):
        dynamics.from_torch({**state, **other})
    assert dynamics.from_torch({**state, **other}, prefix="decoder.").state_size == 2 * H
    with pytest.raises(UnsupportedModelError, match="bidirectional"):
        dynamics.from_torch(nn.LSTM(2, 3, bidirectional=True))
    with pytest.raises(UnsupportedModelError, match="projections"):
        dynamics.from_torch(nn.LSTM(2, 3, proj_size=2))
    with pytest.raises(UnsupportedModelError, match="bias"):
        dynamics.from_torch(nn.RNN(2, 3, bias=False))
    with pytest.raises(CheckpointError, match="weight_hh"):
        dynamics.from_torch({"W": torch.eye(3)})
    bad = dict(nn.RNN(2, 3).state_dict())
    bad["weight_hh_l0"] = torch.zeros(5, 3)
    with pytest.raises(CheckpointError, match="not those of"):
        dynamics.from_torch(bad)
