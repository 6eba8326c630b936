"""Fixed points on hand-built networks whose fixed points are known exactly, and chain profiles."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

import models
from models import dynamics, tasks
from models.errors import InputShapeError, InvalidOptionError, UnsupportedModelError

pytestmark = pytest.mark.usefixtures("one_thread")


def _bistable(n: int, w: float) -> models.RecurrentModel:
    """``h = tanh(w h)`` per unit, no coupling: 3^n fixed points, 2^n of them stable."""
    return models.build("rnn", input_size=1, hidden_size=n, output_size=1, init="identity", scale=w)


def _h_star(w: float) -> float:
    return brentq(lambda h: math.tanh(w * h) - h, 0.1, 1.0, xtol=1e-15)


def test_one_tanh_unit_has_zero_and_plus_minus_h_star():
    w = 2.0
    fps = dynamics.fixed_points(_bistable(1, w), starts=64)
    assert fps.count() == 3 and fps.count("stable") == 2 and fps.count("unstable") == 1
    stable = np.sort(fps.states[[s == "stable" for s in fps.stability], 0])
    h = _h_star(w)
    np.testing.assert_allclose(stable, [-h, h], rtol=0, atol=1e-9)
    origin = fps.states[fps.stability.index("unstable")]
    assert abs(origin[0]) < 1e-9
    # Jacobian at h*: w (1 - h*^2); at the origin: w
    i = fps.stability.index("stable")
    assert fps.measures[i]["spectral_radius"] == pytest.approx(w * (1 - h * h), abs=1e-9)
    assert fps.measures[fps.stability.index("unstable")]["spectral_radius"] == pytest.approx(w)
    assert (fps.q <= 1e-8).all()


def test_block_diagonal_bistable_network_has_two_to_the_n_stable_points():
    n, w = 3, 1.5
    fps = dynamics.fixed_points(_bistable(n, w), starts=512, seed=1)
    assert fps.count("stable") == 2**n
    assert fps.count("saddle") == 3**n - 2**n - 1
    assert fps.count("unstable") == 1
    h = _h_star(w)
    pairs = zip(fps.stability, fps.converged, strict=True)
    stable = fps.states[[s == "stable" and c for s, c in pairs]]
    expected = np.array(list(itertools.product([-h, h], repeat=n)))
    got = stable[np.lexsort(np.sign(stable).T)]
    np.testing.assert_allclose(got, expected[np.lexsort(np.sign(expected).T)], atol=1e-9)
    # diagonal (normal) Jacobians: no departure from normality, rho_eps = rho + eps, Kreiss 1
    for m, s in zip(fps.measures, fps.stability, strict=True):
        assert m["henrici"] == pytest.approx(0.0, abs=1e-12)
        assert m["pseudospectral_radius"] == pytest.approx(m["spectral_radius"] + fps.eps, rel=1e-5)
        if s == "stable":
            assert m["kreiss_lower_bound"] == pytest.approx(1.0, abs=1e-6)
        else:
            assert m["kreiss_lower_bound"] is None
    d = fps.to_dict(states=True)
    assert d["counts"] == {"stable": 8, "saddle": 18, "unstable": 1}
    assert len(d["points"][0]["state"]) == n


def test_non_normal_fixed_point_measures():
    """A stable point with a large coupling: Henrici > 0 and Kreiss > 1 (transient growth)."""
    model = models.build("rnn", input_size=1, hidden_size=2, output_size=1).double()
    with torch.no_grad():
        model.W.copy_(torch.tensor([[0.5, 0.0], [4.0, 0.5]], dtype=torch.float64))
    fps = dynamics.fixed_points(model, starts=16)
    assert fps.count() == 1 and fps.stability[0] == "stable"
    m = fps.measures[0]
    assert m["spectral_radius"] == pytest.approx(0.5, abs=1e-9)
    assert m["henrici"] > 0.5 and m["kreiss_lower_bound"] > 1.5
    assert m["pseudospectral_radius"] > 0.5 + fps.eps * 2


@pytest.mark.parametrize("kind", ["gru", "lstm", "nru"])
def test_points_found_on_gated_kinds_are_fixed(kind):
    options = {"memory_size": 4, "heads": 1} if kind == "nru" else {}
    model = models.build(kind, input_size=2, hidden_size=4, output_size=1, seed=2, **options)
    fps = dynamics.fixed_points(model, 0.0, starts=12, max_iter=60, kreiss=False)
    assert fps.count() >= 1
    m = model.double()
    for state, ok in zip(fps.states, fps.converged, strict=True):
        if ok:
            s = torch.from_numpy(state)[None]
            with torch.no_grad():
                gap = m.step(s, torch.zeros(1, 2, dtype=torch.float64)) - s
            assert float(gap.norm()) <= math.sqrt(2e-8)


def test_fixed_points_is_reproducible_and_checks_input():
    model = _bistable(2, 1.5)
    a = dynamics.fixed_points(model, starts=64, seed=3, kreiss=False)
    b = dynamics.fixed_points(model, starts=64, seed=3, kreiss=False)
    assert np.array_equal(a.states, b.states) and a.stability == b.stability
    with pytest.raises(InputShapeError, match=r"\(1,\)"):
        dynamics.fixed_points(model, torch.zeros(3))
    with pytest.raises(InputShapeError, match=r"\(N, 2\)"):
        dynamics.fixed_points(model, starts=torch.zeros(4, 3))
    with pytest.raises(ValueError, match="tol"):
        dynamics.fixed_points(model, tol=-1.0)
    with pytest.raises(ValueError, match="starts"):
        dynamics.fixed_points(model, starts=0)
    explicit = dynamics.fixed_points(model, starts=torch.tensor([[0.9, 0.9], [0.01, -0.01]]))
    assert explicit.starts == 2 and explicit.count() == 2


def test_fixed_point_figure(tmp_path):
    from models.dynamics import plot

    model = _bistable(3, 1.5)
    fps = dynamics.fixed_points(model, starts=128, kreiss=False)
    traj = dynamics.states(model, torch.randn(4, 20, 1))
    fig = plot.fixed_points(fps, trajectories=traj.numpy())
    fig.savefig(tmp_path / "fp.png")
    assert (tmp_path / "fp.png").stat().st_size > 1000


# -- chain profiles ------------------------------------------------------------------------------


def test_chain_network_gives_a_spike_at_plus_one_outside_the_band():
    model = models.build("rnn", input_size=1, hidden_size=32, output_size=1, init="chain")
    cp = dynamics.chain_profile(model)
    plus_one = cp.offsets == 1
    assert cp.profile[plus_one][0] == pytest.approx(1.0)
    assert cp.profile[plus_one][0] > 3 * cp.control_high[plus_one][0]
    assert cp.outside.tolist() == plus_one.tolist()  # the only offset outside the band
    assert cp.chain_like and cp.silent_units == 0
    assert (cp.control_low <= cp.control_mean).all() and (cp.control_mean <= cp.control_high).all()
    d = cp.to_dict()
    assert d["chain_like"] and len(d["control"]["seeds"]) == 20


def test_untrained_orthogonal_networks_stay_inside_the_band():
    """The ordering alone makes bumps of a few hundredths; the control band covers them."""
    outside = 0
    for seed in range(5):
        model = models.build("rnn", input_size=1, hidden_size=64, output_size=1, seed=seed)
        cp = dynamics.chain_profile(model, seeds=range(20))
        assert not cp.chain_like
        outside += int(cp.outside.sum())
    assert outside <= 2  # of 5 x 21 offsets: the band is a 3-sigma band


def test_chain_profile_on_gated_kind_and_errors(tmp_path):
    from models.dynamics import plot

    model = models.build("lstm", input_size=2, hidden_size=12, output_size=1)
    cp = dynamics.chain_profile(model, seeds=range(3), max_offset=20)
    assert cp.offsets.tolist() == list(range(-11, 12))
    plot.chain_profile(cp).savefig(tmp_path / "chain.png")
    with pytest.raises(ValueError, match="two control seeds"):
        dynamics.chain_profile(model, seeds=[1])
    with pytest.raises(UnsupportedModelError):
        dynamics.chain_profile(dynamics.from_torch(torch.nn.GRU(2, 3)))


# -- the flip-flop task --------------------------------------------------------------------------


def test_flipflop_targets_are_the_last_pulse():
    task = tasks.get("flipflop", T=40, p=0.2)
    x, y = task.batch(16, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (16, 40, 3)
    expected = torch.empty_like(y)
    for b, c in itertools.product(range(16), range(3)):
        last = 0.0
        for t in range(40):
            if x[b, t, c] != 0:
                last = float(x[b, t, c])
            expected[b, t, c] = last
    assert torch.equal(y, expected)
    assert set(x.unique().tolist()) <= {-1.0, 0.0, 1.0} and (x[:, 0] != 0).all()
    assert 0.1 < float((x[:, 1:] != 0).double().mean()) < 0.3
    x2, _ = task.batch(16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, x2)
    assert task.loss(torch.zeros_like(y), y).item() == pytest.approx(task.baseline)
    again = tasks.get(task.name, **task.params)
    assert torch.equal(again.test_set()[0], task.test_set()[0])
    assert task.to_dict()["readout"] == "all" and task.bounds == (-1.0, 1.0)


@pytest.mark.parametrize(
    ("params", "match"),
    [({"p": 0.0}, "p must"), ({"p": 1.5}, "p must"), ({"bits": 0}, "bits"), ({"T": 1}, "T")],
)
def test_flipflop_rejects_bad_parameters(params, match):
    with pytest.raises(InvalidOptionError, match=match):
        tasks.get("flipflop", **params)


def test_measures_from_one_schur_form_equal_the_separate_calls():
    import sys
    import warnings

    import spectra

    measures = sys.modules["models.dynamics.fixed_points"]._measures
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((12, 12)))[0]
    cases = [
        np.diag(rng.uniform(0.5, 0.99, 12)) @ Q,  # a slow point of an orthogonal cell
        0.9 * np.eye(6) + np.eye(6, k=1),  # Jordan block
        np.diag([0.5, -0.3, 0.2j, -0.2j]).real,  # normal
        rng.standard_normal((9, 9)) / 4,
    ]
    for J in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", spectra.NotConvergedWarning)
            kreiss = float(spectra.kreiss_lower_bound(J))
        expected = {
            "spectral_radius": spectra.spectral_radius(J),
            "henrici": spectra.henrici(J, relative=True),
            "pseudospectral_radius": float(spectra.pseudospectral_radius(J, 1e-2)),
            "kreiss_lower_bound": kreiss if spectra.spectral_radius(J) < 1 else None,
        }
        assert measures(J, 1e-2, True) == expected
