"""models.build: kinds, options and their errors, config round trip, the RecurrentModel methods."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import models
from models.errors import (
    InputShapeError,
    InvalidOptionError,
    UnknownKindError,
    UnsupportedModelError,
)

F_IN, H, C = 3, 8, 5

BLOCKS = {
    "rnn": {"W"},
    "scornn": {"W"},
    "exprnn": {"W"},
    "nnrnn": {"W"},
    "nru": {"W"},
    "lstm": {"i", "f", "g", "o"},
    "gru": {"r", "z", "n"},
}
PRINCIPAL = {"lstm": "g", "gru": "n"}


pytestmark = pytest.mark.usefixtures("one_thread")


def _build(kind: str, **options) -> models.RecurrentModel:
    return models.build(kind, input_size=F_IN, hidden_size=H, output_size=C, **options)


@pytest.mark.parametrize("kind", models.KINDS)
def test_shapes_blocks_and_principal(kind: str) -> None:
    x = torch.randn(4, 7, F_IN)
    last, every = _build(kind), _build(kind, readout="all")
    assert last(x).shape == (4, C)
    assert every(x).shape == (4, 7, C)
    torch.testing.assert_close(every(x)[:, -1], last(x))
    assert last.hidden_states(x).shape == (4, 7, H)
    blocks = last.recurrent_matrices()
    assert set(blocks) == BLOCKS[kind]
    for W in blocks.values():
        assert W.shape == (H, H) and W.dtype == torch.float32 and not W.requires_grad
    torch.testing.assert_close(last.recurrent_matrix(), blocks[PRINCIPAL.get(kind, "W")])
    assert isinstance(last, models.RecurrentModel) and last.kind == kind


@pytest.mark.parametrize("kind", models.KINDS)
def test_config_rebuilds_identical_model(kind: str) -> None:
    model = _build(kind, readout="all")
    config = json.loads(json.dumps(model.config))
    assert config == model.config
    assert set(config) == {"kind", "input_size", "hidden_size", "output_size", "seed", "options"}
    twin = models.build(**config)
    assert twin.config == model.config
    a, b = model.state_dict(), twin.state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    # defaults are filled in
    assert set(config["options"]) == set(type(model).OPTIONS)


def test_rnn_options_in_config() -> None:
    model = _build("rnn", init="chain", alpha=1.02, nonlinearity="elu", constrain="radius")
    options = model.config["options"]
    assert options["init"] == "chain" and options["alpha"] == 1.02
    assert options["nonlinearity"] == "elu" and options["constrain"] == "radius"
    assert options["readout"] == "last" and options["scale"] == 1.0


@pytest.mark.parametrize("kind", models.KINDS)
def test_override_changes_output_and_restores_exactly(kind: str) -> None:
    model = _build(kind)
    x = torch.randn(3, 6, F_IN)
    before = model(x).detach()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    W = model.recurrent_matrix()
    replacement = W + 0.5 * torch.randn_like(W)
    with model.override_recurrent(replacement):
        inside = model(x).detach()
        torch.testing.assert_close(model.recurrent_matrix(), replacement)
    assert not torch.allclose(inside, before)
    assert torch.equal(model(x).detach(), before)
    after = model.state_dict()
    assert all(torch.equal(after[k], state[k]) for k in state)
    # overriding with the model's own matrix changes nothing
    with model.override_recurrent(W):
        torch.testing.assert_close(model(x), before, rtol=1e-5, atol=1e-6)


def test_override_equals_setting_the_weight() -> None:
    model = _build("rnn")
    x = torch.randn(2, 5, F_IN)
    W = torch.randn(H, H) * 0.3
    with model.override_recurrent(W):
        inside = model(x).detach()
    with torch.no_grad():
        model.W.copy_(W)
    torch.testing.assert_close(model(x).detach(), inside)


def test_override_rejects_wrong_shape() -> None:
    with pytest.raises(InputShapeError, match=r"\(8, 8\)"):
        with _build("rnn").override_recurrent(torch.zeros(3, 3)):
            pass


def test_input_shape_errors() -> None:
    model = _build("rnn")
    with pytest.raises(InputShapeError, match=r"\(batch, time, 3\)"):
        model(torch.zeros(2, 4, F_IN + 1))
    with pytest.raises(InputShapeError):
        model(torch.zeros(4, F_IN))
    with pytest.raises(InputShapeError, match="time step"):
        model(torch.zeros(2, 0, F_IN))


@pytest.mark.parametrize("constrain", ["radius", "norm"])
def test_constrain_projection(constrain: str) -> None:
    model = _build("rnn", init="glorot", scale=3.0, constrain=constrain)
    opt = torch.optim.RMSprop(model.parameters(), lr=0.05)
    x, y = torch.randn(4, 6, F_IN), torch.randint(0, C, (4,))
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        model.after_step()
        W = model.recurrent_matrix().double().numpy()
        if constrain == "radius":
            assert np.abs(np.linalg.eigvals(W)).max() <= 1 + 1e-6
        else:
            assert np.linalg.norm(W, 2) <= 1 + 1e-6


def test_norm_projection_is_nearest_point_and_radius_keeps_direction() -> None:
    model = _build("rnn", init="glorot", scale=3.0, constrain="norm")
    W0 = model.W.detach().double().numpy().copy()
    model.after_step()
    U, S, Vt = np.linalg.svd(W0)
    np.testing.assert_allclose(model.W.detach().numpy(), (U * np.minimum(S, 1)) @ Vt, atol=1e-6)
    model = _build("rnn", init="glorot", scale=3.0, constrain="radius")
    W0 = model.W.detach().double().numpy().copy()
    model.after_step()
    rho = np.abs(np.linalg.eigvals(W0)).max()
    np.testing.assert_allclose(model.W.detach().numpy(), W0 / rho, rtol=1e-5, atol=1e-7)


def test_constrain_leaves_small_matrices_alone() -> None:
    model = _build("rnn", init="identity", scale=0.5, constrain="radius")
    W0 = model.W.detach().clone()
    model.after_step()
    assert torch.equal(model.W.detach(), W0)


def test_orthogonal_parameters() -> None:
    for kind in models.KINDS:
        model = _build(kind)
        params = model.orthogonal_parameters()
        names = {name for name, p in model.named_parameters() if any(p is q for q in params)}
        expected = {"scornn": {"A"}, "exprnn": {"A"}, "nnrnn": {"log_P"}}.get(kind, set())
        assert names == expected, kind


@pytest.mark.parametrize("kind", ["rnn", "scornn", "exprnn", "nnrnn"])
def test_lipschitz_parts_reproduce_forward(kind: str) -> None:
    options = {"nonlinearity": "modrelu"} if kind == "rnn" else {}
    model = _build(kind, **options).double()
    parts = model.lipschitz_parts()
    assert parts["U"].shape == (H, F_IN) and parts["W"].shape == (H, H)
    assert parts["V"].shape == (C, H)
    assert parts["nonlinearity"] == "modrelu"
    b = parts["modrelu_bias"].double()
    assert bool((b <= 0).all())  # initialised non-positive: modReLU is 1-Lipschitz
    x = torch.randn(2, 5, F_IN, dtype=torch.float64)
    h = torch.zeros(2, H, dtype=torch.float64)
    bias = model.bias.detach() if kind == "rnn" else 0.0
    for t in range(5):
        z = h @ parts["W"].double().T + x[:, t] @ parts["U"].double().T + bias
        h = torch.sign(z) * torch.relu(z.abs() + b)
    logits = h @ parts["V"].double().T + model.readout.bias.detach()
    torch.testing.assert_close(model(x).detach(), logits, rtol=1e-5, atol=1e-5)


def test_lipschitz_parts_tanh_rnn_and_unsupported() -> None:
    parts = _build("rnn").lipschitz_parts()
    assert parts["nonlinearity"] == "tanh" and parts["modrelu_bias"] is None
    for kind in ("nru", "lstm", "gru"):
        with pytest.raises(UnsupportedModelError, match=kind):
            _build(kind).lipschitz_parts()
        assert issubclass(UnsupportedModelError, TypeError)


def test_lstm_forget_bias_sets_only_the_forget_gate() -> None:
    plain = _build("lstm")
    model = _build("lstm", forget_bias=1.0)
    assert plain.config["options"]["forget_bias"] is None
    assert model.config["options"]["forget_bias"] == 1.0
    b_ih, b_hh = model.rnn.bias_ih_l0.detach(), model.rnn.bias_hh_l0.detach()
    assert torch.equal(b_ih[H : 2 * H], torch.ones(H)) and torch.equal(
        b_hh[H : 2 * H], torch.zeros(H)
    )
    # every other parameter is the seed's draw, as without the option
    for (name, p), q in zip(model.named_parameters(), plain.parameters(), strict=True):
        mask = torch.ones_like(p, dtype=torch.bool)
        if name in ("rnn.bias_ih_l0", "rnn.bias_hh_l0"):
            mask[H : 2 * H] = False
        assert torch.equal(p.detach()[mask], q.detach()[mask]), name
    # a forget gate near sigmoid(1) keeps more of the cell than the default draw
    s = torch.cat([torch.zeros(1, H), torch.ones(1, H)], dim=1)
    x = torch.zeros(1, F_IN)
    with torch.no_grad():
        assert float(model.step(s, x)[0, H:].mean()) > float(plain.step(s, x)[0, H:].mean())
    assert models.build(**model.config).config == model.config


def test_nru_memory_shapes_and_equations() -> None:
    model = models.build(
        "nru", input_size=F_IN, hidden_size=H, output_size=C, memory_size=16, heads=4
    )
    assert model.rank == 8
    x = torch.randn(3, 6, F_IN)
    mem = model.memory_states(x)
    assert mem.shape == (3, 6, 16)
    # one step by hand from zero state
    W = model.hmi2h.weight.detach()
    h1 = torch.relu(x[:, 0] @ W[:, :F_IN].T + model.hmi2h.bias.detach())
    torch.testing.assert_close(model.hidden_states(x)[:, 0], h1)
    s = torch.cat([h1, torch.zeros(3, 16)], dim=1)
    alpha = model.hm2alpha(s).detach()
    beta = model.hm2beta(s).detach()

    def direction(layer):
        u1, u2 = layer(s).detach().chunk(2, dim=1)
        v = torch.einsum("bi,bj->bij", u1, u2).reshape(3, 4, 16)
        return v / v.abs().pow(5).sum(-1, keepdim=True).pow(0.2)

    m1 = (
        alpha[..., None] * direction(model.hm2v_alpha)
        - beta[..., None] * direction(model.hm2v_beta)
    ).mean(1)
    torch.testing.assert_close(mem[:, 0], m1, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(model.recurrent_matrix(), W[:, F_IN : F_IN + H])
    assert model.memory_block().shape == (H, 16)


def test_nru_defaults_and_perfect_square_validation() -> None:
    model = _build("nru")
    assert model.config["options"]["memory_size"] == 64 and model.config["options"]["heads"] == 4
    with pytest.raises(InvalidOptionError, match="perfect square"):
        _build("nru", memory_size=10, heads=4)


def test_unknown_kind_lists_valid_kinds() -> None:
    with pytest.raises(UnknownKindError) as info:
        models.build("transformer", input_size=1, hidden_size=2, output_size=1)
    for kind in models.KINDS:
        assert kind in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "kind, options, match",
    [
        ("rnn", {"init": "fan"}, "init"),
        ("rnn", {"nonlinearity": "sigmoid"}, "nonlinearity"),
        ("rnn", {"constrain": "spectral"}, "constrain"),
        ("rnn", {"rho": 3}, "rho"),
        ("rnn", {"scale": "big"}, "scale"),
        ("rnn", {"alpha": float("nan")}, "alpha"),
        ("scornn", {"rho": H + 1}, "rho"),
        ("scornn", {"rho": -1}, "rho"),
        ("scornn", {"init": "orthogonal"}, "init"),
        ("exprnn", {"nonlinearity": "tanh"}, "nonlinearity"),
        ("nru", {"memory_size": 0}, "memory_size"),
        ("nru", {"heads": 2.5}, "heads"),
        ("lstm", {"init": "chain"}, "init"),
        ("lstm", {"forget_bias": "one"}, "forget_bias"),
        ("lstm", {"forget_bias": float("inf")}, "forget_bias"),
        ("gru", {"forget_bias": 1.0}, "forget_bias"),
        ("gru", {"readout": "first"}, "readout"),
    ],
)
def test_bad_options(kind: str, options: dict, match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        _build(kind, **options)
    assert issubclass(InvalidOptionError, ValueError)


@pytest.mark.parametrize("size", [0, -3, 2.5, True, "8"])
def test_bad_sizes_and_seed(size) -> None:
    for name in ("input_size", "hidden_size", "output_size"):
        kwargs = {"input_size": 2, "hidden_size": 4, "output_size": 3, name: size}
        with pytest.raises(InvalidOptionError, match=name):
            models.build("rnn", **kwargs)
    with pytest.raises(InvalidOptionError, match="seed"):
        models.build("rnn", input_size=2, hidden_size=4, output_size=3, seed=-1)


def test_options_mapping_and_keywords_merge() -> None:
    model = models.build(
        "rnn", input_size=2, hidden_size=4, output_size=3, options={"init": "chain"}, alpha=0.5
    )
    assert model.config["options"]["init"] == "chain" and model.config["options"]["alpha"] == 0.5
