"""Foreign checkpoint formats: each fixture mimics the key names, shapes and nesting that the
original code writes, filled with random tensors; the recovered matrices are checked against
the formulas computed here independently (scipy) and against the original forward pass."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

import models
from models.errors import CheckpointError

# -- helpers ---------------------------------------------------------------------------------


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _t(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).float()


def _skew(a: np.ndarray) -> np.ndarray:
    upper = np.triu(a, 1)
    return upper - upper.T


def _orthogonal(n: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(_rng(seed).standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _close(actual: torch.Tensor, expected: np.ndarray, tol: float = 2e-5) -> None:
    np.testing.assert_allclose(actual.double().numpy(), expected, atol=tol, rtol=tol)


# -- expRNN / dtriv --------------------------------------------------------------------------


def _exprnn_state(
    n: int = 6, *, base: np.ndarray | None = None, cached: str | None = "expm", seed: int = 0
) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    """State dict of the expRNN copy-task model: Model(rnn=OrthogonalRNN, lin=Linear)."""
    rng = _rng(seed)
    a = rng.standard_normal((n, n)) * 0.5
    base = np.eye(n) if base is None else base
    s = _skew(a)
    b = base @ scipy.linalg.expm(s)
    state = {
        "rnn.recurrent_kernel.A": _t(a),
        "rnn.recurrent_kernel.base": _t(base),
        "rnn.input_kernel.weight": _t(rng.standard_normal((n, 10))),
        "rnn.nonlinearity.b": _t(rng.uniform(-0.01, 0.01, n)),
        "lin.weight": _t(rng.standard_normal((9, n))),
        "lin.bias": _t(np.zeros(9)),
    }
    if cached == "expm":
        state["rnn.recurrent_kernel._B"] = _t(b)
    elif cached == "cayley":
        eye = np.eye(n)
        state["rnn.recurrent_kernel._B"] = _t(base @ np.linalg.solve(eye + s, eye - s))
    elif cached == "stale":
        state["rnn.recurrent_kernel._B"] = _t(_orthogonal(n, seed + 100))
    return state, b


def test_exprnn_static_matches_transposed_expm(tmp_path: Path) -> None:
    state, b = _exprnn_state()
    path = tmp_path / "exprnn.pt"
    torch.save(state, path)
    ckpt = models.load(path)
    assert ckpt.format == "exprnn" and ckpt.kind == "exprnn"
    assert list(ckpt.matrices) == ["W"]
    _close(ckpt.recurrent_matrix(), b.T)
    assert "expm" in ckpt.formulas["W"] and "base" in ckpt.formulas["W"]
    assert ckpt.source_keys["W"][0] == "rnn.recurrent_kernel.A"
    assert ckpt.config["map"] == "expm"
    assert ckpt.config["cached_difference"] < 1e-5
    assert "max |B − _B|" in ckpt.notes["W"]


def test_exprnn_direction_matches_row_forward(tmp_path: Path) -> None:
    """The original layer computes h @ B; W h must give the same vector."""
    state, _ = _exprnn_state(n=5, seed=3)
    torch.save(state, tmp_path / "m.pt")
    w = models.load(tmp_path / "m.pt").recurrent_matrix().double()
    h = torch.randn(4, 5, dtype=torch.float64)
    b_stored = state["rnn.recurrent_kernel._B"].double()
    torch.testing.assert_close((w @ h.T).T, h @ b_stored, atol=1e-5, rtol=1e-5)


def test_exprnn_dtriv_base_and_missing_cache(tmp_path: Path) -> None:
    base = _orthogonal(6, seed=7)
    state, b = _exprnn_state(base=base, cached=None, seed=1)
    torch.save({"state_dict": state}, tmp_path / "dtriv.pth")
    ckpt = models.load(tmp_path / "dtriv.pth")
    _close(ckpt.recurrent_matrix(), b.T)
    assert ckpt.config["cached_difference"] is None
    assert ckpt.source_keys["W"] == [
        "state_dict.rnn.recurrent_kernel.A",
        "state_dict.rnn.recurrent_kernel.base",
    ]
    # orthogonal, as every expRNN matrix
    w = ckpt.recurrent_matrix().double()
    torch.testing.assert_close(w.T @ w, torch.eye(6, dtype=torch.float64), atol=1e-5, rtol=0)


def test_exprnn_cayley_cache_selects_cayley_map(tmp_path: Path) -> None:
    state, _ = _exprnn_state(cached="cayley", seed=2)
    torch.save(state, tmp_path / "cayley.pt")
    ckpt = models.load(tmp_path / "cayley.pt")
    a = state["rnn.recurrent_kernel.A"].double().numpy()
    s, eye = _skew(a), np.eye(6)
    _close(ckpt.recurrent_matrix(), np.linalg.solve(eye + s, eye - s).T)
    assert ckpt.config["map"] == "cayley"
    assert "Cayley" in ckpt.notes["W"]


def test_exprnn_stale_cache_is_reported_not_used(tmp_path: Path) -> None:
    state, b = _exprnn_state(cached="stale", seed=4)
    torch.save(state, tmp_path / "stale.pt")
    ckpt = models.load(tmp_path / "stale.pt")
    _close(ckpt.recurrent_matrix(), b.T)
    assert "stale" in ckpt.notes["W"]
    assert ckpt.config["cached_difference"] > 1e-2


def test_exprnn_old_layout_log_recurrent_kernel(tmp_path: Path) -> None:
    """The expRNN copy inside the nnRNN repository: log_recurrent_kernel + recurrent_kernel."""
    rng = _rng(5)
    log = rng.standard_normal((4, 4))
    b = scipy.linalg.expm(_skew(log))
    state = {
        "rnn.log_recurrent_kernel": _t(log),
        "rnn.recurrent_kernel": _t(b),
        "rnn.input_kernel.weight": _t(rng.standard_normal((4, 1))),
    }
    torch.save({"state_dict": state, "optimizer": {}, "time step": 3}, tmp_path / "e.pth.tar")
    ckpt = models.load(tmp_path / "e.pth.tar")
    assert ckpt.format == "exprnn"
    _close(ckpt.recurrent_matrix(), b.T)
    assert ckpt.config["extra"] == {"time step": 3}


def test_exprnn_two_layers_keep_prefixes(tmp_path: Path) -> None:
    s1, b1 = _exprnn_state(n=4, seed=1)
    s2, b2 = _exprnn_state(n=5, seed=2)
    state = {k.replace("rnn.", "enc."): v for k, v in s1.items()}
    state |= {k.replace("rnn.", "dec."): v for k, v in s2.items() if k.startswith("rnn.")}
    torch.save(state, tmp_path / "two.pt")
    ckpt = models.load(tmp_path / "two.pt")
    assert set(ckpt.matrices) == {"enc.W", "dec.W"}
    _close(ckpt.matrices["enc.W"], b1.T)
    _close(ckpt.matrices["dec.W"], b2.T)


# -- nnRNN -----------------------------------------------------------------------------------


def _nnrnn_file(n: int = 6, seed: int = 0) -> tuple[dict[str, object], np.ndarray]:
    """What copytask.py's save_checkpoint writes for net_type nnRNN, and the expected W."""
    rng = _rng(seed)
    log_p = rng.standard_normal((n, n)) * 0.3
    p = scipy.linalg.expm(_skew(log_p))
    upp = rng.standard_normal((n, n)) * 0.2
    thetas = rng.uniform(0, 2 * math.pi, n)  # the cell registers n angles, uses n/2
    alphas = rng.uniform(0.8, 1.2, n // 2)
    state: dict[str, torch.Tensor] = {
        "rnn.log_P": _t(log_p),
        "rnn.P": _t(p),
        "rnn.UppT": _t(upp),
    }
    state |= {f"rnn.theta_{i}": _t(np.array([thetas[i]])) for i in range(n)}
    state |= {f"rnn.alpha_{i}": _t(np.array([alphas[i]])) for i in range(n // 2)}
    state |= {
        "rnn.U.weight": _t(rng.standard_normal((n, 1))),
        "rnn.nonlinearity.b": _t(rng.uniform(-0.01, 0.01, n)),
        "lin.weight": _t(rng.standard_normal((9, n))),
        "lin.bias": _t(np.zeros(9)),
    }
    # OrthoRNNCell.calc_D / calc_alpha_block / calc_rec, written out independently
    d = np.zeros((n, n))
    ab = np.zeros((n, n))
    for i in range(0, n, 2):
        c, s = math.cos(thetas[i // 2]), math.sin(thetas[i // 2])
        d[i, i], d[i, i + 1], d[i + 1, i], d[i + 1, i + 1] = c, -s, s, c
        ab[i : i + 2, i : i + 2] = alphas[i // 2]
    mask = np.triu(np.ones((n, n)), 1)
    rec = p @ (upp * mask + ab * d) @ p.T
    optimizer = {"state": {}, "param_groups": [{"lr": 2e-4, "alpha": 0.99, "params": [0, 1, 2]}]}
    return {"state_dict": state, "optimizer": optimizer, "time step": 1499}, rec.T


def test_nnrnn_matches_calc_rec_transposed(tmp_path: Path) -> None:
    content, expected = _nnrnn_file()
    path = tmp_path / "nnRNN_1499.pth.tar"
    torch.save(content, path)
    ckpt = models.load(path)
    assert ckpt.format == "nnrnn" and ckpt.kind == "nnrnn"
    _close(ckpt.recurrent_matrix(), expected)
    assert ckpt.config["extra"] == {"time step": 1499}
    assert ckpt.config["hidden_size"] == 6
    assert ckpt.config["log_P_difference"] < 1e-5
    assert "state_dict.rnn.UppT" in ckpt.source_keys["W"]
    assert "state_dict.rnn.theta_2" in ckpt.source_keys["W"]
    assert "state_dict.rnn.theta_3" not in ckpt.source_keys["W"]  # unused angles
    assert "P·(UppT∘M + AB∘D)·Pᵀ" in ckpt.formulas["W"]


def test_nnrnn_direction_matches_row_forward(tmp_path: Path) -> None:
    content, expected = _nnrnn_file(n=8, seed=2)
    torch.save(content, tmp_path / "n.pth.tar")
    w = models.load(tmp_path / "n.pth.tar").recurrent_matrix().double()
    rec = torch.from_numpy(expected.T)
    h = torch.randn(3, 8, dtype=torch.float64)
    torch.testing.assert_close((w @ h.T).T, h @ rec, atol=1e-5, rtol=1e-5)


def test_nnrnn_schur_structure(tmp_path: Path) -> None:
    """In the basis P, W is block-diagonal rotations plus a strictly lower triangle."""
    content, _ = _nnrnn_file(n=6, seed=3)
    torch.save(content, tmp_path / "n.pt")
    w = models.load(tmp_path / "n.pt").recurrent_matrix().double()
    p = content["state_dict"]["rnn.P"].double()  # type: ignore[index]
    t = p.T @ w @ p
    upper = torch.triu(t, 2)
    assert float(upper.abs().max()) < 1e-5
    alpha0 = float(content["state_dict"]["rnn.alpha_0"])  # type: ignore[index]
    theta0 = float(content["state_dict"]["rnn.theta_0"])  # type: ignore[index]
    assert float(t[0, 0]) == pytest.approx(alpha0 * math.cos(theta0), abs=1e-5)
    # rows convention rotation [[c, -s], [s, c]] becomes [[c, s], [-s, c]] in W
    assert float(t[0, 1]) == pytest.approx(alpha0 * math.sin(theta0), abs=1e-5)


def test_nnrnn_missing_angle_is_an_error(tmp_path: Path) -> None:
    content, _ = _nnrnn_file()
    del content["state_dict"]["rnn.theta_1"]  # type: ignore[attr-defined]
    torch.save(content, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match=r"bad\.pt.*theta_1"):
        models.load(tmp_path / "bad.pt")


# -- NRU -------------------------------------------------------------------------------------


def _nru_state(
    inputs: int = 3, hidden: int = 5, memory: int = 4, heads: int = 4, layers: int = 1
) -> dict[str, torch.Tensor]:
    """NRU(...).state_dict(): _list_of_modules.<k>.{hm2v_alpha, hm2v_beta, hm2alpha, hm2beta,
    hmi2h}, _W_h2o, _b_o."""
    rng = _rng(7)
    r = math.isqrt(memory * heads)
    state: dict[str, torch.Tensor] = {}
    width = inputs
    for k in range(layers):
        p = f"_list_of_modules.{k}."
        for name, rows in (("hm2v_alpha", 2 * r), ("hm2v_beta", 2 * r)):
            state[p + name + ".weight"] = _t(rng.standard_normal((rows, memory + hidden)))
            state[p + name + ".bias"] = _t(rng.standard_normal(rows))
        for name in ("hm2alpha", "hm2beta"):
            state[p + name + ".weight"] = _t(rng.standard_normal((heads, memory + hidden)))
            state[p + name + ".bias"] = _t(rng.standard_normal(heads))
        state[p + "hmi2h.weight"] = _t(rng.standard_normal((hidden, memory + hidden + width)))
        state[p + "hmi2h.bias"] = _t(rng.standard_normal(hidden))
        width = hidden
    state["_W_h2o"] = _t(rng.standard_normal((hidden, 10)))
    state["_b_o"] = _t(np.zeros(10))
    return state


def test_nru_hidden_block_and_memory_block(tmp_path: Path) -> None:
    state = _nru_state()
    torch.save(state, tmp_path / "model.p")
    ckpt = models.load(tmp_path / "model.p")
    assert ckpt.format == "nru" and ckpt.kind == "nru"
    weight = state["_list_of_modules.0.hmi2h.weight"]
    torch.testing.assert_close(ckpt.recurrent_matrix(), weight[:, 3:8])
    torch.testing.assert_close(ckpt.other_blocks["memory"], weight[:, 8:])
    assert ckpt.config["input_size"] == 3
    assert ckpt.config["memory_size"] == 4
    assert ckpt.config["heads"] == 4


def test_nru_blocks_reproduce_the_cell_preactivation(tmp_path: Path) -> None:
    """hmi2h(cat(x, h, m)) = U x + W h + M m + b, as NRUCell.forward computes it."""
    state = _nru_state(inputs=2, hidden=6, memory=9, heads=1)
    torch.save(state, tmp_path / "model.p")
    ckpt = models.load(tmp_path / "model.p")
    weight = state["_list_of_modules.0.hmi2h.weight"]
    bias = state["_list_of_modules.0.hmi2h.bias"]
    x, h, m = torch.randn(4, 2), torch.randn(4, 6), torch.randn(4, 9)
    full = nn.functional.linear(torch.cat((x, h, m), 1), weight, bias)
    split = x @ weight[:, :2].T + h @ ckpt.matrices["W"].T + m @ ckpt.other_blocks["memory"].T
    torch.testing.assert_close(full, split + bias, atol=1e-5, rtol=1e-5)


def test_nru_two_layers(tmp_path: Path) -> None:
    state = _nru_state(layers=2)
    torch.save(state, tmp_path / "model.p")
    ckpt = models.load(tmp_path / "model.p")
    assert set(ckpt.matrices) == {"l0.W", "l1.W"}
    torch.testing.assert_close(
        ckpt.matrices["l1.W"], state["_list_of_modules.1.hmi2h.weight"][:, 5:10]
    )
    assert set(ckpt.other_blocks) == {"l0.memory", "l1.memory"}
    assert ckpt.config["layers"]["l1.W"]["input_size"] == 5


# -- torch nn.RNN / LSTM / GRU ---------------------------------------------------------------


def test_torch_rnn_single_layer(tmp_path: Path) -> None:
    rnn = nn.RNN(3, 5)
    torch.save(rnn.state_dict(), tmp_path / "rnn.pt")
    ckpt = models.load(tmp_path / "rnn.pt")
    assert ckpt.format == "torch-rnn" and ckpt.kind == "rnn"
    assert list(ckpt.matrices) == ["l0"]
    torch.testing.assert_close(ckpt.recurrent_matrix(), rnn.weight_hh_l0.detach())


def test_torch_rnn_blocks_reproduce_the_module(tmp_path: Path) -> None:
    """One step of nn.RNN equals tanh(W_ih x + b + W h + b) with W from the checkpoint."""
    rnn = nn.RNN(3, 5, batch_first=True)
    torch.save({"state_dict": {f"rnn.{k}": v for k, v in rnn.state_dict().items()}}, tmp_path / "r")
    w = models.load(tmp_path / "r").matrices["l0"]
    x, h0 = torch.randn(2, 1, 3), torch.randn(1, 2, 5)
    out, _ = rnn(x, h0)
    manual = torch.tanh(
        x[:, 0] @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h0[0] @ w.T + rnn.bias_hh_l0
    )
    torch.testing.assert_close(out[:, 0], manual.detach(), atol=1e-6, rtol=1e-6)


def test_torch_lstm_gates_reproduce_the_module(tmp_path: Path) -> None:
    lstm = nn.LSTM(3, 4, batch_first=True)
    torch.save(lstm.state_dict(), tmp_path / "lstm.pt")
    ckpt = models.load(tmp_path / "lstm.pt")
    assert ckpt.format == "torch-lstm" and ckpt.kind == "lstm"
    assert list(ckpt.matrices) == ["l0.i", "l0.f", "l0.g", "l0.o"]
    assert ckpt.principal == "l0.g"
    x, h0, c0 = torch.randn(2, 1, 3), torch.randn(1, 2, 4), torch.randn(1, 2, 4)
    _, (h1, c1) = lstm(x, (h0, c0))
    wi = lstm.weight_ih_l0.detach().chunk(4)
    b = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().chunk(4)

    def pre(k: int, gate: str) -> torch.Tensor:
        return x[:, 0] @ wi[k].T + b[k] + h0[0] @ ckpt.matrices[f"l0.{gate}"].T

    i, f = torch.sigmoid(pre(0, "i")), torch.sigmoid(pre(1, "f"))
    g, o = torch.tanh(pre(2, "g")), torch.sigmoid(pre(3, "o"))
    c = f * c0[0] + i * g
    torch.testing.assert_close(c1[0].detach(), c, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(h1[0].detach(), o * torch.tanh(c), atol=1e-6, rtol=1e-6)


def test_torch_gru_gates_reproduce_the_module(tmp_path: Path) -> None:
    gru = nn.GRU(3, 4, batch_first=True)
    torch.save({"model": {f"net.gru.{k}": v for k, v in gru.state_dict().items()}}, tmp_path / "g")
    ckpt = models.load(tmp_path / "g")
    assert ckpt.format == "torch-gru"
    assert ckpt.principal == "l0.n"
    assert ckpt.source_keys["l0.r"] == ["model.net.gru.weight_hh_l0"]
    x, h0 = torch.randn(2, 1, 3), torch.randn(1, 2, 4)
    out, _ = gru(x, h0)
    wi = gru.weight_ih_l0.detach().chunk(3)
    bi, bh = gru.bias_ih_l0.detach().chunk(3), gru.bias_hh_l0.detach().chunk(3)
    h = h0[0]
    r = torch.sigmoid(x[:, 0] @ wi[0].T + bi[0] + h @ ckpt.matrices["l0.r"].T + bh[0])
    z = torch.sigmoid(x[:, 0] @ wi[1].T + bi[1] + h @ ckpt.matrices["l0.z"].T + bh[1])
    n = torch.tanh(x[:, 0] @ wi[2].T + bi[2] + r * (h @ ckpt.matrices["l0.n"].T + bh[2]))
    torch.testing.assert_close(out[:, 0].detach(), (1 - z) * n + z * h, atol=1e-6, rtol=1e-6)


def test_torch_lstm_multilayer_bidirectional_prefixed(tmp_path: Path) -> None:
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    state = {f"encoder.lstm.{k}": v for k, v in lstm.state_dict().items()}
    torch.save({"state_dict": state, "epoch": 7}, tmp_path / "enc.pth")
    ckpt = models.load(tmp_path / "enc.pth")
    names = {f"{layer}.{g}" for layer in ("l0", "l1", "l0_reverse", "l1_reverse") for g in "ifgo"}
    assert set(ckpt.matrices) == names
    for layer in ("l0", "l1", "l0_reverse", "l1_reverse"):
        blocks = getattr(lstm, f"weight_hh_{layer}").detach().chunk(4)
        for k, gate in enumerate("ifgo"):
            torch.testing.assert_close(ckpt.matrices[f"{layer}.{gate}"], blocks[k])
    assert ckpt.source_keys["l1_reverse.o"] == ["state_dict.encoder.lstm.weight_hh_l1_reverse"]
    assert ckpt.config["extra"] == {"epoch": 7}
    assert ckpt.config["modules"]["encoder.lstm"]["layers"] == [
        "l0",
        "l0_reverse",
        "l1",
        "l1_reverse",
    ]


def test_torch_two_modules_keep_their_prefixes(tmp_path: Path) -> None:
    enc, dec = nn.LSTM(3, 4), nn.GRU(4, 5)
    state = {f"encoder.lstm.{k}": v for k, v in enc.state_dict().items()}
    state |= {f"decoder.gru.{k}": v for k, v in dec.state_dict().items()}
    torch.save(state, tmp_path / "seq2seq.pt")
    ckpt = models.load(tmp_path / "seq2seq.pt")
    assert "encoder.lstm.l0.g" in ckpt.matrices
    assert "decoder.gru.l0.n" in ckpt.matrices
    assert ckpt.config["modules"]["decoder.gru"]["kind"] == "gru"
    torch.testing.assert_close(ckpt.matrices["decoder.gru.l0.n"], dec.weight_hh_l0[10:].detach())


def test_torch_lstm_projection_blocks_are_skipped_with_reason(tmp_path: Path) -> None:
    lstm = nn.LSTM(3, 6, proj_size=2)
    torch.save(lstm.state_dict(), tmp_path / "proj.pt")
    with pytest.raises(CheckpointError, match=r"nothing to analyse.*proj_size=2"):
        models.load(tmp_path / "proj.pt")


def test_torch_lstm_cell(tmp_path: Path) -> None:
    cell = nn.LSTMCell(3, 4)
    torch.save({f"rnn.{k}": v for k, v in cell.state_dict().items()}, tmp_path / "cell.pt")
    ckpt = models.load(tmp_path / "cell.pt")
    assert set(ckpt.matrices) == {"cell.i", "cell.f", "cell.g", "cell.o"}
    torch.testing.assert_close(ckpt.recurrent_matrix(), cell.weight_hh.detach()[8:12])


def test_torch_nan_layer_is_skipped_and_named(tmp_path: Path) -> None:
    rnn = nn.RNN(2, 3, num_layers=2)
    state = rnn.state_dict()
    state["weight_hh_l1"][0, 0] = float("nan")
    torch.save(state, tmp_path / "nan.pt")
    ckpt = models.load(tmp_path / "nan.pt")
    assert list(ckpt.matrices) == ["l0"]
    assert "non-finite" in ckpt.skipped["l1"] and "weight_hh_l1" in ckpt.skipped["l1"]


def test_torch_all_nan_is_an_error_naming_the_key(tmp_path: Path) -> None:
    rnn = nn.RNN(2, 3)
    state = rnn.state_dict()
    state["weight_hh_l0"][1, 2] = float("inf")
    torch.save(state, tmp_path / "nan.pt")
    with pytest.raises(CheckpointError, match=r"nan\.pt.*non-finite.*weight_hh_l0"):
        models.load(tmp_path / "nan.pt")


def test_second_format_and_unclaimed_square_tensors_are_listed(tmp_path: Path) -> None:
    content, _ = _nnrnn_file()
    state = dict(content["state_dict"])  # type: ignore[call-overload]
    state |= {f"aux.{k}": v for k, v in nn.GRU(2, 3).state_dict().items()}
    state["readout.recurrent_gain"] = torch.eye(6)
    torch.save(state, tmp_path / "mixed.pt")
    ckpt = models.load(tmp_path / "mixed.pt")
    assert ckpt.format == "nnrnn"
    assert "torch-gru:l0.n" in ckpt.skipped
    assert "readout.recurrent_gain" in ckpt.skipped


def test_safetensors_state_dict_is_recognised(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    gru = nn.GRU(2, 3)
    save_file({k: v.contiguous() for k, v in gru.state_dict().items()}, tmp_path / "g.safetensors")
    ckpt = models.load(tmp_path / "g.safetensors")
    assert ckpt.format == "torch-gru"
    torch.testing.assert_close(ckpt.recurrent_matrix(), gru.weight_hh_l0.detach()[6:9])


def test_recognised_format_refuses_row_convention(tmp_path: Path) -> None:
    torch.save(nn.RNN(2, 3).state_dict(), tmp_path / "r.pt")
    with pytest.raises(CheckpointError, match="convention"):
        models.load(tmp_path / "r.pt", convention="row")
