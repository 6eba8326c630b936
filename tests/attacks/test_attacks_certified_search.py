"""The radius search of the tight certificates: certified, within its precision, few rounds."""

from __future__ import annotations

import pytest
import torch

from attacks._cell import RTOL, Cell, _bisect, tight_radii

H, F, C, T, N = 12, 2, 3, 8, 24


def _cell(nonlinearity: str, scale: float, seed: int) -> Cell:
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(H, H, generator=g, dtype=torch.float64)
    W = W * scale / torch.linalg.matrix_norm(W, ord=2)
    U = torch.randn(H, F, generator=g, dtype=torch.float64)
    V = torch.randn(C, H, generator=g, dtype=torch.float64)
    b = 0.3 * torch.randn(H, generator=g, dtype=torch.float64)
    return Cell(U, W, V, b, torch.zeros(C, dtype=torch.float64), nonlinearity, None)


def _inputs(cell: Cell, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(N, T, F, generator=g, dtype=torch.float64)
    y = cell.logits(x).argmax(dim=1)
    y[:3] = (y[:3] + 1) % C  # three misclassified samples
    return x, y, cell.logits(x).argmax(dim=1) == y


class _Counting:
    """Counts the evaluations of the per-step Jacobian bound (and the samples evaluated)."""

    def __init__(self, cell: Cell) -> None:
        self.cell, self.calls, self.samples = cell, 0, 0
        self.original = cell.jacobian_lipschitz

    def __call__(self, x, eps, **kw):
        self.calls += 1
        self.samples += x.shape[0]
        return self.original(x, eps, **kw)


CASES = [
    ("tanh", 0.9, "l2"),
    ("tanh", 1.6, "linf"),
    ("elu", 1.3, "l2"),
    ("elu", 0.7, "linf"),
    ("relu", 1.2, "l2"),
]


@pytest.mark.parametrize(("nonlinearity", "scale", "norm"), CASES)
def test_jacobian_radius_is_certified_and_within_its_precision(nonlinearity, scale, norm):
    cell = _cell(nonlinearity, scale, seed=3)
    x, y, correct = _inputs(cell, seed=4)
    bounds = (0.0, 1.0)
    upper = torch.full((N,), 50.0, dtype=torch.float64)
    zero = torch.zeros(N, dtype=torch.float64)
    # reference: the plain bisection of the same monotone test, to near machine precision
    floor = torch.maximum(zero, upper * 1e-12)
    ref = _bisect(cell.jacobian_certified, x, y, correct, floor, upper.clone(), norm=norm,
                  bounds=bounds, steps=200, rtol=1e-13)  # fmt: skip
    counter = _Counting(cell)
    cell.jacobian_lipschitz = counter
    radii = tight_radii(cell, x, y, correct, norm=norm, bounds=bounds, lower=zero, upper=upper)
    del cell.jacobian_lipschitz
    r = radii["jacobian"]
    assert (r[~correct] == 0).all() and (r[correct] > 0).all()
    # every radius is itself certified, and rounded down: within RTOL below the largest one
    assert cell.jacobian_certified(x[correct], y[correct], r[correct], norm=norm,
                                   bounds=bounds).all()  # fmt: skip
    assert (r <= ref * (1 + 1e-12)).all()
    assert (r[correct] >= ref[correct] / (1 + RTOL)).all()
    beyond = r[correct] * (1 + RTOL) * (1 + 1e-9)
    assert not cell.jacobian_certified(x[correct], y[correct], beyond, norm=norm,
                                       bounds=bounds).any()  # fmt: skip
    # far fewer evaluations than the 25 rounds of a bisection over all samples
    assert counter.calls <= 12
    assert counter.samples <= 8 * N


def test_the_cap_and_the_known_radius_bracket_the_search():
    cell = _cell("tanh", 1.2, seed=5)
    x, y, correct = _inputs(cell, seed=6)
    zero = torch.zeros(N, dtype=torch.float64)
    free = tight_radii(cell, x, y, correct, norm="l2", bounds=(0.0, 1.0), lower=zero,
                       upper=torch.full((N,), 50.0, dtype=torch.float64))  # fmt: skip
    # an upper end below the radius (a found adversarial) caps it from below the cap
    cap = free["jacobian"] / 2
    upper = torch.where(correct, cap, torch.ones(N, dtype=torch.float64))
    capped = tight_radii(cell, x, y, correct, norm="l2", bounds=(0.0, 1.0), lower=zero,
                         upper=upper)  # fmt: skip
    for name in ("ibp", "jacobian"):
        got = capped[name][correct]
        assert (got < cap[correct]).all()
        # both searches end within RTOL below the same largest radius
        assert (got >= torch.minimum(free[name][correct], cap[correct]) / (1 + RTOL) ** 2).all()
    # a known certified lower end is never lost
    known = free["jacobian"] * (1 - 1e-3)
    lifted = tight_radii(cell, x, y, correct, norm="l2", bounds=(0.0, 1.0), lower=known,
                         upper=torch.full((N,), 50.0, dtype=torch.float64))  # fmt: skip
    assert (lifted["jacobian"] >= known).all()


def test_interval_radius_matches_a_full_batch_bisection():
    cell = _cell("elu", 1.1, seed=7)
    x, y, correct = _inputs(cell, seed=8)
    upper = torch.full((N,), 50.0, dtype=torch.float64)
    zero = torch.zeros(N, dtype=torch.float64)
    r = tight_radii(cell, x, y, correct, norm="linf", bounds=(0.0, 1.0), lower=zero,
                    upper=upper)["ibp"]  # fmt: skip
    # the same search over the whole batch every round (how it used to run)
    hi = upper.clone()
    lo = torch.where(cell.ibp_certified(x, y, upper * 1e-12, norm="linf", bounds=(0.0, 1.0))
                     & correct, upper * 1e-12, zero)  # fmt: skip
    good = lo > 0
    for _ in range(40):
        live = good & (hi > lo * (1 + RTOL))
        mid = torch.sqrt(lo * hi)
        passed = cell.ibp_certified(x, y, torch.where(live, mid, lo), norm="linf",
                                    bounds=(0.0, 1.0))  # fmt: skip
        lo = torch.where(live & passed, mid, lo)
        hi = torch.where(live & ~passed, mid, hi)
    assert torch.allclose(r, lo, rtol=1e-12, atol=0)
    assert (r[~correct] == 0).all()
