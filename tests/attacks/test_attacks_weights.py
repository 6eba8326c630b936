"""Weight noise: eigenvalues inside the pseudospectrum, exact restore, the right block."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
import torch
from torch import nn

import attacks
from attacks.weights import recurrent_target

EPS = [0.0, 0.05, 0.3]


def _sigma_min(W: np.ndarray, z: np.ndarray) -> np.ndarray:
    n = W.shape[0]
    return np.array([np.linalg.svd(zi * np.eye(n) - W, compute_uv=False)[-1] for zi in z])


def _check_inside_pseudospectrum(result, W):
    W = W.detach().double().cpu().numpy()
    tol = 1e-10 * max(1.0, result.norm_w)
    for k, size in enumerate(result.perturbation_norms):
        z = result.eigenvalues[k].ravel()
        assert (_sigma_min(W, z) <= size + tol).all()
    try:
        from spectra import sigma_min
    except ImportError:
        return
    z = result.eigenvalues[-1].ravel()
    assert (np.asarray(sigma_min(W, z)) <= result.perturbation_norms[-1] + 1e-8).all()


def _snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _identical(model, before, x, out_before):
    after = model.state_dict()
    assert before.keys() == after.keys()
    for key, value in before.items():
        assert torch.equal(value, after[key]), key
    with torch.no_grad():
        assert torch.equal(model(x), out_before)


@pytest.mark.parametrize("name", ["loop", "gru", "lstm", "rnn"])
def test_restore_pseudospectrum_and_radius(kit, data, loop_rnn, gru, name):
    x, y = data
    model = {
        "loop": loop_rnn,
        "gru": gru,
        "lstm": kit.TorchRNNNet(nn.LSTM),
        "rnn": kit.TorchRNNNet(nn.RNN),
    }[name]
    model.eval()
    before = _snapshot(model)
    with torch.no_grad():
        out = model(x)
    _, W = recurrent_target(model)
    result = attacks.weight_noise(model, x, y, epsilons=EPS, draws=4, seed=1)
    _identical(model, before, x, out)
    _check_inside_pseudospectrum(result, W)
    assert result.perturbation_norms == pytest.approx([e * result.norm_w for e in EPS])
    assert result.norm_w == pytest.approx(float(torch.linalg.matrix_norm(W.double(), ord=2)))
    assert np.allclose(result.spectral_radius, np.abs(result.eigenvalues).max(axis=-1))
    eig_w = np.sort_complex(np.linalg.eigvals(W.double().numpy()))
    assert np.allclose(np.sort_complex(result.eigenvalues[0, 0]), eig_w)
    assert (result.accuracy[0] == result.clean_accuracy).all()
    assert result.mean_accuracy[0] == result.clean_accuracy
    out_json = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert np.array(out_json["eigenvalues"]).shape == (3, 4, W.shape[0], 2)
    # Wilson intervals of the mean over the samples (n trials, not n x draws)
    n = len(y)
    for mean, (lo, hi) in zip(result.mean_accuracy, result.intervals, strict=True):
        assert (lo, hi) == attacks.wilson(mean * n, n) and lo <= mean <= hi
    assert out_json["intervals"] == [list(band) for band in result.intervals]


def test_override_receives_w_plus_e_of_the_requested_norm(kit, data):
    x, y = data
    model = kit.LoopRNN(seed=5)
    seen = []
    original = model.override_recurrent

    @contextlib.contextmanager
    def spy(M):
        seen.append(M.detach().double().clone())
        with original(M):
            yield

    model.override_recurrent = spy
    W = model.recurrent_matrix().double()
    result = attacks.weight_noise(model, x, y, epsilons=[0.1, 0.4], draws=3, relative=False)
    assert len(seen) == 6
    for i, M in enumerate(seen):
        size = float(torch.linalg.matrix_norm(M - W, ord=2))
        assert size == pytest.approx(result.perturbation_norms[i // 3], rel=1e-5)
    # the same directions are used at every size
    assert torch.allclose((seen[3] - W) / 0.4, (seen[0] - W) / 0.1, atol=1e-5)


def test_principal_blocks_of_torch_layers(kit):
    for cell, rows in [(nn.RNN, (0, 8)), (nn.GRU, (16, 24)), (nn.LSTM, (16, 24))]:
        model = kit.TorchRNNNet(cell)
        name, W = recurrent_target(model)
        assert torch.equal(W, model.rnn.weight_hh_l0.detach()[rows[0] : rows[1]])
        assert name.startswith("rnn.weight_hh_l0")


def test_large_noise_changes_predictions_then_restores(kit, data, gru):
    x, y = data
    result = attacks.weight_noise(gru, x, y, epsilons=[5.0], draws=2)
    assert result.mean_accuracy[0] < result.clean_accuracy


def test_unsupported_model_named(data):
    x, y = data
    model = nn.Sequential(nn.Flatten(), nn.Linear(30, 4))
    with pytest.raises(attacks.UnsupportedModelError, match="Sequential"):
        attacks.weight_noise(model, x, y, epsilons=[0.1])
    with pytest.raises(attacks.UnsupportedModelError, match="proj_size"):
        recurrent_target(nn.LSTM(3, 8, proj_size=4))
