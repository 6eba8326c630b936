"""Lyapunov exponents and gradient flow of real networks: closed forms and peer estimates."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import models
import spectra
from models import dynamics

pytestmark = pytest.mark.usefixtures("one_thread")


def _rnn_with(W: np.ndarray) -> models.RecurrentModel:
    n = W.shape[0]
    model = models.build("rnn", input_size=1, hidden_size=n, output_size=1).double()
    with torch.no_grad():
        model.W.copy_(torch.from_numpy(W))
    return model


@pytest.mark.parametrize("every", [1, "auto"])
def test_tanh_rnn_at_its_trivial_fixed_point_gives_log_eigenvalues(every):
    """Zero input: the state decays to h = 0, where tanh' = 1 and every Jacobian is W."""
    rng = np.random.default_rng(0)
    n = 8
    values = np.array([0.95, -0.9, 0.8, 0.7, -0.6, 0.5, 0.35, 0.2])
    V = rng.standard_normal((n, n))
    model = _rnn_with(V @ np.diag(values) @ np.linalg.inv(V))
    state0 = torch.from_numpy(0.3 * rng.standard_normal((3, n)))
    x = torch.zeros(3, 1500, 1, dtype=torch.float64)
    steps = dynamics.iter_jacobians(model, x, state0=state0)
    r = spectra.lyapunov(steps, discard=1000, every=every)
    expected = np.sort(np.log(np.abs(values)))[::-1]
    np.testing.assert_allclose(r.exponents, expected, rtol=0, atol=1e-6)
    # the trajectory really started away from the fixed point
    J0 = dynamics.jacobians(model, x[:, :1], state0=state0)[:, 0]
    assert float((J0 - model.W.detach()).abs().max()) > 1e-3


@pytest.mark.parametrize("every", [1, "auto"])
def test_top_exponent_matches_two_trajectory_estimate_on_chaotic_rnn(every):
    """Gain g = 2 tanh network: QR exponent against renormalised separation (Engelken et al.)."""
    n, T, discard, d0 = 64, 3000, 300, 1e-8
    rng = np.random.default_rng(1)
    model = _rnn_with(2.0 * rng.standard_normal((n, n)) / math.sqrt(n))
    x = torch.zeros(1, T, 1, dtype=torch.float64)
    h0 = torch.from_numpy(rng.standard_normal((1, n)))
    steps = dynamics.iter_jacobians(model, x, state0=h0, factored=True)
    qr = spectra.lyapunov(steps, k=1, discard=discard, every=every)
    h = h0.clone()
    delta = torch.from_numpy(rng.standard_normal((1, n)))
    delta *= d0 / delta.norm()
    total, zero = 0.0, torch.zeros(1, 1, dtype=torch.float64)
    with torch.no_grad():
        for t in range(T):
            h_next = model.step(h, zero)
            delta = model.step(h + delta, zero) - h_next
            growth = float(delta.norm()) / d0
            if t >= discard:
                total += math.log(growth)
            delta *= d0 / delta.norm()
            h = h_next
    direct = total / (T - discard)
    assert qr.exponents[0] > 0.02  # chaotic
    assert abs(qr.exponents[0] - direct) < 1e-2
    if every == "auto":  # one exponent has no spread: runs of the longest length
        assert qr.factorisations < T / 10


def test_runs_keep_the_full_spectrum_of_a_chaotic_rnn():
    """Gain g = 2: the full spectrum from runs of steps equals the every-step one (and det J)."""
    n, T = 24, 400
    rng = np.random.default_rng(3)
    model = _rnn_with(2.0 * rng.standard_normal((n, n)) / np.sqrt(n))
    x = torch.zeros(2, T, 1, dtype=torch.float64)
    h0 = torch.from_numpy(rng.standard_normal((2, n)))
    each = spectra.lyapunov(dynamics.iter_jacobians(model, x, state0=h0, factored=True))
    runs = spectra.lyapunov(
        dynamics.iter_jacobians(model, x, state0=h0, factored=True), every="auto"
    )
    assert each.exponents[0] > 0.01 and each.exponents[-1] < -1.0  # chaotic, wide spread
    assert 1 < T / runs.factorisations < 16  # runs longer than one step, limited by the spread
    np.testing.assert_allclose(runs.per_sequence, each.per_sequence, rtol=0, atol=1e-8)
    J = dynamics.jacobians(model, x, state0=h0).numpy()
    logdet = np.linalg.slogdet(J)[1].mean(axis=1)
    np.testing.assert_allclose(runs.per_sequence.sum(axis=1), logdet, rtol=1e-9)
    # the running estimate is exact at the end; inside a run it is interpolated, off by at most
    # a run's worth of one-step values (a few nats) over the steps so far
    np.testing.assert_allclose(runs.running[-1], runs.exponents)
    off = np.abs(runs.running - each.running).max(axis=1) * np.arange(1, T + 1)
    assert off.max() < 5.0


@pytest.mark.parametrize("kind", ["lstm", "gru", "nru"])
def test_exponents_sum_to_mean_log_det_on_gated_kinds(kind):
    options = {"memory_size": 4, "heads": 1} if kind == "nru" else {}
    model = models.build(kind, input_size=2, hidden_size=5, output_size=1, **options)
    if kind == "nru":
        # keep every relu unit active (a bias up, a slowly growing memory): a dead unit makes J
        # exactly singular, and whether QR's R then has an exact zero (-inf, as log|det J|) or
        # a rounding-sized entry is luck
        with torch.no_grad():
            model.hmi2h.bias.add_(3.0)
            for layer in (model.hm2alpha, model.hm2beta):
                layer.weight.mul_(0.1)
                layer.bias.mul_(0.1)
    x = torch.randn(2, 40, 2, generator=torch.Generator().manual_seed(0))
    J = dynamics.jacobians(model, x).numpy()
    r = spectra.lyapunov(J)
    assert r.exponents.shape == (model.state_size,)
    logdet = np.linalg.slogdet(J)[1].mean(axis=1)
    assert np.isfinite(logdet).all()
    np.testing.assert_allclose(r.per_sequence.sum(axis=1), logdet, rtol=1e-10)


def test_gradient_flow_linear_regime_equals_matrix_powers():
    """At h = 0 with zero input the flow is exactly ||W^k||, far beyond the float64 range."""
    rng = np.random.default_rng(2)
    Q = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    model = _rnn_with(3.0 * Q @ np.triu(np.ones((4, 4))) @ Q.T / 3.0)
    flow = dynamics.gradient_flow(model, torch.zeros(1, 30, 1, dtype=torch.float64))
    np.testing.assert_allclose(flow.norm[0], flow.linear, rtol=1e-10)
    assert flow.linear[5] > 2.0  # non-normal transient growth, so the check is not trivial
    big = _rnn_with(3.0 * Q)
    far = dynamics.gradient_flow(big, torch.zeros(1, 700, 1, dtype=torch.float64))
    np.testing.assert_allclose(far.log_norm[0], np.arange(701) * math.log(3.0), rtol=1e-10)
    assert math.isinf(far.norm[0, -1])
    d = far.to_dict()
    assert d["norm_median_log10"][-1] == pytest.approx(700 * math.log10(3.0))


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_gradient_flow_matches_autograd_of_the_whole_run(kind):
    model = models.build(kind, input_size=2, hidden_size=4, output_size=1, seed=1).double()
    x = torch.randn(2, 12, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    flow = dynamics.gradient_flow(model, x, top=2)
    for b in range(2):
        for k in (1, 5, 12):
            t = 12 - k
            s = dynamics.states(model, x[b : b + 1, :t])[0, -1] if t else model.initial_state(1)[0]

            def run(s, b=b, t=t):
                s = s[None]
                for u in range(t, 12):
                    s = model.step(s, x[b : b + 1, u])
                return s[0]

            ref = torch.linalg.svdvals(torch.func.jacrev(run)(s.double()))[:2].detach().numpy()
            np.testing.assert_allclose(np.exp(flow.log_singular_values[b, k]), ref, rtol=1e-9)
    assert flow.linear is not None and flow.linear.shape == (13,)


def test_gradient_flow_figure(tmp_path):
    from models.dynamics import plot

    model = models.build("rnn", input_size=1, hidden_size=6, output_size=1)
    flow = dynamics.gradient_flow(model, torch.randn(4, 20, 1))
    fig = plot.gradient_flow(flow)
    assert len(fig.axes[0].lines) >= 2
    fig.savefig(tmp_path / "flow.png")
    assert (tmp_path / "flow.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="top"):
        dynamics.gradient_flow(model, torch.randn(1, 3, 1), top=0)


def test_gradient_flow_quartiles_handle_vanished_products_without_nan() -> None:
    import warnings

    from models.dynamics import GradientFlow

    rng = np.random.default_rng(0)
    finite = rng.normal(size=(7, 5))
    flow = GradientFlow(np.arange(5), finite, np.zeros((7, 5, 1)), None)
    expected = np.quantile(finite, [0.25, 0.5, 0.75], axis=0)
    np.testing.assert_allclose(np.stack(flow.quartiles()), expected, rtol=1e-15)
    # products that reached exactly zero in some sequences (log norm -inf): numpy's quantile
    # gives NaN with a RuntimeWarning where two -inf neighbours meet
    log_norm = finite.copy()
    log_norm[:4, 2] = -np.inf  # a majority vanished: every quartile but q75 is -inf
    log_norm[:, 4] = -np.inf  # all vanished
    flow = GradientFlow(np.arange(5), log_norm, np.zeros((7, 5, 1)), None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q25, q50, q75 = flow.quartiles()
        summary = flow.to_dict()
    ordered = np.sort(log_norm[:, 2])  # q75 sits halfway between the 5th and 6th: finite
    assert q25[2] == q50[2] == -np.inf and q75[2] == pytest.approx(ordered[4:6].mean())
    assert q25[4] == q50[4] == q75[4] == -np.inf
    assert not np.isnan(np.stack([q25, q50, q75])).any()
    assert summary["norm_median_log10"][2] is None and summary["norm_q75_log10"][2] is not None
